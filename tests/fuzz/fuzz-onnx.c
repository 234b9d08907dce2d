/* fuzz-onnx.c: libFuzzer target for ONNX models
 *
 * Input: [len][model.onnx][w.bin] (fuzz_split_parts): the model and one
 * external-data file beside it, so a TensorProto's location, offset and
 * length meet a real file. The model is imported with ane_graph_load_onnx
 * (no bindings: a symbolic dim is an error like any other) and, when that
 * succeeds, run on the CPU backend with zero-filled inputs.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "fuzz-common.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  FuzzPart parts[2];
  const char *dir;
  g_autofree char *path = NULL;
  g_autoptr(AneGraph) graph = NULL;
  static const char *const names[2] = { "model.onnx", "w.bin" };
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  dir = fuzz_scratch_dir ();
  fuzz_split_parts (data, size, parts, 2);
  fuzz_write_parts (dir, parts, names, 2);
  path = g_build_filename (dir, "model.onnx", NULL);

  graph = ane_graph_load_onnx (path, NULL, &error);
  if (fuzz_step ("ane_graph_load_onnx", graph != NULL, error))
    fuzz_run_graph (graph);
  return 0;
}
