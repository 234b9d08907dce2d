/* ane-safetensors.c: reading and writing safetensors weight files
 *
 * The format (https://github.com/huggingface/safetensors, README "Format";
 * the checks mirror Metadata::validate and read_metadata in
 * safetensors/src/tensor.rs):
 *
 *   8 bytes   N, little-endian u64 (at most 100 000 000)
 *   N bytes   UTF-8 JSON object, starting with '{', padded with spaces:
 *             {"__metadata__": {"k": "v"},
 *              "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}
 *   rest      the byte buffer; offsets are relative to its start, and the
 *             tensors cover it exactly, without holes or overlaps
 *
 * Data is little endian, C order. GGUF block dtypes, which the ecosystem
 * format has no names for, are written as "Q4_0", "Q4_K", ... with the
 * tensor's logical element shape (documented in docs/graph-format.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "ane-file-private.h"
#include "ane-json-private.h"
#include "ane-safetensors-private.h"

/* --- dtypes -------------------------------------------------------------- */

static const char *const dtype_names[ANE_N_DTYPES] = {
  [ANE_DTYPE_FLOAT32]  = "F32",
  [ANE_DTYPE_FLOAT16]  = "F16",
  [ANE_DTYPE_BFLOAT16] = "BF16",
  [ANE_DTYPE_INT8]     = "I8",
  [ANE_DTYPE_UINT8]    = "U8",
  [ANE_DTYPE_INT16]    = "I16",
  [ANE_DTYPE_INT32]    = "I32",
  [ANE_DTYPE_INT64]    = "I64",
  [ANE_DTYPE_BOOL]     = "BOOL",
  /* Our own names for GGUF blocks (ggml type names, upper case). */
  [ANE_DTYPE_Q8_0]     = "Q8_0",
  [ANE_DTYPE_Q4_0]     = "Q4_0",
  [ANE_DTYPE_Q4_1]     = "Q4_1",
  [ANE_DTYPE_Q5_0]     = "Q5_0",
  [ANE_DTYPE_Q5_1]     = "Q5_1",
  [ANE_DTYPE_Q2_K]     = "Q2_K",
  [ANE_DTYPE_Q3_K]     = "Q3_K",
  [ANE_DTYPE_Q4_K]     = "Q4_K",
  [ANE_DTYPE_Q5_K]     = "Q5_K",
  [ANE_DTYPE_Q6_K]     = "Q6_K",
  [ANE_DTYPE_Q8_K]     = "Q8_K",
};

const char *
ane_safetensors_dtype_to_string (AneDType dtype)
{
  return (guint) dtype < ANE_N_DTYPES ? dtype_names[dtype] : NULL;
}

/* Exact, case-sensitive match: the format's names are upper case. */
gboolean
ane_safetensors_dtype_from_string (const char *name,
                                   AneDType   *dtype)
{
  for (guint i = 0; i < ANE_N_DTYPES; i++)
    if (g_strcmp0 (name, dtype_names[i]) == 0)
      {
        *dtype = (AneDType) i;
        return TRUE;
      }
  return FALSE;
}

/* Natural alignment of a dtype's data: the element size; GGUF blocks start
 * with a fp16 scale and have even sizes, so 2. */
static gsize
dtype_alignment (AneDType dtype)
{
  return ane_dtype_is_block (dtype) ? 2 : ane_dtype_size (dtype);
}

/* --- reading --------------------------------------------------------------- */

typedef struct {
  char    *name;
  AneSpec  spec;
  guint64  begin;
  guint64  end;
} Entry;

struct _AneSafetensors {
  char       *display_name;
  GBytes     *bytes;       /* the whole file */
  gsize       data_start;  /* 8 + N */
  GPtrArray  *entries;     /* Entry*, by offset */
  GHashTable *by_name;     /* name -> Entry* (borrowed) */
  GHashTable *metadata;    /* char* -> char* */
};

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_free (e->name);
  g_free (e);
}

void
ane_safetensors_free (AneSafetensors *self)
{
  if (self == NULL)
    return;
  g_free (self->display_name);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->metadata, g_hash_table_unref);
  g_free (self);
}

static void parse_error (GError    **error,
                         const char *file,
                         const char *format,
                         ...) G_GNUC_PRINTF (3, 4);

static void
parse_error (GError    **error,
             const char *file,
             const char *format,
             ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: %s", file, msg);
}

/* A JSON integer >= 0 (json-glib reads integers as gint64). */
static gboolean
json_get_uint (JsonNode *node,
               guint64  *value)
{
  gint64 v;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < 0)
    return FALSE;
  *value = (guint64) v;
  return TRUE;
}

static Entry *
parse_entry (const char *file,
             const char *name,
             JsonNode   *node,
             guint64     data_size,
             GError    **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree Entry *e = NULL;
  JsonObject *obj;
  JsonNode *member;
  JsonArray *shape, *offsets;
  const char *dtype_name;
  gint64 n_elements;
  gsize n_bytes;
  char buf[ANE_SPEC_STRLEN];

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      parse_error (error, file, "tensor '%s': the entry is not a JSON object", name);
      return NULL;
    }
  obj = json_node_get_object (node);
  e = g_new0 (Entry, 1);

  member = json_object_get_member (obj, "dtype");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member) ||
      json_node_get_value_type (member) != G_TYPE_STRING)
    {
      parse_error (error, file, "tensor '%s': \"dtype\" is missing or not a string", name);
      return NULL;
    }
  dtype_name = json_node_get_string (member);
  if (!ane_safetensors_dtype_from_string (dtype_name, &e->spec.dtype))
    {
      parse_error (error, file, "tensor '%s': unknown dtype '%s'", name, dtype_name);
      return NULL;
    }

  member = json_object_get_member (obj, "shape");
  if (member == NULL || !JSON_NODE_HOLDS_ARRAY (member))
    {
      parse_error (error, file, "tensor '%s': \"shape\" is missing or not an array", name);
      return NULL;
    }
  shape = json_node_get_array (member);
  if (json_array_get_length (shape) > ANE_MAX_RANK)
    {
      parse_error (error, file, "tensor '%s': rank %u exceeds the maximum rank %d", name,
                   json_array_get_length (shape), ANE_MAX_RANK);
      return NULL;
    }
  e->spec.rank = json_array_get_length (shape);
  for (guint i = 0; i < e->spec.rank; i++)
    {
      guint64 dim;

      if (!json_get_uint (json_array_get_element (shape, i), &dim) || dim > G_MAXINT64)
        {
          parse_error (error, file, "tensor '%s': shape[%u] is not a non-negative integer", name, i);
          return NULL;
        }
      e->spec.shape[i] = (gint64) dim;
    }
  if (!ane_shape_n_elements (e->spec.shape, e->spec.rank, &n_elements, &local) ||
      !ane_dtype_n_bytes (e->spec.dtype, n_elements, &n_bytes, &local) ||
      !ane_spec_check (&e->spec, "shape", &local))
    {
      parse_error (error, file, "tensor '%s': %s %s: %s", name, dtype_name,
                   ane_spec_format (&e->spec, buf), local->message);
      return NULL;
    }

  member = json_object_get_member (obj, "data_offsets");
  if (member == NULL || !JSON_NODE_HOLDS_ARRAY (member) ||
      json_array_get_length (offsets = json_node_get_array (member)) != 2 ||
      !json_get_uint (json_array_get_element (offsets, 0), &e->begin) ||
      !json_get_uint (json_array_get_element (offsets, 1), &e->end))
    {
      parse_error (error, file,
                   "tensor '%s': \"data_offsets\" is missing or not two non-negative integers", name);
      return NULL;
    }
  if (e->begin > e->end)
    {
      parse_error (error, file,
                   "tensor '%s': data_offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                   "] begin after they end", name, e->begin, e->end);
      return NULL;
    }
  if (e->end > data_size)
    {
      parse_error (error, file,
                   "tensor '%s': data_offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                   "] run past the end of the data (%" G_GUINT64_FORMAT " bytes)",
                   name, e->begin, e->end, data_size);
      return NULL;
    }
  if (e->end - e->begin != (guint64) n_bytes)
    {
      parse_error (error, file,
                   "tensor '%s': data_offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                   "] hold %" G_GUINT64_FORMAT " bytes, but %s %s needs %" G_GSIZE_FORMAT,
                   name, e->begin, e->end, e->end - e->begin, dtype_name,
                   ane_spec_format (&e->spec, buf), n_bytes);
      return NULL;
    }
  e->name = g_strdup (name);
  return g_steal_pointer (&e);
}

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const Entry *ea = *(const Entry *const *) a, *eb = *(const Entry *const *) b;

  if (ea->begin != eb->begin)
    return ea->begin < eb->begin ? -1 : 1;
  if (ea->end != eb->end)
    return ea->end < eb->end ? -1 : 1;
  return strcmp (ea->name, eb->name);
}

static gboolean
parse_metadata (AneSafetensors *self,
                JsonNode       *node,
                GError        **error)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      parse_error (error, self->display_name, "\"__metadata__\" is not a JSON object");
      return FALSE;
    }
  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &key, &value))
    {
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        {
          parse_error (error, self->display_name, "\"__metadata__\" value '%s' is not a string", key);
          return FALSE;
        }
      g_hash_table_insert (self->metadata, g_strdup (key), g_strdup (json_node_get_string (value)));
    }
  return TRUE;
}

static gboolean
parse_file (AneSafetensors *self,
            GError        **error)
{
  const char *file = self->display_name;
  gsize size;
  const guint8 *data = g_bytes_get_data (self->bytes, &size);
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *header = NULL;
  guint64 n = 0, data_size, covered = 0;
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  if (size < 8)
    {
      parse_error (error, file,
                   "truncated: %" G_GSIZE_FORMAT " bytes, too short for the 8-byte header length",
                   size);
      return FALSE;
    }
  for (int i = 7; i >= 0; i--)
    n = (n << 8) | data[i];
  if (n > ANE_SAFETENSORS_MAX_HEADER)
    {
      parse_error (error, file,
                   "header length %" G_GUINT64_FORMAT " at offset 0 exceeds the limit of %d bytes",
                   n, ANE_SAFETENSORS_MAX_HEADER);
      return FALSE;
    }
  if (n > size - 8)
    {
      parse_error (error, file,
                   "header length %" G_GUINT64_FORMAT " at offset 0 is larger than the %"
                   G_GSIZE_FORMAT " bytes that follow it", n, size - 8);
      return FALSE;
    }
  if (n == 0 || data[8] != '{')
    {
      parse_error (error, file, "the JSON header at offset 8 does not start with '{'");
      return FALSE;
    }
  if (!g_utf8_validate_len ((const char *) data + 8, n, NULL))
    {
      parse_error (error, file, "the JSON header (offsets 8 to %" G_GUINT64_FORMAT
                   ") is not valid UTF-8", 8 + n);
      return FALSE;
    }
  /* json-glib recurses once per level: a deep header would overflow the
   * stack (a safetensors header nests 3 deep). */
  if (!ane_json_check_depth ((const char *) data + 8, n, 8, ANE_JSON_MAX_DEPTH, file, error))
    return FALSE;
  header = g_strndup ((const char *) data + 8, n);
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, header, (gssize) n, &local))
    {
      parse_error (error, file, "the JSON header does not parse: %s", local->message);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      parse_error (error, file, "the JSON header is not an object");
      return FALSE;
    }

  self->data_start = 8 + n;
  data_size = size - self->data_start;
  json_object_iter_init (&iter, json_node_get_object (json_parser_get_root (parser)));
  while (json_object_iter_next (&iter, &name, &node))
    {
      Entry *e;

      if (g_str_equal (name, ANE_SAFETENSORS_METADATA_KEY))
        {
          if (!parse_metadata (self, node, error))
            return FALSE;
          continue;
        }
      e = parse_entry (file, name, node, data_size, error);
      if (e == NULL)
        return FALSE;
      g_ptr_array_add (self->entries, e);
      g_hash_table_insert (self->by_name, e->name, e);
    }

  /* The entries must tile the buffer: sorted by offset, each begins where the
   * previous one ends, the first at 0 and the last at the end. */
  g_ptr_array_sort (self->entries, compare_entries);
  for (guint i = 0; i < self->entries->len; i++)
    {
      const Entry *e = g_ptr_array_index (self->entries, i);
      const Entry *prev = i > 0 ? g_ptr_array_index (self->entries, i - 1) : NULL;

      if (e->begin < covered)
        {
          parse_error (error, file,
                       "tensor '%s': data_offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                       "] overlap tensor '%s' [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "]",
                       e->name, e->begin, e->end, prev->name, prev->begin, prev->end);
          return FALSE;
        }
      if (e->begin > covered)
        {
          parse_error (error, file,
                       "tensor '%s': data_offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                       "] leave bytes [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                       ") of the data uncovered", e->name, e->begin, e->end, covered, e->begin);
          return FALSE;
        }
      covered = e->end;
    }
  if (covered != data_size)
    {
      parse_error (error, file,
                   "the tensors cover %" G_GUINT64_FORMAT " bytes of data, but %" G_GUINT64_FORMAT
                   " bytes follow the header (offset %" G_GSIZE_FORMAT ")",
                   covered, data_size, self->data_start);
      return FALSE;
    }
  return TRUE;
}

AneSafetensors *
ane_safetensors_new_from_bytes (GBytes     *bytes,
                                const char *display_name,
                                GError    **error)
{
  g_autoptr(AneSafetensors) self = g_new0 (AneSafetensors, 1);

  g_return_val_if_fail (bytes != NULL, NULL);

  self->display_name = g_strdup (display_name ? display_name : "safetensors");
  self->bytes = g_bytes_ref (bytes);
  self->entries = g_ptr_array_new_with_free_func (entry_free);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!parse_file (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

AneSafetensors *
ane_safetensors_open (const char *path,
                      GError    **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  /* A regular file only: a FIFO would block the open for ever. */
  bytes = ane_file_map_bytes (path, &local);
  if (bytes == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "cannot open weights: %s", local->message);
      return NULL;
    }
  return ane_safetensors_new_from_bytes (bytes, path, error);
}

const char *
ane_safetensors_get_display_name (AneSafetensors *self)
{
  return self->display_name;
}

guint
ane_safetensors_get_n_tensors (AneSafetensors *self)
{
  return self->entries->len;
}

const char *
ane_safetensors_get_tensor_name (AneSafetensors *self,
                                 guint           index)
{
  g_return_val_if_fail (index < self->entries->len, NULL);
  return ((const Entry *) g_ptr_array_index (self->entries, index))->name;
}

gboolean
ane_safetensors_contains (AneSafetensors *self,
                          const char     *name)
{
  return g_hash_table_contains (self->by_name, name);
}

AneTensor *
ane_safetensors_get_tensor (AneSafetensors *self,
                            const char     *name,
                            GError        **error)
{
  const Entry *e = g_hash_table_lookup (self->by_name, name);
  g_autoptr(GBytes) view = NULL;

  if (e == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "%s: no tensor named '%s'",
                   self->display_name, name);
      return NULL;
    }
  view = g_bytes_new_from_bytes (self->bytes, self->data_start + e->begin, e->end - e->begin);
  return ane_tensor_new_from_bytes (e->name, e->spec.dtype, e->spec.shape, e->spec.rank, view, error);
}

const char *
ane_safetensors_get_metadata (AneSafetensors *self,
                              const char     *key)
{
  return g_hash_table_lookup (self->metadata, key);
}

/* --- atomic files ---------------------------------------------------------- */

struct _AneAtomicFile {
  char *path;
  char *tmp_path;
  int   fd;
};

static void
atomic_file_free (AneAtomicFile *self)
{
  g_free (self->path);
  g_free (self->tmp_path);
  g_free (self);
}

AneAtomicFile *
ane_atomic_file_new (const char *path,
                     GError    **error)
{
  AneAtomicFile *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_new0 (AneAtomicFile, 1);
  self->path = g_strdup (path);
  /* .<name>.tmp-<pid>-XXXXXX: a later save can tell a temporary that a
   * killed process left from a live one (ane-file.c). */
  self->fd = ane_file_make_temp_file (path, &self->tmp_path, error);
  if (self->fd < 0)
    {
      atomic_file_free (self);
      return NULL;
    }
  return self;
}

void
ane_atomic_file_abort (AneAtomicFile *self)
{
  if (self == NULL)
    return;
  if (self->fd >= 0)
    g_close (self->fd, NULL);
  g_unlink (self->tmp_path);
  atomic_file_free (self);
}

gboolean
ane_atomic_file_write (AneAtomicFile *self,
                       const void    *data,
                       gsize          n,
                       GError       **error)
{
  const guint8 *p = data;

  while (n > 0)
    {
      gssize done = write (self->fd, p, MIN (n, (gsize) G_MAXSSIZE));

      if (done < 0)
        {
          int errsv = errno;

          if (errsv == EINTR)
            continue;
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "writing '%s': %s", self->path,
                       g_strerror (errsv));
          return FALSE;
        }
      p += done;
      n -= (gsize) done;
    }
  return TRUE;
}

gboolean
ane_atomic_file_commit (AneAtomicFile *self,
                        GError       **error)
{
  int fd, errsv;

  while (fsync (self->fd) != 0)
    {
      errsv = errno;
      if (errsv == EINTR)
        continue;
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "writing '%s': fsync failed: %s", self->path,
                   g_strerror (errsv));
      ane_atomic_file_abort (self);
      return FALSE;
    }
  fd = self->fd;
  self->fd = -1;
  if (!ane_file_close (fd, self->path, error))
    {
      ane_atomic_file_abort (self);
      return FALSE;
    }
  if (g_rename (self->tmp_path, self->path) != 0)
    {
      errsv = errno;
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "cannot replace '%s': %s", self->path,
                   g_strerror (errsv));
      ane_atomic_file_abort (self);
      return FALSE;
    }
  atomic_file_free (self);
  return TRUE;
}

/* --- writing --------------------------------------------------------------- */

typedef struct {
  AneTensor *tensor;
  guint      position;
  gsize      alignment;
} Slot;

static int
compare_slots (gconstpointer a,
               gconstpointer b)
{
  const Slot *sa = a, *sb = b;

  if (sa->alignment != sb->alignment)
    return sa->alignment > sb->alignment ? -1 : 1;
  return sa->position < sb->position ? -1 : sa->position > sb->position;
}

static int
compare_strings (const void *a,
                 const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

gboolean
ane_safetensors_write (const char       *path,
                       AneTensor *const *tensors,
                       guint             n_tensors,
                       GHashTable       *metadata,
                       GError          **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree Slot *slots = g_new0 (Slot, MAX (n_tensors, 1));
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GString) header = NULL;
  AneAtomicFile *file;
  guint64 offset = 0;
  guint8 len[8];

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (tensors != NULL || n_tensors == 0, FALSE);

  for (guint i = 0; i < n_tensors; i++)
    {
      AneTensor *t = tensors[i];
      const char *name = ane_tensor_get_name (t);

      if (!ane_tensor_has_data (t))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "%s: tensor '%s' has no data to write", path, name);
          return FALSE;
        }
      if (*name == '\0' || g_str_equal (name, ANE_SAFETENSORS_METADATA_KEY) ||
          !g_hash_table_add (seen, (gpointer) name))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "%s: tensor name '%s' is empty, reserved or used twice", path, name);
          return FALSE;
        }
      slots[i].tensor = t;
      slots[i].position = i;
      slots[i].alignment = dtype_alignment (ane_tensor_get_dtype (t));
    }
  qsort (slots, n_tensors, sizeof *slots, compare_slots);

  json_builder_begin_object (builder);
  if (metadata != NULL && g_hash_table_size (metadata) > 0)
    {
      g_autofree const char **keys = (const char **) g_hash_table_get_keys_as_array (metadata, NULL);

      qsort (keys, g_hash_table_size (metadata), sizeof *keys, compare_strings);
      json_builder_set_member_name (builder, ANE_SAFETENSORS_METADATA_KEY);
      json_builder_begin_object (builder);
      for (guint i = 0; keys[i] != NULL; i++)
        {
          json_builder_set_member_name (builder, keys[i]);
          json_builder_add_string_value (builder, g_hash_table_lookup (metadata, keys[i]));
        }
      json_builder_end_object (builder);
    }
  for (guint i = 0; i < n_tensors; i++)
    {
      AneTensor *t = slots[i].tensor;
      guint rank;
      const gint64 *shape = ane_tensor_get_shape (t, &rank);
      gsize n_bytes = ane_tensor_get_n_bytes (t);

      json_builder_set_member_name (builder, ane_tensor_get_name (t));
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "dtype");
      json_builder_add_string_value (builder,
                                     ane_safetensors_dtype_to_string (ane_tensor_get_dtype (t)));
      json_builder_set_member_name (builder, "shape");
      json_builder_begin_array (builder);
      for (guint d = 0; d < rank; d++)
        json_builder_add_int_value (builder, shape[d]);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "data_offsets");
      json_builder_begin_array (builder);
      json_builder_add_int_value (builder, (gint64) offset);
      json_builder_add_int_value (builder, (gint64) (offset + n_bytes));
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      offset += n_bytes;
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  {
    g_autofree char *text = json_to_string (root, FALSE);
    header = g_string_new (text);
  }
  /* Pad with spaces so the data starts 8-aligned (as tensor.rs does). */
  while (header->len % 8 != 0)
    g_string_append_c (header, ' ');
  if (header->len > ANE_SAFETENSORS_MAX_HEADER)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE,
                   "%s: the header would take %" G_GSIZE_FORMAT " bytes, over the format's limit of %d",
                   path, header->len, ANE_SAFETENSORS_MAX_HEADER);
      return FALSE;
    }
  for (int i = 0; i < 8; i++)
    len[i] = (guint8) ((guint64) header->len >> (8 * i));

  file = ane_atomic_file_new (path, error);
  if (file == NULL)
    return FALSE;
  if (!ane_atomic_file_write (file, len, sizeof len, error) ||
      !ane_atomic_file_write (file, header->str, header->len, error))
    goto fail;
  for (guint i = 0; i < n_tensors; i++)
    {
      gsize n;
      const void *data = g_bytes_get_data (ane_tensor_get_data (slots[i].tensor), &n);

      if (!ane_atomic_file_write (file, data, n, error))
        goto fail;
    }
  return ane_atomic_file_commit (file, error);

fail:
  ane_atomic_file_abort (file);
  return FALSE;
}
