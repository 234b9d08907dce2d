/* ane-threads.c: the public face of the CPU backend's thread pool
 *
 * The pool itself, and why results do not depend on the thread count, is
 * runtime/cpu/ane-cpu-pool.c; docs/cpu-backend.md ("Threads") is the
 * user's description.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-threads.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

/**
 * ane_set_num_threads:
 * @n_threads: the number of threads, or 0 for the default
 *
 * Sets how many threads the CPU backend ([enum@Ane.Backend] `CPU`)
 * computes with, for the whole process, from the next kernel on.
 *
 * The default is the `ANE_NUM_THREADS` environment variable when it holds
 * a number from 1 to 1024 (read once, at the first use), else the number
 * of cores. One thread is the calling one; the others are a pool of worker
 * threads created on first need and kept for the life of the process.
 * Values above 1024 are taken as 1024.
 *
 * Results are identical, bit for bit, whatever the thread count: every
 * output element is computed by one thread, in the same order. OpenBLAS,
 * when the library uses it, is kept to one thread so the two never compete
 * for the cores. When several threads run executables at once, one of them
 * at a time uses the pool and the others compute on their own thread.
 *
 * Since: 0.2
 */
void
ane_set_num_threads (guint n_threads)
{
  ane_cpu_set_n_threads (n_threads);
}

/**
 * ane_get_num_threads:
 *
 * Gets how many threads the CPU backend computes with: the value given to
 * ane_set_num_threads(), or the default (`ANE_NUM_THREADS`, else the
 * number of cores) when none or 0 was given.
 *
 * Returns: the thread count, at least 1
 *
 * Since: 0.2
 */
guint
ane_get_num_threads (void)
{
  return ane_cpu_get_n_threads ();
}
