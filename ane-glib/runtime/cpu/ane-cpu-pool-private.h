/* runtime/cpu/ane-cpu-pool-private.h: how the CPU kernels share out their work
 *
 * One interface for every kernel that splits a loop over threads (issue 15:
 * one pool, all cores, ANE_NUM_THREADS to set it, no oversubscription with
 * OpenBLAS). A kernel hands ane_cpu_parallel_for a range of independent
 * items (rows of a matrix-vector product, heads of an attention, elements);
 * the range is cut into contiguous pieces of at least grain items, at most
 * one per thread, and func runs once per piece, the calling thread taking
 * one. Pieces never overlap, and which thread runs which piece never
 * changes a result (each item is computed the same way whatever the split),
 * so results are identical for every thread count.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef void (*AneCpuRangeFunc) (gsize    begin,
                                 gsize    end,
                                 gpointer data);

/* Runs func over [0, n) in pieces; returns when every piece is done. Serial
 * (one call, func (0, n, data)) when n < 2·grain or one thread is set.
 * Piece p of P covers [n·p/P, n·(p+1)/P) with P = MIN (threads, n / grain).
 * Safe from any thread: one loop runs on the pool at a time, and a loop
 * started while the pool is busy (another thread's, or nested inside a
 * piece) runs its pieces in order on the calling thread. */
void  ane_cpu_parallel_for   (gsize           n,
                              gsize           grain,
                              AneCpuRangeFunc func,
                              gpointer        data);

/* The same, cut into up to 4 pieces a thread (still of at least grain
 * items), claimed by the threads as they come: on a machine shared with
 * other processes a worker the scheduler runs late takes fewer pieces
 * instead of holding up the caller with a whole thread's share. For loops
 * whose items cost alike and whose results do not depend on the split
 * (the decode products of ane_cpu_packed_matmul). */
void  ane_cpu_parallel_for_balanced (gsize           n,
                                     gsize           grain,
                                     AneCpuRangeFunc func,
                                     gpointer        data);

/* The number of threads kernels use: ANE_NUM_THREADS when set (≥ 1), else
 * the number of cores (g_get_num_processors). */
guint ane_cpu_get_n_threads  (void);
/* Sets it for the process (0: back to the default). */
void  ane_cpu_set_n_threads  (guint           n_threads);

/* Test hook: how many worker threads the pool has created so far (they are
 * created on first need and kept; the caller is the extra thread). */
guint ane_cpu_pool_get_n_workers (void);

G_END_DECLS
