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
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(GPtrArray) inputs = NULL, params = NULL;
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  dir = fuzz_scratch_dir ();
  fuzz_split_parts (data, size, parts, 2);
  if (parts[0].present)
    fuzz_write_file (dir, "model.json", parts[0].data, parts[0].size);
  if (parts[1].present)
    fuzz_write_file (dir, "model.safetensors", parts[1].data, parts[1].size);
  path = g_build_filename (dir, "model.json", NULL);

  graph = ane_graph_load (path, &error);
  if (!fuzz_step ("ane_graph_load", graph != NULL, error))
    return 0;
  inputs = ane_graph_list_inputs (graph);
  params = ane_graph_list_params (graph);
  exe = ane_executable_new (graph, ANE_BACKEND_CPU);
  fuzz_compile_and_run (exe, inputs, params);
  return 0;
}
