/* mil/lower/ane-lower-ane-rms-norm.c: the Neural Engine profile's RMSNorm,
 * a layer_norm over the channels of [x, -x]
 *
 * The rewrite. rms_norm (x, w) over the last axis of x [..., S, C] becomes,
 * on x in the Neural Engine's layout [B, C, 1, S] (ane-lower-ane-layout.c),
 *   both = concat ([x, -x], axis 1)                         [B, 2C, 1, S]
 *   y    = layer_norm (both, axes [1], gamma [w, w], eps)   [B, 2C, 1, S]
 *   out  = y[:, :C]                                         [B, C, 1, S]
 * and the result stays in that layout.
 *
 * Why. The mean of [x, -x] is 0, so layer_norm divides by
 * sqrt(mean(x²) + eps): exactly RMSNorm. The Neural Engine's layer_norm
 * kernel sums the squares without the fp16 overflow of a hand-written
 * mean(x·x) (lint rule fp16-wide-square-sum), and it is one op the
 * hardware has instead of five. Anemll computes its RMSNorm so
 * (Anemll/Anemll anemll/models/qwen_model.py:101-136); the LLaMA builder's
 * Neural Engine layout does the same (ane-glib/model/ane-llama-ane.c, pass 3).
 * The generic lowering's fp16 form (a max-scaled mean of squares,
 * ane-lower-norm.c) is what this replaces.
 *
 * The weight: a known [C] weight is stored mirrored, [w, w], once; an
 * unbound param is mirrored by a concat of the const in the program (a const
 * expression Core ML folds). No weight: layer_norm without gamma.
 *
 * Declined (the generic lowering runs): a weight computed at run time, an
 * integer x.
 *
 * Tested by tests/test-lower-ane-profile.c (profile on vs off on the CPU
 * backend, fp32 and fp16; the program has layer_norm and no reduce_mean).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/lower/ane-lower-private.h"

/* gamma [w, w] of the weight in slot 1, or NULL with error. */
static const char *
mirrored_gamma (AneLowerCtx  *ctx,
                gint64        c,
                GError      **error)
{
  const AneNode *src = ctx->in_node[1];
  AneTensor *value = ane_lower_source_value (ctx, src);
  const gint64 two_c = 2 * c;
  g_autofree char *name = g_strdup_printf ("%s_mirrored", src->name);

  if (value != NULL && ctx->in[1] == NULL)
    {
      GBytes *data = ane_tensor_get_data (value);
      gsize size = g_bytes_get_size (data);
      guint8 *both = g_malloc (MAX (2 * size, 1));
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(AneTensor) t = NULL;

      if (size > 0)
        {
          memcpy (both, g_bytes_get_data (data, NULL), size);
          memcpy (both + size, g_bytes_get_data (data, NULL), size);
        }
      bytes = g_bytes_new_take (both, 2 * size);
      t = ane_tensor_new_from_bytes (name, ctx->in_spec[1]->dtype, &two_c, 1, bytes, error);
      return t != NULL ? ane_mil_const_tensor (ctx->b, name, t, ctx->compute) : NULL;
    }
  {
    const char *w = ane_lower_input (ctx, 1, error);
    const char *parts[2] = { w, w };
    g_autofree char *axis_name = g_strdup_printf ("%s_axis", name);
    AneMilOpCall *call;
    const char *axis, *out;

    if (w == NULL)
      return NULL;
    axis = ane_mil_const_int (ctx->b, axis_name, 0);
    call = ane_mil_op_begin (ctx->b, "concat", name);
    ane_mil_op_args (call, "values", parts, 2);
    ane_mil_op_arg (call, "axis", axis);
    out = ane_mil_op_output (call, ctx->compute, &two_c, 1);
    ane_mil_op_end (call);
    return out;
  }
}

gboolean
ane_lower_ane_rms_norm (AneLowerCtx *ctx,
                        GError     **error)
{
  const AneSpec *xs = ctx->in_spec[0];
  double eps = ane_attrs_double (ctx->node->attrs, "eps");
  const gint64 channel_axis = 1;
  g_auto(AneLowerNames) names = { NULL, };
  AneLowerView in;
  const char *x, *neg, *both, *gamma = NULL, *y, *parts[2];
  const char *axis, *axes, *epsilon;
  AneMilOpCall *call;
  gint64 begin[4] = { 0, 0, 0, 0 }, end[4];
  AneSpec wide;

  if (!ane_lower_view_fits (xs) ||
      (ctx->in_node[1] != NULL && (!ane_lower_input_is_const (ctx, 1) || ctx->in_spec[1]->rank != 1 ||
                                   !ane_dtype_is_float (ctx->in_spec[1]->dtype))))
    return TRUE;   /* declined */

  x = ane_lower_input_cf (ctx, 0, &in, error);
  if (x == NULL)
    return FALSE;
  if (ctx->in_node[1] != NULL && (gamma = mirrored_gamma (ctx, in.c, error)) == NULL)
    return FALSE;

  ane_lower_names_init (&names, ctx);
  wide = (AneSpec) { .dtype = ctx->compute, .rank = 4, .shape = { in.b, 2 * in.c, 1, in.s } };
  neg = ane_lower_emit_binary (&names, "mul", "negated", ctx->compute, (gint64[]) { in.b, in.c, 1, in.s }, 4, x,
                               ane_lower_const_float (&names, "minus_one", ctx->compute, -1.0));
  parts[0] = x;
  parts[1] = neg;
  axis = ane_lower_const_int (&names, "axis", 1);
  call = ane_mil_op_begin (ctx->b, "concat", ane_lower_names_hint (&names, "mirrored"));
  ane_mil_op_args (call, "values", parts, 2);
  ane_mil_op_arg (call, "axis", axis);
  both = ane_mil_op_output (call, wide.dtype, wide.shape, wide.rank);
  ane_mil_op_end (call);

  /* last argument first (ane-lower-private.h, order of emission) */
  epsilon = ane_lower_const_float (&names, "epsilon", ctx->compute, eps);
  axes = ane_lower_const_ints (&names, "axes", &channel_axis, 1);
  y = ane_mil_op (ctx->b, "layer_norm", ane_lower_names_hint (&names, "normalized"), wide.dtype, wide.shape, 4,
                  "x", both, "axes", axes, "gamma", gamma, "epsilon", epsilon, NULL);
  end[0] = in.b, end[1] = in.c, end[2] = 1, end[3] = in.s;
  ctx->out_view[0] = in;
  ctx->out_view[0].cf = ane_lower_emit_slice (&names, NULL, ctx->compute, 4, y, begin, end);
  ctx->out_view[0].graph_form = NULL;
  return TRUE;
}
