/* test-executable.c: compile / set_param / run contract of AneExecutable
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-test-util.h"

static const gint64 s2[] = { 2 };

/* y = x * w + b with w a param (unbound) and b baked. */
static AneGraph *
affine_graph (void)
{
  static const float bv[] = { 10, 20 };
  AneGraph *g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s2, 1, &error);
  g_autoptr(AneTensor) w = ane_graph_param (g, "w", ANE_DTYPE_FLOAT32, s2, 1, &error);
  g_autoptr(AneTensor) bt = ane_test_tensor_f32 ("b", s2, 1, bv);
  g_autoptr(AneTensor) b = ane_graph_param_with_value (g, bt, &error);
  g_autoptr(AneTensor) xw = ane_graph_mul (g, x, w, &error);
  g_autoptr(AneTensor) y = ane_graph_add (g, xw, b, &error);

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  return g;
}

static void
test_contract (void)
{
  static const float xv[] = { 1, 2 }, wv[] = { 3, 4 }, bv[] = { -1, -2 };
  static const float y1[] = { 13, 28 }, y2[] = { 2, 6 };
  g_autoptr(AneGraph) g = affine_graph ();
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_REFERENCE);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s2, 1, xv);
  g_autoptr(AneTensor) tw = ane_test_tensor_f32 ("w", s2, 1, wv);
  g_autoptr(AneTensor) tb = ane_test_tensor_f32 ("b", s2, 1, bv);
  g_autoptr(AneTensor) out = NULL;
  g_autoptr(GPtrArray) outs = NULL;

  g_assert_true (ane_executable_get_graph (exe) == g);
  g_assert_false (ane_executable_is_compiled (exe));

  /* running before compiling is an error, not a crash */
  out = ane_executable_run_one (exe, tx, &error);
  g_assert_null (out);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_COMPILED);
  g_clear_error (&error);

  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_true (ane_executable_is_compiled (exe));

  /* param w unbound */
  out = ane_executable_run_one (exe, tx, &error);
  g_assert_null (out);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_MISSING_PARAM);
  g_assert_nonnull (strstr (error->message, "'w'"));
  g_clear_error (&error);

  g_assert_true (ane_executable_set_param (exe, "w", tw, &error));
  out = ane_executable_run_one (exe, tx, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ane_tensor_get_name (out), ==, "y");
  ane_test_assert_close (out, y1, 2, 0, 0);

  /* set_param overrides a baked value; reruns reuse the executable */
  g_assert_true (ane_executable_set_param (exe, "b", tb, &error));
  outs = ane_executable_run (exe, &tx, 1, NULL, &error);
  g_assert_no_error (error);
  ane_test_assert_close (g_ptr_array_index (outs, 0), y2, 2, 0, 0);
}

static void
test_bad_inputs (void)
{
  static const gint64 s3[] = { 3 };
  static const float xv[] = { 1, 2, 3 }, wv[] = { 1, 1 };
  g_autoptr(AneGraph) g = affine_graph ();
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_REFERENCE);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) wrong_shape = ane_test_tensor_f32 ("x", s3, 1, xv);
  g_autoptr(AneTensor) wrong_name = ane_test_tensor_f32 ("q", s2, 1, xv);
  g_autoptr(AneTensor) right = ane_test_tensor_f32 ("x", s2, 1, xv);
  g_autoptr(AneTensor) tw = ane_test_tensor_f32 ("w", s2, 1, wv);
  g_autoptr(AneTensor) symbolic = ane_tensor_new ("x", ANE_DTYPE_FLOAT32, s2, 1, NULL);
  AneTensor *twice[2] = { right, right };
  GPtrArray *outs;

  ane_executable_compile (exe, NULL, &error);
  ane_executable_set_param (exe, "w", tw, &error);
  g_assert_no_error (error);

  outs = ane_executable_run (exe, &wrong_shape, 1, NULL, &error);
  g_assert_null (outs);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "float32[2]"));
  g_assert_nonnull (strstr (error->message, "float32[3]"));
  g_clear_error (&error);

  outs = ane_executable_run (exe, &wrong_name, 1, NULL, &error);
  g_assert_null (outs);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "'q'"));
  g_clear_error (&error);

  outs = ane_executable_run (exe, NULL, 0, NULL, &error);
  g_assert_null (outs);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "'x' was not given"));
  g_clear_error (&error);

  outs = ane_executable_run (exe, twice, 2, NULL, &error);
  g_assert_null (outs);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  outs = ane_executable_run (exe, &symbolic, 1, NULL, &error);
  g_assert_null (outs);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);

  g_assert_false (ane_executable_set_param (exe, "x", tw, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (ane_executable_set_param (exe, "w", wrong_shape, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
}

static void
test_cancel_and_backends (void)
{
  static const float xv[] = { 1, 2 };
  g_autoptr(AneGraph) g = affine_graph ();
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_REFERENCE);
  g_autoptr(AneExecutable) coreml = ane_executable_new (g, ANE_BACKEND_COREML);
  g_autoptr(AneExecutable) autob = ane_executable_new (g, ANE_BACKEND_AUTO);
  g_autoptr(GCancellable) cancel = g_cancellable_new ();
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s2, 1, xv);
  g_autoptr(GError) error = NULL;
  GPtrArray *outs;

  g_assert_false (ane_executable_compile (coreml, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "coreml"));
  g_clear_error (&error);

  g_assert_true (ane_executable_compile (autob, NULL, &error));
  g_assert_cmpint (ane_executable_get_backend (autob), ==, ANE_BACKEND_CPU);
  {
    /* AUTO says why it passed the Apple backends over */
    g_autofree char *report = ane_executable_dup_backend_report (autob);
    g_assert_nonnull (strstr (report, "ane: passed over: "));
    g_assert_nonnull (strstr (report, "coreml: passed over: "));
    g_assert_nonnull (strstr (report, "cpu: selected"));
  }

  ane_executable_compile (exe, NULL, &error);
  g_cancellable_cancel (cancel);
  outs = ane_executable_run (exe, &tx, 1, cancel, &error);
  g_assert_null (outs);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* A value bound on the executable replaces the one bound in the graph, on
 * every backend (the MIL backends once lowered it as a constant and kept
 * the graph's value). */
static void
test_set_param_overrides_graph (void)
{
  static const float wv[] = { 2, 3 }, bv[] = { -1, -2 }, xv[] = { 1, 2 };
  static const AneBackend backends[] = { ANE_BACKEND_REFERENCE, ANE_BACKEND_CPU };

  for (guint i = 0; i < G_N_ELEMENTS (backends); i++)
    {
      g_autoptr(AneGraph) g = affine_graph ();
      g_autoptr(AneExecutable) exe = ane_executable_new (g, backends[i]);
      g_autoptr(AneTensor) w = ane_test_tensor_f32 ("w", s2, 1, wv);
      g_autoptr(AneTensor) b = ane_test_tensor_f32 ("b", s2, 1, bv);
      g_autoptr(AneTensor) x = ane_test_tensor_f32 ("x", s2, 1, xv);
      g_autoptr(AneTensor) y = NULL;
      g_autoptr(GError) error = NULL;
      static const float want[] = { 1, 4 };

      ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
      g_assert_true (ane_executable_set_param (exe, "w", w, &error));
      g_assert_true (ane_executable_compile (exe, NULL, &error));
      g_assert_true (ane_executable_set_param (exe, "b", b, &error));   /* "b" has a value in the graph */
      y = ane_executable_run_one (exe, x, &error);
      g_assert_no_error (error);
      ane_test_assert_close (y, want, 2, 0, 0);
    }
}

static void
test_invalid_graph (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_REFERENCE);
  g_autoptr(GError) error = NULL;

  g_assert_false (ane_executable_compile (exe, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH);
}

static void
on_async_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
test_async (void)
{
  static const float xv[] = { 1, 2 }, wv[] = { 3, 4 }, y1[] = { 13, 28 };
  g_autoptr(AneGraph) g = affine_graph ();
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_REFERENCE);
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s2, 1, xv);
  g_autoptr(AneTensor) tw = ane_test_tensor_f32 ("w", s2, 1, wv);
  g_autoptr(GAsyncResult) compiled = NULL, ran = NULL;
  g_autoptr(GPtrArray) outs = NULL;
  g_autoptr(GError) error = NULL;

  ane_executable_compile_async (exe, NULL, on_async_done, &compiled);
  while (compiled == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (ane_executable_compile_finish (exe, compiled, &error));
  g_assert_no_error (error);

  ane_executable_set_param (exe, "w", tw, &error);
  ane_executable_run_async (exe, &tx, 1, NULL, on_async_done, &ran);
  while (ran == NULL)
    g_main_context_iteration (NULL, TRUE);
  outs = ane_executable_run_finish (exe, ran, &error);
  g_assert_no_error (error);
  ane_test_assert_close (g_ptr_array_index (outs, 0), y1, 2, 0, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/executable/contract", test_contract);
  g_test_add_func ("/ane/executable/bad-inputs", test_bad_inputs);
  g_test_add_func ("/ane/executable/cancel-and-backends", test_cancel_and_backends);
  g_test_add_func ("/ane/executable/invalid-graph", test_invalid_graph);
  g_test_add_func ("/ane/executable/set-param-overrides-graph", test_set_param_overrides_graph);
  g_test_add_func ("/ane/executable/async", test_async);
  return g_test_run ();
}
