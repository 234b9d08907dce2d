/* tests/test-prune.c: which weights pruning keeps (issue 16,
 * compress/ane-prune.c), against coremltools' definitions:
 * threshold (≤ goes), target sparsity through numpy's linear percentile
 * (⌊s·(n − 1)⌋ + 1 of n distinct magnitudes, ties at the cut too), n:m
 * (n smallest per run of m, a short last run padded with zeros that count
 * as the smallest).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include <glib.h>

#include "compress/ane-prune-private.h"

static void
test_threshold (void)
{
  static const float w[] = { 0.5f, -0.1f, 0.1f, 0, 2, -3 };
  guint8 keep[6];

  g_assert_cmpuint (ane_prune_threshold (w, 6, 0.1, keep), ==, 3);
  g_assert_cmpmem (keep, 6, ((const guint8[]) { 1, 0, 0, 0, 1, 1 }), 6);
}

static void
test_target_sparsity (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  static const struct { gsize n; double s; gsize zeroed; } cases[] = {
    { 7, 0.5, 4 }, { 101, 0.5, 51 }, { 100, 0.5, 50 }, { 10, 0.25, 3 }, { 1000, 0.9, 900 }, { 5, 0.0, 0 }, { 5, 1.0, 5 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      gsize n = cases[c].n;
      g_autofree float *w = g_new (float, n);
      g_autofree guint8 *keep = g_new (guint8, n);
      float cut = 0;

      /* distinct magnitudes, shuffled signs and order */
      for (gsize i = 0; i < n; i++)
        w[i] = (float) (i + 1) * (g_rand_boolean (rand) ? 1.0f : -1.0f);
      for (gsize i = n; i > 1; i--)
        {
          gsize j = (gsize) g_rand_int_range (rand, 0, (gint32) i);
          float t = w[i - 1];

          w[i - 1] = w[j];
          w[j] = t;
        }
      g_assert_cmpuint (ane_prune_target_sparsity (w, n, cases[c].s, keep), ==, cases[c].zeroed);
      /* the smallest go */
      for (gsize i = 0; i < n; i++)
        if (!keep[i])
          cut = MAX (cut, fabsf (w[i]));
      for (gsize i = 0; i < n; i++)
        g_assert_true (keep[i] ? fabsf (w[i]) > cut : fabsf (w[i]) <= cut);
    }
  /* ties at the cut all go */
  {
    static const float w[] = { 1, 1, 1, 1, 5 };
    guint8 keep[5];

    g_assert_cmpuint (ane_prune_target_sparsity (w, 5, 0.2, keep), ==, 4);
  }
}

static void
test_n_m (void)
{
  /* two rows of 10: runs of 4, 4 and a last of 2 (padded with 2 zeros) */
  static const float w[] = {
    1, -4, 3, 2,   8, 7, -6, 5,   9, -1,
    0.5f, 0.5f, 2, 2,   1, 2, 3, 4,   -7, 3,
  };
  guint8 keep[20];

  g_assert_cmpuint (ane_prune_n_m (w, 2, 10, 2, 4, keep), ==, 8);
  g_assert_cmpmem (keep, 20, ((const guint8[]) {
    0, 1, 1, 0,   1, 1, 0, 0,   1, 1,
    0, 0, 1, 1,   0, 0, 1, 1,   1, 1,
  }), 20);
  /* 3:4 on the short run drops one real weight (the padding is the 2 smallest) */
  g_assert_cmpuint (ane_prune_n_m (w, 1, 10, 3, 4, keep), ==, 7);
  g_assert_cmpmem (keep + 8, 2, ((const guint8[]) { 1, 0 }), 2);
}

/* The sparse form: a bit per weight kept and not 0, LSB first, the
 * padding bits 0, the values in order. */
static void
test_sparse_form (void)
{
  static const float w[] = { 0.5f, -0.1f, 0, 2, -3, 0.25f, 0, 7, 1, -1 };
  static const guint8 keep[] = { 1, 0, 1, 1, 1, 1, 0, 1, 0, 1 };
  guint8 mask[2] = { 0xff, 0xff };
  float nz[10];

  g_assert_cmpuint (ane_prune_sparse_form (w, keep, 10, mask, nz), ==, 6);
  /* kept and nonzero: 0, 3, 4, 5, 7, 9 */
  g_assert_cmpuint (mask[0], ==, 0x01 | 0x08 | 0x10 | 0x20 | 0x80);
  g_assert_cmpuint (mask[1], ==, 0x02);
  g_assert_cmpmem (nz, 6 * sizeof (float), ((const float[]) { 0.5f, 2, -3, 0.25f, 7, -1 }), 6 * sizeof (float));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/prune/threshold", test_threshold);
  g_test_add_func ("/ane/prune/target-sparsity", test_target_sparsity);
  g_test_add_func ("/ane/prune/n-m", test_n_m);
  g_test_add_func ("/ane/prune/sparse-form", test_sparse_form);
  return g_test_run ();
}
