/* mil/infer/ane-mil-infer-transform.c: type-inference rules, tensor transformations (reshape, slices, squeeze, transpose, ...)
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

PENDING (depth_to_space, ios15)
PENDING (space_to_depth, ios15)
PENDING (pixel_shuffle, ios15)
PENDING (expand_dims, ios15)
PENDING (expand_dims, ios17)
PENDING (reshape, ios15)
PENDING (reshape, ios17)
PENDING (reverse, ios15)
PENDING (reverse, ios17)
PENDING (reverse_sequence, ios15)
PENDING (reverse_sequence, ios17)
PENDING (slice_by_index, ios15)
PENDING (slice_by_index, ios17)
PENDING (slice_by_size, ios15)
PENDING (slice_by_size, ios17)
PENDING (slice_update, ios18)
PENDING (sliding_windows, ios15)
PENDING (sliding_windows, ios17)
PENDING (squeeze, ios15)
PENDING (squeeze, ios17)
PENDING (transpose, ios15)
PENDING (transpose, ios17)
