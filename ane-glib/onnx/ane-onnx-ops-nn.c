/* ane-onnx-ops-nn.c: converters for convolution, pooling, batch
 * normalization and nearest-neighbour upsampling (Conv, ConvTranspose,
 * BatchNormalization, MaxPool, AveragePool, GlobalAveragePool,
 * GlobalMaxPool, Resize and Upsample with an integer scale).
 *
 * Semantics from onnx/onnx docs/Operators.md (the op's section) and
 * docs/Changelog.md. The output-size rules are the graph builders' (they
 * check them); here only ONNX's attribute layouts are translated:
 * ONNX pads are [x1_begin, x2_begin, ..., x1_end, x2_end, ...], the graph's
 * [x1_begin, x1_end, x2_begin, x2_end].
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-onnx-private.h"

#define MAX_SPATIAL 2

static gboolean
set0 (AneOnnxNode *node,
      AneTensor   *value,
      GError     **error)
{
  return ane_onnx_node_set_output (node, 0, value, error);
}

typedef struct {
  guint  n;                          /* spatial dims */
  gint64 kernel[MAX_SPATIAL];
  gint64 strides[MAX_SPATIAL];
  gint64 dilations[MAX_SPATIAL];
  gint64 pads[2 * MAX_SPATIAL];      /* the graph's order: begin, end per dim */
} Window;

static gboolean
ints_or_default (AneOnnxNode *node,
                 const char  *name,
                 guint        n,
                 gint64       fallback,
                 gint64      *out,
                 GError     **error)
{
  const gint64 *v;
  gsize len;

  if (!ane_onnx_node_attr_ints (node, name, &v, &len, error))
    return FALSE;
  if (v == NULL)
    {
      for (guint i = 0; i < n; i++)
        out[i] = fallback;
      return TRUE;
    }
  if (len != n)
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT,
                                "%s has %" G_GSIZE_FORMAT " values for %u spatial dims", name, len, n);
  memcpy (out, v, n * sizeof (gint64));
  return TRUE;
}

/* kernel_shape, strides, dilations, pads and auto_pad of Conv, ConvTranspose
 * and the pools (Operators.md "Conv": auto_pad SAME_UPPER/SAME_LOWER pad so
 * that out = ceil(in / stride), the odd pixel at the end for SAME_UPPER, at
 * the beginning for SAME_LOWER; VALID means no padding). kernel holds the
 * weight's spatial dims (or NULL for pools, where kernel_shape is
 * required). */
static gboolean
read_window (AneOnnxNode  *node,
             const gint64 *in,
             const gint64 *weight_kernel,
             guint         n,
             gboolean      allow_same,
             Window       *w,
             GError      **error)
{
  const char *auto_pad;
  gint64 onnx_pads[2 * MAX_SPATIAL];

  if (n < 1 || n > MAX_SPATIAL)
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                "%u spatial dims (only 1-D and 2-D are supported)", n);
  w->n = n;
  if (!ane_onnx_node_has_attr (node, "kernel_shape") && weight_kernel == NULL)
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_GRAPH, "kernel_shape is missing");
  if (!ints_or_default (node, "kernel_shape", n, 0, w->kernel, error) ||
      !ints_or_default (node, "strides", n, 1, w->strides, error) ||
      !ints_or_default (node, "dilations", n, 1, w->dilations, error) ||
      !ints_or_default (node, "pads", 2 * n, 0, onnx_pads, error) ||
      !ane_onnx_node_attr_string (node, "auto_pad", "NOTSET", &auto_pad, error))
    return FALSE;
  if (!ane_onnx_node_has_attr (node, "kernel_shape"))
    memcpy (w->kernel, weight_kernel, n * sizeof (gint64));
  for (guint d = 0; d < n; d++)
    {
      w->pads[2 * d] = onnx_pads[d];
      w->pads[2 * d + 1] = onnx_pads[n + d];
      if (w->strides[d] < 1 || w->dilations[d] < 1 || w->kernel[d] < 1)
        return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT,
                                    "kernel, strides and dilations must be positive");
    }
  if (g_str_equal (auto_pad, "NOTSET"))
    return TRUE;
  if (g_str_equal (auto_pad, "VALID"))
    {
      memset (w->pads, 0, sizeof w->pads);
      return TRUE;
    }
  if (!allow_same || !(g_str_equal (auto_pad, "SAME_UPPER") || g_str_equal (auto_pad, "SAME_LOWER")))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "auto_pad '%s' is not supported here", auto_pad);
  for (guint d = 0; d < n; d++)
    {
      gint64 out = (in[d] + w->strides[d] - 1) / w->strides[d];
      gint64 total = MAX ((out - 1) * w->strides[d] + (w->kernel[d] - 1) * w->dilations[d] + 1 - in[d], 0);
      gint64 small = total / 2;

      w->pads[2 * d] = g_str_equal (auto_pad, "SAME_UPPER") ? small : total - small;
      w->pads[2 * d + 1] = total - w->pads[2 * d];
    }
  return TRUE;
}

static gboolean
optional_input (AneOnnxNode *node,
                guint        i,
                AneTensor  **out,
                GError     **error)
{
  GError *local = NULL;

  *out = ane_onnx_node_input_optional (node, i, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  return TRUE;
}

/* Conv followed by BatchNormalization, both with constant parameters:
 * the normalization y = (z − mean) · s + beta, s = scale / sqrt(var + eps)
 * (Operators.md "BatchNormalization") is folded into the weights,
 * W'[o] = W[o] · s[o] and b'[o] = (b[o] − mean[o]) · s[o] + beta[o], as
 * coremltools' fuse_conv_batchnorm pass does. Besides saving an op this is
 * what makes fp16 work: PaddleOCR's detector has a conv whose outputs reach
 * 17 000 (an fp16 ulp of 16) right before a normalization that subtracts a
 * mean of that size. FALSE with no error: not fusable, convert as is. */
static gboolean
fused_batch_norm (AneOnnxNode *node,
                  AneTensor  **weight,
                  AneTensor  **bias,
                  GError     **error)
{
  AneOnnxNode *bn;
  g_autofree float *w = NULL, *b = NULL;
  /* g_autofree on an array would free its first element only */
  float *p[4] = { NULL };
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  gsize nw, nb = 0, np[4];
  double eps;
  gint64 training = 0;
  guint wr;
  const gint64 *ws;
  gint64 out_channels, per;
  g_autoptr(AneTensor) hw = NULL, hb = NULL;

  *weight = *bias = NULL;
  if (ane_onnx_node_input_dtype (node, 1) != ANE_DTYPE_FLOAT32 || !ane_onnx_node_input_is_constant (node, 1) ||
      (ane_onnx_node_has_input (node, 2) && !ane_onnx_node_input_is_constant (node, 2)))
    return FALSE;
  bn = ane_onnx_node_peek_consumer (node, 0, "BatchNormalization");
  if (bn == NULL || ane_onnx_node_output_wanted (bn, 1) || ane_onnx_node_output_wanted (bn, 2))
    return FALSE;
  for (guint i = 1; i <= 4; i++)
    if (!ane_onnx_node_input_is_constant (bn, i) || ane_onnx_node_input_dtype (bn, i) != ANE_DTYPE_FLOAT32)
      return FALSE;
  if (!ane_onnx_node_attr_float (bn, "epsilon", 1e-5, &eps, error) ||
      !ane_onnx_node_attr_int (bn, "training_mode", 0, &training, error))
    return FALSE;
  if (training)
    return FALSE;
  ws = ane_onnx_node_input_shape (node, 1, &wr);
  out_channels = ws[0];
  per = out_channels > 0 ? ane_tensor_get_n_elements (ane_onnx_node_input_constant (node, 1)) / out_channels : 0;
  if ((w = ane_onnx_node_input_floats (node, 1, "W", &nw, error)) == NULL ||
      (ane_onnx_node_has_input (node, 2) && (b = ane_onnx_node_input_floats (node, 2, "B", &nb, error)) == NULL))
    return FALSE;
  for (guint i = 0; i < 4; i++)
    {
      if ((p[i] = ane_onnx_node_input_floats (bn, i + 1, "normalization parameter", &np[i], error)) == NULL)
        return FALSE;
      g_ptr_array_add (owned, p[i]);
    }
  for (guint i = 0; i < 4; i++)
    if (np[i] != (gsize) out_channels)
      return FALSE;
  if (b != NULL && nb != (gsize) out_channels)
    return FALSE;
  {
    g_autofree float *fb = g_new (float, MAX (out_channels, 1));

    for (gint64 o = 0; o < out_channels; o++)
      {
        /* p = scale, B, mean, var (BatchNormalization's inputs 1..4) */
        double scale = (double) p[0][o] / sqrt ((double) p[3][o] + eps);

        for (gint64 k = 0; k < per; k++)
          w[o * per + k] = (float) (w[o * per + k] * scale);
        fb[o] = (float) (((b ? (double) b[o] : 0.0) - p[2][o]) * scale + p[1][o]);
      }
    hw = ane_tensor_new_from_floats ("fused_weight", ws, wr, w, nw, error);
    hb = hw ? ane_tensor_new_from_floats ("fused_bias", &out_channels, 1, fb, (gsize) out_channels, error) : NULL;
  }
  if (hb == NULL || (*weight = ane_onnx_node_const (node, hw, error)) == NULL ||
      (*bias = ane_onnx_node_const (node, hb, error)) == NULL)
    return FALSE;
  ane_onnx_node_claim_consumer (node, bn);
  return TRUE;
}

/* Conv (Operators.md "Conv"): X [N, C, ...], W [M, C/group, k...], B [M]. */
static gboolean
convert_conv (AneOnnxNode *node,
              GError     **error)
{
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  AneTensor *wt = x ? ane_onnx_node_input (node, 1, error) : NULL;
  AneTensor *bias = NULL, *fw, *fb;
  gint64 group;
  Window w;
  guint xr, wr;
  const gint64 *xs, *ws;
  GError *local = NULL;

  if (wt == NULL || !optional_input (node, 2, &bias, error) ||
      !ane_onnx_node_attr_int (node, "group", 1, &group, error))
    return FALSE;
  xs = ane_tensor_get_shape (x, &xr);
  ws = ane_tensor_get_shape (wt, &wr);
  if (xr < 3 || wr != xr)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "X has rank %u and W rank %u; both must be 3 or 4",
                                xr, wr);
  if (!read_window (node, xs + 2, ws + 2, xr - 2, TRUE, &w, error))
    return FALSE;
  if (fused_batch_norm (node, &fw, &fb, &local))
    {
      wt = fw;
      bias = fb;
    }
  else if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  return set0 (node, ane_graph_conv (ane_onnx_node_graph (node), x, wt, bias, w.strides, w.n, w.pads, 2 * w.n,
                                     w.dilations, w.n, group, error), error);
}

/* Adds a unit axis at 2 ([N, C, W] → [N, C, 1, W]) so 1-D pooling and
 * transposed convolution use the 2-D builders. */
static AneTensor *
lift_1d (AneGraph  *g,
         AneTensor *t,
         GError   **error)
{
  guint r;
  const gint64 *s = ane_tensor_get_shape (t, &r);
  gint64 lifted[4] = { s[0], s[1], 1, s[2] };

  return ane_graph_reshape (g, t, lifted, 4, error);
}

/* Removes the unit axis lift_1d added. */
static AneTensor *
drop_1d (AneGraph  *g,
         AneTensor *t,
         GError   **error)
{
  guint r;
  const gint64 *s;
  gint64 shape[3];

  if (t == NULL)
    return NULL;
  s = ane_tensor_get_shape (t, &r);
  shape[0] = s[0];
  shape[1] = s[1];
  shape[2] = s[3];
  {
    AneTensor *out = ane_graph_reshape (g, t, shape, 3, error);
    g_object_unref (t);
    return out;
  }
}

static void
window_to_2d (Window *w)
{
  if (w->n != 1)
    return;
  w->n = 2;
  w->kernel[1] = w->kernel[0];
  w->kernel[0] = 1;
  w->strides[1] = w->strides[0];
  w->strides[0] = 1;
  w->dilations[1] = w->dilations[0];
  w->dilations[0] = 1;
  w->pads[2] = w->pads[0];
  w->pads[3] = w->pads[1];
  w->pads[0] = w->pads[1] = 0;
}

/* ConvTranspose (Operators.md "ConvTranspose"): W [C, M/group, k...];
 * output_padding adds at the end; an explicit output_shape is refused. */
static gboolean
convert_conv_transpose (AneOnnxNode *node,
                        GError     **error)
{
  g_autoptr(AneTensor) x2 = NULL, w2 = NULL;
  AneGraph *g = ane_onnx_node_graph (node);
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  AneTensor *wt = x ? ane_onnx_node_input (node, 1, error) : NULL;
  AneTensor *bias = NULL;
  gint64 group, out_pad[MAX_SPATIAL];
  Window w;
  guint xr, wr, n;
  const gint64 *xs, *ws;
  AneTensor *y;

  if (wt == NULL || !optional_input (node, 2, &bias, error) ||
      !ane_onnx_node_attr_int (node, "group", 1, &group, error))
    return FALSE;
  if (ane_onnx_node_has_attr (node, "output_shape"))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                "output_shape is not supported (give pads and output_padding)");
  xs = ane_tensor_get_shape (x, &xr);
  ws = ane_tensor_get_shape (wt, &wr);
  if (xr < 3 || xr > 4 || wr != xr)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "X has rank %u and W rank %u; both must be 3 or 4",
                                xr, wr);
  n = xr - 2;
  if (!read_window (node, xs + 2, ws + 2, n, FALSE, &w, error) ||
      !ints_or_default (node, "output_padding", n, 0, out_pad, error))
    return FALSE;
  if (n == 1)
    {
      window_to_2d (&w);
      out_pad[1] = out_pad[0];
      out_pad[0] = 0;
      if ((x2 = lift_1d (g, x, error)) == NULL || (w2 = lift_1d (g, wt, error)) == NULL)
        return ane_onnx_node_set_output (node, 0, NULL, error);
      x = x2;
      wt = w2;
    }
  y = ane_graph_conv_transpose_2d (g, x, wt, bias, w.strides, 2, w.pads, 4, w.dilations, 2, out_pad, 2, group, error);
  return set0 (node, n == 1 ? drop_1d (g, y, error) : y, error);
}

/* BatchNormalization in inference (Operators.md "BatchNormalization"):
 * inputs X, scale, B, input_mean, input_var; the training outputs are
 * refused. */
static gboolean
convert_batch_norm (AneOnnxNode *node,
                    GError     **error)
{
  AneTensor *in[5];
  double eps;
  gint64 training = 0;

  if (ane_onnx_node_output_wanted (node, 1) || ane_onnx_node_output_wanted (node, 2))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "training-mode outputs are not supported");
  if (!ane_onnx_node_attr_float (node, "epsilon", 1e-5, &eps, error) ||
      !ane_onnx_node_attr_int (node, "training_mode", 0, &training, error))
    return FALSE;
  if (training)
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "training_mode is not supported");
  for (guint i = 0; i < 5; i++)
    if ((in[i] = ane_onnx_node_input (node, i, error)) == NULL)
      return FALSE;
  return set0 (node, ane_graph_batch_norm (ane_onnx_node_graph (node), in[0], in[3], in[4], in[1], in[2], eps,
                                           error), error);
}

/* MaxPool and AveragePool (Operators.md): strides default to 1, pads like
 * Conv; ceil_mode (opset 10) rounds the output size up, which is extra
 * padding at the end that max pooling and count_include_pad=0 averaging
 * ignore (and count_include_pad=1 would count: refused). */
static gboolean
pool (AneOnnxNode *node,
      AnePoolKind  kind,
      GError     **error)
{
  g_autoptr(AneTensor) x2 = NULL;
  AneGraph *g = ane_onnx_node_graph (node);
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  gint64 ceil_mode, include_pad = 0;
  Window w;
  guint xr;
  const gint64 *xs;
  gint64 in[MAX_SPATIAL];
  AneTensor *y;

  if (x == NULL || !ane_onnx_node_attr_int (node, "ceil_mode", 0, &ceil_mode, error) ||
      (kind == ANE_POOL_AVG && !ane_onnx_node_attr_int (node, "count_include_pad", 0, &include_pad, error)))
    return FALSE;
  if (ane_onnx_node_output_wanted (node, 1))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "the Indices output is not supported");
  xs = ane_tensor_get_shape (x, &xr);
  if (xr < 3 || xr > 4)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "X has rank %u; 3 or 4 are supported", xr);
  if (!read_window (node, xs + 2, NULL, xr - 2, TRUE, &w, error))
    return FALSE;
  for (guint d = 0; d < w.n; d++)
    {
      in[d] = xs[2 + d];
      if (w.dilations[d] != 1)
        return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "dilations other than 1 are not supported");
      if (ceil_mode)
        {
          gint64 span = in[d] + w.pads[2 * d] + w.pads[2 * d + 1] - w.kernel[d];
          gint64 out = (span + w.strides[d] - 1) / w.strides[d] + 1;
          gint64 extra;

          /* the last window must start inside the input or its begin
           * padding (ONNX's reference pool, onnx/reference/ops/op_pool_common.py) */
          if ((out - 1) * w.strides[d] >= in[d] + w.pads[2 * d])
            out--;
          extra = (out - 1) * w.strides[d] + w.kernel[d] - (in[d] + w.pads[2 * d] + w.pads[2 * d + 1]);
          if (extra > 0)
            {
              if (include_pad)
                return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                            "ceil_mode with count_include_pad is not supported");
              w.pads[2 * d + 1] += extra;
            }
        }
    }
  if (w.n == 1)
    {
      window_to_2d (&w);
      if ((x2 = lift_1d (g, x, error)) == NULL)
        return ane_onnx_node_set_output (node, 0, NULL, error);
      x = x2;
    }
  y = ane_graph_pool (g, x, kind, w.kernel, 2, w.strides, 2, w.pads, 4, include_pad != 0, error);
  return set0 (node, xr == 3 ? drop_1d (g, y, error) : y, error);
}

static gboolean
convert_max_pool (AneOnnxNode *node, GError **error)
{
  return pool (node, ANE_POOL_MAX, error);
}

static gboolean
convert_average_pool (AneOnnxNode *node, GError **error)
{
  return pool (node, ANE_POOL_AVG, error);
}

/* GlobalAveragePool / GlobalMaxPool (Operators.md): reduce every spatial
 * axis, keeping it as 1. */
static gboolean
global_pool (AneOnnxNode *node,
             gboolean     max,
             GError     **error)
{
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  gint64 axes[ANE_MAX_RANK];
  guint rank;

  if (x == NULL)
    return FALSE;
  rank = ane_tensor_get_rank (x);
  if (rank < 3)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "X has rank %u, less than 3", rank);
  for (guint d = 2; d < rank; d++)
    axes[d - 2] = d;
  return set0 (node, (max ? ane_graph_reduce_max : ane_graph_reduce_mean) (ane_onnx_node_graph (node), x, axes,
                                                                            rank - 2, TRUE, error), error);
}

static gboolean
convert_global_average_pool (AneOnnxNode *node, GError **error)
{
  return global_pool (node, FALSE, error);
}

static gboolean
convert_global_max_pool (AneOnnxNode *node, GError **error)
{
  return global_pool (node, TRUE, error);
}

/* Nearest-neighbour upsampling by integer factors, one axis at a time so
 * no tensor exceeds Core ML's rank 5: the axis gets a unit axis after it,
 * broadcast to the factor s, then merged ([.., H, ..] → [.., H, 1, ..] →
 * [.., H, s, ..] → [.., H·s, ..]). NCHW with equal power-of-two factors on
 * H and W is the graph's resize_nearest_2x, repeated. */
static gboolean
upsample_nearest (AneOnnxNode  *node,
                  AneTensor    *x,
                  const gint64 *factor,
                  GError      **error)
{
  AneGraph *g = ane_onnx_node_graph (node);
  guint rank;
  g_autoptr(AneTensor) cur = g_object_ref (x);

  ane_tensor_get_shape (x, &rank);
  if (rank == 4 && factor[0] == 1 && factor[1] == 1 && factor[2] == factor[3] && factor[2] > 1 &&
      (factor[2] & (factor[2] - 1)) == 0)
    {
      for (gint64 f = factor[2]; f > 1; f /= 2)
        {
          AneTensor *next = ane_graph_resize_nearest_2x (g, cur, error);

          if (next == NULL)
            return ane_onnx_node_set_output (node, 0, NULL, error);
          g_object_unref (cur);
          cur = next;
        }
      return set0 (node, g_steal_pointer (&cur), error);
    }
  for (guint d = 0; d < rank; d++)
    {
      const gint64 *cs;
      gint64 lifted[ANE_MAX_RANK], expanded[ANE_MAX_RANK], merged[ANE_MAX_RANK];
      g_autoptr(AneTensor) a = NULL, b = NULL;
      AneTensor *next;

      if (factor[d] == 1)
        continue;
      cs = ane_tensor_get_shape (cur, &rank);
      if (rank + 1 > ANE_MAX_RANK)
        return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "rank %u is too large to upsample", rank);
      for (guint k = 0, w = 0; k < rank; k++)
        {
          merged[k] = cs[k] * (k == d ? factor[d] : 1);
          lifted[w] = expanded[w] = cs[k];
          w++;
          if (k == d)
            {
              lifted[w] = 1;
              expanded[w] = factor[d];
              w++;
            }
        }
      a = ane_graph_reshape (g, cur, lifted, rank + 1, error);
      b = a ? ane_graph_expand (g, a, expanded, rank + 1, error) : NULL;
      next = b ? ane_graph_reshape (g, b, merged, rank, error) : NULL;
      if (next == NULL)
        return ane_onnx_node_set_output (node, 0, NULL, error);
      g_object_unref (cur);
      cur = next;
    }
  return set0 (node, g_steal_pointer (&cur), error);
}

/* Factors from float scales: each must be a positive integer. */
static gboolean
integer_factors (AneOnnxNode  *node,
                 const float  *scales,
                 gsize         n,
                 guint         rank,
                 gint64       *factor,
                 GError      **error)
{
  if (n != rank)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "%" G_GSIZE_FORMAT " scales for rank %u", n, rank);
  for (guint d = 0; d < rank; d++)
    {
      factor[d] = (gint64) scales[d];
      if (scales[d] < 1.0f || (float) factor[d] != scales[d])
        return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                    "scale %g on axis %u is not a positive integer (only integer nearest "
                                    "upsampling is supported)", scales[d], d);
    }
  return TRUE;
}

/* Resize (Operators.md "Resize"; opset 10: X, scales; 11+: X, roi, scales,
 * sizes) and Upsample (opset 7-8: scales attribute; 9: input 1), mode
 * "nearest" with integer factors. With factor s the output index i = k·s + j
 * maps to the input k exactly when the coordinate rule does: asymmetric +
 * floor always, asymmetric + round_prefer_floor for s = 2, half_pixel and
 * pytorch_half_pixel with round_prefer_floor/ceil always (the source
 * coordinate k + (j + 0.5)/s − 0.5 lies strictly within k ± 0.5). */
static gboolean
convert_resize (AneOnnxNode *node,
                GError     **error)
{
  gboolean upsample = g_str_equal (ane_onnx_node_op_type (node), "Upsample");
  gint64 opset = ane_onnx_node_opset (node);
  const char *mode, *ctm = "asymmetric", *nearest = "round_prefer_floor";
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  g_autofree float *scales = NULL;
  gint64 factor[ANE_MAX_RANK];
  gsize n = 0;
  guint rank;
  const gint64 *xs;
  gint64 max_factor = 1;

  if (x == NULL || !ane_onnx_node_attr_string (node, "mode", "nearest", &mode, error))
    return FALSE;
  if (!upsample && opset >= 11 &&
      (!ane_onnx_node_attr_string (node, "coordinate_transformation_mode", "half_pixel", &ctm, error) ||
       !ane_onnx_node_attr_string (node, "nearest_mode", "round_prefer_floor", &nearest, error)))
    return FALSE;
  if (!g_str_equal (mode, "nearest"))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "mode '%s' is not supported (only nearest)", mode);
  xs = ane_tensor_get_shape (x, &rank);
  if (upsample && opset < 9)
    {
      const float *f;

      if (!ane_onnx_node_attr_floats (node, "scales", &f, &n, error))
        return FALSE;
      scales = f ? g_memdup2 (f, MAX (n, 1) * sizeof (float)) : NULL;
    }
  else
    {
      guint scales_at = (!upsample && opset >= 11) ? 2 : 1;
      guint sr;

      if (ane_onnx_node_has_input (node, scales_at) &&
          ane_onnx_node_input_shape (node, scales_at, &sr) != NULL && sr == 1 &&
          ane_onnx_node_input_shape (node, scales_at, &sr)[0] > 0)
        scales = ane_onnx_node_input_floats (node, scales_at, "scales", &n, error);
      else if (!upsample && opset >= 11 && ane_onnx_node_has_input (node, 3))
        {
          g_autofree gint64 *sizes = ane_onnx_node_input_int64s (node, 3, "sizes", &n, error);

          if (sizes == NULL)
            return FALSE;
          if (n != rank)
            return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "%" G_GSIZE_FORMAT " sizes for rank %u", n, rank);
          scales = g_new (float, MAX (n, 1));
          for (guint d = 0; d < rank; d++)
            {
              if (sizes[d] % xs[d] != 0)
                return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                            "size %" G_GINT64_FORMAT " on axis %u is not a multiple of %" G_GINT64_FORMAT
                                            " (only integer nearest upsampling is supported)", sizes[d], d, xs[d]);
              scales[d] = (float) (sizes[d] / xs[d]);
            }
        }
    }
  if (scales == NULL)
    {
      if (error != NULL && *error != NULL)
        return FALSE;
      return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_GRAPH, "neither scales nor sizes is given");
    }
  if (!integer_factors (node, scales, n, rank, factor, error))
    return FALSE;
  for (guint d = 0; d < rank; d++)
    max_factor = MAX (max_factor, factor[d]);
  if (!(g_str_equal (ctm, "asymmetric") && g_str_equal (nearest, "floor")) &&
      !(g_str_equal (ctm, "asymmetric") && g_str_equal (nearest, "round_prefer_floor") && max_factor <= 2) &&
      !((g_str_equal (ctm, "half_pixel") || g_str_equal (ctm, "pytorch_half_pixel")) &&
        (g_str_equal (nearest, "round_prefer_floor") || g_str_equal (nearest, "round_prefer_ceil"))))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                "coordinate_transformation_mode '%s' with nearest_mode '%s' is not a plain "
                                "repeat at these scales and is not supported", ctm, nearest);
  return upsample_nearest (node, x, factor, error);
}

const AneOnnxConverter ane_onnx_converters_nn[] = {
  { "Conv",               1,  convert_conv,                0 },
  { "ConvTranspose",      1,  convert_conv_transpose,      0 },
  { "BatchNormalization", 7,  convert_batch_norm,          0 },
  { "MaxPool",            1,  convert_max_pool,            0 },
  { "AveragePool",        1,  convert_average_pool,        0 },
  { "GlobalAveragePool",  1,  convert_global_average_pool, 0 },
  { "GlobalMaxPool",      1,  convert_global_max_pool,     0 },
  { "Resize",             10, convert_resize,              0 },
  { "Upsample",           7,  convert_resize,              0 },
  { NULL }
};
