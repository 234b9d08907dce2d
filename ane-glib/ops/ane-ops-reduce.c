/* ops/ane-ops-reduce.c: reductions, cumsum, top_k and scatter_add
 *
 * References for the semantics:
 *   reduce_*     numpy.sum / mean / max / min / prod with axis=tuple, keepdims
 *                https://numpy.org/doc/stable/reference/generated/numpy.sum.html
 *   cumsum       tf.math.cumsum (exclusive, reverse)
 *                https://www.tensorflow.org/api_docs/python/tf/math/cumsum
 *   top_k        torch.topk(largest=True, sorted=True), with ties broken
 *                toward the lower index (a stable descending sort)
 *                https://pytorch.org/docs/stable/generated/torch.topk.html
 *   scatter_add  torch.Tensor.scatter_add_
 *                https://pytorch.org/docs/stable/generated/torch.Tensor.scatter_add_.html
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ane-ops.h"


/* Room for the formatted axes list. */
#define AXES_STRLEN 200

static const char *
format_ints (const gint64 *v,
             gsize         n,
             char          buf[AXES_STRLEN])
{
  gsize len = 1;

  buf[0] = '[';
  buf[1] = '\0';
  for (gsize i = 0; i < n && len < AXES_STRLEN - 32; i++)
    len += g_snprintf (buf + len, AXES_STRLEN - len, i ? ",%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
                       v[i]);
  if (len >= AXES_STRLEN - 32 && n > 0)
    len += g_snprintf (buf + len, AXES_STRLEN - len, ",...");
  g_snprintf (buf + len, AXES_STRLEN - len, "]");
  return buf;
}

/* Splits shape around axis: outer = product of the dims before it, inner =
 * product of the dims after it, so element (o, j, i) sits at (o*dim + j)*inner + i. */
static void
split_at_axis (const gint64 *shape,
               guint         rank,
               guint         axis,
               gsize        *outer,
               gsize        *inner)
{
  *outer = 1;
  *inner = 1;
  for (guint d = 0; d < axis; d++)
    *outer *= (gsize) shape[d];
  for (guint d = axis + 1; d < rank; d++)
    *inner *= (gsize) shape[d];
}

/* --- reduce_sum / mean / max / min / prod ------------------------------ */

/* Which axes of a rank-`rank` value the 'axes' attribute reduces: empty means
 * all; entries may be negative and must be distinct after normalization. */
static gboolean
reduced_axes (GVariant *attrs,
              guint     rank,
              gboolean  reduced[ANE_MAX_RANK],
              gint64   *bad_axis,
              gboolean *repeated)
{
  gsize n;
  const gint64 *axes = ane_attrs_ints (attrs, "axes", &n);

  memset (reduced, 0, ANE_MAX_RANK * sizeof (gboolean));
  *repeated = FALSE;
  for (guint d = 0; d < rank && n == 0; d++)
    reduced[d] = TRUE;
  for (gsize i = 0; i < n; i++)
    {
      guint a;

      if (!ane_normalize_axis (axes[i], rank, &a) || reduced[a])
        {
          *bad_axis = axes[i];
          *repeated = ane_normalize_axis (axes[i], rank, &a);
          return FALSE;
        }
      reduced[a] = TRUE;
    }
  return TRUE;
}

gboolean
ane_infer_reduce (AneInferCtx *ctx,
                  GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  AneOpKind kind = ctx->op->kind;
  gboolean keepdims = ane_attrs_bool (ctx->attrs, "keepdims");
  gboolean reduced[ANE_MAX_RANK], repeated;
  gint64 shape[ANE_MAX_RANK], bad = 0;
  gboolean empty = FALSE;
  guint rank = 0;
  char xb[ANE_SPEC_STRLEN], ab[AXES_STRLEN];

  /* A mean of integers is not an integer; sum, max, min and prod are. */
  if (kind == ANE_OP_REDUCE_MEAN ? !ane_infer_require_float (ctx, 0, error)
                                 : !ane_infer_require_numeric (ctx, 0, error))
    return FALSE;
  if (!reduced_axes (ctx->attrs, x->rank, reduced, &bad, &repeated))
    {
      gsize n;
      const gint64 *axes = ane_attrs_ints (ctx->attrs, "axes", &n);

      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       repeated ? "axes %s name axis %" G_GINT64_FORMAT " twice for input 'x' %s"
                                : "axes %s: axis %" G_GINT64_FORMAT " is out of range for input 'x' %s",
                       format_ints (axes, n, ab), bad, ane_spec_format (x, xb));
      return FALSE;
    }
  for (guint d = 0; d < x->rank; d++)
    {
      if (reduced[d])
        {
          empty |= x->shape[d] == 0;
          if (keepdims)
            shape[rank++] = 1;
        }
      else
        shape[rank++] = x->shape[d];
    }
  /* numpy: "zero-size array to reduction operation maximum which has no identity". */
  if (empty && (kind == ANE_OP_REDUCE_MAX || kind == ANE_OP_REDUCE_MIN))
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "cannot take the %s over an empty axis of input 'x' %s",
                       kind == ANE_OP_REDUCE_MAX ? "maximum" : "minimum", ane_spec_format (x, xb));
      return FALSE;
    }
  ctx->outputs[0].dtype = x->dtype;
  ane_spec_set_shape (&ctx->outputs[0], shape, rank);
  return TRUE;
}

gboolean
ane_ref_reduce (AneRefCtx *ctx,
                GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  AneOpKind kind = ctx->node->op->kind;
  gboolean reduced[ANE_MAX_RANK], repeated;
  gint64 kshape[ANE_MAX_RANK], c[ANE_MAX_RANK], bad;
  double init, count = 1.0;

  reduced_axes (ctx->attrs, x->rank, reduced, &bad, &repeated);
  /* The output in keepdims form has the same C-order layout either way. */
  for (guint d = 0; d < x->rank; d++)
    {
      kshape[d] = reduced[d] ? 1 : x->shape[d];
      if (reduced[d])
        count *= (double) x->shape[d];
    }

  switch (kind)
    {
    case ANE_OP_REDUCE_SUM:
    case ANE_OP_REDUCE_MEAN: init = 0.0; break;
    case ANE_OP_REDUCE_PROD: init = 1.0; break;
    case ANE_OP_REDUCE_MAX:  init = -INFINITY; break;
    case ANE_OP_REDUCE_MIN:  init = INFINITY; break;
    default:                 g_assert_not_reached ();
    }
  for (gsize i = 0; i < y->n; i++)
    y->v[i] = init;

  for (gsize i = 0; i < x->n; i++)
    {
      double v = x->v[i];
      double *acc;

      ane_ref_unravel (i, x->shape, x->rank, c);
      for (guint d = 0; d < x->rank; d++)
        if (reduced[d])
          c[d] = 0;
      acc = &y->v[ane_ref_ravel (c, kshape, x->rank)];
      switch (kind)
        {
        case ANE_OP_REDUCE_SUM:
        case ANE_OP_REDUCE_MEAN: *acc += v; break;
        case ANE_OP_REDUCE_PROD: *acc *= v; break;
        /* numpy.max / numpy.min propagate NaN: once NaN, always NaN. */
        case ANE_OP_REDUCE_MAX:  if (isnan (v) || v > *acc) *acc = v; break;
        case ANE_OP_REDUCE_MIN:  if (isnan (v) || v < *acc) *acc = v; break;
        default:                 g_assert_not_reached ();
        }
    }

  if (kind == ANE_OP_REDUCE_MEAN)
    for (gsize i = 0; i < y->n; i++)
      y->v[i] /= count;   /* an empty mean is 0/0 = NaN, as numpy */
  return TRUE;
}

/* --- cumsum ------------------------------------------------------------ */

gboolean
ane_infer_cumsum (AneInferCtx *ctx,
                  GError     **error)
{
  guint axis;

  if (!ane_infer_require_numeric (ctx, 0, error) ||
      !ane_infer_axis (ctx, "axis", 0, &axis, error))
    return FALSE;
  ctx->outputs[0] = *ctx->inputs[0];
  return TRUE;
}

gboolean
ane_ref_cumsum (AneRefCtx *ctx,
                GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  gboolean exclusive = ane_attrs_bool (ctx->attrs, "exclusive");
  gboolean reverse = ane_attrs_bool (ctx->attrs, "reverse");
  gsize outer, inner, dim;
  guint axis;

  ane_normalize_axis (ane_attrs_int (ctx->attrs, "axis"), x->rank, &axis);
  split_at_axis (x->shape, x->rank, axis, &outer, &inner);
  dim = (gsize) x->shape[axis];

  for (gsize o = 0; o < outer; o++)
    for (gsize i = 0; i < inner; i++)
      {
        double acc = 0.0;

        /* Walk the lane forwards (or backwards with reverse); the exclusive
         * sum is the running total before adding the current element. */
        for (gsize t = 0; t < dim; t++)
          {
            gsize j = reverse ? dim - 1 - t : t;
            gsize off = (o * dim + j) * inner + i;

            if (exclusive)
              {
                y->v[off] = acc;
                acc += x->v[off];
              }
            else
              {
                acc += x->v[off];
                y->v[off] = acc;
              }
          }
      }
  return TRUE;
}

/* --- top_k ------------------------------------------------------------- */

gboolean
ane_infer_top_k (AneInferCtx *ctx,
                 GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  gint64 k = ane_attrs_int (ctx->attrs, "k");
  guint axis;
  char xb[ANE_SPEC_STRLEN];

  if (!ane_infer_require_numeric (ctx, 0, error) ||
      !ane_infer_axis (ctx, "axis", 0, &axis, error))
    return FALSE;
  if (k < 1 || k > x->shape[axis])
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "k %" G_GINT64_FORMAT " must be in [1, %" G_GINT64_FORMAT
                       "] for axis %u of input 'x' %s",
                       k, x->shape[axis], axis, ane_spec_format (x, xb));
      return FALSE;
    }
  /* The indices are int32. */
  if (x->shape[axis] - 1 > G_MAXINT32)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "axis %u of input 'x' %s is too long for int32 indices",
                       axis, ane_spec_format (x, xb));
      return FALSE;
    }
  ctx->outputs[0] = *x;
  ctx->outputs[0].shape[axis] = k;
  ctx->outputs[1] = ctx->outputs[0];
  ctx->outputs[1].dtype = ANE_DTYPE_INT32;
  return TRUE;
}

typedef struct {
  double v;
  gsize  i;
} Entry;

/* Descending by value with NaN above everything (as torch.topk), ties to the
 * lower index: a total order, so the result does not depend on qsort. */
static int
entry_compare (const void *pa,
               const void *pb)
{
  const Entry *a = pa, *b = pb;
  gboolean an = isnan (a->v), bn = isnan (b->v);

  if (an != bn)
    return an ? -1 : 1;
  if (!an && a->v != b->v)
    return a->v > b->v ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i ? 1 : 0;
}

gboolean
ane_ref_top_k (AneRefCtx *ctx,
               GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *values = ctx->outputs[0], *indices = ctx->outputs[1];
  gsize outer, inner, dim, k;
  guint axis;
  g_autofree Entry *lane = NULL;

  ane_normalize_axis (ane_attrs_int (ctx->attrs, "axis"), x->rank, &axis);
  split_at_axis (x->shape, x->rank, axis, &outer, &inner);
  dim = (gsize) x->shape[axis];
  k = (gsize) values->shape[axis];
  lane = g_new (Entry, MAX (dim, 1));

  for (gsize o = 0; o < outer; o++)
    for (gsize i = 0; i < inner; i++)
      {
        for (gsize j = 0; j < dim; j++)
          {
            lane[j].v = x->v[(o * dim + j) * inner + i];
            lane[j].i = j;
          }
        qsort (lane, dim, sizeof (Entry), entry_compare);
        for (gsize j = 0; j < k; j++)
          {
            gsize off = (o * k + j) * inner + i;

            values->v[off] = lane[j].v;
            indices->v[off] = (double) lane[j].i;
          }
      }
  return TRUE;
}

/* --- scatter_add ------------------------------------------------------- */

gboolean
ane_infer_scatter_add (AneInferCtx *ctx,
                       GError     **error)
{
  const AneSpec *x = ctx->inputs[0], *idx = ctx->inputs[1], *upd = ctx->inputs[2];
  guint axis;
  char xb[ANE_SPEC_STRLEN], ib[ANE_SPEC_STRLEN], ub[ANE_SPEC_STRLEN];

  if (!ane_infer_require_numeric (ctx, 0, error) ||
      !ane_infer_require_integer (ctx, 1, error) ||
      !ane_infer_same_dtype (ctx, 0, 2, error) ||
      !ane_infer_axis (ctx, "axis", 0, &axis, error))
    return FALSE;
  if (idx->rank != x->rank)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'indices' %s must have the rank of input 'x' %s",
                       ane_spec_format (idx, ib), ane_spec_format (x, xb));
      return FALSE;
    }
  if (upd->rank != idx->rank || memcmp (upd->shape, idx->shape, idx->rank * sizeof (gint64)) != 0)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'updates' %s must have the shape of input 'indices' %s",
                       ane_spec_format (upd, ub), ane_spec_format (idx, ib));
      return FALSE;
    }
  /* torch: index.size(d) <= self.size(d) for every d != dim. */
  for (guint d = 0; d < x->rank; d++)
    if (d != axis && idx->shape[d] > x->shape[d])
      {
        ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                         "input 'indices' %s is larger than input 'x' %s in dimension %u "
                         "(only axis %u may be)",
                         ane_spec_format (idx, ib), ane_spec_format (x, xb), d, axis);
        return FALSE;
      }
  ctx->outputs[0] = *x;
  return TRUE;
}

gboolean
ane_ref_scatter_add (AneRefCtx *ctx,
                     GError   **error)
{
  const AneRefValue *x = ctx->inputs[0], *idx = ctx->inputs[1], *upd = ctx->inputs[2];
  AneRefValue *y = ctx->outputs[0];
  gint64 c[ANE_MAX_RANK], dim;
  guint axis;

  ane_normalize_axis (ane_attrs_int (ctx->attrs, "axis"), x->rank, &axis);
  dim = x->shape[axis];
  if (x->n > 0)
    memcpy (y->v, x->v, x->n * sizeof (double));

  /* out[c with c[axis] = indices[p]] += updates[p] for every position p. */
  for (gsize p = 0; p < idx->n; p++)
    {
      gint64 k = (gint64) idx->v[p];

      /* As torch, indices are not wrapped: they must lie in [0, dim). */
      if (k < 0 || k >= dim)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "index %" G_GINT64_FORMAT " in input 'indices' is out of range for axis %u "
                       "of size %" G_GINT64_FORMAT, k, axis, dim);
          return FALSE;
        }
      ane_ref_unravel (p, idx->shape, idx->rank, c);
      c[axis] = k;
      y->v[ane_ref_ravel (c, x->shape, x->rank)] += upd->v[p];
    }
  return TRUE;
}

/* --- builder methods --------------------------------------------------- */

static AneTensor *
add_reduce (AneGraph      *self,
            AneOpKind      kind,
            AneTensor     *x,
            const gint64  *axes,
            guint          n_axes,
            gboolean       keepdims,
            GError       **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  g_return_val_if_fail (axes != NULL || n_axes == 0, NULL);
  return ane_graph_add_node (self, kind, &x, 1,
                             ane_attrs_new ("axes", ane_attrs_ints_variant (axes, n_axes),
                                            "keepdims", g_variant_new_boolean (keepdims), NULL),
                             NULL, error);
}

/**
 * ane_graph_reduce_sum:
 * @self: a graph
 * @x: a float or integer tensor
 * @axes: (array length=n_axes) (nullable): the axes to reduce (negative count
 *   from the end, no repeats); empty reduces all axes
 * @n_axes: number of entries in @axes
 * @keepdims: keep each reduced axis as a dimension of size 1
 * @error: return location for a #GError
 *
 * Sums over @axes, as numpy.sum(x, axis=axes, keepdims=keepdims). Integer
 * sums saturate to the dtype.
 *
 * Returns: (transfer full): the sums
 */
AneTensor *
ane_graph_reduce_sum (AneGraph      *self,
                      AneTensor     *x,
                      const gint64  *axes,
                      guint          n_axes,
                      gboolean       keepdims,
                      GError       **error)
{
  return add_reduce (self, ANE_OP_REDUCE_SUM, x, axes, n_axes, keepdims, error);
}

/**
 * ane_graph_reduce_mean:
 * @self: a graph
 * @x: a float tensor
 * @axes: (array length=n_axes) (nullable): the axes to reduce (negative count
 *   from the end, no repeats); empty reduces all axes
 * @n_axes: number of entries in @axes
 * @keepdims: keep each reduced axis as a dimension of size 1
 * @error: return location for a #GError
 *
 * Arithmetic mean over @axes, as numpy.mean(x, axis=axes, keepdims=keepdims).
 *
 * Returns: (transfer full): the means
 */
AneTensor *
ane_graph_reduce_mean (AneGraph      *self,
                       AneTensor     *x,
                       const gint64  *axes,
                       guint          n_axes,
                       gboolean       keepdims,
                       GError       **error)
{
  return add_reduce (self, ANE_OP_REDUCE_MEAN, x, axes, n_axes, keepdims, error);
}

/**
 * ane_graph_reduce_max:
 * @self: a graph
 * @x: a float or integer tensor
 * @axes: (array length=n_axes) (nullable): the axes to reduce (negative count
 *   from the end, no repeats); empty reduces all axes
 * @n_axes: number of entries in @axes
 * @keepdims: keep each reduced axis as a dimension of size 1
 * @error: return location for a #GError
 *
 * Maximum over @axes, as numpy.max(x, axis=axes, keepdims=keepdims): NaN
 * propagates, and the reduced axes must not be empty.
 *
 * Returns: (transfer full): the maxima
 */
AneTensor *
ane_graph_reduce_max (AneGraph      *self,
                      AneTensor     *x,
                      const gint64  *axes,
                      guint          n_axes,
                      gboolean       keepdims,
                      GError       **error)
{
  return add_reduce (self, ANE_OP_REDUCE_MAX, x, axes, n_axes, keepdims, error);
}

/**
 * ane_graph_reduce_min:
 * @self: a graph
 * @x: a float or integer tensor
 * @axes: (array length=n_axes) (nullable): the axes to reduce (negative count
 *   from the end, no repeats); empty reduces all axes
 * @n_axes: number of entries in @axes
 * @keepdims: keep each reduced axis as a dimension of size 1
 * @error: return location for a #GError
 *
 * Minimum over @axes, as numpy.min(x, axis=axes, keepdims=keepdims): NaN
 * propagates, and the reduced axes must not be empty.
 *
 * Returns: (transfer full): the minima
 */
AneTensor *
ane_graph_reduce_min (AneGraph      *self,
                      AneTensor     *x,
                      const gint64  *axes,
                      guint          n_axes,
                      gboolean       keepdims,
                      GError       **error)
{
  return add_reduce (self, ANE_OP_REDUCE_MIN, x, axes, n_axes, keepdims, error);
}

/**
 * ane_graph_reduce_prod:
 * @self: a graph
 * @x: a float or integer tensor
 * @axes: (array length=n_axes) (nullable): the axes to reduce (negative count
 *   from the end, no repeats); empty reduces all axes
 * @n_axes: number of entries in @axes
 * @keepdims: keep each reduced axis as a dimension of size 1
 * @error: return location for a #GError
 *
 * Product over @axes, as numpy.prod(x, axis=axes, keepdims=keepdims). Integer
 * products saturate to the dtype.
 *
 * Returns: (transfer full): the products
 */
AneTensor *
ane_graph_reduce_prod (AneGraph      *self,
                       AneTensor     *x,
                       const gint64  *axes,
                       guint          n_axes,
                       gboolean       keepdims,
                       GError       **error)
{
  return add_reduce (self, ANE_OP_REDUCE_PROD, x, axes, n_axes, keepdims, error);
}

/**
 * ane_graph_cumsum:
 * @self: a graph
 * @x: a float or integer tensor
 * @axis: the axis to accumulate along (negative counts from the end)
 * @exclusive: leave out the current element (the first sum is 0)
 * @reverse: accumulate from the end of the axis
 * @error: return location for a #GError
 *
 * Running sum along @axis, as tf.math.cumsum: with @exclusive,
 * `out[i] = x[0] + ... + x[i-1]`; with @reverse, `out[i] = x[i] + ... + x[n-1]`;
 * both together give `x[i+1] + ... + x[n-1]`.
 *
 * Returns: (transfer full): the running sums, shaped as @x
 */
AneTensor *
ane_graph_cumsum (AneGraph   *self,
                  AneTensor  *x,
                  int         axis,
                  gboolean    exclusive,
                  gboolean    reverse,
                  GError    **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  return ane_graph_add_node (self, ANE_OP_CUMSUM, &x, 1,
                             ane_attrs_new ("axis", g_variant_new_int64 (axis),
                                            "exclusive", g_variant_new_boolean (exclusive),
                                            "reverse", g_variant_new_boolean (reverse), NULL),
                             NULL, error);
}

/**
 * ane_graph_top_k:
 * @self: a graph
 * @x: a float or integer tensor
 * @k: how many values to keep, 1 <= @k <= the size of @axis
 * @axis: the axis to search (negative counts from the end)
 * @indices: (out) (optional) (transfer full): the int32 positions of the
 *   values along @axis
 * @error: return location for a #GError
 *
 * The @k largest values along @axis in descending order, as torch.topk;
 * equal values keep their original order (the lower index first), and NaN
 * counts as larger than any number.
 *
 * Returns: (transfer full): the values, of @x's dtype, with @axis of size @k
 */
AneTensor *
ane_graph_top_k (AneGraph    *self,
                 AneTensor   *x,
                 gint64       k,
                 int          axis,
                 AneTensor  **indices,
                 GError     **error)
{
  g_autoptr(GPtrArray) outputs = NULL;
  AneTensor *values;

  if (indices != NULL)
    *indices = NULL;
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  values = ane_graph_add_node (self, ANE_OP_TOP_K, &x, 1,
                               ane_attrs_new ("k", g_variant_new_int64 (k),
                                              "axis", g_variant_new_int64 (axis), NULL),
                               &outputs, error);
  if (values != NULL && indices != NULL)
    *indices = g_object_ref (g_ptr_array_index (outputs, 1));
  return values;
}

/**
 * ane_graph_scatter_add:
 * @self: a graph
 * @x: a float or integer tensor, the starting values
 * @indices: an integer tensor of the rank of @x, positions along @axis in
 *   [0, dim); on the other axes its dims must not exceed those of @x
 * @updates: the values to add, of @x's dtype and @indices' shape
 * @axis: the axis @indices address (negative counts from the end)
 * @error: return location for a #GError
 *
 * Adds each update into a copy of @x, as torch.Tensor.scatter_add: for every
 * position p of @indices, `out[p with p[axis] = indices[p]] += updates[p]`.
 * Repeated indices accumulate. An index outside [0, dim) makes the run fail.
 *
 * Returns: (transfer full): the result, shaped as @x
 */
AneTensor *
ane_graph_scatter_add (AneGraph   *self,
                       AneTensor  *x,
                       AneTensor  *indices,
                       AneTensor  *updates,
                       int         axis,
                       GError    **error)
{
  AneTensor *inputs[3] = { x, indices, updates };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x) && ANE_IS_TENSOR (indices) && ANE_IS_TENSOR (updates),
                        NULL);
  return ane_graph_add_node (self, ANE_OP_SCATTER_ADD, inputs, 3,
                             ane_attrs_new ("axis", g_variant_new_int64 (axis), NULL), NULL, error);
}
