/* ane-test-util.h: small helpers shared by the C test suites
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-reference-private.h"

G_BEGIN_DECLS

/* --- tensors ------------------------------------------------------------- */

/* A float32 concrete tensor from a literal list. */
AneTensor *ane_test_tensor_f32 (const char   *name,
                                const gint64 *shape,
                                guint         rank,
                                const float  *values);
/* A float32 tensor of deterministic pseudo-random values in [lo, hi). */
AneTensor *ane_test_tensor_random (const char   *name,
                                   const gint64 *shape,
                                   guint         rank,
                                   guint32       seed,
                                   float         lo,
                                   float         hi);
/* A concrete tensor of any non-block dtype from doubles (stored as the dtype stores them). */
AneTensor *ane_test_tensor_values (const char   *name,
                                   AneDType      dtype,
                                   const gint64 *shape,
                                   guint         rank,
                                   const double *values);
/* t's elements as a newly allocated float array (asserting success). */
float     *ane_test_dup_floats    (AneTensor    *t);

/* --- graph building ------------------------------------------------------ */

/* A graph input (asserting success). */
AneTensor *ane_test_input         (AneGraph     *g,
                                   const char   *name,
                                   AneDType      dtype,
                                   const gint64 *shape,
                                   guint         rank);
/* A graph constant holding t's value (asserting success). */
AneTensor *ane_test_const         (AneGraph     *g,
                                   AneTensor    *t);
/* A graph constant holding float32 values (asserting success). */
AneTensor *ane_test_const_f32     (AneGraph     *g,
                                   const char   *name,
                                   const gint64 *shape,
                                   guint         rank,
                                   const float  *values);

/* --- running ------------------------------------------------------------- */

/* Runs a graph on the reference backend with the given inputs (NULL-terminated). */
GPtrArray *ane_test_run_reference (AneGraph  *graph,
                                   AneTensor *first_input,
                                   ...) G_GNUC_NULL_TERMINATED;
/* Adds y as the graph's only output "y", runs with the inputs (NULL-terminated) and returns y's value. */
AneTensor *ane_test_eval          (AneGraph  *graph,
                                   AneTensor *y,
                                   ...) G_GNUC_NULL_TERMINATED;
/* Runs graph (compiling must succeed) expecting failure: code, and every substring (NULL-terminated). */
void       ane_test_run_expect_error (AneGraph    *graph,
                                      AneTensor  **inputs,
                                      guint        n_inputs,
                                      AneError     code,
                                      const char  *first_substring,
                                      ...) G_GNUC_NULL_TERMINATED;

/* --- assertions ---------------------------------------------------------- */

/* Asserts every element of t is within atol + rtol*|expected| of expected. */
void       ane_test_assert_close  (AneTensor    *t,
                                   const float  *expected,
                                   gsize         n,
                                   double        rtol,
                                   double        atol);
/* Asserts t has exactly the n expected values (NaN matches NaN). */
void       ane_test_assert_values (AneTensor    *t,
                                   const double *expected,
                                   gsize         n);
/* Asserts |got - expected| <= tol for each of t's n values (NaN matches NaN, inf matches inf). */
void       ane_test_assert_values_near (AneTensor    *t,
                                        const double *expected,
                                        gsize         n,
                                        double        tol);
/* Asserts t's shape equals shape. */
void       ane_test_assert_shape  (AneTensor    *t,
                                   const gint64 *shape,
                                   guint         rank);
/* Asserts t is non-NULL with the given dtype and shape. */
void       ane_test_assert_spec   (AneTensor    *t,
                                   AneDType      dtype,
                                   const gint64 *shape,
                                   guint         rank);
/* Asserts *error is ANE_ERROR/code and mentions every substring (NULL-terminated), then clears it. */
void       ane_test_assert_error  (GError      **error,
                                   AneError      code,
                                   const char   *first_substring,
                                   ...) G_GNUC_NULL_TERMINATED;
/* Asserts a failed build: result NULL, then ane_test_assert_error with op and the substrings. */
void       ane_test_assert_build_error (AneTensor   *result,
                                        GError     **error,
                                        AneError     code,
                                        const char  *op,
                                        ...) G_GNUC_NULL_TERMINATED;

/* --- files --------------------------------------------------------------- */

/* A new temporary directory from a g_dir_make_tmp template (asserting success). */
char      *ane_test_make_tmp_dir  (const char   *tmpl);
/* Removes path and, if it is a directory, everything below it (links are not followed). */
void       ane_test_remove_tree   (const char   *path);
/* Writes n bytes of data to path (asserting success). */
void       ane_test_write_file    (const char   *path,
                                   const void   *data,
                                   gsize         n);

G_END_DECLS
