/* runtime/cpu/ane-cpu-vec-private.h: products over compressed weights
 *
 * Issue 15, item 2: a linear whose weight is int8 or int4 data with scales
 * (constexpr_blockwise_shift_scale, what GGUF Q8_0 / Q4_0 become at iOS18;
 * constexpr_affine_dequantize with per-row scales), an fp16 const or a
 * palettized weight (constexpr_lut_to_dense: ANE_CPU_PACKED_LUT,
 * ane-cpu-vec-lut.c) or a pruned one (constexpr_sparse_to_dense:
 * ANE_CPU_PACKED_SPARSE, ane-cpu-vec-sparse.c) runs on the compressed
 * weight itself. The plan packs such a weight once
 * (ane-cpu-plan.c) into an AneCpuPacked: memory is about the file's bytes,
 * never a dense float copy. The kernels dequantize a few weights at a time
 * into registers (w = scale · (q − offset), rounded to fp16 when the
 * constexpr op's output is fp16, exactly as the dequantizing kernel and
 * ane_cpu_value_round would make it) and multiply-add them with the float
 * activations in fp32: Core ML does not quantize the activations of these
 * ops, so neither do we (unlike ggml's vec_dot_q8_0_q8_0, which quantizes
 * the activations to Q8_0 first: ggml/src/ggml-cpu/arch/x86/quants.c).
 *
 * Dispatch: ane-cpu-vec-avx512.c (compiled with -mavx512f -mavx512bw
 * -mavx512vl -mavx512dq -mfma -mf16c) when the CPU and the OS have AVX-512
 * F/BW/VL/DQ (__builtin_cpu_supports), else ane-cpu-vec-avx2.c (compiled
 * with -mavx2 -mfma -mf16c) when the CPU has them (__builtin_cpu_supports
 * for AVX2 and FMA, ane-fp16.c's CPUID / XGETBV check for F16C), the
 * portable C of ane-cpu-vec.c everywhere else; a weight whose blocks do not
 * fit a set's kernels takes the next set down. ANE_CPU_VEC_ISA=portable|
 * avx2|avx512 (read once) caps the choice, ane_cpu_vec_set_isa forces one
 * (tests). Every set makes the same weights bit for bit; each sums them in
 * an order of its own (fp32, fixed: the results of one set are identical
 * for every thread count, and sets differ within the documented
 * tolerance). Work is shared over output rows by
 * ane_cpu_parallel_for_balanced, each output computed by one thread in a
 * fixed order: results do not depend on the thread count.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  ANE_CPU_PACKED_INT8,       /* one signed byte per weight */
  ANE_CPU_PACKED_INT4,       /* two's complement nibbles, see AneCpuPacked */
  ANE_CPU_PACKED_FP16,       /* IEEE half per weight, no scales */
  ANE_CPU_PACKED_UINT4,      /* unsigned nibbles 0..15 (GGUF Q4_K), laid out as INT4 */
  /* GGUF blocks as the file holds them (ggml-common.h), each row
   * cols / 32 blocks, every block its own scale: an fp16 d first, then */
  ANE_CPU_PACKED_Q8_0_BLOCKS, /* 32 int8 q (block_q8_0, 34 bytes): w = d · q */
  ANE_CPU_PACKED_Q4_0_BLOCKS, /* 16 bytes, q_j = (qs[j] & 15) − 8 and q_j+16 = (qs[j] >> 4) − 8 (block_q4_0, 18 bytes) */
  /* block_q4_K (144 bytes, 256 weights): q = the 4-bit qs (after d, dmin
   * and the 12 bytes of 6-bit scales), each 32 bytes holding weights
   * 64i..64i+31 in their low nibbles and 64i+32..64i+63 in their high
   * ones; w = scale · (q − offset) with the scale and offset arrays per 32
   * (the lowered program's, ane-lower-q4k.c) */
  ANE_CPU_PACKED_Q4_K_BLOCKS,
  /* Palettized (constexpr_lut_to_dense): lut_bits-bit indices (1, 2, 3, 4,
   * 6 or 8) into a table of floats per group of rows; see AneCpuPacked and
   * ane-cpu-vec-lut.c for the layout */
  ANE_CPU_PACKED_LUT,
  /* Pruned (constexpr_sparse_to_dense): a bit per weight and the kept
   * weights' values (fp16 or fp32); see AneCpuPacked and
   * ane-cpu-vec-sparse.c */
  ANE_CPU_PACKED_SPARSE,
  /* GGUF Q8_0 / Q4_0 blocks regrouped 16 rows at a time for 8-bit
   * activations (ane-cpu-vec-r16.c: the layout; row_bytes is then the
   * bytes of a group of 16 rows) */
  ANE_CPU_PACKED_Q8_0_R16,
  ANE_CPU_PACKED_Q4_0_R16,
  ANE_CPU_PACKED_Q4_K_R16,   /* GGUF Q4_K blocks regrouped likewise */
} AneCpuPackedKind;

/* A [rows, cols] weight kept compressed. Row r starts at q + r · row_bytes.
 * INT4 and UINT4 rows are groups of 32 weights in 16 bytes, byte i of a group holding
 * weight i in its low nibble and weight i + 16 in its high one (ggml's
 * block_q4_0 order, which unpacks with two masks and no shuffle); the last
 * group is padded with zeros. Scales (and offsets) are [rows / row_group,
 * cols / block], row-major: weight (r, c) is scale[r / row_group][c / block]
 * · (q − offset[..]). */
typedef struct _AneCpuPacked {
  AneCpuPackedKind kind;
  gsize     rows, cols;
  gsize     row_bytes;
  gsize     block;           /* columns per scale (divides cols); FP16: cols */
  gsize     row_group;       /* rows per scale row (divides rows) */
  gsize     n_blocks;        /* cols / block */
  guint8   *q;
  float    *scale;           /* NULL for FP16 and the *_BLOCKS kinds (their d is in the block) */
  float    *offset;          /* NULL: no offset */
  gboolean  round_fp16;      /* dequantized weights are rounded to fp16 */
  GBytes   *keep;            /* when set, q points into these bytes (the weights' file): no copy */
  /* the rows lie in huge pages (ane_cpu_packed_make_hot): the AVX-512
   * kernels then prefetch far ahead into the L2 (ane-cpu-vec-avx512.c,
   * ane_cpu_prefetch_far),
   * the AVX2 ones not at all, instead of a few rows ahead into the L1,
   * which in huge pages lost to no prefetch at all
   * (bench-llm, one thread, AVX-512: F16 decode 42 → 81–87 tokens/s
   * without, Q8_0 86–88 → 89–104; AVX2: F16 69–71 → 91–93) */
  gboolean  hot;
  /* products quantize the activations to 8 bits per block, as llama.cpp
   * does: every product of the *_R16 kinds, and those of fewer than 64
   * activation rows of GGUF Q8_0 / Q4_0 / Q4_K blocks (opt-in:
   * AneExecutable:quantize-activations, ane-cpu-vec-q8x-private.h) */
  gboolean  quantize_activations;
  /* LUT: rows of groups of 32 weights, 4 · lut_bits bytes a group, the
   * last group padded with index 0 (the planes of ane-cpu-vec-lut.c); the
   * table of row r is lut + (r / row_group) · lut_stride, its 2^lut_bits
   * entries the weights themselves (rounded to fp16 when round_fp16),
   * repeated to fill the stride (entry i is entry i mod 2^lut_bits) */
  guint     lut_bits;
  gsize     lut_stride;      /* MAX (16, 2^lut_bits) floats */
  float    *lut;
  /* SPARSE: row r's mask is the row_bytes at q + r · row_bytes (bit c % 8
   * of byte c / 8 set when weight c is kept; rows padded to 16 bits with
   * zeros); its kept weights, in column order, are the nz_width-byte
   * values (IEEE halves when round_fp16, else floats) from
   * nz + nz_start[r] · nz_width; nz_start has rows + 1 entries */
  guint8   *nz;
  gsize     nz_width;
  gsize    *nz_start;
} AneCpuPacked;

/* Packs int8/int4/uint4 data (values held as int32, row-major [rows, cols]) with
 * float scales [srows, scols] (and offsets of the same shape, or NULL):
 * srows must divide rows and scols cols. NULL (nothing packed) when the
 * shapes do not fit, a value is out of the kind's range, or an offset
 * would make q − o inexact in float (the weights would then differ from
 * the dequantizing kernel's in the last bit). */
AneCpuPacked *ane_cpu_packed_new_blockwise (AneCpuPackedKind kind,
                                            gsize            rows,
                                            gsize            cols,
                                            const gint32    *data,
                                            const float     *scale,
                                            gsize            srows,
                                            gsize            scols,
                                            const float     *offset,
                                            gboolean         round_fp16);
/* Packs fp16-valued floats (an fp16 const as the plan decoded it). */
AneCpuPacked *ane_cpu_packed_new_fp16      (gsize            rows,
                                            gsize            cols,
                                            const float     *values);
/* The same over bytes as stored (int8 row-major, or IEEE halves), used
 * where they lie (kept referenced): INT8 with scales as above, or FP16
 * (scale NULL). NULL when the sizes do not match. */
AneCpuPacked *ane_cpu_packed_new_borrowed  (AneCpuPackedKind kind,
                                            gsize            rows,
                                            gsize            cols,
                                            GBytes          *bytes,
                                            const float     *scale,
                                            gsize            srows,
                                            gsize            scols,
                                            const float     *offset,
                                            gboolean         round_fp16);
/* GGUF Q8_0 or Q4_0 blocks [rows, cols] (cols a multiple of 32) used where
 * they lie, their d the scales (what constexpr_blockwise_shift_scale of
 * ane_mil_const_blocks' data and scale computes: d · q): no copy, no scale
 * array. NULL when the sizes do not match. */
AneCpuPacked *ane_cpu_packed_new_blocks    (AneCpuPackedKind kind,
                                            gsize            rows,
                                            gsize            cols,
                                            GBytes          *blocks,
                                            gboolean         round_fp16);
/* GGUF Q4_K blocks [rows, cols] (cols a multiple of 256) used where they
 * lie, with the lowered program's scales and offsets [rows, cols / 32]
 * (copied: 8 bytes per 32 weights). NULL when the sizes do not match or
 * an offset is not exact (as ane_cpu_packed_new_blockwise). */
AneCpuPacked *ane_cpu_packed_new_q4_K_blocks (gsize          rows,
                                              gsize          cols,
                                              GBytes        *blocks,
                                              const float   *scale,
                                              const float   *offset,
                                              gboolean       round_fp16);
/* A palettized weight [rows, cols]: indices (row-major, each in
 * [0, 2^bits), held as int32) into n_tables tables of 2^bits floats, table
 * t serving rows [t · rows / n_tables, (t + 1) · rows / n_tables) (what
 * constexpr_lut_to_dense makes: the LUT entry of each index, rounded to
 * fp16 when round_fp16). bits is 1, 2, 3, 4, 6 or 8. NULL when n_tables
 * does not divide rows or an index is out of range. ane-cpu-vec-lut.c. */
AneCpuPacked *ane_cpu_packed_new_lut       (gsize            rows,
                                            gsize            cols,
                                            guint            bits,
                                            const gint32    *indices,
                                            const float     *tables,
                                            gsize            n_tables,
                                            gboolean         round_fp16);
/* The indices of columns [c0, c0 + n) of a LUT weight's row r, one byte
 * each, into idx[n]. */
void          ane_cpu_packed_lut_indices   (const AneCpuPacked *p,
                                            gsize               r,
                                            gsize               c0,
                                            gsize               n,
                                            guint8             *idx);
/* A pruned weight [rows, cols]: mask is the bit stream of its rows · cols
 * weights in row-major order, LSB first (what constexpr_sparse_to_dense's
 * iOS16 mask holds), values its n_values kept weights in that order (the
 * dense kernel's nonzero_data, rounded to fp16 when round_fp16, which then
 * keeps them as halves). NULL when the mask's set bits are not n_values.
 * ane-cpu-vec-sparse.c. */
AneCpuPacked *ane_cpu_packed_new_sparse    (gsize            rows,
                                            gsize            cols,
                                            const guint8    *mask,
                                            const float     *values,
                                            gsize            n_values,
                                            gboolean         round_fp16);
/* The portable row reader of the SPARSE kind (ane_cpu_packed_dequantize_row
 * calls it). */
void          ane_cpu_packed_sparse_dequantize_row (const AneCpuPacked *p,
                                                    gsize               r,
                                                    float              *dst);
void          ane_cpu_packed_free          (AneCpuPacked    *p);
/* Borrowed bytes moved into huge pages (ane_cpu_value_make_hot). */
void          ane_cpu_packed_make_hot      (AneCpuPacked    *p);
/* The bytes it holds (data, scales, offsets). */
gsize         ane_cpu_packed_bytes         (const AneCpuPacked *p);
/* Row r dequantized into dst[cols] (what the dequantizing kernel makes). */
void          ane_cpu_packed_dequantize_row (const AneCpuPacked *p,
                                             gsize               r,
                                             float              *dst);
/* out[m, rows] = x[m, cols] · Wᵀ (+ bias[rows] when not NULL), fp32
 * accumulation, parallel over the rows of W. */
void          ane_cpu_packed_matmul        (const AneCpuPacked *p,
                                            const float        *x,
                                            gsize               m,
                                            const float        *bias,
                                            float              *out);

/* Every IEEE half as a float (ane_half_to_float's values), made on first
 * use: 256 KiB. The GGUF blocks kernels read a block's d from it with one
 * load instead of F16C's three shuffle-port operations. */
const float  *ane_cpu_half_table           (void);

/* The kernel sets, in order: each runs where the CPU has its instructions. */
typedef enum {
  ANE_CPU_VEC_ISA_DEFAULT = -1,   /* ane_cpu_vec_set_isa: back to the dispatch's choice */
  ANE_CPU_VEC_ISA_PORTABLE = 0,
  ANE_CPU_VEC_ISA_AVX2,
  ANE_CPU_VEC_ISA_AVX512,
} AneCpuVecIsa;

/* Which kernels run: "avx512", "avx2" or "portable" — the best the CPU
 * has, or less when ANE_CPU_VEC_ISA=portable|avx2|avx512 (read once) or
 * ANE_CPU_NO_SIMD is set, or a test forced one. A weight whose blocks do
 * not fit the chosen set's kernels runs on the next set down. */
const char   *ane_cpu_vec_get_isa          (void);
/* Whether this CPU and build can run isa. */
gboolean      ane_cpu_vec_isa_available    (AneCpuVecIsa        isa);
/* Test hook: forces isa for the whole process (ANE_CPU_VEC_ISA_DEFAULT: back
 * to the default); FALSE, and nothing changed, when it is not available. */
gboolean      ane_cpu_vec_set_isa          (AneCpuVecIsa        isa);
/* Test hook: FALSE forces the portable kernels, TRUE restores the dispatch. */
void          ane_cpu_vec_set_simd         (gboolean            enabled);
/* Which kernels ane_cpu_packed_matmul runs on p now (the ISA's, or a lower
 * one's when p's blocks do not fit it). */
const char   *ane_cpu_packed_kernel_isa    (const AneCpuPacked *p);

/* The rows [r0, r1) of out = x · Wᵀ, for every one of the m rows of x
 * (out row stride p->rows). One per ISA; ane-cpu-vec.c picks. */
typedef void (*AneCpuPackedRowsFunc) (const AneCpuPacked *p,
                                      gsize               r0,
                                      gsize               r1,
                                      const float        *x,
                                      gsize               m,
                                      float              *out);
void          ane_cpu_packed_rows_portable (const AneCpuPacked *p,
                                            gsize               r0,
                                            gsize               r1,
                                            const float        *x,
                                            gsize               m,
                                            float              *out);
#ifdef ANE_HAVE_VEC_AVX2
/* ane-cpu-vec-avx2.c: built on x86-64 only, called only when the CPU has
 * AVX2, FMA and F16C, and only for weights whose blocks are whole groups of
 * 8 columns (ane_cpu_packed_avx2_fits). */
void          ane_cpu_packed_rows_avx2     (const AneCpuPacked *p,
                                            gsize               r0,
                                            gsize               r1,
                                            const float        *x,
                                            gsize               m,
                                            float              *out);
void          ane_cpu_packed_dequantize_row_avx2 (const AneCpuPacked *p,
                                                  gsize               r,
                                                  float              *dst);
/* ane-cpu-vec-blocks-avx2.c: the same for the *_BLOCKS kinds, summing in
 * the order of the INT8 / INT4 kernels above (bit-identical results for the
 * same weights). */
void          ane_cpu_packed_rows_blocks_avx2 (const AneCpuPacked *p,
                                               gsize               r0,
                                               gsize               r1,
                                               const float        *x,
                                               gsize               m,
                                               float              *out);
void          ane_cpu_packed_dequantize_row_blocks_avx2 (const AneCpuPacked *p,
                                                         gsize               r,
                                                         float              *dst);
#endif
#ifdef ANE_HAVE_VEC_AVX512
/* ane-cpu-vec-avx512.c: built on x86-64 only, called only when the CPU has
 * AVX-512 F, BW, VL and DQ (and AVX2, FMA, F16C), and only for weights
 * ane_cpu_packed_avx512_fits accepts (fp16, int8 blocks of whole 16-column
 * chunks, int4 / uint4 blocks of whole 32-weight groups). */
gboolean      ane_cpu_packed_avx512_fits   (const AneCpuPacked *p);
void          ane_cpu_packed_rows_avx512   (const AneCpuPacked *p,
                                            gsize               r0,
                                            gsize               r1,
                                            const float        *x,
                                            gsize               m,
                                            float              *out);
void          ane_cpu_packed_dequantize_row_avx512 (const AneCpuPacked *p,
                                                    gsize               r,
                                                    float              *dst);
/* The same for the *_BLOCKS kinds (any of them), summing as the INT8 /
 * INT4 / UINT4 AVX-512 kernels: the same bits as the split form. */
void          ane_cpu_packed_rows_blocks_avx512 (const AneCpuPacked *p,
                                                 gsize               r0,
                                                 gsize               r1,
                                                 const float        *x,
                                                 gsize               m,
                                                 float              *out);
void          ane_cpu_packed_dequantize_row_blocks_avx512 (const AneCpuPacked *p,
                                                           gsize               r,
                                                           float              *dst);
#endif

#ifdef ANE_HAVE_VEC_AVX2
/* ane-cpu-vec-lut-avx2.c: the LUT kind (any shape). */
void          ane_cpu_packed_rows_lut_avx2 (const AneCpuPacked *p,
                                            gsize               r0,
                                            gsize               r1,
                                            const float        *x,
                                            gsize               m,
                                            float              *out);
void          ane_cpu_packed_dequantize_row_lut_avx2 (const AneCpuPacked *p,
                                                      gsize               r,
                                                      float              *dst);
#endif
#ifdef ANE_HAVE_VEC_AVX512
/* ane-cpu-vec-lut-avx512.c: the LUT kind (any shape). */
void          ane_cpu_packed_rows_lut_avx512 (const AneCpuPacked *p,
                                              gsize               r0,
                                              gsize               r1,
                                              const float        *x,
                                              gsize               m,
                                              float              *out);
void          ane_cpu_packed_dequantize_row_lut_avx512 (const AneCpuPacked *p,
                                                        gsize               r,
                                                        float              *dst);
#endif

#ifdef ANE_HAVE_VEC_AVX2
/* ane-cpu-vec-sparse-avx2.c: the SPARSE kind (any shape). */
void          ane_cpu_packed_rows_sparse_avx2 (const AneCpuPacked *p,
                                               gsize               r0,
                                               gsize               r1,
                                               const float        *x,
                                               gsize               m,
                                               float              *out);
void          ane_cpu_packed_dequantize_row_sparse_avx2 (const AneCpuPacked *p,
                                                         gsize               r,
                                                         float              *dst);
#endif
#ifdef ANE_HAVE_VEC_AVX512
/* ane-cpu-vec-sparse-avx512.c: the SPARSE kind (any shape). */
void          ane_cpu_packed_rows_sparse_avx512 (const AneCpuPacked *p,
                                                 gsize               r0,
                                                 gsize               r1,
                                                 const float        *x,
                                                 gsize               m,
                                                 float              *out);
void          ane_cpu_packed_dequantize_row_sparse_avx512 (const AneCpuPacked *p,
                                                           gsize               r,
                                                           float              *dst);
#endif

/* The rows [r0, r1) of out = x · Wᵀ as every ISA's kernels run them: for
 * one activation row (row_dots), a row dot per weight row, the weights
 * never leaving the registers; for several, each weight row dequantized
 * once into a buffer and dotted with each activation row. Inline, so each
 * ISA's unit gets its own copy with its functions inlined. */
static inline void
ane_cpu_packed_rows_by (const AneCpuPacked *p,
                        gsize               r0,
                        gsize               r1,
                        const float        *x,
                        gsize               m,
                        float              *out,
                        gboolean            row_dots,
                        float             (*row_dot) (const AneCpuPacked *p, gsize r, const float *x),
                        void              (*dequantize_row) (const AneCpuPacked *p, gsize r, float *w),
                        float             (*dot) (const float *w, const float *x, gsize n))
{
  float *w;

  if (row_dots)
    {
      for (gsize r = r0; r < r1; r++)
        out[r] = row_dot (p, r, x);
      return;
    }
  w = g_new (float, p->cols);
  for (gsize r = r0; r < r1; r++)
    {
      dequantize_row (p, r, w);
      for (gsize i = 0; i < m; i++)
        out[i * p->rows + r] = dot (w, x + i * p->cols, p->cols);
    }
  g_free (w);
}

G_END_DECLS
