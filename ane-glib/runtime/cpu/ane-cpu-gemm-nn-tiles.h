/* runtime/cpu/ane-cpu-gemm-nn-tiles.h: the NN kernel's body, one copy per ISA
 *
 * C[i,j] = alpha · Σ_p A[i,p] · B[p,j] + beta · C[i,j] with B stored
 * [k,n], n contiguous: a convolution's im2col buffer or a 1×1 conv's input
 * (ane-cpu-k-linalg.c, k_conv), A its weight [m,k]. The NT kernel
 * (ane-cpu-gemm-tiles.h) wants both operands contiguous along k, so for
 * this form it gathers B through 8×8 transposes, which cost nearly as much
 * as the multiply when m (a group's output channels) is small.
 *
 * This is the other classic register tile, BLIS's and GotoBLAS's
 * (Goto & van de Geijn, "Anatomy of high-performance matrix
 * multiplication", TOMS 2008; BLIS's haswell sgemm microkernel, 6×16):
 * MR rows of A by NV vectors of B's columns, MR·NV accumulators, each a
 * vector of VL columns of one row of C. At each p, the NV vectors of B's
 * row p are loaded and each of the MR values A[i,p] broadcast and
 * multiplied into them. No packing: B's rows are read where they lie (a
 * strip of NV·VL columns by k rows, reused from L1/L2 by every row tile of
 * A), A's values are broadcast from where they lie. The last vector of a
 * strip narrower than NV·VL is read and written with a mask.
 *
 * Included once by each ISA's translation unit after
 * ane-cpu-gemm-tiles.h, with, besides that file's macros:
 *   gemm_bcast (p)                 *p in every lane
 *   gemm_set1 (x), gemm_mul (a, b), gemm_add (a, b)
 *   gemm_vstore (p, v), gemm_vstore_masked (p, mask, v)
 *   GEMM_NN_MR, GEMM_NN_NV         the tile: rows of A, vectors of B
 *   GEMM_NN_ENTRY                  the function's name
 *
 * Sum order (ane-cpu-gemm-private.h): element (i,j) is one scalar chain,
 * s = 0, s = fma (A[i,p], B[p,j], s) for p = 0, 1, …, k − 1, then
 * alpha · s + (beta = 0 ? 0 : beta · C[i,j]): lane arithmetic never mixes
 * columns, so the result does not depend on the tile, the piece, the
 * thread or the vector width — AVX2 and AVX-512 give the same bits. It is
 * not the NT kernel's order (VL partial sums and a tree), so an NN product
 * differs in its last bits from the NT product of the same values.
 *
 * SPDX-License-Identifier: MIT
 */

#define GEMM_NN_MAX_MR 6
#define GEMM_NN_MAX_NV 4

G_STATIC_ASSERT (GEMM_NN_MR <= GEMM_NN_MAX_MR && GEMM_NN_NV <= GEMM_NN_MAX_NV);

/* One tile: rm rows by rv vectors, the last one masked when masked is set
 * (rm, rv and masked are constants at every call, so the loops unroll and
 * acc stays in registers). */
GEMM_INLINE void
gemm_nn_tile (const int    rm,
              const int    rv,
              const int    masked,
              GemmMask     tail,
              gsize        k,
              float        alpha,
              const float *a,
              gsize        lda,
              const float *b,
              gsize        ldb,
              float        beta,
              float       *c,
              gsize        ldc)
{
  GemmVec acc[GEMM_NN_MAX_MR][GEMM_NN_MAX_NV];
  GemmVec va = gemm_set1 (alpha), vb = gemm_set1 (beta);

#pragma GCC unroll 8
  for (int i = 0; i < rm; i++)
#pragma GCC unroll 8
    for (int v = 0; v < rv; v++)
      acc[i][v] = gemm_zero ();
  for (gsize p = 0; p < k; p++)
    {
      const float *bp = b + p * ldb;
      GemmVec bv[GEMM_NN_MAX_NV];

#pragma GCC unroll 8
      for (int v = 0; v < rv; v++)
        bv[v] = masked && v == rv - 1 ? gemm_load_masked (bp + v * GEMM_VL, tail) : gemm_load (bp + v * GEMM_VL);
#pragma GCC unroll 8
      for (int i = 0; i < rm; i++)
        {
          GemmVec av = gemm_bcast (a + i * lda + p);

#pragma GCC unroll 8
          for (int v = 0; v < rv; v++)
            acc[i][v] = gemm_fma (av, bv[v], acc[i][v]);
        }
    }
  /* alpha · s + (beta = 0 ? 0 : beta · C), in that order, as the scalar
   * gemm_store of the NT kernel (beta = 0: C is not read) */
#pragma GCC unroll 8
  for (int i = 0; i < rm; i++)
#pragma GCC unroll 8
    for (int v = 0; v < rv; v++)
      {
        float *cp = c + i * ldc + v * GEMM_VL;
        int last = masked && v == rv - 1;
        GemmVec r = gemm_mul (va, acc[i][v]);

        if (beta == 0.0f)
          r = gemm_add (r, gemm_zero ());
        else
          r = gemm_add (r, gemm_mul (vb, last ? gemm_load_masked (cp, tail) : gemm_load (cp)));
        if (last)
          gemm_vstore_masked (cp, tail, r);
        else
          gemm_vstore (cp, r);
      }
}

typedef void (*GemmNnTileFunc) (GemmMask     tail,
                                gsize        k,
                                float        alpha,
                                const float *a,
                                gsize        lda,
                                const float *b,
                                gsize        ldb,
                                float        beta,
                                float       *c,
                                gsize        ldc);

#define GEMM_NN_TILE(R, V)                                                                       \
  static void                                                                                    \
  gemm_nn_tile_##R##x##V (GemmMask tail, gsize k, float alpha, const float *a, gsize lda,        \
                          const float *b, gsize ldb, float beta, float *c, gsize ldc)            \
  {                                                                                              \
    gemm_nn_tile (R, V, FALSE, tail, k, alpha, a, lda, b, ldb, beta, c, ldc);                    \
  }                                                                                              \
  static void                                                                                    \
  gemm_nn_tile_##R##x##V##_masked (GemmMask tail, gsize k, float alpha, const float *a,          \
                                   gsize lda, const float *b, gsize ldb, float beta, float *c,   \
                                   gsize ldc)                                                    \
  {                                                                                              \
    gemm_nn_tile (R, V, TRUE, tail, k, alpha, a, lda, b, ldb, beta, c, ldc);                     \
  }
/* every row count up to GEMM_NN_MR; vector counts up to GEMM_NN_NV (the
 * wider ones are never called where GEMM_NN_NV is smaller, and are
 * left out) */
#if GEMM_NN_NV >= 4
#define GEMM_NN_TILE_ROW(R) GEMM_NN_TILE (R, 1) GEMM_NN_TILE (R, 2) GEMM_NN_TILE (R, 3) GEMM_NN_TILE (R, 4)
#define GEMM_NN_TILE_NAMES(R) \
  { { gemm_nn_tile_##R##x1, gemm_nn_tile_##R##x1_masked }, { gemm_nn_tile_##R##x2, gemm_nn_tile_##R##x2_masked }, \
    { gemm_nn_tile_##R##x3, gemm_nn_tile_##R##x3_masked }, { gemm_nn_tile_##R##x4, gemm_nn_tile_##R##x4_masked } }
#else
#define GEMM_NN_TILE_ROW(R) GEMM_NN_TILE (R, 1) GEMM_NN_TILE (R, 2)
#define GEMM_NN_TILE_NAMES(R) \
  { { gemm_nn_tile_##R##x1, gemm_nn_tile_##R##x1_masked }, { gemm_nn_tile_##R##x2, gemm_nn_tile_##R##x2_masked } }
G_STATIC_ASSERT (GEMM_NN_NV <= 2);
#endif
GEMM_NN_TILE_ROW (1)
GEMM_NN_TILE_ROW (2)
GEMM_NN_TILE_ROW (3)
GEMM_NN_TILE_ROW (4)
GEMM_NN_TILE_ROW (5)
GEMM_NN_TILE_ROW (6)

static const GemmNnTileFunc gemm_nn_tiles[GEMM_NN_MAX_MR][GEMM_NN_NV][2] = {
  GEMM_NN_TILE_NAMES (1), GEMM_NN_TILE_NAMES (2), GEMM_NN_TILE_NAMES (3),
  GEMM_NN_TILE_NAMES (4), GEMM_NN_TILE_NAMES (5), GEMM_NN_TILE_NAMES (6),
};

void
GEMM_NN_ENTRY (gsize        m,
               gsize        n,
               gsize        k,
               float        alpha,
               const float *a,
               gsize        lda,
               const float *b,
               gsize        ldb,
               float        beta,
               float       *c,
               gsize        ldc)
{
  const gsize strip = GEMM_NN_NV * GEMM_VL;

  /* A strip of B's columns (k rows of strip floats: L1 or L2) against
   * every row tile of A, then the next strip: B, the large operand, is
   * read from memory once. */
  for (gsize j = 0; j < n; j += strip)
    {
      gsize cols = MIN (strip, n - j);
      gsize rv = (cols + GEMM_VL - 1) / GEMM_VL;
      gsize rem = cols % GEMM_VL;
      GemmMask tail = gemm_mask (rem);

      for (gsize i = 0; i < m; i += GEMM_NN_MR)
        gemm_nn_tiles[MIN (GEMM_NN_MR, m - i) - 1][rv - 1][rem != 0]
          (tail, k, alpha, a + i * lda, lda, b + j, ldb, beta, c + i * ldc + j, ldc);
    }
  gemm_leave ();
}
