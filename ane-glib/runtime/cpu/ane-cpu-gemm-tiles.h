/* runtime/cpu/ane-cpu-gemm-tiles.h: the NT kernel's body, one copy per ISA
 *
 * Included once by each ISA's translation unit (ane-cpu-gemm-avx2.c,
 * ane-cpu-gemm-avx512.c) after it defines:
 *   GemmVec, GemmMask, GEMM_VL           the vector, the tail mask, lanes
 *   gemm_zero (), gemm_load (p), gemm_load_masked (p, mask),
 *   gemm_fma (a, b, acc), gemm_mask (rem), gemm_hsum (v)
 *   GEMM_RM, GEMM_RN                     the tile from 4 rows of A on
 *   GEMM_DECODE_RN1, _RN2, _RN3          the tile's width for m = 1, 2, 3
 *   GEMM_ENTRY                           the function's name
 * The order of every sum is described in ane-cpu-gemm-private.h.
 *
 * Tiles (after llamafile's tinyBLAS, sgemm.cpp gemm_bloc): RM rows of A
 * by RN rows of B, RM·RN accumulators. The smaller side is loaded first
 * and kept in registers, the other streamed one vector at a time, so a
 * tile needs RM·RN + MIN (RM, RN) + 1 vector registers (32 with AVX-512,
 * 16 with AVX2). For m < 4 (decode) the tile is all of A's rows by as many
 * weight rows as fit: each weight row is read once, streamed, with a
 * software prefetch a few cache lines ahead of each row.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "runtime/cpu/ane-cpu-gemm-private.h"

#define GEMM_INLINE static inline __attribute__ ((always_inline))
#define GEMM_MAX_RM 4
#define GEMM_MAX_RN 8
/* How far ahead of the current position a decode tile prefetches in each
 * weight row (0: not at all), and into which cache (__builtin_prefetch's
 * locality: 3 = prefetcht0). With tiles 8 rows wide a prefetch 512 B ahead
 * doubled the speed from DRAM (3.0 → 6.1–7.9 GFLOP/s, m = 1, n = 32000,
 * k = 768, one thread, AVX-512). With tiles one row wide (the weights one
 * sequential stream) it gains nothing in 4 KiB pages (7.2–7.6 against
 * 7.6–7.9 GFLOP/s) and loses in huge pages, where the weights of a mapped
 * model file now lie (ane_file_hot_bytes): 12.6–13.8 against 15.6–16.1
 * (prefetcht2 4–16 KiB ahead: 12.0–13.8), and bench-llm's F32 decode 39
 * against 54–59 tokens/s. */
/* columns of a B stored [k,n] gathered at once: a multiple of 8 (the
 * transposes) and of every GEMM_RN */
#define GEMM_GATHER_RN 48
#ifndef GEMM_PREFETCH_FLOATS
#define GEMM_PREFETCH_FLOATS 0
#endif
#ifndef GEMM_PREFETCH_LOCALITY
#define GEMM_PREFETCH_LOCALITY 3
#endif

/* Leaves the kernel with the upper halves of the vector registers clean
 * (vzeroupper), whatever the compiler did: SSE code that runs after dirty
 * upper halves pays for them on every instruction (ane-cpu-gemm-avx2.c). */
GEMM_INLINE void
gemm_leave (void)
{
  _mm256_zeroupper ();
}

/* alpha · s + beta · C, in that order (no fusion: -ffp-contract=off) */
GEMM_INLINE void
gemm_store (float *c,
            float  alpha,
            float  beta,
            float  s)
{
  *c = alpha * s + (beta == 0.0f ? 0.0f : beta * *c);
}

/* One step of VL columns of k for the tile: rm, rn and masked are
 * constants at every call, so the loops unroll and acc stays in
 * registers. */
GEMM_INLINE void
gemm_step (const int    rm,
           const int    rn,
           const int    masked,
           GemmMask     tail,
           const float *a,
           gsize        lda,
           const float *b,
           gsize        ldb,
           GemmVec      acc[GEMM_MAX_RM][GEMM_MAX_RN])
{
#define GEMM_LOAD(ptr) (masked ? gemm_load_masked ((ptr), tail) : gemm_load (ptr))
  if (rm <= rn)
    {
      GemmVec av[GEMM_MAX_RM];

#pragma GCC unroll 8
      for (int i = 0; i < rm; i++)
        av[i] = GEMM_LOAD (a + i * lda);
#pragma GCC unroll 8
      for (int j = 0; j < rn; j++)
        {
          GemmVec bv = GEMM_LOAD (b + j * ldb);

#pragma GCC unroll 8
          for (int i = 0; i < rm; i++)
            acc[i][j] = gemm_fma (av[i], bv, acc[i][j]);
        }
    }
  else
    {
      GemmVec bv[GEMM_MAX_RN];

#pragma GCC unroll 8
      for (int j = 0; j < rn; j++)
        bv[j] = GEMM_LOAD (b + j * ldb);
#pragma GCC unroll 8
      for (int i = 0; i < rm; i++)
        {
          GemmVec av = GEMM_LOAD (a + i * lda);

#pragma GCC unroll 8
          for (int j = 0; j < rn; j++)
            acc[i][j] = gemm_fma (av, bv[j], acc[i][j]);
        }
    }
#undef GEMM_LOAD
}

GEMM_INLINE void
gemm_tile (const int    rm,
           const int    rn,
           const int    prefetch,
           gsize        k,
           GemmMask     tail,
           float        alpha,
           const float *a,
           gsize        lda,
           const float *b,
           gsize        ldb,
           float        beta,
           float       *c,
           gsize        ldc,
           gsize        ldcj)
{
  GemmVec acc[GEMM_MAX_RM][GEMM_MAX_RN];
  gsize full = k - k % GEMM_VL, p = 0;

#pragma GCC unroll 8
  for (int i = 0; i < rm; i++)
#pragma GCC unroll 8
    for (int j = 0; j < rn; j++)
      acc[i][j] = gemm_zero ();
  for (; p < full; p += GEMM_VL)
    {
      if (prefetch && GEMM_PREFETCH_FLOATS > 0)
#pragma GCC unroll 8
        for (int j = 0; j < rn; j++)
          __builtin_prefetch (b + j * ldb + p + GEMM_PREFETCH_FLOATS, 0, GEMM_PREFETCH_LOCALITY);
      gemm_step (rm, rn, FALSE, tail, a + p, lda, b + p, ldb, acc);
    }
  if (p < k)
    gemm_step (rm, rn, TRUE, tail, a + p, lda, b + p, ldb, acc);
#pragma GCC unroll 8
  for (int i = 0; i < rm; i++)
#pragma GCC unroll 8
    for (int j = 0; j < rn; j++)
      gemm_store (c + i * ldc + j * ldcj, alpha, beta, gemm_hsum (acc[i][j]));
}

typedef void (*GemmTileFunc) (gsize        k,
                              GemmMask     tail,
                              float        alpha,
                              const float *a,
                              gsize        lda,
                              const float *b,
                              gsize        ldb,
                              float        beta,
                              float       *c,
                              gsize        ldc,
                              gsize        ldcj);

/* Tiles of fewer than GEMM_RM rows are decode tiles (m < 4) or the last
 * rows of a prefill: they stream their weight rows, and prefetch. */
#define GEMM_TILE(R, C)                                                                \
  static void                                                                          \
  gemm_tile_##R##x##C (gsize k, GemmMask tail, float alpha, const float *a, gsize lda, \
                       const float *b, gsize ldb, float beta, float *c, gsize ldc,     \
                       gsize ldcj)                                                     \
  {                                                                                    \
    gemm_tile (R, C, R < GEMM_RM, k, tail, alpha, a, lda, b, ldb, beta, c, ldc, ldcj); \
  }
#define GEMM_TILE_ROW(R) \
  GEMM_TILE (R, 1) GEMM_TILE (R, 2) GEMM_TILE (R, 3) GEMM_TILE (R, 4) \
  GEMM_TILE (R, 5) GEMM_TILE (R, 6) GEMM_TILE (R, 7) GEMM_TILE (R, 8)
GEMM_TILE_ROW (1)
GEMM_TILE_ROW (2)
GEMM_TILE_ROW (3)
GEMM_TILE_ROW (4)
#define GEMM_TILE_NAMES(R) \
  { gemm_tile_##R##x1, gemm_tile_##R##x2, gemm_tile_##R##x3, gemm_tile_##R##x4, \
    gemm_tile_##R##x5, gemm_tile_##R##x6, gemm_tile_##R##x7, gemm_tile_##R##x8 }

static const GemmTileFunc gemm_tiles[GEMM_MAX_RM][GEMM_MAX_RN] = {
  GEMM_TILE_NAMES (1), GEMM_TILE_NAMES (2), GEMM_TILE_NAMES (3), GEMM_TILE_NAMES (4),
};

G_STATIC_ASSERT (GEMM_RM <= GEMM_MAX_RM && GEMM_RN <= GEMM_MAX_RN);
G_STATIC_ASSERT (GEMM_DECODE_RN1 <= GEMM_MAX_RN && GEMM_DECODE_RN2 <= GEMM_MAX_RN &&
                 GEMM_DECODE_RN3 <= GEMM_MAX_RN);

/* dst[r · ldd + p] = src[p · lds + r] for r, p < 8 (the textbook AVX
 * transpose: unpack pairs, shuffle quads, swap 128-bit halves) */
static inline void
gemm_transpose8 (float       *dst,
                 gsize        ldd,
                 const float *src,
                 gsize        lds)
{
  __m256 r[8], t[8];

  for (int i = 0; i < 8; i++)
    r[i] = _mm256_loadu_ps (src + i * lds);
  for (int i = 0; i < 8; i += 2)
    {
      t[i] = _mm256_unpacklo_ps (r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps (r[i], r[i + 1]);
    }
  for (int i = 0; i < 8; i += 4)
    {
      r[i] = _mm256_shuffle_ps (t[i], t[i + 2], _MM_SHUFFLE (1, 0, 1, 0));
      r[i + 1] = _mm256_shuffle_ps (t[i], t[i + 2], _MM_SHUFFLE (3, 2, 3, 2));
      r[i + 2] = _mm256_shuffle_ps (t[i + 1], t[i + 3], _MM_SHUFFLE (1, 0, 1, 0));
      r[i + 3] = _mm256_shuffle_ps (t[i + 1], t[i + 3], _MM_SHUFFLE (3, 2, 3, 2));
    }
  for (int i = 0; i < 4; i++)
    {
      _mm256_storeu_ps (dst + i * ldd, _mm256_permute2f128_ps (r[i], r[i + 4], 0x20));
      _mm256_storeu_ps (dst + (i + 4) * ldd, _mm256_permute2f128_ps (r[i], r[i + 4], 0x31));
    }
}

/* Rows [0, rows) of src (row r, element p at src[r · ld + p · step]) into
 * dst, rows of kp floats (k of them and zeros): aligned to the cache
 * line, so that no vector load of a tile splits across two lines. The
 * zeros add 0 · 0 to the lanes past k, exactly what the masked loads of
 * the last partial vector add, so the sums are the unpacked path's, bit
 * for bit. A transposed operand (step ≠ 1) is gathered a k index at a
 * time, its rows' elements being adjacent. */
static void
gemm_pack (float       *dst,
           const float *src,
           gsize        ld,
           gsize        step,
           gsize        rows,
           gsize        k,
           gsize        kp)
{
  if (step == 1)
    for (gsize r = 0; r < rows; r++)
      memcpy (dst + r * kp, src + r * ld, k * sizeof (float));
  else if (ld == 1)
    {
      /* a transposed operand: 8×8 blocks transposed in registers, the
       * edges one float at a time */
      gsize r8 = rows - rows % 8, k8 = k - k % 8;

      for (gsize p0 = 0; p0 < k8; p0 += 8)
        for (gsize r0 = 0; r0 < r8; r0 += 8)
          gemm_transpose8 (dst + r0 * kp + p0, kp, src + r0 + p0 * step, step);
      for (gsize p = 0; p < k; p++)
        for (gsize r = p < k8 ? r8 : 0; r < rows; r++)
          dst[r * kp + p] = src[r + p * step];
    }
  else
    for (gsize r = 0; r < rows; r++)
      for (gsize p = 0; p < k; p++)
        dst[r * kp + p] = src[r * ld + p * step];
  for (gsize r = 0; r < rows; r++)
    memset (dst + r * kp + k, 0, (kp - k) * sizeof (float));
}

void
GEMM_ENTRY (gsize        m,
            gsize        n,
            gsize        k,
            float        alpha,
            const float *a,
            gsize        lda,
            gsize        a_step,
            const float *b,
            gsize        ldb,
            gsize        b_step,
            float        beta,
            float       *c,
            gsize        ldc)
{
  static const gsize decode_rn[] = { 0, GEMM_DECODE_RN1, GEMM_DECODE_RN2, GEMM_DECODE_RN3 };
  GemmMask tail = gemm_mask (k % GEMM_VL);
  gsize kp = (k + GEMM_VL - 1) / GEMM_VL * GEMM_VL;
  float *ap, *bp;

  if (m < GEMM_RM && a_step == 1 && b_step == 1)
    {
      /* decode: each weight row read once, where it lies */
      gsize rn = decode_rn[m];

      if (m == 1 && rn == 1)
        {
          /* the one-row tile inlined: a short row (attention's head of
           * 64 floats, one call per cached key) no longer pays a call */
          for (gsize j = 0; j < n; j++)
            gemm_tile (1, 1, TRUE, k, tail, alpha, a, lda, b + j * ldb, ldb, beta, c + j, ldc, 1);
          gemm_leave ();
          return;
        }
      for (gsize j = 0; j < n; j += rn)
        gemm_tiles[m - 1][MIN (rn, n - j) - 1] (k, tail, alpha, a, lda, b + j * ldb, ldb, beta, c + j, ldc, 1);
      gemm_leave ();
      return;
    }
  if (n < GEMM_RM && a_step == 1 && b_step == 1)
    {
      /* Many rows, few columns (a 1×1 conv at one position: A is the
       * weight): the decode tiles with the roles swapped, so that the
       * large operand is streamed once and not copied. fma (x, y, acc) is
       * fma (y, x, acc): the same sums. C is written transposed. */
      gsize rn = decode_rn[n];

      for (gsize i = 0; i < m; i += rn)
        gemm_tiles[n - 1][MIN (rn, m - i) - 1] (k, tail, alpha, b, ldb, a + i * lda, lda, beta, c + i * ldc, 1, ldc);
      gemm_leave ();
      return;
    }

  /* Unaligned rows cost a split load per vector (measured: 105 GFLOP/s
   * where aligned copies gave …); copying A once and each block of GEMM_RN
   * weight rows costs 1/GEMM_RN and 1/m of the multiply-adds. A block of
   * weight rows (in L1) goes against every row tile of A (in L2), then
   * the next block: B, the large operand, is read from memory once. */
  ap = g_aligned_alloc (m * kp, sizeof (float), 64);
  gemm_pack (ap, a, lda, a_step, m, k, kp);
  /* B stored [k,n] is gathered GEMM_GATHER_RN columns at a time (whole
   * 8×8 transposes, a few blocks of GEMM_RN in L2) */
  bp = g_aligned_alloc (b_step == 1 ? GEMM_RN * kp : GEMM_GATHER_RN * kp, sizeof (float), 64);
  for (gsize j = 0; j < n; j += GEMM_RN)
    {
      gsize cn = MIN (GEMM_RN, n - j);
      gsize next = b_step == 1 ? MIN (GEMM_RN, n - MIN (n, j + GEMM_RN)) : 0;
      gsize row_lines = (k * sizeof (float) + 63) / 64, lines = next * row_lines, done = 0;
      gsize n_tiles = (m + GEMM_RM - 1) / GEMM_RM;
      const float *bj = b_step == 1 ? bp : bp + j % GEMM_GATHER_RN * kp;

      if (b_step == 1)
        gemm_pack (bp, b + j * ldb, ldb, 1, cn, k, kp);
      else if (j % GEMM_GATHER_RN == 0)
        gemm_pack (bp, b + j * ldb, ldb, b_step, MIN (GEMM_GATHER_RN, n - j), k, kp);
      for (gsize i = 0, t = 1; i < m; i += GEMM_RM, t++)
        {
          gsize cm = MIN (GEMM_RM, m - i);
          gsize upto = lines * t / n_tiles;

          gemm_tiles[cm - 1][cn - 1] (kp, tail, alpha, ap + i * kp, kp, bj, kp, beta, c + i * ldc + j, ldc, 1);
          /* the next block's weight rows, a share after each tile, so
           * that its copy finds them in cache (B streams from memory) */
          for (; done < upto; done++)
            __builtin_prefetch ((const char *) (b + (j + GEMM_RN + done / row_lines) * ldb) + done % row_lines * 64,
                                0, 3);
        }
    }
  g_aligned_free (ap);
  g_aligned_free (bp);
  gemm_leave ();
}
