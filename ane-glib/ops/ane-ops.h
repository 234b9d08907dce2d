/* ops/ane-ops.h: shape rules and reference kernels of every IR op
 *
 * One pair of functions per catalog row (some rows share a pair and switch on
 * ctx->op->kind). The per-op builder methods of AneGraph sit beside them.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-reference-private.h"

G_BEGIN_DECLS

#define ANE_OP_FUNCS(name) \
  gboolean ane_infer_##name (AneInferCtx *ctx, GError **error); \
  gboolean ane_ref_##name   (AneRefCtx   *ctx, GError **error)

/* ane-ops-linalg.c */
ANE_OP_FUNCS (matmul);
ANE_OP_FUNCS (lora_matmul);
ANE_OP_FUNCS (grouped_matmul);
ANE_OP_FUNCS (dequant_matmul);
ANE_OP_FUNCS (dequant_grouped_matmul);
ANE_OP_FUNCS (dequant_moe_weights);
/* ane-ops-elementwise.c */
ANE_OP_FUNCS (binary);
ANE_OP_FUNCS (unary);
ANE_OP_FUNCS (compare);
ANE_OP_FUNCS (where);
/* ane-ops-norm.c */
ANE_OP_FUNCS (softmax);
ANE_OP_FUNCS (layer_norm);
ANE_OP_FUNCS (rms_norm);
ANE_OP_FUNCS (group_norm);
ANE_OP_FUNCS (layer_norm_2d);
ANE_OP_FUNCS (batch_norm);
/* ane-ops-attention.c */
ANE_OP_FUNCS (attention);
ANE_OP_FUNCS (rope);
ANE_OP_FUNCS (axial_rope_2d);
/* ane-ops-shape.c */
ANE_OP_FUNCS (reshape);
ANE_OP_FUNCS (transpose);
ANE_OP_FUNCS (concat);
ANE_OP_FUNCS (narrow);
ANE_OP_FUNCS (gather);
ANE_OP_FUNCS (expand);
ANE_OP_FUNCS (cast);
ANE_OP_FUNCS (stop_gradient);
ANE_OP_FUNCS (slice_update);
/* ane-ops-reduce.c */
ANE_OP_FUNCS (reduce);
ANE_OP_FUNCS (cumsum);
ANE_OP_FUNCS (top_k);
ANE_OP_FUNCS (scatter_add);
/* ane-ops-quant.c */
ANE_OP_FUNCS (quantize);
ANE_OP_FUNCS (dequantize);
/* ane-ops-ssm.c */
ANE_OP_FUNCS (selective_scan);
ANE_OP_FUNCS (gated_delta_net);
/* ane-ops-vision.c */
ANE_OP_FUNCS (conv);
ANE_OP_FUNCS (conv_transpose_2d);
ANE_OP_FUNCS (pool);
ANE_OP_FUNCS (resize_nearest_2x);
/* ane-ops-state.c */
ANE_OP_FUNCS (source);
ANE_OP_FUNCS (read_state);
ANE_OP_FUNCS (write_state);
/* ane-ops-index.c */
ANE_OP_FUNCS (pad);
ANE_OP_FUNCS (gather_elements);
ANE_OP_FUNCS (arg_reduce);
/* ane-ops-loss.c */
ANE_OP_FUNCS (cross_entropy);
/* ane-ops-resize.c */
ANE_OP_FUNCS (resize);
/* The source indices (lo, hi) and the weight of hi of each of the out
 * positions of one resized axis (0: H, 1: W) under a resize node's attrs;
 * nearest gives lo = hi and weight 0. Shared by the reference kernel and
 * the lowering. */
void ane_resize_axis_table (GVariant *attrs, guint axis, gint64 in, gint64 out,
                            gint64 *lo, gint64 *hi, double *w_hi);

#undef ANE_OP_FUNCS

G_END_DECLS
