/* runtime/cpu/ane-cpu-k-elementwise.c: elementwise MIL kernels
 *
 * Semantics from coremltools' op definitions and value inference
 * (ops/defs/iOS15/elementwise_binary.py, elementwise_unary.py,
 * activation.py, control_flow.py): numpy broadcasting; log and rsqrt add
 * their epsilon before the function (log(x + eps), 1/sqrt(x + eps));
 * floor_div floors; round is numpy's half-to-even.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "runtime/cpu/ane-cpu-bcast-private.h"
#include "runtime/cpu/ane-cpu-expf-private.h"
#include "runtime/cpu/ane-cpu-kernels-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

/* Elements per piece of a parallel loop: below this the hand-off costs more
 * than the work (each element is a few ns). */
#define PARALLEL_GRAIN (1 << 14)

static void
store (AneCpuValue *v,
       gsize        i,
       double       x)
{
  if (v->f)
    v->f[i] = (float) x;
  else if (v->dtype == ANE_DTYPE_BOOL)
    v->i[i] = x != 0.0;   /* cast to bool is x != 0 (NaN included, as numpy), not a truncation */
  else if (isnan (x))
    v->i[i] = 0;
  else
    v->i[i] = (gint32) CLAMP (trunc (x), -2147483648.0, 2147483647.0);
}

/* --- binary ---------------------------------------------------------------- */

typedef double (*BinaryFunc) (double a, double b);

static double op_add (double a, double b) { return a + b; }
static double op_sub (double a, double b) { return a - b; }
static double op_mul (double a, double b) { return a * b; }
static double op_real_div (double a, double b) { return a / b; }
/* np.floor_divide: on floats floor(a / b), so a zero divisor gives a / b
 * (inf, -inf or NaN); on integers a zero divisor gives 0 (numpy). */
static double op_floor_div (double a, double b) { return floor (a / b); }
static double op_floor_div_int (double a, double b) { return b == 0.0 ? 0.0 : floor (a / b); }
static double op_max (double a, double b) { return isnan (a) || isnan (b) ? NAN : fmax (a, b); }
static double op_min (double a, double b) { return isnan (a) || isnan (b) ? NAN : fmin (a, b); }
static double op_pow (double a, double b) { return pow (a, b); }
/* operator.mod on numpy arrays (np.mod): Python's remainder, with the sign
 * of the divisor, from the exact fmod -- a - floor(a / b) * b loses the
 * remainder when a / b is large and is NaN for an infinite b, where numpy
 * gives a (or b when the signs differ). NaN for b = 0 (0 once stored as an
 * integer, as numpy's integer mod). */
static double
op_mod (double a, double b)
{
  double r = fmod (a, b);

  if (r != 0.0 && (r < 0.0) != (b < 0.0))
    r += b;
  return r;
}
static double op_eq (double a, double b) { return a == b; }
static double op_ne (double a, double b) { return a != b; }
static double op_lt (double a, double b) { return a < b; }
static double op_le (double a, double b) { return a <= b; }
static double op_gt (double a, double b) { return a > b; }
static double op_ge (double a, double b) { return a >= b; }
static double op_and (double a, double b) { return a != 0 && b != 0; }
static double op_or (double a, double b) { return a != 0 || b != 0; }
static double op_xor (double a, double b) { return (a != 0) != (b != 0); }

/* Element i as a double, inlined (the kernels' inner loops). */
static inline double
value_at (const AneCpuValue *v,
          gsize              i)
{
  return v->f ? (double) v->f[i] : (double) v->i[i];
}

/* The four arithmetic ops on floats, in float: the exact result of +, −,
 * × or ÷ of two floats rounded once to float is what rounding the double
 * result gives too (a double holds more than twice a float's 24 bits, so
 * the double rounding is innocuous: Figueroa, "When is double rounding
 * innocuous?", SIGNUM 1995), so these loops give the double path's bits
 * while the compiler vectorizes them. They were 10% of a 128-token
 * prompt's time through the function pointer. */
typedef enum { FLOAT_RUN_NONE, FLOAT_RUN_ADD, FLOAT_RUN_SUB, FLOAT_RUN_MUL, FLOAT_RUN_DIV,
               FLOAT_RUN_MAX, FLOAT_RUN_MIN } FloatRunOp;

/* maximum and minimum of floats without the double round trip and fmax's
 * call: exact either way (the result is one of the operands), NaN when
 * either is NaN as op_max / op_min (a + b is then NaN). They were a third
 * of PaddleOCR's classifier on the CPU backend (its hardsigmoid and relu6
 * are lowered to maximum + minimum, bench-onnx). */
#define FLOAT_MAX(a, b) ((a) != (a) || (b) != (b) ? (a) + (b) : (a) > (b) ? (a) : (b))
#define FLOAT_MIN(a, b) ((a) != (a) || (b) != (b) ? (a) + (b) : (a) < (b) ? (a) : (b))

static FloatRunOp
float_run_op (BinaryFunc func)
{
  return func == op_add ? FLOAT_RUN_ADD : func == op_sub ? FLOAT_RUN_SUB :
         func == op_mul ? FLOAT_RUN_MUL : func == op_real_div ? FLOAT_RUN_DIV :
         func == op_max ? FLOAT_RUN_MAX : func == op_min ? FLOAT_RUN_MIN : FLOAT_RUN_NONE;
}

/* One op over a run, each operand contiguous (stride 1) or repeated (0)
 * in the common cases, any stride otherwise. */
#define FLOAT_RUN_LOOPS(EXPR) \
  do { \
    if (sx == 1 && sy == 1) \
      for (gsize e = 0; e < n; e++) { float a = x[e], b = y[e]; o[e] = (EXPR); } \
    else if (sx == 1 && sy == 0) \
      { float b = y[0]; for (gsize e = 0; e < n; e++) { float a = x[e]; o[e] = (EXPR); } } \
    else if (sx == 0 && sy == 1) \
      { float a = x[0]; for (gsize e = 0; e < n; e++) { float b = y[e]; o[e] = (EXPR); } } \
    else \
      for (gsize e = 0; e < n; e++) { float a = x[e * sx], b = y[e * sy]; o[e] = (EXPR); } \
  } while (0)

/* The same for +, −, ×, ÷, four lanes at a time (one SSE2 or NEON register) where an operand is
 * contiguous and the other contiguous or repeated (GCC/Clang vector
 * extensions: each lane is the scalar IEEE operation, so the same bits as
 * the scalar tail; -O2 does not vectorize the loops above by itself).
 * mul and add were 16% of PaddleOCR's detector (bench-onnx). */
typedef float ane_ew_v4f __attribute__ ((vector_size (16)));

#define FLOAT_RUN_VLOOPS(EXPR) \
  do { \
    gsize v = 0; \
    if (sx == 1 && (sy == 1 || sy == 0)) \
      for (; v + 4 <= n; v += 4) \
        { \
          ane_ew_v4f a, b, r; \
          memcpy (&a, x + v, sizeof a); \
          if (sy == 1) \
            memcpy (&b, y + v, sizeof b); \
          else \
            b = (ane_ew_v4f) { 0 } + y[0]; \
          r = (EXPR); \
          memcpy (o + v, &r, sizeof r); \
        } \
    else if (sx == 0 && sy == 1) \
      for (; v + 4 <= n; v += 4) \
        { \
          ane_ew_v4f a = (ane_ew_v4f) { 0 } + x[0], b, r; \
          memcpy (&b, y + v, sizeof b); \
          r = (EXPR); \
          memcpy (o + v, &r, sizeof r); \
        } \
    x += v * sx, y += v * sy, o += v, n -= v; \
    FLOAT_RUN_LOOPS (EXPR); \
  } while (0)

static void
float_run (FloatRunOp   op,
           float       *o,
           const float *x,
           gsize        sx,
           const float *y,
           gsize        sy,
           gsize        n)
{
  switch (op)
    {
    case FLOAT_RUN_ADD: FLOAT_RUN_VLOOPS (a + b); break;
    case FLOAT_RUN_SUB: FLOAT_RUN_VLOOPS (a - b); break;
    case FLOAT_RUN_MUL: FLOAT_RUN_VLOOPS (a * b); break;
    case FLOAT_RUN_DIV: FLOAT_RUN_VLOOPS (a / b); break;
    case FLOAT_RUN_MAX: FLOAT_RUN_LOOPS (FLOAT_MAX (a, b)); break;
    case FLOAT_RUN_MIN: FLOAT_RUN_LOOPS (FLOAT_MIN (a, b)); break;
    case FLOAT_RUN_NONE: default: g_assert_not_reached ();
    }
}

typedef struct {
  const AneCpuValue *x, *y;
  AneCpuValue       *out;
  AneCpuBcast        layout;   /* x, y */
  BinaryFunc         func;
} BinaryJob;

/* Each element is independent, so any split gives the same result; the
 * walk (ane-cpu-bcast-private.h) adds a stride per operand per element. */
static void
binary_range (gsize    begin,
              gsize    end,
              gpointer data)
{
  const BinaryJob *j = data;
  const AneCpuValue *x = j->x, *y = j->y;
  AneCpuValue *out = j->out;
  gsize sx = ane_cpu_bcast_inner_stride (&j->layout, 0), sy = ane_cpu_bcast_inner_stride (&j->layout, 1);
  AneCpuBcastIter it;

  ane_cpu_bcast_iter_init (&it, &j->layout, begin, end);
  if (x->f && y->f && out->f && float_run_op (j->func) != FLOAT_RUN_NONE)
    while (ane_cpu_bcast_next (&it))
      float_run (float_run_op (j->func), out->f + it.index, x->f + it.off[0], sx, y->f + it.off[1], sy, it.len);
  else if (x->f && y->f && out->f)
    while (ane_cpu_bcast_next (&it))
      {
        const float *xp = x->f + it.off[0], *yp = y->f + it.off[1];
        float *op = out->f + it.index;

        for (gsize e = 0; e < it.len; e++, xp += sx, yp += sy)
          op[e] = (float) j->func ((double) *xp, (double) *yp);
      }
  else
    while (ane_cpu_bcast_next (&it))
      for (gsize e = 0, xi = it.off[0], yi = it.off[1]; e < it.len; e++, xi += sx, yi += sy)
        store (out, it.index + e, j->func (value_at (x, xi), value_at (y, yi)));
}

static gboolean
run_binary (AneCpuCtx  *ctx,
            BinaryFunc  func,
            GError    **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x"), *y = ane_cpu_in (ctx, "y");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  BinaryJob job = { x, y, out, { 0, }, func };

  if (x == NULL || y == NULL)
    return ane_cpu_fail (ctx, error, "needs parameters x and y");
  if (!ane_cpu_bcast_init (&job.layout, out, (const AneCpuValue *const[]) { x, y }, 2))
    return ane_cpu_fail (ctx, error, "operands of rank %u and %u do not broadcast to the declared output "
                         "(rank %u)", x->rank, y->rank, out->rank);
  ane_cpu_parallel_for (out->n, PARALLEL_GRAIN, binary_range, &job);
  return TRUE;
}

#define BINARY_KERNEL(name, func) \
  static gboolean k_##name (AneCpuCtx *ctx, GError **error) { return run_binary (ctx, func, error); }

BINARY_KERNEL (add, op_add)
BINARY_KERNEL (sub, op_sub)
BINARY_KERNEL (mul, op_mul)
BINARY_KERNEL (real_div, op_real_div)
BINARY_KERNEL (maximum, op_max)
BINARY_KERNEL (minimum, op_min)
BINARY_KERNEL (pow, op_pow)
BINARY_KERNEL (mod, op_mod)
BINARY_KERNEL (equal, op_eq)
BINARY_KERNEL (not_equal, op_ne)
BINARY_KERNEL (less, op_lt)
BINARY_KERNEL (less_equal, op_le)
BINARY_KERNEL (greater, op_gt)
BINARY_KERNEL (greater_equal, op_ge)
BINARY_KERNEL (logical_and, op_and)
BINARY_KERNEL (logical_or, op_or)
BINARY_KERNEL (logical_xor, op_xor)

static gboolean
k_floor_div (AneCpuCtx *ctx,
             GError   **error)
{
  AneCpuValue *out = ane_cpu_out (ctx, 0);

  return run_binary (ctx, out->f != NULL ? op_floor_div : op_floor_div_int, error);
}

/* --- unary ----------------------------------------------------------------- */

typedef double (*UnaryFunc) (double x, double param);

static double sigmoid (double x) { return 1.0 / (1.0 + exp (-x)); }
static double u_relu (double x, double p) { return x > 0 ? x : (isnan (x) ? x : 0.0); }
static double u_sigmoid (double x, double p) { return sigmoid (x); }
static double u_tanh (double x, double p) { return tanh (x); }
static double u_silu (double x, double p) { return x * sigmoid (x); }
static double u_exp (double x, double p) { return exp (x); }
static double u_exp2 (double x, double p) { return exp2 (x); }
static double u_log (double x, double eps) { return log (x + eps); }
static double u_sqrt (double x, double p) { return sqrt (x); }
static double u_rsqrt (double x, double eps) { return 1.0 / sqrt (x + eps); }
static double u_inverse (double x, double eps) { return 1.0 / (x + eps); }
static double u_abs (double x, double p) { return fabs (x); }
static double u_sin (double x, double p) { return sin (x); }
static double u_cos (double x, double p) { return cos (x); }
static double u_tan (double x, double p) { return tan (x); }
static double u_atan (double x, double p) { return atan (x); }
static double u_round (double x, double p) { return nearbyint (x); }
static double u_floor (double x, double p) { return floor (x); }
static double u_ceil (double x, double p) { return ceil (x); }
/* np.sign(NaN) is NaN */
static double u_sign (double x, double p) { return isnan (x) ? x : x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }
static double u_square (double x, double p) { return x * x; }
static double u_erf (double x, double p) { return erf (x); }
static double u_not (double x, double p) { return x == 0; }
static double u_identity (double x, double p) { return x; }
/* softplus = log(1 + e^x), written so large x neither overflows nor loses bits */
static double u_softplus (double x, double p) { return x > 0 ? x + log1p (exp (-x)) : log1p (exp (x)); }

/* The float-to-float loop of one unary function, with the function
 * inlined (the same double arithmetic, so the same bits as the generic
 * loop): an indirect call and two storage tests per element made silu 10%
 * of a 128-token prompt. */
typedef void (*UnaryFloatLoop) (const float *x, float *out, gsize n, double param);

#define UNARY_FLOAT_LOOP(func) \
  static void func##_floats (const float *x, float *out, gsize n, double param) \
  { for (gsize i = 0; i < n; i++) out[i] = (float) func ((double) x[i], param); }

typedef struct {
  const AneCpuValue *x;
  AneCpuValue       *out;
  UnaryFunc          func;
  double             param;
  UnaryFloatLoop     floats;   /* NULL: the generic loop only */
} UnaryJob;

static void
unary_range (gsize    begin,
             gsize    end,
             gpointer data)
{
  const UnaryJob *j = data;

  if (j->floats != NULL && j->x->f != NULL && j->out->f != NULL)
    {
      j->floats (j->x->f + begin, j->out->f + begin, end - begin, j->param);
      return;
    }
  for (gsize i = begin; i < end; i++)
    store (j->out, i, j->func (ane_cpu_value_get (j->x, i), j->param));
}

static gboolean
run_unary_loop (AneCpuCtx      *ctx,
                UnaryFunc       func,
                UnaryFloatLoop  floats,
                double          param,
                GError        **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x");
  AneCpuValue *out = ane_cpu_out (ctx, 0);

  if (x == NULL || x->n != out->n)
    return ane_cpu_fail (ctx, error, "x is missing or does not match the output's shape");
  /* identity, and casts between dtypes of one storage: a copy (the driver
   * then rounds to the output's dtype) */
  if (func == u_identity && (x->f != NULL) == (out->f != NULL))
    {
      if (out->f)
        memcpy (out->f, x->f, out->n * sizeof (float));
      else
        memcpy (out->i, x->i, out->n * sizeof (gint32));
      return TRUE;
    }
  ane_cpu_parallel_for (out->n, PARALLEL_GRAIN, unary_range,
                        &(UnaryJob) { x, out, func, param, floats });
  return TRUE;
}

static gboolean
run_unary (AneCpuCtx  *ctx,
           UnaryFunc   func,
           double      param,
           GError    **error)
{
  return run_unary_loop (ctx, func, NULL, param, error);
}

/* silu in float for float tensors: x / (1 + e^−x), e^−x by ane_cpu_expf
 * (ane-cpu-expf-private.h), a few ulp from the double formula of u_silu
 * (which the reference kernels and the other storage mixes keep); through
 * glibc's double exp it was 7–10% of a LLaMA prompt (ggml computes its silu
 * with its own vector expf too, ggml-cpu/vec.h ggml_v_silu). e^−x is inf
 * for x < −88.7 (so silu(−inf) is NaN, as x·sigmoid(x) gives), NaN stays
 * NaN. Four lanes at a time with SSE2, the same bits as the scalar tail. */
static void
silu_floats (const float *x,
             float       *out,
             gsize        n,
             double       param)
{
  gsize i = 0;

#ifdef __SSE2__
  for (; i + 4 <= n; i += 4)
    {
      __m128 v = _mm_loadu_ps (x + i);
      __m128 e = ane_cpu_expf4 (_mm_xor_ps (v, _mm_set1_ps (-0.0f)));

      _mm_storeu_ps (out + i, _mm_div_ps (v, _mm_add_ps (_mm_set1_ps (1.0f), e)));
    }
#endif
  for (; i < n; i++)
    out[i] = x[i] / (1.0f + ane_cpu_expf (-x[i]));
}

#define UNARY_KERNEL(name, func) \
  UNARY_FLOAT_LOOP (func) \
  static gboolean k_##name (AneCpuCtx *ctx, GError **error) \
  { return run_unary_loop (ctx, func, func##_floats, 0.0, error); }

/* relu of floats without the double round trip (exact: the result is x
 * or 0), NaN kept as u_relu does */
static void
relu_floats (const float *x,
             float       *out,
             gsize        n,
             double       param)
{
  for (gsize i = 0; i < n; i++)
    out[i] = x[i] > 0.0f || x[i] != x[i] ? x[i] : 0.0f;
}
static gboolean k_relu (AneCpuCtx *ctx, GError **error) { return run_unary_loop (ctx, u_relu, relu_floats, 0.0, error); }
UNARY_KERNEL (sigmoid, u_sigmoid)
UNARY_KERNEL (tanh, u_tanh)
static gboolean k_silu (AneCpuCtx *ctx, GError **error) { return run_unary_loop (ctx, u_silu, silu_floats, 0.0, error); }
UNARY_KERNEL (exp, u_exp)
UNARY_KERNEL (exp2, u_exp2)
UNARY_KERNEL (sqrt, u_sqrt)
UNARY_KERNEL (abs, u_abs)
UNARY_KERNEL (sin, u_sin)
UNARY_KERNEL (cos, u_cos)
UNARY_KERNEL (tan, u_tan)
UNARY_KERNEL (atan, u_atan)
UNARY_KERNEL (round, u_round)
UNARY_KERNEL (floor, u_floor)
UNARY_KERNEL (ceil, u_ceil)
UNARY_KERNEL (sign, u_sign)
UNARY_KERNEL (square, u_square)
UNARY_KERNEL (erf, u_erf)
UNARY_KERNEL (logical_not, u_not)
UNARY_KERNEL (identity, u_identity)
UNARY_KERNEL (softplus, u_softplus)

/* MIL's epsilon defaults: log 1e-45, rsqrt 1e-12, inverse 1e-4, each made in
 * x's dtype (elementwise_unary.py default_inputs:
 * nptype_from_builtin(x.dtype)(eps)). 1e-45 is fp32's smallest subnormal
 * and 0 in fp16, as is 1e-12, so an fp16 log(0) is -inf and an fp32 one
 * log(2^-149). */
static double
default_epsilon (AneCpuCtx *ctx,
                 double     eps)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x");

  if (x != NULL && x->dtype == ANE_DTYPE_FLOAT16)
    return ane_half_to_float (ane_float_to_half ((float) eps));
  if (x != NULL && x->dtype == ANE_DTYPE_BFLOAT16)
    return ane_bfloat16_to_float (ane_float_to_bfloat16 ((float) eps));
  return (float) eps;
}

UNARY_FLOAT_LOOP (u_log)
static gboolean k_log (AneCpuCtx *ctx, GError **error)
{ return run_unary_loop (ctx, u_log, u_log_floats, ane_cpu_float (ctx, "epsilon", default_epsilon (ctx, 1e-45)), error); }
UNARY_FLOAT_LOOP (u_rsqrt)
static gboolean k_rsqrt (AneCpuCtx *ctx, GError **error)
{ return run_unary_loop (ctx, u_rsqrt, u_rsqrt_floats, ane_cpu_float (ctx, "epsilon", default_epsilon (ctx, 1e-12)), error); }
UNARY_FLOAT_LOOP (u_inverse)
static gboolean k_inverse (AneCpuCtx *ctx, GError **error)
{ return run_unary_loop (ctx, u_inverse, u_inverse_floats, ane_cpu_float (ctx, "epsilon", default_epsilon (ctx, 1e-4)), error); }

/* gelu's three modes (coremltools ops/defs/iOS15/activation.py) */
static double u_gelu_exact (double v, double p) { return 0.5 * v * (1.0 + erf (v / G_SQRT2)); }
static double u_gelu_tanh (double v, double p) { return 0.5 * v * (1.0 + tanh (sqrt (2.0 / G_PI) * (v + 0.044715 * v * v * v))); }
static double u_gelu_sigmoid (double v, double p) { return v * sigmoid (1.702 * v); }
UNARY_FLOAT_LOOP (u_gelu_exact)
UNARY_FLOAT_LOOP (u_gelu_tanh)
UNARY_FLOAT_LOOP (u_gelu_sigmoid)

static gboolean
k_gelu (AneCpuCtx *ctx,
        GError   **error)
{
  const char *mode = ane_cpu_string (ctx, "mode", "EXACT");
  const AneCpuValue *x = ane_cpu_in (ctx, "x");
  AneCpuValue *out = ane_cpu_out (ctx, 0);

  if (x == NULL || x->n != out->n)
    return ane_cpu_fail (ctx, error, "x is missing or does not match the output's shape");
  if (g_str_equal (mode, "EXACT"))
    return run_unary_loop (ctx, u_gelu_exact, u_gelu_exact_floats, 0.0, error);
  if (g_str_equal (mode, "TANH_APPROXIMATION"))
    return run_unary_loop (ctx, u_gelu_tanh, u_gelu_tanh_floats, 0.0, error);
  if (g_str_equal (mode, "SIGMOID_APPROXIMATION"))
    return run_unary_loop (ctx, u_gelu_sigmoid, u_gelu_sigmoid_floats, 0.0, error);
  return ane_cpu_fail (ctx, error, "unknown gelu mode '%s'", mode);
}

static gboolean
k_clip (AneCpuCtx *ctx,
        GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x");
  double lo = ane_cpu_float (ctx, "alpha", -INFINITY), hi = ane_cpu_float (ctx, "beta", INFINITY);
  AneCpuValue *out = ane_cpu_out (ctx, 0);

  if (x == NULL || x->n != out->n)
    return ane_cpu_fail (ctx, error, "x is missing or does not match the output's shape");
  for (gsize i = 0; i < out->n; i++)
    {
      double v = ane_cpu_value_get (x, i);
      store (out, i, isnan (v) ? v : v < lo ? lo : v > hi ? hi : v);
    }
  return TRUE;
}

typedef struct {
  const AneCpuValue *c, *a, *b;
  AneCpuValue       *out;
  AneCpuBcast        layout;   /* cond, a, b */
} SelectJob;

static inline gboolean
cond_at (const AneCpuValue *c,
         gsize              i)
{
  return c->f ? c->f[i] != 0.0f : c->i[i] != 0;
}

/* A run of n 4-byte elements (floats or int32s, copied as they are), every
 * step elements from src (0: one repeated). */
static inline void
copy_words (gpointer      dst,
            gconstpointer src,
            gsize         step,
            gsize         n)
{
  guint32 *d = dst;
  const guint32 *s = src;

  if (step == 1)
    memcpy (d, s, n * sizeof (guint32));
  else
    for (gsize e = 0; e < n; e++)
      d[e] = s[e * step];
}

/* out = cond != 0 ? a : b, as store (value_at ...) would give it: a float
 * copied through double is the same float, an int32 the same int32, and a
 * bool output holds v != 0. Other mixes of storage take the generic loop.
 * A cond constant along the run (a mask broadcast over the features, the
 * decode step's [1, 1, S, 1] against [1, H, S, D]) copies a's or b's run. */
static void
select_range (gsize    begin,
              gsize    end,
              gpointer data)
{
  const SelectJob *j = data;
  const AneCpuValue *c = j->c, *a = j->a, *b = j->b;
  AneCpuValue *out = j->out;
  gsize sc = ane_cpu_bcast_inner_stride (&j->layout, 0), sa = ane_cpu_bcast_inner_stride (&j->layout, 1),
        sb = ane_cpu_bcast_inner_stride (&j->layout, 2);
  gboolean to_bool = out->dtype == ANE_DTYPE_BOOL;
  AneCpuBcastIter it;

  ane_cpu_bcast_iter_init (&it, &j->layout, begin, end);
  if (out->f && a->f && b->f)
    while (ane_cpu_bcast_next (&it))
      {
        const float *ap = a->f + it.off[1], *bp = b->f + it.off[2];
        float *op = out->f + it.index;
        gsize ci = it.off[0];

        if (sc == 0)
          {
            if (cond_at (c, ci))
              copy_words (op, ap, sa, it.len);
            else
              copy_words (op, bp, sb, it.len);
            continue;
          }
        for (gsize e = 0; e < it.len; e++, ci += sc, ap += sa, bp += sb)
          op[e] = cond_at (c, ci) ? *ap : *bp;
      }
  else if (out->i && a->i && b->i)
    while (ane_cpu_bcast_next (&it))
      {
        const gint32 *ap = a->i + it.off[1], *bp = b->i + it.off[2];
        gint32 *op = out->i + it.index;
        gsize ci = it.off[0];

        if (sc == 0 && !to_bool)
          {
            if (cond_at (c, ci))
              copy_words (op, ap, sa, it.len);
            else
              copy_words (op, bp, sb, it.len);
            continue;
          }
        for (gsize e = 0; e < it.len; e++, ci += sc, ap += sa, bp += sb)
          {
            gint32 v = cond_at (c, ci) ? *ap : *bp;
            op[e] = to_bool ? v != 0 : v;
          }
      }
  else
    while (ane_cpu_bcast_next (&it))
      for (gsize e = 0, ci = it.off[0], ai = it.off[1], bi = it.off[2]; e < it.len;
           e++, ci += sc, ai += sa, bi += sb)
        store (out, it.index + e, value_at (c, ci) != 0 ? value_at (a, ai) : value_at (b, bi));
}

static gboolean
k_select (AneCpuCtx *ctx,
          GError   **error)
{
  const AneCpuValue *c = ane_cpu_in (ctx, "cond"), *a = ane_cpu_in (ctx, "a"), *b = ane_cpu_in (ctx, "b");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  SelectJob job = { c, a, b, out, { 0, } };

  if (c == NULL || a == NULL || b == NULL)
    return ane_cpu_fail (ctx, error, "needs cond, a and b");
  if (!ane_cpu_bcast_init (&job.layout, out, (const AneCpuValue *const[]) { c, a, b }, 3))
    return ane_cpu_fail (ctx, error, "cond, a and b do not broadcast to the declared output (rank %u)", out->rank);
  ane_cpu_parallel_for (out->n, PARALLEL_GRAIN, select_range, &job);
  return TRUE;
}

/* cast: float -> integer truncates toward zero (numpy astype, coremltools'
 * value inference); the output's declared dtype decides the rounding that
 * follows (fp16, saturation of narrow integers). */
static gboolean
k_cast (AneCpuCtx *ctx,
        GError   **error)
{
  return run_unary (ctx, u_identity, 0.0, error);
}

const AneCpuKernel ane_cpu_kernels_elementwise[] = {
  { "add", k_add }, { "sub", k_sub }, { "mul", k_mul }, { "real_div", k_real_div },
  { "floor_div", k_floor_div }, { "maximum", k_maximum }, { "minimum", k_minimum },
  { "pow", k_pow }, { "mod", k_mod },
  { "equal", k_equal }, { "not_equal", k_not_equal }, { "less", k_less },
  { "less_equal", k_less_equal }, { "greater", k_greater }, { "greater_equal", k_greater_equal },
  { "logical_and", k_logical_and }, { "logical_or", k_logical_or }, { "logical_xor", k_logical_xor },
  { "logical_not", k_logical_not },
  { "relu", k_relu }, { "sigmoid", k_sigmoid }, { "tanh", k_tanh }, { "silu", k_silu },
  { "gelu", k_gelu }, { "exp", k_exp }, { "exp2", k_exp2 }, { "log", k_log }, { "sqrt", k_sqrt },
  { "rsqrt", k_rsqrt }, { "inverse", k_inverse }, { "abs", k_abs }, { "sin", k_sin },
  { "cos", k_cos }, { "tan", k_tan }, { "atan", k_atan }, { "round", k_round },
  { "floor", k_floor }, { "ceil", k_ceil }, { "sign", k_sign }, { "square", k_square },
  { "erf", k_erf }, { "softplus", k_softplus }, { "clip", k_clip }, { "select", k_select },
  { "cast", k_cast }, { "identity", k_identity },
  { NULL, NULL }
};
