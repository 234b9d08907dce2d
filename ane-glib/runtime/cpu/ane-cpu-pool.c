/* runtime/cpu/ane-cpu-pool.c: sharing a kernel's loop among threads
 *
 * The first form: OpenMP's team (gcc's libgomp keeps its threads between
 * parallel regions) when the build has it, serial otherwise. The interface
 * (ane-cpu-pool-private.h) is what kernels use; how the threads are kept is
 * this file's business.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "runtime/cpu/ane-cpu-pool-private.h"

static guint n_threads_set;   /* 0: the default; atomic */

static guint
default_n_threads (void)
{
  static gsize once;
  static guint n;

  if (g_once_init_enter (&once))
    {
      const char *env = g_getenv ("ANE_NUM_THREADS");
      guint64 v = 0;

      if (env == NULL || !g_ascii_string_to_unsigned (env, 10, 1, 1024, &v, NULL))
        v = (guint64) g_get_num_processors ();
      n = (guint) MAX (v, 1);
      g_once_init_leave (&once, 1);
    }
  return n;
}

guint
ane_cpu_get_n_threads (void)
{
  guint n = (guint) g_atomic_int_get (&n_threads_set);

  return n != 0 ? n : default_n_threads ();
}

void
ane_cpu_set_n_threads (guint n_threads)
{
  g_atomic_int_set (&n_threads_set, n_threads);
}

void
ane_cpu_parallel_for (gsize           n,
                      gsize           grain,
                      AneCpuRangeFunc func,
                      gpointer        data)
{
  guint threads = ane_cpu_get_n_threads ();
  gsize pieces;

  grain = MAX (grain, 1);
  pieces = MIN ((gsize) threads, n / grain);
  if (pieces < 2)
    {
      if (n > 0)
        func (0, n, data);
      return;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads ((int) pieces) schedule (static, 1)
#endif
  for (gsize p = 0; p < pieces; p++)
    func (n * p / pieces, n * (p + 1) / pieces, data);
}
