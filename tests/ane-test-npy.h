/* ane-test-npy.h: reading NumPy .npy files into tensors, for tests whose
 * expected values come from Python (ONNX Runtime's outputs)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-glib.h"

G_BEGIN_DECLS

/* A .npy file (format 1.0 or 2.0, C order, little-endian '<f4', '<f2',
 * '<i4', '<i8', '|b1', '|u1' or '|i1') as a tensor named name; NULL with
 * error (ANE_ERROR_PARSE naming the file and the reason) otherwise. */
AneTensor *ane_test_npy_load (const char  *path,
                              const char  *name,
                              GError     **error);

G_END_DECLS
