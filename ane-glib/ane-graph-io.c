/* ane-graph-io.c: saving and loading graphs (JSON + safetensors)
 *
 * A graph is saved as a JSON document listing its nodes in order (a
 * topological order) and its outputs, plus a side-car safetensors file with
 * the data of its consts and bound params. Loading replays the nodes through
 * the same builders the API uses (ane_graph_add_source / ane_graph_add_node),
 * so every attribute check and shape rule runs again. The format is specified
 * in docs/graph-format.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "ane-file-private.h"
#include "ane-graph-private.h"
#include "ane-tensor-private.h"
#include "ane-json-private.h"
#include "ane-safetensors-private.h"

#define GRAPH_FORMAT  "ane-glib-graph"
#define GRAPH_VERSION 1

/* --- writing --------------------------------------------------------------- */

/* The document is emitted directly rather than through JsonGenerator:
 * json-glib 1.6 appends ".0" to any double whose "%.17g" form lacks a '.',
 * which turns 1e-300 into the invalid "1e-300.0". */

/* A JSON string: '"', '\\' and control characters escaped, UTF-8 as is. */
static void
append_string (GString    *out,
               const char *s)
{
  g_string_append_c (out, '"');
  for (const char *p = s; *p; p++)
    {
      guchar c = (guchar) *p;

      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, '"');
}

static void
append_int (GString *out,
            gint64   v)
{
  g_string_append_printf (out, "%" G_GINT64_FORMAT, v);
}

/* The shortest of "%.15g", "%.16g", "%.17g" that reads back as the same
 * double (%.17g always does), with ".0" added to integral values so they
 * stay recognizably doubles. JSON has no NaN or infinities: those are written
 * as the strings "NaN", "Infinity" and "-Infinity". */
static void
append_double (GString *out,
               double   d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (d))
    {
      g_string_append (out, "\"NaN\"");
      return;
    }
  if (isinf (d))
    {
      g_string_append (out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      return;
    }
  for (int digits = 15; digits <= 17; digits++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%dg", digits);
      g_ascii_formatd (buf, sizeof buf, format, d);
      if (g_ascii_strtod (buf, NULL) == d && signbit (g_ascii_strtod (buf, NULL)) == signbit (d))
        break;
    }
  g_string_append (out, buf);
  if (strpbrk (buf, ".e") == NULL)
    g_string_append (out, ".0");
}

/* An attribute value by its catalog type. */
static void
append_attr (GString    *out,
             GVariant   *value,
             const char *type)
{
  if (g_str_equal (type, "x"))
    append_int (out, g_variant_get_int64 (value));
  else if (g_str_equal (type, "b"))
    g_string_append (out, g_variant_get_boolean (value) ? "true" : "false");
  else if (g_str_equal (type, "s"))
    append_string (out, g_variant_get_string (value, NULL));
  else if (g_str_equal (type, "d"))
    append_double (out, g_variant_get_double (value));
  else if (g_str_equal (type, "ax"))
    {
      gsize n;
      const gint64 *v = g_variant_get_fixed_array (value, &n, sizeof (gint64));

      g_string_append_c (out, '[');
      for (gsize i = 0; i < n; i++)
        {
          if (i)
            g_string_append_c (out, ',');
          append_int (out, v[i]);
        }
      g_string_append_c (out, ']');
    }
  else
    g_assert_not_reached ();
}

/* A flexible input's "range":[[lower,upper],...] (one pair per axis) or
 * "shapes":[[...],...] (docs/flexible-shapes.md). */
static void
append_flex (GString            *out,
             const AneShapeFlex *flex)
{
  if (flex == NULL)
    return;
  if (flex->kind == ANE_SHAPE_FLEX_RANGE)
    {
      g_string_append (out, ",\"range\":[");
      for (guint i = 0; i < flex->rank; i++)
        {
          g_string_append (out, i ? ",[" : "[");
          append_int (out, flex->lower[i]);
          g_string_append_c (out, ',');
          append_int (out, flex->upper[i]);
          g_string_append_c (out, ']');
        }
      g_string_append_c (out, ']');
      return;
    }
  g_string_append (out, ",\"shapes\":[");
  for (guint k = 0; k < flex->n_shapes; k++)
    {
      g_string_append (out, k ? ",[" : "[");
      for (guint i = 0; i < flex->rank; i++)
        {
          if (i)
            g_string_append_c (out, ',');
          append_int (out, flex->shapes[(gsize) k * flex->rank + i]);
        }
      g_string_append_c (out, ']');
    }
  g_string_append_c (out, ']');
}

/* {"op":..,"name":..,("dtype":..,"shape":[..] | "inputs":[..]),"attrs":{..}} */
static void
append_node (GString       *out,
             AneGraph      *graph,
             const AneNode *node)
{
  gboolean first = TRUE;

  g_string_append (out, "{\"op\":");
  append_string (out, node->op->name);
  g_string_append (out, ",\"name\":");
  append_string (out, node->name);
  if (node->op->flags & ANE_OP_FLAG_SOURCE)
    {
      const AneSpec *spec = &node->outputs[0];

      g_string_append (out, ",\"dtype\":");
      append_string (out, ane_dtype_to_string (spec->dtype));
      g_string_append (out, ",\"shape\":[");
      for (guint i = 0; i < spec->rank; i++)
        {
          if (i)
            g_string_append_c (out, ',');
          append_int (out, spec->shape[i]);
        }
      g_string_append_c (out, ']');
      if (node->op->kind == ANE_OP_INPUT)
        append_flex (out, ane_graph_get_input_flex (graph, node->name));
    }
  else
    {
      g_string_append (out, ",\"inputs\":[");
      for (guint i = 0; i < node->n_inputs; i++)
        {
          AneValueRef ref = node->inputs[i];

          if (i)
            g_string_append_c (out, ',');
          if (ref.node == ANE_NO_NODE)
            {
              g_string_append (out, "null");
              continue;
            }
          g_string_append_c (out, '[');
          append_string (out, ane_graph_get_node (graph, ref.node)->name);
          g_string_append_printf (out, ",%u]", ref.index);
        }
      g_string_append_c (out, ']');
    }
  g_string_append (out, ",\"attrs\":{");
  for (const AneAttrSpec *a = node->op->attrs; a && a->name; a++)
    {
      g_autoptr(GVariant) value = g_variant_lookup_value (node->attrs, a->name, G_VARIANT_TYPE (a->type));

      g_assert (value != NULL);   /* node attributes are complete */
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      append_string (out, a->name);
      g_string_append_c (out, ':');
      append_attr (out, value, a->type);
    }
  g_string_append (out, "}}");
}

/* One node or output per line: readable, and diffs stay local. */
static char *
graph_to_json_text (AneGraph   *self,
                    const char *weights_file)
{
  GString *out = g_string_new (NULL);
  guint n_nodes = ane_graph_get_n_nodes_internal (self);
  guint n_outputs = ane_graph_get_n_outputs (self);

  g_string_append_printf (out, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n  \"weights\": ",
                          GRAPH_FORMAT, GRAPH_VERSION);
  if (weights_file != NULL)
    append_string (out, weights_file);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\n  \"nodes\": [");
  for (guint i = 0; i < n_nodes; i++)
    {
      g_string_append (out, i ? ",\n    " : "\n    ");
      append_node (out, self, ane_graph_get_node (self, i));
    }
  g_string_append (out, n_nodes ? "\n  ],\n  \"outputs\": [" : "],\n  \"outputs\": [");
  for (guint i = 0; i < n_outputs; i++)
    {
      const AneGraphOutput *output = ane_graph_get_output (self, i);

      g_string_append (out, i ? ",\n    " : "\n    ");
      g_string_append (out, "{\"name\":");
      append_string (out, output->name);
      g_string_append (out, ",\"node\":");
      append_string (out, ane_graph_get_node (self, output->ref.node)->name);
      g_string_append_printf (out, ",\"index\":%u}", output->ref.index);
    }
  g_string_append (out, n_outputs ? "\n  ]\n}\n" : "]\n}\n");
  return g_string_free (out, FALSE);
}

/**
 * ane_graph_to_json:
 * @self: a graph
 * @weights_file: (nullable): the weights file name to record in the document
 *   (resolved relative to the JSON file by [func@Ane.Graph.load]), or %NULL
 *   to record none
 * @error: return location for a #GError
 *
 * Serializes the graph's structure -- nodes in order, their inputs,
 * attributes and source specs, and the outputs -- as a JSON document in the
 * `ane-glib-graph` format, version 1 (see `docs/graph-format.md`). The data of
 * consts and bound params is not included: [method@Ane.Graph.save] writes it
 * to a safetensors file next to the JSON.
 *
 * Every attribute is written, defaults included, and doubles round-trip
 * exactly.
 *
 * Returns: (transfer full): the JSON text, or %NULL on error
 */
char *
ane_graph_to_json (AneGraph    *self,
                   const char  *weights_file,
                   GError     **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (weights_file != NULL && !g_utf8_validate (weights_file, -1, NULL))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "to_json: the weights file name is not valid UTF-8");
      return NULL;
    }
  return graph_to_json_text (self, weights_file);
}

static char *
weights_path_for (const char *json_path)
{
  if (g_str_has_suffix (json_path, ".json") && strlen (json_path) > strlen (".json"))
    {
      g_autofree char *stem = g_strndup (json_path, strlen (json_path) - strlen (".json"));
      return g_strconcat (stem, ".safetensors", NULL);
    }
  return g_strconcat (json_path, ".safetensors", NULL);
}

/* Weights files of a graph saved at json_path: <stem>.safetensors (from
 * weights_path_for()) or, when that name was taken, <stem>-<16 hex
 * digits>.safetensors. */
#define WEIGHTS_SUFFIX ".safetensors"
#define VERSION_DIGITS 16

typedef struct {
  const char *json_base;   /* the JSON's base name */
  const char *stem;        /* the canonical weights base name less the suffix */
} SaveNames;

static gboolean
is_weights_name (const char *name,
                 const char *stem)
{
  gsize stem_len = strlen (stem);

  if (strncmp (name, stem, stem_len) != 0)
    return FALSE;
  name += stem_len;
  if (strcmp (name, WEIGHTS_SUFFIX) == 0)
    return TRUE;
  if (name[0] != '-' || strlen (name) != 1 + VERSION_DIGITS + strlen (WEIGHTS_SUFFIX) ||
      strcmp (name + 1 + VERSION_DIGITS, WEIGHTS_SUFFIX) != 0)
    return FALSE;
  for (guint i = 1; i <= VERSION_DIGITS; i++)
    if (!g_ascii_isdigit (name[i]) && !(name[i] >= 'a' && name[i] <= 'f'))
      return FALSE;
  return TRUE;
}

/* The destinations whose temporaries a save may have left. */
static gboolean
is_save_destination (const char    *base,
                     gconstpointer  data)
{
  const SaveNames *names = data;

  return strcmp (base, names->json_base) == 0 || is_weights_name (base, names->stem);
}

/* Removes the weights files of earlier saves (the canonical name and every
 * versioned one of the same stem) except keep. */
static void
remove_old_weights (const char *dir_path,
                    const char *stem,
                    const char *keep)
{
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr(GPtrArray) old = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)))
    if (is_weights_name (name, stem) && strcmp (name, keep) != 0)
      g_ptr_array_add (old, g_build_filename (dir_path, name, NULL));
  for (guint i = 0; i < old->len; i++)
    if (g_unlink (g_ptr_array_index (old, i)) != 0)
      g_debug ("cannot remove the old weights file '%s': %s",
               (const char *) g_ptr_array_index (old, i), g_strerror (errno));
}

/**
 * ane_graph_save:
 * @self: a graph
 * @json_path: (type filename): where to write the graph's JSON document
 * @error: return location for a #GError
 *
 * Saves the graph as two files: @json_path, a JSON document in the
 * `ane-glib-graph` format (see [method@Ane.Graph.to_json]), and next to it a
 * safetensors file with the data of every const and every param that has a
 * value, each stored under its node's name. The weights file is named after
 * @json_path with ".json" replaced by ".safetensors" (or ".safetensors"
 * appended); when a file of that name exists already (an earlier save), the
 * new weights go to `<stem>-<16 hex digits>.safetensors` instead. The JSON
 * records the base name.
 *
 * The two files change as one. The weights are written to a temporary
 * file, flushed to disk and renamed to their new name; then the JSON is
 * written the same way and renamed over @json_path, which is the commit;
 * then the weights files of earlier saves of @json_path are removed. A
 * reader, even after a crash at any point, finds either the old JSON with
 * its weights or the new JSON with its own, never one beside the other's.
 * On error the old files are left as they were. Temporaries that saves
 * killed half-way left (`.NAME.tmp-PID-XXXXXX` of a process that is gone)
 * are removed first. Should syncing the directory after the commit fail,
 * the save still succeeds (the new files are in place) and the old weights
 * file is kept, as a crash could still bring back the old JSON.
 *
 * Returns: %TRUE on success
 */
gboolean
ane_graph_save (AneGraph    *self,
                const char  *json_path,
                GError     **error)
{
  g_autofree char *canonical = NULL;
  g_autofree char *weights_path = NULL;
  g_autofree char *weights_file = NULL;
  g_autofree char *json_base = NULL;
  g_autofree char *stem = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *text = NULL;
  g_autofree char *warning = NULL;
  g_autoptr(GPtrArray) tensors = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) metadata = g_hash_table_new (g_str_hash, g_str_equal);
  SaveNames names;
  guint n_nodes;

  g_return_val_if_fail (ANE_IS_GRAPH (self), FALSE);
  g_return_val_if_fail (json_path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  n_nodes = ane_graph_get_n_nodes_internal (self);
  for (guint i = 0; i < n_nodes; i++)
    {
      const AneNode *node = ane_graph_get_node (self, i);

      /* A const renamed with set_name keeps its value's old name: store
       * every value under its node's current name. */
      if ((node->op->kind == ANE_OP_CONST || node->op->kind == ANE_OP_PARAM) && node->value != NULL)
        g_ptr_array_add (tensors, ane_tensor_rename (node->value, node->name));
    }
  g_hash_table_insert (metadata, "format", GRAPH_FORMAT);
  g_hash_table_insert (metadata, "producer", "ane-glib " PACKAGE_VERSION);

  dir = g_path_get_dirname (json_path);
  json_base = g_path_get_basename (json_path);
  canonical = weights_path_for (json_path);
  weights_file = g_path_get_basename (canonical);
  stem = g_strndup (weights_file, strlen (weights_file) - strlen (WEIGHTS_SUFFIX));
  if (!g_utf8_validate (weights_file, -1, NULL))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "save: the weights file name of '%s' is not valid UTF-8, so JSON cannot record it",
                   json_path);
      return FALSE;
    }
  names.json_base = json_base;
  names.stem = stem;
  ane_file_remove_stale_temps_matching (dir, is_save_destination, &names);

  /* A name no file has, so that the old JSON keeps its weights until the
   * new JSON replaces it. */
  if (g_file_test (canonical, G_FILE_TEST_EXISTS))
    do
      {
        g_free (weights_file);
        g_free (weights_path);
        weights_file = g_strdup_printf ("%s-%08x%08x" WEIGHTS_SUFFIX, stem, g_random_int (), g_random_int ());
        weights_path = g_build_filename (dir, weights_file, NULL);
      }
    while (g_file_test (weights_path, G_FILE_TEST_EXISTS));
  else
    weights_path = g_strdup (canonical);

  if (!ane_safetensors_write (weights_path, (AneTensor *const *) tensors->pdata, tensors->len,
                              metadata, error))
    return FALSE;
  /* The weights' directory entry durable before a JSON names it. */
  if (!ane_file_sync_dir (dir, error))
    {
      g_unlink (weights_path);
      return FALSE;
    }

  text = graph_to_json_text (self, weights_file);
  if (!ane_file_replace (json_path, text, strlen (text), &warning, error))
    {
      g_unlink (weights_path);
      return FALSE;
    }
  if (warning != NULL)
    {
      g_debug ("save: %s; the old weights file is kept", warning);
      return TRUE;
    }
  remove_old_weights (dir, stem, weights_file);
  return TRUE;
}

/* --- reading --------------------------------------------------------------- */

typedef struct {
  const char     *what;       /* the JSON file, for messages */
  AneGraph       *graph;
  AneSafetensors *weights;    /* NULL: no weights file */
  GHashTable     *positions;  /* node name -> position + 1 in "nodes" */
} Loader;

static void load_error (Loader      *L,
                        GError     **error,
                        AneError     code,
                        const char  *format,
                        ...) G_GNUC_PRINTF (4, 5);

static void
load_error (Loader      *L,
            GError     **error,
            AneError     code,
            const char  *format,
            ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, ANE_ERROR, code, "%s: %s", L->what, msg);
}

static const char *
json_kind (JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT (node))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY (node))
    return "an array";
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:   return "an integer";
    case G_TYPE_DOUBLE:  return "a number";
    case G_TYPE_BOOLEAN: return "a boolean";
    case G_TYPE_STRING:  return "a string";
    default:             return "a value";
    }
}

static gboolean
json_is (JsonNode *node,
         GType     type)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

/* Every member of obj must be one of the NULL-terminated keys. */
static gboolean
check_keys (Loader            *L,
            JsonObject        *obj,
            const char *const *keys,
            const char        *where,
            GError           **error)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  json_object_iter_init (&iter, obj);
  while (json_object_iter_next (&iter, &key, &value))
    if (!g_strv_contains (keys, key))
      {
        load_error (L, error, ANE_ERROR_PARSE, "%s: unknown key \"%s\"", where, key);
        return FALSE;
      }
  return TRUE;
}

static GVariant *
attr_from_json (JsonNode   *node,
                const char *type)
{
  if (g_str_equal (type, "x"))
    return json_is (node, G_TYPE_INT64) ? g_variant_new_int64 (json_node_get_int (node)) : NULL;
  if (g_str_equal (type, "b"))
    return json_is (node, G_TYPE_BOOLEAN) ? g_variant_new_boolean (json_node_get_boolean (node)) : NULL;
  if (g_str_equal (type, "s"))
    return json_is (node, G_TYPE_STRING) ? g_variant_new_string (json_node_get_string (node)) : NULL;
  if (g_str_equal (type, "d"))
    {
      if (json_is (node, G_TYPE_INT64) || json_is (node, G_TYPE_DOUBLE))
        return g_variant_new_double (json_node_get_double (node));
      if (json_is (node, G_TYPE_STRING))
        {
          const char *s = json_node_get_string (node);

          if (g_str_equal (s, "NaN"))
            return g_variant_new_double (NAN);
          if (g_str_equal (s, "Infinity"))
            return g_variant_new_double (INFINITY);
          if (g_str_equal (s, "-Infinity"))
            return g_variant_new_double (-INFINITY);
        }
      return NULL;
    }
  if (g_str_equal (type, "ax"))
    {
      JsonArray *array;
      guint n;
      g_autofree gint64 *v = NULL;

      if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
        return NULL;
      array = json_node_get_array (node);
      n = json_array_get_length (array);
      v = g_new (gint64, MAX (n, 1));
      for (guint i = 0; i < n; i++)
        {
          JsonNode *e = json_array_get_element (array, i);

          if (!json_is (e, G_TYPE_INT64))
            return NULL;
          v[i] = json_node_get_int (e);
        }
      return ane_attrs_ints_variant (v, n);
    }
  g_assert_not_reached ();
}

static const char *
type_description (const char *type)
{
  if (g_str_equal (type, "x")) return "an integer";
  if (g_str_equal (type, "d")) return "a number (or \"NaN\", \"Infinity\", \"-Infinity\")";
  if (g_str_equal (type, "b")) return "a boolean";
  if (g_str_equal (type, "s")) return "a string";
  return "an array of integers";
}

/* The node's "attrs" as an a{sv} dictionary with the catalog's types;
 * ane_op_attrs_complete() (inside the builders) fills in defaults. */
static GVariant *
attrs_from_json (Loader          *L,
                 const AneOpInfo *op,
                 const char      *name,
                 JsonNode        *node,
                 GError         **error)
{
  GVariantBuilder builder;
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  if (node == NULL)
    return g_variant_ref_sink (g_variant_builder_end (&builder));
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      load_error (L, error, ANE_ERROR_PARSE, "node '%s': \"attrs\" must be an object, not %s",
                  name, json_kind (node));
      g_variant_builder_clear (&builder);
      return NULL;
    }
  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &key, &value))
    {
      const AneAttrSpec *spec = NULL;
      GVariant *v;

      for (const AneAttrSpec *a = op->attrs; a && a->name; a++)
        if (g_str_equal (a->name, key))
          spec = a;
      if (spec == NULL)
        {
          load_error (L, error, ANE_ERROR_PARSE, "node '%s': unknown attribute '%s' for op '%s'",
                      name, key, op->name);
          g_variant_builder_clear (&builder);
          return NULL;
        }
      v = attr_from_json (value, spec->type);
      if (v == NULL)
        {
          load_error (L, error, ANE_ERROR_PARSE, "node '%s': attribute '%s' must be %s, not %s",
                      name, key, type_description (spec->type), json_kind (value));
          g_variant_builder_clear (&builder);
          return NULL;
        }
      g_variant_builder_add (&builder, "{sv}", key, v);
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static gboolean
spec_from_json (Loader     *L,
                JsonObject *obj,
                const char *name,
                AneSpec    *spec,
                GError    **error)
{
  JsonNode *dtype = json_object_get_member (obj, "dtype");
  JsonNode *shape = json_object_get_member (obj, "shape");
  JsonArray *dims;

  memset (spec, 0, sizeof *spec);
  if (!json_is (dtype, G_TYPE_STRING) ||
      !ane_dtype_from_string (json_node_get_string (dtype), &spec->dtype))
    {
      load_error (L, error, ANE_ERROR_PARSE, "node '%s': \"dtype\" must name a dtype, got %s%s%s",
                  name, json_kind (dtype),
                  json_is (dtype, G_TYPE_STRING) ? " " : "",
                  json_is (dtype, G_TYPE_STRING) ? json_node_get_string (dtype) : "");
      return FALSE;
    }
  if (shape == NULL || !JSON_NODE_HOLDS_ARRAY (shape))
    {
      load_error (L, error, ANE_ERROR_PARSE, "node '%s': \"shape\" must be an array, not %s",
                  name, json_kind (shape));
      return FALSE;
    }
  dims = json_node_get_array (shape);
  if (json_array_get_length (dims) > ANE_MAX_RANK)
    {
      load_error (L, error, ANE_ERROR_PARSE, "node '%s': rank %u exceeds the maximum rank %d",
                  name, json_array_get_length (dims), ANE_MAX_RANK);
      return FALSE;
    }
  spec->rank = json_array_get_length (dims);
  for (guint i = 0; i < spec->rank; i++)
    {
      JsonNode *d = json_array_get_element (dims, i);

      if (!json_is (d, G_TYPE_INT64) || json_node_get_int (d) < 0)
        {
          load_error (L, error, ANE_ERROR_PARSE, "node '%s': shape[%u] must be a non-negative integer",
                      name, i);
          return FALSE;
        }
      spec->shape[i] = json_node_get_int (d);
    }
  return TRUE;
}

/* The stored value of a const or param, or NULL (a param without a value). */
static gboolean
source_value (Loader        *L,
              AneOpKind      kind,
              const char    *name,
              const AneSpec *spec,
              AneTensor    **value,
              GError       **error)
{
  g_autoptr(AneTensor) t = NULL;
  AneSpec vspec;
  char a[ANE_SPEC_STRLEN], b[ANE_SPEC_STRLEN];

  *value = NULL;
  if (L->weights == NULL || !ane_safetensors_contains (L->weights, name))
    {
      if (kind == ANE_OP_PARAM)
        return TRUE;
      if (L->weights == NULL)
        load_error (L, error, ANE_ERROR_NOT_FOUND,
                    "node '%s': the const's data is needed but no weights file was given", name);
      else
        load_error (L, error, ANE_ERROR_NOT_FOUND, "node '%s': %s has no tensor '%s' for the const",
                    name, ane_safetensors_get_display_name (L->weights), name);
      return FALSE;
    }
  t = ane_safetensors_get_tensor (L->weights, name, error);
  if (t == NULL)
    return FALSE;
  ane_tensor_get_spec (t, &vspec);
  if (!ane_spec_equal (&vspec, spec))
    {
      load_error (L, error, vspec.dtype != spec->dtype ? ANE_ERROR_DTYPE : ANE_ERROR_SHAPE,
                  "node '%s': tensor '%s' in %s is %s, but the %s is declared %s", name, name,
                  ane_safetensors_get_display_name (L->weights), ane_spec_format (&vspec, a),
                  kind == ANE_OP_PARAM ? "param" : "const", ane_spec_format (spec, b));
      return FALSE;
    }
  *value = g_steal_pointer (&t);
  return TRUE;
}

/* A JSON reference ["node", index] (or null) as a symbolic tensor of the
 * graph being built. */
static gboolean
input_from_json (Loader     *L,
                 const char *name,
                 guint       position,
                 guint       slot,
                 JsonNode   *ref,
                 AneTensor **tensor,
                 GError    **error)
{
  JsonArray *pair;
  const char *src_name;
  const AneNode *src;
  guint src_position;
  gint64 index;

  *tensor = NULL;
  if (ref == NULL || JSON_NODE_HOLDS_NULL (ref))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (ref) || json_array_get_length (pair = json_node_get_array (ref)) != 2 ||
      !json_is (json_array_get_element (pair, 0), G_TYPE_STRING) ||
      !json_is (json_array_get_element (pair, 1), G_TYPE_INT64))
    {
      load_error (L, error, ANE_ERROR_PARSE,
                  "node '%s': input %u must be [\"node name\", output index] or null", name, slot);
      return FALSE;
    }
  src_name = json_array_get_string_element (pair, 0);
  index = json_array_get_int_element (pair, 1);
  src_position = GPOINTER_TO_UINT (g_hash_table_lookup (L->positions, src_name));
  if (src_position == 0)
    {
      load_error (L, error, ANE_ERROR_PARSE, "node '%s': input %u refers to unknown node '%s'",
                  name, slot, src_name);
      return FALSE;
    }
  if (src_position - 1 >= position)
    {
      load_error (L, error, ANE_ERROR_PARSE,
                  "node '%s': input %u refers to node '%s', which does not come before it "
                  "(inputs must refer to earlier nodes)", name, slot, src_name);
      return FALSE;
    }
  src = ane_graph_find_node (L->graph, src_name);
  g_assert (src != NULL);
  if (index < 0 || index >= src->n_outputs)
    {
      load_error (L, error, ANE_ERROR_PARSE,
                  "node '%s': input %u refers to output %" G_GINT64_FORMAT " of '%s', which has %u output%s",
                  name, slot, index, src_name, src->n_outputs, src->n_outputs == 1 ? "" : "s");
      return FALSE;
    }
  *tensor = ane_tensor_new_symbolic (ane_graph_get_uid (L->graph), src->id, (guint) index,
                                     src_name, &src->outputs[index]);
  return TRUE;
}

/* Absent optional inputs are NULL entries. */
static void
unref_nullable (gpointer object)
{
  if (object != NULL)
    g_object_unref (object);
}

static void
prefix_node_error (Loader     *L,
                   GError    **error,
                   const char *name)
{
  g_prefix_error (error, "%s: node '%s': ", L->what, name);
}

static gboolean load_flex (Loader *L, JsonObject *obj, const char *name, guint rank, GError **error);

static gboolean
load_node (Loader     *L,
           guint       position,
           JsonNode   *json,
           GError    **error)
{
  static const char *const source_keys[] = { "op", "name", "dtype", "shape", "attrs", NULL };
  static const char *const input_keys[] = { "op", "name", "dtype", "shape", "attrs", "range", "shapes", NULL };
  static const char *const op_keys[] = { "op", "name", "inputs", "attrs", NULL };
  JsonObject *obj = json_node_get_object (json);
  const char *name = json_object_get_string_member (obj, "name");
  const char *op_name = json_object_get_string_member (obj, "op");
  g_autofree char *where = g_strdup_printf ("node '%s'", name);
  g_autoptr(GVariant) attrs = NULL;
  g_autoptr(AneTensor) result = NULL;
  const AneOpInfo *op = ane_op_catalog_lookup (op_name);

  if (op == NULL)
    {
      load_error (L, error, ANE_ERROR_PARSE, "node '%s': unknown op '%s'", name, op_name);
      return FALSE;
    }
  if (!check_keys (L, obj, op->kind == ANE_OP_INPUT ? input_keys
                           : op->flags & ANE_OP_FLAG_SOURCE ? source_keys : op_keys, where, error))
    return FALSE;
  attrs = attrs_from_json (L, op, name, json_object_get_member (obj, "attrs"), error);
  if (attrs == NULL)
    return FALSE;

  if (op->flags & ANE_OP_FLAG_SOURCE)
    {
      g_autoptr(AneTensor) value = NULL;
      AneSpec spec;

      if (!spec_from_json (L, obj, name, &spec, error))
        return FALSE;
      switch (op->kind)
        {
        case ANE_OP_INPUT:
          result = ane_graph_input (L->graph, name, spec.dtype, spec.shape, spec.rank, error);
          if (result != NULL && !load_flex (L, obj, name, spec.rank, error))
            return FALSE;
          break;
        case ANE_OP_STATE:
          result = ane_graph_state (L->graph, name, spec.dtype, spec.shape, spec.rank, error);
          break;
        case ANE_OP_PARAM:
        case ANE_OP_CONST:
          if (!source_value (L, op->kind, name, &spec, &value, error))
            return FALSE;
          result = ane_graph_add_source (L->graph, op->kind, name, &spec, value, attrs, error);
          break;
        default:
          g_assert_not_reached ();
        }
      if (result == NULL)
        prefix_node_error (L, error, name);
      return result != NULL;
    }
  else
    {
      g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func (unref_nullable);
      JsonNode *list = json_object_get_member (obj, "inputs");
      JsonArray *array;

      if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
        {
          load_error (L, error, ANE_ERROR_PARSE, "node '%s': \"inputs\" must be an array, not %s",
                      name, json_kind (list));
          return FALSE;
        }
      array = json_node_get_array (list);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          AneTensor *t;

          if (!input_from_json (L, name, position, i, json_array_get_element (array, i), &t, error))
            return FALSE;
          g_ptr_array_add (inputs, t);
        }
      result = ane_graph_add_node (L->graph, op->kind, (AneTensor *const *) inputs->pdata,
                                   inputs->len, attrs, NULL, error);
      if (result == NULL || !ane_graph_set_name (L->graph, result, name, error))
        {
          prefix_node_error (L, error, name);
          return FALSE;
        }
      return TRUE;
    }
}

/* An array of n_max integers at most (flattening one level of arrays when
 * nested, each inner array of width entries). */
static gboolean
int_rows (Loader      *L,
          JsonNode    *node,
          const char  *what,
          guint        width,
          GArray      *values,
          GError     **error)
{
  JsonArray *rows;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      load_error (L, error, ANE_ERROR_PARSE, "%s must be an array of arrays, not %s", what, json_kind (node));
      return FALSE;
    }
  rows = json_node_get_array (node);
  if (json_array_get_length (rows) > ANE_SHAPE_FLEX_MAX_SHAPES)
    {
      load_error (L, error, ANE_ERROR_PARSE, "%s has more than %d entries", what, ANE_SHAPE_FLEX_MAX_SHAPES);
      return FALSE;
    }
  for (guint r = 0; r < json_array_get_length (rows); r++)
    {
      JsonNode *row = json_array_get_element (rows, r);
      JsonArray *items;

      if (!JSON_NODE_HOLDS_ARRAY (row) || json_array_get_length (items = json_node_get_array (row)) != width)
        {
          load_error (L, error, ANE_ERROR_PARSE, "%s: entry %u must be an array of %u integers", what, r, width);
          return FALSE;
        }
      for (guint i = 0; i < width; i++)
        {
          JsonNode *item = json_array_get_element (items, i);
          gint64 v;

          if (!json_is (item, G_TYPE_INT64))
            {
              load_error (L, error, ANE_ERROR_PARSE, "%s: entry %u holds %s, not an integer", what, r,
                          json_kind (item));
              return FALSE;
            }
          v = json_node_get_int (item);
          g_array_append_val (values, v);
        }
    }
  return TRUE;
}

/* An input's "range" or "shapes" (docs/graph-format.md). */
static gboolean
load_flex (Loader      *L,
           JsonObject  *obj,
           const char  *name,
           guint        rank,
           GError     **error)
{
  JsonNode *range = json_object_get_member (obj, "range");
  JsonNode *shapes = json_object_get_member (obj, "shapes");
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *what = NULL;

  if (range == NULL && shapes == NULL)
    return TRUE;
  if (range != NULL && shapes != NULL)
    {
      load_error (L, error, ANE_ERROR_PARSE, "input '%s' has both \"range\" and \"shapes\"", name);
      return FALSE;
    }
  if (range != NULL)
    {
      what = g_strdup_printf ("input '%s': \"range\"", name);
      if (!int_rows (L, range, what, 2, values, error))
        return FALSE;
      if (values->len != 2 * rank)
        {
          load_error (L, error, ANE_ERROR_PARSE, "%s needs one [lower, upper] per axis (%u)", what, rank);
          return FALSE;
        }
      for (guint i = 0; i < rank; i++)
        {
          gint64 lo = g_array_index (values, gint64, 2 * i), hi = g_array_index (values, gint64, 2 * i + 1);

          if ((lo != hi || lo < 1) && !ane_graph_set_input_range (L->graph, name, i, lo, hi, error))
            {
              g_prefix_error (error, "%s: ", L->what);
              return FALSE;
            }
        }
      return TRUE;
    }
  what = g_strdup_printf ("input '%s': \"shapes\"", name);
  if (!int_rows (L, shapes, what, rank, values, error))
    return FALSE;
  if (!ane_graph_set_input_shapes (L->graph, name, (const gint64 *) (void *) values->data, values->len, error))
    {
      g_prefix_error (error, "%s: ", L->what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
load_output (Loader    *L,
             guint      i,
             JsonNode  *json,
             GError   **error)
{
  static const char *const keys[] = { "name", "node", "index", NULL };
  g_autofree char *where = NULL;
  g_autoptr(AneTensor) value = NULL;
  JsonObject *obj;
  JsonNode *name, *node, *index;
  const AneNode *src;
  gint64 k;

  if (!JSON_NODE_HOLDS_OBJECT (json))
    {
      load_error (L, error, ANE_ERROR_PARSE, "output %u must be an object, not %s", i, json_kind (json));
      return FALSE;
    }
  obj = json_node_get_object (json);
  name = json_object_get_member (obj, "name");
  node = json_object_get_member (obj, "node");
  index = json_object_get_member (obj, "index");
  if (!json_is (name, G_TYPE_STRING) || !json_is (node, G_TYPE_STRING) ||
      (index != NULL && !json_is (index, G_TYPE_INT64)))
    {
      load_error (L, error, ANE_ERROR_PARSE,
                  "output %u must have a string \"name\", a string \"node\" and an integer \"index\"", i);
      return FALSE;
    }
  where = g_strdup_printf ("output '%s'", json_node_get_string (name));
  if (!check_keys (L, obj, keys, where, error))
    return FALSE;
  src = ane_graph_find_node (L->graph, json_node_get_string (node));
  if (src == NULL)
    {
      load_error (L, error, ANE_ERROR_PARSE, "%s refers to unknown node '%s'", where,
                  json_node_get_string (node));
      return FALSE;
    }
  k = index ? json_node_get_int (index) : 0;
  if (k < 0 || k >= src->n_outputs)
    {
      load_error (L, error, ANE_ERROR_PARSE,
                  "%s refers to output %" G_GINT64_FORMAT " of '%s', which has %u output%s",
                  where, k, src->name, src->n_outputs, src->n_outputs == 1 ? "" : "s");
      return FALSE;
    }
  value = ane_tensor_new_symbolic (ane_graph_get_uid (L->graph), src->id, (guint) k, src->name,
                                   &src->outputs[k]);
  if (!ane_graph_add_output (L->graph, json_node_get_string (name), value, error))
    {
      g_prefix_error (error, "%s: ", L->what);
      return FALSE;
    }
  return TRUE;
}

/* Whether the absolute, normalized path lies strictly under dir. */
static gboolean
path_is_inside (const char *path,
                const char *dir)
{
  gsize len = strlen (dir);

  if (!g_str_has_prefix (path, dir))
    return FALSE;
  if (len > 0 && dir[len - 1] == G_DIR_SEPARATOR)
    return path[len] != '\0';
  return path[len] == G_DIR_SEPARATOR && path[len + 1] != '\0';
}

/* The weights file a document in json_dir names. Without
 * ANE_GRAPH_LOAD_ALLOW_OUTSIDE_WEIGHTS it must stay in json_dir, since the
 * document may come from someone else and the loader would read whatever it
 * names (an absolute path or "../" reached /etc/passwd): relative, inside
 * json_dir once "." and ".." are resolved as text, and still inside once
 * symbolic links are resolved. The path returned is the textually resolved
 * one, the one checked, so a "link/.." cannot lead elsewhere when opened. */
static char *
resolve_weights (Loader             *L,
                 const char         *json_dir,
                 const char         *file,
                 AneGraphLoadFlags   flags,
                 GError            **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *resolved = NULL;
  g_autofree char *real_dir = NULL;
  g_autofree char *real_file = NULL;

  if (flags & ANE_GRAPH_LOAD_ALLOW_OUTSIDE_WEIGHTS)
    return g_path_is_absolute (file) ? g_strdup (file) : g_build_filename (json_dir, file, NULL);
  if (file[0] == '\0')
    {
      load_error (L, error, ANE_ERROR_PARSE, "\"weights\" is an empty file name");
      return NULL;
    }
  if (g_path_is_absolute (file))
    {
      load_error (L, error, ANE_ERROR_INVALID_ARGUMENT,
                  "the weights file '%s' is an absolute path; a graph's weights must be in the "
                  "graph's directory (ANE_GRAPH_LOAD_ALLOW_OUTSIDE_WEIGHTS allows others)", file);
      return NULL;
    }
  dir = g_canonicalize_filename (json_dir, NULL);
  resolved = g_canonicalize_filename (file, dir);
  if (!path_is_inside (resolved, dir))
    {
      load_error (L, error, ANE_ERROR_INVALID_ARGUMENT,
                  "the weights file '%s' leaves the graph's directory '%s' "
                  "(ANE_GRAPH_LOAD_ALLOW_OUTSIDE_WEIGHTS allows it)", file, dir);
      return NULL;
    }
  /* A missing file is left for the open to report. */
  real_dir = realpath (dir, NULL);
  real_file = realpath (resolved, NULL);
  if (real_dir != NULL && real_file != NULL && !path_is_inside (real_file, real_dir))
    {
      load_error (L, error, ANE_ERROR_INVALID_ARGUMENT,
                  "the weights file '%s' leads out of the graph's directory through a symbolic link "
                  "(to '%s'; ANE_GRAPH_LOAD_ALLOW_OUTSIDE_WEIGHTS allows it)", file, real_file);
      return NULL;
    }
  return g_steal_pointer (&resolved);
}

/* json_dir: for ane_graph_load(), the directory against which the document's
 * "weights" is resolved (under flags); otherwise weights_path (nullable) is
 * used as is. */
static AneGraph *
graph_from_json (const char         *text,
                 gsize               length,
                 const char         *what,
                 const char         *json_dir,
                 const char         *weights_path,
                 AneGraphLoadFlags   flags,
                 GError            **error)
{
  static const char *const top_keys[] = { "format", "version", "weights", "nodes", "outputs", NULL };
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GHashTable) positions = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(AneSafetensors) weights = NULL;
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *resolved = NULL;
  Loader L = { what, NULL, NULL, positions };
  JsonNode *root, *member;
  JsonObject *obj;
  JsonArray *nodes, *outputs;

  if (!g_utf8_validate_len (text, length, NULL))
    {
      load_error (&L, error, ANE_ERROR_PARSE, "the document is not valid UTF-8");
      return NULL;
    }
  /* json-glib recurses once per nesting level: bound it first */
  if (!ane_json_check_depth (text, length, 0, ANE_JSON_MAX_DEPTH, what, error))
    return NULL;
  if (!json_parser_load_from_data (parser, text, (gssize) length, &local))
    {
      load_error (&L, error, ANE_ERROR_PARSE, "malformed JSON: %s", local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      load_error (&L, error, ANE_ERROR_PARSE, "the document is %s, not a JSON object",
                  root ? json_kind (root) : "empty");
      return NULL;
    }
  obj = json_node_get_object (root);

  member = json_object_get_member (obj, "format");
  if (!json_is (member, G_TYPE_STRING) || !g_str_equal (json_node_get_string (member), GRAPH_FORMAT))
    {
      load_error (&L, error, ANE_ERROR_PARSE, "\"format\" must be \"%s\"%s%s%s", GRAPH_FORMAT,
                  json_is (member, G_TYPE_STRING) ? ", not \"" : "",
                  json_is (member, G_TYPE_STRING) ? json_node_get_string (member) : "",
                  json_is (member, G_TYPE_STRING) ? "\"" : "");
      return NULL;
    }
  member = json_object_get_member (obj, "version");
  if (!json_is (member, G_TYPE_INT64) || json_node_get_int (member) < 1)
    {
      load_error (&L, error, ANE_ERROR_PARSE, "\"version\" must be a positive integer, not %s",
                  json_kind (member));
      return NULL;
    }
  if (json_node_get_int (member) > GRAPH_VERSION)
    {
      load_error (&L, error, ANE_ERROR_UNSUPPORTED,
                  "format version %" G_GINT64_FORMAT " is newer than the supported version %d",
                  json_node_get_int (member), GRAPH_VERSION);
      return NULL;
    }
  if (!check_keys (&L, obj, top_keys, "the document", error))
    return NULL;

  member = json_object_get_member (obj, "weights");
  if (member != NULL && !JSON_NODE_HOLDS_NULL (member) && !json_is (member, G_TYPE_STRING))
    {
      load_error (&L, error, ANE_ERROR_PARSE, "\"weights\" must be a file name or null, not %s",
                  json_kind (member));
      return NULL;
    }
  if (json_dir != NULL && json_is (member, G_TYPE_STRING))
    {
      resolved = resolve_weights (&L, json_dir, json_node_get_string (member), flags, error);
      if (resolved == NULL)
        return NULL;
      weights_path = resolved;
    }

  member = json_object_get_member (obj, "nodes");
  if (member == NULL || !JSON_NODE_HOLDS_ARRAY (member))
    {
      load_error (&L, error, ANE_ERROR_PARSE, "\"nodes\" must be an array, not %s", json_kind (member));
      return NULL;
    }
  nodes = json_node_get_array (member);
  member = json_object_get_member (obj, "outputs");
  if (member == NULL || !JSON_NODE_HOLDS_ARRAY (member))
    {
      load_error (&L, error, ANE_ERROR_PARSE, "\"outputs\" must be an array, not %s", json_kind (member));
      return NULL;
    }
  outputs = json_node_get_array (member);

  /* First pass: every node names itself and its op, names are unique (so a
   * reference to a later node can be told from a reference to no node). */
  for (guint i = 0; i < json_array_get_length (nodes); i++)
    {
      JsonNode *node = json_array_get_element (nodes, i);
      JsonObject *n;
      const char *name;
      guint seen;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          load_error (&L, error, ANE_ERROR_PARSE, "node %u must be an object, not %s", i, json_kind (node));
          return NULL;
        }
      n = json_node_get_object (node);
      if (!json_is (json_object_get_member (n, "name"), G_TYPE_STRING) ||
          !json_is (json_object_get_member (n, "op"), G_TYPE_STRING))
        {
          load_error (&L, error, ANE_ERROR_PARSE, "node %u must have a string \"name\" and \"op\"", i);
          return NULL;
        }
      name = json_object_get_string_member (n, "name");
      seen = GPOINTER_TO_UINT (g_hash_table_lookup (positions, name));
      if (seen != 0)
        {
          load_error (&L, error, ANE_ERROR_PARSE, "node %u: the name '%s' is already used by node %u",
                      i, name, seen - 1);
          return NULL;
        }
      g_hash_table_insert (positions, (gpointer) name, GUINT_TO_POINTER (i + 1));
    }

  if (weights_path != NULL)
    {
      weights = ane_safetensors_open (weights_path, error);
      if (weights == NULL)
        {
          g_prefix_error (error, "%s: ", what);
          return NULL;
        }
    }

  graph = ane_graph_new ();
  L.graph = graph;
  L.weights = weights;
  for (guint i = 0; i < json_array_get_length (nodes); i++)
    if (!load_node (&L, i, json_array_get_element (nodes, i), error))
      return NULL;
  for (guint i = 0; i < json_array_get_length (outputs); i++)
    if (!load_output (&L, i, json_array_get_element (outputs, i), error))
      return NULL;
  return g_steal_pointer (&graph);
}

/**
 * ane_graph_new_from_json:
 * @json: a JSON document in the `ane-glib-graph` format
 * @weights_path: (type filename) (nullable): the safetensors file holding
 *   the graph's const and param data, or %NULL for none (params then stay
 *   unbound, and a const fails to load). The document's own "weights" entry is
 *   not used.
 * @error: return location for a #GError
 *
 * Rebuilds a graph from the JSON made by [method@Ane.Graph.to_json]. The
 * nodes are replayed through the graph builders in document order, so every
 * attribute check and shape rule runs again; the weights are zero-copy views
 * of the mapped safetensors file.
 *
 * Errors: %ANE_ERROR_PARSE for a malformed document (bad JSON, wrong
 * "format", unknown op or attribute, attribute of the wrong type, a reference
 * to an unknown, later or missing node output, a malformed safetensors file),
 * %ANE_ERROR_UNSUPPORTED for a newer format version, %ANE_ERROR_IO when the
 * weights file cannot be opened, %ANE_ERROR_NOT_FOUND for a const without
 * data; a shape rule that fails keeps its own code. The message names the
 * file and the node or tensor.
 *
 * Returns: (transfer full): the graph, or %NULL on error
 */
AneGraph *
ane_graph_new_from_json (const char  *json,
                         const char  *weights_path,
                         GError     **error)
{
  g_return_val_if_fail (json != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return graph_from_json (json, strlen (json), "graph JSON", NULL, weights_path, ANE_GRAPH_LOAD_NONE, error);
}

/**
 * ane_graph_load:
 * @json_path: (type filename): a JSON file written by [method@Ane.Graph.save]
 * @error: return location for a #GError
 *
 * Loads a saved graph: the JSON document, and the safetensors weights file it
 * names (resolved relative to the JSON file's directory). See
 * [ctor@Ane.Graph.new_from_json] for the checks made and the errors raised;
 * messages name @json_path or the weights file.
 *
 * This is [func@Ane.Graph.load_full] with %ANE_GRAPH_LOAD_NONE: the weights
 * file must be a regular file inside the JSON file's directory.
 *
 * The weights are mapped, not read: the loaded consts and params view the
 * file's pages. Replace a weights file by renaming a new one over it (as
 * [method@Ane.Graph.save] does), never by rewriting it in place, while a
 * graph loaded from it is alive.
 *
 * Returns: (transfer full): the graph, or %NULL on error
 */
AneGraph *
ane_graph_load (const char  *json_path,
                GError     **error)
{
  return ane_graph_load_full (json_path, ANE_GRAPH_LOAD_NONE, error);
}

/**
 * ane_graph_load_full:
 * @json_path: (type filename): a JSON file written by [method@Ane.Graph.save]
 * @flags: how far the weights file the document names may be
 * @error: return location for a #GError
 *
 * Loads a saved graph as [func@Ane.Graph.load] does, with @flags deciding
 * where the document's weights file may be. A graph document is often
 * received from someone else, and its "weights" entry names a file the
 * loader then reads: by default (%ANE_GRAPH_LOAD_NONE) it must be a
 * relative path that stays inside the JSON file's directory, also once
 * `..` and symbolic links are resolved, or this fails with
 * %ANE_ERROR_INVALID_ARGUMENT naming it. %ANE_GRAPH_LOAD_ALLOW_OUTSIDE_WEIGHTS
 * lifts that rule for documents you trust (weights kept elsewhere, files
 * linked in from a content store).
 *
 * With any flags, the JSON file and the weights file must be regular files:
 * a FIFO, a device or a directory fails with %ANE_ERROR_IO naming it,
 * without blocking.
 *
 * Returns: (transfer full): the graph, or %NULL on error
 */
AneGraph *
ane_graph_load_full (const char         *json_path,
                     AneGraphLoadFlags   flags,
                     GError            **error)
{
  g_autofree char *text = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(GError) local = NULL;
  gsize length;

  g_return_val_if_fail (json_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ane_file_get_contents (json_path, &text, &length, &local))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "cannot read graph: %s", local->message);
      return NULL;
    }
  dir = g_path_get_dirname (json_path);
  return graph_from_json (text, length, json_path, dir, NULL, flags, error);
}
