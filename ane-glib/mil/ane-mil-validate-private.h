/* mil/ane-mil-validate-private.h: the structure of a MIL program, checked before anything reads it
 *
 * protobuf-c decodes any wire data that matches the schema, so a model file
 * from anywhere can hold an operation whose input entry has no Argument, an
 * attribute without a Value, a binding with neither a name nor a value, a
 * tensor type whose dimensions multiply past 2^63, or blocks nested
 * thousands deep. Every reader of programs (the package loader, the MIL
 * text reader, the CPU interpreter) goes through these checks first, so the
 * code after them can follow every pointer the schema allows and compute
 * every element count the types imply.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "mil/ane-coreml-proto-private.h"

G_BEGIN_DECLS

/* How deep messages may nest (blocks in operations in blocks, values in
 * tuples, ...): far more than any real program (coremltools writes at most
 * a few levels), far less than what exhausts a thread's stack in
 * protobuf-c's recursive decoder. */
#define ANE_MIL_MAX_NESTING  64
/* The largest element count a tensor type may describe (2^48: far beyond
 * any memory, small enough that count x element size never overflows). */
#define ANE_MIL_MAX_ELEMENTS ((guint64) 1 << 48)

/* Checks, before unpacking, that the protobuf message of desc in data nests
 * sub-messages at most max_depth deep (walking the wire format with the
 * descriptors, without allocating). ANE_ERROR_PARSE naming origin when it
 * nests deeper or the wire data is malformed. */
gboolean  ane_protobuf_check_nesting   (const ProtobufCMessageDescriptor *desc,
                                        const guint8                     *data,
                                        gsize                             size,
                                        guint                             max_depth,
                                        const char                       *origin,
                                        GError                          **error);

/* The element count of a tensor type whose dimensions are all known, with
 * overflow and ANE_MIL_MAX_ELEMENTS checked; -1 when a dimension is unknown
 * (or the rank is). FALSE with ANE_ERROR_OVERFLOW naming what when the
 * count is too large. */
gboolean  ane_mil_tensor_type_count    (const AneMilTensorType *type,
                                        const char             *what,
                                        gint64                 *count,
                                        GError                **error);

/* The whole tree of a program: every map entry has its key and value, every
 * oneof is set, every type is well formed (rank = dimensions, known
 * dtypes, element counts within ANE_MIL_MAX_ELEMENTS), every immediate
 * value holds as many elements as its type says, every op has a type and
 * named outputs, every binding names a value defined before it in a
 * visible scope or holds a value, no name is defined twice in a function,
 * and nothing nests deeper than ANE_MIL_MAX_NESTING. ANE_ERROR_PARSE naming
 * origin, the function and the op. */
gboolean  ane_mil_program_validate     (const AneMilProgram *program,
                                        const char          *origin,
                                        GError             **error);

G_END_DECLS
