/* ane-infer-test-util.h: helpers for tests of the type-inference mirror
 *
 * Types are written as MIL text writes them, so a test reads like the
 * coremltools docstring it checks:
 *
 *   g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS18, "select", 1,
 *       "cond", ane_test_val (ANE_MIL_DT_BOOL, "[2, 3]"),
 *       "a", ane_test_val (ANE_MIL_DT_FP16, ""),
 *       "b", ane_test_val (ANE_MIL_DT_FP16, ""), NULL);
 *   ane_test_assert_type (c, 0, "fp16");
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "mil/ane-mil-infer-private.h"

G_BEGIN_DECLS

/* A tensor of unknown value: shape "" is a scalar, "[2, ?, 3]" has an
 * unknown (symbolic) dimension. */
AneMilVal       *ane_test_val          (int               dtype,
                                        const char       *shape);
/* A state of that tensor type. */
AneMilVal       *ane_test_state        (int               dtype,
                                        const char       *shape);
/* Const values: an int32 vector "[1, -1, 2]" (or scalar "3"), a float of
 * dtype, a bool, a str. */
AneMilVal       *ane_test_ints         (const char       *values);
AneMilVal       *ane_test_float        (int               dtype,
                                        double            value);
AneMilVal       *ane_test_bool         (gboolean          value);
AneMilVal       *ane_test_str          (const char       *value);
/* A value marked as descending from consts (a const of unknown value). */
AneMilVal       *ane_test_const_val    (int               dtype,
                                        const char       *shape);

/* Runs op at target with n_declared declared outputs on (param, AneMilVal*)
 * pairs, NULL-terminated (a param given twice is a tuple); asserts that the
 * call succeeds and returns it. */
AneMilInferCall *ane_test_infer        (AneMilTarget      target,
                                        const char       *op,
                                        guint             n_declared,
                                        ...) G_GNUC_NULL_TERMINATED;
/* The same call expected to fail with code in ANE_ERROR; returns the error
 * (its message is worth asserting on). */
GError          *ane_test_infer_error  (AneMilTarget      target,
                                        const char       *op,
                                        guint             n_declared,
                                        AneError          code,
                                        ...) G_GNUC_NULL_TERMINATED;
/* Asserts that output i has the type written as MIL text
 * ("tensor<fp16, [2, ?]>", "int32" for a scalar). */
#define ane_test_assert_type(call, i, expected) \
  ane_test_assert_type_impl ((call), (i), (expected), __FILE__, __LINE__)
void             ane_test_assert_type_impl (AneMilInferCall *call,
                                            guint            i,
                                            const char      *expected,
                                            const char      *file,
                                            int              line);
/* Asserts output i's known values ("[1, 2, 3]"). */
void             ane_test_assert_out_values (AneMilInferCall *call,
                                             guint            i,
                                             const char      *expected);

G_END_DECLS
