/* ane-llama.c: llama2.c checkpoints imported as prefill and decode graphs
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-llama.h"
#include "model/ane-llama-private.h"
#include "model/ane-tokenizer-private.h"
#include "ane-executable.h"
#include "ane-file-private.h"
#include "ane-progress-private.h"
#include "ane-gguf-file.h"
#include "ane-reference-private.h"

/**
 * AneLlamaModel:
 *
 * A LLaMA-architecture language model (RMSNorm, rotary positions on
 * consecutive pairs, grouped-query attention, SwiGLU feed-forward), from
 * which [class@Ane.Graph]s are built.
 *
 * Loads llama2.c checkpoints ([func@Ane.LlamaModel.load_llama2c], e.g.
 * `stories260K.bin`) and llama.cpp GGUF files of the llama, mistral and
 * qwen2 architectures ([func@Ane.LlamaModel.load_gguf]), and Hugging Face
 * checkpoints of the llama, mistral, qwen2, qwen3 and gemma architectures
 * ([func@Ane.LlamaModel.load_hf]). Its vocabulary is an
 * [class@Ane.Tokenizer], loaded apart.
 *
 * The checkpoint is seven little-endian int32 (`dim`, `hidden_dim`,
 * `n_layers`, `n_heads`, `n_kv_heads`, `vocab_size`, `seq_len`; a negative
 * `vocab_size` means the classifier has its own weights) followed by float32
 * weights, each matrix `[out, in]` row-major: the token embedding
 * `[vocab, dim]`; per layer, stacked over layers: `rms_att [dim]`,
 * `wq [n_heads·head, dim]`, `wk`, `wv [n_kv_heads·head, dim]`,
 * `wo [dim, n_heads·head]`, `rms_ffn [dim]`, `w1 [hidden, dim]`,
 * `w2 [dim, hidden]`, `w3 [hidden, dim]`; then `rms_final [dim]`, two unused
 * RoPE tables of `seq_len·head/2` floats each, and the classifier
 * `[vocab, dim]` when it is not shared with the embedding.
 *
 * The weights are not copied: each is a [struct@GLib.Bytes] slice of the
 * mapped file, baked into the graphs as params.
 *
 * [func@Ane.LlamaModel.load_gguf] imports the same architecture (and
 * qwen2's q/k/v biases) from a llama.cpp GGUF file; both sources feed one
 * graph builder, which multiplies GGUF block-quantized weights with
 * `dequant_matmul` so that they stay quantized.
 *
 * ```c
 * g_autoptr(AneLlamaModel) model = ane_llama_model_load_llama2c ("stories260K.bin", &error);
 * g_autoptr(AneTokenizer) tok = ane_tokenizer_load_llama2c ("tok512.bin",
 *     ane_llama_model_get_vocab_size (model), &error);
 * g_autofree char *story = ane_llama_model_generate (model, tok, "Once upon a time", 200,
 *     ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, 0.0, 0.9, 42, NULL, NULL, &error);
 * ```
 *
 * Threads: a model does not change once loaded (its hyperparameters and
 * weights are set by the loader and only read after), so any number of
 * threads may query it, build graphs from it and generate with it at once.
 * A model holds no generation state: each [method@Ane.LlamaModel.generate]
 * call builds and compiles its own decode graph, with its own key/value
 * cache (states of its own [class@Ane.Executable]) and its own random
 * generator, so concurrent generations do not see each other.
 */

G_DEFINE_FINAL_TYPE (AneLlamaModel, ane_llama_model, G_TYPE_OBJECT)

#define RMS_EPS   1e-5
#define ROPE_BASE 10000.0

static void
ane_llama_model_finalize (GObject *object)
{
  AneLlamaModel *self = ANE_LLAMA_MODEL (object);

  g_clear_pointer (&self->weights, g_hash_table_unref);
  g_clear_pointer (&self->file, g_bytes_unref);
  g_clear_object (&self->gguf);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->rope_inv_freq, g_free);
  G_OBJECT_CLASS (ane_llama_model_parent_class)->finalize (object);
}

static void
ane_llama_model_class_init (AneLlamaModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ane_llama_model_finalize;
}

static void
ane_llama_model_init (AneLlamaModel *self)
{
  self->weights = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->rms_eps = RMS_EPS;
  self->rope_base = ROPE_BASE;
  self->rope_mode = ANE_ROPE_INTERLEAVED;
}

/* Cuts the next weight out of the file, checking it lies inside. */
static gboolean
take_weight (AneLlamaModel *self,
             gsize         *offset,
             const char    *name,
             const gint64  *shape,
             guint          rank,
             GError       **error)
{
  gsize size = g_bytes_get_size (self->file);
  guint64 n = 1;
  g_autoptr(GBytes) slice = NULL;
  AneTensor *t;

  for (guint i = 0; i < rank; i++)
    n *= (guint64) shape[i];   /* each dim < 2^24 and rank <= 2: no overflow */
  n *= 4;
  if (*offset > size || n > size - *offset)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: truncated: weight %s needs %" G_GUINT64_FORMAT " bytes at offset %" G_GSIZE_FORMAT
                   " but the file is %" G_GSIZE_FORMAT " bytes",
                   self->path, name, n, *offset, size);
      return FALSE;
    }
  if (!g_str_has_prefix (name, "rope_"))
    {
      slice = g_bytes_new_from_bytes (self->file, *offset, n);
      t = ane_tensor_new_from_bytes (name, ANE_DTYPE_FLOAT32, shape, rank, slice, error);
      if (t == NULL)
        return FALSE;
      g_hash_table_insert (self->weights, g_strdup (name), t);
    }
  *offset += n;
  return TRUE;
}

/* Weights stacked over layers: one tensor per layer, named layers.<l>.<name>. */
static gboolean
take_stacked (AneLlamaModel *self,
              gsize         *offset,
              const char    *name,
              const gint64  *shape,
              guint          rank,
              GError       **error)
{
  for (gint64 l = 0; l < self->n_layers; l++)
    {
      g_autofree char *full = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", l, name);
      if (!take_weight (self, offset, full, shape, rank, error))
        return FALSE;
    }
  return TRUE;
}

/**
 * ane_llama_model_load_llama2c:
 * @checkpoint: a llama2.c checkpoint (`.bin`)
 * @error: return location for a #GError
 *
 * Maps a llama2.c checkpoint and checks it: the header values must be
 * positive and consistent (`dim` a multiple of `n_heads`, `n_heads` of
 * `n_kv_heads`, an even head size) and every weight must lie inside the file.
 * A failure is %ANE_ERROR_PARSE with a message naming the file, the weight
 * and the offset; a path that cannot be opened or is not a regular file (a
 * FIFO, a device) is %ANE_ERROR_IO.
 *
 * Returns: (transfer full): the model, or %NULL with @error set
 */
AneLlamaModel *
ane_llama_model_load_llama2c (const char  *checkpoint,
                              GError     **error)
{
  g_autoptr(AneLlamaModel) self = NULL;
  g_autoptr(GBytes) mapped = NULL;
  g_autoptr(GError) local_error = NULL;
  static const char *const fields[7] = {
    "dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"
  };
  gint32 header[7];
  const guint8 *data;
  gsize size, offset = 0;
  gint64 head, q_dim, kv_dim;

  g_return_val_if_fail (checkpoint != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* A regular file only (a FIFO would block the open for ever). */
  mapped = ane_file_map_bytes (checkpoint, &local_error);
  if (mapped == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s", local_error->message);
      return NULL;
    }
  self = g_object_new (ANE_TYPE_LLAMA_MODEL, NULL);
  self->path = g_strdup (checkpoint);
  self->file = g_steal_pointer (&mapped);
  data = g_bytes_get_data (self->file, &size);

  for (guint i = 0; i < 7; i++)
    {
      guint32 u;

      if (size - offset < 4)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: truncated at offset %" G_GSIZE_FORMAT " reading header field %s (file is %" G_GSIZE_FORMAT " bytes)",
                       checkpoint, offset, fields[i], size);
          return NULL;
        }
      u = (guint32) data[offset] | ((guint32) data[offset + 1] << 8) |
          ((guint32) data[offset + 2] << 16) | ((guint32) data[offset + 3] << 24);
      header[i] = (gint32) u;
      offset += 4;
    }
  self->dim = header[0];
  self->hidden_dim = header[1];
  self->n_layers = header[2];
  self->n_heads = header[3];
  self->n_kv_heads = header[4];
  self->shared_classifier = header[5] > 0;
  self->vocab_size = header[5] < 0 ? -(gint64) header[5] : header[5];
  self->seq_len = header[6];

  for (guint i = 0; i < 7; i++)
    {
      gint64 v = i == 5 ? self->vocab_size : header[i];
      if (v <= 0 || v > (1 << 24))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: header field %s at offset %u is %d, out of range",
                       checkpoint, fields[i], i * 4, header[i]);
          return NULL;
        }
    }
  if (self->dim % self->n_heads != 0 || self->n_heads % self->n_kv_heads != 0 ||
      (self->dim / self->n_heads) % 2 != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: inconsistent header: dim %" G_GINT64_FORMAT ", n_heads %" G_GINT64_FORMAT
                   ", n_kv_heads %" G_GINT64_FORMAT " (dim must be a multiple of n_heads, n_heads of "
                   "n_kv_heads, and the head size even)",
                   checkpoint, self->dim, self->n_heads, self->n_kv_heads);
      return NULL;
    }
  head = self->dim / self->n_heads;
  q_dim = self->n_heads * head;
  kv_dim = self->n_kv_heads * head;

  if (!take_weight (self, &offset, "token_embedding", (const gint64[]) { self->vocab_size, self->dim }, 2, error) ||
      !take_stacked (self, &offset, "attention_norm", (const gint64[]) { self->dim }, 1, error) ||
      !take_stacked (self, &offset, "wq", (const gint64[]) { q_dim, self->dim }, 2, error) ||
      !take_stacked (self, &offset, "wk", (const gint64[]) { kv_dim, self->dim }, 2, error) ||
      !take_stacked (self, &offset, "wv", (const gint64[]) { kv_dim, self->dim }, 2, error) ||
      !take_stacked (self, &offset, "wo", (const gint64[]) { self->dim, q_dim }, 2, error) ||
      !take_stacked (self, &offset, "ffn_norm", (const gint64[]) { self->dim }, 1, error) ||
      !take_stacked (self, &offset, "w1", (const gint64[]) { self->hidden_dim, self->dim }, 2, error) ||
      !take_stacked (self, &offset, "w2", (const gint64[]) { self->dim, self->hidden_dim }, 2, error) ||
      !take_stacked (self, &offset, "w3", (const gint64[]) { self->hidden_dim, self->dim }, 2, error) ||
      !take_weight (self, &offset, "final_norm", (const gint64[]) { self->dim }, 1, error) ||
      /* the precomputed RoPE cos/sin tables of old checkpoints: recomputed by the rope op */
      !take_weight (self, &offset, "rope_freq_cis_real", (const gint64[]) { self->seq_len, head / 2 }, 2, error) ||
      !take_weight (self, &offset, "rope_freq_cis_imag", (const gint64[]) { self->seq_len, head / 2 }, 2, error))
    return NULL;
  if (!self->shared_classifier &&
      !take_weight (self, &offset, "output", (const gint64[]) { self->vocab_size, self->dim }, 2, error))
    return NULL;
  return g_steal_pointer (&self);
}

/* GGUF loading ----------------------------------------------------------- */

static gboolean
gguf_hparam (AneGgufFile  *file,
             const char   *arch,
             const char   *suffix,
             gint64        fallback,
             gint64       *out,
             GError      **error)
{
  g_autofree char *key = g_strdup_printf ("%s.%s", arch, suffix);

  if (fallback >= 0 && !ane_gguf_file_has_key (file, key))
    {
      *out = fallback;
      return TRUE;
    }
  if (!ane_gguf_file_get_int (file, key, out, error))
    return FALSE;
  if (*out <= 0 || *out > (1 << 24))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: %s is %" G_GINT64_FORMAT ", out of range",
                   ane_gguf_file_get_path (file), key, *out);
      return FALSE;
    }
  return TRUE;
}

static gboolean
gguf_hparam_float (AneGgufFile  *file,
                   const char   *arch,
                   const char   *suffix,
                   double        fallback,
                   double       *out,
                   GError      **error)
{
  g_autofree char *key = g_strdup_printf ("%s.%s", arch, suffix);

  if (fallback > 0.0 && !ane_gguf_file_has_key (file, key))
    {
      *out = fallback;
      return TRUE;
    }
  if (!ane_gguf_file_get_float (file, key, out, error))
    return FALSE;
  if (!(*out > 0.0) || !isfinite (*out))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: %s is %g, out of range", ane_gguf_file_get_path (file), key, *out);
      return FALSE;
    }
  return TRUE;
}

/* Takes GGUF tensor @gguf_name as weight @name, checking its shape; float
 * weights must be F32, F16 or BF16, matrices may also be GGUF block types
 * (kept as they are, mapped). F16 matrices (the linear weights and the
 * token embedding) stay F16 too: the graphs widen them with a cast
 * (float_param) the lowering makes a constexpr_cast, which the CPU backend
 * multiplies and gathers on the halves, so memory follows the file (issue
 * 15). F16 vectors and BF16 weights are converted to F32 at load. */
static AneTensor *
take_gguf (AneLlamaModel *self,
           const char    *gguf_name,
           const char    *name,
           const gint64  *shape,
           guint          rank,
           GError       **error)
{
  g_autoptr(AneTensor) t = NULL;
  g_autoptr(GString) want = g_string_new (NULL), got = g_string_new (NULL);
  const gint64 *tshape;
  guint trank;
  gboolean ok;
  AneDType dtype;

  t = ane_gguf_file_dup_tensor (self->gguf, gguf_name, error);
  if (t == NULL)
    return NULL;
  tshape = ane_tensor_get_shape (t, &trank);
  ok = trank == rank;
  for (guint i = 0; ok && i < rank; i++)
    ok = tshape[i] == shape[i];
  if (!ok)
    {
      for (guint i = 0; i < rank; i++)
        g_string_append_printf (want, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
      for (guint i = 0; i < trank; i++)
        g_string_append_printf (got, "%s%" G_GINT64_FORMAT, i ? ", " : "", tshape[i]);
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "%s: tensor %s has shape [%s], expected [%s]", self->path, gguf_name, got->str, want->str);
      return NULL;
    }
  dtype = ane_tensor_get_dtype (t);
  if (dtype == ANE_DTYPE_FLOAT16 && rank == 2)
    ;   /* kept as it is (see above) */
  else if (dtype == ANE_DTYPE_FLOAT16 || dtype == ANE_DTYPE_BFLOAT16)
    {
      gsize n;
      g_autofree float *f = ane_tensor_dup_floats (t, &n, error);
      if (f == NULL)
        return NULL;
      g_clear_object (&t);
      t = ane_tensor_new_from_floats (name, shape, rank, f, n, error);
      if (t == NULL)
        return NULL;
    }
  else if (dtype != ANE_DTYPE_FLOAT32 && !(rank == 2 && ane_dtype_is_block (dtype)))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                   "%s: tensor %s has dtype %s, expected F32, F16, BF16%s", self->path, gguf_name,
                   ane_dtype_to_string (dtype), rank == 2 ? " or a block type" : "");
      return NULL;
    }
  g_hash_table_insert (self->weights, g_strdup (name), g_object_ref (t));
  return g_steal_pointer (&t);
}

/* The token embedding embd (GGUF blocks) dequantized to a float32 table,
 * stored as the model's token_embedding. */
static gboolean
embedding_table (AneLlamaModel  *self,
                 AneTensor      *embd,
                 GError        **error)
{
  gsize n = (gsize) (self->vocab_size * self->dim);
  float *f = g_try_new (float, n);
  GBytes *bytes = ane_tensor_get_data (embd);
  g_autoptr(GBytes) table_bytes = NULL;
  AneTensor *table;

  /* dequantized straight to float (ggml's values, bit for bit) and
   * handed to the tensor: one table in memory, no double or second copy */
  if (f == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE, "%s: no memory for the %" G_GSIZE_FORMAT
                   "-entry token embedding table", self->path, n);
      return FALSE;
    }
  table_bytes = g_bytes_new_take (f, n * sizeof (float));
  if (!ane_dequant_blocks_f32 (ane_tensor_get_dtype (embd), g_bytes_get_data (bytes, NULL),
                               g_bytes_get_size (bytes), n, f, error))
    return FALSE;
  table = ane_tensor_new_from_bytes ("token_embedding", ANE_DTYPE_FLOAT32,
                                     (const gint64[]) { self->vocab_size, self->dim }, 2, table_bytes, error);
  if (table == NULL)
    return FALSE;
  g_hash_table_insert (self->weights, g_strdup ("token_embedding"), table);
  return TRUE;
}

/**
 * ane_llama_model_load_gguf:
 * @path: a GGUF model file
 * @error: return location for a #GError
 *
 * Maps a llama.cpp GGUF model of architecture `llama`, `mistral` or `qwen2`
 * (any other architecture is %ANE_ERROR_UNSUPPORTED) and imports it for the
 * same graphs as a llama2.c checkpoint.
 *
 * The hyper-parameters come from the `<arch>.embedding_length`,
 * `.block_count`, `.feed_forward_length`, `.attention.head_count`,
 * `.attention.head_count_kv` (default: the head count),
 * `.attention.layer_norm_rms_epsilon`, `.rope.freq_base` (default 10000) and
 * `.context_length` keys, the vocabulary size from the rows of
 * `token_embd.weight`. The tensors are llama.cpp's `token_embd`,
 * `blk.N.attn_norm`, `blk.N.attn_q`/`k`/`v`/`output`, `blk.N.ffn_norm`,
 * `blk.N.ffn_gate`/`up`/`down`, `output_norm` and `output` (absent: tied to
 * the embedding), plus the `attn_q`/`k`/`v` biases of qwen2; their names in
 * [method@Ane.LlamaModel.get_weight] are those of the llama2.c loader
 * (`bq`, `bk`, `bv` for the biases). Rotary embeddings pair consecutive
 * features for llama and mistral and the two halves of each head for qwen2,
 * as llama.cpp does.
 *
 * F16 matrices (the token embedding included) stay float16 (the graphs
 * widen them with a cast); F16 vectors and BF16 tensors are converted to
 * float32. Linear weights of a GGUF
 * block type stay quantized and are multiplied with `dequant_matmul`. A
 * Q8_0, Q4_0 or Q4_K token embedding stays quantized too: the graphs gather
 * its rows through `dequant_moe_weights` (at iOS18 the CPU backend
 * dequantizes only the rows gathered, from the blocks); an embedding of
 * another block type is dequantized to a float32 table for the gather.
 * Either way a tied
 * classifier `output` is the embedding's blocks. A missing key or
 * tensor, a wrong shape or an unsupported dtype fails with a message naming
 * the key or tensor.
 *
 * Returns: (transfer full): the model, or %NULL with @error set
 */
AneLlamaModel *
ane_llama_model_load_gguf (const char  *path,
                           GError     **error)
{
  g_autoptr(AneLlamaModel) self = NULL;
  g_autoptr(AneGgufFile) file = NULL;
  g_auto(GStrv) tensors = NULL;
  g_autoptr(AneTensor) embd = NULL;
  const char *arch;
  gboolean qwen2;
  gint64 head, q_dim, kv_dim;
  const gint64 *eshape;
  guint erank;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  file = ane_gguf_file_new (path, error);
  if (file == NULL)
    return NULL;
  arch = ane_gguf_file_get_architecture (file);
  if (arch == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                   "%s: no general.architecture key", path);
      return NULL;
    }
  if (g_strcmp0 (arch, "llama") != 0 && g_strcmp0 (arch, "mistral") != 0 && g_strcmp0 (arch, "qwen2") != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: general.architecture '%s' is not supported (llama, mistral, qwen2)", path, arch);
      return NULL;
    }
  qwen2 = g_strcmp0 (arch, "qwen2") == 0;

  self = g_object_new (ANE_TYPE_LLAMA_MODEL, NULL);
  self->path = g_strdup (path);
  self->gguf = g_object_ref (file);
  /* llama.cpp's llama_model_rope_type (src/llama-model.cpp): LLM_ARCH_LLAMA
   * (and so Mistral files, written as llama, and LLM_ARCH_MISTRAL3) use
   * LLAMA_ROPE_TYPE_NORM, consecutive pairs (convert_hf_to_gguf.py permutes
   * q/k for it); LLM_ARCH_QWEN2 uses LLAMA_ROPE_TYPE_NEOX. */
  self->rope_mode = qwen2 ? ANE_ROPE_NEOX : ANE_ROPE_INTERLEAVED;
  if (!gguf_hparam (file, arch, "embedding_length", -1, &self->dim, error) ||
      !gguf_hparam (file, arch, "block_count", -1, &self->n_layers, error) ||
      !gguf_hparam (file, arch, "feed_forward_length", -1, &self->hidden_dim, error) ||
      !gguf_hparam (file, arch, "attention.head_count", -1, &self->n_heads, error) ||
      !gguf_hparam (file, arch, "attention.head_count_kv", self->n_heads, &self->n_kv_heads, error) ||
      !gguf_hparam (file, arch, "context_length", -1, &self->seq_len, error) ||
      !gguf_hparam_float (file, arch, "attention.layer_norm_rms_epsilon", -1.0, &self->rms_eps, error) ||
      !gguf_hparam_float (file, arch, "rope.freq_base", ROPE_BASE, &self->rope_base, error))
    return NULL;
  if (self->dim % self->n_heads != 0 || self->n_heads % self->n_kv_heads != 0 ||
      (self->dim / self->n_heads) % 2 != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: inconsistent %s.embedding_length %" G_GINT64_FORMAT ", %s.attention.head_count %" G_GINT64_FORMAT
                   ", %s.attention.head_count_kv %" G_GINT64_FORMAT,
                   path, arch, self->dim, arch, self->n_heads, arch, self->n_kv_heads);
      return NULL;
    }
  head = self->dim / self->n_heads;
  q_dim = self->n_heads * head;
  kv_dim = self->n_kv_heads * head;

  tensors = ane_gguf_file_list_tensors (file);

  /* token_embd: the vocabulary is its row count */
  embd = ane_gguf_file_dup_tensor (file, "token_embd.weight", error);
  if (embd == NULL)
    return NULL;
  eshape = ane_tensor_get_shape (embd, &erank);
  if (erank != 2 || eshape[1] != self->dim || eshape[0] <= 0 || eshape[0] > (1 << 24))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "%s: tensor token_embd.weight must be [vocab, %" G_GINT64_FORMAT "]", path, self->dim);
      return NULL;
    }
  self->vocab_size = eshape[0];
  g_clear_object (&embd);
  embd = take_gguf (self, "token_embd.weight", "token_embedding",
                    (const gint64[]) { self->vocab_size, self->dim }, 2, error);
  if (embd == NULL)
    return NULL;

  for (gint64 l = 0; l < self->n_layers; l++)
    {
      static const struct { const char *gguf, *name; int rows, cols; gboolean optional; } per_layer[] = {
        /* rows/cols: 0 none (a vector), 1 dim, 2 q_dim, 3 kv_dim, 4 hidden */
        { "attn_norm.weight",   "attention_norm", 1, 0, FALSE },
        { "attn_q.weight",      "wq",             2, 1, FALSE },
        { "attn_k.weight",      "wk",             3, 1, FALSE },
        { "attn_v.weight",      "wv",             3, 1, FALSE },
        { "attn_output.weight", "wo",             1, 2, FALSE },
        { "ffn_norm.weight",    "ffn_norm",       1, 0, FALSE },
        { "ffn_gate.weight",    "w1",             4, 1, FALSE },
        { "ffn_down.weight",    "w2",             1, 4, FALSE },
        { "ffn_up.weight",      "w3",             4, 1, FALSE },
        { "attn_q.bias",        "bq",             2, 0, TRUE },
        { "attn_k.bias",        "bk",             3, 0, TRUE },
        { "attn_v.bias",        "bv",             3, 0, TRUE },
      };
      const gint64 sizes[5] = { 0, self->dim, q_dim, kv_dim, self->hidden_dim };

      for (guint i = 0; i < G_N_ELEMENTS (per_layer); i++)
        {
          g_autofree char *gname = g_strdup_printf ("blk.%" G_GINT64_FORMAT ".%s", l, per_layer[i].gguf);
          g_autofree char *name = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", l, per_layer[i].name);
          const gint64 shape[2] = { sizes[per_layer[i].rows], sizes[per_layer[i].cols] };
          g_autoptr(AneTensor) t = NULL;

          /* the q/k/v biases: required for qwen2, taken when present otherwise */
          if (per_layer[i].optional && !qwen2 && !g_strv_contains ((const char *const *) tensors, gname))
            continue;
          t = take_gguf (self, gname, name, shape, per_layer[i].cols ? 2 : 1, error);
          if (t == NULL)
            return NULL;
        }
    }
  {
    g_autoptr(AneTensor) t = take_gguf (self, "output_norm.weight", "final_norm",
                                        (const gint64[]) { self->dim }, 1, error);
    if (t == NULL)
      return NULL;
  }
  if (g_strv_contains ((const char *const *) tensors, "output.weight"))
    {
      g_autoptr(AneTensor) t = take_gguf (self, "output.weight", "output",
                                          (const gint64[]) { self->vocab_size, self->dim }, 2, error);
      if (t == NULL)
        return NULL;
      self->shared_classifier = FALSE;
    }
  else
    self->shared_classifier = TRUE;

  /* A quantized embedding: its blocks are the tied classifier. A Q8_0,
   * Q4_0 or Q4_K one stays in its blocks for the gather too
   * (embedding_param; issue 15: a float32 table took 4 bytes a weight, more
   * than the whole Q4_0 file). The gathered Q4_K rows are then the lowered
   * form's, within 2^-21 of ggml's (ane-lower-q4k.c), as the same model's
   * Q4_K projections already are; any other block type gets a float32
   * table of ggml's values. */
  if (ane_dtype_is_block (ane_tensor_get_dtype (embd)))
    {
      AneDType dtype = ane_tensor_get_dtype (embd);

      if (self->shared_classifier)
        g_hash_table_insert (self->weights, g_strdup ("output"), g_object_ref (embd));
      if (dtype != ANE_DTYPE_Q8_0 && dtype != ANE_DTYPE_Q4_0 && dtype != ANE_DTYPE_Q4_K &&
          !embedding_table (self, embd, error))
        return NULL;
    }
  return g_steal_pointer (&self);
}

/**
 * ane_llama_model_get_dim:
 * @self: a model
 *
 * Gets the width of the residual stream.
 *
 * Returns: the model dimension
 */
gint64
ane_llama_model_get_dim (AneLlamaModel *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), 0);
  return self->dim;
}

/**
 * ane_llama_model_get_hidden_dim:
 * @self: a model
 *
 * Gets the width of the feed-forward layer.
 *
 * Returns: the hidden dimension
 */
gint64
ane_llama_model_get_hidden_dim (AneLlamaModel *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), 0);
  return self->hidden_dim;
}

/**
 * ane_llama_model_get_n_layers:
 * @self: a model
 *
 * Gets the number of transformer blocks.
 *
 * Returns: the number of layers
 */
gint64
ane_llama_model_get_n_layers (AneLlamaModel *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), 0);
  return self->n_layers;
}

/**
 * ane_llama_model_get_n_heads:
 * @self: a model
 *
 * Gets the number of query heads.
 *
 * Returns: the number of attention heads
 */
gint64
ane_llama_model_get_n_heads (AneLlamaModel *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), 0);
  return self->n_heads;
}

/**
 * ane_llama_model_get_n_kv_heads:
 * @self: a model
 *
 * Gets the number of key/value heads (fewer than the query heads for
 * grouped-query attention).
 *
 * Returns: the number of key/value heads
 */
gint64
ane_llama_model_get_n_kv_heads (AneLlamaModel *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), 0);
  return self->n_kv_heads;
}

/**
 * ane_llama_model_get_vocab_size:
 * @self: a model
 *
 * Gets the number of tokens in the vocabulary.
 *
 * Returns: the vocabulary size
 */
gint64
ane_llama_model_get_vocab_size (AneLlamaModel *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), 0);
  return self->vocab_size;
}

/**
 * ane_llama_model_get_seq_len:
 * @self: a model
 *
 * Gets the longest sequence the model was trained for.
 *
 * Returns: the maximum sequence length
 */
gint64
ane_llama_model_get_seq_len (AneLlamaModel *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), 0);
  return self->seq_len;
}

/**
 * ane_llama_model_get_shared_classifier:
 * @self: a model
 *
 * Gets whether the output head reuses the token embedding (a positive
 * `vocab_size` in the checkpoint header).
 *
 * Returns: %TRUE when the classifier is tied to the embedding
 */
gboolean
ane_llama_model_get_shared_classifier (AneLlamaModel *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), FALSE);
  return self->shared_classifier;
}

/**
 * ane_llama_model_get_weight:
 * @self: a model
 * @name: a weight name: `token_embedding`, `final_norm`, `output` (untied
 *   classifiers only), or `layers.<l>.<w>` with `<w>` one of `attention_norm`,
 *   `wq`, `wk`, `wv`, `wo`, `ffn_norm`, `w1`, `w2`, `w3` (and `bq`, `bk`,
 *   `bv` for models with attention biases, `bo` for Hugging Face ones with
 *   `attention_bias`, `q_norm`, `k_norm` for Qwen3)
 *
 * Looks a weight up by name; matrices are `[out, in]` as in the file. For a
 * GGUF model with a block-quantized, tied embedding, `output` is the
 * quantized blocks and `token_embedding` the same blocks (Q8_0, Q4_0,
 * Q4_K) or their dequantized float32 table (other block types).
 *
 * Returns: (transfer none) (nullable): the weight, or %NULL when there is none
 */
AneTensor *
ane_llama_model_get_weight (AneLlamaModel *self,
                            const char    *name)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return g_hash_table_lookup (self->weights, name);
}

/* ------------------------------------------------------------------------ */
/* Graph building                                                           */

typedef struct {
  AneLlamaModel *model;
  AneGraph *g;
  GPtrArray *keep;      /* every intermediate tensor, released at the end */
  GHashTable *params;   /* weight name → graph param (the embedding is used twice) */
  GError *error;
  AneTensor *rope_cos, *rope_sin;   /* [S, head]: scaled RoPE's (rope_inv_freq), made once */
  gboolean dynamic;     /* training: every weight a float32 dynamic param (ane_llama_build_train) */
  gboolean layer_kernel;   /* ane_llama_build_layer_kernel: params named without "layers.N." */
  AneTensor *packed;       /* packed kernels: the one dynamic param "weights" every weight is cut from */
  GHashTable *offsets;     /* packed kernels: input name → AneLlamaPackedWeight* */
} Builder;

static AneTensor *
keep (Builder   *b,
      AneTensor *t)
{
  if (t != NULL)
    g_ptr_array_add (b->keep, t);
  return t;
}

/* Evaluates one builder call unless an earlier one failed, so a whole block
 * can be written straight and checked once at the end. */
#define B(call) (b->error != NULL ? NULL : keep (b, (call)))

/* ane-llama-private.h: a weight's name as a program input ("layers.0.wq"
 * → "layers_0_wq"): a dynamic param is an input of the program, and Core ML
 * input names are identifiers. */
char *
ane_llama_train_param_name (const char *weight)
{
  return g_strdelimit (g_strdup (weight), ".", '_');
}

/* For training: the weight as a float32 input of the program, fed by the
 * trainer at every step (no recompiling). Block-quantized weights cannot be
 * trained: their gradient has no home. */
static AneTensor *
dynamic_param (Builder    *b,
               const char *name,
               AneTensor  *w)
{
  AneDType dtype = ane_tensor_get_dtype (w);
  g_autofree char *input = NULL;
  const gint64 *shape;
  guint rank;

  if (dtype != ANE_DTYPE_FLOAT32 && dtype != ANE_DTYPE_FLOAT16 && dtype != ANE_DTYPE_BFLOAT16)
    {
      g_set_error (&b->error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "weight %s is %s; training needs float weights (a llama2.c checkpoint, or an F32/F16 "
                   "GGUF or Hugging Face checkpoint)", name, ane_dtype_to_string (dtype));
      return NULL;
    }
  shape = ane_tensor_get_shape (w, &rank);
  if (b->layer_kernel && g_str_has_prefix (name, "layers.") && strchr (name + 7, '.') != NULL)
    input = ane_llama_train_param_name (strchr (name + 7, '.') + 1);
  else
    input = ane_llama_train_param_name (name);
  if (b->packed != NULL)
    {
      /* cut from the packed weights: one input surface for them all */
      AneLlamaPackedWeight *slot = g_hash_table_lookup (b->offsets, input);
      gint64 width = ane_tensor_get_shape (b->packed, &rank)[1];
      gint64 rows = (slot->n + width - 1) / width;
      g_autoptr(AneTensor) block = NULL;
      g_autoptr(AneTensor) flat = NULL;
      g_autoptr(AneTensor) cut = NULL;

      g_assert (slot != NULL && slot->offset % width == 0);
      shape = ane_tensor_get_shape (w, &rank);
      /* whole rows of the packed [rows, width], then the weight's shape
       * (a last row only partly used is cut first) */
      block = ane_graph_narrow (b->g, b->packed, 0, slot->offset / width, rows, &b->error);
      if (block == NULL || slot->n == rows * width)
        return block != NULL ? ane_graph_reshape (b->g, block, shape, rank, &b->error) : NULL;
      flat = ane_graph_reshape (b->g, block, (const gint64[]) { rows * width }, 1, &b->error);
      cut = flat != NULL ? ane_graph_narrow (b->g, flat, 0, 0, slot->n, &b->error) : NULL;
      return cut != NULL ? ane_graph_reshape (b->g, cut, shape, rank, &b->error) : NULL;
    }
  return ane_graph_param_dynamic (b->g, input, ANE_DTYPE_FLOAT32, shape, rank, &b->error);
}

static AneTensor *
param (Builder    *b,
       const char *name)
{
  AneTensor *p;

  if (b->error != NULL)
    return NULL;
  /* a tied classifier on the quantized embedding's blocks: one param (and
   * so one weight in the program) for the gather and the classifier */
  if (g_str_equal (name, "output") && g_hash_table_lookup (b->model->weights, "output") != NULL &&
      g_hash_table_lookup (b->model->weights, "output") == g_hash_table_lookup (b->model->weights, "token_embedding"))
    name = "token_embedding";
  p = g_hash_table_lookup (b->params, name);
  if (p == NULL)
    {
      AneTensor *w = g_hash_table_lookup (b->model->weights, name);

      g_assert (w != NULL);
      if (b->dynamic)
        p = B (dynamic_param (b, name, w));
      else
        p = B (ane_graph_param_with_value (b->g, w, &b->error));
      if (p != NULL)
        g_hash_table_insert (b->params, g_strdup (name), p);
    }
  return p;
}

/* A float weight as float32: a GGUF F16 matrix (take_gguf) widened by a
 * cast, any other as it is. */
static AneTensor *
float_param (Builder    *b,
             const char *name)
{
  AneTensor *w = g_hash_table_lookup (b->model->weights, name);
  AneTensor *p = param (b, name);

  if (w != NULL && ane_tensor_get_dtype (w) == ANE_DTYPE_FLOAT16 && !b->dynamic)
    return B (ane_graph_cast (b->g, p, ANE_DTYPE_FLOAT32, &b->error));
  return p;
}

/* The token embedding for the gather: float, or a GGUF block table
 * dequantized by dequant_moe_weights, which the lowering makes a
 * constexpr_blockwise_shift_scale at iOS18 (Q8_0, Q4_0: the gather then
 * dequantizes just its rows from the blocks on the CPU backend, whose
 * values are ggml's, bit for bit) and a host-dequantized const elsewhere. */
static AneTensor *
embedding_param (Builder *b)
{
  AneTensor *w = g_hash_table_lookup (b->model->weights, "token_embedding");

  if (w != NULL && ane_dtype_is_block (ane_tensor_get_dtype (w)) && !b->dynamic)
    return B (ane_graph_dequant_moe_weights (b->g, param (b, "token_embedding"), ANE_DTYPE_FLOAT32, &b->error));
  return float_param (b, "token_embedding");
}

/* y = x · Wᵀ (+ bias): both sources store matrices [out, in]. A GGUF block
 * type stays quantized: dequant_matmul takes [out, in] blocks directly. */
static AneTensor *
project (Builder    *b,
         AneTensor  *x,
         const char *name)
{
  AneTensor *w = g_hash_table_lookup (b->model->weights, name);
  AneTensor *p = param (b, name);

  if (w != NULL && ane_dtype_is_block (ane_tensor_get_dtype (w)))
    return B (ane_graph_dequant_matmul (b->g, x, p, &b->error));
  return B (ane_graph_matmul (b->g, x, float_param (b, name), FALSE, TRUE, &b->error));
}

static AneTensor *
linear (Builder    *b,
        AneTensor  *x,
        gint64      layer,
        const char *name,
        const char *bias)
{
  g_autofree char *full = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", layer, name);
  g_autofree char *bfull = bias != NULL ? g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", layer, bias) : NULL;
  AneTensor *y = project (b, x, full);

  if (bfull != NULL && g_hash_table_contains (b->model->weights, bfull))
    y = B (ane_graph_add (b->g, y, param (b, bfull), &b->error));
  return y;
}

static AneTensor *
layer_param (Builder    *b,
             gint64      layer,
             const char *name)
{
  g_autofree char *full = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", layer, name);
  return param (b, full);
}

/* [S, heads·head] → [1, heads, S, head] */
static AneTensor *
split_heads (Builder   *b,
             AneTensor *x,
             gint64     S,
             gint64     heads,
             gint64     head)
{
  AneTensor *r = B (ane_graph_reshape (b->g, x, (const gint64[]) { 1, S, heads, head }, 4, &b->error));
  return B (ane_graph_transpose (b->g, r, (const gint64[]) { 0, 2, 1, 3 }, 4, &b->error));
}

/* For decode: where the S new keys and values go, and the additive mask
 * hiding, for each query, the rows after its own position (iota > pos).
 * The new rows are written with slice_update (iOS18, as the states are) at
 * begin = [0, 0, positions[0], 0]: the S tokens of a step sit at
 * consecutive positions. A write of S rows touches S rows: no whole-cache
 * select per token (issue 15, item 4; the Neural Engine step writes its
 * caches the same way, ane-llama-ane.c). */
typedef struct {
  gint64 max_seq;
  AneTensor *begin;  /* int32 [4]: [0, 0, positions[0], 0] */
  AneTensor *end;    /* begin + [1, n_kv_heads, S, head] */
  AneTensor *bias;   /* float [1, 1, S, max_seq] */
} Cache;

/* ane-llama-private.h */
AneTensor *
ane_llama_write_cache (AneGraph   *graph,
                       AneTensor  *state,
                       AneTensor  *rows,
                       AneTensor  *begin,
                       AneTensor  *end,
                       GError    **error)
{
  g_autoptr(AneTensor) old = NULL;
  g_autoptr(AneTensor) rows16 = NULL;
  g_autoptr(AneTensor) updated = NULL;
  g_autoptr(AneTensor) written = NULL;

  if ((old = ane_graph_read_state (graph, state, error)) == NULL ||
      (rows16 = ane_graph_cast (graph, rows, ANE_DTYPE_FLOAT16, error)) == NULL)
    return NULL;
  /* the IR's optional end: the box as computed, checked by the run */
  updated = ane_graph_add_node (graph, ANE_OP_SLICE_UPDATE, (AneTensor *[]) { old, rows16, begin, end }, 4,
                                NULL, NULL, error);
  if (updated == NULL || (written = ane_graph_write_state (graph, state, updated, error)) == NULL)
    return NULL;
  return ane_graph_cast (graph, written, ANE_DTYPE_FLOAT32, error);
}

/* The cache state `name` after writing the new rows [1, n_kv_heads, S,
 * head], as float32 for the attention. */
static AneTensor *
cache_write (Builder     *b,
             const char  *name,
             AneTensor   *rows,
             Cache       *cache)
{
  AneLlamaModel *m = b->model;
  const gint64 shape[4] = { 1, m->n_kv_heads, cache->max_seq, ane_llama_head (m) };
  AneTensor *state = B (ane_graph_state (b->g, name, ANE_DTYPE_FLOAT16, shape, 4, &b->error));

  return B (ane_llama_write_cache (b->g, state, rows, cache->begin, cache->end, &b->error));
}

/* RoPE with the model's own inverse frequencies (rope_inv_freq: Llama 3's
 * rope_scaling), which the rope op's theta cannot express: transformers'
 * apply_rotary_pos_emb, x·cos + rotate_half(x)·sin, with cos and sin of
 * positions·inv_freq repeated over both halves of the head
 * (LlamaRotaryEmbedding: emb = cat(freqs, freqs)). x is [1, heads, S, head]. */
static AneTensor *
scaled_rope (Builder   *b,
             AneTensor *x,
             AneTensor *positions,
             gint64     S)
{
  AneLlamaModel *m = b->model;
  AneGraph *g = b->g;
  gint64 D = ane_llama_head (m), half = D / 2;
  AneTensor *x1, *x2, *parts[2], *rotated, *a, *c;

  if (b->rope_cos == NULL && b->error == NULL)
    {
      g_autofree float *table = g_new (float, D);
      g_autoptr(AneTensor) t = NULL;
      AneTensor *inv, *pos, *angle;

      for (gint64 j = 0; j < D; j++)
        table[j] = m->rope_inv_freq[j % half];
      t = ane_tensor_new_from_floats ("rope_inv_freq", (const gint64[]) { 1, D }, 2, table, (gsize) D, &b->error);
      inv = B (ane_graph_const (g, t, &b->error));
      pos = B (ane_graph_cast (g, positions, ANE_DTYPE_FLOAT32, &b->error));
      pos = B (ane_graph_reshape (g, pos, (const gint64[]) { S, 1 }, 2, &b->error));
      angle = B (ane_graph_mul (g, pos, inv, &b->error));
      b->rope_cos = B (ane_graph_cos (g, angle, &b->error));
      b->rope_sin = B (ane_graph_sin (g, angle, &b->error));
    }
  x1 = B (ane_graph_narrow (g, x, 3, 0, half, &b->error));
  x2 = B (ane_graph_narrow (g, x, 3, half, half, &b->error));
  parts[0] = B (ane_graph_neg (g, x2, &b->error));
  parts[1] = x1;
  rotated = b->error == NULL ? B (ane_graph_concat (g, parts, 2, 3, &b->error)) : NULL;
  a = B (ane_graph_mul (g, x, b->rope_cos, &b->error));
  c = B (ane_graph_mul (g, rotated, b->rope_sin, &b->error));
  return B (ane_graph_add (g, a, c, &b->error));
}

static AneTensor *
block (Builder   *b,
       AneTensor *x,
       AneTensor *positions,
       gint64     S,
       gint64     l,
       Cache     *cache)
{
  AneLlamaModel *m = b->model;
  AneGraph *g = b->g;
  gint64 head = ane_llama_head (m);
  AneTensor *xn, *q, *k, *v, *q4, *k4, *v4, *qr, *kr, *att, *o, *h1, *h3, *h;

  xn = B (ane_graph_rms_norm (g, x, layer_param (b, l, "attention_norm"), m->rms_eps, &b->error));
  q = linear (b, xn, l, "wq", "bq");
  k = linear (b, xn, l, "wk", "bk");
  v = linear (b, xn, l, "wv", "bv");
  q4 = split_heads (b, q, S, m->n_heads, head);
  k4 = split_heads (b, k, S, m->n_kv_heads, head);
  v4 = split_heads (b, v, S, m->n_kv_heads, head);
  if (m->qk_norm)
    {
      /* Qwen3: each head of q and k RMS-normalized over its head_dim
       * features, before RoPE (Qwen3Attention.forward, q_norm/k_norm on
       * the [.., head_dim] view; ane-llama-hf.c) */
      q4 = B (ane_graph_rms_norm (g, q4, layer_param (b, l, "q_norm"), m->rms_eps, &b->error));
      k4 = B (ane_graph_rms_norm (g, k4, layer_param (b, l, "k_norm"), m->rms_eps, &b->error));
    }
  if (m->rope_inv_freq != NULL)
    {
      qr = scaled_rope (b, q4, positions, S);
      kr = scaled_rope (b, k4, positions, S);
    }
  else
    {
      qr = B (ane_graph_rope (g, q4, positions, m->rope_mode, m->rope_base, 0, &b->error));
      kr = B (ane_graph_rope (g, k4, positions, m->rope_mode, m->rope_base, 0, &b->error));
    }
  if (cache == NULL)
    att = B (ane_graph_attention (g, qr, kr, v4, NULL, TRUE, 0.0, 0.0, &b->error));
  else
    {
      /* rows positions[0] .. positions[0] + S - 1 of both caches take the
       * new keys and values, then each query attends over all rows with
       * those past its position masked. */
      g_autofree char *kname = g_strdup_printf ("k_cache_%" G_GINT64_FORMAT, l);
      g_autofree char *vname = g_strdup_printf ("v_cache_%" G_GINT64_FORMAT, l);
      AneTensor *kw = cache_write (b, kname, kr, cache);
      AneTensor *vw = cache_write (b, vname, v4, cache);

      att = B (ane_graph_attention (g, qr, kw, vw, cache->bias, FALSE, 0.0, 0.0, &b->error));
    }
  att = B (ane_graph_transpose (g, att, (const gint64[]) { 0, 2, 1, 3 }, 4, &b->error));
  att = B (ane_graph_reshape (g, att, (const gint64[]) { S, m->n_heads * head }, 2, &b->error));
  o = linear (b, att, l, "wo", "bo");   /* bo: HF attention_bias only */
  x = B (ane_graph_add (g, x, o, &b->error));

  xn = B (ane_graph_rms_norm (g, x, layer_param (b, l, "ffn_norm"), m->rms_eps, &b->error));
  h1 = linear (b, xn, l, "w1", NULL);
  h3 = linear (b, xn, l, "w3", NULL);
  /* SwiGLU; Gemma's GeGLU takes the tanh GELU (gelu_pytorch_tanh) */
  if (m->gelu_tanh)
    h1 = B (ane_graph_gelu (g, h1, ANE_GELU_TANH, &b->error));
  else
    h1 = B (ane_graph_silu (g, h1, &b->error));
  h = B (ane_graph_mul (g, h1, h3, &b->error));
  o = linear (b, h, l, "w2", NULL);
  return B (ane_graph_add (g, x, o, &b->error));
}

/* The decode step's write position and mask (see Cache) for S tokens at
 * positions [S]. */
static void
cache_masks (Builder   *b,
             AneTensor *positions,
             gint64     S,
             Cache     *cache)
{
  AneGraph *graph = b->g;
  gint64 max_seq = cache->max_seq;
  g_autofree gint32 *iota_v = g_new (gint32, max_seq);
  const gint32 axis_v[4] = { 0, 0, 1, 0 };
  const gint32 box_v[4] = { 1, (gint32) b->model->n_kv_heads, (gint32) S,
                            (gint32) ane_llama_head (b->model) };
  g_autoptr(AneTensor) iota_t = NULL;
  g_autoptr(AneTensor) axis_t = NULL;
  g_autoptr(AneTensor) box_t = NULL;
  AneTensor *iota, *first, *axis, *box, *queries, *after, *ninf, *zero, *bias;

  for (gint64 i = 0; i < max_seq; i++)
    iota_v[i] = (gint32) i;
  iota_t = ane_tensor_new_from_ints ("iota", (const gint64[]) { max_seq }, 1, iota_v, max_seq, &b->error);
  iota = B (ane_graph_const (graph, iota_t, &b->error));
  /* begin = [0, 0, positions[0], 0]: the sequence axis of the cache */
  axis_t = ane_tensor_new_from_ints ("cache_axis", (const gint64[]) { 4 }, 1, axis_v, 4, &b->error);
  axis = B (ane_graph_const (graph, axis_t, &b->error));
  first = S == 1 ? positions : B (ane_graph_narrow (graph, positions, 0, 0, 1, &b->error));
  cache->begin = B (ane_graph_mul (graph, first, axis, &b->error));
  box_t = ane_tensor_new_from_ints ("cache_box", (const gint64[]) { 4 }, 1, box_v, 4, &b->error);
  box = B (ane_graph_const (graph, box_t, &b->error));
  cache->end = B (ane_graph_add (graph, cache->begin, box, &b->error));

  queries = S == 1 ? positions : B (ane_graph_reshape (graph, positions, (const gint64[]) { S, 1 }, 2, &b->error));
  after = B (ane_graph_gt (graph, iota, queries, &b->error));   /* [max_seq] or [S, max_seq] */
  ninf = B (ane_graph_scalar (graph, ANE_DTYPE_FLOAT32, -INFINITY, &b->error));
  zero = B (ane_graph_scalar (graph, ANE_DTYPE_FLOAT32, 0.0, &b->error));
  bias = B (ane_graph_where (graph, after, ninf, zero, &b->error));
  cache->bias = B (ane_graph_reshape (graph, bias, (const gint64[]) { 1, 1, S, max_seq }, 4, &b->error));
}

/* The mean cross-entropy against one-hot rows (all zero: ignored), from
 * primitives: for a program whose inputs are all float (the Neural
 * Engine's in-memory path binds float16 surfaces only). Stable as the
 * fused op: the row maximum is subtracted before exp. */
static AneTensor *
one_hot_cross_entropy (Builder   *b,
                       AneTensor *logits,
                       AneTensor *onehot)
{
  AneGraph *g = b->g;
  const gint64 last[] = { -1 };
  AneTensor *mx, *z, *e, *se, *lse, *mask, *picked, *rows, *total, *count, *one;

  mx = B (ane_graph_reduce_max (g, logits, last, 1, TRUE, &b->error));
  mx = B (ane_graph_stop_gradient (g, mx, &b->error));
  z = B (ane_graph_sub (g, logits, mx, &b->error));
  e = B (ane_graph_exp (g, z, &b->error));
  se = B (ane_graph_reduce_sum (g, e, last, 1, FALSE, &b->error));
  lse = B (ane_graph_log (g, se, &b->error));
  mask = B (ane_graph_reduce_sum (g, onehot, last, 1, FALSE, &b->error));
  picked = B (ane_graph_reduce_sum (g, B (ane_graph_mul (g, z, onehot, &b->error)), last, 1, FALSE, &b->error));
  rows = B (ane_graph_sub (g, B (ane_graph_mul (g, lse, mask, &b->error)), picked, &b->error));
  total = B (ane_graph_reduce_sum (g, rows, NULL, 0, FALSE, &b->error));
  one = B (ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 1.0, &b->error));
  count = B (ane_graph_maximum (g, B (ane_graph_reduce_sum (g, mask, NULL, 0, FALSE, &b->error)), one, &b->error));
  return B (ane_graph_div (g, total, count, &b->error));
}

/* A training sequence always starts at position 0: the positions are a
 * constant. */
static AneTensor *
train_positions (Builder *b,
                 gint64   S)
{
  g_autofree gint32 *iota = g_new (gint32, S);
  g_autoptr(AneTensor) pt = NULL;

  for (gint64 i = 0; i < S; i++)
    iota[i] = (gint32) i;
  pt = ane_tensor_new_from_ints ("positions", (const gint64[]) { S }, 1, iota, (gsize) S, &b->error);
  return B (ane_graph_const (b->g, pt, &b->error));
}

/* a tied GGUF classifier over a quantized embedding is stored as `output`
 * (the quantized blocks), the gather using dequantized rows */
static const char *
classifier_name (AneLlamaModel *self)
{
  return g_hash_table_contains (self->weights, "output") ? "output" : "token_embedding";
}

/* The head of a training graph: the final norm, the classifier and the mean
 * next-token cross-entropy, output `loss` [1] (a surface of the Neural
 * Engine's path has rank 1 to 4). targets[i] is the token after tokens[i]
 * (ignore index -100), or its one-hot row. */
static void
train_loss (Builder           *b,
            AneTensor         *x,
            gint64             S,
            AneLlamaTrainForm  form)
{
  AneLlamaModel *self = b->model;
  AneTensor *logits, *targets, *loss;

  x = B (ane_graph_rms_norm (b->g, x, param (b, "final_norm"), self->rms_eps, &b->error));
  logits = project (b, x, classifier_name (self));
  if (form == ANE_LLAMA_TRAIN_HOST_EMBEDDING)
    {
      targets = B (ane_graph_input (b->g, "targets", ANE_DTYPE_FLOAT32, (const gint64[]) { S, self->vocab_size }, 2,
                                    &b->error));
      loss = one_hot_cross_entropy (b, logits, targets);
    }
  else
    {
      targets = B (ane_graph_input (b->g, "targets", ANE_DTYPE_INT32, (const gint64[]) { S }, 1, &b->error));
      loss = B (ane_graph_cross_entropy (b->g, logits, targets, -100, &b->error));
    }
  loss = B (ane_graph_reshape (b->g, loss, (const gint64[]) { 1 }, 1, &b->error));
  if (b->error == NULL)
    ane_graph_add_output (b->g, "loss", loss, &b->error);
}

/* S tokens through every layer; max_seq 0: no caches (prefill, logits of
 * every token), else the key/value caches of max_seq rows are read and
 * written (decode: logits of the last token only, all a prompt step needs). */
static AneGraph *
build (AneLlamaModel *self,
       gint64         S,
       gint64         max_seq,
       AneLlamaTrainForm train,
       GError       **error)
{
  g_autoptr(AneGraph) graph = ane_graph_new ();
  g_autoptr(GPtrArray) keep_arr = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Builder bb = { self, graph, keep_arr, params, NULL, NULL, NULL, train != ANE_LLAMA_TRAIN_NONE }, *b = &bb;
  gboolean decode = max_seq > 0;
  gboolean one_token = decode && S == 1;
  Cache cache = { max_seq, NULL, NULL, NULL };
  AneTensor *tokens, *positions, *x, *logits;

  if (train != ANE_LLAMA_TRAIN_NONE)
    positions = train_positions (b, S);
  else
    positions = B (ane_graph_input (graph, one_token ? "position" : "positions", ANE_DTYPE_INT32, (const gint64[]) { S }, 1, &b->error));
  if (decode && b->error == NULL)
    cache_masks (b, positions, S, &cache);

  if (train == ANE_LLAMA_TRAIN_HOST_EMBEDDING)
    /* the host gathers the rows (scaled) and scatters their gradient back */
    x = B (ane_graph_input (graph, "embedded", ANE_DTYPE_FLOAT32, (const gint64[]) { S, self->dim }, 2, &b->error));
  else
    {
      tokens = B (ane_graph_input (graph, one_token ? "token" : "tokens", ANE_DTYPE_INT32, (const gint64[]) { S }, 1, &b->error));
      /* the table first: in a training graph it may fail (a quantized
       * embedding), and B() must see that before calling the gather */
      AneTensor *table = embedding_param (b);

      x = B (ane_graph_gather (graph, table, tokens, 0, &b->error));
    }
  if (self->embed_scale > 0.0 && train != ANE_LLAMA_TRAIN_HOST_EMBEDDING)
    {
      /* Gemma: the embedding rows times sqrt(hidden_size), the factor
       * already rounded to the checkpoint's dtype (ane-llama-hf.c) */
      AneTensor *scale = B (ane_graph_scalar (graph, ANE_DTYPE_FLOAT32, self->embed_scale, &b->error));
      x = B (ane_graph_mul (graph, x, scale, &b->error));
    }
  for (gint64 l = 0; l < self->n_layers; l++)
    {
      g_autofree char *scope = g_strdup_printf ("layers.%" G_GINT64_FORMAT, l);

      if (b->error == NULL)
        ane_graph_push_scope (graph, scope);
      x = block (b, x, positions, S, l, decode ? &cache : NULL);
      if (b->error == NULL)
        ane_graph_pop_scope (graph);
    }
  if (decode && S > 1 && b->error == NULL)
    {
      /* the last token's row only: the classifier is a large share of a
       * small model's work, and the prompt's other logits go unused */
      gint32 last_v = (gint32) (S - 1);
      g_autoptr(AneTensor) last_t = ane_tensor_new_from_ints ("last", (const gint64[]) { 1 }, 1, &last_v, 1, &b->error);
      AneTensor *last = B (ane_graph_const (graph, last_t, &b->error));

      x = B (ane_graph_gather (graph, x, last, 0, &b->error));
    }
  if (train != ANE_LLAMA_TRAIN_NONE)
    train_loss (b, x, S, train);
  else
    {
      x = B (ane_graph_rms_norm (graph, x, param (b, "final_norm"), self->rms_eps, &b->error));
      logits = project (b, x, classifier_name (self));
      if (b->error == NULL)
        ane_graph_add_output (graph, "logits", logits, &b->error);
    }
  if (b->error != NULL)
    {
      g_propagate_prefixed_error (error, b->error, "%s: building the %s graph: ",
                                  self->path, train != ANE_LLAMA_TRAIN_NONE ? "training" : decode ? "decode" : "prefill");
      return NULL;
    }
  return g_steal_pointer (&graph);
}

/**
 * ane_llama_model_build_prefill:
 * @self: a model
 * @seq_len: the number of tokens the graph takes at once
 * @error: return location for a #GError
 *
 * Builds the whole-sequence forward pass: inputs `tokens` and `positions`
 * (int32 `[seq_len]`), output `logits` (`[seq_len, vocab_size]`), causal
 * attention and no states. Its logits at each position are those the decode
 * graph gives when fed the same tokens one at a time.
 *
 * Returns: (transfer full): the graph, or %NULL with @error set
 */
AneGraph *
ane_llama_model_build_prefill (AneLlamaModel  *self,
                               gint64          seq_len,
                               GError        **error)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (seq_len <= 0 || seq_len > self->seq_len)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: prefill length %" G_GINT64_FORMAT " is outside [1, %" G_GINT64_FORMAT "]",
                   self->path, seq_len, self->seq_len);
      return NULL;
    }
  return build (self, seq_len, 0, ANE_LLAMA_TRAIN_NONE, error);
}

/**
 * ane_llama_model_build_decode:
 * @self: a model
 * @max_seq: the capacity of the key/value caches, in tokens
 * @error: return location for a #GError
 *
 * Builds the one-token step with a key/value cache: inputs `token` and
 * `position` (int32 `[1]`), states `k_cache_<l>` and `v_cache_<l>` (float16
 * `[1, n_kv_heads, max_seq, head]` per layer), output `logits`
 * (`[1, vocab_size]`). Each run writes row `position` of every cache
 * (`slice_update` at `[0, 0, position, 0]`, iOS18) and attends over rows
 * `0..position` (a −∞ bias hides the later rows), so positions must be fed
 * in order from 0 after [method@Ane.Executable.reset_states].
 *
 * Returns: (transfer full): the graph, or %NULL with @error set
 */
AneGraph *
ane_llama_model_build_decode (AneLlamaModel  *self,
                              gint64          max_seq,
                              GError        **error)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return ane_llama_build_decode_n (self, 1, max_seq, error);
}

/* A training sequence fits the model's context. */
static gboolean
check_train_length (AneLlamaModel  *self,
                    gint64          seq_len,
                    GError        **error)
{
  if (seq_len <= 0 || seq_len > self->seq_len)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: training sequence length %" G_GINT64_FORMAT " is outside [1, %" G_GINT64_FORMAT "]",
                   self->path, seq_len, self->seq_len);
      return FALSE;
    }
  return TRUE;
}

/* ane-llama-private.h: the training graph of S tokens. */
AneGraph *
ane_llama_build_train (AneLlamaModel      *self,
                       gint64              seq_len,
                       AneLlamaTrainForm   form,
                       GError            **error)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_train_length (self, seq_len, error))
    return NULL;
  return build (self, seq_len, 0, form, error);
}

void
ane_llama_packed_weight_free (AneLlamaPackedWeight *p)
{
  g_free (p->input);
  g_free (p);
}

/* One kernel: the layer (form NONE) or the head. */
static AneGraph *
build_kernel (AneLlamaModel      *self,
              gint64              S,
              AneLlamaTrainForm   form,
              AneTensor          *packed_template,
              GHashTable         *offsets,
              GError            **error)
{
  g_autoptr(AneGraph) graph = ane_graph_new ();
  g_autoptr(GPtrArray) keep_arr = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean layer = form == ANE_LLAMA_TRAIN_NONE;
  Builder bb = { self, graph, keep_arr, params, NULL, NULL, NULL, TRUE, layer, NULL, offsets }, *b = &bb;
  AneTensor *x;

  if (packed_template != NULL)
    {
      const gint64 *shape;
      guint rank;

      shape = ane_tensor_get_shape (packed_template, &rank);
      b->packed = B (ane_graph_param_dynamic (graph, "weights", ANE_DTYPE_FLOAT32, shape, rank, &b->error));
    }
  x = B (ane_graph_input (graph, "x", ANE_DTYPE_FLOAT32, (const gint64[]) { S, self->dim }, 2, &b->error));
  if (layer)
    {
      AneTensor *positions = train_positions (b, S);

      x = block (b, x, positions, S, 0, NULL);
      if (b->error == NULL)
        ane_graph_add_output (graph, "y", x, &b->error);
    }
  else
    train_loss (b, x, S, form);
  if (b->error != NULL)
    {
      g_propagate_prefixed_error (error, b->error, "%s: building the %s kernel: ", self->path,
                                  layer ? "layer" : "head");
      return NULL;
    }
  return g_steal_pointer (&graph);
}

/* ane-llama-private.h: a kernel of a training step, its weights as
 * dynamic params or packed into one. */
AneGraph *
ane_llama_build_kernel (AneLlamaModel      *self,
                        gint64              seq_len,
                        AneLlamaTrainForm   head,
                        gboolean            pack,
                        GPtrArray         **layout,
                        GError            **error)
{
  g_autoptr(AneGraph) plain = NULL;
  g_autoptr(GPtrArray) params = NULL;
  g_autoptr(GPtrArray) slots = NULL;
  g_autoptr(GHashTable) offsets = NULL;
  g_autoptr(AneTensor) packed = NULL;
  gint64 total = 0, width = 64;
  AneGraph *graph;

  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (layout == NULL || *layout == NULL, NULL);

  if (!check_train_length (self, seq_len, error))
    return NULL;
  plain = build_kernel (self, seq_len, head, NULL, NULL, error);
  if (plain == NULL || !pack)
    return g_steal_pointer (&plain);

  /* packed: the same kernel again, each weight cut from "weights" at the
   * offset the plain kernel's params give it, in their order. "weights"
   * is [rows, width], each weight on whole rows: the Neural Engine takes
   * no axis above 16384 (the lint's dim-above-16384), so width is the
   * smallest power of two from 64 that keeps rows within it */
  params = ane_graph_list_params (plain);
  for (guint i = 0; i < params->len; i++)
    total += ane_tensor_get_n_elements (params->pdata[i]);
  while (width < 16384 && total / width + params->len > 16384)
    width *= 2;
  total = 0;
  slots = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_llama_packed_weight_free);
  offsets = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < params->len; i++)
    {
      AneLlamaPackedWeight *slot = g_new0 (AneLlamaPackedWeight, 1);

      slot->input = g_strdup (ane_tensor_get_name (params->pdata[i]));
      slot->offset = total;
      slot->n = ane_tensor_get_n_elements (params->pdata[i]);
      total += (slot->n + width - 1) / width * width;
      g_ptr_array_add (slots, slot);
      g_hash_table_insert (offsets, slot->input, slot);
    }
  packed = ane_tensor_new_zeros ("weights", ANE_DTYPE_FLOAT32, (const gint64[]) { total / width, width }, 2, error);
  if (packed == NULL)
    return NULL;
  graph = build_kernel (self, seq_len, head, packed, offsets, error);
  if (graph != NULL && layout != NULL)
    *layout = g_steal_pointer (&slots);
  return graph;
}

/* The generic decode step of n_tokens tokens (ane-llama-private.h). */
AneGraph *
ane_llama_build_decode_n (AneLlamaModel  *self,
                          gint64          n_tokens,
                          gint64          max_seq,
                          GError        **error)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (max_seq <= 0 || max_seq > self->seq_len)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: cache length %" G_GINT64_FORMAT " is outside [1, %" G_GINT64_FORMAT "]",
                   self->path, max_seq, self->seq_len);
      return NULL;
    }
  if (n_tokens <= 0 || n_tokens > max_seq)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: step of %" G_GINT64_FORMAT " tokens is outside [1, %" G_GINT64_FORMAT "] (the cache)",
                   self->path, n_tokens, max_seq);
      return NULL;
    }
  return build (self, n_tokens, max_seq, ANE_LLAMA_TRAIN_NONE, error);
}

/* ------------------------------------------------------------------------ */
/* Generation                                                               */

typedef struct {
  float p;
  gint32 id;
} ProbIndex;

static int
prob_desc (gconstpointer a,
           gconstpointer b)
{
  float pa = ((const ProbIndex *) a)->p, pb = ((const ProbIndex *) b)->p;
  return pa < pb ? 1 : pa > pb ? -1 : 0;
}

static gint32
argmax (const float *logits,
        gint64       n)
{
  gint64 best = 0;

  for (gint64 i = 1; i < n; i++)
    if (logits[i] > logits[best])
      best = i;
  return (gint32) best;
}

/* softmax(logits / temperature), then sample from the smallest set of most
 * likely tokens whose mass exceeds top_p (all tokens when top_p is not in
 * (0, 1)). */
static gint32
sample (const float *logits,
        gint64       n,
        double       temperature,
        double       top_p,
        GRand       *rand,
        ProbIndex   *scratch)
{
  double max = logits[argmax (logits, n)], sum = 0.0, cum = 0.0, r, mass;
  gint64 last;

  for (gint64 i = 0; i < n; i++)
    {
      scratch[i].p = (float) exp ((logits[i] - max) / temperature);
      scratch[i].id = (gint32) i;
      sum += scratch[i].p;
    }
  for (gint64 i = 0; i < n; i++)
    scratch[i].p = (float) (scratch[i].p / sum);
  last = n - 1;
  mass = 1.0;
  if (top_p > 0.0 && top_p < 1.0)
    {
      qsort (scratch, n, sizeof (ProbIndex), prob_desc);
      mass = 0.0;
      for (gint64 i = 0; i < n; i++)
        {
          mass += scratch[i].p;
          if (mass > top_p)
            {
              last = i;
              break;
            }
        }
    }
  r = g_rand_double (rand) * mass;
  for (gint64 i = 0; i <= last; i++)
    {
      cum += scratch[i].p;
      if (r < cum)
        return scratch[i].id;
    }
  return scratch[last].id;
}

gpointer
ane_llama_sampler_scratch_new (gint64 n)
{
  return g_new (ProbIndex, n);
}

gint32
ane_llama_pick_token (const float *logits,
                      gint64       n,
                      double       temperature,
                      double       top_p,
                      GRand       *rand,
                      gpointer     scratch)
{
  return temperature == 0.0 ? argmax (logits, n) : sample (logits, n, temperature, top_p, rand, scratch);
}

/**
 * ane_llama_model_generate:
 * @self: a model
 * @tokenizer: the model's tokenizer
 * @prompt: the text to continue
 * @n_tokens: the largest number of tokens to generate after the prompt
 * @backend: the backend to run the decode graph on
 * @precision: the compute precision (for backends that lower the graph)
 * @temperature: 0 for greedy decoding (always the most likely token), else
 *   the softmax temperature
 * @top_p: nucleus sampling mass in (0, 1); other values sample from all tokens
 * @seed: the random seed for sampling
 * @callback: (scope call) (nullable): called with each generated token
 * @user_data: (closure callback): data for @callback
 * @error: return location for a #GError
 *
 * Generates a continuation of @prompt. The prompt is encoded with a
 * beginning-of-sequence token and run in one call through a step of as
 * many tokens (the decode graph of [method@Ane.LlamaModel.build_decode]
 * widened to the prompt's length, or the Neural Engine layout's prefill),
 * which fills the key/value caches exactly as feeding the tokens one at a
 * time would; the caches then go to the one-token decode step, and each
 * step's logits pick the next token. Generation
 * stops after @n_tokens tokens, at the model's sequence length, when the
 * model emits a beginning- or end-of-sequence token (llama2.c's story
 * separator), or when @callback returns %FALSE.
 *
 * Returns: (transfer full): the generated text, without the prompt
 */
char *
ane_llama_model_generate (AneLlamaModel         *self,
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
                          GError               **error)
{
  return ane_llama_model_generate_full (self, tokenizer, prompt, n_tokens, backend, precision,
                                        temperature, top_p, seed, NULL, callback, user_data, error);
}

/* Compiling the decode graph is counted as this share of generation's
 * progress; the steps through prompt and new tokens share the rest. */
#define COMPILE_SHARE 0.05

/**
 * ane_llama_model_generate_full:
 * @self: a model
 * @tokenizer: the model's tokenizer
 * @prompt: the text to continue
 * @n_tokens: the largest number of tokens to generate after the prompt
 * @backend: the backend to run the decode graph on
 * @precision: the compute precision (for backends that lower the graph)
 * @temperature: 0 for greedy decoding, else the softmax temperature
 * @top_p: nucleus sampling mass in (0, 1); other values sample from all tokens
 * @seed: the random seed for sampling
 * @progress: (nullable): an [class@Ane.Progress] to report to and cancel with
 * @callback: (scope call) (nullable): called with each generated token
 * @user_data: (closure callback): data for @callback
 * @error: return location for a #GError
 *
 * Generates as [method@Ane.LlamaModel.generate] does, and reports to
 * @progress the stage "compiling" while the decode graph is built and compiled, then
 * "generating" once per decode step (one per token generated; the prompt
 * runs in one call beforehand), the fraction counting the positions out of
 * the most there can be (the prompt plus @n_tokens, at most the model's
 * sequence length). The
 * fraction ends at 1.0 on success, also when generation stops early at an
 * end-of-sequence token. Cancelling @progress stops generation with
 * %G_IO_ERROR_CANCELLED (the text so far is dropped; @callback has seen it).
 *
 * On %ANE_BACKEND_COREML, %ANE_BACKEND_ANE and %ANE_BACKEND_AUTO the decode
 * step is the Neural Engine-shaped graph
 * ([method@Ane.LlamaModel.build_ane_decode]), whose embedding lookup, rotary
 * tables, mask and cache position are computed here between steps; the CPU
 * and reference backends run the generic graph. The caches are written with
 * `slice_update` at an int32 position, except on %ANE_BACKEND_ANE, whose
 * float16 surfaces take float inputs only (%ANE_LLAMA_CACHE_WRITE_ONE_HOT);
 * under %ANE_BACKEND_AUTO the private path is therefore passed over for
 * CoreML.
 *
 * Returns: (transfer full): the generated text, without the prompt
 *
 * Since: 0.2
 */
char *
ane_llama_model_generate_full (AneLlamaModel         *self,
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
                               GError               **error)
{
  /* what Core ML or the Neural Engine runs gets the Neural Engine's layout;
   * the CPU and the reference run the generic graph, which suits them */
  gboolean ane_layout = backend != ANE_BACKEND_CPU && backend != ANE_BACKEND_REFERENCE;

  return ane_llama_generate_layout (self, tokenizer, prompt, n_tokens, backend, precision, ane_layout,
                                    temperature, top_p, seed, progress, callback, user_data, error);
}

/* Tokens per prefill call: the prompt rounded up to a multiple of 32 (the
 * last axis then fills whole 64-byte rows), within the cache. */
static gint64
prefill_step (gsize  n_prompt,
              gint64 max_seq)
{
  gint64 n = ((gint64) n_prompt + 31) / 32 * 32;

  return MAX (2, MIN (n, max_seq));
}

/* Compiles graph (a prompt step) for backend, runs it once on inputs,
 * hands its key/value caches to decode (the decode executable, same
 * states), and returns its outputs. */
static GPtrArray *
run_prompt (AneGraph       *graph,
            AneTensor     **inputs,
            guint           n_inputs,
            AneBackend      backend,
            AnePrecision    precision,
            AneExecutable  *decode,
            AneProgress    *progress,
            GError        **error)
{
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, backend);
  g_autoptr(GPtrArray) out = NULL;
  g_autoptr(GPtrArray) states = NULL;

  ane_executable_set_precision (exe, precision);
  if (!ane_executable_compile (exe, ane_progress_cancellable (progress), error))
    return NULL;
  out = ane_executable_run (exe, inputs, n_inputs, NULL, error);
  if (out == NULL)
    return NULL;
  states = ane_graph_list_states (graph);
  if (!ane_llama_hand_over_states (exe, decode, states, error))
    return NULL;
  return g_steal_pointer (&out);
}

/* Runs the prompt through the Neural Engine-shaped prefill graph in one
 * call, hands its key/value caches to decode (the decode executable, same
 * states), and returns the logits of the prompt's last token. */
static float *
prefill (AneLlamaModel       *self,
         const gint32        *prompt_ids,
         gsize                n_prompt,
         gint64               max_seq,
         AneBackend           backend,
         AnePrecision         precision,
         AneLlamaCacheWrite   cache_write,
         AneExecutable       *decode,
         AneProgress         *progress,
         GError             **error)
{
  /* start 0 and n_step <= max_seq: the block, padding included, fits */
  gint64 n_step = prefill_step (n_prompt, max_seq);
  g_autoptr(AneGraph) graph = ane_llama_model_build_ane_step (self, n_step, max_seq, 0, self->n_layers, ANE_LLAMA_HEAD_LOGITS,
                                                              cache_write, error);
  g_autoptr(GPtrArray) inputs = NULL;
  g_autoptr(GPtrArray) out = NULL;
  float *last;

  if (graph == NULL)
    return NULL;
  inputs = ane_llama_model_ane_step_inputs (self, cache_write, prompt_ids, n_prompt, 0, n_step, max_seq, error);
  if (inputs == NULL)
    return NULL;
  out = run_prompt (graph, (AneTensor **) inputs->pdata, inputs->len, backend, precision, decode, progress, error);
  if (out == NULL)
    return NULL;
  /* logits [1, vocab, 1, n_step] (or its parts): the prompt's last token */
  last = g_new (float, self->vocab_size);
  if (!ane_llama_ane_logits_column (out, self->vocab_size, n_step, (gint64) n_prompt - 1, last, error))
    {
      g_free (last);
      return NULL;
    }
  return last;
}

/* Runs the whole prompt through the generic decode step of n_prompt
 * tokens (ane_llama_build_decode_n) in one call, hands its caches to
 * decode, and returns the logits of the prompt's last token. */
static float *
prompt_step (AneLlamaModel  *self,
             const gint32   *prompt_ids,
             gsize           n_prompt,
             gint64          max_seq,
             AneBackend      backend,
             AnePrecision    precision,
             AneExecutable  *decode,
             AneProgress    *progress,
             GError        **error)
{
  g_autoptr(AneGraph) graph = ane_llama_build_decode_n (self, (gint64) n_prompt, max_seq, error);
  g_autofree gint32 *positions = NULL;
  g_autoptr(AneTensor) t_tok = NULL;
  g_autoptr(AneTensor) t_pos = NULL;
  g_autoptr(GPtrArray) out = NULL;
  gsize n;

  if (graph == NULL)
    return NULL;
  positions = g_new (gint32, n_prompt);
  for (gsize i = 0; i < n_prompt; i++)
    positions[i] = (gint32) i;
  t_tok = ane_tensor_new_from_ints ("tokens", (const gint64[]) { (gint64) n_prompt }, 1, prompt_ids, n_prompt, error);
  if (t_tok == NULL)
    return NULL;
  t_pos = ane_tensor_new_from_ints ("positions", (const gint64[]) { (gint64) n_prompt }, 1, positions, n_prompt, error);
  if (t_pos == NULL)
    return NULL;
  out = run_prompt (graph, (AneTensor *[]) { t_tok, t_pos }, 2, backend, precision, decode, progress, error);
  if (out == NULL)
    return NULL;
  return ane_tensor_dup_floats (g_ptr_array_index (out, 0), &n, error);
}

gboolean
ane_llama_hand_over_states (AneExecutable  *from,
                            AneExecutable  *to,
                            GPtrArray      *states,
                            GError        **error)
{
  for (guint i = 0; i < states->len; i++)
    {
      const char *name = ane_tensor_get_name (g_ptr_array_index (states, i));
      g_autoptr(AneTensor) value = ane_executable_dup_state (from, name, error);

      if (value == NULL || !ane_executable_set_state (to, name, value, error))
        return FALSE;
    }
  return TRUE;
}

char *
ane_llama_generate_layout (AneLlamaModel         *self,
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
                           GError               **error)
{
  g_autofree gint32 *prompt_ids = NULL;
  g_autofree float *pending = NULL;
  gint64 first = 0;
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneLlamaBoundStep) bound = NULL;
  g_autoptr(GRand) rand = NULL;
  g_autoptr(GString) text = NULL;
  g_autofree ProbIndex *scratch = NULL;
  gsize n_prompt;
  gint64 max_seq;
  gint32 token;
  guint generated = 0;
  guint32 seed_words[2] = { (guint32) seed, (guint32) (seed >> 32) };
  /* the private path binds float16 surfaces only: no int32 position there */
  AneLlamaCacheWrite cache_write = backend == ANE_BACKEND_ANE ? ANE_LLAMA_CACHE_WRITE_ONE_HOT
                                                              : ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE;

  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (ANE_IS_TOKENIZER (tokenizer), NULL);
  g_return_val_if_fail (prompt != NULL, NULL);
  g_return_val_if_fail (temperature >= 0.0, NULL);
  g_return_val_if_fail (progress == NULL || ANE_IS_PROGRESS (progress), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ane_progress_begin (progress);

  if (!ane_tokenizer_fits_model (tokenizer, self->vocab_size))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: the tokenizer has %u tokens, the model %" G_GINT64_FORMAT,
                   self->path, ane_tokenizer_get_n_tokens (tokenizer), self->vocab_size);
      return NULL;
    }
  prompt_ids = ane_tokenizer_encode (tokenizer, prompt, TRUE, FALSE, &n_prompt);
  if ((gint64) n_prompt > self->seq_len)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: the prompt is %" G_GSIZE_FORMAT " tokens, the model takes %" G_GINT64_FORMAT,
                   self->path, n_prompt, self->seq_len);
      return NULL;
    }
  max_seq = MIN (self->seq_len, (gint64) n_prompt + (gint64) n_tokens);
  if (!ane_progress_report (progress, ANE_PROGRESS_STAGE_COMPILING, 0.0, 0, 0, error))
    return NULL;
  graph = ane_layout ? ane_llama_model_build_ane_step (self, 1, max_seq, 0, self->n_layers, ANE_LLAMA_HEAD_LOGITS,
                                                       cache_write, error)
                     : ane_llama_model_build_decode (self, max_seq, error);
  if (graph == NULL)
    return NULL;
  exe = ane_executable_new (graph, backend);
  ane_executable_set_precision (exe, precision);
  if (!ane_executable_compile (exe, ane_progress_cancellable (progress), error))
    return NULL;
  /* the caches stay in the backend's memory between tokens (the private
   * path's surfaces, the CPU backend's own arrays) when it takes buffers:
   * a plain run would copy every cache in and out on each token (on the
   * CPU, half a 134M model's decode time at 256 positions) */
  {
    g_autoptr(GPtrArray) ports_in = ane_graph_list_inputs (graph);
    g_autoptr(GPtrArray) ports_out = ane_graph_list_outputs (graph);
    g_autoptr(GPtrArray) ports_state = ane_graph_list_states (graph);
    g_autoptr(GError) local = NULL;

    bound = ane_llama_bound_step_new (exe, ports_in, ports_out, ports_state, &local);
    if (local != NULL)
      {
        g_propagate_error (error, g_steal_pointer (&local));
        return NULL;
      }
  }

  /* the Neural Engine layout takes the whole prompt in one call */
  if (ane_layout && n_prompt >= 2)
    {
      pending = prefill (self, prompt_ids, n_prompt, max_seq, backend, precision, cache_write, exe, progress, error);
      if (pending == NULL)
        return NULL;
      first = (gint64) n_prompt - 1;
    }
  /* the generic layout too: one step of the prompt's tokens, its caches
   * then handed to the one-token step */
  else if (!ane_layout && n_prompt >= 2)
    {
      pending = prompt_step (self, prompt_ids, n_prompt, max_seq, backend, precision, exe, progress, error);
      if (pending == NULL)
        return NULL;
      first = (gint64) n_prompt - 1;
    }

  rand = g_rand_new_with_seed_array (seed_words, 2);
  scratch = g_new (ProbIndex, self->vocab_size);
  text = g_string_new (NULL);
  token = prompt_ids[first];
  for (gint64 pos = first; pos < max_seq; pos++)
    {
      gint32 p32 = (gint32) pos, next;
      g_autoptr(AneTensor) t_tok = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &token, 1, error);
      g_autoptr(AneTensor) t_pos = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &p32, 1, error);
      g_autoptr(GPtrArray) ane_ins = NULL;
      g_autoptr(GPtrArray) out = NULL;
      g_autofree float *logits = NULL;
      g_autofree char *piece = NULL;
      gsize n;

      if (t_tok == NULL || t_pos == NULL)
        return NULL;
      if (!ane_progress_report (progress, ANE_PROGRESS_STAGE_GENERATING,
                                COMPILE_SHARE + (1.0 - COMPILE_SHARE) * (double) pos / (double) max_seq,
                                0, 0, error))
        return NULL;
      if (pending != NULL)
        logits = g_steal_pointer (&pending);   /* the prompt's last token, from the prefill call */
      else
        {
          if (ane_layout &&
              (ane_ins = ane_llama_model_ane_step_inputs (self, cache_write, &token, 1, pos, 1, max_seq, error)) == NULL)
            return NULL;
          if (!ane_layout)
            {
              ane_ins = g_ptr_array_new ();
              g_ptr_array_add (ane_ins, t_tok);
              g_ptr_array_add (ane_ins, t_pos);
            }
          out = ane_llama_step_run (exe, bound, ane_ins, error);
          if (out == NULL)
            return NULL;
          if ((gsize) pos + 1 < n_prompt)
            {
              token = prompt_ids[pos + 1];
              continue;
            }
          if (ane_layout)
            {
              logits = g_new (float, self->vocab_size);
              if (!ane_llama_ane_logits_column (out, self->vocab_size, 1, 0, logits, error))
                return NULL;
            }
          else if ((logits = ane_tensor_dup_floats (g_ptr_array_index (out, 0), &n, error)) == NULL)
            return NULL;
        }
      next = ane_llama_pick_token (logits, self->vocab_size, temperature, top_p, rand, scratch);
      if (next == ane_tokenizer_get_bos_id (tokenizer) || next == ane_tokenizer_get_eos_id (tokenizer))
        break;
      piece = ane_tokenizer_decode_token (tokenizer, token, next);
      g_string_append (text, piece);
      generated++;
      token = next;
      if (callback != NULL && !callback (next, piece, user_data))
        break;
      if (generated >= n_tokens)
        break;
    }
  ane_progress_finish (progress);
  return g_string_free (g_steal_pointer (&text), FALSE);
}
