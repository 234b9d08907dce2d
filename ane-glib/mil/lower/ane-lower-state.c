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

gboolean
ane_lower_read_state (AneLowerCtx *ctx,
                      GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];

  if (!ane_lower_require_target (ctx, ANE_MIL_IOS18, "read_state", error))
    return FALSE;
  ctx->out[0] = ane_mil_op (ctx->b, "read_state", ctx->hint, out->dtype, out->shape, out->rank,
                            "input", ctx->in[0], NULL);
  return TRUE;
}

gboolean
ane_lower_write_state (AneLowerCtx *ctx,
                       GError     **error)
{
  AneMilOpCall *call;

  if (!ane_lower_require_target (ctx, ANE_MIL_IOS18, "write_state", error))
    return FALSE;
  call = ane_mil_op_begin (ctx->b, "write_state", ctx->hint);
  ane_mil_op_arg (call, "input", ctx->in[0]);
  ane_mil_op_arg (call, "data", ctx->in[1]);
  ane_mil_op_end (call);
  ctx->out[0] = ctx->in[1];
  return TRUE;
}
