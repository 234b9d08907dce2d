/* grad/ane-grad-rules.c: the vector-Jacobian rules of the op catalog's gradient column
 *
 * Each rule builds, with the ordinary graph builders, d loss / d input from
 * d loss / d output (dy below) and the forward values. The formulas are
 * the textbook ones (y the op's output):
 *
 *   add, sub        da = dy, db = ±dy               summed over broadcast axes
 *   mul, div        da = dy·b, db = dy·a;  da = dy/b, db = -dy·y/b
 *   maximum/minimum dy to the operand chosen (ties to a, as the forward picks)
 *   pow             da = dy·b·a^(b-1), db = dy·y·log(a)
 *   matmul          dA = dy·Bᵀ, dB = Aᵀ·dy (transposes folded into the products)
 *   relu            dy where x > 0
 *   sigmoid, tanh   dy·y·(1-y), dy·(1-y²)
 *   silu            dy·(s + x·s·(1-s)), s = sigmoid(x)
 *   gelu (exact)    dy·(Φ(x) + x·φ(x)); (tanh) the derivative of its formula
 *   exp, log        dy·y, dy/x
 *   sqrt, rsqrt     dy/(2y), -dy·y/(2x)
 *   abs, neg        dy·sign(x), -dy
 *   sin, cos, tan   dy·cos x, -dy·sin x, dy·(1+y²)
 *   atan            dy/(1+x²)
 *   softmax         y·(dy - Σ dy·y) along its axis
 *   rms_norm        with r = (mean x² + eps)^-½, n = x·r: dw = Σ dy·n,
 *                   dx = r·(g - n·mean(g·n)), g = dy·w
 *   reduce sum/mean dy broadcast back (/count for the mean); max/min: to
 *                   the elements equal to the result
 *   shape ops       the inverse movement (reshape back, inverse permutation,
 *                   slices of a concat, zero padding of a narrow, sums of an
 *                   expand); cast: dy cast back; stop_gradient: none
 *   where           dy to a where cond, to b elsewhere
 *   gather          dy added back into zeros at the gathered places
 *                   (scatter_add; an embedding's rows)
 *   rope            the inverse rotation: rope of dy at the negated positions
 *   layer_norm      with n = (x - μ)/σ over its axes: dγ = Σ dy·n, dβ = Σ dy,
 *                   dx = (g - mean g - n·mean(g·n))/σ, g = dy·γ
 *   group_norm      the same over each group's channels and positions
 *                   (x seen as [N, groups, rest]), γ and β per channel
 *   attention       recomputed in the gradient graph (k, v repeated to the
 *                   query heads): p = softmax(mask(cap(q·kᵀ·scale) + bias)),
 *                   dv = pᵀ·dy, dp = dy·vᵀ, ds = p·(dp - Σ dp·p), through the
 *                   softcap (1 - tanh²), dq = ds·k·scale, dk = dsᵀ·q·scale,
 *                   summed back over each kv head's query heads; dbias = ds
 *   lora_matmul     y = x·W + s·(x·A)·B, with x and dy seen as matrices
 *                   [M, K], [M, N]: dW = xᵀ·dy, dA = s·xᵀ·(dy·Bᵀ),
 *                   dB = s·(x·A)ᵀ·dy, dx = dy·Wᵀ + s·(dy·Bᵀ)·Aᵀ
 *   cross_entropy   in grad/ane-grad-rules-loss.c: d logits =
 *                   g·(softmax - onehot(t))·keep / max(count, 1)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "grad/ane-grad-private.h"
#include "ane-tensor-private.h"

#define G (ctx->graph)

static AneSpec
spec_of (AneTensor *t)
{
  AneSpec spec;

  ane_tensor_get_spec (t, &spec);
  return spec;
}

AneTensor *
ane_grad_scalar (AneGradCtx  *ctx,
                 AneTensor   *like,
                 double       value,
                 GError     **error)
{
  return ane_graph_scalar (G, ane_tensor_get_dtype (like), value, error);
}

AneTensor *
ane_grad_fill (AneGradCtx  *ctx,
               AneTensor   *like,
               double       value,
               GError     **error)
{
  AneSpec spec = spec_of (like);
  g_autoptr(AneTensor) s = ane_grad_scalar (ctx, like, value, error);

  if (s == NULL)
    return NULL;
  if (spec.rank == 0)
    return g_steal_pointer (&s);
  return ane_graph_expand (G, s, spec.shape, spec.rank, error);
}

AneTensor *
ane_grad_unbroadcast (AneGradCtx  *ctx,
                      AneTensor   *g,
                      AneTensor   *target,
                      GError     **error)
{
  AneSpec gspec = spec_of (g), tspec = spec_of (target);
  const AneSpec *gs = &gspec, *ts = &tspec;
  gint64 axes[ANE_MAX_RANK];
  guint n = 0, lead;
  g_autoptr(AneTensor) summed = NULL;

  if (gs->rank == ts->rank && memcmp (gs->shape, ts->shape, ts->rank * sizeof (gint64)) == 0)
    return g_object_ref (g);
  if (gs->rank < ts->rank)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "gradient of %s: rank %u cannot reduce to rank %u",
                   ctx->node->name, gs->rank, ts->rank);
      return NULL;
    }
  lead = gs->rank - ts->rank;
  for (guint i = 0; i < gs->rank; i++)
    if (i < lead || (ts->shape[i - lead] == 1 && gs->shape[i] != 1))
      axes[n++] = i;
  summed = n > 0 ? ane_graph_reduce_sum (G, g, axes, n, TRUE, error) : g_object_ref (g);
  if (summed == NULL)
    return NULL;
  return ane_graph_reshape (G, summed, ts->shape, ts->rank, error);
}

/* The gradient of input i is dy-like t, summed to the input's shape. */
static gboolean
set_din (AneGradCtx  *ctx,
         guint        i,
         AneTensor   *t,
         GError     **error)
{
  if (t == NULL)
    return FALSE;
  ctx->din[i] = ane_grad_unbroadcast (ctx, t, ctx->in[i], error);
  return ctx->din[i] != NULL;
}

/* ---------------------------------------------------------------------- */

gboolean
ane_grad_binary (AneGradCtx *ctx,
                 GError    **error)
{
  AneTensor *a = ctx->in[0], *b = ctx->in[1], *y = ctx->out[0], *dy = ctx->dout[0];
  AneOpKind kind = ctx->node->op->kind;

  if (!ane_dtype_is_float (ane_tensor_get_dtype (y)))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s '%s' has no gradient: it computes integers",
                   ctx->node->op->name, ctx->node->name);
      return FALSE;
    }
  switch (kind)
    {
    case ANE_OP_ADD:
      return (!ctx->wants[0] || set_din (ctx, 0, dy, error)) && (!ctx->wants[1] || set_din (ctx, 1, dy, error));
    case ANE_OP_SUB:
      {
        g_autoptr(AneTensor) n = ctx->wants[1] ? ane_graph_neg (G, dy, error) : NULL;

        return (!ctx->wants[0] || set_din (ctx, 0, dy, error)) && (!ctx->wants[1] || set_din (ctx, 1, n, error));
      }
    case ANE_OP_MUL:
      {
        g_autoptr(AneTensor) ga = ctx->wants[0] ? ane_graph_mul (G, dy, b, error) : NULL;
        g_autoptr(AneTensor) gb = ctx->wants[1] ? ane_graph_mul (G, dy, a, error) : NULL;

        return (!ctx->wants[0] || set_din (ctx, 0, ga, error)) && (!ctx->wants[1] || set_din (ctx, 1, gb, error));
      }
    case ANE_OP_DIV:
      {
        g_autoptr(AneTensor) ga = ane_graph_div (G, dy, b, error);
        g_autoptr(AneTensor) t = ga && ctx->wants[1] ? ane_graph_mul (G, ga, y, error) : NULL;
        g_autoptr(AneTensor) gb = t ? ane_graph_neg (G, t, error) : NULL;

        return (!ctx->wants[0] || set_din (ctx, 0, ga, error)) && (!ctx->wants[1] || set_din (ctx, 1, gb, error));
      }
    case ANE_OP_MAXIMUM:
    case ANE_OP_MINIMUM:
      {
        /* the forward takes a where a >= b (maximum) or a <= b (minimum) */
        g_autoptr(AneTensor) pick_a = kind == ANE_OP_MAXIMUM ? ane_graph_ge (G, a, b, error) : ane_graph_le (G, a, b, error);
        g_autoptr(AneTensor) zero = pick_a ? ane_grad_scalar (ctx, dy, 0.0, error) : NULL;
        g_autoptr(AneTensor) ga = zero && ctx->wants[0] ? ane_graph_where (G, pick_a, dy, zero, error) : NULL;
        g_autoptr(AneTensor) gb = zero && ctx->wants[1] ? ane_graph_where (G, pick_a, zero, dy, error) : NULL;

        if (zero == NULL)
          return FALSE;
        return (!ctx->wants[0] || set_din (ctx, 0, ga, error)) && (!ctx->wants[1] || set_din (ctx, 1, gb, error));
      }
    case ANE_OP_POW:
      {
        g_autoptr(AneTensor) one = ane_grad_scalar (ctx, dy, 1.0, error);
        g_autoptr(AneTensor) bm1 = one ? ane_graph_sub (G, b, one, error) : NULL;
        g_autoptr(AneTensor) p = bm1 && ctx->wants[0] ? ane_graph_pow (G, a, bm1, error) : NULL;
        g_autoptr(AneTensor) bp = p ? ane_graph_mul (G, b, p, error) : NULL;
        g_autoptr(AneTensor) ga = bp ? ane_graph_mul (G, dy, bp, error) : NULL;
        g_autoptr(AneTensor) la = bm1 && ctx->wants[1] ? ane_graph_log (G, a, error) : NULL;
        g_autoptr(AneTensor) yl = la ? ane_graph_mul (G, y, la, error) : NULL;
        g_autoptr(AneTensor) gb = yl ? ane_graph_mul (G, dy, yl, error) : NULL;

        if (bm1 == NULL)
          return FALSE;
        return (!ctx->wants[0] || set_din (ctx, 0, ga, error)) && (!ctx->wants[1] || set_din (ctx, 1, gb, error));
      }
    default:
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s '%s' has no gradient rule",
                   ctx->node->op->name, ctx->node->name);
      return FALSE;
    }
}

/* dy · f'(x) for the unary ops, f' built from x and y. */
static AneTensor *
unary_derivative (AneGradCtx  *ctx,
                  GError     **error)
{
  AneTensor *x = ctx->in[0], *y = ctx->out[0], *dy = ctx->dout[0];

  switch (ctx->node->op->kind)
    {
    case ANE_OP_RELU:
      {
        g_autoptr(AneTensor) zero = ane_grad_scalar (ctx, dy, 0.0, error);
        g_autoptr(AneTensor) pos = zero ? ane_graph_gt (G, x, zero, error) : NULL;

        return pos ? ane_graph_where (G, pos, dy, zero, error) : NULL;
      }
    case ANE_OP_SIGMOID:
      {
        g_autoptr(AneTensor) one = ane_grad_scalar (ctx, dy, 1.0, error);
        g_autoptr(AneTensor) omy = one ? ane_graph_sub (G, one, y, error) : NULL;
        g_autoptr(AneTensor) d = omy ? ane_graph_mul (G, y, omy, error) : NULL;

        return d ? ane_graph_mul (G, dy, d, error) : NULL;
      }
    case ANE_OP_TANH:
      {
        g_autoptr(AneTensor) one = ane_grad_scalar (ctx, dy, 1.0, error);
        g_autoptr(AneTensor) y2 = one ? ane_graph_mul (G, y, y, error) : NULL;
        g_autoptr(AneTensor) d = y2 ? ane_graph_sub (G, one, y2, error) : NULL;

        return d ? ane_graph_mul (G, dy, d, error) : NULL;
      }
    case ANE_OP_SILU:
      {
        g_autoptr(AneTensor) one = ane_grad_scalar (ctx, dy, 1.0, error);
        g_autoptr(AneTensor) s = one ? ane_graph_sigmoid (G, x, error) : NULL;
        g_autoptr(AneTensor) oms = s ? ane_graph_sub (G, one, s, error) : NULL;
        g_autoptr(AneTensor) xo = oms ? ane_graph_mul (G, x, oms, error) : NULL;
        g_autoptr(AneTensor) t = xo ? ane_graph_add (G, one, xo, error) : NULL;
        g_autoptr(AneTensor) d = t ? ane_graph_mul (G, s, t, error) : NULL;

        return d ? ane_graph_mul (G, dy, d, error) : NULL;
      }
    case ANE_OP_GELU:
      {
        g_autoptr(AneTensor) d = NULL;

        if (g_strcmp0 (ane_attrs_string (ctx->node->attrs, "approximation"), "tanh") == 0)
          {
            /* y = ½x(1 + tanh u), u = c(x + k x³):
             * y' = ½(1 + t) + ½x(1 - t²)·c(1 + 3k x²) */
            const double c = sqrt (2.0 / G_PI), k = 0.044715;
            g_autoptr(AneTensor) half = ane_grad_scalar (ctx, dy, 0.5, error);
            g_autoptr(AneTensor) one = half ? ane_grad_scalar (ctx, dy, 1.0, error) : NULL;
            g_autoptr(AneTensor) kk = one ? ane_grad_scalar (ctx, dy, k, error) : NULL;
            g_autoptr(AneTensor) k3c = kk ? ane_grad_scalar (ctx, dy, 3.0 * k * c, error) : NULL;
            g_autoptr(AneTensor) cc = k3c ? ane_grad_scalar (ctx, dy, c, error) : NULL;
            g_autoptr(AneTensor) x2 = cc ? ane_graph_mul (G, x, x, error) : NULL;
            g_autoptr(AneTensor) kx2 = x2 ? ane_graph_mul (G, kk, x2, error) : NULL;
            g_autoptr(AneTensor) in = kx2 ? ane_graph_add (G, one, kx2, error) : NULL;
            g_autoptr(AneTensor) xin = in ? ane_graph_mul (G, x, in, error) : NULL;
            g_autoptr(AneTensor) u = xin ? ane_graph_mul (G, cc, xin, error) : NULL;
            g_autoptr(AneTensor) t = u ? ane_graph_tanh (G, u, error) : NULL;
            g_autoptr(AneTensor) opt = t ? ane_graph_add (G, one, t, error) : NULL;
            g_autoptr(AneTensor) a = opt ? ane_graph_mul (G, half, opt, error) : NULL;
            g_autoptr(AneTensor) t2 = a ? ane_graph_mul (G, t, t, error) : NULL;
            g_autoptr(AneTensor) omt2 = t2 ? ane_graph_sub (G, one, t2, error) : NULL;
            g_autoptr(AneTensor) k3cx2 = omt2 ? ane_graph_mul (G, k3c, x2, error) : NULL;
            g_autoptr(AneTensor) du = k3cx2 ? ane_graph_add (G, cc, k3cx2, error) : NULL;
            g_autoptr(AneTensor) b1 = du ? ane_graph_mul (G, omt2, du, error) : NULL;
            g_autoptr(AneTensor) b2 = b1 ? ane_graph_mul (G, x, b1, error) : NULL;
            g_autoptr(AneTensor) b = b2 ? ane_graph_mul (G, half, b2, error) : NULL;

            d = b ? ane_graph_add (G, a, b, error) : NULL;
          }
        else
          {
            /* y' = Φ(x) + x φ(x) = ½(1 + erf(x/√2)) + x e^(-x²/2)/√(2π) */
            g_autoptr(AneTensor) half = ane_grad_scalar (ctx, dy, 0.5, error);
            g_autoptr(AneTensor) one = half ? ane_grad_scalar (ctx, dy, 1.0, error) : NULL;
            g_autoptr(AneTensor) rs2 = one ? ane_grad_scalar (ctx, dy, M_SQRT1_2, error) : NULL;
            g_autoptr(AneTensor) mh = rs2 ? ane_grad_scalar (ctx, dy, -0.5, error) : NULL;
            g_autoptr(AneTensor) rs2pi = mh ? ane_grad_scalar (ctx, dy, 1.0 / sqrt (2.0 * G_PI), error) : NULL;
            g_autoptr(AneTensor) xs = rs2pi ? ane_graph_mul (G, x, rs2, error) : NULL;
            g_autoptr(AneTensor) e = xs ? ane_graph_erf (G, xs, error) : NULL;
            g_autoptr(AneTensor) ope = e ? ane_graph_add (G, one, e, error) : NULL;
            g_autoptr(AneTensor) cdf = ope ? ane_graph_mul (G, half, ope, error) : NULL;
            g_autoptr(AneTensor) x2 = cdf ? ane_graph_mul (G, x, x, error) : NULL;
            g_autoptr(AneTensor) ex = x2 ? ane_graph_mul (G, mh, x2, error) : NULL;
            g_autoptr(AneTensor) ee = ex ? ane_graph_exp (G, ex, error) : NULL;
            g_autoptr(AneTensor) pdf = ee ? ane_graph_mul (G, rs2pi, ee, error) : NULL;
            g_autoptr(AneTensor) xp = pdf ? ane_graph_mul (G, x, pdf, error) : NULL;

            d = xp ? ane_graph_add (G, cdf, xp, error) : NULL;
          }
        return d ? ane_graph_mul (G, dy, d, error) : NULL;
      }
    case ANE_OP_EXP:
      return ane_graph_mul (G, dy, y, error);
    case ANE_OP_LOG:
      return ane_graph_div (G, dy, x, error);
    case ANE_OP_SQRT:
      {
        g_autoptr(AneTensor) two = ane_grad_scalar (ctx, dy, 2.0, error);
        g_autoptr(AneTensor) ty = two ? ane_graph_mul (G, two, y, error) : NULL;

        return ty ? ane_graph_div (G, dy, ty, error) : NULL;
      }
    case ANE_OP_RSQRT:
      {
        g_autoptr(AneTensor) mh = ane_grad_scalar (ctx, dy, -0.5, error);
        g_autoptr(AneTensor) yx = mh ? ane_graph_div (G, y, x, error) : NULL;
        g_autoptr(AneTensor) d = yx ? ane_graph_mul (G, mh, yx, error) : NULL;

        return d ? ane_graph_mul (G, dy, d, error) : NULL;
      }
    case ANE_OP_ABS:
      {
        g_autoptr(AneTensor) zero = ane_grad_scalar (ctx, dy, 0.0, error);
        g_autoptr(AneTensor) pos = zero ? ane_graph_gt (G, x, zero, error) : NULL;
        g_autoptr(AneTensor) neg = pos ? ane_graph_lt (G, x, zero, error) : NULL;
        g_autoptr(AneTensor) mdy = neg ? ane_graph_neg (G, dy, error) : NULL;
        g_autoptr(AneTensor) low = mdy ? ane_graph_where (G, neg, mdy, zero, error) : NULL;

        return low ? ane_graph_where (G, pos, dy, low, error) : NULL;
      }
    case ANE_OP_NEG:
      return ane_graph_neg (G, dy, error);
    case ANE_OP_SIN:
      {
        g_autoptr(AneTensor) c = ane_graph_cos (G, x, error);

        return c ? ane_graph_mul (G, dy, c, error) : NULL;
      }
    case ANE_OP_COS:
      {
        g_autoptr(AneTensor) s = ane_graph_sin (G, x, error);
        g_autoptr(AneTensor) d = s ? ane_graph_neg (G, s, error) : NULL;

        return d ? ane_graph_mul (G, dy, d, error) : NULL;
      }
    case ANE_OP_TAN:
      {
        g_autoptr(AneTensor) one = ane_grad_scalar (ctx, dy, 1.0, error);
        g_autoptr(AneTensor) y2 = one ? ane_graph_mul (G, y, y, error) : NULL;
        g_autoptr(AneTensor) d = y2 ? ane_graph_add (G, one, y2, error) : NULL;

        return d ? ane_graph_mul (G, dy, d, error) : NULL;
      }
    case ANE_OP_ATAN:
      {
        g_autoptr(AneTensor) one = ane_grad_scalar (ctx, dy, 1.0, error);
        g_autoptr(AneTensor) x2 = one ? ane_graph_mul (G, x, x, error) : NULL;
        g_autoptr(AneTensor) d = x2 ? ane_graph_add (G, one, x2, error) : NULL;

        return d ? ane_graph_div (G, dy, d, error) : NULL;
      }
    default:
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s '%s' is not differentiable (its derivative is zero almost everywhere or undefined)",
                   ctx->node->op->name, ctx->node->name);
      return NULL;
    }
}

gboolean
ane_grad_unary (AneGradCtx *ctx,
                GError    **error)
{
  ctx->din[0] = unary_derivative (ctx, error);
  return ctx->din[0] != NULL;
}

gboolean
ane_grad_matmul (AneGradCtx *ctx,
                 GError    **error)
{
  AneTensor *a = ctx->in[0], *b = ctx->in[1], *dy = ctx->dout[0];
  gboolean ta = ane_attrs_bool (ctx->node->attrs, "transpose_a");
  gboolean tb = ane_attrs_bool (ctx->node->attrs, "transpose_b");

  if (spec_of (a).rank < 2 || spec_of (b).rank < 2)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "matmul '%s': the gradient of a rank-1 operand is "
                   "not implemented; reshape it to a matrix", ctx->node->name);
      return FALSE;
    }
  if (ctx->wants[0])
    {
      /* y = op(A)·op(B): d op(A) = dy·op(B)ᵀ; dA is it, or its transpose */
      g_autoptr(AneTensor) g = !ta ? ane_graph_matmul (G, dy, b, FALSE, !tb, error)
                                   : ane_graph_matmul (G, b, dy, tb, TRUE, error);

      if (!set_din (ctx, 0, g, error))
        return FALSE;
    }
  if (ctx->wants[1])
    {
      /* d op(B) = op(A)ᵀ·dy; dB is it, or its transpose */
      g_autoptr(AneTensor) g = !tb ? ane_graph_matmul (G, a, dy, !ta, FALSE, error)
                                   : ane_graph_matmul (G, dy, a, TRUE, ta, error);

      if (!set_din (ctx, 1, g, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
ane_grad_softmax (AneGradCtx *ctx,
                  GError    **error)
{
  AneTensor *y = ctx->out[0], *dy = ctx->dout[0];
  gint64 axis = ane_attrs_int (ctx->node->attrs, "axis");
  g_autoptr(AneTensor) p = ane_graph_mul (G, dy, y, error);
  g_autoptr(AneTensor) s = p ? ane_graph_reduce_sum (G, p, &axis, 1, TRUE, error) : NULL;
  g_autoptr(AneTensor) d = s ? ane_graph_sub (G, dy, s, error) : NULL;

  ctx->din[0] = d ? ane_graph_mul (G, y, d, error) : NULL;
  return ctx->din[0] != NULL;
}

gboolean
ane_grad_rms_norm (AneGradCtx *ctx,
                   GError    **error)
{
  AneTensor *x = ctx->in[0], *w = ctx->in[1], *dy = ctx->dout[0];
  double eps = ane_attrs_double (ctx->node->attrs, "eps");
  gint64 last = -1;
  g_autoptr(AneTensor) x2 = ane_graph_mul (G, x, x, error);
  g_autoptr(AneTensor) m = x2 ? ane_graph_reduce_mean (G, x2, &last, 1, TRUE, error) : NULL;
  g_autoptr(AneTensor) e = m ? ane_grad_scalar (ctx, dy, eps, error) : NULL;
  g_autoptr(AneTensor) me = e ? ane_graph_add (G, m, e, error) : NULL;
  g_autoptr(AneTensor) r = me ? ane_graph_rsqrt (G, me, error) : NULL;
  g_autoptr(AneTensor) n = r ? ane_graph_mul (G, x, r, error) : NULL;
  g_autoptr(AneTensor) g = NULL;

  if (n == NULL)
    return FALSE;
  if (w != NULL && ctx->wants[1])
    {
      g_autoptr(AneTensor) dn = ane_graph_mul (G, dy, n, error);

      if (!set_din (ctx, 1, dn, error))
        return FALSE;
    }
  g = w != NULL ? ane_graph_mul (G, dy, w, error) : g_object_ref (dy);
  if (g != NULL && ctx->wants[0])
    {
      g_autoptr(AneTensor) gn = ane_graph_mul (G, g, n, error);
      g_autoptr(AneTensor) mg = gn ? ane_graph_reduce_mean (G, gn, &last, 1, TRUE, error) : NULL;
      g_autoptr(AneTensor) nm = mg ? ane_graph_mul (G, n, mg, error) : NULL;
      g_autoptr(AneTensor) d = nm ? ane_graph_sub (G, g, nm, error) : NULL;

      ctx->din[0] = d ? ane_graph_mul (G, r, d, error) : NULL;
      return ctx->din[0] != NULL;
    }
  return g != NULL;
}

gboolean
ane_grad_reduce (AneGradCtx *ctx,
                 GError    **error)
{
  AneTensor *x = ctx->in[0], *y = ctx->out[0], *dy = ctx->dout[0];
  AneSpec xspec = spec_of (x);
  const AneSpec *xs = &xspec;
  gsize n_axes;
  const gint64 *axes = ane_attrs_ints (ctx->node->attrs, "axes", &n_axes);
  gboolean keep = ane_attrs_bool (ctx->node->attrs, "keepdims");
  gint64 kept[ANE_MAX_RANK];
  gboolean reduced[ANE_MAX_RANK] = { FALSE };
  double count = 1.0;
  g_autoptr(AneTensor) dk = NULL, yk = NULL, g = NULL;

  for (guint i = 0; i < xs->rank; i++)
    reduced[i] = n_axes == 0;
  for (gsize i = 0; i < n_axes; i++)
    {
      guint a;

      if (ane_normalize_axis (axes[i], xs->rank, &a))
        reduced[a] = TRUE;
    }
  for (guint i = 0; i < xs->rank; i++)
    {
      kept[i] = reduced[i] ? 1 : xs->shape[i];
      if (reduced[i])
        count *= (double) xs->shape[i];
    }
  /* dy and y with the reduced axes kept (size 1), then broadcast back */
  dk = keep ? g_object_ref (dy) : ane_graph_reshape (G, dy, kept, xs->rank, error);
  if (dk == NULL)
    return FALSE;
  g = ane_graph_expand (G, dk, xs->shape, xs->rank, error);
  if (g == NULL)
    return FALSE;
  switch (ctx->node->op->kind)
    {
    case ANE_OP_REDUCE_SUM:
      ctx->din[0] = g_steal_pointer (&g);
      return TRUE;
    case ANE_OP_REDUCE_MEAN:
      {
        g_autoptr(AneTensor) c = ane_grad_scalar (ctx, dy, 1.0 / count, error);

        ctx->din[0] = c ? ane_graph_mul (G, g, c, error) : NULL;
        return ctx->din[0] != NULL;
      }
    case ANE_OP_REDUCE_MAX:
    case ANE_OP_REDUCE_MIN:
      {
        /* to every element equal to the result (ties share it, as a subgradient) */
        g_autoptr(AneTensor) yb = NULL, hit = NULL, zero = NULL;

        yk = keep ? g_object_ref (y) : ane_graph_reshape (G, y, kept, xs->rank, error);
        yb = yk ? ane_graph_expand (G, yk, xs->shape, xs->rank, error) : NULL;
        hit = yb ? ane_graph_eq (G, x, yb, error) : NULL;
        zero = hit ? ane_grad_scalar (ctx, dy, 0.0, error) : NULL;
        ctx->din[0] = zero ? ane_graph_where (G, hit, g, zero, error) : NULL;
        return ctx->din[0] != NULL;
      }
    default:
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s '%s' has no gradient rule",
                   ctx->node->op->name, ctx->node->name);
      return FALSE;
    }
}

gboolean
ane_grad_reshape (AneGradCtx *ctx,
                  GError    **error)
{
  AneSpec xs = spec_of (ctx->in[0]);

  ctx->din[0] = ane_graph_reshape (G, ctx->dout[0], xs.shape, xs.rank, error);
  return ctx->din[0] != NULL;
}

gboolean
ane_grad_transpose (AneGradCtx *ctx,
                    GError    **error)
{
  gsize n;
  const gint64 *perm = ane_attrs_ints (ctx->node->attrs, "perm", &n);
  gint64 inverse[ANE_MAX_RANK];

  for (gsize i = 0; i < n && i < ANE_MAX_RANK; i++)
    {
      guint a;

      if (!ane_normalize_axis (perm[i], (guint) n, &a))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "transpose '%s': a bad permutation",
                       ctx->node->name);
          return FALSE;
        }
      inverse[a] = (gint64) i;
    }
  ctx->din[0] = ane_graph_transpose (G, ctx->dout[0], inverse, (guint) n, error);
  return ctx->din[0] != NULL;
}

gboolean
ane_grad_concat (AneGradCtx *ctx,
                 GError    **error)
{
  AneSpec ys = spec_of (ctx->out[0]);
  guint axis;
  gint64 start = 0;

  if (!ane_normalize_axis (ane_attrs_int (ctx->node->attrs, "axis"), ys.rank, &axis))
    return FALSE;
  for (guint i = 0; i < ctx->n_inputs; i++)
    {
      gint64 len = spec_of (ctx->in[i]).shape[axis];

      if (ctx->wants[i])
        {
          ctx->din[i] = ane_graph_narrow (G, ctx->dout[0], (int) axis, start, len, error);
          if (ctx->din[i] == NULL)
            return FALSE;
        }
      start += len;
    }
  return TRUE;
}

gboolean
ane_grad_narrow (AneGradCtx *ctx,
                 GError    **error)
{
  AneSpec xs = spec_of (ctx->in[0]);
  guint axis;
  gint64 start = ane_attrs_int (ctx->node->attrs, "start");
  gint64 length = ane_attrs_int (ctx->node->attrs, "length");
  gint64 pads[2 * ANE_MAX_RANK] = { 0 };

  if (!ane_normalize_axis (ane_attrs_int (ctx->node->attrs, "axis"), xs.rank, &axis))
    return FALSE;
  if (start < 0)
    start += xs.shape[axis];
  /* pads as the pad op takes them: a (before, after) pair per axis */
  pads[2 * axis] = start;
  pads[2 * axis + 1] = xs.shape[axis] - start - length;
  ctx->din[0] = ane_graph_pad (G, ctx->dout[0], pads, 2 * xs.rank, "constant", 0.0, error);
  return ctx->din[0] != NULL;
}

gboolean
ane_grad_expand (AneGradCtx *ctx,
                 GError    **error)
{
  return set_din (ctx, 0, ctx->dout[0], error);
}

gboolean
ane_grad_cast (AneGradCtx *ctx,
               GError    **error)
{
  AneDType from = ane_tensor_get_dtype (ctx->in[0]);

  if (!ane_dtype_is_float (from))
    return TRUE;   /* no gradient flows into integers */
  ctx->din[0] = ane_graph_cast (G, ctx->dout[0], from, error);
  return ctx->din[0] != NULL;
}

gboolean
ane_grad_stop_gradient (AneGradCtx *ctx,
                        GError    **error)
{
  return TRUE;
}

gboolean
ane_grad_where (AneGradCtx *ctx,
                GError    **error)
{
  AneTensor *cond = ctx->in[0], *dy = ctx->dout[0];
  g_autoptr(AneTensor) zero = ane_grad_scalar (ctx, dy, 0.0, error);

  if (zero == NULL)
    return FALSE;
  for (guint i = 1; i < 3; i++)
    if (ctx->wants[i])
      {
        g_autoptr(AneTensor) g = i == 1 ? ane_graph_where (G, cond, dy, zero, error)
                                        : ane_graph_where (G, cond, zero, dy, error);

        if (!set_din (ctx, i, g, error))
          return FALSE;
      }
  return TRUE;
}

gboolean
ane_grad_gather (AneGradCtx *ctx,
                 GError    **error)
{
  AneTensor *x = ctx->in[0], *indices = ctx->in[1], *dy = ctx->dout[0];
  AneSpec xs = spec_of (x), is = spec_of (indices);
  guint axis;
  gint64 n_idx = 1, flat[ANE_MAX_RANK], idx_shape[ANE_MAX_RANK];
  g_autoptr(AneTensor) d2 = NULL, i1 = NULL, ie = NULL, zeros = NULL;

  if (!ctx->wants[0])
    return TRUE;
  if (!ane_normalize_axis (ane_attrs_int (ctx->node->attrs, "axis"), xs.rank, &axis))
    return FALSE;
  for (guint i = 0; i < is.rank; i++)
    n_idx *= is.shape[i];
  /* dy [x[:a], indices..., x[a+1:]] as [x[:a], N, x[a+1:]]; the indices
   * as the same shape, each broadcast over the other axes: scatter_add
   * then adds dy's rows where gather took them */
  for (guint i = 0; i < xs.rank; i++)
    {
      flat[i] = i == axis ? n_idx : xs.shape[i];
      idx_shape[i] = i == axis ? n_idx : 1;
    }
  d2 = ane_graph_reshape (G, dy, flat, xs.rank, error);
  i1 = d2 ? ane_graph_reshape (G, indices, idx_shape, xs.rank, error) : NULL;
  ie = i1 ? ane_graph_expand (G, i1, flat, xs.rank, error) : NULL;
  zeros = ie ? ane_grad_fill (ctx, x, 0.0, error) : NULL;
  ctx->din[0] = zeros ? ane_graph_scatter_add (G, zeros, ie, d2, (int) axis, error) : NULL;
  return ctx->din[0] != NULL;
}

gboolean
ane_grad_rope (AneGradCtx *ctx,
               GError    **error)
{
  AneTensor *positions = ctx->in[1];
  const char *mode = ane_attrs_string (ctx->node->attrs, "mode");
  AneRopeMode m = g_strcmp0 (mode, "interleaved") == 0 ? ANE_ROPE_INTERLEAVED : ANE_ROPE_NEOX;
  g_autoptr(AneTensor) neg = NULL;

  if (g_strcmp0 (mode, "interleaved") != 0 && g_strcmp0 (mode, "neox") != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "rope '%s': mode '%s' has no gradient rule",
                   ctx->node->name, mode);
      return FALSE;
    }
  /* a rotation by -angle undoes one by angle, pair by pair */
  neg = ane_graph_neg (G, positions, error);
  ctx->din[0] = neg ? ane_graph_rope (G, ctx->dout[0], neg, m, ane_attrs_double (ctx->node->attrs, "theta"),
                                      ane_attrs_int (ctx->node->attrs, "n_rot"), error)
                    : NULL;
  return ctx->din[0] != NULL;
}

/* n = (x - mean) · r with r = rsqrt(var + eps) over axes (layer_norm,
 * group_norm): both, for the forward values a rule needs. */
static gboolean
normalize_over (AneGradCtx    *ctx,
                AneTensor     *x,
                const gint64  *axes,
                guint          n_axes,
                double         eps,
                AneTensor    **n,
                AneTensor    **r,
                GError       **error)
{
  g_autoptr(AneTensor) mu = ane_graph_reduce_mean (G, x, axes, n_axes, TRUE, error);
  g_autoptr(AneTensor) xc = mu ? ane_graph_sub (G, x, mu, error) : NULL;
  g_autoptr(AneTensor) x2 = xc ? ane_graph_mul (G, xc, xc, error) : NULL;
  g_autoptr(AneTensor) var = x2 ? ane_graph_reduce_mean (G, x2, axes, n_axes, TRUE, error) : NULL;
  g_autoptr(AneTensor) e = var ? ane_grad_scalar (ctx, x, eps, error) : NULL;
  g_autoptr(AneTensor) ve = e ? ane_graph_add (G, var, e, error) : NULL;

  *r = ve ? ane_graph_rsqrt (G, ve, error) : NULL;
  *n = *r ? ane_graph_mul (G, xc, *r, error) : NULL;
  return *n != NULL;
}

/* d loss / dx of n = (x - mean)·r over axes, from g = d loss / dn:
 * (g - mean g - n·mean(g·n))·r. */
static AneTensor *
normalized_backward (AneGradCtx    *ctx,
                     AneTensor     *g,
                     AneTensor     *n,
                     AneTensor     *r,
                     const gint64  *axes,
                     guint          n_axes,
                     GError       **error)
{
  g_autoptr(AneTensor) mg = ane_graph_reduce_mean (G, g, axes, n_axes, TRUE, error);
  g_autoptr(AneTensor) gn = mg ? ane_graph_mul (G, g, n, error) : NULL;
  g_autoptr(AneTensor) mgn = gn ? ane_graph_reduce_mean (G, gn, axes, n_axes, TRUE, error) : NULL;
  g_autoptr(AneTensor) nm = mgn ? ane_graph_mul (G, n, mgn, error) : NULL;
  g_autoptr(AneTensor) a = nm ? ane_graph_sub (G, g, mg, error) : NULL;
  g_autoptr(AneTensor) b = a ? ane_graph_sub (G, a, nm, error) : NULL;

  return b ? ane_graph_mul (G, b, r, error) : NULL;
}

gboolean
ane_grad_layer_norm (AneGradCtx *ctx,
                     GError    **error)
{
  AneTensor *x = ctx->in[0], *gamma = ctx->in[1], *dy = ctx->dout[0];
  AneSpec xs = spec_of (x);
  gsize n_axes;
  const gint64 *axes = ane_attrs_ints (ctx->node->attrs, "axes", &n_axes);
  double eps = ane_attrs_double (ctx->node->attrs, "eps");
  gint64 outer[ANE_MAX_RANK];
  guint n_outer = 0;
  gboolean normed[ANE_MAX_RANK] = { FALSE };
  g_autoptr(AneTensor) r = NULL, n = NULL, g = NULL;

  for (gsize i = 0; i < n_axes; i++)
    {
      guint a;

      if (!ane_normalize_axis (axes[i], xs.rank, &a))
        return FALSE;
      normed[a] = TRUE;
    }
  for (guint i = 0; i < xs.rank; i++)
    if (!normed[i])
      outer[n_outer++] = i;
  if (!normalize_over (ctx, x, axes, (guint) n_axes, eps, &n, &r, error))
    return FALSE;
  for (guint slot = 1; slot < 3; slot++)
    if (ctx->in[slot] != NULL && ctx->wants[slot])
      {
        /* γ and β have the normalized axes' shape: sum the rest away */
        g_autoptr(AneTensor) t = slot == 1 ? ane_graph_mul (G, dy, n, error) : g_object_ref (dy);
        g_autoptr(AneTensor) sum = t && n_outer > 0 ? ane_graph_reduce_sum (G, t, outer, n_outer, TRUE, error)
                                                    : t ? g_object_ref (t) : NULL;

        if (!set_din (ctx, slot, sum, error))
          return FALSE;
      }
  if (!ctx->wants[0])
    return TRUE;
  g = gamma != NULL ? ane_graph_mul (G, dy, gamma, error) : g_object_ref (dy);
  ctx->din[0] = g ? normalized_backward (ctx, g, n, r, axes, (guint) n_axes, error) : NULL;
  return ctx->din[0] != NULL;
}

gboolean
ane_grad_group_norm (AneGradCtx *ctx,
                     GError    **error)
{
  AneTensor *x = ctx->in[0], *gamma = ctx->in[1], *dy = ctx->dout[0];
  AneSpec xs = spec_of (x);
  gint64 groups = ane_attrs_int (ctx->node->attrs, "groups");
  gint64 rest = 1, grouped[3], chan_shape[ANE_MAX_RANK], others[ANE_MAX_RANK], last = -1;
  guint n_others = 0;
  g_autoptr(AneTensor) xg = NULL, ng = NULL, r = NULL, n = NULL, g = NULL;

  for (guint i = 1; i < xs.rank; i++)
    rest *= xs.shape[i];
  grouped[0] = xs.shape[0];
  grouped[1] = groups;
  grouped[2] = rest / groups;
  for (guint i = 0; i < xs.rank; i++)
    {
      chan_shape[i] = i == 1 ? xs.shape[1] : 1;
      if (i != 1)
        others[n_others++] = i;
    }
  xg = ane_graph_reshape (G, x, grouped, 3, error);
  if (xg == NULL || !normalize_over (ctx, xg, &last, 1, ane_attrs_double (ctx->node->attrs, "eps"), &ng, &r, error))
    return FALSE;
  n = ane_graph_reshape (G, ng, xs.shape, xs.rank, error);
  if (n == NULL)
    return FALSE;
  for (guint slot = 1; slot < 3; slot++)
    if (ctx->in[slot] != NULL && ctx->wants[slot])
      {
        g_autoptr(AneTensor) t = slot == 1 ? ane_graph_mul (G, dy, n, error) : g_object_ref (dy);
        g_autoptr(AneTensor) sum = t ? ane_graph_reduce_sum (G, t, others, n_others, FALSE, error) : NULL;

        if (!set_din (ctx, slot, sum, error))
          return FALSE;
      }
  if (!ctx->wants[0])
    return TRUE;
  if (gamma != NULL)
    {
      g_autoptr(AneTensor) gb = ane_graph_reshape (G, gamma, chan_shape, xs.rank, error);

      g = gb ? ane_graph_mul (G, dy, gb, error) : NULL;
    }
  else
    g = g_object_ref (dy);
  {
    g_autoptr(AneTensor) gg = g ? ane_graph_reshape (G, g, grouped, 3, error) : NULL;
    g_autoptr(AneTensor) dxg = gg ? normalized_backward (ctx, gg, ng, r, &last, 1, error) : NULL;

    ctx->din[0] = dxg ? ane_graph_reshape (G, dxg, xs.shape, xs.rank, error) : NULL;
  }
  return ctx->din[0] != NULL;
}

gboolean
ane_grad_lora_matmul (AneGradCtx *ctx,
                      GError    **error)
{
  AneTensor *x = ctx->in[0], *w = ctx->in[1], *la = ctx->in[2], *lb = ctx->in[3], *dy = ctx->dout[0];
  AneSpec xs = spec_of (x), ws = spec_of (w);
  gint64 k = ws.shape[0], n = ws.shape[1], m = 1;
  gint64 x2s[2], d2s[2];
  g_autoptr(AneTensor) x2 = NULL, d2 = NULL, s = NULL, dyb = NULL;

  for (guint i = 0; i + 1 < xs.rank; i++)
    m *= xs.shape[i];
  x2s[0] = d2s[0] = m;
  x2s[1] = k;
  d2s[1] = n;
  x2 = ane_graph_reshape (G, x, x2s, 2, error);
  d2 = x2 ? ane_graph_reshape (G, dy, d2s, 2, error) : NULL;
  s = d2 ? ane_grad_scalar (ctx, dy, ane_attrs_double (ctx->node->attrs, "scale"), error) : NULL;
  /* dy·Bᵀ [M, r] */
  dyb = s ? ane_graph_matmul (G, d2, lb, FALSE, TRUE, error) : NULL;
  if (dyb == NULL)
    return FALSE;
  if (ctx->wants[1])
    {
      ctx->din[1] = ane_graph_matmul (G, x2, d2, TRUE, FALSE, error);
      if (ctx->din[1] == NULL)
        return FALSE;
    }
  if (ctx->wants[2])
    {
      g_autoptr(AneTensor) t = ane_graph_matmul (G, x2, dyb, TRUE, FALSE, error);

      ctx->din[2] = t ? ane_graph_mul (G, s, t, error) : NULL;
      if (ctx->din[2] == NULL)
        return FALSE;
    }
  if (ctx->wants[3])
    {
      g_autoptr(AneTensor) xa = ane_graph_matmul (G, x2, la, FALSE, FALSE, error);
      g_autoptr(AneTensor) t = xa ? ane_graph_matmul (G, xa, d2, TRUE, FALSE, error) : NULL;

      ctx->din[3] = t ? ane_graph_mul (G, s, t, error) : NULL;
      if (ctx->din[3] == NULL)
        return FALSE;
    }
  if (ctx->wants[0])
    {
      g_autoptr(AneTensor) a = ane_graph_matmul (G, d2, w, FALSE, TRUE, error);
      g_autoptr(AneTensor) b = a ? ane_graph_matmul (G, dyb, la, FALSE, TRUE, error) : NULL;
      g_autoptr(AneTensor) sb = b ? ane_graph_mul (G, s, b, error) : NULL;
      g_autoptr(AneTensor) sum = sb ? ane_graph_add (G, a, sb, error) : NULL;

      ctx->din[0] = sum ? ane_graph_reshape (G, sum, xs.shape, xs.rank, error) : NULL;
      if (ctx->din[0] == NULL)
        return FALSE;
    }
  return TRUE;
}

/* k or v [B, Hkv, L, D] repeated to [B, H, L, D] (kv head h / rep for query
 * head h), and back: the sum over each kv head's query heads. */
static AneTensor *
repeat_heads (AneGradCtx  *ctx,
              AneTensor   *t,
              gint64       rep,
              GError     **error)
{
  AneSpec ts = spec_of (t);
  gint64 five[5] = { ts.shape[0], ts.shape[1], 1, ts.shape[2], ts.shape[3] };
  gint64 wide[5] = { ts.shape[0], ts.shape[1], rep, ts.shape[2], ts.shape[3] };
  gint64 four[4] = { ts.shape[0], ts.shape[1] * rep, ts.shape[2], ts.shape[3] };
  g_autoptr(AneTensor) r5 = NULL, e5 = NULL;

  if (rep == 1)
    return g_object_ref (t);
  r5 = ane_graph_reshape (G, t, five, 5, error);
  e5 = r5 ? ane_graph_expand (G, r5, wide, 5, error) : NULL;
  return e5 ? ane_graph_reshape (G, e5, four, 4, error) : NULL;
}

static AneTensor *
sum_heads (AneGradCtx  *ctx,
           AneTensor   *t,
           gint64       rep,
           GError     **error)
{
  AneSpec ts = spec_of (t);
  gint64 five[5] = { ts.shape[0], ts.shape[1] / rep, rep, ts.shape[2], ts.shape[3] };
  gint64 axis = 2;
  g_autoptr(AneTensor) r5 = NULL;

  if (rep == 1)
    return g_object_ref (t);
  r5 = ane_graph_reshape (G, t, five, 5, error);
  return r5 ? ane_graph_reduce_sum (G, r5, &axis, 1, FALSE, error) : NULL;
}

gboolean
ane_grad_attention (AneGradCtx *ctx,
                    GError    **error)
{
  AneTensor *q = ctx->in[0], *k = ctx->in[1], *v = ctx->in[2], *bias = ctx->in[3], *dy = ctx->dout[0];
  AneSpec qs = spec_of (q), ks = spec_of (k);
  gboolean causal = ane_attrs_bool (ctx->node->attrs, "causal");
  double scale = ane_attrs_double (ctx->node->attrs, "scale");
  double softcap = ane_attrs_double (ctx->node->attrs, "softcap");
  gint64 S = qs.shape[2], L = ks.shape[2], rep = qs.shape[1] / MAX (ks.shape[1], 1);
  gint64 last = -1;
  g_autoptr(AneTensor) ke = NULL, ve = NULL, sc = NULL, s0 = NULL, t = NULL, s1 = NULL, s2 = NULL, p = NULL;
  g_autoptr(AneTensor) dp = NULL, pdp = NULL, sum = NULL, dd = NULL, ds = NULL, ds0 = NULL;

  if (scale == 0.0)
    scale = 1.0 / sqrt ((double) qs.shape[3]);
  ke = repeat_heads (ctx, k, rep, error);
  ve = ke ? repeat_heads (ctx, v, rep, error) : NULL;
  sc = ve ? ane_grad_scalar (ctx, q, scale, error) : NULL;
  {
    g_autoptr(AneTensor) qk = sc ? ane_graph_matmul (G, q, ke, FALSE, TRUE, error) : NULL;

    s0 = qk ? ane_graph_mul (G, qk, sc, error) : NULL;
  }
  if (s0 == NULL)
    return FALSE;
  if (softcap > 0.0)
    {
      g_autoptr(AneTensor) c = ane_grad_scalar (ctx, q, softcap, error);
      g_autoptr(AneTensor) sd = c ? ane_graph_div (G, s0, c, error) : NULL;

      t = sd ? ane_graph_tanh (G, sd, error) : NULL;
      s1 = t ? ane_graph_mul (G, c, t, error) : NULL;
    }
  else
    s1 = g_object_ref (s0);
  s2 = s1 && bias != NULL ? ane_graph_add (G, s1, bias, error) : s1 ? g_object_ref (s1) : NULL;
  if (s2 == NULL)
    return FALSE;
  if (causal)
    {
      /* query i sees keys j <= i + (L - S), as the forward (ane-ops-attention.c):
       * an additive mask of 0 and -inf (a bool const does not lower) */
      const gint64 ms[2] = { S, L };
      g_autofree double *add = g_new (double, (gsize) (S * L));
      g_autoptr(AneTensor) mv = NULL, mask = NULL, masked = NULL;

      for (gint64 i = 0; i < S; i++)
        for (gint64 j = 0; j < L; j++)
          add[i * L + j] = j <= i + (L - S) ? 0.0 : -INFINITY;
      {
        AneDType dt = ane_tensor_get_dtype (q);
        gsize n_bytes = (gsize) (S * L) * ane_dtype_size (dt);
        gpointer data = g_malloc (MAX (n_bytes, 1));
        g_autoptr(GBytes) bytes = NULL;

        ane_dtype_encode (dt, add, (gsize) (S * L), data);
        bytes = g_bytes_new_take (data, n_bytes);
        mv = ane_tensor_new_from_bytes ("causal_mask", dt, ms, 2, bytes, error);
      }
      mask = mv ? ane_graph_const (G, mv, error) : NULL;
      masked = mask ? ane_graph_add (G, s2, mask, error) : NULL;
      if (masked == NULL)
        return FALSE;
      g_clear_object (&s2);
      s2 = g_steal_pointer (&masked);
    }
  p = ane_graph_softmax (G, s2, -1, error);
  if (p == NULL)
    return FALSE;
  if (ctx->wants[2])
    {
      g_autoptr(AneTensor) dve = ane_graph_matmul (G, p, dy, TRUE, FALSE, error);

      ctx->din[2] = dve ? sum_heads (ctx, dve, rep, error) : NULL;
      if (ctx->din[2] == NULL)
        return FALSE;
    }
  /* through the softmax */
  dp = ane_graph_matmul (G, dy, ve, FALSE, TRUE, error);
  pdp = dp ? ane_graph_mul (G, dp, p, error) : NULL;
  sum = pdp ? ane_graph_reduce_sum (G, pdp, &last, 1, TRUE, error) : NULL;
  dd = sum ? ane_graph_sub (G, dp, sum, error) : NULL;
  ds = dd ? ane_graph_mul (G, p, dd, error) : NULL;
  if (ds == NULL)
    return FALSE;
  if (bias != NULL && ctx->wants[3] && !set_din (ctx, 3, ds, error))
    return FALSE;
  if (softcap > 0.0)
    {
      g_autoptr(AneTensor) one = ane_grad_scalar (ctx, q, 1.0, error);
      g_autoptr(AneTensor) t2 = one ? ane_graph_mul (G, t, t, error) : NULL;
      g_autoptr(AneTensor) d = t2 ? ane_graph_sub (G, one, t2, error) : NULL;

      ds0 = d ? ane_graph_mul (G, ds, d, error) : NULL;
    }
  else
    ds0 = g_object_ref (ds);
  if (ds0 == NULL)
    return FALSE;
  if (ctx->wants[0])
    {
      g_autoptr(AneTensor) dq = ane_graph_matmul (G, ds0, ke, FALSE, FALSE, error);

      ctx->din[0] = dq ? ane_graph_mul (G, dq, sc, error) : NULL;
      if (ctx->din[0] == NULL)
        return FALSE;
    }
  if (ctx->wants[1])
    {
      g_autoptr(AneTensor) dke = ane_graph_matmul (G, ds0, q, TRUE, FALSE, error);
      g_autoptr(AneTensor) dks = dke ? ane_graph_mul (G, dke, sc, error) : NULL;

      ctx->din[1] = dks ? sum_heads (ctx, dks, rep, error) : NULL;
      if (ctx->din[1] == NULL)
        return FALSE;
    }
  return TRUE;
}
