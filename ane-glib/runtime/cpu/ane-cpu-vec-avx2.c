/* runtime/cpu/ane-cpu-vec-avx2.c: the compressed-weight kernels for x86-64
 * with AVX2, FMA and F16C (compiled with -mavx2 -mfma -mf16c; called only
 * when the CPU has them: ane-cpu-vec.c, have_avx2)
 *
 * A row of weights is dequantized 8 at a time into registers (int8:
 * vpmovsxbd + vcvtdq2ps; int4 / uint4: two nibble masks as in ggml's
 * bytes_from_nibbles_32, ggml/src/ggml-cpu/arch/x86/quants.c; fp16:
 * vcvtph2ps), scaled (w = s · (q − o), the float operations of the portable
 * kernel, so the weights are bit-identical), rounded to fp16 when the op's
 * output is fp16 (vcvtps2ph, round to nearest even, as ane_float_to_half),
 * and then multiplied with the float activations by FMAs into four
 * accumulators (column chunk c into accumulator c mod 4) in a fixed order.
 * One activation row uses the registers directly; several (prefill) share
 * one dequantized copy of the weight row in an L1-sized buffer.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <immintrin.h>
#include <string.h>

#include "runtime/cpu/ane-cpu-vec-private.h"

/* 8 int8 weights from q as floats. */
static inline __m256
load_i8 (const guint8 *q)
{
  return _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (_mm_loadl_epi64 ((const __m128i *) q)));
}

/* The 32 weights of an int4 group (uint4 when is_unsigned) as four vectors
 * of 8 floats. */
static inline __attribute__ ((always_inline)) void
load_4bit_group (const guint8 *q,
                 __m256       *w,
                 gboolean      is_unsigned)
{
  __m128i bytes = _mm_loadu_si128 ((const __m128i *) q);
  __m128i mask = _mm_set1_epi8 (15), eight = _mm_set1_epi8 (8);
  /* low nibbles are weights 0..15, high nibbles 16..31 */
  __m128i lo = _mm_and_si128 (bytes, mask);
  __m128i hi = _mm_and_si128 (_mm_srli_epi16 (bytes, 4), mask);

  if (!is_unsigned)
    {
      /* (n ^ 8) − 8 sign-extends; uint4 (GGUF Q4_K's q) stays 0..15 */
      lo = _mm_sub_epi8 (_mm_xor_si128 (lo, eight), eight);
      hi = _mm_sub_epi8 (_mm_xor_si128 (hi, eight), eight);
    }
  w[0] = _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (lo));
  w[1] = _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (_mm_srli_si128 (lo, 8)));
  w[2] = _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (hi));
  w[3] = _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (_mm_srli_si128 (hi, 8)));
}

static inline gboolean
is_4bit (AneCpuPackedKind kind)
{
  return kind == ANE_CPU_PACKED_INT4 || kind == ANE_CPU_PACKED_UINT4;
}

static inline __m256
round_half (__m256 v)
{
  return _mm256_cvtph_ps (_mm256_cvtps_ph (v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* The scales (and offsets) of one row, walked chunk by chunk: the block's
 * scale stays in a register for its block / 8 chunks, so no chunk pays a
 * division to find its block (a div per 8 weights cost more than the
 * multiply-adds). Every block is whole chunks (ane_cpu_packed_avx2_fits). */
typedef struct {
  const float *scale, *offset;
  gsize per_block, left;
  __m256 s, o;
  gboolean round_fp16;
} Scales;

static inline void
scales_init (Scales             *it,
             const AneCpuPacked *p,
             gsize               r)
{
  it->scale = p->scale ? p->scale + (r / p->row_group) * p->n_blocks : NULL;
  it->offset = p->offset ? p->offset + (r / p->row_group) * p->n_blocks : NULL;
  it->per_block = p->block / 8;
  it->left = it->per_block;
  it->round_fp16 = p->round_fp16;
  it->s = it->o = _mm256_setzero_ps ();
  if (it->scale)
    it->s = _mm256_broadcast_ss (it->scale);
  if (it->offset)
    it->o = _mm256_broadcast_ss (it->offset);
}

/* The next chunk's raw values v as weights: s · (v − o), rounded to fp16
 * when the constexpr op's output is fp16 (the portable kernel's float
 * operations, so the weights are bit-identical). */
static inline __m256
scales_next (Scales *it,
             __m256  v)
{
  if (it->left == 0)
    {
      it->scale++;
      it->s = _mm256_broadcast_ss (it->scale);
      if (it->offset)
        it->o = _mm256_broadcast_ss (++it->offset);
      it->left = it->per_block;
    }
  it->left--;
  if (it->offset)
    v = _mm256_sub_ps (v, it->o);
  v = _mm256_mul_ps (it->s, v);
  return it->round_fp16 ? round_half (v) : v;
}

/* Row r dequantized into w[cols] (identical to the portable one). */
static void
dequantize_row (const AneCpuPacked *p,
                gsize               r,
                float              *w)
{
  const guint8 *row = p->q + r * p->row_bytes;
  gsize full = p->cols / 8, c = 0;
  Scales it;

  scales_init (&it, p, r);
  switch (p->kind)
    {
    case ANE_CPU_PACKED_FP16:
      for (; c < full; c++)
        _mm256_storeu_ps (w + 8 * c, _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (row + 16 * c))));
      break;
    case ANE_CPU_PACKED_INT8:
      for (; c < full; c++)
        _mm256_storeu_ps (w + 8 * c, scales_next (&it, load_i8 (row + 8 * c)));
      break;
    case ANE_CPU_PACKED_INT4:
    case ANE_CPU_PACKED_UINT4:
      for (; c + 4 <= full; c += 4)
        {
          __m256 v[4];

          load_4bit_group (row + c / 4 * 16, v, p->kind == ANE_CPU_PACKED_UINT4);
          for (gsize k = 0; k < 4; k++)
            _mm256_storeu_ps (w + 8 * (c + k), scales_next (&it, v[k]));
        }
      break;
    default:
      g_assert_not_reached ();
    }
  if (c * 8 < p->cols)
    {
      /* a last partial chunk or int4 group (rare): the portable
       * dequantizer's values, which are these kernels' */
      g_autofree float *all = g_new (float, p->cols);

      ane_cpu_packed_dequantize_row (p, r, all);
      memcpy (w + c * 8, all + c * 8, (p->cols - c * 8) * sizeof (float));
    }
}

static inline float
hsum (__m256 a0, __m256 a1, __m256 a2, __m256 a3)
{
  __m256 s = _mm256_add_ps (_mm256_add_ps (a0, a1), _mm256_add_ps (a2, a3));
  __m128 h = _mm_add_ps (_mm256_castps256_ps128 (s), _mm256_extractf128_ps (s, 1));

  h = _mm_add_ps (h, _mm_movehl_ps (h, h));
  h = _mm_add_ss (h, _mm_movehdup_ps (h));
  return _mm_cvtss_f32 (h);
}

/* Σ w·x over n columns: chunk c into accumulator c mod 4, the tail (n mod 8)
 * in order after. */
static float
dot (const float *w,
     const float *x,
     gsize        n)
{
  __m256 acc[4] = { _mm256_setzero_ps (), _mm256_setzero_ps (), _mm256_setzero_ps (), _mm256_setzero_ps () };
  gsize full = n / 8, c = 0;
  float tail = 0.0f;

  for (; c + 4 <= full; c += 4)
    for (gsize k = 0; k < 4; k++)
      acc[k] = _mm256_fmadd_ps (_mm256_loadu_ps (w + 8 * (c + k)), _mm256_loadu_ps (x + 8 * (c + k)), acc[k]);
  for (; c < full; c++)
    acc[c % 4] = _mm256_fmadd_ps (_mm256_loadu_ps (w + 8 * c), _mm256_loadu_ps (x + 8 * c), acc[c % 4]);
  for (gsize i = full * 8; i < n; i++)
    tail += w[i] * x[i];
  return hsum (acc[0], acc[1], acc[2], acc[3]) + tail;
}

/* scales_next with the offset and the rounding known when compiled (the
 * row_dot specializations). */
static inline __attribute__ ((always_inline)) __m256
weight (Scales   *it,
        __m256    v,
        gboolean  has_offset,
        gboolean  round16)
{
  if (it->left == 0)
    {
      it->scale++;
      it->s = _mm256_broadcast_ss (it->scale);
      if (has_offset)
        it->o = _mm256_broadcast_ss (++it->offset);
      it->left = it->per_block;
    }
  it->left--;
  if (has_offset)
    v = _mm256_sub_ps (v, it->o);
  v = _mm256_mul_ps (it->s, v);
  return round16 ? round_half (v) : v;
}

/* Chunk c's weights (columns 8c .. 8c+7) of an INT8 or FP16 row. */
static inline __attribute__ ((always_inline)) __m256
chunk (const guint8     *row,
       gsize             c,
       AneCpuPackedKind  kind,
       Scales           *it,
       gboolean          has_offset,
       gboolean          round16)
{
  if (kind == ANE_CPU_PACKED_FP16)
    return _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (row + 16 * c)));
  return weight (it, load_i8 (row + 8 * c), has_offset, round16);
}

#define FMA_CHUNK(acc, w, c) ((acc) = _mm256_fmadd_ps ((w), _mm256_loadu_ps (x + 8 * (c)), (acc)))

/* One activation row: the weights never leave the registers, summed in the
 * order dot () sums them (chunk c into accumulator c mod 4). Unrolled by
 * four chunks so the four accumulators stay in registers: indexed by c % 4
 * they lived on the stack, and the store-to-load round trip per chunk made
 * the loop latency-bound at a third of the speed. Only for rows whose
 * columns are whole chunks of 8 (and whole groups of 32 for int4). */
/* How far ahead row_dot_kind prefetches: 4 rows (measured against 2 and 8
 * on the F16, Q8_0 and Q4_0 decode of bench-llm, noisy but best). */
#define PREFETCH_ROWS 4
static inline __attribute__ ((always_inline)) float
row_dot_kind (const AneCpuPacked *p,
              gsize               r,
              const float        *x,
              AneCpuPackedKind    kind,
              gboolean            has_offset,
              gboolean            round16)
{
  const guint8 *row = p->q + r * p->row_bytes;
  Scales it;
  __m256 a0 = _mm256_setzero_ps (), a1 = _mm256_setzero_ps (), a2 = _mm256_setzero_ps (), a3 = _mm256_setzero_ps ();
  gsize full = p->cols / 8, c = 0;

  scales_init (&it, p, r);
  /* the row PREFETCH_ROWS ahead, a cache line at a time, unless the rows
   * are in huge pages (AneCpuPacked.hot): in small pages the hardware
   * prefetcher alone left the F16 decode product latency-bound on this
   * project's VM (a prefetch past the last row is harmless) */
  for (gsize b = 0; !p->hot && b < p->row_bytes; b += 64)
    _mm_prefetch ((const char *) row + PREFETCH_ROWS * p->row_bytes + b, _MM_HINT_T0);
  if (is_4bit (kind))
    {
      for (; c < full; c += 4)
        {
          __m256 v[4];

          load_4bit_group (row + c / 4 * 16, v, kind == ANE_CPU_PACKED_UINT4);
          FMA_CHUNK (a0, weight (&it, v[0], has_offset, round16), c);
          FMA_CHUNK (a1, weight (&it, v[1], has_offset, round16), c + 1);
          FMA_CHUNK (a2, weight (&it, v[2], has_offset, round16), c + 2);
          FMA_CHUNK (a3, weight (&it, v[3], has_offset, round16), c + 3);
        }
      return hsum (a0, a1, a2, a3);
    }
  for (; c + 4 <= full; c += 4)
    {
      FMA_CHUNK (a0, chunk (row, c, kind, &it, has_offset, round16), c);
      FMA_CHUNK (a1, chunk (row, c + 1, kind, &it, has_offset, round16), c + 1);
      FMA_CHUNK (a2, chunk (row, c + 2, kind, &it, has_offset, round16), c + 2);
      FMA_CHUNK (a3, chunk (row, c + 3, kind, &it, has_offset, round16), c + 3);
    }
  /* the last one to three chunks, into accumulators 0, 1, 2 */
  if (c < full)
    FMA_CHUNK (a0, chunk (row, c, kind, &it, has_offset, round16), c);
  if (c + 1 < full)
    FMA_CHUNK (a1, chunk (row, c + 1, kind, &it, has_offset, round16), c + 1);
  if (c + 2 < full)
    FMA_CHUNK (a2, chunk (row, c + 2, kind, &it, has_offset, round16), c + 2);
  return hsum (a0, a1, a2, a3);
}

/* uint4 rows whose blocks are whole 32-weight groups (GGUF Q4_K as
 * lowered): the group's scale and offset broadcast once, no per-chunk
 * block bookkeeping, and the nibbles unpacked in dword lanes (vpmovzxbd of
 * 8 bytes, then a mask for the low nibbles and a shift for the high ones)
 * instead of byte unpacking and four vpmovsxbd. The same weights and the
 * same order as row_dot_kind (chunk c into accumulator c mod 4), so the
 * same bits. Measured on this project's VM (bench-packed --cached, one
 * thread, best of 40): 12 % faster than row_dot_kind for uint4; for int4
 * (its sign extension byte-wide in load_4bit_group, or in dword lanes)
 * 5 % slower, so int4 keeps row_dot_kind. */
static inline __attribute__ ((always_inline)) __m256
uint4_weights (__m256i  n,
               __m256   s,
               __m256   o,
               gboolean has_offset,
               gboolean round16)
{
  __m256 v = _mm256_cvtepi32_ps (n);

  if (has_offset)
    v = _mm256_sub_ps (v, o);
  v = _mm256_mul_ps (s, v);
  return round16 ? round_half (v) : v;
}

static inline __attribute__ ((always_inline)) float
row_dot_uint4_groups (const AneCpuPacked *p,
                      gsize               r,
                      const float        *x,
                      gboolean            has_offset,
                      gboolean            round16)
{
  const guint8 *row = p->q + r * p->row_bytes;
  const float *sc = p->scale + (r / p->row_group) * p->n_blocks;
  const float *of = has_offset ? p->offset + (r / p->row_group) * p->n_blocks : NULL;
  __m256 a0 = _mm256_setzero_ps (), a1 = _mm256_setzero_ps (), a2 = _mm256_setzero_ps (), a3 = _mm256_setzero_ps ();
  __m256i mask = _mm256_set1_epi32 (15);
  gsize groups = p->cols / 32, per_block = p->block / 32;

  for (gsize b = 0; !p->hot && b < p->row_bytes; b += 64)
    _mm_prefetch ((const char *) row + PREFETCH_ROWS * p->row_bytes + b, _MM_HINT_T0);
  for (gsize g = 0, blk = 0; g < groups; blk++)
    {
      __m256 s = _mm256_broadcast_ss (sc + blk);
      __m256 o = has_offset ? _mm256_broadcast_ss (of + blk) : _mm256_setzero_ps ();

      for (gsize j = 0; j < per_block; j++, g++)
        {
          const float *xg = x + 32 * g;
          __m256i i0 = _mm256_cvtepu8_epi32 (_mm_loadl_epi64 ((const __m128i *) (row + 16 * g)));
          __m256i i1 = _mm256_cvtepu8_epi32 (_mm_loadl_epi64 ((const __m128i *) (row + 16 * g + 8)));

          /* written out: a loop over an array of four vectors went to the stack */
          a0 = _mm256_fmadd_ps (uint4_weights (_mm256_and_si256 (i0, mask), s, o, has_offset, round16),
                                _mm256_loadu_ps (xg), a0);
          a1 = _mm256_fmadd_ps (uint4_weights (_mm256_and_si256 (i1, mask), s, o, has_offset, round16),
                                _mm256_loadu_ps (xg + 8), a1);
          a2 = _mm256_fmadd_ps (uint4_weights (_mm256_srli_epi32 (i0, 4), s, o, has_offset, round16),
                                _mm256_loadu_ps (xg + 16), a2);
          a3 = _mm256_fmadd_ps (uint4_weights (_mm256_srli_epi32 (i1, 4), s, o, has_offset, round16),
                                _mm256_loadu_ps (xg + 24), a3);
        }
    }
  return hsum (a0, a1, a2, a3);
}

#undef FMA_CHUNK

/* row_dot_kind compiled once per kind, offset or not, and rounding or not. */
#define ROW_DOT_UINT4_GROUPS                                                                                       \
  (off ? (r16 ? row_dot_uint4_groups (p, r, x, TRUE, TRUE) : row_dot_uint4_groups (p, r, x, TRUE, FALSE))           \
       : (r16 ? row_dot_uint4_groups (p, r, x, FALSE, TRUE) : row_dot_uint4_groups (p, r, x, FALSE, FALSE)))
#define ROW_DOT_VARIANTS(kind)                                                                           \
  (off ? (r16 ? row_dot_kind (p, r, x, kind, TRUE, TRUE) : row_dot_kind (p, r, x, kind, TRUE, FALSE))     \
       : (r16 ? row_dot_kind (p, r, x, kind, FALSE, TRUE) : row_dot_kind (p, r, x, kind, FALSE, FALSE)))
static float
row_dot (const AneCpuPacked *p,
         gsize               r,
         const float        *x)
{
  gboolean off = p->offset != NULL, r16 = p->round_fp16;

  switch (p->kind)
    {
    case ANE_CPU_PACKED_FP16:
      return row_dot_kind (p, r, x, ANE_CPU_PACKED_FP16, FALSE, FALSE);
    case ANE_CPU_PACKED_INT8:
      return ROW_DOT_VARIANTS (ANE_CPU_PACKED_INT8);
    case ANE_CPU_PACKED_INT4:
      return ROW_DOT_VARIANTS (ANE_CPU_PACKED_INT4);
    case ANE_CPU_PACKED_UINT4:
      if (p->block % 32 == 0)
        return ROW_DOT_UINT4_GROUPS;
      return ROW_DOT_VARIANTS (ANE_CPU_PACKED_UINT4);
    default:
      g_assert_not_reached ();
    }
}

#undef ROW_DOT_VARIANTS
#undef ROW_DOT_UINT4_GROUPS

void
ane_cpu_packed_dequantize_row_avx2 (const AneCpuPacked *p,
                                    gsize               r,
                                    float              *dst)
{
  dequantize_row (p, r, dst);
}

void
ane_cpu_packed_rows_avx2 (const AneCpuPacked *p,
                          gsize               r0,
                          gsize               r1,
                          const float        *x,
                          gsize               m,
                          float              *out)
{
  gboolean whole = p->cols % (is_4bit (p->kind) ? 32 : 8) == 0;

  ane_cpu_packed_rows_by (p, r0, r1, x, m, out, m == 1 && whole, row_dot, dequantize_row, dot);
}
