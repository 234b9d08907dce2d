/* ops/ane-ops-loss.c: cross_entropy, the fused softmax cross-entropy loss
 *
 *   cross_entropy   logits [..., V] (float), targets [...] (int32):
 *                   mean over the positions whose target is not
 *                   ignore_index of logsumexp(logits[p, :]) - logits[p, t_p],
 *                   a float32 scalar (rank 0, as reduce_mean over every
 *                   axis without keepdims). Every position ignored: 0, the
 *                   sum divided by max(count, 1). torch.nn.functional.
 *                   cross_entropy (reduction 'mean', ignore_index -100,
 *                   no label smoothing, no class weights):
 *                   https://pytorch.org/docs/stable/generated/torch.nn.functional.cross_entropy.html
 *                   (torch returns NaN when every target is ignored; this
 *                   op returns 0 so that a batch of padding cannot poison
 *                   a training run).
 *
 * The kernel works per row in double with the maximum subtracted before
 * exp (logsumexp(x) = m + log Σ exp(x - m), m = max x), so logits of any
 * magnitude give a finite loss; the result is rounded once to float32.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ops/ane-ops.h"

gboolean
ane_infer_cross_entropy (AneInferCtx *ctx,
                         GError     **error)
{
  const AneSpec *logits = ctx->inputs[0], *targets = ctx->inputs[1];
  gint64 ignore = ane_attrs_int (ctx->attrs, "ignore_index");
  char lb[ANE_SPEC_STRLEN], tb[ANE_SPEC_STRLEN];
  gint64 classes;

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_require_rank (ctx, 0, 1, ANE_MAX_RANK, error))
    return FALSE;
  if (targets->dtype != ANE_DTYPE_INT32)
    {
      ane_infer_error (ctx, error, ANE_ERROR_DTYPE, "input 'targets' %s must be int32 class indices",
                       ane_spec_format (targets, tb));
      return FALSE;
    }
  if (targets->rank != logits->rank - 1 ||
      memcmp (targets->shape, logits->shape, targets->rank * sizeof (gint64)) != 0)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'targets' %s must have the shape of input 'logits' %s without its last "
                       "(class) axis", ane_spec_format (targets, tb), ane_spec_format (logits, lb));
      return FALSE;
    }
  classes = logits->shape[logits->rank - 1];
  if (classes < 1 || classes - 1 > G_MAXINT32)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "the last (class) axis of input 'logits' %s must have 1 to 2^31 classes",
                       ane_spec_format (logits, lb));
      return FALSE;
    }
  /* targets are int32: another ignore_index could never match one */
  if (ignore < G_MININT32 || ignore > G_MAXINT32)
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "ignore_index %" G_GINT64_FORMAT " is outside the int32 range of input 'targets'",
                       ignore);
      return FALSE;
    }
  ctx->outputs[0].dtype = ANE_DTYPE_FLOAT32;
  ane_spec_set_shape (&ctx->outputs[0], NULL, 0);
  return TRUE;
}

/* "[i, j, k]": a position of targets, for errors. */
static char *
format_position (gsize         row,
                 const gint64 *shape,
                 guint         rank)
{
  gint64 c[ANE_MAX_RANK];
  GString *s = g_string_new ("[");

  ane_ref_unravel (row, shape, rank, c);
  for (guint d = 0; d < rank; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d > 0 ? ", " : "", c[d]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

gboolean
ane_ref_cross_entropy (AneRefCtx *ctx,
                       GError   **error)
{
  const AneRefValue *logits = ctx->inputs[0], *targets = ctx->inputs[1];
  AneRefValue *y = ctx->outputs[0];
  gint64 ignore = ane_attrs_int (ctx->attrs, "ignore_index");
  gsize classes = (gsize) logits->shape[logits->rank - 1];
  double sum = 0.0;
  gsize count = 0;

  for (gsize r = 0; r < targets->n; r++)
    {
      const double *row = logits->v + r * classes;
      gint64 t = (gint64) targets->v[r];
      double m = -INFINITY, s = 0.0;

      if (t == ignore)
        continue;
      if (t < 0 || (gsize) t >= classes)
        {
          g_autofree char *pos = format_position (r, targets->shape, targets->rank);

          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "target %" G_GINT64_FORMAT " at position %s of input 'targets' is outside "
                       "[0, %" G_GSIZE_FORMAT ") and is not ignore_index %" G_GINT64_FORMAT,
                       t, pos, classes, ignore);
          return FALSE;
        }
      /* max-subtracted: every exp (x - m) <= 1, the sum in [1, V] */
      for (gsize c = 0; c < classes; c++)
        m = fmax (m, row[c]);   /* a NaN logit still reaches the sum below */
      for (gsize c = 0; c < classes; c++)
        s += exp (row[c] - m);
      /* logsumexp - x_t = log s - (x_t - m): no cancellation of two large
       * numbers when the logits are large */
      sum += log (s) - (row[t] - m);
      count++;
    }
  y->v[0] = sum / (double) MAX (count, 1);
  return TRUE;
}

/**
 * ane_graph_cross_entropy:
 * @self: a graph
 * @logits: float16 or float32 scores of shape [..., V], the classes on the
 *   last axis (rank at least 1)
 * @targets: int32 class indices of shape [...]: @logits' shape without its
 *   last axis
 * @ignore_index: a target value that contributes nothing (PyTorch's
 *   default is -100); it must fit in int32
 * @error: return location for a #GError
 *
 * The softmax cross-entropy loss, fused: the mean, over the positions
 * whose target is not @ignore_index, of
 * `logsumexp(logits[p, :]) - logits[p, targets[p]]`, as
 * torch.nn.functional.cross_entropy with reduction "mean". When every
 * position is ignored the loss is 0 (PyTorch gives NaN): the sum is
 * divided by max(count, 1).
 *
 * The result is a float32 scalar, shape `[]` (rank 0), the shape
 * [method@Ane.Graph.reduce_mean] over every axis without keepdims gives.
 *
 * The logsumexp subtracts each row's maximum first, so large logits
 * (±1e4) give a finite loss. Lowered to MIL in a float16 program, the
 * reduction runs in float32 (a vocabulary of 32000 cannot overflow or lose
 * its sum) and only the loss is rounded to float16.
 *
 * A target outside [0, V) that is not @ignore_index is an
 * %ANE_ERROR_INVALID_ARGUMENT naming the node, the position and the value
 * on the reference backend. A lowered (MIL) program cannot raise an
 * error: there such a target counts as ignored (it contributes nothing and
 * is not counted).
 *
 * [method@Ane.Graph.gradients] differentiates it with respect to @logits:
 * `(softmax(logits) - onehot(targets)) / max(count, 1)` on the counted
 * positions, 0 on the others. @targets gets no gradient.
 *
 * Returns: (transfer full): the loss, a float32 scalar
 *
 * Since: 0.2
 */
AneTensor *
ane_graph_cross_entropy (AneGraph   *self,
                         AneTensor  *logits,
                         AneTensor  *targets,
                         gint64      ignore_index,
                         GError    **error)
{
  AneTensor *inputs[2] = { logits, targets };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (logits) && ANE_IS_TENSOR (targets), NULL);
  return ane_graph_add_node (self, ANE_OP_CROSS_ENTROPY, inputs, 2,
                             ane_attrs_new ("ignore_index", g_variant_new_int64 (ignore_index), NULL),
                             NULL, error);
}
