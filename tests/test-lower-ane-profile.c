/* test-lower-ane-profile.c: the Neural Engine lowering profile, pass by pass
 *
 * Every pass (mil/lower/ane-lower-ane-*.c) is tested two ways:
 * - differentially: the same graph run on the CPU backend lowered
 *   generically (what ane_executable_new() runs) and as a package lowered
 *   with the profile, in fp32 and fp16: the same outputs within the
 *   precision's rounding;
 * - structurally: the profile's program holds the rewrite (conv and no
 *   matmul, layer_norm and no reduce_mean, no SDPA mask and no rank 5 (the
 *   lint's rules say so), a -1e4 mask and no -inf, no
 *   transpose between consecutive layers), and the type-inference mirror
 *   (ane_package_check_types) accepts it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-glib.h"
#include "ane-test-util.h"
#include "ane-test-gguf.h"

/* How often an op type appears in the package's main function. */
static guint
count_ops (AnePackage *pkg,
           const char *type)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = ane_package_to_mil_text (pkg, &error);
  g_autofree char *needle = g_strdup_printf (" = %s(", type);
  guint n = 0;

  g_assert_no_error (error);
  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* How often the lint's rule fires on the package. */
static guint
count_rule (AnePackage *pkg,
            const char *rule)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLintReport) report = ane_package_lint (pkg, ANE_LINT_NONE, &error);

  g_assert_no_error (error);
  return ane_lint_report_count_rule (report, rule);
}

static gboolean
mil_contains (AnePackage *pkg,
              const char *what)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = ane_package_to_mil_text (pkg, &error);

  g_assert_no_error (error);
  return strstr (text, what) != NULL;
}

static AnePackage *
package (AneGraph     *graph,
         AnePrecision  precision,
         AneLowering   lowering)
{
  g_autoptr(GError) error = NULL;
  AnePackage *pkg = ane_package_new_from_graph_with_lowering (graph, ANE_TARGET_IOS18, precision, lowering,
                                                              NULL, &error);
  g_auto(GStrv) unchecked = NULL;
  g_auto(GStrv) problems = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (pkg);
  /* the type-inference mirror accepts every op of the rewritten program */
  problems = ane_package_check_types (pkg, &unchecked);
  if (problems != NULL && problems[0] != NULL)
    g_error ("type check: %s", problems[0]);
  return pkg;
}

/* Whether the package's weight.bin, once saved, holds the fp16 value half
 * (2-byte aligned; the header's fields are small integers and a sentinel). */
static gboolean
weights_hold_half (AnePackage *pkg,
                   guint16     half)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-profile-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "m.mlpackage", NULL);
  g_autofree char *weights = g_build_filename (path, "Data", "com.apple.CoreML", "weights", "weight.bin", NULL);
  g_autofree char *bytes = NULL;
  gsize size = 0;
  gboolean found = FALSE;

  g_assert_true (ane_package_save (pkg, path, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (weights, &bytes, &size, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i + 1 < size && !found; i += 2)
    found = (guint16) ((guint8) bytes[i] | ((guint8) bytes[i + 1] << 8)) == half;
  ane_test_remove_tree (dir);
  return found;
}

/* Runs graph generically and as a Neural Engine package on the CPU backend;
 * every output must agree. Returns the profile's package. */
static AnePackage *
check_same (AneGraph     *graph,
            AneTensor   **inputs,
            guint         n_inputs,
            AnePrecision  precision,
            const char   *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) generic = ane_executable_new (graph, ANE_BACKEND_CPU);
  AnePackage *pkg = package (graph, precision, ANE_LOWERING_NEURAL_ENGINE);
  g_autoptr(AneExecutable) profiled = ane_executable_new_from_package_full (pkg, "main", ANE_BACKEND_CPU, &error);
  g_autoptr(GPtrArray) want = NULL;
  g_autoptr(GPtrArray) got = NULL;
  double tol = precision == ANE_PRECISION_FLOAT32 ? 1e-4 : 3e-2;

  g_assert_no_error (error);
  ane_executable_set_precision (generic, precision);
  ane_executable_compile (generic, NULL, &error);
  g_assert_no_error (error);
  ane_executable_compile (profiled, NULL, &error);
  g_assert_no_error (error);
  want = ane_executable_run (generic, inputs, n_inputs, NULL, &error);
  g_assert_no_error (error);
  got = ane_executable_run (profiled, inputs, n_inputs, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, want->len);
  for (guint i = 0; i < got->len; i++)
    {
      g_autofree char *label = g_strdup_printf ("%s (%s) output %u", what,
                                                precision == ANE_PRECISION_FLOAT32 ? "fp32" : "fp16", i);
      double err = ane_test_assert_close_tensors (label, g_ptr_array_index (got, i), g_ptr_array_index (want, i),
                                                  tol, tol);

      g_test_message ("%s: largest difference %.3g", label, err);
    }
  return pkg;
}

static AneTensor *
weight (AneGraph     *g,
        const char   *name,
        const gint64 *shape,
        guint         rank,
        guint32       seed)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) value = ane_test_tensor_random (name, shape, rank, seed, -0.5f, 0.5f);
  AneTensor *t = ane_graph_param_with_value (g, value, &error);

  g_assert_no_error (error);
  return t;
}

static AneTensor *
check (AneTensor *t,
       GError    *error)
{
  g_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

/* --- pass a: linear layers as 1×1 conv, and the layout kept between them -- */

/* x [2, 5, 16] -> linear (W1 [32, 16], transpose_b) + b1 -> gelu -> linear
 * (W2 [32, 16], not transposed) + x: an MLP block with a residual. */
static AneGraph *
mlp_graph (void)
{
  AneGraph *g = ane_graph_new ();
  GError *error = NULL;
  AneTensor *x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, (const gint64[]) { 2, 5, 16 }, 3);
  AneTensor *w1 = weight (g, "w1", (const gint64[]) { 32, 16 }, 2, 1);
  AneTensor *b1 = weight (g, "b1", (const gint64[]) { 32 }, 1, 2);
  AneTensor *w2 = weight (g, "w2", (const gint64[]) { 32, 16 }, 2, 3);
  AneTensor *h, *y;

  h = check (ane_graph_matmul (g, x, w1, FALSE, TRUE, &error), error);
  h = check (ane_graph_add (g, h, b1, &error), error);
  h = check (ane_graph_gelu (g, h, ANE_GELU_TANH, &error), error);
  y = check (ane_graph_matmul (g, h, w2, FALSE, FALSE, &error), error);
  y = check (ane_graph_add (g, y, x, &error), error);
  ane_test_output (g, "y", y);
  return g;
}

static void
test_conv_mlp (void)
{
  g_autoptr(AneGraph) g = mlp_graph ();
  g_autoptr(AneTensor) x = ane_test_tensor_random ("x", (const gint64[]) { 2, 5, 16 }, 3, 7, -1.0f, 1.0f);
  AnePrecision precisions[2] = { ANE_PRECISION_FLOAT32, ANE_PRECISION_FLOAT16 };

  for (guint p = 0; p < 2; p++)
    {
      g_autoptr(AnePackage) pkg = check_same (g, &x, 1, precisions[p], "mlp");
      g_autoptr(AnePackage) generic = package (g, precisions[p], ANE_LOWERING_GENERIC);

      /* the rewrite happened: two convs, no matmul */
      g_assert_cmpuint (count_ops (pkg, "conv"), ==, 2);
      g_assert_cmpuint (count_ops (pkg, "matmul"), ==, 0);
      g_assert_cmpuint (count_ops (generic, "matmul"), ==, 2);
      g_assert_cmpuint (count_ops (generic, "conv"), ==, 0);
      /* the layout is kept from the first conv to the second and through
       * the residual: x goes channels-first once, the result comes back
       * once (a transpose each way, S = 5 and C > 1) */
      g_assert_cmpuint (count_ops (pkg, "transpose"), ==, 2);
    }
}

/* A decode step's shape (S = 1): the layout changes by reshapes alone, and
 * two linears in a row convert nothing between them. */
static void
test_conv_chain_single_row (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  GError *error = NULL;
  AneTensor *x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 24 }, 2);
  AneTensor *w1 = weight (g, "w1", (const gint64[]) { 40, 24 }, 2, 11);
  AneTensor *w2 = weight (g, "w2", (const gint64[]) { 8, 40 }, 2, 12);
  AneTensor *y;
  g_autoptr(AneTensor) xv = ane_test_tensor_random ("x", (const gint64[]) { 1, 24 }, 2, 13, -1.0f, 1.0f);
  AnePrecision precisions[2] = { ANE_PRECISION_FLOAT32, ANE_PRECISION_FLOAT16 };

  y = check (ane_graph_matmul (g, x, w1, FALSE, TRUE, &error), error);
  y = check (ane_graph_matmul (g, y, w2, FALSE, TRUE, &error), error);
  ane_test_output (g, "y", y);
  for (guint p = 0; p < 2; p++)
    {
      g_autoptr(AnePackage) pkg = check_same (g, &xv, 1, precisions[p], "linear chain");

      g_assert_cmpuint (count_ops (pkg, "conv"), ==, 2);
      g_assert_cmpuint (count_ops (pkg, "transpose"), ==, 0);
      /* one reshape in, one out: nothing between the convs */
      g_assert_cmpuint (count_ops (pkg, "reshape"), ==, 2);
    }
}

/* Params bound only when the package is saved: an [N, K] weight is stored
 * as its kernel straight from the graph, a [K, N] one transposed in the
 * program (a const expression); the saved package computes what the graph
 * does. */
static void
test_conv_late_bound_weights (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  GError *error = NULL;
  AneTensor *x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, (const gint64[]) { 3, 12 }, 2);
  AneTensor *w1 = ane_test_param (g, "w1", (const gint64[]) { 20, 12 }, 2);
  AneTensor *w2 = ane_test_param (g, "w2", (const gint64[]) { 20, 6 }, 2);
  g_autoptr(AneTensor) v1 = ane_test_tensor_random ("w1", (const gint64[]) { 20, 12 }, 2, 91, -0.5f, 0.5f);
  g_autoptr(AneTensor) v2 = ane_test_tensor_random ("w2", (const gint64[]) { 20, 6 }, 2, 92, -0.5f, 0.5f);
  g_autoptr(AneTensor) xv = ane_test_tensor_random ("x", (const gint64[]) { 3, 12 }, 2, 93, -1.0f, 1.0f);
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-profile-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "late.mlpackage", NULL);
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AnePackage) loaded = NULL;
  g_autoptr(AneExecutable) from_disk = NULL;
  g_autoptr(AneExecutable) generic = NULL;
  g_autoptr(GPtrArray) got = NULL;
  g_autoptr(GPtrArray) want = NULL;
  AneTensor *y;

  y = check (ane_graph_matmul (g, x, w1, FALSE, TRUE, &error), error);
  y = check (ane_graph_matmul (g, y, w2, FALSE, FALSE, &error), error);
  ane_test_output (g, "y", y);
  pkg = package (g, ANE_PRECISION_FLOAT32, ANE_LOWERING_NEURAL_ENGINE);
  g_assert_cmpuint (count_ops (pkg, "conv"), ==, 2);
  g_assert_true (ane_graph_bind_param (g, "w1", v1, &error));
  g_assert_no_error (error);
  g_assert_true (ane_graph_bind_param (g, "w2", v2, &error));
  g_assert_no_error (error);
  g_assert_true (ane_package_save (pkg, path, FALSE, &error));
  g_assert_no_error (error);
  loaded = ane_package_load (path, &error);
  g_assert_no_error (error);
  from_disk = ane_executable_new_from_package_full (loaded, NULL, ANE_BACKEND_CPU, &error);
  g_assert_no_error (error);
  g_assert_true (ane_executable_compile (from_disk, NULL, &error));
  generic = ane_executable_new (g, ANE_BACKEND_CPU);
  ane_executable_set_precision (generic, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_executable_compile (generic, NULL, &error));
  want = ane_executable_run (generic, &xv, 1, NULL, &error);
  g_assert_no_error (error);
  got = ane_executable_run (from_disk, &xv, 1, NULL, &error);
  g_assert_no_error (error);
  ane_test_assert_close_tensors ("late-bound linears", g_ptr_array_index (got, 0), g_ptr_array_index (want, 0),
                                 1e-4, 1e-4);
  ane_test_remove_tree (dir);
}

/* A matmul by a weight computed at run time stays a matmul: the Neural
 * Engine takes conv weights only as consts (lint rule conv-dynamic-weight). */
static void
test_conv_declines_dynamic_weight (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  GError *error = NULL;
  AneTensor *a = ane_test_input (g, "a", ANE_DTYPE_FLOAT32, (const gint64[]) { 3, 8 }, 2);
  AneTensor *b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, (const gint64[]) { 8, 4 }, 2);
  g_autoptr(AneTensor) av = ane_test_tensor_random ("a", (const gint64[]) { 3, 8 }, 2, 21, -1.0f, 1.0f);
  g_autoptr(AneTensor) bv = ane_test_tensor_random ("b", (const gint64[]) { 8, 4 }, 2, 22, -1.0f, 1.0f);
  AneTensor *ins[2] = { av, bv };
  g_autoptr(AnePackage) pkg = NULL;

  ane_test_output (g, "y", check (ane_graph_matmul (g, a, b, FALSE, FALSE, &error), error));
  pkg = check_same (g, ins, 2, ANE_PRECISION_FLOAT32, "dynamic matmul");
  g_assert_cmpuint (count_ops (pkg, "matmul"), ==, 1);
  g_assert_cmpuint (count_ops (pkg, "conv"), ==, 0);
}

/* A weight shared by a gather (an embedding) and a linear (a tied
 * classifier) is stored once: the conv kernel is a reshape of it. */
static void
test_conv_tied_weight_stored_once (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  GError *error = NULL;
  AneTensor *ids = ane_test_input (g, "ids", ANE_DTYPE_INT32, (const gint64[]) { 3 }, 1);
  AneTensor *table = weight (g, "table", (const gint64[]) { 50, 16 }, 2, 31);
  AneTensor *h, *y;
  const gint32 idv[3] = { 4, 0, 49 };
  g_autoptr(AneTensor) idt = ane_tensor_new_from_ints ("ids", (const gint64[]) { 3 }, 1, idv, 3, &error);
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AnePackage) generic = NULL;

  g_assert_no_error (error);
  h = check (ane_graph_gather (g, table, ids, 0, &error), error);
  y = check (ane_graph_matmul (g, h, table, FALSE, TRUE, &error), error);
  ane_test_output (g, "logits", y);
  pkg = check_same (g, &idt, 1, ANE_PRECISION_FLOAT16, "tied weight");
  generic = package (g, ANE_PRECISION_FLOAT16, ANE_LOWERING_GENERIC);
  g_assert_cmpuint (count_ops (pkg, "conv"), ==, 1);
  g_assert_cmpuint (ane_package_get_weight_bytes (pkg), ==, ane_package_get_weight_bytes (generic));
}

/* --- pass b: RMSNorm as layer_norm of [x, -x] ------------------------------ */

static void
test_rms_norm (void)
{
  AnePrecision precisions[2] = { ANE_PRECISION_FLOAT32, ANE_PRECISION_FLOAT16 };

  for (guint with_weight = 0; with_weight < 2; with_weight++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      GError *error = NULL;
      AneTensor *x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, (const gint64[]) { 2, 3, 48 }, 3);
      AneTensor *w = with_weight ? weight (g, "w", (const gint64[]) { 48 }, 1, 41) : NULL;
      /* values up to 200: their squares summed over 48 overflow fp16 */
      g_autoptr(AneTensor) xv = ane_test_tensor_random ("x", (const gint64[]) { 2, 3, 48 }, 3, 42, -200.0f, 200.0f);

      ane_test_output (g, "y", check (ane_graph_rms_norm (g, x, w, 1e-5, &error), error));
      for (guint p = 0; p < 2; p++)
        {
          g_autoptr(AnePackage) pkg = check_same (g, &xv, 1, precisions[p], "rms_norm");

          g_assert_cmpuint (count_ops (pkg, "layer_norm"), ==, 1);
          g_assert_cmpuint (count_ops (pkg, "reduce_mean"), ==, 0);
          g_assert_cmpuint (count_ops (pkg, "concat"), ==, 1);
        }
    }
}

/* --- pass c: attention, additive finite mask, grouped heads sliced --------- */

static void
test_attention_gqa_causal_bias (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  GError *error = NULL;
  AneTensor *q = ane_test_input (g, "q", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 4, 6, 8 }, 4);
  AneTensor *k = ane_test_input (g, "k", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 2, 6, 8 }, 4);
  AneTensor *v = ane_test_input (g, "v", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 2, 6, 8 }, 4);
  AneTensor *bias = ane_test_input (g, "bias", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 4, 6, 6 }, 4);
  g_autoptr(AneTensor) qv = ane_test_tensor_random ("q", (const gint64[]) { 1, 4, 6, 8 }, 4, 51, -1.0f, 1.0f);
  g_autoptr(AneTensor) kv = ane_test_tensor_random ("k", (const gint64[]) { 1, 2, 6, 8 }, 4, 52, -1.0f, 1.0f);
  g_autoptr(AneTensor) vv = ane_test_tensor_random ("v", (const gint64[]) { 1, 2, 6, 8 }, 4, 53, -1.0f, 1.0f);
  g_autoptr(AneTensor) bv = ane_test_tensor_random ("bias", (const gint64[]) { 1, 4, 6, 6 }, 4, 54, -1.0f, 1.0f);
  AneTensor *ins[4] = { qv, kv, vv, bv };
  AnePrecision precisions[2] = { ANE_PRECISION_FLOAT32, ANE_PRECISION_FLOAT16 };

  ane_test_output (g, "o", check (ane_graph_attention (g, q, k, v, bias, TRUE, 0.0, 0.0, &error), error));
  for (guint p = 0; p < 2; p++)
    {
      g_autoptr(AnePackage) pkg = check_same (g, ins, 4, precisions[p], "attention");
      g_autoptr(AnePackage) generic = package (g, precisions[p], ANE_LOWERING_GENERIC);

      g_assert_cmpuint (count_ops (pkg, "scaled_dot_product_attention"), ==, 0);
      g_assert_cmpuint (count_rule (pkg, "fp16-infinite-mask"), ==, 0);
      g_assert_cmpuint (count_rule (pkg, "rank-above-4"), ==, 0);
      if (precisions[p] == ANE_PRECISION_FLOAT16)
        {
          /* the causal mask (the only weight): -1e4 (0xf0e2), not -inf (0xfc00) */
          g_assert_true (weights_hold_half (generic, 0xfc00));
          g_assert_false (weights_hold_half (pkg, 0xfc00));
          g_assert_true (weights_hold_half (pkg, 0xf0e2));
        }
      g_assert_cmpuint (count_rule (generic, "rank-above-4"), >, 0);
      /* one score matmul and one context matmul per KV head, no tile, nothing of rank 5 */
      g_assert_cmpuint (count_ops (pkg, "matmul"), ==, 4);
      g_assert_cmpuint (count_ops (pkg, "tile"), ==, 0);
      g_assert_false (mil_contains (pkg, "tensor<fp16, [1, 2, 2, 6, 6]>") ||
                      mil_contains (pkg, "tensor<fp32, [1, 2, 2, 6, 6]>"));
    }
}

/* One KV head per query head, causal, no bias: SDPA would take the mask as
 * attn_mask, which the Neural Engine ignores; the profile adds it instead. */
static void
test_attention_causal_no_sdpa_mask (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  GError *error = NULL;
  AneTensor *q = ane_test_input (g, "q", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 2, 5, 8 }, 4);
  AneTensor *k = ane_test_input (g, "k", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 2, 7, 8 }, 4);
  AneTensor *v = ane_test_input (g, "v", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 2, 7, 8 }, 4);
  g_autoptr(AneTensor) qv = ane_test_tensor_random ("q", (const gint64[]) { 1, 2, 5, 8 }, 4, 61, -1.0f, 1.0f);
  g_autoptr(AneTensor) kv = ane_test_tensor_random ("k", (const gint64[]) { 1, 2, 7, 8 }, 4, 62, -1.0f, 1.0f);
  g_autoptr(AneTensor) vv = ane_test_tensor_random ("v", (const gint64[]) { 1, 2, 7, 8 }, 4, 63, -1.0f, 1.0f);
  AneTensor *ins[3] = { qv, kv, vv };
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AnePackage) generic = NULL;

  ane_test_output (g, "o", check (ane_graph_attention (g, q, k, v, NULL, TRUE, 0.0, 0.0, &error), error));
  pkg = check_same (g, ins, 3, ANE_PRECISION_FLOAT16, "causal attention");
  generic = package (g, ANE_PRECISION_FLOAT16, ANE_LOWERING_GENERIC);
  g_assert_cmpuint (count_ops (generic, "scaled_dot_product_attention"), ==, 1);
  g_assert_cmpuint (count_rule (generic, "sdpa-mask"), ==, 1);
  g_assert_cmpuint (count_ops (pkg, "scaled_dot_product_attention"), ==, 0);
  g_assert_cmpuint (count_rule (pkg, "sdpa-mask"), ==, 0);
  g_assert_cmpuint (count_rule (pkg, "fp16-infinite-mask"), ==, 0);
  g_assert_cmpuint (count_ops (pkg, "softmax"), ==, 1);
  pkg = check_same (g, ins, 3, ANE_PRECISION_FLOAT32, "causal attention");
}

/* --- pass e: a run-time select as an arithmetic blend ---------------------- */

static void
test_select_blend (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  GError *error = NULL;
  AneTensor *a = ane_test_input (g, "a", ANE_DTYPE_FLOAT32, (const gint64[]) { 2, 6, 4 }, 3);
  AneTensor *b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, (const gint64[]) { 2, 6, 4 }, 3);
  AneTensor *s = ane_test_input (g, "s", ANE_DTYPE_FLOAT32, (const gint64[]) { 6, 1 }, 2);
  AneTensor *zero = check (ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 0.0, &error), error);
  AneTensor *big = check (ane_graph_scalar (g, ANE_DTYPE_FLOAT32, -30000.0, &error), error);
  AneTensor *cond = check (ane_graph_gt (g, s, zero, &error), error);
  g_autoptr(AneTensor) av = ane_test_tensor_random ("a", (const gint64[]) { 2, 6, 4 }, 3, 71, -50.0f, 50.0f);
  g_autoptr(AneTensor) bv = ane_test_tensor_random ("b", (const gint64[]) { 2, 6, 4 }, 3, 72, -0.01f, 0.01f);
  g_autoptr(AneTensor) sv = ane_test_tensor_random ("s", (const gint64[]) { 6, 1 }, 2, 73, -1.0f, 1.0f);
  AneTensor *ins[3] = { av, bv, sv };
  AnePrecision precisions[2] = { ANE_PRECISION_FLOAT32, ANE_PRECISION_FLOAT16 };

  /* a row-wise write, as a cache's: blended */
  ane_test_output (g, "mixed", check (ane_graph_where (g, cond, a, b, &error), error));
  /* a const operand, as a mask's -inf would be: left a select (0 · inf would be NaN) */
  ane_test_output (g, "masked", check (ane_graph_where (g, cond, big, b, &error), error));
  for (guint p = 0; p < 2; p++)
    {
      g_autoptr(AnePackage) pkg = check_same (g, ins, 3, precisions[p], "select");

      g_assert_cmpuint (count_ops (pkg, "select"), ==, 1);
      g_assert_cmpuint (count_rule (pkg, "op-select"), ==, 1);
    }
}

/* --- pass d: rope tables computed once per positions input ---------------- */

static void
test_rope_tables_shared (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  GError *error = NULL;
  AneTensor *q = ane_test_input (g, "q", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 4, 5, 8 }, 4);
  AneTensor *k = ane_test_input (g, "k", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 2, 5, 8 }, 4);
  AneTensor *pos = ane_test_input (g, "pos", ANE_DTYPE_INT32, (const gint64[]) { 5 }, 1);
  g_autoptr(AneTensor) qv = ane_test_tensor_random ("q", (const gint64[]) { 1, 4, 5, 8 }, 4, 81, -1.0f, 1.0f);
  g_autoptr(AneTensor) kv = ane_test_tensor_random ("k", (const gint64[]) { 1, 2, 5, 8 }, 4, 82, -1.0f, 1.0f);
  const gint32 positions[5] = { 7, 8, 9, 300, 301 };
  g_autoptr(AneTensor) pv = ane_tensor_new_from_ints ("pos", (const gint64[]) { 5 }, 1, positions, 5, &error);
  AneTensor *ins[3] = { qv, kv, pv };
  AnePrecision precisions[2] = { ANE_PRECISION_FLOAT32, ANE_PRECISION_FLOAT16 };

  g_assert_no_error (error);
  ane_test_output (g, "q_rot", check (ane_graph_rope (g, q, pos, ANE_ROPE_NEOX, 10000.0, 0, &error), error));
  ane_test_output (g, "k_rot", check (ane_graph_rope (g, k, pos, ANE_ROPE_NEOX, 10000.0, 0, &error), error));
  for (guint p = 0; p < 2; p++)
    {
      g_autoptr(AnePackage) pkg = check_same (g, ins, 3, precisions[p], "rope");
      g_autoptr(AnePackage) generic = package (g, precisions[p], ANE_LOWERING_GENERIC);

      g_assert_cmpuint (count_ops (generic, "cos"), ==, 2);
      g_assert_cmpuint (count_ops (pkg, "cos"), ==, 1);
      g_assert_cmpuint (count_ops (pkg, "sin"), ==, 1);
    }
}

/* --- a whole model: stories260K's generic decode step ---------------------- */

static void
test_stories_decode (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_llama_model_build_decode (m, 32, &error);
  AnePrecision precisions[2] = { ANE_PRECISION_FLOAT32, ANE_PRECISION_FLOAT16 };
  const gint32 tokens[6] = { 1, 403, 407, 261, 378, 285 };

  g_assert_no_error (error);
  for (guint p = 0; p < 2; p++)
    {
      g_autoptr(AnePackage) pkg = package (g, precisions[p], ANE_LOWERING_NEURAL_ENGINE);
      g_autoptr(AneExecutable) profiled = ane_executable_new_from_package_full (pkg, "main", ANE_BACKEND_CPU, &error);
      g_autoptr(AneExecutable) generic = ane_executable_new (g, ANE_BACKEND_CPU);
      double tol = precisions[p] == ANE_PRECISION_FLOAT32 ? 1e-3 : 0.1;

      g_assert_no_error (error);
      ane_executable_set_precision (generic, precisions[p]);
      ane_executable_compile (generic, NULL, &error);
      g_assert_no_error (error);
      ane_executable_compile (profiled, NULL, &error);
      g_assert_no_error (error);
      /* steps through the caches: each step's logits agree */
      for (guint t = 0; t < G_N_ELEMENTS (tokens); t++)
        {
          gint32 position = (gint32) t;
          g_autoptr(AneTensor) tok = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &tokens[t], 1, &error);
          g_autoptr(AneTensor) pos = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &position, 1, &error);
          AneTensor *ins[2] = { tok, pos };
          g_autoptr(GPtrArray) want = ane_executable_run (generic, ins, 2, NULL, &error);
          g_autoptr(GPtrArray) got = NULL;

          g_assert_no_error (error);
          got = ane_executable_run (profiled, ins, 2, NULL, &error);
          g_assert_no_error (error);
          ane_test_assert_close_tensors ("stories260K decode logits", g_ptr_array_index (got, 0),
                                         g_ptr_array_index (want, 0), tol, tol);
        }
      /* every linear layer is a conv: the matmuls left are attention's */
      g_assert_cmpuint (count_ops (pkg, "conv"), ==, 5 * 7 + 1);
      g_assert_cmpuint (count_ops (pkg, "layer_norm"), ==, 5 * 2 + 1);
      /* the caches' writes are blends; the selects left build the mask from
       * -inf and wrap the token id (integers) */
      g_assert_cmpuint (count_rule (pkg, "op-select"), ==, 2);
      /* the rope tables, once for the 2 ropes of each of the 5 layers */
      g_assert_cmpuint (count_ops (pkg, "cos"), ==, 1);
    }
}

/* --- the choice -------------------------------------------------------------- */

/* A package made without a choice takes the profile; GENERIC keeps the
 * graph's ops. */
static void
test_default_is_neural_engine (void)
{
  g_autoptr(AneGraph) g = mlp_graph ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) plain = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  g_autoptr(AnePackage) dflt = package (g, ANE_PRECISION_FLOAT16, ANE_LOWERING_DEFAULT);
  g_autoptr(AnePackage) generic = package (g, ANE_PRECISION_FLOAT16, ANE_LOWERING_GENERIC);

  g_assert_no_error (error);
  g_assert_cmpuint (count_ops (plain, "conv"), ==, 2);
  g_assert_cmpuint (count_ops (dflt, "conv"), ==, 2);
  g_assert_cmpuint (count_ops (generic, "conv"), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lower-ane-profile/conv/mlp", test_conv_mlp);
  g_test_add_func ("/lower-ane-profile/conv/chain-single-row", test_conv_chain_single_row);
  g_test_add_func ("/lower-ane-profile/conv/late-bound-weights", test_conv_late_bound_weights);
  g_test_add_func ("/lower-ane-profile/conv/declines-dynamic-weight", test_conv_declines_dynamic_weight);
  g_test_add_func ("/lower-ane-profile/conv/tied-weight-stored-once", test_conv_tied_weight_stored_once);
  g_test_add_func ("/lower-ane-profile/rms-norm", test_rms_norm);
  g_test_add_func ("/lower-ane-profile/attention/gqa-causal-bias", test_attention_gqa_causal_bias);
  g_test_add_func ("/lower-ane-profile/attention/causal-no-sdpa-mask", test_attention_causal_no_sdpa_mask);
  g_test_add_func ("/lower-ane-profile/select-blend", test_select_blend);
  g_test_add_func ("/lower-ane-profile/rope-tables-shared", test_rope_tables_shared);
  g_test_add_func ("/lower-ane-profile/stories260K-decode", test_stories_decode);
  g_test_add_func ("/lower-ane-profile/default-is-neural-engine", test_default_is_neural_engine);
  return g_test_run ();
}
