/* test-cpu-vec.c: the CPU backend's compressed weights (issue 15, items 1
 * and 2): constexpr ops made once, products on int8 / int4 / fp16 weights,
 * and a Q8_0 model that keeps no dense copy of its weights
 *
 * Tolerances. The compressed kernels dequantize each weight exactly as the
 * dequantizing constexpr kernel does (w = scale · (q − offset) in float,
 * rounded to fp16 when the op's output is fp16): that is checked bit for
 * bit. Their sums are fp32 in an order of their own, checked against a
 * double-precision sum of the same weights: |got − want| ≤ 2^-20 · Σ|w·x|
 * (a few ulps of fp32 per term for rows of up to a few hundred terms,
 * well inside fp32's K · 2^-24 bound). fp16 programs round the result to
 * fp16 afterwards, as on the device (m · 2^-10 relative, m = 1).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "ane-test-util.h"
#include "ane-test-gguf.h"
#include "ane-reference-private.h"
#include "gguf/ane-gguf-writer-private.h"
#include "mil/lower/ane-lower-private.h"
#include "mil/ane-mil-text-private.h"
#include "mil/ane-milblob-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"
#include "runtime/cpu/ane-cpu-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"

static void
program_free (AneMilProgram *p)
{
  if (p)
    protobuf_c_message_free_unpacked (&p->base, NULL);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilProgram, program_free)

/* --- the kernels against a reference ------------------------------------------ */

typedef struct {
  AneCpuPackedKind kind;
  gsize    rows, cols, block, row_group;
  gboolean offset, round_fp16;
  gboolean avx512;           /* the AVX-512 kernels take it (where the CPU has them) */
} Case;

static float
round_half (float v)
{
  guint16 h;

  ane_f32_to_f16_portable (&v, &h, 1);
  ane_f16_to_f32_portable (&h, &v, 1);
  return v;
}

typedef struct {
  AneCpuPacked *p;
  float        *w;           /* the reference dense weights [rows, cols] */
} Packed;

static Packed
make_case (const Case *c,
           GRand      *rand)
{
  gsize n = c->rows * c->cols, srows = c->rows / c->row_group, scols = c->cols / c->block;
  g_autofree gint32 *q = g_new (gint32, n);
  g_autofree float *scale = g_new (float, srows * scols), *offset = g_new (float, srows * scols);
  g_autofree float *dense = g_new (float, n);
  Packed out;

  for (gsize i = 0; i < srows * scols; i++)
    {
      scale[i] = (float) g_rand_double_range (rand, 0.001, 0.1);
      if (c->round_fp16)
        scale[i] = round_half (scale[i]);
      offset[i] = (float) g_rand_int_range (rand, -3, 4);
      /* uint4 (GGUF Q4_K): fractional offsets m/d as the lowering rounds
       * them, a multiple of 2^-18 below 48, so q − o is exact in float */
      if (c->kind == ANE_CPU_PACKED_UINT4)
        offset[i] = (float) ldexp (floor (ldexp (g_rand_double_range (rand, 0.0, 48.0), 18)), -18);
    }
  for (gsize i = 0; i < n; i++)
    q[i] = c->kind == ANE_CPU_PACKED_INT4    ? g_rand_int_range (rand, -8, 8)
           : c->kind == ANE_CPU_PACKED_UINT4 ? g_rand_int_range (rand, 0, 16)
                                             : g_rand_int_range (rand, -128, 128);
  if (c->kind == ANE_CPU_PACKED_FP16)
    {
      for (gsize i = 0; i < n; i++)
        dense[i] = round_half ((float) g_rand_double_range (rand, -2.0, 2.0));
      out.p = ane_cpu_packed_new_fp16 (c->rows, c->cols, dense);
      out.w = g_steal_pointer (&dense);
      return out;
    }
  for (gsize r = 0; r < c->rows; r++)
    for (gsize k = 0; k < c->cols; k++)
      {
        gsize b = (r / c->row_group) * scols + k / c->block;
        /* what k_constexpr_blockwise_shift_scale computes, then the fp16 rounding of its output */
        double v = (double) q[r * c->cols + k] - (c->offset ? offset[b] : 0.0);
        float w = (float) (scale[b] * v);

        dense[r * c->cols + k] = c->round_fp16 ? round_half (w) : w;
      }
  out.p = ane_cpu_packed_new_blockwise (c->kind, c->rows, c->cols, q, scale, srows, scols,
                                        c->offset ? offset : NULL, c->round_fp16);
  out.w = g_steal_pointer (&dense);
  return out;
}

static void
check_case (const Case *c,
            gsize       m,
            GRand      *rand)
{
  Packed pk = make_case (c, rand);
  g_autofree float *x = g_new (float, m * c->cols), *bias = g_new (float, c->rows);
  g_autofree float *row = g_new (float, c->cols);
  g_autofree float *first = NULL;
  const char *what = c->kind == ANE_CPU_PACKED_INT8 ? "int8" : c->kind == ANE_CPU_PACKED_INT4 ? "int4"
                     : c->kind == ANE_CPU_PACKED_UINT4 ? "uint4" : "fp16";

  g_assert_nonnull (pk.p);
  for (gsize i = 0; i < m * c->cols; i++)
    x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  for (gsize r = 0; r < c->rows; r++)
    bias[r] = (float) g_rand_double_range (rand, -1.0, 1.0);

  /* the weights, bit for bit */
  for (gsize r = 0; r < c->rows; r++)
    {
      ane_cpu_packed_dequantize_row (pk.p, r, row);
      g_assert_cmpmem (row, c->cols * sizeof (float), pk.w + r * c->cols, c->cols * sizeof (float));
    }

  for (AneCpuVecIsa isa = ANE_CPU_VEC_ISA_PORTABLE; isa <= ANE_CPU_VEC_ISA_AVX512; isa++)
    {
      const char *kernels;

      if (!ane_cpu_vec_set_isa (isa))
        continue;   /* not this CPU's (test_kernels says which ran) */
      /* the kernels that run: the ISA's own where the case fits them */
      kernels = ane_cpu_packed_kernel_isa (pk.p);
      g_assert_cmpstr (ane_cpu_vec_get_isa (), ==, isa == ANE_CPU_VEC_ISA_PORTABLE ? "portable"
                                                   : isa == ANE_CPU_VEC_ISA_AVX2 ? "avx2" : "avx512");
      if (isa == ANE_CPU_VEC_ISA_AVX512 && c->avx512)
        g_assert_cmpstr (kernels, ==, "avx512");
      if (isa == ANE_CPU_VEC_ISA_PORTABLE)
        g_assert_cmpstr (kernels, ==, "portable");
      for (guint threads = 1; threads <= 4; threads++)
        {
          g_autofree float *out = g_new (float, m * c->rows);

          ane_cpu_set_n_threads (threads);
          ane_cpu_packed_matmul (pk.p, x, m, bias, out);
          for (gsize i = 0; i < m; i++)
            for (gsize r = 0; r < c->rows; r++)
              {
                double want = bias[r], mag = fabs (bias[r]);

                for (gsize k = 0; k < c->cols; k++)
                  {
                    want += (double) pk.w[r * c->cols + k] * x[i * c->cols + k];
                    mag += fabs ((double) pk.w[r * c->cols + k] * x[i * c->cols + k]);
                  }
                if (fabs (out[i * c->rows + r] - want) > ldexp (mag, -20) + 1e-30)
                  g_error ("%s %zux%zu block %zu, m %zu, %s kernels, %u threads: out[%zu, %zu] = %.9g, want %.9g",
                           what, c->rows, c->cols, c->block, m, kernels, threads, i, r,
                           out[i * c->rows + r], want);
              }
          /* one thread or four, the same bits (per ISA) */
          if (threads == 1)
            first = g_memdup2 (out, m * c->rows * sizeof (float));
          else
            g_assert_cmpmem (out, m * c->rows * sizeof (float), first, m * c->rows * sizeof (float));
        }
      g_clear_pointer (&first, g_free);
    }
  ane_cpu_vec_set_isa (ANE_CPU_VEC_ISA_DEFAULT);
  ane_cpu_set_n_threads (0);
  ane_cpu_packed_free (pk.p);
  g_free (pk.w);
}

static void
test_kernels (void)
{
  static const Case cases[] = {
    /* Q8_0 / Q4_0 as lowered: blocks of 32 along a row */
    { ANE_CPU_PACKED_INT8, 37, 256, 32, 1, FALSE, FALSE, TRUE },
    { ANE_CPU_PACKED_INT4, 37, 256, 32, 1, FALSE, FALSE, TRUE },
    /* fp16 programs: the weights rounded to fp16 */
    { ANE_CPU_PACKED_INT8, 9, 96, 32, 1, FALSE, TRUE, TRUE },
    { ANE_CPU_PACKED_INT4, 9, 96, 32, 1, FALSE, TRUE, TRUE },
    /* offsets; scales shared by rows (row_group 3); int4 blocks of 16 take
     * the AVX2 kernels under AVX-512 (a table per 32-weight group) */
    { ANE_CPU_PACKED_INT8, 12, 64, 16, 3, TRUE, FALSE, TRUE },
    { ANE_CPU_PACKED_INT4, 12, 64, 16, 3, TRUE, FALSE, FALSE },
    { ANE_CPU_PACKED_INT4, 12, 192, 64, 3, TRUE, TRUE, TRUE },
    /* int8 blocks of 48: three 16-column chunks a scale, 7 chunks a row
     * (the unrolled loop, then 3 more) */
    { ANE_CPU_PACKED_INT8, 11, 336, 48, 1, TRUE, FALSE, TRUE },
    /* columns not a multiple of 32 (a partial int4 group) nor of 8 */
    { ANE_CPU_PACKED_INT4, 5, 40, 8, 1, FALSE, FALSE, FALSE },
    { ANE_CPU_PACKED_INT8, 5, 44, 4, 1, TRUE, FALSE, FALSE },
    { ANE_CPU_PACKED_INT4, 3, 13, 13, 1, FALSE, FALSE, TRUE },
    { ANE_CPU_PACKED_INT8, 3, 13, 13, 1, FALSE, FALSE, TRUE },
    /* per-row scales (affine per channel): one block a row, whose last
     * 16-column chunk (int8) or 32-weight group (int4) is partial */
    { ANE_CPU_PACKED_INT8, 17, 72, 72, 1, TRUE, FALSE, TRUE },
    { ANE_CPU_PACKED_INT4, 19, 104, 104, 1, TRUE, FALSE, TRUE },
    { ANE_CPU_PACKED_UINT4, 6, 81, 81, 1, TRUE, TRUE, TRUE },
    { ANE_CPU_PACKED_INT4, 4, 116, 116, 1, FALSE, FALSE, TRUE },   /* 3 whole groups, then 20 */
    { ANE_CPU_PACKED_INT8, 5, 55, 55, 1, FALSE, FALSE, TRUE },     /* 3 whole chunks, then 7 */
    /* fp16 weights: whole 16-column chunks, and a partial last one */
    { ANE_CPU_PACKED_FP16, 33, 128, 128, 33, FALSE, FALSE, TRUE },
    { ANE_CPU_PACKED_FP16, 7, 21, 21, 7, FALSE, FALSE, TRUE },
    { ANE_CPU_PACKED_FP16, 10, 200, 200, 10, FALSE, FALSE, TRUE },
    { ANE_CPU_PACKED_FP16, 3, 45, 45, 3, FALSE, FALSE, TRUE },
    /* one row */
    { ANE_CPU_PACKED_INT8, 1, 32, 32, 1, FALSE, FALSE, TRUE },
    { ANE_CPU_PACKED_INT4, 1, 160, 32, 1, FALSE, FALSE, TRUE },
    /* uint4 (GGUF Q4_K as lowered: fractional offsets per 32), fp16 too,
     * without offsets, a partial group, odd columns, one row */
    { ANE_CPU_PACKED_UINT4, 37, 256, 32, 1, TRUE, FALSE, TRUE },
    { ANE_CPU_PACKED_UINT4, 9, 96, 32, 1, TRUE, TRUE, TRUE },
    { ANE_CPU_PACKED_UINT4, 12, 64, 16, 3, FALSE, FALSE, FALSE },
    { ANE_CPU_PACKED_UINT4, 5, 40, 8, 1, TRUE, FALSE, FALSE },
    { ANE_CPU_PACKED_UINT4, 3, 13, 13, 1, TRUE, FALSE, TRUE },
    { ANE_CPU_PACKED_UINT4, 1, 512, 32, 1, TRUE, FALSE, TRUE },
    { ANE_CPU_PACKED_UINT4, 13, 224, 32, 1, TRUE, FALSE, TRUE },
    { ANE_CPU_PACKED_UINT4, 8, 128, 64, 2, FALSE, FALSE, TRUE },
  };
  /* 70: a prefill, through dequantized tiles and sgemm */
  static const gsize ms[] = { 1, 2, 5, 70 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (15);

  g_test_message ("compressed-weight kernels: %s by default; checked: portable%s%s", ane_cpu_vec_get_isa (),
                  ane_cpu_vec_isa_available (ANE_CPU_VEC_ISA_AVX2) ? ", avx2" : "",
                  ane_cpu_vec_isa_available (ANE_CPU_VEC_ISA_AVX512) ? ", avx512" : " (no AVX-512 on this CPU)");
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (gsize j = 0; j < G_N_ELEMENTS (ms); j++)
      check_case (&cases[i], ms[j], rand);
}

/* --- GGUF Q8_0 / Q4_0 / Q4_K blocks where the file holds them ------------- */

static GBytes *q4_K_weights (gsize rows, gsize cols, GRand *rand);

/* Random blocks of kind ([rows, cols], cols a multiple of 32), and the same
 * weights as the lowering splits them (q as int32, d as a float scale). */
static GBytes *
random_blocks (AneCpuPackedKind kind,
               gsize            rows,
               gsize            cols,
               GRand           *rand,
               gint32          *q,
               float           *d)
{
  gsize bb = kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? 34 : 18, n_blocks = rows * cols / 32;
  guint8 *b = g_malloc (n_blocks * bb);

  for (gsize i = 0; i < n_blocks; i++)
    {
      guint8 *blk = b + i * bb;
      /* d: an fp16 of either sign, normal or subnormal */
      guint16 h = (guint16) g_rand_int_range (rand, 0x0001, 0x3c00) | (g_rand_boolean (rand) ? 0x8000 : 0);

      blk[0] = (guint8) h;
      blk[1] = (guint8) (h >> 8);
      d[i] = ane_half_to_float (h);
      for (gsize j = 0; j < bb - 2; j++)
        blk[2 + j] = (guint8) g_rand_int_range (rand, 0, 256);
      for (gsize j = 0; j < 32; j++)
        q[i * 32 + j] = kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? (gint8) blk[2 + j]
                        : (j < 16 ? blk[2 + j] & 15 : blk[2 + j - 16] >> 4) - 8;
    }
  return g_bytes_new_take (b, n_blocks * bb);
}

/* The *_BLOCKS kinds give the bits of the INT8 / INT4 kinds packed from the
 * split form (what the plan used before, and still uses for a package read
 * from disk), SIMD and portable, rows odd and one, one activation row to a
 * prefill (70 rows: dequantized tiles and sgemm), fp32 and fp16 weights;
 * and the gather's rows are d · q. */
static void
test_blocks_kernels (void)
{
  static const struct { AneCpuPackedKind kind; gsize rows, cols; } cases[] = {
    { ANE_CPU_PACKED_Q8_0_BLOCKS, 37, 256 }, { ANE_CPU_PACKED_Q4_0_BLOCKS, 37, 256 },
    { ANE_CPU_PACKED_Q8_0_BLOCKS, 3, 32 },   { ANE_CPU_PACKED_Q4_0_BLOCKS, 3, 32 },
    { ANE_CPU_PACKED_Q8_0_BLOCKS, 1, 96 },   { ANE_CPU_PACKED_Q4_0_BLOCKS, 1, 800 },
    { ANE_CPU_PACKED_Q8_0_BLOCKS, 9, 160 },  { ANE_CPU_PACKED_Q4_0_BLOCKS, 9, 160 },
  };
  static const gsize ms[] = { 1, 2, 5, 70 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (15);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int r16 = 0; r16 < 2; r16++)
      {
        gsize rows = cases[i].rows, cols = cases[i].cols;
        g_autofree gint32 *q = g_new (gint32, rows * cols);
        g_autofree float *d = g_new (float, rows * cols / 32);
        g_autoptr(GBytes) blocks = random_blocks (cases[i].kind, rows, cols, rand, q, d);
        AneCpuPacked *bp = ane_cpu_packed_new_blocks (cases[i].kind, rows, cols, blocks, r16);
        AneCpuPacked *sp = ane_cpu_packed_new_blockwise (cases[i].kind == ANE_CPU_PACKED_Q8_0_BLOCKS
                                                         ? ANE_CPU_PACKED_INT8 : ANE_CPU_PACKED_INT4,
                                                         rows, cols, q, d, rows, cols / 32, NULL, r16);
        g_autofree float *row = g_new (float, cols);

        g_assert_nonnull (bp);
        g_assert_nonnull (sp);
        /* the file's bytes, nothing of its own */
        g_assert_cmpuint (ane_cpu_packed_bytes (bp), ==, 0);
        for (gsize r = 0; r < rows; r++)
          {
            ane_cpu_packed_dequantize_row (bp, r, row);
            for (gsize c = 0; c < cols; c++)
              {
                float w = d[(r * cols + c) / 32] * (float) q[r * cols + c];

                if (r16)
                  w = ane_half_to_float (ane_float_to_half (w));
                g_assert_cmpfloat (row[c], ==, w);
              }
          }
        for (gsize j = 0; j < G_N_ELEMENTS (ms); j++)
          for (int simd = 0; simd < 2; simd++)
            {
              gsize m = ms[j];
              g_autofree float *x = g_new (float, m * cols);
              g_autofree float *bias = g_new (float, rows);
              g_autofree float *want = g_new (float, m * rows);
              g_autofree float *got = g_new (float, m * rows);

              for (gsize k = 0; k < m * cols; k++)
                x[k] = (float) g_rand_double_range (rand, -1.0, 1.0);
              for (gsize k = 0; k < rows; k++)
                bias[k] = (float) g_rand_double_range (rand, -1.0, 1.0);
              ane_cpu_vec_set_simd (simd);
              ane_cpu_packed_matmul (sp, x, m, bias, want);
              ane_cpu_packed_matmul (bp, x, m, bias, got);
              ane_cpu_vec_set_simd (TRUE);
              g_assert_cmpmem (got, m * rows * sizeof (float), want, m * rows * sizeof (float));
            }
        ane_cpu_packed_free (bp);
        ane_cpu_packed_free (sp);
      }
  /* Q4_K: the blocks with the lowering's scales and offsets against the
   * UINT4 kind packed from its split data (the plan's form before) */
  for (gsize i = 0; i < 3; i++)
    for (int r16 = 0; r16 < 2; r16++)
      {
        static const gsize shapes[][2] = { { 7, 256 }, { 1, 512 }, { 3, 768 } };
        gsize rows = shapes[i][0], cols = shapes[i][1];
        g_autoptr(GBytes) blocks = q4_K_weights (rows, cols, rand);
        g_autoptr(GBytes) data = NULL;
        g_autofree double *ds = NULL, *dofs = NULL;
        g_autofree float *fs = g_new (float, rows * cols / 32), *fo = g_new (float, rows * cols / 32);
        g_autofree gint32 *q = g_new (gint32, rows * cols);
        AneCpuPacked *bp, *sp;
        const guint8 *d;

        g_assert_true (ane_lower_split_q4_K (blocks, (gint64) (rows * cols / 256),
                                             r16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32, &data, &ds, &dofs));
        d = g_bytes_get_data (data, NULL);
        for (gsize k = 0; k < rows * cols; k++)
          q[k] = k % 2 ? d[k / 2] >> 4 : d[k / 2] & 15;   /* MIL uint4: element 2m in the low nibble */
        for (gsize k = 0; k < rows * cols / 32; k++)
          {
            fs[k] = (float) ds[k];
            fo[k] = (float) dofs[k];
          }
        bp = ane_cpu_packed_new_q4_K_blocks (rows, cols, blocks, fs, fo, r16);
        sp = ane_cpu_packed_new_blockwise (ANE_CPU_PACKED_UINT4, rows, cols, q, fs, rows, cols / 32, fo, r16);
        g_assert_nonnull (bp);
        g_assert_nonnull (sp);
        g_assert_cmpuint (ane_cpu_packed_bytes (bp), ==, rows * cols / 32 * 8);
        for (gsize j = 0; j < G_N_ELEMENTS (ms); j++)
          for (int simd = 0; simd < 2; simd++)
            {
              gsize m = ms[j];
              g_autofree float *x = g_new (float, m * cols);
              g_autofree float *want = g_new (float, m * rows);
              g_autofree float *got = g_new (float, m * rows);
              g_autofree float *row_b = g_new (float, cols), *row_s = g_new (float, cols);

              for (gsize k = 0; k < m * cols; k++)
                x[k] = (float) g_rand_double_range (rand, -1.0, 1.0);
              ane_cpu_vec_set_simd (simd);
              ane_cpu_packed_matmul (sp, x, m, NULL, want);
              ane_cpu_packed_matmul (bp, x, m, NULL, got);
              ane_cpu_vec_set_simd (TRUE);
              g_assert_cmpmem (got, m * rows * sizeof (float), want, m * rows * sizeof (float));
              ane_cpu_packed_dequantize_row (bp, rows - 1, row_b);
              ane_cpu_packed_dequantize_row (sp, rows - 1, row_s);
              g_assert_cmpmem (row_b, cols * sizeof (float), row_s, cols * sizeof (float));
            }
        ane_cpu_packed_free (bp);
        ane_cpu_packed_free (sp);
      }
  /* sizes that do not match are refused */
  {
    g_autoptr(GBytes) b = g_bytes_new_take (g_malloc0 (34 * 4), 34 * 4);

    g_assert_null (ane_cpu_packed_new_blocks (ANE_CPU_PACKED_Q8_0_BLOCKS, 2, 96, b, FALSE));
    g_assert_null (ane_cpu_packed_new_blocks (ANE_CPU_PACKED_Q8_0_BLOCKS, 4, 40, b, FALSE));
    g_assert_null (ane_cpu_packed_new_blocks (ANE_CPU_PACKED_INT8, 2, 64, b, FALSE));
    g_assert_nonnull (b);
  }
}

/* ANE_CPU_VEC_ISA caps the dispatch (read once, so each value runs in a
 * subprocess of its own): every set the CPU has can be chosen, and a name
 * that is no set warns and leaves the default. */
static void
test_isa_env (void)
{
  static const char *const names[] = { "portable", "avx2", "avx512" };

  if (g_test_subprocess ())
    {
      const char *want = g_getenv ("ANE_TEST_WANT_ISA");

      if (want != NULL)
        g_assert_cmpstr (ane_cpu_vec_get_isa (), ==, want);
      else
        ane_cpu_vec_get_isa ();   /* reads the bad value: warns */
      return;
    }
  for (AneCpuVecIsa isa = ANE_CPU_VEC_ISA_PORTABLE; isa <= ANE_CPU_VEC_ISA_AVX512; isa++)
    {
      if (!ane_cpu_vec_isa_available (isa))
        {
          g_test_message ("%s: not this CPU's", names[isa]);
          continue;
        }
      g_setenv ("ANE_CPU_VEC_ISA", names[isa], TRUE);
      g_setenv ("ANE_TEST_WANT_ISA", names[isa], TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
    }
  g_setenv ("ANE_CPU_VEC_ISA", "sse9", TRUE);
  g_unsetenv ("ANE_TEST_WANT_ISA");
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();   /* warnings are fatal in tests */
  g_test_trap_assert_stderr ("*ANE_CPU_VEC_ISA=sse9 is not portable, avx2 or avx512*");
  g_unsetenv ("ANE_CPU_VEC_ISA");
}

/* The packer refuses what it cannot hold: values out of range, scales that
 * do not divide the weight. */
static void
test_pack_refuses (void)
{
  static const gint32 q[4] = { 1, 2, 3, 200 };
  static const float s[2] = { 1.0f, 2.0f };

  g_assert_null (ane_cpu_packed_new_blockwise (ANE_CPU_PACKED_INT8, 2, 2, q, s, 1, 2, NULL, FALSE));
  g_assert_null (ane_cpu_packed_new_blockwise (ANE_CPU_PACKED_INT4, 1, 4, (const gint32[]) { 1, 2, 3, 9 }, s, 1, 2,
                                               NULL, FALSE));
  g_assert_null (ane_cpu_packed_new_blockwise (ANE_CPU_PACKED_INT8, 1, 4, (const gint32[]) { 1, 2, 3, 4 }, s, 1, 3,
                                               NULL, FALSE));
  /* uint4 holds 0..15 */
  g_assert_null (ane_cpu_packed_new_blockwise (ANE_CPU_PACKED_UINT4, 1, 4, (const gint32[]) { 0, 2, 3, 16 }, s, 1, 2,
                                               NULL, FALSE));
  g_assert_null (ane_cpu_packed_new_blockwise (ANE_CPU_PACKED_UINT4, 1, 4, (const gint32[]) { 0, -1, 3, 15 }, s, 1, 2,
                                               NULL, FALSE));
  /* an offset for which q − o is not exact in float (15 − 0.1f needs bits
   * below float's at 15): the weights would differ from the dequantizing
   * kernel's, so it is not packed; 0.5 is, and so is any integer */
  g_assert_null (ane_cpu_packed_new_blockwise (ANE_CPU_PACKED_UINT4, 1, 4, (const gint32[]) { 0, 2, 3, 15 }, s, 1, 2,
                                               (const float[]) { 0.5f, 0.1f }, FALSE));
  g_assert_null (ane_cpu_packed_new_blockwise (ANE_CPU_PACKED_INT8, 1, 4, (const gint32[]) { 0, 2, 3, 15 }, s, 1, 2,
                                               (const float[]) { 0.1f, 2.0f }, FALSE));
  {
    AneCpuPacked *p = ane_cpu_packed_new_blockwise (ANE_CPU_PACKED_UINT4, 1, 4, (const gint32[]) { 0, 2, 3, 15 }, s,
                                                    1, 2, (const float[]) { 0.5f, -3.0f }, FALSE);
    float row[4];

    g_assert_nonnull (p);
    ane_cpu_packed_dequantize_row (p, 0, row);
    g_assert_cmpfloat (row[0], ==, -0.5f);
    g_assert_cmpfloat (row[1], ==, 1.5f);
    g_assert_cmpfloat (row[2], ==, 12.0f);
    g_assert_cmpfloat (row[3], ==, 36.0f);
    ane_cpu_packed_free (p);
  }
}

/* --- constexpr ops made once --------------------------------------------------- */

/* A MIL program: x [M, K] -> linear (x, constexpr_blockwise_shift_scale
 * (int8 data [N, K], fp32 scales [N, K / 32])) and, from the same kind of
 * op, a weight an add reads (which cannot take it packed). */
static char *
blockwise_program (gsize        M,
                   gsize        N,
                   gsize        K,
                   const char  *dtype,
                   GRand       *rand,
                   double     **dense)
{
  GString *s = g_string_new ("program(1.3)\n{\n");
  gsize nb = K / 32;

  *dense = g_new (double, N * K);
  g_string_append_printf (s, "    func main<ios18>(tensor<%s, [%zu, %zu]> x) {\n", dtype, M, K);
  for (guint w = 0; w < 2; w++)
    {
      g_autofree double *scales = g_new (double, N * nb);

      g_string_append_printf (s, "        tensor<int8, [%zu, %zu]> d%u = const()[name = string(\"d%u\"), "
                              "val = tensor<int8, [%zu, %zu]>([", N, K, w, w, N, K);
      for (gsize i = 0; i < N * nb; i++)
        scales[i] = ldexp ((double) g_rand_int_range (rand, 1, 64), -9);
      for (gsize i = 0; i < N * K; i++)
        {
          gint32 q = g_rand_int_range (rand, -128, 128);

          g_string_append_printf (s, "%s%d", i ? ", " : "", q);
          if (w == 0)
            {
              /* the constexpr op's output, in its dtype */
              float v = (float) (scales[(i / K) * nb + (i % K) / 32] * q);

              (*dense)[i] = g_str_equal (dtype, "fp16") ? round_half (v) : v;
            }
        }
      g_string_append_printf (s, "])];\n        tensor<%s, [%zu, %zu]> sc%u = const()[name = string(\"sc%u\"), "
                              "val = tensor<%s, [%zu, %zu]>([", dtype, N, nb, w, w, dtype, N, nb);
      for (gsize i = 0; i < N * nb; i++)
        g_string_append_printf (s, "%s%.17g", i ? ", " : "", scales[i]);
      g_string_append_printf (s, "])];\n        tensor<%s, [%zu, %zu]> w%u = constexpr_blockwise_shift_scale("
                              "data = d%u, scale = sc%u)[name = string(\"w%u\")];\n", dtype, N, K, w, w, w, w);
    }
  g_string_append_printf (s, "        tensor<%s, [%zu, %zu]> y = linear(x = x, weight = w0)[name = string(\"y\")];\n"
                          "        tensor<%s, [%zu, %zu]> z = add(x = w1, y = w1)[name = string(\"z\")];\n"
                          "    } -> (y, z);\n}\n", dtype, M, N, dtype, N, K);
  return g_string_free (s, FALSE);
}

static GPtrArray *
run_x (AneCpuBackend *backend,
       const float   *x,
       gsize          M,
       gsize          K)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  AneTensor *t = ane_tensor_new_from_floats ("x", (const gint64[]) { (gint64) M, (gint64) K }, 2, x, M * K, &error);
  GPtrArray *outs;

  g_assert_no_error (error);
  g_hash_table_insert (inputs, (gpointer) "x", t);
  outs = ane_cpu_backend_run (backend, inputs, NULL, FALSE, NULL, &error);
  g_assert_no_error (error);
  return outs;
}

/* Σ w·x over k in double, and Σ |w·x| in *mag (the scale of the sum's
 * rounding). */
static double
product_row (const double *w,
             const float  *x,
             gsize         k,
             double       *mag)
{
  double sum = 0.0;

  *mag = 0.0;
  for (gsize i = 0; i < k; i++)
    {
      sum += w[i] * x[i];
      *mag += fabs (w[i] * x[i]);
    }
  return sum;
}

static void
check_constexpr_once (const char *dtype)
{
  const gsize M = 3, N = 11, K = 96;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(GError) error = NULL;
  g_autofree double *dense = NULL;
  g_autofree char *text = blockwise_program (M, N, K, dtype, rand, &dense);
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (text, -1, "test", &error);
  g_autoptr(AneCpuBackend) backend = NULL;
  AneCpuPlan *plan;
  float x[3 * 96];
  guint64 packed, dense_bytes, borrowed;
  gboolean fp16 = g_str_equal (dtype, "fp16");

  g_assert_no_error (error);
  for (gsize i = 0; i < M * K; i++)
    x[i] = fp16 ? round_half ((float) g_rand_double_range (rand, -1, 1)) : (float) g_rand_double_range (rand, -1, 1);
  backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  plan = ane_cpu_backend_get_plan (backend);
  /* both constexpr ops made when the plan was, never again */
  g_assert_cmpuint (ane_cpu_plan_get_constexpr_runs (plan), ==, 2);
  for (guint run = 0; run < 3; run++)
    {
      g_autoptr(GPtrArray) outs = run_x (backend, x, M, K);
      gsize n_out = 0;
      g_autofree float *y = ane_tensor_dup_floats (g_ptr_array_index (outs, 0), &n_out, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (ane_cpu_plan_get_constexpr_runs (plan), ==, 2);
      for (gsize i = 0; i < M; i++)
        for (gsize n = 0; n < N; n++)
          {
            double mag, want = product_row (dense + n * K, x + i * K, K, &mag);

            g_assert_cmpfloat (fabs (y[i * N + n] - want), <=, (fp16 ? ldexp (fabs (want), -10) : 0.0) + ldexp (mag, -20));
          }
    }
  /* w0 packed (linear reads it), w1 dense (add reads it): its int8 data
   * and both data consts freed; the packed int8 weight is N · K bytes plus
   * its scales */
  ane_cpu_plan_get_const_bytes (plan, &packed, &dense_bytes, &borrowed);
  g_assert_cmpuint (packed, ==, N * K + N * (K / 32) * 4);
  g_assert_cmpuint (dense_bytes, <, N * K * 4 + N * (K / 32) * 4 * 2 + 256);
  g_assert_cmpuint (dense_bytes, >=, N * K * 4);

  /* a param read again: the ops reading it are made again, once */
  g_assert_true (ane_cpu_plan_reload_const (plan, "sc0", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ane_cpu_plan_get_constexpr_runs (plan), ==, 3);
  g_assert_true (ane_cpu_plan_reload_const (plan, "d1", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ane_cpu_plan_get_constexpr_runs (plan), ==, 4);
  {
    g_autoptr(GPtrArray) outs = run_x (backend, x, M, K);
    gsize n_out = 0;
    g_autofree float *z = ane_tensor_dup_floats (g_ptr_array_index (outs, 1), &n_out, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (ane_cpu_plan_get_constexpr_runs (plan), ==, 4);
    g_assert_true (isfinite (z[0]));
  }
}

static void
test_constexpr_once_fp32 (void)
{
  check_constexpr_once ("fp32");
}

static void
test_constexpr_once_fp16 (void)
{
  check_constexpr_once ("fp16");
}

/* Runs a program of one input x [rows, cols] and one output; checks the
 * output against want within tol and the plan's packed bytes. */
static void
check_text (const char  *text,
            const float *x,
            gsize        rows,
            gsize        cols,
            const double *want,
            gsize         n_want,
            double        tol,
            guint64       want_packed)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (text, -1, "test", &error);
  g_autoptr(AneCpuBackend) backend = NULL;
  g_autoptr(GPtrArray) outs = NULL;
  g_autofree float *y = NULL;
  guint64 packed, dense, borrowed;
  gsize n = 0;

  g_assert_no_error (error);
  backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  ane_cpu_plan_get_const_bytes (ane_cpu_backend_get_plan (backend), &packed, &dense, &borrowed);
  g_assert_cmpuint (packed, ==, want_packed);
  outs = run_x (backend, x, rows, cols);
  y = ane_tensor_dup_floats (g_ptr_array_index (outs, 0), &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, n_want);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (fabs (y[i] - want[i]), <=, tol);
}

/* An fp16 weight that a matmul reads transposed (how an F16 or F32 GGUF
 * weight lowers at fp16 precision) stays fp16: 2 bytes a weight. */
static void
test_fp16_matmul (void)
{
  const char *text =
    "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [2, 3]> x) {\n"
    "        tensor<fp16, [4, 3]> w = const()[name = string(\"w\"), val = tensor<fp16, [4, 3]>("
    "[1, 2, 3, -1, 0.5, 0.25, 0, 0, 8, 1024, -2, 0.125])];\n"
    "        bool tx = const()[name = string(\"tx\"), val = bool(false)];\n"
    "        bool ty = const()[name = string(\"ty\"), val = bool(true)];\n"
    "        tensor<fp16, [2, 4]> y = matmul(x = x, y = w, transpose_x = tx, transpose_y = ty)[name = string(\"y\")];\n"
    "    } -> (y);\n}\n";
  static const float x[6] = { 1, -1, 2, 0.5f, 4, -8 };
  /* row 0: 1 - 2 + 6, -1 - 0.5 + 0.5, 16, 1024 + 2 + 0.25; row 1: 0.5 + 8 - 24, -0.5 + 2 - 2, -64, 512 - 8 - 1 */
  static const double want[8] = { 5, -1, 16, 1026.25, -15.5, -0.5, -64, 503 };

  check_text (text, x, 2, 3, want, 8, 0.5 /* 1026.25 in fp16 */, 4 * 3 * 2);
}

/* iOS16 constexpr_affine_dequantize, per output channel (axis 0), feeding
 * a linear: int8 data and float scales and zero points, packed. */
static void
test_affine_linear (void)
{
  const char *text =
    "program(1.0)\n{\n    func main<ios16>(tensor<fp32, [1, 3]> x) {\n"
    "        tensor<fp32, [2, 3]> w = constexpr_affine_dequantize()[axis = int32(0), name = string(\"w\"), "
    "quantized_data = tensor<int8, [2, 3]>([-128, 0, 127, 5, -5, 10]), "
    "scale = tensor<fp32, [2]>([0.5, 2]), zero_point = tensor<int8, [2]>([0, 1])];\n"
    "        tensor<fp32, [1, 2]> y = linear(x = x, weight = w)[name = string(\"y\")];\n"
    "    } -> (y);\n}\n";
  static const float x[3] = { 1, 2, 3 };
  /* w = [[-64, 0, 63.5], [8, -12, 18]] */
  static const double want[2] = { -64 + 190.5, 8 - 24 + 54 };

  check_text (text, x, 1, 3, want, 2, 1e-5, 2 * 3 + 2 * 4 * 2);
}

/* uint4 data with fractional offsets (the form GGUF Q4_K lowers to) read by
 * a gather (an embedding) and a linear: packed once, both read it, rows as
 * the dequantizing kernel makes them. */
static void
test_uint4_gather (void)
{
  GString *t = g_string_new ("program(1.3)\n{\n    func main<ios18>(tensor<fp32, [1, 32]> x) {\n"
                             "        tensor<uint4, [2, 32]> d = const()[name = string(\"d\"), val = tensor<uint4, [2, 32]>([");
  g_autofree char *text = NULL;
  float x[32];
  double want[2 * 32 + 2] = { 0 };
  static const double s[2] = { 0.5, 0.25 }, o[2] = { 7.5, 0.375 };

  for (int i = 0; i < 64; i++)
    {
      int q = (i * 7 + 3) % 16;

      g_string_append_printf (t, "%s%d", i ? ", " : "", q);
      /* gather picks row 1, then row 0 */
      want[(1 - i / 32) * 32 + i % 32] = s[i / 32] * (q - o[i / 32]);
    }
  for (int k = 0; k < 32; k++)
    {
      x[k] = (float) (k % 5) - 2.0f;
      for (int r = 0; r < 2; r++)
        want[64 + r] += x[k] * want[(1 - r) * 32 + k];
    }
  g_string_append (t, "])];\n"
                   "        tensor<fp32, [2, 1]> s = const()[name = string(\"s\"), val = tensor<fp32, [2, 1]>([0.5, 0.25])];\n"
                   "        tensor<fp32, [2, 1]> o = const()[name = string(\"o\"), val = tensor<fp32, [2, 1]>([7.5, 0.375])];\n"
                   "        tensor<fp32, [2, 32]> w = constexpr_blockwise_shift_scale(data = d, scale = s, offset = o)"
                   "[name = string(\"w\")];\n"
                   "        tensor<fp32, [2, 32]> g = gather(x = w, indices = tensor<int32, [2]>([1, 0]), axis = int32(0))"
                   "[name = string(\"g\")];\n"
                   "        tensor<fp32, [1, 2]> y = linear(x = x, weight = w)[name = string(\"y\")];\n"
                   "        tensor<fp32, [64]> g1 = reshape(x = g, shape = tensor<int32, [1]>([64]))[name = string(\"g1\")];\n"
                   "        tensor<fp32, [2]> y1 = reshape(x = y, shape = tensor<int32, [1]>([2]))[name = string(\"y1\")];\n"
                   "        tensor<fp32, [66]> gy = concat(values = (g1, y1), axis = int32(0), interleave = bool(false))"
                   "[name = string(\"gy\")];\n"
                   "    } -> (gy);\n}\n");
  text = g_string_free (t, FALSE);
  /* ½ byte a weight (a whole group of 32 a row) + a scale and an offset a row */
  check_text (text, x, 1, 32, want, 66, 0.0, 2 * 16 + 2 * 4 * 2);
}

/* --- memory: a Q8_0 / Q4_0 model holds its weights as the file does ---------- */

/* The logits of decode steps 0..2 of exe (a compiled decode step). */
static const gint32 decode_tokens[] = { 1, 403, 407 };

/* Issue 15, "memory equals the file": a GGUF model whose matrices and
 * embedding are Q8_0 (Q4_0) runs on the blocks where the file's mapping
 * holds them. The lowered program references the blocks (no split copy of
 * the data or scales: ane_mil_const_blocks), the plan multiplies and
 * gathers on them (ANE_CPU_PACKED_Q8_0_BLOCKS / Q4_0_BLOCKS: nothing
 * packed of its own), and the embedding is no float table — neither in
 * the model nor in the plan. The logits are bit for bit those of the same
 * program written as a package and run from disk (the split int8 / int4
 * form, ane-cpu-vec-avx2.c's kernels), so the blocks are what a package
 * holds and the kernels sum alike. */
static void
block_model_memory (AneDType quant)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-cpu-vec-XXXXXX", &error);
  g_autofree char *path = ane_test_write_stories_gguf (dir, "q.gguf", &(AneTestGgufVariant) { .arch = "llama",
                                                                                             .quant = quant });
  g_autofree char *pkg_path = g_build_filename (dir, "q.mlpackage", NULL);
  g_autoptr(AneLlamaModel) m = ane_llama_model_load_gguf (path, &error);
  g_autoptr(AneGraph) g = NULL;
  g_autoptr(AneCpuBackend) backend = NULL;
  g_autoptr(AneLowered) lowered = NULL;
  g_autoptr(AnePackage) pkg = NULL, loaded = NULL;
  g_autoptr(AneExecutable) in_memory = NULL, from_disk = NULL;
  g_autofree float *mem_logits = NULL, *disk_logits = NULL;
  AneLowerOptions options = { .target = ANE_MIL_IOS18, .precision = ANE_DTYPE_FLOAT32 };
  guint64 packed, dense, borrowed, file_size, q_bytes = 0, own_blobs = 0, block_blobs = 0;
  gsize n_mem = 0, n_disk = 0;
  GStatBuf st;
  AneTensor *embd;
  const char *names[] = { "wq", "wk", "wv", "wo", "w1", "w3" };
  const char *all_names[] = { "attention_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w1", "w2", "w3" };
  g_autoptr(GHashTable) weight_data = NULL;
  guint bb = ane_dtype_block_bytes (quant);

  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  file_size = (guint64) st.st_size;
  /* the quantized weights' bytes in the file */
  for (gint64 l = 0; l < ane_llama_model_get_n_layers (m); l++)
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autofree char *name = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", l, names[i]);
        AneTensor *w = ane_llama_model_get_weight (m, name);

        g_assert_cmpint (ane_tensor_get_dtype (w), ==, quant);
        q_bytes += ane_tensor_get_n_elements (w) / 32 * bb;
      }
  /* the embedding: its blocks, which are the tied classifier's, no table */
  embd = ane_llama_model_get_weight (m, "token_embedding");
  g_assert_cmpint (ane_tensor_get_dtype (embd), ==, quant);
  g_assert_true (ane_llama_model_get_weight (m, "output") == embd);
  q_bytes += ane_tensor_get_n_elements (embd) / 32 * bb;
  g = ane_llama_model_build_decode (m, 16, &error);
  g_assert_no_error (error);

  /* the lowered program holds no copy of the blocks: its blobs are
   * references to the model's weights (the blocks, the F32 norms and
   * ffn_down) and the few tables it computes */
  weight_data = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (gint64 l = 0; l < ane_llama_model_get_n_layers (m); l++)
    for (guint i = 0; i < G_N_ELEMENTS (all_names); i++)
      {
        g_autofree char *name = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", l, all_names[i]);

        g_hash_table_add (weight_data, (gpointer) g_bytes_get_data (ane_tensor_get_data (ane_llama_model_get_weight (m, name)), NULL));
      }
  g_hash_table_add (weight_data, (gpointer) g_bytes_get_data (ane_tensor_get_data (ane_llama_model_get_weight (m, "final_norm")), NULL));
  lowered = ane_lowered_new (g, &options, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < lowered->blobs->len; i++)
    {
      AneMilPendingBlob *blob = g_ptr_array_index (lowered->blobs, i);

      if (blob->source == ANE_MIL_BLOB_FROM_BLOCKS)
        block_blobs++;
      else if (blob->source == ANE_MIL_BLOB_FROM_BYTES &&
               !g_hash_table_contains (weight_data, g_bytes_get_data (blob->data, NULL)))
        own_blobs += blob->size;
    }
  /* data and scales of 6 matrices a layer and of the embedding, which is
   * the classifier too (one weight) */
  g_assert_cmpuint (block_blobs, ==, 2 * (6 * ane_llama_model_get_n_layers (m) + 1));
  g_assert_cmpuint (own_blobs, <, q_bytes / 10);

  backend = ane_cpu_backend_new_for_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, NULL, 0, &error);
  g_assert_no_error (error);
  ane_cpu_plan_get_const_bytes (ane_cpu_backend_get_plan (backend), &packed, &dense, &borrowed);
  g_test_message ("%s stories260K (file %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT " in %s weights): plan "
                  "holds %" G_GUINT64_FORMAT " packed, %" G_GUINT64_FORMAT " dense, %" G_GUINT64_FORMAT " borrowed; "
                  "the lowered program %" G_GUINT64_FORMAT " bytes of its own", ane_dtype_to_string (quant), file_size,
                  q_bytes, ane_dtype_to_string (quant), packed, dense, borrowed, own_blobs);
  /* every quantized weight used where the file holds it (each once: the
   * classifier and the gather share the embedding's blocks), nothing of
   * the plan's own for them: no split data, no scale array */
  g_assert_cmpuint (borrowed, >=, q_bytes);
  g_assert_cmpuint (borrowed, <=, file_size);
  g_assert_cmpuint (packed, ==, 0);
  /* what stays dense: rope tables, masks (norms and the F32 ffn_down are
   * borrowed) — no float table of the embedding (vocab · dim · 4 bytes) */
  g_assert_cmpuint (dense, <, q_bytes / 10);
  g_assert_cmpuint (dense, <, (guint64) ane_tensor_get_n_elements (embd) * 4);

  /* the same results as the package (split form) run from disk, bit for bit */
  in_memory = ane_executable_new (g, ANE_BACKEND_CPU);
  ane_executable_set_precision (in_memory, ANE_PRECISION_FLOAT32);
  g_assert_true (ane_executable_compile (in_memory, NULL, &error));
  mem_logits = ane_test_decode_logits (in_memory, decode_tokens, G_N_ELEMENTS (decode_tokens), &n_mem);
  pkg = ane_package_new_from_graph_with_lowering (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, ANE_LOWERING_GENERIC,
                                                  NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ane_package_save (pkg, pkg_path, FALSE, &error));
  loaded = ane_package_load (pkg_path, &error);
  g_assert_no_error (error);
  from_disk = ane_executable_new_from_package (loaded, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ane_executable_compile (from_disk, NULL, &error));
  disk_logits = ane_test_decode_logits (from_disk, decode_tokens, G_N_ELEMENTS (decode_tokens), &n_disk);
  g_assert_cmpuint (n_mem, ==, n_disk);
  g_assert_cmpmem (mem_logits, n_mem * sizeof (float), disk_logits, n_disk * sizeof (float));

  g_clear_object (&from_disk);
  g_clear_object (&loaded);
  ane_test_remove_tree (dir);
}

static void
test_q8_0_memory (void)
{
  block_model_memory (ANE_DTYPE_Q8_0);
}

static void
test_q4_0_memory (void)
{
  block_model_memory (ANE_DTYPE_Q4_0);
}

/* --- GGUF F16: the halves as the file holds them -------------------------- */

/* The logits of decode steps 0..2 of graph on backend at precision. */
static float *
decode_logits (AneGraph     *graph,
               AneBackend    backend,
               AnePrecision  precision,
               gsize        *n_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, backend);

  ane_executable_set_precision (exe, precision);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  return ane_test_decode_logits (exe, decode_tokens, G_N_ELEMENTS (decode_tokens), n_out);
}

/* A GGUF whose matrices (the embedding included) are F16: the loader keeps
 * them F16, an fp32 program widens them with constexpr_cast, and the CPU
 * plan multiplies and gathers on the halves where the lowering's blob holds
 * them — no dense float copy — with the reference backend's logits. */
static void
test_f16_memory (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-cpu-vec-XXXXXX", &error);
  g_autofree char *path = ane_test_write_stories_gguf (dir, "f16.gguf",
                                                       &(AneTestGgufVariant) { .arch = "llama",
                                                                               .quant = ANE_DTYPE_FLOAT16 });
  g_autoptr(AneLlamaModel) m = ane_llama_model_load_gguf (path, &error);
  g_autoptr(AneGraph) g = NULL;
  g_autoptr(AneCpuBackend) backend = NULL;
  g_autofree float *cpu = NULL, *ref = NULL;
  guint64 packed, dense, borrowed, f16_bytes = 0;
  gsize n_cpu = 0, n_ref = 0;
  const char *names[] = { "wq", "wk", "wv", "wo", "w1", "w2", "w3" };

  g_assert_no_error (error);
  for (gint64 l = 0; l < ane_llama_model_get_n_layers (m); l++)
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autofree char *name = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", l, names[i]);
        AneTensor *w = ane_llama_model_get_weight (m, name);

        g_assert_cmpint (ane_tensor_get_dtype (w), ==, ANE_DTYPE_FLOAT16);
        f16_bytes += ane_tensor_get_n_elements (w) * 2;
      }
  g_assert_cmpint (ane_tensor_get_dtype (ane_llama_model_get_weight (m, "token_embedding")), ==, ANE_DTYPE_FLOAT16);
  f16_bytes += ane_tensor_get_n_elements (ane_llama_model_get_weight (m, "token_embedding")) * 2;
  g = ane_llama_model_build_decode (m, 16, &error);
  g_assert_no_error (error);

  backend = ane_cpu_backend_new_for_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, NULL, 0, &error);
  g_assert_no_error (error);
  ane_cpu_plan_get_const_bytes (ane_cpu_backend_get_plan (backend), &packed, &dense, &borrowed);
  g_test_message ("F16 stories260K (%" G_GUINT64_FORMAT " bytes of F16 matrices): plan holds %" G_GUINT64_FORMAT
                  " packed, %" G_GUINT64_FORMAT " dense, %" G_GUINT64_FORMAT " borrowed",
                  f16_bytes, packed, dense, borrowed);
  /* the halves are borrowed, once each (the embedding serves the gather and
   * the tied classifier); what stays dense is norms and tables */
  g_assert_cmpuint (borrowed, >=, f16_bytes);
  g_assert_cmpuint (dense, <, f16_bytes / 10);

  /* The logits of the reference backend (which widens each weight
   * exactly), as near as the F32 model's CPU logits are to its reference
   * ones: the CPU and reference backends differ anyway (sums in another
   * order; the reference rounds a step's new cache row to fp16 before its
   * attention, as the IR's cast says, an fp32 program only when it stores
   * it, docs/models.md), 2.7e-3 on these three steps. */
  cpu = decode_logits (g, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, &n_cpu);
  ref = decode_logits (g, ANE_BACKEND_REFERENCE, ANE_PRECISION_FLOAT32, &n_ref);
  g_assert_cmpuint (n_cpu, ==, n_ref);
  {
    g_autofree char *path32 = ane_test_write_stories_gguf (dir, "f32.gguf", &(AneTestGgufVariant) { .arch = "llama" });
    g_autoptr(AneLlamaModel) m32 = ane_llama_model_load_gguf (path32, &error);
    g_autoptr(AneGraph) g32 = NULL;
    g_autofree float *cpu32 = NULL, *ref32 = NULL;
    double worst32 = 0.0, worst = 0.0;

    g_assert_no_error (error);
    g32 = ane_llama_model_build_decode (m32, 16, &error);
    g_assert_no_error (error);
    cpu32 = decode_logits (g32, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, &n_cpu);
    ref32 = decode_logits (g32, ANE_BACKEND_REFERENCE, ANE_PRECISION_FLOAT32, &n_ref);
    for (gsize i = 0; i < n_cpu; i++)
      {
        worst32 = MAX (worst32, fabs (cpu32[i] - ref32[i]));
        worst = MAX (worst, fabs (cpu[i] - ref[i]));
      }
    g_test_message ("CPU against reference: F16 model %g, F32 model %g", worst, worst32);
    g_assert_cmpfloat (worst, <=, 2.0 * worst32 + 1e-4);
    g_unlink (path32);
  }

  g_unlink (path);
  g_rmdir (dir);
}

/* --- GGUF Q4_K: uint4 data, per-32 scales and offsets --------------------- */

/* How far scale · (q − offset) (what Core ML and the CPU backend compute
 * from the lowered weight) is from ggml's d1·q − m1 (ane_dequant_blocks,
 * bit-exact to dequantize_row_q4_K), relative to the sub-block's range
 * 16·d1 + |m1|: the documented bound is 2^-21 (8 units of 2^-24; the
 * offset's rounding, exact_offset in ane-lower-q4k.c, is at most one). */
typedef struct {
  double max_rel;     /* max |ours − ggml| / (16·d1 + |m1|) */
  double max_abs;     /* max |ours − ggml| */
  double max_weight;  /* max |ggml| */
  guint64 n;
} Q4KDiff;

#define Q4_K_TOLERANCE ldexp (1.0, -21)

static void
q4_K_diff (GBytes  *blocks,
           gsize    n,
           Q4KDiff *acc)
{
  g_autoptr(GBytes) data = NULL;
  g_autofree double *scale = NULL, *offset = NULL, *ggml = g_new (double, n);
  g_autoptr(GError) error = NULL;
  gsize n_bytes;
  const guint8 *raw = g_bytes_get_data (blocks, &n_bytes), *q;

  g_assert_true (ane_lower_split_q4_K (blocks, (gint64) (n / 256), ANE_DTYPE_FLOAT32, &data, &scale, &offset));
  g_assert_cmpuint (g_bytes_get_size (data), ==, n / 2);
  g_assert_true (ane_dequant_blocks (ANE_DTYPE_Q4_K, raw, n_bytes, n, ggml, &error));
  g_assert_no_error (error);
  q = g_bytes_get_data (data, NULL);
  for (gsize i = 0; i < n; i++)
    {
      gsize b = i / 32;
      /* MIL uint4: element 2k in the low nibble of byte k */
      int qi = i % 2 ? q[i / 2] >> 4 : q[i / 2] & 15;
      /* the fp32 consts, then k_constexpr_blockwise_shift_scale's arithmetic */
      float s = (float) scale[b], o = (float) offset[b];
      float ours = (float) ((double) s * ((double) qi - (double) o));
      double range = 16.0 * fabs ((double) s) + fabs ((double) s * o);
      double diff = fabs ((double) ours - ggml[i]);

      if (diff > 0.0)
        acc->max_rel = MAX (acc->max_rel, diff / range);
      acc->max_abs = MAX (acc->max_abs, diff);
      acc->max_weight = MAX (acc->max_weight, fabs (ggml[i]));
    }
  acc->n += n;
}

/* Every Q4_K matrix of a LLaMA model compared. */
static void
q4_K_model_diff (AneLlamaModel *m,
                 Q4KDiff       *acc)
{
  const char *names[] = { "wq", "wk", "wv", "wo", "w1", "w2", "w3" };

  for (gint64 l = 0; l < ane_llama_model_get_n_layers (m); l++)
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autofree char *name = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", l, names[i]);
        AneTensor *w = ane_llama_model_get_weight (m, name);

        if (w && ane_tensor_get_dtype (w) == ANE_DTYPE_Q4_K)
          q4_K_diff (ane_tensor_get_data (w), (gsize) ane_tensor_get_n_elements (w), acc);
      }
  {
    AneTensor *w = ane_llama_model_get_weight (m, "output");

    if (w && ane_tensor_get_dtype (w) == ANE_DTYPE_Q4_K)
      q4_K_diff (ane_tensor_get_data (w), (gsize) ane_tensor_get_n_elements (w), acc);
  }
}

/* Q4_K blocks of [rows, cols] random weights (ane-glib's own quantizer),
 * shifted per row so that the mins matter. */
static GBytes *
q4_K_weights (gsize  rows,
              gsize  cols,
              GRand *rand)
{
  g_autofree float *w = g_new (float, rows * cols);
  gsize size = rows * cols / 256 * 144;
  guint8 *blocks = g_malloc (size);
  g_autoptr(GError) error = NULL;

  for (gsize r = 0; r < rows; r++)
    {
      double shift = g_rand_double_range (rand, -0.3, 0.3);

      for (gsize c = 0; c < cols; c++)
        w[r * cols + c] = (float) (shift + g_rand_double_range (rand, -0.5, 0.5));
    }
  g_assert_true (ane_quant_blocks_f32 (ANE_DTYPE_Q4_K, w, rows * cols, blocks, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (blocks, size);
}

/* x [M, K] · Wᵀ for the Q4_K weight W [N, K] through the lowering and the
 * CPU backend at target / precision; checks the program's form, the plan's
 * packed bytes and the result against ggml's weights. */
static void
check_q4_K_linear (GBytes      *blocks,
                   gsize        M,
                   gsize        N,
                   gsize        K,
                   AneTarget    target,
                   AnePrecision precision,
                   gboolean     want_uint4,
                   GRand       *rand)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_new ();
  gint64 ws[2] = { (gint64) N, (gint64) K }, xs[2] = { (gint64) M, (gint64) K };
  g_autoptr(AneTensor) tw = ane_tensor_new_from_bytes ("w", ANE_DTYPE_Q4_K, ws, 2, blocks, &error);
  g_autoptr(AneTensor) w = ane_graph_param_with_value (g, tw, &error);
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_dequant_matmul (g, x, w, &error);
  g_autoptr(AneMilProgram) program = NULL;
  g_autoptr(AneCpuBackend) backend = NULL;
  g_autoptr(GPtrArray) outs = NULL;
  g_autofree char *text = NULL;
  g_autofree double *ggml = g_new (double, N * K);
  g_autofree float *xv = g_new (float, M * K), *out = NULL;
  gboolean fp16 = precision == ANE_PRECISION_FLOAT16;
  AneDType compute = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
  AneMilTarget mil_target = target == ANE_TARGET_IOS18 ? ANE_MIL_IOS18 : ANE_MIL_IOS17;
  guint64 packed, dense, borrowed;
  g_autofree char *uint4_type = g_strdup_printf ("tensor<uint4, [%zu, %zu]>", N, K);
  gsize n_out = 0;

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  g_assert_true (ane_dequant_blocks (ANE_DTYPE_Q4_K, g_bytes_get_data (blocks, NULL), g_bytes_get_size (blocks),
                                     N * K, ggml, &error));

  /* the program: uint4 data, a scale and an offset per 32 (or the dense const) */
  program = ane_lower_graph (g, mil_target, compute, NULL, NULL, &error);
  g_assert_no_error (error);
  text = ane_mil_text_print (program, &error);
  g_assert_no_error (error);
  g_assert_true ((strstr (text, uint4_type) != NULL) == want_uint4);
  g_assert_true ((strstr (text, "constexpr_blockwise_shift_scale(data = ") != NULL) == want_uint4);
  if (want_uint4)
    g_assert_nonnull (strstr (text, "offset = "));

  /* the CPU backend: on the blocks where they lie (borrowed), two floats
   * per 32 of its own */
  backend = ane_cpu_backend_new_for_graph (g, target, precision, NULL, 0, &error);
  g_assert_no_error (error);
  ane_cpu_plan_get_const_bytes (ane_cpu_backend_get_plan (backend), &packed, &dense, &borrowed);
  if (want_uint4)
    {
      g_assert_cmpuint (packed, ==, N * (K / 32) * 4 * 2);
      g_assert_cmpuint (borrowed, ==, g_bytes_get_size (blocks));
    }
  else
    g_assert_cmpuint (packed, ==, 0);
  for (gsize i = 0; i < M * K; i++)
    xv[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  if (fp16)
    for (gsize i = 0; i < M * K; i++)
      xv[i] = round_half (xv[i]);
  outs = run_x (backend, xv, M, K);
  out = ane_tensor_dup_floats (g_ptr_array_index (outs, 0), &n_out, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_out, ==, M * N);
  for (gsize i = 0; i < M; i++)
    for (gsize r = 0; r < N; r++)
      {
        double mag, want = product_row (ggml + r * K, xv + i * K, K, &mag);

        /* fp32: the weights within Q4_K_TOLERANCE of their sub-block's
         * range (at most 16 · their largest magnitude + the min, so 2^-21
         * · 32 · Σ|w·x| bounds it loosely: 2^-16) and fp32 sums (2^-20);
         * fp16: each weight and the result rounded to fp16 (m · 2^-10) */
        if (fabs (out[i * N + r] - want) > (fp16 ? ldexp (mag, -9) : ldexp (mag, -16) + ldexp (mag, -20)) + 1e-30)
          g_error ("Q4_K %s %s: out[%zu, %zu] = %.9g, want %.9g (sum |w*x| %.3g)", want_uint4 ? "uint4" : "dense",
                   fp16 ? "fp16" : "fp32", i, r, out[i * N + r], want, mag);
      }
}

static void
test_q4_K_lowering (void)
{
  const gsize M = 3, N = 6, K = 512;
  g_autoptr(GRand) rand = g_rand_new_with_seed (415);
  g_autoptr(GBytes) blocks = q4_K_weights (N, K, rand);
  Q4KDiff diff = { 0 };

  /* the split's weights against ggml's */
  q4_K_diff (blocks, N * K, &diff);
  g_test_message ("Q4_K as uint4 * scale - offset: max |diff| %.3g (weights up to %.3g), max |diff| / (16*d1 + |m1|) "
                  "%.3g = %.2f * 2^-24", diff.max_abs, diff.max_weight, diff.max_rel, ldexp (diff.max_rel, 24));
  g_assert_cmpfloat (diff.max_rel, <=, Q4_K_TOLERANCE);

  /* iOS18: compressed, fp32 and fp16, one row (decode) and several */
  check_q4_K_linear (blocks, M, N, K, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, TRUE, rand);
  check_q4_K_linear (blocks, 1, N, K, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, TRUE, rand);
  check_q4_K_linear (blocks, M, N, K, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, TRUE, rand);
  /* before iOS18 (no constexpr_blockwise_shift_scale): the dense const */
  check_q4_K_linear (blocks, M, N, K, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT32, FALSE, rand);
}

/* A sub-block with d·sc == 0 but dmin·m != 0 (all its weights −m1) has no
 * offset: the whole weight keeps the dense path, and stays correct. */
static void
test_q4_K_unrepresentable (void)
{
  const gsize N = 2, K = 256;
  g_autoptr(GRand) rand = g_rand_new_with_seed (416);
  g_autoptr(GBytes) good = q4_K_weights (N, K, rand);
  gsize size;
  guint8 *b = g_bytes_unref_to_data (g_bytes_ref (good), &size);
  g_autoptr(GBytes) bad = NULL;
  g_autoptr(GBytes) data = NULL;
  g_autofree double *scale = NULL, *offset = NULL;

  /* block 1, sub-block 0: sc = scales[0] & 63 → 0, m = scales[4] & 63 → 5
   * (get_scale_min_k4, j < 4), dmin (bytes 2..3) = 0.25 */
  b[144 + 4] &= 0xc0;
  b[144 + 8] = (b[144 + 8] & 0xc0) | 5;
  b[144 + 2] = 0x00;
  b[144 + 3] = 0x34;
  bad = g_bytes_new_take (b, size);
  g_assert_false (ane_lower_split_q4_K (bad, 2, ANE_DTYPE_FLOAT32, &data, &scale, &offset));
  g_assert_null (data);
  g_assert_true (ane_lower_split_q4_K (good, 2, ANE_DTYPE_FLOAT32, &data, &scale, &offset));
  check_q4_K_linear (bad, 2, N, K, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, FALSE, rand);

  /* d = 2^-22 (an fp16 subnormal): d·sc below fp16's normals is refused for
   * an fp16 scale (a few bits left), kept for an fp32 one */
  {
    guint8 *t = g_bytes_unref_to_data (g_bytes_ref (good), &size);
    g_autoptr(GBytes) tiny = NULL;

    t[0] = 0x04;
    t[1] = 0x00;
    tiny = g_bytes_new_take (t, size);
    g_clear_pointer (&data, g_bytes_unref);
    g_clear_pointer (&scale, g_free);
    g_clear_pointer (&offset, g_free);
    g_assert_false (ane_lower_split_q4_K (tiny, 2, ANE_DTYPE_FLOAT16, &data, &scale, &offset));
    g_assert_true (ane_lower_split_q4_K (tiny, 2, ANE_DTYPE_FLOAT32, &data, &scale, &offset));
    g_assert_cmpfloat (scale[0], <, 0x1p-14);
  }
}

/* A Q4_K model (ane-gguf-synthetic.c, rows of 256 and 512) holds its
 * matrices as uint4: no dense float copy. ANE_TEST_Q4_K_GGUF=path also
 * measures the uint4 form's difference from ggml's weights on that file
 * (the 134M bench model: bench/llm.c writes it). */
static void
test_q4_K_memory (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-cpu-vec-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "q4_k.gguf", NULL);
  g_autoptr(AneLlamaModel) m = NULL;
  g_autoptr(AneGraph) g = NULL;
  g_autoptr(AneCpuBackend) backend = NULL;
  guint64 packed, dense, borrowed, q4_weights = 0, q4_bytes = 0;
  const char *names[] = { "wq", "wk", "wv", "wo", "w1", "w2", "w3" };
  Q4KDiff diff = { 0 };
  const char *bench_file = g_getenv ("ANE_TEST_Q4_K_GGUF");

  g_assert_no_error (error);
  g_assert_true (ane_gguf_write_synthetic_llama (path, &(AneGgufSyntheticLlama) {
                   .dim = 256, .hidden = 512, .layers = 2, .heads = 4, .kv_heads = 2, .vocab = 512,
                   .context = 64, .matrices = ANE_DTYPE_Q4_K, .seed = 15 }, &error));
  g_assert_no_error (error);
  m = ane_llama_model_load_gguf (path, &error);
  g_assert_no_error (error);
  for (gint64 l = 0; l < ane_llama_model_get_n_layers (m); l++)
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autofree char *name = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", l, names[i]);
        AneTensor *w = ane_llama_model_get_weight (m, name);

        g_assert_cmpint (ane_tensor_get_dtype (w), ==, ANE_DTYPE_Q4_K);
        q4_weights += ane_tensor_get_n_elements (w);
      }
  g_assert_cmpint (ane_tensor_get_dtype (ane_llama_model_get_weight (m, "output")), ==, ANE_DTYPE_Q4_K);
  q4_weights += ane_tensor_get_n_elements (ane_llama_model_get_weight (m, "output"));
  /* the token embedding stays in its blocks too: the gather dequantizes
   * the rows it picks (no float table) */
  g_assert_cmpint (ane_tensor_get_dtype (ane_llama_model_get_weight (m, "token_embedding")), ==, ANE_DTYPE_Q4_K);
  q4_weights += ane_tensor_get_n_elements (ane_llama_model_get_weight (m, "token_embedding"));
  q4_bytes = q4_weights / 256 * 144;
  q4_K_model_diff (m, &diff);
  g_assert_cmpfloat (diff.max_rel, <=, Q4_K_TOLERANCE);

  g = ane_llama_model_build_decode (m, 16, &error);
  g_assert_no_error (error);
  backend = ane_cpu_backend_new_for_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, NULL, 0, &error);
  g_assert_no_error (error);
  ane_cpu_plan_get_const_bytes (ane_cpu_backend_get_plan (backend), &packed, &dense, &borrowed);
  g_test_message ("Q4_K synthetic LLaMA (%" G_GUINT64_FORMAT " bytes in Q4_K matrices): plan holds %" G_GUINT64_FORMAT
                  " packed, %" G_GUINT64_FORMAT " dense, %" G_GUINT64_FORMAT " borrowed; uint4 vs ggml max |diff| / "
                  "(16*d1 + |m1|) = %.2f * 2^-24", q4_bytes, packed, dense, borrowed, ldexp (diff.max_rel, 24));
  /* every matrix used where the file holds its blocks (borrowed, and the
   * lowered program holds no split copy), the plan's own bytes an fp32
   * scale and offset per 32 (8 bytes per 32 weights beside the file's 18) */
  g_assert_cmpuint (packed, ==, q4_weights / 32 * 8);
  g_assert_cmpuint (borrowed, >=, q4_bytes);
  /* what stays dense: norms, rope tables, masks — no float table of the
   * embedding (it alone would be 4 bytes a weight) */
  g_assert_cmpuint (dense, <, ane_tensor_get_n_elements (ane_llama_model_get_weight (m, "token_embedding")));
  g_unlink (path);
  g_rmdir (dir);

  if (bench_file != NULL && *bench_file != '\0')
    {
      g_autoptr(AneLlamaModel) big = ane_llama_model_load_gguf (bench_file, &error);
      Q4KDiff bdiff = { 0 };

      g_assert_no_error (error);
      q4_K_model_diff (big, &bdiff);
      g_test_message ("%s: %" G_GUINT64_FORMAT " Q4_K weights, uint4 vs ggml: max |diff| %.3g (weights up to %.3g), "
                      "max |diff| / (16*d1 + |m1|) %.3g = %.2f * 2^-24", bench_file, bdiff.n, bdiff.max_abs,
                      bdiff.max_weight, bdiff.max_rel, ldexp (bdiff.max_rel, 24));
      g_assert_cmpfloat (bdiff.max_rel, <=, Q4_K_TOLERANCE);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/cpu/vec/kernels", test_kernels);
  g_test_add_func ("/ane/cpu/vec/isa-env", test_isa_env);
  g_test_add_func ("/ane/cpu/vec/pack-refuses", test_pack_refuses);
  g_test_add_func ("/ane/cpu/vec/blocks-kernels", test_blocks_kernels);
  g_test_add_func ("/ane/cpu/vec/constexpr-once-fp32", test_constexpr_once_fp32);
  g_test_add_func ("/ane/cpu/vec/constexpr-once-fp16", test_constexpr_once_fp16);
  g_test_add_func ("/ane/cpu/vec/fp16-matmul", test_fp16_matmul);
  g_test_add_func ("/ane/cpu/vec/affine-linear", test_affine_linear);
  g_test_add_func ("/ane/cpu/vec/q8-0-memory", test_q8_0_memory);
  g_test_add_func ("/ane/cpu/vec/q4-0-memory", test_q4_0_memory);
  g_test_add_func ("/ane/cpu/vec/f16-memory", test_f16_memory);
  g_test_add_func ("/ane/cpu/vec/uint4-gather", test_uint4_gather);
  g_test_add_func ("/ane/cpu/vec/q4-k-lowering", test_q4_K_lowering);
  g_test_add_func ("/ane/cpu/vec/q4-k-unrepresentable", test_q4_K_unrepresentable);
  g_test_add_func ("/ane/cpu/vec/q4-k-memory", test_q4_K_memory);
  return g_test_run ();
}
