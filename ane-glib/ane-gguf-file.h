/* ane-gguf-file.h: a GGUF model file, memory-mapped and checked
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "ane-types.h"
#include "ane-tensor.h"

G_BEGIN_DECLS

/**
 * AneGgufValueType:
 * @ANE_GGUF_VALUE_TYPE_UINT8: unsigned 8-bit integer
 * @ANE_GGUF_VALUE_TYPE_INT8: signed 8-bit integer
 * @ANE_GGUF_VALUE_TYPE_UINT16: unsigned 16-bit integer
 * @ANE_GGUF_VALUE_TYPE_INT16: signed 16-bit integer
 * @ANE_GGUF_VALUE_TYPE_UINT32: unsigned 32-bit integer
 * @ANE_GGUF_VALUE_TYPE_INT32: signed 32-bit integer
 * @ANE_GGUF_VALUE_TYPE_FLOAT32: IEEE 754 binary32
 * @ANE_GGUF_VALUE_TYPE_BOOL: boolean (one byte, 0 or 1)
 * @ANE_GGUF_VALUE_TYPE_STRING: UTF-8 string (a 64-bit length, then the bytes)
 * @ANE_GGUF_VALUE_TYPE_ARRAY: array of values of one element type
 * @ANE_GGUF_VALUE_TYPE_UINT64: unsigned 64-bit integer
 * @ANE_GGUF_VALUE_TYPE_INT64: signed 64-bit integer
 * @ANE_GGUF_VALUE_TYPE_FLOAT64: IEEE 754 binary64
 *
 * The type of a GGUF metadata value. The numbers are the type ids stored in
 * the file (`gguf_type` in llama.cpp's `gguf.h`).
 */
typedef enum {
  ANE_GGUF_VALUE_TYPE_UINT8   = 0,
  ANE_GGUF_VALUE_TYPE_INT8    = 1,
  ANE_GGUF_VALUE_TYPE_UINT16  = 2,
  ANE_GGUF_VALUE_TYPE_INT16   = 3,
  ANE_GGUF_VALUE_TYPE_UINT32  = 4,
  ANE_GGUF_VALUE_TYPE_INT32   = 5,
  ANE_GGUF_VALUE_TYPE_FLOAT32 = 6,
  ANE_GGUF_VALUE_TYPE_BOOL    = 7,
  ANE_GGUF_VALUE_TYPE_STRING  = 8,
  ANE_GGUF_VALUE_TYPE_ARRAY   = 9,
  ANE_GGUF_VALUE_TYPE_UINT64  = 10,
  ANE_GGUF_VALUE_TYPE_INT64   = 11,
  ANE_GGUF_VALUE_TYPE_FLOAT64 = 12,
} AneGgufValueType;

#define ANE_TYPE_GGUF_FILE (ane_gguf_file_get_type ())

ANE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AneGgufFile, ane_gguf_file, ANE, GGUF_FILE, GObject)

ANE_AVAILABLE_IN_ALL
AneGgufFile  *ane_gguf_file_new             (const char        *path,
                                             GError           **error);
ANE_AVAILABLE_IN_ALL
AneGgufFile  *ane_gguf_file_new_from_bytes  (GBytes            *data,
                                             GError           **error);

ANE_AVAILABLE_IN_ALL
const char   *ane_gguf_file_get_path        (AneGgufFile       *self);
ANE_AVAILABLE_IN_ALL
guint         ane_gguf_file_get_version     (AneGgufFile       *self);
ANE_AVAILABLE_IN_ALL
guint         ane_gguf_file_get_alignment   (AneGgufFile       *self);
ANE_AVAILABLE_IN_ALL
guint64       ane_gguf_file_get_data_offset (AneGgufFile       *self);
ANE_AVAILABLE_IN_ALL
const char   *ane_gguf_file_get_architecture (AneGgufFile      *self);

ANE_AVAILABLE_IN_ALL
char        **ane_gguf_file_list_keys       (AneGgufFile       *self);
ANE_AVAILABLE_IN_ALL
gboolean      ane_gguf_file_has_key         (AneGgufFile       *self,
                                             const char        *key);
ANE_AVAILABLE_IN_ALL
gboolean      ane_gguf_file_get_value_type  (AneGgufFile       *self,
                                             const char        *key,
                                             AneGgufValueType  *value_type,
                                             AneGgufValueType  *element_type,
                                             guint64           *n_elements);
ANE_AVAILABLE_IN_ALL
const char   *ane_gguf_file_get_string      (AneGgufFile       *self,
                                             const char        *key,
                                             GError           **error);
ANE_AVAILABLE_IN_ALL
gboolean      ane_gguf_file_get_int         (AneGgufFile       *self,
                                             const char        *key,
                                             gint64            *value,
                                             GError           **error);
ANE_AVAILABLE_IN_ALL
gboolean      ane_gguf_file_get_float       (AneGgufFile       *self,
                                             const char        *key,
                                             double            *value,
                                             GError           **error);
ANE_AVAILABLE_IN_ALL
gboolean      ane_gguf_file_get_bool        (AneGgufFile       *self,
                                             const char        *key,
                                             gboolean          *value,
                                             GError           **error);
ANE_AVAILABLE_IN_ALL
char        **ane_gguf_file_dup_strings     (AneGgufFile       *self,
                                             const char        *key,
                                             GError           **error);
ANE_AVAILABLE_IN_ALL
gint64       *ane_gguf_file_dup_ints        (AneGgufFile       *self,
                                             const char        *key,
                                             gsize             *n_values,
                                             GError           **error);
ANE_AVAILABLE_IN_ALL
double       *ane_gguf_file_dup_floats      (AneGgufFile       *self,
                                             const char        *key,
                                             gsize             *n_values,
                                             GError           **error);
ANE_AVAILABLE_IN_ALL
GVariant     *ane_gguf_file_dup_value       (AneGgufFile       *self,
                                             const char        *key,
                                             GError           **error);

ANE_AVAILABLE_IN_ALL
guint         ane_gguf_file_get_n_tensors   (AneGgufFile       *self);
ANE_AVAILABLE_IN_ALL
char        **ane_gguf_file_list_tensors    (AneGgufFile       *self);
ANE_AVAILABLE_IN_ALL
AneTensor    *ane_gguf_file_dup_tensor      (AneGgufFile       *self,
                                             const char        *name,
                                             GError           **error);

G_END_DECLS
