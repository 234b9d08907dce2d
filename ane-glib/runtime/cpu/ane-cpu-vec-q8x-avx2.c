/* runtime/cpu/ane-cpu-vec-q8x-avx2.c: GGUF blocks times 8-bit activations, AVX2
 *
 * One block a vector: vpmaddubsw multiplies the weights' magnitudes
 * (unsigned) by the activations carrying the weights' signs (vpsignb, as
 * ggml's mul_sum_i8_pairs does) into pairs, vpmaddwd adds the pairs into
 * the 8 lanes of 4 products each that ane-cpu-vec-q8x-private.h orders.
 * No product saturates: |w| ≤ 128 and |q| ≤ 127, so a pair is at most
 * 32512. A Q4_0 nibble is unsigned already; its −8 comes in through the
 * activations' nsum; a Q4_K block's offset through their qsum. Even blocks go to one accumulator, odd ones to
 * another: lanes 0..7 and 8..15 of the portable kernel.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <immintrin.h>
#include <string.h>

#include "runtime/cpu/ane-cpu-vec-q8x-private.h"

/* Block b of a row (32 weights) against its 32 activations: the 8 lanes
 * of 4 products each. */
static inline __attribute__ ((always_inline)) __m256i
block_lanes (const guint8     *row,
             gsize             b,
             const gint8      *q,
             const gint32     *nsum,
             AneCpuPackedKind  kind)
{
  __m256i x = _mm256_loadu_si256 ((const __m256i *) q), ones = _mm256_set1_epi16 (1);

  if (kind == ANE_CPU_PACKED_Q8_0_BLOCKS)
    {
      __m256i w = _mm256_loadu_si256 ((const __m256i *) (row + 34 * b + 2));

      return _mm256_madd_epi16 (_mm256_maddubs_epi16 (_mm256_sign_epi8 (w, w), _mm256_sign_epi8 (x, w)), ones);
    }
  if (kind == ANE_CPU_PACKED_Q4_0_BLOCKS)
    {
      __m128i t = _mm_loadu_si128 ((const __m128i *) (row + 18 * b + 2)), m = _mm_set1_epi8 (15);
      __m256i n = _mm256_set_m128i (_mm_and_si128 (_mm_srli_epi16 (t, 4), m), _mm_and_si128 (t, m));

      return _mm256_add_epi32 (_mm256_madd_epi16 (_mm256_maddubs_epi16 (n, x), ones),
                               _mm256_loadu_si256 ((const __m256i *) nsum));
    }
  /* Q4_K: 32 bytes of qs hold blocks 2g (low nibbles) and 2g + 1 (high) */
  {
    __m256i t = _mm256_loadu_si256 ((const __m256i *) (row + b / 8 * 144 + 16 + b % 8 / 2 * 32));
    __m256i n = _mm256_and_si256 (b % 2 ? _mm256_srli_epi16 (t, 4) : t, _mm256_set1_epi8 (15));

    return _mm256_madd_epi16 (_mm256_maddubs_epi16 (n, x), ones);
  }
}

static inline __attribute__ ((always_inline)) float
hsum8 (__m256 v)
{
  __m128 h = _mm_add_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));

  h = _mm_add_ps (h, _mm_movehl_ps (h, h));
  return _mm_cvtss_f32 (_mm_add_ss (h, _mm_movehdup_ps (h)));
}

static inline __attribute__ ((always_inline)) void
rows_kind (const AneCpuPacked *p,
           gsize               r0,
           gsize               r1,
           const AneCpuQ8x    *a,
           float              *out,
           AneCpuPackedKind    kind)
{
  const float *halves = ane_cpu_half_table ();
  gsize nb = a->n_blocks;

  for (gsize r = r0; r < r1; r++)
    for (gsize i = 0; i < a->m; i++)
      {
        const guint8 *row = p->q + r * p->row_bytes;
        const gint8 *q = a->q + i * a->cols;
        const float *dx = a->d + i * nb;
        __m256 acc[2] = { _mm256_setzero_ps (), _mm256_setzero_ps () };
        __m256 acc_o[2] = { _mm256_setzero_ps (), _mm256_setzero_ps () };   /* Q4_K's offsets */

        for (gsize b = 0; b < nb; b++)
          {
            gsize at = (i * nb + b) * 8;
            float d = kind == ANE_CPU_PACKED_Q4_K_BLOCKS ? p->scale[r * nb + b]
                      : kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? halves[row[34 * b] | row[34 * b + 1] << 8]
                                                           : halves[row[18 * b] | row[18 * b + 1] << 8];
            float s = d * dx[b];
            __m256i lanes = block_lanes (row, b, q + 32 * b, a->nsum != NULL ? a->nsum + at : NULL, kind);

            acc[b % 2] = _mm256_fmadd_ps (_mm256_cvtepi32_ps (lanes), _mm256_set1_ps (s), acc[b % 2]);
            if (kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
              acc_o[b % 2] = _mm256_fnmadd_ps (_mm256_loadu_ps (a->qsum + at),
                                               _mm256_set1_ps (s * p->offset[r * nb + b]), acc_o[b % 2]);
          }
        if (kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
          {
            acc[0] = _mm256_add_ps (acc[0], acc_o[0]);
            acc[1] = _mm256_add_ps (acc[1], acc_o[1]);
          }
        out[i * p->rows + r] = hsum8 (_mm256_add_ps (acc[0], acc[1]));
      }
}

void
ane_cpu_q8x_rows_avx2 (const AneCpuPacked *p,
                       gsize               r0,
                       gsize               r1,
                       const AneCpuQ8x    *a,
                       float              *out)
{
  switch (p->kind)
    {
    case ANE_CPU_PACKED_Q8_0_BLOCKS:
      rows_kind (p, r0, r1, a, out, ANE_CPU_PACKED_Q8_0_BLOCKS);
      break;
    case ANE_CPU_PACKED_Q4_0_BLOCKS:
      rows_kind (p, r0, r1, a, out, ANE_CPU_PACKED_Q4_0_BLOCKS);
      break;
    default:
      rows_kind (p, r0, r1, a, out, ANE_CPU_PACKED_Q4_K_BLOCKS);
      break;
    }
}

/* --- regrouped weights (ane-cpu-vec-r16.c) ------------------------------------ */

/* 4 activations (one int32) in every lane. */
static inline __attribute__ ((always_inline)) __m256i
four_bytes (const gint8 *q)
{
  gint32 v;

  memcpy (&v, q, 4);
  return _mm256_set1_epi32 (v);
}

/* Rows 8h .. 8h + 7 of a group: the half of each 64-byte chunk holding
 * them. Q8_0's bytes are q + 128: back to q, then ggml's sign trick (no
 * pair of products saturates); Q4_0's nibbles are unsigned already. */
static inline __attribute__ ((always_inline)) __m256i
half_sum (const guint8 *blk,
          const gint8  *qb,
          guint         h,
          gint32        start,
          gboolean      q8)
{
  __m256i sum = _mm256_set1_epi32 (start), ones = _mm256_set1_epi16 (1), low = _mm256_set1_epi8 (15);

  if (q8)
    for (guint j = 0; j < 8; j++)
      {
        __m256i w = _mm256_xor_si256 (_mm256_loadu_si256 ((const __m256i *) (blk + 32 + 64 * j + 32 * h)),
                                      _mm256_set1_epi8 ((char) 0x80));
        __m256i x = four_bytes (qb + 4 * j);

        sum = _mm256_add_epi32 (sum, _mm256_madd_epi16 (_mm256_maddubs_epi16 (_mm256_sign_epi8 (w, w),
                                                                              _mm256_sign_epi8 (x, w)), ones));
      }
  else
    for (guint k = 0; k < 4; k++)
      {
        __m256i w = _mm256_loadu_si256 ((const __m256i *) (blk + 32 + 64 * k + 32 * h));

        sum = _mm256_add_epi32 (sum, _mm256_madd_epi16 (_mm256_maddubs_epi16 (_mm256_and_si256 (w, low),
                                                                              four_bytes (qb + 4 * k)), ones));
        sum = _mm256_add_epi32 (sum, _mm256_madd_epi16 (_mm256_maddubs_epi16 (_mm256_and_si256 (_mm256_srli_epi16 (w, 4), low),
                                                                              four_bytes (qb + 16 + 4 * k)), ones));
      }
  return sum;
}

static inline __attribute__ ((always_inline)) void
groups_kind (const AneCpuPacked *p,
             gsize               g0,
             gsize               g1,
             const AneCpuQ8x    *a,
             float              *out,
             gboolean            q8)
{
  gsize blk_bytes = ane_cpu_r16_block_bytes (p->kind), nb = p->n_blocks;

  for (gsize g = g0; g < g1; g++)
    for (gsize i = 0; i < a->m; i++)
      {
        const gint8 *q = a->q + i * a->cols;
        const float *dx = a->d + i * nb;
        __m256 acc[2] = { _mm256_setzero_ps (), _mm256_setzero_ps () };
        float rows[16];
        gsize valid = MIN (16, p->rows - g * 16);

        for (gsize b = 0; b < nb; b++)
          {
            const guint8 *blk = p->q + g * p->row_bytes + b * blk_bytes;
            gint32 start = q8 ? 0 : -8 * a->bsum[i * nb + b];

            for (guint h = 0; h < 2; h++)
              {
                __m256 s = _mm256_mul_ps (_mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (blk + 16 * h))),
                                          _mm256_set1_ps (dx[b]));

                acc[h] = _mm256_fmadd_ps (_mm256_cvtepi32_ps (half_sum (blk, q + 32 * b, h, start, q8)), s, acc[h]);
              }
          }
        _mm256_storeu_ps (rows, acc[0]);
        _mm256_storeu_ps (rows + 8, acc[1]);
        memcpy (out + i * p->rows + g * 16, rows, valid * sizeof (float));
      }
}

/* Q4_K (ane-cpu-vec-r16.c's layout and order), 8 rows a vector. */
static void
groups_q4_K (const AneCpuPacked *p,
             gsize               g0,
             gsize               g1,
             const AneCpuQ8x    *a,
             float              *out)
{
  gsize blk_bytes = ane_cpu_r16_block_bytes (p->kind), nb = p->n_blocks;
  __m256i low = _mm256_set1_epi8 (15), ones = _mm256_set1_epi16 (1);

  for (gsize g = g0; g < g1; g++)
    for (gsize i = 0; i < a->m; i++)
      {
        const gint8 *q = a->q + i * a->cols;
        const float *dx = a->d + i * nb;
        const gint32 *bsum = a->bsum + i * nb;
        gsize valid = MIN (16, p->rows - g * 16);
        float rows[16];

        for (guint r8 = 0; r8 < 2; r8++)
          {
            __m256 acc = _mm256_setzero_ps (), off = _mm256_setzero_ps ();

            for (gsize S = 0; S < nb / 8; S++)
              {
                const guint8 *blk = p->q + g * p->row_bytes + S * blk_bytes;
                __m256 d = _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (blk + 16 * r8)));
                __m256 dmin = _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (blk + 32 + 16 * r8)));

                for (guint h2 = 0; h2 < 4; h2++)
                  {
                    __m256i lo = _mm256_setzero_si256 (), hi = _mm256_setzero_si256 ();
                    const gint8 *qb = q + 256 * S + 64 * h2;

                    for (guint k = 0; k < 8; k++)
                      {
                        __m256i w = _mm256_loadu_si256 ((const __m256i *) (blk + 320 + 64 * (8 * h2 + k) + 32 * r8));

                        lo = _mm256_add_epi32 (lo, _mm256_madd_epi16 (_mm256_maddubs_epi16 (_mm256_and_si256 (w, low),
                                                                                            four_bytes (qb + 4 * k)), ones));
                        hi = _mm256_add_epi32 (hi, _mm256_madd_epi16 (_mm256_maddubs_epi16 (_mm256_and_si256 (_mm256_srli_epi16 (w, 4), low),
                                                                                            four_bytes (qb + 32 + 4 * k)), ones));
                      }
                    for (guint h = 0; h < 2; h++)
                      {
                        gsize j = 2 * h2 + h, b = 8 * S + j;
                        __m256 sc = _mm256_cvtepi32_ps (_mm256_cvtepu8_epi32 (_mm_loadl_epi64 ((const __m128i *) (blk + 64 + 16 * j + 8 * r8))));
                        __m256 mn = _mm256_cvtepi32_ps (_mm256_cvtepu8_epi32 (_mm_loadl_epi64 ((const __m128i *) (blk + 192 + 16 * j + 8 * r8))));
                        __m256 x = _mm256_set1_ps (dx[b]);

                        acc = _mm256_fmadd_ps (_mm256_cvtepi32_ps (h ? hi : lo), _mm256_mul_ps (_mm256_mul_ps (d, sc), x), acc);
                        off = _mm256_fmadd_ps (_mm256_set1_ps ((float) bsum[b]), _mm256_mul_ps (_mm256_mul_ps (dmin, mn), x), off);
                      }
                  }
              }
            _mm256_storeu_ps (rows + 8 * r8, _mm256_sub_ps (acc, off));
          }
        memcpy (out + i * p->rows + g * 16, rows, valid * sizeof (float));
      }
}

void
ane_cpu_q8x_groups_avx2 (const AneCpuPacked *p,
                         gsize               g0,
                         gsize               g1,
                         const AneCpuQ8x    *a,
                         float              *out)
{
  if (p->kind == ANE_CPU_PACKED_Q4_K_R16)
    groups_q4_K (p, g0, g1, a, out);
  else if (p->kind == ANE_CPU_PACKED_Q8_0_R16)
    groups_kind (p, g0, g1, a, out, TRUE);
  else
    groups_kind (p, g0, g1, a, out, FALSE);
}
