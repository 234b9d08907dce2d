/* compress/ane-palettize-private.h: a weight's LUTs and indices
 *
 * Issue 16's palettization of a [rows, cols] weight whose output channels
 * are its rows: per tensor (one LUT) or per grouped channel (a LUT for
 * each group of group_size rows, iOS18's constexpr_lut_to_dense with lut
 * [rows / group_size, 1, 2^n, 1]), each LUT of 2^nbits entries:
 *
 *   kmeans   the optimal LUT (ane-kmeans1d-private.h), weighted by an
 *            importance per element when given;
 *   uniform  coremltools' uniform mode (optimize/coreml/
 *            _quantization_passes.py:713-723): over the group's
 *            [min, max], lut[k] = min + k · (max − min) / (2^n − 1), index
 *            round((w − min) / (max − min) · (2^n − 1)), half to even.
 *
 * The LUT is then rounded to the dtype it is stored in (fp16 or fp32) and
 * each element takes the nearest stored entry (coremltools'
 * find_indices_for_lut, optimize/_utils.py:399-456; a tie between two
 * values goes to the smaller), so the indices match what a reader
 * reconstructs.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  ANE_PALETTE_KMEANS,
  ANE_PALETTE_UNIFORM,
} AnePaletteMode;

typedef struct {
  double max_abs;    /* the largest |w − w'| */
  double rms;        /* sqrt (mean (w − w')²) */
} AnePaletteError;

/* Palettizes w [rows, cols] in groups of group_size rows (0: one group, the
 * whole tensor; it must divide rows): lut [groups, 2^nbits] (as stored:
 * fp16 values when lut_fp16) and indices [rows · cols] (each < 2^nbits).
 * importance (NULL: none) weights the k-means. Values must be finite. */
void ane_palettize (const float     *w,
                    gsize            rows,
                    gsize            cols,
                    guint            nbits,
                    AnePaletteMode   mode,
                    gsize            group_size,
                    const float     *importance,
                    gboolean         lut_fp16,
                    float           *lut,
                    guint8          *indices,
                    AnePaletteError *err);

G_END_DECLS
