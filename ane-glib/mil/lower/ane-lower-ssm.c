/* mil/lower/ane-lower-ssm.c: selective_scan (Mamba) and gated_delta_net
 *
 * MIL has no scan op (its while_loop needs nested blocks and dynamic slicing,
 * which the Core ML backends run poorly), so both recurrences are unrolled
 * over their static sequence length into plain elementwise ops, matmul,
 * slice_by_index and concat. A program grows linearly with the length, so
 * lowering refuses sequences longer than ANE_LOWER_MAX_SCAN_STEPS.
 *
 * selective_scan (u, delta [B,D,L], A [D,N], B, C [B,N,L], D [D], z [B,D,L],
 * delta_bias [D]):
 *   δ   = delta (+ delta_bias as [D,1]); softplus(δ) if delta_softplus
 *   dA  = exp(δ as [B,D,L,1] · A as [1,D,1,N])                [B,D,L,N]
 *   dBu = (δ·u) as [B,D,L,1] · Bᵀ as [B,1,L,N]                [B,D,L,N]
 *   h_0 = dBu[:,:,0:1]           (the IR's h_{-1} is 0: exp(δA)·0 is skipped)
 *   h_t = dA[:,:,t:t+1] · h_{t-1} + dBu[:,:,t:t+1]             [B,D,1,N]
 *   y   = reduce_sum(concat(h_0..h_{L-1}, axis 2) · Cᵀ as [B,1,L,N], axis 3)
 *   y  += D as [D,1] · u;  y ·= silu(z)
 * Per step and element that is the IR kernel's arithmetic in its order:
 * exp(δ·A)·h + (δ·B)·u is computed as exp(δ·A)·h + (δ·u)·B, one rounding of
 * difference per product in fp arithmetic.
 *
 * gated_delta_net (q, k [B,H,T,K], v [B,H,T,V], g, beta [B,H,T],
 * initial_state [B,H,K,V]): optional L2 normalization of q and k over K,
 * q ·= scale, then per step t with slices q_t, k_t [B,H,1,K], v_t [B,H,1,V],
 * exp(g)_t, β_t [B,H,1,1]:
 *   S  = S · exp(g)_t
 *   v' = (v_t − matmul(k_t, S)) · β_t          (matmul(k_t, S) = Sᵀk_t, [B,H,1,V])
 *   S  = S + k_tᵀ · v'                          (outer product by broadcasting)
 *   o_t = matmul(q_t, S)                        (Sᵀq_t)
 * o = concat(o_t, axis 2); the final state is the last S. Without an initial
 * state, S starts at 0 and the first step reduces to S = k_0ᵀ · (v_0 · β_0).
 *
 * fp16: see docs/lowering-vision.md (the L2 norm is computed on x / max|x| so
 * the sum of squares can neither overflow nor underflow).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mil/lower/ane-lower-private.h"

/* The longest sequence the scans unroll: each step costs a handful of MIL
 * ops (4 for selective_scan, 13 for gated_delta_net). */
#define ANE_LOWER_MAX_SCAN_STEPS 4096

/* --- helpers ------------------------------------------------------------ */

/* reduce_sum / reduce_max over one axis */
static const char *
reduce (AneLowerNames *w,
        const char    *type,
        const char    *x,
        gint64         axis,
        gboolean       keep_dims,
        const gint64  *shape,
        guint          rank,
        const char    *suffix)
{
  /* last argument first (ane-lower-private.h, order of emission) */
  const char *keep_c = ane_mil_const_bool (w->ctx->b, ane_lower_names_param (w, suffix, "keep_dims"),
                                           keep_dims);
  const char *axes_c = ane_mil_const_ints (w->ctx->b, ane_lower_names_param (w, suffix, "axes"), &axis, 1);

  return ane_mil_op (w->ctx->b, type, ane_lower_names_hint (w, suffix), w->ctx->compute, shape, rank,
                     "x", x, "axes", axes_c, "keep_dims", keep_c, NULL);
}

/* The step slices of a sequence: rank-4 tensors sliced along one axis, one
 * element at a time. begin/end consts are made once per (step, extent) and
 * shared by every slice that uses them. */
typedef struct {
  AneLowerNames *w;
  guint          axis;
  const char    *begin;       /* of the current step */
  GHashTable    *ends;        /* extents key -> end const of the current step */
  guint          step;
} Stepper;

static void
stepper_init (Stepper       *st,
              AneLowerNames *w,
              guint          axis)
{
  st->w = w;
  st->axis = axis;
  st->begin = NULL;
  st->ends = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  st->step = 0;
}

static void
stepper_clear (Stepper *st)
{
  g_hash_table_unref (st->ends);
}

static void
stepper_set (Stepper *st,
             guint    t)
{
  gint64 b[4] = { 0, 0, 0, 0 };
  g_autofree char *h = g_strdup_printf ("t%u_begin", t);

  b[st->axis] = t;
  st->step = t;
  st->begin = ane_lower_const_ints (st->w, h, b, 4);
  g_hash_table_remove_all (st->ends);
}

/* x [.., n, ..] (shape, 4-D) -> x[.., t:t+1, ..] */
static const char *
stepper_slice (Stepper      *st,
               const char   *x,
               const gint64 *shape,
               const char   *suffix)
{
  gint64 e[4], out[4];
  g_autofree char *key = NULL;
  g_autofree char *h = g_strdup_printf ("%s_t%u", suffix, st->step);
  const char *end;

  memcpy (e, shape, sizeof e);
  e[st->axis] = st->step + 1;
  memcpy (out, shape, sizeof out);
  out[st->axis] = 1;
  key = g_strdup_printf ("%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT,
                         e[0], e[1], e[2], e[3]);
  end = g_hash_table_lookup (st->ends, key);
  if (end == NULL)
    {
      g_autofree char *he = g_strdup_printf ("t%u_end", st->step);

      end = ane_lower_const_ints (st->w, he, e, 4);
      g_hash_table_insert (st->ends, g_steal_pointer (&key), (gpointer) end);
    }
  return ane_mil_op (st->w->ctx->b, "slice_by_index", ane_lower_names_hint (st->w, h), st->w->ctx->compute,
                     out, 4, "x", x, "begin", st->begin, "end", end, NULL);
}

/* concat of n values along axis (one value: itself). */
static const char *
concat (AneLowerNames *w,
        const char   **values,
        guint          n,
        gint64         axis,
        const gint64  *shape,
        guint          rank,
        const char    *suffix)
{
  AneMilOpCall *call;
  const char *out;

  if (n == 1)
    return values[0];
  call = ane_mil_op_begin (w->ctx->b, "concat", ane_lower_names_hint (w, suffix));
  ane_mil_op_args (call, "values", values, n);
  ane_mil_op_arg (call, "axis", ane_lower_const_int (w, "concat_axis", axis));
  ane_mil_op_arg (call, "interleave", ane_lower_const_bool (w, "concat_interleave", FALSE));
  out = ane_mil_op_output (call, w->ctx->compute, shape, rank);
  ane_mil_op_end (call);
  return out;
}

static gboolean
check_steps (AneLowerCtx *ctx,
             const char  *what,
             gint64       n,
             GError     **error)
{
  if (n < 1)
    return ane_lower_unsupported (ctx, error, "an empty %s (0 steps) cannot be unrolled", what);
  if (n > ANE_LOWER_MAX_SCAN_STEPS)
    return ane_lower_unsupported (ctx, error,
                                  "%s %s = %" G_GINT64_FORMAT " exceeds the unroll limit of %d steps "
                                  "(MIL has no scan op; the recurrence is unrolled step by step)",
                                  ctx->node->op->name, what, n, ANE_LOWER_MAX_SCAN_STEPS);
  return TRUE;
}

/* --- selective_scan ------------------------------------------------------- */

enum { SS_U, SS_DELTA, SS_A, SS_B, SS_C, SS_D, SS_Z, SS_DELTA_BIAS };

gboolean
ane_lower_selective_scan (AneLowerCtx *ctx,
                          GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  const AneSpec *us = ctx->in_spec[SS_U], *as = ctx->in_spec[SS_A];
  gint64 nb = us->shape[0], nd = us->shape[1], nl = us->shape[2], nn = as->shape[1];
  const gint64 bdl[3] = { nb, nd, nl }, bdl1[4] = { nb, nd, nl, 1 }, bdln[4] = { nb, nd, nl, nn };
  const gint64 d1[2] = { nd, 1 }, a4[4] = { 1, nd, 1, nn }, bln[3] = { nb, nl, nn };
  const gint64 b1ln[4] = { nb, 1, nl, nn }, bd1n[4] = { nb, nd, 1, nn };
  static const gint64 perm_nl[3] = { 0, 2, 1 };
  gboolean last_is_gate = ctx->in[SS_Z] != NULL, last_is_skip = !last_is_gate && ctx->in[SS_D] != NULL;
  g_autofree const char **hs = NULL;
  const char *delta, *dA, *dBu, *Ct, *h, *y;
  AneLowerNames w;
  Stepper st;

  if (!check_steps (ctx, "L", nl, error))
    return FALSE;
  ane_lower_names_init (&w, ctx);
  w.result_stem = "out";

  /* δ */
  delta = ctx->in[SS_DELTA];
  if (ctx->in[SS_DELTA_BIAS] != NULL)
    {
      const char *bias = ane_lower_emit_reshape (&w, "delta_bias_col", ctx->compute, d1, 2,
                                                 ctx->in[SS_DELTA_BIAS]);

      delta = ane_lower_emit_binary (&w, "add", "delta_biased", ctx->compute, bdl, 3, delta, bias);
    }
  if (ane_attrs_bool (ctx->node->attrs, "delta_softplus"))
    delta = ane_lower_emit_unary (&w, "softplus", "delta_softplus", ctx->compute, bdl, 3, delta);

  /* dA = exp(δ ⊗ A), dBu = (δ·u) ⊗ B, Cᵀ */
  {
    const char *du = ane_lower_emit_binary (&w, "mul", "delta_u", ctx->compute, bdl, 3, delta, ctx->in[SS_U]);
    const char *bt = ane_lower_emit_transpose (&w, "b_t", ctx->compute, bln, 3, ctx->in[SS_B], perm_nl);
    const char *ct = ane_lower_emit_transpose (&w, "c_t", ctx->compute, bln, 3, ctx->in[SS_C], perm_nl);

    dA = NULL;
    if (nl > 1)   /* the first step does not decay (h_{-1} = 0) */
      {
        const char *d4 = ane_lower_emit_reshape (&w, "delta_4d", ctx->compute, bdl1, 4, delta);
        const char *a = ane_lower_emit_reshape (&w, "a_4d", ctx->compute, a4, 4, ctx->in[SS_A]);

        dA = ane_lower_emit_binary (&w, "mul", "delta_a", ctx->compute, bdln, 4, d4, a);
        dA = ane_lower_emit_unary (&w, "exp", "da", ctx->compute, bdln, 4, dA);
      }
    du = ane_lower_emit_reshape (&w, "delta_u_4d", ctx->compute, bdl1, 4, du);
    bt = ane_lower_emit_reshape (&w, "b_4d", ctx->compute, b1ln, 4, bt);
    dBu = ane_lower_emit_binary (&w, "mul", "dbu", ctx->compute, bdln, 4, du, bt);
    Ct = ane_lower_emit_reshape (&w, "c_4d", ctx->compute, b1ln, 4, ct);
  }

  /* the recurrence, one step per position */
  hs = g_new0 (const char *, nl);
  stepper_init (&st, &w, 2);
  h = NULL;
  for (guint t = 0; t < nl; t++)
    {
      g_autofree char *hm = g_strdup_printf ("h_decay_t%u", t);
      g_autofree char *hh = g_strdup_printf ("h_t%u", t);
      const char *dbu_t;

      stepper_set (&st, t);
      dbu_t = stepper_slice (&st, dBu, bdln, "dbu");
      if (h == NULL)
        h = dbu_t;     /* h_{-1} = 0 */
      else
        {
          const char *da_t = stepper_slice (&st, dA, bdln, "da");

          h = ane_lower_emit_binary (&w, "mul", hm, ctx->compute, bd1n, 4, da_t, h);
          h = ane_lower_emit_binary (&w, "add", hh, ctx->compute, bd1n, 4, h, dbu_t);
        }
      hs[t] = h;
    }
  stepper_clear (&st);

  /* y = Σ_n C·h, + D·u, · silu(z) */
  {
    const char *all = concat (&w, hs, nl, 2, bdln, 4, "h_all");

    y = ane_lower_emit_binary (&w, "mul", "h_c", ctx->compute, bdln, 4, all, Ct);
    y = reduce (&w, "reduce_sum", y, 3, FALSE, bdl, 3, last_is_gate || last_is_skip ? "y_scan" : NULL);
  }
  if (ctx->in[SS_D] != NULL)
    {
      const char *dcol = ane_lower_emit_reshape (&w, "d_col", ctx->compute, d1, 2, ctx->in[SS_D]);
      const char *du = ane_lower_emit_binary (&w, "mul", "d_u", ctx->compute, bdl, 3, dcol, ctx->in[SS_U]);

      y = ane_lower_emit_binary (&w, "add", last_is_gate ? "y_skip" : NULL, ctx->compute, bdl, 3, y, du);
    }
  if (ctx->in[SS_Z] != NULL)
    {
      const char *gate = ane_lower_emit_unary (&w, "silu", "z_silu", ctx->compute, bdl, 3, ctx->in[SS_Z]);

      y = ane_lower_emit_binary (&w, "mul", NULL, ctx->compute, out->shape, out->rank, y, gate);
    }
  ctx->out[0] = y;
  ane_lower_names_clear (&w);
  return TRUE;
}

/* --- gated_delta_net ------------------------------------------------------ */

enum { GD_Q, GD_K, GD_V, GD_G, GD_BETA, GD_INITIAL_STATE };

/* x / sqrt(Σ x² + 1e-6) over the last axis of x [B,H,T,K] (fla's in-kernel
 * q/k normalization). In fp16 Σx² overflows 65504 once |x| reaches about
 * 256/√K, and x² underflows below 2^-12, so there x is first divided by its
 * row's m = max(max|x|, 2^-14):
 *   x / sqrt(Σx² + ε) = (x/m) / sqrt(Σ(x/m)² + ε/m²)    (exactly, any m > 0)
 * with |x/m| <= 1, so 1 <= Σ(x/m)² <= K (or 0 for a zero row). ε/m² is
 * computed as (√ε/m)² = (1e-3/m)²: <= 268, and precise (ε itself, 1e-6, is an
 * fp16 subnormal 1.3 % off; 1e-3 is a normal number); where it underflows
 * (large m) it is negligible next to Σ(x/m)² >= 1. */
static const char *
l2_normalize (AneLowerNames *w,
              const char    *x,
              const gint64  *shape,
              const char    *name)
{
  const gint64 row[4] = { shape[0], shape[1], shape[2], 1 };
  g_autofree char *h_sq = g_strconcat (name, "_sq", NULL);
  g_autofree char *h_ss = g_strconcat (name, "_sumsq", NULL);
  g_autofree char *h_se = g_strconcat (name, "_sumsq_eps", NULL);
  g_autofree char *h_n = g_strconcat (name, "_norm", NULL);
  g_autofree char *h_out = g_strconcat (name, "_l2", NULL);
  g_autofree char *h_eps = g_strconcat (name, "_eps", NULL);
  const char *eps, *v = x, *ss;

  if (w->ctx->compute == ANE_DTYPE_FLOAT16)
    {
      g_autofree char *h_abs = g_strconcat (name, "_abs", NULL);
      g_autofree char *h_max = g_strconcat (name, "_absmax", NULL);
      g_autofree char *h_m = g_strconcat (name, "_m", NULL);
      g_autofree char *h_floor = g_strconcat (name, "_m_floor", NULL);
      g_autofree char *h_sc = g_strconcat (name, "_scaled", NULL);
      g_autofree char *h_se1 = g_strconcat (name, "_sqrt_eps", NULL);
      g_autofree char *h_e1 = g_strconcat (name, "_sqrt_eps_m", NULL);
      g_autofree char *h_e2 = g_strconcat (name, "_eps_m2", NULL);
      const char *m;

      m = ane_lower_emit_unary (w, "abs", h_abs, w->ctx->compute, shape, 4, x);
      m = reduce (w, "reduce_max", m, 3, TRUE, row, 4, h_max);
      m = ane_lower_emit_binary (w, "maximum", h_m, w->ctx->compute, row, 4, m,
                                 ane_lower_const_float (w, h_floor, w->ctx->compute, 1.0 / 16384.0));
      v = ane_lower_emit_binary (w, "real_div", h_sc, w->ctx->compute, shape, 4, x, m);
      eps = ane_lower_emit_binary (w, "real_div", h_e1, w->ctx->compute, row, 4,
                                   ane_lower_const_float (w, h_se1, w->ctx->compute, 1e-3), m);
      eps = ane_lower_emit_binary (w, "mul", h_e2, w->ctx->compute, row, 4, eps, eps);
    }
  else
    eps = ane_lower_const_float (w, h_eps, w->ctx->compute, 1e-6);
  ss = ane_lower_emit_binary (w, "mul", h_sq, w->ctx->compute, shape, 4, v, v);
  ss = reduce (w, "reduce_sum", ss, 3, TRUE, row, 4, h_ss);
  ss = ane_lower_emit_binary (w, "add", h_se, w->ctx->compute, row, 4, ss, eps);
  ss = ane_lower_emit_unary (w, "sqrt", h_n, w->ctx->compute, row, 4, ss);
  return ane_lower_emit_binary (w, "real_div", h_out, w->ctx->compute, shape, 4, v, ss);
}

gboolean
ane_lower_gated_delta_net (AneLowerCtx *ctx,
                           GError     **error)
{
  const AneSpec *qs = ctx->in_spec[GD_Q], *vs = ctx->in_spec[GD_V];
  gint64 nb = qs->shape[0], nh = qs->shape[1], nt = qs->shape[2], nk = qs->shape[3], nv = vs->shape[3];
  const gint64 bhtk[4] = { nb, nh, nt, nk }, bhtv[4] = { nb, nh, nt, nv }, bht[3] = { nb, nh, nt };
  const gint64 bht1[4] = { nb, nh, nt, 1 }, bhkv[4] = { nb, nh, nk, nv };
  const gint64 bh1v[4] = { nb, nh, 1, nv }, bhk1[4] = { nb, nh, nk, 1 };
  double scale = ane_attrs_double (ctx->node->attrs, "scale");
  g_autofree const char **os = NULL;
  const char *q = ctx->in[GD_Q], *k = ctx->in[GD_K], *decay, *beta, *S, *kcol_shape;
  AneLowerNames w;
  Stepper st;

  if (!check_steps (ctx, "T", nt, error))
    return FALSE;
  ane_lower_names_init (&w, ctx);
  w.result_stem = "out";
  if (scale == 0.0)
    scale = 1.0 / sqrt ((double) nk);

  if (ane_attrs_bool (ctx->node->attrs, "qk_l2norm"))
    {
      q = l2_normalize (&w, q, bhtk, "q");
      k = l2_normalize (&w, k, bhtk, "k");
    }
  q = ane_lower_emit_binary (&w, "mul", "q_scaled", ctx->compute, bhtk, 4, q,
                             ane_lower_const_float (&w, "scale", ctx->compute, scale));
  decay = NULL;
  if (ctx->in[GD_INITIAL_STATE] != NULL || nt > 1)   /* S = 0 needs no decay */
    {
      decay = ane_lower_emit_unary (&w, "exp", "decay", ctx->compute, bht, 3, ctx->in[GD_G]);
      decay = ane_lower_emit_reshape (&w, "decay_4d", ctx->compute, bht1, 4, decay);
    }
  beta = ane_lower_emit_reshape (&w, "beta_4d", ctx->compute, bht1, 4, ctx->in[GD_BETA]);
  kcol_shape = ane_lower_const_ints (&w, "k_col_shape", bhk1, 4);

  os = g_new0 (const char *, nt);
  S = ctx->in[GD_INITIAL_STATE];
  stepper_init (&st, &w, 2);
  for (guint t = 0; t < nt; t++)
    {
      const char *q_t, *k_t, *v_t, *b_t, *kcol, *vp;
      g_autofree char *h_kc = NULL, *h_dec = NULL, *h_pred = NULL, *h_err = NULL, *h_vp = NULL;
      g_autofree char *h_upd = NULL, *h_s = NULL, *h_o = NULL;

      h_kc = g_strdup_printf ("k_col_t%u", t);
      h_dec = g_strdup_printf ("state_decayed_t%u", t);
      h_pred = g_strdup_printf ("pred_t%u", t);
      h_err = g_strdup_printf ("err_t%u", t);
      h_vp = g_strdup_printf ("v_new_t%u", t);
      h_upd = g_strdup_printf ("update_t%u", t);
      h_s = g_strdup_printf ("state_t%u", t);
      h_o = g_strdup_printf ("o_t%u", t);

      stepper_set (&st, t);
      k_t = stepper_slice (&st, k, bhtk, "k");
      v_t = stepper_slice (&st, ctx->in[GD_V], bhtv, "v");
      b_t = stepper_slice (&st, beta, bht1, "beta");
      kcol = ane_lower_emit_reshape_by (&w, h_kc, ctx->compute, bhk1, 4, k_t, kcol_shape);
      if (S == NULL)
        /* S = 0: no decay, no prediction */
        vp = ane_lower_emit_binary (&w, "mul", h_vp, ctx->compute, bh1v, 4, v_t, b_t);
      else
        {
          const char *dec_t = stepper_slice (&st, decay, bht1, "decay");
          const char *pred;

          S = ane_lower_emit_binary (&w, "mul", h_dec, ctx->compute, bhkv, 4, S, dec_t);
          pred = ane_lower_emit_binary (&w, "matmul", h_pred, ctx->compute, bh1v, 4, k_t, S);
          vp = ane_lower_emit_binary (&w, "sub", h_err, ctx->compute, bh1v, 4, v_t, pred);
          vp = ane_lower_emit_binary (&w, "mul", h_vp, ctx->compute, bh1v, 4, vp, b_t);
        }
      if (S == NULL)
        S = ane_lower_emit_binary (&w, "mul", h_s, ctx->compute, bhkv, 4, kcol, vp);
      else
        {
          const char *upd = ane_lower_emit_binary (&w, "mul", h_upd, ctx->compute, bhkv, 4, kcol, vp);

          S = ane_lower_emit_binary (&w, "add", h_s, ctx->compute, bhkv, 4, S, upd);
        }
      q_t = stepper_slice (&st, q, bhtk, "q");
      os[t] = ane_lower_emit_binary (&w, "matmul", nt == 1 ? NULL : h_o, ctx->compute, bh1v, 4, q_t, S);
    }
  stepper_clear (&st);

  ctx->out[0] = concat (&w, os, nt, 2, bhtv, 4, NULL);
  ctx->out[1] = S;
  ane_lower_names_clear (&w);
  return TRUE;
}
