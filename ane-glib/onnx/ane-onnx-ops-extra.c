/* ane-onnx-ops-extra.c: converters for Pad, Erf, GatherElements, ArgMax /
 * ArgMin, TopK, CumSum, InstanceNormalization, LayerNormalization,
 * ReduceL2, Split and Einsum
 *
 * Semantics from onnx/onnx docs/Operators.md (one section per op) and
 * docs/Changelog.md for what changed between opsets; each converter cites
 * the form it reads. The IR rows they map to are in docs/ir-ops.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-onnx-private.h"

#define MAX_RANK 8

/* Output 0 of node set from a new tensor (the idiom of ane-onnx-private.h). */
#define SET0(node, value, error) ane_onnx_node_set_output ((node), 0, (value), (error))

static AneTensor *
input0 (AneOnnxNode *node,
        guint       *rank,
        GError     **error)
{
  AneTensor *x = ane_onnx_node_input (node, 0, error);

  if (x != NULL && rank != NULL)
    ane_onnx_node_input_shape (node, 0, rank);
  return x;
}

/* --- Pad ------------------------------------------------------------------------ */

/* Pad. Opset 2: attributes pads, mode, value. Opset 11: pads (int64
 * [2·rank]: all begins, then all ends) and constant_value are inputs.
 * Opset 18: an axes input names the padded axes (pads then has 2·len(axes)
 * entries). Opset 19 adds mode "wrap", refused. Negative pads remove
 * elements (Operators.md: "can take negative values, which will remove a
 * certain number of elements"): the crop is a narrow, done first. Modes map
 * to the IR's numpy names: constant, reflect, edge. */
static gboolean
convert_pad (AneOnnxNode *node,
             GError     **error)
{
  AneGraph *g = ane_onnx_node_graph (node);
  gint64 opset = ane_onnx_node_opset (node);
  const char *mode;
  double value = 0.0;
  gint64 begin[MAX_RANK] = { 0, }, end[MAX_RANK] = { 0, }, pairs[2 * MAX_RANK];
  g_autofree gint64 *pads_in = NULL;
  g_autofree gint64 *axes = NULL;
  const gint64 *pads = NULL;
  gsize n_pads = 0, n_axes = 0;
  guint rank, first = MAX_RANK, n_pairs = 0;
  const gint64 *shape;
  AneTensor *x = input0 (node, &rank, error);
  g_autoptr(AneTensor) cur = NULL;

  if (x == NULL || !ane_onnx_node_attr_string (node, "mode", "constant", &mode, error))
    return FALSE;
  shape = ane_onnx_node_input_shape (node, 0, &rank);
  if (rank > MAX_RANK)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "input has rank %u; at most %d is supported",
                                rank, MAX_RANK);
  if (!g_str_equal (mode, "constant") && !g_str_equal (mode, "reflect") && !g_str_equal (mode, "edge"))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "mode '%s' is not supported "
                                "(constant, reflect and edge are)", mode);
  if (opset < 11)
    {
      if (!ane_onnx_node_attr_ints (node, "pads", &pads, &n_pads, error) ||
          !ane_onnx_node_attr_float (node, "value", 0.0, &value, error))
        return FALSE;
    }
  else
    {
      if ((pads_in = ane_onnx_node_input_int64s (node, 1, "pads", &n_pads, error)) == NULL)
        return FALSE;
      pads = pads_in;
      if (ane_onnx_node_has_input (node, 2))
        {
          gsize n = 0;
          g_autofree float *v = ane_onnx_node_input_floats (node, 2, "constant_value", &n, error);

          if (v == NULL)
            return FALSE;
          if (n != 1)
            return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "constant_value has %" G_GSIZE_FORMAT
                                        " elements, not one", n);
          value = v[0];
        }
      if (ane_onnx_node_has_input (node, 3) &&
          (axes = ane_onnx_node_input_int64s (node, 3, "axes", &n_axes, error)) == NULL)
        return FALSE;
    }
  if (axes == NULL)
    {
      if (n_pads != 2 * (gsize) rank)
        return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "pads has %" G_GSIZE_FORMAT " entries; "
                                    "the input of rank %u needs %u", n_pads, rank, 2 * rank);
      for (guint d = 0; d < rank; d++)
        {
          begin[d] = pads[d];
          end[d] = pads[rank + d];
        }
    }
  else
    {
      if (n_pads != 2 * n_axes)
        return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "pads has %" G_GSIZE_FORMAT " entries "
                                    "for %" G_GSIZE_FORMAT " axes", n_pads, n_axes);
      for (gsize i = 0; i < n_axes; i++)
        {
          int a;

          if (!ane_onnx_node_normalize_axis (node, axes[i], rank, &a, error))
            return FALSE;
          begin[a] = pads[i];
          end[a] = pads[n_axes + i];
        }
    }

  /* the crop of negative amounts first */
  cur = g_object_ref (x);
  for (guint d = 0; d < rank; d++)
    if (begin[d] < 0 || end[d] < 0)
      {
        gint64 b = MAX (-begin[d], 0), e = MAX (-end[d], 0);
        AneTensor *cut;

        if (b + e > shape[d])
          return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "pads remove %" G_GINT64_FORMAT
                                      " of the %" G_GINT64_FORMAT " elements of axis %u", b + e, shape[d], d);
        cut = ane_graph_narrow (g, cur, (int) d, b, shape[d] - b - e, error);
        if (cut == NULL)
          return FALSE;
        g_object_unref (cur);
        cur = cut;
        begin[d] = MAX (begin[d], 0);
        end[d] = MAX (end[d], 0);
      }
  for (guint d = 0; d < rank && first == MAX_RANK; d++)
    if (begin[d] != 0 || end[d] != 0)
      first = d;
  if (first == MAX_RANK)
    return SET0 (node, g_object_ref (cur), error);
  for (guint d = first; d < rank; d++)
    {
      pairs[n_pairs++] = begin[d];
      pairs[n_pairs++] = end[d];
    }
  return SET0 (node, ane_graph_pad (g, cur, pairs, n_pairs, mode, value, error), error);
}

/* --- Erf, GatherElements, ArgMax / ArgMin, TopK, CumSum ----------------------------- */

static gboolean
convert_erf (AneOnnxNode *node,
             GError     **error)
{
  AneTensor *x = input0 (node, NULL, error);

  return x != NULL && SET0 (node, ane_graph_erf (ane_onnx_node_graph (node), x, error), error);
}

/* GatherElements (opset 11; 13 only widened the types). */
static gboolean
convert_gather_elements (AneOnnxNode *node,
                         GError     **error)
{
  gint64 axis;
  AneTensor *x = input0 (node, NULL, error);
  AneTensor *idx = x ? ane_onnx_node_input (node, 1, error) : NULL;

  if (idx == NULL || !ane_onnx_node_attr_int (node, "axis", 0, &axis, error))
    return FALSE;
  return SET0 (node, ane_graph_gather_elements (ane_onnx_node_graph (node), x, idx, (int) axis, error), error);
}

/* ArgMax / ArgMin: axis (default 0), keepdims (default 1); opset 12 adds
 * select_last_index, of which only 0 (the first extreme, numpy's) is
 * supported. The int64 result is int32 in the graph (ane-onnx-private.h). */
static gboolean
convert_arg (AneOnnxNode *node,
             GError     **error)
{
  gint64 axis, keepdims, last;
  AneGraph *g = ane_onnx_node_graph (node);
  AneTensor *x = input0 (node, NULL, error);

  if (x == NULL || !ane_onnx_node_attr_int (node, "axis", 0, &axis, error) ||
      !ane_onnx_node_attr_int (node, "keepdims", 1, &keepdims, error) ||
      !ane_onnx_node_attr_int (node, "select_last_index", 0, &last, error))
    return FALSE;
  if (last != 0)
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                "select_last_index = %" G_GINT64_FORMAT " is not supported (only 0, the first "
                                "index of equal values)", last);
  if (g_str_equal (ane_onnx_node_op_type (node), "ArgMax"))
    return SET0 (node, ane_graph_argmax (g, x, (int) axis, keepdims != 0, error), error);
  return SET0 (node, ane_graph_argmin (g, x, (int) axis, keepdims != 0, error), error);
}

/* TopK. Opset 1: k attribute; 10: K input (int64 [1]); 11: largest and
 * sorted. Smallest-k is the top k of -x, negated back (floats only).
 * sorted = 0 leaves the order unspecified, so the sorted order is valid.
 * Ties: ONNX Runtime and the IR both keep the lower index first. */
static gboolean
convert_topk (AneOnnxNode *node,
              GError     **error)
{
  AneGraph *g = ane_onnx_node_graph (node);
  gint64 k = 0, axis, largest;
  AneTensor *x = input0 (node, NULL, error);
  g_autoptr(AneTensor) src = NULL;
  g_autoptr(AneTensor) values = NULL;
  AneTensor *indices = NULL;

  if (x == NULL || !ane_onnx_node_attr_int (node, "axis", -1, &axis, error) ||
      !ane_onnx_node_attr_int (node, "largest", 1, &largest, error))
    return FALSE;
  if (ane_onnx_node_opset (node) < 10)
    {
      if (!ane_onnx_node_attr_int (node, "k", 0, &k, error))
        return FALSE;
    }
  else
    {
      gsize n = 0;
      g_autofree gint64 *kv = ane_onnx_node_input_int64s (node, 1, "k", &n, error);

      if (kv == NULL)
        return FALSE;
      if (n != 1)
        return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "K has %" G_GSIZE_FORMAT " elements, not one", n);
      k = kv[0];
    }
  if (!largest && !ane_dtype_is_float (ane_onnx_node_input_dtype (node, 0)))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "largest = 0 is supported for float "
                                "inputs only");
  src = largest ? g_object_ref (x) : ane_graph_neg (g, x, error);
  if (src == NULL || (values = ane_graph_top_k (g, src, k, (int) axis, &indices, error)) == NULL)
    return FALSE;
  if (!ane_onnx_node_set_output (node, 1, indices, error))
    return FALSE;
  return SET0 (node, largest ? g_object_ref (values) : ane_graph_neg (g, values, error), error);
}

/* CumSum (opset 11): axis is a scalar input, exclusive and reverse are
 * attributes with tf.math.cumsum's meaning, as the IR's. */
static gboolean
convert_cumsum (AneOnnxNode *node,
                GError     **error)
{
  gint64 exclusive, reverse;
  gsize n = 0;
  AneTensor *x = input0 (node, NULL, error);
  g_autofree gint64 *axis = x ? ane_onnx_node_input_int64s (node, 1, "axis", &n, error) : NULL;

  if (axis == NULL || !ane_onnx_node_attr_int (node, "exclusive", 0, &exclusive, error) ||
      !ane_onnx_node_attr_int (node, "reverse", 0, &reverse, error))
    return FALSE;
  if (n != 1)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "axis has %" G_GSIZE_FORMAT " elements, not one", n);
  return SET0 (node, ane_graph_cumsum (ane_onnx_node_graph (node), x, (int) axis[0], exclusive != 0,
                                       reverse != 0, error), error);
}

/* --- normalization ------------------------------------------------------------------ */

/* InstanceNormalization: each (n, c) normalized over the spatial axes, then
 * scale[c], B[c] -- group_norm with one group per channel. */
static gboolean
convert_instance_norm (AneOnnxNode *node,
                       GError     **error)
{
  double eps;
  guint rank;
  const gint64 *shape;
  AneTensor *x = input0 (node, &rank, error);
  AneTensor *scale = x ? ane_onnx_node_input (node, 1, error) : NULL;
  AneTensor *bias = scale ? ane_onnx_node_input (node, 2, error) : NULL;

  if (bias == NULL || !ane_onnx_node_attr_float (node, "epsilon", 1e-5, &eps, error))
    return FALSE;
  shape = ane_onnx_node_input_shape (node, 0, &rank);
  if (rank < 3)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "input has rank %u; it must be [N, C, D1, ...]", rank);
  return SET0 (node, ane_graph_group_norm (ane_onnx_node_graph (node), x, scale, bias, shape[1], eps, error),
               error);
}

/* Scale or B of LayerNormalization as the normalized dims' shape (ONNX
 * lets them broadcast to it; the IR wants the exact shape). */
static AneTensor *
norm_param (AneOnnxNode  *node,
            guint         i,
            const gint64 *norm_shape,
            guint         n_norm,
            GError      **error)
{
  guint rank;
  const gint64 *shape;
  AneTensor *p = ane_onnx_node_input_optional (node, i, error);

  if (p == NULL)
    return NULL;
  shape = ane_onnx_node_input_shape (node, i, &rank);
  if (rank == n_norm && memcmp (shape, norm_shape, n_norm * sizeof (gint64)) == 0)
    return g_object_ref (p);
  if (rank > n_norm)
    {
      gint64 n = 1, m = 1;

      for (guint d = 0; d < rank; d++)
        n *= shape[d];
      for (guint d = 0; d < n_norm; d++)
        m *= norm_shape[d];
      if (n != m)
        {
          ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "input %u does not fit the normalized dims", i);
          return NULL;
        }
      return ane_graph_reshape (ane_onnx_node_graph (node), p, norm_shape, n_norm, error);
    }
  return ane_graph_expand (ane_onnx_node_graph (node), p, norm_shape, n_norm, error);
}

/* LayerNormalization (opset 17): normalized over axis .. rank-1 (axis
 * default -1), epsilon default 1e-5; the optional Mean and InvStdDev
 * outputs (training) are refused when used. */
static gboolean
convert_layer_norm (AneOnnxNode *node,
                    GError     **error)
{
  double eps;
  gint64 axis;
  int a;
  guint rank;
  gint64 axes[MAX_RANK];
  const gint64 *shape;
  AneTensor *x = input0 (node, &rank, error);
  g_autoptr(AneTensor) scale = NULL;
  g_autoptr(AneTensor) bias = NULL;

  if (x == NULL || !ane_onnx_node_attr_float (node, "epsilon", 1e-5, &eps, error) ||
      !ane_onnx_node_attr_int (node, "axis", -1, &axis, error))
    return FALSE;
  shape = ane_onnx_node_input_shape (node, 0, &rank);
  if (!ane_onnx_node_normalize_axis (node, axis, rank, &a, error))
    return FALSE;
  if (ane_onnx_node_output_wanted (node, 1) || ane_onnx_node_output_wanted (node, 2))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                "the Mean and InvStdDev outputs are not supported (inference only)");
  for (guint d = (guint) a; d < rank; d++)
    axes[d - a] = d;
  if ((scale = norm_param (node, 1, shape + a, rank - a, error)) == NULL)
    return FALSE;
  bias = norm_param (node, 2, shape + a, rank - a, error);
  if (bias == NULL && error != NULL && *error != NULL)
    return FALSE;
  return SET0 (node, ane_graph_layer_norm (ane_onnx_node_graph (node), x, scale, bias, axes, rank - a, eps,
                                           error), error);
}

/* --- ReduceL2 ------------------------------------------------------------------------- */

/* The axes of a Reduce* node: the "axes" attribute before opset 18 (13 for
 * ReduceSum, which the core converters handle), the optional second input
 * from then on, with noop_with_empty_axes. *noop is set when the node is the
 * identity. */
static gboolean
reduce_axes (AneOnnxNode *node,
             gint64     **axes,
             gsize       *n,
             gboolean    *noop,
             GError     **error)
{
  *axes = NULL;
  *n = 0;
  *noop = FALSE;
  if (ane_onnx_node_opset (node) < 18)
    {
      const gint64 *a;

      if (!ane_onnx_node_attr_ints (node, "axes", &a, n, error))
        return FALSE;
      *axes = *n ? g_memdup2 (a, *n * sizeof (gint64)) : NULL;
      return TRUE;
    }
  else
    {
      gint64 noop_empty;

      if (!ane_onnx_node_attr_int (node, "noop_with_empty_axes", 0, &noop_empty, error))
        return FALSE;
      if (ane_onnx_node_has_input (node, 1) &&
          (*axes = ane_onnx_node_input_int64s (node, 1, "axes", n, error)) == NULL &&
          error != NULL && *error != NULL)
        return FALSE;
      *noop = *n == 0 && noop_empty != 0;
      return TRUE;
    }
}

/* ReduceL2 = sqrt(sum(x²)) over axes (all when none), keepdims default 1. */
static gboolean
convert_reduce_l2 (AneOnnxNode *node,
                   GError     **error)
{
  AneGraph *g = ane_onnx_node_graph (node);
  gint64 keepdims;
  gboolean noop;
  gsize n;
  g_autofree gint64 *axes = NULL;
  AneTensor *x = input0 (node, NULL, error);
  g_autoptr(AneTensor) sq = NULL;
  g_autoptr(AneTensor) sum = NULL;

  if (x == NULL || !ane_onnx_node_attr_int (node, "keepdims", 1, &keepdims, error) ||
      !reduce_axes (node, &axes, &n, &noop, error))
    return FALSE;
  if (noop)
    return SET0 (node, g_object_ref (x), error);
  if ((sq = ane_graph_mul (g, x, x, error)) == NULL ||
      (sum = ane_graph_reduce_sum (g, sq, axes, n, keepdims != 0, error)) == NULL)
    return FALSE;
  return SET0 (node, ane_graph_sqrt (g, sum, error), error);
}

/* --- Split ------------------------------------------------------------------------------ */

/* Split. Opsets 2-12: a "split" attribute (sizes); 13: a split input; 18:
 * num_outputs, with the last chunk smaller when the axis does not divide
 * (Operators.md, Split-18: "the last chunk will be smaller"). Without sizes
 * the axis is divided evenly among the outputs. Each output is a narrow. */
static gboolean
convert_split (AneOnnxNode *node,
               GError     **error)
{
  AneGraph *g = ane_onnx_node_graph (node);
  gint64 axis, num_outputs;
  guint rank, n_out = ane_onnx_node_n_outputs (node);
  int a;
  const gint64 *shape;
  g_autofree gint64 *sizes = NULL;
  gsize n_sizes = 0;
  gint64 start = 0, dim, total = 0;
  AneTensor *x = input0 (node, &rank, error);

  if (x == NULL || !ane_onnx_node_attr_int (node, "axis", 0, &axis, error) ||
      !ane_onnx_node_attr_int (node, "num_outputs", 0, &num_outputs, error))
    return FALSE;
  shape = ane_onnx_node_input_shape (node, 0, &rank);
  if (!ane_onnx_node_normalize_axis (node, axis, rank, &a, error))
    return FALSE;
  dim = shape[a];
  if (ane_onnx_node_opset (node) < 13)
    {
      const gint64 *s;

      if (!ane_onnx_node_attr_ints (node, "split", &s, &n_sizes, error))
        return FALSE;
      sizes = n_sizes ? g_memdup2 (s, n_sizes * sizeof (gint64)) : NULL;
    }
  else if (ane_onnx_node_has_input (node, 1) &&
           (sizes = ane_onnx_node_input_int64s (node, 1, "split", &n_sizes, error)) == NULL)
    return FALSE;
  if (sizes == NULL)
    {
      gint64 parts = num_outputs > 0 ? num_outputs : n_out, chunk;

      if (parts <= 0 || parts != (gint64) n_out)
        return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT, "num_outputs %" G_GINT64_FORMAT
                                    " does not match the node's %u outputs", parts, n_out);
      chunk = num_outputs > 0 ? (dim + parts - 1) / parts : dim / parts;
      if (num_outputs == 0 && dim % parts != 0)
        return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "axis %d of size %" G_GINT64_FORMAT
                                    " does not split evenly into %" G_GINT64_FORMAT " outputs", a, dim, parts);
      n_sizes = (gsize) parts;
      sizes = g_new (gint64, n_sizes);
      for (gsize i = 0; i < n_sizes; i++)
        sizes[i] = MAX (MIN (chunk, dim - (gint64) i * chunk), 0);
    }
  if (n_sizes != n_out)
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT, "split has %" G_GSIZE_FORMAT
                                " sizes for %u outputs", n_sizes, n_out);
  for (gsize i = 0; i < n_sizes; i++)
    {
      if (sizes[i] < 0)
        return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT, "split size %" G_GINT64_FORMAT
                                    " is negative", sizes[i]);
      total += sizes[i];
    }
  if (total != dim)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "the split sizes add up to %" G_GINT64_FORMAT
                                ", axis %d has %" G_GINT64_FORMAT, total, a, dim);
  for (guint i = 0; i < n_out; i++)
    {
      if (ane_onnx_node_output_wanted (node, i) &&
          !ane_onnx_node_set_output (node, i, ane_graph_narrow (g, x, a, start, sizes[i], error), error))
        return FALSE;
      start += sizes[i];
    }
  return TRUE;
}

/* --- Einsum ----------------------------------------------------------------------------- */

typedef struct {
  char   letters[2][MAX_RANK + 1];
  guint  n_in;
  char   out[MAX_RANK + 1];
} Equation;

/* "ab,bc->ac" into its terms; FALSE for what is not supported: an
 * ellipsis, an implicit output (no "->"), more than two operands, a letter
 * repeated within one term (diagonals, traces). */
static gboolean
parse_equation (const char *eq,
                Equation   *e)
{
  const char *arrow = strstr (eq, "->");
  const char *p = eq;
  guint len = 0;

  memset (e, 0, sizeof *e);
  if (arrow == NULL || strchr (eq, '.') != NULL)
    return FALSE;
  for (; p < arrow; p++)
    {
      if (*p == ' ')
        continue;
      if (*p == ',')
        {
          if (++e->n_in > 1)
            return FALSE;
          len = 0;
          continue;
        }
      if (!g_ascii_isalpha (*p) || len >= MAX_RANK || strchr (e->letters[e->n_in], *p) != NULL)
        return FALSE;
      e->letters[e->n_in][len++] = *p;
    }
  e->n_in++;
  len = 0;
  for (p = arrow + 2; *p; p++)
    {
      if (*p == ' ')
        continue;
      if (!g_ascii_isalpha (*p) || len >= MAX_RANK || strchr (e->out, *p) != NULL)
        return FALSE;
      e->out[len++] = *p;
    }
  return TRUE;
}

static int
letter_at (const char *term,
           char        c)
{
  const char *p = strchr (term, c);

  return p == NULL ? -1 : (int) (p - term);
}

/* A transpose by perm unless it is the identity (a new reference either way). */
static AneTensor *
permute (AneGraph     *g,
         AneTensor    *x,
         const gint64 *perm,
         guint         rank,
         GError      **error)
{
  for (guint i = 0; i < rank; i++)
    if (perm[i] != i)
      return ane_graph_transpose (g, x, perm, rank, error);
  return g_object_ref (x);
}

/* One operand: letters missing from the output are summed, the rest are
 * permuted into the output's order. */
static gboolean
einsum_unary (AneOnnxNode   *node,
              const Equation *e,
              GError       **error)
{
  AneGraph *g = ane_onnx_node_graph (node);
  const char *in = e->letters[0];
  gint64 axes[MAX_RANK], perm[MAX_RANK];
  char kept[MAX_RANK + 1] = { 0, };
  guint n_axes = 0, n_kept = 0, out_len = strlen (e->out), rank;
  AneTensor *x = input0 (node, &rank, error);
  g_autoptr(AneTensor) summed = NULL;

  if (x == NULL)
    return FALSE;
  if (rank != strlen (in))
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "equation term '%s' does not match the input's "
                                "rank %u", in, rank);
  for (guint i = 0; in[i]; i++)
    if (strchr (e->out, in[i]) == NULL)
      axes[n_axes++] = i;
    else
      kept[n_kept++] = in[i];
  if (n_kept != out_len)
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT, "the output of equation '%s' names a "
                                "letter the input does not have", e->out);
  summed = n_axes ? ane_graph_reduce_sum (g, x, axes, n_axes, FALSE, error) : g_object_ref (x);
  if (summed == NULL)
    return FALSE;
  for (guint i = 0; i < out_len; i++)
    perm[i] = letter_at (kept, e->out[i]);
  return SET0 (node, permute (g, summed, perm, out_len, error), error);
}

/* Two operands as one batched matmul: letters in both inputs and the output
 * are batch dims, in both inputs only are contracted, in one input and the
 * output are its free dims. A is permuted to [batch, freeA, contracted] and
 * B to [batch, contracted, freeB], both flattened to rank 3, multiplied,
 * reshaped to [batch, freeA, freeB] and permuted to the output's order.
 * Shapes must agree exactly on shared letters (no broadcasting). */
static gboolean
einsum_binary (AneOnnxNode    *node,
               const Equation *e,
               const char     *eq,
               GError        **error)
{
  AneGraph *g = ane_onnx_node_graph (node);
  const char *ta = e->letters[0], *tb = e->letters[1];
  char batch[MAX_RANK + 1] = { 0, }, fa[MAX_RANK + 1] = { 0, }, fb[MAX_RANK + 1] = { 0, };
  char con[MAX_RANK + 1] = { 0, }, mid[3 * MAX_RANK + 1] = { 0, };
  guint nb = 0, nfa = 0, nfb = 0, nc = 0, ra, rb, out_len = strlen (e->out);
  gint64 pa[MAX_RANK], pb[MAX_RANK], dims[128] = { 0, }, pout[MAX_RANK], mid_shape[3 * MAX_RANK];
  gint64 sb = 1, sfa = 1, sfb = 1, sc = 1, a3[3], b3[3];
  const gint64 *sa, *sbs;
  AneTensor *a = input0 (node, NULL, error);
  AneTensor *b = a ? ane_onnx_node_input (node, 1, error) : NULL;
  g_autoptr(AneTensor) at = NULL;
  g_autoptr(AneTensor) bt = NULL;
  g_autoptr(AneTensor) a_flat = NULL;
  g_autoptr(AneTensor) b_flat = NULL;
  g_autoptr(AneTensor) prod = NULL;
  g_autoptr(AneTensor) unflat = NULL;
  guint k = 0;

  if (b == NULL)
    return FALSE;
  sa = ane_onnx_node_input_shape (node, 0, &ra);
  sbs = ane_onnx_node_input_shape (node, 1, &rb);
  if (ra != strlen (ta) || rb != strlen (tb))
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "equation '%s' does not match the inputs' ranks "
                                "%u and %u", eq, ra, rb);
  for (guint i = 0; i < ra; i++)
    dims[(guchar) ta[i]] = sa[i];
  for (guint i = 0; i < rb; i++)
    {
      if (dims[(guchar) tb[i]] != 0 && dims[(guchar) tb[i]] != sbs[i])
        return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "equation '%s': letter '%c' has sizes %"
                                    G_GINT64_FORMAT " and %" G_GINT64_FORMAT " (broadcasting is not supported)",
                                    eq, tb[i], dims[(guchar) tb[i]], sbs[i]);
      dims[(guchar) tb[i]] = sbs[i];
    }
  for (guint i = 0; i < out_len; i++)
    if (strchr (ta, e->out[i]) == NULL && strchr (tb, e->out[i]) == NULL)
      return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT, "equation '%s': the output letter "
                                  "'%c' is in no input", eq, e->out[i]);
  for (guint i = 0; i < ra; i++)
    {
      gboolean in_b = strchr (tb, ta[i]) != NULL, in_out = strchr (e->out, ta[i]) != NULL;

      if (in_b && in_out)
        batch[nb++] = ta[i];
      else if (in_b)
        con[nc++] = ta[i];
      else if (in_out)
        fa[nfa++] = ta[i];
      else
        return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "equation '%s': letter '%c' is summed "
                                    "within one operand, which is not supported", eq, ta[i]);
    }
  for (guint i = 0; i < rb; i++)
    if (strchr (ta, tb[i]) == NULL)
      {
        if (strchr (e->out, tb[i]) == NULL)
          return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED, "equation '%s': letter '%c' is "
                                      "summed within one operand, which is not supported", eq, tb[i]);
        fb[nfb++] = tb[i];
      }
  /* A -> [batch, freeA, contracted]; B -> [batch, contracted, freeB] */
  for (guint i = 0; i < nb; i++)
    {
      pa[k] = letter_at (ta, batch[i]);
      pb[k++] = letter_at (tb, batch[i]);
      sb *= dims[(guchar) batch[i]];
    }
  for (guint i = 0; i < nfa; i++)
    {
      pa[nb + i] = letter_at (ta, fa[i]);
      sfa *= dims[(guchar) fa[i]];
    }
  for (guint i = 0; i < nc; i++)
    {
      pa[nb + nfa + i] = letter_at (ta, con[i]);
      pb[nb + i] = letter_at (tb, con[i]);
      sc *= dims[(guchar) con[i]];
    }
  for (guint i = 0; i < nfb; i++)
    {
      pb[nb + nc + i] = letter_at (tb, fb[i]);
      sfb *= dims[(guchar) fb[i]];
    }
  a3[0] = sb; a3[1] = sfa; a3[2] = sc;
  b3[0] = sb; b3[1] = sc; b3[2] = sfb;
  if ((at = permute (g, a, pa, ra, error)) == NULL || (bt = permute (g, b, pb, rb, error)) == NULL ||
      (a_flat = ane_graph_reshape (g, at, a3, 3, error)) == NULL ||
      (b_flat = ane_graph_reshape (g, bt, b3, 3, error)) == NULL ||
      (prod = ane_graph_matmul (g, a_flat, b_flat, FALSE, FALSE, error)) == NULL)
    return FALSE;
  /* [batch, freeA, freeB] and then the output's order */
  strcat (mid, batch);
  strcat (mid, fa);
  strcat (mid, fb);
  for (guint i = 0; mid[i]; i++)
    mid_shape[i] = dims[(guchar) mid[i]];
  if (strlen (mid) == 0)
    {
      static const gint64 scalar_shape[1] = { 1 };

      unflat = ane_graph_reshape (g, prod, scalar_shape, 0, error);
    }
  else
    unflat = ane_graph_reshape (g, prod, mid_shape, strlen (mid), error);
  if (unflat == NULL)
    return FALSE;
  for (guint i = 0; i < out_len; i++)
    pout[i] = letter_at (mid, e->out[i]);
  return SET0 (node, permute (g, unflat, pout, out_len, error), error);
}

/* Einsum (opset 12) for the common patterns: one operand (permutes and
 * sums) and two operands that form a batched matmul; the rest is refused
 * naming the equation. */
static gboolean
convert_einsum (AneOnnxNode *node,
                GError     **error)
{
  const char *eq;
  Equation e;

  if (!ane_onnx_node_attr_string (node, "equation", NULL, &eq, error))
    return FALSE;
  if (eq == NULL)
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT, "the equation attribute is missing");
  if (!parse_equation (eq, &e) || e.n_in != ane_onnx_node_n_inputs (node))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                "equation '%s' is not supported (one or two operands with an explicit "
                                "'->' output, no ellipsis, no letter repeated within a term)", eq);
  if (e.n_in == 1)
    return einsum_unary (node, &e, error);
  return einsum_binary (node, &e, eq, error);
}

const AneOnnxConverter ane_onnx_converters_extra[] = {
  { "Pad",                   2,  convert_pad,             0 },
  { "Pad",                   11, convert_pad,             0 },
  { "Erf",                   9,  convert_erf,             0 },
  { "GatherElements",        11, convert_gather_elements, 0 },
  { "ArgMax",                1,  convert_arg,             0 },
  { "ArgMin",                1,  convert_arg,             0 },
  { "TopK",                  1,  convert_topk,            0 },
  { "CumSum",                11, convert_cumsum,          0 },
  { "InstanceNormalization", 6,  convert_instance_norm,   0 },
  { "LayerNormalization",    17, convert_layer_norm,      0 },
  { "ReduceL2",              1,  convert_reduce_l2,       0 },
  { "Split",                 2,  convert_split,           0 },
  { "Einsum",                12, convert_einsum,          0 },
  { NULL }
};
