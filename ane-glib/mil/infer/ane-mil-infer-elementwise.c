/* mil/infer/ane-mil-infer-elementwise.c: type-inference rules, elementwise binary and unary ops, activations, cast
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

PENDING (logical_and, ios15)
PENDING (logical_or, ios15)
PENDING (logical_xor, ios15)
PENDING (logical_not, ios15)
PENDING (threshold, ios15)
PENDING (clip, ios15)
PENDING (clip, ios17)
PENDING (inverse, ios15)
PENDING (inverse, ios17)
PENDING (log, ios15)
PENDING (log, ios17)
PENDING (rsqrt, ios15)
PENDING (rsqrt, ios17)
PENDING (cast, ios15)
PENDING (cast, ios17)
PENDING (gelu, ios15)
PENDING (softmax, ios15)
PENDING (add, ios15)
PENDING (sub, ios15)
PENDING (mul, ios15)
PENDING (real_div, ios15)
PENDING (floor_div, ios15)
PENDING (maximum, ios15)
PENDING (minimum, ios15)
PENDING (pow, ios15)
PENDING (mod, ios15)
PENDING (equal, ios15)
PENDING (not_equal, ios15)
PENDING (less, ios15)
PENDING (less_equal, ios15)
PENDING (greater, ios15)
PENDING (greater_equal, ios15)
PENDING (abs, ios15)
PENDING (acos, ios15)
PENDING (asin, ios15)
PENDING (atan, ios15)
PENDING (atanh, ios15)
PENDING (ceil, ios15)
PENDING (cos, ios15)
PENDING (cosh, ios15)
PENDING (erf, ios15)
PENDING (exp, ios15)
PENDING (exp2, ios15)
PENDING (floor, ios15)
PENDING (round, ios15)
PENDING (sign, ios15)
PENDING (sin, ios15)
PENDING (sinh, ios15)
PENDING (sqrt, ios15)
PENDING (square, ios15)
PENDING (tan, ios15)
PENDING (tanh, ios15)
PENDING (relu, ios15)
PENDING (relu6, ios15)
PENDING (sigmoid, ios15)
PENDING (silu, ios15)
PENDING (softplus, ios15)
PENDING (softsign, ios15)
PENDING (elu, ios15)
PENDING (elu, ios17)
PENDING (leaky_relu, ios15)
PENDING (leaky_relu, ios17)
PENDING (prelu, ios15)
PENDING (prelu, ios17)
PENDING (thresholded_relu, ios15)
PENDING (thresholded_relu, ios17)
PENDING (clamped_relu, ios15)
PENDING (clamped_relu, ios17)
PENDING (linear_activation, ios15)
PENDING (linear_activation, ios17)
PENDING (scaled_tanh, ios15)
PENDING (scaled_tanh, ios17)
PENDING (sigmoid_hard, ios15)
PENDING (sigmoid_hard, ios17)
PENDING (softplus_parametric, ios15)
PENDING (softplus_parametric, ios17)
