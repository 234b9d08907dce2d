/* ane-test-npy.c: a small .npy reader (NumPy's format, numpy/lib/format.py:
 * magic "\x93NUMPY", version, a little-endian header length (2 bytes in
 * 1.0, 4 in 2.0), a Python-dict header with 'descr', 'fortran_order' and
 * 'shape', then the raw elements)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-test-npy.h"

static AneTensor *
fail (GError    **error,
      const char *path,
      const char *why)
{
  g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: %s", path, why);
  return NULL;
}

static const struct {
  const char *descr;
  AneDType    dtype;
} descrs[] = {
  { "'<f4'", ANE_DTYPE_FLOAT32 }, { "'<f2'", ANE_DTYPE_FLOAT16 }, { "'<i4'", ANE_DTYPE_INT32 },
  { "'<i8'", ANE_DTYPE_INT64 },   { "'|b1'", ANE_DTYPE_BOOL },    { "'|u1'", ANE_DTYPE_UINT8 },
  { "'|i1'", ANE_DTYPE_INT8 },
};

AneTensor *
ane_test_npy_load (const char  *path,
                   const char  *name,
                   GError     **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *header = NULL;
  gsize len, hlen, at, n = 1, size;
  gint64 shape[ANE_MAX_RANK];
  guint rank = 0;
  AneDType dtype = ANE_DTYPE_FLOAT32;
  gboolean known = FALSE;
  const char *p;
  g_autoptr(GBytes) bytes = NULL;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  if (len < 10 || memcmp (contents, "\x93NUMPY", 6) != 0)
    return fail (error, path, "not a .npy file");
  if (contents[6] == 1)
    {
      hlen = (guint8) contents[8] | (gsize) (guint8) contents[9] << 8;
      at = 10;
    }
  else if (contents[6] == 2 && len >= 12)
    {
      hlen = (guint8) contents[8] | (gsize) (guint8) contents[9] << 8 |
             (gsize) (guint8) contents[10] << 16 | (gsize) (guint8) contents[11] << 24;
      at = 12;
    }
  else
    return fail (error, path, "unknown .npy version");
  if (hlen > len - at)
    return fail (error, path, "truncated header");
  header = g_strndup (contents + at, hlen);
  at += hlen;
  for (gsize i = 0; i < G_N_ELEMENTS (descrs); i++)
    if (strstr (header, descrs[i].descr) != NULL)
      {
        dtype = descrs[i].dtype;
        known = TRUE;
      }
  if (!known)
    return fail (error, path, "element type not read by this reader");
  if (strstr (header, "'fortran_order': False") == NULL)
    return fail (error, path, "only C order is read");
  p = strstr (header, "'shape': (");
  if (p == NULL)
    return fail (error, path, "no shape in the header");
  p += strlen ("'shape': (");
  while (*p != ')' && *p != '\0')
    {
      char *end;
      gint64 d;

      while (*p == ' ' || *p == ',')
        p++;
      if (*p == ')')
        break;
      d = g_ascii_strtoll (p, &end, 10);
      if (end == p || d < 0 || rank >= ANE_MAX_RANK)
        return fail (error, path, "bad shape in the header");
      shape[rank++] = d;
      n *= (gsize) d;
      p = end;
    }
  size = dtype == ANE_DTYPE_INT64 ? 8 : dtype == ANE_DTYPE_FLOAT32 || dtype == ANE_DTYPE_INT32 ? 4
         : dtype == ANE_DTYPE_FLOAT16 ? 2 : 1;
  if (len - at != n * size)
    return fail (error, path, "the data size does not match the shape");
  bytes = g_bytes_new (contents + at, n * size);
  return ane_tensor_new_from_bytes (name, dtype, shape, rank, bytes, error);
}
