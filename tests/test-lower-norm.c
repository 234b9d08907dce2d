/* test-lower-norm.c: lowering of softmax and the normalization ops to MIL
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-lower-test-util.h"

/* --- helpers ---------------------------------------------------------------- */

/* The op that produces `value` has this type. */
static AneMilOperation *
assert_producer (AneMilProgram *p,
                 const char    *value,
                 const char    *type)
{
  AneMilOperation *op;

  g_assert_nonnull (value);
  op = ane_test_producer (p, value);
  g_assert_nonnull (op);
  g_assert_cmpstr (op->type, ==, type);
  return op;
}

static AneTensor *
const_vec (AneGraph   *g,
           const char *name,
           gint64      n,
           float       base)
{
  g_autofree float *v = g_new (float, n);
  g_autoptr(AneTensor) t = NULL;
  g_autoptr(GError) error = NULL;
  AneTensor *c;

  for (gint64 i = 0; i < n; i++)
    v[i] = base + 0.25f * (float) i;
  t = ane_test_tensor_f32 (name, &n, 1, v);
  c = ane_graph_const (g, t, &error);
  g_assert_no_error (error);
  return c;
}

static const AneMilTarget all_targets[] = { ANE_MIL_IOS15, ANE_MIL_IOS16, ANE_MIL_IOS17, ANE_MIL_IOS18 };

/* --- softmax ---------------------------------------------------------------- */

static void
test_softmax (void)
{
  static const gint64 s[] = { 2, 3, 4 };

  for (guint fp16 = 0; fp16 < 2; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 3, &error);
      g_autoptr(AneTensor) y = ane_graph_softmax (g, x, 1, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
      AneMilOperation *op;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS15, dt);
      ane_test_assert_seq (p, fp16 ? "cast,softmax,cast" : "softmax,identity");
      op = ane_test_find_op (p, "softmax", 0);
      g_assert_cmpstr (ane_test_op_arg (op, "x"), ==, fp16 ? ane_test_find_op (p, "cast", 0)->outputs[0]->name : "x");
      {
        const gint64 axis = 1;
        g_autofree double *v = NULL;
        g_assert_cmpuint (ane_test_const_values (p, ane_test_op_arg (op, "axis"), &v), ==, 1);
        g_assert_cmpfloat (v[0], ==, (double) axis);
      }
      ane_test_assert_output (op, 0, dt, s, 3);
    }
}

static void
test_softmax_negative_axis (void)
{
  static const gint64 s[] = { 2, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_softmax (g, x, -1, &error);
  g_autoptr(AneMilProgram) p = NULL;
  g_autofree double *v = NULL;

  ane_graph_add_output (g, "y", y, &error);
  p = ane_test_lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32);
  g_assert_cmpuint (ane_test_const_values (p, ane_test_op_arg (ane_test_find_op (p, "softmax", 0), "axis"), &v), ==, 1);
  g_assert_cmpfloat (v[0], ==, -1);
  g_assert_cmpstr (ane_test_find_op (p, "softmax", 0)->outputs[0]->name, ==, "softmax");
}

/* --- layer_norm ------------------------------------------------------------- */

static void
test_layer_norm_const_affine (void)
{
  /* const gamma/beta go into MIL layer_norm; axes [-2,-1] -> [1,2] */
  static const gint64 s[] = { 2, 3, 4 };
  static const gint64 axes[] = { -1, -2 }, mil_axes[] = { 1, 2 };

  for (guint fp16 = 0; fp16 < 2; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 3, &error);
      g_autoptr(AneTensor) gamma = ane_graph_param (g, "gamma", ANE_DTYPE_FLOAT32, s + 1, 2, &error);
      g_autoptr(AneTensor) beta = ane_graph_param (g, "beta", ANE_DTYPE_FLOAT32, s + 1, 2, &error);
      g_autoptr(AneTensor) y = ane_graph_layer_norm (g, x, gamma, beta, axes, 2, 1e-3, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
      AneMilOperation *op;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS15, dt);
      ane_test_assert_seq (p, fp16 ? "cast,layer_norm,cast" : "layer_norm,identity");
      op = ane_test_find_op (p, "layer_norm", 0);
      ane_test_assert_const_ints (p, ane_test_op_arg (op, "axes"), mil_axes, 2);
      g_assert_cmpstr (ane_test_op_arg (op, "gamma"), ==, "gamma");
      g_assert_cmpstr (ane_test_op_arg (op, "beta"), ==, "beta");
      g_assert_cmpint (ane_test_producer (p, "gamma")->outputs[0]->type->tensortype->datatype, ==,
                       ane_mil_dtype_from_ane (dt));
      ane_test_assert_const_scalar (p, ane_test_op_arg (op, "epsilon"), dt, 1e-3);
      ane_test_assert_output (op, 0, dt, s, 3);
    }
}

static void
test_layer_norm_runtime_affine (void)
{
  /* gamma/beta that are not MIL consts are applied after the op */
  static const gint64 s[] = { 2, 5 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 2, &error);
  g_autoptr(AneTensor) gamma = ane_graph_input (g, "gamma", ANE_DTYPE_FLOAT32, s + 1, 1, &error);
  g_autoptr(AneTensor) beta = const_vec (g, "beta", 5, 0.5f);
  g_autoptr(AneTensor) y = ane_graph_layer_norm (g, x, gamma, beta, NULL, 0, 1e-5, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *ln, *mul, *add;
  static const gint64 one_axis[] = { 1 };

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16);
  ane_test_assert_seq (p, "cast,cast,layer_norm,mul,add,cast");
  ln = ane_test_find_op (p, "layer_norm", 0);
  mul = ane_test_find_op (p, "mul", 0);
  add = ane_test_find_op (p, "add", 0);
  g_assert_null (ane_test_op_arg (ln, "gamma"));
  g_assert_null (ane_test_op_arg (ln, "beta"));   /* const, but only folded with gamma */
  ane_test_assert_const_ints (p, ane_test_op_arg (ln, "axes"), one_axis, 1);
  g_assert_cmpstr (ane_test_op_arg (mul, "x"), ==, ln->outputs[0]->name);
  assert_producer (p, ane_test_op_arg (mul, "y"), "cast");     /* gamma input cast to fp16 */
  g_assert_cmpstr (ane_test_op_arg (add, "x"), ==, mul->outputs[0]->name);
  assert_producer (p, ane_test_op_arg (add, "y"), "const");
  ane_test_assert_output (add, 0, ANE_DTYPE_FLOAT16, s, 2);
  g_assert_cmpstr (add->outputs[0]->name, ==, "layer_norm");
}

static void
test_layer_norm_beta_only (void)
{
  static const gint64 s[] = { 3, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 2, &error);
  g_autoptr(AneTensor) beta = const_vec (g, "beta", 4, 1.0f);
  g_autoptr(AneTensor) y = ane_graph_layer_norm (g, x, NULL, beta, NULL, 0, 1e-5, &error);
  g_autoptr(AneMilProgram) p = NULL;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "layer_norm,add,identity");
  g_assert_null (ane_test_op_arg (ane_test_find_op (p, "layer_norm", 0), "beta"));
}

static void
test_layer_norm_plain (void)
{
  static const gint64 s[] = { 3, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 2, &error);
  g_autoptr(AneTensor) gamma = const_vec (g, "gamma", 4, 1.0f);
  g_autoptr(AneTensor) y = ane_graph_layer_norm (g, x, gamma, NULL, NULL, 0, 1e-5, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *ln;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "layer_norm,identity");
  ln = ane_test_find_op (p, "layer_norm", 0);
  g_assert_cmpstr (ane_test_op_arg (ln, "gamma"), ==, "gamma");
  g_assert_null (ane_test_op_arg (ln, "beta"));
  ane_test_assert_const_scalar (p, ane_test_op_arg (ln, "epsilon"), ANE_DTYPE_FLOAT32, 1e-5);
}

/* --- rms_norm --------------------------------------------------------------- */

static void
test_rms_norm_fp32 (void)
{
  static const gint64 s[] = { 2, 3, 8 }, row[] = { 2, 3, 1 }, last[] = { -1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 3, &error);
  g_autoptr(AneTensor) w = ane_graph_param (g, "w", ANE_DTYPE_FLOAT32, s + 2, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_rms_norm (g, x, w, 1e-6, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *sq, *mean, *rs, *n, *mw;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "mul,reduce_mean,rsqrt,mul,mul,identity");
  sq = ane_test_find_op (p, "mul", 0);
  mean = ane_test_find_op (p, "reduce_mean", 0);
  rs = ane_test_find_op (p, "rsqrt", 0);
  n = ane_test_find_op (p, "mul", 1);
  mw = ane_test_find_op (p, "mul", 2);
  g_assert_cmpstr (ane_test_op_arg (sq, "x"), ==, "x");
  g_assert_cmpstr (ane_test_op_arg (sq, "y"), ==, "x");
  g_assert_cmpstr (ane_test_op_arg (mean, "x"), ==, sq->outputs[0]->name);
  ane_test_assert_const_ints (p, ane_test_op_arg (mean, "axes"), last, 1);
  ane_test_assert_const_bool (p, ane_test_op_arg (mean, "keep_dims"), TRUE);
  ane_test_assert_output (mean, 0, ANE_DTYPE_FLOAT32, row, 3);
  g_assert_cmpstr (ane_test_op_arg (rs, "x"), ==, mean->outputs[0]->name);
  ane_test_assert_const_scalar (p, ane_test_op_arg (rs, "epsilon"), ANE_DTYPE_FLOAT32, 1e-6);
  g_assert_cmpstr (ane_test_op_arg (n, "x"), ==, "x");
  g_assert_cmpstr (ane_test_op_arg (n, "y"), ==, rs->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (mw, "x"), ==, n->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (mw, "y"), ==, "w");
  ane_test_assert_output (mw, 0, ANE_DTYPE_FLOAT32, s, 3);
  g_assert_cmpstr (mw->outputs[0]->name, ==, "rms_norm");
}

static void
test_rms_norm_fp16 (void)
{
  /* fp16: rows scaled by m = max(max|x|, 2^-14) first; e = eps/m^2 as
   * ((2^-14/m) * (eps/2^-28)) * (2^-14/m) */
  static const gint64 s[] = { 2, 8 }, row[] = { 2, 1 }, last[] = { -1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 2, &error);
  g_autoptr(AneTensor) w = ane_graph_param (g, "w", ANE_DTYPE_FLOAT32, s + 1, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_rms_norm (g, x, w, 1e-5, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *cast_in, *abs_, *rmax, *mx, *u, *sq, *mean, *k, *e1, *e2, *t, *rs, *n, *mw;
  const double c = ldexp (1.0, -14);

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT16);
  ane_test_assert_seq (p, "cast,abs,reduce_max,maximum,real_div,mul,reduce_mean,real_div,mul,mul,add,rsqrt,mul,mul,cast");
  cast_in = ane_test_find_op (p, "cast", 0);
  abs_ = ane_test_find_op (p, "abs", 0);
  rmax = ane_test_find_op (p, "reduce_max", 0);
  mx = ane_test_find_op (p, "maximum", 0);
  u = ane_test_find_op (p, "real_div", 0);
  sq = ane_test_find_op (p, "mul", 0);
  mean = ane_test_find_op (p, "reduce_mean", 0);
  k = ane_test_find_op (p, "real_div", 1);
  e1 = ane_test_find_op (p, "mul", 1);
  e2 = ane_test_find_op (p, "mul", 2);
  t = ane_test_find_op (p, "add", 0);
  rs = ane_test_find_op (p, "rsqrt", 0);
  n = ane_test_find_op (p, "mul", 3);
  mw = ane_test_find_op (p, "mul", 4);

  g_assert_cmpstr (ane_test_op_arg (abs_, "x"), ==, cast_in->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (rmax, "x"), ==, abs_->outputs[0]->name);
  ane_test_assert_const_ints (p, ane_test_op_arg (rmax, "axes"), last, 1);
  ane_test_assert_const_bool (p, ane_test_op_arg (rmax, "keep_dims"), TRUE);
  ane_test_assert_output (rmax, 0, ANE_DTYPE_FLOAT16, row, 2);
  g_assert_cmpstr (ane_test_op_arg (mx, "x"), ==, rmax->outputs[0]->name);
  ane_test_assert_const_scalar (p, ane_test_op_arg (mx, "y"), ANE_DTYPE_FLOAT16, c);
  g_assert_cmpstr (ane_test_op_arg (u, "x"), ==, cast_in->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (u, "y"), ==, mx->outputs[0]->name);
  ane_test_assert_output (u, 0, ANE_DTYPE_FLOAT16, s, 2);
  g_assert_cmpstr (ane_test_op_arg (sq, "x"), ==, u->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (sq, "y"), ==, u->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (mean, "x"), ==, sq->outputs[0]->name);
  ane_test_assert_const_scalar (p, ane_test_op_arg (k, "x"), ANE_DTYPE_FLOAT16, c);
  g_assert_cmpstr (ane_test_op_arg (k, "y"), ==, mx->outputs[0]->name);
  ane_test_assert_output (k, 0, ANE_DTYPE_FLOAT16, row, 2);
  g_assert_cmpstr (ane_test_op_arg (e1, "x"), ==, k->outputs[0]->name);
  ane_test_assert_const_scalar (p, ane_test_op_arg (e1, "y"), ANE_DTYPE_FLOAT16, 1e-5 / (c * c));
  g_assert_cmpstr (ane_test_op_arg (e2, "x"), ==, e1->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (e2, "y"), ==, k->outputs[0]->name);
  ane_test_assert_output (e2, 0, ANE_DTYPE_FLOAT16, row, 2);
  g_assert_cmpstr (ane_test_op_arg (t, "x"), ==, mean->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (t, "y"), ==, e2->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (rs, "x"), ==, t->outputs[0]->name);
  ane_test_assert_const_scalar (p, ane_test_op_arg (rs, "epsilon"), ANE_DTYPE_FLOAT16, 0.0);
  g_assert_cmpstr (ane_test_op_arg (n, "x"), ==, u->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (n, "y"), ==, rs->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (mw, "x"), ==, n->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (mw, "y"), ==, "w");
  ane_test_assert_output (mw, 0, ANE_DTYPE_FLOAT16, s, 2);
  g_assert_cmpstr (mw->outputs[0]->name, ==, "rms_norm");
}

static void
test_rms_norm_fp16_floor (void)
{
  /* a large eps raises the floor so eps/floor^2 stays <= 2^15; eps 0 adds nothing */
  static const gint64 s[] = { 4, 6 };
  static const struct { double eps; double floor; const char *seq; guint last_mul; } cases[] = {
    { 1.0, 0.0078125, "cast,abs,reduce_max,maximum,real_div,mul,reduce_mean,real_div,mul,mul,add,rsqrt,mul,cast", 3 },
    { 0.0, 0.00006103515625, "cast,abs,reduce_max,maximum,real_div,mul,reduce_mean,rsqrt,mul,cast", 1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 2, &error);
      g_autoptr(AneTensor) y = ane_graph_rms_norm (g, x, NULL, cases[i].eps, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *last;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16);
      ane_test_assert_seq (p, cases[i].seq);
      ane_test_assert_const_scalar (p, ane_test_op_arg (ane_test_find_op (p, "maximum", 0), "y"),
                                    ANE_DTYPE_FLOAT16, cases[i].floor);
      g_assert_cmpfloat (cases[i].eps / (cases[i].floor * cases[i].floor), <=, 32768.0);
      if (cases[i].eps != 0.0)
        ane_test_assert_const_scalar (p, ane_test_op_arg (ane_test_find_op (p, "mul", 1), "y"), ANE_DTYPE_FLOAT16,
                                      cases[i].eps / (cases[i].floor * cases[i].floor));
      last = ane_test_find_op (p, "mul", cases[i].last_mul);
      g_assert_cmpstr (last->outputs[0]->name, ==, "rms_norm");
      g_assert_cmpstr (ane_test_op_arg (last, "x"), ==, ane_test_find_op (p, "real_div", 0)->outputs[0]->name);
    }
}

/* --- group_norm ------------------------------------------------------------- */

static void
test_group_norm (void)
{
  static const gint64 s[] = { 2, 4, 3, 3 }, grouped[] = { 2, 2, 18 }, cview[] = { 4, 1, 1 };
  static const gint64 last[] = { 2 };

  for (guint fp16 = 0; fp16 < 2; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 4, &error);
      g_autoptr(AneTensor) gamma = const_vec (g, "gamma", 4, 1.0f);
      g_autoptr(AneTensor) beta = const_vec (g, "beta", 4, 0.0f);
      g_autoptr(AneTensor) y = ane_graph_group_norm (g, x, gamma, beta, 2, 1e-5, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
      AneMilOperation *r0, *ln, *r1, *gv, *bv, *mul, *add;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS15, dt);
      ane_test_assert_seq (p, fp16 ? "cast,reshape,layer_norm,reshape,reshape,reshape,mul,add,cast"
                                   : "reshape,layer_norm,reshape,reshape,reshape,mul,add,identity");
      r0 = ane_test_find_op (p, "reshape", 0);
      ln = ane_test_find_op (p, "layer_norm", 0);
      r1 = ane_test_find_op (p, "reshape", 1);
      gv = ane_test_find_op (p, "reshape", 2);
      bv = ane_test_find_op (p, "reshape", 3);
      mul = ane_test_find_op (p, "mul", 0);
      add = ane_test_find_op (p, "add", 0);
      ane_test_assert_const_ints (p, ane_test_op_arg (r0, "shape"), grouped, 3);
      ane_test_assert_output (r0, 0, dt, grouped, 3);
      g_assert_cmpstr (ane_test_op_arg (ln, "x"), ==, r0->outputs[0]->name);
      ane_test_assert_const_ints (p, ane_test_op_arg (ln, "axes"), last, 1);
      g_assert_null (ane_test_op_arg (ln, "gamma"));
      ane_test_assert_const_scalar (p, ane_test_op_arg (ln, "epsilon"), dt, 1e-5);
      ane_test_assert_output (ln, 0, dt, grouped, 3);
      g_assert_cmpstr (ane_test_op_arg (r1, "x"), ==, ln->outputs[0]->name);
      ane_test_assert_const_ints (p, ane_test_op_arg (r1, "shape"), s, 4);
      g_assert_cmpstr (ane_test_op_arg (gv, "x"), ==, "gamma");
      ane_test_assert_const_ints (p, ane_test_op_arg (gv, "shape"), cview, 3);
      g_assert_cmpstr (ane_test_op_arg (bv, "x"), ==, "beta");
      g_assert_cmpstr (ane_test_op_arg (mul, "x"), ==, r1->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (mul, "y"), ==, gv->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (add, "x"), ==, mul->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (add, "y"), ==, bv->outputs[0]->name);
      ane_test_assert_output (add, 0, dt, s, 4);
      g_assert_cmpstr (add->outputs[0]->name, ==, "group_norm");
    }
}

static void
test_group_norm_rank2 (void)
{
  /* [N, C] with no affine: [N, G, C/G] and back; rank 3 gamma view [C, 1] */
  static const gint64 s2[] = { 3, 6 }, g2[] = { 3, 3, 2 };
  static const gint64 s3[] = { 1, 4, 5 }, g3[] = { 1, 4, 5 }, cview[] = { 4, 1 };
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s2, 2, &error);
    g_autoptr(AneTensor) y = ane_graph_group_norm (g, x, NULL, NULL, 3, 1e-5, &error);
    g_autoptr(AneMilProgram) p = NULL;

    ane_graph_add_output (g, "y", y, &error);
    g_assert_no_error (error);
    p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
    ane_test_assert_seq (p, "reshape,layer_norm,reshape,identity");
    ane_test_assert_const_ints (p, ane_test_op_arg (ane_test_find_op (p, "reshape", 0), "shape"), g2, 3);
    g_assert_cmpstr (ane_test_find_op (p, "reshape", 1)->outputs[0]->name, ==, "group_norm");
  }
  {
    /* groups == C: instance norm; runtime gamma */
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s3, 3, &error);
    g_autoptr(AneTensor) gamma = ane_graph_input (g, "gamma", ANE_DTYPE_FLOAT32, s3 + 1, 1, &error);
    g_autoptr(AneTensor) y = ane_graph_group_norm (g, x, gamma, NULL, 4, 1e-5, &error);
    g_autoptr(AneMilProgram) p = NULL;

    ane_graph_add_output (g, "y", y, &error);
    g_assert_no_error (error);
    p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
    ane_test_assert_seq (p, "reshape,layer_norm,reshape,reshape,mul,identity");
    ane_test_assert_const_ints (p, ane_test_op_arg (ane_test_find_op (p, "reshape", 0), "shape"), g3, 3);
    ane_test_assert_const_ints (p, ane_test_op_arg (ane_test_find_op (p, "reshape", 2), "shape"), cview, 2);
    g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "reshape", 2), "x"), ==, "gamma");
  }
}

/* --- layer_norm_2d ---------------------------------------------------------- */

static void
test_layer_norm_2d_const (void)
{
  static const gint64 s[] = { 1, 3, 2, 2 }, channel[] = { 1 };

  for (guint fp16 = 0; fp16 < 2; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 4, &error);
      g_autoptr(AneTensor) gamma = const_vec (g, "gamma", 3, 1.0f);
      g_autoptr(AneTensor) beta = const_vec (g, "beta", 3, 0.0f);
      g_autoptr(AneTensor) y = ane_graph_layer_norm_2d (g, x, gamma, beta, 1e-6, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
      AneMilOperation *ln;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS15, dt);
      ane_test_assert_seq (p, fp16 ? "cast,layer_norm,cast" : "layer_norm,identity");
      ln = ane_test_find_op (p, "layer_norm", 0);
      ane_test_assert_const_ints (p, ane_test_op_arg (ln, "axes"), channel, 1);
      g_assert_cmpstr (ane_test_op_arg (ln, "gamma"), ==, "gamma");
      g_assert_cmpstr (ane_test_op_arg (ln, "beta"), ==, "beta");
      ane_test_assert_output (assert_producer (p, "gamma", "const"), 0, dt, s + 1, 1);
      ane_test_assert_const_scalar (p, ane_test_op_arg (ln, "epsilon"), dt, 1e-6);
      ane_test_assert_output (ln, 0, dt, s, 4);
    }
}

static void
test_layer_norm_2d_runtime (void)
{
  /* a run-time gamma: gamma and (const) beta both applied after, viewed as [C, 1, 1] */
  static const gint64 s[] = { 2, 3, 2, 5 }, cview[] = { 3, 1, 1 }, channel[] = { 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 4, &error);
  g_autoptr(AneTensor) gamma = ane_graph_input (g, "gamma", ANE_DTYPE_FLOAT32, s + 1, 1, &error);
  g_autoptr(AneTensor) beta = const_vec (g, "beta", 3, 0.0f);
  g_autoptr(AneTensor) y = ane_graph_layer_norm_2d (g, x, gamma, beta, 1e-6, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *gv, *bv, *ln, *mul, *add;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "reshape,reshape,layer_norm,mul,add,identity");
  gv = ane_test_find_op (p, "reshape", 0);
  bv = ane_test_find_op (p, "reshape", 1);
  ln = ane_test_find_op (p, "layer_norm", 0);
  mul = ane_test_find_op (p, "mul", 0);
  add = ane_test_find_op (p, "add", 0);
  g_assert_cmpstr (ane_test_op_arg (gv, "x"), ==, "gamma");
  ane_test_assert_const_ints (p, ane_test_op_arg (gv, "shape"), cview, 3);
  ane_test_assert_output (gv, 0, ANE_DTYPE_FLOAT32, cview, 3);
  g_assert_cmpstr (ane_test_op_arg (bv, "x"), ==, "beta");
  g_assert_cmpstr (ane_test_op_arg (ln, "x"), ==, "x");
  ane_test_assert_const_ints (p, ane_test_op_arg (ln, "axes"), channel, 1);
  g_assert_null (ane_test_op_arg (ln, "gamma"));
  g_assert_null (ane_test_op_arg (ln, "beta"));
  g_assert_cmpstr (ane_test_op_arg (mul, "x"), ==, ln->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (mul, "y"), ==, gv->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (add, "x"), ==, mul->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (add, "y"), ==, bv->outputs[0]->name);
  ane_test_assert_output (add, 0, ANE_DTYPE_FLOAT32, s, 4);
  g_assert_cmpstr (add->outputs[0]->name, ==, "layer_norm_2d");
}

/* --- batch_norm ------------------------------------------------------------- */

static void
test_batch_norm_const (void)
{
  static const gint64 s[] = { 2, 3, 4, 4 };

  for (guint fp16 = 0; fp16 < 2; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 4, &error);
      g_autoptr(AneTensor) mean = const_vec (g, "mean", 3, 0.1f);
      g_autoptr(AneTensor) var = const_vec (g, "var", 3, 1.0f);
      g_autoptr(AneTensor) gamma = const_vec (g, "gamma", 3, 2.0f);
      g_autoptr(AneTensor) beta = const_vec (g, "beta", 3, -1.0f);
      g_autoptr(AneTensor) y = ane_graph_batch_norm (g, x, mean, var, gamma, beta, 1e-3, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
      AneMilOperation *bn;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS15, dt);
      ane_test_assert_seq (p, fp16 ? "cast,batch_norm,cast" : "batch_norm,identity");
      bn = ane_test_find_op (p, "batch_norm", 0);
      g_assert_cmpstr (ane_test_op_arg (bn, "mean"), ==, "mean");
      g_assert_cmpstr (ane_test_op_arg (bn, "variance"), ==, "var");
      g_assert_cmpstr (ane_test_op_arg (bn, "gamma"), ==, "gamma");
      g_assert_cmpstr (ane_test_op_arg (bn, "beta"), ==, "beta");
      ane_test_assert_const_scalar (p, ane_test_op_arg (bn, "epsilon"), dt, 1e-3);
      ane_test_assert_output (bn, 0, dt, s, 4);
      g_assert_cmpstr (bn->outputs[0]->name, ==, "batch_norm");
    }
}

static void
test_batch_norm_ranks (void)
{
  /* MIL batch_norm takes rank 3..5: rank 2 is viewed as [N, C, 1] (and no
   * Core ML tensor has rank 6) */
  static const gint64 s2[] = { 4, 3 }, v2[] = { 4, 3, 1 };
  static const gint64 s3[] = { 2, 3, 7 };
  static const struct { const gint64 *shape; guint rank; const gint64 *view; const char *seq; } cases[] = {
    { s2, 2, v2, "reshape,batch_norm,reshape,identity" },
    { s3, 3, NULL, "batch_norm,identity" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, cases[i].shape, cases[i].rank, &error);
      g_autoptr(AneTensor) mean = const_vec (g, "mean", 3, 0.1f);
      g_autoptr(AneTensor) var = const_vec (g, "var", 3, 1.0f);
      g_autoptr(AneTensor) y = ane_graph_batch_norm (g, x, mean, var, NULL, NULL, 1e-5, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *bn;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
      ane_test_assert_seq (p, cases[i].seq);
      bn = ane_test_find_op (p, "batch_norm", 0);
      g_assert_null (ane_test_op_arg (bn, "gamma"));
      g_assert_null (ane_test_op_arg (bn, "beta"));
      if (cases[i].view != NULL)
        {
          AneMilOperation *r0 = ane_test_find_op (p, "reshape", 0), *r1 = ane_test_find_op (p, "reshape", 1);

          ane_test_assert_const_ints (p, ane_test_op_arg (r0, "shape"), cases[i].view, 3);
          ane_test_assert_output (bn, 0, ANE_DTYPE_FLOAT32, cases[i].view, 3);
          g_assert_cmpstr (ane_test_op_arg (bn, "x"), ==, r0->outputs[0]->name);
          g_assert_cmpstr (ane_test_op_arg (r1, "x"), ==, bn->outputs[0]->name);
          ane_test_assert_const_ints (p, ane_test_op_arg (r1, "shape"), cases[i].shape, cases[i].rank);
          g_assert_cmpstr (r1->outputs[0]->name, ==, "batch_norm");
        }
      else
        ane_test_assert_output (bn, 0, ANE_DTYPE_FLOAT32, s3, 3);
    }
}

static void
test_batch_norm_runtime (void)
{
  /* run-time statistics: (x - mean) * (rsqrt(var + eps) * gamma) + beta */
  static const gint64 s[] = { 2, 3, 5 }, c[] = { 3 }, cview[] = { 3, 1 };

  for (guint fp16 = 0; fp16 < 2; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 3, &error);
      g_autoptr(AneTensor) mean = ane_graph_input (g, "mean", ANE_DTYPE_FLOAT32, c, 1, &error);
      g_autoptr(AneTensor) var = const_vec (g, "var", 3, 1.0f);
      g_autoptr(AneTensor) gamma = const_vec (g, "gamma", 3, 2.0f);
      g_autoptr(AneTensor) beta = const_vec (g, "beta", 3, -1.0f);
      g_autoptr(AneTensor) y = ane_graph_batch_norm (g, x, mean, var, gamma, beta, 1e-5, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
      AneMilOperation *rs, *sc, *mv, *sv, *bv, *sub, *mul, *add;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS15, dt);
      ane_test_assert_seq (p, fp16 ? "cast,cast,rsqrt,mul,reshape,reshape,reshape,sub,mul,add,cast"
                                   : "rsqrt,mul,reshape,reshape,reshape,sub,mul,add,identity");
      rs = ane_test_find_op (p, "rsqrt", 0);
      sc = ane_test_find_op (p, "mul", 0);
      mv = ane_test_find_op (p, "reshape", 0);
      sv = ane_test_find_op (p, "reshape", 1);
      bv = ane_test_find_op (p, "reshape", 2);
      sub = ane_test_find_op (p, "sub", 0);
      mul = ane_test_find_op (p, "mul", 1);
      add = ane_test_find_op (p, "add", 0);
      g_assert_cmpstr (ane_test_op_arg (rs, "x"), ==, "var");
      ane_test_assert_const_scalar (p, ane_test_op_arg (rs, "epsilon"), dt, 1e-5);
      ane_test_assert_output (rs, 0, dt, c, 1);
      g_assert_cmpstr (ane_test_op_arg (sc, "x"), ==, rs->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (sc, "y"), ==, "gamma");
      ane_test_assert_const_ints (p, ane_test_op_arg (mv, "shape"), cview, 2);
      g_assert_cmpstr (ane_test_op_arg (sv, "x"), ==, sc->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (bv, "x"), ==, "beta");
      g_assert_cmpstr (ane_test_op_arg (sub, "y"), ==, mv->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (mul, "x"), ==, sub->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (mul, "y"), ==, sv->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (add, "y"), ==, bv->outputs[0]->name);
      ane_test_assert_output (add, 0, dt, s, 3);
      g_assert_cmpstr (add->outputs[0]->name, ==, "batch_norm");
    }
}

/* --- every target ----------------------------------------------------------- */

static void
test_all_targets (void)
{
  /* nothing in this family needs a newer opset: every op lowers at iOS15..18 */
  static const gint64 s[] = { 2, 4, 3, 3 };

  for (guint t = 0; t < G_N_ELEMENTS (all_targets); t++)
    for (guint fp16 = 0; fp16 < 2; fp16++)
      {
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s, 4, &error);
        g_autoptr(AneTensor) c4 = const_vec (g, "c4", 4, 1.0f);
        g_autoptr(AneTensor) a = ane_graph_softmax (g, x, -1, &error);
        g_autoptr(AneTensor) b = ane_graph_layer_norm (g, a, NULL, NULL, NULL, 0, 1e-5, &error);
        g_autoptr(AneTensor) c = ane_graph_rms_norm (g, b, NULL, 1e-5, &error);
        g_autoptr(AneTensor) d = ane_graph_group_norm (g, c, c4, c4, 2, 1e-5, &error);
        g_autoptr(AneTensor) e = ane_graph_layer_norm_2d (g, d, c4, c4, 1e-6, &error);
        g_autoptr(AneTensor) f = ane_graph_batch_norm (g, e, c4, c4, c4, c4, 1e-5, &error);
        g_autoptr(AneMilProgram) p = NULL;

        ane_graph_add_output (g, "y", f, &error);
        g_assert_no_error (error);
        p = ane_test_lower (g, all_targets[t], fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32);
        g_assert_cmpuint (ane_test_count_ops (p, "layer_norm"), ==, 3);
        g_assert_cmpuint (ane_test_count_ops (p, "batch_norm"), ==, 1);
      }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/lower/norm/softmax", test_softmax);
  g_test_add_func ("/ane/lower/norm/softmax/negative-axis", test_softmax_negative_axis);
  g_test_add_func ("/ane/lower/norm/layer_norm/const-affine", test_layer_norm_const_affine);
  g_test_add_func ("/ane/lower/norm/layer_norm/runtime-affine", test_layer_norm_runtime_affine);
  g_test_add_func ("/ane/lower/norm/layer_norm/beta-only", test_layer_norm_beta_only);
  g_test_add_func ("/ane/lower/norm/layer_norm/gamma-only", test_layer_norm_plain);
  g_test_add_func ("/ane/lower/norm/rms_norm/fp32", test_rms_norm_fp32);
  g_test_add_func ("/ane/lower/norm/rms_norm/fp16", test_rms_norm_fp16);
  g_test_add_func ("/ane/lower/norm/rms_norm/fp16-floor", test_rms_norm_fp16_floor);
  g_test_add_func ("/ane/lower/norm/group_norm", test_group_norm);
  g_test_add_func ("/ane/lower/norm/group_norm/rank2-rank3", test_group_norm_rank2);
  g_test_add_func ("/ane/lower/norm/layer_norm_2d/const", test_layer_norm_2d_const);
  g_test_add_func ("/ane/lower/norm/layer_norm_2d/runtime", test_layer_norm_2d_runtime);
  g_test_add_func ("/ane/lower/norm/batch_norm/const", test_batch_norm_const);
  g_test_add_func ("/ane/lower/norm/batch_norm/ranks", test_batch_norm_ranks);
  g_test_add_func ("/ane/lower/norm/batch_norm/runtime", test_batch_norm_runtime);
  g_test_add_func ("/ane/lower/norm/all-targets", test_all_targets);

  return g_test_run ();
}
