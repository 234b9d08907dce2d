/* ops/ane-ops-ssm.c: state-space model scans (Mamba selective scan, gated delta rule)
 *
 * References for the semantics:
 * - selective_scan: `selective_scan_ref` in state-spaces/mamba,
 *   mamba_ssm/ops/selective_scan_interface.py (Gu & Dao, "Mamba: Linear-Time
 *   Sequence Modeling with Selective State Spaces", arXiv:2312.00752,
 *   Algorithm 2), for real A and input-dependent B, C of shape [B, N, L].
 *   delta_softplus is torch.nn.functional.softplus (threshold 20, as the CUDA
 *   kernel too).
 * - gated_delta_net: `naive_recurrent_gated_delta_rule` in
 *   fla-org/flash-linear-attention, fla/ops/gated_delta_rule/naive.py, with
 *   the optional q/k L2 normalization of fused_recurrent.py
 *   (`x / sqrt(sum(x²) + 1e-6)`, use_qk_l2norm_in_kernel) (Yang, Kautz &
 *   Hatamizadeh, "Gated Delta Networks", arXiv:2412.06464). Layout here is
 *   head-major [B, H, T, K] rather than fla's [B, T, H, K].
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ops/ane-ops.h"

/* Requires input @slot (if present) to have exactly @shape, and the dtype of
 * input 0. @layout names the dims for the message, e.g. "[B,D,L]". */
static gboolean
require_shape (AneInferCtx  *ctx,
               guint         slot,
               const gint64 *shape,
               guint         rank,
               const char   *layout,
               GError      **error)
{
  const AneSpec *s = ctx->inputs[slot];
  AneSpec want = { 0 };
  char bs[ANE_SPEC_STRLEN], bw[ANE_SPEC_STRLEN], b0[ANE_SPEC_STRLEN];

  if (s == NULL)
    return TRUE;
  if (!ane_infer_same_dtype (ctx, 0, slot, error))
    return FALSE;
  want.dtype = s->dtype;
  ane_spec_set_shape (&want, shape, rank);
  if (ane_spec_equal (s, &want))
    return TRUE;
  ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                   "input '%s' %s must have shape %s = %s (from input '%s' %s)",
                   ane_op_info_slot_name (ctx->op, slot), ane_spec_format (s, bs), layout,
                   ane_spec_format (&want, bw) + strlen (ane_dtype_to_string (want.dtype)),
                   ane_op_info_slot_name (ctx->op, 0), ane_spec_format (ctx->inputs[0], b0));
  return FALSE;
}

/* --- selective_scan ------------------------------------------------------- */

enum { SS_U, SS_DELTA, SS_A, SS_B, SS_C, SS_D, SS_Z, SS_DELTA_BIAS };

gboolean
ane_infer_selective_scan (AneInferCtx *ctx,
                          GError     **error)
{
  const AneSpec *u = ctx->inputs[SS_U], *a = ctx->inputs[SS_A];
  gint64 B, D, L, N;

  if (!ane_infer_require_float (ctx, SS_U, error) ||
      !ane_infer_require_rank (ctx, SS_U, 3, 3, error) ||
      !ane_infer_same_dtype (ctx, SS_U, SS_A, error) ||
      !ane_infer_require_rank (ctx, SS_A, 2, 2, error))
    return FALSE;
  B = u->shape[0];
  D = u->shape[1];
  L = u->shape[2];
  N = a->shape[1];
  {
    const gint64 bdl[] = { B, D, L }, dn[] = { D, N }, bnl[] = { B, N, L }, d1[] = { D };

    if (!require_shape (ctx, SS_DELTA, bdl, 3, "[B,D,L]", error) ||
        !require_shape (ctx, SS_A, dn, 2, "[D,N]", error) ||
        !require_shape (ctx, SS_B, bnl, 3, "[B,N,L]", error) ||
        !require_shape (ctx, SS_C, bnl, 3, "[B,N,L]", error) ||
        !require_shape (ctx, SS_D, d1, 1, "[D]", error) ||
        !require_shape (ctx, SS_Z, bdl, 3, "[B,D,L]", error) ||
        !require_shape (ctx, SS_DELTA_BIAS, d1, 1, "[D]", error))
      return FALSE;
  }
  ctx->outputs[0] = *u;
  return TRUE;
}

/* torch.nn.functional.softplus(x) with beta 1 and threshold 20: linear above
 * the threshold, as selective_scan_ref and the Mamba CUDA kernel. */
static double
softplus (double x)
{
  return x > 20.0 ? x : log1p (exp (x));
}

static double
silu (double x)
{
  return x / (1.0 + exp (-x));
}

gboolean
ane_ref_selective_scan (AneRefCtx *ctx,
                        GError   **error)
{
  const AneRefValue *u = ctx->inputs[SS_U], *delta = ctx->inputs[SS_DELTA];
  const AneRefValue *A = ctx->inputs[SS_A], *Bm = ctx->inputs[SS_B], *Cm = ctx->inputs[SS_C];
  const AneRefValue *Dv = ctx->inputs[SS_D], *z = ctx->inputs[SS_Z];
  const AneRefValue *bias = ctx->inputs[SS_DELTA_BIAS];
  gboolean use_softplus = ane_attrs_bool (ctx->attrs, "delta_softplus");
  AneRefValue *y = ctx->outputs[0];
  gint64 nb = u->shape[0], nd = u->shape[1], nl = u->shape[2], nn = A->shape[1];
  g_autofree double *h = g_new (double, MAX (nn, 1));

  for (gint64 b = 0; b < nb; b++)
    for (gint64 d = 0; d < nd; d++)
      {
        /* The state h[n] of channel d starts at zero for every sequence. */
        for (gint64 n = 0; n < nn; n++)
          h[n] = 0.0;
        for (gint64 t = 0; t < nl; t++)
          {
            gsize bdl = (b * nd + d) * nl + t;
            double dt = delta->v[bdl] + (bias ? bias->v[d] : 0.0);
            double uv = u->v[bdl], out = 0.0;

            if (use_softplus)
              dt = softplus (dt);
            for (gint64 n = 0; n < nn; n++)
              {
                gsize bnl = (b * nn + n) * nl + t;

                /* h_t = exp(δ·A)·h_{t−1} + δ·B_t·u_t;  y_t = Σ_n C_t·h_t */
                h[n] = exp (dt * A->v[d * nn + n]) * h[n] + dt * Bm->v[bnl] * uv;
                out += Cm->v[bnl] * h[n];
              }
            if (Dv != NULL)
              out += Dv->v[d] * uv;
            if (z != NULL)
              out *= silu (z->v[bdl]);
            y->v[bdl] = out;
          }
      }
  return TRUE;
}

/* --- gated_delta_net ------------------------------------------------------ */

enum { GD_Q, GD_K, GD_V, GD_G, GD_BETA, GD_INITIAL_STATE };

gboolean
ane_infer_gated_delta_net (AneInferCtx *ctx,
                           GError     **error)
{
  const AneSpec *q = ctx->inputs[GD_Q], *v = ctx->inputs[GD_V];
  double scale = ane_attrs_double (ctx->attrs, "scale");
  gint64 B, H, T, K, V;

  if (!ane_infer_require_float (ctx, GD_Q, error) ||
      !ane_infer_require_rank (ctx, GD_Q, 4, 4, error) ||
      !ane_infer_same_dtype (ctx, GD_Q, GD_V, error) ||
      !ane_infer_require_rank (ctx, GD_V, 4, 4, error))
    return FALSE;
  if (!isfinite (scale))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT, "scale must be finite, got %g", scale);
      return FALSE;
    }
  B = q->shape[0];
  H = q->shape[1];
  T = q->shape[2];
  K = q->shape[3];
  V = v->shape[3];
  {
    const gint64 bhtk[] = { B, H, T, K }, bhtv[] = { B, H, T, V }, bht[] = { B, H, T };
    const gint64 bhkv[] = { B, H, K, V };

    if (!require_shape (ctx, GD_K, bhtk, 4, "[B,H,T,K]", error) ||
        !require_shape (ctx, GD_V, bhtv, 4, "[B,H,T,V]", error) ||
        !require_shape (ctx, GD_G, bht, 3, "[B,H,T]", error) ||
        !require_shape (ctx, GD_BETA, bht, 3, "[B,H,T]", error) ||
        !require_shape (ctx, GD_INITIAL_STATE, bhkv, 4, "[B,H,K,V]", error))
      return FALSE;
    ctx->outputs[0] = *v;
    ctx->outputs[1] = *v;
    ane_spec_set_shape (&ctx->outputs[1], bhkv, 4);
  }
  return TRUE;
}

/* x / sqrt(Σ x² + 1e-6) over n values, fla's in-kernel q/k normalization. */
static void
l2_normalize (double *x,
              gint64  n)
{
  double ss = 0.0;

  for (gint64 i = 0; i < n; i++)
    ss += x[i] * x[i];
  ss = sqrt (ss + 1e-6);
  for (gint64 i = 0; i < n; i++)
    x[i] /= ss;
}

gboolean
ane_ref_gated_delta_net (AneRefCtx *ctx,
                         GError   **error)
{
  const AneRefValue *q = ctx->inputs[GD_Q], *k = ctx->inputs[GD_K], *v = ctx->inputs[GD_V];
  const AneRefValue *g = ctx->inputs[GD_G], *beta = ctx->inputs[GD_BETA];
  const AneRefValue *s0 = ctx->inputs[GD_INITIAL_STATE];
  AneRefValue *o = ctx->outputs[0], *s_out = ctx->outputs[1];
  gint64 nb = q->shape[0], nh = q->shape[1], nt = q->shape[2], nk = q->shape[3], nv = v->shape[3];
  double scale = ane_attrs_double (ctx->attrs, "scale");
  gboolean l2norm = ane_attrs_bool (ctx->attrs, "qk_l2norm");
  g_autofree double *qt = g_new (double, MAX (nk, 1));
  g_autofree double *kt = g_new (double, MAX (nk, 1));
  g_autofree double *delta = g_new (double, MAX (nv, 1));

  if (scale == 0.0)
    scale = 1.0 / sqrt ((double) nk);

  for (gint64 bh = 0; bh < nb * nh; bh++)
    {
      /* S [K, V] is this (batch, head)'s state, kept in the output buffer. */
      double *S = s_out->v + bh * nk * nv;

      if (s0 != NULL)
        memcpy (S, s0->v + bh * nk * nv, nk * nv * sizeof (double));
      for (gint64 t = 0; t < nt; t++)
        {
          gsize bht = bh * nt + t;
          double decay = exp (g->v[bht]), b = beta->v[bht];

          memcpy (qt, q->v + bht * nk, nk * sizeof (double));
          memcpy (kt, k->v + bht * nk, nk * sizeof (double));
          if (l2norm)
            {
              l2_normalize (qt, nk);
              l2_normalize (kt, nk);
            }
          for (gint64 i = 0; i < nk; i++)
            qt[i] *= scale;

          /* S = S·exp(g_t) */
          for (gint64 i = 0; i < nk * nv; i++)
            S[i] *= decay;
          /* v' = (v_t − Sᵀk_t)·β_t */
          for (gint64 j = 0; j < nv; j++)
            {
              double pred = 0.0;

              for (gint64 i = 0; i < nk; i++)
                pred += S[i * nv + j] * kt[i];
              delta[j] = (v->v[bht * nv + j] - pred) * b;
            }
          /* S += k_t ⊗ v';  o_t = Sᵀq_t */
          for (gint64 i = 0; i < nk; i++)
            for (gint64 j = 0; j < nv; j++)
              S[i * nv + j] += kt[i] * delta[j];
          for (gint64 j = 0; j < nv; j++)
            {
              double acc = 0.0;

              for (gint64 i = 0; i < nk; i++)
                acc += S[i * nv + j] * qt[i];
              o->v[bht * nv + j] = acc;
            }
        }
    }
  return TRUE;
}

/* --- builder methods -------------------------------------------------------- */

/**
 * ane_graph_selective_scan:
 * @self: a graph
 * @u: the input `[B, D, L]`, float
 * @delta: the step sizes `[B, D, L]`, dtype of @u
 * @a: the state matrix `[D, N]` (real; usually negative)
 * @b: the input-dependent input projection `[B, N, L]`
 * @c: the input-dependent output projection `[B, N, L]`
 * @d: (nullable): the skip connection `[D]`
 * @z: (nullable): the gate `[B, D, L]`
 * @delta_bias: (nullable): added to @delta, `[D]`
 * @delta_softplus: apply softplus to the (biased) step sizes
 * @error: return location for a #GError
 *
 * The Mamba S6 selective scan, as `selective_scan_ref` of state-spaces/mamba:
 * δ = softplus(delta + delta_bias) (softplus only if @delta_softplus), then
 * for each (batch, channel) a state h of N values runs over L steps:
 * `h_t = exp(δ_t·A)·h_{t−1} + δ_t·B_t·u_t`, `y_t = C_t·h_t`; finally
 * `y += D·u` and `y *= silu(z)` when given. All operands share @u's dtype.
 *
 * Returns: (transfer full): y `[B, D, L]`
 */
AneTensor *
ane_graph_selective_scan (AneGraph   *self,
                          AneTensor  *u,
                          AneTensor  *delta,
                          AneTensor  *a,
                          AneTensor  *b,
                          AneTensor  *c,
                          AneTensor  *d,
                          AneTensor  *z,
                          AneTensor  *delta_bias,
                          gboolean    delta_softplus,
                          GError    **error)
{
  AneTensor *inputs[8] = { u, delta, a, b, c, d, z, delta_bias };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (u) && ANE_IS_TENSOR (delta) && ANE_IS_TENSOR (a), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (b) && ANE_IS_TENSOR (c), NULL);
  g_return_val_if_fail (d == NULL || ANE_IS_TENSOR (d), NULL);
  g_return_val_if_fail (z == NULL || ANE_IS_TENSOR (z), NULL);
  g_return_val_if_fail (delta_bias == NULL || ANE_IS_TENSOR (delta_bias), NULL);

  return ane_graph_add_node (self, ANE_OP_SELECTIVE_SCAN, inputs, 8,
                             ane_attrs_new ("delta_softplus", g_variant_new_boolean (delta_softplus),
                                            NULL),
                             NULL, error);
}

/**
 * ane_graph_gated_delta_net:
 * @self: a graph
 * @q: queries `[B, H, T, K]`, float
 * @k: keys `[B, H, T, K]`, dtype of @q
 * @v: values `[B, H, T, V]`, dtype of @q
 * @g: log decays `[B, H, T]`
 * @beta: update strengths `[B, H, T]`
 * @initial_state: (nullable): the state `[B, H, K, V]` before the first step;
 *   zeros when %NULL
 * @scale: query scale; 0 means `1/sqrt(K)`
 * @qk_l2norm: L2-normalize q and k over K first (`x / sqrt(Σx² + 1e-6)`)
 * @final_state: (out) (optional) (transfer full): the state `[B, H, K, V]`
 *   after the last step
 * @error: return location for a #GError
 *
 * The gated delta rule, as `naive_recurrent_gated_delta_rule` of
 * flash-linear-attention: q is scaled by @scale, then per head and step
 * `S = S·exp(g_t)`, `v' = (v_t − Sᵀk_t)·β_t`, `S += k_t ⊗ v'`, `o_t = Sᵀq_t`.
 *
 * Returns: (transfer full): o `[B, H, T, V]`
 */
AneTensor *
ane_graph_gated_delta_net (AneGraph   *self,
                           AneTensor  *q,
                           AneTensor  *k,
                           AneTensor  *v,
                           AneTensor  *g,
                           AneTensor  *beta,
                           AneTensor  *initial_state,
                           double      scale,
                           gboolean    qk_l2norm,
                           AneTensor **final_state,
                           GError    **error)
{
  AneTensor *inputs[6] = { q, k, v, g, beta, initial_state };
  g_autoptr(GPtrArray) outputs = NULL;
  AneTensor *o;

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (q) && ANE_IS_TENSOR (k) && ANE_IS_TENSOR (v), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (g) && ANE_IS_TENSOR (beta), NULL);
  g_return_val_if_fail (initial_state == NULL || ANE_IS_TENSOR (initial_state), NULL);

  o = ane_graph_add_node (self, ANE_OP_GATED_DELTA_NET, inputs, 6,
                          ane_attrs_new ("scale", g_variant_new_double (scale),
                                         "qk_l2norm", g_variant_new_boolean (qk_l2norm),
                                         NULL),
                          &outputs, error);
  if (o != NULL && final_state != NULL)
    *final_state = g_object_ref (g_ptr_array_index (outputs, 1));
  return o;
}
