/* bench/cpu.c: the CPU backend (the MIL interpreter) at work
 *
 *   bench-cpu [all|matmul|transformer|overhead|training] [--fp16] [REPEATS]
 *
 * matmul       fp32 1024×1024×1024 matmul as a one-op graph on
 *              ANE_BACKEND_CPU (fp32 precision), against the same
 *              cblas_sgemm call made directly: GFLOP/s of each and the ratio.
 * transformer  a 12-layer decoder (hidden 768, 12 heads, sequence 128, FFN
 *              3072; rms_norm, q/k/v/o matmuls, neox rope, causal attention,
 *              silu-gated FFN, residuals) built with the AneGraph API, at
 *              iOS18 (attention lowers to scaled_dot_product_attention):
 *              time per forward and the process's peak RSS (getrusage).
 *              --fp16 runs it in fp16 precision instead of fp32.
 * overhead     a chain of 1000 adds on a [16] tensor: interpreter time per op,
 *              also as the marginal cost against a 1-add graph.
 * training     the two shape kernels a LLaMA training step leans on, at
 *              stories15M's shapes (vocab 32000, dim 288, seq 64): the
 *              embedding gradient (scatter_along_axis, mode add, of 64 token
 *              rows into a [32000, 288] table) and the tiles of its gradient
 *              program (the zeros table [1, 1] -> [32000, 288], the loss
 *              gradient's [64, 1] -> [64, 32000], a norm's [64, 1] -> [64,
 *              288], GQA's [1, 4, 1, 32, 8] -> [1, 4, 2, 32, 8]), each a
 *              one-op MIL program whose output is sliced to one row, less
 *              the time of a program that only slices (the run's overhead).
 *              ANE_CPU_PROFILE=1 splits the same runs per op.
 *
 * Run one part per process to read its peak RSS alone. Figures are the best
 * and the mean of REPEATS timed runs after one warm-up run.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#ifdef HAVE_CBLAS
#include <cblas.h>
#endif

#include "ane-glib.h"
#include "mil/ane-mil-specialize-private.h"
#include "mil/ane-mil-text-private.h"
#include "mil/lower/ane-lower-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"
#include "runtime/cpu/ane-cpu-private.h"

#define CHECK(expr) G_STMT_START { if (!(expr)) { \
  fflush (stdout); \
  g_printerr ("%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr, error ? error->message : "?"); \
  exit (1); } } G_STMT_END

static double
peak_rss_mib (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (double) ru.ru_maxrss / 1024.0;   /* ru_maxrss is in KiB on Linux */
}

static AneTensor *
random_tensor (const char   *name,
               const gint64 *shape,
               guint         rank,
               GRand        *rand,
               double        scale)
{
  g_autoptr(GError) error = NULL;
  gint64 n = 1;
  g_autofree float *v = NULL;
  AneTensor *t;

  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  v = g_new (float, n);
  for (gint64 i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (rand, -scale, scale);
  t = ane_tensor_new_from_floats (name, shape, rank, v, n, &error);
  CHECK (t != NULL);
  return t;
}

static AneTensor *
const_tensor (AneGraph     *g,
              const char   *name,
              const gint64 *shape,
              guint         rank,
              GRand        *rand,
              double        scale)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) v = random_tensor (name, shape, rank, rand, scale);
  AneTensor *t = ane_graph_const (g, v, &error);

  CHECK (t != NULL);
  return t;
}

typedef struct {
  double best, mean;
} Timing;

/* Runs exe REPEATS times after a warm-up; seconds per run. */
static Timing
time_runs (AneExecutable *exe,
           AneTensor    **inputs,
           guint          n_inputs,
           guint          repeats)
{
  g_autoptr(GError) error = NULL;
  Timing t = { G_MAXDOUBLE, 0 };

  for (guint r = 0; r <= repeats; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr(GPtrArray) out = ane_executable_run (exe, inputs, n_inputs, NULL, &error);
      double s = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;

      CHECK (out != NULL);
      if (r == 0)
        continue;   /* warm-up */
      t.best = MIN (t.best, s);
      t.mean += s / repeats;
    }
  return t;
}

/* --- (a) matmul ------------------------------------------------------------ */

static int
cmp_double (gconstpointer a,
            gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
report_line (const char *what,
             double     *s,
             guint       n,
             double      flops)
{
  qsort (s, n, sizeof (double), cmp_double);
  printf ("    %-46s best %7.2f ms %6.2f GFLOP/s   median %7.2f ms %6.2f GFLOP/s\n",
          what, s[0] * 1e3, flops / s[0] / 1e9, s[n / 2] * 1e3, flops / s[n / 2] / 1e9);
}

static void
bench_matmul (guint repeats)
{
  static const gint64 n = 1024, shape[] = { 1024, 1024 };
  double flops = 2.0 * n * n * n;
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  g_autoptr(AneTensor) va = random_tensor ("a", shape, 2, rand, 1.0);
  g_autoptr(AneTensor) vb = random_tensor ("b", shape, 2, rand, 1.0);
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT32, shape, 2, &error);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT32, shape, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_matmul (g, a, b, FALSE, FALSE, &error);
  g_autoptr(AneExecutable) exe = NULL;
  AneMilProgram *program = NULL, *bare_program = NULL;
  AneCpuPlan *plan = NULL, *bare = NULL;
  static const char *bare_text =
    "program(1.3)\n"
    "{\n"
    "    func main<ios18>(tensor<fp32, [1024, 1024]> a, tensor<fp32, [1024, 1024]> b) {\n"
    "        tensor<fp32, [1024, 1024]> y = matmul(x = a, y = b)[name = string(\"y\")];\n"
    "    } -> (y);\n"
    "}\n";
  g_autofree double *t_bare = g_new (double, repeats);
  g_autoptr(GPtrArray) blobs = NULL;
  g_autoptr(AneCpuValue) pa = NULL, pb = NULL;
  g_autofree double *t_exe = g_new (double, repeats), *t_plan = g_new (double, repeats);
  g_autofree double *t_direct = g_new (double, repeats);
  g_autofree float *fc = g_new (float, n * n);
  guint64 weight_size = 0;
  AneTensor *ins[] = { va, vb };

  CHECK (y != NULL);
  CHECK (ane_graph_add_output (g, "y", y, &error));
  exe = ane_executable_new (g, ANE_BACKEND_CPU);
  ane_executable_set_target (exe, ANE_TARGET_IOS18);
  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  CHECK (ane_executable_compile (exe, NULL, &error));

  /* The same lowered program run by the plan on prepared values: the
   * interpreter without the executable's interface copies. */
  program = ane_lower_graph (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32, &blobs, &weight_size, &error);
  CHECK (program != NULL);
  plan = ane_cpu_plan_new (program, "main", NULL, NULL, 0, &error);
  CHECK (plan != NULL);
  /* The matmul kernel alone: a program of one matmul op (no output identity). */
  bare_program = ane_mil_text_parse (bare_text, -1, "bench", &error);
  CHECK (bare_program != NULL);
  bare = ane_cpu_plan_new (bare_program, "main", NULL, NULL, 0, &error);
  CHECK (bare != NULL);
  pa = ane_cpu_value_from_tensor (va, &error);
  pb = ane_cpu_value_from_tensor (vb, &error);
  CHECK (pa != NULL && pb != NULL);

  /* interleaved, so that the machine's drift hits all three alike; run 0 warms up */
  for (guint r = 0; r <= repeats; r++)
    {
      AneCpuValue *pins[] = { pa, pb }, *pouts[1] = { NULL };
      gint64 t0, t1, t2, t3, t4;

      t0 = g_get_monotonic_time ();
      {
        g_autoptr(GPtrArray) out = ane_executable_run (exe, ins, 2, NULL, &error);
        CHECK (out != NULL);
      }
      t1 = g_get_monotonic_time ();
      CHECK (ane_cpu_plan_run (plan, pins, NULL, pouts, FALSE, NULL, &error));
      ane_cpu_value_free (pouts[0]);
      t2 = g_get_monotonic_time ();
#ifdef HAVE_CBLAS
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) n, (int) n, (int) n,
                   1.0f, pa->f, (int) n, pb->f, (int) n, 0.0f, fc, (int) n);
#endif
      t3 = g_get_monotonic_time ();
      CHECK (ane_cpu_plan_run (bare, pins, NULL, pouts, FALSE, NULL, &error));
      ane_cpu_value_free (pouts[0]);
      t4 = g_get_monotonic_time ();
      if (r == 0)
        continue;
      t_bare[r - 1] = (double) (t4 - t3) / G_USEC_PER_SEC;
      t_exe[r - 1] = (double) (t1 - t0) / G_USEC_PER_SEC;
      t_plan[r - 1] = (double) (t2 - t1) / G_USEC_PER_SEC;
      t_direct[r - 1] = (double) (t3 - t2) / G_USEC_PER_SEC;
    }

  printf ("(a) fp32 matmul %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT ", %u runs each, interleaved\n",
          n, n, n, repeats);
  report_line ("interpreter: ane_executable_run (one-op graph)", t_exe, repeats, flops);
  report_line ("interpreter: the plan alone (no interface)", t_plan, repeats, flops);
  report_line ("interpreter: the matmul op alone (MIL text)", t_bare, repeats, flops);
#ifdef HAVE_CBLAS
  report_line ("cblas_sgemm directly", t_direct, repeats, flops);
  printf ("    direct / interpreter (best, median)  [target >= 90 %%]:\n"
          "      ane_executable_run %5.1f %% %5.1f %%   plan alone %5.1f %% %5.1f %%   matmul op alone %5.1f %% %5.1f %%\n",
          100.0 * t_direct[0] / t_exe[0], 100.0 * t_direct[repeats / 2] / t_exe[repeats / 2],
          100.0 * t_direct[0] / t_plan[0], 100.0 * t_direct[repeats / 2] / t_plan[repeats / 2],
          100.0 * t_direct[0] / t_bare[0], 100.0 * t_direct[repeats / 2] / t_bare[repeats / 2]);
#else
  printf ("    (built without a CBLAS: no direct comparison; the interpreter used its plain loops)\n");
#endif
  ane_cpu_plan_free (plan);
  ane_cpu_plan_free (bare);
  protobuf_c_message_free_unpacked (&program->base, NULL);
  protobuf_c_message_free_unpacked (&bare_program->base, NULL);
}

/* --- (b) transformer ---------------------------------------------------------- */

#define T_LAYERS 12
#define T_HIDDEN 768
#define T_HEADS  12
#define T_SEQ    128
#define T_FFN    3072

static AneTensor *
heads_view (AneGraph  *g,
            AneTensor *t,
            GError   **error)
{
  /* [1, S, hidden] -> [1, S, H, D] -> [1, H, S, D] */
  static const gint64 split[] = { 1, T_SEQ, T_HEADS, T_HIDDEN / T_HEADS }, perm[] = { 0, 2, 1, 3 };
  g_autoptr(AneTensor) r = ane_graph_reshape (g, t, split, 4, error);

  return r ? ane_graph_transpose (g, r, perm, 4, error) : NULL;
}

static void
bench_transformer (guint    repeats,
                   gboolean fp16)
{
  static const gint64 xs[] = { 1, T_SEQ, T_HIDDEN }, ps[] = { T_SEQ };
  static const gint64 sq[] = { T_HIDDEN, T_HIDDEN }, up[] = { T_HIDDEN, T_FFN }, down[] = { T_FFN, T_HIDDEN };
  static const gint64 nw[] = { T_HIDDEN }, merged[] = { 1, T_SEQ, T_HIDDEN }, perm[] = { 0, 2, 1, 3 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (2);
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x_in = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3, &error);
  g_autoptr(AneTensor) pos = ane_graph_input (g, "positions", ANE_DTYPE_INT32, ps, 1, &error);
  g_autoptr(AneTensor) vx = random_tensor ("x", xs, 3, rand, 1.0);
  g_autoptr(AneTensor) vpos = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  AneTensor *x = g_object_ref (x_in);
  double wscale = 1.0 / 28.0, rss_built, rss_compiled;   /* ~1/sqrt(hidden) keeps activations O(1) */
  gint64 t0;
  double compile_s;
  Timing t;
  AneTensor *ins[2];

  {
    gint32 p[T_SEQ];
    for (int i = 0; i < T_SEQ; i++)
      p[i] = i;
    vpos = ane_tensor_new_from_ints ("positions", ps, 1, p, T_SEQ, &error);
    CHECK (vpos != NULL);
  }
  for (int l = 0; l < T_LAYERS; l++)
    {
      g_autoptr(AneTensor) n1w = const_tensor (g, NULL, nw, 1, rand, 1.0);
      g_autoptr(AneTensor) wq = const_tensor (g, NULL, sq, 2, rand, wscale);
      g_autoptr(AneTensor) wk = const_tensor (g, NULL, sq, 2, rand, wscale);
      g_autoptr(AneTensor) wv = const_tensor (g, NULL, sq, 2, rand, wscale);
      g_autoptr(AneTensor) wo = const_tensor (g, NULL, sq, 2, rand, wscale);
      g_autoptr(AneTensor) n2w = const_tensor (g, NULL, nw, 1, rand, 1.0);
      g_autoptr(AneTensor) wg = const_tensor (g, NULL, up, 2, rand, wscale);
      g_autoptr(AneTensor) wu = const_tensor (g, NULL, up, 2, rand, wscale);
      g_autoptr(AneTensor) wd = const_tensor (g, NULL, down, 2, rand, 1.0 / 55.0);
      g_autoptr(AneTensor) h = ane_graph_rms_norm (g, x, n1w, 1e-5, &error);
      g_autoptr(AneTensor) q0 = ane_graph_matmul (g, h, wq, FALSE, FALSE, &error);
      g_autoptr(AneTensor) k0 = ane_graph_matmul (g, h, wk, FALSE, FALSE, &error);
      g_autoptr(AneTensor) v0 = ane_graph_matmul (g, h, wv, FALSE, FALSE, &error);
      g_autoptr(AneTensor) q1 = heads_view (g, q0, &error);
      g_autoptr(AneTensor) k1 = heads_view (g, k0, &error);
      g_autoptr(AneTensor) v1 = heads_view (g, v0, &error);
      g_autoptr(AneTensor) q2 = ane_graph_rope (g, q1, pos, ANE_ROPE_NEOX, 10000.0, 0, &error);
      g_autoptr(AneTensor) k2 = ane_graph_rope (g, k1, pos, ANE_ROPE_NEOX, 10000.0, 0, &error);
      g_autoptr(AneTensor) att = ane_graph_attention (g, q2, k2, v1, NULL, TRUE, 0.0, 0.0, &error);
      g_autoptr(AneTensor) att_t = ane_graph_transpose (g, att, perm, 4, &error);
      g_autoptr(AneTensor) att_m = ane_graph_reshape (g, att_t, merged, 3, &error);
      g_autoptr(AneTensor) o = ane_graph_matmul (g, att_m, wo, FALSE, FALSE, &error);
      g_autoptr(AneTensor) x1 = ane_graph_add (g, x, o, &error);
      g_autoptr(AneTensor) h2 = ane_graph_rms_norm (g, x1, n2w, 1e-5, &error);
      g_autoptr(AneTensor) gate = ane_graph_matmul (g, h2, wg, FALSE, FALSE, &error);
      g_autoptr(AneTensor) upv = ane_graph_matmul (g, h2, wu, FALSE, FALSE, &error);
      g_autoptr(AneTensor) act = ane_graph_silu (g, gate, &error);
      g_autoptr(AneTensor) prod = ane_graph_mul (g, act, upv, &error);
      g_autoptr(AneTensor) dn = ane_graph_matmul (g, prod, wd, FALSE, FALSE, &error);
      AneTensor *x2 = ane_graph_add (g, x1, dn, &error);

      CHECK (x2 != NULL);
      g_object_unref (x);
      x = x2;
    }
  CHECK (ane_graph_add_output (g, "y", x, &error));
  g_object_unref (x);
  rss_built = peak_rss_mib ();

  exe = ane_executable_new (g, ANE_BACKEND_CPU);
  ane_executable_set_target (exe, ANE_TARGET_IOS18);
  ane_executable_set_precision (exe, fp16 ? ANE_PRECISION_FLOAT16 : ANE_PRECISION_FLOAT32);
  t0 = g_get_monotonic_time ();
  CHECK (ane_executable_compile (exe, NULL, &error));
  compile_s = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  rss_compiled = peak_rss_mib ();
  ins[0] = vx;
  ins[1] = vpos;
  t = time_runs (exe, ins, 2, repeats);

  {
    /* matmul FLOPs per forward: projections and FFN, plus the two attention products */
    double proj = 2.0 * T_SEQ * T_HIDDEN * (4.0 * T_HIDDEN + 3.0 * T_FFN);
    double attn = 2.0 * 2.0 * T_SEQ * T_SEQ * T_HIDDEN;
    double gflop = T_LAYERS * (proj + attn) / 1e9;

    printf ("(b) transformer: %d layers, hidden %d, %d heads, seq %d, ffn %d, %s, iOS18 (SDPA), %u runs\n",
            T_LAYERS, T_HIDDEN, T_HEADS, T_SEQ, T_FFN, fp16 ? "fp16" : "fp32", repeats);
    printf ("    compile (lower + plan) %.2f s\n", compile_s);
    printf ("    forward: best %.1f ms, mean %.1f ms  (%.1f GFLOP per forward, %.1f GFLOP/s at best)\n",
            t.best * 1e3, t.mean * 1e3, gflop, gflop / t.best);
    printf ("    peak RSS: %.0f MiB after building the graph, %.0f MiB after compiling, %.0f MiB after the runs\n",
            rss_built, rss_compiled, peak_rss_mib ());
  }
}

/* --- (c) interpreter overhead -------------------------------------------------- */

static Timing
chain_timing (guint n_ops,
              guint repeats)
{
  static const gint64 shape[] = { 16 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, shape, 1, &error);
  g_autoptr(AneTensor) c = const_tensor (g, NULL, shape, 1, rand, 1e-3);
  g_autoptr(AneTensor) vx = random_tensor ("x", shape, 1, rand, 1.0);
  g_autoptr(AneExecutable) exe = NULL;
  AneTensor *y = g_object_ref (x);

  for (guint i = 0; i < n_ops; i++)
    {
      AneTensor *next = ane_graph_add (g, y, c, &error);

      CHECK (next != NULL);
      g_object_unref (y);
      y = next;
    }
  CHECK (ane_graph_add_output (g, "y", y, &error));
  g_object_unref (y);
  exe = ane_executable_new (g, ANE_BACKEND_CPU);
  ane_executable_set_target (exe, ANE_TARGET_IOS18);
  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  CHECK (ane_executable_compile (exe, NULL, &error));
  return time_runs (exe, &vx, 1, repeats);
}

static void
bench_overhead (guint repeats)
{
  guint n = 1000;
  Timing one = chain_timing (1, repeats * 10);
  Timing chain = chain_timing (n, repeats * 10);

  printf ("(c) interpreter overhead: a chain of %u adds on a [16] tensor (plus the output identity), %u runs\n",
          n, repeats * 10);
  printf ("    per run: best %.1f us, mean %.1f us; 1-add graph: best %.1f us, mean %.1f us\n",
          chain.best * 1e6, chain.mean * 1e6, one.best * 1e6, one.mean * 1e6);
  printf ("    per op: %.3f us (run / %u, best), %.3f us (mean); marginal (chain − 1-add) / %u: %.3f us (best)   [target <= 2 us]\n",
          chain.best * 1e6 / n, n, chain.mean * 1e6 / n, n - 1, (chain.best - one.best) * 1e6 / (n - 1));
}

/* --- (d) training kernels ------------------------------------------------------ */

/* Best and mean seconds of REPEATS runs of a MIL text program after a warm-up. */
static Timing
time_text (const char *text,
           GHashTable *inputs,
           guint       repeats)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (text, -1, "bench", &error);
  AneCpuBackend *backend;
  Timing t = { G_MAXDOUBLE, 0 };

  CHECK (program != NULL);
  backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, &error);
  CHECK (backend != NULL);
  for (guint r = 0; r <= repeats; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr(GPtrArray) out = ane_cpu_backend_run (backend, inputs, NULL, FALSE, NULL, &error);
      double s = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;

      CHECK (out != NULL);
      if (r == 0)
        continue;   /* warm-up */
      t.best = MIN (t.best, s);
      t.mean += s / repeats;
    }
  ane_cpu_backend_free (backend);
  return t;
}

static char *
shape_text (const gint64 *shape,
            guint         rank)
{
  GString *s = g_string_new ("[");

  for (guint d = 0; d < rank; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? ", " : "", shape[d]);
  return g_string_free (g_string_append_c (s, ']'), FALSE);
}

/* A program of inputs (a MIL signature), the consts and op body, whose
 * value y of shape out[rank] is sliced to its first row (so the run hands
 * back a few hundred bytes, not the whole result). */
static char *
sliced_program (const char   *inputs,
                const char   *body,
                const char   *y,
                const gint64 *out,
                guint         rank)
{
  g_autoptr(GString) zeros = g_string_new (NULL), sizes = g_string_new (NULL);
  gint64 row[ANE_MAX_RANK];

  for (guint d = 0; d < rank; d++)
    {
      row[d] = d + 1 < rank ? 1 : out[d];
      g_string_append_printf (zeros, "%s0", d ? ", " : "");
      g_string_append_printf (sizes, "%s%" G_GINT64_FORMAT, d ? ", " : "", row[d]);
    }
  {
    g_autofree char *rs = shape_text (row, rank);

    return g_strdup_printf ("program(1.3)\n{\n    func main<ios18>(%s) {\n%s"
                            "        tensor<int32, [%u]> b0 = const()[name = string(\"b0\"), val = tensor<int32, [%u]>([%s])];\n"
                            "        tensor<int32, [%u]> sz = const()[name = string(\"sz\"), val = tensor<int32, [%u]>([%s])];\n"
                            "        tensor<fp32, %s> s = slice_by_size(x = %s, begin = b0, size = sz)[name = string(\"s\")];\n"
                            "    } -> (s);\n}\n",
                            inputs, body, rank, rank, zeros->str, rank, rank, sizes->str, rs, y);
  }
}

static void
report_kernel (const char *what,
               Timing      run,
               Timing      base)
{
  printf ("    %-44s best %8.3f ms, mean %8.3f ms  (run %8.3f ms, less %.3f ms without the op)\n",
          what, (run.best - base.best) * 1e3, (run.mean - base.mean) * 1e3, run.best * 1e3, base.best * 1e3);
}

static void
bench_training (guint repeats)
{
  static const gint64 table[] = { 32000, 288 }, rows[] = { 64, 288 };
  static const struct {
    gint64 x[5], out[5];
    guint  rank;
  } tiles[] = {
    { { 1, 1 }, { 32000, 288 }, 2 },           /* the embedding gradient's zeros */
    { { 64, 1 }, { 64, 32000 }, 2 },           /* the loss gradient, per row */
    { { 64, 1 }, { 64, 288 }, 2 },             /* a norm's gradient, per row */
    { { 1, 4, 1, 32, 8 }, { 1, 4, 2, 32, 8 }, 5 },   /* GQA: kv heads repeated */
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(GError) error = NULL;
  g_autofree float *zeros = g_new0 (float, table[0] * table[1]);
  g_autofree gint32 *idx = g_new (gint32, rows[0] * rows[1]);
  g_autoptr(AneTensor) d = NULL, u = NULL, i = NULL;
  g_autoptr(GHashTable) in = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *base_text = NULL, *scatter_text = NULL;
  Timing base, run;

  /* torch's embedding backward: each token's row index repeated along dim */
  for (gint64 r = 0; r < rows[0]; r++)
    {
      gint32 token = (gint32) g_rand_int_range (rand, 0, (gint32) table[0]);

      for (gint64 c = 0; c < rows[1]; c++)
        idx[r * rows[1] + c] = token;
    }
  d = ane_tensor_new_from_floats ("d", table, 2, zeros, table[0] * table[1], &error);
  CHECK (d != NULL);
  u = random_tensor ("u", rows, 2, rand, 1.0);
  i = ane_tensor_new_from_bytes ("i", ANE_DTYPE_INT32, rows, 2,
                                 g_bytes_new_take (g_steal_pointer (&idx), rows[0] * rows[1] * sizeof (gint32)),
                                 &error);
  CHECK (i != NULL);
  g_hash_table_insert (in, "d", d);
  g_hash_table_insert (in, "u", u);
  g_hash_table_insert (in, "i", i);

  printf ("(d) training kernels (stories15M shapes, fp32, iOS18), %u runs each; kernel = run - run without the op\n",
          repeats);
  base_text = sliced_program ("tensor<fp32, [32000, 288]> d", "", "d", table, 2);
  base = time_text (base_text, in, repeats);
  scatter_text = sliced_program ("tensor<fp32, [32000, 288]> d, tensor<int32, [64, 288]> i, tensor<fp32, [64, 288]> u",
                                 "        int32 ax = const()[name = string(\"ax\"), val = int32(0)];\n"
                                 "        string m = const()[name = string(\"m\"), val = string(\"add\")];\n"
                                 "        bool v = const()[name = string(\"v\"), val = bool(true)];\n"
                                 "        tensor<fp32, [32000, 288]> y = scatter_along_axis(data = d, indices = i, updates = u, "
                                 "axis = ax, mode = m, validate_indices = v)[name = string(\"y\")];\n",
                                 "y", table, 2);
  run = time_text (scatter_text, in, repeats);
  report_kernel ("scatter_along_axis [32000, 288] += [64, 288]", run, base);

  for (guint t = 0; t < G_N_ELEMENTS (tiles); t++)
    {
      guint rank = tiles[t].rank;
      g_autofree char *xs = shape_text (tiles[t].x, rank), *os = shape_text (tiles[t].out, rank);
      g_autoptr(GString) reps = g_string_new (NULL);
      g_autofree char *sig = g_strdup_printf ("tensor<fp32, %s> x", xs);
      g_autofree char *body = NULL, *text = NULL, *base_x = NULL, *what = NULL;
      g_autoptr(AneTensor) x = random_tensor ("x", tiles[t].x, rank, rand, 1.0);
      g_autoptr(GHashTable) tin = g_hash_table_new (g_str_hash, g_str_equal);

      for (guint k = 0; k < rank; k++)
        g_string_append_printf (reps, "%s%" G_GINT64_FORMAT, k ? ", " : "", tiles[t].out[k] / tiles[t].x[k]);
      body = g_strdup_printf ("        tensor<int32, [%u]> reps = const()[name = string(\"reps\"), val = tensor<int32, [%u]>([%s])];\n"
                              "        tensor<fp32, %s> y = tile(x = x, reps = reps)[name = string(\"y\")];\n",
                              rank, rank, reps->str, os);
      text = sliced_program (sig, body, "y", tiles[t].out, rank);
      base_x = sliced_program (sig, "", "x", tiles[t].x, rank);
      g_hash_table_insert (tin, "x", x);
      base = time_text (base_x, tin, repeats);
      run = time_text (text, tin, repeats);
      what = g_strdup_printf ("tile %s -> %s", xs, os);
      report_kernel (what, run, base);
    }
}

int
main (int   argc,
      char *argv[])
{
  const char *part = "all";
  gboolean fp16 = FALSE;
  guint repeats = 10;

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--fp16"))
        fp16 = TRUE;
      else if (g_ascii_isdigit (argv[i][0]))
        repeats = MAX (1, (guint) atoi (argv[i]));
      else
        part = argv[i];
    }
  if (!g_str_equal (part, "all") && !g_str_equal (part, "matmul") &&
      !g_str_equal (part, "transformer") && !g_str_equal (part, "overhead") &&
      !g_str_equal (part, "training"))
    {
      g_printerr ("usage: %s [all|matmul|transformer|overhead|training] [--fp16] [REPEATS]\n", argv[0]);
      return 2;
    }
#ifdef HAVE_CBLAS
  printf ("CBLAS: OpenBLAS, %d threads\n", openblas_get_num_threads ());
#else
  printf ("CBLAS: none (plain loops)\n");
#endif
  if (g_str_equal (part, "all") || g_str_equal (part, "matmul"))
    bench_matmul (repeats);
  if (g_str_equal (part, "all") || g_str_equal (part, "transformer"))
    bench_transformer (MIN (repeats, 5), fp16);
  if (g_str_equal (part, "all") || g_str_equal (part, "overhead"))
    bench_overhead (repeats);
  if (g_str_equal (part, "all") || g_str_equal (part, "training"))
    bench_training (repeats);
  return 0;
}
