/* test-cpu-nn.c: the CPU interpreter's softmax and normalization kernels, held
 * against the IR reference evaluator
 *
 * Each test builds a small graph, runs it with ANE_BACKEND_REFERENCE and with
 * ANE_BACKEND_CPU (the lowered MIL program, interpreted) at fp32 and fp16
 * compute precision and the targets that matter, and compares the outputs:
 * - fp32 programs: |got - expected| <= 1e-5 |expected| + 1e-6 max|expected|
 *   (rtol 1e-5; the small absolute term, relative to the largest value, is
 *   for outputs that cross zero, such as normalized values);
 * - fp16 programs: |got - expected| <= k 2^-10 max|expected|, where 2^-10 is
 *   fp16's epsilon (an fp16 rounding is off by at most 2^-11 relative) and k
 *   is stated per op below from the number of fp16 roundings in its lowering.
 * Inputs and weights are exact in fp16, so the fp16 programs' input casts and
 * fp16 weight storage add no error. CPU runs check every op's result for
 * inf/NaN (debug_nonfinite), so an fp16 overflow inside a lowering fails.
 * When the CPU backend has no kernel for an op a lowering uses (another
 * kernel family not written yet), the test is skipped and says which op.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"

/* --- the differential harness ----------------------------------------------- */

#define FP16_EPS (1.0 / 1024.0)

/* A float32 tensor of pseudo-random values in [lo, hi), each exact in fp16. */
static AneTensor *
rnd (const char   *name,
     const gint64 *shape,
     guint         rank,
     guint32       seed,
     float         lo,
     float         hi)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autofree float *v = NULL;
  gint64 n = 1;

  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  v = g_new (float, MAX (n, 1));
  for (gint64 i = 0; i < n; i++)
    v[i] = ane_half_to_float (ane_float_to_half ((float) g_rand_double_range (rand, lo, hi)));
  return ane_test_tensor_f32 (name, shape, rank, v);
}

static AneTensor *
in_f32 (AneGraph     *g,
        const char   *name,
        const gint64 *shape,
        guint         rank)
{
  return ane_test_input (g, name, ANE_DTYPE_FLOAT32, shape, rank);
}

static AneTensor *
konst (AneGraph  *g,
       AneTensor *value)
{
  return ane_test_const (g, value);
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
precision_name (AnePrecision p)
{
  return p == ANE_PRECISION_FLOAT32 ? "fp32" : "fp16";
}

static const char *
target_name (AneTarget t)
{
  switch (t)
    {
    case ANE_TARGET_IOS15: return "iOS15";
    case ANE_TARGET_IOS16: return "iOS16";
    case ANE_TARGET_IOS17: return "iOS17";
    default:               return "iOS18";
    }
}

/* Compares the outputs (same order, same element counts) at the tolerance of
 * the precision (see the header); k16 is the fp16 multiple. */
static void
assert_outputs_close (const char   *what,
                      GPtrArray    *expected,
                      GPtrArray    *got,
                      AnePrecision  precision,
                      double        k16)
{
  g_assert_cmpuint (got->len, ==, expected->len);
  for (guint o = 0; o < expected->len; o++)
    {
      g_autofree float *e = NULL, *v = NULL;
      g_autofree char *label = g_strdup_printf ("%s, output %u", what, o);
      gsize ne, nv;
      double maxabs = 0.0, worst;
      g_autoptr(GError) error = NULL;

      e = ane_tensor_dup_floats (g_ptr_array_index (expected, o), &ne, &error);
      g_assert_no_error (error);
      v = ane_tensor_dup_floats (g_ptr_array_index (got, o), &nv, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (nv, ==, ne);
      for (gsize i = 0; i < ne; i++)
        if (isfinite (e[i]))
          maxabs = MAX (maxabs, fabs (e[i]));
      if (precision == ANE_PRECISION_FLOAT32)
        worst = ane_test_assert_close_floats (label, v, e, ne, 1e-5, 1e-6 * maxabs);
      else
        worst = ane_test_assert_close_floats (label, v, e, ne, 0.0, k16 * FP16_EPS * maxabs);
      g_test_message ("%s: largest difference %.3g (max|expected| %.3g)", label, worst, maxabs);
    }
}

/* Runs graph on a backend. Returns the outputs, or NULL with error. */
static GPtrArray *
run_backend (AneGraph     *graph,
             AneBackend    backend,
             AneTarget     target,
             AnePrecision  precision,
             AneTensor   **inputs,
             guint         n_inputs,
             GError      **error)
{
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, backend);

  ane_executable_set_target (exe, target);
  ane_executable_set_precision (exe, precision);
  ane_executable_set_debug_nonfinite (exe, backend == ANE_BACKEND_CPU);
  if (!ane_executable_compile (exe, NULL, error))
    return NULL;
  return ane_executable_run (exe, inputs, n_inputs, NULL, error);
}

/* Runs graph on the reference and on the CPU at each target, fp32 and fp16,
 * and compares. FALSE when a kernel is missing (the test is then skipped). */
static gboolean
check_graph (const char      *what,
             AneGraph        *graph,
             AneTensor      **inputs,
             guint            n_inputs,
             const AneTarget *targets,
             guint            n_targets,
             double           k16)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) expected = run_backend (graph, ANE_BACKEND_REFERENCE, ANE_TARGET_IOS18,
                                               ANE_PRECISION_FLOAT32, inputs, n_inputs, &error);

  g_assert_no_error (error);
  for (guint t = 0; t < n_targets; t++)
    for (guint p = 0; p < 2; p++)
      {
        AnePrecision precision = p == 0 ? ANE_PRECISION_FLOAT32 : ANE_PRECISION_FLOAT16;
        g_autofree char *label = g_strdup_printf ("%s [%s, %s]", what, target_name (targets[t]),
                                                  precision_name (precision));
        g_autoptr(GPtrArray) got = run_backend (graph, ANE_BACKEND_CPU, targets[t], precision,
                                                inputs, n_inputs, &error);

        if (got == NULL && skip_missing_kernel (error, label))
          return FALSE;
        if (error)
          g_test_message ("%s: %s", label, error->message);
        g_assert_no_error (error);
        assert_outputs_close (label, expected, got, precision, k16);
      }
  return TRUE;
}

static const AneTarget ios15_18[] = { ANE_TARGET_IOS15, ANE_TARGET_IOS18 };

/* --- softmax ---------------------------------------------------------------- */

/* fp16: k = 1. softmax is one MIL op whose statistics are computed in double;
 * its output is rounded to fp16 once (at most 2^-11 relative). */
static void
test_softmax (void)
{
  static const gint64 shape[] = { 2, 3, 5 };
  static const int axes[] = { -1, 0, 1, 2 };

  for (guint a = 0; a < G_N_ELEMENTS (axes); a++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = in_f32 (g, "x", shape, 3);
      g_autoptr(AneTensor) y = ane_graph_softmax (g, x, axes[a], &error);
      g_autoptr(AneTensor) xv = rnd ("x", shape, 3, 11 + a, -6.0f, 6.0f);
      g_autofree char *what = g_strdup_printf ("softmax axis %d", axes[a]);

      g_assert_no_error (error);
      ane_test_output (g, "y", y);
      if (!check_graph (what, g, &xv, 1, ios15_18, 2, 1.0))
        return;
    }
}

/* --- layer_norm --------------------------------------------------------------- */

typedef enum {
  AFFINE_NONE,
  AFFINE_CONST_GAMMA,        /* gamma const, no beta: folded */
  AFFINE_CONST_BOTH,         /* gamma and beta const: folded */
  AFFINE_BETA_ONLY,          /* beta const without gamma: applied after */
  AFFINE_INPUT_GAMMA,        /* gamma a graph input, beta const: both after */
  AFFINE_INPUT_BOTH,         /* both graph inputs: after */
} Affine;

static const char *const affine_names[] = {
  "no affine", "const gamma", "const gamma+beta", "const beta only", "input gamma + const beta", "input gamma+beta",
};

/* fp16: k = 3. The native op rounds once; the parameters applied after it
 * (mul, add) round twice more; with gamma in [0.5, 1.5] and beta in
 * [-0.5, 0.5] each rounding is at most 2^-11 of a value no larger than about
 * 1.5 max|expected|. */
static void
test_layer_norm (void)
{
  static const gint64 shape[] = { 2, 3, 4, 5 };
  static const struct { gint64 axes[3]; guint n; } cases[] = {
    { { -1 }, 1 }, { { -2, -1 }, 2 }, { { 1, 2, 3 }, 3 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (guint af = AFFINE_NONE; af <= AFFINE_INPUT_BOTH; af++)
      {
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(GError) error = NULL;
        gint64 pshape[3];
        guint prank = cases[c].n;
        g_autoptr(AneTensor) x = in_f32 (g, "x", shape, 4);
        g_autoptr(AneTensor) xv = rnd ("x", shape, 4, 100 + c, -3.0f, 3.0f);
        g_autoptr(AneTensor) gv = NULL, bv = NULL, gamma = NULL, beta = NULL, y = NULL;
        g_autofree char *what = NULL;
        AneTensor *inputs[3];
        guint n_inputs = 0;

        for (guint i = 0; i < prank; i++)
          pshape[i] = shape[4 - prank + i];
        gv = rnd ("gamma", pshape, prank, 200 + c, 0.5f, 1.5f);
        bv = rnd ("beta", pshape, prank, 300 + c, -0.5f, 0.5f);
        inputs[n_inputs++] = xv;
        switch ((Affine) af)
          {
          case AFFINE_NONE:
            break;
          case AFFINE_CONST_GAMMA:
            gamma = konst (g, gv);
            break;
          case AFFINE_CONST_BOTH:
            gamma = konst (g, gv);
            beta = konst (g, bv);
            break;
          case AFFINE_BETA_ONLY:
            beta = konst (g, bv);
            break;
          case AFFINE_INPUT_GAMMA:
            gamma = in_f32 (g, "gamma", pshape, prank);
            beta = konst (g, bv);
            inputs[n_inputs++] = gv;
            break;
          case AFFINE_INPUT_BOTH:
            gamma = in_f32 (g, "gamma", pshape, prank);
            beta = in_f32 (g, "beta", pshape, prank);
            inputs[n_inputs++] = gv;
            inputs[n_inputs++] = bv;
            break;
          }
        y = ane_graph_layer_norm (g, x, gamma, beta, cases[c].axes, cases[c].n, 1e-5, &error);
        g_assert_no_error (error);
        ane_test_output (g, "y", y);
        what = g_strdup_printf ("layer_norm over %u trailing axes, %s", cases[c].n, affine_names[af]);
        if (!check_graph (what, g, inputs, n_inputs, ios15_18, 2, 3.0))
          return;
      }
}

/* --- rms_norm ------------------------------------------------------------------ */

/* fp16: k = 4. The fp16 lowering rescales each row by m = max|x| before
 * squaring: u = x/m, u*u, the mean, the eps terms, rsqrt, u*r and *weight
 * each round once; the output's relative error adds up to about 3 half-ulps
 * (1.5 2^-10) of |y|, bounded by max|expected|, plus one more for margin.
 * Rows hold values up to +-1000, so a plain x*x (1e6) would overflow fp16's
 * 65504; debug_nonfinite makes any inf inside the program fail the run. */
static void
test_rms_norm (void)
{
  static const gint64 shape[] = { 3, 4, 16 }, wshape[] = { 16 };
  static const double epss[] = { 1e-5, 1e-6, 0.0 };
  static const struct { float lo, hi; } ranges[] = { { -2.0f, 2.0f }, { -1000.0f, 1000.0f }, { -0.01f, 0.01f } };

  for (guint e = 0; e < G_N_ELEMENTS (epss); e++)
    for (guint r = 0; r < G_N_ELEMENTS (ranges); r++)
      for (guint w = 0; w < 3; w++)   /* no weight, const weight, input weight */
        {
          g_autoptr(AneGraph) g = ane_graph_new ();
          g_autoptr(GError) error = NULL;
          g_autoptr(AneTensor) x = in_f32 (g, "x", shape, 3);
          g_autoptr(AneTensor) xv = rnd ("x", shape, 3, 400 + r, ranges[r].lo, ranges[r].hi);
          g_autoptr(AneTensor) wv = rnd ("weight", wshape, 1, 500 + r, 0.5f, 1.5f);
          g_autoptr(AneTensor) weight = NULL, y = NULL;
          g_autofree char *what = NULL;
          AneTensor *inputs[2] = { xv, wv };

          if (w == 1)
            weight = konst (g, wv);
          else if (w == 2)
            weight = in_f32 (g, "weight", wshape, 1);
          y = ane_graph_rms_norm (g, x, weight, epss[e], &error);
          g_assert_no_error (error);
          ane_test_output (g, "y", y);
          what = g_strdup_printf ("rms_norm eps %g, |x| < %g, %s", epss[e], ranges[r].hi,
                                  w == 0 ? "no weight" : w == 1 ? "const weight" : "input weight");
          if (!check_graph (what, g, inputs, w == 2 ? 2 : 1, ios15_18, 2, 4.0))
            return;
        }
}

/* --- group_norm ------------------------------------------------------------------ */

/* fp16: k = 3: layer_norm rounds once, the gamma mul and beta add once each
 * (gamma in [0.5, 1.5], beta in [-0.5, 0.5], as for layer_norm). */
static void
test_group_norm (void)
{
  static const struct { gint64 shape[4]; guint rank; gint64 groups; } cases[] = {
    { { 2, 6, 4, 3 }, 4, 3 }, { { 2, 6, 4, 3 }, 4, 1 }, { { 2, 6, 4, 3 }, 4, 6 },
    { { 3, 8, 5 }, 3, 4 }, { { 4, 6 }, 2, 2 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (guint af = 0; af < 3; af++)   /* none, const gamma+beta, input gamma+beta */
      {
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(GError) error = NULL;
        const gint64 *shape = cases[c].shape;
        gint64 cshape[1] = { shape[1] };
        g_autoptr(AneTensor) x = in_f32 (g, "x", shape, cases[c].rank);
        g_autoptr(AneTensor) xv = rnd ("x", shape, cases[c].rank, 600 + c, -3.0f, 3.0f);
        g_autoptr(AneTensor) gv = rnd ("gamma", cshape, 1, 610 + c, 0.5f, 1.5f);
        g_autoptr(AneTensor) bv = rnd ("beta", cshape, 1, 620 + c, -0.5f, 0.5f);
        g_autoptr(AneTensor) gamma = NULL, beta = NULL, y = NULL;
        g_autofree char *what = NULL;
        AneTensor *inputs[3] = { xv, gv, bv };

        if (af == 1)
          {
            gamma = konst (g, gv);
            beta = konst (g, bv);
          }
        else if (af == 2)
          {
            gamma = in_f32 (g, "gamma", cshape, 1);
            beta = in_f32 (g, "beta", cshape, 1);
          }
        y = ane_graph_group_norm (g, x, gamma, beta, cases[c].groups, 1e-5, &error);
        g_assert_no_error (error);
        ane_test_output (g, "y", y);
        what = g_strdup_printf ("group_norm rank %u, %" G_GINT64_FORMAT " groups, %s", cases[c].rank,
                                cases[c].groups, af == 0 ? "no affine" : af == 1 ? "const affine" : "input affine");
        if (!check_graph (what, g, inputs, af == 2 ? 3 : 1, ios15_18, 2, 3.0))
          return;
      }
}

/* --- layer_norm_2d ---------------------------------------------------------------- */

/* fp16: k = 3, as layer_norm. */
static void
test_layer_norm_2d (void)
{
  static const gint64 shape[] = { 2, 5, 3, 4 }, cshape[] = { 5 };

  for (guint af = 0; af < 4; af++)   /* none, const both, input both, const gamma only */
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = in_f32 (g, "x", shape, 4);
      g_autoptr(AneTensor) xv = rnd ("x", shape, 4, 700, -3.0f, 3.0f);
      g_autoptr(AneTensor) gv = rnd ("gamma", cshape, 1, 701, 0.5f, 1.5f);
      g_autoptr(AneTensor) bv = rnd ("beta", cshape, 1, 702, -0.5f, 0.5f);
      g_autoptr(AneTensor) gamma = NULL, beta = NULL, y = NULL;
      g_autofree char *what = NULL;
      AneTensor *inputs[3] = { xv, gv, bv };

      if (af == 1 || af == 3)
        gamma = konst (g, gv);
      if (af == 1)
        beta = konst (g, bv);
      if (af == 2)
        {
          gamma = in_f32 (g, "gamma", cshape, 1);
          beta = in_f32 (g, "beta", cshape, 1);
        }
      y = ane_graph_layer_norm_2d (g, x, gamma, beta, 1e-6, &error);
      g_assert_no_error (error);
      ane_test_output (g, "y", y);
      what = g_strdup_printf ("layer_norm_2d, %s", af == 0 ? "no affine" : af == 1 ? "const affine"
                                                   : af == 2 ? "input affine" : "const gamma only");
      if (!check_graph (what, g, inputs, af == 2 ? 3 : 1, ios15_18, 2, 3.0))
        return;
    }
}

/* --- batch_norm ------------------------------------------------------------------- */

/* fp16: k = 3. The native op rounds once. The composed form (a parameter
 * that is a graph input) rounds rsqrt(var + eps), its product with gamma,
 * x - mean, the product and the beta add: about 2.5 half-ulps relative to
 * the largest value, so 3 2^-10 leaves margin. */
static void
test_batch_norm (void)
{
  /* (no rank 6: Core ML tensors have rank 5 at most) */
  static const struct { gint64 shape[5]; guint rank; } cases[] = {
    { { 4, 3 }, 2 }, { { 2, 3, 5 }, 3 }, { { 2, 3, 4, 2 }, 4 }, { { 1, 3, 2, 2, 3 }, 5 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (guint mode = 0; mode < 3; mode++)   /* const params; const without gamma/beta; input mean + variance */
      {
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(GError) error = NULL;
        const gint64 *shape = cases[c].shape;
        gint64 cshape[1] = { shape[1] };
        g_autoptr(AneTensor) x = in_f32 (g, "x", shape, cases[c].rank);
        g_autoptr(AneTensor) xv = rnd ("x", shape, cases[c].rank, 800 + c, -3.0f, 3.0f);
        g_autoptr(AneTensor) mv = rnd ("mean", cshape, 1, 810 + c, -1.0f, 1.0f);
        g_autoptr(AneTensor) vv = rnd ("variance", cshape, 1, 820 + c, 0.25f, 2.0f);
        g_autoptr(AneTensor) gv = rnd ("gamma", cshape, 1, 830 + c, 0.5f, 1.5f);
        g_autoptr(AneTensor) bv = rnd ("beta", cshape, 1, 840 + c, -0.5f, 0.5f);
        g_autoptr(AneTensor) mean = NULL, var = NULL, gamma = NULL, beta = NULL, y = NULL;
        g_autofree char *what = NULL;
        AneTensor *inputs[3] = { xv, mv, vv };

        if (mode == 2)
          {
            mean = in_f32 (g, "mean", cshape, 1);
            var = in_f32 (g, "variance", cshape, 1);
          }
        else
          {
            mean = konst (g, mv);
            var = konst (g, vv);
          }
        if (mode != 1)
          {
            gamma = konst (g, gv);
            beta = konst (g, bv);
          }
        y = ane_graph_batch_norm (g, x, mean, var, gamma, beta, 1e-5, &error);
        g_assert_no_error (error);
        ane_test_output (g, "y", y);
        what = g_strdup_printf ("batch_norm rank %u, %s", cases[c].rank,
                                mode == 0 ? "const parameters" : mode == 1 ? "const, no gamma/beta"
                                                               : "input mean and variance");
        if (!check_graph (what, g, inputs, mode == 2 ? 3 : 1, ios15_18, 2, 3.0))
          return;
      }
}

/* --- compositions that need other kernel families --------------------------------- */

/* rope and axial_rope_2d (cos/sin tables, slices, concat). fp16: k = 4: the
 * fp16 angle tables (cos, sin rounded once each), the four products and the
 * sub/add round, about 2 2^-10 of max|expected| in the worst case. */
static void
test_rope (void)
{
  static const gint64 shape[] = { 1, 2, 5, 8 }, pshape[] = { 5 };
  static const double pos[] = { 0, 1, 2, 7, 30 };

  for (guint mode = 0; mode < 2; mode++)
    for (guint r = 0; r < 2; r++)
      {
        gint64 n_rot = r == 0 ? 0 : 4;
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) x = in_f32 (g, "x", shape, 4);
        g_autoptr(AneTensor) p = ane_test_input (g, "positions", ANE_DTYPE_INT32, pshape, 1);
        g_autoptr(AneTensor) xv = rnd ("x", shape, 4, 900 + mode, -2.0f, 2.0f);
        g_autoptr(AneTensor) pv = ane_test_tensor_values ("positions", ANE_DTYPE_INT32, pshape, 1, pos);
        g_autoptr(AneTensor) y = ane_graph_rope (g, x, p, mode == 0 ? ANE_ROPE_NEOX : ANE_ROPE_INTERLEAVED,
                                                 10000.0, n_rot, &error);
        g_autofree char *what = g_strdup_printf ("rope %s n_rot %" G_GINT64_FORMAT,
                                                 mode == 0 ? "neox" : "interleaved", n_rot);
        AneTensor *inputs[2] = { xv, pv };

        g_assert_no_error (error);
        ane_test_output (g, "y", y);
        if (!check_graph (what, g, inputs, 2, ios15_18, 2, 4.0))
          return;
      }
  {
    static const gint64 ashape[] = { 1, 2, 6, 8 };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = in_f32 (g, "x", ashape, 4);
    g_autoptr(AneTensor) xv = rnd ("x", ashape, 4, 910, -2.0f, 2.0f);
    g_autoptr(AneTensor) y = ane_graph_axial_rope_2d (g, x, 3, 2, 10000.0, &error);

    g_assert_no_error (error);
    ane_test_output (g, "y", y);
    check_graph ("axial_rope_2d 3x2", g, &xv, 1, ios15_18, 2, 4.0);
  }
}

/* selective_scan, unrolled over L (matmul-free: products, reduce_sum,
 * slices, concat). fp16: k = 8: each of the L = 5 steps rounds the decay
 * exp(delta A), the state update (two products, one add) and the readout
 * reduction; the state's error grows about linearly with L. */
static void
test_selective_scan (void)
{
  static const gint64 ud[] = { 1, 3, 5 }, ad[] = { 3, 4 }, bd[] = { 1, 4, 5 }, dd[] = { 3 };

  for (guint full = 0; full < 2; full++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) u = in_f32 (g, "u", ud, 3), delta = in_f32 (g, "delta", ud, 3);
      g_autoptr(AneTensor) b = in_f32 (g, "b", bd, 3), c = in_f32 (g, "c", bd, 3);
      g_autoptr(AneTensor) uv = rnd ("u", ud, 3, 1000, -1.0f, 1.0f);
      g_autoptr(AneTensor) dv = rnd ("delta", ud, 3, 1001, 0.05f, 0.5f);
      g_autoptr(AneTensor) av = rnd ("a", ad, 2, 1002, -1.0f, -0.1f);
      g_autoptr(AneTensor) bv = rnd ("b", bd, 3, 1003, -1.0f, 1.0f);
      g_autoptr(AneTensor) cv = rnd ("c", bd, 3, 1004, -1.0f, 1.0f);
      g_autoptr(AneTensor) Dv = rnd ("d", dd, 1, 1005, -1.0f, 1.0f);
      g_autoptr(AneTensor) zv = rnd ("z", ud, 3, 1006, -2.0f, 2.0f);
      g_autoptr(AneTensor) biasv = rnd ("delta_bias", dd, 1, 1007, -0.5f, 0.5f);
      g_autoptr(AneTensor) a = konst (g, av);
      g_autoptr(AneTensor) D = NULL, z = NULL, bias = NULL, y = NULL;
      AneTensor *inputs[5] = { uv, dv, bv, cv, zv };

      if (full)
        {
          D = konst (g, Dv);
          z = in_f32 (g, "z", ud, 3);
          bias = konst (g, biasv);
        }
      y = ane_graph_selective_scan (g, u, delta, a, b, c, D, z, bias, full, &error);
      g_assert_no_error (error);
      ane_test_output (g, "y", y);
      if (!check_graph (full ? "selective_scan with d, z, delta_bias, softplus" : "selective_scan plain",
                        g, inputs, full ? 5 : 4, ios15_18, 2, 8.0))
        return;
    }
}

/* gated_delta_net, unrolled over T (matmul, slices, concat, reductions).
 * fp16: k = 8: each of the T = 4 steps rounds the decayed state, the
 * matmul Sᵀk, the delta, the outer-product update and the readout; the
 * state's error accumulates over the steps. */
static void
test_gated_delta_net (void)
{
  static const gint64 qd[] = { 1, 2, 4, 3 }, vd[] = { 1, 2, 4, 5 }, gd[] = { 1, 2, 4 }, sd[] = { 1, 2, 3, 5 };

  for (guint variant = 0; variant < 2; variant++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) q = in_f32 (g, "q", qd, 4), k = in_f32 (g, "k", qd, 4), v = in_f32 (g, "v", vd, 4);
      g_autoptr(AneTensor) gg = in_f32 (g, "g", gd, 3), beta = in_f32 (g, "beta", gd, 3);
      g_autoptr(AneTensor) qv = rnd ("q", qd, 4, 1100, -1.0f, 1.0f), kv = rnd ("k", qd, 4, 1101, -1.0f, 1.0f);
      g_autoptr(AneTensor) vv = rnd ("v", vd, 4, 1102, -1.0f, 1.0f);
      g_autoptr(AneTensor) gv = rnd ("g", gd, 3, 1103, -0.5f, -0.01f);
      g_autoptr(AneTensor) betav = rnd ("beta", gd, 3, 1104, 0.1f, 0.9f);
      g_autoptr(AneTensor) sv = rnd ("initial_state", sd, 4, 1105, -0.5f, 0.5f);
      g_autoptr(AneTensor) s0 = NULL, o = NULL, final = NULL;
      AneTensor *inputs[6] = { qv, kv, vv, gv, betav, sv };

      if (variant == 1)
        s0 = in_f32 (g, "initial_state", sd, 4);
      o = ane_graph_gated_delta_net (g, q, k, v, gg, beta, s0, 0.0, variant == 1, &final, &error);
      g_assert_no_error (error);
      ane_test_output (g, "o", o);
      ane_test_output (g, "final_state", final);
      if (!check_graph (variant ? "gated_delta_net with initial state, qk_l2norm" : "gated_delta_net plain",
                        g, inputs, variant ? 6 : 5, ios15_18, 2, 8.0))
        return;
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/cpu/nn/softmax", test_softmax);
  g_test_add_func ("/ane/cpu/nn/layer_norm", test_layer_norm);
  g_test_add_func ("/ane/cpu/nn/rms_norm", test_rms_norm);
  g_test_add_func ("/ane/cpu/nn/group_norm", test_group_norm);
  g_test_add_func ("/ane/cpu/nn/layer_norm_2d", test_layer_norm_2d);
  g_test_add_func ("/ane/cpu/nn/batch_norm", test_batch_norm);
  g_test_add_func ("/ane/cpu/nn/rope", test_rope);
  g_test_add_func ("/ane/cpu/nn/selective_scan", test_selective_scan);
  g_test_add_func ("/ane/cpu/nn/gated_delta_net", test_gated_delta_net);

  return g_test_run ();
}
