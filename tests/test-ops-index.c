/* test-ops-index.c: pad, gather_elements, argmax / argmin (ops/ane-ops-index.c),
 * resize (ops/ane-ops-resize.c)
 *
 * Reference values computed by hand (numpy.pad, numpy.take_along_axis,
 * numpy.argmax / argmin give the same), and the shape rules' errors.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ane-test-util.h"

/* One float32 [rows, cols] input through op, run on the reference. */
static GPtrArray *
run_one (AneGraph  *g,
         AneTensor *y,
         AneTensor *value)
{
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (y);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  return ane_test_run_reference (g, value, NULL);
}

/* --- pad ------------------------------------------------------------------- */

typedef struct {
  const char *path;
  const char *mode;
  gint64      pads[4];
  guint       n_pads;
  gint64      out_shape[2];
  double      expected[40];
} PadCase;

/* x = [[1,2,3],[4,5,6]] */
static const PadCase pad_cases[] = {
  { "/ane/ops/index/pad/constant", "constant", { 1, 2 }, 2, { 2, 6 },
    { 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9, 9 } },
  { "/ane/ops/index/pad/reflect", "reflect", { 2, 2 }, 2, { 2, 7 },
    { 3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4 } },
  { "/ane/ops/index/pad/edge", "edge", { 0, 3 }, 2, { 2, 6 },
    { 1, 2, 3, 3, 3, 3, 4, 5, 6, 6, 6, 6 } },
  { "/ane/ops/index/pad/reflect-2d", "reflect", { 1, 0, 1, 1 }, 4, { 3, 5 },
    { 5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5 } },
  { "/ane/ops/index/pad/constant-2d", "constant", { 0, 1, 0, 1 }, 4, { 3, 4 },
    { 1, 2, 3, 9, 4, 5, 6, 9, 9, 9, 9, 9 } },
};

static void
test_pad (gconstpointer data)
{
  const PadCase *c = data;
  static const gint64 xs[] = { 2, 3 };
  static const double xv[] = { 1, 2, 3, 4, 5, 6 };
  AneDType dtypes[] = { ANE_DTYPE_FLOAT32, ANE_DTYPE_INT32 };

  for (guint d = 0; d < G_N_ELEMENTS (dtypes); d++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", dtypes[d], xs, 2, NULL);
      g_autoptr(AneTensor) y = ane_graph_pad (g, x, c->pads, c->n_pads, c->mode, 9, &error);
      g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", dtypes[d], xs, 2, xv);
      g_autoptr(GPtrArray) out = NULL;

      g_assert_no_error (error);
      ane_test_assert_spec (y, dtypes[d], c->out_shape, 2);
      out = run_one (g, y, tx);
      ane_test_assert_values (g_ptr_array_index (out, 0), c->expected,
                              (gsize) (c->out_shape[0] * c->out_shape[1]));
    }
}

static void
test_pad_errors (void)
{
  static const gint64 xs[] = { 2, 3 }, ok[] = { 1, 1 }, odd[] = { 1, 1, 1 }, neg[] = { -1, 0 };
  static const gint64 three[] = { 0, 0, 0, 0, 0, 0 }, far[] = { 3, 0 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_BOOL, xs, 2, NULL);

  g_assert_null (ane_graph_pad (g, x, ok, 2, "wrap", 0, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "pad", "'wrap'", NULL);
  g_assert_null (ane_graph_pad (g, x, odd, 3, "constant", 0, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "pad", "3 entries", "float32[2,3]", NULL);
  g_assert_null (ane_graph_pad (g, x, three, 6, "constant", 0, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "pad", "6 entries", NULL);
  g_assert_null (ane_graph_pad (g, x, neg, 2, "constant", 0, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "pad", "negative", "axis 1", NULL);
  g_assert_null (ane_graph_pad (g, x, far, 2, "reflect", 0, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "pad", "size - 1 = 2", "axis 1", NULL);
  g_assert_null (ane_graph_pad (g, b, ok, 2, "constant", 0, &error));
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "pad", "'x'", "bool[2,3]", NULL);
}

/* --- gather_elements ---------------------------------------------------------- */

static void
test_gather_elements (void)
{
  /* x = [[1,2,3],[4,5,6]]; ONNX's GatherElements example shapes */
  static const gint64 xs[] = { 2, 3 }, is0[] = { 2, 2 }, is1[] = { 2, 2 };
  static const double xv[] = { 1, 2, 3, 4, 5, 6 };
  static const double i0[] = { 1, 0, -1, 1 };     /* axis 0: rows */
  static const double i1[] = { 2, 0, -3, 1 };     /* axis 1: columns */
  static const double e0[] = { 4, 2, 4, 5 }, e1[] = { 3, 1, 4, 5 };
  const double *iv[] = { i0, i1 }, *ev[] = { e0, e1 };
  const gint64 *is[] = { is0, is1 };

  for (int axis = 0; axis < 2; axis++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
      g_autoptr(AneTensor) ti = ane_test_tensor_values ("i", ANE_DTYPE_INT32, is[axis], 2, iv[axis]);
      g_autoptr(AneTensor) i = ane_graph_const (g, ti, NULL);
      g_autoptr(AneTensor) y = ane_graph_gather_elements (g, x, i, axis - 2, &error);
      g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 2, xv);
      g_autoptr(GPtrArray) out = NULL;

      g_assert_no_error (error);
      ane_test_assert_spec (y, ANE_DTYPE_FLOAT32, is[axis], 2);
      out = run_one (g, y, tx);
      ane_test_assert_values (g_ptr_array_index (out, 0), ev[axis], 4);
    }
}

static void
test_gather_elements_errors (void)
{
  static const gint64 xs[] = { 2, 3 }, wide[] = { 3, 3 }, flat[] = { 6 }, is[] = { 1, 3 };
  static const double far[] = { 0, 1, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) fi = ane_graph_input (g, "fi", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) wi = ane_graph_input (g, "wi", ANE_DTYPE_INT32, wide, 2, NULL);
  g_autoptr(AneTensor) ri = ane_graph_input (g, "ri", ANE_DTYPE_INT32, flat, 1, NULL);
  g_autoptr(AneTensor) ti = ane_test_tensor_values ("oi", ANE_DTYPE_INT32, is, 2, far);
  g_autoptr(AneTensor) oi = ane_graph_const (g, ti, NULL);
  g_autoptr(AneTensor) y = NULL;
  g_autoptr(AneTensor) tx = NULL;
  g_autoptr(GPtrArray) out = NULL;

  g_assert_null (ane_graph_gather_elements (g, x, fi, 0, &error));
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "gather_elements", "'indices'", NULL);
  g_assert_null (ane_graph_gather_elements (g, x, ri, 0, &error));
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "gather_elements", "rank", "int32[6]", "float32[2,3]", NULL);
  g_assert_null (ane_graph_gather_elements (g, x, wi, 1, &error));
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "gather_elements", "larger", "axis 0", NULL);
  g_assert_null (ane_graph_gather_elements (g, x, wi, 2, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "gather_elements", "axis 2", NULL);

  /* an index out of range fails at run time, naming it */
  y = ane_graph_gather_elements (g, x, oi, 1, &error);
  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 2, (const double[]) { 1, 2, 3, 4, 5, 6 });
  {
    g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_REFERENCE);
    AneTensor *ins[] = { tx, NULL, NULL, NULL };
    g_autoptr(AneTensor) z0 = ane_test_tensor_values ("fi", ANE_DTYPE_FLOAT32, xs, 2, (const double[]) { 0, 0, 0, 0, 0, 0 });
    g_autoptr(AneTensor) z1 = ane_test_tensor_values ("wi", ANE_DTYPE_INT32, wide, 2,
                                                      (const double[]) { 0, 0, 0, 0, 0, 0, 0, 0, 0 });
    g_autoptr(AneTensor) z2 = ane_test_tensor_values ("ri", ANE_DTYPE_INT32, flat, 1, (const double[]) { 0, 0, 0, 0, 0, 0 });

    ins[1] = z0;
    ins[2] = z1;
    ins[3] = z2;
    g_assert_true (ane_executable_compile (exe, NULL, &error));
    out = ane_executable_run (exe, ins, 4, NULL, &error);
    g_assert_null (out);
    ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "index 3", "axis 1", "size 3", NULL);
  }
}

/* --- argmax / argmin ---------------------------------------------------------- */

static void
test_arg_reduce (void)
{
  /* x = [[1, 7, 7, -2], [0, -5, 3, -5], [NaN, 2, NaN, 9]] */
  static const gint64 xs[] = { 3, 4 }, s1[] = { 3 }, s1k[] = { 3, 1 }, s0[] = { 4 };
  const double xv[] = { 1, 7, 7, -2, 0, -5, 3, -5, NAN, 2, NAN, 9 };
  static const double max1[] = { 1, 2, 0 }, min1[] = { 3, 1, 0 }, max0[] = { 2, 0, 2, 2 }, min0[] = { 2, 1, 2, 1 };
  static const struct { gboolean max; int axis; gboolean keep; const gint64 *shape; guint rank; const double *want; } cases[] = {
    { TRUE, 1, FALSE, s1, 1, max1 }, { FALSE, -1, TRUE, s1k, 2, min1 },
    { TRUE, 0, FALSE, s0, 1, max0 }, { FALSE, -2, FALSE, s0, 1, min0 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
      g_autoptr(AneTensor) y = cases[c].max ? ane_graph_argmax (g, x, cases[c].axis, cases[c].keep, &error)
                                            : ane_graph_argmin (g, x, cases[c].axis, cases[c].keep, &error);
      g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 2, xv);
      g_autoptr(GPtrArray) out = NULL;

      g_assert_no_error (error);
      ane_test_assert_spec (y, ANE_DTYPE_INT32, cases[c].shape, cases[c].rank);
      out = run_one (g, y, tx);
      ane_test_assert_values (g_ptr_array_index (out, 0), cases[c].want, (gsize) cases[c].shape[0]);
    }
}

static void
test_arg_reduce_errors (void)
{
  static const gint64 xs[] = { 2, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_BOOL, xs, 2, NULL);
  g_autoptr(AneTensor) s = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 1, NULL);

  g_assert_null (ane_graph_argmax (g, s, 0, FALSE, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "argmax", "axis 0", "float32[]", NULL);
  g_assert_null (ane_graph_argmin (g, x, 3, FALSE, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "argmin", "axis 3", NULL);
  g_assert_null (ane_graph_argmin (g, b, 0, FALSE, &error));
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "argmin", "'x'", NULL);
}

/* --- resize ------------------------------------------------------------------ */

/* x = [[1, 2], [3, 4]] (1x1x2x2) resized to 2x4 or 4x4, values worked out
 * from the formulas of Operators.md "Resize" (numbers as in its examples). */
static void
test_resize (void)
{
  static const gint64 xs[] = { 1, 1, 2, 2 };
  static const double xv[] = { 1, 2, 3, 4 };
  /* nearest, asymmetric, floor, 2x along W only */
  static const float near_w[] = { 1, 1, 2, 2, 3, 3, 4, 4 };
  /* linear, align_corners, to 2x4: columns at 0, 1/3, 2/3, 1 */
  static const float align[] = { 1, 4.0f / 3, 5.0f / 3, 2, 3, 10.0f / 3, 11.0f / 3, 4 };
  /* linear, half_pixel, to 4x4 (scale 2): source (x + 0.5)/2 - 0.5 = -0.25,
   * 0.25, 0.75, 1.25 clamped to [0, 1]: 0, 0.25, 0.75, 1 */
  static const float half[] = { 1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4 };
  static const struct { gint64 h, w; const char *mode, *coord, *nearest; const float *want; } cases[] = {
    { 2, 4, "nearest", "asymmetric", "floor", near_w },
    { 2, 4, "linear", "align_corners", "floor", align },
    { 4, 4, "linear", "half_pixel", "floor", half },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      gint64 ys[4] = { 1, 1, cases[c].h, cases[c].w };
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4, NULL);
      g_autoptr(AneTensor) y = ane_graph_resize (g, x, cases[c].h, cases[c].w, 0, 0, cases[c].mode, cases[c].coord,
                                                 cases[c].nearest, &error);
      g_autoptr(AneTensor) tx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 4, xv);
      g_autoptr(GPtrArray) out = NULL;

      g_assert_no_error (error);
      ane_test_assert_spec (y, ANE_DTYPE_FLOAT32, ys, 4);
      out = run_one (g, y, tx);
      ane_test_assert_close (g_ptr_array_index (out, 0), cases[c].want, (gsize) (cases[c].h * cases[c].w), 1e-6, 1e-6);
    }
}

static void
test_resize_errors (void)
{
  static const gint64 xs[] = { 1, 2, 3 }, vs[] = { 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3, NULL);
  g_autoptr(AneTensor) xi = ane_graph_input (g, "xi", ANE_DTYPE_INT32, xs, 3, NULL);
  g_autoptr(AneTensor) v = ane_graph_input (g, "v", ANE_DTYPE_FLOAT32, vs, 1, NULL);

  g_assert_null (ane_graph_resize (g, x, 4, 6, 0, 0, "cubic", "half_pixel", "floor", &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "resize", "'cubic'", NULL);
  g_assert_null (ane_graph_resize (g, x, 4, 6, 0, 0, "linear", "tf_crop_and_resize", "floor", &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "resize", "'tf_crop_and_resize'", NULL);
  g_assert_null (ane_graph_resize (g, x, 4, 6, 0, 0, "nearest", "asymmetric", "up", &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "resize", "'up'", NULL);
  g_assert_null (ane_graph_resize (g, xi, 4, 6, 0, 0, "linear", "half_pixel", "floor", &error));
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "resize", "int32[1,2,3]", NULL);
  g_assert_null (ane_graph_resize (g, x, 0, 6, 0, 0, "linear", "half_pixel", "floor", &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "resize", "size", NULL);
  g_assert_null (ane_graph_resize (g, v, 2, 6, 0, 0, "nearest", "half_pixel", "floor", &error));
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "resize", "rank", NULL);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (pad_cases); i++)
    g_test_add_data_func (pad_cases[i].path, &pad_cases[i], test_pad);
  g_test_add_func ("/ane/ops/index/pad/errors", test_pad_errors);
  g_test_add_func ("/ane/ops/index/gather_elements", test_gather_elements);
  g_test_add_func ("/ane/ops/index/gather_elements/errors", test_gather_elements_errors);
  g_test_add_func ("/ane/ops/index/argmax-argmin", test_arg_reduce);
  g_test_add_func ("/ane/ops/index/argmax-argmin/errors", test_arg_reduce_errors);
  g_test_add_func ("/ane/ops/index/resize", test_resize);
  g_test_add_func ("/ane/ops/index/resize/errors", test_resize_errors);
  return g_test_run ();
}
