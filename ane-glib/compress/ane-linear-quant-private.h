/* compress/ane-linear-quant-private.h: linear (affine) quantization parameters
 *
 * Issue 16's linear quantization, with coremltools' definitions
 * (coremltools 9.0 optimize/_utils.py:45-130, quantize_weight and
 * get_quant_range; optimize/coreml/_quantization_passes.py:1381-1414), per
 * block of elements (a whole tensor, a channel, or a block of a row):
 *
 *   range    signed n bits: [−2^(n−1), 2^(n−1) − 1], unsigned [0, 2^n − 1];
 *            symmetric mode drops the most negative signed value (int8:
 *            −127..127) and the largest unsigned one (uint8: 0..254);
 *   extent   symmetric: [−m, m] with m = max |w|; affine: [min(0, min w),
 *            max(0, max w)] (always holding 0);
 *   scale    (hi − lo) / (qmax − qmin);
 *   zero pt  symmetric signed: 0 (no offset); symmetric unsigned: qmax / 2
 *            (127, 7); affine: round((qmin·hi − qmax·lo) / (hi − lo))
 *            clipped to the range;
 *   q        clip(round(w / scale) + zp) — round half to even;
 *   w'       scale · (q − zp).
 *
 * One difference, on purpose: the scale is first rounded to the dtype it
 * is stored in (fp16 or fp32) and q computed from that stored scale, so
 * that w' is the nearest level of what a reader reconstructs
 * (coremltools divides by the unrounded fp16 arithmetic's scale). A block
 * of zeros gets scale 0 and q = zp (coremltools divides 0 by 0 there and
 * numpy casts the NaN to 0).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint    bits;        /* 4 or 8 */
  gboolean is_signed;
  gboolean symmetric;
  gboolean scale_fp16;  /* the scale is stored as fp16 (else fp32) */
} AneLinearQuant;

/* The integer range of q. */
void     ane_linear_quant_range (const AneLinearQuant *spec,
                                 gint                 *qmin,
                                 gint                 *qmax);

/* One block: n values at w[0], w[stride], ...; writes its scale (as
 * stored), zero point and the n levels to q (same stride). Values must be
 * finite (the caller refuses inf and NaN, naming the weight). Returns the
 * block's largest |w − w'|. */
double   ane_linear_quant_block (const AneLinearQuant *spec,
                                 const float          *w,
                                 gsize                 n,
                                 gsize                 stride,
                                 float                *scale,
                                 gint                 *zero_point,
                                 gint8                *q_signed,
                                 guint8               *q_unsigned);

/* A [rows, cols] weight (output channels = rows) in blocks of
 * block_cols columns of one row (per channel: cols; per block: its size)
 * or, per tensor, block_cols = cols and whole = TRUE (one block): scale and
 * zero_point hold a value per block, row-major ([rows, cols / block_cols],
 * or one), the levels go to q (signed or unsigned, as spec). block_cols
 * must divide cols. Returns the largest |w − w'| and, in rms, the root
 * mean square error. */
double   ane_linear_quantize    (const AneLinearQuant *spec,
                                 const float          *w,
                                 gsize                 rows,
                                 gsize                 cols,
                                 gsize                 block_cols,
                                 gboolean              whole,
                                 float                *scale,
                                 gint                 *zero_point,
                                 gint8                *q_signed,
                                 guint8               *q_unsigned,
                                 double               *rms);

G_END_DECLS
