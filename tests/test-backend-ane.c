/* test-backend-ane.c: AneExecutable on the Neural Engine backend, over the
 * fake runtime in interpreter mode
 *
 * The fake device runs the MIL text the backend handed to the runtime
 * through the CPU interpreter, reading and writing the IOSurfaces in the
 * layout the runtime packed (tests/ane-fake-ane.c). So these tests cover
 * the whole path a Mac would take -- lowering with a float16 interface, MIL
 * text and weight.bin, descriptor, compile, surfaces, request, evaluate,
 * unpacking, output dtypes -- and AUTO's choices, without Apple software.
 * What they cannot cover is the real device's numerics and its private
 * API's behaviour (docs/ane-private.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-fake-ane.h"
#include "ane-test-models.h"
#include "ane-test-gguf.h"
#include "model/ane-llama-private.h"
#include "ane-executable-private.h"

static void
setup_device (void)
{
  fake_setup ();
  fake.interpret = TRUE;
}

static GPtrArray *
run_on (AneGraph     *graph,
        AneBackend    backend,
        GPtrArray    *inputs,
        char        **report)
{
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, backend);
  g_autoptr(GError) error = NULL;
  GPtrArray *outputs;

  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ane_executable_get_backend (exe), ==, backend);
  outputs = ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
  g_assert_no_error (error);
  if (report)
    *report = ane_executable_dup_backend_report (exe);
  return outputs;
}

static void
assert_identical (GPtrArray *a,
                  GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      GBytes *x = ane_tensor_get_data (g_ptr_array_index (a, i));
      GBytes *y = ane_tensor_get_data (g_ptr_array_index (b, i));

      g_assert_cmpstr (ane_tensor_get_name (g_ptr_array_index (a, i)), ==,
                       ane_tensor_get_name (g_ptr_array_index (b, i)));
      g_assert_cmpint (ane_tensor_get_dtype (g_ptr_array_index (a, i)), ==,
                       ane_tensor_get_dtype (g_ptr_array_index (b, i)));
      g_assert_true (g_bytes_equal (x, y));
    }
}

/* The ANE program declares fp16 inputs and outputs where the CPU program
 * casts fp32 <-> fp16 at its boundary: the same roundings in the same
 * places, so the outputs must be identical bit for bit. */
static void
check_model (AneGraph *(*make) (void),
             const char *name)
{
  g_autoptr(AneGraph) g = make ();
  g_autoptr(GPtrArray) inputs = ane_test_model_inputs (g, 7);
  g_autoptr(GPtrArray) on_ane = NULL;
  g_autoptr(GPtrArray) on_cpu = NULL;
  g_autofree char *report = NULL;
  guint evals = fake.n_eval;

  g_test_message ("model %s", name);
  on_ane = run_on (g, ANE_BACKEND_ANE, inputs, &report);
  g_assert_cmpuint (fake.n_eval, ==, evals + 1);
  g_assert_nonnull (strstr (report, "ane: selected: fake runtime"));
  on_cpu = run_on (g, ANE_BACKEND_CPU, inputs, NULL);
  assert_identical (on_ane, on_cpu);
}

static void
test_models (void)
{
  setup_device ();
  check_model (ane_test_model_mlp, "mlp");
  check_model (ane_test_model_convnet, "convnet");
  check_model (ane_test_model_moe, "moe");
  check_model (ane_test_model_mamba, "mamba");
  g_assert_cmpuint (fake.n_unload, ==, fake.n_load);
  fake_teardown ();
}

/* x [1, 4, 1, 40] * w + 1 (rows of 80 bytes: padded to 128 on the surface). */
static AneGraph *
scale_graph (gboolean bind)
{
  static const gint64 shape[] = { 1, 4, 1, 40 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, shape, 4);
  g_autoptr(AneTensor) w = ane_graph_param (g, "w", ANE_DTYPE_FLOAT32, shape, 4, &error);
  g_autoptr(AneTensor) one = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 1.0, &error);
  g_autoptr(AneTensor) xw = ane_graph_mul (g, x, w, &error);
  g_autoptr(AneTensor) y = ane_graph_add (g, xw, one, &error);

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  if (bind)
    {
      g_autoptr(AneTensor) wv = ane_test_tensor_random ("w", shape, 4, 3, -1, 1);
      g_assert_true (ane_graph_bind_param (g, "w", wv, &error));
      g_assert_no_error (error);
    }
  return g_steal_pointer (&g);
}

static AneTensor *
scale_input (void)
{
  static const gint64 shape[] = { 1, 4, 1, 40 };
  return ane_test_tensor_random ("x", shape, 4, 11, -2, 2);
}

static void
assert_scaled (AneTensor *y,
               AneTensor *x,
               AneTensor *w)
{
  g_autofree float *yv = ane_test_dup_floats (y);
  g_autofree float *xv = ane_test_dup_floats (x);
  g_autofree float *wv = ane_test_dup_floats (w);

  for (guint i = 0; i < 160; i++)
    {
      /* fp16 in, fp16 product and sum, as the program computes */
      float h = ane_half_to_float (ane_float_to_half (ane_half_to_float (ane_float_to_half (xv[i])) *
                                                      ane_half_to_float (ane_float_to_half (wv[i]))));
      g_assert_cmpfloat (yv[i], ==, ane_half_to_float (ane_float_to_half (h + 1.0f)));
    }
}

static void
test_auto_selects_ane (void)
{
  setup_device ();
  {
    g_autoptr(AneGraph) g = scale_graph (TRUE);
    g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_AUTO);
    g_autoptr(AneTensor) x = scale_input ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) y = NULL;
    g_autofree char *report = NULL;
    const AneNode *wn = ane_graph_find_node (g, "w");

    g_assert_true (ane_executable_compile (exe, NULL, &error));
    g_assert_cmpint (ane_executable_get_backend (exe), ==, ANE_BACKEND_ANE);
    report = ane_executable_dup_backend_report (exe);
    g_assert_true (g_str_has_prefix (report, "ane: selected: fake runtime, model compiled"));
    y = ane_executable_run_one (exe, x, &error);
    g_assert_no_error (error);
    ane_test_assert_spec (y, ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 4, 1, 40 }, 4);
    assert_scaled (y, x, wn->value);
  }
  fake_teardown ();
}

/* A graph with an int32 input, one with a state, and a runtime missing a
 * class: AUTO passes the ANE over with the reason, then CoreML (no shim in
 * this build), and runs on the CPU. */
static void
test_auto_fallbacks (void)
{
  setup_device ();
  {
    g_autoptr(AneGraph) g = ane_test_model_transformer_block ();
    g_autoptr(GPtrArray) inputs = ane_test_model_inputs (g, 5);
    g_autofree char *report = NULL;
    g_autoptr(GPtrArray) on_auto = run_on (g, ANE_BACKEND_CPU, inputs, NULL);
    g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_AUTO);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) outputs = NULL;

    g_assert_true (ane_executable_compile (exe, NULL, &error));
    g_assert_cmpint (ane_executable_get_backend (exe), ==, ANE_BACKEND_CPU);
    report = ane_executable_dup_backend_report (exe);
    g_test_message ("%s", report);
    g_assert_nonnull (strstr (report, "ane: passed over: input 'positions' is int32; the Neural Engine's "
                                      "in-memory path binds float16 surfaces only\n"));
    g_assert_nonnull (strstr (report, "coreml: passed over: CoreML.framework is only available on Apple platforms"));
    g_assert_true (g_str_has_suffix (report, "cpu: selected\n"));
    outputs = ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
    g_assert_no_error (error);
    assert_identical (outputs, on_auto);
  }
  {
    static const gint64 shape[] = { 1, 8 };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, shape, 2);
    g_autoptr(AneTensor) acc = ane_graph_state (g, "acc", ANE_DTYPE_FLOAT32, shape, 2, &error);
    g_autoptr(AneTensor) old = ane_graph_read_state (g, acc, &error);
    g_autoptr(AneTensor) sum = ane_graph_add (g, old, x, &error);
    g_autoptr(AneTensor) wr = ane_graph_write_state (g, acc, sum, &error);
    g_autoptr(AneExecutable) exe = NULL;
    g_autofree char *report = NULL;

    g_assert_no_error (error);
    g_assert_true (ane_graph_add_output (g, "y", wr, &error));
    /* states travel as inputs and outputs of the private path's program */
    exe = ane_executable_new (g, ANE_BACKEND_AUTO);
    g_assert_true (ane_executable_compile (exe, NULL, &error));
    report = ane_executable_dup_backend_report (exe);
    g_assert_cmpint (ane_executable_get_backend (exe), ==, ANE_BACKEND_ANE);
  }
  {
    g_autoptr(AneGraph) g = scale_graph (TRUE);
    g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_AUTO);
    g_autoptr(GError) error = NULL;
    g_autofree char *report = NULL;
    guint compiles = fake.n_compile;

    fake.missing_class = "_ANERequest";
    g_assert_true (ane_executable_compile (exe, NULL, &error));
    fake.missing_class = NULL;
    report = ane_executable_dup_backend_report (exe);
    g_assert_nonnull (strstr (report, "ane: passed over: "));
    g_assert_nonnull (strstr (report, "_ANERequest"));
    g_assert_cmpuint (fake.n_compile, ==, compiles);   /* refused before compiling anything */
    g_assert_cmpint (ane_executable_get_backend (exe), ==, ANE_BACKEND_CPU);
  }
  fake_teardown ();
}

static void
test_refusals (void)
{
  setup_device ();
  {
    g_autoptr(AneGraph) g = scale_graph (TRUE);
    g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_ANE);
    g_autoptr(GError) error = NULL;

    ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
    g_assert_false (ane_executable_compile (exe, NULL, &error));
    ane_test_assert_error (&error, ANE_ERROR_UNSUPPORTED, "backend 'ane': ", "computes in float16", NULL);
    g_assert_false (ane_executable_is_compiled (exe));
  }
  {
    /* rank 5: no [1, C, H, W] surface for it */
    static const gint64 shape[] = { 1, 2, 2, 2, 2 };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, shape, 5);
    g_autoptr(AneTensor) y = ane_graph_relu (g, x, &error);
    g_autoptr(AneExecutable) exe = NULL;

    g_assert_true (ane_graph_add_output (g, "y", y, &error));
    exe = ane_executable_new (g, ANE_BACKEND_ANE);
    g_assert_false (ane_executable_compile (exe, NULL, &error));
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "backend 'ane': "));
    g_clear_error (&error);
  }
  fake_teardown ();

  /* No runtime at all: what Linux has by default. */
  {
    g_autoptr(AneGraph) g = scale_graph (TRUE);
    g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_ANE);
    g_autoptr(GError) error = NULL;

    if (ane_ane_runtime_get () != NULL)
      {
        /* a legitimate skip (g_test_skip, not ane_test_skip): only on a
         * Mac, where test-apple-hardware runs the real runtime */
        g_test_skip ("this platform has a Neural Engine runtime");
        return;
      }
    g_assert_false (ane_executable_compile (exe, NULL, &error));
    ane_test_assert_error (&error, ANE_ERROR_UNSUPPORTED, "backend 'ane': ", "not available on this platform", NULL);
  }
}

/* Params bound on the executable reach the device's weight.bin; binding
 * again prepares the program again (a new compile: other weights). */
/* A graph with a state on the private path: the state goes in as an input
 * and its new value comes out as an extra output; over several runs the
 * outputs and the state are those of the CPU backend. */

/* One run of g's model inputs (seed) on the private path and on the CPU
 * backend: the same outputs, and the same bytes in state; the private
 * path's state. */
static AneTensor *
run_both_same (AneGraph      *g,
               AneExecutable *on_ane,
               AneExecutable *on_cpu,
               guint32        seed,
               const char    *state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) inputs = ane_test_model_inputs (g, seed);
  g_autoptr(GPtrArray) a = ane_executable_run (on_ane, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
  g_autoptr(GPtrArray) b = NULL;
  g_autoptr(AneTensor) sa = NULL;
  g_autoptr(AneTensor) sb = NULL;

  g_assert_no_error (error);
  b = ane_executable_run (on_cpu, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
  g_assert_no_error (error);
  assert_identical (a, b);
  sa = ane_executable_dup_state (on_ane, state, &error);
  sb = ane_executable_dup_state (on_cpu, state, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (ane_tensor_get_data (sa), ane_tensor_get_data (sb)));
  return g_steal_pointer (&sa);
}

static void
test_states (void)
{
  static const gint64 shape[] = { 1, 8, 1, 32 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, shape, 4);
  g_autoptr(AneTensor) acc = ane_graph_state (g, "acc", ANE_DTYPE_FLOAT16, shape, 4, &error);
  g_autoptr(AneTensor) old = ane_graph_read_state (g, acc, &error);
  g_autoptr(AneTensor) old32 = ane_graph_cast (g, old, ANE_DTYPE_FLOAT32, &error);
  g_autoptr(AneTensor) sum = ane_graph_add (g, old32, x, &error);
  g_autoptr(AneTensor) sum16 = ane_graph_cast (g, sum, ANE_DTYPE_FLOAT16, &error);
  g_autoptr(AneTensor) wr = ane_graph_write_state (g, acc, sum16, &error);
  g_autoptr(AneTensor) y = ane_graph_cast (g, wr, ANE_DTYPE_FLOAT32, &error);
  AneExecutable *on_ane = NULL;
  g_autoptr(AneExecutable) on_cpu = NULL;
  guint compiles;

  setup_device ();
  compiles = fake.n_compile;
  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  on_ane = ane_executable_new (g, ANE_BACKEND_ANE);
  on_cpu = ane_executable_new (g, ANE_BACKEND_CPU);
  ane_executable_compile (on_ane, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ane_executable_compile (on_cpu, NULL, &error));
  /* the MIL the runtime got has no state left */
  g_assert_cmpuint (fake.n_compile, ==, compiles + 1);
  g_assert_null (strstr (fake.mil_text, "state<"));
  g_assert_null (strstr (fake.mil_text, "read_state"));
  for (int run = 0; run < 3; run++)
    {
      g_autoptr(AneTensor) sa = run_both_same (g, on_ane, on_cpu, 7 + run, "acc");

      g_assert_cmpint (ane_tensor_get_dtype (sa), ==, ANE_DTYPE_FLOAT16);
    }
  /* reset starts both over */
  ane_executable_reset_states (on_ane);
  {
    g_autoptr(AneTensor) s = ane_executable_dup_state (on_ane, "acc", &error);
    gsize n;
    g_autofree float *v = ane_tensor_dup_floats (s, &n, &error);

    g_assert_cmpuint (n, ==, 8 * 32);
    for (gsize i = 0; i < n; i++)
      g_assert_cmpfloat (v[i], ==, 0.0f);
  }
  g_object_unref (on_ane);
  fake_teardown ();
}

/* A KV-cache write by slice_update on a state, on the private path: the
 * state becomes an input, slice_update's result the extra output that
 * carries its new value (mil/ane-mil-states-io.c); over several runs the
 * state is the CPU backend's. The box is a const, so no int32 input is
 * needed (the path binds float16 surfaces only). */
static void
test_state_slice_update (void)
{
  static const gint64 shape[] = { 1, 8, 1, 32 }, row[] = { 1, 8, 1, 1 }, four[] = { 4 };
  static const double at[] = { 0, 0, 0, 5 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, row, 4);
  g_autoptr(AneTensor) cache = ane_graph_state (g, "cache", ANE_DTYPE_FLOAT16, shape, 4, &error);
  g_autoptr(AneTensor) old = ane_graph_read_state (g, cache, &error);
  g_autoptr(AneTensor) x16 = ane_graph_cast (g, x, ANE_DTYPE_FLOAT16, &error);
  g_autoptr(AneTensor) begin_value = ane_test_tensor_values ("begin", ANE_DTYPE_INT32, four, 1, at);
  g_autoptr(AneTensor) begin = ane_test_const (g, begin_value);
  g_autoptr(AneTensor) next = ane_graph_slice_update (g, old, x16, begin, &error);
  g_autoptr(AneTensor) wr = ane_graph_write_state (g, cache, next, &error);
  g_autoptr(AneTensor) y = ane_graph_cast (g, wr, ANE_DTYPE_FLOAT32, &error);
  g_autoptr(AneExecutable) on_ane = NULL;
  g_autoptr(AneExecutable) on_cpu = NULL;

  setup_device ();
  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  on_ane = ane_executable_new (g, ANE_BACKEND_ANE);
  on_cpu = ane_executable_new (g, ANE_BACKEND_CPU);
  g_assert_true (ane_executable_compile (on_ane, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ane_executable_compile (on_cpu, NULL, &error));
  g_assert_nonnull (strstr (fake.mil_text, "slice_update("));
  g_assert_null (strstr (fake.mil_text, "read_state"));
  for (int run = 0; run < 3; run++)
    g_object_unref (run_both_same (g, on_ane, on_cpu, 11 + run, "cache"));
  g_clear_object (&on_ane);   /* before the runtime's cache is checked empty */
  fake_teardown ();
}

/* The LLaMA steps whose caches slice_update writes take an int32 box, which
 * the path cannot bind: refused before any compile (AUTO then takes
 * CoreML), while the one-hot form compiles. */
static void
test_llama_slice_update_refused (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) sliced = ane_llama_model_build_ane_decode (m, 64, &error);
  g_autoptr(AneGraph) one_hot = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneExecutable) exe2 = NULL;
  guint compiles;

  setup_device ();
  compiles = fake.n_compile;
  g_assert_no_error (error);
  exe = ane_executable_new (sliced, ANE_BACKEND_ANE);
  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT16);
  g_assert_false (ane_executable_compile (exe, NULL, &error));
  ane_test_assert_error (&error, ANE_ERROR_UNSUPPORTED, "'write_begin'", "int32", NULL);
  g_assert_cmpuint (fake.n_compile, ==, compiles);
  one_hot = ane_llama_model_build_ane_step (m, 1, 64, 0, ane_llama_model_get_n_layers (m), ANE_LLAMA_HEAD_LOGITS,
                                            ANE_LLAMA_CACHE_WRITE_ONE_HOT, &error);
  g_assert_no_error (error);
  exe2 = ane_executable_new (one_hot, ANE_BACKEND_ANE);
  ane_executable_set_precision (exe2, ANE_PRECISION_FLOAT16);
  g_assert_true (ane_executable_compile (exe2, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fake.n_compile, ==, compiles + 1);
  g_clear_object (&exe2);
  fake_teardown ();
}

/* y = x · scale on [1, 8, 1, 32]: one program per scale. */
static AneGraph *
scaled_graph (double scale)
{
  static const gint64 shape[] = { 1, 8, 1, 32 };
  AneGraph *g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, shape, 4);
  float v = (float) scale;
  g_autoptr(AneTensor) value = ane_tensor_new_from_floats ("scale", NULL, 0, &v, 1, &error);
  g_autoptr(AneTensor) c = ane_graph_const (g, value, &error);
  g_autoptr(AneTensor) y = ane_graph_mul (g, x, c, &error);

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  return g;
}

/* The compile budget through an executable: past it the ANE backend says
 * so (ANE_ERROR_TOO_LARGE naming ANE_GLIB_ANE_COMPILE_BUDGET) without
 * asking the runtime, and AUTO passes over to another backend with that
 * reason; the same program again is not a compile. */
static void
test_compile_budget (void)
{
  g_autoptr(AneGraph) g1 = scaled_graph (2.0);
  g_autoptr(AneGraph) g2 = scaled_graph (3.0);
  g_autoptr(GError) error = NULL;
  AneExecutable *first, *same;
  g_autoptr(AneExecutable) second = NULL;
  g_autoptr(AneExecutable) fallback = NULL;
  g_autofree char *report = NULL;
  guint compiles;

  g_setenv ("ANE_GLIB_ANE_COMPILE_BUDGET", "1", TRUE);
  setup_device ();
  first = ane_executable_new (g1, ANE_BACKEND_ANE);
  g_assert_true (ane_executable_compile (first, NULL, &error));
  g_assert_no_error (error);
  compiles = fake.n_compile;
  same = ane_executable_new (g1, ANE_BACKEND_ANE);
  g_assert_true (ane_executable_compile (same, NULL, &error));
  g_assert_no_error (error);
  second = ane_executable_new (g2, ANE_BACKEND_ANE);
  g_assert_false (ane_executable_compile (second, NULL, &error));
  ane_test_assert_error (&error, ANE_ERROR_TOO_LARGE, "compile budget (1)", "ANE_GLIB_ANE_COMPILE_BUDGET", NULL);
  g_assert_cmpuint (fake.n_compile, ==, compiles);
  fallback = ane_executable_new (g2, ANE_BACKEND_AUTO);
  g_assert_true (ane_executable_compile (fallback, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ane_executable_get_backend (fallback), !=, ANE_BACKEND_ANE);
  report = ane_executable_dup_backend_report (fallback);
  g_assert_nonnull (strstr (report, "ane: passed over: "));
  g_assert_nonnull (strstr (report, "compile budget"));
  g_object_unref (same);
  g_object_unref (first);
  g_unsetenv ("ANE_GLIB_ANE_COMPILE_BUDGET");
  fake_teardown ();
  ane_ane_compile_budget_reset ();
}

/* stories260K in the Neural Engine's layout on the private path (the fake
 * runtime interpreting the MIL text it is handed): the prompt in one
 * prefill call, then decode steps, the KV caches going in and out as
 * surfaces; the same text as on the CPU backend. */
static void
test_llama_decode (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autoptr(GError) error = NULL;
  g_autofree char *on_cpu = NULL;
  g_autofree char *on_ane = NULL;
  guint evals;

  setup_device ();
  on_cpu = ane_llama_generate_layout (m, tok, "Once upon a time", 24, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT16,
                                      TRUE, 0.0, 0.9, 1, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  evals = fake.n_eval;
  on_ane = ane_llama_generate_layout (m, tok, "Once upon a time", 24, ANE_BACKEND_ANE, ANE_PRECISION_FLOAT16,
                                      TRUE, 0.0, 0.9, 1, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (on_cpu), >, 40);
  g_assert_cmpstr (on_ane, ==, on_cpu);
  /* one prefill call and one call per generated token after the first */
  g_assert_cmpuint (fake.n_eval - evals, >=, 2);
  g_assert_null (strstr (fake.mil_text, "state<"));
  /* the one-token inputs ([1, C, 1, 1]) go in 32 wide and are sliced back */
  g_assert_nonnull (strstr (fake.mil_text, "x_wide"));
  g_assert_nonnull (strstr (fake.mil_text, "slice_by_size(x = x_wide"));
  fake_teardown ();
}

/* Generation on the private path keeps the caches in the surfaces between
 * tokens (issue 14: "no copies per token"): the decode step's ports are
 * bound to buffers (ane-llama-bound.c), so the bytes the executables copy
 * do not grow with the tokens generated; a plain run would move every
 * cache in and out each token. */
static void
test_llama_no_cache_copies (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  guint64 copied[2];
  const guint n_tokens[2] = { 8, 40 };
  /* one layer's key cache at the longer run's length, fp16 */
  gint64 head = ane_llama_model_get_dim (m) / ane_llama_model_get_n_heads (m);
  guint64 one_cache = (guint64) (ane_llama_model_get_n_kv_heads (m) * head * 64 * 2);

  setup_device ();
  for (guint r = 0; r < 2; r++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *text = NULL;
      guint64 before = ane_executable_get_finished_copied ();

      text = ane_llama_generate_layout (m, tok, "Once upon a time", n_tokens[r], ANE_BACKEND_ANE,
                                        ANE_PRECISION_FLOAT16, TRUE, 0.0, 0.9, 1, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      copied[r] = ane_executable_get_finished_copied () - before;
      g_test_message ("%u tokens: %" G_GUINT64_FORMAT " bytes copied", n_tokens[r], copied[r]);
    }
  /* 32 more tokens copy less than one cache once (they copy none) */
  g_assert_cmpuint (copied[1] > copied[0] ? copied[1] - copied[0] : 0, <, one_cache);
  g_assert_cmpuint (copied[0], >, 0);   /* the prompt's call is counted: the counter works */
  fake_teardown ();
}

static void
test_params (void)
{
  setup_device ();
  {
    static const gint64 shape[] = { 1, 4, 1, 40 };
    g_autoptr(AneGraph) g = scale_graph (FALSE);
    g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_ANE);
    g_autoptr(AneTensor) x = scale_input ();
    g_autoptr(AneTensor) w1 = ane_test_tensor_random ("w", shape, 4, 21, -1, 1);
    g_autoptr(AneTensor) w2 = ane_test_tensor_random ("w", shape, 4, 22, -1, 1);
    g_autoptr(GError) error = NULL;
    g_autofree char *report = NULL;
    AneTensor *y;
    guint compiles;

    /* unbound at compile: prepared at the first run */
    g_assert_true (ane_executable_compile (exe, NULL, &error));
    report = ane_executable_dup_backend_report (exe);
    g_assert_nonnull (strstr (report, "ane: selected: prepared at the first run"));
    g_assert_null (ane_executable_run_one (exe, x, &error));
    ane_test_assert_error (&error, ANE_ERROR_MISSING_PARAM, "'w'", NULL);

    g_assert_true (ane_executable_set_param (exe, "w", w1, &error));
    compiles = fake.n_compile;
    y = ane_executable_run_one (exe, x, &error);
    g_assert_no_error (error);
    assert_scaled (y, x, w1);
    g_object_unref (y);
    g_assert_cmpuint (fake.n_compile, ==, compiles + 1);

    g_assert_true (ane_executable_set_param (exe, "w", w2, &error));
    y = ane_executable_run_one (exe, x, &error);
    g_assert_no_error (error);
    assert_scaled (y, x, w2);
    g_object_unref (y);
    g_assert_cmpuint (fake.n_compile, ==, compiles + 2);

    /* no param changed: the prepared program runs again */
    y = ane_executable_run_one (exe, x, &error);
    g_assert_no_error (error);
    g_object_unref (y);
    g_assert_cmpuint (fake.n_compile, ==, compiles + 2);
  }
  fake_teardown ();
}

/* Two executables of the same graph share one compiled model. */
static void
test_compile_cache (void)
{
  setup_device ();
  {
    g_autoptr(AneGraph) g = scale_graph (TRUE);
    g_autoptr(AneExecutable) a = ane_executable_new (g, ANE_BACKEND_ANE);
    g_autoptr(AneExecutable) b = ane_executable_new (g, ANE_BACKEND_ANE);
    g_autoptr(GError) error = NULL;
    g_autofree char *report = NULL;
    guint compiles;

    g_assert_true (ane_executable_compile (a, NULL, &error));
    compiles = fake.n_compile;
    g_assert_true (ane_executable_compile (b, NULL, &error));
    g_assert_cmpuint (fake.n_compile, ==, compiles);
    report = ane_executable_dup_backend_report (b);
    g_assert_nonnull (strstr (report, "from the compile cache"));
  }
  g_assert_cmpuint (ane_ane_cache_size (), ==, 0);
  fake_teardown ();
}

/* The MIL text handed to the Neural Engine carries the buildInfo of the
 * hardware-verified projects by default (the fake asserts the four keys on
 * every descriptor); a dialect set on the executable replaces values, adds
 * keys and compiles again (the text, so the cache key, differs). */
static void
test_dialect (void)
{
  setup_device ();
  {
    g_autoptr(AneGraph) g = scale_graph (TRUE);
    g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_ANE);
    g_autoptr(AneMilDialect) dialect = ane_mil_dialect_new ();
    g_autoptr(AneMilDialect) back = NULL;
    g_autoptr(GError) error = NULL;
    guint compiles;

    g_assert_true (ane_executable_compile (exe, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (g_hash_table_lookup (fake.build_info, "coremlc-component-MIL"), ==, "3510.2.1");
    g_assert_cmpstr (g_hash_table_lookup (fake.build_info, "coremlc-version"), ==, "3505.4.1");
    g_assert_cmpstr (g_hash_table_lookup (fake.build_info, "coremltools-component-milinternal"), ==, "");
    g_assert_cmpstr (g_hash_table_lookup (fake.build_info, "coremltools-version"), ==, "9.0");
    g_assert_cmpstr (g_hash_table_lookup (fake.build_info, "ane-glib-version"), ==, PACKAGE_VERSION);
    compiles = fake.n_compile;

    g_assert_true (ane_mil_dialect_set_build_info (dialect, "coremlc-version", "3520.5.1", &error));
    g_assert_true (ane_mil_dialect_set_build_info (dialect, "coremlc-component-MIL", "3520.4.1", &error));
    g_assert_true (ane_mil_dialect_set_build_info (dialect, "run", "dialect-test", &error));
    ane_executable_set_mil_dialect (exe, dialect);
    /* the executable keeps a copy */
    g_assert_true (ane_mil_dialect_set_build_info (dialect, "run", "changed later", &error));
    back = ane_executable_dup_mil_dialect (exe);
    g_assert_cmpstr (ane_mil_dialect_get_build_info (back, "run"), ==, "dialect-test");

    g_assert_true (ane_executable_compile (exe, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (fake.n_compile, ==, compiles + 1);
    g_assert_cmpstr (g_hash_table_lookup (fake.build_info, "coremlc-version"), ==, "3520.5.1");
    g_assert_cmpstr (g_hash_table_lookup (fake.build_info, "coremlc-component-MIL"), ==, "3520.4.1");
    g_assert_cmpstr (g_hash_table_lookup (fake.build_info, "coremltools-version"), ==, "9.0");
    g_assert_cmpstr (g_hash_table_lookup (fake.build_info, "run"), ==, "dialect-test");

    /* NULL: the default again */
    ane_executable_set_mil_dialect (exe, NULL);
    g_assert_true (ane_executable_compile (exe, NULL, &error));
    g_assert_cmpstr (g_hash_table_lookup (fake.build_info, "coremlc-version"), ==, "3505.4.1");
    g_assert_false (g_hash_table_contains (fake.build_info, "run"));
  }
  fake_teardown ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/backend/ane/models", test_models);
  g_test_add_func ("/backend/ane/auto-selects-ane", test_auto_selects_ane);
  g_test_add_func ("/backend/ane/auto-fallbacks", test_auto_fallbacks);
  g_test_add_func ("/backend/ane/refusals", test_refusals);
  g_test_add_func ("/backend/ane/params", test_params);
  g_test_add_func ("/backend/ane/states", test_states);
  g_test_add_func ("/backend/ane/compile-budget", test_compile_budget);
  g_test_add_func ("/backend/ane/state-slice-update", test_state_slice_update);
  g_test_add_func ("/backend/ane/llama-slice-update-refused", test_llama_slice_update_refused);
  g_test_add_func ("/backend/ane/llama-no-cache-copies", test_llama_no_cache_copies);
  g_test_add_func ("/backend/ane/llama-decode", test_llama_decode);
  g_test_add_func ("/backend/ane/compile-cache", test_compile_cache);
  g_test_add_func ("/backend/ane/dialect", test_dialect);
  return g_test_run ();
}
