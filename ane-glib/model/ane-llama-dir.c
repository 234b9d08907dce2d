/* model/ane-llama-dir.c: a LLaMA-family model converted to a directory, and
 * generation from that directory alone
 *
 * The directory is what a host application ships: the Neural Engine-shaped
 * prefill and decode steps (ane-llama-ane.c) as one two-function package
 * sharing its weights and its key/value states, the token embedding the host
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
 * states), `embedding.bin` (the token embedding, float16
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
  AnePackage *package;
  AneTokenizer *tokenizer;   /* NULL when the directory has none */
  GMappedFile *embedding;
};

G_DEFINE_FINAL_TYPE (AneLlamaDir, ane_llama_dir, G_TYPE_OBJECT)

static void
ane_llama_dir_finalize (GObject *object)
{
  AneLlamaDir *self = ANE_LLAMA_DIR (object);

  g_free (self->path);
  g_clear_object (&self->package);
  g_clear_object (&self->tokenizer);
  g_clear_pointer (&self->embedding, g_mapped_file_unref);
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
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */

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

static char *
manifest_text (AneLlamaModel  *m,
               AnePackage     *package,
               const char     *tokenizer_file,
               const char     *tokenizer_kind,
               gint64          context,
               gint64          prefill_step,
               AneTarget       target,
               GError        **error)
{
  static const char *const functions[2] = { "prefill", "decode" };
  g_autoptr(JsonBuilder) jb = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GPtrArray) states = NULL;
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
  add_int (jb, "head", m->dim / m->n_heads);
  add_int (jb, "vocab_size", m->vocab_size);
  json_builder_set_member_name (jb, "rope_base");
  json_builder_add_double_value (jb, m->rope_base);
  json_builder_set_member_name (jb, "rms_eps");
  json_builder_add_double_value (jb, m->rms_eps);
  json_builder_end_object (jb);
  add_int (jb, "context", context);
  add_int (jb, "prefill_step", prefill_step);
  add_string (jb, "target", ane_target_to_string (target));
  add_string (jb, "precision", "float16");
  /* one chunk today; a model split across packages lists them in the
   * order a token goes through them */
  json_builder_set_member_name (jb, "chunks");
  json_builder_begin_array (jb);
  json_builder_begin_object (jb);
  add_string (jb, "file", PACKAGE_FILE);
  json_builder_set_member_name (jb, "layers");
  json_builder_begin_array (jb);
  json_builder_add_int_value (jb, 0);
  json_builder_add_int_value (jb, m->n_layers);
  json_builder_end_array (jb);
  json_builder_end_object (jb);
  json_builder_end_array (jb);
  json_builder_set_member_name (jb, "functions");
  json_builder_begin_array (jb);
  for (guint f = 0; f < G_N_ELEMENTS (functions); f++)
    {
      g_autoptr(GPtrArray) inputs = ane_package_list_inputs (package, functions[f], error);
      g_autoptr(GPtrArray) outputs = inputs ? ane_package_list_outputs (package, functions[f], error) : NULL;

      if (outputs == NULL)
        return NULL;
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
    return NULL;
  add_tensor_list (jb, "states", states);
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
 * Converts the model for a host application: writes @dir holding
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
  static const char *const names[2] = { "prefill", "decode" };
  g_autoptr(AneTokenizer) own_tokenizer = NULL;
  g_autoptr(AneGraph) prefill = NULL;
  g_autoptr(AneGraph) decode = NULL;
  g_autoptr(AnePackage) package = NULL;
  g_autoptr(GBytes) embedding = NULL;
  g_autoptr(GBytes) tok_bytes = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *package_path = NULL;
  g_autofree char *manifest = NULL;
  g_autofree char *manifest_path = NULL;
  g_autofree char *parent = NULL;
  const char *tok_file = NULL, *tok_kind = NULL;
  AneGraph *graphs[2];
  gboolean gguf = FALSE;

  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), FALSE);
  g_return_val_if_fail (tokenizer == NULL || ANE_IS_TOKENIZER (tokenizer), FALSE);
  g_return_val_if_fail (dir != NULL, FALSE);
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
  if (prefill_step < 2 || prefill_step > context)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: prefill step %" G_GINT64_FORMAT " is outside [2, %" G_GINT64_FORMAT "] (the context)",
                   self->path, prefill_step, context);
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
  if (tokenizer != NULL && (gint64) ane_tokenizer_get_n_tokens (tokenizer) != self->vocab_size)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: the tokenizer has %u tokens, the model %" G_GINT64_FORMAT, self->path,
                   ane_tokenizer_get_n_tokens (tokenizer), self->vocab_size);
      return FALSE;
    }
  if (tokenizer != NULL)
    {
      tok_bytes = ane_tokenizer_serialize (tokenizer, &gguf);
      tok_file = gguf ? "tokenizer.gguf" : "tokenizer.bin";
      tok_kind = gguf ? "gguf" : "llama2c";
    }

  /* build everything before touching the file system */
  prefill = ane_llama_model_build_ane_prefill (self, prefill_step, context, error);
  if (prefill == NULL)
    return FALSE;
  decode = ane_llama_model_build_ane_decode (self, context, error);
  if (decode == NULL)
    return FALSE;
  graphs[0] = prefill;
  graphs[1] = decode;
  package = ane_package_new_from_graphs (names, graphs, 2, target, ANE_PRECISION_FLOAT16, error);
  if (package == NULL)
    return FALSE;
  embedding = embedding_f16 (self, error);
  if (embedding == NULL)
    return FALSE;
  manifest = manifest_text (self, package, tok_file, tok_kind, context, prefill_step, target, error);
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
  package_path = g_build_filename (tmp, PACKAGE_FILE, NULL);
  manifest_path = g_build_filename (tmp, MANIFEST_FILE, NULL);
  if (!ane_package_save (package, package_path, FALSE, error) ||
      !write_in (tmp, EMBEDDING_FILE, embedding, error) ||
      (tok_bytes != NULL && !write_in (tmp, tok_file, tok_bytes, error)) ||
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
                   const char  *function,
                   gint64       n,
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
  guint n_want = G_N_ELEMENTS (want);

  if (inputs->len != n_want)
    {
      g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE, "%s: function '%s' of the package takes %u inputs, not %u",
                   r->path, function, inputs->len, n_want);
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
                       "%s: input %u ('%s') of the package's function '%s' is not what the fields 'model', "
                       "'context' and 'prefill_step' make the host compute ('%s' %s %s)",
                       r->path, i, ane_tensor_get_name (t), function, want[i].name,
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

static gboolean
read_functions (Reader      *r,
                AneLlamaDir *self,
                JsonObject  *root)
{
  static const char *const names[2] = { "prefill", "decode" };
  JsonArray *functions = get_array (r, root, "functions", "functions");
  JsonArray *states;
  g_autoptr(GPtrArray) pkg_states = NULL;

  if (functions == NULL)
    return FALSE;
  if (json_array_get_length (functions) != 2)
    return bad_field (r, "functions", "does not list the two functions prefill and decode");
  for (guint f = 0; f < 2; f++)
    {
      JsonNode *node = json_array_get_element (functions, f);
      g_autofree char *field = g_strdup_printf ("functions[%u]", f);
      g_autofree char *fname = g_strdup_printf ("%s.name", field);
      g_autofree char *ftokens = g_strdup_printf ("%s.tokens", field);
      g_autofree char *finputs = g_strdup_printf ("%s.inputs", field);
      g_autofree char *foutputs = g_strdup_printf ("%s.outputs", field);
      g_autoptr(GPtrArray) inputs = NULL;
      g_autoptr(GPtrArray) outputs = NULL;
      g_autoptr(GError) local = NULL;
      JsonObject *obj;
      JsonArray *list;
      const char *name;
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
      inputs = ane_package_list_inputs (self->package, name, &local);
      outputs = inputs != NULL ? ane_package_list_outputs (self->package, name, &local) : NULL;
      if (outputs == NULL)
        {
          g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE, "%s: function '%s': %s", r->path, name,
                       local->message);
          return FALSE;
        }
      if ((list = get_array (r, obj, finputs, "inputs")) == NULL || !check_tensors (r, list, finputs, inputs) ||
          (list = get_array (r, obj, foutputs, "outputs")) == NULL || !check_tensors (r, list, foutputs, outputs) ||
          !check_step_inputs (r, self, name, tokens, inputs))
        return FALSE;
      if (!logits_outputs (outputs, self->vocab_size, tokens))
        {
          g_set_error (r->error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: function '%s' does not give the logits of %" G_GINT64_FORMAT " token(s)", r->path, name,
                       tokens);
          return FALSE;
        }
    }
  if ((states = get_array (r, root, "states", "states")) == NULL)
    return FALSE;
  pkg_states = ane_package_list_states (self->package, "decode", r->error);
  if (pkg_states == NULL || !check_tensors (r, states, "states", pkg_states))
    return FALSE;
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
  g_autofree char *package_path = NULL;
  g_autofree char *embedding_path = NULL;
  g_autofree char *tok_path = NULL;
  JsonNode *root_node, *tok_node;
  JsonObject *root, *model, *chunk, *emb;
  JsonArray *chunks, *shape;
  const char *s;
  gint64 version, v, layers[2];
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
  if (self->head * self->n_heads != self->dim || self->head % 2 != 0)
    return bad_field (r, "model.head", "is not dim / n_heads, or is odd");
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

  if ((chunks = get_array (r, root, "chunks", "chunks")) == NULL)
    return FALSE;
  if (json_array_get_length (chunks) != 1)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: field 'chunks' lists %u packages; this library runs one", manifest_path,
                   json_array_get_length (chunks));
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_array_get_element (chunks, 0)))
    return bad_field (r, "chunks[0]", "is not an object");
  chunk = json_array_get_object_element (chunks, 0);
  package_path = get_file (r, self->path, chunk, "chunks[0].file", "file", G_FILE_TEST_IS_DIR);
  if (package_path == NULL)
    return FALSE;
  if ((shape = get_array (r, chunk, "chunks[0].layers", "layers")) == NULL)
    return FALSE;
  if (json_array_get_length (shape) != 2 ||
      !node_int (r, json_array_get_element (shape, 0), "chunks[0].layers[0]", 0, 0, &layers[0]) ||
      !node_int (r, json_array_get_element (shape, 1), "chunks[0].layers[1]", self->n_layers, self->n_layers,
                 &layers[1]))
    return json_array_get_length (shape) != 2 ? bad_field (r, "chunks[0].layers", "is not [first, end]") : FALSE;

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
      if (!g_str_equal (kind, "llama2c") && !g_str_equal (kind, "gguf"))
        return bad_field (r, "tokenizer.kind", "is neither 'llama2c' nor 'gguf'");
      tok_path = get_file (r, self->path, tok, "tokenizer.file", "file", G_FILE_TEST_IS_REGULAR);
      if (tok_path == NULL)
        return FALSE;
      if (g_str_equal (kind, "llama2c"))
        self->tokenizer = ane_tokenizer_load_llama2c (tok_path, (guint) self->vocab_size, error);
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
      if ((gint64) ane_tokenizer_get_n_tokens (self->tokenizer) != self->vocab_size)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: field 'tokenizer.file': %s has %u tokens, model.vocab_size is %" G_GINT64_FORMAT,
                       manifest_path, tok_path, ane_tokenizer_get_n_tokens (self->tokenizer), self->vocab_size);
          return FALSE;
        }
    }

  self->package = ane_package_load (package_path, error);
  if (self->package == NULL)
    {
      g_prefix_error (error, "%s: field 'chunks[0].file': ", manifest_path);
      return FALSE;
    }
  return read_functions (r, self, root);
}

/**
 * ane_llama_dir_load:
 * @dir: a directory written by [method@Ane.LlamaModel.save_dir]
 * @error: return location for a #GError
 *
 * Reads `manifest.json` of @dir and checks it: every field's type and
 * range, the files it names (plain names inside @dir, present, of the sizes
 * the shapes give), the tokenizer (loaded), the package (loaded; its
 * functions' inputs, outputs and states those the manifest lists, and the
 * inputs those the host computes for the model the manifest describes).
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
 * The package with the `prefill` and `decode` functions.
 *
 * Returns: (transfer none): `model.mlpackage`, loaded
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

static AneExecutable *
function_executable (AneLlamaDir  *self,
                     const char   *name,
                     AneBackend    backend,
                     GError      **error)
{
  g_autoptr(AneExecutable) exe = ane_executable_new_from_package_full (self->package, name, backend, error);

  if (exe == NULL || !ane_executable_compile (exe, NULL, error))
    return NULL;
  return g_steal_pointer (&exe);
}

/* Runs the prompt through `prefill`, prefill_step tokens per call (the last
 * call padded), hands the caches to decode, and returns the logits of the
 * prompt's last token. */
static float *
run_prefill (AneLlamaDir            *self,
             const AneLlamaAneHost  *host,
             const gint32           *ids,
             gsize                   n_prompt,
             AneBackend              backend,
             AneExecutable          *decode,
             GError                **error)
{
  g_autoptr(AneExecutable) exe = function_executable (self, "prefill", backend, error);
  g_autoptr(GPtrArray) states = NULL;
  g_autofree float *last = NULL;
  gint64 step = self->prefill_step;

  if (exe == NULL)
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
      g_autoptr(GPtrArray) out = NULL;

      if (inputs == NULL)
        return NULL;
      out = ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, error);
      if (out == NULL)
        return NULL;
      if (next + step >= (gint64) n_prompt)
        {
          /* logits [1, vocab, 1, step] (or its parts): the prompt's last token */
          last = g_new (float, self->vocab_size);
          if (!ane_llama_ane_logits_column (out, self->vocab_size, step, n_real - 1, last, error))
            return NULL;
        }
    }
  states = ane_package_list_states (self->package, "prefill", error);
  if (states == NULL || !ane_llama_hand_over_states (exe, decode, states, error))
    return NULL;
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
 * states are handed to `decode`, which then takes one token per call. The
 * steps' inputs (embedding rows from `embedding.bin`, rotary tables, mask,
 * rows written) are computed here from the manifest. Generation stops after
 * @n_tokens tokens, at the context length, at a beginning- or
 * end-of-sequence token, or when @callback returns %FALSE.
 *
 * A prompt longer than the context fails with %ANE_ERROR_INVALID_ARGUMENT;
 * a directory without a tokenizer with %ANE_ERROR_NOT_FOUND.
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
  g_autofree float *pending = NULL;
  g_autofree gpointer scratch = NULL;
  g_autoptr(AneExecutable) decode = NULL;
  g_autoptr(GRand) rand = NULL;
  g_autoptr(GString) text = NULL;
  guint32 seed_words[2] = { (guint32) seed, (guint32) (seed >> 32) };
  AneLlamaAneHost host;
  gsize n_prompt = 0;
  gint64 first = 0;
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
  host = (AneLlamaAneHost) {
    .table = (const guint8 *) g_mapped_file_get_contents (self->embedding),
    .dtype = ANE_DTYPE_FLOAT16,
    .dim = self->dim,
    .n_heads = self->n_heads,
    .n_kv_heads = self->n_kv_heads,
    .vocab_size = self->vocab_size,
    .rope_base = self->rope_base,
    .what = self->path,
  };
  ids = ane_tokenizer_encode (self->tokenizer, prompt, TRUE, FALSE, &n_prompt);
  if ((gint64) n_prompt > self->context)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: the prompt is %" G_GSIZE_FORMAT " tokens, the context %" G_GINT64_FORMAT,
                   self->path, n_prompt, self->context);
      return NULL;
    }
  decode = function_executable (self, "decode", backend, error);
  if (decode == NULL)
    return NULL;
  if (n_prompt >= 2)
    {
      pending = run_prefill (self, &host, ids, n_prompt, backend, decode, error);
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
      g_autofree float *logits = NULL;
      g_autofree char *piece = NULL;
      gint32 next;

      if (pending != NULL)
        logits = g_steal_pointer (&pending);
      else
        {
          g_autoptr(GPtrArray) inputs = ane_llama_ane_step_inputs (&host, &token, 1, pos, 1, self->context, error);
          g_autoptr(GPtrArray) out = NULL;

          if (inputs == NULL)
            return NULL;
          out = ane_executable_run (decode, (AneTensor **) inputs->pdata, inputs->len, NULL, error);
          if (out == NULL)
            return NULL;
          logits = g_new (float, self->vocab_size);
          if (!ane_llama_ane_logits_column (out, self->vocab_size, 1, 0, logits, error))
            return NULL;
        }
      next = ane_llama_pick_token (logits, self->vocab_size, temperature, top_p, rand, scratch);
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
