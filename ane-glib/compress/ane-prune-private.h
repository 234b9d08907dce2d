/* compress/ane-prune-private.h: which weights pruning keeps
 *
 * Issue 16's pruning, with coremltools' definitions (coremltools 9.0
 * optimize/coreml/_quantization_passes.py:290-440, prune_weights): each
 * function writes keep[i] = 1 for a weight that stays and 0 for one set to
 * zero, and returns how many were set to zero. A weight that is 0 already
 * is dropped from the sparse form's values either way (its mask bit is the
 * value's != 0, as coremltools builds it), so callers count those too.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* |w| ≤ threshold goes (OpThresholdPrunerConfig), compared in float. */
gsize ane_prune_threshold       (const float *w,
                                 gsize        n,
                                 double       threshold,
                                 guint8      *keep);

/* The smallest magnitudes go, up to and including numpy's linear-
 * interpolated percentile 100·sparsity of |w| (OpMagnitudePrunerConfig's
 * target_sparsity): with distinct magnitudes ⌊sparsity·(n − 1)⌋ + 1 of
 * them, every tie at that percentile too; sparsity 1 zeroes all, 0 none. */
gsize ane_prune_target_sparsity (const float *w,
                                 gsize        n,
                                 double       sparsity,
                                 guint8      *keep);

/* n:m structured sparsity along the rows of a [rows, cols] weight: in each
 * run of m consecutive columns, the n smallest |w| go (ties: the earlier
 * column first). A last run shorter than m is padded with zeros that count
 * as the smallest, as coremltools pads it, so it loses n − (m − len) at
 * most. */
gsize ane_prune_n_m             (const float *w,
                                 gsize        rows,
                                 gsize        cols,
                                 guint        n,
                                 guint        m,
                                 guint8      *keep);

/* The sparse form of the pruned weight (constexpr_sparse_to_dense): mask
 * bit i (LSB first, ⌈n/8⌉ bytes, the padding bits 0: the iOS16 uint8
 * vector and the iOS18 uint1 tensor alike, ane-bitpack-private.h) set for
 * a weight kept and not 0, as coremltools builds it (w != 0 after
 * pruning), and those weights in order in nonzero (room for n). Returns
 * how many there are. */
gsize ane_prune_sparse_form     (const float  *w,
                                 const guint8 *keep,
                                 gsize         n,
                                 guint8       *mask,
                                 float        *nonzero);

G_END_DECLS
