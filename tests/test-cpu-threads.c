/* test-cpu-threads.c: the CPU backend's results do not depend on its thread
 * count, and its pool survives contention
 *
 * - /ane/cpu/threads/kernels: graphs whose shapes make each parallelized
 *   kernel split its work (a 1-row linear, the decode shape; a many-row
 *   matmul; conv, depthwise convs, and a 1×1 conv at one position; softmax; layer_norm; rms_norm; reductions; elementwise
 *   add/silu; attention over 8 heads) run at 1, 2, 3 and 4 threads
 *   (ane_set_num_threads): every output equal bit for bit to the 1-thread run.
 * - /ane/cpu/threads/stories: a stories260K prefill of 32 tokens, the same.
 * - /ane/cpu/threads/contention: four threads each running their own
 *   executable over and over, with the pool at 4 threads, all results equal
 *   to a serial run (the extra callers compute on their own thread).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-test-gguf.h"
#include "ane-test-util.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

/* Uniform in [-1, 1), seeded. */
static AneTensor *
rnd (const char   *name,
     const gint64 *shape,
     guint         rank,
     guint32       seed)
{
  return ane_test_tensor_random (name, shape, rank, seed, -1.0f, 1.0f);
}

#define OK(expr) ({ __auto_type _r = (expr); g_assert_no_error (_e); _r; })

/* Every parallelized kernel family as outputs of one graph; inputs x
 * [64, 512], x1 [1, 512] and q, k, v [1, 8, 16, 64]. */
static AneGraph *
kernels_graph (void)
{
  g_autoptr(GError) _e = NULL;
  AneGraph *g = ane_graph_new ();
  static const gint64 xs[] = { 64, 512 };
  g_autoptr(AneTensor) w_dec = rnd ("w_dec", (const gint64[]) { 512, 1024 }, 2, 2);
  g_autoptr(AneTensor) w_pre = rnd ("w_pre", (const gint64[]) { 512, 300 }, 2, 3);
  g_autoptr(AneTensor) gamma = rnd ("gamma", (const gint64[]) { 512 }, 1, 4);
  g_autoptr(AneTensor) cw = rnd ("cw", (const gint64[]) { 48, 8, 3, 3 }, 4, 5);
  g_autoptr(AneTensor) pw = rnd ("pw", (const gint64[]) { 1024, 512, 1, 1 }, 4, 6);
  g_autoptr(AneTensor) dw5 = rnd ("dw5", (const gint64[]) { 8, 1, 5, 5 }, 4, 7);
  g_autoptr(AneTensor) dw3 = rnd ("dw3", (const gint64[]) { 16, 1, 3, 3 }, 4, 8);
  AneTensor *x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
  AneTensor *x1 = ane_test_input (g, "x1", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 512 }, 2);
  AneTensor *q = ane_test_input (g, "q", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 8, 16, 64 }, 4);
  AneTensor *k = ane_test_input (g, "k", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 8, 16, 64 }, 4);
  AneTensor *v = ane_test_input (g, "v", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 8, 16, 64 }, 4);
  AneTensor *img;
  gint64 last = -1;
  AneTensor *silu, *col;

  /* the decode shape: one row against a [512, 1024] weight */
  ane_test_output (g, "linear_1row", OK (ane_graph_matmul (g, x1, ane_test_const (g, w_dec), FALSE, FALSE, &_e)));
  ane_test_output (g, "matmul_rows", OK (ane_graph_matmul (g, x, ane_test_const (g, w_pre), FALSE, FALSE, &_e)));
  ane_test_output (g, "softmax", OK (ane_graph_softmax (g, x, -1, &_e)));
  ane_test_output (g, "layer_norm", OK (ane_graph_layer_norm (g, x, ane_test_const (g, gamma), NULL,
                                                              &last, 1, 1e-5, &_e)));
  ane_test_output (g, "rms_norm", OK (ane_graph_rms_norm (g, x, ane_test_const (g, gamma), 1e-6, &_e)));
  ane_test_output (g, "reduce_sum", OK (ane_graph_reduce_sum (g, x, &last, 1, FALSE, &_e)));
  silu = OK (ane_graph_silu (g, x, &_e));
  ane_test_output (g, "silu_add", OK (ane_graph_add (g, silu, x, &_e)));
  /* 8 heads of 16 positions × 64 */
  ane_test_output (g, "attention", OK (ane_graph_attention (g, q, k, v, NULL, TRUE, 0.0, 0.0, &_e)));
  /* conv: 48 output channels over an 8×32×128 image (a matrix product with
   * 48 rows, split in blocks of rows) */
  img = OK (ane_graph_reshape (g, x, (const gint64[]) { 1, 8, 32, 128 }, 4, &_e));
  ane_test_output (g, "conv", OK (ane_graph_conv (g, img, ane_test_const (g, cw), NULL,
                                                  (const gint64[]) { 1, 1 }, 2, (const gint64[]) { 1, 1, 1, 1 }, 4,
                                                  (const gint64[]) { 1, 1 }, 2, 1, &_e)));
  /* depthwise (ane-cpu-conv-depthwise.c, split over output planes): 5×5
   * at stride 2 with asymmetric padding, and 3×3 with 2 outputs a channel */
  ane_test_output (g, "conv_dw5", OK (ane_graph_conv (g, img, ane_test_const (g, dw5), NULL,
                                                      (const gint64[]) { 2, 2 }, 2, (const gint64[]) { 2, 1, 0, 3 }, 4,
                                                      (const gint64[]) { 1, 1 }, 2, 8, &_e)));
  ane_test_output (g, "conv_dw3", OK (ane_graph_conv (g, img, ane_test_const (g, dw3), NULL,
                                                      (const gint64[]) { 1, 1 }, 2, (const gint64[]) { 1, 1, 1, 1 }, 4,
                                                      (const gint64[]) { 1, 1 }, 2, 8, &_e)));
  /* a 1×1 conv at one position (channels-first decode): 1024 rows × 1 column */
  col = OK (ane_graph_reshape (g, x1, (const gint64[]) { 1, 512, 1, 1 }, 4, &_e));
  ane_test_output (g, "conv_1x1", OK (ane_graph_conv (g, col,
                                                      ane_test_const (g, pw), NULL,
                                                      (const gint64[]) { 1, 1 }, 2, (const gint64[]) { 0, 0, 0, 0 }, 4,
                                                      (const gint64[]) { 1, 1 }, 2, 1, &_e)));
  return g;
}

/* Runs graph on the CPU backend at fp32 (iOS 18: scaled_dot_product_attention
 * is one op) with inputs; the outputs. */
static GPtrArray *
run_cpu (AneGraph   *graph,
         AneTensor **inputs,
         guint       n_inputs)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, ANE_BACKEND_CPU);
  GPtrArray *out;

  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  ane_executable_set_target (exe, ANE_TARGET_IOS18);
  ane_executable_compile (exe, NULL, &error);
  g_assert_no_error (error);
  out = ane_executable_run (exe, inputs, n_inputs, NULL, &error);
  g_assert_no_error (error);
  return out;
}

static void
assert_identical (GPtrArray  *want,
                  GPtrArray  *got,
                  guint       threads)
{
  g_assert_cmpuint (want->len, ==, got->len);
  for (guint i = 0; i < want->len; i++)
    {
      GBytes *a = ane_tensor_get_data (want->pdata[i]);
      GBytes *b = ane_tensor_get_data (got->pdata[i]);

      if (!g_bytes_equal (a, b))
        g_error ("output %s differs at %u threads from the 1-thread run",
                 ane_tensor_get_name (want->pdata[i]), threads);
    }
}

/* The inputs of kernels_graph(). */
static GPtrArray *
kernels_inputs (void)
{
  GPtrArray *in = g_ptr_array_new_with_free_func (g_object_unref);
  static const gint64 qs[] = { 1, 8, 16, 64 };

  g_ptr_array_add (in, rnd ("x", (const gint64[]) { 64, 512 }, 2, 1));
  g_ptr_array_add (in, rnd ("x1", (const gint64[]) { 1, 512 }, 2, 11));
  g_ptr_array_add (in, rnd ("q", qs, 4, 12));
  g_ptr_array_add (in, rnd ("k", qs, 4, 13));
  g_ptr_array_add (in, rnd ("v", qs, 4, 14));
  return in;
}

static void
test_kernels (void)
{
  g_autoptr(AneGraph) g = kernels_graph ();
  g_autoptr(GPtrArray) in = kernels_inputs ();
  g_autoptr(GPtrArray) one = NULL;

  ane_set_num_threads (1);
  one = run_cpu (g, (AneTensor **) in->pdata, in->len);
  for (guint threads = 2; threads <= 4; threads++)
    {
      g_autoptr(GPtrArray) many = NULL;

      ane_set_num_threads (threads);
      g_assert_cmpuint (ane_get_num_threads (), ==, threads);
      many = run_cpu (g, (AneTensor **) in->pdata, in->len);
      assert_identical (one, many, threads);
    }
  /* the pool was used: the worker threads exist (the caller is the other) */
  g_assert_cmpuint (ane_cpu_pool_get_n_workers (), >=, 1);
  ane_set_num_threads (0);
}

static void
test_stories (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneGraph) pre = NULL;
  g_autoptr(AneTensor) t_tok = NULL, t_pos = NULL;
  g_autoptr(GPtrArray) one = NULL;
  gint32 tokens[32], positions[32];
  AneTensor *inputs[2];

  if (m == NULL)
    return;   /* ane_test_load_stories has skipped (or failed, strict) */
  pre = ane_llama_model_build_prefill (m, 32, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 32; i++)
    {
      tokens[i] = (gint32) ((i * 37 + 5) % 512);
      positions[i] = (gint32) i;
    }
  t_tok = ane_tensor_new_from_ints ("tokens", (const gint64[]) { 32 }, 1, tokens, 32, &error);
  g_assert_no_error (error);
  t_pos = ane_tensor_new_from_ints ("positions", (const gint64[]) { 32 }, 1, positions, 32, &error);
  g_assert_no_error (error);
  inputs[0] = t_tok;
  inputs[1] = t_pos;

  ane_set_num_threads (1);
  one = run_cpu (pre, inputs, 2);
  for (guint threads = 2; threads <= 4; threads++)
    {
      g_autoptr(GPtrArray) many = NULL;

      ane_set_num_threads (threads);
      many = run_cpu (pre, inputs, 2);
      assert_identical (one, many, threads);
    }
  ane_set_num_threads (0);
}

typedef struct {
  AneExecutable *exe;
  GPtrArray     *in;
  GPtrArray     *want;
  gint           mismatches;   /* atomic */
} Contender;

#define CONTENTION_RUNS 6

static gpointer
contend (gpointer data)
{
  Contender *c = data;

  for (guint r = 0; r < CONTENTION_RUNS; r++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) out = ane_executable_run (c->exe, (AneTensor **) c->in->pdata,
                                                         c->in->len, NULL, &error);

      g_assert_no_error (error);
      for (guint i = 0; i < out->len; i++)
        {
          GBytes *a = ane_tensor_get_data (c->want->pdata[i]);
          GBytes *b = ane_tensor_get_data (out->pdata[i]);

          if (!g_bytes_equal (a, b))
            g_atomic_int_inc (&c->mismatches);
        }
    }
  return NULL;
}

static void
test_contention (void)
{
  g_autoptr(AneGraph) g = kernels_graph ();
  g_autoptr(GPtrArray) in = kernels_inputs ();
  g_autoptr(GPtrArray) want = NULL;
  Contender c[4];
  GThread *threads[4];

  ane_set_num_threads (1);
  want = run_cpu (g, (AneTensor **) in->pdata, in->len);
  ane_set_num_threads (4);
  for (guint t = 0; t < 4; t++)
    {
      g_autoptr(GError) error = NULL;

      c[t] = (Contender) { ane_executable_new (g, ANE_BACKEND_CPU), in, want, 0 };
      ane_executable_set_precision (c[t].exe, ANE_PRECISION_FLOAT32);
      ane_executable_set_target (c[t].exe, ANE_TARGET_IOS18);
      ane_executable_compile (c[t].exe, NULL, &error);
      g_assert_no_error (error);
    }
  for (guint t = 0; t < 4; t++)
    threads[t] = g_thread_new ("contender", contend, &c[t]);
  for (guint t = 0; t < 4; t++)
    {
      g_thread_join (threads[t]);
      g_assert_cmpint (g_atomic_int_get (&c[t].mismatches), ==, 0);
      g_object_unref (c[t].exe);
    }
  ane_set_num_threads (0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/cpu/threads/kernels", test_kernels);
  g_test_add_func ("/ane/cpu/threads/stories", test_stories);
  g_test_add_func ("/ane/cpu/threads/contention", test_contention);
  return g_test_run ();
}
