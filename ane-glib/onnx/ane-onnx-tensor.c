/* ane-onnx-tensor.c: ONNX TensorProto → host AneTensor, checked
 *
 * A TensorProto's elements are in raw_data (little-endian, fixed width),
 * in the typed field for its data_type, or in an external file
 * (onnx/onnx.proto TensorProto, lines 547-657 of onnx 1.17.0). Every size
 * is checked against the declared dims before anything is allocated, so a
 * hostile file gets a GError and never a huge allocation.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ane-file-private.h"
#include "ane-onnx-importer-private.h"

/* ONNX element type → host dtype and the size of one element on the wire. */
typedef struct {
  int         elem_type;
  const char *name;
  AneDType    host;     /* the host tensor's dtype */
  AneDType    graph;    /* the graph's dtype (int64 → int32) */
  gsize       size;     /* bytes per element in raw_data */
} ElemType;

static const ElemType elem_types[] = {
  { ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT,    "float",    ANE_DTYPE_FLOAT32,  ANE_DTYPE_FLOAT32,  4 },
  { ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16,  "float16",  ANE_DTYPE_FLOAT16,  ANE_DTYPE_FLOAT16,  2 },
  { ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16, "bfloat16", ANE_DTYPE_BFLOAT16, ANE_DTYPE_BFLOAT16, 2 },
  { ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE,   "double",   ANE_DTYPE_FLOAT32,  ANE_DTYPE_FLOAT32,  8 },
  { ONNX__TENSOR_PROTO__DATA_TYPE__INT64,    "int64",    ANE_DTYPE_INT64,    ANE_DTYPE_INT32,    8 },
  { ONNX__TENSOR_PROTO__DATA_TYPE__INT32,    "int32",    ANE_DTYPE_INT32,    ANE_DTYPE_INT32,    4 },
  { ONNX__TENSOR_PROTO__DATA_TYPE__INT16,    "int16",    ANE_DTYPE_INT16,    ANE_DTYPE_INT16,    2 },
  { ONNX__TENSOR_PROTO__DATA_TYPE__INT8,     "int8",     ANE_DTYPE_INT8,     ANE_DTYPE_INT8,     1 },
  { ONNX__TENSOR_PROTO__DATA_TYPE__UINT8,    "uint8",    ANE_DTYPE_UINT8,    ANE_DTYPE_UINT8,    1 },
  { ONNX__TENSOR_PROTO__DATA_TYPE__BOOL,     "bool",     ANE_DTYPE_BOOL,     ANE_DTYPE_BOOL,     1 },
};

static const ElemType *
find_elem_type (int elem_type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (elem_types); i++)
    if (elem_types[i].elem_type == elem_type)
      return &elem_types[i];
  return NULL;
}

gboolean
ane_onnx_elem_type_to_dtype (int       elem_type,
                             AneDType *dtype)
{
  const ElemType *e = find_elem_type (elem_type);

  if (e == NULL)
    return FALSE;
  *dtype = e->graph;
  return TRUE;
}

gboolean
ane_onnx_dtype_from_elem_type (gint64    elem_type,
                               AneDType *dtype)
{
  return elem_type >= 0 && elem_type <= G_MAXINT && ane_onnx_elem_type_to_dtype ((int) elem_type, dtype);
}

const char *
ane_onnx_elem_type_name (int elem_type)
{
  const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value (
      &onnx__tensor_proto__data_type__descriptor, elem_type);

  return v ? v->name : "unknown";
}

/* A "location" relative to the model's directory that stays inside it:
 * no absolute path, no "..", no empty or "." component (onnx/onnx.proto
 * external_data: "POSIX filesystem path relative to the directory where
 * the ONNX protobuf model was stored"). */
static gboolean
location_is_safe (const char *location)
{
  g_auto(GStrv) parts = NULL;

  if (location == NULL || location[0] == '\0' || location[0] == '/' || strchr (location, '\\') != NULL)
    return FALSE;
  parts = g_strsplit (location, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] == '\0' || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
      return FALSE;
  return TRUE;
}

static gboolean
parse_size (const char *text,
            guint64    *out)
{
  return text != NULL && g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, out, NULL);
}

static GBytes *
read_external (const Onnx__TensorProto *proto,
               const char              *name,
               const char              *model_dir,
               gsize                    n_bytes,
               GError                 **error)
{
  const char *location = NULL;
  guint64 offset = 0, length = n_bytes;
  gboolean has_length = FALSE;
  g_autofree char *path = NULL;
  g_autofree guint8 *buf = NULL;
  struct stat st;
  int fd;

  for (gsize i = 0; i < proto->n_external_data; i++)
    {
      const char *key = proto->external_data[i]->key ? proto->external_data[i]->key : "";
      const char *value = proto->external_data[i]->value;

      if (g_str_equal (key, "location"))
        location = value;
      else if (g_str_equal (key, "offset") && !parse_size (value, &offset))
        goto bad_number;
      else if (g_str_equal (key, "length"))
        {
          if (!parse_size (value, &length))
            goto bad_number;
          has_length = TRUE;
        }
      continue;
bad_number:
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "ONNX tensor '%s': external data %s '%s' is not a byte count", name, key,
                   value ? value : "");
      return NULL;
    }
  if (model_dir == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "ONNX tensor '%s': external data is only read for a model's initializers", name);
      return NULL;
    }
  if (!location_is_safe (location))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "ONNX tensor '%s': external data location '%s' is not a relative path inside the "
                   "model's directory", name, location ? location : "");
      return NULL;
    }
  if (has_length && length != n_bytes)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "ONNX tensor '%s': external data length %" G_GUINT64_FORMAT " does not match its "
                   "dims (%" G_GSIZE_FORMAT " bytes)", name, length, n_bytes);
      return NULL;
    }
  path = g_build_filename (model_dir, location, NULL);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "ONNX tensor '%s': cannot open external data '%s': %s",
                   name, path, g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) ||
      offset > (guint64) st.st_size || n_bytes > (guint64) st.st_size - offset)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "ONNX tensor '%s': external data [%" G_GUINT64_FORMAT ", +%" G_GSIZE_FORMAT ") lies "
                   "outside '%s' (%" G_GINT64_FORMAT " bytes)", name, offset, n_bytes, location,
                   (gint64) st.st_size);
      close (fd);
      return NULL;
    }
  /* bounded by the file's size, checked above */
  buf = g_malloc (MAX (n_bytes, 1));
  if (ane_file_pread_all (fd, buf, n_bytes, offset) < n_bytes)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "ONNX tensor '%s': short read of '%s'", name, path);
      close (fd);
      return NULL;
    }
  close (fd);
  return g_bytes_new_take (g_steal_pointer (&buf), n_bytes);
}

/* The elements as the host dtype's bytes, from whichever field holds them. */
static GBytes *
host_bytes (const Onnx__TensorProto *proto,
            const ElemType          *e,
            const char              *name,
            const char              *model_dir,
            gsize                    n,
            GError                 **error)
{
  gsize wire_bytes = n * e->size;   /* n * 8 cannot overflow: dims were checked */
  g_autoptr(GBytes) raw = NULL;
  gsize n_typed = 0;

  if (proto->has_data_location && proto->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    {
      raw = read_external (proto, name, model_dir, wire_bytes, error);
      if (raw == NULL)
        return NULL;
    }
  else if (proto->has_raw_data)
    {
      if (proto->raw_data.len != wire_bytes)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                       "ONNX tensor '%s': raw_data has %" G_GSIZE_FORMAT " bytes, its dims need %" G_GSIZE_FORMAT,
                       name, (gsize) proto->raw_data.len, wire_bytes);
          return NULL;
        }
      raw = g_bytes_new (wire_bytes > 0 ? proto->raw_data.data : NULL, wire_bytes);
    }

  if (raw != NULL)
    {
      /* raw is little-endian (onnx.proto raw_data), as every host we build for */
      if (e->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE)
        {
          const double *d = g_bytes_get_data (raw, NULL);
          float *f = g_new (float, MAX (n, 1));

          for (gsize k = 0; k < n; k++)
            f[k] = (float) d[k];
          return g_bytes_new_take (f, n * sizeof (float));
        }
      if (e->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL)
        {
          const guint8 *b = g_bytes_get_data (raw, NULL);
          guint8 *o = g_malloc (MAX (n, 1));

          for (gsize k = 0; k < n; k++)
            o[k] = b[k] != 0;
          return g_bytes_new_take (o, n);
        }
      return g_steal_pointer (&raw);
    }

  /* typed fields (onnx.proto: float_data for FLOAT, int32_data for the
   * narrow integers, bool and the 16-bit floats as bits, int64_data,
   * double_data) */
  switch (e->elem_type)
    {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
      n_typed = proto->n_float_data;
      break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
      n_typed = proto->n_int64_data;
      break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
      n_typed = proto->n_double_data;
      break;
    default:
      n_typed = proto->n_int32_data;
      break;
    }
  if (n_typed != n)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "ONNX tensor '%s': %" G_GSIZE_FORMAT " %s values stored, its dims need %" G_GSIZE_FORMAT,
                   name, n_typed, e->name, n);
      return NULL;
    }
  switch (e->elem_type)
    {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
      return g_bytes_new (n > 0 ? proto->float_data : NULL, n * sizeof (float));
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
      return g_bytes_new (n > 0 ? proto->int64_data : NULL, n * sizeof (gint64));
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
      {
        float *f = g_new (float, MAX (n, 1));

        for (gsize k = 0; k < n; k++)
          f[k] = (float) proto->double_data[k];
        return g_bytes_new_take (f, n * sizeof (float));
      }
    default:
      {
        /* narrow each int32 to the element's width (two's complement, as
         * onnx's numpy_helper does for int8/int16/uint8/bool/fp16 bits) */
        guint8 *o = g_malloc (MAX (n * e->size, 1));

        for (gsize k = 0; k < n; k++)
          {
            gint32 v = proto->int32_data[k];

            if (e->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL)
              v = v != 0;
            if (e->size == 1)
              o[k] = (guint8) v;
            else if (e->size == 2)
              {
                guint16 h = (guint16) v;
                memcpy (o + 2 * k, &h, 2);
              }
            else
              memcpy (o + 4 * k, &v, 4);
          }
        return g_bytes_new_take (o, n * e->size);
      }
    }
}

AneTensor *
ane_onnx_tensor_from_proto (const Onnx__TensorProto *proto,
                            const char              *model_dir,
                            GError                 **error)
{
  const char *name = proto->name && proto->name[0] ? proto->name : "(unnamed)";
  const ElemType *e;
  gint64 shape[ANE_MAX_RANK];
  gint64 n = 1;
  g_autoptr(GBytes) bytes = NULL;

  e = proto->has_data_type ? find_elem_type (proto->data_type) : NULL;
  if (e == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE, "ONNX tensor '%s': element type %s is not supported",
                   name, proto->has_data_type ? ane_onnx_elem_type_name (proto->data_type) : "(missing)");
      return NULL;
    }
  if (proto->n_dims > ANE_MAX_RANK)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "ONNX tensor '%s': rank %" G_GSIZE_FORMAT
                   " exceeds the supported %d", name, proto->n_dims, ANE_MAX_RANK);
      return NULL;
    }
  for (gsize i = 0; i < proto->n_dims; i++)
    {
      /* bound every product by what a protobuf (< 2 GiB) or a file could
       * hold, so n * 8 below cannot overflow */
      if (proto->dims[i] < 0 || (proto->dims[i] > 0 && n > (G_MAXINT64 / 16) / proto->dims[i]))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "ONNX tensor '%s': dim %" G_GSIZE_FORMAT
                       " is %" G_GINT64_FORMAT ", out of range", name, i, (gint64) proto->dims[i]);
          return NULL;
        }
      shape[i] = proto->dims[i];
      n *= shape[i];
    }
  if ((guint64) n > G_MAXSIZE / 16)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE, "ONNX tensor '%s' is too large", name);
      return NULL;
    }
  bytes = host_bytes (proto, e, name, model_dir, (gsize) n, error);
  if (bytes == NULL)
    return NULL;
  return ane_tensor_new_from_bytes (name, e->host, shape, (guint) proto->n_dims, bytes, error);
}
