/* test-ops-attention.c: attention, rope, axial_rope_2d
 *
 * Attention is checked against a naive implementation written here in a
 * different style (kv heads expanded to H heads first, an additive -inf
 * mask, a separate softmax pass), plus a tiny case worked out by hand. The
 * rotary ops are checked on hand-computed values and, for larger shapes,
 * against formulas written here (SAM2's complex-number form for the axial one).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <complex.h>
#include <math.h>
#include <string.h>

#include "ane-test-util.h"

/* --- attention --------------------------------------------------------- */

typedef enum { BIAS_NONE, BIAS_SL, BIAS_B1SL, BIAS_1H1L } BiasKind;

typedef struct {
  const char *path;
  gint64      B, H, Hkv, S, L, D, Dv;
  gboolean    causal;
  double      scale;     /* 0: default 1/sqrt(D) */
  double      softcap;
  BiasKind    bias;
} AttentionCase;

static const AttentionCase attention_cases[] = {
  { "/ane/ops/attention/attention/plain", 1, 2, 2, 3, 3, 4, 4, FALSE, 0, 0, BIAS_NONE },
  { "/ane/ops/attention/attention/gqa", 2, 4, 2, 3, 5, 4, 3, FALSE, 0, 0, BIAS_NONE },
  { "/ane/ops/attention/attention/mqa", 1, 4, 1, 2, 3, 2, 2, FALSE, 0, 0, BIAS_NONE },
  { "/ane/ops/attention/attention/causal-square", 1, 4, 2, 4, 4, 4, 4, TRUE, 0, 0, BIAS_NONE },
  { "/ane/ops/attention/attention/causal-decode", 2, 4, 2, 2, 5, 4, 3, TRUE, 0, 0, BIAS_NONE },
  { "/ane/ops/attention/attention/causal-one-query", 1, 2, 2, 1, 4, 4, 2, TRUE, 0, 0, BIAS_NONE },
  { "/ane/ops/attention/attention/bias-sl", 1, 2, 1, 3, 4, 4, 4, FALSE, 0, 0, BIAS_SL },
  { "/ane/ops/attention/attention/bias-b1sl", 2, 2, 2, 3, 3, 2, 2, TRUE, 0, 0, BIAS_B1SL },
  { "/ane/ops/attention/attention/bias-1h1l", 1, 4, 2, 2, 3, 4, 4, FALSE, 0, 0, BIAS_1H1L },
  { "/ane/ops/attention/attention/scale", 1, 2, 2, 3, 3, 4, 4, FALSE, 0.9, 0, BIAS_NONE },
  { "/ane/ops/attention/attention/softcap", 1, 2, 2, 3, 4, 4, 4, FALSE, 3.0, 2.0, BIAS_NONE },
  { "/ane/ops/attention/attention/everything", 2, 4, 2, 3, 5, 4, 3, TRUE, 1.7, 1.5, BIAS_SL },
};

static void
bias_shape (const AttentionCase *c,
            gint64              *shape,
            guint               *rank)
{
  switch (c->bias)
    {
    case BIAS_SL:
      shape[0] = c->S; shape[1] = c->L; *rank = 2;
      break;
    case BIAS_B1SL:
      shape[0] = c->B; shape[1] = 1; shape[2] = c->S; shape[3] = c->L; *rank = 4;
      break;
    case BIAS_1H1L:
      shape[0] = 1; shape[1] = c->H; shape[2] = 1; shape[3] = c->L; *rank = 4;
      break;
    default:
      *rank = 0;
    }
}

/* The bias term added to score (b, h, i, j), indexed by hand per layout. */
static double
bias_at (const AttentionCase *c,
         const float         *bias,
         gint64 b, gint64 h, gint64 i, gint64 j)
{
  switch (c->bias)
    {
    case BIAS_SL:   return bias[i * c->L + j];
    case BIAS_B1SL: return bias[(b * c->S + i) * c->L + j];
    case BIAS_1H1L: return bias[h * c->L + j];
    default:        return 0.0;
    }
}

/* Naive reference: expand k and v to H heads (repeat_kv), then per head the
 * textbook scores -> softcap -> + bias -> + mask (-inf) -> softmax -> . v. */
static void
naive_attention (const AttentionCase *c,
                 const float         *q,
                 const float         *k,
                 const float         *v,
                 const float         *bias,
                 float               *out)
{
  gint64 B = c->B, H = c->H, Hkv = c->Hkv, S = c->S, L = c->L, D = c->D, Dv = c->Dv;
  gint64 n_rep = H / Hkv;
  double scale = c->scale != 0.0 ? c->scale : 1.0 / sqrt ((double) D);
  g_autofree double *kx = g_new (double, B * H * L * D);
  g_autofree double *vx = g_new (double, B * H * L * Dv);
  g_autofree double *p = g_new (double, L);

  for (gint64 b = 0; b < B; b++)
    for (gint64 h = 0; h < H; h++)
      for (gint64 j = 0; j < L; j++)
        {
          gint64 src = (b * Hkv + h / n_rep) * L + j, dst = (b * H + h) * L + j;

          for (gint64 d = 0; d < D; d++)
            kx[dst * D + d] = k[src * D + d];
          for (gint64 e = 0; e < Dv; e++)
            vx[dst * Dv + e] = v[src * Dv + e];
        }

  for (gint64 b = 0; b < B; b++)
    for (gint64 h = 0; h < H; h++)
      for (gint64 i = 0; i < S; i++)
        {
          double m = -INFINITY, z = 0.0;

          for (gint64 j = 0; j < L; j++)
            {
              double s = 0.0;

              for (gint64 d = 0; d < D; d++)
                s += (double) q[((b * H + h) * S + i) * D + d] * kx[((b * H + h) * L + j) * D + d];
              s *= scale;
              if (c->softcap > 0)
                s = c->softcap * tanh (s / c->softcap);
              s += bias_at (c, bias, b, h, i, j);
              /* the query at row i is absolute position (L - S) + i */
              if (c->causal && j > (L - S) + i)
                s += -INFINITY;
              p[j] = s;
              m = MAX (m, s);
            }
          for (gint64 j = 0; j < L; j++)
            {
              p[j] = exp (p[j] - m);
              z += p[j];
            }
          for (gint64 e = 0; e < Dv; e++)
            {
              double acc = 0.0;

              for (gint64 j = 0; j < L; j++)
                acc += p[j] / z * vx[((b * H + h) * L + j) * Dv + e];
              out[((b * H + h) * S + i) * Dv + e] = (float) acc;
            }
        }
}

static void
test_attention (gconstpointer data)
{
  const AttentionCase *c = data;
  gint64 qs[] = { c->B, c->H, c->S, c->D }, ks[] = { c->B, c->Hkv, c->L, c->D };
  gint64 vs[] = { c->B, c->Hkv, c->L, c->Dv }, os[] = { c->B, c->H, c->S, c->Dv };
  gint64 bs[4];
  guint brank;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) q = ane_test_input (g, "q", ANE_DTYPE_FLOAT32, qs, 4);
  g_autoptr(AneTensor) k = ane_test_input (g, "k", ANE_DTYPE_FLOAT32, ks, 4);
  g_autoptr(AneTensor) v = ane_test_input (g, "v", ANE_DTYPE_FLOAT32, vs, 4);
  g_autoptr(AneTensor) bias = NULL;
  g_autoptr(AneTensor) y = NULL;
  g_autoptr(AneTensor) tq = ane_test_tensor_random ("q", qs, 4, 1, -1.5f, 1.5f);
  g_autoptr(AneTensor) tk = ane_test_tensor_random ("k", ks, 4, 2, -1.5f, 1.5f);
  g_autoptr(AneTensor) tv = ane_test_tensor_random ("v", vs, 4, 3, -2.0f, 2.0f);
  g_autoptr(AneTensor) tb = NULL;
  g_autoptr(GPtrArray) out = NULL;
  g_autofree float *qv = ane_test_dup_floats (tq), *kv = ane_test_dup_floats (tk), *vv = ane_test_dup_floats (tv);
  g_autofree float *bv = NULL;
  g_autofree float *expected = g_new (float, c->B * c->H * c->S * c->Dv);

  bias_shape (c, bs, &brank);
  if (c->bias != BIAS_NONE)
    {
      bias = ane_test_input (g, "bias", ANE_DTYPE_FLOAT32, bs, brank);
      tb = ane_test_tensor_random ("bias", bs, brank, 4, -2.0f, 2.0f);
      bv = ane_test_dup_floats (tb);
    }
  y = ane_graph_attention (g, q, k, v, bias, c->causal, c->scale, c->softcap, &error);
  g_assert_no_error (error);
  ane_test_assert_shape (y, os, 4);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT32);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tq, tk, tv, tb, NULL);

  naive_attention (c, qv, kv, vv, bv, expected);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, c->B * c->H * c->S * c->Dv,
                         1e-5, 1e-6);
}

/* Small cases worked out by hand. */
static void
test_attention_hand (void)
{
  /* One head, D = 2, scale 1: q = (1,0), keys (1,0) and (0,1) give scores
   * (1, 0); softmax = (e/(1+e), 1/(1+e)) = (0.7310586, 0.2689414);
   * values (1,2), (3,4) -> 0.7310586*(1,2) + 0.2689414*(3,4) = (1.5378828, 2.5378828).
   * Causal with S = L = 2: query 0 sees only key 0 -> v0 = (1,2); query 1
   * sees both -> the mix above. Causal with S = 1 < L = 2 (decode): the one
   * query is the last position and sees both keys. */
  static const gint64 q2s[] = { 1, 1, 2, 2 }, q1s[] = { 1, 1, 1, 2 }, kvs[] = { 1, 1, 2, 2 };
  static const float q2v[] = { 1, 0, 1, 0 }, q1v[] = { 1, 0 };
  static const float kv_k[] = { 1, 0, 0, 1 }, kv_v[] = { 1, 2, 3, 4 };
  static const float full[] = { 1.5378828f, 2.5378828f, 1.5378828f, 2.5378828f };
  static const float causal[] = { 1, 2, 1.5378828f, 2.5378828f };
  static const float decode[] = { 1.5378828f, 2.5378828f };
  /* softcap 0.5: scores (0.5*tanh(1/0.5), 0.5*tanh(0)) = (0.48201379, 0) -> weights
   * (0.61822329, 0.38177671) -> (1.7635534, 2.7635534). With bias (0, ln 3) added
   * after the cap: weights e^0.48201379/(e^0.48201379 + 3) = 0.35055546 and
   * 0.64944454 -> (2.2988891, 3.2988891). */
  static const float capped[] = { 1.7635534f, 2.7635534f };
  static const float capped_bias[] = { 2.2988891f, 3.2988891f };
  static const gint64 bias_s[] = { 2 };
  static const float bias_v[] = { 0, 1.0986123f };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) q2 = ane_test_input (g, "q2", ANE_DTYPE_FLOAT32, q2s, 4);
  g_autoptr(AneTensor) q1 = ane_test_input (g, "q1", ANE_DTYPE_FLOAT32, q1s, 4);
  g_autoptr(AneTensor) k = ane_test_input (g, "k", ANE_DTYPE_FLOAT32, kvs, 4);
  g_autoptr(AneTensor) v = ane_test_input (g, "v", ANE_DTYPE_FLOAT32, kvs, 4);
  g_autoptr(AneTensor) bias = ane_test_input (g, "bias", ANE_DTYPE_FLOAT32, bias_s, 1);
  g_autoptr(AneTensor) y_full = ane_graph_attention (g, q2, k, v, NULL, FALSE, 1.0, 0.0, &error);
  g_autoptr(AneTensor) y_causal = ane_graph_attention (g, q2, k, v, NULL, TRUE, 1.0, 0.0, &error);
  g_autoptr(AneTensor) y_decode = ane_graph_attention (g, q1, k, v, NULL, TRUE, 1.0, 0.0, &error);
  g_autoptr(AneTensor) y_cap = ane_graph_attention (g, q1, k, v, NULL, FALSE, 1.0, 0.5, &error);
  g_autoptr(AneTensor) y_capb = ane_graph_attention (g, q1, k, v, bias, FALSE, 1.0, 0.5, &error);
  g_autoptr(AneTensor) tq2 = ane_test_tensor_f32 ("q2", q2s, 4, q2v);
  g_autoptr(AneTensor) tq1 = ane_test_tensor_f32 ("q1", q1s, 4, q1v);
  g_autoptr(AneTensor) tk = ane_test_tensor_f32 ("k", kvs, 4, kv_k);
  g_autoptr(AneTensor) tv = ane_test_tensor_f32 ("v", kvs, 4, kv_v);
  g_autoptr(AneTensor) tb = ane_test_tensor_f32 ("bias", bias_s, 1, bias_v);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_graph_add_output (g, "full", y_full, &error);
  ane_graph_add_output (g, "causal", y_causal, &error);
  ane_graph_add_output (g, "decode", y_decode, &error);
  ane_graph_add_output (g, "cap", y_cap, &error);
  ane_graph_add_output (g, "capb", y_capb, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tq2, tq1, tk, tv, tb, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), full, 4, 1e-6, 0);
  ane_test_assert_close (g_ptr_array_index (out, 1), causal, 4, 1e-6, 0);
  ane_test_assert_close (g_ptr_array_index (out, 2), decode, 2, 1e-6, 0);
  ane_test_assert_close (g_ptr_array_index (out, 3), capped, 2, 1e-6, 0);
  ane_test_assert_close (g_ptr_array_index (out, 4), capped_bias, 2, 1e-6, 0);
}

static void
test_attention_errors (void)
{
  static const gint64 q[] = { 2, 4, 3, 8 }, k[] = { 2, 2, 5, 8 }, v[] = { 2, 2, 5, 6 };
  static const gint64 q3[] = { 2, 3, 8 }, kb[] = { 1, 2, 5, 8 }, kd[] = { 2, 2, 5, 4 };
  static const gint64 vl[] = { 2, 2, 4, 6 }, vh[] = { 2, 1, 5, 6 }, k3[] = { 2, 3, 5, 8 };
  static const gint64 v3[] = { 2, 3, 5, 6 }, kshort[] = { 2, 2, 2, 8 }, vshort[] = { 2, 2, 2, 6 };
  static const gint64 b_bad[] = { 3, 6 }, b_rank5[] = { 1, 1, 1, 3, 5 }, b_ok[] = { 4, 1, 5 };
  static const gint64 out_s[] = { 2, 4, 3, 6 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) tq = ane_test_input (g, "q", ANE_DTYPE_FLOAT32, q, 4);
  g_autoptr(AneTensor) tk = ane_test_input (g, "k", ANE_DTYPE_FLOAT32, k, 4);
  g_autoptr(AneTensor) tv = ane_test_input (g, "v", ANE_DTYPE_FLOAT32, v, 4);
  g_autoptr(AneTensor) tqi = ane_test_input (g, "qi", ANE_DTYPE_INT32, q, 4);
  g_autoptr(AneTensor) tkh = ane_test_input (g, "kh", ANE_DTYPE_FLOAT16, k, 4);
  g_autoptr(AneTensor) tq3 = ane_test_input (g, "q3", ANE_DTYPE_FLOAT32, q3, 3);
  g_autoptr(AneTensor) tkb = ane_test_input (g, "kb", ANE_DTYPE_FLOAT32, kb, 4);
  g_autoptr(AneTensor) tkd = ane_test_input (g, "kd", ANE_DTYPE_FLOAT32, kd, 4);
  g_autoptr(AneTensor) tvl = ane_test_input (g, "vl", ANE_DTYPE_FLOAT32, vl, 4);
  g_autoptr(AneTensor) tvh = ane_test_input (g, "vh", ANE_DTYPE_FLOAT32, vh, 4);
  g_autoptr(AneTensor) tk3 = ane_test_input (g, "k3", ANE_DTYPE_FLOAT32, k3, 4);
  g_autoptr(AneTensor) tv3 = ane_test_input (g, "v3", ANE_DTYPE_FLOAT32, v3, 4);
  g_autoptr(AneTensor) tks = ane_test_input (g, "ks", ANE_DTYPE_FLOAT32, kshort, 4);
  g_autoptr(AneTensor) tvs = ane_test_input (g, "vs", ANE_DTYPE_FLOAT32, vshort, 4);
  g_autoptr(AneTensor) bbad = ane_test_input (g, "bbad", ANE_DTYPE_FLOAT32, b_bad, 2);
  g_autoptr(AneTensor) b5 = ane_test_input (g, "b5", ANE_DTYPE_FLOAT32, b_rank5, 5);
  g_autoptr(AneTensor) bh = ane_test_input (g, "bh", ANE_DTYPE_FLOAT16, b_ok, 3);
  g_autoptr(AneTensor) bok = ane_test_input (g, "bok", ANE_DTYPE_FLOAT32, b_ok, 3);
  g_autoptr(AneTensor) y = NULL;

  ane_test_assert_build_error (ane_graph_attention (g, tqi, tk, tv, NULL, FALSE, 0, 0, &error), &error,
                               ANE_ERROR_DTYPE, "attention", "'q'", "int32[2,4,3,8]", NULL);
  ane_test_assert_build_error (ane_graph_attention (g, tq3, tk, tv, NULL, FALSE, 0, 0, &error), &error,
                               ANE_ERROR_SHAPE, "attention", "'q'", "float32[2,3,8]", NULL);
  ane_test_assert_build_error (ane_graph_attention (g, tq, tkh, tv, NULL, FALSE, 0, 0, &error), &error,
                               ANE_ERROR_DTYPE, "attention", "'k'", "float16[2,2,5,8]", NULL);
  ane_test_assert_build_error (ane_graph_attention (g, tq, tkb, tv, NULL, FALSE, 0, 0, &error), &error,
                               ANE_ERROR_SHAPE, "attention", "batch", "'k'", "float32[1,2,5,8]", NULL);
  ane_test_assert_build_error (ane_graph_attention (g, tq, tkd, tv, NULL, FALSE, 0, 0, &error), &error,
                               ANE_ERROR_SHAPE, "attention", "head dim", "float32[2,2,5,4]", NULL);
  ane_test_assert_build_error (ane_graph_attention (g, tq, tk, tvl, NULL, FALSE, 0, 0, &error), &error,
                               ANE_ERROR_SHAPE, "attention", "'v'", "float32[2,2,4,6]", NULL);
  ane_test_assert_build_error (ane_graph_attention (g, tq, tk, tvh, NULL, FALSE, 0, 0, &error), &error,
                               ANE_ERROR_SHAPE, "attention", "kv head", "float32[2,1,5,6]", NULL);
  ane_test_assert_build_error (ane_graph_attention (g, tq, tk3, tv3, NULL, FALSE, 0, 0, &error), &error,
                               ANE_ERROR_SHAPE, "attention", "multiple", "float32[2,3,5,8]", NULL);
  ane_test_assert_build_error (ane_graph_attention (g, tq, tks, tvs, NULL, TRUE, 0, 0, &error), &error,
                               ANE_ERROR_SHAPE, "attention", "causal", "float32[2,2,2,8]", NULL);
  ane_test_assert_build_error (ane_graph_attention (g, tq, tk, tv, bbad, FALSE, 0, 0, &error), &error,
                               ANE_ERROR_SHAPE, "attention", "'bias'", "float32[3,6]", NULL);
  ane_test_assert_build_error (ane_graph_attention (g, tq, tk, tv, b5, FALSE, 0, 0, &error), &error,
                               ANE_ERROR_SHAPE, "attention", "'bias'", "float32[1,1,1,3,5]", NULL);
  ane_test_assert_build_error (ane_graph_attention (g, tq, tk, tv, bh, FALSE, 0, 0, &error), &error,
                               ANE_ERROR_DTYPE, "attention", "'bias'", "float16[4,1,5]", NULL);
  ane_test_assert_build_error (ane_graph_attention (g, tq, tk, tv, NULL, FALSE, 0, -1.0, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "attention", "softcap", NULL);
  ane_test_assert_build_error (ane_graph_attention (g, tq, tk, tv, NULL, FALSE, NAN, 0, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "attention", "scale", NULL);

  /* the same short cache is fine without the causal mask, and a [H,1,L] bias broadcasts */
  y = ane_graph_attention (g, tq, tks, tvs, NULL, FALSE, 0, 0, &error);
  g_assert_no_error (error);
  g_clear_object (&y);
  y = ane_graph_attention (g, tq, tk, tv, bok, TRUE, 0.5, 30.0, &error);
  g_assert_no_error (error);
  ane_test_assert_shape (y, out_s, 4);
}

static void
test_attention_fp16 (void)
{
  static const gint64 s[] = { 1, 2, 3, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) q = ane_test_input (g, "q", ANE_DTYPE_FLOAT16, s, 4);
  g_autoptr(AneTensor) y = ane_graph_attention (g, q, q, q, NULL, TRUE, 0, 0, &error);
  g_autoptr(AneTensor) t32 = ane_test_tensor_random ("q", s, 4, 7, -1, 1);
  g_autoptr(AneTensor) tq = ane_tensor_convert (t32, ANE_DTYPE_FLOAT16, &error);
  g_autoptr(GPtrArray) out = NULL;
  AneTensor *r;

  g_assert_no_error (error);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT16);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tq, NULL);
  r = g_ptr_array_index (out, 0);
  g_assert_cmpint (ane_tensor_get_dtype (r), ==, ANE_DTYPE_FLOAT16);
  /* row 0 of each head sees only key 0, so it returns v0 = q0 exactly */
  for (int h = 0; h < 2; h++)
    for (int d = 0; d < 4; d++)
      g_assert_cmpfloat (ane_tensor_get_value (r, h * 12 + d), ==, ane_tensor_get_value (tq, h * 12 + d));
}

/* --- rope -------------------------------------------------------------- */

typedef struct {
  const char *path;
  AneRopeMode mode;
  gint64      n_rot;
  double      theta;
  gint32      position;
  gint64      D;
  float       expected[6];
} RopeHandCase;

/* x = 1..D at one position. Hand computation (cos 1 = 0.54030231, sin 1 = 0.84147098):
 * D = 4, p = 1, theta 1e4: angles 1 and 1e4^(-1/2) = 0.01.
 *   neox pairs (0,2), (1,3): (1cos1 - 3sin1, 2cos.01 - 4sin.01, 1sin1 + 3cos1, 2sin.01 + 4cos.01)
 *   interleaved pairs (0,1), (2,3): (cos1 - 2sin1, sin1 + 2cos1, 3cos.01 - 4sin.01, 3sin.01 + 4cos.01)
 * D = 6, n_rot 4, p = 2, theta 100: angles 2 and 2 * 100^(-2/4) = 0.2; features 4, 5 pass. */
static const RopeHandCase rope_hand_cases[] = {
  { "/ane/ops/attention/rope/hand-neox", ANE_ROPE_NEOX, 0, 10000, 1, 4,
    { -1.9841106f, 1.9599007f, 2.4623779f, 4.0197997f } },
  { "/ane/ops/attention/rope/hand-interleaved", ANE_ROPE_INTERLEAVED, 0, 10000, 1, 4,
    { -1.1426397f, 1.9220756f, 2.9598507f, 4.0297995f } },
  { "/ane/ops/attention/rope/hand-neox-explicit-n_rot", ANE_ROPE_NEOX, 4, 10000, 1, 4,
    { -1.9841106f, 1.9599007f, 2.4623779f, 4.0197997f } },
  { "/ane/ops/attention/rope/hand-neox-partial", ANE_ROPE_NEOX, 4, 100, 2, 6,
    { -3.1440391f, 1.1654558f, -0.33914308f, 4.317605f, 5, 6 } },
  { "/ane/ops/attention/rope/hand-interleaved-partial", ANE_ROPE_INTERLEAVED, 4, 100, 2, 6,
    { -2.2347417f, 0.077003754f, 2.1455224f, 4.5162743f, 5, 6 } },
  /* position 0 is the identity */
  { "/ane/ops/attention/rope/hand-position-0", ANE_ROPE_INTERLEAVED, 0, 10000, 0, 4,
    { 1, 2, 3, 4 } },
};

static void
test_rope_hand (gconstpointer data)
{
  const RopeHandCase *c = data;
  gint64 xs[] = { 1, 1, 1, c->D }, ps[] = { 1 };
  static const float xv[] = { 1, 2, 3, 4, 5, 6 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
  g_autoptr(AneTensor) pos = ane_test_input (g, "pos", ANE_DTYPE_INT32, ps, 1);
  g_autoptr(AneTensor) y = ane_graph_rope (g, x, pos, c->mode, c->theta, c->n_rot, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", xs, 4, xv);
  g_autoptr(AneTensor) tp = ane_tensor_new_from_ints ("pos", ps, 1, &c->position, 1, &error);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, xs, 4);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, tp, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), c->expected, c->D, 1e-6, 1e-7);
}

/* Larger shapes against a formula written here: for each pair index i, the
 * two feature indices and the angle pos / theta^(2i/n_rot). */
static void
test_rope_formula (gconstpointer data)
{
  const RopeHandCase *c = data;   /* mode, n_rot and theta used; position, D ignored */
  enum { B = 2, H = 2, S = 3, D = 8 };
  static const gint64 xs[] = { B, H, S, D }, ps[] = { S };
  static const gint32 positions[S] = { 0, 5, 2 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
  g_autoptr(AneTensor) pos = ane_test_input (g, "pos", ANE_DTYPE_INT32, ps, 1);
  g_autoptr(AneTensor) y = ane_graph_rope (g, x, pos, c->mode, c->theta, c->n_rot, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_random ("x", xs, 4, 11, -1, 1);
  g_autoptr(AneTensor) tp = ane_tensor_new_from_ints ("pos", ps, 1, positions, S, &error);
  g_autofree float *xv = ane_test_dup_floats (tx);
  float expected[B * H * S * D];
  gint64 n_rot = c->n_rot ? c->n_rot : D;
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  memcpy (expected, xv, sizeof expected);
  for (int row = 0; row < B * H * S; row++)
    for (int i = 0; i < n_rot / 2; i++)
      {
        int ia = c->mode == ANE_ROPE_NEOX ? i : 2 * i;
        int ib = c->mode == ANE_ROPE_NEOX ? i + (int) n_rot / 2 : 2 * i + 1;
        double angle = positions[row % S] / pow (c->theta, 2.0 * i / (double) n_rot);
        double a = xv[row * D + ia], b = xv[row * D + ib];

        expected[row * D + ia] = (float) (a * cos (angle) - b * sin (angle));
        expected[row * D + ib] = (float) (a * sin (angle) + b * cos (angle));
      }
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, tp, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, B * H * S * D, 1e-5, 1e-6);
}

static const RopeHandCase rope_formula_cases[] = {
  { "/ane/ops/attention/rope/formula-neox", ANE_ROPE_NEOX, 0, 10000, 0, 0, { 0 } },
  { "/ane/ops/attention/rope/formula-interleaved", ANE_ROPE_INTERLEAVED, 0, 10000, 0, 0, { 0 } },
  { "/ane/ops/attention/rope/formula-neox-partial", ANE_ROPE_NEOX, 4, 500, 0, 0, { 0 } },
  { "/ane/ops/attention/rope/formula-interleaved-partial", ANE_ROPE_INTERLEAVED, 6, 500, 0, 0, { 0 } },
};

static void
test_rope_errors (void)
{
  static const gint64 xs[] = { 1, 2, 3, 8 }, x3[] = { 2, 3, 8 }, xodd[] = { 1, 2, 3, 5 };
  static const gint64 ps[] = { 3 }, p4[] = { 4 }, p13[] = { 1, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
  g_autoptr(AneTensor) xi = ane_test_input (g, "xi", ANE_DTYPE_INT32, xs, 4);
  g_autoptr(AneTensor) xr3 = ane_test_input (g, "xr3", ANE_DTYPE_FLOAT32, x3, 3);
  g_autoptr(AneTensor) xo = ane_test_input (g, "xo", ANE_DTYPE_FLOAT32, xodd, 4);
  g_autoptr(AneTensor) pos = ane_test_input (g, "pos", ANE_DTYPE_INT64, ps, 1);
  g_autoptr(AneTensor) posf = ane_test_input (g, "posf", ANE_DTYPE_FLOAT32, ps, 1);
  g_autoptr(AneTensor) pos4 = ane_test_input (g, "pos4", ANE_DTYPE_INT32, p4, 1);
  g_autoptr(AneTensor) pos13 = ane_test_input (g, "pos13", ANE_DTYPE_INT32, p13, 2);
  g_autoptr(GVariant) bad_mode = g_variant_ref_sink (
    ane_attrs_new ("mode", g_variant_new_string ("gptj"), NULL));
  AneTensor *ins[2] = { x, pos };
  GPtrArray *res;
  g_autoptr(AneTensor) ok = NULL;

  ane_test_assert_build_error (ane_graph_rope (g, xi, pos, ANE_ROPE_NEOX, 1e4, 0, &error), &error,
                               ANE_ERROR_DTYPE, "rope", "'x'", "int32[1,2,3,8]", NULL);
  ane_test_assert_build_error (ane_graph_rope (g, xr3, pos, ANE_ROPE_NEOX, 1e4, 0, &error), &error,
                               ANE_ERROR_SHAPE, "rope", "'x'", "float32[2,3,8]", NULL);
  ane_test_assert_build_error (ane_graph_rope (g, x, posf, ANE_ROPE_NEOX, 1e4, 0, &error), &error,
                               ANE_ERROR_DTYPE, "rope", "'positions'", "float32[3]", NULL);
  ane_test_assert_build_error (ane_graph_rope (g, x, pos4, ANE_ROPE_NEOX, 1e4, 0, &error), &error,
                               ANE_ERROR_SHAPE, "rope", "'positions'", "int32[4]", "float32[1,2,3,8]", NULL);
  ane_test_assert_build_error (ane_graph_rope (g, x, pos13, ANE_ROPE_NEOX, 1e4, 0, &error), &error,
                               ANE_ERROR_SHAPE, "rope", "'positions'", "int32[1,3]", NULL);
  ane_test_assert_build_error (ane_graph_rope (g, x, pos, ANE_ROPE_NEOX, 1e4, 3, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "rope", "n_rot 3", NULL);
  ane_test_assert_build_error (ane_graph_rope (g, x, pos, ANE_ROPE_NEOX, 1e4, 10, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "rope", "n_rot 10", NULL);
  ane_test_assert_build_error (ane_graph_rope (g, x, pos, ANE_ROPE_NEOX, 1e4, -2, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "rope", "n_rot -2", NULL);
  ane_test_assert_build_error (ane_graph_rope (g, xo, pos, ANE_ROPE_NEOX, 1e4, 0, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "rope", "n_rot", "float32[1,2,3,5]", NULL);
  ane_test_assert_build_error (ane_graph_rope (g, x, pos, ANE_ROPE_NEOX, 0.0, 0, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "rope", "theta", NULL);
  res = ane_graph_apply (g, "rope", ins, 2, bad_mode, &error);
  g_assert_null (res);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "gptj"));
  g_clear_error (&error);

  /* odd D is fine when only an even prefix rotates */
  ok = ane_graph_rope (g, xo, pos, ANE_ROPE_INTERLEAVED, 1e4, 4, &error);
  g_assert_no_error (error);
  ane_test_assert_shape (ok, xodd, 4);
}

/* --- axial_rope_2d ----------------------------------------------------- */

static void
test_axial_rope_hand (void)
{
  /* D = 4, end_x = 2, end_y = 3: one frequency f_0 = 1. Token t sits at
   * (t mod 2, t div 2); with x = (1,0,1,0) everywhere the output is
   * (cos px, sin px, cos py, sin py). */
  static const gint64 xs[] = { 1, 1, 6, 4 };
  static const float xv[] = { 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0,
                              1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0 };
  const float c1 = 0.54030231f, s1 = 0.84147098f, c2 = -0.41614684f, s2 = 0.90929743f;
  const float expected[] = {
    1, 0, 1, 0,          /* t0 (0,0) */
    c1, s1, 1, 0,        /* t1 (1,0) */
    1, 0, c1, s1,        /* t2 (0,1) */
    c1, s1, c1, s1,      /* t3 (1,1) */
    1, 0, c2, s2,        /* t4 (0,2) */
    c1, s1, c2, s2,      /* t5 (1,2) */
  };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
  g_autoptr(AneTensor) y = ane_graph_axial_rope_2d (g, x, 2, 3, 10000, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", xs, 4, xv);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, xs, 4);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 24, 1e-6, 1e-7);
}

/* SAM2's form, written here with C complex numbers: freqs_cis = polar(1, t * f)
 * with the x block then the y block concatenated; xq viewed as complex pairs
 * and multiplied. */
static void
test_axial_rope_formula (void)
{
  enum { B = 2, H = 2, EX = 3, EY = 2, N = EX * EY, D = 8 };
  static const gint64 xs[] = { B, H, N, D };
  const double theta = 100.0;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
  g_autoptr(AneTensor) y = ane_graph_axial_rope_2d (g, x, EX, EY, theta, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_random ("x", xs, 4, 21, -1, 1);
  g_autofree float *xv = ane_test_dup_floats (tx);
  float expected[B * H * N * D];
  double complex cis[N][D / 2];
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  for (int t = 0; t < N; t++)
    {
      double tx_ = t % EX, ty_ = t / EX;

      for (int i = 0; i < D / 4; i++)
        {
          /* freqs = 1 / theta^(arange(0, D, 4)[: D/4] / D) */
          double f = 1.0 / pow (theta, (4.0 * i) / D);
          cis[t][i] = cexp (I * tx_ * f);
          cis[t][D / 4 + i] = cexp (I * ty_ * f);
        }
    }
  for (int r = 0; r < B * H * N; r++)
    for (int j = 0; j < D / 2; j++)
      {
        double complex z = xv[r * D + 2 * j] + I * xv[r * D + 2 * j + 1];
        double complex w = z * cis[r % N][j];

        expected[r * D + 2 * j] = (float) creal (w);
        expected[r * D + 2 * j + 1] = (float) cimag (w);
      }
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tx, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, B * H * N * D, 1e-5, 1e-6);
}

static void
test_axial_rope_errors (void)
{
  static const gint64 xs[] = { 1, 2, 6, 8 }, x6[] = { 1, 2, 6, 6 }, x3[] = { 2, 6, 8 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
  g_autoptr(AneTensor) xi = ane_test_input (g, "xi", ANE_DTYPE_INT32, xs, 4);
  g_autoptr(AneTensor) xd6 = ane_test_input (g, "xd6", ANE_DTYPE_FLOAT32, x6, 4);
  g_autoptr(AneTensor) xr3 = ane_test_input (g, "xr3", ANE_DTYPE_FLOAT32, x3, 3);

  ane_test_assert_build_error (ane_graph_axial_rope_2d (g, xi, 2, 3, 1e4, &error), &error,
                               ANE_ERROR_DTYPE, "axial_rope_2d", "'x'", "int32[1,2,6,8]", NULL);
  ane_test_assert_build_error (ane_graph_axial_rope_2d (g, xr3, 2, 3, 1e4, &error), &error,
                               ANE_ERROR_SHAPE, "axial_rope_2d", "'x'", "float32[2,6,8]", NULL);
  ane_test_assert_build_error (ane_graph_axial_rope_2d (g, xd6, 2, 3, 1e4, &error), &error,
                               ANE_ERROR_SHAPE, "axial_rope_2d", "multiple of 4", "float32[1,2,6,6]", NULL);
  ane_test_assert_build_error (ane_graph_axial_rope_2d (g, x, 2, 2, 1e4, &error), &error,
                               ANE_ERROR_SHAPE, "axial_rope_2d", "end_x 2", "float32[1,2,6,8]", NULL);
  ane_test_assert_build_error (ane_graph_axial_rope_2d (g, x, 0, 3, 1e4, &error), &error,
                               ANE_ERROR_SHAPE, "axial_rope_2d", "end_x 0", NULL);
  ane_test_assert_build_error (ane_graph_axial_rope_2d (g, x, -2, -3, 1e4, &error), &error,
                               ANE_ERROR_SHAPE, "axial_rope_2d", "end_x -2", NULL);
  ane_test_assert_build_error (ane_graph_axial_rope_2d (g, x, G_MAXINT64 / 2, 4, 1e4, &error), &error,
                               ANE_ERROR_SHAPE, "axial_rope_2d", "end_y 4", NULL);
  ane_test_assert_build_error (ane_graph_axial_rope_2d (g, x, 2, 3, -1.0, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "axial_rope_2d", "theta", NULL);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (attention_cases); i++)
    g_test_add_data_func (attention_cases[i].path, &attention_cases[i], test_attention);
  g_test_add_func ("/ane/ops/attention/attention/hand", test_attention_hand);
  g_test_add_func ("/ane/ops/attention/attention/errors", test_attention_errors);
  g_test_add_func ("/ane/ops/attention/attention/fp16", test_attention_fp16);
  for (guint i = 0; i < G_N_ELEMENTS (rope_hand_cases); i++)
    g_test_add_data_func (rope_hand_cases[i].path, &rope_hand_cases[i], test_rope_hand);
  for (guint i = 0; i < G_N_ELEMENTS (rope_formula_cases); i++)
    g_test_add_data_func (rope_formula_cases[i].path, &rope_formula_cases[i], test_rope_formula);
  g_test_add_func ("/ane/ops/attention/rope/errors", test_rope_errors);
  g_test_add_func ("/ane/ops/attention/axial_rope_2d/hand", test_axial_rope_hand);
  g_test_add_func ("/ane/ops/attention/axial_rope_2d/formula", test_axial_rope_formula);
  g_test_add_func ("/ane/ops/attention/axial_rope_2d/errors", test_axial_rope_errors);
  return g_test_run ();
}
