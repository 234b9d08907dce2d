/* ane-test-models.c: representative graphs for lowering and differential tests
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ane-test-models.h"

typedef struct {
  AneGraph *g;
  GRand    *rand;
} Builder;

static AneTensor *
weight (Builder      *b,
        const char   *name,
        const gint64 *shape,
        guint         rank,
        double        scale)
{
  g_autoptr(AneTensor) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree float *v = NULL;
  gint64 n = 1;
  AneTensor *p;

  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  v = g_new (float, n);
  /* fp16-representable values keep fp16 and fp32 programs comparable */
  for (gint64 i = 0; i < n; i++)
    v[i] = ane_half_to_float (ane_float_to_half ((float) (g_rand_double_range (b->rand, -1, 1) * scale)));
  value = ane_tensor_new_from_floats (name, shape, rank, v, n, &error);
  g_assert_no_error (error);
  p = ane_graph_param_with_value (b->g, value, &error);
  g_assert_no_error (error);
  return p;
}

#define OK(expr) ({ g_autoptr(GError) _e = NULL; AneTensor *_t = (expr); g_assert_no_error (_e); g_assert_nonnull (_t); _t; })
#define W(...) weight (&b, __VA_ARGS__)
#define SHAPE(...) ((const gint64[]) { __VA_ARGS__ }), (sizeof ((const gint64[]) { __VA_ARGS__ }) / sizeof (gint64))

static void
builder_init (Builder *b,
              guint32  seed)
{
  b->g = ane_graph_new ();
  b->rand = g_rand_new_with_seed (seed);
}

static AneGraph *
builder_finish (Builder *b)
{
  g_autoptr(GError) error = NULL;

  g_rand_free (b->rand);
  g_assert_true (ane_graph_validate (b->g, &error));
  g_assert_no_error (error);
  return b->g;
}

static AneTensor *
linear (Builder    *b,
        AneTensor  *x,
        const char *name,
        gint64      in,
        gint64      out,
        gboolean    bias)
{
  g_autofree char *wn = g_strdup_printf ("%s.weight", name);
  g_autofree char *bn = g_strdup_printf ("%s.bias", name);
  g_autoptr(AneTensor) w = weight (b, wn, SHAPE (in, out), 1.0 / sqrt ((double) in));
  g_autoptr(AneTensor) y = OK (ane_graph_matmul (b->g, x, w, FALSE, FALSE, &_e));

  if (!bias)
    return g_steal_pointer (&y);
  {
    g_autoptr(AneTensor) bb = weight (b, bn, SHAPE (out), 0.1);
    return OK (ane_graph_add (b->g, y, bb, &_e));
  }
}

AneGraph *
ane_test_model_mlp (void)
{
  Builder b;
  g_autoptr(AneTensor) x = NULL, h = NULL, a = NULL, o = NULL, p = NULL;

  builder_init (&b, 1);
  x = OK (ane_graph_input (b.g, "x", ANE_DTYPE_FLOAT32, SHAPE (2, 64), &_e));
  ane_graph_push_scope (b.g, "fc1");
  h = linear (&b, x, "fc1", 64, 128, TRUE);
  ane_graph_pop_scope (b.g);
  a = OK (ane_graph_gelu (b.g, h, ANE_GELU_EXACT, &_e));
  ane_graph_push_scope (b.g, "fc2");
  o = linear (&b, a, "fc2", 128, 32, TRUE);
  ane_graph_pop_scope (b.g);
  p = OK (ane_graph_softmax (b.g, o, -1, &_e));
  g_assert_true (ane_graph_add_output (b.g, "probs", p, NULL));
  return builder_finish (&b);
}

AneGraph *
ane_test_model_transformer_block (void)
{
  const gint64 S = 8, D = 64, H = 4, HKV = 2, HD = 16, F = 128;
  Builder b;
  g_autoptr(AneTensor) x = NULL, pos = NULL, n1w = NULL, n1 = NULL, q = NULL, k = NULL, v = NULL;
  g_autoptr(AneTensor) q4 = NULL, k4 = NULL, v4 = NULL, qt = NULL, kt = NULL, vt = NULL;
  g_autoptr(AneTensor) qr = NULL, kr = NULL, att = NULL, at = NULL, a2 = NULL, o = NULL, r1 = NULL;
  g_autoptr(AneTensor) n2w = NULL, n2 = NULL, g1 = NULL, u = NULL, s = NULL, gu = NULL, d = NULL, y = NULL;

  builder_init (&b, 2);
  x = OK (ane_graph_input (b.g, "x", ANE_DTYPE_FLOAT32, SHAPE (1, S, D), &_e));
  pos = OK (ane_graph_input (b.g, "positions", ANE_DTYPE_INT32, SHAPE (S), &_e));
  ane_graph_push_scope (b.g, "attn");
  n1w = W ("attn_norm.weight", SHAPE (D), 1.0);
  n1 = OK (ane_graph_rms_norm (b.g, x, n1w, 1e-5, &_e));
  q = linear (&b, n1, "wq", D, H * HD, FALSE);
  k = linear (&b, n1, "wk", D, HKV * HD, FALSE);
  v = linear (&b, n1, "wv", D, HKV * HD, FALSE);
  q4 = OK (ane_graph_reshape (b.g, q, SHAPE (1, S, H, HD), &_e));
  k4 = OK (ane_graph_reshape (b.g, k, SHAPE (1, S, HKV, HD), &_e));
  v4 = OK (ane_graph_reshape (b.g, v, SHAPE (1, S, HKV, HD), &_e));
  qt = OK (ane_graph_transpose (b.g, q4, SHAPE (0, 2, 1, 3), &_e));
  kt = OK (ane_graph_transpose (b.g, k4, SHAPE (0, 2, 1, 3), &_e));
  vt = OK (ane_graph_transpose (b.g, v4, SHAPE (0, 2, 1, 3), &_e));
  qr = OK (ane_graph_rope (b.g, qt, pos, ANE_ROPE_NEOX, 10000.0, 0, &_e));
  kr = OK (ane_graph_rope (b.g, kt, pos, ANE_ROPE_NEOX, 10000.0, 0, &_e));
  att = OK (ane_graph_attention (b.g, qr, kr, vt, NULL, TRUE, 0.0, 0.0, &_e));
  at = OK (ane_graph_transpose (b.g, att, SHAPE (0, 2, 1, 3), &_e));
  a2 = OK (ane_graph_reshape (b.g, at, SHAPE (1, S, D), &_e));
  o = linear (&b, a2, "wo", D, D, FALSE);
  r1 = OK (ane_graph_add (b.g, x, o, &_e));
  ane_graph_pop_scope (b.g);
  ane_graph_push_scope (b.g, "ffn");
  n2w = W ("ffn_norm.weight", SHAPE (D), 1.0);
  n2 = OK (ane_graph_rms_norm (b.g, r1, n2w, 1e-5, &_e));
  g1 = linear (&b, n2, "w1", D, F, FALSE);
  u = linear (&b, n2, "w3", D, F, FALSE);
  s = OK (ane_graph_silu (b.g, g1, &_e));
  gu = OK (ane_graph_mul (b.g, s, u, &_e));
  d = linear (&b, gu, "w2", F, D, FALSE);
  y = OK (ane_graph_add (b.g, r1, d, &_e));
  ane_graph_pop_scope (b.g);
  g_assert_true (ane_graph_add_output (b.g, "y", y, NULL));
  return builder_finish (&b);
}

AneGraph *
ane_test_model_convnet (void)
{
  Builder b;
  g_autoptr(AneTensor) x = NULL, w1 = NULL, b1 = NULL, c1 = NULL, mean = NULL, var = NULL, gam = NULL, bet = NULL;
  g_autoptr(AneTensor) bn = NULL, r = NULL, p = NULL, w2 = NULL, c2 = NULL, up = NULL, wt = NULL, bt = NULL;
  g_autoptr(AneTensor) ct = NULL, fm = NULL, gap = NULL, wl = NULL, logits = NULL, a2 = NULL;

  builder_init (&b, 3);
  x = OK (ane_graph_input (b.g, "x", ANE_DTYPE_FLOAT32, SHAPE (1, 3, 16, 16), &_e));
  w1 = W ("conv1.weight", SHAPE (8, 3, 3, 3), 0.3);
  b1 = W ("conv1.bias", SHAPE (8), 0.1);
  c1 = OK (ane_graph_conv (b.g, x, w1, b1, NULL, 0, SHAPE (1, 1, 1, 1), NULL, 0, 1, &_e));
  mean = W ("bn.mean", SHAPE (8), 0.1);
  var = W ("bn.var", SHAPE (8), 0.1);
  {
    /* variances must be positive */
    g_autoptr(AneTensor) one = OK (ane_graph_scalar (b.g, ANE_DTYPE_FLOAT32, 1.0, &_e));
    g_autoptr(AneTensor) av = OK (ane_graph_abs (b.g, var, &_e));
    g_clear_object (&var);
    var = OK (ane_graph_add (b.g, av, one, &_e));
  }
  gam = W ("bn.gamma", SHAPE (8), 1.0);
  bet = W ("bn.beta", SHAPE (8), 0.1);
  bn = OK (ane_graph_batch_norm (b.g, c1, mean, var, gam, bet, 1e-5, &_e));
  r = OK (ane_graph_relu (b.g, bn, &_e));
  p = OK (ane_graph_pool (b.g, r, ANE_POOL_MAX, SHAPE (2, 2), SHAPE (2, 2), NULL, 0, FALSE, &_e));
  w2 = W ("conv2.weight", SHAPE (8, 2, 3, 3), 0.3);   /* groups = 4 */
  c2 = OK (ane_graph_conv (b.g, p, w2, NULL, NULL, 0, SHAPE (1, 1, 1, 1), NULL, 0, 4, &_e));
  a2 = OK (ane_graph_pool (b.g, c2, ANE_POOL_AVG, SHAPE (2, 2), SHAPE (2, 2), NULL, 0, FALSE, &_e));
  up = OK (ane_graph_resize_nearest_2x (b.g, a2, &_e));
  wt = W ("deconv.weight", SHAPE (8, 4, 2, 2), 0.3);
  bt = W ("deconv.bias", SHAPE (4), 0.1);
  ct = OK (ane_graph_conv_transpose_2d (b.g, up, wt, bt, SHAPE (2, 2), NULL, 0, NULL, 0, NULL, 0, 1, &_e));
  fm = OK (ane_graph_tanh (b.g, ct, &_e));
  gap = OK (ane_graph_reduce_mean (b.g, fm, SHAPE (2, 3), FALSE, &_e));
  wl = W ("fc.weight", SHAPE (4, 10), 0.5);
  logits = OK (ane_graph_matmul (b.g, gap, wl, FALSE, FALSE, &_e));
  g_assert_true (ane_graph_add_output (b.g, "logits", logits, NULL));
  g_assert_true (ane_graph_add_output (b.g, "feature_map", fm, NULL));
  return builder_finish (&b);
}

AneGraph *
ane_test_model_moe (void)
{
  const gint64 T = 4, D = 32, E = 4, K = 2, F = 64;
  Builder b;
  g_autoptr(AneTensor) x = NULL, router = NULL, logits = NULL, probs = NULL, topv = NULL, topi = NULL;
  g_autoptr(AneTensor) xe = NULL, up = NULL, down = NULL, h = NULL, a = NULL, o = NULL, wsum = NULL;
  g_autoptr(AneTensor) norm = NULL, wn = NULL, w3 = NULL, weighted = NULL, y = NULL;

  builder_init (&b, 4);
  x = OK (ane_graph_input (b.g, "x", ANE_DTYPE_FLOAT32, SHAPE (T, D), &_e));
  router = W ("router.weight", SHAPE (D, E), 0.5);
  logits = OK (ane_graph_matmul (b.g, x, router, FALSE, FALSE, &_e));
  probs = OK (ane_graph_softmax (b.g, logits, -1, &_e));
  topv = OK (ane_graph_top_k (b.g, probs, K, -1, &topi, &_e));
  /* renormalize the chosen weights */
  wsum = OK (ane_graph_reduce_sum (b.g, topv, SHAPE (-1), TRUE, &_e));
  norm = OK (ane_graph_div (b.g, topv, wsum, &_e));
  /* every token visits its K experts: x as [T,K,D] */
  {
    g_autoptr(AneTensor) x3 = OK (ane_graph_reshape (b.g, x, SHAPE (T, 1, D), &_e));
    xe = OK (ane_graph_expand (b.g, x3, SHAPE (T, K, D), &_e));
  }
  up = W ("experts.up", SHAPE (E, D, F), 1.0 / sqrt ((double) D));
  down = W ("experts.down", SHAPE (E, F, D), 1.0 / sqrt ((double) F));
  h = OK (ane_graph_grouped_matmul (b.g, xe, up, topi, FALSE, &_e));
  a = OK (ane_graph_silu (b.g, h, &_e));
  o = OK (ane_graph_grouped_matmul (b.g, a, down, topi, FALSE, &_e));
  wn = OK (ane_graph_reshape (b.g, norm, SHAPE (T, K, 1), &_e));
  weighted = OK (ane_graph_mul (b.g, o, wn, &_e));
  y = OK (ane_graph_reduce_sum (b.g, weighted, SHAPE (1), FALSE, &_e));
  (void) w3;
  g_assert_true (ane_graph_add_output (b.g, "y", y, NULL));
  return builder_finish (&b);
}

AneGraph *
ane_test_model_mamba (void)
{
  const gint64 L = 8, DM = 16, DI = 32, N = 4, R = 2, KC = 4;
  Builder b;
  g_autoptr(AneTensor) x = NULL, xz = NULL, xi = NULL, z = NULL, xt = NULL, zt = NULL, cw = NULL, cb = NULL;
  g_autoptr(AneTensor) xc = NULL, xs = NULL, dbc = NULL, dt_r = NULL, bm = NULL, cm = NULL, dt = NULL;
  g_autoptr(AneTensor) dtt = NULL, bt = NULL, ctt = NULL, alog = NULL, a = NULL, dskip = NULL, dbias = NULL;
  g_autoptr(AneTensor) y = NULL, yt = NULL, out = NULL, xst = NULL;

  builder_init (&b, 5);
  x = OK (ane_graph_input (b.g, "x", ANE_DTYPE_FLOAT32, SHAPE (1, L, DM), &_e));
  xz = linear (&b, x, "in_proj", DM, 2 * DI, FALSE);
  xi = OK (ane_graph_narrow (b.g, xz, -1, 0, DI, &_e));
  z = OK (ane_graph_narrow (b.g, xz, -1, DI, DI, &_e));
  xt = OK (ane_graph_transpose (b.g, xi, SHAPE (0, 2, 1), &_e));     /* [1, DI, L] */
  zt = OK (ane_graph_transpose (b.g, z, SHAPE (0, 2, 1), &_e));
  cw = W ("conv1d.weight", SHAPE (DI, 1, KC), 0.5);
  cb = W ("conv1d.bias", SHAPE (DI), 0.1);
  /* causal depthwise conv: pad KC-1 on the left only */
  xc = OK (ane_graph_conv (b.g, xt, cw, cb, NULL, 0, SHAPE (KC - 1, 0), NULL, 0, DI, &_e));
  xs = OK (ane_graph_silu (b.g, xc, &_e));
  xst = OK (ane_graph_transpose (b.g, xs, SHAPE (0, 2, 1), &_e));    /* [1, L, DI] */
  dbc = linear (&b, xst, "x_proj", DI, R + 2 * N, FALSE);
  dt_r = OK (ane_graph_narrow (b.g, dbc, -1, 0, R, &_e));
  bm = OK (ane_graph_narrow (b.g, dbc, -1, R, N, &_e));
  cm = OK (ane_graph_narrow (b.g, dbc, -1, R + N, N, &_e));
  dt = linear (&b, dt_r, "dt_proj", R, DI, FALSE);
  dtt = OK (ane_graph_transpose (b.g, dt, SHAPE (0, 2, 1), &_e));    /* [1, DI, L] */
  bt = OK (ane_graph_transpose (b.g, bm, SHAPE (0, 2, 1), &_e));     /* [1, N, L] */
  ctt = OK (ane_graph_transpose (b.g, cm, SHAPE (0, 2, 1), &_e));
  alog = W ("A_log", SHAPE (DI, N), 1.0);
  {
    g_autoptr(AneTensor) e = OK (ane_graph_exp (b.g, alog, &_e));
    a = OK (ane_graph_neg (b.g, e, &_e));
  }
  dskip = W ("D", SHAPE (DI), 1.0);
  dbias = W ("dt_bias", SHAPE (DI), 0.5);
  y = OK (ane_graph_selective_scan (b.g, xs, dtt, a, bt, ctt, dskip, zt, dbias, TRUE, &_e));
  yt = OK (ane_graph_transpose (b.g, y, SHAPE (0, 2, 1), &_e));
  out = linear (&b, yt, "out_proj", DI, DM, FALSE);
  g_assert_true (ane_graph_add_output (b.g, "y", out, NULL));
  return builder_finish (&b);
}

GPtrArray *
ane_test_model_inputs (AneGraph *graph,
                       guint32   seed)
{
  g_autoptr(GPtrArray) declared = ane_graph_list_inputs (graph);
  GPtrArray *inputs = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < declared->len; i++)
    {
      AneTensor *d = g_ptr_array_index (declared, i);
      guint rank;
      const gint64 *shape = ane_tensor_get_shape (d, &rank);

      if (ane_tensor_get_dtype (d) == ANE_DTYPE_INT32)
        {
          gint64 n = ane_tensor_get_n_elements (d);
          g_autofree gint32 *v = g_new (gint32, MAX (n, 1));
          for (gint64 j = 0; j < n; j++)
            v[j] = (gint32) j;
          g_ptr_array_add (inputs, ane_tensor_new_from_ints (ane_tensor_get_name (d), shape, rank, v, n, NULL));
        }
      else
        g_ptr_array_add (inputs, ane_test_tensor_random (ane_tensor_get_name (d), shape, rank, seed + i, -1, 1));
    }
  return inputs;
}
