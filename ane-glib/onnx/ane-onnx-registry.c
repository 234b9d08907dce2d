/* ane-onnx-registry.c: which converter handles an ONNX op at an opset
 *
 * The converters live in tables, one per file (ane-onnx-ops-*.c); this
 * list is the only place that knows them all. Adding a file of converters
 * is one line here (and its extern in ane-onnx-private.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-onnx-private.h"

static const AneOnnxConverter *const converter_tables[] = {
  ane_onnx_converters_core,
  ane_onnx_converters_math,
  ane_onnx_converters_nn,
  ane_onnx_converters_rnn,
  ane_onnx_converters_extra,
  ane_onnx_converters_resize,
  /* ane_onnx_converters_extra, ... */
};

/* ONNX binds a node to the op's version with the greatest since_version
 * not above the model's opset (onnx/onnx.proto, ModelProto.opset_import:
 * "bind against the operator with the same-domain/same-op_type operator
 * with the HIGHEST version in the referenced operator sets"); our rows
 * follow the same rule. */
const AneOnnxConverter *
ane_onnx_find_converter (const char *op_type,
                         gint64      opset,
                         int        *min_opset)
{
  const AneOnnxConverter *best = NULL;
  int lowest = 0;

  for (gsize t = 0; t < G_N_ELEMENTS (converter_tables); t++)
    for (const AneOnnxConverter *row = converter_tables[t]; row->op_type != NULL; row++)
      {
        if (!g_str_equal (row->op_type, op_type))
          continue;
        if (lowest == 0 || row->since_opset < lowest)
          lowest = row->since_opset;
        if (row->since_opset <= opset && (best == NULL || row->since_opset > best->since_opset))
          best = row;
      }
  if (best == NULL && min_opset != NULL)
    *min_opset = lowest;
  return best;
}
