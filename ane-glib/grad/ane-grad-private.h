/* grad/ane-grad-private.h: reverse-mode differentiation over AneGraph
 *
 * The op catalog's gradient column (AneOpInfo.gradient): one vector-
 * Jacobian rule per differentiable op. A rule is given the forward node's
 * inputs and outputs (values of the gradient graph, which holds the whole
 * forward graph) and the gradient of the loss with respect to each output,
 * and builds, with the ordinary graph builders, the gradient with respect
 * to each input it is asked for. The gradient graph is then an AneGraph
 * like any other: it lowers, runs on every backend and is checked the same
 * way (ane-grad.c drives the rules; grad/ane-grad-rules.c holds them).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-graph-private.h"

G_BEGIN_DECLS

#define ANE_GRAD_MAX_INPUTS 8

struct _AneGradCtx
{
  AneGraph      *graph;                       /* the gradient graph being built */
  const AneNode *node;                        /* the forward node, in graph */
  guint          n_inputs;
  AneTensor     *in[ANE_GRAD_MAX_INPUTS];     /* its inputs (NULL: an absent optional input) */
  AneTensor     *out[ANE_MAX_OUTPUTS];        /* its outputs */
  AneTensor     *dout[ANE_MAX_OUTPUTS];       /* d loss / d output (NULL: zero) */
  gboolean       wants[ANE_GRAD_MAX_INPUTS];  /* whether d loss / d input is needed */
  AneTensor     *din[ANE_GRAD_MAX_INPUTS];    /* set by the rule (new references; NULL: none) */
};

/* The gradient with respect to a value of shape target from one of the
 * broadcast result's shape: summed over the axes broadcasting added or
 * stretched, then reshaped (a new reference). */
AneTensor *ane_grad_unbroadcast (AneGradCtx     *ctx,
                                 AneTensor      *g,
                                 AneTensor      *target,
                                 GError        **error);
/* A scalar constant of like's dtype. */
AneTensor *ane_grad_scalar      (AneGradCtx     *ctx,
                                 AneTensor      *like,
                                 double          value,
                                 GError        **error);
/* A tensor of value with like's dtype and shape. */
AneTensor *ane_grad_fill        (AneGradCtx     *ctx,
                                 AneTensor      *like,
                                 double          value,
                                 GError        **error);

/* The rules (grad/ane-grad-rules.c), named in the catalog. */
gboolean ane_grad_binary        (AneGradCtx *ctx, GError **error);
gboolean ane_grad_unary         (AneGradCtx *ctx, GError **error);
gboolean ane_grad_matmul        (AneGradCtx *ctx, GError **error);
gboolean ane_grad_softmax       (AneGradCtx *ctx, GError **error);
gboolean ane_grad_rms_norm      (AneGradCtx *ctx, GError **error);
gboolean ane_grad_reduce        (AneGradCtx *ctx, GError **error);
gboolean ane_grad_reshape       (AneGradCtx *ctx, GError **error);
gboolean ane_grad_transpose     (AneGradCtx *ctx, GError **error);
gboolean ane_grad_concat        (AneGradCtx *ctx, GError **error);
gboolean ane_grad_narrow        (AneGradCtx *ctx, GError **error);
gboolean ane_grad_expand        (AneGradCtx *ctx, GError **error);
gboolean ane_grad_cast          (AneGradCtx *ctx, GError **error);
gboolean ane_grad_stop_gradient (AneGradCtx *ctx, GError **error);
gboolean ane_grad_where         (AneGradCtx *ctx, GError **error);
gboolean ane_grad_gather        (AneGradCtx *ctx, GError **error);
gboolean ane_grad_rope          (AneGradCtx *ctx, GError **error);
gboolean ane_grad_layer_norm    (AneGradCtx *ctx, GError **error);
gboolean ane_grad_group_norm    (AneGradCtx *ctx, GError **error);
gboolean ane_grad_lora_matmul   (AneGradCtx *ctx, GError **error);
gboolean ane_grad_attention     (AneGradCtx *ctx, GError **error);
/* grad/ane-grad-rules-loss.c */
gboolean ane_grad_cross_entropy (AneGradCtx *ctx, GError **error);

/* The vision rules (grad/ane-grad-rules-vision.c). */
gboolean ane_grad_conv          (AneGradCtx *ctx, GError **error);
gboolean ane_grad_pool          (AneGradCtx *ctx, GError **error);

G_END_DECLS
