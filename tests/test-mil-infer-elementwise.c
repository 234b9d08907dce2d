/* test-mil-infer-elementwise.c: the type-inference rules of ane-glib/mil/infer/ane-mil-infer-elementwise.c
 *
 * Hand-checked cases per op against the type_inference of coremltools'
 * op classes (the source each row of ane-mil-opdefs.c names). Every
 * expectation below was first obtained from coremltools 9.0 itself (pymil
 * Builder calls on placeholders of the same types).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-infer-test-util.h"

#define FP16  ANE_MIL_DT_FP16
#define FP32  ANE_MIL_DT_FP32
#define INT32 ANE_MIL_DT_INT32
#define BOOL  ANE_MIL_DT_BOOL
#define MISMATCH ANE_ERROR_TYPE_MISMATCH

#define V(dtype, shape) ane_test_val ((dtype), (shape))
#define F(dtype, value) ane_test_float ((dtype), (value))
#define S(value)        ane_test_str (value)
/* A call with one declared output, (param, value) pairs; ERR expects it
 * rejected as a type mismatch. */
#define INFER(target, op, ...) ane_test_infer ((target), (op), 1, __VA_ARGS__, NULL)
#define ERR(target, op, ...)   ane_test_infer_error ((target), (op), 1, MISMATCH, __VA_ARGS__, NULL)

/* A const vector of dtype holding values. */
static AneMilVal *
vec (int           dtype,
     const double *values,
     gsize         n)
{
  gint64 shape = (gint64) n;

  return ane_mil_val_new_values (dtype, &shape, 1, values);
}

#define VEC(dtype, ...) \
  vec ((dtype), (const double[]) { __VA_ARGS__ }, G_N_ELEMENTS (((const double[]) { __VA_ARGS__ })))

/* Asserts that the error's message contains needle. */
static void
assert_error (GError     *error,
              const char *needle)
{
  g_assert_nonnull (error);
  if (strstr (error->message, needle) == NULL)
    g_error ("expected \"%s\" in: %s", needle, error->message);
  g_error_free (error);
}

/* --- binary ------------------------------------------------------------- */

static const char *const arith_ops[] = {
  "add", "sub", "mul", "real_div", "floor_div", "maximum", "minimum", "pow", "mod",
};
static const char *const compare_ops[] = {
  "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
};
static const char *const logical_ops[] = { "logical_and", "logical_or", "logical_xor" };

/* Shapes every binary op shares, with the output dtype out. */
static void
check_binary_shapes (const char *op,
                     int         in,
                     const char *out)
{
  struct {
    AneMilTarget target;
    const char *x, *y, *expected;
  } cases[] = {
    { ANE_MIL_IOS15, "[2, 3]", "[2, 3]", "[2, 3]" },
    { ANE_MIL_IOS16, "[2, 3]", "[3]", "[2, 3]" },
    { ANE_MIL_IOS17, "[4, 1, 3]", "[2, 1]", "[4, 2, 3]" },
    { ANE_MIL_IOS18, "[1]", "[5, 1, 1]", "[5, 1, 1]" },
    /* a known side > 1 decides a symbolic one, a 1 takes the other side */
    { ANE_MIL_IOS15, "[2, ?]", "[3]", "[2, 3]" },
    { ANE_MIL_IOS15, "[2, ?]", "[1]", "[2, ?]" },
    { ANE_MIL_IOS15, "[2, ?]", "[?, 1]", "[2, ?]" },
    { ANE_MIL_IOS15, "[?]", "[?]", "[?]" },
    /* 0 against a symbol: a new symbol; 0 against 1 stays 0 */
    { ANE_MIL_IOS15, "[2, ?]", "[2, 0]", "[2, ?]" },
    { ANE_MIL_IOS15, "[2, 0]", "[2, 1]", "[2, 0]" },
    /* a scalar side takes the other's shape as is */
    { ANE_MIL_IOS15, "[2, 3]", "", "[2, 3]" },
    { ANE_MIL_IOS15, "", "[?, 7]", "[?, 7]" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(AneMilInferCall) c = INFER (cases[i].target, op, "x", V (in, cases[i].x),
          "y", V (in, cases[i].y));
      g_autofree char *expected = g_strdup_printf ("tensor<%s, %s>", out, cases[i].expected);

      ane_test_assert_type (c, 0, expected);
    }

  /* two scalars: a scalar */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, op, "x", V (in, ""), "y", V (in, ""));
    ane_test_assert_type (c, 0, out);
  }

  /* shapes that do not broadcast */
  assert_error (ERR (ANE_MIL_IOS15, op, "x", V (in, "[2, 3]"), "y", V (in, "[4]")), "do not broadcast");
  assert_error (ERR (ANE_MIL_IOS18, op, "x", V (in, "[0]"), "y", V (in, "[2]")), "do not broadcast");
}

static void
test_binary_arith (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (arith_ops); i++)
    {
      const char *op = arith_ops[i];

      check_binary_shapes (op, FP16, "fp16");
      check_binary_shapes (op, FP32, "fp32");
      /* int32 stays int32, real_div too */
      check_binary_shapes (op, INT32, "int32");
      /* x and y share domain T: no promotion across dtypes */
      assert_error (ERR (ANE_MIL_IOS15, op, "x", V (FP16, "[2]"), "y", V (FP32, "[2]")), "one dtype");
      assert_error (ERR (ANE_MIL_IOS15, op, "x", V (BOOL, "[2]"), "y", V (BOOL, "[2]")), "takes");
    }
}

static void
test_binary_compare (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (compare_ops); i++)
    {
      const char *op = compare_ops[i];

      check_binary_shapes (op, FP16, "bool");
      check_binary_shapes (op, FP32, "bool");
      check_binary_shapes (op, INT32, "bool");
      assert_error (ERR (ANE_MIL_IOS17, op, "x", V (INT32, "[2]"), "y", V (FP32, "")), "one dtype");
    }
}

static void
test_binary_logical (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (logical_ops); i++)
    {
      const char *op = logical_ops[i];

      check_binary_shapes (op, BOOL, "bool");
      /* T is bool only */
      assert_error (ERR (ANE_MIL_IOS15, op, "x", V (FP16, "[2]"), "y", V (FP16, "[2]")), "takes bool");
    }
  /* a const bool scalar with a tensor */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "logical_and", "x", V (BOOL, "[2, 3]"),
        "y", ane_test_bool (TRUE));
    ane_test_assert_type (c, 0, "tensor<bool, [2, 3]>");
  }
}

/* --- unary -------------------------------------------------------------- */

/* Ops whose output is x's type, with whether int32 is in their domain. */
static const struct {
  const char *op;
  gboolean    with_int;
} unary_ops[] = {
  { "abs", TRUE }, { "acos", FALSE }, { "asin", FALSE }, { "atan", FALSE }, { "atanh", FALSE },
  { "ceil", FALSE }, { "cos", FALSE }, { "cosh", FALSE }, { "erf", FALSE }, { "exp", FALSE },
  { "exp2", TRUE }, { "floor", FALSE }, { "round", FALSE }, { "sign", TRUE }, { "sin", FALSE },
  { "sinh", FALSE }, { "sqrt", FALSE }, { "square", TRUE }, { "tan", FALSE }, { "tanh", FALSE },
  { "relu", FALSE }, { "relu6", FALSE }, { "sigmoid", FALSE }, { "silu", FALSE },
  { "softplus", FALSE }, { "softsign", FALSE },
};

static void
test_unary (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (unary_ops); i++)
    {
      const char *op = unary_ops[i].op;

      for (AneMilTarget t = ANE_MIL_IOS15; t <= ANE_MIL_IOS18; t++)
        {
          g_autoptr(AneMilInferCall) c = INFER (t, op, "x", V (FP16, "[2, ?, 3]"));
          ane_test_assert_type (c, 0, "tensor<fp16, [2, ?, 3]>");
        }
      {
        g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, op, "x", V (FP32, ""));
        ane_test_assert_type (c, 0, "fp32");
      }
      if (unary_ops[i].with_int)
        {
          /* int32 in, int32 out (exp2 too) */
          g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS17, op, "x", V (INT32, "[4]"));
          ane_test_assert_type (c, 0, "tensor<int32, [4]>");
        }
      else
        {
          assert_error (ERR (ANE_MIL_IOS17, op, "x", V (INT32, "[4]")), "takes fp16|fp32");
        }
      assert_error (ERR (ANE_MIL_IOS15, op, "x", V (BOOL, "[4]")), "not bool");
    }
}

static void
test_logical_not (void)
{
  g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "logical_not", "x", V (BOOL, "[?, 2]"));
  g_autoptr(AneMilInferCall) s = INFER (ANE_MIL_IOS18, "logical_not", "x", ane_test_bool (FALSE));

  ane_test_assert_type (c, 0, "tensor<bool, [?, 2]>");
  ane_test_assert_type (s, 0, "bool");
  assert_error (ERR (ANE_MIL_IOS15, "logical_not", "x", V (INT32, "[2]")), "takes bool");
}

static void
test_threshold (void)
{
  g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "threshold", "x", V (INT32, "[2, 3]"),
      "alpha", ane_test_ints ("1"));
  g_autoptr(AneMilInferCall) f = INFER (ANE_MIL_IOS18, "threshold", "x", V (FP16, "[?]"),
      "alpha", F (FP16, 0.5));

  ane_test_assert_type (c, 0, "tensor<int32, [2, 3]>");
  ane_test_assert_type (f, 0, "tensor<fp16, [?]>");
  /* alpha shares x's dtype and must be const */
  assert_error (ERR (ANE_MIL_IOS15, "threshold", "x", V (FP16, "[2]"),
      "alpha", F (FP32, 0.5)), "one dtype");
  assert_error (ERR (ANE_MIL_IOS15, "threshold", "x", V (FP16, "[2]"), "alpha", V (FP16, "")), "const");
}

static void
test_clip (void)
{
  /* iOS15/16: alpha and beta are not compared */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS16, "clip", "x", V (FP16, "[2, 3, 4]"),
        "alpha", F (FP16, 1), "beta", F (FP16, 0));
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 4]>");
  }
  /* iOS17 on: alpha < beta */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS17, "clip", "x", V (FP32, "[?, 4]"),
        "alpha", F (FP32, 0), "beta", F (FP32, 6));
    ane_test_assert_type (c, 0, "tensor<fp32, [?, 4]>");
  }
  assert_error (ERR (ANE_MIL_IOS18, "clip", "x", V (FP16, "[2, 3, 4]"), "alpha", F (FP16, 1),
      "beta", F (FP16, 0)), "less than beta");
  assert_error (ERR (ANE_MIL_IOS17, "clip", "x", V (FP16, "[2, 3, 4]"), "alpha", F (FP16, 1),
      "beta", F (FP16, 1)), "less than beta");
  /* one element each compares; a scalar with [1] too */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS17, "clip", "x", V (FP16, "[2, 3, 4]"),
        "alpha", F (FP16, 0), "beta", VEC (FP16, 1));
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 4]>");
  }
  assert_error (ERR (ANE_MIL_IOS17, "clip", "x", V (FP16, "[2, 3, 4]"), "alpha", F (FP16, 2),
      "beta", VEC (FP16, 1)), "less than beta");
  /* more than one element: no single truth value */
  assert_error (ERR (ANE_MIL_IOS17, "clip", "x", V (FP16, "[2, 3, 4]"), "alpha", VEC (FP16, 0, 0),
      "beta", VEC (FP16, 1, 1)), "single truth value");
  /* alpha and beta that do not broadcast */
  assert_error (ERR (ANE_MIL_IOS17, "clip", "x", V (FP16, "[2, 3, 4]"), "alpha", VEC (FP16, 0, 0),
      "beta", VEC (FP16, 1, 1, 1)), "do not broadcast");
  /* NaN compares false: passes */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS17, "clip", "x", V (FP16, "[2, 3, 4]"),
        "alpha", F (FP16, NAN), "beta", F (FP16, 0));
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 4]>");
  }
  /* an empty comparison passes */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS17, "clip", "x", V (FP16, "[2]"),
        "alpha", VEC (FP16, 0),
        "beta", ane_mil_val_new_values (FP16, (const gint64[]) { 0 }, 1, (const double[]) { 0 }));
    ane_test_assert_type (c, 0, "tensor<fp16, [2]>");
  }
  /* consts whose values the mirror does not hold: nothing to compare */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS17, "clip", "x", V (FP16, "[2]"),
        "alpha", ane_test_const_val (FP16, ""), "beta", ane_test_const_val (FP16, ""));
    ane_test_assert_type (c, 0, "tensor<fp16, [2]>");
  }
  /* a scalar x */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "clip", "x", V (FP32, ""), "alpha", F (FP32, 0),
        "beta", F (FP32, 1));
    ane_test_assert_type (c, 0, "fp32");
  }
  /* non-const beta */
  assert_error (ERR (ANE_MIL_IOS15, "clip", "x", V (FP16, "[2]"), "alpha", F (FP16, 0),
      "beta", V (FP16, "")), "const");
}

/* inverse, log, rsqrt: epsilon optional, in x's domain before iOS17. */
static void
test_epsilon_ops (void)
{
  static const char *const ops[] = { "inverse", "log", "rsqrt" };

  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      const char *op = ops[i];

      {
        g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, op, "x", V (FP16, "[2, ?]"));
        ane_test_assert_type (c, 0, "tensor<fp16, [2, ?]>");
      }
      {
        g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS16, op, "x", V (FP32, ""),
            "epsilon", F (FP32, 1e-3));
        ane_test_assert_type (c, 0, "fp32");
      }
      /* iOS17: epsilon may be fp32 for an fp16 x; the output stays fp16 */
      {
        g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS17, op, "x", V (FP16, "[3]"),
            "epsilon", F (FP32, 1));
        ane_test_assert_type (c, 0, "tensor<fp16, [3]>");
      }
      assert_error (ERR (ANE_MIL_IOS16, op, "x", V (FP16, "[3]"), "epsilon", F (FP32, 1)), "one dtype");
      assert_error (ERR (ANE_MIL_IOS18, op, "x", V (FP16, "[3]"), "epsilon", V (FP16, "")), "const");
      assert_error (ERR (ANE_MIL_IOS18, op, "x", V (INT32, "[3]")), "takes fp16|fp32");
    }
}

/* --- cast --------------------------------------------------------------- */

static void
test_cast (void)
{
  /* shapes, unknown dims, scalars */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "cast", "x", V (FP16, "[2, ?]"),
        "dtype", S ("int32"));
    ane_test_assert_type (c, 0, "tensor<int32, [2, ?]>");
    g_assert_null (ane_mil_infer_call_output (c, 0)->values);
  }
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "cast", "x", V (INT32, "[4]"),
        "dtype", S ("bool"));
    ane_test_assert_type (c, 0, "tensor<bool, [4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS18, "cast", "x", V (BOOL, ""), "dtype", S ("fp16"));
    ane_test_assert_type (c, 0, "fp16");
  }
  /* int8, uint8, int16, uint16 only from iOS17 */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS17, "cast", "x", V (FP16, "[2, 3]"),
        "dtype", S ("int8"));
    g_autoptr(AneMilInferCall) u = INFER (ANE_MIL_IOS18, "cast", "x", V (FP16, "[2, 3]"),
        "dtype", S ("uint16"));
    g_autoptr(AneMilInferCall) i = INFER (ANE_MIL_IOS17, "cast",
        "x", ane_mil_val_new (ANE_MIL_DT_UINT8, (const gint64[]) { 5 }, 1), "dtype", S ("fp32"));
    ane_test_assert_type (c, 0, "tensor<int8, [2, 3]>");
    ane_test_assert_type (u, 0, "tensor<uint16, [2, 3]>");
    ane_test_assert_type (i, 0, "tensor<fp32, [5]>");
  }
  assert_error (ERR (ANE_MIL_IOS15, "cast", "x", V (FP16, "[2]"), "dtype", S ("int8")), "'int8'");
  assert_error (ERR (ANE_MIL_IOS16, "cast", "x", V (FP16, "[2]"), "dtype", S ("uint8")), "'uint8'");
  assert_error (ERR (ANE_MIL_IOS17, "cast", "x", V (FP16, "[2]"), "dtype", S ("int64")), "'int64'");
  assert_error (ERR (ANE_MIL_IOS15, "cast", "x", V (FP16, "[2]"), "dtype", S ("fp64")), "'fp64'");
  /* the x domain: uint8 x only from iOS17 */
  assert_error (ERR (ANE_MIL_IOS16, "cast",
      "x", ane_mil_val_new (ANE_MIL_DT_UINT8, (const gint64[]) { 5 }, 1),
      "dtype", S ("fp32")), "not uint8");
  /* dtype must be const */
  assert_error (ERR (ANE_MIL_IOS15, "cast", "x", V (FP16, "[2]"),
      "dtype", V (ANE_MIL_DT_STRING, "")), "const");
}

static void
test_cast_values (void)
{
  /* float to int: truncation toward zero */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "cast", "x", VEC (FP32, 2.7, -2.7, 0.5, 70000),
        "dtype", S ("int32"));
    ane_test_assert_type (c, 0, "tensor<int32, [4]>");
    ane_test_assert_out_values (c, 0, "[2, -2, 0, 70000]");
    g_assert_true (ane_mil_infer_call_output (c, 0)->const_descendant);
  }
  /* a scalar */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "cast", "x", F (FP32, 2.7), "dtype", S ("int32"));
    ane_test_assert_type (c, 0, "int32");
    ane_test_assert_out_values (c, 0, "[2]");
  }
  /* narrow integers wrap, no saturation */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS17, "cast", "x", ane_test_ints ("[300, -1, 70000]"),
        "dtype", S ("int8"));
    g_autoptr(AneMilInferCall) u = INFER (ANE_MIL_IOS17, "cast", "x", ane_test_ints ("[300, -1, 70000]"),
        "dtype", S ("uint16"));
    g_autoptr(AneMilInferCall) f = INFER (ANE_MIL_IOS17, "cast", "x", F (FP32, -2.5), "dtype", S ("uint8"));
    g_autoptr(AneMilInferCall) s = INFER (ANE_MIL_IOS18, "cast", "x", VEC (FP16, 300, -300),
        "dtype", S ("int16"));
    ane_test_assert_out_values (c, 0, "[44, -1, 112]");
    ane_test_assert_out_values (u, 0, "[300, 65535, 4464]");
    ane_test_assert_type (f, 0, "uint8");
    ane_test_assert_out_values (f, 0, "[254]");
    ane_test_assert_out_values (s, 0, "[300, -300]");
  }
  /* to fp16: rounded (65520 is inf), to fp32 rounded */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "cast",
        "x", VEC (FP32, 0.100000001490116119384765625, 1e9), "dtype", S ("fp16"));
    g_autoptr(AneMilInferCall) i = INFER (ANE_MIL_IOS15, "cast", "x", ane_test_ints ("[65519, 65520, -7]"),
        "dtype", S ("fp16"));
    g_autoptr(AneMilInferCall) f = INFER (ANE_MIL_IOS15, "cast", "x", ane_test_ints ("[16777217]"),
        "dtype", S ("fp32"));
    const AneMilVal *v = ane_mil_infer_call_output (c, 0);

    g_assert_cmpfloat (v->values[0], ==, 0.0999755859375);
    g_assert_true (isinf (v->values[1]));
    ane_test_assert_out_values (i, 0, "[65504, inf, -7]");
    ane_test_assert_out_values (f, 0, "[1.67772e+07]");
    g_assert_cmpfloat (ane_mil_infer_call_output (f, 0)->values[0], ==, 16777216.0);
  }
  /* to bool: nonzero (NaN too) is true; from bool: 0 and 1 */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "cast", "x", VEC (FP16, 2.5, -0.0, 0, NAN),
        "dtype", S ("bool"));
    g_autoptr(AneMilInferCall) b = INFER (ANE_MIL_IOS15, "cast", "x", ane_test_bool (TRUE),
        "dtype", S ("int32"));
    ane_test_assert_type (c, 0, "tensor<bool, [4]>");
    ane_test_assert_out_values (c, 0, "[1, 0, 0, 1]");
    ane_test_assert_out_values (b, 0, "[1]");
  }
  /* a float beyond int32's range (or NaN) converts as the host's C does:
   * the value is not carried, the type is */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "cast", "x", VEC (FP32, 1, 3e9),
        "dtype", S ("int32"));
    g_autoptr(AneMilInferCall) n = INFER (ANE_MIL_IOS17, "cast", "x", F (FP16, NAN), "dtype", S ("int16"));
    ane_test_assert_type (c, 0, "tensor<int32, [2]>");
    g_assert_null (ane_mil_infer_call_output (c, 0)->values);
    ane_test_assert_type (n, 0, "int16");
    g_assert_null (ane_mil_infer_call_output (n, 0)->values);
  }
}

/* --- activations -------------------------------------------------------- */

static void
test_gelu (void)
{
  static const char *const modes[] = { "EXACT", "TANH_APPROXIMATION", "SIGMOID_APPROXIMATION" };

  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "gelu", "x", V (FP16, "[2, ?]"));
    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?]>");
  }
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS17, "gelu", "x", V (FP32, ""), "mode", S (modes[i]));
      ane_test_assert_type (c, 0, "fp32");
    }
  assert_error (ERR (ANE_MIL_IOS15, "gelu", "x", V (FP16, "[2]"), "mode", S ("FOO")), "'FOO'");
  assert_error (ERR (ANE_MIL_IOS18, "gelu", "x", V (FP16, "[2]"), "mode", S ("exact")), "'exact'");
}

static void
test_softmax (void)
{
  g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "softmax", "x", V (FP16, "[2, ?, 4]"));
  g_autoptr(AneMilInferCall) a = INFER (ANE_MIL_IOS18, "softmax", "x", V (FP32, "[2, 3]"),
      "axis", ane_test_ints ("0"));
  /* the axis is not checked against the rank */
  g_autoptr(AneMilInferCall) o = INFER (ANE_MIL_IOS15, "softmax", "x", V (FP16, "[2, 3]"),
      "axis", ane_test_ints ("5"));

  ane_test_assert_type (c, 0, "tensor<fp16, [2, ?, 4]>");
  ane_test_assert_type (a, 0, "tensor<fp32, [2, 3]>");
  ane_test_assert_type (o, 0, "tensor<fp16, [2, 3]>");
  assert_error (ERR (ANE_MIL_IOS15, "softmax", "x", V (FP16, "[2]"), "axis", V (INT32, "")), "const");
  assert_error (ERR (ANE_MIL_IOS15, "softmax", "x", V (INT32, "[2]")), "takes fp16|fp32");
}

/* elu, leaky_relu, thresholded_relu: x and a const alpha. */
static void
test_alpha_ops (void)
{
  static const char *const ops[] = { "elu", "leaky_relu", "thresholded_relu" };

  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      const char *op = ops[i];

      {
        g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, op, "x", V (FP16, "[1, ?, 3]"),
            "alpha", F (FP16, 0.5));
        ane_test_assert_type (c, 0, "tensor<fp16, [1, ?, 3]>");
      }
      {
        g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS16, op, "x", V (FP32, ""), "alpha", F (FP32, 0.5));
        ane_test_assert_type (c, 0, "fp32");
      }
      /* iOS17: alpha in its own domain U */
      {
        g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS17, op, "x", V (FP16, "[2]"),
            "alpha", F (FP32, 0.5));
        ane_test_assert_type (c, 0, "tensor<fp16, [2]>");
      }
      assert_error (ERR (ANE_MIL_IOS16, op, "x", V (FP16, "[2]"), "alpha", F (FP32, 0.5)), "one dtype");
      assert_error (ERR (ANE_MIL_IOS18, op, "x", V (FP16, "[2]"), "alpha", V (FP16, "")), "const");
    }
}

/* clamped_relu, linear_activation, scaled_tanh, sigmoid_hard: x, const
 * alpha and beta. */
static void
test_alpha_beta_ops (void)
{
  static const char *const ops[] = { "clamped_relu", "linear_activation", "scaled_tanh", "sigmoid_hard" };

  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      const char *op = ops[i];

      {
        g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, op, "x", V (FP16, "[2, ?]"),
            "alpha", F (FP16, 1), "beta", F (FP16, 2));
        ane_test_assert_type (c, 0, "tensor<fp16, [2, ?]>");
      }
      {
        g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS18, op, "x", V (FP16, ""), "alpha", F (FP32, 1),
            "beta", F (FP32, 2));
        ane_test_assert_type (c, 0, "fp16");
      }
      assert_error (ERR (ANE_MIL_IOS15, op, "x", V (FP16, "[2]"), "alpha", F (FP16, 1),
          "beta", F (FP32, 2)), "one dtype");
      /* U is one domain: alpha and beta agree */
      assert_error (ERR (ANE_MIL_IOS17, op, "x", V (FP16, "[2]"), "alpha", F (FP16, 1),
          "beta", F (FP32, 2)), "one dtype");
    }
}

static void
test_prelu (void)
{
  /* rank 4: alpha per channel */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "prelu", "x", V (FP16, "[1, 3, ?, 5]"),
        "alpha", VEC (FP16, 1, 2, 3));
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 3, ?, 5]>");
  }
  /* rank 3 and 5: only with all alphas equal */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS16, "prelu", "x", V (FP16, "[1, 3, 4]"),
        "alpha", VEC (FP16, 0.25, 0.25, 0.25));
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 3, 4]>");
  }
  assert_error (ERR (ANE_MIL_IOS15, "prelu", "x", V (FP16, "[1, 3, 4]"),
      "alpha", VEC (FP16, 1, 2, 3)), "must be the same");
  assert_error (ERR (ANE_MIL_IOS17, "prelu", "x", V (FP16, "[1, 3, 4, 5, 6]"),
      "alpha", VEC (FP16, 1, 1, 1.0009765625)), "must be the same");
  /* the 1e-5 tolerance is taken in alpha's dtype: fp16(1e-5) = 1.0013580322265625e-05 */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "prelu", "x", V (FP16, "[1, 2, 4]"),
        "alpha", VEC (FP16, 0, 1.0013580322265625e-05));
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 2, 4]>");
  }
  assert_error (ERR (ANE_MIL_IOS15, "prelu", "x", V (FP16, "[1, 2, 4]"),
      "alpha", VEC (FP16, 0, 1.0073184967041016e-05)), "must be the same");
  assert_error (ERR (ANE_MIL_IOS15, "prelu", "x", V (FP32, "[1, 2, 4]"),
      "alpha", VEC (FP32, 0, 1.0000000656873453e-05)), "must be the same");
  /* alpha's values unknown to the mirror: not compared */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "prelu", "x", V (FP32, "[1, 3, 4]"),
        "alpha", ane_test_const_val (FP32, "[3]"));
    ane_test_assert_type (c, 0, "tensor<fp32, [1, 3, 4]>");
  }
  /* iOS17: alpha in domain U */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS17, "prelu", "x", V (FP16, "[1, 3, 4]"),
        "alpha", VEC (FP32, 1, 1, 1));
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 3, 4]>");
  }
  assert_error (ERR (ANE_MIL_IOS16, "prelu", "x", V (FP16, "[1, 3, 4]"),
      "alpha", VEC (FP32, 1, 1, 1)), "one dtype");
  /* ranks */
  assert_error (ERR (ANE_MIL_IOS15, "prelu", "x", V (FP16, "[1, 3]"),
      "alpha", VEC (FP16, 1, 2, 3)), "rank 3, 4 or 5, not 2");
  assert_error (ERR (ANE_MIL_IOS18, "prelu", "x", V (FP16, "[1, 3, 4, 5, 6, 7]"),
      "alpha", VEC (FP16, 1, 1, 1)), "rank 3, 4 or 5, not 6");
  assert_error (ERR (ANE_MIL_IOS15, "prelu", "x", F (FP32, -1), "alpha", VEC (FP32, 1)), "not 0");
  /* alpha: rank 1, one value per channel */
  assert_error (ERR (ANE_MIL_IOS15, "prelu", "x", V (FP16, "[1, 3, 4, 4]"),
      "alpha", F (FP16, 1)), "alpha must have rank 1");
  assert_error (ERR (ANE_MIL_IOS15, "prelu", "x", V (FP16, "[1, 3, 4, 4]"),
      "alpha", ane_test_const_val (FP16, "[1, 3]")), "alpha must have rank 1");
  assert_error (ERR (ANE_MIL_IOS15, "prelu", "x", V (FP16, "[1, 2, 4, 5]"),
      "alpha", VEC (FP16, 1, 1, 1)), "3 elements");
  /* a symbolic channel count never matches */
  assert_error (ERR (ANE_MIL_IOS15, "prelu", "x", V (FP16, "[1, ?, 4]"),
      "alpha", VEC (FP16, 1, 1, 1)), "not known");
  assert_error (ERR (ANE_MIL_IOS15, "prelu", "x", V (FP16, "[1, 3, 4]"),
      "alpha", V (FP16, "[3]")), "const");
}

static void
test_softplus_parametric (void)
{
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS15, "softplus_parametric", "x", V (FP16, "[1, 3, ?]"),
        "alpha", VEC (FP16, 1, 2, 3), "beta", VEC (FP16, 1, 2, 3));
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 3, ?]>");
  }
  /* no upper rank bound */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS16, "softplus_parametric",
        "x", V (FP32, "[1, 3, 4, 5, 6, 7]"), "alpha", VEC (FP32, 1, 2, 3), "beta", VEC (FP32, 1, 2, 3));
    ane_test_assert_type (c, 0, "tensor<fp32, [1, 3, 4, 5, 6, 7]>");
  }
  /* iOS17: alpha and beta in domain U */
  {
    g_autoptr(AneMilInferCall) c = INFER (ANE_MIL_IOS17, "softplus_parametric", "x", V (FP16, "[2, 3, 4]"),
        "alpha", VEC (FP32, 1, 1, 1), "beta", VEC (FP32, 1, 1, 1));
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 4]>");
  }
  assert_error (ERR (ANE_MIL_IOS15, "softplus_parametric", "x", V (FP16, "[1, 3]"),
      "alpha", VEC (FP16, 1, 2, 3), "beta", VEC (FP16, 1, 2, 3)), "rank 3 or more, not 2");
  assert_error (ERR (ANE_MIL_IOS15, "softplus_parametric", "x", F (FP16, 1), "alpha", VEC (FP16, 1),
      "beta", VEC (FP16, 1)), "not 0");
  assert_error (ERR (ANE_MIL_IOS15, "softplus_parametric", "x", V (FP16, "[1, 3, 4]"), "alpha", F (FP16, 1),
      "beta", VEC (FP16, 1, 2, 3)), "alpha must have rank 1");
  assert_error (ERR (ANE_MIL_IOS18, "softplus_parametric", "x", V (FP16, "[1, 3, 4]"),
      "alpha", VEC (FP16, 1, 2, 3), "beta", VEC (FP16, 1, 2)), "beta has 2 elements");
  assert_error (ERR (ANE_MIL_IOS15, "softplus_parametric", "x", V (FP16, "[2, ?, 4]"),
      "alpha", VEC (FP16, 1, 1), "beta", VEC (FP16, 1, 1)), "not known");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/mil-infer/elementwise/binary-arithmetic", test_binary_arith);
  g_test_add_func ("/ane/mil-infer/elementwise/binary-comparison", test_binary_compare);
  g_test_add_func ("/ane/mil-infer/elementwise/binary-logical", test_binary_logical);
  g_test_add_func ("/ane/mil-infer/elementwise/unary", test_unary);
  g_test_add_func ("/ane/mil-infer/elementwise/logical_not", test_logical_not);
  g_test_add_func ("/ane/mil-infer/elementwise/threshold", test_threshold);
  g_test_add_func ("/ane/mil-infer/elementwise/clip", test_clip);
  g_test_add_func ("/ane/mil-infer/elementwise/inverse-log-rsqrt", test_epsilon_ops);
  g_test_add_func ("/ane/mil-infer/elementwise/cast", test_cast);
  g_test_add_func ("/ane/mil-infer/elementwise/cast-values", test_cast_values);
  g_test_add_func ("/ane/mil-infer/elementwise/gelu", test_gelu);
  g_test_add_func ("/ane/mil-infer/elementwise/softmax", test_softmax);
  g_test_add_func ("/ane/mil-infer/elementwise/alpha-activations", test_alpha_ops);
  g_test_add_func ("/ane/mil-infer/elementwise/alpha-beta-activations", test_alpha_beta_ops);
  g_test_add_func ("/ane/mil-infer/elementwise/prelu", test_prelu);
  g_test_add_func ("/ane/mil-infer/elementwise/softplus_parametric", test_softplus_parametric);

  return g_test_run ();
}
