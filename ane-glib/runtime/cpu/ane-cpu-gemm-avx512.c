/* runtime/cpu/ane-cpu-gemm-avx512.c: the NT kernel with 512-bit vectors
 * (compiled with -mavx512f -mfma -ffp-contract=off; called only when the
 * CPU and the OS have AVX-512F: ane-cpu-blas.c)
 *
 * 16 lanes; the last partial vector of k is read with a masked load
 * (vmovups with a zeroing mask, which does not fault on the lanes left
 * out). 32 registers: a 4×6 tile (24 accumulators, 4 rows of A, one
 * weight vector) from 4 rows of A on; 1×8, 2×8 and 3×6 for decode.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <immintrin.h>

#include <glib.h>

typedef __m512    GemmVec;
typedef __mmask16 GemmMask;
#define GEMM_VL 16

#define gemm_zero() _mm512_setzero_ps ()
#define gemm_load(p) _mm512_loadu_ps (p)
#define gemm_load_masked(p, mask) _mm512_maskz_loadu_ps ((mask), (p))
#define gemm_fma(a, b, acc) _mm512_fmadd_ps ((a), (b), (acc))
#define gemm_mask(rem) ((__mmask16) ((1u << (rem)) - 1u))

/* Lanes l and l + 8, then l and l + 4, l and l + 2, l and l + 1: the one
 * order of ane-cpu-gemm-private.h (AVX-512F alone: no vextractf32x8,
 * which is AVX512DQ). */
static inline float
gemm_hsum (__m512 v)
{
  __m256 hi = _mm256_castpd_ps (_mm512_extractf64x4_pd (_mm512_castps_pd (v), 1));
  __m256 h = _mm256_add_ps (_mm512_castps512_ps256 (v), hi);
  __m128 x = _mm_add_ps (_mm256_castps256_ps128 (h), _mm256_extractf128_ps (h, 1));

  x = _mm_add_ps (x, _mm_movehl_ps (x, x));
  x = _mm_add_ss (x, _mm_movehdup_ps (x));
  return _mm_cvtss_f32 (x);
}

#define GEMM_RM 4
#define GEMM_RN 6
/* Decode tiles one weight row wide: the weights then stream from memory
 * as one sequential run, which the hardware prefetchers follow best.
 * Measured (bench-sgemm, m = 1, n = 32000, k = 768, weights from DRAM in
 * huge pages, one thread, AVX-512): 8 rows at a time 7.8–9.3 GFLOP/s, one
 * row 14.5–16.3; m = 2 and 3 likewise. The sums are the same either way
 * (one accumulator per element, ane-cpu-gemm-private.h). */
#define GEMM_DECODE_RN1 1
#define GEMM_DECODE_RN2 1
#define GEMM_DECODE_RN3 1
#define GEMM_ENTRY ane_cpu_gemm_nt_avx512

#include "runtime/cpu/ane-cpu-gemm-tiles.h"

/* The NN kernel (ane-cpu-gemm-nn-tiles.h): a 6×4 tile, 6 rows of A by 64
 * columns of B (24 accumulators, 4 vectors of B, one broadcast: 29 of the
 * 32 registers). */
#define gemm_bcast(p) _mm512_set1_ps (*(p))
#define gemm_set1(x) _mm512_set1_ps (x)
#define gemm_mul(a, b) _mm512_mul_ps ((a), (b))
#define gemm_add(a, b) _mm512_add_ps ((a), (b))
#define gemm_vstore(p, v) _mm512_storeu_ps ((p), (v))
#define gemm_vstore_masked(p, mask, v) _mm512_mask_storeu_ps ((p), (mask), (v))

#define GEMM_NN_MR 6
#define GEMM_NN_NV 4
#define GEMM_NN_ENTRY ane_cpu_gemm_nn_avx512

#include "runtime/cpu/ane-cpu-gemm-nn-tiles.h"

/* acc[j] += a · b[j], sixteen lanes at a time: a multiply, then an add
 * (-ffp-contract=off: never fused), each rounded as the portable loop
 * rounds them, so the same bits (ane_cpu_axpy_f32). Decode attention's
 * weights · V, one row update per key, ran 4 lanes at a time. */
void
ane_cpu_axpy_f32_avx512 (float       *acc,
                         float        a,
                         const float *b,
                         gsize        n)
{
  __m512 av = _mm512_set1_ps (a);
  gsize j = 0;

  for (; j + 16 <= n; j += 16)
    _mm512_storeu_ps (acc + j, _mm512_add_ps (_mm512_loadu_ps (acc + j), _mm512_mul_ps (av, _mm512_loadu_ps (b + j))));
  if (j < n)
    {
      __mmask16 m = (__mmask16) ((1u << (n - j)) - 1u);

      _mm512_mask_storeu_ps (acc + j, m, _mm512_add_ps (_mm512_maskz_loadu_ps (m, acc + j),
                                                        _mm512_mul_ps (av, _mm512_maskz_loadu_ps (m, b + j))));
    }
  _mm256_zeroupper ();
}

/* c[j] = Σ_p a[p] · b[p · ldb + j], j < n: ane_cpu_axpy_f32 over p in
 * increasing order from zeros, each step a multiply then an add, so the
 * same bits as memset + one axpy per p; but up to 128 columns of sums stay
 * in registers across every p, where the axpys loaded and stored them
 * again for each (a decode attention's weights · V: one row of a per
 * head, one p per key). */
#define ROW_VECS 8

static inline __attribute__ ((always_inline)) void
row_times_rows_chunk (const float *a,
                      const float *b,
                      gsize        k,
                      gsize        ldb,
                      float       *c,
                      const int    nv,
                      __mmask16    tail)
{
  __m512 acc[ROW_VECS];

  for (int v = 0; v < nv; v++)
    acc[v] = _mm512_setzero_ps ();
  for (gsize p = 0; p < k; p++)
    {
      __m512 av = _mm512_set1_ps (a[p]);
      const float *brow = b + p * ldb;

      for (int v = 0; v < nv; v++)
        {
          __m512 bv = v == nv - 1 ? _mm512_maskz_loadu_ps (tail, brow + 16 * v) : _mm512_loadu_ps (brow + 16 * v);

          acc[v] = _mm512_add_ps (acc[v], _mm512_mul_ps (av, bv));
        }
    }
  for (int v = 0; v < nv; v++)
    _mm512_mask_storeu_ps (c + 16 * v, v == nv - 1 ? tail : (__mmask16) 0xffff, acc[v]);
}

void
ane_cpu_row_times_rows_f32_avx512 (const float *a,
                                   const float *b,
                                   gsize        k,
                                   gsize        n,
                                   gsize        ldb,
                                   float       *c)
{
  for (gsize j = 0; j < n; j += 16 * ROW_VECS)
    {
      gsize w = MIN (16 * ROW_VECS, n - j), nv = (w + 15) / 16;
      __mmask16 tail = (__mmask16) (w % 16 == 0 ? 0xffffu : (1u << (w % 16)) - 1u);

      /* each count its own instance, its loop over vectors unrolled */
      switch (nv)
        {
        case 1: row_times_rows_chunk (a, b + j, k, ldb, c + j, 1, tail); break;
        case 2: row_times_rows_chunk (a, b + j, k, ldb, c + j, 2, tail); break;
        case 3: row_times_rows_chunk (a, b + j, k, ldb, c + j, 3, tail); break;
        case 4: row_times_rows_chunk (a, b + j, k, ldb, c + j, 4, tail); break;
        case 5: row_times_rows_chunk (a, b + j, k, ldb, c + j, 5, tail); break;
        case 6: row_times_rows_chunk (a, b + j, k, ldb, c + j, 6, tail); break;
        case 7: row_times_rows_chunk (a, b + j, k, ldb, c + j, 7, tail); break;
        default: row_times_rows_chunk (a, b + j, k, ldb, c + j, 8, tail); break;
        }
    }
  _mm256_zeroupper ();
}
