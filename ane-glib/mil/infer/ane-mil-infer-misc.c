/* mil/infer/ane-mil-infer-misc.c: type-inference rules, const, select, control flow, constexpr ops, quantize, attention, states
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

PENDING (const, ios15)
PENDING (select, ios15)
PENDING (cond, ios15)
PENDING (while_loop, ios15)
PENDING (constexpr_affine_dequantize, ios16)
PENDING (constexpr_cast, ios16)
PENDING (constexpr_cast, ios18)
PENDING (constexpr_lut_to_dense, ios16)
PENDING (constexpr_lut_to_dense, ios18)
PENDING (constexpr_sparse_to_dense, ios16)
PENDING (constexpr_sparse_to_dense, ios18)
PENDING (constexpr_blockwise_shift_scale, ios18)
PENDING (constexpr_lut_to_sparse, ios18)
PENDING (constexpr_sparse_blockwise_shift_scale, ios18)
PENDING (quantize, ios17)
PENDING (dequantize, ios17)
PENDING (scaled_dot_product_attention, ios18)
PENDING (read_state, ios18)
PENDING (write_state, ios18)
PENDING (coreml_update_state, ios18)
