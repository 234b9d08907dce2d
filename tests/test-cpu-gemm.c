/* test-cpu-gemm.c: ane_cpu_sgemm, every GEMM variant this machine runs
 *
 * - /ane/cpu/gemm/reference: each variant (portable loops, the AVX2 and
 *   AVX-512 NT kernels, the BLAS route; ane_cpu_gemm_set_variant) against a
 *   double-precision product on odd shapes (m 1, 2, 3, 5, 17, 130; n 1, 7,
 *   33, 100; k 1, 15, 17, 100, 771), leading dimensions longer than the
 *   rows, alpha and beta (beta = 0 ignores a NaN already in C), in the NT
 *   form and in the other three (which the tiled kernels take from 4 rows
 *   and columns on); the padding between rows of C is never written. Bound: |c − exact| ≤ (k + 8) · 2^-24 · (|alpha| Σ|a·b| +
 *   |beta · c0|) + 2^-24 |exact|: any order of fp32 sums stays within
 *   it (Higham's γ_k), a lost or doubled term does not.
 * - /ane/cpu/gemm/threads: each variant at 1, 2, 3 and 4 threads, bit for
 *   bit equal, on shapes that split over columns (decode) and over rows,
 *   in the four transposition forms (the blas route below 4 rows only:
 *   OpenBLAS's own results may depend on the split).
 * - /ane/cpu/gemm/fixed-order: for the tiled kernels every element is one
 *   sum in one order wherever it lies: each element of a 17×33 product
 *   (inside tiles and on their edges) and of 130×1 and 130×3 ones (the
 *   operands' roles swapped) equals bit for bit the 1×1 product of its
 *   row and column, rows of a 130-row product the 1-, 2- and 3-row
 *   products (a decode step equals its prompt row), and the TN and TT
 *   forms of the same values (operands stored transposed) the NT form
 *   (the NN form has its own kernel and order: /ane/cpu/gemm/nn).
 * - /ane/cpu/gemm/nn: the NN form (B stored [k,n], a conv's), which the
 *   tiled variants hand to their NN kernel from 4 rows and 16 columns on,
 *   on shapes around its tiles and vectors (m 4–13 and 97, n 1–17 and
 *   around 64, k 1, 2, 7, 100 and a conv's 864, leading dimensions longer
 *   than the rows, alpha and beta): within the bound of the reference
 *   test; for the tiled variants each element bit for bit the chain of
 *   fmaf over k that ane-cpu-gemm-nn-tiles.h documents (so AVX2 and
 *   AVX-512 agree); bit for bit the same at 1 to 4 threads (but the blas
 *   route, as in /ane/cpu/gemm/threads).
 * - /ane/cpu/gemm/nn-rows: the NN form below 4 rows (decode attention's
 *   weights · V) runs the loops' row update, vectorized per variant
 *   (ane_cpu_axpy_f32; AVX-512: ane_cpu_row_times_rows_f32_avx512, its
 *   sums in registers): every variant gives the portable loops' bits, n
 *   across the vector widths and their tails and past the 128 columns
 *   kept in registers, B's rows longer than n (one column takes the NT
 *   kernel instead, as a dot: /ane/cpu/gemm/reference).
 * - /ane/cpu/gemm/env: ANE_CPU_GEMM picks the variant (in a subprocess,
 *   as it is read once), and ane_cpu_gemm_describe names it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "runtime/cpu/ane-cpu-blas-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

static const AneCpuGemmVariant all_variants[] = {
  ANE_CPU_GEMM_PORTABLE, ANE_CPU_GEMM_AVX2, ANE_CPU_GEMM_AVX512, ANE_CPU_GEMM_BLAS,
};

#define SENTINEL 1234.5f

typedef struct {
  gboolean ta, tb;
  gsize    m, n, k;
  gsize    lda, ldb, ldc;
  float    alpha, beta;
  float   *a, *b, *c0;
} Case;

static void
case_clear (Case *c)
{
  g_free (c->a);
  g_free (c->b);
  g_free (c->c0);
}

/* op(A) is [m,k]: stored [m,lda] or, transposed, [k,lda]; likewise B. */
static float
elem_a (const Case *c,
        gsize       i,
        gsize       p)
{
  return c->ta ? c->a[p * c->lda + i] : c->a[i * c->lda + p];
}

static float
elem_b (const Case *c,
        gsize       p,
        gsize       j)
{
  return c->tb ? c->b[j * c->ldb + p] : c->b[p * c->ldb + j];
}

static float *
random_floats (gsize   n,
               GRand  *rand)
{
  float *v = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  return v;
}

static void
case_init (Case    *c,
           gboolean ta,
           gboolean tb,
           gsize    m,
           gsize    n,
           gsize    k,
           float    alpha,
           float    beta,
           GRand   *rand)
{
  /* leading dimensions longer than the rows, and all different */
  c->ta = ta;
  c->tb = tb;
  c->m = m;
  c->n = n;
  c->k = k;
  c->lda = (ta ? m : k) + 3;
  c->ldb = (tb ? k : n) + 5;
  c->ldc = n + 2;
  c->alpha = alpha;
  c->beta = beta;
  c->a = random_floats ((ta ? k : m) * c->lda, rand);
  c->b = random_floats ((tb ? n : k) * c->ldb, rand);
  c->c0 = random_floats (m * c->ldc, rand);
  for (gsize i = 0; i < m; i++)
    {
      for (gsize j = n; j < c->ldc; j++)
        c->c0[i * c->ldc + j] = SENTINEL;
      /* beta = 0 must not read C, NaN included */
      for (gsize j = 0; beta == 0.0f && j < n; j++)
        c->c0[i * c->ldc + j] = NAN;
    }
}

/* ane_cpu_sgemm on a copy of c0. */
static float *
case_run (const Case *c)
{
  float *out = g_memdup2 (c->c0, c->m * c->ldc * sizeof (float));

  ane_cpu_sgemm (c->ta, c->tb, c->m, c->n, c->k, c->alpha, c->a, c->lda, c->b, c->ldb, c->beta, out, c->ldc);
  return out;
}

static void
case_check (const Case *c,
            const float *got,
            const char  *variant)
{
  for (gsize i = 0; i < c->m; i++)
    {
      for (gsize j = 0; j < c->n; j++)
        {
          double exact = 0.0, mag = 0.0, c0 = c->beta == 0.0f ? 0.0 : c->c0[i * c->ldc + j];
          double g = got[i * c->ldc + j], bound;

          for (gsize p = 0; p < c->k; p++)
            {
              double t = (double) elem_a (c, i, p) * (double) elem_b (c, p, j);

              exact += t;
              mag += fabs (t);
            }
          exact = c->alpha * exact + c->beta * c0;
          bound = (double) (c->k + 8) * 0x1p-24 * (fabs (c->alpha) * mag + fabs (c->beta * c0)) +
                  0x1p-24 * fabs (exact);
          if (!(fabs (g - exact) <= bound))
            g_error ("%s, %s%s m %zu n %zu k %zu alpha %g beta %g: C[%zu,%zu] = %.9g, exact %.9g (bound %.3g)",
                     variant, c->ta ? "T" : "N", c->tb ? "T" : "N", c->m, c->n, c->k, c->alpha, c->beta,
                     i, j, g, exact, bound);
        }
      for (gsize j = c->n; j < c->ldc; j++)
        if (got[i * c->ldc + j] != SENTINEL)
          g_error ("%s: the padding after row %zu of C was written", variant, i);
    }
}

static void
test_reference (void)
{
  static const gsize ms[] = { 1, 2, 3, 5, 17, 130 };
  static const gsize ns[] = { 1, 7, 33, 100 };
  static const gsize ks[] = { 1, 15, 17, 100, 771 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (1515);
  guint ran = 0;

  for (guint v = 0; v < G_N_ELEMENTS (all_variants); v++)
    {
      const char *name = ane_cpu_gemm_variant_name (all_variants[v]);
      guint cases = 0;

      if (!ane_cpu_gemm_set_variant (all_variants[v]))
        {
          g_test_message ("%s: not available on this build or CPU", name);
          continue;
        }
      g_assert_cmpint (ane_cpu_gemm_get_variant (), ==, all_variants[v]);
      ran++;
      for (guint form = 0; form < 4; form++)
        for (guint mi = 0; mi < G_N_ELEMENTS (ms); mi++)
          for (guint ni = 0; ni < G_N_ELEMENTS (ns); ni++)
            for (guint ki = 0; ki < G_N_ELEMENTS (ks); ki++)
              {
                gboolean ta = form & 1, tb = !(form & 2);   /* form 0 is NT */
                /* the NT form at every shape; the others on a third of them */
                gboolean beta_case = (mi + ni + ki) % 2 == 1;
                Case c;
                g_autofree float *got = NULL;

                if (form != 0 && (mi + ni + ki) % 3 != 0)
                  continue;
                case_init (&c, ta, tb, ms[mi], ns[ni], ks[ki], beta_case ? 0.75f : 1.0f,
                           beta_case ? -0.5f : 0.0f, rand);
                got = case_run (&c);
                case_check (&c, got, name);
                case_clear (&c);
                cases++;
              }
      g_test_message ("%s: %u products within the bound", name, cases);
    }
  ane_cpu_gemm_set_variant (ANE_CPU_GEMM_AUTO);
  /* portable and (with OpenBLAS) blas exist in every build */
  g_assert_cmpuint (ran, >=, 1);
}

static void
test_threads (void)
{
  static const gsize shapes[][3] = {
    { 1, 1000, 771 },    /* decode: column blocks split */
    { 3, 517, 300 },
    { 130, 33, 771 },    /* more rows than columns: row blocks split */
    { 64, 300, 512 },
    { 257, 2, 300 },     /* few columns: row blocks split, roles swapped */
  };
  static const gboolean forms[][2] = { { FALSE, TRUE }, { FALSE, FALSE }, { TRUE, FALSE }, { TRUE, TRUE } };
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);

  for (guint v = 0; v < G_N_ELEMENTS (all_variants); v++)
    {
      if (!ane_cpu_gemm_set_variant (all_variants[v]))
        continue;
      for (guint s = 0; s < G_N_ELEMENTS (shapes) * G_N_ELEMENTS (forms); s++)
        {
          const gsize *shape = shapes[s % G_N_ELEMENTS (shapes)];
          const gboolean *form = forms[s / G_N_ELEMENTS (shapes)];
          Case c;
          g_autofree float *one = NULL;

          /* The blas route hands products of 4 rows and more to OpenBLAS,
           * whose results depend on how the rows are split with some of
           * its kernels (SkylakeX: 130×33×771 differs at 3 threads): only
           * its own loops (fewer rows) are held to this. That is one reason
           * the tiled kernels take every form from 4 rows on. */
          if (all_variants[v] == ANE_CPU_GEMM_BLAS && shape[0] >= 4)
            continue;
          case_init (&c, form[0], form[1], shape[0], shape[1], shape[2], 1.0f, s % 2 ? 0.5f : 0.0f, rand);
          ane_cpu_set_n_threads (1);
          one = case_run (&c);
          for (guint t = 2; t <= 4; t++)
            {
              g_autofree float *got = NULL;

              ane_cpu_set_n_threads (t);
              got = case_run (&c);
              if (memcmp (got, one, c.m * c.ldc * sizeof (float)) != 0)
                g_error ("%s, %s%s %zu×%zu×%zu: %u threads differ from 1", ane_cpu_gemm_variant_name (all_variants[v]),
                         c.ta ? "T" : "N", c.tb ? "T" : "N", c.m, c.n, c.k, t);
            }
          case_clear (&c);
        }
    }
  ane_cpu_set_n_threads (0);
  ane_cpu_gemm_set_variant (ANE_CPU_GEMM_AUTO);
}

static void
test_fixed_order (void)
{
  static const AneCpuGemmVariant tiled[] = { ANE_CPU_GEMM_AVX2, ANE_CPU_GEMM_AVX512 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);
  guint ran = 0;

  for (guint v = 0; v < G_N_ELEMENTS (tiled); v++)
    {
      static const gsize ks[] = { 5, 17, 771 };

      if (!ane_cpu_gemm_set_variant (tiled[v]))
        {
          g_test_message ("%s: not available on this build or CPU", ane_cpu_gemm_variant_name (tiled[v]));
          continue;
        }
      ran++;
      for (guint ki = 0; ki < 3 * G_N_ELEMENTS (ks); ki++)
        {
          /* 17×33: whole and edge tiles; 130×1 and 130×3: few columns,
           * where the kernels swap the operands' roles */
          static const gsize mns[][2] = { { 17, 33 }, { 130, 1 }, { 130, 3 } };
          gsize m = mns[ki / G_N_ELEMENTS (ks)][0], n = mns[ki / G_N_ELEMENTS (ks)][1];
          gsize k = ks[ki % G_N_ELEMENTS (ks)];
          g_autofree float *a = random_floats (m * k, rand);
          g_autofree float *b = random_floats (n * k, rand);
          g_autofree float *c = g_new (float, m * n);
          g_autofree float *big_a = random_floats (130 * k, rand);
          g_autofree float *big_c = g_new (float, 130 * n);
          float row[3 * 33];

          ane_cpu_sgemm (FALSE, TRUE, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
          for (gsize i = 0; i < m; i++)
            for (gsize j = 0; j < n; j++)
              {
                float one;

                ane_cpu_sgemm (FALSE, TRUE, 1, 1, k, 1.0f, a + i * k, k, b + j * k, k, 0.0f, &one, 1);
                if (memcmp (&one, &c[i * n + j], sizeof (float)) != 0)
                  g_error ("%s, k %zu: C[%zu,%zu] of the %zu×%zu product is %.9g, alone %.9g",
                           ane_cpu_gemm_variant_name (tiled[v]), k, i, j, m, n, c[i * n + j], one);
              }
          /* the transposed forms (from 4 rows and columns on they go
           * through the same kernel, their operands gathered): the same
           * bits as the NT form over the same values. The NN form (form 2)
           * has its own kernel from 16 columns on, and its own order. */
          if (m >= 4 && n >= 4)
            for (guint form = 1; form < 4; form++)
              {
                gboolean ta = form & 1, tb = !(form & 2);

                if (!ta && !tb && n >= 16)
                  continue;
                g_autofree float *at = g_new (float, m * k);
                g_autofree float *bt = g_new (float, n * k);
                g_autofree float *got = g_new (float, m * n);

                for (gsize i = 0; i < m; i++)
                  for (gsize p = 0; p < k; p++)
                    at[p * m + i] = a[i * k + p];
                for (gsize j = 0; j < n; j++)
                  for (gsize p = 0; p < k; p++)
                    bt[p * n + j] = b[j * k + p];
                ane_cpu_sgemm (ta, tb, m, n, k, 1.0f, ta ? at : a, ta ? m : k, tb ? b : bt, tb ? k : n,
                               0.0f, got, n);
                g_assert_cmpmem (got, m * n * sizeof (float), c, m * n * sizeof (float));
              }
          /* rows of a prefill against the decode product of each row */
          ane_cpu_sgemm (FALSE, TRUE, 130, n, k, 1.0f, big_a, k, b, k, 0.0f, big_c, n);
          for (gsize i = 0; i < 130; i += 43)
            for (gsize rows = 1; rows <= 3 && i + rows <= 130; rows++)
              {
                ane_cpu_sgemm (FALSE, TRUE, rows, n, k, 1.0f, big_a + i * k, k, b, k, 0.0f, row, n);
                g_assert_cmpmem (row, rows * n * sizeof (float), big_c + i * n, rows * n * sizeof (float));
              }
        }
    }
  ane_cpu_gemm_set_variant (ANE_CPU_GEMM_AUTO);
  if (ran == 0)
    g_test_message ("no tiled kernel on this build or CPU: nothing to check");
}

/* The sum that ane-cpu-gemm-nn-tiles.h documents for element (i,j) of an
 * NN product: a chain of fmaf over k from 0, then alpha · s + (beta = 0 ?
 * 0 : beta · c0). */
static float
nn_chain (const Case *c,
          gsize       i,
          gsize       j)
{
  float s = 0.0f;
  volatile float prod, scaled;   /* volatile: neither product fused with the sum */

  for (gsize p = 0; p < c->k; p++)
    s = fmaf (c->a[i * c->lda + p], c->b[p * c->ldb + j], s);
  prod = c->alpha * s;
  scaled = c->beta == 0.0f ? 0.0f : c->beta * c->c0[i * c->ldc + j];
  return prod + scaled;
}

static void
test_nn (void)
{
  static const gsize ms[] = { 4, 5, 6, 7, 13, 97 };
  static const gsize ns[] = { 1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 129 };
  static const gsize ks[] = { 1, 2, 7, 100, 864 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (2026);

  for (guint v = 0; v < G_N_ELEMENTS (all_variants); v++)
    {
      const char *name = ane_cpu_gemm_variant_name (all_variants[v]);
      gboolean tiled = all_variants[v] == ANE_CPU_GEMM_AVX2 || all_variants[v] == ANE_CPU_GEMM_AVX512;
      guint cases = 0;

      if (!ane_cpu_gemm_set_variant (all_variants[v]))
        continue;
      for (guint mi = 0; mi < G_N_ELEMENTS (ms); mi++)
        for (guint ni = 0; ni < G_N_ELEMENTS (ns); ni++)
          for (guint ki = 0; ki < G_N_ELEMENTS (ks); ki++)
            {
              gboolean beta_case = (mi + ni + ki) % 2 == 1;
              Case c;
              g_autofree float *one = NULL;

              /* the large k on a few shapes only (time) */
              if (ks[ki] > 100 && (mi + ni) % 4 != 0)
                continue;
              case_init (&c, FALSE, FALSE, ms[mi], ns[ni], ks[ki], beta_case ? 0.75f : 1.0f,
                         beta_case ? -0.5f : 0.0f, rand);
              ane_cpu_set_n_threads (1);
              one = case_run (&c);
              case_check (&c, one, name);
              if (tiled && c.n >= 16)
                for (gsize i = 0; i < c.m; i++)
                  for (gsize j = 0; j < c.n; j++)
                    {
                      float want = nn_chain (&c, i, j), got = one[i * c.ldc + j];

                      if (memcmp (&got, &want, sizeof got) != 0)
                        g_error ("%s, NN m %zu n %zu k %zu: C[%zu,%zu] = %.9g, the fmaf chain %.9g", name,
                                 c.m, c.n, c.k, i, j, got, want);
                    }
              /* not the blas route: from 4 rows on OpenBLAS's results may
               * depend on the split (test_threads) */
              for (guint t = 2; t <= 4 && all_variants[v] != ANE_CPU_GEMM_BLAS; t++)
                {
                  g_autofree float *got = NULL;

                  ane_cpu_set_n_threads (t);
                  got = case_run (&c);
                  if (memcmp (got, one, c.m * c.ldc * sizeof (float)) != 0)
                    g_error ("%s, NN %zu×%zu×%zu: %u threads differ from 1", name, c.m, c.n, c.k, t);
                }
              case_clear (&c);
              cases++;
            }
      g_test_message ("%s: %u NN products", name, cases);
    }
  ane_cpu_set_n_threads (0);
  ane_cpu_gemm_set_variant (ANE_CPU_GEMM_AUTO);
}

static void
test_nn_rows (void)
{
  /* n past 128: the AVX-512 row update keeps 128 columns of sums in
   * registers at a time; B's rows longer than n (a head's V in a cache) */
  static const gsize ms[] = { 1, 2, 3 }, ns[] = { 2, 7, 8, 15, 16, 17, 33, 64, 100, 129, 200 }, ks[] = { 1, 17, 160 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (29);

  for (gsize mi = 0; mi < G_N_ELEMENTS (ms); mi++)
    for (gsize ni = 0; ni < G_N_ELEMENTS (ns); ni++)
      for (gsize ki = 0; ki < G_N_ELEMENTS (ks); ki++)
        {
          gsize m = ms[mi], n = ns[ni], k = ks[ki], ldb = n + (ki % 2 ? 5 : 0);
          g_autofree float *a = g_new (float, m * k);
          g_autofree float *b = g_new (float, k * ldb);
          g_autofree float *want = g_new (float, m * n);

          /* some signed zeros too: a sum from +0 must stay as the loops leave it */
          for (gsize i = 0; i < m * k; i++)
            a[i] = i % 7 == 3 ? -0.0f : (float) g_rand_double_range (rand, -1.0, 1.0);
          for (gsize i = 0; i < k * ldb; i++)
            b[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
          g_assert_true (ane_cpu_gemm_set_variant (ANE_CPU_GEMM_PORTABLE));
          ane_cpu_sgemm (FALSE, FALSE, m, n, k, 0.5f, a, k, b, ldb, 0.0f, want, n);
          for (gsize v = 0; v < G_N_ELEMENTS (all_variants); v++)
            {
              g_autofree float *got = g_new (float, m * n);

              if (!ane_cpu_gemm_set_variant (all_variants[v]))
                continue;
              ane_cpu_sgemm (FALSE, FALSE, m, n, k, 0.5f, a, k, b, ldb, 0.0f, got, n);
              if (memcmp (got, want, m * n * sizeof (float)) != 0)
                g_error ("variant %s, %zux%zux%zu: not the loops' bits", ane_cpu_gemm_variant_name (all_variants[v]), m, n, k);
            }
        }
  ane_cpu_gemm_set_variant (ANE_CPU_GEMM_AUTO);
}

static void
test_env (void)
{
  if (g_test_subprocess ())
    {
      g_setenv ("ANE_CPU_GEMM", "portable", TRUE);
      g_assert_cmpint (ane_cpu_gemm_get_variant (), ==, ANE_CPU_GEMM_PORTABLE);
      g_assert_nonnull (strstr (ane_cpu_gemm_describe (), "portable"));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  /* the default: the widest kernel the CPU has, named by describe */
  g_assert_nonnull (strstr (ane_cpu_gemm_describe (), ane_cpu_gemm_variant_name (ane_cpu_gemm_get_variant ())));
  g_assert_cmpint (ane_cpu_gemm_get_variant (), !=, ANE_CPU_GEMM_AUTO);
  /* the old test switch still forces the loops */
  ane_cpu_blas_set_enabled (FALSE);
  g_assert_cmpint (ane_cpu_gemm_get_variant (), ==, ANE_CPU_GEMM_PORTABLE);
  ane_cpu_blas_set_enabled (TRUE);
  g_assert_false (ane_cpu_gemm_set_variant ((AneCpuGemmVariant) 99));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/cpu/gemm/reference", test_reference);
  g_test_add_func ("/ane/cpu/gemm/threads", test_threads);
  g_test_add_func ("/ane/cpu/gemm/fixed-order", test_fixed_order);
  g_test_add_func ("/ane/cpu/gemm/nn", test_nn);
  g_test_add_func ("/ane/cpu/gemm/nn-rows", test_nn_rows);
  g_test_add_func ("/ane/cpu/gemm/env", test_env);
  return g_test_run ();
}
