/* tests/test-kmeans1d.c: optimal weighted 1-D k-means (issue 16's
 * palettization, compress/ane-kmeans1d.c)
 *
 * - the dynamic programme against every split of small point sets (the
 *   optimum by enumeration), weighted, k = 1..5;
 * - the LUT of real-sized weights is a fixed point of Lloyd's step (each
 *   entry the weighted mean of the values nearest it) and no worse than
 *   the uniform LUT of the same size; two runs give the same bytes;
 * - more distinct values than the exact programme takes (binned, then
 *   refined): still a fixed point, and no worse than Lloyd from uniform;
 * - fewer distinct values than entries: those values, no error.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib.h>

#include "compress/ane-kmeans1d-private.h"

/* The best cost of splitting points [from, n) into k runs, by enumeration. */
static double
brute (const double *x,
       const double *w,
       gsize         from,
       gsize         n,
       guint         k)
{
  double best = INFINITY;

  if (k == 1)
    {
      double s0 = 0, s1 = 0, c = 0;

      for (gsize i = from; i < n; i++)
        {
          s0 += w[i];
          s1 += w[i] * x[i];
        }
      for (gsize i = from; i < n; i++)
        c += w[i] * (x[i] - s1 / s0) * (x[i] - s1 / s0);
      return c;
    }
  for (gsize end = from + 1; end + (k - 1) <= n; end++)
    {
      double c = brute (x, w, from, end, 1) + brute (x, w, end, n, k - 1);

      best = MIN (best, c);
    }
  return best;
}

static void
test_exact_small (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (16);

  for (guint trial = 0; trial < 300; trial++)
    {
      gsize n = (gsize) g_rand_int_range (rand, 1, 11);
      guint k = (guint) g_rand_int_range (rand, 1, (gint32) MIN (n, 5) + 1);
      double x[10], w[10], c[10], want, got;
      gsize starts[11];

      x[0] = g_rand_double_range (rand, -3, 3);
      for (gsize i = 1; i < n; i++)
        x[i] = x[i - 1] + g_rand_double_range (rand, 0.01, 2);
      for (gsize i = 0; i < n; i++)
        w[i] = trial % 2 ? g_rand_double_range (rand, 0.1, 5) : 1.0;
      want = brute (x, w, 0, n, k);
      got = ane_kmeans1d_sorted (x, w, n, k, c, starts);
      g_assert_cmpfloat_with_epsilon (got, want, 1e-9 * MAX (1.0, want));
      g_assert_cmpuint (starts[0], ==, 0);
      g_assert_cmpuint (starts[k], ==, n);
      for (guint j = 0; j < k; j++)
        {
          g_assert_cmpuint (starts[j], <, starts[j + 1]);
          if (j > 0)
            g_assert_cmpfloat (c[j - 1], <, c[j]);
        }
    }
}

/* Each entry is the weighted mean of the values nearest it (those that use it). */
static void
assert_fixed_point (const float   *v,
                    const float   *imp,
                    gsize          n,
                    const double  *lut,
                    guint          k,
                    const guint16 *idx)
{
  g_autofree double *s0 = g_new0 (double, k);
  g_autofree double *s1 = g_new0 (double, k);

  for (gsize i = 0; i < n; i++)
    {
      double best = fabs (v[i] - lut[idx[i]]);

      for (guint c = 0; c < k; c++)
        g_assert_cmpfloat (fabs (v[i] - lut[c]), >=, best);
      s0[idx[i]] += imp ? imp[i] : 1.0;
      s1[idx[i]] += (imp ? imp[i] : 1.0) * v[i];
    }
  for (guint c = 0; c < k; c++)
    if (s0[c] > 0)
      g_assert_cmpfloat_with_epsilon (lut[c], s1[c] / s0[c], 1e-9 * MAX (1.0, fabs (lut[c])));
}

/* The error of the uniform LUT of k entries over [min, max], nearest entry. */
static double
uniform_error (const float *v,
               const float *imp,
               gsize        n,
               guint        k)
{
  float lo = v[0], hi = v[0];
  double err = 0;

  for (gsize i = 0; i < n; i++)
    {
      lo = MIN (lo, v[i]);
      hi = MAX (hi, v[i]);
    }
  for (gsize i = 0; i < n; i++)
    {
      double step = (hi - lo) / (k - 1), q = nearbyint ((v[i] - lo) / step), e = v[i] - (lo + q * step);

      err += (imp ? imp[i] : 1.0) * e * e;
    }
  return err;
}

static void
check_weight (gsize    n,
              guint    bits,
              gboolean weighted,
              gboolean many_distinct)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (bits * 7 + weighted);
  g_autofree float *v = g_new (float, n);
  g_autofree float *imp = weighted ? g_new (float, n) : NULL;
  guint k = 1u << bits;
  g_autofree double *lut = g_new (double, k), *lut2 = g_new (double, k);
  g_autofree guint16 *idx = g_new (guint16, n), *idx2 = g_new (guint16, n);
  double err, err2;

  for (gsize i = 0; i < n; i++)
    {
      /* a bell of weights (sum of uniforms), rounded to fp16's grid unless
       * many_distinct asks for every float */
      double g = 0;

      for (int j = 0; j < 4; j++)
        g += g_rand_double_range (rand, -0.05, 0.05);
      v[i] = many_distinct ? (float) g : (float) (nearbyint (g * 4096) / 4096);
      if (imp)
        imp[i] = (float) g_rand_double_range (rand, 0.1, 2);
    }
  err = ane_kmeans1d (v, imp, n, k, lut, idx);
  assert_fixed_point (v, imp, n, lut, k, idx);
  g_assert_cmpfloat (err, <=, uniform_error (v, imp, n, k));
  err2 = ane_kmeans1d (v, imp, n, k, lut2, idx2);
  g_assert_cmpmem (lut, k * sizeof (double), lut2, k * sizeof (double));
  g_assert_cmpmem (idx, n * sizeof (guint16), idx2, n * sizeof (guint16));
  g_assert_cmpfloat (err2, ==, err);
}

static void
test_weights (void)
{
  for (guint bits = 1; bits <= 8; bits++)
    if (bits != 5 && bits != 7)
      {
        check_weight (20000, bits, FALSE, FALSE);
        check_weight (20000, bits, TRUE, FALSE);
      }
}

static void
test_many_distinct (void)
{
  /* 300 000 floats: more distinct values than the exact programme takes */
  check_weight (300000, 4, FALSE, TRUE);
  check_weight (300000, 6, TRUE, TRUE);
}

static void
test_few_distinct (void)
{
  static const float v[] = { 3, -1, 3, 0.5f, -1, 3 };
  double lut[16];
  guint16 idx[6];
  double err = ane_kmeans1d (v, NULL, 6, 16, lut, idx);

  g_assert_cmpfloat (err, ==, 0.0);
  g_assert_cmpfloat (lut[0], ==, -1.0);
  g_assert_cmpfloat (lut[1], ==, 0.5);
  g_assert_cmpfloat (lut[2], ==, 3.0);
  for (guint i = 3; i < 16; i++)
    g_assert_cmpfloat (lut[i], ==, 0.0);
  for (guint i = 0; i < 6; i++)
    g_assert_cmpfloat (lut[idx[i]], ==, v[i]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/kmeans1d/exact-small", test_exact_small);
  g_test_add_func ("/ane/kmeans1d/weights", test_weights);
  g_test_add_func ("/ane/kmeans1d/many-distinct", test_many_distinct);
  g_test_add_func ("/ane/kmeans1d/few-distinct", test_few_distinct);
  return g_test_run ();
}
