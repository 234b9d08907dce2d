/* mil/infer/ane-mil-infer-linalg.c: type-inference rules, linear, matmul, einsum, normalizations, conv, pooling, upsampling
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

PENDING (linear, ios15)
PENDING (linear, ios17)
PENDING (matmul, ios15)
PENDING (matmul, ios17)
PENDING (einsum, ios15)
PENDING (batch_norm, ios15)
PENDING (batch_norm, ios17)
PENDING (instance_norm, ios15)
PENDING (instance_norm, ios17)
PENDING (l2_norm, ios15)
PENDING (l2_norm, ios17)
PENDING (layer_norm, ios15)
PENDING (layer_norm, ios17)
PENDING (local_response_norm, ios15)
PENDING (local_response_norm, ios17)
PENDING (conv, ios15)
PENDING (conv, ios17)
PENDING (conv_transpose, ios15)
PENDING (conv_transpose, ios17)
PENDING (avg_pool, ios15)
PENDING (max_pool, ios15)
PENDING (l2_pool, ios15)
PENDING (upsample_nearest_neighbor, ios15)
