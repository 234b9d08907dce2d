/* bench/packed.c: the compressed-weight matrix-vector products of a decode step
 *
 *   bench-packed [--kinds int8,int4,uint4,fp16,q8_0,q4_0,q4_k,q8_0-q8,q4_0-q8,q4_k-q8,q8_0-r16,...,lut8,
 *                 sparse50,sparse75]
 *                [--threads 1,2] [--reps N]
 *                [--round-fp16] [--rows M] [--cached]
 *
 * Times ane_cpu_packed_matmul alone on the weights one generated token of
 * issue 15's synthetic LLaMA reads (dim 768, 12 layers, FFN 2048: per layer
 * four [768, 768] products, two [2048, 768] and one [768, 2048], 85 M
 * weights; the tied output head is not packed and not counted), packed as
 * the plan packs GGUF weights: int8 blocks of 32 (Q8_0), int4 blocks of 32
 * (Q4_0), uint4 blocks of 32 with fractional offsets (Q4_K as lowered) and
 * fp16 (F16); q8_0, q4_0 and q4_k: GGUF blocks multiplied where they lie,
 * with float activations; q8_0-q8, q4_0-q8, q4_k-q8 the same with the
 * activations quantized to 8 bits (AneExecutable:quantize-activations),
 * and q8_0-r16, q4_0-r16, q4_k-r16 the blocks regrouped 16 rows at a time for those
 * (ane-cpu-vec-r16.c: what such an executable runs); lutN: N-bit
 * palettized (constexpr_lut_to_dense, per-grouped-
 * channel tables of 16 rows as coremltools' palettize_weights makes them
 * with granularity per_grouped_channel, group_size 16, ANE_CPU_PACKED_LUT);
 * sparseP: P% of the weights pruned at random (constexpr_sparse_to_dense,
 * ANE_CPU_PACKED_SPARSE: a mask bit a weight and the kept values, fp32, or
 * fp16 with --round-fp16 as an fp16 program keeps them).
 * The working set is far larger than the caches, as in a real
 * decode step. For each kind, ISA and thread count it prints the best and
 * median time of a "token" (the 84 products in a row), weights per second
 * and GB/s of weight bytes read. The ISA is the dispatch's (set
 * ANE_CPU_VEC_ISA=portable|avx2|avx512 to force one); --rows M times M
 * activation rows instead of one; --cached runs the 84 products on one
 * [768, 768] weight, which stays in the L2 cache: the kernels' arithmetic
 * speed without the memory's.
 *
 * bench-llm measures the same kernels inside a whole decode step; this one
 * separates the kernels' speed from the rest of the step (and from the
 * noise of a shared machine: the best of N counts).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ane-glib.h"
#include "runtime/cpu/ane-cpu-pool-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"
#include "runtime/cpu/ane-cpu-vec-q8x-private.h"

#define N_LAYERS 12

static const struct { gsize rows, cols; } layer_shapes[] = {
  { 768, 768 }, { 768, 768 }, { 768, 768 }, { 768, 768 },   /* q, k, v, o */
  { 2048, 768 }, { 2048, 768 },                             /* gate, up */
  { 768, 2048 },                                            /* down */
};

static AneCpuPacked *
make_weight (AneCpuPackedKind kind,
             gsize            rows,
             gsize            cols,
             gboolean         round_fp16,
             GRand           *rand)
{
  gsize n = rows * cols, nb = n / 32;
  g_autofree float *scale = NULL, *offset = NULL;
  g_autofree gint32 *q = NULL;

  if (kind == ANE_CPU_PACKED_FP16)
    {
      g_autofree float *v = g_new (float, n);

      for (gsize i = 0; i < n; i++)
        v[i] = (float) (g_rand_int_range (rand, -1024, 1024) / 1024.0);
      return ane_cpu_packed_new_fp16 (rows, cols, v);
    }
  q = g_new (gint32, n);
  scale = g_new (float, nb);
  offset = g_new (float, nb);
  for (gsize i = 0; i < n; i++)
    q[i] = kind == ANE_CPU_PACKED_INT8 ? g_rand_int_range (rand, -128, 128)
           : kind == ANE_CPU_PACKED_INT4 ? g_rand_int_range (rand, -8, 8)
                                         : g_rand_int_range (rand, 0, 16);
  for (gsize i = 0; i < nb; i++)
    {
      scale[i] = (float) g_rand_double_range (rand, 1e-3, 1e-2);
      /* Q4_K's offsets as ane-lower-q4k.c rounds them: a multiple of 2^-18 */
      offset[i] = (float) (g_rand_int_range (rand, 0, 48 << 18) / (double) (1 << 18));
    }
  return ane_cpu_packed_new_blockwise (kind, rows, cols, q, scale, rows, cols / 32,
                                       kind == ANE_CPU_PACKED_UINT4 ? offset : NULL, round_fp16);
}

/* GGUF Q8_0, Q4_0 or Q4_K blocks of random weights, d in [1e-3, 1e-2), as the
 * plan packs a GGUF tensor (no copy of the blocks); quantize_activations:
 * the opt-in 8-bit activations (AneExecutable:quantize-activations). */
static AneCpuPacked *
make_blocks_weight (AneCpuPackedKind kind,
                    gsize            rows,
                    gsize            cols,
                    gboolean         round_fp16,
                    gboolean         quantize_activations,
                    gboolean         regroup,
                    GRand           *rand)
{
  gsize bb = kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? 34 : kind == ANE_CPU_PACKED_Q4_0_BLOCKS ? 18 : 144;
  gsize n = rows * cols / (kind == ANE_CPU_PACKED_Q4_K_BLOCKS ? 256 : 32) * bb, nb = rows * cols / 32;
  guint8 *blocks = g_malloc (n);
  g_autoptr(GBytes) bytes = NULL;
  g_autofree float *scale = g_new (float, nb), *offset = g_new (float, nb);
  AneCpuPacked *p;

  for (gsize i = 0; i < n; i++)
    blocks[i] = (guint8) g_rand_int_range (rand, 0, 256);
  for (gsize i = 0; i < n; i += bb)
    {
      guint16 d = ane_float_to_half ((float) g_rand_double_range (rand, 1e-3, 1e-2));

      blocks[i] = (guint8) d;
      blocks[i + 1] = (guint8) (d >> 8);
    }
  /* Q4_K: the lowering's scale and offset per 32 (offsets as
   * ane-lower-q4k.c rounds them: a multiple of 2^-18 below 15) */
  for (gsize i = 0; i < nb; i++)
    {
      scale[i] = (float) g_rand_double_range (rand, 1e-3, 1e-2);
      offset[i] = (float) (g_rand_int_range (rand, 0, 15 << 18) / (double) (1 << 18));
    }
  bytes = g_bytes_new_take (blocks, n);
  p = kind == ANE_CPU_PACKED_Q4_K_BLOCKS ? ane_cpu_packed_new_q4_K_blocks (rows, cols, bytes, scale, offset, round_fp16)
                                         : ane_cpu_packed_new_blocks (kind, rows, cols, bytes, round_fp16);
  p->quantize_activations = quantize_activations;
  if (regroup)
    {
      AneCpuPacked *r16 = ane_cpu_packed_new_r16 (p);

      ane_cpu_packed_free (p);
      p = r16;
    }
  return p;
}

/* An N-bit palettized weight: random indices, a table of 2^N fp16-valued
 * entries per 16 rows. */
static AneCpuPacked *
make_lut_weight (guint     bits,
                 gsize     rows,
                 gsize     cols,
                 gboolean  round_fp16,
                 GRand    *rand)
{
  gsize entries = (gsize) 1 << bits, n_tables = rows / 16;
  g_autofree gint32 *idx = g_new (gint32, rows * cols);
  g_autofree float *tables = g_new (float, n_tables * entries);

  for (gsize i = 0; i < rows * cols; i++)
    idx[i] = g_rand_int_range (rand, 0, (gint32) entries);
  for (gsize i = 0; i < n_tables * entries; i++)
    tables[i] = (float) (g_rand_int_range (rand, -1024, 1024) / 1024.0);
  return ane_cpu_packed_new_lut (rows, cols, bits, idx, tables, n_tables, round_fp16);
}

/* A weight with `pruned` percent of its weights dropped at random, the kept
 * ones fp16-valued. */
static AneCpuPacked *
make_sparse_weight (guint     pruned,
                    gsize     rows,
                    gsize     cols,
                    gboolean  round_fp16,
                    GRand    *rand)
{
  gsize n = rows * cols, kept = 0;
  g_autofree guint8 *mask = g_new0 (guint8, (n + 7) / 8);
  g_autofree float *values = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    if ((guint) g_rand_int_range (rand, 0, 100) >= pruned)
      {
        mask[i / 8] |= (guint8) (1u << (i % 8));
        values[kept++] = (float) (g_rand_int_range (rand, -1024, 1024) / 1024.0);
      }
  return ane_cpu_packed_new_sparse (rows, cols, mask, values, kept, round_fp16);
}

static int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

int
main (int argc, char *argv[])
{
  g_autofree char *kinds_arg = NULL, *threads_arg = NULL;
  gint reps = 30, m = 1;
  gboolean round_fp16 = FALSE, cached = FALSE;
  GOptionEntry entries[] = {
    { "kinds", 0, 0, G_OPTION_ARG_STRING, &kinds_arg, "Weight kinds, comma-separated", "LIST" },
    { "threads", 0, 0, G_OPTION_ARG_STRING, &threads_arg, "Thread counts, comma-separated", "LIST" },
    { "reps", 0, 0, G_OPTION_ARG_INT, &reps, "Tokens timed (default 30)", "N" },
    { "rows", 0, 0, G_OPTION_ARG_INT, &m, "Activation rows (default 1)", "M" },
    { "round-fp16", 0, 0, G_OPTION_ARG_NONE, &round_fp16, "Weights rounded to fp16 (an fp16 program)", NULL },
    { "cached", 0, 0, G_OPTION_ARG_NONE, &cached, "One [768, 768] weight for every product (in cache)", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- compressed-weight decode products");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) kinds = NULL, threads = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (15);

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || reps < 1 || m < 1)
    {
      g_printerr ("bench-packed: %s\n", error ? error->message : "--reps and --rows must be positive");
      return 2;
    }
  kinds = g_strsplit (kinds_arg ? kinds_arg : "int8,int4,uint4,fp16", ",", -1);
  threads = g_strsplit (threads_arg ? threads_arg : "1,2", ",", -1);

  printf ("# decode products of the 134M LLaMA (%s), %d activation row(s)%s; kernels: %s\n",
          cached ? "84 on one [768, 768] weight, in cache" : "85 M weights a token", m,
          round_fp16 ? ", weights rounded to fp16" : "", ane_cpu_vec_get_isa ());
  printf ("kind   threads    best ms  median ms   Gweight/s  GB/s read\n");
  for (guint k = 0; kinds[k]; k++)
    {
      AneCpuPackedKind kind;
      guint lut_bits = 0, pruned = 0;
      gboolean q8x = FALSE, r16 = FALSE;
      AneCpuPacked *w[N_LAYERS * G_N_ELEMENTS (layer_shapes)];
      gsize n_w = 0, weights = 0, bytes = 0, max_rows = 0, max_cols = 0;
      g_autofree float *x = NULL, *out = NULL;

      if (g_str_equal (kinds[k], "int8"))
        kind = ANE_CPU_PACKED_INT8;
      else if (g_str_equal (kinds[k], "int4"))
        kind = ANE_CPU_PACKED_INT4;
      else if (g_str_equal (kinds[k], "uint4"))
        kind = ANE_CPU_PACKED_UINT4;
      else if (g_str_equal (kinds[k], "fp16"))
        kind = ANE_CPU_PACKED_FP16;
      else if (g_str_has_prefix (kinds[k], "q8_0") || g_str_has_prefix (kinds[k], "q4_0") ||
               g_str_has_prefix (kinds[k], "q4_k"))
        {
          kind = kinds[k][1] == '8' ? ANE_CPU_PACKED_Q8_0_BLOCKS
                 : kinds[k][3] == 'k' ? ANE_CPU_PACKED_Q4_K_BLOCKS : ANE_CPU_PACKED_Q4_0_BLOCKS;
          q8x = g_str_equal (kinds[k] + 4, "-q8") || g_str_equal (kinds[k] + 4, "-r16");
          r16 = g_str_equal (kinds[k] + 4, "-r16");
          if (!q8x && kinds[k][4] != '\0')
            {
              g_printerr ("bench-packed: unknown kind '%s'\n", kinds[k]);
              return 2;
            }
        }
      else if (g_str_has_prefix (kinds[k], "lut") && strlen (kinds[k]) == 4 && strchr ("123468", kinds[k][3]))
        {
          kind = ANE_CPU_PACKED_LUT;
          lut_bits = (guint) (kinds[k][3] - '0');
        }
      else if (g_str_has_prefix (kinds[k], "sparse") && strlen (kinds[k]) == 8 && g_ascii_isdigit (kinds[k][6]) &&
               g_ascii_isdigit (kinds[k][7]))
        {
          kind = ANE_CPU_PACKED_SPARSE;
          pruned = (guint) g_ascii_strtoull (kinds[k] + 6, NULL, 10);
        }
      else
        {
          g_printerr ("bench-packed: unknown kind '%s' (int8, int4, uint4, fp16, q8_0, q4_0, q4_k, q8_0-q8, q4_0-q8, "
                      "q4_k-q8, q8_0-r16, q4_0-r16, q4_k-r16, lut1, lut2, lut3, lut4, lut6, lut8, sparseNN)\n", kinds[k]);
          return 2;
        }
      for (guint l = 0; l < N_LAYERS; l++)
        for (guint s = 0; s < G_N_ELEMENTS (layer_shapes); s++)
          {
            AneCpuPacked *p = cached && n_w > 0 ? w[0]
                              : kind == ANE_CPU_PACKED_LUT
                                ? make_lut_weight (lut_bits, layer_shapes[s].rows, layer_shapes[s].cols, round_fp16, rand)
                              : kind == ANE_CPU_PACKED_SPARSE
                                ? make_sparse_weight (pruned, layer_shapes[s].rows, layer_shapes[s].cols, round_fp16, rand)
                              : kind == ANE_CPU_PACKED_Q8_0_BLOCKS || kind == ANE_CPU_PACKED_Q4_0_BLOCKS ||
                                kind == ANE_CPU_PACKED_Q4_K_BLOCKS
                                ? make_blocks_weight (kind, layer_shapes[s].rows, layer_shapes[s].cols, round_fp16, q8x,
                                                      r16, rand)
                                : make_weight (kind, layer_shapes[s].rows, layer_shapes[s].cols, round_fp16, rand);

            g_assert (p != NULL);
            w[n_w++] = p;
            weights += p->rows * p->cols;
            bytes += p->rows * p->row_bytes +
                     (p->scale ? (p->rows / p->row_group) * p->n_blocks * sizeof (float) * (p->offset ? 2 : 1) : 0) +
                     (p->lut ? (p->rows / p->row_group) * p->lut_stride * sizeof (float) : 0) +
                     (p->nz_start ? p->nz_start[p->rows] * p->nz_width + p->rows * sizeof (gsize) : 0);
            max_rows = MAX (max_rows, p->rows);
            max_cols = MAX (max_cols, p->cols);
          }
      x = g_new (float, (gsize) m * max_cols);
      out = g_new (float, (gsize) m * max_rows);
      for (gsize i = 0; i < (gsize) m * max_cols; i++)
        x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);

      for (guint t = 0; threads[t]; t++)
        {
          guint n_threads = (guint) g_ascii_strtoull (threads[t], NULL, 10);
          g_autofree double *times = g_new (double, reps);

          ane_cpu_set_n_threads (n_threads);
          for (gint rep = -2; rep < reps; rep++)   /* two tokens to warm up */
            {
              gint64 t0 = g_get_monotonic_time ();

              for (gsize i = 0; i < n_w; i++)
                ane_cpu_packed_matmul (w[i], x, (gsize) m, NULL, out);
              if (rep >= 0)
                times[rep] = (double) (g_get_monotonic_time () - t0) / 1e3;
            }
          qsort (times, reps, sizeof (double), cmp_double);
          printf ("%-6s %7u %10.3f %10.3f %11.2f %10.2f\n", kinds[k], n_threads, times[0], times[reps / 2],
                  (double) weights * m / times[0] / 1e6, (double) bytes / times[0] / 1e6);
        }
      for (gsize i = 0; i < (cached ? 1 : n_w); i++)
        ane_cpu_packed_free (w[i]);
    }
  ane_cpu_set_n_threads (0);
  return 0;
}
