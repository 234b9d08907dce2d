/* bench/dequant.c: GGUF block dequantization throughput
 *
 *   bench-dequant [N_ELEMENTS] [REPEATS]
 *
 * For every block type, dequantizes N elements (default 64 Mi, rounded down
 * to whole 256-element super-blocks) of random blocks (finite fp16 scales)
 * with ane_dequant_blocks_f32 and prints GB/s of float output written
 * (1 GB = 1e9 bytes) and Melem/s, next to memcpy of the same number of
 * output bytes (a ceiling for the memory system), and the double path
 * ane_dequant_blocks for Q4_0 (8 bytes an element) for comparison. Each
 * scheme runs on the rows ane_dequant_blocks_f32 picks for this CPU
 * (AVX2/F16C where it has them) and again on the portable C rows
 * ("portable", forced with ane_dequant_force_portable). The best
 * of REPEATS (default 3) runs counts. A sampled comparison with the double
 * path guards against a broken fast path posting a good number.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ane-reference-private.h"
#include "bench-random-blocks.h"
#include "ane-quant-simd-private.h"

static const AneDType types[] = {
  ANE_DTYPE_Q8_0, ANE_DTYPE_Q4_0, ANE_DTYPE_Q4_1, ANE_DTYPE_Q5_0, ANE_DTYPE_Q5_1,
  ANE_DTYPE_Q2_K, ANE_DTYPE_Q3_K, ANE_DTYPE_Q4_K, ANE_DTYPE_Q5_K, ANE_DTYPE_Q6_K,
  ANE_DTYPE_Q8_K,
};


static void
report (const char *what, double seconds, gsize out_bytes, gsize n)
{
  printf ("%-28s %8.4f s  %7.2f GB/s out  %9.1f Melem/s\n",
          what, seconds, out_bytes / seconds / 1e9, n / seconds / 1e6);
}

int
main (int argc, char *argv[])
{
  gsize n = (gsize) 64 * 1024 * 1024;
  guint repeats = 3;
  float *out, *copy_src;
  gsize mismatches = 0;

  if (!bench_dequant_args (argc, argv, &n, &repeats))
    return 2;

  out = g_new (float, n);
  copy_src = g_new (float, n);
  /* Touch every page once so first-touch faults are not timed. */
  memset (out, 0, n * sizeof (float));
  memset (copy_src, 1, n * sizeof (float));

  printf ("%" G_GSIZE_FORMAT " elements (%.3f GB of float output), best of %u\n",
          n, n * 4 / 1e9, repeats);
  {
    double best = G_MAXDOUBLE;

    for (guint r = 0; r < repeats; r++)
      {
        double t0 = now ();
        memcpy (out, copy_src, n * sizeof (float));
        best = MIN (best, now () - t0);
      }
    report ("memcpy (same output bytes)", best, n * 4, n);
  }

  for (gsize t = 0; t < G_N_ELEMENTS (types); t++)
    {
      AneDType dtype = types[t];
      gsize n_blocks = n / ane_dtype_block_size (dtype);
      gsize n_bytes = n_blocks * ane_dtype_block_bytes (dtype);
      g_autofree guint8 *blocks = random_blocks (dtype, n_blocks);
      double best = G_MAXDOUBLE;
      char label[64];
      double ref[256];

      for (guint r = 0; r < repeats; r++)
        {
          double t0 = now ();
          if (!ane_dequant_blocks_f32 (dtype, blocks, n_bytes, n, out, NULL))
            g_error ("ane_dequant_blocks_f32 failed");
          best = MIN (best, now () - t0);
        }
      g_snprintf (label, sizeof label, "%s f32%s", ane_dtype_to_string (dtype),
                  ane_dequant_uses_simd (dtype) ? " (avx2)" : "");
      report (label, best, n * 4, n);
      if (ane_dequant_uses_simd (dtype))
        {
          double best_portable = G_MAXDOUBLE;

          ane_dequant_force_portable (TRUE);
          for (guint r = 0; r < repeats; r++)
            {
              double t0 = now ();
              if (!ane_dequant_blocks_f32 (dtype, blocks, n_bytes, n, out, NULL))
                g_error ("ane_dequant_blocks_f32 failed");
              best_portable = MIN (best_portable, now () - t0);
            }
          ane_dequant_force_portable (FALSE);
          g_snprintf (label, sizeof label, "%s f32 portable", ane_dtype_to_string (dtype));
          report (label, best_portable, n * 4, n);
        }

      /* Sampled check against the double path: one in ~1000 super-blocks. */
      for (gsize e = 0; e < n; e += 256 * 1009)
        {
          guint bs = ane_dtype_block_size (dtype), bb = ane_dtype_block_bytes (dtype);

          if (!ane_dequant_blocks (dtype, blocks + (e / bs) * bb, 256 / bs * bb, 256, ref, NULL))
            g_error ("ane_dequant_blocks failed");
          for (int i = 0; i < 256; i++)
            {
              float w = (float) ref[i];
              mismatches += memcmp (&w, &out[e + i], sizeof w) != 0;
            }
        }

      if (dtype == ANE_DTYPE_Q4_0)
        {
          double *dout = g_new (double, n);

          memset (dout, 0, n * sizeof (double));
          best = G_MAXDOUBLE;
          for (guint r = 0; r < repeats; r++)
            {
              double t0 = now ();
              if (!ane_dequant_blocks (dtype, blocks, n_bytes, n, dout, NULL))
                g_error ("ane_dequant_blocks failed");
              best = MIN (best, now () - t0);
            }
          report ("q4_0 double (old path)", best, n * 8, n);
          g_free (dout);
        }
    }
  if (mismatches)
    printf ("WARNING: %" G_GSIZE_FORMAT " sampled values differ from ane_dequant_blocks\n", mismatches);
  g_free (out);
  g_free (copy_src);
  return mismatches ? 1 : 0;
}
