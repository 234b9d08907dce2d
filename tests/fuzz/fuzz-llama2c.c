/* fuzz-llama2c.c: libFuzzer target for llama2.c checkpoints
 *
 * Input: a whole checkpoint (seven int32 hyper-parameters and the float32
 * weights), written to a scratch directory and loaded with
 * ane_llama_model_load_llama2c; a model that loads builds its decode graph
 * and runs one step on the CPU backend.
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
  const char *dir;
  g_autofree char *path = NULL;
  g_autoptr(AneLlamaModel) model = NULL;
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  dir = fuzz_scratch_dir ();
  fuzz_write_file (dir, "model.bin", data, size);
  path = g_build_filename (dir, "model.bin", NULL);

  model = ane_llama_model_load_llama2c (path, &error);
  if (fuzz_step ("ane_llama_model_load_llama2c", model != NULL, error))
    fuzz_run_llama (model);
  return 0;
}
