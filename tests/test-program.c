/* test-program.c: every backend through the one program interface
 *
 * runtime/ane-program-private.h is the only way the executable reaches a
 * backend. These tests drive it directly: prepare each backend for a graph
 * and for a package, run a stateful program, check the states come back
 * in the declared dtypes and are committed only by a run that succeeds,
 * and that the executable's states survive a program prepared again.
 * CoreML and the Neural Engine run here against fakes in their own suites
 * (test-coreml-backend, test-backend-ane), through the executable, which is
 * this interface too; off Apple, preparing them gives the reason.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-test-util.h"
#include "runtime/ane-program-private.h"

static const gint64 s4[] = { 4 };

/* acc = acc + x * w; y = the new acc. w is a param with a value. */
static AneGraph *
accumulator_graph (void)
{
  static const float w_values[] = { 1, 2, 3, 4 };
  AneGraph *g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) wv = ane_test_tensor_f32 ("w", s4, 1, w_values);
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s4, 1);
  g_autoptr(AneTensor) w = ane_graph_param (g, "w", ANE_DTYPE_FLOAT32, s4, 1, &error);
  g_autoptr(AneTensor) acc = ane_graph_state (g, "acc", ANE_DTYPE_FLOAT32, s4, 1, &error);
  g_autoptr(AneTensor) old = NULL, xw = NULL, sum = NULL, written = NULL;

  g_assert_no_error (error);
  g_assert_true (ane_graph_bind_param (g, "w", wv, &error));
  old = ane_graph_read_state (g, acc, &error);
  xw = ane_graph_mul (g, x, w, &error);
  sum = ane_graph_add (g, old, xw, &error);
  written = ane_graph_write_state (g, acc, sum, &error);
  g_assert_no_error (error);
  ane_graph_add_output (g, "y", written, &error);
  g_assert_no_error (error);
  return g;
}

static GHashTable *
inputs_of (AneTensor *x)
{
  GHashTable *inputs = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (inputs, (gpointer) ane_tensor_get_name (x), x);
  return inputs;
}

static GHashTable *
new_state_table (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

/* Runs program three times with x = [1, 1, 1, 1]: acc grows by w each run,
 * states stay float32 (the declared dtype) whatever the program computes
 * in; then a cancelled run leaves them as they were. */
static void
check_accumulates (AneProgram *program)
{
  static const float ones[] = { 1, 1, 1, 1 };
  g_autoptr(AneTensor) x = ane_test_tensor_f32 ("x", s4, 1, ones);
  g_autoptr(GHashTable) inputs = inputs_of (x);
  g_autoptr(GHashTable) states = new_state_table ();
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) failed = NULL;
  AneTensor *acc;

  g_assert_cmpuint (program->outputs->len, ==, 1);
  g_assert_cmpuint (program->states->len, ==, 1);
  g_assert_nonnull (ane_program_find_state (program, "acc"));
  g_assert_null (ane_program_find_state (program, "nosuch"));
  for (guint run = 1; run <= 3; run++)
    {
      const double want[] = { 1.0 * run, 2.0 * run, 3.0 * run, 4.0 * run };
      g_autoptr(GPtrArray) outputs = ane_program_run (program, inputs, states, FALSE, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (outputs->len, ==, 1);
      g_assert_cmpstr (ane_tensor_get_name (g_ptr_array_index (outputs, 0)), ==, "y");
      ane_test_assert_values (g_ptr_array_index (outputs, 0), want, 4);
      acc = g_hash_table_lookup (states, "acc");
      g_assert_nonnull (acc);
      g_assert_cmpint (ane_tensor_get_dtype (acc), ==, ANE_DTYPE_FLOAT32);
      ane_test_assert_values (acc, want, 4);
    }
  g_cancellable_cancel (cancelled);
  failed = ane_program_run (program, inputs, states, FALSE, cancelled, &error);
  g_assert_null (failed);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  {
    const double want[] = { 3, 6, 9, 12 };

    ane_test_assert_values (g_hash_table_lookup (states, "acc"), want, 4);
  }
}

static AneProgramOptions
options_for (GHashTable  *params,
             AnePrecision precision)
{
  AneProgramOptions options = {
    .target = ANE_TARGET_IOS18,
    .precision = precision,
    .compute_units = ANE_COMPUTE_UNITS_ALL,
    .params = params,
    .budget = 0,
  };

  return options;
}

static void
test_graph (gconstpointer data)
{
  AneBackend backend = GPOINTER_TO_INT (data);
  g_autoptr(AneGraph) g = accumulator_graph ();
  g_autoptr(GHashTable) params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_autoptr(GError) error = NULL;

  /* fp16 precision too: the CPU program then holds its state in fp16 and
   * the interface still hands back float32 (values small enough to be exact) */
  for (AnePrecision p = ANE_PRECISION_FLOAT32; p <= ANE_PRECISION_FLOAT16; p++)
    {
      AneProgramOptions options = options_for (params, p);
      g_autoptr(AneProgram) program = ane_program_prepare (backend, g, NULL, NULL, &options, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (program);
      g_assert_cmpstr (program->klass->name, ==, ane_backend_get_name (backend));
      g_assert_null (program->states_opaque);
      check_accumulates (program);
    }
}

static void
test_package (void)
{
  g_autoptr(AneGraph) g = accumulator_graph ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  AneProgramOptions options = options_for (NULL, ANE_PRECISION_FLOAT16);
  g_autoptr(AneProgram) program = NULL;
  static const AneBackend graphs_only[] = { ANE_BACKEND_REFERENCE, ANE_BACKEND_ANE };

  g_assert_no_error (error);
  program = ane_program_prepare (ANE_BACKEND_CPU, NULL, pkg, NULL, &options, NULL, &error);
  g_assert_no_error (error);
  /* the package declares its states as the program holds them: fp16 */
  g_assert_cmpint (ane_tensor_get_dtype (ane_program_find_state (program, "acc")), ==, ANE_DTYPE_FLOAT16);
  {
    static const float ones[] = { 1, 1, 1, 1 };
    const double want[] = { 2, 4, 6, 8 };
    g_autoptr(AneTensor) x = ane_test_tensor_f32 ("x", s4, 1, ones);
    g_autoptr(GHashTable) inputs = inputs_of (x);
    g_autoptr(GHashTable) states = new_state_table ();

    for (guint run = 0; run < 2; run++)
      {
        g_autoptr(GPtrArray) outputs = ane_program_run (program, inputs, states, FALSE, NULL, &error);

        g_assert_no_error (error);
        g_assert_nonnull (outputs);
      }
    ane_test_assert_values (g_hash_table_lookup (states, "acc"), want, 4);
  }

  for (guint i = 0; i < G_N_ELEMENTS (graphs_only); i++)
    {
      g_autoptr(AneProgram) refused = ane_program_prepare (graphs_only[i], NULL, pkg, NULL, &options, NULL, &error);

      g_assert_null (refused);
      ane_test_assert_error (&error, ANE_ERROR_UNSUPPORTED, "graphs", "CoreML or CPU backend", NULL);
    }
}

static void
test_bind_param (void)
{
  g_autoptr(AneGraph) g = accumulator_graph ();
  g_autoptr(GHashTable) params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  AneProgramOptions options = options_for (params, ANE_PRECISION_FLOAT32);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneProgram) reference = ane_program_prepare (ANE_BACKEND_REFERENCE, g, NULL, NULL, &options, NULL, &error);
  g_autoptr(AneProgram) cpu = ane_program_prepare (ANE_BACKEND_CPU, g, NULL, NULL, &options, NULL, &error);
  static const float w2[] = { 10, 10, 10, 10 };
  g_autoptr(AneTensor) w = ane_test_tensor_f32 ("w", s4, 1, w2);

  g_assert_no_error (error);
  /* the reference program reads the shared params at each run; the CPU
   * program baked them into its lowered weights: it must be prepared again */
  g_assert_true (ane_program_bind_param (reference, "w", w));
  g_assert_false (ane_program_bind_param (cpu, "w", w));
}

/* Through the executable: states belong to it, so they survive the program
 * being prepared again after set_param, on every backend alike. */
static void
test_states_survive_prepare (gconstpointer data)
{
  AneBackend backend = GPOINTER_TO_INT (data);
  static const float ones[] = { 1, 1, 1, 1 }, w2[] = { 10, 10, 10, 10 };
  const double want[] = { 11, 12, 13, 14 };
  g_autoptr(AneGraph) g = accumulator_graph ();
  g_autoptr(AneExecutable) exe = ane_executable_new (g, backend);
  g_autoptr(AneTensor) x = ane_test_tensor_f32 ("x", s4, 1, ones);
  g_autoptr(AneTensor) w = ane_test_tensor_f32 ("w", s4, 1, w2);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) acc = NULL;

  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr(GPtrArray) first = ane_executable_run (exe, &x, 1, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (first);
  }
  g_assert_true (ane_executable_set_param (exe, "w", w, &error));
  {
    g_autoptr(GPtrArray) second = ane_executable_run (exe, &x, 1, NULL, &error);

    g_assert_no_error (error);
    ane_test_assert_values (g_ptr_array_index (second, 0), want, 4);
  }
  acc = ane_executable_dup_state (exe, "acc", &error);
  g_assert_no_error (error);
  g_assert_cmpint (ane_tensor_get_dtype (acc), ==, ANE_DTYPE_FLOAT32);
  ane_test_assert_values (acc, want, 4);
}

static void
test_table (void)
{
  g_autoptr(AneGraph) g = accumulator_graph ();
  AneProgramOptions options = options_for (NULL, ANE_PRECISION_FLOAT16);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneProgram) program = NULL;

  g_assert_cmpstr (ane_backend_get_name (ANE_BACKEND_REFERENCE), ==, "reference");
  g_assert_cmpstr (ane_backend_get_name (ANE_BACKEND_CPU), ==, "cpu");
  g_assert_cmpstr (ane_backend_get_name (ANE_BACKEND_COREML), ==, "coreml");
  g_assert_cmpstr (ane_backend_get_name (ANE_BACKEND_ANE), ==, "ane");
  g_assert_cmpstr (ane_backend_get_name (ANE_BACKEND_AUTO), ==, "auto");

  program = ane_program_prepare ((AneBackend) 77, g, NULL, NULL, &options, NULL, &error);
  g_assert_null (program);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "unknown backend 77", NULL);

#ifndef __APPLE__
  /* off Apple the device backends are there, and say why they cannot run */
  program = ane_program_prepare (ANE_BACKEND_COREML, g, NULL, NULL, &options, NULL, &error);
  g_assert_null (program);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  program = ane_program_prepare (ANE_BACKEND_ANE, g, NULL, NULL, &options, NULL, &error);
  g_assert_null (program);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_clear_error (&error);
#endif
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/ane/program/graph/reference", GINT_TO_POINTER (ANE_BACKEND_REFERENCE), test_graph);
  g_test_add_data_func ("/ane/program/graph/cpu", GINT_TO_POINTER (ANE_BACKEND_CPU), test_graph);
  g_test_add_func ("/ane/program/package/cpu", test_package);
  g_test_add_func ("/ane/program/bind-param", test_bind_param);
  g_test_add_data_func ("/ane/program/states-survive-prepare/reference",
                        GINT_TO_POINTER (ANE_BACKEND_REFERENCE), test_states_survive_prepare);
  g_test_add_data_func ("/ane/program/states-survive-prepare/cpu",
                        GINT_TO_POINTER (ANE_BACKEND_CPU), test_states_survive_prepare);
  g_test_add_func ("/ane/program/table", test_table);
  return g_test_run ();
}
