/* ane-tokenizer-hf.c: Hugging Face tokenizer.json files (reading, the encode and decode pipelines)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "ane-file-private.h"
#include "ane-json-private.h"
#include "ane-tokenizer.h"
#include "model/ane-tokenizer-hf-private.h"

/* A decompressed tokenizer.json.gz larger than this is refused (the
 * largest real tokenizer.json files are a few tens of megabytes). */
#define MAX_JSON_BYTES (512u << 20)

typedef struct
{
  char *content;
  gsize len;
  char *normalized_content;  /* content through the normalizer, for normalized tokens */
  gint32 id;
  gboolean special, normalized, lstrip, rstrip, single_word;
} AddedToken;

struct _AneHfTokenizer
{
  AneHfBpe *bpe;
  AneHfNormalizer *normalizer;
  AneHfPreTokenizer *pre_tokenizer;
  AneHfDecoder *decoder;
  GPtrArray *added;            /* AddedToken, in file order */
  GPtrArray *raw_first[256];   /* non-normalized added tokens by first byte, longest first */
  GPtrArray *norm_first[256];  /* normalized ones, matched on normalized text */
  const AddedToken **added_by_id; /* n_pieces entries */
  const char **pieces;         /* id → piece (the model's or an added token's) */
  gint32 n_pieces;
  GArray *prefix_ids;          /* the post-processor's, with add_special_tokens */
  GArray *suffix_ids;
  char *source;                /* the file read, for ane_hf_tokenizer_serialize */
};

static void
added_token_free (gpointer data)
{
  AddedToken *t = data;

  g_free (t->content);
  g_free (t->normalized_content);
  g_free (t);
}

void
ane_hf_tokenizer_free (AneHfTokenizer *hf)
{
  if (hf == NULL)
    return;
  ane_hf_bpe_free (hf->bpe);
  ane_hf_normalizer_free (hf->normalizer);
  ane_hf_pre_tokenizer_free (hf->pre_tokenizer);
  ane_hf_decoder_free (hf->decoder);
  for (guint b = 0; b < 256; b++)
    {
      g_clear_pointer (&hf->raw_first[b], g_ptr_array_unref);
      g_clear_pointer (&hf->norm_first[b], g_ptr_array_unref);
    }
  g_clear_pointer (&hf->added, g_ptr_array_unref);
  g_free (hf->added_by_id);
  g_free (hf->pieces);
  g_clear_pointer (&hf->prefix_ids, g_array_unref);
  g_clear_pointer (&hf->suffix_ids, g_array_unref);
  g_free (hf->source);
  g_free (hf);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneHfTokenizer, ane_hf_tokenizer_free)

/* --- JSON helpers --- */

static gboolean
json_member (JsonObject  *obj,
             const char  *name,
             JsonNode   **node)
{
  *node = json_object_get_member (obj, name);
  return *node != NULL && !JSON_NODE_HOLDS_NULL (*node);
}

gboolean
ane_hf_json_string (JsonObject  *obj,
                    const char  *what,
                    const char  *name,
                    const char  *def,
                    const char **out,
                    GError     **error)
{
  JsonNode *node;

  *out = def;
  if (!json_member (obj, name, &node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.%s is not a string", what, name);
      return FALSE;
    }
  *out = json_node_get_string (node);
  return TRUE;
}

gboolean
ane_hf_json_bool (JsonObject  *obj,
                  const char  *what,
                  const char  *name,
                  gboolean     def,
                  gboolean    *out,
                  GError     **error)
{
  JsonNode *node;

  *out = def;
  if (!json_member (obj, name, &node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.%s is not a boolean", what, name);
      return FALSE;
    }
  *out = json_node_get_boolean (node);
  return TRUE;
}

gboolean
ane_hf_json_int (JsonObject  *obj,
                 const char  *what,
                 const char  *name,
                 gint64       def,
                 gint64      *out,
                 GError     **error)
{
  JsonNode *node;

  *out = def;
  if (!json_member (obj, name, &node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.%s is not an integer", what, name);
      return FALSE;
    }
  *out = json_node_get_int (node);
  return TRUE;
}

const char *
ane_hf_json_type (JsonNode    *node,
                  const char  *what,
                  JsonObject **obj,
                  GError     **error)
{
  const char *type;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s is neither an object nor null", what);
      return NULL;
    }
  *obj = json_node_get_object (node);
  if (!ane_hf_json_string (*obj, what, "type", NULL, &type, error))
    return NULL;
  if (type == NULL)
    g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.type is missing", what);
  return type;
}

GPtrArray *
ane_hf_json_sequence (JsonObject     *obj,
                      const char     *what,
                      const char     *name,
                      AneHfParseFunc  parse,
                      GDestroyNotify  free_func,
                      GError        **error)
{
  JsonNode *list = json_object_get_member (obj, name);
  g_autoptr(GPtrArray) children = NULL;
  JsonArray *arr;

  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.%s is missing or not an array", what, name);
      return NULL;
    }
  arr = json_node_get_array (list);
  children = g_ptr_array_new_with_free_func (free_func);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      g_autofree char *field = g_strdup_printf ("%s.%s[%u]", what, name, i);
      gpointer child;

      if (!parse (json_array_get_element (arr, i), field, &child, error))
        return NULL;
      if (child != NULL)
        g_ptr_array_add (children, child);
    }
  return g_steal_pointer (&children);
}

/* --- reading --- */

/* The file's bytes, gunzipped when its name ends in ".gz". */
static GBytes *
read_json_bytes (const char  *path,
                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GMappedFile) file = ane_file_map_regular (path, &local_error);
  g_autoptr(GConverter) gunzip = NULL;
  g_autoptr(GByteArray) out = NULL;
  const guint8 *in;
  gsize in_len, in_done = 0;

  if (file == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s", local_error->message);
      return NULL;
    }
  if (!g_str_has_suffix (path, ".gz"))
    return g_mapped_file_get_bytes (file);

  in = (const guint8 *) g_mapped_file_get_contents (file);
  in_len = g_mapped_file_get_length (file);
  gunzip = G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP));
  out = g_byte_array_new ();
  for (;;)
    {
      guint8 buf[65536];
      gsize read = 0, written = 0;
      GConverterResult r;

      r = g_converter_convert (gunzip, in + in_done, in_len - in_done, buf, sizeof buf,
                               G_CONVERTER_INPUT_AT_END, &read, &written, &local_error);
      if (r == G_CONVERTER_ERROR)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: not a valid gzip file: %s", path,
                       local_error->message);
          return NULL;
        }
      in_done += read;
      g_byte_array_append (out, buf, (guint) written);
      if (out->len > MAX_JSON_BYTES)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE, "%s: decompresses to more than %u bytes", path,
                       MAX_JSON_BYTES);
          return NULL;
        }
      if (r == G_CONVERTER_FINISHED)
        break;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* @fast (optional): when given, model.vocab and model.merges are read
 * into it by the fast reader, and json-glib parses the rest. */
static JsonParser *
parse_json (const char    *path,
            GBytes        *bytes,
            AneHfBpeData  *fast,
            gboolean      *fast_used,
            GError       **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GString) rest = NULL;
  gsize len;
  const char *text = g_bytes_get_data (bytes, &len);

  if (len == 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: the file is empty", path);
      return NULL;
    }
  if (!ane_json_check_depth (text, len, 0, ANE_JSON_MAX_DEPTH, path, error))
    return NULL;
  if (fast != NULL && ane_hf_json_split_model (text, len, fast, &rest))
    {
      text = rest->str;
      len = rest->len;
      *fast_used = TRUE;
    }
  if (!json_parser_load_from_data (parser, text, (gssize) len, &local_error))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: %s", path, local_error->message);
      return NULL;
    }
  /* a document of whitespace parses to no root at all */
  if (json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: the top level is not an object", path);
      return NULL;
    }
  return g_steal_pointer (&parser);
}

static gint
longest_first (gconstpointer a,
               gconstpointer b)
{
  const AddedToken *x = *(const AddedToken *const *) a, *y = *(const AddedToken *const *) b;
  gsize lx = x->normalized ? strlen (x->normalized_content) : x->len;
  gsize ly = y->normalized ? strlen (y->normalized_content) : y->len;

  return lx < ly ? 1 : lx > ly ? -1 : 0;
}

static gboolean
parse_added_tokens (AneHfTokenizer *hf,
                    JsonObject     *root,
                    GError        **error)
{
  JsonNode *node;
  JsonArray *arr;

  hf->added = g_ptr_array_new_with_free_func (added_token_free);
  if (!json_member (root, "added_tokens", &node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "added_tokens is not an array");
      return FALSE;
    }
  arr = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonNode *el = json_array_get_element (arr, i);
      g_autofree char *what = g_strdup_printf ("added_tokens[%u]", i);
      AddedToken *t;
      JsonObject *obj;
      const char *content;
      gint64 id;

      if (!JSON_NODE_HOLDS_OBJECT (el))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s is not an object", what);
          return FALSE;
        }
      obj = json_node_get_object (el);
      t = g_new0 (AddedToken, 1);
      g_ptr_array_add (hf->added, t);
      if (!ane_hf_json_string (obj, what, "content", NULL, &content, error) ||
          !ane_hf_json_int (obj, what, "id", -1, &id, error) ||
          !ane_hf_json_bool (obj, what, "special", FALSE, &t->special, error) ||
          !ane_hf_json_bool (obj, what, "normalized", !t->special, &t->normalized, error) ||
          !ane_hf_json_bool (obj, what, "lstrip", FALSE, &t->lstrip, error) ||
          !ane_hf_json_bool (obj, what, "rstrip", FALSE, &t->rstrip, error) ||
          !ane_hf_json_bool (obj, what, "single_word", FALSE, &t->single_word, error))
        return FALSE;
      if (content == NULL || content[0] == '\0' || id < 0 || id >= (1 << 24))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: content is missing or empty, or id is missing or not between 0 and 2^24", what);
          return FALSE;
        }
      if (!g_utf8_validate (content, -1, NULL))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.content is not valid UTF-8", what);
          return FALSE;
        }
      t->content = g_strdup (content);
      t->len = strlen (content);
      t->id = (gint32) id;
      {
        /* a normalized token is looked for in normalized text, so in its
         * normalized spelling (tokenizer/added_vocabulary.rs
         * refresh_added_tokens) */
        GString *norm = g_string_new (content);

        ane_hf_normalizer_apply (hf->normalizer, norm);
        t->normalized_content = g_string_free (norm, FALSE);
      }
    }
  for (guint i = 0; i < hf->added->len; i++)
    {
      AddedToken *t = hf->added->pdata[i];
      const char *key = t->normalized ? t->normalized_content : t->content;
      GPtrArray **table = t->normalized ? hf->norm_first : hf->raw_first;
      guint8 b = (guint8) key[0];

      if (key[0] == '\0')
        continue;
      if (table[b] == NULL)
        table[b] = g_ptr_array_new ();
      g_ptr_array_add (table[b], t);
    }
  for (guint b = 0; b < 256; b++)
    {
      if (hf->raw_first[b] != NULL)
        g_ptr_array_sort (hf->raw_first[b], longest_first);
      if (hf->norm_first[b] != NULL)
        g_ptr_array_sort (hf->norm_first[b], longest_first);
    }
  return TRUE;
}

static gint32
token_id (AneHfTokenizer *hf,
          const char     *token)
{
  for (guint i = 0; i < hf->added->len; i++)
    if (g_str_equal (((AddedToken *) hf->added->pdata[i])->content, token))
      return ((AddedToken *) hf->added->pdata[i])->id;
  return ane_hf_bpe_piece_to_id (hf->bpe, token);
}

static gboolean
check_id (AneHfTokenizer *hf,
          gint64          id,
          const char     *what,
          GError        **error)
{
  if (id < 0 || id >= hf->n_pieces)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: id %" G_GINT64_FORMAT " is not in the vocabulary (%d ids)",
                   what, id, hf->n_pieces);
      return FALSE;
    }
  return TRUE;
}

/* RobertaProcessing / BertProcessing: "cls": ["<s>", 0], "sep": ["</s>", 2] */
static gboolean
pair_token (AneHfTokenizer *hf,
            JsonObject     *obj,
            const char     *what,
            const char     *name,
            GArray         *ids,
            GError        **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  JsonArray *arr;
  JsonNode *id_node;
  g_autofree char *field = g_strdup_printf ("%s.%s", what, name);
  gint32 id;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node) || json_array_get_length (arr = json_node_get_array (node)) != 2 ||
      !JSON_NODE_HOLDS_VALUE (id_node = json_array_get_element (arr, 1)) ||
      json_node_get_value_type (id_node) != G_TYPE_INT64)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s is not an array [token, id]", field);
      return FALSE;
    }
  if (!check_id (hf, json_node_get_int (id_node), field, error))
    return FALSE;
  id = (gint32) json_node_get_int (id_node);
  g_array_append_val (ids, id);
  return TRUE;
}

/* TemplateProcessing's "single" template: the special tokens before and
 * after the sequence $A (processors/template.rs). */
static gboolean
parse_template (AneHfTokenizer *hf,
                JsonObject     *obj,
                const char     *what,
                GError        **error)
{
  JsonNode *single = json_object_get_member (obj, "single");
  JsonNode *specials_node = json_object_get_member (obj, "special_tokens");
  JsonObject *specials = NULL;
  JsonArray *arr;
  gboolean seen_sequence = FALSE;

  if (single == NULL || !JSON_NODE_HOLDS_ARRAY (single))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.single is missing or not an array", what);
      return FALSE;
    }
  if (specials_node != NULL && JSON_NODE_HOLDS_OBJECT (specials_node))
    specials = json_node_get_object (specials_node);
  arr = json_node_get_array (single);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonNode *el = json_array_get_element (arr, i);
      g_autofree char *field = g_strdup_printf ("%s.single[%u]", what, i);
      JsonObject *item, *inner;
      JsonNode *special, *spec_node, *ids_node;
      const char *name;
      JsonArray *ids;

      if (!JSON_NODE_HOLDS_OBJECT (el))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s is not an object", field);
          return FALSE;
        }
      item = json_node_get_object (el);
      if (json_object_has_member (item, "Sequence"))
        {
          if (seen_sequence)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: a second sequence in a single template", field);
              return FALSE;
            }
          seen_sequence = TRUE;
          continue;
        }
      special = json_object_get_member (item, "SpecialToken");
      if (special == NULL || !JSON_NODE_HOLDS_OBJECT (special))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s is neither {\"Sequence\": ...} nor {\"SpecialToken\": ...}",
                       field);
          return FALSE;
        }
      inner = json_node_get_object (special);
      if (!ane_hf_json_string (inner, field, "id", NULL, &name, error))
        return FALSE;
      if (name == NULL || specials == NULL || (spec_node = json_object_get_member (specials, name)) == NULL ||
          !JSON_NODE_HOLDS_OBJECT (spec_node) ||
          (ids_node = json_object_get_member (json_node_get_object (spec_node), "ids")) == NULL ||
          !JSON_NODE_HOLDS_ARRAY (ids_node))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: special token '%s' has no ids in %s.special_tokens",
                       field, name != NULL ? name : "(none)", what);
          return FALSE;
        }
      ids = json_node_get_array (ids_node);
      for (guint j = 0; j < json_array_get_length (ids); j++)
        {
          JsonNode *id_node = json_array_get_element (ids, j);
          g_autofree char *id_field = g_strdup_printf ("%s.special_tokens['%s'].ids[%u]", what, name, j);
          gint32 id;

          if (!JSON_NODE_HOLDS_VALUE (id_node) || json_node_get_value_type (id_node) != G_TYPE_INT64)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s is not an integer", id_field);
              return FALSE;
            }
          if (!check_id (hf, json_node_get_int (id_node), id_field, error))
            return FALSE;
          id = (gint32) json_node_get_int (id_node);
          g_array_append_val (seen_sequence ? hf->suffix_ids : hf->prefix_ids, id);
        }
    }
  return TRUE;
}

static gboolean
parse_post_processor (AneHfTokenizer *hf,
                      JsonNode       *node,
                      const char     *what,
                      GError        **error)
{
  JsonObject *obj;
  const char *type;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  type = ane_hf_json_type (node, what, &obj, error);
  if (type == NULL)
    return FALSE;
  if (g_str_equal (type, "ByteLevel"))
    return TRUE;  /* it only trims offsets */
  if (g_str_equal (type, "TemplateProcessing"))
    return parse_template (hf, obj, what, error);
  if (g_str_equal (type, "RobertaProcessing") || g_str_equal (type, "BertProcessing"))
    return pair_token (hf, obj, what, "cls", hf->prefix_ids, error) &&
           pair_token (hf, obj, what, "sep", hf->suffix_ids, error);
  if (g_str_equal (type, "Sequence"))
    {
      JsonNode *list = json_object_get_member (obj, "processors");
      JsonArray *arr;

      if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s.processors is missing or not an array", what);
          return FALSE;
        }
      arr = json_node_get_array (list);
      for (guint i = 0; i < json_array_get_length (arr); i++)
        {
          g_autofree char *field = g_strdup_printf ("%s.processors[%u]", what, i);

          if (!parse_post_processor (hf, json_array_get_element (arr, i), field, error))
            return FALSE;
        }
      return TRUE;
    }
  g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
               "%s: post-processor type '%s' is not supported (TemplateProcessing, ByteLevel, RobertaProcessing, "
               "BertProcessing, Sequence)", what, type);
  return FALSE;
}

/* tokenizer_config.json: "bos_token" is a string, an AddedToken object
 * {"content": ...} or null. */
static gboolean
config_token (AneHfTokenizer *hf,
              JsonObject     *config,
              const char     *path,
              const char     *name,
              gint32         *id,
              GError        **error)
{
  JsonNode *node;
  const char *token = NULL;

  if (!json_member (config, name, &node))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    token = json_node_get_string (node);
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      if (!ane_hf_json_string (json_node_get_object (node), name, "content", NULL, &token, error))
        {
          g_prefix_error (error, "%s: ", path);
          return FALSE;
        }
    }
  if (token == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: %s is neither a string nor {\"content\": ...}", path, name);
      return FALSE;
    }
  *id = token_id (hf, token);
  if (*id < 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: %s '%s' is not in the vocabulary", path, name, token);
      return FALSE;
    }
  return TRUE;
}

/* transformers' LlamaTokenizerFast.update_post_processor
 * (src/transformers/models/llama/tokenization_llama_fast.py) rebuilds the
 * template from add_bos_token / add_eos_token: the flags win over the file's
 * post-processor when tokenizer_config.json has them. */
static void
apply_add_flag (GArray  *ids,
                gint32   id,
                gboolean add,
                gboolean at_end)
{
  gboolean has;

  if (id < 0)
    return;
  has = ids->len > 0 && g_array_index (ids, gint32, at_end ? ids->len - 1 : 0) == id;
  if (add && !has)
    {
      if (at_end)
        g_array_append_val (ids, id);
      else
        g_array_prepend_val (ids, id);
    }
  else if (!add && has)
    g_array_remove_index (ids, at_end ? ids->len - 1 : 0);
}

static gboolean
read_config (AneHfTokenizer *hf,
             const char     *json_path,
             gint32         *bos_id,
             gint32         *eos_id,
             GError        **error)
{
  g_autofree char *dir = g_path_get_dirname (json_path);
  g_autofree char *path = g_build_filename (dir, "tokenizer_config.json", NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *config;
  gboolean add;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  if ((bytes = read_json_bytes (path, error)) == NULL || (parser = parse_json (path, bytes, NULL, NULL, error)) == NULL)
    return FALSE;
  config = json_node_get_object (json_parser_get_root (parser));
  if (!config_token (hf, config, path, "bos_token", bos_id, error) ||
      !config_token (hf, config, path, "eos_token", eos_id, error))
    return FALSE;
  if (json_object_has_member (config, "add_bos_token"))
    {
      if (!ane_hf_json_bool (config, path, "add_bos_token", FALSE, &add, error))
        return FALSE;
      apply_add_flag (hf->prefix_ids, *bos_id, add, FALSE);
    }
  if (json_object_has_member (config, "add_eos_token"))
    {
      if (!ane_hf_json_bool (config, path, "add_eos_token", FALSE, &add, error))
        return FALSE;
      apply_add_flag (hf->suffix_ids, *eos_id, add, TRUE);
    }
  return TRUE;
}

static gboolean
load (AneHfTokenizer *hf,
      JsonObject     *root,
      AneHfBpeData   *fast,
      GError        **error)
{
  JsonNode *model_node = json_object_get_member (root, "model");
  JsonObject *model;
  const char *type;
  gint32 max_id;

  if (model_node == NULL || !JSON_NODE_HOLDS_OBJECT (model_node))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "model is missing or not an object");
      return FALSE;
    }
  model = json_node_get_object (model_node);
  if (!ane_hf_json_string (model, "model", "type", NULL, &type, error))
    return FALSE;
  /* files written before tokenizers 0.9 have no model type: a model with
   * merges is BPE (models/mod.rs ModelWrapper's untagged fallback) */
  if (type == NULL && json_object_has_member (model, "merges"))
    type = "BPE";
  if (type == NULL || !g_str_equal (type, "BPE"))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "model.type '%s' is not supported (BPE)",
                   type != NULL ? type : "(none)");
      return FALSE;
    }
  if (!ane_hf_normalizer_parse (json_object_get_member (root, "normalizer"), "normalizer", &hf->normalizer, error) ||
      !ane_hf_pre_tokenizer_parse (json_object_get_member (root, "pre_tokenizer"), "pre_tokenizer",
                                   &hf->pre_tokenizer, error) ||
      !ane_hf_decoder_parse (json_object_get_member (root, "decoder"), "decoder", &hf->decoder, error))
    return FALSE;
  if ((hf->bpe = ane_hf_bpe_parse (model, fast, error)) == NULL)
    return FALSE;
  if (!parse_added_tokens (hf, root, error))
    return FALSE;

  max_id = ane_hf_bpe_max_id (hf->bpe);
  for (guint i = 0; i < hf->added->len; i++)
    max_id = MAX (max_id, ((AddedToken *) hf->added->pdata[i])->id);
  if (max_id < 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "model.vocab and added_tokens are both empty");
      return FALSE;
    }
  hf->n_pieces = max_id + 1;
  hf->pieces = g_new0 (const char *, hf->n_pieces);
  hf->added_by_id = g_new0 (const AddedToken *, hf->n_pieces);
  for (gint32 i = 0; i <= ane_hf_bpe_max_id (hf->bpe); i++)
    hf->pieces[i] = ane_hf_bpe_id_to_piece (hf->bpe, i);
  for (guint i = 0; i < hf->added->len; i++)
    {
      const AddedToken *t = hf->added->pdata[i];
      const char *model_piece = hf->pieces[t->id];

      if (model_piece != NULL && !g_str_equal (model_piece, t->content))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "added_tokens[%u]: id %d is '%s' in model.vocab, not '%s'", i, t->id, model_piece, t->content);
          return FALSE;
        }
      hf->pieces[t->id] = t->content;
      hf->added_by_id[t->id] = t;
    }

  hf->prefix_ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  hf->suffix_ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  return parse_post_processor (hf, json_object_get_member (root, "post_processor"), "post_processor", error);
}

/**
 * ane_tokenizer_load_hf:
 * @path: a Hugging Face `tokenizer.json` (or a gzip-compressed
 *   `tokenizer.json.gz`)
 * @error: return location for a #GError
 *
 * Reads a Hugging Face tokenizers file: a BPE model (byte-level as in
 * GPT-2, Llama 3 and Qwen, or SentencePiece-style with byte fallback as in
 * Llama 2 and Gemma), its added tokens, normalizer, pre-tokenizer,
 * post-processor and decoder. docs/tokenizers.md lists the kinds read; any
 * other (a WordPiece or Unigram model, a Precompiled normalizer) fails with
 * %ANE_ERROR_UNSUPPORTED naming it, and a malformed file with
 * %ANE_ERROR_PARSE naming the field (`model.merges[12]`, `pre_tokenizer.pretokenizers[0].pattern`).
 *
 * When a `tokenizer_config.json` lies next to @path, its `bos_token` and
 * `eos_token` give [method@Ane.Tokenizer.get_bos_id] and
 * [method@Ane.Tokenizer.get_eos_id], and its `add_bos_token` /
 * `add_eos_token` say whether [method@Ane.Tokenizer.encode_full] adds them
 * (as transformers' Llama tokenizer does). Otherwise the beginning-of-sequence
 * token is the first special token the post-processor puts before the text,
 * the end-of-sequence token the last it puts after it, or -1 when there is
 * none.
 *
 * [method@Ane.Tokenizer.get_n_tokens] is the largest id (of the model or an
 * added token) plus one.
 *
 * ```c
 * g_autoptr(AneTokenizer) tok = ane_tokenizer_load_hf ("Qwen3-0.6B/tokenizer.json", &error);
 * gsize n;
 * g_autofree gint32 *ids = ane_tokenizer_encode_full (tok, "Hello, world!", TRUE, &n, &error);
 * g_autofree char *text = ane_tokenizer_decode_full (tok, ids, n, TRUE);
 * ```
 *
 * Returns: (transfer full): the tokenizer, or %NULL with @error set
 *
 * Since: 0.2
 */
AneTokenizer *
ane_tokenizer_load_hf (const char  *path,
                       GError     **error)
{
  g_autoptr(AneHfTokenizer) hf = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_auto(AneHfBpeData) fast = { NULL, NULL, NULL };
  gboolean fast_used = FALSE;
  gint32 bos_id = -1, eos_id = -1, n_pieces;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if ((bytes = read_json_bytes (path, error)) == NULL ||
      (parser = parse_json (path, bytes, &fast, &fast_used, error)) == NULL)
    return NULL;
  g_clear_pointer (&bytes, g_bytes_unref);
  hf = g_new0 (AneHfTokenizer, 1);
  if (!load (hf, json_node_get_object (json_parser_get_root (parser)), fast_used ? &fast : NULL, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  if (hf->prefix_ids->len > 0)
    bos_id = g_array_index (hf->prefix_ids, gint32, 0);
  if (hf->suffix_ids->len > 0)
    eos_id = g_array_index (hf->suffix_ids, gint32, hf->suffix_ids->len - 1);
  if (!read_config (hf, path, &bos_id, &eos_id, error))
    return NULL;
  n_pieces = hf->n_pieces;
  hf->source = g_canonicalize_filename (path, NULL);
  return ane_tokenizer_new_hf (g_steal_pointer (&hf), (guint) n_pieces, bos_id, eos_id);
}

gboolean
ane_hf_tokenizer_serialize (AneHfTokenizer *hf,
                            gint32          bos_id,
                            gint32          eos_id,
                            GBytes        **json,
                            GBytes        **config,
                            GError        **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  char *text;

  /* the file again (it is not kept in memory: it is megabytes and only a
   * saved directory needs it); the directory's loader checks its size
   * against the model's */
  if ((bytes = read_json_bytes (hf->source, error)) == NULL)
    return FALSE;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "bos_token");
  if (bos_id >= 0)
    json_builder_add_string_value (b, hf->pieces[bos_id]);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "eos_token");
  if (eos_id >= 0)
    json_builder_add_string_value (b, hf->pieces[eos_id]);
  else
    json_builder_add_null_value (b);
  if (bos_id >= 0)
    {
      json_builder_set_member_name (b, "add_bos_token");
      json_builder_add_boolean_value (b, hf->prefix_ids->len > 0 && g_array_index (hf->prefix_ids, gint32, 0) == bos_id);
    }
  if (eos_id >= 0)
    {
      json_builder_set_member_name (b, "add_eos_token");
      json_builder_add_boolean_value (b, hf->suffix_ids->len > 0 &&
                                         g_array_index (hf->suffix_ids, gint32, hf->suffix_ids->len - 1) == eos_id);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  *config = g_bytes_new_take (text, strlen (text));
  *json = g_steal_pointer (&bytes);
  return TRUE;
}

/* --- the pipeline --- */

const char *
ane_hf_tokenizer_get_piece (AneHfTokenizer *hf,
                            gint32          id)
{
  if (id < 0 || id >= hf->n_pieces)
    return NULL;
  return hf->pieces[id] != NULL ? hf->pieces[id] : "";
}

gboolean
ane_hf_tokenizer_is_special (AneHfTokenizer *hf,
                             gint32          id)
{
  return id >= 0 && id < hf->n_pieces && hf->added_by_id[id] != NULL && hf->added_by_id[id]->special;
}

/* Rust regex's Unicode \w, which single_word tests with (\w$ before the
 * match, ^\w after it; tokenizer/added_vocabulary.rs): Alphabetic
 * (letters, letter numbers), marks, decimal digits, connector punctuation,
 * the joiners. Not the other numbers (①, ²), which g_unichar_isalnum
 * counts. */
static gboolean
is_word_char (gunichar c)
{
  if (c == 0x200C || c == 0x200D)
    return TRUE;
  switch (g_unichar_type (c))
    {
    case G_UNICODE_LOWERCASE_LETTER:
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_OTHER_LETTER:
    case G_UNICODE_LETTER_NUMBER:
    case G_UNICODE_NON_SPACING_MARK:
    case G_UNICODE_SPACING_MARK:
    case G_UNICODE_ENCLOSING_MARK:
    case G_UNICODE_DECIMAL_NUMBER:
    case G_UNICODE_CONNECT_PUNCTUATION:
      return TRUE;
    default:
      return FALSE;
    }
}

/* The next added token in @text from @from: leftmost, longest there
 * (tokenizers' Aho-Corasick with MatchKind::LeftmostLongest), its span
 * widened by lstrip/rstrip and skipped when single_word does not hold
 * (tokenizer/added_vocabulary.rs find_matches). */
static const AddedToken *
next_added (GPtrArray  **table,
            const char  *text,
            gsize        len,
            gsize        from,
            gsize        floor,
            gsize       *start,
            gsize       *stop)
{
  for (gsize i = from; i < len; i++)
    {
      GPtrArray *cands = table[(guint8) text[i]];
      const AddedToken *t = NULL;
      gsize tlen = 0;

      if (cands == NULL)
        continue;
      for (guint k = 0; k < cands->len && t == NULL; k++)
        {
          const AddedToken *c = cands->pdata[k];
          const char *key = c->normalized ? c->normalized_content : c->content;
          gsize klen = strlen (key);

          if (klen <= len - i && memcmp (text + i, key, klen) == 0)
            {
              t = c;
              tlen = klen;
            }
        }
      if (t == NULL)
        continue;
      *start = i;
      *stop = i + tlen;
      if (t->single_word)
        {
          const char *before = i > 0 ? g_utf8_find_prev_char (text, text + i) : NULL;
          gboolean word_before = before != NULL && is_word_char (g_utf8_get_char (before));
          gboolean word_after = *stop < len && is_word_char (g_utf8_get_char (text + *stop));

          if (word_before || word_after)
            {
              /* the match is consumed all the same: search on after it */
              i = *stop - 1;
              continue;
            }
        }
      if (t->lstrip)
        while (*start > floor)
          {
            const char *prev = g_utf8_find_prev_char (text, text + *start);

            if (prev == NULL || !g_unichar_isspace (g_utf8_get_char (prev)))
              break;
            *start = (gsize) (prev - text);
          }
      if (t->rstrip)
        while (*stop < len && g_unichar_isspace (g_utf8_get_char (text + *stop)))
          *stop = (gsize) (g_utf8_next_char (text + *stop) - text);
      return t;
    }
  return NULL;
}

static gboolean
encode_text (AneHfTokenizer *hf,
             const char     *text,
             gsize           len,
             gboolean        at_start,
             GArray         *ids,
             GError        **error)
{
  AneHfSplits splits;
  gboolean ok;

  if (len == 0)
    return TRUE;
  ane_hf_splits_init (&splits, text, len, at_start);
  ok = ane_hf_pre_tokenizer_apply (hf->pre_tokenizer, &splits, error);
  for (guint i = 0; ok && i < splits.spans->len; i++)
    {
      AneHfSpan w = g_array_index (splits.spans, AneHfSpan, i);

      ane_hf_bpe_encode_word (hf->bpe, splits.text->str + w.start, w.len, ids);
    }
  ane_hf_splits_clear (&splits);
  return ok;
}

/* A piece between non-normalized added tokens: normalized, then split on
 * the normalized added tokens. */
static gboolean
encode_segment (AneHfTokenizer *hf,
                const char     *text,
                gsize           len,
                gboolean        at_start,
                GArray         *ids,
                GError        **error)
{
  g_autoptr(GString) norm = g_string_new_len (text, (gssize) len);
  gsize pos = 0, start, stop;
  const AddedToken *t;

  if (len == 0)
    return TRUE;
  ane_hf_normalizer_apply (hf->normalizer, norm);
  while ((t = next_added (hf->norm_first, norm->str, norm->len, pos, pos, &start, &stop)) != NULL)
    {
      if (!encode_text (hf, norm->str + pos, start - pos, at_start && pos == 0, ids, error))
        return FALSE;
      g_array_append_val (ids, t->id);
      pos = stop;
    }
  return encode_text (hf, norm->str + pos, norm->len - pos, at_start && pos == 0, ids, error);
}

gboolean
ane_hf_tokenizer_encode (AneHfTokenizer *hf,
                         const char     *text,
                         gboolean        add_special_tokens,
                         GArray         *ids,
                         GError        **error)
{
  gsize len = strlen (text), pos = 0, start, stop;
  const AddedToken *t;

  if (!g_utf8_validate (text, (gssize) len, NULL))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "the text to encode is not valid UTF-8");
      return FALSE;
    }
  if (add_special_tokens)
    g_array_append_vals (ids, hf->prefix_ids->data, hf->prefix_ids->len);
  while ((t = next_added (hf->raw_first, text, len, pos, pos, &start, &stop)) != NULL)
    {
      if (!encode_segment (hf, text + pos, start - pos, pos == 0, ids, error))
        return FALSE;
      g_array_append_val (ids, t->id);
      pos = stop;
    }
  if (!encode_segment (hf, text + pos, len - pos, pos == 0, ids, error))
    return FALSE;
  if (add_special_tokens)
    g_array_append_vals (ids, hf->suffix_ids->data, hf->suffix_ids->len);
  return TRUE;
}

static void
gstring_free (gpointer s)
{
  g_string_free (s, TRUE);
}

char *
ane_hf_tokenizer_decode (AneHfTokenizer *hf,
                         const gint32   *ids,
                         gsize           n_ids,
                         gboolean        skip_special_tokens,
                         gsize          *len)
{
  g_autoptr(GPtrArray) pieces = g_ptr_array_new_with_free_func (gstring_free);
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < n_ids; i++)
    {
      /* ids outside the vocabulary are dropped, as id_to_token's None */
      if (ids[i] < 0 || ids[i] >= hf->n_pieces || hf->pieces[ids[i]] == NULL)
        continue;
      if (skip_special_tokens && ane_hf_tokenizer_is_special (hf, ids[i]))
        continue;
      g_ptr_array_add (pieces, g_string_new (hf->pieces[ids[i]]));
    }
  ane_hf_decoder_apply (hf->decoder, pieces);
  for (guint i = 0; i < pieces->len; i++)
    {
      GString *p = pieces->pdata[i];
      g_string_append_len (out, p->str, (gssize) p->len);
    }
  *len = out->len;
  return g_string_free (out, FALSE);
}
