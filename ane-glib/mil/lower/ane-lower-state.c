/* mil/lower/ane-lower-state.c: read_state and write_state (iOS18)
 *
 * The state itself is a function input of type state<tensor<...>> (made by
 * the driver). write_state is MIL's serialized form of coremltools'
 * coreml_update_state: it has no outputs, so the IR's result (the written
 * value) is the value that was written. (coremltools backend/mil/load.py
 * writes coreml_update_state as write_state followed by read_state.)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mil/lower/ane-lower-private.h"

/* States are float16 in every program (the driver declares them so, as
 * Core ML wants); programs computing in float32 cast on the way in and out. */

gboolean
ane_lower_read_state (AneLowerCtx *ctx,
                      GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  g_auto(AneLowerNames) w = { NULL, };
  const char *v;

  if (!ane_lower_require_target (ctx, ANE_MIL_IOS18, "read_state", error))
    return FALSE;
  ane_lower_names_init (&w, ctx);
  v = ane_mil_op (ctx->b, "read_state",
                  ane_lower_names_hint (&w, out->dtype == ANE_DTYPE_FLOAT16 ? NULL : "fp16"),
                  ANE_DTYPE_FLOAT16, out->shape, out->rank, "input", ctx->in[0], NULL);
  if (out->dtype != ANE_DTYPE_FLOAT16)
    v = ane_lower_emit_cast (&w, NULL, out->dtype, out->shape, out->rank, v);
  ctx->out[0] = v;
  return TRUE;
}

gboolean
ane_lower_write_state (AneLowerCtx *ctx,
                       GError     **error)
{
  AneSpec value = ane_lower_in_spec (ctx, 1);
  g_auto(AneLowerNames) w = { NULL, };
  const char *data = ctx->in[1];
  AneMilOpCall *call;

  if (!ane_lower_require_target (ctx, ANE_MIL_IOS18, "write_state", error))
    return FALSE;
  ane_lower_names_init (&w, ctx);
  if (value.dtype != ANE_DTYPE_FLOAT16)
    data = ane_lower_emit_cast (&w, "fp16", ANE_DTYPE_FLOAT16, value.shape, value.rank, data);
  call = ane_mil_op_begin (ctx->b, "write_state", ctx->hint);
  ane_mil_op_arg (call, "input", ctx->in[0]);
  ane_mil_op_arg (call, "data", data);
  ane_mil_op_end (call);
  ctx->out[0] = ctx->in[1];
  return TRUE;
}
