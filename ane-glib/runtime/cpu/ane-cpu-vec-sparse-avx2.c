/* runtime/cpu/ane-cpu-vec-sparse-avx2.c: pruned weights
 * (ANE_CPU_PACKED_SPARSE) with AVX2, FMA and F16C (compiled with -mavx2
 * -mfma -mf16c; called only when the CPU has them: ane-cpu-vec.c
 * kernels_for)
 *
 * AVX2 has no expand instruction, so a mask byte (8 columns) picks a row
 * of a 256-entry table (8 KiB, made on first use): lane l's source among
 * the next 8 kept values (the count of set bits below l), its sign bit set
 * when bit l is clear. The next 8 values are loaded (halves widened with
 * vcvtph2ps), vpermps puts each kept one in its column (it reads an
 * index's low 3 bits), and the lanes whose sign is set are cleared to
 * +0.0, the dense kernel's dropped weight; the value pointer then moves by
 * the byte's count of set bits (a 256-byte table: no POPCNT needed). A
 * row's last loads may read up to 8 values past it: the packer leaves 16
 * of slack after the last (ane-cpu-vec-sparse.c).
 *
 * Order of the sums (fixed: the same whatever the thread count or the
 * number of activation rows): column chunk k (8 columns) into accumulator
 * k mod 4, a last partial chunk with zeros beyond the row, then the AVX2
 * kernels' horizontal sum (the LUT kernels' order, ane-cpu-vec-lut-avx2.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <immintrin.h>
#include <string.h>

#include "runtime/cpu/ane-cpu-vec-avx2-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"
#include "runtime/cpu/ane-cpu-vec-sparse-x86-private.h"

typedef struct {
  gint32 perm[256][8];
  guint8 count[256];
} ExpandTable;

static const ExpandTable *
expand_table (void)
{
  static gsize made = 0;
  static ExpandTable *table;

  if (g_once_init_enter (&made))
    {
      ExpandTable *t = g_malloc (sizeof *t);

      for (guint m = 0; m < 256; m++)
        {
          guint n = 0;

          for (guint l = 0; l < 8; l++)
            {
              if ((m >> l) & 1u)
                t->perm[m][l] = (gint32) n++;
              else
                t->perm[m][l] = G_MININT32;   /* sign set: cleared */
            }
          t->count[m] = (guint8) n;
        }
      table = t;
      g_once_init_leave (&made, 1);
    }
  return table;
}

/* The 8 weights of mask byte m from the values at v. */
static inline __attribute__ ((always_inline)) __m256
expand8 (const ExpandTable *t,
         const guint8      *v,
         guint              m,
         gsize              width)
{
  __m256 vals = width == 2 ? _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) v))
                           : _mm256_loadu_ps ((const float *) v);
  __m256i perm = _mm256_loadu_si256 ((const __m256i *) t->perm[m]);
  __m256 drop = _mm256_castsi256_ps (_mm256_srai_epi32 (perm, 31));

  return _mm256_andnot_ps (drop, _mm256_permutevar8x32_ps (vals, perm));
}

static inline __attribute__ ((always_inline)) float
row_dot_width (const AneCpuPacked *p,
               gsize               r,
               const float        *x,
               gsize               width)
{
  const ExpandTable *t = expand_table ();
  const guint8 *mask = p->q + r * p->row_bytes;
  const guint8 *v = p->nz + p->nz_start[r] * width;
  __m256 a0 = _mm256_setzero_ps (), a1 = _mm256_setzero_ps (), a2 = _mm256_setzero_ps (), a3 = _mm256_setzero_ps ();
  __m256 acc[4];
  gsize full = p->cols / 8, k = 0;

  ane_cpu_sparse_prefetch_row (p, r);

  /* 32 columns a step, four chunks into four accumulators (named: an
   * array of them was kept in memory), their values' starts from the four
   * bytes' counts */
  for (; k + 4 <= full; k += 4)
    {
      guint m0 = mask[k], m1 = mask[k + 1], m2 = mask[k + 2], m3 = mask[k + 3];
      const guint8 *v1 = v + t->count[m0] * width, *v2 = v1 + t->count[m1] * width;
      const guint8 *v3 = v2 + t->count[m2] * width;

      a0 = _mm256_fmadd_ps (expand8 (t, v, m0, width), _mm256_loadu_ps (x + 8 * k), a0);
      a1 = _mm256_fmadd_ps (expand8 (t, v1, m1, width), _mm256_loadu_ps (x + 8 * k + 8), a1);
      a2 = _mm256_fmadd_ps (expand8 (t, v2, m2, width), _mm256_loadu_ps (x + 8 * k + 16), a2);
      a3 = _mm256_fmadd_ps (expand8 (t, v3, m3, width), _mm256_loadu_ps (x + 8 * k + 24), a3);
      v = v3 + t->count[m3] * width;
    }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
  for (; k < full; k++)
    {
      guint m = mask[k];

      acc[k % 4] = _mm256_fmadd_ps (expand8 (t, v, m, width), _mm256_loadu_ps (x + 8 * k), acc[k % 4]);
      v += t->count[m] * width;
    }
  if (p->cols % 8 != 0)
    acc[full % 4] = _mm256_fmadd_ps (expand8 (t, v, mask[full], width),
                                     _mm256_maskload_ps (x + 8 * full, ane_avx2_lane_mask (p->cols % 8)),
                                     acc[full % 4]);
  return ane_avx2_hsum (acc[0], acc[1], acc[2], acc[3]);
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
  const ExpandTable *t = expand_table ();
  const guint8 *mask = p->q + r * p->row_bytes;
  const guint8 *v = p->nz + p->nz_start[r] * width;
  gsize full = p->cols / 8;

  for (gsize k = 0; k < full; k++)
    {
      guint m = mask[k];

      _mm256_storeu_ps (dst + 8 * k, expand8 (t, v, m, width));
      v += t->count[m] * width;
    }
  if (p->cols % 8 != 0)
    _mm256_maskstore_ps (dst + 8 * full, ane_avx2_lane_mask (p->cols % 8), expand8 (t, v, mask[full], width));
}

void
ane_cpu_packed_dequantize_row_sparse_avx2 (const AneCpuPacked *p,
                                           gsize               r,
                                           float              *dst)
{
  if (p->nz_width == 2)
    dequantize_width (p, r, dst, 2);
  else
    dequantize_width (p, r, dst, 4);
}

void
ane_cpu_packed_rows_sparse_avx2 (const AneCpuPacked *p,
                                 gsize               r0,
                                 gsize               r1,
                                 const float        *x,
                                 gsize               m,
                                 float              *out)
{
  ane_cpu_packed_rows_by (p, r0, r1, x, m, out, m == 1, row_dot, ane_cpu_packed_dequantize_row_sparse_avx2,
                          ane_avx2_dot);
}
