/* runtime/cpu/ane-cpu-vec-lut-avx2.c: palettized weights (ANE_CPU_PACKED_LUT)
 * with AVX2, FMA and F16C (compiled with -mavx2 -mfma -mf16c; called only
 * when the CPU has them: ane-cpu-vec.c kernels_for)
 *
 * A group's planes (ane-cpu-vec-lut.c) are unpacked 8 indices at a time
 * straight into dword lanes (one vpmovzxbd per 8 bytes of a plane, then
 * uniform or per-lane shifts and masks: the shuffle port, the bottleneck,
 * does only the widening and the lookups) and looked up in the row's
 * table: with one
 * vpermps for tables of up to 8 entries (1 to 3 bits), two and a blend on
 * index bit 3 for 16 (4 bits), a gather (vgatherdps, from L1: the table is
 * at most 1 KiB) for 64 and 256. A lookup is a table entry, so the weights
 * are the dense kernel's bit for bit (the table was rounded to fp16 when
 * the op's output is fp16).
 *
 * Order of the sums (fixed: the same whatever the thread count or the
 * number of activation rows): column chunk k (8 columns) into accumulator
 * k mod 4, a last partial chunk with zeros for the columns beyond the row,
 * then the AVX2 kernels' horizontal sum (ane-cpu-vec-avx2.c hsum).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <immintrin.h>
#include <string.h>

#include "runtime/cpu/ane-cpu-vec-avx2-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"

#define PREFETCH_ROWS 4

/* 8 weights: the entries of the dword indices idx. */
static inline __attribute__ ((always_inline)) __m256
lookup8 (const float *t,
         __m256       t0,
         __m256       t1,
         __m256i      idx,
         guint        bits)
{
  if (bits <= 3)
    return _mm256_permutevar8x32_ps (t0, idx);
  if (bits == 4)
    return _mm256_blendv_ps (_mm256_permutevar8x32_ps (t0, idx), _mm256_permutevar8x32_ps (t1, idx),
                             _mm256_castsi256_ps (_mm256_slli_epi32 (idx, 28)));
  return _mm256_i32gather_ps (t, idx, 4);
}

static inline __m256i
bytes8 (const guint8 *q)
{
  return _mm256_cvtepu8_epi32 (_mm_loadl_epi64 ((const __m128i *) q));
}

/* The planes' bits, each in bit 0 of its lane. The bits above are not
 * masked off where the lookup ignores them: vpermps reads an index's low 3
 * bits, and a table of 2 or 4 entries is repeated (ane-cpu-vec-lut.c); a
 * 4-bit index's bit 3 picks the table half by the sign of idx << 28. */

/* 1-bit plane: bit 8k + l of the word is lane l of chunk k. */
static inline __attribute__ ((always_inline)) void
plane1 (const guint8 *q,
        __m256i      *i)
{
  guint32 u;
  __m256i b;

  memcpy (&u, q, sizeof u);
  b = _mm256_set1_epi32 ((gint) u);
  i[0] = _mm256_srlv_epi32 (b, _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7));
  i[1] = _mm256_srlv_epi32 (b, _mm256_setr_epi32 (8, 9, 10, 11, 12, 13, 14, 15));
  i[2] = _mm256_srlv_epi32 (b, _mm256_setr_epi32 (16, 17, 18, 19, 20, 21, 22, 23));
  i[3] = _mm256_srlv_epi32 (b, _mm256_setr_epi32 (24, 25, 26, 27, 28, 29, 30, 31));
}

/* 2-bit plane: bits 2k, 2k + 1 of byte l are lane l of chunk k. */
static inline __attribute__ ((always_inline)) void
plane2 (const guint8 *q,
        __m256i      *i)
{
  __m256i c = bytes8 (q);

  i[0] = c;
  i[1] = _mm256_srli_epi32 (c, 2);
  i[2] = _mm256_srli_epi32 (c, 4);
  i[3] = _mm256_srli_epi32 (c, 6);
}

/* 4-bit plane: byte l holds weight l (low nibble) and l + 16 (high). */
static inline __attribute__ ((always_inline)) void
plane4 (const guint8 *q,
        __m256i      *i)
{
  __m256i n0 = bytes8 (q), n1 = bytes8 (q + 8);

  i[0] = n0;
  i[1] = n1;
  i[2] = _mm256_srli_epi32 (n0, 4);
  i[3] = _mm256_srli_epi32 (n1, 4);
}

/* The dword indices of the group at g, chunk k (columns 8k .. 8k + 7) in
 * i[k]: exact for 6 and 8 bits (the gathers), else exact in the bits the
 * lookup reads. */
static inline __attribute__ ((always_inline)) void
group_indices (const guint8 *g,
               guint         bits,
               __m256i      *i)
{
  __m256i hi[4];

  switch (bits)
    {
    case 1: plane1 (g, i); return;
    case 2: plane2 (g, i); return;
    case 4: plane4 (g, i); return;
    case 3:
      plane2 (g, i);
      plane1 (g + 8, hi);
      for (int k = 0; k < 4; k++)
        i[k] = _mm256_or_si256 (_mm256_and_si256 (i[k], _mm256_set1_epi32 (3)), _mm256_slli_epi32 (hi[k], 2));
      return;
    case 6:
      plane4 (g, i);
      plane2 (g + 16, hi);
      for (int k = 0; k < 4; k++)
        i[k] = _mm256_or_si256 (_mm256_and_si256 (i[k], _mm256_set1_epi32 (15)),
                                _mm256_slli_epi32 (_mm256_and_si256 (hi[k], _mm256_set1_epi32 (3)), 4));
      return;
    default:
      for (int k = 0; k < 4; k++)
        i[k] = bytes8 (g + 8 * k);
      return;
    }
}

/* The 32 weights of the group at g as four vectors of 8 (columns 0..7, ...). */
static inline __attribute__ ((always_inline)) void
group_weights (const guint8 *g,
               const float  *t,
               __m256        t0,
               __m256        t1,
               guint         bits,
               __m256       *w)
{
  __m256i i[4];

  group_indices (g, bits, i);
  for (int k = 0; k < 4; k++)
    w[k] = lookup8 (t, t0, t1, i[k], bits);
}

static inline __attribute__ ((always_inline)) float
row_dot_bits (const AneCpuPacked *p,
              gsize               r,
              const float        *x,
              guint               bits)
{
  const guint8 *row = p->q + r * p->row_bytes;
  const float *t = p->lut + (r / p->row_group) * p->lut_stride;
  __m256 t0 = _mm256_loadu_ps (t), t1 = _mm256_loadu_ps (t + 8);
  __m256 a0 = _mm256_setzero_ps (), a1 = _mm256_setzero_ps (), a2 = _mm256_setzero_ps (), a3 = _mm256_setzero_ps ();
  gsize full = p->cols / 32, gb = 4 * (gsize) bits, g = 0;

  /* the row PREFETCH_ROWS ahead, as the other AVX2 kernels */
  for (gsize b = 0; b < p->row_bytes; b += 64)
    _mm_prefetch ((const char *) row + PREFETCH_ROWS * p->row_bytes + b, _MM_HINT_T0);
  for (; g < full; g++)
    {
      __m256 w[4];
      const float *xg = x + 32 * g;

      group_weights (row + g * gb, t, t0, t1, bits, w);
      a0 = _mm256_fmadd_ps (w[0], _mm256_loadu_ps (xg), a0);
      a1 = _mm256_fmadd_ps (w[1], _mm256_loadu_ps (xg + 8), a1);
      a2 = _mm256_fmadd_ps (w[2], _mm256_loadu_ps (xg + 16), a2);
      a3 = _mm256_fmadd_ps (w[3], _mm256_loadu_ps (xg + 24), a3);
    }
  if (32 * g < p->cols)
    {
      /* the partial last group: its chunks masked (the padding's weights
       * zeroed, so an infinite T[0] cannot make a NaN), chunk k still into
       * accumulator k mod 4 */
      gsize rest = p->cols - 32 * g;
      __m256 w[4], *acc[4] = { &a0, &a1, &a2, &a3 };

      group_weights (row + g * gb, t, t0, t1, bits, w);
      for (gsize k = 0; k < 4 && 8 * k < rest; k++)
        {
          __m256i mask = ane_avx2_lane_mask (MIN (rest - 8 * k, 8));

          *acc[k] = _mm256_fmadd_ps (_mm256_and_ps (w[k], _mm256_castsi256_ps (mask)),
                                     _mm256_maskload_ps (x + 32 * g + 8 * k, mask), *acc[k]);
        }
    }
  return ane_avx2_hsum (a0, a1, a2, a3);
}

static float
row_dot (const AneCpuPacked *p,
         gsize               r,
         const float        *x)
{
  switch (p->lut_bits)
    {
    case 1: return row_dot_bits (p, r, x, 1);
    case 2: return row_dot_bits (p, r, x, 2);
    case 3: return row_dot_bits (p, r, x, 3);
    case 4: return row_dot_bits (p, r, x, 4);
    case 6: return row_dot_bits (p, r, x, 6);
    case 8: return row_dot_bits (p, r, x, 8);
    default: g_assert_not_reached ();
    }
  return 0.0f;
}

static inline __attribute__ ((always_inline)) void
dequantize_bits (const AneCpuPacked *p,
                 gsize               r,
                 float              *dst,
                 guint               bits)
{
  const guint8 *row = p->q + r * p->row_bytes;
  const float *t = p->lut + (r / p->row_group) * p->lut_stride;
  __m256 t0 = _mm256_loadu_ps (t), t1 = _mm256_loadu_ps (t + 8);
  gsize gb = 4 * (gsize) bits;

  for (gsize g = 0; 32 * g < p->cols; g++)
    {
      __m256 w[4];
      gsize rest = p->cols - 32 * g;

      group_weights (row + g * gb, t, t0, t1, bits, w);
      if (rest >= 32)
        for (gsize k = 0; k < 4; k++)
          _mm256_storeu_ps (dst + 32 * g + 8 * k, w[k]);
      else
        for (gsize k = 0; k < 4 && 8 * k < rest; k++)
          _mm256_maskstore_ps (dst + 32 * g + 8 * k, ane_avx2_lane_mask (MIN (rest - 8 * k, 8)), w[k]);
    }
}

void
ane_cpu_packed_dequantize_row_lut_avx2 (const AneCpuPacked *p,
                                        gsize               r,
                                        float              *dst)
{
  switch (p->lut_bits)
    {
    case 1: dequantize_bits (p, r, dst, 1); break;
    case 2: dequantize_bits (p, r, dst, 2); break;
    case 3: dequantize_bits (p, r, dst, 3); break;
    case 4: dequantize_bits (p, r, dst, 4); break;
    case 6: dequantize_bits (p, r, dst, 6); break;
    case 8: dequantize_bits (p, r, dst, 8); break;
    default: g_assert_not_reached ();
    }
}

void
ane_cpu_packed_rows_lut_avx2 (const AneCpuPacked *p,
                              gsize               r0,
                              gsize               r1,
                              const float        *x,
                              gsize               m,
                              float              *out)
{
  ane_cpu_packed_rows_by (p, r0, r1, x, m, out, m == 1, row_dot, ane_cpu_packed_dequantize_row_lut_avx2,
                          ane_avx2_dot);
}
