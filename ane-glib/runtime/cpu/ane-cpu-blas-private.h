/* runtime/cpu/ane-cpu-blas-private.h: the one matrix product of the CPU kernels
 *
 * matmul, linear, conv, conv_transpose and attention all reduce to
 * ane_cpu_sgemm: our tiled kernels on x86-64 with AVX2 or AVX-512
 * (AneCpuGemmVariant below), else cblas_sgemm when the library was built
 * with a CBLAS (HAVE_CBLAS, OpenBLAS), plain loops otherwise. All accumulate in fp32, as
 * the device does for fp16 programs (whose inputs are fp16-valued floats; the
 * driver rounds the outputs).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>
#include <string.h>

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

/* TRUE when ane_cpu_sgemm may use the CBLAS: there is one and the GEMM
 * variant is not PORTABLE (which products go to it: AneCpuGemmVariant). */
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

/* Which code computes the "NT" products (trans_a FALSE, trans_b TRUE: every
 * linear layer; and a one-column product whose column is contiguous):
 * - PORTABLE: the plain loops, for every form;
 * - AVX2, AVX512: our tiled kernels (ane-cpu-gemm-private.h) for the NT
 *   form at every m and the other forms from 4 rows and columns on, the
 *   NN form (B stored [k,n], a conv's) from 4 rows and 16 columns on
 *   through their NN kernel (the BLAS route below for the rest: other
 *   forms with fewer rows or columns, i.e. our loops);
 * - BLAS: the previous route: our loops below 4 rows, cblas_sgemm from 4
 *   rows on (the loops everywhere without a CBLAS).
 * AUTO (set_variant only) is ANE_CPU_GEMM when set (portable, avx2, avx512
 * or blas; read once), else the widest kernel the CPU has (AVX512, AVX2),
 * else BLAS when there is one, else PORTABLE. ane_cpu_blas_set_enabled
 * (FALSE) forces PORTABLE whatever is set. */
typedef enum {
  ANE_CPU_GEMM_AUTO,
  ANE_CPU_GEMM_PORTABLE,
  ANE_CPU_GEMM_AVX2,
  ANE_CPU_GEMM_AVX512,
  ANE_CPU_GEMM_BLAS,
} AneCpuGemmVariant;

/* Whether this build and this CPU can run variant (AUTO: always). */
gboolean          ane_cpu_gemm_variant_available (AneCpuGemmVariant variant);
/* Test hook: the variant ane_cpu_sgemm uses from now on, process-wide;
 * FALSE (and nothing changed) when it is not available. Not thread-safe
 * against running plans. */
gboolean          ane_cpu_gemm_set_variant       (AneCpuGemmVariant variant);
/* The variant in effect (never AUTO). */
AneCpuGemmVariant ane_cpu_gemm_get_variant       (void);
/* "portable", "avx2", "avx512", "blas" ("auto" for AUTO). */
const char       *ane_cpu_gemm_variant_name      (AneCpuGemmVariant variant);
/* What runs the products, for benchmarks: "avx512 (NT form at every size,
 * …)" and the like (an interned string). */
const char       *ane_cpu_gemm_describe          (void);

typedef float ane_cpu_v8f __attribute__ ((vector_size (32)));

/* acc[j] += a · b[j] for j < n, eight lanes at a time (GCC vector
 * extensions: two SSE operations without AVX). Each element is the plain
 * loop's multiply then add, rounded as it rounds them: the same bits. The
 * portable NN product's row update (decode attention's weights · V) and
 * the depthwise conv's taps use it. */
static inline void
ane_cpu_axpy_f32 (float       *acc,
                  float        a,
                  const float *b,
                  gsize        n)
{
  ane_cpu_v8f av = { a, a, a, a, a, a, a, a };
  gsize j = 0;

  for (; j + 8 <= n; j += 8)
    {
      ane_cpu_v8f x, y;

      memcpy (&x, acc + j, sizeof x);
      memcpy (&y, b + j, sizeof y);
      x += av * y;
      memcpy (acc + j, &x, sizeof x);
    }
  for (; j < n; j++)
    acc[j] += a * b[j];
}

G_END_DECLS
