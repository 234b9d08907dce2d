/* runtime/cpu/ane-cpu-kernels-private.h: the kernel families of the MIL interpreter
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "runtime/cpu/ane-cpu-private.h"

G_BEGIN_DECLS

/* elementwise binary/unary/compare/select/cast/identity/clip (ane-cpu-k-elementwise.c) */
extern const AneCpuKernel ane_cpu_kernels_elementwise[];
/* matmul, linear, conv, conv_transpose, pools, upsample, attention (ane-cpu-k-linalg.c) */
extern const AneCpuKernel ane_cpu_kernels_linalg[];
/* reshape/transpose/concat/slices/gather/scatter/tile/pad/reductions/cumsum/topk (ane-cpu-k-shape.c) */
extern const AneCpuKernel ane_cpu_kernels_shape[];
/* softmax, layer_norm, batch_norm, instance_norm, l2_norm, activations with params (ane-cpu-k-nn.c) */
extern const AneCpuKernel ane_cpu_kernels_nn[];
/* quantize, dequantize, constexpr_*, read_state, write_state (ane-cpu-k-quant.c) */
extern const AneCpuKernel ane_cpu_kernels_quant[];

/* The kernels' compressed paths (ane-cpu-k-packed.c): linear with w->packed
 * (x [.., cols] float), matmul with a packed y (transposed), and gather on axis 0 of a packed x. */
gboolean      ane_cpu_linear_packed        (AneCpuCtx          *ctx,
                                            const AneCpuValue  *x,
                                            const AneCpuValue  *w,
                                            const AneCpuValue  *bias,
                                            AneCpuValue        *out,
                                            GError            **error);
gboolean      ane_cpu_matmul_packed        (AneCpuCtx          *ctx,
                                            const AneCpuValue  *x,
                                            const AneCpuValue  *y,
                                            AneCpuValue        *out,
                                            GError            **error);
gboolean      ane_cpu_gather_packed        (AneCpuCtx          *ctx,
                                            const AneCpuValue  *x,
                                            GError            **error);
/* A 1×1 conv (one group, stride 1, no padding: the plan checked) whose
 * weight [O, C, 1, ..] is packed as [O, C]; x [N, C, *spatial]. */
gboolean      ane_cpu_conv_packed          (AneCpuCtx          *ctx,
                                            const AneCpuValue  *x,
                                            const AneCpuValue  *w,
                                            const AneCpuValue  *bias,
                                            AneCpuValue        *out,
                                            GError            **error);

/* A conv with one input channel a group (groups == C_in, C_out = C_in ·
 * multiplier), 2 spatial dims (a 1-D conv has in_h = k_h = 1), float32,
 * x [batch, channels_in, in_h, in_w], w [channels_out, 1, k_h, k_w],
 * out [batch, channels_out, out_h, out_w]; pad_* is the padding at the
 * start (the end's follows from the output extent). Split over the output
 * planes on the pool (ane-cpu-conv-depthwise.c). */
typedef struct {
  gint64 batch, channels_in, channels_out, multiplier;
  gint64 in_h, in_w, out_h, out_w, k_h, k_w;
  gint64 s_h, s_w, d_h, d_w, pad_h, pad_w;
} AneCpuConvDepthwise;

void          ane_cpu_conv_depthwise       (const AneCpuConvDepthwise *cv,
                                            const float               *x,
                                            const float               *w,
                                            const float               *bias,
                                            float                     *out);

/* The im2col of one group of a conv padded to 3 spatial dims: x [channels,
 * *in] → col [(c, kz, ky, kx), (oz, oy, ox)], zeros where the tap falls in
 * the padding (pb: padding at the start). On the pool, over channels
 * (ane-cpu-conv-im2col.c). */
typedef struct {
  gint64 channels;
  gint64 in[3], k[3], s[3], d[3], pb[3], out[3];
} AneCpuIm2col;

void          ane_cpu_conv_im2col          (const AneCpuIm2col        *g,
                                            const float               *x,
                                            float                     *col);
/* A buffer of at least n_floats kept by the calling thread from call to
 * call (its contents undefined), or NULL when it cannot be allocated. */
float        *ane_cpu_conv_scratch         (gsize                      n_floats);

G_END_DECLS
