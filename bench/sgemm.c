/* bench/sgemm.c: ane_cpu_sgemm's NT products, each variant, against cblas_sgemm
 *
 *   bench-sgemm [--threads N] [--seconds S] [--cpu-time] [--form NT|NN|TN|TT] [--shape MxNxK]...
 *
 * C[m,n] = A[m,k] · B[n,k]ᵀ (ane_cpu_sgemm (FALSE, TRUE, …), the linear
 * layers' form) at the shapes of issue 15's 134M LLaMA (m = 1 decode and
 * m = 128 prompt; n = 768, 2048, 32000; k = 768, 2048), one thread by
 * default: GFLOP/s (2·m·n·k per product) of each AneCpuGemmVariant this
 * machine can run (portable, avx2, avx512, blas: ane-cpu-blas-private.h)
 * and of cblas_sgemm called directly (OpenBLAS with one thread, its
 * kernels as ane_cpu_blas_describe names them). Each figure is the best of
 * repeated runs over at least S seconds (default 0.3); the largest
 * difference of each variant from a double-precision product of the same
 * operands is printed as a check. --cpu-time times the calling thread's
 * CPU time instead of the wall clock: on a shared machine it leaves out
 * the time other processes took the core (meaningful at one thread only).
 * --form times another transposition form (A stored [k,m] for T in first
 * place, B stored [k,n] for N in second).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_CBLAS
#include <cblas.h>
#endif

#include "runtime/cpu/ane-cpu-blas-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

typedef struct {
  gsize m, n, k;
} Shape;

static const Shape model_shapes[] = {
  { 1, 768, 768 }, { 1, 2048, 768 }, { 1, 768, 2048 }, { 1, 32000, 768 },
  { 1, 2048, 2048 }, { 1, 32000, 2048 },
  { 128, 768, 768 }, { 128, 2048, 768 }, { 128, 768, 2048 }, { 128, 32000, 768 },
  { 128, 2048, 2048 }, { 128, 32000, 2048 },
};

static float *
random_floats (gsize   n,
               GRand  *rand)
{
  float *v = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  return v;
}

static gboolean trans_a, trans_b = TRUE;   /* --form */

typedef void (*ProductFunc) (const Shape *s, const float *a, const float *b, float *c);

static void
product_ane (const Shape *s,
             const float *a,
             const float *b,
             float       *c)
{
  ane_cpu_sgemm (trans_a, trans_b, s->m, s->n, s->k, 1.0f, a, trans_a ? s->m : s->k, b, trans_b ? s->k : s->n,
                 0.0f, c, s->n);
}

#ifdef HAVE_CBLAS
static void
product_cblas (const Shape *s,
               const float *a,
               const float *b,
               float       *c)
{
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
               (int) s->m, (int) s->n, (int) s->k, 1.0f, a, (int) (trans_a ? s->m : s->k),
               b, (int) (trans_b ? s->k : s->n), 0.0f, c, (int) s->n);
}
#endif

static gboolean use_cpu_time;

static double
now_s (void)
{
  struct timespec ts;

  if (!use_cpu_time)
    return (double) g_get_monotonic_time () / 1e6;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Best GFLOP/s over runs filling at least seconds (one warm-up run first). */
static double
time_product (ProductFunc  f,
              const Shape *s,
              const float *a,
              const float *b,
              float       *c,
              double       seconds)
{
  double best = G_MAXDOUBLE, spent = 0.0;

  f (s, a, b, c);
  for (guint runs = 0; spent < seconds || runs < 3; runs++)
    {
      double t0 = now_s (), dt;

      f (s, a, b, c);
      dt = now_s () - t0;
      best = MIN (best, dt);
      spent += dt;
    }
  return 2.0 * (double) s->m * (double) s->n * (double) s->k / MAX (best, 1e-9) / 1e9;
}

/* The largest |c − exact| over a sample of elements, relative to Σ|a·b|. */
static double
worst_error (const Shape *s,
             const float *a,
             const float *b,
             const float *c)
{
  double worst = 0.0;

  for (gsize i = 0; i < s->m; i += MAX (1, s->m / 7))
    for (gsize j = 0; j < s->n; j += MAX (1, s->n / 97))
      {
        double exact = 0.0, mag = 0.0;

        for (gsize p = 0; p < s->k; p++)
          {
            double t = (double) (trans_a ? a[p * s->m + i] : a[i * s->k + p]) *
                       (double) (trans_b ? b[j * s->k + p] : b[p * s->n + j]);

            exact += t;
            mag += fabs (t);
          }
        worst = MAX (worst, fabs ((double) c[i * s->n + j] - exact) / MAX (mag, 1e-30));
      }
  return worst;
}

int
main (int   argc,
      char *argv[])
{
  static const AneCpuGemmVariant variants[] = {
    ANE_CPU_GEMM_PORTABLE, ANE_CPU_GEMM_AVX2, ANE_CPU_GEMM_AVX512, ANE_CPU_GEMM_BLAS,
  };
  g_autoptr(GArray) shapes = g_array_new (FALSE, FALSE, sizeof (Shape));
  g_autoptr(GRand) rand = g_rand_new_with_seed (15);
  guint threads = 1;
  double seconds = 0.3;

  for (int i = 1; i < argc; i++)
    {
      Shape s;

      if (g_str_equal (argv[i], "--threads") && i + 1 < argc)
        threads = (guint) MAX (1, atoi (argv[++i]));
      else if (g_str_equal (argv[i], "--form") && i + 1 < argc && strlen (argv[i + 1]) == 2 &&
               strchr ("NT", argv[i + 1][0]) && strchr ("NT", argv[i + 1][1]))
        {
          trans_a = argv[++i][0] == 'T';
          trans_b = argv[i][1] == 'T';
        }
      else if (g_str_equal (argv[i], "--cpu-time"))
        use_cpu_time = TRUE;
      else if (g_str_equal (argv[i], "--seconds") && i + 1 < argc)
        seconds = g_ascii_strtod (argv[++i], NULL);
      else if (g_str_equal (argv[i], "--shape") && i + 1 < argc &&
               sscanf (argv[++i], "%zux%zux%zu", &s.m, &s.n, &s.k) == 3 && s.m && s.n && s.k)
        g_array_append_val (shapes, s);
      else
        {
          g_printerr ("usage: %s [--threads N] [--seconds S] [--cpu-time] [--form NT|NN|TN|TT] [--shape MxNxK]...\n",
                      argv[0]);
          return 2;
        }
    }
  if (shapes->len == 0)
    g_array_append_vals (shapes, model_shapes, G_N_ELEMENTS (model_shapes));
  ane_cpu_set_n_threads (threads);

  printf ("# bench-sgemm: C = op(A)·op(B), form %c%c, GFLOP/s (best run, %s), %u thread(s); BLAS: %s\n",
          trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', use_cpu_time ? "thread CPU time" : "wall clock", threads,
          ane_cpu_blas_describe ());
  printf ("# %5s %6s %5s", "m", "n", "k");
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    if (ane_cpu_gemm_variant_available (variants[v]))
      printf (" %9s", ane_cpu_gemm_variant_name (variants[v]));
#ifdef HAVE_CBLAS
  printf (" %9s", "cblas");
#endif
  printf ("   worst rel. error (per variant)\n");

  for (guint si = 0; si < shapes->len; si++)
    {
      const Shape *s = &g_array_index (shapes, Shape, si);
      g_autofree float *a = random_floats (s->m * s->k, rand);
      g_autofree float *b = random_floats (s->n * s->k, rand);
      g_autofree float *c = g_new0 (float, s->m * s->n);
      g_autoptr(GString) errors = g_string_new (NULL);

      printf ("  %5zu %6zu %5zu", s->m, s->n, s->k);
      fflush (stdout);
      for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
        {
          if (!ane_cpu_gemm_set_variant (variants[v]))
            continue;
          printf (" %9.2f", time_product (product_ane, s, a, b, c, seconds));
          fflush (stdout);
          g_string_append_printf (errors, " %.1e", worst_error (s, a, b, c));
        }
      ane_cpu_gemm_set_variant (ANE_CPU_GEMM_AUTO);
#ifdef HAVE_CBLAS
      product_ane (s, a, b, c);   /* ane_cpu_sgemm sets OpenBLAS to one thread */
      printf (" %9.2f", time_product (product_cblas, s, a, b, c, seconds));
#endif
      printf ("  %s\n", errors->str);
    }
  return 0;
}
