/* runtime/cpu/ane-cpu-expf-private.h: e^x in float, four lanes at a time
 *
 * glibc's exp and expf are one call per element; silu of a LLaMA prompt
 * through them was 7–10% of its time, attention's softmax a good part of
 * attention's. These compute e^t by Cephes' expf (cephes/single/expf.c):
 * t = n·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 in two parts, its C1 and C2),
 * e^r = 1 + r + r²·P(r) with its degree-5 P, 2^n built in the exponent
 * bits; within 3 ulp of e^t (silu through it is checked against the double
 * formula in tests/test-cpu-kernels.c). Past the range: t > 88.7228 gives
 * inf, t < −87.33 gives 0 (expf would give a subnormal there, below
 * 1.2e-38), NaN gives NaN. ggml does the same with its own polynomial
 * (ggml-cpu/vec.h, ggml_v_expf).
 *
 * The SSE2 form (every x86-64 has SSE2; the compiler does not vectorize
 * the scalar form's selects) runs the same operations in the same order as
 * the scalar one, so a tail, or a machine without it, gives the same bits.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <math.h>
#include <glib.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define ANE_CPU_EXPF_MAX 88.7228f    /* above: inf */
#define ANE_CPU_EXPF_MIN -87.33f     /* below: 0 */

static inline float
ane_cpu_expf (float t)
{
  const float shifter = 12582912.0f;   /* 1.5·2^23: x + shifter − shifter rounds x to an integer */
  /* NaN takes the lower clamp (converting NaN to an integer would be
   * undefined) and is put back at the end */
  float c = t > -87.0f ? t : -87.0f, fn, r, p;
  union { gint32 i; float f; } scale;

  c = c < 88.0f ? c : 88.0f;
  fn = (c * 1.44269504088896341f + shifter) - shifter;
  r = c - fn * 0.693359375f - fn * -2.12194440e-4f;
  p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  scale.i = ((gint32) fn + 127) << 23;
  p = (1.0f + r + r * r * p) * scale.f;
  p = t > ANE_CPU_EXPF_MAX ? INFINITY : p;
  p = t < ANE_CPU_EXPF_MIN ? 0.0f : p;
  return t != t ? t : p;
}

#ifdef __SSE2__
static inline __m128
ane_cpu_expf4 (__m128 t)
{
  const __m128 shifter = _mm_set1_ps (12582912.0f);
  /* maxps returns its second operand when one is NaN: −87, as above */
  __m128 c = _mm_min_ps (_mm_max_ps (t, _mm_set1_ps (-87.0f)), _mm_set1_ps (88.0f));
  __m128 fn = _mm_sub_ps (_mm_add_ps (_mm_mul_ps (c, _mm_set1_ps (1.44269504088896341f)), shifter), shifter);
  __m128 r = _mm_sub_ps (_mm_sub_ps (c, _mm_mul_ps (fn, _mm_set1_ps (0.693359375f))),
                         _mm_mul_ps (fn, _mm_set1_ps (-2.12194440e-4f)));
  __m128 p = _mm_set1_ps (1.9875691500e-4f), scale, m;

  p = _mm_add_ps (_mm_mul_ps (p, r), _mm_set1_ps (1.3981999507e-3f));
  p = _mm_add_ps (_mm_mul_ps (p, r), _mm_set1_ps (8.3334519073e-3f));
  p = _mm_add_ps (_mm_mul_ps (p, r), _mm_set1_ps (4.1665795894e-2f));
  p = _mm_add_ps (_mm_mul_ps (p, r), _mm_set1_ps (1.6666665459e-1f));
  p = _mm_add_ps (_mm_mul_ps (p, r), _mm_set1_ps (5.0000001201e-1f));
  scale = _mm_castsi128_ps (_mm_slli_epi32 (_mm_add_epi32 (_mm_cvttps_epi32 (fn), _mm_set1_epi32 (127)), 23));
  p = _mm_mul_ps (_mm_add_ps (_mm_add_ps (_mm_set1_ps (1.0f), r), _mm_mul_ps (_mm_mul_ps (r, r), p)), scale);
  m = _mm_cmpgt_ps (t, _mm_set1_ps (ANE_CPU_EXPF_MAX));
  p = _mm_or_ps (_mm_and_ps (m, _mm_set1_ps (INFINITY)), _mm_andnot_ps (m, p));
  m = _mm_cmplt_ps (t, _mm_set1_ps (ANE_CPU_EXPF_MIN));
  p = _mm_andnot_ps (m, p);
  m = _mm_cmpunord_ps (t, t);
  return _mm_or_ps (_mm_and_ps (m, t), _mm_andnot_ps (m, p));
}
#endif

/* out[i] = e^(x[i] − shift) for n elements (softmax's exponentials). */
static inline void
ane_cpu_expf_shifted (const float *x,
                      float        shift,
                      float       *out,
                      gsize        n)
{
  gsize i = 0;

#ifdef __SSE2__
  __m128 s = _mm_set1_ps (shift);

  for (; i + 4 <= n; i += 4)
    _mm_storeu_ps (out + i, ane_cpu_expf4 (_mm_sub_ps (_mm_loadu_ps (x + i), s)));
#endif
  for (; i < n; i++)
    out[i] = ane_cpu_expf (x[i] - shift);
}
