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

G_END_DECLS
