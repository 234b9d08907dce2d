/* runtime/cpu/ane-cpu-blas-private.h: the one matrix product of the CPU kernels
 *
 * matmul, linear, conv, conv_transpose and attention all reduce to
 * ane_cpu_sgemm: cblas_sgemm when the library was built with a CBLAS
 * (HAVE_CBLAS, OpenBLAS), plain loops otherwise. Both accumulate in fp32, as
 * the device does for fp16 programs (whose inputs are fp16-valued floats; the
 * driver rounds the outputs).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Row-major C[m,n] = alpha · op(A)[m,k] · op(B)[k,n] + beta · C, where op(A)
 * is A ([m,k], leading dimension lda) or, with trans_a, Aᵀ (A is [k,m]);
 * likewise for B. beta = 0 ignores C's previous contents (NaN included). */
void     ane_cpu_sgemm             (gboolean     trans_a,
                                    gboolean     trans_b,
                                    gsize        m,
                                    gsize        n,
                                    gsize        k,
                                    float        alpha,
                                    const float *a,
                                    gsize        lda,
                                    const float *b,
                                    gsize        ldb,
                                    float        beta,
                                    float       *c,
                                    gsize        ldc);

/* TRUE when ane_cpu_sgemm uses the CBLAS. */
gboolean ane_cpu_blas_enabled      (void);
/* Test-only: route ane_cpu_sgemm through the plain loops even when a CBLAS
 * is present (FALSE), or back (TRUE). Not thread-safe against running plans. */
void     ane_cpu_blas_set_enabled  (gboolean     enabled);
/* The BLAS and the kernels it runs ("OpenBLAS SkylakeX"), for benchmarks:
 * OpenBLAS picks its kernels from CPUID when it loads, and on some virtual
 * machines falls back to generic ones ("Prescott", SSE3) several times
 * slower; OPENBLAS_CORETYPE then names the right ones. "none" without a
 * BLAS. */
const char *ane_cpu_blas_describe  (void);

G_END_DECLS
