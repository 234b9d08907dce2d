/* test-package-multifunction.c: one package of several graphs
 *
 * ane_package_new_from_graphs() lowers each graph to one function of one
 * program, the functions sharing one weight.bin where their weights are
 * equal. Each function of the package, in memory, saved and loaded again,
 * or printed as MIL text and parsed back, must compute what its graph
 * computes alone; the shared weights must be stored once.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "ane-test-util.h"
#include "ane-test-gguf.h"
#include "ane-package-private.h"
#include "ane-tensor-private.h"
#include "mil/ane-mil-builder-private.h"

#define F32 ANE_DTYPE_FLOAT32
#define F16 ANE_DTYPE_FLOAT16
#define D   256

static char *
weight_path (const char *bundle)
{
  return g_build_filename (bundle, "Data", "com.apple.CoreML", "weights", "weight.bin", NULL);
}

static guint64
file_size (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return (guint64) st.st_size;
}

/* x [rows, D] . w [D, D], then + bias or * scale (an own small param):
 * the big weight shared, the small one each graph's own. */
static AneGraph *
build_linear (gint64      rows,
              AneTensor  *w_value,
              const char *own,
              guint32     seed)
{
  g_autoptr(GError) error = NULL;
  AneGraph *g = ane_graph_new ();
  gint64 xs[2] = { rows, D }, os[1] = { D };
  g_autoptr(AneTensor) x = ane_test_input (g, "x", F32, xs, 2);
  g_autoptr(AneTensor) own_value = ane_test_tensor_random (own, os, 1, seed, -1.0f, 1.0f);
  g_autoptr(AneTensor) w = ane_graph_param_with_value (g, w_value, &error);
  g_autoptr(AneTensor) p = ane_graph_param_with_value (g, own_value, &error);
  g_autoptr(AneTensor) h = NULL, y = NULL;

  g_assert_no_error (error);
  h = ane_graph_matmul (g, x, w, FALSE, FALSE, &error);
  y = strcmp (own, "bias") == 0 ? ane_graph_add (g, h, p, &error) : ane_graph_mul (g, h, p, &error);
  g_assert_no_error (error);
  ane_test_output (g, "y", y);
  return g;
}

/* w's bytes in a tensor of its own (equal bytes at another address). */
static AneTensor *
copy_tensor (AneTensor *t)
{
  g_autoptr(GError) error = NULL;
  gsize n;
  gconstpointer data = g_bytes_get_data (ane_tensor_get_data (t), &n);
  g_autoptr(GBytes) copy = g_bytes_new (data, n);
  AneSpec spec;
  AneTensor *c;

  ane_tensor_get_spec (t, &spec);
  c = ane_tensor_new_from_bytes (ane_tensor_get_name (t), spec.dtype, spec.shape, spec.rank, copy, &error);
  g_assert_no_error (error);
  return c;
}

/* Runs inputs through the package's function and through the graph alone
 * (CPU, at precision), and compares every output. */
static void
assert_function_runs_as_graph (AnePackage   *pkg,
                               const char   *function,
                               AneGraph     *graph,
                               AnePrecision  precision,
                               AneTensor   **inputs,
                               guint         n_inputs,
                               double        tol)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) from_pkg = ane_executable_new_from_package (pkg, function, &error);
  g_autoptr(AneExecutable) alone = ane_executable_new (graph, ANE_BACKEND_CPU);
  g_autoptr(GPtrArray) got = NULL, want = NULL;

  g_assert_no_error (error);
  ane_executable_set_precision (alone, precision);
  g_assert_true (ane_executable_compile (from_pkg, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ane_executable_compile (alone, NULL, &error));
  g_assert_no_error (error);
  got = ane_executable_run (from_pkg, inputs, n_inputs, NULL, &error);
  g_assert_no_error (error);
  want = ane_executable_run (alone, inputs, n_inputs, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, want->len);
  for (guint i = 0; i < got->len; i++)
    ane_test_assert_close_tensors (function, g_ptr_array_index (got, i), g_ptr_array_index (want, i), tol, tol);
}

static void
assert_functions (AnePackage        *pkg,
                  const char *const *names,
                  guint              n)
{
  g_auto(GStrv) functions = ane_package_list_functions (pkg);

  g_assert_cmpuint (g_strv_length (functions), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_true (g_strv_contains ((const char *const *) functions, names[i]));
  g_assert_cmpstr (ane_package_get_default_function (pkg), ==, names[0]);
}

static void
assert_types_clean (AnePackage *pkg)
{
  g_auto(GStrv) unchecked = NULL;
  g_auto(GStrv) lines = ane_package_check_types (pkg, &unchecked);

  for (guint i = 0; lines[i] != NULL; i++)
    g_test_message ("type check: %s", lines[i]);
  g_assert_cmpuint (g_strv_length (lines), ==, 0);
}

/* ---- two graphs sharing a [256, 256] weight ----------------------------- */

static void
test_shared_weights (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-multifunction-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "two.mlpackage", NULL);
  g_autofree char *single_path = g_build_filename (dir, "one.mlpackage", NULL);
  g_autofree char *mil_path = g_build_filename (dir, "mil", "two.mil", NULL);
  g_autofree char *wpath = weight_path (path);
  g_autofree char *single_wpath = weight_path (single_path);
  g_autofree char *text = NULL;
  gint64 ws[2] = { D, D }, x4[2] = { 4, D }, x1[2] = { 1, D };
  g_autoptr(AneTensor) w = ane_test_tensor_random ("w", ws, 2, 7, -0.1f, 0.1f);
  g_autoptr(AneTensor) w_copy = copy_tensor (w);
  /* the second graph's weight has the first's bytes at another address */
  g_autoptr(AneGraph) first = build_linear (4, w, "bias", 1);
  g_autoptr(AneGraph) second = build_linear (1, w_copy, "scale", 2);
  const char *names[] = { "prefill", "decode" };
  AneGraph *graphs[] = { first, second };
  g_autoptr(AnePackage) pkg = NULL, single = NULL, loaded = NULL, from_mil = NULL;
  g_autoptr(AneTensor) in4 = ane_test_tensor_random ("x", x4, 2, 11, -1.0f, 1.0f);
  g_autoptr(AneTensor) in1 = ane_test_tensor_random ("x", x1, 2, 12, -1.0f, 1.0f);
  g_autoptr(AneLintReport) report = NULL;
  GPtrArray *blobs;
  guint64 single_size, weight_size;

  pkg = ane_package_new_from_graphs (names, graphs, 2, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pkg);
  assert_functions (pkg, names, 2);
  g_assert_cmpint (ane_package_get_specification_version (pkg), ==, 9);
  /* w once, bias and scale: three blobs */
  blobs = ane_package_get_pending_blobs (pkg, &weight_size);
  g_assert_cmpuint (blobs->len, ==, 3);
  assert_types_clean (pkg);
  report = ane_package_lint (pkg, ANE_LINT_NONE, &error);
  g_assert_no_error (error);
  {
    g_auto(GStrv) linted = ane_lint_report_list_functions (report);

    g_assert_cmpuint (g_strv_length (linted), ==, 2);
  }

  /* in memory: each function computes what its graph computes */
  assert_function_runs_as_graph (pkg, "prefill", first, ANE_PRECISION_FLOAT16, &in4, 1, 1e-2);
  assert_function_runs_as_graph (pkg, "decode", second, ANE_PRECISION_FLOAT16, &in1, 1, 1e-2);

  /* saved: weight.bin holds w once, so it is smaller than the weights of
   * both graphs, and about the size of one graph's package */
  g_assert_true (ane_package_save (pkg, path, FALSE, &error));
  g_assert_no_error (error);
  single = ane_package_new_from_graph (first, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  g_assert_no_error (error);
  g_assert_true (ane_package_save (single, single_path, FALSE, &error));
  g_assert_no_error (error);
  single_size = file_size (single_wpath);
  g_assert_cmpuint (file_size (wpath), ==, weight_size);
  g_assert_cmpuint (file_size (wpath), <, (guint64) 2 * D * D * 2);
  g_assert_cmpuint (file_size (wpath), <, single_size + 64 + 64 + D * 2);

  loaded = ane_package_load (path, &error);
  g_assert_no_error (error);
  assert_functions (loaded, names, 2);
  assert_types_clean (loaded);
  {
    g_autoptr(GPtrArray) in_a = ane_package_list_inputs (loaded, "prefill", &error);
    g_autoptr(GPtrArray) in_b = ane_package_list_inputs (loaded, "decode", &error);

    g_assert_no_error (error);
    g_assert_cmpint (ane_tensor_get_dim (g_ptr_array_index (in_a, 0), 0), ==, 4);
    g_assert_cmpint (ane_tensor_get_dim (g_ptr_array_index (in_b, 0), 0), ==, 1);
  }
  assert_function_runs_as_graph (loaded, "prefill", first, ANE_PRECISION_FLOAT16, &in4, 1, 1e-2);
  assert_function_runs_as_graph (loaded, "decode", second, ANE_PRECISION_FLOAT16, &in1, 1, 1e-2);
  assert_function_runs_as_graph (loaded, NULL, first, ANE_PRECISION_FLOAT16, &in4, 1, 1e-2);

  /* as MIL text: both functions, parsed back, and they still run */
  text = ane_package_to_mil_text (pkg, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "func prefill<ios18>("));
  g_assert_nonnull (strstr (text, "func decode<ios18>("));
  g_assert_true (ane_package_save_mil (pkg, mil_path, FALSE, &error));
  g_assert_no_error (error);
  from_mil = ane_package_load_mil (mil_path, &error);
  g_assert_no_error (error);
  assert_functions (from_mil, names, 2);
  assert_types_clean (from_mil);
  assert_function_runs_as_graph (from_mil, "decode", second, ANE_PRECISION_FLOAT16, &in1, 1, 1e-2);

  ane_test_remove_tree (dir);
}

/* A param of one name but other bytes in each graph is two weights. */
static void
test_different_bytes (void)
{
  g_autoptr(GError) error = NULL;
  gint64 ws[2] = { D, D };
  g_autoptr(AneTensor) wa = ane_test_tensor_random ("w", ws, 2, 7, -0.1f, 0.1f);
  g_autoptr(AneTensor) wb = ane_test_tensor_random ("w", ws, 2, 8, -0.1f, 0.1f);
  g_autoptr(AneGraph) a = build_linear (2, wa, "bias", 1);
  g_autoptr(AneGraph) b = build_linear (2, wb, "bias", 1);
  const char *names[] = { "a", "b" };
  AneGraph *graphs[] = { a, b };
  g_autoptr(AnePackage) pkg = NULL;
  gint64 xs[2] = { 2, D };
  g_autoptr(AneTensor) x = ane_test_tensor_random ("x", xs, 2, 3, -1.0f, 1.0f);

  pkg = ane_package_new_from_graphs (names, graphs, 2, ANE_TARGET_MACOS15, ANE_PRECISION_FLOAT32, &error);
  g_assert_no_error (error);
  /* w twice; the equal biases once */
  g_assert_cmpuint (ane_package_get_pending_blobs (pkg, NULL)->len, ==, 3);
  assert_function_runs_as_graph (pkg, "a", a, ANE_PRECISION_FLOAT32, &x, 1, 1e-5);
  assert_function_runs_as_graph (pkg, "b", b, ANE_PRECISION_FLOAT32, &x, 1, 1e-5);
}

/* ---- prefill and decode of stories260K ---------------------------------- */

static void
test_llama (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-multifunction-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "stories.mlpackage", NULL);
  g_autofree char *wpath = weight_path (path);
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneGraph) prefill = ane_llama_model_build_prefill (m, 8, &error);
  g_autoptr(AneGraph) decode = NULL;
  g_autoptr(AnePackage) pkg = NULL, loaded = NULL, p1 = NULL, p2 = NULL;
  g_autoptr(AneExecutable) edec = NULL, edec_alone = NULL;
  g_autoptr(GPtrArray) states = NULL;
  const char *names[] = { "prefill", "decode" };
  AneGraph *graphs[2];
  gint32 tokens[8] = { 1, 403, 407, 261, 378, 280, 3, 57 }, positions[8];
  g_autoptr(AneTensor) t_tok = NULL, t_pos = NULL;

  g_assert_no_error (error);
  decode = ane_llama_model_build_decode (m, 64, &error);
  g_assert_no_error (error);
  graphs[0] = prefill;
  graphs[1] = decode;

  pkg = ane_package_new_from_graphs (names, graphs, 2, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, &error);
  g_assert_no_error (error);
  assert_functions (pkg, names, 2);
  assert_types_clean (pkg);
  states = ane_package_list_states (pkg, "decode", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (states->len, >, 0);
  g_clear_pointer (&states, g_ptr_array_unref);
  states = ane_package_list_states (pkg, "prefill", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (states->len, ==, 0);

  /* the weights of one model: stored once, below either package's alone
   * plus the other's */
  p1 = ane_package_new_from_graph (prefill, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, &error);
  g_assert_no_error (error);
  p2 = ane_package_new_from_graph (decode, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_package_get_weight_bytes (pkg), <,
                    ane_package_get_weight_bytes (p1) + ane_package_get_weight_bytes (p2));
  g_assert_cmpuint (ane_package_get_weight_bytes (pkg), <=,
                    MAX (ane_package_get_weight_bytes (p1), ane_package_get_weight_bytes (p2)) + 64 * 1024);

  g_assert_true (ane_package_save (pkg, path, FALSE, &error));
  g_assert_no_error (error);
  g_test_message ("weight.bin: %" G_GUINT64_FORMAT " bytes; prefill alone %" G_GUINT64_FORMAT
                  ", decode alone %" G_GUINT64_FORMAT, file_size (wpath),
                  ane_package_get_weight_bytes (p1), ane_package_get_weight_bytes (p2));
  g_assert_cmpuint (file_size (wpath), <, ane_package_get_weight_bytes (p1) + ane_package_get_weight_bytes (p2));
  loaded = ane_package_load (path, &error);
  g_assert_no_error (error);
  assert_functions (loaded, names, 2);
  assert_types_clean (loaded);

  for (guint i = 0; i < 8; i++)
    positions[i] = (gint32) i;
  t_tok = ane_tensor_new_from_ints ("tokens", (const gint64[]) { 8 }, 1, tokens, 8, &error);
  t_pos = ane_tensor_new_from_ints ("positions", (const gint64[]) { 8 }, 1, positions, 8, &error);
  g_assert_no_error (error);
  {
    AneTensor *ins[2] = { t_tok, t_pos };

    assert_function_runs_as_graph (loaded, "prefill", prefill, ANE_PRECISION_FLOAT32, ins, 2, 1e-4);
  }

  /* decode, step by step, its KV states kept by each executable */
  edec = ane_executable_new_from_package (loaded, "decode", &error);
  g_assert_no_error (error);
  edec_alone = ane_executable_new (decode, ANE_BACKEND_CPU);
  ane_executable_set_precision (edec_alone, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_executable_compile (edec, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ane_executable_compile (edec_alone, NULL, &error));
  g_assert_no_error (error);
  for (guint t = 0; t < 4; t++)
    {
      g_autoptr(AneTensor) a = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &tokens[t], 1, NULL);
      g_autoptr(AneTensor) b = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &positions[t], 1, NULL);
      AneTensor *ins[2] = { a, b };
      g_autoptr(GPtrArray) got = ane_executable_run (edec, ins, 2, NULL, &error);
      g_autoptr(GPtrArray) want = NULL;

      g_assert_no_error (error);
      want = ane_executable_run (edec_alone, ins, 2, NULL, &error);
      g_assert_no_error (error);
      ane_test_assert_close_tensors ("decode", g_ptr_array_index (got, 0), g_ptr_array_index (want, 0), 1e-4, 1e-4);
    }
  ane_test_remove_tree (dir);
}

/* ---- errors ------------------------------------------------------------- */

static AneGraph *
build_stateful (const char *state,
                gint64      width)
{
  g_autoptr(GError) error = NULL;
  AneGraph *g = ane_graph_new ();
  gint64 shape[2] = { 1, width };
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", F16, shape, 2, &error);
  g_autoptr(AneTensor) s = ane_graph_state (g, state, F16, shape, 2, &error);
  g_autoptr(AneTensor) r = ane_graph_read_state (g, s, &error);
  g_autoptr(AneTensor) sum = ane_graph_add (g, r, x, &error);
  g_autoptr(AneTensor) wr = ane_graph_write_state (g, s, sum, &error);

  g_assert_no_error (error);
  ane_test_output (g, "y", wr);
  return g;
}

static void
expect_error (const char *const *names,
              AneGraph         **graphs,
              guint              n,
              AneTarget          target,
              int                code,
              const char *const *words)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_new_from_graphs (names, graphs, n, target, ANE_PRECISION_FLOAT16, &error);

  g_assert_null (pkg);
  g_assert_error (error, ANE_ERROR, code);
  g_test_message ("%s", error->message);
  for (guint i = 0; words[i] != NULL; i++)
    g_assert_nonnull (strstr (error->message, words[i]));
}

static void
test_errors (void)
{
  gint64 ws[2] = { D, D };
  g_autoptr(AneTensor) w = ane_test_tensor_random ("w", ws, 2, 7, -0.1f, 0.1f);
  g_autoptr(AneGraph) a = build_linear (2, w, "bias", 1);
  g_autoptr(AneGraph) b = build_linear (1, w, "scale", 2);
  g_autoptr(AneGraph) s4 = build_stateful ("kv", 4);
  g_autoptr(AneGraph) s8 = build_stateful ("kv", 8);
  g_autoptr(AneGraph) s4b = build_stateful ("kv", 4);
  g_autoptr(AneGraph) unbound = ane_graph_new ();
  g_autoptr(AneGraph) bad = ane_graph_new ();
  AneGraph *ab[] = { a, b };
  AneGraph *a_null[] = { a, NULL };

  /* an empty list */
  expect_error (NULL, NULL, 0, ANE_TARGET_IOS18, ANE_ERROR_INVALID_ARGUMENT,
                (const char *[]) { "at least one function", NULL });
  /* names */
  expect_error ((const char *[]) { "prefill", "2nd" }, ab, 2, ANE_TARGET_IOS18, ANE_ERROR_INVALID_ARGUMENT,
                (const char *[]) { "function '2nd'", "identifier", NULL });
  expect_error ((const char *[]) { "prefill", "tensor" }, ab, 2, ANE_TARGET_IOS18, ANE_ERROR_INVALID_ARGUMENT,
                (const char *[]) { "function 'tensor'", "keyword", NULL });
  expect_error ((const char *[]) { "prefill", "prefill" }, ab, 2, ANE_TARGET_IOS18, ANE_ERROR_INVALID_ARGUMENT,
                (const char *[]) { "'prefill'", "twice", NULL });
  expect_error ((const char *[]) { "prefill", NULL }, ab, 2, ANE_TARGET_IOS18, ANE_ERROR_INVALID_ARGUMENT,
                (const char *[]) { "function 1", NULL });
  /* a missing graph */
  expect_error ((const char *[]) { "prefill", "decode" }, a_null, 2, ANE_TARGET_IOS18,
                ANE_ERROR_INVALID_ARGUMENT, (const char *[]) { "function 'decode' has no graph", NULL });
  /* several functions before iOS18 */
  expect_error ((const char *[]) { "prefill", "decode" }, ab, 2, ANE_TARGET_IOS17, ANE_ERROR_UNSUPPORTED,
                (const char *[]) { "iOS18", "iOS17", NULL });
  /* states of one name and two types */
  expect_error ((const char *[]) { "small", "large" }, (AneGraph *[]) { s4, s8 }, 2, ANE_TARGET_IOS18,
                ANE_ERROR_TYPE_MISMATCH,
                (const char *[]) { "state 'kv'", "fp16[1, 4]", "function 'small'", "fp16[1, 8]",
                                   "function 'large'", NULL });
  /* an unbound param */
  {
    gint64 shape[2] = { 1, D };
    g_autoptr(AneTensor) x = ane_test_input (unbound, "x", F32, shape, 2);
    g_autoptr(AneTensor) p = ane_test_param (unbound, "gain", shape, 2);
    g_autoptr(AneTensor) y = ane_graph_mul (unbound, x, p, NULL);

    ane_test_output (unbound, "y", y);
  }
  expect_error ((const char *[]) { "prefill", "decode" }, (AneGraph *[]) { a, unbound }, 2, ANE_TARGET_IOS18,
                ANE_ERROR_MISSING_PARAM, (const char *[]) { "function 'decode'", "param 'gain'", NULL });
  /* the lowering's own errors name the function */
  {
    gint64 shape[1] = { 4 };
    g_autoptr(AneTensor) x = ane_test_input (bad, "tensor", F32, shape, 1);
    g_autoptr(AneTensor) y = ane_graph_neg (bad, x, NULL);

    ane_test_output (bad, "y", y);
  }
  expect_error ((const char *[]) { "prefill", "decode" }, (AneGraph *[]) { a, bad }, 2, ANE_TARGET_IOS18,
                ANE_ERROR_INVALID_ARGUMENT, (const char *[]) { "function 'decode': ", "input 'tensor'", NULL });

  /* states of one name and one type are fine: one state for both */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(AnePackage) pkg = ane_package_new_from_graphs ((const char *[]) { "one", "two" },
                                                             (AneGraph *[]) { s4, s4b }, 2,
                                                             ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
    g_autoptr(GPtrArray) states = NULL;

    g_assert_no_error (error);
    states = ane_package_list_states (pkg, "two", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (states->len, ==, 1);
    g_assert_cmpstr (ane_tensor_get_name (g_ptr_array_index (states, 0)), ==, "kv");
  }
}

/* One function: a package like new_from_graph's, its function named. */
static void
test_one_function (void)
{
  g_autoptr(GError) error = NULL;
  gint64 ws[2] = { D, D }, xs[2] = { 2, D };
  g_autoptr(AneTensor) w = ane_test_tensor_random ("w", ws, 2, 7, -0.1f, 0.1f);
  g_autoptr(AneGraph) a = build_linear (2, w, "bias", 1);
  g_autoptr(AneTensor) x = ane_test_tensor_random ("x", xs, 2, 3, -1.0f, 1.0f);
  g_autoptr(AnePackage) pkg = ane_package_new_from_graphs ((const char *[]) { "main" }, &a, 1, ANE_TARGET_IOS16,
                                                           ANE_PRECISION_FLOAT32, &error);
  g_autoptr(AnePackage) other = NULL;

  g_assert_no_error (error);
  assert_functions (pkg, (const char *[]) { "main" }, 1);
  assert_function_runs_as_graph (pkg, "main", a, ANE_PRECISION_FLOAT32, &x, 1, 1e-5);
  /* another name: a package Core ML would not find its function in */
  other = ane_package_new_from_graphs ((const char *[]) { "only" }, &a, 1, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32,
                                       &error);
  g_assert_null (other);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'only'"));
}

/* ANE_GLIB_DUMP_DIR gets the program of both functions too. */
static void
test_dump (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-multifunction-dump-XXXXXX");
  gint64 ws[2] = { D, D };
  g_autoptr(AneTensor) w = ane_test_tensor_random ("w", ws, 2, 7, -0.1f, 0.1f);
  g_autoptr(AneGraph) a = build_linear (2, w, "bias", 1);
  g_autoptr(AneGraph) b = build_linear (1, w, "scale", 2);
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(GDir) d = NULL;
  const char *name;
  guint n_multi = 0;
  char *old = g_strdup (g_getenv ("ANE_GLIB_DUMP_DIR"));

  g_setenv ("ANE_GLIB_DUMP_DIR", dir, TRUE);
  pkg = ane_package_new_from_graphs ((const char *[]) { "prefill", "decode" }, (AneGraph *[]) { a, b }, 2,
                                     ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  if (old != NULL)
    g_setenv ("ANE_GLIB_DUMP_DIR", old, TRUE);
  else
    g_unsetenv ("ANE_GLIB_DUMP_DIR");
  g_free (old);
  g_assert_no_error (error);

  d = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_autoptr(AnePackage) dumped = ane_package_load (p, &error);
      g_auto(GStrv) functions = NULL;

      g_assert_no_error (error);
      functions = ane_package_list_functions (dumped);
      if (g_strv_length (functions) == 2)
        {
          n_multi++;
          g_assert_cmpstr (ane_package_get_default_function (dumped), ==, "prefill");
          assert_types_clean (dumped);
        }
    }
  g_assert_cmpuint (n_multi, ==, 1);
  ane_test_remove_tree (dir);
}

static void
made (GObject      *source,
      GAsyncResult *result,
      gpointer      user_data)
{
  AnePackage **out = user_data;
  GError *error = NULL;

  *out = ane_package_new_from_graphs_finish (result, &error);
  if (*out == NULL)
    {
      /* a package-shaped marker: the test reads the error back */
      g_test_message ("%s", error->message);
      *out = (AnePackage *) GINT_TO_POINTER (error->code + 1);
      g_error_free (error);
    }
}

/* The async pair: the same package in a worker thread; its errors; a
 * cancellation. */
static void
test_async (void)
{
  g_autoptr(GError) error = NULL;
  gint64 ws[2] = { D, D };
  g_autoptr(AneTensor) w = ane_test_tensor_random ("w", ws, 2, 7, -0.1f, 0.1f);
  g_autoptr(AneGraph) a = build_linear (2, w, "bias", 1);
  g_autoptr(AneGraph) b = build_linear (1, w, "scale", 2);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  const char *names[] = { "prefill", "decode" };
  AneGraph *graphs[] = { a, b };
  AnePackage *pkg = NULL;
  g_autoptr(AnePackage) sync = ane_package_new_from_graphs (names, graphs, 2, ANE_TARGET_IOS18,
                                                            ANE_PRECISION_FLOAT16, &error);
  g_autofree char *s1 = NULL, *s2 = NULL;

  g_assert_no_error (error);
  ane_package_new_from_graphs_async (names, graphs, 2, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, NULL, made, &pkg);
  while (pkg == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (ANE_IS_PACKAGE (pkg));
  assert_functions (pkg, names, 2);
  s1 = ane_package_to_string (pkg);
  s2 = ane_package_to_string (sync);
  g_assert_cmpstr (s1, ==, s2);
  g_clear_object (&pkg);

  /* a NULL graph is the lowering's error, not a critical */
  ane_package_new_from_graphs_async (names, (AneGraph *[]) { a, NULL }, 2, ANE_TARGET_IOS18,
                                     ANE_PRECISION_FLOAT16, NULL, made, &pkg);
  while (pkg == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (GPOINTER_TO_INT (pkg), ==, ANE_ERROR_INVALID_ARGUMENT + 1);
  pkg = NULL;

  g_cancellable_cancel (cancellable);
  ane_package_new_from_graphs_async (names, graphs, 2, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, cancellable,
                                     made, &pkg);
  while (pkg == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (GPOINTER_TO_INT (pkg), ==, G_IO_ERROR_CANCELLED + 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/package/multifunction/shared-weights", test_shared_weights);
  g_test_add_func ("/ane/package/multifunction/different-bytes", test_different_bytes);
  g_test_add_func ("/ane/package/multifunction/llama", test_llama);
  g_test_add_func ("/ane/package/multifunction/errors", test_errors);
  g_test_add_func ("/ane/package/multifunction/one-function", test_one_function);
  g_test_add_func ("/ane/package/multifunction/dump", test_dump);
  g_test_add_func ("/ane/package/multifunction/async", test_async);
  return g_test_run ();
}
