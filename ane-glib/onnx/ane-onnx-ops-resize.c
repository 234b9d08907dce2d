/* ane-onnx-ops-resize.c: Resize and Upsample onto the IR's resize row
 *
 * onnx/onnx docs/Operators.md "Resize" (10, 11, 13, 18, 19) and "Upsample"
 * (7, 9): nearest and linear modes resizing the last two axes; the
 * coordinate modes half_pixel, pytorch_half_pixel, align_corners,
 * asymmetric and tf_half_pixel_for_nn; nearest modes round_prefer_floor,
 * round_prefer_ceil, floor and ceil. Before opset 11 (Upsample, Resize-10)
 * the coordinates are asymmetric and nearest rounds as ONNX Runtime's
 * "simple" mode (core/providers/cpu/tensor/upsamplebase.h: floor when
 * upsampling, ceil when downsampling). Refused, naming what: cubic mode,
 * tf_crop_and_resize and half_pixel_symmetric, antialias, a
 * keep_aspect_ratio_policy other than stretch, and resizing any axis but
 * the last two.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-onnx-private.h"

#define MAX_RANK 8

static gboolean
convert_resize (AneOnnxNode *node,
                GError     **error)
{
  gint64 opset = ane_onnx_node_opset (node);
  gboolean upsample = g_str_equal (ane_onnx_node_op_type (node), "Upsample");
  const char *mode, *coord = "asymmetric", *nearest = "floor", *policy = "stretch";
  gint64 antialias = 0;
  guint rank;
  const gint64 *shape;
  double scale[MAX_RANK];
  gint64 out[MAX_RANK];
  const gint64 *axes_attr = NULL;
  gsize n_axes = 0;
  gint64 axes[MAX_RANK];
  gboolean have_sizes = FALSE;
  AneTensor *x = ane_onnx_node_input (node, 0, error);

  if (x == NULL || !ane_onnx_node_attr_string (node, "mode", "nearest", &mode, error))
    return FALSE;
  shape = ane_onnx_node_input_shape (node, 0, &rank);
  if (rank < 2 || rank > MAX_RANK)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "input has rank %u; 2 to %d are supported",
                                rank, MAX_RANK);
  if (opset >= 11 && !upsample &&
      (!ane_onnx_node_attr_string (node, "coordinate_transformation_mode", "half_pixel", &coord, error) ||
       !ane_onnx_node_attr_string (node, "nearest_mode", "round_prefer_floor", &nearest, error) ||
       !ane_onnx_node_attr_int (node, "antialias", 0, &antialias, error) ||
       !ane_onnx_node_attr_string (node, "keep_aspect_ratio_policy", "stretch", &policy, error) ||
       !ane_onnx_node_attr_ints (node, "axes", &axes_attr, &n_axes, error)))
    return FALSE;
  if (!g_str_equal (mode, "nearest") && !g_str_equal (mode, "linear") && !g_str_equal (mode, "bilinear"))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "mode '%s' is not supported (nearest and "
                                "linear are)", mode);
  if (!g_str_equal (coord, "half_pixel") && !g_str_equal (coord, "pytorch_half_pixel") &&
      !g_str_equal (coord, "align_corners") && !g_str_equal (coord, "asymmetric") &&
      !g_str_equal (coord, "tf_half_pixel_for_nn"))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "coordinate_transformation_mode '%s' is not "
                                "supported", coord);
  if (!g_str_equal (nearest, "round_prefer_floor") && !g_str_equal (nearest, "round_prefer_ceil") &&
      !g_str_equal (nearest, "floor") && !g_str_equal (nearest, "ceil"))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "nearest_mode '%s' is not supported", nearest);
  if (antialias != 0)
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "antialias = 1 is not supported");
  if (!g_str_equal (policy, "stretch"))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "keep_aspect_ratio_policy '%s' is not "
                                "supported (stretch is)", policy);
  if (n_axes > rank)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "axes has %" G_GSIZE_FORMAT " entries for rank %u",
                                n_axes, rank);
  if (n_axes == 0)
    for (guint d = 0; d < rank; d++)
      axes[n_axes++] = d;
  else
    for (gsize i = 0; i < n_axes; i++)
      {
        int a;

        if (!ane_onnx_node_normalize_axis (node, axes_attr[i], rank, &a, error))
          return FALSE;
        axes[i] = a;
      }
  for (guint d = 0; d < rank; d++)
    {
      scale[d] = 1.0;
      out[d] = shape[d];
    }

  /* scales / sizes: Upsample-7 attribute, Upsample-9 / Resize-10 input 1,
   * Resize-11+ inputs 2 (scales) and 3 (sizes), one of them given */
  if (upsample && opset < 9)
    {
      const float *s;
      gsize n;

      if (!ane_onnx_node_attr_floats (node, "scales", &s, &n, error))
        return FALSE;
      if (n != rank)
        return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "scales has %" G_GSIZE_FORMAT " entries for "
                                    "rank %u", n, rank);
      for (guint d = 0; d < rank; d++)
        scale[d] = s[d];
    }
  else
    {
      guint scales_at = opset >= 11 && !upsample ? 2 : 1;
      gsize n = 0;
      g_autofree float *s = NULL;

      if (opset >= 11 && !upsample && ane_onnx_node_has_input (node, 3))
        {
          g_autofree gint64 *sizes = ane_onnx_node_input_int64s (node, 3, "sizes", &n, error);

          if (sizes == NULL)
            return FALSE;
          if (n != n_axes)
            return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "sizes has %" G_GSIZE_FORMAT " entries "
                                        "for %" G_GSIZE_FORMAT " axes", n, n_axes);
          for (gsize i = 0; i < n; i++)
            out[axes[i]] = sizes[i];
          have_sizes = TRUE;
        }
      if (!have_sizes)
        {
          if ((s = ane_onnx_node_input_floats (node, scales_at, "scales", &n, error)) == NULL)
            return FALSE;
          if (n != n_axes)
            return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "scales has %" G_GSIZE_FORMAT " entries "
                                        "for %" G_GSIZE_FORMAT " axes", n, n_axes);
          for (gsize i = 0; i < n; i++)
            scale[axes[i]] = s[i];
        }
    }
  if (!have_sizes)
    for (guint d = 0; d < rank; d++)
      {
        if (scale[d] <= 0)
          return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT, "scale %g of axis %u is not "
                                      "positive", scale[d], d);
        /* Operators.md: output_dimension = floor(input_dimension * scale) */
        out[d] = (gint64) floor ((double) shape[d] * (float) scale[d]);
      }
  for (guint d = 0; d + 2 < rank; d++)
    if (out[d] != shape[d])
      return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "axis %u would be resized (%" G_GINT64_FORMAT
                                  " to %" G_GINT64_FORMAT "); only the last two axes can be", d, shape[d], out[d]);

  if (opset < 11 || upsample)
    {
      /* ONNX Runtime's "simple" nearest of the pre-11 forms */
      gboolean down_h = out[rank - 2] < shape[rank - 2], down_w = out[rank - 1] < shape[rank - 1];
      gboolean up_h = out[rank - 2] > shape[rank - 2], up_w = out[rank - 1] > shape[rank - 1];

      if (g_str_equal (mode, "nearest") && ((down_h && up_w) || (up_h && down_w)))
        return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "nearest resizing that shrinks one axis "
                                    "and grows the other is not supported before opset 11");
      nearest = down_h || down_w ? "ceil" : "floor";
    }
  return ane_onnx_node_set_output (node, 0,
                                   ane_graph_resize (ane_onnx_node_graph (node), x, out[rank - 2], out[rank - 1],
                                                     have_sizes ? 0.0 : (float) scale[rank - 2],
                                                     have_sizes ? 0.0 : (float) scale[rank - 1],
                                                     g_str_equal (mode, "nearest") ? "nearest" : "linear",
                                                     coord, nearest, error),
                                   error);
}

/* ane-onnx-ops-nn.c registers Resize-10 and Upsample-7 (nearest, integer
 * factors); a row with a greater since_opset takes the node (the registry's
 * rule, ONNX's own), so from Resize-11 and Upsample-9 on this converter,
 * which covers theirs (an integer-factor nearest becomes the same
 * upsample_nearest_neighbor through the resize row), handles every mode. */
const AneOnnxConverter ane_onnx_converters_resize[] = {
  { "Upsample", 9,  convert_resize, 0 },
  { "Resize",   11, convert_resize, 0 },
  { NULL }
};
