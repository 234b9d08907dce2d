/* ane-quant-avx2.c: GGUF block dequantization with AVX2 and F16C
 *
 * Compiled on x86-64 with -mavx2 -mf16c and nothing else (ane-glib/meson.build);
 * ane-quant.c calls these rows only after __builtin_cpu_supports says the
 * CPU has both. The formulas are ane-quant.c's (ggml's dequantize_row_* of
 * ggml/src/ggml-quants.c), operation for operation, so the floats are the
 * same bits:
 *  - the fp16 scales go through F16C's vcvtph2ps, which converts every
 *    finite half (subnormals included) exactly, as ane_half_to_float does;
 *  - integers become floats exactly (|q| < 2^24), and each product, sum and
 *    difference is one IEEE single operation in ggml's order;
 *  - no FMA: -mfma is not given, so the compiler cannot fuse d*q - m into
 *    one rounding (ggml-base, whose to_float these match, is built without
 *    -march=native either: its CMake gives it -O3 only).
 * The bits are selected with byte shuffles and compares; every 8 bytes
 * widen with vpmovsxbd/vpmovzxbd and convert with vcvtdq2ps.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-quant-simd-private.h"

#if defined(__AVX2__) && defined(__F16C__)

#include <immintrin.h>

#define QK_K 256

static inline float
half_f16c (const guint8 *p)
{
  guint16 h;

  memcpy (&h, p, 2);
  return _cvtsh_ss (GUINT16_FROM_LE (h));
}

/* 8 signed bytes (the low 8 of @v) to floats. */
static inline __m256
i8x8_to_ps (__m128i v)
{
  return _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (v));
}

/* y[0..31] = d * q for 32 signed bytes. */
static inline void
store_scaled (__m256i q, __m256 d, float *restrict y)
{
  __m128i lo = _mm256_castsi256_si128 (q), hi = _mm256_extracti128_si256 (q, 1);

  _mm256_storeu_ps (y, _mm256_mul_ps (d, i8x8_to_ps (lo)));
  _mm256_storeu_ps (y + 8, _mm256_mul_ps (d, i8x8_to_ps (_mm_srli_si128 (lo, 8))));
  _mm256_storeu_ps (y + 16, _mm256_mul_ps (d, i8x8_to_ps (hi)));
  _mm256_storeu_ps (y + 24, _mm256_mul_ps (d, i8x8_to_ps (_mm_srli_si128 (hi, 8))));
}

/* y[0..15] = d * q for 16 signed bytes. */
static inline void
store_scaled16 (__m128i q, __m256 d, float *restrict y)
{
  _mm256_storeu_ps (y, _mm256_mul_ps (d, i8x8_to_ps (q)));
  _mm256_storeu_ps (y + 8, _mm256_mul_ps (d, i8x8_to_ps (_mm_srli_si128 (q, 8))));
}

/* y[0..15] = d * q - m (a multiply, then a subtraction). */
static inline void
store_scaled16_sub (__m128i q, __m256 d, __m256 m, float *restrict y)
{
  _mm256_storeu_ps (y, _mm256_sub_ps (_mm256_mul_ps (d, i8x8_to_ps (q)), m));
  _mm256_storeu_ps (y + 8, _mm256_sub_ps (_mm256_mul_ps (d, i8x8_to_ps (_mm_srli_si128 (q, 8))), m));
}

/* y[0..31] = d * q - m. */
static inline void
store_scaled_sub (__m256i q, __m256 d, __m256 m, float *restrict y)
{
  store_scaled16_sub (_mm256_castsi256_si128 (q), d, m, y);
  store_scaled16_sub (_mm256_extracti128_si256 (q, 1), d, m, y + 16);
}

/* y[0..31] = q * d + m (ggml's q4_1 / q5_1 order). */
static inline void
store_scaled_add (__m256i q, __m256 d, __m256 m, float *restrict y)
{
  __m128i lo = _mm256_castsi256_si128 (q), hi = _mm256_extracti128_si256 (q, 1);

  _mm256_storeu_ps (y, _mm256_add_ps (_mm256_mul_ps (i8x8_to_ps (lo), d), m));
  _mm256_storeu_ps (y + 8, _mm256_add_ps (_mm256_mul_ps (i8x8_to_ps (_mm_srli_si128 (lo, 8)), d), m));
  _mm256_storeu_ps (y + 16, _mm256_add_ps (_mm256_mul_ps (i8x8_to_ps (hi), d), m));
  _mm256_storeu_ps (y + 24, _mm256_add_ps (_mm256_mul_ps (i8x8_to_ps (_mm_srli_si128 (hi, 8)), d), m));
}

/* 16 bytes of nibbles to 32 bytes: the low nibbles (elements 0..15), then
 * the high nibbles (16..31), as q4_0 / q4_1 / q5_* order them. */
static inline __m256i
nibbles_split (const guint8 *qs)
{
  __m128i v = _mm_loadu_si128 ((const __m128i *) qs);
  __m128i m = _mm_set1_epi8 (0x0f);

  return _mm256_set_m128i (_mm_and_si128 (_mm_srli_epi16 (v, 4), m), _mm_and_si128 (v, m));
}

/* The 32 bits of a little-endian u32 as 32 bytes: 0x10 where bit j is set
 * (the fifth bit of a q5_0 / q5_1 element), 0 elsewhere. */
static inline __m256i
bits_to_16 (const guint8 *p)
{
  guint32 u;
  const __m256i pick = _mm256_setr_epi64x (0x0000000000000000LL, 0x0101010101010101LL,
                                           0x0202020202020202LL, 0x0303030303030303LL);
  const __m256i bit = _mm256_set1_epi64x ((long long) 0x8040201008040201ULL);
  __m256i v;

  memcpy (&u, p, 4);
  /* each 128-bit lane holds the four bytes; byte j takes byte j/8 */
  v = _mm256_shuffle_epi8 (_mm256_set1_epi32 ((int) GUINT32_FROM_LE (u)), pick);
  v = _mm256_cmpeq_epi8 (_mm256_and_si256 (v, bit), bit);
  return _mm256_and_si256 (v, _mm256_set1_epi8 (0x10));
}

/* y[0..31] = d * q for 32 signed bytes in memory: each 8 widen straight
 * from memory (vpmovsxbd ymm, m64), no shuffling between lanes. */
static inline void
store_scaled_mem (const guint8 *q, __m256 d, float *restrict y)
{
  for (int k = 0; k < 32; k += 8)
    _mm256_storeu_ps (y + k, _mm256_mul_ps (d, i8x8_to_ps (_mm_loadl_epi64 ((const __m128i *) (q + k)))));
}

static void
row_q8_0 (const guint8 *b, gsize n_blocks, float *y)
{
  for (gsize i = 0; i < n_blocks; i++, b += 34, y += 32)
    store_scaled_mem (b + 2, _mm256_set1_ps (half_f16c (b)), y);
}

static void
row_q4_0 (const guint8 *b, gsize n_blocks, float *y)
{
  for (gsize i = 0; i < n_blocks; i++, b += 18, y += 32)
    store_scaled (_mm256_sub_epi8 (nibbles_split (b + 2), _mm256_set1_epi8 (8)),
                  _mm256_set1_ps (half_f16c (b)), y);
}

static void
row_q4_1 (const guint8 *b, gsize n_blocks, float *y)
{
  for (gsize i = 0; i < n_blocks; i++, b += 20, y += 32)
    store_scaled_add (nibbles_split (b + 4), _mm256_set1_ps (half_f16c (b)),
                      _mm256_set1_ps (half_f16c (b + 2)), y);
}

static void
row_q5_0 (const guint8 *b, gsize n_blocks, float *y)
{
  for (gsize i = 0; i < n_blocks; i++, b += 22, y += 32)
    {
      __m256i q = _mm256_or_si256 (nibbles_split (b + 6), bits_to_16 (b + 2));

      store_scaled (_mm256_sub_epi8 (q, _mm256_set1_epi8 (16)), _mm256_set1_ps (half_f16c (b)), y);
    }
}

static void
row_q5_1 (const guint8 *b, gsize n_blocks, float *y)
{
  for (gsize i = 0; i < n_blocks; i++, b += 24, y += 32)
    store_scaled_add (_mm256_or_si256 (nibbles_split (b + 8), bits_to_16 (b + 4)),
                      _mm256_set1_ps (half_f16c (b)), _mm256_set1_ps (half_f16c (b + 2)), y);
}

static void
row_q8_K (const guint8 *b, gsize n_blocks, float *y)
{
  for (gsize i = 0; i < n_blocks; i++, b += 292, y += QK_K)
    {
      guint32 u;
      float d;
      __m256 dv;

      memcpy (&u, b, 4);
      u = GUINT32_FROM_LE (u);
      memcpy (&d, &u, 4);
      dv = _mm256_set1_ps (d);
      for (int j = 0; j < QK_K; j += 32)
        store_scaled_mem (b + 4 + j, dv, y + j);
    }
}

/* ggml's get_scale_min_k4 for j = 0..7 (see ane-quant.c's scale_min_k4). */
static inline void
k4_scale_min (const guint8 *q, int j, int *sc, int *mn)
{
  if (j < 4)
    {
      *sc = q[j] & 63;
      *mn = q[j + 4] & 63;
    }
  else
    {
      *sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
      *mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

static void
row_q4_K (const guint8 *b, gsize n_blocks, float *y)
{
  const __m256i low4 = _mm256_set1_epi8 (0x0f);

  for (gsize i = 0; i < n_blocks; i++, b += 144)
    {
      const float d = half_f16c (b), dmin = half_f16c (b + 2);
      const guint8 *q = b + 16;

      for (int is = 0; is < 8; is += 2, q += 32, y += 64)
        {
          int sc, mn;
          __m256 d1, m1, d2, m2;
          __m256i v = _mm256_loadu_si256 ((const __m256i *) q);

          k4_scale_min (b + 4, is, &sc, &mn);
          d1 = _mm256_set1_ps (d * sc);
          m1 = _mm256_set1_ps (dmin * mn);
          k4_scale_min (b + 4, is + 1, &sc, &mn);
          d2 = _mm256_set1_ps (d * sc);
          m2 = _mm256_set1_ps (dmin * mn);
          store_scaled_sub (_mm256_and_si256 (v, low4), d1, m1, y);
          store_scaled_sub (_mm256_and_si256 (_mm256_srli_epi16 (v, 4), low4), d2, m2, y + 32);
        }
    }
}

static void
row_q5_K (const guint8 *b, gsize n_blocks, float *y)
{
  const __m256i low4 = _mm256_set1_epi8 (0x0f), sixteen = _mm256_set1_epi8 (0x10);

  for (gsize i = 0; i < n_blocks; i++, b += 176)
    {
      const float d = half_f16c (b), dmin = half_f16c (b + 2);
      const __m256i qh = _mm256_loadu_si256 ((const __m256i *) (b + 16));
      const guint8 *ql = b + 48;

      for (int is = 0; is < 8; is += 2, ql += 32, y += 64)
        {
          int sc, mn;
          __m256 d1, m1, d2, m2;
          __m256i v = _mm256_loadu_si256 ((const __m256i *) ql);
          __m256i u1 = _mm256_set1_epi8 ((char) (1 << is)), u2 = _mm256_set1_epi8 ((char) (2 << is));
          __m256i h1 = _mm256_and_si256 (_mm256_cmpeq_epi8 (_mm256_and_si256 (qh, u1), u1), sixteen);
          __m256i h2 = _mm256_and_si256 (_mm256_cmpeq_epi8 (_mm256_and_si256 (qh, u2), u2), sixteen);

          k4_scale_min (b + 4, is, &sc, &mn);
          d1 = _mm256_set1_ps (d * sc);
          m1 = _mm256_set1_ps (dmin * mn);
          k4_scale_min (b + 4, is + 1, &sc, &mn);
          d2 = _mm256_set1_ps (d * sc);
          m2 = _mm256_set1_ps (dmin * mn);
          store_scaled_sub (_mm256_or_si256 (_mm256_and_si256 (v, low4), h1), d1, m1, y);
          store_scaled_sub (_mm256_or_si256 (_mm256_and_si256 (_mm256_srli_epi16 (v, 4), low4), h2),
                            d2, m2, y + 32);
        }
    }
}

/* y[0..31] = s[0] * q[0..15], s[1] * q[16..31]: q6_K's quarters have one
 * scale per 16 elements. */
static inline void
store_two_scales (__m256i q, float s0, float s1, float *restrict y)
{
  store_scaled16 (_mm256_castsi256_si128 (q), _mm256_set1_ps (s0), y);
  store_scaled16 (_mm256_extracti128_si256 (q, 1), _mm256_set1_ps (s1), y + 16);
}

static void
row_q6_K (const guint8 *b, gsize n_blocks, float *y)
{
  const __m256i low4 = _mm256_set1_epi8 (0x0f), two = _mm256_set1_epi8 (0x03);
  const __m256i off = _mm256_set1_epi8 (32);

  for (gsize i = 0; i < n_blocks; i++, b += 210)
    {
      const guint8 *ql = b, *qh = b + 128;
      const gint8 *sc = (const gint8 *) (b + 192);
      const float d = half_f16c (b + 208);
      float ds[16];

      for (int j = 0; j < 16; j++)
        ds[j] = d * sc[j];
      for (int n = 0; n < 2; n++, ql += 64, qh += 32, y += 128)
        {
          const float *s = ds + 8 * n;
          __m256i l0 = _mm256_loadu_si256 ((const __m256i *) ql);
          __m256i l1 = _mm256_loadu_si256 ((const __m256i *) (ql + 32));
          __m256i h = _mm256_loadu_si256 ((const __m256i *) qh);
          /* the two high bits of quarter k sit in bits 2k, 2k+1 of qh */
          __m256i h0 = _mm256_slli_epi16 (_mm256_and_si256 (h, two), 4);
          __m256i h1 = _mm256_slli_epi16 (_mm256_and_si256 (_mm256_srli_epi16 (h, 2), two), 4);
          __m256i h2 = _mm256_slli_epi16 (_mm256_and_si256 (_mm256_srli_epi16 (h, 4), two), 4);
          __m256i h3 = _mm256_slli_epi16 (_mm256_and_si256 (_mm256_srli_epi16 (h, 6), two), 4);
          __m256i q1 = _mm256_sub_epi8 (_mm256_or_si256 (_mm256_and_si256 (l0, low4), h0), off);
          __m256i q2 = _mm256_sub_epi8 (_mm256_or_si256 (_mm256_and_si256 (l1, low4), h1), off);
          __m256i q3 = _mm256_sub_epi8 (_mm256_or_si256 (_mm256_and_si256 (_mm256_srli_epi16 (l0, 4), low4), h2), off);
          __m256i q4 = _mm256_sub_epi8 (_mm256_or_si256 (_mm256_and_si256 (_mm256_srli_epi16 (l1, 4), low4), h3), off);

          store_two_scales (q1, s[0], s[1], y);
          store_two_scales (q2, s[2], s[3], y + 32);
          store_two_scales (q3, s[4], s[5], y + 64);
          store_two_scales (q4, s[6], s[7], y + 96);
        }
    }
}

static void
row_q2_K (const guint8 *b, gsize n_blocks, float *y)
{
  const __m256i three = _mm256_set1_epi8 (3);

  for (gsize i = 0; i < n_blocks; i++, b += 84)
    {
      const guint8 *scales = b, *q = b + 16;
      const float d = half_f16c (b + 80), dmin = half_f16c (b + 82);
      int is = 0;

      for (int n = 0; n < QK_K; n += 128, q += 32)
        {
          __m256i v = _mm256_loadu_si256 ((const __m256i *) q);

          for (int shift = 0; shift < 8; shift += 2, is += 2, y += 32)
            {
              __m256i x = _mm256_and_si256 (_mm256_srli_epi16 (v, shift), three);
              guint8 s0 = scales[is], s1 = scales[is + 1];

              store_scaled16_sub (_mm256_castsi256_si128 (x), _mm256_set1_ps (d * (s0 & 0x0f)),
                                  _mm256_set1_ps (dmin * (s0 >> 4)), y);
              store_scaled16_sub (_mm256_extracti128_si256 (x, 1), _mm256_set1_ps (d * (s1 & 0x0f)),
                                  _mm256_set1_ps (dmin * (s1 >> 4)), y + 16);
            }
        }
    }
}

static void
row_q3_K (const guint8 *b, gsize n_blocks, float *y)
{
  const __m256i three = _mm256_set1_epi8 (3), four = _mm256_set1_epi8 (4);

  for (gsize i = 0; i < n_blocks; i++, b += 110)
    {
      const guint8 *q = b + 32, *packed = b + 96;
      const __m256i hm = _mm256_loadu_si256 ((const __m256i *) b);
      const float d = half_f16c (b + 108);
      float dl[16];
      int is = 0, bit = 0;

      for (int j = 0; j < 16; j++)
        dl[j] = d * ane_quant_q3_K_scale (packed, j);
      for (int n = 0; n < QK_K; n += 128, q += 32)
        {
          __m256i v = _mm256_loadu_si256 ((const __m256i *) q);

          for (int shift = 0; shift < 8; shift += 2, is += 2, bit++, y += 32)
            {
              __m256i m = _mm256_set1_epi8 ((char) (1 << bit));
              /* a clear high bit subtracts 4 */
              __m256i clear = _mm256_andnot_si256 (_mm256_cmpeq_epi8 (_mm256_and_si256 (hm, m), m), four);
              __m256i x = _mm256_sub_epi8 (_mm256_and_si256 (_mm256_srli_epi16 (v, shift), three), clear);

              store_two_scales (x, dl[is], dl[is + 1], y);
            }
        }
    }
}

AneDequantRowFunc
ane_dequant_row_avx2 (AneDType dtype)
{
#define ROW_CASE(T, s) case ANE_DTYPE_##T: return row_##s;
  switch (dtype)
    {
    ANE_QUANT_EACH_BLOCK_TYPE (ROW_CASE)
    default:             return NULL;
    }
#undef ROW_CASE
}

#else /* no -mavx2 -mf16c: not x86-64, or a compiler without them */

AneDequantRowFunc
ane_dequant_row_avx2 (AneDType dtype)
{
  (void) dtype;
  return NULL;
}

#endif
