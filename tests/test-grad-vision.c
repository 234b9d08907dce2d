/* test-grad-vision.c: the conv and pool gradient rules against central differences
 *
 * As test-grad.c (the checks are shared: ane-grad-test-util.c): for each
 * case a small graph computing loss = Σ op(params)·r, its gradient graph,
 * and every element of every param against the central difference of the
 * loss on the reference backend (params multiples of 2^-10, h = 2^-8,
 * tolerance |analytic - numeric| <= 2e-4 · max(1, |numeric|)); then the same
 * gradient graph on the CPU backend at fp32 against the reference (1e-4
 * relative, 1e-5 absolute).
 *
 * The shapes are chosen so that the output does not cover the input evenly
 * (the floor of the size formula leaves rows and columns no window reads,
 * whose gradient is 0), with asymmetric pads, strides, dilations and
 * groups. Max pooling takes distinct values (multiples of 1/32, no two
 * within 2h), so no window has a tie a step of h could break.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-grad-test-util.h"
#include "ane-tensor-private.h"

/* The loss is rounded once to float32, so the central difference cannot
 * resolve less than ulp(loss) / 2h: 2^-21 / 2^-7 = 6e-5 for |loss| < 8, a
 * third of the tolerance; a case whose loss is larger would be checked
 * against rounding noise (2.4e-4 at |loss| >= 16). Checks each case stays
 * below 8, and logs the loss. */
static void
assert_small_loss (const char *what,
                   AneGraph   *g)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_REFERENCE);
  g_autoptr(GPtrArray) out = NULL;
  g_autofree double *loss = NULL;

  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  out = ane_executable_run (exe, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  loss = ane_test_dup_doubles (ane_grad_test_find_output (out, "loss"), NULL);
  g_test_message ("%s: loss %.6g", what, loss[0]);
  if (!(fabs (loss[0]) < 8.0))
    g_error ("%s: |loss| %.6g >= 8: the central difference would not resolve the tolerance", what, loss[0]);
}

typedef struct {
  const char *what;
  gint64      x[4];        /* x's shape; rank 3 for 1-D when x[3] == 0 */
  gint64      w[4];        /* the weight's */
  gint64      strides[2];
  gint64      pads[4];
  gint64      dilations[2];
  gint64      groups;
  gboolean    bias;
} ConvCase;

static void
check_conv (const ConvCase *c)
{
  static const char *const with_bias[] = { "x", "w", "b", NULL };
  static const char *const no_bias[] = { "x", "w", NULL };
  guint rank = c->x[3] == 0 ? 3 : 4, nsp = rank - 2;
  const gint64 bs[] = { c->w[0] };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = ane_grad_test_param (g, "x", c->x, rank, 1, -1, 1, 0);
  g_autoptr(AneTensor) w = ane_grad_test_param (g, "w", c->w, rank, 2, -0.5, 0.5, 0);
  g_autoptr(AneTensor) b = c->bias ? ane_grad_test_param (g, "b", bs, 1, 3, -1, 1, 0) : NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_conv (g, x, w, b, c->strides, nsp, c->pads, 2 * nsp, c->dilations, nsp,
                                           c->groups, &error);

  g_assert_no_error (error);
  ane_grad_test_add_loss (g, y);
  assert_small_loss (c->what, g);
  ane_grad_test_check (c->what, g, c->bias ? with_bias : no_bias);
}

static void
test_conv_2d (void)
{
  static const ConvCase cases[] = {
    /* out 3x5 of 9x8: one row and one column left over (output_padding 1) */
    { "conv 2-D stride 2, pads, dilation 2x1, groups 2, bias",
      { 1, 4, 9, 8 }, { 6, 2, 3, 2 }, { 2, 2 }, { 1, 0, 2, 1 }, { 2, 1 }, 2, TRUE },
    { "conv 2-D dilation 2, symmetric pads, bias",
      { 1, 3, 6, 7 }, { 4, 3, 3, 3 }, { 1, 1 }, { 2, 2, 1, 1 }, { 2, 2 }, 1, TRUE },
    /* stride 3 leaves 2 columns >= the dilation: dW's correlation comes out
     * wider than the kernel and is narrowed */
    { "conv 2-D strides 2x3, dilation 2, groups 2, no bias",
      { 2, 4, 8, 9 }, { 4, 2, 2, 3 }, { 2, 3 }, { 0, 1, 1, 0 }, { 2, 2 }, 2, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_conv (&cases[i]);
}

static void
test_conv_depthwise (void)
{
  static const ConvCase cases[] = {
    { "depthwise conv stride 2, pads 1, bias",
      { 2, 3, 6, 5 }, { 3, 1, 3, 3 }, { 2, 2 }, { 1, 1, 1, 1 }, { 1, 1 }, 3, TRUE },
    /* channel multiplier 2: each input channel feeds two outputs */
    { "depthwise conv multiplier 2, dilation 2",
      { 1, 3, 7, 7 }, { 6, 1, 3, 2 }, { 1, 2 }, { 2, 1, 0, 1 }, { 2, 2 }, 3, TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_conv (&cases[i]);
}

static void
test_conv_1d (void)
{
  static const ConvCase cases[] = {
    /* out 5 of 11 (+ pads 3): one column left over */
    { "conv 1-D stride 2, pads 2+1, dilation 2, groups 2, bias",
      { 2, 4, 11, 0 }, { 6, 2, 3, 0 }, { 2 }, { 2, 1 }, { 2 }, 2, TRUE },
    { "conv 1-D plain",
      { 1, 2, 6, 0 }, { 3, 2, 3, 0 }, { 1 }, { 0, 0 }, { 1 }, 1, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_conv (&cases[i]);
}

/* --- pool ------------------------------------------------------------------ */

typedef struct {
  const char *what;
  AnePoolKind kind;
  gint64      x[4];
  gint64      kernel[2];
  gint64      strides[2];
  gint64      pads[4];
  gboolean    count_include_pad;
} PoolCase;

static void
check_pool (const PoolCase *c)
{
  static const char *const wrt[] = { "x", NULL };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = c->kind == ANE_POOL_MAX ? ane_grad_test_distinct_param (g, "x", c->x, 4, 4)
                                                   : ane_grad_test_param (g, "x", c->x, 4, 4, -1, 1, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_pool (g, x, c->kind, c->kernel, 2, c->strides, 2, c->pads, 4,
                                           c->count_include_pad, &error);

  g_assert_no_error (error);
  ane_grad_test_add_loss (g, y);
  assert_small_loss (c->what, g);
  ane_grad_test_check (c->what, g, wrt);
}

static void
test_pool_avg (void)
{
  static const PoolCase cases[] = {
    /* out 4x3 of 7x6: windows at the border hold 2 to 6 cells */
    { "avg pool 3x2 stride 2, pads, padding excluded", ANE_POOL_AVG,
      { 2, 3, 7, 6 }, { 3, 2 }, { 2, 2 }, { 1, 1, 1, 0 }, FALSE },
    { "avg pool 3x2 stride 2, pads, padding counted", ANE_POOL_AVG,
      { 2, 3, 7, 6 }, { 3, 2 }, { 2, 2 }, { 1, 1, 1, 0 }, TRUE },
    /* overlapping windows, no padding, one column left over */
    { "avg pool 3x3 strides 1x2, no pads", ANE_POOL_AVG,
      { 1, 2, 5, 8 }, { 3, 3 }, { 1, 2 }, { 0, 0, 0, 0 }, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_pool (&cases[i]);
}

static void
test_pool_max (void)
{
  static const PoolCase cases[] = {
    /* stride < kernel: a cell can win several windows and gathers each dy */
    { "max pool 3x3 stride 2, pads 1", ANE_POOL_MAX,
      { 2, 3, 7, 6 }, { 3, 3 }, { 2, 2 }, { 1, 1, 1, 1 }, FALSE },
    { "max pool 2x3 strides 1x2, pads 1,0,0,1", ANE_POOL_MAX,
      { 1, 2, 5, 8 }, { 2, 3 }, { 1, 2 }, { 1, 0, 0, 1 }, FALSE },
    { "max pool 2x2 (strides: the kernel), odd size", ANE_POOL_MAX,
      { 1, 2, 5, 7 }, { 2, 2 }, { 2, 2 }, { 0, 0, 0, 0 }, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_pool (&cases[i]);
}

/* Ties: the whole gradient goes to the first largest cell of each window
 * in row-major order (as torch's max_pool2d), on both backends; padded
 * cells never take it, even when every real cell is negative (a padded
 * cell reads 0 in the unfolding). */
static void
test_pool_max_ties (void)
{
  static const gint64 xs[] = { 1, 1, 3, 4 }, k[] = { 2, 2 }, s[] = { 1, 2 }, p[] = { 1, 0, 0, 0 };
  static const char *const wrt[] = { "x", NULL };
  /* rows: all -1 (a tie in every window), then 2 5 5 1, then 5 0 1 1 */
  static const float xv[] = { -1, -1, -1, -1, 2, 5, 5, 1, 5, 0, 1, 1 };
  /* windows (rows -1..0, 0..1, 1..2) x (cols 0..1, 2..3): the first row's
   * windows have one padded row and tie -1 four ways -> the first real
   * cell; (0..1, 0..1) -> 5 at (1, 1); (0..1, 2..3) -> 5 at (1, 2);
   * (1..2, 0..1) -> the first 5, (1, 1), not (2, 0); (1..2, 2..3) -> (1, 2) */
  static const double want[] = { 1, 0, 1, 0, 0, 2, 2, 0, 0, 0, 0, 0 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) xv_t = ane_test_tensor_f32 ("x", xs, 4, xv);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_param_with_value (g, xv_t, &error);
  g_autoptr(AneTensor) y = ane_graph_pool (g, x, ANE_POOL_MAX, k, 2, s, 2, p, 4, FALSE, &error);
  g_autoptr(AneGraph) gg = NULL;

  g_assert_no_error (error);
  ane_test_output (g, "loss", y);   /* seeded with ones: d Σ y */
  gg = ane_graph_gradients (g, "loss", wrt, &error);
  g_assert_no_error (error);
  for (guint b = 0; b < 2; b++)
    {
      g_autoptr(AneExecutable) exe = ane_executable_new (gg, b == 0 ? ANE_BACKEND_REFERENCE : ANE_BACKEND_CPU);
      g_autoptr(GPtrArray) out = NULL;
      g_autofree double *d = NULL;
      gsize n;

      ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
      g_assert_true (ane_executable_compile (exe, NULL, &error));
      g_assert_no_error (error);
      out = ane_executable_run (exe, NULL, 0, NULL, &error);
      g_assert_no_error (error);
      d = ane_test_dup_doubles (ane_grad_test_find_output (out, "grad_x"), &n);
      g_assert_cmpuint (n, ==, G_N_ELEMENTS (want));
      ane_test_assert_close_doubles (b == 0 ? "ties, reference" : "ties, CPU", d, want, n, 0, 0);
    }
}

/* --- a small conv net ------------------------------------------------------ */

/* conv 3x3 (pads 1, bias) -> relu -> max pool 3x3 -> reshape -> matmul: the
 * rules composed, with the gradient of the image too. */
static void
test_conv_net (void)
{
  static const gint64 xs[] = { 2, 2, 6, 6 }, ws[] = { 3, 2, 3, 3 }, bs[] = { 3 }, w2s[] = { 27, 4 };
  static const gint64 pads[] = { 1, 1, 1, 1 }, k[] = { 3, 3 }, ps[] = { 2, 2 }, pp[] = { 0, 1, 0, 1 };
  static const gint64 flat[] = { 2, 27 };
  static const char *const wrt[] = { "x", "w1", "b1", "w2", NULL };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = ane_grad_test_param (g, "x", xs, 4, 60, -1, 1, 0);
  g_autoptr(AneTensor) w1 = ane_grad_test_param (g, "w1", ws, 4, 61, -0.5, 0.5, 0);
  g_autoptr(AneTensor) b1 = ane_grad_test_param (g, "b1", bs, 1, 62, -0.2, 0.2, 0);
  g_autoptr(AneTensor) w2 = ane_grad_test_param (g, "w2", w2s, 2, 63, -0.5, 0.5, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) c = ane_graph_conv (g, x, w1, b1, NULL, 0, pads, 4, NULL, 0, 1, &error);
  g_autoptr(AneTensor) r = ane_graph_relu (g, c, &error);
  /* 6x6 -> 3x3: 3x3 windows at stride 2 (overlapping), one padded row and column */
  g_autoptr(AneTensor) p = ane_graph_pool (g, r, ANE_POOL_MAX, k, 2, ps, 2, pp, 4, FALSE, &error);
  g_autoptr(AneTensor) f = ane_graph_reshape (g, p, flat, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_matmul (g, f, w2, FALSE, FALSE, &error);

  g_assert_no_error (error);
  ane_grad_test_add_loss (g, y);
  assert_small_loss ("conv net", g);
  ane_grad_test_check ("conv net", g, wrt);
}

/* Dynamic params (training's weights): the weight is then a program input,
 * not a const, and the lowering takes other paths (conv_transpose with a
 * weight that is not const, iOS17+; a dilated conv's weight spread by
 * mil/lower/ane-lower-vision.c dilate_weight). The gradient graph on the
 * CPU backend at fp32 against the reference (1e-4 relative, 1e-5 absolute);
 * the rules' values themselves are checked by the cases above. */
static void
test_dynamic_weights (void)
{
  static const gint64 xs[] = { 2, 4, 9, 8 }, ws[] = { 6, 2, 3, 2 }, bs[] = { 6 };
  static const gint64 s[] = { 2, 2 }, pads[] = { 1, 0, 2, 1 }, d[] = { 2, 2 };
  static const gint64 k[] = { 2, 2 }, ps[] = { 1, 1 }, pp[] = { 1, 0, 0, 1 };
  static const char *const names[] = { "x", "w", "b", NULL };
  const gint64 *shapes[] = { xs, ws, bs };
  const guint ranks[] = { 4, 4, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_param_dynamic (g, "x", ANE_DTYPE_FLOAT32, xs, 4, &error);
  g_autoptr(AneTensor) w = ane_graph_param_dynamic (g, "w", ANE_DTYPE_FLOAT32, ws, 4, &error);
  g_autoptr(AneTensor) b = ane_graph_param_dynamic (g, "b", ANE_DTYPE_FLOAT32, bs, 1, &error);
  g_autoptr(AneTensor) c = ane_graph_conv (g, x, w, b, s, 2, pads, 4, d, 2, 2, &error);
  g_autoptr(AneTensor) m = ane_graph_pool (g, c, ANE_POOL_MAX, k, 2, ps, 2, pp, 4, FALSE, &error);
  g_autoptr(AneTensor) a = ane_graph_pool (g, m, ANE_POOL_AVG, k, 2, ps, 2, pp, 4, FALSE, &error);
  g_autoptr(AneGraph) gg = NULL;
  g_autoptr(AneExecutable) ref = NULL;
  g_autoptr(AneExecutable) cpu = NULL;
  g_autoptr(GPtrArray) ref_out = NULL;
  g_autoptr(GPtrArray) cpu_out = NULL;

  g_assert_no_error (error);
  ane_grad_test_add_loss (g, a);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr(AneTensor) v = ane_grad_test_values (names[i], shapes[i], ranks[i], 70 + i, -1, 1, 0);

      g_assert_true (ane_graph_bind_param (g, names[i], v, &error));
      g_assert_no_error (error);
    }
  gg = ane_graph_gradients (g, "loss", names, &error);
  g_assert_no_error (error);
  ref = ane_executable_new (gg, ANE_BACKEND_REFERENCE);
  cpu = ane_executable_new (gg, ANE_BACKEND_CPU);
  ane_executable_set_precision (cpu, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_executable_compile (ref, NULL, &error));
  g_assert_true (ane_executable_compile (cpu, NULL, &error));
  g_assert_no_error (error);
  ref_out = ane_executable_run (ref, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  cpu_out = ane_executable_run (cpu, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *gname = g_strconcat ("grad_", names[i], NULL);
      double worst = ane_test_assert_close_tensors (gname, ane_grad_test_find_output (cpu_out, gname),
                                                    ane_grad_test_find_output (ref_out, gname), 1e-4, 1e-5);

      g_test_message ("dynamic weights: %s, largest CPU fp32 - reference difference %.2e", gname, worst);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/grad-vision/conv-2d", test_conv_2d);
  g_test_add_func ("/grad-vision/conv-depthwise", test_conv_depthwise);
  g_test_add_func ("/grad-vision/conv-1d", test_conv_1d);
  g_test_add_func ("/grad-vision/pool-avg", test_pool_avg);
  g_test_add_func ("/grad-vision/pool-max", test_pool_max);
  g_test_add_func ("/grad-vision/pool-max-ties", test_pool_max_ties);
  g_test_add_func ("/grad-vision/conv-net", test_conv_net);
  g_test_add_func ("/grad-vision/dynamic-weights", test_dynamic_weights);
  return g_test_run ();
}
