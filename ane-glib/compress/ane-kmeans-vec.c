/* compress/ane-kmeans-vec.c: k-means over short vectors (see the header)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "compress/ane-kmeans-vec-private.h"

static double
dist2 (const float *a,
       const float *b,
       guint        d)
{
  double s = 0;

  for (guint j = 0; j < d; j++)
    {
      double e = (double) a[j] - (double) b[j];
      s += e * e;
    }
  return s;
}

guint
ane_kmeans_vec_nearest (const float *centroids,
                        guint        k,
                        guint        d,
                        const float *p)
{
  guint best = 0;
  double bd = G_MAXDOUBLE;

  for (guint c = 0; c < k; c++)
    {
      double e = dist2 (centroids + (gsize) c * d, p, d);

      if (e < bd)
        {
          bd = e;
          best = c;
        }
    }
  return best;
}

double
ane_kmeans_vec (const float *points,
                const float *weights,
                gsize        n,
                guint        d,
                guint        k,
                guint32      seed,
                float       *centroids,
                guint8      *assign)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autofree double *near = g_new (double, MAX (n, 1));
  g_autofree double *sum = g_new (double, (gsize) k * d);
  g_autofree double *mass = g_new (double, k);
  double total = 0;
  guint seeded = 1;

  g_return_val_if_fail (n > 0 && k >= 1 && k <= 256 && d >= 1, 0);

  /* k-means++: the first seed uniformly, each next one with probability
   * weight · distance² to the nearest seed so far */
  memcpy (centroids, points + (gsize) g_rand_int_range (rand, 0, (gint32) MIN (n, G_MAXINT32)) * d,
          d * sizeof (float));
  for (gsize i = 0; i < n; i++)
    near[i] = dist2 (points + i * d, centroids, d) * (weights ? weights[i] : 1.0);
  for (; seeded < k; seeded++)
    {
      double all = 0, r;
      gsize pick = 0;

      for (gsize i = 0; i < n; i++)
        all += near[i];
      if (all <= 0)
        break;   /* fewer distinct points than k */
      r = g_rand_double (rand) * all;
      for (pick = 0; pick + 1 < n && r >= near[pick]; pick++)
        r -= near[pick];
      memcpy (centroids + (gsize) seeded * d, points + pick * d, d * sizeof (float));
      for (gsize i = 0; i < n; i++)
        {
          double e = dist2 (points + i * d, centroids + (gsize) seeded * d, d) * (weights ? weights[i] : 1.0);

          near[i] = MIN (near[i], e);
        }
    }
  for (guint c = seeded; c < k; c++)
    memcpy (centroids + (gsize) c * d, centroids + (gsize) (c % seeded) * d, d * sizeof (float));

  /* Lloyd */
  for (gsize i = 0; i < n; i++)
    assign[i] = (guint8) ane_kmeans_vec_nearest (centroids, k, d, points + i * d);
  for (guint iter = 0; iter < 300; iter++)
    {
      gboolean moved = FALSE;

      memset (sum, 0, (gsize) k * d * sizeof (double));
      memset (mass, 0, k * sizeof (double));
      for (gsize i = 0; i < n; i++)
        {
          double wt = weights ? weights[i] : 1.0;

          mass[assign[i]] += wt;
          for (guint j = 0; j < d; j++)
            sum[(gsize) assign[i] * d + j] += wt * points[i * d + j];
        }
      for (guint c = 0; c < k; c++)
        if (mass[c] > 0)
          for (guint j = 0; j < d; j++)
            centroids[(gsize) c * d + j] = (float) (sum[(gsize) c * d + j] / mass[c]);
      for (gsize i = 0; i < n; i++)
        {
          guint8 a = (guint8) ane_kmeans_vec_nearest (centroids, k, d, points + i * d);

          moved |= a != assign[i];
          assign[i] = a;
        }
      if (!moved)
        break;
    }
  for (gsize i = 0; i < n; i++)
    total += dist2 (points + i * d, centroids + (gsize) assign[i] * d, d) * (weights ? weights[i] : 1.0);
  return total;
}
