/* test-ops-vision.c: conv, conv_transpose_2d, pool, resize_nearest_2x
 *
 * Expected values are worked out by hand in the comments, or computed by the
 * naive loops in this file (zero-padded buffer for conv, gather form for the
 * transposed conv), which are written independently of the kernels.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ane-test-util.h"

/* --- conv: hand-checked ------------------------------------------------------ */

static void
test_conv_stride_pad (void)
{
  /* x = 0..15 in a 4x4, 3x3 ones kernel, stride 2, pad 1: windows start at
   * -1 and 1. (0,0) rows/cols 0-1: 0+1+4+5 = 10; (0,1) rows 0-1, cols 1-3:
   * 1+2+3+5+6+7 = 24; (1,0) rows 1-3, cols 0-1: 4+5+8+9+12+13 = 51;
   * (1,1) rows 1-3, cols 1-3: 5+6+7+9+10+11+13+14+15 = 90. */
  static const gint64 xs[] = { 1, 1, 4, 4 }, ws[] = { 1, 1, 3, 3 }, ys[] = { 1, 1, 2, 2 };
  static const gint64 strides[] = { 2, 2 }, pads[] = { 1, 1, 1, 1 };
  static const float wv[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
  static const float expected[] = { 10, 24, 51, 90 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  float xv[16];
  g_autoptr(AneTensor) x = NULL, w = NULL, y = NULL, r = NULL;

  for (int i = 0; i < 16; i++)
    xv[i] = i;
  x = ane_test_const_f32 (g, "x", xs, 4, xv);
  w = ane_test_const_f32 (g, "w", ws, 4, wv);
  y = ane_graph_conv (g, x, w, NULL, strides, 2, pads, 4, NULL, 0, 1, &error);
  g_assert_no_error (error);
  ane_test_assert_shape (y, ys, 4);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT32);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 4, 0, 0);
}

static void
test_conv_dilation (void)
{
  /* x = 1..9 in a 3x3, kernel [[1,2],[3,4]] dilated by 2 spans the corners:
   * 1·1 + 3·2 + 7·3 + 9·4 = 64. */
  static const gint64 xs[] = { 1, 1, 3, 3 }, ws[] = { 1, 1, 2, 2 }, ys[] = { 1, 1, 1, 1 };
  static const gint64 dil[] = { 2, 2 };
  static const float xv[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, wv[] = { 1, 2, 3, 4 };
  static const float expected[] = { 64 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 4, xv);
  g_autoptr(AneTensor) w = ane_test_const_f32 (g, "w", ws, 4, wv);
  g_autoptr(AneTensor) y = ane_graph_conv (g, x, w, NULL, NULL, 0, NULL, 0, dil, 2, 1, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, ys, 4);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 1, 0, 0);
}

static void
test_conv_asymmetric_pads (void)
{
  /* 1x1 kernel [2], pads h_begin 1, h_end 0, w_begin 0, w_end 1 on [[1,2],[3,4]]:
   * a zero row on top, a zero column on the right, everything doubled. */
  static const gint64 xs[] = { 1, 1, 2, 2 }, ws[] = { 1, 1, 1, 1 }, ys[] = { 1, 1, 3, 3 };
  static const gint64 pads[] = { 1, 0, 0, 1 };
  static const float xv[] = { 1, 2, 3, 4 }, wv[] = { 2 };
  static const float expected[] = { 0, 0, 0, 2, 4, 0, 6, 8, 0 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 4, xv);
  g_autoptr(AneTensor) w = ane_test_const_f32 (g, "w", ws, 4, wv);
  g_autoptr(AneTensor) y = ane_graph_conv (g, x, w, NULL, NULL, 0, pads, 4, NULL, 0, 1, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, ys, 4);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 9, 0, 0);
}

static void
test_conv_groups_bias (void)
{
  /* x channels [1,2,3,4], groups 2: output 0 sees channels 0-1 with [1,1] → 3,
   * output 1 sees channels 2-3 with [1,-1] → -1; bias [10,20] → 13, 19. */
  static const gint64 xs[] = { 1, 4, 1, 1 }, ws[] = { 2, 2, 1, 1 }, bs[] = { 2 };
  static const gint64 ys[] = { 1, 2, 1, 1 };
  static const float xv[] = { 1, 2, 3, 4 }, wv[] = { 1, 1, 1, -1 }, bv[] = { 10, 20 };
  static const float expected[] = { 13, 19 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 4, xv);
  g_autoptr(AneTensor) w = ane_test_const_f32 (g, "w", ws, 4, wv);
  g_autoptr(AneTensor) b = ane_test_const_f32 (g, "b", bs, 1, bv);
  g_autoptr(AneTensor) y = ane_graph_conv (g, x, w, b, NULL, 0, NULL, 0, NULL, 0, 2, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, ys, 4);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 2, 0, 0);
}

static void
test_conv_depthwise (void)
{
  /* groups = C = 2, one 2x2 filter per channel: channel 0 [1,2,3,4] with ones → 10,
   * channel 1 [5,6,7,8] with [1,0,0,-1] → 5 − 8 = −3. */
  static const gint64 xs[] = { 1, 2, 2, 2 }, ws[] = { 2, 1, 2, 2 }, ys[] = { 1, 2, 1, 1 };
  static const float xv[] = { 1, 2, 3, 4, 5, 6, 7, 8 }, wv[] = { 1, 1, 1, 1, 1, 0, 0, -1 };
  static const float expected[] = { 10, -3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 4, xv);
  g_autoptr(AneTensor) w = ane_test_const_f32 (g, "w", ws, 4, wv);
  g_autoptr(AneTensor) y = ane_graph_conv (g, x, w, NULL, NULL, 0, NULL, 0, NULL, 0, 2, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, ys, 4);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 2, 0, 0);
}

static void
test_conv_1d (void)
{
  /* x ch0 [1,2,3,4,5], ch1 ones; w ch0 [1,0,-1], ch1 [0,1,0]; stride 2, pads [1,1]:
   * W' = (5 + 2 − 3)/2 + 1 = 3, windows start at −1, 1, 3.
   * j=0: ch0 0 − 2 = −2, ch1 1 → −1; j=1: 2 − 4 = −2, +1 → −1; j=2: 4 − 0 = 4, +1 → 5. */
  static const gint64 xs[] = { 1, 2, 5 }, ws[] = { 1, 2, 3 }, ys[] = { 1, 1, 3 };
  static const gint64 strides[] = { 2 }, pads[] = { 1, 1 }, dil[] = { 1 };
  static const float xv[] = { 1, 2, 3, 4, 5, 1, 1, 1, 1, 1 }, wv[] = { 1, 0, -1, 0, 1, 0 };
  static const float expected[] = { -1, -1, 5 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 3, xv);
  g_autoptr(AneTensor) w = ane_test_const_f32 (g, "w", ws, 3, wv);
  g_autoptr(AneTensor) y = ane_graph_conv (g, x, w, NULL, strides, 1, pads, 2, dil, 1, 1, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, ys, 3);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 3, 0, 0);
}

/* --- conv: against a naive zero-padded-buffer loop ---------------------------- */

typedef struct {
  const char *path;
  guint       rank;
  gint64      x[4], w[4];
  gint64      strides[2], pads[4], dilations[2];
  guint       n_strides, n_pads, n_dilations;
  gint64      groups;
  gboolean    bias;
} ConvCase;

static const ConvCase conv_cases[] = {
  { "/ane/ops/vision/conv/naive/plain", 4, { 2, 3, 5, 6 }, { 4, 3, 3, 2 },
    { 0 }, { 0 }, { 0 }, 0, 0, 0, 1, FALSE },
  { "/ane/ops/vision/conv/naive/all-options", 4, { 1, 4, 7, 6 }, { 6, 2, 3, 2 },
    { 2, 1 }, { 1, 2, 0, 1 }, { 2, 1 }, 2, 4, 2, 2, TRUE },
  { "/ane/ops/vision/conv/naive/depthwise-stride", 4, { 1, 3, 6, 6 }, { 3, 1, 3, 3 },
    { 2, 2 }, { 1, 1, 1, 1 }, { 1, 1 }, 2, 4, 2, 3, TRUE },
  { "/ane/ops/vision/conv/naive/1d", 3, { 2, 4, 9 }, { 2, 2, 3 },
    { 2 }, { 2, 1 }, { 2 }, 1, 2, 1, 2, TRUE },
};

/* out[n,o,i,j] from an explicitly zero-padded copy of x, one group at a time. */
static void
naive_conv (const ConvCase *c,
            const float    *x,
            const float    *w,
            const float    *b,
            float          *y,
            gint64         *oh_out,
            gint64         *ow_out)
{
  gboolean two_d = c->rank == 4;
  gint64 n = c->x[0], ch = c->x[1], h = two_d ? c->x[2] : 1, wd = c->x[c->rank - 1];
  gint64 o = c->w[0], kh = two_d ? c->w[2] : 1, kw = c->w[c->rank - 1];
  gint64 sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pb = 0, pl = 0, pr = 0;
  gint64 ph, pw, oh, ow, cpg = ch / c->groups, opg = o / c->groups;
  g_autofree float *padded = NULL;

  if (two_d)
    {
      if (c->n_strides) { sh = c->strides[0]; sw = c->strides[1]; }
      if (c->n_dilations) { dh = c->dilations[0]; dw = c->dilations[1]; }
      if (c->n_pads) { pt = c->pads[0]; pb = c->pads[1]; pl = c->pads[2]; pr = c->pads[3]; }
    }
  else
    {
      if (c->n_strides) sw = c->strides[0];
      if (c->n_dilations) dw = c->dilations[0];
      if (c->n_pads) { pl = c->pads[0]; pr = c->pads[1]; }
    }
  ph = h + pt + pb;
  pw = wd + pl + pr;
  oh = (ph - (dh * (kh - 1) + 1)) / sh + 1;
  ow = (pw - (dw * (kw - 1) + 1)) / sw + 1;
  padded = g_new0 (float, n * ch * ph * pw);
  for (gint64 a = 0; a < n * ch; a++)
    for (gint64 i = 0; i < h; i++)
      for (gint64 j = 0; j < wd; j++)
        padded[(a * ph + i + pt) * pw + j + pl] = x[(a * h + i) * wd + j];
  for (gint64 bn = 0; bn < n; bn++)
    for (gint64 grp = 0; grp < c->groups; grp++)
      for (gint64 oo = 0; oo < opg; oo++)
        {
          gint64 oc = grp * opg + oo;

          for (gint64 i = 0; i < oh; i++)
            for (gint64 j = 0; j < ow; j++)
              {
                double s = b ? b[oc] : 0.0;

                for (gint64 cc = 0; cc < cpg; cc++)
                  for (gint64 ki = 0; ki < kh; ki++)
                    for (gint64 kj = 0; kj < kw; kj++)
                      s += (double) padded[((bn * ch + grp * cpg + cc) * ph + i * sh + ki * dh) * pw +
                                           j * sw + kj * dw] *
                           w[((oc * cpg + cc) * kh + ki) * kw + kj];
                y[((bn * o + oc) * oh + i) * ow + j] = (float) s;
              }
        }
  *oh_out = oh;
  *ow_out = ow;
}

static void
test_conv_naive (gconstpointer data)
{
  const ConvCase *c = data;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) tx = ane_test_tensor_random ("x", c->x, c->rank, 1, -1, 1);
  g_autoptr(AneTensor) tw = ane_test_tensor_random ("w", c->w, c->rank, 2, -1, 1);
  gint64 bshape[] = { c->w[0] };
  g_autoptr(AneTensor) tb = ane_test_tensor_random ("b", bshape, 1, 3, -1, 1);
  g_autoptr(AneTensor) x = ane_graph_const (g, tx, &error);
  g_autoptr(AneTensor) w = ane_graph_const (g, tw, &error);
  g_autoptr(AneTensor) b = c->bias ? ane_graph_const (g, tb, &error) : NULL;
  g_autoptr(AneTensor) y = NULL, r = NULL;
  g_autofree float *xv = ane_test_dup_floats (tx), *wv = ane_test_dup_floats (tw), *bv = ane_test_dup_floats (tb);
  g_autofree float *expected = g_new0 (float, 4096);
  gint64 oh, ow, ys[4];

  g_assert_no_error (error);
  y = ane_graph_conv (g, x, w, b, c->strides, c->n_strides, c->pads, c->n_pads,
                      c->dilations, c->n_dilations, c->groups, &error);
  g_assert_no_error (error);
  naive_conv (c, xv, wv, c->bias ? bv : NULL, expected, &oh, &ow);
  ys[0] = c->x[0];
  ys[1] = c->w[0];
  if (c->rank == 4)
    {
      ys[2] = oh;
      ys[3] = ow;
    }
  else
    ys[2] = ow;
  ane_test_assert_shape (y, ys, c->rank);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, ane_tensor_get_n_elements (r), 1e-5, 1e-5);
}

static void
test_conv_fp16 (void)
{
  /* A float16 conv keeps the dtype and rounds once: 1 + 2^-11 (not a half) → 1. */
  static const gint64 xs[] = { 1, 2, 1, 1 }, ws[] = { 1, 2, 1, 1 };
  static const float xv[] = { 1, 0x1p-11f }, wv[] = { 1, 1 }, expected[] = { 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", xs, 4, xv);
  g_autoptr(AneTensor) tw = ane_test_tensor_f32 ("w", ws, 4, wv);
  g_autoptr(AneTensor) hx = ane_tensor_convert (tx, ANE_DTYPE_FLOAT16, &error);
  g_autoptr(AneTensor) hw = ane_tensor_convert (tw, ANE_DTYPE_FLOAT16, &error);
  g_autoptr(AneTensor) x = ane_graph_const (g, hx, &error);
  g_autoptr(AneTensor) w = ane_graph_const (g, hw, &error);
  g_autoptr(AneTensor) y = ane_graph_conv (g, x, w, NULL, NULL, 0, NULL, 0, NULL, 0, 1, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT16);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 1, 0, 0);
}

static void
test_conv_errors (void)
{
  static const gint64 x4[] = { 1, 4, 5, 5 }, x3[] = { 1, 4, 5 }, x2[] = { 4, 5 };
  static const gint64 w4[] = { 2, 4, 3, 3 }, w3[] = { 2, 4, 3 }, w4g[] = { 3, 2, 3, 3 };
  static const gint64 wbig[] = { 2, 4, 6, 6 }, b3[] = { 3 };
  static const gint64 s3[] = { 1, 1, 1 }, s0[] = { 1, 0 }, pneg[] = { 0, 0, -1, 0 }, d0[] = { 0, 1 };
  static const gint64 p2[] = { 1, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, x4, 4);
  g_autoptr(AneTensor) xr3 = ane_test_input (g, "xr3", ANE_DTYPE_FLOAT32, x3, 3);
  g_autoptr(AneTensor) xr2 = ane_test_input (g, "xr2", ANE_DTYPE_FLOAT32, x2, 2);
  g_autoptr(AneTensor) xi = ane_test_input (g, "xi", ANE_DTYPE_INT32, x4, 4);
  g_autoptr(AneTensor) w = ane_test_input (g, "w", ANE_DTYPE_FLOAT32, w4, 4);
  g_autoptr(AneTensor) wh = ane_test_input (g, "wh", ANE_DTYPE_FLOAT16, w4, 4);
  g_autoptr(AneTensor) wr3 = ane_test_input (g, "wr3", ANE_DTYPE_FLOAT32, w3, 3);
  g_autoptr(AneTensor) wg = ane_test_input (g, "wg", ANE_DTYPE_FLOAT32, w4g, 4);
  g_autoptr(AneTensor) wb = ane_test_input (g, "wb", ANE_DTYPE_FLOAT32, wbig, 4);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, b3, 1);
  AneTensor *y;

  y = ane_graph_conv (g, xr2, w, NULL, NULL, 0, NULL, 0, NULL, 0, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "conv", "'x'", "float32[4,5]", NULL);
  y = ane_graph_conv (g, xi, w, NULL, NULL, 0, NULL, 0, NULL, 0, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_DTYPE, "conv", "'x'", "int32[1,4,5,5]", NULL);
  y = ane_graph_conv (g, x, wh, NULL, NULL, 0, NULL, 0, NULL, 0, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_DTYPE, "conv", "'weight'", "float16[2,4,3,3]", NULL);
  y = ane_graph_conv (g, x, wr3, NULL, NULL, 0, NULL, 0, NULL, 0, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "conv", "'weight'", "float32[2,4,3]", NULL);
  y = ane_graph_conv (g, xr3, w, NULL, NULL, 0, NULL, 0, NULL, 0, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "conv", "'weight'", "float32[1,4,5]", NULL);
  /* 4 channels are not divisible by 3 groups */
  y = ane_graph_conv (g, x, wg, NULL, NULL, 0, NULL, 0, NULL, 0, 3, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'x'", "float32[1,4,5,5]", "groups 3", NULL);
  /* groups 2: weight needs 2 input channels per group, has 4 */
  y = ane_graph_conv (g, x, w, NULL, NULL, 0, NULL, 0, NULL, 0, 2, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "conv", "'weight'", "float32[2,4,3,3]", NULL);
  /* groups 2 with a weight [3,2,3,3]: 3 outputs are not divisible by 2 */
  y = ane_graph_conv (g, x, wg, NULL, NULL, 0, NULL, 0, NULL, 0, 2, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "conv", "output channels", "float32[3,2,3,3]", NULL);
  y = ane_graph_conv (g, x, w, NULL, NULL, 0, NULL, 0, NULL, 0, 0, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "conv", "groups", NULL);
  y = ane_graph_conv (g, x, w, NULL, s3, 3, NULL, 0, NULL, 0, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "strides", "[1,1,1]", NULL);
  y = ane_graph_conv (g, x, w, NULL, s0, 2, NULL, 0, NULL, 0, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "strides", "[1,0]", NULL);
  y = ane_graph_conv (g, x, w, NULL, NULL, 0, p2, 2, NULL, 0, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "pads", "[1,1]", NULL);
  y = ane_graph_conv (g, x, w, NULL, NULL, 0, pneg, 4, NULL, 0, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "pads", "[0,0,-1,0]", NULL);
  y = ane_graph_conv (g, x, w, NULL, NULL, 0, NULL, 0, d0, 2, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "dilations", "[0,1]", NULL);
  /* a 6x6 kernel does not fit a 5x5 input */
  y = ane_graph_conv (g, x, wb, NULL, NULL, 0, NULL, 0, NULL, 0, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "conv", "empty", "float32[2,4,6,6]", NULL);
  y = ane_graph_conv (g, x, w, b, NULL, 0, NULL, 0, NULL, 0, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'bias'", "float32[3]", "[2]", NULL);
}

/* --- conv_transpose_2d ------------------------------------------------------- */

static AneTensor *
conv_t (AneGraph     *g,
        AneTensor    *x,
        AneTensor    *w,
        AneTensor    *b,
        const gint64 *s,
        const gint64 *p,
        const gint64 *d,
        const gint64 *op,
        gint64        groups,
        GError      **error)
{
  return ane_graph_conv_transpose_2d (g, x, w, b, s, s ? 2 : 0, p, p ? 4 : 0, d, d ? 2 : 0,
                                      op, op ? 2 : 0, groups, error);
}

static void
test_conv_transpose_stride2 (void)
{
  /* 2x2 ones kernel, stride 2: each input pixel becomes a 2x2 block;
   * H' = (2 − 1)·2 + (2 − 1) + 1 = 4. */
  static const gint64 xs[] = { 1, 1, 2, 2 }, ws[] = { 1, 1, 2, 2 }, ys[] = { 1, 1, 4, 4 };
  static const gint64 s[] = { 2, 2 };
  static const float xv[] = { 1, 2, 3, 4 }, wv[] = { 1, 1, 1, 1 };
  static const float expected[] = { 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 4, xv);
  g_autoptr(AneTensor) w = ane_test_const_f32 (g, "w", ws, 4, wv);
  g_autoptr(AneTensor) y = conv_t (g, x, w, NULL, s, NULL, NULL, NULL, 1, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, ys, 4);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 16, 0, 0);
}

static void
test_conv_transpose_output_padding (void)
{
  /* 3x3 ones kernel, stride 2, pads 1, output_padding 1:
   * H' = (2 − 1)·2 − 2 + 2 + 1 + 1 = 4. Input row i lands on output rows
   * 2i − 1 .. 2i + 1, so row 0 ← {0}, row 1 ← {0, 1}, rows 2, 3 ← {1} (same
   * for columns); out[r][c] sums x over those sets (x = [[1,2],[3,4]]). */
  static const gint64 xs[] = { 1, 1, 2, 2 }, ws[] = { 1, 1, 3, 3 }, ys[] = { 1, 1, 4, 4 };
  static const gint64 s[] = { 2, 2 }, p[] = { 1, 1, 1, 1 }, op[] = { 1, 1 };
  static const float xv[] = { 1, 2, 3, 4 }, wv[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
  static const float expected[] = { 1, 3, 2, 2, 4, 10, 6, 6, 3, 7, 4, 4, 3, 7, 4, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 4, xv);
  g_autoptr(AneTensor) w = ane_test_const_f32 (g, "w", ws, 4, wv);
  g_autoptr(AneTensor) y = conv_t (g, x, w, NULL, s, p, NULL, op, 1, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, ys, 4);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 16, 0, 0);
}

static void
test_conv_transpose_channels (void)
{
  /* 1x1 kernels on x = [1, 2] (2 channels).
   * groups 1, w[c][o] = [[1,2],[3,4]], bias [1,1]: o0 = 1 + 6 + 1 = 8, o1 = 2 + 8 + 1 = 11.
   * groups 2, w = [5, 6] ([2,1,1,1]): O = 2, o0 = 5, o1 = 12. */
  static const gint64 xs[] = { 1, 2, 1, 1 }, w1s[] = { 2, 2, 1, 1 }, w2s[] = { 2, 1, 1, 1 };
  static const gint64 bs[] = { 2 }, ys[] = { 1, 2, 1, 1 };
  static const float xv[] = { 1, 2 }, w1v[] = { 1, 2, 3, 4 }, w2v[] = { 5, 6 }, bv[] = { 1, 1 };
  static const float e1[] = { 8, 11 }, e2[] = { 5, 12 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 4, xv);
  g_autoptr(AneTensor) w1 = ane_test_const_f32 (g, "w1", w1s, 4, w1v);
  g_autoptr(AneTensor) w2 = ane_test_const_f32 (g, "w2", w2s, 4, w2v);
  g_autoptr(AneTensor) b = ane_test_const_f32 (g, "b", bs, 1, bv);
  g_autoptr(AneTensor) y1 = conv_t (g, x, w1, b, NULL, NULL, NULL, NULL, 1, &error);
  g_autoptr(AneTensor) y2 = conv_t (g, x, w2, NULL, NULL, NULL, NULL, NULL, 2, &error);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y1, ys, 4);
  ane_test_assert_shape (y2, ys, 4);
  ane_graph_add_output (g, "y1", y1, &error);
  ane_graph_add_output (g, "y2", y2, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, NULL, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), e1, 2, 0, 0);
  ane_test_assert_close (g_ptr_array_index (out, 1), e2, 2, 0, 0);
}

static void
test_conv_transpose_dilation (void)
{
  /* One pixel 2, kernel [[1,2],[3,4]] dilated by 2: H' = 0 + 2·1 + 1 = 3, the
   * kernel taps land on the corners. */
  static const gint64 xs[] = { 1, 1, 1, 1 }, ws[] = { 1, 1, 2, 2 }, ys[] = { 1, 1, 3, 3 };
  static const gint64 d[] = { 2, 2 };
  static const float xv[] = { 2 }, wv[] = { 1, 2, 3, 4 };
  static const float expected[] = { 2, 0, 4, 0, 0, 0, 6, 0, 8 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 4, xv);
  g_autoptr(AneTensor) w = ane_test_const_f32 (g, "w", ws, 4, wv);
  g_autoptr(AneTensor) y = conv_t (g, x, w, NULL, NULL, NULL, d, NULL, 1, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, ys, 4);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 9, 0, 0);
}

typedef struct {
  const char *path;
  gint64      x[4], w[4];
  gint64      s[2], p[4], d[2], op[2];
  gint64      groups;
} ConvTCase;

static const ConvTCase convt_cases[] = {
  { "/ane/ops/vision/conv_transpose_2d/naive/plain", { 2, 3, 3, 4 }, { 3, 2, 3, 2 },
    { 1, 1 }, { 0, 0, 0, 0 }, { 1, 1 }, { 0, 0 }, 1 },
  { "/ane/ops/vision/conv_transpose_2d/naive/all-options", { 1, 4, 3, 3 }, { 4, 3, 3, 2 },
    { 2, 3 }, { 1, 0, 2, 1 }, { 2, 1 }, { 1, 2 }, 2 },
  { "/ane/ops/vision/conv_transpose_2d/naive/depthwise", { 1, 3, 4, 4 }, { 3, 1, 4, 4 },
    { 2, 2 }, { 1, 1, 1, 1 }, { 1, 1 }, { 0, 0 }, 3 },
};

/* Gather form: out[n,o,oh,ow] = Σ x[n,c,ih,iw]·w[c,o',ki,kj] over the taps
 * with oh + pt − ki·dh = ih·sh exactly (likewise for w). */
static void
test_conv_transpose_naive (gconstpointer data)
{
  const ConvTCase *c = data;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) tx = ane_test_tensor_random ("x", c->x, 4, 4, -1, 1);
  g_autoptr(AneTensor) tw = ane_test_tensor_random ("w", c->w, 4, 5, -1, 1);
  gint64 o = c->w[1] * c->groups, bshape[] = { o };
  g_autoptr(AneTensor) tb = ane_test_tensor_random ("b", bshape, 1, 6, -1, 1);
  g_autoptr(AneTensor) x = ane_graph_const (g, tx, &error);
  g_autoptr(AneTensor) w = ane_graph_const (g, tw, &error);
  g_autoptr(AneTensor) b = ane_graph_const (g, tb, &error);
  g_autoptr(AneTensor) y = NULL, r = NULL;
  g_autofree float *xv = ane_test_dup_floats (tx), *wv = ane_test_dup_floats (tw), *bv = ane_test_dup_floats (tb);
  gint64 n = c->x[0], ch = c->x[1], h = c->x[2], wd = c->x[3], kh = c->w[2], kw = c->w[3];
  gint64 oh = (h - 1) * c->s[0] - c->p[0] - c->p[1] + c->d[0] * (kh - 1) + c->op[0] + 1;
  gint64 ow = (wd - 1) * c->s[1] - c->p[2] - c->p[3] + c->d[1] * (kw - 1) + c->op[1] + 1;
  gint64 cpg = ch / c->groups, opg = c->w[1], ys[4] = { n, o, oh, ow };
  g_autofree float *expected = g_new0 (float, n * o * oh * ow);

  g_assert_no_error (error);
  y = conv_t (g, x, w, b, c->s, c->p, c->d, c->op, c->groups, &error);
  g_assert_no_error (error);
  ane_test_assert_shape (y, ys, 4);
  for (gint64 bn = 0; bn < n; bn++)
    for (gint64 oc = 0; oc < o; oc++)
      for (gint64 i = 0; i < oh; i++)
        for (gint64 j = 0; j < ow; j++)
          {
            gint64 grp = oc / opg, oo = oc % opg;
            double s = bv[oc];

            for (gint64 cc = grp * cpg; cc < (grp + 1) * cpg; cc++)
              for (gint64 ki = 0; ki < kh; ki++)
                for (gint64 kj = 0; kj < kw; kj++)
                  {
                    gint64 ti = i + c->p[0] - ki * c->d[0], tj = j + c->p[2] - kj * c->d[1];

                    if (ti < 0 || tj < 0 || ti % c->s[0] || tj % c->s[1])
                      continue;
                    if (ti / c->s[0] >= h || tj / c->s[1] >= wd)
                      continue;
                    s += (double) xv[((bn * ch + cc) * h + ti / c->s[0]) * wd + tj / c->s[1]] *
                         wv[((cc * opg + oo) * kh + ki) * kw + kj];
                  }
            expected[((bn * o + oc) * oh + i) * ow + j] = (float) s;
          }
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, n * o * oh * ow, 1e-5, 1e-5);
}

static void
test_conv_transpose_errors (void)
{
  static const gint64 x4[] = { 1, 4, 3, 3 }, x3[] = { 1, 4, 3 }, w4[] = { 4, 2, 3, 3 };
  static const gint64 wbad[] = { 2, 2, 3, 3 }, w3[] = { 4, 2, 3 };
  static const gint64 s2[] = { 2, 2 }, op2[] = { 2, 0 }, op3[] = { 0, 0, 0 }, pbig[] = { 4, 4, 0, 0 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, x4, 4);
  g_autoptr(AneTensor) xr3 = ane_test_input (g, "xr3", ANE_DTYPE_FLOAT32, x3, 3);
  g_autoptr(AneTensor) w = ane_test_input (g, "w", ANE_DTYPE_FLOAT32, w4, 4);
  g_autoptr(AneTensor) wb = ane_test_input (g, "wb", ANE_DTYPE_FLOAT32, wbad, 4);
  g_autoptr(AneTensor) wr3 = ane_test_input (g, "wr3", ANE_DTYPE_FLOAT32, w3, 3);
  AneTensor *y;

  y = conv_t (g, xr3, wr3, NULL, NULL, NULL, NULL, NULL, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "conv_transpose_2d", "'x'", "float32[1,4,3]", NULL);
  y = conv_t (g, x, wb, NULL, NULL, NULL, NULL, NULL, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'weight'", "float32[2,2,3,3]", "float32[1,4,3,3]", NULL);
  /* output_padding 2 is not below stride 2 nor dilation 1 */
  y = conv_t (g, x, w, NULL, s2, NULL, NULL, op2, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT,
                               "conv_transpose_2d", "output_padding", "[2,0]", NULL);
  y = ane_graph_conv_transpose_2d (g, x, w, NULL, NULL, 0, NULL, 0, NULL, 0, op3, 3, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "output_padding", "[0,0,0]", NULL);
  /* H' = 2 + 2 − 8 + 1 < 1 */
  y = conv_t (g, x, w, NULL, NULL, pbig, NULL, NULL, 1, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "conv_transpose_2d", "empty", NULL);
  y = conv_t (g, x, w, NULL, NULL, NULL, NULL, NULL, 3, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "groups 3", "float32[1,4,3,3]", NULL);
}

/* --- pool -------------------------------------------------------------------- */

typedef struct {
  const char *path;
  AnePoolKind kind;
  gint64      kernel[2];
  gint64      strides[2];
  guint       n_strides;
  gint64      pads[4];
  guint       n_pads;
  gboolean    include_pad;
  gint64      oh, ow;
  float       expected[4];
  gboolean    negate;        /* run on −x */
} PoolCase;

/* x = 1..9 in a 3x3 (row-major). With kernel 2 and pads [1,1,1,1] the windows
 * are rows {−1,0},{1,2} × cols {−1,0},{1,2}: the real cells are {1}, {2,3},
 * {4,7}, {5,6,8,9}. */
static const PoolCase pool_cases[] = {
  { "/ane/ops/vision/pool/max-default-strides", ANE_POOL_MAX, { 2, 2 }, { 0 }, 0, { 0 }, 0, FALSE,
    1, 1, { 5 }, FALSE },
  { "/ane/ops/vision/pool/avg-default-strides", ANE_POOL_AVG, { 2, 2 }, { 0 }, 0, { 0 }, 0, FALSE,
    1, 1, { 3 }, FALSE },
  { "/ane/ops/vision/pool/max-pad", ANE_POOL_MAX, { 2, 2 }, { 2, 2 }, 2, { 1, 1, 1, 1 }, 4, FALSE,
    2, 2, { 1, 3, 7, 9 }, FALSE },
  /* on negative values a padded 0 would win if padding counted */
  { "/ane/ops/vision/pool/max-pad-negative", ANE_POOL_MAX, { 2, 2 }, { 0 }, 0, { 1, 1, 1, 1 }, 4, FALSE,
    2, 2, { -1, -2, -4, -5 }, TRUE },
  { "/ane/ops/vision/pool/avg-pad-exclude", ANE_POOL_AVG, { 2, 2 }, { 0 }, 0, { 1, 1, 1, 1 }, 4, FALSE,
    2, 2, { 1, 2.5f, 5.5f, 7 }, FALSE },
  { "/ane/ops/vision/pool/avg-pad-include", ANE_POOL_AVG, { 2, 2 }, { 0 }, 0, { 1, 1, 1, 1 }, 4, TRUE,
    2, 2, { 0.25f, 1.25f, 2.75f, 7 }, FALSE },
  /* kernel [2,2], strides [1,2]: rows {0,1},{1,2}, cols {0,1} */
  { "/ane/ops/vision/pool/max-strides", ANE_POOL_MAX, { 2, 2 }, { 1, 2 }, 2, { 0 }, 0, FALSE,
    2, 1, { 5, 8 }, FALSE },
  { "/ane/ops/vision/pool/avg-strides", ANE_POOL_AVG, { 2, 2 }, { 1, 2 }, 2, { 0 }, 0, FALSE,
    2, 1, { 3, 6 }, FALSE },
  /* kernel [3,1]: column means / maxima, the default stride 3 × 1 */
  { "/ane/ops/vision/pool/avg-kernel-3x1", ANE_POOL_AVG, { 3, 1 }, { 0 }, 0, { 0 }, 0, FALSE,
    1, 3, { 4, 5, 6 }, FALSE },
  /* bottom/right padding only: rows {0,1},{2,pad}, cols {0,1},{2,pad} */
  { "/ane/ops/vision/pool/avg-asymmetric-pad", ANE_POOL_AVG, { 2, 2 }, { 0 }, 0, { 0, 1, 0, 1 }, 4,
    FALSE, 2, 2, { 3, 4.5f, 7.5f, 9 }, FALSE },
};

static void
test_pool (gconstpointer data)
{
  const PoolCase *c = data;
  static const gint64 xs[] = { 1, 1, 3, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = NULL, y = NULL, r = NULL;
  gint64 ys[] = { 1, 1, c->oh, c->ow };
  float xv[9];

  for (int i = 0; i < 9; i++)
    xv[i] = c->negate ? -(i + 1) : i + 1;
  x = ane_test_const_f32 (g, "x", xs, 4, xv);
  y = ane_graph_pool (g, x, c->kind, c->kernel, 2, c->n_strides ? c->strides : NULL, c->n_strides,
                      c->n_pads ? c->pads : NULL, c->n_pads, c->include_pad, &error);
  g_assert_no_error (error);
  ane_test_assert_shape (y, ys, 4);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, c->expected, c->oh * c->ow, 1e-7, 0);
}

static void
test_pool_channels_nan (void)
{
  /* Two batches and channels pool independently; a NaN poisons its window. */
  static const gint64 xs[] = { 2, 2, 1, 2 }, ys[] = { 2, 2, 1, 1 }, k[] = { 1, 2 };
  const float xv[] = { 1, 2, -3, -4, 5, NAN, 7, 0 };
  const float emax[] = { 2, -3, NAN, 7 }, eavg[] = { 1.5f, -3.5f, NAN, 3.5f };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 4, xv);
  g_autoptr(AneTensor) mx = ane_graph_pool (g, x, ANE_POOL_MAX, k, 2, NULL, 0, NULL, 0, FALSE, &error);
  g_autoptr(AneTensor) av = ane_graph_pool (g, x, ANE_POOL_AVG, k, 2, NULL, 0, NULL, 0, FALSE, &error);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (mx, ys, 4);
  ane_graph_add_output (g, "max", mx, &error);
  ane_graph_add_output (g, "avg", av, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, NULL, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), emax, 4, 0, 0);
  ane_test_assert_close (g_ptr_array_index (out, 1), eavg, 4, 0, 0);
}

static void
test_pool_errors (void)
{
  static const gint64 x4[] = { 1, 2, 4, 4 }, x3[] = { 1, 4, 4 };
  static const gint64 k2[] = { 2, 2 }, k1[] = { 2 }, k5[] = { 5, 5 }, k0[] = { 0, 2 };
  static const gint64 p2[] = { 2, 0, 0, 0 }, p3[] = { 1, 1, 1 }, s0[] = { 0, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, x4, 4);
  g_autoptr(AneTensor) xr3 = ane_test_input (g, "xr3", ANE_DTYPE_FLOAT32, x3, 3);
  g_autoptr(AneTensor) xi = ane_test_input (g, "xi", ANE_DTYPE_INT32, x4, 4);
  g_autoptr(GPtrArray) res = NULL;
  AneTensor *y;

  y = ane_graph_pool (g, xr3, ANE_POOL_MAX, k2, 2, NULL, 0, NULL, 0, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "pool", "'x'", "float32[1,4,4]", NULL);
  y = ane_graph_pool (g, xi, ANE_POOL_MAX, k2, 2, NULL, 0, NULL, 0, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_DTYPE, "pool", "'x'", "int32[1,2,4,4]", NULL);
  y = ane_graph_pool (g, x, ANE_POOL_MAX, k1, 1, NULL, 0, NULL, 0, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "pool", "kernel", "[2]", NULL);
  y = ane_graph_pool (g, x, ANE_POOL_MAX, k0, 2, NULL, 0, NULL, 0, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "pool", "kernel", "[0,2]", NULL);
  y = ane_graph_pool (g, x, ANE_POOL_AVG, k2, 2, s0, 2, NULL, 0, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "pool", "strides", "[0,1]", NULL);
  y = ane_graph_pool (g, x, ANE_POOL_AVG, k2, 2, NULL, 0, p3, 3, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "pool", "pads", "[1,1,1]", NULL);
  /* a pad as large as the kernel would make a window of padding only */
  y = ane_graph_pool (g, x, ANE_POOL_AVG, k2, 2, NULL, 0, p2, 4, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "pool", "pads", "[2,0,0,0]", NULL);
  y = ane_graph_pool (g, x, ANE_POOL_MAX, k5, 2, NULL, 0, NULL, 0, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "pool", "[5,5]", "float32[1,2,4,4]", NULL);
  /* the kind attribute through the generic entry point */
  {
    GVariant *attrs = ane_attrs_new ("kind", g_variant_new_string ("min"),
                                     "kernel", ane_attrs_ints_variant (k2, 2), NULL);
    AneTensor *ins[] = { x };

    res = ane_graph_apply (g, "pool", ins, 1, attrs, &error);
    g_assert_null (res);
    ane_test_assert_build_error (NULL, &error, ANE_ERROR_INVALID_ARGUMENT, "pool", "kind", "'min'", NULL);
  }
}

/* --- resize_nearest_2x ------------------------------------------------------- */

static void
test_resize (void)
{
  static const gint64 xs[] = { 1, 2, 2, 2 }, ys[] = { 1, 2, 4, 4 };
  static const float xv[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  static const float expected[] = { 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4,
                                    5, 5, 6, 6, 5, 5, 6, 6, 7, 7, 8, 8, 7, 7, 8, 8 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 4, xv);
  g_autoptr(AneTensor) y = ane_graph_resize_nearest_2x (g, x, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, ys, 4);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 32, 0, 0);
}

static void
test_resize_int_and_errors (void)
{
  static const gint64 xs[] = { 1, 1, 1, 2 }, ys[] = { 1, 1, 2, 4 }, x3[] = { 1, 2, 2 };
  static const gint32 xv[] = { -7, 9 };
  static const float expected[] = { -7, -7, 9, 9, -7, -7, 9, 9 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) tx = ane_tensor_new_from_ints ("x", xs, 4, xv, 2, &error);
  g_autoptr(AneTensor) x = ane_graph_const (g, tx, &error);
  g_autoptr(AneGraph) g2 = ane_graph_new ();
  g_autoptr(AneTensor) bad = ane_test_input (g2, "bad", ANE_DTYPE_FLOAT32, x3, 3);
  g_autoptr(AneTensor) y = ane_graph_resize_nearest_2x (g, x, &error);
  g_autoptr(AneTensor) r = NULL;
  AneTensor *e;

  g_assert_no_error (error);
  ane_test_assert_shape (y, ys, 4);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_INT32);
  e = ane_graph_resize_nearest_2x (g2, bad, &error);
  ane_test_assert_build_error (e, &error, ANE_ERROR_SHAPE, "resize_nearest_2x", "'x'", "float32[1,2,2]", NULL);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 8, 0, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/ops/vision/conv/stride-pad", test_conv_stride_pad);
  g_test_add_func ("/ane/ops/vision/conv/dilation", test_conv_dilation);
  g_test_add_func ("/ane/ops/vision/conv/asymmetric-pads", test_conv_asymmetric_pads);
  g_test_add_func ("/ane/ops/vision/conv/groups-bias", test_conv_groups_bias);
  g_test_add_func ("/ane/ops/vision/conv/depthwise", test_conv_depthwise);
  g_test_add_func ("/ane/ops/vision/conv/1d", test_conv_1d);
  g_test_add_func ("/ane/ops/vision/conv/fp16", test_conv_fp16);
  for (guint i = 0; i < G_N_ELEMENTS (conv_cases); i++)
    g_test_add_data_func (conv_cases[i].path, &conv_cases[i], test_conv_naive);
  g_test_add_func ("/ane/ops/vision/conv/errors", test_conv_errors);

  g_test_add_func ("/ane/ops/vision/conv_transpose_2d/stride2", test_conv_transpose_stride2);
  g_test_add_func ("/ane/ops/vision/conv_transpose_2d/output-padding", test_conv_transpose_output_padding);
  g_test_add_func ("/ane/ops/vision/conv_transpose_2d/channels-groups", test_conv_transpose_channels);
  g_test_add_func ("/ane/ops/vision/conv_transpose_2d/dilation", test_conv_transpose_dilation);
  for (guint i = 0; i < G_N_ELEMENTS (convt_cases); i++)
    g_test_add_data_func (convt_cases[i].path, &convt_cases[i], test_conv_transpose_naive);
  g_test_add_func ("/ane/ops/vision/conv_transpose_2d/errors", test_conv_transpose_errors);

  for (guint i = 0; i < G_N_ELEMENTS (pool_cases); i++)
    g_test_add_data_func (pool_cases[i].path, &pool_cases[i], test_pool);
  g_test_add_func ("/ane/ops/vision/pool/channels-nan", test_pool_channels_nan);
  g_test_add_func ("/ane/ops/vision/pool/errors", test_pool_errors);

  g_test_add_func ("/ane/ops/vision/resize_nearest_2x/values", test_resize);
  g_test_add_func ("/ane/ops/vision/resize_nearest_2x/int-and-errors", test_resize_int_and_errors);
  return g_test_run ();
}
