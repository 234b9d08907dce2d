/* ane-lower-test-util.h: helpers for tests of the lowering to MIL
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "mil/lower/ane-lower-private.h"
#include "mil/ane-mlpackage-private.h"

G_BEGIN_DECLS

/* Lowers g (asserting success) at target/precision and checks the whole
 * program against Apple's loader contract (ane_mil_infer_check_program);
 * frees with ane_test_program_free. */
AneMilProgram   *ane_test_lower          (AneGraph         *g,
                                          AneMilTarget      target,
                                          AneDType          precision);
void             ane_test_program_free   (AneMilProgram    *p);
/* Asserts that every op of p type-checks as coremltools' loader infers it. */
void             ane_test_assert_program_checks (const AneMilProgram *p);
AneMilBlock     *ane_test_main_block     (AneMilProgram    *p);
/* The nth (0-based) op of that type in main, or NULL. */
AneMilOperation *ane_test_find_op        (AneMilProgram    *p,
                                          const char       *type,
                                          guint             nth);
guint            ane_test_count_ops      (AneMilProgram    *p,
                                          const char       *type);
/* The value name bound to param (first binding), or NULL if unbound. */
const char      *ane_test_op_arg         (AneMilOperation  *op,
                                          const char       *param);
/* The op producing a value, or NULL (function inputs). */
AneMilOperation *ane_test_producer       (AneMilProgram    *p,
                                          const char       *value);
/* The const op's value decoded to doubles (immediate only); returns n. */
gsize            ane_test_const_values   (AneMilProgram    *p,
                                          const char       *value,
                                          double          **values);
/* The const op's string value, or NULL. */
const char      *ane_test_const_string   (AneMilProgram    *p,
                                          const char       *value);
/* Asserts an op output's MIL dtype and shape. */
void             ane_test_assert_output  (AneMilOperation  *op,
                                          guint             index,
                                          AneDType          dtype,
                                          const gint64     *shape,
                                          guint             rank);
/* "type1,type2,..." of main's ops in order, consts left out. */
char            *ane_test_op_sequence    (AneMilProgram    *p);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilProgram, ane_test_program_free)

G_END_DECLS
