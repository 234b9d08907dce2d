/* mil/lower/ane-lower-index.c: pad, gather_elements, argmax / argmin
 *
 *   pad             -> pad (x, pad = (before, after) per trailing axis, mode
 *                      constant / reflect / replicate, constant_val in the
 *                      program's dtype). iOS15/tensor_operation.py `pad`:
 *                      "reflect" does not repeat the edge (numpy's reflect),
 *                      "replicate" is numpy's edge; x is fp16|fp32 only.
 *   gather_elements -> [slice_by_index of x down to the indices' size on the
 *                      other axes] + gather_along_axis. iOS15/scatter_gather.py
 *                      `gather_along_axis` wants indices and x of equal size
 *                      on every axis but `axis`; ONNX GatherElements lets the
 *                      indices be smaller, which reads the leading part of x.
 *                      From iOS17 (validate_indices = true) negative indices
 *                      are wrapped first, as ane_lower_gather does.
 *   argmax / argmin -> reduce_argmax / reduce_argmin (axis, keep_dims),
 *                      int32 out (iOS17's output_dtype left at its default
 *                      int32). iOS15/reduction.py.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/lower/ane-lower-private.h"

/* --- pad ------------------------------------------------------------------ */

gboolean
ane_lower_pad (AneLowerCtx *ctx,
               GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec x = ane_lower_in_spec (ctx, 0);
  const char *mode = ane_attrs_string (ctx->node->attrs, "mode");
  double value = ane_attrs_double (ctx->node->attrs, "value");
  gsize n;
  const gint64 *pads = ane_attrs_ints (ctx->node->attrs, "pads", &n);
  g_autofree char *pad_hint = ane_lower_hint (ctx, "pad");
  g_autofree char *mode_hint = ane_lower_hint (ctx, "mode");
  g_autofree char *value_hint = ane_lower_hint (ctx, "constant_val");
  gboolean any = FALSE;

  for (gsize i = 0; i < n; i++)
    any |= pads[i] != 0;
  if (!any)
    {
      ctx->out[0] = ane_lower_emit_identity (ctx);
      return TRUE;
    }
  if (!ane_dtype_is_float (x.dtype))
    return ane_lower_unsupported (ctx, error, "MIL's pad takes float16/float32 only, not %s",
                                  ane_dtype_to_string (x.dtype));
  {
    /* last argument first (ane-lower-private.h, order of emission) */
    const char *value_c = g_str_equal (mode, "constant") ?
                          ane_mil_const_float (ctx->b, value_hint, x.dtype, value) : NULL;
    const char *mode_c = ane_mil_const_string (ctx->b, mode_hint,
                                               g_str_equal (mode, "edge") ? "replicate" : mode);
    const char *pad_c = ane_mil_const_ints (ctx->b, pad_hint, pads, n);

    ctx->out[0] = ane_mil_op (ctx->b, "pad", ctx->hint, out->dtype, out->shape, out->rank,
                              "x", ctx->in[0], "pad", pad_c, "mode", mode_c, "constant_val", value_c, NULL);
  }
  return TRUE;
}

/* --- gather_elements ------------------------------------------------------ */

gboolean
ane_lower_gather_elements (AneLowerCtx *ctx,
                           GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec x = ane_lower_in_spec (ctx, 0);
  AneSpec idx_spec = ane_lower_in_spec (ctx, 1);
  g_autofree char *axis_hint = ane_lower_hint (ctx, "axis");
  g_autofree char *valid_hint = ane_lower_hint (ctx, "validate_indices");
  g_auto(AneLowerNames) names = { NULL, };
  gint64 begin[ANE_MAX_RANK] = { 0, }, end[ANE_MAX_RANK];
  gboolean cut = FALSE;
  const char *xv, *idx, *gathered, *validate;
  AneDType work;
  guint axis;

  ane_lower_names_init (&names, ctx);
  ane_normalize_axis (ane_attrs_int (ctx->node->attrs, "axis"), x.rank, &axis);
  xv = ane_lower_widen (ctx, "gather_along_axis", "x", ctx->in[0], &x, &work);
  for (guint d = 0; d < x.rank; d++)
    {
      end[d] = d == axis ? x.shape[d] : idx_spec.shape[d];
      cut |= end[d] != x.shape[d];
    }
  if (cut)
    xv = ane_lower_emit_slice (&names, "x_cut", work, x.rank, xv, begin, end);
  idx = ane_lower_to_int32 (ctx, "gather_along_axis", ctx->in[1], &idx_spec);
  if (ctx->target >= ANE_MIL_IOS17 && idx_spec.dtype != ANE_DTYPE_UINT8)
    idx = ane_lower_wrap_indices (ctx, idx, &idx_spec, x.shape[axis]);
  {
    /* last argument first (ane-lower-private.h, order of emission) */
    validate = ctx->target >= ANE_MIL_IOS17 ? ane_mil_const_bool (ctx->b, valid_hint, TRUE) : NULL;
    {
      const char *axis_c = ane_mil_const_int (ctx->b, axis_hint, axis);

      gathered = ane_mil_op (ctx->b, "gather_along_axis", ctx->hint, work, out->shape, out->rank,
                             "x", xv, "indices", idx, "axis", axis_c, "validate_indices", validate, NULL);
    }
  }
  ctx->out[0] = ane_lower_restore (ctx, gathered, work, out->dtype, out->shape, out->rank, FALSE);
  return TRUE;
}

/* --- argmax / argmin -------------------------------------------------------- */

gboolean
ane_lower_arg_reduce (AneLowerCtx *ctx,
                      GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec x = ane_lower_in_spec (ctx, 0);
  const char *op = ctx->node->op->kind == ANE_OP_ARGMAX ? "reduce_argmax" : "reduce_argmin";
  gboolean keepdims = ane_attrs_bool (ctx->node->attrs, "keepdims");
  g_autofree char *axis_hint = ane_lower_hint (ctx, "axis");
  g_autofree char *keep_hint = ane_lower_hint (ctx, "keep_dims");
  const char *xv;
  AneDType work;
  guint axis;

  ane_normalize_axis (ane_attrs_int (ctx->node->attrs, "axis"), x.rank, &axis);
  xv = ane_lower_widen (ctx, op, "x", ctx->in[0], &x, &work);
  {
    /* last argument first (ane-lower-private.h, order of emission) */
    const char *keep_c = ane_mil_const_bool (ctx->b, keep_hint, keepdims);
    const char *axis_c = ane_mil_const_int (ctx->b, axis_hint, axis);

    ctx->out[0] = ane_mil_op (ctx->b, op, ctx->hint, ANE_DTYPE_INT32, out->shape, out->rank,
                              "x", xv, "axis", axis_c, "keep_dims", keep_c, NULL);
  }
  return TRUE;
}
