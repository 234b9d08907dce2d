/* test-flexible-shapes.c: inputs whose shape may vary (ranges, enumerated shapes)
 *
 * Each graph is built at its declared shape, made flexible, compiled for
 * the CPU backend (which runs the one lowered program, planned per call
 * shape) and compared at several shapes with the reference evaluator of
 * the same graph (built again at each shape), at fp32 and fp16; the package
 * written from it declares the flexibility and runs the same after a
 * round trip through disk. Graphs whose program would hold a size of the
 * declared shape are refused, naming the op.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-test-util.h"
#include "ane-test-npy.h"
#include "ane-test-onnx.h"
#include "ane-package-private.h"
#include "ane-graph-private.h"
#include "mil/ane-mil-specialize-private.h"

/* y = softmax (relu (x @ w1) @ w2 + b) over the last axis, x [batch, seq, 8]. */
static AneGraph *
mlp_graph (gint64 batch,
           gint64 seq)
{
  const gint64 xs[] = { batch, seq, 8 }, w1s[] = { 8, 16 }, w2s[] = { 16, 4 }, bs[] = { 4 };
  AneGraph *g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3);
  g_autoptr(AneTensor) w1v = ane_test_tensor_random ("w1", w1s, 2, 11, -0.5f, 0.5f);
  g_autoptr(AneTensor) w2v = ane_test_tensor_random ("w2", w2s, 2, 12, -0.5f, 0.5f);
  g_autoptr(AneTensor) bv = ane_test_tensor_random ("b", bs, 1, 13, -0.1f, 0.1f);
  g_autoptr(AneTensor) w1 = ane_graph_param_with_value (g, w1v, &error);
  g_autoptr(AneTensor) w2 = ane_graph_param_with_value (g, w2v, &error);
  g_autoptr(AneTensor) b = ane_graph_param_with_value (g, bv, &error);
  g_autoptr(AneTensor) h = ane_graph_matmul (g, x, w1, FALSE, FALSE, &error);
  g_autoptr(AneTensor) r = ane_graph_relu (g, h, &error);
  g_autoptr(AneTensor) o = ane_graph_matmul (g, r, w2, FALSE, FALSE, &error);
  g_autoptr(AneTensor) ob = ane_graph_add (g, o, b, &error);
  g_autoptr(AneTensor) y = ane_graph_softmax (g, ob, -1, &error);

  g_assert_no_error (error);
  ane_test_output (g, "y", y);
  return g;
}

/* Runs exe on x and compares with the reference backend's result on the
 * graph built at x's shape. */
static void
check_run (AneExecutable *exe,
           AneGraph      *graph,
           const gint64  *shape,
           guint          rank,
           guint32        seed,
           double         tol)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_tensor_random ("x", shape, rank, seed, -1.0f, 1.0f);
  g_autoptr(AneExecutable) ref = ane_executable_new (graph, ANE_BACKEND_REFERENCE);
  g_autoptr(GPtrArray) got = NULL;
  g_autoptr(GPtrArray) want = NULL;
  g_autofree char *what = g_strdup_printf ("x [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", ...]", shape[0], shape[1]);

  got = ane_executable_run (exe, &x, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ane_executable_compile (ref, NULL, &error));
  want = ane_executable_run (ref, &x, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 1);
  {
    guint want_rank;
    const gint64 *want_shape = ane_tensor_get_shape (g_ptr_array_index (want, 0), &want_rank);

    ane_test_assert_spec (g_ptr_array_index (got, 0), ane_tensor_get_dtype (g_ptr_array_index (want, 0)),
                          want_shape, want_rank);
  }
  ane_test_assert_close_tensors (what, g_ptr_array_index (got, 0), g_ptr_array_index (want, 0), tol, tol);
}

static void
test_range (gconstpointer data)
{
  AnePrecision precision = GPOINTER_TO_INT (data);
  double tol = precision == ANE_PRECISION_FLOAT32 ? 1e-5 : 4e-3;
  g_autoptr(AneGraph) g = mlp_graph (2, 5);
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(GError) error = NULL;
  static const gint64 shapes[][3] = { { 2, 5, 8 }, { 1, 5, 8 }, { 3, 17, 8 }, { 4, 1, 8 }, { 2, 64, 8 }, { 3, 17, 8 } };

  g_assert_true (ane_graph_set_input_range (g, "x", 0, 1, 4, &error));
  g_assert_no_error (error);
  g_assert_false (ane_graph_set_input_range (g, "x", 1, 1, -1, &error));   /* ML programs: bounded */
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "upper bound"));
  g_clear_error (&error);
  g_assert_true (ane_graph_set_input_range (g, "x", 1, 1, 64, &error));
  g_assert_no_error (error);
  exe = ane_executable_new (g, ANE_BACKEND_CPU);
  ane_executable_set_precision (exe, precision);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      g_autoptr(AneGraph) at = mlp_graph (shapes[i][0], shapes[i][1]);

      check_run (exe, at, shapes[i], 3, 100 + i, tol);
    }

  /* outside the range: refused, naming the input, the axis and the range */
  {
    static const gint64 big[] = { 5, 5, 8 }, wrong[] = { 2, 5, 9 };
    g_autoptr(AneTensor) x = ane_test_tensor_random ("x", big, 3, 1, 0, 1);
    g_autoptr(AneTensor) y = ane_test_tensor_random ("x", wrong, 3, 1, 0, 1);
    g_autoptr(GPtrArray) out = ane_executable_run (exe, &x, 1, NULL, &error);

    g_assert_null (out);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
    g_assert_nonnull (strstr (error->message, "'x'"));
    g_assert_nonnull (strstr (error->message, "axis 0"));
    g_assert_nonnull (strstr (error->message, "[1..4, 1..64, 8]"));
    g_clear_error (&error);
    out = ane_executable_run (exe, &y, 1, NULL, &error);
    g_assert_null (out);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
    g_assert_nonnull (strstr (error->message, "axis 2"));
  }
}

/* Many call shapes: plans are made, kept and started over without end. */
static void
test_many_shapes (void)
{
  g_autoptr(AneGraph) g = mlp_graph (1, 3);
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (ane_graph_set_input_range (g, "x", 1, 1, 40, &error));
  exe = ane_executable_new (g, ANE_BACKEND_CPU);
  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  for (gint64 seq = 1; seq <= 20; seq++)
    {
      const gint64 shape[] = { 1, seq, 8 };
      g_autoptr(AneGraph) at = mlp_graph (1, seq);

      check_run (exe, at, shape, 3, (guint32) seq, 1e-5);
    }
}

/* The package declares the flexibility and runs the same from disk. */
static void
test_package (void)
{
  static const gint64 enumerated[] = { 1, 4, 8, 1, 6, 8, 1, 10, 8 };
  g_autoptr(AneGraph) g = mlp_graph (1, 6);
  g_autoptr(AneGraph) ranged = mlp_graph (1, 6);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("flex-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "flex.mlpackage", NULL);
  g_autoptr(AnePackage) written = NULL;
  g_autoptr(AnePackage) loaded = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneShapeFlex) flex = NULL;
  g_autoptr(GPtrArray) outputs = NULL;
  AneMilFunction *fn;

  g_assert_true (ane_graph_set_input_shapes (g, "x", enumerated, G_N_ELEMENTS (enumerated), &error));
  g_assert_no_error (error);
  written = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  g_assert_no_error (error);
  g_assert_true (ane_package_save (written, path, FALSE, &error));
  loaded = ane_package_load (path, &error);
  g_assert_no_error (error);

  /* the description: enumerated shapes, the declared shape the default;
   * the program: the sizes that vary unknown */
  flex = ane_package_dup_input_flex (loaded, NULL, "x", &error);
  g_assert_no_error (error);
  g_assert_nonnull (flex);
  g_assert_cmpint (flex->kind, ==, ANE_SHAPE_FLEX_ENUMERATED);
  g_assert_cmpuint (flex->n_shapes, ==, 3);
  g_assert_cmpint (flex->dflt[1], ==, 6);
  fn = ane_mil_program_find_function (ane_package_get_model (loaded)->mlprogram, NULL);
  g_assert_true (ane_mil_function_is_flexible (fn));
  /* outputs whose size varies are given at the default shapes */
  outputs = ane_package_list_outputs (loaded, NULL, &error);
  g_assert_no_error (error);
  {
    guint out_rank;

    g_assert_cmpint (ane_tensor_get_shape (g_ptr_array_index (outputs, 0), &out_rank)[1], ==, 6);
  }

  exe = ane_executable_new_from_package_full (loaded, NULL, ANE_BACKEND_CPU, &error);
  g_assert_no_error (error);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(AneGraph) at = mlp_graph (enumerated[i * 3], enumerated[i * 3 + 1]);

      check_run (exe, at, enumerated + i * 3, 3, 7 + i, 4e-3);
    }
  {
    static const gint64 other[] = { 1, 5, 8 };
    g_autoptr(AneTensor) x = ane_test_tensor_random ("x", other, 3, 1, 0, 1);
    g_autoptr(GPtrArray) out = ane_executable_run (exe, &x, 1, NULL, &error);

    g_assert_null (out);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
    g_assert_nonnull (strstr (error->message, "none of its enumerated shapes"));
    g_clear_error (&error);
  }

  /* the lint judges the ops at the default shapes and says what the
   * flexible sizes cost */
  {
    g_autoptr(AneLintReport) report = ane_package_lint (loaded, ANE_LINT_NONE, &error);
    g_autoptr(AnePackage) fixed = NULL;
    g_autoptr(AneLintReport) fixed_report = NULL;
    g_autoptr(AneGraph) at_default = mlp_graph (1, 6);

    g_assert_no_error (error);
    g_assert_cmpuint (ane_lint_report_count_rule (report, "flexible-input"), ==, 1);
    g_assert_cmpuint (ane_lint_report_count_rule (report, "dynamic-shape"), ==, 0);
    fixed = ane_package_new_from_graph (at_default, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
    fixed_report = ane_package_lint (fixed, ANE_LINT_NONE, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (ane_lint_report_count_rule (fixed_report, "flexible-input"), ==, 0);
    g_assert_cmpuint (ane_lint_report_get_n_ops (report), ==, ane_lint_report_get_n_ops (fixed_report));
  }

  /* a range goes through the package the same way */
  {
    g_autoptr(AnePackage) p = NULL;
    g_autoptr(AnePackage) back = NULL;
    g_autoptr(AneShapeFlex) rf = NULL;
    g_autofree char *rpath = g_build_filename (dir, "range.mlpackage", NULL);

    g_assert_true (ane_graph_set_input_range (ranged, "x", 1, 2, 32, &error));
    p = ane_package_new_from_graph (ranged, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT32, &error);
    g_assert_no_error (error);
    g_assert_true (ane_package_save (p, rpath, FALSE, &error));
    back = ane_package_load (rpath, &error);
    g_assert_no_error (error);
    rf = ane_package_dup_input_flex (back, NULL, "x", &error);
    g_assert_nonnull (rf);
    g_assert_cmpint (rf->kind, ==, ANE_SHAPE_FLEX_RANGE);
    g_assert_cmpint (rf->lower[1], ==, 2);
    g_assert_cmpint (rf->upper[1], ==, 32);
    g_assert_cmpint (rf->lower[0], ==, 1);
    g_assert_cmpint (rf->upper[0], ==, 1);
  }
  ane_test_remove_tree (dir);
}

/* A reshape to the declared sizes holds the shape: refused, named. */
static void
test_refused (void)
{
  const gint64 xs[] = { 1, 6, 8 }, flat[] = { 48 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3);
  g_autoptr(AneTensor) r = ane_graph_reshape (g, x, flat, 1, &error);
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AnePackage) p = NULL;

  g_assert_no_error (error);
  ane_test_output (g, "y", r);
  g_assert_true (ane_graph_set_input_range (g, "x", 1, 1, 16, &error));
  exe = ane_executable_new (g, ANE_BACKEND_CPU);
  g_assert_false (ane_executable_compile (exe, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "reshape"));
  g_assert_nonnull (strstr (error->message, "flexible shapes"));
  g_clear_error (&error);
  p = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT32, &error);
  g_assert_null (p);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
}

static void
test_bad_arguments (void)
{
  const gint64 xs[] = { 2, 4 }, ss[] = { 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
  g_autoptr(AneTensor) s = ane_graph_state (g, "s", ANE_DTYPE_FLOAT16, ss, 1, &error);
  g_autoptr(AneTensor) w = ane_test_param (g, "w", ss, 1);
  static const gint64 no_default[] = { 1, 4, 3, 4 }, ragged[] = { 2, 4, 3 }, twice[] = { 2, 4, 2, 4 };

  g_assert_nonnull (s);
  g_assert_nonnull (w);
  ane_test_output (g, "y", x);
  g_assert_false (ane_graph_set_input_range (g, "nope", 0, 1, 2, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (ane_graph_set_input_range (g, "s", 0, 1, 8, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "state"));
  g_clear_error (&error);
  g_assert_false (ane_graph_set_input_range (g, "w", 0, 1, 8, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_graph_set_input_range (g, "x", 2, 1, 8, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "axis 2"));
  g_clear_error (&error);
  g_assert_false (ane_graph_set_input_range (g, "x", 0, 3, 8, &error));   /* default 2 outside */
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_graph_set_input_range (g, "x", 0, 1, -2, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_graph_set_input_shapes (g, "x", no_default, 4, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "default"));
  g_clear_error (&error);
  g_assert_false (ane_graph_set_input_shapes (g, "x", ragged, 3, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_graph_set_input_shapes (g, "x", twice, 4, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* ranges and enumerated shapes do not mix */
  g_assert_true (ane_graph_set_input_shapes (g, "x", (const gint64[]) { 2, 4, 3, 4 }, 4, &error));
  g_assert_false (ane_graph_set_input_range (g, "x", 0, 1, 8, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

/* Below iOS18, one input with enumerated shapes (coremltools' rule). */
static void
test_two_enumerated (void)
{
  const gint64 s[] = { 2, 4 };
  static const gint64 shapes[] = { 2, 4, 3, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_test_input (g, "a", ANE_DTYPE_FLOAT32, s, 2);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, s, 2);
  g_autoptr(AneTensor) y = ane_graph_add (g, a, b, &error);
  g_autoptr(AnePackage) p = NULL;
  g_autoptr(AnePackage) p18 = NULL;

  ane_test_output (g, "y", y);
  g_assert_true (ane_graph_set_input_shapes (g, "a", shapes, 4, &error));
  g_assert_true (ane_graph_set_input_shapes (g, "b", shapes, 4, &error));
  p = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT32, &error);
  g_assert_null (p);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "iOS18"));
  g_clear_error (&error);
  p18 = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p18);
}

/* An ONNX model whose reshape target comes from a Shape → Gather → Concat
 * chain of a symbolic length: folded at each shape, its one varying size
 * becomes -1 in the program. y = softmax (reshape (x, [1, S * 2, 4]) @ w). */
static void
test_onnx_range (void)
{
  static const gint64 xdims[] = { 1, -1, 8 }, wdims[] = { 4, 3 }, idx[] = { 1 }, one[] = { 1 };
  static const gint64 two[] = { 2 }, four[] = { 4 }, scal[] = { 1 };
  static const char *const params[] = { "", "S", "" };
  static float w[12];
  g_autoptr(AneTestOnnx) b = ane_test_onnx_new (17);
  Onnx__GraphProto *g = ane_test_onnx_graph (b);
  g_autofree char *dir = ane_test_make_tmp_dir ("flex-onnx-XXXXXX");
  g_autofree char *path = NULL;
  g_autoptr(AneOnnxImportOptions) options = ane_onnx_import_options_new ();
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(GError) error = NULL;
  Onnx__NodeProto *n;

  for (guint i = 0; i < 12; i++)
    w[i] = (float) i * 0.1f - 0.5f;
  ane_test_onnx_input (b, g, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, xdims, 3, params);
  ane_test_onnx_output (b, g, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
  ane_test_onnx_initializer (b, g, ane_test_onnx_floats (b, "w", wdims, 2, w));
  ane_test_onnx_initializer (b, g, ane_test_onnx_int64s (b, "idx", scal, 0, idx));
  ane_test_onnx_initializer (b, g, ane_test_onnx_int64s (b, "one", one, 1, one));
  ane_test_onnx_initializer (b, g, ane_test_onnx_int64s (b, "two", one, 1, two));
  ane_test_onnx_initializer (b, g, ane_test_onnx_int64s (b, "four", one, 1, four));
  ane_test_onnx_node (b, g, "Shape", "shape", "x", "xs");
  n = ane_test_onnx_node (b, g, "Gather", "seq", "xs,idx", "s");
  ane_test_onnx_attr_int (b, n, "axis", 0);
  ane_test_onnx_node (b, g, "Mul", "seq2", "s,two", "s2");
  n = ane_test_onnx_node (b, g, "Concat", "target", "one,s2,four", "t");
  ane_test_onnx_attr_int (b, n, "axis", 0);
  ane_test_onnx_node (b, g, "Reshape", "r", "x,t", "xr");
  ane_test_onnx_node (b, g, "MatMul", "mm", "xr,w", "h");
  n = ane_test_onnx_node (b, g, "Softmax", "sm", "h", "y");
  ane_test_onnx_attr_int (b, n, "axis", -1);
  path = ane_test_onnx_write (b, dir, "reshape.onnx");

  {
    static const gint64 dflt[] = { 1, 6, 8 };

    ane_onnx_import_options_set_input_shape (options, "x", dflt, 3);
    ane_onnx_import_options_set_input_range (options, "x", 1, 2, 64);
  }
  graph = ane_graph_load_onnx (path, options, &error);
  g_assert_no_error (error);
  exe = ane_executable_new (graph, ANE_BACKEND_CPU);
  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  for (gint64 seq = 2; seq <= 11; seq += 3)
    {
      const gint64 shape[] = { 1, seq, 8 };
      g_autoptr(AneOnnxImportOptions) fixed = ane_onnx_import_options_new ();
      g_autoptr(AneGraph) at = NULL;

      /* the reference: the model imported at that shape alone */
      ane_onnx_import_options_set_input_shape (fixed, "x", shape, 3);
      at = ane_graph_load_onnx (path, fixed, &error);
      g_assert_no_error (error);
      check_run (exe, at, shape, 3, (guint32) seq, 1e-5);
    }
  /* the package: the reshape's varying size is -1 in its program */
  {
    g_autoptr(AnePackage) p = ane_package_new_from_graph_with_lowering (graph, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT32,
                                                                         ANE_LOWERING_GENERIC, NULL, &error);
    g_autofree char *text = NULL;

    g_assert_no_error (error);
    text = ane_package_to_mil_text (p, &error);
    g_assert_no_error (error);
    g_assert_nonnull (strstr (text, "-1"));
    g_assert_nonnull (strstr (text, "?"));
  }
  ane_test_remove_tree (dir);
}

/* PaddleOCR's text detector with a flexible image size: at the default
 * size the program gives ONNX Runtime's output; at another size the same
 * as the model imported at that size alone. */
static void
test_onnx_detector (void)
{
  g_autofree char *model = g_test_build_filename (G_TEST_DIST, "data", "onnx", "models", "ppocrv4_det.onnx", NULL);
  g_autofree char *case_dir = g_test_build_filename (G_TEST_DIST, "data", "onnx", "cases", "ppocrv4_det", NULL);
  g_autofree char *xpath = g_build_filename (case_dir, "inputs", "x.npy", NULL);
  g_autofree char *ypath = g_build_filename (case_dir, "expected", "sigmoid_0.tmp_0.npy", NULL);
  static const gint64 dflt[] = { 1, 3, 640, 640 }, other[] = { 1, 3, 384, 512 };
  g_autoptr(AneOnnxImportOptions) options = ane_onnx_import_options_new ();
  g_autoptr(AneOnnxImportOptions) fixed = ane_onnx_import_options_new ();
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(AneGraph) at = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneExecutable) exe_at = NULL;
  g_autoptr(AneTensor) x = NULL;
  g_autoptr(AneTensor) want = NULL;
  g_autoptr(AneTensor) x2 = ane_test_tensor_random ("x", other, 4, 5, -2.0f, 2.0f);
  g_autoptr(GPtrArray) got = NULL;
  g_autoptr(GPtrArray) got2 = NULL;
  g_autoptr(GPtrArray) want2 = NULL;
  g_autoptr(GError) error = NULL;

  ane_onnx_import_options_set_input_shape (options, "x", dflt, 4);
  ane_onnx_import_options_set_input_range (options, "x", 2, 256, 1280);
  ane_onnx_import_options_set_input_range (options, "x", 3, 256, 1280);
  graph = ane_graph_load_onnx (model, options, &error);
  g_assert_no_error (error);
  exe = ane_executable_new (graph, ANE_BACKEND_CPU);
  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);

  x = ane_test_npy_load (xpath, "x", &error);
  g_assert_no_error (error);
  want = ane_test_npy_load (ypath, "y", &error);
  g_assert_no_error (error);
  got = ane_executable_run (exe, &x, 1, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("detector at 640x640 vs ONNX Runtime: max error %g",
                  ane_test_assert_close_tensors ("detector at 640x640 vs ONNX Runtime", g_ptr_array_index (got, 0),
                                                 want, 1e-4, 5e-5));

  ane_onnx_import_options_set_input_shape (fixed, "x", other, 4);
  at = ane_graph_load_onnx (model, fixed, &error);
  g_assert_no_error (error);
  exe_at = ane_executable_new (at, ANE_BACKEND_CPU);
  ane_executable_set_precision (exe_at, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_executable_compile (exe_at, NULL, &error));
  got2 = ane_executable_run (exe, &x2, 1, NULL, &error);
  g_assert_no_error (error);
  want2 = ane_executable_run (exe_at, &x2, 1, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("detector at 384x512, flexible vs fixed: max error %g",
                  ane_test_assert_close_tensors ("detector at 384x512, flexible vs fixed", g_ptr_array_index (got2, 0),
                                                 g_ptr_array_index (want2, 0), 1e-5, 1e-6));

  /* a size its strides do not divide: the program says which op */
  {
    static const gint64 odd[] = { 1, 3, 400, 400 };
    g_autoptr(AneTensor) x3 = ane_test_tensor_random ("x", odd, 4, 5, -2.0f, 2.0f);
    g_autoptr(GPtrArray) none = ane_executable_run (exe, &x3, 1, NULL, &error);

    g_assert_null (none);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_TYPE_MISMATCH);
  }
}

/* The graph format keeps an input's flexibility; malformed entries are
 * parse errors naming the input. */
static void
test_json (void)
{
  static const gint64 shapes[] = { 1, 6, 8, 1, 2, 8 };
  g_autoptr(AneGraph) g = mlp_graph (1, 6);
  g_autoptr(AneGraph) e = mlp_graph (1, 6);
  g_autoptr(AneGraph) back = NULL;
  g_autoptr(AneGraph) eback = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("flex-json-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "g.json", NULL);
  g_autofree char *epath = g_build_filename (dir, "e.json", NULL);
  const AneShapeFlex *flex;

  g_assert_true (ane_graph_set_input_range (g, "x", 1, 2, 40, &error));
  g_assert_true (ane_graph_save (g, path, &error));
  g_assert_no_error (error);
  back = ane_graph_load (path, &error);
  g_assert_no_error (error);
  flex = ane_graph_get_input_flex (back, "x");
  g_assert_nonnull (flex);
  g_assert_cmpint (flex->kind, ==, ANE_SHAPE_FLEX_RANGE);
  g_assert_cmpint (flex->lower[1], ==, 2);
  g_assert_cmpint (flex->upper[1], ==, 40);
  g_assert_cmpint (flex->upper[0], ==, 1);

  g_assert_true (ane_graph_set_input_shapes (e, "x", shapes, G_N_ELEMENTS (shapes), &error));
  g_assert_true (ane_graph_save (e, epath, &error));
  eback = ane_graph_load (epath, &error);
  g_assert_no_error (error);
  flex = ane_graph_get_input_flex (eback, "x");
  g_assert_nonnull (flex);
  g_assert_cmpint (flex->kind, ==, ANE_SHAPE_FLEX_ENUMERATED);
  g_assert_cmpuint (flex->n_shapes, ==, 2);

  {
    static const char *const bad[] = {
      "\"range\":[[1,1],[2,40]]",            /* two pairs for rank 3 */
      "\"range\":[[1,1],[2,40],[8,\"x\"]]",  /* not an integer */
      "\"range\":[[1,1],[7,40],[8,8]]",      /* the default 6 outside */
      "\"shapes\":[[1,2,8]]",                /* the default missing */
      "\"shapes\":[[1,2]]",                  /* wrong rank */
      "\"range\":[[1,1],[2,40],[8,8]],\"shapes\":[[1,6,8]]",
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autofree char *json = NULL;
        g_autoptr(AneGraph) none = NULL;
        g_autoptr(GError) local = NULL;
        char *at;

        g_file_get_contents (path, &json, NULL, &error);
        g_assert_no_error (error);
        at = strstr (json, "\"range\":[[1,1],[2,40],[8,8]]");
        g_assert_nonnull (at);
        {
          g_autofree char *head = g_strndup (json, at - json);
          g_autofree char *text = g_strconcat (head, bad[i], at + strlen ("\"range\":[[1,1],[2,40],[8,8]]"), NULL);
          g_autofree char *weights = g_build_filename (dir, "g.safetensors", NULL);

          none = ane_graph_new_from_json (text, weights, &local);
          if (i == 0)
            {
              /* the same text unchanged loads */
              g_autoptr(AneGraph) fine = ane_graph_new_from_json (json, weights, &error);

              g_assert_no_error (error);
              g_assert_nonnull (fine);
            }
        }
        g_test_message ("%s", local ? local->message : "(loaded)");
        g_assert_null (none);
        g_assert_nonnull (local);
        g_assert_nonnull (strstr (local->message, "'x'"));
      }
  }
  ane_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/flexible/range/fp32", GINT_TO_POINTER (ANE_PRECISION_FLOAT32), test_range);
  g_test_add_data_func ("/flexible/range/fp16", GINT_TO_POINTER (ANE_PRECISION_FLOAT16), test_range);
  g_test_add_func ("/flexible/many-shapes", test_many_shapes);
  g_test_add_func ("/flexible/package", test_package);
  g_test_add_func ("/flexible/refused", test_refused);
  g_test_add_func ("/flexible/bad-arguments", test_bad_arguments);
  g_test_add_func ("/flexible/two-enumerated", test_two_enumerated);
  g_test_add_func ("/flexible/json", test_json);
  g_test_add_func ("/flexible/onnx/range", test_onnx_range);
  g_test_add_func ("/flexible/onnx/detector", test_onnx_detector);
  return g_test_run ();
}
