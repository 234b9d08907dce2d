/* ops/ane-ops-index.c: pad, gather_elements, argmax / argmin
 *
 * The ops ONNX import needs beyond the torch-shaped ones, each with the
 * semantics of its numpy / ONNX counterpart:
 *   pad             numpy.pad on the last axes: mode 'constant' (value),
 *                   'reflect' (the edge not repeated) or 'edge'
 *                   https://numpy.org/doc/stable/reference/generated/numpy.pad.html
 *                   (ONNX Pad: onnx/onnx docs/Operators.md, "Pad", modes
 *                   constant / reflect / edge)
 *   gather_elements numpy.take_along_axis / ONNX GatherElements: out has the
 *                   indices' shape, out[i][j][k] = x[i][idx[i][j][k]][k] for
 *                   axis 1; negative indices count from the end
 *   argmax, argmin  numpy.argmax / argmin along one axis (the first of equal
 *                   values; a NaN counts as the extreme, the first NaN wins),
 *                   int32 indices, keepdims as ONNX ArgMax's
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ops/ane-ops.h"

/* --- pad --------------------------------------------------------------- */

/* The pad modes, numpy's names (ONNX's too). */
static gboolean
pad_mode_known (const char *mode)
{
  return g_str_equal (mode, "constant") || g_str_equal (mode, "reflect") || g_str_equal (mode, "edge");
}

gboolean
ane_infer_pad (AneInferCtx *ctx,
               GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  const char *mode = ane_attrs_string (ctx->attrs, "mode");
  gsize n;
  const gint64 *pads = ane_attrs_ints (ctx->attrs, "pads", &n);
  char xb[ANE_SPEC_STRLEN];
  guint first;

  if (!ane_infer_require_numeric (ctx, 0, error))
    return FALSE;
  if (!pad_mode_known (mode))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "mode must be 'constant', 'reflect' or 'edge', not '%s'", mode);
      return FALSE;
    }
  if (n % 2 != 0 || n / 2 > x->rank)
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "pads has %" G_GSIZE_FORMAT " entries; it needs a (before, after) pair for each of "
                       "at most %u trailing axes of input 'x' %s", n, x->rank, ane_spec_format (x, xb));
      return FALSE;
    }
  first = x->rank - (guint) (n / 2);
  ctx->outputs[0] = *x;
  for (guint d = first; d < x->rank; d++)
    {
      gint64 before = pads[2 * (d - first)], after = pads[2 * (d - first) + 1];
      gint64 dim = x->shape[d];

      if (before < 0 || after < 0)
        {
          ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                           "pads (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") of axis %u are negative "
                           "(crop with narrow)", before, after, d);
          return FALSE;
        }
      if (g_str_equal (mode, "reflect") && (before > dim - 1 || after > dim - 1))
        {
          ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                           "reflect pads (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") exceed size - 1 = %"
                           G_GINT64_FORMAT " of axis %u of input 'x' %s", before, after, dim - 1, d,
                           ane_spec_format (x, xb));
          return FALSE;
        }
      if (g_str_equal (mode, "edge") && dim == 0 && before + after > 0)
        {
          ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                           "edge padding cannot extend the empty axis %u of input 'x' %s", d,
                           ane_spec_format (x, xb));
          return FALSE;
        }
      ctx->outputs[0].shape[d] = dim + before + after;
    }
  return TRUE;
}

gboolean
ane_ref_pad (AneRefCtx *ctx,
             GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  const char *mode = ane_attrs_string (ctx->attrs, "mode");
  double value = ane_attrs_double (ctx->attrs, "value");
  gboolean reflect = g_str_equal (mode, "reflect"), edge = g_str_equal (mode, "edge");
  gsize n;
  const gint64 *pads = ane_attrs_ints (ctx->attrs, "pads", &n);
  gint64 before[ANE_MAX_RANK] = { 0, }, oc[ANE_MAX_RANK], xc[ANE_MAX_RANK];
  guint first = x->rank - (guint) (n / 2);

  for (guint d = first; d < x->rank; d++)
    before[d] = pads[2 * (d - first)];
  for (gsize i = 0; i < y->n; i++)
    {
      gboolean outside = FALSE;

      ane_ref_unravel (i, y->shape, y->rank, oc);
      for (guint d = 0; d < x->rank; d++)
        {
          gint64 s = oc[d] - before[d], dim = x->shape[d];

          if (s < 0 || s >= dim)
            {
              if (reflect)
                s = s < 0 ? -s : 2 * (dim - 1) - s;   /* numpy 'reflect': the edge is not repeated */
              else if (edge)
                s = s < 0 ? 0 : dim - 1;
              else
                outside = TRUE;
            }
          xc[d] = s;
        }
      y->v[i] = outside ? value : x->v[ane_ref_ravel (xc, x->shape, x->rank)];
    }
  return TRUE;
}

/* --- gather_elements ---------------------------------------------------- */

gboolean
ane_infer_gather_elements (AneInferCtx *ctx,
                           GError     **error)
{
  const AneSpec *x = ctx->inputs[0], *idx = ctx->inputs[1];
  char xb[ANE_SPEC_STRLEN], ib[ANE_SPEC_STRLEN];
  gint64 n_idx = 0;
  guint axis;

  if (!ane_infer_require_numeric (ctx, 0, error) ||
      !ane_infer_require_integer (ctx, 1, error) ||
      !ane_infer_axis (ctx, "axis", 0, &axis, error))
    return FALSE;
  if (idx->rank != x->rank)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'indices' %s must have the rank of input 'x' %s",
                       ane_spec_format (idx, ib), ane_spec_format (x, xb));
      return FALSE;
    }
  /* ONNX GatherElements: indices may be smaller than x on the other axes. */
  for (guint d = 0; d < x->rank; d++)
    if (d != axis && idx->shape[d] > x->shape[d])
      {
        ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                         "input 'indices' %s is larger than input 'x' %s on axis %u",
                         ane_spec_format (idx, ib), ane_spec_format (x, xb), d);
        return FALSE;
      }
  ane_spec_n_elements (idx, &n_idx);
  if (x->shape[axis] == 0 && n_idx > 0)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'indices' %s cannot index the empty axis %u of input 'x' %s",
                       ane_spec_format (idx, ib), axis, ane_spec_format (x, xb));
      return FALSE;
    }
  ctx->outputs[0] = *idx;
  ctx->outputs[0].dtype = x->dtype;
  return TRUE;
}

gboolean
ane_ref_gather_elements (AneRefCtx *ctx,
                         GError   **error)
{
  const AneRefValue *x = ctx->inputs[0], *idx = ctx->inputs[1];
  AneRefValue *y = ctx->outputs[0];
  gint64 c[ANE_MAX_RANK], dim;
  guint axis;

  ane_normalize_axis (ane_attrs_int (ctx->attrs, "axis"), x->rank, &axis);
  dim = x->shape[axis];
  for (gsize i = 0; i < y->n; i++)
    {
      gint64 k;

      if (!ane_ref_wrap_index (idx->v[i], dim, axis, &k, error))
        return FALSE;
      ane_ref_unravel (i, idx->shape, idx->rank, c);
      c[axis] = k;
      y->v[i] = x->v[ane_ref_ravel (c, x->shape, x->rank)];
    }
  return TRUE;
}

/* --- argmax / argmin ---------------------------------------------------- */

gboolean
ane_infer_arg_reduce (AneInferCtx *ctx,
                      GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  AneSpec *out = &ctx->outputs[0];
  gboolean keepdims = ane_attrs_bool (ctx->attrs, "keepdims");
  char xb[ANE_SPEC_STRLEN];
  guint axis, r = 0;

  if (!ane_infer_require_numeric (ctx, 0, error) ||
      !ane_infer_axis (ctx, "axis", 0, &axis, error))
    return FALSE;
  if (x->shape[axis] == 0 || x->shape[axis] - 1 > G_MAXINT32)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "axis %u of input 'x' %s must have 1 to 2^31 elements for an int32 index",
                       axis, ane_spec_format (x, xb));
      return FALSE;
    }
  out->dtype = ANE_DTYPE_INT32;
  for (guint d = 0; d < x->rank; d++)
    if (d != axis)
      out->shape[r++] = x->shape[d];
    else if (keepdims)
      out->shape[r++] = 1;
  out->rank = r;
  return TRUE;
}

gboolean
ane_ref_arg_reduce (AneRefCtx *ctx,
                    GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  gboolean want_max = ctx->node->op->kind == ANE_OP_ARGMAX;
  gsize outer = 1, inner = 1, dim;
  guint axis;

  ane_normalize_axis (ane_attrs_int (ctx->attrs, "axis"), x->rank, &axis);
  for (guint d = 0; d < axis; d++)
    outer *= (gsize) x->shape[d];
  for (guint d = axis + 1; d < x->rank; d++)
    inner *= (gsize) x->shape[d];
  dim = (gsize) x->shape[axis];
  for (gsize o = 0; o < outer; o++)
    for (gsize i = 0; i < inner; i++)
      {
        gsize best = 0;
        double bv = x->v[o * dim * inner + i];

        /* numpy: the first extreme wins; a NaN is the extreme (the first NaN). */
        for (gsize j = 1; j < dim && !isnan (bv); j++)
          {
            double v = x->v[(o * dim + j) * inner + i];

            if (isnan (v) || (want_max ? v > bv : v < bv))
              {
                best = j;
                bv = v;
              }
          }
        y->v[o * inner + i] = (double) best;
      }
  return TRUE;
}

/* --- builder methods ---------------------------------------------------- */

/**
 * ane_graph_pad:
 * @self: a graph
 * @x: a float or integer tensor
 * @pads: (array length=n_pads): (before, after) amounts for each of the last
 *   n_pads / 2 axes of @x, in axis order; none negative
 * @n_pads: the number of entries of @pads (even, at most twice the rank of @x)
 * @mode: "constant", "reflect" (the edge is not repeated, so each amount is
 *   at most the axis' size - 1) or "edge" (the edge value repeated)
 * @value: the fill value of "constant" mode
 * @error: return location for a #GError
 *
 * Pads the trailing axes of @x as numpy.pad and ONNX Pad do. ONNX lists
 * all begins and then all ends; this op takes a (before, after) pair per
 * axis, as MIL's pad.
 *
 * Returns: (transfer full): the padded tensor
 */
AneTensor *
ane_graph_pad (AneGraph     *self,
               AneTensor    *x,
               const gint64 *pads,
               guint         n_pads,
               const char   *mode,
               double        value,
               GError      **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  g_return_val_if_fail (pads != NULL || n_pads == 0, NULL);
  g_return_val_if_fail (mode != NULL, NULL);
  return ane_graph_add_node (self, ANE_OP_PAD, &x, 1,
                             ane_attrs_new ("pads", ane_attrs_ints_variant (pads, n_pads),
                                            "mode", g_variant_new_string (mode),
                                            "value", g_variant_new_double (value), NULL),
                             NULL, error);
}

/**
 * ane_graph_gather_elements:
 * @self: a graph
 * @x: the tensor to read from
 * @indices: integer indices, of the rank of @x and no larger than @x on any
 *   axis but @axis; negative ones count from the end of @axis
 * @axis: the axis the indices run along (negative counts from the end)
 * @error: return location for a #GError
 *
 * Reads @x at @indices along @axis, as numpy.take_along_axis and ONNX
 * GatherElements: the result has the shape of @indices and, for @axis 1,
 * `out[i][j][k] = x[i][indices[i][j][k]][k]`.
 *
 * Returns: (transfer full): the gathered values, dtype of @x
 */
AneTensor *
ane_graph_gather_elements (AneGraph   *self,
                           AneTensor  *x,
                           AneTensor  *indices,
                           int         axis,
                           GError    **error)
{
  AneTensor *inputs[2] = { x, indices };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x) && ANE_IS_TENSOR (indices), NULL);
  return ane_graph_add_node (self, ANE_OP_GATHER_ELEMENTS, inputs, 2,
                             ane_attrs_new ("axis", g_variant_new_int64 (axis), NULL), NULL, error);
}

static AneTensor *
add_arg_reduce (AneGraph   *self,
                AneOpKind   kind,
                AneTensor  *x,
                int         axis,
                gboolean    keepdims,
                GError    **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  return ane_graph_add_node (self, kind, &x, 1,
                             ane_attrs_new ("axis", g_variant_new_int64 (axis),
                                            "keepdims", g_variant_new_boolean (keepdims), NULL),
                             NULL, error);
}

/**
 * ane_graph_argmax:
 * @self: a graph
 * @x: a float or integer tensor
 * @axis: the axis to search (negative counts from the end)
 * @keepdims: keep @axis with size 1
 * @error: return location for a #GError
 *
 * The index of the largest value along @axis, as numpy.argmax and ONNX
 * ArgMax (select_last_index 0): of equal values the first; a NaN counts as
 * the largest.
 *
 * Returns: (transfer full): int32 indices
 */
AneTensor *
ane_graph_argmax (AneGraph   *self,
                  AneTensor  *x,
                  int         axis,
                  gboolean    keepdims,
                  GError    **error)
{
  return add_arg_reduce (self, ANE_OP_ARGMAX, x, axis, keepdims, error);
}

/**
 * ane_graph_argmin:
 * @self: a graph
 * @x: a float or integer tensor
 * @axis: the axis to search (negative counts from the end)
 * @keepdims: keep @axis with size 1
 * @error: return location for a #GError
 *
 * The index of the smallest value along @axis, as numpy.argmin and ONNX
 * ArgMin (select_last_index 0): of equal values the first; a NaN counts as
 * the smallest.
 *
 * Returns: (transfer full): int32 indices
 */
AneTensor *
ane_graph_argmin (AneGraph   *self,
                  AneTensor  *x,
                  int         axis,
                  gboolean    keepdims,
                  GError    **error)
{
  return add_arg_reduce (self, ANE_OP_ARGMIN, x, axis, keepdims, error);
}

/**
 * ane_graph_erf:
 * @self: a graph
 * @x: a float tensor
 * @error: return location for a #GError
 *
 * The Gauss error function, as C's erf() and ONNX Erf.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_erf (AneGraph   *self,
               AneTensor  *x,
               GError    **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  return ane_graph_add_node (self, ANE_OP_ERF, &x, 1, NULL, NULL, error);
}
