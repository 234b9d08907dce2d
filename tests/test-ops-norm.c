/* test-ops-norm.c: softmax, layer_norm, rms_norm, group_norm, layer_norm_2d, batch_norm
 *
 * Expected values are worked out by hand (inputs chosen so means and
 * variances are round numbers) or by a one-line formula written here.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"

/* --- helpers ----------------------------------------------------------- */

/* Adds y as the output "y", runs the graph on the reference backend with x
 * fed as "x", and checks the result against expected. */
static void
run_and_check (AneGraph    *g,
               AneTensor   *y,
               AneTensor   *tx,
               const float *expected,
               gsize        n,
               double       rtol,
               double       atol)
{
  g_autoptr(AneTensor) out = ane_test_eval (g, y, tx, NULL);

  ane_test_assert_close (out, expected, n, rtol, atol);
}

/* --- softmax ----------------------------------------------------------- */

typedef struct {
  const char *path;
  int         axis;
  float       x[6];       /* [2,3] */
  float       expected[6];
} SoftmaxCase;

static const SoftmaxCase softmax_cases[] = {
  /* rows: e^(1,2,3)/(e+e^2+e^3); a constant row is uniform; huge values stay finite */
  { "/ane/ops/norm/softmax/last-axis", -1, { 1, 2, 3, 1000, 1000, 1000 },
    { 0.09003057f, 0.24472847f, 0.66524096f, 1.0f / 3, 1.0f / 3, 1.0f / 3 } },
  /* columns: (1,1) -> halves; (2,4) -> 1/(1+e^2), e^2/(1+e^2); (3,0) -> e^3/(1+e^3), 1/(1+e^3) */
  { "/ane/ops/norm/softmax/axis-0", 0, { 1, 2, 3, 1, 4, 0 },
    { 0.5f, 0.11920292f, 0.95257413f, 0.5f, 0.88079708f, 0.04742587f } },
};

static void
test_softmax (gconstpointer data)
{
  const SoftmaxCase *c = data;
  static const gint64 s[] = { 2, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 2);
  g_autoptr(AneTensor) y = ane_graph_softmax (g, x, c->axis, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s, 2, c->x);

  g_assert_no_error (error);
  ane_test_assert_shape (y, s, 2);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT32);
  run_and_check (g, y, tx, c->expected, 6, 1e-6, 1e-8);
}

static void
test_softmax_errors (void)
{
  static const gint64 s[] = { 2, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) xi = ane_test_input (g, "xi", ANE_DTYPE_INT32, s, 2);
  g_autoptr(AneTensor) xf = ane_test_input (g, "xf", ANE_DTYPE_FLOAT16, s, 2);
  g_autoptr(AneTensor) ok = NULL;

  ane_test_assert_build_error (ane_graph_softmax (g, xi, -1, &error), &error, ANE_ERROR_DTYPE,
                               "softmax", "'x'", "int32[2,3]", NULL);
  ane_test_assert_build_error (ane_graph_softmax (g, xf, 2, &error), &error, ANE_ERROR_INVALID_ARGUMENT,
                               "softmax", "axis", NULL);
  ane_test_assert_build_error (ane_graph_softmax (g, xf, -3, &error), &error, ANE_ERROR_INVALID_ARGUMENT,
                               "softmax", "axis", NULL);
  /* float16 keeps its dtype */
  ok = ane_graph_softmax (g, xf, -2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ane_tensor_get_dtype (ok), ==, ANE_DTYPE_FLOAT16);
  ane_test_assert_shape (ok, s, 2);
}

/* --- layer_norm -------------------------------------------------------- */

static void
test_layer_norm_last (void)
{
  /* rows [1,1,3,3]: mean 2, var 1; [0,4,0,4]: mean 2, var 4 (eps 0). */
  static const gint64 s[] = { 2, 4 }, d[] = { 4 };
  static const float xv[] = { 1, 1, 3, 3, 0, 4, 0, 4 };
  static const float gv[] = { 1, 2, 3, 4 }, bv[] = { 0.5f, 0, 0, -1 };
  static const float plain[] = { -1, -1, 1, 1, -1, 1, -1, 1 };
  static const float affine[] = { -0.5f, -2, 3, 3, -0.5f, 2, -3, 3 };
  static const float gamma_only[] = { -1, -2, 3, 4, -1, 2, -3, 4 };
  /* eps 3: var + eps = 4 and 7 */
  static const float with_eps[] = { -0.5f, -0.5f, 0.5f, 0.5f,
                                    -0.75592895f, 0.75592895f, -0.75592895f, 0.75592895f };
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s, 2, xv);

  for (int variant = 0; variant < 4; variant++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 2);
      g_autoptr(AneTensor) gamma = ane_test_const_f32 (g, "gamma", d, 1, gv);
      g_autoptr(AneTensor) beta = ane_test_const_f32 (g, "beta", d, 1, bv);
      static const gint64 last[] = { -1 };
      g_autoptr(AneTensor) y = NULL;

      switch (variant)
        {
        case 0:  /* default axes */
          y = ane_graph_layer_norm (g, x, NULL, NULL, NULL, 0, 0.0, &error);
          break;
        case 1:
          y = ane_graph_layer_norm (g, x, gamma, beta, last, 1, 0.0, &error);
          break;
        case 2:
          y = ane_graph_layer_norm (g, x, gamma, NULL, NULL, 0, 0.0, &error);
          break;
        default:
          y = ane_graph_layer_norm (g, x, NULL, NULL, last, 1, 3.0, &error);
          break;
        }
      g_assert_no_error (error);
      ane_test_assert_shape (y, s, 2);
      run_and_check (g, y, tx,
                     variant == 0 ? plain : variant == 1 ? affine : variant == 2 ? gamma_only : with_eps,
                     8, 1e-6, 1e-7);
    }
}

static void
test_layer_norm_two_axes (void)
{
  /* x [2,2,2]: block 0 = [1,1,3,3] (mean 2, var 1), block 1 = [0,4,0,4] (mean 2, var 4). */
  static const gint64 s[] = { 2, 2, 2 }, d[] = { 2, 2 };
  static const float xv[] = { 1, 1, 3, 3, 0, 4, 0, 4 };
  static const float gv[] = { 1, 2, 3, 4 }, bv[] = { 0, 0, 0, 1 };
  static const float expected[] = { -1, -2, 3, 5, -1, 2, -3, 5 };
  /* both orders name the same trailing axes */
  static const gint64 axes_a[] = { -2, -1 }, axes_b[] = { 2, 1 };
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s, 3, xv);

  for (int variant = 0; variant < 2; variant++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 3);
      g_autoptr(AneTensor) gamma = ane_test_const_f32 (g, "gamma", d, 2, gv);
      g_autoptr(AneTensor) beta = ane_test_const_f32 (g, "beta", d, 2, bv);
      g_autoptr(AneTensor) y = ane_graph_layer_norm (g, x, gamma, beta,
                                                     variant ? axes_b : axes_a, 2, 0.0, &error);

      g_assert_no_error (error);
      ane_test_assert_shape (y, s, 3);
      run_and_check (g, y, tx, expected, 8, 1e-6, 1e-7);
    }
}

static void
test_layer_norm_errors (void)
{
  static const gint64 s[] = { 2, 4 }, s3[] = { 3 }, s4[] = { 4 }, s24[] = { 2, 4 };
  static const gint64 first[] = { 0 }, twice[] = { -1, -1 }, far[] = { 5 }, three[] = { 0, 1, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 2);
  g_autoptr(AneTensor) xi = ane_test_input (g, "xi", ANE_DTYPE_INT8, s, 2);
  g_autoptr(AneTensor) g3 = ane_test_input (g, "g3", ANE_DTYPE_FLOAT32, s3, 1);
  g_autoptr(AneTensor) g4h = ane_test_input (g, "g4h", ANE_DTYPE_FLOAT16, s4, 1);
  g_autoptr(AneTensor) g24 = ane_test_input (g, "g24", ANE_DTYPE_FLOAT32, s24, 2);
  g_autoptr(GVariant) empty_axes = g_variant_ref_sink (
    ane_attrs_new ("axes", ane_attrs_ints_variant (NULL, 0), NULL));
  AneTensor *ins[3] = { x, NULL, NULL };
  GPtrArray *res;

  ane_test_assert_build_error (ane_graph_layer_norm (g, xi, NULL, NULL, NULL, 0, 1e-5, &error), &error,
                               ANE_ERROR_DTYPE, "layer_norm", "'x'", "int8[2,4]", NULL);
  ane_test_assert_build_error (ane_graph_layer_norm (g, x, NULL, NULL, first, 1, 1e-5, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "layer_norm", "trailing", "float32[2,4]", NULL);
  ane_test_assert_build_error (ane_graph_layer_norm (g, x, NULL, NULL, twice, 2, 1e-5, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "layer_norm", "repeats", NULL);
  ane_test_assert_build_error (ane_graph_layer_norm (g, x, NULL, NULL, far, 1, 1e-5, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "layer_norm", "out of range", NULL);
  ane_test_assert_build_error (ane_graph_layer_norm (g, x, NULL, NULL, three, 3, 1e-5, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "layer_norm", "axes", NULL);
  ane_test_assert_build_error (ane_graph_layer_norm (g, x, g3, NULL, NULL, 0, 1e-5, &error), &error,
                               ANE_ERROR_SHAPE, "layer_norm", "'gamma'", "float32[3]", "float32[4]", NULL);
  ane_test_assert_build_error (ane_graph_layer_norm (g, x, NULL, g24, NULL, 0, 1e-5, &error), &error,
                               ANE_ERROR_SHAPE, "layer_norm", "'beta'", "float32[2,4]", NULL);
  ane_test_assert_build_error (ane_graph_layer_norm (g, x, g4h, NULL, NULL, 0, 1e-5, &error), &error,
                               ANE_ERROR_DTYPE, "layer_norm", "'gamma'", "float16[4]", NULL);
  ane_test_assert_build_error (ane_graph_layer_norm (g, x, NULL, NULL, NULL, 0, -1.0, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "layer_norm", "eps", NULL);
  ane_test_assert_build_error (ane_graph_layer_norm (g, x, NULL, NULL, NULL, 0, NAN, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "layer_norm", "eps", NULL);
  /* an empty axes list through the generic entry point */
  res = ane_graph_apply (g, "layer_norm", ins, 3, empty_axes, &error);
  g_assert_null (res);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "axes"));
  g_clear_error (&error);
}

/* --- rms_norm ---------------------------------------------------------- */

static void
test_rms_norm (void)
{
  /* rows [1,7]: mean square 25, rms 5; [-2,2]: rms 2. */
  static const gint64 s[] = { 2, 2 }, d[] = { 2 };
  static const float xv[] = { 1, 7, -2, 2 }, wv[] = { 2, -1 };
  static const float plain[] = { 0.2f, 1.4f, -1, 1 };
  static const float weighted[] = { 0.4f, -1.4f, -2, -1 };
  /* eps 75: sqrt(25 + 75) = 10, sqrt(4 + 75) = 8.88819442 */
  static const float with_eps[] = { 0.1f, 0.7f, -0.22501758f, 0.22501758f };
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s, 2, xv);

  for (int variant = 0; variant < 3; variant++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 2);
      g_autoptr(AneTensor) w = ane_test_const_f32 (g, "w", d, 1, wv);
      g_autoptr(AneTensor) y = ane_graph_rms_norm (g, x, variant == 1 ? w : NULL,
                                                   variant == 2 ? 75.0 : 0.0, &error);

      g_assert_no_error (error);
      ane_test_assert_shape (y, s, 2);
      run_and_check (g, y, tx, variant == 0 ? plain : variant == 1 ? weighted : with_eps,
                     4, 1e-6, 1e-7);
    }
}

static void
test_rms_norm_errors (void)
{
  static const gint64 s[] = { 2, 2 }, s3[] = { 3 }, s2[] = { 2 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 2);
  g_autoptr(AneTensor) scalar = ane_test_input (g, "scalar", ANE_DTYPE_FLOAT32, NULL, 0);
  g_autoptr(AneTensor) xi = ane_test_input (g, "xi", ANE_DTYPE_INT32, s, 2);
  g_autoptr(AneTensor) w3 = ane_test_input (g, "w3", ANE_DTYPE_FLOAT32, s3, 1);
  g_autoptr(AneTensor) wb = ane_test_input (g, "wb", ANE_DTYPE_BFLOAT16, s2, 1);

  ane_test_assert_build_error (ane_graph_rms_norm (g, xi, NULL, 1e-5, &error), &error, ANE_ERROR_DTYPE,
                               "rms_norm", "'x'", "int32[2,2]", NULL);
  ane_test_assert_build_error (ane_graph_rms_norm (g, scalar, NULL, 1e-5, &error), &error, ANE_ERROR_SHAPE,
                               "rms_norm", "'x'", "float32[]", NULL);
  ane_test_assert_build_error (ane_graph_rms_norm (g, x, w3, 1e-5, &error), &error, ANE_ERROR_SHAPE,
                               "rms_norm", "'weight'", "float32[3]", "float32[2]", NULL);
  ane_test_assert_build_error (ane_graph_rms_norm (g, x, wb, 1e-5, &error), &error, ANE_ERROR_DTYPE,
                               "rms_norm", "'weight'", "bfloat16[2]", NULL);
  ane_test_assert_build_error (ane_graph_rms_norm (g, x, NULL, -1e-5, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "rms_norm", "eps", NULL);
}

/* --- group_norm -------------------------------------------------------- */

typedef struct {
  const char *path;
  gint64      groups;
  double      eps;
  gboolean    affine;
  float       expected[8];
} GroupNormCase;

/* x [1,4,2]: channels (1,1) (3,3) (0,4) (0,4). */
static const GroupNormCase group_norm_cases[] = {
  /* group 0 = [1,1,3,3] (mean 2, var 1), group 1 = [0,4,0,4] (mean 2, var 4) */
  { "/ane/ops/norm/group_norm/two-groups", 2, 0.0, FALSE, { -1, -1, 1, 1, -1, 1, -1, 1 } },
  /* gamma [1,2,3,4], beta [0,0,1,1] per channel */
  { "/ane/ops/norm/group_norm/affine", 2, 0.0, TRUE, { -1, -1, 2, 2, -2, 4, -3, 5 } },
  /* one group: mean 2, var (4*1 + 4*4)/8 = 2.5; 1/sqrt(2.5) = 0.63245553 */
  { "/ane/ops/norm/group_norm/one-group", 1, 0.0, FALSE,
    { -0.63245553f, -0.63245553f, 0.63245553f, 0.63245553f,
      -1.26491106f, 1.26491106f, -1.26491106f, 1.26491106f } },
  /* one channel per group (instance norm), eps 1: var+eps = 1, 1, 5, 5 */
  { "/ane/ops/norm/group_norm/per-channel", 4, 1.0, FALSE,
    { 0, 0, 0, 0, -0.89442719f, 0.89442719f, -0.89442719f, 0.89442719f } },
};

static void
test_group_norm (gconstpointer data)
{
  const GroupNormCase *c = data;
  static const gint64 s[] = { 1, 4, 2 }, cs[] = { 4 };
  static const float xv[] = { 1, 1, 3, 3, 0, 4, 0, 4 };
  static const float gv[] = { 1, 2, 3, 4 }, bv[] = { 0, 0, 1, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 3);
  g_autoptr(AneTensor) gamma = ane_test_const_f32 (g, "gamma", cs, 1, gv);
  g_autoptr(AneTensor) beta = ane_test_const_f32 (g, "beta", cs, 1, bv);
  g_autoptr(AneTensor) y = ane_graph_group_norm (g, x, c->affine ? gamma : NULL,
                                                 c->affine ? beta : NULL, c->groups, c->eps, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s, 3, xv);

  g_assert_no_error (error);
  ane_test_assert_shape (y, s, 3);
  run_and_check (g, y, tx, c->expected, 8, 1e-6, 1e-7);
}

static void
test_group_norm_shapes (void)
{
  /* x [2,6,3,3] in 3 groups, and spatial-free [2,4] */
  static const gint64 s4[] = { 2, 6, 3, 3 }, s2[] = { 2, 4 }, c6[] = { 6 }, c3[] = { 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x4 = ane_test_input (g, "x4", ANE_DTYPE_FLOAT16, s4, 4);
  g_autoptr(AneTensor) x2 = ane_test_input (g, "x2", ANE_DTYPE_FLOAT32, s2, 2);
  g_autoptr(AneTensor) x1 = ane_test_input (g, "x1", ANE_DTYPE_FLOAT32, c6, 1);
  g_autoptr(AneTensor) g6 = ane_test_input (g, "g6", ANE_DTYPE_FLOAT16, c6, 1);
  g_autoptr(AneTensor) g3 = ane_test_input (g, "g3", ANE_DTYPE_FLOAT16, c3, 1);
  g_autoptr(AneTensor) y4 = ane_graph_group_norm (g, x4, g6, g6, 3, 1e-5, &error);
  g_autoptr(AneTensor) y2 = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y4, s4, 4);
  g_assert_cmpint (ane_tensor_get_dtype (y4), ==, ANE_DTYPE_FLOAT16);
  y2 = ane_graph_group_norm (g, x2, NULL, NULL, 2, 1e-5, &error);
  g_assert_no_error (error);
  ane_test_assert_shape (y2, s2, 2);

  ane_test_assert_build_error (ane_graph_group_norm (g, x4, NULL, NULL, 4, 1e-5, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "group_norm", "groups 4", "float16[2,6,3,3]", NULL);
  ane_test_assert_build_error (ane_graph_group_norm (g, x4, NULL, NULL, 0, 1e-5, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "group_norm", "groups 0", NULL);
  ane_test_assert_build_error (ane_graph_group_norm (g, x4, g3, NULL, 3, 1e-5, &error), &error,
                               ANE_ERROR_SHAPE, "group_norm", "'gamma'", "float16[3]", "float16[6]", NULL);
  ane_test_assert_build_error (ane_graph_group_norm (g, x2, NULL, g6, 2, 1e-5, &error), &error,
                               ANE_ERROR_DTYPE, "group_norm", "'beta'", "float16[6]", NULL);
  ane_test_assert_build_error (ane_graph_group_norm (g, x1, NULL, NULL, 2, 1e-5, &error), &error,
                               ANE_ERROR_SHAPE, "group_norm", "'x'", "float32[6]", NULL);
}

/* --- layer_norm_2d ----------------------------------------------------- */

static void
test_layer_norm_2d (void)
{
  /* x [1,2,1,2]: position 0 has channels (1,3) -> mean 2, var 1 -> (-1,1);
   * position 1 has (10,2) -> mean 6, var 16 -> (1,-1). C order: c0p0 c0p1 c1p0 c1p1. */
  static const gint64 s[] = { 1, 2, 1, 2 }, cs[] = { 2 };
  static const float xv[] = { 1, 10, 3, 2 };
  static const float gv[] = { 2, 3 }, bv[] = { 1, 0 };
  static const float plain[] = { -1, 1, 1, -1 };
  static const float affine[] = { -1, 3, 3, -3 };
  /* eps 3: var+eps = 4 and 19 */
  static const float with_eps[] = { -0.5f, 0.91766294f, 0.5f, -0.91766294f };
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s, 4, xv);

  for (int variant = 0; variant < 3; variant++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 4);
      g_autoptr(AneTensor) gamma = ane_test_const_f32 (g, "gamma", cs, 1, gv);
      g_autoptr(AneTensor) beta = ane_test_const_f32 (g, "beta", cs, 1, bv);
      g_autoptr(AneTensor) y = ane_graph_layer_norm_2d (g, x, variant == 1 ? gamma : NULL,
                                                        variant == 1 ? beta : NULL,
                                                        variant == 2 ? 3.0 : 0.0, &error);

      g_assert_no_error (error);
      ane_test_assert_shape (y, s, 4);
      run_and_check (g, y, tx, variant == 0 ? plain : variant == 1 ? affine : with_eps,
                     4, 1e-6, 1e-7);
    }
}

static void
test_layer_norm_2d_errors (void)
{
  static const gint64 s[] = { 1, 2, 3, 3 }, s3[] = { 2, 3, 3 }, c3[] = { 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 4);
  g_autoptr(AneTensor) x3 = ane_test_input (g, "x3", ANE_DTYPE_FLOAT32, s3, 3);
  g_autoptr(AneTensor) g3 = ane_test_input (g, "g3", ANE_DTYPE_FLOAT32, c3, 1);
  AneTensor *ins[3] = { x, NULL, NULL };
  g_autoptr(GPtrArray) res = NULL;
  const AneNode *node;

  ane_test_assert_build_error (ane_graph_layer_norm_2d (g, x3, NULL, NULL, 1e-6, &error), &error,
                               ANE_ERROR_SHAPE, "layer_norm_2d", "'x'", "float32[2,3,3]", NULL);
  ane_test_assert_build_error (ane_graph_layer_norm_2d (g, x, NULL, g3, 1e-6, &error), &error,
                               ANE_ERROR_SHAPE, "layer_norm_2d", "'beta'", "float32[3]", "float32[2]", NULL);
  /* the catalog's default eps is SAM's 1e-6 */
  res = ane_graph_apply (g, "layer_norm_2d", ins, 3, NULL, &error);
  g_assert_no_error (error);
  node = ane_graph_find_node (g, ane_tensor_get_name (g_ptr_array_index (res, 0)));
  g_assert_nonnull (node);
  g_assert_cmpfloat (ane_attrs_double (node->attrs, "eps"), ==, 1e-6);
}

/* --- batch_norm -------------------------------------------------------- */

static void
test_batch_norm (void)
{
  /* x [2,2,2]: channel 0 holds 1,3 | 5,-1 and channel 1 holds 2,4 | 0,6; mean [1,2],
   * variance [4,0.25] (eps 0): c0 -> (x-1)/2, c1 -> (x-2)/0.5. */
  static const gint64 s[] = { 2, 2, 2 }, cs[] = { 2 };
  static const float xv[] = { 1, 3, 2, 4, 5, -1, 0, 6 };
  static const float mv[] = { 1, 2 }, vv[] = { 4, 0.25f }, vv2[] = { 3, 0 };
  static const float gv[] = { 2, 1 }, bv[] = { 0, -1 };
  static const float plain[] = { 0, 1, 0, 4, 2, -1, -4, 8 };
  /* gamma [2,1], beta [0,-1] */
  static const float affine[] = { 0, 2, -1, 3, 4, -2, -5, 7 };
  /* variance [3,0] with eps 1: divide by 2 and 1 */
  static const float with_eps[] = { 0, 1, 0, 2, 2, -1, -2, 4 };
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s, 3, xv);

  for (int variant = 0; variant < 3; variant++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 3);
      g_autoptr(AneTensor) mean = ane_test_const_f32 (g, "mean", cs, 1, mv);
      g_autoptr(AneTensor) var = ane_test_const_f32 (g, "var", cs, 1, variant == 2 ? vv2 : vv);
      g_autoptr(AneTensor) gamma = ane_test_const_f32 (g, "gamma", cs, 1, gv);
      g_autoptr(AneTensor) beta = ane_test_const_f32 (g, "beta", cs, 1, bv);
      g_autoptr(AneTensor) y = ane_graph_batch_norm (g, x, mean, var, variant == 1 ? gamma : NULL,
                                                     variant == 1 ? beta : NULL,
                                                     variant == 2 ? 1.0 : 0.0, &error);

      g_assert_no_error (error);
      ane_test_assert_shape (y, s, 3);
      run_and_check (g, y, tx, variant == 0 ? plain : variant == 1 ? affine : with_eps,
                     8, 1e-6, 1e-7);
    }
}

static void
test_batch_norm_errors (void)
{
  static const gint64 s[] = { 2, 3, 4 }, c3[] = { 3 }, c4[] = { 4 }, s1[] = { 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 3);
  g_autoptr(AneTensor) x1 = ane_test_input (g, "x1", ANE_DTYPE_FLOAT32, s1, 1);
  g_autoptr(AneTensor) m3 = ane_test_input (g, "m3", ANE_DTYPE_FLOAT32, c3, 1);
  g_autoptr(AneTensor) m4 = ane_test_input (g, "m4", ANE_DTYPE_FLOAT32, c4, 1);
  g_autoptr(AneTensor) h3 = ane_test_input (g, "h3", ANE_DTYPE_FLOAT16, c3, 1);
  g_autoptr(AneTensor) ok = NULL;

  ane_test_assert_build_error (ane_graph_batch_norm (g, x, m4, m3, NULL, NULL, 1e-5, &error), &error,
                               ANE_ERROR_SHAPE, "batch_norm", "'mean'", "float32[4]", "float32[3]", NULL);
  ane_test_assert_build_error (ane_graph_batch_norm (g, x, m3, h3, NULL, NULL, 1e-5, &error), &error,
                               ANE_ERROR_DTYPE, "batch_norm", "'variance'", "float16[3]", NULL);
  ane_test_assert_build_error (ane_graph_batch_norm (g, x, m3, m3, m4, NULL, 1e-5, &error), &error,
                               ANE_ERROR_SHAPE, "batch_norm", "'gamma'", "float32[4]", NULL);
  ane_test_assert_build_error (ane_graph_batch_norm (g, x, m3, m3, NULL, m4, 1e-5, &error), &error,
                               ANE_ERROR_SHAPE, "batch_norm", "'beta'", "float32[4]", NULL);
  ane_test_assert_build_error (ane_graph_batch_norm (g, x1, m3, m3, NULL, NULL, 1e-5, &error), &error,
                               ANE_ERROR_SHAPE, "batch_norm", "'x'", "float32[3]", NULL);
  ok = ane_graph_batch_norm (g, x, m3, m3, m3, m3, 1e-5, &error);
  g_assert_no_error (error);
  ane_test_assert_shape (ok, s, 3);
}

/* A float16 graph rounds each op's result once: check the dtype round trip. */
static void
test_fp16 (void)
{
  static const gint64 s[] = { 1, 4 };
  static const float xv[] = { 1, 1, 3, 3 };
  static const float expected[] = { -1, -1, 1, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT16, s, 2);
  g_autoptr(AneTensor) y = ane_graph_layer_norm (g, x, NULL, NULL, NULL, 0, 0.0, &error);
  g_autoptr(AneTensor) t32 = ane_test_tensor_f32 ("x", s, 2, xv);
  g_autoptr(AneTensor) tx = ane_tensor_convert (t32, ANE_DTYPE_FLOAT16, &error);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT16);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, NULL);
  g_assert_cmpint (ane_tensor_get_dtype (g_ptr_array_index (out, 0)), ==, ANE_DTYPE_FLOAT16);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 4, 0, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (softmax_cases); i++)
    g_test_add_data_func (softmax_cases[i].path, &softmax_cases[i], test_softmax);
  g_test_add_func ("/ane/ops/norm/softmax/errors", test_softmax_errors);
  g_test_add_func ("/ane/ops/norm/layer_norm/last-axis", test_layer_norm_last);
  g_test_add_func ("/ane/ops/norm/layer_norm/two-axes", test_layer_norm_two_axes);
  g_test_add_func ("/ane/ops/norm/layer_norm/errors", test_layer_norm_errors);
  g_test_add_func ("/ane/ops/norm/layer_norm/fp16", test_fp16);
  g_test_add_func ("/ane/ops/norm/rms_norm/values", test_rms_norm);
  g_test_add_func ("/ane/ops/norm/rms_norm/errors", test_rms_norm_errors);
  for (guint i = 0; i < G_N_ELEMENTS (group_norm_cases); i++)
    g_test_add_data_func (group_norm_cases[i].path, &group_norm_cases[i], test_group_norm);
  g_test_add_func ("/ane/ops/norm/group_norm/shapes-errors", test_group_norm_shapes);
  g_test_add_func ("/ane/ops/norm/layer_norm_2d/values", test_layer_norm_2d);
  g_test_add_func ("/ane/ops/norm/layer_norm_2d/errors", test_layer_norm_2d_errors);
  g_test_add_func ("/ane/ops/norm/batch_norm/values", test_batch_norm);
  g_test_add_func ("/ane/ops/norm/batch_norm/errors", test_batch_norm_errors);
  return g_test_run ();
}
