/* test-cpu-shape.c: the CPU interpreter's shape, gather/scatter, reduction,
 * scan and sort kernels (ane-cpu-k-shape.c), and the elementwise family,
 * held against the IR reference evaluator
 *
 * Differential cases build a small IR graph with seeded random inputs, run
 * it on ANE_BACKEND_REFERENCE and on ANE_BACKEND_CPU (which lowers the graph
 * to MIL for the target and precision and interprets the program), at every
 * target iOS15..iOS18 the lowering accepts (the lowerings of gather, topk,
 * scatter_add and the 8/16-bit integer paths differ by target), in fp32 and
 * fp16 programs, and compare every output.
 *
 * Tolerances (err = |cpu - reference|, per element):
 * - integer and bool outputs: exact.
 * - fp32 programs: err <= 1e-6 * |expected| for exact ops (reshape,
 *   transpose, concat, narrow, gather, expand, stop_gradient, slice_update, max/min, topk,
 *   casts, comparisons, where); err <= 1e-5 * |expected| for arithmetic (the
 *   kernels compute in double and round once to fp32, as the reference does).
 * - fp16 programs: float inputs are chosen fp16-representable, so the
 *   boundary cast is exact and the program sees the reference's values.
 *   Exact ops must then match exactly. Every other op covered here rounds
 *   its result once to fp16 (reductions, cumsum and scatter_add accumulate
 *   in double first), which is at most 2^-11 relative; the bound used is
 *   m = 1 * FP16_EPS (2^-10) relative to each |expected| plus 2^-24 absolute
 *   (fp16's subnormal spacing), i.e. one rounding with a factor 2 margin.
 *
 * MIL-text cases check, against hand-computed numpy results, the MIL
 * features the lowering never emits (slice masks and strides, split,
 * stack, pad modes, gather batch_dims, gather_nd, scatter modes, argmax,
 * argsort, band_part, range_1d, fill, ...), and malformed programs, which
 * must fail with a message naming the problem.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-lower-test-util.h"
#include "mil/ane-mil-text-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"
#include "runtime/cpu/ane-cpu-private.h"

#define FP16_EPS (1.0 / 1024.0)   /* 2^-10 */
#define FP16_TINY (1.0 / 16777216.0)   /* 2^-24 */

static const AneTarget targets[] = { ANE_TARGET_IOS15, ANE_TARGET_IOS16, ANE_TARGET_IOS17, ANE_TARGET_IOS18 };
static const AnePrecision precisions[] = { ANE_PRECISION_FLOAT32, ANE_PRECISION_FLOAT16 };

/* --- helpers ------------------------------------------------------------------- */

static AneMilTarget
mil_target (AneTarget t)
{
  switch (t)
    {
    case ANE_TARGET_IOS15: return ANE_MIL_IOS15;
    case ANE_TARGET_IOS16: return ANE_MIL_IOS16;
    case ANE_TARGET_IOS17: return ANE_MIL_IOS17;
    default:               return ANE_MIL_IOS18;
    }
}

static const char *
precision_name (AnePrecision p)
{
  return p == ANE_PRECISION_FLOAT16 ? "fp16" : "fp32";
}

static float
to_half (float v)
{
  return ane_half_to_float (ane_float_to_half (v));
}

/* Seeded float32 values in [lo, hi). */
static AneTensor *
rand_f32 (const char   *name,
          const gint64 *shape,
          guint         rank,
          guint32       seed,
          double        lo,
          double        hi)
{
  return ane_test_tensor_random (name, shape, rank, seed, (float) lo, (float) hi);
}

/* Seeded integers in [lo, hi] stored as dtype. */
static AneTensor *
rand_int (const char   *name,
          AneDType      dtype,
          const gint64 *shape,
          guint         rank,
          guint32       seed,
          gint32        lo,
          gint32        hi)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autofree double *v = NULL;
  gint64 n = 1;

  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  v = g_new (double, MAX (n, 1));
  for (gint64 i = 0; i < n; i++)
    v[i] = g_rand_int_range (rand, lo, hi + 1);
  return ane_test_tensor_values (name, dtype, shape, rank, v);
}

/* t with its float32 values rounded to fp16 (others: a new reference). */
static AneTensor *
half_copy (AneTensor *t)
{
  gint64 n = ane_tensor_get_n_elements (t);
  guint rank;
  const gint64 *shape = ane_tensor_get_shape (t, &rank);
  g_autofree double *v = NULL;

  if (ane_tensor_get_dtype (t) != ANE_DTYPE_FLOAT32)
    return g_object_ref (t);
  v = g_new (double, MAX (n, 1));
  for (gint64 i = 0; i < n; i++)
    v[i] = to_half ((float) ane_tensor_get_value (t, i));
  return ane_test_tensor_values (ane_tensor_get_name (t), ANE_DTYPE_FLOAT32, shape, rank, v);
}

static void
add_output (AneGraph   *g,
            const char *name,
            AneTensor  *t)
{
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (t);
  g_assert_true (ane_graph_add_output (g, name, t, &error));
  g_assert_no_error (error);
}

typedef struct {
  double      fp32;        /* relative tolerance in fp32 programs */
  double      fp16;        /* relative tolerance in fp16 programs */
  AneTarget   min_target;  /* the lowering needs at least this target */
  const char *must_use;    /* a MIL op every lowered program must contain, or NULL */
  double      atol_steps;  /* an absolute floor of this many ulps of 1 (2^-23 in fp32, 2^-10 in fp16) */
} Tol;

#define EXACT      1e-6, 0.0
#define ARITH      1e-5, FP16_EPS

static void
compare_outputs (const char *what,
                 GPtrArray  *want,
                 GPtrArray  *got,
                 double      rtol,
                 double      atol)
{
  g_assert_cmpuint (want->len, ==, got->len);
  for (guint o = 0; o < want->len; o++)
    {
      AneTensor *tw = g_ptr_array_index (want, o), *tg = g_ptr_array_index (got, o);
      guint rw, rg;
      const gint64 *sw = ane_tensor_get_shape (tw, &rw), *sg = ane_tensor_get_shape (tg, &rg);
      gint64 n = ane_tensor_get_n_elements (tw);
      gboolean integer = !ane_dtype_is_float (ane_tensor_get_dtype (tw));

      if (ane_tensor_get_dtype (tw) != ane_tensor_get_dtype (tg))
        g_error ("%s: output %u is %s, expected %s", what, o, ane_dtype_to_string (ane_tensor_get_dtype (tg)),
                 ane_dtype_to_string (ane_tensor_get_dtype (tw)));
      if (rw != rg || (rw > 0 && memcmp (sw, sg, rw * sizeof (gint64)) != 0))
        g_error ("%s: output %u has another shape", what, o);
      {
        g_autofree char *label = g_strdup_printf ("%s: output %u", what, o);

        g_assert_cmpint (ane_tensor_get_n_elements (tg), ==, n);
        ane_test_assert_close_tensors (label, tg, tw, integer ? 0.0 : rtol, integer ? 0.0 : atol);
      }
    }
}

static GPtrArray *
run_backend (AneGraph    *g,
             AneBackend   backend,
             AneTarget    target,
             AnePrecision precision,
             AneTensor  **inputs,
             guint        n_inputs,
             GError     **error)
{
  g_autoptr(AneExecutable) exe = ane_executable_new (g, backend);

  ane_executable_set_target (exe, target);
  ane_executable_set_precision (exe, precision);
  if (!ane_executable_compile (exe, NULL, error))
    return NULL;
  return ane_executable_run (exe, inputs, n_inputs, NULL, error);
}

/* The differential check: reference vs CPU at every target >= min_target,
 * in fp32 and fp16 programs (fp16 with fp16-representable inputs). */
static void
check_graph (const char *what,
             AneGraph   *g,
             AneTensor **inputs,
             guint       n_inputs,
             const Tol  *tol)
{
  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    {
      AnePrecision p = precisions[pi];
      g_autoptr(GPtrArray) ins = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(GPtrArray) want = NULL;
      g_autoptr(GError) error = NULL;

      for (guint i = 0; i < n_inputs; i++)
        g_ptr_array_add (ins, p == ANE_PRECISION_FLOAT16 ? half_copy (inputs[i]) : g_object_ref (inputs[i]));
      want = run_backend (g, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18, p, (AneTensor **) ins->pdata, ins->len, &error);
      if (want == NULL)
        g_error ("%s: the reference failed: %s", what, error->message);

      for (guint ti = 0; ti < G_N_ELEMENTS (targets); ti++)
        {
          AneTarget t = targets[ti];
          g_autoptr(GPtrArray) got = NULL;
          g_autofree char *label = g_strdup_printf ("%s [%s, %s]", what, ane_target_to_string (t), precision_name (p));

          if (t < tol->min_target)
            continue;
          if (tol->must_use)
            {
              g_autoptr(AneMilProgram) prog = ane_test_lower (g, mil_target (t),
                                                              p == ANE_PRECISION_FLOAT16 ? ANE_DTYPE_FLOAT16
                                                                                         : ANE_DTYPE_FLOAT32);
              if (ane_test_count_ops (prog, tol->must_use) == 0)
                {
                  g_autofree char *seq = ane_test_op_sequence (prog);
                  g_error ("%s: the lowering should use %s but emitted %s", label, tol->must_use, seq);
                }
            }
          got = run_backend (g, ANE_BACKEND_CPU, t, p, (AneTensor **) ins->pdata, ins->len, &error);
          if (got == NULL)
            g_error ("%s: the CPU backend failed: %s", label, error->message);
          compare_outputs (label, want, got, p == ANE_PRECISION_FLOAT16 ? tol->fp16 : tol->fp32,
                           p == ANE_PRECISION_FLOAT16 && tol->fp16 > 0 ? MAX (FP16_TINY, tol->atol_steps * FP16_EPS)
                                                                       : tol->atol_steps * FLT_EPSILON);
        }
    }
}

/* Both the reference and the CPU backend (every target >= min_target, both
 * precisions) must fail at run time, the CPU with a message containing substr. */
static void
check_graph_fails (const char *what,
                   AneGraph   *g,
                   AneTensor **inputs,
                   guint       n_inputs,
                   AneTarget   min_target,
                   const char *substr)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) want = run_backend (g, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32,
                                           inputs, n_inputs, &error);

  g_assert_null (want);
  g_assert_nonnull (error);
  g_clear_error (&error);
  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    for (guint ti = 0; ti < G_N_ELEMENTS (targets); ti++)
      {
        g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_CPU);
        g_autoptr(GPtrArray) got = NULL;

        if (targets[ti] < min_target)
          continue;
        ane_executable_set_target (exe, targets[ti]);
        ane_executable_set_precision (exe, precisions[pi]);
        if (!ane_executable_compile (exe, NULL, &error))
          g_error ("%s [%s]: compile failed: %s", what, ane_target_to_string (targets[ti]), error->message);
        got = ane_executable_run (exe, inputs, n_inputs, NULL, &error);
        if (got != NULL)
          g_error ("%s [%s, %s]: the CPU backend ran where it should fail", what,
                   ane_target_to_string (targets[ti]), precision_name (precisions[pi]));
        g_assert_nonnull (error);
        if (substr && strstr (error->message, substr) == NULL)
          g_error ("%s: the error '%s' does not mention '%s'", what, error->message, substr);
        g_clear_error (&error);
      }
}

static AneTensor *
expect_ok (AneTensor *t,
           GError   **error)
{
  g_assert_no_error (*error);
  g_assert_nonnull (t);
  return t;
}

/* y as int32 (for bool/int8 results, which cannot be graph outputs). */
static AneTensor *
to_int32 (AneGraph  *g,
          AneTensor *y)
{
  g_autoptr(GError) error = NULL;

  if (ane_tensor_get_dtype (y) == ANE_DTYPE_INT32)
    return g_object_ref (y);
  return expect_ok (ane_graph_cast (g, y, ANE_DTYPE_INT32, &error), &error);
}

/* --- reshape / transpose / concat / narrow ------------------------------------- */

static void
test_reshape (void)
{
  static const gint64 xs[] = { 2, 3, 4 };
  static const struct { gint64 shape[4]; guint rank; } cases[] = {
    { { 4, 6 }, 2 }, { { 24 }, 1 }, { { 2, 3, 4 }, 3 }, { { 1, 2, 1, 12 }, 4 }, { { -1, 8 }, 2 },
  };
  static const Tol tol = { EXACT, ANE_TARGET_IOS15, NULL };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int integer = 0; integer < 2; integer++)
      {
        AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = integer ? rand_int ("x", dt, xs, 3, 10 + c, -100, 100)
                                          : rand_f32 ("x", xs, 3, 10 + c, -2, 2);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", dt, xs, 3);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = expect_ok (ane_graph_reshape (g, x, cases[c].shape, cases[c].rank, &error), &error);
        g_autofree char *what = g_strdup_printf ("reshape case %u %s", c, ane_dtype_to_string (dt));

        add_output (g, "y", y);
        check_graph (what, g, &vx, 1, &tol);
      }
}

static void
test_reshape_uses_kernel (void)
{
  static const gint64 xs[] = { 2, 6 }, to[] = { 3, 4 };
  static const Tol tol = { EXACT, ANE_TARGET_IOS15, "reshape" };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) vx = rand_f32 ("x", xs, 2, 3, -1, 1);
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = expect_ok (ane_graph_reshape (g, x, to, 2, &error), &error);

  add_output (g, "y", y);
  check_graph ("reshape [2,6] -> [3,4]", g, &vx, 1, &tol);
}

static void
test_transpose (void)
{
  static const gint64 x3[] = { 2, 3, 4 }, x4[] = { 2, 1, 3, 2 };
  static const struct { const gint64 *xs; guint rank; gint64 perm[4]; } cases[] = {
    { x3, 3, { 2, 0, 1 } }, { x3, 3, { 1, 0, 2 } }, { x3, 3, { 0, 2, 1 } }, { x3, 3, { 0, 1, 2 } },
    { x4, 4, { 3, 1, 0, 2 } }, { x4, 4, { 1, 3, 2, 0 } },
  };
  static const Tol tol = { EXACT, ANE_TARGET_IOS15, NULL };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int integer = 0; integer < 2; integer++)
      {
        AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = integer ? rand_int ("x", dt, cases[c].xs, cases[c].rank, 20 + c, -50, 50)
                                          : rand_f32 ("x", cases[c].xs, cases[c].rank, 20 + c, -2, 2);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", dt, cases[c].xs, cases[c].rank);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = expect_ok (ane_graph_transpose (g, x, cases[c].perm, cases[c].rank, &error), &error);
        g_autofree char *what = g_strdup_printf ("transpose case %u %s", c, ane_dtype_to_string (dt));

        add_output (g, "y", y);
        check_graph (what, g, &vx, 1, &tol);
      }
}

static void
test_concat (void)
{
  static const gint64 a[] = { 2, 3, 4 }, b[] = { 2, 1, 4 }, c[] = { 2, 2, 4 };
  static const Tol tol = { EXACT, ANE_TARGET_IOS15, "concat" };
  static const AneDType dtypes[] = { ANE_DTYPE_FLOAT32, ANE_DTYPE_INT32 };

  for (guint d = 0; d < G_N_ELEMENTS (dtypes); d++)
    for (int axis = -2; axis <= 1; axis += 3)   /* -2 and 1: the same axis, both spellings */
      {
        AneDType dt = dtypes[d];
        gboolean f = dt == ANE_DTYPE_FLOAT32;
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) va = f ? rand_f32 ("a", a, 3, 30, -1, 1) : rand_int ("a", dt, a, 3, 30, -9, 9);
        g_autoptr(AneTensor) vb = f ? rand_f32 ("b", b, 3, 31, -1, 1) : rand_int ("b", dt, b, 3, 31, -9, 9);
        g_autoptr(AneTensor) vc = f ? rand_f32 ("c", c, 3, 32, -1, 1) : rand_int ("c", dt, c, 3, 32, -9, 9);
        g_autoptr(AneTensor) ta = ane_test_input (g, "a", dt, a, 3);
        g_autoptr(AneTensor) tb = ane_test_input (g, "b", dt, b, 3);
        g_autoptr(AneTensor) tc = ane_test_input (g, "c", dt, c, 3);
        AneTensor *vals[] = { ta, tb, tc }, *ins[] = { va, vb, vc };
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = expect_ok (ane_graph_concat (g, vals, 3, axis, &error), &error);
        g_autofree char *what = g_strdup_printf ("concat axis %d %s", axis, ane_dtype_to_string (dt));

        add_output (g, "y", y);
        check_graph (what, g, ins, 3, &tol);
      }

  /* axis 0 and the last axis, fp32 */
  for (int axis = 0; axis <= 2; axis += 2)
    {
      static const gint64 p[] = { 2, 3, 4 };
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(AneTensor) va = rand_f32 ("a", p, 3, 33, -1, 1);
      g_autoptr(AneTensor) vb = rand_f32 ("b", p, 3, 34, -1, 1);
      g_autoptr(AneTensor) ta = ane_test_input (g, "a", ANE_DTYPE_FLOAT32, p, 3);
      g_autoptr(AneTensor) tb = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, p, 3);
      AneTensor *vals[] = { ta, tb }, *ins[] = { va, vb };
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) y = expect_ok (ane_graph_concat (g, vals, 2, axis, &error), &error);
      g_autofree char *what = g_strdup_printf ("concat axis %d", axis);

      add_output (g, "y", y);
      check_graph (what, g, ins, 2, &tol);
    }
}

/* int8 and bool values: int8 goes through cast -> concat (int32) -> cast
 * (iOS17+); bool is concatenated natively. */
static void
test_concat_narrow_int (void)
{
  static const gint64 a[] = { 3, 2 }, b[] = { 3, 3 };
  static const Tol tol8 = { EXACT, ANE_TARGET_IOS17, "concat" };
  static const Tol tolb = { EXACT, ANE_TARGET_IOS15, "concat" };

  for (int kind = 0; kind < 2; kind++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(AneTensor) va = rand_int ("a", ANE_DTYPE_INT32, a, 2, 40, -128, 127);
      g_autoptr(AneTensor) vb = rand_int ("b", ANE_DTYPE_INT32, b, 2, 41, -128, 127);
      g_autoptr(AneTensor) ta = ane_test_input (g, "a", ANE_DTYPE_INT32, a, 2);
      g_autoptr(AneTensor) tb = ane_test_input (g, "b", ANE_DTYPE_INT32, b, 2);
      g_autoptr(GError) error = NULL;
      AneDType dt = kind == 0 ? ANE_DTYPE_INT8 : ANE_DTYPE_BOOL;
      g_autoptr(AneTensor) ca = expect_ok (ane_graph_cast (g, ta, dt, &error), &error);
      g_autoptr(AneTensor) cb = expect_ok (ane_graph_cast (g, tb, dt, &error), &error);
      AneTensor *vals[] = { ca, cb }, *ins[] = { va, vb };
      g_autoptr(AneTensor) y = expect_ok (ane_graph_concat (g, vals, 2, 1, &error), &error);
      g_autoptr(AneTensor) yi = to_int32 (g, y);

      add_output (g, "y", yi);
      check_graph (kind == 0 ? "concat int8" : "concat bool", g, ins, 2, kind == 0 ? &tol8 : &tolb);
    }
}

static void
test_narrow (void)
{
  static const gint64 xs[] = { 3, 5, 4 };
  static const struct { int axis; gint64 start, length; } cases[] = {
    { 1, 1, 2 }, { 1, -3, 3 }, { 0, 2, 1 }, { -1, 0, 3 }, { 2, 1, 3 }, { 1, 0, 5 },
  };
  static const Tol tol = { EXACT, ANE_TARGET_IOS15, NULL };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int integer = 0; integer < 2; integer++)
      {
        AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = integer ? rand_int ("x", dt, xs, 3, 50 + c, -50, 50)
                                          : rand_f32 ("x", xs, 3, 50 + c, -2, 2);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", dt, xs, 3);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = expect_ok (ane_graph_narrow (g, x, cases[c].axis, cases[c].start,
                                                              cases[c].length, &error), &error);
        g_autofree char *what = g_strdup_printf ("narrow case %u %s", c, ane_dtype_to_string (dt));
        Tol t = tol;

        t.must_use = cases[c].length == xs[(cases[c].axis + 3) % 3] ? NULL : "slice_by_index";
        add_output (g, "y", y);
        check_graph (what, g, &vx, 1, &t);
      }
}

/* --- slice_update --------------------------------------------------------------- */

/* begin is a graph input, so the program clamps it (iOS18: maximum, minimum,
 * add, slice_update; before: the gather/select blend); begins past either end
 * of an axis are clamped alike by the reference and by the program. */
static void
test_slice_update (void)
{
  static const gint64 xs[] = { 3, 5, 4 }, bs[] = { 3 };
  static const struct { gint64 us[3]; double begin[3]; } cases[] = {
    { { 1, 5, 4 }, { 2, 0, 0 } },
    { { 2, 3, 1 }, { 1, 2, 3 } },
    { { 3, 1, 2 }, { 0, 4, 1 } },
    { { 1, 2, 2 }, { 7, -3, 9 } },       /* clamped to 2, 0, 2 */
    { { 2, 5, 3 }, { -1, 1, 100 } },     /* clamped to 0, 0, 1 */
    { { 1, 1, 1 }, { 1, 3, 2 } },
  };
  static const Tol tol = { EXACT, ANE_TARGET_IOS15, NULL };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int integer = 0; integer < 2; integer++)
      {
        AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = integer ? rand_int ("x", dt, xs, 3, 70 + c, -50, 50)
                                          : rand_f32 ("x", xs, 3, 70 + c, -2, 2);
        g_autoptr(AneTensor) vu = integer ? rand_int ("u", dt, cases[c].us, 3, 80 + c, 100, 200)
                                          : rand_f32 ("u", cases[c].us, 3, 80 + c, 10, 20);
        g_autoptr(AneTensor) vb = ane_test_tensor_values ("b", ANE_DTYPE_INT32, bs, 1, cases[c].begin);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", dt, xs, 3);
        g_autoptr(AneTensor) u = ane_test_input (g, "u", dt, cases[c].us, 3);
        g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_INT32, bs, 1);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = expect_ok (ane_graph_slice_update (g, x, u, b, &error), &error);
        g_autofree char *what = g_strdup_printf ("slice_update case %u %s", c, ane_dtype_to_string (dt));
        AneTensor *ins[] = { vx, vu, vb };

        add_output (g, "y", y);
        check_graph (what, g, ins, 3, &tol);
        {
          g_autoptr(AneMilProgram) p18 = ane_test_lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32);
          g_autoptr(AneMilProgram) p17 = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
          gboolean whole = cases[c].us[0] == 3 && cases[c].us[1] == 5 && cases[c].us[2] == 4;

          g_assert_cmpuint (ane_test_count_ops (p18, "slice_update"), ==, whole ? 0 : 1);
          g_assert_cmpuint (ane_test_count_ops (p17, "select"), ==, whole ? 0 : 1);
        }
      }
}

/* int8 and bool values, which MIL gather and select do not take before iOS18
 * (the blend goes through int32) and slice_update takes as they are. */
static void
test_slice_update_narrow_types (void)
{
  static const gint64 xs[] = { 3, 4 }, us[] = { 2, 1 }, bs[] = { 2 };
  static const double begin[] = { 1, 2 };
  static const Tol tol8 = { EXACT, ANE_TARGET_IOS17, NULL };
  static const Tol tolb = { EXACT, ANE_TARGET_IOS15, NULL };

  for (int kind = 0; kind < 2; kind++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(AneTensor) vx = rand_int ("x", ANE_DTYPE_INT32, xs, 2, 90, kind ? 0 : -100, kind ? 1 : 100);
      g_autoptr(AneTensor) vu = rand_int ("u", ANE_DTYPE_INT32, us, 2, 91, kind ? 0 : -100, kind ? 1 : 100);
      g_autoptr(AneTensor) vb = ane_test_tensor_values ("b", ANE_DTYPE_INT32, bs, 1, begin);
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_INT32, xs, 2);
      g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_INT32, us, 2);
      g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_INT32, bs, 1);
      g_autoptr(GError) error = NULL;
      AneDType dt = kind == 0 ? ANE_DTYPE_INT8 : ANE_DTYPE_BOOL;
      g_autoptr(AneTensor) cx = expect_ok (ane_graph_cast (g, x, dt, &error), &error);
      g_autoptr(AneTensor) cu = expect_ok (ane_graph_cast (g, u, dt, &error), &error);
      g_autoptr(AneTensor) y = expect_ok (ane_graph_slice_update (g, cx, cu, b, &error), &error);
      g_autoptr(AneTensor) yi = to_int32 (g, y);
      AneTensor *ins[] = { vx, vu, vb };

      add_output (g, "y", yi);
      check_graph (kind == 0 ? "slice_update int8" : "slice_update bool", g, ins, 3, kind == 0 ? &tol8 : &tolb);
    }
}

/* --- gather -------------------------------------------------------------------- */

static void
test_gather (void)
{
  static const gint64 xs[] = { 4, 3, 5 }, is1[] = { 6 }, is2[] = { 2, 3 };
  static const double idx1[] = { 0, 3, -1, 2, -4, 1 };
  static const double idx2[] = { -2, 4, 0, 1, -5, 2 };
  static const struct { int axis; const gint64 *is; guint ir; const double *iv; } cases[] = {
    { 0, is1, 1, idx1 }, { 2, is2, 2, idx2 }, { -1, is1, 1, idx1 }, { 1, is2, 2, idx2 },
  };
  static const Tol tol = { EXACT, ANE_TARGET_IOS15, "gather" };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int integer = 0; integer < 2; integer++)
      {
        AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = integer ? rand_int ("x", dt, xs, 3, 60 + c, -1000, 1000)
                                          : rand_f32 ("x", xs, 3, 60 + c, -2, 2);
        g_autofree double *iv = g_memdup2 (cases[c].iv, 6 * sizeof (double));
        g_autoptr(AneTensor) vi = NULL;
        g_autoptr(AneTensor) x = ane_test_input (g, "x", dt, xs, 3);
        g_autoptr(AneTensor) i = ane_test_input (g, "i", ANE_DTYPE_INT32, cases[c].is, cases[c].ir);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = expect_ok (ane_graph_gather (g, x, i, cases[c].axis, &error), &error);
        g_autofree char *what = g_strdup_printf ("gather case %u %s", c, ane_dtype_to_string (dt));
        guint axis = (guint) ((cases[c].axis + 3) % 3);
        AneTensor *ins[2];

        /* indices within [-D, D) for the gathered axis */
        for (guint k = 0; k < 6; k++)
          iv[k] = fmod (iv[k], (double) xs[axis]);
        vi = ane_test_tensor_values ("i", ANE_DTYPE_INT32, cases[c].is, cases[c].ir, iv);
        ins[0] = vx;
        ins[1] = vi;
        add_output (g, "y", y);
        check_graph (what, g, ins, 2, &tol);
      }
}

/* int8 data and int8/uint8 indices (cast from int32 inputs; iOS17+), a
 * const index vector (all >= 0: no wrap), and bool data (cast to int32 and
 * back around the gather; every target). */
static void
test_gather_dtypes (void)
{
  static const gint64 xs[] = { 5, 3 }, is[] = { 4 };
  static const double iv[] = { 4, -1, 0, -5 }, iv_pos[] = { 4, 1, 0, 2 };

  for (int kind = 0; kind < 4; kind++)
    {
      static const Tol tol17 = { EXACT, ANE_TARGET_IOS17, "gather" };
      static const Tol tol15 = { EXACT, ANE_TARGET_IOS15, "gather" };
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(AneTensor) vx = rand_int ("x", ANE_DTYPE_INT32, xs, 2, 70 + kind, -128, 127);
      g_autoptr(AneTensor) vi = ane_test_tensor_values ("i", ANE_DTYPE_INT32, is, 1, kind == 1 ? iv_pos : iv);
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_INT32, xs, 2);
      g_autoptr(AneTensor) i = ane_test_input (g, "i", ANE_DTYPE_INT32, is, 1);
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) xd = NULL, id = NULL, y = NULL, yi = NULL;
      AneTensor *ins[] = { vx, vi };
      const char *what = NULL;
      const Tol *tol = &tol17;

      switch (kind)
        {
        case 0:   /* int8 x, int8 indices (negative ones wrapped) */
          xd = expect_ok (ane_graph_cast (g, x, ANE_DTYPE_INT8, &error), &error);
          id = expect_ok (ane_graph_cast (g, i, ANE_DTYPE_INT8, &error), &error);
          what = "gather int8 x, int8 indices";
          break;
        case 1:   /* uint8 indices (never negative: no wrap) */
          xd = g_object_ref (x);
          id = expect_ok (ane_graph_cast (g, i, ANE_DTYPE_UINT8, &error), &error);
          what = "gather int32 x, uint8 indices";
          break;
        case 2:   /* bool x */
          xd = expect_ok (ane_graph_cast (g, x, ANE_DTYPE_BOOL, &error), &error);
          id = g_object_ref (i);
          what = "gather bool x";
          tol = &tol15;
          break;
        default:  /* const non-negative indices */
          {
            g_autoptr(AneTensor) ci = ane_test_tensor_values ("ci", ANE_DTYPE_INT32, is, 1, iv_pos);
            xd = g_object_ref (x);
            id = ane_test_const (g, ci);
            what = "gather const indices";
            tol = &tol15;
          }
          break;
        }
      y = expect_ok (ane_graph_gather (g, xd, id, 0, &error), &error);
      yi = to_int32 (g, y);
      add_output (g, "y", yi);
      if (kind == 3)
        {
          /* i is unused: only x is an input */
          add_output (g, "i_echo", i);
        }
      check_graph (what, g, ins, 2, tol);
    }
}

static void
test_gather_out_of_range (void)
{
  static const gint64 xs[] = { 4, 2 }, is[] = { 3 };
  static const double bad_high[] = { 0, 4, 1 }, bad_low[] = { 0, -5, 1 };

  for (int low = 0; low < 2; low++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(AneTensor) vx = rand_f32 ("x", xs, 2, 80, -1, 1);
      g_autoptr(AneTensor) vi = ane_test_tensor_values ("i", ANE_DTYPE_INT32, is, 1, low ? bad_low : bad_high);
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
      g_autoptr(AneTensor) i = ane_test_input (g, "i", ANE_DTYPE_INT32, is, 1);
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) y = expect_ok (ane_graph_gather (g, x, i, 0, &error), &error);
      AneTensor *ins[] = { vx, vi };

      add_output (g, "y", y);
      check_graph_fails (low ? "gather index -5 of 4" : "gather index 4 of 4", g, ins, 2, ANE_TARGET_IOS15,
                         "out of");
    }
}

/* --- expand / cast / stop_gradient --------------------------------------------- */

static void
test_expand (void)
{
  static const struct { gint64 xs[4]; guint xr; gint64 to[4]; guint tr; } cases[] = {
    { { 3, 1 }, 2, { 2, 3, 4 }, 3 },      /* rank and dims: reshape + tile */
    { { 1, 3, 1 }, 3, { 2, 3, 5 }, 3 },   /* same rank: tile */
    { { 3, 4 }, 2, { 1, 1, 3, 4 }, 4 },   /* only the rank: reshape */
    { { 3, 4 }, 2, { 3, 4 }, 2 },         /* identity */
    { { 1 }, 1, { 2, 2, 3 }, 3 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int kind = 0; kind < 4; kind++)
      {
        static const Tol tol15 = { EXACT, ANE_TARGET_IOS15, NULL };
        static const Tol tol17 = { EXACT, ANE_TARGET_IOS17, NULL };
        AneDType in_dt = kind == 0 ? ANE_DTYPE_FLOAT32 : ANE_DTYPE_INT32;
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = kind == 0 ? rand_f32 ("x", cases[c].xs, cases[c].xr, 90 + c, -2, 2)
                                            : rand_int ("x", in_dt, cases[c].xs, cases[c].xr, 90 + c, -3, 3);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", in_dt, cases[c].xs, cases[c].xr);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) xd = NULL, y = NULL, yo = NULL;
        static const char *const names[] = { "fp32", "int32", "bool", "int8" };
        g_autofree char *what = g_strdup_printf ("expand case %u %s", c, names[kind]);

        if (kind == 2)
          xd = expect_ok (ane_graph_cast (g, x, ANE_DTYPE_BOOL, &error), &error);
        else if (kind == 3)
          xd = expect_ok (ane_graph_cast (g, x, ANE_DTYPE_INT8, &error), &error);
        else
          xd = g_object_ref (x);
        y = expect_ok (ane_graph_expand (g, xd, cases[c].to, cases[c].tr, &error), &error);
        yo = kind >= 2 ? to_int32 (g, y) : g_object_ref (y);
        add_output (g, "y", yo);
        check_graph (what, g, &vx, 1, kind == 3 ? &tol17 : &tol15);
      }
}

static void
test_cast (void)
{
  static const gint64 xs[] = { 14 };
  /* fractions, halves, negatives, values past int32 and int8, NaN, inf, and
   * values between fp16 neighbours (1 + 2^-11 ties to 1; 65520 overflows) */
  static const double xv[] = { 0.5, -0.5, 1.7, -1.7, 2.5, 0.0, -0.0, 3e9, -3e9, 300.0, -300.0,
                               1.0 + 1.0 / 2048.0, 65520.0, 1e-8 };
  struct { AneDType to; AneTarget min; } cases[] = {
    { ANE_DTYPE_INT32, ANE_TARGET_IOS15 }, { ANE_DTYPE_FLOAT16, ANE_TARGET_IOS15 },
    { ANE_DTYPE_BOOL, ANE_TARGET_IOS15 }, { ANE_DTYPE_INT8, ANE_TARGET_IOS17 },
    { ANE_DTYPE_UINT8, ANE_TARGET_IOS17 }, { ANE_DTYPE_INT16, ANE_TARGET_IOS17 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      Tol tol = { EXACT, cases[c].min, NULL };
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(AneTensor) vx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 1, xv);
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 1);
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) y = expect_ok (ane_graph_cast (g, x, cases[c].to, &error), &error);
      g_autoptr(AneTensor) yo = NULL;
      g_autofree char *what = g_strdup_printf ("cast fp32 -> %s", ane_dtype_to_string (cases[c].to));

      if (cases[c].to == ANE_DTYPE_FLOAT16)
        yo = g_object_ref (y);
      else
        yo = to_int32 (g, y);
      add_output (g, "y", yo);
      /* fp16 programs see the inputs rounded to fp16 (3e9 and 65520 become
       * inf); the reference gets the same rounded inputs */
      check_graph (what, g, &vx, 1, &tol);
    }

  /* int32 -> fp32 / bool, bool -> fp32, and NaN / inf into every target dtype */
  {
    static const gint64 is[] = { 6 };
    /* int32 -> float is fp16 inside an fp16 program: one rounding (2049
     * becomes 2048), so ARITH; values stay within fp16's range */
    static const double iv[] = { 0, 1, -1, 2049, -65504, 5 };
    static const double nv[] = { NAN, INFINITY, -INFINITY, NAN, 1.0, -0.0 };
    static const Tol tol = { ARITH, ANE_TARGET_IOS15, NULL };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) vi = ane_test_tensor_values ("i", ANE_DTYPE_INT32, is, 1, iv);
    g_autoptr(AneTensor) vn = ane_test_tensor_values ("n", ANE_DTYPE_FLOAT32, is, 1, nv);
    g_autoptr(AneTensor) i = ane_test_input (g, "i", ANE_DTYPE_INT32, is, 1);
    g_autoptr(AneTensor) n = ane_test_input (g, "n", ANE_DTYPE_FLOAT32, is, 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) f = expect_ok (ane_graph_cast (g, i, ANE_DTYPE_FLOAT32, &error), &error);
    g_autoptr(AneTensor) b = expect_ok (ane_graph_cast (g, i, ANE_DTYPE_BOOL, &error), &error);
    g_autoptr(AneTensor) bf = expect_ok (ane_graph_cast (g, b, ANE_DTYPE_FLOAT32, &error), &error);
    g_autoptr(AneTensor) ni = expect_ok (ane_graph_cast (g, n, ANE_DTYPE_INT32, &error), &error);
    g_autoptr(AneTensor) nb = expect_ok (ane_graph_cast (g, n, ANE_DTYPE_BOOL, &error), &error);
    g_autoptr(AneTensor) nbi = to_int32 (g, nb);
    AneTensor *ins[] = { vi, vn };

    add_output (g, "f", f);
    add_output (g, "bf", bf);
    add_output (g, "ni", ni);
    add_output (g, "nb", nbi);
    check_graph ("cast int32/bool/NaN", g, ins, 2, &tol);
  }
}

/* stop_gradient -> identity; the mul after it makes the identity an
 * intermediate value (one rounding in fp16: ARITH) */
static void
test_stop_gradient (void)
{
  static const gint64 xs[] = { 3, 4 };
  static const Tol tol = { ARITH, ANE_TARGET_IOS15, "identity" };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) vx = rand_f32 ("x", xs, 2, 100, -3, 3);
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) s = expect_ok (ane_graph_stop_gradient (g, x, &error), &error);
  g_autoptr(AneTensor) y = expect_ok (ane_graph_mul (g, s, s, &error), &error);

  add_output (g, "y", y);
  check_graph ("stop_gradient", g, &vx, 1, &tol);
}

/* --- reductions ---------------------------------------------------------------- */

typedef AneTensor *(*ReduceFunc) (AneGraph *, AneTensor *, const gint64 *, guint, gboolean, GError **);

static void
test_reduce (void)
{
  static const gint64 xs[] = { 3, 4, 5 };
  static const struct { gint64 axes[3]; guint n; } axes[] = {
    { { 1 }, 1 }, { { 0, 2 }, 2 }, { { -1 }, 1 }, { { 0 }, 0 }, { { 2, 0, 1 }, 3 }, { { -3, -2 }, 2 },
  };
  static const struct { const char *name; ReduceFunc f; gboolean exact; double lo, hi; } ops[] = {
    { "reduce_sum", ane_graph_reduce_sum, FALSE, -2, 2 },
    { "reduce_mean", ane_graph_reduce_mean, FALSE, -2, 2 },
    { "reduce_max", ane_graph_reduce_max, TRUE, -2, 2 },
    { "reduce_min", ane_graph_reduce_min, TRUE, -2, 2 },
    { "reduce_prod", ane_graph_reduce_prod, FALSE, 0.6, 1.4 },
  };

  for (guint o = 0; o < G_N_ELEMENTS (ops); o++)
    for (guint a = 0; a < G_N_ELEMENTS (axes); a++)
      for (int keep = 0; keep < 2; keep++)
        {
          Tol tol = { ARITH, ANE_TARGET_IOS15, ops[o].name };
          g_autoptr(AneGraph) g = ane_graph_new ();
          g_autoptr(AneTensor) vx = rand_f32 ("x", xs, 3, 110 + o * 16 + a, ops[o].lo, ops[o].hi);
          g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3);
          g_autoptr(GError) error = NULL;
          g_autoptr(AneTensor) y = expect_ok (ops[o].f (g, x, axes[a].axes, axes[a].n, keep, &error), &error);
          g_autofree char *what = g_strdup_printf ("%s axes case %u keepdims %d", ops[o].name, a, keep);

          if (ops[o].exact)
            {
              tol.fp32 = 1e-6;
              tol.fp16 = 0.0;
            }
          add_output (g, "y", y);
          check_graph (what, g, &vx, 1, &tol);
        }
}

/* reduce_mean is float-only in the IR */
static void
test_reduce_int (void)
{
  static const gint64 xs[] = { 3, 4 };
  static const gint64 ax1[] = { 1 };
  static const struct { const char *name; ReduceFunc f; gint32 lo, hi; } ops[] = {
    { "reduce_sum", ane_graph_reduce_sum, -1000, 1000 },
    { "reduce_max", ane_graph_reduce_max, -1000, 1000 },
    { "reduce_min", ane_graph_reduce_min, -1000, 1000 },
    { "reduce_prod", ane_graph_reduce_prod, -9, 9 },
  };

  for (guint o = 0; o < G_N_ELEMENTS (ops); o++)
    for (int narrow = 0; narrow < 2; narrow++)
      for (int all = 0; all < 2; all++)
        {
          Tol tol = { EXACT, narrow ? ANE_TARGET_IOS17 : ANE_TARGET_IOS15, ops[o].name };
          g_autoptr(AneGraph) g = ane_graph_new ();
          /* int8: sums and products saturate at +-127/-128 in the IR; the
           * lowering clamps in int32 after the reduction */
          g_autoptr(AneTensor) vx = rand_int ("x", ANE_DTYPE_INT32, xs, 2, 140 + o, narrow ? -100 : ops[o].lo,
                                              narrow ? 100 : ops[o].hi);
          g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_INT32, xs, 2);
          g_autoptr(GError) error = NULL;
          g_autoptr(AneTensor) xd = narrow ? expect_ok (ane_graph_cast (g, x, ANE_DTYPE_INT8, &error), &error)
                                           : g_object_ref (x);
          g_autoptr(AneTensor) y = expect_ok (ops[o].f (g, xd, ax1, all ? 0 : 1, FALSE, &error), &error);
          g_autoptr(AneTensor) yi = to_int32 (g, y);
          g_autofree char *what = g_strdup_printf ("%s %s%s", ops[o].name, narrow ? "int8" : "int32",
                                                   all ? " all axes" : "");

          add_output (g, "y", yi);
          check_graph (what, g, &vx, 1, &tol);
        }
}

/* --- cumsum -------------------------------------------------------------------- */

static void
test_cumsum (void)
{
  static const gint64 xs[] = { 3, 5, 2 };

  for (int axis = -1; axis <= 2; axis++)
    for (int excl = 0; excl < 2; excl++)
      for (int rev = 0; rev < 2; rev++)
        for (int integer = 0; integer < 2; integer++)
          {
            Tol tol = { ARITH, ANE_TARGET_IOS15, "cumsum" };
            AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
            g_autoptr(AneGraph) g = ane_graph_new ();
            g_autoptr(AneTensor) vx = integer ? rand_int ("x", dt, xs, 3, 150 + axis * 8 + excl * 2 + rev, -500, 500)
                                              : rand_f32 ("x", xs, 3, 150 + axis * 8 + excl * 2 + rev, -2, 2);
            g_autoptr(AneTensor) x = ane_test_input (g, "x", dt, xs, 3);
            g_autoptr(GError) error = NULL;
            g_autoptr(AneTensor) y = expect_ok (ane_graph_cumsum (g, x, axis, excl, rev, &error), &error);
            g_autofree char *what = g_strdup_printf ("cumsum axis %d exclusive %d reverse %d %s", axis, excl, rev,
                                                     ane_dtype_to_string (dt));

            add_output (g, "y", y);
            check_graph (what, g, &vx, 1, &tol);
          }

  /* int8 saturation through the widened path (iOS17+) */
  {
    static const gint64 s[] = { 6 };
    static const double v[] = { 100, 100, -50, -120, -120, 127 };
    static const Tol tol = { EXACT, ANE_TARGET_IOS17, "cumsum" };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) vx = ane_test_tensor_values ("x", ANE_DTYPE_INT32, s, 1, v);
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_INT32, s, 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x8 = expect_ok (ane_graph_cast (g, x, ANE_DTYPE_INT8, &error), &error);
    g_autoptr(AneTensor) y = expect_ok (ane_graph_cumsum (g, x8, 0, FALSE, FALSE, &error), &error);
    g_autoptr(AneTensor) yi = to_int32 (g, y);

    add_output (g, "y", yi);
    check_graph ("cumsum int8", g, &vx, 1, &tol);
  }
}

/* --- pad, gather_elements, argmax / argmin (ONNX import's ops) ------------------- */

/* pad -> MIL pad: each mode on one, two and three trailing axes of a
 * [2, 3, 4] tensor, reflect up to size - 1, uneven before/after amounts. */
static void
test_pad (void)
{
  static const gint64 xs[] = { 2, 3, 4 };
  static const gint64 p1[] = { 3, 1 }, p2[] = { 2, 0, 1, 3 }, p3[] = { 1, 0, 0, 2, 3, 3 };
  static const struct { const gint64 *pads; guint n; } cases[] = { { p1, 2 }, { p2, 4 }, { p3, 6 } };
  static const char *const modes[] = { "constant", "reflect", "edge" };

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
      {
        Tol tol = { EXACT, ANE_TARGET_IOS15, "pad" };
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = rand_f32 ("x", xs, 3, 700 + m * 4 + c, -2, 2);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = expect_ok (ane_graph_pad (g, x, cases[c].pads, cases[c].n, modes[m], -1.5,
                                                           &error), &error);
        g_autofree char *what = g_strdup_printf ("pad %s over %u axes", modes[m], cases[c].n / 2);

        add_output (g, "y", y);
        check_graph (what, g, &vx, 1, &tol);
      }
}

/* gather_elements -> [slice_by_index +] gather_along_axis, with negative
 * indices (wrapped from iOS17) and indices smaller than x on the other axes. */
static void
test_gather_elements (void)
{
  static const gint64 xs[] = { 3, 4, 5 }, full[] = { 3, 6, 5 }, small[] = { 2, 3, 4 };
  static const struct { int axis; const gint64 *is; } cases[] = {
    { 1, full }, { 0, small }, { -1, small }, { 2, xs },
  };
  static const Tol tol = { EXACT, ANE_TARGET_IOS15, "gather_along_axis" };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int integer = 0; integer < 2; integer++)
      {
        AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
        guint axis = (guint) ((cases[c].axis + 3) % 3);
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = integer ? rand_int ("x", dt, xs, 3, 720 + c, -1000, 1000)
                                          : rand_f32 ("x", xs, 3, 720 + c, -2, 2);
        g_autoptr(AneTensor) vi = rand_int ("i", ANE_DTYPE_INT32, cases[c].is, 3, 730 + c,
                                            -(gint32) xs[axis], (gint32) xs[axis] - 1);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", dt, xs, 3);
        g_autoptr(AneTensor) i = ane_test_input (g, "i", ANE_DTYPE_INT32, cases[c].is, 3);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = expect_ok (ane_graph_gather_elements (g, x, i, cases[c].axis, &error), &error);
        g_autofree char *what = g_strdup_printf ("gather_elements case %u %s", c, ane_dtype_to_string (dt));
        AneTensor *ins[2] = { vx, vi };

        add_output (g, "y", y);
        check_graph (what, g, ins, 2, &tol);
      }
}

/* argmax / argmin -> reduce_argmax / reduce_argmin on every axis, with and
 * without keepdims; integer data in a small range has ties (the first wins). */
static void
test_arg_reduce (void)
{
  static const gint64 xs[] = { 3, 4, 5 };

  for (int axis = -1; axis <= 2; axis++)
    for (int keep = 0; keep < 2; keep++)
      for (int integer = 0; integer < 2; integer++)
        for (int want_max = 0; want_max < 2; want_max++)
          {
            Tol tol = { EXACT, ANE_TARGET_IOS15, want_max ? "reduce_argmax" : "reduce_argmin" };
            AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
            g_autoptr(AneGraph) g = ane_graph_new ();
            g_autoptr(AneTensor) vx = integer ? rand_int ("x", dt, xs, 3, 740 + axis, -2, 2)
                                              : rand_f32 ("x", xs, 3, 740 + axis, -2, 2);
            g_autoptr(AneTensor) x = ane_test_input (g, "x", dt, xs, 3);
            g_autoptr(GError) error = NULL;
            g_autoptr(AneTensor) y = expect_ok (want_max ? ane_graph_argmax (g, x, axis, keep, &error)
                                                         : ane_graph_argmin (g, x, axis, keep, &error), &error);
            g_autofree char *what = g_strdup_printf ("%s axis %d keepdims %d %s", want_max ? "argmax" : "argmin",
                                                     axis, keep, ane_dtype_to_string (dt));

            add_output (g, "y", y);
            check_graph (what, g, &vx, 1, &tol);
          }
}

/* resize: every coordinate mode and nearest mode, up and down, integer and
 * fractional scales; the MIL op each path must take is checked. */
static void
test_resize (void)
{
  static const gint64 xs[] = { 1, 2, 5, 6 };
  static const struct {
    gint64 h, w;
    double sh, sw;
    const char *mode, *coord, *nearest, *must;
  } cases[] = {
    { 10, 12, 2, 2, "nearest", "asymmetric", "floor", "upsample_nearest_neighbor" },
    { 15, 6, 3, 1, "nearest", "half_pixel", "round_prefer_floor", "upsample_nearest_neighbor" },
    { 7, 9, 1.5, 1.5, "nearest", "asymmetric", "floor", "gather" },
    { 3, 4, 0, 0, "nearest", "half_pixel", "round_prefer_ceil", "gather" },
    { 8, 8, 0, 0, "nearest", "align_corners", "ceil", "gather" },
    { 10, 12, 2, 2, "nearest", "tf_half_pixel_for_nn", "round_prefer_floor", "gather" },
    { 10, 12, 2, 2, "linear", "half_pixel", "floor", "matmul" },
    { 10, 12, 2, 2, "linear", "pytorch_half_pixel", "floor", "matmul" },
    { 7, 13, 0, 0, "linear", "align_corners", "floor", "matmul" },
    { 3, 4, 0.6, 0.7, "linear", "asymmetric", "floor", "matmul" },
    { 1, 6, 0, 0, "linear", "pytorch_half_pixel", "floor", "matmul" },
    { 5, 9, 0, 0, "linear", "half_pixel", "floor", "matmul" },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int integer = 0; integer < (g_str_equal (cases[c].mode, "nearest") ? 2 : 1); integer++)
      {
        /* linear: each output mixes two inputs of |x| < 2 and is rounded
         * after each of the two matmuls, so its error is bounded by the
         * inputs' size, not its own (cancellation): 2 roundings of half an
         * ulp of 2, with a factor 2 margin: 4 ulps of 1 */
        Tol tol = { ARITH, ANE_TARGET_IOS15, integer ? "gather" : cases[c].must, 4 };
        AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = integer ? rand_int ("x", dt, xs, 4, 760 + c, -1000, 1000)
                                          : rand_f32 ("x", xs, 4, 760 + c, -2, 2);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", dt, xs, 4);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = expect_ok (ane_graph_resize (g, x, cases[c].h, cases[c].w, cases[c].sh, cases[c].sw,
                                                              cases[c].mode, cases[c].coord, cases[c].nearest, &error),
                                            &error);
        g_autofree char *what = g_strdup_printf ("resize %s %s %s to %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " %s",
                                                 cases[c].mode, cases[c].coord, cases[c].nearest, cases[c].h,
                                                 cases[c].w, ane_dtype_to_string (dt));

        add_output (g, "y", y);
        check_graph (what, g, &vx, 1, &tol);
      }
}

/* --- top_k --------------------------------------------------------------------- */

static void
test_top_k (void)
{
  static const gint64 xs[] = { 3, 7 };

  for (int axis = -1; axis <= 0; axis++)
    for (gint64 k = 1; k <= 3; k += 2)
      for (int integer = 0; integer < 2; integer++)
        {
          static const Tol tol = { EXACT, ANE_TARGET_IOS15, "topk" };
          AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
          g_autoptr(AneGraph) g = ane_graph_new ();
          g_autoptr(AneTensor) vx = integer ? rand_int ("x", dt, xs, 2, 170 + k, -1000, 1000)
                                            : rand_f32 ("x", xs, 2, 170 + k, -2, 2);
          g_autoptr(AneTensor) x = ane_test_input (g, "x", dt, xs, 2);
          g_autoptr(GError) error = NULL;
          AneTensor *idx = NULL;
          g_autoptr(AneTensor) v = expect_ok (ane_graph_top_k (g, x, k, axis, &idx, &error), &error);
          g_autoptr(AneTensor) ix = idx;
          g_autofree char *what = g_strdup_printf ("top_k k %" G_GINT64_FORMAT " axis %d %s", k, axis,
                                                   ane_dtype_to_string (dt));

          add_output (g, "v", v);
          add_output (g, "i", ix);
          check_graph (what, g, &vx, 1, &tol);
        }
}

/* Ties keep the lower index first (a stable order, as the IR); NaN ranks
 * above every number; int8 values through the iOS17 topk. */
static void
test_top_k_ties (void)
{
  static const gint64 xs[] = { 2, 8 };
  static const double xv[] = { 1, 3, 3, 2, 3, 1, 0, 3,
                               -1, -1, -1, -1, 5, 5, -1, 5 };
  static const double nv[] = { 1, NAN, 3, 2, NAN, 1, 0, 3,
                               -1, -1, NAN, -1, 5, 5, -1, 5 };

  for (int nan = 0; nan < 2; nan++)
    for (gint64 k = 1; k <= 8; k += 3)
      {
        static const Tol tol = { EXACT, ANE_TARGET_IOS15, "topk" };
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 2, nan ? nv : xv);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
        g_autoptr(GError) error = NULL;
        AneTensor *idx = NULL;
        g_autoptr(AneTensor) v = expect_ok (ane_graph_top_k (g, x, k, -1, &idx, &error), &error);
        g_autoptr(AneTensor) ix = idx;
        g_autofree char *what = g_strdup_printf ("top_k ties%s k %" G_GINT64_FORMAT, nan ? " and NaN" : "", k);

        add_output (g, "v", v);
        add_output (g, "i", ix);
        check_graph (what, g, &vx, 1, &tol);
      }

  {
    static const Tol tol = { EXACT, ANE_TARGET_IOS17, "topk" };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) vx = ane_test_tensor_values ("x", ANE_DTYPE_INT32, xs, 2, xv);
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_INT32, xs, 2);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x8 = expect_ok (ane_graph_cast (g, x, ANE_DTYPE_INT8, &error), &error);
    AneTensor *idx = NULL;
    g_autoptr(AneTensor) v = expect_ok (ane_graph_top_k (g, x8, 4, 1, &idx, &error), &error);
    g_autoptr(AneTensor) ix = idx;
    g_autoptr(AneTensor) vi = to_int32 (g, v);

    add_output (g, "v", vi);
    add_output (g, "i", ix);
    check_graph ("top_k int8 ties", g, &vx, 1, &tol);
  }
}

/* --- scatter_add --------------------------------------------------------------- */

static void
test_scatter_add (void)
{
  static const struct { gint64 xs[3]; gint64 is[3]; guint rank; int axis; } cases[] = {
    { { 4, 3 }, { 6, 3 }, 2, 0 },          /* indices as large as x off the axis */
    { { 4, 3 }, { 5, 2 }, 2, 0 },          /* shorter off the axis: padded */
    { { 3, 5 }, { 2, 7 }, 2, 1 },          /* axis 1, padded on axis 0 */
    { { 3, 4, 5 }, { 2, 3, 2 }, 3, -1 },   /* two short axes */
    { { 3, 4, 5 }, { 3, 6, 5 }, 3, 1 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int integer = 0; integer < 2; integer++)
      {
        static const Tol tol = { ARITH, ANE_TARGET_IOS15, "scatter_along_axis" };
        AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
        guint r = cases[c].rank, axis = (guint) ((cases[c].axis + (int) r) % (int) r);
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = integer ? rand_int ("x", dt, cases[c].xs, r, 180 + c, -100, 100)
                                          : rand_f32 ("x", cases[c].xs, r, 180 + c, -2, 2);
        g_autoptr(AneTensor) vu = integer ? rand_int ("u", dt, cases[c].is, r, 190 + c, -100, 100)
                                          : rand_f32 ("u", cases[c].is, r, 190 + c, -2, 2);
        g_autoptr(AneTensor) vi = rand_int ("i", ANE_DTYPE_INT32, cases[c].is, r, 200 + c, 0,
                                            (gint32) cases[c].xs[axis] - 1);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", dt, cases[c].xs, r);
        g_autoptr(AneTensor) i = ane_test_input (g, "i", ANE_DTYPE_INT32, cases[c].is, r);
        g_autoptr(AneTensor) u = ane_test_input (g, "u", dt, cases[c].is, r);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = expect_ok (ane_graph_scatter_add (g, x, i, u, cases[c].axis, &error), &error);
        g_autofree char *what = g_strdup_printf ("scatter_add case %u %s", c, ane_dtype_to_string (dt));
        AneTensor *ins[] = { vx, vi, vu };

        add_output (g, "y", y);
        check_graph (what, g, ins, 3, &tol);
      }
}

/* -0.0 in x stays -0.0 where the padding adds -0.0 to it, and int8 data
 * saturates (iOS17+). */
static void
test_scatter_add_special (void)
{
  static const gint64 xs[] = { 2, 3 }, is[] = { 1, 2 };
  static const double xv[] = { -0.0, 1, -0.0, 2, -0.0, 3 }, iv[] = { 1, 0 }, uv[] = { 5, 7 };

  {
    static const Tol tol = { EXACT, ANE_TARGET_IOS15, "scatter_along_axis" };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) vx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 2, xv);
    g_autoptr(AneTensor) vi = ane_test_tensor_values ("i", ANE_DTYPE_INT32, is, 2, iv);
    g_autoptr(AneTensor) vu = ane_test_tensor_values ("u", ANE_DTYPE_FLOAT32, is, 2, uv);
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
    g_autoptr(AneTensor) i = ane_test_input (g, "i", ANE_DTYPE_INT32, is, 2);
    g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT32, is, 2);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) y = expect_ok (ane_graph_scatter_add (g, x, i, u, 0, &error), &error);
    AneTensor *ins[] = { vx, vi, vu };
    g_autoptr(GPtrArray) got = NULL;

    add_output (g, "y", y);
    check_graph ("scatter_add -0.0 padding", g, ins, 3, &tol);
    got = run_backend (g, ANE_BACKEND_CPU, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, ins, 3, &error);
    g_assert_no_error (error);
    /* x[0, 2] = -0.0 received the -0.0 padding and must keep its sign */
    g_assert_true (signbit (ane_tensor_get_value (g_ptr_array_index (got, 0), 2)));
  }
  {
    static const gint64 s8[] = { 4 };
    static const double x8[] = { 100, -100, 0, 5 }, i8[] = { 0, 0, 1, 1, 3 }, u8[] = { 20, 10, -20, -10, 1 };
    static const gint64 si[] = { 5 };
    static const Tol tol = { EXACT, ANE_TARGET_IOS17, "scatter_along_axis" };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) vx = ane_test_tensor_values ("x", ANE_DTYPE_INT32, s8, 1, x8);
    g_autoptr(AneTensor) vi = ane_test_tensor_values ("i", ANE_DTYPE_INT32, si, 1, i8);
    g_autoptr(AneTensor) vu = ane_test_tensor_values ("u", ANE_DTYPE_INT32, si, 1, u8);
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_INT32, s8, 1);
    g_autoptr(AneTensor) i = ane_test_input (g, "i", ANE_DTYPE_INT32, si, 1);
    g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_INT32, si, 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) xc = expect_ok (ane_graph_cast (g, x, ANE_DTYPE_INT8, &error), &error);
    g_autoptr(AneTensor) uc = expect_ok (ane_graph_cast (g, u, ANE_DTYPE_INT8, &error), &error);
    g_autoptr(AneTensor) y = expect_ok (ane_graph_scatter_add (g, xc, i, uc, 0, &error), &error);
    g_autoptr(AneTensor) yi = to_int32 (g, y);
    AneTensor *ins[] = { vx, vi, vu };

    add_output (g, "y", yi);
    check_graph ("scatter_add int8 saturating", g, ins, 3, &tol);
  }
  {
    static const gint64 s[] = { 4 }, si[] = { 2 };
    static const double bad[] = { 1, 4 };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) vx = rand_f32 ("x", s, 1, 210, -1, 1);
    g_autoptr(AneTensor) vi = ane_test_tensor_values ("i", ANE_DTYPE_INT32, si, 1, bad);
    g_autoptr(AneTensor) vu = rand_f32 ("u", si, 1, 211, -1, 1);
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 1);
    g_autoptr(AneTensor) i = ane_test_input (g, "i", ANE_DTYPE_INT32, si, 1);
    g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT32, si, 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) y = expect_ok (ane_graph_scatter_add (g, x, i, u, 0, &error), &error);
    AneTensor *ins[] = { vx, vi, vu };

    add_output (g, "y", y);
    check_graph_fails ("scatter_add index 4 of 4", g, ins, 3, ANE_TARGET_IOS15, "out of range");
  }
}

/* --- the elementwise family ------------------------------------------------------ */

typedef AneTensor *(*BinaryFunc) (AneGraph *, AneTensor *, AneTensor *, GError **);
typedef AneTensor *(*UnaryFunc) (AneGraph *, AneTensor *, GError **);

static void
test_binary (void)
{
  static const gint64 as[] = { 3, 4 }, bs[] = { 4 }, cs[] = { 3, 1 };
  static const struct { const char *name; BinaryFunc f; double lo, hi; gint32 ilo, ihi; } ops[] = {
    { "add", ane_graph_add, -4, 4, -1000, 1000 },
    { "sub", ane_graph_sub, -4, 4, -1000, 1000 },
    { "mul", ane_graph_mul, -4, 4, -1000, 1000 },
    { "div", ane_graph_div, -4, 4, -7, 7 },     /* integer div floors; /0 gives 0 */
    { "maximum", ane_graph_maximum, -4, 4, -1000, 1000 },
    { "minimum", ane_graph_minimum, -4, 4, -1000, 1000 },
    { "pow", ane_graph_pow, 0.1, 3, -3, 3 },
  };
  const gint64 *bshapes[] = { as, bs, cs };
  guint branks[] = { 2, 1, 2 };

  for (guint o = 0; o < G_N_ELEMENTS (ops); o++)
    for (guint s = 0; s < 3; s++)
      for (int integer = 0; integer < 2; integer++)
        {
          Tol tol = { ARITH, ANE_TARGET_IOS15, NULL };
          AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
          g_autoptr(AneGraph) g = ane_graph_new ();
          g_autoptr(AneTensor) va = integer ? rand_int ("a", dt, as, 2, 300 + o * 8 + s, ops[o].ilo, ops[o].ihi)
                                            : rand_f32 ("a", as, 2, 300 + o * 8 + s, ops[o].lo, ops[o].hi);
          g_autoptr(AneTensor) vb = integer ? rand_int ("b", dt, bshapes[s], branks[s], 400 + o * 8 + s,
                                                        g_str_equal (ops[o].name, "pow") ? 0 : ops[o].ilo,
                                                        g_str_equal (ops[o].name, "pow") ? 4 : ops[o].ihi)
                                            : rand_f32 ("b", bshapes[s], branks[s], 400 + o * 8 + s,
                                                        g_str_equal (ops[o].name, "pow") ? -2 : ops[o].lo, ops[o].hi);
          g_autoptr(AneTensor) a = ane_test_input (g, "a", dt, as, 2);
          g_autoptr(AneTensor) b = ane_test_input (g, "b", dt, bshapes[s], branks[s]);
          g_autoptr(GError) error = NULL;
          g_autoptr(AneTensor) y = expect_ok (ops[o].f (g, a, b, &error), &error);
          g_autofree char *what = g_strdup_printf ("%s %s broadcast case %u", ops[o].name, ane_dtype_to_string (dt), s);
          AneTensor *ins[] = { va, vb };

          add_output (g, "y", y);
          check_graph (what, g, ins, 2, &tol);
        }
}

static void
test_compare_where (void)
{
  static const gint64 as[] = { 3, 4 }, bs[] = { 4 };
  static const struct { const char *name; BinaryFunc f; } ops[] = {
    { "eq", ane_graph_eq }, { "ne", ane_graph_ne }, { "lt", ane_graph_lt },
    { "le", ane_graph_le }, { "gt", ane_graph_gt }, { "ge", ane_graph_ge },
  };

  for (guint o = 0; o < G_N_ELEMENTS (ops); o++)
    for (int integer = 0; integer < 2; integer++)
      {
        static const Tol tol = { EXACT, ANE_TARGET_IOS15, "select" };
        AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
        g_autoptr(AneGraph) g = ane_graph_new ();
        /* few distinct values, so equal pairs occur */
        g_autoptr(AneTensor) va = rand_int ("a", dt, as, 2, 500 + o, -2, 2);
        g_autoptr(AneTensor) vb = rand_int ("b", dt, bs, 1, 510 + o, -2, 2);
        g_autoptr(AneTensor) a = ane_test_input (g, "a", dt, as, 2);
        g_autoptr(AneTensor) b = ane_test_input (g, "b", dt, bs, 1);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) c = expect_ok (ops[o].f (g, a, b, &error), &error);
        g_autoptr(AneTensor) ci = to_int32 (g, c);
        g_autoptr(AneTensor) w = expect_ok (ane_graph_where (g, c, a, b, &error), &error);
        g_autofree char *what = g_strdup_printf ("%s + where %s", ops[o].name, ane_dtype_to_string (dt));
        AneTensor *ins[] = { va, vb };

        add_output (g, "c", ci);
        add_output (g, "w", w);
        check_graph (what, g, ins, 2, &tol);
      }

  /* float compares on random values, and where broadcasting a [3,1] cond */
  {
    static const gint64 cs[] = { 3, 1 };
    static const Tol tol = { EXACT, ANE_TARGET_IOS15, "select" };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) va = rand_f32 ("a", as, 2, 520, -1, 1);
    g_autoptr(AneTensor) vb = rand_f32 ("b", bs, 1, 521, -1, 1);
    g_autoptr(AneTensor) vc = rand_f32 ("c", cs, 2, 522, -1, 1);
    g_autoptr(AneTensor) a = ane_test_input (g, "a", ANE_DTYPE_FLOAT32, as, 2);
    g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, bs, 1);
    g_autoptr(AneTensor) c = ane_test_input (g, "c", ANE_DTYPE_FLOAT32, cs, 2);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) zero = expect_ok (ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 0.0, &error), &error);
    g_autoptr(AneTensor) cond = expect_ok (ane_graph_gt (g, c, zero, &error), &error);
    g_autoptr(AneTensor) lt = expect_ok (ane_graph_lt (g, a, b, &error), &error);
    g_autoptr(AneTensor) lti = to_int32 (g, lt);
    g_autoptr(AneTensor) w = expect_ok (ane_graph_where (g, cond, a, b, &error), &error);
    AneTensor *ins[] = { va, vb, vc };

    add_output (g, "lt", lti);
    add_output (g, "w", w);
    check_graph ("float compare + where [3,1] cond", g, ins, 3, &tol);
  }

  /* issue 10: a cond wider than both branches (MIL's select types its
   * result from a and b only, so the lowering broadcasts a first): scalar
   * branches (the decode step's causal mask), [3,4] branches under a
   * [2,3,4] cond, int32 branches of rank 1 under a [3,4] cond */
  {
    static const gint64 c3[] = { 2, 3, 4 }, s34[] = { 3, 4 }, s4[] = { 4 };
    static const Tol tol = { EXACT, ANE_TARGET_IOS15, "select" };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) vc = rand_f32 ("c", c3, 3, 530, -1, 1);
    g_autoptr(AneTensor) va = rand_f32 ("a", s34, 2, 531, -1, 1);
    g_autoptr(AneTensor) vb = rand_f32 ("b", s34, 2, 532, -1, 1);
    g_autoptr(AneTensor) vi = rand_int ("i", ANE_DTYPE_INT32, s4, 1, 533, -5, 5);
    g_autoptr(AneTensor) c = ane_test_input (g, "c", ANE_DTYPE_FLOAT32, c3, 3);
    g_autoptr(AneTensor) a = ane_test_input (g, "a", ANE_DTYPE_FLOAT32, s34, 2);
    g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, s34, 2);
    g_autoptr(AneTensor) i = ane_test_input (g, "i", ANE_DTYPE_INT32, s4, 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) zero = expect_ok (ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 0.0, &error), &error);
    g_autoptr(AneTensor) ninf = expect_ok (ane_graph_scalar (g, ANE_DTYPE_FLOAT32, -INFINITY, &error), &error);
    g_autoptr(AneTensor) cond = expect_ok (ane_graph_gt (g, c, zero, &error), &error);
    g_autoptr(AneTensor) mask = expect_ok (ane_graph_where (g, cond, ninf, zero, &error), &error);
    g_autoptr(AneTensor) wide = expect_ok (ane_graph_where (g, cond, a, b, &error), &error);
    g_autoptr(AneTensor) cond2 = expect_ok (ane_graph_gt (g, a, zero, &error), &error);
    g_autoptr(AneTensor) ints = expect_ok (ane_graph_where (g, cond2, i, i, &error), &error);
    AneTensor *ins[] = { vc, va, vb, vi };

    add_output (g, "mask", mask);
    add_output (g, "wide", wide);
    add_output (g, "ints", ints);
    check_graph ("where with a wider cond", g, ins, 4, &tol);
  }
}

static AneTensor *
graph_gelu_exact (AneGraph *g, AneTensor *x, GError **error)
{
  return ane_graph_gelu (g, x, ANE_GELU_EXACT, error);
}

static AneTensor *
graph_gelu_tanh (AneGraph *g, AneTensor *x, GError **error)
{
  return ane_graph_gelu (g, x, ANE_GELU_TANH, error);
}

static void
test_unary (void)
{
  static const gint64 xs[] = { 4, 6 };
  static const struct { const char *name; UnaryFunc f; double lo, hi; gboolean ints; } ops[] = {
    { "relu", ane_graph_relu, -3, 3, TRUE },
    { "sigmoid", ane_graph_sigmoid, -6, 6, FALSE },
    { "tanh", ane_graph_tanh, -3, 3, FALSE },
    { "gelu exact", graph_gelu_exact, -3, 3, FALSE },
    { "gelu tanh", graph_gelu_tanh, -3, 3, FALSE },
    { "silu", ane_graph_silu, -4, 4, FALSE },
    { "exp", ane_graph_exp, -4, 4, FALSE },
    { "log", ane_graph_log, 0.01, 10, FALSE },
    { "sqrt", ane_graph_sqrt, 0, 10, FALSE },
    { "rsqrt", ane_graph_rsqrt, 0.01, 10, FALSE },
    { "abs", ane_graph_abs, -3, 3, TRUE },
    { "neg", ane_graph_neg, -3, 3, TRUE },
    { "sin", ane_graph_sin, -6, 6, FALSE },
    { "cos", ane_graph_cos, -6, 6, FALSE },
    { "tan", ane_graph_tan, -1.4, 1.4, FALSE },
    { "atan", ane_graph_atan, -5, 5, FALSE },
    { "round", ane_graph_round, -5, 5, FALSE },
    { "erf", ane_graph_erf, -3, 3, FALSE },
  };

  for (guint o = 0; o < G_N_ELEMENTS (ops); o++)
    for (int integer = 0; integer < (ops[o].ints ? 2 : 1); integer++)
      {
        /* rsqrt: MIL adds epsilon 1e-12 inside the root (the IR does not):
         * relative 5e-13 at x >= 0.01, far below both bounds */
        Tol tol = { ARITH, ANE_TARGET_IOS15, NULL };
        AneDType dt = integer ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = integer ? rand_int ("x", dt, xs, 2, 600 + o, -1000, 1000)
                                          : rand_f32 ("x", xs, 2, 600 + o, ops[o].lo, ops[o].hi);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", dt, xs, 2);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = expect_ok (ops[o].f (g, x, &error), &error);
        g_autofree char *what = g_strdup_printf ("%s %s", ops[o].name, ane_dtype_to_string (dt));

        add_output (g, "y", y);
        check_graph (what, g, &vx, 1, &tol);
      }

  /* round: halves go to even (numpy) */
  {
    static const gint64 s[] = { 8 };
    static const double v[] = { 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, -3.51 };
    static const Tol tol = { EXACT, ANE_TARGET_IOS15, "round" };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) vx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, s, 1, v);
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) y = expect_ok (ane_graph_round (g, x, &error), &error);

    add_output (g, "y", y);
    check_graph ("round halves", g, &vx, 1, &tol);
  }
}

/* --- lowerings that use the shape kernels for other ops ------------------------- */

/* matmul with rank-1 operands: expand_dims + matmul + squeeze */
static void
test_matmul_vectors (void)
{
  static const gint64 vs[] = { 5 }, ms[] = { 5, 3 }, ms2[] = { 4, 5 };
  static const Tol tol = { 1e-5, 2 * FP16_EPS, ANE_TARGET_IOS15, "squeeze" };

  for (int kind = 0; kind < 3; kind++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      const gint64 *as = kind == 1 ? ms2 : vs, *bs = kind == 0 ? ms : vs;
      guint ar = kind == 1 ? 2 : 1, br = kind == 0 ? 2 : 1;
      g_autoptr(AneTensor) va = rand_f32 ("a", as, ar, 700 + kind, 0.25, 1);
      g_autoptr(AneTensor) vb = rand_f32 ("b", bs, br, 710 + kind, 0.25, 1);
      g_autoptr(AneTensor) a = ane_test_input (g, "a", ANE_DTYPE_FLOAT32, as, ar);
      g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, bs, br);
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) y = ane_graph_matmul (g, a, b, FALSE, FALSE, &error);
      AneTensor *ins[] = { va, vb };
      g_autofree char *what = g_strdup_printf ("matmul rank-1 case %d", kind);

      g_assert_no_error (error);
      add_output (g, "y", y);
      /* fp16: a dot product of 5 positive terms, rounded once by matmul's
       * kernel (linalg family, fp32 accumulation) and once more at most:
       * m = 2 */
      if (ane_cpu_kernel_lookup ("matmul") == NULL)
        {
          ane_test_skip ("no matmul kernel yet (linalg family)");
          return;
        }
      check_graph (what, g, ins, 2, &tol);
    }
}

/* --- MIL text: what the lowering never emits ------------------------------------ */

static GHashTable *
inputs_new (AneTensor *first,
            ...)
{
  GHashTable *h = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  va_list args;

  va_start (args, first);
  for (AneTensor *t = first; t; t = va_arg (args, AneTensor *))
    g_hash_table_insert (h, (gpointer) ane_tensor_get_name (t), t);
  va_end (args);
  return h;
}

static GPtrArray *
run_text (const char  *text,
          GHashTable  *inputs,
          GError     **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (text, -1, "test", &local);
  g_autoptr(AneCpuBackend) backend = NULL;

  if (program == NULL)
    g_error ("the test program does not parse: %s\n%s", local->message, text);
  backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, error);
  if (backend == NULL)
    return NULL;
  return ane_cpu_backend_run (backend, inputs, NULL, FALSE, NULL, error);
}

/* Asserts output o has the values: exactly (as stored: float outputs hold
 * the float rounding of each expected double), or within rtol. NaN matches
 * NaN; zeros must have the expected sign. */
static void
assert_output_near (GPtrArray    *out,
                    guint         o,
                    const double *expected,
                    gsize         n,
                    double        rtol)
{
  AneTensor *t = g_ptr_array_index (out, o);
  gboolean f = ane_dtype_is_float (ane_tensor_get_dtype (t));
  g_autofree char *label = g_strdup_printf ("output %u", o);
  g_autofree double *got = NULL, *want = g_new (double, MAX (n, 1));

  if (ane_tensor_get_n_elements (t) != (gint64) n)
    g_error ("output %u has %" G_GINT64_FORMAT " elements, expected %zu", o, ane_tensor_get_n_elements (t), n);
  got = ane_test_dup_doubles (t, NULL);
  for (gsize i = 0; i < n; i++)
    want[i] = f ? (double) (float) expected[i] : expected[i];
  ane_test_assert_close_doubles (label, got, want, n, rtol, 0.0);
  if (rtol == 0)
    for (gsize i = 0; i < n; i++)
      if (got[i] == 0 && signbit (got[i]) != signbit (want[i]))
        g_error ("output %u element %zu: got %g, expected %g (the sign of zero)", o, i, got[i], want[i]);
}

static void
assert_output (GPtrArray    *out,
               guint         o,
               const double *expected,
               gsize         n)
{
  assert_output_near (out, o, expected, n, 0.0);
}

static void
assert_shape (GPtrArray    *out,
              guint         o,
              const gint64 *shape,
              guint         rank)
{
  ane_test_assert_shape (g_ptr_array_index (out, o), shape, rank);
}

#define CHECK(o, arr) assert_output (out, o, arr, G_N_ELEMENTS (arr))

#define PROGRAM(sig, body, outs) \
  "program(1.3)\n{\n    func main<ios18>(" sig ") {\n" body "    } -> (" outs ");\n}\n"
#define C_INTS(name, n, vals) \
  "        tensor<int32, [" #n "]> " name " = const()[name = string(\"" name "\"), val = tensor<int32, [" #n "]>(" vals ")];\n"
#define C_BOOLS(name, n, vals) \
  "        tensor<bool, [" #n "]> " name " = const()[name = string(\"" name "\"), val = tensor<bool, [" #n "]>(" vals ")];\n"
#define C_INT(name, v) \
  "        int32 " name " = const()[name = string(\"" name "\"), val = int32(" #v ")];\n"
#define C_FP(name, v) \
  "        fp32 " name " = const()[name = string(\"" name "\"), val = fp32(" #v ")];\n"
#define C_BOOL(name, v) \
  "        bool " name " = const()[name = string(\"" name "\"), val = bool(" #v ")];\n"
#define C_STR(name, v) \
  "        string " name " = const()[name = string(\"" name "\"), val = string(\"" v "\")];\n"
#define OP(type, shape, name, call) \
  "        tensor<" type ", " shape "> " name " = " call "[name = string(\"" name "\")];\n"

/* offset + 0..n-1 as fp32 in shape */
static AneTensor *
seq (const char   *name,
     const gint64 *shape,
     guint         rank,
     double        offset)
{
  gint64 n = 1;
  g_autofree double *v = NULL;

  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  v = g_new (double, MAX (n, 1));
  for (gint64 i = 0; i < n; i++)
    v[i] = offset + (double) i;
  return ane_test_tensor_values (name, ANE_DTYPE_FLOAT32, shape, rank, v);
}

static GPtrArray *
run_text_ok (const char *text,
             GHashTable *inputs)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *out = run_text (text, inputs, &error);

  if (out == NULL)
    g_error ("the program failed: %s", error->message);
  return out;
}

/* x = arange(24).reshape(2, 3, 4) */
static const gint64 x234[] = { 2, 3, 4 };

/* Saturating casts as MIL text (issue 10): the lowered program printed,
 * parsed back and interpreted gives the reference's values for inputs
 * beyond every target's range, NaN and infinities -- the clamps are in the
 * program text itself, not in a kernel's choice. */
static void
test_cast_text (void)
{
  static const gint64 xs[] = { 12 };
  static const double xv[] = { 0.5, -1.7, 3e9, -3e9, 300.0, -300.0, 70000.0, -70000.0,
                               NAN, INFINITY, -INFINITY, 127.9 };
  static const AneDType tos[] = { ANE_DTYPE_INT32, ANE_DTYPE_INT8, ANE_DTYPE_UINT8, ANE_DTYPE_INT16 };

  for (guint c = 0; c < G_N_ELEMENTS (tos); c++)
    for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
      {
        AnePrecision p = precisions[pi];
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = ane_test_tensor_values ("x", ANE_DTYPE_FLOAT32, xs, 1, xv);
        g_autoptr(AneTensor) x16 = p == ANE_PRECISION_FLOAT16 ? half_copy (vx) : g_object_ref (vx);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 1);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = expect_ok (ane_graph_cast (g, x, tos[c], &error), &error);
        g_autoptr(AneTensor) yo = to_int32 (g, y);
        g_autoptr(AneMilProgram) prog = NULL;
        g_autoptr(GPtrArray) want = NULL, got = NULL;
        g_autoptr(GHashTable) ins = NULL;
        g_autofree char *text = NULL;
        g_autofree char *what = g_strdup_printf ("cast fp32 -> %s as MIL text [%s]", ane_dtype_to_string (tos[c]),
                                                 precision_name (p));

        add_output (g, "y", yo);
        prog = ane_test_lower (g, ANE_MIL_IOS18, p == ANE_PRECISION_FLOAT16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32);
        g_assert_cmpuint (ane_test_count_ops (prog, "clip"), ==, 1);
        text = ane_mil_text_print (prog, &error);
        g_assert_no_error (error);
        want = run_backend (g, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18, p, &x16, 1, &error);
        g_assert_no_error (error);
        ins = inputs_new (g_object_ref (x16), NULL);
        got = run_text (text, ins, &error);
        g_assert_no_error (error);
        compare_outputs (what, want, got, 0.0, 0.0);
      }
}

static void
test_text_slices (void)
{
  static const char *text = PROGRAM (
    "tensor<fp32, [2, 3, 4]> x, tensor<fp32, [2, 2]> u",
    C_INTS ("b0", 3, "[0, 0, 0]") C_INTS ("e0", 3, "[2, 3, 4]") C_INTS ("s2", 3, "[1, 2, 3]")
    C_INTS ("bn", 3, "[-1, -2, -4]") C_INTS ("en", 3, "[-3, 100, -1]") C_INTS ("sn", 3, "[-1, 1, 2]")
    C_INTS ("bc", 3, "[5, -2, -4]") C_INTS ("ec", 3, "[1, 0, 0]")
    C_BOOLS ("bm", 3, "[true, false, false]") C_BOOLS ("em", 3, "[false, true, true]")
    C_BOOLS ("all", 3, "[true, true, true]")
    C_BOOLS ("sq", 3, "[true, false, true]") C_INTS ("bsq", 3, "[1, 1, -1]") C_INTS ("rev", 3, "[-1, -1, -1]")
    C_INTS ("zb", 3, "[1, 0, 2]") C_INTS ("zs", 3, "[1, -1, 2]") C_INTS ("zb2", 3, "[-1, -2, 0]") C_INTS ("zs2", 3, "[-1, 2, 4]")
    C_INTS ("ub", 3, "[0, 1, 0]") C_INTS ("ue", 3, "[2, 2, 4]") C_INTS ("us", 3, "[1, 1, 2]")
    C_BOOLS ("usq", 3, "[false, true, false]")
    OP ("fp32", "[2, 2, 2]", "a", "slice_by_index(x = x, begin = b0, end = e0, stride = s2)")
    OP ("fp32", "[2, 2, 2]", "b", "slice_by_index(x = x, begin = bn, end = en, stride = sn)")
    OP ("fp32", "[1, 1, 2]", "c", "slice_by_index(x = x, begin = bc, end = ec, stride = s2, begin_mask = bm, end_mask = em)")
    OP ("fp32", "[2]", "d", "slice_by_index(x = x, begin = bsq, end = e0, squeeze_mask = sq)")
    OP ("fp32", "[2, 3, 4]", "e", "slice_by_index(x = x, begin = b0, end = e0, stride = rev, begin_mask = all, end_mask = all)")
    OP ("fp32", "[1, 3, 2]", "f", "slice_by_size(x = x, begin = zb, size = zs)")
    OP ("fp32", "[1, 2, 4]", "g", "slice_by_size(x = x, begin = zb2, size = zs2)")
    OP ("fp32", "[2, 3, 4]", "h", "slice_update(x = x, update = u, begin = ub, end = ue, stride = us, squeeze_mask = usq)"),
    "a, b, c, d, e, f, g, h");
  static const gint64 us[] = { 2, 2 };
  static const double uv[] = { 100, 101, 102, 103 };
  g_autoptr(GHashTable) in = inputs_new (seq ("x", x234, 3, 0),
                                         ane_test_tensor_values ("u", ANE_DTYPE_FLOAT32, us, 2, uv), NULL);
  g_autoptr(GPtrArray) out = run_text_ok (text, in);
  static const double a[] = { 0, 3, 8, 11, 12, 15, 20, 23 };             /* x[0:2, 0:3:2, 0:4:3] */
  static const double b[] = { 16, 18, 20, 22, 4, 6, 8, 10 };             /* x[-1:-3:-1, -2:100, -4:-1:2] */
  static const double c[] = { 4, 7 };                                    /* x[:1, -2::2, -4::3] */
  static const double d[] = { 19, 23 };                                  /* x[1, 1:3, -1] */
  static const double e[] = { 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12,
                              11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 };    /* x[::-1, ::-1, ::-1] */
  static const double f[] = { 14, 15, 18, 19, 22, 23 };                  /* x[1:2, 0:, 2:4] */
  static const double g[] = { 16, 17, 18, 19, 20, 21, 22, 23 };          /* x[-1:, -2:0, 0:4] */
  static const double h[] = { 0, 1, 2, 3, 100, 5, 101, 7, 8, 9, 10, 11,
                              12, 13, 14, 15, 102, 17, 103, 19, 20, 21, 22, 23 };  /* x[0:2, 1, ::2] = u */

  CHECK (0, a); CHECK (1, b); CHECK (2, c); CHECK (3, d); CHECK (4, e); CHECK (5, f); CHECK (6, g); CHECK (7, h);
}

static void
test_text_layout (void)
{
  static const char *text = PROGRAM (
    "tensor<fp32, [2, 3, 4]> x, tensor<fp32, [2, 3, 4]> w, tensor<fp32, [1, 3, 1, 2]> q",
    C_INT ("ax2", 2) C_INT ("ax1", 1) C_INT ("axm1", -1) C_INT ("ax0", 0) C_INT ("three", 3)
    C_INTS ("sizes", 2, "[1, 3]") C_BOOL ("yes", true)
    C_INTS ("reps", 3, "[1, 2, 1]") C_INTS ("padc", 4, "[1, 0, 2, 1]") C_INTS ("padr", 2, "[2, 1]") C_INTS ("pade", 2, "[3, 2]")
    C_FP ("seven", 7.0) C_STR ("reflect", "reflect") C_STR ("replicate", "replicate")
    C_INTS ("eaxes", 2, "[0, -1]") C_INTS ("raxes", 2, "[0, -1]")
    C_INTS ("shp0", 2, "[0, -1]") C_INTS ("shp17", 4, "[1, 0, -1, 0]")
    C_FP ("s1", 1.5) C_FP ("s2", -2.5)
    "        (tensor<fp32, [2, 3, 1]> sa, tensor<fp32, [2, 3, 3]> sb) = split(x = x, split_sizes = sizes, axis = ax2)[name = string(\"sp\")];\n"
    "        (tensor<fp32, [2, 1, 4]> t0, tensor<fp32, [2, 1, 4]> t1, tensor<fp32, [2, 1, 4]> t2) = split(x = x, num_splits = three, axis = ax1)[name = string(\"sp3\")];\n"
    OP ("fp32", "[2, 2, 3, 4]", "st", "stack(values = (x, w), axis = ax1)")
    OP ("fp32", "[2, 6, 4]", "il", "concat(values = (x, w), axis = ax1, interleave = yes)")
    OP ("fp32", "[2]", "sc", "concat(values = (s1, s2), axis = ax0)")
    OP ("fp32", "[2, 6, 4]", "ti", "tile(x = x, reps = reps)")
    OP ("fp32", "[2, 4, 7]", "pc", "pad(x = x, pad = padc, constant_val = seven)")
    OP ("fp32", "[2, 3, 7]", "pr", "pad(x = x, pad = padr, mode = reflect)")
    OP ("fp32", "[2, 3, 9]", "pe", "pad(x = x, pad = pade, mode = replicate)")
    OP ("fp32", "[1, 2, 3, 4, 1]", "ed", "expand_dims(x = x, axes = eaxes)")
    OP ("fp32", "[3, 2]", "sq", "squeeze(x = q)")
    OP ("fp32", "[2, 3, 4]", "rv", "reverse(x = x, axes = raxes)")
    OP ("fp32", "[6, 4]", "fl", "flatten2d(x = x, axis = axm1)")
    OP ("fp32", "[3, 8]", "r0", "reshape(x = x, shape = shp0)")   /* iOS17: the 0 aligns from the right */
    OP ("fp32", "[1, 2, 3, 4]", "r17", "reshape(x = x, shape = shp17)"),
    "sa, sb, t0, t1, t2, st, il, sc, ti, pc, pr, pe, ed, sq, rv, fl, r0, r17");
  static const gint64 qs[] = { 1, 3, 1, 2 };
  g_autoptr(GHashTable) in = inputs_new (seq ("x", x234, 3, 0), seq ("w", x234, 3, 100), seq ("q", qs, 4, 50), NULL);
  g_autoptr(GPtrArray) out = run_text_ok (text, in);
  static const double sa[] = { 0, 4, 8, 12, 16, 20 };
  static const double sb[] = { 1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15, 17, 18, 19, 21, 22, 23 };
  static const double t0[] = { 0, 1, 2, 3, 12, 13, 14, 15 }, t1[] = { 4, 5, 6, 7, 16, 17, 18, 19 };
  static const double t2[] = { 8, 9, 10, 11, 20, 21, 22, 23 };
  static const double st[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 100, 101, 102, 103, 104, 105, 106, 107, 108,
                               109, 110, 111, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 112, 113, 114, 115,
                               116, 117, 118, 119, 120, 121, 122, 123 };
  static const double il[] = { 0, 1, 2, 3, 100, 101, 102, 103, 4, 5, 6, 7, 104, 105, 106, 107, 8, 9, 10, 11, 108,
                               109, 110, 111, 12, 13, 14, 15, 112, 113, 114, 115, 16, 17, 18, 19, 116, 117, 118,
                               119, 20, 21, 22, 23, 120, 121, 122, 123 };
  static const double sc[] = { 1.5, -2.5 };
  static const double ti[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                               14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23 };
  static const double pc[] = { 7, 7, 7, 7, 7, 7, 7, 7, 7, 0, 1, 2, 3, 7, 7, 7, 4, 5, 6, 7, 7, 7, 7, 8, 9, 10, 11, 7,
                               7, 7, 7, 7, 7, 7, 7, 7, 7, 12, 13, 14, 15, 7, 7, 7, 16, 17, 18, 19, 7, 7, 7, 20, 21,
                               22, 23, 7 };
  static const double pr[] = { 2, 1, 0, 1, 2, 3, 2, 6, 5, 4, 5, 6, 7, 6, 10, 9, 8, 9, 10, 11, 10, 14, 13, 12, 13,
                               14, 15, 14, 18, 17, 16, 17, 18, 19, 18, 22, 21, 20, 21, 22, 23, 22 };
  static const double pe[] = { 0, 0, 0, 0, 1, 2, 3, 3, 3, 4, 4, 4, 4, 5, 6, 7, 7, 7, 8, 8, 8, 8, 9, 10, 11, 11, 11,
                               12, 12, 12, 12, 13, 14, 15, 15, 15, 16, 16, 16, 16, 17, 18, 19, 19, 19, 20, 20, 20,
                               20, 21, 22, 23, 23, 23 };
  static const double sq[] = { 50, 51, 52, 53, 54, 55 };
  static const double rv[] = { 15, 14, 13, 12, 19, 18, 17, 16, 23, 22, 21, 20, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8 };
  static const gint64 ed_shape[] = { 1, 2, 3, 4, 1 };
  static const double id[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23 };

  CHECK (0, sa); CHECK (1, sb); CHECK (2, t0); CHECK (3, t1); CHECK (4, t2); CHECK (5, st); CHECK (6, il);
  CHECK (7, sc); CHECK (8, ti); CHECK (9, pc); CHECK (10, pr); CHECK (11, pe);
  CHECK (12, id); assert_shape (out, 12, ed_shape, 5);
  CHECK (13, sq); CHECK (14, rv); CHECK (15, id); CHECK (16, id); CHECK (17, id);
}

static void
test_text_gather_scatter (void)
{
  static const char *text = PROGRAM (
    "tensor<fp32, [2, 3, 4]> x, tensor<fp32, [4, 3]> d, tensor<fp32, [3, 3]> u, tensor<fp32, [4, 2]> u1, "
    "tensor<fp32, [4, 2]> su",
    C_INT ("ax0", 0) C_INT ("ax1", 1) C_INT ("ax2", 2) C_INT ("one", 1)
    "        tensor<int32, [2, 2]> bi = const()[name = string(\"bi\"), val = tensor<int32, [2, 2]>([2, 0, 1, 1])];\n"
    "        tensor<int32, [2, 2, 4]> gi = const()[name = string(\"gi\"), val = tensor<int32, [2, 2, 4]>([2, 0, 1, 2, 0, 0, 1, 1, 1, 2, 0, 0, 2, 2, 2, 1])];\n"
    "        tensor<int32, [2, 2]> ni = const()[name = string(\"ni\"), val = tensor<int32, [2, 2]>([1, 2, 0, -1])];\n"
    "        tensor<int32, [2, 1, 1]> nbi = const()[name = string(\"nbi\"), val = tensor<int32, [2, 1, 1]>([2, 0])];\n"
    C_INTS ("si", 3, "[1, 3, 1]") C_INTS ("si1", 2, "[2, 0]") C_INTS ("neg", 3, "[-3, -1, 1]")
    "        tensor<int32, [4, 2]> sai = const()[name = string(\"sai\"), val = tensor<int32, [4, 2]>([2, 2, 0, 1, 1, 1, 0, 2])];\n"
    "        tensor<int32, [3, 1]> ndi = const()[name = string(\"ndi\"), val = tensor<int32, [3, 1]>([1, 3, 1])];\n"
    "        tensor<int32, [2, 2]> ndi2 = const()[name = string(\"ndi2\"), val = tensor<int32, [2, 2]>([0, 1, 2, 2])];\n"
    "        tensor<fp32, [2]> ndu = const()[name = string(\"ndu\"), val = tensor<fp32, [2]>([-5, -6])];\n"
    C_STR ("update", "update") C_STR ("add", "add") C_STR ("sub", "sub") C_STR ("mul", "mul") C_STR ("div", "div")
    C_STR ("max", "max") C_STR ("min", "min")
    OP ("fp32", "[2, 3, 2]", "gb", "gather(x = x, indices = bi, axis = ax2, batch_dims = one)")
    OP ("fp32", "[2, 2, 4]", "ga", "gather_along_axis(x = x, indices = gi, axis = ax1)")
    OP ("fp32", "[2, 4]", "gn", "gather_nd(x = x, indices = ni)")
    OP ("fp32", "[2, 1, 4]", "gnb", "gather_nd(x = x, indices = nbi, batch_dims = one)")
    OP ("fp32", "[4, 3]", "s_update", "scatter(data = d, indices = si, updates = u, axis = ax0, mode = update)")
    OP ("fp32", "[4, 3]", "s_add", "scatter(data = d, indices = si, updates = u)")
    OP ("fp32", "[4, 3]", "s_sub", "scatter(data = d, indices = si, updates = u, mode = sub)")
    OP ("fp32", "[4, 3]", "s_mul", "scatter(data = d, indices = si, updates = u, mode = mul)")
    OP ("fp32", "[4, 3]", "s_div", "scatter(data = d, indices = si, updates = u, mode = div)")
    OP ("fp32", "[4, 3]", "s_max", "scatter(data = d, indices = si, updates = u, mode = max)")
    OP ("fp32", "[4, 3]", "s_min", "scatter(data = d, indices = si, updates = u, mode = min)")
    OP ("fp32", "[4, 3]", "s_ax1", "scatter(data = d, indices = si1, updates = u1, axis = ax1, mode = add)")
    OP ("fp32", "[4, 3]", "s_neg", "scatter(data = d, indices = neg, updates = u, mode = add)")
    OP ("fp32", "[4, 3]", "sa_update", "scatter_along_axis(data = d, indices = sai, updates = su, axis = ax1, mode = update)")
    OP ("fp32", "[4, 3]", "sa_max", "scatter_along_axis(data = d, indices = sai, updates = su, axis = ax1, mode = max)")
    OP ("fp32", "[4, 3]", "nd_add", "scatter_nd(data = d, indices = ndi, updates = u)")
    OP ("fp32", "[4, 3]", "nd_update", "scatter_nd(data = d, indices = ndi2, updates = ndu, mode = update)"),
    "gb, ga, gn, gnb, s_update, s_add, s_sub, s_mul, s_div, s_max, s_min, s_ax1, s_neg, sa_update, sa_max, nd_add, nd_update");
  static const gint64 ds[] = { 4, 3 }, us[] = { 3, 3 }, u1s[] = { 4, 2 };
  static const double uv[] = { 10, 20, 30, 40, 50, 60, 70, 80, 90 }, u1v[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  static const double suv[] = { -1, -2, -3, -4, 5, 6, -7, 8 };
  g_autoptr(GHashTable) in = inputs_new (seq ("x", x234, 3, 0), seq ("d", ds, 2, 0),
                                         ane_test_tensor_values ("u", ANE_DTYPE_FLOAT32, us, 2, uv),
                                         ane_test_tensor_values ("u1", ANE_DTYPE_FLOAT32, u1s, 2, u1v),
                                         ane_test_tensor_values ("su", ANE_DTYPE_FLOAT32, u1s, 2, suv), NULL);
  g_autoptr(GPtrArray) out = run_text_ok (text, in);
  static const double gb[] = { 2, 0, 6, 4, 10, 8, 13, 13, 17, 17, 21, 21 };
  static const double ga[] = { 8, 1, 6, 11, 0, 1, 6, 7, 16, 21, 14, 15, 20, 21, 22, 19 };
  static const double gn[] = { 20, 21, 22, 23, 8, 9, 10, 11 };   /* x[1, 2], x[0, -1] (wrapped: no validate_indices) */
  static const double gnb[] = { 8, 9, 10, 11, 12, 13, 14, 15 };
  static const double s_update[] = { 0, 1, 2, 70, 80, 90, 6, 7, 8, 40, 50, 60 };   /* the last repeat wins */
  static const double s_add[] = { 0, 1, 2, 83, 104, 125, 6, 7, 8, 49, 60, 71 };     /* default mode add */
  static const double s_sub[] = { 0, 1, 2, -77, -96, -115, 6, 7, 8, -31, -40, -49 };
  static const double s_mul[] = { 0, 1, 2, 2100, 6400, 13500, 6, 7, 8, 360, 500, 660 };
  static const double s_div[] = { 0, 1, 2, 3.0 / 10 / 70, 4.0 / 20 / 80, 5.0 / 30 / 90, 6, 7, 8,
                                   9.0 / 40, 10.0 / 50, 11.0 / 60 };
  static const double s_max[] = { 0, 1, 2, 70, 80, 90, 6, 7, 8, 40, 50, 60 };
  static const double s_min[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
  static const double s_ax1[] = { 2, 1, 3, 7, 4, 8, 12, 7, 13, 17, 10, 18 };
  static const double s_neg[] = { 0, 1, 2, 83, 104, 125, 6, 7, 8, 49, 60, 71 };   /* -3 -> 1, -1 -> 3 */
  static const double sa_update[] = { 0, 1, -2, -3, -4, 5, 6, 6, 8, -7, 10, 8 };
  static const double sa_max[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
  static const double nd_update[] = { 0, -5, 2, 3, 4, 5, 6, 7, -6, 9, 10, 11 };

  CHECK (0, gb); CHECK (1, ga); CHECK (2, gn); CHECK (3, gnb); CHECK (4, s_update); CHECK (5, s_add);
  CHECK (6, s_sub); CHECK (7, s_mul); CHECK (8, s_div); CHECK (9, s_max); CHECK (10, s_min); CHECK (11, s_ax1);
  CHECK (12, s_neg); CHECK (13, sa_update); CHECK (14, sa_max); CHECK (15, s_add); CHECK (16, nd_update);
}

static void
test_text_reduce_sort (void)
{
  static const char *text = PROGRAM (
    "tensor<fp32, [3, 4]> r, tensor<fp32, [3, 4]> t, tensor<int32, [3, 4]> ti, tensor<fp32, [2, 3]> inf",
    C_INTS ("a1", 1, "[1]") C_INTS ("a0", 1, "[0]") C_BOOL ("yes", true) C_INT ("one", 1) C_INT ("zero", 0)
    C_INT ("m1", -1) C_INT ("two", 2) C_BOOL ("no", false)
    "        tensor<int32, [0]> none = const()[name = string(\"none\"), val = tensor<int32, [0]>([])];\n"
    C_FP ("three", 3.0) C_INT ("is1", 1) C_INT ("ie10", 10) C_INT ("is3", 3)
    C_FP ("f0", 0.0) C_FP ("f1", 1.0) C_FP ("fq", 0.25) C_INTS ("fshape", 2, "[2, 3]") C_FP ("fv", 1.5)
    OP ("fp32", "[3]", "l1", "reduce_l1_norm(x = r, axes = a1)")
    OP ("fp32", "[1, 4]", "l2", "reduce_l2_norm(x = r, axes = a0, keep_dims = yes)")
    OP ("fp32", "[3, 4]", "rp", "add(x = r, y = three)")
    OP ("fp32", "[3]", "ls", "reduce_log_sum(x = rp, axes = a1)")
    OP ("fp32", "[3]", "lse", "reduce_log_sum_exp(x = r, axes = a1)")
    OP ("fp32", "[]", "ssq", "reduce_sum_square(x = r)")
    OP ("fp32", "[3, 4]", "empty", "reduce_sum(x = r, axes = none)")
    OP ("int32", "[3]", "amax", "reduce_argmax(x = t, axis = one)")
    OP ("int32", "[1, 4]", "amin", "reduce_argmin(x = t, axis = zero, keep_dims = yes)")
    OP ("fp32", "[2]", "lse_inf", "reduce_log_sum_exp(x = inf, axes = a1)")
    OP ("int32", "[3]", "isum", "reduce_mean(x = ti, axes = a1)")
    "        (tensor<fp32, [2, 4]> kv, tensor<int32, [2, 4]> ki) = topk(x = t, k = two, axis = zero, ascending = yes)[name = string(\"tk\")];\n"
    "        (tensor<fp32, [3, 4]> av, tensor<int32, [3, 4]> ai) = topk(x = t, k = m1)[name = string(\"tk_all\")];\n"
    "        tensor<fp32, [3, 1]> vo = topk(x = t, return_indices = no)[name = string(\"vo\")];\n"
    OP ("int32", "[3, 4]", "as", "argsort(x = t, ascending = yes)")
    OP ("fp32", "[3, 4]", "cs", "cumsum(x = r, axis = m1, exclusive = yes, reverse = yes)")
    OP ("int32", "[3]", "rg", "range_1d(start = is1, end = ie10, step = is3)")
    OP ("fp32", "[4]", "rgf", "range_1d(start = f0, end = f1, step = fq)")
    OP ("fp32", "[2, 3]", "fi", "fill(shape = fshape, value = fv)")
    OP ("fp32", "[3, 4]", "fl", "fill_like(ref_tensor = ti, value = fv)")
    OP ("int32", "[2]", "sh", "shape(x = inf)"),
    "l1, l2, ls, lse, ssq, empty, amax, amin, lse_inf, isum, kv, ki, av, ai, vo, as, cs, rg, rgf, fi, fl, sh");
  static const gint64 s34[] = { 3, 4 }, s23[] = { 2, 3 };
  static const double rv[] = { -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0 };
  static const double tv[] = { 1, 3, 3, 0, 2, 2, 2, 2, 0, -1, 5, 5 };
  static const double tiv[] = { 1, 2, 4, -10, 5, 5, 5, 6, -3, -3, -3, -2 };
  static const double infv[] = { -INFINITY, -INFINITY, -INFINITY, 1, INFINITY, 2 };
  g_autoptr(GHashTable) in = inputs_new (ane_test_tensor_values ("r", ANE_DTYPE_FLOAT32, s34, 2, rv),
                                         ane_test_tensor_values ("t", ANE_DTYPE_FLOAT32, s34, 2, tv),
                                         ane_test_tensor_values ("ti", ANE_DTYPE_INT32, s34, 2, tiv),
                                         ane_test_tensor_values ("inf", ANE_DTYPE_FLOAT32, s23, 2, infv), NULL);
  g_autoptr(GPtrArray) out = run_text_ok (text, in);
  static const double l1[] = { 7, 2, 9 };
  static const double l2[] = { 2.958039891549808, 2.8284271247461903, 2.958039891549808, 3.3166247903554 };
  static const double ls[] = { 1.6094379124341003, 2.5649493574615367, 3.044522437723423 };
  static const double lse[] = { -0.2126613283016705, 1.7873386716983295, 3.7873386716983295 };
  static const double ssq[] = { 36.5 };
  static const double amax[] = { 1, 0, 2 }, amin[] = { 2, 2, 1, 0 };   /* ties: the first */
  static const double lse_inf[] = { -INFINITY, INFINITY };
  static const double isum[] = { -0.0, 5, -2 };   /* int mean truncates: -3/4 -> 0, 21/4 -> 5, -11/4 -> -2 */
  static const double kv[] = { 0, -1, 2, 0, 1, 2, 3, 2 }, ki[] = { 2, 2, 1, 0, 0, 1, 0, 1 };
  static const double av[] = { 3, 3, 1, 0, 2, 2, 2, 2, 5, 5, 0, -1 }, ai[] = { 1, 2, 0, 3, 0, 1, 2, 3, 2, 3, 0, 1 };
  static const double vo[] = { 3, 2, 5 };
  static const double as[] = { 3, 0, 1, 2, 0, 1, 2, 3, 1, 0, 2, 3 };
  static const double cs[] = { -4.5, -2.5, -1.0, 0, 1.5, 1.5, 1.0, 0, 7.5, 5.5, 3.0, 0 };
  static const double rg[] = { 1, 4, 7 }, rgf[] = { 0, 0.25, 0.5, 0.75 };
  static const double fi[] = { 1.5, 1.5, 1.5, 1.5, 1.5, 1.5 };
  static const double fl[] = { 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5 };
  static const double sh[] = { 2, 3 };

  CHECK (0, l1);
  assert_output_near (out, 1, l2, 4, 1e-6);
  assert_output_near (out, 2, ls, 3, 1e-6);
  assert_output_near (out, 3, lse, 3, 1e-6);
  CHECK (4, ssq); CHECK (5, rv); CHECK (6, amax); CHECK (7, amin); CHECK (8, lse_inf);
  assert_output_near (out, 9, isum, 3, 1e-9);
  CHECK (10, kv); CHECK (11, ki); CHECK (12, av); CHECK (13, ai); CHECK (14, vo); CHECK (15, as); CHECK (16, cs);
  CHECK (17, rg); CHECK (18, rgf); CHECK (19, fi); CHECK (20, fl); CHECK (21, sh);
}

static void
test_text_band_part (void)
{
  static const char *text = PROGRAM (
    "tensor<fp32, [2, 3, 4]> x",
    C_INT ("lo", 1) C_INT ("up", 0) C_INT ("all", -1)
    OP ("fp32", "[2, 3, 4]", "b", "band_part(x = x, lower = lo, upper = up)")
    OP ("fp32", "[2, 3, 4]", "u", "band_part(x = x, lower = up)"),
    "b, u");
  g_autoptr(GHashTable) in = inputs_new (seq ("x", x234, 3, 0), NULL);
  g_autoptr(GPtrArray) out = run_text_ok (text, in);
  static const double b[] = { 0, 0, 0, 0, 4, 5, 0, 0, 0, 9, 10, 0, 12, 0, 0, 0, 16, 17, 0, 0, 0, 21, 22, 0 };
  static const double u[] = { 0, 1, 2, 3, 0, 5, 6, 7, 0, 0, 10, 11, 12, 13, 14, 15, 0, 17, 18, 19, 0, 0, 22, 23 };

  CHECK (0, b); CHECK (1, u);
}

/* Negative indices before iOS17 (no validate_indices) wrap; with
 * validate_indices (iOS17+) they, and indices past the end, are errors. */
static void
test_text_index_rules (void)
{
#define INDEX_RULES_TEXT PROGRAM ( \
    "tensor<fp32, [4, 2]> x", \
    C_INT ("ax0", 0) C_BOOL ("yes", true) C_BOOL ("no", false) \
    C_INTS ("neg", 2, "[-1, -4]") C_INTS ("big", 2, "[0, 4]") \
    OP ("fp32", "[2, 2]", "y", "gather(x = x, indices = %s, axis = ax0%s)"), \
    "y")
  static const gint64 xs[] = { 4, 2 };
  static const struct { const char *idx, *extra, *error; } cases[] = {
    { "neg", "", NULL },
    { "neg", ", validate_indices = yes", "negative" },
    { "neg", ", validate_indices = no", "negative" },
    { "big", ", validate_indices = yes", "out of range" },
    { "big", "", "out of range" },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *text = g_strdup_printf (INDEX_RULES_TEXT, cases[c].idx, cases[c].extra);
      g_autoptr(GHashTable) in = inputs_new (seq ("x", xs, 2, 0), NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) out = run_text (text, in, &error);

      if (cases[c].error == NULL)
        {
          static const double want[] = { 6, 7, 0, 1 };

          g_assert_no_error (error);
          CHECK (0, want);
        }
      else
        {
          g_assert_null (out);
          g_assert_nonnull (error);
          if (strstr (error->message, cases[c].error) == NULL)
            g_error ("case %u: '%s' does not mention '%s'", c, error->message, cases[c].error);
        }
    }
}

/* Malformed programs fail with a message naming the problem. */
static void
test_text_malformed (void)
{
  static const struct { const char *body; const char *error; } cases[] = {
    { C_INTS ("s", 1, "[5]") OP ("fp32", "[5]", "y", "reshape(x = x, shape = s)"), "cannot reshape" },
    { C_INTS ("s", 2, "[-1, -1]") OP ("fp32", "[2, 3]", "y", "reshape(x = x, shape = s)"), "more than one -1" },
    { C_INTS ("p", 2, "[0, 0]") OP ("fp32", "[2, 3]", "y", "transpose(x = x, perm = p)"), "twice" },
    { C_INTS ("p", 2, "[1, 0]") OP ("fp32", "[2, 3]", "y", "transpose(x = x, perm = p)"), "declared with shape [2, 3]" },
    { C_INT ("a", 0) OP ("fp32", "[4, 3]", "y", "concat(values = (x, z2), axis = a)"), "does not match" },
    { C_INT ("a", 1) C_INTS ("s", 2, "[1, 1]")
      "        (tensor<fp32, [2, 1]> y, tensor<fp32, [2, 1]> y2) = split(x = x, split_sizes = s, axis = a)[name = string(\"y\")];\n",
      "add up to" },
    { C_INT ("k", 4) "        (tensor<fp32, [2, 4]> y, tensor<int32, [2, 4]> yi) = topk(x = x, k = k)[name = string(\"y\")];\n",
      "outside [0, 3]" },
    { C_INT ("a", -2) OP ("fp32", "[2, 3]", "y", "cumsum(x = x, axis = a)"), "outside MIL's range" },
    { C_INTS ("p", 2, "[3, 0]") C_STR ("m", "reflect") OP ("fp32", "[2, 6]", "y", "pad(x = x, pad = p, mode = m)"),
      "more than size - 1" },
    { C_INTS ("r", 2, "[1, 0]") OP ("fp32", "[2, 0]", "y", "tile(x = x, reps = r)"), "must be > 0" },
    { C_INTS ("b", 2, "[0, 5]") C_INTS ("e", 2, "[1, 3]") C_BOOLS ("q", 2, "[false, true]")
      OP ("fp32", "[1]", "y", "slice_by_index(x = x, begin = b, end = e, squeeze_mask = q)"), "selects no element" },
    { C_INTS ("b", 2, "[0, 2]") C_INTS ("s", 2, "[2, 2]") OP ("fp32", "[2, 2]", "y", "slice_by_size(x = x, begin = b, size = s)"),
      "outside x" },
    { "        tensor<int32, [2, 2]> i = const()[name = string(\"i\"), val = tensor<int32, [2, 2]>([0, 1, 1, 0])];\n"
      C_INT ("a", 0) OP ("fp32", "[2, 3]", "y", "scatter_along_axis(data = x, indices = i, updates = z2, axis = a)"),
      "must have the size of data" },
    { C_INTS ("a", 2, "[1, 1]") OP ("fp32", "[2]", "y", "reduce_sum(x = x, axes = a)"), "twice" },
    { C_INTS ("a", 1, "[2]") OP ("fp32", "[2]", "y", "reduce_sum(x = x, axes = a)"), "out of range" },
    { C_STR ("m", "bogus") C_INT ("a", 0) C_INTS ("i", 1, "[0]")
      OP ("fp32", "[2, 3]", "y", "scatter(data = x, indices = i, updates = z3, axis = a, mode = m)"), "unknown scatter mode" },
    { C_INTS ("s", 2, "[2, 3]") OP ("fp32", "[3, 2]", "y", "fill(shape = s)"), "declared with shape [3, 2]" },
    /* elementwise family: operands that do not broadcast to the declared output */
    { OP ("fp32", "[2, 3]", "y", "add(x = x, y = z2)"), "do not broadcast" },
    { OP ("fp32", "[2, 2]", "y", "mul(x = z2, y = z3)"), "do not broadcast" },
    { "        tensor<bool, [2, 2]> c = const()[name = string(\"c\"), val = tensor<bool, [2, 2]>([true, false, true, true])];\n"
      OP ("fp32", "[2, 3]", "y", "select(cond = c, a = x, b = z)"), "do not broadcast" },
  };
  static const gint64 xs[] = { 2, 3 }, zs[] = { 2, 3 }, z2s[] = { 2, 2 }, z3s[] = { 1, 3 };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *text = g_strdup_printf ("program(1.3)\n{\n    func main<ios18>(tensor<fp32, [2, 3]> x, "
                                               "tensor<fp32, [2, 3]> z, tensor<fp32, [2, 2]> z2, "
                                               "tensor<fp32, [1, 3]> z3) {\n%s    } -> (y);\n}\n", cases[c].body);
      g_autoptr(GHashTable) in = inputs_new (seq ("x", xs, 2, 0), seq ("z", zs, 2, 0), seq ("z2", z2s, 2, 0),
                                             seq ("z3", z3s, 2, 0), NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) out = run_text (text, in, &error);

      if (out != NULL)
        g_error ("malformed case %u ran:\n%s", c, text);
      g_assert_nonnull (error);
      if (strstr (error->message, cases[c].error) == NULL)
        g_error ("malformed case %u: '%s' does not mention '%s'", c, error->message, cases[c].error);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/cpu/shape/reshape", test_reshape);
  g_test_add_func ("/ane/cpu/shape/reshape-kernel", test_reshape_uses_kernel);
  g_test_add_func ("/ane/cpu/shape/transpose", test_transpose);
  g_test_add_func ("/ane/cpu/shape/concat", test_concat);
  g_test_add_func ("/ane/cpu/shape/concat-int8-bool", test_concat_narrow_int);
  g_test_add_func ("/ane/cpu/shape/narrow", test_narrow);
  g_test_add_func ("/ane/cpu/shape/slice_update", test_slice_update);
  g_test_add_func ("/ane/cpu/shape/slice_update/int8-bool", test_slice_update_narrow_types);
  g_test_add_func ("/ane/cpu/shape/gather", test_gather);
  g_test_add_func ("/ane/cpu/shape/gather-dtypes", test_gather_dtypes);
  g_test_add_func ("/ane/cpu/shape/gather-out-of-range", test_gather_out_of_range);
  g_test_add_func ("/ane/cpu/shape/expand", test_expand);
  g_test_add_func ("/ane/cpu/shape/cast", test_cast);
  g_test_add_func ("/ane/cpu/shape/cast-text", test_cast_text);
  g_test_add_func ("/ane/cpu/shape/stop-gradient", test_stop_gradient);
  g_test_add_func ("/ane/cpu/shape/reduce", test_reduce);
  g_test_add_func ("/ane/cpu/shape/reduce-int", test_reduce_int);
  g_test_add_func ("/ane/cpu/shape/cumsum", test_cumsum);
  g_test_add_func ("/ane/cpu/shape/pad", test_pad);
  g_test_add_func ("/ane/cpu/shape/gather-elements", test_gather_elements);
  g_test_add_func ("/ane/cpu/shape/argmax-argmin", test_arg_reduce);
  g_test_add_func ("/ane/cpu/shape/resize", test_resize);
  g_test_add_func ("/ane/cpu/shape/top-k", test_top_k);
  g_test_add_func ("/ane/cpu/shape/top-k-ties", test_top_k_ties);
  g_test_add_func ("/ane/cpu/shape/scatter-add", test_scatter_add);
  g_test_add_func ("/ane/cpu/shape/scatter-add-special", test_scatter_add_special);
  g_test_add_func ("/ane/cpu/shape/binary", test_binary);
  g_test_add_func ("/ane/cpu/shape/compare-where", test_compare_where);
  g_test_add_func ("/ane/cpu/shape/unary", test_unary);
  g_test_add_func ("/ane/cpu/shape/matmul-vectors", test_matmul_vectors);
  g_test_add_func ("/ane/cpu/shape/text-slices", test_text_slices);
  g_test_add_func ("/ane/cpu/shape/text-layout", test_text_layout);
  g_test_add_func ("/ane/cpu/shape/text-gather-scatter", test_text_gather_scatter);
  g_test_add_func ("/ane/cpu/shape/text-reduce-sort", test_text_reduce_sort);
  g_test_add_func ("/ane/cpu/shape/text-band-part", test_text_band_part);
  g_test_add_func ("/ane/cpu/shape/text-index-rules", test_text_index_rules);
  g_test_add_func ("/ane/cpu/shape/text-malformed", test_text_malformed);
  return g_test_run ();
}
