/* runtime/cpu/ane-cpu-vec-q8x-avx2.c: GGUF blocks times 8-bit activations, AVX2
 *
 * One block a vector: vpmaddubsw multiplies the weights' magnitudes
 * (unsigned) by the activations carrying the weights' signs (vpsignb, as
 * ggml's mul_sum_i8_pairs does) into pairs, vpmaddwd adds the pairs into
 * the 8 lanes of 4 products each that ane-cpu-vec-q8x-private.h orders.
 * No product saturates: |w| ≤ 128 and |q| ≤ 127, so a pair is at most
 * 32512. A Q4_0 nibble is unsigned already; its −8 comes in through the
 * activations' nsum. Even blocks go to one accumulator, odd ones to
 * another: lanes 0..7 and 8..15 of the portable kernel.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <immintrin.h>

#include "runtime/cpu/ane-cpu-vec-q8x-private.h"

static inline __attribute__ ((always_inline)) __m256i
block_lanes (const guint8 *blk,
             const gint8  *q,
             const gint32 *nsum,
             gboolean      q8)
{
  __m256i x = _mm256_loadu_si256 ((const __m256i *) q);
  __m256i pairs;

  if (q8)
    {
      __m256i w = _mm256_loadu_si256 ((const __m256i *) (blk + 2));

      pairs = _mm256_maddubs_epi16 (_mm256_sign_epi8 (w, w), _mm256_sign_epi8 (x, w));
      return _mm256_madd_epi16 (pairs, _mm256_set1_epi16 (1));
    }
  else
    {
      __m128i t = _mm_loadu_si128 ((const __m128i *) (blk + 2)), m = _mm_set1_epi8 (15);
      __m256i n = _mm256_set_m128i (_mm_and_si128 (_mm_srli_epi16 (t, 4), m), _mm_and_si128 (t, m));

      pairs = _mm256_maddubs_epi16 (n, x);
      return _mm256_add_epi32 (_mm256_madd_epi16 (pairs, _mm256_set1_epi16 (1)),
                               _mm256_loadu_si256 ((const __m256i *) nsum));
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
           gboolean            q8)
{
  const float *halves = ane_cpu_half_table ();
  gsize bb = q8 ? 34 : 18, nb = a->n_blocks;

  for (gsize r = r0; r < r1; r++)
    for (gsize i = 0; i < a->m; i++)
      {
        const guint8 *row = p->q + r * p->row_bytes;
        const gint8 *q = a->q + i * a->cols;
        const float *dx = a->d + i * nb;
        const gint32 *nsum = q8 ? NULL : a->nsum + i * nb * 8;
        __m256 acc[2] = { _mm256_setzero_ps (), _mm256_setzero_ps () };

        for (gsize b = 0; b < nb; b++)
          {
            const guint8 *blk = row + b * bb;
            __m256 s = _mm256_set1_ps (halves[blk[0] | blk[1] << 8] * dx[b]);
            __m256i lanes = block_lanes (blk, q + 32 * b, q8 ? NULL : nsum + 8 * b, q8);

            acc[b % 2] = _mm256_fmadd_ps (_mm256_cvtepi32_ps (lanes), s, acc[b % 2]);
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
  if (p->kind == ANE_CPU_PACKED_Q8_0_BLOCKS)
    rows_kind (p, r0, r1, a, out, TRUE);
  else
    rows_kind (p, r0, r1, a, out, FALSE);
}
