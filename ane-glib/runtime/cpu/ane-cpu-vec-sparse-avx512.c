/* runtime/cpu/ane-cpu-vec-sparse-avx512.c: pruned weights
 * (ANE_CPU_PACKED_SPARSE) with AVX-512 F/BW/VL/DQ (compiled with the
 * AVX-512 flags of ane-cpu-vec-avx512.c; called only when the CPU has
 * them: ane-cpu-vec.c kernels_for)
 *
 * 16 columns at a time: their mask bits are a __mmask16 as they lie in the
 * row (two bytes, little-endian), the next 16 kept values are loaded
 * (halves widened with vcvtph2ps) and vexpandps places them in the set
 * lanes, zeroing the others (+0.0, the dense kernel's dropped weight); the
 * value pointer moves by the mask's count of set bits. A row's last loads
 * may read up to 16 values past it: the packer leaves 16 of slack
 * (ane-cpu-vec-sparse.c).
 *
 * Order of the sums (fixed: the same whatever the thread count or the
 * number of activation rows): column chunk k (16 columns) into accumulator
 * k mod 4, a last partial chunk with zeros beyond the row, then
 * _mm512_reduce_add_ps of their sum (the LUT kernels' order,
 * ane-cpu-vec-lut-avx512.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <immintrin.h>
#include <string.h>

#include "runtime/cpu/ane-cpu-vec-avx512-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"
#include "runtime/cpu/ane-cpu-vec-sparse-x86-private.h"

static inline guint
mask16 (const guint8 *mask,
        gsize         k)
{
  return (guint) mask[2 * k] | (guint) mask[2 * k + 1] << 8;
}

/* A 16-bit count of set bits with no POPCNT (not among the flags this
 * unit is built with, though every AVX-512 CPU has it): the SWAR sum. */
static inline guint
count16 (guint m)
{
  m = m - ((m >> 1) & 0x5555u);
  m = (m & 0x3333u) + ((m >> 2) & 0x3333u);
  m = (m + (m >> 4)) & 0x0f0fu;
  return (m + (m >> 8)) & 0x1fu;
}

/* The 16 weights of mask m from the values at v. */
static inline __attribute__ ((always_inline)) __m512
expand16k (const guint8 *v,
           __mmask16     m,
           gsize         width)
{
  __m512 vals = width == 2 ? _mm512_cvtph_ps (_mm256_loadu_si256 ((const __m256i *) v))
                           : _mm512_loadu_ps ((const float *) v);

  return _mm512_maskz_expand_ps (m, vals);
}

static inline __attribute__ ((always_inline)) __m512
expand16 (const guint8 *v,
          guint         m,
          gsize         width)
{
  return expand16k (v, (__mmask16) m, width);
}

/* Chunk k's mask bits loaded into a mask register from memory (kmovw
 * m16: a load, not the shuffle port's kmovw from a general register). */
static inline __mmask16
mask_at (const guint8 *mask,
         gsize         k)
{
  return _load_mask16 ((__mmask16 *) (mask + 2 * k));
}

/* The counts of set bits of the four 16-bit chunks of m, each in its
 * chunk's low byte (SWAR: POPCNT is not among this unit's flags). */
static inline guint64
counts16x4 (guint64 m)
{
  m = m - ((m >> 1) & G_GUINT64_CONSTANT (0x5555555555555555));
  m = (m & G_GUINT64_CONSTANT (0x3333333333333333)) + ((m >> 2) & G_GUINT64_CONSTANT (0x3333333333333333));
  m = (m + (m >> 4)) & G_GUINT64_CONSTANT (0x0f0f0f0f0f0f0f0f);
  return (m + (m >> 8)) & G_GUINT64_CONSTANT (0x00ff00ff00ff00ff);
}

static inline __attribute__ ((always_inline)) float
row_dot_width (const AneCpuPacked *p,
               gsize               r,
               const float        *x,
               gsize               width)
{
  const guint8 *mask = p->q + r * p->row_bytes;
  const guint8 *v = p->nz + p->nz_start[r] * width;
  __m512 a0 = _mm512_setzero_ps (), a1 = _mm512_setzero_ps (), a2 = _mm512_setzero_ps (), a3 = _mm512_setzero_ps ();
  __m512 acc[4];
  gsize full = p->cols / 16, k = 0;

  ane_cpu_sparse_prefetch_row (p, r);

  /* 64 columns a step, four chunks into four accumulators: their values'
   * starts from one count of the mask word, so the four loads do not wait
   * for one another */
  for (; k + 4 <= full; k += 4)
    {
      guint64 m, c;
      const guint8 *v1, *v2, *v3;

      memcpy (&m, mask + 2 * k, sizeof m);
      c = counts16x4 (m);
      v1 = v + (c & 0xff) * width;
      v2 = v1 + ((c >> 16) & 0xff) * width;
      v3 = v2 + ((c >> 32) & 0xff) * width;
      a0 = _mm512_fmadd_ps (expand16k (v, mask_at (mask, k), width), _mm512_loadu_ps (x + 16 * k), a0);
      a1 = _mm512_fmadd_ps (expand16k (v1, mask_at (mask, k + 1), width), _mm512_loadu_ps (x + 16 * k + 16), a1);
      a2 = _mm512_fmadd_ps (expand16k (v2, mask_at (mask, k + 2), width), _mm512_loadu_ps (x + 16 * k + 32), a2);
      a3 = _mm512_fmadd_ps (expand16k (v3, mask_at (mask, k + 3), width), _mm512_loadu_ps (x + 16 * k + 48), a3);
      v = v3 + (c >> 48) * width;
    }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
  for (; k < full; k++)
    {
      guint m = mask16 (mask, k);

      acc[k % 4] = _mm512_fmadd_ps (expand16 (v, m, width), _mm512_loadu_ps (x + 16 * k), acc[k % 4]);
      v += count16 (m) * width;
    }
  if (p->cols % 16 != 0)
    acc[full % 4] = _mm512_fmadd_ps (expand16 (v, mask16 (mask, full), width),
                                     _mm512_maskz_loadu_ps (ane_avx512_tail_mask (p->cols % 16), x + 16 * full),
                                     acc[full % 4]);
  return ane_avx512_hsum (acc[0], acc[1], acc[2], acc[3]);
}

static float
row_dot (const AneCpuPacked *p,
         gsize               r,
         const float        *x)
{
  return p->nz_width == 2 ? row_dot_width (p, r, x, 2) : row_dot_width (p, r, x, 4);
}

static inline __attribute__ ((always_inline)) void
dequantize_width (const AneCpuPacked *p,
                  gsize               r,
                  float              *dst,
                  gsize               width)
{
  const guint8 *mask = p->q + r * p->row_bytes;
  const guint8 *v = p->nz + p->nz_start[r] * width;
  gsize full = p->cols / 16;

  for (gsize k = 0; k < full; k++)
    {
      guint m = mask16 (mask, k);

      _mm512_storeu_ps (dst + 16 * k, expand16 (v, m, width));
      v += count16 (m) * width;
    }
  if (p->cols % 16 != 0)
    _mm512_mask_storeu_ps (dst + 16 * full, ane_avx512_tail_mask (p->cols % 16),
                           expand16 (v, mask16 (mask, full), width));
}

void
ane_cpu_packed_dequantize_row_sparse_avx512 (const AneCpuPacked *p,
                                             gsize               r,
                                             float              *dst)
{
  if (p->nz_width == 2)
    dequantize_width (p, r, dst, 2);
  else
    dequantize_width (p, r, dst, 4);
}

void
ane_cpu_packed_rows_sparse_avx512 (const AneCpuPacked *p,
                                   gsize               r0,
                                   gsize               r1,
                                   const float        *x,
                                   gsize               m,
                                   float              *out)
{
  ane_cpu_packed_rows_by (p, r0, r1, x, m, out, m == 1, row_dot, ane_cpu_packed_dequantize_row_sparse_avx512,
                          ane_avx512_dot);
}
