/* ane-graph.h: the graph builder, one method per IR op
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "ane-types.h"
#include "ane-tensor.h"

G_BEGIN_DECLS

#define ANE_TYPE_GRAPH (ane_graph_get_type ())

ANE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AneGraph, ane_graph, ANE, GRAPH, GObject)

ANE_AVAILABLE_IN_ALL
AneGraph   *ane_graph_new              (void);

/* Generic entry point and graph-level API */
ANE_AVAILABLE_IN_ALL
GPtrArray  *ane_graph_apply            (AneGraph     *self,
                                        const char   *op,
                                        AneTensor   **inputs,
                                        guint         n_inputs,
                                        GVariant     *attrs,
                                        GError      **error);
ANE_AVAILABLE_IN_ALL
gboolean    ane_graph_add_output       (AneGraph     *self,
                                        const char   *name,
                                        AneTensor    *value,
                                        GError      **error);
ANE_AVAILABLE_IN_ALL
gboolean    ane_graph_set_name         (AneGraph     *self,
                                        AneTensor    *value,
                                        const char   *name,
                                        GError      **error);
ANE_AVAILABLE_IN_ALL
void        ane_graph_push_scope       (AneGraph     *self,
                                        const char   *scope);
ANE_AVAILABLE_IN_ALL
void        ane_graph_pop_scope        (AneGraph     *self);
ANE_AVAILABLE_IN_ALL
gboolean    ane_graph_validate         (AneGraph     *self,
                                        GError      **error);
ANE_AVAILABLE_IN_ALL
guint       ane_graph_get_n_nodes      (AneGraph     *self);
ANE_AVAILABLE_IN_ALL
GPtrArray  *ane_graph_list_inputs      (AneGraph     *self);
ANE_AVAILABLE_IN_ALL
GPtrArray  *ane_graph_list_params      (AneGraph     *self);
ANE_AVAILABLE_IN_ALL
GPtrArray  *ane_graph_list_states      (AneGraph     *self);
ANE_AVAILABLE_IN_ALL
GPtrArray  *ane_graph_list_outputs     (AneGraph     *self);
ANE_AVAILABLE_IN_ALL
GHashTable *ane_graph_op_histogram     (AneGraph     *self);
ANE_AVAILABLE_IN_ALL
gboolean    ane_graph_bind_param       (AneGraph     *self,
                                        const char   *name,
                                        AneTensor    *value,
                                        GError      **error);
ANE_AVAILABLE_IN_ALL
char      **ane_graph_list_ops         (void);

/* Serialization (ane-graph-io.c) */
ANE_AVAILABLE_IN_ALL
gboolean    ane_graph_save             (AneGraph     *self,
                                        const char   *json_path,
                                        GError      **error);
ANE_AVAILABLE_IN_ALL
AneGraph   *ane_graph_load             (const char   *json_path,
                                        GError      **error);
ANE_AVAILABLE_IN_ALL
AneGraph   *ane_graph_load_full        (const char        *json_path,
                                        AneGraphLoadFlags  flags,
                                        GError           **error);
ANE_AVAILABLE_IN_ALL
char       *ane_graph_to_json          (AneGraph     *self,
                                        const char   *weights_file,
                                        GError      **error);
ANE_AVAILABLE_IN_ALL
AneGraph   *ane_graph_new_from_json    (const char   *json,
                                        const char   *weights_path,
                                        GError      **error);

/* Sources */
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_input   (AneGraph *self, const char *name, AneDType dtype,
                              const gint64 *shape, guint rank, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_param   (AneGraph *self, const char *name, AneDType dtype,
                              const gint64 *shape, guint rank, GError **error);
ANE_AVAILABLE_IN_0_2
AneTensor *ane_graph_param_dynamic (AneGraph *self, const char *name, AneDType dtype,
                                    const gint64 *shape, guint rank, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_param_with_value (AneGraph *self, AneTensor *value, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_const   (AneGraph *self, AneTensor *value, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_scalar  (AneGraph *self, AneDType dtype, double value, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_state   (AneGraph *self, const char *name, AneDType dtype,
                              const gint64 *shape, guint rank, GError **error);

/* Reverse-mode differentiation (grad/ane-grad.c) */
ANE_AVAILABLE_IN_0_2
AneGraph  *ane_graph_gradients        (AneGraph *self, const char *loss, const char * const *wrt,
                                       GError **error);

/* Flexible input shapes (Core ML's RangeDim and EnumeratedShapes) */
ANE_AVAILABLE_IN_0_2
gboolean   ane_graph_set_input_range  (AneGraph *self, const char *input, guint axis,
                                       gint64 lower, gint64 upper, GError **error);
ANE_AVAILABLE_IN_0_2
gboolean   ane_graph_set_input_shapes (AneGraph *self, const char *input, const gint64 *shapes,
                                       gsize n_values, GError **error);

/* Linear algebra */
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_matmul  (AneGraph *self, AneTensor *a, AneTensor *b,
                              gboolean transpose_a, gboolean transpose_b, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_lora_matmul (AneGraph *self, AneTensor *x, AneTensor *w,
                                  AneTensor *lora_a, AneTensor *lora_b, double scale,
                                  GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_grouped_matmul (AneGraph *self, AneTensor *x, AneTensor *experts,
                                     AneTensor *expert_ids, gboolean transpose_b,
                                     GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_dequant_matmul (AneGraph *self, AneTensor *x, AneTensor *weight,
                                     GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_dequant_grouped_matmul (AneGraph *self, AneTensor *x, AneTensor *experts,
                                             AneTensor *expert_ids, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_dequant_moe_weights (AneGraph *self, AneTensor *experts,
                                          AneDType dtype, GError **error);

/* Elementwise binary (numpy broadcasting) */
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_add     (AneGraph *self, AneTensor *a, AneTensor *b, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_sub     (AneGraph *self, AneTensor *a, AneTensor *b, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_mul     (AneGraph *self, AneTensor *a, AneTensor *b, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_div     (AneGraph *self, AneTensor *a, AneTensor *b, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_maximum (AneGraph *self, AneTensor *a, AneTensor *b, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_minimum (AneGraph *self, AneTensor *a, AneTensor *b, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_pow     (AneGraph *self, AneTensor *a, AneTensor *b, GError **error);

/* Elementwise unary */
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_relu    (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_sigmoid (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_tanh    (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_gelu    (AneGraph *self, AneTensor *x, AneGeluApproximation approximation,
                              GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_silu    (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_exp     (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_log     (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_sqrt    (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_rsqrt   (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_abs     (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_neg     (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_sin     (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_cos     (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_tan     (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_atan    (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_round   (AneGraph *self, AneTensor *x, GError **error);

/* Comparison and selection */
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_eq      (AneGraph *self, AneTensor *a, AneTensor *b, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_ne      (AneGraph *self, AneTensor *a, AneTensor *b, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_lt      (AneGraph *self, AneTensor *a, AneTensor *b, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_le      (AneGraph *self, AneTensor *a, AneTensor *b, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_gt      (AneGraph *self, AneTensor *a, AneTensor *b, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_ge      (AneGraph *self, AneTensor *a, AneTensor *b, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_where   (AneGraph *self, AneTensor *cond, AneTensor *a, AneTensor *b,
                              GError **error);

/* Normalization */
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_softmax (AneGraph *self, AneTensor *x, int axis, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_layer_norm (AneGraph *self, AneTensor *x, AneTensor *gamma, AneTensor *beta,
                                 const gint64 *axes, guint n_axes, double eps, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_rms_norm (AneGraph *self, AneTensor *x, AneTensor *weight, double eps,
                               GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_group_norm (AneGraph *self, AneTensor *x, AneTensor *gamma, AneTensor *beta,
                                 gint64 groups, double eps, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_layer_norm_2d (AneGraph *self, AneTensor *x, AneTensor *gamma,
                                    AneTensor *beta, double eps, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_batch_norm (AneGraph *self, AneTensor *x, AneTensor *mean,
                                 AneTensor *variance, AneTensor *gamma, AneTensor *beta,
                                 double eps, GError **error);

/* Attention and positions */
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_attention (AneGraph *self, AneTensor *q, AneTensor *k, AneTensor *v,
                                AneTensor *bias, gboolean causal, double scale,
                                double softcap, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_rope    (AneGraph *self, AneTensor *x, AneTensor *positions,
                              AneRopeMode mode, double theta, gint64 n_rot, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_axial_rope_2d (AneGraph *self, AneTensor *x, gint64 end_x, gint64 end_y,
                                    double theta, GError **error);

/* Shape */
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_reshape (AneGraph *self, AneTensor *x, const gint64 *shape, guint rank,
                              GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_transpose (AneGraph *self, AneTensor *x, const gint64 *perm, guint rank,
                                GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_concat  (AneGraph *self, AneTensor **values, guint n_values, int axis,
                              GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_narrow  (AneGraph *self, AneTensor *x, int axis, gint64 start,
                              gint64 length, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_gather  (AneGraph *self, AneTensor *x, AneTensor *indices, int axis,
                              GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_expand  (AneGraph *self, AneTensor *x, const gint64 *shape, guint rank,
                              GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_cast    (AneGraph *self, AneTensor *x, AneDType dtype, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_stop_gradient (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_slice_update (AneGraph *self, AneTensor *x, AneTensor *update, AneTensor *begin,
                                   GError **error);

/* Reductions and scans */
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_reduce_sum  (AneGraph *self, AneTensor *x, const gint64 *axes, guint n_axes,
                                  gboolean keepdims, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_reduce_mean (AneGraph *self, AneTensor *x, const gint64 *axes, guint n_axes,
                                  gboolean keepdims, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_reduce_max  (AneGraph *self, AneTensor *x, const gint64 *axes, guint n_axes,
                                  gboolean keepdims, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_reduce_min  (AneGraph *self, AneTensor *x, const gint64 *axes, guint n_axes,
                                  gboolean keepdims, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_reduce_prod (AneGraph *self, AneTensor *x, const gint64 *axes, guint n_axes,
                                  gboolean keepdims, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_cumsum  (AneGraph *self, AneTensor *x, int axis, gboolean exclusive,
                              gboolean reverse, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_top_k   (AneGraph *self, AneTensor *x, gint64 k, int axis,
                              AneTensor **indices, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_scatter_add (AneGraph *self, AneTensor *x, AneTensor *indices,
                                  AneTensor *updates, int axis, GError **error);

/* Ops ONNX import needs (ops/ane-ops-index.c) */
ANE_AVAILABLE_IN_0_2
AneTensor *ane_graph_erf     (AneGraph *self, AneTensor *x, GError **error);
ANE_AVAILABLE_IN_0_2
AneTensor *ane_graph_pad     (AneGraph *self, AneTensor *x, const gint64 *pads, guint n_pads,
                              const char *mode, double value, GError **error);
ANE_AVAILABLE_IN_0_2
AneTensor *ane_graph_gather_elements (AneGraph *self, AneTensor *x, AneTensor *indices, int axis,
                                      GError **error);
ANE_AVAILABLE_IN_0_2
AneTensor *ane_graph_argmax  (AneGraph *self, AneTensor *x, int axis, gboolean keepdims,
                              GError **error);
ANE_AVAILABLE_IN_0_2
AneTensor *ane_graph_argmin  (AneGraph *self, AneTensor *x, int axis, gboolean keepdims,
                              GError **error);
ANE_AVAILABLE_IN_0_2
AneTensor *ane_graph_resize  (AneGraph *self, AneTensor *x, gint64 height, gint64 width,
                              double scale_h, double scale_w, const char *mode,
                              const char *coordinate_mode, const char *nearest_mode, GError **error);

/* Losses (ops/ane-ops-loss.c) */
ANE_AVAILABLE_IN_0_2
AneTensor *ane_graph_cross_entropy (AneGraph *self, AneTensor *logits, AneTensor *targets,
                                    gint64 ignore_index, GError **error);

/* Quantization */
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_quantize   (AneGraph *self, AneTensor *x, AneTensor *scale,
                                 AneTensor *zero_point, int axis, AneDType dtype,
                                 GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_dequantize (AneGraph *self, AneTensor *q, AneTensor *scale,
                                 AneTensor *zero_point, int axis, AneDType dtype,
                                 GError **error);

/* State-space models */
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_selective_scan (AneGraph *self, AneTensor *u, AneTensor *delta,
                                     AneTensor *a, AneTensor *b, AneTensor *c,
                                     AneTensor *d, AneTensor *z, AneTensor *delta_bias,
                                     gboolean delta_softplus, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_gated_delta_net (AneGraph *self, AneTensor *q, AneTensor *k, AneTensor *v,
                                      AneTensor *g, AneTensor *beta, AneTensor *initial_state,
                                      double scale, gboolean qk_l2norm,
                                      AneTensor **final_state, GError **error);

/* Vision (NCHW) */
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_conv    (AneGraph *self, AneTensor *x, AneTensor *weight, AneTensor *bias,
                              const gint64 *strides, guint n_strides,
                              const gint64 *pads, guint n_pads,
                              const gint64 *dilations, guint n_dilations,
                              gint64 groups, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_conv_transpose_2d (AneGraph *self, AneTensor *x, AneTensor *weight,
                                        AneTensor *bias,
                                        const gint64 *strides, guint n_strides,
                                        const gint64 *pads, guint n_pads,
                                        const gint64 *dilations, guint n_dilations,
                                        const gint64 *output_padding, guint n_output_padding,
                                        gint64 groups, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_pool    (AneGraph *self, AneTensor *x, AnePoolKind kind,
                              const gint64 *kernel, guint n_kernel,
                              const gint64 *strides, guint n_strides,
                              const gint64 *pads, guint n_pads,
                              gboolean count_include_pad, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_resize_nearest_2x (AneGraph *self, AneTensor *x, GError **error);

/* State */
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_read_state  (AneGraph *self, AneTensor *state, GError **error);
ANE_AVAILABLE_IN_ALL
AneTensor *ane_graph_write_state (AneGraph *self, AneTensor *state, AneTensor *value,
                                  GError **error);

G_END_DECLS
