/* runtime/cpu/ane-cpu-vec-avx512-private.h: the small AVX-512 helpers the
 * palettized and pruned weight kernels share (ane-cpu-vec-lut-avx512.c,
 * ane-cpu-vec-sparse-avx512.c)
 *
 * Static inline, so each kernel file compiles them with its own flags
 * (include only from files compiled with -mavx512f -mavx512bw -mavx512vl
 * -mavx512dq -mfma) and inlines them into its loops as before: nothing
 * here is reached through a pointer but ane_avx512_dot, which
 * ane_cpu_packed_rows_by already took by pointer, once a row.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <immintrin.h>

#include "runtime/cpu/ane-cpu-vec-private.h"

G_BEGIN_DECLS

/* A mask of the first n (≤ 16) lanes. */
static inline __mmask16
ane_avx512_tail_mask (gsize n)
{
  return (__mmask16) ((1u << n) - 1u);
}

/* The sum of four accumulators' lanes, in the AVX-512 kernels' order
 * (ane-cpu-vec-avx512.c hsum). */
static inline float
ane_avx512_hsum (__m512 a0, __m512 a1, __m512 a2, __m512 a3)
{
  return _mm512_reduce_add_ps (_mm512_add_ps (_mm512_add_ps (a0, a1), _mm512_add_ps (a2, a3)));
}

/* Σ w·x in the row dots' order: chunk k into accumulator k mod 4, a
 * partial last chunk with zeros beyond n (so the dequantize-and-dot path
 * sums as the row dots do). */
static inline float
ane_avx512_dot (const float *w,
                const float *x,
                gsize        n)
{
  __m512 acc[4] = { _mm512_setzero_ps (), _mm512_setzero_ps (), _mm512_setzero_ps (), _mm512_setzero_ps () };
  gsize full = n / 16, k = 0;

  for (; k + 4 <= full; k += 4)
    for (gsize j = 0; j < 4; j++)
      acc[j] = _mm512_fmadd_ps (_mm512_loadu_ps (w + 16 * (k + j)), _mm512_loadu_ps (x + 16 * (k + j)), acc[j]);
  for (; k < full; k++)
    acc[k % 4] = _mm512_fmadd_ps (_mm512_loadu_ps (w + 16 * k), _mm512_loadu_ps (x + 16 * k), acc[k % 4]);
  if (n % 16 != 0)
    {
      __mmask16 mask = ane_avx512_tail_mask (n % 16);

      acc[full % 4] = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (mask, w + 16 * full),
                                       _mm512_maskz_loadu_ps (mask, x + 16 * full), acc[full % 4]);
    }
  return ane_avx512_hsum (acc[0], acc[1], acc[2], acc[3]);
}

G_END_DECLS
