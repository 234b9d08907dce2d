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
#include "ane-executable.h"
#include "ane-compress.h"

G_BEGIN_DECLS

struct _AneLlamaModel
{
  GObject parent_instance;

  char *path;
  gint64 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
  gboolean shared_classifier;
  double rms_eps, rope_base;
  AneRopeMode rope_mode;
  /* Hugging Face architectures (ane-llama-hf.c); the llama2.c and GGUF
   * loaders leave head_dim at dim / n_heads and the rest at zero, which
   * builds their graphs exactly as before. */
  gint64 head_dim;          /* per-head width (Qwen3 and Gemma may differ from dim / n_heads) */
  gboolean qk_norm;         /* Qwen3: RMSNorm of each q and k head before RoPE (q_norm, k_norm) */
  gboolean gelu_tanh;       /* Gemma: GeGLU with the tanh GELU instead of SwiGLU */
  double embed_scale;       /* Gemma: the embedding times sqrt(hidden_size); 0: none */
  float *rope_inv_freq;     /* head_dim / 2 scaled inverse frequencies (rope_scaling
                             * "llama3"), or NULL: theta^(-2i/head_dim) */
  GBytes *file;
  AneGgufFile *gguf;
  GHashTable *weights;  /* name → AneTensor */
};

/* The per-head width: head_dim when a loader set it, else dim / n_heads. */
static inline gint64
ane_llama_head (const AneLlamaModel *m)
{
  return m->head_dim > 0 ? m->head_dim : m->dim / m->n_heads;
}

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

/* What the host computes for the Neural Engine layout's steps
 * (ane-llama-ane.c) needs only these: the token embedding table (vocab_size
 * rows of dim, in dtype, block-quantized or not) and the rotary base. */
typedef struct
{
  const guint8 *table;
  AneDType      dtype;
  gint64        dim, n_heads, n_kv_heads, vocab_size;
  double        rope_base;
  const char   *what;     /* the model or directory, for messages */
  AneLlamaCacheWrite cache_write;   /* the form the step was built with */
  gint64        head;          /* per-head width; 0: dim / n_heads */
  const float  *rope_inv_freq; /* head / 2 inverse frequencies, or NULL: rope_base's */
  double        embed_scale;   /* Gemma: the rows times this (0: none) */
} AneLlamaAneHost;

/* Writes rows (float, the box's shape) into the float16 cache state at the
 * box [begin, end) (int32, one per axis) with slice_update (iOS18), and
 * returns the state after the write as float32 (transfer full). The end is
 * the IR's optional one: the box goes to MIL as computed, and the run
 * checks it (ane-lower-shape.c). Both decode steps write their caches so:
 * a step touches its rows only, never the whole cache. */
AneTensor *ane_llama_write_cache     (AneGraph   *graph,
                                      AneTensor  *state,
                                      AneTensor  *rows,
                                      AneTensor  *begin,
                                      AneTensor  *end,
                                      GError    **error);

/* The inputs of a step of n tokens, n_real of them real, from cache row
 * start on: x, rope_cos, rope_sin, mask, then write_begin and write_end
 * (slice_update), or write and, when n > 1, place (one-hot). */
GPtrArray *ane_llama_ane_step_inputs (const AneLlamaAneHost  *host,
                                      const gint32           *tokens,
                                      gint64                  n_real,
                                      gint64                  start,
                                      gint64                  n,
                                      gint64                  max_seq,
                                      GError                **error);

/* Sampling as generation does it (ane-llama.c): greedy when temperature is
 * 0, else softmax(logits / temperature) and nucleus top_p. scratch comes
 * from ane_llama_sampler_scratch_new (n) (g_free). */
gpointer   ane_llama_sampler_scratch_new (gint64        n);
gint32     ane_llama_pick_token          (const float  *logits,
                                          gint64        n,
                                          double        temperature,
                                          double        top_p,
                                          GRand        *rand,
                                          gpointer      scratch);

/* How many outputs the Neural Engine steps split the classifier into: one
 * (`logits`) up to 16384 tokens, else `logits_0`, `logits_1`... of at most
 * 16384 rows each (ane-llama-ane.c). */
gint64     ane_llama_ane_logits_parts  (gint64       vocab);
/* The rows (tokens) of part part of the classifier. */
gint64     ane_llama_ane_logits_part_rows (gint64    vocab,
                                           gint64    part);
/* The token an arg-max head (ANE_LLAMA_HEAD_ARGMAX) chose for token column
 * of an n_step-token call: the part with the largest value, its index
 * moved to the whole vocabulary. */
gboolean   ane_llama_ane_argmax_column (GPtrArray   *outputs,
                                        gint64       vocab,
                                        gint64       n_step,
                                        gint64       column,
                                        gint32      *token,
                                        GError     **error);
/* The logits of token column of an n_step-token call, gathered from its
 * outputs (the classifier's parts first, in order) into logits[vocab]. */
gboolean   ane_llama_ane_logits_column (GPtrArray   *outputs,
                                        gint64       vocab,
                                        gint64       n_step,
                                        gint64       column,
                                        float       *logits,
                                        GError     **error);

/* What a training graph takes (ane_llama_build_train). */
typedef enum {
  ANE_LLAMA_TRAIN_NONE,
  /* `tokens` and `targets`, int32 [seq_len] (targets[i] the token after
   * tokens[i], -100 to ignore); the loss is the fused cross_entropy op */
  ANE_LLAMA_TRAIN_TOKENS,
  /* float inputs only, for the Neural Engine's float16 surfaces:
   * `embedded` [seq_len, dim] (the embedding rows, scaled, gathered by the
   * host, which also scatters grad_embedded back) and `targets`
   * [seq_len, vocab] one-hot rows (zero rows ignored) */
  ANE_LLAMA_TRAIN_HOST_EMBEDDING,
} AneLlamaTrainForm;

/* The training graph (AneTrainer): positions 0..seq_len-1 (constants),
 * every weight a float32 dynamic param named ane_llama_train_param_name
 * (weight), output `loss` (the mean next-token cross-entropy). Errors name
 * a weight that cannot be trained. */
AneGraph  *ane_llama_build_train       (AneLlamaModel      *self,
                                        gint64              seq_len,
                                        AneLlamaTrainForm   form,
                                        GError            **error);
/* Training in kernels (AneTrainer's ANE_TRAINER_LAYOUT_KERNELS), the way
 * maderix/ANE splits a step. head ANE_LLAMA_TRAIN_NONE: one layer, input
 * `x` and output `y` ([seq_len, dim] float32), its weights named as in a
 * layer without the layer ("wq", "attention_norm"), so one program serves
 * every layer; otherwise the head, input `x`, output `loss` as
 * ane_llama_build_train's, its targets of that form. The weights are
 * dynamic params, or with pack one dynamic param `weights` (float32
 * [rows, width], each weight on whole rows, zeros after it) every weight is
 * cut from: one input surface on the Neural Engine's path; *layout then
 * lists where each is (AneLlamaPackedWeight*, in order). */
typedef struct {
  char   *input;    /* the weight's input name in the unpacked kernel ("wq") */
  gint64  offset;   /* in elements, a multiple of the width */
  gint64  n;
} AneLlamaPackedWeight;

void       ane_llama_packed_weight_free (AneLlamaPackedWeight *p);
AneGraph  *ane_llama_build_kernel       (AneLlamaModel      *self,
                                         gint64              seq_len,
                                         AneLlamaTrainForm   head,
                                         gboolean            pack,
                                         GPtrArray         **layout,
                                         GError            **error);
/* "layers.0.wq" → "layers_0_wq" (newly allocated). */
char      *ane_llama_train_param_name  (const char     *weight);

/* The generic decode step (ane_llama_model_build_decode) for n_tokens
 * tokens at once: inputs `tokens` and `positions` (int32 [n_tokens]), the
 * same k_cache_<l>/v_cache_<l> states, rows positions[0] .. positions[0] +
 * n_tokens - 1 written (the positions are consecutive) and query
 * i attending over rows 0..positions[i]; output `logits` of the last token
 * only ([1, vocab]). n_tokens 1 gives the one-token step (inputs `token`
 * and `position` then). generate runs the
 * prompt through it in one call on the CPU and reference backends. */
AneGraph  *ane_llama_build_decode_n    (AneLlamaModel  *self,
                                        gint64          n_tokens,
                                        gint64          max_seq,
                                        GError        **error);

/* The prompt step's caches into the decode step's executable: each state
 * of states (AneTensor, by name) copied from one executable to the other. */
gboolean   ane_llama_hand_over_states  (AneExecutable *from,
                                        AneExecutable *to,
                                        GPtrArray     *states,
                                        GError       **error);

/* A step whose inputs, outputs and states are all bound to buffers
 * (ane-llama-bound.c): the caches stay in the backend's memory between
 * tokens (the private path's surfaces), a token copies its inputs in and
 * its outputs out. new gives NULL without an error for a backend that
 * takes no buffers (CoreML, reference); inputs, outputs and states are the
 * step's ports (AneTensor, for their names; states nullable). run takes
 * the inputs by name and gives the outputs in the declared order, as
 * ane_executable_run does; ane_llama_step_run runs one way or the other
 * (bound NULL: the plain run). */
typedef struct _AneLlamaBoundStep AneLlamaBoundStep;

AneLlamaBoundStep *ane_llama_bound_step_new  (AneExecutable      *exe,
                                              GPtrArray          *inputs,
                                              GPtrArray          *outputs,
                                              GPtrArray          *states,
                                              GError            **error);
GPtrArray         *ane_llama_bound_step_run  (AneLlamaBoundStep  *step,
                                              GPtrArray          *inputs,
                                              GError            **error);
GPtrArray         *ane_llama_step_run        (AneExecutable      *exe,
                                              AneLlamaBoundStep  *bound,
                                              GPtrArray          *inputs,
                                              GError            **error);
void               ane_llama_bound_step_free (AneLlamaBoundStep  *step);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneLlamaBoundStep, ane_llama_bound_step_free)

/* ane_llama_model_save_dir_full() with each package's weights compressed
 * by compress (nullable: none) before it is written (ane-llama-dir.c);
 * `ane-tool convert-llm --palettize/--quantize`. The split into chunks
 * counts the float16 bytes before compression. reports (nullable) gets
 * each package's AneCompressReport, in the manifest's order. */
gboolean   ane_llama_model_save_dir_compressed (AneLlamaModel     *self,
                                                AneTokenizer      *tokenizer,
                                                const char        *dir,
                                                gint64             context,
                                                gint64             prefill_step,
                                                AneTarget          target,
                                                guint              n_chunks,
                                                guint64            chunk_bytes,
                                                gboolean           argmax,
                                                AneCompressConfig *compress,
                                                GPtrArray         *reports,
                                                gboolean           overwrite,
                                                GError           **error);

G_END_DECLS
