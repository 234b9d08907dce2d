/* ane-onnx-ops-core.c: converters for the ONNX ops of CNNs and of shape
 * glue (the ops PaddleOCR's detector and classifier and Silero VAD's
 * shape arithmetic use). Semantics from onnx/onnx docs/Operators.md and
 * docs/Changelog.md (opset differences), cited per op.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-onnx-private.h"

/* Identity (Operators.md "Identity"); Dropout in inference mode is the
 * identity on its first output (Operators.md "Dropout": "If this
 * [training_mode] is false ... output = data"). */
static gboolean
convert_identity (AneOnnxNode *node,
                  GError     **error)
{
  AneTensor *x = ane_onnx_node_input (node, 0, error);

  if (x == NULL)
    return FALSE;
  return ane_onnx_node_set_output (node, 0, g_object_ref (x), error);
}

/* If (Operators.md "If"): only a condition known at import time, which
 * selects the branch that is inlined. */
static gboolean
convert_if (AneOnnxNode *node,
            GError     **error)
{
  AneTensor *cond = ane_onnx_node_input_constant (node, 0);

  if (cond == NULL)
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                "its condition '%s' is only known at run time; control flow is "
                                "supported only when it folds (bind the inputs it depends on "
                                "with --input-value)", ane_onnx_node_input_name (node, 0));
  if (ane_tensor_get_n_elements (cond) != 1)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "its condition has %" G_GINT64_FORMAT
                                " elements, not one", ane_tensor_get_n_elements (cond));
  return ane_onnx_node_inline_subgraph (node, ane_tensor_get_value (cond, 0) != 0
                                        ? "then_branch" : "else_branch", error);
}

static gboolean
convert_relu (AneOnnxNode *node,
              GError     **error)
{
  AneTensor *x = ane_onnx_node_input (node, 0, error);

  if (x == NULL)
    return FALSE;
  return ane_onnx_node_set_output (node, 0, ane_graph_relu (ane_onnx_node_graph (node), x, error), error);
}

const AneOnnxConverter ane_onnx_converters_core[] = {
  { "Identity", 1,  convert_identity, 0 },
  { "Dropout",  1,  convert_identity, 0 },
  { "If",       1,  convert_if,       ANE_ONNX_CONVERTER_NO_FOLD },
  { "Relu",     6,  convert_relu,     0 },
  { NULL }
};
