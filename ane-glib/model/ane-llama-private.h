/* model/ane-llama-private.h: AneLlamaModel's fields, for the graph builders
 * (ane-llama.c: the generic layout; ane-llama-ane.c: the Neural Engine's)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "ane-llama.h"
#include "ane-gguf-file.h"
#include "ane-tokenizer.h"
#include "ane-progress.h"

G_BEGIN_DECLS

struct _AneLlamaModel
{
  GObject parent_instance;

  char *path;
  gint64 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
  gboolean shared_classifier;
  double rms_eps, rope_base;
  AneRopeMode rope_mode;
  GBytes *file;
  AneGgufFile *gguf;
  GHashTable *weights;  /* name → AneTensor */
};

/* ane_llama_model_generate_full with the decode graph's layout chosen:
 * the Neural Engine's (ane_llama_model_build_ane_decode) or the generic one. */
char      *ane_llama_generate_layout (AneLlamaModel         *self,
                                      AneTokenizer          *tokenizer,
                                      const char            *prompt,
                                      guint                  n_tokens,
                                      AneBackend             backend,
                                      AnePrecision           precision,
                                      gboolean               ane_layout,
                                      double                 temperature,
                                      double                 top_p,
                                      guint64                seed,
                                      AneProgress           *progress,
                                      AneLlamaTokenCallback  callback,
                                      gpointer               user_data,
                                      GError               **error);

G_END_DECLS
