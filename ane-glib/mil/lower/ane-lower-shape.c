/* mil/lower/ane-lower-shape.c: shape ops
 *
 * Every shape op keeps its values bit for bit, so each lowering is exact:
 *   reshape       -> reshape (the IR's resolved shape, never -1 or 0)
 *   transpose     -> transpose (identity for an identity perm)
 *   concat        -> concat (interleave = false)
 *   narrow        -> slice_by_index (explicit begin/end, start normalized)
 *   gather        -> gather; from iOS17 on, negative indices are first
 *                    wrapped with greater_equal/add/select (MIL gather stops
 *                    accepting them at iOS17)
 *   expand        -> reshape (rank) + tile (numpy.broadcast_to copies the
 *                    size-1 dims; tile does exactly that)
 *   cast          -> cast
 *   stop_gradient -> identity
 *   slice_update  -> begin clamped (maximum, minimum), end = begin + shape
 *                    (add), slice_update at iOS18 (a host-given end: both
 *                    as they are, no int maths); before iOS18 a select
 *                    between x and update spread over x by gather, with a
 *                    mask built from begin
 * Sources: coremltools ops/defs/iOS15/tensor_transformation.py,
 * tensor_operation.py, scatter_gather.py, iOS17/scatter_gather.py and
 * iOS18/tensor_transformation.py.
 *
 * MIL ops take fewer dtypes than the IR (no int8/uint8/int16 in concat and
 * tile at any target, no bool in gather): such values are cast to int32 and
 * back around the op (ane_lower_widen / ane_lower_restore, also used by
 * ane-lower-reduce.c), which is exact.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/lower/ane-lower-private.h"

/* --- dtype helpers (shared with ane-lower-reduce.c) --------------------- */

gboolean    ane_lower_op_takes (AneLowerCtx *ctx, const char *op, const char *param, AneDType dtype);
const char *ane_lower_widen    (AneLowerCtx *ctx, const char *op, const char *param, const char *value,
                                const AneSpec *spec, AneDType *work);
const char *ane_lower_restore  (AneLowerCtx *ctx, const char *value, AneDType work, AneDType dtype,
                                const gint64 *shape, guint rank, gboolean saturate);
const char *ane_lower_to_int32 (AneLowerCtx *ctx, const char *op, const char *value, const AneSpec *spec);


/* --- reshape / transpose ------------------------------------------------ */

/* reshape -> reshape with the IR's resolved output shape (no -1). MIL reads
 * a 0 in the shape as "copy a dimension of x" (iOS15: same position, iOS17:
 * aligned from the right), so a zero-size target shape cannot be written. */
gboolean
ane_lower_reshape (AneLowerCtx *ctx,
                   GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  const AneSpec *in = ctx->in_spec[0];
  g_autofree char *hint = ane_lower_hint (ctx, "shape");

  if (in->rank == out->rank && memcmp (in->shape, out->shape, out->rank * sizeof (gint64)) == 0)
    {
      ctx->out[0] = ane_lower_emit_identity (ctx);
      return TRUE;
    }
  for (guint i = 0; i < out->rank; i++)
    if (out->shape[i] == 0)
      return ane_lower_unsupported (ctx, error, "MIL reshape reads a 0 in the shape as 'keep this "
                                    "dimension of x', so a zero-size shape cannot be written");
  ctx->out[0] = ane_mil_op (ctx->b, "reshape", ctx->hint, out->dtype, out->shape, out->rank,
                            "x", ctx->in[0],
                            "shape", ane_mil_const_ints (ctx->b, hint, out->shape, out->rank), NULL);
  return TRUE;
}

/* transpose -> transpose (MIL perm has numpy's meaning: out.shape[i] =
 * x.shape[perm[i]]); an identity perm (rank 0 and 1 included) is identity. */
gboolean
ane_lower_transpose (AneLowerCtx *ctx,
                     GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  gsize n;
  const gint64 *perm = ane_attrs_ints (ctx->node->attrs, "perm", &n);
  gboolean trivial = TRUE;
  g_autofree char *hint = ane_lower_hint (ctx, "perm");

  for (gsize i = 0; i < n; i++)
    trivial &= perm[i] == (gint64) i;
  if (trivial)
    {
      ctx->out[0] = ane_lower_emit_identity (ctx);
      return TRUE;
    }
  ctx->out[0] = ane_mil_op (ctx->b, "transpose", ctx->hint, out->dtype, out->shape, out->rank,
                            "x", ctx->in[0], "perm", ane_mil_const_ints (ctx->b, hint, perm, n), NULL);
  return TRUE;
}

/* --- concat ------------------------------------------------------------- */

/* concat -> concat (values, axis, interleave = false); one value is identity. */
gboolean
ane_lower_concat (AneLowerCtx *ctx,
                  GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  g_autofree const char **values = g_new0 (const char *, ctx->n_inputs);
  g_autofree char *axis_hint = ane_lower_hint (ctx, "axis");
  g_autofree char *il_hint = ane_lower_hint (ctx, "interleave");
  AneDType work = out->dtype;
  AneMilOpCall *call;
  const char *joined;
  guint axis;

  if (ctx->n_inputs == 1)
    {
      ctx->out[0] = ane_lower_emit_identity (ctx);
      return TRUE;
    }
  ane_normalize_axis (ane_attrs_int (ctx->node->attrs, "axis"), out->rank, &axis);
  for (guint i = 0; i < ctx->n_inputs; i++)
    {
      AneSpec spec = ane_lower_in_spec (ctx, i);
      values[i] = ane_lower_widen (ctx, "concat", "values", ctx->in[i], &spec, &work);
    }
  call = ane_mil_op_begin (ctx->b, "concat", ctx->hint);
  ane_mil_op_args (call, "values", values, ctx->n_inputs);
  ane_mil_op_arg (call, "axis", ane_mil_const_int (ctx->b, axis_hint, axis));
  ane_mil_op_arg (call, "interleave", ane_mil_const_bool (ctx->b, il_hint, FALSE));
  joined = ane_mil_op_output (call, work, out->shape, out->rank);
  ane_mil_op_end (call);
  ctx->out[0] = ane_lower_restore (ctx, joined, work, out->dtype, out->shape, out->rank, FALSE);
  return TRUE;
}

/* --- narrow ------------------------------------------------------------- */

/* narrow -> slice_by_index with explicit begin and end on every axis (the
 * shapes are static, so no masks are needed); a negative start is
 * normalized here, so MIL's own negative-index rule never applies. */
gboolean
ane_lower_narrow (AneLowerCtx *ctx,
                  GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  const AneSpec *in = ctx->in_spec[0];
  gint64 begin[ANE_MAX_RANK], end[ANE_MAX_RANK];
  gint64 start = ane_attrs_int (ctx->node->attrs, "start");
  gint64 length = ane_attrs_int (ctx->node->attrs, "length");
  g_autofree char *begin_hint = ane_lower_hint (ctx, "begin");
  g_autofree char *end_hint = ane_lower_hint (ctx, "end");
  guint axis;

  ane_normalize_axis (ane_attrs_int (ctx->node->attrs, "axis"), in->rank, &axis);
  if (start < 0)
    start += in->shape[axis];
  if (length == in->shape[axis])
    {
      ctx->out[0] = ane_lower_emit_identity (ctx);
      return TRUE;
    }
  for (guint i = 0; i < in->rank; i++)
    {
      begin[i] = i == axis ? start : 0;
      end[i] = i == axis ? start + length : in->shape[i];
    }
  {
    /* last argument first (ane-lower-private.h, order of emission) */
    const char *end_c = ane_mil_const_ints (ctx->b, end_hint, end, in->rank);
    const char *begin_c = ane_mil_const_ints (ctx->b, begin_hint, begin, in->rank);

    ctx->out[0] = ane_mil_op (ctx->b, "slice_by_index", ctx->hint, out->dtype, out->shape, out->rank,
                              "x", ctx->in[0], "begin", begin_c, "end", end_c, NULL);
  }
  return TRUE;
}

/* --- gather ------------------------------------------------------------- */

/* TRUE if input slot is an IR const whose values are all >= 0. */
static gboolean
const_nonnegative (AneLowerCtx *ctx,
                   guint        slot)
{
  const AneNode *src = ane_graph_get_node (ctx->graph, ctx->node->inputs[slot].node);
  gint64 n;
  g_autofree double *v = NULL;

  if (src->op->kind != ANE_OP_CONST || src->value == NULL)
    return FALSE;
  n = ane_tensor_get_n_elements (src->value);
  v = g_new (double, MAX (n, 1));
  ane_dtype_decode (ane_tensor_get_dtype (src->value),
                    g_bytes_get_data (ane_tensor_get_data (src->value), NULL), n, v);
  for (gint64 i = 0; i < n; i++)
    if (v[i] < 0)
      return FALSE;
  return TRUE;
}

const char *
ane_lower_wrap_indices (AneLowerCtx   *ctx,
                        const char    *idx,
                        const AneSpec *idx_spec,
                        gint64         dim)
{
  g_autofree char *zero_hint = ane_lower_hint (ctx, "zero");
  g_autofree char *dim_hint = ane_lower_hint (ctx, "dim");
  g_autofree char *ge_hint = ane_lower_hint (ctx, "nonnegative");
  g_autofree char *add_hint = ane_lower_hint (ctx, "wrapped");
  g_autofree char *sel_hint = ane_lower_hint (ctx, "indices");
  const char *zero_c = ane_mil_const_int (ctx->b, zero_hint, 0);
  const char *ge = ane_mil_op (ctx->b, "greater_equal", ge_hint, ANE_DTYPE_BOOL, idx_spec->shape, idx_spec->rank,
                               "x", idx, "y", zero_c, NULL);
  const char *dim_c = ane_mil_const_int (ctx->b, dim_hint, dim);
  const char *wrapped = ane_mil_op (ctx->b, "add", add_hint, ANE_DTYPE_INT32, idx_spec->shape, idx_spec->rank,
                                    "x", idx, "y", dim_c, NULL);

  return ane_mil_op (ctx->b, "select", sel_hint, ANE_DTYPE_INT32, idx_spec->shape, idx_spec->rank,
                     "cond", ge, "a", idx, "b", wrapped, NULL);
}

/* gather -> gather (numpy.take: out = x.shape[:axis] + indices.shape +
 * x.shape[axis+1:], as MIL's). The IR wraps a negative index once. MIL's
 * gather does so up to iOS16 ("-D[axis] <= v < D[axis]"); from iOS17 on
 * negative indices are out of bounds, so they are wrapped first, as Apple's
 * iOS17 docstring prescribes: select(indices >= 0, indices, indices + D).
 * Const indices that are all >= 0 (and uint8 ones) skip the wrap. From
 * iOS17 on validate_indices = true makes an index outside [-D, D) a run-time
 * error, as in the IR (before iOS17 MIL leaves it undefined). Bool x is
 * gathered as int32 (MIL gather takes no bool). */
gboolean
ane_lower_gather (AneLowerCtx *ctx,
                  GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec x = ane_lower_in_spec (ctx, 0);
  AneSpec idx_spec = ane_lower_in_spec (ctx, 1);
  g_autofree char *axis_hint = ane_lower_hint (ctx, "axis");
  g_autofree char *valid_hint = ane_lower_hint (ctx, "validate_indices");
  const char *xv, *idx, *gathered, *validate;
  AneDType work;
  guint axis;

  ane_normalize_axis (ane_attrs_int (ctx->node->attrs, "axis"), x.rank, &axis);
  xv = ane_lower_widen (ctx, "gather", "x", ctx->in[0], &x, &work);
  idx = ane_lower_to_int32 (ctx, "gather", ctx->in[1], &idx_spec);
  if (ctx->target >= ANE_MIL_IOS17 && idx_spec.dtype != ANE_DTYPE_UINT8 && !const_nonnegative (ctx, 1))
    idx = ane_lower_wrap_indices (ctx, idx, &idx_spec, x.shape[axis]);
  validate = ctx->target >= ANE_MIL_IOS17 ? ane_mil_const_bool (ctx->b, valid_hint, TRUE) : NULL;
  gathered = ane_mil_op (ctx->b, "gather", ctx->hint, work, out->shape, out->rank,
                         "x", xv, "indices", idx, "axis", ane_mil_const_int (ctx->b, axis_hint, axis),
                         "validate_indices", validate, NULL);
  ctx->out[0] = ane_lower_restore (ctx, gathered, work, out->dtype, out->shape, out->rank, FALSE);
  return TRUE;
}

/* --- expand ------------------------------------------------------------- */

/* expand -> reshape (prepend the missing size-1 dims) + tile (copy each
 * size-1 dim to its target size). numpy.broadcast_to reads x[.., 0, ..]
 * along every broadcast dim, which is exactly what tile's copies hold, so
 * the result is bit-exact for every dtype (tile takes bool; narrow integers
 * go through int32). No arithmetic is involved, unlike add(x, zeros), which
 * would turn -0.0 into +0.0 and cannot carry bool. MIL tile refuses reps of
 * 0, so broadcasting a size-1 dim to 0 is refused. */
gboolean
ane_lower_expand (AneLowerCtx *ctx,
                  GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec x = ane_lower_in_spec (ctx, 0);

  if (x.rank == out->rank && memcmp (x.shape, out->shape, x.rank * sizeof (gint64)) == 0)
    {
      ctx->out[0] = ane_lower_emit_identity (ctx);
      return TRUE;
    }
  ctx->out[0] = ane_lower_broadcast_to (ctx, ctx->in[0], &x, out->shape, out->rank, NULL, ctx->hint, error);
  return ctx->out[0] != NULL;
}

/* --- cast / stop_gradient --------------------------------------------- */

/* cast -> MIL cast (iOS15 elementwise_unary.py: dtype is a const string;
 * int8, uint8 and int16 need iOS17);
 * a cast that is a no-op inside the program (fp32 -> fp16 graph values that
 * are already fp16) emits nothing: its result is its input.
 *
 * The IR's cast saturates (float -> int truncates toward zero, clamps to the
 * target's range, NaN -> 0; int -> narrower int clamps). MIL documents no
 * out-of-range behaviour, and coremltools' own value inference wraps as
 * numpy's astype does (iOS15/elementwise_unary.py, cast.get_cast_value), so
 * the program clamps first and never casts a value the target cannot hold:
 * what Apple's runtime would do with one does not matter. */

/* The range of an integer dtype, as doubles. */
static void
int_range (AneDType dtype,
           double  *lo,
           double  *hi)
{
  switch (dtype)
    {
    case ANE_DTYPE_INT8:  *lo = G_MININT8;  *hi = G_MAXINT8;  break;
    case ANE_DTYPE_UINT8: *lo = 0;          *hi = G_MAXUINT8; break;
    case ANE_DTYPE_INT16: *lo = G_MININT16; *hi = G_MAXINT16; break;
    default:              *lo = G_MININT32; *hi = G_MAXINT32; break;
    }
}

/* float x -> integer out: NaN -> 0, clip, cast; see above. */
static const char *
saturating_float_to_int (AneLowerCtx   *ctx,
                         AneLowerNames *w,
                         const AneSpec *in,
                         const AneSpec *out)
{
  AneDType f = in->dtype;
  double lo, hi, fmax = f == ANE_DTYPE_FLOAT16 ? 65504.0 : G_MAXFLOAT;
  const char *v;
  /* fp16 cannot hold int16's bounds (32767 is not an fp16): go through
   * int32 and clamp there */
  gboolean via_int32 = f == ANE_DTYPE_FLOAT16 && out->dtype == ANE_DTYPE_INT16;

  int_range (out->dtype, &lo, &hi);
  /* x == x is false only for NaN */
  v = ane_mil_op (ctx->b, "equal", ane_lower_names_hint (w, "not_nan"), ANE_DTYPE_BOOL, in->shape, in->rank,
                  "x", ctx->in[0], "y", ctx->in[0], NULL);
  v = ane_mil_op (ctx->b, "select", ane_lower_names_hint (w, "nan_to_zero"), f, in->shape, in->rank,
                  "cond", v, "a", ctx->in[0],
                  "b", ane_mil_const_float (ctx->b, ane_lower_names_hint (w, "zero"), f, 0.0), NULL);
  if (out->dtype == ANE_DTYPE_INT32 || via_int32)
    {
      /* the largest float not above 2^31 - 1 is 2^31 - 128 in fp32 */
      double top = f == ANE_DTYPE_FLOAT32 ? 2147483520.0 : fmax;
      const char *nan0 = v, *i, *high_c, *low_c;

      /* last argument first (ane-lower-private.h, order of emission) */
      high_c = ane_mil_const_float (ctx->b, ane_lower_names_hint (w, "high"), f, top);
      low_c = ane_mil_const_float (ctx->b, ane_lower_names_hint (w, "low"), f, MAX (-fmax, (double) G_MININT32));
      v = ane_mil_op (ctx->b, "clip", ane_lower_names_hint (w, "clip"), f, in->shape, in->rank, "x", v,
                      "alpha", low_c, "beta", high_c, NULL);
      if (via_int32)
        {
          AneSpec i32 = *out;

          i32.dtype = ANE_DTYPE_INT32;
          i = ane_lower_emit_cast (w, "int32", ANE_DTYPE_INT32, i32.shape, i32.rank, v);
          return ane_lower_restore (ctx, i, ANE_DTYPE_INT32, out->dtype, out->shape, out->rank, TRUE);
        }
      i = ane_lower_emit_cast (w, "int32", ANE_DTYPE_INT32, out->shape, out->rank, v);
      /* 2^31 and above (in fp16: +inf) is int32's maximum, which no clip
       * bound gives; in fp16, -inf is its minimum too (fp32's lower bound
       * -2^31 is exact) */
      v = ane_mil_op (ctx->b, "greater_equal", ane_lower_names_hint (w, "too_large"), ANE_DTYPE_BOOL,
                      in->shape, in->rank, "x", nan0,
                      "y", ane_mil_const_float (ctx->b, ane_lower_names_hint (w, "two_31"), f, 2147483648.0), NULL);
      i = ane_mil_op (ctx->b, "select", f == ANE_DTYPE_FLOAT16 ? ane_lower_names_hint (w, "top") : ctx->hint,
                      ANE_DTYPE_INT32, out->shape, out->rank, "cond", v,
                      "a", ane_mil_const_int (ctx->b, ane_lower_names_hint (w, "int32_max"), G_MAXINT32),
                      "b", i, NULL);
      if (f == ANE_DTYPE_FLOAT32)
        return i;
      v = ane_mil_op (ctx->b, "less_equal", ane_lower_names_hint (w, "too_small"), ANE_DTYPE_BOOL,
                      in->shape, in->rank, "x", nan0,
                      "y", ane_mil_const_float (ctx->b, ane_lower_names_hint (w, "minus_two_31"), f, -2147483648.0),
                      NULL);
      return ane_mil_op (ctx->b, "select", ctx->hint, ANE_DTYPE_INT32, out->shape, out->rank, "cond", v,
                         "a", ane_mil_const_int (ctx->b, ane_lower_names_hint (w, "int32_min"), G_MININT32),
                         "b", i, NULL);
    }
  {
    /* last argument first (ane-lower-private.h, order of emission) */
    const char *high_c = ane_mil_const_float (ctx->b, ane_lower_names_hint (w, "high"), f, hi);
    const char *low_c = ane_mil_const_float (ctx->b, ane_lower_names_hint (w, "low"), f, lo);

    v = ane_mil_op (ctx->b, "clip", ane_lower_names_hint (w, "clip"), f, in->shape, in->rank, "x", v,
                    "alpha", low_c, "beta", high_c, NULL);
  }
  return ane_lower_emit_cast (w, NULL, out->dtype, out->shape, out->rank, v);
}

gboolean
ane_lower_cast (AneLowerCtx *ctx,
                GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec in = ane_lower_in_spec (ctx, 0);
  const char *name = ane_mil_dtype_name (out->dtype);
  g_autofree char *hint = ane_lower_hint (ctx, "dtype");
  AneLowerNames w;
  double lo_in, hi_in, lo_out, hi_out;

  if (in.dtype == out->dtype)
    {
      ctx->out[0] = ctx->in[0];   /* the same value: no op at all */
      return TRUE;
    }
  if (name == NULL)
    return ane_lower_unsupported (ctx, error, "MIL cannot cast to %s", ane_dtype_to_string (out->dtype));
  /* MIL cast's dtype names the same set its x takes (iOS15: fp16, fp32,
   * int32, bool; iOS17 adds int8, uint8, int16, uint16); the contract check
   * judges x, not the string. */
  if (!ane_lower_op_takes (ctx, "cast", "x", out->dtype))
    {
      g_autofree char *why = g_strdup_printf ("a cast to %s", ane_dtype_to_string (out->dtype));

      if (ctx->target < ANE_MIL_IOS17 && ane_dtype_is_integer (out->dtype))
        return ane_lower_require_target (ctx, ANE_MIL_IOS17, why, error);
      return ane_lower_unsupported (ctx, error, "MIL has no %s", why);
    }
  ane_lower_names_init (&w, ctx);
  w.result_stem = "cast";
  if (ane_dtype_is_float (in.dtype) && ane_dtype_is_integer (out->dtype))
    ctx->out[0] = saturating_float_to_int (ctx, &w, &in, out);
  else if (ane_dtype_is_integer (in.dtype) && ane_dtype_is_integer (out->dtype) &&
           (int_range (in.dtype, &lo_in, &hi_in), int_range (out->dtype, &lo_out, &hi_out),
            lo_in < lo_out || hi_in > hi_out))
    {
      /* a narrowing integer cast: clamp in int32, then cast */
      AneDType work;
      const char *v = ane_lower_widen (ctx, "maximum", "x", ctx->in[0], &in, &work);

      ctx->out[0] = ane_lower_restore (ctx, v, work, out->dtype, out->shape, out->rank, TRUE);
    }
  else
    ctx->out[0] = ane_mil_op (ctx->b, "cast", ctx->hint, out->dtype, out->shape, out->rank,
                              "x", ctx->in[0], "dtype", ane_mil_const_string (ctx->b, hint, name), NULL);
  ane_lower_names_clear (&w);
  return TRUE;
}

/* stop_gradient -> identity (MIL has no autodiff; the value passes through). */
gboolean
ane_lower_stop_gradient (AneLowerCtx *ctx,
                         GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];

  ctx->out[0] = ane_mil_op (ctx->b, "identity", ctx->hint, out->dtype, out->shape, out->rank,
                            "x", ctx->in[0], NULL);
  return TRUE;
}

/* --- slice_update ------------------------------------------------------- */

/* The clamped begin when input 2 is a const (or a bound param): the IR
 * clamps begin[d] to [0, limit[d]] (ane-ops-shape.c). */
static gboolean
slice_update_const_begin (AneLowerCtx  *ctx,
                          const gint64 *limit,
                          guint         rank,
                          gint64       *begin)
{
  const AneNode *src = ane_lower_input_node (ctx, 2);
  AneTensor *value;
  double v[ANE_MAX_RANK];

  if (!ane_lower_input_is_const (ctx, 2) || (value = ane_lower_source_value (ctx, src)) == NULL ||
      ane_tensor_get_n_elements (value) != rank)
    return FALSE;
  ane_dtype_decode (ane_tensor_get_dtype (value), g_bytes_get_data (ane_tensor_get_data (value), NULL),
                    rank, v);
  for (guint d = 0; d < rank; d++)
    begin[d] = CLAMP ((gint64) v[d], 0, limit[d]);
  return TRUE;
}

/* Before iOS18: out = select(mask, spread, x). Along each axis d where
 * update is shorter than x, update is spread over x's length with
 * gather(idx), idx[i] = clamp(i - begin[d], 0, u[d] - 1), and position i
 * is inside the box where that clamp changed nothing (idx[i] == i -
 * begin[d]); the mask is the AND of those per-axis vectors, each reshaped
 * to broadcast along its axis. No arithmetic touches the values, so the
 * result is exact (x + (update - x) * mask would not be for inf or NaN).
 * begin is already clamped, which keeps the box whole. */
static const char *
slice_update_blend (AneLowerCtx   *ctx,
                    AneLowerNames *w,
                    const AneSpec *x,
                    const AneSpec *u,
                    AneDType       work,
                    const char    *xv,
                    const char    *uv,
                    const char    *begin)
{
  gint64 cur_shape[ANE_MAX_RANK], mask_shape[ANE_MAX_RANK];
  const char *cur = uv, *mask = NULL;
  guint rank = x->rank;

  memcpy (cur_shape, u->shape, rank * sizeof (gint64));
  for (guint d = 0; d < rank; d++)
    mask_shape[d] = 1;
  for (guint d = 0; d < rank; d++)
    {
      gint64 n = x->shape[d], one_shape[ANE_MAX_RANK], at = d, after = d + 1;
      g_autofree gint64 *range = NULL;
      char sfx[7][32];
      const char *bd, *range_c, *rel, *idx, *inside, *m, *zero_c, *top_c, *axis_c;

      if (u->shape[d] == n)
        continue;
      g_snprintf (sfx[0], sizeof sfx[0], "begin_%u", d);
      g_snprintf (sfx[1], sizeof sfx[1], "range_%u", d);
      g_snprintf (sfx[2], sizeof sfx[2], "offset_%u", d);
      g_snprintf (sfx[3], sizeof sfx[3], "index_%u", d);
      g_snprintf (sfx[4], sizeof sfx[4], "inside_%u", d);
      g_snprintf (sfx[5], sizeof sfx[5], "spread_%u", d);
      g_snprintf (sfx[6], sizeof sfx[6], "mask_%u", d);
      range = g_new (gint64, n);
      for (gint64 i = 0; i < n; i++)
        range[i] = i;
      bd = ane_lower_emit_slice (w, sfx[0], ANE_DTYPE_INT32, 1, begin, &at, &after);
      range_c = ane_lower_const_ints (w, sfx[1], range, n);
      rel = ane_lower_emit_binary (w, "sub", sfx[2], ANE_DTYPE_INT32, &n, 1, range_c, bd);
      zero_c = ane_lower_const_int (w, "zero", 0);
      idx = ane_lower_emit_binary (w, "maximum", "index_low", ANE_DTYPE_INT32, &n, 1, rel, zero_c);
      top_c = ane_lower_const_int (w, "last", u->shape[d] - 1);
      idx = ane_lower_emit_binary (w, "minimum", sfx[3], ANE_DTYPE_INT32, &n, 1, idx, top_c);
      inside = ane_lower_emit_binary (w, "equal", sfx[4], ANE_DTYPE_BOOL, &n, 1, idx, rel);
      cur_shape[d] = n;
      axis_c = ane_lower_const_int (w, "axis", d);
      cur = ane_mil_op (ctx->b, "gather", ane_lower_names_hint (w, sfx[5]), work, cur_shape, rank,
                        "x", cur, "indices", idx, "axis", axis_c, NULL);
      for (guint k = 0; k < rank; k++)
        one_shape[k] = k == d ? n : 1;
      m = ane_lower_emit_reshape (w, sfx[6], ANE_DTYPE_BOOL, one_shape, rank, inside);
      mask_shape[d] = n;
      mask = mask == NULL ? m : ane_lower_emit_binary (w, "logical_and", "mask", ANE_DTYPE_BOOL, mask_shape,
                                                       rank, mask, m);
    }
  g_assert (mask != NULL);
  return ane_mil_op (ctx->b, "select", ane_lower_names_hint (w, work == ctx->out_spec[0].dtype ? NULL : "blend"),
                     work, x->shape, rank,
                     "cond", mask, "a", cur, "b", xv, NULL);
}

/* A value the blend can gather and select: int32 unless both ops take its
 * dtype (select takes no int8/uint8/int16, gather no bool). */
static const char *
slice_update_blend_widen (AneLowerCtx   *ctx,
                          const char    *value,
                          const AneSpec *spec,
                          AneDType      *work)
{
  AneSpec s = *spec;

  value = ane_lower_widen (ctx, "select", "a", value, &s, work);
  s.dtype = *work;
  return ane_lower_widen (ctx, "gather", "x", value, &s, work);
}

/* slice_update -> MIL slice_update (iOS18, iOS18/tensor_transformation.py:
 * x, update, begin, end; no stride and no masks). begin is clamped in the
 * program as the IR clamps it (maximum with 0, minimum with x.shape -
 * update.shape: MIL's own reading, Python slicing, would give a slice of
 * another size for a begin past the end or below 0, which slice_update
 * refuses) and end = begin + update.shape (add). A const begin is clamped
 * here and both become consts. With the IR's optional end, begin and end
 * were computed and checked by the host: they go to slice_update as they
 * are, so the program does no integer maths (which the Neural Engine does
 * not run: the lint's int-compute rule). Before iOS18, slice_update_blend
 * (from begin alone, clamped). */
gboolean
ane_lower_slice_update (AneLowerCtx *ctx,
                        GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec x = ane_lower_in_spec (ctx, 0), u = ane_lower_in_spec (ctx, 1);
  g_auto(AneLowerNames) w = { NULL, };
  gint64 limit[ANE_MAX_RANK], known[ANE_MAX_RANK], n_u = 1;
  gboolean whole = TRUE, ios18 = ctx->target >= ANE_MIL_IOS18;
  const char *begin, *end = NULL, *xv, *uv, *r;
  AneDType work;
  guint rank = x.rank;

  for (guint d = 0; d < rank; d++)
    {
      limit[d] = x.shape[d] - u.shape[d];
      whole &= limit[d] == 0;
      n_u *= u.shape[d];
    }
  if (n_u == 0)
    {
      ctx->out[0] = ane_lower_emit_identity (ctx);   /* nothing to write */
      return TRUE;
    }
  /* with a host-given end the op stays a slice_update even when the box is
   * all of x: the run checks the box the host gave, and a state's read
   * keeps its use (coremltools' canonicalize_inplace_pattern pass fails on
   * a read_state whose write_state takes another value: KeyError, found by
   * the contract suite on a prefill step as long as its cache) */
  if (whole && !(ios18 && ctx->in[3] != NULL))
    {
      /* the box is all of x whatever begin holds */
      ctx->out[0] = ane_mil_op (ctx->b, "identity", ctx->hint, out->dtype, out->shape, out->rank,
                                "x", ctx->in[1], NULL);
      return TRUE;
    }
  ane_lower_names_init (&w, ctx);
  if (ios18 && ctx->in[3] != NULL)
    {
      begin = ctx->in[2];
      end = ctx->in[3];
    }
  else if (slice_update_const_begin (ctx, limit, rank, known))
    {
      gint64 stop[ANE_MAX_RANK];

      for (guint d = 0; d < rank; d++)
        stop[d] = known[d] + u.shape[d];
      /* last argument first (ane-lower-private.h, order of emission) */
      if (ios18)
        end = ane_lower_const_ints (&w, "end", stop, rank);
      begin = ane_lower_const_ints (&w, "begin", known, rank);
    }
  else
    {
      gint64 r1 = rank;
      const char *zero_c, *limit_c, *shape_c;

      zero_c = ane_lower_const_int (&w, "begin_min", 0);
      begin = ane_lower_emit_binary (&w, "maximum", "begin_low", ANE_DTYPE_INT32, &r1, 1, ctx->in[2], zero_c);
      limit_c = ane_lower_const_ints (&w, "begin_max", limit, rank);
      begin = ane_lower_emit_binary (&w, "minimum", "begin", ANE_DTYPE_INT32, &r1, 1, begin, limit_c);
      if (ios18)
        {
          shape_c = ane_lower_const_ints (&w, "size", u.shape, rank);
          end = ane_lower_emit_binary (&w, "add", "end", ANE_DTYPE_INT32, &r1, 1, begin, shape_c);
        }
    }
  if (ios18)
    {
      xv = ane_lower_widen (ctx, "slice_update", "x", ctx->in[0], &x, &work);
      uv = ane_lower_widen (ctx, "slice_update", "update", ctx->in[1], &u, &work);
    }
  else
    {
      xv = slice_update_blend_widen (ctx, ctx->in[0], &x, &work);
      uv = slice_update_blend_widen (ctx, ctx->in[1], &u, &work);
    }
  if (ios18)
    r = ane_mil_op (ctx->b, "slice_update", ane_lower_names_hint (&w, work == out->dtype ? NULL : "update"),
                    work, x.shape, rank, "x", xv, "update", uv, "begin", begin, "end", end, NULL);
  else
    r = slice_update_blend (ctx, &w, &x, &u, work, xv, uv, begin);
  ctx->out[0] = ane_lower_restore (ctx, r, work, out->dtype, out->shape, out->rank, FALSE);
  return TRUE;
}
