/* mil/infer/ane-mil-infer-rules-private.h: one type-inference rule per op signature row
 *
 * Row (op, first target) of ane-mil-opdefs.c names its rule
 * ane_mil_infer_<op>_<first target>; each is written from the type_inference
 * of the coremltools op class of that row's source, in the file of its family
 * below. A row whose class inherits its type_inference may share the code of
 * the older row, but keeps its own name so the table reads one-to-one.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "mil/ane-mil-infer-private.h"
#include "mil/ane-mil-text-private.h"   /* dtype names, float/signed tests */

G_BEGIN_DECLS

#define ANE_MIL_INFER_RULE(op, first) \
  gboolean ane_mil_infer_##op##_##first (AneMilInferCall *call, GError **error)

/* ane-mil-infer-elementwise.c: iOS15/elementwise_binary.py, elementwise_unary.py, activation.py; iOS17/elementwise_unary.py, activation.py */
ANE_MIL_INFER_RULE (logical_and, ios15);
ANE_MIL_INFER_RULE (logical_or, ios15);
ANE_MIL_INFER_RULE (logical_xor, ios15);
ANE_MIL_INFER_RULE (logical_not, ios15);
ANE_MIL_INFER_RULE (threshold, ios15);
ANE_MIL_INFER_RULE (clip, ios15);
ANE_MIL_INFER_RULE (clip, ios17);
ANE_MIL_INFER_RULE (inverse, ios15);
ANE_MIL_INFER_RULE (inverse, ios17);
ANE_MIL_INFER_RULE (log, ios15);
ANE_MIL_INFER_RULE (log, ios17);
ANE_MIL_INFER_RULE (rsqrt, ios15);
ANE_MIL_INFER_RULE (rsqrt, ios17);
ANE_MIL_INFER_RULE (cast, ios15);
ANE_MIL_INFER_RULE (cast, ios17);
ANE_MIL_INFER_RULE (gelu, ios15);
ANE_MIL_INFER_RULE (softmax, ios15);
ANE_MIL_INFER_RULE (add, ios15);
ANE_MIL_INFER_RULE (sub, ios15);
ANE_MIL_INFER_RULE (mul, ios15);
ANE_MIL_INFER_RULE (real_div, ios15);
ANE_MIL_INFER_RULE (floor_div, ios15);
ANE_MIL_INFER_RULE (maximum, ios15);
ANE_MIL_INFER_RULE (minimum, ios15);
ANE_MIL_INFER_RULE (pow, ios15);
ANE_MIL_INFER_RULE (mod, ios15);
ANE_MIL_INFER_RULE (equal, ios15);
ANE_MIL_INFER_RULE (not_equal, ios15);
ANE_MIL_INFER_RULE (less, ios15);
ANE_MIL_INFER_RULE (less_equal, ios15);
ANE_MIL_INFER_RULE (greater, ios15);
ANE_MIL_INFER_RULE (greater_equal, ios15);
ANE_MIL_INFER_RULE (abs, ios15);
ANE_MIL_INFER_RULE (acos, ios15);
ANE_MIL_INFER_RULE (asin, ios15);
ANE_MIL_INFER_RULE (atan, ios15);
ANE_MIL_INFER_RULE (atanh, ios15);
ANE_MIL_INFER_RULE (ceil, ios15);
ANE_MIL_INFER_RULE (cos, ios15);
ANE_MIL_INFER_RULE (cosh, ios15);
ANE_MIL_INFER_RULE (erf, ios15);
ANE_MIL_INFER_RULE (exp, ios15);
ANE_MIL_INFER_RULE (exp2, ios15);
ANE_MIL_INFER_RULE (floor, ios15);
ANE_MIL_INFER_RULE (round, ios15);
ANE_MIL_INFER_RULE (sign, ios15);
ANE_MIL_INFER_RULE (sin, ios15);
ANE_MIL_INFER_RULE (sinh, ios15);
ANE_MIL_INFER_RULE (sqrt, ios15);
ANE_MIL_INFER_RULE (square, ios15);
ANE_MIL_INFER_RULE (tan, ios15);
ANE_MIL_INFER_RULE (tanh, ios15);
ANE_MIL_INFER_RULE (relu, ios15);
ANE_MIL_INFER_RULE (relu6, ios15);
ANE_MIL_INFER_RULE (sigmoid, ios15);
ANE_MIL_INFER_RULE (silu, ios15);
ANE_MIL_INFER_RULE (softplus, ios15);
ANE_MIL_INFER_RULE (softsign, ios15);
ANE_MIL_INFER_RULE (elu, ios15);
ANE_MIL_INFER_RULE (elu, ios17);
ANE_MIL_INFER_RULE (leaky_relu, ios15);
ANE_MIL_INFER_RULE (leaky_relu, ios17);
ANE_MIL_INFER_RULE (prelu, ios15);
ANE_MIL_INFER_RULE (prelu, ios17);
ANE_MIL_INFER_RULE (thresholded_relu, ios15);
ANE_MIL_INFER_RULE (thresholded_relu, ios17);
ANE_MIL_INFER_RULE (clamped_relu, ios15);
ANE_MIL_INFER_RULE (clamped_relu, ios17);
ANE_MIL_INFER_RULE (linear_activation, ios15);
ANE_MIL_INFER_RULE (linear_activation, ios17);
ANE_MIL_INFER_RULE (scaled_tanh, ios15);
ANE_MIL_INFER_RULE (scaled_tanh, ios17);
ANE_MIL_INFER_RULE (sigmoid_hard, ios15);
ANE_MIL_INFER_RULE (sigmoid_hard, ios17);
ANE_MIL_INFER_RULE (softplus_parametric, ios15);
ANE_MIL_INFER_RULE (softplus_parametric, ios17);

/* ane-mil-infer-linalg.c: iOS15/linear.py, normalization.py, conv.py, pool.py, image_resizing.py; iOS17/linear.py, normalization.py, conv.py */
ANE_MIL_INFER_RULE (linear, ios15);
ANE_MIL_INFER_RULE (linear, ios17);
ANE_MIL_INFER_RULE (matmul, ios15);
ANE_MIL_INFER_RULE (matmul, ios17);
ANE_MIL_INFER_RULE (einsum, ios15);
ANE_MIL_INFER_RULE (batch_norm, ios15);
ANE_MIL_INFER_RULE (batch_norm, ios17);
ANE_MIL_INFER_RULE (instance_norm, ios15);
ANE_MIL_INFER_RULE (instance_norm, ios17);
ANE_MIL_INFER_RULE (l2_norm, ios15);
ANE_MIL_INFER_RULE (l2_norm, ios17);
ANE_MIL_INFER_RULE (layer_norm, ios15);
ANE_MIL_INFER_RULE (layer_norm, ios17);
ANE_MIL_INFER_RULE (local_response_norm, ios15);
ANE_MIL_INFER_RULE (local_response_norm, ios17);
ANE_MIL_INFER_RULE (conv, ios15);
ANE_MIL_INFER_RULE (conv, ios17);
ANE_MIL_INFER_RULE (conv_transpose, ios15);
ANE_MIL_INFER_RULE (conv_transpose, ios17);
ANE_MIL_INFER_RULE (avg_pool, ios15);
ANE_MIL_INFER_RULE (max_pool, ios15);
ANE_MIL_INFER_RULE (l2_pool, ios15);
ANE_MIL_INFER_RULE (upsample_nearest_neighbor, ios15);

/* ane-mil-infer-reduce.c: iOS15/reduction.py, scatter_gather.py, tensor_operation.py (argsort, topk, cumsum); iOS16/scatter_gather.py, tensor_operation.py (topk); iOS17/reduction.py, scatter_gather.py, tensor_operation.py (topk) */
ANE_MIL_INFER_RULE (gather, ios15);
ANE_MIL_INFER_RULE (gather, ios16);
ANE_MIL_INFER_RULE (gather, ios17);
ANE_MIL_INFER_RULE (gather_along_axis, ios15);
ANE_MIL_INFER_RULE (gather_along_axis, ios16);
ANE_MIL_INFER_RULE (gather_along_axis, ios17);
ANE_MIL_INFER_RULE (gather_nd, ios15);
ANE_MIL_INFER_RULE (gather_nd, ios16);
ANE_MIL_INFER_RULE (gather_nd, ios17);
ANE_MIL_INFER_RULE (scatter, ios15);
ANE_MIL_INFER_RULE (scatter, ios17);
ANE_MIL_INFER_RULE (scatter_along_axis, ios15);
ANE_MIL_INFER_RULE (scatter_along_axis, ios17);
ANE_MIL_INFER_RULE (scatter_nd, ios15);
ANE_MIL_INFER_RULE (scatter_nd, ios17);
ANE_MIL_INFER_RULE (argsort, ios15);
ANE_MIL_INFER_RULE (cumsum, ios15);
ANE_MIL_INFER_RULE (topk, ios15);
ANE_MIL_INFER_RULE (topk, ios16);
ANE_MIL_INFER_RULE (topk, ios17);
ANE_MIL_INFER_RULE (reduce_argmax, ios15);
ANE_MIL_INFER_RULE (reduce_argmax, ios17);
ANE_MIL_INFER_RULE (reduce_argmin, ios15);
ANE_MIL_INFER_RULE (reduce_argmin, ios17);
ANE_MIL_INFER_RULE (reduce_l1_norm, ios15);
ANE_MIL_INFER_RULE (reduce_l2_norm, ios15);
ANE_MIL_INFER_RULE (reduce_log_sum, ios15);
ANE_MIL_INFER_RULE (reduce_log_sum_exp, ios15);
ANE_MIL_INFER_RULE (reduce_max, ios15);
ANE_MIL_INFER_RULE (reduce_mean, ios15);
ANE_MIL_INFER_RULE (reduce_min, ios15);
ANE_MIL_INFER_RULE (reduce_prod, ios15);
ANE_MIL_INFER_RULE (reduce_sum, ios15);
ANE_MIL_INFER_RULE (reduce_sum_square, ios15);

/* ane-mil-infer-tensor.c: iOS15/tensor_operation.py; iOS16/tensor_operation.py (fill_like); iOS17/tensor_operation.py (non_maximum_suppression) */
ANE_MIL_INFER_RULE (band_part, ios15);
ANE_MIL_INFER_RULE (concat, ios15);
ANE_MIL_INFER_RULE (fill, ios15);
ANE_MIL_INFER_RULE (fill_like, ios16);
ANE_MIL_INFER_RULE (flatten2d, ios15);
ANE_MIL_INFER_RULE (identity, ios15);
ANE_MIL_INFER_RULE (non_maximum_suppression, ios15);
ANE_MIL_INFER_RULE (non_maximum_suppression, ios17);
ANE_MIL_INFER_RULE (non_zero, ios15);
ANE_MIL_INFER_RULE (one_hot, ios15);
ANE_MIL_INFER_RULE (pad, ios15);
ANE_MIL_INFER_RULE (range_1d, ios15);
ANE_MIL_INFER_RULE (shape, ios15);
ANE_MIL_INFER_RULE (split, ios15);
ANE_MIL_INFER_RULE (stack, ios15);
ANE_MIL_INFER_RULE (tile, ios15);

/* ane-mil-infer-transform.c: iOS15/tensor_transformation.py; iOS17/tensor_transformation.py; iOS18/tensor_transformation.py */
ANE_MIL_INFER_RULE (depth_to_space, ios15);
ANE_MIL_INFER_RULE (space_to_depth, ios15);
ANE_MIL_INFER_RULE (pixel_shuffle, ios15);
ANE_MIL_INFER_RULE (expand_dims, ios15);
ANE_MIL_INFER_RULE (expand_dims, ios17);
ANE_MIL_INFER_RULE (reshape, ios15);
ANE_MIL_INFER_RULE (reshape, ios17);
ANE_MIL_INFER_RULE (reverse, ios15);
ANE_MIL_INFER_RULE (reverse, ios17);
ANE_MIL_INFER_RULE (reverse_sequence, ios15);
ANE_MIL_INFER_RULE (reverse_sequence, ios17);
ANE_MIL_INFER_RULE (slice_by_index, ios15);
ANE_MIL_INFER_RULE (slice_by_index, ios17);
ANE_MIL_INFER_RULE (slice_by_size, ios15);
ANE_MIL_INFER_RULE (slice_by_size, ios17);
ANE_MIL_INFER_RULE (slice_update, ios18);
ANE_MIL_INFER_RULE (sliding_windows, ios15);
ANE_MIL_INFER_RULE (sliding_windows, ios17);
ANE_MIL_INFER_RULE (squeeze, ios15);
ANE_MIL_INFER_RULE (squeeze, ios17);
ANE_MIL_INFER_RULE (transpose, ios15);
ANE_MIL_INFER_RULE (transpose, ios17);

/* ane-mil-infer-misc.c: iOS15/control_flow.py; iOS16/constexpr_ops.py; iOS17/quantization_ops.py; iOS18/compression.py, states.py, transformers.py; coreml_dialect/ops.py */
ANE_MIL_INFER_RULE (const, ios15);
ANE_MIL_INFER_RULE (select, ios15);
ANE_MIL_INFER_RULE (cond, ios15);
ANE_MIL_INFER_RULE (while_loop, ios15);
ANE_MIL_INFER_RULE (constexpr_affine_dequantize, ios16);
ANE_MIL_INFER_RULE (constexpr_cast, ios16);
ANE_MIL_INFER_RULE (constexpr_cast, ios18);
ANE_MIL_INFER_RULE (constexpr_lut_to_dense, ios16);
ANE_MIL_INFER_RULE (constexpr_lut_to_dense, ios18);
ANE_MIL_INFER_RULE (constexpr_sparse_to_dense, ios16);
ANE_MIL_INFER_RULE (constexpr_sparse_to_dense, ios18);
ANE_MIL_INFER_RULE (constexpr_blockwise_shift_scale, ios18);
ANE_MIL_INFER_RULE (constexpr_lut_to_sparse, ios18);
ANE_MIL_INFER_RULE (constexpr_sparse_blockwise_shift_scale, ios18);
ANE_MIL_INFER_RULE (quantize, ios17);
ANE_MIL_INFER_RULE (dequantize, ios17);
ANE_MIL_INFER_RULE (scaled_dot_product_attention, ios18);
ANE_MIL_INFER_RULE (read_state, ios18);
ANE_MIL_INFER_RULE (write_state, ios18);
ANE_MIL_INFER_RULE (coreml_update_state, ios18);

G_END_DECLS
