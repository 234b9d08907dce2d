/* mil/lower/ane-lower-pending.c: TEMPORARY weak placeholders while lowering families are written. */
#include "config.h"
#include "mil/lower/ane-lower-private.h"

__attribute__((weak)) gboolean ane_lower_matmul (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_lora_matmul (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_grouped_matmul (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_dequant_matmul (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_dequant_grouped_matmul (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_dequant_moe_weights (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_softmax (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_layer_norm (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_rms_norm (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_group_norm (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_layer_norm_2d (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_batch_norm (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_attention (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_rope (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_axial_rope_2d (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_reshape (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_transpose (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_concat (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_narrow (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_gather (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_expand (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_cast (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_stop_gradient (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_reduce (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_cumsum (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_top_k (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_scatter_add (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_quantize (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_dequantize (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_selective_scan (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_gated_delta_net (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_conv (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_conv_transpose_2d (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_pool (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
__attribute__((weak)) gboolean ane_lower_resize_nearest_2x (AneLowerCtx *ctx, GError **error) { return ane_lower_unsupported (ctx, error, "pending"); }
