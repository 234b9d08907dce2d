/* runtime/cpu/ane-cpu-gemm-avx2.c: the NT kernel with 256-bit vectors
 * (compiled with -mavx2 -mfma -ffp-contract=off; called only when the CPU
 * has AVX2 and FMA: ane-cpu-blas.c)
 *
 * 8 lanes; the last partial vector of k is read with vmaskmovps (which
 * does not fault on the lanes left out). 16 registers: a 4×3 tile (12
 * accumulators, 3 weight vectors, one row of A) from 4 rows of A on; 1×8,
 * 2×6 and 3×4 for decode.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <immintrin.h>

#include <glib.h>

typedef __m256 GemmVec;
/* The tail is passed as its length, not as a vector mask: a function with
 * a 256-bit argument gets no vzeroupper from GCC 12 at its return, and the
 * dirty upper halves then slowed the SSE code that ran after it (glibc's
 * exp in the softmax, measured: a one-call prompt at a third of its
 * speed). */
typedef guint  GemmMask;
#define GEMM_VL 8

#define gemm_zero() _mm256_setzero_ps ()
#define gemm_load(p) _mm256_loadu_ps (p)
#define gemm_fma(a, b, acc) _mm256_fmadd_ps ((a), (b), (acc))
#define gemm_mask(rem) ((guint) (rem))

/* the first rem floats at p, zeros after; the lanes left out are not read
 * (vmaskmovps reads the sign bit of each mask lane, and does not fault) */
static inline __m256
gemm_load_masked (const float *p,
                  guint        rem)
{
  __m256i mask = _mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) rem), _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7));

  return _mm256_maskload_ps (p, mask);
}

/* Lanes l and l + 4, then l and l + 2, l and l + 1: the one order of
 * ane-cpu-gemm-private.h. */
static inline float
gemm_hsum (__m256 v)
{
  __m128 x = _mm_add_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));

  x = _mm_add_ps (x, _mm_movehl_ps (x, x));
  x = _mm_add_ss (x, _mm_movehdup_ps (x));
  return _mm_cvtss_f32 (x);
}

#define GEMM_RM 4
#define GEMM_RN 3
/* Decode tiles one weight row wide: the weights then stream from memory
 * as one sequential run, which the hardware prefetchers follow best.
 * Measured (bench-sgemm, m = 1, n = 32000, k = 768, weights from DRAM in
 * huge pages, one thread, AVX2): 8 rows at a time 7.8–9.3 GFLOP/s, one
 * row 14.5–16.3; m = 2 and 3 likewise. The sums are the same either way
 * (one accumulator per element, ane-cpu-gemm-private.h). */
#define GEMM_DECODE_RN1 1
#define GEMM_DECODE_RN2 1
#define GEMM_DECODE_RN3 1
#define GEMM_ENTRY ane_cpu_gemm_nt_avx2

#include "runtime/cpu/ane-cpu-gemm-tiles.h"

/* The NN kernel (ane-cpu-gemm-nn-tiles.h): a 6×2 tile, 6 rows of A by 16
 * columns of B (12 accumulators, 2 vectors of B, one broadcast: 15 of the
 * 16 registers), BLIS's haswell sgemm shape. */
#define gemm_bcast(p) _mm256_broadcast_ss (p)
#define gemm_set1(x) _mm256_set1_ps (x)
#define gemm_mul(a, b) _mm256_mul_ps ((a), (b))
#define gemm_add(a, b) _mm256_add_ps ((a), (b))
#define gemm_vstore(p, v) _mm256_storeu_ps ((p), (v))

/* the first rem lanes of v to p; the others are not written */
static inline void
gemm_vstore_masked (float  *p,
                    guint   rem,
                    __m256  v)
{
  __m256i mask = _mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) rem), _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7));

  _mm256_maskstore_ps (p, mask, v);
}

#define GEMM_NN_MR 6
#define GEMM_NN_NV 2
#define GEMM_NN_ENTRY ane_cpu_gemm_nn_avx2

#include "runtime/cpu/ane-cpu-gemm-nn-tiles.h"
