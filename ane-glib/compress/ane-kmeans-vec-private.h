/* compress/ane-kmeans-vec-private.h: k-means over short vectors (vector palettization)
 *
 * Issue 16's vector palettization (iOS18 constexpr_lut_to_dense with
 * VECTOR_SIZE > 1): n points of d values each, k centroids. coremltools
 * runs scikit-learn's KMeans(init="k-means++", n_init=1, random_state=0,
 * tol=1e-2) there (coremltools/models/neural_network/quantization_utils.py:
 * 425-430); this is the same algorithm written here: k-means++ seeding
 * (Arthur & Vassilvitskii 2007: each next seed drawn with probability
 * proportional to its squared distance to the nearest seed so far,
 * optionally times an importance weight) from a fixed seed, then Lloyd
 * iterations until no point changes cluster (or 300 iterations). Centroids
 * are weighted means; an empty cluster keeps its centroid. Deterministic:
 * the same input and seed give the same result.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* points [n, d] (row-major), weights per point (NULL: 1). Writes
 * centroids [k, d] and each point's cluster. k may exceed the number of
 * distinct points: the extra centroids repeat existing ones. Returns the
 * weighted sum of squared distances. */
double ane_kmeans_vec (const float *points,
                       const float *weights,
                       gsize        n,
                       guint        d,
                       guint        k,
                       guint32      seed,
                       float       *centroids,
                       guint8      *assign);

/* The nearest of k centroids [k, d] to point p (ties to the lower index). */
guint  ane_kmeans_vec_nearest (const float *centroids,
                               guint        k,
                               guint        d,
                               const float *p);

G_END_DECLS
