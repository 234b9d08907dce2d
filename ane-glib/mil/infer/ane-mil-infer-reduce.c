/* mil/infer/ane-mil-infer-reduce.c: type-inference rules, reductions, gather/scatter, argsort, topk, cumsum
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

PENDING (gather, ios15)
PENDING (gather, ios16)
PENDING (gather, ios17)
PENDING (gather_along_axis, ios15)
PENDING (gather_along_axis, ios16)
PENDING (gather_along_axis, ios17)
PENDING (gather_nd, ios15)
PENDING (gather_nd, ios16)
PENDING (gather_nd, ios17)
PENDING (scatter, ios15)
PENDING (scatter, ios17)
PENDING (scatter_along_axis, ios15)
PENDING (scatter_along_axis, ios17)
PENDING (scatter_nd, ios15)
PENDING (scatter_nd, ios17)
PENDING (argsort, ios15)
PENDING (cumsum, ios15)
PENDING (topk, ios15)
PENDING (topk, ios16)
PENDING (topk, ios17)
PENDING (reduce_argmax, ios15)
PENDING (reduce_argmax, ios17)
PENDING (reduce_argmin, ios15)
PENDING (reduce_argmin, ios17)
PENDING (reduce_l1_norm, ios15)
PENDING (reduce_l2_norm, ios15)
PENDING (reduce_log_sum, ios15)
PENDING (reduce_log_sum_exp, ios15)
PENDING (reduce_max, ios15)
PENDING (reduce_mean, ios15)
PENDING (reduce_min, ios15)
PENDING (reduce_prod, ios15)
PENDING (reduce_sum, ios15)
PENDING (reduce_sum_square, ios15)
