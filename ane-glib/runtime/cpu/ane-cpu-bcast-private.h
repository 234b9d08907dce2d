/* runtime/cpu/ane-cpu-bcast-private.h: walking a C-order output with its operands broadcast
 *
 * Elementwise kernels read each operand at the output's coordinates with
 * numpy broadcasting (a size-1 or missing dim repeats). Unravelling every
 * output index into coordinates and raveling them back per operand costs a
 * division per dim per element (issue 15: ane_ref_unravel and
 * ane_cpu_broadcast_offset were 30% of a LLaMA decode). Instead the layout is
 * computed once per op:
 *
 * - every operand gets an element stride per output dim, 0 where it
 *   broadcasts (size 1 or missing);
 * - output dims of size 1 are dropped, and adjacent dims are merged where
 *   every operand steps alike across them (stride[d] == stride[d+1] ×
 *   shape[d+1]: both contiguous, or both broadcast) -- numpy's nditer
 *   coalescing. A same-shape op becomes one dim, a bias one dim per run.
 *
 * The walk then hands out runs along the last (merged) dim: a kernel's
 * inner loop adds each operand's inner stride per element, and an odometer
 * over the outer dims moves the operands' offsets between runs. A walk may
 * start at any flat output index, so a range of ane_cpu_parallel_for walks
 * only its own piece. The output itself is contiguous (the flat index).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "runtime/cpu/ane-cpu-private.h"

G_BEGIN_DECLS

#define ANE_CPU_BCAST_MAX_OPERANDS 3
/* tile splits every dim in two (repetition, x's dim) */
#define ANE_CPU_BCAST_MAX_RANK (2 * ANE_CPU_MAX_RANK)

typedef struct {
  guint  n_operands;
  guint  rank;                                  /* merged dims, at least 1 */
  gsize  n;                                     /* output elements */
  gint64 shape[ANE_CPU_BCAST_MAX_RANK];
  gint64 strides[ANE_CPU_BCAST_MAX_OPERANDS][ANE_CPU_BCAST_MAX_RANK];  /* elements; 0 where broadcast */
} AneCpuBcast;

/* The layout of n_operands values (at most ANE_CPU_BCAST_MAX_OPERANDS)
 * broadcast to out (numpy: operands aligned on their last dims); FALSE
 * when one does not broadcast to out's shape. */
gboolean ane_cpu_bcast_init         (AneCpuBcast              *b,
                                     const AneCpuValue        *out,
                                     const AneCpuValue *const *operands,
                                     guint                     n_operands);
/* The same from explicit element strides per operand over a C-order
 * output of shape (rank ≤ ANE_CPU_BCAST_MAX_RANK): operand k of element c
 * is at sum_d c[d] × strides[k][d] (non-negative strides). */
void     ane_cpu_bcast_init_strided (AneCpuBcast              *b,
                                     const gint64             *shape,
                                     guint                     rank,
                                     const gint64 *const      *strides,
                                     guint                     n_operands);

/* The inner loop's step of operand k. */
static inline gsize
ane_cpu_bcast_inner_stride (const AneCpuBcast *b,
                            guint              k)
{
  return (gsize) b->strides[k][b->rank - 1];
}

typedef struct {
  const AneCpuBcast *b;
  gsize  end;
  /* the current run, set by ane_cpu_bcast_next */
  gsize  index;                                 /* flat output index of its first element */
  gsize  len;                                   /* its elements */
  gsize  off[ANE_CPU_BCAST_MAX_OPERANDS];       /* each operand's offset of its first element */
  /* where the next run starts */
  gsize  next_index;
  gint64 c[ANE_CPU_BCAST_MAX_RANK];
  gsize  next_off[ANE_CPU_BCAST_MAX_OPERANDS];
} AneCpuBcastIter;

/* A walk over the output elements [begin, end) of b (one unravel of begin). */
void     ane_cpu_bcast_iter_init    (AneCpuBcastIter   *it,
                                     const AneCpuBcast *b,
                                     gsize              begin,
                                     gsize              end);
/* Moves to the next run (at most the rest of the last dim); FALSE past end. */
gboolean ane_cpu_bcast_next         (AneCpuBcastIter   *it);

G_END_DECLS
