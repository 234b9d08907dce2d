/* model/ane-llama-dir.c: a LLaMA-family model converted to a directory, and
 * generation from that directory alone
 *
 * The directory is what a host application ships: the Neural Engine-shaped
 * prefill and decode steps (ane-llama-ane.c) as one two-function package
 * sharing its weights and its key/value states (or several, each a group of
 * layers, run in order: Anemll splits its models in chunks the same way,
 * and the budget per chunk is the SRAM figure the lint cites), the token
 * embedding the host
 * looks rows up in (the gather stays off the Neural Engine, header of
 * ane-llama-ane.c, pass 8), the tokenizer, and manifest.json saying how they
 * fit. Generation from it computes the same step inputs as the in-memory
 * path, with the same function (ane_llama_ane_step_inputs), from the
 * embedding file and the manifest's hyperparameters.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "ane-file-private.h"
#include "ane-json-private.h"
#include "lint/ane-lint-private.h"
#include "ane-llama-dir.h"
#include "model/ane-llama-private.h"
#include "ane-reference-private.h"
#include "model/ane-tokenizer-private.h"

#define MANIFEST_FILE "manifest.json"
#define PACKAGE_FILE "model.mlpackage"
#define EMBEDDING_FILE "embedding.bin"
#define FORMAT_NAME "ane-glib-llama-dir"
#define DEFAULT_PREFILL_STEP 64
/* The largest manifest read: a few kilobytes in practice. */
#define MAX_MANIFEST_BYTES (1 << 20)
/* Bounds on what a manifest may claim, far above any model the library
 * builds, so that no size computed from them overflows. */
#define MAX_DIM (1 << 16)
#define MAX_HEADS 1024
#define MAX_VOCAB (1 << 24)
#define MAX_CONTEXT (1 << 20)

/**
 * AneLlamaDir:
 *
 * A LLaMA-family model converted by [method@Ane.LlamaModel.save_dir]: a
 * directory holding `model.mlpackage` (the functions `prefill` and `decode`
 * of the Neural Engine layout, sharing weights and float16 key/value
 * states; or `chunk-0.mlpackage`, `chunk-1.mlpackage`… each holding a group
 * of layers, see [method@Ane.LlamaModel.save_dir_full]), `embedding.bin` (the token embedding, float16
 * `[vocab_size, dim]`, row-major), the tokenizer and `manifest.json`
 * (described in `docs/ane-lowering.md`). Loading checks every field of the
 * manifest and the files it names; generation needs nothing else.
 *
 * ```c
 * g_autoptr(AneLlamaDir) dir = ane_llama_dir_load ("stories", &error);
 * g_autofree char *text = ane_llama_dir_generate (dir, "Once upon a time", 80, ANE_BACKEND_CPU,
 *                                                 0.0, 0.9, 0, NULL, NULL, &error);
 * ```
 *
 * Since: 0.2
 */
struct _AneLlamaDir
{
  GObject parent_instance;

  char *path;
  gint64 dim, n_heads, n_kv_heads, head, n_layers, vocab_size, context, prefill_step;
  double rope_base;
  double embed_scale;        /* Gemma's embedding factor (0: none; manifest model.embed_scale) */
  float *rope_inv_freq;      /* head / 2 (manifest model.rope_inv_freq: Llama 3's scaled RoPE), or NULL */
  gboolean argmax;           /* the last chunk's steps give the arg-max */
  GPtrArray *chunks;         /* DirChunk, in the order a token goes through them */
  AnePackage *package;       /* the first chunk's */
  AneTokenizer *tokenizer;   /* NULL when the directory has none */
  GMappedFile *embedding;
};

/* A package of a loaded directory: layers [first, end), its decode step's
 * states (handed over from prefill to decode by name). */
typedef struct
{
  AnePackage *package;
  gint64      first, end;
  GPtrArray  *states;
} DirChunk;

static void
dir_chunk_free (gpointer data)
{
  DirChunk *chunk = data;

  g_clear_object (&chunk->package);
  g_clear_pointer (&chunk->states, g_ptr_array_unref);
  g_free (chunk);
}

G_DEFINE_FINAL_TYPE (AneLlamaDir, ane_llama_dir, G_TYPE_OBJECT)

static void
ane_llama_dir_finalize (GObject *object)
{
  AneLlamaDir *self = ANE_LLAMA_DIR (object);

  g_free (self->path);
  g_clear_pointer (&self->chunks, g_ptr_array_unref);
  g_clear_object (&self->package);
  g_clear_object (&self->tokenizer);
  g_clear_pointer (&self->embedding, g_mapped_file_unref);
  g_clear_pointer (&self->rope_inv_freq, g_free);
  G_OBJECT_CLASS (ane_llama_dir_parent_class)->finalize (object);
}

static void
ane_llama_dir_class_init (AneLlamaDirClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ane_llama_dir_finalize;
}

static void
ane_llama_dir_init (AneLlamaDir *self)
{
  self->chunks = g_ptr_array_new_with_free_func (dir_chunk_free);
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */

/* A package of the directory being written: layers [first, end) and, for
 * the last, the head. */
typedef struct
{
  char       *file;
  gint64      first, end;
  AnePackage *package;
} SavedChunk;

static void
saved_chunk_free (gpointer data)
{
  SavedChunk *chunk = data;

  g_free (chunk->file);
  g_clear_object (&chunk->package);
  g_free (chunk);
}

/* The float16 bytes of the model's weights whose names start with prefix
 * (a layer's: "layers.3."), or of the one weight named prefix. */
static guint64
weight_bytes (AneLlamaModel *m,
              const char    *prefix,
              gboolean       exact)
{
  GHashTableIter iter;
  gpointer key, value;
  guint64 bytes = 0;

  g_hash_table_iter_init (&iter, m->weights);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (exact ? g_str_equal (key, prefix) : g_str_has_prefix (key, prefix))
      bytes += 2 * (guint64) ane_tensor_get_n_elements (value);
  return bytes;
}

/* The chunks' layer ranges as [first, end) pairs in ranges: n_chunks
 * groups as even as possible (the earlier ones a layer longer), or, when
 * n_chunks is 0, groups filled in order while their float16 weights stay
 * within budget bytes, the head (final norm and classifier) counted with
 * the last and given a chunk of its own when it does not fit there. A
 * layer larger than the budget alone is a chunk alone. */
static GArray *
chunk_ranges (AneLlamaModel  *m,
              guint           n_chunks,
              guint64         budget,
              GError        **error)
{
  GArray *ranges = g_array_new (FALSE, FALSE, sizeof (gint64));
  const char *classifier = g_hash_table_contains (m->weights, "output") ? "output" : "token_embedding";
  guint64 head = weight_bytes (m, "final_norm", TRUE) + weight_bytes (m, classifier, TRUE), used = 0;
  gint64 first = 0;

  if (n_chunks > 0)
    {
      if ((gint64) n_chunks > m->n_layers)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "%s: %u chunks for %" G_GINT64_FORMAT " layers (a chunk holds one layer or more)", m->path,
                       n_chunks, m->n_layers);
          g_array_unref (ranges);
          return NULL;
        }
      for (guint c = 0; c < n_chunks; c++)
        {
          gint64 n = m->n_layers / n_chunks + ((gint64) c < m->n_layers % n_chunks ? 1 : 0);

          g_array_append_val (ranges, first);
          first += n;
          g_array_append_val (ranges, first);
        }
      return ranges;
    }
  for (gint64 l = 0; l < m->n_layers; l++)
    {
      g_autofree char *prefix = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".", l);
      guint64 bytes = weight_bytes (m, prefix, FALSE);

      if (l > first && used + bytes > budget)
        {
          g_array_append_val (ranges, first);
          g_array_append_val (ranges, l);
          first = l;
          used = 0;
        }
      used += bytes;
    }
  g_array_append_val (ranges, first);
  if (used + head > budget)
    {
      /* the last layers alone, then the head alone */
      g_array_append_val (ranges, m->n_layers);
      g_array_append_val (ranges, m->n_layers);
    }
  g_array_append_val (ranges, m->n_layers);
  return ranges;
}

static void
add_tensor_desc (JsonBuilder *jb,
                 AneTensor   *t)
{
  guint rank = 0;
  const gint64 *shape = ane_tensor_get_shape (t, &rank);

  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "name");
  json_builder_add_string_value (jb, ane_tensor_get_name (t));
  json_builder_set_member_name (jb, "dtype");
  json_builder_add_string_value (jb, ane_dtype_to_string (ane_tensor_get_dtype (t)));
  json_builder_set_member_name (jb, "shape");
  json_builder_begin_array (jb);
  for (guint i = 0; i < rank; i++)
    json_builder_add_int_value (jb, shape[i]);
  json_builder_end_array (jb);
  json_builder_end_object (jb);
}

static gboolean
add_tensor_list (JsonBuilder  *jb,
                 const char   *member,
                 GPtrArray    *list)
{
  if (list == NULL)
    return FALSE;
  json_builder_set_member_name (jb, member);
  json_builder_begin_array (jb);
  for (guint i = 0; i < list->len; i++)
    add_tensor_desc (jb, g_ptr_array_index (list, i));
  json_builder_end_array (jb);
  return TRUE;
}

static void
add_int (JsonBuilder *jb,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (jb, name);
  json_builder_add_int_value (jb, value);
}

static void
add_string (JsonBuilder *jb,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (jb, name);
  json_builder_add_string_value (jb, value);
}

/* The functions of a chunk's package (prefill, decode) with their inputs
 * and outputs, and its states, as members of the object being built. */
static gboolean
add_functions (JsonBuilder  *jb,
               AnePackage   *package,
               gint64        prefill_step,
               GError      **error)
{
  static const char *const functions[2] = { "prefill", "decode" };
  g_autoptr(GPtrArray) states = NULL;

  json_builder_set_member_name (jb, "functions");
  json_builder_begin_array (jb);
  for (guint f = 0; f < G_N_ELEMENTS (functions); f++)
    {
      g_autoptr(GPtrArray) inputs = ane_package_list_inputs (package, functions[f], error);
      g_autoptr(GPtrArray) outputs = inputs ? ane_package_list_outputs (package, functions[f], error) : NULL;

      if (outputs == NULL)
        return FALSE;
      json_builder_begin_object (jb);
      add_string (jb, "name", functions[f]);
      add_int (jb, "tokens", f == 0 ? prefill_step : 1);
      add_tensor_list (jb, "inputs", inputs);
      add_tensor_list (jb, "outputs", outputs);
      json_builder_end_object (jb);
    }
  json_builder_end_array (jb);
  states = ane_package_list_states (package, "decode", error);
  if (states == NULL)
    return FALSE;
  add_tensor_list (jb, "states", states);
  return TRUE;
}

static char *
manifest_text (AneLlamaModel  *m,
               GPtrArray      *chunks,
               gboolean        argmax,
               const char     *tokenizer_file,
               const char     *tokenizer_kind,
               gint64          context,
               gint64          prefill_step,
               AneTarget       target,
               GError        **error)
{
  g_autoptr(JsonBuilder) jb = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *version = g_strdup_printf ("%d.%d.%d", ANE_MAJOR_VERSION, ANE_MINOR_VERSION,
                                              ANE_MICRO_VERSION);

  json_builder_begin_object (jb);
  add_string (jb, "format", FORMAT_NAME);
  add_int (jb, "format_version", ANE_LLAMA_DIR_FORMAT_VERSION);
  add_string (jb, "library_version", version);
  json_builder_set_member_name (jb, "model");
  json_builder_begin_object (jb);
  add_string (jb, "architecture", "llama");
  add_int (jb, "dim", m->dim);
  add_int (jb, "hidden_dim", m->hidden_dim);
  add_int (jb, "n_layers", m->n_layers);
  add_int (jb, "n_heads", m->n_heads);
  add_int (jb, "n_kv_heads", m->n_kv_heads);
  add_int (jb, "head", ane_llama_head (m));
  if (ane_llama_head (m) * m->n_heads != m->dim)
    add_int (jb, "head_dim", ane_llama_head (m));
  add_int (jb, "vocab_size", m->vocab_size);
  json_builder_set_member_name (jb, "rope_base");
  json_builder_add_double_value (jb, m->rope_base);
  json_builder_set_member_name (jb, "rms_eps");
  json_builder_add_double_value (jb, m->rms_eps);
  if (m->embed_scale > 0.0)
    {
      /* Gemma: the host scales the embedding rows it feeds (ane-llama-hf.c) */
      json_builder_set_member_name (jb, "embed_scale");
      json_builder_add_double_value (jb, m->embed_scale);
    }
  if (m->rope_inv_freq != NULL)
    {
      /* rope_scaling "llama3": the host's rotary angles use these */
      json_builder_set_member_name (jb, "rope_inv_freq");
      json_builder_begin_array (jb);
      for (gint64 i = 0; i < ane_llama_head (m) / 2; i++)
        json_builder_add_double_value (jb, m->rope_inv_freq[i]);
      json_builder_end_array (jb);
    }
  json_builder_end_object (jb);
  add_int (jb, "context", context);
  add_int (jb, "prefill_step", prefill_step);
  add_string (jb, "target", ane_target_to_string (target));
  add_string (jb, "precision", "float16");
  /* absent from the first manifests, which all ended with the logits */
  add_string (jb, "head", argmax ? "argmax" : "logits");
  /* the packages in the order a token goes through them; one chunk keeps
   * its functions and states at the top, where the first manifests had
   * them, so that every reader of format version 1 reads it */
  json_builder_set_member_name (jb, "chunks");
  json_builder_begin_array (jb);
  for (guint c = 0; c < chunks->len; c++)
    {
      SavedChunk *chunk = g_ptr_array_index (chunks, c);

      json_builder_begin_object (jb);
      add_string (jb, "file", chunk->file);
      json_builder_set_member_name (jb, "layers");
      json_builder_begin_array (jb);
      json_builder_add_int_value (jb, chunk->first);
      json_builder_add_int_value (jb, chunk->end);
      json_builder_end_array (jb);
      if (chunks->len > 1 && !add_functions (jb, chunk->package, prefill_step, error))
        return NULL;
      json_builder_end_object (jb);
    }
  json_builder_end_array (jb);
  if (chunks->len == 1 && !add_functions (jb, ((SavedChunk *) g_ptr_array_index (chunks, 0))->package,
                                          prefill_step, error))
    return NULL;
  json_builder_set_member_name (jb, "embedding");
  json_builder_begin_object (jb);
  add_string (jb, "file", EMBEDDING_FILE);
  add_string (jb, "dtype", "float16");
  json_builder_set_member_name (jb, "shape");
  json_builder_begin_array (jb);
  json_builder_add_int_value (jb, m->vocab_size);
  json_builder_add_int_value (jb, m->dim);
  json_builder_end_array (jb);
  json_builder_end_object (jb);
  json_builder_set_member_name (jb, "tokenizer");
  if (tokenizer_file != NULL)
    {
      json_builder_begin_object (jb);
      add_string (jb, "file", tokenizer_file);
      add_string (jb, "kind", tokenizer_kind);
      json_builder_end_object (jb);
    }
  else
    json_builder_add_null_value (jb);
  json_builder_end_object (jb);

  root = json_builder_get_root (jb);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  return json_generator_to_data (gen, NULL);
}

/* The token embedding as float16 [vocab_size, dim], dequantized first if
 * stored in blocks. */
static GBytes *
embedding_f16 (AneLlamaModel  *m,
               GError        **error)
{
  AneTensor *table = g_hash_table_lookup (m->weights, "token_embedding");
  AneDType dtype = ane_tensor_get_dtype (table);
  GBytes *data = ane_tensor_get_data (table);
  gsize n = (gsize) m->vocab_size * (gsize) m->dim;
  g_autofree float *f = NULL;
  guint16 *h;

  if (ane_dtype_is_block (dtype))
    {
      f = g_new (float, n);
      if (!ane_dequant_blocks_f32 (dtype, g_bytes_get_data (data, NULL), g_bytes_get_size (data), n, f, error))
        return NULL;
    }
  else
    {
      gsize got = 0;

      f = ane_tensor_dup_floats (table, &got, error);
      if (f == NULL)
        return NULL;
      g_assert (got == n);
    }
  h = g_new (guint16, n);
  for (gsize i = 0; i < n; i++)
    h[i] = GUINT16_TO_LE (ane_float_to_half (f[i]));
  return g_bytes_new_take (h, n * sizeof (guint16));
}

static gboolean
write_in (const char  *dir,
          const char  *name,
          GBytes      *bytes,
          GError     **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  gsize size = 0;
  const void *data = g_bytes_get_data (bytes, &size);

  return ane_file_write_durable (path, data, size, error);
}

/* Renames the complete temporary tmp to dest, replacing an existing dest
 * only with overwrite (the old one is moved aside first and removed once the
 * new one is in place). */
static gboolean
move_into_place (const char  *tmp,
                 const char  *dest,
                 gboolean     overwrite,
                 GError     **error)
{
  if (g_file_test (dest, G_FILE_TEST_EXISTS))
    {
      g_autofree char *aside = g_strdup_printf ("%s.old-XXXXXX", tmp);
      int saved;

      if (!overwrite)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: already exists (pass overwrite to replace it)", dest);
          return FALSE;
        }
      if (g_mkdtemp (aside) == NULL || g_rmdir (aside) != 0 || g_rename (dest, aside) != 0)
        {
          saved = errno;
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: cannot move the old directory aside: %s", dest,
                       g_strerror (saved));
          return FALSE;
        }
      if (g_rename (tmp, dest) != 0)
        {
          saved = errno;
          g_rename (aside, dest);
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: cannot move the new directory into place: %s", dest,
                       g_strerror (saved));
          return FALSE;
        }
      ane_file_remove_tree (aside);
      return TRUE;
    }
  if (g_rename (tmp, dest) != 0)
    {
      int saved = errno;

      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: cannot move the new directory into place: %s", dest,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/**
 * ane_llama_model_save_dir:
 * @self: a model
 * @tokenizer: (nullable): the model's tokenizer; %NULL takes a GGUF model's
 *   own vocabulary, and leaves a llama2.c checkpoint's directory without one
 * @dir: the directory to write
 * @context: the key/value cache length in tokens (the most a prompt and its
 *   continuation may hold), at most the model's sequence length; 0 or less
 *   for the model's sequence length
 * @prefill_step: the prompt tokens the `prefill` function takes per call
 *   (2 to @context); 0 or less for 64 (at most @context)
 * @target: the deployment target (%ANE_TARGET_IOS18 or later: the caches
 *   are states)
 * @overwrite: whether to replace an existing @dir
 * @error: return location for a #GError
 *
 * Converts the model for a host application: [method@Ane.LlamaModel.save_dir_full]
 * with its defaults (the logits; one package unless the float16 weights
 * exceed the lint's SRAM budget of 32 MB, then chunks of layers within
 * it). For a model that fits, writes @dir holding
 *
 * - `model.mlpackage`, the functions `prefill` (@prefill_step tokens per
 *   call, [method@Ane.LlamaModel.build_ane_prefill]) and `decode` (one
 *   token, [method@Ane.LlamaModel.build_ane_decode]) in float16, sharing
 *   one `weight.bin` and the key/value states;
 * - `embedding.bin`, the token embedding table as little-endian float16
 *   `[vocab_size, dim]`, row-major (block-quantized tables dequantized),
 *   whose rows the host passes as the steps' `x`;
 * - the tokenizer: `tokenizer.bin` in the llama2.c format for a llama2.c
 *   vocabulary (the file it was loaded from, byte for byte), or
 *   `tokenizer.gguf`, a GGUF file holding only the `tokenizer.ggml.*` keys,
 *   for a GGUF vocabulary;
 * - `manifest.json`: the format version, the hyperparameters the host needs,
 *   the context and prefill step, the functions with their inputs, outputs
 *   and states, the embedding and tokenizer files (`docs/ane-lowering.md`).
 *
 * The directory is built in a temporary sibling and renamed into place
 * once complete: an error leaves no partial @dir. An existing @dir fails
 * with %ANE_ERROR_IO unless @overwrite is set, and is then replaced only
 * once the new one is complete. [func@Ane.LlamaDir.load] reads it back.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
ane_llama_model_save_dir (AneLlamaModel  *self,
                          AneTokenizer   *tokenizer,
                          const char     *dir,
                          gint64          context,
                          gint64          prefill_step,
                          AneTarget       target,
                          gboolean        overwrite,
                          GError        **error)
{
  return ane_llama_model_save_dir_full (self, tokenizer, dir, context, prefill_step, target, 0, 0, FALSE, overwrite,
                                        error);
}

/**
 * ane_llama_model_save_dir_full:
 * @self: a model
 * @tokenizer: (nullable): the model's tokenizer, as for
 *   [method@Ane.LlamaModel.save_dir]
 * @dir: the directory to write
 * @context: the key/value cache length in tokens; 0 or less for the
 *   model's sequence length; rounded up to a multiple of 32 (64-byte rows
 *   of float16, the Neural Engine's alignment) where the model allows
 * @prefill_step: the prompt tokens per `prefill` call; 0 or less for 64
 *   (at most @context)
 * @target: the deployment target (%ANE_TARGET_IOS18 or later)
 * @n_chunks: how many packages the layers are split into (1 to the number
 *   of layers, as even as possible); 0 to split by @chunk_bytes
 * @chunk_bytes: with @n_chunks 0, the float16 weight bytes a package may
 *   hold before the next one starts; 0 for the lint's SRAM budget
 *   ([method@Ane.LintReport.get_weight_budget], 32 MB), which stories260K
 *   fits whole
 * @argmax: whether the last package's steps give the arg-max of the logits
 *   (%ANE_LLAMA_HEAD_ARGMAX) instead of the logits; such a directory
 *   decodes greedily only
 * @overwrite: whether to replace an existing @dir
 * @error: return location for a #GError
 *
 * [method@Ane.LlamaModel.save_dir] with the model split across packages
 * and a choice of head. Each package (`model.mlpackage` when there is one,
 * else `chunk-0.mlpackage`, `chunk-1.mlpackage`…) holds the functions
 * `prefill` and `decode` of a group of consecutive layers
 * ([method@Ane.LlamaModel.build_ane_step]) sharing one `weight.bin`
 * and the key/value states of those layers; the first takes the
 * embedding `x`, each next one the previous one's `hidden`, and the last
 * ends with the final norm and the classifier (alone in a package of no
 * layers when they do not fit the budget beside the last layers). The
 * manifest's `chunks` lists them in order with their layers. Both
 * @n_chunks and @chunk_bytes set fails with %ANE_ERROR_INVALID_ARGUMENT, as
 * does @n_chunks above the number of layers.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
ane_llama_model_save_dir_full (AneLlamaModel  *self,
                               AneTokenizer   *tokenizer,
                               const char     *dir,
                               gint64          context,
                               gint64          prefill_step,
                               AneTarget       target,
                               guint           n_chunks,
                               guint64         chunk_bytes,
                               gboolean        argmax,
                               gboolean        overwrite,
                               GError        **error)
{
  return ane_llama_model_save_dir_compressed (self, tokenizer, dir, context, prefill_step, target, n_chunks,
                                              chunk_bytes, argmax, NULL, NULL, overwrite, error);
}

gboolean
ane_llama_model_save_dir_compressed (AneLlamaModel     *self,
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
                                     GError           **error)
{
  static const char *const names[2] = { "prefill", "decode" };
  g_autoptr(AneTokenizer) own_tokenizer = NULL;
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (saved_chunk_free);
  g_autoptr(GArray) ranges = NULL;
  g_autoptr(GBytes) embedding = NULL;
  g_autoptr(GBytes) tok_bytes = NULL;
  g_autoptr(GBytes) tok_config = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *manifest = NULL;
  g_autofree char *manifest_path = NULL;
  g_autofree char *parent = NULL;
  const char *tok_file = NULL, *tok_kind = NULL;
  gboolean gguf = FALSE;

  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), FALSE);
  g_return_val_if_fail (tokenizer == NULL || ANE_IS_TOKENIZER (tokenizer), FALSE);
  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (compress == NULL || ANE_IS_COMPRESS_CONFIG (compress), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (context <= 0)
    context = self->seq_len;
  if (prefill_step <= 0)
    prefill_step = MIN (DEFAULT_PREFILL_STEP, context);
  if (context < 2 || context > self->seq_len)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: context %" G_GINT64_FORMAT " is outside [2, %" G_GINT64_FORMAT "] (the model's sequence "
                   "length)", self->path, context, self->seq_len);
      return FALSE;
    }
  /* the caches' last axis in whole 64-byte rows (32 float16 values): the
   * Neural Engine pads the last axis to 64 bytes (Apple's
   * neural_engine_rules.md:23, :27-30; lint rule last-axis-padding), and a
   * state not a multiple of 32 wide leaves it (lint rule state-width) */
  if (context % 32 != 0 && (context + 31) / 32 * 32 <= self->seq_len)
    context = (context + 31) / 32 * 32;
  if (prefill_step < 2 || prefill_step > context)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: prefill step %" G_GINT64_FORMAT " is outside [2, %" G_GINT64_FORMAT "] (the context)",
                   self->path, prefill_step, context);
      return FALSE;
    }
  if (n_chunks > 0 && chunk_bytes > 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: a chunk count (%u) and a chunk budget (%" G_GUINT64_FORMAT " bytes) are two ways of "
                   "splitting the model; give one", self->path, n_chunks, chunk_bytes);
      return FALSE;
    }
  if (target != ANE_TARGET_IOS18 && target != ANE_TARGET_MACOS15)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: target %s has no states for the key/value caches (use ios18 or macos15)", self->path,
                   ane_target_to_string (target));
      return FALSE;
    }
  if (tokenizer == NULL && self->gguf != NULL)
    {
      own_tokenizer = ane_tokenizer_load_gguf (self->gguf, error);
      if (own_tokenizer == NULL)
        return FALSE;
      tokenizer = own_tokenizer;
    }
  if (tokenizer != NULL && !ane_tokenizer_fits_model (tokenizer, self->vocab_size))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: the tokenizer has %u tokens, the model %" G_GINT64_FORMAT, self->path,
                   ane_tokenizer_get_n_tokens (tokenizer), self->vocab_size);
      return FALSE;
    }
  if (tokenizer != NULL && ane_tokenizer_is_hf (tokenizer))
    {
      /* a tokenizer.json goes as it is, with a tokenizer_config.json
       * naming its BOS and EOS */
      if (!ane_tokenizer_serialize_hf (tokenizer, &tok_bytes, &tok_config, error))
        return FALSE;
      tok_file = "tokenizer.json";
      tok_kind = "hf";
    }
  else if (tokenizer != NULL)
    {
      tok_bytes = ane_tokenizer_serialize (tokenizer, &gguf);
      tok_file = gguf ? "tokenizer.gguf" : "tokenizer.bin";
      tok_kind = gguf ? "gguf" : "llama2c";
    }

  /* build everything before touching the file system */
  ranges = chunk_ranges (self, n_chunks, chunk_bytes > 0 ? chunk_bytes : ane_lint_weight_budget (), error);
  if (ranges == NULL)
    return FALSE;
  for (guint c = 0; c < ranges->len / 2; c++)
    {
      gint64 first = g_array_index (ranges, gint64, 2 * c), end = g_array_index (ranges, gint64, 2 * c + 1);
      gboolean last = c + 1 == ranges->len / 2;
      AneLlamaHead head = !last ? ANE_LLAMA_HEAD_NONE : argmax ? ANE_LLAMA_HEAD_ARGMAX : ANE_LLAMA_HEAD_LOGITS;
      g_autoptr(AneGraph) prefill = ane_llama_model_build_ane_step (self, prefill_step, context, first, end - first,
                                                                    head, ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE, error);
      g_autoptr(AneGraph) decode = prefill != NULL
                                   ? ane_llama_model_build_ane_step (self, 1, context, first, end - first, head,
                                                                     ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE, error)
                                   : NULL;
      AneGraph *graphs[2] = { prefill, decode };
      SavedChunk *chunk;

      if (decode == NULL)
        return FALSE;
      chunk = g_new0 (SavedChunk, 1);
      g_ptr_array_add (chunks, chunk);
      chunk->file = ranges->len == 2 ? g_strdup (PACKAGE_FILE) : g_strdup_printf ("chunk-%u.mlpackage", c);
      chunk->first = first;
      chunk->end = end;
      chunk->package = ane_package_new_from_graphs (names, graphs, 2, target, ANE_PRECISION_FLOAT16, error);
      if (chunk->package == NULL)
        return FALSE;
      /* compressed in memory, before anything is written: a refusal
       * leaves no directory */
      if (compress != NULL)
        {
          AnePackage *small = ane_package_compress (chunk->package, compress, NULL, NULL, error);

          if (small == NULL)
            {
              g_prefix_error (error, "%s: ", chunk->file);
              return FALSE;
            }
          g_object_unref (chunk->package);
          chunk->package = small;
          if (reports != NULL)
            g_ptr_array_add (reports, g_object_ref (ane_package_get_compression_report (small)));
        }
    }
  embedding = embedding_f16 (self, error);
  if (embedding == NULL)
    return FALSE;
  manifest = manifest_text (self, chunks, argmax, tok_file, tok_kind, context, prefill_step, target, error);
  if (manifest == NULL)
    return FALSE;

  if (g_file_test (dir, G_FILE_TEST_EXISTS) && !overwrite)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: already exists (pass overwrite to replace it)", dir);
      return FALSE;
    }
  /* as `mkdir -p` would, the directories above DIR (the write itself stays
   * atomic: DIR appears whole or not at all) */
  {
    g_autofree char *above = g_path_get_dirname (dir);

    if (g_mkdir_with_parents (above, 0755) != 0)
      {
        int saved = errno;

        g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: cannot create the directory above it: %s", dir,
                     g_strerror (saved));
        return FALSE;
      }
  }
  ane_file_remove_stale_temps (dir);
  tmp = ane_file_make_temp_dir (dir, error);
  if (tmp == NULL)
    return FALSE;
  manifest_path = g_build_filename (tmp, MANIFEST_FILE, NULL);
  for (guint i = 0; i < chunks->len; i++)
    {
      SavedChunk *chunk = g_ptr_array_index (chunks, i);
      g_autofree char *package_path = g_build_filename (tmp, chunk->file, NULL);

      if (!ane_package_save (chunk->package, package_path, FALSE, error))
        {
          ane_file_remove_tree (tmp);
          g_prefix_error (error, "writing %s: ", dir);
          return FALSE;
        }
    }
  if (!write_in (tmp, EMBEDDING_FILE, embedding, error) ||
      (tok_bytes != NULL && !write_in (tmp, tok_file, tok_bytes, error)) ||
      (tok_config != NULL && !write_in (tmp, "tokenizer_config.json", tok_config, error)) ||
      !ane_file_write_durable (manifest_path, manifest, strlen (manifest), error) ||
      !ane_file_sync_tree (tmp, error) ||
      !move_into_place (tmp, dir, overwrite, error))
    {
      ane_file_remove_tree (tmp);
      g_prefix_error (error, "writing %s: ", dir);
      return FALSE;
    }
  parent = g_path_get_dirname (dir);
  /* the rename has happened: a failed sync of the parent is not an error */
  if (!ane_file_sync_dir (parent, NULL))
    g_debug ("%s: could not sync the directory after renaming %s into it", parent, dir);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */

typedef struct
{
  const char *path;   /* the manifest, for messages */
  GError    **error;
} Reader;

static gboolean
bad_field (Reader     *r,
           const char *field,
           const char *problem)
{
  g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE, "%s: field '%s' %s", r->path, field, problem);
  return FALSE;
}

static JsonNode *
member (Reader     *r,
        JsonObject *obj,
        const char *field,
        const char *name)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;

  if (node == NULL)
    bad_field (r, field, "is missing");
  return node;
}

/* The member of the given node type, or NULL with the field named. */
static JsonNode *
member_of_type (Reader       *r,
                JsonObject   *obj,
                const char   *field,
                const char   *name,
                JsonNodeType  type,
                const char   *what)
{
  JsonNode *node = member (r, obj, field, name);

  if (node == NULL)
    return NULL;
  if (JSON_NODE_TYPE (node) != type)
    {
      bad_field (r, field, what);
      return NULL;
    }
  return node;
}

static JsonObject *
get_object (Reader     *r,
            JsonObject *obj,
            const char *field,
            const char *name)
{
  JsonNode *node = member_of_type (r, obj, field, name, JSON_NODE_OBJECT, "is not an object");

  return node != NULL ? json_node_get_object (node) : NULL;
}

static JsonArray *
get_array (Reader     *r,
           JsonObject *obj,
           const char *field,
           const char *name)
{
  JsonNode *node = member_of_type (r, obj, field, name, JSON_NODE_ARRAY, "is not an array");

  return node != NULL ? json_node_get_array (node) : NULL;
}

static const char *
get_string (Reader     *r,
            JsonObject *obj,
            const char *field,
            const char *name)
{
  JsonNode *node = member (r, obj, field, name);

  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      bad_field (r, field, "is not a string");
      return NULL;
    }
  return json_node_get_string (node);
}

static gboolean
node_int (Reader     *r,
          JsonNode   *node,
          const char *field,
          gint64      min,
          gint64      max,
          gint64     *out)
{
  gint64 v;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return bad_field (r, field, "is not an integer");
  v = json_node_get_int (node);
  if (v < min || v > max)
    {
      g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: field '%s' is %" G_GINT64_FORMAT ", outside [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
                   r->path, field, v, min, max);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
get_int (Reader     *r,
         JsonObject *obj,
         const char *field,
         const char *name,
         gint64      min,
         gint64      max,
         gint64     *out)
{
  JsonNode *node = member (r, obj, field, name);

  return node != NULL && node_int (r, node, field, min, max, out);
}

static gboolean
get_double (Reader     *r,
            JsonObject *obj,
            const char *field,
            const char *name,
            double     *out)
{
  JsonNode *node = member (r, obj, field, name);
  GType type;

  if (node == NULL)
    return FALSE;
  type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64)
    return bad_field (r, field, "is not a number");
  *out = json_node_get_double (node);
  return TRUE;
}

/* A file named by the manifest: a plain name inside the directory (no
 * separator, not "." or ".."), which exists. */
static char *
get_file (Reader      *r,
          const char  *dir,
          JsonObject  *obj,
          const char  *field,
          const char  *name,
          GFileTest    test)
{
  const char *base = get_string (r, obj, field, name);
  g_autofree char *path = NULL;

  if (base == NULL)
    return NULL;
  if (base[0] == '\0' || strchr (base, '/') != NULL || strchr (base, '\\') != NULL ||
      g_str_equal (base, ".") || g_str_equal (base, ".."))
    {
      g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: field '%s' ('%s') is not a file name inside the directory", r->path, field, base);
      return NULL;
    }
  path = g_build_filename (dir, base, NULL);
  if (!g_file_test (path, test))
    {
      g_set_error (r->error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "%s: field '%s': %s does not exist%s", r->path, field,
                   path, test == G_FILE_TEST_IS_DIR ? " (or is not a directory)" : "");
      return NULL;
    }
  return g_steal_pointer (&path);
}

/* A manifest tensor list (field) against the package function's inputs,
 * outputs or states: the same names, dtypes and shapes in the same order. */
static gboolean
check_tensors (Reader     *r,
               JsonArray  *list,
               const char *field,
               GPtrArray  *actual)
{
  if (json_array_get_length (list) != actual->len)
    {
      g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE, "%s: field '%s' lists %u tensors, the package has %u",
                   r->path, field, json_array_get_length (list), actual->len);
      return FALSE;
    }
  for (guint i = 0; i < actual->len; i++)
    {
      AneTensor *t = g_ptr_array_index (actual, i);
      JsonNode *node = json_array_get_element (list, i);
      g_autofree char *f = g_strdup_printf ("%s[%u]", field, i);
      g_autofree char *fname = g_strdup_printf ("%s.name", f);
      g_autofree char *fdtype = g_strdup_printf ("%s.dtype", f);
      g_autofree char *fshape = g_strdup_printf ("%s.shape", f);
      JsonObject *obj;
      JsonArray *shape;
      const char *name, *dtype;
      guint rank = 0;
      const gint64 *dims = ane_tensor_get_shape (t, &rank);

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return bad_field (r, f, "is not an object");
      obj = json_node_get_object (node);
      if ((name = get_string (r, obj, fname, "name")) == NULL ||
          (dtype = get_string (r, obj, fdtype, "dtype")) == NULL ||
          (shape = get_array (r, obj, fshape, "shape")) == NULL)
        return FALSE;
      if (!g_str_equal (name, ane_tensor_get_name (t)))
        {
          g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE, "%s: field '%s' is '%s', the package's is '%s'",
                       r->path, fname, name, ane_tensor_get_name (t));
          return FALSE;
        }
      if (!g_str_equal (dtype, ane_dtype_to_string (ane_tensor_get_dtype (t))))
        {
          g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE, "%s: field '%s' is '%s', the package's is '%s'",
                       r->path, fdtype, dtype, ane_dtype_to_string (ane_tensor_get_dtype (t)));
          return FALSE;
        }
      if (json_array_get_length (shape) != rank)
        return bad_field (r, fshape, "does not match the package's rank");
      for (guint d = 0; d < rank; d++)
        {
          g_autofree char *fd = g_strdup_printf ("%s[%u]", fshape, d);
          gint64 v;

          if (!node_int (r, json_array_get_element (shape, d), fd, 1, G_MAXINT32, &v))
            return FALSE;
          if (v != dims[d])
            {
              g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE,
                           "%s: field '%s' is %" G_GINT64_FORMAT ", the package's is %" G_GINT64_FORMAT, r->path,
                           fd, v, dims[d]);
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* What the host feeds a step of n tokens, as ane_llama_ane_step_inputs
 * makes it, against the package function's inputs. */
static gboolean
check_step_inputs (Reader      *r,
                   AneLlamaDir *self,
                   const char  *field,
                   gint64       n,
                   gboolean     with_layers,
                   GPtrArray   *inputs)
{
  gint64 width = self->n_heads * self->head;
  /* the caches are written by slice_update at the int32 box write_begin ..
   * write_end (ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE, ane-llama-ane.c) */
  const struct { const char *name; AneDType dtype; guint rank; gint64 shape[4]; } want[] = {
    { "x", ANE_DTYPE_FLOAT32, 4, { 1, self->dim, 1, n } },
    { "rope_cos", ANE_DTYPE_FLOAT32, 4, { 1, width, 1, n } },
    { "rope_sin", ANE_DTYPE_FLOAT32, 4, { 1, width, 1, n } },
    { "mask", ANE_DTYPE_FLOAT32, 4, { 1, 1, n == 1 ? 1 : self->context, n == 1 ? self->context : n } },
    { "write_begin", ANE_DTYPE_INT32, 1, { 4 } },
    { "write_end", ANE_DTYPE_INT32, 1, { 4 } },
  };
  /* a chunk of the head alone takes the hidden state only */
  guint n_want = !with_layers ? 1 : G_N_ELEMENTS (want);

  if (inputs->len != n_want)
    {
      g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE, "%s: field '%s': the package's function takes %u inputs, "
                   "not %u", r->path, field, inputs->len, n_want);
      return FALSE;
    }
  for (guint i = 0; i < n_want; i++)
    {
      AneTensor *t = g_ptr_array_index (inputs, i);
      guint rank = 0;
      const gint64 *dims = ane_tensor_get_shape (t, &rank);

      /* float inputs may be declared float16 by the package (precision) */
      gboolean dtype_ok = want[i].dtype == ANE_DTYPE_INT32 ? ane_tensor_get_dtype (t) == ANE_DTYPE_INT32
                                                            : ane_dtype_is_float (ane_tensor_get_dtype (t));

      if (!g_str_equal (ane_tensor_get_name (t), want[i].name) || rank != want[i].rank || !dtype_ok ||
          memcmp (dims, want[i].shape, rank * sizeof (gint64)) != 0)
        {
          g_autoptr(GString) shape = g_string_new ("[");

          for (guint d = 0; d < want[i].rank; d++)
            g_string_append_printf (shape, "%s%" G_GINT64_FORMAT, d > 0 ? ", " : "", want[i].shape[d]);
          g_string_append_c (shape, ']');
          g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: field '%s': input %u ('%s') of the package's function is not what the fields "
                       "'model', 'context' and 'prefill_step' make the host compute ('%s' %s %s)",
                       r->path, field, i, ane_tensor_get_name (t), want[i].name,
                       ane_dtype_to_string (want[i].dtype), shape->str);
          return FALSE;
        }
    }
  return TRUE;
}

/* Whether outputs are the logits of tokens tokens: one `logits` output, or
 * the classifier's parts (`logits_0`...) whose rows add up to vocab, in the
 * form ane_llama_ane_logits_column reads. */
static gboolean
logits_outputs (GPtrArray *outputs,
                gint64     vocab,
                gint64     tokens)
{
  gint64 parts = ane_llama_ane_logits_parts (vocab), rows = 0;

  if ((gint64) outputs->len != parts)
    return FALSE;
  for (guint i = 0; i < outputs->len; i++)
    {
      AneTensor *t = g_ptr_array_index (outputs, i);
      g_autofree char *want = parts == 1 ? g_strdup ("logits") : g_strdup_printf ("logits_%u", i);
      gint64 n = ane_tensor_get_n_elements (t);

      if (!g_str_equal (ane_tensor_get_name (t), want) || n <= 0 || n % tokens != 0)
        return FALSE;
      rows += n / tokens;
    }
  return rows == vocab;
}

/* Whether outputs are what an arg-max head gives for tokens tokens:
 * `argmax_idx` (two digits per token) and `argmax_val` per part of the
 * classifier, in the form ane_llama_ane_argmax_column reads. */
static gboolean
argmax_outputs (GPtrArray *outputs,
                gint64     vocab,
                gint64     tokens)
{
  gint64 parts = ane_llama_ane_logits_parts (vocab);

  if ((gint64) outputs->len != 2 * parts)
    return FALSE;
  for (gint64 p = 0; p < parts; p++)
    {
      g_autofree char *suffix = parts == 1 ? g_strdup ("") : g_strdup_printf ("_%" G_GINT64_FORMAT, p);
      g_autofree char *iname = g_strconcat ("argmax_idx", suffix, NULL);
      g_autofree char *vname = g_strconcat ("argmax_val", suffix, NULL);
      AneTensor *idx = g_ptr_array_index (outputs, 2 * p), *val = g_ptr_array_index (outputs, 2 * p + 1);

      if (!g_str_equal (ane_tensor_get_name (idx), iname) || ane_tensor_get_n_elements (idx) != 2 * tokens ||
          !g_str_equal (ane_tensor_get_name (val), vname) ||
          ane_tensor_get_n_elements (val) != tokens)
        return FALSE;
    }
  return TRUE;
}

/* Whether outputs are one `hidden` [1, dim, 1, tokens], what a chunk
 * another one continues gives. */
static gboolean
hidden_outputs (GPtrArray *outputs,
                gint64     dim,
                gint64     tokens)
{
  AneTensor *t = outputs->len == 1 ? g_ptr_array_index (outputs, 0) : NULL;
  const gint64 want[4] = { 1, dim, 1, tokens };
  guint rank = 0;
  const gint64 *dims = t != NULL ? ane_tensor_get_shape (t, &rank) : NULL;

  return t != NULL && g_str_equal (ane_tensor_get_name (t), "hidden") && rank == 4 &&
         memcmp (dims, want, sizeof want) == 0;
}

/* The functions and states of chunk c (fields prefix + "functions" and
 * prefix + "states" of holder) against its package. */
static gboolean
read_functions (Reader      *r,
                AneLlamaDir *self,
                guint        c,
                JsonObject  *holder,
                const char  *prefix)
{
  static const char *const names[2] = { "prefill", "decode" };
  DirChunk *chunk = g_ptr_array_index (self->chunks, c);
  gboolean last = c + 1 == self->chunks->len;
  g_autofree char *ffunctions = g_strconcat (prefix, "functions", NULL);
  g_autofree char *fstates = g_strconcat (prefix, "states", NULL);
  JsonArray *functions = get_array (r, holder, ffunctions, "functions");
  JsonArray *states;

  if (functions == NULL)
    return FALSE;
  if (json_array_get_length (functions) != 2)
    return bad_field (r, ffunctions, "does not list the two functions prefill and decode");
  for (guint f = 0; f < 2; f++)
    {
      JsonNode *node = json_array_get_element (functions, f);
      g_autofree char *field = g_strdup_printf ("%s[%u]", ffunctions, f);
      g_autofree char *fname = g_strdup_printf ("%s.name", field);
      g_autofree char *ftokens = g_strdup_printf ("%s.tokens", field);
      g_autofree char *finputs = g_strdup_printf ("%s.inputs", field);
      g_autofree char *foutputs = g_strdup_printf ("%s.outputs", field);
      g_autoptr(GPtrArray) inputs = NULL;
      g_autoptr(GPtrArray) outputs = NULL;
      g_autoptr(GError) local = NULL;
      JsonObject *obj;
      JsonArray *list;
      const char *name, *want;
      gboolean ok;
      gint64 tokens;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return bad_field (r, field, "is not an object");
      obj = json_node_get_object (node);
      if ((name = get_string (r, obj, fname, "name")) == NULL)
        return FALSE;
      if (!g_str_equal (name, names[f]))
        {
          g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE, "%s: field '%s' is '%s', expected '%s'", r->path,
                       fname, name, names[f]);
          return FALSE;
        }
      if (!get_int (r, obj, ftokens, "tokens", f == 0 ? self->prefill_step : 1,
                    f == 0 ? self->prefill_step : 1, &tokens))
        return FALSE;
      inputs = ane_package_list_inputs (chunk->package, name, &local);
      outputs = inputs != NULL ? ane_package_list_outputs (chunk->package, name, &local) : NULL;
      if (outputs == NULL)
        {
          g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE, "%s: field '%s': %s", r->path, field, local->message);
          return FALSE;
        }
      if ((list = get_array (r, obj, finputs, "inputs")) == NULL || !check_tensors (r, list, finputs, inputs) ||
          (list = get_array (r, obj, foutputs, "outputs")) == NULL || !check_tensors (r, list, foutputs, outputs) ||
          !check_step_inputs (r, self, finputs, tokens, chunk->end > chunk->first, inputs))
        return FALSE;
      if (!last)
        {
          ok = hidden_outputs (outputs, self->dim, tokens);
          want = "the hidden state 'hidden' the next chunk takes";
        }
      else if (self->argmax)
        {
          ok = argmax_outputs (outputs, self->vocab_size, tokens);
          want = "the arg-max of the logits ('argmax_idx', 'argmax_val'), as field 'head' says";
        }
      else
        {
          ok = logits_outputs (outputs, self->vocab_size, tokens);
          want = "the logits, as field 'head' says";
        }
      if (!ok)
        {
          g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE, "%s: field '%s': the package's function does not "
                       "give %s for %" G_GINT64_FORMAT " token(s)", r->path, foutputs, want, tokens);
          return FALSE;
        }
    }
  if ((states = get_array (r, holder, fstates, "states")) == NULL)
    return FALSE;
  chunk->states = ane_package_list_states (chunk->package, "decode", r->error);
  if (chunk->states == NULL || !check_tensors (r, states, fstates, chunk->states))
    return FALSE;
  return TRUE;
}

/* The `chunks` array: packages inside the directory, each named once,
 * whose layer ranges follow each other from 0 to model.n_layers (the last
 * may hold the head alone, [n_layers, n_layers]); the packages loaded and
 * their functions checked. */
static gboolean
read_chunks (Reader      *r,
             AneLlamaDir *self,
             JsonObject  *root)
{
  JsonArray *chunks = get_array (r, root, "chunks", "chunks");
  g_autoptr(GHashTable) files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n;
  gint64 next = 0;

  if (chunks == NULL)
    return FALSE;
  n = json_array_get_length (chunks);
  if (n == 0 || (gint64) n > self->n_layers + 1)
    return bad_field (r, "chunks", "does not list between one package and one per layer plus the head");
  for (guint c = 0; c < n; c++)
    {
      JsonNode *node = json_array_get_element (chunks, c);
      g_autofree char *field = g_strdup_printf ("chunks[%u]", c);
      g_autofree char *ffile = g_strdup_printf ("%s.file", field);
      g_autofree char *flayers = g_strdup_printf ("%s.layers", field);
      g_autofree char *ffirst = g_strdup_printf ("%s.layers[0]", field);
      g_autofree char *fend = g_strdup_printf ("%s.layers[1]", field);
      g_autofree char *path = NULL;
      JsonObject *obj;
      JsonArray *layers;
      DirChunk *chunk;
      gboolean last = c + 1 == n;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return bad_field (r, field, "is not an object");
      obj = json_node_get_object (node);
      path = get_file (r, self->path, obj, ffile, "file", G_FILE_TEST_IS_DIR);
      if (path == NULL)
        return FALSE;
      if (!g_hash_table_add (files, g_path_get_basename (path)))
        return bad_field (r, ffile, "names a package an earlier chunk names");
      if ((layers = get_array (r, obj, flayers, "layers")) == NULL)
        return FALSE;
      if (json_array_get_length (layers) != 2)
        return bad_field (r, flayers, "is not [first, end]");
      chunk = g_new0 (DirChunk, 1);
      g_ptr_array_add (self->chunks, chunk);
      /* each chunk starts where the previous one ends; only the last may
       * be empty (the head alone), and it ends at the last layer */
      if (!node_int (r, json_array_get_element (layers, 0), ffirst, next, next, &chunk->first) ||
          !node_int (r, json_array_get_element (layers, 1), fend, last && c > 0 ? next : next + 1,
                     last ? self->n_layers : self->n_layers, &chunk->end))
        return FALSE;
      if (last && chunk->end != self->n_layers)
        return bad_field (r, fend, "is not model.n_layers: the layers after it are in no chunk");
      next = chunk->end;
      chunk->package = ane_package_load (path, r->error);
      if (chunk->package == NULL)
        {
          g_prefix_error (r->error, "%s: field '%s': ", r->path, ffile);
          return FALSE;
        }
    }
  self->package = g_object_ref (((DirChunk *) g_ptr_array_index (self->chunks, 0))->package);
  for (guint c = 0; c < n; c++)
    {
      JsonObject *obj = json_array_get_object_element (chunks, c);
      g_autofree char *prefix = g_strdup_printf ("chunks[%u].", c);

      /* a one-chunk manifest may keep its functions at the top (format
       * version 1 as first written) */
      if (n == 1 && !json_object_has_member (obj, "functions"))
        {
          if (!read_functions (r, self, c, root, ""))
            return FALSE;
        }
      else if (!read_functions (r, self, c, obj, prefix))
        return FALSE;
    }
  return TRUE;
}

static gboolean
read_manifest (AneLlamaDir  *self,
               const char   *text,
               gsize         length,
               const char   *manifest_path,
               GError      **error)
{
  Reader rd = { manifest_path, error }, *r = &rd;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;
  g_autofree char *embedding_path = NULL;
  g_autofree char *tok_path = NULL;
  JsonNode *root_node, *tok_node;
  JsonObject *root, *model, *emb;
  JsonArray *shape;
  const char *s;
  gint64 version, v;
  gsize emb_size;

  if (!ane_json_check_depth (text, length, 0, ANE_JSON_MAX_DEPTH, manifest_path, error))
    return FALSE;
  if (!json_parser_load_from_data (parser, text, (gssize) length, &local))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: not valid JSON: %s", manifest_path, local->message);
      return FALSE;
    }
  root_node = json_parser_get_root (parser);
  if (root_node == NULL || !JSON_NODE_HOLDS_OBJECT (root_node))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: not a JSON object", manifest_path);
      return FALSE;
    }
  root = json_node_get_object (root_node);
  if ((s = get_string (r, root, "format", "format")) == NULL)
    return FALSE;
  if (!g_str_equal (s, FORMAT_NAME))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: field 'format' is '%s', not '%s'", manifest_path, s,
                   FORMAT_NAME);
      return FALSE;
    }
  if (!get_int (r, root, "format_version", "format_version", 1, G_MAXINT64, &version))
    return FALSE;
  if (version != ANE_LLAMA_DIR_FORMAT_VERSION)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: field 'format_version' is %" G_GINT64_FORMAT "; this library reads version %d",
                   manifest_path, version, ANE_LLAMA_DIR_FORMAT_VERSION);
      return FALSE;
    }
  if (get_string (r, root, "library_version", "library_version") == NULL)
    return FALSE;

  model = get_object (r, root, "model", "model");
  if (model == NULL || (s = get_string (r, model, "model.architecture", "architecture")) == NULL)
    return FALSE;
  if (!g_str_equal (s, "llama"))
    return bad_field (r, "model.architecture", "is not 'llama'");
  if (!get_int (r, model, "model.dim", "dim", 2, MAX_DIM, &self->dim) ||
      !get_int (r, model, "model.n_layers", "n_layers", 1, 4096, &self->n_layers) ||
      !get_int (r, model, "model.n_heads", "n_heads", 1, MAX_HEADS, &self->n_heads) ||
      !get_int (r, model, "model.n_kv_heads", "n_kv_heads", 1, self->n_heads, &self->n_kv_heads) ||
      !get_int (r, model, "model.head", "head", 2, MAX_DIM, &self->head) ||
      !get_int (r, model, "model.vocab_size", "vocab_size", 3, MAX_VOCAB, &self->vocab_size) ||
      !get_double (r, model, "model.rope_base", "rope_base", &self->rope_base))
    return FALSE;
  /* head is dim / n_heads unless the manifest says the model sets its
   * own (model.head_dim: Hugging Face's head_dim, Qwen3 and Gemma) */
  if (json_object_has_member (model, "head_dim"))
    {
      gint64 head_dim;

      if (!get_int (r, model, "model.head_dim", "head_dim", 2, MAX_DIM, &head_dim))
        return FALSE;
      if (head_dim != self->head || self->head % 2 != 0)
        return bad_field (r, "model.head", "is not model.head_dim, or is odd");
    }
  else if (self->head * self->n_heads != self->dim || self->head % 2 != 0)
    return bad_field (r, "model.head", "is not dim / n_heads, or is odd");
  if (json_object_has_member (model, "embed_scale") &&
      !get_double (r, model, "model.embed_scale", "embed_scale", &self->embed_scale))
    return FALSE;
  if (self->embed_scale < 0.0 || !isfinite (self->embed_scale))
    return bad_field (r, "model.embed_scale", "is not a finite positive number");
  if (json_object_has_member (model, "rope_inv_freq"))
    {
      JsonArray *list = get_array (r, model, "model.rope_inv_freq", "rope_inv_freq");

      if (list == NULL)
        return FALSE;
      if ((gint64) json_array_get_length (list) != self->head / 2)
        return bad_field (r, "model.rope_inv_freq", "does not hold model.head / 2 numbers");
      self->rope_inv_freq = g_new (float, self->head / 2);
      for (gint64 i = 0; i < self->head / 2; i++)
        {
          JsonNode *node = json_array_get_element (list, (guint) i);
          GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
          double value = type == G_TYPE_DOUBLE || type == G_TYPE_INT64 ? json_node_get_double (node) : -1.0;

          if (!(value > 0.0) || !isfinite (value))
            return bad_field (r, "model.rope_inv_freq", "holds a value that is not a finite positive number");
          self->rope_inv_freq[i] = (float) value;
        }
    }
  if (self->n_heads % self->n_kv_heads != 0)
    return bad_field (r, "model.n_kv_heads", "does not divide model.n_heads");
  if (!isfinite (self->rope_base) || self->rope_base <= 1.0)
    return bad_field (r, "model.rope_base", "is not a finite number above 1");

  if (!get_int (r, root, "context", "context", 2, MAX_CONTEXT, &self->context) ||
      !get_int (r, root, "prefill_step", "prefill_step", 2, self->context, &self->prefill_step))
    return FALSE;
  if ((s = get_string (r, root, "precision", "precision")) == NULL)
    return FALSE;
  if (!g_str_equal (s, "float16"))
    return bad_field (r, "precision", "is not 'float16'");
  if (get_string (r, root, "target", "target") == NULL)
    return FALSE;

  /* absent from the first manifests, which all ended with the logits */
  if (json_object_has_member (root, "head"))
    {
      if ((s = get_string (r, root, "head", "head")) == NULL)
        return FALSE;
      if (!g_str_equal (s, "logits") && !g_str_equal (s, "argmax"))
        return bad_field (r, "head", "is neither 'logits' nor 'argmax'");
      self->argmax = g_str_equal (s, "argmax");
    }

  emb = get_object (r, root, "embedding", "embedding");
  if (emb == NULL || (s = get_string (r, emb, "embedding.dtype", "dtype")) == NULL)
    return FALSE;
  if (!g_str_equal (s, "float16"))
    return bad_field (r, "embedding.dtype", "is not 'float16'");
  if ((shape = get_array (r, emb, "embedding.shape", "shape")) == NULL)
    return FALSE;
  if (json_array_get_length (shape) != 2 ||
      !node_int (r, json_array_get_element (shape, 0), "embedding.shape[0]", self->vocab_size, self->vocab_size, &v) ||
      !node_int (r, json_array_get_element (shape, 1), "embedding.shape[1]", self->dim, self->dim, &v))
    return json_array_get_length (shape) != 2 ? bad_field (r, "embedding.shape", "is not [vocab_size, dim]")
                                              : FALSE;
  embedding_path = get_file (r, self->path, emb, "embedding.file", "file", G_FILE_TEST_IS_REGULAR);
  if (embedding_path == NULL)
    return FALSE;
  self->embedding = ane_file_map_regular (embedding_path, error);
  if (self->embedding == NULL)
    return FALSE;
  emb_size = (gsize) self->vocab_size * (gsize) self->dim * 2;
  if (g_mapped_file_get_length (self->embedding) != emb_size)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: field 'embedding.file': %s is %" G_GSIZE_FORMAT " bytes, [%" G_GINT64_FORMAT ", %"
                   G_GINT64_FORMAT "] float16 is %" G_GSIZE_FORMAT, manifest_path, embedding_path,
                   g_mapped_file_get_length (self->embedding), self->vocab_size, self->dim, emb_size);
      return FALSE;
    }

  tok_node = member (r, root, "tokenizer", "tokenizer");
  if (tok_node == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_NULL (tok_node))
    {
      JsonObject *tok;
      const char *kind;

      if (!JSON_NODE_HOLDS_OBJECT (tok_node))
        return bad_field (r, "tokenizer", "is neither an object nor null");
      tok = json_node_get_object (tok_node);
      if ((kind = get_string (r, tok, "tokenizer.kind", "kind")) == NULL)
        return FALSE;
      if (!g_str_equal (kind, "llama2c") && !g_str_equal (kind, "gguf") && !g_str_equal (kind, "hf"))
        return bad_field (r, "tokenizer.kind", "is not 'llama2c', 'gguf' or 'hf'");
      tok_path = get_file (r, self->path, tok, "tokenizer.file", "file", G_FILE_TEST_IS_REGULAR);
      if (tok_path == NULL)
        return FALSE;
      if (g_str_equal (kind, "llama2c"))
        self->tokenizer = ane_tokenizer_load_llama2c (tok_path, (guint) self->vocab_size, error);
      else if (g_str_equal (kind, "hf"))
        self->tokenizer = ane_tokenizer_load_hf (tok_path, error);
      else
        {
          g_autoptr(AneGgufFile) file = ane_gguf_file_new (tok_path, error);

          self->tokenizer = file != NULL ? ane_tokenizer_load_gguf (file, error) : NULL;
        }
      if (self->tokenizer == NULL)
        {
          g_prefix_error (error, "%s: field 'tokenizer.file': ", manifest_path);
          return FALSE;
        }
      if (!ane_tokenizer_fits_model (self->tokenizer, self->vocab_size))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: field 'tokenizer.file': %s has %u tokens, model.vocab_size is %" G_GINT64_FORMAT,
                       manifest_path, tok_path, ane_tokenizer_get_n_tokens (self->tokenizer), self->vocab_size);
          return FALSE;
        }
    }

  return read_chunks (r, self, root);
}

/**
 * ane_llama_dir_load:
 * @dir: a directory written by [method@Ane.LlamaModel.save_dir]
 * @error: return location for a #GError
 *
 * Reads `manifest.json` of @dir and checks it: every field's type and
 * range, the files it names (plain names inside @dir, present, of the sizes
 * the shapes give), the tokenizer (loaded), the chunks (their layer ranges
 * following each other from the first layer to the last), each chunk's
 * package (loaded; its functions' inputs, outputs and states those the
 * manifest lists, the inputs those the host computes for the model the
 * manifest describes, the outputs the hidden state for all but the last,
 * and the logits or their arg-max, as the field `head` says, for the last).
 * A problem fails with %ANE_ERROR_PARSE (%ANE_ERROR_NOT_FOUND for a missing
 * file, %ANE_ERROR_UNSUPPORTED for another format version) naming the
 * field.
 *
 * Returns: (transfer full): the directory, or %NULL with @error set
 *
 * Since: 0.2
 */
AneLlamaDir *
ane_llama_dir_load (const char  *dir,
                    GError     **error)
{
  g_autoptr(AneLlamaDir) self = NULL;
  g_autofree char *manifest_path = NULL;
  g_autofree char *text = NULL;
  GStatBuf st;
  gsize length = 0;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  manifest_path = g_build_filename (dir, MANIFEST_FILE, NULL);
  if (!g_file_test (manifest_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "%s: no %s (not a directory written by convert-llm)",
                   dir, MANIFEST_FILE);
      return NULL;
    }
  /* the size is checked before anything is read into memory */
  if (g_stat (manifest_path, &st) == 0 && st.st_size > MAX_MANIFEST_BYTES)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE, "%s: %" G_GINT64_FORMAT " bytes, above the %d a manifest "
                   "may have", manifest_path, (gint64) st.st_size, MAX_MANIFEST_BYTES);
      return NULL;
    }
  if (!ane_file_get_contents (manifest_path, &text, &length, error))
    return NULL;
  if (length > MAX_MANIFEST_BYTES)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE, "%s: %" G_GSIZE_FORMAT " bytes, above the %d a manifest "
                   "may have", manifest_path, length, MAX_MANIFEST_BYTES);
      return NULL;
    }
  self = g_object_new (ANE_TYPE_LLAMA_DIR, NULL);
  self->path = g_strdup (dir);
  if (!read_manifest (self, text, length, manifest_path, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * ane_llama_dir_get_path:
 * @self: a converted model
 *
 * Where the model lives.
 *
 * Returns: the directory it was loaded from
 *
 * Since: 0.2
 */
const char *
ane_llama_dir_get_path (AneLlamaDir *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_DIR (self), NULL);
  return self->path;
}

/**
 * ane_llama_dir_get_context:
 * @self: a converted model
 *
 * The context the model was converted for (`convert-llm --context`).
 *
 * Returns: the key/value cache length in tokens: a prompt and its
 *   continuation hold at most this many
 *
 * Since: 0.2
 */
gint64
ane_llama_dir_get_context (AneLlamaDir *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_DIR (self), 0);
  return self->context;
}

/**
 * ane_llama_dir_get_prefill_step:
 * @self: a converted model
 *
 * The prompt step's size (`convert-llm --prefill`).
 *
 * Returns: the prompt tokens the `prefill` function takes per call
 *
 * Since: 0.2
 */
gint64
ane_llama_dir_get_prefill_step (AneLlamaDir *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_DIR (self), 0);
  return self->prefill_step;
}

/**
 * ane_llama_dir_get_vocab_size:
 * @self: a converted model
 *
 * The vocabulary's size, as the manifest gives it.
 *
 * Returns: the number of tokens of the vocabulary
 *
 * Since: 0.2
 */
gint64
ane_llama_dir_get_vocab_size (AneLlamaDir *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_DIR (self), 0);
  return self->vocab_size;
}

/**
 * ane_llama_dir_get_dim:
 * @self: a converted model
 *
 * The model's width, as the manifest gives it.
 *
 * Returns: the model's width (the embedding's row length)
 *
 * Since: 0.2
 */
gint64
ane_llama_dir_get_dim (AneLlamaDir *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_DIR (self), 0);
  return self->dim;
}

/**
 * ane_llama_dir_get_package:
 * @self: a converted model
 *
 * The package with the `prefill` and `decode` functions, the first of
 * them when the model is split ([method@Ane.LlamaDir.get_chunk]).
 *
 * Returns: (transfer none): `model.mlpackage` (or `chunk-0.mlpackage`),
 *   loaded
 *
 * Since: 0.2
 */
AnePackage *
ane_llama_dir_get_package (AneLlamaDir *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_DIR (self), NULL);
  return self->package;
}

/**
 * ane_llama_dir_get_tokenizer:
 * @self: a converted model
 *
 * The vocabulary written beside the package.
 *
 * Returns: (transfer none) (nullable): the tokenizer, or %NULL if the
 *   directory has none
 *
 * Since: 0.2
 */
AneTokenizer *
ane_llama_dir_get_tokenizer (AneLlamaDir *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_DIR (self), NULL);
  return self->tokenizer;
}

/**
 * ane_llama_dir_get_n_chunks:
 * @self: a converted model
 *
 * How many packages the model is split into (`convert-llm --chunks`).
 *
 * Returns: the number of chunks, 1 or more
 *
 * Since: 0.2
 */
guint
ane_llama_dir_get_n_chunks (AneLlamaDir *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_DIR (self), 0);
  return self->chunks->len;
}

/**
 * ane_llama_dir_get_chunk:
 * @self: a converted model
 * @index: a chunk, from 0 (the one that takes the embedding)
 * @first_layer: (out) (optional): the first layer it holds
 * @end_layer: (out) (optional): one past the last layer it holds (equal to
 *   @first_layer for a chunk of the head alone)
 *
 * A package of the model, in the order a token goes through them; the
 * last ends with the final norm and the classifier.
 *
 * Returns: (transfer none): the chunk's package, loaded
 *
 * Since: 0.2
 */
AnePackage *
ane_llama_dir_get_chunk (AneLlamaDir *self,
                         guint        index,
                         gint64      *first_layer,
                         gint64      *end_layer)
{
  DirChunk *chunk;

  g_return_val_if_fail (ANE_IS_LLAMA_DIR (self), NULL);
  g_return_val_if_fail (index < self->chunks->len, NULL);

  chunk = g_ptr_array_index (self->chunks, index);
  if (first_layer != NULL)
    *first_layer = chunk->first;
  if (end_layer != NULL)
    *end_layer = chunk->end;
  return chunk->package;
}

/**
 * ane_llama_dir_get_argmax:
 * @self: a converted model
 *
 * Whether the model was converted with an arg-max head (`convert-llm
 * --argmax`): its steps give the most likely token, not the logits, so it
 * decodes greedily only.
 *
 * Returns: %TRUE for an arg-max head
 *
 * Since: 0.2
 */
gboolean
ane_llama_dir_get_argmax (AneLlamaDir *self)
{
  g_return_val_if_fail (ANE_IS_LLAMA_DIR (self), FALSE);
  return self->argmax;
}

/* One function (prefill or decode) of every chunk, compiled, in order. */
static GPtrArray *
function_executables (AneLlamaDir  *self,
                      const char   *name,
                      AneBackend    backend,
                      GError      **error)
{
  g_autoptr(GPtrArray) exes = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint c = 0; c < self->chunks->len; c++)
    {
      DirChunk *chunk = g_ptr_array_index (self->chunks, c);
      g_autoptr(AneExecutable) exe = ane_executable_new_from_package_full (chunk->package, name, backend, error);

      if (exe == NULL || !ane_executable_compile (exe, NULL, error))
        return NULL;
      g_ptr_array_add (exes, g_steal_pointer (&exe));
    }
  return g_steal_pointer (&exes);
}

/* Each chunk's executable of function name with all its ports bound to
 * buffers (ane-llama-bound.c: the caches stay in the backend's memory
 * between tokens), or NULL entries where the backend takes no buffers. */
static GPtrArray *
bound_steps (AneLlamaDir  *self,
             GPtrArray    *exes,
             const char   *name,
             GError      **error)
{
  g_autoptr(GPtrArray) bound = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_llama_bound_step_free);

  for (guint c = 0; c < exes->len; c++)
    {
      DirChunk *chunk = g_ptr_array_index (self->chunks, c);
      g_autoptr(GPtrArray) ins = ane_package_list_inputs (chunk->package, name, error);
      g_autoptr(GPtrArray) outs = ins != NULL ? ane_package_list_outputs (chunk->package, name, error) : NULL;
      g_autoptr(GPtrArray) states = outs != NULL ? ane_package_list_states (chunk->package, name, error) : NULL;
      g_autoptr(GError) local = NULL;
      AneLlamaBoundStep *step;

      if (states == NULL)
        return NULL;
      step = ane_llama_bound_step_new (g_ptr_array_index (exes, c), ins, outs, states, &local);
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      g_ptr_array_add (bound, step);
    }
  return g_steal_pointer (&bound);
}

/* One step through the chunks in order: the first takes the host's inputs,
 * each next one the previous one's `hidden` as its `x` (with the host's
 * other inputs when it holds layers); the last one's outputs. bound
 * (nullable) holds each chunk's bound step or NULL. */
static GPtrArray *
run_chunks (AneLlamaDir  *self,
            GPtrArray    *exes,
            GPtrArray    *bound,
            GPtrArray    *inputs,
            GError      **error)
{
  g_autoptr(GPtrArray) out = NULL;

  for (guint c = 0; c < exes->len; c++)
    {
      DirChunk *chunk = g_ptr_array_index (self->chunks, c);
      g_autoptr(GPtrArray) in = g_ptr_array_new_with_free_func (g_object_unref);

      /* x first (ane_llama_ane_step_inputs' order), then the rest */
      g_ptr_array_add (in, out != NULL ? ane_tensor_rename (g_ptr_array_index (out, 0), "x")
                                       : g_object_ref (g_ptr_array_index (inputs, 0)));
      for (guint i = 1; chunk->end > chunk->first && i < inputs->len; i++)
        g_ptr_array_add (in, g_object_ref (g_ptr_array_index (inputs, i)));
      g_clear_pointer (&out, g_ptr_array_unref);
      out = ane_llama_step_run (g_ptr_array_index (exes, c), bound != NULL ? g_ptr_array_index (bound, c) : NULL,
                                in, error);
      if (out == NULL)
        return NULL;
    }
  return g_steal_pointer (&out);
}

/* The next token from the last chunk's outputs for token column of an
 * n_step-token call: the arg-max head's choice, or a pick from the logits. */
static gboolean
next_token (AneLlamaDir  *self,
            GPtrArray    *out,
            gint64        n_step,
            gint64        column,
            double        temperature,
            double        top_p,
            GRand        *rand,
            gpointer      scratch,
            gint32       *token,
            GError      **error)
{
  g_autofree float *logits = NULL;

  if (self->argmax)
    return ane_llama_ane_argmax_column (out, self->vocab_size, n_step, column, token, error);
  logits = g_new (float, self->vocab_size);
  if (!ane_llama_ane_logits_column (out, self->vocab_size, n_step, column, logits, error))
    return FALSE;
  *token = ane_llama_pick_token (logits, self->vocab_size, temperature, top_p, rand, scratch);
  return TRUE;
}

/* Runs the prompt through every chunk's `prefill`, prefill_step tokens per
 * call (the last call padded), hands each chunk's caches to its decode
 * step, and gives the last call's outputs, *column the prompt's last
 * token's. */
static GPtrArray *
run_prefill (AneLlamaDir            *self,
             const AneLlamaAneHost  *host,
             const gint32           *ids,
             gsize                   n_prompt,
             AneBackend              backend,
             GPtrArray              *decode,
             gint64                 *column,
             GError                **error)
{
  g_autoptr(GPtrArray) exes = function_executables (self, "prefill", backend, error);
  g_autoptr(GPtrArray) last = NULL;
  gint64 step = self->prefill_step;

  if (exes == NULL)
    return NULL;
  for (gint64 next = 0; next < (gint64) n_prompt; next += step)
    {
      /* slice_update writes the whole padded block: the last one starts at
       * context - step at the latest, and the rows it repeats (tokens
       * already fed, same positions, the caches before them unchanged) get
       * the same values again */
      gint64 start = MIN (next, self->context - step);
      gint64 n_real = MIN (step, (gint64) n_prompt - start);
      g_autoptr(GPtrArray) inputs = ane_llama_ane_step_inputs (host, ids + start, n_real, start, step,
                                                               self->context, error);

      if (inputs == NULL)
        return NULL;
      g_clear_pointer (&last, g_ptr_array_unref);
      last = run_chunks (self, exes, NULL, inputs, error);
      if (last == NULL)
        return NULL;
      *column = n_real - 1;
    }
  for (guint c = 0; c < self->chunks->len; c++)
    {
      DirChunk *chunk = g_ptr_array_index (self->chunks, c);

      if (!ane_llama_hand_over_states (g_ptr_array_index (exes, c), g_ptr_array_index (decode, c), chunk->states,
                                       error))
        return NULL;
    }
  return g_steal_pointer (&last);
}

/**
 * ane_llama_dir_generate:
 * @self: a converted model
 * @prompt: the text to continue
 * @n_tokens: the largest number of tokens to generate after the prompt
 * @backend: %ANE_BACKEND_CPU (the package's program interpreted),
 *   %ANE_BACKEND_COREML or %ANE_BACKEND_AUTO
 * @temperature: 0 for greedy decoding, else the softmax temperature
 * @top_p: nucleus sampling mass in (0, 1); other values sample from all tokens
 * @seed: the random seed for sampling
 * @callback: (scope call) (nullable): called with each generated token
 * @user_data: (closure callback): data for @callback
 * @error: return location for a #GError
 *
 * Generates a continuation of @prompt from the directory alone, as
 * [method@Ane.LlamaModel.generate] does with the Neural Engine layout: the
 * prompt (with a beginning-of-sequence token) goes through the `prefill`
 * function in calls of the manifest's `prefill_step` tokens, its key/value
 * states are handed to `decode`, which then takes one token per call. A
 * model in several chunks runs them in order for every call, each taking
 * the previous one's hidden state and keeping its own states. The
 * steps' inputs (embedding rows from `embedding.bin`, rotary tables, mask,
 * rows written) are computed here from the manifest. Generation stops after
 * @n_tokens tokens, at the context length, at a beginning- or
 * end-of-sequence token, or when @callback returns %FALSE.
 *
 * A prompt longer than the context fails with %ANE_ERROR_INVALID_ARGUMENT;
 * a directory without a tokenizer with %ANE_ERROR_NOT_FOUND; a
 * @temperature above 0 on a directory converted with an arg-max head
 * ([method@Ane.LlamaDir.get_argmax]), whose steps give no logits to sample
 * from, with %ANE_ERROR_UNSUPPORTED.
 *
 * Returns: (transfer full): the generated text, without the prompt
 *
 * Since: 0.2
 */
char *
ane_llama_dir_generate (AneLlamaDir            *self,
                        const char             *prompt,
                        guint                   n_tokens,
                        AneBackend              backend,
                        double                  temperature,
                        double                  top_p,
                        guint64                 seed,
                        AneLlamaTokenCallback   callback,
                        gpointer                user_data,
                        GError                **error)
{
  g_autofree gint32 *ids = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autofree gpointer scratch = NULL;
  g_autoptr(GPtrArray) decode = NULL;
  g_autoptr(GPtrArray) bound = NULL;
  g_autoptr(GRand) rand = NULL;
  g_autoptr(GString) text = NULL;
  guint32 seed_words[2] = { (guint32) seed, (guint32) (seed >> 32) };
  AneLlamaAneHost host;
  gsize n_prompt = 0;
  gint64 first = 0, column = 0;
  guint generated = 0;
  gint32 token;

  g_return_val_if_fail (ANE_IS_LLAMA_DIR (self), NULL);
  g_return_val_if_fail (prompt != NULL, NULL);
  g_return_val_if_fail (temperature >= 0.0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->tokenizer == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "%s: the directory has no tokenizer", self->path);
      return NULL;
    }
  if (self->argmax && temperature > 0.0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: converted with an arg-max head (--argmax), its steps give the most likely token, not the "
                   "logits: it decodes greedily only (temperature 0, not %g)", self->path, temperature);
      return NULL;
    }
  host = (AneLlamaAneHost) {
    .table = (const guint8 *) g_mapped_file_get_contents (self->embedding),
    .dtype = ANE_DTYPE_FLOAT16,
    .dim = self->dim,
    .n_heads = self->n_heads,
    .n_kv_heads = self->n_kv_heads,
    .vocab_size = self->vocab_size,
    .rope_base = self->rope_base,
    .what = self->path,
    .head = self->head,
    .embed_scale = self->embed_scale,
    .rope_inv_freq = self->rope_inv_freq,
  };
  ids = ane_tokenizer_encode (self->tokenizer, prompt, TRUE, FALSE, &n_prompt);
  if ((gint64) n_prompt > self->context)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: the prompt is %" G_GSIZE_FORMAT " tokens, the context %" G_GINT64_FORMAT,
                   self->path, n_prompt, self->context);
      return NULL;
    }
  decode = function_executables (self, "decode", backend, error);
  if (decode != NULL)
    bound = bound_steps (self, decode, "decode", error);
  if (bound == NULL)
    return NULL;
  if (n_prompt >= 2)
    {
      pending = run_prefill (self, &host, ids, n_prompt, backend, decode, &column, error);
      if (pending == NULL)
        return NULL;
      first = (gint64) n_prompt - 1;
    }

  rand = g_rand_new_with_seed_array (seed_words, 2);
  scratch = ane_llama_sampler_scratch_new (self->vocab_size);
  text = g_string_new (NULL);
  token = ids[first];
  for (gint64 pos = first; pos < self->context && generated < n_tokens; pos++)
    {
      g_autoptr(GPtrArray) out = NULL;
      g_autofree char *piece = NULL;
      gint64 n_step = self->prefill_step;
      gint32 next;

      if (pending != NULL)
        out = g_steal_pointer (&pending);
      else
        {
          g_autoptr(GPtrArray) inputs = ane_llama_ane_step_inputs (&host, &token, 1, pos, 1, self->context, error);

          if (inputs == NULL)
            return NULL;
          out = run_chunks (self, decode, bound, inputs, error);
          if (out == NULL)
            return NULL;
          n_step = 1;
          column = 0;
        }
      if (!next_token (self, out, n_step, column, temperature, top_p, rand, scratch, &next, error))
        return NULL;
      if (next == ane_tokenizer_get_bos_id (self->tokenizer) || next == ane_tokenizer_get_eos_id (self->tokenizer))
        break;
      piece = ane_tokenizer_decode_token (self->tokenizer, token, next);
      g_string_append (text, piece);
      generated++;
      token = next;
      if (callback != NULL && !callback (next, piece, user_data))
        break;
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}
