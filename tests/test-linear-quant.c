/* tests/test-linear-quant.c: linear quantization parameters (issue 16,
 * compress/ane-linear-quant.c) against coremltools' definitions
 *
 * - the ranges of each dtype and mode (symmetric drops one level);
 * - hand-worked blocks whose levels are exact (round half to even
 *   included), affine and symmetric, signed and unsigned;
 * - a block of zeros;
 * - random blocks of every kind: every level within range and the error
 *   within half a step (plus what rounding the scale to fp16 adds at the
 *   clipped ends).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include <glib.h>

#include "compress/ane-linear-quant-private.h"

static void
test_ranges (void)
{
  static const struct { guint bits; gboolean sgn, sym; gint lo, hi; } cases[] = {
    { 8, TRUE, TRUE, -127, 127 }, { 8, TRUE, FALSE, -128, 127 }, { 8, FALSE, TRUE, 0, 254 }, { 8, FALSE, FALSE, 0, 255 },
    { 4, TRUE, TRUE, -7, 7 },     { 4, TRUE, FALSE, -8, 7 },     { 4, FALSE, TRUE, 0, 14 },  { 4, FALSE, FALSE, 0, 15 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      AneLinearQuant spec = { cases[i].bits, cases[i].sgn, cases[i].sym, FALSE };
      gint lo, hi;

      ane_linear_quant_range (&spec, &lo, &hi);
      g_assert_cmpint (lo, ==, cases[i].lo);
      g_assert_cmpint (hi, ==, cases[i].hi);
    }
}

static void
check_block (AneLinearQuant spec,
             const float   *w,
             gsize          n,
             float          want_scale,
             gint           want_zp,
             const gint    *want_q)
{
  gint8 qs[8];
  guint8 qu[8];
  float scale;
  gint zp;

  ane_linear_quant_block (&spec, w, n, 1, &scale, &zp, qs, qu);
  g_assert_cmpfloat (scale, ==, want_scale);
  g_assert_cmpint (zp, ==, want_zp);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpint (spec.is_signed ? qs[i] : qu[i], ==, want_q[i]);
}

static void
test_worked (void)
{
  /* uint4 affine over [0, 7.5]: step 0.5, zero point 0 */
  check_block ((AneLinearQuant) { 4, FALSE, FALSE, FALSE }, (const float[]) { 0, 1.5f, 3, 7.5f }, 4, 0.5f, 0,
               (const gint[]) { 0, 3, 6, 15 });
  /* uint4 affine over [−2, 5.5]: step 0.5, zero point round(30 / 7.5) = 4 */
  check_block ((AneLinearQuant) { 4, FALSE, FALSE, FALSE }, (const float[]) { -2, -1, 0, 5.5f }, 4, 0.5f, 4,
               (const gint[]) { 0, 2, 4, 15 });
  /* int8 symmetric, max 127: step 1; 63.5 and 0.5 round half to even */
  check_block ((AneLinearQuant) { 8, TRUE, TRUE, FALSE }, (const float[]) { -127, 63.5f, 127, 0.5f, -2.5f }, 5, 1.0f, 0,
               (const gint[]) { -127, 64, 127, 0, -2 });
  /* uint8 symmetric: step 508 / 254 = 2, zero point 127 */
  check_block ((AneLinearQuant) { 8, FALSE, TRUE, TRUE }, (const float[]) { -254, 254, 3 }, 3, 2.0f, 127,
               (const gint[]) { 0, 254, 129 });
  /* int4 affine over [−8, 0] (holds 0 by definition): step 8 / 15 */
  {
    gint8 q[2];
    float scale;
    gint zp;

    ane_linear_quant_block (&(AneLinearQuant) { 4, TRUE, FALSE, FALSE }, (const float[]) { -8, -4 }, 2, 1, &scale, &zp, q,
                            NULL);
    g_assert_cmpfloat (scale, ==, (float) (8.0 / 15.0));
    g_assert_cmpint (zp, ==, 7);   /* round ((−8·0 − 7·(−8)) / 8) */
    g_assert_cmpint (q[0], ==, -8);
  }
}

static void
test_zeros (void)
{
  static const float w[4] = { 0 };

  check_block ((AneLinearQuant) { 8, TRUE, TRUE, FALSE }, w, 4, 0.0f, 0, (const gint[]) { 0, 0, 0, 0 });
  check_block ((AneLinearQuant) { 4, FALSE, TRUE, TRUE }, w, 4, 0.0f, 7, (const gint[]) { 7, 7, 7, 7 });
  check_block ((AneLinearQuant) { 8, FALSE, FALSE, FALSE }, w, 4, 0.0f, 0, (const gint[]) { 0, 0, 0, 0 });
}

static void
test_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1616);
  enum { N = 257 };

  for (guint kind = 0; kind < 16; kind++)
    for (guint trial = 0; trial < 20; trial++)
      {
        AneLinearQuant spec = { kind & 1 ? 4 : 8, (kind & 2) != 0, (kind & 4) != 0, (kind & 8) != 0 };
        float w[N], scale;
        gint8 qs[N];
        guint8 qu[N];
        gint qmin, qmax, zp;
        double shift = trial % 3 == 0 ? 0 : g_rand_double_range (rand, -1, 1), worst, bound, m = 0;

        for (guint i = 0; i < N; i++)
          {
            w[i] = (float) (g_rand_double_range (rand, -1, 1) * (1 + trial) + shift);
            m = MAX (m, fabs (w[i]));
          }
        ane_linear_quant_range (&spec, &qmin, &qmax);
        worst = ane_linear_quant_block (&spec, w, N, 1, &scale, &zp, qs, qu);
        g_assert_cmpfloat (scale, >, 0);
        g_assert_cmpint (zp, >=, qmin);
        g_assert_cmpint (zp, <=, qmax);
        for (guint i = 0; i < N; i++)
          {
            gint q = spec.is_signed ? qs[i] : qu[i];
            double e = fabs (w[i] - (double) scale * (q - zp));

            g_assert_cmpint (q, >=, qmin);
            g_assert_cmpint (q, <=, qmax);
            g_assert_cmpfloat (e, <=, worst);
          }
        /* half a step, and at the clipped ends what rounding the scale to
         * its dtype took off the extent (2^-11 relative for fp16) */
        bound = 0.5 * scale + m * (spec.scale_fp16 ? 1.0 / 1024 : 1e-6);
        g_assert_cmpfloat (worst, <=, bound);
      }
}

/* A whole weight per channel, per block and per tensor: each block the
 * same as quantizing it alone, the scales laid out row-major, the errors
 * those of the reconstruction. */
static void
test_granularity (void)
{
  enum { R = 6, C = 64 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (99);
  static const struct { gsize block; gboolean whole; } cases[] = { { C, FALSE }, { 32, FALSE }, { 16, FALSE }, { C, TRUE } };
  float w[R * C];

  for (guint i = 0; i < R * C; i++)
    w[i] = (float) g_rand_double_range (rand, -2, 2) * (1 + i % 7);
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (guint kind = 0; kind < 4; kind++)
      {
        AneLinearQuant spec = { kind & 1 ? 4 : 8, (kind & 2) != 0, FALSE, TRUE };
        gsize blocks = cases[c].whole ? 1 : R * C / cases[c].block, bsize = cases[c].whole ? R * C : cases[c].block;
        float scale[R * C / 16], s1;
        gint zp[R * C / 16], z1;
        gint8 qs[R * C], qs1[R * C];
        guint8 qu[R * C], qu1[R * C];
        double rms, worst = ane_linear_quantize (&spec, w, R, C, cases[c].block, cases[c].whole, scale, zp, qs, qu, &rms);
        double sq = 0, w2 = 0;

        for (gsize b = 0; b < blocks; b++)
          {
            ane_linear_quant_block (&spec, w + b * bsize, bsize, 1, &s1, &z1, qs1, qu1);
            g_assert_cmpfloat (scale[b], ==, s1);
            g_assert_cmpint (zp[b], ==, z1);
            for (gsize i = 0; i < bsize; i++)
              {
                gint q = spec.is_signed ? qs[b * bsize + i] : qu[b * bsize + i];
                double e = fabs (w[b * bsize + i] - (double) scale[b] * (q - zp[b]));

                g_assert_cmpint (q, ==, spec.is_signed ? qs1[i] : qu1[i]);
                sq += e * e;
                w2 = MAX (w2, e);
              }
          }
        g_assert_cmpfloat (worst, ==, w2);
        g_assert_cmpfloat_with_epsilon (rms, sqrt (sq / (R * C)), 1e-12);
      }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/linear-quant/ranges", test_ranges);
  g_test_add_func ("/ane/linear-quant/worked", test_worked);
  g_test_add_func ("/ane/linear-quant/zeros", test_zeros);
  g_test_add_func ("/ane/linear-quant/random", test_random);
  g_test_add_func ("/ane/linear-quant/granularity", test_granularity);
  return g_test_run ();
}
