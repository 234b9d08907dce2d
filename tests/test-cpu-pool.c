/* test-cpu-pool.c: the CPU kernels' work sharing (ane-cpu-pool-private.h)
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

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/cpu/pool/cover", test_cover);
  return g_test_run ();
}
