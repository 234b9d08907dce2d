/* ane-gguf-writer-private.h: a small GGUF v2/v3 writer (tests and tools)
 *
 * Writes the header, the metadata in the order added, the tensor infos and
 * the tensor data, each tensor at the next multiple of the alignment. An
 * alignment other than 32 is recorded as `general.alignment` (u32), added
 * first.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-gguf-file.h"

G_BEGIN_DECLS

/* ggml_type ids (ggml.h) of the types the reader maps to an AneDType. */
enum {
  ANE_GGML_TYPE_F32  = 0,
  ANE_GGML_TYPE_F16  = 1,
  ANE_GGML_TYPE_Q4_0 = 2,
  ANE_GGML_TYPE_Q4_1 = 3,
  ANE_GGML_TYPE_Q5_0 = 6,
  ANE_GGML_TYPE_Q5_1 = 7,
  ANE_GGML_TYPE_Q8_0 = 8,
  ANE_GGML_TYPE_Q8_1 = 9,
  ANE_GGML_TYPE_Q2_K = 10,
  ANE_GGML_TYPE_Q3_K = 11,
  ANE_GGML_TYPE_Q4_K = 12,
  ANE_GGML_TYPE_Q5_K = 13,
  ANE_GGML_TYPE_Q6_K = 14,
  ANE_GGML_TYPE_Q8_K = 15,
  ANE_GGML_TYPE_I8   = 24,
  ANE_GGML_TYPE_I16  = 25,
  ANE_GGML_TYPE_I32  = 26,
  ANE_GGML_TYPE_I64  = 27,
  ANE_GGML_TYPE_F64  = 28,
  ANE_GGML_TYPE_BF16 = 30,
};

/* The ggml type of an AneDType; FALSE if GGUF has none. */
gboolean       ane_gguf_ggml_type_from_dtype (AneDType          dtype,
                                              guint32          *ggml_type);

typedef struct _AneGgufWriter AneGgufWriter;

AneGgufWriter *ane_gguf_writer_new          (guint             version,
                                             guint             alignment);
void           ane_gguf_writer_free         (AneGgufWriter    *w);
/* Scalars: integers and bool take `ivalue`, floats `fvalue`. */
void           ane_gguf_writer_add_int      (AneGgufWriter    *w,
                                             const char       *key,
                                             AneGgufValueType  type,
                                             gint64            ivalue);
void           ane_gguf_writer_add_uint64   (AneGgufWriter    *w,
                                             const char       *key,
                                             guint64           value);
void           ane_gguf_writer_add_float    (AneGgufWriter    *w,
                                             const char       *key,
                                             AneGgufValueType  type,
                                             double            fvalue);
void           ane_gguf_writer_add_string   (AneGgufWriter    *w,
                                             const char       *key,
                                             const char       *value);
/* Numeric/bool arrays: n elements, little-endian, of the element type's size. */
void           ane_gguf_writer_add_array    (AneGgufWriter    *w,
                                             const char       *key,
                                             AneGgufValueType  element_type,
                                             const void       *elements,
                                             guint64           n);
void           ane_gguf_writer_add_strings  (AneGgufWriter    *w,
                                             const char       *key,
                                             const char *const *strv,
                                             guint64           n);
/* ne in ggml order (ne[0] innermost); data is the tensor's bytes. */
void           ane_gguf_writer_add_tensor   (AneGgufWriter    *w,
                                             const char       *name,
                                             guint32           ggml_type,
                                             const gint64     *ne,
                                             guint             n_dims,
                                             GBytes           *data);
GBytes        *ane_gguf_writer_to_bytes     (AneGgufWriter    *w);
gboolean       ane_gguf_writer_write        (AneGgufWriter    *w,
                                             const char       *path,
                                             GError          **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneGgufWriter, ane_gguf_writer_free)

/* A LLaMA of random weights (ane-gguf-synthetic.c): uniform values scaled by
 * 1/sqrt(fan-in), the matrices of a chosen type, the norms float32 ones. For
 * benchmarks and tests that need a model of a given size; it has no
 * vocabulary. */
typedef struct
{
  gint64   dim, hidden, layers, heads, kv_heads, vocab, context;
  AneDType matrices;   /* the matrices' type (the embedding and classifier included): FLOAT32,
                        * FLOAT16, or a block type ane_quant_blocks_f32 writes (Q8_0, Q4_0,
                        * Q4_K; their rows must be whole blocks) */
  guint32  seed;
  gboolean tied;       /* no classifier of its own: the embedding serves (stories15M's way) */
} AneGgufSyntheticLlama;

gboolean       ane_gguf_write_synthetic_llama (const char                   *path,
                                               const AneGgufSyntheticLlama  *spec,
                                               GError                      **error);

G_END_DECLS
