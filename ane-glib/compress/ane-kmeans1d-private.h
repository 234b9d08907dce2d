/* compress/ane-kmeans1d-private.h: optimal weighted k-means on a line
 *
 * Palettization (issue 16) replaces a weight by 2^n values (its LUT) and an
 * index per element. Of the LUTs of k entries, the one that minimizes the
 * squared reconstruction error (each element mapped to its nearest entry,
 * optionally weighted by an importance) is the optimal 1-D k-means
 * clustering; on sorted values its clusters are runs, so it is found
 * exactly by dynamic programming over the runs (Grønlund et al., "Fast
 * exact k-means, k-medians and Bregman divergence clustering in 1D", 2017;
 * coremltools runs the same optimum through its vendored kmeans1d for fp16
 * weights, models/neural_network/quantization_utils.py:397-410). Here the
 * layers are computed with the divide-and-conquer optimization (the best
 * split point moves right as the prefix grows: the cost is a concave Monge
 * array), O(k · n log n), deterministic (ties take the leftmost split).
 *
 * Weights with more distinct values than ANE_KMEANS1D_MAX_POINTS are first
 * merged into that many runs of equal weight (each run at its weighted
 * mean), solved exactly there, then refined by Lloyd iterations on the
 * distinct values themselves (which never increase the error).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ANE_KMEANS1D_MAX_POINTS 65536

/* Optimal clustering of n sorted, strictly increasing points x with
 * positive weights w into k ≤ n runs: centroids[k] (the runs' weighted
 * means, ascending) and starts[k + 1] (run c is points [starts[c],
 * starts[c + 1])). Returns the weighted sum of squared distances.
 * n ≤ ANE_KMEANS1D_MAX_POINTS. */
double ane_kmeans1d_sorted (const double *x,
                            const double *w,
                            gsize         n,
                            guint         k,
                            double       *centroids,
                            gsize        *starts);

/* k-means of n values (any order, finite: the caller refuses NaN and
 * inf), each weighted by importance[i] (NULL: 1; must be > 0): the LUT (k
 * ascending centroids; when the values have only d < k distinct values,
 * the first d entries are those values and the rest 0, unused, as
 * coremltools fills them) and, when indices is not NULL, each value's
 * entry (the nearest centroid; a tie goes to the lower). Returns the
 * weighted sum of squared errors. */
double ane_kmeans1d (const float  *values,
                     const float  *importance,
                     gsize         n,
                     guint         k,
                     double       *lut,
                     guint16      *indices);

/* The index of the nearest of k ascending values c (by bisection of the
 * midpoints; a tie goes to the lower). */
guint  ane_kmeans1d_nearest (const double *c,
                             guint         k,
                             double        v);

G_END_DECLS
