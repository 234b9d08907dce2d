/* grad/ane-grad-rules-vision.c: the vector-Jacobian rules of conv and pool
 *
 * The forward ops are ops/ane-ops-vision.c (torch conv1d / conv2d,
 * max_pool2d / avg_pool2d in floor mode). Pads follow the IR: conv takes
 * [begin, end] per spatial dim (h_begin, h_end, w_begin, w_end), pool takes
 * [top, bottom, left, right], the same order for 2-D. Every rule works on
 * the 2-D form; a 1-D conv is one with H = 1, a one-row kernel, stride,
 * dilation 1 and no padding along H (as the forward computes it).
 *
 *   conv, dx     the adjoint of the conv is conv_transpose_2d with the same
 *                weight, strides, pads, dilations and groups (its weight
 *                layout [C_in, C_out/groups, k...] is conv's [O, C/groups,
 *                k...] read the other way); output_padding r = the rows the
 *                floor of the forward's size left over,
 *                (H + pt + pb - d·(k - 1) - 1) mod s, recovers exactly H
 *                (those last r rows feed no output: their gradient is 0).
 *   conv, dW     dW[o, c, a, b] = Σ_{n,i,j} dy[n, o, i, j] ·
 *                x[n, g·cg + c, i·s - p + a·d, ...] is itself a conv: x with
 *                batch and channels swapped ([cg, G·N, H, W], group-major
 *                channels) correlated with dy as the kernel ([O, N, oh, ow]),
 *                stride d, dilation s, the same pads and groups G, so that
 *                output channel o only sees its group's inputs. The result
 *                [cg, O, ≥kh, ≥kw] is narrowed to the kernel (positions past
 *                it exist when r ≥ d) and transposed to [O, cg, kh, kw].
 *   conv, dbias  Σ dy over the batch and spatial axes.
 *   avg pool     each window hands dy/count to each of its cells: dy divided
 *                by the window's count (kh·kw, or with count_include_pad
 *                false the cells inside the input: a constant of the
 *                geometry), then conv_transpose_2d with a ones kernel over
 *                [N·C, 1, oh, ow] (output_padding as for conv).
 *   max pool     dy to the first largest cell of each window in row-major
 *                order, as torch's max_pool2d (aten/src/ATen/native/cpu/
 *                MaxPoolKernel.cpp replaces its maximum only by a greater
 *                value, so the first one met keeps the index): the
 *                windows unfolded by a conv with kh·kw one-hot kernels
 *                ([N·C, kh·kw, oh, ow]), padded cells pushed to -inf by an
 *                additive constant, argmax over the window (the first
 *                largest), a one-hot select of dy, and the one-hot kernels'
 *                conv_transpose_2d adds each window's share back. Ties give
 *                the whole dy to the first tied cell only; a window holding
 *                NaN or an infinity (0·inf in the unfolding conv) routes
 *                its gradient unspecified.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "grad/ane-grad-private.h"
#include "ane-private.h"
#include "ane-tensor-private.h"

#define G (ctx->graph)

static AneSpec
spec_of (AneTensor *t)
{
  AneSpec spec;

  ane_tensor_get_spec (t, &spec);
  return spec;
}

/* A constant of dtype and shape holding values (row-major). */
static AneTensor *
constant (AneGradCtx    *ctx,
          const char    *name,
          AneDType       dtype,
          const gint64  *shape,
          guint          rank,
          const double  *values,
          GError       **error)
{
  gsize n = 1, n_bytes;
  gpointer data;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(AneTensor) t = NULL;

  for (guint i = 0; i < rank; i++)
    n *= (gsize) shape[i];
  n_bytes = n * ane_dtype_size (dtype);
  data = g_malloc (MAX (n_bytes, 1));
  ane_dtype_encode (dtype, values, n, data);
  bytes = g_bytes_new_take (data, n_bytes);
  t = ane_tensor_new_from_bytes (name, dtype, shape, rank, bytes, error);
  return t ? ane_graph_const (G, t, error) : NULL;
}

/* The rows (or columns) the floor of a conv or pool's output size leaves
 * unread at the end: the output_padding its conv_transpose_2d needs to give
 * back the input's size. span is the window's extent, d·(k - 1) + 1. */
static gint64
leftover (gint64 in,
          gint64 pad_begin,
          gint64 pad_end,
          gint64 span,
          gint64 stride)
{
  return (in + pad_begin + pad_end - span) % stride;
}

/* --- conv ------------------------------------------------------------------ */

gboolean
ane_grad_conv (AneGradCtx *ctx,
               GError    **error)
{
  static const gint64 ones[2] = { 1, 1 }, zeros[4] = { 0, 0, 0, 0 };
  AneTensor *x = ctx->in[0], *w = ctx->in[1], *bias = ctx->in[2], *dy = ctx->dout[0];
  AneSpec xs = spec_of (x), ws = spec_of (w), ys = spec_of (dy);
  guint nsp = xs.rank - 2;
  gint64 groups = ane_attrs_int (ctx->node->attrs, "groups");
  gint64 s[2], d[2], p[4], a[4];
  gint64 x4s[4], w4s[4], y4s[4], outpad[2];
  g_autoptr(AneTensor) x4 = NULL, w4 = NULL, dy4 = NULL;

  if (nsp == 2)
    {
      ane_attrs_ints_or (ctx->node->attrs, "strides", 2, ones, s);
      ane_attrs_ints_or (ctx->node->attrs, "dilations", 2, ones, d);
      ane_attrs_ints_or (ctx->node->attrs, "pads", 4, zeros, p);
    }
  else
    {
      /* 1-D: the forward's own 2-D view (ops/ane-ops-vision.c, conv_geom) */
      ane_attrs_ints_or (ctx->node->attrs, "strides", 1, ones, a);
      s[0] = 1;
      s[1] = a[0];
      ane_attrs_ints_or (ctx->node->attrs, "dilations", 1, ones, a);
      d[0] = 1;
      d[1] = a[0];
      ane_attrs_ints_or (ctx->node->attrs, "pads", 2, zeros, a);
      p[0] = p[1] = 0;
      p[2] = a[0];
      p[3] = a[1];
    }
  for (guint i = 0; i < 4; i++)
    {
      /* [N, C, H, W], [O, C/groups, kh, kw], [N, O, oh, ow]; H = 1 for 1-D */
      x4s[i] = i < 2 ? xs.shape[i] : nsp == 2 || i == 3 ? xs.shape[i - (nsp == 1)] : 1;
      w4s[i] = i < 2 ? ws.shape[i] : nsp == 2 || i == 3 ? ws.shape[i - (nsp == 1)] : 1;
      y4s[i] = i < 2 ? ys.shape[i] : nsp == 2 || i == 3 ? ys.shape[i - (nsp == 1)] : 1;
    }
  for (guint i = 0; i < 2; i++)
    outpad[i] = leftover (x4s[2 + i], p[2 * i], p[2 * i + 1], d[i] * (w4s[2 + i] - 1) + 1, s[i]);

  if (bias != NULL && ctx->wants[2])
    {
      gint64 axes[3] = { 0, 2, 3 };

      ctx->din[2] = ane_graph_reduce_sum (G, dy, axes, xs.rank - 1, FALSE, error);
      if (ctx->din[2] == NULL)
        return FALSE;
    }
  if (!ctx->wants[0] && !ctx->wants[1])
    return TRUE;

  x4 = nsp == 2 ? g_object_ref (x) : ane_graph_reshape (G, x, x4s, 4, error);
  w4 = x4 == NULL ? NULL : nsp == 2 ? g_object_ref (w) : ane_graph_reshape (G, w, w4s, 4, error);
  dy4 = w4 == NULL ? NULL : nsp == 2 ? g_object_ref (dy) : ane_graph_reshape (G, dy, y4s, 4, error);
  if (dy4 == NULL)
    return FALSE;

  if (ctx->wants[0])
    {
      g_autoptr(AneTensor) dx4 = ane_graph_conv_transpose_2d (G, dy4, w4, NULL, s, 2, p, 4, d, 2, outpad, 2,
                                                               groups, error);

      ctx->din[0] = dx4 == NULL ? NULL
                    : nsp == 2 ? g_steal_pointer (&dx4) : ane_graph_reshape (G, dx4, xs.shape, xs.rank, error);
      if (ctx->din[0] == NULL)
        return FALSE;
    }
  if (ctx->wants[1])
    {
      gint64 n = x4s[0], c = x4s[1], h = x4s[2], wd = x4s[3], o = w4s[0];
      gint64 cg = c / groups, og = o / groups;
      const gint64 x5s[5] = { n, groups, cg, h, wd }, xts[4] = { cg, groups * n, h, wd };
      const gint64 y5s[5] = { n, groups, og, y4s[2], y4s[3] }, yts[4] = { o, n, y4s[2], y4s[3] };
      /* x [N, G, cg, H, W] -> [cg, G, N, H, W]; dy [N, G, og, ...] -> [G, og, N, ...] */
      const gint64 xperm[5] = { 2, 1, 0, 3, 4 }, yperm[5] = { 1, 2, 0, 3, 4 }, back[4] = { 1, 0, 2, 3 };
      g_autoptr(AneTensor) x5 = ane_graph_reshape (G, x4, x5s, 5, error);
      g_autoptr(AneTensor) x5t = x5 ? ane_graph_transpose (G, x5, xperm, 5, error) : NULL;
      g_autoptr(AneTensor) xt = x5t ? ane_graph_reshape (G, x5t, xts, 4, error) : NULL;
      g_autoptr(AneTensor) y5 = xt ? ane_graph_reshape (G, dy4, y5s, 5, error) : NULL;
      g_autoptr(AneTensor) y5t = y5 ? ane_graph_transpose (G, y5, yperm, 5, error) : NULL;
      g_autoptr(AneTensor) yt = y5t ? ane_graph_reshape (G, y5t, yts, 4, error) : NULL;
      /* stride d and dilation s: the roles of the forward's swap */
      g_autoptr(AneTensor) corr = yt ? ane_graph_conv (G, xt, yt, NULL, d, 2, p, 4, s, 2, groups, error) : NULL;
      g_autoptr(AneTensor) kh = NULL, kw = NULL, dw = NULL;
      AneSpec cs;

      if (corr == NULL)
        return FALSE;
      cs = spec_of (corr);
      kh = cs.shape[2] == w4s[2] ? g_object_ref (corr) : ane_graph_narrow (G, corr, 2, 0, w4s[2], error);
      kw = kh == NULL ? NULL
           : cs.shape[3] == w4s[3] ? g_object_ref (kh) : ane_graph_narrow (G, kh, 3, 0, w4s[3], error);
      dw = kw ? ane_graph_transpose (G, kw, back, 4, error) : NULL;
      ctx->din[1] = dw == NULL ? NULL
                    : nsp == 2 ? g_steal_pointer (&dw) : ane_graph_reshape (G, dw, ws.shape, ws.rank, error);
      if (ctx->din[1] == NULL)
        return FALSE;
    }
  return TRUE;
}

/* --- pool ------------------------------------------------------------------ */

gboolean
ane_grad_pool (AneGradCtx *ctx,
               GError    **error)
{
  static const gint64 zeros[4] = { 0, 0, 0, 0 };
  AneTensor *x = ctx->in[0], *dy = ctx->dout[0];
  AneSpec xs = spec_of (x), ys = spec_of (dy);
  AneDType dt = xs.dtype;
  gboolean is_max = g_strcmp0 (ane_attrs_string (ctx->node->attrs, "kind"), "max") == 0;
  gboolean include_pad = ane_attrs_bool (ctx->node->attrs, "count_include_pad");
  gint64 k[2], s[2], p[4], outpad[2];
  gint64 h = xs.shape[2], w = xs.shape[3], oh = ys.shape[2], ow = ys.shape[3];
  gint64 nc = xs.shape[0] * xs.shape[1], kk;
  const gint64 flat_y[4] = { nc, 1, oh, ow };
  g_autoptr(AneTensor) dy1 = NULL, dx1 = NULL;

  ane_attrs_ints_or (ctx->node->attrs, "kernel", 2, zeros, k);
  ane_attrs_ints_or (ctx->node->attrs, "strides", 2, k, s);   /* empty: the kernel, as the forward */
  ane_attrs_ints_or (ctx->node->attrs, "pads", 4, zeros, p);
  kk = k[0] * k[1];
  for (guint i = 0; i < 2; i++)
    outpad[i] = leftover (xs.shape[2 + i], p[2 * i], p[2 * i + 1], k[i], s[i]);

  /* every channel of every batch alike: [N·C, 1, oh, ow] */
  dy1 = ane_graph_reshape (G, dy, flat_y, 4, error);
  if (dy1 == NULL)
    return FALSE;
  if (!is_max)
    {
      const gint64 cshape[2] = { oh, ow }, kshape[4] = { 1, 1, k[0], k[1] };
      g_autofree double *count = g_new (double, (gsize) (oh * ow));
      g_autofree double *one = g_new (double, (gsize) kk);
      g_autoptr(AneTensor) cnt = NULL, share = NULL, kernel = NULL;

      for (gint64 i = 0; i < oh; i++)
        for (gint64 j = 0; j < ow; j++)
          {
            /* the window's rows and columns inside the input (ane_ref_pool) */
            gint64 r0 = i * s[0] - p[0], c0 = j * s[1] - p[2];
            gint64 rows = MIN (r0 + k[0], h) - MAX (r0, 0), cols = MIN (c0 + k[1], w) - MAX (c0, 0);

            count[i * ow + j] = include_pad ? (double) kk : (double) (rows * cols);
          }
      for (gint64 i = 0; i < kk; i++)
        one[i] = 1.0;
      cnt = constant (ctx, "pool_count", dt, cshape, 2, count, error);
      share = cnt ? ane_graph_div (G, dy1, cnt, error) : NULL;
      kernel = share ? constant (ctx, "pool_window", dt, kshape, 4, one, error) : NULL;
      dx1 = kernel ? ane_graph_conv_transpose_2d (G, share, kernel, NULL, s, 2, p, 4, NULL, 0, outpad, 2, 1, error)
                   : NULL;
    }
  else
    {
      const gint64 hshape[4] = { kk, 1, k[0], k[1] }, mshape[4] = { 1, kk, oh, ow }, ishape[4] = { 1, kk, 1, 1 };
      const gint64 flat_x[4] = { nc, 1, h, w };
      g_autofree double *hot = g_new0 (double, (gsize) (kk * kk));
      g_autofree double *outside = g_new (double, (gsize) (kk * oh * ow));
      g_autofree double *iota = g_new (double, (gsize) kk);
      g_autoptr(AneTensor) onehot = NULL, x1 = NULL, cells = NULL, mask = NULL, masked = NULL, first = NULL;
      g_autoptr(AneTensor) idx = NULL, hit = NULL, zero = NULL, routed = NULL;

      /* kernel t = (ki, kj) reads the window's cell (ki, kj) */
      for (gint64 t = 0; t < kk; t++)
        {
          gint64 ki = t / k[1], kj = t % k[1];

          hot[t * kk + t] = 1.0;
          iota[t] = (double) t;
          for (gint64 i = 0; i < oh; i++)
            for (gint64 j = 0; j < ow; j++)
              {
                gint64 r = i * s[0] - p[0] + ki, c = j * s[1] - p[2] + kj;

                /* a padded cell never wins (ane_ref_pool skips it) */
                outside[(t * oh + i) * ow + j] = r < 0 || r >= h || c < 0 || c >= w ? -INFINITY : 0.0;
              }
        }
      onehot = constant (ctx, "pool_onehot", dt, hshape, 4, hot, error);
      x1 = onehot ? ane_graph_reshape (G, x, flat_x, 4, error) : NULL;
      cells = x1 ? ane_graph_conv (G, x1, onehot, NULL, s, 2, p, 4, NULL, 0, 1, error) : NULL;
      /* an additive 0 / -inf mask: a bool const does not lower (as the
       * attention rule's causal mask) */
      mask = cells ? constant (ctx, "pool_outside", dt, mshape, 4, outside, error) : NULL;
      masked = mask ? ane_graph_add (G, cells, mask, error) : NULL;
      first = masked ? ane_graph_argmax (G, masked, 1, TRUE, error) : NULL;
      idx = first ? constant (ctx, "pool_cell", ANE_DTYPE_INT32, ishape, 4, iota, error) : NULL;
      hit = idx ? ane_graph_eq (G, first, idx, error) : NULL;
      zero = hit ? ane_grad_scalar (ctx, dy, 0.0, error) : NULL;
      routed = zero ? ane_graph_where (G, hit, dy1, zero, error) : NULL;
      dx1 = routed ? ane_graph_conv_transpose_2d (G, routed, onehot, NULL, s, 2, p, 4, NULL, 0, outpad, 2, 1, error)
                   : NULL;
    }
  ctx->din[0] = dx1 ? ane_graph_reshape (G, dx1, xs.shape, xs.rank, error) : NULL;
  return ctx->din[0] != NULL;
}
