/* ops/ane-ops-quant.c: affine int8/uint8 quantize and dequantize
 *
 * The affine scheme of ONNX QuantizeLinear / DequantizeLinear
 * (https://onnx.ai/onnx/operators/onnx__QuantizeLinear.html) and of MIL's
 * iOS17 `quantize` / `dequantize` (coremltools.converters.mil.mil.ops.defs.iOS17.quantization_ops):
 *   q = clamp(round_half_to_even(x / scale) + zero_point, qmin, qmax)
 *   x = (q − zero_point) · scale
 * with one scale (shape [] or [1]) for the whole tensor, or one per index of
 * `axis` (shape [C], C = x.shape[axis]). The GGUF block formats are separate
 * ops (dequant_matmul and friends).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ops/ane-ops.h"

enum { SLOT_X, SLOT_SCALE, SLOT_ZERO_POINT };

/* Checks scale and zero_point against input 0 (x or q); sets *per_channel
 * and *axis (meaningful only when per channel). */
static gboolean
infer_affine_params (AneInferCtx *ctx,
                     AneDType     quant_dtype,
                     gboolean    *per_channel,
                     guint       *axis,
                     GError     **error)
{
  const AneSpec *x = ctx->inputs[SLOT_X], *scale = ctx->inputs[SLOT_SCALE];
  const AneSpec *zp = ctx->inputs[SLOT_ZERO_POINT];
  char bx[ANE_SPEC_STRLEN], bs[ANE_SPEC_STRLEN], bz[ANE_SPEC_STRLEN];
  const char *xname = ane_op_info_slot_name (ctx->op, SLOT_X);

  if (!ane_infer_require_float (ctx, SLOT_SCALE, error))
    return FALSE;
  /* axis is validated whenever x has axes, so a wrong one never lies dormant. */
  *axis = 0;
  if (x->rank > 0 && !ane_infer_axis (ctx, "axis", 0, axis, error))
    return FALSE;

  if (scale->rank == 0 || (scale->rank == 1 && scale->shape[0] == 1))
    *per_channel = FALSE;
  else if (scale->rank == 1 && x->rank > 0 && scale->shape[0] == x->shape[*axis])
    *per_channel = TRUE;
  else
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'scale' %s must have shape [] or [1] (per tensor) or [%" G_GINT64_FORMAT
                       "] (per channel along axis %" G_GINT64_FORMAT " of '%s' %s)",
                       ane_spec_format (scale, bs), x->rank > 0 ? x->shape[*axis] : 1,
                       ane_attrs_int (ctx->attrs, "axis"), xname, ane_spec_format (x, bx));
      return FALSE;
    }

  if (zp != NULL)
    {
      if (zp->dtype != quant_dtype)
        {
          ane_infer_error (ctx, error, ANE_ERROR_DTYPE,
                           "input 'zero_point' %s must have the quantized dtype %s", ane_spec_format (zp, bz),
                           ane_dtype_to_string (quant_dtype));
          return FALSE;
        }
      if (zp->rank != scale->rank || (zp->rank == 1 && zp->shape[0] != scale->shape[0]))
        {
          ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                           "input 'zero_point' %s must have the shape of 'scale' %s",
                           ane_spec_format (zp, bz), ane_spec_format (scale, bs));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
ane_infer_quantize (AneInferCtx *ctx,
                    GError     **error)
{
  const char *name = ane_attrs_string (ctx->attrs, "dtype");
  AneDType dtype;
  gboolean per_channel;
  guint axis;

  if (!g_str_equal (name, "int8") && !g_str_equal (name, "uint8"))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "dtype must be 'int8' or 'uint8', not '%s'", name);
      return FALSE;
    }
  dtype = g_str_equal (name, "int8") ? ANE_DTYPE_INT8 : ANE_DTYPE_UINT8;
  if (!ane_infer_require_float (ctx, SLOT_X, error) ||
      !ane_infer_same_dtype (ctx, SLOT_X, SLOT_SCALE, error) ||
      !infer_affine_params (ctx, dtype, &per_channel, &axis, error))
    return FALSE;
  ctx->outputs[0] = *ctx->inputs[SLOT_X];
  ctx->outputs[0].dtype = dtype;
  return TRUE;
}

gboolean
ane_infer_dequantize (AneInferCtx *ctx,
                      GError     **error)
{
  const AneSpec *q = ctx->inputs[SLOT_X];
  const char *name = ane_attrs_string (ctx->attrs, "dtype");
  char bq[ANE_SPEC_STRLEN];
  AneDType dtype;
  gboolean per_channel;
  guint axis;

  if (!ane_dtype_from_string (name, &dtype) || !ane_dtype_is_float (dtype))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "dtype must be a float dtype ('float32', 'float16' or 'bfloat16'), not '%s'", name);
      return FALSE;
    }
  if (q->dtype != ANE_DTYPE_INT8 && q->dtype != ANE_DTYPE_UINT8)
    {
      ane_infer_error (ctx, error, ANE_ERROR_DTYPE, "input 'q' must be int8 or uint8, got %s",
                       ane_spec_format (q, bq));
      return FALSE;
    }
  if (!infer_affine_params (ctx, q->dtype, &per_channel, &axis, error))
    return FALSE;
  ctx->outputs[0] = *q;
  ctx->outputs[0].dtype = dtype;
  return TRUE;
}

/* The index into scale / zero_point of element i of x: 0 per tensor, else
 * i's coordinate along axis. */
static gsize
param_index (const AneRefValue *x,
             const AneRefValue *scale,
             GVariant          *attrs,
             gsize              i)
{
  gint64 coords[ANE_MAX_RANK];
  guint axis;

  if (scale->n <= 1 || (scale->rank == 1 && scale->shape[0] == 1))
    return 0;
  ane_normalize_axis (ane_attrs_int (attrs, "axis"), x->rank, &axis);
  ane_ref_unravel (i, x->shape, x->rank, coords);
  return (gsize) coords[axis];
}

gboolean
ane_ref_quantize (AneRefCtx *ctx,
                  GError   **error)
{
  const AneRefValue *x = ctx->inputs[SLOT_X], *scale = ctx->inputs[SLOT_SCALE];
  const AneRefValue *zp = ctx->inputs[SLOT_ZERO_POINT];
  AneRefValue *y = ctx->outputs[0];
  double lo = y->dtype == ANE_DTYPE_INT8 ? -128.0 : 0.0;
  double hi = y->dtype == ANE_DTYPE_INT8 ? 127.0 : 255.0;

  for (gsize i = 0; i < x->n; i++)
    {
      gsize c = param_index (x, scale, ctx->attrs, i);
      /* nearbyint rounds half to even in the default rounding mode. */
      double r = nearbyint (x->v[i] / scale->v[c]) + (zp ? zp->v[c] : 0.0);

      /* Saturate; NaN stays NaN here and becomes 0 when stored as an integer. */
      y->v[i] = r < lo ? lo : r > hi ? hi : r;
    }
  return TRUE;
}

gboolean
ane_ref_dequantize (AneRefCtx *ctx,
                    GError   **error)
{
  const AneRefValue *q = ctx->inputs[SLOT_X], *scale = ctx->inputs[SLOT_SCALE];
  const AneRefValue *zp = ctx->inputs[SLOT_ZERO_POINT];
  AneRefValue *y = ctx->outputs[0];

  for (gsize i = 0; i < q->n; i++)
    {
      gsize c = param_index (q, scale, ctx->attrs, i);

      y->v[i] = (q->v[i] - (zp ? zp->v[c] : 0.0)) * scale->v[c];
    }
  return TRUE;
}

/**
 * ane_graph_quantize:
 * @self: a graph
 * @x: a float tensor
 * @scale: the step, dtype of @x: shape `[]` or `[1]` for one scale, or `[C]`
 *   with C = x.shape[@axis] for one per channel
 * @zero_point: (nullable): the zero point, the shape of @scale and dtype @dtype;
 *   0 when %NULL
 * @axis: the channel axis of a per-channel @scale (negative counts from the end)
 * @dtype: %ANE_DTYPE_INT8 or %ANE_DTYPE_UINT8
 * @error: return location for a #GError
 *
 * Affine quantization, as ONNX QuantizeLinear:
 * `clamp(round_half_to_even(x / scale) + zero_point, min, max)` of @dtype.
 *
 * Returns: (transfer full): the quantized tensor, shape of @x
 */
AneTensor *
ane_graph_quantize (AneGraph   *self,
                    AneTensor  *x,
                    AneTensor  *scale,
                    AneTensor  *zero_point,
                    int         axis,
                    AneDType    dtype,
                    GError    **error)
{
  AneTensor *inputs[3] = { x, scale, zero_point };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x) && ANE_IS_TENSOR (scale), NULL);
  g_return_val_if_fail (zero_point == NULL || ANE_IS_TENSOR (zero_point), NULL);
  g_return_val_if_fail ((guint) dtype < ANE_N_DTYPES, NULL);

  return ane_graph_add_node (self, ANE_OP_QUANTIZE, inputs, 3,
                             ane_attrs_new ("axis", g_variant_new_int64 (axis),
                                            "dtype", g_variant_new_string (ane_dtype_to_string (dtype)),
                                            NULL),
                             NULL, error);
}

/**
 * ane_graph_dequantize:
 * @self: a graph
 * @q: an int8 or uint8 tensor
 * @scale: the step, a float tensor: shape `[]` or `[1]` for one scale, or `[C]`
 *   with C = q.shape[@axis] for one per channel
 * @zero_point: (nullable): the zero point, the shape of @scale and dtype of @q;
 *   0 when %NULL
 * @axis: the channel axis of a per-channel @scale (negative counts from the end)
 * @dtype: the float dtype of the result
 * @error: return location for a #GError
 *
 * Affine dequantization, as ONNX DequantizeLinear: `(q − zero_point) · scale`.
 *
 * Returns: (transfer full): the dequantized tensor, shape of @q
 */
AneTensor *
ane_graph_dequantize (AneGraph   *self,
                      AneTensor  *q,
                      AneTensor  *scale,
                      AneTensor  *zero_point,
                      int         axis,
                      AneDType    dtype,
                      GError    **error)
{
  AneTensor *inputs[3] = { q, scale, zero_point };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (q) && ANE_IS_TENSOR (scale), NULL);
  g_return_val_if_fail (zero_point == NULL || ANE_IS_TENSOR (zero_point), NULL);
  g_return_val_if_fail ((guint) dtype < ANE_N_DTYPES, NULL);

  return ane_graph_add_node (self, ANE_OP_DEQUANTIZE, inputs, 3,
                             ane_attrs_new ("axis", g_variant_new_int64 (axis),
                                            "dtype", g_variant_new_string (ane_dtype_to_string (dtype)),
                                            NULL),
                             NULL, error);
}
