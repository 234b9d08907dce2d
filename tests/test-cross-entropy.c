/* test-cross-entropy.c: the fused cross_entropy loss (ops/ane-ops-loss.c,
 * mil/lower/ane-lower-loss.c, grad/ane-grad-rules-loss.c)
 *
 * - shape rule: a float32 scalar (rank 0, as reduce_mean over every axis
 *   without keepdims), and the build errors;
 * - reference kernel against a plain double computation
 *   (log Σ exp(x) - x[t], no max subtracted, so an independent formula) on
 *   [V], [S,V] and [B,S,V], with ignored positions (ignore_index -100 and
 *   one inside [0, V)), every position ignored (0), logits of ±1e4 (by
 *   shift invariance: the loss of x + c equals that of x) and out-of-range
 *   targets (an error naming node, position and value);
 * - the CPU backend (the lowered MIL, interpreted) against the reference
 *   at every target iOS15..iOS18: fp32 programs within 2e-6 relative; fp16
 *   programs with fp16-representable logits (so the boundary cast is
 *   exact) within 2^-10 relative, one rounding of the loss to fp16 with a
 *   factor 2 margin (the reduction itself runs in float32), including
 *   V = 32000 and logits of magnitude 1e4. The CPU interpreter sums in
 *   double whatever the op's dtype, so these runs would pass with a float16
 *   reduction too: /cross-entropy/lower checks instead that the fp16
 *   program's exp, sums and log are float32 ops;
 * - a rank-0 loss through a saved and reloaded .mlpackage;
 * - the gradient against central differences (test-grad.c's method:
 *   params multiples of 2^-10, h = 2^-8, tolerance 2e-4) on the reference
 *   backend, and the gradient graph on the CPU backend at fp32.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-grad-test-util.h"
#include "ane-lower-test-util.h"
#include "ane-tensor-private.h"

#define IGNORE (-100)
#define FP16_EPS (1.0 / 1024.0)   /* 2^-10 */
#define FP32_RTOL 2e-6

static const AneTarget targets[] = { ANE_TARGET_IOS15, ANE_TARGET_IOS16, ANE_TARGET_IOS17, ANE_TARGET_IOS18 };

/* --- helpers ------------------------------------------------------------- */

static gsize
n_of (const gint64 *shape,
      guint         rank)
{
  gsize n = 1;

  for (guint i = 0; i < rank; i++)
    n *= (gsize) shape[i];
  return n;
}

/* The loss as a plain double computation: log Σ exp(x) - x[t], no max
 * subtracted (an independent formula for moderate logits), averaged over
 * the positions whose target is not ignore. */
static double
plain_loss (const double *x,
            const gint32 *t,
            gsize         rows,
            gsize         classes,
            gint64        ignore)
{
  double sum = 0;
  gsize count = 0;

  for (gsize r = 0; r < rows; r++)
    {
      double s = 0;

      if (t[r] == ignore)
        continue;
      for (gsize c = 0; c < classes; c++)
        s += exp (x[r * classes + c]);
      sum += log (s) - x[r * classes + (gsize) t[r]];
      count++;
    }
  return count > 0 ? sum / (double) count : 0.0;
}

/* Seeded values in [lo, hi): with half, rounded to fp16. */
static double *
rand_doubles (gsize    n,
              guint32  seed,
              double   lo,
              double   hi,
              gboolean half)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  double *v = g_new (double, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    {
      double x = g_rand_double_range (rand, lo, hi);

      v[i] = half ? ane_half_to_float (ane_float_to_half ((float) x)) : (float) x;
    }
  return v;
}

/* Seeded targets in [0, classes), every `every`-th one ignore (0: none). */
static gint32 *
rand_targets (gsize    rows,
              gint64   classes,
              guint32  seed,
              guint    every,
              gint64   ignore)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  gint32 *t = g_new (gint32, MAX (rows, 1));

  for (gsize r = 0; r < rows; r++)
    t[r] = every > 0 && r % every == 1 ? (gint32) ignore : g_rand_int_range (rand, 0, (gint32) classes);
  return t;
}

static AneTensor *
targets_tensor (const gint64 *shape,
                guint         rank,
                const gint32 *t)
{
  g_autoptr(GError) error = NULL;
  AneTensor *v = ane_tensor_new_from_ints ("targets", shape, rank, t, n_of (shape, rank), &error);

  g_assert_no_error (error);
  return v;
}

/* A graph: inputs "logits" (dtype, shape) and "targets" (int32, shape
 * without the last axis), output "loss" = cross_entropy (the node's
 * automatic name: "cross_entropy"). */
static AneGraph *
loss_graph (AneDType      dtype,
            const gint64 *shape,
            guint         rank,
            gint64        ignore)
{
  AneGraph *g = ane_graph_new ();
  g_autoptr(AneTensor) x = ane_test_input (g, "logits", dtype, shape, rank);
  g_autoptr(AneTensor) t = ane_test_input (g, "targets", ANE_DTYPE_INT32, shape, rank - 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_cross_entropy (g, x, t, ignore, &error);

  g_assert_no_error (error);
  ane_test_output (g, "loss", y);
  return g;
}

/* Runs the loss graph; the output must be a float32 scalar. NaN with
 * *error set on failure. */
static double
run_loss_graph (AneGraph     *g,
                AneBackend    backend,
                AneTarget     target,
                AnePrecision  precision,
                AneTensor    *logits,
                AneTensor    *tgt,
                GError      **error)
{
  g_autoptr(AneExecutable) exe = ane_executable_new (g, backend);
  g_autoptr(GPtrArray) out = NULL;
  AneTensor *inputs[2] = { logits, tgt };
  AneTensor *y;

  ane_executable_set_target (exe, target);
  ane_executable_set_precision (exe, precision);
  if (!ane_executable_compile (exe, NULL, error))
    return NAN;
  out = ane_executable_run (exe, inputs, 2, NULL, error);
  if (out == NULL)
    return NAN;
  g_assert_cmpuint (out->len, ==, 1);
  y = g_ptr_array_index (out, 0);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT32);
  g_assert_cmpuint (ane_tensor_get_rank (y), ==, 0);
  return ane_tensor_get_value (y, 0);
}

static double
run_ok (AneGraph     *g,
        AneBackend    backend,
        AneTarget     target,
        AnePrecision  precision,
        AneTensor    *logits,
        AneTensor    *tgt)
{
  g_autoptr(GError) error = NULL;
  double v = run_loss_graph (g, backend, target, precision, logits, tgt, &error);

  g_assert_no_error (error);
  return v;
}

static double
rel_err (double got,
         double want)
{
  return fabs (got - want) / MAX (fabs (want), 1e-30);
}

/* got within rtol of want (atol: an absolute floor); both finite. */
static void
assert_close (const char *what,
              double      got,
              double      want,
              double      rtol,
              double      atol)
{
  if (!isfinite (got) || !isfinite (want) || !(fabs (got - want) <= atol + rtol * fabs (want)))
    g_error ("%s: got %.9g, expected %.9g (relative error %.3g, bound %.3g + %.3g relative)",
             what, got, want, rel_err (got, want), atol, rtol);
}

/* --- shape rule ---------------------------------------------------------- */

static void
test_shape (void)
{
  static const gint64 xs[] = { 2, 3, 5 }, ts[] = { 2, 3 }, bad[] = { 3, 2 }, empty[] = { 2, 0 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3);
  g_autoptr(AneTensor) xh = ane_test_input (g, "xh", ANE_DTYPE_FLOAT16, xs, 3);
  g_autoptr(AneTensor) xi = ane_test_input (g, "xi", ANE_DTYPE_INT32, xs, 3);
  g_autoptr(AneTensor) x0 = ane_test_input (g, "x0", ANE_DTYPE_FLOAT32, NULL, 0);
  g_autoptr(AneTensor) ve = ane_tensor_new_zeros ("xe", ANE_DTYPE_FLOAT32, empty, 2, NULL);
  g_autoptr(AneTensor) xe = ane_test_const (g, ve);
  g_autoptr(AneTensor) t = ane_test_input (g, "t", ANE_DTYPE_INT32, ts, 2);
  g_autoptr(AneTensor) t2 = ane_test_input (g, "t2", ANE_DTYPE_INT32, ts, 1);
  g_autoptr(AneTensor) tf = ane_test_input (g, "tf", ANE_DTYPE_FLOAT32, ts, 2);
  g_autoptr(AneTensor) tb = ane_test_input (g, "tb", ANE_DTYPE_INT32, bad, 2);
  g_autoptr(AneTensor) t0 = ane_test_input (g, "t0", ANE_DTYPE_INT32, NULL, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_cross_entropy (g, x, t, IGNORE, &error);
  g_autoptr(AneTensor) yh = NULL, mean = NULL;

  g_assert_no_error (error);
  /* a float32 scalar: the rank reduce_mean over every axis gives */
  mean = ane_graph_reduce_mean (g, x, NULL, 0, FALSE, &error);
  g_assert_no_error (error);
  ane_test_assert_spec (y, ANE_DTYPE_FLOAT32, NULL, 0);
  g_assert_cmpuint (ane_tensor_get_rank (y), ==, ane_tensor_get_rank (mean));
  yh = ane_graph_cross_entropy (g, xh, t, 0, &error);
  g_assert_no_error (error);
  ane_test_assert_spec (yh, ANE_DTYPE_FLOAT32, NULL, 0);

  ane_test_assert_build_error (ane_graph_cross_entropy (g, xi, t, IGNORE, &error), &error, ANE_ERROR_DTYPE,
                               "cross_entropy", "'logits'", NULL);
  ane_test_assert_build_error (ane_graph_cross_entropy (g, x, tf, IGNORE, &error), &error, ANE_ERROR_DTYPE,
                               "cross_entropy", "'targets'", "int32", NULL);
  ane_test_assert_build_error (ane_graph_cross_entropy (g, x, tb, IGNORE, &error), &error, ANE_ERROR_SHAPE,
                               "cross_entropy", "int32[3,2]", "float32[2,3,5]", NULL);
  ane_test_assert_build_error (ane_graph_cross_entropy (g, x, t2, IGNORE, &error), &error, ANE_ERROR_SHAPE,
                               "cross_entropy", "int32[2]", NULL);
  ane_test_assert_build_error (ane_graph_cross_entropy (g, x0, t0, IGNORE, &error), &error, ANE_ERROR_SHAPE,
                               "cross_entropy", "'logits'", "rank", NULL);
  ane_test_assert_build_error (ane_graph_cross_entropy (g, xe, t2, IGNORE, &error), &error, ANE_ERROR_SHAPE,
                               "cross_entropy", "classes", "float32[2,0]", NULL);
  ane_test_assert_build_error (ane_graph_cross_entropy (g, x, t, G_GINT64_CONSTANT (1) << 40, &error), &error,
                               ANE_ERROR_INVALID_ARGUMENT, "cross_entropy", "ignore_index 1099511627776", NULL);
}

/* --- the reference kernel ------------------------------------------------ */

typedef struct {
  guint  rank;
  gint64 shape[3];
} Shape;

static const Shape shapes[] = { { 1, { 7 } }, { 2, { 5, 7 } }, { 3, { 2, 3, 7 } } };

/* Every shape, with ignore -100 (every third position) and with an
 * ignore_index inside [0, V) (3), against plain_loss. */
static void
test_reference (void)
{
  double worst = 0;

  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (guint variant = 0; variant < 2; variant++)
      {
        const Shape *sh = &shapes[s];
        gint64 ignore = variant == 0 ? IGNORE : 3;
        gsize classes = (gsize) sh->shape[sh->rank - 1], rows = n_of (sh->shape, sh->rank - 1);
        g_autofree double *x = rand_doubles (rows * classes, 10 + s, -4, 4, FALSE);
        g_autofree gint32 *t = rand_targets (rows, (gint64) classes, 20 + s, variant == 0 ? 3 : 0, ignore);
        g_autoptr(AneGraph) g = loss_graph (ANE_DTYPE_FLOAT32, sh->shape, sh->rank, ignore);
        g_autoptr(AneTensor) vx = ane_test_tensor_values ("logits", ANE_DTYPE_FLOAT32, sh->shape, sh->rank, x);
        g_autoptr(AneTensor) vt = NULL;
        g_autofree char *what = g_strdup_printf ("rank %u, ignore_index %" G_GINT64_FORMAT, sh->rank, ignore);
        double want, got;

        if (variant == 1)
          t[0] = 3;   /* the in-range ignore_index occurs */
        vt = targets_tensor (sh->shape, sh->rank - 1, t);
        want = plain_loss (x, t, rows, classes, ignore);
        got = run_ok (g, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, vx, vt);
        /* one rounding to float32 */
        assert_close (what, got, want, 1e-7, 0);
        worst = MAX (worst, rel_err (got, want));
      }
  g_test_message ("reference vs plain double: worst relative error %.2e", worst);
}

/* Every position ignored: 0, not NaN (the sum divided by max(count, 1)). */
static void
test_all_ignored (void)
{
  static const gint64 xs[] = { 2, 3, 4 };
  static const gint32 t[] = { IGNORE, IGNORE, IGNORE, IGNORE, IGNORE, IGNORE };
  g_autofree double *x = rand_doubles (24, 5, -3, 3, TRUE);
  g_autoptr(AneGraph) g = loss_graph (ANE_DTYPE_FLOAT32, xs, 3, IGNORE);
  g_autoptr(AneTensor) vx = ane_test_tensor_values ("logits", ANE_DTYPE_FLOAT32, xs, 3, x);
  g_autoptr(AneTensor) vt = targets_tensor (xs, 2, t);

  g_assert_cmpfloat (run_ok (g, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, vx, vt), ==, 0.0);
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      g_assert_cmpfloat (run_ok (g, ANE_BACKEND_CPU, targets[i], ANE_PRECISION_FLOAT32, vx, vt), ==, 0.0);
      g_assert_cmpfloat (run_ok (g, ANE_BACKEND_CPU, targets[i], ANE_PRECISION_FLOAT16, vx, vt), ==, 0.0);
    }
}

/* Logits of ±1e4: rows 0 and 1 are x + 1e4 and x - 1e4 (x multiples of
 * 2^-6 in [-4, 4]: exact in float32 next to 1e4, whose spacing is 2^-10),
 * whose loss is x's; row 2 is [1e4, -1e4, 0, ...] with target 1: 2e4 (the
 * other terms are below e^-1e4). A naive exp(1e4) is inf. */
static void
test_large_logits (void)
{
  static const gint64 xs[] = { 3, 6 };
  static const gint32 t[] = { 4, 0, 1 };
  double x[18], base[12];
  g_autoptr(AneGraph) g = loss_graph (ANE_DTYPE_FLOAT32, xs, 2, IGNORE);
  g_autoptr(AneTensor) vx = NULL, vt = targets_tensor (xs, 1, t);
  g_autoptr(GRand) rand = g_rand_new_with_seed (77);
  double want, got;

  for (guint i = 0; i < 12; i++)
    base[i] = round (g_rand_double_range (rand, -4, 4) * 64) / 64;
  for (guint i = 0; i < 6; i++)
    {
      x[i] = base[i] + 1e4;
      x[6 + i] = base[6 + i] - 1e4;
      x[12 + i] = i == 0 ? 1e4 : i == 1 ? -1e4 : 0.0;
    }
  vx = ane_test_tensor_values ("logits", ANE_DTYPE_FLOAT32, xs, 2, x);
  want = (plain_loss (base, t, 2, 6, IGNORE) * 2 + 2e4) / 3;
  got = run_ok (g, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, vx, vt);
  assert_close ("reference, logits ±1e4", got, want, 1e-7, 0);
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      g_autofree char *what = g_strdup_printf ("CPU fp32 %s, logits ±1e4", ane_target_to_string (targets[i]));

      got = run_ok (g, ANE_BACKEND_CPU, targets[i], ANE_PRECISION_FLOAT32, vx, vt);
      assert_close (what, got, want, FP32_RTOL, 0);
    }
}

/* A target outside [0, V) that is not ignore_index: the reference fails
 * naming the node, the position and the value; the lowered program (the
 * CPU backend) cannot fail and counts it as ignored, as documented. */
static void
test_out_of_range (void)
{
  static const gint64 xs[] = { 2, 3, 7 };
  static const gint32 bad_values[] = { 7, -1, 1000 };
  g_autofree double *x = rand_doubles (42, 8, -3, 3, FALSE);
  g_autoptr(AneGraph) g = loss_graph (ANE_DTYPE_FLOAT32, xs, 3, IGNORE);
  g_autoptr(AneTensor) vx = ane_test_tensor_values ("logits", ANE_DTYPE_FLOAT32, xs, 3, x);

  for (guint b = 0; b < G_N_ELEMENTS (bad_values); b++)
    {
      gint32 t[] = { 0, 6, IGNORE, 2, 4, 1 }, as_ignored[6];
      g_autoptr(AneTensor) vt = NULL, vi = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *value = g_strdup_printf ("target %d ", bad_values[b]);
      double want;

      t[5] = bad_values[b];   /* position [1, 2] */
      memcpy (as_ignored, t, sizeof t);
      as_ignored[5] = IGNORE;
      vt = targets_tensor (xs, 2, t);
      vi = targets_tensor (xs, 2, as_ignored);
      g_assert_true (isnan (run_loss_graph (g, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32,
                                            vx, vt, &error)));
      ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "cross_entropy 'cross_entropy'", value,
                             "position [1, 2]", "[0, 7)", NULL);

      want = run_ok (g, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, vx, vi);
      for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
        {
          g_autofree char *what = g_strdup_printf ("CPU %s, target %d counted as ignored",
                                                   ane_target_to_string (targets[i]), bad_values[b]);

          assert_close (what, run_ok (g, ANE_BACKEND_CPU, targets[i], ANE_PRECISION_FLOAT32, vx, vt), want,
                        FP32_RTOL, 0);
        }
    }
}

/* --- the lowering ------------------------------------------------------- */

/* The composite at iOS15 (every op an iOS15 one): in an fp16 program the
 * logits are cast to float32 and exp, the sums and log are float32 ops
 * (a float16 sum of 32000 exps would keep 11 bits), and only the rank-0
 * loss is cast back; in an fp32 program there is no cast. The gathered
 * index is the select that makes ignored (and out-of-range) targets 0. */
static void
test_lower (void)
{
  static const gint64 xs[] = { 2, 3, 5 }, ks[] = { 2, 3, 1 };
  g_autoptr(AneGraph) g = loss_graph (ANE_DTYPE_FLOAT32, xs, 3, IGNORE);
  g_autoptr(AneMilProgram) p16 = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT16);
  g_autoptr(AneMilProgram) p32 = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  static const char *const f32_ops[] = { "reduce_max", "exp", "reduce_sum", "log", "gather_along_axis" };
  AneMilOperation *gather, *last;
  const char *seq = "reduce_max,sub,exp,reduce_sum,log,reshape,not_equal,greater_equal,less,logical_and,"
                    "logical_and,select,gather_along_axis,sub,select,cast,reduce_sum,reduce_sum,maximum,"
                    "real_div,identity";
  g_autofree char *seq16_got = ane_test_op_sequence (p16);

  /* fp16: the boundary cast to fp16, then ours back to fp32 */
  ane_test_assert_seq (p32, seq);
  /* fp16, float32 interface: the boundary cast to fp16, ours back to fp32,
   * ..., ours to fp16 (the compute dtype of the node's result), the
   * boundary cast to the float32 output */
  g_assert_cmpstr (seq16_got, ==, "cast,cast,reduce_max,sub,exp,reduce_sum,log,reshape,not_equal,greater_equal,"
                   "less,logical_and,logical_and,select,gather_along_axis,sub,select,cast,reduce_sum,reduce_sum,"
                   "maximum,real_div,cast,cast");
  for (guint i = 0; i < G_N_ELEMENTS (f32_ops); i++)
    {
      AneMilOperation *op = ane_test_find_op (p16, f32_ops[i], 0);

      g_assert_nonnull (op);
      ane_test_assert_output (op, 0, ANE_DTYPE_FLOAT32, f32_ops[i][0] == 'r' || f32_ops[i][0] == 'l' ||
                              f32_ops[i][0] == 'g' ? ks : xs, 3);
    }
  ane_test_assert_output (ane_test_find_op (p16, "real_div", 0), 0, ANE_DTYPE_FLOAT32, NULL, 0);
  last = ane_test_find_op (p16, "cast", 3);
  g_assert_nonnull (last);
  ane_test_assert_output (last, 0, ANE_DTYPE_FLOAT16, NULL, 0);
  gather = ane_test_find_op (p32, "gather_along_axis", 0);
  g_assert_cmpstr (ane_test_producer_type (p32, ane_test_op_arg (gather, "indices")), ==, "select");
  g_assert_cmpstr (ane_test_producer_type (p32, ane_test_op_arg (gather, "x")), ==, "sub");
}

/* --- the CPU backend ----------------------------------------------------- */

/* fp32 programs at every target against the reference, on every shape and
 * both kinds of ignore; one ignored row holds +inf and NaN logits, which
 * must not reach the loss (the reference skips the row, the lowering
 * selects 0 for it). */
static void
test_cpu_fp32 (void)
{
  double worst = 0;

  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (guint variant = 0; variant < 2; variant++)
      {
        const Shape *sh = &shapes[s];
        gint64 ignore = variant == 0 ? IGNORE : 2;
        gsize classes = (gsize) sh->shape[sh->rank - 1], rows = n_of (sh->shape, sh->rank - 1);
        g_autofree double *x = rand_doubles (rows * classes, 30 + s, -6, 6, FALSE);
        g_autofree gint32 *t = rand_targets (rows, (gint64) classes, 40 + s, 3, ignore);
        g_autoptr(AneGraph) g = loss_graph (ANE_DTYPE_FLOAT32, sh->shape, sh->rank, ignore);
        g_autoptr(AneTensor) vx = NULL, vt = NULL;
        double want;

        if (rows > 1)
          {
            /* row 1 is ignored (rand_targets): poison it */
            x[classes] = INFINITY;
            x[classes + 1] = NAN;
          }
        vx = ane_test_tensor_values ("logits", ANE_DTYPE_FLOAT32, sh->shape, sh->rank, x);
        vt = targets_tensor (sh->shape, sh->rank - 1, t);
        want = run_ok (g, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, vx, vt);
        g_assert_true (isfinite (want));
        for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
          {
            g_autofree char *what = g_strdup_printf ("CPU fp32 %s, rank %u, ignore_index %" G_GINT64_FORMAT,
                                                     ane_target_to_string (targets[i]), sh->rank, ignore);
            double got = run_ok (g, ANE_BACKEND_CPU, targets[i], ANE_PRECISION_FLOAT32, vx, vt);

            assert_close (what, got, want, FP32_RTOL, 0);
            worst = MAX (worst, rel_err (got, want));
          }
      }
  g_test_message ("CPU fp32 vs reference: worst relative error %.2e", worst);
}

/* fp16 programs: V = 32000 (logits in [-8, 8] and in [-30, 30]) and
 * logits near ±1e4 (multiples of 8, fp16's spacing there), with float32
 * and float16 logits inputs. The values are fp16-representable, so the
 * program sees the reference's logits; the reduction runs in float32, and
 * the loss is rounded once to fp16: within 2^-10 relative. */
static void
test_cpu_fp16 (void)
{
  static const struct { gint64 shape[3]; guint rank; double lo, hi; gboolean large; } cases[] = {
    { { 4, 32000 }, 2, -8, 8, FALSE },
    { { 2, 32000 }, 2, -30, 30, FALSE },
    { { 2, 3, 64 }, 3, 0, 0, TRUE },
    { { 32000 }, 1, -8, 8, FALSE },
  };
  double worst = 0;

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (guint half_in = 0; half_in < 2; half_in++)
      {
        guint rank = cases[c].rank;
        const gint64 *shape = cases[c].shape;
        gsize classes = (gsize) shape[rank - 1], rows = n_of (shape, rank - 1);
        AneDType dt = half_in ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
        g_autofree double *x = rand_doubles (rows * classes, 50 + c, cases[c].lo, cases[c].hi, TRUE);
        g_autofree gint32 *t = rand_targets (rows, (gint64) classes, 60 + c, rows > 2 ? 3 : 0, IGNORE);
        g_autoptr(AneGraph) g = loss_graph (dt, shape, rank, IGNORE);
        g_autoptr(AneTensor) vx = NULL, vt = targets_tensor (shape, rank - 1, t);
        double want;

        if (cases[c].large)
          {
            g_autoptr(GRand) rand = g_rand_new_with_seed (70 + c);

            /* ±(9000 .. 11000) in steps of 8: representable in fp16 */
            for (gsize i = 0; i < rows * classes; i++)
              x[i] = (g_rand_boolean (rand) ? 1 : -1) * (9000 + 8 * g_rand_int_range (rand, 0, 250));
          }
        vx = ane_test_tensor_values ("logits", dt, shape, rank, x);
        want = run_ok (g, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, vx, vt);
        for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
          {
            g_autofree char *what = g_strdup_printf ("CPU fp16 %s, case %u, %s logits",
                                                     ane_target_to_string (targets[i]), c,
                                                     ane_dtype_to_string (dt));
            double got = run_ok (g, ANE_BACKEND_CPU, targets[i], ANE_PRECISION_FLOAT16, vx, vt);

            assert_close (what, got, want, FP16_EPS, 0);
            worst = MAX (worst, rel_err (got, want));
          }
      }
  g_test_message ("CPU fp16 vs reference: worst relative error %.2e", worst);
}

/* The rank-0 loss as a package output: lowered, saved, loaded and run. */
static void
test_package (void)
{
  static const gint64 xs[] = { 2, 3, 5 };
  static const gint32 t[] = { 0, 4, IGNORE, 2, 1, 3 };
  g_autofree double *x = rand_doubles (30, 90, -3, 3, FALSE);
  g_autoptr(AneGraph) g = loss_graph (ANE_DTYPE_FLOAT32, xs, 3, IGNORE);
  g_autoptr(AneTensor) vx = ane_test_tensor_values ("logits", ANE_DTYPE_FLOAT32, xs, 3, x);
  g_autoptr(AneTensor) vt = targets_tensor (xs, 2, t);
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-xent-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "xent.mlpackage", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT32, &error);
  g_autoptr(AnePackage) loaded = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(GPtrArray) out = NULL;
  AneTensor *inputs[2] = { vx, vt };
  AneTensor *y;
  double want = run_ok (g, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, vx, vt);

  g_assert_no_error (error);
  g_assert_true (ane_package_save (pkg, path, FALSE, &error));
  g_assert_no_error (error);
  loaded = ane_package_load (path, &error);
  g_assert_no_error (error);
  exe = ane_executable_new_from_package_full (loaded, NULL, ANE_BACKEND_CPU, &error);
  g_assert_no_error (error);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  out = ane_executable_run (exe, inputs, 2, NULL, &error);
  g_assert_no_error (error);
  y = g_ptr_array_index (out, 0);
  g_assert_cmpstr (ane_tensor_get_name (y), ==, "loss");
  g_assert_cmpuint (ane_tensor_get_rank (y), ==, 0);
  assert_close ("package output", ane_tensor_get_value (y, 0), want, FP32_RTOL, 0);
  ane_test_remove_tree (dir);
}

/* --- the gradient: test-grad.c's method ---------------------------------- */

/* the harness of test-grad.c (ane-grad-test-util.h): params on the 2^-10
 * grid, h = 2^-8, then the same gradient graph on the CPU backend at fp32
 * and fp16 */
static AneTensor *
param (AneGraph     *g,
       const char   *name,
       const gint64 *shape,
       guint         rank,
       guint32       seed,
       double        lo,
       double        hi)
{
  return ane_grad_test_param (g, name, shape, rank, seed, lo, hi, 0.0);
}

static AneTensor *
const_targets (AneGraph     *g,
               const gint64 *shape,
               guint         rank,
               const gint32 *t)
{
  g_autoptr(AneTensor) v = targets_tensor (shape, rank, t);
  g_autoptr(GError) error = NULL;
  AneTensor *c = ane_graph_const (g, v, &error);

  g_assert_no_error (error);
  return c;
}

#define add_loss(g, y)       ane_grad_test_add_loss (g, y)
#define check(what, g, wrt)  ane_grad_test_check (what, g, wrt)
#define find_output(out, n)  ane_grad_test_find_output (out, n)

static void
test_grad (void)
{
  static const char *const wrt_x[] = { "x", NULL };
  static const char *const wrt_hw[] = { "h", "w", NULL };

  /* [B,S,V] with an ignored position */
  {
    static const gint64 xs[] = { 2, 3, 5 };
    static const gint32 t[] = { 0, 4, IGNORE, 2, 1, 4 };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = param (g, "x", xs, 3, 1, -2, 2);
    g_autoptr(AneTensor) tt = const_targets (g, xs, 2, t);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) y = ane_graph_cross_entropy (g, x, tt, IGNORE, &error);

    g_assert_no_error (error);
    add_loss (g, y);
    check ("[2,3,5], one ignored", g, wrt_x);
  }
  /* [V] */
  {
    static const gint64 xs[] = { 6 };
    static const gint32 t[] = { 2 };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = param (g, "x", xs, 1, 2, -3, 3);
    g_autoptr(AneTensor) tt = const_targets (g, NULL, 0, t);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) y = ane_graph_cross_entropy (g, x, tt, IGNORE, &error);

    g_assert_no_error (error);
    add_loss (g, y);
    check ("[6]", g, wrt_x);
  }
  /* an ignore_index inside [0, V), at several positions */
  {
    static const gint64 xs[] = { 4, 3 };
    static const gint32 t[] = { 1, 0, 1, 2 };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = param (g, "x", xs, 2, 3, -2, 2);
    g_autoptr(AneTensor) tt = const_targets (g, xs, 1, t);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) y = ane_graph_cross_entropy (g, x, tt, 1, &error);

    g_assert_no_error (error);
    add_loss (g, y);
    check ("[4,3], ignore_index 1", g, wrt_x);
  }
  /* through a matmul: logits = h · w */
  {
    static const gint64 hs[] = { 4, 3 }, ws[] = { 3, 5 };
    static const gint32 t[] = { 4, IGNORE, 0, 3 };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) h = param (g, "h", hs, 2, 4, -1, 1);
    g_autoptr(AneTensor) w = param (g, "w", ws, 2, 5, -1, 1);
    g_autoptr(AneTensor) tt = const_targets (g, hs, 1, t);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) logits = ane_graph_matmul (g, h, w, FALSE, FALSE, &error);
    g_autoptr(AneTensor) y = NULL;

    g_assert_no_error (error);
    y = ane_graph_cross_entropy (g, logits, tt, IGNORE, &error);
    g_assert_no_error (error);
    add_loss (g, y);
    check ("matmul then cross_entropy", g, wrt_hw);
  }
}

/* Every position ignored: the gradient is exactly 0 (reference and CPU),
 * and the targets, integers, are not differentiable. */
static void
test_grad_all_ignored (void)
{
  static const gint64 xs[] = { 3, 4 };
  static const gint32 t[] = { IGNORE, IGNORE, IGNORE };
  static const char *const wrt[] = { "x", NULL };
  static const char *const wrt_t[] = { "targets", NULL };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = param (g, "x", xs, 2, 6, -2, 2);
  g_autoptr(AneTensor) tt = ane_test_input (g, "targets", ANE_DTYPE_INT32, xs, 1);
  g_autoptr(AneTensor) vt = targets_tensor (xs, 1, t);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_cross_entropy (g, x, tt, IGNORE, &error);
  g_autoptr(AneGraph) gg = NULL;

  g_assert_no_error (error);
  ane_test_output (g, "loss", y);
  gg = ane_graph_gradients (g, "loss", wrt, &error);
  g_assert_no_error (error);
  for (guint b = 0; b < 2; b++)
    {
      g_autoptr(AneExecutable) exe = ane_executable_new (gg, b == 0 ? ANE_BACKEND_REFERENCE : ANE_BACKEND_CPU);
      g_autoptr(GPtrArray) out = NULL;
      g_autofree double *d = NULL;
      gsize n;

      ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
      g_assert_true (ane_executable_compile (exe, NULL, &error));
      out = ane_executable_run (exe, &vt, 1, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpfloat (ane_tensor_get_value (find_output (out, "loss"), 0), ==, 0.0);
      d = ane_test_dup_doubles (find_output (out, "grad_x"), &n);
      g_assert_cmpuint (n, ==, 12);
      for (gsize i = 0; i < n; i++)
        g_assert_cmpfloat (d[i], ==, 0.0);
    }
  g_assert_null (ane_graph_gradients (g, "loss", wrt_t, &error));
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "targets", "int32", NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cross-entropy/shape", test_shape);
  g_test_add_func ("/cross-entropy/reference", test_reference);
  g_test_add_func ("/cross-entropy/all-ignored", test_all_ignored);
  g_test_add_func ("/cross-entropy/large-logits", test_large_logits);
  g_test_add_func ("/cross-entropy/out-of-range", test_out_of_range);
  g_test_add_func ("/cross-entropy/lower", test_lower);
  g_test_add_func ("/cross-entropy/cpu-fp32", test_cpu_fp32);
  g_test_add_func ("/cross-entropy/cpu-fp16", test_cpu_fp16);
  g_test_add_func ("/cross-entropy/package", test_package);
  g_test_add_func ("/cross-entropy/grad", test_grad);
  g_test_add_func ("/cross-entropy/grad-all-ignored", test_grad_all_ignored);
  return g_test_run ();
}
