/* test-grad.c: every gradient rule against central finite differences
 *
 * For each op with a gradient rule: a small graph computing
 * loss = Σ op(params)·r (r a fixed random tensor, so that every output
 * element weighs differently), its gradient graph (ane_graph_gradients),
 * and for every element of every param (x ± h) the central difference of
 * the loss, all on the reference backend, which evaluates in double
 * precision, each op's result rounded once to float32. Params hold
 * multiples of 2^-10 and h = 2^-8, so x ± h is exact in float32; the
 * difference's own error is O(h²). Tolerance: |analytic - numeric| <=
 * 2e-4 · max(1, |numeric|). The whole tiny LLaMA, whose curvature is
 * larger, uses Richardson's extrapolation of h and 2h.
 *
 * The same gradient graph then runs on the CPU backend at fp32 (it lowers
 * like any graph) and must agree with the reference within 1e-4 relative.
 * (The checks themselves are shared with test-grad-vision.c:
 * ane-grad-test-util.c.)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-grad-test-util.h"
#include "ane-tensor-private.h"

/* The shared checks (ane-grad-test-util.c) under this file's short names. */
#define values(...)            ane_grad_test_values (__VA_ARGS__)
#define param(...)             ane_grad_test_param (__VA_ARGS__)
#define distinct_param(...)    ane_grad_test_distinct_param (__VA_ARGS__)
#define add_loss(...)          ane_grad_test_add_loss (__VA_ARGS__)
#define find_output(...)       ane_grad_test_find_output (__VA_ARGS__)
#define check(...)             ane_grad_test_check (__VA_ARGS__)
#define check_every(...)       ane_grad_test_check_every (__VA_ARGS__)

/* --- elementwise --------------------------------------------------------- */

typedef AneTensor *(*BinaryBuilder) (AneGraph *, AneTensor *, AneTensor *, GError **);

static void
check_binary (const char    *name,
              BinaryBuilder  build,
              double         lo,
              double         hi)
{
  static const gint64 as[] = { 2, 3, 4 }, bs[] = { 3, 1 };
  static const char *const wrt[] = { "a", "b", NULL };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) a = param (g, "a", as, 3, 1, lo, hi, 0.1);
  g_autoptr(AneTensor) b = param (g, "b", bs, 2, 2, lo, hi, 0.1);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = build (g, a, b, &error);

  g_assert_no_error (error);
  add_loss (g, y);
  check (name, g, wrt);
}

static void
test_binary (void)
{
  check_binary ("add", ane_graph_add, -1, 1);
  check_binary ("sub", ane_graph_sub, -1, 1);
  check_binary ("mul", ane_graph_mul, -1, 1);
  check_binary ("div", ane_graph_div, 0.5, 2);
  check_binary ("maximum", ane_graph_maximum, -1, 1);
  check_binary ("minimum", ane_graph_minimum, -1, 1);
  check_binary ("pow", ane_graph_pow, 0.5, 2);
}

typedef AneTensor *(*UnaryBuilder) (AneGraph *, AneTensor *, GError **);

static void
check_unary_built (const char  *name,
                   AneGraph    *g,
                   AneTensor   *y)
{
  static const char *const wrt[] = { "x", NULL };

  add_loss (g, y);
  check (name, g, wrt);
}

static void
check_unary (const char   *name,
             UnaryBuilder  build,
             double        lo,
             double        hi)
{
  static const gint64 xs[] = { 3, 5 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = param (g, "x", xs, 2, 3, lo, hi, 0.05);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = build (g, x, &error);

  g_assert_no_error (error);
  check_unary_built (name, g, y);
}

static AneTensor *
gelu_exact (AneGraph *g, AneTensor *x, GError **error)
{
  return ane_graph_gelu (g, x, ANE_GELU_EXACT, error);
}

static AneTensor *
gelu_tanh (AneGraph *g, AneTensor *x, GError **error)
{
  return ane_graph_gelu (g, x, ANE_GELU_TANH, error);
}

static void
test_unary (void)
{
  check_unary ("relu", ane_graph_relu, -1, 1);
  check_unary ("sigmoid", ane_graph_sigmoid, -3, 3);
  check_unary ("tanh", ane_graph_tanh, -2, 2);
  check_unary ("gelu exact", gelu_exact, -3, 3);
  check_unary ("gelu tanh", gelu_tanh, -3, 3);
  check_unary ("silu", ane_graph_silu, -3, 3);
  check_unary ("exp", ane_graph_exp, -2, 2);
  check_unary ("log", ane_graph_log, 0.5, 3);
  check_unary ("sqrt", ane_graph_sqrt, 0.5, 3);
  check_unary ("rsqrt", ane_graph_rsqrt, 0.5, 3);
  check_unary ("abs", ane_graph_abs, -1, 1);
  check_unary ("neg", ane_graph_neg, -1, 1);
  check_unary ("sin", ane_graph_sin, -3, 3);
  check_unary ("cos", ane_graph_cos, -3, 3);
  check_unary ("tan", ane_graph_tan, -1, 1);
  check_unary ("atan", ane_graph_atan, -3, 3);
}

/* --- matmul ---------------------------------------------------------------- */

static void
test_matmul (void)
{
  static const char *const wrt[] = { "a", "b", NULL };

  for (guint t = 0; t < 4; t++)
    {
      gboolean ta = t & 1, tb = t & 2;
      /* a: [2, 3, 4] (or its transpose [2, 4, 3]); b: [4, 5] (or [5, 4]), broadcast over the batch */
      const gint64 as[] = { 2, ta ? 4 : 3, ta ? 3 : 4 }, bs[] = { tb ? 5 : 4, tb ? 4 : 5 };
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(AneTensor) a = param (g, "a", as, 3, 4 + t, -1, 1, 0);
      g_autoptr(AneTensor) b = param (g, "b", bs, 2, 8 + t, -1, 1, 0);
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) y = ane_graph_matmul (g, a, b, ta, tb, &error);
      g_autofree char *what = g_strdup_printf ("matmul ta=%d tb=%d", ta, tb != 0);

      g_assert_no_error (error);
      add_loss (g, y);
      check (what, g, wrt);
    }
}

/* --- normalization, reductions --------------------------------------------- */

static void
test_softmax (void)
{
  static const gint64 xs[] = { 3, 4 };

  for (int axis = -1; axis <= 0; axis++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(AneTensor) x = param (g, "x", xs, 2, 11, -2, 2, 0);
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) y = ane_graph_softmax (g, x, axis, &error);

      g_assert_no_error (error);
      check_unary_built (axis < 0 ? "softmax axis -1" : "softmax axis 0", g, y);
    }
}

static void
test_rms_norm (void)
{
  static const gint64 xs[] = { 3, 6 }, ws[] = { 6 };
  static const char *const wrt[] = { "x", "w", NULL };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = param (g, "x", xs, 2, 12, -2, 2, 0);
  g_autoptr(AneTensor) w = param (g, "w", ws, 1, 13, 0.5, 1.5, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_rms_norm (g, x, w, 1e-5, &error);

  g_assert_no_error (error);
  add_loss (g, y);
  check ("rms_norm", g, wrt);
}

static void
test_reduce (void)
{
  static const gint64 xs[] = { 2, 3, 4 }, axes[] = { 1 }, both[] = { 0, 2 };
  typedef AneTensor *(*Reduce) (AneGraph *, AneTensor *, const gint64 *, guint, gboolean, GError **);
  static const struct { const char *name; Reduce build; } ops[] = {
    { "reduce_sum", ane_graph_reduce_sum }, { "reduce_mean", ane_graph_reduce_mean },
    { "reduce_max", ane_graph_reduce_max }, { "reduce_min", ane_graph_reduce_min },
  };

  for (guint o = 0; o < G_N_ELEMENTS (ops); o++)
    for (guint k = 0; k < 2; k++)
      {
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) x = distinct_param (g, "x", xs, 3, 20 + o);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = ops[o].build (g, x, k ? both : axes, k ? 2 : 1, k == 0, &error);
        g_autofree char *what = g_strdup_printf ("%s %s", ops[o].name, k ? "axes 0,2" : "axis 1 keepdims");

        g_assert_no_error (error);
        check_unary_built (what, g, y);
      }
}

/* --- shape ----------------------------------------------------------------- */

static void
test_shape (void)
{
  static const gint64 xs[] = { 2, 3, 4 }, flat[] = { 6, 4 }, perm[] = { 2, 0, 1 }, big[] = { 5, 2, 3, 4 };
  static const char *const two[] = { "x", "z", NULL };

  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = param (g, "x", xs, 3, 30, -1, 1, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) r = ane_graph_reshape (g, x, flat, 2, &error);
    g_autoptr(AneTensor) y = ane_graph_tanh (g, r, &error);

    g_assert_no_error (error);
    check_unary_built ("reshape", g, y);
  }
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = param (g, "x", xs, 3, 31, -1, 1, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) y = ane_graph_transpose (g, x, perm, 3, &error);

    g_assert_no_error (error);
    check_unary_built ("transpose", g, y);
  }
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = param (g, "x", xs, 3, 32, -1, 1, 0);
    g_autoptr(AneTensor) z = param (g, "z", xs, 3, 33, -1, 1, 0);
    g_autoptr(GError) error = NULL;
    AneTensor *parts[] = { x, z, x };
    g_autoptr(AneTensor) c = ane_graph_concat (g, parts, 3, 1, &error);
    g_autoptr(AneTensor) y = ane_graph_sin (g, c, &error);

    g_assert_no_error (error);
    add_loss (g, y);
    check ("concat (x used twice)", g, two);
  }
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = param (g, "x", xs, 3, 34, -1, 1, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) y = ane_graph_narrow (g, x, 2, 1, 2, &error);

    g_assert_no_error (error);
    check_unary_built ("narrow", g, y);
  }
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    static const gint64 ones[] = { 2, 1, 4 };
    g_autoptr(AneTensor) x = param (g, "x", ones, 3, 35, -1, 1, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) y = ane_graph_expand (g, x, big, 4, &error);

    g_assert_no_error (error);
    check_unary_built ("expand", g, y);
  }
  {
    static const gint64 cs[] = { 2, 3, 4 };
    static const char *const ab[] = { "x", "z", NULL };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = param (g, "x", xs, 3, 36, -1, 1, 0);
    g_autoptr(AneTensor) z = param (g, "z", xs, 3, 37, -1, 1, 0);
    g_autoptr(AneTensor) cv = values ("c", cs, 3, 38, -1, 1, 0.01);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) c = ane_graph_const (g, cv, &error);
    g_autoptr(AneTensor) zero = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 0.0, &error);
    g_autoptr(AneTensor) cond = ane_graph_gt (g, c, zero, &error);
    g_autoptr(AneTensor) y = ane_graph_where (g, cond, x, z, &error);

    g_assert_no_error (error);
    add_loss (g, y);
    check ("where", g, ab);
  }
}

/* --- embedding, positions, layer norm ------------------------------------------ */

static void
test_gather (void)
{
  static const gint64 ts[] = { 5, 3 }, is[] = { 2, 3 };
  static const char *const wrt[] = { "table", NULL };
  static const gint32 ids[] = { 4, 0, 4, 2, 1, 4 };   /* row 4 three times, row 3 never */
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) table = param (g, "table", ts, 2, 60, -1, 1, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) ib = g_bytes_new_static (ids, sizeof ids);
  g_autoptr(AneTensor) iv = ane_tensor_new_from_bytes ("ids", ANE_DTYPE_INT32, is, 2, ib, &error);
  g_autoptr(AneTensor) i = ane_graph_const (g, iv, &error);
  g_autoptr(AneTensor) y = ane_graph_gather (g, table, i, 0, &error);

  g_assert_no_error (error);
  add_loss (g, y);
  check ("gather (embedding)", g, wrt);
}

static void
test_rope (void)
{
  static const gint64 xs[] = { 1, 2, 3, 8 }, ps[] = { 3 };
  static const gint32 pos[] = { 0, 5, 2 };
  static const AneRopeMode modes[] = { ANE_ROPE_NEOX, ANE_ROPE_INTERLEAVED };

  for (guint m = 0; m < 2; m++)
    for (gint64 n_rot = 0; n_rot <= 4; n_rot += 4)
      {
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) x = param (g, "x", xs, 4, 61 + m, -1, 1, 0);
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) pb = g_bytes_new_static (pos, sizeof pos);
        g_autoptr(AneTensor) pv = ane_tensor_new_from_bytes ("pos", ANE_DTYPE_INT32, ps, 1, pb, &error);
        g_autoptr(AneTensor) p = ane_graph_const (g, pv, &error);
        g_autoptr(AneTensor) y = ane_graph_rope (g, x, p, modes[m], 10000.0, n_rot, &error);
        g_autofree char *what = g_strdup_printf ("rope %s n_rot %" G_GINT64_FORMAT,
                                                 m == 0 ? "neox" : "interleaved", n_rot);

        g_assert_no_error (error);
        check_unary_built (what, g, y);
      }
}

static void
test_layer_norm (void)
{
  static const gint64 xs[] = { 3, 2, 4 }, ws[] = { 4 }, ws2[] = { 2, 4 }, last[] = { -1 }, two[] = { -2, -1 };
  static const char *const wrt[] = { "x", "gamma", "beta", NULL };

  for (guint k = 0; k < 2; k++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(AneTensor) x = param (g, "x", xs, 3, 70 + k, -2, 2, 0);
      g_autoptr(AneTensor) gamma = param (g, "gamma", k ? ws2 : ws, k ? 2 : 1, 72, 0.5, 1.5, 0);
      g_autoptr(AneTensor) beta = param (g, "beta", k ? ws2 : ws, k ? 2 : 1, 73, -0.5, 0.5, 0);
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) y = ane_graph_layer_norm (g, x, gamma, beta, k ? two : last, k ? 2 : 1, 1e-5, &error);

      g_assert_no_error (error);
      add_loss (g, y);
      check (k ? "layer_norm over two axes" : "layer_norm", g, wrt);
    }
}

static void
test_group_norm (void)
{
  static const gint64 xs[] = { 2, 4, 3 }, cs[] = { 4 };
  static const char *const wrt[] = { "x", "gamma", "beta", NULL };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = param (g, "x", xs, 3, 80, -2, 2, 0);
  g_autoptr(AneTensor) gamma = param (g, "gamma", cs, 1, 81, 0.5, 1.5, 0);
  g_autoptr(AneTensor) beta = param (g, "beta", cs, 1, 82, -0.5, 0.5, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_group_norm (g, x, gamma, beta, 2, 1e-5, &error);

  g_assert_no_error (error);
  add_loss (g, y);
  check ("group_norm", g, wrt);
}

static void
test_lora_matmul (void)
{
  static const gint64 xs[] = { 2, 3, 4 }, ws[] = { 4, 5 }, as[] = { 4, 2 }, bs[] = { 2, 5 };
  static const char *const wrt[] = { "x", "w", "lora_a", "lora_b", NULL };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = param (g, "x", xs, 3, 90, -1, 1, 0);
  g_autoptr(AneTensor) w = param (g, "w", ws, 2, 91, -1, 1, 0);
  g_autoptr(AneTensor) la = param (g, "lora_a", as, 2, 92, -1, 1, 0);
  g_autoptr(AneTensor) lb = param (g, "lora_b", bs, 2, 93, -1, 1, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_lora_matmul (g, x, w, la, lb, 0.5, &error);

  g_assert_no_error (error);
  add_loss (g, y);
  check ("lora_matmul", g, wrt);
}

/* grouped-query attention: 4 query heads over 2 kv heads, with and
 * without the causal mask (S < L: aligned to the end), a bias and a
 * softcap */
static void
test_attention (void)
{
  static const gint64 qs[] = { 1, 4, 3, 4 }, ks[] = { 1, 2, 5, 4 }, vs[] = { 1, 2, 5, 3 }, bs[] = { 1, 1, 3, 5 };
  static const char *const with_bias[] = { "q", "k", "v", "bias", NULL };

  for (guint variant = 0; variant < 4; variant++)
    {
      gboolean causal = variant & 1, extras = variant & 2;
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(AneTensor) q = param (g, "q", qs, 4, 100 + variant, -1, 1, 0);
      g_autoptr(AneTensor) k = param (g, "k", ks, 4, 104 + variant, -1, 1, 0);
      g_autoptr(AneTensor) v = param (g, "v", vs, 4, 108 + variant, -1, 1, 0);
      g_autoptr(AneTensor) b = param (g, "bias", bs, 4, 112 + variant, -0.5, 0.5, 0);
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) y = ane_graph_attention (g, q, k, v, extras ? b : NULL, causal, extras ? 0.7 : 0.0,
                                                    extras ? 2.0 : 0.0, &error);
      g_autofree char *what = g_strdup_printf ("attention%s%s", causal ? " causal" : "",
                                               extras ? " bias scale softcap" : "");
      static const char *const plain[] = { "q", "k", "v", NULL };

      g_assert_no_error (error);
      add_loss (g, y);
      check (what, g, extras ? with_bias : plain);
    }
}

/* A tiny LLaMA: embedding, 2 layers of RMSNorm, grouped-query attention
 * with RoPE (4 query heads over 2 kv heads), a SwiGLU feed-forward, the
 * final norm and a head tied to the embedding; the loss is the mean
 * cross-entropy of the next tokens, log-softmax written with the
 * primitives. A sample of every weight against central differences. */
static void
test_tiny_llama (void)
{
  enum { V = 11, DIM = 8, NH = 4, HKV = 2, HD = 2, FF = 12, S = 5, LAYERS = 2 };
  static const gint32 tokens[S] = { 3, 7, 1, 7, 9 }, next[S] = { 7, 1, 7, 9, 2 };
  static const gint32 positions[S] = { 0, 1, 2, 3, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func (g_object_unref);
  const gint64 es[] = { V, DIM }, ids_shape[] = { S }, ns[] = { DIM };
  g_autoptr(GBytes) tb = g_bytes_new_static (tokens, sizeof tokens);
  g_autoptr(GBytes) pb = g_bytes_new_static (positions, sizeof positions);
  g_autoptr(AneTensor) tv = ane_tensor_new_from_bytes ("tokens", ANE_DTYPE_INT32, ids_shape, 1, tb, &error);
  g_autoptr(AneTensor) pv = ane_tensor_new_from_bytes ("positions", ANE_DTYPE_INT32, ids_shape, 1, pb, &error);
  g_autoptr(AneTensor) ids = ane_graph_const (g, tv, &error);
  g_autoptr(AneTensor) pos = ane_graph_const (g, pv, &error);
  g_autoptr(AneTensor) emb = param (g, "emb", es, 2, 200, -1, 1, 0);
  AneTensor *x;

  g_assert_no_error (error);
  g_ptr_array_add (names, g_strdup ("emb"));
  x = ane_graph_gather (g, emb, ids, 0, &error);
  g_ptr_array_add (keep, x);
  for (guint l = 0; l < LAYERS; l++)
    {
      const gint64 qw[] = { DIM, NH * HD }, kw[] = { DIM, HKV * HD }, ow[] = { NH * HD, DIM };
      const gint64 f1[] = { DIM, FF }, f2[] = { FF, DIM };
      const gint64 qh[] = { 1, S, NH, HD }, kh[] = { 1, S, HKV, HD }, perm[] = { 0, 2, 1, 3 }, flat[] = { S, NH * HD };
      char n_att[32], n_q[32], n_k[32], n_v[32], n_o[32], n_ffn[32], n_w1[32], n_w2[32], n_w3[32];
      AneTensor *an, *q, *k, *v, *o, *fn, *gate, *up, *hidden, *down, *t;

      g_snprintf (n_att, sizeof n_att, "l%u_attn_norm", l);
      g_snprintf (n_q, sizeof n_q, "l%u_wq", l);
      g_snprintf (n_k, sizeof n_k, "l%u_wk", l);
      g_snprintf (n_v, sizeof n_v, "l%u_wv", l);
      g_snprintf (n_o, sizeof n_o, "l%u_wo", l);
      g_snprintf (n_ffn, sizeof n_ffn, "l%u_ffn_norm", l);
      g_snprintf (n_w1, sizeof n_w1, "l%u_w1", l);
      g_snprintf (n_w2, sizeof n_w2, "l%u_w2", l);
      g_snprintf (n_w3, sizeof n_w3, "l%u_w3", l);
      an = param (g, n_att, ns, 1, 210 + l, 0.5, 1.5, 0);
      g_ptr_array_add (keep, an);
      t = ane_graph_rms_norm (g, x, an, 1e-5, &error);
      g_ptr_array_add (keep, t);
      q = param (g, n_q, qw, 2, 220 + l, -1, 1, 0);
      k = param (g, n_k, kw, 2, 230 + l, -1, 1, 0);
      v = param (g, n_v, kw, 2, 240 + l, -1, 1, 0);
      o = param (g, n_o, ow, 2, 250 + l, -1, 1, 0);
      g_ptr_array_add (keep, q);
      g_ptr_array_add (keep, k);
      g_ptr_array_add (keep, v);
      g_ptr_array_add (keep, o);
      {
        AneTensor *qq = ane_graph_matmul (g, t, q, FALSE, FALSE, &error);
        AneTensor *kk = ane_graph_matmul (g, t, k, FALSE, FALSE, &error);
        AneTensor *vv = ane_graph_matmul (g, t, v, FALSE, FALSE, &error);
        AneTensor *q4 = ane_graph_reshape (g, qq, qh, 4, &error);
        AneTensor *k4 = ane_graph_reshape (g, kk, kh, 4, &error);
        AneTensor *v4 = ane_graph_reshape (g, vv, kh, 4, &error);
        AneTensor *qt = ane_graph_transpose (g, q4, perm, 4, &error);
        AneTensor *kt = ane_graph_transpose (g, k4, perm, 4, &error);
        AneTensor *vt = ane_graph_transpose (g, v4, perm, 4, &error);
        AneTensor *qr = ane_graph_rope (g, qt, pos, ANE_ROPE_NEOX, 10000.0, 0, &error);
        AneTensor *kr = ane_graph_rope (g, kt, pos, ANE_ROPE_NEOX, 10000.0, 0, &error);
        AneTensor *att = ane_graph_attention (g, qr, kr, vt, NULL, TRUE, 0.0, 0.0, &error);
        AneTensor *back = ane_graph_transpose (g, att, perm, 4, &error);
        AneTensor *merged = ane_graph_reshape (g, back, flat, 2, &error);
        AneTensor *proj = ane_graph_matmul (g, merged, o, FALSE, FALSE, &error);
        AneTensor *res = ane_graph_add (g, x, proj, &error);
        AneTensor *parts[] = { qq, kk, vv, q4, k4, v4, qt, kt, vt, qr, kr, att, back, merged, proj };

        g_assert_no_error (error);
        for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
          g_ptr_array_add (keep, parts[i]);
        x = res;
        g_ptr_array_add (keep, x);
      }
      fn = param (g, n_ffn, ns, 1, 260 + l, 0.5, 1.5, 0);
      g_ptr_array_add (keep, fn);
      t = ane_graph_rms_norm (g, x, fn, 1e-5, &error);
      g_ptr_array_add (keep, t);
      {
        AneTensor *w1 = param (g, n_w1, f1, 2, 270 + l, -1, 1, 0);
        AneTensor *w3 = param (g, n_w3, f1, 2, 280 + l, -1, 1, 0);
        AneTensor *w2 = param (g, n_w2, f2, 2, 290 + l, -1, 1, 0);

        g_ptr_array_add (keep, w1);
        g_ptr_array_add (keep, w3);
        g_ptr_array_add (keep, w2);
        AneTensor *a1 = ane_graph_matmul (g, t, w1, FALSE, FALSE, &error);

        g_ptr_array_add (keep, a1);
        gate = ane_graph_silu (g, a1, &error);
        up = ane_graph_matmul (g, t, w3, FALSE, FALSE, &error);
        hidden = ane_graph_mul (g, gate, up, &error);
        down = ane_graph_matmul (g, hidden, w2, FALSE, FALSE, &error);
        g_assert_no_error (error);
        g_ptr_array_add (keep, gate);
        g_ptr_array_add (keep, up);
        g_ptr_array_add (keep, hidden);
        g_ptr_array_add (keep, down);
        x = ane_graph_add (g, x, down, &error);
        g_ptr_array_add (keep, x);
      }
      g_ptr_array_add (names, g_strdup (n_att));
      g_ptr_array_add (names, g_strdup (n_q));
      g_ptr_array_add (names, g_strdup (n_k));
      g_ptr_array_add (names, g_strdup (n_v));
      g_ptr_array_add (names, g_strdup (n_o));
      g_ptr_array_add (names, g_strdup (n_ffn));
      g_ptr_array_add (names, g_strdup (n_w1));
      g_ptr_array_add (names, g_strdup (n_w2));
      g_ptr_array_add (names, g_strdup (n_w3));
    }
  {
    /* the tied head and the mean cross-entropy: -Σ onehot·log_softmax / S */
    const gint64 ls[] = { S, V };
    g_autofree float *onehot = g_new0 (float, S * V);
    AneTensor *fnorm = param (g, "final_norm", ns, 1, 300, 0.5, 1.5, 0);
    AneTensor *h, *logits, *mx, *m, *z, *e, *se, *lse, *logp, *oh, *picked, *total, *loss;
    g_autoptr(AneTensor) ohv = NULL;
    gint64 last = -1;

    for (guint i = 0; i < S; i++)
      onehot[i * V + next[i]] = -1.0f / S;
    ohv = ane_tensor_new_from_floats ("onehot", ls, 2, onehot, S * V, &error);
    g_ptr_array_add (keep, fnorm);
    h = ane_graph_rms_norm (g, x, fnorm, 1e-5, &error);
    logits = ane_graph_matmul (g, h, emb, FALSE, TRUE, &error);
    mx = ane_graph_reduce_max (g, logits, &last, 1, TRUE, &error);
    m = ane_graph_stop_gradient (g, mx, &error);
    z = ane_graph_sub (g, logits, m, &error);
    e = ane_graph_exp (g, z, &error);
    se = ane_graph_reduce_sum (g, e, &last, 1, TRUE, &error);
    lse = ane_graph_log (g, se, &error);
    logp = ane_graph_sub (g, z, lse, &error);
    oh = ane_graph_const (g, ohv, &error);
    picked = ane_graph_mul (g, logp, oh, &error);
    total = ane_graph_reduce_sum (g, picked, NULL, 0, FALSE, &error);
    loss = total;
    g_assert_no_error (error);
    ane_test_output (g, "loss", loss);
    g_ptr_array_add (names, g_strdup ("final_norm"));
    {
      AneTensor *parts[] = { h, logits, mx, m, z, e, se, lse, logp, oh, picked, total };

      for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
        g_ptr_array_add (keep, parts[i]);
    }
  }
  g_ptr_array_add (names, NULL);
  /* fp16 through 2 layers and the head: 16 units of 2^-10 (measured 5.9e-3) */
  ane_grad_test_fp16_tol = 16.0 / 1024;
  check_every ("tiny llama", g, (const char *const *) names->pdata, 7, TRUE, 2e-4);
  ane_grad_test_fp16_tol = ANE_GRAD_TEST_FP16_TOL;
}

/* --- the driver --------------------------------------------------------------- */

/* A small MLP with a shared weight, stop_gradient and an unused param. */
static void
test_mlp (void)
{
  static const gint64 xs[] = { 4, 6 }, w1s[] = { 6, 5 }, w2s[] = { 5, 3 }, bs[] = { 5 };
  static const char *const wrt[] = { "w1", "b", "w2", "x", NULL };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = param (g, "x", xs, 2, 40, -1, 1, 0);
  g_autoptr(AneTensor) w1 = param (g, "w1", w1s, 2, 41, -1, 1, 0);
  g_autoptr(AneTensor) b = param (g, "b", bs, 1, 42, -1, 1, 0);
  g_autoptr(AneTensor) w2 = param (g, "w2", w2s, 2, 43, -1, 1, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) h = ane_graph_matmul (g, x, w1, FALSE, FALSE, &error);
  g_autoptr(AneTensor) hb = ane_graph_add (g, h, b, &error);
  g_autoptr(AneTensor) a = ane_graph_silu (g, hb, &error);
  g_autoptr(AneTensor) o = ane_graph_matmul (g, a, w2, FALSE, FALSE, &error);
  g_autoptr(AneTensor) p = ane_graph_softmax (g, o, -1, &error);

  g_assert_no_error (error);
  add_loss (g, p);
  check ("mlp", g, wrt);
}

static void
test_errors (void)
{
  static const gint64 xs[] = { 4 };
  static const char *const wrt[] = { "x", NULL };
  static const char *const bad[] = { "nope", NULL };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = param (g, "x", xs, 1, 50, -1, 1, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) c = ane_graph_cumsum (g, x, 0, FALSE, FALSE, &error);
  g_autoptr(AneTensor) s = ane_graph_stop_gradient (g, x, &error);
  g_autoptr(AneGraph) gg = NULL;

  g_assert_no_error (error);
  ane_test_output (g, "c", c);
  ane_test_output (g, "s", s);
  gg = ane_graph_gradients (g, "c", wrt, &error);
  g_assert_null (gg);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "cumsum"));
  g_clear_error (&error);
  gg = ane_graph_gradients (g, "missing", wrt, &error);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  gg = ane_graph_gradients (g, "c", bad, &error);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* stop_gradient: no gradient flows; the value gets zeros */
  gg = ane_graph_gradients (g, "s", wrt, &error);
  g_assert_no_error (error);
  {
    g_autoptr(AneExecutable) exe = ane_executable_new (gg, ANE_BACKEND_REFERENCE);
    g_autoptr(GPtrArray) out = NULL;
    g_autofree double *d = NULL;
    gsize n;

    g_assert_true (ane_executable_compile (exe, NULL, &error));
    out = ane_executable_run (exe, NULL, 0, NULL, &error);
    g_assert_no_error (error);
    d = ane_test_dup_doubles (find_output (out, "grad_x"), &n);
    for (gsize i = 0; i < n; i++)
      g_assert_cmpfloat (d[i], ==, 0.0);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/grad/binary", test_binary);
  g_test_add_func ("/grad/unary", test_unary);
  g_test_add_func ("/grad/matmul", test_matmul);
  g_test_add_func ("/grad/softmax", test_softmax);
  g_test_add_func ("/grad/rms_norm", test_rms_norm);
  g_test_add_func ("/grad/reduce", test_reduce);
  g_test_add_func ("/grad/shape", test_shape);
  g_test_add_func ("/grad/gather", test_gather);
  g_test_add_func ("/grad/rope", test_rope);
  g_test_add_func ("/grad/layer_norm", test_layer_norm);
  g_test_add_func ("/grad/group_norm", test_group_norm);
  g_test_add_func ("/grad/lora_matmul", test_lora_matmul);
  g_test_add_func ("/grad/attention", test_attention);
  g_test_add_func ("/grad/mlp", test_mlp);
  g_test_add_func ("/grad/tiny-llama", test_tiny_llama);
  g_test_add_func ("/grad/errors", test_errors);
  return g_test_run ();
}
