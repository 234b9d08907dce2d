/* test-ops-elementwise.c: binary, unary, comparison and selection ops
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"

typedef AneTensor *(*BinaryFunc) (AneGraph *, AneTensor *, AneTensor *, GError **);
typedef AneTensor *(*UnaryFunc) (AneGraph *, AneTensor *, GError **);

typedef struct {
  const char *path;
  BinaryFunc  func;
  float       expected[6];   /* a [2,3] op b [3] */
} BinaryCase;

/* a = [[1,-2,3],[4,5,-6]], b = [2,4,-3] broadcast over rows; hand-computed. */
static const BinaryCase binary_cases[] = {
  { "/ane/ops/elementwise/add", ane_graph_add, { 3, 2, 0, 6, 9, -9 } },
  { "/ane/ops/elementwise/sub", ane_graph_sub, { -1, -6, 6, 2, 1, -3 } },
  { "/ane/ops/elementwise/mul", ane_graph_mul, { 2, -8, -9, 8, 20, 18 } },
  { "/ane/ops/elementwise/div", ane_graph_div, { 0.5f, -0.5f, -1, 2, 1.25f, 2 } },
  { "/ane/ops/elementwise/maximum", ane_graph_maximum, { 2, 4, 3, 4, 5, -3 } },
  { "/ane/ops/elementwise/minimum", ane_graph_minimum, { 1, -2, -3, 2, 4, -6 } },
  { "/ane/ops/elementwise/pow", ane_graph_pow, { 1, 16, 1.0f / 27, 16, 625, -1.0f / 216 } },
  { "/ane/ops/elementwise/eq", ane_graph_eq, { 0, 0, 0, 0, 0, 0 } },
  { "/ane/ops/elementwise/ne", ane_graph_ne, { 1, 1, 1, 1, 1, 1 } },
  { "/ane/ops/elementwise/lt", ane_graph_lt, { 1, 1, 0, 0, 0, 1 } },
  { "/ane/ops/elementwise/le", ane_graph_le, { 1, 1, 0, 0, 0, 1 } },
  { "/ane/ops/elementwise/gt", ane_graph_gt, { 0, 0, 1, 1, 1, 0 } },
  { "/ane/ops/elementwise/ge", ane_graph_ge, { 0, 0, 1, 1, 1, 0 } },
};

static void
test_binary (gconstpointer data)
{
  const BinaryCase *c = data;
  static const gint64 as[] = { 2, 3 }, bs[] = { 3 }, os[] = { 2, 3 };
  static const float av[] = { 1, -2, 3, 4, 5, -6 }, bv[] = { 2, 4, -3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT32, as, 2, &error);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT32, bs, 1, &error);
  g_autoptr(AneTensor) y = c->func (g, a, b, &error);
  g_autoptr(AneTensor) ta = ane_test_tensor_f32 ("a", as, 2, av);
  g_autoptr(AneTensor) tb = ane_test_tensor_f32 ("b", bs, 1, bv);
  g_autoptr(GPtrArray) out = NULL;
  gboolean is_compare = c->func == ane_graph_eq || c->func == ane_graph_ne ||
                        c->func == ane_graph_lt || c->func == ane_graph_le ||
                        c->func == ane_graph_gt || c->func == ane_graph_ge;

  g_assert_no_error (error);
  ane_test_assert_shape (y, os, 2);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, is_compare ? ANE_DTYPE_BOOL : ANE_DTYPE_FLOAT32);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, ta, tb, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), c->expected, 6, 1e-6, 0);
}

static void
test_binary_errors (void)
{
  static const gint64 s23[] = { 2, 3 }, s4[] = { 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT32, s23, 2, NULL);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT32, s4, 1, NULL);
  g_autoptr(AneTensor) h = ane_graph_input (g, "h", ANE_DTYPE_FLOAT16, s23, 2, NULL);
  g_autoptr(AneGraph) other = ane_graph_new ();
  g_autoptr(AneTensor) foreign = ane_graph_input (other, "f", ANE_DTYPE_FLOAT32, s23, 2, NULL);
  AneTensor *y;

  y = ane_graph_add (g, a, b, &error);
  g_assert_null (y);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "add"));
  g_assert_nonnull (strstr (error->message, "float32[2,3]"));
  g_assert_nonnull (strstr (error->message, "float32[4]"));
  g_clear_error (&error);

  y = ane_graph_mul (g, a, h, &error);
  g_assert_null (y);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_assert_nonnull (strstr (error->message, "float16"));
  g_clear_error (&error);

  y = ane_graph_sub (g, a, foreign, &error);
  g_assert_null (y);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH);
  g_clear_error (&error);
}

static void
test_integer_div (void)
{
  static const gint64 s[] = { 4 };
  static const gint32 av[] = { 7, -7, 9, 5 }, bv[] = { 2, 2, -4, 0 };
  static const float expected[] = { 3, -4, -3, 0 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_INT32, s, 1, &error);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_INT32, s, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_div (g, a, b, &error);
  g_autoptr(AneTensor) ta = ane_tensor_new_from_ints ("a", s, 1, av, 4, &error);
  g_autoptr(AneTensor) tb = ane_tensor_new_from_ints ("b", s, 1, bv, 4, &error);
  g_autoptr(GPtrArray) out = NULL;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, ta, tb, NULL);
  g_assert_cmpint (ane_tensor_get_dtype (g_ptr_array_index (out, 0)), ==, ANE_DTYPE_INT32);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 4, 0, 0);
}

typedef struct {
  const char *path;
  UnaryFunc   func;
  double    (*formula) (double);
} UnaryCase;

static double f_relu (double x) { return x > 0 ? x : 0; }
static double f_sigmoid (double x) { return 1 / (1 + exp (-x)); }
static double f_silu (double x) { return x / (1 + exp (-x)); }
static double f_rsqrt (double x) { return 1 / sqrt (x); }
static double f_neg (double x) { return -x; }
static double f_gelu_exact (double x) { return 0.5 * x * (1 + erf (x / sqrt (2))); }

static AneTensor *
gelu_exact (AneGraph *g, AneTensor *x, GError **error)
{
  return ane_graph_gelu (g, x, ANE_GELU_EXACT, error);
}

static const UnaryCase unary_cases[] = {
  { "/ane/ops/elementwise/relu", ane_graph_relu, f_relu },
  { "/ane/ops/elementwise/sigmoid", ane_graph_sigmoid, f_sigmoid },
  { "/ane/ops/elementwise/tanh", ane_graph_tanh, tanh },
  { "/ane/ops/elementwise/gelu-exact", gelu_exact, f_gelu_exact },
  { "/ane/ops/elementwise/silu", ane_graph_silu, f_silu },
  { "/ane/ops/elementwise/exp", ane_graph_exp, exp },
  { "/ane/ops/elementwise/log", ane_graph_log, log },
  { "/ane/ops/elementwise/sqrt", ane_graph_sqrt, sqrt },
  { "/ane/ops/elementwise/rsqrt", ane_graph_rsqrt, f_rsqrt },
  { "/ane/ops/elementwise/abs", ane_graph_abs, fabs },
  { "/ane/ops/elementwise/neg", ane_graph_neg, f_neg },
  { "/ane/ops/elementwise/sin", ane_graph_sin, sin },
  { "/ane/ops/elementwise/cos", ane_graph_cos, cos },
  { "/ane/ops/elementwise/tan", ane_graph_tan, tan },
  { "/ane/ops/elementwise/atan", ane_graph_atan, atan },
  { "/ane/ops/elementwise/erf", ane_graph_erf, erf },
};

static void
test_unary (gconstpointer data)
{
  const UnaryCase *c = data;
  /* Positive values so log/sqrt/rsqrt are defined. */
  static const float xv[] = { 0.25f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f };
  static const gint64 s[] = { 2, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 2, &error);
  g_autoptr(AneTensor) y = c->func (g, x, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s, 2, xv);
  g_autoptr(GPtrArray) out = NULL;
  float expected[6];

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  out = ane_test_run_reference (g, tx, NULL);
  for (int i = 0; i < 6; i++)
    expected[i] = (float) c->formula (xv[i]);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 6, 1e-7, 0);
}

static void
test_hand_values (void)
{
  /* Values checked by hand, independent of libm formulas above. */
  static const float xv[] = { -2.5f, -0.5f, 0.5f, 1.5f, 2.5f, 0.0f };
  static const float round_expected[] = { -2, -0, 0, 2, 2, 0 };        /* half to even */
  static const float relu_expected[] = { 0, 0, 0.5f, 1.5f, 2.5f, 0 };
  static const float gelu_tanh_expected[] = {
    /* 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3))), computed separately to 7 digits */
    -0.01508427f, -0.154286f, 0.345714f, 1.399572f, 2.484916f, 0.0f };
  static const gint64 s[] = { 6 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 1, &error);
  g_autoptr(AneTensor) r = ane_graph_round (g, x, &error);
  g_autoptr(AneTensor) re = ane_graph_relu (g, x, &error);
  g_autoptr(AneTensor) gt = ane_graph_gelu (g, x, ANE_GELU_TANH, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s, 1, xv);
  g_autoptr(GPtrArray) out = NULL;

  ane_graph_add_output (g, "round", r, &error);
  ane_graph_add_output (g, "relu", re, &error);
  ane_graph_add_output (g, "gelu", gt, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), round_expected, 6, 0, 0);
  ane_test_assert_close (g_ptr_array_index (out, 1), relu_expected, 6, 0, 0);
  ane_test_assert_close (g_ptr_array_index (out, 2), gelu_tanh_expected, 6, 1e-6, 1e-7);
}

static void
test_unary_errors (void)
{
  static const gint64 s[] = { 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, s, 1, NULL);
  g_autoptr(AneTensor) y = ane_graph_exp (g, i, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_null (y);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_assert_nonnull (strstr (error->message, "exp"));
  g_assert_nonnull (strstr (error->message, "int32[3]"));
  g_clear_error (&error);
  /* relu is defined on integers */
  r = ane_graph_relu (g, i, &error);
  g_assert_no_error (error);
  g_assert_nonnull (r);
}

static void
test_where (void)
{
  static const gint64 s[] = { 2, 2 }, one[] = { 1 };
  static const float av[] = { 1, 2, 3, 4 }, bv[] = { -1 };
  static const guint8 cv[] = { 1, 0, 0, 1 };
  static const float expected[] = { 1, -1, -1, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) cond = ane_graph_input (g, "cond", ANE_DTYPE_BOOL, s, 2, &error);
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT32, s, 2, &error);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT32, one, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_where (g, cond, a, b, &error);
  g_autoptr(GBytes) cb = g_bytes_new_static (cv, sizeof cv);
  g_autoptr(AneTensor) tc = ane_tensor_new_from_bytes ("cond", ANE_DTYPE_BOOL, s, 2, cb, &error);
  g_autoptr(AneTensor) ta = ane_test_tensor_f32 ("a", s, 2, av);
  g_autoptr(AneTensor) tb = ane_test_tensor_f32 ("b", one, 1, bv);
  g_autoptr(AneTensor) bad = NULL;
  g_autoptr(AneTensor) bad_cmp = NULL;
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tc, ta, tb, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 4, 0, 0);

  /* cond must be bool */
  bad = ane_graph_where (g, a, a, b, &error);
  g_assert_null (bad);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_assert_nonnull (strstr (error->message, "cond"));
  g_clear_error (&error);

  /* comparisons take numeric operands, not bool */
  bad_cmp = ane_graph_lt (g, cond, cond, &error);
  g_assert_null (bad_cmp);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
}

static void
test_fp16_rounding (void)
{
  /* 1 + 2^-11 is not a half; a float16 add rounds it (ties to even) to 1. */
  static const gint64 s[] = { 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT16, s, 1, &error);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT16, s, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_add (g, a, b, &error);
  guint16 one = ane_float_to_half (1.0f), tiny = ane_float_to_half (0x1p-11f);
  g_autoptr(GBytes) ba = g_bytes_new (&one, 2);
  g_autoptr(GBytes) bb = g_bytes_new (&tiny, 2);
  g_autoptr(AneTensor) ta = ane_tensor_new_from_bytes ("a", ANE_DTYPE_FLOAT16, s, 1, ba, &error);
  g_autoptr(AneTensor) tb = ane_tensor_new_from_bytes ("b", ANE_DTYPE_FLOAT16, s, 1, bb, &error);
  g_autoptr(GPtrArray) out = NULL;
  static const float expected[] = { 1.0f };

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, ta, tb, NULL);
  g_assert_cmpint (ane_tensor_get_dtype (g_ptr_array_index (out, 0)), ==, ANE_DTYPE_FLOAT16);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 1, 0, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (binary_cases); i++)
    g_test_add_data_func (binary_cases[i].path, &binary_cases[i], test_binary);
  for (guint i = 0; i < G_N_ELEMENTS (unary_cases); i++)
    g_test_add_data_func (unary_cases[i].path, &unary_cases[i], test_unary);
  g_test_add_func ("/ane/ops/elementwise/binary-errors", test_binary_errors);
  g_test_add_func ("/ane/ops/elementwise/integer-div", test_integer_div);
  g_test_add_func ("/ane/ops/elementwise/hand-values", test_hand_values);
  g_test_add_func ("/ane/ops/elementwise/unary-errors", test_unary_errors);
  g_test_add_func ("/ane/ops/elementwise/where", test_where);
  g_test_add_func ("/ane/ops/elementwise/fp16-rounding", test_fp16_rounding);
  return g_test_run ();
}
