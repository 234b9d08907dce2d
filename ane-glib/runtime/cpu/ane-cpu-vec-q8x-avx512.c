/* runtime/cpu/ane-cpu-vec-q8x-avx512.c: GGUF blocks times 8-bit activations, AVX-512 VNNI
 *
 * Two blocks a vector, the even one in lanes 0..7 and the odd one in 8..15
 * (the portable kernel's lanes, ane-cpu-vec-q8x-private.h). vpdpbusd
 * multiplies unsigned bytes by signed ones and adds each 4 products into
 * a lane. Q8_0: the weights' magnitudes times the activations carrying
 * the weights' signs (ggml's trick; AVX-512 has no vpsignb, so a mask
 * from the weights' sign bits negates the activations). Q4_0: the nibbles
 * are unsigned already, and the lanes start from the activations' nsum
 * (the −8). Q4_K: the nibbles of a 32-byte run are two blocks, low and
 * high; the offsets come in through the activations' qsum. A last odd block runs at 256 bits on lanes 0..7.
 *
 * Rows in huge pages are prefetched 8 KiB ahead into the L2, as the float
 * kernels do (ane-cpu-vec-avx512.c, ane_cpu_prefetch_far).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "runtime/cpu/ane-cpu-vec-q8x-private.h"

/* Q8_0 blocks b and b + 1 (34 bytes each) against 64 activations. */
static inline __attribute__ ((always_inline)) __m512i
q8_0_pair (const guint8 *blk,
           const gint8  *q)
{
  __m512i w = _mm512_inserti64x4 (_mm512_castsi256_si512 (_mm256_loadu_si256 ((const __m256i *) (blk + 2))),
                                  _mm256_loadu_si256 ((const __m256i *) (blk + 36)), 1);
  __m512i x = _mm512_loadu_si512 (q);
  __m512i xs = _mm512_mask_sub_epi8 (x, _mm512_movepi8_mask (w), _mm512_setzero_si512 (), x);

  return _mm512_dpbusd_epi32 (_mm512_setzero_si512 (), _mm512_abs_epi8 (w), xs);
}

/* Q4_0 blocks b and b + 1 (18 bytes each): nibbles laid out as the
 * weights' columns (low nibbles 0..15, high ones 16..31, per block). */
static inline __attribute__ ((always_inline)) __m512i
q4_0_pair (const guint8 *blk,
           const gint8  *q,
           const gint32 *nsum)
{
  __m256i t = _mm256_inserti128_si256 (_mm256_castsi128_si256 (_mm_loadu_si128 ((const __m128i *) (blk + 2))),
                                       _mm_loadu_si128 ((const __m128i *) (blk + 20)), 1);
  /* [t0, t0, t1, t1], the second copy of each shifted down a nibble */
  __m512i z = _mm512_shuffle_i64x2 (_mm512_castsi256_si512 (t), _mm512_castsi256_si512 (t), 0x50);
  __m512i n = _mm512_and_si512 (_mm512_srlv_epi64 (z, _mm512_setr_epi64 (0, 0, 4, 4, 0, 0, 4, 4)),
                                _mm512_set1_epi8 (15));

  return _mm512_dpbusd_epi32 (_mm512_loadu_si512 (nsum), n, _mm512_loadu_si512 (q));
}

static inline __attribute__ ((always_inline)) float
hsum16 (__m512 v)
{
  __m256 h8 = _mm256_add_ps (_mm512_castps512_ps256 (v), _mm512_extractf32x8_ps (v, 1));
  __m128 h = _mm_add_ps (_mm256_castps256_ps128 (h8), _mm256_extractf128_ps (h8, 1));

  h = _mm_add_ps (h, _mm_movehl_ps (h, h));
  return _mm_cvtss_f32 (_mm_add_ss (h, _mm_movehdup_ps (h)));
}

/* The scale of blocks b and b + 1: d_b · dx_b in lanes 0..7, the next
 * block's in 8..15. */
static inline __attribute__ ((always_inline)) __m512
pair_scale (const float  *halves,
            const guint8 *blk,
            gsize         bb,
            const float  *dx)
{
  return _mm512_shuffle_f32x4 (_mm512_set1_ps (halves[blk[0] | blk[1] << 8] * dx[0]),
                               _mm512_set1_ps (halves[blk[bb] | blk[bb + 1] << 8] * dx[1]), 0);
}

/* acc after a last odd block, which adds to lanes 0..7 only. */
static inline __attribute__ ((always_inline)) __m512
last_block (__m512        acc,
            const float  *halves,
            const guint8 *blk,
            const gint8  *q,
            const gint32 *nsum,
            float         dx,
            gboolean      q8)
{
  __m256 s = _mm256_set1_ps (halves[blk[0] | blk[1] << 8] * dx);
  __m256i x = _mm256_loadu_si256 ((const __m256i *) q);
  __m256i lanes;

  if (q8)
    {
      __m256i w = _mm256_loadu_si256 ((const __m256i *) (blk + 2));
      __m256i xs = _mm256_mask_sub_epi8 (x, _mm256_movepi8_mask (w), _mm256_setzero_si256 (), x);

      lanes = _mm256_dpbusd_epi32 (_mm256_setzero_si256 (), _mm256_abs_epi8 (w), xs);
    }
  else
    {
      __m128i t = _mm_loadu_si128 ((const __m128i *) (blk + 2)), m = _mm_set1_epi8 (15);
      __m256i n = _mm256_set_m128i (_mm_and_si128 (_mm_srli_epi16 (t, 4), m), _mm_and_si128 (t, m));

      lanes = _mm256_dpbusd_epi32 (_mm256_loadu_si256 ((const __m256i *) nsum), n, x);
    }
  return _mm512_insertf32x8 (acc, _mm256_fmadd_ps (_mm256_cvtepi32_ps (lanes), s, _mm512_castps512_ps256 (acc)), 0);
}

/* Q4_K blocks b and b + 1 (b even): the 32 bytes of qs holding them, the
 * low nibbles block b and the high ones b + 1. */
static inline __attribute__ ((always_inline)) __m512i
q4_K_pair (const guint8 *row,
           gsize         b,
           const gint8  *q)
{
  __m512i t = _mm512_broadcast_i64x4 (_mm256_loadu_si256 ((const __m256i *) (row + b / 8 * 144 + 16 + b % 8 / 2 * 32)));
  __m512i n = _mm512_and_si512 (_mm512_srlv_epi64 (t, _mm512_setr_epi64 (0, 0, 0, 0, 4, 4, 4, 4)),
                                _mm512_set1_epi8 (15));

  return _mm512_dpbusd_epi32 (_mm512_setzero_si512 (), n, _mm512_loadu_si512 (q));
}

/* Two floats (blocks b, b + 1) spread over lanes 0..7 and 8..15. */
static inline __attribute__ ((always_inline)) __m512
spread_pair (__m128 v)
{
  return _mm512_permutexvar_ps (_mm512_setr_epi32 (0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                                _mm512_castps128_ps512 (v));
}

static inline __attribute__ ((always_inline)) __m128
load_pair (const float *v)
{
  return _mm_castpd_ps (_mm_load_sd ((const double *) v));
}

/* Weight row r against activation row i. */
static inline __attribute__ ((always_inline)) float
row_dot (const AneCpuPacked *p,
         gsize               r,
         const AneCpuQ8x    *a,
         gsize               i,
         AneCpuPackedKind    kind)
{
  const float *halves = ane_cpu_half_table ();
  const guint8 *row = p->q + r * p->row_bytes;
  gboolean q8 = kind == ANE_CPU_PACKED_Q8_0_BLOCKS;
  gsize bb = q8 ? 34 : 18, nb = a->n_blocks, b = 0;
  const gint8 *q = a->q + i * a->cols;
  const float *dx = a->d + i * nb;
  __m512 acc = _mm512_setzero_ps ();

  if (kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
    {
      /* nb is a multiple of 8 (rows of whole 256-weight blocks) */
      const float *scale = p->scale + r * nb, *offset = p->offset + r * nb, *qsum = a->qsum + i * nb * 8;
      __m512 acc_o = _mm512_setzero_ps ();

      for (; b < nb; b += 2)
        {
          __m128 s = _mm_mul_ps (load_pair (scale + b), load_pair (dx + b));
          __m128 so = _mm_mul_ps (s, load_pair (offset + b));
          __m512i lanes = q4_K_pair (row, b, q + 32 * b);

          acc = _mm512_fmadd_ps (_mm512_cvtepi32_ps (lanes), spread_pair (s), acc);
          acc_o = _mm512_fnmadd_ps (_mm512_loadu_ps (qsum + 8 * b), spread_pair (so), acc_o);
        }
      return hsum16 (_mm512_add_ps (acc, acc_o));
    }
  {
    const gint32 *nsum = q8 ? NULL : a->nsum + i * nb * 8;

    for (; b + 2 <= nb; b += 2)
      {
        const guint8 *blk = row + b * bb;
        __m512i lanes = q8 ? q8_0_pair (blk, q + 32 * b) : q4_0_pair (blk, q + 32 * b, nsum + 8 * b);

        acc = _mm512_fmadd_ps (_mm512_cvtepi32_ps (lanes), pair_scale (halves, blk, bb, dx + b), acc);
      }
    if (b < nb)
      acc = last_block (acc, halves, row + b * bb, q + 32 * b, q8 ? NULL : nsum + 8 * b, dx[b], q8);
  }
  return hsum16 (acc);
}

static inline __attribute__ ((always_inline)) void
rows_kind (const AneCpuPacked *p,
           gsize               r0,
           gsize               r1,
           const AneCpuQ8x    *a,
           float              *out,
           AneCpuPackedKind    kind)
{
  for (gsize r = r0; r < r1; r++)
    {
      const char *row = (const char *) p->q + r * p->row_bytes;

      /* as the float kernels (ane-cpu-vec-avx512.c, prefetch_row): in
       * huge pages 8 KiB ahead into the L2, else a few rows ahead into
       * the L1 (a prefetch past the last row is harmless). Two or four
       * rows at a time, their sums interleaved, gained nothing
       * (bench-llm, Q8_0 and Q4_0, one thread). */
      for (gsize off = 0; off < p->row_bytes + 64; off += 64)
        {
          if (p->hot)
            _mm_prefetch (row + off + 8192, _MM_HINT_T2);
          else
            _mm_prefetch (row + off + 4 * p->row_bytes, _MM_HINT_T0);
        }
      /* Q4_K's scales and offsets are arrays of their own, in small
       * pages: a few rows ahead into the L1 */
      if (kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
        for (gsize off = 0; off < p->n_blocks * sizeof (float) + 64; off += 64)
          {
            _mm_prefetch ((const char *) (p->scale + (r + 8) * p->n_blocks) + off, _MM_HINT_T0);
            _mm_prefetch ((const char *) (p->offset + (r + 8) * p->n_blocks) + off, _MM_HINT_T0);
          }
      for (gsize i = 0; i < a->m; i++)
        out[i * p->rows + r] = row_dot (p, r, a, i, kind);
    }
}

void
ane_cpu_q8x_rows_avx512 (const AneCpuPacked *p,
                         gsize               r0,
                         gsize               r1,
                         const AneCpuQ8x    *a,
                         float              *out)
{
  switch (p->kind)
    {
    case ANE_CPU_PACKED_Q8_0_BLOCKS:
      rows_kind (p, r0, r1, a, out, ANE_CPU_PACKED_Q8_0_BLOCKS);
      break;
    case ANE_CPU_PACKED_Q4_0_BLOCKS:
      rows_kind (p, r0, r1, a, out, ANE_CPU_PACKED_Q4_0_BLOCKS);
      break;
    default:
      rows_kind (p, r0, r1, a, out, ANE_CPU_PACKED_Q4_K_BLOCKS);
      break;
    }
}

/* --- regrouped weights (ane-cpu-vec-r16.c) ------------------------------------ */

/* 4 activations (one int32) in every lane. */
static inline __attribute__ ((always_inline)) __m512i
four_bytes (const gint8 *q)
{
  gint32 v;

  memcpy (&v, q, 4);
  return _mm512_set1_epi32 (v);
}

/* Up to GROUP_ROWS activation rows go through a group's weights together:
 * each block's weights are loaded once for all of them, and each row's
 * integer sums are chains of their own, so the vpdpbusd run back to back
 * instead of each waiting for the last (one row's eight made a chain whose
 * latency bounded a prompt's products: 16 multiply-adds a cycle). The
 * integer sums are exact, so how they are split into chains does not
 * change a bit; each row's float work is the documented order, block by
 * block, as before. */
#define GROUP_ROWS 4

/* The loops over a block's rows and chunks unrolled whole, so that the
 * arrays of sums stay in registers (at -O2 GCC left them on the stack). */
#if defined(__clang__)
#define UNROLLED _Pragma ("unroll")
#else
#define UNROLLED _Pragma ("GCC unroll 8")
#endif

/* Q8_0 / Q4_0, rows i0 .. i0 + nr - 1 of a (nr ≤ GROUP_ROWS, a constant
 * in each instance) against one group. */
static inline __attribute__ ((always_inline)) void
group_rows_kind (const AneCpuPacked *p,
                 const guint8       *group,
                 const AneCpuQ8x    *a,
                 gsize               i0,
                 guint               nr,
                 float              *out,
                 __mmask16           mask,
                 gboolean            q8)
{
  gsize blk_bytes = ane_cpu_r16_block_bytes (p->kind), nb = p->n_blocks;
  __m512i low = _mm512_set1_epi8 (15);
  __m512 acc[GROUP_ROWS];

  UNROLLED
  for (guint r = 0; r < nr; r++)
    acc[r] = _mm512_setzero_ps ();
  for (gsize b = 0; b < nb; b++)
    {
      const guint8 *blk = group + b * blk_bytes;
      __m512i w[8];
      __m512 d = _mm512_cvtph_ps (_mm256_loadu_si256 ((const __m256i *) blk));

      /* in huge pages: 8 KiB ahead into the L2, once per group (the first
       * rows' pass) */
      if (i0 == 0)
        for (gsize off = 0; off < blk_bytes; off += 64)
          _mm_prefetch ((const char *) blk + 8192 + off, _MM_HINT_T2);
      if (q8)
        UNROLLED
        for (guint j = 0; j < 8; j++)
          w[j] = _mm512_loadu_si512 (blk + 32 + 64 * j);
      else
        UNROLLED
        for (guint k = 0; k < 4; k++)
          {
            __m512i v = _mm512_loadu_si512 (blk + 32 + 64 * k);

            w[k] = _mm512_and_si512 (v, low);
            w[4 + k] = _mm512_and_si512 (_mm512_srli_epi16 (v, 4), low);
          }
      UNROLLED
      for (guint r = 0; r < nr; r++)
        {
          gsize i = i0 + r;
          const gint8 *qb = a->q + i * a->cols + 32 * b;
          /* two chains a row: activations 0..15 and 16..31 of the block
           * (Q8_0's w[0..3] and w[4..7] hold them, as Q4_0's low and high
           * nibbles do) */
          __m512i s0 = _mm512_set1_epi32 ((q8 ? -128 : -8) * a->bsum[i * nb + b]);
          __m512i s1 = _mm512_setzero_si512 ();

          UNROLLED
          for (guint j = 0; j < 4; j++)
            {
              s0 = _mm512_dpbusd_epi32 (s0, w[j], four_bytes (qb + 4 * j));
              s1 = _mm512_dpbusd_epi32 (s1, w[4 + j], four_bytes (qb + 16 + 4 * j));
            }
          acc[r] = _mm512_fmadd_ps (_mm512_cvtepi32_ps (_mm512_add_epi32 (s0, s1)),
                                    _mm512_mul_ps (d, _mm512_set1_ps (a->d[i * nb + b])), acc[r]);
        }
    }
  UNROLLED
  for (guint r = 0; r < nr; r++)
    _mm512_mask_storeu_ps (out + (i0 + r) * p->rows, mask, acc[r]);
}

/* Q4_K (ane-cpu-vec-r16.c's layout and order): per block of 256, 4 runs
 * of 32 qs bytes, each two sub-blocks (low and high nibbles), 8 chunks of
 * 64 bytes; the rows' scales and mins a byte each. Rows i0 .. i0 + nr - 1
 * of a against one group, as group_rows_kind. */
static inline __attribute__ ((always_inline)) void
group_rows_q4_K (const AneCpuPacked *p,
                 const guint8       *group,
                 const AneCpuQ8x    *a,
                 gsize               i0,
                 guint               nr,
                 float              *out,
                 __mmask16           mask)
{
  gsize blk_bytes = ane_cpu_r16_block_bytes (p->kind), nb = p->n_blocks;
  __m512i low = _mm512_set1_epi8 (15);
  __m512 acc[GROUP_ROWS], off[GROUP_ROWS];

  UNROLLED
  for (guint r = 0; r < nr; r++)
    acc[r] = off[r] = _mm512_setzero_ps ();
  for (gsize S = 0; S < nb / 8; S++)
    {
      const guint8 *blk = group + S * blk_bytes;
      __m512 d = _mm512_cvtph_ps (_mm256_loadu_si256 ((const __m256i *) blk));
      __m512 dmin = _mm512_cvtph_ps (_mm256_loadu_si256 ((const __m256i *) (blk + 32)));

      if (i0 == 0)
        for (gsize o = 0; o < blk_bytes; o += 64)
          _mm_prefetch ((const char *) blk + 8192 + o, _MM_HINT_T2);
      for (guint h2 = 0; h2 < 4; h2++)
        {
          __m512i lo[GROUP_ROWS], hi[GROUP_ROWS];

          UNROLLED
          for (guint r = 0; r < nr; r++)
            lo[r] = hi[r] = _mm512_setzero_si512 ();
          UNROLLED
          for (guint k = 0; k < 8; k++)
            {
              __m512i w = _mm512_loadu_si512 (blk + 320 + 64 * (8 * h2 + k));
              __m512i wl = _mm512_and_si512 (w, low), wh = _mm512_and_si512 (_mm512_srli_epi16 (w, 4), low);

              UNROLLED
              for (guint r = 0; r < nr; r++)
                {
                  const gint8 *qb = a->q + (i0 + r) * a->cols + 256 * S + 64 * h2;

                  lo[r] = _mm512_dpbusd_epi32 (lo[r], wl, four_bytes (qb + 4 * k));
                  hi[r] = _mm512_dpbusd_epi32 (hi[r], wh, four_bytes (qb + 32 + 4 * k));
                }
            }
          UNROLLED
          for (guint h = 0; h < 2; h++)
            {
              gsize j = 2 * h2 + h, b = 8 * S + j;
              __m512 sc = _mm512_cvtepi32_ps (_mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) (blk + 64 + 16 * j))));
              __m512 mn = _mm512_cvtepi32_ps (_mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) (blk + 192 + 16 * j))));
              __m512 dsc = _mm512_mul_ps (d, sc), dmn = _mm512_mul_ps (dmin, mn);

              UNROLLED
              for (guint r = 0; r < nr; r++)
                {
                  gsize i = i0 + r;
                  __m512 x = _mm512_set1_ps (a->d[i * nb + b]);

                  acc[r] = _mm512_fmadd_ps (_mm512_cvtepi32_ps (h ? hi[r] : lo[r]), _mm512_mul_ps (dsc, x), acc[r]);
                  off[r] = _mm512_fmadd_ps (_mm512_set1_ps ((float) a->bsum[i * nb + b]), _mm512_mul_ps (dmn, x), off[r]);
                }
            }
        }
    }
  UNROLLED
  for (guint r = 0; r < nr; r++)
    _mm512_mask_storeu_ps (out + (i0 + r) * p->rows, mask, _mm512_sub_ps (acc[r], off[r]));
}

/* Every row of a against groups [g0, g1), GROUP_ROWS rows at a time. */
static inline __attribute__ ((always_inline)) void
groups_kind (const AneCpuPacked *p,
             gsize               g0,
             gsize               g1,
             const AneCpuQ8x    *a,
             float              *out,
             AneCpuPackedKind    kind)
{
  for (gsize g = g0; g < g1; g++)
    {
      const guint8 *group = p->q + g * p->row_bytes;
      gsize valid = MIN (16, p->rows - g * 16);
      __mmask16 mask = (__mmask16) ((1u << valid) - 1u);
      float *o = out + g * 16;

      for (gsize i0 = 0; i0 < a->m; i0 += GROUP_ROWS)
        {
          /* each count its own instance, its loops over rows unrolled */
#define ROWS_CASE(n)                                                               \
          case n:                                                                  \
            if (kind == ANE_CPU_PACKED_Q4_K_R16)                                   \
              group_rows_q4_K (p, group, a, i0, n, o, mask);                       \
            else                                                                   \
              group_rows_kind (p, group, a, i0, n, o, mask,                        \
                               kind == ANE_CPU_PACKED_Q8_0_R16);                   \
            break;
          switch (MIN (GROUP_ROWS, a->m - i0))
            {
            ROWS_CASE (1)
            ROWS_CASE (2)
            ROWS_CASE (3)
            default:
            ROWS_CASE (4)
            }
#undef ROWS_CASE
        }
    }
}

void
ane_cpu_q8x_groups_avx512 (const AneCpuPacked *p,
                           gsize               g0,
                           gsize               g1,
                           const AneCpuQ8x    *a,
                           float              *out)
{
  if (p->kind == ANE_CPU_PACKED_Q4_K_R16)
    groups_kind (p, g0, g1, a, out, ANE_CPU_PACKED_Q4_K_R16);
  else if (p->kind == ANE_CPU_PACKED_Q8_0_R16)
    groups_kind (p, g0, g1, a, out, ANE_CPU_PACKED_Q8_0_R16);
  else
    groups_kind (p, g0, g1, a, out, ANE_CPU_PACKED_Q4_0_R16);
}

/* --- the activations' quantizer ----------------------------------------------- */

/* ane-cpu-vec-q8x.c's quantize_block, 32 lanes at a time: the largest
 * magnitude (a maximum: any order gives it), the scale and its reciprocal
 * one division each, as there, each value rounded by the same product,
 * addition and subtraction of 1.5 · 2^23 (written out; -ffp-contract=off
 * keeps them apart), the sums of 4 by vpdpbusd with ones. A block holding
 * a NaN or an infinity, or all below ANE_CPU_Q8X_TINY, goes to the portable
 * quantizer, which zeroes it. */
void
ane_cpu_q8x_quantize_avx512 (AneCpuQ8x   *a,
                             const float *x,
                             gsize        b0,
                             gsize        b1)
{
  const __m512 round = _mm512_set1_ps (12582912.0f), inf = _mm512_set1_ps (INFINITY);
  const __m512i lo = _mm512_set1_epi32 (-127), hi = _mm512_set1_epi32 (127);

  for (gsize i = b0; i < b1; i++)
    {
      const float *xb = x + i * 32;
      __m512 v0 = _mm512_loadu_ps (xb), v1 = _mm512_loadu_ps (xb + 16);
      __m512 a0 = _mm512_abs_ps (v0), a1 = _mm512_abs_ps (v1);
      float amax, id;
      __m512i q0, q1;
      __m256i q, sums;

      /* not below inf: inf or NaN */
      if (_mm512_cmp_ps_mask (a0, inf, _CMP_NLT_UQ) | _mm512_cmp_ps_mask (a1, inf, _CMP_NLT_UQ) ||
          (amax = _mm512_reduce_max_ps (_mm512_max_ps (a0, a1))) < ANE_CPU_Q8X_TINY)
        {
          ane_cpu_q8x_quantize_portable (a, x, i, i + 1);
          continue;
        }
      a->d[i] = amax / 127.0f;
      id = 127.0f / amax;
      q0 = _mm512_cvttps_epi32 (_mm512_sub_ps (_mm512_add_ps (_mm512_mul_ps (v0, _mm512_set1_ps (id)), round), round));
      q1 = _mm512_cvttps_epi32 (_mm512_sub_ps (_mm512_add_ps (_mm512_mul_ps (v1, _mm512_set1_ps (id)), round), round));
      q0 = _mm512_min_epi32 (_mm512_max_epi32 (q0, lo), hi);
      q1 = _mm512_min_epi32 (_mm512_max_epi32 (q1, lo), hi);
      q = _mm256_inserti128_si256 (_mm256_castsi128_si256 (_mm512_cvtepi32_epi8 (q0)), _mm512_cvtepi32_epi8 (q1), 1);
      _mm256_storeu_si256 ((__m256i *) (a->q + i * 32), q);
      /* the 8 sums of 4 activations, exact */
      sums = _mm256_dpbusd_epi32 (_mm256_setzero_si256 (), _mm256_set1_epi8 (1), q);
      a->bsum[i] = _mm512_reduce_add_epi32 (_mm512_zextsi256_si512 (sums));
      if (a->nsum != NULL)
        _mm256_storeu_si256 ((__m256i *) (a->nsum + i * 8), _mm256_mullo_epi32 (sums, _mm256_set1_epi32 (-8)));
      if (a->qsum != NULL)
        _mm256_storeu_ps (a->qsum + i * 8, _mm256_cvtepi32_ps (sums));
    }
}
