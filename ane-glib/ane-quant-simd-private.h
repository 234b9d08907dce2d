/* ane-quant-simd-private.h: the vectorized GGUF block dequantizers
 *
 * ane-quant.c's ane_dequant_blocks_f32 picks, once per process, between
 * its portable C rows and the rows of ane-quant-avx2.c (compiled with
 * -mavx2 -mf16c on x86-64, used when the CPU has both). Both give the same
 * bits (tests/test-dequant.c runs its exactness checks on each).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

#include "ane-types.h"

G_BEGIN_DECLS

/* Every GGUF block type the dequantizers take, as X (TYPE, suffix) with
 * ANE_DTYPE_<TYPE> and the per-type functions' <suffix>: the one list the
 * per-type tables (the double, portable and AVX2 rows) are written from. */
#define ANE_QUANT_EACH_BLOCK_TYPE(X) \
  X (Q8_0, q8_0) X (Q4_0, q4_0) X (Q4_1, q4_1) X (Q5_0, q5_0) X (Q5_1, q5_1) \
  X (Q2_K, q2_K) X (Q3_K, q3_K) X (Q4_K, q4_K) X (Q5_K, q5_K) X (Q6_K, q6_K) X (Q8_K, q8_K)

/* Q3_K's sub-block scale j (0..15) from the block's 12 packed scale bytes
 * (block_q3_K.scales, at byte 96): a 6-bit value with offset 32, its low
 * nibble in scales[j] (j < 8) or the high nibble of scales[j − 8], its top
 * two bits in bits 2·(j / 4) of scales[8 + j % 4] (ggml's
 * quantize_row_q3_K_ref). The one unpacking every Q3_K row uses. */
static inline int
ane_quant_q3_K_scale (const guint8 *packed,
                      int           j)
{
  int lo = j < 8 ? packed[j] & 0x0f : packed[j - 8] >> 4;
  int hi = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;

  return (lo | (hi << 4)) - 32;
}

/* A row function: n_blocks consecutive blocks of one type to floats. */
typedef void (*AneDequantRowFunc) (const guint8 *blocks,
                                   gsize         n_blocks,
                                   float        *out);

/* The AVX2/F16C row for @dtype, or NULL where there is none (a type not
 * done there, or a build without ane-quant-avx2.c). The caller checks that
 * the CPU supports AVX2 and F16C. */
AneDequantRowFunc ane_dequant_row_avx2 (AneDType dtype);

/* Forces ane_dequant_blocks_f32 onto its portable C rows (TRUE) or lets it
 * pick the fastest the CPU runs (FALSE, the default); returns the previous
 * setting. For tests and benchmarks: not thread-safe against concurrent
 * dequantization. */
gboolean ane_dequant_force_portable (gboolean portable);

/* Whether ane_dequant_blocks_f32 currently uses vectorized rows for
 * @dtype (FALSE when forced portable or the CPU lacks AVX2/F16C). */
gboolean ane_dequant_uses_simd (AneDType dtype);

G_END_DECLS
