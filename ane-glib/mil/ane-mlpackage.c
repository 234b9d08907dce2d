/* ane-mlpackage.c: .mlpackage bundles -- Manifest.json, model.mlmodel and
 * MIL Blob Storage v2 weight files -- read with checks, written atomically
 *
 * A package is a directory:
 *
 *   model.mlpackage/
 *     Manifest.json                 items keyed by UUID + rootModelIdentifier
 *     Data/com.apple.CoreML/
 *       model.mlmodel               CoreML.Specification.Model (protobuf)
 *       weights/weight.bin          MIL Blob Storage v2
 *
 * The layout rules come from coremltools' modelpackage/src/ModelPackage.cpp
 * and the blob format from mlmodel/src/MILBlob/Blob/ (StorageFormat.hpp,
 * StorageReader.cpp, StorageWriter.cpp).
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE 1   /* renameat2() */
#include "config.h"

#include "ane-tsan-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gio/gio.h>

#include "ane-file-private.h"
#include "ane-json-private.h"
#include "ane-progress-private.h"
#include "mil/ane-mil-dtype-private.h"
#include "mil/ane-mlpackage-private.h"
#include "mil/ane-mil-validate-private.h"

#define MANIFEST_FILE   "Manifest.json"
#define DATA_DIR        "Data"
#define MODEL_PATH_VAR  "@model_path"

/* ModelPackage.cpp accepts file format versions up to this one. */
#define MANIFEST_MAJOR  1
#define MANIFEST_MINOR  0
#define MANIFEST_PATCH  0

/* ML programs (MILSpec.Program) arrived with specification version 6 (iOS15). */
#define MIN_SPEC_VERSION_ML_PROGRAM 6

typedef struct {
  char             *path;    /* resolved: <model dir>/<rel> */
  char             *rel;     /* relative to the model's directory ("@model_path") */
  GBytes           *bytes;   /* the whole file, mapped */
  AneMilBlobReader *reader;
} WeightFile;

struct _AneMLPackage
{
  char             *path;
  char             *manifest_path;
  JsonNode         *manifest;
  char             *file_format_version;
  GPtrArray        *items;            /* AneMLPackageItem* */
  AneMLPackageItem *root;             /* borrowed from items */
  char             *model_path;
  char             *model_dir;
  char             *weights_dir;
  AneCoreMLModel   *model;
  GMutex            lock;             /* weight_files: dup_blob() may map a new file */
  GHashTable       *weight_files;     /* BlobFileValue fileName -> WeightFile* */
  GHashTable       *blobs_seen;       /* "path\noffset" set, for weight_bytes */
  guint64           weight_bytes;
};

/* The size a blob of @n_elements takes: sub-byte types are packed and
 * rounded up to a whole byte, the record's padding_size_in_bits saying how
 * many bits of the last byte are unused (StorageWriter.cpp). */
static gboolean
blob_data_size (guint    bits,
                guint64  n_elements,
                guint64 *size,
                guint64 *padding_bits)
{
  if (bits == 0 || n_elements > G_MAXUINT64 / bits)
    return FALSE;
  *size = (n_elements * bits + 7) / 8;
  *padding_bits = *size * 8 - n_elements * bits;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* small file-system helpers                                              */
/* ---------------------------------------------------------------------- */

/* Item paths and blob file names come from the package: keep them inside it. */
static gboolean
relative_path_is_safe (const char *path)
{
  g_auto(GStrv) parts = NULL;

  if (path == NULL || *path == '\0' || g_path_is_absolute (path) || strchr (path, '\\'))
    return FALSE;
  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i]; i++)
    if (strcmp (parts[i], "..") == 0)
      return FALSE;
  return TRUE;
}

static void
set_error_from_errno (GError    **error,
                      int         saved_errno,
                      const char *what,
                      const char *path)
{
  g_set_error (error, ANE_ERROR,
               saved_errno == ENOENT ? ANE_ERROR_NOT_FOUND : ANE_ERROR_IO,
               "%s '%s': %s", what, path, g_strerror (saved_errno));
}

/* Copies a file or a directory tree; symbolic links are copied as links. */
static gboolean
copy_tree (const char *src,
           const char *dst,
           GError    **error)
{
  GStatBuf st;

  if (g_lstat (src, &st) != 0)
    {
      set_error_from_errno (error, errno, "cannot read", src);
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = NULL;
      g_autoptr(GError) local_error = NULL;
      const char *name;

      if (g_mkdir (dst, 0755) != 0)
        {
          set_error_from_errno (error, errno, "cannot create directory", dst);
          return FALSE;
        }
      dir = g_dir_open (src, 0, &local_error);
      if (dir == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s", local_error->message);
          return FALSE;
        }
      while ((name = g_dir_read_name (dir)))
        {
          g_autofree char *s = g_build_filename (src, name, NULL);
          g_autofree char *d = g_build_filename (dst, name, NULL);

          if (!copy_tree (s, d, error))
            return FALSE;
        }
      return TRUE;
    }
  else
    {
      g_autoptr(GFile) s = g_file_new_for_path (src);
      g_autoptr(GFile) d = g_file_new_for_path (dst);
      g_autoptr(GError) local_error = NULL;

      if (!g_file_copy (s, d, G_FILE_COPY_NOFOLLOW_SYMLINKS, NULL, NULL, NULL, &local_error))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "cannot copy '%s' to '%s': %s",
                       src, dst, local_error->message);
          return FALSE;
        }
      return TRUE;
    }
}

static gboolean
make_parent_dirs (const char *path,
                  GError    **error)
{
  g_autofree char *parent = g_path_get_dirname (path);

  if (g_mkdir_with_parents (parent, 0755) != 0)
    {
      set_error_from_errno (error, errno, "cannot create directory", parent);
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Manifest.json                                                          */
/* ---------------------------------------------------------------------- */

static void
item_free (gpointer data)
{
  AneMLPackageItem *item = data;

  g_free (item->identifier);
  g_free (item->author);
  g_free (item->description);
  g_free (item->name);
  g_free (item->path);
  g_free (item);
}

static const char *
manifest_string (JsonObject  *object,
                 const char  *key,
                 const char  *key_path,
                 const char  *file,
                 GError     **error)
{
  JsonNode *node = json_object_get_member (object, key);

  if (node == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: missing key '%s'", file, key_path);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: key '%s' is not a string", file, key_path);
      return NULL;
    }
  return json_node_get_string (node);
}

static gboolean
parse_version (const char *version,
               guint64     parts[3])
{
  g_auto(GStrv) tokens = g_strsplit (version, ".", -1);

  if (g_strv_length (tokens) != 3)
    return FALSE;
  for (guint i = 0; i < 3; i++)
    if (!g_ascii_string_to_unsigned (tokens[i], 10, 0, G_MAXINT, &parts[i], NULL))
      return FALSE;
  return TRUE;
}

/* Validates a manifest tree: fileFormatVersion "M.m.p" no newer than 1.0.0,
 * itemInfoEntries of {author, description, name, path} strings with safe
 * relative paths, rootModelIdentifier naming one of them. */
static gboolean
manifest_validate (JsonNode          *root_node,
                   const char        *file,
                   char             **version_out,
                   GPtrArray        **items_out,
                   AneMLPackageItem **root_out,
                   GError           **error)
{
  static const char *const fields[] = { "author", "description", "name", "path" };
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (item_free);
  g_autoptr(GList) ids = NULL;
  JsonObject *root, *entries;
  JsonNode *entries_node;
  const char *version, *root_id;
  guint64 v[3];

  if (root_node == NULL || !JSON_NODE_HOLDS_OBJECT (root_node))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: the manifest is not a JSON object", file);
      return FALSE;
    }
  root = json_node_get_object (root_node);

  version = manifest_string (root, "fileFormatVersion", "fileFormatVersion", file, error);
  if (version == NULL)
    return FALSE;
  if (!parse_version (version, v))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: key 'fileFormatVersion': '%s' is not of the form "
                   "major.minor.patch", file, version);
      return FALSE;
    }
  if (v[0] > MANIFEST_MAJOR ||
      (v[0] == MANIFEST_MAJOR && v[1] > MANIFEST_MINOR) ||
      (v[0] == MANIFEST_MAJOR && v[1] == MANIFEST_MINOR && v[2] > MANIFEST_PATCH))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: key 'fileFormatVersion': version %s is newer than %d.%d.%d",
                   file, version, MANIFEST_MAJOR, MANIFEST_MINOR, MANIFEST_PATCH);
      return FALSE;
    }

  entries_node = json_object_get_member (root, "itemInfoEntries");
  if (entries_node == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: missing key 'itemInfoEntries'", file);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (entries_node))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: key 'itemInfoEntries' is not an object", file);
      return FALSE;
    }
  entries = json_node_get_object (entries_node);
  ids = json_object_get_members (entries);
  for (GList *l = ids; l; l = l->next)
    {
      const char *id = l->data;
      JsonNode *entry_node = json_object_get_member (entries, id);
      g_autofree char *entry_path = g_strdup_printf ("itemInfoEntries.%s", id);
      AneMLPackageItem *item;
      const char *values[G_N_ELEMENTS (fields)];

      if (!JSON_NODE_HOLDS_OBJECT (entry_node))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: key '%s' is not an object", file, entry_path);
          return FALSE;
        }
      for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
        {
          g_autofree char *key_path = g_strdup_printf ("%s.%s", entry_path, fields[i]);

          values[i] = manifest_string (json_node_get_object (entry_node), fields[i],
                                       key_path, file, error);
          if (values[i] == NULL)
            return FALSE;
        }
      if (!relative_path_is_safe (values[3]))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: key '%s.path': '%s' is not a relative path inside the package",
                       file, entry_path, values[3]);
          return FALSE;
        }
      item = g_new0 (AneMLPackageItem, 1);
      item->identifier = g_strdup (id);
      item->author = g_strdup (values[0]);
      item->description = g_strdup (values[1]);
      item->name = g_strdup (values[2]);
      item->path = g_strdup (values[3]);
      g_ptr_array_add (items, item);
    }

  root_id = manifest_string (root, "rootModelIdentifier", "rootModelIdentifier", file, error);
  if (root_id == NULL)
    return FALSE;
  for (guint i = 0; i < items->len; i++)
    {
      AneMLPackageItem *item = g_ptr_array_index (items, i);

      if (strcmp (item->identifier, root_id) == 0)
        {
          if (root_out)
            *root_out = item;
          if (version_out)
            *version_out = g_strdup (version);
          if (items_out)
            *items_out = g_steal_pointer (&items);
          return TRUE;
        }
    }
  g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
               "%s: key 'rootModelIdentifier': '%s' is not in itemInfoEntries",
               file, root_id);
  return FALSE;
}

/* JSON string escaping as Apple's JSON writer does it: quotes, backslashes
 * and control characters; '/' and UTF-8 pass through. */
static void
print_json_string (GString    *out,
                   const char *s)
{
  g_string_append_c (out, '"');
  for (const char *p = s; *p; p++)
    {
      guchar c = (guchar) *p;

      switch (c)
        {
        case '"':  g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (c < 0x20)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

static void
print_indent (GString *out,
              guint    depth)
{
  for (guint i = 0; i < depth; i++)
    g_string_append (out, "    ");
}

static int
compare_keys (gconstpointer a,
              gconstpointer b)
{
  return strcmp (a, b);
}

static void
print_json_node (GString  *out,
                 JsonNode *node,
                 guint     depth)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *object = json_node_get_object (node);
        g_autoptr(GList) keys = g_list_sort (json_object_get_members (object), compare_keys);

        if (keys == NULL)
          {
            g_string_append (out, "{}");
            break;
          }
        g_string_append (out, "{\n");
        for (GList *l = keys; l; l = l->next)
          {
            print_indent (out, depth + 1);
            print_json_string (out, l->data);
            g_string_append (out, ": ");
            print_json_node (out, json_object_get_member (object, l->data), depth + 1);
            g_string_append (out, l->next ? ",\n" : "\n");
          }
        print_indent (out, depth);
        g_string_append_c (out, '}');
      }
      break;
    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);
        guint n = json_array_get_length (array);

        if (n == 0)
          {
            g_string_append (out, "[]");
            break;
          }
        g_string_append (out, "[\n");
        for (guint i = 0; i < n; i++)
          {
            print_indent (out, depth + 1);
            print_json_node (out, json_array_get_element (array, i), depth + 1);
            g_string_append (out, i + 1 < n ? ",\n" : "\n");
          }
        print_indent (out, depth);
        g_string_append_c (out, ']');
      }
      break;
    case JSON_NODE_NULL:
      g_string_append (out, "null");
      break;
    case JSON_NODE_VALUE:
      {
        GType type = json_node_get_value_type (node);

        if (type == G_TYPE_STRING)
          print_json_string (out, json_node_get_string (node));
        else if (type == G_TYPE_BOOLEAN)
          g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
        else if (type == G_TYPE_INT64)
          g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
        else
          {
            char buf[G_ASCII_DTOSTR_BUF_SIZE];
            g_string_append (out, g_ascii_dtostr (buf, sizeof buf, json_node_get_double (node)));
          }
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

char *
ane_mlpackage_manifest_to_string (JsonNode *manifest)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (manifest != NULL, NULL);
  print_json_node (out, manifest, 0);
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

JsonNode *
ane_mlpackage_manifest_new_default (void)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *model_id = g_uuid_string_random ();
  g_autofree char *weights_id = g_uuid_string_random ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "fileFormatVersion");
  json_builder_add_string_value (builder, "1.0.0");
  json_builder_set_member_name (builder, "itemInfoEntries");
  json_builder_begin_object (builder);

  json_builder_set_member_name (builder, model_id);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "author");
  json_builder_add_string_value (builder, "com.apple.CoreML");
  json_builder_set_member_name (builder, "description");
  json_builder_add_string_value (builder, "CoreML Model Specification");
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, "model.mlmodel");
  json_builder_set_member_name (builder, "path");
  json_builder_add_string_value (builder, "com.apple.CoreML/model.mlmodel");
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, weights_id);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "author");
  json_builder_add_string_value (builder, "com.apple.CoreML");
  json_builder_set_member_name (builder, "description");
  json_builder_add_string_value (builder, "CoreML Model Weights");
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, "weights");
  json_builder_set_member_name (builder, "path");
  json_builder_add_string_value (builder, "com.apple.CoreML/weights");
  json_builder_end_object (builder);

  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "rootModelIdentifier");
  json_builder_add_string_value (builder, model_id);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* ---------------------------------------------------------------------- */
/* weight files and blob references                                       */
/* ---------------------------------------------------------------------- */

static void
weight_file_free (gpointer data)
{
  WeightFile *wf = data;

  g_free (wf->path);
  g_free (wf->rel);
  g_clear_pointer (&wf->reader, ane_milblob_reader_free);
  g_clear_pointer (&wf->bytes, g_bytes_unref);
  g_free (wf);
}

static WeightFile *
get_weight_file_locked (AneMLPackage *self,
                        const char   *file_name,
                        GError      **error)
{
  WeightFile *wf = g_hash_table_lookup (self->weight_files, file_name);
  g_autoptr(GBytes) mapped = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *path = NULL;
  const char *rel;

  if (wf != NULL)
    return wf;

  /* "@model_path" is the directory holding model.mlmodel; nothing else is
   * defined, and the rest must stay inside the package. */
  if (!g_str_has_prefix (file_name, MODEL_PATH_VAR "/") ||
      !relative_path_is_safe (file_name + strlen (MODEL_PATH_VAR "/")))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "blob file name '%s' is not of the form '" MODEL_PATH_VAR "/<path>' "
                   "inside the package", file_name);
      return NULL;
    }
  rel = file_name + strlen (MODEL_PATH_VAR "/");
  path = g_build_filename (self->model_dir, rel, NULL);

  /* Regular files only: mapping a FIFO planted as weight.bin would block. */
  mapped = ane_file_map_bytes (path, &local_error);
  if (mapped == NULL)
    {
      g_set_error (error, ANE_ERROR, local_error->code,
                   "blob file '%s': %s", file_name, local_error->message);
      return NULL;
    }

  wf = g_new0 (WeightFile, 1);
  wf->path = g_steal_pointer (&path);
  wf->rel = g_strdup (rel);
  wf->bytes = g_steal_pointer (&mapped);
  wf->reader = ane_milblob_reader_new_from_bytes (wf->bytes, wf->path, error);
  if (wf->reader == NULL)
    {
      weight_file_free (wf);
      return NULL;
    }
  g_hash_table_insert (self->weight_files, g_strdup (file_name), wf);
  return wf;
}

/* WeightFiles are never removed before the package is freed, so the
 * pointer stays valid after the lock is dropped. */
static WeightFile *
get_weight_file (AneMLPackage *self,
                 const char   *file_name,
                 GError      **error)
{
  WeightFile *wf;

  ane_mutex_lock (&self->lock);
  wf = get_weight_file_locked (self, file_name, error);
  ane_mutex_unlock (&self->lock);
  return wf;
}

GBytes *
ane_mlpackage_get_weight_file (AneMLPackage *self,
                               const char   *file_name,
                               GError      **error)
{
  WeightFile *wf;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (file_name != NULL, NULL);

  wf = get_weight_file (self, file_name, error);
  return wf ? g_bytes_ref (wf->bytes) : NULL;
}

static gboolean
read_blob (AneMLPackage     *self,
           const char       *file_name,
           guint64           offset,
           WeightFile      **wf_out,
           AneMilBlobRecord *record,
           GError          **error)
{
  WeightFile *wf = get_weight_file (self, file_name, error);

  if (wf == NULL)
    return FALSE;
  if (!ane_milblob_reader_record (wf->reader, offset, record, error))
    return FALSE;
  *wf_out = wf;
  return TRUE;
}

GBytes *
ane_mlpackage_dup_blob (AneMLPackage     *self,
                        const char       *file_name,
                        guint64           offset,
                        AneMilBlobRecord *record,
                        GError          **error)
{
  AneMilBlobRecord rec;
  WeightFile *wf;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (file_name != NULL, NULL);

  if (!read_blob (self, file_name, offset, &wf, &rec, error))
    return NULL;
  if (record)
    *record = rec;
  return g_bytes_new_from_bytes (wf->bytes, rec.data_offset, rec.size);
}

/* Checks a BlobFileValue against the tensor type of its Value: the record's
 * data type and size must be those of the type. */
static gboolean
check_value_blob (AneMLPackage      *self,
                  const AneMilValue *value,
                  WeightFile       **wf_out,
                  AneMilBlobRecord  *record,
                  GError           **error)
{
  const AneMilBlobFileValue *bfv = value->blobfilevalue;
  const AneMilTensorType *tensor;
  AneMilBlobDataType blob_dtype;
  guint64 n_elements, size, padding;
  guint bits;
  WeightFile *wf;

  if (bfv == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "empty blob file value");
      return FALSE;
    }
  if (value->type == NULL ||
      value->type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE ||
      value->type->tensortype == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "blob file value at offset %" G_GUINT64_FORMAT " of '%s' has no tensor type",
                   bfv->offset, bfv->filename);
      return FALSE;
    }
  tensor = value->type->tensortype;
  if (!ane_mil_tensor_type_n_elements (tensor, &n_elements, error))
    return FALSE;
  if (!ane_mil_dtype_blob_info (tensor->datatype, &blob_dtype, &bits))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                   "'%s' offset %" G_GUINT64_FORMAT ": a %s tensor cannot be stored as a blob",
                   bfv->filename, bfv->offset, ane_mil_dtype_to_string (tensor->datatype));
      return FALSE;
    }
  if (!read_blob (self, bfv->filename, bfv->offset, &wf, record, error))
    return FALSE;
  if (record->data_type != blob_dtype)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                   "%s: blob record at offset %" G_GUINT64_FORMAT ": data type %s (%u) "
                   "does not match the value's type %s (blob type %u)", wf->path, bfv->offset,
                   ane_milblob_data_type_name (record->data_type), (guint) record->data_type,
                   ane_mil_dtype_to_string (tensor->datatype), (guint) blob_dtype);
      return FALSE;
    }
  if (!blob_data_size (bits, n_elements, &size, &padding))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW,
                   "%s: offset %" G_GUINT64_FORMAT ": blob size overflows",
                   wf->path, bfv->offset);
      return FALSE;
    }
  if (record->size != size)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: blob record at offset %" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT
                   " bytes of data, but %" G_GUINT64_FORMAT " %s elements take %" G_GUINT64_FORMAT,
                   wf->path, bfv->offset, record->size, n_elements,
                   ane_mil_dtype_to_string (tensor->datatype), size);
      return FALSE;
    }
  /* Only sub-byte records carry padding_size_in_bits (the reader zeroes it
   * for the others: the field was reserved before iOS18). */
  if (bits < 8 && record->padding_bits != padding)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: blob record at offset %" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT
                   " padding bits, expected %" G_GUINT64_FORMAT, wf->path, bfv->offset,
                   record->padding_bits, padding);
      return FALSE;
    }
  *wf_out = wf;
  return TRUE;
}

GBytes *
ane_mlpackage_dup_value_blob (AneMLPackage      *self,
                              const AneMilValue *value,
                              GError           **error)
{
  AneMilBlobRecord record;
  WeightFile *wf;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (value != NULL, NULL);

  if (value->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "the value is not a blob file value");
      return NULL;
    }
  if (!check_value_blob (self, value, &wf, &record, error))
    return NULL;
  return g_bytes_new_from_bytes (wf->bytes, record.data_offset, record.size);
}

/* Walks every value of the program and checks each blob reference;
 * errors name where the value is. */
typedef struct {
  AneMLPackage *self;
  const char   *function;
  const char   *scope;      /* "program" / "function" / "block" / op name */
  const char   *op_type;    /* NULL outside ops */
  const char   *kind;       /* "input" / "attribute" */
  const char   *param;
} WalkCtx;

static gboolean walk_value (WalkCtx *ctx, const AneMilValue *value, GError **error);
static gboolean walk_block (WalkCtx *ctx, const AneMilBlock *block, GError **error);

static void
prefix_where (WalkCtx *ctx,
              GError **error)
{
  if (ctx->op_type)
    g_prefix_error (error, "%s: function '%s', op '%s' (%s), %s '%s': ",
                    ctx->self->model_path, ctx->function, ctx->scope, ctx->op_type,
                    ctx->kind, ctx->param);
  else if (ctx->function)
    g_prefix_error (error, "%s: function '%s', %s %s '%s': ",
                    ctx->self->model_path, ctx->function, ctx->scope, ctx->kind, ctx->param);
  else
    g_prefix_error (error, "%s: %s %s '%s': ",
                    ctx->self->model_path, ctx->scope, ctx->kind, ctx->param);
}

static gboolean
walk_value (WalkCtx           *ctx,
            const AneMilValue *value,
            GError           **error)
{
  const CoreML__Specification__MILSpec__Value__ImmediateValue *imm;

  if (value == NULL)
    return TRUE;
  if (value->value_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE)
    {
      AneMilBlobRecord record;
      WeightFile *wf;
      char *key;

      if (!check_value_blob (ctx->self, value, &wf, &record, error))
        {
          prefix_where (ctx, error);
          return FALSE;
        }
      key = g_strdup_printf ("%s\n%" G_GUINT64_FORMAT, wf->path, record.offset);
      if (g_hash_table_add (ctx->self->blobs_seen, key))
        ctx->self->weight_bytes += record.size;
      return TRUE;
    }
  if (value->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE ||
      (imm = value->immediatevalue) == NULL)
    return TRUE;

  switch (imm->value_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TUPLE:
      for (gsize i = 0; imm->tuple && i < imm->tuple->n_values; i++)
        if (!walk_value (ctx, imm->tuple->values[i], error))
          return FALSE;
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_LIST:
      for (gsize i = 0; imm->list && i < imm->list->n_values; i++)
        if (!walk_value (ctx, imm->list->values[i], error))
          return FALSE;
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_DICTIONARY:
      for (gsize i = 0; imm->dictionary && i < imm->dictionary->n_values; i++)
        {
          const CoreML__Specification__MILSpec__DictionaryValue__KeyValuePair *kv =
            imm->dictionary->values[i];

          if (kv && (!walk_value (ctx, kv->key, error) || !walk_value (ctx, kv->value, error)))
            return FALSE;
        }
      break;
    default:
      break;
    }
  return TRUE;
}

static gboolean
walk_operation (WalkCtx               *ctx,
                const AneMilOperation *op,
                guint                  index,
                GError               **error)
{
  g_autofree char *anon = NULL;
  WalkCtx op_ctx = *ctx;

  if (op->n_outputs > 0 && op->outputs[0] && op->outputs[0]->name[0])
    op_ctx.scope = op->outputs[0]->name;
  else
    op_ctx.scope = anon = g_strdup_printf ("#%u", index);
  op_ctx.op_type = op->type;

  op_ctx.kind = "input";
  for (gsize i = 0; i < op->n_inputs; i++)
    {
      const AneMilArgument *arg = op->inputs[i]->value;

      op_ctx.param = op->inputs[i]->key;
      for (gsize j = 0; arg && j < arg->n_arguments; j++)
        {
          const AneMilBinding *b = arg->arguments[j];

          if (b && b->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_VALUE &&
              !walk_value (&op_ctx, b->value, error))
            return FALSE;
        }
    }
  op_ctx.kind = "attribute";
  for (gsize i = 0; i < op->n_attributes; i++)
    {
      op_ctx.param = op->attributes[i]->key;
      if (!walk_value (&op_ctx, op->attributes[i]->value, error))
        return FALSE;
    }
  for (gsize i = 0; i < op->n_blocks; i++)
    if (op->blocks[i] && !walk_block (ctx, op->blocks[i], error))
      return FALSE;
  return TRUE;
}

static gboolean
walk_block (WalkCtx           *ctx,
            const AneMilBlock *block,
            GError           **error)
{
  WalkCtx block_ctx = *ctx;

  block_ctx.scope = "block";
  block_ctx.kind = "attribute";
  for (gsize i = 0; i < block->n_attributes; i++)
    {
      block_ctx.param = block->attributes[i]->key;
      if (!walk_value (&block_ctx, block->attributes[i]->value, error))
        return FALSE;
    }
  for (gsize i = 0; i < block->n_operations; i++)
    if (block->operations[i] && !walk_operation (ctx, block->operations[i], (guint) i, error))
      return FALSE;
  return TRUE;
}

static gboolean
check_program (AneMLPackage *self,
               GError      **error)
{
  const AneMilProgram *program = self->model->mlprogram;
  WalkCtx ctx = { self, NULL, "program", NULL, "attribute", NULL };

  if (program->n_functions == 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: the ML program has no functions", self->model_path);
      return FALSE;
    }
  for (gsize i = 0; i < program->n_attributes; i++)
    {
      ctx.param = program->attributes[i]->key;
      if (!walk_value (&ctx, program->attributes[i]->value, error))
        return FALSE;
    }
  for (gsize i = 0; i < program->n_functions; i++)
    {
      const char *fname = program->functions[i]->key;
      const AneMilFunction *fn = program->functions[i]->value;
      gboolean has_opset = FALSE;

      if (fn == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: function '%s' is empty", self->model_path, fname);
          return FALSE;
        }
      ctx.function = fname;
      ctx.scope = "function";
      ctx.kind = "attribute";
      for (gsize j = 0; j < fn->n_attributes; j++)
        {
          ctx.param = fn->attributes[j]->key;
          if (!walk_value (&ctx, fn->attributes[j]->value, error))
            return FALSE;
        }
      for (gsize j = 0; j < fn->n_block_specializations; j++)
        {
          const AneMilBlock *block = fn->block_specializations[j]->value;

          if (g_strcmp0 (fn->block_specializations[j]->key, fn->opset) == 0 && block)
            has_opset = TRUE;
          if (block && !walk_block (&ctx, block, error))
            return FALSE;
        }
      if (!has_opset)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: function '%s': opset '%s' has no block specialization",
                       self->model_path, fname, fn->opset);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
program_has_function (const AneMilProgram *program,
                      const char          *name)
{
  for (gsize i = 0; i < program->n_functions; i++)
    if (strcmp (program->functions[i]->key, name) == 0)
      return TRUE;
  return FALSE;
}

/* The description's functions must be functions of the program. */
static gboolean
check_description (AneMLPackage *self,
                   GError      **error)
{
  const AneCoreMLModelDescription *desc = self->model->description;
  const AneMilProgram *program = self->model->mlprogram;
  gboolean found_default = FALSE;

  if (desc == NULL || desc->n_functions == 0)
    return TRUE;
  for (gsize i = 0; i < desc->n_functions; i++)
    {
      const char *name = desc->functions[i]->name;

      if (!program_has_function (program, name))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: description.functions names '%s', which the program does not have",
                       self->model_path, name);
          return FALSE;
        }
      if (strcmp (name, desc->defaultfunctionname) == 0)
        found_default = TRUE;
    }
  if (!found_default)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: description.defaultFunctionName '%s' is not one of description.functions",
                   self->model_path, desc->defaultfunctionname);
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* opening                                                                */
/* ---------------------------------------------------------------------- */

static gboolean
load_manifest (AneMLPackage *self,
               GError      **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  if (!ane_file_get_contents (self->manifest_path, &contents, &length, error))
    return FALSE;
  if (!ane_json_check_depth (contents, length, 0, ANE_JSON_MAX_DEPTH, self->manifest_path, error))
    return FALSE;
  if (!json_parser_load_from_data (parser, contents, (gssize) length, &local_error))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: invalid JSON: %s", self->manifest_path, local_error->message);
      return FALSE;
    }
  self->manifest = json_parser_steal_root (parser);
  if (!manifest_validate (self->manifest, self->manifest_path, &self->file_format_version,
                          &self->items, &self->root, error))
    return FALSE;

  /* As ModelPackage.cpp does: every item must exist under Data/. */
  for (guint i = 0; i < self->items->len; i++)
    {
      AneMLPackageItem *item = g_ptr_array_index (self->items, i);
      g_autofree char *p = g_build_filename (self->path, DATA_DIR, item->path, NULL);

      if (!g_file_test (p, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                       "%s: item '%s' (%s): '%s' does not exist", self->manifest_path,
                       item->identifier, item->name, p);
          return FALSE;
        }
      if (self->weights_dir == NULL && strcmp (item->name, "weights") == 0 &&
          g_file_test (p, G_FILE_TEST_IS_DIR))
        self->weights_dir = g_steal_pointer (&p);
    }
  return TRUE;
}

/* What the package API reads of the description: each feature has a name
 * and a type, and array shapes are sizes. */
static gboolean
check_features (AneMLPackage                             *self,
                const char                               *where,
                AneCoreMLFeatureDescription *const       *features,
                gsize                                     n,
                GError                                  **error)
{
  for (gsize i = 0; i < n; i++)
    {
      const AneCoreMLFeatureDescription *f = features[i];
      const AneCoreMLArrayFeatureType *array = NULL;

      if (f->name == NULL || f->name[0] == '\0' || f->type == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: %s: feature %" G_GSIZE_FORMAT
                       " has no name or no type", self->model_path, where, i);
          return FALSE;
        }
      if (f->type->type_case == CORE_ML__SPECIFICATION__FEATURE_TYPE__TYPE_MULTI_ARRAY_TYPE)
        array = f->type->multiarraytype;
      else if (f->type->type_case == CORE_ML__SPECIFICATION__FEATURE_TYPE__TYPE_STATE_TYPE && f->type->statetype &&
               f->type->statetype->type_case == CORE_ML__SPECIFICATION__STATE_FEATURE_TYPE__TYPE_ARRAY_TYPE)
        array = f->type->statetype->arraytype;
      for (gsize j = 0; array != NULL && j < array->n_shape; j++)
        if (array->shape[j] < 0 || (guint64) array->shape[j] > ANE_MIL_MAX_ELEMENTS)
          {
            g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: %s: feature '%s' has dimension %"
                         G_GINT64_FORMAT, self->model_path, where, f->name, array->shape[j]);
            return FALSE;
          }
    }
  return TRUE;
}

static gboolean
check_model_description (AneMLPackage *self,
                         GError      **error)
{
  const AneCoreMLModelDescription *desc = self->model->description;

  if (desc == NULL)
    return TRUE;
  if (!check_features (self, "description.input", desc->input, desc->n_input, error) ||
      !check_features (self, "description.output", desc->output, desc->n_output, error) ||
      !check_features (self, "description.state", desc->state, desc->n_state, error))
    return FALSE;
  for (gsize i = 0; i < desc->n_functions; i++)
    {
      const AneCoreMLFunctionDescription *fd = desc->functions[i];
      g_autofree char *where = g_strdup_printf ("description of function '%s'", fd->name);

      if (!check_features (self, where, fd->input, fd->n_input, error) ||
          !check_features (self, where, fd->output, fd->n_output, error) ||
          !check_features (self, where, fd->state, fd->n_state, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
load_model (AneMLPackage *self,
            GError      **error)
{
  g_autoptr(GMappedFile) mapped = NULL;
  const guint8 *data;
  gsize size;

  self->model_path = g_build_filename (self->path, DATA_DIR, self->root->path, NULL);
  self->model_dir = g_path_get_dirname (self->model_path);

  mapped = ane_file_map_regular (self->model_path, error);
  if (mapped == NULL)
    return FALSE;
  data = (const guint8 *) g_mapped_file_get_contents (mapped);
  size = g_mapped_file_get_length (mapped);
  /* protobuf-c's decoder recurses once per nested message: bound the
   * nesting before it runs */
  if (!ane_protobuf_check_nesting (&core_ml__specification__model__descriptor, data ? data : (const guint8 *) "",
                                   size, ANE_MIL_MAX_NESTING, self->model_path, error))
    return FALSE;
  self->model = core_ml__specification__model__unpack (NULL, size, data ? data : (const guint8 *) "");
  if (self->model == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: not a valid CoreML model (%" G_GSIZE_FORMAT " bytes of truncated "
                   "or corrupt protobuf)", self->model_path, size);
      return FALSE;
    }
  if (self->model->type_case != CORE_ML__SPECIFICATION__MODEL__TYPE_ML_PROGRAM ||
      self->model->mlprogram == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: the model is not an ML program (neural networks, pipelines and "
                   "other model types are not supported)", self->model_path);
      return FALSE;
    }
  if (self->model->specificationversion < MIN_SPEC_VERSION_ML_PROGRAM)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: specification version %d is older than the first with ML "
                   "programs (%d)", self->model_path, self->model->specificationversion,
                   MIN_SPEC_VERSION_ML_PROGRAM);
      return FALSE;
    }
  /* the whole tree, before anything follows a pointer in it */
  if (!ane_mil_program_validate (self->model->mlprogram, self->model_path, error) ||
      !check_model_description (self, error))
    return FALSE;
  if (self->weights_dir == NULL)
    {
      g_autofree char *w = g_build_filename (self->model_dir, "weights", NULL);

      if (g_file_test (w, G_FILE_TEST_IS_DIR))
        self->weights_dir = g_steal_pointer (&w);
    }
  return TRUE;
}

AneMLPackage *
ane_mlpackage_open (const char *path,
                    GError    **error)
{
  return ane_mlpackage_open_full (path, NULL, error);
}

/* The steps of loading, each a quarter of the progress: the model's parse
 * and the program's check are the long ones on a big model. */
#define LOAD_STEP(progress, n, error) \
  ane_progress_report ((progress), ANE_PROGRESS_STAGE_LOADING, (n) / 4.0, 0, 0, (error))

AneMLPackage *
ane_mlpackage_open_full (const char   *path,
                         AneProgress  *progress,
                         GError      **error)
{
  g_autoptr(AneMLPackage) self = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (!LOAD_STEP (progress, 0, error))
    return NULL;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, ANE_ERROR,
                   g_file_test (path, G_FILE_TEST_EXISTS) ? ANE_ERROR_PARSE : ANE_ERROR_NOT_FOUND,
                   "%s: not a .mlpackage directory", path);
      return NULL;
    }

  self = g_new0 (AneMLPackage, 1);
  g_mutex_init (&self->lock);
  self->path = g_strdup (path);
  self->manifest_path = g_build_filename (path, MANIFEST_FILE, NULL);
  self->weight_files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, weight_file_free);
  self->blobs_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (!load_manifest (self, error) || !LOAD_STEP (progress, 1, error) ||
      !load_model (self, error) || !LOAD_STEP (progress, 2, error) ||
      !check_description (self, error) || !LOAD_STEP (progress, 3, error) ||
      !check_program (self, error) || !ane_progress_check (progress, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
ane_mlpackage_free (AneMLPackage *self)
{
  if (self == NULL)
    return;
  g_free (self->path);
  g_free (self->manifest_path);
  g_clear_pointer (&self->manifest, json_node_unref);
  g_free (self->file_format_version);
  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_free (self->model_path);
  g_free (self->model_dir);
  g_free (self->weights_dir);
  if (self->model)
    core_ml__specification__model__free_unpacked (self->model, NULL);
  g_clear_pointer (&self->weight_files, g_hash_table_unref);
  g_clear_pointer (&self->blobs_seen, g_hash_table_unref);
  g_mutex_clear (&self->lock);
  g_free (self);
}

const char *
ane_mlpackage_get_path (AneMLPackage *self)
{
  return self->path;
}

const char *
ane_mlpackage_get_file_format_version (AneMLPackage *self)
{
  return self->file_format_version;
}

GPtrArray *
ane_mlpackage_get_items (AneMLPackage *self)
{
  return self->items;
}

const AneMLPackageItem *
ane_mlpackage_get_root_item (AneMLPackage *self)
{
  return self->root;
}

const char *
ane_mlpackage_get_model_path (AneMLPackage *self)
{
  return self->model_path;
}

const char *
ane_mlpackage_get_model_dir (AneMLPackage *self)
{
  return self->model_dir;
}

const char *
ane_mlpackage_get_weights_dir (AneMLPackage *self)
{
  return self->weights_dir;
}

AneCoreMLModel *
ane_mlpackage_get_model (AneMLPackage *self)
{
  return self->model;
}

AneMilProgram *
ane_mlpackage_get_program (AneMLPackage *self)
{
  return self->model->mlprogram;
}

guint64
ane_mlpackage_get_weight_bytes (AneMLPackage *self)
{
  return self->weight_bytes;
}

JsonNode *
ane_mlpackage_get_manifest (AneMLPackage *self)
{
  return self->manifest;
}

/* ---------------------------------------------------------------------- */
/* writing                                                                */
/* ---------------------------------------------------------------------- */

struct _AneMLPackageStaging
{
  char     *path;       /* canonical destination */
  char     *dir;        /* temporary sibling */
  char     *data_dir;
  gboolean  overwrite;
  gboolean  committed;
};

AneMLPackageStaging *
ane_mlpackage_staging_new (const char *path,
                           gboolean    overwrite,
                           GError    **error)
{
  g_autoptr(AneMLPackageStaging) staging = NULL;
  g_autofree char *parent = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  staging = g_new0 (AneMLPackageStaging, 1);
  staging->path = g_canonicalize_filename (path, NULL);
  staging->overwrite = overwrite;
  parent = g_path_get_dirname (staging->path);

  /* What saves killed half-way left beside path (the rule is in
   * ane-file.c); first, as it may put back an old bundle. */
  ane_file_remove_stale_temps (staging->path);

  if (!overwrite && g_file_test (staging->path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO,
                   "%s: already exists (pass overwrite to replace it)", staging->path);
      return NULL;
    }
  if (!g_file_test (parent, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                   "%s: the parent directory '%s' does not exist", staging->path, parent);
      return NULL;
    }

  /* A sibling, so the final rename stays within one file system, named
   * .<base>.tmp-<pid>-XXXXXX so a later save can tell whether it is live. */
  staging->dir = ane_file_make_temp_dir (staging->path, error);
  if (staging->dir == NULL)
    return NULL;
  staging->data_dir = g_build_filename (staging->dir, DATA_DIR, NULL);
  if (g_mkdir (staging->data_dir, 0755) != 0)
    {
      set_error_from_errno (error, errno, "cannot create directory", staging->data_dir);
      return NULL;
    }
  return g_steal_pointer (&staging);
}

const char *
ane_mlpackage_staging_get_dir (AneMLPackageStaging *staging)
{
  return staging->dir;
}

const char *
ane_mlpackage_staging_get_data_dir (AneMLPackageStaging *staging)
{
  return staging->data_dir;
}

void
ane_mlpackage_staging_free (AneMLPackageStaging *staging)
{
  if (staging == NULL)
    return;
  if (!staging->committed && staging->dir)
    ane_file_remove_tree (staging->dir);
  g_free (staging->path);
  g_free (staging->dir);
  g_free (staging->data_dir);
  g_free (staging);
}

static gboolean
write_file (const char   *path,
            const guint8 *data,
            gsize         size,
            GError      **error)
{
  /* Written in place: the staging area is private until the rename. */
  return make_parent_dirs (path, error) && ane_file_write_durable (path, data, size, error);
}

/* Moves the finished bundle into place. Linux: renameat2() refuses to
 * replace (NOREPLACE) or swaps atomically (EXCHANGE); elsewhere, or if the
 * file system lacks it, the old bundle is renamed aside first and put back
 * if the second rename fails. */
static gboolean
move_into_place (AneMLPackageStaging *staging,
                 GError             **error)
{
  int saved_errno;

#if defined(__linux__) && defined(RENAME_NOREPLACE) && defined(RENAME_EXCHANGE)
  if (renameat2 (AT_FDCWD, staging->dir, AT_FDCWD, staging->path, RENAME_NOREPLACE) == 0)
    return TRUE;
  saved_errno = errno;
  if (saved_errno == EEXIST)
    {
      if (!staging->overwrite)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO,
                       "%s: already exists (pass overwrite to replace it)", staging->path);
          return FALSE;
        }
      if (renameat2 (AT_FDCWD, staging->dir, AT_FDCWD, staging->path, RENAME_EXCHANGE) == 0)
        {
          /* The staging name now holds the old bundle. */
          ane_file_remove_tree (staging->dir);
          return TRUE;
        }
      saved_errno = errno;
    }
  if (saved_errno != EINVAL && saved_errno != ENOSYS && saved_errno != EEXIST)
    {
      set_error_from_errno (error, saved_errno, "cannot move the package into place at", staging->path);
      return FALSE;
    }
#endif

  if (g_file_test (staging->path, G_FILE_TEST_EXISTS))
    {
      g_autofree char *aside = NULL;

      if (!staging->overwrite)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO,
                       "%s: already exists (pass overwrite to replace it)", staging->path);
          return FALSE;
        }
      aside = g_strdup_printf ("%s.old-XXXXXX", staging->dir);
      if (g_mkdtemp (aside) == NULL || g_rmdir (aside) != 0 ||
          g_rename (staging->path, aside) != 0)
        {
          set_error_from_errno (error, errno, "cannot move the old package aside:", staging->path);
          return FALSE;
        }
      if (g_rename (staging->dir, staging->path) != 0)
        {
          saved_errno = errno;
          g_rename (aside, staging->path);
          set_error_from_errno (error, saved_errno, "cannot move the package into place at",
                                staging->path);
          return FALSE;
        }
      ane_file_remove_tree (aside);
      return TRUE;
    }
  if (g_rename (staging->dir, staging->path) != 0)
    {
      set_error_from_errno (error, errno, "cannot move the package into place at", staging->path);
      return FALSE;
    }
  return TRUE;
}

gboolean
ane_mlpackage_staging_commit (AneMLPackageStaging  *staging,
                              JsonNode             *manifest,
                              const AneCoreMLModel *model,
                              GError              **error)
{
  g_autoptr(GPtrArray) items = NULL;
  g_autofree guint8 *buf = NULL;
  g_autofree char *manifest_file = NULL;
  g_autofree char *text = NULL;
  g_autofree char *model_file = NULL;
  AneMLPackageItem *root = NULL;
  gsize size;

  g_return_val_if_fail (staging != NULL, FALSE);
  g_return_val_if_fail (!staging->committed, FALSE);
  g_return_val_if_fail (manifest != NULL, FALSE);
  g_return_val_if_fail (model != NULL, FALSE);

  manifest_file = g_build_filename (staging->dir, MANIFEST_FILE, NULL);
  if (!manifest_validate (manifest, manifest_file, NULL, &items, &root, error))
    return FALSE;

  size = core_ml__specification__model__get_packed_size (model);
  buf = g_malloc (MAX (size, 1));
  core_ml__specification__model__pack (model, buf);
  model_file = g_build_filename (staging->data_dir, root->path, NULL);
  if (!write_file (model_file, buf, size, error))
    return FALSE;

  for (guint i = 0; i < items->len; i++)
    {
      AneMLPackageItem *item = g_ptr_array_index (items, i);
      g_autofree char *p = g_build_filename (staging->data_dir, item->path, NULL);

      if (!g_file_test (p, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                       "%s: item '%s' (%s) was not written: '%s' does not exist",
                       staging->path, item->identifier, item->name, p);
          return FALSE;
        }
    }

  text = ane_mlpackage_manifest_to_string (manifest);
  if (!write_file (manifest_file, (const guint8 *) text, strlen (text), error))
    return FALSE;

  /* Every file and directory durable before the rename publishes them. */
  if (!ane_file_sync_tree (staging->dir, error) || !move_into_place (staging, error))
    return FALSE;
  staging->committed = TRUE;
  return TRUE;
}

gboolean
ane_mlpackage_save (AneMLPackage *self,
                    const char   *path,
                    gboolean      overwrite,
                    GError      **error)
{
  return ane_mlpackage_save_full (self, path, overwrite, NULL, error);
}

/* Copying takes this share of a save's progress, file by file; the rest is
 * the model, the manifest, syncing and the rename. */
#define COPY_SHARE 0.9

gboolean
ane_mlpackage_staging_copy_items (AneMLPackage        *self,
                                  AneMLPackageStaging *staging,
                                  const char          *skip,
                                  GError             **error)
{
  g_autofree char *src_data = g_build_filename (self->path, DATA_DIR, NULL);

  for (guint i = 0; i < self->items->len; i++)
    {
      AneMLPackageItem *item = g_ptr_array_index (self->items, i);
      g_autofree char *src = NULL;
      g_autofree char *dst = NULL;
      g_autofree char *trimmed = g_strdup (item->path);

      g_strdelimit (trimmed, "\\", '/');
      while (g_str_has_suffix (trimmed, "/"))
        trimmed[strlen (trimmed) - 1] = '\0';
      if (item == self->root || (skip != NULL && g_str_equal (trimmed, skip)))
        continue;
      src = g_build_filename (src_data, item->path, NULL);
      dst = g_build_filename (staging->data_dir, item->path, NULL);
      if (g_file_test (dst, G_FILE_TEST_EXISTS) || !g_file_test (src, G_FILE_TEST_EXISTS))
        continue;   /* inside an item copied before, or listed but absent */
      if (!make_parent_dirs (dst, error) || !copy_tree (src, dst, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
ane_mlpackage_save_full (AneMLPackage *self,
                         const char   *path,
                         gboolean      overwrite,
                         AneProgress  *progress,
                         GError      **error)
{
  g_autoptr(AneMLPackageStaging) staging = NULL;
  g_autofree char *src_data = NULL;
  g_autofree char *model_rel_dir = NULL;
  GHashTableIter iter;
  WeightFile *wf;
  guint n_steps, step = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  /* Items, then the weight files the manifest does not list (counted as
   * their number: a tree's size is not known before it is walked). */
  n_steps = self->items->len + g_hash_table_size (self->weight_files);
  if (!ane_progress_report (progress, ANE_PROGRESS_STAGE_COPYING, 0.0, 0, 0, error))
    return FALSE;

  staging = ane_mlpackage_staging_new (path, overwrite, error);
  if (staging == NULL)
    return FALSE;

  src_data = g_build_filename (self->path, DATA_DIR, NULL);
  for (guint i = 0; i < self->items->len; i++)
    {
      AneMLPackageItem *item = g_ptr_array_index (self->items, i);
      g_autofree char *src = NULL;
      g_autofree char *dst = NULL;

      if (item == self->root)
        continue;   /* re-serialized by commit */
      src = g_build_filename (src_data, item->path, NULL);
      dst = g_build_filename (staging->data_dir, item->path, NULL);
      if (g_file_test (dst, G_FILE_TEST_EXISTS))
        continue;   /* inside an item copied before */
      if (!make_parent_dirs (dst, error) || !copy_tree (src, dst, error) ||
          !ane_progress_report (progress, ANE_PROGRESS_STAGE_COPYING,
                                COPY_SHARE * (double) ++step / (double) n_steps, 0, 0, error))
        return FALSE;
    }

  /* Weight files the program references but the manifest does not list
   * still belong to the package: keep them at the same place. */
  model_rel_dir = g_path_get_dirname (self->root->path);
  g_hash_table_iter_init (&iter, self->weight_files);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &wf))
    {
      g_autofree char *dst = g_build_filename (staging->data_dir, model_rel_dir, wf->rel, NULL);

      if (!g_file_test (dst, G_FILE_TEST_EXISTS) &&
          !(make_parent_dirs (dst, error) &&
            write_file (dst, g_bytes_get_data (wf->bytes, NULL), g_bytes_get_size (wf->bytes), error) &&
            ane_progress_report (progress, ANE_PROGRESS_STAGE_COPYING,
                                 COPY_SHARE * (double) ++step / (double) n_steps, 0, 0, error)))
        return FALSE;
    }

  /* The last point where cancelling stops the save (commit renames). */
  if (!ane_progress_report (progress, ANE_PROGRESS_STAGE_WRITING_MODEL, COPY_SHARE, 0, 0, error))
    return FALSE;
  return ane_mlpackage_staging_commit (staging, self->manifest, self->model, error);
}
