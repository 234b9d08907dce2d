/* runtime/cpu/ane-cpu-vec-lut.c: palettized weights (ANE_CPU_PACKED_LUT):
 * packing, the portable row reader
 *
 * Issue 15 item 2 / issue 16 item 5: a constexpr_lut_to_dense weight runs
 * on its indices. Its semantics (coremltools iOS16/constexpr_ops.py
 * constexpr_lut_to_dense, iOS18/compression.py constexpr_lut_to_dense;
 * ane-cpu-k-quant.c): each weight is the LUT entry its index names, the
 * table being the one of its group (iOS16: one for the whole tensor;
 * iOS18: lut [*groups, 2^n, 1], the table of an element its coordinates
 * divided by indices.shape / lut.shape[:-2]). The plan packs the forms
 * whose tables are per group of rows (per-tensor, or per-grouped-channel
 * along the output axis) with scalar entries (VECTOR_SIZE 1); the rest
 * stays dense (ane-cpu-plan.c pack_lut).
 *
 * Layout. A row is groups of 32 weights; a group is 4 · n bytes (n bits a
 * weight, exactly the compressed size; the row's last group padded with
 * index 0), made of "planes" that SIMD code unpacks with shifts and masks
 * and no cross-lane shuffle:
 *   8 bits: 32 bytes, byte j the index of weight j;
 *   4 bits: 16 bytes, byte j holding weight j in its low nibble and weight
 *           j + 16 in its high one (the INT4 kind's order, ggml's block_q4_0);
 *   2 bits: 8 bytes, bits 2k, 2k + 1 of byte j holding weight j + 8k;
 *   1 bit:  4 bytes, bit j (of the little-endian word) weight j;
 *   3 bits: a 2-bit plane (the low bits, 8 bytes), then a 1-bit plane (4);
 *   6 bits: a 4-bit plane (the low bits, 16 bytes), then a 2-bit plane (8).
 * (ggml splits its 3- and 6-bit quants into planes the same way: block_q3_K's
 * hmask + qs, block_q6_K's ql + qh, ggml/src/ggml-common.h.)
 *
 * The tables are floats (fp16 LUTs widened exactly; rounded to fp16 once
 * when the op's output is fp16, as ane_cpu_value_round rounds the dense
 * kernel's output), so a lookup is the dense kernel's weight bit for bit;
 * tables of fewer than 16 entries are repeated to 16.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/ane-milblob-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"

static gsize
group_bytes (guint bits)
{
  return 4 * (gsize) bits;
}

/* Writes index v of weight j (0..31) into a plane of `bits` (1, 2, 4, 8). */
static void
plane_put (guint8 *plane,
           guint   bits,
           gsize   j,
           guint   v)
{
  switch (bits)
    {
    case 8: plane[j] = (guint8) v; break;
    case 4: plane[j % 16] |= (guint8) (j < 16 ? v : v << 4); break;
    case 2: plane[j % 8] |= (guint8) (v << (2 * (j / 8))); break;
    case 1: plane[j / 8] |= (guint8) (v << (j % 8)); break;
    default: g_assert_not_reached ();
    }
}

static guint
plane_get (const guint8 *plane,
           guint         bits,
           gsize         j)
{
  switch (bits)
    {
    case 8: return plane[j];
    case 4: return j < 16 ? plane[j] & 15u : (guint) plane[j - 16] >> 4;
    case 2: return ((guint) plane[j % 8] >> (2 * (j / 8))) & 3u;
    case 1: return ((guint) plane[j / 8] >> (j % 8)) & 1u;
    default: g_assert_not_reached ();
    }
  return 0;
}

AneCpuPacked *
ane_cpu_packed_new_lut (gsize         rows,
                        gsize         cols,
                        guint         bits,
                        const gint32 *indices,
                        const float  *tables,
                        gsize         n_tables,
                        gboolean      round_fp16)
{
  gsize entries = (gsize) 1 << bits, gb = group_bytes (bits);
  AneCpuPacked *p;

  if (rows == 0 || cols == 0 || n_tables == 0 || rows % n_tables != 0 ||
      !(bits == 1 || bits == 2 || bits == 3 || bits == 4 || bits == 6 || bits == 8))
    return NULL;
  for (gsize i = 0; i < rows * cols; i++)
    if (indices[i] < 0 || (gsize) indices[i] >= entries)
      return NULL;
  p = g_new0 (AneCpuPacked, 1);
  p->kind = ANE_CPU_PACKED_LUT;
  p->rows = rows;
  p->cols = cols;
  p->block = cols;
  p->n_blocks = 1;
  p->row_group = rows / n_tables;
  p->round_fp16 = round_fp16;
  p->lut_bits = bits;
  p->lut_stride = MAX (16, entries);
  p->row_bytes = (cols + 31) / 32 * gb;
  p->lut = g_new0 (float, n_tables * p->lut_stride);
  for (gsize t = 0; t < n_tables; t++)
    {
      float *dst = p->lut + t * p->lut_stride;

      memcpy (dst, tables + t * entries, entries * sizeof (float));
      if (round_fp16)
        {
          guint16 h[256];

          ane_f32_to_f16_portable (dst, h, entries);
          ane_f16_to_f32_portable (h, dst, entries);
        }
      /* a small table repeated over the 16 entries: the SIMD lookups use
       * the low 3 (vpermps ymm) or 4 (zmm) bits of an index, so the bits
       * above an index's own need no mask */
      for (gsize i = entries; i < p->lut_stride; i++)
        dst[i] = dst[i % entries];
    }
  p->q = g_malloc0 (rows * p->row_bytes);
  for (gsize r = 0; r < rows; r++)
    for (gsize c = 0; c < cols; c++)
      {
        guint8 *g = p->q + r * p->row_bytes + c / 32 * gb;
        guint v = (guint) indices[r * cols + c];
        gsize j = c % 32;

        switch (bits)
          {
          case 3:
            plane_put (g, 2, j, v & 3u);
            plane_put (g + 8, 1, j, v >> 2);
            break;
          case 6:
            plane_put (g, 4, j, v & 15u);
            plane_put (g + 16, 2, j, v >> 4);
            break;
          default:
            plane_put (g, bits, j, v);
            break;
          }
      }
  return p;
}

void
ane_cpu_packed_lut_indices (const AneCpuPacked *p,
                            gsize               r,
                            gsize               c0,
                            gsize               n,
                            guint8             *idx)
{
  const guint8 *row = p->q + r * p->row_bytes;
  gsize gb = group_bytes (p->lut_bits);

  for (gsize i = 0; i < n; i++)
    {
      gsize c = c0 + i, j = c % 32;
      const guint8 *g = row + c / 32 * gb;

      switch (p->lut_bits)
        {
        case 3: idx[i] = (guint8) (plane_get (g, 2, j) | plane_get (g + 8, 1, j) << 2); break;
        case 6: idx[i] = (guint8) (plane_get (g, 4, j) | plane_get (g + 16, 2, j) << 4); break;
        default: idx[i] = (guint8) plane_get (g, p->lut_bits, j); break;
        }
    }
}
