/* test-cpu-pool.c: the CPU kernels' work sharing (ane-cpu-pool-private.h)
 *
 * Pieces cover the range once; a loop inside a piece runs (no deadlock);
 * pieces really run on worker threads, which are made once and kept;
 * several threads calling at once each get their whole loop done.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "runtime/cpu/ane-cpu-pool-private.h"

typedef struct {
  gint  *hits;
  gsize  grain;
  gint   calls;
  gint   short_piece;
} Cover;

static void
mark (gsize    begin,
      gsize    end,
      gpointer data)
{
  Cover *c = data;

  g_atomic_int_inc (&c->calls);
  if (end - begin < c->grain)
    g_atomic_int_inc (&c->short_piece);
  for (gsize i = begin; i < end; i++)
    g_atomic_int_inc (&c->hits[i]);
}

/* Every index in exactly one piece, no piece under the grain unless the
 * range is run whole, at most one piece per thread, for thread counts 1-4
 * and ranges around the cut-offs. */
static void
test_cover (void)
{
  static const gsize sizes[] = { 0, 1, 7, 63, 64, 65, 127, 128, 1000, 4097 };

  for (guint threads = 1; threads <= 4; threads++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      {
        gsize n = sizes[s];
        g_autofree gint *hits = g_new0 (gint, MAX (n, 1));
        Cover c = { hits, 64, 0, 0 };

        ane_cpu_set_n_threads (threads);
        g_assert_cmpuint (ane_cpu_get_n_threads (), ==, threads);
        ane_cpu_parallel_for (n, 64, mark, &c);
        for (gsize i = 0; i < n; i++)
          g_assert_cmpint (hits[i], ==, 1);
        g_assert_cmpint (c.calls, <=, (gint) threads);
        g_assert_cmpint (c.calls, ==, n == 0 ? 0 : (gint) MAX (1, MIN (threads, n / 64)));
        if (c.calls > 1)
          g_assert_cmpint (c.short_piece, ==, 0);
      }
  ane_cpu_set_n_threads (0);
  g_assert_cmpuint (ane_cpu_get_n_threads (), >=, 1);
}

/* The balanced loop: the same cover, in up to 4 pieces a thread (so more
 * pieces than threads where the range allows), none under the grain, and
 * with every worker the pool already has (no extra workers for the extra
 * pieces). */
static void
test_cover_balanced (void)
{
  static const gsize sizes[] = { 0, 1, 63, 64, 127, 128, 300, 1000, 4097 };

  for (guint threads = 1; threads <= 4; threads++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      {
        gsize n = sizes[s];
        g_autofree gint *hits = g_new0 (gint, MAX (n, 1));
        Cover c = { hits, 64, 0, 0 };
        gint want = n == 0 ? 0 : threads == 1 ? 1 : (gint) MAX (1, MIN (4 * threads, n / 64));

        ane_cpu_set_n_threads (threads);
        ane_cpu_parallel_for_balanced (n, 64, mark, &c);
        for (gsize i = 0; i < n; i++)
          g_assert_cmpint (hits[i], ==, 1);
        g_assert_cmpint (c.calls, ==, want);
        if (c.calls > 1)
          g_assert_cmpint (c.short_piece, ==, 0);
        g_assert_cmpuint (ane_cpu_pool_get_n_workers (), <=, 3);
      }
  ane_cpu_set_n_threads (0);
}

/* --- nested loops ---------------------------------------------------------- */

typedef struct {
  gint *hits;   /* 64 × 64 */
} Nest;

static void
inner (gsize    begin,
       gsize    end,
       gpointer data)
{
  gint *row = data;

  for (gsize i = begin; i < end; i++)
    g_atomic_int_inc (&row[i]);
}

static void
outer (gsize    begin,
       gsize    end,
       gpointer data)
{
  Nest *nest = data;

  /* a loop inside a piece: must run (serially) rather than wait for the
   * pool its caller holds */
  for (gsize r = begin; r < end; r++)
    ane_cpu_parallel_for (64, 1, inner, nest->hits + r * 64);
}

static void
test_nested (void)
{
  g_autofree gint *hits = g_new0 (gint, 64 * 64);
  Nest nest = { hits };

  ane_cpu_set_n_threads (4);
  ane_cpu_parallel_for (64, 1, outer, &nest);
  for (guint i = 0; i < 64 * 64; i++)
    g_assert_cmpint (hits[i], ==, 1);
  ane_cpu_set_n_threads (0);
}

/* --- the pieces really run on other threads, threads made once ------------- */

typedef struct {
  GMutex    lock;
  GHashTable *threads;   /* GThread * seen running a piece */
} Seen;

static void
note_thread (gsize    begin,
             gsize    end,
             gpointer data)
{
  Seen *seen = data;

  /* long enough that a worker takes a piece before the caller does them all */
  g_usleep (50000);
  g_mutex_lock (&seen->lock);
  g_hash_table_add (seen->threads, g_thread_self ());
  g_mutex_unlock (&seen->lock);
}

static void
test_workers (void)
{
  Seen seen = { 0 };
  guint workers;

  g_mutex_init (&seen.lock);
  seen.threads = g_hash_table_new (NULL, NULL);
  ane_cpu_set_n_threads (3);
  ane_cpu_parallel_for (3, 1, note_thread, &seen);
  g_assert_cmpuint (g_hash_table_size (seen.threads), >=, 2);
  workers = ane_cpu_pool_get_n_workers ();
  g_assert_cmpuint (workers, >=, 2);
  /* kept: more loops make no more threads */
  for (guint i = 0; i < 5; i++)
    ane_cpu_parallel_for (3, 1, note_thread, &seen);
  g_assert_cmpuint (ane_cpu_pool_get_n_workers (), ==, workers);
  g_hash_table_unref (seen.threads);
  g_mutex_clear (&seen.lock);
  ane_cpu_set_n_threads (0);
}

/* --- several callers at once ---------------------------------------------- */

#define CALLER_N 5000

static void
add_index (gsize    begin,
           gsize    end,
           gpointer data)
{
  gint *v = data;

  for (gsize i = begin; i < end; i++)
    v[i] += (gint) i;   /* each index in one piece: no atomics needed */
}

static gpointer
caller (gpointer data)
{
  gint *v = data;

  for (guint r = 0; r < 200; r++)
    ane_cpu_parallel_for (CALLER_N, 16, add_index, v);
  return NULL;
}

static void
test_callers (void)
{
  GThread *threads[4];
  gint *v[4];

  ane_cpu_set_n_threads (4);
  for (guint t = 0; t < 4; t++)
    {
      v[t] = g_new0 (gint, CALLER_N);
      threads[t] = g_thread_new ("caller", caller, v[t]);
    }
  for (guint t = 0; t < 4; t++)
    {
      g_thread_join (threads[t]);
      for (guint i = 0; i < CALLER_N; i++)
        g_assert_cmpint (v[t][i], ==, (gint) (200 * i));
      g_free (v[t]);
    }
  ane_cpu_set_n_threads (0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/cpu/pool/cover", test_cover);
  g_test_add_func ("/ane/cpu/pool/cover-balanced", test_cover_balanced);
  g_test_add_func ("/ane/cpu/pool/nested", test_nested);
  g_test_add_func ("/ane/cpu/pool/workers", test_workers);
  g_test_add_func ("/ane/cpu/pool/callers", test_callers);
  return g_test_run ();
}
