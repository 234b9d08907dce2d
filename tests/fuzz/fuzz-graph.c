/* fuzz-graph.c: libFuzzer target for saved graphs (ane_graph_load)
 *
 * Input: two parts as fuzz_split_parts cuts them (tests/fuzz/README.md): the
 * JSON document, written as model.json, and the safetensors weights,
 * written as model.safetensors (the name the seeds' "weights" key gives). A
 * graph that loads is run on the CPU backend with zero inputs and zero
 * values for its unbound params.
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
  static const char *const names[2] = { "model.json", "model.safetensors" };
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  dir = fuzz_scratch_dir ();
  fuzz_split_parts (data, size, parts, 2);
  fuzz_write_parts (dir, parts, names, 2);
  path = g_build_filename (dir, "model.json", NULL);

  graph = ane_graph_load (path, &error);
  if (fuzz_step ("ane_graph_load", graph != NULL, error))
    fuzz_run_graph (graph);
  return 0;
}
