/* ane-test-hf.h: the bundled stories260K as a Hugging Face checkpoint
 *
 * Writes data/models/stories260K.bin in transformers' layout: config.json
 * (model_type llama, the llama2.c header's hyper-parameters, a tied
 * classifier as the header's positive vocab_size says) and
 * model.safetensors, or two shards and model.safetensors.index.json, the
 * tensors under transformers' names with q_proj/k_proj rows permuted as
 * transformers' convert_llama_weights_to_hf.py permutes them (its permute,
 * src/transformers/models/llama/convert_llama_weights_to_hf.py:148-150).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-glib.h"

G_BEGIN_DECLS

typedef struct {
  AneDType dtype;             /* FLOAT32 (0), FLOAT16 or BFLOAT16: every tensor in it */
  guint n_shards;             /* 0 or 1: model.safetensors; 2: two shards and the index */
  const char *omit_tensor;    /* a tensor (HF name) left out */
  const char *bad_tensor;     /* a tensor (HF name) written with one row too few */
  const char *int_tensor;     /* a tensor (HF name) written as I32 */
  const char *config_extra;   /* JSON members appended to config.json (",\"k\": v"), or NULL */
  const char *model_type;     /* replaces "llama", or NULL */
  gboolean tokenizer;         /* also tokenizer.json and tokenizer_config.json, tok512's
                               * (ane_test_write_tok512_tokenizer_json) */
} AneTestHfVariant;

/* Writes the checkpoint into dir (created); FALSE with error set. */
gboolean ane_test_write_stories_hf      (const char             *dir,
                                         const AneTestHfVariant *v,
                                         GError                **error);
/* Writes stories260K as a llama2.c checkpoint whose weights went through
 * dtype (FLOAT16, BFLOAT16) and back: the values the HF variant of that
 * dtype carries, for the token-for-token comparisons. */
gboolean ane_test_write_stories_rounded (const char             *path,
                                         AneDType                dtype,
                                         GError                **error);

G_END_DECLS
