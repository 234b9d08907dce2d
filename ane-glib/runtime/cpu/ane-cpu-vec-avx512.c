/* runtime/cpu/ane-cpu-vec-avx512.c: the compressed-weight kernels for x86-64
 * with AVX-512 (F, BW, VL, DQ), FMA and F16C (compiled with those -m flags;
 * called only when the CPU and the OS have them: ane-cpu-vec.c, have_avx512)
 *
 * The semantics are the other kernels': every weight is dequantized in a
 * register to exactly what the dequantizing kernel makes, w = s · (q − o)
 * in float (rounded to fp16 when the constexpr op's output is fp16), and
 * multiplied with the float activations by FMAs into fp32 accumulators.
 * Activations are never quantized (Core ML does not quantize them).
 *
 * int4 / uint4 (GGUF Q4_0, Q4_K): a block's 16 possible weights are made
 * once per block, as a 16-float table in one register (T[n] = s · (q(n) − o),
 * rounded to fp16 when asked: the float operations of the portable kernel
 * on the same values, so the weights are bit-identical), and each weight is
 * looked up by its nibble with vpermps (_mm512_permutexvar_ps, which reads
 * only the low 4 bits of each index). A group of 32 weights (16 bytes,
 * ggml's block_q4_0 order: byte i holds weight i in its low nibble, weight
 * i + 16 in its high one) is one vpmovzxbd (the bytes as 16 dword indices:
 * the low nibbles directly), one shift (the high nibbles), two lookups and
 * two FMAs: no int-to-float conversion, no multiply per weight, and the
 * fp16 rounding of fp16 programs costs once per block instead of once per
 * weight. int8 (Q8_0): vpmovsxbd + vcvtdq2ps, then s · (v − o) per 16
 * weights. fp16: vcvtph2ps.
 *
 * Order of the sums (fixed, whatever the thread count or the rows a thread
 * gets): column chunk k (columns 16k .. 16k + 15) goes into accumulator
 * k mod 4, a last partial chunk (masked loads, zeros beyond the row) into
 * accumulator (number of whole chunks) mod 4, then (a0 + a1) + (a2 + a3)
 * and _mm512_reduce_add_ps's fixed tree. This differs from the AVX2 order
 * (8-column chunks) and the portable one, within the documented tolerance
 * (fp32 sums; tests/test-cpu-vec.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <immintrin.h>
#include <string.h>

#include "runtime/cpu/ane-cpu-vec-private.h"

static inline gboolean
is_4bit (AneCpuPackedKind kind)
{
  return kind == ANE_CPU_PACKED_INT4 || kind == ANE_CPU_PACKED_UINT4;
}

gboolean
ane_cpu_packed_avx512_fits (const AneCpuPacked *p)
{
  /* a table per block of whole 32-weight groups, a scale per whole
   * 16-column chunk; or one block a row (per-channel scales), whatever
   * its width: the row's last, partial group or chunk is its block's */
  return p->kind == ANE_CPU_PACKED_FP16 || p->n_blocks == 1 ||
         (is_4bit (p->kind) ? p->block % 32 == 0 : p->block % 16 == 0);
}

static inline __m512
round_half (__m512 v)
{
  return _mm512_cvtph_ps (_mm512_cvtps_ph (v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* The 16 weights a block's nibbles stand for: T[n] = s · (q(n) − o), q(n) the
 * nibble n as a value (INT4: two's complement, UINT4: n). */
static inline __attribute__ ((always_inline)) __m512
nibble_table (AneCpuPackedKind kind,
              const float     *s,
              const float     *o,
              gboolean         has_offset,
              gboolean         round16)
{
  __m512 v = kind == ANE_CPU_PACKED_UINT4
               ? _mm512_setr_ps (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
               : _mm512_setr_ps (0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);

  if (has_offset)
    v = _mm512_sub_ps (v, _mm512_set1_ps (*o));
  v = _mm512_mul_ps (_mm512_set1_ps (*s), v);
  return round16 ? round_half (v) : v;
}

/* A group's 16 bytes as dword indices: low nibbles as they are (vpermps
 * ignores the rest), high nibbles after a shift. */
#define GROUP_LO(idx) (idx)
#define GROUP_HI(idx) _mm512_srli_epi32 ((idx), 4)

static inline float
hsum (__m512 a0, __m512 a1, __m512 a2, __m512 a3)
{
  return _mm512_reduce_add_ps (_mm512_add_ps (_mm512_add_ps (a0, a1), _mm512_add_ps (a2, a3)));
}

/* The scale (and offset) of each 16-column chunk of a row, walked in order
 * (no division per chunk): a block is whole chunks (ane_cpu_packed_avx512_fits). */
typedef struct {
  const float *scale, *offset;
  gsize per_block, left;
  __m512 s, o;
} Scales;

static inline void
scales_init (Scales             *it,
             const AneCpuPacked *p,
             gsize               r,
             gsize               chunk)
{
  it->scale = p->scale ? p->scale + (r / p->row_group) * p->n_blocks : NULL;
  it->offset = p->offset ? p->offset + (r / p->row_group) * p->n_blocks : NULL;
  it->per_block = (p->block + chunk - 1) / chunk;   /* a partial chunk only in a row's one block */
  it->left = it->per_block;
  it->s = it->o = _mm512_setzero_ps ();
  if (it->scale)
    it->s = _mm512_set1_ps (*it->scale);
  if (it->offset)
    it->o = _mm512_set1_ps (*it->offset);
}

static inline __attribute__ ((always_inline)) void
scales_step (Scales   *it,
             gboolean  has_offset)
{
  if (it->left == 0)
    {
      it->s = _mm512_set1_ps (*++it->scale);
      if (has_offset)
        it->o = _mm512_set1_ps (*++it->offset);
      it->left = it->per_block;
    }
  it->left--;
}

/* 16 int8 weights (q loaded under mask) as s · (v − o), rounded when asked. */
static inline __attribute__ ((always_inline)) __m512
int8_weights (__m128i   q,
              Scales   *it,
              gboolean  has_offset,
              gboolean  round16)
{
  __m512 v = _mm512_cvtepi32_ps (_mm512_cvtepi8_epi32 (q));

  scales_step (it, has_offset);
  if (has_offset)
    v = _mm512_sub_ps (v, it->o);
  v = _mm512_mul_ps (it->s, v);
  return round16 ? round_half (v) : v;
}

static inline __mmask16
tail_mask (gsize n)
{
  return (__mmask16) ((1u << n) - 1u);
}

/* --- one activation row: the weights never leave the registers ------------ */

#define PREFETCH_ROWS 4

/* How far ahead, in bytes, the row dots prefetch rows in huge
 * pages (AneCpuPacked.hot) and fp16 rows: into the L2
 * (prefetcht2, __builtin_prefetch locality 1). The hardware prefetchers
 * alone do not keep enough loads in flight for a row dot that also
 * converts its weights: a standalone fp16 row dot read 17–18 GB/s from
 * huge pages without, 24 with this (prefetcht0 a few rows ahead: 12–16),
 * 14 → 18 in 4 KiB pages; bench-llm's decode, one thread, AVX-512: F16
 * 75–76 → 80–81 tokens/s, Q8_0 104–114 → 112–119, Q4_0 115–130 → 122–130.
 * Rows of the other kinds in small pages keep prefetcht0 a few rows ahead
 * (PREFETCH_ROWS). The AVX2 kernels, measured the same way through
 * ANE_CPU_VEC_ISA=avx2, gained nothing from it (F16 71–81 against 75–77,
 * Q8_0 80–91 against 79–91): they prefetch nothing over rows in huge
 * pages. */
#define ANE_CPU_FAR_PREFETCH_BYTES 8192

static inline void
ane_cpu_prefetch_far (const guint8 *row,
                      gsize         row_bytes)
{
  for (gsize b = 0; b < row_bytes; b += 64)
    __builtin_prefetch (row + ANE_CPU_FAR_PREFETCH_BYTES + b, 0, 1);
}

static inline void
prefetch_row (const AneCpuPacked *p,
              const guint8       *row)
{
  if (p->hot || p->kind == ANE_CPU_PACKED_FP16)
    {
      ane_cpu_prefetch_far (row, p->row_bytes);
      return;
    }
  /* the row PREFETCH_ROWS ahead (as the AVX2 kernels: in small pages the
   * hardware prefetcher alone left the decode products latency-bound on
   * this project's VM; a prefetch past the last row is harmless) */
  for (gsize b = 0; b < p->row_bytes; b += 64)
    _mm_prefetch ((const char *) row + PREFETCH_ROWS * p->row_bytes + b, _MM_HINT_T0);
}

#define FMA16(acc, w, col) ((acc) = _mm512_fmadd_ps ((w), _mm512_loadu_ps (x + (col)), (acc)))

/* int4 / uint4: groups of 32 (chunks 2g and 2g + 1), a table per block. */
static inline __attribute__ ((always_inline)) float
row_dot_4bit (const AneCpuPacked *p,
              gsize               r,
              const float        *x,
              AneCpuPackedKind    kind,
              gboolean            has_offset,
              gboolean            round16)
{
  const guint8 *row = p->q + r * p->row_bytes;
  const float *s = p->scale + (r / p->row_group) * p->n_blocks;
  const float *o = has_offset ? p->offset + (r / p->row_group) * p->n_blocks : NULL;
  __m512 a0 = _mm512_setzero_ps (), a1 = _mm512_setzero_ps (), a2 = _mm512_setzero_ps (), a3 = _mm512_setzero_ps ();
  gsize groups = p->cols / 32, per_block = (p->block + 31) / 32, left = per_block, g = 0;
  __m512 t = nibble_table (kind, s, o, has_offset, round16);

  prefetch_row (p, row);
  /* two groups a turn: chunks 4j .. 4j + 3 into a0 .. a3 */
  for (; g + 2 <= groups; g += 2)
    {
      __m512i i0 = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) (row + 16 * g)));
      __m512i i1 = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) (row + 16 * g + 16)));

      if (left == 0)
        {
          s++, o = has_offset ? o + 1 : NULL;
          t = nibble_table (kind, s, o, has_offset, round16);
          left = per_block;
        }
      left--;
      FMA16 (a0, _mm512_permutexvar_ps (GROUP_LO (i0), t), 32 * g);
      FMA16 (a1, _mm512_permutexvar_ps (GROUP_HI (i0), t), 32 * g + 16);
      if (left == 0)
        {
          s++, o = has_offset ? o + 1 : NULL;
          t = nibble_table (kind, s, o, has_offset, round16);
          left = per_block;
        }
      left--;
      FMA16 (a2, _mm512_permutexvar_ps (GROUP_LO (i1), t), 32 * g + 32);
      FMA16 (a3, _mm512_permutexvar_ps (GROUP_HI (i1), t), 32 * g + 48);
    }
  {
    /* a last whole group (chunks into a0, a1), then a partial one (the
     * packed row is zero-padded; the activations beyond the row are loaded
     * as zeros), whose chunks continue the k mod 4 rule */
    gsize rest = p->cols - 32 * g;

    while (rest > 0)
      {
        __m512i idx = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) (row + 16 * g)));
        gsize n0 = MIN (rest, 16), n1 = rest > 16 ? MIN (rest - 16, 16) : 0;
        __m512 x0 = _mm512_maskz_loadu_ps (tail_mask (n0), x + 32 * g);
        __m512 x1 = _mm512_maskz_loadu_ps (tail_mask (n1), x + 32 * g + 16);
        __m512 w0, w1;

        if (left == 0)
          {
            s++, o = has_offset ? o + 1 : NULL;
            t = nibble_table (kind, s, o, has_offset, round16);
            left = per_block;
          }
        left--;
        w0 = _mm512_permutexvar_ps (GROUP_LO (idx), t);
        w1 = _mm512_permutexvar_ps (GROUP_HI (idx), t);
        if (g % 2 == 0)
          {
            a0 = _mm512_fmadd_ps (w0, x0, a0);
            if (n1 > 0)
              a1 = _mm512_fmadd_ps (w1, x1, a1);
          }
        else
          {
            a2 = _mm512_fmadd_ps (w0, x0, a2);
            if (n1 > 0)
              a3 = _mm512_fmadd_ps (w1, x1, a3);
          }
        rest -= n0 + n1;
        g++;
      }
  }
  return hsum (a0, a1, a2, a3);
}

/* int8 and fp16: chunks of 16. */
static inline __attribute__ ((always_inline)) __m512
chunk_weights (const guint8     *row,
               gsize             col,
               __mmask16         mask,
               AneCpuPackedKind  kind,
               Scales           *it,
               gboolean          has_offset,
               gboolean          round16)
{
  if (kind == ANE_CPU_PACKED_FP16)
    return _mm512_cvtph_ps (_mm256_maskz_loadu_epi16 (mask, row + 2 * col));
  return int8_weights (_mm_maskz_loadu_epi8 (mask, row + col), it, has_offset, round16);
}

static inline __attribute__ ((always_inline)) __m512
chunk_full (const guint8     *row,
            gsize             col,
            AneCpuPackedKind  kind,
            Scales           *it,
            gboolean          has_offset,
            gboolean          round16)
{
  if (kind == ANE_CPU_PACKED_FP16)
    return _mm512_cvtph_ps (_mm256_loadu_si256 ((const __m256i *) (row + 2 * col)));
  return int8_weights (_mm_loadu_si128 ((const __m128i *) (row + col)), it, has_offset, round16);
}

static inline __attribute__ ((always_inline)) float
row_dot_bytes (const AneCpuPacked *p,
               gsize               r,
               const float        *x,
               AneCpuPackedKind    kind,
               gboolean            has_offset,
               gboolean            round16)
{
  const guint8 *row = p->q + r * p->row_bytes;
  Scales it;
  __m512 a0 = _mm512_setzero_ps (), a1 = _mm512_setzero_ps (), a2 = _mm512_setzero_ps (), a3 = _mm512_setzero_ps ();
  gsize full = p->cols / 16, k = 0;

  scales_init (&it, p, r, 16);
  prefetch_row (p, row);
  for (; k + 4 <= full; k += 4)
    {
      FMA16 (a0, chunk_full (row, 16 * k, kind, &it, has_offset, round16), 16 * k);
      FMA16 (a1, chunk_full (row, 16 * k + 16, kind, &it, has_offset, round16), 16 * k + 16);
      FMA16 (a2, chunk_full (row, 16 * k + 32, kind, &it, has_offset, round16), 16 * k + 32);
      FMA16 (a3, chunk_full (row, 16 * k + 48, kind, &it, has_offset, round16), 16 * k + 48);
    }
  /* the last one to three whole chunks into a0 .. a2, then a partial one
   * (fp16, or int8 with one block a row) into the next accumulator */
  if (k < full)
    FMA16 (a0, chunk_full (row, 16 * k, kind, &it, has_offset, round16), 16 * k);
  if (k + 1 < full)
    FMA16 (a1, chunk_full (row, 16 * k + 16, kind, &it, has_offset, round16), 16 * k + 16);
  if (k + 2 < full)
    FMA16 (a2, chunk_full (row, 16 * k + 32, kind, &it, has_offset, round16), 16 * k + 32);
  if (p->cols % 16 != 0)
    {
      __mmask16 mask = tail_mask (p->cols % 16);
      gsize col = 16 * full;
      __m512 w = _mm512_fmadd_ps (chunk_weights (row, col, mask, kind, &it, has_offset, round16),
                                  _mm512_maskz_loadu_ps (mask, x + col), _mm512_setzero_ps ());

      switch (full % 4)
        {
        case 0: a0 = _mm512_add_ps (a0, w); break;
        case 1: a1 = _mm512_add_ps (a1, w); break;
        case 2: a2 = _mm512_add_ps (a2, w); break;
        default: a3 = _mm512_add_ps (a3, w); break;
        }
    }
  return hsum (a0, a1, a2, a3);
}

#undef FMA16

/* int8 weights with a scale per 32 columns, no offset, in an fp32 program
 * (GGUF Q8_0, as blocks or split; ane_cpu_packed_int8_factored): the scale
 * comes out of each block's sum, Σ_b s_b · (Σ_j q_j · x_j), which saves a
 * multiply per 16 weights (a 768×768 product in cache: bench-packed
 * --kinds int8 --cached 18.5 → 21.0 Gweights/s, a standalone loop 20 →
 * 25). For GGUF's fp16 d, d · q is exact in float, so the
 * weights are the dequantizing kernel's; the sums differ from the other
 * form's only in their rounding (within the documented tolerance). Order:
 * a block's 16-column halves as one multiply and one fma (lane-wise), the
 * block into accumulator b mod 2 by an fma with its scale, then a0 + a1
 * and _mm512_reduce_add_ps's tree. q_at (b) and s_at (b) give block b's 32
 * int8 and its scale: the blocks kernel and the split one share the sums
 * bit for bit. */
/* Whether an INT8 weight takes the factored kernel below. */
static inline gboolean
ane_cpu_packed_int8_factored (const AneCpuPacked *p)
{
  return p->kind == ANE_CPU_PACKED_INT8 && !p->round_fp16 && p->offset == NULL && p->block == 32 &&
         p->n_blocks * 32 == p->cols;
}

static inline __attribute__ ((always_inline)) __m512
int8_block_sum (const guint8 *q,
                const float  *x)
{
  __m512 t = _mm512_mul_ps (_mm512_cvtepi32_ps (_mm512_cvtepi8_epi32 (_mm_loadu_si128 ((const __m128i *) q))),
                            _mm512_loadu_ps (x));

  return _mm512_fmadd_ps (_mm512_cvtepi32_ps (_mm512_cvtepi8_epi32 (_mm_loadu_si128 ((const __m128i *) (q + 16)))),
                          _mm512_loadu_ps (x + 16), t);
}

#define INT8_FACTORED_ROW(q_at, s_at)                                                        \
  do                                                                                         \
    {                                                                                        \
      __m512 a0 = _mm512_setzero_ps (), a1 = _mm512_setzero_ps ();                           \
      gsize b = 0;                                                                           \
                                                                                             \
      for (; b + 2 <= p->n_blocks; b += 2)                                                   \
        {                                                                                    \
          a0 = _mm512_fmadd_ps (_mm512_set1_ps (s_at (b)), int8_block_sum (q_at (b), x + 32 * b), a0); \
          a1 = _mm512_fmadd_ps (_mm512_set1_ps (s_at (b + 1)), int8_block_sum (q_at (b + 1), x + 32 * b + 32), a1); \
        }                                                                                    \
      if (b < p->n_blocks)                                                                   \
        a0 = _mm512_fmadd_ps (_mm512_set1_ps (s_at (b)), int8_block_sum (q_at (b), x + 32 * b), a0); \
      return _mm512_reduce_add_ps (_mm512_add_ps (a0, a1));                                  \
    }                                                                                        \
  while (0)

static float
row_dot_int8_factored (const AneCpuPacked *p,
                       gsize               r,
                       const float        *x)
{
  const guint8 *row = p->q + r * p->row_bytes;
  const float *s = p->scale + (r / p->row_group) * p->n_blocks;

#define Q_AT(b) (row + 32 * (b))
#define S_AT(b) (s[b])
  prefetch_row (p, row);
  INT8_FACTORED_ROW (Q_AT, S_AT);
#undef Q_AT
#undef S_AT
}

/* Each kind compiled once per offset-or-not and rounding-or-not. */
#define VARIANTS(fn, kind)                                                                   \
  (off ? (r16 ? fn (p, r, x, kind, TRUE, TRUE) : fn (p, r, x, kind, TRUE, FALSE))             \
       : (r16 ? fn (p, r, x, kind, FALSE, TRUE) : fn (p, r, x, kind, FALSE, FALSE)))

static float
row_dot (const AneCpuPacked *p,
         gsize               r,
         const float        *x)
{
  gboolean off = p->offset != NULL, r16 = p->round_fp16;

  switch (p->kind)
    {
    case ANE_CPU_PACKED_INT4:
      return VARIANTS (row_dot_4bit, ANE_CPU_PACKED_INT4);
    case ANE_CPU_PACKED_UINT4:
      return VARIANTS (row_dot_4bit, ANE_CPU_PACKED_UINT4);
    case ANE_CPU_PACKED_INT8:
      if (ane_cpu_packed_int8_factored (p))
        return row_dot_int8_factored (p, r, x);
      return VARIANTS (row_dot_bytes, ANE_CPU_PACKED_INT8);
    case ANE_CPU_PACKED_FP16:
      return row_dot_bytes (p, r, x, ANE_CPU_PACKED_FP16, FALSE, FALSE);
    default:
      g_assert_not_reached ();
    }
}

#undef VARIANTS

/* --- several activation rows: one dequantized weight row, reused ---------- */

void
ane_cpu_packed_dequantize_row_avx512 (const AneCpuPacked *p,
                                      gsize               r,
                                      float              *w)
{
  const guint8 *row = p->q + r * p->row_bytes;
  Scales it;

  if (is_4bit (p->kind))
    {
      const float *s = p->scale + (r / p->row_group) * p->n_blocks;
      const float *o = p->offset ? p->offset + (r / p->row_group) * p->n_blocks : NULL;
      gsize per_block = (p->block + 31) / 32;

      for (gsize g = 0; g * 32 < p->cols; g++)
        {
          __m512 t = nibble_table (p->kind, s + g / per_block, o ? o + g / per_block : NULL, o != NULL,
                                   p->round_fp16);
          __m512i idx = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) (row + 16 * g)));
          gsize rest = p->cols - 32 * g;

          _mm512_mask_storeu_ps (w + 32 * g, tail_mask (MIN (rest, 16)), _mm512_permutexvar_ps (GROUP_LO (idx), t));
          if (rest > 16)
            _mm512_mask_storeu_ps (w + 32 * g + 16, tail_mask (MIN (rest - 16, 16)),
                                   _mm512_permutexvar_ps (GROUP_HI (idx), t));
        }
      return;
    }
  scales_init (&it, p, r, 16);
  for (gsize col = 0; col < p->cols; col += 16)
    {
      __mmask16 mask = tail_mask (MIN (p->cols - col, 16));

      _mm512_mask_storeu_ps (w + col, mask,
                             chunk_weights (row, col, mask, p->kind, &it, p->offset != NULL, p->round_fp16));
    }
}

/* Σ w·x over n columns in the row dots' order (chunk k into accumulator
 * k mod 4, a partial chunk masked into the next). */
static float
dot (const float *w,
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
      __mmask16 mask = tail_mask (n % 16);

      acc[full % 4] = _mm512_add_ps (acc[full % 4],
                                     _mm512_fmadd_ps (_mm512_maskz_loadu_ps (mask, w + 16 * full),
                                                      _mm512_maskz_loadu_ps (mask, x + 16 * full), _mm512_setzero_ps ()));
    }
  return hsum (acc[0], acc[1], acc[2], acc[3]);
}

void
ane_cpu_packed_rows_avx512 (const AneCpuPacked *p,
                            gsize               r0,
                            gsize               r1,
                            const float        *x,
                            gsize               m,
                            float              *out)
{
  ane_cpu_packed_rows_by (p, r0, r1, x, m, out, m == 1, row_dot, ane_cpu_packed_dequantize_row_avx512, dot);
}

/* --- GGUF blocks where the file holds them (the *_BLOCKS kinds) ----------
 *
 * Q8_0, Q4_0 and Q4_K weights multiplied on the GGUF tensor's own bytes
 * (ane-cpu-vec-private.h; the AVX2 ones are ane-cpu-vec-blocks-avx2.c):
 * the same weights and the same sums as the INT8, INT4 and UINT4 kernels
 * above on the split form (chunk k of 16 columns into accumulator k mod 4,
 * a 4-bit block's weights looked up in its 16-float table), so a weight
 * gives the same bits either way under this ISA (tests/test-cpu-vec.c,
 * blocks-kernels). A block's d comes from ane_cpu_half_table, as in the
 * AVX2 blocks kernels. */

#define FMA16(acc, w, col) ((acc) = _mm512_fmadd_ps ((w), _mm512_loadu_ps (x + (col)), (acc)))

static inline __attribute__ ((always_inline)) float
block_d (const float  *halves,
         const guint8 *blk)
{
  return halves[blk[0] | blk[1] << 8];
}

/* 16 int8 weights of a Q8_0 block as d · q (int8_weights without an offset). */
static inline __attribute__ ((always_inline)) __m512
q8_0_chunk (const guint8 *q,
            __m512        d,
            gboolean      round16)
{
  __m512 v = _mm512_mul_ps (d, _mm512_cvtepi32_ps (_mm512_cvtepi8_epi32 (_mm_loadu_si128 ((const __m128i *) q))));

  return round16 ? round_half (v) : v;
}

/* A Q4_0 block's table: T[n] = d · (n − 8), nibble n being q + 8 (the
 * INT4 table holds the same products, indexed by q's two's complement). */
static inline __attribute__ ((always_inline)) __m512
q4_0_table (float    d,
            gboolean round16)
{
  __m512 v = _mm512_mul_ps (_mm512_set1_ps (d), _mm512_setr_ps (-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7));

  return round16 ? round_half (v) : v;
}

static inline void
prefetch_blocks_row (const AneCpuPacked *p,
                     const guint8       *row)
{
  /* rows of blocks do not start on a cache line: one line more */
  if (p->hot)
    {
      ane_cpu_prefetch_far (row, p->row_bytes);
      return;
    }
  for (gsize b = 0; b < p->row_bytes + 64; b += 64)
    _mm_prefetch ((const char *) row + PREFETCH_ROWS * p->row_bytes + b, _MM_HINT_T0);
}

/* A Q8_0 or Q4_0 block's 32 weights as two vectors of 16 (columns 0..15,
 * 16..31): the INT8 kernel's s · q, or the INT4 kernel's table lookups. */
static inline __attribute__ ((always_inline)) void
block_weights (const guint8     *blk,
               AneCpuPackedKind  kind,
               gboolean          round16,
               const float      *halves,
               __m512           *w0,
               __m512           *w1)
{
  if (kind == ANE_CPU_PACKED_Q8_0_BLOCKS)
    {
      __m512 d = _mm512_set1_ps (block_d (halves, blk));

      *w0 = q8_0_chunk (blk + 2, d, round16);
      *w1 = q8_0_chunk (blk + 18, d, round16);
    }
  else
    {
      __m512i i = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) (blk + 2)));
      __m512 t = q4_0_table (block_d (halves, blk), round16);

      *w0 = _mm512_permutexvar_ps (GROUP_LO (i), t);
      *w1 = _mm512_permutexvar_ps (GROUP_HI (i), t);
    }
}

/* Blocks in pairs (chunks 4j .. 4j + 3 into a0 .. a3), a last odd block into
 * a0, a1: the INT8 / INT4 kernels' chunk k into accumulator k mod 4. */
static inline __attribute__ ((always_inline)) float
row_dot_q_blocks (const AneCpuPacked *p,
                  gsize               r,
                  const float        *x,
                  AneCpuPackedKind    kind,
                  gboolean            round16)
{
  const guint8 *row = p->q + r * p->row_bytes;
  const float *halves = ane_cpu_half_table ();
  gsize bb = kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? 34 : 18, b = 0;
  __m512 a0 = _mm512_setzero_ps (), a1 = _mm512_setzero_ps (), a2 = _mm512_setzero_ps (), a3 = _mm512_setzero_ps ();
  __m512 w0, w1, w2, w3;

  prefetch_blocks_row (p, row);
  for (; b + 2 <= p->n_blocks; b += 2)
    {
      block_weights (row + bb * b, kind, round16, halves, &w0, &w1);
      block_weights (row + bb * (b + 1), kind, round16, halves, &w2, &w3);
      FMA16 (a0, w0, 32 * b);
      FMA16 (a1, w1, 32 * b + 16);
      FMA16 (a2, w2, 32 * b + 32);
      FMA16 (a3, w3, 32 * b + 48);
    }
  if (b < p->n_blocks)
    {
      block_weights (row + bb * b, kind, round16, halves, &w0, &w1);
      FMA16 (a0, w0, 32 * b);
      FMA16 (a1, w1, 32 * b + 16);
    }
  return hsum (a0, a1, a2, a3);
}

/* Q8_0 blocks in an fp32 program: the split INT8 kernel's factored sums
 * (row_dot_int8_factored), on the blocks. */
static float
row_dot_q8_0_factored (const AneCpuPacked *p,
                       gsize               r,
                       const float        *x)
{
  const guint8 *row = p->q + r * p->row_bytes;
  const float *halves = ane_cpu_half_table ();

#define Q_AT(b) (row + 34 * (b) + 2)
#define S_AT(b) block_d (halves, row + 34 * (b))
  prefetch_blocks_row (p, row);
  INT8_FACTORED_ROW (Q_AT, S_AT);
#undef Q_AT
#undef S_AT
}

/* Q4_K: each 64 weights are 32 bytes of qs, sub-block 2g in their low
 * nibbles, 2g + 1 in their high ones; a UINT4 table per sub-block from the
 * program's scale and offset (cols a multiple of 256). */
static inline __attribute__ ((always_inline)) float
row_dot_q4_K_blocks (const AneCpuPacked *p,
                     gsize               r,
                     const float        *x,
                     gboolean            round16)
{
  const guint8 *row = p->q + r * p->row_bytes;
  const float *s = p->scale + r * p->n_blocks, *o = p->offset + r * p->n_blocks;
  __m512 a0 = _mm512_setzero_ps (), a1 = _mm512_setzero_ps (), a2 = _mm512_setzero_ps (), a3 = _mm512_setzero_ps ();

  prefetch_blocks_row (p, row);
  for (gsize g = 0; g < p->cols / 64; g++, s += 2, o += 2)
    {
      const guint8 *qs = row + g / 4 * 144 + 16 + g % 4 * 32;
      __m512i i0 = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) qs));
      __m512i i1 = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) (qs + 16)));
      __m512 te = nibble_table (ANE_CPU_PACKED_UINT4, s, o, TRUE, round16);
      __m512 to = nibble_table (ANE_CPU_PACKED_UINT4, s + 1, o + 1, TRUE, round16);

      FMA16 (a0, _mm512_permutexvar_ps (GROUP_LO (i0), te), 64 * g);
      FMA16 (a1, _mm512_permutexvar_ps (GROUP_LO (i1), te), 64 * g + 16);
      FMA16 (a2, _mm512_permutexvar_ps (GROUP_HI (i0), to), 64 * g + 32);
      FMA16 (a3, _mm512_permutexvar_ps (GROUP_HI (i1), to), 64 * g + 48);
    }
  return hsum (a0, a1, a2, a3);
}

#undef FMA16

static float
row_dot_blocks (const AneCpuPacked *p,
                gsize               r,
                const float        *x)
{
  switch (p->kind)
    {
    case ANE_CPU_PACKED_Q8_0_BLOCKS:
      return p->round_fp16 ? row_dot_q_blocks (p, r, x, ANE_CPU_PACKED_Q8_0_BLOCKS, TRUE)
                           : row_dot_q8_0_factored (p, r, x);
    case ANE_CPU_PACKED_Q4_0_BLOCKS:
      return p->round_fp16 ? row_dot_q_blocks (p, r, x, ANE_CPU_PACKED_Q4_0_BLOCKS, TRUE)
                           : row_dot_q_blocks (p, r, x, ANE_CPU_PACKED_Q4_0_BLOCKS, FALSE);
    case ANE_CPU_PACKED_Q4_K_BLOCKS:
      return p->round_fp16 ? row_dot_q4_K_blocks (p, r, x, TRUE) : row_dot_q4_K_blocks (p, r, x, FALSE);
    default:
      g_assert_not_reached ();
    }
}

void
ane_cpu_packed_dequantize_row_blocks_avx512 (const AneCpuPacked *p,
                                             gsize               r,
                                             float              *w)
{
  const guint8 *row = p->q + r * p->row_bytes;
  const float *halves = ane_cpu_half_table ();

  if (p->kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
    {
      const float *s = p->scale + r * p->n_blocks, *o = p->offset + r * p->n_blocks;

      for (gsize g = 0; g < p->cols / 64; g++, s += 2, o += 2, w += 64)
        {
          const guint8 *qs = row + g / 4 * 144 + 16 + g % 4 * 32;
          __m512i i0 = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) qs));
          __m512i i1 = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) (qs + 16)));
          __m512 te = nibble_table (ANE_CPU_PACKED_UINT4, s, o, TRUE, p->round_fp16);
          __m512 to = nibble_table (ANE_CPU_PACKED_UINT4, s + 1, o + 1, TRUE, p->round_fp16);

          _mm512_storeu_ps (w, _mm512_permutexvar_ps (GROUP_LO (i0), te));
          _mm512_storeu_ps (w + 16, _mm512_permutexvar_ps (GROUP_LO (i1), te));
          _mm512_storeu_ps (w + 32, _mm512_permutexvar_ps (GROUP_HI (i0), to));
          _mm512_storeu_ps (w + 48, _mm512_permutexvar_ps (GROUP_HI (i1), to));
        }
      return;
    }
  for (gsize b = 0; b < p->n_blocks; b++, w += 32)
    {
      __m512 w0, w1;

      block_weights (row + (p->kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? 34 : 18) * b, p->kind, p->round_fp16, halves,
                     &w0, &w1);
      _mm512_storeu_ps (w, w0);
      _mm512_storeu_ps (w + 16, w1);
    }
}

void
ane_cpu_packed_rows_blocks_avx512 (const AneCpuPacked *p,
                                   gsize               r0,
                                   gsize               r1,
                                   const float        *x,
                                   gsize               m,
                                   float              *out)
{
  ane_cpu_packed_rows_by (p, r0, r1, x, m, out, m == 1, row_dot_blocks, ane_cpu_packed_dequantize_row_blocks_avx512, dot);
}
