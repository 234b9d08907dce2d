/* bench/prefill.c: a prompt in one prefill call against token by token
 *
 *   _build/bench/bench-prefill [MODEL.bin] [N_TOKENS]
 *
 * stories260K (data/models/stories260K.bin by default) on the CPU backend:
 * the Neural Engine-shaped prefill graph taking N tokens (default 128) in one
 * call, against the Neural Engine-shaped and the generic decode steps fed
 * the same tokens one at a time. Prints prompt tokens per second for each
 * (the best of 3 runs; compiling is not counted), in float32 and float16.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>

#include "ane-glib.h"

#define RUNS 3

static double
seconds_since (gint64 t0)
{
  return (double) (g_get_monotonic_time () - t0) / 1e6;
}

static AneExecutable *
compiled (AneGraph     *graph,
          AnePrecision  precision)
{
  g_autoptr(GError) error = NULL;
  AneExecutable *exe = ane_executable_new (graph, ANE_BACKEND_CPU);

  ane_executable_set_precision (exe, precision);
  if (!ane_executable_compile (exe, NULL, &error))
    g_error ("compile: %s", error->message);
  return exe;
}

static double
one_call (AneLlamaModel *m,
          const gint32  *tokens,
          gint64         n,
          gint64         max_seq,
          AnePrecision   precision)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_llama_model_build_ane_prefill (m, n, max_seq, &error);
  g_autoptr(AneExecutable) exe = NULL;
  double best = G_MAXDOUBLE;

  if (graph == NULL)
    g_error ("%s", error->message);
  exe = compiled (graph, precision);
  for (int r = 0; r < RUNS; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr(GPtrArray) in = ane_llama_model_ane_prefill_inputs (m, tokens, (gsize) n, 0, n, max_seq, &error);
      g_autoptr(GPtrArray) out = NULL;

      ane_executable_reset_states (exe);
      out = ane_executable_run (exe, (AneTensor **) in->pdata, in->len, NULL, &error);
      if (out == NULL)
        g_error ("%s", error->message);
      best = MIN (best, seconds_since (t0));
    }
  return (double) n / best;
}

static double
token_by_token (AneLlamaModel *m,
                const gint32  *tokens,
                gint64         n,
                gint64         max_seq,
                gboolean       ane_layout,
                AnePrecision   precision)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_layout ? ane_llama_model_build_ane_decode (m, max_seq, &error)
                                         : ane_llama_model_build_decode (m, max_seq, &error);
  g_autoptr(AneExecutable) exe = NULL;
  double best = G_MAXDOUBLE;

  if (graph == NULL)
    g_error ("%s", error->message);
  exe = compiled (graph, precision);
  for (int r = 0; r < RUNS; r++)
    {
      gint64 t0 = g_get_monotonic_time ();

      ane_executable_reset_states (exe);
      for (gint64 i = 0; i < n; i++)
        {
          g_autoptr(GPtrArray) in = NULL;
          g_autoptr(GPtrArray) out = NULL;

          if (ane_layout)
            in = ane_llama_model_ane_decode_inputs (m, tokens[i], i, max_seq, &error);
          else
            {
              gint32 pos = (gint32) i;

              in = g_ptr_array_new_with_free_func (g_object_unref);
              g_ptr_array_add (in, ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &tokens[i], 1, NULL));
              g_ptr_array_add (in, ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &pos, 1, NULL));
            }
          out = ane_executable_run (exe, (AneTensor **) in->pdata, in->len, NULL, &error);
          if (out == NULL)
            g_error ("%s", error->message);
        }
      best = MIN (best, seconds_since (t0));
    }
  return (double) n / best;
}

int
main (int argc, char *argv[])
{
  const char *path = argc > 1 ? argv[1] : "data/models/stories260K.bin";
  gint64 n = argc > 2 ? g_ascii_strtoll (argv[2], NULL, 10) : 128;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = ane_llama_model_load_llama2c (path, &error);
  g_autofree gint32 *tokens = NULL;
  gint64 max_seq;

  if (m == NULL)
    g_error ("%s", error->message);
  max_seq = ane_llama_model_get_seq_len (m);
  if (n < 2 || n > max_seq)
    g_error ("N_TOKENS must be in [2, %" G_GINT64_FORMAT "]", max_seq);
  tokens = g_new (gint32, n);
  for (gint64 i = 0; i < n; i++)
    tokens[i] = (gint32) (1 + (i * 37) % (ane_llama_model_get_vocab_size (m) - 1));

  printf ("%s, a %" G_GINT64_FORMAT "-token prompt on the CPU backend, caches of %" G_GINT64_FORMAT
          ", prompt tokens/s (best of %d):\n", path, n, max_seq, RUNS);
  for (int p = 0; p < 2; p++)
    {
      AnePrecision precision = p == 0 ? ANE_PRECISION_FLOAT32 : ANE_PRECISION_FLOAT16;
      double one = one_call (m, tokens, n, max_seq, precision);
      double ane_steps = token_by_token (m, tokens, n, max_seq, TRUE, precision);
      double generic_steps = token_by_token (m, tokens, n, max_seq, FALSE, precision);

      printf ("  %s: ANE layout, one call %.0f | ANE layout, token by token %.0f (%.1fx) | "
              "generic, token by token %.0f (%.1fx)\n", p == 0 ? "fp32" : "fp16", one, ane_steps,
              one / ane_steps, generic_steps, one / generic_steps);
    }
  return 0;
}
