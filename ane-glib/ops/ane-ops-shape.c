/* ops/ane-ops-shape.c: reshape, transpose, concat, narrow, gather, expand, cast, stop_gradient,
 * slice_update
 *
 * These ops move or convert elements without arithmetic. Their semantics are
 * numpy's, and each function cites the numpy (or PyTorch) page it follows:
 *   reshape       https://numpy.org/doc/stable/reference/generated/numpy.reshape.html
 *   transpose     https://numpy.org/doc/stable/reference/generated/numpy.transpose.html
 *   concat        https://numpy.org/doc/stable/reference/generated/numpy.concatenate.html
 *   narrow        https://pytorch.org/docs/stable/generated/torch.narrow.html
 *   gather        https://numpy.org/doc/stable/reference/generated/numpy.take.html
 *   expand        https://numpy.org/doc/stable/reference/generated/numpy.broadcast_to.html
 *   cast          https://numpy.org/doc/stable/reference/generated/numpy.ndarray.astype.html
 *                 (with saturation instead of wrap-around for float -> int, as MIL's cast)
 *   slice_update  https://docs.jax.dev/en/latest/_autosummary/jax.lax.dynamic_update_slice.html
 *                 (begin clamped so the update fits, as XLA's DynamicUpdateSlice)
 *
 * They accept every non-block dtype (float, integer, bool) unless noted: a
 * GGUF block tensor must be dequantized before its elements can be moved.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ops/ane-ops.h"

/* --- helpers ----------------------------------------------------------- */

/* Room for "[d0,d1,...]" with up to ANE_MAX_RANK 20-character entries and a
 * trailing ",..." for longer (invalid) lists. */
#define INTS_STRLEN 200

/* Formats an attribute array such as a requested shape: "[2,-1,3]". */
static const char *
format_ints (const gint64 *v,
             gsize         n,
             char          buf[INTS_STRLEN])
{
  gsize len = 1;

  buf[0] = '[';
  buf[1] = '\0';
  for (gsize i = 0; i < n && len < INTS_STRLEN - 32; i++)
    len += g_snprintf (buf + len, INTS_STRLEN - len, i ? ",%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
                       v[i]);
  if (len >= INTS_STRLEN - 32 && n > 0)
    len += g_snprintf (buf + len, INTS_STRLEN - len, ",...");
  g_snprintf (buf + len, INTS_STRLEN - len, "]");
  return buf;
}

/* Shape ops move elements; they cannot address the inside of a GGUF block. */
static gboolean
require_not_block (AneInferCtx *ctx,
                   guint        slot,
                   GError     **error)
{
  char buf[ANE_SPEC_STRLEN];

  if (!ane_dtype_is_block (ctx->inputs[slot]->dtype))
    return TRUE;
  ane_infer_error (ctx, error, ANE_ERROR_DTYPE,
                   "input '%s' must not be block-quantized (dequantize it first), got %s",
                   ane_op_info_slot_name (ctx->op, slot), ane_spec_format (ctx->inputs[slot], buf));
  return FALSE;
}


static void
copy_values (const AneRefValue *in,
             AneRefValue       *out)
{
  g_assert (in->n == out->n);
  if (in->n > 0)
    memcpy (out->v, in->v, in->n * sizeof (double));
}

/* --- reshape ----------------------------------------------------------- */

/* numpy.reshape in C order: at most one -1 (inferred), all other entries >= 0,
 * same element count. */
gboolean
ane_infer_reshape (AneInferCtx *ctx,
                   GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  gsize n;
  const gint64 *shape = ane_attrs_ints (ctx->attrs, "shape", &n);
  gint64 out_shape[ANE_MAX_RANK];
  gint64 x_n = 0, known = 1;
  gint infer_at = -1;
  char xb[ANE_SPEC_STRLEN], sb[INTS_STRLEN];

  if (!require_not_block (ctx, 0, error))
    return FALSE;
  if (n > ANE_MAX_RANK)
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "shape %s has %" G_GSIZE_FORMAT " dimensions; at most %d are supported",
                       format_ints (shape, n, sb), n, ANE_MAX_RANK);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    {
      if (shape[i] == -1 && infer_at < 0)
        {
          infer_at = (gint) i;
          out_shape[i] = 1;
          continue;
        }
      if (shape[i] < 0)
        {
          ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                           "shape %s for input 'x' %s: %s", format_ints (shape, n, sb),
                           ane_spec_format (x, xb),
                           shape[i] == -1 ? "only one dimension may be -1"
                                          : "dimensions must be >= 0 (or a single -1)");
          return FALSE;
        }
      out_shape[i] = shape[i];
    }
  ane_spec_n_elements (x, &x_n);
  if (!ane_shape_n_elements (out_shape, (guint) n, &known, NULL))
    {
      ane_infer_error (ctx, error, ANE_ERROR_OVERFLOW, "shape %s for input 'x' %s is too large",
                       format_ints (shape, n, sb), ane_spec_format (x, xb));
      return FALSE;
    }
  if (infer_at >= 0)
    {
      /* numpy refuses to infer a dimension next to a 0: it would be ambiguous. */
      if (known == 0 || x_n % known != 0)
        {
          ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                           "cannot reshape input 'x' %s into shape %s", ane_spec_format (x, xb),
                           format_ints (shape, n, sb));
          return FALSE;
        }
      out_shape[infer_at] = x_n / known;
    }
  else if (known != x_n)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "cannot reshape input 'x' %s (%" G_GINT64_FORMAT " elements) into shape %s "
                       "(%" G_GINT64_FORMAT " elements)",
                       ane_spec_format (x, xb), x_n, format_ints (shape, n, sb), known);
      return FALSE;
    }
  ctx->outputs[0].dtype = x->dtype;
  ane_spec_set_shape (&ctx->outputs[0], out_shape, (guint) n);
  return TRUE;
}

gboolean
ane_ref_reshape (AneRefCtx *ctx,
                 GError   **error)
{
  /* Both sides are in C order: the element sequence does not change. */
  copy_values (ctx->inputs[0], ctx->outputs[0]);
  return TRUE;
}

/* --- transpose --------------------------------------------------------- */

/* numpy.transpose(x, perm): out.shape[i] = x.shape[perm[i]]; perm must be a
 * permutation of 0..rank-1 (no negative entries). */
gboolean
ane_infer_transpose (AneInferCtx *ctx,
                     GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  gsize n;
  const gint64 *perm = ane_attrs_ints (ctx->attrs, "perm", &n);
  gboolean seen[ANE_MAX_RANK] = { FALSE, };
  gint64 out_shape[ANE_MAX_RANK];
  char xb[ANE_SPEC_STRLEN], pb[INTS_STRLEN];

  if (!require_not_block (ctx, 0, error))
    return FALSE;
  if (n != x->rank)
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "perm %s must have one entry per axis of input 'x' %s",
                       format_ints (perm, n, pb), ane_spec_format (x, xb));
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    {
      if (perm[i] < 0 || perm[i] >= (gint64) x->rank || seen[perm[i]])
        {
          ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                           "perm %s is not a permutation of 0..%u for input 'x' %s",
                           format_ints (perm, n, pb), x->rank - 1, ane_spec_format (x, xb));
          return FALSE;
        }
      seen[perm[i]] = TRUE;
      out_shape[i] = x->shape[perm[i]];
    }
  ctx->outputs[0].dtype = x->dtype;
  ane_spec_set_shape (&ctx->outputs[0], out_shape, x->rank);
  return TRUE;
}

gboolean
ane_ref_transpose (AneRefCtx *ctx,
                   GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  gsize n;
  const gint64 *perm = ane_attrs_ints (ctx->attrs, "perm", &n);
  gint64 oc[ANE_MAX_RANK], ic[ANE_MAX_RANK];

  for (gsize i = 0; i < y->n; i++)
    {
      ane_ref_unravel (i, y->shape, y->rank, oc);
      /* Output axis j walks input axis perm[j]. */
      for (guint j = 0; j < y->rank; j++)
        ic[perm[j]] = oc[j];
      y->v[i] = x->v[ane_ref_ravel (ic, x->shape, x->rank)];
    }
  return TRUE;
}

/* --- concat ------------------------------------------------------------ */

/* numpy.concatenate(values, axis): one or more values of the same dtype and
 * rank whose dims agree except along axis. All values sit in slot 0. */
gboolean
ane_infer_concat (AneInferCtx *ctx,
                  GError     **error)
{
  const AneSpec *first = ctx->inputs[0];
  AneSpec out;
  guint axis;

  for (guint i = 0; i < ctx->n_inputs; i++)
    {
      if (ane_dtype_is_block (ctx->inputs[i]->dtype))
        {
          char b[ANE_SPEC_STRLEN];
          ane_infer_error (ctx, error, ANE_ERROR_DTYPE,
                           "input 'values[%u]' must not be block-quantized (dequantize it first), got %s",
                           i, ane_spec_format (ctx->inputs[i], b));
          return FALSE;
        }
    }
  if (!ane_infer_axis (ctx, "axis", 0, &axis, error))
    return FALSE;

  out = *first;
  for (guint i = 1; i < ctx->n_inputs; i++)
    {
      const AneSpec *v = ctx->inputs[i];
      char b0[ANE_SPEC_STRLEN], bi[ANE_SPEC_STRLEN];

      if (v->dtype != first->dtype)
        {
          ane_infer_error (ctx, error, ANE_ERROR_DTYPE,
                           "inputs 'values[0]' %s and 'values[%u]' %s must have the same dtype",
                           ane_spec_format (first, b0), i, ane_spec_format (v, bi));
          return FALSE;
        }
      if (v->rank != first->rank)
        {
          ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                           "inputs 'values[0]' %s and 'values[%u]' %s must have the same rank",
                           ane_spec_format (first, b0), i, ane_spec_format (v, bi));
          return FALSE;
        }
      for (guint d = 0; d < first->rank; d++)
        {
          if (d != axis && v->shape[d] != first->shape[d])
            {
              ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                               "inputs 'values[0]' %s and 'values[%u]' %s differ in dimension %u "
                               "(only axis %u may differ)",
                               ane_spec_format (first, b0), i, ane_spec_format (v, bi), d, axis);
              return FALSE;
            }
        }
      if (v->shape[axis] > G_MAXINT64 - out.shape[axis])
        {
          ane_infer_error (ctx, error, ANE_ERROR_OVERFLOW, "the joined axis %u is too large", axis);
          return FALSE;
        }
      out.shape[axis] += v->shape[axis];
    }
  ctx->outputs[0] = out;
  return TRUE;
}

gboolean
ane_ref_concat (AneRefCtx *ctx,
                GError   **error)
{
  AneRefValue *y = ctx->outputs[0];
  guint axis;
  gint64 offset = 0, c[ANE_MAX_RANK];

  ane_normalize_axis (ane_attrs_int (ctx->attrs, "axis"), y->rank, &axis);
  for (guint k = 0; k < ctx->n_inputs; k++)
    {
      const AneRefValue *v = ctx->inputs[k];

      for (gsize i = 0; i < v->n; i++)
        {
          ane_ref_unravel (i, v->shape, v->rank, c);
          c[axis] += offset;
          y->v[ane_ref_ravel (c, y->shape, y->rank)] = v->v[i];
        }
      offset += v->shape[axis];
    }
  return TRUE;
}

/* --- narrow ------------------------------------------------------------ */

/* torch.narrow(x, axis, start, length) == x[..., start:start+length, ...];
 * a negative start counts from the end; the slice must lie within the dim. */
static gboolean
narrow_params (GVariant      *attrs,
               const gint64  *shape,
               guint          rank,
               guint         *axis,
               gint64        *start,
               gint64        *length)
{
  gint64 dim;

  if (!ane_normalize_axis (ane_attrs_int (attrs, "axis"), rank, axis))
    return FALSE;
  dim = shape[*axis];
  *start = ane_attrs_int (attrs, "start");
  *length = ane_attrs_int (attrs, "length");
  if (*start < 0)
    *start += dim;
  return *start >= 0 && *start <= dim && *length >= 0 && *length <= dim - *start;
}

gboolean
ane_infer_narrow (AneInferCtx *ctx,
                  GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  guint axis;
  gint64 start, length;
  char xb[ANE_SPEC_STRLEN];

  if (!require_not_block (ctx, 0, error) ||
      !ane_infer_axis (ctx, "axis", 0, &axis, error))
    return FALSE;
  if (!narrow_params (ctx->attrs, x->shape, x->rank, &axis, &start, &length))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "start %" G_GINT64_FORMAT " and length %" G_GINT64_FORMAT
                       " do not lie within axis %u (size %" G_GINT64_FORMAT ") of input 'x' %s",
                       ane_attrs_int (ctx->attrs, "start"), ane_attrs_int (ctx->attrs, "length"),
                       axis, x->shape[axis], ane_spec_format (x, xb));
      return FALSE;
    }
  ctx->outputs[0] = *x;
  ctx->outputs[0].shape[axis] = length;
  return TRUE;
}

gboolean
ane_ref_narrow (AneRefCtx *ctx,
                GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  guint axis;
  gint64 start, length, c[ANE_MAX_RANK];

  narrow_params (ctx->attrs, x->shape, x->rank, &axis, &start, &length);
  for (gsize i = 0; i < y->n; i++)
    {
      ane_ref_unravel (i, y->shape, y->rank, c);
      c[axis] += start;
      y->v[i] = x->v[ane_ref_ravel (c, x->shape, x->rank)];
    }
  return TRUE;
}

/* --- gather ------------------------------------------------------------ */

/* numpy.take(x, indices, axis): out.shape = x.shape[:axis] + indices.shape +
 * x.shape[axis+1:]. Negative indices count from the end (once); anything
 * else out of range is a run-time error (numpy's mode='raise'). */
gboolean
ane_infer_gather (AneInferCtx *ctx,
                  GError     **error)
{
  const AneSpec *x = ctx->inputs[0], *idx = ctx->inputs[1];
  AneSpec *out = &ctx->outputs[0];
  gint64 shape[ANE_MAX_RANK];
  guint axis, rank, r = 0;
  char xb[ANE_SPEC_STRLEN], ib[ANE_SPEC_STRLEN];

  if (!require_not_block (ctx, 0, error) ||
      !ane_infer_require_integer (ctx, 1, error) ||
      !ane_infer_axis (ctx, "axis", 0, &axis, error))
    return FALSE;
  rank = x->rank - 1 + idx->rank;
  if (rank > ANE_MAX_RANK)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "gathering input 'indices' %s from input 'x' %s gives rank %u; at most %d "
                       "is supported", ane_spec_format (idx, ib), ane_spec_format (x, xb), rank,
                       ANE_MAX_RANK);
      return FALSE;
    }
  if (x->shape[axis] == 0)
    {
      gint64 n_idx = 0;

      /* No index can be valid on an empty axis; say so now if there are any. */
      ane_spec_n_elements (idx, &n_idx);
      if (n_idx > 0)
        {
          ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                           "input 'indices' %s cannot index the empty axis %u of input 'x' %s",
                           ane_spec_format (idx, ib), axis, ane_spec_format (x, xb));
          return FALSE;
        }
    }
  for (guint i = 0; i < axis; i++)
    shape[r++] = x->shape[i];
  for (guint i = 0; i < idx->rank; i++)
    shape[r++] = idx->shape[i];
  for (guint i = axis + 1; i < x->rank; i++)
    shape[r++] = x->shape[i];
  out->dtype = x->dtype;
  ane_spec_set_shape (out, shape, rank);
  return TRUE;
}

gboolean
ane_ref_gather (AneRefCtx *ctx,
                GError   **error)
{
  const AneRefValue *x = ctx->inputs[0], *idx = ctx->inputs[1];
  AneRefValue *y = ctx->outputs[0];
  guint axis;
  gint64 dim, oc[ANE_MAX_RANK], xc[ANE_MAX_RANK];

  ane_normalize_axis (ane_attrs_int (ctx->attrs, "axis"), x->rank, &axis);
  dim = x->shape[axis];
  for (gsize i = 0; i < y->n; i++)
    {
      double raw;
      gint64 k;

      ane_ref_unravel (i, y->shape, y->rank, oc);
      /* oc = x-prefix (axis dims), index coords (idx->rank dims), x-suffix. */
      raw = idx->v[ane_ref_ravel (oc + axis, idx->shape, idx->rank)];
      if (!ane_ref_wrap_index (raw, dim, axis, &k, error))
        return FALSE;
      for (guint d = 0; d < axis; d++)
        xc[d] = oc[d];
      xc[axis] = k;
      for (guint d = axis + 1; d < x->rank; d++)
        xc[d] = oc[d - 1 + idx->rank];
      y->v[i] = x->v[ane_ref_ravel (xc, x->shape, x->rank)];
    }
  return TRUE;
}

/* --- expand ------------------------------------------------------------ */

/* numpy.broadcast_to(x, shape): right-aligned, each dim of x equals the
 * target dim or is 1; the target rank is at least x's. */
gboolean
ane_infer_expand (AneInferCtx *ctx,
                  GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  gsize n;
  const gint64 *shape = ane_attrs_ints (ctx->attrs, "shape", &n);
  char xb[ANE_SPEC_STRLEN], sb[INTS_STRLEN];

  if (!require_not_block (ctx, 0, error))
    return FALSE;
  if (n > ANE_MAX_RANK)
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "shape %s has %" G_GSIZE_FORMAT " dimensions; at most %d are supported",
                       format_ints (shape, n, sb), n, ANE_MAX_RANK);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    if (shape[i] < 0)
      {
        ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                         "shape %s for input 'x' %s: dimensions must be >= 0",
                         format_ints (shape, n, sb), ane_spec_format (x, xb));
        return FALSE;
      }
  if (n < x->rank)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "cannot expand input 'x' %s to the lower-rank shape %s",
                       ane_spec_format (x, xb), format_ints (shape, n, sb));
      return FALSE;
    }
  for (guint i = 0; i < x->rank; i++)
    {
      gint64 xd = x->shape[i], td = shape[n - x->rank + i];

      if (xd != td && xd != 1)
        {
          ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                           "cannot expand input 'x' %s to shape %s: dimension %u is %"
                           G_GINT64_FORMAT ", not 1 or %" G_GINT64_FORMAT,
                           ane_spec_format (x, xb), format_ints (shape, n, sb), i, xd, td);
          return FALSE;
        }
    }
  ctx->outputs[0].dtype = x->dtype;
  ane_spec_set_shape (&ctx->outputs[0], shape, (guint) n);
  return TRUE;
}

gboolean
ane_ref_expand (AneRefCtx *ctx,
                GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  gint64 c[ANE_MAX_RANK];

  for (gsize i = 0; i < y->n; i++)
    {
      ane_ref_unravel (i, y->shape, y->rank, c);
      y->v[i] = x->v[ane_ref_broadcast_offset (x, c, y->rank)];
    }
  return TRUE;
}

/* --- cast -------------------------------------------------------------- */

/* The target dtype comes from the 'dtype' attribute (any name
 * ane_dtype_from_string() accepts); neither side may be a block dtype. */
gboolean
ane_infer_cast (AneInferCtx *ctx,
                GError     **error)
{
  const char *name = ane_attrs_string (ctx->attrs, "dtype");
  AneDType dtype;

  if (!require_not_block (ctx, 0, error))
    return FALSE;
  if (!ane_dtype_from_string (name, &dtype))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT, "dtype '%s' is not a dtype", name);
      return FALSE;
    }
  if (ane_dtype_is_block (dtype))
    {
      ane_infer_error (ctx, error, ANE_ERROR_DTYPE,
                       "cannot cast to the block-quantized dtype %s; use a quantizer instead",
                       ane_dtype_to_string (dtype));
      return FALSE;
    }
  ctx->outputs[0] = *ctx->inputs[0];
  ctx->outputs[0].dtype = dtype;
  return TRUE;
}

gboolean
ane_ref_cast (AneRefCtx *ctx,
              GError   **error)
{
  /* The conversion is exactly what storing a double in the output dtype
   * does, and the evaluator does that to every result (ane_dtype_round):
   * floats round to nearest even, float -> int truncates toward zero and
   * saturates (NaN -> 0), -> bool is "non-zero". */
  copy_values (ctx->inputs[0], ctx->outputs[0]);
  return TRUE;
}

/* --- stop_gradient ----------------------------------------------------- */

/* The identity in the forward pass (jax.lax.stop_gradient / torch detach);
 * it only marks a boundary for gradient-based tools. */
gboolean
ane_infer_stop_gradient (AneInferCtx *ctx,
                         GError     **error)
{
  if (!require_not_block (ctx, 0, error))
    return FALSE;
  ctx->outputs[0] = *ctx->inputs[0];
  return TRUE;
}

gboolean
ane_ref_stop_gradient (AneRefCtx *ctx,
                       GError   **error)
{
  copy_values (ctx->inputs[0], ctx->outputs[0]);
  return TRUE;
}

/* --- slice_update ------------------------------------------------------ */

/* jax.lax.dynamic_update_slice(x, update, begin): x with the box
 * [begin, begin + update.shape) replaced by update. begin is an int32
 * vector with one entry per axis of x, known only at run time (a graph
 * input) or a const. Out-of-range entries are clamped as XLA's
 * DynamicUpdateSlice does, begin[d] to [0, x.shape[d] - update.shape[d]],
 * so the box always fits: a KV-cache position past the end rewrites the
 * last slot instead of failing or writing out of bounds. The lowering
 * clamps in the program the same way before MIL slice_update (whose own
 * reading of a negative or too large begin, Python slicing of x, would
 * give a slice of another size, which the op refuses). */
/* With the optional int32 end (the same length as begin), the caller has
 * computed end = begin + update.shape and checked the box on the host:
 * the program takes begin and end as they are, with no integer maths
 * (maximum, minimum, add on int32 run off the Neural Engine: the lint's
 * int-compute rule), so nothing is clamped; a box that is not update's
 * shape inside x is an error when run, never a write out of bounds. */
gboolean
ane_infer_slice_update (AneInferCtx *ctx,
                        GError     **error)
{
  const AneSpec *x = ctx->inputs[0], *u = ctx->inputs[1], *b = ctx->inputs[2];
  char xb[ANE_SPEC_STRLEN], ub[ANE_SPEC_STRLEN], bb[ANE_SPEC_STRLEN];

  if (!require_not_block (ctx, 0, error) ||
      !ane_infer_same_dtype (ctx, 0, 1, error))
    return FALSE;
  if (x->rank == 0)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE, "input 'x' %s must have rank 1 or more",
                       ane_spec_format (x, xb));
      return FALSE;
    }
  if (u->rank != x->rank)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'update' %s must have the rank of input 'x' %s",
                       ane_spec_format (u, ub), ane_spec_format (x, xb));
      return FALSE;
    }
  for (guint d = 0; d < x->rank; d++)
    if (u->shape[d] > x->shape[d])
      {
        ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                         "input 'update' %s does not fit in input 'x' %s: dimension %u is %"
                         G_GINT64_FORMAT " > %" G_GINT64_FORMAT,
                         ane_spec_format (u, ub), ane_spec_format (x, xb), d, u->shape[d], x->shape[d]);
        return FALSE;
      }
  if (b->dtype != ANE_DTYPE_INT32)
    {
      ane_infer_error (ctx, error, ANE_ERROR_DTYPE, "input 'begin' must be int32, got %s",
                       ane_spec_format (b, bb));
      return FALSE;
    }
  if (b->rank != 1 || b->shape[0] != (gint64) x->rank)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'begin' %s must be int32[%u], one entry per axis of input 'x' %s",
                       ane_spec_format (b, bb), x->rank, ane_spec_format (x, xb));
      return FALSE;
    }
  if (ctx->inputs[3] != NULL)
    {
      const AneSpec *e = ctx->inputs[3];

      if (e->dtype != ANE_DTYPE_INT32 || e->rank != 1 || e->shape[0] != (gint64) x->rank)
        {
          ane_infer_error (ctx, error, e->dtype != ANE_DTYPE_INT32 ? ANE_ERROR_DTYPE : ANE_ERROR_SHAPE,
                           "input 'end' %s must be int32[%u], one entry per axis of input 'x' %s",
                           ane_spec_format (e, bb), x->rank, ane_spec_format (x, xb));
          return FALSE;
        }
    }
  ctx->outputs[0] = *x;
  return TRUE;
}

gboolean
ane_ref_slice_update (AneRefCtx *ctx,
                      GError   **error)
{
  const AneRefValue *x = ctx->inputs[0], *u = ctx->inputs[1], *b = ctx->inputs[2];
  AneRefValue *y = ctx->outputs[0];
  const AneRefValue *e = ctx->inputs[3];
  gint64 begin[ANE_MAX_RANK], c[ANE_MAX_RANK];

  for (guint d = 0; d < x->rank; d++)
    {
      if (e != NULL && (b->v[d] < 0 || e->v[d] - b->v[d] != (double) u->shape[d] || e->v[d] > (double) x->shape[d]))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "slice_update: the box [%g, %g) on axis %u is not the update's %" G_GINT64_FORMAT
                       " inside x's %" G_GINT64_FORMAT, b->v[d], e->v[d], d, u->shape[d], x->shape[d]);
          return FALSE;
        }
      begin[d] = CLAMP ((gint64) b->v[d], 0, x->shape[d] - u->shape[d]);
    }
  copy_values (x, y);
  for (gsize i = 0; i < u->n; i++)
    {
      ane_ref_unravel (i, u->shape, u->rank, c);
      for (guint d = 0; d < u->rank; d++)
        c[d] += begin[d];
      y->v[ane_ref_ravel (c, y->shape, y->rank)] = u->v[i];
    }
  return TRUE;
}

/* --- builder methods --------------------------------------------------- */

static AneTensor *
add_unary (AneGraph   *self,
           AneOpKind   kind,
           AneTensor  *x,
           GVariant   *attrs,
           GError    **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  return ane_graph_add_node (self, kind, &x, 1, attrs, NULL, error);
}

/**
 * ane_graph_reshape:
 * @self: a graph
 * @x: the tensor to reshape (any non-block dtype)
 * @shape: (array length=rank) (nullable): the new shape; one entry may be -1,
 *   which is inferred from the element count
 * @rank: number of entries in @shape (0 for a scalar)
 * @error: return location for a #GError
 *
 * Gives @x a new shape with the same elements in C order, as numpy.reshape.
 * The element counts must match.
 *
 * Returns: (transfer full): the reshaped tensor
 */
AneTensor *
ane_graph_reshape (AneGraph      *self,
                   AneTensor     *x,
                   const gint64  *shape,
                   guint          rank,
                   GError       **error)
{
  g_return_val_if_fail (shape != NULL || rank == 0, NULL);
  return add_unary (self, ANE_OP_RESHAPE, x,
                    ane_attrs_new ("shape", ane_attrs_ints_variant (shape, rank), NULL), error);
}

/**
 * ane_graph_transpose:
 * @self: a graph
 * @x: the tensor to permute (any non-block dtype)
 * @perm: (array length=rank) (nullable): a permutation of 0 .. rank-1, one
 *   entry per axis of @x (no negative entries)
 * @rank: number of entries in @perm; must equal the rank of @x
 * @error: return location for a #GError
 *
 * Permutes the axes of @x as numpy.transpose: output axis i is input axis
 * perm[i], so `out.shape[i] = x.shape[perm[i]]`.
 *
 * Returns: (transfer full): the permuted tensor
 */
AneTensor *
ane_graph_transpose (AneGraph      *self,
                     AneTensor     *x,
                     const gint64  *perm,
                     guint          rank,
                     GError       **error)
{
  g_return_val_if_fail (perm != NULL || rank == 0, NULL);
  return add_unary (self, ANE_OP_TRANSPOSE, x,
                    ane_attrs_new ("perm", ane_attrs_ints_variant (perm, rank), NULL), error);
}

/**
 * ane_graph_concat:
 * @self: a graph
 * @values: (array length=n_values): the tensors to join: at least one, all of
 *   one dtype and rank, with equal dims except along @axis
 * @n_values: number of tensors in @values
 * @axis: the axis to join along (negative counts from the end)
 * @error: return location for a #GError
 *
 * Joins tensors along an existing axis, as numpy.concatenate.
 *
 * Returns: (transfer full): the joined tensor
 */
AneTensor *
ane_graph_concat (AneGraph    *self,
                  AneTensor  **values,
                  guint        n_values,
                  int          axis,
                  GError     **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (values != NULL || n_values == 0, NULL);
  for (guint i = 0; i < n_values; i++)
    g_return_val_if_fail (ANE_IS_TENSOR (values[i]), NULL);
  return ane_graph_add_node (self, ANE_OP_CONCAT, values, n_values,
                             ane_attrs_new ("axis", g_variant_new_int64 (axis), NULL), NULL, error);
}

/**
 * ane_graph_narrow:
 * @self: a graph
 * @x: the tensor to slice (any non-block dtype)
 * @axis: the axis to slice (negative counts from the end)
 * @start: the first index kept; negative counts from the end of the axis
 * @length: how many indices to keep (>= 0)
 * @error: return location for a #GError
 *
 * Slices `x[..., start:start+length, ...]` along @axis, as torch.narrow. The
 * slice must lie within the axis.
 *
 * Returns: (transfer full): the slice
 */
AneTensor *
ane_graph_narrow (AneGraph   *self,
                  AneTensor  *x,
                  int         axis,
                  gint64      start,
                  gint64      length,
                  GError    **error)
{
  return add_unary (self, ANE_OP_NARROW, x,
                    ane_attrs_new ("axis", g_variant_new_int64 (axis),
                                   "start", g_variant_new_int64 (start),
                                   "length", g_variant_new_int64 (length), NULL),
                    error);
}

/**
 * ane_graph_gather:
 * @self: a graph
 * @x: the tensor to take from (any non-block dtype)
 * @indices: an integer tensor of positions along @axis; negative positions
 *   count from the end
 * @axis: the axis of @x to index (negative counts from the end)
 * @error: return location for a #GError
 *
 * Takes elements along an axis, as numpy.take: the result has shape
 * `x.shape[:axis] + indices.shape + x.shape[axis+1:]`. An index outside
 * [-dim, dim) makes the run fail.
 *
 * Returns: (transfer full): the gathered tensor
 */
AneTensor *
ane_graph_gather (AneGraph   *self,
                  AneTensor  *x,
                  AneTensor  *indices,
                  int         axis,
                  GError    **error)
{
  AneTensor *inputs[2] = { x, indices };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x) && ANE_IS_TENSOR (indices), NULL);
  return ane_graph_add_node (self, ANE_OP_GATHER, inputs, 2,
                             ane_attrs_new ("axis", g_variant_new_int64 (axis), NULL), NULL, error);
}

/**
 * ane_graph_expand:
 * @self: a graph
 * @x: the tensor to broadcast (any non-block dtype)
 * @shape: (array length=rank) (nullable): the target shape, of rank at least
 *   that of @x
 * @rank: number of entries in @shape
 * @error: return location for a #GError
 *
 * Broadcasts @x to @shape, as numpy.broadcast_to: shapes align at the right
 * and each dim of @x must equal the target dim or be 1.
 *
 * Returns: (transfer full): the broadcast tensor
 */
AneTensor *
ane_graph_expand (AneGraph      *self,
                  AneTensor     *x,
                  const gint64  *shape,
                  guint          rank,
                  GError       **error)
{
  g_return_val_if_fail (shape != NULL || rank == 0, NULL);
  return add_unary (self, ANE_OP_EXPAND, x,
                    ane_attrs_new ("shape", ane_attrs_ints_variant (shape, rank), NULL), error);
}

/**
 * ane_graph_cast:
 * @self: a graph
 * @x: the tensor to convert (any non-block dtype)
 * @dtype: the target dtype (not a block dtype)
 * @error: return location for a #GError
 *
 * Converts @x to @dtype. Floats round to nearest even; float to integer
 * truncates toward zero and saturates (NaN becomes 0); to bool is `x != 0`
 * (so NaN becomes true, as in numpy).
 *
 * Returns: (transfer full): the converted tensor
 */
AneTensor *
ane_graph_cast (AneGraph   *self,
                AneTensor  *x,
                AneDType    dtype,
                GError    **error)
{
  g_return_val_if_fail ((guint) dtype < ANE_N_DTYPES, NULL);
  return add_unary (self, ANE_OP_CAST, x,
                    ane_attrs_new ("dtype", g_variant_new_string (ane_dtype_to_string (dtype)), NULL),
                    error);
}

/**
 * ane_graph_stop_gradient:
 * @self: a graph
 * @x: a tensor (any non-block dtype)
 * @error: return location for a #GError
 *
 * The identity; marks @x as a constant for gradient-based tools
 * (as jax.lax.stop_gradient).
 *
 * Returns: (transfer full): @x's value
 */
AneTensor *
ane_graph_stop_gradient (AneGraph   *self,
                         AneTensor  *x,
                         GError    **error)
{
  return add_unary (self, ANE_OP_STOP_GRADIENT, x, NULL, error);
}

/**
 * ane_graph_slice_update:
 * @self: a graph
 * @x: the tensor to update (any non-block dtype, rank 1 or more)
 * @update: the new values: the dtype and rank of @x, each dimension at most
 *   @x's
 * @begin: an int32 tensor of shape `[rank(x)]`: where the box starts on each
 *   axis; usually a graph input (a position known only at run time) or a const
 * @error: return location for a #GError
 *
 * Gives @x with the box that starts at @begin and has @update's shape
 * replaced by @update, as jax.lax.dynamic_update_slice. Each entry of @begin
 * is clamped to `[0, x.shape[d] - update.shape[d]]`, so the box always lies
 * inside @x (an out-of-range position is never an error).
 *
 * This is how a KV cache is written one position at a time: read a state
 * `[1, C, 1, S]` with [method@Ane.Graph.read_state], replace `[1, C, 1, 1]`
 * at begin `[0, 0, 0, pos]`, and store the result with
 * [method@Ane.Graph.write_state]. It lowers to MIL slice_update at iOS18,
 * and to a select with a mask built from @begin before iOS18.
 *
 * The clamp is integer arithmetic in the program, which runs off the Neural
 * Engine. The op takes an optional fourth input `end` (through
 * [method@Ane.Graph.apply]): an int32 `[rank(x)]` that the caller computes
 * with @begin (`end = begin + update.shape`) and checks on the host; the
 * program then uses both as they are, with no integer maths, and a box
 * that is not @update's shape inside @x fails the run with
 * %ANE_ERROR_INVALID_ARGUMENT instead of being clamped.
 *
 * Returns: (transfer full): the updated tensor (the shape and dtype of @x)
 */
AneTensor *
ane_graph_slice_update (AneGraph   *self,
                        AneTensor  *x,
                        AneTensor  *update,
                        AneTensor  *begin,
                        GError    **error)
{
  AneTensor *inputs[4] = { x, update, begin, NULL };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (update), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (begin), NULL);
  return ane_graph_add_node (self, ANE_OP_SLICE_UPDATE, inputs, 4, NULL, NULL, error);
}
