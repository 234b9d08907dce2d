/* runtime/cpu/ane-cpu-vec-blocks-avx2.c: products over GGUF Q8_0 / Q4_0
 * blocks where the file holds them, for x86-64 with AVX2, FMA and F16C
 * (compiled with -mavx2 -mfma -mf16c beside ane-cpu-vec-avx2.c; called
 * only when the CPU has them: ane-cpu-vec.c, rows_func)
 *
 * Issue 15 ("memory equals the file"): the plan multiplies a Q8_0 / Q4_0
 * weight on the GGUF tensor's own bytes (ANE_CPU_PACKED_Q8_0_BLOCKS,
 * ANE_CPU_PACKED_Q4_0_BLOCKS: an fp16 d, then the q of 32 weights,
 * ggml-common.h block_q8_0 / block_q4_0) instead of MIL's split form (the
 * int8 / int4 data and a float scale array) copied out of them. Each block
 * is four chunks of 8 weights, scaled by its d: the float operations and
 * the summation order of the INT8 and INT4 kernels of ane-cpu-vec-avx2.c
 * (chunk c into accumulator c mod 4, w = s · (float) q rounded to fp16 when
 * the op's output is fp16), so a weight gives the same bits either way.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <immintrin.h>

#include "runtime/cpu/ane-cpu-vec-private.h"

#define PREFETCH_ROWS 4   /* as ane-cpu-vec-avx2.c */

static inline __m256
round_half (__m256 v)
{
  return _mm256_cvtph_ps (_mm256_cvtps_ph (v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* s · v, rounded to fp16 when round16. */
static inline __attribute__ ((always_inline)) __m256
scaled (__m256   s,
        __m256   v,
        gboolean round16)
{
  v = _mm256_mul_ps (s, v);
  return round16 ? round_half (v) : v;
}

/* The block's 32 weights as four vectors of 8 floats (s · q, rounded to
 * fp16 when round16). Written out without arrays or loops: indexed, gcc
 * kept them on the stack (as ane-cpu-vec-avx2.c found for its
 * accumulators), a third slower. */
static inline __attribute__ ((always_inline)) void
block_weights (const guint8     *blk,
               AneCpuPackedKind  kind,
               gboolean          round16,
               const float      *halves,
               __m256           *w0,
               __m256           *w1,
               __m256           *w2,
               __m256           *w3)
{
  /* d from ane_cpu_half_table: a broadcast load. With F16C (vmovd,
   * vcvtph2ps, vbroadcastss: shuffle-port work beside the four sign
   * extensions) a Q8_0 product ran a quarter slower than on the split
   * form's float scales; ggml reads its fp16 scales through a table too
   * (ggml_table_f32_f16, ggml-cpu). */
  __m256 s = _mm256_broadcast_ss (halves + (blk[0] | blk[1] << 8));
  if (kind == ANE_CPU_PACKED_Q8_0_BLOCKS)
    {
      *w0 = scaled (s, _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (_mm_loadl_epi64 ((const __m128i *) (blk + 2)))), round16);
      *w1 = scaled (s, _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (_mm_loadl_epi64 ((const __m128i *) (blk + 10)))), round16);
      *w2 = scaled (s, _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (_mm_loadl_epi64 ((const __m128i *) (blk + 18)))), round16);
      *w3 = scaled (s, _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (_mm_loadl_epi64 ((const __m128i *) (blk + 26)))), round16);
    }
  else
    {
      /* low nibbles are weights 0..15, high nibbles 16..31, each q + 8
       * (ggml's bytes_from_nibbles_32, ggml/src/ggml-cpu/arch/x86/quants.c) */
      __m128i bytes = _mm_loadu_si128 ((const __m128i *) (blk + 2));
      __m128i mask = _mm_set1_epi8 (15), eight = _mm_set1_epi8 (8);
      __m128i lo = _mm_sub_epi8 (_mm_and_si128 (bytes, mask), eight);
      __m128i hi = _mm_sub_epi8 (_mm_and_si128 (_mm_srli_epi16 (bytes, 4), mask), eight);

      *w0 = scaled (s, _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (lo)), round16);
      *w1 = scaled (s, _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (_mm_srli_si128 (lo, 8))), round16);
      *w2 = scaled (s, _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (hi)), round16);
      *w3 = scaled (s, _mm256_cvtepi32_ps (_mm256_cvtepi8_epi32 (_mm_srli_si128 (hi, 8))), round16);
    }
}

/* The 32 weights of a Q4_K sub-block (nib: its q, one per byte, in
 * order) as four vectors: s · (q − o) per sub-block, rounded to fp16 when
 * round16: the UINT4 kernel's operations (ane-cpu-vec-avx2.c, weight ()). */
static inline __attribute__ ((always_inline)) void
q4_K_sub_block (__m256i       nib,
                const float  *scale,
                const float  *offset,
                gboolean      round16,
                __m256       *w0,
                __m256       *w1,
                __m256       *w2,
                __m256       *w3)
{
  __m128i lo = _mm256_castsi256_si128 (nib), hi = _mm256_extracti128_si256 (nib, 1);
  __m256 s = _mm256_broadcast_ss (scale), o = _mm256_broadcast_ss (offset);

  *w0 = scaled (s, _mm256_sub_ps (_mm256_cvtepi32_ps (_mm256_cvtepu8_epi32 (lo)), o), round16);
  *w1 = scaled (s, _mm256_sub_ps (_mm256_cvtepi32_ps (_mm256_cvtepu8_epi32 (_mm_srli_si128 (lo, 8))), o), round16);
  *w2 = scaled (s, _mm256_sub_ps (_mm256_cvtepi32_ps (_mm256_cvtepu8_epi32 (hi)), o), round16);
  *w3 = scaled (s, _mm256_sub_ps (_mm256_cvtepi32_ps (_mm256_cvtepu8_epi32 (_mm_srli_si128 (hi, 8))), o), round16);
}

/* The q of a Q4_K group of 64 weights (32 bytes of qs): sub-block 2i in
 * the low nibbles, 2i + 1 in the high ones (ane-lower-q4k.c). */
static inline __attribute__ ((always_inline)) void
q4_K_nibbles (const guint8 *qs,
              __m256i      *lo,
              __m256i      *hi)
{
  __m256i bytes = _mm256_loadu_si256 ((const __m256i *) qs), mask = _mm256_set1_epi8 (15);

  *lo = _mm256_and_si256 (bytes, mask);
  *hi = _mm256_and_si256 (_mm256_srli_epi16 (bytes, 4), mask);
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

/* One activation row: block b's chunks into accumulators 0..3, as the INT8
 * kernel's unrolled loop (and the INT4 one's groups) sum them. */
static inline __attribute__ ((always_inline)) float
row_dot_kind (const AneCpuPacked *p,
              gsize               r,
              const float        *x,
              AneCpuPackedKind    kind,
              gboolean            round16)
{
  const guint8 *row = p->q + r * p->row_bytes;
  gsize block_bytes = kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? 34 : 18;
  const float *halves = ane_cpu_half_table ();
  __m256 a0 = _mm256_setzero_ps (), a1 = _mm256_setzero_ps (), a2 = _mm256_setzero_ps (), a3 = _mm256_setzero_ps ();

  /* rows of blocks do not start on a cache line: one line more */
  for (gsize b = 0; !p->hot && b < p->row_bytes + 64; b += 64)
    _mm_prefetch ((const char *) row + PREFETCH_ROWS * p->row_bytes + b, _MM_HINT_T0);
  for (gsize b = 0; b < p->n_blocks; b++, x += 32)
    {
      __m256 w0, w1, w2, w3;

      block_weights (row + b * block_bytes, kind, round16, halves, &w0, &w1, &w2, &w3);
      a0 = _mm256_fmadd_ps (w0, _mm256_loadu_ps (x), a0);
      a1 = _mm256_fmadd_ps (w1, _mm256_loadu_ps (x + 8), a1);
      a2 = _mm256_fmadd_ps (w2, _mm256_loadu_ps (x + 16), a2);
      a3 = _mm256_fmadd_ps (w3, _mm256_loadu_ps (x + 24), a3);
    }
  return hsum (a0, a1, a2, a3);
}

/* One activation row of Q4_K blocks: each sub-block's four chunks into
 * accumulators 0..3, as the UINT4 kernel sums them. */
static inline __attribute__ ((always_inline)) float
row_dot_q4_K (const AneCpuPacked *p,
              gsize               r,
              const float        *x,
              gboolean            round16)
{
  const guint8 *row = p->q + r * p->row_bytes;
  const float *scale = p->scale + r * p->n_blocks, *offset = p->offset + r * p->n_blocks;
  __m256 a0 = _mm256_setzero_ps (), a1 = _mm256_setzero_ps (), a2 = _mm256_setzero_ps (), a3 = _mm256_setzero_ps ();

  /* rows of blocks do not start on a cache line: one line more */
  for (gsize b = 0; !p->hot && b < p->row_bytes + 64; b += 64)
    _mm_prefetch ((const char *) row + PREFETCH_ROWS * p->row_bytes + b, _MM_HINT_T0);
  for (gsize g = 0; g < p->cols / 64; g++, x += 64, scale += 2, offset += 2)
    {
      __m256i lo, hi;
      __m256 w0, w1, w2, w3;

      q4_K_nibbles (row + g / 4 * 144 + 16 + g % 4 * 32, &lo, &hi);
      q4_K_sub_block (lo, scale, offset, round16, &w0, &w1, &w2, &w3);
      a0 = _mm256_fmadd_ps (w0, _mm256_loadu_ps (x), a0);
      a1 = _mm256_fmadd_ps (w1, _mm256_loadu_ps (x + 8), a1);
      a2 = _mm256_fmadd_ps (w2, _mm256_loadu_ps (x + 16), a2);
      a3 = _mm256_fmadd_ps (w3, _mm256_loadu_ps (x + 24), a3);
      q4_K_sub_block (hi, scale + 1, offset + 1, round16, &w0, &w1, &w2, &w3);
      a0 = _mm256_fmadd_ps (w0, _mm256_loadu_ps (x + 32), a0);
      a1 = _mm256_fmadd_ps (w1, _mm256_loadu_ps (x + 40), a1);
      a2 = _mm256_fmadd_ps (w2, _mm256_loadu_ps (x + 48), a2);
      a3 = _mm256_fmadd_ps (w3, _mm256_loadu_ps (x + 56), a3);
    }
  return hsum (a0, a1, a2, a3);
}

static float
row_dot (const AneCpuPacked *p,
         gsize               r,
         const float        *x)
{
  if (p->kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
    return p->round_fp16 ? row_dot_q4_K (p, r, x, TRUE) : row_dot_q4_K (p, r, x, FALSE);
  if (p->kind == ANE_CPU_PACKED_Q8_0_BLOCKS)
    return p->round_fp16 ? row_dot_kind (p, r, x, ANE_CPU_PACKED_Q8_0_BLOCKS, TRUE)
                         : row_dot_kind (p, r, x, ANE_CPU_PACKED_Q8_0_BLOCKS, FALSE);
  return p->round_fp16 ? row_dot_kind (p, r, x, ANE_CPU_PACKED_Q4_0_BLOCKS, TRUE)
                       : row_dot_kind (p, r, x, ANE_CPU_PACKED_Q4_0_BLOCKS, FALSE);
}

void
ane_cpu_packed_dequantize_row_blocks_avx2 (const AneCpuPacked *p,
                                           gsize               r,
                                           float              *dst)
{
  const guint8 *row = p->q + r * p->row_bytes;
  gsize block_bytes = p->kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? 34 : 18;
  const float *halves = ane_cpu_half_table ();
  __m256 w0, w1, w2, w3;

  if (p->kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
    {
      const float *scale = p->scale + r * p->n_blocks, *offset = p->offset + r * p->n_blocks;

      for (gsize sb = 0; sb < p->n_blocks; sb++, dst += 32)
        {
          __m256i lo, hi;

          q4_K_nibbles (row + sb / 8 * 144 + 16 + sb % 8 / 2 * 32, &lo, &hi);
          q4_K_sub_block (sb % 2 ? hi : lo, scale + sb, offset + sb, p->round_fp16, &w0, &w1, &w2, &w3);
          _mm256_storeu_ps (dst, w0);
          _mm256_storeu_ps (dst + 8, w1);
          _mm256_storeu_ps (dst + 16, w2);
          _mm256_storeu_ps (dst + 24, w3);
        }
      return;
    }
  for (gsize b = 0; b < p->n_blocks; b++, dst += 32)
    {
      block_weights (row + b * block_bytes, p->kind, p->round_fp16, halves, &w0, &w1, &w2, &w3);
      _mm256_storeu_ps (dst, w0);
      _mm256_storeu_ps (dst + 8, w1);
      _mm256_storeu_ps (dst + 16, w2);
      _mm256_storeu_ps (dst + 24, w3);
    }
}

/* Σ w·x over n columns (a multiple of 32 here): chunk c into accumulator
 * c mod 4, the order of ane-cpu-vec-avx2.c's dot (). */
static float
dot (const float *w,
     const float *x,
     gsize        n)
{
  __m256 acc[4] = { _mm256_setzero_ps (), _mm256_setzero_ps (), _mm256_setzero_ps (), _mm256_setzero_ps () };
  float tail = 0.0f;   /* no tail columns; added as dot () adds it (a −0 sum becomes +0 there too) */

  for (gsize c = 0; c + 4 <= n / 8; c += 4)
    for (gsize k = 0; k < 4; k++)
      acc[k] = _mm256_fmadd_ps (_mm256_loadu_ps (w + 8 * (c + k)), _mm256_loadu_ps (x + 8 * (c + k)), acc[k]);
  return hsum (acc[0], acc[1], acc[2], acc[3]) + tail;
}

void
ane_cpu_packed_rows_blocks_avx2 (const AneCpuPacked *p,
                                 gsize               r0,
                                 gsize               r1,
                                 const float        *x,
                                 gsize               m,
                                 float              *out)
{
  ane_cpu_packed_rows_by (p, r0, r1, x, m, out, m == 1, row_dot, ane_cpu_packed_dequantize_row_blocks_avx2, dot);
}
