/* test-llama-ane.c: the Neural Engine-shaped LLaMA decode step
 *
 * ane_llama_model_build_ane_decode () writes the model in the Neural
 * Engine's layout; it must compute what the generic decode graph computes.
 * Both run here step by step on the same tokens, on the CPU backend (which
 * interprets the lowered MIL, the program a Mac would get) and on the
 * reference backend, and their logits are compared; the ANE lint must find
 * nothing that leaves the Neural Engine.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "ane-glib.h"
#include "ane-test-util.h"
#include "ane-test-gguf.h"
#include "model/ane-llama-private.h"
#include "gguf/ane-gguf-writer-private.h"

#define N_STEPS 24
#define MAX_SEQ 64
/* Both graphs keep their key/value caches in float16 (as Core ML keeps
 * states): keys computed in another order may round to neighbouring fp16
 * values (a relative 1e-3), which moves a logit by about that much. */
#define FP32_BOUND 1e-2
/* A prefill call computes a prompt's keys in one matrix product, another
 * summation order than one token at a time: more of them round to a
 * neighbouring fp16 value (measured: 1.04e-2 over 16 positions). */
#define PREFILL_BOUND 3e-2

/* graph compiled for backend at precision (the test fails otherwise). */
static AneExecutable *
compiled (AneGraph     *graph,
          AneBackend    backend,
          AnePrecision  precision)
{
  g_autoptr(GError) error = NULL;
  AneExecutable *exe = ane_executable_new (graph, backend);

  ane_executable_set_precision (exe, precision);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  return exe;
}

/* Runs n steps of both graphs on the tokens 1, then each step's greedy
 * choice of the generic graph, and returns the largest difference of the
 * logits; *agree counts the steps whose arg-max agree. */
static double
compare_steps (AneLlamaModel *m,
               AneBackend     backend,
               AnePrecision   precision,
               guint         *agree)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) generic = ane_llama_model_build_decode (m, MAX_SEQ, &error);
  g_autoptr(AneGraph) ane = NULL;
  g_autoptr(AneExecutable) eg = NULL;
  g_autoptr(AneExecutable) ea = NULL;
  gint64 vocab = ane_llama_model_get_vocab_size (m);
  gint32 token = 1;
  double worst = 0;

  g_assert_no_error (error);
  ane = ane_llama_model_build_ane_decode (m, MAX_SEQ, &error);
  g_assert_no_error (error);
  eg = compiled (generic, backend, precision);
  ea = compiled (ane, backend, precision);
  *agree = 0;

  for (gint32 pos = 0; pos < N_STEPS; pos++)
    {
      g_autoptr(AneTensor) t_tok = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &token, 1, NULL);
      g_autoptr(AneTensor) t_pos = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &pos, 1, NULL);
      AneTensor *gin[2] = { t_tok, t_pos };
      g_autoptr(GPtrArray) ain = ane_llama_model_ane_decode_inputs (m, token, pos, MAX_SEQ, &error);
      g_autoptr(GPtrArray) gout = NULL;
      g_autoptr(GPtrArray) aout = NULL;
      g_autofree float *lg = NULL;
      g_autofree float *la = NULL;
      gsize ng, na;
      gint32 best_g = 0, best_a = 0;

      g_assert_no_error (error);
      gout = ane_executable_run (eg, gin, 2, NULL, &error);
      g_assert_no_error (error);
      aout = ane_executable_run (ea, (AneTensor **) ain->pdata, ain->len, NULL, &error);
      g_assert_no_error (error);
      lg = ane_tensor_dup_floats (g_ptr_array_index (gout, 0), &ng, &error);
      la = ane_tensor_dup_floats (g_ptr_array_index (aout, 0), &na, &error);
      g_assert_cmpuint (ng, ==, (gsize) vocab);
      g_assert_cmpuint (na, ==, (gsize) vocab);
      for (gint64 i = 0; i < vocab; i++)
        {
          g_assert_true (isfinite (la[i]));
          worst = MAX (worst, fabs ((double) lg[i] - (double) la[i]));
          if (lg[i] > lg[best_g])
            best_g = (gint32) i;
          if (la[i] > la[best_a])
            best_a = (gint32) i;
        }
      *agree += best_g == best_a;
      token = best_g;
    }
  return worst;
}

static void
test_stories_cpu_fp32 (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  guint agree;
  double worst = compare_steps (m, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, &agree);

  g_test_message ("stories260K, CPU fp32: largest logit difference %g, %u/%d arg-max agree", worst, agree, N_STEPS);
  g_assert_cmpfloat (worst, <, FP32_BOUND);
  g_assert_cmpuint (agree, ==, N_STEPS);
}

static void
test_stories_reference (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  guint agree;
  double worst = compare_steps (m, ANE_BACKEND_REFERENCE, ANE_PRECISION_FLOAT32, &agree);

  g_test_message ("stories260K, reference: largest logit difference %g", worst);
  g_assert_cmpfloat (worst, <, FP32_BOUND);
  g_assert_cmpuint (agree, ==, N_STEPS);
}

static void
test_stories_cpu_fp16 (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  guint agree;
  double worst = compare_steps (m, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT16, &agree);

  g_test_message ("stories260K, CPU fp16: largest logit difference %g, %u/%d arg-max agree", worst, agree, N_STEPS);
  g_assert_cmpfloat (worst, <, 0.25);
  g_assert_cmpuint (agree, >=, N_STEPS - 2);
}

static void
test_gguf (gconstpointer data)
{
  const AneTestGgufVariant *v = data;
  g_autofree char *dir = g_dir_make_tmp ("ane-llama-ane-XXXXXX", NULL);
  g_autofree char *path = ane_test_write_stories_gguf (dir, "model.gguf", v);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = ane_llama_model_load_gguf (path, &error);
  guint agree;
  double worst;

  g_assert_no_error (error);
  worst = compare_steps (m, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, &agree);
  g_test_message ("GGUF %s %s: largest logit difference %g", v->arch,
                  v->quant != ANE_DTYPE_FLOAT32 ? ane_dtype_to_string (v->quant) : v->q8_0 ? "q8_0" : "f32", worst);
  /* Q8_0: the generic graph multiplies the blocks as they are, this one
   * their dequantized floats: the same values, summed in another order */
  g_assert_cmpfloat (worst, <, FP32_BOUND);
  g_assert_cmpuint (agree, ==, N_STEPS);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_lint_stays_on_ane (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_llama_model_build_ane_decode (m, ane_llama_model_get_seq_len (m), &error);
  g_autoptr(AneLintReport) report = NULL;
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  report = ane_graph_lint (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, ANE_LINT_NONE, &error);
  g_assert_no_error (error);
  text = ane_lint_report_to_string (report);
  g_test_message ("%s", text);
  g_assert_cmpuint (ane_lint_report_count_ops (report, NULL, ANE_LINT_VERDICT_FALLS_BACK), ==, 0);
  g_assert_cmpfloat (ane_lint_report_get_ane_cost_share (report, NULL), ==, 1.0);
  g_assert_cmpint (ane_lint_report_get_verdict (report), <=, ANE_LINT_VERDICT_ANE_SLOW);
}

/* Logits of the generic step at each position of tokens (fed one by one). */
static float *
generic_logits (AneLlamaModel *m,
                const gint32  *tokens,
                gsize          n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_llama_model_build_decode (m, MAX_SEQ, &error);
  g_autoptr(AneExecutable) exe = compiled (graph, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
  gint64 vocab = ane_llama_model_get_vocab_size (m);
  float *all = g_new (float, n * vocab);

  for (gsize i = 0; i < n; i++)
    {
      gint32 pos = (gint32) i;
      g_autoptr(AneTensor) t_tok = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &tokens[i], 1, NULL);
      g_autoptr(AneTensor) t_pos = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &pos, 1, NULL);
      AneTensor *in[2] = { t_tok, t_pos };
      g_autoptr(GPtrArray) out = ane_executable_run (exe, in, 2, NULL, &error);
      g_autofree float *l = NULL;
      gsize nl;

      g_assert_no_error (error);
      l = ane_tensor_dup_floats (g_ptr_array_index (out, 0), &nl, &error);
      memcpy (all + i * vocab, l, vocab * sizeof (float));
    }
  return all;
}

/* The prompt in two prefill calls (the second from a later start, with
 * padding), then decode steps on the caches they filled: every logit agrees
 * with the generic step fed one token at a time. The caches written either
 * way (data: an AneLlamaCacheWrite): slice_update also writes the padding's
 * rows 9..15, which the decode steps then write again before they see
 * them. */
static void
test_prefill_then_decode (gconstpointer data)
{
  AneLlamaCacheWrite form = GPOINTER_TO_INT (data);
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  static const gint32 tokens[] = { 1, 403, 407, 261, 378, 1254 % 512, 282, 395, 29, 417, 296, 260, 13, 348, 279, 400 };
  const gsize n = G_N_ELEMENTS (tokens), first = 9, step = 8;
  gint64 vocab = ane_llama_model_get_vocab_size (m);
  g_autofree float *want = generic_logits (m, tokens, n);
  gint64 L = ane_llama_model_get_n_layers (m);
  g_autoptr(AneGraph) pg = ane_llama_model_build_ane_step (m, step, MAX_SEQ, 0, L, ANE_LLAMA_HEAD_LOGITS, form, &error);
  g_autoptr(AneGraph) dg = NULL;
  g_autoptr(AneExecutable) pe = NULL;
  g_autoptr(AneExecutable) de = NULL;
  g_autoptr(GPtrArray) states = NULL;
  double worst = 0;

  g_assert_no_error (error);
  dg = ane_llama_model_build_ane_step (m, 1, MAX_SEQ, 0, L, ANE_LLAMA_HEAD_LOGITS, form, &error);
  g_assert_no_error (error);
  pe = compiled (pg, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
  de = compiled (dg, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);

  /* tokens 0..7 in one call, 8 in a padded second call from start 8 */
  for (gsize start = 0; start < first; start += step)
    {
      gsize count = MIN (step, first - start);
      g_autoptr(GPtrArray) in = ane_llama_model_ane_step_inputs (m, form, tokens + start, count, (gint64) start,
                                                                 (gint64) step, MAX_SEQ, &error);
      g_autoptr(GPtrArray) out = NULL;
      g_autofree float *l = NULL;
      gsize nl;

      g_assert_no_error (error);
      out = ane_executable_run (pe, (AneTensor **) in->pdata, in->len, NULL, &error);
      g_assert_no_error (error);
      l = ane_tensor_dup_floats (g_ptr_array_index (out, 0), &nl, &error);
      g_assert_cmpuint (nl, ==, (gsize) vocab * step);
      for (gsize i = 0; i < count; i++)
        for (gint64 v = 0; v < vocab; v++)
          worst = MAX (worst, fabs ((double) l[v * step + i] - (double) want[(start + i) * vocab + v]));
    }
  states = ane_graph_list_states (pg);
  for (guint i = 0; i < states->len; i++)
    {
      const char *name = ane_tensor_get_name (g_ptr_array_index (states, i));
      g_autoptr(AneTensor) value = ane_executable_dup_state (pe, name, &error);

      g_assert_no_error (error);
      g_assert_true (ane_executable_set_state (de, name, value, &error));
    }
  for (gsize pos = first; pos < n; pos++)
    {
      g_autoptr(GPtrArray) in = ane_llama_model_ane_step_inputs (m, form, &tokens[pos], 1, (gint64) pos, 1, MAX_SEQ,
                                                                 &error);
      g_autoptr(GPtrArray) out = ane_executable_run (de, (AneTensor **) in->pdata, in->len, NULL, &error);
      g_autofree float *l = NULL;
      gsize nl;

      g_assert_no_error (error);
      l = ane_tensor_dup_floats (g_ptr_array_index (out, 0), &nl, &error);
      for (gint64 v = 0; v < vocab; v++)
        worst = MAX (worst, fabs ((double) l[v] - (double) want[pos * vocab + v]));
    }
  g_test_message ("prefill + decode against the generic step: largest logit difference %g", worst);
  g_assert_cmpfloat (worst, <, PREFILL_BOUND);
}

/* The decode step in three chunks (layers 0-2, layers 3-4, the final norm
 * and classifier alone), run in order: the logits of the whole step. */
static void
test_chunks (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  gint64 L = ane_llama_model_get_n_layers (m), vocab = ane_llama_model_get_vocab_size (m);
  g_autoptr(AneGraph) whole = ane_llama_model_build_ane_decode (m, MAX_SEQ, &error);
  g_autoptr(AneGraph) c0 = ane_llama_model_build_ane_chunk (m, 1, MAX_SEQ, 0, 3, FALSE, &error);
  g_autoptr(AneGraph) c1 = ane_llama_model_build_ane_chunk (m, 1, MAX_SEQ, 3, L - 3, FALSE, &error);
  g_autoptr(AneGraph) head = ane_llama_model_build_ane_chunk (m, 1, MAX_SEQ, L, 0, TRUE, &error);
  g_autoptr(AneExecutable) ew = NULL;
  g_autoptr(AneExecutable) e0 = NULL;
  g_autoptr(AneExecutable) e1 = NULL;
  g_autoptr(AneExecutable) eh = NULL;
  gint32 token = 1;
  double worst = 0;

  g_assert_no_error (error);
  ew = compiled (whole, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
  e0 = compiled (c0, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
  e1 = compiled (c1, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
  eh = compiled (head, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
  for (gint32 pos = 0; pos < 8; pos++)
    {
      g_autoptr(GPtrArray) in = ane_llama_model_ane_decode_inputs (m, token, pos, MAX_SEQ, &error);
      g_autoptr(GPtrArray) want = ane_executable_run (ew, (AneTensor **) in->pdata, in->len, NULL, &error);
      g_autoptr(GPtrArray) h0 = NULL;
      g_autoptr(GPtrArray) h1 = NULL;
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(AneTensor) x_head = NULL;
      g_autofree float *a = NULL;
      g_autofree float *b = NULL;
      gsize na, nb;

      g_assert_no_error (error);
      h0 = ane_executable_run (e0, (AneTensor **) in->pdata, in->len, NULL, &error);
      g_assert_no_error (error);
      /* the next chunk's x is this one's hidden */
      g_object_unref (in->pdata[0]);
      in->pdata[0] = ane_tensor_rename (g_ptr_array_index (h0, 0), "x");
      h1 = ane_executable_run (e1, (AneTensor **) in->pdata, in->len, NULL, &error);
      g_assert_no_error (error);
      x_head = ane_tensor_rename (g_ptr_array_index (h1, 0), "x");
      got = ane_executable_run (eh, &x_head, 1, NULL, &error);
      g_assert_no_error (error);
      a = ane_tensor_dup_floats (g_ptr_array_index (want, 0), &na, &error);
      b = ane_tensor_dup_floats (g_ptr_array_index (got, 0), &nb, &error);
      g_assert_cmpuint (na, ==, (gsize) vocab);
      g_assert_cmpuint (nb, ==, (gsize) vocab);
      for (gsize i = 0; i < na; i++)
        worst = MAX (worst, fabs ((double) a[i] - (double) b[i]));
      token = (gint32) ((token * 31 + 7) % vocab);
    }
  g_test_message ("chunked decode against the whole step: largest logit difference %g", worst);
  g_assert_cmpfloat (worst, <, 1e-4);
  g_assert_null (ane_llama_model_build_ane_chunk (m, 1, MAX_SEQ, 3, L, FALSE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
}

/* A vocabulary wider than the Neural Engine's 16384 channels: the
 * classifier comes out in two parts, which gathered give the generic
 * step's logits; the lint finds nothing too wide or off the Neural Engine. */
static void
test_wide_vocabulary (void)
{
  const AneGgufSyntheticLlama spec = {
    .dim = 64, .hidden = 128, .layers = 2, .heads = 4, .kv_heads = 2, .vocab = 20000, .context = MAX_SEQ,
    .matrices = ANE_DTYPE_FLOAT16, .seed = 7,
  };
  g_autofree char *dir = g_dir_make_tmp ("ane-wide-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "wide.gguf", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = NULL;
  g_autoptr(AneGraph) generic = NULL;
  g_autoptr(AneGraph) ane = NULL;
  g_autoptr(AneExecutable) eg = NULL;
  g_autoptr(AneExecutable) ea = NULL;
  g_autoptr(GPtrArray) outs = NULL;
  g_autoptr(AneLintReport) report = NULL;
  g_autofree float *got = g_new (float, spec.vocab);
  gint32 token = 3;
  double worst = 0;

  g_assert_true (ane_gguf_write_synthetic_llama (path, &spec, &error));
  g_assert_no_error (error);
  m = ane_llama_model_load_gguf (path, &error);
  g_assert_no_error (error);
  generic = ane_llama_model_build_decode (m, MAX_SEQ, &error);
  ane = ane_llama_model_build_ane_decode (m, MAX_SEQ, &error);
  g_assert_no_error (error);
  outs = ane_graph_list_outputs (ane);
  g_assert_cmpuint (outs->len, ==, 2);
  g_assert_cmpstr (ane_tensor_get_name (g_ptr_array_index (outs, 0)), ==, "logits_0");
  g_assert_cmpint (ane_tensor_get_dim (g_ptr_array_index (outs, 1), 1), ==, 10000);
  eg = compiled (generic, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
  ea = compiled (ane, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
  for (gint32 pos = 0; pos < 4; pos++)
    {
      g_autoptr(AneTensor) t_tok = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &token, 1, NULL);
      g_autoptr(AneTensor) t_pos = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &pos, 1, NULL);
      AneTensor *gin[2] = { t_tok, t_pos };
      g_autoptr(GPtrArray) ain = ane_llama_model_ane_decode_inputs (m, token, pos, MAX_SEQ, &error);
      g_autoptr(GPtrArray) gout = ane_executable_run (eg, gin, 2, NULL, &error);
      g_autoptr(GPtrArray) aout = NULL;
      g_autofree float *want = NULL;
      gsize n;

      g_assert_no_error (error);
      aout = ane_executable_run (ea, (AneTensor **) ain->pdata, ain->len, NULL, &error);
      g_assert_no_error (error);
      want = ane_tensor_dup_floats (g_ptr_array_index (gout, 0), &n, &error);
      g_assert_cmpuint (n, ==, (gsize) spec.vocab);
      g_assert_true (ane_llama_ane_logits_column (aout, spec.vocab, 1, 0, got, &error));
      g_assert_no_error (error);
      for (gint64 v = 0; v < spec.vocab; v++)
        worst = MAX (worst, fabs ((double) got[v] - (double) want[v]));
      token = (gint32) ((token * 7919 + 13) % spec.vocab);
    }
  g_test_message ("vocabulary of 20000 in two parts against the generic step: largest difference %g", worst);
  g_assert_cmpfloat (worst, <, FP32_BOUND);
  report = ane_graph_lint (ane, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, ANE_LINT_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_lint_report_count_rule (report, "dim-above-16384"), ==, 0);
  g_assert_cmpuint (ane_lint_report_count_ops (report, NULL, ANE_LINT_VERDICT_FALLS_BACK), ==, 0);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_prefill_lint (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_llama_model_build_ane_prefill (m, 64, ane_llama_model_get_seq_len (m), &error);
  g_autoptr(AneLintReport) report = NULL;
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  report = ane_graph_lint (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, ANE_LINT_NONE, &error);
  g_assert_no_error (error);
  text = ane_lint_report_to_string (report);
  g_test_message ("%s", text);
  g_assert_cmpuint (ane_lint_report_count_ops (report, NULL, ANE_LINT_VERDICT_FALLS_BACK), ==, 0);
  g_assert_cmpfloat (ane_lint_report_get_ane_cost_share (report, NULL), ==, 1.0);
  g_assert_null (ane_llama_model_build_ane_prefill (m, 1, 64, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
}

/* Generation through the Neural Engine-shaped step (inputs computed between
 * steps) tells the same story as through the generic one. */
static void
test_generate_same_text (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autoptr(GError) error = NULL;
  g_autofree char *generic = ane_llama_generate_layout (m, tok, "Once upon a time", 80, ANE_BACKEND_CPU,
                                                        ANE_PRECISION_FLOAT32, FALSE, 0.0, 0.9, 1, NULL, NULL,
                                                        NULL, &error);
  g_autofree char *ane = NULL;

  g_assert_no_error (error);
  ane = ane_llama_generate_layout (m, tok, "Once upon a time", 80, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, TRUE,
                                   0.0, 0.9, 1, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (generic), >, 100);
  g_assert_cmpstr (ane, ==, generic);
}

static void
test_errors (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_llama_model_build_ane_decode (m, 0, &error);
  g_autoptr(GPtrArray) in = NULL;

  g_assert_null (g);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  in = ane_llama_model_ane_decode_inputs (m, 1, MAX_SEQ, MAX_SEQ, &error);
  g_assert_null (in);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* slice_update writes the whole padded block: one past the cache end is
   * refused on the host, the program never sees its box; the one-hot form
   * writes the real tokens only, which fit */
  {
    static const gint32 two[] = { 1, 2 };
    g_autoptr(GPtrArray) past = ane_llama_model_ane_prefill_inputs (m, two, 2, MAX_SEQ - 4, 8, MAX_SEQ, &error);
    g_autoptr(GPtrArray) last = NULL;
    g_autoptr(GPtrArray) hot = NULL;
    AneTensor *end;
    g_autofree float *box = NULL;
    gsize n;

    g_assert_null (past);
    ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "past the cache", "start the block", NULL);
    last = ane_llama_model_ane_prefill_inputs (m, two, 2, MAX_SEQ - 8, 8, MAX_SEQ, &error);
    g_assert_no_error (error);
    end = g_ptr_array_index (last, last->len - 1);
    g_assert_cmpstr (ane_tensor_get_name (end), ==, "write_end");
    g_assert_cmpint (ane_tensor_get_dtype (end), ==, ANE_DTYPE_INT32);
    box = ane_tensor_dup_floats (end, &n, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (n, ==, 4);
    g_assert_cmpfloat (box[3], ==, MAX_SEQ);
    g_assert_cmpfloat (box[1], ==, ane_llama_model_get_n_kv_heads (m) * (ane_llama_model_get_dim (m) /
                                                                        ane_llama_model_get_n_heads (m)));
    hot = ane_llama_model_ane_step_inputs (m, ANE_LLAMA_CACHE_WRITE_ONE_HOT, two, 2, MAX_SEQ - 4, 8, MAX_SEQ, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (ane_tensor_get_name (g_ptr_array_index (hot, hot->len - 1)), ==, "place");
  }
}

int
main (int argc, char *argv[])
{
  static const AneTestGgufVariant f32 = { .arch = "llama" }, q8 = { .arch = "llama", .q8_0 = TRUE },
                                  q4 = { .arch = "llama", .quant = ANE_DTYPE_Q4_0 },
                                  qwen2 = { .arch = "qwen2", .biases = TRUE };

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/llama-ane/stories/cpu-fp32", test_stories_cpu_fp32);
  g_test_add_func ("/llama-ane/stories/reference", test_stories_reference);
  g_test_add_func ("/llama-ane/stories/cpu-fp16", test_stories_cpu_fp16);
  g_test_add_data_func ("/llama-ane/gguf/f32", &f32, test_gguf);
  g_test_add_data_func ("/llama-ane/gguf/q8_0", &q8, test_gguf);
  g_test_add_data_func ("/llama-ane/gguf/q4_0", &q4, test_gguf);
  g_test_add_data_func ("/llama-ane/gguf/qwen2", &qwen2, test_gguf);
  g_test_add_func ("/llama-ane/lint", test_lint_stays_on_ane);
  g_test_add_func ("/llama-ane/generate", test_generate_same_text);
  g_test_add_data_func ("/llama-ane/prefill/slice-update", GINT_TO_POINTER (ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE),
                        test_prefill_then_decode);
  g_test_add_data_func ("/llama-ane/prefill/one-hot", GINT_TO_POINTER (ANE_LLAMA_CACHE_WRITE_ONE_HOT),
                        test_prefill_then_decode);
  g_test_add_func ("/llama-ane/prefill-lint", test_prefill_lint);
  g_test_add_func ("/llama-ane/chunks", test_chunks);
  g_test_add_func ("/llama-ane/wide-vocabulary", test_wide_vocabulary);
  g_test_add_func ("/llama-ane/errors", test_errors);
  return g_test_run ();
}
