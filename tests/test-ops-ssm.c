/* test-ops-ssm.c: selective_scan and gated_delta_net
 *
 * Each op is checked on a tiny case worked out by hand (the arithmetic is in
 * the comments), and on random data against an independent loop in this
 * file: the selective scan discretizes all steps first and then scans (the
 * einsum structure of mamba's selective_scan_ref); the gated delta rule is
 * written in its matrix form S_t = exp(g)(I − β k kᵀ) S_{t−1} + β k vᵀ.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"

/* --- selective_scan: hand-checked ------------------------------------------- */

typedef struct {
  const char *path;
  gboolean    d, z, delta_bias, softplus;
  float       expected[2];
} ScanHandCase;

/* B = D = N = 1, L = 2: u = [1, 2], delta = [0.5, 1], A = −1, B = [1, 1], C = [2, 1].
 * Plain: t0 h = 0.5·1·1 = 0.5, y = 2·0.5 = 1;
 *        t1 h = e^−1·0.5 + 1·1·2 = 2.18393972, y = 2.18393972.
 * D = 0.5 adds 0.5·u: [1.5, 3.18393972].
 * z = [0, 1] multiplies by silu: silu(0) = 0, silu(1) = 0.731058579 → [0, 2.32764645].
 * delta_bias 0.5: δ = [1, 1.5]: t0 h = 1, y = 2; t1 h = e^−1.5 + 3 = 3.22313016.
 * softplus: δ = [ln(1 + e^0.5), ln(1 + e)] = [0.974076984, 1.31326169]:
 *   t0 h = 0.974076984, y = 1.94815397; t1 h = e^−1.31326169·0.974076984 + 2·1.31326169
 *   = 2.88849302.
 * everything: δ = softplus([1, 1.5]) = [1.31326169, 1.70141328]; t1 y = (C·h + 0.5·2)·silu(1)
 *   = 3.39386562 (t0 is gated to 0). */
static const ScanHandCase scan_hand_cases[] = {
  { "/ane/ops/ssm/selective_scan/hand/plain", FALSE, FALSE, FALSE, FALSE, { 1.0f, 2.18393972f } },
  { "/ane/ops/ssm/selective_scan/hand/d", TRUE, FALSE, FALSE, FALSE, { 1.5f, 3.18393972f } },
  { "/ane/ops/ssm/selective_scan/hand/d-z", TRUE, TRUE, FALSE, FALSE, { 0.0f, 2.32764645f } },
  { "/ane/ops/ssm/selective_scan/hand/delta-bias", FALSE, FALSE, TRUE, FALSE, { 2.0f, 3.22313016f } },
  { "/ane/ops/ssm/selective_scan/hand/softplus", FALSE, FALSE, FALSE, TRUE, { 1.94815397f, 2.88849302f } },
  { "/ane/ops/ssm/selective_scan/hand/all", TRUE, TRUE, TRUE, TRUE, { 0.0f, 3.39386562f } },
};

static void
test_scan_hand (gconstpointer data)
{
  const ScanHandCase *c = data;
  static const gint64 bdl[] = { 1, 1, 2 }, dn[] = { 1, 1 }, bnl[] = { 1, 1, 2 }, d1[] = { 1 };
  static const float uv[] = { 1, 2 }, dv[] = { 0.5f, 1 }, av[] = { -1 }, bv[] = { 1, 1 };
  static const float cv[] = { 2, 1 }, Dv[] = { 0.5f }, zv[] = { 0, 1 }, biasv[] = { 0.5f };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) u = ane_test_const_f32 (g, "u", bdl, 3, uv);
  g_autoptr(AneTensor) delta = ane_test_const_f32 (g, "delta", bdl, 3, dv);
  g_autoptr(AneTensor) a = ane_test_const_f32 (g, "a", dn, 2, av);
  g_autoptr(AneTensor) b = ane_test_const_f32 (g, "b", bnl, 3, bv);
  g_autoptr(AneTensor) cc = ane_test_const_f32 (g, "c", bnl, 3, cv);
  g_autoptr(AneTensor) d = c->d ? ane_test_const_f32 (g, "d", d1, 1, Dv) : NULL;
  g_autoptr(AneTensor) z = c->z ? ane_test_const_f32 (g, "z", bdl, 3, zv) : NULL;
  g_autoptr(AneTensor) bias = c->delta_bias ? ane_test_const_f32 (g, "bias", d1, 1, biasv) : NULL;
  g_autoptr(AneTensor) y = ane_graph_selective_scan (g, u, delta, a, b, cc, d, z, bias, c->softplus, &error);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, bdl, 3);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT32);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, NULL, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), c->expected, 2, 1e-6, 1e-7);
}

/* --- selective_scan: against a discretize-then-scan loop --------------------- */

typedef struct {
  const char *path;
  gboolean    d, z, delta_bias, softplus;
} ScanCase;

static const ScanCase scan_cases[] = {
  { "/ane/ops/ssm/selective_scan/naive/plain", FALSE, FALSE, FALSE, FALSE },
  { "/ane/ops/ssm/selective_scan/naive/d", TRUE, FALSE, FALSE, FALSE },
  { "/ane/ops/ssm/selective_scan/naive/z", FALSE, TRUE, FALSE, FALSE },
  { "/ane/ops/ssm/selective_scan/naive/delta-bias", FALSE, FALSE, TRUE, FALSE },
  { "/ane/ops/ssm/selective_scan/naive/softplus", FALSE, FALSE, FALSE, TRUE },
  { "/ane/ops/ssm/selective_scan/naive/all", TRUE, TRUE, TRUE, TRUE },
};

enum { NB = 2, ND = 3, NL = 5, NN = 4 };

static void
test_scan_naive (gconstpointer data)
{
  const ScanCase *c = data;
  static const gint64 bdl[] = { NB, ND, NL }, dn[] = { ND, NN }, bnl[] = { NB, NN, NL }, d1[] = { ND };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  /* A negative as in Mamba (A = −exp(A_log)); delta may be negative before softplus. */
  g_autoptr(AneTensor) tu = ane_test_tensor_random ("u", bdl, 3, 11, -1, 1);
  g_autoptr(AneTensor) tdelta = ane_test_tensor_random ("delta", bdl, 3, 12,
                                                        c->softplus ? -2 : 0.05f, c->softplus ? 2 : 0.5f);
  g_autoptr(AneTensor) ta = ane_test_tensor_random ("a", dn, 2, 13, -2, -0.1f);
  g_autoptr(AneTensor) tb = ane_test_tensor_random ("b", bnl, 3, 14, -1, 1);
  g_autoptr(AneTensor) tc = ane_test_tensor_random ("c", bnl, 3, 15, -1, 1);
  g_autoptr(AneTensor) td = ane_test_tensor_random ("d", d1, 1, 16, -1, 1);
  g_autoptr(AneTensor) tz = ane_test_tensor_random ("z", bdl, 3, 17, -2, 2);
  g_autoptr(AneTensor) tbias = ane_test_tensor_random ("bias", d1, 1, 18, 0, 0.5f);
  g_autoptr(AneTensor) u = ane_test_const (g, tu), delta = ane_test_const (g, tdelta), a = ane_test_const (g, ta);
  g_autoptr(AneTensor) b = ane_test_const (g, tb), cc = ane_test_const (g, tc);
  g_autoptr(AneTensor) d = c->d ? ane_test_const (g, td) : NULL;
  g_autoptr(AneTensor) z = c->z ? ane_test_const (g, tz) : NULL;
  g_autoptr(AneTensor) bias = c->delta_bias ? ane_test_const (g, tbias) : NULL;
  g_autoptr(AneTensor) y = ane_graph_selective_scan (g, u, delta, a, b, cc, d, z, bias, c->softplus, &error);
  g_autofree float *U = ane_test_dup_floats (tu), *DT = ane_test_dup_floats (tdelta), *A = ane_test_dup_floats (ta);
  g_autofree float *Bv = ane_test_dup_floats (tb), *C = ane_test_dup_floats (tc), *Dv = ane_test_dup_floats (td);
  g_autofree float *Z = ane_test_dup_floats (tz), *BIAS = ane_test_dup_floats (tbias);
  double dA[NB][ND][NL][NN], dBu[NB][ND][NL][NN];
  float expected[NB * ND * NL];
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, bdl, 3);

  /* Discretize every step first: deltaA = exp(δ·A), deltaB_u = δ·B·u. */
  for (int bb = 0; bb < NB; bb++)
    for (int dd = 0; dd < ND; dd++)
      for (int l = 0; l < NL; l++)
        {
          double dt = DT[(bb * ND + dd) * NL + l];

          if (c->delta_bias)
            dt += BIAS[dd];
          if (c->softplus)
            dt = log (1.0 + exp (dt));
          for (int n = 0; n < NN; n++)
            {
              dA[bb][dd][l][n] = exp (dt * A[dd * NN + n]);
              dBu[bb][dd][l][n] = dt * Bv[(bb * NN + n) * NL + l] * U[(bb * ND + dd) * NL + l];
            }
        }
  /* Then scan: x = deltaA·x + deltaB_u, y = Σ_n x·C. */
  for (int bb = 0; bb < NB; bb++)
    for (int dd = 0; dd < ND; dd++)
      {
        double x[NN] = { 0 };

        for (int l = 0; l < NL; l++)
          {
            double yy = 0;
            int i = (bb * ND + dd) * NL + l;

            for (int n = 0; n < NN; n++)
              {
                x[n] = dA[bb][dd][l][n] * x[n] + dBu[bb][dd][l][n];
                yy += x[n] * C[(bb * NN + n) * NL + l];
              }
            if (c->d)
              yy += U[i] * Dv[dd];
            if (c->z)
              yy *= Z[i] / (1.0 + exp (-Z[i]));
            expected[i] = (float) yy;
          }
      }
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, NULL, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, NB * ND * NL, 1e-5, 1e-6);
}

static void
test_scan_errors (void)
{
  static const gint64 bdl[] = { 2, 3, 5 }, dn[] = { 3, 4 }, bnl[] = { 2, 4, 5 }, d1[] = { 3 };
  static const gint64 bd[] = { 2, 3 }, bnl_bad[] = { 2, 4, 6 }, dn_bad[] = { 4, 4 }, d4[] = { 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT32, bdl, 3);
  g_autoptr(AneTensor) ui = ane_test_input (g, "ui", ANE_DTYPE_INT32, bdl, 3);
  g_autoptr(AneTensor) u2 = ane_test_input (g, "u2", ANE_DTYPE_FLOAT32, bd, 2);
  g_autoptr(AneTensor) delta = ane_test_input (g, "delta", ANE_DTYPE_FLOAT32, bdl, 3);
  g_autoptr(AneTensor) a = ane_test_input (g, "a", ANE_DTYPE_FLOAT32, dn, 2);
  g_autoptr(AneTensor) a_bad = ane_test_input (g, "a_bad", ANE_DTYPE_FLOAT32, dn_bad, 2);
  g_autoptr(AneTensor) a1 = ane_test_input (g, "a1", ANE_DTYPE_FLOAT32, d1, 1);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, bnl, 3);
  g_autoptr(AneTensor) b_bad = ane_test_input (g, "b_bad", ANE_DTYPE_FLOAT32, bnl_bad, 3);
  g_autoptr(AneTensor) c = ane_test_input (g, "c", ANE_DTYPE_FLOAT32, bnl, 3);
  g_autoptr(AneTensor) d_bad = ane_test_input (g, "d_bad", ANE_DTYPE_FLOAT32, d4, 1);
  g_autoptr(AneTensor) z16 = ane_test_input (g, "z16", ANE_DTYPE_FLOAT16, bdl, 3);
  g_autoptr(AneTensor) bias_bad = ane_test_input (g, "bias_bad", ANE_DTYPE_FLOAT32, bd, 2);
  g_autoptr(AneTensor) ok = NULL;
  AneTensor *y;

  y = ane_graph_selective_scan (g, ui, delta, a, b, c, NULL, NULL, NULL, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_DTYPE, "selective_scan", "'u'", "int32[2,3,5]", NULL);
  y = ane_graph_selective_scan (g, u2, delta, a, b, c, NULL, NULL, NULL, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "selective_scan", "'u'", "float32[2,3]", NULL);
  y = ane_graph_selective_scan (g, u, delta, a1, b, c, NULL, NULL, NULL, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "selective_scan", "'a'", "float32[3]", NULL);
  y = ane_graph_selective_scan (g, u, delta, a_bad, b, c, NULL, NULL, NULL, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'a'", "float32[4,4]", "[3,4]", NULL);
  y = ane_graph_selective_scan (g, u, b, a, b, c, NULL, NULL, NULL, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'delta'", "float32[2,4,5]", "[2,3,5]", NULL);
  y = ane_graph_selective_scan (g, u, delta, a, b_bad, c, NULL, NULL, NULL, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'b'", "float32[2,4,6]", "[2,4,5]", NULL);
  y = ane_graph_selective_scan (g, u, delta, a, b, b_bad, NULL, NULL, NULL, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'c'", "float32[2,4,6]", NULL);
  y = ane_graph_selective_scan (g, u, delta, a, b, c, d_bad, NULL, NULL, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'d'", "float32[4]", "[3]", NULL);
  y = ane_graph_selective_scan (g, u, delta, a, b, c, NULL, z16, NULL, FALSE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_DTYPE, "'z'", "float16[2,3,5]", NULL);
  y = ane_graph_selective_scan (g, u, delta, a, b, c, NULL, NULL, bias_bad, TRUE, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'delta_bias'", "float32[2,3]", NULL);
  /* the shapes above are fine together */
  ok = ane_graph_selective_scan (g, u, delta, a, b, c, NULL, NULL, NULL, TRUE, &error);
  g_assert_no_error (error);
  ane_test_assert_shape (ok, bdl, 3);
}

/* --- gated_delta_net: hand-checked ------------------------------------------ */

typedef struct {
  const char *path;
  gboolean    initial_state, l2norm;
  double      scale;
  float       o[2], state[2];
} DeltaHandCase;

/* B = H = 1, T = 2, K = 2, V = 1: q = [[1,0],[0,1]], k = [[1,0],[1,1]], v = [2, 3],
 * g = [0, ln ½], β = [1, ½].
 * Zero state, scale 1: t0 v' = (2 − 0)·1 = 2, S = [2, 0], o = 2;
 *   t1 S = [1, 0], Sᵀk = 1, v' = (3 − 1)·½ = 1, S = [2, 1], o = 1.
 * Initial state [1, 1]: t0 Sᵀk = 1, v' = 1, S = [2, 1], o = 2;
 *   t1 S = [1, ½], Sᵀk = 1.5, v' = 0.75, S = [1.75, 1.25], o = 1.25.
 * Default scale 1/√2 scales o only: [√2, 1/√2].
 * L2 norm: q, k ← x/√(Σx² + 1e-6): k1 = [1,1]/√(2 + 1e-6), q0 = [1,0]/√(1 + 1e-6), ...
 *   worked in double: o = [1.999998, 0.81065975], S = [1.81065966, 0.81066016];
 *   with the initial state and scale ½: o = [0.9999995, 0.59282975], S = [1.68566009, 1.18566009]. */
static const DeltaHandCase delta_hand_cases[] = {
  { "/ane/ops/ssm/gated_delta_net/hand/zero-state", FALSE, FALSE, 1.0, { 2, 1 }, { 2, 1 } },
  { "/ane/ops/ssm/gated_delta_net/hand/initial-state", TRUE, FALSE, 1.0, { 2, 1.25f }, { 1.75f, 1.25f } },
  { "/ane/ops/ssm/gated_delta_net/hand/default-scale", FALSE, FALSE, 0.0,
    { 1.41421356f, 0.70710678f }, { 2, 1 } },
  { "/ane/ops/ssm/gated_delta_net/hand/l2norm", FALSE, TRUE, 1.0,
    { 1.999998f, 0.81065975f }, { 1.81065966f, 0.81066016f } },
  { "/ane/ops/ssm/gated_delta_net/hand/l2norm-initial-state", TRUE, TRUE, 0.5,
    { 0.9999995f, 0.59282975f }, { 1.68566009f, 1.18566009f } },
};

static void
test_delta_hand (gconstpointer data)
{
  const DeltaHandCase *c = data;
  static const gint64 qs[] = { 1, 1, 2, 2 }, vs[] = { 1, 1, 2, 1 }, gs[] = { 1, 1, 2 };
  static const gint64 ss[] = { 1, 1, 2, 1 };
  static const float qv[] = { 1, 0, 0, 1 }, kv[] = { 1, 0, 1, 1 }, vv[] = { 2, 3 };
  static const float bv[] = { 1, 0.5f }, sv[] = { 1, 1 };
  const float gv[] = { 0, logf (0.5f) };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) q = ane_test_const_f32 (g, "q", qs, 4, qv);
  g_autoptr(AneTensor) k = ane_test_const_f32 (g, "k", qs, 4, kv);
  g_autoptr(AneTensor) v = ane_test_const_f32 (g, "v", vs, 4, vv);
  g_autoptr(AneTensor) gg = ane_test_const_f32 (g, "g", gs, 3, gv);
  g_autoptr(AneTensor) beta = ane_test_const_f32 (g, "beta", gs, 3, bv);
  g_autoptr(AneTensor) s0 = c->initial_state ? ane_test_const_f32 (g, "s0", ss, 4, sv) : NULL;
  g_autoptr(AneTensor) state = NULL;
  g_autoptr(AneTensor) o = ane_graph_gated_delta_net (g, q, k, v, gg, beta, s0, c->scale, c->l2norm,
                                                      &state, &error);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (o, vs, 4);
  ane_test_assert_shape (state, ss, 4);
  g_assert_cmpint (ane_tensor_get_dtype (state), ==, ANE_DTYPE_FLOAT32);
  ane_graph_add_output (g, "o", o, &error);
  ane_graph_add_output (g, "state", state, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, NULL, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), c->o, 2, 1e-6, 1e-7);
  ane_test_assert_close (g_ptr_array_index (out, 1), c->state, 2, 1e-6, 1e-7);
}

/* --- gated_delta_net: against the matrix form -------------------------------- */

typedef struct {
  const char *path;
  gboolean    initial_state, l2norm;
  double      scale;
} DeltaCase;

static const DeltaCase delta_cases[] = {
  { "/ane/ops/ssm/gated_delta_net/naive/default", FALSE, FALSE, 0.0 },
  { "/ane/ops/ssm/gated_delta_net/naive/initial-state", TRUE, FALSE, 0.0 },
  { "/ane/ops/ssm/gated_delta_net/naive/l2norm", FALSE, TRUE, 0.0 },
  { "/ane/ops/ssm/gated_delta_net/naive/all", TRUE, TRUE, 0.75 },
};

enum { GB = 2, GH = 2, GT = 4, GK = 3, GV = 2 };

static void
test_delta_naive (gconstpointer data)
{
  const DeltaCase *c = data;
  static const gint64 qs[] = { GB, GH, GT, GK }, vs[] = { GB, GH, GT, GV }, gs[] = { GB, GH, GT };
  static const gint64 ss[] = { GB, GH, GK, GV };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  /* Without the L2 norm keep k small so the rule stays a contraction. */
  float kmax = c->l2norm ? 2.0f : 0.5f;
  g_autoptr(AneTensor) tq = ane_test_tensor_random ("q", qs, 4, 21, -1, 1);
  g_autoptr(AneTensor) tk = ane_test_tensor_random ("k", qs, 4, 22, -kmax, kmax);
  g_autoptr(AneTensor) tv = ane_test_tensor_random ("v", vs, 4, 23, -1, 1);
  g_autoptr(AneTensor) tg = ane_test_tensor_random ("g", gs, 3, 24, -1, 0);
  g_autoptr(AneTensor) tbeta = ane_test_tensor_random ("beta", gs, 3, 25, 0, 1);
  g_autoptr(AneTensor) ts0 = ane_test_tensor_random ("s0", ss, 4, 26, -1, 1);
  g_autoptr(AneTensor) q = ane_test_const (g, tq), k = ane_test_const (g, tk), v = ane_test_const (g, tv);
  g_autoptr(AneTensor) gg = ane_test_const (g, tg), beta = ane_test_const (g, tbeta);
  g_autoptr(AneTensor) s0 = c->initial_state ? ane_test_const (g, ts0) : NULL;
  g_autoptr(AneTensor) state = NULL;
  g_autoptr(AneTensor) o = ane_graph_gated_delta_net (g, q, k, v, gg, beta, s0, c->scale, c->l2norm,
                                                      &state, &error);
  g_autofree float *Q = ane_test_dup_floats (tq), *K = ane_test_dup_floats (tk), *V = ane_test_dup_floats (tv);
  g_autofree float *G = ane_test_dup_floats (tg), *BETA = ane_test_dup_floats (tbeta), *S0 = ane_test_dup_floats (ts0);
  float eo[GB * GH * GT * GV], es[GB * GH * GK * GV];
  double scale = c->scale != 0.0 ? c->scale : 1.0 / sqrt (GK);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (o, vs, 4);
  ane_test_assert_shape (state, ss, 4);

  for (int bh = 0; bh < GB * GH; bh++)
    {
      double S[GK][GV];

      for (int i = 0; i < GK; i++)
        for (int j = 0; j < GV; j++)
          S[i][j] = c->initial_state ? S0[(bh * GK + i) * GV + j] : 0.0;
      for (int t = 0; t < GT; t++)
        {
          int bt = bh * GT + t;
          double kk[GK], qq[GK], nk = 0, nq = 0, M[GK][GK], S2[GK][GV];
          double alpha = exp (G[bt]), b = BETA[bt];

          for (int i = 0; i < GK; i++)
            {
              kk[i] = K[bt * GK + i];
              qq[i] = Q[bt * GK + i];
              nk += kk[i] * kk[i];
              nq += qq[i] * qq[i];
            }
          for (int i = 0; i < GK; i++)
            {
              if (c->l2norm)
                {
                  kk[i] /= sqrt (nk + 1e-6);
                  qq[i] /= sqrt (nq + 1e-6);
                }
              qq[i] *= scale;
            }
          /* M = α(I − β k kᵀ);  S = M·S + β k vᵀ */
          for (int i = 0; i < GK; i++)
            for (int j = 0; j < GK; j++)
              M[i][j] = alpha * ((i == j ? 1.0 : 0.0) - b * kk[i] * kk[j]);
          for (int i = 0; i < GK; i++)
            for (int j = 0; j < GV; j++)
              {
                S2[i][j] = b * kk[i] * V[bt * GV + j];
                for (int m = 0; m < GK; m++)
                  S2[i][j] += M[i][m] * S[m][j];
              }
          memcpy (S, S2, sizeof S);
          /* o = Sᵀ q */
          for (int j = 0; j < GV; j++)
            {
              double acc = 0;

              for (int i = 0; i < GK; i++)
                acc += S[i][j] * qq[i];
              eo[bt * GV + j] = (float) acc;
            }
        }
      for (int i = 0; i < GK; i++)
        for (int j = 0; j < GV; j++)
          es[(bh * GK + i) * GV + j] = (float) S[i][j];
    }

  ane_graph_add_output (g, "o", o, &error);
  ane_graph_add_output (g, "state", state, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, NULL, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), eo, G_N_ELEMENTS (eo), 1e-5, 1e-6);
  ane_test_assert_close (g_ptr_array_index (out, 1), es, G_N_ELEMENTS (es), 1e-5, 1e-6);
}

static void
test_delta_fp16_and_optional_state (void)
{
  /* A float16 graph gives float16 outputs; final_state may be left out. */
  static const gint64 qs[] = { 1, 2, 3, 4 }, vs[] = { 1, 2, 3, 5 }, gs[] = { 1, 2, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) q = ane_test_input (g, "q", ANE_DTYPE_FLOAT16, qs, 4);
  g_autoptr(AneTensor) k = ane_test_input (g, "k", ANE_DTYPE_FLOAT16, qs, 4);
  g_autoptr(AneTensor) v = ane_test_input (g, "v", ANE_DTYPE_FLOAT16, vs, 4);
  g_autoptr(AneTensor) gg = ane_test_input (g, "g", ANE_DTYPE_FLOAT16, gs, 3);
  g_autoptr(AneTensor) beta = ane_test_input (g, "beta", ANE_DTYPE_FLOAT16, gs, 3);
  g_autoptr(AneTensor) o = ane_graph_gated_delta_net (g, q, k, v, gg, beta, NULL, 0, TRUE, NULL, &error);

  g_assert_no_error (error);
  ane_test_assert_shape (o, vs, 4);
  g_assert_cmpint (ane_tensor_get_dtype (o), ==, ANE_DTYPE_FLOAT16);
}

static void
test_delta_errors (void)
{
  static const gint64 qs[] = { 1, 2, 3, 4 }, vs[] = { 1, 2, 3, 5 }, gs[] = { 1, 2, 3 };
  static const gint64 ss[] = { 1, 2, 4, 5 }, q3[] = { 2, 3, 4 }, qbad[] = { 1, 2, 3, 6 };
  static const gint64 vbad[] = { 1, 2, 4, 5 }, gbad[] = { 1, 2, 4 }, sbad[] = { 1, 2, 5, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) q = ane_test_input (g, "q", ANE_DTYPE_FLOAT32, qs, 4);
  g_autoptr(AneTensor) qi = ane_test_input (g, "qi", ANE_DTYPE_INT32, qs, 4);
  g_autoptr(AneTensor) qr3 = ane_test_input (g, "qr3", ANE_DTYPE_FLOAT32, q3, 3);
  g_autoptr(AneTensor) k = ane_test_input (g, "k", ANE_DTYPE_FLOAT32, qs, 4);
  g_autoptr(AneTensor) k_bad = ane_test_input (g, "k_bad", ANE_DTYPE_FLOAT32, qbad, 4);
  g_autoptr(AneTensor) v = ane_test_input (g, "v", ANE_DTYPE_FLOAT32, vs, 4);
  g_autoptr(AneTensor) v16 = ane_test_input (g, "v16", ANE_DTYPE_FLOAT16, vs, 4);
  g_autoptr(AneTensor) v_bad = ane_test_input (g, "v_bad", ANE_DTYPE_FLOAT32, vbad, 4);
  g_autoptr(AneTensor) gg = ane_test_input (g, "g", ANE_DTYPE_FLOAT32, gs, 3);
  g_autoptr(AneTensor) g_bad = ane_test_input (g, "g_bad", ANE_DTYPE_FLOAT32, gbad, 3);
  g_autoptr(AneTensor) beta = ane_test_input (g, "beta", ANE_DTYPE_FLOAT32, gs, 3);
  g_autoptr(AneTensor) s0 = ane_test_input (g, "s0", ANE_DTYPE_FLOAT32, ss, 4);
  g_autoptr(AneTensor) s_bad = ane_test_input (g, "s_bad", ANE_DTYPE_FLOAT32, sbad, 4);
  g_autoptr(AneTensor) state = NULL;
  g_autoptr(AneTensor) ok = NULL;
  AneTensor *o;

  o = ane_graph_gated_delta_net (g, qi, k, v, gg, beta, NULL, 0, FALSE, NULL, &error);
  ane_test_assert_build_error (o, &error, ANE_ERROR_DTYPE, "gated_delta_net", "'q'", "int32[1,2,3,4]", NULL);
  o = ane_graph_gated_delta_net (g, qr3, k, v, gg, beta, NULL, 0, FALSE, NULL, &error);
  ane_test_assert_build_error (o, &error, ANE_ERROR_SHAPE, "gated_delta_net", "'q'", "float32[2,3,4]", NULL);
  o = ane_graph_gated_delta_net (g, q, k_bad, v, gg, beta, NULL, 0, FALSE, NULL, &error);
  ane_test_assert_build_error (o, &error, ANE_ERROR_SHAPE, "'k'", "float32[1,2,3,6]", "[1,2,3,4]", NULL);
  o = ane_graph_gated_delta_net (g, q, k, v16, gg, beta, NULL, 0, FALSE, NULL, &error);
  ane_test_assert_build_error (o, &error, ANE_ERROR_DTYPE, "'v'", "float16[1,2,3,5]", NULL);
  o = ane_graph_gated_delta_net (g, q, k, v_bad, gg, beta, NULL, 0, FALSE, NULL, &error);
  ane_test_assert_build_error (o, &error, ANE_ERROR_SHAPE, "'v'", "float32[1,2,4,5]", "[1,2,3,5]", NULL);
  o = ane_graph_gated_delta_net (g, q, k, v, g_bad, beta, NULL, 0, FALSE, NULL, &error);
  ane_test_assert_build_error (o, &error, ANE_ERROR_SHAPE, "'g'", "float32[1,2,4]", "[1,2,3]", NULL);
  o = ane_graph_gated_delta_net (g, q, k, v, gg, g_bad, NULL, 0, FALSE, NULL, &error);
  ane_test_assert_build_error (o, &error, ANE_ERROR_SHAPE, "'beta'", "float32[1,2,4]", NULL);
  o = ane_graph_gated_delta_net (g, q, k, v, gg, beta, s_bad, 0, FALSE, NULL, &error);
  ane_test_assert_build_error (o, &error, ANE_ERROR_SHAPE, "'initial_state'", "float32[1,2,5,4]", "[1,2,4,5]", NULL);
  o = ane_graph_gated_delta_net (g, q, k, v, gg, beta, NULL, NAN, FALSE, &state, &error);
  ane_test_assert_build_error (o, &error, ANE_ERROR_INVALID_ARGUMENT, "gated_delta_net", "scale", NULL);
  g_assert_null (state);

  ok = ane_graph_gated_delta_net (g, q, k, v, gg, beta, s0, 0, FALSE, &state, &error);
  g_assert_no_error (error);
  ane_test_assert_shape (ok, vs, 4);
  ane_test_assert_shape (state, ss, 4);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (scan_hand_cases); i++)
    g_test_add_data_func (scan_hand_cases[i].path, &scan_hand_cases[i], test_scan_hand);
  for (guint i = 0; i < G_N_ELEMENTS (scan_cases); i++)
    g_test_add_data_func (scan_cases[i].path, &scan_cases[i], test_scan_naive);
  g_test_add_func ("/ane/ops/ssm/selective_scan/errors", test_scan_errors);

  for (guint i = 0; i < G_N_ELEMENTS (delta_hand_cases); i++)
    g_test_add_data_func (delta_hand_cases[i].path, &delta_hand_cases[i], test_delta_hand);
  for (guint i = 0; i < G_N_ELEMENTS (delta_cases); i++)
    g_test_add_data_func (delta_cases[i].path, &delta_cases[i], test_delta_naive);
  g_test_add_func ("/ane/ops/ssm/gated_delta_net/fp16", test_delta_fp16_and_optional_state);
  g_test_add_func ("/ane/ops/ssm/gated_delta_net/errors", test_delta_errors);
  return g_test_run ();
}
