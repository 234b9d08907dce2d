/* runtime/cpu/ane-cpu-vec-q8x-private.h: GGUF blocks times 8-bit activations (opt-in)
 *
 * By default a product over compressed weights keeps its activations in
 * float, as Core ML does (ane-cpu-vec-private.h). An executable whose
 * quantize-activations setting is on (AneExecutable:quantize-activations,
 * ANE_CPU_QUANTIZE_ACTIVATIONS=1) multiplies GGUF Q8_0, Q4_0 and Q4_K
 * weights the way llama.cpp does instead: each block of 32 activations is
 * quantized to 8 bits with a scale of its own (dx = max |x| / 127, q = x ·
 * (127 / max |x|) rounded to the nearest, ties to even), and a block's
 * products are summed in integers (ggml's quantize_row_q8_0 and
 * vec_dot_q8_0_q8_0 / vec_dot_q4_0_q8_0 / vec_dot_q4_K_q8_K,
 * ggml/src/ggml-cpu/arch/x86/quants.c; here dx stays a float where ggml
 * rounds it to fp16, and Q4_K's activation blocks are of 32 as well, not
 * 256). The weights are the file's, exact (not rounded to fp16 in an fp16
 * program); the activations lose up to half a step of their block's
 * scale. That is not what Apple's runtime computes: it is off by default
 * and meant for users who want llama.cpp's speed and accept its
 * arithmetic.
 *
 * Which products: with the setting on when the plan is made, Q8_0, Q4_0
 * and Q4_K weights are regrouped 16 rows at a time (ane-cpu-vec-r16.c,
 * which gives their kernels' sum order; ane_cpu_q8x_groups_*), and all
 * their products run on 8-bit activations, a prompt's too; blocks as the
 * file holds them (when the setting comes after the plan is made) do so
 * for products of fewer than 64 activation rows, with the kernels and
 * order here (ane_cpu_q8x_rows_*).
 *
 * The sum, the same bits for every ISA: for weight row r and activation
 * row i, 16 float lanes start at +0; block b adds to lane 8 · (b mod 2) + j
 * (j < 8) the product (float) I · s in one fused multiply-add (fmaf),
 * where I is the integer sum of the block's weights 4j .. 4j + 3 times
 * their activations (Q4_0: the nibbles', n − 8 coming in through nsum; Q4_K:
 * the nibbles') and s = d_b · dx_b (the weight block's d, or Q4_K's scale,
 * times the activation block's scale, a float product); Q4_K's offsets
 * go into 16 lanes of their own, the same way (fmaf (−qsum_j, s · o_b,
 * lane′): two chains of dependent additions, not one twice as long), added
 * lane by lane to the first before the tree; the lanes are then summed as
 * a tree: lane j + 8 onto j, then j + 4, then j + 2, then lane 1 onto
 * lane 0. The AVX-512 kernels (with VNNI) do two blocks a vector, the AVX2
 * ones one block a vector into an even and an odd accumulator.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "runtime/cpu/ane-cpu-vec-private.h"

G_BEGIN_DECLS

/* m rows of cols activations (cols a multiple of 32) in blocks of 32. */
typedef struct {
  gsize   m, cols, n_blocks;
  gint8  *q;        /* [m, cols] */
  float  *d;        /* [m, n_blocks]: the block's scale; NaN when the block holds a NaN or an infinity */
  /* Q4_0 only, else NULL: [m, n_blocks, 8], −8 times the sum of each 4
   * activations q[4j .. 4j + 3] of a block. A Q4_0 weight is its nibble
   * n minus 8: Σ (n − 8) q = Σ n q − 8 Σ q, so a lane starts from this. */
  gint32 *nsum;
  /* Q4_K only, else NULL: [m, n_blocks, 8], the sum of each 4 activations
   * q[4j .. 4j + 3] of a block, as a float. A Q4_K weight is s · (n − o)
   * with a fractional offset o per block: Σ s (n − o) q dx = s dx Σ n q −
   * s dx o Σ q. */
  float  *qsum;
  gint32 *bsum;     /* [m, n_blocks]: each block's Σ q (the regrouped kernels' offsets) */
} AneCpuQ8x;

/* Below this a block's scale would overflow 127 / max |x|; such a block
 * is all zeros to 8 bits (its products are below 2^-90 of a unit weight). */
#define ANE_CPU_Q8X_TINY 1e-30f

/* Whether p's products can run on 8-bit activations (GGUF Q8_0, Q4_0 or
 * Q4_K blocks, as the file holds them or regrouped). */
gboolean      ane_cpu_q8x_fits             (const AneCpuPacked *p);
/* Blocks [b0, b1) of x (32 floats each, x's rows one after another)
 * quantized into a's arrays (allocated, and of the kind's shape) at the
 * same block index: q, d, bsum, and nsum or qsum when a has them. One per
 * ISA, each with the same bits (the scale and its reciprocal are one
 * division each, each value one product, one addition and one
 * subtraction, the sums integers). */
typedef void (*AneCpuQ8xQuantizeFunc) (AneCpuQ8x   *a,
                                       const float *x,
                                       gsize        b0,
                                       gsize        b1);
void          ane_cpu_q8x_quantize_portable (AneCpuQ8x   *a,
                                             const float *x,
                                             gsize        b0,
                                             gsize        b1);
#ifdef ANE_HAVE_VEC_AVX512_VNNI
void          ane_cpu_q8x_quantize_avx512  (AneCpuQ8x          *a,
                                            const float        *x,
                                            gsize               b0,
                                            gsize               b1);
#endif
/* Quantizes x [m, cols] into a (its arrays allocated) for weights of
 * kind (nsum for Q4_0, qsum for Q4_K) with func, its blocks shared out
 * over the CPU pool when there are many. */
void          ane_cpu_q8x_quantize         (AneCpuQ8x            *a,
                                            const float          *x,
                                            gsize                 m,
                                            gsize                 cols,
                                            AneCpuPackedKind      kind,
                                            AneCpuQ8xQuantizeFunc func);
void          ane_cpu_q8x_clear            (AneCpuQ8x          *a);
/* Which kernels run now: "avx512" (with VNNI), "avx2" or "portable" (the
 * ISA ane-cpu-vec.c's dispatch allows, ane_cpu_vec_set_isa included). */
const char   *ane_cpu_q8x_kernel_isa       (void);

/* The rows [r0, r1) of out = x · Wᵀ for every row of a (out row stride
 * p->rows), in the order above. One per ISA. */
typedef void (*AneCpuQ8xRowsFunc) (const AneCpuPacked *p,
                                   gsize               r0,
                                   gsize               r1,
                                   const AneCpuQ8x    *a,
                                   float              *out);
void          ane_cpu_q8x_rows_portable    (const AneCpuPacked *p,
                                            gsize               r0,
                                            gsize               r1,
                                            const AneCpuQ8x    *a,
                                            float              *out);
#ifdef ANE_HAVE_VEC_AVX2
/* ane-cpu-vec-q8x-avx2.c: AVX2 (vpmaddubsw, vpmaddwd). */
void          ane_cpu_q8x_rows_avx2        (const AneCpuPacked *p,
                                            gsize               r0,
                                            gsize               r1,
                                            const AneCpuQ8x    *a,
                                            float              *out);
#endif
#ifdef ANE_HAVE_VEC_AVX512_VNNI
/* ane-cpu-vec-q8x-avx512.c: AVX-512 F/BW/VL/DQ with VNNI (vpdpbusd); run
 * only where the CPU has AVX512_VNNI. */
void          ane_cpu_q8x_rows_avx512      (const AneCpuPacked *p,
                                            gsize               r0,
                                            gsize               r1,
                                            const AneCpuQ8x    *a,
                                            float              *out);
#endif

/* --- regrouped weights (ane-cpu-vec-r16.c) ------------------------------------ */

/* Bytes of one block of a group of 16 rows. */
gsize         ane_cpu_r16_block_bytes      (AneCpuPackedKind    kind);
/* Q8_0 / Q4_0 blocks regrouped (made once per process for the same
 * blocks, in huge pages; the blocks' file pages released); NULL for
 * another kind or when the memory cannot be had. */
AneCpuPacked *ane_cpu_packed_new_r16       (const AneCpuPacked *blocks);
/* Row r as floats, d · q (the blocks' values). */
void          ane_cpu_packed_r16_dequantize_row (const AneCpuPacked *p,
                                                 gsize               r,
                                                 float              *dst);
/* The row groups [g0, g1) of out = x · Wᵀ for every row of a (out row
 * stride p->rows; rows past p->rows are not written). One per ISA. */
typedef void (*AneCpuQ8xGroupsFunc) (const AneCpuPacked *p,
                                     gsize               g0,
                                     gsize               g1,
                                     const AneCpuQ8x    *a,
                                     float              *out);
void          ane_cpu_q8x_groups_portable  (const AneCpuPacked *p,
                                            gsize               g0,
                                            gsize               g1,
                                            const AneCpuQ8x    *a,
                                            float              *out);
#ifdef ANE_HAVE_VEC_AVX2
void          ane_cpu_q8x_groups_avx2      (const AneCpuPacked *p,
                                            gsize               g0,
                                            gsize               g1,
                                            const AneCpuQ8x    *a,
                                            float              *out);
#endif
#ifdef ANE_HAVE_VEC_AVX512_VNNI
void          ane_cpu_q8x_groups_avx512    (const AneCpuPacked *p,
                                            gsize               g0,
                                            gsize               g1,
                                            const AneCpuQ8x    *a,
                                            float              *out);
#endif

G_END_DECLS
