/* mil/ane-mil-builder-private.h: build MIL programs (protobuf-c) so lowering reads like MIL
 *
 * Lowering code never touches protobuf-c structs: it asks the builder for
 * function inputs, consts and ops by MIL name, and gets value names back.
 * Every op is checked against Apple's signature table (ane-mil-opdefs.c) for
 * the target: an op the target lacks, an unknown parameter or a missing
 * required one is an error, so a lowering cannot emit a call Apple's
 * definition would reject.
 *
 * Errors are sticky: after the first one the builder records nothing more and
 * returns a placeholder name, so lowering code can nest calls freely and check
 * once per IR node (ane_mil_builder_propagate_error).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "mil/ane-coreml-proto-private.h"
#include "mil/ane-mil-opdefs-private.h"
#include "mil/ane-milblob-private.h"

G_BEGIN_DECLS

typedef struct _AneMilBuilder AneMilBuilder;
typedef struct _AneMilOpCall  AneMilOpCall;

/* Where a blob's bytes come from when the package is written. */
typedef enum {
  ANE_MIL_BLOB_FROM_BYTES,   /* data captured at lowering time */
  ANE_MIL_BLOB_FROM_PARAM,   /* a graph param bound later, looked up by name */
  ANE_MIL_BLOB_FROM_BLOCKS,  /* a part of GGUF Q8_0 / Q4_0 blocks, split when the bytes are asked for */
} AneMilBlobSource;

/* Which part of GGUF Q8_0 / Q4_0 / Q4_K blocks (ggml-common.h: an fp16 d,
 * then 32 int8 q or 16 bytes of 4-bit q + 8; Q4_K: ane-lower-q4k.c) a
 * FROM_BLOCKS blob stores: MIL's constexpr_blockwise_shift_scale takes
 * them apart. */
typedef enum {
  ANE_MIL_BLOCKS_DATA,       /* the q: int8 (Q8_0), int4 = q − 8 (Q4_0) or uint4 (Q4_K), packed two a byte, low nibble first */
  ANE_MIL_BLOCKS_SCALE,      /* a scale per 32 weights (Q8_0, Q4_0: the block's d), stored as dst_dtype */
  ANE_MIL_BLOCKS_OFFSET,     /* Q4_K: an offset per 32 weights (for scales in scale_dtype), stored as dst_dtype */
} AneMilBlocksPart;

typedef struct {
  AneMilBlobSource    source;
  char               *param;        /* FROM_PARAM: the param's name */
  GBytes             *data;         /* FROM_BYTES: elements in src_dtype; FROM_BLOCKS: the blocks */
  AneDType            src_dtype;    /* dtype of the source elements */
  AneDType            dst_dtype;    /* dtype stored in the blob */
  gint64              n_elements;
  guint64             size;         /* bytes stored */
  guint64             offset;       /* the metadata record's offset in weight.bin */
  AneMilBlobDataType  blob_type;
  guint               padding_bits; /* sub-byte types: the last byte's unused bits (MILBlob's padding_size_in_bits) */
  AneDType            blocks_dtype; /* FROM_BLOCKS: Q8_0, Q4_0 or Q4_K */
  AneMilBlocksPart    part;         /* FROM_BLOCKS: which part is stored */
  AneDType            scale_dtype;  /* FROM_BLOCKS, Q4_K: the dtype of the scales the offsets go with */
} AneMilPendingBlob;

AneMilBuilder *ane_mil_builder_new          (AneMilTarget     target);
void           ane_mil_builder_free         (AneMilBuilder   *b);
AneMilTarget   ane_mil_builder_get_target   (AneMilBuilder   *b);

/* Functions: everything below goes into the current function's block. */
void           ane_mil_builder_begin_function (AneMilBuilder *b,
                                               const char    *name);
const char    *ane_mil_builder_add_input    (AneMilBuilder   *b,
                                             const char      *name,
                                             AneDType         dtype,
                                             const gint64    *shape,
                                             guint            rank);
const char    *ane_mil_builder_add_state_input (AneMilBuilder *b,
                                                const char    *name,
                                                AneDType       dtype,
                                                const gint64  *shape,
                                                guint          rank);
void           ane_mil_builder_add_output   (AneMilBuilder   *b,
                                             const char      *value);

/* Sets an interface name (input, state, output) aside: derived names never
 * take it, and the input or output declared with it gets it exactly. FALSE
 * if it is already used or reserved. */
gboolean       ane_mil_builder_reserve_name (AneMilBuilder   *b,
                                             const char      *name);
/* MIL's keywords ("tensor", "fp16", "state", ...): coremltools renames a
 * value so named (adding "_workaround") when it writes a program
 * (mil/passes/defs/preprocess.py, NameSanitizer), so no interface may have
 * one and derived names skip them. */
gboolean       ane_mil_name_is_reserved     (const char      *name);
/* A fresh valid MIL identifier derived from hint ("layer0/q_proj" ->
 * "layer0_q_proj", "layer0_q_proj_1", ...). The result lives as long as b. */
const char    *ane_mil_builder_unique_name  (AneMilBuilder   *b,
                                             const char      *hint);

/* Consts. Tensors of ANE_MIL_IMMEDIATE_MAX elements or fewer are immediate
 * values; larger ones go to weights/weight.bin (converted from src to dst
 * dtype when the package is written). */
#define ANE_MIL_BLOB_MIN_ELEMENTS 10
const char    *ane_mil_const_tensor         (AneMilBuilder   *b,
                                             const char      *hint,
                                             AneTensor       *value,
                                             AneDType         dst_dtype);
const char    *ane_mil_const_param          (AneMilBuilder   *b,
                                             const char      *hint,
                                             const char      *param,
                                             AneDType         src_dtype,
                                             AneDType         dst_dtype,
                                             const gint64    *shape,
                                             guint            rank);
/* constexpr_affine_dequantize (iOS16): (q - zero_point) * scale along axis,
 * dequantized when the model loads; q stays int8/uint8 in weight.bin.
 * zero_point NULL means 0; scale and zero_point are scalars or [dim(axis)]. */
const char    *ane_mil_constexpr_affine_dequantize (AneMilBuilder *b,
                                                    const char    *hint,
                                                    AneTensor     *q,
                                                    AneTensor     *zero_point,
                                                    AneTensor     *scale,
                                                    gint64         axis,
                                                    AneDType       out_dtype);
/* A const of a sub-byte MIL type (int4, uint4, ...) whose blob bytes are
 * already packed as MIL stores them (first element in the lowest bits). */
const char    *ane_mil_const_packed         (AneMilBuilder   *b,
                                             const char      *hint,
                                             int              mil_dtype,
                                             AneMilBlobDataType blob_type,
                                             GBytes          *packed,
                                             const gint64    *shape,
                                             guint            rank);
/* A value given as its stored bytes (sub-byte types packed as MIL packs
 * them, first element in the lowest bits; ane-bitpack-private.h) with its
 * MIL DataType and shape: what compression emits. */
typedef struct {
  const char   *param;       /* the op's parameter it is given to */
  const char   *ref;         /* inputs form only: bind this value (another op's output) instead */
  int           mil_dtype;
  GBytes       *bytes;
  const gint64 *shape;
  guint         rank;
} AneMilRawValue;

/* An output of an op given raw (its MIL DataType, sub-byte types included). */
typedef struct {
  const char   *name;        /* NULL: derived from the hint; else claimed as it is */
  int           mil_dtype;
  const gint64 *shape;
  guint         rank;
} AneMilRawOutput;

/* A constexpr op written as coremltools writes it at the builder's target:
 * parameters as attributes when the op's definition there says so (the
 * iOS16 classes), else as inputs bound to consts. A value of 10 elements or
 * more goes to weight.bin, as does every sub-byte one; smaller ones are
 * immediates. Checked against the op's signature and type rule like any
 * op; the output names go to out_names (n_outputs of them). */
void           ane_mil_constexpr_raw        (AneMilBuilder         *b,
                                             const char            *type,
                                             const char            *hint,
                                             const AneMilRawValue  *params,
                                             guint                  n_params,
                                             const AneMilRawOutput *outputs,
                                             guint                  n_outputs,
                                             const char           **out_names);
/* The data, the scales or the offsets of GGUF Q8_0 / Q4_0 / Q4_K blocks
 * [..., K] (blocks in the GGUF tensor's own bytes, referenced, not copied)
 * as a const: data int8 (Q8_0), int4 (Q4_0) or uint4 (Q4_K) of shape,
 * scales and offsets [..., K / 32] in dst_dtype (Q4_K's offsets are those
 * of scales in scale_dtype). The blob holds the bytes
 * ane_mil_blocks_split makes, made only when a package is written (or a
 * backend asks for them): the program in memory holds no copy of the
 * weights (issue 15). A Q4_K weight must have been checked representable
 * (ane_lower_split_q4_K). */
const char    *ane_mil_const_blocks         (AneMilBuilder   *b,
                                             const char      *hint,
                                             GBytes          *blocks,
                                             AneDType         blocks_dtype,
                                             AneMilBlocksPart part,
                                             AneDType         dst_dtype,
                                             AneDType         scale_dtype,
                                             const gint64    *shape,
                                             guint            rank);
/* The stored bytes of a FROM_BLOCKS blob (the q as MIL packs them, or the
 * d's in its dst_dtype); NULL with an error when the blocks do not match
 * its size. */
GBytes        *ane_mil_blocks_split         (const AneMilPendingBlob *blob,
                                             GError         **error);
/* What each weight became (for the conversion report): "name: how". */
void           ane_mil_builder_note_weight  (AneMilBuilder   *b,
                                             const char      *name,
                                             const char      *how);
GPtrArray     *ane_mil_builder_get_weight_notes (AneMilBuilder *b);
const char    *ane_mil_const_int            (AneMilBuilder   *b,
                                             const char      *hint,
                                             gint64           value);
const char    *ane_mil_const_ints           (AneMilBuilder   *b,
                                             const char      *hint,
                                             const gint64    *values,
                                             gsize            n);
const char    *ane_mil_const_float          (AneMilBuilder   *b,
                                             const char      *hint,
                                             AneDType         dtype,
                                             double           value);
const char    *ane_mil_const_floats         (AneMilBuilder   *b,
                                             const char      *hint,
                                             AneDType         dtype,
                                             const double    *values,
                                             const gint64    *shape,
                                             guint            rank);
const char    *ane_mil_const_bool           (AneMilBuilder   *b,
                                             const char      *hint,
                                             gboolean         value);
const char    *ane_mil_const_string         (AneMilBuilder   *b,
                                             const char      *hint,
                                             const char      *value);

/* Ops: begin, bind parameters, declare outputs, end. */
AneMilOpCall  *ane_mil_op_begin             (AneMilBuilder   *b,
                                             const char      *type,
                                             const char      *hint);
void           ane_mil_op_arg               (AneMilOpCall    *op,
                                             const char      *param,
                                             const char      *value);
void           ane_mil_op_args              (AneMilOpCall    *op,
                                             const char      *param,
                                             const char     **values,
                                             guint            n);
const char    *ane_mil_op_output            (AneMilOpCall    *op,
                                             AneDType         dtype,
                                             const gint64    *shape,
                                             guint            rank);
/* Names the (next) output explicitly instead of deriving it from the hint. */
const char    *ane_mil_op_output_named      (AneMilOpCall    *op,
                                             const char      *name,
                                             AneDType         dtype,
                                             const gint64    *shape,
                                             guint            rank);
void           ane_mil_op_end               (AneMilOpCall    *op);

/* One-output shorthand: pairs of (param name, value name), NULL-terminated. */
const char    *ane_mil_op                   (AneMilBuilder   *b,
                                             const char      *type,
                                             const char      *hint,
                                             AneDType         out_dtype,
                                             const gint64    *out_shape,
                                             guint            out_rank,
                                             ...) G_GNUC_NULL_TERMINATED;

/* The spec of a value made by the builder (inputs, consts, op outputs). */
gboolean       ane_mil_builder_lookup       (AneMilBuilder   *b,
                                             const char      *value,
                                             AneSpec         *spec);

gboolean       ane_mil_builder_has_error    (AneMilBuilder   *b);
void           ane_mil_builder_set_error    (AneMilBuilder   *b,
                                             GError          *error);
gboolean       ane_mil_builder_propagate_error (AneMilBuilder *b,
                                                GError       **error);

/* Finishing: the program (owned by the caller, free with
 * protobuf_c_message_free_unpacked), the pending blobs in file order, and
 * the size weight.bin will have. */
AneMilProgram *ane_mil_builder_finish       (AneMilBuilder   *b,
                                             GPtrArray      **blobs,
                                             guint64         *weight_size,
                                             GError         **error);

void           ane_mil_pending_blob_free    (AneMilPendingBlob *blob);

/* dtype mapping between the IR and MIL's DataType enum. */
int            ane_mil_dtype_from_ane       (AneDType         dtype);
const char    *ane_mil_dtype_name           (AneDType         dtype);  /* "fp16", "int32", ... */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilBuilder, ane_mil_builder_free)

G_END_DECLS
