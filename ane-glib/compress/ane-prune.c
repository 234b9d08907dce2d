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

/* The k-th smallest of a[0..n) (a is reordered): quickselect with a
 * median-of-three pivot, O(n) on average; after 2·log2(n) rounds without
 * converging (an adversarial order) the rest is sorted instead, so it is
 * never quadratic. A qsort of every magnitude took a third of a 50%
 * pruning of a 110M-weight model (bench/compress.c). */
static double
select_kth (double *a,
            gsize   n,
            gsize   k)
{
  gsize lo = 0, hi = n - 1;
  guint rounds = 0, limit = 2;

  for (gsize m = n; m > 1; m >>= 1)
    limit += 2;
  while (lo < hi)
    {
      double x, y, z, pivot;
      gsize i = lo, j = hi;

      if (++rounds > limit)
        {
          qsort (a + lo, hi - lo + 1, sizeof (double), by_value);
          return a[k];
        }
      x = a[lo];
      y = a[lo + (hi - lo) / 2];
      z = a[hi];
      pivot = MAX (MIN (x, y), MIN (MAX (x, y), z));
      while (i <= j)
        {
          while (a[i] < pivot)
            i++;
          while (a[j] > pivot)
            j--;
          if (i <= j)
            {
              double t = a[i];

              a[i] = a[j];
              a[j] = t;
              i++;
              if (j == 0)
                break;
              j--;
            }
        }
      /* [lo, j] <= pivot <= [i, hi], anything between equals the pivot */
      if (k <= j)
        hi = j;
      else if (k >= i)
        lo = i;
      else
        return a[k];
    }
  return a[k];
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
  /* numpy.percentile's default ("linear"): position q·(n − 1) between the
   * sorted values: the lo-th smallest and the next one */
  pos = sparsity * (double) (n - 1);
  lo = (gsize) floor (pos);
  {
    double a = select_kth (mag, n, lo), b = a;

    /* after the selection everything past lo is >= a: the next value is their minimum */
    if (lo + 1 < n)
      {
        b = mag[lo + 1];
        for (gsize i = lo + 2; i < n; i++)
          b = MIN (b, mag[i]);
      }
    t = lo + 1 < n ? a + (pos - (double) lo) * (b - a) : a;
  }
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
