/* ane-quant.c: dequantization of GGUF blocks for the reference evaluator
 *
 * Block layouts are ggml's (ggml/src/ggml-common.h: block_q4_0 ... block_q8_K),
 * formulas those of ggml's dequantize_row_* (ggml/src/ggml-quants.c), read
 * from https://github.com/ggml-org/llama.cpp. All multi-byte fields are little
 * endian, as in a GGUF file.
 *
 * Values are produced as doubles that are exactly the floats ggml computes:
 * every place ggml performs a float operation, the code below performs it in
 * double and rounds the result to binary32 (f32()), in ggml's order. For a
 * single +, -, * of two floats, rounding the (53-bit) double result to float
 * gives the correctly rounded float result, so this is bit-exact with ggml's
 * scalar code (and with an FMA-contracted build too, since every product that
 * ggml adds to something else is exact in float).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include <string.h>

#include "ane-reference-private.h"
#include "ane-quant-simd-private.h"

/* x86-64 with GCC or clang: ane-quant-avx2.c's rows may be there (it is a
 * stub returning NULL where meson could not give it -mavx2 -mf16c). */
#if defined(__x86_64__) && defined(__GNUC__)
# define QUANT_X86_DISPATCH 1
# include <cpuid.h>
#endif

#define QK_K 256

/* Rounds to binary32: one ggml float operation. */
static inline double
f32 (double x)
{
  return (double) (float) x;
}

static double
read_half (const guint8 *p)
{
  guint16 h;

  memcpy (&h, p, 2);
  return ane_half_to_float (GUINT16_FROM_LE (h));
}

static double
read_float (const guint8 *p)
{
  guint32 u;
  float f;

  memcpy (&u, p, 4);
  u = GUINT32_FROM_LE (u);
  memcpy (&f, &u, 4);
  return f;
}

static guint32
read_u32 (const guint8 *p)
{
  guint32 u;

  memcpy (&u, p, 4);
  return GUINT32_FROM_LE (u);
}

/* --- 32-element blocks --------------------------------------------------- */

/* block_q8_0 { ggml_half d; int8_t qs[32]; }: y = d * q */
static void
dequant_q8_0 (const guint8 *b, double *y)
{
  double d = read_half (b);

  for (int j = 0; j < 32; j++)
    y[j] = f32 (d * (gint8) b[2 + j]);
}

/* block_q4_0 { ggml_half d; uint8_t qs[16]; }: low nibbles are elements
 * 0..15, high nibbles 16..31, each stored with an offset of 8. */
static void
dequant_q4_0 (const guint8 *b, double *y)
{
  double d = read_half (b);
  const guint8 *qs = b + 2;

  for (int j = 0; j < 16; j++)
    {
      y[j] = f32 (d * ((qs[j] & 0x0f) - 8));
      y[j + 16] = f32 (d * ((qs[j] >> 4) - 8));
    }
}

/* block_q4_1 { ggml_half d; ggml_half m; uint8_t qs[16]; }: nibbles as
 * q4_0 but unsigned; y = q*d + m (a float multiply, then a float add). */
static void
dequant_q4_1 (const guint8 *b, double *y)
{
  double d = read_half (b), m = read_half (b + 2);
  const guint8 *qs = b + 4;

  for (int j = 0; j < 16; j++)
    {
      y[j] = f32 (f32 ((qs[j] & 0x0f) * d) + m);
      y[j + 16] = f32 (f32 ((qs[j] >> 4) * d) + m);
    }
}

/* block_q5_0 { ggml_half d; uint8_t qh[4]; uint8_t qs[16]; }: qh (a
 * little-endian uint32) holds the fifth bit of element j in bit j; the
 * 5-bit value carries an offset of 16. y = q*d. */
static void
dequant_q5_0 (const guint8 *b, double *y)
{
  double d = read_half (b);
  guint32 qh = read_u32 (b + 2);
  const guint8 *qs = b + 6;

  for (int j = 0; j < 16; j++)
    {
      int hi0 = ((qh >> j) << 4) & 0x10;
      int hi1 = (qh >> (j + 12)) & 0x10;
      int x0 = ((qs[j] & 0x0f) | hi0) - 16;
      int x1 = ((qs[j] >> 4) | hi1) - 16;

      y[j] = f32 (x0 * d);
      y[j + 16] = f32 (x1 * d);
    }
}

/* block_q5_1 { ggml_half d; ggml_half m; uint8_t qh[4]; uint8_t qs[16]; }:
 * unsigned 5-bit values as q5_0; y = q*d + m. */
static void
dequant_q5_1 (const guint8 *b, double *y)
{
  double d = read_half (b), m = read_half (b + 2);
  guint32 qh = read_u32 (b + 4);
  const guint8 *qs = b + 8;

  for (int j = 0; j < 16; j++)
    {
      int hi0 = ((qh >> j) << 4) & 0x10;
      int hi1 = (qh >> (j + 12)) & 0x10;
      int x0 = (qs[j] & 0x0f) | hi0;
      int x1 = (qs[j] >> 4) | hi1;

      y[j] = f32 (f32 (x0 * d) + m);
      y[j + 16] = f32 (f32 (x1 * d) + m);
    }
}

/* --- 256-element super-blocks (k-quants) --------------------------------- */

/* block_q2_K { uint8_t scales[16]; uint8_t qs[64]; ggml_half d; ggml_half dmin; }
 * 16 sub-blocks of 16: scales[s] has the scale in its low nibble and the min
 * in its high nibble. Each 128-element half uses 32 bytes of qs; its four
 * 32-element quarters take bits (0,1), (2,3), (4,5), (6,7) of those bytes.
 * y = (d*sc) * q - (dmin*m). */
static void
dequant_q2_K (const guint8 *b, double *y)
{
  const guint8 *scales = b, *q = b + 16;
  double d = read_half (b + 80), dmin = read_half (b + 82);
  int is = 0;

  for (int n = 0; n < QK_K; n += 128)
    {
      for (int shift = 0; shift < 8; shift += 2)
        for (int half = 0; half < 2; half++)
          {
            guint8 sc = scales[is++];
            double dl = f32 (d * (sc & 0x0f)), ml = f32 (dmin * (sc >> 4));

            for (int l = 0; l < 16; l++)
              *y++ = f32 (f32 (dl * ((q[16 * half + l] >> shift) & 3)) - ml);
          }
      q += 32;
    }
}

/* block_q3_K { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; ggml_half d; }
 * Low two bits as in q2_K; hmask[l] bit i is the high bit of element
 * 32*i + l, and a *clear* bit subtracts 4 (values -4..3). The 16 6-bit
 * scales (offset 32) pack as: low nibble of scale j in scales[j] (j < 8) or
 * the high nibble of scales[j-8]; top two bits in bits 2*(j/4) of
 * scales[8 + j%4] (see ggml's quantize_row_q3_K_ref). y = (d*(sc-32)) * q. */
static void
dequant_q3_K (const guint8 *b, double *y)
{
  const guint8 *hm = b, *q = b + 32, *packed = b + 96;
  double d = read_half (b + 108);
  int scales[16];
  int is = 0;
  guint8 m = 1;

  for (int j = 0; j < 16; j++)
    scales[j] = ane_quant_q3_K_scale (packed, j);
  for (int n = 0; n < QK_K; n += 128)
    {
      for (int shift = 0; shift < 8; shift += 2)
        {
          for (int half = 0; half < 2; half++)
            {
              double dl = f32 (d * scales[is++]);

              for (int l = 16 * half; l < 16 * half + 16; l++)
                *y++ = f32 (dl * (((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4)));
            }
          m <<= 1;
        }
      q += 32;
    }
}

/* ggml's get_scale_min_k4: the 8 6-bit scales and mins of q4_K / q5_K in
 * 12 bytes. j < 4: scale = q[j] & 63, min = q[j+4] & 63; otherwise the low
 * four bits come from q[j+4] (scale: low nibble, min: high nibble) and the
 * top two bits from bits 6-7 of q[j-4] (scale) and q[j] (min). */
void
ane_q4_K_scale_min (int           j,
                    const guint8 *q,
                    int          *sc,
                    int          *mn)
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

/* block_q4_K { ggml_half d; ggml_half dmin; uint8_t scales[12]; uint8_t qs[128]; }
 * 8 sub-blocks of 32: each 64 elements use 32 bytes of qs, low nibbles
 * first. y = (d*sc) * q - (dmin*m). */
static void
dequant_q4_K (const guint8 *b, double *y)
{
  double d = read_half (b), dmin = read_half (b + 2);
  const guint8 *scales = b + 4, *q = b + 16;

  for (int is = 0; is < 8; is += 2)
    {
      int sc, mn;
      double d1, m1, d2, m2;

      ane_q4_K_scale_min (is, scales, &sc, &mn);
      d1 = f32 (d * sc);
      m1 = f32 (dmin * mn);
      ane_q4_K_scale_min (is + 1, scales, &sc, &mn);
      d2 = f32 (d * sc);
      m2 = f32 (dmin * mn);
      for (int l = 0; l < 32; l++)
        *y++ = f32 (f32 (d1 * (q[l] & 0x0f)) - m1);
      for (int l = 0; l < 32; l++)
        *y++ = f32 (f32 (d2 * (q[l] >> 4)) - m2);
      q += 32;
    }
}

/* block_q5_K { ggml_half d; ggml_half dmin; uint8_t scales[12]; uint8_t qh[32];
 * uint8_t qs[128]; }: as q4_K, plus qh[l] bit i adding 16 to element
 * 32*i + l. */
static void
dequant_q5_K (const guint8 *b, double *y)
{
  double d = read_half (b), dmin = read_half (b + 2);
  const guint8 *scales = b + 4, *qh = b + 16, *ql = b + 48;
  guint8 u1 = 1, u2 = 2;

  for (int is = 0; is < 8; is += 2)
    {
      int sc, mn;
      double d1, m1, d2, m2;

      ane_q4_K_scale_min (is, scales, &sc, &mn);
      d1 = f32 (d * sc);
      m1 = f32 (dmin * mn);
      ane_q4_K_scale_min (is + 1, scales, &sc, &mn);
      d2 = f32 (d * sc);
      m2 = f32 (dmin * mn);
      for (int l = 0; l < 32; l++)
        *y++ = f32 (f32 (d1 * ((ql[l] & 0x0f) + ((qh[l] & u1) ? 16 : 0))) - m1);
      for (int l = 0; l < 32; l++)
        *y++ = f32 (f32 (d2 * ((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0))) - m2);
      ql += 32;
      u1 <<= 2;
      u2 <<= 2;
    }
}

/* block_q6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; ggml_half d; }
 * Per 128 elements: 64 bytes of ql and 32 of qh. Element 32*k + l of them
 * (quarter k < 4, l < 32) has its low four bits in ql[l] (k = 0, 2) or
 * ql[l + 32] (k = 1, 3), low nibble for k < 2 and high nibble otherwise, and
 * its top two bits in bits 2k, 2k+1 of qh[l]; offset 32. y = (d*scale) * q
 * with the signed 8-bit scale of its 16 elements. */
static void
dequant_q6_K (const guint8 *b, double *y)
{
  const guint8 *ql = b, *qh = b + 128;
  const gint8 *sc = (const gint8 *) (b + 192);
  double d = read_half (b + 208);

  for (int n = 0; n < QK_K; n += 128)
    {
      for (int l = 0; l < 32; l++)
        {
          int is = l / 16;
          int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
          int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
          int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
          int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;

          y[l] = f32 (f32 (d * sc[is]) * q1);
          y[l + 32] = f32 (f32 (d * sc[is + 2]) * q2);
          y[l + 64] = f32 (f32 (d * sc[is + 4]) * q3);
          y[l + 96] = f32 (f32 (d * sc[is + 6]) * q4);
        }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
}

/* block_q8_K { float d; int8_t qs[256]; int16_t bsums[16]; }: y = d * q
 * (d is a full float here; bsums only serve ggml's dot products). */
static void
dequant_q8_K (const guint8 *b, double *y)
{
  double d = read_float (b);

  for (int j = 0; j < QK_K; j++)
    y[j] = f32 (d * (gint8) b[4 + j]);
}

typedef void (*BlockFunc) (const guint8 *block, double *out);

static BlockFunc
block_func (AneDType dtype)
{
#define DEQUANT_CASE(T, s) case ANE_DTYPE_##T: return dequant_##s;
  switch (dtype)
    {
    ANE_QUANT_EACH_BLOCK_TYPE (DEQUANT_CASE)
    default:             return NULL;
    }
#undef DEQUANT_CASE
}

static gboolean
unsupported (AneDType   dtype,
             GError   **error)
{
  g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
               "dequantization of %s blocks is not available in the reference evaluator",
               ane_dtype_to_string (dtype));
  return FALSE;
}

static gboolean
check_size (AneDType   dtype,
            gsize      n_bytes,
            gsize      n_elements,
            GError   **error)
{
  guint bs = ane_dtype_block_size (dtype), bb = ane_dtype_block_bytes (dtype);

  if (n_elements % bs != 0 || n_bytes / bb < n_elements / bs)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "%" G_GSIZE_FORMAT " %s elements need %" G_GSIZE_FORMAT " bytes of blocks, have %" G_GSIZE_FORMAT,
                   n_elements, ane_dtype_to_string (dtype), (n_elements / bs) * bb, n_bytes);
      return FALSE;
    }
  return TRUE;
}

gboolean
ane_dequant_blocks (AneDType      dtype,
                    const guint8 *blocks,
                    gsize         n_bytes,
                    gsize         n_elements,
                    double       *out,
                    GError      **error)
{
  BlockFunc func = block_func (dtype);
  guint bs, bb;
  gsize n_blocks;

  if (func == NULL)
    return unsupported (dtype, error);
  if (!check_size (dtype, n_bytes, n_elements, error))
    return FALSE;
  bs = ane_dtype_block_size (dtype);
  bb = ane_dtype_block_bytes (dtype);
  n_blocks = n_elements / bs;
  for (gsize i = 0; i < n_blocks; i++)
    func (blocks + i * bb, out + i * bs);
  return TRUE;
}

/* --- float output, written for speed -------------------------------------
 *
 * The same formulas in float, one block per call of an always-inlined
 * function, driven by one loop per type (so the type dispatch happens once
 * per call, not once per block). ggml performs each operation in float, so
 * computing them in float here gives its bits directly; ane_dequant_blocks's
 * doubles are exactly these floats (tests/test-dequant.c checks every type).
 * FMA contraction cannot change a result: every product that is added to
 * something is exact in float (see the top of this file).
 *
 * The inner loops run over contiguous bytes with constant trip counts and no
 * branches (bit selections are arithmetic), so gcc vectorizes them; on
 * x86-64 the drivers are also cloned for AVX2 and picked at load time.
 * These are the portable rows: where the CPU has AVX2 and F16C,
 * ane_dequant_blocks_f32 uses ane-quant-avx2.c's hand-vectorized rows
 * instead (same bits; see row_func below). */

#if defined(__GNUC__) && !defined(__clang__)
# define DEQ_OPT __attribute__((optimize ("O3")))
#else
# define DEQ_OPT
#endif
/* target_clones makes an ifunc whose resolver runs while the dynamic
 * loader relocates the library, before a ThreadSanitizer runtime is set up:
 * a -fsanitize=thread build then crashes at start-up. Sanitizer builds are
 * not about speed, so they get the default clone only. gcc says
 * __SANITIZE_THREAD__, clang __has_feature (thread_sanitizer). */
#if defined(__SANITIZE_THREAD__)
# define ANE_QUANT_TSAN 1
#elif defined(__has_feature)
# if __has_feature(thread_sanitizer)
#  define ANE_QUANT_TSAN 1
# endif
#endif
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__) && defined(__linux__) && \
    !defined(ANE_QUANT_TSAN)
# define DEQ_CLONES __attribute__((target_clones ("avx2", "default")))
#else
# define DEQ_CLONES
#endif
#define DEQ_INLINE static inline __attribute__((always_inline))

/* ane_half_to_float (ane-types.c), inlined: a call per 32-element block
 * cost Q8_0 a fifth of its speed against ggml, whose GGML_FP16_TO_FP32
 * (ggml/src/ggml-impl.h) is inline. Same bits for every half. */
DEQ_INLINE float
half_f (const guint8 *p)
{
  guint16 h;
  guint32 sign, exp, mant, x;
  float f;

  memcpy (&h, p, 2);
  h = GUINT16_FROM_LE (h);
  sign = ((guint32) h & 0x8000u) << 16;
  exp = (h >> 10) & 0x1fu;
  mant = h & 0x3ffu;
  if (G_UNLIKELY (exp == 0))
    {
      f = (float) mant * 0x1p-24f;   /* zero or subnormal, exact */
      return sign ? -f : f;
    }
  x = sign | (exp == 31 ? 0x7f800000u | (mant << 13) : ((exp + 112) << 23) | (mant << 13));
  memcpy (&f, &x, sizeof f);
  return f;
}

DEQ_INLINE void
q8_0_f (const guint8 *restrict b, float *restrict y)
{
  const float d = half_f (b);
  const gint8 *restrict qs = (const gint8 *) (b + 2);

  for (int j = 0; j < 32; j++)
    y[j] = qs[j] * d;
}

DEQ_INLINE void
q4_0_f (const guint8 *restrict b, float *restrict y)
{
  const float d = half_f (b);
  const guint8 *restrict qs = b + 2;

  for (int j = 0; j < 16; j++)
    y[j] = ((qs[j] & 0x0f) - 8) * d;
  for (int j = 0; j < 16; j++)
    y[j + 16] = ((qs[j] >> 4) - 8) * d;
}

DEQ_INLINE void
q4_1_f (const guint8 *restrict b, float *restrict y)
{
  const float d = half_f (b), m = half_f (b + 2);
  const guint8 *restrict qs = b + 4;

  for (int j = 0; j < 16; j++)
    y[j] = (qs[j] & 0x0f) * d + m;
  for (int j = 0; j < 16; j++)
    y[j + 16] = (qs[j] >> 4) * d + m;
}

/* The fifth bits of a q5 block, one byte per element (0 or 16). */
DEQ_INLINE void
q5_high (const guint8 *p, guint8 *restrict hb)
{
  guint32 qh;

  memcpy (&qh, p, 4);
  qh = GUINT32_FROM_LE (qh);
  for (int j = 0; j < 32; j++)
    hb[j] = (guint8) (((qh >> j) & 1) << 4);
}

DEQ_INLINE void
q5_0_f (const guint8 *restrict b, float *restrict y)
{
  const float d = half_f (b);
  const guint8 *restrict qs = b + 6;
  guint8 hb[32];

  q5_high (b + 2, hb);
  for (int j = 0; j < 16; j++)
    y[j] = (((qs[j] & 0x0f) | hb[j]) - 16) * d;
  for (int j = 0; j < 16; j++)
    y[j + 16] = (((qs[j] >> 4) | hb[j + 16]) - 16) * d;
}

DEQ_INLINE void
q5_1_f (const guint8 *restrict b, float *restrict y)
{
  const float d = half_f (b), m = half_f (b + 2);
  const guint8 *restrict qs = b + 8;
  guint8 hb[32];

  q5_high (b + 4, hb);
  for (int j = 0; j < 16; j++)
    y[j] = ((qs[j] & 0x0f) | hb[j]) * d + m;
  for (int j = 0; j < 16; j++)
    y[j + 16] = ((qs[j] >> 4) | hb[j + 16]) * d + m;
}

DEQ_INLINE void
q2_K_f (const guint8 *restrict b, float *restrict y)
{
  const guint8 *restrict scales = b;
  const guint8 *restrict q = b + 16;
  const float d = half_f (b + 80), dmin = half_f (b + 82);
  int is = 0;

  for (int n = 0; n < QK_K; n += 128)
    {
      for (int shift = 0; shift < 8; shift += 2)
        for (int half = 0; half < 2; half++)
          {
            const guint8 sc = scales[is++];
            const float dl = d * (sc & 0x0f), ml = dmin * (sc >> 4);
            const guint8 *restrict qq = q + 16 * half;

            for (int l = 0; l < 16; l++)
              y[l] = dl * ((qq[l] >> shift) & 3) - ml;
            y += 16;
          }
      q += 32;
    }
}

DEQ_INLINE void
q3_K_f (const guint8 *restrict b, float *restrict y)
{
  const guint8 *restrict hm = b;
  const guint8 *restrict q = b + 32;
  const guint8 *restrict packed = b + 96;
  const float d = half_f (b + 108);
  float dl[16];
  int is = 0, bit = 0;

  for (int j = 0; j < 16; j++)
    dl[j] = d * ane_quant_q3_K_scale (packed, j);
  for (int n = 0; n < QK_K; n += 128)
    {
      for (int shift = 0; shift < 8; shift += 2)
        {
          for (int half = 0; half < 2; half++)
            {
              const float s = dl[is++];
              const guint8 *restrict qq = q + 16 * half;
              const guint8 *restrict hh = hm + 16 * half;

              /* A clear high bit subtracts 4. */
              for (int l = 0; l < 16; l++)
                y[l] = s * (((qq[l] >> shift) & 3) - ((((hh[l] >> bit) & 1) ^ 1) << 2));
              y += 16;
            }
          bit++;
        }
      q += 32;
    }
}

/* d * scale and dmin * min of the 8 sub-blocks of q4_K / q5_K. */
DEQ_INLINE void
k4_scales (const guint8 *b, float *restrict dl, float *restrict ml)
{
  const float d = half_f (b), dmin = half_f (b + 2);

  for (int j = 0; j < 8; j++)
    {
      int sc, mn;

      ane_q4_K_scale_min (j, b + 4, &sc, &mn);
      dl[j] = d * sc;
      ml[j] = dmin * mn;
    }
}

DEQ_INLINE void
q4_K_f (const guint8 *restrict b, float *restrict y)
{
  const guint8 *restrict q = b + 16;
  float dl[8], ml[8];

  k4_scales (b, dl, ml);
  for (int is = 0; is < 8; is += 2)
    {
      const float d1 = dl[is], m1 = ml[is], d2 = dl[is + 1], m2 = ml[is + 1];

      for (int l = 0; l < 32; l++)
        y[l] = d1 * (q[l] & 0x0f) - m1;
      for (int l = 0; l < 32; l++)
        y[l + 32] = d2 * (q[l] >> 4) - m2;
      y += 64;
      q += 32;
    }
}

DEQ_INLINE void
q5_K_f (const guint8 *restrict b, float *restrict y)
{
  const guint8 *restrict qh = b + 16;
  const guint8 *restrict ql = b + 48;
  float dl[8], ml[8];

  k4_scales (b, dl, ml);
  for (int is = 0; is < 8; is += 2)
    {
      const float d1 = dl[is], m1 = ml[is], d2 = dl[is + 1], m2 = ml[is + 1];

      for (int l = 0; l < 32; l++)
        y[l] = d1 * ((ql[l] & 0x0f) | (((qh[l] >> is) & 1) << 4)) - m1;
      for (int l = 0; l < 32; l++)
        y[l + 32] = d2 * ((ql[l] >> 4) | (((qh[l] >> (is + 1)) & 1) << 4)) - m2;
      y += 64;
      ql += 32;
    }
}

DEQ_INLINE void
q6_K_f (const guint8 *restrict b, float *restrict y)
{
  const guint8 *restrict ql = b;
  const guint8 *restrict qh = b + 128;
  const gint8 *restrict sc = (const gint8 *) (b + 192);
  const float d = half_f (b + 208);
  float ds[16];

  for (int j = 0; j < 16; j++)
    ds[j] = d * sc[j];
  for (int n = 0; n < 2; n++)
    {
      const float *s = ds + 8 * n;

      for (int h = 0; h < 2; h++)
        {
          const float s1 = s[h], s2 = s[h + 2], s3 = s[h + 4], s4 = s[h + 6];

          for (int l = 16 * h; l < 16 * h + 16; l++)
            {
              y[l] = s1 * (((ql[l] & 0x0f) | ((qh[l] & 3) << 4)) - 32);
              y[l + 32] = s2 * (((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32);
              y[l + 64] = s3 * (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
              y[l + 96] = s4 * (((ql[l + 32] >> 4) | ((qh[l] >> 6) << 4)) - 32);
            }
        }
      y += 128;
      ql += 64;
      qh += 32;
    }
}

DEQ_INLINE void
q8_K_f (const guint8 *restrict b, float *restrict y)
{
  guint32 u;
  float d;
  const gint8 *restrict qs = (const gint8 *) (b + 4);

  memcpy (&u, b, 4);
  u = GUINT32_FROM_LE (u);
  memcpy (&d, &u, 4);
  for (int j = 0; j < QK_K; j++)
    y[j] = d * qs[j];
}

typedef AneDequantRowFunc RowFunc;

#define DEQ_ROW(name, bs, bb)                                            \
  DEQ_OPT DEQ_CLONES static void                                        \
  row_##name (const guint8 *blocks, gsize n_blocks, float *out)         \
  {                                                                     \
    for (gsize i = 0; i < n_blocks; i++)                                \
      name##_f (blocks + i * (bb), out + i * (bs));                     \
  }

DEQ_ROW (q8_0, 32, 34)
DEQ_ROW (q4_0, 32, 18)
DEQ_ROW (q4_1, 32, 20)
DEQ_ROW (q5_0, 32, 22)
DEQ_ROW (q5_1, 32, 24)
DEQ_ROW (q2_K, QK_K, 84)
DEQ_ROW (q3_K, QK_K, 110)
DEQ_ROW (q4_K, QK_K, 144)
DEQ_ROW (q5_K, QK_K, 176)
DEQ_ROW (q6_K, QK_K, 210)
DEQ_ROW (q8_K, QK_K, 292)

static RowFunc
portable_row_func (AneDType dtype)
{
#define ROW_CASE(T, s) case ANE_DTYPE_##T: return row_##s;
  switch (dtype)
    {
    ANE_QUANT_EACH_BLOCK_TYPE (ROW_CASE)
    default:             return NULL;
    }
#undef ROW_CASE
}

/* --- choice between the portable rows and ane-quant-avx2.c's ------------- */

static gboolean force_portable;

gboolean
ane_dequant_force_portable (gboolean portable)
{
  gboolean was = force_portable;

  force_portable = portable;
  return was;
}

/* AVX2 (the builtin also checks that the OS saves the ymm registers) and
 * F16C (CPUID leaf 1, ECX bit 29: clang's __builtin_cpu_supports does not
 * know "f16c"). */
static gboolean
cpu_has_avx2_f16c (void)
{
#ifdef QUANT_X86_DISPATCH
  static gsize once;
  static gboolean has;

  if (g_once_init_enter (&once))
    {
      unsigned int a, b, c, d;

      __builtin_cpu_init ();
      has = __builtin_cpu_supports ("avx2") && __get_cpuid (1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
      g_once_init_leave (&once, 1);
    }
  return has;
#else
  return FALSE;
#endif
}

static RowFunc
simd_row_func (AneDType dtype)
{
#ifdef QUANT_X86_DISPATCH
  if (!force_portable && cpu_has_avx2_f16c ())
    return ane_dequant_row_avx2 (dtype);
#endif
  return NULL;
}

gboolean
ane_dequant_uses_simd (AneDType dtype)
{
  return simd_row_func (dtype) != NULL;
}

static RowFunc
row_func (AneDType dtype)
{
  RowFunc simd = simd_row_func (dtype);

  return simd != NULL ? simd : portable_row_func (dtype);
}

gboolean
ane_dequant_blocks_f32 (AneDType      dtype,
                        const guint8 *blocks,
                        gsize         n_bytes,
                        gsize         n_elements,
                        float        *out,
                        GError      **error)
{
  RowFunc func = row_func (dtype);

  if (func == NULL)
    return unsupported (dtype, error);
  if (!check_size (dtype, n_bytes, n_elements, error))
    return FALSE;
  func (blocks, n_elements / ane_dtype_block_size (dtype), out);
  return TRUE;
}

/* --- quantization ----------------------------------------------------------- */

static void
put_half (guint8 *p,
          float   v)
{
  guint16 h = ane_float_to_half (v);

  p[0] = h & 0xff;
  p[1] = h >> 8;
}

/* ggml's quantize_row_q8_0_ref: per 32 values d = max|x| / 127, stored as
 * fp16, q = round (x / d). */
static void
quant_q8_0 (const float *v,
            guint8      *blk)
{
  float amax = 0.0f, d, id;

  for (guint i = 0; i < 32; i++)
    amax = MAX (amax, fabsf (v[i]));
  d = amax / 127.0f;
  id = d != 0.0f ? 1.0f / d : 0.0f;
  put_half (blk, d);
  for (guint i = 0; i < 32; i++)
    blk[2 + i] = (guint8) (gint8) lrintf (v[i] * id);
}

/* ggml's quantize_row_q4_0_ref (ggml/src/ggml-quants.c): d = (the value of
 * largest magnitude, with its sign) / -8, so that value maps to q = 0 and
 * the others to min (15, (int8) (x / d + 8.5)); element j in the low nibble
 * of byte j, element j + 16 in its high nibble. */
static void
quant_q4_0 (const float *v,
            guint8      *blk)
{
  float amax = 0.0f, max = 0.0f, d, id;

  for (guint i = 0; i < 32; i++)
    if (amax < fabsf (v[i]))
      {
        amax = fabsf (v[i]);
        max = v[i];
      }
  d = max / -8.0f;
  id = d != 0.0f ? 1.0f / d : 0.0f;
  put_half (blk, d);
  for (guint j = 0; j < 16; j++)
    {
      guint8 lo = MIN (15, (gint8) (v[j] * id + 8.5f));
      guint8 hi = MIN (15, (gint8) (v[j + 16] * id + 8.5f));

      blk[2 + j] = lo | (guint8) (hi << 4);
    }
}

/* Q4_K, block_q4_K { d, dmin, scales[12], qs[128] }: 8 sub-blocks of 32,
 * y = d·sc·q − dmin·m with 6-bit sc and m. Each sub-block's range
 * [min (0, lo), hi] is split in 15 steps; d and dmin are the largest step
 * and offset over 63. This is the plain min/max fit, not ggml's
 * make_qkx2_quants search (which tries several scales per sub-block to
 * lower the error): the blocks are valid Q4_K, their error somewhat larger.
 * The 6-bit values are packed as ggml's get_scale_min_k4 reads them (see
 * scale_min_k4 above): j < 4 in the low six bits of scales[j] (sc) and
 * scales[j + 4] (m); j ≥ 4 in the nibbles of scales[j + 4], their top two
 * bits in bits 6-7 of scales[j − 4] (sc) and scales[j] (m). */
static void
quant_q4_K (const float *v,
            guint8      *blk)
{
  float step[8], off[8], max_step = 0.0f, max_off = 0.0f, d, dmin;
  int sc[8], mn[8];
  guint8 *scales = blk + 4, *qs = blk + 16;

  for (int j = 0; j < 8; j++)
    {
      float lo = 0.0f, hi = -G_MAXFLOAT;

      for (int i = 0; i < 32; i++)
        {
          lo = MIN (lo, v[32 * j + i]);
          hi = MAX (hi, v[32 * j + i]);
        }
      step[j] = (hi - lo) / 15.0f;
      off[j] = -lo;
      max_step = MAX (max_step, step[j]);
      max_off = MAX (max_off, off[j]);
    }
  d = max_step / 63.0f;
  dmin = max_off / 63.0f;
  put_half (blk, d);
  put_half (blk + 2, dmin);
  /* what the decoder will multiply by: the stored fp16 values */
  d = ane_half_to_float (ane_float_to_half (d));
  dmin = ane_half_to_float (ane_float_to_half (dmin));
  for (int j = 0; j < 8; j++)
    {
      sc[j] = d > 0.0f ? MIN (63, (int) lrintf (step[j] / d)) : 0;
      mn[j] = dmin > 0.0f ? MIN (63, (int) lrintf (off[j] / dmin)) : 0;
    }
  memset (scales, 0, 12);
  for (int j = 0; j < 4; j++)
    {
      scales[j] = (guint8) (sc[j] | ((sc[j + 4] >> 4) << 6));
      scales[j + 4] = (guint8) (mn[j] | ((mn[j + 4] >> 4) << 6));
      scales[j + 8] = (guint8) ((sc[j + 4] & 0x0f) | ((mn[j + 4] & 0x0f) << 4));
    }
  for (int j = 0; j < 8; j += 2)
    for (int i = 0; i < 32; i++)
      {
        guint8 q[2];

        for (int k = 0; k < 2; k++)
          {
            float scale = d * (float) sc[j + k], m = dmin * (float) mn[j + k];
            int l = scale > 0.0f ? (int) lrintf ((v[32 * (j + k) + i] + m) / scale) : 0;

            q[k] = (guint8) CLAMP (l, 0, 15);
          }
        qs[16 * j + i] = q[0] | (guint8) (q[1] << 4);
      }
}

gboolean
ane_quant_blocks_f32 (AneDType      dtype,
                      const float  *x,
                      gsize         n_elements,
                      guint8       *out,
                      GError      **error)
{
  void (*func) (const float *, guint8 *);
  guint block, bytes;

  switch ((int) dtype)
    {
    case ANE_DTYPE_Q8_0: func = quant_q8_0; break;
    case ANE_DTYPE_Q4_0: func = quant_q4_0; break;
    case ANE_DTYPE_Q4_K: func = quant_q4_K; break;
    default:
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "quantizing to %s is not done "
                   "(Q8_0, Q4_0 and Q4_K are)", ane_dtype_to_string (dtype));
      return FALSE;
    }
  block = ane_dtype_block_size (dtype);
  bytes = ane_dtype_block_bytes (dtype);
  if (n_elements % block != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "%" G_GSIZE_FORMAT " values are not a whole "
                   "number of %s blocks of %u", n_elements, ane_dtype_to_string (dtype), block);
      return FALSE;
    }
  for (gsize b = 0; b < n_elements / block; b++)
    func (x + b * block, out + b * bytes);
  return TRUE;
}
