/* ane-tokenizer.h: BPE tokenizers (llama2.c tokenizer files, GGUF vocabularies, Hugging Face tokenizer.json)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <glib-object.h>
#include "ane-types.h"
#include "ane-gguf-file.h"

G_BEGIN_DECLS

/**
 * ANE_TOKENIZER_BOS:
 *
 * The id of the beginning-of-sequence token in llama2.c vocabularies.
 */
#define ANE_TOKENIZER_BOS 1

/**
 * ANE_TOKENIZER_EOS:
 *
 * The id of the end-of-sequence token in llama2.c vocabularies.
 */
#define ANE_TOKENIZER_EOS 2

#define ANE_TYPE_TOKENIZER (ane_tokenizer_get_type ())

ANE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AneTokenizer, ane_tokenizer, ANE, TOKENIZER, GObject)

ANE_AVAILABLE_IN_ALL
AneTokenizer *ane_tokenizer_load_llama2c  (const char    *path,
                                           guint          vocab_size,
                                           GError       **error);
ANE_AVAILABLE_IN_ALL
AneTokenizer *ane_tokenizer_load_gguf     (AneGgufFile   *file,
                                           GError       **error);
ANE_AVAILABLE_IN_ALL
gint32        ane_tokenizer_get_bos_id    (AneTokenizer  *self);
ANE_AVAILABLE_IN_ALL
gint32        ane_tokenizer_get_eos_id    (AneTokenizer  *self);
ANE_AVAILABLE_IN_ALL
guint         ane_tokenizer_get_n_tokens  (AneTokenizer  *self);
ANE_AVAILABLE_IN_ALL
const char   *ane_tokenizer_get_piece     (AneTokenizer  *self,
                                           gint32         token);
ANE_AVAILABLE_IN_ALL
float         ane_tokenizer_get_score     (AneTokenizer  *self,
                                           gint32         token);
ANE_AVAILABLE_IN_ALL
gint32       *ane_tokenizer_encode        (AneTokenizer  *self,
                                           const char    *text,
                                           gboolean       bos,
                                           gboolean       eos,
                                           gsize         *n_tokens);
ANE_AVAILABLE_IN_ALL
char         *ane_tokenizer_decode_token  (AneTokenizer  *self,
                                           gint32         prev_token,
                                           gint32         token);
ANE_AVAILABLE_IN_ALL
char         *ane_tokenizer_decode        (AneTokenizer  *self,
                                           const gint32  *tokens,
                                           gsize          n_tokens);
ANE_AVAILABLE_IN_0_2
GBytes       *ane_tokenizer_dup_piece_bytes (AneTokenizer *self,
                                             gint32        token);
ANE_AVAILABLE_IN_0_2
GBytes       *ane_tokenizer_decode_token_bytes (AneTokenizer *self,
                                                gint32        prev_token,
                                                gint32        token);
ANE_AVAILABLE_IN_0_2
AneTokenizer *ane_tokenizer_load_hf       (const char    *path,
                                           GError       **error);
ANE_AVAILABLE_IN_0_2
gint32       *ane_tokenizer_encode_full   (AneTokenizer  *self,
                                           const char    *text,
                                           gboolean       add_special_tokens,
                                           gsize         *n_tokens,
                                           GError       **error);
ANE_AVAILABLE_IN_0_2
char         *ane_tokenizer_decode_full   (AneTokenizer  *self,
                                           const gint32  *tokens,
                                           gsize          n_tokens,
                                           gboolean       skip_special_tokens);

G_END_DECLS
