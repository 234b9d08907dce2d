/* ane-llama.h: LLaMA-architecture models (llama2.c checkpoints, GGUF files) as ane-glib graphs
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
#include "ane-graph.h"
#include "ane-tokenizer.h"
#include "ane-progress.h"

G_BEGIN_DECLS

/**
 * AneLlamaTokenCallback:
 * @token: the id of the token just generated
 * @piece: the token decoded to text (may be empty, or a part of a UTF-8 character)
 * @user_data: the data passed to [method@Ane.LlamaModel.generate]
 *
 * Called once per generated token, as soon as it is known.
 *
 * Returns: %TRUE to go on generating, %FALSE to stop
 */
typedef gboolean (*AneLlamaTokenCallback) (gint32      token,
                                           const char *piece,
                                           gpointer    user_data);

/**
 * AneLlamaPieceCallback:
 * @token: the id of the token just generated
 * @piece: the token decoded to bytes (may be empty, or a part of a UTF-8
 *   character); valid during the call only
 * @user_data: the data passed to [method@Ane.LlamaModel.generate_bytes]
 *
 * Called once per generated token, as soon as it is known, with the piece as
 * bytes so that bindings never have to convert a partial UTF-8 character.
 *
 * Returns: %TRUE to go on generating, %FALSE to stop
 *
 * Since: 0.2
 */
typedef gboolean (*AneLlamaPieceCallback) (gint32   token,
                                           GBytes  *piece,
                                           gpointer user_data);

/**
 * AneLlamaHead:
 * @ANE_LLAMA_HEAD_NONE: no head: the step ends with the hidden state
 *   `hidden` `[1, dim, 1, n]` (a chunk that another one continues)
 * @ANE_LLAMA_HEAD_LOGITS: the final norm and the classifier: `logits`
 *   `[1, vocab_size, 1, n]`, or `logits_0`, `logits_1`… when the vocabulary
 *   is wider than 16384
 * @ANE_LLAMA_HEAD_ARGMAX: the final norm, the classifier and its arg-max:
 *   per part of the classifier (one up to 16384 tokens), `argmax_idx`
 *   (float32 `[1, 2, 1, n]`: the index of the largest logit within the
 *   part, the lowest on a tie, as two base-128 digits, index / 128 then
 *   index % 128) and `argmax_val` (that logit, `[1, 1, 1, n]`), suffixed
 *   `_0`, `_1`… when there are several parts; the caller picks the part
 *   with the largest value, the first on a tie
 *
 * What a step in the Neural Engine's layout ends with
 * ([method@Ane.LlamaModel.build_ane_step]).
 *
 * Since: 0.2
 */
typedef enum {
  ANE_LLAMA_HEAD_NONE,
  ANE_LLAMA_HEAD_LOGITS,
  ANE_LLAMA_HEAD_ARGMAX,
} AneLlamaHead;

#define ANE_TYPE_LLAMA_MODEL (ane_llama_model_get_type ())

ANE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AneLlamaModel, ane_llama_model, ANE, LLAMA_MODEL, GObject)

ANE_AVAILABLE_IN_ALL
AneLlamaModel *ane_llama_model_load_llama2c    (const char     *checkpoint,
                                                GError        **error);
ANE_AVAILABLE_IN_ALL
AneLlamaModel *ane_llama_model_load_gguf       (const char     *path,
                                                GError        **error);
ANE_AVAILABLE_IN_0_2
AneLlamaModel *ane_llama_model_load_hf         (const char     *dir,
                                                GError        **error);
ANE_AVAILABLE_IN_ALL
gint64         ane_llama_model_get_dim         (AneLlamaModel  *self);
ANE_AVAILABLE_IN_ALL
gint64         ane_llama_model_get_hidden_dim  (AneLlamaModel  *self);
ANE_AVAILABLE_IN_ALL
gint64         ane_llama_model_get_n_layers    (AneLlamaModel  *self);
ANE_AVAILABLE_IN_ALL
gint64         ane_llama_model_get_n_heads     (AneLlamaModel  *self);
ANE_AVAILABLE_IN_ALL
gint64         ane_llama_model_get_n_kv_heads  (AneLlamaModel  *self);
ANE_AVAILABLE_IN_ALL
gint64         ane_llama_model_get_vocab_size  (AneLlamaModel  *self);
ANE_AVAILABLE_IN_ALL
gint64         ane_llama_model_get_seq_len     (AneLlamaModel  *self);
ANE_AVAILABLE_IN_ALL
gboolean       ane_llama_model_get_shared_classifier (AneLlamaModel *self);
ANE_AVAILABLE_IN_ALL
AneTensor     *ane_llama_model_get_weight      (AneLlamaModel  *self,
                                                const char     *name);
ANE_AVAILABLE_IN_ALL
AneGraph      *ane_llama_model_build_prefill   (AneLlamaModel  *self,
                                                gint64          seq_len,
                                                GError        **error);
ANE_AVAILABLE_IN_ALL
AneGraph      *ane_llama_model_build_decode    (AneLlamaModel  *self,
                                                gint64          max_seq,
                                                GError        **error);
ANE_AVAILABLE_IN_0_2
AneGraph      *ane_llama_model_build_ane_decode (AneLlamaModel *self,
                                                 gint64         max_seq,
                                                 GError       **error);
ANE_AVAILABLE_IN_0_2
AneGraph      *ane_llama_model_build_ane_prefill (AneLlamaModel *self,
                                                  gint64         n_tokens,
                                                  gint64         max_seq,
                                                  GError       **error);
ANE_AVAILABLE_IN_0_2
AneGraph      *ane_llama_model_build_ane_chunk   (AneLlamaModel *self,
                                                  gint64         n_tokens,
                                                  gint64         max_seq,
                                                  gint64         first_layer,
                                                  gint64         n_layers,
                                                  gboolean       with_head,
                                                  GError       **error);
ANE_AVAILABLE_IN_0_2
AneGraph      *ane_llama_model_build_ane_step    (AneLlamaModel      *self,
                                                  gint64              n_tokens,
                                                  gint64              max_seq,
                                                  gint64              first_layer,
                                                  gint64              n_layers,
                                                  AneLlamaHead        head,
                                                  AneLlamaCacheWrite  cache_write,
                                                  GError            **error);
ANE_AVAILABLE_IN_0_2
GPtrArray     *ane_llama_model_ane_step_inputs   (AneLlamaModel      *self,
                                                  AneLlamaCacheWrite  cache_write,
                                                  const gint32       *tokens,
                                                  gsize               n_tokens,
                                                  gint64              start,
                                                  gint64              n_step,
                                                  gint64              max_seq,
                                                  GError            **error);
ANE_AVAILABLE_IN_0_2
GPtrArray     *ane_llama_model_ane_prefill_inputs (AneLlamaModel *self,
                                                   const gint32  *tokens,
                                                   gsize          n_tokens,
                                                   gint64         start,
                                                   gint64         n_step,
                                                   gint64         max_seq,
                                                   GError       **error);
ANE_AVAILABLE_IN_0_2
GPtrArray     *ane_llama_model_ane_decode_inputs (AneLlamaModel *self,
                                                  gint32         token,
                                                  gint64         position,
                                                  gint64         max_seq,
                                                  GError       **error);
ANE_AVAILABLE_IN_0_2
GBytes        *ane_llama_model_generate_bytes  (AneLlamaModel         *self,
                                                AneTokenizer          *tokenizer,
                                                const char            *prompt,
                                                guint                  n_tokens,
                                                AneBackend             backend,
                                                AnePrecision           precision,
                                                double                 temperature,
                                                double                 top_p,
                                                guint64                seed,
                                                AneLlamaPieceCallback  callback,
                                                gpointer               user_data,
                                                GError               **error);
ANE_AVAILABLE_IN_ALL
char          *ane_llama_model_generate        (AneLlamaModel         *self,
                                                AneTokenizer          *tokenizer,
                                                const char            *prompt,
                                                guint                  n_tokens,
                                                AneBackend             backend,
                                                AnePrecision           precision,
                                                double                 temperature,
                                                double                 top_p,
                                                guint64                seed,
                                                AneLlamaTokenCallback  callback,
                                                gpointer               user_data,
                                                GError               **error);
ANE_AVAILABLE_IN_0_2
char          *ane_llama_model_generate_full   (AneLlamaModel         *self,
                                                AneTokenizer          *tokenizer,
                                                const char            *prompt,
                                                guint                  n_tokens,
                                                AneBackend             backend,
                                                AnePrecision           precision,
                                                double                 temperature,
                                                double                 top_p,
                                                guint64                seed,
                                                AneProgress           *progress,
                                                AneLlamaTokenCallback  callback,
                                                gpointer               user_data,
                                                GError               **error);

G_END_DECLS
