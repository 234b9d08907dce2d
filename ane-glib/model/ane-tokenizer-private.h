/* model/ane-tokenizer-private.h: a tokenizer written back to a file (internal)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "ane-tokenizer.h"

G_BEGIN_DECLS

/* The tokenizer as a file its loader reads back to the same vocabulary:
 * a llama2.c tokenizer.bin (pieces with real spaces, ids 1 and 2 for BOS
 * and EOS) for a tokenizer loaded from one, byte for byte the file it came
 * from; for a GGUF vocabulary (pieces spelling spaces `▁`), a GGUF file
 * holding only the `tokenizer.ggml.*` keys ane_tokenizer_load_gguf() reads.
 * *gguf says which. */
GBytes *ane_tokenizer_serialize (AneTokenizer *self,
                                 gboolean     *gguf);

/* Whether @self was read from a Hugging Face tokenizer.json. */
gboolean ane_tokenizer_is_hf    (AneTokenizer *self);

/* Whether @self goes with a model of @vocab_size tokens: the same number,
 * or for a tokenizer.json no more (Qwen3's embedding has 151,936 rows for
 * 151,669 ids: checkpoints pad the vocabulary to a multiple of 64 or 128). */
gboolean ane_tokenizer_fits_model (AneTokenizer *self,
                                   gint64        vocab_size);

/* A tokenizer.json tokenizer as files ane_tokenizer_load_hf() reads back
 * to the same tokenizer: the tokenizer.json it was read from (read again,
 * uncompressed) and a tokenizer_config.json naming its BOS and EOS and
 * whether encode_full adds them. */
gboolean ane_tokenizer_serialize_hf (AneTokenizer  *self,
                                     GBytes       **json,
                                     GBytes       **config,
                                     GError       **error);

G_END_DECLS
