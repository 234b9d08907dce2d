/* test-cpu-kernels.c: every kernel of the CPU interpreter's op table, held
 * against an independent formula
 *
 * One table row per MIL op of the kernel table (runtime/cpu/ane-cpu-k-*.c):
 * a small MIL text program exercising the op, its inputs, and the expected
 * outputs computed here in plain C from the op's definition in coremltools
 * 9.0 (converters/mil/mil/ops/defs/iOS15..iOS18: docstrings, default_inputs
 * and value_inference, which is numpy), never through the library's kernels
 * or helpers. Each row covers the op's defaults (the default epsilon of log,
 * rsqrt, inverse, layer_norm, batch_norm, instance_norm and l2_norm among
 * them), a broadcast or axis variant where the op has one, and fp16 where
 * the op takes it. /ane/cpu/kernels/complete fails, naming the op, when a
 * kernel of the table has no row or a row names an op without a kernel.
 *
 * Every program is also checked against the library's mirror of
 * coremltools' type_inference (ane_mil_infer_check_program): each declared
 * output type must be the one Apple's loader infers, except where a test
 * says why not (the slice_by_index corner below).
 *
 * Corner cases of issue 11 live here too: slice_by_index with a negative
 * stride stopping below -dim, ceil_mode pooling with padding, size-0
 * dimensions in broadcasting ([0] never broadcasts like [1]), and fp16
 * rounding after every op, not only at the outputs.
 *
 * Comparison (check_output): the output must have the declared dtype and
 * shape; integer and bool values must be exact; float values are NaN-safe
 * (NaN expected <=> NaN got, an infinity must be that infinity, otherwise
 * |got - want| <= tol * max(1, |want|)), where want is the formula's double
 * rounded to the output's dtype. The interpreter rounds fp16 results to fp16
 * after every op (docs/cpu-backend.md), so an fp16 output must also hold an
 * fp16 value exactly. Tolerances: TOL32 for kernels that compute in double
 * and round once, TOLMM where products accumulate in fp32 (sgemm), TOL16 (one
 * fp16 step, 2^-10) for fp16 outputs, EXACT for ops that only move values.
 * Inputs are dyadic numbers exact in fp16, so both sides see the same values.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-lower-test-util.h"
#include "mil/ane-mil-infer-private.h"
#include "mil/ane-mil-text-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"
#include "runtime/cpu/ane-cpu-kernels-private.h"

#define F32 ANE_DTYPE_FLOAT32
#define F16 ANE_DTYPE_FLOAT16
#define I32 ANE_DTYPE_INT32
#define I8 ANE_DTYPE_INT8
#define U8 ANE_DTYPE_UINT8
#define B1 ANE_DTYPE_BOOL

#define TOL32 1e-6
#define TOLMM 1e-5
#define TOL16 (1.0 / 1024.0)
#define EXACT 0.0

/* --- shapes ------------------------------------------------------------------ */

typedef struct {
  guint  rank;
  gint64 d[ANE_CPU_MAX_RANK];
} Shape;

#define SH(...) ((Shape) { sizeof ((gint64[]) { __VA_ARGS__ }) / sizeof (gint64), { __VA_ARGS__ } })
#define SCALAR ((Shape) { 0, { 0 } })
#define N_OF(a) G_N_ELEMENTS (a)

static gsize
shape_n (Shape s)
{
  gsize n = 1;

  for (guint i = 0; i < s.rank; i++)
    n *= (gsize) s.d[i];
  return n;
}

/* C-order coordinates of element i, and back. */
static void
unravel (gsize  i,
         Shape  s,
         gint64 *c)
{
  for (guint d = s.rank; d-- > 0;)
    {
      c[d] = (gint64) (i % (gsize) s.d[d]);
      i /= (gsize) s.d[d];
    }
}

static gsize
ravel (Shape         s,
       const gint64 *c)
{
  gsize i = 0;

  for (guint d = 0; d < s.rank; d++)
    i = i * (gsize) s.d[d] + (gsize) c[d];
  return i;
}

/* --- numbers ------------------------------------------------------------------- */

/* The nearest fp16 value (ties to even), written from the format: 11
 * significant bits, subnormal spacing 2^-24, largest finite 65504. */
static double
round_half (double v)
{
  double a = fabs (v);
  int e;

  if (isnan (v) || isinf (v) || a == 0.0)
    return v;
  if (a >= 65520.0)   /* half an ulp (16) past 65504: a tie that rounds to 2^16, inf */
    return copysign (INFINITY, v);
  frexp (a, &e);                 /* a = m 2^e, m in [0.5, 1) */
  e = MAX (e - 11, -24);
  return copysign (ldexp (nearbyint (ldexp (a, -e)), e), v);
}

static gboolean
is_float (AneDType dt)
{
  return dt == F32 || dt == F16;
}

/* v as the dtype holds it: what a numpy array of that dtype would hold. */
static double
to_dtype (AneDType dt,
          double   v)
{
  if (dt == F32)
    return (double) (float) v;
  if (dt == F16)
    return round_half (v);
  if (dt == B1)
    return v != 0.0;
  return v;
}

/* numpy's round (half to even), from floor: the tie is the case x + 0.5 is whole. */
static double
round_even (double x)
{
  double r = floor (x + 0.5);

  if (isnan (x) || isinf (x))
    return x;
  if (r - x == 0.5 && fmod (r, 2.0) != 0.0)
    r -= 1.0;
  return r;
}

static const char *
mil_dtype (AneDType dt)
{
  switch (dt)
    {
    case ANE_DTYPE_FLOAT32: return "fp32";
    case ANE_DTYPE_FLOAT16: return "fp16";
    case ANE_DTYPE_INT32: return "int32";
    case ANE_DTYPE_INT16: return "int16";
    case ANE_DTYPE_INT8: return "int8";
    case ANE_DTYPE_UINT8: return "uint8";
    case ANE_DTYPE_BOOL: return "bool";
    default: g_assert_not_reached ();
    }
}

static char *
shape_text (Shape s)
{
  GString *t = g_string_new ("[");

  for (guint i = 0; i < s.rank; i++)
    g_string_append_printf (t, "%s%" G_GINT64_FORMAT, i ? ", " : "", s.d[i]);
  g_string_append_c (t, ']');
  return g_string_free (t, FALSE);
}

static char *
type_text (AneDType dt,
           Shape    s)
{
  g_autofree char *st = NULL;

  if (s.rank == 0)
    return g_strdup (mil_dtype (dt));
  st = shape_text (s);
  return g_strdup_printf ("tensor<%s, %s>", mil_dtype (dt), st);
}

static void
append_scalar (GString  *t,
               AneDType  dt,
               double    v)
{
  if (dt == B1)
    g_string_append (t, v != 0.0 ? "true" : "false");
  else if (!is_float (dt))
    g_string_append_printf (t, "%.0f", v);
  else if (isnan (v))
    g_string_append (t, "nan");
  else if (isinf (v))
    g_string_append (t, v > 0 ? "inf" : "-inf");
  else
    g_string_append_printf (t, "%a", v);
}

/* A MIL text value: dtype(v) for rank 0, tensor<dtype, shape>([...]) otherwise. */
static char *
literal (AneDType      dt,
         Shape         s,
         const double *v)
{
  g_autofree char *type = type_text (dt, s);
  GString *t = g_string_new (type);
  gsize n = shape_n (s);

  g_string_append (t, s.rank ? "([" : "(");
  for (gsize i = 0; i < n; i++)
    {
      if (i)
        g_string_append (t, ", ");
      append_scalar (t, dt, v[i]);
    }
  g_string_append (t, s.rank ? "])" : ")");
  return g_string_free (t, FALSE);
}

/* tmpl with every "$T" replaced by t (the program's float dtype). */
static char *
subst (const char *tmpl,
       const char *t)
{
  g_auto(GStrv) parts = g_strsplit (tmpl, "$T", -1);

  return g_strjoinv (t, parts);
}

/* --- the case harness ---------------------------------------------------------- */

typedef struct {
  char    *name;
  AneDType dtype;
  Shape    shape;
  double  *want;
  double   tol;
  gboolean state;   /* a state, read back after the run */
} Expect;

static void
expect_free (Expect *e)
{
  g_free (e->name);
  g_free (e->want);
  g_free (e);
}

typedef struct {
  char       *what;
  const char *opset;
  GString    *params;
  GString    *body;
  GString    *outs;
  GHashTable *inputs;
  GHashTable *states;
  GPtrArray  *expects;
  GPtrArray  *strings;
  GPtrArray  *type_exempt;   /* "'name'" of ops whose declared type knowingly differs from coremltools' */
} Case;

static Case *
case_new (const char *opset,
          const char *format,
          ...) G_GNUC_PRINTF (2, 3);

static Case *
case_new (const char *opset,
          const char *format,
          ...)
{
  Case *c = g_new0 (Case, 1);
  va_list args;

  va_start (args, format);
  c->what = g_strdup_vprintf (format, args);
  va_end (args);
  c->opset = opset;
  c->params = g_string_new (NULL);
  c->body = g_string_new (NULL);
  c->outs = g_string_new (NULL);
  c->inputs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  c->states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  c->expects = g_ptr_array_new_with_free_func ((GDestroyNotify) expect_free);
  c->strings = g_ptr_array_new_with_free_func (g_free);
  c->type_exempt = g_ptr_array_new_with_free_func (g_free);
  return c;
}

static void
case_free (Case *c)
{
  g_free (c->what);
  g_string_free (c->params, TRUE);
  g_string_free (c->body, TRUE);
  g_string_free (c->outs, TRUE);
  g_hash_table_unref (c->inputs);
  g_hash_table_unref (c->states);
  g_ptr_array_unref (c->expects);
  g_ptr_array_unref (c->strings);
  g_ptr_array_unref (c->type_exempt);
  g_free (c);
}

/* A string that lives as long as the case. */
static const char *
case_keep (Case *c,
           char *s)
{
  g_ptr_array_add (c->strings, s);
  return s;
}

/* A literal (see literal()) that lives as long as the case. */
static const char *
case_lit (Case         *c,
          AneDType      dt,
          Shape         s,
          const double *v)
{
  return case_keep (c, literal (dt, s, v));
}

static AneTensor *
tensor_of (const char   *name,
           AneDType      dt,
           Shape         s,
           const double *v)
{
  gsize n = shape_n (s);

  /* the formulas read v: it must be what the tensor holds */
  for (gsize i = 0; i < n; i++)
    if (!isnan (v[i]) && to_dtype (dt, v[i]) != v[i])
      g_error ("input '%s' element %zu (%.17g) is not exact in %s", name, i, v[i], mil_dtype (dt));
  return ane_test_tensor_values (name, dt, s.d, s.rank, v);
}

/* A function input. */
static void
case_in (Case         *c,
         const char   *name,
         AneDType      dt,
         Shape         s,
         const double *v)
{
  g_autofree char *type = type_text (dt, s);

  g_string_append_printf (c->params, "%s%s %s", c->params->len ? ", " : "", type, name);
  g_hash_table_insert (c->inputs, g_strdup (name), tensor_of (name, dt, s, v));
}

/* A state input with its value before the run. */
static void
case_state (Case         *c,
            const char   *name,
            AneDType      dt,
            Shape         s,
            const double *v)
{
  g_autofree char *type = type_text (dt, s);

  g_string_append_printf (c->params, "%sstate<%s> %s", c->params->len ? ", " : "", type, name);
  g_hash_table_insert (c->states, g_strdup (name), tensor_of (name, dt, s, v));
}

/* A statement, written as it is. */
static void
case_line (Case       *c,
           const char *format,
           ...) G_GNUC_PRINTF (2, 3);

static void
case_line (Case       *c,
           const char *format,
           ...)
{
  va_list args;

  va_start (args, format);
  g_string_append (c->body, "        ");
  g_string_append_vprintf (c->body, format, args);
  g_string_append (c->body, ";\n");
  va_end (args);
}

/* TYPE name = CALL[name = string("name")]; */
static void
case_let (Case       *c,
          const char *name,
          AneDType    dt,
          Shape       s,
          const char *format,
          ...) G_GNUC_PRINTF (5, 6);

static void
case_let (Case       *c,
          const char *name,
          AneDType    dt,
          Shape       s,
          const char *format,
          ...)
{
  g_autofree char *type = type_text (dt, s);
  g_autofree char *call = NULL;
  va_list args;

  va_start (args, format);
  call = g_strdup_vprintf (format, args);
  va_end (args);
  case_line (c, "%s %s = %s[name = string(\"%s\")]", type, name, call, name);
}

static void
add_expect (Case         *c,
            const char   *name,
            AneDType      dt,
            Shape         s,
            const double *want,
            double        tol,
            gboolean      state)
{
  Expect *e = g_new0 (Expect, 1);
  gsize n = shape_n (s);

  e->name = g_strdup (name);
  e->dtype = dt;
  e->shape = s;
  e->want = g_memdup2 (want, MAX (n, 1) * sizeof (double));
  e->tol = tol;
  e->state = state;
  g_ptr_array_add (c->expects, e);
}

/* The function returns value `name`, which must hold want. */
static void
case_want (Case         *c,
           const char   *name,
           AneDType      dt,
           Shape         s,
           const double *want,
           double        tol)
{
  g_string_append_printf (c->outs, "%s%s", c->outs->len ? ", " : "", name);
  add_expect (c, name, dt, s, want, tol, FALSE);
}

/* After the run, state `name` must hold want. */
static void
case_want_state (Case         *c,
                 const char   *name,
                 AneDType      dt,
                 Shape         s,
                 const double *want,
                 double        tol)
{
  add_expect (c, name, dt, s, want, tol, TRUE);
}

static gboolean
close_enough (double got,
              double want,
              double tol)
{
  if (isnan (want) || isnan (got))
    return isnan (want) && isnan (got);
  if (isinf (want) || isinf (got))
    return got == want;
  return fabs (got - want) <= tol * MAX (1.0, fabs (want));
}

static void
check_output (const char   *what,
              const char   *text,
              AneTensor    *t,
              const Expect *e)
{
  gsize n = shape_n (e->shape);

  if (ane_tensor_get_dtype (t) != e->dtype)
    g_error ("%s: output '%s' is %s, expected %s\n%s", what, e->name, ane_dtype_to_string (ane_tensor_get_dtype (t)),
             ane_dtype_to_string (e->dtype), text);
  ane_test_assert_shape (t, e->shape.d, e->shape.rank);
  for (gsize i = 0; i < n; i++)
    {
      double got = ane_tensor_get_value (t, i);
      double want = to_dtype (e->dtype, e->want[i]);
      gboolean ok;

      if (!is_float (e->dtype))
        ok = got == want;
      else
        ok = close_enough (got, want, e->tol) &&
             (e->dtype != F16 || isnan (got) || round_half (got) == got);
      if (!ok)
        g_error ("%s: output '%s' element %zu: got %.9g, expected %.9g (formula %.9g, tol %g)\n%s", what,
                 e->name, i, got, want, e->want[i], e->tol, text);
    }
}

/* Op `name` declares a type coremltools' type_inference would not give it,
 * on purpose (the caller says why): the type check below lets it pass. */
static void
case_type_exempt (Case       *c,
                  const char *name)
{
  g_ptr_array_add (c->type_exempt, g_strdup_printf ("'%s'", name));
}

/* Every program here must be one Apple's loader takes: each op's declared
 * output type is what coremltools infers (the library's mirror of its
 * type_inference, mil/ane-mil-infer-private.h), except the ops exempted. */
static void
case_check_types (Case                *c,
                  const AneMilProgram *program,
                  const char          *text)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) unchecked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  ane_mil_infer_check_program (program, problems, unchecked);
  for (guint i = 0; i < problems->len; i++)
    {
      const char *line = g_ptr_array_index (problems, i);
      gboolean exempt = FALSE;

      for (guint k = 0; k < c->type_exempt->len && !exempt; k++)
        exempt = strstr (line, g_ptr_array_index (c->type_exempt, k)) != NULL;
      if (!exempt)
        g_error ("%s: coremltools would refuse the test program: %s\n%s", c->what, line, text);
    }
  if (g_hash_table_size (unchecked) > 0)
    g_error ("%s: the type mirror does not know every op of the test program\n%s", c->what, text);
}

static char *
case_text (Case *c)
{
  return g_strdup_printf ("program(1.3)\n{\n    func main<%s>(%s) {\n%s    } -> (%s);\n}\n",
                          c->opset, c->params->str, c->body->str, c->outs->str);
}

/* Parses, prepares and runs the program once; NULL with error on failure
 * (a program the test wrote that does not parse is the test's bug). */
static GPtrArray *
case_exec (Case        *c,
           const char  *text,
           gboolean     check_types,
           GError     **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (text, -1, c->what, &local);
  g_autoptr(AneCpuBackend) backend = NULL;

  if (program == NULL)
    g_error ("%s: the test program does not parse: %s\n%s", c->what, local->message, text);
  if (check_types)
    case_check_types (c, program, text);
  backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, error);
  if (backend == NULL)
    return NULL;
  return ane_cpu_backend_run (backend, c->inputs, c->states, FALSE, NULL, error);
}

/* Runs the case and checks every expected output and state; frees it. */
static void
case_run (Case *c)
{
  g_autofree char *text = case_text (c);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) out = case_exec (c, text, TRUE, &error);
  guint k = 0;

  if (out == NULL)
    g_error ("%s: the program failed: %s\n%s", c->what, error->message, text);
  for (guint i = 0; i < c->expects->len; i++)
    {
      const Expect *e = g_ptr_array_index (c->expects, i);
      AneTensor *t;

      if (e->state)
        t = g_hash_table_lookup (c->states, e->name);
      else
        {
          g_assert_cmpuint (k, <, out->len);
          t = g_ptr_array_index (out, k++);
        }
      g_assert_nonnull (t);
      check_output (c->what, text, t, e);
    }
  g_assert_cmpuint (k, ==, out->len);
  case_free (c);
}

/* The program must fail (when prepared or run) with an ANE_ERROR naming the
 * failing op and mentioning substring; frees the case. */
static void
case_fails (Case       *c,
            const char *op_name,
            const char *substring)
{
  g_autofree char *text = case_text (c);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) out = case_exec (c, text, FALSE, &error);   /* malformed on purpose */

  if (out != NULL)
    g_error ("%s: the program should have failed\n%s", c->what, text);
  g_assert_nonnull (error);
  if (error->domain != ANE_ERROR || strstr (error->message, op_name) == NULL ||
      strstr (error->message, substring) == NULL)
    g_error ("%s: expected an ANE_ERROR naming '%s' and saying '%s', got: %s", c->what, op_name, substring,
             error->message);
  case_free (c);
}

/* Expected values of formulas of one and two values. */
typedef double (*Formula1) (double x);
typedef double (*Formula2) (double a, double b);

/* --- elementwise binary (iOS15 elementwise_binary.py) ---------------------------- */

/* numpy operators on the promoted dtype; value_inference is
 * get_operator()(x, y) with numpy broadcasting. */
static double b_add (double a, double b) { return a + b; }
static double b_sub (double a, double b) { return a - b; }
static double b_mul (double a, double b) { return a * b; }
static double b_real_div (double a, double b) { return a / b; }
/* np.floor_divide on floats: floor(a / b), and a / b (inf or NaN) for b = 0 */
static double b_floor_div (double a, double b) { return b == 0.0 ? a / b : floor (a / b); }
/* np.maximum / np.minimum propagate NaN */
static double b_maximum (double a, double b) { return isnan (a) || isnan (b) ? NAN : a > b ? a : b; }
static double b_minimum (double a, double b) { return isnan (a) || isnan (b) ? NAN : a < b ? a : b; }
static double b_pow (double a, double b) { return pow (a, b); }
/* Python's % on floats (np.mod): the remainder takes the divisor's sign; NaN for b = 0 */
static double
b_mod (double a, double b)
{
  double r = fmod (a, b);

  if (r != 0.0 && (r < 0) != (b < 0))
    r += b;
  return r;
}
static double b_equal (double a, double b) { return a == b; }
static double b_not_equal (double a, double b) { return a != b; }
static double b_less (double a, double b) { return a < b; }
static double b_less_equal (double a, double b) { return a <= b; }
static double b_greater (double a, double b) { return a > b; }
static double b_greater_equal (double a, double b) { return a >= b; }
static double b_and (double a, double b) { return a != 0 && b != 0; }
static double b_or (double a, double b) { return a != 0 || b != 0; }
static double b_xor (double a, double b) { return (a != 0) + (b != 0) == 1; }

/* numpy on int32: floor division and Python's modulo, 0 for a zero divisor */
static double
i_floor_div (double a, double b)
{
  gint64 x = (gint64) a, y = (gint64) b, q;

  if (y == 0)
    return 0;
  q = x / y;
  if (q * y != x && (x < 0) != (y < 0))
    q--;
  return (double) q;
}

static double
i_mod (double a, double b)
{
  gint64 x = (gint64) a, y = (gint64) b;

  return y == 0 ? 0 : (double) (x - (gint64) i_floor_div (a, b) * y);
}

typedef enum {
  BIN_ARITH,     /* T -> T */
  BIN_COMPARE,   /* T -> bool */
  BIN_LOGICAL,   /* bool -> bool */
} BinaryKind;

/* One program per dtype: x [2, 1, 3] with y [4, 1] (both broadcast), z [2, 3]
 * with v [3] on either side, with a scalar, and with w of its own shape. */
static void
check_binary (const char *op,
              BinaryKind  kind,
              Formula2    f,
              AneDType    dt)
{
  static const double xf[] = { -2.5, 0, 1.5, 3, -0.75, 6 }, yf[] = { 2, -1.5, 0.5, 0 };
  static const double zf[] = { 1, -2, 3.5, -0.5, 4, 0.25 }, wf[] = { 0.5, 2, -1.5, 3, NAN, 0.25 };
  static const double vf[] = { 2, -3, 0.5 };
  static const double xi[] = { -7, 0, 5, 3, -8, 6 }, yi[] = { 2, -3, 4, 0 };
  static const double zi[] = { 1, -2, 9, -5, 4, 7 }, wi[] = { 3, -2, -4, 5, 0, 7 }, vi[] = { 2, -3, 4 };
  static const double xb[] = { 1, 0, 1, 1, 0, 0 }, yb[] = { 1, 0, 1, 0 };
  static const double zb[] = { 1, 0, 1, 0, 1, 0 }, wb[] = { 1, 1, 0, 0, 1, 0 }, vb[] = { 1, 0, 1 };
  const double *x, *y, *z, *w, *v;
  double s, g[24], t[6], ss[6], e[6], r[6];
  AneDType ot = kind == BIN_ARITH ? dt : B1;
  Shape X = SH (2, 1, 3), Y = SH (4, 1), Z = SH (2, 3), V = SH (3), G = SH (2, 4, 3);
  Case *c = case_new ("ios18", "%s %s", op, mil_dtype (dt));

  if (dt == B1)
    x = xb, y = yb, z = zb, w = wb, v = vb, s = 1;
  else if (dt == I32)
    x = xi, y = yi, z = zi, w = wi, v = vi, s = 3;
  else
    x = xf, y = yf, z = zf, w = wf, v = vf, s = 1.5;
  case_in (c, "x", dt, X, x);
  case_in (c, "y", dt, Y, y);
  case_in (c, "z", dt, Z, z);
  case_in (c, "w", dt, Z, w);
  case_in (c, "v", dt, V, v);
  case_let (c, "g", ot, G, "%s(x = x, y = y)", op);
  case_let (c, "t", ot, Z, "%s(x = z, y = v)", op);
  case_let (c, "s", ot, Z, "%s(x = z, y = %s)", op, case_lit (c, dt, SCALAR, &s));
  case_let (c, "e", ot, Z, "%s(x = z, y = w)", op);
  case_let (c, "r", ot, Z, "%s(x = v, y = z)", op);
  for (guint i = 0; i < 2; i++)
    for (guint j = 0; j < 4; j++)
      for (guint k = 0; k < 3; k++)
        g[(i * 4 + j) * 3 + k] = f (x[i * 3 + k], y[j]);
  for (guint i = 0; i < 6; i++)
    {
      t[i] = f (z[i], v[i % 3]);
      ss[i] = f (z[i], s);
      e[i] = f (z[i], w[i]);
      r[i] = f (v[i % 3], z[i]);
    }
  case_want (c, "g", ot, G, g, dt == F16 ? TOL16 : TOL32);
  case_want (c, "t", ot, Z, t, dt == F16 ? TOL16 : TOL32);
  case_want (c, "s", ot, Z, ss, dt == F16 ? TOL16 : TOL32);
  case_want (c, "e", ot, Z, e, dt == F16 ? TOL16 : TOL32);
  case_want (c, "r", ot, Z, r, dt == F16 ? TOL16 : TOL32);
  case_run (c);
}

static void
check_binary_all (const char *op,
                  BinaryKind  kind,
                  Formula2    f,
                  Formula2    fi)
{
  if (kind == BIN_LOGICAL)
    {
      check_binary (op, kind, f, B1);
      return;
    }
  check_binary (op, kind, f, F32);
  check_binary (op, kind, f, F16);
  if (fi != NULL)
    check_binary (op, kind, fi, I32);
}

/* fp32 runs longer than the kernels' 8-lane vectors (ane-cpu-k-elementwise.c
 * FLOAT_RUN_VLOOPS, and the float maximum / minimum): z [2, 19] with w of
 * its shape (a NaN in the vector part and one in the tail), with a scalar
 * on either side, and with v [19] broadcast over the rows. */
static void
check_binary_long (const char *op,
                   Formula2    f)
{
  double z[38], w[38], v[19], s = -0.375, e[38], sr[38], sl[38], b[38];
  Shape Z = SH (2, 19), V = SH (19);
  Case *c = case_new ("ios18", "%s fp32 long runs", op);

  for (guint i = 0; i < 38; i++)
    {
      z[i] = (double) ((gint) (i * 7 % 23) - 11) / 4;
      w[i] = (double) ((gint) (i * 5 % 17) - 8) / 8;
      if (w[i] == 0)
        w[i] = 0.125;
    }
  for (guint i = 0; i < 19; i++)
    v[i] = (double) ((gint) (i * 3 % 11) - 5) / 2 + 0.25;
  w[3] = NAN;
  w[36] = NAN;
  case_in (c, "z", F32, Z, z);
  case_in (c, "w", F32, Z, w);
  case_in (c, "v", F32, V, v);
  case_let (c, "e", F32, Z, "%s(x = z, y = w)", op);
  case_let (c, "sr", F32, Z, "%s(x = z, y = %s)", op, case_lit (c, F32, SCALAR, &s));
  case_let (c, "sl", F32, Z, "%s(x = %s, y = z)", op, case_lit (c, F32, SCALAR, &s));
  case_let (c, "b", F32, Z, "%s(x = z, y = v)", op);
  for (guint i = 0; i < 38; i++)
    {
      e[i] = f (z[i], w[i]);
      sr[i] = f (z[i], s);
      sl[i] = f (s, z[i]);
      b[i] = f (z[i], v[i % 19]);
    }
  case_want (c, "e", F32, Z, e, TOL32);
  case_want (c, "sr", F32, Z, sr, TOL32);
  case_want (c, "sl", F32, Z, sl, TOL32);
  case_want (c, "b", F32, Z, b, TOL32);
  case_run (c);
}

static void t_add (void) { check_binary_all ("add", BIN_ARITH, b_add, b_add); check_binary_long ("add", b_add); }
static void t_sub (void) { check_binary_all ("sub", BIN_ARITH, b_sub, b_sub); check_binary_long ("sub", b_sub); }
static void t_mul (void) { check_binary_all ("mul", BIN_ARITH, b_mul, b_mul); check_binary_long ("mul", b_mul); }
/* int32 real_div is a true division whose float result coremltools stores in
 * an int32 op: not a defined value, so fp32 and fp16 only */
static void t_real_div (void) { check_binary_all ("real_div", BIN_ARITH, b_real_div, NULL); check_binary_long ("real_div", b_real_div); }
static void t_floor_div (void) { check_binary_all ("floor_div", BIN_ARITH, b_floor_div, i_floor_div); }
static void t_maximum (void) { check_binary_all ("maximum", BIN_ARITH, b_maximum, b_maximum); check_binary_long ("maximum", b_maximum); }
static void t_minimum (void) { check_binary_all ("minimum", BIN_ARITH, b_minimum, b_minimum); check_binary_long ("minimum", b_minimum); }
/* int32 pow with a negative exponent is an error in numpy: fp32 and fp16 only */
static void t_pow (void) { check_binary_all ("pow", BIN_ARITH, b_pow, NULL); }
static void t_equal (void) { check_binary_all ("equal", BIN_COMPARE, b_equal, b_equal); }
static void t_not_equal (void) { check_binary_all ("not_equal", BIN_COMPARE, b_not_equal, b_not_equal); }
static void t_less (void) { check_binary_all ("less", BIN_COMPARE, b_less, b_less); }
static void t_less_equal (void) { check_binary_all ("less_equal", BIN_COMPARE, b_less_equal, b_less_equal); }
static void t_greater (void) { check_binary_all ("greater", BIN_COMPARE, b_greater, b_greater); }
static void t_greater_equal (void) { check_binary_all ("greater_equal", BIN_COMPARE, b_greater_equal, b_greater_equal); }
static void t_logical_and (void) { check_binary_all ("logical_and", BIN_LOGICAL, b_and, NULL); }
static void t_logical_or (void) { check_binary_all ("logical_or", BIN_LOGICAL, b_or, NULL); }
static void t_logical_xor (void) { check_binary_all ("logical_xor", BIN_LOGICAL, b_xor, NULL); }

/* mod: an infinite divisor and a quotient beyond fp32's integers, where
 * a - floor(a / b) * b is not Python's remainder */
static void
t_mod (void)
{
  static const double a[] = { 5.5, -5.5, 0x1p100, -0x1p100, 0.75 };
  static const double b[] = { INFINITY, INFINITY, 3, 3, -INFINITY };
  double want[N_OF (a)];
  Case *c;

  check_binary_all ("mod", BIN_ARITH, b_mod, i_mod);
  c = case_new ("ios18", "mod fp32 edges");
  case_in (c, "a", F32, SH (5), a);
  case_in (c, "b", F32, SH (5), b);
  case_let (c, "m", F32, SH (5), "mod(x = a, y = b)");
  for (guint i = 0; i < N_OF (a); i++)
    want[i] = b_mod (a[i], b[i]);
  case_want (c, "m", F32, SH (5), want, TOL32);
  case_run (c);
}

/* --- elementwise unary (iOS15 elementwise_unary.py, activation.py) --------------- */

static double u_relu (double x) { return isnan (x) ? x : x > 0 ? x : 0; }   /* np.maximum(x, 0) */
static double u_sigmoid (double x) { return 1.0 / (1.0 + exp (-x)); }
static double u_tanh (double x) { return tanh (x); }
static double u_silu (double x) { return x / (1.0 + exp (-x)); }       /* x * sigmoid(x) */
static double u_exp (double x) { return exp (x); }
static double u_exp2 (double x) { return pow (2.0, x); }
static double u_sqrt (double x) { return sqrt (x); }
static double u_abs (double x) { return x < 0 ? -x : x; }
static double u_sin (double x) { return sin (x); }
static double u_cos (double x) { return cos (x); }
static double u_tan (double x) { return tan (x); }
static double u_atan (double x) { return atan (x); }
static double u_round (double x) { return round_even (x); }
static double u_floor (double x) { return floor (x); }
static double u_ceil (double x) { return ceil (x); }
static double u_sign (double x) { return isnan (x) ? x : x > 0 ? 1 : x < 0 ? -1 : 0; }   /* np.sign */
static double u_square (double x) { return x * x; }
static double u_erf (double x) { return erf (x); }
/* value_inference: log(1 + exp(-|x|)) + max(x, 0) */
static double u_softplus (double x) { return log (1.0 + exp (-fabs (x))) + (x > 0 ? x : 0); }
static double u_identity (double x) { return x; }
static double u_clip (double x) { return isnan (x) ? x : x < -1.5 ? -1.5 : x > 2.5 ? 2.5 : x; }
/* log, rsqrt, inverse with an explicit epsilon of 2^-4 */
static double u_log (double x) { return log (x + 0x1p-4); }
static double u_rsqrt (double x) { return 1.0 / sqrt (x + 0x1p-4); }
static double u_inverse (double x) { return 1.0 / (x + 0x1p-4); }
/* gelu's three modes (activation.py value_inference) */
static double u_gelu_exact (double x) { return 0.5 * x * (1.0 + erf (x / sqrt (2.0))); }
static double u_gelu_tanh (double x) { return 0.5 * x * (1.0 + tanh (sqrt (2.0 / G_PI) * (x + 0.044715 * pow (x, 3)))); }
static double u_gelu_sigmoid (double x) { return x * (1.0 / (1.0 + exp (-1.702 * x))); }
/* activations with alpha/beta, at the parameters written in their rows */
static double u_leaky_relu (double x) { return x < 0 ? 0.25 * x : x; }                 /* alpha 0.25 */
static double u_elu (double x) { return x < 0 ? 1.5 * (exp (x) - 1.0) : x; }           /* alpha 1.5 */
static double u_relu6 (double x) { return isnan (x) ? x : x < 0 ? 0 : x > 6 ? 6 : x; }
static double u_softsign (double x) { return x / (1.0 + fabs (x)); }
static double u_thresholded_relu (double x) { return x < 1.0 ? 0 : x; }               /* alpha 1: x >= alpha kept */
/* value_inference: min(max(x, 0), beta) + min(min(x, 0) * alpha, beta), alpha 0.5, beta 2.5 */
static double
u_clamped_relu (double x)
{
  if (isnan (x))
    return x;
  return MIN (MAX (x, 0.0), 2.5) + MIN (MIN (x, 0.0) * 0.5, 2.5);
}
static double u_linear_activation (double x) { return -1.5 * x + 0.25; }                /* alpha -1.5, beta 0.25 */
static double u_scaled_tanh (double x) { return 2.0 * tanh (0.5 * x); }                /* alpha 2, beta 0.5 */
/* min(max(alpha x + beta, 0), 1), alpha 0.25, beta 0.5 */
static double
u_sigmoid_hard (double x)
{
  double y = 0.25 * x + 0.5;

  return isnan (y) ? y : y < 0 ? 0 : y > 1 ? 1 : y;
}

/* Runs op(x = x<args>) on a [2, 7] x in dtype dt: floats take every kind of
 * value (infinities, NaN, halves for round); int32 small integers (or
 * non-negative ones, for exp2 whose fraction int32 cannot hold). */
static void
check_unary_full (const char *op,
                  const char *args,
                  Formula1    f,
                  AneDType    dt,
                  gboolean    nonnegative)
{
  static const double xf[] = { -INFINITY, -6.5, -2.25, -1.5, -0.375, 0, 0.125, 0.5, 1, 1.75, 2.5, 8, INFINITY, NAN };
  static const double xi[] = { -7, -2, -1, 0, 1, 2, 3, 5, 10, -3, 4, 6, 7, 8 };
  static const double xn[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
  const double *x = is_float (dt) ? xf : nonnegative ? xn : xi;
  Shape s = SH (2, 7);
  double want[14];
  g_autofree char *a = subst (args, mil_dtype (dt));
  Case *c = case_new ("ios18", "%s%s %s", op, a, mil_dtype (dt));

  case_in (c, "x", dt, s, x);
  case_let (c, "y", dt, s, "%s(x = x%s)", op, a);
  for (guint i = 0; i < 14; i++)
    want[i] = f (x[i]);
  case_want (c, "y", dt, s, want, dt == F16 ? TOL16 : TOL32);
  case_run (c);
}

/* fp32 and fp16 */
static void
check_unary (const char *op,
             const char *args,
             Formula1    f)
{
  check_unary_full (op, args, f, F32, FALSE);
  check_unary_full (op, args, f, F16, FALSE);
}

static void t_relu (void) { check_unary ("relu", "", u_relu); }
static void t_sigmoid (void) { check_unary ("sigmoid", "", u_sigmoid); }
static void t_tanh (void) { check_unary ("tanh", "", u_tanh); }
/* silu runs four lanes at a time on a float polynomial e^x (ane-cpu-k-elementwise.c):
 * a dense sweep, past both ends of the polynomial's range, in fp32 and fp16,
 * an odd count so the scalar tail runs too. */
static void
silu_sweep (AneDType dt)
{
  enum { N = 2003 };
  g_autofree double *x = g_new (double, N);
  g_autofree double *want = g_new (double, N);
  Case *c = case_new ("ios18", "silu sweep %s", mil_dtype (dt));

  for (guint i = 0; i < N; i++)
    {
      x[i] = to_dtype (dt, -120.0 + 240.0 * i / (N - 1));
      want[i] = u_silu (x[i]);
    }
  case_in (c, "x", dt, SH (N), x);
  case_let (c, "y", dt, SH (N), "silu(x = x)");
  case_want (c, "y", dt, SH (N), want, dt == F16 ? TOL16 : TOL32);
  case_run (c);
}

static void t_silu (void) { check_unary ("silu", "", u_silu); silu_sweep (F32); silu_sweep (F16); }
static void t_exp (void) { check_unary ("exp", "", u_exp); }
static void t_sqrt (void) { check_unary ("sqrt", "", u_sqrt); }
static void t_sin (void) { check_unary ("sin", "", u_sin); }
static void t_cos (void) { check_unary ("cos", "", u_cos); }
static void t_tan (void) { check_unary ("tan", "", u_tan); }
static void t_atan (void) { check_unary ("atan", "", u_atan); }
static void t_round (void) { check_unary ("round", "", u_round); }
static void t_floor (void) { check_unary ("floor", "", u_floor); }
static void t_ceil (void) { check_unary ("ceil", "", u_ceil); }
static void t_erf (void) { check_unary ("erf", "", u_erf); }
static void t_softplus (void) { check_unary ("softplus", "", u_softplus); }
static void t_leaky_relu (void) { check_unary ("leaky_relu", ", alpha = $T(0.25)", u_leaky_relu); }
static void t_elu (void) { check_unary ("elu", ", alpha = $T(1.5)", u_elu); }
static void t_relu6 (void) { check_unary ("relu6", "", u_relu6); }
static void t_softsign (void) { check_unary ("softsign", "", u_softsign); }
static void t_thresholded_relu (void) { check_unary ("thresholded_relu", ", alpha = $T(1)", u_thresholded_relu); }
static void t_clamped_relu (void) { check_unary ("clamped_relu", ", alpha = $T(0.5), beta = $T(2.5)", u_clamped_relu); }
static void t_linear_activation (void)
{ check_unary ("linear_activation", ", alpha = $T(-1.5), beta = $T(0.25)", u_linear_activation); }
static void t_scaled_tanh (void) { check_unary ("scaled_tanh", ", alpha = $T(2), beta = $T(0.5)", u_scaled_tanh); }
static void t_sigmoid_hard (void) { check_unary ("sigmoid_hard", ", alpha = $T(0.25), beta = $T(0.5)", u_sigmoid_hard); }
static void t_clip (void) { check_unary ("clip", ", alpha = $T(-1.5), beta = $T(2.5)", u_clip); }

/* abs, sign, square and exp2 also take int32 (elementwise_unary_with_int) */
static void
t_abs (void)
{
  check_unary ("abs", "", u_abs);
  check_unary_full ("abs", "", u_abs, I32, FALSE);
}

static void
t_sign (void)
{
  check_unary ("sign", "", u_sign);
  check_unary_full ("sign", "", u_sign, I32, FALSE);
}

static void
t_square (void)
{
  check_unary ("square", "", u_square);
  check_unary_full ("square", "", u_square, I32, FALSE);
}

static void
t_exp2 (void)
{
  check_unary ("exp2", "", u_exp2);
  check_unary_full ("exp2", "", u_exp2, I32, TRUE);
}

static void
t_identity (void)
{
  check_unary ("identity", "", u_identity);
  check_unary_full ("identity", "", u_identity, I32, FALSE);
}

static void
t_gelu (void)
{
  check_unary ("gelu", "", u_gelu_exact);   /* mode defaults to EXACT */
  check_unary ("gelu", ", mode = string(\"EXACT\")", u_gelu_exact);
  check_unary ("gelu", ", mode = string(\"TANH_APPROXIMATION\")", u_gelu_tanh);
  check_unary ("gelu", ", mode = string(\"SIGMOID_APPROXIMATION\")", u_gelu_sigmoid);
}

/* The default epsilon of log (1e-45), rsqrt (1e-12) and inverse (1e-4) is
 * nptype_from_builtin(x.dtype)(eps) (default_inputs): the constant in x's
 * dtype -- 1e-45 is fp32's smallest subnormal and 0 in fp16, 1e-12 is 0 in
 * fp16 -- and value_inference adds it to x in x's dtype. At x = 0 the result
 * is the function of epsilon itself, so any other default shows. */
static void
check_default_epsilon (const char *op,
                       double      eps,
                       double    (*f) (double))
{
  static const double x[] = { 0, 0.25, 1, 4, 0x1p-20 };
  static const AneDType dts[] = { F32, F16 };

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double e = to_dtype (dt, eps), want[N_OF (x)];
      Case *c = case_new ("ios18", "%s default epsilon %s", op, mil_dtype (dt));

      case_in (c, "x", dt, SH (5), x);
      case_let (c, "y", dt, SH (5), "%s(x = x)", op);
      for (guint i = 0; i < N_OF (x); i++)
        want[i] = f (to_dtype (dt, x[i] + e));
      case_want (c, "y", dt, SH (5), want, dt == F16 ? TOL16 : TOL32);
      case_run (c);
    }
}

static double f_log (double v) { return log (v); }
static double f_rsqrt (double v) { return 1.0 / sqrt (v); }
static double f_inverse (double v) { return 1.0 / v; }

static void
t_log (void)
{
  check_unary ("log", ", epsilon = $T(0x1p-4)", u_log);
  check_default_epsilon ("log", 1e-45, f_log);
}

static void
t_rsqrt (void)
{
  check_unary ("rsqrt", ", epsilon = $T(0x1p-4)", u_rsqrt);
  check_default_epsilon ("rsqrt", 1e-12, f_rsqrt);
}

static void
t_inverse (void)
{
  check_unary ("inverse", ", epsilon = $T(0x1p-4)", u_inverse);
  check_default_epsilon ("inverse", 1e-4, f_inverse);
}

static void
t_logical_not (void)
{
  static const double x[] = { 1, 0, 0, 1, 1, 0 };
  double want[6];
  Case *c = case_new ("ios18", "logical_not");

  case_in (c, "x", B1, SH (2, 3), x);
  case_let (c, "y", B1, SH (2, 3), "logical_not(x = x)");
  for (guint i = 0; i < 6; i++)
    want[i] = x[i] == 0;
  case_want (c, "y", B1, SH (2, 3), want, EXACT);
  case_run (c);
}

/* select (control_flow.py): np.where(cond, a, b), all three broadcasting
 * (cond no wider than a and b together: coremltools' type_inference
 * broadcasts a with b only) */
static void
t_select (void)
{
  static const double cond[] = { 1, 0, 1, 0, 0, 1 };
  static const double af[] = { 1.5, -2, 0.25, NAN, 3, -0.5, 7, 0 }, bf[] = { 10, -20, 30 };
  static const double ai[] = { 1, -2, 3, 4, 5, -6, 7, 8 }, bi[] = { 10, -20, 30 };
  static const AneDType dts[] = { F32, F16, I32 };

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      const double *a = dt == I32 ? ai : af, *b = dt == I32 ? bi : bf;
      double want[24];
      Case *c = case_new ("ios18", "select %s", mil_dtype (dt));

      case_in (c, "c", B1, SH (2, 1, 3), cond);
      case_in (c, "a", dt, SH (2, 4, 1), a);
      case_in (c, "b", dt, SH (3), b);
      case_let (c, "y", dt, SH (2, 4, 3), "select(cond = c, a = a, b = b)");
      for (guint i = 0; i < 2; i++)
        for (guint j = 0; j < 4; j++)
          for (guint k = 0; k < 3; k++)
            want[(i * 4 + j) * 3 + k] = cond[i * 3 + k] ? a[i * 4 + j] : b[k];
      case_want (c, "y", dt, SH (2, 4, 3), want, EXACT);
      case_run (c);
    }
}

/* cast (iOS15/iOS17 elementwise_unary.py): numpy astype -- float to integer
 * truncates toward zero, to bool is x != 0, to fp16 rounds to nearest even
 * (70000 overflows to inf). Values stay inside each integer range, where
 * astype is defined. */
static void
t_cast (void)
{
  static const double x[] = { -2.75, -1, -0.5, 0, 0.375, 1.5, 1000.0625, 70000 };
  static const double xi[] = { -100, -1, 0, 1, 7, 100, 127, -128 };
  static const double xh[] = { -2.75, 0, 0x1p-24, 65504, -0.5, 3, 1024, -6 };
  static const double xb[] = { 1, 0, 0, 1, 1, 1, 0, 1 };
  Shape s = SH (8);
  double ti[8], th[8], tb[8], fi[8], i8[8], fh[8], fb[8];
  Case *c = case_new ("ios18", "cast");

  case_in (c, "x", F32, s, x);
  case_in (c, "xi", I32, s, xi);
  case_in (c, "xh", F16, s, xh);
  case_in (c, "xb", B1, s, xb);
  case_let (c, "ti", I32, s, "cast(x = x, dtype = string(\"int32\"))");
  case_let (c, "th", F16, s, "cast(x = x, dtype = string(\"fp16\"))");
  case_let (c, "tb", B1, s, "cast(x = x, dtype = string(\"bool\"))");
  case_let (c, "fi", F32, s, "cast(x = xi, dtype = string(\"fp32\"))");
  case_let (c, "i8", I8, s, "cast(x = xi, dtype = string(\"int8\"))");
  case_let (c, "fh", F32, s, "cast(x = xh, dtype = string(\"fp32\"))");
  case_let (c, "fb", F32, s, "cast(x = xb, dtype = string(\"fp32\"))");
  for (guint i = 0; i < 8; i++)
    {
      ti[i] = trunc (x[i]);
      th[i] = round_half (x[i]);
      tb[i] = x[i] != 0;
      fi[i] = xi[i];
      i8[i] = xi[i];
      fh[i] = xh[i];
      fb[i] = xb[i];
    }
  case_want (c, "ti", I32, s, ti, EXACT);
  case_want (c, "th", F16, s, th, EXACT);
  case_want (c, "tb", B1, s, tb, EXACT);
  case_want (c, "fi", F32, s, fi, EXACT);
  case_want (c, "i8", I8, s, i8, EXACT);
  case_want (c, "fh", F32, s, fh, EXACT);
  case_want (c, "fb", F32, s, fb, EXACT);
  case_run (c);
}

/* --- softmax and normalizations (iOS15 activation.py, normalization.py) ---------- */

/* The norms' default epsilons are Python floats in default_inputs, which
 * coremltools makes fp32 consts whatever x's dtype (unlike log, rsqrt and
 * inverse, whose defaults are cast to x's dtype): an fp16 program normalizes
 * with the fp32 value, 1e-5 or 1e-6, not its fp16 rounding. */

/* A fixed [2, 3, 4] input, exact in fp16, with a spread of magnitudes. */
static const double x234[] = { -2.5, 0.75, 3, -1, 0.5, 0.5, 2, -0.25, 6, -3.5, 1.25, 0,
                               1, 2, 4, 8, -0.125, 0.375, -0.625, 0.875, 5, 4.5, -6, 2.25 };

/* softmax (value_inference): exp(x - max) / sum exp(x - max) along axis */
static void
softmax_ref (const double *x,
             Shape         s,
             guint         axis,
             double       *y)
{
  gsize outer = 1, inner = 1, dim = (gsize) s.d[axis];

  for (guint d = 0; d < axis; d++)
    outer *= (gsize) s.d[d];
  for (guint d = axis + 1; d < s.rank; d++)
    inner *= (gsize) s.d[d];
  for (gsize o = 0; o < outer; o++)
    for (gsize i = 0; i < inner; i++)
      {
        double m = -INFINITY, sum = 0;

        for (gsize j = 0; j < dim; j++)
          m = MAX (m, x[(o * dim + j) * inner + i]);
        for (gsize j = 0; j < dim; j++)
          sum += exp (x[(o * dim + j) * inner + i] - m);
        for (gsize j = 0; j < dim; j++)
          y[(o * dim + j) * inner + i] = exp (x[(o * dim + j) * inner + i] - m) / sum;
      }
}

static void
t_softmax (void)
{
  static const AneDType dts[] = { F32, F16 };
  Shape s = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double tol = dt == F16 ? TOL16 : TOL32;
      double y_last[24], y1[24], y0[24];
      Case *c = case_new ("ios18", "softmax %s", mil_dtype (dt));

      case_in (c, "x", dt, s, x234);
      case_let (c, "a", dt, s, "softmax(x = x)");   /* axis defaults to -1 */
      case_let (c, "b", dt, s, "softmax(x = x, axis = int32(1))");
      case_let (c, "n", dt, s, "softmax(x = x, axis = int32(-3))");
      softmax_ref (x234, s, 2, y_last);
      softmax_ref (x234, s, 1, y1);
      softmax_ref (x234, s, 0, y0);
      case_want (c, "a", dt, s, y_last, tol);
      case_want (c, "b", dt, s, y1, tol);
      case_want (c, "n", dt, s, y0, tol);
      case_run (c);
    }
}

/* Normalizes x over the axes marked in reduced: (x - mean) / sqrt(var + eps)
 * with the population variance, then * gamma + beta, gamma and beta indexed
 * by the position among the reduced dims (shape x.shape[axes], value_inference
 * reshapes them to x's rank with 1s elsewhere); NULL gamma/beta are 1 and 0.
 * A plain two-pass loop over every element per group. */
static void
normalize_ref (const double   *x,
               Shape           s,
               const gboolean *reduced,
               const double   *gamma,
               const double   *beta,
               double          eps,
               double         *y)
{
  gsize n = shape_n (s);
  Shape kept = { 0 }, norm = { 0 };
  gint64 c[ANE_CPU_MAX_RANK], kc[ANE_CPU_MAX_RANK], nc[ANE_CPU_MAX_RANK];

  for (guint d = 0; d < s.rank; d++)
    {
      if (reduced[d])
        norm.d[norm.rank++] = s.d[d];
      else
        kept.d[kept.rank++] = s.d[d];
    }
  for (gsize g = 0; g < shape_n (kept); g++)
    {
      double sum = 0, sq = 0, count = 0, mean, var;

      for (int pass = 0; pass < 3; pass++)
        for (gsize i = 0; i < n; i++)
          {
            guint nk = 0, nn = 0;

            unravel (i, s, c);
            for (guint d = 0; d < s.rank; d++)
              {
                if (reduced[d])
                  nc[nn++] = c[d];
                else
                  kc[nk++] = c[d];
              }
            if (ravel (kept, kc) != g)
              continue;
            if (pass == 0)
              {
                sum += x[i];
                count++;
              }
            else if (pass == 1)
              sq += (x[i] - sum / count) * (x[i] - sum / count);
            else
              {
                gsize k = ravel (norm, nc);

                mean = sum / count;
                var = sq / count;
                y[i] = (x[i] - mean) / sqrt (var + eps) * (gamma ? gamma[k] : 1.0) + (beta ? beta[k] : 0.0);
              }
          }
    }
}

/* layer_norm: epsilon defaults to 1e-5; gamma and beta have the shape
 * x.shape[axes], in increasing axis order whatever the order of axes. The last case has a
 * variance of 1.25 2^-20, about 1e-6, where an epsilon of 1e-5 decides the
 * result. */
static void
t_layer_norm (void)
{
  static const AneDType dts[] = { F32, F16 };
  static const double g4[] = { 1.5, -0.5, 2, 0.25 }, b4[] = { 0.125, 1, -1, 0 };
  static const double g24[] = { 1, 2, 3, 4, -1, -2, -3, -4 }, b24[] = { 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5 };
  static const double tiny[] = { 0, 0x1p-10, 0x1p-9, 0x3p-10, 1, 1, 1, 1 };
  Shape s = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double tol = dt == F16 ? TOL16 : TOL32, eps = to_dtype (F32, 1e-5);
      const char *t = mil_dtype (dt);
      gboolean all[3] = { TRUE, TRUE, TRUE }, last[3] = { FALSE, FALSE, TRUE }, a02[3] = { TRUE, FALSE, TRUE };
      gboolean tl[2] = { FALSE, TRUE };
      double ya[24], yl[24], y02[24], yt[8];
      Case *c = case_new ("ios18", "layer_norm %s", t);

      case_in (c, "x", dt, s, x234);
      case_in (c, "u", dt, SH (2, 4), tiny);
      /* all axes, the default epsilon (coremltools 9.0 cannot build the
       * default axes, range(rank), as a const: a program must give them) */
      case_let (c, "a", dt, s, "layer_norm(x = x, axes = tensor<int32, [3]>([0, 1, 2]))");
      case_let (c, "l", dt, s, "layer_norm(x = x, axes = tensor<int32, [1]>([-1]), gamma = %s, beta = %s, "
                "epsilon = %s(0x1p-3))", case_lit (c, dt, SH (4), g4), case_lit (c, dt, SH (4), b4), t);
      case_let (c, "n", dt, s, "layer_norm(x = x, axes = tensor<int32, [2]>([2, 0]), gamma = %s, beta = %s)",
                case_lit (c, dt, SH (2, 4), g24), case_lit (c, dt, SH (2, 4), b24));
      case_let (c, "t", dt, SH (2, 4), "layer_norm(x = u, axes = tensor<int32, [1]>([1]))");
      normalize_ref (x234, s, all, NULL, NULL, eps, ya);
      normalize_ref (x234, s, last, g4, b4, 0.125, yl);
      normalize_ref (x234, s, a02, g24, b24, eps, y02);
      normalize_ref (tiny, SH (2, 4), tl, NULL, NULL, eps, yt);
      case_want (c, "a", dt, s, ya, tol);
      case_want (c, "l", dt, s, yl, tol);
      case_want (c, "n", dt, s, y02, tol);
      case_want (c, "t", dt, SH (2, 4), yt, tol);
      case_run (c);
    }
}

/* batch_norm: per channel (axis 1) (x - mean) / sqrt(variance + eps) * gamma
 * + beta; gamma, beta optional (1, 0), epsilon 1e-5 by default. A variance of
 * 2^-16 makes the default epsilon visible. */
static void
t_batch_norm (void)
{
  static const AneDType dts[] = { F32, F16 };
  static const double mean[] = { 0.5, -1, 2 }, var[] = { 0x1p-16, 1, 0.25 };
  static const double gamma[] = { 2, -0.5, 1.5 }, beta[] = { 0.25, 0, -1 };
  Shape s = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double tol = dt == F16 ? TOL16 : TOL32, eps = to_dtype (F32, 1e-5);
      gint64 cc[3];
      double yd[24], yg[24], y4[24];
      Case *c = case_new ("ios18", "batch_norm %s", mil_dtype (dt));

      case_in (c, "x", dt, s, x234);
      case_in (c, "x4", dt, SH (1, 3, 2, 4), x234 + 0);
      case_let (c, "d", dt, s, "batch_norm(x = x, mean = %s, variance = %s)",
                case_lit (c, dt, SH (3), mean), case_lit (c, dt, SH (3), var));
      case_let (c, "g", dt, s, "batch_norm(x = x, mean = %s, variance = %s, gamma = %s, beta = %s, epsilon = %s(0.5))",
                case_lit (c, dt, SH (3), mean), case_lit (c, dt, SH (3), var), case_lit (c, dt, SH (3), gamma),
                case_lit (c, dt, SH (3), beta), mil_dtype (dt));
      case_let (c, "r", dt, SH (1, 3, 2, 4), "batch_norm(x = x4, mean = %s, variance = %s, gamma = %s, beta = %s)",
                case_lit (c, dt, SH (3), mean), case_lit (c, dt, SH (3), var), case_lit (c, dt, SH (3), gamma),
                case_lit (c, dt, SH (3), beta));
      for (gsize i = 0; i < 24; i++)
        {
          unravel (i, s, cc);
          yd[i] = (x234[i] - mean[cc[1]]) / sqrt (var[cc[1]] + eps);
          yg[i] = (x234[i] - mean[cc[1]]) / sqrt (var[cc[1]] + 0.5) * gamma[cc[1]] + beta[cc[1]];
          y4[i] = (x234[i] - mean[i / 8]) / sqrt (var[i / 8] + eps) * gamma[i / 8] + beta[i / 8];
        }
      case_want (c, "d", dt, s, yd, tol);
      case_want (c, "g", dt, s, yg, tol);
      case_want (c, "r", dt, SH (1, 3, 2, 4), y4, tol);
      case_run (c);
    }
}

/* instance_norm: each (n, c) over the spatial dims, population variance,
 * then per-channel gamma and beta; epsilon 1e-5 by default. The second
 * input's first channel varies by 2^-10, where the default epsilon shows. */
static void
t_instance_norm (void)
{
  static const AneDType dts[] = { F32, F16 };
  static const double gamma[] = { 2, -0.5, 1.5 }, beta[] = { 0.25, 0, -1 };
  static const double tiny[] = { 0, 0x1p-10, 0x1p-10, 0, 1, 2, 4, 8 };
  Shape s = SH (2, 3, 4), s4 = SH (1, 2, 2, 2);
  gboolean spatial3[3] = { FALSE, FALSE, TRUE }, spatial4[4] = { FALSE, FALSE, TRUE, TRUE };

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double tol = dt == F16 ? TOL16 : TOL32, eps = to_dtype (F32, 1e-5);
      double yd[24], yg[24], yt[8];
      Case *c = case_new ("ios18", "instance_norm %s", mil_dtype (dt));

      case_in (c, "x", dt, s, x234);
      case_in (c, "u", dt, s4, tiny);
      case_let (c, "d", dt, s, "instance_norm(x = x)");
      case_let (c, "g", dt, s, "instance_norm(x = x, gamma = %s, beta = %s, epsilon = %s(0.25))",
                case_lit (c, dt, SH (3), gamma), case_lit (c, dt, SH (3), beta), mil_dtype (dt));
      case_let (c, "t", dt, s4, "instance_norm(x = u)");
      normalize_ref (x234, s, spatial3, NULL, NULL, eps, yd);
      /* gamma/beta per channel: normalize without, then scale by hand */
      normalize_ref (x234, s, spatial3, NULL, NULL, 0.25, yg);
      for (gsize i = 0; i < 24; i++)
        yg[i] = yg[i] * gamma[(i / 4) % 3] + beta[(i / 4) % 3];
      normalize_ref (tiny, s4, spatial4, NULL, NULL, eps, yt);
      case_want (c, "d", dt, s, yd, tol);
      case_want (c, "g", dt, s, yg, tol);
      case_want (c, "t", dt, s4, yt, tol);
      case_run (c);
    }
}

/* l2_norm: x / sqrt(sum x^2 + eps) over the last three dims, the leading
 * ones batch (value_inference); epsilon 1e-6 by default. The second batch of
 * u sums to 9 2^-24 (about 5e-7) so the default epsilon weighs. */
static void
t_l2_norm (void)
{
  static const AneDType dts[] = { F32, F16 };
  static const double u[] = { 1, -2, 0.5, 4, 0x1p-12, -0x1p-11, 0, 0x1p-11 };
  Shape s = SH (2, 3, 4), su = SH (2, 1, 2, 2);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double tol = dt == F16 ? TOL16 : TOL32, eps = to_dtype (F32, 1e-6);
      double yx[24], ye[24], yu[8];
      double all = 0;
      Case *c = case_new ("ios18", "l2_norm %s", mil_dtype (dt));

      case_in (c, "x", dt, s, x234);
      case_in (c, "u", dt, su, u);
      case_let (c, "a", dt, s, "l2_norm(x = x)");
      case_let (c, "e", dt, s, "l2_norm(x = x, epsilon = %s(16))", mil_dtype (dt));
      case_let (c, "b", dt, su, "l2_norm(x = u)");
      for (guint i = 0; i < 24; i++)
        all += x234[i] * x234[i];
      for (guint i = 0; i < 24; i++)
        {
          yx[i] = x234[i] / sqrt (all + eps);
          ye[i] = x234[i] / sqrt (all + 16);
        }
      for (guint b = 0; b < 2; b++)
        {
          double sum = 0;

          for (guint i = 0; i < 4; i++)
            sum += u[b * 4 + i] * u[b * 4 + i];
          for (guint i = 0; i < 4; i++)
            yu[b * 4 + i] = u[b * 4 + i] / sqrt (sum + eps);
        }
      case_want (c, "a", dt, s, yx, tol);
      case_want (c, "e", dt, s, ye, tol);
      case_want (c, "b", dt, su, yu, tol);
      case_run (c);
    }
}

/* prelu: max(x, 0) + min(x, 0) * alpha[c] along axis 1 (value_inference);
 * rank 4, where alpha may differ per channel. softplus_parametric:
 * alpha[c] * log(1 + exp(beta[c] * x)). */
static void
check_channel_activation (gboolean softplus)
{
  static const AneDType dts[] = { F32, F16 };
  static const double alpha[] = { 0.25, -1.5, 2 }, beta[] = { 1, 0.5, -2 };
  Shape s = SH (2, 3, 2, 2);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double want[24];
      const char *op = softplus ? "softplus_parametric" : "prelu";
      Case *c = case_new ("ios18", "%s %s", op, mil_dtype (dt));

      case_in (c, "x", dt, s, x234);
      if (softplus)
        case_let (c, "y", dt, s, "%s(x = x, alpha = %s, beta = %s)", op, case_lit (c, dt, SH (3), alpha),
                  case_lit (c, dt, SH (3), beta));
      else
        case_let (c, "y", dt, s, "%s(x = x, alpha = %s)", op, case_lit (c, dt, SH (3), alpha));
      for (guint i = 0; i < 24; i++)
        {
          guint ch = (i / 4) % 3;

          if (softplus)
            want[i] = alpha[ch] * log (1.0 + exp (beta[ch] * x234[i]));
          else
            want[i] = MAX (x234[i], 0.0) + MIN (x234[i], 0.0) * alpha[ch];
        }
      case_want (c, "y", dt, s, want, dt == F16 ? TOL16 : TOL32);
      case_run (c);
    }
}

static void t_prelu (void) { check_channel_activation (FALSE); }
static void t_softplus_parametric (void) { check_channel_activation (TRUE); }

/* --- linear algebra, convolution, pooling (iOS15 linear.py, conv.py, pool.py,
 *     image_resizing.py, iOS18 transformers.py) -------------------------------- */

/* n deterministic values in [-2, 2] by steps of 1/4 (exact in fp16) */
static double *
dyadic (gsize   n,
        guint   seed)
{
  double *v = g_new (double, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    v[i] = (double) ((i * 7 + seed * 5 + 3) % 17) / 4.0 - 2.0;
  return v;
}

/* numpy.matmul of two operands of rank >= 2 after the optional swaps of
 * their last two axes; batch dims broadcast (right-aligned, 1 stretches). */
static void
matmul_ref (const double *x,
            Shape         xs,
            gboolean      tx,
            const double *y,
            Shape         ys,
            gboolean      ty,
            Shape         os,
            double       *out)
{
  guint r = os.rank;
  gint64 K = tx ? xs.d[xs.rank - 2] : xs.d[xs.rank - 1];
  gint64 c[ANE_CPU_MAX_RANK], xc[ANE_CPU_MAX_RANK], yc[ANE_CPU_MAX_RANK];

  for (gsize o = 0; o < shape_n (os); o++)
    {
      double sum = 0;

      unravel (o, os, c);
      for (guint d = 0; d + 2 < xs.rank; d++)
        xc[d] = xs.d[d] == 1 ? 0 : c[r - xs.rank + d];
      for (guint d = 0; d + 2 < ys.rank; d++)
        yc[d] = ys.d[d] == 1 ? 0 : c[r - ys.rank + d];
      for (gint64 k = 0; k < K; k++)
        {
          xc[xs.rank - 2] = tx ? k : c[r - 2];
          xc[xs.rank - 1] = tx ? c[r - 2] : k;
          yc[ys.rank - 2] = ty ? c[r - 1] : k;
          yc[ys.rank - 1] = ty ? k : c[r - 1];
          sum += x[ravel (xs, xc)] * y[ravel (ys, yc)];
        }
      out[o] = sum;
    }
}

/* matmul: plain, transposed with broadcast batch dims, a rank-1 x (numpy
 * promotes it to a row, then drops the axis; coremltools' type_inference
 * reads y's axis -2, so a rank-1 y is not a loadable program), and int32. */
static void
t_matmul (void)
{
  static const AneDType dts[] = { F32, F16 };
  Shape xa = SH (2, 3), ya = SH (3, 4), oa = SH (2, 4);
  Shape xb = SH (2, 1, 3, 2), yb = SH (3, 4, 3), ob = SH (2, 3, 2, 4);
  g_autofree double *a = dyadic (6, 1), *b = dyadic (12, 2), *p = dyadic (12, 3), *q = dyadic (36, 4);
  g_autofree double *v = dyadic (3, 5);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double tol = dt == F16 ? TOL16 : TOLMM;
      double wa[8], wb[48], wv[4];
      Case *c = case_new ("ios18", "matmul %s", mil_dtype (dt));

      case_in (c, "a", dt, xa, a);
      case_in (c, "b", dt, ya, b);
      case_in (c, "p", dt, xb, p);
      case_in (c, "q", dt, yb, q);
      case_in (c, "v", dt, SH (3), v);
      case_let (c, "ab", dt, oa, "matmul(x = a, y = b)");
      case_let (c, "pq", dt, ob, "matmul(x = p, y = q, transpose_x = bool(true), transpose_y = bool(true))");
      case_let (c, "vb", dt, SH (4), "matmul(x = v, y = b)");
      matmul_ref (a, xa, FALSE, b, ya, FALSE, oa, wa);
      matmul_ref (p, xb, TRUE, q, yb, TRUE, ob, wb);
      matmul_ref (v, SH (1, 3), FALSE, b, ya, FALSE, SH (1, 4), wv);
      case_want (c, "ab", dt, oa, wa, tol);
      case_want (c, "pq", dt, ob, wb, tol);
      case_want (c, "vb", dt, SH (4), wv, tol);
      case_run (c);
    }
  {
    static const double xi[] = { 1, -2, 3, 4, 0, -5 }, yi[] = { 7, -1, 2, 3, -4, 6 };
    double want[4];
    Case *c = case_new ("ios18", "matmul int32");

    case_in (c, "x", I32, SH (2, 3), xi);
    case_in (c, "y", I32, SH (3, 2), yi);
    case_let (c, "z", I32, SH (2, 2), "matmul(x = x, y = y)");
    matmul_ref (xi, SH (2, 3), FALSE, yi, SH (3, 2), FALSE, SH (2, 2), want);
    case_want (c, "z", I32, SH (2, 2), want, EXACT);
    case_run (c);
  }
}

/* linear: x . weight^T + bias (bias optional), x of rank 1 to 3 */
static void
t_linear (void)
{
  static const AneDType dts[] = { F32, F16 };
  g_autofree double *x = dyadic (12, 6), *w = dyadic (12, 7), *bias = dyadic (4, 8);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double tol = dt == F16 ? TOL16 : TOLMM;
      double wb[8], wn[16];
      Case *c = case_new ("ios18", "linear %s", mil_dtype (dt));

      case_in (c, "x", dt, SH (2, 3), x);
      case_in (c, "x3", dt, SH (2, 2, 3), x);
      case_let (c, "b", dt, SH (2, 4), "linear(x = x, weight = %s, bias = %s)", case_lit (c, dt, SH (4, 3), w),
                case_lit (c, dt, SH (4), bias));
      case_let (c, "n", dt, SH (2, 2, 4), "linear(x = x3, weight = %s)", case_lit (c, dt, SH (4, 3), w));
      for (guint i = 0; i < 4; i++)
        for (guint j = 0; j < 4; j++)
          {
            double sum = 0;

            for (guint k = 0; k < 3; k++)
              sum += x[i * 3 + k] * w[j * 3 + k];
            if (i < 2)
              wb[i * 4 + j] = sum + bias[j];
            wn[i * 4 + j] = sum;
          }
      case_want (c, "b", dt, SH (2, 4), wb, tol);
      case_want (c, "n", dt, SH (2, 2, 4), wn, tol);
      case_run (c);
    }
}

/* The begin/end padding of one spatial dim (_utils.py aggregated_pad): same
 * and same_lower pad max(0, s ceil(i / s) - i + dk - s) in total, the odd
 * cell at the end for same and at the start for same_lower. */
static void
pads_for (const char *pad_type,
          gint64      in,
          gint64      dk,
          gint64      s,
          const gint64 *custom,
          gint64     *pb,
          gint64     *pe)
{
  gint64 total = MAX (0, s * ((in + s - 1) / s) - in + dk - s);

  if (g_str_equal (pad_type, "valid"))
    *pb = *pe = 0;
  else if (g_str_equal (pad_type, "custom"))
    *pb = custom[0], *pe = custom[1];
  else if (g_str_equal (pad_type, "same"))
    *pb = total / 2, *pe = total - total / 2;
  else
    *pe = total / 2, *pb = total - total / 2;
}

typedef struct {
  guint       nsp;            /* 1 or 2 spatial dims */
  gint64      in[2], k[2], s[2], dil[2], pad[4];
  gint64      cin, cout, groups, batch;
  const char *pad_type;
} Conv;

/* A direct convolution (cross-correlation) of x [N, C_in, *D] with weight
 * [C_out, C_in / groups, *K]; out has the size floor((D + pads - dk) / s) + 1. */
static Shape
conv_ref (const Conv   *cv,
          const double *x,
          const double *w,
          const double *bias,
          double      **out)
{
  gint64 pb[2] = { 0, 0 }, pe[2] = { 0, 0 }, od[2] = { 1, 1 }, in[2] = { 1, 1 }, k[2] = { 1, 1 };
  gint64 s[2] = { 1, 1 }, dl[2] = { 1, 1 };
  gint64 cg = cv->cin / cv->groups, og = cv->cout / cv->groups;
  guint off = 2 - cv->nsp;
  Shape os = { 2 + cv->nsp, { cv->batch, cv->cout } };

  for (guint i = 0; i < cv->nsp; i++)
    {
      gint64 dk = (cv->k[i] - 1) * cv->dil[i] + 1;

      pads_for (cv->pad_type, cv->in[i], dk, cv->s[i], cv->pad + 2 * i, &pb[off + i], &pe[off + i]);
      od[off + i] = (cv->in[i] + pb[off + i] + pe[off + i] - dk) / cv->s[i] + 1;
      in[off + i] = cv->in[i];
      k[off + i] = cv->k[i];
      s[off + i] = cv->s[i];
      dl[off + i] = cv->dil[i];
      os.d[2 + i] = od[off + i];
    }
  *out = g_new0 (double, shape_n (os));
  for (gint64 n = 0; n < cv->batch; n++)
    for (gint64 o = 0; o < cv->cout; o++)
      for (gint64 oy = 0; oy < od[0]; oy++)
        for (gint64 ox = 0; ox < od[1]; ox++)
          {
            double sum = bias ? bias[o] : 0;

            for (gint64 ci = 0; ci < cg; ci++)
              for (gint64 ky = 0; ky < k[0]; ky++)
                for (gint64 kx = 0; kx < k[1]; kx++)
                  {
                    gint64 iy = oy * s[0] - pb[0] + ky * dl[0], ix = ox * s[1] - pb[1] + kx * dl[1];
                    gint64 c = (o / og) * cg + ci;

                    if (iy < 0 || iy >= in[0] || ix < 0 || ix >= in[1])
                      continue;
                    sum += x[((n * cv->cin + c) * in[0] + iy) * in[1] + ix] * w[((o * cg + ci) * k[0] + ky) * k[1] + kx];
                  }
            (*out)[((n * cv->cout + o) * od[0] + oy) * od[1] + ox] = sum;
          }
  return os;
}

static Shape
conv_in_shape (const Conv *cv)
{
  Shape s = { 2 + cv->nsp, { cv->batch, cv->cin } };

  for (guint i = 0; i < cv->nsp; i++)
    s.d[2 + i] = cv->in[i];
  return s;
}

static Shape
conv_w_shape (const Conv *cv,
              gboolean    transpose)
{
  Shape s = { 2 + cv->nsp, { transpose ? cv->cin : cv->cout, transpose ? cv->cout / cv->groups : cv->cin / cv->groups } };

  for (guint i = 0; i < cv->nsp; i++)
    s.d[2 + i] = cv->k[i];
  return s;
}

static const char *
ints_lit (Case         *c,
          const gint64 *v,
          guint         n)
{
  double d[8];

  for (guint i = 0; i < n; i++)
    d[i] = (double) v[i];
  return case_lit (c, I32, (Shape) { 1, { n } }, d);
}

/* conv: 2-D with groups, strides, dilations, custom padding and bias; 1-D
 * with same, same_lower and the default pad_type (valid); depthwise
 * (groups == C_in, ane-cpu-conv-depthwise.c, with bias): stride 2 with
 * asymmetric padding, kernel 5 over rows longer than the 8-float vector,
 * dilation 2 with 2 outputs a channel and mixed strides, 1-D, channel
 * counts that are no multiple of the vector width; a grouped conv through
 * im2col (ane-cpu-conv-im2col.c) at stride 2 with asymmetric padding and
 * dilation. */
static void
t_conv (void)
{
  static const Conv convs[] = {
    { 2, { 4, 5 }, { 3, 2 }, { 2, 1 }, { 1, 2 }, { 1, 0, 2, 1 }, 2, 4, 2, 1, "custom" },
    { 1, { 7 }, { 3 }, { 2 }, { 1 }, { 0 }, 2, 3, 1, 2, "same" },
    { 1, { 7 }, { 2 }, { 2 }, { 1 }, { 0 }, 2, 3, 1, 2, "same" },
    { 1, { 7 }, { 2 }, { 2 }, { 1 }, { 0 }, 2, 3, 1, 2, "same_lower" },
    { 1, { 7 }, { 3 }, { 1 }, { 2 }, { 0 }, 2, 3, 1, 2, NULL },
#define FIRST_DEPTHWISE 5
    { 2, { 9, 11 }, { 3, 3 }, { 2, 2 }, { 1, 1 }, { 1, 0, 0, 1 }, 11, 11, 11, 1, "custom" },
    { 2, { 13, 21 }, { 5, 5 }, { 1, 1 }, { 1, 1 }, { 2, 2, 2, 2 }, 9, 9, 9, 2, "custom" },
    { 2, { 10, 19 }, { 3, 3 }, { 1, 2 }, { 2, 2 }, { 0 }, 3, 6, 3, 1, "same" },
    { 2, { 6, 7 }, { 5, 3 }, { 2, 1 }, { 1, 3 }, { 0 }, 5, 5, 5, 1, NULL },
    { 1, { 17 }, { 5 }, { 2 }, { 1 }, { 3, 1 }, 4, 4, 4, 1, "custom" },
    { 2, { 7, 10 }, { 3, 3 }, { 2, 2 }, { 2, 1 }, { 1, 2, 0, 1 }, 4, 6, 2, 2, "custom" },
    { 2, { 3, 4 }, { 2, 2 }, { 1, 1 }, { 1, 1 }, { 0 }, 3, 2, 1, 1, NULL },   /* every default */
  };
  static const AneDType dts[] = { F32, F16 };

  for (guint d = 0; d < N_OF (dts); d++)
    for (guint i = 0; i < N_OF (convs); i++)
      {
        const Conv *cv = &convs[i];
        Conv geo = *cv;
        AneDType dt = dts[d];
        Shape xs = conv_in_shape (cv), ws = conv_w_shape (cv, FALSE), os;
        g_autofree double *x = dyadic (shape_n (xs), i), *w = dyadic (shape_n (ws), i + 9);
        g_autofree double *bias = dyadic (cv->cout, i + 4), *want = NULL;
        GString *args = g_string_new (NULL);
        Case *c = case_new ("ios18", "conv %u %s %s", i, cv->pad_type ? cv->pad_type : "(default)", mil_dtype (dt));
        gboolean with_bias = i == 0 || (i >= FIRST_DEPTHWISE && i + 1 < N_OF (convs));

        geo.pad_type = cv->pad_type ? cv->pad_type : "valid";
        os = conv_ref (&geo, x, w, with_bias ? bias : NULL, &want);
        case_in (c, "x", dt, xs, x);
        g_string_append_printf (args, "x = x, weight = %s", case_lit (c, dt, ws, w));
        if (cv->pad_type)
          g_string_append_printf (args, ", pad_type = string(\"%s\")", cv->pad_type);
        if (cv->pad_type && g_str_equal (cv->pad_type, "custom"))
          g_string_append_printf (args, ", pad = %s", ints_lit (c, cv->pad, 2 * cv->nsp));
        if (i + 1 < N_OF (convs))   /* the last row leaves strides and dilations to their defaults (1) */
          g_string_append_printf (args, ", strides = %s, dilations = %s", ints_lit (c, cv->s, cv->nsp),
                                  ints_lit (c, cv->dil, cv->nsp));
        if (cv->groups != 1)
          g_string_append_printf (args, ", groups = int32(%" G_GINT64_FORMAT ")", cv->groups);
        if (with_bias)
          g_string_append_printf (args, ", bias = %s", case_lit (c, dt, SH (cv->cout), bias));
        case_let (c, "y", dt, os, "conv(%s)", args->str);
        case_want (c, "y", dt, os, want, dt == F16 ? TOL16 : TOLMM);
        case_run (c);
        g_string_free (args, TRUE);
      }
}

/* conv_transpose: each input cell i adds x[i] * w[k] at output position
 * i s - crop + k dil, for the full (D - 1) s + dk cells cropped by the
 * padding (custom: pad[2i] at the start, pad[2i + 1] at the end; valid:
 * none; same: D s cells, TF's crop of (full - D s) / 2 at the start). */
static void
t_conv_transpose (void)
{
  static const Conv convs[] = {
    { 2, { 2, 3 }, { 3, 3 }, { 2, 2 }, { 1, 1 }, { 1, 0, 0, 1 }, 2, 2, 1, 1, "custom" },
    { 1, { 3 }, { 2 }, { 1 }, { 2 }, { 0 }, 2, 4, 2, 2, "valid" },
    { 1, { 3 }, { 3 }, { 2 }, { 1 }, { 0 }, 1, 1, 1, 1, "same" },
  };
  static const AneDType dts[] = { F32, F16 };

  for (guint d = 0; d < N_OF (dts); d++)
    for (guint i = 0; i < N_OF (convs); i++)
      {
        const Conv *cv = &convs[i];
        AneDType dt = dts[d];
        Shape xs = conv_in_shape (cv), ws = conv_w_shape (cv, TRUE);
        Shape os = { xs.rank, { cv->batch, cv->cout } };
        gint64 crop[2] = { 0, 0 }, od[2] = { 1, 1 }, in[2] = { 1, 1 }, k[2] = { 1, 1 }, s[2] = { 1, 1 };
        gint64 dl[2] = { 1, 1 }, cin_g = cv->cin / cv->groups, cout_g = cv->cout / cv->groups;
        guint off = 2 - cv->nsp;
        g_autofree double *x = dyadic (shape_n (xs), i + 2), *w = dyadic (shape_n (ws), i + 11);
        g_autofree double *bias = dyadic (cv->cout, i + 6), *want = NULL;
        GString *args = g_string_new (NULL);
        Case *c = case_new ("ios18", "conv_transpose %u %s", i, mil_dtype (dt));

        for (guint j = 0; j < cv->nsp; j++)
          {
            gint64 full = (cv->in[j] - 1) * cv->s[j] + (cv->k[j] - 1) * cv->dil[j] + 1;

            if (g_str_equal (cv->pad_type, "custom"))
              {
                crop[off + j] = cv->pad[2 * j];
                od[off + j] = full - cv->pad[2 * j] - cv->pad[2 * j + 1];
              }
            else if (g_str_equal (cv->pad_type, "valid"))
              od[off + j] = full;
            else
              {
                od[off + j] = cv->in[j] * cv->s[j];
                crop[off + j] = (full - od[off + j]) / 2;
              }
            os.d[2 + j] = od[off + j];
            in[off + j] = cv->in[j];
            k[off + j] = cv->k[j];
            s[off + j] = cv->s[j];
            dl[off + j] = cv->dil[j];
          }
        want = g_new0 (double, shape_n (os));
        for (gint64 n = 0; n < cv->batch; n++)
          for (gint64 o = 0; o < cv->cout; o++)
            for (gint64 oy = 0; oy < od[0]; oy++)
              for (gint64 ox = 0; ox < od[1]; ox++)
                {
                  double sum = i == 0 ? bias[o] : 0;
                  gint64 g = o / cout_g;

                  for (gint64 ci = g * cin_g; ci < (g + 1) * cin_g; ci++)
                    for (gint64 iy = 0; iy < in[0]; iy++)
                      for (gint64 ix = 0; ix < in[1]; ix++)
                        for (gint64 ky = 0; ky < k[0]; ky++)
                          for (gint64 kx = 0; kx < k[1]; kx++)
                            if (iy * s[0] - crop[0] + ky * dl[0] == oy && ix * s[1] - crop[1] + kx * dl[1] == ox)
                              sum += x[((n * cv->cin + ci) * in[0] + iy) * in[1] + ix] *
                                     w[((ci * cout_g + o % cout_g) * k[0] + ky) * k[1] + kx];
                  want[((n * cv->cout + o) * od[0] + oy) * od[1] + ox] = sum;
                }
        case_in (c, "x", dt, xs, x);
        g_string_append_printf (args, "x = x, weight = %s, pad_type = string(\"%s\")", case_lit (c, dt, ws, w),
                                cv->pad_type);
        if (g_str_equal (cv->pad_type, "custom"))
          g_string_append_printf (args, ", pad = %s", ints_lit (c, cv->pad, 2 * cv->nsp));
        g_string_append_printf (args, ", strides = %s, dilations = %s", ints_lit (c, cv->s, cv->nsp),
                                ints_lit (c, cv->dil, cv->nsp));
        if (cv->groups != 1)
          g_string_append_printf (args, ", groups = int32(%" G_GINT64_FORMAT ")", cv->groups);
        if (i == 0)
          g_string_append_printf (args, ", bias = %s", case_lit (c, dt, SH (cv->cout), bias));
        case_let (c, "y", dt, os, "conv_transpose(%s)", args->str);
        case_want (c, "y", dt, os, want, dt == F16 ? TOL16 : TOLMM);
        case_run (c);
        g_string_free (args, TRUE);
      }
}

typedef struct {
  guint       nsp;
  gint64      in[2], k[2], s[2], pad[4];
  const char *pad_type;
  gboolean    ceil_mode;
  gboolean    exclude;   /* avg_pool: exclude_padding_from_average */
} Pool;

/* max_pool / avg_pool as torch computes them (pool.py: ceil_mode is
 * "Same as PyTorch's ceil mode"): the output size is floor((D + pads - k) /
 * s) + 1, or with ceil_mode the ceiling, less one when the last window would
 * start at or past D + the begin padding (_utils.py
 * spatial_dimensions_out_shape). A window [start, start + k) is cut to the
 * padded input [-pb, D + pe) to count the cells an average divides by
 * (padding included), and to [0, D) for the values and for
 * exclude_padding_from_average; the maximum never takes a padded cell. */
static Shape
pool_ref (const Pool   *pl,
          gboolean      is_max,
          Shape         xs,
          const double *x,
          double      **out)
{
  gint64 pb[2] = { 0, 0 }, pe[2] = { 0, 0 }, od[2] = { 1, 1 }, in[2] = { 1, 1 }, k[2] = { 1, 1 }, s[2] = { 1, 1 };
  guint off = 2 - pl->nsp;
  Shape os = xs;
  gsize planes = (gsize) (xs.d[0] * xs.d[1]);

  for (guint i = 0; i < pl->nsp; i++)
    {
      gint64 j = off + i, span;

      pads_for (pl->pad_type, pl->in[i], pl->k[i], pl->s[i], pl->pad + 2 * i, &pb[j], &pe[j]);
      span = pl->in[i] + pb[j] + pe[j] - pl->k[i];
      if (!pl->ceil_mode)
        od[j] = span / pl->s[i] + 1;
      else
        {
          od[j] = (span + pl->s[i] - 1) / pl->s[i] + 1;
          if ((od[j] - 1) * pl->s[i] >= pl->in[i] + pb[j] && pb[j] + pe[j] > 0)
            od[j]--;
        }
      in[j] = pl->in[i];
      k[j] = pl->k[i];
      s[j] = pl->s[i];
      os.d[2 + i] = od[j];
    }
  *out = g_new0 (double, shape_n (os));
  for (gsize p = 0; p < planes; p++)
    for (gint64 oy = 0; oy < od[0]; oy++)
      for (gint64 ox = 0; ox < od[1]; ox++)
        {
          gint64 y0 = oy * s[0] - pb[0], x0 = ox * s[1] - pb[1];
          gint64 y1 = MIN (y0 + k[0], in[0] + pe[0]), x1 = MIN (x0 + k[1], in[1] + pe[1]);
          double padded = (double) ((y1 - y0) * (x1 - x0)), acc = is_max ? -INFINITY : 0, inside = 0;

          for (gint64 iy = MAX (y0, 0); iy < MIN (y1, in[0]); iy++)
            for (gint64 ix = MAX (x0, 0); ix < MIN (x1, in[1]); ix++)
              {
                double v = x[(p * in[0] + iy) * in[1] + ix];

                acc = is_max ? MAX (acc, v) : acc + v;
                inside++;
              }
          (*out)[(p * od[0] + oy) * od[1] + ox] = is_max ? acc : acc / (pl->exclude ? inside : padded);
        }
  return os;
}

static void
check_pool (gboolean is_max)
{
  static const Pool pools[] = {
    { 2, { 5, 6 }, { 3, 2 }, { 2, 2 }, { 0 }, "valid", FALSE, FALSE },
    { 2, { 5, 6 }, { 3, 3 }, { 2, 1 }, { 1, 0, 2, 1 }, "custom", FALSE, FALSE },
    { 2, { 5, 6 }, { 3, 3 }, { 2, 1 }, { 1, 0, 2, 1 }, "custom", FALSE, TRUE },
    /* ceil_mode with padding: along H (6, k 3, s 2, pad 1) ceil adds a window
     * that runs past the end padding; along W (3, k 2, s 2, pad 1) the third
     * window would start in the end padding and is dropped */
    { 2, { 6, 3 }, { 3, 2 }, { 2, 2 }, { 1, 1, 1, 1 }, "custom", TRUE, FALSE },
    { 2, { 6, 3 }, { 3, 2 }, { 2, 2 }, { 1, 1, 1, 1 }, "custom", TRUE, TRUE },
    { 1, { 7 }, { 3 }, { 2 }, { 0 }, "same", FALSE, FALSE },
    { 1, { 7 }, { 2 }, { 2 }, { 0 }, "same_lower", FALSE, TRUE },
    { 2, { 4, 3 }, { 2, 2 }, { 1, 1 }, { 0 }, "valid", FALSE, FALSE },   /* strides left to their default */
  };
  static const AneDType dts[] = { F32, F16 };
  const char *op = is_max ? "max_pool" : "avg_pool";

  for (guint d = 0; d < N_OF (dts); d++)
    for (guint i = 0; i < N_OF (pools); i++)
      {
        const Pool *pl = &pools[i];
        AneDType dt = dts[d];
        Shape xs = { 2 + pl->nsp, { 1, 2 } }, os;
        g_autofree double *x = NULL, *want = NULL;
        GString *args = g_string_new (NULL);
        Case *c = case_new ("ios18", "%s %u %s", op, i, mil_dtype (dt));

        for (guint j = 0; j < pl->nsp; j++)
          xs.d[2 + j] = pl->in[j];
        x = dyadic (shape_n (xs), i + 3);
        os = pool_ref (pl, is_max, xs, x, &want);
        case_in (c, "x", dt, xs, x);
        g_string_append_printf (args, "x = x, kernel_sizes = %s, pad_type = string(\"%s\")",
                                ints_lit (c, pl->k, pl->nsp), pl->pad_type);
        if (i + 1 < N_OF (pools))
          g_string_append_printf (args, ", strides = %s", ints_lit (c, pl->s, pl->nsp));
        if (g_str_equal (pl->pad_type, "custom"))
          g_string_append_printf (args, ", pad = %s", ints_lit (c, pl->pad, 2 * pl->nsp));
        if (pl->ceil_mode)
          g_string_append (args, ", ceil_mode = bool(true)");
        if (!is_max)
          g_string_append_printf (args, ", exclude_padding_from_average = bool(%s)", pl->exclude ? "true" : "false");
        case_let (c, "y", dt, os, "%s(%s)", op, args->str);
        case_want (c, "y", dt, os, want, is_max ? EXACT : dt == F16 ? TOL16 : TOL32);
        case_run (c);
        g_string_free (args, TRUE);
      }
}

static void t_max_pool (void) { check_pool (TRUE); }
static void t_avg_pool (void) { check_pool (FALSE); }

/* upsample_nearest_neighbor: the last two axes scaled to floor(H sh) x
 * floor(W sw), out[y, x] = in[floor(y / sh), floor(x / sw)]; the factors
 * default to 1 and may be fractional (image_resizing.py). */
static void
t_upsample_nearest_neighbor (void)
{
  static const AneDType dts[] = { F32, F16 };
  static const double factors[][2] = { { 2, 3 }, { 1.5, 1 }, { 1, 1 } };
  Shape xs = SH (1, 2, 2, 3);
  g_autofree double *x = dyadic (12, 1);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      Case *c = case_new ("ios18", "upsample_nearest_neighbor %s", mil_dtype (dt));

      case_in (c, "x", dt, xs, x);
      for (guint f = 0; f < N_OF (factors); f++)
        {
          double sh = factors[f][0], sw = factors[f][1];
          gint64 H = (gint64) floor (2 * sh), W = (gint64) floor (3 * sw);
          Shape os = SH (1, 2, H, W);
          g_autofree double *want = g_new (double, shape_n (os));
          const char *name = case_keep (c, g_strdup_printf ("y%u", f));

          for (gint64 p = 0; p < 2; p++)
            for (gint64 y = 0; y < H; y++)
              for (gint64 xx = 0; xx < W; xx++)
                want[(p * H + y) * W + xx] = x[(p * 2 + (gint64) floor (y / sh)) * 3 + (gint64) floor (xx / sw)];
          if (f == 2)
            case_let (c, name, dt, os, "upsample_nearest_neighbor(x = x)");
          else
            case_let (c, name, dt, os, "upsample_nearest_neighbor(x = x, scale_factor_height = fp32(%a), "
                      "scale_factor_width = fp32(%a))", sh, sw);
          case_want (c, name, dt, os, want, EXACT);
        }
      case_run (c);
    }
}

/* scaled_dot_product_attention (value_inference): softmax(q k^T / sqrt(E) +
 * mask) v; a bool mask adds -inf where False, a float mask is added; masks
 * broadcast to [B, L, S]. */
static void
sdpa_ref (const double *q,
          const double *k,
          const double *v,
          const double *mask,
          Shape         ms,
          gboolean      bool_mask,
          double       *out)
{
  const gint64 B = 2, L = 3, S = 5, E = 4, EV = 2;
  gint64 mc[3];

  for (gint64 b = 0; b < B; b++)
    for (gint64 l = 0; l < L; l++)
      {
        double score[5], m = -INFINITY, sum = 0;

        for (gint64 s = 0; s < S; s++)
          {
            double dot = 0;

            for (gint64 e = 0; e < E; e++)
              dot += q[(b * L + l) * E + e] * k[(b * S + s) * E + e];
            score[s] = dot / sqrt ((double) E);
            if (mask)
              {
                gint64 full[3] = { b, l, s };
                Shape m3 = { 3, { 1, 1, 1 } };

                /* right-aligned, size-1 dims stretch */
                for (guint d = 0; d < ms.rank; d++)
                  m3.d[3 - ms.rank + d] = ms.d[d];
                for (guint d = 0; d < 3; d++)
                  mc[d] = m3.d[d] == 1 ? 0 : full[d];
                if (bool_mask)
                  score[s] += mask[ravel (m3, mc)] != 0 ? 0 : -INFINITY;
                else
                  score[s] += mask[ravel (m3, mc)];
              }
            m = MAX (m, score[s]);
          }
        for (gint64 s = 0; s < S; s++)
          sum += exp (score[s] - m);
        for (gint64 e = 0; e < EV; e++)
          {
            double acc = 0;

            for (gint64 s = 0; s < S; s++)
              acc += exp (score[s] - m) / sum * v[(b * S + s) * EV + e];
            out[(b * L + l) * EV + e] = acc;
          }
      }
}

/* Keys that every row of the mask hides (a cache's rows past the ones
 * written) are not computed at all: their weights are exactly 0, so the
 * result is that over the visible keys, even where the hidden value rows
 * hold NaN (a computed 0 · NaN would have been NaN). A float mask hiding
 * the last two keys of every row, a bool mask the last one. */
static void
sdpa_hidden_keys (void)
{
  static const double bmask[] = { 1, 1, 0, 1, 0,  1, 0, 1, 1, 0 };   /* [2, 1, 5]: key 4 hidden in both */
  g_autofree double *q = dyadic (24, 1), *k = dyadic (40, 2), *v = dyadic (20, 3), *fmask = dyadic (15, 4);
  g_autofree double *vf = g_memdup2 (v, 20 * sizeof (double)), *vf0 = g_memdup2 (v, 20 * sizeof (double));
  g_autofree double *vb = g_memdup2 (v, 20 * sizeof (double)), *vb0 = g_memdup2 (v, 20 * sizeof (double));
  double wf[12], wb[12];
  Shape os = SH (2, 3, 2);

  for (gint64 b = 0; b < 2; b++)
    for (gint64 e = 0; e < 2; e++)
      {
        for (gint64 s = 3; s < 5; s++)
          {
            vf[(b * 5 + s) * 2 + e] = NAN;
            vf0[(b * 5 + s) * 2 + e] = 0.0;
          }
        vb[(b * 5 + 4) * 2 + e] = NAN;
        vb0[(b * 5 + 4) * 2 + e] = 0.0;
      }
  for (guint l = 0; l < 3; l++)
    fmask[l * 5 + 3] = fmask[l * 5 + 4] = -INFINITY;
  sdpa_ref (q, k, vf0, fmask, SH (3, 5), FALSE, wf);
  sdpa_ref (q, k, vb0, bmask, SH (2, 1, 5), TRUE, wb);
  for (guint d = 0; d < 2; d++)
    {
      AneDType dt = d == 0 ? F32 : F16;
      double tol = dt == F16 ? TOL16 : TOLMM;
      Case *c = case_new ("ios18", "scaled_dot_product_attention hidden keys %s", mil_dtype (dt));

      case_in (c, "q", dt, SH (2, 3, 4), q);
      case_in (c, "k", dt, SH (2, 5, 4), k);
      case_in (c, "vf", dt, SH (2, 5, 2), vf);
      case_in (c, "vb", dt, SH (2, 5, 2), vb);
      case_in (c, "fm", dt, SH (3, 5), fmask);
      case_in (c, "bm", B1, SH (2, 1, 5), bmask);
      case_let (c, "f", dt, os, "scaled_dot_product_attention(query = q, key = k, value = vf, attn_mask = fm)");
      case_let (c, "b", dt, os, "scaled_dot_product_attention(query = q, key = k, value = vb, attn_mask = bm)");
      case_want (c, "f", dt, os, wf, tol);
      case_want (c, "b", dt, os, wb, tol);
      case_run (c);
    }
}

/* A prompt-sized causal attention: 70 query rows at positions 10..79 over
 * 80 keys (a cache with 10 rows before the prompt), the mask the same for
 * every head ([L, S], float and bool). The CPU backend computes it in
 * blocks of rows, each over the keys its rows see; the result is the
 * definition's, against a double reference here. */
static void
sdpa_causal_prompt (void)
{
  enum { B = 2, L = 70, S = 80, E = 8, EV = 4, OFF = 10 };
  g_autofree double *q = g_new (double, B * L * E), *k = g_new (double, B * S * E), *v = g_new (double, B * S * EV);
  g_autofree double *fm = g_new (double, L * S), *bm = g_new (double, L * S), *want = g_new (double, B * L * EV);
  g_autoptr(GRand) rand = g_rand_new_with_seed (70);

  for (guint i = 0; i < B * L * E; i++)
    q[i] = nearbyint (g_rand_double_range (rand, -1, 1) * 64) / 64;   /* exact in fp16 */
  for (guint i = 0; i < B * S * E; i++)
    k[i] = nearbyint (g_rand_double_range (rand, -1, 1) * 64) / 64;   /* exact in fp16 */
  for (guint i = 0; i < B * S * EV; i++)
    v[i] = nearbyint (g_rand_double_range (rand, -1, 1) * 64) / 64;   /* exact in fp16 */
  for (guint l = 0; l < L; l++)
    for (guint s = 0; s < S; s++)
      {
        gboolean seen = s <= l + OFF;

        fm[l * S + s] = seen ? 0.0 : -INFINITY;
        bm[l * S + s] = seen;
      }
  for (guint b = 0; b < B; b++)
    for (guint l = 0; l < L; l++)
      {
        double sc[S], mx = -INFINITY, sum = 0;

        for (guint s = 0; s < S; s++)
          {
            double d = 0;

            for (guint e = 0; e < E; e++)
              d += q[(b * L + l) * E + e] * k[(b * S + s) * E + e];
            sc[s] = d / sqrt ((double) E) + fm[l * S + s];
            mx = MAX (mx, sc[s]);
          }
        for (guint s = 0; s < S; s++)
          sum += exp (sc[s] - mx);
        for (guint e = 0; e < EV; e++)
          {
            double acc = 0;

            for (guint s = 0; s < S; s++)
              acc += exp (sc[s] - mx) / sum * v[(b * S + s) * EV + e];
            want[(b * L + l) * EV + e] = acc;
          }
      }
  for (guint d = 0; d < 2; d++)
    {
      AneDType dt = d == 0 ? F32 : F16;
      double tol = dt == F16 ? TOL16 : TOLMM;
      Case *c = case_new ("ios18", "scaled_dot_product_attention causal prompt %s", mil_dtype (dt));

      case_in (c, "q", dt, SH (B, L, E), q);
      case_in (c, "k", dt, SH (B, S, E), k);
      case_in (c, "v", dt, SH (B, S, EV), v);
      case_in (c, "fm", dt, SH (L, S), fm);
      case_in (c, "bm", B1, SH (L, S), bm);
      case_let (c, "f", dt, SH (B, L, EV), "scaled_dot_product_attention(query = q, key = k, value = v, attn_mask = fm)");
      case_let (c, "b", dt, SH (B, L, EV), "scaled_dot_product_attention(query = q, key = k, value = v, attn_mask = bm)");
      case_want (c, "f", dt, SH (B, L, EV), want, tol);
      case_want (c, "b", dt, SH (B, L, EV), want, tol);
      case_run (c);
    }
}

static void
t_scaled_dot_product_attention (void)
{
  static const AneDType dts[] = { F32, F16 };
  static const double bmask[] = { 1, 0, 1, 1, 0, 0, 1, 1, 1, 1 };   /* [2, 1, 5] */
  g_autofree double *q = dyadic (24, 1), *k = dyadic (40, 2), *v = dyadic (20, 3), *fmask = dyadic (15, 4);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double tol = dt == F16 ? TOL16 : TOLMM;
      double wn[12], wf[12], wb[12];
      Shape os = SH (2, 3, 2);
      Case *c = case_new ("ios18", "scaled_dot_product_attention %s", mil_dtype (dt));

      case_in (c, "q", dt, SH (2, 3, 4), q);
      case_in (c, "k", dt, SH (2, 5, 4), k);
      case_in (c, "v", dt, SH (2, 5, 2), v);
      case_in (c, "fm", dt, SH (3, 5), fmask);
      case_in (c, "bm", B1, SH (2, 1, 5), bmask);
      case_let (c, "n", dt, os, "scaled_dot_product_attention(query = q, key = k, value = v)");
      case_let (c, "f", dt, os, "scaled_dot_product_attention(query = q, key = k, value = v, attn_mask = fm)");
      case_let (c, "b", dt, os, "scaled_dot_product_attention(query = q, key = k, value = v, attn_mask = bm)");
      sdpa_ref (q, k, v, NULL, SCALAR, FALSE, wn);
      sdpa_ref (q, k, v, fmask, SH (3, 5), FALSE, wf);
      sdpa_ref (q, k, v, bmask, SH (2, 1, 5), TRUE, wb);
      case_want (c, "n", dt, os, wn, tol);
      case_want (c, "f", dt, os, wf, tol);
      case_want (c, "b", dt, os, wb, tol);
      case_run (c);
    }
  sdpa_hidden_keys ();
  sdpa_causal_prompt ();
}

/* --- shape and layout (iOS15..iOS18 tensor_transformation.py, tensor_operation.py) */

static const double seq24[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23 };

/* The same program in fp32, fp16 and int32 (and bool where it makes sense):
 * the layout ops only move values, so every dtype must come out exact. */
static const AneDType layout_dtypes[] = { F32, F16, I32, B1 };

static double
bool_of (AneDType dt,
         double   v)
{
  return dt == B1 ? (double) ((gint64) v % 3 != 0) : v;
}

/* x as dtype dt holds it (bools: a pattern from the values) */
static double *
values_as (AneDType      dt,
           const double *v,
           gsize         n)
{
  double *out = g_new (double, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    out[i] = bool_of (dt, v[i]);
  return out;
}

/* reshape: one -1 inferred; from iOS17 a 0 copies x's dim counted from the
 * right, 1 past x's rank (iOS17 docstring: [2, 50] with [1, 0, -1, 0] gives
 * [1, 1, 2, 50]); values keep their C order. */
static void
t_reshape (void)
{
  for (guint d = 0; d < N_OF (layout_dtypes); d++)
    {
      AneDType dt = layout_dtypes[d];
      g_autofree double *x = values_as (dt, seq24, 24);
      Case *c = case_new ("ios18", "reshape %s", mil_dtype (dt));

      case_in (c, "x", dt, SH (2, 3, 4), x);
      case_let (c, "a", dt, SH (4, 6), "reshape(x = x, shape = tensor<int32, [2]>([4, -1]))");
      case_let (c, "b", dt, SH (3, 8), "reshape(x = x, shape = tensor<int32, [2]>([0, -1]))");
      case_let (c, "c", dt, SH (1, 2, 3, 4), "reshape(x = x, shape = tensor<int32, [4]>([1, 0, -1, 0]))");
      case_let (c, "d", dt, SH (24), "reshape(x = x, shape = tensor<int32, [1]>([24]))");
      case_want (c, "a", dt, SH (4, 6), x, EXACT);
      case_want (c, "b", dt, SH (3, 8), x, EXACT);
      case_want (c, "c", dt, SH (1, 2, 3, 4), x, EXACT);
      case_want (c, "d", dt, SH (24), x, EXACT);
      case_run (c);
    }
}

/* out[c] = x[c permuted]: output axis i is x's axis perm[i] (np.transpose) */
static void
t_transpose (void)
{
  static const gint64 perms[][3] = { { 2, 0, 1 }, { 1, 0, 2 }, { 0, 1, 2 } };
  Shape xs = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (layout_dtypes); d++)
    {
      AneDType dt = layout_dtypes[d];
      g_autofree double *x = values_as (dt, seq24, 24);
      Case *c = case_new ("ios18", "transpose %s", mil_dtype (dt));

      case_in (c, "x", dt, xs, x);
      for (guint p = 0; p < N_OF (perms); p++)
        {
          Shape os = SH (xs.d[perms[p][0]], xs.d[perms[p][1]], xs.d[perms[p][2]]);
          double want[24];
          gint64 oc[3], xc[3];
          const char *name = case_keep (c, g_strdup_printf ("t%u", p));

          for (gsize i = 0; i < 24; i++)
            {
              unravel (i, os, oc);
              for (guint j = 0; j < 3; j++)
                xc[perms[p][j]] = oc[j];
              want[i] = x[ravel (xs, xc)];
            }
          case_let (c, name, dt, os, "transpose(x = x, perm = %s)", ints_lit (c, perms[p], 3));
          case_want (c, name, dt, os, want, EXACT);
        }
      case_run (c);
    }
}

/* expand_dims inserts size-1 axes at the positions of the result named by
 * axes (negative: from the end of the result); squeeze drops the size-1
 * axes named, or all of them by default; flatten2d is [prod(x.shape[:axis]),
 * prod(x.shape[axis:])], axis 1 by default. Values keep their order. */
static void
t_expand_dims (void)
{
  for (guint d = 0; d < N_OF (layout_dtypes); d++)
    {
      AneDType dt = layout_dtypes[d];
      g_autofree double *x = values_as (dt, seq24, 24);
      Case *c = case_new ("ios18", "expand_dims %s", mil_dtype (dt));

      case_in (c, "x", dt, SH (2, 3, 4), x);
      case_let (c, "a", dt, SH (1, 2, 3, 4, 1), "expand_dims(x = x, axes = tensor<int32, [2]>([0, -1]))");
      case_let (c, "b", dt, SH (2, 3, 1, 4), "expand_dims(x = x, axes = tensor<int32, [1]>([2]))");
      case_let (c, "c", dt, SH (2, 1, 3, 1, 4), "expand_dims(x = x, axes = tensor<int32, [2]>([-2, 1]))");
      case_want (c, "a", dt, SH (1, 2, 3, 4, 1), x, EXACT);
      case_want (c, "b", dt, SH (2, 3, 1, 4), x, EXACT);
      case_want (c, "c", dt, SH (2, 1, 3, 1, 4), x, EXACT);
      case_run (c);
    }
}

static void
t_squeeze (void)
{
  for (guint d = 0; d < N_OF (layout_dtypes); d++)
    {
      AneDType dt = layout_dtypes[d];
      g_autofree double *x = values_as (dt, seq24, 6);
      Case *c = case_new ("ios18", "squeeze %s", mil_dtype (dt));

      case_in (c, "x", dt, SH (1, 3, 1, 2), x);
      case_let (c, "a", dt, SH (3, 2), "squeeze(x = x)");
      case_let (c, "b", dt, SH (1, 3, 2), "squeeze(x = x, axes = tensor<int32, [1]>([-2]))");
      case_let (c, "c", dt, SH (3, 1, 2), "squeeze(x = x, axes = tensor<int32, [1]>([0]))");
      case_want (c, "a", dt, SH (3, 2), x, EXACT);
      case_want (c, "b", dt, SH (1, 3, 2), x, EXACT);
      case_want (c, "c", dt, SH (3, 1, 2), x, EXACT);
      case_run (c);
    }
}

static void
t_flatten2d (void)
{
  for (guint d = 0; d < N_OF (layout_dtypes); d++)
    {
      AneDType dt = layout_dtypes[d];
      g_autofree double *x = values_as (dt, seq24, 24);
      Case *c = case_new ("ios18", "flatten2d %s", mil_dtype (dt));

      case_in (c, "x", dt, SH (2, 3, 4), x);
      case_let (c, "a", dt, SH (2, 12), "flatten2d(x = x)");
      case_let (c, "b", dt, SH (6, 4), "flatten2d(x = x, axis = int32(-1))");
      case_let (c, "c", dt, SH (1, 24), "flatten2d(x = x, axis = int32(0))");
      case_let (c, "e", dt, SH (24, 1), "flatten2d(x = x, axis = int32(3))");
      case_want (c, "a", dt, SH (2, 12), x, EXACT);
      case_want (c, "b", dt, SH (6, 4), x, EXACT);
      case_want (c, "c", dt, SH (1, 24), x, EXACT);
      case_want (c, "e", dt, SH (24, 1), x, EXACT);
      case_run (c);
    }
}

/* reverse: np.flip along each axis in axes, every axis by default */
static void
t_reverse (void)
{
  static const gboolean flips[][3] = { { TRUE, TRUE, TRUE }, { FALSE, TRUE, FALSE }, { TRUE, FALSE, TRUE } };
  static const char *const axes[] = { NULL, "tensor<int32, [1]>([1])", "tensor<int32, [2]>([0, -1])" };
  Shape xs = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (layout_dtypes); d++)
    {
      AneDType dt = layout_dtypes[d];
      g_autofree double *x = values_as (dt, seq24, 24);
      Case *c = case_new ("ios18", "reverse %s", mil_dtype (dt));

      case_in (c, "x", dt, xs, x);
      for (guint f = 0; f < N_OF (flips); f++)
        {
          double want[24];
          gint64 cc[3];
          const char *name = case_keep (c, g_strdup_printf ("r%u", f));

          for (gsize i = 0; i < 24; i++)
            {
              unravel (i, xs, cc);
              for (guint j = 0; j < 3; j++)
                if (flips[f][j])
                  cc[j] = xs.d[j] - 1 - cc[j];
              want[i] = x[ravel (xs, cc)];
            }
          if (axes[f])
            case_let (c, name, dt, xs, "reverse(x = x, axes = %s)", axes[f]);
          else
            case_let (c, name, dt, xs, "reverse(x = x)");
          case_want (c, name, dt, xs, want, EXACT);
        }
      case_run (c);
    }
}

/* concat along an axis; with interleave the values alternate one slice at a
 * time (out[.., j n + v, ..] = values[v][.., j, ..]) */
static void
t_concat (void)
{
  for (guint d = 0; d < N_OF (layout_dtypes); d++)
    {
      AneDType dt = layout_dtypes[d];
      g_autofree double *x = values_as (dt, seq24, 24), *w = NULL;
      double a[32], il[48];
      gint64 cc[3];
      Case *c = case_new ("ios18", "concat %s", mil_dtype (dt));

      {
        double wv[24];

        for (guint i = 0; i < 24; i++)
          wv[i] = 100 + i;
        w = values_as (dt, wv, 24);
      }
      case_in (c, "x", dt, SH (2, 3, 4), x);
      case_in (c, "w", dt, SH (2, 1, 4), w);
      case_in (c, "u", dt, SH (2, 3, 4), w);
      case_let (c, "a", dt, SH (2, 4, 4), "concat(values = (x, w), axis = int32(1))");
      case_let (c, "il", dt, SH (2, 3, 8), "concat(values = (x, u), axis = int32(-1), interleave = bool(true))");
      for (gsize i = 0; i < 32; i++)
        {
          unravel (i, SH (2, 4, 4), cc);
          a[i] = cc[1] < 3 ? x[(cc[0] * 3 + cc[1]) * 4 + cc[2]] : w[cc[0] * 4 + cc[2]];
        }
      for (gsize i = 0; i < 48; i++)
        {
          unravel (i, SH (2, 3, 8), cc);
          il[i] = (cc[2] % 2 == 0 ? x : w)[(cc[0] * 3 + cc[1]) * 4 + cc[2] / 2];
        }
      case_want (c, "a", dt, SH (2, 4, 4), a, EXACT);
      case_want (c, "il", dt, SH (2, 3, 8), il, EXACT);
      case_run (c);
    }
}

/* The [lo, hi) part of axis `axis` of x (shape xs) as a new array. */
static double *
part_of (const double *x,
         Shape         xs,
         guint         axis,
         gint64        lo,
         gint64        hi,
         Shape        *ps)
{
  gint64 cc[ANE_CPU_MAX_RANK];
  double *out;
  gsize k = 0;

  *ps = xs;
  ps->d[axis] = hi - lo;
  out = g_new (double, MAX (shape_n (*ps), 1));
  for (gsize i = 0; i < shape_n (xs); i++)
    {
      unravel (i, xs, cc);
      if (cc[axis] >= lo && cc[axis] < hi)
        out[k++] = x[i];
    }
  return out;
}

/* split by num_splits (equal parts) or split_sizes, along axis */
static void
t_split (void)
{
  Shape xs = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (layout_dtypes); d++)
    {
      AneDType dt = layout_dtypes[d];
      const char *t = mil_dtype (dt);
      g_autofree double *x = values_as (dt, seq24, 24);
      static const gint64 bounds3[] = { 0, 1, 2, 3 }, bounds2[] = { 0, 1, 4 };
      Case *c = case_new ("ios18", "split %s", t);

      case_in (c, "x", dt, xs, x);
      case_line (c, "(tensor<%s, [2, 1, 4]> p0, tensor<%s, [2, 1, 4]> p1, tensor<%s, [2, 1, 4]> p2) = "
                 "split(x = x, num_splits = int32(3), axis = int32(1))[name = string(\"sp3\")]", t, t, t);
      case_line (c, "(tensor<%s, [2, 3, 1]> q0, tensor<%s, [2, 3, 3]> q1) = "
                 "split(x = x, split_sizes = tensor<int32, [2]>([1, 3]), axis = int32(-1))[name = string(\"sp2\")]",
                 t, t);
      for (guint i = 0; i < 3; i++)
        {
          Shape ps;
          g_autofree double *p = part_of (x, xs, 1, bounds3[i], bounds3[i + 1], &ps);

          case_want (c, case_keep (c, g_strdup_printf ("p%u", i)), dt, ps, p, EXACT);
        }
      for (guint i = 0; i < 2; i++)
        {
          Shape ps;
          g_autofree double *p = part_of (x, xs, 2, bounds2[i], bounds2[i + 1], &ps);

          case_want (c, case_keep (c, g_strdup_printf ("q%u", i)), dt, ps, p, EXACT);
        }
      case_run (c);
    }
}

/* stack: a new axis of size n at `axis` (of the result) */
static void
t_stack (void)
{
  static const gint64 axes[] = { 0, 1, -1 };
  Shape xs = SH (2, 3);

  for (guint d = 0; d < N_OF (layout_dtypes); d++)
    {
      AneDType dt = layout_dtypes[d];
      g_autofree double *x = values_as (dt, seq24, 6), *w = values_as (dt, seq24 + 10, 6);
      Case *c = case_new ("ios18", "stack %s", mil_dtype (dt));

      case_in (c, "x", dt, xs, x);
      case_in (c, "w", dt, xs, w);
      for (guint a = 0; a < N_OF (axes); a++)
        {
          guint ax = axes[a] < 0 ? 3 + axes[a] : axes[a];
          Shape os = { 3, { 0 } };
          double want[12];
          gint64 oc[3], xc[2];
          const char *name = case_keep (c, g_strdup_printf ("s%u", a));

          for (guint j = 0, k = 0; j < 3; j++)
            os.d[j] = j == ax ? 2 : xs.d[k++];
          for (gsize i = 0; i < 12; i++)
            {
              unravel (i, os, oc);
              for (guint j = 0, k = 0; j < 3; j++)
                if (j != ax)
                  xc[k++] = oc[j];
              want[i] = (oc[ax] == 0 ? x : w)[ravel (xs, xc)];
            }
          case_let (c, name, dt, os, "stack(values = (x, w), axis = int32(%" G_GINT64_FORMAT "))", axes[a]);
          case_want (c, name, dt, os, want, EXACT);
        }
      case_run (c);
    }
}

/* tile: out[c] = x[c mod x.shape] with out.shape = x.shape * reps */
static void
t_tile (void)
{
  Shape xs = SH (2, 3), os = SH (4, 9);

  for (guint d = 0; d < N_OF (layout_dtypes); d++)
    {
      AneDType dt = layout_dtypes[d];
      g_autofree double *x = values_as (dt, seq24, 6);
      double want[36], w1[6];
      gint64 oc[2], xc[2];
      Case *c = case_new ("ios18", "tile %s", mil_dtype (dt));

      case_in (c, "x", dt, xs, x);
      case_let (c, "t", dt, os, "tile(x = x, reps = tensor<int32, [2]>([2, 3]))");
      case_let (c, "o", dt, xs, "tile(x = x, reps = tensor<int32, [2]>([1, 1]))");
      for (gsize i = 0; i < 36; i++)
        {
          unravel (i, os, oc);
          xc[0] = oc[0] % 2;
          xc[1] = oc[1] % 3;
          want[i] = x[ravel (xs, xc)];
        }
      memcpy (w1, x, sizeof w1);
      case_want (c, "t", dt, os, want, EXACT);
      case_want (c, "o", dt, xs, w1, EXACT);
      case_run (c);
    }
}

/* pad: the last len(pad) / 2 axes, pad[2i] before and pad[2i + 1] after;
 * constant (constant_val, 0 by default), reflect (numpy reflect: the edge
 * is not repeated) or replicate (numpy edge). */
static gint64
pad_source (const char *mode,
            gint64      i,
            gint64      dim)
{
  if (i >= 0 && i < dim)
    return i;
  if (g_str_equal (mode, "constant"))
    return -1;
  if (g_str_equal (mode, "replicate"))
    return i < 0 ? 0 : dim - 1;
  /* reflect about the first and last cells */
  while (i < 0 || i >= dim)
    i = i < 0 ? -i : 2 * (dim - 1) - i;
  return i;
}

static void
t_pad (void)
{
  static const struct {
    const char *mode;
    gint64      pad[4];
    guint       n;
    double      value;
    gboolean    value_given;
  } pads[] = {
    { "constant", { 1, 0, 2, 1 }, 4, 0, FALSE },
    { "constant", { 0, 2 }, 2, -2.5, TRUE },
    { "reflect", { 2, 1, 3, 2 }, 4, 0, FALSE },
    { "replicate", { 1, 2, 0, 3 }, 4, 0, FALSE },
  };
  static const AneDType dts[] = { F32, F16 };   /* pad's T: fp16, fp32 */
  Shape xs = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      Case *c = case_new ("ios18", "pad %s", mil_dtype (dt));

      case_in (c, "x", dt, xs, seq24);
      for (guint p = 0; p < N_OF (pads); p++)
        {
          guint first = 3 - pads[p].n / 2;
          gint64 before[3] = { 0, 0, 0 }, oc[3], xc[3];
          Shape os = xs;
          g_autofree double *want = NULL;
          double value = pads[p].value;
          const char *name = case_keep (c, g_strdup_printf ("p%u", p));
          GString *args = g_string_new (NULL);

          for (guint j = first; j < 3; j++)
            {
              before[j] = pads[p].pad[2 * (j - first)];
              os.d[j] += before[j] + pads[p].pad[2 * (j - first) + 1];
            }
          want = g_new (double, shape_n (os));
          for (gsize i = 0; i < shape_n (os); i++)
            {
              gboolean outside = FALSE;

              unravel (i, os, oc);
              for (guint j = 0; j < 3; j++)
                {
                  xc[j] = pad_source (pads[p].mode, oc[j] - before[j], xs.d[j]);
                  outside = outside || xc[j] < 0;
                }
              want[i] = outside ? value : seq24[ravel (xs, xc)];
            }
          g_string_append_printf (args, "x = x, pad = %s", ints_lit (c, pads[p].pad, pads[p].n));
          if (p > 0)   /* the first row leaves mode to its default, constant */
            g_string_append_printf (args, ", mode = string(\"%s\")", pads[p].mode);
          if (pads[p].value_given)
            g_string_append_printf (args, ", constant_val = %s", case_lit (c, dt, SCALAR, &value));
          case_let (c, name, dt, os, "pad(%s)", args->str);
          case_want (c, name, dt, os, want, EXACT);
          g_string_free (args, TRUE);
        }
      case_run (c);
    }
}

/* Python's slice(start, stop, step) on a dimension of size dim, as the
 * language reference defines slice.indices(): a negative start or stop
 * counts from the end and is clamped to [-1, dim - 1] going down or
 * [0, dim] going up; a missing one (has_* FALSE) is the far end. Returns the
 * selected indices. */
static guint
python_indices (gint64    dim,
                gboolean  has_start,
                gint64    start,
                gboolean  has_stop,
                gint64    stop,
                gint64    step,
                gint64   *idx)
{
  guint n = 0;

  if (step > 0)
    {
      start = !has_start ? 0 : start < 0 ? MAX (start + dim, 0) : MIN (start, dim);
      stop = !has_stop ? dim : stop < 0 ? MAX (stop + dim, 0) : MIN (stop, dim);
      for (gint64 i = start; i < stop; i += step)
        idx[n++] = i;
    }
  else
    {
      start = !has_start ? dim - 1 : start < 0 ? MAX (start + dim, -1) : MIN (start, dim - 1);
      stop = !has_stop ? -1 : stop < 0 ? MAX (stop + dim, -1) : MIN (stop, dim - 1);
      for (gint64 i = start; i > stop; i += step)
        idx[n++] = i;
    }
  return n;
}

typedef struct {
  gint64   begin[3], end[3], stride[3];
  gboolean begin_mask[3], end_mask[3], squeeze_mask[3];
} Slice;

/* x[slices] of a [2, 3, 4] x (value_inference: numpy slicing; a squeezed
 * axis takes begin alone) */
static Shape
slice_ref (const Slice  *sl,
           const double *x,
           double       *out,
           gint64        idx[3][8],
           guint        *len)
{
  Shape xs = SH (2, 3, 4), os = { 0 }, full = { 3, { 0 } };
  gint64 fc[3], xc[3];

  for (guint d = 0; d < 3; d++)
    {
      if (sl->squeeze_mask[d])
        len[d] = python_indices (xs.d[d], !sl->begin_mask[d], sl->begin[d], FALSE, 0, G_MAXINT32, idx[d]);
      else
        len[d] = python_indices (xs.d[d], !sl->begin_mask[d], sl->begin[d], !sl->end_mask[d], sl->end[d],
                                 sl->stride[d], idx[d]);
      full.d[d] = len[d];
      if (!sl->squeeze_mask[d])
        os.d[os.rank++] = len[d];
    }
  for (gsize i = 0; i < shape_n (full); i++)
    {
      unravel (i, full, fc);
      for (guint d = 0; d < 3; d++)
        xc[d] = idx[d][fc[d]];
      if (out)
        out[i] = x[ravel (xs, xc)];
    }
  return os;
}

static const char *
bools_lit (Case           *c,
           const gboolean *v)
{
  double d[3] = { v[0], v[1], v[2] };

  return case_lit (c, B1, SH (3), d);
}

/* slice_by_index: strides, masks, squeeze_mask, and the corner of issue 11,
 * a negative stride whose end lies below -dim. The op is defined as numpy
 * slicing, x[begin:end:stride] (docstring; value_inference indexes with
 * Python slices): such an end means "past index 0", so the slice runs down
 * to index 0 inclusive (x[1:-10:-1] of a dim of 2 is [1, 0]). coremltools'
 * type_inference (_utils.py solve_slice_by_index_shape) clamps a negative
 * end to 0 instead of -1 and writes it back into the const, so it infers,
 * and then computes, one element fewer on such an axis (rows 1, 4, 5 and 6
 * here); these programs declare numpy's shapes, the documented ones, which
 * the kernel follows. */
static void
t_slice_by_index (void)
{
  static const Slice slices[] = {
    { { 0, 0, 0 }, { 2, 3, 4 }, { 1, 2, 3 }, { 0 }, { 0 }, { 0 } },
    { { -1, -2, -4 }, { -3, 100, -1 }, { -1, 1, 2 }, { 0 }, { 0 }, { 0 } },
    { { 5, -2, -4 }, { 1, 0, 0 }, { 1, 2, 3 }, { TRUE, FALSE, FALSE }, { FALSE, TRUE, TRUE }, { 0 } },
    { { 1, 1, -1 }, { 2, 3, 4 }, { 1, 1, 1 }, { 0 }, { 0 }, { TRUE, FALSE, TRUE } },
    /* x[1:-10:-1, 2:-100:-1, 3:-5:-2]: every end below -dim */
    { { 1, 2, 3 }, { -10, -100, -5 }, { -1, -1, -2 }, { 0 }, { 0 }, { 0 } },
    /* x[-1:-3:-1, ::-2, -1:-9:-3]: ends at and below -dim */
    { { -1, 0, -1 }, { -3, 0, -9 }, { -1, -2, -3 }, { FALSE, TRUE, FALSE }, { FALSE, TRUE, FALSE }, { 0 } },
    /* x[0:2, 2:-4:-1, 3:-100:-3]: -4 is exactly -dim - 1 on axis 1 */
    { { 0, 2, 3 }, { 2, -4, -100 }, { 1, -1, -3 }, { 0 }, { 0 }, { 0 } },
  };
  static const AneDType dts[] = { F32, F16, I32, B1 };

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      g_autofree double *x = values_as (dt, seq24, 24);
      Case *c = case_new ("ios18", "slice_by_index %s", mil_dtype (dt));

      case_in (c, "x", dt, SH (2, 3, 4), x);
      for (guint s = 0; s < N_OF (slices); s++)
        {
          const Slice *sl = &slices[s];
          gint64 idx[3][8];
          guint len[3];
          double want[24];
          Shape os = slice_ref (sl, x, want, idx, len);
          const char *name = case_keep (c, g_strdup_printf ("s%u", s));

          if (s == 1 || s >= 4)
            case_type_exempt (c, name);   /* numpy's shape, not coremltools' (above) */
          case_let (c, name, dt, os, "slice_by_index(x = x, begin = %s, end = %s, stride = %s, begin_mask = %s, "
                    "end_mask = %s, squeeze_mask = %s)", ints_lit (c, sl->begin, 3), ints_lit (c, sl->end, 3),
                    ints_lit (c, sl->stride, 3), bools_lit (c, sl->begin_mask), bools_lit (c, sl->end_mask),
                    bools_lit (c, sl->squeeze_mask));
          case_want (c, name, dt, os, want, EXACT);
        }
      /* stride, masks and squeeze_mask default to none */
      {
        static const double want[] = { 13, 14, 17, 18 };
        double w[4];

        for (guint i = 0; i < 4; i++)
          w[i] = bool_of (dt, want[i]);
        case_let (c, "plain", dt, SH (1, 2, 2), "slice_by_index(x = x, begin = tensor<int32, [3]>([1, 0, 1]), "
                  "end = tensor<int32, [3]>([2, 2, 3]))");
        case_want (c, "plain", dt, SH (1, 2, 2), w, EXACT);
      }
      case_run (c);
    }
}

/* slice_by_size: begin (negative counts from the end) and size (-1: the rest) */
static void
t_slice_by_size (void)
{
  static const gint64 begins[][3] = { { 1, 0, 2 }, { -1, -2, 0 }, { 0, 1, 1 } };
  static const gint64 sizes[][3] = { { 1, -1, 2 }, { 1, 2, -1 }, { 2, 1, -1 } };
  Shape xs = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (layout_dtypes); d++)
    {
      AneDType dt = layout_dtypes[d];
      g_autofree double *x = values_as (dt, seq24, 24);
      Case *c = case_new ("ios18", "slice_by_size %s", mil_dtype (dt));

      case_in (c, "x", dt, xs, x);
      for (guint s = 0; s < N_OF (begins); s++)
        {
          gint64 b[3], oc[3], xc[3];
          Shape os = SH (0, 0, 0);
          double want[24];
          const char *name = case_keep (c, g_strdup_printf ("s%u", s));

          for (guint j = 0; j < 3; j++)
            {
              b[j] = begins[s][j] < 0 ? begins[s][j] + xs.d[j] : begins[s][j];
              os.d[j] = sizes[s][j] == -1 ? xs.d[j] - b[j] : sizes[s][j];
            }
          for (gsize i = 0; i < shape_n (os); i++)
            {
              unravel (i, os, oc);
              for (guint j = 0; j < 3; j++)
                xc[j] = b[j] + oc[j];
              want[i] = x[ravel (xs, xc)];
            }
          case_let (c, name, dt, os, "slice_by_size(x = x, begin = %s, size = %s)", ints_lit (c, begins[s], 3),
                    ints_lit (c, sizes[s], 3));
          case_want (c, name, dt, os, want, EXACT);
        }
      case_run (c);
    }
}

/* slice_update (iOS18): x with x[slices] replaced by update */
static void
t_slice_update (void)
{
  static const Slice slices[] = {
    { { 0, 1, 0 }, { 2, 3, 4 }, { 1, 1, 2 }, { 0 }, { 0 }, { 0 } },
    { { 1, -1, 3 }, { 0, 0, 0 }, { -1, -2, -1 }, { TRUE, FALSE, FALSE }, { FALSE, TRUE, FALSE }, { FALSE, FALSE, TRUE } },
    /* the last axis at stride 1: whole runs copied (a decode step's cache
     * rows), within rows and whole rows under reversed outer axes */
    { { 0, 1, 1 }, { 2, 3, 4 }, { 1, 1, 1 }, { 0 }, { 0 }, { 0 } },
    { { 1, 2, 0 }, { 0, 0, 4 }, { -1, -1, 1 }, { FALSE, FALSE, FALSE }, { TRUE, TRUE, FALSE }, { 0 } },
  };

  for (guint d = 0; d < N_OF (layout_dtypes); d++)
    {
      AneDType dt = layout_dtypes[d];
      g_autofree double *x = values_as (dt, seq24, 24);
      Case *c = case_new ("ios18", "slice_update %s", mil_dtype (dt));

      case_in (c, "x", dt, SH (2, 3, 4), x);
      for (guint s = 0; s < N_OF (slices); s++)
        {
          const Slice *sl = &slices[s];
          gint64 idx[3][8], fc[3], xc[3];
          guint len[3];
          Shape os = slice_ref (sl, x, NULL, idx, len), full = SH (len[0], len[1], len[2]);
          double want[24], upd[24];
          const char *name = case_keep (c, g_strdup_printf ("u%u", s));

          memcpy (want, x, sizeof want);
          for (gsize i = 0; i < shape_n (os); i++)
            upd[i] = bool_of (dt, 50 + 2 * i);
          for (gsize i = 0; i < shape_n (full); i++)
            {
              unravel (i, full, fc);
              for (guint j = 0; j < 3; j++)
                xc[j] = idx[j][fc[j]];
              want[ravel (SH (2, 3, 4), xc)] = upd[i];
            }
          case_let (c, name, dt, SH (2, 3, 4), "slice_update(x = x, update = %s, begin = %s, end = %s, stride = %s, "
                    "begin_mask = %s, end_mask = %s, squeeze_mask = %s)", case_lit (c, dt, os, upd),
                    ints_lit (c, sl->begin, 3), ints_lit (c, sl->end, 3), ints_lit (c, sl->stride, 3),
                    bools_lit (c, sl->begin_mask), bools_lit (c, sl->end_mask), bools_lit (c, sl->squeeze_mask));
          case_want (c, name, dt, SH (2, 3, 4), want, EXACT);
        }
      case_run (c);
    }
}

/* --- gather and scatter (iOS15..iOS17 scatter_gather.py) ------------------------- */

/* gather: out.shape = x.shape[:axis] + indices.shape[batch_dims:] +
 * x.shape[axis + 1:]; out[p, i, q] = x[p, indices[p[:batch_dims], i], q].
 * Up to iOS16 a negative index v in [-D, 0) means v + D. */
static Shape
gather_ref (const double *x,
            Shape         xs,
            const double *ind,
            Shape         is,
            guint         axis,
            guint         batch,
            double       *out)
{
  Shape os = { 0 };
  gint64 oc[ANE_CPU_MAX_RANK], xc[ANE_CPU_MAX_RANK], ic[ANE_CPU_MAX_RANK];
  guint ni = is.rank - batch;

  for (guint d = 0; d < axis; d++)
    os.d[os.rank++] = xs.d[d];
  for (guint d = batch; d < is.rank; d++)
    os.d[os.rank++] = is.d[d];
  for (guint d = axis + 1; d < xs.rank; d++)
    os.d[os.rank++] = xs.d[d];
  for (gsize i = 0; i < shape_n (os); i++)
    {
      gint64 v;

      unravel (i, os, oc);
      for (guint d = 0; d < batch; d++)
        ic[d] = oc[d];
      for (guint d = 0; d < ni; d++)
        ic[batch + d] = oc[axis + d];
      v = (gint64) ind[ravel (is, ic)];
      if (v < 0)
        v += xs.d[axis];
      for (guint d = 0; d < axis; d++)
        xc[d] = oc[d];
      xc[axis] = v;
      for (guint d = axis + 1; d < xs.rank; d++)
        xc[d] = oc[axis + ni + d - axis - 1];
      out[i] = x[ravel (xs, xc)];
    }
  return os;
}

static void
t_gather (void)
{
  static const double i2[] = { 2, 0 }, i22[] = { 3, 0, 1, 1 }, ib[] = { 2, 0, 1, 1 };
  static const double ineg[] = { -1, 0, -3 }, ineg2[] = { -1, 1 };
  static const AneDType dts[] = { F32, F16, I32 };

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double want[64];
      Shape os;
      Case *c = case_new ("ios18", "gather %s", mil_dtype (dt));

      case_in (c, "x", dt, SH (3, 4), seq24);
      case_in (c, "x3", dt, SH (2, 3, 4), seq24);
      os = gather_ref (seq24, SH (3, 4), i2, SH (2), 0, 0, want);
      case_let (c, "a", dt, os, "gather(x = x, indices = %s)", case_lit (c, I32, SH (2), i2));   /* axis 0 */
      case_want (c, "a", dt, os, want, EXACT);
      os = gather_ref (seq24, SH (3, 4), i22, SH (2, 2), 1, 0, want);
      case_let (c, "b", dt, os, "gather(x = x, indices = %s, axis = int32(1))", case_lit (c, I32, SH (2, 2), i22));
      case_want (c, "b", dt, os, want, EXACT);
      os = gather_ref (seq24, SH (2, 3, 4), ib, SH (2, 2), 1, 1, want);
      case_let (c, "n", dt, os, "gather(x = x3, indices = %s, axis = int32(1), batch_dims = int32(1))",
                case_lit (c, I32, SH (2, 2), ib));
      case_want (c, "n", dt, os, want, EXACT);
      case_run (c);

      /* iOS16: negative indices wrap */
      c = case_new ("ios16", "gather negative indices %s", mil_dtype (dt));
      case_in (c, "x", dt, SH (3, 4), seq24);
      os = gather_ref (seq24, SH (3, 4), ineg, SH (3), 0, 0, want);
      case_let (c, "a", dt, os, "gather(x = x, indices = %s, axis = int32(0))", case_lit (c, I32, SH (3), ineg));
      case_want (c, "a", dt, os, want, EXACT);
      os = gather_ref (seq24, SH (3, 4), ineg2, SH (2), 1, 0, want);
      case_let (c, "b", dt, os, "gather(x = x, indices = %s, axis = int32(-1))", case_lit (c, I32, SH (2), ineg2));
      case_want (c, "b", dt, os, want, EXACT);
      case_run (c);
    }
}

/* gather_along_axis: out[c] = x[c with c[axis] = indices[c]] (np.take_along_axis) */
static void
t_gather_along_axis (void)
{
  static const double i1[] = { 2, 0, 1, 2, 1, 1, 0, 0, 0, 2, 2, 1, 1, 0, 2, 0 };   /* [2, 2, 4] */
  static const double i2[] = { 3, 0, 2, 1, 1, 3 };                                  /* [2, 3, 1] */
  static const AneDType dts[] = { F32, F16, I32 };
  Shape xs = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double w1[16], w2[6];
      gint64 cc[3];
      Case *c = case_new ("ios18", "gather_along_axis %s", mil_dtype (dt));

      case_in (c, "x", dt, xs, seq24);
      case_let (c, "a", dt, SH (2, 2, 4), "gather_along_axis(x = x, indices = %s, axis = int32(1))",
                case_lit (c, I32, SH (2, 2, 4), i1));
      case_let (c, "b", dt, SH (2, 3, 1), "gather_along_axis(x = x, indices = %s, axis = int32(-1))",
                case_lit (c, I32, SH (2, 3, 1), i2));
      for (gsize i = 0; i < 16; i++)
        {
          unravel (i, SH (2, 2, 4), cc);
          cc[1] = (gint64) i1[i];
          w1[i] = seq24[ravel (xs, cc)];
        }
      for (gsize i = 0; i < 6; i++)
        {
          unravel (i, SH (2, 3, 1), cc);
          cc[2] = (gint64) i2[i];
          w2[i] = seq24[ravel (xs, cc)];
        }
      case_want (c, "a", dt, SH (2, 2, 4), w1, EXACT);
      case_want (c, "b", dt, SH (2, 3, 1), w2, EXACT);
      case_run (c);
    }
}

/* gather_nd: indices [..., K] address x's first batch_dims + K dims (the
 * first batch_dims taken from the indices' own position); out.shape =
 * indices.shape[:-1] + x.shape[batch_dims + K:] */
static Shape
gather_nd_ref (const double *x,
               Shape         xs,
               const double *ind,
               Shape         is,
               guint         batch,
               double       *out)
{
  guint K = (guint) is.d[is.rank - 1], lead = is.rank - 1;
  Shape os = { 0 };
  gint64 oc[ANE_CPU_MAX_RANK], xc[ANE_CPU_MAX_RANK], ic[ANE_CPU_MAX_RANK];

  for (guint d = 0; d < lead; d++)
    os.d[os.rank++] = is.d[d];
  for (guint d = batch + K; d < xs.rank; d++)
    os.d[os.rank++] = xs.d[d];
  for (gsize i = 0; i < shape_n (os); i++)
    {
      unravel (i, os, oc);
      for (guint d = 0; d < lead; d++)
        ic[d] = oc[d];
      for (guint d = 0; d < batch; d++)
        xc[d] = oc[d];
      for (guint k = 0; k < K; k++)
        {
          ic[lead] = k;
          xc[batch + k] = (gint64) ind[ravel (is, ic)];
        }
      for (guint d = batch + K; d < xs.rank; d++)
        xc[d] = oc[lead + d - batch - K];
      out[i] = x[ravel (xs, xc)];
    }
  return os;
}

static void
t_gather_nd (void)
{
  static const double i32[] = { 1, 2, 0, 0, 1, 0 }, i23[] = { 1, 2, 3, 0, 1, 2 }, ib[] = { 2, 0, 1, 1 };
  static const AneDType dts[] = { F32, F16, I32 };
  Shape xs = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double want[24];
      Shape os;
      Case *c = case_new ("ios18", "gather_nd %s", mil_dtype (dt));

      case_in (c, "x", dt, xs, seq24);
      os = gather_nd_ref (seq24, xs, i32, SH (3, 2), 0, want);
      case_let (c, "a", dt, os, "gather_nd(x = x, indices = %s)", case_lit (c, I32, SH (3, 2), i32));
      case_want (c, "a", dt, os, want, EXACT);
      os = gather_nd_ref (seq24, xs, i23, SH (2, 3), 0, want);
      case_let (c, "b", dt, os, "gather_nd(x = x, indices = %s)", case_lit (c, I32, SH (2, 3), i23));
      case_want (c, "b", dt, os, want, EXACT);
      os = gather_nd_ref (seq24, xs, ib, SH (2, 2, 1), 1, want);
      case_let (c, "n", dt, os, "gather_nd(x = x, indices = %s, batch_dims = int32(1))",
                case_lit (c, I32, SH (2, 2, 1), ib));
      case_want (c, "n", dt, os, want, EXACT);
      case_run (c);
    }
}

static const char *const scatter_modes[] = { "update", "add", "sub", "mul", "div", "max", "min" };

/* One update under a scatter mode (scatter_gather.py docstrings) */
static double
scatter_apply (const char *mode,
               double      a,
               double      u)
{
  if (g_str_equal (mode, "update"))
    return u;
  if (g_str_equal (mode, "add"))
    return a + u;
  if (g_str_equal (mode, "sub"))
    return a - u;
  if (g_str_equal (mode, "mul"))
    return a * u;
  if (g_str_equal (mode, "div"))
    return a / u;
  if (g_str_equal (mode, "max"))
    return MAX (a, u);
  return MIN (a, u);
}

/* scatter: data [4, 3]; updates[.., i, ..] goes to data[.., indices[i], ..]
 * along axis, in index order; every mode, the default mode (add), repeated
 * indices (add accumulates). */
static void
t_scatter (void)
{
  static const double data[] = { 1, -2, 3, 0.5, 4, -1, 2, 2, -3, 6, 0.25, 1 };
  static const double upd[] = { 2, 0.5, -4, 1.5, -1, 8 }, updc[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  static const double idx[] = { 3, 1 }, rep[] = { 1, 1 }, idxc[] = { 2, 0 };
  static const AneDType dts[] = { F32, F16 };
  Shape ds = SH (4, 3);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double tol = dt == F16 ? TOL16 : TOL32;
      Case *c = case_new ("ios18", "scatter %s", mil_dtype (dt));

      case_in (c, "data", dt, ds, data);
      case_in (c, "u", dt, SH (2, 3), upd);
      for (guint m = 0; m <= N_OF (scatter_modes); m++)
        {
          const char *mode = m < N_OF (scatter_modes) ? scatter_modes[m] : NULL;
          const char *name = case_keep (c, g_strdup_printf ("s%u", m));
          double want[12];

          memcpy (want, data, sizeof want);
          for (guint i = 0; i < 2; i++)
            for (guint k = 0; k < 3; k++)
              want[(gsize) idx[i] * 3 + k] = scatter_apply (mode ? mode : "add", want[(gsize) idx[i] * 3 + k], upd[i * 3 + k]);
          if (mode)
            case_let (c, name, dt, ds, "scatter(data = data, indices = %s, updates = u, axis = int32(0), mode = string(\"%s\"))",
                      case_lit (c, I32, SH (2), idx), mode);
          else
            case_let (c, name, dt, ds, "scatter(data = data, indices = %s, updates = u)", case_lit (c, I32, SH (2), idx));
          case_want (c, name, dt, ds, want, tol);
        }
      {
        double wr[12], wc[12];

        memcpy (wr, data, sizeof wr);
        memcpy (wc, data, sizeof wc);
        for (guint i = 0; i < 2; i++)
          for (guint k = 0; k < 3; k++)
            wr[(gsize) rep[i] * 3 + k] += upd[i * 3 + k];
        for (guint r = 0; r < 4; r++)
          for (guint i = 0; i < 2; i++)
            wc[r * 3 + (gsize) idxc[i]] = updc[r * 2 + i];
        case_let (c, "rep", dt, ds, "scatter(data = data, indices = %s, updates = u, mode = string(\"add\"))",
                  case_lit (c, I32, SH (2), rep));
        case_let (c, "ax1", dt, ds, "scatter(data = data, indices = %s, updates = %s, axis = int32(-1), "
                  "mode = string(\"update\"))", case_lit (c, I32, SH (2), idxc), case_lit (c, dt, SH (4, 2), updc));
        case_want (c, "rep", dt, ds, wr, tol);
        case_want (c, "ax1", dt, ds, wc, EXACT);
      }
      case_run (c);
    }
}

/* scatter_along_axis: data[c with c[axis] = indices[c]] op= updates[c] for
 * every c of indices (np.put_along_axis, ufunc.at for the modes) */
static void
t_scatter_along_axis (void)
{
  static const double data[] = { 1, -2, 3, 0.5, 4, -1 };
  static const double idx[] = { 2, 0, 1, 0 }, rep[] = { 1, 1, 2, 2 }, upd[] = { 2, -0.5, 4, 1.5 };
  static const AneDType dts[] = { F32, F16 };
  Shape ds = SH (2, 3), is = SH (2, 2);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double tol = dt == F16 ? TOL16 : TOL32;
      Case *c = case_new ("ios18", "scatter_along_axis %s", mil_dtype (dt));

      case_in (c, "data", dt, ds, data);
      case_in (c, "u", dt, is, upd);
      for (guint m = 0; m <= N_OF (scatter_modes); m++)
        {
          const char *mode = m < N_OF (scatter_modes) ? scatter_modes[m] : NULL;
          const double *ix = mode && g_str_equal (mode, "update") ? idx : rep;
          const char *name = case_keep (c, g_strdup_printf ("s%u", m));
          double want[6];

          memcpy (want, data, sizeof want);
          for (guint r = 0; r < 2; r++)
            for (guint j = 0; j < 2; j++)
              {
                gsize at = r * 3 + (gsize) ix[r * 2 + j];

                want[at] = scatter_apply (mode ? mode : "add", want[at], upd[r * 2 + j]);
              }
          if (mode)
            case_let (c, name, dt, ds, "scatter_along_axis(data = data, indices = %s, updates = u, axis = int32(1), "
                      "mode = string(\"%s\"))", case_lit (c, I32, is, ix), mode);
          else
            case_let (c, name, dt, ds, "scatter_along_axis(data = data, indices = %s, updates = u, axis = int32(-1))",
                      case_lit (c, I32, is, ix));
          case_want (c, name, dt, ds, want, tol);
        }
      case_run (c);
    }
}

/* scatter_nd: indices [..., K] address data's first K dims; updates have
 * the shape indices.shape[:-1] + data.shape[K:] */
static void
t_scatter_nd (void)
{
  static const double data[] = { 1, -2, 3, 0.5, 4, -1, 2, 2, -3, 6, 0.25, 1 };
  static const double rows[] = { 2, 0 }, cells[] = { 0, 1, 2, 3, 0, 1 };
  static const double ur[] = { 2, 0.5, -4, 1.5, -1, 8, 0.25, 3 }, uc[] = { 5, -6, 7 };
  static const AneDType dts[] = { F32, F16 };
  Shape ds = SH (3, 4);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double tol = dt == F16 ? TOL16 : TOL32;
      Case *c = case_new ("ios18", "scatter_nd %s", mil_dtype (dt));

      case_in (c, "data", dt, ds, data);
      for (guint m = 0; m <= N_OF (scatter_modes); m++)
        {
          const char *mode = m < N_OF (scatter_modes) ? scatter_modes[m] : NULL;
          const char *name = case_keep (c, g_strdup_printf ("r%u", m));
          const char *cname = case_keep (c, g_strdup_printf ("c%u", m));
          double want[12], wc[12];

          memcpy (want, data, sizeof want);
          memcpy (wc, data, sizeof wc);
          for (guint i = 0; i < 2; i++)
            for (guint k = 0; k < 4; k++)
              want[(gsize) rows[i] * 4 + k] = scatter_apply (mode ? mode : "add", want[(gsize) rows[i] * 4 + k], ur[i * 4 + k]);
          /* the cells (0, 1), (2, 3) and again (0, 1) */
          for (guint i = 0; i < 3; i++)
            {
              gsize at = (gsize) cells[i * 2] * 4 + (gsize) cells[i * 2 + 1];

              if (mode && g_str_equal (mode, "update") && i == 2)
                continue;   /* a repeated cell under update has no defined order */
              wc[at] = scatter_apply (mode ? mode : "add", wc[at], uc[i]);
            }
          if (mode)
            {
              gboolean upd = g_str_equal (mode, "update");

              case_let (c, name, dt, ds, "scatter_nd(data = data, indices = %s, updates = %s, mode = string(\"%s\"))",
                        case_lit (c, I32, SH (2, 1), rows), case_lit (c, dt, SH (2, 4), ur), mode);
              case_let (c, cname, dt, ds, "scatter_nd(data = data, indices = %s, updates = %s, mode = string(\"%s\"))",
                        case_lit (c, I32, SH (upd ? 2 : 3, 2), cells), case_lit (c, dt, SH (upd ? 2 : 3), uc), mode);
            }
          else
            {
              case_let (c, name, dt, ds, "scatter_nd(data = data, indices = %s, updates = %s)",
                        case_lit (c, I32, SH (2, 1), rows), case_lit (c, dt, SH (2, 4), ur));
              case_let (c, cname, dt, ds, "scatter_nd(data = data, indices = %s, updates = %s)",
                        case_lit (c, I32, SH (3, 2), cells), case_lit (c, dt, SH (3), uc));
            }
          case_want (c, name, dt, ds, want, tol);
          case_want (c, cname, dt, ds, wc, tol);
        }
      case_run (c);
    }
}

/* --- reductions, scans and sorts (iOS15 reduction.py, tensor_operation.py) ------- */

typedef enum {
  R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_LOG_SUM, R_LOG_SUM_EXP, R_SUM_SQUARE,
} Reduce;

/* Reduces x over the axes marked in reduced (numpy: np.sum, np.mean,
 * np.max, ..., log(sum(exp(x)))); the kept dims stay in C order, which is
 * also keep_dims' order. */
static Shape
reduce_ref (Reduce          kind,
            const double   *x,
            Shape           xs,
            const gboolean *reduced,
            gboolean        keep,
            double         *out)
{
  Shape kept = { 0 }, os = { 0 };
  gint64 c[ANE_CPU_MAX_RANK], kc[ANE_CPU_MAX_RANK];

  for (guint d = 0; d < xs.rank; d++)
    {
      if (!reduced[d])
        kept.d[kept.rank++] = xs.d[d];
      if (!reduced[d] || keep)
        os.d[os.rank++] = reduced[d] ? 1 : xs.d[d];
    }
  for (gsize g = 0; g < shape_n (kept); g++)
    {
      double acc = kind == R_PROD ? 1 : kind == R_MAX ? -INFINITY : kind == R_MIN ? INFINITY : 0, count = 0;

      for (gsize i = 0; i < shape_n (xs); i++)
        {
          guint k = 0;
          double v = x[i];

          unravel (i, xs, c);
          for (guint d = 0; d < xs.rank; d++)
            if (!reduced[d])
              kc[k++] = c[d];
          if (ravel (kept, kc) != g)
            continue;
          count++;
          switch (kind)
            {
            case R_SUM: case R_MEAN: case R_LOG_SUM: acc += v; break;
            case R_MAX: acc = isnan (v) || isnan (acc) ? NAN : MAX (acc, v); break;
            case R_MIN: acc = isnan (v) || isnan (acc) ? NAN : MIN (acc, v); break;
            case R_PROD: acc *= v; break;
            case R_L1: acc += fabs (v); break;
            case R_L2: case R_SUM_SQUARE: acc += v * v; break;
            case R_LOG_SUM_EXP: acc += exp (v); break;
            default: g_assert_not_reached ();
            }
        }
      switch (kind)
        {
        case R_MEAN: acc /= count; break;
        case R_L2: acc = sqrt (acc); break;
        case R_LOG_SUM: case R_LOG_SUM_EXP: acc = log (acc); break;
        default: break;
        }
      out[g] = acc;
    }
  return os;
}

/* Every reduction: axes absent (all, a rank-0 result), one axis, two axes
 * (one negative) with keep_dims, in fp32 and fp16 (and int32 where the op
 * is exact on integers). log_sum takes positive values. */
static void
check_reduce (const char *op,
              Reduce      kind,
              gboolean    with_int)
{
  static const gboolean all[3] = { TRUE, TRUE, TRUE }, a1[3] = { FALSE, TRUE, FALSE }, a02[3] = { TRUE, FALSE, TRUE };
  static const AneDType dts[] = { F32, F16, I32 };
  static const double small[] = { 0.5, -1, 1.5, 1, -0.5, 2, 0.75, -1.25, 1, 1.5, -2, 0.5,
                                  -0.25, 1, 2, -1.5, 0.5, 1, -1, 0.25, 1.25, -0.75, 1, 2 };
  Shape xs = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double tol = dt == F16 ? TOL16 : TOL32, x[24], wa[1], w1[8], w02[3];
      Shape os;
      Case *c;

      if (dt == I32 && !with_int)
        continue;
      for (guint i = 0; i < 24; i++)
        x[i] = dt == I32 ? seq24[i] - 11 : kind == R_LOG_SUM ? fabs (x234[i]) + 0.5
               : kind == R_PROD || kind == R_LOG_SUM_EXP ? small[i] : x234[i];
      if ((kind == R_MAX || kind == R_MIN) && dt != I32)
        x[9] = NAN;   /* np.max / np.min propagate NaN */
      c = case_new ("ios18", "%s %s", op, mil_dtype (dt));
      case_in (c, "x", dt, xs, x);
      os = reduce_ref (kind, x, xs, all, FALSE, wa);
      case_let (c, "a", dt, os, "%s(x = x)", op);
      case_want (c, "a", dt, os, wa, tol);
      os = reduce_ref (kind, x, xs, a1, FALSE, w1);
      case_let (c, "b", dt, os, "%s(x = x, axes = tensor<int32, [1]>([1]))", op);
      case_want (c, "b", dt, os, w1, tol);
      os = reduce_ref (kind, x, xs, a02, TRUE, w02);
      case_let (c, "k", dt, os, "%s(x = x, axes = tensor<int32, [2]>([-1, 0]), keep_dims = bool(true))", op);
      case_want (c, "k", dt, os, w02, tol);
      case_run (c);
    }
}

static void t_reduce_sum (void) { check_reduce ("reduce_sum", R_SUM, TRUE); }
static void t_reduce_mean (void) { check_reduce ("reduce_mean", R_MEAN, FALSE); }
static void t_reduce_max (void) { check_reduce ("reduce_max", R_MAX, TRUE); }
static void t_reduce_min (void) { check_reduce ("reduce_min", R_MIN, TRUE); }
static void t_reduce_prod (void) { check_reduce ("reduce_prod", R_PROD, FALSE); }
static void t_reduce_l1_norm (void) { check_reduce ("reduce_l1_norm", R_L1, FALSE); }
static void t_reduce_l2_norm (void) { check_reduce ("reduce_l2_norm", R_L2, FALSE); }
static void t_reduce_log_sum (void) { check_reduce ("reduce_log_sum", R_LOG_SUM, FALSE); }
static void t_reduce_log_sum_exp (void) { check_reduce ("reduce_log_sum_exp", R_LOG_SUM_EXP, FALSE); }
static void t_reduce_sum_square (void) { check_reduce ("reduce_sum_square", R_SUM_SQUARE, FALSE); }

/* reduce_argmax / reduce_argmin (np.argmax, np.argmin): axis -1 by default,
 * the first extreme on ties, a NaN counts as the extreme (numpy) */
static void
check_arg (gboolean is_max)
{
  static const double x[] = { 1, 3, 3, -2, 0.5, -2, -2, 4, 2, NAN, 5, NAN, 7, 7, 7, 7, -1, 0, 6, 6, 2, 1, -3, -3 };
  static const AneDType dts[] = { F32, F16, I32 };
  const char *op = is_max ? "reduce_argmax" : "reduce_argmin";
  Shape xs = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double v[24], wl[6], w0[12];
      Case *c = case_new ("ios18", "%s %s", op, mil_dtype (dt));

      for (guint i = 0; i < 24; i++)
        v[i] = dt == I32 && isnan (x[i]) ? 9 : x[i];
      case_in (c, "x", dt, xs, v);
      case_let (c, "l", I32, SH (2, 3), "%s(x = x)", op);
      case_let (c, "z", I32, SH (1, 3, 4), "%s(x = x, axis = int32(0), keep_dims = bool(true))", op);
      for (guint lane = 0; lane < 6; lane++)
        {
          guint best = 0;

          for (guint j = 1; j < 4 && !isnan (v[lane * 4 + best]); j++)
            {
              double a = v[lane * 4 + j], b = v[lane * 4 + best];

              if (isnan (a) || (is_max ? a > b : a < b))
                best = j;
            }
          wl[lane] = best;
        }
      for (guint i = 0; i < 12; i++)
        {
          double a = v[i], b = v[12 + i];

          w0[i] = !isnan (a) && (isnan (b) || (is_max ? b > a : b < a)) ? 1 : 0;
        }
      case_want (c, "l", I32, SH (2, 3), wl, EXACT);
      case_want (c, "z", I32, SH (1, 3, 4), w0, EXACT);
      case_run (c);
    }
}

static void t_reduce_argmax (void) { check_arg (TRUE); }
static void t_reduce_argmin (void) { check_arg (FALSE); }

/* cumsum (tf.math.cumsum): axis 0 by default; exclusive starts from 0;
 * reverse sums from the end */
static void
t_cumsum (void)
{
  static const AneDType dts[] = { F32, F16, I32 };
  static const struct { gint64 axis; gboolean axis_given, exclusive, reverse; } cases[] = {
    { 0, FALSE, FALSE, FALSE }, { -1, TRUE, TRUE, FALSE }, { 1, TRUE, FALSE, TRUE }, { 2, TRUE, TRUE, TRUE },
  };
  Shape xs = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      const double *x = dt == I32 ? seq24 : x234;
      Case *c = case_new ("ios18", "cumsum %s", mil_dtype (dt));

      case_in (c, "x", dt, xs, x);
      for (guint k = 0; k < N_OF (cases); k++)
        {
          guint axis = cases[k].axis < 0 ? 3 + cases[k].axis : cases[k].axis;
          const char *name = case_keep (c, g_strdup_printf ("c%u", k));
          double want[24];
          gint64 cc[3], jc[3];

          for (gsize i = 0; i < 24; i++)
            {
              double sum = 0;

              unravel (i, xs, cc);
              memcpy (jc, cc, sizeof jc);
              for (gint64 j = 0; j < xs.d[axis]; j++)
                {
                  gboolean in = cases[k].reverse ? j > cc[axis] || (!cases[k].exclusive && j == cc[axis])
                                                 : j < cc[axis] || (!cases[k].exclusive && j == cc[axis]);

                  jc[axis] = j;
                  if (in)
                    sum += x[ravel (xs, jc)];
                }
              want[i] = sum;
            }
          if (cases[k].axis_given)
            case_let (c, name, dt, xs, "cumsum(x = x, axis = int32(%" G_GINT64_FORMAT "), exclusive = bool(%s), "
                      "reverse = bool(%s))", cases[k].axis, cases[k].exclusive ? "true" : "false",
                      cases[k].reverse ? "true" : "false");
          else
            case_let (c, name, dt, xs, "cumsum(x = x)");
          case_want (c, name, dt, xs, want, dt == F16 ? TOL16 : TOL32);
        }
      case_run (c);
    }
}

/* The ranks of the lane of x starting at base with stride: order[r] is the
 * index of the r-th largest (smallest if ascending); the values differ. */
static void
rank_lane (const double *x,
           gsize         base,
           gsize         stride,
           guint         n,
           gboolean      ascending,
           guint        *order)
{
  for (guint i = 0; i < n; i++)
    {
      guint r = 0;

      for (guint j = 0; j < n; j++)
        {
          double a = x[base + j * stride], b = x[base + i * stride];

          r += ascending ? a < b : a > b;
        }
      order[r] = i;
    }
}

/* topk (iOS15/iOS16/iOS17 tensor_operation.py): the k largest along axis
 * (-1 by default; ascending: smallest), sorted, with their indices; k 1 by
 * default, -1 for all (iOS17); return_indices = false (iOS16) returns the
 * values only. Distinct values: MIL does not define the order of ties. */
static void
t_topk (void)
{
  static const double x[] = { 3, -1, 4.5, 0.25, 2, -6, 1.5, 7, -2.5, 5, 0, 8, 6.5, -3, 1, 2.5, -0.5, 3.5, 0.75, 4 };
  static const AneDType dts[] = { F32, F16, I32 };
  Shape xs = SH (4, 5);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      const char *t = mil_dtype (dt);
      double v[20], v1[4], i1[4], v3[15], i3[15], va[20], ia[20];
      guint order[5];
      Case *c = case_new ("ios18", "topk %s", t);

      for (guint i = 0; i < 20; i++)
        v[i] = dt == I32 ? x[i] * 4 : x[i];
      case_in (c, "x", dt, xs, v);
      case_line (c, "(tensor<%s, [4, 1]> v1, tensor<int32, [4, 1]> i1) = topk(x = x)[name = string(\"k1\")]", t);
      case_line (c, "(tensor<%s, [3, 5]> v3, tensor<int32, [3, 5]> i3) = topk(x = x, k = int32(3), axis = int32(0), "
                 "ascending = bool(true))[name = string(\"k3\")]", t);
      case_line (c, "(tensor<%s, [4, 5]> va, tensor<int32, [4, 5]> ia) = topk(x = x, k = int32(-1))"
                 "[name = string(\"ka\")]", t);
      case_let (c, "vo", dt, SH (4, 1), "topk(x = x, return_indices = bool(false))");
      for (guint r = 0; r < 4; r++)
        {
          rank_lane (v, r * 5, 1, 5, FALSE, order);
          v1[r] = v[r * 5 + order[0]];
          i1[r] = order[0];
          for (guint j = 0; j < 5; j++)
            {
              va[r * 5 + j] = v[r * 5 + order[j]];
              ia[r * 5 + j] = order[j];
            }
        }
      for (guint col = 0; col < 5; col++)
        {
          rank_lane (v, col, 5, 4, TRUE, order);
          for (guint j = 0; j < 3; j++)
            {
              v3[j * 5 + col] = v[order[j] * 5 + col];
              i3[j * 5 + col] = order[j];
            }
        }
      case_want (c, "v1", dt, SH (4, 1), v1, EXACT);
      case_want (c, "i1", I32, SH (4, 1), i1, EXACT);
      case_want (c, "v3", dt, SH (3, 5), v3, EXACT);
      case_want (c, "i3", I32, SH (3, 5), i3, EXACT);
      case_want (c, "va", dt, SH (4, 5), va, EXACT);
      case_want (c, "ia", I32, SH (4, 5), ia, EXACT);
      case_want (c, "vo", dt, SH (4, 1), v1, EXACT);
      case_run (c);
    }
}

/* argsort: the indices that sort along axis (-1 by default), descending by
 * default (ascending = false) */
static void
t_argsort (void)
{
  static const double x[] = { 3, -1, 4.5, 0.25, 2, -6, 1.5, 7, -2.5, 5 };
  static const AneDType dts[] = { F32, F16, I32 };
  Shape xs = SH (2, 5);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      double v[10], wd[10], wa[10];
      guint order[5];
      Case *c = case_new ("ios18", "argsort %s", mil_dtype (dt));

      for (guint i = 0; i < 10; i++)
        v[i] = dt == I32 ? x[i] * 4 : x[i];
      case_in (c, "x", dt, xs, v);
      case_let (c, "d", I32, xs, "argsort(x = x)");
      case_let (c, "a", I32, xs, "argsort(x = x, axis = int32(0), ascending = bool(true))");
      for (guint r = 0; r < 2; r++)
        {
          rank_lane (v, r * 5, 1, 5, FALSE, order);
          for (guint j = 0; j < 5; j++)
            wd[r * 5 + j] = order[j];
        }
      for (guint col = 0; col < 5; col++)
        {
          rank_lane (v, col, 5, 2, TRUE, order);
          for (guint j = 0; j < 2; j++)
            wa[j * 5 + col] = order[j];
        }
      case_want (c, "d", I32, xs, wd, EXACT);
      case_want (c, "a", I32, xs, wa, EXACT);
      case_run (c);
    }
}

/* band_part (tf.linalg.band_part) on the last two dims: keep (i, j) when
 * (lower < 0 or i - j <= lower) and (upper < 0 or j - i <= upper); lower and
 * upper default to -1 (keep all) */
static void
t_band_part (void)
{
  static const gint64 bands[][2] = { { -1, -1 }, { 1, 2 }, { 0, 0 }, { -1, 0 }, { 2, -1 } };
  static const AneDType dts[] = { F32, F16, I32 };
  Shape xs = SH (2, 3, 4);

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      Case *c = case_new ("ios18", "band_part %s", mil_dtype (dt));

      case_in (c, "x", dt, xs, seq24);
      for (guint b = 0; b < N_OF (bands); b++)
        {
          gint64 lo = bands[b][0], hi = bands[b][1], cc[3];
          double want[24];
          const char *name = case_keep (c, g_strdup_printf ("b%u", b));

          for (gsize i = 0; i < 24; i++)
            {
              unravel (i, xs, cc);
              want[i] = (lo < 0 || cc[1] - cc[2] <= lo) && (hi < 0 || cc[2] - cc[1] <= hi) ? seq24[i] : 0;
            }
          if (b == 0)
            case_let (c, name, dt, xs, "band_part(x = x)");
          else
            case_let (c, name, dt, xs, "band_part(x = x, lower = int32(%" G_GINT64_FORMAT "), upper = int32(%"
                      G_GINT64_FORMAT "))", lo, hi);
          case_want (c, name, dt, xs, want, EXACT);
        }
      case_run (c);
    }
}

/* range_1d(end, start, step): start + i step for i < ceil((end - start) / step) */
static void
t_range_1d (void)
{
  static const struct { AneDType dt; double start, end, step; } ranges[] = {
    { F32, 1, 10, 3 }, { F32, 5, -1, -2 }, { F32, 0.5, 2, 0.5 }, { F32, -1, 1.25, 0.75 },
    { I32, 1, 10, 3 }, { I32, 5, -2, -2 }, { I32, 0, 4, 1 }, { F16, 0.25, 3, 0.5 },
  };
  Case *c = case_new ("ios18", "range_1d");

  for (guint r = 0; r < N_OF (ranges); r++)
    {
      AneDType dt = ranges[r].dt;
      double start = ranges[r].start, end = ranges[r].end, step = ranges[r].step, want[16];
      gint64 n = (gint64) ceil ((end - start) / step);
      const char *name = case_keep (c, g_strdup_printf ("r%u", r));

      for (gint64 i = 0; i < n; i++)
        want[i] = start + (double) i * step;
      case_let (c, name, dt, SH (n), "range_1d(end = %s, start = %s, step = %s)", case_lit (c, dt, SCALAR, &end),
                case_lit (c, dt, SCALAR, &start), case_lit (c, dt, SCALAR, &step));
      case_want (c, name, dt, SH (n), want, EXACT);
    }
  case_run (c);
}

/* fill(shape, value = 0.0); fill_like(ref_tensor, value = 0.0) (iOS16):
 * the value everywhere, in the value's dtype */
static void
t_fill (void)
{
  double v15[6], zero[6], i7[4];
  Case *c = case_new ("ios18", "fill");

  for (guint i = 0; i < 6; i++)
    {
      v15[i] = -1.5;
      zero[i] = 0;
    }
  for (guint i = 0; i < 4; i++)
    i7[i] = 7;
  case_let (c, "a", F32, SH (2, 3), "fill(shape = tensor<int32, [2]>([2, 3]), value = fp32(-1.5))");
  case_let (c, "z", F32, SH (3, 1, 2), "fill(shape = tensor<int32, [3]>([3, 1, 2]))");
  case_let (c, "i", I32, SH (4), "fill(shape = tensor<int32, [1]>([4]), value = int32(7))");
  case_let (c, "h", F16, SH (2, 3), "fill(shape = tensor<int32, [2]>([2, 3]), value = fp16(-1.5))");
  case_want (c, "a", F32, SH (2, 3), v15, EXACT);
  case_want (c, "z", F32, SH (3, 1, 2), zero, EXACT);
  case_want (c, "i", I32, SH (4), i7, EXACT);
  case_want (c, "h", F16, SH (2, 3), v15, EXACT);
  case_run (c);
}

static void
t_fill_like (void)
{
  double v25[6], zero[6], i3[6], h[6];
  Case *c = case_new ("ios18", "fill_like");

  for (guint i = 0; i < 6; i++)
    {
      v25[i] = 2.5;
      zero[i] = 0;
      i3[i] = -3;
      h[i] = 0.375;
    }
  case_in (c, "r", I32, SH (2, 3), seq24);
  case_in (c, "h", F16, SH (3, 2), seq24);
  case_let (c, "a", F32, SH (2, 3), "fill_like(ref_tensor = r, value = fp32(2.5))");
  case_let (c, "z", F32, SH (3, 2), "fill_like(ref_tensor = h)");
  case_let (c, "i", I32, SH (3, 2), "fill_like(ref_tensor = h, value = int32(-3))");
  case_let (c, "f", F16, SH (2, 3), "fill_like(ref_tensor = r, value = fp16(0.375))");
  case_want (c, "a", F32, SH (2, 3), v25, EXACT);
  case_want (c, "z", F32, SH (3, 2), zero, EXACT);
  case_want (c, "i", I32, SH (3, 2), i3, EXACT);
  case_want (c, "f", F16, SH (2, 3), h, EXACT);
  case_run (c);
}

/* shape: x.shape as int32 [rank] */
static void
t_shape (void)
{
  static const double s3[] = { 2, 3, 4 }, s1[] = { 5 }, s5[] = { 1, 2, 1, 3, 1 }, bits[] = { 1, 0, 1, 1, 0 };
  Case *c = case_new ("ios18", "shape");

  case_in (c, "x", F16, SH (2, 3, 4), seq24);
  case_in (c, "b", B1, SH (5), bits);
  case_in (c, "y", I32, SH (1, 2, 1, 3, 1), seq24);
  case_let (c, "a", I32, SH (3), "shape(x = x)");
  case_let (c, "n", I32, SH (1), "shape(x = b)");
  case_let (c, "f", I32, SH (5), "shape(x = y)");
  case_want (c, "a", I32, SH (3), s3, EXACT);
  case_want (c, "n", I32, SH (1), s1, EXACT);
  case_want (c, "f", I32, SH (5), s5, EXACT);
  case_run (c);
}

/* --- quantization, constexpr and states (iOS16 constexpr_ops.py, iOS17
 *     quantization_ops.py, iOS18 compression.py, states.py) ---------------- */

/* "[v0, v1, ...]" of integers */
static char *
int_list (const double *v,
          gsize         n)
{
  GString *t = g_string_new ("[");

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (t, "%s%.0f", i ? ", " : "", v[i]);
  g_string_append_c (t, ']');
  return g_string_free (t, FALSE);
}

/* quantize: clip(round(input / scale) + zero_point) to int8 or uint8, numpy
 * rounding (half to even); scale and zero_point scalars or vectors along axis,
 * zero_point 0 when absent */
static void
t_quantize (void)
{
  static const double x[] = { 1.25, -0.75, 100, -100, 0.5, 3.375 };
  static const double scale[] = { 0.25, 1, 2 }, zp[] = { 128, 0, 10 };
  static const AneDType dts[] = { F32, F16 };

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      const char *t = mil_dtype (dt);
      double ws[6], wv[6], wn[6];
      Case *c = case_new ("ios18", "quantize %s", t);

      case_in (c, "x", dt, SH (2, 3), x);
      case_let (c, "s", I8, SH (2, 3), "quantize(input = x, scale = %s(0.5), zero_point = int8(3), "
                "output_dtype = string(\"int8\"))", t);
      case_let (c, "v", U8, SH (2, 3), "quantize(input = x, scale = %s, zero_point = %s, axis = int32(1), "
                "output_dtype = string(\"uint8\"))", case_lit (c, dt, SH (3), scale), case_lit (c, U8, SH (3), zp));
      case_let (c, "n", I8, SH (2, 3), "quantize(input = x, scale = %s(0.25), output_dtype = string(\"int8\"))", t);
      for (guint i = 0; i < 6; i++)
        {
          ws[i] = CLAMP (round_even (x[i] / 0.5) + 3, -128, 127);
          wv[i] = CLAMP (round_even (x[i] / scale[i % 3]) + zp[i % 3], 0, 255);
          wn[i] = CLAMP (round_even (x[i] / 0.25), -128, 127);
        }
      case_want (c, "s", I8, SH (2, 3), ws, EXACT);
      case_want (c, "v", U8, SH (2, 3), wv, EXACT);
      case_want (c, "n", I8, SH (2, 3), wn, EXACT);
      case_run (c);
    }
}

/* dequantize: scale * (input - zero_point), per axis with vectors,
 * zero_point 0 when absent */
static void
t_dequantize (void)
{
  static const double q[] = { -128, 0, 127, 5, -5, 10 }, u[] = { 0, 255, 128, 7, 1, 200 };
  static const double scale[] = { 0.5, 1, 0.25 }, zp[] = { 0, -1, 2 };
  static const AneDType dts[] = { F32, F16 };

  for (guint d = 0; d < N_OF (dts); d++)
    {
      AneDType dt = dts[d];
      const char *t = mil_dtype (dt);
      double wv[6], ws[6], wn[6];
      Case *c = case_new ("ios18", "dequantize %s", t);

      case_let (c, "v", dt, SH (2, 3), "dequantize(input = %s, scale = %s, zero_point = %s, axis = int32(-1))",
                case_lit (c, I8, SH (2, 3), q), case_lit (c, dt, SH (3), scale), case_lit (c, I8, SH (3), zp));
      case_let (c, "s", dt, SH (2, 3), "dequantize(input = %s, scale = %s(0.125), zero_point = uint8(128))",
                case_lit (c, U8, SH (2, 3), u), t);
      case_let (c, "n", dt, SH (2, 3), "dequantize(input = %s, scale = %s(2))", case_lit (c, I8, SH (2, 3), q), t);
      for (guint i = 0; i < 6; i++)
        {
          wv[i] = scale[i % 3] * (q[i] - zp[i % 3]);
          ws[i] = 0.125 * (u[i] - 128);
          wn[i] = 2 * q[i];
        }
      case_want (c, "v", dt, SH (2, 3), wv, EXACT);
      case_want (c, "s", dt, SH (2, 3), ws, EXACT);
      case_want (c, "n", dt, SH (2, 3), wn, EXACT);
      case_run (c);
    }
}

/* constexpr_affine_dequantize (iOS16, parameters as attributes, as
 * coremltools writes constexpr ops): scale * (quantized_data - zero_point),
 * scalars or vectors along axis */
static void
t_constexpr_affine_dequantize (void)
{
  static const double q[] = { -128, 0, 127, 5, -5, 10 }, u[] = { 0, 255, 128, 129 };
  static const double scale[] = { 0.5, 1, 0.25 }, zp[] = { 0, -1, 2 };
  double wv[6], ws[4];
  Case *c = case_new ("ios16", "constexpr_affine_dequantize");

  case_line (c, "tensor<fp32, [2, 3]> v = constexpr_affine_dequantize()[axis = int32(1), name = string(\"v\"), "
             "quantized_data = %s, scale = %s, zero_point = %s]", case_lit (c, I8, SH (2, 3), q),
             case_lit (c, F32, SH (3), scale), case_lit (c, I8, SH (3), zp));
  case_line (c, "tensor<fp16, [2, 2]> s = constexpr_affine_dequantize()[axis = int32(0), name = string(\"s\"), "
             "quantized_data = %s, scale = fp16(0x1p-3), zero_point = uint8(128)]", case_lit (c, U8, SH (2, 2), u));
  for (guint i = 0; i < 6; i++)
    wv[i] = scale[i % 3] * (q[i] - zp[i % 3]);
  for (guint i = 0; i < 4; i++)
    ws[i] = 0.125 * (u[i] - 128);
  case_want (c, "v", F32, SH (2, 3), wv, EXACT);
  case_want (c, "s", F16, SH (2, 2), ws, EXACT);
  case_run (c);
}

/* constexpr_cast (iOS16): source_val (fp16) as output_dtype (fp32) */
static void
t_constexpr_cast (void)
{
  static const double h[] = { 0.5, -3, 0x1p-14, 0x1p-24, 65504, -0.0009765625 };
  Case *c = case_new ("ios16", "constexpr_cast");

  case_line (c, "tensor<fp32, [6]> w = constexpr_cast()[name = string(\"w\"), output_dtype = string(\"fp32\"), "
             "source_val = %s]", case_lit (c, F16, SH (6), h));
  case_want (c, "w", F32, SH (6), h, EXACT);
  case_run (c);
}

/* constexpr_blockwise_shift_scale (iOS18): scale[b] * (data - offset[b]) with
 * block b = coordinate / (data.shape / scale.shape) per dim; offset optional */
static void
t_constexpr_blockwise_shift_scale (void)
{
  static const double data4[] = { -8, 7, -1, 0, 3, 5, -2, 6 }, scale4[] = { 0.5, 2, 1.5, 0.25 };
  static const double off4[] = { 1, -2, 0, 7 };
  static const double data8[] = { 0, 255, 128, 7, 1, 2, 3, 4 }, scale8[] = { 1, 0.5, 0.25, 4 };
  static const double datai[] = { -3, 4, 10, -7, 0, 1, 2, -2 }, scalei[] = { 0.5, -2 }, offi[] = { 1, -1 };
  g_autofree char *d4 = int_list (data4, 8), *o4 = int_list (off4, 4);
  double w4[8], w8[8], wi[8];
  Case *c = case_new ("ios18", "constexpr_blockwise_shift_scale");

  case_let (c, "a", F16, SH (2, 4), "constexpr_blockwise_shift_scale(data = tensor<int4, [2, 4]>(%s), scale = %s, "
            "offset = tensor<int4, [2, 2]>(%s))", d4, case_lit (c, F16, SH (2, 2), scale4), o4);
  case_let (c, "b", F32, SH (2, 4), "constexpr_blockwise_shift_scale(data = %s, scale = %s)",
            case_lit (c, U8, SH (2, 4), data8), case_lit (c, F32, SH (1, 4), scale8));
  case_let (c, "i", F32, SH (4, 2), "constexpr_blockwise_shift_scale(data = %s, scale = %s, offset = %s)",
            case_lit (c, I8, SH (4, 2), datai), case_lit (c, F32, SH (2, 1), scalei), case_lit (c, I8, SH (2, 1), offi));
  for (guint i = 0; i < 8; i++)
    {
      guint r = i / 4, col = i % 4, b4 = r * 2 + col / 2;

      w4[i] = scale4[b4] * (data4[i] - off4[b4]);
      w8[i] = scale8[col] * data8[i];
      wi[i] = scalei[i / 4] * (datai[i] - offi[i / 4]);
    }
  case_want (c, "a", F16, SH (2, 4), w4, EXACT);
  case_want (c, "b", F32, SH (2, 4), w8, EXACT);
  case_want (c, "i", F32, SH (4, 2), wi, EXACT);
  case_run (c);
}

/* n bits-wide indices packed LSB first into bytes (iOS16 docstring: 2-bit
 * indices 0, 3, 2, 1, 3 are the bytes 0b01101100, 0b00000011) */
static gsize
pack_bits (const double *idx,
           gsize         n,
           guint         bits,
           double       *bytes)
{
  gsize nb = (n * bits + 7) / 8;

  for (gsize b = 0; b < nb; b++)
    bytes[b] = 0;
  for (gsize i = 0; i < n; i++)
    for (guint k = 0; k < bits; k++)
      if (((guint) idx[i] >> k) & 1u)
        {
          gsize pos = i * bits + k;

          bytes[pos / 8] += (double) (1u << (pos % 8));
        }
  return nb;
}

/* constexpr_lut_to_dense: iOS16 (lut [2^bits], indices packed into uint8,
 * shape) and iOS18 (shaped sub-byte indices; lut [*groups, 2^bits,
 * VECTOR_SIZE], a table per block of indices.shape / groups; with VECTOR_SIZE
 * > 1 each index expands to that many elements along vector_axis) */
static void
t_constexpr_lut_to_dense (void)
{
  {
    static const double idx2[] = { 0, 3, 2, 1, 3 }, lut2[] = { 10, 20, 30, 40 };
    static const double idx4[] = { 15, 0, 7, 8, 3, 12 };
    double bytes[8], lut4[16], w2[5], w4[6];
    gsize nb2, nb4;
    Case *c = case_new ("ios16", "constexpr_lut_to_dense iOS16");

    for (guint i = 0; i < 16; i++)
      lut4[i] = -4 + 0.5 * i;
    nb2 = pack_bits (idx2, 5, 2, bytes);
    g_assert_cmpfloat (bytes[0], ==, 108);   /* the docstring's example */
    case_line (c, "tensor<fp32, [5]> a = constexpr_lut_to_dense()[indices = %s, lut = %s, name = string(\"a\"), "
               "shape = tensor<uint32, [1]>([5])]", case_lit (c, U8, SH (nb2), bytes), case_lit (c, F32, SH (4), lut2));
    nb4 = pack_bits (idx4, 6, 4, bytes);
    case_line (c, "tensor<fp16, [2, 3]> b = constexpr_lut_to_dense()[indices = %s, lut = %s, name = string(\"b\"), "
               "shape = tensor<uint32, [2]>([2, 3])]", case_lit (c, U8, SH (nb4), bytes),
               case_lit (c, F16, SH (16), lut4));
    for (guint i = 0; i < 5; i++)
      w2[i] = lut2[(gsize) idx2[i]];
    for (guint i = 0; i < 6; i++)
      w4[i] = lut4[(gsize) idx4[i]];
    case_want (c, "a", F32, SH (5), w2, EXACT);
    case_want (c, "b", F16, SH (2, 3), w4, EXACT);
    case_run (c);
  }
  {
    static const double idx[] = { 2, 3, 3, 0, 1, 0, 3, 0, 2, 1, 0, 3 };   /* uint2 [6, 2] */
    static const double lut[] = { 1, 5, 9, 13, 2, 10, 18, 26 };           /* [2, 1, 4, 1] */
    static const double vidx[] = { 0, 0, 1, 0, 1, 1, 0, 1 };              /* uint1 [2, 2, 2] */
    static const double vlut[] = { 1, 2, 3, 4, 5, 6 };                    /* [1, 1, 1, 2, 3] */
    g_autofree char *il = int_list (idx, 12), *vl = int_list (vidx, 8);
    double w[12], wv1[24], wv2[24];
    gint64 cc[3];
    Case *c = case_new ("ios18", "constexpr_lut_to_dense iOS18");

    case_let (c, "a", F32, SH (6, 2), "constexpr_lut_to_dense(indices = tensor<uint2, [6, 2]>(%s), lut = %s)", il,
              case_lit (c, F32, SH (2, 1, 4, 1), lut));
    case_let (c, "v1", F32, SH (2, 6, 2), "constexpr_lut_to_dense(indices = tensor<uint1, [2, 2, 2]>(%s), lut = %s, "
              "vector_axis = int32(1))", vl, case_lit (c, F32, SH (1, 1, 1, 2, 3), vlut));
    case_let (c, "v2", F32, SH (2, 2, 6), "constexpr_lut_to_dense(indices = tensor<uint1, [2, 2, 2]>(%s), lut = %s, "
              "vector_axis = int32(-1))", vl, case_lit (c, F32, SH (1, 1, 1, 2, 3), vlut));
    for (guint i = 0; i < 12; i++)
      w[i] = lut[(i / 2) / 3 * 4 + (gsize) idx[i]];   /* table = row / 3 (rows in blocks of 6 / 2) */
    for (gsize i = 0; i < 24; i++)
      {
        /* v1: out[a, 3 b + v, c] = centroid idx[a, b, c], component v */
        unravel (i, SH (2, 6, 2), cc);
        wv1[i] = vlut[(gsize) vidx[(cc[0] * 2 + cc[1] / 3) * 2 + cc[2]] * 3 + (gsize) (cc[1] % 3)];
        unravel (i, SH (2, 2, 6), cc);
        wv2[i] = vlut[(gsize) vidx[(cc[0] * 2 + cc[1]) * 2 + cc[2] / 3] * 3 + (gsize) (cc[2] % 3)];
      }
    case_want (c, "a", F32, SH (6, 2), w, EXACT);
    case_want (c, "v1", F32, SH (2, 6, 2), wv1, EXACT);
    case_want (c, "v2", F32, SH (2, 2, 6), wv2, EXACT);
    case_run (c);
  }
}

/* constexpr_sparse_to_dense: the mask's set positions, in order, take
 * nonzero_data's values, the rest 0; iOS16: mask bits packed LSB first into
 * uint8 with a shape; iOS18: a uint1 mask of the output's shape */
static void
t_constexpr_sparse_to_dense (void)
{
  static const double mask[] = { 0, 1, 0, 0, 1, 1, 0, 0, 1, 0 }, nz[] = { 1, -2, 3.5, 4 };
  double want[10], bytes[2];
  g_autofree char *ml = int_list (mask, 10);

  for (guint i = 0, k = 0; i < 10; i++)
    want[i] = mask[i] ? nz[k++] : 0;
  {
    Case *c = case_new ("ios18", "constexpr_sparse_to_dense iOS18");

    case_let (c, "w", F32, SH (2, 5), "constexpr_sparse_to_dense(nonzero_data = %s, mask = tensor<uint1, [2, 5]>(%s))",
              case_lit (c, F32, SH (4), nz), ml);
    case_let (c, "h", F16, SH (2, 5), "constexpr_sparse_to_dense(nonzero_data = %s, mask = tensor<uint1, [2, 5]>(%s))",
              case_lit (c, F16, SH (4), nz), ml);
    case_want (c, "w", F32, SH (2, 5), want, EXACT);
    case_want (c, "h", F16, SH (2, 5), want, EXACT);
    case_run (c);
  }
  {
    Case *c = case_new ("ios16", "constexpr_sparse_to_dense iOS16");

    pack_bits (mask, 10, 1, bytes);
    case_line (c, "tensor<fp32, [10]> w = constexpr_sparse_to_dense()[mask = %s, name = string(\"w\"), "
               "nonzero_data = %s, shape = tensor<uint32, [1]>([10])]", case_lit (c, U8, SH (2), bytes),
               case_lit (c, F32, SH (4), nz));
    case_want (c, "w", F32, SH (10), want, EXACT);
    case_run (c);
  }
}

/* The iOS18 joint forms (iOS18/compression.py): constexpr_lut_to_sparse
 * and constexpr_sparse_blockwise_shift_scale pass the mask through and make
 * the values at its set positions, in row-major order, from the table or
 * the scale (and offset) of each position's block; constexpr_sparse_to_dense
 * then spreads them (as ane_package_compress emits them). */
static void
t_constexpr_lut_to_sparse (void)
{
  /* mask [4, 3] with 5 set; lut [2, 1, 4, 1]: rows 0-1 take table 0, rows 2-3 table 1 */
  static const double mask[] = { 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1 }, idx[] = { 3, 0, 2, 1, 3 };
  static const double lut[] = { -1, 0, 0.5, 2, 10, 20, 30, 40 };
  double want[12], vals[5];
  g_autofree char *ml = int_list (mask, 12);
  g_autofree char *il = int_list (idx, 5);
  Case *c = case_new ("ios18", "constexpr_lut_to_sparse");

  for (guint i = 0, k = 0; i < 12; i++)
    {
      want[i] = 0;
      if (mask[i])
        {
          vals[k] = lut[(i / 3 / 2) * 4 + (guint) idx[k]];
          want[i] = vals[k];
          k++;
        }
    }
  case_line (c, "(tensor<uint1, [4, 3]> m, tensor<fp32, [5]> v) = constexpr_lut_to_sparse(indices_mask = "
             "tensor<uint1, [4, 3]>(%s), indices_nonzero_data = tensor<uint2, [5]>(%s), lut = %s)"
             "[name = string(\"ls\")]", ml, il, case_lit (c, F32, SH (2, 1, 4, 1), lut));
  case_let (c, "w", F32, SH (4, 3), "constexpr_sparse_to_dense(nonzero_data = v, mask = m)");
  case_want (c, "v", F32, SH (5), vals, EXACT);
  case_want (c, "w", F32, SH (4, 3), want, EXACT);
  case_run (c);
}

static void
t_constexpr_sparse_blockwise_shift_scale (void)
{
  /* mask [2, 4] with 5 set; scale and offset [2, 2]: blocks of 1 row × 2 columns */
  static const double mask[] = { 1, 1, 0, 1, 0, 0, 1, 1 }, q[] = { 3, -2, 5, 7, -8 };
  static const double scale[] = { 0.5, 2, -1, 0.25 }, offset[] = { 1, 0, -1, 2 };
  double want[8], vals[5];
  g_autofree char *ml = int_list (mask, 8);
  g_autofree char *ql = int_list (q, 5);
  g_autofree char *ol = int_list (offset, 4);
  Case *c = case_new ("ios18", "constexpr_sparse_blockwise_shift_scale");

  for (guint i = 0, k = 0; i < 8; i++)
    {
      guint b = (i / 4) * 2 + (i % 4) / 2;

      want[i] = 0;
      if (mask[i])
        {
          vals[k] = scale[b] * (q[k] - offset[b]);
          want[i] = vals[k];
          k++;
        }
    }
  case_line (c, "(tensor<uint1, [2, 4]> m, tensor<fp32, [5]> v) = constexpr_sparse_blockwise_shift_scale("
             "data_mask = tensor<uint1, [2, 4]>(%s), nonzero_data = tensor<int4, [5]>(%s), scale = %s, "
             "offset = tensor<int4, [2, 2]>(%s))[name = string(\"sb\")]", ml, ql,
             case_lit (c, F32, SH (2, 2), scale), ol);
  case_let (c, "w", F32, SH (2, 4), "constexpr_sparse_to_dense(nonzero_data = v, mask = m)");
  case_want (c, "v", F32, SH (5), vals, EXACT);
  case_want (c, "w", F32, SH (2, 4), want, EXACT);
  case_run (c);
}

/* read_state returns the state's value; write_state stores data into it,
 * seen by a later read_state of the same run and kept after the run
 * (iOS18 states.py; states are fp16) */
static void
check_state (gboolean writes)
{
  static const double s0[] = { 1, -2, 0.5, 4, 0, 3 }, x[] = { 0.25, 1, -1, 2, 8, -0.5 };
  double sum[6];
  Case *c = case_new ("ios18", "%s", writes ? "write_state" : "read_state");

  for (guint i = 0; i < 6; i++)
    sum[i] = s0[i] + x[i];
  case_state (c, "s", F16, SH (2, 3), s0);
  case_in (c, "x", F16, SH (2, 3), x);
  case_let (c, "r0", F16, SH (2, 3), "read_state(input = s)");
  if (writes)
    {
      case_let (c, "n", F16, SH (2, 3), "add(x = r0, y = x)");
      case_line (c, "write_state(data = n, input = s)[name = string(\"ws\")]");
      case_let (c, "r1", F16, SH (2, 3), "read_state(input = s)");
    }
  case_want (c, "r0", F16, SH (2, 3), s0, EXACT);
  if (writes)
    case_want (c, "r1", F16, SH (2, 3), sum, EXACT);
  case_want_state (c, "s", F16, SH (2, 3), writes ? sum : s0, EXACT);
  case_run (c);
}

static void t_read_state (void) { check_state (FALSE); }
static void t_write_state (void) { check_state (TRUE); }

/* --- corners ------------------------------------------------------------------ */

/* Size-0 dimensions in broadcasting (numpy): a dim of 0 pairs with 0 or 1
 * and gives 0; it never stretches like a 1, so [0] with [3] is an error
 * whatever the program declares, and [0] with [1] is [0]. */
static void
test_empty_broadcast (void)
{
  static const double three[] = { 1, 2, 3 }, one[] = { 5 }, none[] = { 0 }, bits[] = { 1, 0, 1 };
  static const gint64 outs[] = { 0, 3 };

  for (guint o = 0; o < N_OF (outs); o++)
    {
      Case *c = case_new ("ios18", "add [0] [3] -> [%" G_GINT64_FORMAT "]", outs[o]);

      case_in (c, "a", F32, SH (0), none);
      case_in (c, "b", F32, SH (3), three);
      case_let (c, "y", F32, SH (outs[o]), "add(x = a, y = b)");
      case_want (c, "y", F32, SH (outs[o]), three, EXACT);
      case_fails (c, "'y'", "broadcast");

      c = case_new ("ios18", "select [3] [0] -> [%" G_GINT64_FORMAT "]", outs[o]);
      case_in (c, "c", B1, SH (3), bits);
      case_in (c, "a", F32, SH (0), none);
      case_let (c, "y", F32, SH (outs[o]), "select(cond = c, a = a, b = fp32(1))");
      case_want (c, "y", F32, SH (outs[o]), three, EXACT);
      case_fails (c, "'y'", "broadcast");
    }
  {
    Case *c = case_new ("ios18", "add [0] [1], [2, 0] [2, 1], [1, 3] [0, 3]");

    case_in (c, "a", F32, SH (0), none);
    case_in (c, "b", F32, SH (1), one);
    case_in (c, "p", F32, SH (2, 0), none);
    case_in (c, "q", F32, SH (2, 1), three);
    case_in (c, "r", F32, SH (1, 3), three);
    case_in (c, "s", F32, SH (0, 3), none);
    case_let (c, "y", F32, SH (0), "add(x = a, y = b)");
    case_let (c, "z", F32, SH (0), "mul(x = b, y = a)");
    case_let (c, "pq", F32, SH (2, 0), "sub(x = p, y = q)");
    case_let (c, "rs", F32, SH (0, 3), "maximum(x = r, y = s)");
    case_want (c, "y", F32, SH (0), none, EXACT);
    case_want (c, "z", F32, SH (0), none, EXACT);
    case_want (c, "pq", F32, SH (2, 0), none, EXACT);
    case_want (c, "rs", F32, SH (0, 3), none, EXACT);
    case_run (c);
  }
  {
    /* matmul's batch dims broadcast the same way */
    g_autofree double *y = dyadic (36, 1);
    Case *c = case_new ("ios18", "matmul batch [0] [3]");

    case_in (c, "x", F32, SH (0, 2, 3), none);
    case_in (c, "y", F32, SH (3, 3, 4), y);
    case_let (c, "z", F32, SH (0, 2, 4), "matmul(x = x, y = y)");
    case_want (c, "z", F32, SH (0, 2, 4), none, EXACT);
    case_fails (c, "'z'", "broadcast");

    c = case_new ("ios18", "matmul batch [0] [1]");
    case_in (c, "x", F32, SH (0, 2, 3), none);
    case_in (c, "y", F32, SH (1, 3, 4), y);
    case_let (c, "z", F32, SH (0, 2, 4), "matmul(x = x, y = y)");
    case_want (c, "z", F32, SH (0, 2, 4), none, EXACT);
    case_run (c);
  }
}

/* fp16 programs round every op's result to fp16 (docs/cpu-backend.md), not
 * only the outputs: x + 2^-12 - x is 0 where 2^-12 is below half of x's fp16
 * spacing (and at the tie 0.5, which rounds to even), and 65504 * 2 * 0.5
 * overflows to inf on the way. */
static void
test_fp16_rounding (void)
{
  static const double x[] = { 1, 0.5, 0x1p-4, 65504, -3 };
  double a[5], z[5], m[5];
  Case *c = case_new ("ios18", "fp16 rounding after every op");

  case_in (c, "x", F16, SH (5), x);
  case_let (c, "a", F16, SH (5), "add(x = x, y = fp16(0x1p-12))");
  case_let (c, "z", F16, SH (5), "sub(x = a, y = x)");
  case_let (c, "d", F16, SH (5), "mul(x = x, y = fp16(2))");
  case_let (c, "m", F16, SH (5), "mul(x = d, y = fp16(0.5))");
  for (guint i = 0; i < 5; i++)
    {
      a[i] = round_half (x[i] + 0x1p-12);
      z[i] = round_half (a[i] - x[i]);
      m[i] = round_half (round_half (x[i] * 2) * 0.5);
    }
  g_assert_cmpfloat (z[0], ==, 0);           /* the formula's own premises */
  g_assert_cmpfloat (z[2], ==, 0x1p-12);
  g_assert_true (isinf (m[3]));
  case_want (c, "z", F16, SH (5), z, EXACT);
  case_want (c, "m", F16, SH (5), m, EXACT);
  case_run (c);
}

/* --- the table ------------------------------------------------------------------ */

typedef struct {
  const char *op;
  GTestFunc   test;
} KernelTest;

static const KernelTest kernel_tests[] = {
  /* elementwise */
  { "add", t_add }, { "sub", t_sub }, { "mul", t_mul }, { "real_div", t_real_div },
  { "floor_div", t_floor_div }, { "maximum", t_maximum }, { "minimum", t_minimum },
  { "pow", t_pow }, { "mod", t_mod },
  { "equal", t_equal }, { "not_equal", t_not_equal }, { "less", t_less },
  { "less_equal", t_less_equal }, { "greater", t_greater }, { "greater_equal", t_greater_equal },
  { "logical_and", t_logical_and }, { "logical_or", t_logical_or }, { "logical_xor", t_logical_xor },
  { "logical_not", t_logical_not },
  { "relu", t_relu }, { "sigmoid", t_sigmoid }, { "tanh", t_tanh }, { "silu", t_silu },
  { "gelu", t_gelu }, { "exp", t_exp }, { "exp2", t_exp2 }, { "log", t_log }, { "sqrt", t_sqrt },
  { "rsqrt", t_rsqrt }, { "inverse", t_inverse }, { "abs", t_abs }, { "sin", t_sin },
  { "cos", t_cos }, { "tan", t_tan }, { "atan", t_atan }, { "round", t_round },
  { "floor", t_floor }, { "ceil", t_ceil }, { "sign", t_sign }, { "square", t_square },
  { "erf", t_erf }, { "softplus", t_softplus }, { "clip", t_clip }, { "select", t_select },
  { "cast", t_cast }, { "identity", t_identity },
  /* linalg */
  { "matmul", t_matmul }, { "linear", t_linear }, { "conv", t_conv }, { "conv_transpose", t_conv_transpose },
  { "max_pool", t_max_pool }, { "avg_pool", t_avg_pool },
  { "upsample_nearest_neighbor", t_upsample_nearest_neighbor },
  { "scaled_dot_product_attention", t_scaled_dot_product_attention },
  /* shape */
  { "reshape", t_reshape }, { "transpose", t_transpose }, { "expand_dims", t_expand_dims },
  { "squeeze", t_squeeze }, { "flatten2d", t_flatten2d }, { "reverse", t_reverse },
  { "concat", t_concat }, { "split", t_split }, { "stack", t_stack }, { "tile", t_tile },
  { "pad", t_pad },
  { "slice_by_index", t_slice_by_index }, { "slice_by_size", t_slice_by_size },
  { "slice_update", t_slice_update },
  { "gather", t_gather }, { "gather_along_axis", t_gather_along_axis }, { "gather_nd", t_gather_nd },
  { "scatter", t_scatter }, { "scatter_along_axis", t_scatter_along_axis }, { "scatter_nd", t_scatter_nd },
  { "reduce_sum", t_reduce_sum }, { "reduce_mean", t_reduce_mean }, { "reduce_max", t_reduce_max },
  { "reduce_min", t_reduce_min }, { "reduce_prod", t_reduce_prod },
  { "reduce_l1_norm", t_reduce_l1_norm }, { "reduce_l2_norm", t_reduce_l2_norm },
  { "reduce_log_sum", t_reduce_log_sum }, { "reduce_log_sum_exp", t_reduce_log_sum_exp },
  { "reduce_sum_square", t_reduce_sum_square },
  { "reduce_argmax", t_reduce_argmax }, { "reduce_argmin", t_reduce_argmin },
  { "cumsum", t_cumsum }, { "topk", t_topk }, { "argsort", t_argsort },
  { "band_part", t_band_part }, { "range_1d", t_range_1d }, { "fill", t_fill },
  { "fill_like", t_fill_like }, { "shape", t_shape },
  /* nn */
  { "softmax", t_softmax }, { "layer_norm", t_layer_norm }, { "batch_norm", t_batch_norm },
  { "instance_norm", t_instance_norm }, { "l2_norm", t_l2_norm }, { "leaky_relu", t_leaky_relu },
  { "elu", t_elu }, { "prelu", t_prelu }, { "relu6", t_relu6 }, { "softsign", t_softsign },
  { "thresholded_relu", t_thresholded_relu }, { "clamped_relu", t_clamped_relu },
  { "linear_activation", t_linear_activation }, { "scaled_tanh", t_scaled_tanh },
  { "sigmoid_hard", t_sigmoid_hard }, { "softplus_parametric", t_softplus_parametric },
  /* quant */
  { "quantize", t_quantize }, { "dequantize", t_dequantize },
  { "constexpr_affine_dequantize", t_constexpr_affine_dequantize }, { "constexpr_cast", t_constexpr_cast },
  { "constexpr_blockwise_shift_scale", t_constexpr_blockwise_shift_scale },
  { "constexpr_lut_to_dense", t_constexpr_lut_to_dense },
  { "constexpr_sparse_to_dense", t_constexpr_sparse_to_dense },
  { "constexpr_lut_to_sparse", t_constexpr_lut_to_sparse },
  { "constexpr_sparse_blockwise_shift_scale", t_constexpr_sparse_blockwise_shift_scale },
  { "read_state", t_read_state }, { "write_state", t_write_state },
};

/* Every kernel family of the op table (ane-cpu-kernels.c lists the same). */
static const AneCpuKernel *const kernel_families[] = {
  ane_cpu_kernels_elementwise,
  ane_cpu_kernels_linalg,
  ane_cpu_kernels_shape,
  ane_cpu_kernels_nn,
  ane_cpu_kernels_quant,
};

static const KernelTest *
find_test (const char *op)
{
  for (guint i = 0; i < N_OF (kernel_tests); i++)
    if (g_str_equal (kernel_tests[i].op, op))
      return &kernel_tests[i];
  return NULL;
}

/* Fails, naming them, when a kernel has no row here, when a row names an op
 * without a kernel, or when an op has two rows. */
static void
test_complete (void)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  guint n_kernels = 0;

  for (guint f = 0; f < N_OF (kernel_families); f++)
    for (const AneCpuKernel *k = kernel_families[f]; k->op != NULL; k++)
      {
        n_kernels++;
        if (find_test (k->op) == NULL)
          g_string_append_printf (problems, "kernel '%s' has no test row in tests/test-cpu-kernels.c\n", k->op);
        if (ane_cpu_kernel_lookup (k->op) != k)
          g_string_append_printf (problems, "kernel '%s' is not what ane_cpu_kernel_lookup finds\n", k->op);
      }
  for (guint i = 0; i < N_OF (kernel_tests); i++)
    {
      if (ane_cpu_kernel_lookup (kernel_tests[i].op) == NULL)
        g_string_append_printf (problems, "test row '%s' names an op the kernel table does not have\n",
                                kernel_tests[i].op);
      if (find_test (kernel_tests[i].op) != &kernel_tests[i])
        g_string_append_printf (problems, "op '%s' has two test rows\n", kernel_tests[i].op);
    }
  if (problems->len > 0)
    g_error ("%s", problems->str);
  g_assert_cmpuint (n_kernels, ==, N_OF (kernel_tests));
}

/* ANE_CPU_PROFILE=1: the plan times its ops and prints a table per op
 * type when freed (ane-cpu-profile.c); unset, it prints nothing. */
static void
test_profile (void)
{
  if (g_test_subprocess ())
    {
      if (g_strcmp0 (g_getenv ("ANE_TEST_PROFILE_ON"), "1") == 0)
        g_setenv ("ANE_CPU_PROFILE", "1", TRUE);
      else
        g_unsetenv ("ANE_CPU_PROFILE");
      t_silu ();
      return;
    }
  g_setenv ("ANE_TEST_PROFILE_ON", "1", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*ane-cpu profile: * ms in 1 op types\nop * calls * ms * share\nsilu * 1 * 100.0%*");
  g_setenv ("ANE_TEST_PROFILE_ON", "0", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr_unmatched ("*ane-cpu profile*");
  g_unsetenv ("ANE_TEST_PROFILE_ON");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/cpu/kernels/complete", test_complete);
  g_test_add_func ("/ane/cpu/kernels/corner/empty-broadcast", test_empty_broadcast);
  g_test_add_func ("/ane/cpu/kernels/corner/fp16-rounding", test_fp16_rounding);
  g_test_add_func ("/ane/cpu/kernels/profile", test_profile);
  for (guint i = 0; i < N_OF (kernel_tests); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ane/cpu/kernels/op/%s", kernel_tests[i].op);

      g_test_add_func (path, kernel_tests[i].test);
    }
  return g_test_run ();
}
