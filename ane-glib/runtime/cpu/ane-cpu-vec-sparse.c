/* runtime/cpu/ane-cpu-vec-sparse.c: pruned weights (ANE_CPU_PACKED_SPARSE):
 * packing, the portable row reader
 *
 * Issue 15 item 2 / issue 16 item 5: a constexpr_sparse_to_dense weight
 * runs on its mask and kept values. Its semantics (coremltools
 * iOS16/constexpr_ops.py constexpr_sparse_to_dense, iOS18/compression.py
 * constexpr_sparse_to_dense; ane-cpu-k-quant.c): the output's elements in
 * row-major order take nonzero_data's values one after the other where the
 * mask is set, zero elsewhere. The iOS18 joint forms
 * (constexpr_lut_to_sparse, constexpr_sparse_blockwise_shift_scale) make
 * the (mask, nonzero_data) pair a constexpr_sparse_to_dense reads; the
 * plan folds them and packs the values they make (ane-cpu-plan.c
 * pack_sparse).
 *
 * Layout. Row r's mask is row_bytes = 2 · ceil(cols / 16) bytes (bit c % 8
 * of byte c / 8 for column c, the padding bits zero): a row starts on a
 * byte, so a kernel reads 8 (AVX2) or 16 (AVX-512) columns' bits with one
 * load. The kept values follow one another over the whole weight, row r's
 * from nz_start[r]; they are IEEE halves when the op's output is fp16 (the
 * values rounded once, as ane_cpu_value_round rounds the dense kernel's
 * output, so a half holds the dense weight exactly) and floats otherwise.
 * Memory: cols / 8 bytes a row for the mask, 2 or 4 bytes a kept weight,
 * 8 bytes a row for nz_start; 16 values of zeros after the last so the
 * SIMD kernels may load a whole vector from a row's last values.
 *
 * A dropped weight is +0.0 as in the dense kernel, and every kernel
 * multiplies it with its activation like any other weight (0 · inf is NaN
 * there too): the products are the dense weight's, only the loads differ.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/ane-milblob-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"

/* values the SIMD kernels may read past a row's last */
#define SLACK 16

AneCpuPacked *
ane_cpu_packed_new_sparse (gsize         rows,
                           gsize         cols,
                           const guint8 *mask,
                           const float  *values,
                           gsize         n_values,
                           gboolean      round_fp16)
{
  AneCpuPacked *p;
  gsize next = 0;

  if (rows == 0 || cols == 0 || mask == NULL || (values == NULL && n_values > 0))
    return NULL;
  p = g_new0 (AneCpuPacked, 1);
  p->kind = ANE_CPU_PACKED_SPARSE;
  p->rows = rows;
  p->cols = cols;
  p->block = cols;
  p->n_blocks = 1;
  p->row_group = rows;
  p->round_fp16 = round_fp16;
  p->row_bytes = (cols + 15) / 16 * 2;
  p->q = g_malloc0 (rows * p->row_bytes);
  p->nz_start = g_new (gsize, rows + 1);
  for (gsize r = 0; r < rows; r++)
    {
      guint8 *row = p->q + r * p->row_bytes;

      p->nz_start[r] = next;
      for (gsize c = 0; c < cols; c++)
        {
          guint64 i = (guint64) r * cols + c;

          if ((mask[i / 8] >> (i % 8)) & 1u)
            {
              row[c / 8] |= (guint8) (1u << (c % 8));
              next++;
            }
        }
    }
  p->nz_start[rows] = next;
  if (next != n_values)
    {
      ane_cpu_packed_free (p);
      return NULL;
    }
  p->nz_width = round_fp16 ? 2 : 4;
  p->nz = g_malloc0 ((n_values + SLACK) * p->nz_width);
  if (round_fp16)
    ane_f32_to_f16_bulk (values, (guint16 *) p->nz, n_values);
  else if (n_values > 0)
    memcpy (p->nz, values, n_values * sizeof (float));
  return p;
}

/* The portable row reader: the dense kernel's row (nonzero_data's value
 * where the mask is set, +0.0 elsewhere), a mask byte at a time (a byte
 * of zeros is 8 zeros at once), halves widened through
 * ane_cpu_half_table (exact). */
void
ane_cpu_packed_sparse_dequantize_row (const AneCpuPacked *p,
                                      gsize               r,
                                      float              *dst)
{
  const guint8 *row = p->q + r * p->row_bytes;
  const float *half = p->nz_width == 2 ? ane_cpu_half_table () : NULL;
  gsize next = p->nz_start[r];

  for (gsize c0 = 0; c0 < p->cols; c0 += 8)
    {
      guint m = row[c0 / 8];
      gsize n = MIN (8, p->cols - c0);

      if (m == 0)
        {
          memset (dst + c0, 0, n * sizeof (float));
          continue;
        }
      for (gsize j = 0; j < n; j++)
        {
          if (!((m >> j) & 1u))
            {
              dst[c0 + j] = 0.0f;
              continue;
            }
          if (half)
            {
              guint16 h;

              memcpy (&h, p->nz + 2 * next, 2);
              dst[c0 + j] = half[h];
            }
          else
            memcpy (dst + c0 + j, p->nz + 4 * next, 4);
          next++;
        }
    }
}
