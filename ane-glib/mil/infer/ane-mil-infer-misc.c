/* mil/infer/ane-mil-infer-misc.c: type-inference rules, const, select, control flow, constexpr ops, quantize, attention, states
 *
 * Each rule mirrors the type_inference (and the checks it makes) of the
 * coremltools op class named in its row's source (ane-mil-opdefs.c), paths
 * relative to coremltools/converters/mil/mil/ops/defs/ in coremltools 9.0.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mil/infer/ane-mil-infer-rules-private.h"

/* --- const -------------------------------------------------------------- */

/* iOS15/control_flow.py, Const.type_inference and _get_type_val (lines
 * 170-222): the type is the value's own, except that int64 (and uint64)
 * values become int32, clipped to its range, and fp64 values fp32. The
 * loader (frontend/milproto/load.py, _load_const_op) never compares the
 * declared type of a const: later ops see this one. */
ANE_MIL_INFER_RULE (const, ios15)
{
  const AneMilVal *val = ane_mil_infer_arg (call, "val");
  AneMilVal *out;
  int dtype;

  if (val == NULL || val->kind != ANE_MIL_VAL_TENSOR)
    {
      /* lists, dictionaries: a type the mirror does not model */
      g_ptr_array_add (call->outputs, ane_mil_val_new_other ());
      return TRUE;
    }
  dtype = val->dtype;
  if (dtype == ANE_MIL_DT_INT64 || dtype == ANE_MIL_DT_UINT64)
    dtype = ANE_MIL_DT_INT32;
  else if (dtype == ANE_MIL_DT_FP64)
    dtype = ANE_MIL_DT_FP32;
  out = ane_mil_infer_out_like (call, val, dtype);
  out->string = g_strdup (val->string);
  if (val->values != NULL)
    {
      g_autofree double *v = g_memdup2 (val->values, MAX (val->n_values, 1) * sizeof (double));

      if (dtype != val->dtype && dtype == ANE_MIL_DT_INT32)
        for (gsize i = 0; i < val->n_values; i++)
          v[i] = CLAMP (v[i], (double) G_MININT32, (double) G_MAXINT32);
      ane_mil_infer_out_set_values (out, v, val->n_values);
    }
  return TRUE;
}

/* --- select ------------------------------------------------------------- */

/* iOS15/control_flow.py, select.type_inference (lines 311-318): the dtype
 * is promote_types(a, b) and the shape a and b broadcast -- cond takes no
 * part, although the docstring (lines 288-293) says the result broadcasts
 * cond, a and b. A cond wider than both branches therefore gives a result
 * typed like the branches; a program must broadcast a or b itself. */
ANE_MIL_INFER_RULE (select, ios15)
{
  const AneMilVal *a = ane_mil_infer_arg (call, "a"), *b = ane_mil_infer_arg (call, "b");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  guint rank;
  int dtype = ane_mil_dt_promote (a->dtype, b->dtype);

  if (dtype < 0)
    return ane_mil_infer_fail (call, error, "no common dtype for a (%s) and b (%s)",
                               ane_mil_dt_name (a->dtype), ane_mil_dt_name (b->dtype));
  if (!ane_mil_infer_broadcast (call, a, b, shape, &rank, error))
    return FALSE;
  ane_mil_infer_out (call, dtype, shape, rank);
  return TRUE;
}

/* --- control flow ------------------------------------------------------- */

/* iOS15/control_flow.py, cond.type_inference (lines 117-130) and
 * while_loop.type_inference (lines 543-547): the outputs are the types of a
 * nested block's outputs. A call alone does not have them: each declared
 * output is taken as it is (ane_mil_infer_check_program walks the blocks). */
static gboolean
block_outputs (AneMilInferCall *call)
{
  for (guint i = 0; i < call->n_declared; i++)
    g_ptr_array_add (call->outputs, ane_mil_val_new_other ());
  return TRUE;
}

ANE_MIL_INFER_RULE (cond, ios15)
{
  return block_outputs (call);
}

ANE_MIL_INFER_RULE (while_loop, ios15)
{
  return block_outputs (call);
}

/* --- constexpr ops, iOS16 (parameters as attributes) --------------------- */

/* iOS16/constexpr_ops.py, constexpr_affine_dequantize.type_inference
 * (lines 79-112): axis in [-rank, rank); scale and zero_point scalars or
 * vectors as long as data's axis; the output has scale's dtype and data's
 * shape. */
ANE_MIL_INFER_RULE (constexpr_affine_dequantize, ios16)
{
  const AneMilVal *q = ane_mil_infer_arg (call, "quantized_data");
  const AneMilVal *zp = ane_mil_infer_arg (call, "zero_point");
  const AneMilVal *scale = ane_mil_infer_arg (call, "scale");
  const AneMilVal *params[] = { scale, zp };
  const char *names[] = { "scale", "zero_point" };
  gint64 axis;
  guint ax;

  if (!ane_mil_infer_int (call, "axis", 0, &axis))
    return ane_mil_infer_fail (call, error, "axis must be known");
  if (!ane_mil_infer_axis (call, "axis", axis, q->rank, &ax, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (params); i++)
    {
      if (params[i]->rank > 1)
        return ane_mil_infer_fail (call, error, "%s must be a scalar or a vector, not rank %u",
                                   names[i], params[i]->rank);
      if (params[i]->rank == 1 && params[i]->shape[0] >= 0 && q->shape[ax] >= 0 &&
          params[i]->shape[0] != q->shape[ax])
        return ane_mil_infer_fail (call, error, "%s has %" G_GINT64_FORMAT " entries, but "
                                   "quantized_data has %" G_GINT64_FORMAT " along axis %u",
                                   names[i], params[i]->shape[0], q->shape[ax], ax);
    }
  ane_mil_infer_out (call, scale->dtype, q->shape, q->rank);
  return TRUE;
}

/* iOS16/constexpr_ops.py, constexpr_cast.type_inference (lines 162-169):
 * output_dtype must be "fp32"; the shape is source_val's. */
ANE_MIL_INFER_RULE (constexpr_cast, ios16)
{
  const AneMilVal *src = ane_mil_infer_arg (call, "source_val");
  const char *dtype = ane_mil_infer_string (call, "output_dtype", NULL);

  if (g_strcmp0 (dtype, "fp32") != 0)
    return ane_mil_infer_fail (call, error, "output_dtype must be \"fp32\", not \"%s\"",
                               dtype != NULL ? dtype : "(unknown)");
  ane_mil_infer_out (call, ANE_MIL_DT_FP32, src->shape, src->rank);
  return TRUE;
}

/* iOS18/compression.py, constexpr_cast (lines 748-): the iOS16 class with
 * its parameters as inputs; the same inference. */
ANE_MIL_INFER_RULE (constexpr_cast, ios18)
{
  return ane_mil_infer_constexpr_cast_ios16 (call, error);
}

/* The product of a known shape value (shape params of the iOS16 ops). */
static gboolean
shape_param (AneMilInferCall *call,
             gint64          *shape,
             guint           *rank,
             gint64          *n,
             GError         **error)
{
  gint64 *dims;
  gsize n_dims;

  if (!ane_mil_infer_ints (call, "shape", &dims, &n_dims) || dims == NULL)
    return ane_mil_infer_fail (call, error, "shape must be known");
  if (n_dims > ANE_MIL_INFER_MAX_RANK)
    return ane_mil_infer_fail (call, error, "shape has rank %" G_GSIZE_FORMAT, n_dims);
  *n = 1;
  for (gsize i = 0; i < n_dims; i++)
    {
      if (dims[i] < 0 || (dims[i] > 0 && *n > G_MAXINT64 / dims[i]))
        return ane_mil_infer_fail (call, error, "shape has an invalid dimension %" G_GINT64_FORMAT, dims[i]);
      *n *= dims[i];
      shape[i] = dims[i];
    }
  *rank = (guint) n_dims;
  return TRUE;
}

/* iOS16/constexpr_ops.py, constexpr_lut_to_dense.type_inference (lines
 * 237-259): indices and lut are vectors, lut has 2, 4, 16, 64 or 256
 * entries, indices hold ceil(nbits * prod(shape) / 8) bytes; the output has
 * lut's dtype and the shape value. */
ANE_MIL_INFER_RULE (constexpr_lut_to_dense, ios16)
{
  const AneMilVal *indices = ane_mil_infer_arg (call, "indices");
  const AneMilVal *lut = ane_mil_infer_arg (call, "lut");
  gint64 shape[ANE_MIL_INFER_MAX_RANK], n, size;
  guint rank, nbits = 0;

  if (indices->rank != 1 || lut->rank != 1)
    return ane_mil_infer_fail (call, error, "indices and lut must be vectors");
  size = lut->shape[0];
  if (size == 2 || size == 4 || size == 16 || size == 64 || size == 256)
    for (gint64 s = size; s > 1; s >>= 1)
      nbits++;
  else if (size >= 0)
    return ane_mil_infer_fail (call, error, "lut has %" G_GINT64_FORMAT " entries, not 2, 4, 16, "
                               "64 or 256", size);
  if (!shape_param (call, shape, &rank, &n, error))
    return FALSE;
  if (nbits > 0 && indices->shape[0] >= 0 && n <= G_MAXINT64 / 8 &&
      indices->shape[0] != (n * nbits + 7) / 8)
    return ane_mil_infer_fail (call, error, "indices hold %" G_GINT64_FORMAT " bytes; %u-bit "
                               "indices of %" G_GINT64_FORMAT " elements take %" G_GINT64_FORMAT,
                               indices->shape[0], nbits, n, (n * nbits + 7) / 8);
  ane_mil_infer_out (call, lut->dtype, shape, rank);
  return TRUE;
}

static gint64
count_set_bits (const AneMilVal *mask)
{
  gint64 n = 0;

  for (gsize i = 0; i < mask->n_values; i++)
    n += __builtin_popcountll ((unsigned long long) (guint64) mask->values[i]);
  return n;
}

/* iOS16/constexpr_ops.py, constexpr_sparse_to_dense.type_inference (lines
 * 336-361): nonzero_data and mask are vectors, mask holds ceil(prod(shape)
 * / 8) bytes whose set bits (padding bits unset) count nonzero_data; the
 * output has nonzero_data's dtype and the shape value. The bit checks need
 * mask's value, which a weight file holds: they are made when it is known. */
ANE_MIL_INFER_RULE (constexpr_sparse_to_dense, ios16)
{
  const AneMilVal *data = ane_mil_infer_arg (call, "nonzero_data");
  const AneMilVal *mask = ane_mil_infer_arg (call, "mask");
  gint64 shape[ANE_MIL_INFER_MAX_RANK], n;
  guint rank;

  if (data->rank != 1 || mask->rank != 1)
    return ane_mil_infer_fail (call, error, "nonzero_data and mask must be vectors");
  if (!shape_param (call, shape, &rank, &n, error))
    return FALSE;
  if (mask->shape[0] >= 0 && mask->shape[0] != (n + 7) / 8)
    return ane_mil_infer_fail (call, error, "mask holds %" G_GINT64_FORMAT " bytes; %" G_GINT64_FORMAT
                               " elements take %" G_GINT64_FORMAT, mask->shape[0], n, (n + 7) / 8);
  if (mask->values != NULL)
    {
      if (data->shape[0] >= 0 && count_set_bits (mask) != data->shape[0])
        return ane_mil_infer_fail (call, error, "mask sets %" G_GINT64_FORMAT " bits for %"
                                   G_GINT64_FORMAT " nonzero values", count_set_bits (mask), data->shape[0]);
      for (gint64 bit = n; bit < 8 * (gint64) mask->n_values; bit++)
        if (((guint64) mask->values[bit / 8] >> (bit % 8)) & 1)
          return ane_mil_infer_fail (call, error, "mask sets padding bit %" G_GINT64_FORMAT, bit);
    }
  ane_mil_infer_out (call, data->dtype, shape, rank);
  return TRUE;
}

/* --- constexpr ops, iOS18 (parameters as inputs) ------------------------- */

/* iOS18/compression.py, constexpr_blockwise_shift_scale._validate_shift_scale_inputs
 * (lines 86-117) on (data shape, data dtype, scale, offset): scale has data's
 * rank (at least 1) and each dimension of data is a multiple of scale's;
 * offset has scale's shape and, unless float, data's dtype. */
static gboolean
check_shift_scale (AneMilInferCall *call,
                   const AneMilVal *data,
                   const AneMilVal *scale,
                   const AneMilVal *offset,
                   GError         **error)
{
  if (data->rank != scale->rank)
    return ane_mil_infer_fail (call, error, "data (rank %u) and scale (rank %u) need one rank",
                               data->rank, scale->rank);
  if (data->rank < 1)
    return ane_mil_infer_fail (call, error, "data must have rank 1 or more");
  for (guint i = 0; i < data->rank; i++)
    if (data->shape[i] >= 0 && scale->shape[i] > 0 && data->shape[i] % scale->shape[i] != 0)
      return ane_mil_infer_fail (call, error, "data has %" G_GINT64_FORMAT " elements along dimension %u, "
                                 "not a multiple of scale's %" G_GINT64_FORMAT, data->shape[i], i,
                                 scale->shape[i]);
  if (offset != NULL)
    {
      gboolean same = offset->rank == scale->rank;

      for (guint i = 0; same && i < offset->rank; i++)
        same = offset->shape[i] == scale->shape[i];
      if (!same)
        {
          g_autofree char *o = ane_mil_infer_dims_string (offset->shape, offset->rank);
          g_autofree char *s = ane_mil_infer_dims_string (scale->shape, scale->rank);
          return ane_mil_infer_fail (call, error, "offset %s must have scale's shape %s", o, s);
        }
      if (!ane_mil_text_dtype_is_float (offset->dtype) && offset->dtype != data->dtype)
        return ane_mil_infer_fail (call, error, "an integer offset (%s) must have data's dtype (%s)",
                                   ane_mil_dt_name (offset->dtype), ane_mil_dt_name (data->dtype));
    }
  return TRUE;
}

/* iOS18/compression.py, constexpr_blockwise_shift_scale.type_inference
 * (lines 123-125): scale's dtype, data's shape. */
ANE_MIL_INFER_RULE (constexpr_blockwise_shift_scale, ios18)
{
  const AneMilVal *data = ane_mil_infer_arg (call, "data");
  const AneMilVal *scale = ane_mil_infer_arg (call, "scale");

  if (!check_shift_scale (call, data, scale, ane_mil_infer_arg (call, "offset"), error))
    return FALSE;
  ane_mil_infer_out (call, scale->dtype, data->shape, data->rank);
  return TRUE;
}

static guint
sub_byte_bits (int dtype)
{
  switch (dtype)
    {
    case ANE_MIL_DT_UINT1: return 1;
    case ANE_MIL_DT_UINT2: return 2;
    case ANE_MIL_DT_UINT3: return 3;
    case ANE_MIL_DT_UINT4: return 4;
    case ANE_MIL_DT_UINT6: return 6;
    case ANE_MIL_DT_UINT8: return 8;
    default:               return 0;
    }
}

/* iOS18/compression.py, constexpr_lut_to_dense._validate_lut_inputs (lines
 * 302-354) on (indices shape, indices dtype, lut, vector_axis): indices
 * have rank 1 or more and lut two more; each indices dimension is a
 * multiple of lut's; lut's second-to-last dimension is 2^nbits with nbits
 * the indices' bit width; vector_axis, a scalar in [-rank, rank), is needed
 * when lut's last dimension (the vector size) exceeds 1. Returns the vector
 * axis made non-negative, or -1. */
static gboolean
check_lut (AneMilInferCall *call,
           const AneMilVal *indices,
           int              indices_dtype,
           const AneMilVal *lut,
           gint64          *vector_axis,
           GError         **error)
{
  const AneMilVal *va = ane_mil_infer_arg (call, "vector_axis");
  gint64 palettes;
  guint nbits = 0;

  *vector_axis = -1;
  if (indices->rank < 1)
    return ane_mil_infer_fail (call, error, "indices must have rank 1 or more");
  if (lut->rank != indices->rank + 2)
    return ane_mil_infer_fail (call, error, "lut (rank %u) must have two dimensions more than "
                               "indices (rank %u)", lut->rank, indices->rank);
  for (guint i = 0; i < indices->rank; i++)
    if (indices->shape[i] >= 0 && lut->shape[i] > 0 && indices->shape[i] % lut->shape[i] != 0)
      return ane_mil_infer_fail (call, error, "indices have %" G_GINT64_FORMAT " elements along "
                                 "dimension %u, not a multiple of lut's %" G_GINT64_FORMAT,
                                 indices->shape[i], i, lut->shape[i]);
  palettes = lut->shape[lut->rank - 2];
  if (palettes >= 0)
    {
      while ((G_GINT64_CONSTANT (1) << nbits) < palettes && nbits < 62)
        nbits++;
      if ((G_GINT64_CONSTANT (1) << nbits) != palettes)
        return ane_mil_infer_fail (call, error, "lut's second-to-last dimension (%" G_GINT64_FORMAT
                                   ") is not a power of two", palettes);
      if (nbits != sub_byte_bits (indices_dtype))
        return ane_mil_infer_fail (call, error, "lut has %" G_GINT64_FORMAT " palettes, so the indices "
                                   "must be uint%u, not %s", palettes, nbits, ane_mil_dt_name (indices_dtype));
    }
  if (va != NULL)
    {
      if (va->rank > 0)
        return ane_mil_infer_fail (call, error, "vector_axis must be a scalar");
      if (va->values == NULL)
        return ane_mil_infer_fail (call, error, "vector_axis must be known");
      if (va->values[0] < -(double) indices->rank || va->values[0] >= indices->rank)
        return ane_mil_infer_fail (call, error, "vector_axis %g is out of range for rank %u",
                                   va->values[0], indices->rank);
      *vector_axis = (gint64) va->values[0];
      if (*vector_axis < 0)
        *vector_axis += indices->rank;
    }
  else if (lut->shape[lut->rank - 1] > 1)
    return ane_mil_infer_fail (call, error, "lut's vector size is %" G_GINT64_FORMAT "; vector_axis "
                               "must be given", lut->shape[lut->rank - 1]);
  return TRUE;
}

/* iOS18/compression.py, constexpr_lut_to_dense.type_inference (lines
 * 362-370): indices' shape, the vector axis scaled by the vector size;
 * lut's dtype. */
ANE_MIL_INFER_RULE (constexpr_lut_to_dense, ios18)
{
  const AneMilVal *indices = ane_mil_infer_arg (call, "indices");
  const AneMilVal *lut = ane_mil_infer_arg (call, "lut");
  AneMilVal *out;
  gint64 axis, vs;

  if (!check_lut (call, indices, indices->dtype, lut, &axis, error))
    return FALSE;
  out = ane_mil_infer_out (call, lut->dtype, indices->shape, indices->rank);
  vs = lut->shape[lut->rank - 1];
  if (vs > 1 && axis >= 0 && out->shape[axis] >= 0)
    out->shape[axis] *= vs;
  else if (vs < 0 && axis >= 0)
    out->shape[axis] = ANE_MIL_DIM_UNKNOWN;
  return TRUE;
}

/* iOS18/compression.py, constexpr_sparse_to_dense._validate_sparse_inputs
 * (lines 427-438): nonzero_data is a vector; with mask's value known, its
 * ones count nonzero_data. */
static gboolean
check_sparse (AneMilInferCall *call,
              const AneMilVal *data,
              const AneMilVal *mask,
              const char      *data_name,
              GError         **error)
{
  if (data->rank != 1)
    return ane_mil_infer_fail (call, error, "%s must be a vector, not rank %u", data_name, data->rank);
  if (mask->values != NULL && data->shape[0] >= 0)
    {
      gint64 ones = 0;

      for (gsize i = 0; i < mask->n_values; i++)
        ones += mask->values[i] != 0.0;
      if (ones != data->shape[0])
        return ane_mil_infer_fail (call, error, "mask has %" G_GINT64_FORMAT " ones for %"
                                   G_GINT64_FORMAT " values in %s", ones, data->shape[0], data_name);
    }
  return TRUE;
}

/* iOS18/compression.py, constexpr_sparse_to_dense.type_inference (lines
 * 441-443): nonzero_data's dtype, mask's shape. */
ANE_MIL_INFER_RULE (constexpr_sparse_to_dense, ios18)
{
  const AneMilVal *data = ane_mil_infer_arg (call, "nonzero_data");
  const AneMilVal *mask = ane_mil_infer_arg (call, "mask");

  if (!check_sparse (call, data, mask, "nonzero_data", error))
    return FALSE;
  ane_mil_infer_out (call, data->dtype, mask->shape, mask->rank);
  return TRUE;
}

/* iOS18/compression.py, constexpr_lut_to_sparse.type_inference (lines
 * 595-613): the sparse and the LUT checks (the LUT ones on the mask's shape
 * and the nonzero indices' dtype); outputs the mask (its vector axis scaled
 * by the vector size) and the nonzero values (each dimension scaled) in
 * lut's dtype. */
ANE_MIL_INFER_RULE (constexpr_lut_to_sparse, ios18)
{
  const AneMilVal *mask = ane_mil_infer_arg (call, "indices_mask");
  const AneMilVal *data = ane_mil_infer_arg (call, "indices_nonzero_data");
  const AneMilVal *lut = ane_mil_infer_arg (call, "lut");
  AneMilVal *out_mask, *out_data;
  gint64 axis, vs;

  if (!check_sparse (call, data, mask, "indices_nonzero_data", error) ||
      !check_lut (call, mask, data->dtype, lut, &axis, error))
    return FALSE;
  vs = lut->shape[lut->rank - 1];
  out_mask = ane_mil_infer_out (call, mask->dtype, mask->shape, mask->rank);
  out_data = ane_mil_infer_out (call, lut->dtype, data->shape, data->rank);
  if (vs != 1)
    {
      if (axis >= 0)
        out_mask->shape[axis] = out_mask->shape[axis] >= 0 && vs >= 0 ? out_mask->shape[axis] * vs
                                                                        : ANE_MIL_DIM_UNKNOWN;
      for (guint i = 0; i < out_data->rank; i++)
        out_data->shape[i] = out_data->shape[i] >= 0 && vs >= 0 ? out_data->shape[i] * vs : ANE_MIL_DIM_UNKNOWN;
    }
  return TRUE;
}

/* iOS18/compression.py, constexpr_sparse_blockwise_shift_scale.type_inference
 * (lines 723-730): the sparse checks, the shift-scale checks on the mask's
 * shape and nonzero_data's dtype; outputs the mask as it is and the nonzero
 * values in scale's dtype. */
ANE_MIL_INFER_RULE (constexpr_sparse_blockwise_shift_scale, ios18)
{
  const AneMilVal *mask = ane_mil_infer_arg (call, "data_mask");
  const AneMilVal *data = ane_mil_infer_arg (call, "nonzero_data");
  const AneMilVal *scale = ane_mil_infer_arg (call, "scale");
  g_autoptr(AneMilVal) dense = NULL;

  if (!check_sparse (call, data, mask, "nonzero_data", error))
    return FALSE;
  dense = ane_mil_val_copy (mask);
  dense->dtype = data->dtype;
  if (!check_shift_scale (call, dense, scale, ane_mil_infer_arg (call, "offset"), error))
    return FALSE;
  ane_mil_infer_out (call, mask->dtype, mask->shape, mask->rank);
  ane_mil_infer_out (call, scale->dtype, data->shape, data->rank);
  return TRUE;
}

/* --- activation quantization (iOS17) ------------------------------------- */

/* iOS17/quantization_ops.py, _check_scale_zp_shapes (lines 18-50): scalar
 * scale: no axis, scalar zero point; vector scale: axis given and in range,
 * scale (and zero point, a vector too) as long as input's axis; anything
 * else is refused. */
static gboolean
check_scale_zp (AneMilInferCall *call,
                const AneMilVal *input,
                const AneMilVal *scale,
                const AneMilVal *zp,
                GError         **error)
{
  const AneMilVal *axis_val = ane_mil_infer_arg (call, "axis");

  if (scale->rank == 0)
    {
      if (axis_val != NULL)
        return ane_mil_infer_fail (call, error, "axis must not be given with a scalar scale");
      if (zp != NULL && zp->rank != 0)
        return ane_mil_infer_fail (call, error, "zero_point must be a scalar when scale is one");
      return TRUE;
    }
  if (scale->rank == 1)
    {
      gint64 axis, dim;

      if (axis_val == NULL || axis_val->values == NULL)
        return ane_mil_infer_fail (call, error, "axis must be given with a vector scale");
      axis = (gint64) axis_val->values[0];
      if (axis < -(gint64) input->rank || axis >= (gint64) input->rank)
        return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of range for rank %u",
                                   axis, input->rank);
      /* numpy indexing: a negative axis counts from the end */
      dim = input->shape[axis < 0 ? axis + input->rank : axis];
      if (scale->shape[0] >= 0 && dim >= 0 && scale->shape[0] != dim)
        return ane_mil_infer_fail (call, error, "scale has %" G_GINT64_FORMAT " entries, input %"
                                   G_GINT64_FORMAT " along axis %" G_GINT64_FORMAT, scale->shape[0], dim, axis);
      if (zp != NULL)
        {
          if (zp->rank != 1)
            return ane_mil_infer_fail (call, error, "zero_point must be a vector when scale is one");
          if (zp->shape[0] >= 0 && dim >= 0 && zp->shape[0] != dim)
            return ane_mil_infer_fail (call, error, "zero_point has %" G_GINT64_FORMAT " entries, input %"
                                       G_GINT64_FORMAT " along axis %" G_GINT64_FORMAT, zp->shape[0], dim, axis);
        }
      return TRUE;
    }
  return ane_mil_infer_fail (call, error, "scale and zero_point must be scalars or vectors");
}

/* iOS17/quantization_ops.py, quantize.type_inference (lines 131-151):
 * output_dtype is int8 or uint8 and matches zero_point's dtype; scale must
 * not be all zeros (when known); the output has input's shape. */
ANE_MIL_INFER_RULE (quantize, ios17)
{
  const AneMilVal *input = ane_mil_infer_arg (call, "input");
  const AneMilVal *scale = ane_mil_infer_arg (call, "scale");
  const AneMilVal *zp = ane_mil_infer_arg (call, "zero_point");
  const char *name = ane_mil_infer_string (call, "output_dtype", NULL);
  int dtype = g_strcmp0 (name, "int8") == 0 ? ANE_MIL_DT_INT8 : g_strcmp0 (name, "uint8") == 0 ? ANE_MIL_DT_UINT8 : -1;

  if (dtype < 0)
    return ane_mil_infer_fail (call, error, "output_dtype \"%s\" is neither int8 nor uint8",
                               name != NULL ? name : "(unknown)");
  if (zp != NULL && zp->dtype != dtype)
    return ane_mil_infer_fail (call, error, "output_dtype %s and zero_point's dtype %s differ",
                               name, ane_mil_dt_name (zp->dtype));
  if (scale->values != NULL)
    {
      gboolean all_zero = TRUE;

      for (gsize i = 0; i < scale->n_values; i++)
        all_zero = all_zero && scale->values[i] == 0.0;
      if (all_zero)
        return ane_mil_infer_fail (call, error, "scale is 0");
    }
  if (!check_scale_zp (call, input, scale, zp, error))
    return FALSE;
  ane_mil_infer_out (call, dtype, input->shape, input->rank);
  return TRUE;
}

/* iOS17/quantization_ops.py, dequantize.type_inference (lines 221-223):
 * the same scale/zero-point checks; scale's dtype, input's shape. */
ANE_MIL_INFER_RULE (dequantize, ios17)
{
  const AneMilVal *input = ane_mil_infer_arg (call, "input");
  const AneMilVal *scale = ane_mil_infer_arg (call, "scale");

  if (!check_scale_zp (call, input, scale, ane_mil_infer_arg (call, "zero_point"), error))
    return FALSE;
  ane_mil_infer_out (call, scale->dtype, input->shape, input->rank);
  return TRUE;
}

/* --- attention (iOS18) ---------------------------------------------------- */

static gboolean
dims_equal (const gint64 *a,
            const gint64 *b,
            guint         n)
{
  for (guint i = 0; i < n; i++)
    if (a[i] != b[i])
      return FALSE;
  return TRUE;
}

static gboolean
any_unknown (const AneMilVal *v,
             guint            n)
{
  for (guint i = 0; i < n; i++)
    if (v->shape[i] < 0)
      return TRUE;
  return FALSE;
}

/* iOS18/transformers.py, scaled_dot_product_attention._validate_inputs
 * (lines 70-131) and type_inference (lines 133-137): query, key and value
 * have one rank, at least 3, and (where all are known) one batch shape;
 * query and key one embedding size, key and value one sequence length, the
 * mask's last dimension key's sequence length and its leading dimensions
 * broadcastable with query's; the output is query's shape with value's
 * embedding size, in query's dtype. */
ANE_MIL_INFER_RULE (scaled_dot_product_attention, ios18)
{
  const AneMilVal *q = ane_mil_infer_arg (call, "query");
  const AneMilVal *k = ane_mil_infer_arg (call, "key");
  const AneMilVal *v = ane_mil_infer_arg (call, "value");
  const AneMilVal *mask = ane_mil_infer_arg (call, "attn_mask");
  guint r = q->rank, nb;
  gint64 s_key, shape[ANE_MIL_INFER_MAX_RANK];

  if (k->rank != r || v->rank != r)
    return ane_mil_infer_fail (call, error, "query, key and value have ranks %u, %u and %u; they must "
                               "be one", q->rank, k->rank, v->rank);
  if (r < 3)
    return ane_mil_infer_fail (call, error, "query, key and value must have rank 3 or more, not %u", r);
  nb = r - 2;
  /* the batch check is skipped as soon as any batch dimension is symbolic */
  if (!any_unknown (q, nb) && !any_unknown (k, nb) && !any_unknown (v, nb) &&
      (!dims_equal (q->shape, k->shape, nb) || !dims_equal (q->shape, v->shape, nb)))
    return ane_mil_infer_fail (call, error, "query, key and value must have one batch shape");
  if (q->shape[r - 1] >= 0 && k->shape[r - 1] >= 0 && q->shape[r - 1] != k->shape[r - 1])
    return ane_mil_infer_fail (call, error, "query and key have embedding sizes %" G_GINT64_FORMAT
                               " and %" G_GINT64_FORMAT, q->shape[r - 1], k->shape[r - 1]);
  s_key = k->shape[r - 2];
  if (s_key >= 0 && v->shape[r - 2] >= 0 && s_key != v->shape[r - 2])
    return ane_mil_infer_fail (call, error, "key and value have sequence lengths %" G_GINT64_FORMAT
                               " and %" G_GINT64_FORMAT, s_key, v->shape[r - 2]);
  if (mask != NULL)
    {
      g_autoptr(AneMilVal) q_lead = NULL, m_lead = NULL;
      gint64 dims[ANE_MIL_INFER_MAX_RANK];
      guint n;

      if (mask->rank == 0)
        return ane_mil_infer_fail (call, error, "attn_mask must have rank 1 or more");
      if (mask->shape[mask->rank - 1] >= 0 && s_key >= 0 && mask->shape[mask->rank - 1] != s_key)
        return ane_mil_infer_fail (call, error, "attn_mask's last dimension (%" G_GINT64_FORMAT ") must "
                                   "be key's sequence length (%" G_GINT64_FORMAT ")",
                                   mask->shape[mask->rank - 1], s_key);
      /* broadcast_shapes(query.shape[:-1], mask.shape[:-1]) must not raise */
      q_lead = ane_mil_val_new (q->dtype, q->shape, r - 1);
      m_lead = ane_mil_val_new (mask->dtype, mask->shape, mask->rank - 1);
      if (m_lead->rank > 0 && !ane_mil_infer_broadcast (call, q_lead, m_lead, dims, &n, error))
        return FALSE;
    }
  memcpy (shape, q->shape, (r - 1) * sizeof (gint64));
  shape[r - 1] = v->shape[r - 1];
  ane_mil_infer_out (call, q->dtype, shape, r);
  return TRUE;
}

/* --- states (iOS18) ------------------------------------------------------- */

/* iOS18/states.py, read_state.type_inference (lines 37-43): the tensor the
 * state wraps. */
ANE_MIL_INFER_RULE (read_state, ios18)
{
  const AneMilVal *s = ane_mil_infer_arg (call, "input");

  ane_mil_infer_out (call, s->dtype, s->shape, s->rank);
  return TRUE;
}

/* coreml_dialect/ops.py, coreml_update_state.type_inference (lines 61-67):
 * value's type must be exactly the state's wrapped type; the result is
 * value's type. */
static gboolean
check_update (AneMilInferCall *call,
              const AneMilVal *state,
              const AneMilVal *value,
              const char      *value_name,
              GError         **error)
{
  g_autoptr(AneMilVal) wrapped = ane_mil_val_copy (state);

  wrapped->kind = ANE_MIL_VAL_TENSOR;
  if (value->kind != ANE_MIL_VAL_TENSOR || !ane_mil_val_type_compatible (wrapped, value) ||
      any_unknown (value, value->rank) != any_unknown (wrapped, wrapped->rank))
    {
      g_autofree char *w = ane_mil_val_type_string (wrapped);
      g_autofree char *v = ane_mil_val_type_string (value);

      return ane_mil_infer_fail (call, error, "%s is %s, but the state holds %s", value_name, v, w);
    }
  return TRUE;
}

ANE_MIL_INFER_RULE (coreml_update_state, ios18)
{
  const AneMilVal *value = ane_mil_infer_arg (call, "value");

  if (!check_update (call, ane_mil_infer_arg (call, "state"), value, "value", error))
    return FALSE;
  ane_mil_infer_out_like (call, value, -1);
  return TRUE;
}

/* write_state has no pymil class: the loader (frontend/milproto/load.py,
 * _load_operation, lines 441-448) turns write_state(input, data) into
 * coreml_update_state(state=input, value=data), whose output it drops, so
 * write_state has the same check and no outputs. */
ANE_MIL_INFER_RULE (write_state, ios18)
{
  return check_update (call, ane_mil_infer_arg (call, "input"), ane_mil_infer_arg (call, "data"), "data", error);
}
