/* runtime/cpu/ane-cpu-vec-lut-avx512.c: palettized weights
 * (ANE_CPU_PACKED_LUT) with AVX-512 F/BW/VL/DQ, FMA and F16C (compiled with
 * those -m flags; called only when the CPU and the OS have them:
 * ane-cpu-vec.c kernels_for)
 *
 * A group's planes (ane-cpu-vec-lut.c) are unpacked 16 indices at a time
 * straight into dword lanes (at most one vpmovzxbd per plane and 16
 * indices, the rest shifts and masks off the shuffle port), and looked up
 * in the row's table held in registers: one vpermps
 * (_mm512_permutexvar_ps) for tables of up to 16 entries (1 to 4 bits; a
 * 4-bit group's nibbles need no mask, vpermps reads only the low 4 bits of
 * each index, as the INT4 kernels of ane-cpu-vec-avx512.c), two two-table
 * vpermt2ps and a blend on index bit 5 (its mask by vpmovd2m, not the
 * shuffle port's vptestmd) for 64 entries (6 bits), a gather (from L1) for
 * 256. The lookups are table entries: the dense kernel's weights bit for
 * bit.
 *
 * Order of the sums (fixed): column chunk k (16 columns) into accumulator
 * k mod 4, a partial last chunk with zeros beyond the row, then
 * (a0 + a1) + (a2 + a3) and _mm512_reduce_add_ps's fixed tree.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <immintrin.h>
#include <string.h>

#include "runtime/cpu/ane-cpu-vec-avx512-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"

#define PREFETCH_ROWS 4

typedef struct {
  const float *t;
  __m512 t0, t1, t2, t3;
} Table;

static inline __attribute__ ((always_inline)) void
table_load (Table              *tb,
            const AneCpuPacked *p,
            gsize               r,
            guint               bits)
{
  tb->t = p->lut + (r / p->row_group) * p->lut_stride;
  tb->t0 = _mm512_loadu_ps (tb->t);
  tb->t1 = tb->t2 = tb->t3 = tb->t0;
  if (bits == 6)
    {
      tb->t1 = _mm512_loadu_ps (tb->t + 16);
      tb->t2 = _mm512_loadu_ps (tb->t + 32);
      tb->t3 = _mm512_loadu_ps (tb->t + 48);
    }
}

static inline __attribute__ ((always_inline)) __m512
lookup16 (const Table *tb,
          __m512i      idx,
          guint        bits)
{
  if (bits <= 4)
    return _mm512_permutexvar_ps (idx, tb->t0);
  if (bits == 6)
    return _mm512_mask_blend_ps (_mm512_movepi32_mask (_mm512_slli_epi32 (idx, 26)),
                                 _mm512_permutex2var_ps (tb->t0, idx, tb->t1),
                                 _mm512_permutex2var_ps (tb->t2, idx, tb->t3));
  return _mm512_i32gather_ps (idx, tb->t, 4);
}

/* The planes' bits, each in bit 0 of its lane. The bits above are not
 * masked off where the lookup ignores them: vpermps reads an index's low 4
 * bits, and a table of 2, 4 or 8 entries is repeated (ane-cpu-vec-lut.c);
 * a 6-bit index's vpermt2ps read its bits 0..4, the blend its bit 5.
 *
 * 1-bit plane: bit l of the word is weight l; lanes of the word broadcast
 * (from memory: the load port) shifted each by its own count. */
static inline __attribute__ ((always_inline)) void
plane1 (const guint8 *q,
        __m512i      *i0,
        __m512i      *i1)
{
  guint32 u;
  __m512i b;

  memcpy (&u, q, sizeof u);
  b = _mm512_set1_epi32 ((int) u);
  *i0 = _mm512_srlv_epi32 (b, _mm512_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  *i1 = _mm512_srlv_epi32 (b, _mm512_setr_epi32 (16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31));
}

/* 2-bit plane: bits 2k, 2k + 1 of byte l are weight l + 8k. The 8 bytes
 * twice (one 8-byte load broadcast; the plane need not be 8-byte aligned,
 * so memcpy rather than a double load), widened: lane l holds byte l mod
 * 8, and weight l (l < 16) is that >> 2 (l / 8), weight l + 16 that >> 2
 * (l / 8 + 2). */
static inline __attribute__ ((always_inline)) void
plane2 (const guint8 *q,
        __m512i      *i0,
        __m512i      *i1)
{
  guint64 v;
  __m512i c;

  memcpy (&v, q, 8);
  c = _mm512_cvtepu8_epi32 (_mm_set1_epi64x ((long long) v));

  *i0 = _mm512_srlv_epi32 (c, _mm512_setr_epi32 (0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2));
  *i1 = _mm512_srlv_epi32 (c, _mm512_setr_epi32 (4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6));
}

/* The 32 weights of the group at g: columns 0..15 in *w0, 16..31 in *w1. */
static inline __attribute__ ((always_inline)) void
group_weights (const guint8 *g,
               const Table  *tb,
               guint         bits,
               __m512       *w0,
               __m512       *w1)
{
  __m512i i0, i1, h0, h1;

  switch (bits)
    {
    case 1:
      plane1 (g, &i0, &i1);
      break;
    case 2:
      plane2 (g, &i0, &i1);
      break;
    case 3:
      /* bits 0, 1 from the 2-bit plane, 2 and up from the 1-bit one
       * (vpternlogd 0xE4: C ? A : B bit by bit) */
      plane2 (g, &i0, &i1);
      plane1 (g + 8, &h0, &h1);
      i0 = _mm512_ternarylogic_epi32 (i0, _mm512_slli_epi32 (h0, 2), _mm512_set1_epi32 (3), 0xE4);
      i1 = _mm512_ternarylogic_epi32 (i1, _mm512_slli_epi32 (h1, 2), _mm512_set1_epi32 (3), 0xE4);
      break;
    case 4:
      /* low nibbles as they are, high ones shifted down: vpermps ignores the rest */
      i0 = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) g));
      i1 = _mm512_srli_epi32 (i0, 4);
      break;
    case 6:
      /* bits 0..3 from the nibbles, 4 and up from the 2-bit plane */
      i0 = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) g));
      i1 = _mm512_srli_epi32 (i0, 4);
      plane2 (g + 16, &h0, &h1);
      i0 = _mm512_ternarylogic_epi32 (i0, _mm512_slli_epi32 (h0, 4), _mm512_set1_epi32 (15), 0xE4);
      i1 = _mm512_ternarylogic_epi32 (i1, _mm512_slli_epi32 (h1, 4), _mm512_set1_epi32 (15), 0xE4);
      break;
    default:
      i0 = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) g));
      i1 = _mm512_cvtepu8_epi32 (_mm_loadu_si128 ((const __m128i *) (g + 16)));
      break;
    }
  *w0 = lookup16 (tb, i0, bits);
  *w1 = lookup16 (tb, i1, bits);
}

#define FMA16(acc, w, col) ((acc) = _mm512_fmadd_ps ((w), _mm512_loadu_ps (x + (col)), (acc)))

static inline __attribute__ ((always_inline)) float
row_dot_bits (const AneCpuPacked *p,
              gsize               r,
              const float        *x,
              guint               bits)
{
  const guint8 *row = p->q + r * p->row_bytes;
  __m512 a0 = _mm512_setzero_ps (), a1 = _mm512_setzero_ps (), a2 = _mm512_setzero_ps (), a3 = _mm512_setzero_ps ();
  gsize full = p->cols / 32, gb = 4 * (gsize) bits, g = 0;
  Table tb;

  table_load (&tb, p, r, bits);
  for (gsize b = 0; b < p->row_bytes; b += 64)
    _mm_prefetch ((const char *) row + PREFETCH_ROWS * p->row_bytes + b, _MM_HINT_T0);
  /* two groups a turn: chunks 4j .. 4j + 3 into a0 .. a3 */
  for (; g + 2 <= full; g += 2)
    {
      __m512 w0, w1, w2, w3;

      group_weights (row + g * gb, &tb, bits, &w0, &w1);
      group_weights (row + (g + 1) * gb, &tb, bits, &w2, &w3);
      FMA16 (a0, w0, 32 * g);
      FMA16 (a1, w1, 32 * g + 16);
      FMA16 (a2, w2, 32 * g + 32);
      FMA16 (a3, w3, 32 * g + 48);
    }
  /* a last whole group, then a partial one (its chunks masked: zero
   * weights and activations beyond the row), chunk k into k mod 4 */
  for (; 32 * g < p->cols; g++)
    {
      gsize rest = p->cols - 32 * g, n0 = MIN (rest, 16), n1 = rest > 16 ? MIN (rest - 16, 16) : 0;
      __mmask16 m0 = ane_avx512_tail_mask (n0), m1 = ane_avx512_tail_mask (n1);
      __m512 w0, w1, x0, x1;

      group_weights (row + g * gb, &tb, bits, &w0, &w1);
      x0 = _mm512_maskz_loadu_ps (m0, x + 32 * g);
      x1 = _mm512_maskz_loadu_ps (m1, x + 32 * g + 16);
      w0 = _mm512_maskz_mov_ps (m0, w0);
      w1 = _mm512_maskz_mov_ps (m1, w1);
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
    }
  return ane_avx512_hsum (a0, a1, a2, a3);
}

#undef FMA16

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
  gsize gb = 4 * (gsize) bits;
  Table tb;

  table_load (&tb, p, r, bits);
  for (gsize g = 0; 32 * g < p->cols; g++)
    {
      gsize rest = p->cols - 32 * g;
      __m512 w0, w1;

      group_weights (row + g * gb, &tb, bits, &w0, &w1);
      if (rest >= 32)
        {
          _mm512_storeu_ps (dst + 32 * g, w0);
          _mm512_storeu_ps (dst + 32 * g + 16, w1);
          continue;
        }
      _mm512_mask_storeu_ps (dst + 32 * g, ane_avx512_tail_mask (MIN (rest, 16)), w0);
      if (rest > 16)
        _mm512_mask_storeu_ps (dst + 32 * g + 16, ane_avx512_tail_mask (rest - 16), w1);
    }
}

void
ane_cpu_packed_dequantize_row_lut_avx512 (const AneCpuPacked *p,
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
ane_cpu_packed_rows_lut_avx512 (const AneCpuPacked *p,
                                gsize               r0,
                                gsize               r1,
                                const float        *x,
                                gsize               m,
                                float              *out)
{
  ane_cpu_packed_rows_by (p, r0, r1, x, m, out, m == 1, row_dot, ane_cpu_packed_dequantize_row_lut_avx512,
                          ane_avx512_dot);
}
