/* ane-test-hf-tokenizer.h: a Hugging Face tokenizer.json equivalent to the bundled tok512.bin
 *
 * For the tokenizer tests and for tiny Hugging Face-layout checkpoints of
 * stories260K (config.json + model.safetensors + tokenizer.json).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-glib.h"

G_BEGIN_DECLS

/* Writes to @out_path the tokenizer.json a Hugging Face conversion of the
 * llama2.c tok512 vocabulary (data/models/tok512.bin) would give, in the
 * shape of Llama 2's: a BPE model with byte fallback whose merges are
 * derived from the pieces' scores as transformers' convert_slow_tokenizer.py
 * generate_merges does, the normalizer Prepend("▁") + Replace(" ", "▁"),
 * <unk> <s> </s> as special added tokens, a post-processor adding <s>, and
 * the decoder Replace("▁", " ") + ByteFallback + Fuse + Strip(" ", 1, 0).
 * With @config_dir non-NULL, also writes @config_dir/tokenizer_config.json
 * naming <s> and </s> (bos_token, eos_token, add_bos_token). */
gboolean ane_test_write_tok512_tokenizer_json (const char  *out_path,
                                               const char  *config_dir,
                                               GError     **error);

G_END_DECLS
