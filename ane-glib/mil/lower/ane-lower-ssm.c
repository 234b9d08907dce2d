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

static char *
op_hint (AneLowerCtx *ctx,
         const char  *suffix)
{
  return suffix ? ane_lower_hint (ctx, suffix) : g_strdup (ctx->hint);
}

static const char *
c_ints (AneLowerCtx  *ctx,
        const char   *suffix,
        const gint64 *v,
        gsize         n)
{
  g_autofree char *h = ane_lower_hint (ctx, suffix);

  return ane_mil_const_ints (ctx->b, h, v, n);
}

static const char *
c_int (AneLowerCtx *ctx,
       const char  *suffix,
       gint64       v)
{
  g_autofree char *h = ane_lower_hint (ctx, suffix);

  return ane_mil_const_int (ctx->b, h, v);
}

static const char *
c_float (AneLowerCtx *ctx,
         const char  *suffix,
         double       v)
{
  g_autofree char *h = ane_lower_hint (ctx, suffix);

  return ane_mil_const_float (ctx->b, h, ctx->compute, v);
}

static const char *
c_bool (AneLowerCtx *ctx,
        const char  *suffix,
        gboolean     v)
{
  g_autofree char *h = ane_lower_hint (ctx, suffix);

  return ane_mil_const_bool (ctx->b, h, v);
}

static const char *
unary (AneLowerCtx  *ctx,
       const char   *type,
       const char   *suffix,
       const gint64 *shape,
       guint         rank,
       const char   *x)
{
  g_autofree char *h = op_hint (ctx, suffix);

  return ane_mil_op (ctx->b, type, h, ctx->compute, shape, rank, "x", x, NULL);
}

static const char *
binary (AneLowerCtx  *ctx,
        const char   *type,
        const char   *suffix,
        const gint64 *shape,
        guint         rank,
        const char   *x,
        const char   *y)
{
  g_autofree char *h = op_hint (ctx, suffix);

  return ane_mil_op (ctx->b, type, h, ctx->compute, shape, rank, "x", x, "y", y, NULL);
}

static const char *
matmul (AneLowerCtx  *ctx,
        const char   *suffix,
        const gint64 *shape,
        guint         rank,
        const char   *x,
        const char   *y)
{
  g_autofree char *h = op_hint (ctx, suffix);

  return ane_mil_op (ctx->b, "matmul", h, ctx->compute, shape, rank, "x", x, "y", y, NULL);
}

/* reshape; shape_const may be shared between calls (NULL: made here). */
static const char *
reshape (AneLowerCtx  *ctx,
         const char   *x,
         const gint64 *shape,
         guint         rank,
         const char   *shape_const,
         const char   *suffix)
{
  g_autofree char *h = op_hint (ctx, suffix);
  g_autofree char *hs = g_strconcat (suffix ? suffix : "out", "_shape", NULL);

  if (shape_const == NULL)
    shape_const = c_ints (ctx, hs, shape, rank);
  return ane_mil_op (ctx->b, "reshape", h, ctx->compute, shape, rank, "x", x, "shape", shape_const, NULL);
}

static const char *
transpose (AneLowerCtx  *ctx,
           const char   *x,
           const gint64 *shape,
           guint         rank,
           const gint64 *perm,
           const char   *suffix)
{
  g_autofree char *h = op_hint (ctx, suffix);
  g_autofree char *hp = g_strconcat (suffix, "_perm", NULL);

  return ane_mil_op (ctx->b, "transpose", h, ctx->compute, shape, rank,
                     "x", x, "perm", c_ints (ctx, hp, perm, rank), NULL);
}

/* reduce_sum / reduce_max over one axis */
static const char *
reduce (AneLowerCtx  *ctx,
        const char   *type,
        const char   *x,
        gint64        axis,
        gboolean      keep_dims,
        const gint64 *shape,
        guint         rank,
        const char   *suffix)
{
  g_autofree char *h = op_hint (ctx, suffix);
  g_autofree char *ha = g_strconcat (suffix ? suffix : "out", "_axes", NULL);
  g_autofree char *hk = g_strconcat (suffix ? suffix : "out", "_keep_dims", NULL);
  /* last argument first (ane-lower-private.h, order of emission) */
  const char *keep_c = c_bool (ctx, hk, keep_dims);
  const char *axes_c = c_ints (ctx, ha, &axis, 1);

  return ane_mil_op (ctx->b, type, h, ctx->compute, shape, rank, "x", x,
                     "axes", axes_c, "keep_dims", keep_c, NULL);
}

/* The step slices of a sequence: rank-4 tensors sliced along one axis, one
 * element at a time. begin/end consts are made once per (step, extent) and
 * shared by every slice that uses them. */
typedef struct {
  AneLowerCtx *ctx;
  guint        axis;
  const char  *begin;         /* of the current step */
  GHashTable  *ends;          /* extents key -> end const of the current step */
  guint        step;
} Stepper;

static void
stepper_init (Stepper     *st,
              AneLowerCtx *ctx,
              guint        axis)
{
  st->ctx = ctx;
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
  st->begin = c_ints (st->ctx, h, b, 4);
  g_hash_table_remove_all (st->ends);
}

/* x [.., n, ..] (shape, 4-D) -> x[.., t:t+1, ..] */
static const char *
stepper_slice (Stepper      *st,
               const char   *x,
               const gint64 *shape,
               const char   *suffix)
{
  AneLowerCtx *ctx = st->ctx;
  gint64 e[4], out[4];
  g_autofree char *key = NULL;
  g_autofree char *h = g_strdup_printf ("%s_t%u", suffix, st->step);
  g_autofree char *hh = ane_lower_hint (ctx, h);
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

      end = c_ints (ctx, he, e, 4);
      g_hash_table_insert (st->ends, g_steal_pointer (&key), (gpointer) end);
    }
  return ane_mil_op (ctx->b, "slice_by_index", hh, ctx->compute, out, 4,
                     "x", x, "begin", st->begin, "end", end, NULL);
}

/* concat of n values along axis (one value: itself). */
static const char *
concat (AneLowerCtx  *ctx,
        const char  **values,
        guint         n,
        gint64        axis,
        const gint64 *shape,
        guint         rank,
        const char   *suffix)
{
  g_autofree char *h = op_hint (ctx, suffix);
  AneMilOpCall *call;
  const char *out;

  if (n == 1)
    return values[0];
  call = ane_mil_op_begin (ctx->b, "concat", h);
  ane_mil_op_args (call, "values", values, n);
  ane_mil_op_arg (call, "axis", c_int (ctx, "concat_axis", axis));
  ane_mil_op_arg (call, "interleave", c_bool (ctx, "concat_interleave", FALSE));
  out = ane_mil_op_output (call, ctx->compute, shape, rank);
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
  Stepper st;

  if (!check_steps (ctx, "L", nl, error))
    return FALSE;

  /* δ */
  delta = ctx->in[SS_DELTA];
  if (ctx->in[SS_DELTA_BIAS] != NULL)
    {
      const char *bias = reshape (ctx, ctx->in[SS_DELTA_BIAS], d1, 2, NULL, "delta_bias_col");

      delta = binary (ctx, "add", "delta_biased", bdl, 3, delta, bias);
    }
  if (ane_attrs_bool (ctx->node->attrs, "delta_softplus"))
    delta = unary (ctx, "softplus", "delta_softplus", bdl, 3, delta);

  /* dA = exp(δ ⊗ A), dBu = (δ·u) ⊗ B, Cᵀ */
  {
    const char *du = binary (ctx, "mul", "delta_u", bdl, 3, delta, ctx->in[SS_U]);
    const char *bt = transpose (ctx, ctx->in[SS_B], bln, 3, perm_nl, "b_t");
    const char *ct = transpose (ctx, ctx->in[SS_C], bln, 3, perm_nl, "c_t");

    dA = NULL;
    if (nl > 1)   /* the first step does not decay (h_{-1} = 0) */
      {
        const char *d4 = reshape (ctx, delta, bdl1, 4, NULL, "delta_4d");
        const char *a = reshape (ctx, ctx->in[SS_A], a4, 4, NULL, "a_4d");

        dA = binary (ctx, "mul", "delta_a", bdln, 4, d4, a);
        dA = unary (ctx, "exp", "da", bdln, 4, dA);
      }
    du = reshape (ctx, du, bdl1, 4, NULL, "delta_u_4d");
    bt = reshape (ctx, bt, b1ln, 4, NULL, "b_4d");
    dBu = binary (ctx, "mul", "dbu", bdln, 4, du, bt);
    Ct = reshape (ctx, ct, b1ln, 4, NULL, "c_4d");
  }

  /* the recurrence, one step per position */
  hs = g_new0 (const char *, nl);
  stepper_init (&st, ctx, 2);
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

          h = binary (ctx, "mul", hm, bd1n, 4, da_t, h);
          h = binary (ctx, "add", hh, bd1n, 4, h, dbu_t);
        }
      hs[t] = h;
    }
  stepper_clear (&st);

  /* y = Σ_n C·h, + D·u, · silu(z) */
  {
    const char *all = concat (ctx, hs, nl, 2, bdln, 4, "h_all");

    y = binary (ctx, "mul", "h_c", bdln, 4, all, Ct);
    y = reduce (ctx, "reduce_sum", y, 3, FALSE, bdl, 3, last_is_gate || last_is_skip ? "y_scan" : NULL);
  }
  if (ctx->in[SS_D] != NULL)
    {
      const char *dcol = reshape (ctx, ctx->in[SS_D], d1, 2, NULL, "d_col");
      const char *du = binary (ctx, "mul", "d_u", bdl, 3, dcol, ctx->in[SS_U]);

      y = binary (ctx, "add", last_is_gate ? "y_skip" : NULL, bdl, 3, y, du);
    }
  if (ctx->in[SS_Z] != NULL)
    {
      const char *gate = unary (ctx, "silu", "z_silu", bdl, 3, ctx->in[SS_Z]);

      y = binary (ctx, "mul", NULL, out->shape, out->rank, y, gate);
    }
  ctx->out[0] = y;
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
l2_normalize (AneLowerCtx  *ctx,
              const char   *x,
              const gint64 *shape,
              const char   *name)
{
  const gint64 row[4] = { shape[0], shape[1], shape[2], 1 };
  g_autofree char *h_sq = g_strconcat (name, "_sq", NULL);
  g_autofree char *h_ss = g_strconcat (name, "_sumsq", NULL);
  g_autofree char *h_se = g_strconcat (name, "_sumsq_eps", NULL);
  g_autofree char *h_n = g_strconcat (name, "_norm", NULL);
  g_autofree char *h_out = g_strconcat (name, "_l2", NULL);
  g_autofree char *h_eps = g_strconcat (name, "_eps", NULL);
  const char *eps, *v = x, *ss;

  if (ctx->compute == ANE_DTYPE_FLOAT16)
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

      m = unary (ctx, "abs", h_abs, shape, 4, x);
      m = reduce (ctx, "reduce_max", m, 3, TRUE, row, 4, h_max);
      m = binary (ctx, "maximum", h_m, row, 4, m, c_float (ctx, h_floor, 1.0 / 16384.0));
      v = binary (ctx, "real_div", h_sc, shape, 4, x, m);
      eps = binary (ctx, "real_div", h_e1, row, 4, c_float (ctx, h_se1, 1e-3), m);
      eps = binary (ctx, "mul", h_e2, row, 4, eps, eps);
    }
  else
    eps = c_float (ctx, h_eps, 1e-6);
  ss = binary (ctx, "mul", h_sq, shape, 4, v, v);
  ss = reduce (ctx, "reduce_sum", ss, 3, TRUE, row, 4, h_ss);
  ss = binary (ctx, "add", h_se, row, 4, ss, eps);
  ss = unary (ctx, "sqrt", h_n, row, 4, ss);
  return binary (ctx, "real_div", h_out, shape, 4, v, ss);
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
  Stepper st;

  if (!check_steps (ctx, "T", nt, error))
    return FALSE;
  if (scale == 0.0)
    scale = 1.0 / sqrt ((double) nk);

  if (ane_attrs_bool (ctx->node->attrs, "qk_l2norm"))
    {
      q = l2_normalize (ctx, q, bhtk, "q");
      k = l2_normalize (ctx, k, bhtk, "k");
    }
  q = binary (ctx, "mul", "q_scaled", bhtk, 4, q, c_float (ctx, "scale", scale));
  decay = NULL;
  if (ctx->in[GD_INITIAL_STATE] != NULL || nt > 1)   /* S = 0 needs no decay */
    {
      decay = unary (ctx, "exp", "decay", bht, 3, ctx->in[GD_G]);
      decay = reshape (ctx, decay, bht1, 4, NULL, "decay_4d");
    }
  beta = reshape (ctx, ctx->in[GD_BETA], bht1, 4, NULL, "beta_4d");
  kcol_shape = c_ints (ctx, "k_col_shape", bhk1, 4);

  os = g_new0 (const char *, nt);
  S = ctx->in[GD_INITIAL_STATE];
  stepper_init (&st, ctx, 2);
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
      kcol = reshape (ctx, k_t, bhk1, 4, kcol_shape, h_kc);
      if (S == NULL)
        /* S = 0: no decay, no prediction */
        vp = binary (ctx, "mul", h_vp, bh1v, 4, v_t, b_t);
      else
        {
          const char *dec_t = stepper_slice (&st, decay, bht1, "decay");
          const char *pred;

          S = binary (ctx, "mul", h_dec, bhkv, 4, S, dec_t);
          pred = matmul (ctx, h_pred, bh1v, 4, k_t, S);
          vp = binary (ctx, "sub", h_err, bh1v, 4, v_t, pred);
          vp = binary (ctx, "mul", h_vp, bh1v, 4, vp, b_t);
        }
      if (S == NULL)
        S = binary (ctx, "mul", h_s, bhkv, 4, kcol, vp);
      else
        {
          const char *upd = binary (ctx, "mul", h_upd, bhkv, 4, kcol, vp);

          S = binary (ctx, "add", h_s, bhkv, 4, S, upd);
        }
      q_t = stepper_slice (&st, q, bhtk, "q");
      os[t] = matmul (ctx, nt == 1 ? NULL : h_o, bh1v, 4, q_t, S);
    }
  stepper_clear (&st);

  ctx->out[0] = concat (ctx, os, nt, 2, bhtv, 4, NULL);
  ctx->out[1] = S;
  return TRUE;
}
