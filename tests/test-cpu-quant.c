/* test-cpu-quant.c: the CPU interpreter's quantization, constexpr and state
 * kernels
 *
 * quantize, dequantize and the state ops are held against the IR reference
 * evaluator: each graph runs with ANE_BACKEND_REFERENCE and ANE_BACKEND_CPU
 * (the lowered MIL program, interpreted) at fp32 and fp16 compute precision
 * on the targets that have the ops, and the outputs are compared:
 * - integer outputs (quantize) must match exactly;
 * - fp32 programs: |got - expected| <= 1e-5 |expected| + 1e-6 max|expected|;
 * - fp16 programs: |got - expected| <= k 2^-10 max|expected| (2^-10: fp16's
 *   epsilon), k stated per test.
 * The constexpr ops are never emitted by the lowering (weights are consts),
 * so they are run from small MIL text programs with hand-computed results,
 * including the packed sub-byte immediates the plan unpacks. The conformance
 * pack (test-cpu-conformance.c) runs them from real coremltools packages.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "mil/ane-mil-text-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"

#define FP16_EPS (1.0 / 1024.0)

static void
program_free (AneMilProgram *p)
{
  if (p)
    protobuf_c_message_free_unpacked (&p->base, NULL);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilProgram, program_free)

/* --- the differential harness ----------------------------------------------- */

static AneTensor *
in_f32 (AneGraph     *g,
        const char   *name,
        const gint64 *shape,
        guint         rank)
{
  return ane_test_input (g, name, ANE_DTYPE_FLOAT32, shape, rank);
}

/* An int8/uint8 result as an interface value (int32). */
static void
output_int (AneGraph   *g,
            const char *name,
            AneTensor  *t)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) c = NULL;

  g_assert_nonnull (t);
  c = ane_graph_cast (g, t, ANE_DTYPE_INT32, &error);
  g_assert_no_error (error);
  ane_test_output (g, name, c);
}

static AneTensor *
cast (AneGraph  *g,
      AneTensor *x,
      AneDType   dtype)
{
  g_autoptr(GError) error = NULL;
  AneTensor *c = ane_graph_cast (g, x, dtype, &error);

  g_assert_no_error (error);
  return c;
}

/* If error says the CPU backend has no kernel for a MIL op, marks the test
 * skipped (naming the op; failed under ANE_TEST_STRICT) and returns TRUE. */
static gboolean
skip_missing_kernel (const GError *error,
                     const char   *what)
{
  const char *p;
  g_autofree char *msg = NULL;

  if (error == NULL || !g_error_matches (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED))
    return FALSE;
  p = strstr (error->message, "has no kernel for MIL op '");
  if (p == NULL)
    return FALSE;
  msg = g_strdup_printf ("%s: the CPU backend has no kernel yet for %s", what, p + strlen ("has no kernel for "));
  ane_test_skip ("%s", msg);
  return TRUE;
}

static const char *
target_name (AneTarget t)
{
  return t == ANE_TARGET_IOS17 ? "iOS17" : t == ANE_TARGET_IOS18 ? "iOS18" : "other";
}

/* Compares two tensors at the precision's tolerance (k16: the fp16 multiple;
 * exact: integers, every value equal). */
static void
assert_close (const char   *what,
              AneTensor    *expected_t,
              AneTensor    *got_t,
              AnePrecision  precision,
              double        k16,
              gboolean      exact)
{
  g_autofree float *e = NULL, *v = NULL;
  gsize ne, nv;
  double maxabs = 0.0, worst;
  g_autoptr(GError) error = NULL;

  e = ane_tensor_dup_floats (expected_t, &ne, &error);
  g_assert_no_error (error);
  v = ane_tensor_dup_floats (got_t, &nv, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nv, ==, ne);
  for (gsize i = 0; i < ne; i++)
    if (isfinite (e[i]))
      maxabs = MAX (maxabs, fabs (e[i]));
  if (exact)
    worst = ane_test_assert_close_floats (what, v, e, ne, 0.0, 0.0);
  else if (precision == ANE_PRECISION_FLOAT32)
    worst = ane_test_assert_close_floats (what, v, e, ne, 1e-5, 1e-6 * maxabs);
  else
    worst = ane_test_assert_close_floats (what, v, e, ne, 0.0, k16 * FP16_EPS * maxabs);
  g_test_message ("%s: largest difference %.3g (max|expected| %.3g)", what, worst, maxabs);
}

static AneExecutable *
compile (AneGraph     *graph,
         AneBackend    backend,
         AneTarget     target,
         AnePrecision  precision,
         GError      **error)
{
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, backend);

  ane_executable_set_target (exe, target);
  ane_executable_set_precision (exe, precision);
  ane_executable_set_debug_nonfinite (exe, backend == ANE_BACKEND_CPU);
  if (!ane_executable_compile (exe, NULL, error))
    return NULL;
  return g_steal_pointer (&exe);
}

/* Reference vs CPU on each target at fp32 and fp16. FALSE if skipped. */
static gboolean
check_graph (const char      *what,
             AneGraph        *graph,
             AneTensor      **inputs,
             guint            n_inputs,
             const AneTarget *targets,
             guint            n_targets,
             double           k16,
             gboolean         exact)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) ref = compile (graph, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, &error);
  g_autoptr(GPtrArray) expected = NULL;

  g_assert_no_error (error);
  expected = ane_executable_run (ref, inputs, n_inputs, NULL, &error);
  g_assert_no_error (error);
  for (guint t = 0; t < n_targets; t++)
    for (guint p = 0; p < 2; p++)
      {
        AnePrecision precision = p == 0 ? ANE_PRECISION_FLOAT32 : ANE_PRECISION_FLOAT16;
        g_autofree char *label = g_strdup_printf ("%s [%s, %s]", what, target_name (targets[t]), p == 0 ? "fp32" : "fp16");
        g_autoptr(AneExecutable) cpu = compile (graph, ANE_BACKEND_CPU, targets[t], precision, &error);
        g_autoptr(GPtrArray) got = NULL;

        if (cpu == NULL && skip_missing_kernel (error, label))
          return FALSE;
        g_assert_no_error (error);
        got = ane_executable_run (cpu, inputs, n_inputs, NULL, &error);
        if (error)
          g_test_message ("%s: %s", label, error->message);
        g_assert_no_error (error);
        g_assert_cmpuint (got->len, ==, expected->len);
        for (guint o = 0; o < got->len; o++)
          assert_close (label, g_ptr_array_index (expected, o), g_ptr_array_index (got, o), precision, k16, exact);
      }
  return TRUE;
}

static const AneTarget ios17_18[] = { ANE_TARGET_IOS17, ANE_TARGET_IOS18 };

static AneTensor *
tensor (const char   *name,
        AneDType      dtype,
        const gint64 *shape,
        guint         rank,
        const double *values)
{
  return ane_test_tensor_values (name, dtype, shape, rank, values);
}

/* --- quantize ---------------------------------------------------------------- */

typedef enum {
  Q_TENSOR_SCALE,          /* scale [1] const, no zero point */
  Q_TENSOR_SCALE_ZP,       /* scale [1] and zero point [1] const */
  Q_SCALAR_SCALE_ZP,       /* rank-0 consts */
  Q_CHANNEL_AXIS1,         /* [C] consts along axis 1 */
  Q_CHANNEL_AXIS_LAST,     /* [C] consts along axis -1 */
  Q_CHANNEL_AXIS0,         /* [C] consts along axis 0, no zero point */
  Q_INPUT_SCALE,           /* per channel, scale a graph input: composed */
  Q_INPUT_ZP,              /* per tensor, zero point computed: composed */
  Q_N_MODES
} QMode;

static const char *const q_mode_names[] = {
  "per-tensor scale", "per-tensor scale and zero point", "rank-0 scale and zero point",
  "per-channel axis 1", "per-channel axis -1", "per-channel axis 0 without zero point",
  "per-channel input scale (composed)", "per-tensor computed zero point (composed)",
};

/* The parameters of a mode for x [2, 3, 4]: the axis, the scale and zero
 * point shapes and values. */
typedef struct {
  int      axis;
  gint64   pshape[1];
  guint    prank;
  double   scale[4];
  double   zp[4];
  gboolean has_zp;
} QParams;

static void
q_params (QMode     mode,
          AneDType  qt,
          QParams  *p)
{
  static const double scales[4] = { 0.25, 0.1, 0.0625, 0.3 };
  gboolean u = qt == ANE_DTYPE_UINT8;

  memset (p, 0, sizeof *p);
  p->prank = 1;
  p->pshape[0] = 1;
  p->has_zp = mode != Q_TENSOR_SCALE && mode != Q_CHANNEL_AXIS0;
  switch (mode)
    {
    case Q_CHANNEL_AXIS1: case Q_INPUT_SCALE: p->axis = 1; p->pshape[0] = 3; break;
    case Q_CHANNEL_AXIS_LAST:                 p->axis = -1; p->pshape[0] = 4; break;
    case Q_CHANNEL_AXIS0:                     p->axis = 0; p->pshape[0] = 2; break;
    case Q_SCALAR_SCALE_ZP:                   p->prank = 0; break;
    default:                                  break;
    }
  for (gint64 i = 0; i < p->pshape[0]; i++)
    {
      /* fp16-exact scales: 0.25 and 0.0625 make exact .5 ties (half to even),
       * 0.1 and 0.3 are rounded to fp16 here so both precisions agree */
      p->scale[i] = ane_half_to_float (ane_float_to_half ((float) scales[(i + (gint64) mode) % 4]));
      p->zp[i] = u ? 100 + 20 * i : -3 + 2 * i;
    }
}

/* Integers exact: the kernel computes x / scale in double and rounds half to
 * even, as the reference does. */
static void
test_quantize (void)
{
  static const gint64 xshape[] = { 2, 3, 4 };
  static const AneDType qts[] = { ANE_DTYPE_INT8, ANE_DTYPE_UINT8 };

  for (guint qi = 0; qi < 2; qi++)
    for (guint m = 0; m < Q_N_MODES; m++)
      {
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(GError) error = NULL;
        AneDType qt = qts[qi];
        QParams p;
        double xs[24];
        g_autoptr(GRand) rand = g_rand_new_with_seed (1200 + m);
        g_autoptr(AneTensor) x = in_f32 (g, "x", xshape, 3);
        g_autoptr(AneTensor) xv = NULL, sv = NULL, zv = NULL, scale = NULL, zp = NULL, zin = NULL, q = NULL;
        g_autofree char *what = NULL;
        AneTensor *inputs[3];
        guint n_inputs = 0;

        q_params (m, qt, &p);
        for (guint i = 0; i < 24; i++)
          {
            /* multiples of 1/16 from -40 to 40: exact ties at scales 0.25 and
             * 0.0625 and values that saturate both ranges */
            xs[i] = g_rand_int_range (rand, -640, 641) / 16.0;
          }
        xs[0] = 0.125;   /* 0.5 steps at scale 0.25: rounds to 0 (even) */
        xs[1] = 0.375;   /* 1.5: rounds to 2 */
        /* saturate both ends; x / scale stays finite in fp16 (the composed
         * form divides in the compute dtype, and CPU runs check for inf) */
        xs[2] = -1000;
        xs[3] = 1000;
        xv = tensor ("x", ANE_DTYPE_FLOAT32, xshape, 3, xs);
        inputs[n_inputs++] = xv;
        sv = tensor ("scale", ANE_DTYPE_FLOAT32, p.pshape, p.prank, p.scale);
        zv = tensor ("zero_point", qt, p.pshape, p.prank, p.zp);
        if (m == Q_INPUT_SCALE)
          {
            scale = in_f32 (g, "scale", p.pshape, p.prank);
            inputs[n_inputs++] = sv;
          }
        else
          scale = ane_test_const (g, sv);
        if (m == Q_INPUT_ZP)
          {
            g_autoptr(AneTensor) zi = tensor ("zp", ANE_DTYPE_INT32, p.pshape, p.prank, p.zp);

            zin = ane_test_input (g, "zp", ANE_DTYPE_INT32, p.pshape, p.prank);
            zp = cast (g, zin, qt);
            inputs[n_inputs++] = g_steal_pointer (&zi);
          }
        else if (p.has_zp)
          zp = ane_test_const (g, zv);
        q = ane_graph_quantize (g, x, scale, zp, p.axis, qt, &error);
        g_assert_no_error (error);
        output_int (g, "q", q);
        what = g_strdup_printf ("quantize to %s, %s", ane_dtype_to_string (qt), q_mode_names[m]);
        {
          gboolean ok = check_graph (what, g, inputs, n_inputs, ios17_18, 2, 0.0, TRUE);

          if (m == Q_INPUT_ZP)
            g_object_unref (inputs[n_inputs - 1]);
          if (!ok)
            return;
        }
      }
}

/* x whose quotient by scale is not a tie but rounds to one in fp16: the
 * composed quantize divides in the compute dtype before rounding. */
static guint
near_ties (double  scale,
           double *xs,
           guint   max)
{
  guint n = 0;

  for (guint16 h = ane_float_to_half (1.0f); n < max && ane_half_to_float (h) < 60.0f; h++)
    {
      double x = ane_half_to_float (h), q = x / scale;
      double r = ane_half_to_float (ane_float_to_half ((float) q));

      if (r != q && r - floor (r) == 0.5 && nearbyint (r) != nearbyint (q))
        {
          xs[n++] = x;
          if (n < max)
            xs[n++] = -x;
        }
    }
  return n;
}

/* Quantize must be exact on near-ties, natively (const scale) and composed
 * (scale a graph input): the composed form divides in fp32 even in fp16
 * programs, because an fp16 quotient can round onto a .5 tie. */
static void
test_quantize_near_ties (void)
{
  static const gint64 xshape[] = { 2, 16 }, sshape[] = { 2 };
  double scales[2], xs[32];

  scales[0] = ane_half_to_float (ane_float_to_half (0.3f));
  scales[1] = ane_half_to_float (ane_float_to_half (0.1f));
  g_assert_cmpuint (near_ties (scales[0], xs, 16), ==, 16);
  g_assert_cmpuint (near_ties (scales[1], xs + 16, 16), ==, 16);
  for (guint composed = 0; composed < 2; composed++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = in_f32 (g, "x", xshape, 2);
      g_autoptr(AneTensor) xv = tensor ("x", ANE_DTYPE_FLOAT32, xshape, 2, xs);
      g_autoptr(AneTensor) sv = tensor ("scale", ANE_DTYPE_FLOAT32, sshape, 1, scales);
      g_autoptr(AneTensor) scale = composed ? in_f32 (g, "scale", sshape, 1) : ane_test_const (g, sv);
      g_autoptr(AneTensor) q = ane_graph_quantize (g, x, scale, NULL, 0, ANE_DTYPE_INT8, &error);
      g_autoptr(AneExecutable) ref = NULL, cpu = NULL;
      g_autoptr(GPtrArray) er = NULL, ec = NULL;
      AneTensor *inputs[2] = { xv, sv };
      g_autofree float *e = NULL, *v = NULL;
      gsize n;

      g_assert_no_error (error);
      output_int (g, "q", q);
      if (!composed)
        {
          /* the native op, exact at both precisions */
          if (!check_graph ("quantize near ties, native", g, inputs, 1, ios17_18, 2, 0.0, TRUE))
            return;
          continue;
        }
      /* the composed form: exact in fp32 programs */
      ref = compile (g, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT32, &error);
      g_assert_no_error (error);
      er = ane_executable_run (ref, inputs, 2, NULL, &error);
      g_assert_no_error (error);
      for (guint p = 0; p < 2; p++)
        {
          cpu = compile (g, ANE_BACKEND_CPU, ANE_TARGET_IOS17, p ? ANE_PRECISION_FLOAT16 : ANE_PRECISION_FLOAT32, &error);
          if (cpu == NULL && skip_missing_kernel (error, "quantize near ties, composed"))
            return;
          g_assert_no_error (error);
          g_clear_pointer (&ec, g_ptr_array_unref);
          ec = ane_executable_run (cpu, inputs, 2, NULL, &error);
          g_assert_no_error (error);
          if (p == 0)
            {
              assert_close ("quantize near ties, composed [iOS17, fp32]", g_ptr_array_index (er, 0),
                            g_ptr_array_index (ec, 0), ANE_PRECISION_FLOAT32, 0.0, TRUE);
              g_clear_object (&cpu);
              continue;
            }
          e = ane_tensor_dup_floats (g_ptr_array_index (er, 0), &n, &error);
          g_assert_no_error (error);
          v = ane_tensor_dup_floats (g_ptr_array_index (ec, 0), &n, &error);
          g_assert_no_error (error);
          for (gsize i = 0; i < n; i++)
            g_assert_cmpfloat (v[i], ==, e[i]);
        }
    }
}

/* fp16: k = 1. The native op and the composition (cast, sub: exact for
 * 8-bit integers) round once, at the product with the scale. */
static void
test_dequantize (void)
{
  static const gint64 qshape[] = { 2, 3, 4 };
  static const AneDType qts[] = { ANE_DTYPE_INT8, ANE_DTYPE_UINT8 };

  for (guint qi = 0; qi < 2; qi++)
    for (guint m = 0; m < Q_N_MODES; m++)
      {
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(GError) error = NULL;
        AneDType qt = qts[qi];
        QParams p;
        double qs[24];
        g_autoptr(GRand) rand = g_rand_new_with_seed (1300 + m);
        g_autoptr(AneTensor) qin = ane_test_input (g, "q", ANE_DTYPE_INT32, qshape, 3);
        g_autoptr(AneTensor) q = cast (g, qin, qt);
        g_autoptr(AneTensor) qv = NULL, sv = NULL, zv = NULL, zi = NULL, scale = NULL, zp = NULL, zin = NULL, y = NULL;
        g_autofree char *what = NULL;
        AneTensor *inputs[3];
        guint n_inputs = 0;

        q_params (m, qt, &p);
        for (guint i = 0; i < 24; i++)
          qs[i] = qt == ANE_DTYPE_INT8 ? g_rand_int_range (rand, -128, 128) : g_rand_int_range (rand, 0, 256);
        qv = tensor ("q", ANE_DTYPE_INT32, qshape, 3, qs);
        inputs[n_inputs++] = qv;
        sv = tensor ("scale", ANE_DTYPE_FLOAT32, p.pshape, p.prank, p.scale);
        zv = tensor ("zero_point", qt, p.pshape, p.prank, p.zp);
        zi = tensor ("zp", ANE_DTYPE_INT32, p.pshape, p.prank, p.zp);
        if (m == Q_INPUT_SCALE)
          {
            scale = in_f32 (g, "scale", p.pshape, p.prank);
            inputs[n_inputs++] = sv;
          }
        else
          scale = ane_test_const (g, sv);
        if (m == Q_INPUT_ZP)
          {
            zin = ane_test_input (g, "zp", ANE_DTYPE_INT32, p.pshape, p.prank);
            zp = cast (g, zin, qt);
            inputs[n_inputs++] = zi;
          }
        else if (p.has_zp)
          zp = ane_test_const (g, zv);
        y = ane_graph_dequantize (g, q, scale, zp, p.axis, ANE_DTYPE_FLOAT32, &error);
        g_assert_no_error (error);
        ane_test_output (g, "y", y);
        what = g_strdup_printf ("dequantize from %s, %s", ane_dtype_to_string (qt), q_mode_names[m]);
        if (!check_graph (what, g, inputs, n_inputs, ios17_18, 2, 1.0, FALSE))
          return;
      }
}

/* --- states ------------------------------------------------------------------- */

/* Runs both executables n_runs times with inputs made by make_x, comparing
 * every output and the state after each run. Values are multiples of 1/8
 * small enough to be exact in fp16, so fp16 programs must match exactly too. */
static gboolean
check_stateful (const char  *what,
                AneGraph    *g,
                const char  *state_name,
                const gint64 *xshape,
                guint        xrank,
                guint        n_runs)
{
  for (guint p = 0; p < 2; p++)
    {
      AnePrecision precision = p == 0 ? ANE_PRECISION_FLOAT32 : ANE_PRECISION_FLOAT16;
      g_autofree char *label = g_strdup_printf ("%s [iOS18, %s]", what, p == 0 ? "fp32" : "fp16");
      g_autoptr(GError) error = NULL;
      g_autoptr(AneExecutable) ref = compile (g, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, &error);
      g_autoptr(AneExecutable) cpu = NULL;

      g_assert_no_error (error);
      cpu = compile (g, ANE_BACKEND_CPU, ANE_TARGET_IOS18, precision, &error);
      if (cpu == NULL && skip_missing_kernel (error, label))
        return FALSE;
      g_assert_no_error (error);
      for (guint r = 0; r < n_runs; r++)
        {
          g_autoptr(GRand) rand = g_rand_new_with_seed (1400 + r);
          g_autoptr(AneTensor) xv = NULL, sr = NULL, sc = NULL;
          g_autoptr(GPtrArray) er = NULL, ec = NULL;
          g_autofree double *xs = NULL;
          g_autofree char *run_label = g_strdup_printf ("%s, run %u", label, r + 1);
          gint64 n = 1;

          for (guint i = 0; i < xrank; i++)
            n *= xshape[i];
          xs = g_new (double, n);
          for (gint64 i = 0; i < n; i++)
            xs[i] = g_rand_int_range (rand, -16, 17) / 8.0;
          xv = tensor ("x", ANE_DTYPE_FLOAT32, xshape, xrank, xs);
          er = ane_executable_run (ref, &xv, 1, NULL, &error);
          g_assert_no_error (error);
          ec = ane_executable_run (cpu, &xv, 1, NULL, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (ec->len, ==, er->len);
          for (guint o = 0; o < er->len; o++)
            assert_close (run_label, g_ptr_array_index (er, o), g_ptr_array_index (ec, o), precision, 0.0, TRUE);
          sr = ane_executable_dup_state (ref, state_name, &error);
          g_assert_no_error (error);
          sc = ane_executable_dup_state (cpu, state_name, &error);
          g_assert_no_error (error);
          assert_close (run_label, sr, sc, precision, 0.0, TRUE);
        }
    }
  return TRUE;
}

/* s += x; y = 2 s (the conformance pack's accumulator): read, add, write,
 * and the written value used afterwards. */
static void
test_state_accumulator (void)
{
  static const gint64 shape[] = { 2, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = in_f32 (g, "x", shape, 2);
  g_autoptr(AneTensor) s = ane_graph_state (g, "s", ANE_DTYPE_FLOAT32, shape, 2, &error);
  g_autoptr(AneTensor) old = ane_graph_read_state (g, s, &error);
  g_autoptr(AneTensor) sum = ane_graph_add (g, old, x, &error);
  g_autoptr(AneTensor) written = ane_graph_write_state (g, s, sum, &error);
  g_autoptr(AneTensor) two = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 2.0, &error);
  g_autoptr(AneTensor) y = ane_graph_mul (g, written, two, &error);

  g_assert_no_error (error);
  ane_test_output (g, "y", y);
  check_stateful ("state accumulator", g, "s", shape, 2, 4);
}

/* A KV cache: each run shifts the cache [4, 3] up by one row and appends the
 * new row x [1, 3] (narrow + concat), and returns the cache's column sums
 * and the old cache. */
static void
test_state_kv_cache (void)
{
  static const gint64 cshape[] = { 4, 3 }, xshape[] = { 1, 3 }, axes[] = { 0 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = in_f32 (g, "x", xshape, 2);
  g_autoptr(AneTensor) cache = ane_graph_state (g, "cache", ANE_DTYPE_FLOAT32, cshape, 2, &error);
  g_autoptr(AneTensor) old = ane_graph_read_state (g, cache, &error);
  g_autoptr(AneTensor) tail = ane_graph_narrow (g, old, 0, 1, 3, &error);
  AneTensor *parts[2] = { tail, x };
  g_autoptr(AneTensor) fresh = ane_graph_concat (g, parts, 2, 0, &error);
  g_autoptr(AneTensor) written = ane_graph_write_state (g, cache, fresh, &error);
  g_autoptr(AneTensor) sums = ane_graph_reduce_sum (g, written, axes, 1, FALSE, &error);

  g_assert_no_error (error);
  ane_test_output (g, "sums", sums);
  ane_test_output (g, "old", old);
  check_stateful ("state KV cache", g, "cache", xshape, 2, 6);
}

/* --- constexpr kernels from MIL text ------------------------------------------- */

/* Parses a program, runs its function "main" once on the CPU interpreter with
 * no inputs; returns the outputs, or NULL with error. */
static GPtrArray *
run_text (const char  *text,
          GError     **error)
{
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (text, -1, "test", error);
  g_autoptr(AneCpuBackend) backend = NULL;
  g_autoptr(GHashTable) inputs = g_hash_table_new (g_str_hash, g_str_equal);

  if (program == NULL)
    return NULL;
  backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, error);
  if (backend == NULL)
    return NULL;
  return ane_cpu_backend_run (backend, inputs, NULL, FALSE, NULL, error);
}

static void
assert_values (AneTensor    *t,
               const double *expected,
               gsize         n)
{
  ane_test_assert_values (t, expected, n);
}

#define PROGRAM(opset, body, outs) \
  "program(1.3)\n{\n    func main<" opset ">() {\n" body "    } -> (" outs ");\n}\n"

static void
test_lut_to_dense (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) outs = NULL;

  /* iOS18 per-group scalar palettization: coremltools' docstring example
   * (uint2 indices [6, 2], two tables over axis 0) */
  outs = run_text (PROGRAM ("ios18",
    "        tensor<fp32, [6, 2]> w = constexpr_lut_to_dense("
    "indices = tensor<uint2, [6, 2]>([2, 3, 3, 0, 1, 0, 3, 0, 2, 1, 0, 3]), "
    "lut = tensor<fp32, [2, 1, 4, 1]>([1, 5, 9, 13, 2, 10, 18, 26]))[name = string(\"w\")];\n", "w"), &error);
  g_assert_no_error (error);
  {
    static const double e[] = { 9, 13, 13, 1, 5, 1, 26, 2, 18, 10, 2, 26 };
    assert_values (g_ptr_array_index (outs, 0), e, G_N_ELEMENTS (e));
  }
  g_clear_pointer (&outs, g_ptr_array_unref);

  /* vector palettization (the docstring's case 2): uint1 indices [2, 2, 2],
   * centroids a = (1, 2, 3), b = (4, 5, 6), along axis 1 and along axis -1 */
  outs = run_text (PROGRAM ("ios18",
    "        tensor<fp32, [2, 6, 2]> w1 = constexpr_lut_to_dense("
    "indices = tensor<uint1, [2, 2, 2]>([0, 0, 1, 0, 1, 1, 0, 0]), "
    "lut = tensor<fp32, [1, 1, 1, 2, 3]>([1, 2, 3, 4, 5, 6]), vector_axis = int32(1))[name = string(\"w1\")];\n"
    "        tensor<fp32, [2, 2, 6]> w2 = constexpr_lut_to_dense("
    "indices = tensor<uint1, [2, 2, 2]>([0, 0, 1, 0, 1, 1, 0, 0]), "
    "lut = tensor<fp32, [1, 1, 1, 2, 3]>([1, 2, 3, 4, 5, 6]), vector_axis = int32(-1))[name = string(\"w2\")];\n",
    "w1, w2"), &error);
  g_assert_no_error (error);
  {
    static const double e1[] = { 1, 1, 2, 2, 3, 3, 4, 1, 5, 2, 6, 3,
                                 4, 4, 5, 5, 6, 6, 1, 1, 2, 2, 3, 3 };
    static const double e2[] = { 1, 2, 3, 1, 2, 3, 4, 5, 6, 1, 2, 3,
                                 4, 5, 6, 4, 5, 6, 1, 2, 3, 1, 2, 3 };
    assert_values (g_ptr_array_index (outs, 0), e1, G_N_ELEMENTS (e1));
    assert_values (g_ptr_array_index (outs, 1), e2, G_N_ELEMENTS (e2));
  }
  g_clear_pointer (&outs, g_ptr_array_unref);

  /* uint3 and uint6 indices straddle bytes: a table holding 100 + i reads
   * each index back */
  outs = run_text (PROGRAM ("ios18",
    "        tensor<fp32, [9]> a = constexpr_lut_to_dense("
    "indices = tensor<uint3, [9]>([7, 0, 5, 3, 6, 1, 2, 4, 7]), "
    "lut = tensor<fp32, [1, 8, 1]>([100, 101, 102, 103, 104, 105, 106, 107]))[name = string(\"a\")];\n"
    "        tensor<int8, [5]> b = constexpr_lut_to_dense("
    "indices = tensor<uint6, [5]>([63, 1, 32, 17, 40]), "
    "lut = tensor<int8, [1, 64, 1]>([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, "
    "21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, "
    "48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63]))[name = string(\"b\")];\n"
    "        tensor<int32, [5]> bi = cast(x = b, dtype = string(\"int32\"))[name = string(\"bi\")];\n",
    "a, bi"), &error);
  if (outs == NULL && skip_missing_kernel (error, "lut_to_dense uint6 -> int8 (cast)"))
    return;
  g_assert_no_error (error);
  {
    static const double ea[] = { 107, 100, 105, 103, 106, 101, 102, 104, 107 };
    static const double eb[] = { 63, 1, 32, 17, 40 };
    assert_values (g_ptr_array_index (outs, 0), ea, G_N_ELEMENTS (ea));
    assert_values (g_ptr_array_index (outs, 1), eb, G_N_ELEMENTS (eb));
  }
  g_clear_pointer (&outs, g_ptr_array_unref);

  /* iOS16: the docstring's packing example (n_bits 2, shape (5,): bytes
   * 0b01101100 and 0b00000011 hold indices 0, 3, 2, 1, 3), attributes */
  outs = run_text (PROGRAM ("ios16",
    "        tensor<fp32, [5]> w = constexpr_lut_to_dense()[indices = tensor<uint8, [2]>([108, 3]), "
    "lut = tensor<fp32, [4]>([10, 20, 30, 40]), name = string(\"w\"), shape = tensor<uint32, [1]>([5])];\n", "w"),
    &error);
  g_assert_no_error (error);
  {
    static const double e[] = { 10, 40, 30, 20, 40 };
    assert_values (g_ptr_array_index (outs, 0), e, G_N_ELEMENTS (e));
  }
}

static void
test_blockwise_shift_scale (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) outs = NULL;

  /* int4 data [2, 4] in blocks of [1, 2]; int4 offsets; fp16 scales */
  outs = run_text (PROGRAM ("ios18",
    "        tensor<fp16, [2, 4]> w = constexpr_blockwise_shift_scale("
    "data = tensor<int4, [2, 4]>([-8, 7, -1, 0, 3, 5, -2, 6]), "
    "scale = tensor<fp16, [2, 2]>([0x1p-1, 0x1p+1, 0x1.8p+0, 0x1p-2]), "
    "offset = tensor<int4, [2, 2]>([1, -2, 0, 7]))[name = string(\"w\")];\n"
    "        tensor<fp32, [2, 4]> a = constexpr_blockwise_shift_scale("
    "data = tensor<uint8, [2, 4]>([0, 255, 128, 7, 1, 2, 3, 4]), "
    "scale = tensor<fp32, [1, 4]>([0x1p+0, 0x1p-1, 0x1p-2, 0x1p+2]))[name = string(\"a\")];\n"
    "        tensor<fp32, [2, 4]> wf = cast(x = w, dtype = string(\"fp32\"))[name = string(\"wf\")];\n",
    "wf, a"), &error);
  g_assert_no_error (error);
  {
    /* row 0: scale 0.5 (offset 1) then 2 (offset -2); row 1: 1.5 (0) then 0.25 (7) */
    static const double e[] = { -4.5, 3, 2, 4, 4.5, 7.5, -2.25, -0.25 };
    static const double ea[] = { 0, 127.5, 32, 28, 1, 1, 0.75, 16 };
    assert_values (g_ptr_array_index (outs, 0), e, G_N_ELEMENTS (e));
    assert_values (g_ptr_array_index (outs, 1), ea, G_N_ELEMENTS (ea));
  }
  g_clear_pointer (&outs, g_ptr_array_unref);

  /* a malformed op: scale's dims must divide data's */
  outs = run_text (PROGRAM ("ios18",
    "        tensor<fp32, [2, 4]> w = constexpr_blockwise_shift_scale("
    "data = tensor<int8, [2, 4]>([1, 2, 3, 4, 5, 6, 7, 8]), "
    "scale = tensor<fp32, [1, 3]>([1, 2, 3]))[name = string(\"w\")];\n", "w"), &error);
  g_assert_null (outs);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "constexpr_blockwise_shift_scale", "'w'",
                         "does not divide", NULL);
}

static void
test_affine_dequantize_and_cast (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) outs = NULL;

  /* iOS16 form: every parameter an attribute; per-channel along axis 1 */
  outs = run_text (PROGRAM ("ios16",
    "        tensor<fp32, [2, 3]> w = constexpr_affine_dequantize()[axis = int32(1), name = string(\"w\"), "
    "quantized_data = tensor<int8, [2, 3]>([-128, 0, 127, 5, -5, 10]), "
    "scale = tensor<fp32, [3]>([0x1p-1, 0x1p+0, 0x1p-2]), zero_point = tensor<int8, [3]>([0, -1, 2])];\n"
    "        tensor<fp32, [3]> c = constexpr_cast()[name = string(\"c\"), output_dtype = string(\"fp32\"), "
    "source_val = tensor<fp16, [3]>([0x1p-1, -0x1.8p+1, 0x1p-14])];\n"
    "        tensor<fp16, [2, 2]> h = constexpr_affine_dequantize()[axis = int32(0), name = string(\"h\"), "
    "quantized_data = tensor<uint8, [2, 2]>([0, 255, 128, 129]), "
    "scale = fp16(0x1p-3), zero_point = uint8(128)];\n"
    "        tensor<fp32, [2, 2]> hf = cast(x = h, dtype = string(\"fp32\"))[name = string(\"hf\")];\n",
    "w, c, hf"), &error);
  g_assert_no_error (error);
  {
    static const double ew[] = { -64, 1, 31.25, 2.5, -4, 2 };
    static const double ec[] = { 0.5, -3, 1.0 / 16384 };
    static const double eh[] = { -16, 15.875, 0, 0.125 };
    assert_values (g_ptr_array_index (outs, 0), ew, G_N_ELEMENTS (ew));
    assert_values (g_ptr_array_index (outs, 1), ec, G_N_ELEMENTS (ec));
    assert_values (g_ptr_array_index (outs, 2), eh, G_N_ELEMENTS (eh));
  }
}

static void
test_sparse_to_dense (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) outs = NULL;

  outs = run_text (PROGRAM ("ios18",
    "        tensor<fp32, [2, 5]> w = constexpr_sparse_to_dense("
    "nonzero_data = tensor<fp32, [4]>([1, 2, 3, 4]), "
    "mask = tensor<uint1, [2, 5]>([0, 1, 0, 0, 1, 1, 0, 0, 1, 0]))[name = string(\"w\")];\n", "w"), &error);
  g_assert_no_error (error);
  {
    static const double e[] = { 0, 1, 0, 0, 2, 3, 0, 0, 4, 0 };
    assert_values (g_ptr_array_index (outs, 0), e, G_N_ELEMENTS (e));
  }
  g_clear_pointer (&outs, g_ptr_array_unref);

  /* iOS16: mask bits 0b00001100 0b01 for shape [10] */
  outs = run_text (PROGRAM ("ios16",
    "        tensor<fp32, [10]> w = constexpr_sparse_to_dense()[mask = tensor<uint8, [2]>([12, 2]), "
    "name = string(\"w\"), nonzero_data = tensor<fp32, [3]>([7, 8, 9]), shape = tensor<uint32, [1]>([10])];\n", "w"),
    &error);
  g_assert_no_error (error);
  {
    static const double e[] = { 0, 0, 7, 8, 0, 0, 0, 0, 0, 9 };
    assert_values (g_ptr_array_index (outs, 0), e, G_N_ELEMENTS (e));
  }
}

/* Kernels refuse malformed programs with an error naming the op. */
static void
test_malformed (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) outs = NULL;

  /* index beyond an iOS16 table's bit stream */
  outs = run_text (PROGRAM ("ios16",
    "        tensor<fp32, [5]> w = constexpr_lut_to_dense()[indices = tensor<uint8, [1]>([108]), "
    "lut = tensor<fp32, [4]>([10, 20, 30, 40]), name = string(\"w\"), shape = tensor<uint32, [1]>([5])];\n", "w"),
    &error);
  g_assert_null (outs);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "constexpr_lut_to_dense", "need 2", NULL);

  /* a vector scale without axis */
  outs = run_text (PROGRAM ("ios18",
    "        tensor<fp32, [2, 2]> w = dequantize(input = tensor<int8, [2, 2]>([1, 2, 3, 4]), "
    "scale = tensor<fp32, [2]>([1, 2]))[name = string(\"w\")];\n", "w"), &error);
  g_assert_null (outs);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "dequantize", "needs an axis", NULL);

  /* write_state with data of another shape */
  {
    const char *text = "program(1.3)\n{\n    func main<ios18>(state<tensor<fp16, [2]>> s) {\n"
      "        write_state(data = tensor<fp16, [3]>([0x1p+0, 0x1p+0, 0x1p+0]), input = s)[name = string(\"ws\")];\n"
      "        tensor<fp16, [2]> y = read_state(input = s)[name = string(\"y\")];\n"
      "    } -> (y);\n}\n";
    g_autoptr(AneMilProgram) program = ane_mil_text_parse (text, -1, "test", &error);
    g_autoptr(AneCpuBackend) backend = NULL;
    g_autoptr(GHashTable) inputs = g_hash_table_new (g_str_hash, g_str_equal);
    g_autoptr(GHashTable) states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);

    g_assert_no_error (error);
    backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, &error);
    g_assert_no_error (error);
    outs = ane_cpu_backend_run (backend, inputs, states, FALSE, NULL, &error);
    g_assert_null (outs);
    ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "write_state", "does not match the state", NULL);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/cpu/quant/quantize", test_quantize);
  g_test_add_func ("/ane/cpu/quant/quantize-near-ties", test_quantize_near_ties);
  g_test_add_func ("/ane/cpu/quant/dequantize", test_dequantize);
  g_test_add_func ("/ane/cpu/quant/state-accumulator", test_state_accumulator);
  g_test_add_func ("/ane/cpu/quant/state-kv-cache", test_state_kv_cache);
  g_test_add_func ("/ane/cpu/quant/lut-to-dense", test_lut_to_dense);
  g_test_add_func ("/ane/cpu/quant/blockwise-shift-scale", test_blockwise_shift_scale);
  g_test_add_func ("/ane/cpu/quant/affine-dequantize-and-cast", test_affine_dequantize_and_cast);
  g_test_add_func ("/ane/cpu/quant/sparse-to-dense", test_sparse_to_dense);
  g_test_add_func ("/ane/cpu/quant/malformed", test_malformed);

  return g_test_run ();
}
