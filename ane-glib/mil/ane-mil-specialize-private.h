/* mil/ane-mil-specialize-private.h: a program with unknown dimensions, made concrete for one call
 *
 * A program written for flexible input shapes declares the dimensions that
 * vary as unknown ("?"), in its inputs and in every value that follows from
 * them. Core ML works their sizes out when it is given an input; so does
 * ane_mil_program_specialize, with the mirror of coremltools' type
 * inference (ane-mil-infer-private.h): every op is inferred from the
 * concrete types before it, in order, and its unknown dimensions take the
 * inferred sizes. What comes out is a program of fixed shapes the CPU
 * backend plans like any other; a call shape the program cannot take (a
 * reshape whose sizes no longer fit) fails with the op's error.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "mil/ane-coreml-proto-private.h"

G_BEGIN_DECLS

/* The function named name (NULL: "main") of a program, or NULL. */
AneMilFunction *ane_mil_program_find_function (const AneMilProgram *program,
                                               const char          *name);
/* The block of a function's own opset, or NULL. */
AneMilBlock    *ane_mil_function_get_block    (const AneMilFunction *fn);
/* A dimension made a size (size >= 0) or unknown (size < 0). */
void            ane_mil_dimension_set         (AneMilDimension      *dim,
                                               gint64                size);
/* The tensor type inside a value type (a state's wrapped tensor too), or
 * NULL. */
AneMilTensorType *ane_mil_value_type_tensor   (const AneMilValueType *type);
/* Whether the function's inputs declare an unknown dimension. */
gboolean        ane_mil_function_is_flexible  (const AneMilFunction *fn);
/* A deep copy of a program (packed and read back); freed with
 * ane_mil_program_free. */
AneMilProgram  *ane_mil_program_copy          (const AneMilProgram  *program);
void            ane_mil_program_free          (AneMilProgram        *program);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilProgram, ane_mil_program_free)
/* A copy of program whose function (NULL: "main") has the input shapes
 * given (name -> AneSpec*, dtype ignored; inputs not named keep theirs) and
 * every value's type concrete. ANE_ERROR_SHAPE when a given shape
 * contradicts a declared size, ANE_ERROR_TYPE_MISMATCH when an op refuses
 * the shapes, ANE_ERROR_UNSUPPORTED when a size stays unknown. */
AneMilProgram  *ane_mil_program_specialize    (const AneMilProgram  *program,
                                               const char           *function,
                                               GHashTable           *shapes,
                                               GError              **error);

G_END_DECLS
