/* ops/ane-ops-norm.c: softmax and the normalization ops
 *
 * Semantics (docs/ir-ops.md) and their public references:
 * - softmax: numerically stable exp(x - max) / sum exp(x - max), as
 *   torch.nn.functional.softmax
 *   (https://pytorch.org/docs/stable/generated/torch.nn.functional.softmax.html).
 * - layer_norm: Ba, Kiros & Hinton, "Layer Normalization" (arXiv:1607.06450);
 *   torch.nn.functional.layer_norm with normalized_shape = the trailing dims,
 *   population (biased) variance.
 * - rms_norm: Zhang & Sennrich, "Root Mean Square Layer Normalization"
 *   (arXiv:1910.07467), in the LLaMA form x / sqrt(mean(x^2) + eps) * weight.
 * - group_norm: Wu & He, "Group Normalization" (arXiv:1803.08494);
 *   torch.nn.functional.group_norm.
 * - layer_norm_2d: SAM's LayerNorm2d (segment_anything/modeling/common.py),
 *   a layer norm over the channel axis of NCHW at every position.
 * - batch_norm: Ioffe & Szegedy, "Batch Normalization" (arXiv:1502.03167),
 *   inference form, as torch.nn.functional.batch_norm(training=False).
 *
 * Every op takes float tensors; optional affine parameters must have the
 * dtype of x and exactly the documented shapes (no broadcasting).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ops/ane-ops.h"

/* --- shape rules ------------------------------------------------------- */

static gboolean
check_eps (AneInferCtx *ctx,
           GError     **error)
{
  double eps = ane_attrs_double (ctx->attrs, "eps");

  if (isfinite (eps) && eps >= 0.0)
    return TRUE;
  ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                   "eps must be finite and >= 0, got %g", eps);
  return FALSE;
}

/* An optional (or required) parameter of slot `slot`: absent is fine when
 * optional; otherwise the dtype of x and exactly `rank` dims `shape`. `what`
 * says where the expected shape comes from, for the message. */
static gboolean
check_param (AneInferCtx  *ctx,
             guint         slot,
             const gint64 *shape,
             guint         rank,
             const char   *what,
             GError      **error)
{
  const AneSpec *x = ctx->inputs[0], *p = ctx->inputs[slot];
  AneSpec want = { 0 };
  char bx[ANE_SPEC_STRLEN], bp[ANE_SPEC_STRLEN], bw[ANE_SPEC_STRLEN];

  if (p == NULL)
    return TRUE;
  if (!ane_infer_same_dtype (ctx, 0, slot, error))
    return FALSE;
  want.dtype = x->dtype;
  ane_spec_set_shape (&want, shape, rank);
  if (ane_spec_equal (p, &want))
    return TRUE;
  ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                   "input '%s' %s must be %s (%s of 'x' %s)",
                   ane_op_info_slot_name (ctx->op, slot), ane_spec_format (p, bp),
                   ane_spec_format (&want, bw), what, ane_spec_format (x, bx));
  return FALSE;
}

gboolean
ane_infer_softmax (AneInferCtx *ctx,
                   GError     **error)
{
  guint axis;

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_axis (ctx, "axis", 0, &axis, error))
    return FALSE;
  ctx->outputs[0] = *ctx->inputs[0];
  return TRUE;
}

/* The number of trailing axes layer_norm normalizes over, after checking the
 * `axes` attribute names exactly the last k axes of x (any order). */
static gboolean
layer_norm_n_axes (AneInferCtx *ctx,
                   guint       *n_axes,
                   GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  gsize n;
  const gint64 *axes = ane_attrs_ints (ctx->attrs, "axes", &n);
  gboolean seen[ANE_MAX_RANK] = { FALSE };
  char buf[ANE_SPEC_STRLEN];

  if (n == 0 || n > x->rank)
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "axes must name 1 to %u axes of 'x' %s, got %" G_GSIZE_FORMAT,
                       x->rank, ane_spec_format (x, buf), n);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    {
      guint a;

      if (!ane_normalize_axis (axes[i], x->rank, &a))
        {
          ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                           "axes[%" G_GSIZE_FORMAT "] = %" G_GINT64_FORMAT
                           " is out of range for 'x' %s",
                           i, axes[i], ane_spec_format (x, buf));
          return FALSE;
        }
      if (seen[a])
        {
          ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                           "axes repeats axis %u of 'x' %s", a, ane_spec_format (x, buf));
          return FALSE;
        }
      if (a < x->rank - n)
        {
          ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                           "axes must be the trailing axes of 'x' %s (e.g. [-1] or [-2,-1]); "
                           "axis %" G_GINT64_FORMAT " is not among the last %" G_GSIZE_FORMAT,
                           ane_spec_format (x, buf), axes[i], n);
          return FALSE;
        }
      seen[a] = TRUE;
    }
  *n_axes = (guint) n;
  return TRUE;
}

gboolean
ane_infer_layer_norm (AneInferCtx *ctx,
                      GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  guint k;

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_require_rank (ctx, 0, 1, ANE_MAX_RANK, error) ||
      !layer_norm_n_axes (ctx, &k, error) ||
      !check_eps (ctx, error))
    return FALSE;
  for (guint slot = 1; slot <= 2; slot++)
    if (!check_param (ctx, slot, x->shape + x->rank - k, k, "the normalized trailing dims", error))
      return FALSE;
  ctx->outputs[0] = *x;
  return TRUE;
}

gboolean
ane_infer_rms_norm (AneInferCtx *ctx,
                    GError     **error)
{
  const AneSpec *x = ctx->inputs[0];

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_require_rank (ctx, 0, 1, ANE_MAX_RANK, error) ||
      !check_eps (ctx, error) ||
      !check_param (ctx, 1, &x->shape[x->rank - 1], 1, "the last dim", error))
    return FALSE;
  ctx->outputs[0] = *x;
  return TRUE;
}

gboolean
ane_infer_group_norm (AneInferCtx *ctx,
                      GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  gint64 groups = ane_attrs_int (ctx->attrs, "groups");
  char buf[ANE_SPEC_STRLEN];

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_require_rank (ctx, 0, 2, ANE_MAX_RANK, error) ||
      !check_eps (ctx, error))
    return FALSE;
  if (groups <= 0 || x->shape[1] % groups != 0)
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "groups %" G_GINT64_FORMAT " must be positive and divide the %"
                       G_GINT64_FORMAT " channels of 'x' %s",
                       groups, x->shape[1], ane_spec_format (x, buf));
      return FALSE;
    }
  for (guint slot = 1; slot <= 2; slot++)
    if (!check_param (ctx, slot, &x->shape[1], 1, "the channels", error))
      return FALSE;
  ctx->outputs[0] = *x;
  return TRUE;
}

gboolean
ane_infer_layer_norm_2d (AneInferCtx *ctx,
                         GError     **error)
{
  const AneSpec *x = ctx->inputs[0];

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_require_rank (ctx, 0, 4, 4, error) ||
      !check_eps (ctx, error))
    return FALSE;
  for (guint slot = 1; slot <= 2; slot++)
    if (!check_param (ctx, slot, &x->shape[1], 1, "the channels", error))
      return FALSE;
  ctx->outputs[0] = *x;
  return TRUE;
}

gboolean
ane_infer_batch_norm (AneInferCtx *ctx,
                      GError     **error)
{
  const AneSpec *x = ctx->inputs[0];

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_require_rank (ctx, 0, 2, ANE_MAX_RANK, error) ||
      !check_eps (ctx, error))
    return FALSE;
  /* mean and variance are required (the graph checks presence), gamma and beta optional. */
  for (guint slot = 1; slot <= 4; slot++)
    if (!check_param (ctx, slot, &x->shape[1], 1, "the channels", error))
      return FALSE;
  ctx->outputs[0] = *x;
  return TRUE;
}

/* --- reference kernels ------------------------------------------------- */

/* Splits a shape at `axis` into outer (dims before), size (dim at), inner (dims after). */
static void
split_at_axis (const AneRefValue *x,
               guint              axis,
               gsize             *outer,
               gsize             *size,
               gsize             *inner)
{
  *outer = 1;
  *inner = 1;
  for (guint i = 0; i < axis; i++)
    *outer *= (gsize) x->shape[i];
  *size = (gsize) x->shape[axis];
  for (guint i = axis + 1; i < x->rank; i++)
    *inner *= (gsize) x->shape[i];
}

gboolean
ane_ref_softmax (AneRefCtx *ctx,
                 GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  guint axis = 0;
  gsize outer, size, inner;
  gboolean axis_ok = ane_normalize_axis (ane_attrs_int (ctx->attrs, "axis"), x->rank, &axis);

  g_assert (axis_ok);   /* checked by the shape rule */
  split_at_axis (x, axis, &outer, &size, &inner);
  for (gsize o = 0; o < outer; o++)
    for (gsize i = 0; i < inner; i++)
      {
        gsize base = o * size * inner + i;
        double max = -INFINITY, sum = 0.0;

        for (gsize j = 0; j < size; j++)
          max = fmax (max, x->v[base + j * inner]);
        for (gsize j = 0; j < size; j++)
          sum += exp (x->v[base + j * inner] - max);
        for (gsize j = 0; j < size; j++)
          y->v[base + j * inner] = exp (x->v[base + j * inner] - max) / sum;
      }
  return TRUE;
}

/* Normalizes the `count` elements x[base + j*stride] into the same places of
 * y with their mean and population variance: y = (x - mean) / sqrt(var + eps). */
static void
normalize_strided (const double *x,
                   double       *y,
                   gsize         count,
                   gsize         base,
                   gsize         stride,
                   double        eps)
{
  double mean = 0.0, var = 0.0;

  if (count == 0)
    return;
  for (gsize j = 0; j < count; j++)
    mean += x[base + j * stride];
  mean /= (double) count;
  for (gsize j = 0; j < count; j++)
    {
      double d = x[base + j * stride] - mean;
      var += d * d;
    }
  var /= (double) count;
  for (gsize j = 0; j < count; j++)
    y[base + j * stride] = (x[base + j * stride] - mean) / sqrt (var + eps);
}

gboolean
ane_ref_layer_norm (AneRefCtx *ctx,
                    GError   **error)
{
  const AneRefValue *x = ctx->inputs[0], *gamma = ctx->inputs[1], *beta = ctx->inputs[2];
  AneRefValue *y = ctx->outputs[0];
  double eps = ane_attrs_double (ctx->attrs, "eps");
  gsize n_axes, inner = 1;

  /* The shape rule made sure `axes` are the last n_axes axes. */
  ane_attrs_ints (ctx->attrs, "axes", &n_axes);
  for (guint i = x->rank - (guint) n_axes; i < x->rank; i++)
    inner *= (gsize) x->shape[i];
  for (gsize base = 0; inner > 0 && base < x->n; base += inner)
    {
      normalize_strided (x->v, y->v, inner, base, 1, eps);
      for (gsize j = 0; j < inner; j++)
        {
          if (gamma != NULL)
            y->v[base + j] *= gamma->v[j];
          if (beta != NULL)
            y->v[base + j] += beta->v[j];
        }
    }
  return TRUE;
}

gboolean
ane_ref_rms_norm (AneRefCtx *ctx,
                  GError   **error)
{
  const AneRefValue *x = ctx->inputs[0], *weight = ctx->inputs[1];
  AneRefValue *y = ctx->outputs[0];
  double eps = ane_attrs_double (ctx->attrs, "eps");
  gsize d = (gsize) x->shape[x->rank - 1];

  for (gsize base = 0; d > 0 && base < x->n; base += d)
    {
      double ms = 0.0;

      for (gsize j = 0; j < d; j++)
        ms += x->v[base + j] * x->v[base + j];
      ms /= (double) d;
      for (gsize j = 0; j < d; j++)
        y->v[base + j] = x->v[base + j] / sqrt (ms + eps) * (weight ? weight->v[j] : 1.0);
    }
  return TRUE;
}

/* y[n, c, s] *= gamma[c]; += beta[c] for x viewed as [N, C, S]. */
static void
channel_affine (AneRefValue       *y,
                const AneRefValue *gamma,
                const AneRefValue *beta,
                gsize              channels,
                gsize              spatial)
{
  for (gsize i = 0; i < y->n; i++)
    {
      gsize c = (i / spatial) % channels;

      if (gamma != NULL)
        y->v[i] *= gamma->v[c];
      if (beta != NULL)
        y->v[i] += beta->v[c];
    }
}

gboolean
ane_ref_group_norm (AneRefCtx *ctx,
                    GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  double eps = ane_attrs_double (ctx->attrs, "eps");
  gsize groups = (gsize) ane_attrs_int (ctx->attrs, "groups");
  gsize channels = (gsize) x->shape[1], spatial = 1, per_group;

  for (guint i = 2; i < x->rank; i++)
    spatial *= (gsize) x->shape[i];
  /* In C order the channels of one group and all their positions are contiguous. */
  per_group = channels / groups * spatial;
  for (gsize base = 0; per_group > 0 && base < x->n; base += per_group)
    normalize_strided (x->v, y->v, per_group, base, 1, eps);
  if (spatial > 0)
    channel_affine (y, ctx->inputs[1], ctx->inputs[2], channels, spatial);
  return TRUE;
}

gboolean
ane_ref_layer_norm_2d (AneRefCtx *ctx,
                       GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  double eps = ane_attrs_double (ctx->attrs, "eps");
  gsize batch = (gsize) x->shape[0], channels = (gsize) x->shape[1];
  gsize spatial = (gsize) x->shape[2] * (gsize) x->shape[3];

  /* At each (n, h, w) normalize the C values, which lie `spatial` apart. */
  for (gsize n = 0; n < batch; n++)
    for (gsize p = 0; p < spatial; p++)
      normalize_strided (x->v, y->v, channels, n * channels * spatial + p, spatial, eps);
  if (spatial > 0)
    channel_affine (y, ctx->inputs[1], ctx->inputs[2], channels, spatial);
  return TRUE;
}

gboolean
ane_ref_batch_norm (AneRefCtx *ctx,
                    GError   **error)
{
  const AneRefValue *x = ctx->inputs[0], *mean = ctx->inputs[1], *var = ctx->inputs[2];
  AneRefValue *y = ctx->outputs[0];
  double eps = ane_attrs_double (ctx->attrs, "eps");
  gsize channels = (gsize) x->shape[1], spatial = 1;

  for (guint i = 2; i < x->rank; i++)
    spatial *= (gsize) x->shape[i];
  for (gsize i = 0; spatial > 0 && i < x->n; i++)
    {
      gsize c = (i / spatial) % channels;
      y->v[i] = (x->v[i] - mean->v[c]) / sqrt (var->v[c] + eps);
    }
  if (spatial > 0)
    channel_affine (y, ctx->inputs[3], ctx->inputs[4], channels, spatial);
  return TRUE;
}

/* --- builder methods --------------------------------------------------- */

/**
 * ane_graph_softmax:
 * @self: a graph
 * @x: a float tensor
 * @axis: the axis to normalize along; negative counts from the end
 * @error: return location for a #GError
 *
 * Softmax along @axis: `exp(x - max) / sum(exp(x - max))`, the max and the
 * sum taken along @axis (as `torch.nn.functional.softmax`).
 *
 * Returns: (transfer full): the result, same shape and dtype as @x
 */
AneTensor *
ane_graph_softmax (AneGraph   *self,
                   AneTensor  *x,
                   int         axis,
                   GError    **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);

  return ane_graph_add_node (self, ANE_OP_SOFTMAX, &x, 1,
                             ane_attrs_new ("axis", g_variant_new_int64 (axis), NULL), NULL, error);
}

/**
 * ane_graph_layer_norm:
 * @self: a graph
 * @x: a float tensor
 * @gamma: (nullable): scale, shaped like the normalized trailing dims of @x
 * @beta: (nullable): shift, shaped like the normalized trailing dims of @x
 * @axes: (array length=n_axes) (nullable): the trailing axes to normalize
 *   over, e.g. `[-1]` or `[-2, -1]`; %NULL and 0 mean `[-1]`
 * @n_axes: the number of @axes
 * @eps: added to the variance (the usual value is 1e-5)
 * @error: return location for a #GError
 *
 * Layer normalization (`torch.nn.functional.layer_norm`): subtracts the mean
 * and divides by `sqrt(var + eps)` over @axes, with the population variance,
 * then multiplies by @gamma and adds @beta when given.
 *
 * Returns: (transfer full): the result, same shape and dtype as @x
 */
AneTensor *
ane_graph_layer_norm (AneGraph      *self,
                      AneTensor     *x,
                      AneTensor     *gamma,
                      AneTensor     *beta,
                      const gint64  *axes,
                      guint          n_axes,
                      double         eps,
                      GError       **error)
{
  AneTensor *inputs[3] = { x, gamma, beta };
  GVariant *attrs;

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  g_return_val_if_fail (gamma == NULL || ANE_IS_TENSOR (gamma), NULL);
  g_return_val_if_fail (beta == NULL || ANE_IS_TENSOR (beta), NULL);
  g_return_val_if_fail (axes != NULL || n_axes == 0, NULL);

  if (n_axes > 0)
    attrs = ane_attrs_new ("axes", ane_attrs_ints_variant (axes, n_axes),
                           "eps", g_variant_new_double (eps), NULL);
  else
    attrs = ane_attrs_new ("eps", g_variant_new_double (eps), NULL);
  return ane_graph_add_node (self, ANE_OP_LAYER_NORM, inputs, 3, attrs, NULL, error);
}

/**
 * ane_graph_rms_norm:
 * @self: a graph
 * @x: a float tensor
 * @weight: (nullable): per-feature scale of shape `[D]`, D the last dim of @x
 * @eps: added to the mean square (the usual value is 1e-5 or 1e-6)
 * @error: return location for a #GError
 *
 * Root-mean-square normalization over the last axis (Zhang & Sennrich 2019,
 * as in LLaMA): `x / sqrt(mean(x^2) + eps) * weight`.
 *
 * Returns: (transfer full): the result, same shape and dtype as @x
 */
AneTensor *
ane_graph_rms_norm (AneGraph   *self,
                    AneTensor  *x,
                    AneTensor  *weight,
                    double      eps,
                    GError    **error)
{
  AneTensor *inputs[2] = { x, weight };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  g_return_val_if_fail (weight == NULL || ANE_IS_TENSOR (weight), NULL);

  return ane_graph_add_node (self, ANE_OP_RMS_NORM, inputs, 2,
                             ane_attrs_new ("eps", g_variant_new_double (eps), NULL), NULL, error);
}

/**
 * ane_graph_group_norm:
 * @self: a graph
 * @x: a float tensor `[N, C, ...]`
 * @gamma: (nullable): per-channel scale `[C]`
 * @beta: (nullable): per-channel shift `[C]`
 * @groups: how many groups the C channels split into; must divide C
 * @eps: added to the variance (the usual value is 1e-5)
 * @error: return location for a #GError
 *
 * Group normalization (`torch.nn.functional.group_norm`): each (sample,
 * group) is normalized over its channels and all spatial positions with the
 * population variance, then the per-channel affine is applied.
 *
 * Returns: (transfer full): the result, same shape and dtype as @x
 */
AneTensor *
ane_graph_group_norm (AneGraph   *self,
                      AneTensor  *x,
                      AneTensor  *gamma,
                      AneTensor  *beta,
                      gint64      groups,
                      double      eps,
                      GError    **error)
{
  AneTensor *inputs[3] = { x, gamma, beta };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  g_return_val_if_fail (gamma == NULL || ANE_IS_TENSOR (gamma), NULL);
  g_return_val_if_fail (beta == NULL || ANE_IS_TENSOR (beta), NULL);

  return ane_graph_add_node (self, ANE_OP_GROUP_NORM, inputs, 3,
                             ane_attrs_new ("groups", g_variant_new_int64 (groups),
                                            "eps", g_variant_new_double (eps), NULL),
                             NULL, error);
}

/**
 * ane_graph_layer_norm_2d:
 * @self: a graph
 * @x: a float tensor `[N, C, H, W]`
 * @gamma: (nullable): per-channel scale `[C]`
 * @beta: (nullable): per-channel shift `[C]`
 * @eps: added to the variance (SAM uses 1e-6)
 * @error: return location for a #GError
 *
 * SAM's `LayerNorm2d`: at every (n, h, w) the C channel values are
 * normalized with their mean and population variance, then the per-channel
 * affine is applied.
 *
 * Returns: (transfer full): the result, same shape and dtype as @x
 */
AneTensor *
ane_graph_layer_norm_2d (AneGraph   *self,
                         AneTensor  *x,
                         AneTensor  *gamma,
                         AneTensor  *beta,
                         double      eps,
                         GError    **error)
{
  AneTensor *inputs[3] = { x, gamma, beta };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  g_return_val_if_fail (gamma == NULL || ANE_IS_TENSOR (gamma), NULL);
  g_return_val_if_fail (beta == NULL || ANE_IS_TENSOR (beta), NULL);

  return ane_graph_add_node (self, ANE_OP_LAYER_NORM_2D, inputs, 3,
                             ane_attrs_new ("eps", g_variant_new_double (eps), NULL), NULL, error);
}

/**
 * ane_graph_batch_norm:
 * @self: a graph
 * @x: a float tensor `[N, C, ...]`
 * @mean: running mean `[C]`
 * @variance: running variance `[C]`
 * @gamma: (nullable): per-channel scale `[C]`
 * @beta: (nullable): per-channel shift `[C]`
 * @eps: added to the variance (the usual value is 1e-5)
 * @error: return location for a #GError
 *
 * Inference batch normalization along axis 1
 * (`torch.nn.functional.batch_norm` with `training=False`):
 * `(x - mean) / sqrt(variance + eps) * gamma + beta`.
 *
 * Returns: (transfer full): the result, same shape and dtype as @x
 */
AneTensor *
ane_graph_batch_norm (AneGraph   *self,
                      AneTensor  *x,
                      AneTensor  *mean,
                      AneTensor  *variance,
                      AneTensor  *gamma,
                      AneTensor  *beta,
                      double      eps,
                      GError    **error)
{
  AneTensor *inputs[5] = { x, mean, variance, gamma, beta };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (mean), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (variance), NULL);
  g_return_val_if_fail (gamma == NULL || ANE_IS_TENSOR (gamma), NULL);
  g_return_val_if_fail (beta == NULL || ANE_IS_TENSOR (beta), NULL);

  return ane_graph_add_node (self, ANE_OP_BATCH_NORM, inputs, 5,
                             ane_attrs_new ("eps", g_variant_new_double (eps), NULL), NULL, error);
}
