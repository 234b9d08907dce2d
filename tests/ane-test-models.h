/* ane-test-models.h: representative graphs shared by the lowering, golden
 * MIL and (later) differential tests: an MLP, a LLaMA-style transformer block
 * with causal grouped-query attention and RoPE, a conv net, an MoE layer with
 * top-k routing, and a Mamba block. Weights are deterministic (seeded) and
 * baked in with ane_graph_param_with_value.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-test-util.h"

G_BEGIN_DECLS

/* x [2,64] -> linear 128 -> gelu -> linear 32 -> softmax  (output "probs") */
AneGraph *ane_test_model_mlp               (void);
/* x [1,8,64], positions int32 [8]; H=4, Hkv=2, head 16, ffn 128 (output "y") */
AneGraph *ane_test_model_transformer_block (void);
/* x [1,3,16,16] -> conv/bn/relu/pool/conv/upsample/conv_transpose -> logits [1,10]
 * and feature_map (outputs "logits", "feature_map") */
AneGraph *ane_test_model_convnet           (void);
/* x [4,32], 4 experts, top-2 routing, SwiGLU-less expert MLP 32->64->32 (output "y") */
AneGraph *ane_test_model_moe               (void);
/* x [1,8,16], Mamba block: in_proj, causal depthwise conv1d, selective scan with
 * z gate, out_proj (output "y") */
AneGraph *ane_test_model_mamba             (void);

/* Random inputs matching each model's inputs, seeded (positions get 0..S-1). */
GPtrArray *ane_test_model_inputs           (AneGraph *graph,
                                            guint32   seed);

G_END_DECLS
