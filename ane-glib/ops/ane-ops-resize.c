/* ops/ane-ops-resize.c: resize, ONNX Resize on the last two axes
 *
 * Semantics: onnx/onnx docs/Operators.md, "Resize" (opset 11 and later),
 * for the two trailing axes of x (H, W), with ONNX Runtime's reading of
 * "linear" (core/providers/cpu/tensor/upsamplebase.h and upsample.cc,
 * UpsampleBilinear: the source coordinate is clamped to [0, in - 1], its
 * two neighbours are floor and floor + 1 clamped to in - 1). For an output
 * index x of an axis of length in resized to out with scale s:
 *   coordinate_mode  x_original
 *   half_pixel       (x + 0.5) / s - 0.5
 *   pytorch_half_pixel  out > 1 ? (x + 0.5) / s - 0.5 : 0
 *   align_corners    out > 1 ? x · (in - 1) / (out - 1) : 0
 *   asymmetric       x / s
 *   tf_half_pixel_for_nn  (x + 0.5) / s
 * mode nearest picks x_original rounded by nearest_mode (round_prefer_floor,
 * round_prefer_ceil, floor, ceil) and clamped to [0, in - 1]; mode linear
 * interpolates between the two neighbours. s is the scale the model gave
 * (ONNX: out = floor(in · s), and the coordinates use s itself, not
 * out / in); 0 means out / in (a model that gave sizes).
 *
 * Both the reference kernel and the lowering (mil/lower/ane-lower-resize.c)
 * read the per-axis tables made by ane_resize_axis_table() below.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ops/ane-ops.h"

static const char *const coordinate_modes[] = {
  "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn", NULL
};
static const char *const nearest_modes[] = {
  "round_prefer_floor", "round_prefer_ceil", "floor", "ceil", NULL
};

static gboolean
one_of (const char         *s,
        const char *const  *list)
{
  for (guint i = 0; list[i]; i++)
    if (g_str_equal (s, list[i]))
      return TRUE;
  return FALSE;
}

static double
original_coordinate (const char *coord,
                     gint64      x,
                     double      scale,
                     gint64      in,
                     gint64      out)
{
  if (g_str_equal (coord, "half_pixel"))
    return (x + 0.5) / scale - 0.5;
  if (g_str_equal (coord, "pytorch_half_pixel"))
    return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
  if (g_str_equal (coord, "align_corners"))
    return out > 1 ? (double) x * (double) (in - 1) / (double) (out - 1) : 0.0;
  if (g_str_equal (coord, "tf_half_pixel_for_nn"))
    return (x + 0.5) / scale;
  return x / scale;   /* asymmetric */
}

static gint64
round_nearest (const char *nearest_mode,
               double      v)
{
  if (g_str_equal (nearest_mode, "floor"))
    return (gint64) floor (v);
  if (g_str_equal (nearest_mode, "ceil"))
    return (gint64) ceil (v);
  if (g_str_equal (nearest_mode, "round_prefer_ceil"))
    return (gint64) floor (v + 0.5);
  /* round_prefer_floor: halves go down */
  return (gint64) ceil (v - 0.5);
}

void
ane_resize_axis_table (GVariant *attrs,
                       guint     axis,
                       gint64    in,
                       gint64    out,
                       gint64   *lo,
                       gint64   *hi,
                       double   *w_hi)
{
  const char *mode = ane_attrs_string (attrs, "mode");
  const char *coord = ane_attrs_string (attrs, "coordinate_mode");
  const char *nearest_mode = ane_attrs_string (attrs, "nearest_mode");
  double scale = ane_attrs_double (attrs, axis == 0 ? "scale_h" : "scale_w");

  if (scale <= 0)
    scale = (double) out / (double) in;
  for (gint64 x = 0; x < out; x++)
    {
      double o = original_coordinate (coord, x, scale, in, out);

      if (g_str_equal (mode, "nearest"))
        {
          lo[x] = hi[x] = CLAMP (round_nearest (nearest_mode, o), 0, in - 1);
          w_hi[x] = 0.0;
        }
      else
        {
          double c = CLAMP (o, 0.0, (double) (in - 1));

          lo[x] = MIN ((gint64) floor (c), in - 1);
          hi[x] = MIN (lo[x] + 1, in - 1);
          w_hi[x] = c - (double) lo[x];
        }
    }
}

gboolean
ane_infer_resize (AneInferCtx *ctx,
                  GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  const char *mode = ane_attrs_string (ctx->attrs, "mode");
  const char *coord = ane_attrs_string (ctx->attrs, "coordinate_mode");
  const char *nearest_mode = ane_attrs_string (ctx->attrs, "nearest_mode");
  gsize n;
  const gint64 *size = ane_attrs_ints (ctx->attrs, "size", &n);
  char xb[ANE_SPEC_STRLEN];

  if (!ane_infer_require_numeric (ctx, 0, error) || !ane_infer_require_rank (ctx, 0, 2, ANE_MAX_RANK, error))
    return FALSE;
  if (!g_str_equal (mode, "nearest") && !g_str_equal (mode, "linear"))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT, "mode must be 'nearest' or 'linear', not '%s'", mode);
      return FALSE;
    }
  if (!one_of (coord, coordinate_modes))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT, "coordinate_mode '%s' is not half_pixel, "
                       "pytorch_half_pixel, align_corners, asymmetric or tf_half_pixel_for_nn", coord);
      return FALSE;
    }
  if (!one_of (nearest_mode, nearest_modes))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT, "nearest_mode '%s' is not round_prefer_floor, "
                       "round_prefer_ceil, floor or ceil", nearest_mode);
      return FALSE;
    }
  if (g_str_equal (mode, "linear") && !ane_dtype_is_float (x->dtype))
    {
      ane_infer_error (ctx, error, ANE_ERROR_DTYPE, "linear mode needs a float input 'x', got %s",
                       ane_spec_format (x, xb));
      return FALSE;
    }
  /* 2^20 per axis bounds the per-axis tables (and a hostile model's sizes) */
  if (n != 2 || size[0] < 1 || size[1] < 1 || size[0] > (1 << 20) || size[1] > (1 << 20))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT, "size must be 2 sizes (height, width) in [1, "
                       "2^20] of the last two axes of input 'x' %s", ane_spec_format (x, xb));
      return FALSE;
    }
  if (x->shape[x->rank - 2] < 1 || x->shape[x->rank - 1] < 1)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE, "input 'x' %s has nothing to resize",
                       ane_spec_format (x, xb));
      return FALSE;
    }
  ctx->outputs[0] = *x;
  ctx->outputs[0].shape[x->rank - 2] = size[0];
  ctx->outputs[0].shape[x->rank - 1] = size[1];
  return TRUE;
}

gboolean
ane_ref_resize (AneRefCtx *ctx,
                GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  gint64 ih = x->shape[x->rank - 2], iw = x->shape[x->rank - 1];
  gint64 oh = y->shape[y->rank - 2], ow = y->shape[y->rank - 1];
  g_autofree gint64 *hl = g_new (gint64, oh), *hh = g_new (gint64, oh);
  g_autofree gint64 *wl = g_new (gint64, ow), *wh = g_new (gint64, ow);
  g_autofree double *hw = g_new (double, oh), *ww = g_new (double, ow);
  gsize planes = x->n / (gsize) (ih * iw);

  ane_resize_axis_table (ctx->attrs, 0, ih, oh, hl, hh, hw);
  ane_resize_axis_table (ctx->attrs, 1, iw, ow, wl, wh, ww);
  for (gsize p = 0; p < planes; p++)
    {
      const double *src = x->v + p * ih * iw;
      double *dst = y->v + p * oh * ow;

      for (gint64 i = 0; i < oh; i++)
        for (gint64 j = 0; j < ow; j++)
          {
            /* bilinear: along W on both rows, then along H (nearest: w = 0) */
            double top = src[hl[i] * iw + wl[j]] * (1 - ww[j]) + (ww[j] != 0 ? src[hl[i] * iw + wh[j]] * ww[j] : 0);
            double bot = hw[i] != 0 ? src[hh[i] * iw + wl[j]] * (1 - ww[j]) +
                                      (ww[j] != 0 ? src[hh[i] * iw + wh[j]] * ww[j] : 0) : 0;

            dst[i * ow + j] = top * (1 - hw[i]) + bot * hw[i];
          }
    }
  return TRUE;
}

/**
 * ane_graph_resize:
 * @self: a graph
 * @x: a tensor of rank 2 or more; its last two axes are resized (float for
 *   "linear", any numeric dtype for "nearest")
 * @height: the output size of axis -2
 * @width: the output size of axis -1
 * @scale_h: the scale the coordinates are mapped with along axis -2 (ONNX
 *   Resize's scales[-2]), or 0 for @height / input height
 * @scale_w: likewise along axis -1
 * @mode: "nearest" or "linear"
 * @coordinate_mode: ONNX's coordinate_transformation_mode: "half_pixel",
 *   "pytorch_half_pixel", "align_corners", "asymmetric" or
 *   "tf_half_pixel_for_nn"
 * @nearest_mode: how "nearest" rounds: "round_prefer_floor",
 *   "round_prefer_ceil", "floor" or "ceil"
 * @error: return location for a #GError
 *
 * Resizes the last two axes of @x as ONNX Resize does (the modes listed;
 * linear is bilinear with ONNX Runtime's edge clamping). torch's
 * F.interpolate(mode="nearest") is "asymmetric" + "floor";
 * mode="bilinear", align_corners=False is "pytorch_half_pixel".
 *
 * Returns: (transfer full): the resized tensor
 */
AneTensor *
ane_graph_resize (AneGraph   *self,
                  AneTensor  *x,
                  gint64      height,
                  gint64      width,
                  double      scale_h,
                  double      scale_w,
                  const char *mode,
                  const char *coordinate_mode,
                  const char *nearest_mode,
                  GError    **error)
{
  gint64 size[2] = { height, width };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  g_return_val_if_fail (mode != NULL && coordinate_mode != NULL && nearest_mode != NULL, NULL);
  return ane_graph_add_node (self, ANE_OP_RESIZE, &x, 1,
                             ane_attrs_new ("size", ane_attrs_ints_variant (size, 2),
                                            "scale_h", g_variant_new_double (scale_h),
                                            "scale_w", g_variant_new_double (scale_w),
                                            "mode", g_variant_new_string (mode),
                                            "coordinate_mode", g_variant_new_string (coordinate_mode),
                                            "nearest_mode", g_variant_new_string (nearest_mode), NULL),
                             NULL, error);
}
