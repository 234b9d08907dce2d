/* mil/lower/ane-lower-norm.c: softmax and the normalization ops
 *
 * MIL facts used (coremltools ops/defs/iOS15/activation.py,
 * iOS15/normalization.py, iOS17/normalization.py, iOS15/elementwise_unary.py,
 * iOS15/reduction.py):
 * - softmax (x, axis): exp(x - max) / sum exp(x - max) along axis.
 * - layer_norm (x, axes, gamma, beta, epsilon): (x - mean)/sqrt(var + eps)
 *   over `axes` with the population variance, then *gamma + beta. gamma and
 *   beta must be const and have the shape x.shape[axes] (the normalized dims
 *   in axis order; for axes [1] of NCHW that is [C]). Its type inference
 *   checks beta's shape against gamma's, so beta is only passed together
 *   with gamma.
 * - batch_norm (x, mean, variance, gamma, beta, epsilon): per channel (axis 1),
 *   3 <= rank(x) <= 5, every parameter const.
 * - rsqrt (x, epsilon): 1 / sqrt(x + epsilon); epsilon defaults to 1e-12, so
 *   it is always passed explicitly.
 * - reduce_max / reduce_mean (x, axes, keep_dims).
 *
 * Whether an IR input reaches MIL as a const is decided by its source node:
 * a graph const or a non-dynamic param is lowered to a MIL const by the
 * driver; anything else (an input, a dynamic param, a computed value) is not,
 * and the op is then composed from elementwise ops instead.
 *
 * See docs/lowering-norm.md for the table and the equivalence notes,
 * including the fp16 overflow handling of rms_norm.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "mil/lower/ane-lower-private.h"

/* --- small emitters -------------------------------------------------------- */


/* A per-channel vector [C] as [C, 1, ..., 1] so it broadcasts along axis 1 of
 * a rank-`rank` tensor [N, C, ...]; unchanged when rank == 2. */
static const char *
channel_view (AneLowerNames         *w,
              const char *suffix,
              const char *v,
              gint64      channels,
              guint       rank)
{
  gint64 shape[ANE_MAX_RANK];

  if (rank <= 2)
    return v;
  shape[0] = channels;
  for (guint i = 1; i < rank - 1; i++)
    shape[i] = 1;
  return ane_lower_emit_reshape (w, suffix, w->ctx->compute, shape, rank - 1, v);
}

/* y * gamma + beta with gamma, beta already shaped to broadcast; either may be
 * NULL. The last op emitted gets `last_suffix` (NULL: the node's name). */
static const char *
emit_affine (AneLowerNames            *w,
             const char    *y,
             const char    *gamma,
             const char    *beta,
             const AneSpec *out,
             const char    *last_suffix)
{
  if (gamma != NULL)
    y = ane_lower_emit_binary (w, "mul", beta ? "scaled" : last_suffix, out->dtype, out->shape, out->rank,
                               y, gamma);
  if (beta != NULL)
    y = ane_lower_emit_binary (w, "add", last_suffix, out->dtype, out->shape, out->rank, y, beta);
  return y;
}

/* --- softmax --------------------------------------------------------------- */

/* softmax -> MIL softmax: the same stable definition along one axis. */
gboolean
ane_lower_softmax (AneLowerCtx *ctx,
                   GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  g_autofree char *hint = ane_lower_hint (ctx, "axis");

  ctx->out[0] = ane_mil_op (ctx->b, "softmax", ctx->hint, out->dtype, out->shape, out->rank,
                            "x", ctx->in[0],
                            "axis", ane_mil_const_int (ctx->b, hint, ane_attrs_int (ctx->node->attrs, "axis")),
                            NULL);
  return TRUE;
}

/* --- layer_norm ------------------------------------------------------------ */

/* MIL layer_norm over `axes` with the const affine parameters folded in and
 * the others applied after (gamma, beta: the MIL values already shaped to
 * broadcast against x, or NULL). */
static const char *
emit_layer_norm (AneLowerNames            *w,
                 const char    *x,
                 const AneSpec *spec,
                 const gint64  *axes,
                 guint          n_axes,
                 const char    *gamma,
                 gboolean       gamma_const,
                 const char    *beta,
                 gboolean       beta_const,
                 double         eps,
                 const char    *last_suffix)
{
  /* beta goes into the op only together with gamma (see the header). */
  gboolean fold_gamma = gamma != NULL && gamma_const;
  gboolean fold_beta = beta != NULL && beta_const && fold_gamma;
  const char *after_gamma = fold_gamma ? NULL : gamma;
  const char *after_beta = fold_beta ? NULL : beta;
  gboolean last = after_gamma == NULL && after_beta == NULL;
  const char *y, *eps_c, *axes_c;

  /* last argument first (ane-lower-private.h, order of emission) */
  eps_c = ane_lower_const_float (w, "epsilon", w->ctx->compute, eps);
  axes_c = ane_lower_const_ints (w, "axes", axes, n_axes);
  y = ane_mil_op (w->ctx->b, "layer_norm", ane_lower_names_hint (w, last ? last_suffix : "normalized"),
                  spec->dtype, spec->shape, spec->rank,
                  "x", x,
                  "axes", axes_c,
                  "gamma", fold_gamma ? gamma : NULL,
                  "beta", fold_beta ? beta : NULL,
                  "epsilon", eps_c,
                  NULL);
  if (last)
    return y;
  return emit_affine (w, y, after_gamma, after_beta, spec, last_suffix);
}

/* layer_norm -> MIL layer_norm over the (sorted) trailing axes; gamma and beta
 * have the normalized trailing shape in both, so they are passed as they are
 * when const, or multiplied/added after (numpy broadcasting aligns them with
 * the trailing dims). */
gboolean
ane_lower_layer_norm (AneLowerCtx *ctx,
                      GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  gsize n;
  gint64 axes[ANE_MAX_RANK];
  AneLowerNames w;

  ane_attrs_ints (ctx->node->attrs, "axes", &n);
  /* The shape rule made sure `axes` names exactly the last n axes. */
  for (gsize i = 0; i < n; i++)
    axes[i] = (gint64) (out->rank - n + i);
  ane_lower_names_init (&w, ctx);
  ctx->out[0] = emit_layer_norm (&w, ctx->in[0], out, axes, (guint) n,
                                 ctx->in[1], ane_lower_input_is_const (ctx, 1),
                                 ctx->in[2], ane_lower_input_is_const (ctx, 2),
                                 ane_attrs_double (ctx->node->attrs, "eps"), NULL);
  ane_lower_names_clear (&w);
  return TRUE;
}

/* --- rms_norm -------------------------------------------------------------- */

/* The floor of the fp16 row scale m (see ane_lower_rms_norm): the smallest
 * power of two >= max(2^-14, sqrt(eps / 2^15)), so that eps / m^2 <= 2^15. */
static double
rms_scale_floor (double eps)
{
  double need = sqrt (eps / 32768.0);
  double c = ldexp (1.0, -14);

  while (c < need)
    c *= 2.0;
  return c;
}

/* rms_norm, composed (MIL has no rms_norm).
 *
 * fp32: y = x * rsqrt(mean(x*x) + eps) * weight, with eps as rsqrt's epsilon.
 *
 * fp16: x*x overflows for |x| > 256, so each row is first divided by
 *   m = max(max|x|, c)              (c: rms_scale_floor, a power of two)
 *   u = x / m                       (|u| <= 1, so u*u <= 1 and mean(u*u) <= 1)
 *   k = c / m                       (in (0, 1])
 *   e = (k * K) * k                 (K = eps / c^2, a const; e = eps / m^2)
 *   y = u * rsqrt(mean(u*u) + e) * weight
 * which is x / sqrt(mean(x^2) + eps) * weight exactly in real arithmetic
 * (numerator and denominator both divided by m). No intermediate exceeds
 * max(K, 1) <= 2^15. K is a normal fp16 number where eps itself (1e-5, 1e-6)
 * would be subnormal and off by up to 1.3%. e underflows to 0 only when
 * eps / m^2 < 2^-25, and then (m > 2^12.5 sqrt(eps)) it is below
 * eps * D / m^2 <= D * 2^-25 of mean(u*u) >= 1/D: under half an ulp for
 * D <= 16384. rsqrt's epsilon is 0 there. */
gboolean
ane_lower_rms_norm (AneLowerCtx *ctx,
                    GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneDType dt = ctx->compute;
  double eps = ane_attrs_double (ctx->node->attrs, "eps");
  const gint64 last_axis = -1;
  const char *keep, *x = ctx->in[0], *weight = ctx->in[1];
  const char *sq, *ms, *r, *y;
  AneSpec row = *out;
  AneLowerNames w;

  ane_lower_names_init (&w, ctx);
  row.shape[row.rank - 1] = 1;
  keep = ane_lower_const_bool (&w, "keep_dims", TRUE);

  if (dt == ANE_DTYPE_FLOAT16)
    {
      const char *a, *m, *u, *t;

      a = ane_mil_op (ctx->b, "abs", ane_lower_names_hint (&w, "abs"), dt, out->shape, out->rank, "x", x, NULL);
      m = ane_mil_op (ctx->b, "reduce_max", ane_lower_names_hint (&w, "row_max"), dt, row.shape, row.rank,
                      "x", a, "axes", ane_lower_const_ints (&w, "axes", &last_axis, 1), "keep_dims", keep, NULL);
      m = ane_lower_emit_binary (&w, "maximum", "row_scale", row.dtype, row.shape, row.rank, m,
                                 ane_lower_const_float (&w, "scale_floor", dt, rms_scale_floor (eps)));
      u = ane_lower_emit_binary (&w, "real_div", "scaled", out->dtype, out->shape, out->rank, x, m);
      sq = ane_lower_emit_binary (&w, "mul", "square", out->dtype, out->shape, out->rank, u, u);
      ms = ane_mil_op (ctx->b, "reduce_mean", ane_lower_names_hint (&w, "mean_square"), dt, row.shape, row.rank,
                       "x", sq, "axes", ane_lower_const_ints (&w, "axes", &last_axis, 1), "keep_dims", keep, NULL);
      t = ms;
      if (eps != 0.0)
        {
          double c = rms_scale_floor (eps);
          const char *k, *e;

          k = ane_lower_emit_binary (&w, "real_div", "floor_over_m", row.dtype, row.shape, row.rank,
                                     ane_lower_const_float (&w, "floor", dt, c), m);
          e = ane_lower_emit_binary (&w, "mul", "eps_k", row.dtype, row.shape, row.rank, k,
                                     ane_lower_const_float (&w, "eps_over_floor2", dt, eps / (c * c)));
          e = ane_lower_emit_binary (&w, "mul", "eps_over_m2", row.dtype, row.shape, row.rank, e, k);
          t = ane_lower_emit_binary (&w, "add", "mean_square_eps", row.dtype, row.shape, row.rank, ms, e);
        }
      r = ane_mil_op (ctx->b, "rsqrt", ane_lower_names_hint (&w, "inv_rms"), dt, row.shape, row.rank,
                      "x", t, "epsilon", ane_lower_const_float (&w, "epsilon", ctx->compute, 0.0), NULL);
      x = u;
    }
  else
    {
      sq = ane_lower_emit_binary (&w, "mul", "square", out->dtype, out->shape, out->rank, x, x);
      ms = ane_mil_op (ctx->b, "reduce_mean", ane_lower_names_hint (&w, "mean_square"), dt, row.shape, row.rank,
                       "x", sq, "axes", ane_lower_const_ints (&w, "axes", &last_axis, 1), "keep_dims", keep, NULL);
      r = ane_mil_op (ctx->b, "rsqrt", ane_lower_names_hint (&w, "inv_rms"), dt, row.shape, row.rank,
                      "x", ms, "epsilon", ane_lower_const_float (&w, "epsilon", ctx->compute, eps), NULL);
    }
  y = ane_lower_emit_binary (&w, "mul", weight ? "normalized" : NULL, out->dtype, out->shape, out->rank,
                             x, r);
  if (weight != NULL)
    y = ane_lower_emit_binary (&w, "mul", NULL, out->dtype, out->shape, out->rank, y, weight);
  ctx->out[0] = y;
  ane_lower_names_clear (&w);
  return TRUE;
}

/* --- group_norm ------------------------------------------------------------ */

/* group_norm: x [N, C, *S] -> reshape [N, G, C/G * prod(S)] (in C order the
 * channels of one group and all their positions are contiguous) -> MIL
 * layer_norm over the last axis -> reshape back -> per-channel affine with
 * gamma/beta viewed as [C, 1, ...]. */
gboolean
ane_lower_group_norm (AneLowerCtx *ctx,
                      GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  gint64 groups = ane_attrs_int (ctx->node->attrs, "groups");
  gint64 channels = out->shape[1], per_group = out->shape[1] / groups;
  gint64 grouped[3];
  const gint64 last_axis = 2;
  AneSpec gs = { 0 };
  const char *y, *gamma, *beta;
  gboolean affine = ctx->in[1] != NULL || ctx->in[2] != NULL;
  AneLowerNames w;

  for (guint i = 2; i < out->rank; i++)
    per_group *= out->shape[i];
  grouped[0] = out->shape[0];
  grouped[1] = groups;
  grouped[2] = per_group;
  gs.dtype = out->dtype;
  ane_spec_set_shape (&gs, grouped, 3);

  ane_lower_names_init (&w, ctx);
  y = ane_lower_emit_reshape (&w, "grouped", out->dtype, grouped, 3, ctx->in[0]);
  y = emit_layer_norm (&w, y, &gs, &last_axis, 1, NULL, FALSE, NULL, FALSE,
                       ane_attrs_double (ctx->node->attrs, "eps"), "normalized");
  y = ane_lower_emit_reshape (&w, affine ? "ungrouped" : NULL, out->dtype, out->shape, out->rank, y);
  gamma = ctx->in[1] ? channel_view (&w, "gamma_view", ctx->in[1], channels, out->rank) : NULL;
  beta = ctx->in[2] ? channel_view (&w, "beta_view", ctx->in[2], channels, out->rank) : NULL;
  ctx->out[0] = emit_affine (&w, y, gamma, beta, out, NULL);
  ane_lower_names_clear (&w);
  return TRUE;
}

/* --- layer_norm_2d --------------------------------------------------------- */

/* layer_norm_2d -> MIL layer_norm with axes [1] on NCHW: its gamma/beta shape
 * is x.shape[axes] = [C], exactly the IR's. Non-const gamma/beta are applied
 * after, viewed as [C, 1, 1]. */
gboolean
ane_lower_layer_norm_2d (AneLowerCtx *ctx,
                         GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  const gint64 channel_axis = 1;
  gboolean gamma_const = ane_lower_input_is_const (ctx, 1), beta_const = ane_lower_input_is_const (ctx, 2);
  gboolean fold_gamma = ctx->in[1] != NULL && gamma_const;
  gboolean fold_beta = ctx->in[2] != NULL && beta_const && fold_gamma;
  const char *gamma = ctx->in[1], *beta = ctx->in[2];
  AneLowerNames w;

  ane_lower_names_init (&w, ctx);
  /* Parameters applied after the op broadcast along axis 1. */
  if (gamma != NULL && !fold_gamma)
    gamma = channel_view (&w, "gamma_view", gamma, out->shape[1], out->rank);
  if (beta != NULL && !fold_beta)
    beta = channel_view (&w, "beta_view", beta, out->shape[1], out->rank);
  ctx->out[0] = emit_layer_norm (&w, ctx->in[0], out, &channel_axis, 1,
                                 gamma, fold_gamma, beta, fold_beta,
                                 ane_attrs_double (ctx->node->attrs, "eps"), NULL);
  ane_lower_names_clear (&w);
  return TRUE;
}

/* --- batch_norm ------------------------------------------------------------ */

/* batch_norm: with const parameters, MIL batch_norm, on x reshaped to
 * [N, C, prod(spatial)] when its rank is outside MIL's 3..5 (the op is per
 * channel, so flattening or adding spatial dims changes nothing). Otherwise
 * composed: (x - mean) * (rsqrt(variance + eps) * gamma) + beta, the [C]
 * vectors viewed as [C, 1, ...]. */
gboolean
ane_lower_batch_norm (AneLowerCtx *ctx,
                      GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  double eps = ane_attrs_double (ctx->node->attrs, "eps");
  gint64 channels = out->shape[1];
  gboolean all_const = ane_lower_input_is_const (ctx, 1) && ane_lower_input_is_const (ctx, 2) &&
                       (ctx->in[3] == NULL || ane_lower_input_is_const (ctx, 3)) &&
                       (ctx->in[4] == NULL || ane_lower_input_is_const (ctx, 4));
  AneLowerNames w;

  ane_lower_names_init (&w, ctx);
  if (all_const)
    {
      gboolean native_rank = out->rank >= 3 && out->rank <= 5;
      const char *x = ctx->in[0];
      AneSpec view = *out;

      if (!native_rank)
        {
          gint64 spatial = 1;

          for (guint i = 2; i < out->rank; i++)
            spatial *= out->shape[i];
          view.rank = 3;
          view.shape[2] = spatial;
          x = ane_lower_emit_reshape (&w, "flat", out->dtype, view.shape, view.rank, x);
        }
      x = ane_mil_op (ctx->b, "batch_norm", ane_lower_names_hint (&w, native_rank ? NULL : "normalized"),
                      out->dtype, view.shape, view.rank,
                      "x", x, "mean", ctx->in[1], "variance", ctx->in[2],
                      "gamma", ctx->in[3], "beta", ctx->in[4],
                      "epsilon", ane_lower_const_float (&w, "epsilon", ctx->compute, eps), NULL);
      if (!native_rank)
        x = ane_lower_emit_reshape (&w, NULL, out->dtype, out->shape, out->rank, x);
      ctx->out[0] = x;
    }
  else
    {
      AneSpec vec = { 0 };
      const char *scale, *mean, *beta, *y;

      vec.dtype = out->dtype;
      ane_spec_set_shape (&vec, &channels, 1);
      scale = ane_mil_op (ctx->b, "rsqrt", ane_lower_names_hint (&w, "inv_std"), vec.dtype, vec.shape, vec.rank,
                          "x", ctx->in[2], "epsilon", ane_lower_const_float (&w, "epsilon", ctx->compute, eps),
                          NULL);
      if (ctx->in[3] != NULL)
        scale = ane_lower_emit_binary (&w, "mul", "scale", vec.dtype, vec.shape, vec.rank, scale, ctx->in[3]);
      mean = channel_view (&w, "mean_view", ctx->in[1], channels, out->rank);
      scale = channel_view (&w, "scale_view", scale, channels, out->rank);
      beta = ctx->in[4] ? channel_view (&w, "beta_view", ctx->in[4], channels, out->rank) : NULL;
      y = ane_lower_emit_binary (&w, "sub", "centered", out->dtype, out->shape, out->rank, ctx->in[0], mean);
      ctx->out[0] = emit_affine (&w, y, scale, beta, out, NULL);
    }
  ane_lower_names_clear (&w);
  return TRUE;
}
