/* mil/ane-fp16.c: bulk float32 <-> float16 conversion
 *
 * Packaging converts every float32 weight to float16 on its way into
 * weight.bin, so this is the inner loop of a multi-GiB conversion. On x86-64
 * the F16C instructions do 8 values per instruction; they are picked at run
 * time so one binary still runs on CPUs without them. On arm64 the NEON
 * conversions are part of the baseline ISA.
 *
 * Bit-exactness: F16C (VCVTPS2PH with an explicit round-to-nearest-even
 * immediate, so MXCSR.RC does not matter) and NEON (FPCR default: RNE, no
 * flush-to-zero for half) round exactly like ane_float_to_half, including
 * subnormal halves, overflow to infinity from 65520 up and -0. For NaN both
 * keep the sign and the top 10 payload bits and set the quiet bit, which is
 * what ane_float_to_half does too; tests/test-milblob.c checks every NaN.
 * The other way, VCVTPH2PS quiets a signalling half NaN (0x7c01 becomes
 * 0x7fc02000) while ane_half_to_float keeps it signalling (0x7f802000); the
 * portable bulk loop below quiets too, so every bulk path gives the same bits.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-milblob-private.h"

#if defined(__x86_64__) || defined(__i386__)
# define ANE_HAVE_X86_F16C 1
# include <cpuid.h>
# include <immintrin.h>
#elif defined(__aarch64__)
# define ANE_HAVE_NEON_FP16 1
# include <arm_neon.h>
#endif

void
ane_f32_to_f16_portable (const float *src,
                         guint16     *dst,
                         gsize        n)
{
  for (gsize i = 0; i < n; i++)
    dst[i] = ane_float_to_half (src[i]);
}

void
ane_f16_to_f32_portable (const guint16 *src,
                         float         *dst,
                         gsize          n)
{
  for (gsize i = 0; i < n; i++)
    {
      guint16 h = src[i];

      if ((h & 0x7c00u) == 0x7c00u && (h & 0x03ffu) != 0)
        {
          /* NaN: quiet it like the hardware does (see the top of the file). */
          guint32 x = ((guint32) (h & 0x8000u) << 16) | 0x7fc00000u | ((guint32) (h & 0x03ffu) << 13);
          memcpy (&dst[i], &x, sizeof x);
        }
      else
        dst[i] = ane_half_to_float (h);
    }
}

#ifdef ANE_HAVE_X86_F16C

/* Two vectors per iteration keep both conversion ports busy; the tail goes
 * through a padded buffer so no load or store crosses the arrays' ends. */
__attribute__((target ("f16c,avx")))
static void
f32_to_f16_f16c (const float *src,
                 guint16     *dst,
                 gsize        n)
{
  gsize i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m256 a = _mm256_loadu_ps (src + i);
      __m256 b = _mm256_loadu_ps (src + i + 8);

      _mm_storeu_si128 ((__m128i *) (dst + i), _mm256_cvtps_ph (a, _MM_FROUND_TO_NEAREST_INT));
      _mm_storeu_si128 ((__m128i *) (dst + i + 8), _mm256_cvtps_ph (b, _MM_FROUND_TO_NEAREST_INT));
    }
  for (; i < n; i += 8)
    {
      float in[8] = { 0 };
      guint16 out[8];
      gsize k = MIN (n - i, 8);

      memcpy (in, src + i, k * sizeof (float));
      _mm_storeu_si128 ((__m128i *) out,
                        _mm256_cvtps_ph (_mm256_loadu_ps (in), _MM_FROUND_TO_NEAREST_INT));
      memcpy (dst + i, out, k * sizeof (guint16));
    }
}

__attribute__((target ("f16c,avx")))
static void
f16_to_f32_f16c (const guint16 *src,
                 float         *dst,
                 gsize          n)
{
  gsize i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m128i a = _mm_loadu_si128 ((const __m128i *) (src + i));
      __m128i b = _mm_loadu_si128 ((const __m128i *) (src + i + 8));

      _mm256_storeu_ps (dst + i, _mm256_cvtph_ps (a));
      _mm256_storeu_ps (dst + i + 8, _mm256_cvtph_ps (b));
    }
  for (; i < n; i += 8)
    {
      guint16 in[8] = { 0 };
      float out[8];
      gsize k = MIN (n - i, 8);

      memcpy (in, src + i, k * sizeof (guint16));
      _mm256_storeu_ps (out, _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) in)));
      memcpy (dst + i, out, k * sizeof (float));
    }
}

/* The CPU check reads CPUID and XCR0 itself rather than calling
 * __builtin_cpu_supports ("f16c"): clang accepts that feature name only
 * from version 16 on, and this must build with clang 14 (Debian 12) and
 * gcc alike. Both compilers ship <cpuid.h> with the same __get_cpuid and
 * bit_* names.
 *
 * The instructions need CPUID.1:ECX.F16C[bit 29] and .AVX[bit 28] (VEX
 * encoding), and the OS must save the YMM registers on a context switch:
 * CPUID.1:ECX.OSXSAVE[bit 27] says XGETBV may be executed, and XCR0 bits 1
 * (SSE) and 2 (AVX) must both be set (Intel SDM vol. 1, 14.3 "Detection of
 * Intel AVX instructions"; vol. 2, "XGETBV"). XGETBV is written as inline
 * assembly so this file needs no -mxsave. */
static gboolean
cpu_has_f16c_avx (void)
{
  unsigned int eax, ebx, ecx, edx;
  guint32 xcr0_lo, xcr0_hi;

  if (!__get_cpuid (1, &eax, &ebx, &ecx, &edx))
    return FALSE;
  if ((ecx & bit_F16C) == 0 || (ecx & bit_AVX) == 0 || (ecx & bit_OSXSAVE) == 0)
    return FALSE;
  __asm__ volatile ("xgetbv" : "=a" (xcr0_lo), "=d" (xcr0_hi) : "c" (0));
  (void) xcr0_hi;
  return (xcr0_lo & 0x6u) == 0x6u;
}

/* 1: portable, 2: F16C, decided once. */
static gboolean
have_f16c (void)
{
  static gsize state = 0;

  if (g_once_init_enter (&state))
    g_once_init_leave (&state, cpu_has_f16c_avx () ? 2 : 1);
  return state == 2;
}

#endif /* ANE_HAVE_X86_F16C */

#ifdef ANE_HAVE_NEON_FP16

static void
f32_to_f16_neon (const float *src,
                 guint16     *dst,
                 gsize        n)
{
  gsize i = 0;

  for (; i + 4 <= n; i += 4)
    vst1_u16 (dst + i, vreinterpret_u16_f16 (vcvt_f16_f32 (vld1q_f32 (src + i))));
  ane_f32_to_f16_portable (src + i, dst + i, n - i);
}

static void
f16_to_f32_neon (const guint16 *src,
                 float         *dst,
                 gsize          n)
{
  gsize i = 0;

  for (; i + 4 <= n; i += 4)
    vst1q_f32 (dst + i, vcvt_f32_f16 (vreinterpret_f16_u16 (vld1_u16 (src + i))));
  ane_f16_to_f32_portable (src + i, dst + i, n - i);
}

#endif /* ANE_HAVE_NEON_FP16 */

void
ane_f32_to_f16_bulk (const float *src,
                     guint16     *dst,
                     gsize        n)
{
  g_return_if_fail (n == 0 || (src != NULL && dst != NULL));

#if defined(ANE_HAVE_X86_F16C)
  if (have_f16c ())
    {
      f32_to_f16_f16c (src, dst, n);
      return;
    }
#elif defined(ANE_HAVE_NEON_FP16)
  f32_to_f16_neon (src, dst, n);
  return;
#endif
  ane_f32_to_f16_portable (src, dst, n);
}

void
ane_f16_to_f32_bulk (const guint16 *src,
                     float         *dst,
                     gsize          n)
{
  g_return_if_fail (n == 0 || (src != NULL && dst != NULL));

#if defined(ANE_HAVE_X86_F16C)
  if (have_f16c ())
    {
      f16_to_f32_f16c (src, dst, n);
      return;
    }
#elif defined(ANE_HAVE_NEON_FP16)
  f16_to_f32_neon (src, dst, n);
  return;
#endif
  ane_f16_to_f32_portable (src, dst, n);
}

const char *
ane_fp16_bulk_impl (void)
{
#if defined(ANE_HAVE_X86_F16C)
  return have_f16c () ? "f16c" : "portable";
#elif defined(ANE_HAVE_NEON_FP16)
  return "neon";
#else
  return "portable";
#endif
}
