/* ops/ane-ops-state.c: sources, read_state and write_state
 *
 * A state is a source node whose value persists across runs (MIL iOS18
 * `state` inputs). read_state returns its current value; write_state stores a
 * new value and returns it, in program order, as MIL's read_state /
 * coreml_update_state do.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ops/ane-ops.h"

/* Sources never go through a shape rule (their spec is declared) or a kernel
 * (the evaluator feeds them); these entries exist so every row is complete. */
gboolean
ane_infer_source (AneInferCtx *ctx,
                  GError     **error)
{
  ane_infer_error (ctx, error, ANE_ERROR_INVALID_GRAPH, "a source has no inputs to infer from");
  return FALSE;
}

gboolean
ane_ref_source (AneRefCtx *ctx,
                GError   **error)
{
  g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH, "sources are fed by the evaluator");
  return FALSE;
}

gboolean
ane_infer_read_state (AneInferCtx *ctx,
                      GError     **error)
{
  ctx->outputs[0] = *ctx->inputs[0];
  return TRUE;
}

gboolean
ane_infer_write_state (AneInferCtx *ctx,
                       GError     **error)
{
  char a[ANE_SPEC_STRLEN], b[ANE_SPEC_STRLEN];

  if (!ane_spec_equal (ctx->inputs[0], ctx->inputs[1]))
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE, "value %s does not match state %s",
                       ane_spec_format (ctx->inputs[1], b), ane_spec_format (ctx->inputs[0], a));
      return FALSE;
    }
  ctx->outputs[0] = *ctx->inputs[1];
  return TRUE;
}

gboolean
ane_ref_read_state (AneRefCtx *ctx,
                    GError   **error)
{
  memcpy (ctx->outputs[0]->v, ctx->state->v, ctx->state->n * sizeof (double));
  return TRUE;
}

gboolean
ane_ref_write_state (AneRefCtx *ctx,
                     GError   **error)
{
  const AneRefValue *value = ctx->inputs[1];

  /* The stored value is what the state's dtype can hold. */
  for (gsize i = 0; i < value->n; i++)
    ctx->state->v[i] = ane_dtype_round (ctx->state->dtype, value->v[i]);
  memcpy (ctx->outputs[0]->v, value->v, value->n * sizeof (double));
  return TRUE;
}

/**
 * ane_graph_read_state:
 * @self: a graph
 * @state: a state declared with [method@Ane.Graph.state]
 * @error: return location for a #GError
 *
 * Reads a state's current value: the value left by the previous run, or by
 * a [method@Ane.Graph.write_state] earlier in this run.
 *
 * Returns: (transfer full): the value
 */
AneTensor *
ane_graph_read_state (AneGraph   *self,
                      AneTensor  *state,
                      GError    **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (state), NULL);

  return ane_graph_add_node (self, ANE_OP_READ_STATE, &state, 1, NULL, NULL, error);
}

/**
 * ane_graph_write_state:
 * @self: a graph
 * @state: a state declared with [method@Ane.Graph.state]
 * @value: the new value, of the state's dtype and shape
 * @error: return location for a #GError
 *
 * Stores @value into @state. The write happens on every run even when no
 * output depends on it.
 *
 * Returns: (transfer full): @value, for chaining
 */
AneTensor *
ane_graph_write_state (AneGraph   *self,
                       AneTensor  *state,
                       AneTensor  *value,
                       GError    **error)
{
  AneTensor *inputs[2] = { state, value };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (state), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (value), NULL);

  return ane_graph_add_node (self, ANE_OP_WRITE_STATE, inputs, 2, NULL, NULL, error);
}
