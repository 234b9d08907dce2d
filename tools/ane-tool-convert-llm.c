/* ane-tool-convert-llm.c: `ane-tool convert-llm`, a LLaMA model as a
 * directory a host application runs (ane_llama_model_save_dir)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>

#include "ane-tool-private.h"
#include "ane-glib.h"
#include "model/ane-llama-private.h"

/* --palettize 4|6 [--group-size G] or --quantize int4|int8 [--block B]:
 * Anemll's recipes for its LLMs (anemll/ane_converter/llama_converter.py,
 * LlamaConverter.postprocess: k-means LUTs per grouped channel, 8 output
 * channels a table; with DO_LINEAR int4 symmetric per channel), applied
 * to every package. NULL with *status set when there is nothing to do
 * (status 0) or a flag is wrong (status 2, after a message naming it). */
static AneCompressConfig *
compression_from_flags (const char *palettize,
                        gint64      group_size,
                        const char *quantize,
                        gint64      block,
                        int        *status)
{
  AneCompressConfig *config = NULL;

  *status = 2;
  if (palettize != NULL && quantize != NULL)
    return fprintf (stderr, "ane-tool convert-llm: give --palettize or --quantize, not both\n"), NULL;
  if (group_size != 0 && palettize == NULL)
    return fprintf (stderr, "ane-tool convert-llm: --group-size is for --palettize\n"), NULL;
  if (block != 0 && quantize == NULL)
    return fprintf (stderr, "ane-tool convert-llm: --block is for --quantize\n"), NULL;
  if (palettize != NULL)
    {
      if (g_strcmp0 (palettize, "4") != 0 && g_strcmp0 (palettize, "6") != 0)
        return fprintf (stderr, "ane-tool convert-llm: --palettize takes 4 or 6 bits, not '%s'\n", palettize), NULL;
      if (group_size < 0 || group_size > G_MAXINT32)
        return fprintf (stderr, "ane-tool convert-llm: --group-size must be positive\n"), NULL;
      config = ane_compress_config_new_palettize (palettize[0] - '0');
      ane_compress_config_set_granularity (config, ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL,
                                           group_size > 0 ? (guint) group_size : 8);
    }
  else if (quantize != NULL)
    {
      if (g_strcmp0 (quantize, "int4") != 0 && g_strcmp0 (quantize, "int8") != 0)
        return fprintf (stderr, "ane-tool convert-llm: --quantize takes int4 or int8, not '%s'\n", quantize), NULL;
      if (block < 0 || block > G_MAXINT32)
        return fprintf (stderr, "ane-tool convert-llm: --block must be positive\n"), NULL;
      config = ane_compress_config_new_quantize (quantize[3] - '0', TRUE);
      if (block > 0)
        ane_compress_config_set_granularity (config, ANE_COMPRESS_GRANULARITY_PER_BLOCK, (guint) block);
    }
  *status = 0;
  return config;
}

/* A line per package: the weight bytes before and after, and the weights
 * left as they were with the first reason (a group size that does not
 * divide a layer's channels...). A weight shared by prefill and decode is
 * in the report once per function: counted once. */
static void
print_compression (GPtrArray  *reports,
                   const char *out)
{
  for (guint i = 0; i < reports->len; i++)
    {
      AneCompressReport *report = g_ptr_array_index (reports, i);
      GPtrArray *weights = ane_compress_report_get_weights (report);
      g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
      const AneCompressedWeight *first_skipped = NULL;
      guint n_done = 0, n_skipped = 0;

      for (guint k = 0; k < weights->len; k++)
        {
          const AneCompressedWeight *w = g_ptr_array_index (weights, k);

          if (!g_hash_table_add (seen, w->name))
            continue;
          if (g_strcmp0 (w->mode, "skipped") == 0)
            {
              n_skipped++;
              if (first_skipped == NULL)
                first_skipped = w;
            }
          else
            n_done++;
        }
      printf ("%s package %u: weights %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " bytes (%.3f), %u compressed",
              out, i, ane_compress_report_get_bytes_before (report), ane_compress_report_get_bytes_after (report),
              ane_compress_report_get_ratio (report), n_done);
      if (first_skipped != NULL)
        printf (", %u left as they were (%s: %s)", n_skipped, first_skipped->name, first_skipped->detail);
      putchar ('\n');
    }
}

int
ane_tool_convert_llm (int    argc,
                      char **argv)
{
  g_autofree char *tokenizer_path = NULL, *out = NULL, *target_name = NULL;
  g_autofree char *palettize = NULL, *quantize = NULL;
  gint64 context = 0, prefill = 0, n_chunks = 0, group_size = 0, block = 0;
  double chunk_mb = 0.0;
  gboolean overwrite = FALSE, argmax = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The directory to write (required)", "DIR" },
    { "tokenizer", 'z', 0, G_OPTION_ARG_FILENAME, &tokenizer_path, "The llama2.c tokenizer file or a Hugging Face tokenizer.json, copied into DIR (a .gguf model brings its own vocabulary)", "TOK.bin" },
    { "context", 'c', 0, G_OPTION_ARG_INT64, &context, "The key/value cache length in tokens (default: the model's sequence length)", "N" },
    { "prefill", 0, 0, G_OPTION_ARG_INT64, &prefill, "Prompt tokens per prefill call (default 64, at most the context)", "N" },
    { "target", 't', 0, G_OPTION_ARG_STRING, &target_name, "Deployment target: ios18 (default) or macos15 (the caches are states)", "TARGET" },
    { "chunks", 0, 0, G_OPTION_ARG_INT64, &n_chunks, "Split the layers into N packages, as even as possible", "N" },
    { "chunk-mb", 0, 0, G_OPTION_ARG_DOUBLE, &chunk_mb, "Split the layers into packages of at most M MB of float16 "
      "weights each (default 32, the SRAM budget of the lint's weights-over-sram rule)", "M" },
    { "argmax", 0, 0, G_OPTION_ARG_NONE, &argmax, "The last package returns the most likely token instead of the "
      "logits (greedy decoding only)", NULL },
    { "palettize", 0, 0, G_OPTION_ARG_STRING, &palettize, "Palettize the weights: a k-means table of 2^BITS "
      "values per --group-size output channels (4 or 6, as Anemll's LUT4/LUT6)", "BITS" },
    { "group-size", 0, 0, G_OPTION_ARG_INT64, &group_size, "Output channels sharing a table (default 8, Anemll's)",
      "G" },
    { "quantize", 0, 0, G_OPTION_ARG_STRING, &quantize, "Quantize the weights to int4 or int8, symmetric, a "
      "scale per output channel or per --block", "TYPE" },
    { "block", 0, 0, G_OPTION_ARG_INT64, &block, "Quantization: a scale per B input channels", "B" },
    { "overwrite", 'f', 0, G_OPTION_ARG_NONE, &overwrite, "Replace DIR if it exists", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) model = NULL;
  g_autoptr(AneTokenizer) tokenizer = NULL;
  g_autoptr(AneCompressConfig) compress = NULL;
  g_autoptr(GPtrArray) reports = g_ptr_array_new_with_free_func (g_object_unref);
  AneTarget target = ANE_TARGET_IOS18;
  AnePrecision precision = ANE_PRECISION_FLOAT16;
  int status = 0;

  if (!ane_tool_parse (&argc, &argv, "convert-llm", "MODEL",
                       "Convert a llama2.c checkpoint (with --tokenizer), a GGUF llama model or a\n"
                       "Hugging Face model directory (config.json, safetensors) to a\n"
                       "directory: model.mlpackage (functions prefill and decode in the Neural\n"
                       "Engine's layout, float16, key/value caches as states), embedding.bin,\n"
                       "the tokenizer and manifest.json. 'ane-tool generate --model-dir DIR' runs it.\n"
                       "A model whose weights exceed --chunk-mb (or with --chunks N) is split into\n"
                       "chunk-0.mlpackage, chunk-1.mlpackage... run in order (the budget counts\n"
                       "float16 weights, before --palettize or --quantize compress them).",
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
  compress = compression_from_flags (palettize, group_size, quantize, block, &status);
  if (status != 0)
    return status;
  if (!ane_tool_check_overwrite ("convert-llm", out, overwrite))
    return 1;
  status = ane_tool_load_llama ("convert-llm", argv[1], tokenizer_path, FALSE, &model, &tokenizer);
  if (status != 0)
    return status;
  if (tokenizer == NULL && !g_str_has_suffix (argv[1], ".gguf"))
    fprintf (stderr, "ane-tool convert-llm: no --tokenizer: %s will have no tokenizer, and generate "
             "--model-dir needs one\n", out);
  if (!ane_llama_model_save_dir_compressed (model, tokenizer, out, context, prefill, target, (guint) n_chunks,
                                            chunk_mb > 0.0 ? MAX ((guint64) (chunk_mb * 1e6), 1) : 0, argmax,
                                            compress, reports, overwrite, &error))
    return ane_tool_fail ("convert-llm", error);
  print_compression (reports, out);
  printf ("wrote %s\n", out);
  return 0;
}
