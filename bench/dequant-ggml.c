/* bench/dequant-ggml.c: our block dequantizers against ggml's own
 *
 *   dequant-ggml [N_ELEMENTS] [REPEATS]
 *
 * Not built by meson: bench/llama-cpp.sh compiles it against the llama.cpp
 * it builds (ggml/include, libggml-base) and this tree's internal library.
 * For every block type ggml and we share, the same random blocks (finite
 * fp16 scales) are dequantized by ane_dequant_blocks_f32 and by ggml's
 * ggml_get_type_traits (type)->to_float (ggml/include/ggml.h: struct
 * ggml_type_traits; ggml/src/ggml.c: type_traits[] names the
 * dequantize_row_* of ggml-quants.c). It prints the best of REPEATS runs of
 * both as GB/s of float output (1 GB = 1e9 bytes), their ratio (ours /
 * ggml, > 1 means we are faster), and whether every output float is
 * bit-identical: ane-quant.c documents all of these dequantizers as
 * bit-exact with ggml's scalar code, so any difference is a bug (exit 1).
 *
 * The two are timed alternately (ours, ggml, ours, ...) so a neighbour's
 * load on this shared machine hits both alike.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ggml.h>

#include "ane-reference-private.h"
#include "bench-random-blocks.h"

static const struct
{
  AneDType ours;
  enum ggml_type theirs;
} types[] = {
  { ANE_DTYPE_Q8_0, GGML_TYPE_Q8_0 }, { ANE_DTYPE_Q4_0, GGML_TYPE_Q4_0 },
  { ANE_DTYPE_Q4_1, GGML_TYPE_Q4_1 }, { ANE_DTYPE_Q5_0, GGML_TYPE_Q5_0 },
  { ANE_DTYPE_Q5_1, GGML_TYPE_Q5_1 }, { ANE_DTYPE_Q2_K, GGML_TYPE_Q2_K },
  { ANE_DTYPE_Q3_K, GGML_TYPE_Q3_K }, { ANE_DTYPE_Q4_K, GGML_TYPE_Q4_K },
  { ANE_DTYPE_Q5_K, GGML_TYPE_Q5_K }, { ANE_DTYPE_Q6_K, GGML_TYPE_Q6_K },
  { ANE_DTYPE_Q8_K, GGML_TYPE_Q8_K },
};


int
main (int argc, char *argv[])
{
  gsize n = (gsize) 16 * 1024 * 1024;
  guint repeats = 5;
  float *ours, *theirs;
  int bad = 0;

  if (!bench_dequant_args (argc, argv, &n, &repeats))
    return 2;
  /* Outputs aligned to a cache line, as tensor allocators (ggml's, the CPU
   * backend's) align them: malloc's 16-byte alignment would split every
   * other 32-byte store across two lines. */
  ours = g_aligned_alloc (n, sizeof (float), 64);
  theirs = g_aligned_alloc (n, sizeof (float), 64);
  /* Touch every page once so first-touch faults are not timed. */
  memset (ours, 0, n * sizeof (float));
  memset (theirs, 0xff, n * sizeof (float));

  printf ("%" G_GSIZE_FORMAT " elements (%.3f GB of float output), best of %u, GB/s of output\n",
          n, n * 4 / 1e9, repeats);
  printf ("%-6s %10s %10s %9s  %s\n", "type", "ane-glib", "ggml", "ours/ggml", "bits");
  for (gsize t = 0; t < G_N_ELEMENTS (types); t++)
    {
      AneDType dtype = types[t].ours;
      const struct ggml_type_traits *traits = ggml_get_type_traits (types[t].theirs);
      gsize n_blocks = n / ane_dtype_block_size (dtype);
      gsize n_bytes = n_blocks * ane_dtype_block_bytes (dtype);
      g_autofree guint8 *blocks = NULL;
      double best_ours = G_MAXDOUBLE, best_theirs = G_MAXDOUBLE;
      gboolean same;

      if (traits != NULL && traits->to_float == NULL)
        {
          /* ggml's q8_K is only the other operand of its k-quant dot
           * products: ggml.c's type_traits give it no to_float. */
          printf ("%-6s %10s %10s %9s  (ggml has no to_float)\n", ane_dtype_to_string (dtype), "-", "-", "-");
          continue;
        }
      if (traits == NULL ||
          (gsize) traits->blck_size != ane_dtype_block_size (dtype) ||
          traits->type_size != ane_dtype_block_bytes (dtype))
        {
          fprintf (stderr, "ggml's %s does not match ane-glib's layout\n", ane_dtype_to_string (dtype));
          return 1;
        }
      blocks = random_blocks (dtype, n_blocks);
      for (guint r = 0; r < repeats; r++)
        {
          double t0 = now ();

          if (!ane_dequant_blocks_f32 (dtype, blocks, n_bytes, n, ours, NULL))
            g_error ("ane_dequant_blocks_f32 failed");
          best_ours = MIN (best_ours, now () - t0);
          t0 = now ();
          traits->to_float (blocks, theirs, (int64_t) n);
          best_theirs = MIN (best_theirs, now () - t0);
        }
      same = memcmp (ours, theirs, n * sizeof (float)) == 0;
      bad |= !same;
      printf ("%-6s %10.2f %10.2f %8.2fx  %s\n", ane_dtype_to_string (dtype),
              n * 4 / best_ours / 1e9, n * 4 / best_theirs / 1e9,
              best_theirs / best_ours, same ? "identical" : "DIFFER");
      fflush (stdout);
    }
  g_aligned_free (ours);
  g_aligned_free (theirs);
  return bad;
}
