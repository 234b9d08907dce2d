/* ane-onnx-ops-core.c: converters for constants, control flow and shape
 * glue (Constant, Identity, Dropout, If, Cast, Shape, Size,
 * ConstantOfShape, Range, Reshape, Flatten, Transpose, Squeeze, Unsqueeze,
 * Concat, Slice, Gather, Expand, Tile).
 *
 * Semantics from onnx/onnx docs/Operators.md (the op's section) and
 * docs/Changelog.md (the version that changed it), cited per op. Shape
 * arithmetic on int64 is done on the host where int64 range matters; the
 * rest is built from graph ops and folds through the reference evaluator
 * when its inputs are constants (ane-onnx-private.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-onnx-private.h"

/* Elements a constant made at import time may have (ConstantOfShape,
 * Range): a hostile shape must not allocate without bound. */
#define MAX_FOLDED_ELEMENTS (G_GINT64_CONSTANT (1) << 28)

static gboolean
set0 (AneOnnxNode *node,
      AneTensor   *value,
      GError     **error)
{
  return ane_onnx_node_set_output (node, 0, value, error);
}

static gboolean
shape_elements (AneOnnxNode  *node,
                const gint64 *shape,
                guint         rank,
                gint64       *n,
                GError      **error)
{
  if (!ane_shape_n_elements (shape, rank, n, error))
    return FALSE;
  if (*n > MAX_FOLDED_ELEMENTS)
    return ane_onnx_node_error (node, error, ANE_ERROR_TOO_LARGE,
                                "its output would have %" G_GINT64_FORMAT " elements", *n);
  return TRUE;
}

/* ---- constants and control flow ---- */

/* Constant (Operators.md "Constant"): exactly one of value (a tensor),
 * value_float(s), value_int(s) (opset 12); sparse_value and strings are
 * refused. */
static gboolean
convert_constant (AneOnnxNode *node,
                  GError     **error)
{
  AneTensor *t = NULL;

  if (ane_onnx_node_has_attr (node, "value"))
    {
      if (!ane_onnx_node_attr_tensor (node, "value", &t, error))
        return FALSE;
      return set0 (node, t, error);
    }
  if (ane_onnx_node_has_attr (node, "value_float"))
    {
      double f;

      if (!ane_onnx_node_attr_float (node, "value_float", 0, &f, error))
        return FALSE;
      return set0 (node, ane_tensor_new_scalar ("value", ANE_DTYPE_FLOAT32, f, error), error);
    }
  if (ane_onnx_node_has_attr (node, "value_int"))
    {
      gint64 i;

      if (!ane_onnx_node_attr_int (node, "value_int", 0, &i, error))
        return FALSE;
      return set0 (node, ane_onnx_tensor_new_int64s (&i, NULL, 0, error), error);
    }
  if (ane_onnx_node_has_attr (node, "value_floats"))
    {
      const float *f;
      gsize n;
      gint64 shape[1];

      if (!ane_onnx_node_attr_floats (node, "value_floats", &f, &n, error))
        return FALSE;
      shape[0] = (gint64) n;
      return set0 (node, ane_tensor_new_from_floats ("value", shape, 1, f, n, error), error);
    }
  if (ane_onnx_node_has_attr (node, "value_ints"))
    {
      const gint64 *v;
      gsize n;
      gint64 shape[1];

      if (!ane_onnx_node_attr_ints (node, "value_ints", &v, &n, error))
        return FALSE;
      shape[0] = (gint64) n;
      return set0 (node, ane_onnx_tensor_new_int64s (v, shape, 1, error), error);
    }
  return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                              "only value, value_float(s) and value_int(s) are supported "
                              "(not sparse_value or strings)");
}

/* Identity (Operators.md "Identity"); Dropout in inference is the identity
 * on its first output (Operators.md "Dropout": with training_mode false,
 * "the output Y ... equal to the input"); its mask output is all true. */
static gboolean
convert_identity (AneOnnxNode *node,
                  GError     **error)
{
  AneTensor *c = ane_onnx_node_input_constant (node, 0);
  AneTensor *x;

  if (ane_onnx_node_output_wanted (node, 1))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                "the mask output of Dropout is not supported");
  if (c != NULL)
    return set0 (node, g_object_ref (c), error);
  x = ane_onnx_node_input (node, 0, error);
  return x != NULL && set0 (node, g_object_ref (x), error);
}

/* If (Operators.md "If"): only a condition known at import time, whose
 * branch is inlined; a condition that stays dynamic is refused. */
static gboolean
convert_if (AneOnnxNode *node,
            GError     **error)
{
  AneTensor *cond = ane_onnx_node_input_constant (node, 0);

  if (cond == NULL)
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                "its condition '%s' is only known at run time; If is supported only "
                                "when its condition folds (bind the inputs it depends on with "
                                "--input-value)", ane_onnx_node_input_name (node, 0));
  if (ane_tensor_get_n_elements (cond) != 1)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "its condition has %" G_GINT64_FORMAT
                                " elements, not one", ane_tensor_get_n_elements (cond));
  return ane_onnx_node_inline_subgraph (node, ane_tensor_get_value (cond, 0) != 0
                                        ? "then_branch" : "else_branch", error);
}

static gboolean
convert_loop (AneOnnxNode *node,
              GError     **error)
{
  return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                              "Loop is not supported: unroll it when exporting (only If with a "
                              "condition known at import time is)");
}

/* ---- dtypes ---- */

/* Cast (Operators.md "Cast"): the "to" element type. On the host an int64
 * result stays int64 (shape arithmetic); in the graph int64 is int32. */
static gboolean
convert_cast (AneOnnxNode *node,
              GError     **error)
{
  gint64 to;
  AneDType dtype;
  AneTensor *c = ane_onnx_node_input_constant (node, 0);
  AneTensor *x;

  if (!ane_onnx_node_attr_int (node, "to", 0, &to, error))
    return FALSE;
  if (!ane_onnx_dtype_from_elem_type (to, &dtype))
    return ane_onnx_node_error (node, error, ANE_ERROR_DTYPE, "cast to element type %" G_GINT64_FORMAT
                                " is not supported", to);
  if (c != NULL)
    {
      if (to == 7 /* INT64 */)
        {
          gsize n;
          g_autofree gint64 *v = NULL;
          guint rank;
          const gint64 *shape = ane_tensor_get_shape (c, &rank);

          if (ane_tensor_get_dtype (c) == ANE_DTYPE_INT64)
            return set0 (node, g_object_ref (c), error);
          /* float → int truncates toward zero (Operators.md "Cast") */
          if (ane_tensor_get_dtype (c) == ANE_DTYPE_FLOAT32 || ane_tensor_get_dtype (c) == ANE_DTYPE_FLOAT16)
            {
              gint64 count = ane_tensor_get_n_elements (c);

              v = g_new (gint64, MAX (count, 1));
              for (gint64 k = 0; k < count; k++)
                {
                  double d = trunc (ane_tensor_get_value (c, k));
                  v[k] = isfinite (d) && fabs (d) < 9.2e18 ? (gint64) d : 0;
                }
              n = (gsize) count;
            }
          else if ((v = ane_onnx_node_input_int64s (node, 0, "input", &n, error)) == NULL)
            return FALSE;
          return set0 (node, ane_onnx_tensor_new_int64s (v, shape, rank, error), error);
        }
      if (ane_tensor_get_dtype (c) == ANE_DTYPE_INT64)
        {
          gsize n;
          g_autofree float *f = ane_onnx_node_input_floats (node, 0, "input", &n, error);
          g_autoptr(AneTensor) as_float = NULL;
          guint rank;
          const gint64 *shape = ane_tensor_get_shape (c, &rank);

          if (f == NULL)
            return FALSE;
          if (dtype == ANE_DTYPE_INT32)
            {
              g_autofree gint64 *v = ane_onnx_node_input_int64s (node, 0, "input", &n, error);
              g_autofree gint32 *w = g_new (gint32, MAX (n, 1));

              if (v == NULL)
                return FALSE;
              for (gsize k = 0; k < n; k++)
                w[k] = (gint32) v[k];   /* ONNX Cast wraps like C; MIL int32 */
              return set0 (node, ane_tensor_new_from_ints ("cast", shape, rank, w, n, error), error);
            }
          /* int64 values of shape arithmetic are exact in float's range we use */
          as_float = ane_tensor_new_from_floats ("cast", shape, rank, f, n, error);
          if (as_float == NULL)
            return FALSE;
          return set0 (node, ane_tensor_convert (as_float, dtype, error), error);
        }
      return set0 (node, ane_tensor_convert (c, dtype, error), error);
    }
  x = ane_onnx_node_input (node, 0, error);
  if (x == NULL)
    return FALSE;
  if (ane_tensor_get_dtype (x) == dtype)
    return set0 (node, g_object_ref (x), error);
  return set0 (node, ane_graph_cast (ane_onnx_node_graph (node), x, dtype, error), error);
}

/* ---- shapes known at import time ---- */

/* Shape (Operators.md "Shape"; start/end since opset 15, clamped like
 * Slice). Every shape is static, so this is always a constant. */
static gboolean
convert_shape (AneOnnxNode *node,
               GError     **error)
{
  guint rank;
  const gint64 *shape = ane_onnx_node_input_shape (node, 0, &rank);
  gint64 start = 0, end = rank, n;

  if (!ane_onnx_node_has_input (node, 0))
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_GRAPH, "input 0 is missing");
  if (ane_onnx_node_opset (node) >= 15)
    {
      if (!ane_onnx_node_attr_int (node, "start", 0, &start, error) ||
          !ane_onnx_node_attr_int (node, "end", rank, &end, error))
        return FALSE;
      if (start < 0)
        start += rank;
      if (end < 0)
        end += rank;
      start = CLAMP (start, 0, (gint64) rank);
      end = CLAMP (end, 0, (gint64) rank);
    }
  n = MAX (end - start, 0);
  return set0 (node, ane_onnx_tensor_new_int64s (shape + start, &n, 1, error), error);
}

/* Size (Operators.md "Size"): int64 scalar. */
static gboolean
convert_size (AneOnnxNode *node,
              GError     **error)
{
  guint rank;
  const gint64 *shape = ane_onnx_node_input_shape (node, 0, &rank);
  gint64 n = 1;

  if (!ane_onnx_node_has_input (node, 0))
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_GRAPH, "input 0 is missing");
  for (guint d = 0; d < rank; d++)
    n *= shape[d];
  return set0 (node, ane_onnx_tensor_new_int64s (&n, NULL, 0, error), error);
}

/* ConstantOfShape (Operators.md "ConstantOfShape"): value is a one-element
 * tensor, default float 0. */
static gboolean
convert_constant_of_shape (AneOnnxNode *node,
                           GError     **error)
{
  gsize rank;
  g_autofree gint64 *shape = ane_onnx_node_input_int64s (node, 0, "shape", &rank, error);
  g_autoptr(AneTensor) value = NULL;
  AneDType dtype = ANE_DTYPE_FLOAT32;
  gint64 n;
  gsize size;
  g_autofree guint8 *data = NULL;
  const guint8 *one;
  g_autoptr(GBytes) bytes = NULL;

  if (shape == NULL || !ane_onnx_node_attr_tensor (node, "value", &value, error))
    return FALSE;
  if (rank > ANE_MAX_RANK)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "rank %" G_GSIZE_FORMAT " is too large", rank);
  if (value == NULL)
    value = ane_tensor_new_scalar ("value", ANE_DTYPE_FLOAT32, 0, error);
  if (value == NULL)
    return FALSE;
  if (ane_tensor_get_n_elements (value) != 1)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "value must have one element");
  for (gsize d = 0; d < rank; d++)
    if (shape[d] < 0)
      return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "dim %" G_GSIZE_FORMAT " is negative", d);
  if (!shape_elements (node, shape, (guint) rank, &n, error))
    return FALSE;
  dtype = ane_tensor_get_dtype (value);
  size = ane_dtype_size (dtype);
  one = g_bytes_get_data (ane_tensor_get_data (value), NULL);
  data = g_malloc (MAX ((gsize) n * size, 1));
  for (gint64 k = 0; k < n; k++)
    memcpy (data + k * size, one, size);
  bytes = g_bytes_new_take (g_steal_pointer (&data), (gsize) n * size);
  return set0 (node, ane_tensor_new_from_bytes ("constant_of_shape", dtype, shape, (guint) rank, bytes, error),
               error);
}

/* Range (Operators.md "Range"): n = max(ceil((limit − start) / delta), 0),
 * folded; int64 stays int64, anything else is computed as float. */
static gboolean
convert_range (AneOnnxNode *node,
               GError     **error)
{
  gboolean integral = ane_onnx_node_input_dtype (node, 0) == ANE_DTYPE_INT64 ||
                      ane_onnx_node_input_dtype (node, 0) == ANE_DTYPE_INT32;
  gsize n0, n1, n2;
  g_autofree float *f0 = NULL, *f1 = NULL, *f2 = NULL;
  g_autofree gint64 *v0 = NULL, *v1 = NULL, *v2 = NULL;
  gint64 n;

  for (guint i = 0; i < 3; i++)
    if (!ane_onnx_node_input_is_constant (node, i))
      return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                  "its start, limit and delta must be known at import time");
  if (integral)
    {
      v0 = ane_onnx_node_input_int64s (node, 0, "start", &n0, error);
      v1 = v0 ? ane_onnx_node_input_int64s (node, 1, "limit", &n1, error) : NULL;
      v2 = v1 ? ane_onnx_node_input_int64s (node, 2, "delta", &n2, error) : NULL;
      if (v2 == NULL)
        return FALSE;
      if (n0 != 1 || n1 != 1 || n2 != 1 || v2[0] == 0)
        return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT,
                                    "start, limit and delta must be scalars and delta non-zero");
      n = (gint64) ceil (((double) v1[0] - (double) v0[0]) / (double) v2[0]);
      n = MAX (n, 0);
      if (!shape_elements (node, &n, 1, &n, error))
        return FALSE;
      {
        g_autofree gint64 *out = g_new (gint64, MAX (n, 1));

        for (gint64 k = 0; k < n; k++)
          out[k] = v0[0] + k * v2[0];
        return set0 (node, ane_onnx_tensor_new_int64s (out, &n, 1, error), error);
      }
    }
  f0 = ane_onnx_node_input_floats (node, 0, "start", &n0, error);
  f1 = f0 ? ane_onnx_node_input_floats (node, 1, "limit", &n1, error) : NULL;
  f2 = f1 ? ane_onnx_node_input_floats (node, 2, "delta", &n2, error) : NULL;
  if (f2 == NULL)
    return FALSE;
  if (n0 != 1 || n1 != 1 || n2 != 1 || f2[0] == 0)
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT,
                                "start, limit and delta must be scalars and delta non-zero");
  n = (gint64) ceil (((double) f1[0] - f0[0]) / f2[0]);
  n = MAX (n, 0);
  if (!shape_elements (node, &n, 1, &n, error))
    return FALSE;
  {
    g_autofree float *out = g_new (float, MAX (n, 1));

    for (gint64 k = 0; k < n; k++)
      out[k] = f0[0] + (float) k * f2[0];
    return set0 (node, ane_tensor_new_from_floats ("range", &n, 1, out, (gsize) n, error), error);
  }
}

/* ---- reshaping ---- */

static gboolean
reshape_to (AneOnnxNode  *node,
            AneTensor    *x,
            const gint64 *shape,
            guint         rank,
            GError      **error)
{
  guint xr;
  const gint64 *xs = ane_tensor_get_shape (x, &xr);

  if (xr == rank && memcmp (xs, shape, rank * sizeof (gint64)) == 0)
    return set0 (node, g_object_ref (x), error);
  return set0 (node, ane_graph_reshape (ane_onnx_node_graph (node), x, shape, rank, error), error);
}

/* Reshape (Operators.md "Reshape"): 0 copies the input's dim (unless
 * allowzero, opset 14), one -1 is inferred. */
static gboolean
convert_reshape (AneOnnxNode *node,
                 GError     **error)
{
  gsize rank;
  g_autofree gint64 *want = ane_onnx_node_input_int64s (node, 1, "shape", &rank, error);
  gint64 allowzero = 0, known = 1, total = 1;
  gint64 shape[ANE_MAX_RANK];
  guint xr;
  const gint64 *xs;
  int infer = -1;
  AneTensor *x;

  if (want == NULL || !ane_onnx_node_attr_int (node, "allowzero", 0, &allowzero, error))
    return FALSE;
  x = ane_onnx_node_input (node, 0, error);
  if (x == NULL)
    return FALSE;
  xs = ane_tensor_get_shape (x, &xr);
  if (rank > ANE_MAX_RANK)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "target rank %" G_GSIZE_FORMAT " exceeds %d",
                                rank, ANE_MAX_RANK);
  for (guint d = 0; d < xr; d++)
    total *= xs[d];
  for (gsize d = 0; d < rank; d++)
    {
      shape[d] = want[d];
      if (want[d] == 0 && !allowzero)
        {
          if (d >= xr)
            return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "shape[%" G_GSIZE_FORMAT "] = 0 copies "
                                        "a dim the input (rank %u) does not have", d, xr);
          shape[d] = xs[d];
        }
      else if (want[d] == -1)
        {
          if (infer >= 0)
            return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "more than one -1 in the shape");
          infer = (int) d;
          continue;
        }
      else if (want[d] < 0)
        return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "shape[%" G_GSIZE_FORMAT "] is %" G_GINT64_FORMAT,
                                    d, want[d]);
      known *= shape[d];
    }
  if (infer >= 0)
    {
      if (known == 0 || total % known != 0)
        return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE,
                                    "cannot infer the -1 dim: %" G_GINT64_FORMAT " elements into %" G_GINT64_FORMAT,
                                    total, known);
      shape[infer] = total / known;
    }
  return reshape_to (node, x, shape, (guint) rank, error);
}

/* Flatten (Operators.md "Flatten"): [prod(d < axis), prod(d >= axis)];
 * negative axis since opset 11. */
static gboolean
convert_flatten (AneOnnxNode *node,
                 GError     **error)
{
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  gint64 axis, shape[2] = { 1, 1 };
  guint rank;
  const gint64 *xs;

  if (x == NULL || !ane_onnx_node_attr_int (node, "axis", 1, &axis, error))
    return FALSE;
  xs = ane_tensor_get_shape (x, &rank);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > (gint64) rank)
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT, "axis is out of range for rank %u", rank);
  for (guint d = 0; d < rank; d++)
    shape[d < axis ? 0 : 1] *= xs[d];
  return reshape_to (node, x, shape, 2, error);
}

/* Transpose (Operators.md "Transpose"): perm defaults to reversing. */
static gboolean
convert_transpose (AneOnnxNode *node,
                   GError     **error)
{
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  const gint64 *perm;
  gsize n;
  gint64 reversed[ANE_MAX_RANK];
  guint rank;

  if (x == NULL || !ane_onnx_node_attr_ints (node, "perm", &perm, &n, error))
    return FALSE;
  rank = ane_tensor_get_rank (x);
  if (perm == NULL)
    {
      for (guint d = 0; d < rank; d++)
        reversed[d] = rank - 1 - d;
      perm = reversed;
      n = rank;
    }
  return set0 (node, ane_graph_transpose (ane_onnx_node_graph (node), x, perm, (guint) n, error), error);
}

/* The axes of Squeeze/Unsqueeze/Reduce*: an attribute before the opset in
 * which they became input 1 (Changelog.md: Squeeze-13, Unsqueeze-13,
 * ReduceSum-13, the other reductions 18). *present FALSE when absent. */
static gint64 *
axes_of (AneOnnxNode *node,
         gint64       input_since,
         gsize       *n,
         gboolean    *present,
         GError     **error)
{
  *n = 0;
  *present = FALSE;
  if (ane_onnx_node_opset (node) >= input_since)
    {
      if (!ane_onnx_node_has_input (node, 1))
        return g_new0 (gint64, 1);
      *present = TRUE;
      return ane_onnx_node_input_int64s (node, 1, "axes", n, error);
    }
  else
    {
      const gint64 *a;

      if (!ane_onnx_node_attr_ints (node, "axes", &a, n, error))
        return NULL;
      *present = a != NULL;
      return a != NULL ? g_memdup2 (a, MAX (*n, 1) * sizeof (gint64)) : g_new0 (gint64, 1);
    }
}

/* Squeeze (Operators.md "Squeeze"): without axes, every dim of size 1. */
static gboolean
convert_squeeze (AneOnnxNode *node,
                 GError     **error)
{
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  gsize n;
  gboolean present;
  g_autofree gint64 *axes = NULL;
  gboolean drop[ANE_MAX_RANK] = { FALSE };
  gint64 shape[ANE_MAX_RANK];
  guint rank, out = 0;
  const gint64 *xs;

  if (x == NULL || (axes = axes_of (node, 13, &n, &present, error)) == NULL)
    return FALSE;
  xs = ane_tensor_get_shape (x, &rank);
  for (gsize k = 0; k < n; k++)
    {
      int a;

      if (!ane_onnx_node_normalize_axis (node, axes[k], rank, &a, error))
        return FALSE;
      if (xs[a] != 1)
        return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "axis %d has size %" G_GINT64_FORMAT ", not 1",
                                    a, xs[a]);
      drop[a] = TRUE;
    }
  for (guint d = 0; d < rank; d++)
    if (!(present ? drop[d] : xs[d] == 1))
      shape[out++] = xs[d];
  return reshape_to (node, x, shape, out, error);
}

/* Unsqueeze (Operators.md "Unsqueeze"): axes index the output. */
static gboolean
convert_unsqueeze (AneOnnxNode *node,
                   GError     **error)
{
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  gsize n;
  gboolean present;
  g_autofree gint64 *axes = NULL;
  gboolean added[ANE_MAX_RANK] = { FALSE };
  gint64 shape[ANE_MAX_RANK];
  guint rank, out_rank, src = 0;
  const gint64 *xs;

  if (x == NULL || (axes = axes_of (node, 13, &n, &present, error)) == NULL)
    return FALSE;
  if (!present)
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_GRAPH, "axes are missing");
  xs = ane_tensor_get_shape (x, &rank);
  if (rank + n > ANE_MAX_RANK)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "the result's rank exceeds %d", ANE_MAX_RANK);
  out_rank = rank + (guint) n;
  for (gsize k = 0; k < n; k++)
    {
      int a;

      if (!ane_onnx_node_normalize_axis (node, axes[k], out_rank, &a, error))
        return FALSE;
      if (added[a])
        return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT, "axis %d is repeated", a);
      added[a] = TRUE;
    }
  for (guint d = 0; d < out_rank; d++)
    shape[d] = added[d] ? 1 : xs[src++];
  return reshape_to (node, x, shape, out_rank, error);
}

/* Concat (Operators.md "Concat"); empty inputs (a dim of 0, as shape
 * arithmetic makes) contribute nothing and are dropped. */
static gboolean
convert_concat (AneOnnxNode *node,
                GError     **error)
{
  gint64 axis;
  g_autoptr(GPtrArray) parts = g_ptr_array_new ();
  guint rank = 0;
  int a;

  if (!ane_onnx_node_attr_int (node, "axis", 0, &axis, error))
    return FALSE;
  for (guint i = 0; i < ane_onnx_node_n_inputs (node); i++)
    {
      AneTensor *t;
      guint r;
      const gint64 *s;
      gboolean empty = FALSE;

      if (!ane_onnx_node_has_input (node, i))
        continue;
      s = ane_onnx_node_input_shape (node, i, &r);
      rank = r;
      for (guint d = 0; d < r; d++)
        empty |= s[d] == 0;
      if (empty)
        continue;
      t = ane_onnx_node_input (node, i, error);
      if (t == NULL)
        return FALSE;
      g_ptr_array_add (parts, t);
    }
  if (!ane_onnx_node_normalize_axis (node, axis, rank, &a, error))
    return FALSE;
  if (parts->len == 0)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "every input is empty");
  if (parts->len == 1)
    return set0 (node, g_object_ref (parts->pdata[0]), error);
  return set0 (node, ane_graph_concat (ane_onnx_node_graph (node), (AneTensor **) parts->pdata, parts->len,
                                       a, error), error);
}

/* Slice (Operators.md "Slice"): starts/ends/axes attributes before opset
 * 10, inputs (with steps) since. Starts and ends clamp to the dim (so
 * INT64_MAX means "to the end"); a step of 1 is a narrow, any other step
 * (negative too) a gather of the indices it visits. */
static gboolean
convert_slice (AneOnnxNode *node,
               GError     **error)
{
  g_autofree gint64 *starts = NULL, *ends = NULL, *axes = NULL, *steps = NULL;
  gsize ns = 0, ne = 0, na = 0, nst = 0;
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  g_autoptr(AneTensor) cur = NULL;
  AneGraph *graph = ane_onnx_node_graph (node);
  guint rank;
  const gint64 *xs;

  if (x == NULL)
    return FALSE;
  xs = ane_tensor_get_shape (x, &rank);
  if (ane_onnx_node_opset (node) < 10)
    {
      const gint64 *a;

      if (!ane_onnx_node_attr_ints (node, "starts", &a, &ns, error))
        return FALSE;
      starts = g_memdup2 (a, MAX (ns, 1) * sizeof (gint64));
      if (!ane_onnx_node_attr_ints (node, "ends", &a, &ne, error))
        return FALSE;
      ends = g_memdup2 (a, MAX (ne, 1) * sizeof (gint64));
      if (!ane_onnx_node_attr_ints (node, "axes", &a, &na, error))
        return FALSE;
      axes = a ? g_memdup2 (a, MAX (na, 1) * sizeof (gint64)) : NULL;
    }
  else
    {
      starts = ane_onnx_node_input_int64s (node, 1, "starts", &ns, error);
      ends = starts ? ane_onnx_node_input_int64s (node, 2, "ends", &ne, error) : NULL;
      if (ends == NULL)
        return FALSE;
      if (ane_onnx_node_has_input (node, 3) &&
          (axes = ane_onnx_node_input_int64s (node, 3, "axes", &na, error)) == NULL)
        return FALSE;
      if (ane_onnx_node_has_input (node, 4) &&
          (steps = ane_onnx_node_input_int64s (node, 4, "steps", &nst, error)) == NULL)
        return FALSE;
    }
  if (starts == NULL || ends == NULL || ns != ne || (axes && na != ns) || (steps && nst != ns))
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT,
                                "starts, ends, axes and steps must have the same length");
  cur = g_object_ref (x);
  for (gsize k = 0; k < ns; k++)
    {
      int a;
      gint64 dim, step = steps ? steps[k] : 1, s = starts[k], e = ends[k];
      AneTensor *next;

      if (!ane_onnx_node_normalize_axis (node, axes ? axes[k] : (gint64) k, rank, &a, error))
        return FALSE;
      if (step == 0)
        return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT, "step 0 on axis %d", a);
      dim = xs[a];
      if (s < 0)
        s += dim;
      if (e < 0 && e != G_MININT64)
        e += dim;
      if (step > 0)
        {
          s = CLAMP (s, 0, dim);
          e = CLAMP (e, 0, dim);
        }
      else
        {
          s = CLAMP (s, 0, dim - 1);
          e = e == G_MININT64 ? -1 : CLAMP (e, -1, dim - 1);
        }
      if (step == 1)
        {
          if (s == 0 && e == dim)
            continue;
          next = ane_graph_narrow (graph, cur, a, s, MAX (e - s, 0), error);
        }
      else
        {
          gint64 count = step > 0 ? MAX ((e - s + step - 1) / step, 0) : MAX ((s - e + (-step) - 1) / (-step), 0);
          g_autofree gint32 *idx = g_new (gint32, MAX (count, 1));
          g_autoptr(AneTensor) host = NULL;
          AneTensor *indices;

          for (gint64 j = 0; j < count; j++)
            idx[j] = (gint32) (s + j * step);
          host = ane_tensor_new_from_ints ("slice_indices", &count, 1, idx, (gsize) count, error);
          if (host == NULL || (indices = ane_onnx_node_const (node, host, error)) == NULL)
            return FALSE;
          next = ane_graph_gather (graph, cur, indices, a, error);
        }
      if (next == NULL)
        return ane_onnx_node_set_output (node, 0, NULL, error);
      g_object_unref (cur);
      cur = next;
    }
  return set0 (node, g_steal_pointer (&cur), error);
}

/* Gather (Operators.md "Gather"): numpy.take along axis, negative indices
 * counting from the end; a scalar index drops the axis. */
static gboolean
convert_gather (AneOnnxNode *node,
                GError     **error)
{
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  AneTensor *indices;
  gint64 axis;
  int a;

  if (x == NULL || !ane_onnx_node_attr_int (node, "axis", 0, &axis, error) ||
      !ane_onnx_node_normalize_axis (node, axis, ane_tensor_get_rank (x), &a, error))
    return FALSE;
  indices = ane_onnx_node_input (node, 1, error);
  if (indices == NULL)
    return FALSE;
  return set0 (node, ane_graph_gather (ane_onnx_node_graph (node), x, indices, a, error), error);
}

/* Expand (Operators.md "Expand"): bidirectional broadcast of x and shape. */
static gboolean
convert_expand (AneOnnxNode *node,
                GError     **error)
{
  gsize n;
  g_autofree gint64 *want = ane_onnx_node_input_int64s (node, 1, "shape", &n, error);
  AneTensor *x;
  guint xr, rank;
  const gint64 *xs;
  gint64 out[ANE_MAX_RANK], xshape[ANE_MAX_RANK];
  AneGraph *graph = ane_onnx_node_graph (node);
  g_autoptr(AneTensor) lifted = NULL;

  if (want == NULL || (x = ane_onnx_node_input (node, 0, error)) == NULL)
    return FALSE;
  xs = ane_tensor_get_shape (x, &xr);
  rank = MAX (xr, (guint) n);
  if (rank > ANE_MAX_RANK)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "the result's rank exceeds %d", ANE_MAX_RANK);
  for (guint d = 0; d < rank; d++)
    {
      gint64 a = d + xr >= rank ? xs[d + xr - rank] : 1;
      gint64 b = d + n >= rank ? want[d + n - rank] : 1;

      xshape[d] = a;
      if (a != b && a != 1 && b != 1)
        return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "dim %u: %" G_GINT64_FORMAT " does not "
                                    "broadcast with %" G_GINT64_FORMAT, d, a, b);
      out[d] = a == 1 ? b : a;
    }
  if (memcmp (xshape, out, rank * sizeof (gint64)) == 0 && rank == xr)
    return set0 (node, g_object_ref (x), error);
  lifted = rank == xr ? g_object_ref (x) : ane_graph_reshape (graph, x, xshape, rank, error);
  if (lifted == NULL)
    return ane_onnx_node_set_output (node, 0, NULL, error);
  return set0 (node, ane_graph_expand (graph, lifted, out, rank, error), error);
}

/* Tile (Operators.md "Tile"): out[i] = x[i mod dim]. One repeated axis at
 * a time (so no tensor exceeds Core ML's rank 5): the axis gets a new axis
 * of size `repeats` in front of it, broadcast, then merged:
 * [.., d, ..] → [.., 1, d, ..] → [.., r, d, ..] → [.., r·d, ..]. */
static gboolean
convert_tile (AneOnnxNode *node,
              GError     **error)
{
  gsize n;
  g_autofree gint64 *repeats = ane_onnx_node_input_int64s (node, 1, "repeats", &n, error);
  AneTensor *x;
  guint rank;
  AneGraph *graph = ane_onnx_node_graph (node);
  g_autoptr(AneTensor) cur = NULL;

  if (repeats == NULL || (x = ane_onnx_node_input (node, 0, error)) == NULL)
    return FALSE;
  rank = ane_tensor_get_rank (x);
  if (n != rank)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "repeats has %" G_GSIZE_FORMAT " entries for rank %u",
                                n, rank);
  cur = g_object_ref (x);
  for (guint d = 0; d < rank; d++)
    {
      const gint64 *cs = ane_tensor_get_shape (cur, &rank);
      gint64 lifted[ANE_MAX_RANK], expanded[ANE_MAX_RANK], merged[ANE_MAX_RANK];
      g_autoptr(AneTensor) a = NULL, b = NULL;
      AneTensor *next;

      if (repeats[d] < 1)
        return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "repeats[%u] = %" G_GINT64_FORMAT
                                    " (only positive repeats are supported)", d, repeats[d]);
      if (repeats[d] == 1)
        continue;
      if (rank + 1 > ANE_MAX_RANK)
        return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "rank %u is too large to tile", rank);
      for (guint k = 0, w = 0; k < rank; k++)
        {
          merged[k] = cs[k] * (k == d ? repeats[d] : 1);
          if (k == d)
            {
              lifted[w] = 1;
              expanded[w++] = repeats[d];
            }
          lifted[w] = expanded[w] = cs[k];
          w++;
        }
      a = ane_graph_reshape (graph, cur, lifted, rank + 1, error);
      b = a ? ane_graph_expand (graph, a, expanded, rank + 1, error) : NULL;
      next = b ? ane_graph_reshape (graph, b, merged, rank, error) : NULL;
      if (next == NULL)
        return ane_onnx_node_set_output (node, 0, NULL, error);
      g_object_unref (cur);
      cur = next;
    }
  return set0 (node, g_steal_pointer (&cur), error);
}

const AneOnnxConverter ane_onnx_converters_core[] = {
  { "Constant",        1,  convert_constant,          0 },
  { "Identity",        1,  convert_identity,          0 },
  { "Dropout",         1,  convert_identity,          0 },
  { "If",              1,  convert_if,                ANE_ONNX_CONVERTER_NO_FOLD },
  { "Loop",            1,  convert_loop,              ANE_ONNX_CONVERTER_NO_FOLD },
  { "Cast",            6,  convert_cast,              0 },
  { "Shape",           1,  convert_shape,             0 },
  { "Size",            1,  convert_size,              0 },
  { "ConstantOfShape", 9,  convert_constant_of_shape, 0 },
  { "Range",           11, convert_range,             0 },
  { "Reshape",         5,  convert_reshape,           0 },
  { "Flatten",         1,  convert_flatten,           0 },
  { "Transpose",       1,  convert_transpose,         0 },
  { "Squeeze",         1,  convert_squeeze,           0 },
  { "Unsqueeze",       1,  convert_unsqueeze,         0 },
  { "Concat",          4,  convert_concat,            0 },
  { "Slice",           1,  convert_slice,             0 },
  { "Gather",          1,  convert_gather,            0 },
  { "Expand",          8,  convert_expand,            0 },
  { "Tile",            6,  convert_tile,              0 },
  { NULL }
};
