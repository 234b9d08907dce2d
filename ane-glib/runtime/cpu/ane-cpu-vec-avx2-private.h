/* runtime/cpu/ane-cpu-vec-avx2-private.h: the small AVX2 helpers the
 * palettized and pruned weight kernels share (ane-cpu-vec-lut-avx2.c,
 * ane-cpu-vec-sparse-avx2.c)
 *
 * Static inline, so each kernel file compiles them with its own flags
 * (include only from files compiled with -mavx2 -mfma) and inlines them
 * into its loops as before: nothing here is reached through a pointer
 * but ane_avx2_dot, which ane_cpu_packed_rows_by already took by pointer,
 * once a row.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <immintrin.h>

#include "runtime/cpu/ane-cpu-vec-private.h"

G_BEGIN_DECLS

/* A dword mask of the first n (≤ 8) lanes, for maskload/maskstore. */
static inline __m256i
ane_avx2_lane_mask (gsize n)
{
  return _mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) n), _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7));
}

/* The sum of four accumulators' lanes, in the AVX2 kernels' order
 * (ane-cpu-vec-avx2.c hsum). */
static inline float
ane_avx2_hsum (__m256 a0, __m256 a1, __m256 a2, __m256 a3)
{
  __m256 s = _mm256_add_ps (_mm256_add_ps (a0, a1), _mm256_add_ps (a2, a3));
  __m128 h = _mm_add_ps (_mm256_castps256_ps128 (s), _mm256_extractf128_ps (s, 1));

  h = _mm_add_ps (h, _mm_movehl_ps (h, h));
  h = _mm_add_ss (h, _mm_movehdup_ps (h));
  return _mm_cvtss_f32 (h);
}

/* Σ w·x in the row dots' order: chunk k into accumulator k mod 4, a
 * partial last chunk with zeros beyond n (so the dequantize-and-dot path
 * sums as the row dots do). */
static inline float
ane_avx2_dot (const float *w,
              const float *x,
              gsize        n)
{
  __m256 acc[4] = { _mm256_setzero_ps (), _mm256_setzero_ps (), _mm256_setzero_ps (), _mm256_setzero_ps () };
  gsize full = n / 8, k = 0;

  for (; k + 4 <= full; k += 4)
    for (gsize j = 0; j < 4; j++)
      acc[j] = _mm256_fmadd_ps (_mm256_loadu_ps (w + 8 * (k + j)), _mm256_loadu_ps (x + 8 * (k + j)), acc[j]);
  for (; k < full; k++)
    acc[k % 4] = _mm256_fmadd_ps (_mm256_loadu_ps (w + 8 * k), _mm256_loadu_ps (x + 8 * k), acc[k % 4]);
  if (n % 8 != 0)
    {
      __m256i mask = ane_avx2_lane_mask (n % 8);

      acc[full % 4] = _mm256_fmadd_ps (_mm256_maskload_ps (w + 8 * full, mask), _mm256_maskload_ps (x + 8 * full, mask),
                                       acc[full % 4]);
    }
  return ane_avx2_hsum (acc[0], acc[1], acc[2], acc[3]);
}

G_END_DECLS
