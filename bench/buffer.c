/* bench/buffer.c: a decode loop on bound buffers against the tensor path
 *
 *   _build/bench/bench-buffer [MODEL.bin] [STEPS] [MAX_SEQ]
 *
 * stories260K (data/models/stories260K.bin by default) in the Neural
 * Engine's layout, on the CPU backend in float16: STEPS decode steps
 * (default 200; the cache MAX_SEQ long, default 512) run with
 * ane_executable_run (the inputs as tensors, the KV caches in the
 * executable's state table, copied in and out of the interpreter every
 * step) and with ane_executable_run_bound (every input, output and cache
 * bound to an AneBuffer: the per-token inputs are written into their
 * buffers, the caches stay where they are). Prints steps per second (best
 * of 3), the bytes the executable copied per step
 * (ane_executable_get_copied) and the largest logit difference between the
 * two ways (0: the same computation).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "ane-glib.h"
#include "ane-executable-private.h"

#define RUNS 3

typedef struct
{
  double   steps_per_s;
  guint64  copied_per_step;
  float   *last_logits;
  gsize    n_logits;
} Result;

static AneExecutable *
compiled (AneGraph *graph)
{
  g_autoptr(GError) error = NULL;
  AneExecutable *exe = ane_executable_new (graph, ANE_BACKEND_CPU);

  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT16);
  if (!ane_executable_compile (exe, NULL, &error))
    g_error ("compile: %s", error->message);
  return exe;
}

static void
loop (AneLlamaModel *m,
      AneGraph      *graph,
      gboolean       bound,
      gint64         steps,
      gint64         max_seq,
      Result        *result)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) exe = compiled (graph);
  g_autoptr(GPtrArray) buffers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) outputs = ane_graph_list_outputs (graph);
  double best = G_MAXDOUBLE;

  if (bound)
    {
      g_autoptr(GPtrArray) inputs = ane_graph_list_inputs (graph);
      g_autoptr(GPtrArray) states = ane_graph_list_states (graph);
      GPtrArray *lists[] = { inputs, outputs, states };

      for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
        for (guint i = 0; i < lists[l]->len; i++)
          {
            const char *name = ane_tensor_get_name (g_ptr_array_index (lists[l], i));
            AneBuffer *b = ane_executable_new_buffer (exe, name, &error);

            if (b == NULL || !ane_executable_bind (exe, name, b, &error))
              g_error ("bind '%s': %s", name, error->message);
            g_ptr_array_add (buffers, b);
          }
    }
  for (int r = 0; r < RUNS; r++)
    {
      gint64 t0;
      guint64 copied;
      double s;

      ane_executable_reset_states (exe);
      copied = ane_executable_get_copied (exe);
      t0 = g_get_monotonic_time ();
      for (gint64 pos = 0; pos < steps; pos++)
        {
          gint32 token = (gint32) (1 + (pos * 37) % 500);
          g_autoptr(GPtrArray) in = ane_llama_model_ane_decode_inputs (m, token, pos, max_seq, &error);
          g_autoptr(GPtrArray) out = NULL;

          if (in == NULL)
            g_error ("%s", error->message);
          if (!bound)
            {
              out = ane_executable_run (exe, (AneTensor **) in->pdata, in->len, NULL, &error);
              if (out == NULL)
                g_error ("run: %s", error->message);
              if (pos == steps - 1 && r == RUNS - 1)
                {
                  g_free (result->last_logits);
                  result->last_logits = ane_tensor_dup_floats (g_ptr_array_index (out, 0), &result->n_logits, &error);
                }
              continue;
            }
          for (guint i = 0; i < in->len; i++)
            if (!ane_buffer_write_tensor (g_ptr_array_index (buffers, i), g_ptr_array_index (in, i), &error))
              g_error ("write: %s", error->message);
          if (!ane_executable_run_bound (exe, NULL, &error))
            g_error ("run_bound: %s", error->message);
          if (pos == steps - 1 && r == RUNS - 1)
            {
              AneBuffer *logits = g_ptr_array_index (buffers, in->len);
              g_autoptr(AneTensor) t = ane_buffer_dup_tensor (logits, &error);

              g_free (result->last_logits);
              result->last_logits = ane_tensor_dup_floats (t, &result->n_logits, &error);
            }
        }
      s = (double) (g_get_monotonic_time () - t0) / 1e6;
      best = MIN (best, s);
      result->copied_per_step = (ane_executable_get_copied (exe) - copied) / (guint64) steps;
    }
  result->steps_per_s = (double) steps / best;
}

int
main (int argc, char **argv)
{
  const char *path = argc > 1 ? argv[1] : "data/models/stories260K.bin";
  gint64 steps = argc > 2 ? g_ascii_strtoll (argv[2], NULL, 10) : 200;
  gint64 max_seq = argc > 3 ? g_ascii_strtoll (argv[3], NULL, 10) : 512;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = ane_llama_model_load_llama2c (path, &error);
  g_autoptr(AneGraph) graph = NULL;
  Result tensors = { 0 }, buffers = { 0 };
  double diff = 0;

  if (m == NULL)
    g_error ("%s", error->message);
  graph = ane_llama_model_build_ane_decode (m, max_seq, &error);
  if (graph == NULL)
    g_error ("%s", error->message);
  loop (m, graph, FALSE, steps, max_seq, &tensors);
  loop (m, graph, TRUE, steps, max_seq, &buffers);
  for (gsize i = 0; i < MIN (tensors.n_logits, buffers.n_logits); i++)
    diff = MAX (diff, fabs ((double) tensors.last_logits[i] - buffers.last_logits[i]));
  printf ("stories260K ANE-layout decode, CPU backend fp16, %" G_GINT64_FORMAT " steps, cache %" G_GINT64_FORMAT "\n",
          steps, max_seq);
  printf ("  tensor path (run):       %8.1f steps/s, %10" G_GUINT64_FORMAT " bytes copied per step\n",
          tensors.steps_per_s, tensors.copied_per_step);
  printf ("  bound buffers (run_bound): %6.1f steps/s, %10" G_GUINT64_FORMAT " bytes copied per step\n",
          buffers.steps_per_s, buffers.copied_per_step);
  printf ("  largest logit difference: %g\n", diff);
  g_free (tensors.last_logits);
  g_free (buffers.last_logits);
  return 0;
}
