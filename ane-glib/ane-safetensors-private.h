/* ane-safetensors-private.h: the safetensors weight format, and atomic file replacement
 *
 * safetensors (https://github.com/huggingface/safetensors, README "Format"
 * and safetensors/src/tensor.rs) is: an 8-byte little-endian u64 N, then N
 * bytes of UTF-8 JSON header {"name": {"dtype": "F32", "shape": [..],
 * "data_offsets": [begin, end]}, ..., "__metadata__": {"key": "string"}},
 * then the byte buffer; offsets are relative to the start of the buffer, and
 * the entries must cover the buffer exactly, without holes or overlaps.
 *
 * GGUF block dtypes, which the ecosystem format does not know, use our own
 * dtype strings ("Q4_0", "Q4_K", ...) with the tensor's logical element shape;
 * the bytes are the blocks back to back (see docs/graph-format.md).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"

G_BEGIN_DECLS

/* The reference implementation's limit (MAX_HEADER_SIZE in tensor.rs). */
#define ANE_SAFETENSORS_MAX_HEADER 100000000

/* The header key reserved for string metadata. */
#define ANE_SAFETENSORS_METADATA_KEY "__metadata__"

typedef struct _AneSafetensors AneSafetensors;

/* Dtype names: "F32", "F16", "BF16", "I8", "U8", "I16", "I32", "I64", "BOOL",
 * and "Q8_0", "Q4_0", ... "Q8_K" for GGUF blocks. */
const char     *ane_safetensors_dtype_to_string   (AneDType          dtype);
gboolean        ane_safetensors_dtype_from_string (const char       *name,
                                                   AneDType         *dtype);

/* Reading: the file is mapped (GMappedFile) and fully validated up front; the
 * tensors handed out are zero-copy views of the mapping, which stays alive
 * as long as any of them does. Every error is ANE_ERROR_PARSE (ANE_ERROR_IO
 * when the file cannot be opened) and names the file, the tensor and the
 * offending offset or field. */
AneSafetensors *ane_safetensors_open              (const char       *path,
                                                   GError          **error);
/* The same over a buffer; display_name stands for the file in messages. */
AneSafetensors *ane_safetensors_new_from_bytes    (GBytes           *bytes,
                                                   const char       *display_name,
                                                   GError          **error);
void            ane_safetensors_free              (AneSafetensors   *self);
const char     *ane_safetensors_get_display_name  (AneSafetensors   *self);
/* Tensors in data order (by offset). */
guint           ane_safetensors_get_n_tensors     (AneSafetensors   *self);
const char     *ane_safetensors_get_tensor_name   (AneSafetensors   *self,
                                                   guint             index);
gboolean        ane_safetensors_contains          (AneSafetensors   *self,
                                                   const char       *name);
/* A concrete tensor named @name viewing the file's bytes (no copy), or NULL
 * with ANE_ERROR_NOT_FOUND. */
AneTensor      *ane_safetensors_get_tensor        (AneSafetensors   *self,
                                                   const char       *name,
                                                   GError          **error);
/* A "__metadata__" value, or NULL. */
const char     *ane_safetensors_get_metadata      (AneSafetensors   *self,
                                                   const char       *key);

/* Writing: tensors (concrete, uniquely named, none named "__metadata__") are
 * laid out by descending alignment (then in the given order), so with the
 * header padded with spaces to a multiple of 8 every tensor starts naturally
 * aligned. The file is replaced atomically. metadata: (nullable) string ->
 * string. */
gboolean        ane_safetensors_write             (const char       *path,
                                                   AneTensor *const *tensors,
                                                   guint             n_tensors,
                                                   GHashTable       *metadata,
                                                   GError          **error);

/* Atomic replacement of a file: data goes to ".<name>.tmp-<pid>-XXXXXX" in
 * the same directory (ane-file-private.h), which commit() fsyncs and renames
 * over path; abort() (or a failed write/commit) unlinks it. Errors are
 * ANE_ERROR_IO naming path. */
typedef struct _AneAtomicFile AneAtomicFile;

AneAtomicFile  *ane_atomic_file_new               (const char       *path,
                                                   GError          **error);
gboolean        ane_atomic_file_write             (AneAtomicFile    *self,
                                                   const void       *data,
                                                   gsize             n,
                                                   GError          **error);
/* Consumes self, whatever the outcome. */
gboolean        ane_atomic_file_commit            (AneAtomicFile    *self,
                                                   GError          **error);
void            ane_atomic_file_abort             (AneAtomicFile    *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneSafetensors, ane_safetensors_free)

G_END_DECLS
