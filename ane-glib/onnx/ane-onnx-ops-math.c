/* ane-onnx-ops-math.c: converters for elementwise math, activations,
 * comparisons and logic, reductions, Softmax and matrix products.
 *
 * Semantics from onnx/onnx docs/Operators.md (the op's section) and
 * docs/Changelog.md (the version that changed it). ONNX's elementwise ops
 * broadcast as numpy (docs/Broadcasting.md, "multidirectional"), as the
 * graph's binary ops do, so they map one to one.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <float.h>
#include <math.h>

#include "ane-onnx-private.h"

typedef AneTensor *(*UnaryBuilder)  (AneGraph *, AneTensor *, GError **);
typedef AneTensor *(*BinaryBuilder) (AneGraph *, AneTensor *, AneTensor *, GError **);

static gboolean
set0 (AneOnnxNode *node,
      AneTensor   *value,
      GError     **error)
{
  return ane_onnx_node_set_output (node, 0, value, error);
}

/* Keeps intermediate tensors alive until the converter returns. */
static AneTensor *
keep (GPtrArray *pool,
      AneTensor *t)
{
  if (t != NULL)
    g_ptr_array_add (pool, t);
  return t;
}

static AneTensor *
scalar_like (AneOnnxNode *node,
             AneTensor   *like,
             double       value,
             GError     **error)
{
  return ane_graph_scalar (ane_onnx_node_graph (node), ane_tensor_get_dtype (like), value, error);
}

static gboolean
unary (AneOnnxNode  *node,
       UnaryBuilder  build,
       GError      **error)
{
  AneTensor *x = ane_onnx_node_input (node, 0, error);

  return x != NULL && set0 (node, build (ane_onnx_node_graph (node), x, error), error);
}

static gboolean
binary (AneOnnxNode   *node,
        BinaryBuilder  build,
        GError       **error)
{
  AneTensor *a = ane_onnx_node_input (node, 0, error);
  AneTensor *b = a ? ane_onnx_node_input (node, 1, error) : NULL;

  return b != NULL && set0 (node, build (ane_onnx_node_graph (node), a, b, error), error);
}

#define UNARY(onnx_name, builder) \
  static gboolean convert_##onnx_name (AneOnnxNode *node, GError **error) \
  { return unary (node, builder, error); }
#define BINARY(onnx_name, builder) \
  static gboolean convert_##onnx_name (AneOnnxNode *node, GError **error) \
  { return binary (node, builder, error); }

UNARY (relu, ane_graph_relu)
UNARY (sigmoid, ane_graph_sigmoid)
UNARY (tanh, ane_graph_tanh)
UNARY (sqrt, ane_graph_sqrt)
UNARY (exp, ane_graph_exp)
UNARY (log, ane_graph_log)
UNARY (abs, ane_graph_abs)
UNARY (neg, ane_graph_neg)
UNARY (sin, ane_graph_sin)
UNARY (cos, ane_graph_cos)
UNARY (round, ane_graph_round)
BINARY (add, ane_graph_add)
BINARY (sub, ane_graph_sub)
BINARY (mul, ane_graph_mul)
BINARY (div, ane_graph_div)
BINARY (equal, ane_graph_eq)
BINARY (less, ane_graph_lt)
BINARY (less_equal, ane_graph_le)
BINARY (greater, ane_graph_gt)
BINARY (greater_equal, ane_graph_ge)

/* Max/Min (Operators.md "Max", "Min"): variadic, folded pairwise. */
static gboolean
variadic (AneOnnxNode   *node,
          BinaryBuilder  build,
          GError       **error)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func (g_object_unref);
  AneTensor *acc = ane_onnx_node_input (node, 0, error);

  if (acc == NULL)
    return FALSE;
  for (guint i = 1; i < ane_onnx_node_n_inputs (node); i++)
    {
      AneTensor *b = ane_onnx_node_input (node, i, error);

      if (b == NULL || (acc = keep (pool, build (ane_onnx_node_graph (node), acc, b, error))) == NULL)
        return ane_onnx_node_set_output (node, 0, NULL, error);
    }
  return set0 (node, g_object_ref (acc), error);
}

static gboolean
convert_max (AneOnnxNode *node, GError **error)
{
  return variadic (node, ane_graph_maximum, error);
}

static gboolean
convert_min (AneOnnxNode *node, GError **error)
{
  return variadic (node, ane_graph_minimum, error);
}

/* Pow (Operators.md "Pow"): since opset 12 the exponent may have another
 * type than the base; it is cast to the base's. */
static gboolean
convert_pow (AneOnnxNode *node,
             GError     **error)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func (g_object_unref);
  AneGraph *g = ane_onnx_node_graph (node);
  AneTensor *a = ane_onnx_node_input (node, 0, error);
  AneTensor *b = a ? ane_onnx_node_input (node, 1, error) : NULL;

  if (b == NULL)
    return FALSE;
  if (ane_tensor_get_dtype (b) != ane_tensor_get_dtype (a) &&
      (b = keep (pool, ane_graph_cast (g, b, ane_tensor_get_dtype (a), error))) == NULL)
    return ane_onnx_node_set_output (node, 0, NULL, error);
  return set0 (node, ane_graph_pow (g, a, b, error), error);
}

/* Reciprocal (Operators.md "Reciprocal"): 1 / x. */
static gboolean
convert_reciprocal (AneOnnxNode *node,
                    GError     **error)
{
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  g_autoptr(AneTensor) one = x ? scalar_like (node, x, 1.0, error) : NULL;

  return one != NULL && set0 (node, ane_graph_div (ane_onnx_node_graph (node), one, x, error), error);
}

/* max(lo, min(hi, alpha·x + beta)), HardSigmoid's formula
 * (Operators.md "HardSigmoid"). */
static AneTensor *
hard_sigmoid (AneOnnxNode *node,
              AneTensor   *x,
              double       alpha,
              double       beta,
              GPtrArray   *pool,
              GError     **error)
{
  AneGraph *g = ane_onnx_node_graph (node);
  AneTensor *t;

  if ((t = keep (pool, scalar_like (node, x, alpha, error))) == NULL ||
      (t = keep (pool, ane_graph_mul (g, x, t, error))) == NULL)
    return NULL;
  {
    AneTensor *b = keep (pool, scalar_like (node, x, beta, error));
    AneTensor *zero, *one;

    if (b == NULL || (t = keep (pool, ane_graph_add (g, t, b, error))) == NULL ||
        (zero = keep (pool, scalar_like (node, x, 0.0, error))) == NULL ||
        (one = keep (pool, scalar_like (node, x, 1.0, error))) == NULL ||
        (t = keep (pool, ane_graph_maximum (g, t, zero, error))) == NULL)
      return NULL;
    return ane_graph_minimum (g, t, one, error);
  }
}

static gboolean
convert_hard_sigmoid (AneOnnxNode *node,
                      GError     **error)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func (g_object_unref);
  double alpha, beta;
  AneTensor *x = ane_onnx_node_input (node, 0, error);

  if (x == NULL || !ane_onnx_node_attr_float (node, "alpha", 0.2, &alpha, error) ||
      !ane_onnx_node_attr_float (node, "beta", 0.5, &beta, error))
    return FALSE;
  return set0 (node, hard_sigmoid (node, x, alpha, beta, pool, error), error);
}

/* HardSwish (Operators.md "HardSwish"): x · HardSigmoid(x, 1/6, 0.5). */
static gboolean
convert_hard_swish (AneOnnxNode *node,
                    GError     **error)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func (g_object_unref);
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  AneTensor *h = x ? keep (pool, hard_sigmoid (node, x, 1.0 / 6.0, 0.5, pool, error)) : NULL;

  return h != NULL && set0 (node, ane_graph_mul (ane_onnx_node_graph (node), x, h, error), error);
}

/* where(x < 0, slope · x, x): LeakyRelu (alpha, default 0.01) and PRelu
 * (a slope tensor broadcast to x, Operators.md "PRelu"). */
static gboolean
negative_slope (AneOnnxNode *node,
                AneTensor   *x,
                AneTensor   *slope,
                GPtrArray   *pool,
                GError     **error)
{
  AneGraph *g = ane_onnx_node_graph (node);
  AneTensor *zero, *neg, *scaled;

  if ((zero = keep (pool, scalar_like (node, x, 0.0, error))) == NULL ||
      (neg = keep (pool, ane_graph_lt (g, x, zero, error))) == NULL ||
      (scaled = keep (pool, ane_graph_mul (g, x, slope, error))) == NULL)
    return ane_onnx_node_set_output (node, 0, NULL, error);
  return set0 (node, ane_graph_where (g, neg, scaled, x, error), error);
}

static gboolean
convert_leaky_relu (AneOnnxNode *node,
                    GError     **error)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func (g_object_unref);
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  AneTensor *slope;
  double alpha;

  if (x == NULL || !ane_onnx_node_attr_float (node, "alpha", 0.01, &alpha, error) ||
      (slope = keep (pool, scalar_like (node, x, alpha, error))) == NULL)
    return FALSE;
  return negative_slope (node, x, slope, pool, error);
}

static gboolean
convert_prelu (AneOnnxNode *node,
               GError     **error)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func (g_object_unref);
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  AneTensor *slope = x ? ane_onnx_node_input (node, 1, error) : NULL;

  return slope != NULL && negative_slope (node, x, slope, pool, error);
}

/* Clip (Operators.md "Clip"): min/max attributes before opset 11 (default
 * ∓FLT_MAX, i.e. none), optional inputs since. */
static gboolean
convert_clip (AneOnnxNode *node,
              GError     **error)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func (g_object_unref);
  AneGraph *g = ane_onnx_node_graph (node);
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  AneTensor *lo = NULL, *hi = NULL, *y;

  if (x == NULL)
    return FALSE;
  if (ane_onnx_node_opset (node) < 11)
    {
      double min, max;

      if (!ane_onnx_node_attr_float (node, "min", -FLT_MAX, &min, error) ||
          !ane_onnx_node_attr_float (node, "max", FLT_MAX, &max, error))
        return FALSE;
      if (min > -FLT_MAX && (lo = keep (pool, scalar_like (node, x, min, error))) == NULL)
        return FALSE;
      if (max < FLT_MAX && (hi = keep (pool, scalar_like (node, x, max, error))) == NULL)
        return FALSE;
    }
  else
    {
      GError *local = NULL;

      lo = ane_onnx_node_input_optional (node, 1, &local);
      hi = local == NULL ? ane_onnx_node_input_optional (node, 2, &local) : NULL;
      if (local != NULL)
        {
          g_propagate_error (error, local);
          return FALSE;
        }
    }
  y = x;
  if (lo != NULL && (y = keep (pool, ane_graph_maximum (g, y, lo, error))) == NULL)
    return ane_onnx_node_set_output (node, 0, NULL, error);
  if (hi != NULL && (y = keep (pool, ane_graph_minimum (g, y, hi, error))) == NULL)
    return ane_onnx_node_set_output (node, 0, NULL, error);
  return set0 (node, g_object_ref (y), error);
}

/* Not/And/Or/Xor on bools: computed on 0/1 int32 (Operators.md "Not",
 * "And", "Or", "Xor"). */
static AneTensor *
as_int (AneOnnxNode *node,
        guint        i,
        GPtrArray   *pool,
        GError     **error)
{
  AneTensor *x = ane_onnx_node_input (node, i, error);

  if (x == NULL)
    return NULL;
  return keep (pool, ane_graph_cast (ane_onnx_node_graph (node), x, ANE_DTYPE_INT32, error));
}

static gboolean
convert_not (AneOnnxNode *node,
             GError     **error)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func (g_object_unref);
  AneTensor *x = as_int (node, 0, pool, error);
  AneTensor *zero = x ? keep (pool, ane_graph_scalar (ane_onnx_node_graph (node), ANE_DTYPE_INT32, 0, error)) : NULL;

  if (zero == NULL)
    return ane_onnx_node_set_output (node, 0, NULL, error);
  return set0 (node, ane_graph_eq (ane_onnx_node_graph (node), x, zero, error), error);
}

static gboolean
logic2 (AneOnnxNode   *node,
        BinaryBuilder  combine,
        GError       **error)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func (g_object_unref);
  AneGraph *g = ane_onnx_node_graph (node);
  AneTensor *a = as_int (node, 0, pool, error);
  AneTensor *b = a ? as_int (node, 1, pool, error) : NULL;
  AneTensor *c = b ? keep (pool, combine (g, a, b, error)) : NULL;

  if (c == NULL)
    return ane_onnx_node_set_output (node, 0, NULL, error);
  return set0 (node, ane_graph_cast (g, c, ANE_DTYPE_BOOL, error), error);
}

static gboolean
convert_and (AneOnnxNode *node, GError **error)
{
  return logic2 (node, ane_graph_minimum, error);
}

static gboolean
convert_or (AneOnnxNode *node, GError **error)
{
  return logic2 (node, ane_graph_maximum, error);
}

static gboolean
convert_xor (AneOnnxNode *node, GError **error)
{
  return logic2 (node, ane_graph_ne, error);
}

/* Where (Operators.md "Where"). */
static gboolean
convert_where (AneOnnxNode *node,
               GError     **error)
{
  AneTensor *c = ane_onnx_node_input (node, 0, error);
  AneTensor *a = c ? ane_onnx_node_input (node, 1, error) : NULL;
  AneTensor *b = a ? ane_onnx_node_input (node, 2, error) : NULL;

  return b != NULL && set0 (node, ane_graph_where (ane_onnx_node_graph (node), c, a, b, error), error);
}

/* ---- reductions ---- */

typedef AneTensor *(*ReduceBuilder) (AneGraph *, AneTensor *, const gint64 *, guint, gboolean, GError **);

/* Reduce* (Operators.md "ReduceMean" etc.): axes an attribute until the
 * opset where it became input 1 (13 for ReduceSum, 18 for the others,
 * Changelog.md); no axes means all of them unless noop_with_empty_axes. */
static gboolean
reduce (AneOnnxNode   *node,
        ReduceBuilder  build,
        gint64         axes_input_since,
        GError       **error)
{
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  gint64 keepdims, noop;
  g_autofree gint64 *axes = NULL;
  gsize n = 0;
  gint64 all[ANE_MAX_RANK];
  guint rank;

  if (x == NULL || !ane_onnx_node_attr_int (node, "keepdims", 1, &keepdims, error) ||
      !ane_onnx_node_attr_int (node, "noop_with_empty_axes", 0, &noop, error))
    return FALSE;
  rank = ane_tensor_get_rank (x);
  if (ane_onnx_node_opset (node) >= axes_input_since)
    {
      if (ane_onnx_node_has_input (node, 1) &&
          (axes = ane_onnx_node_input_int64s (node, 1, "axes", &n, error)) == NULL)
        return FALSE;
    }
  else
    {
      const gint64 *a;

      if (!ane_onnx_node_attr_ints (node, "axes", &a, &n, error))
        return FALSE;
      axes = a ? g_memdup2 (a, MAX (n, 1) * sizeof (gint64)) : NULL;
    }
  if (n == 0)
    {
      if (noop)
        return set0 (node, g_object_ref (x), error);
      for (guint d = 0; d < rank; d++)
        all[d] = d;
      return set0 (node, build (ane_onnx_node_graph (node), x, all, rank, keepdims != 0, error), error);
    }
  return set0 (node, build (ane_onnx_node_graph (node), x, axes, (guint) n, keepdims != 0, error), error);
}

#define REDUCE(onnx_name, builder, since) \
  static gboolean convert_##onnx_name (AneOnnxNode *node, GError **error) \
  { return reduce (node, builder, since, error); }

REDUCE (reduce_mean, ane_graph_reduce_mean, 18)
REDUCE (reduce_sum, ane_graph_reduce_sum, 13)
REDUCE (reduce_max, ane_graph_reduce_max, 18)
REDUCE (reduce_min, ane_graph_reduce_min, 18)
REDUCE (reduce_prod, ane_graph_reduce_prod, 18)

/* ---- Softmax ---- */

/* Softmax/LogSoftmax (Operators.md; Changelog.md "Softmax-13"): before
 * opset 13 the input is coerced to 2-D at axis (default 1) and normalised
 * over the whole second half; since 13 over one axis (default -1). */
static gboolean
softmax (AneOnnxNode *node,
         gboolean     log_of,
         GError     **error)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func (g_object_unref);
  AneGraph *g = ane_onnx_node_graph (node);
  AneTensor *x = ane_onnx_node_input (node, 0, error);
  gboolean legacy = ane_onnx_node_opset (node) < 13;
  gint64 axis;
  int a;
  guint rank;
  const gint64 *xs;
  AneTensor *y;

  if (x == NULL || !ane_onnx_node_attr_int (node, "axis", legacy ? 1 : -1, &axis, error))
    return FALSE;
  xs = ane_tensor_get_shape (x, &rank);
  if (!ane_onnx_node_normalize_axis (node, axis, MAX (rank, 1), &a, error))
    return FALSE;
  if (legacy && (guint) a != rank - 1)
    {
      gint64 flat[2] = { 1, 1 };
      AneTensor *f, *s;

      for (guint d = 0; d < rank; d++)
        flat[(int) d < a ? 0 : 1] *= xs[d];
      if ((f = keep (pool, ane_graph_reshape (g, x, flat, 2, error))) == NULL ||
          (s = keep (pool, ane_graph_softmax (g, f, 1, error))) == NULL ||
          (y = keep (pool, ane_graph_reshape (g, s, xs, rank, error))) == NULL)
        return ane_onnx_node_set_output (node, 0, NULL, error);
    }
  else if ((y = keep (pool, ane_graph_softmax (g, x, a, error))) == NULL)
    return ane_onnx_node_set_output (node, 0, NULL, error);
  if (log_of)
    return set0 (node, ane_graph_log (g, y, error), error);
  return set0 (node, g_object_ref (y), error);
}

static gboolean
convert_softmax (AneOnnxNode *node, GError **error)
{
  return softmax (node, FALSE, error);
}

static gboolean
convert_log_softmax (AneOnnxNode *node, GError **error)
{
  return softmax (node, TRUE, error);
}

/* ---- products ---- */

/* MatMul (Operators.md "MatMul"): numpy.matmul, as ane_graph_matmul. */
static gboolean
convert_matmul (AneOnnxNode *node,
                GError     **error)
{
  AneTensor *a = ane_onnx_node_input (node, 0, error);
  AneTensor *b = a ? ane_onnx_node_input (node, 1, error) : NULL;

  return b != NULL && set0 (node, ane_graph_matmul (ane_onnx_node_graph (node), a, b, FALSE, FALSE, error), error);
}

/* Gemm (Operators.md "Gemm"): alpha · A' · B' + beta · C, A' and B'
 * optionally transposed, C broadcast (unidirectionally) to [M, N]. */
static gboolean
convert_gemm (AneOnnxNode *node,
              GError     **error)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func (g_object_unref);
  AneGraph *g = ane_onnx_node_graph (node);
  gint64 ta, tb;
  double alpha, beta;
  AneTensor *a, *b, *c = NULL, *y;
  GError *local = NULL;

  if (!ane_onnx_node_attr_int (node, "transA", 0, &ta, error) ||
      !ane_onnx_node_attr_int (node, "transB", 0, &tb, error) ||
      !ane_onnx_node_attr_float (node, "alpha", 1.0, &alpha, error) ||
      !ane_onnx_node_attr_float (node, "beta", 1.0, &beta, error))
    return FALSE;
  a = ane_onnx_node_input (node, 0, error);
  b = a ? ane_onnx_node_input (node, 1, error) : NULL;
  if (b == NULL)
    return FALSE;
  c = ane_onnx_node_input_optional (node, 2, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if ((y = keep (pool, ane_graph_matmul (g, a, b, ta != 0, tb != 0, error))) == NULL)
    return ane_onnx_node_set_output (node, 0, NULL, error);
  if (alpha != 1.0)
    {
      AneTensor *s = keep (pool, scalar_like (node, y, alpha, error));

      if (s == NULL || (y = keep (pool, ane_graph_mul (g, y, s, error))) == NULL)
        return ane_onnx_node_set_output (node, 0, NULL, error);
    }
  if (c != NULL && beta != 0.0)
    {
      if (beta != 1.0)
        {
          AneTensor *s = keep (pool, scalar_like (node, c, beta, error));

          if (s == NULL || (c = keep (pool, ane_graph_mul (g, c, s, error))) == NULL)
            return ane_onnx_node_set_output (node, 0, NULL, error);
        }
      if ((y = keep (pool, ane_graph_add (g, y, c, error))) == NULL)
        return ane_onnx_node_set_output (node, 0, NULL, error);
    }
  return set0 (node, g_object_ref (y), error);
}

const AneOnnxConverter ane_onnx_converters_math[] = {
  { "Add",                7,  convert_add,                0 },
  { "Sub",                7,  convert_sub,                0 },
  { "Mul",                7,  convert_mul,                0 },
  { "Div",                7,  convert_div,                0 },
  { "Pow",                7,  convert_pow,                0 },
  { "Max",                8,  convert_max,               0 },
  { "Min",                8,  convert_min,               0 },
  { "Sqrt",               6,  convert_sqrt,               0 },
  { "Exp",                6,  convert_exp,                0 },
  { "Log",                6,  convert_log,                0 },
  { "Abs",                6,  convert_abs,                0 },
  { "Neg",                6,  convert_neg,                0 },
  { "Sin",                7,  convert_sin,                0 },
  { "Cos",                7,  convert_cos,                0 },
  { "Round",              11, convert_round,              0 },
  { "Reciprocal",         6,  convert_reciprocal,         0 },
  { "Relu",               6,  convert_relu,               0 },
  { "Sigmoid",            6,  convert_sigmoid,            0 },
  { "Tanh",               6,  convert_tanh,               0 },
  { "HardSigmoid",        6,  convert_hard_sigmoid,       0 },
  { "HardSwish",          14, convert_hard_swish,         0 },
  { "LeakyRelu",          6,  convert_leaky_relu,         0 },
  { "PRelu",              7,  convert_prelu,              0 },
  { "Clip",               6,  convert_clip,               0 },
  { "Equal",              7,  convert_equal,              0 },
  { "Less",               7,  convert_less,               0 },
  { "LessOrEqual",        12, convert_less_equal,         0 },
  { "Greater",            7,  convert_greater,            0 },
  { "GreaterOrEqual",     12, convert_greater_equal,      0 },
  { "Not",                1,  convert_not,                0 },
  { "And",                7,  convert_and,                0 },
  { "Or",                 7,  convert_or,                 0 },
  { "Xor",                7,  convert_xor,                0 },
  { "Where",              9,  convert_where,              0 },
  { "ReduceMean",         1,  convert_reduce_mean,        0 },
  { "ReduceSum",          1,  convert_reduce_sum,         0 },
  { "ReduceMax",          1,  convert_reduce_max,         0 },
  { "ReduceMin",          1,  convert_reduce_min,         0 },
  { "ReduceProd",         1,  convert_reduce_prod,        0 },
  { "Softmax",            1,  convert_softmax,            0 },
  { "LogSoftmax",         1,  convert_log_softmax,        0 },
  { "MatMul",             1,  convert_matmul,             0 },
  { "Gemm",               7,  convert_gemm,               0 },
  { NULL }
};
