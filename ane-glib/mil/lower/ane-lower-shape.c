/* mil/lower/ane-lower-shape.c: shape ops
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mil/lower/ane-lower-private.h"

/* cast -> MIL cast (iOS15 elementwise_unary.py: dtype is a const string);
 * a cast that is a no-op inside the program (fp32 -> fp16 graph values that
 * are already fp16) becomes identity. */
gboolean
ane_lower_cast (AneLowerCtx *ctx,
                GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec in = ane_lower_in_spec (ctx, 0);
  const char *name = ane_mil_dtype_name (out->dtype);
  g_autofree char *hint = ane_lower_hint (ctx, "dtype");

  if (in.dtype == out->dtype)
    {
      ctx->out[0] = ane_mil_op (ctx->b, "identity", ctx->hint, out->dtype, out->shape, out->rank,
                                "x", ctx->in[0], NULL);
      return TRUE;
    }
  if (name == NULL)
    return ane_lower_unsupported (ctx, error, "MIL cannot cast to %s", ane_dtype_to_string (out->dtype));
  ctx->out[0] = ane_mil_op (ctx->b, "cast", ctx->hint, out->dtype, out->shape, out->rank,
                            "x", ctx->in[0], "dtype", ane_mil_const_string (ctx->b, hint, name), NULL);
  return TRUE;
}

/* stop_gradient -> identity (MIL has no autodiff; the value passes through). */
gboolean
ane_lower_stop_gradient (AneLowerCtx *ctx,
                         GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];

  ctx->out[0] = ane_mil_op (ctx->b, "identity", ctx->hint, out->dtype, out->shape, out->rank,
                            "x", ctx->in[0], NULL);
  return TRUE;
}
