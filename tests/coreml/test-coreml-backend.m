/* test-coreml-backend.m: AneExecutable on the CoreML backend, over the shim
 * built against fake CoreML classes in interpreter mode (GNUstep)
 *
 * The fake "compiles" a package into an .mlmodelc holding its MIL text and
 * weights, and predicts by running that program on the CPU interpreter,
 * handing outputs back in multi-arrays whose innermost dimension is padded
 * (tests/coreml/fake-coreml.m). So the whole path a Mac takes is exercised
 * -- lowering, .mlpackage writing with the executable's weights, compile
 * and its cache, load with compute units, MLMultiArray in and strided copy
 * out, MLState, errors, AUTO's choice -- except CoreML itself (never run
 * here; docs/coreml.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-test-models.h"
#include "runtime/coreml/ane-coreml-private.h"
#include "runtime/ane/ane-ane-private.h"
#import "fake-coreml.h"

static char *cache_home;

/* Every test starts with an empty compile cache: its counts of compiles
 * and its failures to compile must not be answered from an earlier test. */
static void
setup (void)
{
  g_autofree char *cache = ane_coreml_cache_dir ();

  g_assert_true (g_str_has_prefix (cache, cache_home));
  ane_test_remove_tree (cache);
  fake_coreml_reset ();
  fake_coreml_set_interpret (TRUE);
  ane_coreml_api_set_override (&ane_coreml_framework_api);
}

static void
teardown (void)
{
  ane_coreml_api_set_override (NULL);
  fake_coreml_reset ();
}

static AneExecutable *
compiled (AneGraph   *graph,
          AneBackend  backend)
{
  AneExecutable *exe = ane_executable_new (graph, backend);
  GError *error = NULL;

  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ane_executable_get_backend (exe), ==, backend);
  return exe;
}

static GPtrArray *
run (AneExecutable *exe,
     GPtrArray     *inputs)
{
  GError *error = NULL;
  GPtrArray *outputs = ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);

  g_assert_no_error (error);
  return outputs;
}

static void
assert_identical (GPtrArray *a,
                  GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      AneTensor *x = g_ptr_array_index (a, i), *y = g_ptr_array_index (b, i);

      g_assert_cmpstr (ane_tensor_get_name (x), ==, ane_tensor_get_name (y));
      g_assert_cmpint (ane_tensor_get_dtype (x), ==, ane_tensor_get_dtype (y));
      g_assert_true (g_bytes_equal (ane_tensor_get_data (x), ane_tensor_get_data (y)));
    }
}

/* The package CoreML gets is the program the CPU backend interprets when
 * given that package (lowered with the Neural Engine profile, the default
 * for Core ML), and fp32 crosses the interface exactly: outputs must be
 * identical. */
static void
check_model (AneGraph *(*make) (void),
             const char *name)
{
  g_autoptr(AneGraph) g = make ();
  g_autoptr(GPtrArray) inputs = ane_test_model_inputs (g, 3);
  g_autoptr(AneExecutable) on_coreml = compiled (g, ANE_BACKEND_COREML);
  GError *error = NULL;
  g_autoptr(AnePackage) package = ane_package_new_from_graph (g, ane_executable_get_target (on_coreml),
                                                              ane_executable_get_precision (on_coreml), &error);
  g_autoptr(AneExecutable) on_cpu = NULL;
  g_autoptr(GPtrArray) a = run (on_coreml, inputs);
  g_autoptr(GPtrArray) b = NULL;
  g_autofree char *report = NULL;

  g_assert_no_error (error);
  on_cpu = ane_executable_new_from_package_full (package, NULL, ANE_BACKEND_CPU, &error);
  g_assert_no_error (error);
  g_assert_true (ane_executable_compile (on_cpu, NULL, &error));
  b = run (on_cpu, inputs);
  report = ane_executable_dup_backend_report (on_coreml);
  g_test_message ("model %s: %s", name, report);
  g_assert_true (g_str_has_prefix (report, "coreml: selected: fake CoreML, model compiled to "));
  assert_identical (a, b);
}

static void
test_models (void)
{
  setup ();
  check_model (ane_test_model_mlp, "mlp");
  check_model (ane_test_model_transformer_block, "transformer block");
  check_model (ane_test_model_convnet, "convnet");
  check_model (ane_test_model_moe, "moe");
  check_model (ane_test_model_mamba, "mamba");
  g_assert_cmpuint (fake_coreml_compile_count (), ==, 5);
  teardown ();
}

/* y = x * w; w a param */
static AneGraph *
scale_graph (AneTensor *w_value)
{
  static const gint64 shape[] = { 2, 3 };
  AneGraph *g = ane_graph_new ();
  GError *error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, shape, 2, &error);
  g_autoptr(AneTensor) w = ane_graph_param (g, "w", ANE_DTYPE_FLOAT32, shape, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_mul (g, x, w, &error);

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  if (w_value)
    g_assert_true (ane_graph_bind_param (g, "w", w_value, &error));
  g_assert_no_error (error);
  return g;
}

static AneTensor *
floats (const char *name, float a, float b, float c, float d, float e, float f)
{
  static const gint64 shape[] = { 2, 3 };
  float v[] = { a, b, c, d, e, f };
  return ane_tensor_new_from_floats (name, shape, 2, v, 6, NULL);
}

static void
assert_floats (AneTensor *t, float a, float b, float c, float d, float e, float f)
{
  float want[] = { a, b, c, d, e, f };
  GBytes *data = ane_tensor_get_data (t);
  const float *got = g_bytes_get_data (data, NULL);

  g_assert_cmpint (ane_tensor_get_dtype (t), ==, ANE_DTYPE_FLOAT32);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (got[i], ==, want[i]);
}

/* The same graph and weights compile once; other weights compile again;
 * a param bound on the executable reaches the weights. */
static void
test_cache_and_params (void)
{
  setup ();
  {
    g_autoptr(AneTensor) w = floats ("w", 1, 2, 3, 4, 5, 6);
    g_autoptr(AneTensor) w2 = floats ("w", -1, -1, -1, 2, 2, 2);
    g_autoptr(AneTensor) x = floats ("x", 1, 1, 1, 0.5f, 0.5f, 0.5f);
    g_autoptr(AneGraph) g = scale_graph (w);
    g_autoptr(AneExecutable) a = compiled (g, ANE_BACKEND_COREML);
    g_autoptr(AneExecutable) b = NULL;
    g_autoptr(AneTensor) y = NULL;
    g_autoptr(AneTensor) y2 = NULL;
    g_autofree char *report = NULL;
    GError *error = NULL;

    g_assert_nonnull (a);
    g_assert_cmpuint (fake_coreml_compile_count (), ==, 1);
    b = compiled (g, ANE_BACKEND_COREML);
    g_assert_cmpuint (fake_coreml_compile_count (), ==, 1);
    report = ane_executable_dup_backend_report (b);
    g_assert_nonnull (strstr (report, "model from the compile cache"));

    y = ane_executable_run_one (b, x, &error);
    g_assert_no_error (error);
    assert_floats (y, 1, 2, 3, 2, 2.5f, 3);

    g_assert_true (ane_executable_set_param (b, "w", w2, &error));
    y2 = ane_executable_run_one (b, x, &error);
    g_assert_no_error (error);
    assert_floats (y2, -1, -1, -1, 1, 1, 1);
    g_assert_cmpuint (fake_coreml_compile_count (), ==, 2);
  }
  {
    /* unbound at compile: prepared at the first run */
    g_autoptr(AneGraph) g = scale_graph (NULL);
    g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_COREML);
    g_autoptr(AneTensor) x = floats ("x", 1, 2, 3, 4, 5, 6);
    g_autoptr(AneTensor) w = floats ("w", 2, 2, 2, 2, 2, 2);
    g_autoptr(AneTensor) y = NULL;
    GError *error = NULL;

    g_assert_true (ane_executable_compile (exe, NULL, &error));
    g_assert_null (ane_executable_run_one (exe, x, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_MISSING_PARAM);
    g_clear_error (&error);
    g_assert_true (ane_executable_set_param (exe, "w", w, &error));
    y = ane_executable_run_one (exe, x, &error);
    g_assert_no_error (error);
    assert_floats (y, 2, 4, 6, 8, 10, 12);
  }
  teardown ();
}

static void
test_compute_units (void)
{
  static const struct { AneComputeUnits units; long ml; } cases[] = {
    { ANE_COMPUTE_UNITS_ALL, MLComputeUnitsAll },
    { ANE_COMPUTE_UNITS_CPU_ONLY, MLComputeUnitsCPUOnly },
    { ANE_COMPUTE_UNITS_CPU_AND_GPU, MLComputeUnitsCPUAndGPU },
    { ANE_COMPUTE_UNITS_CPU_AND_NE, MLComputeUnitsCPUAndNeuralEngine },
  };
  g_autoptr(AneTensor) w = floats ("w", 1, 2, 3, 4, 5, 6);
  g_autoptr(AneGraph) g = scale_graph (w);

  setup ();
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_COREML);
      GError *error = NULL;

      ane_executable_set_compute_units (exe, cases[i].units);
      g_assert_true (ane_executable_compile (exe, NULL, &error));
      g_assert_cmpint (fake_coreml_last_compute_units (), ==, cases[i].ml);
    }
  teardown ();
}

/* acc += x: the MLState carries the sum from run to run. */
static void
test_states (void)
{
  static const gint64 shape[] = { 1, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  GError *error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, shape, 2, &error);
  g_autoptr(AneTensor) acc = ane_graph_state (g, "acc", ANE_DTYPE_FLOAT32, shape, 2, &error);
  g_autoptr(AneTensor) old = ane_graph_read_state (g, acc, &error);
  g_autoptr(AneTensor) sum = ane_graph_add (g, old, x, &error);
  g_autoptr(AneTensor) wr = ane_graph_write_state (g, acc, sum, &error);
  float ones[] = { 1, 2, 3, 4 };
  g_autoptr(AneTensor) xv = ane_tensor_new_from_floats ("x", shape, 2, ones, 4, &error);
  g_autoptr(AneExecutable) exe = NULL;

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", wr, &error));
  setup ();
  exe = compiled (g, ANE_BACKEND_COREML);
  for (int step = 1; step <= 3; step++)
    {
      g_autoptr(AneTensor) y = ane_executable_run_one (exe, xv, &error);
      const float *v;

      g_assert_no_error (error);
      v = g_bytes_get_data (ane_tensor_get_data (y), NULL);
      for (int i = 0; i < 4; i++)
        g_assert_cmpfloat (v[i], ==, step * ones[i]);
    }
  /* unloaded (the program freed) and prepared again: a new MLState, into
   * which the executable's values are written, so the sum carries on */
  ane_executable_unload (exe);
  {
    g_autoptr(AneTensor) y = ane_executable_run_one (exe, xv, &error);
    const float *v;

    g_assert_no_error (error);
    v = g_bytes_get_data (ane_tensor_get_data (y), NULL);
    for (int i = 0; i < 4; i++)
      g_assert_cmpfloat (v[i], ==, 4 * ones[i]);
  }
  /* the MLState's buffer read back (-[MLState getMultiArrayForStateNamed:handler:]) */
  {
    g_autoptr(AneTensor) got = ane_executable_dup_state (exe, "acc", &error);
    const float *v;

    g_assert_no_error (error);
    v = g_bytes_get_data (ane_tensor_get_data (got), NULL);
    for (int i = 0; i < 4; i++)
      g_assert_cmpfloat (v[i], ==, 4 * ones[i]);
  }
  /* and written: the next prediction starts from the value set */
  {
    float hundreds[] = { 100, 200, 300, 400 };
    g_autoptr(AneTensor) value = ane_tensor_new_from_floats ("whatever", shape, 2, hundreds, 4, &error);
    g_autoptr(AneTensor) y = NULL;
    const float *v;

    g_assert_true (ane_executable_set_state (exe, "acc", value, &error));
    g_assert_no_error (error);
    y = ane_executable_run_one (exe, xv, &error);
    g_assert_no_error (error);
    v = g_bytes_get_data (ane_tensor_get_data (y), NULL);
    for (int i = 0; i < 4; i++)
      g_assert_cmpfloat (v[i], ==, hundreds[i] + ones[i]);
  }

  ane_executable_reset_states (exe);
  {
    g_autoptr(AneTensor) y = ane_executable_run_one (exe, xv, &error);
    const float *v = g_bytes_get_data (ane_tensor_get_data (y), NULL);

    g_assert_no_error (error);
    for (int i = 0; i < 4; i++)
      g_assert_cmpfloat (v[i], ==, ones[i]);
  }
  teardown ();
}

/* One stateful program (acc: a float16 state, as coremltools writes them,
 * of a shape whose buffer the fake pads to 16 elements a row) on the CoreML
 * backend and on the CPU backend. */
static AneGraph *
fp16_state_graph (void)
{
  static const gint64 shape[] = { 3, 5 };
  AneGraph *g = ane_graph_new ();
  GError *error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT16, shape, 2, &error);
  g_autoptr(AneTensor) acc = ane_graph_state (g, "acc", ANE_DTYPE_FLOAT16, shape, 2, &error);
  g_autoptr(AneTensor) old = ane_graph_read_state (g, acc, &error);
  g_autoptr(AneTensor) sum = ane_graph_add (g, old, x, &error);
  g_autoptr(AneTensor) wr = ane_graph_write_state (g, acc, sum, &error);

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", wr, &error));
  g_assert_no_error (error);
  return g;
}

static AneTensor *
fp16_tensor (const char *name,
             float       base)
{
  static const gint64 shape[] = { 3, 5 };
  float v[15];
  GError *error = NULL;
  g_autoptr(AneTensor) f = NULL;
  AneTensor *h;

  for (int i = 0; i < 15; i++)
    v[i] = base + 0.25f * i;
  f = ane_tensor_new_from_floats (name, shape, 2, v, 15, &error);
  h = ane_tensor_convert (f, ANE_DTYPE_FLOAT16, &error);
  g_assert_no_error (error);
  return h;
}

/* dup_state / set_state through the CoreML backend give what the CPU
 * backend gives, bit for bit (fp16 states, padded buffers); a state read
 * from one executable and written into another carries on there; the
 * executable checks the value's dtype and shape, names an unknown state. */
static void
test_state_round_trip (void)
{
  static const gint64 bad_shape[] = { 5, 3 };
  g_autoptr(AneGraph) g = fp16_state_graph ();
  g_autoptr(AneExecutable) on_coreml = NULL;
  g_autoptr(AneExecutable) on_cpu = NULL;
  g_autoptr(AneExecutable) other = NULL;
  g_autoptr(AneTensor) x = fp16_tensor ("x", 1.5f);
  g_autoptr(AneTensor) start = fp16_tensor ("acc", -3.0f);
  g_autoptr(AneTensor) got = NULL;
  g_autoptr(AneTensor) want = NULL;
  g_autoptr(AneTensor) f32 = NULL;
  g_autoptr(AneTensor) wrong_shape = NULL;
  GError *error = NULL;

  setup ();
  on_coreml = compiled (g, ANE_BACKEND_COREML);
  on_cpu = compiled (g, ANE_BACKEND_CPU);
  other = compiled (g, ANE_BACKEND_COREML);
  /* before any run: zeros, as on every backend */
  got = ane_executable_dup_state (on_coreml, "acc", &error);
  g_assert_no_error (error);
  want = ane_executable_dup_state (on_cpu, "acc", &error);
  g_assert_true (g_bytes_equal (ane_tensor_get_data (got), ane_tensor_get_data (want)));
  g_clear_object (&got);
  g_clear_object (&want);

  g_assert_true (ane_executable_set_state (on_coreml, "acc", start, &error));
  g_assert_true (ane_executable_set_state (on_cpu, "acc", start, &error));
  g_assert_no_error (error);
  for (int step = 0; step < 2; step++)
    {
      g_autoptr(AneTensor) a = ane_executable_run_one (on_coreml, x, &error);
      g_autoptr(AneTensor) b = ane_executable_run_one (on_cpu, x, &error);

      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (ane_tensor_get_data (a), ane_tensor_get_data (b)));
    }
  got = ane_executable_dup_state (on_coreml, "acc", &error);
  want = ane_executable_dup_state (on_cpu, "acc", &error);
  g_assert_no_error (error);
  g_assert_cmpint (ane_tensor_get_dtype (got), ==, ANE_DTYPE_FLOAT16);
  g_assert_true (g_bytes_equal (ane_tensor_get_data (got), ane_tensor_get_data (want)));

  /* handed over to another CoreML executable (another MLState): it carries on */
  g_assert_true (ane_executable_set_state (other, "acc", got, &error));
  g_assert_no_error (error);
  {
    g_autoptr(AneTensor) a = ane_executable_run_one (other, x, &error);
    g_autoptr(AneTensor) b = ane_executable_run_one (on_cpu, x, &error);

    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (ane_tensor_get_data (a), ane_tensor_get_data (b)));
  }

  /* errors: an unknown state, a value of another dtype or shape */
  g_assert_null (ane_executable_dup_state (on_coreml, "nope", &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "nope"));
  g_clear_error (&error);
  g_assert_false (ane_executable_set_state (on_coreml, "nope", start, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  f32 = ane_tensor_convert (start, ANE_DTYPE_FLOAT32, &error);
  g_assert_false (ane_executable_set_state (on_coreml, "acc", f32, &error));
  /* ane_tensor_check_spec reports a wrong dtype as a wrong spec */
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "'acc' is float16[3,5], the value is float32[3,5]"));
  g_clear_error (&error);
  wrong_shape = ane_tensor_new_zeros ("acc", ANE_DTYPE_FLOAT16, bad_shape, 2, &error);
  g_assert_false (ane_executable_set_state (on_coreml, "acc", wrong_shape, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "acc"));
  g_clear_error (&error);
  teardown ();
}

/* The shim's own checks, below the executable: the MLState's buffer is
 * copied by its strides (padded rows), in either dtype; a name the state
 * does not have, a shape its buffer does not have, an unsupported dtype
 * are errors naming the state; a system without the call says which API
 * is missing, and the backend then keeps the states opaque. */
static void
test_state_shim (void)
{
  static const gint64 shape[] = { 3, 5 };
  static const gint64 bad_shape[] = { 3, 4 };
  g_autoptr(AneGraph) g = fp16_state_graph ();
  g_autoptr(AnePackage) package = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("coreml-state-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (tmp, "m.mlpackage", NULL);
  g_autofree char *cache = ane_coreml_cache_dir ();
  g_autofree char *compiled_path = NULL;
  g_autoptr(AneCoremlModel) model = NULL;
  g_autoptr(AneCoremlState) state = NULL;
  g_autoptr(AneTensor) value = fp16_tensor ("acc", 7.0f);
  g_autoptr(AneTensor) back = NULL;
  g_autoptr(AneTensor) back32 = NULL;
  g_autoptr(AneTensor) value32 = NULL;
  g_autoptr(AneTensor) renamed = NULL;
  g_autoptr(AneTensor) wrong_shape = NULL;
  g_autoptr(AneTensor) int8 = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  GError *error = NULL;

  setup ();
  package = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  g_assert_no_error (error);
  g_assert_true (ane_package_save (package, path, FALSE, &error));
  compiled_path = ane_coreml_compile (path, cache, NULL, &error);
  g_assert_no_error (error);
  model = ane_coreml_model_load (compiled_path, NULL, ANE_COMPUTE_UNITS_ALL, &error);
  g_assert_no_error (error);
  state = ane_coreml_model_new_state (model, &error);
  g_assert_no_error (error);
  g_assert_true (ane_coreml_state_can_access (state));

  g_assert_true (ane_coreml_state_set (state, value, &error));
  g_assert_no_error (error);
  back = ane_coreml_state_get (state, "acc", ANE_DTYPE_FLOAT16, shape, 2, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (ane_tensor_get_data (back), ane_tensor_get_data (value)));
  /* fp32 in and out, converted to and from the buffer's fp16 */
  value32 = ane_tensor_convert (value, ANE_DTYPE_FLOAT32, &error);
  renamed = ane_tensor_rename (value32, "acc");
  g_assert_true (ane_coreml_state_set (state, renamed, &error));
  back32 = ane_coreml_state_get (state, "acc", ANE_DTYPE_FLOAT32, shape, 2, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (ane_tensor_get_data (back32), ane_tensor_get_data (value32)));

  g_assert_null (ane_coreml_state_get (state, "cache", ANE_DTYPE_FLOAT16, shape, 2, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "'cache'"));
  g_clear_error (&error);
  g_assert_null (ane_coreml_state_get (state, "acc", ANE_DTYPE_FLOAT16, bad_shape, 2, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "'acc'"));
  g_assert_nonnull (strstr (error->message, "[3, 5]"));
  g_clear_error (&error);
  wrong_shape = ane_tensor_new_zeros ("acc", ANE_DTYPE_FLOAT16, bad_shape, 2, &error);
  g_assert_false (ane_coreml_state_set (state, wrong_shape, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);
  int8 = ane_tensor_new_zeros ("acc", ANE_DTYPE_INT8, shape, 2, &error);
  g_assert_false (ane_coreml_state_set (state, int8, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_clear_error (&error);
  /* the failed writes changed nothing */
  g_clear_object (&back);
  back = ane_coreml_state_get (state, "acc", ANE_DTYPE_FLOAT16, shape, 2, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (ane_tensor_get_data (back), ane_tensor_get_data (value)));

  /* an older system: the MLState has no getMultiArrayForStateNamed:handler: */
  fake_coreml_set_state_access_supported (FALSE);
  g_assert_false (ane_coreml_state_can_access (state));
  g_assert_null (ane_coreml_state_get (state, "acc", ANE_DTYPE_FLOAT16, shape, 2, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "'acc'"));
  g_assert_nonnull (strstr (error->message, "getMultiArrayForStateNamed:handler:"));
  g_clear_error (&error);
  g_assert_false (ane_coreml_state_set (state, value, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  /* ... and the backend keeps the states in CoreML: runs go on, states are opaque */
  exe = compiled (g, ANE_BACKEND_COREML);
  {
    g_autoptr(AneTensor) x = fp16_tensor ("x", 1.0f);
    g_autoptr(AneTensor) y = ane_executable_run_one (exe, x, &error);

    g_assert_no_error (error);
    g_assert_nonnull (y);
  }
  g_assert_null (ane_executable_dup_state (exe, "acc", &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "getMultiArrayForStateNamed:handler:"));
  g_clear_error (&error);
  ane_test_remove_tree (tmp);
  teardown ();
}

/* A converted LLaMA directory (two functions, prefill and decode) generates
 * on the CoreML backend the text the CPU backend generates: the prompt's
 * caches are handed from prefill's MLState to decode's (dup_state /
 * set_state, ane_llama_hand_over_states). */
static void
test_llama_dir_hand_over (void)
{
  /* G_TEST_SRCDIR is tests/coreml here: the models are two levels up */
  const char *model_path = g_test_get_filename (G_TEST_DIST, "..", "..", "data", "models", "stories260K.bin", NULL);
  const char *tok_path = g_test_get_filename (G_TEST_DIST, "..", "..", "data", "models", "tok512.bin", NULL);
  GError *error = NULL;
  g_autoptr(AneLlamaModel) m = ane_llama_model_load_llama2c (model_path, &error);
  g_autoptr(AneTokenizer) tok = ane_tokenizer_load_llama2c (tok_path, 512, &error);
  g_autofree char *tmp = g_dir_make_tmp ("coreml-llama-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (tmp, "stories", NULL);
  g_autoptr(AneLlamaDir) dir = NULL;
  g_autofree char *want = NULL;
  g_autofree char *got = NULL;
  guint predictions;

  g_assert_no_error (error);
  setup ();
  g_assert_true (ane_llama_model_save_dir (m, tok, out, 64, 0, ANE_TARGET_IOS18, FALSE, &error));
  g_assert_no_error (error);
  dir = ane_llama_dir_load (out, &error);
  g_assert_no_error (error);
  want = ane_llama_dir_generate (dir, "Once upon a time", 24, ANE_BACKEND_CPU, 0.0, 0.9, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  predictions = fake_coreml_predict_count ();
  got = ane_llama_dir_generate (dir, "Once upon a time", 24, ANE_BACKEND_COREML, 0.0, 0.9, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("coreml: %s", got);
  g_assert_cmpuint (strlen (want), >, 20);
  g_assert_cmpstr (got, ==, want);
  /* CoreML ran it: prefill, then decode step by step */
  g_assert_cmpuint (fake_coreml_predict_count (), >=, predictions + 20);
  /* two functions, two models loaded */
  g_assert_cmpuint (fake_coreml_load_count (), >=, 2);
  {
    /* what each decode step copies out of the MLState (for the docs) */
    g_autoptr(GPtrArray) states = ane_package_list_states (ane_llama_dir_get_package (dir), "decode", &error);
    guint64 bytes = 0;

    g_assert_no_error (error);
    g_assert_cmpuint (states->len, >, 0);
    for (guint i = 0; i < states->len; i++)
      bytes += ane_tensor_get_n_elements (g_ptr_array_index (states, i)) *
               ane_dtype_size (ane_tensor_get_dtype (g_ptr_array_index (states, i)));
    g_test_message ("decode: %u states, %" G_GUINT64_FORMAT " bytes read back per step", states->len, bytes);
  }
  ane_test_remove_tree (tmp);
  teardown ();
}

/* CoreML has no rank-0 arrays: a scalar input goes as [1], a scalar output
 * comes back as [1] and is given the graph's shape again. */
static void
test_scalars (void)
{
  static const gint64 shape[] = { 4 };
  static const gint64 axes[] = { 0 };
  static const float xs[] = { 1, 2, 3, 4.5f };
  g_autoptr(AneGraph) g = ane_graph_new ();
  GError *error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, shape, 1, &error);
  g_autoptr(AneTensor) s = ane_graph_reduce_sum (g, x, axes, 1, FALSE, &error);
  g_autoptr(AneTensor) xv = ane_tensor_new_from_floats ("x", shape, 1, xs, 4, &error);
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneTensor) y = NULL;

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "total", s, &error));
  setup ();
  exe = compiled (g, ANE_BACKEND_COREML);
  y = ane_executable_run_one (exe, xv, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_tensor_get_rank (y), ==, 0);
  g_assert_cmpfloat (ane_tensor_get_value (y, 0), ==, 10.5);
  teardown ();
}

/* Random values for every input the function declares (floats in [-1, 1),
 * int32 zeros), seeded. */
static GPtrArray *
package_inputs (AnePackage *package,
                guint32     seed)
{
  GError *error = NULL;
  g_autoptr(GPtrArray) declared = ane_package_list_inputs (package, NULL, &error);
  GPtrArray *inputs = g_ptr_array_new_with_free_func (g_object_unref);

  g_assert_no_error (error);
  for (guint i = 0; i < declared->len; i++)
    {
      AneTensor *d = g_ptr_array_index (declared, i);
      guint rank;
      const gint64 *shape = ane_tensor_get_shape (d, &rank);
      g_autoptr(AneTensor) f = ane_test_tensor_random (ane_tensor_get_name (d), shape, rank, seed + i, -1, 1);
      AneTensor *t = ane_tensor_convert (f, ane_tensor_get_dtype (d), &error);

      g_assert_no_error (error);
      g_ptr_array_add (inputs, t);
    }
  return inputs;
}

/* Packages Apple's coremltools wrote (tests/data/conformance) run on the
 * CoreML backend as they are: compiled from their own directory, outputs
 * identical to the CPU interpreter's, states carried over three runs.
 * AUTO takes CoreML for them; the ANE path is refused with the reason.
 * A multifunction package's other functions run too, named in the load's
 * configuration (MLModelConfiguration.functionName), and are refused with
 * the reason where that property is missing (before macOS 15). */
static void
test_apple_packages (void)
{
  static const char *const names[] = {
    "mlp_fp32", "mlp_fp16", "transformer_block_fp32", "sdpa_ios18", "convnet_fp32", "rmsnorm_rope_fp16",
    "quant_int8_ios16", "quant_int4_blockwise_ios18", "palettized_ios18", "stateful_kv_ios18", "multifunction",
  };

  setup ();
  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    {
      const char *path = g_test_get_filename (G_TEST_DIST, "..", "data", "conformance",
                                              names[k], "model.mlpackage", NULL);
      GError *error = NULL;
      g_autoptr(AnePackage) package = ane_package_load (path, &error);
      g_autoptr(AneExecutable) on_cpu = NULL;
      g_autoptr(AneExecutable) on_coreml = NULL;
      g_autofree char *report = NULL;
      guint compiles = fake_coreml_compile_count ();

      g_assert_no_error (error);
      on_cpu = ane_executable_new_from_package (package, NULL, &error);
      g_assert_no_error (error);
      on_coreml = ane_executable_new_from_package_full (package, NULL, ANE_BACKEND_AUTO, &error);
      g_assert_no_error (error);
      g_assert_cmpint (ane_executable_get_backend (on_coreml), ==, ANE_BACKEND_COREML);
      g_assert_cmpuint (fake_coreml_compile_count (), ==, compiles + 1);
      report = ane_executable_dup_backend_report (on_coreml);
      g_test_message ("%s: %s", names[k], report);
      g_assert_true (g_str_has_prefix (report, "ane: passed over: the Neural Engine's in-memory path runs graphs"));
      g_assert_nonnull (strstr (report, "\ncoreml: selected: fake CoreML, model compiled to "));
      for (guint step = 0; step < 3; step++)
        {
          g_autoptr(GPtrArray) inputs = package_inputs (package, 10 * k + step);
          g_autoptr(GPtrArray) a = run (on_coreml, inputs);
          g_autoptr(GPtrArray) b = run (on_cpu, inputs);

          assert_identical (a, b);
        }
      if (strcmp (names[k], "multifunction") == 0)
        {
          g_auto(GStrv) functions = ane_package_list_functions (package);

          g_assert_cmpuint (g_strv_length (functions), >, 1);
          /* the default function loads with no name in the configuration */
          g_assert_null (fake_coreml_last_function_name ());
          for (guint f = 0; functions[f] != NULL; f++)
            if (g_strcmp0 (functions[f], ane_package_get_default_function (package)) != 0)
              {
                g_autoptr(AneExecutable) fn_cpu = ane_executable_new_from_package (package, functions[f], &error);
                g_autoptr(AneExecutable) fn_coreml = NULL;

                g_assert_no_error (error);
                /* another function: its name reaches MLModelConfiguration.functionName,
                 * and the model CoreML loads runs that function */
                fn_coreml = ane_executable_new_from_package_full (package, functions[f], ANE_BACKEND_COREML, &error);
                g_assert_no_error (error);
                g_assert_cmpstr (fake_coreml_last_function_name (), ==, functions[f]);
                for (guint step = 0; step < 2; step++)
                  {
                    g_autoptr(GPtrArray) declared = ane_package_list_inputs (package, functions[f], &error);
                    g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func (g_object_unref);
                    g_autoptr(GPtrArray) a = NULL;
                    g_autoptr(GPtrArray) b = NULL;

                    g_assert_no_error (error);
                    for (guint i = 0; i < declared->len; i++)
                      {
                        AneTensor *d = g_ptr_array_index (declared, i);
                        guint rank;
                        const gint64 *shape = ane_tensor_get_shape (d, &rank);
                        g_autoptr(AneTensor) r = ane_test_tensor_random (ane_tensor_get_name (d), shape, rank,
                                                                         100 + 10 * f + step + i, -1, 1);

                        g_ptr_array_add (inputs, ane_tensor_convert (r, ane_tensor_get_dtype (d), &error));
                        g_assert_no_error (error);
                      }
                    a = run (fn_coreml, inputs);
                    b = run (fn_cpu, inputs);
                    assert_identical (a, b);
                  }
                /* an older system's configuration has no functionName: refused, with the reason */
                fake_coreml_set_function_name_supported (FALSE);
                g_assert_null (ane_executable_new_from_package_full (package, functions[f],
                                                                     ANE_BACKEND_COREML, &error));
                g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
                g_assert_nonnull (strstr (error->message, "functionName"));
                g_assert_nonnull (strstr (error->message, functions[f]));
                g_clear_error (&error);
                fake_coreml_set_function_name_supported (TRUE);
              }
        }
    }
  {
    const char *path = g_test_get_filename (G_TEST_DIST, "..", "data", "conformance",
                                            "mlp_fp32", "model.mlpackage", NULL);
    GError *error = NULL;
    g_autoptr(AnePackage) package = ane_package_load (path, &error);

    g_autoptr(AneExecutable) exe = ane_executable_new_from_package_full (package, NULL, ANE_BACKEND_COREML, &error);
    guint compiles = fake_coreml_compile_count ();

    /* other compute units: compile again, which loads again (from the cache) */
    g_assert_no_error (error);
    g_assert_cmpint (fake_coreml_last_compute_units (), ==, MLComputeUnitsAll);
    ane_executable_set_compute_units (exe, ANE_COMPUTE_UNITS_CPU_ONLY);
    g_assert_true (ane_executable_compile (exe, NULL, &error));
    g_assert_cmpint (fake_coreml_last_compute_units (), ==, MLComputeUnitsCPUOnly);
    g_assert_cmpuint (fake_coreml_compile_count (), ==, compiles);

    g_assert_null (ane_executable_new_from_package_full (package, NULL, ANE_BACKEND_ANE, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "backend 'ane': "));
    g_clear_error (&error);
    g_assert_null (ane_executable_new_from_package_full (package, NULL, ANE_BACKEND_REFERENCE, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
    g_clear_error (&error);
  }
  teardown ();
}

/* CoreML's errors arrive as GErrors with its message; AUTO records them. */
static void
test_errors_and_auto (void)
{
  g_autoptr(AneTensor) w = floats ("w", 1, 2, 3, 4, 5, 6);
  g_autoptr(AneTensor) x = floats ("x", 1, 1, 1, 1, 1, 1);
  g_autoptr(AneGraph) g = scale_graph (w);
  GError *error = NULL;

  setup ();
  {
    g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_COREML);

    fake_coreml_fail_compile ("the compiler is on strike");
    g_assert_false (ane_executable_compile (exe, NULL, &error));
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "backend 'coreml': "));
    g_assert_nonnull (strstr (error->message, "the compiler is on strike"));
    g_clear_error (&error);
  }
  {
    g_autoptr(AneExecutable) exe = compiled (g, ANE_BACKEND_COREML);

    fake_coreml_fail_predict ("the device is gone");
    g_assert_null (ane_executable_run_one (exe, x, &error));
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "the device is gone"));
    g_clear_error (&error);
  }
  if (ane_ane_runtime_get () == NULL)
    {
      g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_AUTO);
      g_autofree char *report = NULL;
      g_autoptr(AneTensor) y = NULL;

      g_assert_true (ane_executable_compile (exe, NULL, &error));
      g_assert_cmpint (ane_executable_get_backend (exe), ==, ANE_BACKEND_COREML);
      report = ane_executable_dup_backend_report (exe);
      g_test_message ("%s", report);
      g_assert_true (g_str_has_prefix (report, "ane: passed over: the Neural Engine's private path is not available"));
      g_assert_nonnull (strstr (report, "\ncoreml: selected: fake CoreML"));
      y = ane_executable_run_one (exe, x, &error);
      g_assert_no_error (error);
      assert_floats (y, 1, 2, 3, 4, 5, 6);
    }
  {
    g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_AUTO);
    g_autofree char *report = NULL;

    fake_coreml_fail_load ("no such device");
    g_assert_true (ane_executable_compile (exe, NULL, &error));
    g_assert_cmpint (ane_executable_get_backend (exe), ==, ANE_BACKEND_CPU);
    report = ane_executable_dup_backend_report (exe);
    g_assert_nonnull (strstr (report, "coreml: passed over: "));
    g_assert_nonnull (strstr (report, "no such device"));
    g_assert_true (g_str_has_suffix (report, "cpu: selected\n"));
  }
  teardown ();
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GPtrArray **out = user_data;
  GError *error = NULL;

  *out = ane_executable_run_finish (ANE_EXECUTABLE (source), result, &error);
  g_assert_no_error (error);
}

/* Async prediction: ane_executable_run_async predicts on a worker thread
 * (CoreML's predictions are thread-safe; runs of one executable are
 * serialized because they share its MLState). */
static void
test_async (void)
{
  g_autoptr(AneTensor) w = floats ("w", 1, 2, 3, 4, 5, 6);
  g_autoptr(AneTensor) x1 = floats ("x", 1, 1, 1, 1, 1, 1);
  g_autoptr(AneTensor) x2 = floats ("x", 2, 2, 2, 2, 2, 2);
  g_autoptr(AneGraph) g = scale_graph (w);
  g_autoptr(AneExecutable) exe = NULL;
  GPtrArray *r1 = NULL, *r2 = NULL;

  setup ();
  exe = compiled (g, ANE_BACKEND_COREML);
  ane_executable_run_async (exe, &x1, 1, NULL, on_done, &r1);
  ane_executable_run_async (exe, &x2, 1, NULL, on_done, &r2);
  while (r1 == NULL || r2 == NULL)
    g_main_context_iteration (NULL, TRUE);
  assert_floats (g_ptr_array_index (r1, 0), 1, 2, 3, 4, 5, 6);
  assert_floats (g_ptr_array_index (r2, 0), 2, 4, 6, 8, 10, 12);
  g_ptr_array_unref (r1);
  g_ptr_array_unref (r2);
  g_assert_cmpuint (fake_coreml_predict_count (), ==, 2);
  teardown ();
}

int
main (int argc, char **argv)
{
  int status;

  /* A fresh user cache dir, set before GLib first reads it (rather than
   * G_TEST_OPTION_ISOLATE_DIRS, whose g_set_user_dirs() leaks in GLib 2.74
   * and fails LeakSanitizer). */
  cache_home = ane_test_make_tmp_dir ("ane-coreml-cache-XXXXXX");
  g_setenv ("XDG_CACHE_HOME", cache_home, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/coreml/backend/models", test_models);
  g_test_add_func ("/coreml/backend/cache-and-params", test_cache_and_params);
  g_test_add_func ("/coreml/backend/compute-units", test_compute_units);
  g_test_add_func ("/coreml/backend/states", test_states);
  g_test_add_func ("/coreml/backend/state-round-trip", test_state_round_trip);
  g_test_add_func ("/coreml/backend/state-shim", test_state_shim);
  g_test_add_func ("/coreml/backend/llama-dir-hand-over", test_llama_dir_hand_over);
  g_test_add_func ("/coreml/backend/errors-and-auto", test_errors_and_auto);
  g_test_add_func ("/coreml/backend/async", test_async);
  g_test_add_func ("/coreml/backend/scalars", test_scalars);
  g_test_add_func ("/coreml/backend/apple-packages", test_apple_packages);
  status = g_test_run ();
  ane_test_remove_tree (cache_home);
  g_free (cache_home);
  return status;
}
