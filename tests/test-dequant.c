/* test-dequant.c: the fast float dequantization of GGUF blocks
 *
 * ane_dequant_blocks_f32 must give exactly the values of ane_dequant_blocks
 * (the reference evaluator's, bit-exact with ggml): for every block type,
 * seeded random blocks (fp16 scales kept finite, subnormals included) are
 * dequantized both ways and the floats compared with memcmp against the
 * doubles rounded to float (which they are exactly). Also: sizes that are
 * not whole blocks, too few bytes, unsupported dtypes, and that nothing is
 * written past n_elements. The checks run on the rows the CPU gets (the
 * AVX2/F16C ones of ane-quant-avx2.c where it has both) and again on the
 * portable C rows, forced with ane_dequant_force_portable; and the choice
 * itself is checked against the CPU's features.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-reference-private.h"
#include "ane-quant-simd-private.h"

#if defined(__x86_64__) && defined(__GNUC__)
# include <cpuid.h>
#endif

static const AneDType block_types[] = {
  ANE_DTYPE_Q8_0, ANE_DTYPE_Q4_0, ANE_DTYPE_Q4_1, ANE_DTYPE_Q5_0, ANE_DTYPE_Q5_1,
  ANE_DTYPE_Q2_K, ANE_DTYPE_Q3_K, ANE_DTYPE_Q4_K, ANE_DTYPE_Q5_K, ANE_DTYPE_Q6_K,
  ANE_DTYPE_Q8_K,
};

/* Offsets of the fp16 scale fields of a block (-1 ends), and of the float
 * scale of Q8_K. */
static const int *
half_fields (AneDType dtype)
{
  static const int at0[] = { 0, -1 }, at01[] = { 0, 2, -1 }, q2k[] = { 80, 82, -1 },
                   q3k[] = { 108, -1 }, q6k[] = { 208, -1 }, none[] = { -1 };

  switch (dtype)
    {
    case ANE_DTYPE_Q8_0: case ANE_DTYPE_Q4_0: case ANE_DTYPE_Q5_0: return at0;
    case ANE_DTYPE_Q4_1: case ANE_DTYPE_Q5_1: case ANE_DTYPE_Q4_K: case ANE_DTYPE_Q5_K: return at01;
    case ANE_DTYPE_Q2_K: return q2k;
    case ANE_DTYPE_Q3_K: return q3k;
    case ANE_DTYPE_Q6_K: return q6k;
    default: return none;
    }
}

/* n_blocks random blocks with finite scales. */
static guint8 *
random_blocks (GRand    *rand,
               AneDType  dtype,
               gsize     n_blocks)
{
  guint bb = ane_dtype_block_bytes (dtype);
  guint8 *b = g_malloc (n_blocks * bb + 1);
  const int *fields = half_fields (dtype);

  for (gsize i = 0; i < n_blocks * bb + 1; i++)
    b[i] = (guint8) g_rand_int (rand);
  for (gsize k = 0; k < n_blocks; k++)
    {
      guint8 *blk = b + k * bb;

      for (const int *f = fields; *f >= 0; f++)
        {
          guint16 h = (guint16) g_rand_int (rand);

          if ((h & 0x7c00) == 0x7c00)   /* inf / NaN: make it finite */
            h &= ~0x4000;
          /* Some blocks get tiny (subnormal) or zero scales. */
          if (k % 7 == 3)
            h &= 0x83ff;
          else if (k % 11 == 5)
            h &= 0x8000;
          h = GUINT16_TO_LE (h);
          memcpy (blk + *f, &h, 2);
        }
      if (dtype == ANE_DTYPE_Q8_K)
        {
          guint32 u = g_rand_int (rand);

          if ((u & 0x7f800000u) == 0x7f800000u)
            u &= ~0x40000000u;
          if (k % 7 == 3)
            u &= 0x807fffffu;   /* subnormal */
          u = GUINT32_TO_LE (u);
          memcpy (blk, &u, 4);
        }
    }
  return b;
}

static void
check_same (AneDType      dtype,
            const guint8 *blocks,
            gsize         n_blocks)
{
  guint bs = ane_dtype_block_size (dtype), bb = ane_dtype_block_bytes (dtype);
  gsize n = n_blocks * bs;
  g_autofree double *ref = g_new (double, n + 1);
  g_autofree float *want = g_new (float, n + 1);
  g_autofree float *got = g_new (float, n + 1);
  g_autoptr(GError) error = NULL;
  const float sentinel = 12345.0f;

  g_assert_true (ane_dequant_blocks (dtype, blocks, n_blocks * bb, n, ref, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < n; i++)
    {
      want[i] = (float) ref[i];
      g_assert_true ((double) want[i] == ref[i] || isnan (ref[i]));
    }
  got[n] = sentinel;
  g_assert_true (ane_dequant_blocks_f32 (dtype, blocks, n_blocks * bb, n, got, &error));
  g_assert_no_error (error);
  g_assert_true (memcmp (&got[n], &sentinel, sizeof sentinel) == 0);
  if (memcmp (got, want, n * sizeof (float)) != 0)
    for (gsize i = 0; i < n; i++)
      if (memcmp (&got[i], &want[i], sizeof (float)) != 0)
        g_error ("%s: element %" G_GSIZE_FORMAT " (block %" G_GSIZE_FORMAT "): got %a, want %a",
                 ane_dtype_to_string (dtype), i, i / bs, got[i], want[i]);
}

static void
test_random (gconstpointer data)
{
  AneDType dtype = GPOINTER_TO_INT (data);
  g_autoptr(GRand) rand = g_rand_new_with_seed (0x5eed0000u + (guint32) dtype);
  const gsize n_blocks = 1000;
  g_autofree guint8 *blocks = random_blocks (rand, dtype, n_blocks);

  check_same (dtype, blocks, n_blocks);
  /* Blocks at an odd address (GGUF tensors need not be aligned for us). */
  memmove (blocks + 1, blocks, (n_blocks - 1) * ane_dtype_block_bytes (dtype));
  check_same (dtype, blocks + 1, n_blocks - 1);
  /* One block, and none. */
  check_same (dtype, blocks, 1);
  check_same (dtype, blocks, 0);
}

/* test_random on the portable C rows. */
static void
test_random_portable (gconstpointer data)
{
  gboolean was = ane_dequant_force_portable (TRUE);

  g_assert_false (ane_dequant_uses_simd (GPOINTER_TO_INT (data)));
  test_random (data);
  ane_dequant_force_portable (was);
}

/* The vectorized rows are used exactly where the CPU can run them: on an
 * x86-64 CPU with AVX2 and F16C, for every block type. */
static void
test_simd_chosen (void)
{
  gboolean cpu_has = FALSE;

#if defined(__x86_64__) && defined(__GNUC__)
  unsigned int a, b, c, d;

  __builtin_cpu_init ();
  cpu_has = __builtin_cpu_supports ("avx2") && __get_cpuid (1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
#endif
  g_test_message ("CPU with AVX2 and F16C: %s", cpu_has ? "yes" : "no");
  for (gsize t = 0; t < G_N_ELEMENTS (block_types); t++)
    g_assert_cmpint (ane_dequant_uses_simd (block_types[t]), ==, cpu_has);
  g_assert_false (ane_dequant_uses_simd (ANE_DTYPE_FLOAT32));
  g_assert_false (ane_dequant_force_portable (TRUE));
  for (gsize t = 0; t < G_N_ELEMENTS (block_types); t++)
    g_assert_false (ane_dequant_uses_simd (block_types[t]));
  g_assert_true (ane_dequant_force_portable (FALSE));
}

/* A Q4_0 block by hand: d = 0.5, element j (j < 16) from the low nibble. */
static void
test_q4_0_by_hand (void)
{
  guint8 b[18];
  float y[32];
  g_autoptr(GError) error = NULL;
  guint16 h = GUINT16_TO_LE (ane_float_to_half (0.5f));

  memcpy (b, &h, 2);
  for (int j = 0; j < 16; j++)
    b[2 + j] = (guint8) (j | ((15 - j) << 4));
  g_assert_true (ane_dequant_blocks_f32 (ANE_DTYPE_Q4_0, b, sizeof b, 32, y, &error));
  g_assert_no_error (error);
  for (int j = 0; j < 16; j++)
    {
      g_assert_cmpfloat (y[j], ==, 0.5f * (j - 8));
      g_assert_cmpfloat (y[j + 16], ==, 0.5f * (7 - j));
    }
}

static void
test_errors (void)
{
  guint8 b[2 * 292] = { 0 };
  float y[512];

  for (gsize t = 0; t < G_N_ELEMENTS (block_types); t++)
    {
      AneDType dtype = block_types[t];
      guint bs = ane_dtype_block_size (dtype), bb = ane_dtype_block_bytes (dtype);
      g_autoptr(GError) e1 = NULL;
      g_autoptr(GError) e2 = NULL;
      g_autoptr(GError) e3 = NULL;

      /* Not a whole number of blocks. */
      g_assert_false (ane_dequant_blocks_f32 (dtype, b, 2 * bb, bs + 1, y, &e1));
      g_assert_error (e1, ANE_ERROR, ANE_ERROR_SHAPE);
      /* One byte short of two blocks. */
      g_assert_false (ane_dequant_blocks_f32 (dtype, b, 2 * bb - 1, 2 * bs, y, &e2));
      g_assert_error (e2, ANE_ERROR, ANE_ERROR_SHAPE);
      /* More bytes than needed are fine. */
      g_assert_true (ane_dequant_blocks_f32 (dtype, b, 2 * bb, bs, y, &e3));
      g_assert_no_error (e3);
      g_assert_cmpfloat (y[0], ==, 0.0f);
    }
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (ane_dequant_blocks_f32 (ANE_DTYPE_FLOAT32, b, sizeof b, 4, y, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  }
}

/* Q8_0 quantization back through the dequantizer: every value within half
 * a step (d / 2) of where it started, plus d's own fp16 rounding (2^-11
 * relative) times the 127 steps of the largest value; refusals named. */
static void
test_quantize_q8_0 (void)
{
  float x[64], back[64];
  guint8 blocks[2 * 34];
  g_autoptr(GError) error = NULL;

  for (int i = 0; i < 64; i++)
    x[i] = (float) sin (i * 0.7) * (i < 32 ? 3.0f : 0.01f);
  g_assert_true (ane_quant_blocks_f32 (ANE_DTYPE_Q8_0, x, 64, blocks, &error));
  g_assert_no_error (error);
  g_assert_true (ane_dequant_blocks_f32 (ANE_DTYPE_Q8_0, blocks, sizeof blocks, 64, back, &error));
  for (int i = 0; i < 64; i++)
    {
      double step = (i < 32 ? 3.0 : 0.01) / 127.0;

      g_assert_cmpfloat (fabs ((double) back[i] - (double) x[i]), <=, step * (0.5 + 127.0 / 2048.0));
    }
  g_assert_false (ane_quant_blocks_f32 (ANE_DTYPE_Q5_K, x, 64, blocks, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (ane_quant_blocks_f32 (ANE_DTYPE_Q8_0, x, 40, blocks, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
}

/* Q4_0 (ggml's rule: d = the value of largest magnitude / -8): that value
 * comes back exactly up to d's fp16 rounding, the others within half a
 * step, except the far end (+8 steps, clamped to 7): within one step. The
 * packing is checked by hand on one element: x[3] = max → q 0 in the low
 * nibble of byte 3. */
static void
test_quantize_q4_0 (void)
{
  float x[64], back[64];
  guint8 blocks[2 * 18];
  g_autoptr(GError) error = NULL;

  for (int i = 0; i < 64; i++)
    x[i] = (float) cos (i * 1.3) * (i < 32 ? 2.0f : 0.05f);
  x[3] = -2.5f;
  g_assert_true (ane_quant_blocks_f32 (ANE_DTYPE_Q4_0, x, 64, blocks, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (blocks[2 + 3] & 0x0f, ==, 0);
  g_assert_true (ane_dequant_blocks_f32 (ANE_DTYPE_Q4_0, blocks, sizeof blocks, 64, back, &error));
  g_assert_cmpfloat (fabs ((double) back[3] - -2.5), <=, 2.5 / 2048.0);
  for (int i = 0; i < 64; i++)
    {
      double d = (i < 32 ? 2.5 : 0.05) / 8.0;

      g_assert_cmpfloat (fabs ((double) back[i] - (double) x[i]), <=, d * (1.0 + 16.0 / 2048.0));
    }
}

/* Q4_K: 2 super-blocks of 256, sub-blocks of very different ranges (one
 * all positive, one constant); each value within half a step of its
 * sub-block plus what rounding the 6-bit scale and offset costs
 * (|q·d·Δsc| ≤ 15·d/2, dmin/2), and the RMS error within 1.5 times what
 * rounding to the nearest step gives (step / sqrt (12)). */
static void
test_quantize_q4_K (void)
{
  float x[512], back[512];
  guint8 blocks[2 * 144];
  double sq = 0.0, expected = 0.0;
  g_autoptr(GError) error = NULL;

  for (int i = 0; i < 512; i++)
    x[i] = (float) sin (i * 0.37) * (float) (1 + (i / 32) % 5);
  for (int i = 64; i < 96; i++)
    x[i] = 0.5f + 0.01f * (float) i;
  for (int i = 96; i < 128; i++)
    x[i] = -0.75f;
  g_assert_true (ane_quant_blocks_f32 (ANE_DTYPE_Q4_K, x, 512, blocks, &error));
  g_assert_no_error (error);
  g_assert_true (ane_dequant_blocks_f32 (ANE_DTYPE_Q4_K, blocks, sizeof blocks, 512, back, &error));
  g_assert_no_error (error);
  for (int s = 0; s < 2; s++)
    {
      double max_step = 0.0, max_off = 0.0, d, dmin;

      for (int j = 0; j < 8; j++)
        {
          double lo = 0.0, hi = -G_MAXDOUBLE;

          for (int i = 0; i < 32; i++)
            {
              lo = MIN (lo, x[256 * s + 32 * j + i]);
              hi = MAX (hi, x[256 * s + 32 * j + i]);
            }
          max_step = MAX (max_step, (hi - lo) / 15.0);
          max_off = MAX (max_off, -lo);
        }
      d = max_step / 63.0;
      dmin = max_off / 63.0;
      for (int j = 0; j < 8; j++)
        {
          double lo = 0.0, hi = -G_MAXDOUBLE;

          for (int i = 0; i < 32; i++)
            {
              lo = MIN (lo, x[256 * s + 32 * j + i]);
              hi = MAX (hi, x[256 * s + 32 * j + i]);
            }
          expected += 32.0 * ((hi - lo) / 15.0) * ((hi - lo) / 15.0) / 12.0;
          for (int i = 0; i < 32; i++)
            {
              int k = 256 * s + 32 * j + i;
              double err = fabs ((double) back[k] - (double) x[k]);

              g_assert_cmpfloat (err, <=, (hi - lo) / 30.0 + 7.5 * d + dmin / 2.0 + 1e-3 * (hi - lo + 1e-6));
              sq += err * err;
            }
        }
    }
  g_test_message ("Q4_K RMS error %g, nearest-step rounding %g", sqrt (sq / 512.0), sqrt (expected / 512.0));
  g_assert_cmpfloat (sqrt (sq / 512.0), <=, 1.5 * sqrt (expected / 512.0));
  g_assert_false (ane_quant_blocks_f32 (ANE_DTYPE_Q4_K, x, 300, blocks, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (gsize t = 0; t < G_N_ELEMENTS (block_types); t++)
    {
      g_autofree char *path = g_strdup_printf ("/ane/dequant/random/%s", ane_dtype_to_string (block_types[t]));

      g_autofree char *portable = g_strdup_printf ("/ane/dequant/random-portable/%s",
                                                   ane_dtype_to_string (block_types[t]));

      g_test_add_data_func (path, GINT_TO_POINTER (block_types[t]), test_random);
      g_test_add_data_func (portable, GINT_TO_POINTER (block_types[t]), test_random_portable);
    }
  g_test_add_func ("/ane/dequant/simd-chosen", test_simd_chosen);
  g_test_add_func ("/ane/dequant/q4_0-by-hand", test_q4_0_by_hand);
  g_test_add_func ("/ane/dequant/errors", test_errors);
  g_test_add_func ("/ane/dequant/quantize-q8_0", test_quantize_q8_0);
  g_test_add_func ("/ane/dequant/quantize-q4_0", test_quantize_q4_0);
  g_test_add_func ("/ane/dequant/quantize-q4_k", test_quantize_q4_K);
  return g_test_run ();
}
