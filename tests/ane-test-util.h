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
/* An unbound float32 param (a MIL const when lowered), asserting success. */
AneTensor *ane_test_param         (AneGraph     *g,
                                   const char   *name,
                                   const gint64 *shape,
                                   guint         rank);
/* A graph output (asserting success). */
void       ane_test_output        (AneGraph     *g,
                                   const char   *name,
                                   AneTensor    *t);
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

/* --- comparing numbers --------------------------------------------------- */

/* The one comparison rule of the numeric tests. got[i] matches want[i] when
 * both are NaN, when want[i] is an infinity and got[i] the same infinity, or
 * when both are finite and |got[i] - want[i]| <= atol + rtol * |want[i]|.
 * Every other pair fails: a NaN where a number is expected (or a number
 * where NaN is), an infinity of either sign where it is not expected. A test
 * written as `if (fabs (got - want) > tol) fail` lets a NaN through; these
 * do not.
 *
 * On a mismatch the test fails (g_error) naming @what, the first bad index,
 * both values and that element's bound, how many elements are off and the
 * largest error relative to its bound. Returns the largest |got - want|
 * over the finite pairs, for the test's log. */
double     ane_test_assert_close_doubles (const char   *what,
                                          const double *got,
                                          const double *want,
                                          gsize         n,
                                          double        rtol,
                                          double        atol);
/* The same for float arrays (compared in double). */
double     ane_test_assert_close_floats  (const char   *what,
                                          const float  *got,
                                          const float  *want,
                                          gsize         n,
                                          double        rtol,
                                          double        atol);
/* The same for two tensors' values; their element counts must be equal. */
double     ane_test_assert_close_tensors (const char   *what,
                                          AneTensor    *got,
                                          AneTensor    *want,
                                          double        rtol,
                                          double        atol);
/* t's elements as a newly allocated double array, through ane_tensor_get_value(). */
double    *ane_test_dup_doubles   (AneTensor    *t,
                                   gsize        *n);

/* --- language models ----------------------------------------------------- */

/* Two decode executables (inputs "token" and "position", int32 [1]; first
 * output the logits) fed the same n_tokens ids, position after position:
 * the prompt's n_prompt ids, then the tokens a greedy run of a generated
 * after them. Returns the largest |logit of b - logit of a| over every
 * position. At the step that chose generated token g (n_tokens - n_prompt
 * of them), asserting that a's largest logit is that token, sets gaps_a[g]
 * to how far a's largest logit is above its second and gaps_b[g] to how
 * far b's logit of that token is above b's best other one (negative: b
 * would have chosen another). For tests that allow two precisions (or
 * quantizations) to part ways only at a near tie. */
/* The logits of n_tokens decode steps of exe (inputs "token" and
 * "position", int32 [1]; first output the logits), tokens[t] at position
 * t, one after another in one array (*n_out floats), asserting no error. */
float     *ane_test_decode_logits  (AneExecutable *exe,
                                    const gint32  *tokens,
                                    gsize          n_tokens,
                                    gsize         *n_out);
double     ane_test_decode_margins (AneExecutable *a,
                                    AneExecutable *b,
                                    const gint32  *tokens,
                                    gsize          n_tokens,
                                    gsize          n_prompt,
                                    double        *gaps_a,
                                    double        *gaps_b);

/* --- skipping ------------------------------------------------------------ */

/* Whether ANE_TEST_STRICT is set (to anything but "" or "0"). The test
 * command sets it (tests/meson.build), as it does for the Python tests. */
gboolean   ane_test_strict        (void);
/* Skips the current test -- or, when the caller goes on, the part it leaves
 * out -- saying why. Under ANE_TEST_STRICT the test fails (g_error)
 * instead: this is for what is missing only while the library is
 * incomplete (a CPU kernel, a lowering, an op), which in a finished
 * library is a regression. A skip that is right on some machines (another
 * platform, `-m slow`) calls g_test_skip() directly, with a comment saying
 * why it is legitimate. */
void       ane_test_skip          (const char   *format,
                                   ...) G_GNUC_PRINTF (1, 2);

/* --- assertions ---------------------------------------------------------- */

/* Asserts every element of t is within atol + rtol*|expected| of expected
 * (ane_test_assert_close_doubles' rule). */
void       ane_test_assert_close  (AneTensor    *t,
                                   const float  *expected,
                                   gsize         n,
                                   double        rtol,
                                   double        atol);
/* Asserts t has exactly the n expected values (NaN matches NaN, inf the same inf). */
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
