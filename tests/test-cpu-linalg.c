/* test-cpu-linalg.c: the CPU interpreter's linalg kernels (matmul, linear,
 * conv, conv_transpose, pools, upsample, scaled_dot_product_attention)
 * held against the IR reference evaluator
 *
 * Every differential case builds a small IR graph with seeded random inputs,
 * runs it on ANE_BACKEND_REFERENCE and on ANE_BACKEND_CPU (which lowers it to
 * MIL for the target and precision and interprets the program) and compares
 * every output. Each CPU run is done twice: through cblas_sgemm (when the
 * library has it) and through the plain-loop fallback
 * (ane_cpu_blas_set_enabled (FALSE)).
 *
 * Tolerances (err = |cpu − reference|):
 * - fp32 programs: err ≤ 1e-5 · max|expected| for ops that accumulate (their
 *   results cross zero, so a relative bound per element means nothing near
 *   zero); err ≤ 1e-6 · |expected| for exact ops (max_pool, upsample).
 * - fp16 programs: every input and weight is chosen fp16-representable, so
 *   the program sees exactly the reference's values and the difference is
 *   the rounding of results to fp16 (at most 2^-11 relative each; eps below
 *   is 2^-10, one ulp at 1). Per case: err ≤ m · eps · max|expected|, m =
 *   (number of fp16 roundings along the path) + 1 margin, stated at each
 *   case. Exact ops in fp16 (max_pool, upsample) must match exactly.
 *
 * Cases that need a kernel of another family (expand_dims, squeeze,
 * reshape, gather, slice_by_index, pad, softmax, ...) are skipped with
 * ane_test_skip while that kernel is missing (a failure under
 * ANE_TEST_STRICT, which the test command sets); a missing kernel of this
 * family always fails.
 *
 * MIL-text cases cover what the lowering never emits (pad_type same/valid,
 * ceil_mode, bool masks, fractional upsample factors, int32 matmul) and
 * malformed programs, which must fail with a message naming the problem.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-lower-test-util.h"
#include "mil/ane-mil-text-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"
#include "runtime/cpu/ane-cpu-blas-private.h"

#define FP16_EPS (1.0 / 1024.0)   /* 2^-10 */

/* The MIL ops whose kernels this family provides. */
static const char *const family_ops[] = {
  "matmul", "linear", "conv", "conv_transpose", "max_pool", "avg_pool",
  "upsample_nearest_neighbor", "scaled_dot_product_attention", NULL,
};

/* --- helpers ----------------------------------------------------------------- */

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

static float
to_half (float v)
{
  return ane_half_to_float (ane_float_to_half (v));
}

/* Seeded values in [lo, hi), rounded to fp16 when half (exact in fp16 programs). */
static AneTensor *
rand_tensor (const char   *name,
             const gint64 *shape,
             guint         rank,
             guint32       seed,
             float         lo,
             float         hi,
             gboolean      half)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autofree float *v = NULL;
  gint64 n = 1;

  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  v = g_new (float, MAX (n, 1));
  for (gint64 i = 0; i < n; i++)
    {
      v[i] = (float) g_rand_double_range (rand, lo, hi);
      if (half)
        v[i] = to_half (v[i]);
    }
  return ane_test_tensor_f32 (name, shape, rank, v);
}

static const char *
precision_name (AnePrecision p)
{
  return p == ANE_PRECISION_FLOAT16 ? "fp16" : "fp32";
}

typedef struct {
  const char  *what;         /* the case, for messages */
  AneTarget    target;
  AnePrecision precision;
  double       tol;          /* see the file header */
  gboolean     elementwise;  /* tol relative to each |expected| (else to max|expected|) */
  const char  *must_use;     /* a MIL op the lowered program must contain, or NULL */
} Check;

static gboolean
is_family_op (const char *op)
{
  for (guint i = 0; family_ops[i]; i++)
    if (g_str_equal (family_ops[i], op))
      return TRUE;
  return FALSE;
}

static void
compare_outputs (const Check *c,
                 GPtrArray   *want,
                 GPtrArray   *got,
                 gboolean     blas)
{
  g_assert_cmpuint (want->len, ==, got->len);
  for (guint o = 0; o < want->len; o++)
    {
      AneTensor *tw = g_ptr_array_index (want, o), *tg = g_ptr_array_index (got, o);
      g_autoptr(GError) error = NULL;
      gsize nw = 0, ng = 0;
      g_autofree float *w = ane_tensor_dup_floats (tw, &nw, &error);
      g_autofree float *v = NULL;
      double maxabs = 0.0, worst;
      guint rw = 0;
      const gint64 *sw = ane_tensor_get_shape (tw, &rw);
      g_autofree char *label = g_strdup_printf ("%s (%s, target %d, %s): output %u", c->what,
                                                precision_name (c->precision), c->target,
                                                blas ? "cblas" : "loops", o);

      g_assert_no_error (error);
      v = ane_tensor_dup_floats (tg, &ng, &error);
      g_assert_no_error (error);
      ane_test_assert_shape (tg, sw, rw);
      g_assert_cmpuint (nw, ==, ng);
      for (gsize i = 0; i < nw; i++)
        if (isfinite (w[i]))
          maxabs = MAX (maxabs, fabs (w[i]));
      /* elementwise: tol * |expected|; else tol * max|expected| */
      worst = ane_test_assert_close_floats (label, v, w, nw, c->elementwise ? c->tol : 0.0,
                                            c->elementwise ? 0.0 : c->tol * maxabs);
      if (g_test_verbose ())
        g_test_message ("%s: largest |diff| %.3g (max|expected| %.6g)", label, worst, maxabs);
    }
}

/* Runs g on both backends and compares. Returns FALSE when the case was
 * skipped for a missing kernel of another family. */
static gboolean
check_graph (AneGraph    *g,
             AneTensor  **inputs,
             guint        n_inputs,
             const Check *c)
{
  g_autoptr(AneExecutable) ref = ane_executable_new (g, ANE_BACKEND_REFERENCE);
  g_autoptr(AneExecutable) cpu = ane_executable_new (g, ANE_BACKEND_CPU);
  g_autoptr(GPtrArray) want = NULL;
  g_autoptr(GError) error = NULL;

  if (c->must_use)
    {
      g_autoptr(AneMilProgram) p = ane_test_lower (g, mil_target (c->target),
                                                   c->precision == ANE_PRECISION_FLOAT16 ? ANE_DTYPE_FLOAT16
                                                                                         : ANE_DTYPE_FLOAT32);
      if (ane_test_count_ops (p, c->must_use) == 0)
        {
          g_autofree char *seq = ane_test_op_sequence (p);
          g_error ("%s: the lowering was expected to use %s, but emitted %s", c->what, c->must_use, seq);
        }
    }

  g_assert_true (ane_executable_compile (ref, NULL, &error));
  g_assert_no_error (error);
  want = ane_executable_run (ref, inputs, n_inputs, NULL, &error);
  g_assert_no_error (error);

  ane_executable_set_target (cpu, c->target);
  ane_executable_set_precision (cpu, c->precision);
  if (!ane_executable_compile (cpu, NULL, &error))
    {
      const char *at = error ? strstr (error->message, "no kernel for MIL op '") : NULL;

      if (at)
        {
          g_autofree char *op = g_strdup (at + strlen ("no kernel for MIL op '"));
          char *end = strchr (op, '\'');

          if (end)
            *end = '\0';
          if (!is_family_op (op))
            {
              g_autofree char *msg = g_strdup_printf ("%s (%s): MIL op '%s' has no CPU kernel yet (another family)",
                                                      c->what, precision_name (c->precision), op);
              ane_test_skip ("%s", msg);
              return FALSE;
            }
        }
      g_error ("%s: CPU compile failed: %s", c->what, error ? error->message : "?");
    }

  for (int pass = 0; pass < 2; pass++)
    {
      gboolean blas = pass == 0;
      g_autoptr(GPtrArray) got = NULL;

#ifndef HAVE_CBLAS
      if (blas)
        continue;
#endif
      ane_cpu_blas_set_enabled (blas);
      got = ane_executable_run (cpu, inputs, n_inputs, NULL, &error);
      ane_cpu_blas_set_enabled (TRUE);
      if (got == NULL)
        g_error ("%s (%s, %s): CPU run failed: %s", c->what, precision_name (c->precision),
                 blas ? "cblas" : "loops", error->message);
      compare_outputs (c, want, got, blas);
    }
  return TRUE;
}

static void
add_output (AneGraph  *g,
            AneTensor *y)
{
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (y);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
}

static const AnePrecision precisions[] = { ANE_PRECISION_FLOAT32, ANE_PRECISION_FLOAT16 };

/* --- matmul ------------------------------------------------------------------- */

typedef struct {
  gint64   a[5], b[5];
  guint    ra, rb;
  gboolean ta, tb;
} MatmulShape;

static gboolean
run_matmul (const MatmulShape *m,
            AneTarget          target,
            AnePrecision       p,
            guint32            seed,
            gboolean           b_const)
{
  gboolean half = p == ANE_PRECISION_FLOAT16;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) va = rand_tensor ("a", m->a, m->ra, seed, -1, 1, half);
  g_autoptr(AneTensor) vb = rand_tensor ("b", m->b, m->rb, seed + 1, -1, 1, half);
  g_autoptr(AneTensor) a = ane_test_input (g, "a", ANE_DTYPE_FLOAT32, m->a, m->ra);
  g_autoptr(AneTensor) b = b_const ? ane_test_const (g, vb) : ane_test_input (g, "b", ANE_DTYPE_FLOAT32, m->b, m->rb);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_matmul (g, a, b, m->ta, m->tb, &error);
  AneTensor *ins[] = { va, vb };
  g_autofree char *what = g_strdup_printf ("matmul rank %u.%u ta=%d tb=%d%s", m->ra, m->rb, m->ta, m->tb,
                                           b_const ? " (b const)" : "");
  /* fp16: one rounding of the fp32 sum (1) + margin (1) */
  Check c = { what, target, p, half ? 2 * FP16_EPS : 1e-5, FALSE, "matmul" };

  g_assert_no_error (error);
  add_output (g, y);
  return check_graph (g, ins, b_const ? 1 : 2, &c);
}

static void
test_matmul (void)
{
  /* M = 3, K = 37, N = 5; every transpose combination; batch broadcast
   * [2,1,·,·] against [5,·,·] (and rank 4 against rank 3 the other way);
   * a batched x against one y (the folded single product) and the reverse. */
  static const gint64 K = 37;
  guint32 seed = 100;

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    for (int t = 0; t < 4; t++)
      {
        gboolean ta = t & 1, tb = (t >> 1) & 1;
        MatmulShape cases[5];
        guint n = 0;

        /* plain 2-D */
        cases[n] = (MatmulShape) { { ta ? K : 3, ta ? 3 : K }, { tb ? 5 : K, tb ? K : 5 }, 2, 2, ta, tb };
        n++;
        /* [2,1,M,K] · [5,K,N] → [2,5,M,N] */
        cases[n] = (MatmulShape) { { 2, 1, ta ? K : 3, ta ? 3 : K }, { 5, tb ? 5 : K, tb ? K : 5 }, 4, 3, ta, tb };
        n++;
        /* [4,M,K] · [2,1,K,N] → [2,4,M,N] */
        cases[n] = (MatmulShape) { { 4, ta ? K : 3, ta ? 3 : K }, { 2, 1, tb ? 5 : K, tb ? K : 5 }, 3, 4, ta, tb };
        n++;
        /* [2,3,M,K] · [K,N]: y is one matrix */
        cases[n] = (MatmulShape) { { 2, 3, ta ? K : 3, ta ? 3 : K }, { tb ? 5 : K, tb ? K : 5 }, 4, 2, ta, tb };
        n++;
        /* [M,K] · [3,K,N]: x is one matrix */
        cases[n] = (MatmulShape) { { ta ? K : 3, ta ? 3 : K }, { 3, tb ? 5 : K, tb ? K : 5 }, 2, 3, ta, tb };
        n++;
        for (guint i = 0; i < n; i++)
          {
            run_matmul (&cases[i], ANE_TARGET_IOS15, precisions[pi], seed++, FALSE);
            run_matmul (&cases[i], ANE_TARGET_IOS18, precisions[pi], seed++, TRUE);
          }
      }
}

static void
test_matmul_rank1 (void)
{
  /* Lowered with expand_dims / squeeze (the shape family's kernels). */
  static const MatmulShape cases[] = {
    { { 37 }, { 37, 5 }, 1, 2, FALSE, FALSE },
    { { 37 }, { 5, 37 }, 1, 2, TRUE, TRUE },     /* transpose_a dropped, transpose_b kept */
    { { 3, 37 }, { 37 }, 2, 1, FALSE, FALSE },
    { { 37, 3 }, { 37 }, 2, 1, TRUE, FALSE },
    { { 37 }, { 37 }, 1, 1, FALSE, FALSE },
    { { 37 }, { 2, 4, 37, 5 }, 1, 4, FALSE, FALSE },
    { { 2, 4, 3, 37 }, { 37 }, 4, 1, FALSE, TRUE },
  };
  guint32 seed = 300;

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      if (!run_matmul (&cases[i], ANE_TARGET_IOS15, precisions[pi], seed++, FALSE))
        return;
}

/* --- lora_matmul ------------------------------------------------------------- */

static gboolean
run_lora (const gint64 *xs,
          guint         xr,
          double        scale,
          AnePrecision  p,
          guint32       seed)
{
  static const gint64 ws[] = { 16, 6 }, as[] = { 16, 3 }, bs[] = { 3, 6 };
  gboolean half = p == ANE_PRECISION_FLOAT16;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) vx = rand_tensor ("x", xs, xr, seed, -1, 1, half);
  g_autoptr(AneTensor) vw = rand_tensor ("w", ws, 2, seed + 1, -0.5, 0.5, half);
  g_autoptr(AneTensor) va = rand_tensor ("la", as, 2, seed + 2, -0.5, 0.5, half);
  g_autoptr(AneTensor) vb = rand_tensor ("lb", bs, 2, seed + 3, -0.5, 0.5, half);
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, xr);
  g_autoptr(AneTensor) w = ane_test_const (g, vw);
  g_autoptr(AneTensor) la = ane_test_const (g, va);
  g_autoptr(AneTensor) lb = ane_test_input (g, "lb", ANE_DTYPE_FLOAT32, bs, 2);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_lora_matmul (g, x, w, la, lb, scale, &error);
  AneTensor *ins[] = { vx, vb };
  g_autofree char *what = g_strdup_printf ("lora_matmul x rank %u scale %g", xr, scale);
  /* fp16: base, x·a, (scale ·), low and the sum are each rounded (5) + margin (1) */
  Check c = { what, ANE_TARGET_IOS15, p, half ? 6 * FP16_EPS : 1e-5, FALSE, "matmul" };

  g_assert_no_error (error);
  add_output (g, y);
  return check_graph (g, ins, 2, &c);
}

static void
test_lora_matmul (void)
{
  static const gint64 xs[] = { 2, 3, 16 };
  static const double scales[] = { 1.0, 0.5, 0.0, -0.75, 2.5 };   /* exact in fp16 */
  guint32 seed = 400;

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    for (guint i = 0; i < G_N_ELEMENTS (scales); i++)
      run_lora (xs, 3, scales[i], precisions[pi], seed += 4);
}

static void
test_lora_matmul_rank1 (void)
{
  static const gint64 xs[] = { 16 };

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    if (!run_lora (xs, 1, 0.5, precisions[pi], 450 + pi))
      return;
}

/* --- grouped_matmul (gather: the shape family) ------------------------------- */

static void
test_grouped_matmul (void)
{
  static const gint64 xs[] = { 2, 3, 8 }, ids_shape[] = { 2, 3 };
  static const double ids_v[] = { 0, 3, 1, 1, 2, 3 };
  guint32 seed = 500;

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    for (int tb = 0; tb < 2; tb++)
      {
        AnePrecision p = precisions[pi];
        gboolean half = p == ANE_PRECISION_FLOAT16;
        gint64 es[] = { 4, tb ? 5 : 8, tb ? 8 : 5 };
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = rand_tensor ("x", xs, 3, seed++, -1, 1, half);
        g_autoptr(AneTensor) ve = rand_tensor ("experts", es, 3, seed++, -1, 1, half);
        g_autoptr(AneTensor) vids = ane_test_tensor_values ("ids", ANE_DTYPE_INT32, ids_shape, 2, ids_v);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3);
        g_autoptr(AneTensor) e = ane_test_const (g, ve);
        g_autoptr(AneTensor) ids = ane_test_input (g, "ids", ANE_DTYPE_INT32, ids_shape, 2);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = ane_graph_grouped_matmul (g, x, e, ids, tb, &error);
        AneTensor *ins[] = { vx, vids };
        g_autofree char *what = g_strdup_printf ("grouped_matmul transpose_b=%d", tb);
        /* fp16: one rounding of the product (1) + margin (1) */
        Check c = { what, ANE_TARGET_IOS17, p, half ? 2 * FP16_EPS : 1e-5, FALSE, "matmul" };

        g_assert_no_error (error);
        add_output (g, y);
        if (!check_graph (g, ins, 2, &c))
          return;
      }
}

/* --- dequant_matmul ----------------------------------------------------------- */

/* n_blocks blocks of Q8_0 / Q4_0 (both: fp16 scale d, then the quants) */
static AneTensor *
block_weight (AneDType      dtype,
              const gint64 *shape,
              guint32       seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GError) error = NULL;
  guint bs = ane_dtype_block_size (dtype), bb = ane_dtype_block_bytes (dtype);
  gsize n_blocks = (gsize) (shape[0] * shape[1]) / bs;
  guint8 *data = g_malloc (n_blocks * bb);
  g_autoptr(GBytes) bytes = NULL;
  AneTensor *t;

  for (gsize b = 0; b < n_blocks; b++)
    {
      guint8 *blk = data + b * bb;
      guint16 d = ane_float_to_half ((float) g_rand_double_range (rand, 0.002, 0.02));

      blk[0] = d & 0xff;
      blk[1] = d >> 8;
      for (guint i = 2; i < bb; i++)
        blk[i] = (guint8) g_rand_int_range (rand, 0, 256);
    }
  bytes = g_bytes_new_take (data, n_blocks * bb);
  t = ane_tensor_new_from_bytes ("w", dtype, shape, 2, bytes, &error);
  g_assert_no_error (error);
  return t;
}

static gboolean
run_dequant (AneDType      dtype,
             const gint64 *xs,
             guint         xr,
             AnePrecision  p,
             guint32       seed)
{
  static const gint64 ws[] = { 6, 64 };
  gboolean half = p == ANE_PRECISION_FLOAT16;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) vx = rand_tensor ("x", xs, xr, seed, -1, 1, half);
  g_autoptr(AneTensor) vw = block_weight (dtype, ws, seed + 1);
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, xr);
  g_autoptr(AneTensor) w = ane_test_const (g, vw);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_dequant_matmul (g, x, w, &error);
  AneTensor *ins[] = { vx };
  g_autofree char *what = g_strdup_printf ("dequant_matmul %s x rank %u", ane_dtype_to_string (dtype), xr);
  /* fp16: the host rounds each dequantized weight d·q to fp16 (Q8_0 products
   * need more than 11 bits). Those errors, up to 2^-11·|x·w| per term, have
   * random signs: their sum grows like √K while the result itself is about
   * √K·|x·w|, so together they weigh about one more rounding (1); plus the
   * output rounding (1) and a margin (2): m = 4. */
  Check c = { what, ANE_TARGET_IOS17, p, half ? 4 * FP16_EPS : 1e-5, FALSE, "linear" };

  g_assert_no_error (error);
  add_output (g, y);
  return check_graph (g, ins, 1, &c);
}

static void
test_dequant_matmul (gconstpointer data)
{
  AneDType dtype = GPOINTER_TO_INT (data);
  static const gint64 x3[] = { 2, 3, 64 }, x2[] = { 5, 64 }, x1[] = { 64 };

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    {
      run_dequant (dtype, x3, 3, precisions[pi], 600 + pi);
      run_dequant (dtype, x2, 2, precisions[pi], 610 + pi);
      run_dequant (dtype, x1, 1, precisions[pi], 620 + pi);
    }
}

static void
test_dequant_matmul_rank4 (void)
{
  /* reshape → linear → reshape (the shape family's reshape) */
  static const gint64 x4[] = { 2, 2, 2, 64 };

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    if (!run_dequant (ANE_DTYPE_Q8_0, x4, 4, precisions[pi], 630 + pi))
      return;
}

/* --- conv ----------------------------------------------------------------------- */

typedef struct {
  const char *what;
  gint64      x[4], w[4];
  guint       rank;
  gint64      strides[2], pads[4], dilations[2];
  gint64      groups;
  gboolean    bias;
} ConvCase;

static const ConvCase conv_cases[] = {
  { "conv1d stride 2 pad [1,2] dil 2 groups 2 bias", { 2, 4, 11 }, { 6, 2, 3 }, 3, { 2 }, { 1, 2 }, { 2 }, 2, TRUE },
  { "conv1d plain", { 1, 3, 9 }, { 5, 3, 4 }, 3, { 1 }, { 0, 0 }, { 1 }, 1, FALSE },
  { "conv2d stride [2,1] pad [1,0,2,1] dil [1,2] bias", { 2, 3, 9, 8 }, { 4, 3, 3, 2 }, 4,
    { 2, 1 }, { 1, 0, 2, 1 }, { 1, 2 }, 1, TRUE },
  { "conv2d depthwise x2 pad 1", { 1, 4, 6, 6 }, { 8, 1, 3, 3 }, 4, { 1, 1 }, { 1, 1, 1, 1 }, { 1, 1 }, 4, TRUE },
  { "conv2d 1x1 (direct)", { 2, 5, 4, 3 }, { 3, 5, 1, 1 }, 4, { 1, 1 }, { 0, 0, 0, 0 }, { 1, 1 }, 1, TRUE },
  { "conv2d 1x1 stride 2", { 1, 5, 5, 4 }, { 3, 5, 1, 1 }, 4, { 2, 2 }, { 0, 0, 0, 0 }, { 1, 1 }, 1, FALSE },
  { "conv2d groups 3 stride 3 pad 2", { 1, 6, 10, 7 }, { 6, 2, 3, 3 }, 4, { 3, 3 }, { 2, 2, 2, 2 }, { 1, 1 }, 3, TRUE },
};

/* weight_input: weight as a graph input (needs dilation 1, or the
 * reshape/pad/slice dilation composition); bias_input: bias as a graph input
 * (before iOS17: reshape + add after the conv). */
static gboolean
run_conv (const ConvCase *cc,
          AneTarget       target,
          AnePrecision    p,
          gboolean        weight_input,
          gboolean        bias_input,
          guint32         seed)
{
  gboolean half = p == ANE_PRECISION_FLOAT16;
  guint nsp = cc->rank - 2;
  gint64 bs[] = { cc->w[0] };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) vx = rand_tensor ("x", cc->x, cc->rank, seed, -1, 1, half);
  g_autoptr(AneTensor) vw = rand_tensor ("w", cc->w, cc->rank, seed + 1, -0.5, 0.5, half);
  g_autoptr(AneTensor) vb = rand_tensor ("bias", bs, 1, seed + 2, -0.5, 0.5, half);
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, cc->x, cc->rank);
  g_autoptr(AneTensor) w = weight_input ? ane_test_input (g, "w", ANE_DTYPE_FLOAT32, cc->w, cc->rank)
                                        : ane_test_const (g, vw);
  g_autoptr(AneTensor) b = !cc->bias ? NULL
                           : bias_input ? ane_test_input (g, "bias", ANE_DTYPE_FLOAT32, bs, 1)
                           : ane_test_const (g, vb);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_conv (g, x, w, b, cc->strides, nsp, cc->pads, 2 * nsp,
                                           cc->dilations, nsp, cc->groups, &error);
  AneTensor *ins[3] = { vx };
  guint n = 1;
  g_autofree char *what = g_strdup_printf ("%s%s%s", cc->what, weight_input ? " (weight input)" : "",
                                           bias_input ? " (bias input)" : "");
  /* fp16: one rounding of the fp32 sum (1), one more for a bias added
   * after the op (1), margin (1) */
  Check c = { what, target, p, half ? 3 * FP16_EPS : 1e-5, FALSE, "conv" };

  if (weight_input)
    ins[n++] = vw;
  if (cc->bias && bias_input)
    ins[n++] = vb;
  g_assert_no_error (error);
  add_output (g, y);
  return check_graph (g, ins, n, &c);
}

static void
test_conv (void)
{
  guint32 seed = 700;

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    for (guint i = 0; i < G_N_ELEMENTS (conv_cases); i++)
      {
        run_conv (&conv_cases[i], ANE_TARGET_IOS15, precisions[pi], FALSE, FALSE, seed += 3);
        /* iOS17: a non-const bias goes into conv itself */
        if (conv_cases[i].bias)
          run_conv (&conv_cases[i], ANE_TARGET_IOS17, precisions[pi], FALSE, TRUE, seed += 3);
        /* a non-const weight without dilation is conv's own weight */
        if (conv_cases[i].dilations[0] == 1 && (conv_cases[i].rank == 3 || conv_cases[i].dilations[1] == 1))
          run_conv (&conv_cases[i], ANE_TARGET_IOS17, precisions[pi], TRUE, FALSE, seed += 3);
      }
}

static void
test_conv_composed (void)
{
  /* iOS15 non-const bias: conv, reshape, add; non-const dilated weight:
   * reshape, pad, reshape, slice_by_index, conv (the shape family's kernels) */
  guint32 seed = 800;

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    {
      if (!run_conv (&conv_cases[0], ANE_TARGET_IOS15, precisions[pi], FALSE, TRUE, seed += 3) ||
          !run_conv (&conv_cases[2], ANE_TARGET_IOS15, precisions[pi], FALSE, TRUE, seed += 3) ||
          !run_conv (&conv_cases[0], ANE_TARGET_IOS17, precisions[pi], TRUE, FALSE, seed += 3) ||
          !run_conv (&conv_cases[2], ANE_TARGET_IOS17, precisions[pi], TRUE, TRUE, seed += 3))
        return;
    }
}

/* --- conv_transpose_2d ------------------------------------------------------------ */

typedef struct {
  const char *what;
  gint64      x[4], w[4];
  gint64      strides[2], pads[4], dilations[2], output_padding[2];
  gint64      groups;
  gboolean    bias;
} ConvTCase;

static const ConvTCase convt_symmetric[] = {
  { "conv_transpose stride 2 pad 1 bias", { 1, 4, 5, 5 }, { 4, 3, 3, 3 }, { 2, 2 }, { 1, 1, 1, 1 }, { 1, 1 }, { 0, 0 }, 1, TRUE },
  { "conv_transpose groups 2 dil [1,2] stride [2,1] pad [0,0,1,1]", { 2, 4, 4, 3 }, { 4, 2, 3, 2 },
    { 2, 1 }, { 0, 0, 1, 1 }, { 1, 2 }, { 0, 0 }, 2, TRUE },
  { "conv_transpose no pad, kernel smaller than stride", { 1, 2, 3, 4 }, { 2, 3, 2, 1 }, { 3, 2 }, { 0, 0, 0, 0 },
    { 1, 1 }, { 0, 0 }, 1, FALSE },
};

static const ConvTCase convt_composed[] = {
  { "conv_transpose asymmetric pads [1,0,0,2]", { 1, 3, 4, 5 }, { 3, 2, 3, 3 }, { 2, 2 }, { 1, 0, 0, 2 },
    { 1, 1 }, { 0, 0 }, 1, TRUE },
  { "conv_transpose output_padding [1,1] pad 1", { 1, 2, 4, 4 }, { 2, 3, 3, 3 }, { 2, 2 }, { 1, 1, 1, 1 },
    { 1, 1 }, { 1, 1 }, 1, TRUE },
  { "conv_transpose output_padding past the pad", { 2, 2, 3, 3 }, { 2, 2, 2, 2 }, { 2, 3 }, { 0, 0, 0, 0 },
    { 1, 1 }, { 1, 2 }, 1, TRUE },
  { "conv_transpose groups 2 dil [2,1] output_padding [1,0] pads [2,1,0,1]", { 1, 4, 3, 4 }, { 4, 1, 2, 3 },
    { 2, 2 }, { 2, 1, 0, 1 }, { 2, 1 }, { 1, 0 }, 2, TRUE },
};

static gboolean
run_convt (const ConvTCase *cc,
           AneTarget        target,
           AnePrecision     p,
           gboolean         weight_input,
           gboolean         bias_input,
           guint32          seed)
{
  gboolean half = p == ANE_PRECISION_FLOAT16;
  gint64 bs[] = { cc->w[1] * cc->groups };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) vx = rand_tensor ("x", cc->x, 4, seed, -1, 1, half);
  g_autoptr(AneTensor) vw = rand_tensor ("w", cc->w, 4, seed + 1, -0.5, 0.5, half);
  g_autoptr(AneTensor) vb = rand_tensor ("bias", bs, 1, seed + 2, -0.5, 0.5, half);
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, cc->x, 4);
  g_autoptr(AneTensor) w = weight_input ? ane_test_input (g, "w", ANE_DTYPE_FLOAT32, cc->w, 4)
                                        : ane_test_const (g, vw);
  g_autoptr(AneTensor) b = !cc->bias ? NULL
                           : bias_input ? ane_test_input (g, "bias", ANE_DTYPE_FLOAT32, bs, 1)
                           : ane_test_const (g, vb);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_conv_transpose_2d (g, x, w, b, cc->strides, 2, cc->pads, 4,
                                                        cc->dilations, 2, cc->output_padding, 2,
                                                        cc->groups, &error);
  AneTensor *ins[3] = { vx };
  guint n = 1;
  g_autofree char *what = g_strdup_printf ("%s%s%s", cc->what, weight_input ? " (weight input)" : "",
                                           bias_input ? " (bias input)" : "");
  /* fp16: one rounding of the fp32 sum (1), one more when the bias is added
   * after a slice or pad (1), margin (1) */
  Check c = { what, target, p, half ? 3 * FP16_EPS : 1e-5, FALSE, "conv_transpose" };

  if (weight_input)
    ins[n++] = vw;
  if (cc->bias && bias_input)
    ins[n++] = vb;
  g_assert_no_error (error);
  add_output (g, y);
  return check_graph (g, ins, n, &c);
}

static void
test_conv_transpose (void)
{
  guint32 seed = 900;

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    for (guint i = 0; i < G_N_ELEMENTS (convt_symmetric); i++)
      {
        run_convt (&convt_symmetric[i], ANE_TARGET_IOS15, precisions[pi], FALSE, FALSE, seed += 3);
        /* iOS17: the weight and the bias may be run-time values */
        run_convt (&convt_symmetric[i], ANE_TARGET_IOS17, precisions[pi], TRUE, TRUE, seed += 3);
      }
}

static void
test_conv_transpose_composed (void)
{
  /* slice_by_index / pad / reshape + add around conv_transpose (shape family) */
  guint32 seed = 950;

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    for (guint i = 0; i < G_N_ELEMENTS (convt_composed); i++)
      if (!run_convt (&convt_composed[i], ANE_TARGET_IOS15, precisions[pi], FALSE, FALSE, seed += 3) ||
          /* a run-time bias before iOS17: reshape + add after the op */
          !run_convt (&convt_composed[i], ANE_TARGET_IOS15, precisions[pi], FALSE, TRUE, seed += 3) ||
          !run_convt (&convt_composed[i], ANE_TARGET_IOS17, precisions[pi], TRUE, TRUE, seed += 3))
        return;
}

/* --- pool ------------------------------------------------------------------------- */

typedef struct {
  const char *what;
  AnePoolKind kind;
  gint64      kernel[2], strides[2], pads[4];
  guint       n_strides;
  gboolean    count_include_pad;
} PoolCase;

static const PoolCase pool_cases[] = {
  { "max 3x2 stride 2 pad [1,1,0,1]", ANE_POOL_MAX, { 3, 2 }, { 2, 2 }, { 1, 1, 0, 1 }, 2, FALSE },
  { "max 2x2 (strides = kernel)", ANE_POOL_MAX, { 2, 2 }, { 0, 0 }, { 0, 0, 0, 0 }, 0, FALSE },
  { "avg 3x3 stride 2 pad 1 exclude padding", ANE_POOL_AVG, { 3, 3 }, { 2, 2 }, { 1, 1, 1, 1 }, 2, FALSE },
  { "avg 3x3 stride 2 pad 1 count_include_pad", ANE_POOL_AVG, { 3, 3 }, { 2, 2 }, { 1, 1, 1, 1 }, 2, TRUE },
  { "avg 2x3 stride [1,2] pad [1,0,2,1] count_include_pad", ANE_POOL_AVG, { 2, 3 }, { 1, 2 }, { 1, 0, 2, 1 }, 2, TRUE },
  { "avg 2x2 no pad", ANE_POOL_AVG, { 2, 2 }, { 0, 0 }, { 0, 0, 0, 0 }, 0, FALSE },
};

static void
test_pool (void)
{
  static const gint64 xs[] = { 2, 3, 7, 8 };
  guint32 seed = 1000;

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    for (guint i = 0; i < G_N_ELEMENTS (pool_cases); i++)
      {
        const PoolCase *pc = &pool_cases[i];
        AnePrecision p = precisions[pi];
        gboolean half = p == ANE_PRECISION_FLOAT16, is_max = pc->kind == ANE_POOL_MAX;
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(AneTensor) vx = rand_tensor ("x", xs, 4, seed++, -2, 2, half);
        g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) y = ane_graph_pool (g, x, pc->kind, pc->kernel, 2, pc->strides, pc->n_strides,
                                                 pc->pads, 4, pc->count_include_pad, &error);
        AneTensor *ins[] = { vx };
        /* max: exact (fp32 1e-6 per element, fp16 0); avg fp16: the mean's
         * rounding (1) + margin (1) */
        Check c = { pc->what, ANE_TARGET_IOS15, p,
                    is_max ? (half ? 0.0 : 1e-6) : (half ? 2 * FP16_EPS : 1e-5),
                    is_max, is_max ? "max_pool" : "avg_pool" };

        g_assert_no_error (error);
        add_output (g, y);
        check_graph (g, ins, 1, &c);
      }
}

/* --- resize_nearest_2x ------------------------------------------------------------ */

static void
test_resize_nearest_2x (void)
{
  static const gint64 xs[] = { 2, 3, 4, 5 };

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    {
      AnePrecision p = precisions[pi];
      gboolean half = p == ANE_PRECISION_FLOAT16;
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(AneTensor) vx = rand_tensor ("x", xs, 4, 1100 + pi, -2, 2, half);
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) y = ane_graph_resize_nearest_2x (g, x, &error);
      AneTensor *ins[] = { vx };
      /* exact: a copy */
      Check c = { "resize_nearest_2x", ANE_TARGET_IOS15, p, half ? 0.0 : 1e-6, TRUE, "upsample_nearest_neighbor" };

      g_assert_no_error (error);
      add_output (g, y);
      check_graph (g, ins, 1, &c);
    }
}

/* --- attention --------------------------------------------------------------------- */

typedef struct {
  const char *what;
  gint64      B, H, Hkv, S, L, D, Dv;
  gint64      bias_shape[4];
  guint       bias_rank;        /* 0: no bias */
  gboolean    causal;
  double      scale, softcap;
} AttnCase;

/* at iOS18 these lower to scaled_dot_product_attention */
static const AttnCase attn_sdpa[] = {
  { "attention plain", 2, 3, 3, 5, 7, 8, 6, { 0 }, 0, FALSE, 0, 0 },
  { "attention causal (L > S)", 2, 3, 3, 5, 7, 8, 6, { 0 }, 0, TRUE, 0, 0 },
  { "attention causal square", 1, 2, 2, 6, 6, 8, 8, { 0 }, 0, TRUE, 0, 0 },
  { "attention bias [S,L]", 2, 3, 3, 5, 7, 8, 6, { 5, 7 }, 2, FALSE, 0, 0 },
  { "attention bias [B,1,S,L] causal", 2, 3, 3, 5, 7, 8, 6, { 2, 1, 5, 7 }, 4, TRUE, 0, 0 },
  { "attention bias [B,H,S,1] causal", 2, 3, 3, 5, 7, 8, 6, { 2, 3, 5, 1 }, 4, TRUE, 0, 0 },
  { "attention scale 0.25", 1, 2, 2, 4, 9, 16, 4, { 0 }, 0, FALSE, 0.25, 0 },
  { "attention scale 1/sqrt(D) explicit", 1, 2, 2, 4, 9, 16, 4, { 0 }, 0, TRUE, 0.25, 0 },
  { "attention decode S=1 causal", 1, 2, 2, 1, 9, 8, 8, { 0 }, 0, TRUE, 0, 0 },
  { "attention bias [1,1,1,L] causal", 1, 2, 2, 4, 6, 8, 8, { 1, 1, 1, 6 }, 4, TRUE, 0, 0 },
};

/* composed at every target (GQA, softcap, a bias whose last dim is 1 without causal) */
static const AttnCase attn_composed[] = {
  { "attention GQA H 4 Hkv 2 causal", 2, 4, 2, 5, 7, 8, 6, { 0 }, 0, TRUE, 0, 0 },
  { "attention GQA H 6 Hkv 2 bias [B,H,S,L]", 1, 6, 2, 3, 5, 8, 8, { 1, 6, 3, 5 }, 4, FALSE, 0, 0 },
  { "attention MQA Hkv 1 causal", 2, 3, 1, 4, 6, 8, 6, { 0 }, 0, TRUE, 0, 0 },
  { "attention softcap 2", 1, 2, 2, 4, 6, 8, 8, { 0 }, 0, TRUE, 0, 2.0 },
  { "attention bias [S,1]", 1, 2, 2, 4, 6, 8, 8, { 4, 1 }, 2, FALSE, 0, 0 },
};

static gboolean
run_attention (const AttnCase *ac,
               AneTarget       target,
               AnePrecision    p,
               const char     *must_use,
               guint32         seed)
{
  gboolean half = p == ANE_PRECISION_FLOAT16;
  gint64 qs[] = { ac->B, ac->H, ac->S, ac->D };
  gint64 ks[] = { ac->B, ac->Hkv, ac->L, ac->D };
  gint64 vs[] = { ac->B, ac->Hkv, ac->L, ac->Dv };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) vq = rand_tensor ("q", qs, 4, seed, -1, 1, half);
  g_autoptr(AneTensor) vk = rand_tensor ("k", ks, 4, seed + 1, -1, 1, half);
  g_autoptr(AneTensor) vv = rand_tensor ("v", vs, 4, seed + 2, -1, 1, half);
  g_autoptr(AneTensor) vb = ac->bias_rank ? rand_tensor ("bias", ac->bias_shape, ac->bias_rank, seed + 3, -1, 1, half)
                                          : NULL;
  g_autoptr(AneTensor) q = ane_test_input (g, "q", ANE_DTYPE_FLOAT32, qs, 4);
  g_autoptr(AneTensor) k = ane_test_input (g, "k", ANE_DTYPE_FLOAT32, ks, 4);
  g_autoptr(AneTensor) v = ane_test_input (g, "v", ANE_DTYPE_FLOAT32, vs, 4);
  g_autoptr(AneTensor) b = ac->bias_rank ? ane_test_input (g, "bias", ANE_DTYPE_FLOAT32, ac->bias_shape, ac->bias_rank)
                                         : NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = ane_graph_attention (g, q, k, v, b, ac->causal, ac->scale, ac->softcap, &error);
  AneTensor *ins[] = { vq, vk, vv, vb };
  g_autofree char *what = g_strdup_printf ("%s (target %d)", ac->what, target);
  /* fp16, SDPA: the scale's mul (1), the mask add (1) and the output (1)
   * are rounded, margin (1): m = 4. Composed: q·c, the scores, the bias and
   * mask adds, the softmax and the output are rounded; an error δ in a score
   * moves its weight by δ relative, and |scores| ≤ √D here, so m = 8. */
  Check c = { what, target, p, half ? (must_use && g_str_equal (must_use, "scaled_dot_product_attention") ? 4 : 8) * FP16_EPS
                                    : 1e-5,
              FALSE, must_use };

  g_assert_no_error (error);
  add_output (g, y);
  return check_graph (g, ins, ac->bias_rank ? 4 : 3, &c);
}

static void
test_attention_sdpa (void)
{
  guint32 seed = 1200;

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    for (guint i = 0; i < G_N_ELEMENTS (attn_sdpa); i++)
      run_attention (&attn_sdpa[i], ANE_TARGET_IOS18, precisions[pi], "scaled_dot_product_attention", seed += 4);
}

static void
test_attention_composed (void)
{
  /* matmul + softmax (nn family) [+ reshape for GQA, tanh for softcap] */
  guint32 seed = 1300;

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    {
      for (guint i = 0; i < G_N_ELEMENTS (attn_sdpa); i++)
        if (!run_attention (&attn_sdpa[i], ANE_TARGET_IOS17, precisions[pi], "softmax", seed += 4))
          return;
      for (guint i = 0; i < G_N_ELEMENTS (attn_composed); i++)
        if (!run_attention (&attn_composed[i], ANE_TARGET_IOS18, precisions[pi], "softmax", seed += 4))
          return;
    }
}

/* --- MIL text: what the lowering never emits, and malformed programs ------------- */

static GPtrArray *
run_text (const char  *text,
          GHashTable  *inputs,
          GError     **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (text, -1, "test", &local);
  g_autoptr(AneCpuBackend) backend = NULL;
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (local);
  backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, error);
  if (backend == NULL)
    return NULL;
  for (int pass = 0; pass < 2; pass++)
    {
      GPtrArray *res;

      ane_cpu_blas_set_enabled (pass == 0);
      res = ane_cpu_backend_run (backend, inputs, NULL, FALSE, NULL, error);
      ane_cpu_blas_set_enabled (TRUE);
      if (res == NULL)
        return NULL;
      if (out == NULL)
        out = res;
      else
        {
          /* loops and cblas agree to fp32 rounding */
          g_assert_cmpuint (res->len, ==, out->len);
          for (guint o = 0; o < res->len; o++)
            {
              gsize n1 = 0, n2 = 0;
              g_autofree float *a = ane_tensor_dup_floats (g_ptr_array_index (out, o), &n1, NULL);
              g_autofree float *b = ane_tensor_dup_floats (g_ptr_array_index (res, o), &n2, NULL);

              g_assert_cmpuint (n1, ==, n2);
              ane_test_assert_close_floats ("loops vs cblas", b, a, n1, 1e-5, 1e-5);
            }
          g_ptr_array_unref (res);
        }
    }
  return g_steal_pointer (&out);
}

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

static void
assert_same_outputs (GPtrArray *out,
                     guint      a,
                     guint      b,
                     double     tol)
{
  gsize na = 0, nb = 0;
  g_autofree float *va = ane_tensor_dup_floats (g_ptr_array_index (out, a), &na, NULL);
  g_autofree float *vb = ane_tensor_dup_floats (g_ptr_array_index (out, b), &nb, NULL);

  g_autofree char *label = g_strdup_printf ("output %u against output %u", b, a);

  g_assert_cmpuint (na, ==, nb);
  ane_test_assert_close_floats (label, vb, va, na, tol, tol);
}

/* conv with pad_type same / same_lower / valid equals custom with the pads
 * coremltools' aggregated_pad gives: in 7, k 4, stride 1: total 3, same →
 * [1, 2], same_lower → [2, 1]; in 7, k 3, stride 2, dilation 2: dk 5,
 * total max(0, 2·4 − 7 + 5 − 2) = 4 → [2, 2]. */
static void
test_text_conv_pad_types (void)
{
  static const char *text =
    "program(1.3)\n"
    "{\n"
    "    func main<ios18>(tensor<fp32, [1, 2, 7, 7]> x, tensor<fp32, [3, 2, 4, 3]> w) {\n"
    "        string same = const()[name = string(\"same\"), val = string(\"same\")];\n"
    "        string same_lower = const()[name = string(\"same_lower\"), val = string(\"same_lower\")];\n"
    "        string custom = const()[name = string(\"custom\"), val = string(\"custom\")];\n"
    "        string valid = const()[name = string(\"valid\"), val = string(\"valid\")];\n"
    "        tensor<int32, [2]> s12 = const()[name = string(\"s12\"), val = tensor<int32, [2]>([1, 2])];\n"
    "        tensor<int32, [2]> d12 = const()[name = string(\"d12\"), val = tensor<int32, [2]>([1, 2])];\n"
    "        tensor<int32, [4]> p_same = const()[name = string(\"p_same\"), val = tensor<int32, [4]>([1, 2, 2, 2])];\n"
    "        tensor<int32, [4]> p_lower = const()[name = string(\"p_lower\"), val = tensor<int32, [4]>([2, 1, 2, 2])];\n"
    "        tensor<int32, [4]> p_zero = const()[name = string(\"p_zero\"), val = tensor<int32, [4]>([0, 0, 0, 0])];\n"
    "        tensor<fp32, [1, 3, 7, 4]> a = conv(x = x, weight = w, strides = s12, dilations = d12, pad_type = same)[name = string(\"a\")];\n"
    "        tensor<fp32, [1, 3, 7, 4]> b = conv(x = x, weight = w, strides = s12, dilations = d12, pad_type = custom, pad = p_same)[name = string(\"b\")];\n"
    "        tensor<fp32, [1, 3, 7, 4]> c = conv(x = x, weight = w, strides = s12, dilations = d12, pad_type = same_lower)[name = string(\"c\")];\n"
    "        tensor<fp32, [1, 3, 7, 4]> d = conv(x = x, weight = w, strides = s12, dilations = d12, pad_type = custom, pad = p_lower)[name = string(\"d\")];\n"
    "        tensor<fp32, [1, 3, 4, 2]> e = conv(x = x, weight = w, strides = s12, dilations = d12, pad_type = valid)[name = string(\"e\")];\n"
    "        tensor<fp32, [1, 3, 4, 2]> f = conv(x = x, weight = w, strides = s12, dilations = d12, pad_type = custom, pad = p_zero)[name = string(\"f\")];\n"
    "        tensor<fp32, [1, 3, 4, 2]> g = conv(x = x, weight = w, strides = s12, dilations = d12)[name = string(\"g\")];\n"
    "    } -> (a, b, c, d, e, f, g);\n"
    "}\n";
  static const gint64 xs[] = { 1, 2, 7, 7 }, ws[] = { 3, 2, 4, 3 };
  g_autoptr(GHashTable) in = inputs_new (rand_tensor ("x", xs, 4, 1, -1, 1, FALSE),
                                         rand_tensor ("w", ws, 4, 2, -1, 1, FALSE), NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) out = run_text (text, in, &error);

  g_assert_no_error (error);
  assert_same_outputs (out, 0, 1, 0);
  assert_same_outputs (out, 2, 3, 0);
  assert_same_outputs (out, 4, 5, 0);
  assert_same_outputs (out, 4, 6, 0);   /* pad_type defaults to valid */
}

/* conv_transpose: pad_type valid = custom 0; same (output D·s) = custom with
 * the excess split low: in 3, k 4, s 2: full 8, out 6 → crop [1, 1]; k 3:
 * full 7, out 6 → crop [0, 1]. output_shape larger than the crop: zero rows
 * plus the bias. */
static void
test_text_conv_transpose (void)
{
  static const char *text =
    "program(1.3)\n"
    "{\n"
    "    func main<ios18>(tensor<fp32, [1, 2, 3, 3]> x, tensor<fp32, [2, 1, 4, 3]> w) {\n"
    "        string same = const()[name = string(\"same\"), val = string(\"same\")];\n"
    "        string custom = const()[name = string(\"custom\"), val = string(\"custom\")];\n"
    "        string valid = const()[name = string(\"valid\"), val = string(\"valid\")];\n"
    "        tensor<int32, [2]> s2 = const()[name = string(\"s2\"), val = tensor<int32, [2]>([2, 2])];\n"
    "        tensor<int32, [4]> p_same = const()[name = string(\"p_same\"), val = tensor<int32, [4]>([1, 1, 0, 1])];\n"
    "        tensor<int32, [4]> p_zero = const()[name = string(\"p_zero\"), val = tensor<int32, [4]>([0, 0, 0, 0])];\n"
    "        tensor<int32, [4]> big = const()[name = string(\"big\"), val = tensor<int32, [4]>([1, 2, 9, 8])];\n"
    "        tensor<fp32, [2]> bias = const()[name = string(\"bias\"), val = tensor<fp32, [2]>([0x1p-1, -0x1p+0])];\n"
    "        int32 groups = const()[name = string(\"groups\"), val = int32(2)];\n"
    "        tensor<fp32, [1, 2, 6, 6]> a = conv_transpose(x = x, weight = w, strides = s2, pad_type = same, groups = groups)[name = string(\"a\")];\n"
    "        tensor<fp32, [1, 2, 6, 6]> b = conv_transpose(x = x, weight = w, strides = s2, pad_type = custom, pad = p_same, groups = groups)[name = string(\"b\")];\n"
    "        tensor<fp32, [1, 2, 8, 7]> c = conv_transpose(x = x, weight = w, strides = s2, pad_type = valid, groups = groups)[name = string(\"c\")];\n"
    "        tensor<fp32, [1, 2, 8, 7]> d = conv_transpose(x = x, weight = w, strides = s2, groups = groups, pad = p_zero)[name = string(\"d\")];\n"
    "        tensor<fp32, [1, 2, 9, 8]> e = conv_transpose(x = x, weight = w, bias = bias, strides = s2, pad_type = valid, groups = groups, output_shape = big)[name = string(\"e\")];\n"
    "    } -> (a, b, c, d, e);\n"
    "}\n";
  static const gint64 xs[] = { 1, 2, 3, 3 }, ws[] = { 2, 1, 4, 3 };
  g_autoptr(GHashTable) in = inputs_new (rand_tensor ("x", xs, 4, 3, -1, 1, FALSE),
                                         rand_tensor ("w", ws, 4, 4, -1, 1, FALSE), NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) out = run_text (text, in, &error);
  gsize nc = 0, ne = 0;
  g_autofree float *c = NULL, *e = NULL;

  g_assert_no_error (error);
  assert_same_outputs (out, 0, 1, 0);
  assert_same_outputs (out, 2, 3, 0);
  c = ane_tensor_dup_floats (g_ptr_array_index (out, 2), &nc, NULL);
  e = ane_tensor_dup_floats (g_ptr_array_index (out, 4), &ne, NULL);
  for (int ch = 0; ch < 2; ch++)
    for (int y = 0; y < 9; y++)
      for (int x = 0; x < 8; x++)
        {
          float want = (ch == 0 ? 0.5f : -1.0f) + (y < 8 && x < 7 ? c[(ch * 8 + y) * 7 + x] : 0.0f);
          g_assert_cmpfloat_with_epsilon (e[(ch * 9 + y) * 8 + x], want, 1e-6);
        }
}

/* max_pool / avg_pool: ceil_mode, pad_type same, hand-checked values.
 * x = 0..24 as [1,1,5,5]; kernel 2, stride 2:
 *   floor mode → 2×2, ceil mode → 3×3 (the last window holds row/col 4 only);
 *   avg, ceil mode, pad 0: the last row of windows averages the cells inside. */
static void
test_text_pool (void)
{
  static const char *text =
    "program(1.3)\n"
    "{\n"
    "    func main<ios18>(tensor<fp32, [1, 1, 5, 5]> x) {\n"
    "        tensor<int32, [2]> k2 = const()[name = string(\"k2\"), val = tensor<int32, [2]>([2, 2])];\n"
    "        tensor<int32, [2]> k3 = const()[name = string(\"k3\"), val = tensor<int32, [2]>([3, 3])];\n"
    "        tensor<int32, [2]> s2 = const()[name = string(\"s2\"), val = tensor<int32, [2]>([2, 2])];\n"
    "        string valid = const()[name = string(\"valid\"), val = string(\"valid\")];\n"
    "        string same = const()[name = string(\"same\"), val = string(\"same\")];\n"
    "        bool yes = const()[name = string(\"yes\"), val = bool(true)];\n"
    "        bool no = const()[name = string(\"no\"), val = bool(false)];\n"
    "        tensor<fp32, [1, 1, 2, 2]> a = max_pool(x = x, kernel_sizes = k2, strides = s2, pad_type = valid)[name = string(\"a\")];\n"
    "        tensor<fp32, [1, 1, 3, 3]> b = max_pool(x = x, kernel_sizes = k2, strides = s2, pad_type = valid, ceil_mode = yes)[name = string(\"b\")];\n"
    "        tensor<fp32, [1, 1, 3, 3]> c = avg_pool(x = x, kernel_sizes = k2, strides = s2, pad_type = valid, ceil_mode = yes, exclude_padding_from_average = no)[name = string(\"c\")];\n"
    "        tensor<fp32, [1, 1, 3, 3]> d = avg_pool(x = x, kernel_sizes = k3, strides = s2, pad_type = same, exclude_padding_from_average = yes)[name = string(\"d\")];\n"
    "        tensor<fp32, [1, 1, 3, 3]> e = avg_pool(x = x, kernel_sizes = k3, strides = s2, pad_type = same, exclude_padding_from_average = no)[name = string(\"e\")];\n"
    "    } -> (a, b, c, d, e);\n"
    "}\n";
  static const gint64 xs[] = { 1, 1, 5, 5 };
  float xv[25];
  static const double a[] = { 6, 8, 16, 18 };
  static const double b[] = { 6, 8, 9, 16, 18, 19, 21, 23, 24 };
  /* ceil-mode windows past the end have no padding: torch's divisor is the
   * window clipped to the input (+ end padding 0) */
  static const double c[] = { 3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24 };
  /* same: in 5, k 3, s 2 → total 2, pads [1, 1]; windows start at −1, 1, 3 */
  static const double d[] = { 3, 4.5, 6, 10.5, 12, 13.5, 18, 19.5, 21 };
  static const double e[] = { 12.0 / 9, 27.0 / 9, 24.0 / 9, 63.0 / 9, 108.0 / 9, 81.0 / 9, 72.0 / 9, 117.0 / 9, 84.0 / 9 };
  g_autoptr(GHashTable) in = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) out = NULL;

  for (int i = 0; i < 25; i++)
    xv[i] = (float) i;
  in = inputs_new (ane_test_tensor_f32 ("x", xs, 4, xv), NULL);
  out = run_text (text, in, &error);
  g_assert_no_error (error);
  ane_test_assert_values_near (g_ptr_array_index (out, 0), a, 4, 1e-6);
  ane_test_assert_values_near (g_ptr_array_index (out, 1), b, 9, 1e-6);
  ane_test_assert_values_near (g_ptr_array_index (out, 2), c, 9, 1e-6);
  ane_test_assert_values_near (g_ptr_array_index (out, 3), d, 9, 1e-6);
  ane_test_assert_values_near (g_ptr_array_index (out, 4), e, 9, 1e-5);
}

/* upsample with fractional and unequal factors; rank 3 input:
 * H 2 × 1.5 → 3 (rows 0, 0, 1), W 3 × 2 → 6. */
static void
test_text_upsample (void)
{
  static const char *text =
    "program(1.3)\n"
    "{\n"
    "    func main<ios18>(tensor<fp32, [1, 2, 3]> x) {\n"
    "        fp32 sh = const()[name = string(\"sh\"), val = fp32(0x1.8p+0)];\n"
    "        int32 sw = const()[name = string(\"sw\"), val = int32(2)];\n"
    "        tensor<fp32, [1, 3, 6]> y = upsample_nearest_neighbor(x = x, scale_factor_height = sh, scale_factor_width = sw)[name = string(\"y\")];\n"
    "    } -> (y);\n"
    "}\n";
  static const gint64 xs[] = { 1, 2, 3 };
  static const float xv[] = { 1, 2, 3, 4, 5, 6 };
  static const double want[] = { 1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6 };
  g_autoptr(GHashTable) in = inputs_new (ane_test_tensor_f32 ("x", xs, 3, xv), NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) out = run_text (text, in, &error);

  g_assert_no_error (error);
  ane_test_assert_values (g_ptr_array_index (out, 0), want, 18);
}

/* SDPA: a bool mask equals the float mask 0 / −inf; a fully masked row is
 * NaN; a mask of lower rank broadcasts. */
static void
test_text_sdpa_masks (void)
{
  static const char *text =
    "program(1.3)\n"
    "{\n"
    "    func main<ios18>(tensor<fp32, [2, 3, 4]> q, tensor<fp32, [2, 5, 4]> k, tensor<fp32, [2, 5, 2]> v) {\n"
    "        tensor<bool, [3, 5]> m = const()[name = string(\"m\"), val = tensor<bool, [3, 5]>([true, false, true, true, false, false, false, false, false, false, true, true, true, true, true])];\n"
    "        tensor<fp32, [3, 5]> f = const()[name = string(\"f\"), val = tensor<fp32, [3, 5]>([0x0p+0, -inf, 0x0p+0, 0x0p+0, -inf, -inf, -inf, -inf, -inf, -inf, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0])];\n"
    "        tensor<fp32, [2, 3, 2]> a = scaled_dot_product_attention(query = q, key = k, value = v, attn_mask = m)[name = string(\"a\")];\n"
    "        tensor<fp32, [2, 3, 2]> b = scaled_dot_product_attention(query = q, key = k, value = v, attn_mask = f)[name = string(\"b\")];\n"
    "        tensor<fp32, [2, 3, 2]> c = scaled_dot_product_attention(query = q, key = k, value = v)[name = string(\"c\")];\n"
    "    } -> (a, b, c);\n"
    "}\n";
  static const gint64 qs[] = { 2, 3, 4 }, ks[] = { 2, 5, 4 }, vs[] = { 2, 5, 2 };
  g_autoptr(GHashTable) in = inputs_new (rand_tensor ("q", qs, 3, 5, -1, 1, FALSE),
                                         rand_tensor ("k", ks, 3, 6, -1, 1, FALSE),
                                         rand_tensor ("v", vs, 3, 7, -1, 1, FALSE), NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) out = run_text (text, in, &error);
  gsize n = 0;
  g_autofree float *a = NULL, *b = NULL, *c = NULL;
  g_autofree float *q = ane_tensor_dup_floats (g_hash_table_lookup (in, "q"), &n, NULL);
  g_autofree float *k = ane_tensor_dup_floats (g_hash_table_lookup (in, "k"), &n, NULL);
  g_autofree float *v = ane_tensor_dup_floats (g_hash_table_lookup (in, "v"), &n, NULL);

  g_assert_no_error (error);
  a = ane_tensor_dup_floats (g_ptr_array_index (out, 0), &n, NULL);
  b = ane_tensor_dup_floats (g_ptr_array_index (out, 1), &n, NULL);
  c = ane_tensor_dup_floats (g_ptr_array_index (out, 2), &n, NULL);
  for (gsize i = 0; i < 12; i++)
    {
      gsize row = (i / 2) % 3;

      if (row == 1)
        {
          g_assert_true (isnan (a[i]));   /* every key masked */
          g_assert_true (isnan (b[i]));
        }
      else
        g_assert_cmpfloat (a[i], ==, b[i]);
      if (row == 2)
        g_assert_cmpfloat_with_epsilon (a[i], c[i], 1e-6);   /* nothing masked */
    }
  /* row 0 of batch 1 by hand: keys 0, 2, 3 */
  {
    double s[5], mx = -INFINITY, sum = 0, want[2] = { 0, 0 };
    const int keys[] = { 0, 2, 3 };

    for (int j = 0; j < 3; j++)
      {
        int key = keys[j];
        s[j] = 0;
        for (int e = 0; e < 4; e++)
          s[j] += q[12 + e] * k[20 + key * 4 + e];
        s[j] /= 2.0;
        mx = MAX (mx, s[j]);
      }
    for (int j = 0; j < 3; j++)
      sum += exp (s[j] - mx);
    for (int j = 0; j < 3; j++)
      for (int e = 0; e < 2; e++)
        want[e] += exp (s[j] - mx) / sum * v[10 + keys[j] * 2 + e];
    g_assert_cmpfloat_with_epsilon (a[6], want[0], 1e-5);
    g_assert_cmpfloat_with_epsilon (a[7], want[1], 1e-5);
  }
}

/* int32 matmul and linear: exact integer sums. */
static void
test_text_int32 (void)
{
  static const char *text =
    "program(1.3)\n"
    "{\n"
    "    func main<ios18>(tensor<int32, [2, 3]> x, tensor<int32, [3, 2]> y) {\n"
    "        bool t = const()[name = string(\"t\"), val = bool(true)];\n"
    "        tensor<int32, [2, 2]> a = matmul(x = x, y = y)[name = string(\"a\")];\n"
    "        tensor<int32, [3, 3]> b = matmul(x = x, y = y, transpose_x = t, transpose_y = t)[name = string(\"b\")];\n"
    "        tensor<int32, [2, 3]> w = const()[name = string(\"w\"), val = tensor<int32, [2, 3]>([1, 0, -1, 2, 2, 2])];\n"
    "        tensor<int32, [2]> bias = const()[name = string(\"bias\"), val = tensor<int32, [2]>([100, -100])];\n"
    "        tensor<int32, [2, 2]> c = linear(x = x, weight = w, bias = bias)[name = string(\"c\")];\n"
    "    } -> (a, b, c);\n"
    "}\n";
  static const gint64 xs[] = { 2, 3 }, ys[] = { 3, 2 };
  static const double xv[] = { 1, 2, 3, 4, 5, 6 }, yv[] = { 7, 8, 9, 10, 11, 12 };
  static const double a[] = { 58, 64, 139, 154 };
  /* xᵀ [3,2] · yᵀ [2,3] */
  static const double b[] = { 39, 49, 59, 54, 68, 82, 69, 87, 105 };
  static const double c[] = { 98, -88, 98, -70 };
  g_autoptr(GHashTable) in = inputs_new (ane_test_tensor_values ("x", ANE_DTYPE_INT32, xs, 2, xv),
                                         ane_test_tensor_values ("y", ANE_DTYPE_INT32, ys, 2, yv), NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) out = run_text (text, in, &error);

  g_assert_no_error (error);
  ane_test_assert_values (g_ptr_array_index (out, 0), a, 4);
  ane_test_assert_values (g_ptr_array_index (out, 1), b, 9);
  ane_test_assert_values (g_ptr_array_index (out, 2), c, 4);
}

/* Malformed programs fail with a message naming the problem. */
static void
test_text_errors (void)
{
  static const struct {
    const char *decl;     /* the function's inputs */
    const char *body;     /* ops; the result is named y */
    const char *message;
  } cases[] = {
    { "tensor<fp32, [2, 3]> a, tensor<fp32, [4, 5]> b",
      "tensor<fp32, [2, 5]> y = matmul(x = a, y = b)[name = string(\"y\")];",
      "inner dimensions differ" },
    { "tensor<fp32, [2, 3]> a, tensor<fp32, [3, 5]> b",
      "tensor<fp32, [2, 6]> y = matmul(x = a, y = b)[name = string(\"y\")];",
      "the program declares [2, 6]" },
    { "tensor<fp32, [2, 2, 3]> a, tensor<fp32, [3, 3, 5]> b",
      "tensor<fp32, [3, 2, 5]> y = matmul(x = a, y = b)[name = string(\"y\")];",
      "does not broadcast" },
    { "tensor<fp32, [2, 3]> a, tensor<fp32, [5, 4]> b",
      "tensor<fp32, [2, 5]> y = linear(x = a, weight = b)[name = string(\"y\")];",
      "differs from weight's D_in" },
    { "tensor<fp32, [1, 4, 5, 5]> a, tensor<fp32, [2, 3, 3, 3]> b",
      "tensor<fp32, [1, 2, 3, 3]> y = conv(x = a, weight = b)[name = string(\"y\")];",
      "does not fit C_in 4" },
    { "tensor<fp32, [1, 3, 2, 2]> a, tensor<fp32, [2, 3, 3, 3]> b",
      "tensor<fp32, [1, 2, 1, 1]> y = conv(x = a, weight = b)[name = string(\"y\")];",
      "larger than the padded input" },
    { "tensor<fp32, [1, 3, 5, 5]> a, tensor<fp32, [2, 3, 3, 3]> b",
      "string p = const()[name = string(\"p\"), val = string(\"custom\")];\n"
      "tensor<fp32, [1, 2, 3, 3]> y = conv(x = a, weight = b, pad_type = p)[name = string(\"y\")];",
      "needs 'pad'" },
    { "tensor<fp32, [1, 3, 5, 5]> a, tensor<fp32, [2, 3, 3, 3]> b",
      "string p = const()[name = string(\"p\"), val = string(\"mirror\")];\n"
      "tensor<fp32, [1, 2, 3, 3]> y = conv(x = a, weight = b, pad_type = p)[name = string(\"y\")];",
      "unknown pad_type 'mirror'" },
    { "tensor<fp32, [1, 3, 5, 5]> a, tensor<fp32, [3, 2, 3, 3]> b",
      "tensor<fp32, [1, 3, 7, 7]> y = conv_transpose(x = a, weight = b)[name = string(\"y\")];",
      "expected [1, 2, …]" },
    { "tensor<fp32, [1, 3, 5, 5]> a, tensor<fp32, [1, 3, 5, 5]> b",
      "tensor<int32, [3]> k = const()[name = string(\"k\"), val = tensor<int32, [3]>([2, 2, 2])];\n"
      "string v = const()[name = string(\"v\"), val = string(\"valid\")];\n"
      "tensor<fp32, [1, 3, 4, 4]> y = max_pool(x = a, kernel_sizes = k, pad_type = v)[name = string(\"y\")];",
      "'kernel_sizes' has 3 values" },
    { "tensor<fp32, [2, 3, 4]> a, tensor<fp32, [2, 5, 3]> b",
      "tensor<fp32, [2, 3, 3]> y = scaled_dot_product_attention(query = a, key = b, value = b)[name = string(\"y\")];",
      "key must be" },
    { "tensor<fp32, [2, 3, 4]> a, tensor<fp32, [2, 5, 4]> b",
      "tensor<fp32, [4, 5]> m = const()[name = string(\"m\"), val = tensor<fp32, [4, 5]>([" 
      "0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, "
      "0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0])];\n"
      "tensor<fp32, [2, 3, 4]> y = scaled_dot_product_attention(query = a, key = b, value = b, attn_mask = m)[name = string(\"y\")];",
      "does not broadcast" },
    { "tensor<fp32, [1, 2, 3]> a, tensor<fp32, [1, 2, 3]> b",
      "tensor<fp32, [1, 4, 7]> y = upsample_nearest_neighbor(x = a)[name = string(\"y\")];",
      "declares [1, 4, 7]" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strdup_printf ("program(1.3)\n{\n    func main<ios18>(%s) {\n        %s\n    } -> (y);\n}\n",
                                               cases[i].decl, cases[i].body);
      g_autoptr(GError) parse_error = NULL;
      g_autoptr(AneMilProgram) program = ane_mil_text_parse (text, -1, "test", &parse_error);
      g_autoptr(AneCpuBackend) backend = NULL;
      g_autoptr(GHashTable) in = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) out = NULL;

      g_assert_no_error (parse_error);
      backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      {
        g_autoptr(GPtrArray) specs = ane_cpu_backend_list_inputs (backend);

        for (guint j = 0; j < specs->len; j++)
          {
            AneTensor *s = g_ptr_array_index (specs, j);
            guint rs = 0;
            const gint64 *ss = ane_tensor_get_shape (s, &rs);
            AneTensor *t = rand_tensor (ane_tensor_get_name (s), ss, rs, j, -1, 1, FALSE);
            g_hash_table_insert (in, (gpointer) ane_tensor_get_name (t), t);
          }
      }
      out = ane_cpu_backend_run (backend, in, NULL, FALSE, NULL, &error);
      g_assert_null (out);
      g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
      if (strstr (error->message, cases[i].message) == NULL)
        g_error ("case %u: '%s' does not mention '%s'", i, error->message, cases[i].message);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/cpu/linalg/matmul", test_matmul);
  g_test_add_func ("/ane/cpu/linalg/matmul/rank1", test_matmul_rank1);
  g_test_add_func ("/ane/cpu/linalg/lora_matmul", test_lora_matmul);
  g_test_add_func ("/ane/cpu/linalg/lora_matmul/rank1", test_lora_matmul_rank1);
  g_test_add_func ("/ane/cpu/linalg/grouped_matmul", test_grouped_matmul);
  g_test_add_data_func ("/ane/cpu/linalg/dequant_matmul/q8_0", GINT_TO_POINTER (ANE_DTYPE_Q8_0), test_dequant_matmul);
  g_test_add_data_func ("/ane/cpu/linalg/dequant_matmul/q4_0", GINT_TO_POINTER (ANE_DTYPE_Q4_0), test_dequant_matmul);
  g_test_add_func ("/ane/cpu/linalg/dequant_matmul/rank4", test_dequant_matmul_rank4);
  g_test_add_func ("/ane/cpu/linalg/conv", test_conv);
  g_test_add_func ("/ane/cpu/linalg/conv/composed", test_conv_composed);
  g_test_add_func ("/ane/cpu/linalg/conv_transpose", test_conv_transpose);
  g_test_add_func ("/ane/cpu/linalg/conv_transpose/composed", test_conv_transpose_composed);
  g_test_add_func ("/ane/cpu/linalg/pool", test_pool);
  g_test_add_func ("/ane/cpu/linalg/resize_nearest_2x", test_resize_nearest_2x);
  g_test_add_func ("/ane/cpu/linalg/attention/sdpa", test_attention_sdpa);
  g_test_add_func ("/ane/cpu/linalg/attention/composed", test_attention_composed);
  g_test_add_func ("/ane/cpu/linalg/text/conv-pad-types", test_text_conv_pad_types);
  g_test_add_func ("/ane/cpu/linalg/text/conv-transpose", test_text_conv_transpose);
  g_test_add_func ("/ane/cpu/linalg/text/pool", test_text_pool);
  g_test_add_func ("/ane/cpu/linalg/text/upsample", test_text_upsample);
  g_test_add_func ("/ane/cpu/linalg/text/sdpa-masks", test_text_sdpa_masks);
  g_test_add_func ("/ane/cpu/linalg/text/int32", test_text_int32);
  g_test_add_func ("/ane/cpu/linalg/text/errors", test_text_errors);
  return g_test_run ();
}
