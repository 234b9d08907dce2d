/* compress/ane-palettize.c: a weight's LUTs and indices (see the header).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "ane-types.h"
#include "compress/ane-kmeans1d-private.h"
#include "compress/ane-palettize-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

/* x as the LUT stores it. */
static float
stored (double   x,
        gboolean fp16)
{
  return fp16 ? ane_half_to_float (ane_float_to_half ((float) x)) : (float) x;
}

/* One group's LUT (k entries, as stored) of its n values. */
static void
group_lut (const float    *v,
           const float    *importance,
           gsize           n,
           guint           k,
           AnePaletteMode  mode,
           gboolean        fp16,
           float          *lut)
{
  if (mode == ANE_PALETTE_UNIFORM)
    {
      float lo = v[0], hi = v[0];
      double step;

      for (gsize i = 1; i < n; i++)
        {
          lo = MIN (lo, v[i]);
          hi = MAX (hi, v[i]);
        }
      step = ((double) hi - (double) lo) / (double) (k - 1);
      for (guint j = 0; j < k; j++)
        lut[j] = stored ((double) lo + (double) j * step, fp16);
    }
  else
    {
      g_autofree double *c = g_new (double, k);

      ane_kmeans1d (v, importance, n, k, c, NULL);
      for (guint j = 0; j < k; j++)
        lut[j] = stored (c[j], fp16);
    }
}

typedef struct {
  float  value;
  guint8 index;
} Entry;

static int
by_value_then_index (const void *a,
                     const void *b)
{
  const Entry *x = a, *y = b;

  if (x->value != y->value)
    return x->value < y->value ? -1 : 1;
  return (int) x->index - (int) y->index;
}

/* The LUT's entries by value (equal values: the lowest index first). */
static void
sort_entries (const float *lut,
              guint        k,
              Entry       *sorted)
{
  for (guint j = 0; j < k; j++)
    {
      sorted[j].value = lut[j];
      sorted[j].index = (guint8) j;
    }
  qsort (sorted, k, sizeof (Entry), by_value_then_index);
}

/* The index of the entry nearest to x (values: the sorted entries'
 * values; a tie between two values goes to the smaller, equal values to
 * the lowest index). */
static guint8
nearest_entry (const Entry  *sorted,
               const double *values,
               guint         k,
               float         x)
{
  guint at = ane_kmeans1d_nearest (values, k, x);

  /* the first of a run of equal values */
  while (at > 0 && values[at - 1] == values[at])
    at--;
  return sorted[at].index;
}

typedef struct {
  const float    *w, *importance;
  gsize           group_rows, cols;
  guint           k;
  AnePaletteMode  mode;
  gboolean        lut_fp16;
  float          *lut;
  guint8         *indices;
  double         *sq, *worst;    /* per group */
} Groups;

/* Groups [begin, end): each its own table and indices, so the split over
 * threads changes nothing. */
static void
palettize_groups (gsize    begin,
                  gsize    end,
                  gpointer data)
{
  Groups *G = data;

  for (gsize g = begin; g < end; g++)
    {
      gsize n = G->group_rows * G->cols, off = g * n;
      float *glut = G->lut + g * G->k;
      Entry sorted[256];
      double values[256], sq = 0.0, worst = 0.0;

      group_lut (G->w + off, G->importance ? G->importance + off : NULL, n, G->k, G->mode, G->lut_fp16, glut);
      sort_entries (glut, G->k, sorted);
      for (guint j = 0; j < G->k; j++)
        values[j] = sorted[j].value;
      for (gsize i = 0; i < n; i++)
        {
          guint8 idx = nearest_entry (sorted, values, G->k, G->w[off + i]);
          double e = (double) G->w[off + i] - (double) glut[idx];

          G->indices[off + i] = idx;
          worst = MAX (worst, fabs (e));
          sq += e * e;
        }
      G->sq[g] = sq;
      G->worst[g] = worst;
    }
}

void
ane_palettize (const float     *w,
               gsize            rows,
               gsize            cols,
               guint            nbits,
               AnePaletteMode   mode,
               gsize            group_size,
               const float     *importance,
               gboolean         lut_fp16,
               float           *lut,
               guint8          *indices,
               AnePaletteError *err)
{
  gsize group_rows = group_size == 0 ? rows : group_size, groups;
  double sq = 0.0, worst = 0.0;
  g_autofree double *gsq = NULL, *gworst = NULL;
  Groups G;

  g_return_if_fail (nbits >= 1 && nbits <= 8 && group_rows > 0 && rows % group_rows == 0);
  groups = rows / group_rows;
  gsq = g_new0 (double, MAX (groups, 1));
  gworst = g_new0 (double, MAX (groups, 1));
  G = (Groups) { w, importance, group_rows, cols, 1u << nbits, mode, lut_fp16, lut, indices, gsq, gworst };
  /* groups are independent: shared over the CPU backend's pool (the
   * errors summed in group order afterwards, whatever the split) */
  ane_cpu_parallel_for (groups, 1, palettize_groups, &G);
  for (gsize g = 0; g < groups; g++)
    {
      sq += gsq[g];
      worst = MAX (worst, gworst[g]);
    }
  if (err != NULL)
    {
      err->max_abs = worst;
      err->rms = rows * cols > 0 ? sqrt (sq / (double) (rows * cols)) : 0.0;
    }
}
