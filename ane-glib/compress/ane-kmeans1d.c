/* compress/ane-kmeans1d.c: optimal weighted k-means on a line (see the
 * header for the method and its sources).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/ane-kmeans1d-private.h"

/* Prefix sums of w, w·x and w·x² over the points, x taken about their
 * weighted mean so that the squared sums do not cancel. */
typedef struct {
  double *s0, *s1, *s2;   /* [n + 1] */
} Prefix;

static void
prefix_init (Prefix       *p,
             const double *x,
             const double *w,
             gsize         n)
{
  double total = 0.0, mean = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      total += w[i];
      mean += w[i] * x[i];
    }
  mean = total > 0.0 ? mean / total : 0.0;
  p->s0 = g_new (double, n + 1);
  p->s1 = g_new (double, n + 1);
  p->s2 = g_new (double, n + 1);
  p->s0[0] = p->s1[0] = p->s2[0] = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      double c = x[i] - mean;

      p->s0[i + 1] = p->s0[i] + w[i];
      p->s1[i + 1] = p->s1[i] + w[i] * c;
      p->s2[i + 1] = p->s2[i] + w[i] * c * c;
    }
}

static void
prefix_clear (Prefix *p)
{
  g_free (p->s0);
  g_free (p->s1);
  g_free (p->s2);
}

/* The weighted squared error of points [a, b) about their weighted mean. */
static inline double
run_cost (const Prefix *p,
          gsize         a,
          gsize         b)
{
  double s0 = p->s0[b] - p->s0[a], s1 = p->s1[b] - p->s1[a], s2 = p->s2[b] - p->s2[a];
  double c = s0 > 0.0 ? s2 - s1 * s1 / s0 : 0.0;

  return c > 0.0 ? c : 0.0;
}

typedef struct {
  const Prefix *p;
  const double *prev;   /* [n + 1]: best cost of the first i points in j − 1 runs */
  double       *cur;    /* [n + 1]: in j runs */
  guint32      *arg;    /* [n + 1]: where the last of the j runs starts */
} Layer;

/* cur[i] for i in [lo, hi], knowing the best split of each lies in
 * [opt_lo, opt_hi] (monotone in i). */
static void
layer_solve (Layer *l,
             gsize  lo,
             gsize  hi,
             gsize  opt_lo,
             gsize  opt_hi)
{
  while (lo <= hi)
    {
      gsize mid = lo + (hi - lo) / 2, best_m = opt_lo, end = MIN (mid - 1, opt_hi);
      double best = INFINITY;

      for (gsize m = opt_lo; m <= end; m++)
        {
          double c = l->prev[m] + run_cost (l->p, m, mid);

          if (c < best)
            {
              best = c;
              best_m = m;
            }
        }
      l->cur[mid] = best;
      l->arg[mid] = (guint32) best_m;
      /* the left half recursively, the right half by the loop */
      if (mid > lo)
        layer_solve (l, lo, mid - 1, opt_lo, best_m);
      lo = mid + 1;
      opt_lo = best_m;
    }
}

double
ane_kmeans1d_sorted (const double *x,
                     const double *w,
                     gsize         n,
                     guint         k,
                     double       *centroids,
                     gsize        *starts)
{
  Prefix p;
  g_autofree double *prev = NULL, *cur = NULL;
  g_autofree guint32 *arg = NULL;
  double total;

  g_return_val_if_fail (n > 0 && k > 0 && k <= n && n <= ANE_KMEANS1D_MAX_POINTS, 0.0);
  prefix_init (&p, x, w, n);
  prev = g_new (double, n + 1);
  cur = g_new (double, n + 1);
  arg = g_new0 (guint32, (gsize) k * (n + 1));
  for (gsize i = 0; i <= n; i++)
    prev[i] = run_cost (&p, 0, i);
  for (guint j = 2; j <= k; j++)
    {
      Layer l = { &p, prev, cur, arg + (gsize) (j - 1) * (n + 1) };
      double *t;

      /* j runs need at least j points; split m ≥ j − 1 */
      for (gsize i = 0; i < j; i++)
        cur[i] = INFINITY;
      layer_solve (&l, j, n, j - 1, n - 1);
      t = prev;
      prev = cur;
      cur = t;
    }
  total = prev[n];
  /* back through the splits */
  starts[k] = n;
  for (guint j = k; j > 1; j--)
    starts[j - 1] = arg[(gsize) (j - 1) * (n + 1) + starts[j]];
  starts[0] = 0;
  for (guint c = 0; c < k; c++)
    {
      double s0 = 0.0, s1 = 0.0;

      for (gsize i = starts[c]; i < starts[c + 1]; i++)
        {
          s0 += w[i];
          s1 += w[i] * x[i];
        }
      centroids[c] = s1 / s0;
    }
  prefix_clear (&p);
  return total;
}

typedef struct {
  double x, w;
} Point;

/* A float's bits as an unsigned key in the same order (negatives
 * reversed, the sign bit flipped); -0 sorts before +0, equal as doubles. */
static inline guint32
sort_key (float v)
{
  guint32 u;

  memcpy (&u, &v, 4);
  return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

/* Sorts the points of n float values by value: an LSD radix sort on the
 * 32-bit keys, three passes of 11 bits (a qsort took a fifth of a
 * compression's time; bench/compress.c). Stable, so equal values keep
 * their order. */
static void
sort_points (const float *values,
             const float *importance,
             gsize        n,
             Point       *out)
{
  g_autofree guint32 *key = g_new (guint32, MAX (n, 1));
  g_autofree guint32 *tmp = g_new (guint32, MAX (n, 1));
  g_autofree guint32 *idx = g_new (guint32, MAX (n, 1));
  g_autofree guint32 *idx2 = g_new (guint32, MAX (n, 1));
  guint32 *k = key, *kt = tmp, *ix = idx, *it = idx2;

  for (gsize i = 0; i < n; i++)
    {
      key[i] = sort_key (values[i]);
      idx[i] = (guint32) i;
    }
  for (guint shift = 0; shift < 33; shift += 11)
    {
      gsize count[2049] = { 0 };

      for (gsize i = 0; i < n; i++)
        count[((k[i] >> shift) & 2047u) + 1]++;
      for (guint b = 0; b < 2048; b++)
        count[b + 1] += count[b];
      for (gsize i = 0; i < n; i++)
        {
          gsize at = count[(k[i] >> shift) & 2047u]++;

          kt[at] = k[i];
          it[at] = ix[i];
        }
      { guint32 *t = k; k = kt; kt = t; }
      { guint32 *t = ix; ix = it; it = t; }
    }
  for (gsize i = 0; i < n; i++)
    {
      out[i].x = values[ix[i]];
      out[i].w = importance ? importance[ix[i]] : 1.0;
    }
}

guint
ane_kmeans1d_nearest (const double *c,
                      guint         k,
                      double        v)
{
  guint lo = 0, hi = k - 1;

  /* the last centroid whose midpoint with the next is below v, by bisection */
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (v > 0.5 * (c[mid] + c[mid + 1]))
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

double
ane_kmeans1d (const float  *values,
              const float  *importance,
              gsize         n,
              guint         k,
              double       *lut,
              guint16      *indices)
{
  g_autofree Point *pts = g_new (Point, MAX (n, 1));
  gsize d = 0;
  double err = 0.0;

  g_return_val_if_fail (k > 0 && k <= 65536, 0.0);
  for (gsize i = 0; i < k; i++)
    lut[i] = 0.0;
  if (n == 0)
    return 0.0;
  /* the distinct values with their total weights */
  sort_points (values, importance, n, pts);
  for (gsize i = 0; i < n; i++)
    if (d > 0 && pts[d - 1].x == pts[i].x)
      pts[d - 1].w += pts[i].w;
    else
      pts[d++] = pts[i];

  if (d <= k)
    {
      for (gsize i = 0; i < d; i++)
        lut[i] = pts[i].x;
      k = (guint) d;
    }
  else
    {
      gsize m = MIN (d, ANE_KMEANS1D_MAX_POINTS);
      g_autofree double *x = g_new (double, m);
      g_autofree double *w = g_new (double, m);
      g_autofree gsize *starts = g_new (gsize, k + 1);

      if (m == d)
        for (gsize i = 0; i < d; i++)
          {
            x[i] = pts[i].x;
            w[i] = pts[i].w;
          }
      else
        {
          /* m runs of about equal weight, each at its weighted mean */
          double total = 0.0, acc = 0.0, s1 = 0.0, s0 = 0.0;
          gsize r = 0;

          for (gsize i = 0; i < d; i++)
            total += pts[i].w;
          for (gsize i = 0; i < d; i++)
            {
              s0 += pts[i].w;
              s1 += pts[i].w * pts[i].x;
              acc += pts[i].w;
              if (acc >= total * (double) (r + 1) / (double) m || i + 1 == d || d - i - 1 <= m - r - 1)
                {
                  x[r] = s1 / s0;
                  w[r] = s0;
                  r++;
                  s0 = s1 = 0.0;
                }
            }
          m = r;
        }
      if (m <= k)
        {
          for (gsize i = 0; i < m; i++)
            lut[i] = x[i];
          k = (guint) m;
        }
      else
        ane_kmeans1d_sorted (x, w, m, k, lut, starts);
      if (m != d)
        {
          /* Lloyd on the distinct values: assign, re-average, until the
           * assignment holds (each step lowers the error or keeps it) */
          g_autofree double *s0 = g_new (double, k);
          g_autofree double *s1 = g_new (double, k);

          for (guint it = 0; it < 100; it++)
            {
              gboolean moved = FALSE;

              memset (s0, 0, k * sizeof (double));
              memset (s1, 0, k * sizeof (double));
              for (gsize i = 0; i < d; i++)
                {
                  guint c = ane_kmeans1d_nearest (lut, k, pts[i].x);

                  s0[c] += pts[i].w;
                  s1[c] += pts[i].w * pts[i].x;
                }
              for (guint c = 0; c < k; c++)
                if (s0[c] > 0.0 && s1[c] / s0[c] != lut[c])
                  {
                    lut[c] = s1[c] / s0[c];
                    moved = TRUE;
                  }
              if (!moved)
                break;
            }
        }
    }
  for (gsize i = 0; i < n; i++)
    {
      guint c = ane_kmeans1d_nearest (lut, k, values[i]);
      double e = values[i] - lut[c];

      if (indices != NULL)
        indices[i] = (guint16) c;
      err += (importance ? importance[i] : 1.0) * e * e;
    }
  return err;
}
