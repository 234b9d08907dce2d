/* runtime/cpu/ane-cpu-pool.c: sharing a kernel's loop among threads
 *
 * One persistent pool for the process. Its worker threads are created on
 * the first parallel loop that needs them (and more later if the thread
 * count is raised); they live until the process exits. A loop of P pieces
 * is run by the caller and up to P - 1 workers, each taking the next
 * unclaimed piece, so a worker that the scheduler wakes late (the machine
 * is shared) costs nothing: the caller takes its piece instead.
 *
 * The design follows the shape of ggml's CPU threadpool (ggml-org/llama.cpp
 * ggml/src/ggml-cpu/ggml-cpu.c: ggml_graph_compute_thread and
 * ggml_graph_compute_check_for_work spin on an atomic "new graph" counter
 * for a while, then sleep on a condition variable; ggml_barrier waits on an
 * atomic count): workers spin briefly on the job generation after each job
 * (a decode step issues hundreds of small loops back to back), then sleep
 * on a GCond. Unlike ggml's static split (thread i takes rows i·n/T..), the
 * pieces here are claimed dynamically, so which thread computes a piece
 * varies but what a piece computes does not (each output element is
 * computed by exactly one piece, in the same order, whatever the split
 * among threads); results therefore depend on the piece count only through
 * the kernel's own split, and kernels split so that they do not.
 *
 * The claim counter holds the job's generation in its high bits and the
 * next piece in its low bits: a worker that woke for an earlier job and is
 * still looking cannot claim a piece of a later one (its compare-and-swap
 * fails on the generation).
 *
 * Several callers: one job at a time. A caller that finds the pool busy
 * (another executable running on another thread) runs its loop serially
 * on its own thread rather than waiting, and a loop started from inside a
 * piece (nested) runs serially too, so neither can deadlock; both give the
 * same results, as the split never changes them.
 *
 * ThreadSanitizer: GMutex and GCond are built on futexes inside libglib,
 * which TSan does not see; ane-tsan-private.h's wrappers declare what they
 * order. The claim and completion counters are C11 atomics in this file,
 * which TSan sees.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-tsan-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

/* Workers' and the caller's busy-wait before sleeping (~100 µs of pause
 * instructions): long enough to bridge the gap between two kernels of one
 * program run (a few µs), short enough not to steal much from another
 * thread when the cores are oversubscribed (a spinning worker then takes
 * time from the caller it waits for). */
#define SPIN_ROUNDS 2000

/* ane_cpu_parallel_for_balanced's pieces a thread (see there) */
#define BALANCED_PIECES_PER_THREAD 4

#define PIECE_BITS 16
#define PIECE_MASK ((gsize) ((1u << PIECE_BITS) - 1))
#define MAX_THREADS 1024   /* < 2^PIECE_BITS pieces per job */

typedef struct {
  GMutex          lock;         /* guards everything below but the atomics */
  GCond           work_cond;    /* workers sleep here for a new job */
  GCond           done_cond;    /* the caller sleeps here for the last piece */
  guint           n_workers;
  guint           n_sleeping;   /* workers in g_cond_wait (work_cond) */
  gboolean        caller_sleeping;

  /* the current job, written under lock by its caller */
  AneCpuRangeFunc func;
  gpointer        data;
  gsize           n;
  guint           pieces;

  gint            generation;   /* atomic; bumped (under lock) per job */
  gsize           claim;        /* atomic; generation << PIECE_BITS | next piece */
  gint            pieces_done;  /* atomic */
} Pool;

static Pool pool;
static GMutex job_lock;         /* one job at a time (see above) */
static guint n_threads_set;     /* 0: the default; atomic */
static _Thread_local gboolean in_pool;   /* a worker, or a caller inside its job */

static guint
default_n_threads (void)
{
  static gsize once;
  static guint n;

  if (g_once_init_enter (&once))
    {
      const char *env = g_getenv ("ANE_NUM_THREADS");
      guint64 v = 0;

      if (env == NULL || !g_ascii_string_to_unsigned (env, 10, 1, MAX_THREADS, &v, NULL))
        {
          if (env != NULL && *env != '\0')
            g_warning ("ANE_NUM_THREADS=%s is not a thread count in 1..%d; using the number of cores",
                       env, MAX_THREADS);
          v = (guint64) g_get_num_processors ();
        }
      n = (guint) CLAMP (v, 1, MAX_THREADS);
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
  g_atomic_int_set (&n_threads_set, MIN (n_threads, MAX_THREADS));
}

guint
ane_cpu_pool_get_n_workers (void)
{
  guint n;

  ane_mutex_lock (&pool.lock);
  n = pool.n_workers;
  ane_mutex_unlock (&pool.lock);
  return n;
}

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#elif defined(__aarch64__)
  __asm__ __volatile__ ("yield");
#endif
}

static void
cond_wait (GCond  *cond,
           GMutex *mutex)
{
  ane_tsan_release (mutex);
  g_cond_wait (cond, mutex);
  ane_tsan_acquire (mutex);
}

/* The claim counter's high bits for job `gen` (they wrap; a worker would
 * have to sleep through 2^48 jobs, or 2^16 on a 32-bit build, between
 * reading a generation and claiming, for the wrap to matter). */
static inline gsize
claim_tag (gint gen)
{
  return (gsize) (guint) gen & (G_MAXSIZE >> PIECE_BITS);
}

/* Claims and runs pieces of job `gen` until none is left. */
static void
run_pieces (gint            gen,
            AneCpuRangeFunc func,
            gpointer        data,
            gsize           n,
            guint           pieces)
{
  for (;;)
    {
      gsize c = __atomic_load_n (&pool.claim, __ATOMIC_ACQUIRE);
      gsize p;
      gint done;

      if ((c >> PIECE_BITS) != claim_tag (gen))
        return;   /* a later job: this one is over */
      p = c & PIECE_MASK;
      if (p >= pieces)
        return;
      if (!__atomic_compare_exchange_n (&pool.claim, &c, c + 1, FALSE, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        continue;
      func (n * p / pieces, n * (p + 1) / pieces, data);
      done = g_atomic_int_add (&pool.pieces_done, 1) + 1;
      if ((guint) done == pieces)
        {
          /* the last piece: wake the caller if it gave up spinning */
          ane_mutex_lock (&pool.lock);
          if (pool.caller_sleeping)
            g_cond_signal (&pool.done_cond);
          ane_mutex_unlock (&pool.lock);
        }
    }
}

/* start_generation: the generation before the job the worker is made for,
 * so that it joins that job (reading it here would be too late). */
static gpointer
worker_main (gpointer start_generation)
{
  gint seen = GPOINTER_TO_INT (start_generation);

  in_pool = TRUE;

  for (;;)
    {
      AneCpuRangeFunc func;
      gpointer data;
      gsize n;
      guint pieces;
      gint gen;

      for (guint i = 0; i < SPIN_ROUNDS && g_atomic_int_get (&pool.generation) == seen; i++)
        cpu_relax ();

      ane_mutex_lock (&pool.lock);
      while (g_atomic_int_get (&pool.generation) == seen)
        {
          pool.n_sleeping++;
          cond_wait (&pool.work_cond, &pool.lock);
          pool.n_sleeping--;
        }
      /* the newest job (an earlier one this worker slept through is over) */
      gen = g_atomic_int_get (&pool.generation);
      func = pool.func;
      data = pool.data;
      n = pool.n;
      pieces = pool.pieces;
      ane_mutex_unlock (&pool.lock);

      seen = gen;
      run_pieces (gen, func, data, n, pieces);
    }
  return NULL;
}

/* Under pool.lock, before the job is published: at least `wanted` workers
 * exist. */
static void
ensure_workers (guint wanted)
{
  while (pool.n_workers < wanted)
    {
      g_autofree char *name = g_strdup_printf ("ane-cpu-%u", pool.n_workers + 1);
      GThread *thread = g_thread_try_new (name, worker_main,
                                          GINT_TO_POINTER (g_atomic_int_get (&pool.generation)), NULL);

      if (thread == NULL)
        break;   /* fewer threads: the caller takes the rest of the pieces */
      g_thread_unref (thread);   /* detached: workers live as long as the process */
      pool.n_workers++;
    }
}

/* per_thread pieces a thread (1: one piece each; more: finer pieces that
 * the threads claim as they come, for a balance that does not depend on
 * every thread being scheduled on time). */
static void
parallel_for_pieces (gsize           n,
                     gsize           grain,
                     guint           per_thread,
                     AneCpuRangeFunc func,
                     gpointer        data)
{
  guint threads = ane_cpu_get_n_threads ();
  gsize pieces;
  gint gen;

  grain = MAX (grain, 1);
  pieces = threads < 2 ? 1 : MIN ((gsize) threads * per_thread, MIN (n / grain, PIECE_MASK));
  if (pieces < 2 || in_pool || !g_mutex_trylock (&job_lock))
    {
      /* serial: one thread set, a small range, a nested loop, or the pool
       * busy with another caller's job. The same pieces are run in order,
       * so the results are those of a parallel run. */
      if (pieces < 2)
        {
          if (n > 0)
            func (0, n, data);
        }
      else
        for (gsize p = 0; p < pieces; p++)
          func (n * p / pieces, n * (p + 1) / pieces, data);
      return;
    }
  ane_tsan_acquire (&job_lock);

  ane_mutex_lock (&pool.lock);
  ensure_workers ((guint) MIN (pieces, (gsize) threads) - 1);
  pool.func = func;
  pool.data = data;
  pool.n = n;
  pool.pieces = (guint) pieces;
  g_atomic_int_set (&pool.pieces_done, 0);
  gen = (gint) ((guint) g_atomic_int_get (&pool.generation) + 1u);
  __atomic_store_n (&pool.claim, claim_tag (gen) << PIECE_BITS, __ATOMIC_RELEASE);
  g_atomic_int_set (&pool.generation, gen);
  if (pool.n_sleeping > 0)
    g_cond_broadcast (&pool.work_cond);
  ane_mutex_unlock (&pool.lock);

  in_pool = TRUE;
  run_pieces (gen, func, data, n, (guint) pieces);
  in_pool = FALSE;

  /* every piece claimed; wait for the ones other threads still run */
  for (guint i = 0; i < SPIN_ROUNDS && (gsize) g_atomic_int_get (&pool.pieces_done) < pieces; i++)
    cpu_relax ();
  if ((gsize) g_atomic_int_get (&pool.pieces_done) < pieces)
    {
      ane_mutex_lock (&pool.lock);
      pool.caller_sleeping = TRUE;
      while ((gsize) g_atomic_int_get (&pool.pieces_done) < pieces)
        cond_wait (&pool.done_cond, &pool.lock);
      pool.caller_sleeping = FALSE;
      ane_mutex_unlock (&pool.lock);
    }

  ane_tsan_release (&job_lock);
  g_mutex_unlock (&job_lock);
}

void
ane_cpu_parallel_for (gsize           n,
                      gsize           grain,
                      AneCpuRangeFunc func,
                      gpointer        data)
{
  parallel_for_pieces (n, grain, 1, func, data);
}

void
ane_cpu_parallel_for_balanced (gsize           n,
                               gsize           grain,
                               AneCpuRangeFunc func,
                               gpointer        data)
{
  parallel_for_pieces (n, grain, BALANCED_PIECES_PER_THREAD, func, data);
}
