/* mil/infer/ane-mil-infer-elementwise.c: type-inference rules, elementwise binary and unary ops, activations, cast
 *
 * Each rule mirrors the type_inference (and the checks it makes) of the
 * coremltools op class named in its row's source (ane-mil-opdefs.c), paths
 * relative to coremltools/converters/mil/mil/ops/defs/ in coremltools 9.0.
 *
 * Almost every op here returns x's own type. The exceptions are the binary
 * ops (broadcast, bool for comparisons), cast (dtype from its argument, the
 * value carried through) and the few activations whose type_inference
 * checks ranks, channel counts or constant values (prelu,
 * softplus_parametric, gelu's mode, iOS17 clip). The iOS17 classes of this
 * family only widen input_spec/type_domains (checked by the core before a
 * rule runs) and inherit their type_inference, except clip, which adds a
 * check; their rules therefore share the iOS15 code.
 *
 * Where a check needs a const's value and the mirror does not hold it (a
 * blob, a constexpr result), the rule cannot tell whether pymil knows it, so
 * it lets the call pass rather than refuse a program Apple's loader may
 * accept.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mil/infer/ane-mil-infer-rules-private.h"

/* --- shared pieces ------------------------------------------------------ */

/* An output the mirror does not model (an argument of a type it cannot
 * describe, e.g. rank above ANE_MIL_INFER_MAX_RANK): nothing to judge. */
static void
out_other (AneMilInferCall *call,
           int              dtype)
{
  AneMilVal *out = ane_mil_infer_out (call, dtype, NULL, 0);

  out->kind = ANE_MIL_VAL_OTHER;
}

/* The output is x's sym_type unchanged: dtype and shape, a scalar staying a
 * scalar. */
static gboolean
same_as_x (AneMilInferCall  *call,
           GError          **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");

  if (x->kind == ANE_MIL_VAL_OTHER)
    out_other (call, x->dtype);
  else
    ane_mil_infer_out_like (call, x, -1);
  return TRUE;
}

/* The float dtype's rounding of v (numpy's arithmetic in that dtype). */
static double
round_to (double v,
          int    dtype)
{
  if (dtype == ANE_MIL_DT_FP16)
    return ane_mil_text_float_from_bits (ane_mil_text_float_to_bits (v, dtype), dtype);
  if (dtype == ANE_MIL_DT_FP32)
    return (float) v;
  return v;
}

/* --- elementwise binary ------------------------------------------------- */

/* iOS15/elementwise_binary.py, elementwise_binary.type_inference (l. 37-45)
 * with _utils.py promoted_primitive_type (l. 130-137) and
 * infer_type_with_broadcast (l. 106-127): the dtype is x's and y's promoted
 * (get_dtype makes it bool for comparisons and logical ops); the shape is
 * broadcast_shapes (l. 54-103) of the two, except that a scalar side takes
 * the other's shape unchecked and two scalars give a scalar. x and y share
 * type domain T, so the promotion only ever meets one dtype. */
static gboolean
binary (AneMilInferCall  *call,
        gboolean          bool_output,
        GError          **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x"), *y = ane_mil_infer_arg (call, "y");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  guint rank;
  int dtype = ane_mil_dt_promote (x->dtype, y->dtype);

  if (dtype < 0)
    return ane_mil_infer_fail (call, error, "x (%s) and y (%s) have no common dtype",
                               ane_mil_dt_name (x->dtype), ane_mil_dt_name (y->dtype));
  if (bool_output)
    dtype = ANE_MIL_DT_BOOL;
  if (x->kind == ANE_MIL_VAL_OTHER || y->kind == ANE_MIL_VAL_OTHER)
    {
      out_other (call, dtype);
      return TRUE;
    }
  if (!ane_mil_infer_broadcast (call, x, y, shape, &rank, error))
    return FALSE;
  ane_mil_infer_out (call, dtype, shape, rank);
  return TRUE;
}

/* Arithmetic classes of iOS15/elementwise_binary.py (no get_dtype override:
 * the output keeps the input dtype, so real_div of int32 is int32). */
ANE_MIL_INFER_RULE (add, ios15)       { return binary (call, FALSE, error); }  /* add, l. 92-116 */
ANE_MIL_INFER_RULE (sub, ios15)       { return binary (call, FALSE, error); }  /* sub, l. 604-629 */
ANE_MIL_INFER_RULE (mul, ios15)       { return binary (call, FALSE, error); }  /* mul, l. 488-513 */
ANE_MIL_INFER_RULE (real_div, ios15)  { return binary (call, FALSE, error); }  /* real_div, l. 548-573 */
ANE_MIL_INFER_RULE (floor_div, ios15) { return binary (call, FALSE, error); }  /* floor_div, l. 151-177 */
ANE_MIL_INFER_RULE (maximum, ios15)   { return binary (call, FALSE, error); }  /* maximum, l. 404-429 */
ANE_MIL_INFER_RULE (minimum, ios15)   { return binary (call, FALSE, error); }  /* minimum, l. 432-457 */
ANE_MIL_INFER_RULE (pow, ios15)       { return binary (call, FALSE, error); }  /* pow, l. 576-601 */
ANE_MIL_INFER_RULE (mod, ios15)       { return binary (call, FALSE, error); }  /* mod, l. 460-485 */

/* Comparisons of iOS15/elementwise_binary.py: get_dtype returns bool. */
ANE_MIL_INFER_RULE (equal, ios15)         { return binary (call, TRUE, error); }  /* equal, l. 119-148 */
ANE_MIL_INFER_RULE (not_equal, ios15)     { return binary (call, TRUE, error); }  /* not_equal, l. 516-545 */
ANE_MIL_INFER_RULE (less, ios15)          { return binary (call, TRUE, error); }  /* less, l. 244-273 */
ANE_MIL_INFER_RULE (less_equal, ios15)    { return binary (call, TRUE, error); }  /* less_equal, l. 276-305 */
ANE_MIL_INFER_RULE (greater, ios15)       { return binary (call, TRUE, error); }  /* greater, l. 180-209 */
ANE_MIL_INFER_RULE (greater_equal, ios15) { return binary (call, TRUE, error); }  /* greater_equal, l. 212-241 */

/* Logical ops of iOS15/elementwise_binary.py (elementwise_binary_logical,
 * l. 73-84: T is bool only; get_dtype returns bool). */
ANE_MIL_INFER_RULE (logical_and, ios15) { return binary (call, TRUE, error); }  /* logical_and, l. 308-337 */
ANE_MIL_INFER_RULE (logical_or, ios15)  { return binary (call, TRUE, error); }  /* logical_or, l. 340-369 */
ANE_MIL_INFER_RULE (logical_xor, ios15) { return binary (call, TRUE, error); }  /* logical_xor, l. 372-401 */

/* --- elementwise unary -------------------------------------------------- */

/* iOS15/elementwise_unary.py: elementwise_unary (l. 30-43, T fp16/fp32) and
 * elementwise_unary_with_int (l. 45-58, T fp16/fp32/int32) both return
 * x.sym_type; so does every subclass below (an int32 x gives int32, even
 * for exp2). */
ANE_MIL_INFER_RULE (abs, ios15)    { return same_as_x (call, error); }  /* abs, l. 64-86 (with_int) */
ANE_MIL_INFER_RULE (acos, ios15)   { return same_as_x (call, error); }  /* acos, l. 89-111 */
ANE_MIL_INFER_RULE (asin, ios15)   { return same_as_x (call, error); }  /* asin, l. 114-136 */
ANE_MIL_INFER_RULE (atan, ios15)   { return same_as_x (call, error); }  /* atan, l. 139-161 */
ANE_MIL_INFER_RULE (atanh, ios15)  { return same_as_x (call, error); }  /* atanh, l. 164-187 */
ANE_MIL_INFER_RULE (ceil, ios15)   { return same_as_x (call, error); }  /* ceil, l. 190-212 */
ANE_MIL_INFER_RULE (cos, ios15)    { return same_as_x (call, error); }  /* cos, l. 256-278 */
ANE_MIL_INFER_RULE (cosh, ios15)   { return same_as_x (call, error); }  /* cosh, l. 281-303 */
ANE_MIL_INFER_RULE (erf, ios15)    { return same_as_x (call, error); }  /* erf, l. 306-328 */
ANE_MIL_INFER_RULE (exp, ios15)    { return same_as_x (call, error); }  /* exp, l. 331-353 */
ANE_MIL_INFER_RULE (exp2, ios15)   { return same_as_x (call, error); }  /* exp2, l. 356-378 (with_int) */
ANE_MIL_INFER_RULE (floor, ios15)  { return same_as_x (call, error); }  /* floor, l. 381-404 */
ANE_MIL_INFER_RULE (round, ios15)  { return same_as_x (call, error); }  /* round, l. 530-553 */
ANE_MIL_INFER_RULE (sign, ios15)   { return same_as_x (call, error); }  /* sign, l. 602-626 (with_int) */
ANE_MIL_INFER_RULE (sin, ios15)    { return same_as_x (call, error); }  /* sin, l. 629-651 */
ANE_MIL_INFER_RULE (sinh, ios15)   { return same_as_x (call, error); }  /* sinh, l. 654-676 */
ANE_MIL_INFER_RULE (sqrt, ios15)   { return same_as_x (call, error); }  /* sqrt, l. 679-701 */
ANE_MIL_INFER_RULE (square, ios15) { return same_as_x (call, error); }  /* square, l. 704-725 (with_int) */
ANE_MIL_INFER_RULE (tan, ios15)    { return same_as_x (call, error); }  /* tan, l. 728-751 */
ANE_MIL_INFER_RULE (tanh, ios15)   { return same_as_x (call, error); }  /* tanh, l. 754-777 */

/* iOS15/elementwise_unary.py, logical_not (l. 497-527): x.sym_type (x is
 * bool by its input_spec). */
ANE_MIL_INFER_RULE (logical_not, ios15) { return same_as_x (call, error); }

/* iOS15/elementwise_unary.py, threshold (l. 780-815): x.sym_type; alpha is
 * not looked at (any const of x's dtype, any shape). */
ANE_MIL_INFER_RULE (threshold, ios15) { return same_as_x (call, error); }

/* iOS15/elementwise_unary.py, clip (l. 215-253): x.sym_type, alpha and beta
 * unchecked (alpha > beta passes). */
ANE_MIL_INFER_RULE (clip, ios15) { return same_as_x (call, error); }

/* iOS17/elementwise_unary.py, clip (l. 60-92): type_inference first tests
 * `alpha.val >= beta.val` as a Python condition, then returns x.sym_type.
 * With numpy values that test broadcasts alpha against beta (shapes that do
 * not broadcast raise), and the comparison's truth value exists only for at
 * most one element: an empty result reads false (passes), one element
 * raises if alpha >= beta (NaN passes), more elements raise as ambiguous. */
ANE_MIL_INFER_RULE (clip, ios17)
{
  const AneMilVal *alpha = ane_mil_infer_arg (call, "alpha"), *beta = ane_mil_infer_arg (call, "beta");

  if (alpha->kind == ANE_MIL_VAL_TENSOR && beta->kind == ANE_MIL_VAL_TENSOR &&
      alpha->values != NULL && beta->values != NULL)
    {
      gint64 shape[ANE_MIL_INFER_MAX_RANK], n = 1;
      guint rank;

      if (!ane_mil_infer_broadcast (call, alpha, beta, shape, &rank, error))
        return FALSE;
      for (guint i = 0; i < rank; i++)
        n *= shape[i];
      if (n > 1)
        return ane_mil_infer_fail (call, error, "alpha and beta compare to %" G_GINT64_FORMAT
                                   " elements, and the check alpha < beta needs a single truth value", n);
      if (n == 1 && alpha->values[0] >= beta->values[0])
        return ane_mil_infer_fail (call, error, "alpha (%g) must be less than beta (%g)",
                                   alpha->values[0], beta->values[0]);
    }
  return same_as_x (call, error);
}

/* iOS15/elementwise_unary.py, inverse (l. 407-449), log (l. 452-494),
 * rsqrt (l. 556-599): x.sym_type; default_inputs only supplies epsilon (in
 * x's dtype), which type_inference does not read. The iOS17 classes
 * (iOS17/elementwise_unary.py inverse l. 95-129, log l. 132-165, rsqrt
 * l. 168-202) only let epsilon have its own float dtype. */
ANE_MIL_INFER_RULE (inverse, ios15) { return same_as_x (call, error); }
ANE_MIL_INFER_RULE (inverse, ios17) { return same_as_x (call, error); }
ANE_MIL_INFER_RULE (log, ios15)     { return same_as_x (call, error); }
ANE_MIL_INFER_RULE (log, ios17)     { return same_as_x (call, error); }
ANE_MIL_INFER_RULE (rsqrt, ios15)   { return same_as_x (call, error); }
ANE_MIL_INFER_RULE (rsqrt, ios17)   { return same_as_x (call, error); }

/* --- cast --------------------------------------------------------------- */

/* The dtype strings cast accepts: Operation.supported_dtypes (operation.py
 * l. 161-163) lists the class's domain T, so the iOS17 class (more dtypes
 * in T) accepts more names. */
static const struct {
  const char *name;
  int         dtype;
  gboolean    from_ios17;
} cast_dtypes[] = {
  { "fp16",   ANE_MIL_DT_FP16,   FALSE },
  { "fp32",   ANE_MIL_DT_FP32,   FALSE },
  { "int8",   ANE_MIL_DT_INT8,   TRUE },
  { "uint8",  ANE_MIL_DT_UINT8,  TRUE },
  { "int16",  ANE_MIL_DT_INT16,  TRUE },
  { "uint16", ANE_MIL_DT_UINT16, TRUE },
  { "int32",  ANE_MIL_DT_INT32,  FALSE },
  { "bool",   ANE_MIL_DT_BOOL,   FALSE },
};

/* One element as numpy's astype converts it (cast.get_cast_value,
 * iOS15/elementwise_unary.py l. 888-891): to bool, nonzero (NaN too) is
 * true; to a float, rounded to that float; to an integer, a float is
 * truncated toward zero and the result wraps modulo the target's width (no
 * saturation). A float whose truncation leaves int32's range, or a NaN or
 * inf, converts to what the host's C conversion gives (x86 and arm64
 * differ): FALSE, the value is not carried. */
static gboolean
cast_element (double  v,
              int     from,
              int     to,
              double *out)
{
  guint bits;

  if (to == ANE_MIL_DT_BOOL)
    {
      *out = v != 0.0 ? 1.0 : 0.0;
      return TRUE;
    }
  if (ane_mil_text_dtype_is_float (to))
    {
      *out = round_to (v, to);
      return TRUE;
    }
  if (ane_mil_text_dtype_is_float (from))
    {
      if (!isfinite (v))
        return FALSE;
      v = trunc (v);
      if (v < (double) G_MININT32 || v > (double) G_MAXINT32)
        return FALSE;
    }
  bits = ane_mil_text_dtype_by_enum (to)->bits;
  {
    guint64 u = (guint64) (gint64) v & ((G_GUINT64_CONSTANT (1) << bits) - 1);

    if (ane_mil_text_dtype_is_signed (to) && (u >> (bits - 1)) != 0)
      *out = (double) ((gint64) u - ((gint64) 1 << bits));
    else
      *out = (double) u;
  }
  return TRUE;
}

/* iOS15/elementwise_unary.py, cast.type_inference (l. 848-859): dtype must
 * name one of the class's supported dtypes (otherwise NotImplementedError);
 * a scalar x gives a scalar of that dtype, a tensor x a tensor of x's shape.
 * value_inference (l. 861-863, get_cast_value l. 865-891) converts a known
 * value of x, carried here so a later op can read it (e.g. as a shape). */
static gboolean
cast (AneMilInferCall  *call,
      gboolean          ios17,
      GError          **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x"), *dt = ane_mil_infer_arg (call, "dtype");
  const char *name = ane_mil_infer_string (call, "dtype", NULL);
  AneMilVal *out;
  int dtype = -1;

  if (name == NULL)
    {
      if (dt->kind == ANE_MIL_VAL_OTHER)
        {
          out_other (call, -1);
          return TRUE;
        }
      return ane_mil_infer_fail (call, error, "dtype must be a single str naming a dtype");
    }
  for (guint i = 0; i < G_N_ELEMENTS (cast_dtypes); i++)
    if (strcmp (cast_dtypes[i].name, name) == 0 && (ios17 || !cast_dtypes[i].from_ios17))
      dtype = cast_dtypes[i].dtype;
  if (dtype < 0)
    return ane_mil_infer_fail (call, error, "dtype '%s' is not one cast supports here (%s)", name,
                               ios17 ? "fp16, fp32, int8, uint8, int16, uint16, int32, bool"
                                     : "fp16, fp32, int32, bool");
  if (x->kind == ANE_MIL_VAL_OTHER)
    {
      out_other (call, dtype);
      return TRUE;
    }
  out = ane_mil_infer_out_like (call, x, dtype);
  if (x->values != NULL)
    {
      g_autofree double *values = g_new (double, MAX (x->n_values, 1));

      for (gsize i = 0; i < x->n_values; i++)
        if (!cast_element (x->values[i], x->dtype, dtype, &values[i]))
          return TRUE;
      ane_mil_infer_out_set_values (out, values, x->n_values);
    }
  return TRUE;
}

ANE_MIL_INFER_RULE (cast, ios15) { return cast (call, FALSE, error); }
/* iOS17/elementwise_unary.py, cast (l. 20-57): inherits type_inference;
 * its wider domain T widens supported_dtypes. */
ANE_MIL_INFER_RULE (cast, ios17) { return cast (call, TRUE, error); }

/* --- activations -------------------------------------------------------- */

/* iOS15/activation.py, elementwise_unary subclasses: x.sym_type. */
ANE_MIL_INFER_RULE (relu, ios15)     { return same_as_x (call, error); }  /* relu, l. 302-323 */
ANE_MIL_INFER_RULE (relu6, ios15)    { return same_as_x (call, error); }  /* relu6, l. 326-347 */
ANE_MIL_INFER_RULE (sigmoid, ios15)  { return same_as_x (call, error); }  /* sigmoid, l. 377-398 */
ANE_MIL_INFER_RULE (silu, ios15)     { return same_as_x (call, error); }  /* silu, l. 429-447 */
ANE_MIL_INFER_RULE (softplus, ios15) { return same_as_x (call, error); }  /* softplus, l. 450-471 */
ANE_MIL_INFER_RULE (softsign, ios15) { return same_as_x (call, error); }  /* softsign, l. 573-594 */

/* iOS15/activation.py, softmax (l. 526-570): x.sym_type; the axis (default
 * -1) is not checked against x's rank. */
ANE_MIL_INFER_RULE (softmax, ios15) { return same_as_x (call, error); }

/* iOS15/activation.py, gelu.type_inference (l. 180-185): mode (default
 * "EXACT", default_inputs l. 163-166) must be one of three names. */
ANE_MIL_INFER_RULE (gelu, ios15)
{
  const AneMilVal *m = ane_mil_infer_arg (call, "mode");
  const char *mode = ane_mil_infer_string (call, "mode", "EXACT");

  if (mode == NULL && m->kind != ANE_MIL_VAL_OTHER)
    return ane_mil_infer_fail (call, error, "mode must be a single str");
  if (mode != NULL && strcmp (mode, "EXACT") != 0 && strcmp (mode, "TANH_APPROXIMATION") != 0 &&
      strcmp (mode, "SIGMOID_APPROXIMATION") != 0)
    return ane_mil_infer_fail (call, error, "mode '%s' is none of EXACT, TANH_APPROXIMATION, "
                               "SIGMOID_APPROXIMATION", mode);
  return same_as_x (call, error);
}

/* iOS15/activation.py, activation_with_alpha.type_inference (l. 34-35) and
 * activation_with_alpha_and_beta.type_inference (l. 52-53): x.sym_type.
 * The iOS17 classes (iOS17/activation.py) change only input_spec and
 * type_domains (alpha and beta in their own float domain U). */
ANE_MIL_INFER_RULE (elu, ios15)                 { return same_as_x (call, error); }  /* elu, l. 85-109 */
ANE_MIL_INFER_RULE (elu, ios17)                 { return same_as_x (call, error); }  /* iOS17 elu, l. 71-103 */
ANE_MIL_INFER_RULE (leaky_relu, ios15)          { return same_as_x (call, error); }  /* leaky_relu, l. 188-212 */
ANE_MIL_INFER_RULE (leaky_relu, ios17)          { return same_as_x (call, error); }  /* iOS17, l. 106-138 */
ANE_MIL_INFER_RULE (thresholded_relu, ios15)    { return same_as_x (call, error); }  /* l. 597-621 */
ANE_MIL_INFER_RULE (thresholded_relu, ios17)    { return same_as_x (call, error); }  /* iOS17, l. 325-357 */
ANE_MIL_INFER_RULE (clamped_relu, ios15)        { return same_as_x (call, error); }  /* l. 56-82 */
ANE_MIL_INFER_RULE (clamped_relu, ios17)        { return same_as_x (call, error); }  /* iOS17, l. 33-68 */
ANE_MIL_INFER_RULE (linear_activation, ios15)   { return same_as_x (call, error); }  /* l. 215-238 */
ANE_MIL_INFER_RULE (linear_activation, ios17)   { return same_as_x (call, error); }  /* iOS17, l. 141-175 */
ANE_MIL_INFER_RULE (scaled_tanh, ios15)         { return same_as_x (call, error); }  /* l. 350-374 */
ANE_MIL_INFER_RULE (scaled_tanh, ios17)         { return same_as_x (call, error); }  /* iOS17, l. 216-251 */
ANE_MIL_INFER_RULE (sigmoid_hard, ios15)        { return same_as_x (call, error); }  /* l. 401-426 */
ANE_MIL_INFER_RULE (sigmoid_hard, ios17)        { return same_as_x (call, error); }  /* iOS17, l. 254-288 */

/* A rank-1 param whose length must be x's dimension 1. pymil compares
 * x.shape[1] with the length of the param's value: a symbolic dimension is
 * never equal to a number (and a param without a value fails to read one),
 * so an unknown dimension 1 is refused. */
static gboolean
check_channel_param (AneMilInferCall  *call,
                     const AneMilVal  *x,
                     const char       *param,
                     GError          **error)
{
  const AneMilVal *p = ane_mil_infer_arg (call, param);

  if (p->kind == ANE_MIL_VAL_OTHER)
    return TRUE;
  if (p->rank != 1)
    return ane_mil_infer_fail (call, error, "%s must have rank 1, not %u", param, p->rank);
  if (x->shape[1] == ANE_MIL_DIM_UNKNOWN)
    return ane_mil_infer_fail (call, error, "x's dimension 1 (channels) is not known, so it "
                               "cannot match the length of %s", param);
  if (p->shape[0] != ANE_MIL_DIM_UNKNOWN && p->shape[0] != x->shape[1])
    return ane_mil_infer_fail (call, error, "%s has %" G_GINT64_FORMAT " elements, but x has %"
                               G_GINT64_FORMAT " channels (dimension 1)", param, p->shape[0], x->shape[1]);
  return TRUE;
}

/* iOS15/activation.py, prelu.type_inference (l. 275-299): x must have rank
 * 3, 4 or 5; alpha rank 1 with x's channel count; for rank 3 and 5 every
 * alpha must equal the first (a difference above 1e-5, computed in alpha's
 * dtype, raises). The iOS17 class (iOS17/activation.py l. 178-213) inherits
 * it. */
static gboolean
prelu (AneMilInferCall  *call,
       GError          **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x"), *alpha = ane_mil_infer_arg (call, "alpha");

  if (x->kind == ANE_MIL_VAL_OTHER)
    return ane_mil_infer_fail (call, error, "x must have rank 3, 4 or 5");
  if (x->rank < 3 || x->rank > 5)
    return ane_mil_infer_fail (call, error, "x must have rank 3, 4 or 5, not %u", x->rank);
  if (!check_channel_param (call, x, "alpha", error))
    return FALSE;
  if ((x->rank == 3 || x->rank == 5) && alpha->kind == ANE_MIL_VAL_TENSOR && alpha->values != NULL)
    {
      double limit = round_to (1e-5, alpha->dtype);

      for (gsize i = 1; i < alpha->n_values; i++)
        if (fabs (round_to (alpha->values[i] - alpha->values[0], alpha->dtype)) > limit)
          return ane_mil_infer_fail (call, error, "with x of rank %u every alpha must be the same, "
                                     "but alpha[%" G_GSIZE_FORMAT "] = %g differs from alpha[0] = %g",
                                     x->rank, i, alpha->values[i], alpha->values[0]);
    }
  return same_as_x (call, error);
}

ANE_MIL_INFER_RULE (prelu, ios15) { return prelu (call, error); }
ANE_MIL_INFER_RULE (prelu, ios17) { return prelu (call, error); }

/* iOS15/activation.py, softplus_parametric.type_inference (l. 506-523): x
 * of rank 3 or more (no upper bound, unlike the docstring's rank 4), alpha
 * then beta rank 1 with x's channel count. The iOS17 class
 * (iOS17/activation.py l. 291-322) inherits it. */
static gboolean
softplus_parametric (AneMilInferCall  *call,
                     GError          **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");

  if (x->kind == ANE_MIL_VAL_OTHER)
    return same_as_x (call, error);   /* only ranks above the mirror's are OTHER */
  if (x->rank < 3)
    return ane_mil_infer_fail (call, error, "x must have rank 3 or more, not %u", x->rank);
  if (!check_channel_param (call, x, "alpha", error) || !check_channel_param (call, x, "beta", error))
    return FALSE;
  return same_as_x (call, error);
}

ANE_MIL_INFER_RULE (softplus_parametric, ios15) { return softplus_parametric (call, error); }
ANE_MIL_INFER_RULE (softplus_parametric, ios17) { return softplus_parametric (call, error); }
