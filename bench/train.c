/* bench/train.c: training speed of AneTrainer on the CPU backend
 *
 * Issue 18's measure: training steps per second and tokens per second for
 * the bundled stories260K and for a 15M-parameter LLaMA of stories15M's
 * shape (dim 288, 6 layers, 6 heads, FFN 768, vocabulary 32000, the
 * classifier tied to the embedding; random F32 weights, written as a GGUF
 * file here), at 1 and 2 threads, with the
 * peak RSS of the process and the shares of a step: the forward pass (the
 * training graph's forward alone, run apart), the backward pass (the
 * gradient program's run less the forward) and the host's part (feeding
 * the weights, summing the gradients, clipping and AdamW).
 *
 * Each configuration runs in a child process of its own, so its peak RSS
 * is its own. Never a timed test: it prints figures.
 *
 *   _build/bench/bench-train [--steps N] [--batch B] [--seq S] [--threads 1,2] [--models 260k,15m]
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <glib/gstdio.h>

#include "ane-glib.h"
#include "gguf/ane-gguf-writer-private.h"
#include "model/ane-llama-private.h"
#include "train/ane-trainer-private.h"

static G_NORETURN void
die (const char *what,
     GError     *error)
{
  g_printerr ("bench-train: %s: %s\n", what, error != NULL ? error->message : "failed");
  exit (1);
}

/* The forward alone: the same training graph without its gradients, with
 * the model's weights bound; seconds per sequence. */
static double
forward_seconds (AneLlamaModel *model,
                 gint64         seq,
                 const gint32  *window,
                 guint          runs)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_llama_build_train (model, seq, ANE_LLAMA_TRAIN_TOKENS, &error);
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneTensor) tokens = NULL;
  g_autoptr(AneTensor) targets = NULL;
  GHashTableIter it;
  gpointer key, value;
  gint64 t0 = 0;

  if (g == NULL)
    die ("forward graph", error);
  exe = ane_executable_new (g, ANE_BACKEND_CPU);
  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  g_hash_table_iter_init (&it, model->weights);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      g_autofree char *input = ane_llama_train_param_name (key);
      g_autoptr(GError) ignored = NULL;

      /* the weights the graph has (an untied copy may not be one) */
      ane_executable_set_param (exe, input, value, &ignored);
    }
  if (!ane_executable_compile (exe, NULL, &error))
    die ("forward compile", error);
  tokens = ane_tensor_new_from_ints ("tokens", &seq, 1, window, (gsize) seq, &error);
  targets = ane_tensor_new_from_ints ("targets", &seq, 1, window + 1, (gsize) seq, &error);
  for (guint r = 0; r <= runs; r++)
    {
      AneTensor *in[] = { tokens, targets };
      g_autoptr(GPtrArray) out = NULL;

      if (r == 1)
        t0 = g_get_monotonic_time ();
      if ((out = ane_executable_run (exe, in, 2, NULL, &error)) == NULL)
        die ("forward run", error);
    }
  return (g_get_monotonic_time () - t0) / 1e6 / runs;
}

/* The child: one model at one thread count; prints one line of figures. */
static int
run_one (const char *path,
         guint       steps,
         guint       batch,
         gint64      seq,
         gboolean    kernels)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) model = g_str_has_suffix (path, ".gguf") ? ane_llama_model_load_gguf (path, &error)
                                                                      : ane_llama_model_load_llama2c (path, &error);
  g_autoptr(AneTrainer) trainer = NULL;
  g_autofree gint32 *data = NULL;
  gsize n_data = (gsize) (seq + 1) * 64;
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  gint64 t0, us_run0, us_steps0, us_fwd0;
  double total, fwd, run, host;
  struct rusage ru;

  if (model == NULL)
    die (path, error);
  data = g_new (gint32, n_data);
  for (gsize i = 0; i < n_data; i++)
    data[i] = (gint32) g_rand_int_range (rand, 0, (gint32) model->vocab_size);
  trainer = ane_trainer_new_full (model, seq, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32,
                                  kernels ? ANE_TRAINER_LAYOUT_KERNELS : ANE_TRAINER_LAYOUT_WHOLE, &error);
  if (trainer == NULL)
    die ("trainer", error);
  ane_trainer_set_clip_norm (trainer, 1.0);
  /* one step first: the first run's allocations are not the steady state */
  if (!ane_trainer_train (trainer, data, n_data, 1, batch, 1, NULL, &error))
    die ("warm-up step", error);
  us_run0 = trainer->us_run;
  us_steps0 = trainer->us_steps;
  us_fwd0 = kernels ? ((AneTrainerKernel *) trainer->kernels->pdata[0])->us_run : 0;
  t0 = g_get_monotonic_time ();
  if (!ane_trainer_train (trainer, data, n_data, steps, batch, 2, NULL, &error))
    die ("steps", error);
  total = (g_get_monotonic_time () - t0) / 1e6;
  run = (trainer->us_run - us_run0) / 1e6;
  host = (trainer->us_steps - us_steps0) / 1e6 - run;
  /* kernels: the layers' forward kernel is forward alone (the head's
   * program is forward and backward); whole: the forward graph run apart */
  if (kernels)
    fwd = (((AneTrainerKernel *) trainer->kernels->pdata[0])->us_run - us_fwd0) / 1e6;
  else
    fwd = forward_seconds (model, seq, data, 3) * steps * batch;
  getrusage (RUSAGE_SELF, &ru);
  printf ("%" G_GINT64_FORMAT " %.4f %.1f %.1f %.3f %.3f %.3f %.3f\n", ane_trainer_get_n_params (trainer),
          steps / total, steps * batch * seq / total, ru.ru_maxrss / 1024.0, total, MIN (fwd, run),
          MAX (run - fwd, 0.0), host);
  return 0;
}

int
main (int    argc,
      char **argv)
{
  int steps = 10, batch = 4, seq = 64;
  g_autofree char *threads = g_strdup ("1,2");
  g_autofree char *models = g_strdup ("260k,15m");
  g_autofree char *one = NULL;
  g_autofree char *keep = NULL;
  g_autofree char *layouts = g_strdup ("whole,kernels");
  gboolean one_kernels = FALSE;
  GOptionEntry entries[] = {
    { "steps", 'n', 0, G_OPTION_ARG_INT, &steps, "Timed steps per configuration (default 10)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Sequences per step (default 4)", "B" },
    { "seq", 0, 0, G_OPTION_ARG_INT, &seq, "Tokens per sequence (default 64)", "S" },
    { "threads", 't', 0, G_OPTION_ARG_STRING, &threads, "Thread counts (default 1,2)", "LIST" },
    { "models", 'm', 0, G_OPTION_ARG_STRING, &models, "260k (the bundled stories260K), 15m (synthetic; default both)", "LIST" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &keep, "Keep the synthetic model in DIR (default: a temporary directory, removed)", "DIR" },
    { "layouts", 'l', 0, G_OPTION_ARG_STRING, &layouts, "whole, kernels (default both)", "LIST" },
    { "run-kernels", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &one_kernels, NULL, NULL },
    { "run-one", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &one, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- training speed of AneTrainer on the CPU backend");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) model_list = NULL;
  g_auto(GStrv) thread_list = NULL;
  g_auto(GStrv) layout_list = NULL;
  g_autofree char *dir = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    die ("options", error);
  if (steps < 1 || batch < 1 || seq < 2 || seq > 256)
    {
      g_printerr ("bench-train: --steps and --batch must be ≥ 1, --seq in [2, 256]\n");
      return 2;
    }
  if (one != NULL)
    return run_one (one, (guint) steps, (guint) batch, seq, one_kernels);

  model_list = g_strsplit (models, ",", -1);
  layout_list = g_strsplit (layouts, ",", -1);
  for (guint y = 0; layout_list[y] != NULL; y++)
    if (!g_str_equal (layout_list[y], "whole") && !g_str_equal (layout_list[y], "kernels"))
      {
        g_printerr ("bench-train: unknown layout '%s' (use whole or kernels)\n", layout_list[y]);
        return 2;
      }
  thread_list = g_strsplit (threads, ",", -1);
  if (keep != NULL)
    {
      dir = g_strdup (keep);
      if (g_mkdir_with_parents (dir, 0755) != 0)
        {
          g_printerr ("bench-train: cannot make %s\n", dir);
          return 1;
        }
    }
  else if ((dir = g_dir_make_tmp ("bench-train-XXXXXX", &error)) == NULL)
    die ("temporary directory", error);
  printf ("# AneTrainer, CPU backend fp32, AdamW, batch %d × %d tokens, %d timed steps after one warm-up\n",
          batch, seq, steps);
  printf ("# whole: fwd = the training graph's forward run apart, bwd = the gradient program less it;\n"
          "# kernels: fwd = the layers' forward kernel, bwd = the layers' backward and the head;\n"
          "# host: feeding weights, gathering and scattering the embedding, summing gradients, clipping, AdamW\n");
  printf ("%-11s %10s %-8s %7s %9s %10s %9s %8s %9s %6s\n", "model", "params", "layout", "threads", "steps/s",
          "tokens/s", "RSS MiB", "fwd %", "bwd %", "host %");
  fflush (stdout);
  for (guint m = 0; model_list[m] != NULL; m++)
    {
      g_autofree char *path = NULL;

      if (g_str_equal (model_list[m], "260k"))
        path = g_build_filename (ANE_SOURCE_ROOT, "data", "models", "stories260K.bin", NULL);
      else if (g_str_equal (model_list[m], "15m"))
        {
          /* stories15M's shape (llama2.c's 15M model) */
          AneGgufSyntheticLlama spec = { .dim = 288, .hidden = 768, .layers = 6, .heads = 6, .kv_heads = 6,
                                         .vocab = 32000, .context = 256, .matrices = ANE_DTYPE_FLOAT32, .seed = 18,
                                         .tied = TRUE };

          path = g_build_filename (dir, "llama15m-tied-f32.gguf", NULL);
          if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) && !ane_gguf_write_synthetic_llama (path, &spec, &error))
            die (path, error);
        }
      else
        {
          g_printerr ("bench-train: unknown model '%s' (use 260k or 15m)\n", model_list[m]);
          return 2;
        }
      for (guint y = 0; layout_list[y] != NULL; y++)
      for (guint h = 0; thread_list[h] != NULL; h++)
        {
          g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
          g_autofree char *run_arg = g_strdup_printf ("--run-one=%s", path);
          g_autofree char *steps_arg = g_strdup_printf ("--steps=%d", steps);
          g_autofree char *batch_arg = g_strdup_printf ("--batch=%d", batch);
          g_autofree char *seq_arg = g_strdup_printf ("--seq=%d", seq);
          gboolean k = g_str_equal (layout_list[y], "kernels");
          const char *child_argv[] = { self != NULL ? self : argv[0], run_arg, steps_arg, batch_arg, seq_arg,
                                       k ? "--run-kernels" : NULL, NULL };
          g_auto(GStrv) env = g_get_environ ();
          g_autofree char *out = NULL;
          g_autofree char *err = NULL;
          gint64 n_params;
          double sps, tps, rss, total, fwd, bwd, host;
          int status = 0;

          env = g_environ_setenv (env, "OMP_NUM_THREADS", thread_list[h], TRUE);
          env = g_environ_setenv (env, "OPENBLAS_NUM_THREADS", thread_list[h], TRUE);
          env = g_environ_setenv (env, "ANE_NUM_THREADS", thread_list[h], TRUE);
          if (!g_spawn_sync (NULL, (char **) child_argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                             &error))
            die ("spawn", error);
          if (!g_spawn_check_wait_status (status, NULL) ||
              sscanf (out, "%" G_GINT64_FORMAT " %lf %lf %lf %lf %lf %lf %lf", &n_params, &sps, &tps, &rss, &total,
                      &fwd, &bwd, &host) != 8)
            {
              g_printerr ("bench-train: %s at %s threads failed:\n%s%s", model_list[m], thread_list[h], out, err);
              return 1;
            }
          printf ("%-11s %10" G_GINT64_FORMAT " %-8s %7s %9.2f %10.0f %9.1f %8.1f %9.1f %6.1f\n",
                  g_str_equal (model_list[m], "260k") ? "stories260K" : "llama-15M", n_params, layout_list[y],
                  thread_list[h],
                  sps, tps, rss, 100 * fwd / total, 100 * bwd / total, 100 * host / total);
          fflush (stdout);
        }
      if (keep == NULL && g_str_has_prefix (path, dir))
        g_unlink (path);
    }
  if (keep == NULL)
    g_rmdir (dir);
  return 0;
}
