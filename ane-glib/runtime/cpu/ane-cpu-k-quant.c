/* runtime/cpu/ane-cpu-k-quant.c: quantization, constexpr decompression and state kernels
 *
 * Semantics from coremltools' op definitions:
 * - iOS17/quantization_ops.py: quantize (input, zero_point?, scale, axis?,
 *   output_dtype) = clip(round(input / scale) + zero_point) to the range of
 *   int8/uint8, numpy.around (half to even); dequantize (input, zero_point?,
 *   scale, axis?) = scale * (input - zero_point). scale and zero_point are
 *   scalars, or vectors of input.shape[axis] with axis given.
 * - iOS16/constexpr_ops.py: constexpr_affine_dequantize (quantized_data,
 *   zero_point, scale, axis) = scale * (q - zero_point), the same scalar or
 *   [shape[axis]] parameters; constexpr_cast (source_val fp16 -> fp32);
 *   constexpr_lut_to_dense (indices: uint8 bytes holding a bit stream of
 *   log2(lut size)-bit indices, LSB first; lut [NUM_PALETTES]; shape);
 *   constexpr_sparse_to_dense (nonzero_data, mask: a bit stream, LSB first,
 *   shape). In iOS16 programs their parameters are op attributes, which the
 *   plan binds like inputs.
 * - iOS18/compression.py: constexpr_blockwise_shift_scale (data, scale,
 *   offset?) = scale[blk] * (data - offset[blk]), with block size
 *   data.shape / scale.shape per dim; constexpr_lut_to_dense (indices
 *   shaped, of a sub-byte dtype; lut [*groups, NUM_PALETTES, VECTOR_SIZE];
 *   vector_axis?): the table of an index is its coordinates divided by the
 *   block sizes indices.shape / lut.shape[:-2]; with VECTOR_SIZE > 1 each
 *   index expands to VECTOR_SIZE consecutive elements along vector_axis;
 *   constexpr_sparse_to_dense (nonzero_data, mask uint1 shaped); the joint
 *   forms constexpr_lut_to_sparse (indices_mask, indices_nonzero_data, lut)
 *   and constexpr_sparse_blockwise_shift_scale (data_mask, nonzero_data,
 *   scale, offset?) pass the mask through and make the values at its set
 *   bits, in row-major order, each from the table or scale of its block.
 * - iOS18/states.py and backend/mil/load.py: read_state (input) returns a
 *   copy of the state; write_state (input, data) stores data and has no
 *   outputs.
 *
 * Sub-byte dtypes (int4, uint1..uint6) are unpacked to int32 when the plan
 * decodes a const (ane-cpu-plan.c fill_from_bytes), so these kernels see
 * plain integers.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "runtime/cpu/ane-cpu-dims-private.h"
#include "runtime/cpu/ane-cpu-kernels-private.h"

/* --- helpers --------------------------------------------------------------- */

static gboolean
same_shape (const AneCpuValue *a,
            const AneCpuValue *b)
{
  return a->rank == b->rank && memcmp (a->shape, b->shape, a->rank * sizeof (gint64)) == 0;
}

/* How a scale / zero point applies to the elements of data: one value, or a
 * vector along `axis` (element i takes index (i / inner) % dim). */
typedef struct {
  gboolean per_axis;
  gsize    inner;
  gsize    dim;
} Affine;

static gsize
affine_index (const Affine *a,
              gsize         i)
{
  return a->per_axis ? (i / a->inner) % a->dim : 0;
}

/* Reads the axis (needed only for vector parameters) and checks scale and
 * zero point: each a scalar (any shape holding one value), or a rank-1
 * vector of data.shape[axis] elements; both of the same kind. */
static gboolean
affine_init (AneCpuCtx          *ctx,
             const AneCpuValue  *data,
             const AneCpuValue  *scale,
             const AneCpuValue  *zero_point,
             gboolean            axis_required,
             Affine             *a,
             GError            **error)
{
  const AneCpuValue *axis_v = ane_cpu_in (ctx, "axis");
  guint axis = 0;

  a->per_axis = FALSE;
  a->inner = 1;
  a->dim = 1;
  if (scale == NULL)
    return ane_cpu_fail (ctx, error, "needs parameter scale");
  if (scale->f == NULL)
    return ane_cpu_fail (ctx, error, "scale must be a float tensor");
  if (scale->n != 1 || (zero_point && zero_point->n != 1))
    {
      if (scale->rank != 1 || (zero_point && (zero_point->rank != 1 || zero_point->n != scale->n)))
        return ane_cpu_fail (ctx, error, "scale and zero_point must both be scalars or both vectors "
                             "of the same length (scale has %zu elements%s)", scale->n,
                             zero_point ? ", zero_point a different count or rank" : "");
      if (axis_v == NULL && axis_required)
        return ane_cpu_fail (ctx, error, "a vector scale needs an axis");
      if (data->rank == 0)
        return ane_cpu_fail (ctx, error, "a vector scale needs data of rank 1 or more");
      if (!ane_cpu_axis (ctx, axis_v ? (gint64) ane_cpu_value_get (axis_v, 0) : 0, data->rank, &axis, error))
        return FALSE;
      if ((gint64) scale->n != data->shape[axis])
        return ane_cpu_fail (ctx, error, "scale has %zu elements but the data's axis %u has %" G_GINT64_FORMAT,
                             scale->n, axis, data->shape[axis]);
      a->per_axis = TRUE;
      a->dim = scale->n;
      for (guint d = axis + 1; d < data->rank; d++)
        a->inner *= (gsize) data->shape[d];
      if (a->inner == 0)
        a->per_axis = FALSE;
    }
  return TRUE;
}

/* --- quantize / dequantize ---------------------------------------------------- */

static gboolean
k_quantize (AneCpuCtx *ctx,
            GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "input");
  const AneCpuValue *scale = ane_cpu_in (ctx, "scale"), *zp = ane_cpu_in (ctx, "zero_point");
  const char *odt = ane_cpu_string (ctx, "output_dtype", NULL);
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  double lo, hi;
  Affine a;

  if (x == NULL || x->f == NULL)
    return ane_cpu_fail (ctx, error, "input must be a float tensor");
  if (!ane_cpu_check_out_shape (ctx, out, x->shape, x->rank, error))
    return FALSE;
  if (out->dtype == ANE_DTYPE_INT8)
    lo = -128.0, hi = 127.0;
  else if (out->dtype == ANE_DTYPE_UINT8)
    lo = 0.0, hi = 255.0;
  else
    return ane_cpu_fail (ctx, error, "the output must be int8 or uint8, not %s", ane_dtype_to_string (out->dtype));
  if (odt != NULL && !g_str_equal (odt, out->dtype == ANE_DTYPE_INT8 ? "int8" : "uint8"))
    return ane_cpu_fail (ctx, error, "output_dtype '%s' does not match the declared output (%s)",
                         odt, ane_dtype_to_string (out->dtype));
  if (zp && zp->i == NULL)
    return ane_cpu_fail (ctx, error, "zero_point must be an integer tensor");
  if (!affine_init (ctx, x, scale, zp, TRUE, &a, error))
    return FALSE;
  for (gsize i = 0; i < x->n; i++)
    {
      gsize k = affine_index (&a, i);
      double q = nearbyint ((double) x->f[i] / ane_cpu_value_get (scale, k));

      if (zp)
        q += ane_cpu_value_get (zp, k);
      /* NaN has no integer value: 0, as the IR's float -> integer cast */
      out->i[i] = isnan (q) ? 0 : (gint32) CLAMP (q, lo, hi);
    }
  return TRUE;
}

/* dequantize and constexpr_affine_dequantize: scale * (q - zero_point). */
static gboolean
run_dequantize (AneCpuCtx  *ctx,
                const char *data_param,
                gboolean    zero_point_required,
                GError    **error)
{
  const AneCpuValue *q = ane_cpu_in (ctx, data_param);
  const AneCpuValue *scale = ane_cpu_in (ctx, "scale"), *zp = ane_cpu_in (ctx, "zero_point");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  Affine a;

  if (q == NULL)
    return ane_cpu_fail (ctx, error, "needs parameter %s", data_param);
  if (zp == NULL && zero_point_required)
    return ane_cpu_fail (ctx, error, "needs parameter zero_point");
  if (out->f == NULL)
    return ane_cpu_fail (ctx, error, "the output must be a float tensor");
  if (!ane_cpu_check_out_shape (ctx, out, q->shape, q->rank, error))
    return FALSE;
  if (!affine_init (ctx, q, scale, zp, !zero_point_required, &a, error))
    return FALSE;
  for (gsize i = 0; i < q->n; i++)
    {
      gsize k = affine_index (&a, i);
      double v = ane_cpu_value_get (q, i);

      if (zp)
        v -= ane_cpu_value_get (zp, k);
      out->f[i] = (float) (ane_cpu_value_get (scale, k) * v);
    }
  return TRUE;
}

static gboolean
k_dequantize (AneCpuCtx *ctx,
              GError   **error)
{
  return run_dequantize (ctx, "input", FALSE, error);
}

/* iOS16: axis is required by the op but only read for vector parameters. */
static gboolean
k_constexpr_affine_dequantize (AneCpuCtx *ctx,
                               GError   **error)
{
  return run_dequantize (ctx, "quantized_data", TRUE, error);
}

/* --- constexpr_cast ------------------------------------------------------------ */

static gboolean
k_constexpr_cast (AneCpuCtx *ctx,
                  GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "source_val");
  AneCpuValue *out = ane_cpu_out (ctx, 0);

  if (x == NULL)
    return ane_cpu_fail (ctx, error, "needs parameter source_val");
  if (!ane_cpu_check_out_shape (ctx, out, x->shape, x->rank, error))
    return FALSE;
  for (gsize i = 0; i < out->n; i++)
    {
      double v = ane_cpu_value_get (x, i);

      if (out->f)
        out->f[i] = (float) v;
      else
        out->i[i] = isnan (v) ? 0 : (gint32) CLAMP (trunc (v), -2147483648.0, 2147483647.0);
    }
  return TRUE;
}

/* --- constexpr_blockwise_shift_scale ------------------------------------------- */

static gboolean
k_constexpr_blockwise_shift_scale (AneCpuCtx *ctx,
                                   GError   **error)
{
  const AneCpuValue *data = ane_cpu_in (ctx, "data");
  const AneCpuValue *scale = ane_cpu_in (ctx, "scale"), *offset = ane_cpu_in (ctx, "offset");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gint64 block[ANE_CPU_MAX_RANK], coords[ANE_CPU_MAX_RANK];

  if (data == NULL || scale == NULL)
    return ane_cpu_fail (ctx, error, "needs parameters data and scale");
  if (out->f == NULL || scale->f == NULL)
    return ane_cpu_fail (ctx, error, "scale and the output must be float tensors");
  if (!ane_cpu_check_out_shape (ctx, out, data->shape, data->rank, error))
    return FALSE;
  if (data->rank == 0 || scale->rank != data->rank)
    return ane_cpu_fail (ctx, error, "data (rank %u) and scale (rank %u) must have the same rank, at least 1",
                         data->rank, scale->rank);
  if (offset && !same_shape (offset, scale))
    return ane_cpu_fail (ctx, error, "offset must have the shape of scale");
  for (guint d = 0; d < data->rank; d++)
    {
      if (scale->shape[d] <= 0 || data->shape[d] % scale->shape[d] != 0)
        return ane_cpu_fail (ctx, error, "scale's dim %u (%" G_GINT64_FORMAT ") does not divide data's (%"
                             G_GINT64_FORMAT ")", d, scale->shape[d], data->shape[d]);
      block[d] = data->shape[d] / scale->shape[d];
    }
  for (gsize i = 0; i < data->n; i++)
    {
      gsize k = 0;
      double v = ane_cpu_value_get (data, i);

      ane_cpu_unravel (i, data->shape, data->rank, coords);
      for (guint d = 0; d < data->rank; d++)
        k = k * (gsize) scale->shape[d] + (gsize) (coords[d] / block[d]);
      if (offset)
        v -= ane_cpu_value_get (offset, k);
      out->f[i] = (float) (ane_cpu_value_get (scale, k) * v);
    }
  return TRUE;
}

/* --- constexpr_lut_to_dense ---------------------------------------------------- */

/* Reads the index-th of a stream of bits-wide unsigned fields packed LSB
 * first into bytes held one per element (uint8 storage). */
static guint32
packed_field (const AneCpuValue *bytes,
              gsize              index,
              guint              bits)
{
  guint64 bit = (guint64) index * bits;
  guint32 u = 0;

  for (guint b = 0; b < bits; b++, bit++)
    u |= (guint32) (((guint32) bytes->i[bit / 8] >> (bit % 8)) & 1u) << b;
  return u;
}

/* n_bits for a table of n entries: n must be a power of two from 2 to 256. */
static guint
lut_bits (gsize n)
{
  for (guint b = 1; b <= 8; b++)
    if (((gsize) 1 << b) == n)
      return b;
  return 0;
}

static void
store_value (AneCpuValue       *out,
             gsize              i,
             const AneCpuValue *from,
             gsize              j)
{
  if (out->f)
    out->f[i] = from->f ? from->f[j] : (float) from->i[j];
  else
    out->i[i] = from->i ? from->i[j] : (gint32) from->f[j];
}

/* iOS16: flat packed indices, a flat table, an explicit shape. */
static gboolean
lut_to_dense_ios16 (AneCpuCtx          *ctx,
                    const AneCpuValue  *indices,
                    const AneCpuValue  *lut,
                    const AneCpuValue  *shape,
                    AneCpuValue        *out,
                    GError            **error)
{
  guint bits = lut_bits (lut->n);
  gsize n = 1;

  if (lut->rank != 1 || bits == 0 || bits == 3 || bits == 5 || bits == 7)
    return ane_cpu_fail (ctx, error, "lut must be a vector of 2, 4, 16, 64 or 256 entries (it has %zu)", lut->n);
  if (indices->i == NULL || indices->rank != 1)
    return ane_cpu_fail (ctx, error, "indices must be a vector of packed bytes");
  for (gsize d = 0; d < shape->n; d++)
    n *= (gsize) MAX (ane_cpu_value_get (shape, d), 0.0);
  if (shape->n != out->rank || n != out->n)
    return ane_cpu_fail (ctx, error, "shape does not match the declared output");
  for (gsize d = 0; d < shape->n; d++)
    if ((gint64) ane_cpu_value_get (shape, d) != out->shape[d])
      return ane_cpu_fail (ctx, error, "shape does not match the declared output");
  if (indices->n != (n * bits + 7) / 8)
    return ane_cpu_fail (ctx, error, "indices has %zu bytes; %zu %u-bit indices need %zu",
                         indices->n, n, bits, (n * bits + 7) / 8);
  for (gsize i = 0; i < n; i++)
    store_value (out, i, lut, packed_field (indices, i, bits));
  return TRUE;
}

static gboolean
k_constexpr_lut_to_dense (AneCpuCtx *ctx,
                          GError   **error)
{
  const AneCpuValue *indices = ane_cpu_in (ctx, "indices"), *lut = ane_cpu_in (ctx, "lut");
  const AneCpuValue *shape = ane_cpu_in (ctx, "shape"), *va = ane_cpu_in (ctx, "vector_axis");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gint64 block[ANE_CPU_MAX_RANK], coords[ANE_CPU_MAX_RANK], out_strides[ANE_CPU_MAX_RANK];
  gint64 palettes, vsize;
  guint k, vaxis = 0;

  if (indices == NULL || lut == NULL)
    return ane_cpu_fail (ctx, error, "needs parameters indices and lut");
  if ((out->f == NULL) != (lut->f == NULL))
    return ane_cpu_fail (ctx, error, "lut and the output must have the same kind of dtype");
  if (shape != NULL)
    return lut_to_dense_ios16 (ctx, indices, lut, shape, out, error);

  k = indices->rank;
  if (indices->i == NULL || k == 0)
    return ane_cpu_fail (ctx, error, "indices must be an integer tensor of rank 1 or more");
  if (lut->rank != k + 2)
    return ane_cpu_fail (ctx, error, "lut must have rank %u (indices' rank + 2), not %u", k + 2, lut->rank);
  palettes = lut->shape[k];
  vsize = lut->shape[k + 1];
  if (lut_bits ((gsize) MAX (palettes, 0)) == 0 || vsize <= 0)
    return ane_cpu_fail (ctx, error, "lut's palette dim must be 2^nbits (1 <= nbits <= 8), not %"
                         G_GINT64_FORMAT, palettes);
  for (guint d = 0; d < k; d++)
    {
      if (lut->shape[d] <= 0 || indices->shape[d] % lut->shape[d] != 0)
        return ane_cpu_fail (ctx, error, "lut's dim %u (%" G_GINT64_FORMAT ") does not divide indices' (%"
                             G_GINT64_FORMAT ")", d, lut->shape[d], indices->shape[d]);
      block[d] = indices->shape[d] / lut->shape[d];
    }
  if (va != NULL)
    {
      if (va->n != 1)
        return ane_cpu_fail (ctx, error, "vector_axis must be a scalar");
      if (!ane_cpu_axis (ctx, (gint64) ane_cpu_value_get (va, 0), k, &vaxis, error))
        return FALSE;
    }
  else if (vsize > 1)
    return ane_cpu_fail (ctx, error, "a lut with vectors of %" G_GINT64_FORMAT " needs vector_axis", vsize);
  /* the output: indices' shape with vector_axis scaled by VECTOR_SIZE */
  if (out->rank != k)
    return ane_cpu_fail (ctx, error, "the declared output must have rank %u", k);
  for (guint d = 0; d < k; d++)
    if (out->shape[d] != indices->shape[d] * (d == vaxis ? vsize : 1))
      return ane_cpu_fail (ctx, error, "the declared output's dim %u is %" G_GINT64_FORMAT ", expected %"
                           G_GINT64_FORMAT, d, out->shape[d], indices->shape[d] * (d == vaxis ? vsize : 1));
  ane_cpu_strides (out, out_strides);
  for (gsize i = 0; i < indices->n; i++)
    {
      gint64 idx = indices->i[i];
      gsize table = 0, base = 0;

      if (idx < 0 || idx >= palettes)
        return ane_cpu_fail (ctx, error, "index %" G_GINT64_FORMAT " at element %zu is outside the lut's %"
                             G_GINT64_FORMAT " entries", idx, i, palettes);
      ane_cpu_unravel (i, indices->shape, k, coords);
      for (guint d = 0; d < k; d++)
        {
          table = table * (gsize) lut->shape[d] + (gsize) (coords[d] / block[d]);
          base += (gsize) ((d == vaxis ? coords[d] * vsize : coords[d]) * out_strides[d]);
        }
      for (gint64 v = 0; v < vsize; v++)
        store_value (out, base + (gsize) (v * out_strides[vaxis]), lut,
                     ((gsize) table * (gsize) palettes + (gsize) idx) * (gsize) vsize + (gsize) v);
    }
  return TRUE;
}

/* --- constexpr_sparse_to_dense ------------------------------------------------- */

static gboolean
k_constexpr_sparse_to_dense (AneCpuCtx *ctx,
                             GError   **error)
{
  const AneCpuValue *data = ane_cpu_in (ctx, "nonzero_data"), *mask = ane_cpu_in (ctx, "mask");
  const AneCpuValue *shape = ane_cpu_in (ctx, "shape");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gsize next = 0;

  if (data == NULL || mask == NULL || mask->i == NULL)
    return ane_cpu_fail (ctx, error, "needs parameters nonzero_data and an integer mask");
  if ((out->f == NULL) != (data->f == NULL))
    return ane_cpu_fail (ctx, error, "nonzero_data and the output must have the same kind of dtype");
  if (shape != NULL)
    {
      /* iOS16: one bit per output element, packed LSB first into bytes */
      if (shape->n != out->rank)
        return ane_cpu_fail (ctx, error, "shape does not match the declared output");
      for (gsize d = 0; d < shape->n; d++)
        if ((gint64) ane_cpu_value_get (shape, d) != out->shape[d])
          return ane_cpu_fail (ctx, error, "shape does not match the declared output");
      if (mask->n != (out->n + 7) / 8)
        return ane_cpu_fail (ctx, error, "mask has %zu bytes; %zu elements need %zu", mask->n, out->n,
                             (out->n + 7) / 8);
    }
  else if (!same_shape (mask, out))
    return ane_cpu_fail (ctx, error, "mask must have the shape of the declared output");
  for (gsize i = 0; i < out->n; i++)
    {
      gboolean set = shape ? packed_field (mask, i, 1) != 0 : mask->i[i] != 0;

      if (!set)
        {
          if (out->f)
            out->f[i] = 0.0f;
          else
            out->i[i] = 0;
          continue;
        }
      if (next >= data->n)
        return ane_cpu_fail (ctx, error, "the mask has more set bits than nonzero_data's %zu elements", data->n);
      store_value (out, i, data, next++);
    }
  if (next != data->n)
    return ane_cpu_fail (ctx, error, "the mask has %zu set bits for %zu elements of nonzero_data", next, data->n);
  return TRUE;
}

/* --- the iOS18 joint forms: (mask, values) pairs ------------------------------ */

/* The block of each element of a tensor of shape, for a per-block
 * parameter of pshape (the first rank dims): its index in row-major order
 * over pshape. */
static gboolean
block_sizes (AneCpuCtx    *ctx,
             const gint64 *shape,
             guint         rank,
             const gint64 *pshape,
             const char   *what,
             gint64       *block,
             GError      **error)
{
  for (guint d = 0; d < rank; d++)
    {
      if (pshape[d] <= 0 || shape[d] % pshape[d] != 0)
        return ane_cpu_fail (ctx, error, "%s's dim %u (%" G_GINT64_FORMAT ") does not divide the mask's (%"
                             G_GINT64_FORMAT ")", what, d, pshape[d], shape[d]);
      block[d] = shape[d] / pshape[d];
    }
  return TRUE;
}

/* The mask passed through, checked: uint1 values of its shape. */
static gboolean
copy_mask (AneCpuCtx         *ctx,
           const AneCpuValue *mask,
           AneCpuValue       *out,
           gsize             *n_set,
           GError           **error)
{
  if (mask->i == NULL || mask->rank == 0)
    return ane_cpu_fail (ctx, error, "the mask must be an integer (uint1) tensor of rank 1 or more");
  if (!ane_cpu_check_out_shape (ctx, out, mask->shape, mask->rank, error))
    return FALSE;
  if (out->i == NULL)
    return ane_cpu_fail (ctx, error, "the mask output must be an integer (uint1) tensor");
  *n_set = 0;
  for (gsize i = 0; i < mask->n; i++)
    {
      out->i[i] = mask->i[i] != 0;
      *n_set += mask->i[i] != 0;
    }
  return TRUE;
}

static gboolean
k_constexpr_lut_to_sparse (AneCpuCtx *ctx,
                           GError   **error)
{
  const AneCpuValue *mask = ane_cpu_in (ctx, "indices_mask"), *nz = ane_cpu_in (ctx, "indices_nonzero_data");
  const AneCpuValue *lut = ane_cpu_in (ctx, "lut"), *va = ane_cpu_in (ctx, "vector_axis");
  AneCpuValue *out_mask = ane_cpu_out (ctx, 0), *out = ane_cpu_out (ctx, 1);
  gint64 block[ANE_CPU_MAX_RANK], coords[ANE_CPU_MAX_RANK], palettes;
  gsize n_set, next = 0;
  guint k;

  if (mask == NULL || nz == NULL || lut == NULL || out_mask == NULL || out == NULL)
    return ane_cpu_fail (ctx, error, "needs parameters indices_mask, indices_nonzero_data and lut, and two outputs");
  if (!copy_mask (ctx, mask, out_mask, &n_set, error))
    return FALSE;
  k = mask->rank;
  if (nz->i == NULL || nz->n != n_set)
    return ane_cpu_fail (ctx, error, "indices_nonzero_data must hold one index per set bit of the mask (%zu), "
                         "not %zu", n_set, nz->n);
  if (lut->rank != k + 2)
    return ane_cpu_fail (ctx, error, "lut must have rank %u (the mask's rank + 2), not %u", k + 2, lut->rank);
  if (lut->shape[k + 1] != 1 || va != NULL)
    return ane_cpu_fail (ctx, error, "vector tables (VECTOR_SIZE %" G_GINT64_FORMAT ") are not supported by the "
                         "CPU backend", lut->shape[k + 1]);
  palettes = lut->shape[k];
  if (lut_bits ((gsize) MAX (palettes, 0)) == 0)
    return ane_cpu_fail (ctx, error, "lut's palette dim must be 2^nbits (1 <= nbits <= 8), not %" G_GINT64_FORMAT,
                         palettes);
  if (!block_sizes (ctx, mask->shape, k, lut->shape, "lut", block, error))
    return FALSE;
  if ((out->f == NULL) != (lut->f == NULL) || out->n != n_set)
    return ane_cpu_fail (ctx, error, "the values output must be a vector of %zu elements of the lut's dtype", n_set);
  for (gsize i = 0; i < mask->n; i++)
    {
      gsize table = 0;
      gint64 idx;

      if (mask->i[i] == 0)
        continue;
      idx = nz->i[next];
      if (idx < 0 || idx >= palettes)
        return ane_cpu_fail (ctx, error, "index %" G_GINT64_FORMAT " is outside the lut's %" G_GINT64_FORMAT
                             " entries", idx, palettes);
      ane_cpu_unravel (i, mask->shape, k, coords);
      for (guint d = 0; d < k; d++)
        table = table * (gsize) lut->shape[d] + (gsize) (coords[d] / block[d]);
      store_value (out, next++, lut, table * (gsize) palettes + (gsize) idx);
    }
  return TRUE;
}

static gboolean
k_constexpr_sparse_blockwise_shift_scale (AneCpuCtx *ctx,
                                          GError   **error)
{
  const AneCpuValue *mask = ane_cpu_in (ctx, "data_mask"), *nz = ane_cpu_in (ctx, "nonzero_data");
  const AneCpuValue *scale = ane_cpu_in (ctx, "scale"), *offset = ane_cpu_in (ctx, "offset");
  AneCpuValue *out_mask = ane_cpu_out (ctx, 0), *out = ane_cpu_out (ctx, 1);
  gint64 block[ANE_CPU_MAX_RANK], coords[ANE_CPU_MAX_RANK];
  gsize n_set, next = 0;

  if (mask == NULL || nz == NULL || scale == NULL || out_mask == NULL || out == NULL)
    return ane_cpu_fail (ctx, error, "needs parameters data_mask, nonzero_data and scale, and two outputs");
  if (!copy_mask (ctx, mask, out_mask, &n_set, error))
    return FALSE;
  if (nz->n != n_set)
    return ane_cpu_fail (ctx, error, "nonzero_data must hold one value per set bit of the mask (%zu), not %zu",
                         n_set, nz->n);
  if (scale->f == NULL || scale->rank != mask->rank)
    return ane_cpu_fail (ctx, error, "scale must be a float tensor of the mask's rank");
  if (offset && !same_shape (offset, scale))
    return ane_cpu_fail (ctx, error, "offset must have the shape of scale");
  if (!block_sizes (ctx, mask->shape, mask->rank, scale->shape, "scale", block, error))
    return FALSE;
  if (out->f == NULL || out->n != n_set)
    return ane_cpu_fail (ctx, error, "the values output must be a float vector of %zu elements", n_set);
  for (gsize i = 0; i < mask->n; i++)
    {
      gsize b = 0;
      double v;

      if (mask->i[i] == 0)
        continue;
      ane_cpu_unravel (i, mask->shape, mask->rank, coords);
      for (guint d = 0; d < mask->rank; d++)
        b = b * (gsize) scale->shape[d] + (gsize) (coords[d] / block[d]);
      v = ane_cpu_value_get (nz, next);
      if (offset)
        v -= ane_cpu_value_get (offset, b);
      out->f[next++] = (float) (ane_cpu_value_get (scale, b) * v);
    }
  return TRUE;
}

/* --- states -------------------------------------------------------------------- */

static gboolean
k_read_state (AneCpuCtx *ctx,
              GError   **error)
{
  const AneCpuValue *state = ane_cpu_in (ctx, "input");
  AneCpuValue *out = ane_cpu_out (ctx, 0);

  if (state == NULL)
    return ane_cpu_fail (ctx, error, "needs parameter input (a state)");
  if (!ane_cpu_check_out_shape (ctx, out, state->shape, state->rank, error))
    return FALSE;
  if ((state->f == NULL) != (out->f == NULL))
    return ane_cpu_fail (ctx, error, "the state's dtype %s does not match the output's %s",
                         ane_dtype_to_string (state->dtype), ane_dtype_to_string (out->dtype));
  for (gsize i = 0; i < out->n; i++)
    store_value (out, i, state, i);
  return TRUE;
}

/* write_state updates the state in place. The plan binds a state input's slot
 * to the caller's AneCpuValue for this run (ane_cpu_plan_run's `states`,
 * "updated in place by write_state"): it is never a const, never freed or
 * reused by the plan (inputs are pinned), and read_state and outputs copy it.
 * So casting away the const of ane_cpu_in's result is safe here, and a later
 * read_state in the same run sees the new value, as in Core ML. The value is
 * rounded to the state's dtype, since the driver rounds only op outputs. */
static gboolean
k_write_state (AneCpuCtx *ctx,
               GError   **error)
{
  AneCpuValue *state = (AneCpuValue *) ane_cpu_in (ctx, "input");
  const AneCpuValue *data = ane_cpu_in (ctx, "data");

  if (state == NULL || data == NULL)
    return ane_cpu_fail (ctx, error, "needs parameters input (a state) and data");
  if (state == data)
    return TRUE;
  if (!same_shape (state, data))
    return ane_cpu_fail (ctx, error, "data (rank %u, %zu elements) does not match the state (rank %u, %zu elements)",
                         data->rank, data->n, state->rank, state->n);
  if ((state->f == NULL) != (data->f == NULL) || state->s != NULL)
    return ane_cpu_fail (ctx, error, "data's dtype %s does not match the state's %s",
                         ane_dtype_to_string (data->dtype), ane_dtype_to_string (state->dtype));
  for (gsize i = 0; i < state->n; i++)
    store_value (state, i, data, i);
  ane_cpu_value_round (state);
  return TRUE;
}

const AneCpuKernel ane_cpu_kernels_quant[] = {
  { "quantize", k_quantize },
  { "dequantize", k_dequantize },
  { "constexpr_affine_dequantize", k_constexpr_affine_dequantize },
  { "constexpr_cast", k_constexpr_cast },
  { "constexpr_blockwise_shift_scale", k_constexpr_blockwise_shift_scale },
  { "constexpr_lut_to_dense", k_constexpr_lut_to_dense },
  { "constexpr_sparse_to_dense", k_constexpr_sparse_to_dense },
  { "constexpr_lut_to_sparse", k_constexpr_lut_to_sparse },
  { "constexpr_sparse_blockwise_shift_scale", k_constexpr_sparse_blockwise_shift_scale },
  { "read_state", k_read_state },
  { "write_state", k_write_state },
  { NULL, NULL }
};
