/* ops/ane-ops-vision.c: convolution, transposed convolution, pooling, 2x upsampling (NCHW)
 *
 * References for the semantics:
 * - conv: torch.nn.functional.conv1d / conv2d
 *   (https://pytorch.org/docs/stable/generated/torch.nn.functional.conv2d.html), a
 *   cross-correlation with explicit pads; pads are given per spatial dim as
 *   [begin, end] in MIL order (coremltools MIL `conv`, pad_type "custom").
 * - conv_transpose_2d: torch.nn.functional.conv_transpose2d
 *   (https://pytorch.org/docs/stable/generated/torch.nn.ConvTranspose2d.html), the
 *   adjoint of conv2d: input pixel (i, j) adds x·w[ki, kj] at output
 *   (i·s − pad_begin + ki·d, j·s − pad_begin + kj·d).
 * - pool: torch.nn.functional.max_pool2d / avg_pool2d with ceil_mode=False
 *   (https://pytorch.org/docs/stable/generated/torch.nn.AvgPool2d.html), with
 *   pads given as [top, bottom, left, right]; empty strides means the kernel
 *   size (torch's default).
 * - resize_nearest_2x: torch.nn.Upsample(scale_factor=2, mode='nearest').
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ops/ane-ops.h"

/* --- attribute helpers ---------------------------------------------------- */

/* The largest stride, pad, dilation or kernel size accepted; keeps every
 * size computation below far away from int64 overflow. */
#define MAX_WINDOW_ATTR G_GINT64_CONSTANT (16777216)   /* 2^24 */

static void
format_ints (const gint64 *v,
             gsize         n,
             char         *buf,
             gsize         size)
{
  gsize len = g_snprintf (buf, size, "[");

  for (gsize i = 0; i < n && len < size; i++)
    len += g_snprintf (buf + len, size - len, i ? ",%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, v[i]);
  if (len < size)
    g_snprintf (buf + len, size - len, "]");
}

/* Reads the "ax" attribute @name into @out (n values). An empty attribute
 * takes @dflt (n values). Returns FALSE if the length is neither 0 nor n. */
static gboolean
get_ints (GVariant     *attrs,
          const char   *name,
          guint         n,
          const gint64 *dflt,
          gint64       *out)
{
  gsize len;
  const gint64 *v = ane_attrs_ints (attrs, name, &len);

  if (len == 0)
    {
      memcpy (out, dflt, n * sizeof (gint64));
      return TRUE;
    }
  if (len != n)
    return FALSE;
  memcpy (out, v, n * sizeof (gint64));
  return TRUE;
}

/* get_ints plus validation: the length (@what explains it) and the range
 * [min, MAX_WINDOW_ATTR] of every value. */
static gboolean
infer_ints (AneInferCtx  *ctx,
            const char   *name,
            guint         n,
            const char   *what,
            const gint64 *dflt,
            gint64        min,
            gint64       *out,
            GError      **error)
{
  gsize len;
  const gint64 *v = ane_attrs_ints (ctx->attrs, name, &len);
  char buf[256];

  if (!get_ints (ctx->attrs, name, n, dflt, out))
    {
      format_ints (v, len, buf, sizeof buf);
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "%s must be empty or have %u values (%s), got %s", name, n, what, buf);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    if (out[i] < min || out[i] > MAX_WINDOW_ATTR)
      {
        format_ints (out, n, buf, sizeof buf);
        ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                         "%s must be at least %" G_GINT64_FORMAT " and at most %" G_GINT64_FORMAT ", got %s",
                         name, min, MAX_WINDOW_ATTR, buf);
        return FALSE;
      }
  return TRUE;
}

static const gint64 zeros[4] = { 0, 0, 0, 0 };
static const gint64 ones[4] = { 1, 1, 1, 1 };

/* --- convolution geometry -------------------------------------------------- */

/* Both conv and conv_transpose_2d are computed as 2-D; a 1-D conv is a 2-D one
 * with H = 1 and a 1-row kernel. */
typedef struct {
  gint64 n, c, h, w;          /* x */
  gint64 o, kh, kw;           /* output channels, kernel */
  gint64 sh, sw, dh, dw;      /* strides, dilations */
  gint64 pt, pb, pl, pr;      /* pads: top, bottom, left, right */
  gint64 oph, opw;            /* output_padding (transpose only) */
  gint64 groups;
  gint64 oh, ow;              /* output spatial size */
} ConvGeom;

/* Fills g from the input shapes and the (already validated) attributes. */
static void
conv_geom (const gint64 *xs,
           guint         rank,
           const gint64 *ws,
           GVariant     *attrs,
           gboolean      transpose,
           ConvGeom     *g)
{
  guint nsp = rank - 2;
  gint64 s[2], p[4], d[2], op[2] = { 0, 0 };

  get_ints (attrs, "strides", nsp, ones, s);
  get_ints (attrs, "pads", 2 * nsp, zeros, p);
  get_ints (attrs, "dilations", nsp, ones, d);
  if (transpose)
    get_ints (attrs, "output_padding", nsp, zeros, op);

  memset (g, 0, sizeof *g);
  g->groups = ane_attrs_int (attrs, "groups");
  g->n = xs[0];
  g->c = xs[1];
  g->h = nsp == 2 ? xs[2] : 1;
  g->w = xs[rank - 1];
  g->kh = nsp == 2 ? ws[2] : 1;
  g->kw = ws[rank - 1];
  /* conv weight [O, C/groups, ...]; conv_transpose weight [C, O/groups, ...] */
  g->o = transpose ? ws[1] * g->groups : ws[0];
  if (nsp == 2)
    {
      g->sh = s[0]; g->sw = s[1];
      g->dh = d[0]; g->dw = d[1];
      g->pt = p[0]; g->pb = p[1]; g->pl = p[2]; g->pr = p[3];
      g->oph = op[0]; g->opw = op[1];
    }
  else
    {
      g->sh = 1; g->sw = s[0];
      g->dh = 1; g->dw = d[0];
      g->pt = 0; g->pb = 0; g->pl = p[0]; g->pr = p[1];
      g->oph = 0; g->opw = op[0];
    }
  if (transpose)
    {
      /* torch ConvTranspose2d: (H − 1)·s − pad_begin − pad_end + d·(k − 1) + output_padding + 1 */
      g->oh = (g->h - 1) * g->sh - g->pt - g->pb + g->dh * (g->kh - 1) + g->oph + 1;
      g->ow = (g->w - 1) * g->sw - g->pl - g->pr + g->dw * (g->kw - 1) + g->opw + 1;
    }
  else
    {
      /* torch Conv2d: floor((H + pad_begin + pad_end − d·(k − 1) − 1) / s) + 1 */
      gint64 eh = g->h + g->pt + g->pb - g->dh * (g->kh - 1) - 1;
      gint64 ew = g->w + g->pl + g->pr - g->dw * (g->kw - 1) - 1;

      g->oh = eh < 0 ? 0 : eh / g->sh + 1;
      g->ow = ew < 0 ? 0 : ew / g->sw + 1;
    }
}

/* Common checks of conv and conv_transpose_2d: dtypes, ranks, attributes. */
static gboolean
infer_conv_common (AneInferCtx *ctx,
                   guint        min_rank,
                   GError     **error)
{
  const AneSpec *x = ctx->inputs[0], *w = ctx->inputs[1], *bias = ctx->inputs[2];
  gboolean transpose = ctx->op->kind == ANE_OP_CONV_TRANSPOSE_2D;
  char bx[ANE_SPEC_STRLEN], bw[ANE_SPEC_STRLEN];
  gint64 tmp[4], groups;
  guint nsp;

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_require_rank (ctx, 0, min_rank, 4, error) ||
      !ane_infer_same_dtype (ctx, 0, 1, error))
    return FALSE;
  nsp = x->rank - 2;
  if (w->rank != x->rank)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'weight' %s must have rank %u like x %s (%s)",
                       ane_spec_format (w, bw), x->rank, ane_spec_format (x, bx),
                       transpose ? "[C, O/groups, kh, kw]" : "[O, C/groups, k...]");
      return FALSE;
    }
  if (bias != NULL)
    {
      if (!ane_infer_same_dtype (ctx, 0, 2, error))
        return FALSE;
    }

  if (!infer_ints (ctx, "strides", nsp, "one per spatial dim", ones, 1, tmp, error) ||
      !infer_ints (ctx, "pads", 2 * nsp, "[begin, end] per spatial dim", zeros, 0, tmp, error) ||
      !infer_ints (ctx, "dilations", nsp, "one per spatial dim", ones, 1, tmp, error))
    return FALSE;

  groups = ane_attrs_int (ctx->attrs, "groups");
  if (groups < 1 || groups > MAX (x->shape[1], 1))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "groups must be between 1 and the channels of input 'x' %s, got %" G_GINT64_FORMAT,
                       ane_spec_format (x, bx), groups);
      return FALSE;
    }
  if (x->shape[1] % groups != 0)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "the channels of input 'x' %s are not divisible by groups %" G_GINT64_FORMAT,
                       ane_spec_format (x, bx), groups);
      return FALSE;
    }
  for (guint i = 2; i < w->rank; i++)
    {
      if (w->shape[i] < 1)
        {
          ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                           "input 'weight' %s has an empty kernel", ane_spec_format (w, bw));
          return FALSE;
        }
      /* Bounds that keep the size arithmetic of conv_geom() exact. */
      if (w->shape[i] > G_MAXINT32 || x->shape[i] > G_MAXINT32)
        {
          ane_infer_error (ctx, error, ANE_ERROR_OVERFLOW,
                           "the spatial dims of input 'x' %s or 'weight' %s exceed 2^31 - 1",
                           ane_spec_format (x, bx), ane_spec_format (w, bw));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
infer_conv_output (AneInferCtx    *ctx,
                   const ConvGeom *g,
                   GError        **error)
{
  const AneSpec *x = ctx->inputs[0], *w = ctx->inputs[1], *bias = ctx->inputs[2];
  char bx[ANE_SPEC_STRLEN], bw[ANE_SPEC_STRLEN], bb[ANE_SPEC_STRLEN];
  AneSpec *out = &ctx->outputs[0];

  if (bias != NULL && (bias->rank != 1 || bias->shape[0] != g->o))
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'bias' %s must have shape [%" G_GINT64_FORMAT "] (the output channels of weight %s)",
                       ane_spec_format (bias, bb), g->o, ane_spec_format (w, bw));
      return FALSE;
    }
  if (g->oh < 1 || g->ow < 1)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'x' %s with weight %s gives an empty output (%" G_GINT64_FORMAT
                       "x%" G_GINT64_FORMAT "); check pads, strides and dilations",
                       ane_spec_format (x, bx), ane_spec_format (w, bw), g->oh, g->ow);
      return FALSE;
    }
  out->dtype = x->dtype;
  out->rank = x->rank;
  out->shape[0] = x->shape[0];
  out->shape[1] = g->o;
  if (x->rank == 4)
    {
      out->shape[2] = g->oh;
      out->shape[3] = g->ow;
    }
  else
    out->shape[2] = g->ow;
  return TRUE;
}

/* --- shape rules ------------------------------------------------------------ */

gboolean
ane_infer_conv (AneInferCtx *ctx,
                GError     **error)
{
  const AneSpec *x, *w;
  char bx[ANE_SPEC_STRLEN], bw[ANE_SPEC_STRLEN];
  ConvGeom g;

  if (!infer_conv_common (ctx, 3, error))
    return FALSE;
  x = ctx->inputs[0];
  w = ctx->inputs[1];
  conv_geom (x->shape, x->rank, w->shape, ctx->attrs, FALSE, &g);
  if (w->shape[1] != g.c / g.groups)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'weight' %s must have %" G_GINT64_FORMAT " input channels per group "
                       "for x %s and groups %" G_GINT64_FORMAT ", got %" G_GINT64_FORMAT,
                       ane_spec_format (w, bw), g.c / g.groups, ane_spec_format (x, bx),
                       g.groups, w->shape[1]);
      return FALSE;
    }
  if (g.o % g.groups != 0)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "the output channels of input 'weight' %s are not divisible by groups %" G_GINT64_FORMAT,
                       ane_spec_format (w, bw), g.groups);
      return FALSE;
    }
  return infer_conv_output (ctx, &g, error);
}

gboolean
ane_infer_conv_transpose_2d (AneInferCtx *ctx,
                             GError     **error)
{
  const AneSpec *x, *w;
  char bx[ANE_SPEC_STRLEN], bw[ANE_SPEC_STRLEN], buf[256];
  gint64 s[2] = { 1, 1 }, d[2] = { 1, 1 }, op[2] = { 0, 0 };
  ConvGeom g;

  if (!infer_conv_common (ctx, 4, error))
    return FALSE;
  x = ctx->inputs[0];
  w = ctx->inputs[1];
  if (w->shape[0] != x->shape[1])
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'weight' %s must have %" G_GINT64_FORMAT " rows, the channels of x %s "
                       "(layout [C, O/groups, kh, kw])",
                       ane_spec_format (w, bw), x->shape[1], ane_spec_format (x, bx));
      return FALSE;
    }
  if (!infer_ints (ctx, "output_padding", 2, "one per spatial dim", zeros, 0, op, error))
    return FALSE;
  get_ints (ctx->attrs, "strides", 2, ones, s);
  get_ints (ctx->attrs, "dilations", 2, ones, d);
  for (guint i = 0; i < 2; i++)
    if (op[i] >= s[i] && op[i] >= d[i])
      {
        format_ints (op, 2, buf, sizeof buf);
        ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                         "output_padding %s must be smaller than the stride or the dilation in each dim",
                         buf);
        return FALSE;
      }
  conv_geom (x->shape, x->rank, w->shape, ctx->attrs, TRUE, &g);
  return infer_conv_output (ctx, &g, error);
}

gboolean
ane_infer_pool (AneInferCtx *ctx,
                GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  const char *kind = ane_attrs_string (ctx->attrs, "kind");
  const gint64 *kernel;
  gsize n_kernel;
  gint64 k[2], s[2], p[4], oh, ow;
  char bx[ANE_SPEC_STRLEN], buf[256];

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_require_rank (ctx, 0, 4, 4, error))
    return FALSE;
  if (!g_str_equal (kind, "max") && !g_str_equal (kind, "avg"))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "kind must be 'max' or 'avg', not '%s'", kind);
      return FALSE;
    }
  kernel = ane_attrs_ints (ctx->attrs, "kernel", &n_kernel);
  if (n_kernel != 2)
    {
      format_ints (kernel, n_kernel, buf, sizeof buf);
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "kernel must have 2 values [kh, kw], got %s", buf);
      return FALSE;
    }
  if (!infer_ints (ctx, "kernel", 2, "[kh, kw]", ones, 1, k, error) ||
      !infer_ints (ctx, "strides", 2, "[sh, sw]; empty means the kernel size", k, 1, s, error) ||
      !infer_ints (ctx, "pads", 4, "[top, bottom, left, right]", zeros, 0, p, error))
    return FALSE;
  /* A pad smaller than the kernel keeps every window overlapping the input,
   * so max and avg are always over at least one real cell. */
  if (p[0] >= k[0] || p[1] >= k[0] || p[2] >= k[1] || p[3] >= k[1])
    {
      char bk[64];
      format_ints (p, 4, buf, sizeof buf);
      format_ints (k, 2, bk, sizeof bk);
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "pads %s must each be smaller than the kernel %s in their dim", buf, bk);
      return FALSE;
    }
  oh = x->shape[2] + p[0] + p[1] - k[0];
  ow = x->shape[3] + p[2] + p[3] - k[1];
  if (oh < 0 || ow < 0)
    {
      format_ints (k, 2, buf, sizeof buf);
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "the kernel %s is larger than the padded input 'x' %s", buf,
                       ane_spec_format (x, bx));
      return FALSE;
    }
  ctx->outputs[0] = *x;
  ctx->outputs[0].shape[2] = oh / s[0] + 1;
  ctx->outputs[0].shape[3] = ow / s[1] + 1;
  return TRUE;
}

gboolean
ane_infer_resize_nearest_2x (AneInferCtx *ctx,
                             GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  char bx[ANE_SPEC_STRLEN];

  if (!ane_infer_require_numeric (ctx, 0, error) ||
      !ane_infer_require_rank (ctx, 0, 4, 4, error))
    return FALSE;
  if (x->shape[2] > G_MAXINT64 / 4 || x->shape[3] > G_MAXINT64 / 4)
    {
      ane_infer_error (ctx, error, ANE_ERROR_OVERFLOW, "input 'x' %s is too large to upsample",
                       ane_spec_format (x, bx));
      return FALSE;
    }
  ctx->outputs[0] = *x;
  ctx->outputs[0].shape[2] = 2 * x->shape[2];
  ctx->outputs[0].shape[3] = 2 * x->shape[3];
  return TRUE;
}

/* --- reference kernels ------------------------------------------------------ */

gboolean
ane_ref_conv (AneRefCtx *ctx,
              GError   **error)
{
  const AneRefValue *x = ctx->inputs[0], *w = ctx->inputs[1], *bias = ctx->inputs[2];
  AneRefValue *y = ctx->outputs[0];
  ConvGeom g;
  gint64 cg, og;

  conv_geom (x->shape, x->rank, w->shape, ctx->attrs, FALSE, &g);
  cg = g.c / g.groups;   /* input channels per group */
  og = g.o / g.groups;   /* output channels per group */

  /* y[n,o,i,j] = bias[o] + Σ_{c,ki,kj} x[n, grp·cg + c, i·sh − pt + ki·dh, j·sw − pl + kj·dw]
   *                                    · w[o, c, ki, kj], out-of-range x reads as 0 */
  for (gint64 n = 0; n < g.n; n++)
    for (gint64 o = 0; o < g.o; o++)
      {
        gint64 grp = o / og;

        for (gint64 i = 0; i < g.oh; i++)
          for (gint64 j = 0; j < g.ow; j++)
            {
              double acc = bias ? bias->v[o] : 0.0;

              for (gint64 c = 0; c < cg; c++)
                for (gint64 ki = 0; ki < g.kh; ki++)
                  for (gint64 kj = 0; kj < g.kw; kj++)
                    {
                      gint64 yi = i * g.sh - g.pt + ki * g.dh;
                      gint64 xj = j * g.sw - g.pl + kj * g.dw;
                      gint64 ci = grp * cg + c;

                      if (yi < 0 || yi >= g.h || xj < 0 || xj >= g.w)
                        continue;
                      acc += x->v[((n * g.c + ci) * g.h + yi) * g.w + xj] *
                             w->v[((o * cg + c) * g.kh + ki) * g.kw + kj];
                    }
              y->v[((n * g.o + o) * g.oh + i) * g.ow + j] = acc;
            }
      }
  return TRUE;
}

gboolean
ane_ref_conv_transpose_2d (AneRefCtx *ctx,
                           GError   **error)
{
  const AneRefValue *x = ctx->inputs[0], *w = ctx->inputs[1], *bias = ctx->inputs[2];
  AneRefValue *y = ctx->outputs[0];
  ConvGeom g;
  gint64 cg, og;

  conv_geom (x->shape, x->rank, w->shape, ctx->attrs, TRUE, &g);
  cg = g.c / g.groups;
  og = g.o / g.groups;

  if (bias != NULL)
    for (gint64 n = 0; n < g.n; n++)
      for (gint64 o = 0; o < g.o; o++)
        for (gint64 p = 0; p < g.oh * g.ow; p++)
          y->v[(n * g.o + o) * g.oh * g.ow + p] = bias->v[o];

  /* Scatter: every input pixel x[n,c,i,j] adds x·w[c, o', ki, kj] at output
   * (i·sh − pt + ki·dh, j·sw − pl + kj·dw) of channel grp·og + o'; positions
   * outside [0, H') × [0, W') are cropped. */
  for (gint64 n = 0; n < g.n; n++)
    for (gint64 c = 0; c < g.c; c++)
      {
        gint64 grp = c / cg;

        for (gint64 i = 0; i < g.h; i++)
          for (gint64 j = 0; j < g.w; j++)
            {
              double xv = x->v[((n * g.c + c) * g.h + i) * g.w + j];

              for (gint64 oc = 0; oc < og; oc++)
                for (gint64 ki = 0; ki < g.kh; ki++)
                  for (gint64 kj = 0; kj < g.kw; kj++)
                    {
                      gint64 yi = i * g.sh - g.pt + ki * g.dh;
                      gint64 yj = j * g.sw - g.pl + kj * g.dw;
                      gint64 o = grp * og + oc;

                      if (yi < 0 || yi >= g.oh || yj < 0 || yj >= g.ow)
                        continue;
                      y->v[((n * g.o + o) * g.oh + yi) * g.ow + yj] +=
                        xv * w->v[((c * og + oc) * g.kh + ki) * g.kw + kj];
                    }
            }
      }
  return TRUE;
}

gboolean
ane_ref_pool (AneRefCtx *ctx,
              GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  gboolean is_max = g_str_equal (ane_attrs_string (ctx->attrs, "kind"), "max");
  gboolean include_pad = ane_attrs_bool (ctx->attrs, "count_include_pad");
  gsize n_kernel;
  const gint64 *k = ane_attrs_ints (ctx->attrs, "kernel", &n_kernel);
  gint64 s[2], p[4];
  gint64 nc = x->shape[0] * x->shape[1], h = x->shape[2], w = x->shape[3];
  gint64 oh = y->shape[2], ow = y->shape[3];

  get_ints (ctx->attrs, "strides", 2, k, s);
  get_ints (ctx->attrs, "pads", 4, zeros, p);

  for (gint64 m = 0; m < nc; m++)
    for (gint64 i = 0; i < oh; i++)
      for (gint64 j = 0; j < ow; j++)
        {
          double acc = is_max ? -INFINITY : 0.0;
          gint64 cells = 0;
          gboolean nan = FALSE;

          /* The window covers padded rows i·sh − top .. + kh − 1 (likewise columns);
           * padded cells never win a max and count toward avg only if count_include_pad. */
          for (gint64 ki = 0; ki < k[0]; ki++)
            for (gint64 kj = 0; kj < k[1]; kj++)
              {
                gint64 yi = i * s[0] - p[0] + ki;
                gint64 xj = j * s[1] - p[2] + kj;
                double v;

                if (yi < 0 || yi >= h || xj < 0 || xj >= w)
                  continue;
                v = x->v[(m * h + yi) * w + xj];
                cells++;
                if (isnan (v))
                  nan = TRUE;
                else if (is_max)
                  acc = v > acc ? v : acc;
                else
                  acc += v;
              }
          if (nan)
            acc = NAN;   /* torch.max_pool2d and avg_pool2d propagate NaN */
          else if (!is_max)
            acc /= (double) (include_pad ? k[0] * k[1] : cells);
          y->v[(m * oh + i) * ow + j] = acc;
        }
  return TRUE;
}

gboolean
ane_ref_resize_nearest_2x (AneRefCtx *ctx,
                           GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  gint64 nc = x->shape[0] * x->shape[1], h = x->shape[2], w = x->shape[3];

  for (gint64 m = 0; m < nc; m++)
    for (gint64 i = 0; i < 2 * h; i++)
      for (gint64 j = 0; j < 2 * w; j++)
        y->v[(m * 2 * h + i) * 2 * w + j] = x->v[(m * h + i / 2) * w + j / 2];
  return TRUE;
}

/* --- builder methods -------------------------------------------------------- */

/* An "ax" attribute value; (NULL, 0) is the empty array (the op's default). */
static GVariant *
ints_variant (const gint64 *values,
              guint         n)
{
  static const gint64 none = 0;

  return ane_attrs_ints_variant (n > 0 ? values : &none, n);
}

/**
 * ane_graph_conv:
 * @self: a graph
 * @x: a float tensor `[N, C, W]` (1-D) or `[N, C, H, W]` (2-D)
 * @weight: the kernel `[O, C/groups, kw]` or `[O, C/groups, kh, kw]`, dtype of @x
 * @bias: (nullable): `[O]`, dtype of @x
 * @strides: (array length=n_strides) (nullable): one stride per spatial dim; empty means 1s
 * @n_strides: length of @strides (0 or the number of spatial dims)
 * @pads: (array length=n_pads) (nullable): `[begin, end]` per spatial dim
 *   (`h_begin, h_end, w_begin, w_end` for 2-D); empty means no padding
 * @n_pads: length of @pads (0 or twice the number of spatial dims)
 * @dilations: (array length=n_dilations) (nullable): one dilation per spatial dim; empty means 1s
 * @n_dilations: length of @dilations
 * @groups: number of channel groups; C and O must be multiples of it
 *   (groups = C is a depthwise convolution)
 * @error: return location for a #GError
 *
 * 1-D or 2-D convolution, a cross-correlation as torch.nn.functional.conv1d /
 * conv2d with explicit zero padding: output size per spatial dim is
 * `floor((in + pad_begin + pad_end − dilation·(k − 1) − 1) / stride) + 1`.
 *
 * Returns: (transfer full): the result `[N, O, ...]`
 */
AneTensor *
ane_graph_conv (AneGraph      *self,
                AneTensor     *x,
                AneTensor     *weight,
                AneTensor     *bias,
                const gint64  *strides,
                guint          n_strides,
                const gint64  *pads,
                guint          n_pads,
                const gint64  *dilations,
                guint          n_dilations,
                gint64         groups,
                GError       **error)
{
  AneTensor *inputs[3] = { x, weight, bias };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x) && ANE_IS_TENSOR (weight), NULL);
  g_return_val_if_fail (bias == NULL || ANE_IS_TENSOR (bias), NULL);
  g_return_val_if_fail (strides != NULL || n_strides == 0, NULL);
  g_return_val_if_fail (pads != NULL || n_pads == 0, NULL);
  g_return_val_if_fail (dilations != NULL || n_dilations == 0, NULL);

  return ane_graph_add_node (self, ANE_OP_CONV, inputs, 3,
                             ane_attrs_new ("strides", ints_variant (strides, n_strides),
                                            "pads", ints_variant (pads, n_pads),
                                            "dilations", ints_variant (dilations, n_dilations),
                                            "groups", g_variant_new_int64 (groups),
                                            NULL),
                             NULL, error);
}

/**
 * ane_graph_conv_transpose_2d:
 * @self: a graph
 * @x: a float tensor `[N, C, H, W]`
 * @weight: the kernel `[C, O/groups, kh, kw]` (PyTorch's ConvTranspose2d layout), dtype of @x
 * @bias: (nullable): `[O]`, dtype of @x
 * @strides: (array length=n_strides) (nullable): `[sh, sw]`; empty means 1s
 * @n_strides: length of @strides (0 or 2)
 * @pads: (array length=n_pads) (nullable): `[h_begin, h_end, w_begin, w_end]`, cropped
 *   from the output; empty means 0s
 * @n_pads: length of @pads (0 or 4)
 * @dilations: (array length=n_dilations) (nullable): `[dh, dw]`; empty means 1s
 * @n_dilations: length of @dilations (0 or 2)
 * @output_padding: (array length=n_output_padding) (nullable): extra rows and columns
 *   added at the end of the output, each smaller than its stride or dilation; empty means 0s
 * @n_output_padding: length of @output_padding (0 or 2)
 * @groups: number of channel groups; C must be a multiple of it
 * @error: return location for a #GError
 *
 * 2-D transposed convolution as torch.nn.functional.conv_transpose2d:
 * `H' = (H − 1)·sh − h_begin − h_end + dh·(kh − 1) + output_padding_h + 1`
 * (likewise W'), and O = groups · weight.shape[1].
 *
 * Returns: (transfer full): the result `[N, O, H', W']`
 */
AneTensor *
ane_graph_conv_transpose_2d (AneGraph      *self,
                             AneTensor     *x,
                             AneTensor     *weight,
                             AneTensor     *bias,
                             const gint64  *strides,
                             guint          n_strides,
                             const gint64  *pads,
                             guint          n_pads,
                             const gint64  *dilations,
                             guint          n_dilations,
                             const gint64  *output_padding,
                             guint          n_output_padding,
                             gint64         groups,
                             GError       **error)
{
  AneTensor *inputs[3] = { x, weight, bias };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x) && ANE_IS_TENSOR (weight), NULL);
  g_return_val_if_fail (bias == NULL || ANE_IS_TENSOR (bias), NULL);
  g_return_val_if_fail (strides != NULL || n_strides == 0, NULL);
  g_return_val_if_fail (pads != NULL || n_pads == 0, NULL);
  g_return_val_if_fail (dilations != NULL || n_dilations == 0, NULL);
  g_return_val_if_fail (output_padding != NULL || n_output_padding == 0, NULL);

  return ane_graph_add_node (self, ANE_OP_CONV_TRANSPOSE_2D, inputs, 3,
                             ane_attrs_new ("strides", ints_variant (strides, n_strides),
                                            "pads", ints_variant (pads, n_pads),
                                            "dilations", ints_variant (dilations, n_dilations),
                                            "output_padding", ints_variant (output_padding, n_output_padding),
                                            "groups", g_variant_new_int64 (groups),
                                            NULL),
                             NULL, error);
}

/**
 * ane_graph_pool:
 * @self: a graph
 * @x: a float tensor `[N, C, H, W]`
 * @kind: max or average pooling
 * @kernel: (array length=n_kernel): the window `[kh, kw]`
 * @n_kernel: length of @kernel (2)
 * @strides: (array length=n_strides) (nullable): `[sh, sw]`; empty means the kernel size
 * @n_strides: length of @strides (0 or 2)
 * @pads: (array length=n_pads) (nullable): `[top, bottom, left, right]`, each smaller
 *   than the kernel in its dim; empty means 0s
 * @n_pads: length of @pads (0 or 4)
 * @count_include_pad: for average pooling, divide by the whole window (padding
 *   included) instead of the cells inside the input
 * @error: return location for a #GError
 *
 * 2-D max or average pooling in floor mode, as torch max_pool2d / avg_pool2d
 * with ceil_mode=False: `H' = floor((H + top + bottom − kh) / sh) + 1`. Padded
 * cells never win a max.
 *
 * Returns: (transfer full): the result `[N, C, H', W']`
 */
AneTensor *
ane_graph_pool (AneGraph      *self,
                AneTensor     *x,
                AnePoolKind    kind,
                const gint64  *kernel,
                guint          n_kernel,
                const gint64  *strides,
                guint          n_strides,
                const gint64  *pads,
                guint          n_pads,
                gboolean       count_include_pad,
                GError       **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  g_return_val_if_fail (kind == ANE_POOL_MAX || kind == ANE_POOL_AVG, NULL);
  g_return_val_if_fail (kernel != NULL || n_kernel == 0, NULL);
  g_return_val_if_fail (strides != NULL || n_strides == 0, NULL);
  g_return_val_if_fail (pads != NULL || n_pads == 0, NULL);

  return ane_graph_add_node (self, ANE_OP_POOL, &x, 1,
                             ane_attrs_new ("kind", g_variant_new_string (kind == ANE_POOL_MAX ? "max" : "avg"),
                                            "kernel", ints_variant (kernel, n_kernel),
                                            "strides", ints_variant (strides, n_strides),
                                            "pads", ints_variant (pads, n_pads),
                                            "count_include_pad", g_variant_new_boolean (count_include_pad),
                                            NULL),
                             NULL, error);
}

/**
 * ane_graph_resize_nearest_2x:
 * @self: a graph
 * @x: a tensor `[N, C, H, W]`
 * @error: return location for a #GError
 *
 * Nearest-neighbour 2x upsampling, as torch.nn.Upsample(scale_factor=2,
 * mode='nearest'): `out[n, c, y, x] = in[n, c, y / 2, x / 2]`.
 *
 * Returns: (transfer full): the result `[N, C, 2H, 2W]`
 */
AneTensor *
ane_graph_resize_nearest_2x (AneGraph   *self,
                             AneTensor  *x,
                             GError    **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);

  return ane_graph_add_node (self, ANE_OP_RESIZE_NEAREST_2X, &x, 1, NULL, NULL, error);
}
