/* tests/test-palettize.c: a weight's LUTs and indices (issue 16,
 * compress/ane-palettize.c)
 *
 * For every LUT size (1, 2, 3, 4, 6, 8 bits), k-means and uniform, per
 * tensor and per grouped channel, fp16 and fp32 LUTs, on a random weight:
 * - every index is in range and picks the nearest stored entry;
 * - the reported errors are the reconstruction's;
 * - uniform: within half a step of the group's range (plus the LUT's own
 *   rounding to fp16), as coremltools' uniform mode;
 * - k-means: RMS error no worse than uniform's, its LUT ascending;
 * - a constant group reconstructs exactly.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include <glib.h>

#include "compress/ane-palettize-private.h"

static void
check (guint          bits,
       AnePaletteMode mode,
       gsize          group,
       gboolean       fp16,
       AnePaletteError *out)
{
  enum { R = 16, C = 96 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (bits * 31 + (guint) group);
  guint k = 1u << bits;
  gsize groups = group == 0 ? 1 : R / group, grows = group == 0 ? R : group;
  float w[R * C];
  g_autofree float *lut = g_new (float, groups * k);
  guint8 idx[R * C];
  AnePaletteError err;
  double sq = 0, worst = 0;

  for (guint i = 0; i < R * C; i++)
    w[i] = (float) (g_rand_double_range (rand, -1, 1) * g_rand_double_range (rand, 0, 1) * (1 + i / C));
  ane_palettize (w, R, C, bits, mode, group, NULL, fp16, lut, idx, &err);
  for (gsize g = 0; g < groups; g++)
    {
      const float *gl = lut + g * k;
      float lo = INFINITY, hi = -INFINITY;
      double gworst = 0;

      for (gsize i = g * grows * C; i < (g + 1) * grows * C; i++)
        {
          double e = fabs ((double) w[i] - gl[idx[i]]);

          g_assert_cmpuint (idx[i], <, k);
          for (guint j = 0; j < k; j++)
            g_assert_cmpfloat (fabs ((double) w[i] - gl[j]), >=, e);
          gworst = MAX (gworst, e);
          sq += e * e;
          lo = MIN (lo, w[i]);
          hi = MAX (hi, w[i]);
        }
      if (fp16)
        for (guint j = 0; j < k; j++)
          g_assert_cmpfloat (gl[j], ==, (float) (double) gl[j]);
      worst = MAX (worst, gworst);
      if (mode == ANE_PALETTE_UNIFORM)
        g_assert_cmpfloat (gworst, <=, 0.5 * (hi - lo) / (k - 1) + (fp16 ? MAX (fabsf (lo), fabsf (hi)) / 1024 : 1e-6));
      else
        {
          /* ascending over the entries in use (with fewer distinct values
           * than entries the rest are 0, as coremltools fills them) */
          GHashTable *distinct = g_hash_table_new (g_int_hash, g_int_equal);
          guint used;

          for (gsize i = g * grows * C; i < (g + 1) * grows * C; i++)
            g_hash_table_add (distinct, &w[i]);
          used = MIN (k, g_hash_table_size (distinct));
          g_hash_table_unref (distinct);
          for (guint j = 1; j < used; j++)
            g_assert_cmpfloat (gl[j - 1], <=, gl[j]);
        }
    }
  g_assert_cmpfloat_with_epsilon (err.max_abs, worst, 1e-12);
  g_assert_cmpfloat_with_epsilon (err.rms, sqrt (sq / (R * C)), 1e-12);
  *out = err;
}

static void
test_modes (void)
{
  static const guint bits[] = { 1, 2, 3, 4, 6, 8 };
  static const gsize groups[] = { 0, 4, 1 };

  for (guint b = 0; b < G_N_ELEMENTS (bits); b++)
    for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
      for (int fp16 = 0; fp16 < 2; fp16++)
        {
          AnePaletteError km, un;

          check (bits[b], ANE_PALETTE_KMEANS, groups[g], fp16, &km);
          check (bits[b], ANE_PALETTE_UNIFORM, groups[g], fp16, &un);
          /* the optimal LUT's squared error is at most the uniform one's
           * (up to the LUTs' rounding to their dtype) */
          g_assert_cmpfloat (km.rms, <=, un.rms * (1 + 1e-3) + 1e-7);
        }
}

static void
test_constant (void)
{
  float w[8] = { 0.75f, 0.75f, 0.75f, 0.75f, 0.75f, 0.75f, 0.75f, 0.75f }, lut[2 * 4];   /* two groups of 4 entries */
  guint8 idx[8];
  AnePaletteError err;

  ane_palettize (w, 2, 4, 2, ANE_PALETTE_UNIFORM, 0, NULL, TRUE, lut, idx, &err);
  g_assert_cmpfloat (err.max_abs, ==, 0.0);
  ane_palettize (w, 2, 4, 2, ANE_PALETTE_KMEANS, 1, NULL, FALSE, lut, idx, &err);
  g_assert_cmpfloat (err.max_abs, ==, 0.0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/palettize/modes", test_modes);
  g_test_add_func ("/ane/palettize/constant", test_constant);
  return g_test_run ();
}
