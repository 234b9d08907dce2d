/* ane-tool-convert-llm.c: `ane-tool convert-llm`, a LLaMA model as a
 * directory a host application runs (ane_llama_model_save_dir)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>

#include "ane-tool-private.h"
#include "ane-glib.h"

int
ane_tool_convert_llm (int    argc,
                      char **argv)
{
  g_autofree char *tokenizer_path = NULL, *out = NULL, *target_name = NULL;
  gint64 context = 0, prefill = 0, n_chunks = 0;
  double chunk_mb = 0.0;
  gboolean overwrite = FALSE, argmax = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The directory to write (required)", "DIR" },
    { "tokenizer", 'z', 0, G_OPTION_ARG_FILENAME, &tokenizer_path, "The llama2.c tokenizer file, copied into DIR (a .gguf model brings its own vocabulary)", "TOK.bin" },
    { "context", 'c', 0, G_OPTION_ARG_INT64, &context, "The key/value cache length in tokens (default: the model's sequence length)", "N" },
    { "prefill", 0, 0, G_OPTION_ARG_INT64, &prefill, "Prompt tokens per prefill call (default 64, at most the context)", "N" },
    { "target", 't', 0, G_OPTION_ARG_STRING, &target_name, "Deployment target: ios18 (default) or macos15 (the caches are states)", "TARGET" },
    { "chunks", 0, 0, G_OPTION_ARG_INT64, &n_chunks, "Split the layers into N packages, as even as possible", "N" },
    { "chunk-mb", 0, 0, G_OPTION_ARG_DOUBLE, &chunk_mb, "Split the layers into packages of at most M MB of float16 "
      "weights each (default 32, the SRAM budget of the lint's weights-over-sram rule)", "M" },
    { "argmax", 0, 0, G_OPTION_ARG_NONE, &argmax, "The last package returns the most likely token instead of the "
      "logits (greedy decoding only)", NULL },
    { "overwrite", 'f', 0, G_OPTION_ARG_NONE, &overwrite, "Replace DIR if it exists", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) model = NULL;
  g_autoptr(AneTokenizer) tokenizer = NULL;
  AneTarget target = ANE_TARGET_IOS18;
  AnePrecision precision = ANE_PRECISION_FLOAT16;
  int status = 0;

  if (!ane_tool_parse (&argc, &argv, "convert-llm", "MODEL",
                       "Convert a llama2.c checkpoint (with --tokenizer) or a GGUF llama model to a\n"
                       "directory: model.mlpackage (functions prefill and decode in the Neural\n"
                       "Engine's layout, float16, key/value caches as states), embedding.bin,\n"
                       "the tokenizer and manifest.json. 'ane-tool generate --model-dir DIR' runs it.\n"
                       "A model whose weights exceed --chunk-mb (or with --chunks N) is split into\n"
                       "chunk-0.mlpackage, chunk-1.mlpackage... run in order.",
                       entries, 1, 1, &status))
    return status;
  if (out == NULL)
    {
      fprintf (stderr, "ane-tool convert-llm: -o/--output DIR is required\n");
      return 2;
    }
  if (context < 0 || prefill < 0)
    {
      fprintf (stderr, "ane-tool convert-llm: --context and --prefill must be positive\n");
      return 2;
    }
  if (n_chunks < 0 || n_chunks > G_MAXINT32 || !(chunk_mb >= 0.0) || chunk_mb > 1e9)
    {
      fprintf (stderr, "ane-tool convert-llm: --chunks and --chunk-mb must be positive\n");
      return 2;
    }
  if (n_chunks > 0 && chunk_mb > 0.0)
    {
      fprintf (stderr, "ane-tool convert-llm: give --chunks or --chunk-mb, not both\n");
      return 2;
    }
  if (!ane_tool_parse_lowering ("convert-llm", target_name, NULL, &target, &precision))
    return 2;
  if (!ane_tool_check_overwrite ("convert-llm", out, overwrite))
    return 1;
  status = ane_tool_load_llama ("convert-llm", argv[1], tokenizer_path, FALSE, &model, &tokenizer);
  if (status != 0)
    return status;
  if (tokenizer == NULL && !g_str_has_suffix (argv[1], ".gguf"))
    fprintf (stderr, "ane-tool convert-llm: no --tokenizer: %s will have no tokenizer, and generate "
             "--model-dir needs one\n", out);
  if (!ane_llama_model_save_dir_full (model, tokenizer, out, context, prefill, target, (guint) n_chunks,
                                      chunk_mb > 0.0 ? MAX ((guint64) (chunk_mb * 1e6), 1) : 0, argmax, overwrite,
                                      &error))
    return ane_tool_fail ("convert-llm", error);
  printf ("wrote %s\n", out);
  return 0;
}
