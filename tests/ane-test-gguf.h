/* ane-test-gguf.h: the bundled stories260K, and GGUF files made from it
 *
 * The GGUF files are written from the llama2.c stories260K (weights under
 * llama.cpp's tensor names, the vocabulary with spaces spelled "▁"), F32 or
 * with the linear weights quantized to Q8_0, for the GGUF tests and for the
 * lint's expected summaries.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-glib.h"

G_BEGIN_DECLS

typedef struct {
  const char *arch;          /* general.architecture */
  gboolean q8_0;             /* linear weights (and the embedding) as Q8_0 */
  AneDType quant;            /* or as this block type (Q8_0, Q4_0, Q4_K): the matrices whose rows
                              * are whole blocks; FLOAT16: every matrix as F16; 0 (FLOAT32): as
                              * q8_0 says */
  const char *omit_tensor;   /* a tensor left out */
  const char *bad_tensor;    /* a tensor written with one row too few */
  const char *omit_key;      /* a metadata key left out */
  gboolean biases;           /* zero attn_q/k/v biases (qwen2) */
  const char *tok_model;     /* tokenizer.ggml.model */
} AneTestGgufVariant;

/* data/models/NAME in the source tree (owned by the caller). */
char          *ane_test_model_path             (const char *name);
AneLlamaModel *ane_test_load_stories           (void);
AneTokenizer  *ane_test_load_stories_tokenizer (void);
/* An AneLlamaTokenCallback appending each token to @user_data, a GArray of
 * gint32. */
gboolean       ane_test_collect_token          (gint32      token,
                                                const char *piece,
                                                gpointer    user_data);
/* ane_llama_model_generate() at temperature 0 (greedy; top-p 0.9 and
 * @seed as the tests always passed them): the tokens it produced (gint32),
 * asserting no error; *@text (when not NULL) gets the text. */
GArray        *ane_test_generate_greedy        (AneLlamaModel *m,
                                                AneTokenizer  *tok,
                                                const char    *prompt,
                                                guint          n_tokens,
                                                AneBackend     backend,
                                                AnePrecision   precision,
                                                guint64        seed,
                                                char         **text);
/* Writes stories260K + tok512 as DIR/FILE_NAME, as @v says; the path. */
char          *ane_test_write_stories_gguf     (const char               *dir,
                                                const char               *file_name,
                                                const AneTestGgufVariant *v);

G_END_DECLS
