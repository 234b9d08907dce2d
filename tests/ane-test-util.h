/* ane-test-util.h: small helpers shared by the C test suites
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-reference-private.h"

G_BEGIN_DECLS

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
/* Runs a graph on the reference backend with the given inputs (NULL-terminated). */
GPtrArray *ane_test_run_reference (AneGraph  *graph,
                                   AneTensor *first_input,
                                   ...) G_GNUC_NULL_TERMINATED;
/* Asserts every element of t is within atol + rtol*|expected| of expected. */
void       ane_test_assert_close  (AneTensor    *t,
                                   const float  *expected,
                                   gsize         n,
                                   double        rtol,
                                   double        atol);
/* Asserts t's shape equals shape. */
void       ane_test_assert_shape  (AneTensor    *t,
                                   const gint64 *shape,
                                   guint         rank);

G_END_DECLS
