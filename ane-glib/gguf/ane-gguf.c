/* ane-gguf.c: the GGUF reader (AneGgufFile) and a small private writer
 *
 * The format is llama.cpp's (ggml/include/gguf.h, ggml/src/gguf.cpp):
 *
 *   "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 *   n_kv    × ( string key | u32 type | value )
 *   n_tensors × ( string name | u32 n_dims | i64 ne[n_dims] | u32 ggml_type | u64 offset )
 *   padding to the alignment | data section
 *
 * with strings as a u64 byte length and the bytes (no terminator), arrays as
 * u32 element type, u64 count and the elements, everything little-endian.
 * Version 1 (u32 counts and lengths) is not read; versions 2 and 3 share one
 * layout (3 only allowed big-endian files, which fail here on the version).
 *
 * The reader trusts nothing: every length and count is compared with the bytes
 * that remain before it is used, every product is overflow-checked, and the
 * tensors must lie inside the data section without overlapping.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-file-private.h"
#include "ane-gguf-file.h"
#include "gguf/ane-gguf-writer-private.h"

#define GGUF_MAGIC "GGUF"
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGML_MAX_DIMS 4

/* The smallest encodings, used to bound counts by the bytes left: a key-value
 * pair is an empty key (8), a type (4) and a one-byte value; a tensor info an
 * empty name (8), n_dims (4), a type (4) and an offset (8). */
#define MIN_KV_BYTES     13
#define MIN_TENSOR_BYTES 24

/**
 * AneGgufFile:
 *
 * A GGUF model file (the format of llama.cpp), memory-mapped and checked.
 *
 * Loads GGUF versions 2 and 3 from a path ([ctor@Ane.GgufFile.new]) or from
 * memory ([ctor@Ane.GgufFile.new_from_bytes]); [func@Ane.LlamaModel.load_gguf]
 * and [func@Ane.Tokenizer.load_gguf] read models and vocabularies from it.
 *
 * Opening parses the header, every metadata key-value pair and every tensor
 * info, and checks each count, length, offset and dimension against the
 * size of the file before it is used, so a damaged or hostile file fails
 * with an %ANE_ERROR_PARSE (or %ANE_ERROR_UNSUPPORTED) error naming the
 * file, the key or tensor and the byte offset, never with an out-of-bounds
 * read. Versions 2 and 3 are read.
 *
 * Metadata is read with typed getters that widen: any integer type through
 * [method@Ane.GgufFile.get_int], float32 or float64 through
 * [method@Ane.GgufFile.get_float], arrays through
 * [method@Ane.GgufFile.dup_ints], [method@Ane.GgufFile.dup_floats] and
 * [method@Ane.GgufFile.dup_strings], or any value as a #GVariant with
 * [method@Ane.GgufFile.dup_value].
 *
 * Tensors come out as [class@Ane.Tensor]s whose data references the mapping
 * without copying. GGUF lists dimensions innermost first (ggml's `ne`); the
 * tensors here have the usual row-major shape, the reverse: a matrix stored
 * with `ne = [K, N]` (N rows of K elements) becomes shape `[N, K]`.
 *
 * ```c
 * g_autoptr(GError) error = NULL;
 * g_autoptr(AneGgufFile) gguf = ane_gguf_file_new ("model.gguf", &error);
 * if (gguf == NULL)
 *   g_error ("%s", error->message);
 * gint64 n_layers;
 * if (!ane_gguf_file_get_int (gguf, "llama.block_count", &n_layers, &error))
 *   g_error ("%s", error->message);
 * g_autoptr(AneTensor) wq = ane_gguf_file_dup_tensor (gguf, "blk.0.attn_q.weight", &error);
 * ```
 *
 * Threads: a GGUF file does not change once opened (every key and tensor
 * info is parsed and indexed when it is opened, the mapping is read-only),
 * so any number of threads may read keys and tensors from it at once.
 */

typedef struct
{
  char             *key;
  AneGgufValueType  type;
  AneGgufValueType  element_type;   /* arrays */
  guint64           n;              /* arrays: element count */
  gsize             offset;         /* of the key-value pair, for messages */
  guint8            raw[8];         /* a scalar number, little-endian */
  char             *string;         /* a string */
  const guint8     *elements;       /* a numeric array, in the mapping */
  char            **strv;           /* a string array */
} GgufKv;

typedef struct
{
  char     *name;
  guint     n_dims;
  gint64    ne[GGML_MAX_DIMS];
  guint32   ggml_type;
  AneDType  dtype;
  guint64   offset;                 /* in the data section */
  guint64   n_bytes;
  gsize     info_offset;            /* of the tensor info, for messages */
} GgufTensor;

struct _AneGgufFile
{
  GObject      parent_instance;

  char        *path;
  char        *display;            /* the path, or "<memory>" */
  GBytes      *bytes;
  const guint8 *data;
  gsize        size;

  guint        version;
  guint        alignment;
  guint64      data_offset;

  GPtrArray   *kvs;                /* GgufKv*, in file order */
  GHashTable  *kv_index;           /* key → GgufKv* */
  GPtrArray   *tensors;            /* GgufTensor*, in file order */
  GHashTable  *tensor_index;       /* name → GgufTensor* */
};

G_DEFINE_FINAL_TYPE (AneGgufFile, ane_gguf_file, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PATH,
  PROP_VERSION,
  PROP_ALIGNMENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
gguf_kv_free (gpointer data)
{
  GgufKv *kv = data;

  g_free (kv->key);
  g_free (kv->string);
  g_strfreev (kv->strv);
  g_free (kv);
}

static void
gguf_tensor_free (gpointer data)
{
  GgufTensor *t = data;

  g_free (t->name);
  g_free (t);
}

static void
ane_gguf_file_finalize (GObject *object)
{
  AneGgufFile *self = ANE_GGUF_FILE (object);

  g_clear_pointer (&self->kv_index, g_hash_table_unref);
  g_clear_pointer (&self->kvs, g_ptr_array_unref);
  g_clear_pointer (&self->tensor_index, g_hash_table_unref);
  g_clear_pointer (&self->tensors, g_ptr_array_unref);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->display, g_free);
  G_OBJECT_CLASS (ane_gguf_file_parent_class)->finalize (object);
}

static void
ane_gguf_file_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  AneGgufFile *self = ANE_GGUF_FILE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_VERSION:
      g_value_set_uint (value, self->version);
      break;
    case PROP_ALIGNMENT:
      g_value_set_uint (value, self->alignment);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ane_gguf_file_class_init (AneGgufFileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ane_gguf_file_finalize;
  object_class->get_property = ane_gguf_file_get_property;

  /**
   * AneGgufFile:path:
   *
   * The file the GGUF was read from; %NULL for one read from memory with
   * [ctor@Ane.GgufFile.new_from_bytes].
   */
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * AneGgufFile:version:
   *
   * The GGUF format version of the file (2 or 3).
   */
  properties[PROP_VERSION] =
    g_param_spec_uint ("version", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * AneGgufFile:alignment:
   *
   * The alignment of the data section and of every tensor in it, in bytes:
   * `general.alignment`, or 32 when the file does not set it.
   */
  properties[PROP_ALIGNMENT] =
    g_param_spec_uint ("alignment", NULL, NULL, 0, G_MAXUINT, GGUF_DEFAULT_ALIGNMENT,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ane_gguf_file_init (AneGgufFile *self)
{
  self->alignment = GGUF_DEFAULT_ALIGNMENT;
  self->kvs = g_ptr_array_new_with_free_func (gguf_kv_free);
  self->kv_index = g_hash_table_new (g_str_hash, g_str_equal);
  self->tensors = g_ptr_array_new_with_free_func (gguf_tensor_free);
  self->tensor_index = g_hash_table_new (g_str_hash, g_str_equal);
}

/* --- the parser --------------------------------------------------------- */

typedef struct
{
  const guint8 *data;
  gsize         size;
  gsize         pos;
  const char   *file;
} Reader;

static gsize
remaining (const Reader *r)
{
  return r->size - r->pos;
}

/* Checks that n bytes remain; `what` names the field being read. */
static gboolean
need (Reader     *r,
      guint64     n,
      const char *what,
      GError    **error)
{
  if (n > remaining (r))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: truncated at byte %" G_GSIZE_FORMAT " reading %s "
                   "(%" G_GUINT64_FORMAT " bytes needed, %" G_GSIZE_FORMAT " left)",
                   r->file, r->pos, what, n, remaining (r));
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_u32 (Reader *r, guint32 *v, const char *what, GError **error)
{
  if (!need (r, 4, what, error))
    return FALSE;
  memcpy (v, r->data + r->pos, 4);
  *v = GUINT32_FROM_LE (*v);
  r->pos += 4;
  return TRUE;
}

static gboolean
read_u64 (Reader *r, guint64 *v, const char *what, GError **error)
{
  if (!need (r, 8, what, error))
    return FALSE;
  memcpy (v, r->data + r->pos, 8);
  *v = GUINT64_FROM_LE (*v);
  r->pos += 8;
  return TRUE;
}

/* A GGUF string: the u64 length is checked against the bytes left before
 * anything is allocated (a huge length is the classic attack on this
 * format). Names (keys, tensor names) must be UTF-8 without NUL; values
 * that are not valid UTF-8 are repaired with U+FFFD so that they can always
 * be handed to bindings. */
static char *
read_string (Reader     *r,
             gboolean    is_name,
             const char *what,
             GError    **error)
{
  guint64 len;
  gsize start = r->pos;
  const char *s;

  if (!read_u64 (r, &len, what, error))
    return NULL;
  if (len > remaining (r))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: %s at byte %" G_GSIZE_FORMAT " has length %" G_GUINT64_FORMAT
                   " but only %" G_GSIZE_FORMAT " bytes are left",
                   r->file, what, start, len, remaining (r));
      return NULL;
    }
  s = (const char *) r->data + r->pos;
  r->pos += len;
  if (is_name)
    {
      if (memchr (s, 0, len) != NULL || !g_utf8_validate (s, len, NULL))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: %s at byte %" G_GSIZE_FORMAT " is not a valid UTF-8 name",
                       r->file, what, start);
          return NULL;
        }
      return g_strndup (s, len);
    }
  if (!g_utf8_validate_len (s, len, NULL))
    return g_utf8_make_valid (s, len);
  return g_strndup (s, len);
}

static const char *
value_type_name (guint32 type)
{
  static const char *names[] = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
    "bool", "string", "array", "uint64", "int64", "float64",
  };
  return type < G_N_ELEMENTS (names) ? names[type] : "unknown";
}

/* Size of a scalar value; 0 for string and array. */
static guint
scalar_size (AneGgufValueType type)
{
  switch (type)
    {
    case ANE_GGUF_VALUE_TYPE_UINT8:
    case ANE_GGUF_VALUE_TYPE_INT8:
    case ANE_GGUF_VALUE_TYPE_BOOL:
      return 1;
    case ANE_GGUF_VALUE_TYPE_UINT16:
    case ANE_GGUF_VALUE_TYPE_INT16:
      return 2;
    case ANE_GGUF_VALUE_TYPE_UINT32:
    case ANE_GGUF_VALUE_TYPE_INT32:
    case ANE_GGUF_VALUE_TYPE_FLOAT32:
      return 4;
    case ANE_GGUF_VALUE_TYPE_UINT64:
    case ANE_GGUF_VALUE_TYPE_INT64:
    case ANE_GGUF_VALUE_TYPE_FLOAT64:
      return 8;
    case ANE_GGUF_VALUE_TYPE_STRING:
    case ANE_GGUF_VALUE_TYPE_ARRAY:
    default:
      return 0;
    }
}

static gboolean
is_integer_type (AneGgufValueType type)
{
  return type <= ANE_GGUF_VALUE_TYPE_INT32 ||
         type == ANE_GGUF_VALUE_TYPE_UINT64 || type == ANE_GGUF_VALUE_TYPE_INT64;
}

static gboolean
is_float_type (AneGgufValueType type)
{
  return type == ANE_GGUF_VALUE_TYPE_FLOAT32 || type == ANE_GGUF_VALUE_TYPE_FLOAT64;
}

static gboolean
parse_kv (Reader  *r,
          GgufKv  *kv,
          GError **error)
{
  guint32 type;
  gsize type_pos = r->pos;

  if (!read_u32 (r, &type, "a value type", error))
    return FALSE;
  if (type > ANE_GGUF_VALUE_TYPE_FLOAT64)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: key '%s' has unknown value type %u at byte %" G_GSIZE_FORMAT,
                   r->file, kv->key, type, type_pos);
      return FALSE;
    }
  kv->type = type;

  if (type == ANE_GGUF_VALUE_TYPE_STRING)
    {
      kv->string = read_string (r, FALSE, "a string value", error);
      return kv->string != NULL;
    }

  if (type == ANE_GGUF_VALUE_TYPE_ARRAY)
    {
      guint32 etype;
      guint64 n;
      gsize count_pos;
      guint min_size;

      if (!read_u32 (r, &etype, "an array element type", error))
        return FALSE;
      if (etype == ANE_GGUF_VALUE_TYPE_ARRAY)
        {
          /* llama.cpp rejects them too; bounding the depth is not worth it. */
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                       "%s: key '%s' at byte %" G_GSIZE_FORMAT " is an array of arrays",
                       r->file, kv->key, kv->offset);
          return FALSE;
        }
      if (etype > ANE_GGUF_VALUE_TYPE_FLOAT64)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: key '%s' has unknown array element type %u at byte %" G_GSIZE_FORMAT,
                       r->file, kv->key, etype, r->pos - 4);
          return FALSE;
        }
      count_pos = r->pos;
      if (!read_u64 (r, &n, "an array count", error))
        return FALSE;
      /* Every element takes at least min_size bytes (a string its length). */
      min_size = etype == ANE_GGUF_VALUE_TYPE_STRING ? 8 : scalar_size (etype);
      if (n > remaining (r) / min_size)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: key '%s': array count %" G_GUINT64_FORMAT " at byte %" G_GSIZE_FORMAT
                       " exceeds the %" G_GSIZE_FORMAT " bytes left",
                       r->file, kv->key, n, count_pos, remaining (r));
          return FALSE;
        }
      kv->element_type = etype;
      kv->n = n;
      if (etype == ANE_GGUF_VALUE_TYPE_STRING)
        {
          kv->strv = g_new0 (char *, n + 1);
          for (guint64 i = 0; i < n; i++)
            {
              g_autoptr(GError) inner = NULL;

              kv->strv[i] = read_string (r, FALSE, "a string", &inner);
              if (kv->strv[i] == NULL)
                {
                  /* inner reads "<file>: a string at byte ..." */
                  g_set_error (error, ANE_ERROR, inner->code,
                               "%s: key '%s', element %" G_GUINT64_FORMAT ": %s",
                               r->file, kv->key, i, inner->message + strlen (r->file) + 2);
                  return FALSE;
                }
            }
        }
      else
        {
          kv->elements = r->data + r->pos;
          r->pos += n * min_size;
        }
      return TRUE;
    }

  if (!need (r, scalar_size (type), "a value", error))
    return FALSE;
  memcpy (kv->raw, r->data + r->pos, scalar_size (type));
  r->pos += scalar_size (type);
  return TRUE;
}

/* Decoding of little-endian elements. */
static gint64
decode_int (AneGgufValueType type, const guint8 *p, gboolean *overflow)
{
  *overflow = FALSE;
  switch (type)
    {
    case ANE_GGUF_VALUE_TYPE_UINT8:  return p[0];
    case ANE_GGUF_VALUE_TYPE_INT8:   return (gint8) p[0];
    case ANE_GGUF_VALUE_TYPE_BOOL:   return p[0] != 0;
    case ANE_GGUF_VALUE_TYPE_UINT16: return (guint16) (p[0] | p[1] << 8);
    case ANE_GGUF_VALUE_TYPE_INT16:  return (gint16) (p[0] | p[1] << 8);
    case ANE_GGUF_VALUE_TYPE_UINT32:
    case ANE_GGUF_VALUE_TYPE_INT32:
      {
        guint32 v;
        memcpy (&v, p, 4);
        v = GUINT32_FROM_LE (v);
        return type == ANE_GGUF_VALUE_TYPE_INT32 ? (gint64) (gint32) v : (gint64) v;
      }
    case ANE_GGUF_VALUE_TYPE_UINT64:
    case ANE_GGUF_VALUE_TYPE_INT64:
      {
        guint64 v;
        memcpy (&v, p, 8);
        v = GUINT64_FROM_LE (v);
        if (type == ANE_GGUF_VALUE_TYPE_UINT64 && v > G_MAXINT64)
          *overflow = TRUE;
        return (gint64) v;
      }
    default:
      g_assert_not_reached ();
    }
}

static double
decode_float (AneGgufValueType type, const guint8 *p)
{
  if (type == ANE_GGUF_VALUE_TYPE_FLOAT32)
    {
      guint32 bits;
      float f;
      memcpy (&bits, p, 4);
      bits = GUINT32_FROM_LE (bits);
      memcpy (&f, &bits, 4);
      return f;
    }
  else if (type == ANE_GGUF_VALUE_TYPE_FLOAT64)
    {
      guint64 bits;
      double d;
      memcpy (&bits, p, 8);
      bits = GUINT64_FROM_LE (bits);
      memcpy (&d, &bits, 8);
      return d;
    }
  else
    {
      gboolean overflow;
      guint64 u;
      gint64 v = decode_int (type, p, &overflow);
      if (!overflow)
        return (double) v;
      u = (guint64) v;
      return (double) u;
    }
}

/* ggml types: the AneDType each maps to. */
static gboolean
dtype_from_ggml (guint32 ggml_type, AneDType *dtype)
{
  static const struct { guint32 ggml; AneDType dtype; } map[] = {
    { ANE_GGML_TYPE_F32,  ANE_DTYPE_FLOAT32 },
    { ANE_GGML_TYPE_F16,  ANE_DTYPE_FLOAT16 },
    { ANE_GGML_TYPE_BF16, ANE_DTYPE_BFLOAT16 },
    { ANE_GGML_TYPE_Q4_0, ANE_DTYPE_Q4_0 },
    { ANE_GGML_TYPE_Q4_1, ANE_DTYPE_Q4_1 },
    { ANE_GGML_TYPE_Q5_0, ANE_DTYPE_Q5_0 },
    { ANE_GGML_TYPE_Q5_1, ANE_DTYPE_Q5_1 },
    { ANE_GGML_TYPE_Q8_0, ANE_DTYPE_Q8_0 },
    { ANE_GGML_TYPE_Q2_K, ANE_DTYPE_Q2_K },
    { ANE_GGML_TYPE_Q3_K, ANE_DTYPE_Q3_K },
    { ANE_GGML_TYPE_Q4_K, ANE_DTYPE_Q4_K },
    { ANE_GGML_TYPE_Q5_K, ANE_DTYPE_Q5_K },
    { ANE_GGML_TYPE_Q6_K, ANE_DTYPE_Q6_K },
    { ANE_GGML_TYPE_Q8_K, ANE_DTYPE_Q8_K },
    { ANE_GGML_TYPE_I8,   ANE_DTYPE_INT8 },
    { ANE_GGML_TYPE_I16,  ANE_DTYPE_INT16 },
    { ANE_GGML_TYPE_I32,  ANE_DTYPE_INT32 },
    { ANE_GGML_TYPE_I64,  ANE_DTYPE_INT64 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (map[i].ggml == ggml_type)
      {
        if (dtype != NULL)
          *dtype = map[i].dtype;
        return TRUE;
      }
  return FALSE;
}

gboolean
ane_gguf_ggml_type_from_dtype (AneDType  dtype,
                               guint32  *ggml_type)
{
  for (guint32 t = 0; t <= ANE_GGML_TYPE_BF16; t++)
    {
      AneDType d;
      if (dtype_from_ggml (t, &d) && d == dtype)
        {
          *ggml_type = t;
          return TRUE;
        }
    }
  return FALSE;
}

static guint
dtype_block_size (AneDType dtype)
{
  return ane_dtype_is_block (dtype) ? ane_dtype_block_size (dtype) : 1;
}

static guint
dtype_block_bytes (AneDType dtype)
{
  if (ane_dtype_is_block (dtype))
    return ane_dtype_block_bytes (dtype);
  switch (dtype)
    {
    case ANE_DTYPE_FLOAT32:
    case ANE_DTYPE_INT32:
      return 4;
    case ANE_DTYPE_FLOAT16:
    case ANE_DTYPE_BFLOAT16:
    case ANE_DTYPE_INT16:
      return 2;
    case ANE_DTYPE_INT64:
      return 8;
    default:
      return 1;
    }
}

static gboolean
parse_tensor_info (Reader      *r,
                   AneGgufFile *self,
                   GgufTensor  *t,
                   GError     **error)
{
  guint32 n_dims, ggml_type;
  guint64 n_elements = 1, n_blocks, n_bytes;
  guint bs, bb;

  if (!read_u32 (r, &n_dims, "a tensor's n_dims", error))
    return FALSE;
  if (n_dims > GGML_MAX_DIMS)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: tensor '%s' at byte %" G_GSIZE_FORMAT " has %u dimensions (at most %d)",
                   r->file, t->name, t->info_offset, n_dims, GGML_MAX_DIMS);
      return FALSE;
    }
  t->n_dims = n_dims;
  for (guint i = 0; i < n_dims; i++)
    {
      guint64 ne;

      if (!read_u64 (r, &ne, "a tensor dimension", error))
        return FALSE;
      if (ne > G_MAXINT64)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: tensor '%s' at byte %" G_GSIZE_FORMAT ": dimension %u is negative",
                       r->file, t->name, t->info_offset, i);
          return FALSE;
        }
      t->ne[i] = (gint64) ne;
      /* The element count must fit in an int64, as ggml's does. */
      if (ne != 0 && n_elements > (guint64) G_MAXINT64 / ne)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: tensor '%s' at byte %" G_GSIZE_FORMAT ": element count overflows",
                       r->file, t->name, t->info_offset);
          return FALSE;
        }
      n_elements *= ne;
    }
  if (!read_u32 (r, &ggml_type, "a tensor's type", error))
    return FALSE;
  t->ggml_type = ggml_type;
  if (!dtype_from_ggml (ggml_type, &t->dtype))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: tensor '%s' at byte %" G_GSIZE_FORMAT " has ggml type %u, "
                   "which is unknown or has no ane-glib dtype",
                   r->file, t->name, t->info_offset, ggml_type);
      return FALSE;
    }
  if (!read_u64 (r, &t->offset, "a tensor's offset", error))
    return FALSE;

  bs = dtype_block_size (t->dtype);
  bb = dtype_block_bytes (t->dtype);
  if (bs > 1 && (n_dims == 0 || t->ne[0] % bs != 0))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: tensor '%s' at byte %" G_GSIZE_FORMAT ": the innermost dimension %"
                   G_GINT64_FORMAT " is not a multiple of the %s block size %u",
                   r->file, t->name, t->info_offset, n_dims ? t->ne[0] : 0,
                   ane_dtype_to_string (t->dtype), bs);
      return FALSE;
    }
  n_blocks = n_elements / bs;
  if (n_blocks > G_MAXUINT64 / bb)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: tensor '%s' at byte %" G_GSIZE_FORMAT ": byte size overflows",
                   r->file, t->name, t->info_offset);
      return FALSE;
    }
  n_bytes = n_blocks * bb;
  t->n_bytes = n_bytes;
  if (t->offset % self->alignment != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: tensor '%s' at byte %" G_GSIZE_FORMAT ": offset %" G_GUINT64_FORMAT
                   " is not a multiple of the alignment %u",
                   r->file, t->name, t->info_offset, t->offset, self->alignment);
      return FALSE;
    }
  return TRUE;
}

static int
compare_offsets (gconstpointer a,
                 gconstpointer b)
{
  const GgufTensor *ta = *(GgufTensor * const *) a, *tb = *(GgufTensor * const *) b;

  return ta->offset < tb->offset ? -1 : ta->offset > tb->offset ? 1 : 0;
}

static gboolean
check_data_section (AneGgufFile *self,
                    GError     **error)
{
  guint64 data_size;
  g_autoptr(GPtrArray) sorted = NULL;
  const GgufTensor *prev = NULL;

  if (self->tensors->len == 0)
    return TRUE;
  if (self->data_offset > self->size)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: the data section would start at byte %" G_GUINT64_FORMAT
                   ", past the end of the file (%" G_GSIZE_FORMAT " bytes)",
                   self->display, self->data_offset, self->size);
      return FALSE;
    }
  data_size = self->size - self->data_offset;

  /* Not g_ptr_array_copy(): that would carry over the free function. */
  sorted = g_ptr_array_sized_new (self->tensors->len);
  for (guint i = 0; i < self->tensors->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (self->tensors, i));
  g_ptr_array_sort (sorted, compare_offsets);
  for (guint i = 0; i < sorted->len; i++)
    {
      const GgufTensor *t = g_ptr_array_index (sorted, i);

      if (t->offset > data_size || t->n_bytes > data_size - t->offset)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: tensor '%s' (info at byte %" G_GSIZE_FORMAT "): its %" G_GUINT64_FORMAT
                       " bytes at data offset %" G_GUINT64_FORMAT " run past the end of the "
                       "data section (%" G_GUINT64_FORMAT " bytes from byte %" G_GUINT64_FORMAT ")",
                       self->display, t->name, t->info_offset, t->n_bytes, t->offset,
                       data_size, self->data_offset);
          return FALSE;
        }
      if (t->n_bytes == 0)
        continue;
      if (prev != NULL && t->offset < prev->offset + prev->n_bytes)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: tensor '%s' (info at byte %" G_GSIZE_FORMAT ", data offset %"
                       G_GUINT64_FORMAT ") overlaps tensor '%s' (data offset %" G_GUINT64_FORMAT
                       ", %" G_GUINT64_FORMAT " bytes)",
                       self->display, t->name, t->info_offset, t->offset,
                       prev->name, prev->offset, prev->n_bytes);
          return FALSE;
        }
      prev = t;
    }
  return TRUE;
}

static gboolean
parse (AneGgufFile *self,
       GError     **error)
{
  Reader r = { self->data, self->size, 0, self->display };
  guint32 version;
  guint64 n_tensors, n_kv, header_end;
  gsize count_pos;

  if (!need (&r, 4, "the magic", error))
    return FALSE;
  if (memcmp (self->data, GGUF_MAGIC, 4) != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: not a GGUF file (bad magic at byte 0)", self->display);
      return FALSE;
    }
  r.pos = 4;
  if (!read_u32 (&r, &version, "the version", error))
    return FALSE;
  if (version != 2 && version != 3)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: GGUF version %u at byte 4 is not supported (2 and 3 are%s)",
                   self->display, version,
                   GUINT32_SWAP_LE_BE (version) == 2 || GUINT32_SWAP_LE_BE (version) == 3
                     ? "; the file looks big-endian" : "");
      return FALSE;
    }
  self->version = version;

  count_pos = r.pos;
  if (!read_u64 (&r, &n_tensors, "the tensor count", error) ||
      !read_u64 (&r, &n_kv, "the key-value count", error))
    return FALSE;
  if (n_tensors > remaining (&r) / MIN_TENSOR_BYTES || n_tensors > G_MAXINT32)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: tensor count %" G_GUINT64_FORMAT " at byte %" G_GSIZE_FORMAT
                   " cannot fit in the %" G_GSIZE_FORMAT " bytes left",
                   self->display, n_tensors, count_pos, remaining (&r));
      return FALSE;
    }
  if (n_kv > remaining (&r) / MIN_KV_BYTES)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: key-value count %" G_GUINT64_FORMAT " at byte %" G_GSIZE_FORMAT
                   " cannot fit in the %" G_GSIZE_FORMAT " bytes left",
                   self->display, n_kv, count_pos + 8, remaining (&r));
      return FALSE;
    }

  for (guint64 i = 0; i < n_kv; i++)
    {
      GgufKv *kv = g_new0 (GgufKv, 1);

      g_ptr_array_add (self->kvs, kv);
      kv->offset = r.pos;
      kv->key = read_string (&r, TRUE, "a key", error);
      if (kv->key == NULL)
        return FALSE;
      if (g_hash_table_contains (self->kv_index, kv->key))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: duplicate key '%s' at byte %" G_GSIZE_FORMAT,
                       self->display, kv->key, kv->offset);
          return FALSE;
        }
      if (!parse_kv (&r, kv, error))
        return FALSE;
      g_hash_table_insert (self->kv_index, kv->key, kv);
    }

  /* general.alignment must be known before the tensor offsets are checked. */
  {
    GgufKv *kv = g_hash_table_lookup (self->kv_index, "general.alignment");

    if (kv != NULL)
      {
        guint32 a;

        if (kv->type != ANE_GGUF_VALUE_TYPE_UINT32)
          {
            g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                         "%s: key 'general.alignment' at byte %" G_GSIZE_FORMAT
                         " has type %s, not uint32",
                         self->display, kv->offset, value_type_name (kv->type));
            return FALSE;
          }
        memcpy (&a, kv->raw, 4);
        a = GUINT32_FROM_LE (a);
        if (a == 0 || (a & (a - 1)) != 0)
          {
            g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                         "%s: key 'general.alignment' at byte %" G_GSIZE_FORMAT
                         " is %u, not a power of two",
                         self->display, kv->offset, a);
            return FALSE;
          }
        self->alignment = a;
      }
  }

  for (guint64 i = 0; i < n_tensors; i++)
    {
      GgufTensor *t = g_new0 (GgufTensor, 1);

      g_ptr_array_add (self->tensors, t);
      t->info_offset = r.pos;
      t->name = read_string (&r, TRUE, "a tensor name", error);
      if (t->name == NULL)
        return FALSE;
      if (g_hash_table_contains (self->tensor_index, t->name))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: duplicate tensor '%s' at byte %" G_GSIZE_FORMAT,
                       self->display, t->name, t->info_offset);
          return FALSE;
        }
      if (!parse_tensor_info (&r, self, t, error))
        return FALSE;
      g_hash_table_insert (self->tensor_index, t->name, t);
    }

  /* The data section starts at the aligned end of the header. */
  header_end = r.pos;
  self->data_offset = (header_end + self->alignment - 1) / self->alignment * self->alignment;
  return check_data_section (self, error);
}

static AneGgufFile *
gguf_file_new (const char *path,
               GBytes     *bytes,
               GError    **error)
{
  g_autoptr(AneGgufFile) self = g_object_new (ANE_TYPE_GGUF_FILE, NULL);

  self->path = g_strdup (path);
  self->display = g_strdup (path != NULL ? path : "<memory>");
  self->bytes = g_bytes_ref (bytes);
  self->data = g_bytes_get_data (bytes, &self->size);
  if (!parse (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * ane_gguf_file_new:
 * @path: (type filename): the GGUF file
 * @error: return location for a #GError
 *
 * Memory-maps @path and parses and checks its header, metadata and tensor
 * directory. The mapping stays open as long as the object or any tensor
 * from [method@Ane.GgufFile.dup_tensor] lives.
 *
 * Returns: (transfer full): the file, or %NULL with %ANE_ERROR_IO if it
 *   cannot be mapped or is not a regular file (a FIFO, a device, a
 *   directory), %ANE_ERROR_PARSE if it is malformed, or
 *   %ANE_ERROR_UNSUPPORTED for a version or tensor type not read here
 */
AneGgufFile *
ane_gguf_file_new (const char  *path,
                   GError     **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* A regular file only: open(2) of a FIFO would wait for a writer for
   * ever, and a device has no size to check offsets against. */
  bytes = ane_file_map_bytes (path, &local);
  if (bytes == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s", local->message);
      return NULL;
    }
  return gguf_file_new (path, bytes, error);
}

/**
 * ane_gguf_file_new_from_bytes:
 * @data: the contents of a GGUF file
 * @error: return location for a #GError
 *
 * Parses a GGUF file held in memory, with the same checks as
 * [ctor@Ane.GgufFile.new]. Tensors reference @data without copying.
 *
 * Returns: (transfer full): the file, or %NULL if @data is malformed or
 *   unsupported
 */
AneGgufFile *
ane_gguf_file_new_from_bytes (GBytes  *data,
                              GError **error)
{
  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return gguf_file_new (NULL, data, error);
}

/**
 * ane_gguf_file_get_path:
 * @self: a GGUF file
 *
 * Gets the path the file was read from.
 *
 * Returns: (nullable) (type filename): the path, or %NULL for a file read
 *   from memory
 */
const char *
ane_gguf_file_get_path (AneGgufFile *self)
{
  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), NULL);
  return self->path;
}

/**
 * ane_gguf_file_get_version:
 * @self: a GGUF file
 *
 * Gets the GGUF format version of the file.
 *
 * Returns: 2 or 3
 */
guint
ane_gguf_file_get_version (AneGgufFile *self)
{
  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), 0);
  return self->version;
}

/**
 * ane_gguf_file_get_alignment:
 * @self: a GGUF file
 *
 * Gets the alignment of the data section and the tensors in it.
 *
 * Returns: `general.alignment`, or 32 when the file does not set it
 */
guint
ane_gguf_file_get_alignment (AneGgufFile *self)
{
  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), 0);
  return self->alignment;
}

/**
 * ane_gguf_file_get_data_offset:
 * @self: a GGUF file
 *
 * Gets the byte offset of the data section in the file: the end of the
 * tensor infos rounded up to the alignment. Tensor offsets count from here.
 *
 * Returns: the offset of the data section
 */
guint64
ane_gguf_file_get_data_offset (AneGgufFile *self)
{
  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), 0);
  return self->data_offset;
}

/**
 * ane_gguf_file_get_architecture:
 * @self: a GGUF file
 *
 * Gets `general.architecture`, the model family (`llama`, `qwen2`, ...)
 * that prefixes the model's other keys.
 *
 * Returns: (nullable): the architecture, or %NULL if the key is absent or
 *   not a string
 */
const char *
ane_gguf_file_get_architecture (AneGgufFile *self)
{
  GgufKv *kv;

  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), NULL);
  kv = g_hash_table_lookup (self->kv_index, "general.architecture");
  return kv != NULL && kv->type == ANE_GGUF_VALUE_TYPE_STRING ? kv->string : NULL;
}

/**
 * ane_gguf_file_list_keys:
 * @self: a GGUF file
 *
 * Lists the metadata keys in file order.
 *
 * Returns: (transfer full) (array zero-terminated=1): the keys
 */
char **
ane_gguf_file_list_keys (AneGgufFile *self)
{
  GStrvBuilder *b;
  char **strv;

  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), NULL);
  b = g_strv_builder_new ();
  for (guint i = 0; i < self->kvs->len; i++)
    g_strv_builder_add (b, ((GgufKv *) g_ptr_array_index (self->kvs, i))->key);
  strv = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return strv;
}

/**
 * ane_gguf_file_has_key:
 * @self: a GGUF file
 * @key: a metadata key
 *
 * Checks whether the file has the metadata key @key.
 *
 * Returns: %TRUE if @key is present
 */
gboolean
ane_gguf_file_has_key (AneGgufFile *self,
                       const char  *key)
{
  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  return g_hash_table_contains (self->kv_index, key);
}

/**
 * ane_gguf_file_get_value_type:
 * @self: a GGUF file
 * @key: a metadata key
 * @value_type: (out) (optional): the type of the value
 * @element_type: (out) (optional): for an array, the type of its elements;
 *   otherwise the value's type again
 * @n_elements: (out) (optional): for an array, its length; otherwise 1
 *
 * Looks up the type of a metadata value.
 *
 * Returns: %TRUE if @key is present, %FALSE (and the outputs untouched) if not
 */
gboolean
ane_gguf_file_get_value_type (AneGgufFile      *self,
                              const char       *key,
                              AneGgufValueType *value_type,
                              AneGgufValueType *element_type,
                              guint64          *n_elements)
{
  GgufKv *kv;

  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  kv = g_hash_table_lookup (self->kv_index, key);
  if (kv == NULL)
    return FALSE;
  if (value_type != NULL)
    *value_type = kv->type;
  if (element_type != NULL)
    *element_type = kv->type == ANE_GGUF_VALUE_TYPE_ARRAY ? kv->element_type : kv->type;
  if (n_elements != NULL)
    *n_elements = kv->type == ANE_GGUF_VALUE_TYPE_ARRAY ? kv->n : 1;
  return TRUE;
}

/* The pair for key, of an accepted type, or NULL and an error. */
static GgufKv *
lookup (AneGgufFile *self,
        const char  *key,
        gboolean     array,
        gboolean   (*accept) (AneGgufValueType),
        const char  *wanted,
        GError     **error)
{
  GgufKv *kv = g_hash_table_lookup (self->kv_index, key);
  AneGgufValueType type;

  if (kv == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                   "%s: no metadata key '%s'", self->display, key);
      return NULL;
    }
  if (array != (kv->type == ANE_GGUF_VALUE_TYPE_ARRAY))
    goto mismatch;
  type = array ? kv->element_type : kv->type;
  if (!accept (type))
    goto mismatch;
  return kv;

mismatch:
  if (kv->type == ANE_GGUF_VALUE_TYPE_ARRAY)
    g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                 "%s: key '%s' (byte %" G_GSIZE_FORMAT ") is an array of %s, not %s",
                 self->display, key, kv->offset, value_type_name (kv->element_type), wanted);
  else
    g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                 "%s: key '%s' (byte %" G_GSIZE_FORMAT ") is a %s, not %s",
                 self->display, key, kv->offset, value_type_name (kv->type), wanted);
  return NULL;
}

static gboolean
accept_string (AneGgufValueType type)
{
  return type == ANE_GGUF_VALUE_TYPE_STRING;
}

static gboolean
accept_bool (AneGgufValueType type)
{
  return type == ANE_GGUF_VALUE_TYPE_BOOL;
}

static gboolean
accept_int_or_bool (AneGgufValueType type)
{
  return is_integer_type (type) || type == ANE_GGUF_VALUE_TYPE_BOOL;
}

static gboolean
accept_numeric (AneGgufValueType type)
{
  return is_integer_type (type) || is_float_type (type);
}

/**
 * ane_gguf_file_get_string:
 * @self: a GGUF file
 * @key: a metadata key
 * @error: return location for a #GError
 *
 * Gets a string value. Bytes that are not valid UTF-8 have been replaced
 * with U+FFFD.
 *
 * Returns: (transfer none): the string, or %NULL with %ANE_ERROR_NOT_FOUND
 *   or %ANE_ERROR_DTYPE (the value is not a string)
 */
const char *
ane_gguf_file_get_string (AneGgufFile *self,
                          const char  *key,
                          GError     **error)
{
  GgufKv *kv;

  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  kv = lookup (self, key, FALSE, accept_string, "a string", error);
  return kv != NULL ? kv->string : NULL;
}

/**
 * ane_gguf_file_get_int:
 * @self: a GGUF file
 * @key: a metadata key
 * @value: (out): the value, widened to 64 bits
 * @error: return location for a #GError
 *
 * Gets an integer value of any of the integer types.
 *
 * Returns: %TRUE on success; %FALSE with %ANE_ERROR_NOT_FOUND,
 *   %ANE_ERROR_DTYPE (not an integer) or %ANE_ERROR_OVERFLOW (a uint64
 *   above %G_MAXINT64)
 */
gboolean
ane_gguf_file_get_int (AneGgufFile *self,
                       const char  *key,
                       gint64      *value,
                       GError     **error)
{
  GgufKv *kv;
  gboolean overflow;
  gint64 v;

  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  kv = lookup (self, key, FALSE, is_integer_type, "an integer", error);
  if (kv == NULL)
    return FALSE;
  v = decode_int (kv->type, kv->raw, &overflow);
  if (overflow)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW,
                   "%s: key '%s' (byte %" G_GSIZE_FORMAT ") holds %" G_GUINT64_FORMAT
                   ", beyond the int64 range",
                   self->display, key, kv->offset, (guint64) v);
      return FALSE;
    }
  *value = v;
  return TRUE;
}

/**
 * ane_gguf_file_get_float:
 * @self: a GGUF file
 * @key: a metadata key
 * @value: (out): the value
 * @error: return location for a #GError
 *
 * Gets a float32 or float64 value as a double.
 *
 * Returns: %TRUE on success; %FALSE with %ANE_ERROR_NOT_FOUND or
 *   %ANE_ERROR_DTYPE (not a float)
 */
gboolean
ane_gguf_file_get_float (AneGgufFile *self,
                         const char  *key,
                         double      *value,
                         GError     **error)
{
  GgufKv *kv;

  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  kv = lookup (self, key, FALSE, is_float_type, "a float", error);
  if (kv == NULL)
    return FALSE;
  *value = decode_float (kv->type, kv->raw);
  return TRUE;
}

/**
 * ane_gguf_file_get_bool:
 * @self: a GGUF file
 * @key: a metadata key
 * @value: (out): the value
 * @error: return location for a #GError
 *
 * Gets a bool value (any non-zero byte is %TRUE).
 *
 * Returns: %TRUE on success; %FALSE with %ANE_ERROR_NOT_FOUND or
 *   %ANE_ERROR_DTYPE (not a bool)
 */
gboolean
ane_gguf_file_get_bool (AneGgufFile *self,
                        const char  *key,
                        gboolean    *value,
                        GError     **error)
{
  GgufKv *kv;

  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  kv = lookup (self, key, FALSE, accept_bool, "a bool", error);
  if (kv == NULL)
    return FALSE;
  *value = kv->raw[0] != 0;
  return TRUE;
}

/**
 * ane_gguf_file_dup_strings:
 * @self: a GGUF file
 * @key: a metadata key
 * @error: return location for a #GError
 *
 * Gets a copy of an array of strings, such as `tokenizer.ggml.tokens`.
 *
 * Returns: (transfer full) (array zero-terminated=1) (nullable): the
 *   strings, or %NULL with %ANE_ERROR_NOT_FOUND or %ANE_ERROR_DTYPE (not an
 *   array of strings)
 */
char **
ane_gguf_file_dup_strings (AneGgufFile *self,
                           const char  *key,
                           GError     **error)
{
  GgufKv *kv;

  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  kv = lookup (self, key, TRUE, accept_string, "an array of strings", error);
  return kv != NULL ? g_strdupv (kv->strv) : NULL;
}

/**
 * ane_gguf_file_dup_ints:
 * @self: a GGUF file
 * @key: a metadata key
 * @n_values: (out): the number of values
 * @error: return location for a #GError
 *
 * Gets a copy of an array of integers of any integer type (or of bools, as
 * 0 and 1), widened to 64 bits.
 *
 * Returns: (transfer full) (array length=n_values) (nullable): the values,
 *   or %NULL with %ANE_ERROR_NOT_FOUND, %ANE_ERROR_DTYPE (not an array of
 *   integers) or %ANE_ERROR_OVERFLOW (a uint64 above %G_MAXINT64); an empty
 *   array is a non-%NULL pointer with @n_values 0
 */
gint64 *
ane_gguf_file_dup_ints (AneGgufFile *self,
                        const char  *key,
                        gsize       *n_values,
                        GError     **error)
{
  GgufKv *kv;
  g_autofree gint64 *out = NULL;
  guint size;

  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (n_values != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  *n_values = 0;
  kv = lookup (self, key, TRUE, accept_int_or_bool, "an array of integers", error);
  if (kv == NULL)
    return NULL;
  size = scalar_size (kv->element_type);
  out = g_new (gint64, MAX (kv->n, 1));
  for (guint64 i = 0; i < kv->n; i++)
    {
      gboolean overflow;

      out[i] = decode_int (kv->element_type, kv->elements + i * size, &overflow);
      if (overflow)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW,
                       "%s: key '%s' (byte %" G_GSIZE_FORMAT "), element %" G_GUINT64_FORMAT
                       " is beyond the int64 range",
                       self->display, key, kv->offset, i);
          return NULL;
        }
    }
  *n_values = kv->n;
  return g_steal_pointer (&out);
}

/**
 * ane_gguf_file_dup_floats:
 * @self: a GGUF file
 * @key: a metadata key
 * @n_values: (out): the number of values
 * @error: return location for a #GError
 *
 * Gets a copy of an array of numbers of any numeric type (floats, such as
 * `tokenizer.ggml.scores`, or integers) as doubles.
 *
 * Returns: (transfer full) (array length=n_values) (nullable): the values,
 *   or %NULL with %ANE_ERROR_NOT_FOUND or %ANE_ERROR_DTYPE (not a numeric
 *   array); an empty array is a non-%NULL pointer with @n_values 0
 */
double *
ane_gguf_file_dup_floats (AneGgufFile *self,
                          const char  *key,
                          gsize       *n_values,
                          GError     **error)
{
  GgufKv *kv;
  double *out;
  guint size;

  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (n_values != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  *n_values = 0;
  kv = lookup (self, key, TRUE, accept_numeric, "an array of numbers", error);
  if (kv == NULL)
    return NULL;
  size = scalar_size (kv->element_type);
  out = g_new (double, MAX (kv->n, 1));
  for (guint64 i = 0; i < kv->n; i++)
    out[i] = decode_float (kv->element_type, kv->elements + i * size);
  *n_values = kv->n;
  return out;
}

static GVariant *
scalar_variant (AneGgufValueType type,
                const guint8    *p)
{
  gboolean overflow;
  gint64 v;

  if (type == ANE_GGUF_VALUE_TYPE_FLOAT32 || type == ANE_GGUF_VALUE_TYPE_FLOAT64)
    return g_variant_new_double (decode_float (type, p));
  v = decode_int (type, p, &overflow);
  switch (type)
    {
    case ANE_GGUF_VALUE_TYPE_UINT8:  return g_variant_new_byte (v);
    case ANE_GGUF_VALUE_TYPE_INT8:   return g_variant_new_int16 (v);
    case ANE_GGUF_VALUE_TYPE_UINT16: return g_variant_new_uint16 (v);
    case ANE_GGUF_VALUE_TYPE_INT16:  return g_variant_new_int16 (v);
    case ANE_GGUF_VALUE_TYPE_UINT32: return g_variant_new_uint32 (v);
    case ANE_GGUF_VALUE_TYPE_INT32:  return g_variant_new_int32 (v);
    case ANE_GGUF_VALUE_TYPE_BOOL:   return g_variant_new_boolean (v);
    case ANE_GGUF_VALUE_TYPE_UINT64: return g_variant_new_uint64 ((guint64) v);
    case ANE_GGUF_VALUE_TYPE_INT64:  return g_variant_new_int64 (v);
    default:                         g_assert_not_reached ();
    }
}

static const GVariantType *
variant_type_of (AneGgufValueType type)
{
  switch (type)
    {
    case ANE_GGUF_VALUE_TYPE_UINT8:   return G_VARIANT_TYPE_BYTE;
    case ANE_GGUF_VALUE_TYPE_INT8:
    case ANE_GGUF_VALUE_TYPE_INT16:   return G_VARIANT_TYPE_INT16;
    case ANE_GGUF_VALUE_TYPE_UINT16:  return G_VARIANT_TYPE_UINT16;
    case ANE_GGUF_VALUE_TYPE_UINT32:  return G_VARIANT_TYPE_UINT32;
    case ANE_GGUF_VALUE_TYPE_INT32:   return G_VARIANT_TYPE_INT32;
    case ANE_GGUF_VALUE_TYPE_FLOAT32:
    case ANE_GGUF_VALUE_TYPE_FLOAT64: return G_VARIANT_TYPE_DOUBLE;
    case ANE_GGUF_VALUE_TYPE_BOOL:    return G_VARIANT_TYPE_BOOLEAN;
    case ANE_GGUF_VALUE_TYPE_STRING:  return G_VARIANT_TYPE_STRING;
    case ANE_GGUF_VALUE_TYPE_UINT64:  return G_VARIANT_TYPE_UINT64;
    case ANE_GGUF_VALUE_TYPE_INT64:   return G_VARIANT_TYPE_INT64;
    case ANE_GGUF_VALUE_TYPE_ARRAY:
    default:                          g_assert_not_reached ();
    }
}

/**
 * ane_gguf_file_dup_value:
 * @self: a GGUF file
 * @key: a metadata key
 * @error: return location for a #GError
 *
 * Gets any metadata value as a #GVariant, the form for bindings and for
 * printing. The types map as: uint8 `y`, int8 and int16 `n`, uint16 `q`,
 * uint32 `u`, int32 `i`, uint64 `t`, int64 `x`, float32 and float64 `d`,
 * bool `b`, string `s`, and an array of T to `a` followed by T's type.
 *
 * Returns: (transfer full): the value, or %NULL with %ANE_ERROR_NOT_FOUND
 */
GVariant *
ane_gguf_file_dup_value (AneGgufFile *self,
                         const char  *key,
                         GError     **error)
{
  GgufKv *kv;
  GVariantBuilder b;
  guint size;

  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  kv = g_hash_table_lookup (self->kv_index, key);
  if (kv == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                   "%s: no metadata key '%s'", self->display, key);
      return NULL;
    }
  if (kv->type == ANE_GGUF_VALUE_TYPE_STRING)
    return g_variant_ref_sink (g_variant_new_string (kv->string));
  if (kv->type != ANE_GGUF_VALUE_TYPE_ARRAY)
    return g_variant_ref_sink (scalar_variant (kv->type, kv->raw));

  if (kv->element_type == ANE_GGUF_VALUE_TYPE_STRING)
    return g_variant_ref_sink (g_variant_new_strv ((const char * const *) kv->strv, kv->n));

  {
    g_autoptr(GVariantType) at = g_variant_type_new_array (variant_type_of (kv->element_type));
    g_variant_builder_init (&b, at);
  }
  size = scalar_size (kv->element_type);
  for (guint64 i = 0; i < kv->n; i++)
    g_variant_builder_add_value (&b, scalar_variant (kv->element_type, kv->elements + i * size));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

/**
 * ane_gguf_file_get_n_tensors:
 * @self: a GGUF file
 *
 * Gets the number of tensors in the file.
 *
 * Returns: the tensor count
 */
guint
ane_gguf_file_get_n_tensors (AneGgufFile *self)
{
  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), 0);
  return self->tensors->len;
}

/**
 * ane_gguf_file_list_tensors:
 * @self: a GGUF file
 *
 * Lists the tensor names in file order.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names
 */
char **
ane_gguf_file_list_tensors (AneGgufFile *self)
{
  char **strv;

  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), NULL);
  strv = g_new0 (char *, self->tensors->len + 1);
  for (guint i = 0; i < self->tensors->len; i++)
    strv[i] = g_strdup (((GgufTensor *) g_ptr_array_index (self->tensors, i))->name);
  return strv;
}

/**
 * ane_gguf_file_dup_tensor:
 * @self: a GGUF file
 * @name: a tensor name
 * @error: return location for a #GError
 *
 * Makes a tensor of the named tensor's data, without copying: its
 * #GBytes references the file's mapping.
 *
 * The dtype follows the ggml type (F32, F16, BF16, I8, I16, I32, I64 and
 * the block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K to Q8_K). The shape is
 * row-major, the reverse of ggml's `ne` (innermost first): `ne = [K, N]`
 * becomes shape `[N, K]`, so for a block type the last dimension is the one
 * the blocks run along.
 *
 * Returns: (transfer full): the tensor, or %NULL with %ANE_ERROR_NOT_FOUND
 */
AneTensor *
ane_gguf_file_dup_tensor (AneGgufFile *self,
                          const char  *name,
                          GError     **error)
{
  GgufTensor *t;
  gint64 shape[GGML_MAX_DIMS];
  g_autoptr(GBytes) data = NULL;

  g_return_val_if_fail (ANE_IS_GGUF_FILE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  t = g_hash_table_lookup (self->tensor_index, name);
  if (t == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                   "%s: no tensor '%s'", self->display, name);
      return NULL;
    }
  for (guint i = 0; i < t->n_dims; i++)
    shape[i] = t->ne[t->n_dims - 1 - i];
  /* Both were checked against the file size, which is a gsize. */
  data = g_bytes_new_from_bytes (self->bytes, (gsize) (self->data_offset + t->offset),
                                 (gsize) t->n_bytes);
  return ane_tensor_new_from_bytes (t->name, t->dtype, t->n_dims ? shape : NULL, t->n_dims,
                                    data, error);
}

/* --- the writer (private) ------------------------------------------------ */

struct _AneGgufWriter
{
  guint       version;
  guint       alignment;
  GByteArray *kv;
  guint64     n_kv;
  GByteArray *infos;
  GPtrArray  *data;        /* GBytes*, in order */
  guint64     data_size;   /* the data section so far, unpadded */
};

static void
put (GByteArray *b, const void *p, gsize n)
{
  g_byte_array_append (b, p, n);
}

static void
put_u32 (GByteArray *b, guint32 v)
{
  v = GUINT32_TO_LE (v);
  put (b, &v, 4);
}

static void
put_u64 (GByteArray *b, guint64 v)
{
  v = GUINT64_TO_LE (v);
  put (b, &v, 8);
}

static void
put_str (GByteArray *b, const char *s)
{
  put_u64 (b, strlen (s));
  put (b, s, strlen (s));
}

static void
put_scalar (GByteArray *b, AneGgufValueType type, gint64 iv, double fv)
{
  switch (type)
    {
    case ANE_GGUF_VALUE_TYPE_FLOAT32:
      {
        float f = fv;
        guint32 bits;
        memcpy (&bits, &f, 4);
        put_u32 (b, bits);
        break;
      }
    case ANE_GGUF_VALUE_TYPE_FLOAT64:
      {
        guint64 bits;
        memcpy (&bits, &fv, 8);
        put_u64 (b, bits);
        break;
      }
    default:
      {
        guint64 u = GUINT64_TO_LE ((guint64) iv);
        put (b, &u, scalar_size (type));   /* little-endian: the low bytes */
        break;
      }
    }
}

AneGgufWriter *
ane_gguf_writer_new (guint version,
                     guint alignment)
{
  AneGgufWriter *w = g_new0 (AneGgufWriter, 1);

  w->version = version;
  w->alignment = alignment;
  w->kv = g_byte_array_new ();
  w->infos = g_byte_array_new ();
  w->data = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  if (alignment != GGUF_DEFAULT_ALIGNMENT)
    ane_gguf_writer_add_int (w, "general.alignment", ANE_GGUF_VALUE_TYPE_UINT32, alignment);
  return w;
}

void
ane_gguf_writer_free (AneGgufWriter *w)
{
  g_byte_array_unref (w->kv);
  g_byte_array_unref (w->infos);
  g_ptr_array_unref (w->data);
  g_free (w);
}

static void
put_key (AneGgufWriter *w, const char *key, AneGgufValueType type)
{
  put_str (w->kv, key);
  put_u32 (w->kv, type);
  w->n_kv++;
}

void
ane_gguf_writer_add_int (AneGgufWriter    *w,
                         const char       *key,
                         AneGgufValueType  type,
                         gint64            ivalue)
{
  put_key (w, key, type);
  put_scalar (w->kv, type, ivalue, 0);
}

void
ane_gguf_writer_add_uint64 (AneGgufWriter *w,
                            const char    *key,
                            guint64        value)
{
  put_key (w, key, ANE_GGUF_VALUE_TYPE_UINT64);
  put_u64 (w->kv, value);
}

void
ane_gguf_writer_add_float (AneGgufWriter    *w,
                           const char       *key,
                           AneGgufValueType  type,
                           double            fvalue)
{
  put_key (w, key, type);
  put_scalar (w->kv, type, 0, fvalue);
}

void
ane_gguf_writer_add_string (AneGgufWriter *w,
                            const char    *key,
                            const char    *value)
{
  put_key (w, key, ANE_GGUF_VALUE_TYPE_STRING);
  put_str (w->kv, value);
}

void
ane_gguf_writer_add_array (AneGgufWriter    *w,
                           const char       *key,
                           AneGgufValueType  element_type,
                           const void       *elements,
                           guint64           n)
{
  put_key (w, key, ANE_GGUF_VALUE_TYPE_ARRAY);
  put_u32 (w->kv, element_type);
  put_u64 (w->kv, n);
  put (w->kv, elements, n * scalar_size (element_type));
}

void
ane_gguf_writer_add_strings (AneGgufWriter      *w,
                             const char         *key,
                             const char * const *strv,
                             guint64             n)
{
  put_key (w, key, ANE_GGUF_VALUE_TYPE_ARRAY);
  put_u32 (w->kv, ANE_GGUF_VALUE_TYPE_STRING);
  put_u64 (w->kv, n);
  for (guint64 i = 0; i < n; i++)
    put_str (w->kv, strv[i]);
}

static guint64
align_up (guint64 v, guint a)
{
  return (v + a - 1) / a * a;
}

void
ane_gguf_writer_add_tensor (AneGgufWriter *w,
                            const char    *name,
                            guint32        ggml_type,
                            const gint64  *ne,
                            guint          n_dims,
                            GBytes        *data)
{
  guint64 offset = align_up (w->data_size, w->alignment);

  put_str (w->infos, name);
  put_u32 (w->infos, n_dims);
  for (guint i = 0; i < n_dims; i++)
    put_u64 (w->infos, (guint64) ne[i]);
  put_u32 (w->infos, ggml_type);
  put_u64 (w->infos, offset);
  g_ptr_array_add (w->data, g_bytes_ref (data));
  w->data_size = offset + g_bytes_get_size (data);
}

static void
pad_to (GByteArray *b, guint alignment)
{
  static const guint8 zeros[64] = { 0 };

  while (b->len % alignment != 0)
    put (b, zeros, MIN (sizeof zeros, alignment - b->len % alignment));
}

GBytes *
ane_gguf_writer_to_bytes (AneGgufWriter *w)
{
  GByteArray *b = g_byte_array_new ();

  put (b, GGUF_MAGIC, 4);
  put_u32 (b, w->version);
  put_u64 (b, w->data->len);
  put_u64 (b, w->n_kv);
  put (b, w->kv->data, w->kv->len);
  put (b, w->infos->data, w->infos->len);
  for (guint i = 0; i < w->data->len; i++)
    {
      gsize n;
      const guint8 *p;

      /* Offsets count from the data section, itself aligned in the file. */
      pad_to (b, w->alignment);
      p = g_bytes_get_data (g_ptr_array_index (w->data, i), &n);
      put (b, p, n);
    }
  pad_to (b, w->alignment);
  return g_byte_array_free_to_bytes (b);
}

gboolean
ane_gguf_writer_write (AneGgufWriter *w,
                       const char    *path,
                       GError       **error)
{
  g_autoptr(GBytes) bytes = ane_gguf_writer_to_bytes (w);
  g_autoptr(GError) local = NULL;
  gsize n;
  const char *p = g_bytes_get_data (bytes, &n);

  if (!g_file_set_contents (path, p, n, &local))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: %s", path, local->message);
      return FALSE;
    }
  return TRUE;
}
