/* ops/ane-ops-pending.c: TEMPORARY weak placeholders while op families are written.
 * Deleted before the foundation lands. */
#include "config.h"
#include "ops/ane-ops.h"

__attribute__((weak)) gboolean ane_infer_matmul (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_matmul (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_lora_matmul (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_lora_matmul (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_grouped_matmul (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_grouped_matmul (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_dequant_matmul (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_dequant_matmul (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_dequant_grouped_matmul (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_dequant_grouped_matmul (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_dequant_moe_weights (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_dequant_moe_weights (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_softmax (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_softmax (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_layer_norm (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_layer_norm (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_rms_norm (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_rms_norm (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_group_norm (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_group_norm (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_layer_norm_2d (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_layer_norm_2d (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_batch_norm (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_batch_norm (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_attention (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_attention (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_rope (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_rope (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_axial_rope_2d (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_axial_rope_2d (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_reshape (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_reshape (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_transpose (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_transpose (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_concat (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_concat (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_narrow (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_narrow (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_gather (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_gather (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_expand (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_expand (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_cast (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_cast (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_stop_gradient (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_stop_gradient (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_reduce (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_reduce (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_cumsum (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_cumsum (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_top_k (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_top_k (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_scatter_add (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_scatter_add (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_quantize (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_quantize (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_dequantize (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_dequantize (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_selective_scan (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_selective_scan (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_gated_delta_net (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_gated_delta_net (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_conv (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_conv (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_conv_transpose_2d (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_conv_transpose_2d (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_pool (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_pool (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_infer_resize_nearest_2x (AneInferCtx *ctx, GError **error) { ane_infer_error (ctx, error, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) gboolean ane_ref_resize_nearest_2x (AneRefCtx *ctx, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return FALSE; }
__attribute__((weak)) AneTensor *ane_graph_matmul  (AneGraph *self, AneTensor *a, AneTensor *b,
                              gboolean transpose_a, gboolean transpose_b, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_lora_matmul (AneGraph *self, AneTensor *x, AneTensor *w,
                                  AneTensor *lora_a, AneTensor *lora_b, double scale,
                                  GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_grouped_matmul (AneGraph *self, AneTensor *x, AneTensor *experts,
                                     AneTensor *expert_ids, gboolean transpose_b,
                                     GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_dequant_matmul (AneGraph *self, AneTensor *x, AneTensor *weight,
                                     GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_dequant_grouped_matmul (AneGraph *self, AneTensor *x, AneTensor *experts,
                                             AneTensor *expert_ids, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_dequant_moe_weights (AneGraph *self, AneTensor *experts,
                                          AneDType dtype, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_softmax (AneGraph *self, AneTensor *x, int axis, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_layer_norm (AneGraph *self, AneTensor *x, AneTensor *gamma, AneTensor *beta,
                                 const gint64 *axes, guint n_axes, double eps, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_rms_norm (AneGraph *self, AneTensor *x, AneTensor *weight, double eps,
                               GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_group_norm (AneGraph *self, AneTensor *x, AneTensor *gamma, AneTensor *beta,
                                 gint64 groups, double eps, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_layer_norm_2d (AneGraph *self, AneTensor *x, AneTensor *gamma,
                                    AneTensor *beta, double eps, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_batch_norm (AneGraph *self, AneTensor *x, AneTensor *mean,
                                 AneTensor *variance, AneTensor *gamma, AneTensor *beta,
                                 double eps, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_attention (AneGraph *self, AneTensor *q, AneTensor *k, AneTensor *v,
                                AneTensor *bias, gboolean causal, double scale,
                                double softcap, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_rope    (AneGraph *self, AneTensor *x, AneTensor *positions,
                              AneRopeMode mode, double theta, gint64 n_rot, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_axial_rope_2d (AneGraph *self, AneTensor *x, gint64 end_x, gint64 end_y,
                                    double theta, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_reshape (AneGraph *self, AneTensor *x, const gint64 *shape, guint rank,
                              GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_transpose (AneGraph *self, AneTensor *x, const gint64 *perm, guint rank,
                                GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_concat  (AneGraph *self, AneTensor **values, guint n_values, int axis,
                              GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_narrow  (AneGraph *self, AneTensor *x, int axis, gint64 start,
                              gint64 length, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_gather  (AneGraph *self, AneTensor *x, AneTensor *indices, int axis,
                              GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_expand  (AneGraph *self, AneTensor *x, const gint64 *shape, guint rank,
                              GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_cast    (AneGraph *self, AneTensor *x, AneDType dtype, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_stop_gradient (AneGraph *self, AneTensor *x, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_reduce_sum  (AneGraph *self, AneTensor *x, const gint64 *axes, guint n_axes,
                                  gboolean keepdims, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_reduce_mean (AneGraph *self, AneTensor *x, const gint64 *axes, guint n_axes,
                                  gboolean keepdims, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_reduce_max  (AneGraph *self, AneTensor *x, const gint64 *axes, guint n_axes,
                                  gboolean keepdims, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_reduce_min  (AneGraph *self, AneTensor *x, const gint64 *axes, guint n_axes,
                                  gboolean keepdims, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_reduce_prod (AneGraph *self, AneTensor *x, const gint64 *axes, guint n_axes,
                                  gboolean keepdims, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_cumsum  (AneGraph *self, AneTensor *x, int axis, gboolean exclusive,
                              gboolean reverse, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_top_k   (AneGraph *self, AneTensor *x, gint64 k, int axis,
                              AneTensor **indices, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_scatter_add (AneGraph *self, AneTensor *x, AneTensor *indices,
                                  AneTensor *updates, int axis, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_quantize   (AneGraph *self, AneTensor *x, AneTensor *scale,
                                 AneTensor *zero_point, int axis, AneDType dtype,
                                 GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_dequantize (AneGraph *self, AneTensor *q, AneTensor *scale,
                                 AneTensor *zero_point, int axis, AneDType dtype,
                                 GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_selective_scan (AneGraph *self, AneTensor *u, AneTensor *delta,
                                     AneTensor *a, AneTensor *b, AneTensor *c,
                                     AneTensor *d, AneTensor *z, AneTensor *delta_bias,
                                     gboolean delta_softplus, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_gated_delta_net (AneGraph *self, AneTensor *q, AneTensor *k, AneTensor *v,
                                      AneTensor *g, AneTensor *beta, AneTensor *initial_state,
                                      double scale, gboolean qk_l2norm,
                                      AneTensor **final_state, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_conv    (AneGraph *self, AneTensor *x, AneTensor *weight, AneTensor *bias,
                              const gint64 *strides, guint n_strides,
                              const gint64 *pads, guint n_pads,
                              const gint64 *dilations, guint n_dilations,
                              gint64 groups, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_conv_transpose_2d (AneGraph *self, AneTensor *x, AneTensor *weight,
                                        AneTensor *bias,
                                        const gint64 *strides, guint n_strides,
                                        const gint64 *pads, guint n_pads,
                                        const gint64 *dilations, guint n_dilations,
                                        const gint64 *output_padding, guint n_output_padding,
                                        gint64 groups, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_pool    (AneGraph *self, AneTensor *x, AnePoolKind kind,
                              const gint64 *kernel, guint n_kernel,
                              const gint64 *strides, guint n_strides,
                              const gint64 *pads, guint n_pads,
                              gboolean count_include_pad, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
__attribute__((weak)) AneTensor *ane_graph_resize_nearest_2x (AneGraph *self, AneTensor *x, GError **error) { g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "pending"); return NULL; }
