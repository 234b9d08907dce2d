/* mil/lower/ane-lower-loss.c: cross_entropy, composed from iOS15 MIL ops
 *
 * MIL has no cross-entropy op. With x the logits [..., V], t the targets
 * reshaped to [..., 1] and every reduction over the last axis, keep_dims:
 *
 *   m    = reduce_max (x)                      row maximum
 *   d    = sub (x, m)                          every d <= 0
 *   s    = reduce_sum (exp (d))                in [1, V]
 *   ls   = log (s)                             logsumexp (x) - m
 *   keep = logical_and (not_equal (t, ignore_index),
 *                       logical_and (greater_equal (t, 0), less (t, V)))
 *   ti   = select (keep, t, 0)                 a safe index on every row
 *   dt   = gather_along_axis (d, ti, axis -1)  x[t] - m
 *   row  = select (keep, sub (ls, dt), 0)      logsumexp (x) - x[t], or 0
 *   loss = real_div (reduce_sum (row), maximum (reduce_sum (cast (keep)), 1))
 *
 * The picked logit is read from d, not x: log s - (x[t] - m) is the same
 * number without subtracting two large ones (logsumexp and x[t] near 1e4
 * would leave float32 three correct decimals). Ignored rows are removed by
 * select, not a multiplication by the mask, so that a row of non-finite
 * logits that is ignored cannot turn the sum into NaN (NaN·0 = NaN), as in
 * the reference, which skips them.
 *
 * A MIL program cannot raise an error, so a target outside [0, V) that is
 * not ignore_index cannot be refused as the reference refuses it: it is
 * masked out like an ignored one (contributes nothing, is not counted), and
 * its index is replaced by 0 before gather_along_axis, whose out-of-range
 * behaviour MIL leaves undefined before iOS17 (and validate_indices is an
 * error from iOS17, which would abort the whole prediction).
 *
 * Float16 programs: x is cast to float32 first and everything above runs in
 * float32; only the loss is cast back to float16. In float16 an exp sum
 * over a vocabulary of 32000 accumulates with an 11-bit significand (each
 * addition of a term below 2^-11 of the sum is lost) and log of a sum near
 * its 65504 limit is near overflow; float32 has neither problem.
 *
 * Signatures (docs/mil-ops.md, coremltools mil/ops/defs/iOS15/):
 * reduce_max / reduce_sum (x: fp16|fp32|int32, axes, keep_dims),
 * elementwise_binary.py sub / real_div / maximum (T = fp16|fp32|int32),
 * not_equal / greater_equal / less (T) -> bool, logical_and (bool),
 * elementwise_unary.py exp / log (fp16|fp32), cast (fp16|fp32|int32|bool),
 * control_flow.py select (cond bool; a, b: fp16|fp32|bool|int32),
 * scatter_gather.py gather_along_axis (x: fp16|fp32|int32, indices int32).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/lower/ane-lower-private.h"

/* reduce_<op> over the last axis (keep_dims) or, with all, over every axis
 * of a rank-rank value (not kept: a scalar). */
static const char *
emit_reduce (AneLowerNames *w,
             const char    *op,
             const char    *suffix,
             const gint64  *kshape,
             guint          rank,
             gboolean       all,
             const char    *x)
{
  gint64 axes[ANE_MAX_RANK];
  guint n = 0;
  const char *keep_c, *axes_c;

  if (all)
    for (guint d = 0; d < rank; d++)
      axes[n++] = d;
  else
    axes[n++] = rank - 1;
  /* last argument first (ane-lower-private.h, order of emission) */
  keep_c = ane_mil_const_bool (w->ctx->b, ane_lower_names_param (w, suffix, "keep_dims"), !all);
  axes_c = ane_mil_const_ints (w->ctx->b, ane_lower_names_param (w, suffix, "axes"), axes, n);
  return ane_mil_op (w->ctx->b, op, ane_lower_names_hint (w, suffix), ANE_DTYPE_FLOAT32,
                     all ? NULL : kshape, all ? 0 : rank,
                     "x", x, "axes", axes_c, "keep_dims", keep_c, NULL);
}

/* select (cond, a, b) of dtype over shape */
static const char *
emit_select (AneLowerNames *w,
             const char    *suffix,
             AneDType       dtype,
             const gint64  *shape,
             guint          rank,
             const char    *cond,
             const char    *a,
             const char    *b)
{
  return ane_mil_op (w->ctx->b, "select", ane_lower_names_hint (w, suffix), dtype, shape, rank,
                     "cond", cond, "a", a, "b", b, NULL);
}

gboolean
ane_lower_cross_entropy (AneLowerCtx *ctx,
                         GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec xs = ane_lower_in_spec (ctx, 0);
  guint rank = xs.rank;
  gint64 classes = xs.shape[rank - 1];
  gint64 ignore = ane_attrs_int (ctx->node->attrs, "ignore_index");
  const AneDType F32 = ANE_DTYPE_FLOAT32, BOOL = ANE_DTYPE_BOOL, I32 = ANE_DTYPE_INT32;
  gint64 kshape[ANE_MAX_RANK];
  g_auto(AneLowerNames) w = { NULL, };
  const char *x, *m, *d, *e, *s, *ls, *t, *c, *ne, *ge, *lt, *in_range, *keep, *ti, *dt, *diff, *row;
  const char *mask, *total, *count, *one, *denom, *loss;

  ane_lower_names_init (&w, ctx);
  memcpy (kshape, xs.shape, rank * sizeof (gint64));
  kshape[rank - 1] = 1;

  /* the reduction in float32, whatever the program's precision (see the top) */
  x = xs.dtype == F32 ? ctx->in[0] : ane_lower_emit_cast (&w, "logits_f32", F32, xs.shape, rank, ctx->in[0]);
  m = emit_reduce (&w, "reduce_max", "max", kshape, rank, FALSE, x);
  d = ane_lower_emit_binary (&w, "sub", "shifted", F32, xs.shape, rank, x, m);
  e = ane_lower_emit_unary (&w, "exp", "exp", F32, xs.shape, rank, d);
  s = emit_reduce (&w, "reduce_sum", "sum_exp", kshape, rank, FALSE, e);
  ls = ane_lower_emit_unary (&w, "log", "log_sum_exp", F32, kshape, rank, s);

  /* which rows count, and a safe index for every row */
  t = ane_lower_emit_reshape (&w, "targets", I32, kshape, rank, ctx->in[1]);
  c = ane_lower_const_int (&w, "ignore_index", ignore);
  ne = ane_lower_emit_binary (&w, "not_equal", "not_ignored", BOOL, kshape, rank, t, c);
  c = ane_lower_const_int (&w, "zero_index", 0);
  ge = ane_lower_emit_binary (&w, "greater_equal", "nonnegative", BOOL, kshape, rank, t, c);
  c = ane_lower_const_int (&w, "classes", classes);
  lt = ane_lower_emit_binary (&w, "less", "below_classes", BOOL, kshape, rank, t, c);
  in_range = ane_lower_emit_binary (&w, "logical_and", "in_range", BOOL, kshape, rank, ge, lt);
  keep = ane_lower_emit_binary (&w, "logical_and", "counted", BOOL, kshape, rank, ne, in_range);
  c = ane_lower_const_int (&w, "safe_zero", 0);
  ti = emit_select (&w, "safe_targets", I32, kshape, rank, keep, t, c);

  /* x[t] - m, and logsumexp (x) - x[t] on the counted rows */
  {
    const char *axis_c = ane_mil_const_int (ctx->b, ane_lower_names_param (&w, "picked", "axis"), rank - 1);

    dt = ane_mil_op (ctx->b, "gather_along_axis", ane_lower_names_hint (&w, "picked"), F32, kshape, rank,
                     "x", d, "indices", ti, "axis", axis_c, NULL);
  }
  diff = ane_lower_emit_binary (&w, "sub", "row_loss", F32, kshape, rank, ls, dt);
  c = ane_lower_const_float (&w, "zero_loss", F32, 0.0);
  row = emit_select (&w, "counted_loss", F32, kshape, rank, keep, diff, c);

  /* the mean over the counted rows; none counted: 0 / 1 */
  mask = ane_lower_emit_cast (&w, "mask", F32, kshape, rank, keep);
  total = emit_reduce (&w, "reduce_sum", "total", kshape, rank, TRUE, row);
  count = emit_reduce (&w, "reduce_sum", "count", kshape, rank, TRUE, mask);
  one = ane_lower_const_float (&w, "one", F32, 1.0);
  denom = ane_lower_emit_binary (&w, "maximum", "denominator", F32, NULL, 0, count, one);
  if (out->dtype == F32)
    loss = ane_lower_emit_binary (&w, "real_div", NULL, F32, NULL, 0, total, denom);
  else
    {
      loss = ane_lower_emit_binary (&w, "real_div", "mean", F32, NULL, 0, total, denom);
      loss = ane_lower_emit_cast (&w, NULL, out->dtype, NULL, 0, loss);
    }
  ctx->out[0] = loss;
  return TRUE;
}
