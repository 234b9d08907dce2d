/* runtime/cpu/ane-cpu-gemm-private.h: our own float GEMM for the "NT" form
 *
 * C[i,j] = alpha · Σ_p A[i,p] · B[j,p] + beta · C[i,j]: both operands are
 * contiguous along k (A [m,k] activations, B [n,k] weights, each row at
 * its leading dimension), the form every linear layer takes
 * (ane_cpu_sgemm (FALSE, TRUE, …)). The approach is llamafile's
 * "tinyBLAS" (ggml/src/ggml-cpu/llamafile/sgemm.cpp in ggml-org/llama.cpp,
 * class tinyBLAS, gemm_bloc): no packing, a register tile of RM×RN
 * accumulators, each one vector over k, and a horizontal sum at the end.
 *
 * Determinism: element (i,j) is always the same sum, whatever tile, piece
 * or thread computes it and whatever m is: lane l of one accumulator
 * (zero to begin with) takes fma (A[i,p], B[j,p]) for p ≡ l (mod VL) in
 * increasing p; the last partial vector is read with a masked load
 * (absent lanes are 0 · 0); the lanes are then added in one fixed tree
 * (halves, then quarters, …: ane-cpu-gemm-tiles.h, gemm_hsum); then
 * alpha · s + beta · C (beta = 0: C is not read). So a decode step's
 * product equals, bit for bit, the same row's product in a prefill.
 * Different ISAs (VL = 8 or 16) give different roundings.
 *
 * Each ISA's kernel is its own translation unit compiled with its -m flags
 * and -ffp-contract=off (only the explicit FMAs fuse):
 * ane-cpu-gemm-avx512.c (-mavx512f -mfma), ane-cpu-gemm-avx2.c (-mavx2
 * -mfma), both x86-64 only (ANE_HAVE_GEMM_AVX512, ANE_HAVE_GEMM_AVX2);
 * ane-cpu-blas.c picks one at run time.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The product over the whole [m, n] block given, on the calling thread.
 * Row i of A is a + i · lda, its element p at a step of a_step floats
 * (1: A stored [m,k]; lda: A stored transposed, [k,m]); likewise row j of
 * B (1: B stored [n,k], the NT form; ldb: B stored [k,n]). With a step
 * other than 1 the operands are always copied (gathered) into aligned
 * rows first, so use it from 4 rows and 4 columns on. */
typedef void (*AneCpuGemmNtFunc) (gsize        m,
                                  gsize        n,
                                  gsize        k,
                                  float        alpha,
                                  const float *a,
                                  gsize        lda,
                                  gsize        a_step,
                                  const float *b,
                                  gsize        ldb,
                                  gsize        b_step,
                                  float        beta,
                                  float       *c,
                                  gsize        ldc);

#ifdef ANE_HAVE_GEMM_AVX2
void ane_cpu_gemm_nt_avx2   (gsize m, gsize n, gsize k, float alpha, const float *a, gsize lda, gsize a_step,
                             const float *b, gsize ldb, gsize b_step, float beta, float *c, gsize ldc);
#endif
#ifdef ANE_HAVE_GEMM_AVX512
void ane_cpu_gemm_nt_avx512 (gsize m, gsize n, gsize k, float alpha, const float *a, gsize lda, gsize a_step,
                             const float *b, gsize ldb, gsize b_step, float beta, float *c, gsize ldc);
#endif

/* The NN form, B stored [k,n] with n contiguous (a conv's im2col buffer
 * or input, ane-cpu-gemm-nn-tiles.h): C[i,j] = alpha · Σ_p A[i,p] ·
 * B[p,j] + beta · C[i,j], A stored [m,k]. Its order of sums is not the NT
 * kernel's: element (i,j) is one chain of fmas over p in increasing order
 * (the same bits with either ISA, whatever the tile, piece or thread). */
typedef void (*AneCpuGemmNnFunc) (gsize        m,
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

#ifdef ANE_HAVE_GEMM_AVX2
void ane_cpu_gemm_nn_avx2   (gsize m, gsize n, gsize k, float alpha, const float *a, gsize lda,
                             const float *b, gsize ldb, float beta, float *c, gsize ldc);
#endif
#ifdef ANE_HAVE_GEMM_AVX512
void ane_cpu_gemm_nn_avx512 (gsize m, gsize n, gsize k, float alpha, const float *a, gsize lda,
                             const float *b, gsize ldb, float beta, float *c, gsize ldc);
/* ane_cpu_axpy_f32 (ane-cpu-blas-private.h) with AVX-512: the same bits. */
void ane_cpu_axpy_f32_avx512 (float *acc, float a, const float *b, gsize n);
/* c[j] = Σ_p a[p] · b[p · ldb + j] for j < n, p < k: the same bits as c
 * zeroed and then ane_cpu_axpy_f32 (c, a[p], b + p · ldb, n) for each p in
 * order, the sums kept in registers. */
void ane_cpu_row_times_rows_f32_avx512 (const float *a, const float *b, gsize k, gsize n, gsize ldb, float *c);
#endif

G_END_DECLS
