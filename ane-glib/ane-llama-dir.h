/* ane-llama-dir.h: a LLaMA-family model converted to a directory (package,
 * manifest, embedding, tokenizer) and generation from it
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "ane-types.h"
#include "ane-package.h"
#include "ane-tokenizer.h"
#include "ane-llama.h"

G_BEGIN_DECLS

/**
 * ANE_LLAMA_DIR_FORMAT_VERSION:
 *
 * The version of the `manifest.json` format that
 * [method@Ane.LlamaModel.save_dir] writes and [func@Ane.LlamaDir.load] reads.
 *
 * Since: 0.2
 */
#define ANE_LLAMA_DIR_FORMAT_VERSION 1

#define ANE_TYPE_LLAMA_DIR (ane_llama_dir_get_type ())

ANE_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (AneLlamaDir, ane_llama_dir, ANE, LLAMA_DIR, GObject)

ANE_AVAILABLE_IN_0_2
gboolean      ane_llama_model_save_dir      (AneLlamaModel         *self,
                                             AneTokenizer          *tokenizer,
                                             const char            *dir,
                                             gint64                 context,
                                             gint64                 prefill_step,
                                             AneTarget              target,
                                             gboolean               overwrite,
                                             GError               **error);

ANE_AVAILABLE_IN_0_2
gboolean      ane_llama_model_save_dir_full (AneLlamaModel         *self,
                                             AneTokenizer          *tokenizer,
                                             const char            *dir,
                                             gint64                 context,
                                             gint64                 prefill_step,
                                             AneTarget              target,
                                             guint                  n_chunks,
                                             guint64                chunk_bytes,
                                             gboolean               argmax,
                                             gboolean               overwrite,
                                             GError               **error);

ANE_AVAILABLE_IN_0_2
AneLlamaDir  *ane_llama_dir_load            (const char            *dir,
                                             GError               **error);
ANE_AVAILABLE_IN_0_2
const char   *ane_llama_dir_get_path        (AneLlamaDir           *self);
ANE_AVAILABLE_IN_0_2
gint64        ane_llama_dir_get_context     (AneLlamaDir           *self);
ANE_AVAILABLE_IN_0_2
gint64        ane_llama_dir_get_prefill_step (AneLlamaDir          *self);
ANE_AVAILABLE_IN_0_2
gint64        ane_llama_dir_get_vocab_size  (AneLlamaDir           *self);
ANE_AVAILABLE_IN_0_2
gint64        ane_llama_dir_get_dim         (AneLlamaDir           *self);
ANE_AVAILABLE_IN_0_2
AnePackage   *ane_llama_dir_get_package     (AneLlamaDir           *self);
ANE_AVAILABLE_IN_0_2
guint         ane_llama_dir_get_n_chunks    (AneLlamaDir           *self);
ANE_AVAILABLE_IN_0_2
AnePackage   *ane_llama_dir_get_chunk       (AneLlamaDir           *self,
                                             guint                  index,
                                             gint64                *first_layer,
                                             gint64                *end_layer);
ANE_AVAILABLE_IN_0_2
gboolean      ane_llama_dir_get_argmax      (AneLlamaDir           *self);
ANE_AVAILABLE_IN_0_2
AneTokenizer *ane_llama_dir_get_tokenizer   (AneLlamaDir           *self);
ANE_AVAILABLE_IN_0_2
char         *ane_llama_dir_generate        (AneLlamaDir           *self,
                                             const char            *prompt,
                                             guint                  n_tokens,
                                             AneBackend             backend,
                                             double                 temperature,
                                             double                 top_p,
                                             guint64                seed,
                                             AneLlamaTokenCallback  callback,
                                             gpointer               user_data,
                                             GError               **error);

G_END_DECLS
