/* compress/ane-prune.c: which weights pruning keeps (see the header for
 * the definitions and their source).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/ane-prune-private.h"

gsize
ane_prune_threshold (const float *w,
                     gsize        n,
                     double       threshold,
                     guint8      *keep)
{
  /* compared in float, as numpy compares a float32 array with a Python
   * float (value-based casting): 0.1 prunes a weight of 0.1f */
  float t = (float) threshold;
  gsize zeroed = 0;

  for (gsize i = 0; i < n; i++)
    {
      keep[i] = fabsf (w[i]) > t;
      zeroed += !keep[i];
    }
  return zeroed;
}

static int
by_value (const void *a,
          const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

gsize
ane_prune_target_sparsity (const float *w,
                           gsize        n,
                           double       sparsity,
                           guint8      *keep)
{
  g_autofree double *mag = NULL;
  double pos, t;
  gsize lo;

  if (n == 0)
    return 0;
  if (sparsity <= 0.0)
    {
      for (gsize i = 0; i < n; i++)
        keep[i] = 1;
      return 0;
    }
  if (sparsity >= 1.0)
    {
      for (gsize i = 0; i < n; i++)
        keep[i] = 0;
      return n;
    }
  mag = g_new (double, n);
  for (gsize i = 0; i < n; i++)
    mag[i] = fabs ((double) w[i]);
  qsort (mag, n, sizeof (double), by_value);
  /* numpy.percentile's default ("linear"): position q·(n − 1) between the
   * sorted values */
  pos = sparsity * (double) (n - 1);
  lo = (gsize) floor (pos);
  t = lo + 1 < n ? mag[lo] + (pos - (double) lo) * (mag[lo + 1] - mag[lo]) : mag[lo];
  return ane_prune_threshold (w, n, t, keep);
}

gsize
ane_prune_n_m (const float *w,
               gsize        rows,
               gsize        cols,
               guint        n,
               guint        m,
               guint8      *keep)
{
  gsize zeroed = 0;

  g_return_val_if_fail (m > 0 && n <= m && m <= 64, 0);
  for (gsize r = 0; r < rows; r++)
    for (gsize c0 = 0; c0 < cols; c0 += m)
      {
        gsize len = MIN ((gsize) m, cols - c0);
        /* the padded zeros are the smallest: they take the first of the n */
        guint pad = (guint) (m - len), drop = n > pad ? n - pad : 0;
        const float *run = w + r * cols + c0;
        guint8 *k = keep + r * cols + c0;

        for (gsize i = 0; i < len; i++)
          k[i] = 1;
        /* n is small: pick the smallest remaining n times (earliest on ties) */
        for (guint d = 0; d < drop; d++)
          {
            gsize best = len;

            for (gsize i = 0; i < len; i++)
              if (k[i] && (best == len || fabsf (run[i]) < fabsf (run[best])))
                best = i;
            k[best] = 0;
            zeroed++;
          }
      }
  return zeroed;
}

gsize
ane_prune_sparse_form (const float  *w,
                       const guint8 *keep,
                       gsize         n,
                       guint8       *mask,
                       float        *nonzero)
{
  gsize d = 0;

  memset (mask, 0, (n + 7) / 8);
  for (gsize i = 0; i < n; i++)
    if (keep[i] && w[i] != 0.0f)
      {
        mask[i / 8] |= (guint8) (1u << (i % 8));
        nonzero[d++] = w[i];
      }
  return d;
}
