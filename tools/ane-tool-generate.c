/* ane-tool-generate.c: `ane-tool generate`, text from a llama2.c checkpoint
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "ane-tool-private.h"
#include "ane-glib.h"
#include "model/ane-llama-private.h"

typedef struct {
  guint n;
  gint64 first_us, last_us;
  const char *prompt;
  gboolean prompt_shown;
} Progress;

/* The longest prompt an error message repeats in full. */
#define PROMPT_ECHO_CHARS 60

/* The prompt goes out just before the first generated token, not before
 * generation starts: a prompt the model refuses (too long for its context)
 * is then not printed in full above its error. */
static void
show_prompt (Progress *p)
{
  if (p->prompt_shown)
    return;
  fputs (p->prompt, stdout);
  p->prompt_shown = TRUE;
}

/* @prompt cut to PROMPT_ECHO_CHARS characters with "…", for messages. */
static char *
prompt_excerpt (const char *prompt)
{
  if (g_utf8_strlen (prompt, -1) <= PROMPT_ECHO_CHARS)
    return g_strdup (prompt);
  return g_strdup_printf ("%.*s…", (int) (g_utf8_offset_to_pointer (prompt, PROMPT_ECHO_CHARS) - prompt), prompt);
}

static gboolean
print_token (gint32      token,
             const char *piece,
             gpointer    user_data)
{
  Progress *p = user_data;

  show_prompt (p);
  /* a lone control byte from a byte-fallback token would garble the terminal */
  if (piece[0] != '\0' && (piece[1] != '\0' || g_ascii_isprint (piece[0]) ||
                           g_ascii_isspace (piece[0]) || (guint8) piece[0] >= 0x80))
    fputs (piece, stdout);
  fflush (stdout);
  p->last_us = g_get_monotonic_time ();
  if (p->n++ == 0)
    p->first_us = p->last_us;
  return TRUE;
}

/* The bar of generation: it shows compiling; on a terminal whose stdout is
 * the same screen it then gives way to the story, which print_token starts
 * with the prompt at the first token. */
typedef struct {
  AneToolBar *bar;
  gboolean    shared_screen;
  gboolean    generating;
} GenerateView;

static void
show_generation (AneProgress *progress,
                 gpointer     user_data)
{
  GenerateView *view = user_data;

  if (!view->generating && g_strcmp0 (ane_progress_get_stage (progress), "generating") == 0)
    {
      if (view->shared_screen)
        ane_tool_bar_silence (view->bar);
      view->generating = TRUE;
    }
  ane_tool_bar_update (view->bar, progress);
}

/* generate --model-dir: the converted directory's package, prefill then
 * decode, printed as the in-memory path prints. */
static int
generate_from_dir (const char *model_dir,
                   const char *prompt,
                   int         n_tokens,
                   AneBackend  backend,
                   double      temperature,
                   double      top_p,
                   gint64      seed)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaDir) dir = ane_llama_dir_load (model_dir, &error);
  g_autofree char *text = NULL;
  Progress progress = { 0, 0, 0 };
  gint64 t0;

  if (dir == NULL)
    return ane_tool_fail ("generate", error);
  progress.prompt = prompt;
  t0 = g_get_monotonic_time ();
  text = ane_llama_dir_generate (dir, prompt, (guint) n_tokens, backend, temperature, top_p, (guint64) seed,
                                 print_token, &progress, &error);
  if (text == NULL)
    {
      if (progress.prompt_shown)
        {
          fputc ('\n', stdout);
          fflush (stdout);
        }
      if (g_error_matches (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT) && prompt[0] != '\0')
        {
          g_autofree char *excerpt = prompt_excerpt (prompt);

          fprintf (stderr, "ane-tool generate: prompt \"%s\": %s\n", excerpt, error->message);
          return 1;
        }
      return ane_tool_fail ("generate", error);
    }
  show_prompt (&progress);
  printf ("\n");
  fflush (stdout);
  if (progress.n > 1)
    fprintf (stderr, "%u tokens, %.1f tokens/s (%.2f s in all, with compile and prompt)\n", progress.n,
             (progress.n - 1) / ((progress.last_us - progress.first_us) / 1e6),
             (g_get_monotonic_time () - t0) / 1e6);
  else
    fprintf (stderr, "%u tokens (%.2f s in all)\n", progress.n, (g_get_monotonic_time () - t0) / 1e6);
  return 0;
}

/* A Hugging Face model directory (config.json, safetensors): its
 * tokenizer is DIR/tokenizer.json (with tokenizer_config.json's
 * beginning- and end-of-sequence tokens, which ane_tokenizer_load_hf reads
 * next to it), or --tokenizer (a llama2.c tokenizer.bin) when given. */
static int
load_hf (const char     *command,
         const char     *dir,
         const char     *tokenizer_path,
         gboolean        need_tokenizer,
         AneLlamaModel **model,
         AneTokenizer  **tokenizer)
{
  g_autoptr(GError) error = NULL;

  *model = ane_llama_model_load_hf (dir, &error);
  if (*model == NULL)
    return ane_tool_fail (command, error);
  if (tokenizer_path == NULL)
    {
      g_autofree char *json = g_build_filename (dir, "tokenizer.json", NULL);

      if (g_file_test (json, G_FILE_TEST_EXISTS))
        {
          *tokenizer = ane_tokenizer_load_hf (json, &error);
          if (*tokenizer == NULL)
            return ane_tool_fail (command, error);
          /* token ids past the classifier's rows could never be produced
           * nor fed: a tokenizer of another model */
          if ((gint64) ane_tokenizer_get_n_tokens (*tokenizer) > ane_llama_model_get_vocab_size (*model))
            {
              fprintf (stderr, "ane-tool %s: %s has %u tokens, more than the model's vocab_size %" G_GINT64_FORMAT
                       "\n", command, json, ane_tokenizer_get_n_tokens (*tokenizer),
                       ane_llama_model_get_vocab_size (*model));
              return 1;
            }
          return 0;
        }
      if (!need_tokenizer)
        return 0;
      fprintf (stderr, "ane-tool %s: %s has no tokenizer.json: give its tokenizer with --tokenizer TOK.bin\n",
               command, dir);
      return 2;
    }
  *tokenizer = ane_tokenizer_load_llama2c (tokenizer_path, (guint) ane_llama_model_get_vocab_size (*model), &error);
  if (*tokenizer == NULL)
    return ane_tool_fail (command, error);
  return 0;
}

/* The model of `generate` and `convert-llm`: a llama2.c checkpoint with
 * its tokenizer (tokenizer_path; without one, *tokenizer stays NULL unless
 * need_tokenizer refuses that) or a GGUF model with its own vocabulary.
 * Returns 0, or the exit status after a message. */
int
ane_tool_load_llama (const char     *command,
                     const char     *path,
                     const char     *tokenizer_path,
                     gboolean        need_tokenizer,
                     AneLlamaModel **model,
                     AneTokenizer  **tokenizer)
{
  g_autoptr(GError) error = NULL;

  /* A GGUF file carries its own vocabulary (tokenizer.ggml.*), the one its
   * token ids were trained with. A llama2.c tokenizer.bin of the same size
   * may number its pieces otherwise and would generate garbage without an
   * error, so it is refused rather than preferred or ignored. */
  if (g_str_has_suffix (path, ".gguf") && tokenizer_path != NULL)
    {
      fprintf (stderr, "ane-tool %s: --tokenizer '%s' is for llama2.c checkpoints; '%s' is a GGUF "
               "model and brings its own vocabulary (tokenizer.ggml.*), which %s uses\n",
               command, tokenizer_path, path, command);
      return 2;
    }
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    return load_hf (command, path, tokenizer_path, need_tokenizer, model, tokenizer);
  /* Before asking for a tokenizer it would not get to use. */
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, "ane-tool %s: '%s' does not exist (%s takes a llama2.c checkpoint "
               "or a .gguf model)\n", command, path, command);
      return 1;
    }

  if (g_str_has_suffix (path, ".gguf"))
    {
      /* its own vocabulary: --tokenizer was refused above */
      g_autoptr(AneGgufFile) file = ane_gguf_file_new (path, &error);

      if (file == NULL || (*model = ane_llama_model_load_gguf (path, &error)) == NULL)
        return ane_tool_fail (command, error);
      *tokenizer = ane_tokenizer_load_gguf (file, &error);
    }
  else
    {
      if (tokenizer_path == NULL && need_tokenizer)
        {
          fprintf (stderr, "ane-tool %s: a llama2.c checkpoint needs --tokenizer TOK.bin\n", command);
          return 2;
        }
      *model = ane_llama_model_load_llama2c (path, &error);
      if (*model == NULL)
        return ane_tool_fail (command, error);
      if (tokenizer_path == NULL)
        return 0;
      /* a Hugging Face tokenizer.json (or .json.gz) goes to its own reader */
      if (g_str_has_suffix (tokenizer_path, ".json") || g_str_has_suffix (tokenizer_path, ".json.gz"))
        *tokenizer = ane_tokenizer_load_hf (tokenizer_path, &error);
      else
        *tokenizer = ane_tokenizer_load_llama2c (tokenizer_path, (guint) ane_llama_model_get_vocab_size (*model),
                                                 &error);
    }
  if (*tokenizer == NULL)
    return ane_tool_fail (command, error);
  return 0;
}

int
ane_tool_generate (int    argc,
                   char **argv)
{
  g_autofree char *tokenizer_path = NULL, *prompt = NULL, *backend_name = NULL, *precision_name = NULL;
  g_autofree char *package_path = NULL, *mil_path = NULL, *layout_name = NULL, *model_dir = NULL;
  int n_tokens = 256;
  double temperature = 0.0, top_p = 0.9;
  gint64 seed = -1;
  GOptionEntry entries[] = {
    { "tokenizer", 'z', 0, G_OPTION_ARG_FILENAME, &tokenizer_path, "The llama2.c tokenizer file or a Hugging Face tokenizer.json (required for a llama2.c checkpoint; refused with a .gguf model, which brings its own)", "TOK.bin" },
    { "prompt", 'i', 0, G_OPTION_ARG_STRING, &prompt, "The text to continue (default: empty)", "TEXT" },
    { "n-tokens", 'n', 0, G_OPTION_ARG_INT, &n_tokens, "Generate at most N tokens (default 256)", "N" },
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &backend_name, "cpu, reference, coreml, ane or auto (default cpu)", "BACKEND" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name, "Compute precision: fp16 (default, as on the device) or fp32; a package's states are fp16 either way", "PRECISION" },
    { "temperature", 't', 0, G_OPTION_ARG_DOUBLE, &temperature, "0 (default) for greedy decoding, else the sampling temperature", "T" },
    { "top-p", 0, 0, G_OPTION_ARG_DOUBLE, &top_p, "Nucleus sampling mass (default 0.9)", "P" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed for sampling (default: the clock)", "S" },
    { "package", 0, 0, G_OPTION_ARG_FILENAME, &package_path, "Also write the one-token decode step (KV cache as states, iOS18) as an .mlpackage", "OUT.mlpackage" },
    { "layout", 'l', 0, G_OPTION_ARG_STRING, &layout_name, "The decode step's layout: ane (the Neural Engine's; the default for --package, --mil and the coreml, ane and auto backends) or generic (the default for cpu and reference)", "LAYOUT" },
    { "mil", 0, 0, G_OPTION_ARG_FILENAME, &mil_path, "Also write it as MIL text (weights in weights/weight.bin beside it)", "OUT.mil" },
    { "model-dir", 'd', 0, G_OPTION_ARG_FILENAME, &model_dir, "Generate from a directory written by convert-llm instead of MODEL (its package run on cpu, coreml or auto)", "DIR" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) model = NULL;
  g_autoptr(AneTokenizer) tokenizer = NULL;
  g_autofree char *text = NULL;
  AneBackend backend = ANE_BACKEND_CPU;
  AnePrecision precision = ANE_PRECISION_FLOAT16;
  Progress progress = { 0, 0, 0 };
  GenerateView view = { NULL, FALSE, FALSE };
  g_autoptr(AneProgress) shown = NULL;
  gint64 t0;
  double total;
  int status = 0;

  if (!ane_tool_parse (&argc, &argv, "generate", "[MODEL]",
                       "Generate text with a llama2.c checkpoint (e.g. data/models/stories260K.bin,\n"
                       "with --tokenizer), a GGUF model (llama, mistral, qwen2; its own vocabulary) or a\n"
                       "Hugging Face model directory (config.json, safetensors; llama, mistral, qwen2,\n"
                       "qwen3, gemma),\n"
                       "run as an ane-glib decode graph with a key/value cache in states; or with\n"
                       "--model-dir, from a directory written by convert-llm.",
                       entries, 0, 1, &status))
    return status;
  if (n_tokens <= 0)
    {
      fprintf (stderr, "ane-tool generate: -n/--n-tokens must be at least 1 (got %d)\n", n_tokens);
      return 2;
    }
  if (temperature < 0.0)
    {
      fprintf (stderr, "ane-tool generate: --temperature must not be negative (got %g)\n", temperature);
      return 2;
    }
  if (!ane_tool_parse_backend (backend_name, &backend))
    {
      fprintf (stderr, "ane-tool generate: unknown backend '%s' (use cpu, reference, coreml, ane or auto)\n",
               backend_name);
      return 2;
    }
  if (!ane_tool_parse_precision (precision_name, &precision))
    {
      fprintf (stderr, "ane-tool generate: unknown precision '%s' (use fp16 or fp32)\n", precision_name);
      return 2;
    }
  if (layout_name != NULL && !g_str_equal (layout_name, "ane") && !g_str_equal (layout_name, "generic"))
    {
      fprintf (stderr, "ane-tool generate: unknown layout '%s' (use ane or generic)\n", layout_name);
      return 2;
    }
  if (seed < 0)
    seed = g_get_real_time ();
  if (model_dir != NULL)
    {
      /* a converted directory brings its package, tokenizer and precision */
      if (argc > 1 || tokenizer_path || package_path || mil_path || layout_name ||
          (precision != ANE_PRECISION_FLOAT16))
        {
          fprintf (stderr, "ane-tool generate: --model-dir takes no MODEL, --tokenizer, --package, --mil, "
                   "--layout or fp32 precision (the directory has its package, tokenizer and float16)\n");
          return 2;
        }
      return generate_from_dir (model_dir, prompt ? prompt : "", n_tokens, backend, temperature, top_p, seed);
    }
  if (argc != 2)
    {
      /* as ane_tool_parse words a missing argument */
      fprintf (stderr, "ane-tool generate: missing argument MODEL\n"
               "Run 'ane-tool generate --help' (MODEL, or --model-dir DIR)\n");
      return 2;
    }
  status = ane_tool_load_llama ("generate", argv[1], tokenizer_path, TRUE, &model, &tokenizer);
  if (status != 0)
    return status;

  if (package_path || mil_path)
    {
      /* The program the Neural Engine would run: one decode step whose KV
       * cache lives in states, sized to the model's context. */
      gint64 context = ane_llama_model_get_seq_len (model);
      g_autoptr(AneGraph) step = layout_name == NULL || g_str_equal (layout_name, "ane")
                                 ? ane_llama_model_build_ane_decode (model, context, &error)
                                 : ane_llama_model_build_decode (model, context, &error);
      g_autoptr(AnePackage) package = step ? ane_package_new_from_graph (step, ANE_TARGET_IOS18, precision, &error) : NULL;

      if (package == NULL ||
          (package_path && !ane_package_save (package, package_path, TRUE, &error)) ||
          (mil_path && !ane_package_save_mil (package, mil_path, TRUE, &error)))
        return ane_tool_fail ("generate", error);
      if (package_path)
        printf ("wrote %s\n", package_path);
      if (mil_path)
        printf ("wrote %s\n", mil_path);
    }

  view.bar = ane_tool_bar_new ();
  view.shared_screen = isatty (fileno (stdout)) && isatty (fileno (stderr));
  shown = ane_progress_new (show_generation, &view, NULL);
  progress.prompt = prompt ? prompt : "";
  t0 = g_get_monotonic_time ();
  if (layout_name != NULL)
    text = ane_llama_generate_layout (model, tokenizer, progress.prompt, (guint) n_tokens, backend, precision,
                                      g_str_equal (layout_name, "ane"), temperature, top_p, (guint64) seed,
                                      shown, print_token, &progress, &error);
  else
    text = ane_llama_model_generate_full (model, tokenizer, progress.prompt, (guint) n_tokens, backend,
                                          precision, temperature, top_p, (guint64) seed, shown,
                                          print_token, &progress, &error);
  ane_tool_bar_end_line (view.bar);
  ane_tool_bar_free (view.bar);
  if (text == NULL)
    {
      if (progress.prompt_shown)
        {
          fputc ('\n', stdout);
          fflush (stdout);
        }
      /* A refused argument may be the prompt (longer than the model's
       * context): name it, cut short. Other failures (a backend, a
       * compile) are not about it. */
      if (g_error_matches (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT) && progress.prompt[0] != '\0')
        {
          g_autofree char *excerpt = prompt_excerpt (progress.prompt);

          fprintf (stderr, "ane-tool generate: prompt \"%s\": %s\n", excerpt, error->message);
          return 1;
        }
      return ane_tool_fail ("generate", error);
    }
  show_prompt (&progress);   /* also when the model ends before a token */
  total = (g_get_monotonic_time () - t0) / 1e6;
  printf ("\n");
  fflush (stdout);   /* the story first, then the figures on stderr */
  /* tokens/s counts the steady state: from the first generated token to the
   * last, so graph compilation and the prompt do not blur it */
  if (progress.n > 1)
    fprintf (stderr, "%u tokens, %.1f tokens/s (%.2f s in all, with compile and prompt)\n",
             progress.n, (progress.n - 1) / ((progress.last_us - progress.first_us) / 1e6), total);
  else
    fprintf (stderr, "%u tokens (%.2f s in all)\n", progress.n, total);
  return 0;
}
