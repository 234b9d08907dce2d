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

/* p's ops, consts left out, are exactly expected ("type1,type2,..."). */
void             ane_test_assert_seq     (AneMilProgram    *p,
                                          const char       *expected);
/* The const named value (immediate) holds exactly expected. */
void             ane_test_assert_const_ints (AneMilProgram *p,
                                             const char    *value,
                                             const gint64  *expected,
                                             gsize          n);
/* One int32 value. */
void             ane_test_assert_const_int (AneMilProgram  *p,
                                            const char     *value,
                                            gint64          expected);
void             ane_test_assert_const_bool (AneMilProgram *p,
                                             const char    *value,
                                             gboolean       expected);
/* A rank-0 const of MIL dtype dtype holding expected rounded to dtype. */
void             ane_test_assert_const_scalar (AneMilProgram *p,
                                               const char    *value,
                                               AneDType       dtype,
                                               double         expected);
void             ane_test_assert_const_string (AneMilProgram *p,
                                               const char    *value,
                                               const char    *expected);
/* The i-th value bound to a (tuple) parameter, or NULL if unbound. */
const char      *ane_test_op_arg_n       (AneMilOperation  *op,
                                          const char       *param,
                                          guint             i);
/* The type of the op producing value ("" for a function input). */
const char      *ane_test_producer_type  (AneMilProgram    *p,
                                          const char       *value);
/* Lowering g fails with ANE_ERROR_UNSUPPORTED and a message holding every
 * needle (a NULL-terminated list). */
void             ane_test_assert_lower_fails (AneGraph     *g,
                                              AneMilTarget  target,
                                              AneDType      precision,
                                              const char   *needle,
                                              ...) G_GNUC_NULL_TERMINATED;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilProgram, ane_test_program_free)

G_END_DECLS
