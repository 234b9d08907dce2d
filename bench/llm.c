/* bench/llm.c: a LLaMA of llama.cpp's comparison shape on the CPU backend
 *
 *   bench-llm [--types f32,f16,q8_0,q4_0,q4_k] [--threads 1,2]
 *             [--precisions fp32,fp16] [--prompt 128] [--generate 64]
 *             [--small] [--tied] [--data DIR]
 *
 * Issue 15's measure: a synthetic LLaMA GGUF of the shape it was compared
 * with llama.cpp on (dim 768, 12 layers, 12 heads, FFN 2048, vocabulary
 * 32000: 134M parameters; --small: dim 256, 4 layers, FFN 512, vocabulary
 * 4096, for a quick look; --tied: no classifier of its own, the embedding
 * serving, as stories15M's) is written once per weight type (into --data DIR,
 * reused when present; default a temporary directory removed at the end),
 * then each configuration (type × precision × threads) runs in a process of
 * its own, so its peak RSS is its own: the generic decode step of
 * prompt + generate positions is built and compiled on ANE_BACKEND_CPU
 * (load and compile timed apart), the prompt's tokens (seeded random ids)
 * run one step each (the token-by-token figure), then `generate` greedy
 * steps; then the same prompt runs again in one call of the n-token step
 * (ane_llama_build_decode_n, as `generate` runs the prompt on the CPU
 * backend), compiled apart, run once untimed (a warm-up, as llama-bench
 * runs one) and then timed on a second run from zeroed caches, and its last
 * logits are compared with the token-by-token ones. It prints both prompt
 * tokens/s, generated tokens/s, the largest logit difference of the two
 * prompt runs, the load time and the peak RSS (of the token-by-token run)
 * beside the GGUF's size. Threads are set through OMP_NUM_THREADS,
 * OPENBLAS_NUM_THREADS and ANE_NUM_THREADS in the child's environment.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "ane-glib.h"
#include "ane-file-private.h"
#include "gguf/ane-gguf-writer-private.h"
#include "runtime/cpu/ane-cpu-blas-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"
#include "runtime/cpu/ane-cpu-vec-q8x-private.h"
#include "model/ane-llama-private.h"

typedef struct {
  const char *name;
  AneDType    dtype;
} WeightType;

static const WeightType weight_types[] = {
  { "f32", ANE_DTYPE_FLOAT32 }, { "f16", ANE_DTYPE_FLOAT16 }, { "q8_0", ANE_DTYPE_Q8_0 },
  { "q4_0", ANE_DTYPE_Q4_0 }, { "q4_k", ANE_DTYPE_Q4_K },
};

static double
seconds_since (gint64 t0)
{
  return (double) (g_get_monotonic_time () - t0) / 1e6;
}

static G_NORETURN void
die (const char *what,
     GError     *error)
{
  g_printerr ("bench-llm: %s: %s\n", what, error != NULL ? error->message : "failed");
  exit (1);
}

static const WeightType *
find_type (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (weight_types); i++)
    if (g_ascii_strcasecmp (weight_types[i].name, name) == 0)
      return &weight_types[i];
  g_printerr ("bench-llm: unknown weight type '%s' (f32, f16, q8_0, q4_0, q4_k)\n", name);
  exit (2);
}

/* The one-token decode step with every port bound to a buffer, as
 * generation runs it (model/ane-llama-bound.c): the caches stay in the
 * backend's memory, a step copies only its token, position and logits. */
typedef struct {
  AneExecutable *exe;
  AneBuffer *token, *position, *logits;
  GPtrArray *caches;
} Stepper;

static AneBuffer *
bind_port (AneExecutable *exe,
           const char    *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneBuffer) buffer = ane_executable_new_buffer (exe, name, &error);

  if (buffer == NULL || !ane_buffer_clear (buffer, &error) || !ane_executable_bind (exe, name, buffer, &error))
    die (name, error);
  return g_steal_pointer (&buffer);
}

static void
stepper_init (Stepper       *st,
              AneExecutable *exe,
              gint64         n_layers)
{
  st->exe = exe;
  st->token = bind_port (exe, "token");
  st->position = bind_port (exe, "position");
  st->logits = bind_port (exe, "logits");
  st->caches = g_ptr_array_new_with_free_func (g_object_unref);
  for (gint64 l = 0; l < 2 * n_layers; l++)
    {
      g_autofree char *name = g_strdup_printf ("%c_cache_%" G_GINT64_FORMAT, l % 2 ? 'v' : 'k', l / 2);

      g_ptr_array_add (st->caches, bind_port (exe, name));
    }
}

static void
stepper_clear (Stepper *st)
{
  g_clear_object (&st->token);
  g_clear_object (&st->position);
  g_clear_object (&st->logits);
  g_clear_pointer (&st->caches, g_ptr_array_unref);
}

/* One step of the generic decode graph; the greedy next token, picked
 * from its logits read in place in the bound buffer (ane_buffer_lock: no
 * copy), and a copy of the logits in *keep when keep is not NULL. */
static gint32
step (Stepper  *st,
      gint32    token,
      gint32    position,
      gsize     vocab,
      float   **keep)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) t_tok = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &token, 1, &error);
  g_autoptr(AneTensor) t_pos = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &position, 1, &error);
  const float *logits;
  gsize size = 0;
  gint32 next;

  if (t_tok == NULL || t_pos == NULL || !ane_buffer_write_tensor (st->token, t_tok, &error) ||
      !ane_buffer_write_tensor (st->position, t_pos, &error) || !ane_executable_run_bound (st->exe, NULL, &error))
    die ("run", error);
  if (ane_buffer_get_dtype (st->logits) != ANE_DTYPE_FLOAT32)
    {
      g_printerr ("bench-llm: the logits are not float32\n");
      exit (1);
    }
  logits = ane_buffer_lock (st->logits, TRUE, &size, &error);
  if (logits == NULL || size < vocab * sizeof (float))
    die ("logits", error);
  next = ane_llama_pick_token (logits, (gint64) vocab, 0.0, 0.0, NULL, NULL);
  if (keep != NULL)
    *keep = g_memdup2 (logits, vocab * sizeof (float));
  ane_buffer_unlock (st->logits);
  return next;
}

/* The prompt in one call of the n-token step; its last logits (vocab),
 * the run's seconds in *run_s. */
static float *
prompt_one_call (AneLlamaModel *m,
                 AnePrecision   precision,
                 const gint32  *tokens,
                 int            n_prompt,
                 gint64         max_seq,
                 double        *run_s)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_llama_build_decode_n (m, n_prompt, max_seq, &error);
  g_autoptr(AneExecutable) exe = NULL;
  g_autofree gint32 *positions = g_new (gint32, n_prompt);
  g_autoptr(AneTensor) t_tok = NULL;
  g_autoptr(AneTensor) t_pos = NULL;
  g_autoptr(GPtrArray) out = NULL;
  gint64 t0;
  gsize n;
  float *logits;

  if (graph == NULL)
    die ("build_decode_n", error);
  exe = ane_executable_new (graph, ANE_BACKEND_CPU);
  ane_executable_set_precision (exe, precision);
  if (!ane_executable_compile (exe, NULL, &error))
    die ("compile", error);
  for (int i = 0; i < n_prompt; i++)
    positions[i] = i;
  /* the one-token step names its inputs in the singular */
  t_tok = ane_tensor_new_from_ints (n_prompt == 1 ? "token" : "tokens", (const gint64[]) { n_prompt }, 1, tokens,
                                    n_prompt, &error);
  t_pos = ane_tensor_new_from_ints (n_prompt == 1 ? "position" : "positions", (const gint64[]) { n_prompt }, 1,
                                    positions, n_prompt, &error);
  if (t_tok == NULL || t_pos == NULL)
    die ("inputs", error);
  /* a first run, untimed, as llama-bench warms up before it times: the
   * plan's arena then holds its intermediates and their pages are
   * faulted in (a cold run also pays those, about a fifth of it on the
   * 134M model); the caches back to zeros, and the same call timed */
  out = ane_executable_run (exe, (AneTensor *[]) { t_tok, t_pos }, 2, NULL, &error);
  if (out == NULL)
    die ("run", error);
  g_clear_pointer (&out, g_ptr_array_unref);
  ane_executable_reset_states (exe);
  t0 = g_get_monotonic_time ();
  out = ane_executable_run (exe, (AneTensor *[]) { t_tok, t_pos }, 2, NULL, &error);
  *run_s = seconds_since (t0);
  if (out == NULL)
    die ("run", error);
  logits = ane_tensor_dup_floats (g_ptr_array_index (out, 0), &n, &error);
  if (logits == NULL)
    die ("logits", error);
  return logits;
}

/* The child: one configuration; prints "load prompt_tps gen_tps rss_mib
 * prompt_one_call_tps max_logit_difference". */
static int
run_one (const char *path,
         const char *precision_name,
         int         n_prompt,
         int         n_generate)
{
  AnePrecision precision = g_str_equal (precision_name, "fp16") ? ANE_PRECISION_FLOAT16 : ANE_PRECISION_FLOAT32;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = NULL;
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (15);
  struct rusage ru;
  gint64 t0 = g_get_monotonic_time (), vocab;
  double load, prompt_s, gen_s, one_s, worst = 0.0;
  gint32 token;
  g_autofree gint32 *prompt = NULL;
  g_autofree float *last_logits = NULL;
  g_autofree float *one_logits = NULL;
  Stepper st = { NULL, };

  m = ane_llama_model_load_gguf (path, &error);
  if (m == NULL)
    die (path, error);
  vocab = ane_llama_model_get_vocab_size (m);
  graph = ane_llama_model_build_decode (m, n_prompt + n_generate, &error);
  if (graph == NULL)
    die ("build_decode", error);
  exe = ane_executable_new (graph, ANE_BACKEND_CPU);
  ane_executable_set_precision (exe, precision);
  if (!ane_executable_compile (exe, NULL, &error))
    die ("compile", error);
  stepper_init (&st, exe, ane_llama_model_get_n_layers (m));
  load = seconds_since (t0);

  prompt = g_new (gint32, n_prompt);
  token = prompt[0] = (gint32) g_rand_int_range (rand, 3, (gint32) vocab);
  t0 = g_get_monotonic_time ();
  for (int pos = 0; pos < n_prompt; pos++)
    {
      gint32 next = step (&st, token, pos, (gsize) vocab, pos + 1 < n_prompt ? NULL : &last_logits);

      if (pos + 1 < n_prompt)
        token = prompt[pos + 1] = (gint32) g_rand_int_range (rand, 3, (gint32) vocab);
      else
        token = next;
    }
  prompt_s = seconds_since (t0);
  t0 = g_get_monotonic_time ();
  for (int i = 0; i < n_generate; i++)
    token = step (&st, token, n_prompt + i, (gsize) vocab, NULL);
  gen_s = seconds_since (t0);
  stepper_clear (&st);
  /* the peak RSS of the token-by-token run, as before the one-call step */
  getrusage (RUSAGE_SELF, &ru);
  one_logits = prompt_one_call (m, precision, prompt, n_prompt, n_prompt + n_generate, &one_s);
  for (gint64 i = 0; i < vocab; i++)
    worst = MAX (worst, fabs ((double) one_logits[i] - (double) last_logits[i]));
  printf ("%.2f %.2f %.2f %.1f %.2f %.3g\n", load, n_prompt / prompt_s, n_generate / gen_s,
          (double) ru.ru_maxrss / 1024.0,   /* ru_maxrss: KiB on Linux */
          n_prompt / one_s, worst);
  return 0;
}

static goffset
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (goffset) st.st_size : -1;
}

int
main (int argc, char *argv[])
{
  g_autofree char *types = g_strdup ("f32,f16,q8_0,q4_0,q4_k");
  g_autofree char *threads = g_strdup ("1,2");
  g_autofree char *precisions = g_strdup ("fp32,fp16");
  g_autofree char *data = NULL;
  g_autofree char *one = NULL;
  g_autofree char *one_precision = NULL;
  gboolean small = FALSE, tied = FALSE;
  int n_prompt = 128, n_generate = 64;
  GOptionEntry entries[] = {
    { "types", 0, 0, G_OPTION_ARG_STRING, &types, "Weight types, comma-separated", "LIST" },
    { "threads", 0, 0, G_OPTION_ARG_STRING, &threads, "Thread counts, comma-separated", "LIST" },
    { "precisions", 0, 0, G_OPTION_ARG_STRING, &precisions, "fp32 and/or fp16", "LIST" },
    { "prompt", 0, 0, G_OPTION_ARG_INT, &n_prompt, "Prompt tokens (default 128)", "N" },
    { "generate", 0, 0, G_OPTION_ARG_INT, &n_generate, "Generated tokens (default 64)", "N" },
    { "small", 0, 0, G_OPTION_ARG_NONE, &small, "A small model for a quick look", NULL },
    { "tied", 0, 0, G_OPTION_ARG_NONE, &tied, "The classifier tied to the embedding", NULL },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data, "Keep (and reuse) the GGUF files here", "DIR" },
    { "run-one", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &one, NULL, NULL },
    { "run-precision", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &one_precision, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- the CPU backend on a synthetic LLaMA GGUF");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) type_list = NULL;
  g_auto(GStrv) thread_list = NULL;
  g_auto(GStrv) precision_list = NULL;
  gboolean temporary;
  AneGgufSyntheticLlama shape;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    die ("options", error);
  if (n_prompt < 1 || n_generate < 1 || n_prompt + n_generate > 512)
    {
      g_printerr ("bench-llm: --prompt and --generate must be ≥ 1 and add up to at most 512\n");
      return 2;
    }
  shape = small
    ? (AneGgufSyntheticLlama) { .dim = 256, .hidden = 512, .layers = 4, .heads = 4, .kv_heads = 4,
                                .vocab = 4096, .context = 512, .seed = 15 }
    : (AneGgufSyntheticLlama) { .dim = 768, .hidden = 2048, .layers = 12, .heads = 12, .kv_heads = 12,
                                .vocab = 32000, .context = 512, .seed = 15 };
  if (one != NULL)
    return run_one (one, one_precision != NULL ? one_precision : "fp32", n_prompt, n_generate);

  type_list = g_strsplit (types, ",", -1);
  thread_list = g_strsplit (threads, ",", -1);
  precision_list = g_strsplit (precisions, ",", -1);
  temporary = data == NULL;
  if (temporary && (data = g_dir_make_tmp ("bench-llm-XXXXXX", &error)) == NULL)
    die ("temporary directory", error);
  if (g_mkdir_with_parents (data, 0755) != 0)
    {
      g_printerr ("bench-llm: cannot make %s\n", data);
      return 1;
    }

  printf ("# synthetic LLaMA dim %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT " layers, %" G_GINT64_FORMAT
          " heads, FFN %" G_GINT64_FORMAT ", vocabulary %" G_GINT64_FORMAT "; prompt %d tokens (one step "
          "each, and in one call after a warm-up call), %d generated; CPU backend\n",
          shape.dim, shape.layers, shape.heads, shape.hidden, shape.vocab, n_prompt, n_generate);
  if (tied)
    printf ("# the classifier tied to the embedding (--tied)\n");
  /* the prompt in one call goes through sgemm: say whose (a misdetected
   * CPU gets OpenBLAS's generic kernels, docs/cpu-backend.md) */
  printf ("# BLAS: %s; GEMM: %s; compressed-weight kernels: %s\n", ane_cpu_blas_describe (),
          ane_cpu_gemm_describe (), ane_cpu_vec_get_isa ());
  /* AneExecutable:quantize-activations starts from the environment */
  if (g_strcmp0 (g_getenv ("ANE_CPU_QUANTIZE_ACTIVATIONS"), "1") == 0)
    printf ("# activations: 8-bit for Q8_0 / Q4_0 / Q4_K products, their weights regrouped "
            "(ANE_CPU_QUANTIZE_ACTIVATIONS=1, %s kernels), float elsewhere\n", ane_cpu_q8x_kernel_isa ());
  else
    printf ("# activations: float (ANE_CPU_QUANTIZE_ACTIVATIONS=1: 8-bit for Q8_0 / Q4_0 / Q4_K, as llama.cpp)\n");
  printf ("%-6s %-5s %7s %10s %14s %16s %12s %12s %10s %10s\n", "type", "prec", "threads", "load s",
          "prompt tok/s", "1-call tok/s", "max |dlogit|", "gen tok/s", "RSS MiB", "GGUF MiB");
  fflush (stdout);
  for (guint t = 0; type_list[t] != NULL; t++)
    {
      const WeightType *wt = find_type (type_list[t]);
      g_autofree char *name = g_strdup_printf ("%s-%s%s.gguf", small ? "small" : "llama134m", wt->name,
                                               tied ? "-tied" : "");
      g_autofree char *path = g_build_filename (data, name, NULL);
      AneGgufSyntheticLlama spec = shape;

      spec.matrices = wt->dtype;
      spec.tied = tied;
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) && !ane_gguf_write_synthetic_llama (path, &spec, &error))
        die (path, error);
      for (guint p = 0; precision_list[p] != NULL; p++)
        for (guint h = 0; thread_list[h] != NULL; h++)
          {
            g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
            g_autofree char *prompt_arg = g_strdup_printf ("--prompt=%d", n_prompt);
            g_autofree char *gen_arg = g_strdup_printf ("--generate=%d", n_generate);
            g_autofree char *prec_arg = g_strdup_printf ("--run-precision=%s", precision_list[p]);
            g_autofree char *run_arg = g_strdup_printf ("--run-one=%s", path);
            const char *child_argv[] = { self != NULL ? self : argv[0], run_arg, prec_arg, prompt_arg, gen_arg, NULL };
            g_auto(GStrv) env = g_get_environ ();
            g_autofree char *out = NULL;
            g_autofree char *err = NULL;
            double load, prompt_tps, gen_tps, rss, one_tps, worst;
            int status = 0;

            env = g_environ_setenv (env, "OMP_NUM_THREADS", thread_list[h], TRUE);
            env = g_environ_setenv (env, "OPENBLAS_NUM_THREADS", thread_list[h], TRUE);
            env = g_environ_setenv (env, "ANE_NUM_THREADS", thread_list[h], TRUE);
            if (!g_spawn_sync (NULL, (char **) child_argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error))
              die ("spawn", error);
            if (!g_spawn_check_wait_status (status, NULL) ||
                sscanf (out, "%lf %lf %lf %lf %lf %lf", &load, &prompt_tps, &gen_tps, &rss, &one_tps, &worst) != 6)
              {
                g_printerr ("bench-llm: %s %s %s threads failed:\n%s", wt->name, precision_list[p],
                            thread_list[h], err);
                return 1;
              }
            printf ("%-6s %-5s %7s %10.2f %14.1f %16.1f %12.3g %12.2f %10.0f %10.0f\n", wt->name,
                    precision_list[p], thread_list[h], load, prompt_tps, one_tps, worst, gen_tps, rss,
                    (double) file_size (path) / (1024.0 * 1024.0));
            fflush (stdout);
          }
    }
  if (temporary)
    ane_file_remove_tree (data);
  return 0;
}
