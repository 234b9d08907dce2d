/* ane-grad-test-util.h: the finite-difference checks of the gradient suites
 *
 * test-grad.c and test-grad-vision.c build a small graph with params,
 * loss = Σ y·r (r a fixed random tensor, so that every output element
 * weighs differently), its gradient graph (ane_graph_gradients), and
 * compare every element of every param against the central difference of
 * the loss on the reference backend (double precision, each op's result
 * rounded once to float32). Params hold multiples of 2^-10 and
 * h = ANE_GRAD_TEST_H = 2^-8, so x ± h is exact in float32; the
 * difference's own error is O(h²). The same gradient graph then runs on
 * the CPU backend at fp32 and must agree with the reference within 1e-4
 * relative (1e-5 absolute).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-test-util.h"

G_BEGIN_DECLS

/* The gradients of a float16 program on the CPU backend, against the
 * reference's: each element within this fraction of its param's largest
 * gradient: 4 units of float16's 2^-10 for one op (docs/training.md); a
 * test of a deeper graph may set more. */
#define ANE_GRAD_TEST_FP16_TOL (4.0 / 1024)
extern double ane_grad_test_fp16_tol;


#define ANE_GRAD_TEST_H 0.00390625   /* 2^-8 */

/* float32 multiples of 2^-10 in [lo, hi], at least `away` from 0; or
 * with distinct set, a random permutation of multiples of 1/32 around 0
 * (no two within 2h: max and min have one winner each, by more than h). */
AneTensor *ane_grad_test_values_full    (const char   *name,
                                         const gint64 *shape,
                                         guint         rank,
                                         guint32       seed,
                                         double        lo,
                                         double        hi,
                                         double        away,
                                         gboolean      distinct);
AneTensor *ane_grad_test_values         (const char   *name,
                                         const gint64 *shape,
                                         guint         rank,
                                         guint32       seed,
                                         double        lo,
                                         double        hi,
                                         double        away);
/* A param of g holding ane_grad_test_values (asserting success). */
AneTensor *ane_grad_test_param          (AneGraph     *g,
                                         const char   *name,
                                         const gint64 *shape,
                                         guint         rank,
                                         guint32       seed,
                                         double        lo,
                                         double        hi,
                                         double        away);
/* A param of distinct values (ane_grad_test_values_full with distinct). */
AneTensor *ane_grad_test_distinct_param (AneGraph     *g,
                                         const char   *name,
                                         const gint64 *shape,
                                         guint         rank,
                                         guint32       seed);
/* loss = Σ y·r, r fixed, as the output "loss". */
void       ane_grad_test_add_loss       (AneGraph     *g,
                                         AneTensor    *y);
/* The output of out named name (failing the test if there is none). */
AneTensor *ane_grad_test_find_output    (GPtrArray    *out,
                                         const char   *name);
/* The gradients of g's "loss" with respect to wrt, against central
 * differences (every stride-th element of each param; with extrapolate,
 * Richardson's (4·D(h) - D(2h))/3), tolerance |analytic - numeric| <=
 * tol · max(1, |numeric|); and on the CPU backend against the reference.
 * Returns the worst relative difference to the central difference. */
double     ane_grad_test_check_every    (const char        *what,
                                         AneGraph          *g,
                                         const char *const *wrt,
                                         gsize              stride,
                                         gboolean           extrapolate,
                                         double             tol);
/* ane_grad_test_check_every of every element, tolerance 2e-4. */
double     ane_grad_test_check          (const char        *what,
                                         AneGraph          *g,
                                         const char *const *wrt);

G_END_DECLS
