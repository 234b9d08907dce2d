/* mil/ane-mil-dtype-private.h: MIL DataType facts, for every room that reads
 * or writes MIL types (the package reader and writer, the CPU plan, tests)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "mil/ane-coreml-proto-private.h"
#include "mil/ane-milblob-private.h"

G_BEGIN_DECLS

/* The MIL DataType's blob type and bits per element; FALSE for types that
 * have no blob form (bool, string, fp64, int64, uint64). */
gboolean      ane_mil_dtype_blob_info      (int                mil_dtype,
                                            AneMilBlobDataType *blob_dtype,
                                            guint              *bits);
/* "fp16", "int4", ... as in MIL text; "unknown" otherwise. */
const char   *ane_mil_dtype_to_string      (int                mil_dtype);
/* The AneDType of a MIL DataType, if there is one. */
gboolean      ane_mil_dtype_to_ane         (int                mil_dtype,
                                            AneDType          *dtype);
/* The AneDType of an ArrayFeatureType.ArrayDataType (FLOAT32, FLOAT16, INT32, INT8). */
gboolean      ane_array_dtype_to_ane       (int                array_dtype,
                                            AneDType          *dtype);
/* Element count of a fully known tensor type; FALSE (with error) for
 * unknown dimensions or ranks, or overflow. */
gboolean      ane_mil_tensor_type_n_elements (const AneMilTensorType *type,
                                              guint64           *n_elements,
                                              GError           **error);

G_END_DECLS
