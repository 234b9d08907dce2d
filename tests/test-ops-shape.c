/* test-ops-shape.c: reshape, transpose, concat, narrow, gather, expand, cast, stop_gradient,
 * slice_update
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"

/* --- helpers ----------------------------------------------------------- */

static void
iota (double *v,
      gsize   n)
{
  for (gsize i = 0; i < n; i++)
    v[i] = (double) i;
}

/* --- reshape ----------------------------------------------------------- */

typedef struct {
  const char *path;
  gint64      shape[4];
  guint       rank;
  gint64      expected[4];
} ReshapeCase;

/* x is float32[2,3,4] (24 elements). */
static const ReshapeCase reshape_good[] = {
  { "/ane/ops/shape/reshape/infer/minus-one-last", { 4, -1 }, 2, { 4, 6 } },
  { "/ane/ops/shape/reshape/infer/minus-one-first", { -1, 3, 2 }, 3, { 4, 3, 2 } },
  { "/ane/ops/shape/reshape/infer/flat", { -1 }, 1, { 24 } },
  { "/ane/ops/shape/reshape/infer/explicit", { 2, 1, 12 }, 3, { 2, 1, 12 } },
  { "/ane/ops/shape/reshape/infer/rank4", { 1, 2, 3, 4 }, 4, { 1, 2, 3, 4 } },
};

static void
test_reshape_good (gconstpointer data)
{
  const ReshapeCase *c = data;
  static const gint64 xs[] = { 2, 3, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3, &error);
  g_autoptr(AneTensor) y = ane_graph_reshape (g, x, c->shape, c->rank, &error);

  g_assert_no_error (error);
  ane_test_assert_spec (y, ANE_DTYPE_FLOAT32, c->expected, c->rank);
}

static void
test_reshape_errors (void)
{
  static const gint64 s23[] = { 2, 3 }, s1[] = { 1 }, q[] = { 2, 32 };
  static const gint64 bad_count[] = { 4, 2 }, two_minus[] = { -1, -1 }, neg[] = { -2, 3 };
  static const gint64 no_div[] = { -1, 4 }, zero_minus[] = { 0, -1 }, long_shape[] = { 1, 1, 1, 1, 1, 1, 6 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2, NULL);
  g_autoptr(AneTensor) one = ane_graph_input (g, "one", ANE_DTYPE_INT32, s1, 1, NULL);
  g_autoptr(AneTensor) blk = ane_graph_param (g, "blk", ANE_DTYPE_Q4_0, q, 2, NULL);
  g_autoptr(AneTensor) scalar = NULL;
  AneTensor *y;

  g_assert_nonnull (x);
  g_assert_nonnull (blk);

  y = ane_graph_reshape (g, x, bad_count, 2, &error);
  g_assert_null (y);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "reshape", "'x'", "float32[2,3]", "[4,2]", NULL);

  y = ane_graph_reshape (g, x, two_minus, 2, &error);
  g_assert_null (y);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "reshape", "[-1,-1]", "one dimension", NULL);

  y = ane_graph_reshape (g, x, neg, 2, &error);
  g_assert_null (y);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "reshape", "[-2,3]", "float32[2,3]", NULL);

  y = ane_graph_reshape (g, x, no_div, 2, &error);
  g_assert_null (y);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "reshape", "float32[2,3]", "[-1,4]", NULL);

  y = ane_graph_reshape (g, x, zero_minus, 2, &error);
  g_assert_null (y);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "reshape", "float32[2,3]", "[0,-1]", NULL);

  y = ane_graph_reshape (g, x, long_shape, 7, &error);
  g_assert_null (y);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "reshape", "at most 6", NULL);

  y = ane_graph_reshape (g, blk, q, 2, &error);
  g_assert_null (y);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "reshape", "'x'", "q4_0", NULL);

  /* A one-element tensor becomes a scalar with the empty shape. */
  scalar = ane_graph_reshape (g, one, NULL, 0, &error);
  g_assert_no_error (error);
  ane_test_assert_spec (scalar, ANE_DTYPE_INT32, NULL, 0);
}

static void
test_reshape_values (void)
{
  static const gint64 xs[] = { 2, 3 }, ts[] = { 3, -1 }, ys[] = { 3, 2 };
  static const double xv[] = { 1, -2, 3, 40000, 5, -6 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, xs, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_reshape (g, x, ts, 2, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_INT32, xs, 2, xv);
  g_autoptr(AneTensor) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_spec (y, ANE_DTYPE_INT32, ys, 2);
  out = ane_test_eval (g, y, tx, NULL);
  ane_test_assert_spec (out, ANE_DTYPE_INT32, ys, 2);
  /* C order is unchanged by a reshape. */
  ane_test_assert_values (out, xv, 6);
}

/* --- transpose --------------------------------------------------------- */

static void
test_transpose_infer (void)
{
  static const gint64 xs[] = { 2, 3, 4 }, perm[] = { 2, 0, 1 }, ys[] = { 4, 2, 3 };
  static const gint64 ident[] = { 0, 1, 2 };
  static const gint64 dup[] = { 0, 0, 1 }, neg[] = { -1, 0, 1 }, big[] = { 0, 1, 3 }, short_perm[] = { 1, 0 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_BOOL, xs, 3, &error);
  g_autoptr(AneTensor) y = ane_graph_transpose (g, x, perm, 3, &error);
  g_autoptr(AneTensor) same = ane_graph_transpose (g, x, ident, 3, &error);
  AneTensor *bad;

  g_assert_no_error (error);
  ane_test_assert_spec (y, ANE_DTYPE_BOOL, ys, 3);
  ane_test_assert_spec (same, ANE_DTYPE_BOOL, xs, 3);

  bad = ane_graph_transpose (g, x, dup, 3, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "transpose", "[0,0,1]", "bool[2,3,4]", NULL);
  bad = ane_graph_transpose (g, x, neg, 3, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "transpose", "[-1,0,1]", "permutation", NULL);
  bad = ane_graph_transpose (g, x, big, 3, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "transpose", "[0,1,3]", NULL);
  bad = ane_graph_transpose (g, x, short_perm, 2, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "transpose", "[1,0]", "'x'", "bool[2,3,4]", NULL);
}

static void
test_transpose_values (void)
{
  static const gint64 s23[] = { 2, 3 }, s32[] = { 3, 2 }, p10[] = { 1, 0 };
  static const gint64 s234[] = { 2, 3, 4 }, p201[] = { 2, 0, 1 }, s423[] = { 4, 2, 3 };
  static const double av[] = { 1, 2, 3, 4, 5, 6 };
  static const double at[] = { 1, 4, 2, 5, 3, 6 };   /* [[1,4],[2,5],[3,6]] */
  double bv[24], expected[24];
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT32, s234, 3, &error);
  g_autoptr(AneTensor) ya = ane_graph_transpose (g, a, p10, 2, &error);
  g_autoptr(AneTensor) yb = ane_graph_transpose (g, b, p201, 3, &error);
  g_autoptr(AneTensor) ta = ane_test_tensor_values ("a", ANE_DTYPE_FLOAT32, s23, 2, av);
  g_autoptr(AneTensor) tb = NULL;
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  iota (bv, 24);
  tb = ane_test_tensor_values ("b", ANE_DTYPE_FLOAT32, s234, 3, bv);
  /* out[i][j][k] = b[j][k][i], and b[j][k][i] = 12j + 4k + i. */
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 2; j++)
      for (int k = 0; k < 3; k++)
        expected[(i * 2 + j) * 3 + k] = 12 * j + 4 * k + i;
  ane_graph_add_output (g, "ya", ya, &error);
  ane_graph_add_output (g, "yb", yb, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, ta, tb, NULL);
  ane_test_assert_spec (g_ptr_array_index (out, 0), ANE_DTYPE_FLOAT32, s32, 2);
  ane_test_assert_values (g_ptr_array_index (out, 0), at, 6);
  ane_test_assert_spec (g_ptr_array_index (out, 1), ANE_DTYPE_FLOAT32, s423, 3);
  ane_test_assert_values (g_ptr_array_index (out, 1), expected, 24);
}

/* --- concat ------------------------------------------------------------ */

static void
test_concat_infer (void)
{
  static const gint64 s21[] = { 2, 1 }, s23[] = { 2, 3 }, s24[] = { 2, 4 }, s33[] = { 3, 3 };
  static const gint64 s2[] = { 2 }, s13[] = { 1, 3 }, s63[] = { 6, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT16, s21, 2, NULL);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT16, s23, 2, NULL);
  g_autoptr(AneTensor) c = ane_graph_input (g, "c", ANE_DTYPE_FLOAT16, s33, 2, NULL);
  g_autoptr(AneTensor) d = ane_graph_input (g, "d", ANE_DTYPE_FLOAT32, s23, 2, NULL);
  g_autoptr(AneTensor) r1 = ane_graph_input (g, "r1", ANE_DTYPE_FLOAT16, s2, 1, NULL);
  g_autoptr(AneTensor) e = ane_graph_input (g, "e", ANE_DTYPE_FLOAT16, s13, 2, NULL);
  g_autoptr(AneTensor) s = ane_graph_scalar (g, ANE_DTYPE_FLOAT16, 1.0, NULL);
  AneTensor *ab_in[] = { a, b }, *bc_in[] = { b, c, e }, *bd_in[] = { b, d }, *br_in[] = { b, r1 };
  AneTensor *ba_in[] = { b, a }, *ss_in[] = { s, s };
  g_autoptr(AneTensor) ab = ane_graph_concat (g, ab_in, 2, -1, &error);
  g_autoptr(AneTensor) bce = ane_graph_concat (g, bc_in, 3, 0, &error);
  g_autoptr(AneTensor) single = ane_graph_concat (g, &b, 1, 1, &error);
  AneTensor *bad;

  g_assert_no_error (error);
  ane_test_assert_spec (ab, ANE_DTYPE_FLOAT16, s24, 2);
  ane_test_assert_spec (bce, ANE_DTYPE_FLOAT16, s63, 2);
  ane_test_assert_spec (single, ANE_DTYPE_FLOAT16, s23, 2);

  bad = ane_graph_concat (g, bd_in, 2, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "concat", "values[1]", "float32[2,3]", "float16[2,3]", NULL);
  bad = ane_graph_concat (g, br_in, 2, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "concat", "values[1]", "float16[2]", "rank", NULL);
  /* dims other than the axis must agree */
  bad = ane_graph_concat (g, ba_in, 2, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "concat", "values[1]", "float16[2,1]", "float16[2,3]", NULL);
  bad = ane_graph_concat (g, ab_in, 2, 2, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "concat", "axis 2", "'values'", "float16[2,1]", NULL);
  /* numpy: zero-dimensional arrays cannot be concatenated */
  bad = ane_graph_concat (g, ss_in, 2, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "concat", "axis", NULL);
  bad = ane_graph_concat (g, NULL, 0, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "concat", "at least 1", NULL);
}

static void
test_concat_values (void)
{
  static const gint64 s21[] = { 2, 1 }, s23[] = { 2, 3 }, s24[] = { 2, 4 }, s12[] = { 1, 2 }, s32[] = { 3, 2 };
  static const gint64 s22[] = { 2, 2 };
  static const double av[] = { 1, 2 }, bv[] = { 3, 4, 5, 6, 7, 8 };
  static const double axis1[] = { 1, 3, 4, 5, 2, 6, 7, 8 };
  static const double cv[] = { 9, 10 }, dv[] = { 11, 12, 13, 14 };
  static const double axis0[] = { 9, 10, 11, 12, 13, 14 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_INT32, s21, 2, NULL);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_INT32, s23, 2, NULL);
  g_autoptr(AneTensor) c = ane_graph_input (g, "c", ANE_DTYPE_INT32, s12, 2, NULL);
  g_autoptr(AneTensor) d = ane_graph_input (g, "d", ANE_DTYPE_INT32, s22, 2, NULL);
  AneTensor *ab_in[] = { a, b }, *cd_in[] = { c, d };
  g_autoptr(AneTensor) ab = ane_graph_concat (g, ab_in, 2, 1, &error);
  g_autoptr(AneTensor) cd = ane_graph_concat (g, cd_in, 2, -2, &error);
  g_autoptr(AneTensor) ta = ane_test_tensor_values ("a", ANE_DTYPE_INT32, s21, 2, av);
  g_autoptr(AneTensor) tb = ane_test_tensor_values ("b", ANE_DTYPE_INT32, s23, 2, bv);
  g_autoptr(AneTensor) tc = ane_test_tensor_values ("c", ANE_DTYPE_INT32, s12, 2, cv);
  g_autoptr(AneTensor) td = ane_test_tensor_values ("d", ANE_DTYPE_INT32, s22, 2, dv);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_graph_add_output (g, "ab", ab, &error);
  ane_graph_add_output (g, "cd", cd, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, ta, tb, tc, td, NULL);
  ane_test_assert_spec (g_ptr_array_index (out, 0), ANE_DTYPE_INT32, s24, 2);
  ane_test_assert_values (g_ptr_array_index (out, 0), axis1, 8);
  ane_test_assert_spec (g_ptr_array_index (out, 1), ANE_DTYPE_INT32, s32, 2);
  ane_test_assert_values (g_ptr_array_index (out, 1), axis0, 6);
}

/* --- narrow ------------------------------------------------------------ */

static void
test_narrow_infer (void)
{
  static const gint64 xs[] = { 4, 5 }, s43[] = { 4, 3 }, s42[] = { 4, 2 }, s40[] = { 4, 0 }, s15[] = { 1, 5 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_UINT8, xs, 2, NULL);
  g_autoptr(AneTensor) a = ane_graph_narrow (g, x, 1, 1, 3, &error);
  g_autoptr(AneTensor) b = ane_graph_narrow (g, x, -1, -2, 2, &error);
  g_autoptr(AneTensor) c = ane_graph_narrow (g, x, 1, 5, 0, &error);       /* empty, at the end */
  g_autoptr(AneTensor) d = ane_graph_narrow (g, x, 0, -4, 1, &error);
  AneTensor *bad;

  g_assert_no_error (error);
  ane_test_assert_spec (a, ANE_DTYPE_UINT8, s43, 2);
  ane_test_assert_spec (b, ANE_DTYPE_UINT8, s42, 2);
  ane_test_assert_spec (c, ANE_DTYPE_UINT8, s40, 2);
  ane_test_assert_spec (d, ANE_DTYPE_UINT8, s15, 2);

  bad = ane_graph_narrow (g, x, 1, 3, 3, &error);     /* 3 + 3 > 5 */
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "narrow", "start 3", "length 3", "uint8[4,5]", NULL);
  bad = ane_graph_narrow (g, x, 1, -6, 1, &error);    /* before the start */
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "narrow", "start -6", "'x'", NULL);
  bad = ane_graph_narrow (g, x, 0, 0, -1, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "narrow", "length -1", NULL);
  bad = ane_graph_narrow (g, x, 1, 6, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "narrow", "start 6", NULL);
  bad = ane_graph_narrow (g, x, 2, 0, 1, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "narrow", "axis 2", "'x'", "uint8[4,5]", NULL);
}

static void
test_narrow_values (void)
{
  static const gint64 xs[] = { 2, 5 }, s22[] = { 2, 2 }, s15[] = { 1, 5 };
  static const double cols[] = { 2, 3, 7, 8 };        /* x[:, 2:4] */
  static const double row1[] = { 5, 6, 7, 8, 9 };     /* x[1:2, :] */
  double xv[10];
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) a = ane_graph_narrow (g, x, -1, -3, 2, &error);
  g_autoptr(AneTensor) b = ane_graph_narrow (g, x, 0, 1, 1, &error);
  g_autoptr(AneTensor) tx = NULL;
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  iota (xv, 10);
  tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 2, xv);
  ane_graph_add_output (g, "a", a, &error);
  ane_graph_add_output (g, "b", b, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, NULL);
  ane_test_assert_spec (g_ptr_array_index (out, 0), ANE_DTYPE_FLOAT32, s22, 2);
  ane_test_assert_values (g_ptr_array_index (out, 0), cols, 4);
  ane_test_assert_spec (g_ptr_array_index (out, 1), ANE_DTYPE_FLOAT32, s15, 2);
  ane_test_assert_values (g_ptr_array_index (out, 1), row1, 5);
}

/* --- gather ------------------------------------------------------------ */

static void
test_gather_infer (void)
{
  static const gint64 xs[] = { 3, 4 }, i2[] = { 2 }, i22[] = { 2, 2 }, x4[] = { 1, 1, 1, 2 };
  static const gint64 s24[] = { 2, 4 }, s322[] = { 3, 2, 2 }, s4[] = { 4 }, s3[] = { 3 }, empty_x[] = { 0, 2 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_BFLOAT16, xs, 2, NULL);
  g_autoptr(AneTensor) idx = ane_graph_input (g, "idx", ANE_DTYPE_INT64, i2, 1, NULL);
  g_autoptr(AneTensor) idx2 = ane_graph_input (g, "idx2", ANE_DTYPE_INT8, i22, 2, NULL);
  g_autoptr(AneTensor) fidx = ane_graph_input (g, "fidx", ANE_DTYPE_FLOAT32, i2, 1, NULL);
  g_autoptr(AneTensor) sidx = ane_graph_scalar (g, ANE_DTYPE_INT32, 1, NULL);
  g_autoptr(AneTensor) idx4 = ane_graph_input (g, "idx4", ANE_DTYPE_INT32, x4, 4, NULL);
  g_autoptr(AneTensor) tex = ane_tensor_new_zeros ("ex", ANE_DTYPE_FLOAT32, empty_x, 2, NULL);
  g_autoptr(AneTensor) ex = ane_graph_const (g, tex, NULL);   /* empty: a const, as inputs may not be */
  g_autoptr(AneTensor) a = ane_graph_gather (g, x, idx, 0, &error);
  g_autoptr(AneTensor) b = ane_graph_gather (g, x, idx2, -1, &error);
  g_autoptr(AneTensor) c = ane_graph_gather (g, x, sidx, 0, &error);
  g_autoptr(AneTensor) d = ane_graph_gather (g, x, sidx, 1, &error);
  g_autoptr(AneTensor) x4t = ane_graph_input (g, "x4", ANE_DTYPE_FLOAT32, x4, 4, NULL);
  AneTensor *bad;

  g_assert_no_error (error);
  ane_test_assert_spec (a, ANE_DTYPE_BFLOAT16, s24, 2);
  ane_test_assert_spec (b, ANE_DTYPE_BFLOAT16, s322, 3);
  ane_test_assert_spec (c, ANE_DTYPE_BFLOAT16, s4, 1);
  ane_test_assert_spec (d, ANE_DTYPE_BFLOAT16, s3, 1);

  bad = ane_graph_gather (g, x, fidx, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "gather", "'indices'", "float32[2]", NULL);
  bad = ane_graph_gather (g, x, idx, 2, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "gather", "axis 2", "'x'", "bfloat16[3,4]", NULL);
  bad = ane_graph_gather (g, x4t, idx4, 0, &error);    /* rank 3 + 4 = 7 */
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "gather", "'indices'", "int32[1,1,1,2]", "float32[1,1,1,2]", NULL);
  bad = ane_graph_gather (g, ex, idx, 0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "gather", "empty", "float32[0,2]", NULL);
}

static void
test_gather_values (void)
{
  static const gint64 xs[] = { 3, 2 }, is[] = { 4 }, is2[] = { 2, 2 }, s42[] = { 4, 2 }, s322[] = { 3, 2, 2 };
  static const double xv[] = { 1, 2, 3, 4, 5, 6 };   /* [[1,2],[3,4],[5,6]] */
  static const double iv[] = { -1, 0, 1, -3 };
  static const double rows[] = { 5, 6, 1, 2, 3, 4, 1, 2 };
  static const double iv2[] = { 1, 0, -1, -2 };       /* [[1,0],[-1,-2]] along axis 1 (size 2) */
  static const double cols[] = { 2, 1, 2, 1, 4, 3, 4, 3, 6, 5, 6, 5 };
  static const gint64 s222[] = { 2, 2, 2 };
  static const double iv3[] = { 2, 0, 1, -2 };      /* [[2,0],[1,-2]] along axis 0 (size 3) */
  static const double rows2[] = { 5, 6, 1, 2, 3, 4, 3, 4 };
  static const gint64 s2[] = { 2 };
  static const double row_scalar[] = { 3, 4 };      /* x[-2] */
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, is, 1, NULL);
  g_autoptr(AneTensor) j = ane_graph_input (g, "j", ANE_DTYPE_INT64, is2, 2, NULL);
  g_autoptr(AneTensor) a = ane_graph_gather (g, x, i, 0, &error);
  g_autoptr(AneTensor) b = ane_graph_gather (g, x, j, -1, &error);
  g_autoptr(AneTensor) k = ane_graph_input (g, "k", ANE_DTYPE_INT16, is2, 2, NULL);
  g_autoptr(AneTensor) c = ane_graph_gather (g, x, k, 0, &error);
  g_autoptr(AneTensor) s = ane_graph_scalar (g, ANE_DTYPE_INT32, -2, NULL);
  g_autoptr(AneTensor) d = ane_graph_gather (g, x, s, -2, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 2, xv);
  g_autoptr(AneTensor) ti = ane_test_tensor_values ("i", ANE_DTYPE_INT32, is, 1, iv);
  g_autoptr(AneTensor) tj = ane_test_tensor_values ("j", ANE_DTYPE_INT64, is2, 2, iv2);
  g_autoptr(AneTensor) tk = ane_test_tensor_values ("k", ANE_DTYPE_INT16, is2, 2, iv3);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_graph_add_output (g, "a", a, &error);
  ane_graph_add_output (g, "b", b, &error);
  ane_graph_add_output (g, "c", c, &error);
  ane_graph_add_output (g, "d", d, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, ti, tj, tk, NULL);
  ane_test_assert_spec (g_ptr_array_index (out, 0), ANE_DTYPE_FLOAT32, s42, 2);
  ane_test_assert_values (g_ptr_array_index (out, 0), rows, 8);
  ane_test_assert_spec (g_ptr_array_index (out, 1), ANE_DTYPE_FLOAT32, s322, 3);
  ane_test_assert_values (g_ptr_array_index (out, 1), cols, 12);
  ane_test_assert_spec (g_ptr_array_index (out, 2), ANE_DTYPE_FLOAT32, s222, 3);
  ane_test_assert_values (g_ptr_array_index (out, 2), rows2, 8);
  ane_test_assert_spec (g_ptr_array_index (out, 3), ANE_DTYPE_FLOAT32, s2, 1);
  ane_test_assert_values (g_ptr_array_index (out, 3), row_scalar, 2);
}

static void
test_gather_out_of_range (void)
{
  static const gint64 xs[] = { 3 }, is[] = { 2 };
  static const double xv[] = { 1, 2, 3 };
  static const double too_big[] = { 0, 3 }, too_small[] = { -4, 0 };
  const double *cases[] = { too_big, too_small };
  const char *want[] = { "index 3", "index -4" };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 1, NULL);
      g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, is, 1, NULL);
      g_autoptr(AneTensor) y = ane_graph_gather (g, x, i, 0, &error);
      g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 1, xv);
      g_autoptr(AneTensor) ti = ane_test_tensor_values ("i", ANE_DTYPE_INT32, is, 1, cases[c]);
      AneTensor *inputs[] = { tx, ti };

      g_assert_no_error (error);
      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      ane_test_run_expect_error (g, inputs, 2, ANE_ERROR_INVALID_ARGUMENT, "gather", want[c], "size 3", NULL);
    }
}

/* --- expand ------------------------------------------------------------ */

static void
test_expand_infer (void)
{
  static const gint64 xs[] = { 3, 1 }, t234[] = { 2, 3, 4 }, t22[] = { 2, 2 }, t30[] = { 3, 0 };
  static const gint64 t44[] = { 4, 4 }, t3[] = { 3 }, neg[] = { -1, 3, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT16, xs, 2, NULL);
  g_autoptr(AneTensor) s = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 2.0, NULL);
  g_autoptr(AneTensor) a = ane_graph_expand (g, x, t234, 3, &error);
  g_autoptr(AneTensor) b = ane_graph_expand (g, s, t22, 2, &error);
  g_autoptr(AneTensor) c = ane_graph_expand (g, x, t30, 2, &error);     /* 1 -> 0 is allowed */
  g_autoptr(AneTensor) d = ane_graph_expand (g, x, xs, 2, &error);
  AneTensor *bad;

  g_assert_no_error (error);
  ane_test_assert_spec (a, ANE_DTYPE_INT16, t234, 3);
  ane_test_assert_spec (b, ANE_DTYPE_FLOAT32, t22, 2);
  ane_test_assert_spec (c, ANE_DTYPE_INT16, t30, 2);
  ane_test_assert_spec (d, ANE_DTYPE_INT16, xs, 2);

  bad = ane_graph_expand (g, x, t44, 2, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "expand", "'x'", "int16[3,1]", "[4,4]", NULL);
  bad = ane_graph_expand (g, x, t3, 1, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "expand", "int16[3,1]", "[3]", NULL);
  bad = ane_graph_expand (g, x, neg, 3, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "expand", "[-1,3,1]", NULL);
}

static void
test_expand_values (void)
{
  static const gint64 xs[] = { 3, 1 }, ts[] = { 2, 3, 2 };
  static const double xv[] = { 1, 2, 3 };
  static const double expected[] = { 1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) y = ane_graph_expand (g, x, ts, 3, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 2, xv);
  g_autoptr(AneTensor) out = NULL;

  g_assert_no_error (error);
  out = ane_test_eval (g, y, tx, NULL);
  ane_test_assert_spec (out, ANE_DTYPE_FLOAT32, ts, 3);
  ane_test_assert_values (out, expected, 12);
}

/* --- cast -------------------------------------------------------------- */

static void
test_cast_infer (void)
{
  static const gint64 xs[] = { 2, 3 }, q[] = { 32 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) blk = ane_graph_param (g, "blk", ANE_DTYPE_Q8_0, q, 1, NULL);
  g_autoptr(AneTensor) h = ane_graph_cast (g, x, ANE_DTYPE_FLOAT16, &error);
  g_autoptr(AneTensor) b = ane_graph_cast (g, x, ANE_DTYPE_BOOL, &error);
  g_autoptr(GPtrArray) alias = NULL;
  AneTensor *bad;

  g_assert_no_error (error);
  ane_test_assert_spec (h, ANE_DTYPE_FLOAT16, xs, 2);
  ane_test_assert_spec (b, ANE_DTYPE_BOOL, xs, 2);

  /* the generic entry point accepts every name ane_dtype_from_string() does */
  alias = ane_graph_apply (g, "cast", &x, 1,
                           ane_attrs_new ("dtype", g_variant_new_string ("bf16"), NULL), &error);
  g_assert_no_error (error);
  ane_test_assert_spec (g_ptr_array_index (alias, 0), ANE_DTYPE_BFLOAT16, xs, 2);

  bad = ane_graph_cast (g, x, ANE_DTYPE_Q4_0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "cast", "q4_0", NULL);
  bad = ane_graph_cast (g, blk, ANE_DTYPE_FLOAT32, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "cast", "'x'", "q8_0[32]", NULL);
  g_assert_null (ane_graph_apply (g, "cast", &x, 1,
                                  ane_attrs_new ("dtype", g_variant_new_string ("float8"), NULL), &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "cast", "'float8'", NULL);
}

typedef struct {
  const char *path;
  AneDType    from, to;
  guint       n;
  double      in[8];
  double      expected[8];
} CastCase;

static const CastCase cast_cases[] = {
  /* truncation toward zero, saturation at both ends, NaN -> 0 */
  { "/ane/ops/shape/cast/float32-int8", ANE_DTYPE_FLOAT32, ANE_DTYPE_INT8, 8,
    { -200.75, -1.875, -0.5, 0.5, 1.875, 127.75, 300, NAN },
    { -128, -1, 0, 0, 1, 127, 127, 0 } },
  { "/ane/ops/shape/cast/float32-uint8", ANE_DTYPE_FLOAT32, ANE_DTYPE_UINT8, 4,
    { -3.5, 0.96875, 254.875, 1000 },
    { 0, 0, 254, 255 } },
  /* round to nearest even at 11 significant bits: 1 + 2^-11 is a tie (-> 1),
   * 1 + 3*2^-11 a tie (-> 1 + 2^-9); 65519 -> 65504 (max); 65520 is the tie
   * with 2^16 and overflows to inf; 0.75*2^-24 -> 2^-24 (smallest subnormal);
   * 2^-25 is the tie between 0 and 2^-24 -> 0; 0.1f -> 0x1.998p-4 */
  { "/ane/ops/shape/cast/float32-float16", ANE_DTYPE_FLOAT32, ANE_DTYPE_FLOAT16, 8,
    { 1.00048828125, 1.00146484375, 65519, 65520, 0x1.8p-25, 0x1p-25, -2.5, (double) 0.1f },
    { 1, 1.001953125, 65504, INFINITY, 0x1p-24, 0, -2.5, 0.0999755859375 } },
  /* bfloat16 keeps 8 significant bits: 1 + 2^-8 ties to 1, 1 + 3*2^-8 ties to 1 + 2^-6 */
  { "/ane/ops/shape/cast/float32-bfloat16", ANE_DTYPE_FLOAT32, ANE_DTYPE_BFLOAT16, 3,
    { 1.00390625, 1.01171875, 256.5 },
    { 1, 1.015625, 256 } },
  { "/ane/ops/shape/cast/float32-bool", ANE_DTYPE_FLOAT32, ANE_DTYPE_BOOL, 5,
    { 0, -0.0, 2.5, -1, 0x1p-100 },
    { 0, 0, 1, 1, 1 } },
  /* 2^24 + 1 is not a float32; it rounds to even (2^24) */
  { "/ane/ops/shape/cast/int32-float32", ANE_DTYPE_INT32, ANE_DTYPE_FLOAT32, 3,
    { 16777217, -7, 16777219 },
    { 16777216, -7, 16777220 } },
  { "/ane/ops/shape/cast/int32-uint8", ANE_DTYPE_INT32, ANE_DTYPE_UINT8, 4,
    { -5, 0, 255, 300 },
    { 0, 0, 255, 255 } },
  { "/ane/ops/shape/cast/bool-int32", ANE_DTYPE_BOOL, ANE_DTYPE_INT32, 2,
    { 1, 0 },
    { 1, 0 } },
  { "/ane/ops/shape/cast/float16-float32", ANE_DTYPE_FLOAT16, ANE_DTYPE_FLOAT32, 2,
    { 0.333251953125, -65504 },
    { 0.333251953125, -65504 } },
};

static void
test_cast_values (gconstpointer data)
{
  const CastCase *c = data;
  gint64 shape[] = { c->n };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", c->from, shape, 1, NULL);
  g_autoptr(AneTensor) y = ane_graph_cast (g, x, c->to, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", c->from, shape, 1, c->in);
  g_autoptr(AneTensor) out = NULL;

  g_assert_no_error (error);
  /* the inputs must be exactly representable in the source dtype */
  for (guint i = 0; i < c->n; i++)
    g_assert_true (isnan (c->in[i]) || ane_tensor_get_value (tx, i) == c->in[i]);
  out = ane_test_eval (g, y, tx, NULL);
  ane_test_assert_spec (out, c->to, shape, 1);
  ane_test_assert_values (out, c->expected, c->n);
}

/* --- stop_gradient ----------------------------------------------------- */

static void
test_stop_gradient (void)
{
  static const gint64 xs[] = { 2, 2 };
  static const double xv[] = { 1, 0, 0, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_BOOL, xs, 2, NULL);
  g_autoptr(AneTensor) blk = ane_graph_param (g, "blk", ANE_DTYPE_Q4_K, (const gint64[]) { 256 }, 1, NULL);
  g_autoptr(AneTensor) y = ane_graph_stop_gradient (g, x, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_BOOL, xs, 2, xv);
  g_autoptr(AneTensor) out = NULL;
  AneTensor *bad;

  g_assert_no_error (error);
  ane_test_assert_spec (y, ANE_DTYPE_BOOL, xs, 2);
  bad = ane_graph_stop_gradient (g, blk, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "stop_gradient", "'x'", "q4_k[256]", NULL);

  out = ane_test_eval (g, y, tx, NULL);
  ane_test_assert_spec (out, ANE_DTYPE_BOOL, xs, 2);
  ane_test_assert_values (out, xv, 4);
}

static void
test_stop_gradient_float (void)
{
  static const gint64 xs[] = { 3 };
  static const double xv[] = { -1.5, 0.25, 1e6 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 1, NULL);
  g_autoptr(AneTensor) y = ane_graph_stop_gradient (g, x, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 1, xv);
  g_autoptr(AneTensor) out = NULL;

  g_assert_no_error (error);
  out = ane_test_eval (g, y, tx, NULL);
  ane_test_assert_values (out, xv, 3);
}

/* --- a chain: the ops compose ------------------------------------------ */

static void
test_chain (void)
{
  /* x[2,3] -> reshape [3,2] -> transpose -> narrow cols 1..2 -> concat with itself on axis 0 */
  static const gint64 xs[] = { 2, 3 }, rs[] = { 3, -1 }, perm[] = { 1, 0 }, ys[] = { 4, 2 };
  static const double xv[] = { 1, 2, 3, 4, 5, 6 };
  /* reshape: [[1,2],[3,4],[5,6]]; transpose: [[1,3,5],[2,4,6]]; narrow axis 1
   * start 1 length 2: [[3,5],[4,6]]; concat twice: */
  static const double expected[] = { 3, 5, 4, 6, 3, 5, 4, 6 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT16, xs, 2, NULL);
  g_autoptr(AneTensor) r = ane_graph_reshape (g, x, rs, 2, &error);
  g_autoptr(AneTensor) t = ane_graph_transpose (g, r, perm, 2, &error);
  g_autoptr(AneTensor) n = ane_graph_narrow (g, t, 1, 1, 2, &error);
  AneTensor *pair[] = { n, n };
  g_autoptr(AneTensor) y = ane_graph_concat (g, pair, 2, 0, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT16, xs, 2, xv);
  g_autoptr(AneTensor) out = NULL;

  g_assert_no_error (error);
  out = ane_test_eval (g, y, tx, NULL);
  ane_test_assert_spec (out, ANE_DTYPE_FLOAT16, ys, 2);
  ane_test_assert_values (out, expected, 8);
}

/* --- slice_update ------------------------------------------------------ */

static void
test_slice_update_infer (void)
{
  static const gint64 xs[] = { 2, 5 }, us[] = { 1, 3 }, big[] = { 1, 6 }, b2[] = { 2 }, b3[] = { 3 };
  static const gint64 u1[] = { 3 }, s0[] = { 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT16, xs, 2);
  g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT16, us, 2);
  g_autoptr(AneTensor) u32 = ane_test_input (g, "u32", ANE_DTYPE_FLOAT32, us, 2);
  g_autoptr(AneTensor) ubig = ane_test_input (g, "ubig", ANE_DTYPE_FLOAT16, big, 2);
  g_autoptr(AneTensor) urank = ane_test_input (g, "urank", ANE_DTYPE_FLOAT16, u1, 1);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_INT32, b2, 1);
  g_autoptr(AneTensor) b64 = ane_test_input (g, "b64", ANE_DTYPE_INT64, b2, 1);
  g_autoptr(AneTensor) blong = ane_test_input (g, "blong", ANE_DTYPE_INT32, b3, 1);
  g_autoptr(AneTensor) bscalar = ane_test_input (g, "bscalar", ANE_DTYPE_INT32, NULL, 0);
  g_autoptr(AneTensor) xscalar = ane_test_input (g, "xscalar", ANE_DTYPE_FLOAT16, NULL, 0);
  g_autoptr(AneTensor) b1 = ane_test_input (g, "b1", ANE_DTYPE_INT32, s0, 1);
  g_autoptr(AneTensor) y = ane_graph_slice_update (g, x, u, b, &error);
  AneTensor *bad;

  g_assert_no_error (error);
  ane_test_assert_spec (y, ANE_DTYPE_FLOAT16, xs, 2);

  bad = ane_graph_slice_update (g, x, u32, b, &error);
  ane_test_assert_build_error (bad, &error, ANE_ERROR_DTYPE, "slice_update", "'update'", "float32[1,3]",
                               "float16[2,5]", NULL);
  bad = ane_graph_slice_update (g, x, ubig, b, &error);
  ane_test_assert_build_error (bad, &error, ANE_ERROR_SHAPE, "slice_update", "'update'", "float16[1,6]",
                               "float16[2,5]", "dimension 1", NULL);
  bad = ane_graph_slice_update (g, x, urank, b, &error);
  ane_test_assert_build_error (bad, &error, ANE_ERROR_SHAPE, "slice_update", "'update'", "float16[3]",
                               "rank", NULL);
  bad = ane_graph_slice_update (g, x, u, b64, &error);
  ane_test_assert_build_error (bad, &error, ANE_ERROR_DTYPE, "slice_update", "'begin'", "int64[2]", NULL);
  bad = ane_graph_slice_update (g, x, u, blong, &error);
  ane_test_assert_build_error (bad, &error, ANE_ERROR_SHAPE, "slice_update", "'begin'", "int32[3]",
                               "float16[2,5]", NULL);
  bad = ane_graph_slice_update (g, x, u, bscalar, &error);
  ane_test_assert_build_error (bad, &error, ANE_ERROR_SHAPE, "slice_update", "'begin'", "int32[]", NULL);
  bad = ane_graph_slice_update (g, xscalar, xscalar, b1, &error);
  ane_test_assert_build_error (bad, &error, ANE_ERROR_SHAPE, "slice_update", "'x'", "rank 1", NULL);
}

/* x is [3,4] = 0..11, update [2,2] = 100..103; each case's begin and the
 * box it writes (begin clamped to [0, 1] x [0, 2]). */
static void
test_slice_update_values (void)
{
  static const gint64 xs[] = { 3, 4 }, us[] = { 2, 2 }, bs[] = { 2 };
  static const struct { double begin[2]; gint64 r, c; } cases[] = {
    { { 0, 0 }, 0, 0 }, { { 1, 2 }, 1, 2 }, { { 0, 1 }, 0, 1 },
    { { 5, 9 }, 1, 2 },        /* past the end: clamped to the last box */
    { { -3, 1 }, 0, 1 },       /* below 0: clamped to 0 (not from the end) */
    { { 2, -1 }, 1, 0 },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    for (int fp16 = 0; fp16 <= 1; fp16++)
      {
        AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) x = ane_test_input (g, "x", dt, xs, 2);
        g_autoptr(AneTensor) u = ane_test_input (g, "u", dt, us, 2);
        g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_INT32, bs, 1);
        g_autoptr(AneTensor) y = ane_graph_slice_update (g, x, u, b, &error);
        g_autoptr(AneTensor) tx = NULL, tu = NULL, tb = NULL, r = NULL;
        double xv[12], uv[4] = { 100, 101, 102, 103 }, want[12];

        g_assert_no_error (error);
        iota (xv, 12);
        memcpy (want, xv, sizeof want);
        for (gint64 i = 0; i < 2; i++)
          for (gint64 j = 0; j < 2; j++)
            want[(cases[k].r + i) * 4 + cases[k].c + j] = uv[i * 2 + j];
        tx = ane_test_tensor_values ("x", dt, xs, 2, xv);
        tu = ane_test_tensor_values ("u", dt, us, 2, uv);
        tb = ane_test_tensor_values ("b", ANE_DTYPE_INT32, bs, 1, cases[k].begin);
        r = ane_test_eval (g, y, tx, tu, tb, NULL);
        ane_test_assert_spec (r, dt, xs, 2);
        ane_test_assert_values (r, want, 12);
      }
}

/* A const begin, an integer x, and the same graph run twice with other
 * begins (the position is data, not part of the graph). */
static void
test_slice_update_int_and_const (void)
{
  static const gint64 xs[] = { 2, 3, 2 }, us[] = { 1, 3, 1 }, bs[] = { 3 };
  static const double begin[] = { 1, 0, 1 };
  static const double uv[] = { -1, -2, -3 };
  double xv[12], want[12];
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_INT32, xs, 3);
  g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_INT32, us, 3);
  g_autoptr(AneTensor) cb = ane_test_tensor_values ("begin", ANE_DTYPE_INT32, bs, 1, begin);
  g_autoptr(AneTensor) b = ane_test_const (g, cb);
  g_autoptr(AneTensor) y = ane_graph_slice_update (g, x, u, b, &error);
  g_autoptr(AneTensor) tx = NULL, tu = NULL, r = NULL;

  g_assert_no_error (error);
  iota (xv, 12);
  memcpy (want, xv, sizeof want);
  /* x[1, :, 1] = update */
  want[1 * 6 + 0 * 2 + 1] = -1;
  want[1 * 6 + 1 * 2 + 1] = -2;
  want[1 * 6 + 2 * 2 + 1] = -3;
  tx = ane_test_tensor_values ("x", ANE_DTYPE_INT32, xs, 3, xv);
  tu = ane_test_tensor_values ("u", ANE_DTYPE_INT32, us, 3, uv);
  r = ane_test_eval (g, y, tx, tu, NULL);
  ane_test_assert_spec (r, ANE_DTYPE_INT32, xs, 3);
  ane_test_assert_values (r, want, 12);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (reshape_good); i++)
    g_test_add_data_func (reshape_good[i].path, &reshape_good[i], test_reshape_good);
  g_test_add_func ("/ane/ops/shape/reshape/errors", test_reshape_errors);
  g_test_add_func ("/ane/ops/shape/reshape/values", test_reshape_values);
  g_test_add_func ("/ane/ops/shape/transpose/infer", test_transpose_infer);
  g_test_add_func ("/ane/ops/shape/transpose/values", test_transpose_values);
  g_test_add_func ("/ane/ops/shape/concat/infer", test_concat_infer);
  g_test_add_func ("/ane/ops/shape/concat/values", test_concat_values);
  g_test_add_func ("/ane/ops/shape/narrow/infer", test_narrow_infer);
  g_test_add_func ("/ane/ops/shape/narrow/values", test_narrow_values);
  g_test_add_func ("/ane/ops/shape/gather/infer", test_gather_infer);
  g_test_add_func ("/ane/ops/shape/gather/values", test_gather_values);
  g_test_add_func ("/ane/ops/shape/gather/out-of-range", test_gather_out_of_range);
  g_test_add_func ("/ane/ops/shape/expand/infer", test_expand_infer);
  g_test_add_func ("/ane/ops/shape/expand/values", test_expand_values);
  g_test_add_func ("/ane/ops/shape/cast/infer", test_cast_infer);
  for (guint i = 0; i < G_N_ELEMENTS (cast_cases); i++)
    g_test_add_data_func (cast_cases[i].path, &cast_cases[i], test_cast_values);
  g_test_add_func ("/ane/ops/shape/stop_gradient/bool", test_stop_gradient);
  g_test_add_func ("/ane/ops/shape/stop_gradient/float", test_stop_gradient_float);
  g_test_add_func ("/ane/ops/shape/chain", test_chain);
  g_test_add_func ("/ane/ops/shape/slice_update/infer", test_slice_update_infer);
  g_test_add_func ("/ane/ops/shape/slice_update/values", test_slice_update_values);
  g_test_add_func ("/ane/ops/shape/slice_update/int-const-begin", test_slice_update_int_and_const);
  return g_test_run ();
}
