/* fuzz-gguf.c: libFuzzer target for GGUF files
 *
 * Input: a whole GGUF file, written to a scratch directory and opened with
 * ane_gguf_file_new. Every metadata value and every tensor is read; then the
 * vocabulary (ane_tokenizer_load_gguf) encodes and decodes a few strings,
 * and the LLaMA model (ane_llama_model_load_gguf) builds its decode graph
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
  g_autoptr(AneGgufFile) file = NULL;
  g_autoptr(AneTokenizer) tokenizer = NULL;
  g_autoptr(AneLlamaModel) model = NULL;
  g_auto(GStrv) keys = NULL, tensors = NULL;
  g_autoptr(GError) error = NULL, tok_error = NULL, model_error = NULL;

  fuzz_init ();
  dir = fuzz_scratch_dir ();
  fuzz_write_file (dir, "model.gguf", data, size);
  path = g_build_filename (dir, "model.gguf", NULL);

  file = ane_gguf_file_new (path, &error);
  if (!fuzz_step ("ane_gguf_file_new", file != NULL, error))
    return 0;
  (void) ane_gguf_file_get_architecture (file);
  keys = ane_gguf_file_list_keys (file);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autoptr(GVariant) v = NULL;
      AneGgufValueType type, element_type;
      guint64 n;

      if (!ane_gguf_file_get_value_type (file, keys[i], &type, &element_type, &n))
        g_error ("listed key %s has no type", keys[i]);
      v = ane_gguf_file_dup_value (file, keys[i], NULL);
      if (v != NULL)
        g_free (g_variant_print (v, TRUE));
    }
  tensors = ane_gguf_file_list_tensors (file);
  for (guint i = 0; tensors[i] != NULL; i++)
    {
      g_autoptr(AneTensor) t = ane_gguf_file_dup_tensor (file, tensors[i], NULL);
      g_autofree float *f = NULL;
      gsize n;

      /* dequantized and converted: bounded by the file's size times the
       * widest block expansion */
      if (t != NULL && ane_tensor_get_n_elements (t) <= (gint64) (FUZZ_MEMORY_BUDGET / 4))
        f = ane_tensor_dup_floats (t, &n, NULL);
    }

  tokenizer = ane_tokenizer_load_gguf (file, &tok_error);
  if (fuzz_step ("ane_tokenizer_load_gguf", tokenizer != NULL, tok_error))
    fuzz_exercise_tokenizer (tokenizer);
  model = ane_llama_model_load_gguf (path, &model_error);
  if (fuzz_step ("ane_llama_model_load_gguf", model != NULL, model_error))
    fuzz_run_llama (model);
  return 0;
}
