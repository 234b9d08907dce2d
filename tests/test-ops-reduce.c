/* test-ops-reduce.c: reduce_sum/mean/max/min/prod, cumsum, top_k, scatter_add
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ane-test-util.h"

/* --- helpers ----------------------------------------------------------- */

typedef AneTensor *(*ReduceFunc) (AneGraph *, AneTensor *, const gint64 *, guint, gboolean, GError **);

/* --- reductions -------------------------------------------------------- */

typedef struct {
  const char *path;
  ReduceFunc  func;
  gint64      axes[3];
  guint       n_axes;
  gboolean    keepdims;
  gint64      shape[2];
  guint       rank;
  double      expected[3];
} ReduceCase;

/* x = [[1, -2, 3], [4, 5, -6]] (float32[2,3]); expected values by hand. */
static const ReduceCase reduce_cases[] = {
  { "/ane/ops/reduce/reduce_sum/all", ane_graph_reduce_sum, { 0 }, 0, FALSE, { 0 }, 0, { 5 } },
  { "/ane/ops/reduce/reduce_sum/all-keepdims", ane_graph_reduce_sum, { 0 }, 0, TRUE, { 1, 1 }, 2, { 5 } },
  { "/ane/ops/reduce/reduce_sum/axis0", ane_graph_reduce_sum, { 0 }, 1, FALSE, { 3 }, 1, { 5, 3, -3 } },
  { "/ane/ops/reduce/reduce_sum/axis-1-keepdims", ane_graph_reduce_sum, { -1 }, 1, TRUE, { 2, 1 }, 2, { 2, 3 } },
  { "/ane/ops/reduce/reduce_sum/both", ane_graph_reduce_sum, { -1, 0 }, 2, FALSE, { 0 }, 0, { 5 } },
  { "/ane/ops/reduce/reduce_mean/axis-1", ane_graph_reduce_mean, { -1 }, 1, FALSE, { 2 }, 1, { 2.0 / 3.0, 1 } },
  { "/ane/ops/reduce/reduce_mean/axis0-keepdims", ane_graph_reduce_mean, { 0 }, 1, TRUE, { 1, 3 }, 2, { 2.5, 1.5, -1.5 } },
  { "/ane/ops/reduce/reduce_mean/all", ane_graph_reduce_mean, { 0 }, 0, FALSE, { 0 }, 0, { 5.0 / 6.0 } },
  { "/ane/ops/reduce/reduce_max/axis1", ane_graph_reduce_max, { 1 }, 1, FALSE, { 2 }, 1, { 3, 5 } },
  { "/ane/ops/reduce/reduce_max/axis-2-keepdims", ane_graph_reduce_max, { -2 }, 1, TRUE, { 1, 3 }, 2, { 4, 5, 3 } },
  { "/ane/ops/reduce/reduce_max/all", ane_graph_reduce_max, { 0 }, 0, FALSE, { 0 }, 0, { 5 } },
  { "/ane/ops/reduce/reduce_min/axis1", ane_graph_reduce_min, { 1 }, 1, FALSE, { 2 }, 1, { -2, -6 } },
  { "/ane/ops/reduce/reduce_min/all-keepdims", ane_graph_reduce_min, { 0 }, 0, TRUE, { 1, 1 }, 2, { -6 } },
  { "/ane/ops/reduce/reduce_prod/axis0", ane_graph_reduce_prod, { 0 }, 1, FALSE, { 3 }, 1, { 4, -10, -18 } },
  { "/ane/ops/reduce/reduce_prod/all", ane_graph_reduce_prod, { 0 }, 0, FALSE, { 0 }, 0, { 720 } },
  { "/ane/ops/reduce/reduce_prod/axis-1-keepdims", ane_graph_reduce_prod, { -1 }, 1, TRUE, { 2, 1 }, 2, { -6, -120 } },
};

static void
test_reduce (gconstpointer data)
{
  const ReduceCase *c = data;
  static const gint64 xs[] = { 2, 3 };
  static const double xv[] = { 1, -2, 3, 4, 5, -6 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) y = c->func (g, x, c->n_axes ? c->axes : NULL, c->n_axes, c->keepdims, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 2, xv);
  g_autoptr(GPtrArray) out = NULL;
  gsize n = 1;

  g_assert_no_error (error);
  ane_test_assert_spec (y, ANE_DTYPE_FLOAT32, c->shape, c->rank);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, NULL);
  for (guint i = 0; i < c->rank; i++)
    n *= (gsize) c->shape[i];
  ane_test_assert_spec (g_ptr_array_index (out, 0), ANE_DTYPE_FLOAT32, c->shape, c->rank);
  /* one float32 rounding of the exact result */
  ane_test_assert_values_near (g_ptr_array_index (out, 0), c->expected, n, 1e-7);
}

static void
test_reduce_3d (void)
{
  /* x[i][j][k] = 6i + 3j + k over [2,2,3]; summing over i and k gives
   * sum_i sum_k (6i + 3j + k) = 18 + 18j + 6 = 24 + 18j. */
  static const gint64 xs[] = { 2, 2, 3 }, axes[] = { -1, 0 }, keep[] = { 1, 2, 1 }, flat[] = { 2 };
  static const double sums[] = { 24, 42 };
  static const double maxes[] = { 8, 11 };     /* max over i,k of 6i + 3j + k */
  double xv[12];
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3, NULL);
  g_autoptr(AneTensor) s = ane_graph_reduce_sum (g, x, axes, 2, TRUE, &error);
  g_autoptr(AneTensor) m = ane_graph_reduce_max (g, x, axes, 2, FALSE, &error);
  g_autoptr(AneTensor) tx = NULL;
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  for (int i = 0; i < 12; i++)
    xv[i] = i;
  tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 3, xv);
  ane_graph_add_output (g, "s", s, &error);
  ane_graph_add_output (g, "m", m, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, NULL);
  ane_test_assert_spec (g_ptr_array_index (out, 0), ANE_DTYPE_FLOAT32, keep, 3);
  ane_test_assert_values (g_ptr_array_index (out, 0), sums, 2);
  ane_test_assert_spec (g_ptr_array_index (out, 1), ANE_DTYPE_FLOAT32, flat, 1);
  ane_test_assert_values (g_ptr_array_index (out, 1), maxes, 2);
}

static void
test_reduce_integer (void)
{
  /* int32: sums and products saturate (once, at the end); max/min exact. */
  static const gint64 xs[] = { 2, 2 }, s2[] = { 2 };
  static const double xv[] = { 2147483647, 5, -70000, 70000 };
  static const double sums[] = { 2147483647, 0 };                 /* 2147483652 saturates */
  static const double prods[] = { 2147483647, -2147483648.0 };    /* -4.9e9 saturates */
  static const double maxes[] = { 2147483647, 70000 };
  static const double mins[] = { 5, -70000 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, xs, 2, NULL);
  gint64 axis = 1;
  g_autoptr(AneTensor) s = ane_graph_reduce_sum (g, x, &axis, 1, FALSE, &error);
  g_autoptr(AneTensor) p = ane_graph_reduce_prod (g, x, &axis, 1, FALSE, &error);
  g_autoptr(AneTensor) mx = ane_graph_reduce_max (g, x, &axis, 1, FALSE, &error);
  g_autoptr(AneTensor) mn = ane_graph_reduce_min (g, x, &axis, 1, FALSE, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_INT32, xs, 2, xv);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_graph_add_output (g, "s", s, &error);
  ane_graph_add_output (g, "p", p, &error);
  ane_graph_add_output (g, "mx", mx, &error);
  ane_graph_add_output (g, "mn", mn, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, NULL);
  for (guint i = 0; i < 4; i++)
    ane_test_assert_spec (g_ptr_array_index (out, i), ANE_DTYPE_INT32, s2, 1);
  ane_test_assert_values (g_ptr_array_index (out, 0), sums, 2);
  ane_test_assert_values (g_ptr_array_index (out, 1), prods, 2);
  ane_test_assert_values (g_ptr_array_index (out, 2), maxes, 2);
  ane_test_assert_values (g_ptr_array_index (out, 3), mins, 2);
}

static void
test_reduce_nan_and_empty (void)
{
  /* max/min propagate NaN (numpy.max); a sum over an empty axis is 0, a
   * product 1 and a mean NaN (0/0), as numpy. */
  static const gint64 xs[] = { 3 }, es[] = { 2, 0 }, s2[] = { 2 };
  static const double xv[] = { 1, NAN, 3 };
  static const double nan1[] = { NAN };
  static const double zeros[] = { 0, 0 }, ones[] = { 1, 1 }, nans[] = { NAN, NAN };
  gint64 axis = -1;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 1, NULL);
  /* a const: inputs may not have a zero dimension, empty values inside a
   * graph may */
  g_autoptr(AneTensor) te = ane_test_tensor_values ("e", ANE_DTYPE_FLOAT32, es, 2, NULL);
  g_autoptr(AneTensor) e = ane_graph_const (g, te, NULL);
  g_autoptr(AneTensor) mx = ane_graph_reduce_max (g, x, NULL, 0, FALSE, &error);
  g_autoptr(AneTensor) mn = ane_graph_reduce_min (g, x, NULL, 0, FALSE, &error);
  g_autoptr(AneTensor) es_ = ane_graph_reduce_sum (g, e, &axis, 1, FALSE, &error);
  g_autoptr(AneTensor) ep = ane_graph_reduce_prod (g, e, &axis, 1, FALSE, &error);
  g_autoptr(AneTensor) em = ane_graph_reduce_mean (g, e, &axis, 1, FALSE, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 1, xv);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_graph_add_output (g, "mx", mx, &error);
  ane_graph_add_output (g, "mn", mn, &error);
  ane_graph_add_output (g, "es", es_, &error);
  ane_graph_add_output (g, "ep", ep, &error);
  ane_graph_add_output (g, "em", em, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, NULL);
  g_assert_true (isnan (ane_tensor_get_value (g_ptr_array_index (out, 0), 0)));
  ane_test_assert_values (g_ptr_array_index (out, 0), nan1, 1);
  ane_test_assert_values (g_ptr_array_index (out, 1), nan1, 1);
  ane_test_assert_spec (g_ptr_array_index (out, 2), ANE_DTYPE_FLOAT32, s2, 1);
  ane_test_assert_values (g_ptr_array_index (out, 2), zeros, 2);
  ane_test_assert_values (g_ptr_array_index (out, 3), ones, 2);
  g_assert_true (isnan (ane_tensor_get_value (g_ptr_array_index (out, 4), 1)));
  ane_test_assert_values (g_ptr_array_index (out, 4), nans, 2);
}

static void
test_reduce_errors (void)
{
  static const gint64 xs[] = { 2, 3 }, es[] = { 2, 0 };
  static const gint64 dup[] = { 0, -2 }, out_of_range[] = { 2 }, one[] = { 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, xs, 2, NULL);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_BOOL, xs, 2, NULL);
  g_autoptr(AneTensor) te = ane_tensor_new_zeros ("e", ANE_DTYPE_FLOAT32, es, 2, NULL);
  g_autoptr(AneTensor) e = ane_graph_const (g, te, NULL);   /* empty: a const, as inputs may not be */
  g_autoptr(AneTensor) ok = NULL;
  AneTensor *bad;

  bad = ane_graph_reduce_mean (g, i, NULL, 0, FALSE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "reduce_mean", "'x'", "int32[2,3]", NULL);
  bad = ane_graph_reduce_sum (g, b, NULL, 0, FALSE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "reduce_sum", "'x'", "bool[2,3]", NULL);
  bad = ane_graph_reduce_prod (g, x, dup, 2, FALSE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "reduce_prod", "[0,-2]", "twice", "float32[2,3]", NULL);
  bad = ane_graph_reduce_min (g, x, out_of_range, 1, TRUE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "reduce_min", "axis 2", "'x'", "float32[2,3]", NULL);
  bad = ane_graph_reduce_max (g, e, one, 1, FALSE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "reduce_max", "empty", "float32[2,0]", NULL);
  bad = ane_graph_reduce_min (g, e, NULL, 0, FALSE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "reduce_min", "empty", "float32[2,0]", NULL);

  /* the integer reductions other than mean are fine */
  ok = ane_graph_reduce_max (g, i, one, 1, FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);
}

/* --- cumsum ------------------------------------------------------------ */

typedef struct {
  const char *path;
  int         axis;
  gboolean    exclusive, reverse;
  double      expected[6];
} CumsumCase;

/* x = [[1,2,3],[4,5,6]]; expected by hand. */
static const CumsumCase cumsum_cases[] = {
  { "/ane/ops/reduce/cumsum/axis0", 0, FALSE, FALSE, { 1, 2, 3, 5, 7, 9 } },
  { "/ane/ops/reduce/cumsum/axis-1", -1, FALSE, FALSE, { 1, 3, 6, 4, 9, 15 } },
  { "/ane/ops/reduce/cumsum/exclusive", 1, TRUE, FALSE, { 0, 1, 3, 0, 4, 9 } },
  { "/ane/ops/reduce/cumsum/reverse", 1, FALSE, TRUE, { 6, 5, 3, 15, 11, 6 } },
  { "/ane/ops/reduce/cumsum/exclusive-reverse", -1, TRUE, TRUE, { 5, 3, 0, 11, 6, 0 } },
  { "/ane/ops/reduce/cumsum/axis0-exclusive-reverse", -2, TRUE, TRUE, { 4, 5, 6, 0, 0, 0 } },
  { "/ane/ops/reduce/cumsum/axis0-exclusive", 0, TRUE, FALSE, { 0, 0, 0, 1, 2, 3 } },
  { "/ane/ops/reduce/cumsum/axis0-reverse", 0, FALSE, TRUE, { 5, 7, 9, 4, 5, 6 } },
};

static void
test_cumsum (gconstpointer data)
{
  const CumsumCase *c = data;
  static const gint64 xs[] = { 2, 3 };
  static const double xv[] = { 1, 2, 3, 4, 5, 6 };
  AneDType dtypes[] = { ANE_DTYPE_FLOAT32, ANE_DTYPE_INT32 };

  for (guint d = 0; d < G_N_ELEMENTS (dtypes); d++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", dtypes[d], xs, 2, NULL);
      g_autoptr(AneTensor) y = ane_graph_cumsum (g, x, c->axis, c->exclusive, c->reverse, &error);
      g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", dtypes[d], xs, 2, xv);
      g_autoptr(GPtrArray) out = NULL;

      g_assert_no_error (error);
      ane_test_assert_spec (y, dtypes[d], xs, 2);
      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      out = ane_test_run_reference (g, tx, NULL);
      ane_test_assert_spec (g_ptr_array_index (out, 0), dtypes[d], xs, 2);
      ane_test_assert_values (g_ptr_array_index (out, 0), c->expected, 6);
    }
}

static void
test_cumsum_errors (void)
{
  static const gint64 xs[] = { 2, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_BOOL, xs, 2, NULL);
  g_autoptr(AneTensor) s = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 1, NULL);
  AneTensor *bad;

  bad = ane_graph_cumsum (g, b, 0, FALSE, FALSE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "cumsum", "'x'", "bool[2,3]", NULL);
  bad = ane_graph_cumsum (g, x, 2, FALSE, FALSE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "cumsum", "axis 2", "float32[2,3]", NULL);
  bad = ane_graph_cumsum (g, x, -3, TRUE, FALSE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "cumsum", "axis -3", NULL);
  bad = ane_graph_cumsum (g, s, 0, FALSE, FALSE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "cumsum", "axis 0", "float32[]", NULL);
}

/* --- top_k ------------------------------------------------------------- */

static void
test_top_k_last_axis (void)
{
  /* ties keep the lower index first */
  static const gint64 xs[] = { 2, 5 }, ys[] = { 2, 3 };
  static const double xv[] = { 3, 1, 3, 5, 1,
                               0, -1, 2, 2, 2 };
  static const double values[] = { 5, 3, 3, 2, 2, 2 };
  static const double indices[] = { 3, 0, 2, 2, 3, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) idx = NULL;
  g_autoptr(AneTensor) v = ane_graph_top_k (g, x, 3, -1, &idx, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 2, xv);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_spec (v, ANE_DTYPE_FLOAT32, ys, 2);
  ane_test_assert_spec (idx, ANE_DTYPE_INT32, ys, 2);
  ane_graph_add_output (g, "v", v, &error);
  ane_graph_add_output (g, "i", idx, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, NULL);
  ane_test_assert_spec (g_ptr_array_index (out, 0), ANE_DTYPE_FLOAT32, ys, 2);
  ane_test_assert_spec (g_ptr_array_index (out, 1), ANE_DTYPE_INT32, ys, 2);
  ane_test_assert_values (g_ptr_array_index (out, 0), values, 6);
  ane_test_assert_values (g_ptr_array_index (out, 1), indices, 6);
}

static void
test_top_k_axis0 (void)
{
  /* x = [[1,4],[3,4],[2,9]] (int32), k = 2 along axis 0:
   * column 0: 3 (row 1), 2 (row 2); column 1: 9 (row 2), 4 (row 0, before the tie at row 1). */
  static const gint64 xs[] = { 3, 2 }, ys[] = { 2, 2 };
  static const double xv[] = { 1, 4, 3, 4, 2, 9 };
  static const double values[] = { 3, 9, 2, 4 };
  static const double indices[] = { 1, 2, 2, 0 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, xs, 2, NULL);
  g_autoptr(AneTensor) idx = NULL;
  g_autoptr(AneTensor) v = ane_graph_top_k (g, x, 2, 0, &idx, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_INT32, xs, 2, xv);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_graph_add_output (g, "v", v, &error);
  ane_graph_add_output (g, "i", idx, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, NULL);
  ane_test_assert_spec (g_ptr_array_index (out, 0), ANE_DTYPE_INT32, ys, 2);
  ane_test_assert_values (g_ptr_array_index (out, 0), values, 4);
  ane_test_assert_values (g_ptr_array_index (out, 1), indices, 4);
}

static void
test_top_k_full_sort_nan (void)
{
  /* k = dim sorts the whole axis; NaN ranks above every number (torch.topk),
   * -inf last; no indices requested. */
  static const gint64 xs[] = { 5 };
  static const double xv[] = { 1, NAN, -INFINITY, 2, 1 };
  static const double values[] = { NAN, 2, 1, 1, -INFINITY };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT16, xs, 1, NULL);
  g_autoptr(AneTensor) v = ane_graph_top_k (g, x, 5, 0, NULL, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT16, xs, 1, xv);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_graph_add_output (g, "v", v, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, NULL);
  ane_test_assert_spec (g_ptr_array_index (out, 0), ANE_DTYPE_FLOAT16, xs, 1);
  ane_test_assert_values (g_ptr_array_index (out, 0), values, 5);
}

static void
test_top_k_errors (void)
{
  static const gint64 xs[] = { 2, 5 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_BOOL, xs, 2, NULL);
  AneTensor *idx = NULL, *bad;

  bad = ane_graph_top_k (g, x, 0, -1, &idx, &error);
  g_assert_null (bad);
  g_assert_null (idx);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "top_k", "k 0", "float32[2,5]", NULL);
  bad = ane_graph_top_k (g, x, 6, 1, &idx, &error);
  g_assert_null (bad);
  g_assert_null (idx);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "top_k", "k 6", "[1, 5]", "'x'", NULL);
  bad = ane_graph_top_k (g, x, 3, 0, NULL, &error);      /* axis 0 has only 2 */
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "top_k", "k 3", "[1, 2]", NULL);
  bad = ane_graph_top_k (g, b, 1, -1, NULL, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "top_k", "'x'", "bool[2,5]", NULL);
  bad = ane_graph_top_k (g, x, 1, 2, NULL, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "top_k", "axis 2", NULL);
}

/* --- scatter_add ------------------------------------------------------- */

static void
test_scatter_add_axis0 (void)
{
  /* torch: x = ones(3,2); index = [[0,1],[2,0],[0,0]]; src = [[1,2],[3,4],[5,6]]
   * column 0: rows 0 += 1 + 5, 2 += 3; column 1: rows 1 += 2, 0 += 4 + 6. */
  static const gint64 xs[] = { 3, 2 };
  static const double xv[] = { 1, 1, 1, 1, 1, 1 };
  static const double iv[] = { 0, 1, 2, 0, 0, 0 };
  static const double uv[] = { 1, 2, 3, 4, 5, 6 };
  static const double expected[] = { 7, 11, 1, 3, 4, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT64, xs, 2, NULL);
  g_autoptr(AneTensor) u = ane_graph_input (g, "u", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) y = ane_graph_scatter_add (g, x, i, u, 0, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 2, xv);
  g_autoptr(AneTensor) ti = ane_test_tensor_values ("i", ANE_DTYPE_INT64, xs, 2, iv);
  g_autoptr(AneTensor) tu = ane_test_tensor_values ("u", ANE_DTYPE_FLOAT32, xs, 2, uv);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_spec (y, ANE_DTYPE_FLOAT32, xs, 2);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, ti, tu, NULL);
  ane_test_assert_values (g_ptr_array_index (out, 0), expected, 6);
}

static void
test_scatter_add_last_axis (void)
{
  /* x = zeros(2,3) int32, index [[2,2],[0,1]] (shorter than x along the
   * scatter axis), updates [[1,2],[3,4]], axis -1:
   * row 0: col 2 += 1 + 2; row 1: col 0 += 3, col 1 += 4. */
  static const gint64 xs[] = { 2, 3 }, is[] = { 2, 2 };
  static const double xv[] = { 0, 0, 0, 0, 0, 0 };
  static const double iv[] = { 2, 2, 0, 1 };
  static const double uv[] = { 1, 2, 3, 4 };
  static const double expected[] = { 0, 0, 3, 3, 4, 0 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, xs, 2, NULL);
  g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, is, 2, NULL);
  g_autoptr(AneTensor) u = ane_graph_input (g, "u", ANE_DTYPE_INT32, is, 2, NULL);
  g_autoptr(AneTensor) y = ane_graph_scatter_add (g, x, i, u, -1, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_INT32, xs, 2, xv);
  g_autoptr(AneTensor) ti = ane_test_tensor_values ("i", ANE_DTYPE_INT32, is, 2, iv);
  g_autoptr(AneTensor) tu = ane_test_tensor_values ("u", ANE_DTYPE_INT32, is, 2, uv);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_spec (y, ANE_DTYPE_INT32, xs, 2);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, ti, tu, NULL);
  ane_test_assert_values (g_ptr_array_index (out, 0), expected, 6);
}

static void
test_scatter_add_errors (void)
{
  static const gint64 xs[] = { 3, 2 }, s42[] = { 4, 2 }, s23[] = { 2, 3 }, s3[] = { 3 }, s22[] = { 2, 2 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) xb = ane_graph_input (g, "xb", ANE_DTYPE_BOOL, xs, 2, NULL);
  g_autoptr(AneTensor) i42 = ane_graph_input (g, "i42", ANE_DTYPE_INT32, s42, 2, NULL);
  g_autoptr(AneTensor) u42 = ane_graph_input (g, "u42", ANE_DTYPE_FLOAT32, s42, 2, NULL);
  g_autoptr(AneTensor) h42 = ane_graph_input (g, "h42", ANE_DTYPE_FLOAT16, s42, 2, NULL);
  g_autoptr(AneTensor) f42 = ane_graph_input (g, "f42", ANE_DTYPE_FLOAT32, s42, 2, NULL);
  g_autoptr(AneTensor) i23 = ane_graph_input (g, "i23", ANE_DTYPE_INT32, s23, 2, NULL);
  g_autoptr(AneTensor) u23 = ane_graph_input (g, "u23", ANE_DTYPE_FLOAT32, s23, 2, NULL);
  g_autoptr(AneTensor) i3 = ane_graph_input (g, "i3", ANE_DTYPE_INT32, s3, 1, NULL);
  g_autoptr(AneTensor) u3 = ane_graph_input (g, "u3", ANE_DTYPE_FLOAT32, s3, 1, NULL);
  g_autoptr(AneTensor) u22 = ane_graph_input (g, "u22", ANE_DTYPE_FLOAT32, s22, 2, NULL);
  /* more indices than x has rows is fine along the scatter axis (they accumulate) */
  g_autoptr(AneTensor) ok = ane_graph_scatter_add (g, x, i42, u42, 0, &error);
  AneTensor *bad;

  g_assert_no_error (error);
  ane_test_assert_spec (ok, ANE_DTYPE_FLOAT32, xs, 2);

  bad = ane_graph_scatter_add (g, x, f42, u42, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "scatter_add", "'indices'", "float32[4,2]", NULL);
  bad = ane_graph_scatter_add (g, x, i42, h42, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "scatter_add", "'updates'", "float16[4,2]", "float32[3,2]", NULL);
  bad = ane_graph_scatter_add (g, xb, i42, u42, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "scatter_add", "'x'", "bool[3,2]", NULL);
  bad = ane_graph_scatter_add (g, x, i3, u3, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "scatter_add", "'indices'", "int32[3]", "float32[3,2]", NULL);
  bad = ane_graph_scatter_add (g, x, i42, u22, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "scatter_add", "'updates'", "float32[2,2]", "int32[4,2]", NULL);
  /* [2,3] is larger than x [3,2] on the non-scatter axis 1 */
  bad = ane_graph_scatter_add (g, x, i23, u23, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "scatter_add", "'indices'", "int32[2,3]", "float32[3,2]", NULL);
  bad = ane_graph_scatter_add (g, x, i42, u42, 2, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "scatter_add", "axis 2", "float32[3,2]", NULL);
}

static void
test_scatter_add_out_of_range (void)
{
  static const gint64 xs[] = { 3 };
  static const double xv[] = { 0, 0, 0 }, uv[] = { 1, 1, 1 };
  static const double too_big[] = { 0, 3, 1 }, negative[] = { 0, -1, 1 };
  const double *cases[] = { too_big, negative };
  const char *want[] = { "index 3", "index -1" };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 1, NULL);
      g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, xs, 1, NULL);
      g_autoptr(AneTensor) u = ane_graph_input (g, "u", ANE_DTYPE_FLOAT32, xs, 1, NULL);
      g_autoptr(AneTensor) y = ane_graph_scatter_add (g, x, i, u, 0, &error);
      g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 1, xv);
      g_autoptr(AneTensor) ti = ane_test_tensor_values ("i", ANE_DTYPE_INT32, xs, 1, cases[c]);
      g_autoptr(AneTensor) tu = ane_test_tensor_values ("u", ANE_DTYPE_FLOAT32, xs, 1, uv);
      AneTensor *inputs[] = { tx, ti, tu };

      g_assert_no_error (error);
      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      ane_test_run_expect_error (g, inputs, 3, ANE_ERROR_INVALID_ARGUMENT, "scatter_add", want[c], "size 3", NULL);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (reduce_cases); i++)
    g_test_add_data_func (reduce_cases[i].path, &reduce_cases[i], test_reduce);
  g_test_add_func ("/ane/ops/reduce/reduce_sum/3d", test_reduce_3d);
  g_test_add_func ("/ane/ops/reduce/reduce/integer", test_reduce_integer);
  g_test_add_func ("/ane/ops/reduce/reduce/nan-and-empty", test_reduce_nan_and_empty);
  g_test_add_func ("/ane/ops/reduce/reduce/errors", test_reduce_errors);
  for (guint i = 0; i < G_N_ELEMENTS (cumsum_cases); i++)
    g_test_add_data_func (cumsum_cases[i].path, &cumsum_cases[i], test_cumsum);
  g_test_add_func ("/ane/ops/reduce/cumsum/errors", test_cumsum_errors);
  g_test_add_func ("/ane/ops/reduce/top_k/last-axis-ties", test_top_k_last_axis);
  g_test_add_func ("/ane/ops/reduce/top_k/axis0", test_top_k_axis0);
  g_test_add_func ("/ane/ops/reduce/top_k/full-sort-nan", test_top_k_full_sort_nan);
  g_test_add_func ("/ane/ops/reduce/top_k/errors", test_top_k_errors);
  g_test_add_func ("/ane/ops/reduce/scatter_add/axis0", test_scatter_add_axis0);
  g_test_add_func ("/ane/ops/reduce/scatter_add/last-axis", test_scatter_add_last_axis);
  g_test_add_func ("/ane/ops/reduce/scatter_add/errors", test_scatter_add_errors);
  g_test_add_func ("/ane/ops/reduce/scatter_add/out-of-range", test_scatter_add_out_of_range);
  return g_test_run ();
}
