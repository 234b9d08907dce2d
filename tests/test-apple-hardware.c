/* test-apple-hardware.c: the Apple backends on real hardware
 *
 * `meson test --suite apple` on a Mac runs these against CoreML.framework
 * and the Neural Engine; everywhere else every test skips, saying what it
 * needs (with g_test_skip: these skips are legitimate off a Mac, so
 * ANE_TEST_STRICT does not turn them into failures). They have NEVER run: no Mac was available while writing them (see
 * docs/coreml.md and docs/ane-private.md). They compare each device's
 * outputs with the CPU interpreter of the same program in float16, within a
 * tolerance that allows a device's own fp16 accumulation order.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-models.h"
#include "runtime/ane/ane-ane-private.h"
#include "runtime/coreml/ane-coreml-private.h"

static gboolean
need_coreml (void)
{
  if (ane_coreml_api_get_default () != NULL)
    return TRUE;
  g_test_skip ("needs CoreML.framework: macOS 12 or later (this build has no CoreML shim)");
  return FALSE;
}

static gboolean
need_ane (void)
{
  if (ane_ane_runtime_get_default () != NULL && ane_available ())
    return TRUE;
  g_test_skip ("needs a Mac with a Neural Engine and AppleNeuralEngine.framework");
  return FALSE;
}

/* |a - b| <= tol * max(1, max |b|) elementwise, output by output (a NaN
 * or an infinity only where want has the same). */
static void
assert_near (GPtrArray *got,
             GPtrArray *want,
             double     tol)
{
  g_assert_cmpuint (got->len, ==, want->len);
  for (guint i = 0; i < got->len; i++)
    {
      AneTensor *a = g_ptr_array_index (got, i), *b = g_ptr_array_index (want, i);
      g_autofree float *av = ane_test_dup_floats (a);
      g_autofree float *bv = ane_test_dup_floats (b);
      gint64 n = ane_tensor_get_n_elements (b);
      double worst, scale = 1;

      g_assert_cmpint (ane_tensor_get_n_elements (a), ==, n);
      for (gint64 k = 0; k < n; k++)
        if (isfinite (bv[k]))
          scale = MAX (scale, fabs ((double) bv[k]));
      worst = ane_test_assert_close_floats (ane_tensor_get_name (b), av, bv, (gsize) n, 0.0, tol * scale);
      g_test_message ("%s: max difference %g (scale %g)", ane_tensor_get_name (b), worst, scale);
    }
}

static GPtrArray *
run_on (AneGraph        *graph,
        AneBackend       backend,
        AneComputeUnits  units,
        GPtrArray       *inputs)
{
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, backend);
  g_autoptr(GError) error = NULL;
  g_autofree char *report = NULL;
  GPtrArray *outputs;

  ane_executable_set_compute_units (exe, units);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  report = ane_executable_dup_backend_report (exe);
  g_test_message ("%s", report);
  outputs = ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
  g_assert_no_error (error);
  return outputs;
}

static void
check_device (AneGraph *(*make) (void),
              AneBackend backend,
              AneComputeUnits units)
{
  g_autoptr(AneGraph) g = make ();
  g_autoptr(GPtrArray) inputs = ane_test_model_inputs (g, 1);
  g_autoptr(GPtrArray) on_cpu = run_on (g, ANE_BACKEND_CPU, units, inputs);
  g_autoptr(GPtrArray) on_device = run_on (g, backend, units, inputs);

  assert_near (on_device, on_cpu, 2e-2);
}

static void
test_coreml_models (void)
{
  static const AneComputeUnits units[] = {
    ANE_COMPUTE_UNITS_CPU_ONLY, ANE_COMPUTE_UNITS_CPU_AND_GPU, ANE_COMPUTE_UNITS_CPU_AND_NE, ANE_COMPUTE_UNITS_ALL,
  };

  if (!need_coreml ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    {
      check_device (ane_test_model_mlp, ANE_BACKEND_COREML, units[i]);
      check_device (ane_test_model_transformer_block, ANE_BACKEND_COREML, units[i]);
      check_device (ane_test_model_convnet, ANE_BACKEND_COREML, units[i]);
    }
}

/* acc += x through an MLState, three steps, then reset. */
static void
test_coreml_state (void)
{
  static const gint64 shape[] = { 1, 4 };
  static const float ones[] = { 1, 2, 3, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = NULL, x16 = NULL, acc = NULL, old = NULL, sum = NULL, wr = NULL, xv = NULL;
  g_autoptr(AneExecutable) exe = NULL;

  if (!need_coreml ())
    return;
  x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, shape, 2, &error);
  acc = ane_graph_state (g, "acc", ANE_DTYPE_FLOAT16, shape, 2, &error);
  old = ane_graph_read_state (g, acc, &error);
  x16 = ane_graph_cast (g, x, ANE_DTYPE_FLOAT16, &error);
  sum = ane_graph_add (g, old, x16, &error);
  wr = ane_graph_write_state (g, acc, sum, &error);
  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", wr, &error));
  xv = ane_test_tensor_f32 ("x", shape, 2, ones);
  exe = ane_executable_new (g, ANE_BACKEND_COREML);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  for (int step = 1; step <= 3; step++)
    {
      g_autoptr(AneTensor) y = ane_executable_run_one (exe, xv, &error);
      g_autofree float *v = NULL;

      g_assert_no_error (error);
      v = ane_test_dup_floats (y);
      for (int i = 0; i < 4; i++)
        g_assert_cmpfloat (v[i], ==, step * ones[i]);
    }
}

/* The packages Apple's coremltools wrote (tests/data/conformance), as they
 * are, on CoreML against the CPU interpreter, random inputs. */
static void
test_coreml_apple_packages (void)
{
  static const char *const names[] = {
    "mlp_fp32", "mlp_fp16", "transformer_block_fp32", "sdpa_ios18", "convnet_fp32", "rmsnorm_rope_fp16",
    "quant_int8_ios16", "quant_int4_blockwise_ios18", "palettized_ios18", "stateful_kv_ios18", "multifunction",
  };

  if (!need_coreml ())
    return;
  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    {
      const char *path = g_test_get_filename (G_TEST_DIST, "data", "conformance", names[k], "model.mlpackage", NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(AnePackage) package = ane_package_load (path, &error);
      g_autoptr(AneExecutable) on_cpu = NULL, on_coreml = NULL;
      g_autoptr(GPtrArray) declared = NULL;
      g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(GPtrArray) a = NULL, b = NULL;

      g_assert_no_error (error);
      on_cpu = ane_executable_new_from_package (package, NULL, &error);
      g_assert_no_error (error);
      on_coreml = ane_executable_new_from_package_full (package, NULL, ANE_BACKEND_COREML, &error);
      g_assert_no_error (error);
      declared = ane_package_list_inputs (package, NULL, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < declared->len; i++)
        {
          AneTensor *d = g_ptr_array_index (declared, i);
          guint rank;
          const gint64 *shape = ane_tensor_get_shape (d, &rank);
          g_autoptr(AneTensor) f = ane_test_tensor_random (ane_tensor_get_name (d), shape, rank, k + i, -1, 1);

          g_ptr_array_add (inputs, ane_tensor_convert (f, ane_tensor_get_dtype (d), &error));
          g_assert_no_error (error);
        }
      g_test_message ("%s", names[k]);
      a = ane_executable_run (on_coreml, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
      g_assert_no_error (error);
      b = ane_executable_run (on_cpu, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
      g_assert_no_error (error);
      assert_near (a, b, 2e-2);
    }
}

static void
test_ane_models (void)
{
  if (!need_ane ())
    return;
  check_device (ane_test_model_mlp, ANE_BACKEND_ANE, ANE_COMPUTE_UNITS_ALL);
  check_device (ane_test_model_convnet, ANE_BACKEND_ANE, ANE_COMPUTE_UNITS_ALL);
  check_device (ane_test_model_mamba, ANE_BACKEND_ANE, ANE_COMPUTE_UNITS_ALL);
}

/* The open question of docs/ane-private.md: rows of W = 40 halfs are 80
 * bytes, which the surfaces pad to 128. y = 2x is exact in fp16, so any
 * wrong element means the device reads the surface in another layout. */
static void
test_ane_row_padding (void)
{
  static const gint64 widths[] = { 32, 40, 17 };

  if (!need_ane ())
    return;
  for (guint k = 0; k < G_N_ELEMENTS (widths); k++)
    {
      gint64 shape[] = { 1, 4, 1, widths[k] };
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, shape, 4, &error);
      g_autoptr(AneTensor) two = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 2.0, &error);
      g_autoptr(AneTensor) y = ane_graph_mul (g, x, two, &error);
      g_autoptr(AneTensor) xv = ane_test_tensor_random ("x", shape, 4, 9, -100, 100);
      g_autoptr(AneTensor) yv = NULL;
      g_autoptr(AneExecutable) exe = NULL;
      g_autofree float *xs = NULL, *ys = NULL;

      g_assert_true (ane_graph_add_output (g, "y", y, &error));
      exe = ane_executable_new (g, ANE_BACKEND_ANE);
      g_assert_true (ane_executable_compile (exe, NULL, &error));
      g_assert_no_error (error);
      yv = ane_executable_run_one (exe, xv, &error);
      g_assert_no_error (error);
      xs = ane_test_dup_floats (xv);
      ys = ane_test_dup_floats (yv);
      for (gint64 i = 0; i < 4 * widths[k]; i++)
        if (ys[i] != 2 * ane_half_to_float (ane_float_to_half (xs[i])))
          g_error ("width %" G_GINT64_FORMAT ": element %" G_GINT64_FORMAT " is %g, expected %g: the Neural "
                   "Engine does not read rows padded to %d bytes (see docs/ane-private.md)",
                   widths[k], i, ys[i], 2 * ane_half_to_float (ane_float_to_half (xs[i])), ANE_ANE_ROW_ALIGN);
    }
}

/* The other open question: does the compiler need the buildInfo keys the
 * hardware-verified projects write (docs/ane-private.md, "The MIL text's
 * dialect")? The default dialect must compile and run; each variant
 * (ANEForge's 3520 values, no buildInfo at all) is tried and its outcome
 * recorded with g_test_message, failing neither way. */
static void
test_ane_dialects (void)
{
  static const gint64 shape[] = { 1, 4, 1, 32 };
  g_autoptr(AneGraph) g = NULL;
  g_autoptr(AneTensor) x = NULL, two = NULL, y = NULL, xv = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilDialect) aneforge = ane_mil_dialect_new ();
  g_autoptr(AneMilDialect) none = ane_mil_dialect_new ();
  struct { const char *name; AneMilDialect *dialect; } variants[] = {
    { "default (maderix/ANE's four keys)", NULL },
    { "ANEForge's 3520.4.1 / 3520.5.1", aneforge },
    { "no buildInfo", none },
  };

  if (!need_ane ())
    return;
  g = ane_graph_new ();
  x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, shape, 4, &error);
  two = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 2.0, &error);
  y = ane_graph_mul (g, x, two, &error);
  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  xv = ane_test_tensor_random ("x", shape, 4, 5, -10, 10);
  g_assert_true (ane_mil_dialect_set_build_info (aneforge, "coremlc-component-MIL", "3520.4.1", &error));
  g_assert_true (ane_mil_dialect_set_build_info (aneforge, "coremlc-version", "3520.5.1", &error));
  {
    g_auto(GStrv) keys = ane_mil_dialect_dup_build_info_keys (none);

    for (guint i = 0; keys[i] != NULL; i++)
      g_assert_true (ane_mil_dialect_set_build_info (none, keys[i], NULL, &error));
  }
  for (guint k = 0; k < G_N_ELEMENTS (variants); k++)
    {
      g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_ANE);
      g_autoptr(AneTensor) yv = NULL;
      g_autoptr(GError) e = NULL;

      ane_executable_set_mil_dialect (exe, variants[k].dialect);
      if (ane_executable_compile (exe, NULL, &e))
        yv = ane_executable_run_one (exe, xv, &e);
      g_test_message ("buildInfo %s: %s", variants[k].name, yv != NULL ? "compiles and runs" : e->message);
      if (k == 0)
        {
          g_assert_no_error (e);
          g_assert_nonnull (yv);
        }
    }
}

static void
test_auto_prefers_ane (void)
{
  g_autoptr(AneGraph) g = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *report = NULL;

  if (!need_ane ())
    return;
  g = ane_test_model_mlp ();
  exe = ane_executable_new (g, ANE_BACKEND_AUTO);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  report = ane_executable_dup_backend_report (exe);
  g_test_message ("%s", report);
  g_assert_cmpint (ane_executable_get_backend (exe), ==, ANE_BACKEND_ANE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/apple/hardware/coreml-models", test_coreml_models);
  g_test_add_func ("/apple/hardware/coreml-state", test_coreml_state);
  g_test_add_func ("/apple/hardware/coreml-apple-packages", test_coreml_apple_packages);
  g_test_add_func ("/apple/hardware/ane-models", test_ane_models);
  g_test_add_func ("/apple/hardware/ane-row-padding", test_ane_row_padding);
  g_test_add_func ("/apple/hardware/ane-dialects", test_ane_dialects);
  g_test_add_func ("/apple/hardware/auto-prefers-ane", test_auto_prefers_ane);
  return g_test_run ();
}
