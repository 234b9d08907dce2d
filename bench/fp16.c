/* bench/fp16.c: float32 <-> float16 bulk conversion throughput
 *
 *   bench-fp16 [N_FLOATS] [REPEATS]
 *
 * Converts N floats (default 256 Mi, i.e. 1 GiB in, 512 MiB out) with the
 * bulk path (F16C / NEON where available) and the portable loop, both ways,
 * and prints GB/s of input consumed (1 GB = 1e9 bytes), plus memcpy of the
 * output's bytes as a ceiling for the memory system. The best of REPEATS
 * (default 3) runs counts.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mil/ane-milblob-private.h"

typedef void (*Run) (gpointer ctx);

typedef struct {
  float   *f32;
  guint16 *f16;
  float   *back;
  guint16 *copy;
  gsize    n;
} Bench;

static void run_bulk_to16 (gpointer p) { Bench *b = p; ane_f32_to_f16_bulk (b->f32, b->f16, b->n); }
static void run_port_to16 (gpointer p) { Bench *b = p; ane_f32_to_f16_portable (b->f32, b->f16, b->n); }
static void run_bulk_to32 (gpointer p) { Bench *b = p; ane_f16_to_f32_bulk (b->f16, b->back, b->n); }
static void run_port_to32 (gpointer p) { Bench *b = p; ane_f16_to_f32_portable (b->f16, b->back, b->n); }
static void run_memcpy16 (gpointer p) { Bench *b = p; memcpy (b->copy, b->f16, b->n * sizeof (guint16)); }

static double
best_seconds (Run run, Bench *b, guint repeats)
{
  double best = G_MAXDOUBLE;

  for (guint r = 0; r < repeats; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      run (b);
      best = MIN (best, (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
    }
  return best;
}

static void
report (const char *what, double seconds, gsize in_bytes, gsize n)
{
  printf ("%-32s %8.3f s  %7.2f GB/s  %7.3f Gvalues/s\n",
          what, seconds, in_bytes / seconds / 1e9, n / seconds / 1e9);
}

int
main (int argc, char *argv[])
{
  Bench b = { 0 };
  guint repeats = 3;
  guint32 seed = 12345;
  gsize mismatches = 0;

  b.n = (gsize) 256 * 1024 * 1024;
  if (argc > 1)
    b.n = (gsize) g_ascii_strtoull (argv[1], NULL, 10);
  if (argc > 2)
    repeats = MAX (1, (guint) atoi (argv[2]));
  if (b.n == 0)
    {
      fprintf (stderr, "usage: %s [N_FLOATS] [REPEATS]\n", argv[0]);
      return 2;
    }

  b.f32 = g_new (float, b.n);
  b.f16 = g_new (guint16, b.n);
  b.back = g_new (float, b.n);
  b.copy = g_new (guint16, b.n);
  /* Weight-like values: mostly normal halves, some subnormal and overflow. */
  for (gsize i = 0; i < b.n; i++)
    {
      seed = seed * 1664525u + 1013904223u;
      b.f32[i] = ((float) (seed >> 8) / 16777216.0f - 0.5f) * ((i & 1023) == 0 ? 2e5f : 4.0f);
    }
  /* Touch every output page once so first-touch faults are not timed. */
  memset (b.f16, 0, b.n * sizeof (guint16));
  memset (b.back, 0, b.n * sizeof (float));
  memset (b.copy, 0, b.n * sizeof (guint16));

  printf ("fp16 bulk implementation: %s; %" G_GSIZE_FORMAT " values (%.2f GB in), best of %u\n",
          ane_fp16_bulk_impl (), b.n, b.n * 4 / 1e9, repeats);
  report ("f32->f16 bulk", best_seconds (run_bulk_to16, &b, repeats), b.n * 4, b.n);
  report ("f32->f16 portable", best_seconds (run_port_to16, &b, repeats), b.n * 4, b.n);
  report ("f16->f32 bulk", best_seconds (run_bulk_to32, &b, repeats), b.n * 2, b.n);
  report ("f16->f32 portable", best_seconds (run_port_to32, &b, repeats), b.n * 2, b.n);
  report ("memcpy of the f16 bytes", best_seconds (run_memcpy16, &b, repeats), b.n * 2, b.n);

  /* Cheap sanity check so a broken path cannot post a good number. */
  ane_f32_to_f16_bulk (b.f32, b.f16, b.n);
  for (gsize i = 0; i < b.n; i += 4099)
    mismatches += b.f16[i] != ane_float_to_half (b.f32[i]);
  if (mismatches)
    printf ("WARNING: %" G_GSIZE_FORMAT " sampled values differ from ane_float_to_half\n", mismatches);

  g_free (b.f32);
  g_free (b.f16);
  g_free (b.back);
  g_free (b.copy);
  return mismatches ? 1 : 0;
}
