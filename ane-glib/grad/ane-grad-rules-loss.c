/* grad/ane-grad-rules-loss.c: the vector-Jacobian rule of cross_entropy
 *
 * With L = Σ_p keep_p · (logsumexp(x_p) - x_p[t_p]) / max(count, 1) and
 * count = Σ_p keep_p (keep: the target is not ignore_index and lies in
 * [0, V)), d logsumexp(x_p) / d x_p = softmax(x_p), d x_p[t_p] / d x_p =
 * onehot(t_p), and count does not depend on x:
 *
 *   d x = g · keep · (softmax(x) - onehot(t)) / max(count, 1)
 *
 * g the loss's incoming gradient (a scalar). The one-hot rows are
 * eq(t[..., None], iota(V)), an int32 comparison against a [V] const
 * broadcast, cast to x's dtype. keep is counted in float32, whatever x's
 * dtype (a count above 2048 is not exact in float16); a gradient graph
 * lowered at fp16 precision computes every float value in fp16, this count
 * too, which is off by at most 2^-11 relative. keep also drops targets outside [0, V): the reference refuses
 * them in the forward pass (which the gradient graph contains), the
 * lowered programs treat them as ignored, and the gradient follows.
 * The targets are integers and get no gradient (as gather's indices).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "grad/ane-grad-private.h"
#include "ane-tensor-private.h"

#define G (ctx->graph)

gboolean
ane_grad_cross_entropy (AneGradCtx *ctx,
                        GError    **error)
{
  AneTensor *x = ctx->in[0], *t = ctx->in[1], *g = ctx->dout[0];
  gint64 ignore = ane_attrs_int (ctx->node->attrs, "ignore_index");
  AneDType dt = ane_tensor_get_dtype (x), f32 = ANE_DTYPE_FLOAT32;
  AneSpec xs;
  gint64 classes, kshape[ANE_MAX_RANK];
  g_autofree gint32 *iota_v = NULL;
  g_autoptr(AneTensor) iota_t = NULL, iota = NULL, tk = NULL, hit = NULL, onehot = NULL, p = NULL, diff = NULL;
  g_autoptr(AneTensor) ign = NULL, zero = NULL, n_cls = NULL, ne = NULL, ge = NULL, lt = NULL;
  g_autoptr(AneTensor) f_ne = NULL, f_ge = NULL, f_lt = NULL, m1 = NULL, keep = NULL;
  g_autoptr(AneTensor) count = NULL, one = NULL, denom = NULL, scale = NULL, w = NULL, wx = NULL;

  if (!ctx->wants[0])
    return TRUE;   /* only the targets reach a requested value: integers get no gradient */
  ane_tensor_get_spec (x, &xs);
  classes = xs.shape[xs.rank - 1];
  memcpy (kshape, xs.shape, xs.rank * sizeof (gint64));
  kshape[xs.rank - 1] = 1;

  /* onehot (t) as x's dtype */
  iota_v = g_new (gint32, classes);
  for (gint64 c = 0; c < classes; c++)
    iota_v[c] = (gint32) c;
  iota_t = ane_tensor_new_from_ints ("classes", &classes, 1, iota_v, (gsize) classes, error);
  iota = iota_t ? ane_graph_const (G, iota_t, error) : NULL;
  tk = iota ? ane_graph_reshape (G, t, kshape, xs.rank, error) : NULL;
  hit = tk ? ane_graph_eq (G, tk, iota, error) : NULL;
  onehot = hit ? ane_graph_cast (G, hit, dt, error) : NULL;
  p = onehot ? ane_graph_softmax (G, x, -1, error) : NULL;
  diff = p ? ane_graph_sub (G, p, onehot, error) : NULL;
  if (diff == NULL)
    return FALSE;

  /* keep: not ignored and within [0, V), in float32 (no logical and among
   * the IR's ops: a product of the three comparisons) */
  ign = ane_graph_scalar (G, ANE_DTYPE_INT32, (double) ignore, error);
  zero = ign ? ane_graph_scalar (G, ANE_DTYPE_INT32, 0.0, error) : NULL;
  n_cls = zero ? ane_graph_scalar (G, ANE_DTYPE_INT32, (double) classes, error) : NULL;
  ne = n_cls ? ane_graph_ne (G, tk, ign, error) : NULL;
  ge = ne ? ane_graph_ge (G, tk, zero, error) : NULL;
  lt = ge ? ane_graph_lt (G, tk, n_cls, error) : NULL;
  f_ne = lt ? ane_graph_cast (G, ne, f32, error) : NULL;
  f_ge = f_ne ? ane_graph_cast (G, ge, f32, error) : NULL;
  f_lt = f_ge ? ane_graph_cast (G, lt, f32, error) : NULL;
  m1 = f_lt ? ane_graph_mul (G, f_ne, f_ge, error) : NULL;
  keep = m1 ? ane_graph_mul (G, m1, f_lt, error) : NULL;

  /* g · keep / max(count, 1), per row, in x's dtype */
  count = keep ? ane_graph_reduce_sum (G, keep, NULL, 0, FALSE, error) : NULL;
  one = count ? ane_graph_scalar (G, f32, 1.0, error) : NULL;
  denom = one ? ane_graph_maximum (G, count, one, error) : NULL;
  scale = denom ? ane_graph_div (G, g, denom, error) : NULL;
  w = scale ? ane_graph_mul (G, keep, scale, error) : NULL;
  if (w == NULL)
    return FALSE;
  wx = dt == f32 ? g_object_ref (w) : ane_graph_cast (G, w, dt, error);
  ctx->din[0] = wx ? ane_graph_mul (G, diff, wx, error) : NULL;
  return ctx->din[0] != NULL;
}
