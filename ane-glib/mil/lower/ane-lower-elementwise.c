/* mil/lower/ane-lower-elementwise.c: binary, unary, comparison and selection ops
 *
 * MIL's elementwise ops broadcast numpy-style like the IR, so most rows map
 * one to one (coremltools ops/defs/iOS15/elementwise_binary.py,
 * elementwise_unary.py, activation.py). Compositions:
 *   div (integers)  -> floor_div   (the IR's integer division floors)
 *   neg             -> mul (x, -1)
 *   relu (integers) -> maximum (x, 0)   (MIL relu is float-only)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mil/lower/ane-lower-private.h"

static const char *
binary_mil_op (AneOpKind kind,
               AneDType  dtype)
{
  switch (kind)
    {
    case ANE_OP_ADD:     return "add";
    case ANE_OP_SUB:     return "sub";
    case ANE_OP_MUL:     return "mul";
    case ANE_OP_DIV:     return ane_dtype_is_integer (dtype) ? "floor_div" : "real_div";
    case ANE_OP_MAXIMUM: return "maximum";
    case ANE_OP_MINIMUM: return "minimum";
    case ANE_OP_POW:     return "pow";
    case ANE_OP_EQ:      return "equal";
    case ANE_OP_NE:      return "not_equal";
    case ANE_OP_LT:      return "less";
    case ANE_OP_LE:      return "less_equal";
    case ANE_OP_GT:      return "greater";
    case ANE_OP_GE:      return "greater_equal";
    default:             g_assert_not_reached ();
    }
}

gboolean
ane_lower_binary (AneLowerCtx *ctx,
                  GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];

  ctx->out[0] = ane_mil_op (ctx->b, binary_mil_op (ctx->node->op->kind, ctx->in_spec[0]->dtype),
                            ctx->hint, out->dtype, out->shape, out->rank,
                            "x", ctx->in[0], "y", ctx->in[1], NULL);
  return TRUE;
}

gboolean
ane_lower_compare (AneLowerCtx *ctx,
                   GError     **error)
{
  return ane_lower_binary (ctx, error);
}

gboolean
ane_lower_where (AneLowerCtx *ctx,
                 GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec a = ane_lower_in_spec (ctx, 1), b = ane_lower_in_spec (ctx, 2);
  const char *av = ctx->in[1];
  guint rank = MAX (a.rank, b.rank);
  gboolean wider = rank != out->rank;

  /* MIL's select types its result from a and b alone (coremltools
   * iOS15/control_flow.py, select.type_inference), whatever its docstring
   * says of cond: when cond is what makes the output wide, a is broadcast
   * to the output's shape first, and b then broadcasts against it. */
  for (guint i = 0; !wider && i < rank; i++)
    {
      gint64 da = i + a.rank >= rank ? a.shape[i + a.rank - rank] : 1;
      gint64 db = i + b.rank >= rank ? b.shape[i + b.rank - rank] : 1;

      wider = (da == 1 ? db : da) != out->shape[i];
    }
  if (wider)
    {
      av = ane_lower_broadcast_to (ctx, av, &a, out->shape, out->rank, "a_broadcast", NULL, error);
      if (av == NULL)
        return FALSE;
    }
  ctx->out[0] = ane_mil_op (ctx->b, "select", ctx->hint, out->dtype, out->shape, out->rank,
                            "cond", ctx->in[0], "a", av, "b", ctx->in[2], NULL);
  return TRUE;
}

static const char *
unary_mil_op (AneOpKind kind)
{
  switch (kind)
    {
    case ANE_OP_RELU:    return "relu";
    case ANE_OP_SIGMOID: return "sigmoid";
    case ANE_OP_TANH:    return "tanh";
    case ANE_OP_GELU:    return "gelu";
    case ANE_OP_SILU:    return "silu";
    case ANE_OP_EXP:     return "exp";
    case ANE_OP_LOG:     return "log";
    case ANE_OP_SQRT:    return "sqrt";
    case ANE_OP_RSQRT:   return "rsqrt";
    case ANE_OP_ABS:     return "abs";
    case ANE_OP_SIN:     return "sin";
    case ANE_OP_COS:     return "cos";
    case ANE_OP_TAN:     return "tan";
    case ANE_OP_ATAN:    return "atan";
    case ANE_OP_ROUND:   return "round";
    case ANE_OP_ERF:     return "erf";
    default:             g_assert_not_reached ();
    }
}

gboolean
ane_lower_unary (AneLowerCtx *ctx,
                 GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneOpKind kind = ctx->node->op->kind;
  gboolean integer = ane_dtype_is_integer (out->dtype);
  g_autofree char *hint = NULL;

  if (kind == ANE_OP_NEG || (kind == ANE_OP_RELU && integer))
    {
      hint = ane_lower_hint (ctx, kind == ANE_OP_NEG ? "minus_one" : "zero");
      {
        double k = kind == ANE_OP_NEG ? -1.0 : 0.0;
        const char *c = integer ? ane_mil_const_int (ctx->b, hint, (gint64) k)
                                : ane_mil_const_float (ctx->b, hint, out->dtype, k);
        ctx->out[0] = ane_mil_op (ctx->b, kind == ANE_OP_NEG ? "mul" : "maximum", ctx->hint,
                                  out->dtype, out->shape, out->rank, "x", ctx->in[0], "y", c, NULL);
      }
      return TRUE;
    }
  if (kind == ANE_OP_GELU)
    {
      /* MIL's gelu modes: EXACT is the erf form, TANH_APPROXIMATION the tanh one. */
      gboolean tanh_form = g_str_equal (ane_attrs_string (ctx->node->attrs, "approximation"), "tanh");

      hint = ane_lower_hint (ctx, "mode");
      ctx->out[0] = ane_mil_op (ctx->b, "gelu", ctx->hint, out->dtype, out->shape, out->rank,
                                "x", ctx->in[0],
                                "mode", ane_mil_const_string (ctx->b, hint, tanh_form ? "TANH_APPROXIMATION" : "EXACT"),
                                NULL);
      return TRUE;
    }
  ctx->out[0] = ane_mil_op (ctx->b, unary_mil_op (kind), ctx->hint, out->dtype, out->shape, out->rank,
                            "x", ctx->in[0], NULL);
  return TRUE;
}
