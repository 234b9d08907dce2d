/* runtime/cpu/ane-cpu-k-linalg.c: matmul, linear, conv, conv_transpose,
 * pools, upsample and attention MIL kernels
 *
 * Semantics from coremltools' op definitions (ops/defs/iOS15/linear.py,
 * conv.py, pool.py, image_resizing.py, _utils.py; iOS18/transformers.py):
 *
 * - matmul is numpy.matmul after optional swaps of the last two axes of x
 *   (transpose_x) and y (transpose_y); batch dims broadcast numpy-style. A
 *   rank-1 operand is promoted as numpy does (row for x, column for y) and
 *   its transpose flag has no effect.
 * - linear(x, weight [D_out, D_in], bias [D_out]) = x · weightᵀ + bias.
 * - conv is a cross-correlation over 1 to 3 spatial dims with weight
 *   [C_out, C_in/groups, *K]; pad_type valid (no padding), custom (pad =
 *   [begin, end] per spatial dim), same / same_lower (total padding
 *   max(0, s·ceil(D/s) − D + dk − s) with dk = (K−1)·dil + 1, the odd cell at
 *   the end for same and at the start for same_lower).
 * - conv_transpose takes weight [C_in, C_out/groups, *K]; it computes the full
 *   transposed convolution of (D−1)·s + dk cells and keeps the declared output
 *   extent starting at the begin crop (custom: pad[2i]; valid: 0; same: half
 *   of the excess, rounded down). Cells past the full result are zero (plus
 *   the bias), which is what an output_shape larger than the crop gives.
 * - max_pool / avg_pool: windows of kernel_sizes at strides, padded as conv
 *   (dilation 1); ceil_mode rounds the output size up (torch's rule). Padded
 *   cells never win a max; avg_pool divides by the window cells inside the
 *   input when exclude_padding_from_average, else by the cells inside the
 *   padded input (the kernel size when the window does not run past the end
 *   padding, as torch's count_include_pad).
 * - upsample_nearest_neighbor scales the last two axes: out[y, x] =
 *   in[floor(y / sh), floor(x / sw)], output size floor(H·sh) × floor(W·sw).
 * - scaled_dot_product_attention (iOS18): softmax(Q·Kᵀ/√E + mask)·V over the
 *   last axis; a bool mask marks the keys that take part (False → −inf), a
 *   float mask is added; the mask broadcasts to [batch…, L, S]. A row whose
 *   every key is masked out is NaN (numpy's value inference, torch).
 *
 * The products go through ane_cpu_sgemm (cblas_sgemm when available, loops
 * otherwise) and accumulate in fp32; fp16 programs see fp16-valued inputs and
 * the driver rounds each output, as on the device.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "runtime/cpu/ane-cpu-blas-private.h"
#include "runtime/cpu/ane-cpu-expf-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"
#include "runtime/cpu/ane-cpu-dims-private.h"
#include "runtime/cpu/ane-cpu-kernels-private.h"

#define MAX_SPATIAL 3

/* --- helpers -------------------------------------------------------------- */

/* v's elements as floats: its own storage, or a converted copy in *tmp. */
static const float *
floats_of (const AneCpuValue *v,
           float            **tmp)
{
  if (v->f)
    return v->f;
  *tmp = g_new (float, MAX (v->n, 1));
  for (gsize i = 0; i < v->n; i++)
    (*tmp)[i] = (float) v->i[i];
  return *tmp;
}

static void
store_int (AneCpuValue *v,
           gsize        i,
           double       x)
{
  v->i[i] = isnan (x) ? 0 : (gint32) CLAMP (trunc (x), -2147483648.0, 2147483647.0);
}

/* An integer vector parameter of exactly n values, or fallback everywhere when absent. */
static gboolean
read_ints (AneCpuCtx  *ctx,
           const char *param,
           guint       n,
           gint64      fallback,
           gint64     *out,
           GError    **error)
{
  gsize got = 0;
  g_autofree gint64 *v = ane_cpu_ints (ctx, param, &got);

  if (v == NULL)
    {
      for (guint i = 0; i < n; i++)
        out[i] = fallback;
      return TRUE;
    }
  if (got != n)
    return ane_cpu_fail (ctx, error, "'%s' has %zu values, expected %u", param, got, n);
  memcpy (out, v, n * sizeof (gint64));
  return TRUE;
}

/* Strides of v for broadcasting against a shape of out_rank: 0 on broadcast
 * (size-1 or missing) axes. */
static void
broadcast_strides (const AneCpuValue *v,
                   guint              out_rank,
                   const gint64      *out_shape,
                   gint64            *strides)
{
  gint64 s = 1;

  for (guint i = out_rank; i-- > 0;)
    {
      gint64 vi = (gint64) i - (gint64) (out_rank - v->rank);

      if (vi < 0)
        strides[i] = 0;
      else
        {
          strides[i] = (v->shape[vi] == 1 && out_shape[i] != 1) ? 0 : s;
          s *= v->shape[vi];
        }
    }
}

/* Whether v broadcasts to shape (numpy rules, v's rank at most rank). */
static gboolean
broadcasts_to (const AneCpuValue *v,
               const gint64      *shape,
               guint              rank)
{
  if (v->rank > rank)
    return FALSE;
  for (guint i = 0; i < v->rank; i++)
    {
      gint64 d = v->shape[i], t = shape[rank - v->rank + i];
      if (d != 1 && d != t)
        return FALSE;
    }
  return TRUE;
}

/* --- matmul ---------------------------------------------------------------- */

static gboolean
k_matmul (AneCpuCtx *ctx,
          GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x"), *y = ane_cpu_in (ctx, "y");
  gboolean tx = ane_cpu_bool (ctx, "transpose_x", FALSE);
  gboolean ty = ane_cpu_bool (ctx, "transpose_y", FALSE);
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gint64 xs[ANE_CPU_MAX_RANK + 1], ys[ANE_CPU_MAX_RANK + 1], os[ANE_CPU_MAX_RANK + 1];
  gint64 xbs[ANE_CPU_MAX_RANK], ybs[ANE_CPU_MAX_RANK], coords[ANE_CPU_MAX_RANK];
  guint xr, yr, br, orank = 0;
  gint64 M, K, K2, N, batch;
  gboolean x_vec, y_vec;

  if (x == NULL || y == NULL)
    return ane_cpu_fail (ctx, error, "needs parameters x and y");
  if (x->rank < 1 || y->rank < 1)
    return ane_cpu_fail (ctx, error, "x and y must have rank at least 1 (got %u and %u)", x->rank, y->rank);
  /* a weight the plan kept compressed (only ever y [N, K] with transpose_y: ane-cpu-k-packed.c) */
  if (y->packed != NULL)
    return ane_cpu_matmul_packed (ctx, x, y, out, error);
  if ((x->f == NULL) != (out->f == NULL) && (y->f == NULL) != (out->f == NULL))
    return ane_cpu_fail (ctx, error, "the output dtype matches neither operand's");

  /* numpy's promotion of rank-1 operands */
  x_vec = x->rank == 1;
  y_vec = y->rank == 1;
  if (x_vec)
    {
      xs[0] = 1;
      xs[1] = x->shape[0];
      xr = 2;
      tx = FALSE;
    }
  else
    {
      memcpy (xs, x->shape, x->rank * sizeof (gint64));
      xr = x->rank;
    }
  if (y_vec)
    {
      ys[0] = y->shape[0];
      ys[1] = 1;
      yr = 2;
      ty = FALSE;
    }
  else
    {
      memcpy (ys, y->shape, y->rank * sizeof (gint64));
      yr = y->rank;
    }
  M = tx ? xs[xr - 1] : xs[xr - 2];
  K = tx ? xs[xr - 2] : xs[xr - 1];
  K2 = ty ? ys[yr - 1] : ys[yr - 2];
  N = ty ? ys[yr - 2] : ys[yr - 1];
  if (K != K2)
    return ane_cpu_fail (ctx, error, "inner dimensions differ: x gives %" G_GINT64_FORMAT
                         " and y gives %" G_GINT64_FORMAT " (transpose_x %d, transpose_y %d)",
                         K, K2, tx, ty);

  /* batch dims, broadcast right-aligned */
  br = MAX (xr, yr) - 2;
  if (br > ANE_CPU_MAX_RANK)
    return ane_cpu_fail (ctx, error, "rank too large");
  for (guint i = 0; i < br; i++)
    {
      gint64 xd = i + (xr - 2) >= br ? xs[i + (xr - 2) - br] : 1;
      gint64 yd = i + (yr - 2) >= br ? ys[i + (yr - 2) - br] : 1;

      xbs[i] = xd;
      ybs[i] = yd;
      if (xd != yd && xd != 1 && yd != 1)
        return ane_cpu_fail (ctx, error, "batch dimension %u does not broadcast (%" G_GINT64_FORMAT
                             " and %" G_GINT64_FORMAT ")", i, xd, yd);
      os[orank++] = MAX (xd, yd);
      if (xd == 0 || yd == 0)
        os[orank - 1] = 0;
    }
  batch = ane_cpu_dims_product (os, 0, br);
  if (!x_vec)
    os[orank++] = M;
  if (!y_vec)
    os[orank++] = N;
  if (!ane_cpu_check_out_shape (ctx, out, os, orank, error))
    return FALSE;
  if (out->n == 0)
    return TRUE;

  {
    gsize xmat = (gsize) (M * K), ymat = (gsize) (K * N), omat = (gsize) (M * N);
    gint64 xstr[ANE_CPU_MAX_RANK], ystr[ANE_CPU_MAX_RANK];
    gint64 xb = ane_cpu_dims_product (xbs, 0, br), yb = ane_cpu_dims_product (ybs, 0, br);
    gsize lda = tx ? (gsize) M : (gsize) K, ldb = ty ? (gsize) K : (gsize) N;

    /* batch strides (in matrices), 0 where broadcast */
    {
      gint64 sx = 1, sy = 1;
      for (guint i = br; i-- > 0;)
        {
          xstr[i] = xbs[i] == 1 ? 0 : sx;
          ystr[i] = ybs[i] == 1 ? 0 : sy;
          sx *= xbs[i];
          sy *= ybs[i];
        }
    }

    if (out->f)
      {
        g_autofree float *xtmp = NULL, *ytmp = NULL;
        const float *xf = floats_of (x, &xtmp), *yf = floats_of (y, &ytmp);

        if (yb == 1 && xb == batch && !tx)
          {
            /* y is one matrix: the batch of x is more rows of one product */
            ane_cpu_sgemm (FALSE, ty, (gsize) (batch * M), (gsize) N, (gsize) K, 1.0f,
                           xf, lda, yf, ldb, 0.0f, out->f, (gsize) N);
            return TRUE;
          }
        for (gint64 b = 0; b < batch; b++)
          {
            gsize xo = 0, yo = 0;

            ane_cpu_unravel ((gsize) b, os, br, coords);
            for (guint i = 0; i < br; i++)
              {
                xo += (gsize) (coords[i] * xstr[i]);
                yo += (gsize) (coords[i] * ystr[i]);
              }
            ane_cpu_sgemm (tx, ty, (gsize) M, (gsize) N, (gsize) K, 1.0f,
                           xf + xo * xmat, lda, yf + yo * ymat, ldb,
                           0.0f, out->f + (gsize) b * omat, (gsize) N);
          }
        return TRUE;
      }

    /* int32: exact sums in double (|products| < 2^62 stay exact enough for int32 results) */
    for (gint64 b = 0; b < batch; b++)
      {
        gsize xo = 0, yo = 0;

        ane_cpu_unravel ((gsize) b, os, br, coords);
        for (guint i = 0; i < br; i++)
          {
            xo += (gsize) (coords[i] * xstr[i]);
            yo += (gsize) (coords[i] * ystr[i]);
          }
        xo *= xmat;
        yo *= ymat;
        for (gint64 i = 0; i < M; i++)
          for (gint64 j = 0; j < N; j++)
            {
              double sum = 0.0;
              for (gint64 p = 0; p < K; p++)
                {
                  gsize xi = xo + (gsize) (tx ? p * M + i : i * K + p);
                  gsize yi = yo + (gsize) (ty ? j * K + p : p * N + j);
                  sum += ane_cpu_value_get (x, xi) * ane_cpu_value_get (y, yi);
                }
              store_int (out, (gsize) b * omat + (gsize) (i * N + j), sum);
            }
      }
  }
  return TRUE;
}

/* --- linear ---------------------------------------------------------------- */

static gboolean
k_linear (AneCpuCtx *ctx,
          GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x"), *w = ane_cpu_in (ctx, "weight");
  const AneCpuValue *bias = ane_cpu_in (ctx, "bias");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gint64 os[ANE_CPU_MAX_RANK];
  gint64 N, K, M;

  if (x == NULL || w == NULL)
    return ane_cpu_fail (ctx, error, "needs parameters x and weight");
  if (x->rank < 1 || w->rank != 2)
    return ane_cpu_fail (ctx, error, "x must have rank ≥ 1 and weight rank 2 (got %u and %u)", x->rank, w->rank);
  N = w->shape[0];
  K = w->shape[1];
  if (x->shape[x->rank - 1] != K)
    return ane_cpu_fail (ctx, error, "x's last dimension %" G_GINT64_FORMAT " differs from weight's D_in %" G_GINT64_FORMAT,
                         x->shape[x->rank - 1], K);
  if (bias && (bias->n != (gsize) N || bias->rank != 1))
    return ane_cpu_fail (ctx, error, "bias must have shape [%" G_GINT64_FORMAT "]", N);
  memcpy (os, x->shape, x->rank * sizeof (gint64));
  os[x->rank - 1] = N;
  if (!ane_cpu_check_out_shape (ctx, out, os, x->rank, error))
    return FALSE;
  M = ane_cpu_dims_product (x->shape, 0, x->rank - 1);
  if (out->n == 0)
    return TRUE;
  /* a weight the plan kept compressed (ane-cpu-k-packed.c) */
  if (w->packed != NULL)
    return ane_cpu_linear_packed (ctx, x, w, bias, out, error);

  if (out->f)
    {
      g_autofree float *xtmp = NULL, *wtmp = NULL, *btmp = NULL;
      const float *xf = floats_of (x, &xtmp), *wf = floats_of (w, &wtmp);
      const float *bf = bias ? floats_of (bias, &btmp) : NULL;

      if (bf)
        for (gint64 i = 0; i < M; i++)
          memcpy (out->f + i * N, bf, (gsize) N * sizeof (float));
      ane_cpu_sgemm (FALSE, TRUE, (gsize) M, (gsize) N, (gsize) K, 1.0f, xf, (gsize) K, wf, (gsize) K,
                     bf ? 1.0f : 0.0f, out->f, (gsize) N);
      return TRUE;
    }
  for (gint64 i = 0; i < M; i++)
    for (gint64 j = 0; j < N; j++)
      {
        double sum = bias ? ane_cpu_value_get (bias, (gsize) j) : 0.0;
        for (gint64 p = 0; p < K; p++)
          sum += ane_cpu_value_get (x, (gsize) (i * K + p)) * ane_cpu_value_get (w, (gsize) (j * K + p));
        store_int (out, (gsize) (i * N + j), sum);
      }
  return TRUE;
}

/* --- spatial parameters shared by conv and the pools ------------------------ */

typedef struct {
  guint  nsp;                      /* spatial dims, 1..3 */
  gint64 in[MAX_SPATIAL];          /* input extent */
  gint64 k[MAX_SPATIAL];           /* kernel */
  gint64 s[MAX_SPATIAL];           /* stride */
  gint64 d[MAX_SPATIAL];           /* dilation */
  gint64 pb[MAX_SPATIAL], pe[MAX_SPATIAL]; /* padding at the begin and end */
  gint64 out[MAX_SPATIAL];         /* output extent */
} Spatial;

/* Reads strides, dilations (if with_dilations), pad_type and pad; fills the paddings. */
static gboolean
read_spatial (AneCpuCtx  *ctx,
              Spatial    *sp,
              gboolean    with_dilations,
              const char *default_pad_type,
              GError    **error)
{
  gint64 pad[2 * MAX_SPATIAL];
  const char *pad_type = ane_cpu_string (ctx, "pad_type", default_pad_type);

  if (!read_ints (ctx, "strides", sp->nsp, 1, sp->s, error))
    return FALSE;
  if (with_dilations && !read_ints (ctx, "dilations", sp->nsp, 1, sp->d, error))
    return FALSE;
  if (!with_dilations)
    for (guint i = 0; i < sp->nsp; i++)
      sp->d[i] = 1;
  if (!read_ints (ctx, "pad", 2 * sp->nsp, 0, pad, error))
    return FALSE;
  for (guint i = 0; i < sp->nsp; i++)
    {
      if (sp->s[i] < 1 || sp->d[i] < 1 || sp->k[i] < 1)
        return ane_cpu_fail (ctx, error, "strides, dilations and kernel sizes must be positive");
    }
  for (guint i = 0; i < sp->nsp; i++)
    {
      gint64 dk = (sp->k[i] - 1) * sp->d[i] + 1;

      if (g_str_equal (pad_type, "custom"))
        {
          if (ane_cpu_in (ctx, "pad") == NULL)
            return ane_cpu_fail (ctx, error, "pad_type custom needs 'pad'");
          sp->pb[i] = pad[2 * i];
          sp->pe[i] = pad[2 * i + 1];
          if (sp->pb[i] < 0 || sp->pe[i] < 0)
            return ane_cpu_fail (ctx, error, "negative padding");
        }
      else if (g_str_equal (pad_type, "valid"))
        sp->pb[i] = sp->pe[i] = 0;
      else if (g_str_equal (pad_type, "same") || g_str_equal (pad_type, "same_lower"))
        {
          gint64 ceil_div = (sp->in[i] + sp->s[i] - 1) / sp->s[i];
          gint64 total = MAX (0, sp->s[i] * ceil_div - sp->in[i] + dk - sp->s[i]);

          if (g_str_equal (pad_type, "same"))
            sp->pb[i] = total / 2;
          else
            sp->pb[i] = total - total / 2;
          sp->pe[i] = total - sp->pb[i];
        }
      else
        return ane_cpu_fail (ctx, error, "unknown pad_type '%s'", pad_type);
    }
  return TRUE;
}

/* Output extents of conv / pool (floor or ceil mode). */
static gboolean
spatial_out (AneCpuCtx *ctx,
             Spatial   *sp,
             gboolean   ceil_mode,
             GError   **error)
{
  for (guint i = 0; i < sp->nsp; i++)
    {
      gint64 dk = (sp->k[i] - 1) * sp->d[i] + 1;
      gint64 span = sp->in[i] + sp->pb[i] + sp->pe[i] - dk;
      gint64 o;

      if (span < 0)
        return ane_cpu_fail (ctx, error, "spatial dim %u: the kernel (%" G_GINT64_FORMAT ") is larger than the padded input (%"
                             G_GINT64_FORMAT ")", i, dk, sp->in[i] + sp->pb[i] + sp->pe[i]);
      if (!ceil_mode)
        o = span / sp->s[i] + 1;
      else
        {
          o = (span + sp->s[i] - 1) / sp->s[i] + 1;
          /* the last window must start inside the input or the begin padding (torch) */
          if ((o - 1) * sp->s[i] >= sp->in[i] + sp->pb[i] && sp->pb[i] + sp->pe[i] > 0)
            o--;
        }
      sp->out[i] = o;
    }
  return TRUE;
}

/* --- conv ------------------------------------------------------------------ */

static gboolean
k_conv (AneCpuCtx *ctx,
        GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x"), *w = ane_cpu_in (ctx, "weight");
  const AneCpuValue *bias = ane_cpu_in (ctx, "bias");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gint64 groups = ane_cpu_int (ctx, "groups", 1);
  Spatial sp = { 0 };
  gint64 os[2 + MAX_SPATIAL];
  gint64 N, C, O, Cg, Og, P, Pin, Kprod, Kp;
  /* the geometry padded to 3 spatial dims (leading unit dims) */
  gint64 in3[3], k3[3], s3[3], d3[3], pb3[3], out3[3];
  gboolean direct;

  if (x == NULL || w == NULL)
    return ane_cpu_fail (ctx, error, "needs parameters x and weight");
  /* a 1×1 weight the plan kept compressed (ane-cpu-k-packed.c) */
  if (w->packed != NULL)
    return ane_cpu_conv_packed (ctx, x, w, bias, out, error);
  if (x->rank < 3 || x->rank > 2 + MAX_SPATIAL || w->rank != x->rank)
    return ane_cpu_fail (ctx, error, "x must have rank 3 to 5 and weight the same rank (got %u and %u)", x->rank, w->rank);
  if (x->f == NULL || w->f == NULL || out->f == NULL)
    return ane_cpu_fail (ctx, error, "x, weight and the output must be float tensors");
  sp.nsp = x->rank - 2;
  N = x->shape[0];
  C = x->shape[1];
  O = w->shape[0];
  Cg = w->shape[1];
  if (groups < 1 || C % groups != 0 || O % groups != 0 || C / groups != Cg)
    return ane_cpu_fail (ctx, error, "groups %" G_GINT64_FORMAT " does not fit C_in %" G_GINT64_FORMAT
                         ", C_out %" G_GINT64_FORMAT " and weight's C_in/groups %" G_GINT64_FORMAT,
                         groups, C, O, Cg);
  if (bias && (bias->n != (gsize) O || bias->f == NULL))
    return ane_cpu_fail (ctx, error, "bias must be a float tensor of %" G_GINT64_FORMAT " values", O);
  for (guint i = 0; i < sp.nsp; i++)
    {
      sp.in[i] = x->shape[2 + i];
      sp.k[i] = w->shape[2 + i];
    }
  if (!read_spatial (ctx, &sp, TRUE, "valid", error) || !spatial_out (ctx, &sp, FALSE, error))
    return FALSE;
  os[0] = N;
  os[1] = O;
  for (guint i = 0; i < sp.nsp; i++)
    os[2 + i] = sp.out[i];
  if (!ane_cpu_check_out_shape (ctx, out, os, x->rank, error))
    return FALSE;
  if (out->n == 0)
    return TRUE;

  for (guint i = 0; i < 3; i++)
    {
      gint j = (gint) i - (gint) (3 - sp.nsp);
      in3[i] = j < 0 ? 1 : sp.in[j];
      k3[i] = j < 0 ? 1 : sp.k[j];
      s3[i] = j < 0 ? 1 : sp.s[j];
      d3[i] = j < 0 ? 1 : sp.d[j];
      pb3[i] = j < 0 ? 0 : sp.pb[j];
      out3[i] = j < 0 ? 1 : sp.out[j];
    }
  Og = O / groups;
  P = ane_cpu_dims_product (sp.out, 0, sp.nsp);
  Pin = ane_cpu_dims_product (sp.in, 0, sp.nsp);
  Kprod = ane_cpu_dims_product (sp.k, 0, sp.nsp);
  Kp = Cg * Kprod;
  /* a 1×1 kernel at stride 1 without padding reads x as it is */
  direct = Kprod == 1 && P == Pin;
  for (guint i = 0; i < sp.nsp; i++)
    direct = direct && sp.s[i] == 1 && sp.pb[i] == 0;

  /* one input channel a group (depthwise): the direct kernel, no im2col */
  if (Cg == 1 && groups == C && sp.nsp <= 2)
    {
      AneCpuConvDepthwise cv = {
        N, C, O, Og, in3[1], in3[2], out3[1], out3[2], k3[1], k3[2],
        s3[1], s3[2], d3[1], d3[2], pb3[1], pb3[2],
      };

      ane_cpu_conv_depthwise (&cv, x->f, w->f, bias ? bias->f : NULL, out->f);
      return TRUE;
    }
  {
    float *col = NULL;
    AneCpuIm2col geo = { Cg, { in3[0], in3[1], in3[2] }, { k3[0], k3[1], k3[2] }, { s3[0], s3[1], s3[2] },
                         { d3[0], d3[1], d3[2] }, { pb3[0], pb3[1], pb3[2] }, { out3[0], out3[1], out3[2] } };

    if (!direct)
      {
        /* kept by this thread from run to run (ane-cpu-conv-im2col.c) */
        col = ane_cpu_conv_scratch ((gsize) (Kp * P));
        if (col == NULL)
          return ane_cpu_fail (ctx, error, "cannot allocate the %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT " im2col buffer", Kp, P);
      }
    for (gint64 n = 0; n < N; n++)
      for (gint64 g = 0; g < groups; g++)
        {
          const float *xg = x->f + (gsize) ((n * C + g * Cg) * Pin);
          const float *b = xg;

          if (!direct)
            {
              /* col[(c, kz, ky, kx), (oz, oy, ox)] = padded x at the tap */
              ane_cpu_conv_im2col (&geo, xg, col);
              b = col;
            }
          ane_cpu_sgemm (FALSE, FALSE, (gsize) Og, (gsize) P, (gsize) Kp, 1.0f,
                         w->f + (gsize) (g * Og * Kp), (gsize) Kp, b, (gsize) P,
                         0.0f, out->f + (gsize) ((n * O + g * Og) * P), (gsize) P);
        }
  }
  if (bias)
    for (gint64 n = 0; n < N; n++)
      for (gint64 o = 0; o < O; o++)
        {
          float *dst = out->f + (gsize) ((n * O + o) * P);
          for (gint64 p = 0; p < P; p++)
            dst[p] += bias->f[o];
        }
  return TRUE;
}

/* --- conv_transpose -------------------------------------------------------- */

static gboolean
k_conv_transpose (AneCpuCtx *ctx,
                  GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x"), *w = ane_cpu_in (ctx, "weight");
  const AneCpuValue *bias = ane_cpu_in (ctx, "bias");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gint64 groups = ane_cpu_int (ctx, "groups", 1);
  const char *pad_type = ane_cpu_string (ctx, "pad_type", "valid");
  gint64 pad[2 * MAX_SPATIAL];
  Spatial sp = { 0 };
  gint64 os[2 + MAX_SPATIAL], full[MAX_SPATIAL], crop[MAX_SPATIAL];
  gint64 in3[3], k3[3], s3[3], d3[3], crop3[3], out3[3];
  gint64 N, Cin, Cin_g, Cout_g, Cout, Pin, Pout, Kprod, rows;
  gboolean has_output_shape = ane_cpu_in (ctx, "output_shape") != NULL;

  if (x == NULL || w == NULL)
    return ane_cpu_fail (ctx, error, "needs parameters x and weight");
  /* a 1×1 weight the plan kept compressed (ane-cpu-k-packed.c) */
  if (w->packed != NULL)
    return ane_cpu_conv_packed (ctx, x, w, bias, out, error);
  if (x->rank < 3 || x->rank > 2 + MAX_SPATIAL || w->rank != x->rank)
    return ane_cpu_fail (ctx, error, "x must have rank 3 to 5 and weight the same rank (got %u and %u)", x->rank, w->rank);
  if (x->f == NULL || w->f == NULL || out->f == NULL)
    return ane_cpu_fail (ctx, error, "x, weight and the output must be float tensors");
  sp.nsp = x->rank - 2;
  N = x->shape[0];
  Cin = x->shape[1];
  Cout_g = w->shape[1];
  if (groups < 1 || w->shape[0] != Cin || Cin % groups != 0)
    return ane_cpu_fail (ctx, error, "weight [%" G_GINT64_FORMAT ", …] and groups %" G_GINT64_FORMAT
                         " do not fit C_in %" G_GINT64_FORMAT, w->shape[0], groups, Cin);
  Cin_g = Cin / groups;
  Cout = Cout_g * groups;
  if (bias && (bias->n != (gsize) Cout || bias->f == NULL))
    return ane_cpu_fail (ctx, error, "bias must be a float tensor of %" G_GINT64_FORMAT " values", Cout);
  for (guint i = 0; i < sp.nsp; i++)
    {
      sp.in[i] = x->shape[2 + i];
      sp.k[i] = w->shape[2 + i];
    }
  if (!read_ints (ctx, "strides", sp.nsp, 1, sp.s, error) ||
      !read_ints (ctx, "dilations", sp.nsp, 1, sp.d, error) ||
      !read_ints (ctx, "pad", 2 * sp.nsp, 0, pad, error))
    return FALSE;
  if (out->rank != x->rank || out->shape[0] != N || out->shape[1] != Cout)
    {
      g_autofree char *have = ane_cpu_dims_string (out->shape, out->rank);
      return ane_cpu_fail (ctx, error, "the program declares an output of shape %s, expected [%" G_GINT64_FORMAT
                           ", %" G_GINT64_FORMAT ", …] of rank %u", have, N, Cout, x->rank);
    }
  for (guint i = 0; i < sp.nsp; i++)
    {
      if (sp.s[i] < 1 || sp.d[i] < 1 || sp.k[i] < 1)
        return ane_cpu_fail (ctx, error, "strides, dilations and kernel sizes must be positive");
      full[i] = (sp.in[i] - 1) * sp.s[i] + (sp.k[i] - 1) * sp.d[i] + 1;
      sp.out[i] = out->shape[2 + i];
      if (g_str_equal (pad_type, "custom"))
        {
          if (pad[2 * i] < 0 || pad[2 * i + 1] < 0)
            return ane_cpu_fail (ctx, error, "negative padding");
          crop[i] = pad[2 * i];
          os[2 + i] = full[i] - pad[2 * i] - pad[2 * i + 1];
        }
      else if (g_str_equal (pad_type, "valid"))
        {
          crop[i] = 0;
          os[2 + i] = full[i];
        }
      else if (g_str_equal (pad_type, "same"))
        {
          os[2 + i] = sp.in[i] * sp.s[i];
          crop[i] = MAX (full[i] - sp.out[i], 0) / 2;
        }
      else
        return ane_cpu_fail (ctx, error, "unknown pad_type '%s'", pad_type);
    }
  os[0] = N;
  os[1] = Cout;
  if (has_output_shape)
    {
      /* output_shape is [n, C_out, *D_out] (or just the spatial extents) and decides the size */
      gsize n_os = 0;
      g_autofree gint64 *given = ane_cpu_ints (ctx, "output_shape", &n_os);
      const gint64 *spatial = given;

      if (n_os == x->rank)
        {
          if (given[0] != N || given[1] != Cout)
            return ane_cpu_fail (ctx, error, "output_shape's first two dims must be [N, C_out]");
          spatial = given + 2;
        }
      else if (n_os != sp.nsp)
        return ane_cpu_fail (ctx, error, "output_shape has %zu values for rank %u", n_os, x->rank);
      for (guint i = 0; i < sp.nsp; i++)
        os[2 + i] = spatial[i];
    }
  if (!ane_cpu_check_out_shape (ctx, out, os, x->rank, error))
    return FALSE;
  if (out->n == 0)
    return TRUE;

  for (guint i = 0; i < 3; i++)
    {
      gint j = (gint) i - (gint) (3 - sp.nsp);
      in3[i] = j < 0 ? 1 : sp.in[j];
      k3[i] = j < 0 ? 1 : sp.k[j];
      s3[i] = j < 0 ? 1 : sp.s[j];
      d3[i] = j < 0 ? 1 : sp.d[j];
      crop3[i] = j < 0 ? 0 : crop[j];
      out3[i] = j < 0 ? 1 : sp.out[j];
    }
  Pin = ane_cpu_dims_product (sp.in, 0, sp.nsp);
  Pout = ane_cpu_dims_product (sp.out, 0, sp.nsp);
  Kprod = ane_cpu_dims_product (sp.k, 0, sp.nsp);
  rows = Cout_g * Kprod;

  {
    g_autofree float *col = g_try_malloc_n ((gsize) MAX (rows * Pin, 1), sizeof (float));

    if (col == NULL)
      return ane_cpu_fail (ctx, error, "cannot allocate the %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT " col2im buffer", rows, Pin);
    for (gint64 n = 0; n < N; n++)
      for (gint64 g = 0; g < groups; g++)
        {
          /* col[(co, kz, ky, kx), (iz, iy, ix)] = Σ_ci w[ci, co, k] · x[ci, i] */
          ane_cpu_sgemm (TRUE, FALSE, (gsize) rows, (gsize) Pin, (gsize) Cin_g, 1.0f,
                         w->f + (gsize) (g * Cin_g * rows), (gsize) rows,
                         x->f + (gsize) ((n * Cin + g * Cin_g) * Pin), (gsize) Pin,
                         0.0f, col, (gsize) Pin);
          /* scatter each tap to out position i·s − crop + k·d */
          for (gint64 co = 0; co < Cout_g; co++)
            {
              float *dst = out->f + (gsize) ((n * Cout + g * Cout_g + co) * Pout);
              const float *src = col + (gsize) (co * Kprod * Pin);

              for (gint64 kz = 0; kz < k3[0]; kz++)
                for (gint64 ky = 0; ky < k3[1]; ky++)
                  for (gint64 kx = 0; kx < k3[2]; kx++, src += Pin)
                    for (gint64 iz = 0; iz < in3[0]; iz++)
                      {
                        gint64 oz = iz * s3[0] - crop3[0] + kz * d3[0];

                        if (oz < 0 || oz >= out3[0])
                          continue;
                        for (gint64 iy = 0; iy < in3[1]; iy++)
                          {
                            gint64 oy = iy * s3[1] - crop3[1] + ky * d3[1];
                            const float *srow = src + (iz * in3[1] + iy) * in3[2];
                            float *drow;

                            if (oy < 0 || oy >= out3[1])
                              continue;
                            drow = dst + (oz * out3[1] + oy) * out3[2];
                            for (gint64 ix = 0; ix < in3[2]; ix++)
                              {
                                gint64 ox = ix * s3[2] - crop3[2] + kx * d3[2];
                                if (ox >= 0 && ox < out3[2])
                                  drow[ox] += srow[ix];
                              }
                          }
                      }
            }
        }
  }
  if (bias)
    for (gint64 n = 0; n < N; n++)
      for (gint64 o = 0; o < Cout; o++)
        {
          float *dst = out->f + (gsize) ((n * Cout + o) * Pout);
          for (gint64 p = 0; p < Pout; p++)
            dst[p] += bias->f[o];
        }
  return TRUE;
}

/* --- pools ----------------------------------------------------------------- */

static gboolean
run_pool (AneCpuCtx *ctx,
          gboolean   is_max,
          GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gboolean ceil_mode = ane_cpu_bool (ctx, "ceil_mode", FALSE);
  gboolean exclude = ane_cpu_bool (ctx, "exclude_padding_from_average", FALSE);
  Spatial sp = { 0 };
  gint64 os[2 + MAX_SPATIAL];
  gint64 in3[3], k3[3], s3[3], pb3[3], pe3[3], out3[3];
  gint64 planes, Pin, Pout;

  if (x == NULL)
    return ane_cpu_fail (ctx, error, "needs parameter x");
  if (x->rank < 3 || x->rank > 2 + MAX_SPATIAL)
    return ane_cpu_fail (ctx, error, "x must have rank 3 to 5 (got %u)", x->rank);
  if (x->f == NULL || out->f == NULL)
    return ane_cpu_fail (ctx, error, "x and the output must be float tensors");
  if (ane_cpu_in (ctx, "kernel_sizes") == NULL)
    return ane_cpu_fail (ctx, error, "needs kernel_sizes");
  sp.nsp = x->rank - 2;
  for (guint i = 0; i < sp.nsp; i++)
    sp.in[i] = x->shape[2 + i];
  if (!read_ints (ctx, "kernel_sizes", sp.nsp, 1, sp.k, error) ||
      !read_spatial (ctx, &sp, FALSE, "valid", error) ||
      !spatial_out (ctx, &sp, ceil_mode, error))
    return FALSE;
  os[0] = x->shape[0];
  os[1] = x->shape[1];
  for (guint i = 0; i < sp.nsp; i++)
    os[2 + i] = sp.out[i];
  if (!ane_cpu_check_out_shape (ctx, out, os, x->rank, error))
    return FALSE;

  for (guint i = 0; i < 3; i++)
    {
      gint j = (gint) i - (gint) (3 - sp.nsp);
      in3[i] = j < 0 ? 1 : sp.in[j];
      k3[i] = j < 0 ? 1 : sp.k[j];
      s3[i] = j < 0 ? 1 : sp.s[j];
      pb3[i] = j < 0 ? 0 : sp.pb[j];
      pe3[i] = j < 0 ? 0 : sp.pe[j];
      out3[i] = j < 0 ? 1 : sp.out[j];
    }
  planes = x->shape[0] * x->shape[1];
  Pin = ane_cpu_dims_product (sp.in, 0, sp.nsp);
  Pout = ane_cpu_dims_product (sp.out, 0, sp.nsp);

  for (gint64 p = 0; p < planes; p++)
    {
      const float *src = x->f + (gsize) (p * Pin);
      float *dst = out->f + (gsize) (p * Pout);

      for (gint64 oz = 0; oz < out3[0]; oz++)
        for (gint64 oy = 0; oy < out3[1]; oy++)
          for (gint64 ox = 0; ox < out3[2]; ox++)
            {
              gint64 st[3] = { oz * s3[0] - pb3[0], oy * s3[1] - pb3[1], ox * s3[2] - pb3[2] };
              gint64 lo[3], hi[3], padded = 1, count;
              double acc = is_max ? -INFINITY : 0.0;
              gboolean nan = FALSE;

              for (guint i = 0; i < 3; i++)
                {
                  lo[i] = MAX (st[i], 0);
                  hi[i] = MIN (st[i] + k3[i], in3[i]);
                  /* cells of the window inside the padded input */
                  padded *= MIN (st[i] + k3[i], in3[i] + pe3[i]) - st[i];
                }
              count = MAX (hi[0] - lo[0], 0) * MAX (hi[1] - lo[1], 0) * MAX (hi[2] - lo[2], 0);
              for (gint64 iz = lo[0]; iz < hi[0]; iz++)
                for (gint64 iy = lo[1]; iy < hi[1]; iy++)
                  for (gint64 ix = lo[2]; ix < hi[2]; ix++)
                    {
                      float v = src[(iz * in3[1] + iy) * in3[2] + ix];

                      if (isnan (v))
                        nan = TRUE;
                      else if (is_max)
                        acc = MAX (acc, v);
                      else
                        acc += v;
                    }
              if (nan)
                acc = NAN;
              else if (!is_max)
                {
                  gint64 div = exclude ? count : padded;
                  acc = div > 0 ? acc / (double) div : NAN;
                }
              *dst++ = (float) acc;
            }
    }
  return TRUE;
}

static gboolean k_max_pool (AneCpuCtx *ctx, GError **error) { return run_pool (ctx, TRUE, error); }
static gboolean k_avg_pool (AneCpuCtx *ctx, GError **error) { return run_pool (ctx, FALSE, error); }

/* --- upsample_nearest_neighbor --------------------------------------------- */

static gboolean
k_upsample_nearest_neighbor (AneCpuCtx *ctx,
                             GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  double sh = ane_cpu_float (ctx, "scale_factor_height", 1.0);
  double sw = ane_cpu_float (ctx, "scale_factor_width", 1.0);
  gint64 os[ANE_CPU_MAX_RANK];
  gint64 H, W, H2, W2, planes;
  g_autofree gint64 *col = NULL;

  if (x == NULL)
    return ane_cpu_fail (ctx, error, "needs parameter x");
  if (x->rank < 3)
    return ane_cpu_fail (ctx, error, "x must have rank at least 3 (got %u)", x->rank);
  if (x->f == NULL || out->f == NULL)
    return ane_cpu_fail (ctx, error, "x and the output must be float tensors");
  if (!(sh > 0) || !(sw > 0))
    return ane_cpu_fail (ctx, error, "scale factors must be positive (got %g and %g)", sh, sw);
  H = x->shape[x->rank - 2];
  W = x->shape[x->rank - 1];
  memcpy (os, x->shape, x->rank * sizeof (gint64));
  os[x->rank - 2] = H2 = (gint64) floor ((double) H * sh);
  os[x->rank - 1] = W2 = (gint64) floor ((double) W * sw);
  if (!ane_cpu_check_out_shape (ctx, out, os, x->rank, error))
    return FALSE;
  planes = ane_cpu_dims_product (x->shape, 0, x->rank - 2);
  col = g_new (gint64, MAX (W2, 1));
  for (gint64 ox = 0; ox < W2; ox++)
    col[ox] = MIN ((gint64) floor ((double) ox / sw), W - 1);
  for (gint64 p = 0; p < planes; p++)
    for (gint64 oy = 0; oy < H2; oy++)
      {
        gint64 iy = MIN ((gint64) floor ((double) oy / sh), H - 1);
        const float *src = x->f + (gsize) ((p * H + iy) * W);
        float *dst = out->f + (gsize) ((p * H2 + oy) * W2);

        for (gint64 ox = 0; ox < W2; ox++)
          dst[ox] = src[col[ox]];
      }
  return TRUE;
}

/* --- scaled_dot_product_attention ------------------------------------------ */

typedef struct {
  const AneCpuValue *q, *k, *v, *mask;
  AneCpuValue       *out;
  const gint64      *mstr;
  guint              r;
  gint64             L, S, E, EV;
  gint64             keys;     /* the first keys of S computed (attention_keys_used) */
  const gint64      *row_keys; /* [L]: the keys each row sees (a mask the same for every head), or NULL */
  float              scale;
  gint               failed;   /* atomic: a piece could not allocate its scores */
} AttentionJob;

/* Whether mask element i lets its key through: a float above −inf (NaN
 * included), a bool true. */
static inline gboolean
mask_visible (const AneCpuValue *mask,
              gsize              i)
{
  return mask->f ? !(mask->f[i] == -INFINITY) : mask->i[i] != 0;
}

/* 1 + the last key column (the mask's last dim, broadcast over the
 * others) that some row of mask leaves visible: a float mask's value above
 * −inf, a bool mask's true; 0 when none is. */
static gint64
attention_keys_used (const AneCpuValue *mask)
{
  gint64 cols = mask->rank > 0 ? mask->shape[mask->rank - 1] : 1, used = 0;
  gsize rows = cols > 0 ? mask->n / (gsize) cols : 0;

  for (gsize row = 0; row < rows && used < cols; row++)
    for (gint64 c = cols - 1; c >= used; c--)
      {
        gsize i = row * (gsize) cols + (gsize) c;

        if (mask_visible (mask, i))
          {
            used = c + 1;
            break;
          }
      }
  /* a mask of one column broadcasts over every key */
  return cols == 1 && used == 1 ? G_MAXINT64 : used;
}

/* Heads [begin, end): each computed whole by this piece, as a serial run
 * would, so the split never changes a result. */
/* A prompt's causal rows: with a mask the same for every head, the rows
 * go in blocks of ATTENTION_ROW_BLOCK, each computing only the keys its
 * rows can see (the last row of a causal block sees the most), about half
 * the products and exponentials of a causal prompt. */
#define ATTENTION_ROW_BLOCK 32

static void
attention_heads (gsize    begin,
                 gsize    end,
                 gpointer data)
{
  const AttentionJob *j = data;
  const AneCpuValue *q = j->q, *k = j->k, *v = j->v, *mask = j->mask;
  AneCpuValue *out = j->out;
  const gint64 *mstr = j->mstr;
  guint r = j->r;
  gint64 L = j->L, S = j->S, E = j->E, EV = j->EV, nk = j->keys;
  gint64 block = j->row_keys != NULL ? ATTENTION_ROW_BLOCK : L;
  float scale = j->scale;
  gint64 coords[ANE_CPU_MAX_RANK];
  g_autofree float *scores = g_try_malloc_n ((gsize) MAX (MIN (block, L) * nk, 1), sizeof (float));

  if (scores == NULL)
    {
      g_atomic_int_set (&((AttentionJob *) j)->failed, 1);
      return;
    }
  for (gint64 b = (gint64) begin; b < (gint64) end; b++)
    {
      gsize moff = 0;

      if (mask)
        {
          ane_cpu_unravel ((gsize) b, q->shape, r - 2, coords);
          for (guint i = 0; i + 2 < r; i++)
            moff += (gsize) (coords[i] * mstr[i]);
        }
      for (gint64 l0 = 0; l0 < L; l0 += block)
        {
          gint64 rows = MIN (block, L - l0), kb = 0;

          /* the keys this block's rows see (all nk when none sees any: those
           * rows are NaN, as the definition gives) */
          if (j->row_keys != NULL)
            for (gint64 l = l0; l < l0 + rows; l++)
              kb = MAX (kb, j->row_keys[l]);
          if (kb == 0)
            kb = nk;
          ane_cpu_sgemm (FALSE, TRUE, (gsize) rows, (gsize) kb, (gsize) E, scale,
                         q->f + (gsize) ((b * L + l0) * E), (gsize) E, k->f + (gsize) (b * S * E), (gsize) E,
                         0.0f, scores, (gsize) kb);
          for (gint64 l = l0; l < l0 + rows; l++)
            {
              float *row = scores + (l - l0) * kb;
              float mx = -INFINITY, sum = 0.0f;

              if (mask)
                {
                  gsize base = moff + (gsize) (l * mstr[r - 2]);

                  for (gint64 s = 0; s < kb; s++)
                    {
                      gsize mi = base + (gsize) (s * mstr[r - 1]);
                      if (mask->f)
                        row[s] += mask->f[mi];
                      else if (mask->i[mi] == 0)
                        row[s] = -INFINITY;
                    }
                }
              for (gint64 s = 0; s < kb; s++)
                mx = isnan (row[s]) || row[s] > mx ? row[s] : mx;
              /* e^(x − max) four lanes at a time (ane-cpu-expf-private.h:
               * within 3 ulp of expf), summed in order; NaN for a row of
               * −inf only */
              ane_cpu_expf_shifted (row, mx, row, (gsize) kb);
              for (gint64 s = 0; s < kb; s++)
                sum += row[s];
              for (gint64 s = 0; s < kb; s++)
                row[s] /= sum;
            }
          ane_cpu_sgemm (FALSE, FALSE, (gsize) rows, (gsize) EV, (gsize) kb, 1.0f,
                         scores, (gsize) kb, v->f + (gsize) (b * S * EV), (gsize) EV,
                         0.0f, out->f + (gsize) ((b * L + l0) * EV), (gsize) EV);
        }
    }
}

/* Per row, 1 + the last of the first nk keys the mask lets it see (0:
 * none), when the mask is the same for every head (it broadcasts over
 * the batch dims) and the rows are enough to block; else NULL. */
static gint64 *
attention_row_keys (const AneCpuValue *mask,
                    const gint64      *mstr,
                    guint              r,
                    gint64             L,
                    gint64             nk)
{
  gint64 *keys;

  if (mask == NULL || L < 2 * ATTENTION_ROW_BLOCK)
    return NULL;
  for (guint i = 0; i + 2 < r; i++)
    if (mstr[i] != 0)
      return NULL;
  keys = g_new0 (gint64, L);
  for (gint64 l = 0; l < L; l++)
    for (gint64 s = 0; s < nk; s++)
      {
        gsize mi = (gsize) (l * mstr[r - 2] + s * mstr[r - 1]);

        if (mask_visible (mask, mi))
          keys[l] = s + 1;
      }
  return keys;
}

static gboolean
k_scaled_dot_product_attention (AneCpuCtx *ctx,
                                GError   **error)
{
  const AneCpuValue *q = ane_cpu_in (ctx, "query"), *k = ane_cpu_in (ctx, "key");
  const AneCpuValue *v = ane_cpu_in (ctx, "value"), *mask = ane_cpu_in (ctx, "attn_mask");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gint64 os[ANE_CPU_MAX_RANK], ms[ANE_CPU_MAX_RANK], mstr[ANE_CPU_MAX_RANK];
  gint64 L, S, E, EV, batch, keys;
  guint r;
  float scale;

  if (q == NULL || k == NULL || v == NULL)
    return ane_cpu_fail (ctx, error, "needs parameters query, key and value");
  r = q->rank;
  if (r < 3 || k->rank != r || v->rank != r)
    return ane_cpu_fail (ctx, error, "query, key and value must have one rank ≥ 3 (got %u, %u, %u)",
                         q->rank, k->rank, v->rank);
  if (q->f == NULL || k->f == NULL || v->f == NULL || out->f == NULL)
    return ane_cpu_fail (ctx, error, "query, key, value and the output must be float tensors");
  for (guint i = 0; i + 2 < r; i++)
    if (k->shape[i] != q->shape[i] || v->shape[i] != q->shape[i])
      return ane_cpu_fail (ctx, error, "query, key and value must have the same batch dims");
  L = q->shape[r - 2];
  E = q->shape[r - 1];
  S = keys = k->shape[r - 2];
  EV = v->shape[r - 1];
  if (k->shape[r - 1] != E || v->shape[r - 2] != S)
    return ane_cpu_fail (ctx, error, "key must be [.., S, %" G_GINT64_FORMAT "] and value [.., %" G_GINT64_FORMAT ", EV]",
                         E, S);
  memcpy (os, q->shape, r * sizeof (gint64));
  os[r - 1] = EV;
  if (!ane_cpu_check_out_shape (ctx, out, os, r, error))
    return FALSE;
  memcpy (ms, q->shape, r * sizeof (gint64));
  ms[r - 1] = S;
  if (mask && !broadcasts_to (mask, ms, r))
    {
      g_autofree char *have = ane_cpu_dims_string (mask->shape, mask->rank);
      g_autofree char *want = ane_cpu_dims_string (ms, r);
      return ane_cpu_fail (ctx, error, "attn_mask %s does not broadcast to %s", have, want);
    }
  if (mask)
    broadcast_strides (mask, r, ms, mstr);
  if (out->n == 0)
    return TRUE;
  /* Keys past the last one any row of the mask lets through get a weight
   * of exactly 0 (e^−inf) and add nothing to any sum, so they are not
   * computed: a prompt or a decode step attends over the positions
   * written so far instead of the whole cache (ggml stops at the cache's
   * used length the same way, llama-kv-cache.cpp). Only values that are
   * inf or NaN in those skipped rows would have shown (0 · inf is NaN); a
   * cache row never written holds zeros. A mask that hides every key
   * keeps the full width (the rows are NaN, as the definition gives). */
  if (mask)
    {
      gint64 used = attention_keys_used (mask);

      if (used > 0)
        keys = MIN (S, used);
    }
  batch = ane_cpu_dims_product (q->shape, 0, r - 2);
  scale = (float) (1.0 / sqrt ((double) E));

  {
    g_autofree gint64 *row_keys = attention_row_keys (mask, mstr, r, L, keys);
    AttentionJob job = { q, k, v, mask, out, mstr, r, L, S, E, EV, keys, row_keys, scale, 0 };

    /* one head (batch element) per item; a head's products then run
     * serially inside its piece (a nested loop), or on the pool when there
     * is a single head. Balanced (pieces claimed as they come): a decode
     * step's dozen heads in two halves left the caller waiting for a late
     * worker's whole half */
    ane_cpu_parallel_for_balanced ((gsize) batch,
                          (gsize) MAX (1, 65536 / MAX (L * S * (E + EV), 1)),
                          attention_heads, &job);
    if (g_atomic_int_get (&job.failed))
      return ane_cpu_fail (ctx, error, "cannot allocate the %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT " scores", L, S);
  }
  return TRUE;
}

const AneCpuKernel ane_cpu_kernels_linalg[] = {
  { "matmul", k_matmul },
  { "linear", k_linear },
  { "conv", k_conv },
  { "conv_transpose", k_conv_transpose },
  { "max_pool", k_max_pool },
  { "avg_pool", k_avg_pool },
  { "upsample_nearest_neighbor", k_upsample_nearest_neighbor },
  { "scaled_dot_product_attention", k_scaled_dot_product_attention },
  { NULL, NULL }
};
