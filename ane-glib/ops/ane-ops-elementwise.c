/* ops/ane-ops-elementwise.c: binary, unary, comparison and selection ops
 *
 * Broadcasting follows numpy's rules
 * (https://numpy.org/doc/stable/user/basics.broadcasting.html). Binary ops
 * need both operands of one dtype: the IR never promotes implicitly, so the
 * lowered MIL (which does not either) sees exactly what the graph says.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ops/ane-ops.h"

/* --- shape rules ------------------------------------------------------- */

gboolean
ane_infer_binary (AneInferCtx *ctx,
                  GError     **error)
{
  static const guint slots[] = { 0, 1 };

  if (!ane_infer_require_numeric (ctx, 0, error) ||
      !ane_infer_require_numeric (ctx, 1, error) ||
      !ane_infer_same_dtype (ctx, 0, 1, error))
    return FALSE;
  return ane_infer_broadcast (ctx, slots, 2, &ctx->outputs[0], error);
}

gboolean
ane_infer_compare (AneInferCtx *ctx,
                   GError     **error)
{
  if (!ane_infer_binary (ctx, error))
    return FALSE;
  ctx->outputs[0].dtype = ANE_DTYPE_BOOL;
  return TRUE;
}

gboolean
ane_infer_unary (AneInferCtx *ctx,
                 GError     **error)
{
  AneOpKind kind = ctx->op->kind;

  /* relu, abs and neg make sense on integers too; the rest are float functions. */
  if (kind == ANE_OP_RELU || kind == ANE_OP_ABS || kind == ANE_OP_NEG)
    {
      if (!ane_infer_require_numeric (ctx, 0, error))
        return FALSE;
    }
  else if (!ane_infer_require_float (ctx, 0, error))
    return FALSE;
  if (kind == ANE_OP_GELU)
    {
      const char *approx = ane_attrs_string (ctx->attrs, "approximation");
      if (!g_str_equal (approx, "exact") && !g_str_equal (approx, "tanh"))
        {
          ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                           "approximation must be 'exact' or 'tanh', not '%s'", approx);
          return FALSE;
        }
    }
  ctx->outputs[0] = *ctx->inputs[0];
  return TRUE;
}

gboolean
ane_infer_where (AneInferCtx *ctx,
                 GError     **error)
{
  static const guint slots[] = { 1, 2, 0 };
  char buf[ANE_SPEC_STRLEN];

  if (ctx->inputs[0]->dtype != ANE_DTYPE_BOOL)
    {
      ane_infer_error (ctx, error, ANE_ERROR_DTYPE, "input 'cond' must be bool, got %s",
                       ane_spec_format (ctx->inputs[0], buf));
      return FALSE;
    }
  if (!ane_infer_require_numeric (ctx, 1, error) || !ane_infer_same_dtype (ctx, 1, 2, error))
    return FALSE;
  return ane_infer_broadcast (ctx, slots, 3, &ctx->outputs[0], error);
}

/* --- reference kernels ------------------------------------------------- */

/* Visits every output element with the broadcast offsets of up to 3 inputs. */
typedef void (*ElementFunc) (AneRefCtx *ctx, gsize out, const gsize *in, gpointer data);

static void
for_each_broadcast (AneRefCtx  *ctx,
                    guint       n_in,
                    ElementFunc func,
                    gpointer    data)
{
  const AneRefValue *out = ctx->outputs[0];
  gint64 coords[ANE_MAX_RANK];

  for (gsize i = 0; i < out->n; i++)
    {
      gsize offs[3];

      ane_ref_unravel (i, out->shape, out->rank, coords);
      for (guint j = 0; j < n_in; j++)
        offs[j] = ane_ref_broadcast_offset (ctx->inputs[j], coords, out->rank);
      func (ctx, i, offs, data);
    }
}

static double
binary_op (AneOpKind kind,
           AneDType  dtype,
           double    a,
           double    b)
{
  switch (kind)
    {
    case ANE_OP_ADD: return a + b;
    case ANE_OP_SUB: return a - b;
    case ANE_OP_MUL: return a * b;
    case ANE_OP_DIV:
      if (ane_dtype_is_integer (dtype))
        /* numpy's floor_divide; division by zero gives 0 as numpy does for ints. */
        return b == 0.0 ? 0.0 : floor (a / b);
      return a / b;
    case ANE_OP_MAXIMUM: return isnan (a) || isnan (b) ? NAN : fmax (a, b);
    case ANE_OP_MINIMUM: return isnan (a) || isnan (b) ? NAN : fmin (a, b);
    case ANE_OP_POW:     return pow (a, b);
    case ANE_OP_EQ:      return a == b;
    case ANE_OP_NE:      return a != b;
    case ANE_OP_LT:      return a < b;
    case ANE_OP_LE:      return a <= b;
    case ANE_OP_GT:      return a > b;
    case ANE_OP_GE:      return a >= b;
    default:             g_assert_not_reached ();
    }
}

static void
binary_element (AneRefCtx   *ctx,
                gsize        out,
                const gsize *in,
                gpointer     data)
{
  ctx->outputs[0]->v[out] = binary_op (ctx->node->op->kind, ctx->inputs[0]->dtype,
                                       ctx->inputs[0]->v[in[0]], ctx->inputs[1]->v[in[1]]);
}

gboolean
ane_ref_binary (AneRefCtx *ctx,
                GError   **error)
{
  for_each_broadcast (ctx, 2, binary_element, NULL);
  return TRUE;
}

gboolean
ane_ref_compare (AneRefCtx *ctx,
                 GError   **error)
{
  return ane_ref_binary (ctx, error);
}

static void
where_element (AneRefCtx   *ctx,
               gsize        out,
               const gsize *in,
               gpointer     data)
{
  /* Slots in for_each order: cond, a, b. */
  ctx->outputs[0]->v[out] = ctx->inputs[0]->v[in[0]] != 0.0 ? ctx->inputs[1]->v[in[1]]
                                                             : ctx->inputs[2]->v[in[2]];
}

gboolean
ane_ref_where (AneRefCtx *ctx,
               GError   **error)
{
  for_each_broadcast (ctx, 3, where_element, NULL);
  return TRUE;
}

static double
sigmoid (double x)
{
  return 1.0 / (1.0 + exp (-x));
}

gboolean
ane_ref_unary (AneRefCtx *ctx,
               GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  AneOpKind kind = ctx->node->op->kind;
  gboolean tanh_gelu = kind == ANE_OP_GELU &&
                       g_str_equal (ane_attrs_string (ctx->attrs, "approximation"), "tanh");

  for (gsize i = 0; i < x->n; i++)
    {
      double v = x->v[i], r;

      switch (kind)
        {
        case ANE_OP_RELU:    r = v > 0.0 ? v : 0.0; break;
        case ANE_OP_SIGMOID: r = sigmoid (v); break;
        case ANE_OP_TANH:    r = tanh (v); break;
        case ANE_OP_GELU:
          /* Hendrycks & Gimpel, "Gaussian Error Linear Units", eq. 1 and the
           * tanh approximation of section 2. */
          r = tanh_gelu ? 0.5 * v * (1.0 + tanh (sqrt (2.0 / G_PI) * (v + 0.044715 * v * v * v)))
                        : 0.5 * v * (1.0 + erf (v / G_SQRT2));
          break;
        case ANE_OP_SILU:    r = v * sigmoid (v); break;
        case ANE_OP_EXP:     r = exp (v); break;
        case ANE_OP_LOG:     r = log (v); break;
        case ANE_OP_SQRT:    r = sqrt (v); break;
        case ANE_OP_RSQRT:   r = 1.0 / sqrt (v); break;
        case ANE_OP_ABS:     r = fabs (v); break;
        case ANE_OP_NEG:     r = -v; break;
        case ANE_OP_SIN:     r = sin (v); break;
        case ANE_OP_COS:     r = cos (v); break;
        case ANE_OP_TAN:     r = tan (v); break;
        case ANE_OP_ATAN:    r = atan (v); break;
        /* Half to even, as numpy.round and MIL's round. */
        case ANE_OP_ROUND:   r = nearbyint (v); break;
        case ANE_OP_ERF:     r = erf (v); break;
        default:             g_assert_not_reached ();
        }
      y->v[i] = r;
    }
  return TRUE;
}

/* --- builder methods --------------------------------------------------- */

static AneTensor *
add_binary (AneGraph   *self,
            AneOpKind   kind,
            AneTensor  *a,
            AneTensor  *b,
            GError    **error)
{
  AneTensor *inputs[2] = { a, b };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (a) && ANE_IS_TENSOR (b), NULL);
  return ane_graph_add_node (self, kind, inputs, 2, NULL, NULL, error);
}

static AneTensor *
add_unary (AneGraph   *self,
           AneOpKind   kind,
           AneTensor  *x,
           GVariant   *attrs,
           GError    **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  return ane_graph_add_node (self, kind, &x, 1, attrs, NULL, error);
}

/**
 * ane_graph_add:
 * @self: a graph
 * @a: first operand
 * @b: second operand, same dtype as @a; the two broadcast numpy-style
 * @error: return location for a #GError
 *
 * Elementwise sum `a + b`.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_add (AneGraph   *self,
              AneTensor  *a,
              AneTensor  *b,
              GError    **error)
{
  return add_binary (self, ANE_OP_ADD, a, b, error);
}

/**
 * ane_graph_sub:
 * @self: a graph
 * @a: first operand
 * @b: second operand, same dtype as @a; the two broadcast numpy-style
 * @error: return location for a #GError
 *
 * Elementwise difference `a - b`.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_sub (AneGraph   *self,
              AneTensor  *a,
              AneTensor  *b,
              GError    **error)
{
  return add_binary (self, ANE_OP_SUB, a, b, error);
}

/**
 * ane_graph_mul:
 * @self: a graph
 * @a: first operand
 * @b: second operand, same dtype as @a; the two broadcast numpy-style
 * @error: return location for a #GError
 *
 * Elementwise product `a * b`.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_mul (AneGraph   *self,
              AneTensor  *a,
              AneTensor  *b,
              GError    **error)
{
  return add_binary (self, ANE_OP_MUL, a, b, error);
}

/**
 * ane_graph_div:
 * @self: a graph
 * @a: first operand
 * @b: second operand, same dtype as @a; the two broadcast numpy-style
 * @error: return location for a #GError
 *
 * Elementwise quotient `a / b`; for integer dtypes, floor division (numpy `//`).
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_div (AneGraph   *self,
              AneTensor  *a,
              AneTensor  *b,
              GError    **error)
{
  return add_binary (self, ANE_OP_DIV, a, b, error);
}

/**
 * ane_graph_maximum:
 * @self: a graph
 * @a: first operand
 * @b: second operand, same dtype as @a; the two broadcast numpy-style
 * @error: return location for a #GError
 *
 * Elementwise maximum (NaN if either is NaN).
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_maximum (AneGraph   *self,
                  AneTensor  *a,
                  AneTensor  *b,
                  GError    **error)
{
  return add_binary (self, ANE_OP_MAXIMUM, a, b, error);
}

/**
 * ane_graph_minimum:
 * @self: a graph
 * @a: first operand
 * @b: second operand, same dtype as @a; the two broadcast numpy-style
 * @error: return location for a #GError
 *
 * Elementwise minimum (NaN if either is NaN).
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_minimum (AneGraph   *self,
                  AneTensor  *a,
                  AneTensor  *b,
                  GError    **error)
{
  return add_binary (self, ANE_OP_MINIMUM, a, b, error);
}

/**
 * ane_graph_pow:
 * @self: a graph
 * @a: first operand
 * @b: second operand, same dtype as @a; the two broadcast numpy-style
 * @error: return location for a #GError
 *
 * Elementwise power `a ** b`.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_pow (AneGraph   *self,
              AneTensor  *a,
              AneTensor  *b,
              GError    **error)
{
  return add_binary (self, ANE_OP_POW, a, b, error);
}

/**
 * ane_graph_eq:
 * @self: a graph
 * @a: first operand
 * @b: second operand, same dtype as @a; the two broadcast numpy-style
 * @error: return location for a #GError
 *
 * Elementwise `a == b`, a bool tensor.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_eq (AneGraph   *self,
             AneTensor  *a,
             AneTensor  *b,
             GError    **error)
{
  return add_binary (self, ANE_OP_EQ, a, b, error);
}

/**
 * ane_graph_ne:
 * @self: a graph
 * @a: first operand
 * @b: second operand, same dtype as @a; the two broadcast numpy-style
 * @error: return location for a #GError
 *
 * Elementwise `a != b`, a bool tensor.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_ne (AneGraph   *self,
             AneTensor  *a,
             AneTensor  *b,
             GError    **error)
{
  return add_binary (self, ANE_OP_NE, a, b, error);
}

/**
 * ane_graph_lt:
 * @self: a graph
 * @a: first operand
 * @b: second operand, same dtype as @a; the two broadcast numpy-style
 * @error: return location for a #GError
 *
 * Elementwise `a < b`, a bool tensor.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_lt (AneGraph   *self,
             AneTensor  *a,
             AneTensor  *b,
             GError    **error)
{
  return add_binary (self, ANE_OP_LT, a, b, error);
}

/**
 * ane_graph_le:
 * @self: a graph
 * @a: first operand
 * @b: second operand, same dtype as @a; the two broadcast numpy-style
 * @error: return location for a #GError
 *
 * Elementwise `a <= b`, a bool tensor.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_le (AneGraph   *self,
             AneTensor  *a,
             AneTensor  *b,
             GError    **error)
{
  return add_binary (self, ANE_OP_LE, a, b, error);
}

/**
 * ane_graph_gt:
 * @self: a graph
 * @a: first operand
 * @b: second operand, same dtype as @a; the two broadcast numpy-style
 * @error: return location for a #GError
 *
 * Elementwise `a > b`, a bool tensor.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_gt (AneGraph   *self,
             AneTensor  *a,
             AneTensor  *b,
             GError    **error)
{
  return add_binary (self, ANE_OP_GT, a, b, error);
}

/**
 * ane_graph_ge:
 * @self: a graph
 * @a: first operand
 * @b: second operand, same dtype as @a; the two broadcast numpy-style
 * @error: return location for a #GError
 *
 * Elementwise `a >= b`, a bool tensor.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_ge (AneGraph   *self,
             AneTensor  *a,
             AneTensor  *b,
             GError    **error)
{
  return add_binary (self, ANE_OP_GE, a, b, error);
}

/**
 * ane_graph_relu:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Rectified linear unit `max(x, 0)`.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_relu (AneGraph   *self,
               AneTensor  *x,
               GError    **error)
{
  return add_unary (self, ANE_OP_RELU, x, NULL, error);
}

/**
 * ane_graph_sigmoid:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Logistic sigmoid `1 / (1 + exp(-x))`.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_sigmoid (AneGraph   *self,
                  AneTensor  *x,
                  GError    **error)
{
  return add_unary (self, ANE_OP_SIGMOID, x, NULL, error);
}

/**
 * ane_graph_tanh:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Hyperbolic tangent.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_tanh (AneGraph   *self,
               AneTensor  *x,
               GError    **error)
{
  return add_unary (self, ANE_OP_TANH, x, NULL, error);
}

/**
 * ane_graph_silu:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * SiLU (swish) `x * sigmoid(x)`.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_silu (AneGraph   *self,
               AneTensor  *x,
               GError    **error)
{
  return add_unary (self, ANE_OP_SILU, x, NULL, error);
}

/**
 * ane_graph_exp:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Exponential.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_exp (AneGraph   *self,
              AneTensor  *x,
              GError    **error)
{
  return add_unary (self, ANE_OP_EXP, x, NULL, error);
}

/**
 * ane_graph_log:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Natural logarithm.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_log (AneGraph   *self,
              AneTensor  *x,
              GError    **error)
{
  return add_unary (self, ANE_OP_LOG, x, NULL, error);
}

/**
 * ane_graph_sqrt:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Square root.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_sqrt (AneGraph   *self,
               AneTensor  *x,
               GError    **error)
{
  return add_unary (self, ANE_OP_SQRT, x, NULL, error);
}

/**
 * ane_graph_rsqrt:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Reciprocal square root `1 / sqrt(x)`.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_rsqrt (AneGraph   *self,
                AneTensor  *x,
                GError    **error)
{
  return add_unary (self, ANE_OP_RSQRT, x, NULL, error);
}

/**
 * ane_graph_abs:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Absolute value.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_abs (AneGraph   *self,
              AneTensor  *x,
              GError    **error)
{
  return add_unary (self, ANE_OP_ABS, x, NULL, error);
}

/**
 * ane_graph_neg:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Negation.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_neg (AneGraph   *self,
              AneTensor  *x,
              GError    **error)
{
  return add_unary (self, ANE_OP_NEG, x, NULL, error);
}

/**
 * ane_graph_sin:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Sine.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_sin (AneGraph   *self,
              AneTensor  *x,
              GError    **error)
{
  return add_unary (self, ANE_OP_SIN, x, NULL, error);
}

/**
 * ane_graph_cos:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Cosine.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_cos (AneGraph   *self,
              AneTensor  *x,
              GError    **error)
{
  return add_unary (self, ANE_OP_COS, x, NULL, error);
}

/**
 * ane_graph_tan:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Tangent.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_tan (AneGraph   *self,
              AneTensor  *x,
              GError    **error)
{
  return add_unary (self, ANE_OP_TAN, x, NULL, error);
}

/**
 * ane_graph_atan:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Arc tangent.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_atan (AneGraph   *self,
               AneTensor  *x,
               GError    **error)
{
  return add_unary (self, ANE_OP_ATAN, x, NULL, error);
}

/**
 * ane_graph_round:
 * @self: a graph
 * @x: the operand
 * @error: return location for a #GError
 *
 * Rounds to the nearest integer, halves to even (as numpy.round).
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_round (AneGraph   *self,
                AneTensor  *x,
                GError    **error)
{
  return add_unary (self, ANE_OP_ROUND, x, NULL, error);
}

/**
 * ane_graph_gelu:
 * @self: a graph
 * @x: a float tensor
 * @approximation: the exact (erf) form or the tanh approximation
 * @error: return location for a #GError
 *
 * Gaussian error linear unit.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_gelu (AneGraph              *self,
                AneTensor             *x,
                AneGeluApproximation   approximation,
                GError               **error)
{
  const char *name = approximation == ANE_GELU_TANH ? "tanh" : "exact";

  return add_unary (self, ANE_OP_GELU, x,
                    ane_attrs_new ("approximation", g_variant_new_string (name), NULL), error);
}

/**
 * ane_graph_where:
 * @self: a graph
 * @cond: a bool tensor
 * @a: values where @cond is true
 * @b: values where @cond is false, same dtype as @a
 * @error: return location for a #GError
 *
 * Selects elementwise; the three operands broadcast together.
 *
 * Returns: (transfer full): the result
 */
AneTensor *
ane_graph_where (AneGraph   *self,
                 AneTensor  *cond,
                 AneTensor  *a,
                 AneTensor  *b,
                 GError    **error)
{
  AneTensor *inputs[3] = { cond, a, b };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (cond) && ANE_IS_TENSOR (a) && ANE_IS_TENSOR (b), NULL);
  return ane_graph_add_node (self, ANE_OP_WHERE, inputs, 3, NULL, NULL, error);
}
