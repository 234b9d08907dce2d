/* mil/infer/ane-mil-infer-tensor.c: type-inference rules, tensor operations (concat, fill, pad, split, stack, tile, ...)
 *
 * Each rule mirrors the type_inference (and the checks it makes) of the
 * coremltools op class named in its row's source (ane-mil-opdefs.c), paths
 * relative to coremltools/converters/mil/mil/ops/defs/ in coremltools 9.0.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/infer/ane-mil-infer-rules-private.h"

/* PENDING: rules not written yet (each fails with ANE_ERROR_UNSUPPORTED). */
#define PENDING(op, first) \
  ANE_MIL_INFER_RULE (op, first) { return ane_mil_infer_pending (call, error); }

PENDING (band_part, ios15)
PENDING (concat, ios15)
PENDING (fill, ios15)
PENDING (fill_like, ios16)
PENDING (flatten2d, ios15)
PENDING (identity, ios15)
PENDING (non_maximum_suppression, ios15)
PENDING (non_maximum_suppression, ios17)
PENDING (non_zero, ios15)
PENDING (one_hot, ios15)
PENDING (pad, ios15)
PENDING (range_1d, ios15)
PENDING (shape, ios15)
PENDING (split, ios15)
PENDING (stack, ios15)
PENDING (tile, ios15)
