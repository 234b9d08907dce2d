/* test-trainer.c: AneTrainer on the bundled stories260K
 *
 * - the optimizer's updates against values worked out by hand;
 * - 100 AdamW steps on a fixed short text lower the training loss by a
 *   stated margin, and the same seed gives the same losses, bit for bit,
 *   on 1 and 2 threads;
 * - a checkpoint resumes exactly (the losses after it are those of the
 *   uninterrupted run), the llama2.c export loads and generates;
 * - the ANE backend (the fake runtime interpreting the MIL) gives the CPU
 *   backend's fp16 losses and compiles once for every step;
 * - the errors name what is wrong.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "ane-test-util.h"
#include "ane-test-gguf.h"
#include "ane-fake-ane.h"
#include "train/ane-optimizer-private.h"

/* A short fixed text in stories260K's style. */
static const char text[] =
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the sun. "
  "One day, she saw a big red ball in the park. She ran to the ball and kicked it high. "
  "The ball flew over the tree and Lily laughed. Her mom said, \"Lily, it is time to go home.\" "
  "Lily was happy and went home with her mom.";

#define SEQ 32

static gint32 *
text_tokens (gsize *n)
{
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  gint32 *ids = ane_tokenizer_encode (tok, text, TRUE, FALSE, n);

  g_assert_nonnull (ids);
  g_assert_cmpuint (*n, >, 2 * (SEQ + 1));
  return ids;
}

static AneTrainer *
new_trainer_full (AneBackend       backend,
                  AnePrecision     precision,
                  AneTrainerLayout layout)
{
  g_autoptr(AneLlamaModel) model = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  AneTrainer *t = ane_trainer_new_full (model, SEQ, backend, precision, layout, &error);

  g_assert_no_error (error);
  ane_trainer_set_learning_rate (t, 2e-3);
  return t;
}

static AneTrainer *
new_trainer (AneBackend   backend,
             AnePrecision precision)
{
  g_autoptr(AneLlamaModel) model = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  AneTrainer *t = ane_trainer_new (model, SEQ, backend, precision, &error);

  g_assert_no_error (error);
  ane_trainer_set_learning_rate (t, 2e-3);
  return t;
}

/* The losses of n steps of batch 2 drawn with seed 7. */
static double *
losses_of (AneTrainer *t,
           guint       n)
{
  gsize n_data;
  g_autofree gint32 *data = text_tokens (&n_data);
  double *losses = g_new (double, n);
  g_autoptr(GError) error = NULL;

  for (guint s = 0; s < n; s++)
    {
      g_assert_true (ane_trainer_train (t, data, n_data, 1, 2, 7, NULL, &error));
      g_assert_no_error (error);
      losses[s] = ane_trainer_get_last_loss (t);
    }
  return losses;
}

static void
test_optimizer (void)
{
  /* AdamW's first step moves each weight by lr·g/(|g| + eps) after the
   * decay w·(1 − lr·wd): bias correction makes m̂ = g and v̂ = g². */
  float w[3] = { 1.0f, -2.0f, 0.5f }, g[3] = { 0.25f, -4.0f, 0.0f }, m[3] = { 0 }, v[3] = { 0 };
  AneOptimizerStep o = { ANE_OPTIMIZER_ADAMW, 0.1, 0.01, 0.0, 0.9, 0.999, 1e-8, 1, 1.0 };

  ane_optimizer_update (&o, w, g, m, v, 3, TRUE);
  g_assert_cmpfloat_with_epsilon (w[0], 1.0 * (1 - 0.001) - 0.1 * 0.25 / (0.25 + 1e-8), 1e-6);
  g_assert_cmpfloat_with_epsilon (w[1], -2.0 * (1 - 0.001) + 0.1, 1e-6);
  g_assert_cmpfloat_with_epsilon (w[2], 0.5 * (1 - 0.001), 1e-7);
  g_assert_cmpfloat_with_epsilon (m[1], -0.4, 1e-6);
  g_assert_cmpfloat_with_epsilon (v[1], 0.016, 1e-6);

  /* second step, same gradient: m = 0.19·g·... worked out in double */
  {
    double m1 = 0.1 * 0.25, v1 = 0.001 * 0.0625, w1 = w[0];
    double m2 = 0.9 * m1 + 0.1 * 0.25, v2 = 0.999 * v1 + 0.001 * 0.0625;
    double want = w1 * (1 - 0.001) - 0.1 * (m2 / (1 - 0.81)) / (sqrt (v2 / (1 - 0.999 * 0.999)) + 1e-8);

    o.step = 2;
    ane_optimizer_update (&o, w, g, m, v, 3, TRUE);
    g_assert_cmpfloat_with_epsilon (w[0], want, 1e-6);
  }

  /* SGD with momentum 0.5, no decay: buf = g, then 0.5·g + g */
  {
    float ws[1] = { 1.0f }, gs[1] = { 2.0f }, ms[1] = { 0 };
    AneOptimizerStep s = { ANE_OPTIMIZER_SGD, 0.1, 0.0, 0.5, 0, 0, 0, 1, 1.0 };

    ane_optimizer_update (&s, ws, gs, ms, NULL, 1, TRUE);
    g_assert_cmpfloat_with_epsilon (ws[0], 0.8, 1e-7);
    s.step = 2;
    ane_optimizer_update (&s, ws, gs, ms, NULL, 1, TRUE);
    g_assert_cmpfloat_with_epsilon (ws[0], 0.8 - 0.1 * 3.0, 1e-7);
    /* the gradient's scale (a batch's mean, the clipping) applies first */
    s.grad_scale = 0.5;
    ane_optimizer_update (&s, ws, gs, ms, NULL, 1, TRUE);
    g_assert_cmpfloat_with_epsilon (ws[0], 0.5 - 0.1 * (0.5 * 3.0 + 1.0), 1e-6);
  }

  /* the schedule: warm-up 10 steps to 1.0, cosine to 0.1 at 110 */
  g_assert_cmpfloat_with_epsilon (ane_optimizer_schedule (1.0, 0, 10, 110, 0.1), 0.1, 1e-12);
  g_assert_cmpfloat_with_epsilon (ane_optimizer_schedule (1.0, 9, 10, 110, 0.1), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (ane_optimizer_schedule (1.0, 60, 10, 110, 0.1), 0.55, 1e-12);
  g_assert_cmpfloat_with_epsilon (ane_optimizer_schedule (1.0, 110, 10, 110, 0.1), 0.1, 1e-12);
  g_assert_cmpfloat_with_epsilon (ane_optimizer_schedule (1.0, 500, 10, 0, 0.1), 1.0, 1e-12);
}

/* 100 AdamW steps: the loss on the text falls by at least half (measured:
 * see the g_test_message), the same on 1 and 2 threads. */
static void
test_adamw_100 (void)
{
  guint saved = ane_get_num_threads ();
  g_autofree double *one = NULL, *two = NULL;
  gsize n_data;
  g_autofree gint32 *data = text_tokens (&n_data);
  g_autoptr(GError) error = NULL;
  double before, after;
  g_autoptr(AneTrainer) t = NULL;

  ane_set_num_threads (1);
  {
    g_autoptr(AneTrainer) t1 = new_trainer (ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
    one = losses_of (t1, 100);
  }
  ane_set_num_threads (2);
  {
    g_autoptr(AneTrainer) t2 = new_trainer (ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
    two = losses_of (t2, 100);
  }
  ane_set_num_threads (saved);
  for (guint s = 0; s < 100; s++)
    g_assert_cmpfloat (one[s], ==, two[s]);

  /* the loss over the whole text (its first windows), before and after */
  t = new_trainer (ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_trainer_evaluate (t, data, 2 * (SEQ + 1), &before, &error));
  g_assert_true (ane_trainer_train (t, data, n_data, 100, 2, 7, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ane_trainer_evaluate (t, data, 2 * (SEQ + 1), &after, &error));
  g_test_message ("100 AdamW steps: loss %.4f -> %.4f (first step %.4f, last %.4f)", before, after, one[0], one[99]);
  g_assert_cmpfloat (after, <, 0.5 * before);
  g_assert_cmpuint (ane_trainer_get_step (t), ==, 100);
}

/* Saving after 5 steps and resuming in a new trainer gives the losses of
 * the uninterrupted run, bit for bit; the llama2.c export loads with the
 * trained weights and generates. */
static void
test_checkpoint (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ane-trainer-XXXXXX", NULL);
  g_autofree char *ckpt = g_build_filename (dir, "ckpt.safetensors", NULL);
  g_autofree char *bin = g_build_filename (dir, "tuned.bin", NULL);
  g_autoptr(AneTrainer) a = new_trainer (ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
  g_autoptr(AneTrainer) b = new_trainer (ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
  g_autoptr(GError) error = NULL;
  g_autofree double *first = NULL, *rest = NULL, *resumed = NULL;
  g_autoptr(AneLlamaModel) tuned = NULL;
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autofree char *story = NULL;

  ane_trainer_set_weight_decay (a, 0.1);
  ane_trainer_set_clip_norm (a, 1.0);
  ane_trainer_set_schedule (a, 2, 10, 0.1);
  first = losses_of (a, 5);
  g_assert_true (ane_trainer_save (a, ckpt, &error));
  g_assert_no_error (error);
  rest = losses_of (a, 5);

  /* b starts with other settings: the checkpoint brings a's */
  ane_trainer_set_optimizer (b, ANE_OPTIMIZER_SGD);
  g_assert_true (ane_trainer_load (b, ckpt, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ane_trainer_get_step (b), ==, 5);
  g_assert_cmpint (ane_trainer_get_optimizer (b), ==, ANE_OPTIMIZER_ADAMW);
  resumed = losses_of (b, 5);
  for (guint s = 0; s < 5; s++)
    g_assert_cmpfloat (rest[s], ==, resumed[s]);
  g_assert_cmpfloat (ane_trainer_get_current_learning_rate (b), ==, ane_trainer_get_current_learning_rate (a));

  /* the export: the weights read back are the trainer's */
  ane_trainer_export_llama2c (b, bin, &error);
  g_assert_no_error (error);
  tuned = ane_llama_model_load_llama2c (bin, &error);
  g_assert_no_error (error);
  for (const char *const *name = (const char *const[]) { "token_embedding", "layers.3.wq", "layers.4.w2",
                                                        "final_norm", NULL };
       *name != NULL; name++)
    {
      g_autoptr(AneTensor) want = ane_trainer_dup_weight (b, *name, &error);
      AneTensor *got = ane_llama_model_get_weight (tuned, *name);
      GBytes *wb, *gb;

      g_assert_no_error (error);
      g_assert_nonnull (got);
      wb = ane_tensor_get_data (want);
      gb = ane_tensor_get_data (got);
      g_assert_true (g_bytes_equal (wb, gb));
    }
  story = ane_llama_model_generate (tuned, tok, "Once upon a time", 24, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32,
                                    0.0, 0.9, 1, NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("tuned model: %s", story);
  g_assert_cmpuint (strlen (story), >, 16);

  g_assert_cmpint (g_unlink (ckpt), ==, 0);
  g_assert_cmpint (g_unlink (bin), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* The ANE backend on the fake runtime (interpreting the MIL at fp16) gives
 * the CPU backend's fp16 losses, and compiles once for all the steps: the
 * weights travel as inputs. */
static void
test_ane_fake (void)
{
  g_autofree double *cpu = NULL, *ane = NULL;
  guint compiles;

  {
    g_autoptr(AneTrainer) t = new_trainer_full (ANE_BACKEND_CPU, ANE_PRECISION_FLOAT16, ANE_TRAINER_LAYOUT_KERNELS);
    cpu = losses_of (t, 4);
  }
  fake_setup ();
  fake.interpret = TRUE;
  compiles = fake.n_compile;
  {
    g_autoptr(AneTrainer) t = new_trainer (ANE_BACKEND_ANE, ANE_PRECISION_FLOAT16);

    g_assert_cmpint (ane_trainer_get_layout (t), ==, ANE_TRAINER_LAYOUT_KERNELS);
    g_assert_cmpuint (ane_trainer_get_n_kernels (t), ==, 3);
    /* each kernel's weights travel in one surface: one param, "weights" */
    for (guint k = 0; k < 3; k++)
      {
        g_autoptr(GPtrArray) params = ane_graph_list_params (ane_trainer_get_kernel_graph (t, k));
        g_autoptr(AneLintReport) report = NULL;
        g_autofree char *summary = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_cmpuint (params->len, ==, 1);
        g_assert_cmpstr (ane_tensor_get_name (params->pdata[0]), ==, "weights");
        report = ane_graph_lint (ane_trainer_get_kernel_graph (t, k), ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, 0,
                                 &error);
        g_assert_no_error (error);
        summary = ane_lint_report_get_summary (report);
        g_test_message ("packed %s: %s", ane_trainer_get_kernel_name (t, k), summary);
        /* [rows, width] keeps every axis within the Neural Engine's 16384 */
        g_assert_cmpuint (ane_lint_report_count_ops (report, NULL, ANE_LINT_VERDICT_FALLS_BACK), ==, 0);
      }
    /* the three kernels, compiled when the trainer was made */
    g_assert_cmpuint (fake.n_compile, ==, compiles + 3);
    ane = losses_of (t, 4);
    /* and never again: 4 steps × 2 sequences × (5 layers × 2 + 1) runs */
    g_assert_cmpuint (fake.n_compile, ==, compiles + 3);
  }
  fake_teardown ();
  for (guint s = 0; s < 4; s++)
    {
      g_test_message ("step %u: cpu fp16 %.6f, fake ANE %.6f", s, cpu[s], ane[s]);
      g_assert_cmpfloat (fabs (cpu[s] - ane[s]), <=, 1e-6 * fabs (cpu[s]));
    }
}

/* The kernels layout computes what the whole program does: the same
 * losses over 10 steps at fp32 (the sums run in another order: 1e-5), and
 * the same weights after them; each kernel lints. */
static void
test_kernels (void)
{
  g_autoptr(AneTrainer) whole = new_trainer_full (ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, ANE_TRAINER_LAYOUT_WHOLE);
  g_autoptr(AneTrainer) kern = new_trainer_full (ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, ANE_TRAINER_LAYOUT_KERNELS);
  g_autofree double *a = NULL, *b = NULL;
  g_autoptr(GError) error = NULL;
  const char *names[] = { "layer_forward", "layer_backward", "head" };

  g_assert_cmpuint (ane_trainer_get_n_kernels (whole), ==, 1);
  g_assert_cmpstr (ane_trainer_get_kernel_name (whole, 0), ==, "step");
  g_assert_cmpuint (ane_trainer_get_n_kernels (kern), ==, 3);
  g_assert_cmpint (ane_trainer_get_n_params (kern), ==, ane_trainer_get_n_params (whole));
  a = losses_of (whole, 10);
  b = losses_of (kern, 10);
  for (guint s = 0; s < 10; s++)
    {
      g_test_message ("step %u: whole %.7f, kernels %.7f", s, a[s], b[s]);
      g_assert_cmpfloat (fabs (a[s] - b[s]), <=, 1e-5 * fabs (a[s]));
    }
  for (const char *const *name = (const char *const[]) { "token_embedding", "layers.0.wq", "layers.4.w2",
                                                        "layers.2.ffn_norm", "final_norm", NULL };
       *name != NULL; name++)
    {
      g_autoptr(AneTensor) wa = ane_trainer_dup_weight (whole, *name, &error);
      g_autoptr(AneTensor) wb = ane_trainer_dup_weight (kern, *name, &error);
      gsize n, m;
      g_autofree float *va = ane_tensor_dup_floats (wa, &n, &error);
      g_autofree float *vb = ane_tensor_dup_floats (wb, &m, &error);
      double worst = 0;

      g_assert_no_error (error);
      g_assert_cmpuint (n, ==, m);
      for (gsize i = 0; i < n; i++)
        worst = MAX (worst, fabs (va[i] - vb[i]));
      g_test_message ("%s: largest difference %.2e", *name, worst);
      g_assert_cmpfloat (worst, <=, 1e-4);
    }
  for (guint k = 0; k < 3; k++)
    {
      g_autoptr(AneLintReport) report = NULL;
      g_autofree char *summary = NULL;

      g_assert_cmpstr (ane_trainer_get_kernel_name (kern, k), ==, names[k]);
      report = ane_graph_lint (ane_trainer_get_kernel_graph (kern, k), ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, 0,
                               &error);
      g_assert_no_error (error);
      g_assert_cmpuint (ane_lint_report_get_n_ops (report), >, 0);
      summary = ane_lint_report_get_summary (report);
      g_test_message ("%s: %s", names[k], summary);
      g_assert_cmpuint (ane_lint_report_count_ops (report, NULL, ANE_LINT_VERDICT_FALLS_BACK), ==, 0);
    }
}

static void
test_errors (void)
{
  g_autoptr(AneTrainer) t = new_trainer (ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32);
  g_autoptr(AneLlamaModel) model = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  gint32 tokens[2 * (SEQ + 1)] = { 0 };
  double loss;
  g_autofree char *dir = g_dir_make_tmp ("ane-trainer-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename (dir, "g.safetensors", NULL);

  /* not whole sequences */
  g_assert_false (ane_trainer_step (t, tokens, SEQ, &loss, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "seq_len + 1 = 33"));
  g_clear_error (&error);
  /* a token outside the vocabulary */
  tokens[40] = 512;
  g_assert_false (ane_trainer_step (t, tokens, 2 * (SEQ + 1), &loss, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "token 40 is 512"));
  g_clear_error (&error);
  g_assert_cmpuint (ane_trainer_get_step (t), ==, 0);
  /* too little data */
  g_assert_false (ane_trainer_train (t, tokens, SEQ, 1, 1, 0, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* a sequence longer than the model's context */
  g_assert_null (ane_trainer_new (model, 4096, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* a checkpoint that is no trainer's: a plain safetensors file */
  {
    g_autoptr(AneTensor) x = ane_tensor_new_zeros ("x", ANE_DTYPE_FLOAT32, (const gint64[]) { 2 }, 1, &error);
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autofree char *json = g_build_filename (dir, "g.json", NULL);
    g_autoptr(AneTensor) p = ane_graph_param_with_value (g, x, &error);
    g_autoptr(AneTensor) y = ane_graph_relu (g, p, &error);

    g_assert_true (ane_graph_add_output (g, "y", y, &error));
    g_assert_true (ane_graph_save (g, json, &error));
    g_assert_no_error (error);
    g_assert_false (ane_trainer_load (t, bad, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
    g_assert_nonnull (strstr (error->message, "not a trainer checkpoint"));
    g_clear_error (&error);
    g_unlink (json);
  }
  g_assert_false (ane_trainer_load (t, "/nonexistent/ckpt.safetensors", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* block-quantized weights cannot be trained */
  {
    AneTestGgufVariant v = { 0 };
    g_autofree char *gguf = NULL;
    g_autoptr(AneLlamaModel) q = NULL;

    v.arch = "llama";
    v.q8_0 = TRUE;
    gguf = ane_test_write_stories_gguf (dir, "q8.gguf", &v);
    q = ane_llama_model_load_gguf (gguf, &error);
    g_assert_no_error (error);
    g_assert_null (ane_trainer_new (q, SEQ, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "q8_0"));
    g_test_message ("%s", error->message);
    g_clear_error (&error);
    g_unlink (gguf);
  }
  g_unlink (bad);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trainer/optimizer", test_optimizer);
  g_test_add_func ("/trainer/adamw-100", test_adamw_100);
  g_test_add_func ("/trainer/checkpoint", test_checkpoint);
  g_test_add_func ("/trainer/ane-fake", test_ane_fake);
  g_test_add_func ("/trainer/kernels", test_kernels);
  g_test_add_func ("/trainer/errors", test_errors);
  return g_test_run ();
}
