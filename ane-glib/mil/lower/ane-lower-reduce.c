/* mil/lower/ane-lower-reduce.c: reductions, cumsum, top_k and scatter_add
 *
 *   reduce_sum/mean/max/min/prod -> reduce_* (explicit axes, keep_dims)
 *   cumsum      -> cumsum (axis, exclusive, reverse: tf.math.cumsum's
 *                  meaning, the IR's too)
 *   top_k       -> topk (k, axis, ascending = false; sort and
 *                  return_indices = true from iOS16 on)
 *   scatter_add -> scatter_along_axis (mode "add"), after padding indices
 *                  and updates to x's size on the other axes (MIL requires
 *                  it; torch does not)
 * Sources: coremltools ops/defs/iOS15/reduction.py, tensor_operation.py,
 * scatter_gather.py, iOS16/tensor_operation.py, iOS17/scatter_gather.py.
 *
 * These MIL ops compute in fp16, fp32 or int32 only: int8, uint8 and int16
 * values go through int32 and are clamped back to their range, since the
 * IR's integer results saturate (ane_lower_widen / ane_lower_restore in
 * ane-lower-shape.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/lower/ane-lower-private.h"

/* --- reduce_* ----------------------------------------------------------- */

/* reduce_sum/mean/max/min/prod -> reduce_* with the axes normalized, sorted
 * and always explicit (the IR's empty list means all axes; MIL's default
 * does too, but saying so leaves nothing to a default) and keep_dims
 * explicit. A rank-0 x has nothing to reduce: identity. */
gboolean
ane_lower_reduce (AneLowerCtx *ctx,
                  GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec x = ane_lower_in_spec (ctx, 0);
  AneOpKind kind = ctx->node->op->kind;
  const char *op;
  gsize n;
  const gint64 *axes = ane_attrs_ints (ctx->node->attrs, "axes", &n);
  gboolean keepdims = ane_attrs_bool (ctx->node->attrs, "keepdims");
  gboolean reduced[ANE_MAX_RANK] = { FALSE, };
  gint64 list[ANE_MAX_RANK];
  guint n_list = 0;
  g_autofree char *axes_hint = ane_lower_hint (ctx, "axes");
  g_autofree char *keep_hint = ane_lower_hint (ctx, "keep_dims");
  const char *v;
  AneDType work;

  switch (kind)
    {
    case ANE_OP_REDUCE_SUM:  op = "reduce_sum"; break;
    case ANE_OP_REDUCE_MEAN: op = "reduce_mean"; break;
    case ANE_OP_REDUCE_MAX:  op = "reduce_max"; break;
    case ANE_OP_REDUCE_MIN:  op = "reduce_min"; break;
    case ANE_OP_REDUCE_PROD: op = "reduce_prod"; break;
    default:                 g_assert_not_reached ();
    }
  if (x.rank == 0)
    {
      ctx->out[0] = ane_lower_emit_identity (ctx);
      return TRUE;
    }
  for (gsize i = 0; i < n; i++)
    {
      guint a;

      ane_normalize_axis (axes[i], x.rank, &a);
      reduced[a] = TRUE;
    }
  for (guint d = 0; d < x.rank; d++)
    if (reduced[d] || n == 0)
      list[n_list++] = d;

  v = ane_lower_widen (ctx, op, "x", ctx->in[0], &x, &work);
  {
    /* last argument first (ane-lower-private.h, order of emission) */
    const char *keep_c = ane_mil_const_bool (ctx->b, keep_hint, keepdims);
    const char *axes_c = ane_mil_const_ints (ctx->b, axes_hint, list, n_list);

    v = ane_mil_op (ctx->b, op, ctx->hint, work, out->shape, out->rank,
                    "x", v, "axes", axes_c, "keep_dims", keep_c, NULL);
  }
  ctx->out[0] = ane_lower_restore (ctx, v, work, out->dtype, out->shape, out->rank,
                                   kind == ANE_OP_REDUCE_SUM || kind == ANE_OP_REDUCE_PROD);
  return TRUE;
}

/* --- cumsum ------------------------------------------------------------- */

/* cumsum -> cumsum. MIL's exclusive and reverse are tf.math.cumsum's (the
 * coremltools TensorFlow frontend maps tf.cumsum's exclusive/reverse onto
 * them unchanged; iOS15 docstring: exclusive makes the first element 0,
 * reverse sums in the opposite order), which is the IR's definition, also
 * for exclusive + reverse: out[i] = x[i+1] + ... + x[n-1]. MIL accepts axis
 * only in [-1, rank), so the axis is normalized. */
gboolean
ane_lower_cumsum (AneLowerCtx *ctx,
                  GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec x = ane_lower_in_spec (ctx, 0);
  g_autofree char *axis_hint = ane_lower_hint (ctx, "axis");
  g_autofree char *excl_hint = ane_lower_hint (ctx, "exclusive");
  g_autofree char *rev_hint = ane_lower_hint (ctx, "reverse");
  gboolean exclusive = ane_attrs_bool (ctx->node->attrs, "exclusive");
  gboolean reverse = ane_attrs_bool (ctx->node->attrs, "reverse");
  const char *v;
  AneDType work;
  guint axis;

  ane_normalize_axis (ane_attrs_int (ctx->node->attrs, "axis"), x.rank, &axis);
  v = ane_lower_widen (ctx, "cumsum", "x", ctx->in[0], &x, &work);
  {
    /* last argument first (ane-lower-private.h, order of emission) */
    const char *rev_c = ane_mil_const_bool (ctx->b, rev_hint, reverse);
    const char *excl_c = ane_mil_const_bool (ctx->b, excl_hint, exclusive);
    const char *axis_c = ane_mil_const_int (ctx->b, axis_hint, axis);

    v = ane_mil_op (ctx->b, "cumsum", ctx->hint, work, out->shape, out->rank,
                    "x", v, "axis", axis_c, "exclusive", excl_c, "reverse", rev_c, NULL);
  }
  ctx->out[0] = ane_lower_restore (ctx, v, work, out->dtype, out->shape, out->rank, TRUE);
  return TRUE;
}

/* --- top_k -------------------------------------------------------------- */

/* top_k -> topk (k, axis, ascending = false): values and int32 indices of
 * the k largest, sorted descending. iOS16 adds sort and return_indices
 * (both default true); they are written out as true. MIL does not promise
 * which of equal values comes first (coremltools' reference is an unstable
 * numpy argsort of -x), nor where NaN sorts; the IR keeps the lower index
 * first and ranks NaN highest. See docs/lowering-shape.md. */
gboolean
ane_lower_top_k (AneLowerCtx *ctx,
                 GError     **error)
{
  const AneSpec *values = &ctx->out_spec[0], *indices = &ctx->out_spec[1];
  AneSpec x = ane_lower_in_spec (ctx, 0);
  g_autofree char *k_hint = ane_lower_hint (ctx, "k");
  g_autofree char *axis_hint = ane_lower_hint (ctx, "axis");
  g_autofree char *asc_hint = ane_lower_hint (ctx, "ascending");
  g_autofree char *sort_hint = ane_lower_hint (ctx, "sort");
  g_autofree char *ri_hint = ane_lower_hint (ctx, "return_indices");
  g_autofree char *idx_hint = ane_lower_hint (ctx, "indices");
  AneMilOpCall *call;
  const char *v;
  AneDType work;
  guint axis;

  ane_normalize_axis (ane_attrs_int (ctx->node->attrs, "axis"), x.rank, &axis);
  v = ane_lower_widen (ctx, "topk", "x", ctx->in[0], &x, &work);
  call = ane_mil_op_begin (ctx->b, "topk", ctx->hint);
  ane_mil_op_arg (call, "x", v);
  ane_mil_op_arg (call, "k", ane_mil_const_int (ctx->b, k_hint, ane_attrs_int (ctx->node->attrs, "k")));
  ane_mil_op_arg (call, "axis", ane_mil_const_int (ctx->b, axis_hint, axis));
  ane_mil_op_arg (call, "ascending", ane_mil_const_bool (ctx->b, asc_hint, FALSE));
  if (ctx->target >= ANE_MIL_IOS16)
    {
      ane_mil_op_arg (call, "sort", ane_mil_const_bool (ctx->b, sort_hint, TRUE));
      ane_mil_op_arg (call, "return_indices", ane_mil_const_bool (ctx->b, ri_hint, TRUE));
    }
  v = ane_mil_op_output (call, work, values->shape, values->rank);
  ctx->out[1] = ane_mil_op_output_named (call, idx_hint, ANE_DTYPE_INT32, indices->shape, indices->rank);
  ane_mil_op_end (call);
  ctx->out[0] = ane_lower_restore (ctx, v, work, values->dtype, values->shape, values->rank, FALSE);
  return TRUE;
}

/* --- scatter_add -------------------------------------------------------- */

/* A tensor of shape filled with one value: a one-element const tiled (no
 * weight blob, however large the shape). */
static const char *
filled (AneLowerCtx  *ctx,
        const char   *suffix,
        AneDType      dtype,
        double        value,
        const gint64 *shape,
        guint         rank)
{
  static const gint64 ones[ANE_MAX_RANK] = { 1, 1, 1, 1, 1, 1, };
  g_autofree char *hint = ane_lower_hint (ctx, suffix);
  g_autofree char *c_hint = g_strconcat (hint, "_value", NULL);
  g_autofree char *r_hint = g_strconcat (hint, "_reps", NULL);
  const char *reps_c, *value_c;

  G_STATIC_ASSERT (ANE_MAX_RANK == 6);
  /* last argument first (ane-lower-private.h, order of emission) */
  reps_c = ane_mil_const_ints (ctx->b, r_hint, shape, rank);
  value_c = ane_mil_const_floats (ctx->b, c_hint, dtype, &value, ones, rank);
  return ane_mil_op (ctx->b, "tile", hint, dtype, shape, rank, "x", value_c, "reps", reps_c, NULL);
}

/* value (shape *cur) grown along axis d to size to, the new cells filled. */
static const char *
pad_axis (AneLowerCtx *ctx,
          const char  *what,
          const char  *value,
          AneDType     dtype,
          double       fill_value,
          gint64      *cur,
          guint        rank,
          guint        d,
          gint64       to)
{
  g_autofree char *fill_suffix = g_strdup_printf ("%s_fill%u", what, d);
  g_autofree char *cat_hint = g_strdup_printf ("%s_%s_pad%u", ctx->hint, what, d);
  g_autofree char *axis_hint = g_strconcat (cat_hint, "_axis", NULL);
  g_autofree char *il_hint = g_strconcat (cat_hint, "_interleave", NULL);
  gint64 fill_shape[ANE_MAX_RANK];
  const char *parts[2];
  AneMilOpCall *call;
  const char *out;

  memcpy (fill_shape, cur, rank * sizeof (gint64));
  fill_shape[d] = to - cur[d];
  parts[0] = value;
  parts[1] = filled (ctx, fill_suffix, dtype, fill_value, fill_shape, rank);
  cur[d] = to;
  call = ane_mil_op_begin (ctx->b, "concat", cat_hint);
  ane_mil_op_args (call, "values", parts, 2);
  ane_mil_op_arg (call, "axis", ane_mil_const_int (ctx->b, axis_hint, d));
  ane_mil_op_arg (call, "interleave", ane_mil_const_bool (ctx->b, il_hint, FALSE));
  out = ane_mil_op_output (call, dtype, cur, rank);
  ane_mil_op_end (call);
  return out;
}

/* scatter_add -> scatter_along_axis (mode "add"): for every position p of
 * indices, out[p with p[axis] = indices[p]] += updates[p] -- torch's
 * scatter_add. MIL additionally requires indices (and updates) to have x's
 * size on every axis but `axis` (iOS15 scatter_gather.py type_inference),
 * where torch allows them to be smaller. Such axes are padded up to x's
 * size: indices with 0 and updates with -0.0 (integers: 0). A padded cell
 * adds -0.0 to some x[.., 0, ..], and x + (-0.0) == x for every x (+0.0,
 * -0.0, NaN and infinities included), so the padding changes nothing.
 * Indices with no elements leave x unchanged: identity. From iOS17 on
 * validate_indices = true makes an index outside [0, dim) a run-time error,
 * as in the IR (before iOS17 MIL leaves it undefined). */
gboolean
ane_lower_scatter_add (AneLowerCtx *ctx,
                       GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec x = ane_lower_in_spec (ctx, 0);
  AneSpec idx_spec = ane_lower_in_spec (ctx, 1);
  AneSpec upd_spec = ane_lower_in_spec (ctx, 2);
  g_autofree char *axis_hint = ane_lower_hint (ctx, "axis");
  g_autofree char *mode_hint = ane_lower_hint (ctx, "mode");
  g_autofree char *valid_hint = ane_lower_hint (ctx, "validate_indices");
  gint64 idx_shape[ANE_MAX_RANK], upd_shape[ANE_MAX_RANK], n_idx = 1;
  const char *xv, *idx, *upd, *v, *validate;
  AneDType work;
  guint axis;

  for (guint d = 0; d < idx_spec.rank; d++)
    n_idx *= idx_spec.shape[d];
  if (n_idx == 0)
    {
      ctx->out[0] = ane_lower_emit_identity (ctx);
      return TRUE;
    }
  ane_normalize_axis (ane_attrs_int (ctx->node->attrs, "axis"), x.rank, &axis);
  xv = ane_lower_widen (ctx, "scatter_along_axis", "data", ctx->in[0], &x, &work);
  upd = ane_lower_widen (ctx, "scatter_along_axis", "updates", ctx->in[2], &upd_spec, &work);
  idx = ane_lower_to_int32 (ctx, "scatter_along_axis", ctx->in[1], &idx_spec);

  memcpy (idx_shape, idx_spec.shape, idx_spec.rank * sizeof (gint64));
  memcpy (upd_shape, idx_spec.shape, idx_spec.rank * sizeof (gint64));
  for (guint d = 0; d < x.rank; d++)
    if (d != axis && idx_shape[d] < x.shape[d])
      {
        idx = pad_axis (ctx, "indices", idx, ANE_DTYPE_INT32, 0.0, idx_shape, x.rank, d, x.shape[d]);
        upd = pad_axis (ctx, "updates", upd, work, ane_dtype_is_float (work) ? -0.0 : 0.0,
                        upd_shape, x.rank, d, x.shape[d]);
      }

  validate = ctx->target >= ANE_MIL_IOS17 ? ane_mil_const_bool (ctx->b, valid_hint, TRUE) : NULL;
  {
    /* last argument first (ane-lower-private.h, order of emission) */
    const char *mode_c = ane_mil_const_string (ctx->b, mode_hint, "add");
    const char *axis_c = ane_mil_const_int (ctx->b, axis_hint, axis);

    v = ane_mil_op (ctx->b, "scatter_along_axis", ctx->hint, work, out->shape, out->rank,
                    "data", xv, "indices", idx, "updates", upd,
                    "axis", axis_c, "mode", mode_c, "validate_indices", validate, NULL);
  }
  ctx->out[0] = ane_lower_restore (ctx, v, work, out->dtype, out->shape, out->rank, TRUE);
  return TRUE;
}
