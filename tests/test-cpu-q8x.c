/* test-cpu-q8x.c: GGUF Q8_0 / Q4_0 / Q4_K products on 8-bit activations (opt-in)
 *
 * AneExecutable:quantize-activations makes the CPU backend multiply GGUF
 * Q8_0, Q4_0 and Q4_K weights as llama.cpp does: each block of 32 activations
 * quantized to 8 bits, the block's products summed in integers
 * (runtime/cpu/ane-cpu-vec-q8x-private.h). Checked here:
 *
 *  - every ISA's kernels give the bits of this file's own reading of the
 *    documented order (quantizer, lanes, fused multiply-adds, tree), on odd
 *    shapes: one row, rows no multiple of anything, an odd number of
 *    blocks, one to five activation rows;
 *  - the results are within the quantization's bound of the exact product
 *    (each activation moves by at most half its block's step) and are not
 *    the float kernels' (the setting does something);
 *  - the same bits for 1..4 threads; prompt-sized products (64 rows) of
 *    blocks as the file holds them keep float activations; regrouped
 *    weights (16 rows at a time, what an executable makes of Q8_0 / Q4_0)
 *    give the bits of their own order at every size; non-finite activations give NaN, tiny blocks 0;
 *  - the setting through AneExecutable: property, environment variable,
 *    stories260K as Q8_0 / Q4_0 and a synthetic Q4_K LLaMA, whose logits
 *    move by little.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-test-gguf.h"
#include "gguf/ane-gguf-writer-private.h"
#include "ane-reference-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"
#include "runtime/cpu/ane-cpu-vec-q8x-private.h"

/* A random weight of kind [rows, cols] and what the reference reads of it:
 * each weight's integer (Q8_0: q; Q4_0: the nibble − 8; Q4_K: the
 * nibble), each block's scale (d, or Q4_K's scale) and offset (Q4_K's, a
 * multiple of 2^-18 below 15 as the lowering rounds them; else 0), and the
 * dense weights. */
typedef struct {
  AneCpuPacked *p;
  gint32       *wint;
  float        *scale, *offset, *w;
} Weight;

static void
weight_clear (Weight *w)
{
  ane_cpu_packed_free (w->p);
  g_free (w->wint);
  g_free (w->scale);
  g_free (w->offset);
  g_free (w->w);
}

static Weight
random_weight (AneCpuPackedKind kind,
               gsize            rows,
               gsize            cols,
               GRand           *rand)
{
  gsize n_blocks = rows * cols / 32;
  gsize bytes = kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? n_blocks * 34
                : kind == ANE_CPU_PACKED_Q4_0_BLOCKS ? n_blocks * 18 : n_blocks / 8 * 144;
  guint8 *b = g_malloc (bytes);
  g_autoptr(GBytes) gb = NULL;
  Weight w = { NULL, g_new (gint32, rows * cols), g_new (float, n_blocks), g_new0 (float, n_blocks),
               g_new (float, rows * cols) };

  for (gsize i = 0; i < bytes; i++)
    b[i] = (guint8) g_rand_int_range (rand, 0, 256);
  /* Q4_K's own d and dmin (what a regrouped copy reads): positive fp16 in
   * [2^-10, 2^-6) */
  if (kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
    for (gsize i = 0; i < bytes; i += 144)
      for (guint k = 0; k < 2; k++)
        {
          guint16 h = (guint16) g_rand_int_range (rand, 0x1400, 0x2400);

          b[i + 2 * k] = (guint8) h;
          b[i + 2 * k + 1] = (guint8) (h >> 8);
        }
  for (gsize i = 0; i < n_blocks; i++)
    {
      guint16 h = (guint16) g_rand_int_range (rand, 0x1400, 0x3c00) | (g_rand_boolean (rand) ? 0x8000 : 0);

      if (kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
        {
          w.scale[i] = (float) g_rand_double_range (rand, 0.001, 0.1);
          w.offset[i] = (float) ldexp (floor (ldexp (g_rand_double_range (rand, 0.0, 15.0), 18)), -18);
          continue;
        }
      w.scale[i] = ane_half_to_float (h);
      b[i * (kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? 34 : 18)] = (guint8) h;
      b[i * (kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? 34 : 18) + 1] = (guint8) (h >> 8);
    }
  for (gsize k = 0; k < rows * cols; k++)
    {
      gsize blk = k / 32, c = k % 32;

      if (kind == ANE_CPU_PACKED_Q8_0_BLOCKS)
        w.wint[k] = (gint8) b[blk * 34 + 2 + c];
      else if (kind == ANE_CPU_PACKED_Q4_0_BLOCKS)
        w.wint[k] = (c < 16 ? b[blk * 18 + 2 + c] & 15 : b[blk * 18 + 2 + c - 16] >> 4) - 8;
      else
        {
          /* 144 bytes a 256 weights: d, dmin, 12 bytes of scales, then 32
           * bytes per 64 weights, the first 32 in low nibbles */
          const guint8 *qs = b + k / 256 * 144 + 16 + (k % 256) / 64 * 32;

          w.wint[k] = k % 64 < 32 ? qs[k % 64] & 15 : qs[k % 64 - 32] >> 4;
        }
      w.w[k] = w.scale[blk] * ((float) w.wint[k] - w.offset[blk]);
    }
  gb = g_bytes_new_take (b, bytes);
  w.p = kind == ANE_CPU_PACKED_Q4_K_BLOCKS ? ane_cpu_packed_new_q4_K_blocks (rows, cols, gb, w.scale, w.offset, FALSE)
                                           : ane_cpu_packed_new_blocks (kind, rows, cols, gb, FALSE);
  g_assert_nonnull (w.p);
  return w;
}

/* The header's quantizer, written again: dx = max |x| / 127, q = x · (127
 * / max |x|) to the nearest, ties to even. */
static float
ref_quantize (const float *x,
              gint8       *q)
{
  float amax = 0.0f;

  for (guint t = 0; t < 32; t++)
    amax = MAX (amax, fabsf (x[t]));
  if (amax < 1e-30f)
    {
      memset (q, 0, 32);
      return 0.0f;
    }
  for (guint t = 0; t < 32; t++)
    q[t] = (gint8) nearbyintf (x[t] * (127.0f / amax));
  return amax / 127.0f;
}

/* The header's sum for weight row r, written again. */
static float
ref_row (const Weight *w,
         gsize         r,
         const float  *x)
{
  gsize cols = w->p->cols, nb = cols / 32;
  float lanes[16] = { 0 }, offs[16] = { 0 };

  for (gsize b = 0; b < nb; b++)
    {
      gint8 q[32];
      float dx = ref_quantize (x + 32 * b, q);
      float s = w->scale[r * nb + b] * dx, so = s * w->offset[r * nb + b];

      for (guint j = 0; j < 8; j++)
        {
          gint32 sum = 0, qs = 0;

          for (guint t = 4 * j; t < 4 * j + 4; t++)
            {
              sum += w->wint[r * cols + 32 * b + t] * q[t];
              qs += q[t];
            }
          lanes[8 * (b % 2) + j] = fmaf ((float) sum, s, lanes[8 * (b % 2) + j]);
          if (w->p->kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
            offs[8 * (b % 2) + j] = fmaf (-(float) qs, so, offs[8 * (b % 2) + j]);
        }
    }
  if (w->p->kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
    for (guint j = 0; j < 16; j++)
      lanes[j] += offs[j];
  for (guint step = 8; step >= 1; step /= 2)
    for (guint j = 0; j < step; j++)
      lanes[j] += lanes[j + step];
  return lanes[0];
}

static void
test_kernels (void)
{
  static const struct { AneCpuPackedKind kind; gsize rows, cols; } cases[] = {
    { ANE_CPU_PACKED_Q8_0_BLOCKS, 37, 256 }, { ANE_CPU_PACKED_Q4_0_BLOCKS, 37, 256 },
    { ANE_CPU_PACKED_Q8_0_BLOCKS, 1, 32 },   { ANE_CPU_PACKED_Q4_0_BLOCKS, 1, 32 },
    { ANE_CPU_PACKED_Q8_0_BLOCKS, 9, 96 },   { ANE_CPU_PACKED_Q4_0_BLOCKS, 5, 800 },
    { ANE_CPU_PACKED_Q8_0_BLOCKS, 13, 160 }, { ANE_CPU_PACKED_Q4_0_BLOCKS, 13, 160 },
    { ANE_CPU_PACKED_Q4_K_BLOCKS, 1, 256 },  { ANE_CPU_PACKED_Q4_K_BLOCKS, 11, 768 },
  };
  static const gsize ms[] = { 1, 2, 5 };
  static const AneCpuVecIsa isas[] = { ANE_CPU_VEC_ISA_PORTABLE, ANE_CPU_VEC_ISA_AVX2, ANE_CPU_VEC_ISA_AVX512 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (15);
  guint n_isas = 0;

  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      gsize rows = cases[c].rows, cols = cases[c].cols, nb = cols / 32;
      Weight w = random_weight (cases[c].kind, rows, cols, rand);
      AneCpuPacked *p = w.p;

      g_assert_true (ane_cpu_q8x_fits (p));
      for (gsize j = 0; j < G_N_ELEMENTS (ms); j++)
        {
          gsize m = ms[j], differ = 0;
          g_autofree float *x = g_new (float, m * cols);
          g_autofree float *bias = g_new (float, rows);
          g_autofree float *want = g_new (float, m * rows);
          g_autofree float *got = g_new (float, m * rows);
          g_autofree float *plain = g_new (float, m * rows);

          for (gsize k = 0; k < m * cols; k++)
            x[k] = (float) g_rand_double_range (rand, -1.0, 1.0) * (k % 64 < 32 ? 1.0f : 1e-3f);
          for (gsize k = 0; k < rows; k++)
            bias[k] = (float) g_rand_double_range (rand, -1.0, 1.0);
          for (gsize i = 0; i < m; i++)
            for (gsize r = 0; r < rows; r++)
              want[i * rows + r] = ref_row (&w, r, x + i * cols) + bias[r];
          p->quantize_activations = FALSE;
          ane_cpu_packed_matmul (p, x, m, bias, plain);
          p->quantize_activations = TRUE;
          n_isas = 0;
          for (guint t = 0; t < G_N_ELEMENTS (isas); t++)
            {
              if (!ane_cpu_vec_set_isa (isas[t]))
                continue;
              n_isas++;
              memset (got, 0, m * rows * sizeof (float));
              ane_cpu_packed_matmul (p, x, m, bias, got);
              g_assert_cmpmem (got, m * rows * sizeof (float), want, m * rows * sizeof (float));
            }
          ane_cpu_vec_set_isa (ANE_CPU_VEC_ISA_DEFAULT);
          /* within the quantization's bound of the exact product: each
           * activation moves by at most half its block's step dx / 2 */
          for (gsize i = 0; i < m; i++)
            for (gsize r = 0; r < rows; r++)
              {
                double exact = bias[r], bound = 0.0, mag = fabs (bias[r]);

                for (gsize b = 0; b < nb; b++)
                  {
                    const float *xb = x + i * cols + 32 * b;
                    const float *wb = w.w + r * cols + 32 * b;
                    float amax = 0.0f;
                    double wsum = 0.0;

                    for (guint t = 0; t < 32; t++)
                      {
                        amax = MAX (amax, fabsf (xb[t]));
                        wsum += fabs (wb[t]);
                        exact += (double) wb[t] * xb[t];
                        mag += fabs ((double) wb[t] * xb[t]);
                      }
                    bound += 0.5001 * (amax / 127.0) * wsum;
                  }
                g_assert_cmpfloat (fabs (got[i * rows + r] - exact), <=, bound + ldexp (mag, -18));
                differ += got[i * rows + r] != plain[i * rows + r];
              }
          /* the setting changed the arithmetic */
          g_assert_cmpuint (differ, >, 0);
        }
      weight_clear (&w);
    }
  g_assert_cmpuint (n_isas, >=, 1);
  g_test_message ("q8x kernels checked on %u ISA(s); the dispatch runs %s", n_isas, ane_cpu_q8x_kernel_isa ());
}

/* The regrouped layout's own order (ane-cpu-vec-r16.c), written again:
 * per row one float, block b adding (float) I · (d · dx) in a fused
 * multiply-add. */
static float
ref_row_r16 (const Weight *w,
             gsize         r,
             const float  *x)
{
  gsize cols = w->p->cols, nb = cols / 32;
  float acc = 0.0f;

  for (gsize b = 0; b < nb; b++)
    {
      gint8 q[32];
      float dx = ref_quantize (x + 32 * b, q);
      gint32 sum = 0;

      for (guint t = 0; t < 32; t++)
        sum += w->wint[r * cols + 32 * b + t] * q[t];
      acc = fmaf ((float) sum, w->scale[r * nb + b] * dx, acc);
    }
  return acc;
}

/* Q4_K regrouped: ggml's arithmetic on the block's own d, dmin and 6-bit
 * scales and mins (ane-cpu-vec-r16.c), written again: per row a sum and
 * an offsets' sum, sub-block b adding (float) I · ((d · sc) · dx) to the
 * first and (float) Σq · ((dmin · m) · dx) to the second. */
static float
ref_row_r16_q4_K (const Weight *w,
                  gsize         r,
                  const float  *x)
{
  gsize cols = w->p->cols;
  const guint8 *row = w->p->q + r * w->p->row_bytes;
  float acc = 0.0f, off = 0.0f;

  for (gsize b = 0; b < cols / 32; b++)
    {
      const guint8 *blk = row + b / 8 * 144;
      gint8 q[32];
      float dx = ref_quantize (x + 32 * b, q);
      float d = ane_half_to_float ((guint16) (blk[0] | blk[1] << 8));
      float dmin = ane_half_to_float ((guint16) (blk[2] | blk[3] << 8));
      int sc, mn;
      gint32 sum = 0, qs = 0;

      ane_q4_K_scale_min ((int) (b % 8), blk + 4, &sc, &mn);
      for (guint t = 0; t < 32; t++)
        {
          sum += w->wint[r * cols + 32 * b + t] * q[t];
          qs += q[t];
        }
      acc = fmaf ((float) sum, (d * (float) sc) * dx, acc);
      off = fmaf ((float) qs, (dmin * (float) mn) * dx, off);
    }
  return acc - off;
}

/* Q8_0 / Q4_0 / Q4_K blocks regrouped 16 rows at a time: their rows read
 * back as the blocks' (Q4_K: as ggml's; fp32 and fp16 programs), every ISA's products the bits of
 * the order above for any number of activation rows (a prompt's too), on
 * rows no multiple of 16; the same for 1..4 threads; one copy per process
 * for the same blocks. */
static void
test_regrouped (void)
{
  static const struct { AneCpuPackedKind kind; gsize rows, cols; } cases[] = {
    { ANE_CPU_PACKED_Q8_0_BLOCKS, 37, 256 }, { ANE_CPU_PACKED_Q4_0_BLOCKS, 37, 256 },
    { ANE_CPU_PACKED_Q8_0_BLOCKS, 1, 32 },   { ANE_CPU_PACKED_Q4_0_BLOCKS, 1, 32 },
    { ANE_CPU_PACKED_Q8_0_BLOCKS, 16, 96 },  { ANE_CPU_PACKED_Q4_0_BLOCKS, 17, 800 },
    { ANE_CPU_PACKED_Q4_K_BLOCKS, 1, 256 },  { ANE_CPU_PACKED_Q4_K_BLOCKS, 19, 512 },
  };
  static const gsize ms[] = { 1, 3, 70 };
  static const AneCpuVecIsa isas[] = { ANE_CPU_VEC_ISA_PORTABLE, ANE_CPU_VEC_ISA_AVX2, ANE_CPU_VEC_ISA_AVX512 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (21);

  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      gsize rows = cases[c].rows, cols = cases[c].cols;
      Weight w = random_weight (cases[c].kind, rows, cols, rand);
      AneCpuPacked *r16 = ane_cpu_packed_new_r16 (w.p), *again = ane_cpu_packed_new_r16 (w.p);
      g_autofree float *a = g_new (float, cols), *b = g_new (float, cols);

      g_assert_nonnull (r16);
      gboolean q4_K = cases[c].kind == ANE_CPU_PACKED_Q4_K_BLOCKS;

      g_assert_cmpint (r16->kind, ==, cases[c].kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? ANE_CPU_PACKED_Q8_0_R16
                                      : q4_K ? ANE_CPU_PACKED_Q4_K_R16 : ANE_CPU_PACKED_Q4_0_R16);
      /* one copy for the same blocks, about the file's bytes in size
       * (Q4_K: its 6-bit scales and mins a byte each, 2368 bytes for 16
       * blocks of 144) */
      g_assert_true (again->q == r16->q);
      g_assert_cmpuint (ane_cpu_packed_bytes (r16), ==,
                        q4_K ? (rows + 15) / 16 * (cols / 256) * 2368
                             : (rows + 15) / 16 * 16 * cols / 32 * (cases[c].kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? 34 : 18));
      ane_cpu_packed_free (again);
      for (int r16fp = 0; r16fp < 2; r16fp++)
        {
          w.p->round_fp16 = r16->round_fp16 = r16fp;
          for (gsize r = 0; r < rows; r++)
            {
              /* Q4_K: ggml's values (ane_dequant_blocks_f32 is bit-exact
               * with ggml's dequantize_row_q4_K), as the regrouped
               * kernels compute with them */
              if (q4_K)
                {
                  g_assert_true (ane_dequant_blocks_f32 (ANE_DTYPE_Q4_K, w.p->q + r * w.p->row_bytes, w.p->row_bytes,
                                                         cols, a, NULL));
                  if (r16fp)
                    for (gsize k = 0; k < cols; k++)
                      a[k] = ane_half_to_float (ane_float_to_half (a[k]));
                }
              else
                ane_cpu_packed_dequantize_row (w.p, r, a);
              ane_cpu_packed_dequantize_row (r16, r, b);
              g_assert_cmpmem (a, cols * sizeof (float), b, cols * sizeof (float));
            }
        }
      w.p->round_fp16 = r16->round_fp16 = FALSE;
      for (gsize j = 0; j < G_N_ELEMENTS (ms); j++)
        {
          gsize m = ms[j];
          g_autofree float *x = g_new (float, m * cols);
          g_autofree float *bias = g_new (float, rows);
          g_autofree float *want = g_new (float, m * rows);
          g_autofree float *got = g_new (float, m * rows);

          for (gsize k = 0; k < m * cols; k++)
            x[k] = (float) g_rand_double_range (rand, -1.0, 1.0) * (k % 96 < 32 ? 1.0f : 1e-2f);
          for (gsize k = 0; k < rows; k++)
            bias[k] = (float) g_rand_double_range (rand, -1.0, 1.0);
          for (gsize i = 0; i < m; i++)
            for (gsize r = 0; r < rows; r++)
              want[i * rows + r] = (q4_K ? ref_row_r16_q4_K (&w, r, x + i * cols) : ref_row_r16 (&w, r, x + i * cols))
                                   + bias[r];
          for (guint t = 0; t < G_N_ELEMENTS (isas); t++)
            {
              if (!ane_cpu_vec_set_isa (isas[t]))
                continue;
              for (guint threads = 1; threads <= (t == G_N_ELEMENTS (isas) - 1 ? 4u : 1u); threads++)
                {
                  ane_cpu_set_n_threads (threads);
                  memset (got, 0, m * rows * sizeof (float));
                  ane_cpu_packed_matmul (r16, x, m, bias, got);
                  g_assert_cmpmem (got, m * rows * sizeof (float), want, m * rows * sizeof (float));
                }
              ane_cpu_set_n_threads (0);
            }
          ane_cpu_vec_set_isa (ANE_CPU_VEC_ISA_DEFAULT);
        }
      ane_cpu_packed_free (r16);
      weight_clear (&w);
    }
}

/* One to four threads: the same bits (each output is one thread's, summed
 * in the one order). A prompt-sized product (64 rows) keeps float
 * activations: the bits of the setting off. */
static void
test_threads_and_prompt (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  gsize rows = 300, cols = 256;
  Weight w = random_weight (ANE_CPU_PACKED_Q4_0_BLOCKS, rows, cols, rand);
  AneCpuPacked *p = w.p;
  g_autofree float *x = g_new (float, 64 * cols);
  g_autofree float *one = g_new (float, 3 * rows), *got = g_new (float, 3 * rows);
  g_autofree float *plain = g_new (float, 64 * rows), *big = g_new (float, 64 * rows);

  for (gsize k = 0; k < 64 * cols; k++)
    x[k] = (float) g_rand_double_range (rand, -2.0, 2.0);
  p->quantize_activations = TRUE;
  ane_cpu_set_n_threads (1);
  ane_cpu_packed_matmul (p, x, 3, NULL, one);
  for (guint t = 2; t <= 4; t++)
    {
      ane_cpu_set_n_threads (t);
      ane_cpu_packed_matmul (p, x, 3, NULL, got);
      g_assert_cmpmem (got, 3 * rows * sizeof (float), one, 3 * rows * sizeof (float));
    }
  ane_cpu_set_n_threads (0);
  ane_cpu_packed_matmul (p, x, 64, NULL, big);
  p->quantize_activations = FALSE;
  ane_cpu_packed_matmul (p, x, 64, NULL, plain);
  g_assert_cmpmem (big, 64 * rows * sizeof (float), plain, 64 * rows * sizeof (float));
  weight_clear (&w);
}

/* A NaN or an infinity in a block makes every output that reads it NaN,
 * as in float; a block of values below 1e-30 quantizes to zeros. */
static void
test_nonfinite (void)
{
  static const AneCpuVecIsa isas[] = { ANE_CPU_VEC_ISA_PORTABLE, ANE_CPU_VEC_ISA_AVX2, ANE_CPU_VEC_ISA_AVX512 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  gsize rows = 5, cols = 96;

  for (int q8 = 0; q8 < 2; q8++)
    {
      Weight w = random_weight (q8 ? ANE_CPU_PACKED_Q8_0_BLOCKS : ANE_CPU_PACKED_Q4_0_BLOCKS, rows, cols, rand);
      AneCpuPacked *p = w.p;
      float x[3 * 96], out[3 * 5], tiny_out[5];

      for (gsize k = 0; k < G_N_ELEMENTS (x); k++)
        x[k] = (float) g_rand_double_range (rand, -1.0, 1.0);
      x[40] = NAN;
      x[96 + 70] = INFINITY;
      p->quantize_activations = TRUE;
      for (guint t = 0; t < G_N_ELEMENTS (isas); t++)
        {
          if (!ane_cpu_vec_set_isa (isas[t]))
            continue;
          ane_cpu_packed_matmul (p, x, 3, NULL, out);
          for (gsize r = 0; r < rows; r++)
            {
              g_assert_true (isnan (out[r]));
              g_assert_true (isnan (out[rows + r]));
              g_assert_true (isfinite (out[2 * rows + r]));
            }
          /* row 3: its middle block tiny, the others zero */
          for (gsize k = 0; k < cols; k++)
            x[2 * cols + k] = k >= 32 && k < 64 ? 1e-31f : 0.0f;
          ane_cpu_packed_matmul (p, x + 2 * cols, 1, NULL, tiny_out);
          for (gsize r = 0; r < rows; r++)
            g_assert_cmpfloat (tiny_out[r], ==, 0.0f);
          for (gsize k = 0; k < cols; k++)
            x[2 * cols + k] = (float) g_rand_double_range (rand, -1.0, 1.0);
        }
      ane_cpu_vec_set_isa (ANE_CPU_VEC_ISA_DEFAULT);
      weight_clear (&w);
    }
}

static float *
decode_logits (AneGraph *g,
               gboolean  quantize,
               gsize    *n_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_CPU);
  static const gint32 tokens[] = { 1, 403, 407, 65 };
  gboolean prop = !quantize;

  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  g_object_set (exe, "quantize-activations", quantize, NULL);
  g_object_get (exe, "quantize-activations", &prop, NULL);
  g_assert_true (prop == quantize);
  g_assert_true (ane_executable_get_quantize_activations (exe) == quantize);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  return ane_test_decode_logits (exe, tokens, G_N_ELEMENTS (tokens), n_out);
}

/* stories260K as Q8_0 and Q4_0 GGUF: with the setting on, the logits of a
 * few decode steps move, but by little next to their spread (the largest
 * move is 1–2 % of the largest logit); each step's pick is the float one or
 * a near tie of it. */
static void
model_logits_at (const char *path,
                 const char *label)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = ane_llama_model_load_gguf (path, &error);
  g_autoptr(AneGraph) g = NULL;
  g_autofree float *plain = NULL, *quantized = NULL;
  gsize n_plain = 0, n_q = 0, vocab, differ = 0;
  double max_diff = 0.0, spread = 0.0;

  g_assert_no_error (error);
  g = ane_llama_model_build_decode (m, 16, &error);
  g_assert_no_error (error);
  plain = decode_logits (g, FALSE, &n_plain);
  quantized = decode_logits (g, TRUE, &n_q);
  g_assert_cmpuint (n_plain, ==, n_q);
  vocab = n_plain / 4;
  for (gsize i = 0; i < n_plain; i++)
    {
      max_diff = MAX (max_diff, fabs (plain[i] - quantized[i]));
      spread = MAX (spread, fabs (plain[i]));
      differ += plain[i] != quantized[i];
    }
  /* each step's pick is the float one or a near tie of it: the token the
   * quantized logits pick is within twice the largest move of the best */
  for (gsize s = 0; s < 4; s++)
    {
      gsize best_p = 0, best_q = 0;

      for (gsize k = 1; k < vocab; k++)
        {
          best_p = plain[s * vocab + k] > plain[s * vocab + best_p] ? k : best_p;
          best_q = quantized[s * vocab + k] > quantized[s * vocab + best_q] ? k : best_q;
        }
      g_assert_cmpfloat (plain[s * vocab + best_p] - plain[s * vocab + best_q], <=, 2 * max_diff);
    }
  g_test_message ("%s: logits moved by at most %g (largest |logit| %g), %zu of %zu differ", label, max_diff,
                  spread, differ, n_plain);
  g_assert_cmpuint (differ, >, 0);
  g_assert_cmpfloat (max_diff, <, 0.05 * spread);
}

static void
model_logits (AneDType quant)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-cpu-q8x-XXXXXX", &error);
  g_autofree char *path = ane_test_write_stories_gguf (dir, "q.gguf", &(AneTestGgufVariant) { .arch = "llama",
                                                                                             .quant = quant });

  g_assert_no_error (error);
  model_logits_at (path, ane_dtype_to_string (quant));
  ane_test_remove_tree (dir);
}

static void
test_model_q8_0 (void)
{
  model_logits (ANE_DTYPE_Q8_0);
}

static void
test_model_q4_0 (void)
{
  model_logits (ANE_DTYPE_Q4_0);
}

/* Q4_K: a synthetic LLaMA of dim 256 (stories260K's rows are too short
 * for Q4_K's 256-weight blocks), every matrix Q4_K. */
static void
test_model_q4_K (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-cpu-q8x-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "q4_k.gguf", NULL);

  g_assert_no_error (error);
  g_assert_true (ane_gguf_write_synthetic_llama (path, &(AneGgufSyntheticLlama) {
                   .dim = 256, .hidden = 512, .layers = 2, .heads = 4, .kv_heads = 2, .vocab = 512,
                   .context = 64, .matrices = ANE_DTYPE_Q4_K, .seed = 15 }, &error));
  g_assert_no_error (error);
  model_logits_at (path, "q4_K");
  /* the float path against the reference backend: the embedding's rows,
   * read from the file with pread (ane_cpu_gather_packed), are the
   * right ones with their own scales */
  {
    g_autoptr(AneLlamaModel) m = ane_llama_model_load_gguf (path, &error);
    g_autoptr(AneGraph) g = NULL;
    g_autoptr(AneExecutable) cpu = NULL, ref = NULL;
    static const gint32 tokens[] = { 1, 300, 17, 511 };
    g_autofree float *a = NULL, *b = NULL;
    gsize na = 0, nb = 0;
    double worst = 0.0, spread = 0.0;

    g_assert_no_error (error);
    g = ane_llama_model_build_decode (m, 16, &error);
    g_assert_no_error (error);
    cpu = ane_executable_new (g, ANE_BACKEND_CPU);
    ref = ane_executable_new (g, ANE_BACKEND_REFERENCE);
    ane_executable_set_precision (cpu, ANE_PRECISION_FLOAT32);
    ane_executable_set_precision (ref, ANE_PRECISION_FLOAT32);
    g_assert_true (ane_executable_compile (cpu, NULL, &error));
    g_assert_true (ane_executable_compile (ref, NULL, &error));
    g_assert_no_error (error);
    a = ane_test_decode_logits (cpu, tokens, G_N_ELEMENTS (tokens), &na);
    b = ane_test_decode_logits (ref, tokens, G_N_ELEMENTS (tokens), &nb);
    g_assert_cmpuint (na, ==, nb);
    for (gsize i = 0; i < na; i++)
      {
        worst = MAX (worst, fabs (a[i] - b[i]));
        spread = MAX (spread, fabs (b[i]));
      }
    g_test_message ("q4_K, float activations: CPU against the reference backend, max |diff| %g (largest %g)",
                    worst, spread);
    g_assert_cmpfloat (worst, <=, 1e-3 * spread);
  }
  ane_test_remove_tree (dir);
}

static void
count_notify (guint *count)
{
  (*count)++;
}

/* Off by default; ANE_CPU_QUANTIZE_ACTIVATIONS=1 turns it on for the
 * executables made afterwards; the property notifies only on change. */
static void
test_property (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneExecutable) a = ane_executable_new (g, ANE_BACKEND_CPU), b = NULL;
  guint notified = 0;

  g_assert_false (ane_executable_get_quantize_activations (a));
  g_signal_connect_swapped (a, "notify::quantize-activations", G_CALLBACK (count_notify), &notified);
  ane_executable_set_quantize_activations (a, TRUE);
  ane_executable_set_quantize_activations (a, TRUE);
  g_assert_cmpuint (notified, ==, 1);
  ane_executable_set_quantize_activations (a, FALSE);
  g_assert_cmpuint (notified, ==, 2);
  g_setenv ("ANE_CPU_QUANTIZE_ACTIVATIONS", "1", TRUE);
  b = ane_executable_new (g, ANE_BACKEND_CPU);
  g_unsetenv ("ANE_CPU_QUANTIZE_ACTIVATIONS");
  g_assert_true (ane_executable_get_quantize_activations (b));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/cpu/q8x/kernels", test_kernels);
  g_test_add_func ("/ane/cpu/q8x/regrouped", test_regrouped);
  g_test_add_func ("/ane/cpu/q8x/threads-and-prompt", test_threads_and_prompt);
  g_test_add_func ("/ane/cpu/q8x/nonfinite", test_nonfinite);
  g_test_add_func ("/ane/cpu/q8x/model-q8_0", test_model_q8_0);
  g_test_add_func ("/ane/cpu/q8x/model-q4_0", test_model_q4_0);
  g_test_add_func ("/ane/cpu/q8x/model-q4_K", test_model_q4_K);
  g_test_add_func ("/ane/cpu/q8x/property", test_property);
  return g_test_run ();
}
