/* test-ops-quant.c: affine int8/uint8 quantize and dequantize
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ane-test-util.h"

/* --- helpers ----------------------------------------------------------------- */

/* A constant of an 8-bit dtype from raw bytes (n elements). */
static AneTensor *
konst8 (AneGraph     *g,
        const char   *name,
        AneDType      dtype,
        const gint64 *shape,
        guint         rank,
        const void   *bytes,
        gsize         n)
{
  g_autoptr(GBytes) data = g_bytes_new (bytes, n);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) t = ane_tensor_new_from_bytes (name, dtype, shape, rank, data, &error);

  g_assert_no_error (error);
  return ane_test_const (g, t);
}

/* --- quantize per tensor ------------------------------------------------------ */

typedef struct {
  const char *path;
  AneDType    dtype;
  guint       scale_rank;      /* 0: shape [], 1: shape [1] */
  gboolean    has_zp;
  gint32      zp;
  float       expected[8];
} QuantCase;

/* x / 0.5 = [−2, −0.5, 0.5, 1.5, 2.5, 3.5, 200, −200]; half to even gives
 * [−2, −0, 0, 2, 2, 4, 200, −200], then + zero point and saturation. */
static const QuantCase quant_cases[] = {
  { "/ane/ops/quant/quantize/int8", ANE_DTYPE_INT8, 0, FALSE, 0,
    { -2, 0, 0, 2, 2, 4, 127, -128 } },
  { "/ane/ops/quant/quantize/int8-zero-point", ANE_DTYPE_INT8, 0, TRUE, 10,
    { 8, 10, 10, 12, 12, 14, 127, -128 } },
  { "/ane/ops/quant/quantize/uint8", ANE_DTYPE_UINT8, 1, FALSE, 0,
    { 0, 0, 0, 2, 2, 4, 200, 0 } },
  { "/ane/ops/quant/quantize/uint8-zero-point", ANE_DTYPE_UINT8, 1, TRUE, 128,
    { 126, 128, 128, 130, 130, 132, 255, 0 } },
};

static void
test_quantize (gconstpointer data)
{
  const QuantCase *c = data;
  static const gint64 xs[] = { 8 }, one[] = { 1 };
  static const float xv[] = { -1.0f, -0.25f, 0.25f, 0.75f, 1.25f, 1.75f, 100, -100 };
  static const float sv[] = { 0.5f };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 1, xv);
  g_autoptr(AneTensor) scale = ane_test_const_f32 (g, "scale", one, c->scale_rank, sv);
  guint8 zb = (guint8) c->zp;
  g_autoptr(AneTensor) zp = c->has_zp ? konst8 (g, "zp", c->dtype, one, c->scale_rank, &zb, 1) : NULL;
  g_autoptr(AneTensor) y = ane_graph_quantize (g, x, scale, zp, 0, c->dtype, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, xs, 1);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, c->dtype);
  r = ane_test_eval (g, y, NULL);
  g_assert_cmpint (ane_tensor_get_dtype (r), ==, c->dtype);
  ane_test_assert_close (r, c->expected, 8, 0, 0);
}

/* --- per channel -------------------------------------------------------------- */

static void
test_quantize_per_channel (void)
{
  /* x [[1, 2, 3], [−1, −2, −3]] along axis −1 with scale [1, 0.5, 2], zp [0, 1, −1]:
   * col 0: ±1 + 0; col 1: ±4 + 1 = 5, −3; col 2: ±1.5 → ±2 (half to even), − 1 = 1, −3. */
  static const gint64 xs[] = { 2, 3 }, cs[] = { 3 }, rs[] = { 2 };
  static const float xv[] = { 1, 2, 3, -1, -2, -3 }, sv[] = { 1, 0.5f, 2 };
  static const gint8 zv[] = { 0, 1, -1 };
  static const float expected[] = { 1, 5, 1, -1, -3, -3 };
  /* Along axis 0 with scale [1, 4], no zero point: row 1 is
   * [−0.25, −0.5, −0.75] → [−0, −0, −1]. */
  static const float rv[] = { 1, 4 };
  static const float expected0[] = { 1, 2, 3, 0, 0, -1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 2, xv);
  g_autoptr(AneTensor) scale = ane_test_const_f32 (g, "scale", cs, 1, sv);
  g_autoptr(AneTensor) zp = konst8 (g, "zp", ANE_DTYPE_INT8, cs, 1, zv, 3);
  g_autoptr(AneTensor) rscale = ane_test_const_f32 (g, "rscale", rs, 1, rv);
  g_autoptr(AneTensor) y = ane_graph_quantize (g, x, scale, zp, -1, ANE_DTYPE_INT8, &error);
  g_autoptr(AneTensor) y0 = ane_graph_quantize (g, x, rscale, NULL, 0, ANE_DTYPE_INT8, &error);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, xs, 2);
  ane_graph_add_output (g, "y", y, &error);
  ane_graph_add_output (g, "y0", y0, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, NULL, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 6, 0, 0);
  ane_test_assert_close (g_ptr_array_index (out, 1), expected0, 6, 0, 0);
}

static void
test_dequantize (void)
{
  /* int8 per channel (axis 1): (q − zp)·scale with scale [1, 0.5, 2], zp [0, 1, −1]:
   * [[1, 5, 1], [−1, −3, −3]] → [[1, 2, 4], [−1, −2, −4]]. */
  static const gint64 qs[] = { 2, 3 }, cs[] = { 3 }, us[] = { 3 };
  static const gint8 qv[] = { 1, 5, 1, -1, -3, -3 }, zv[] = { 0, 1, -1 };
  static const float sv[] = { 1, 0.5f, 2 };
  static const float expected[] = { 1, 2, 4, -1, -2, -4 };
  /* uint8 per tensor: ([0, 128, 255] − 128)·0.25 = [−32, 0, 31.75] */
  static const guint8 uv[] = { 0, 128, 255 }, uz[] = { 128 };
  static const float usv[] = { 0.25f };
  static const float uexpected[] = { -32, 0, 31.75f };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) q = konst8 (g, "q", ANE_DTYPE_INT8, qs, 2, qv, 6);
  g_autoptr(AneTensor) scale = ane_test_const_f32 (g, "scale", cs, 1, sv);
  g_autoptr(AneTensor) zp = konst8 (g, "zp", ANE_DTYPE_INT8, cs, 1, zv, 3);
  g_autoptr(AneTensor) uq = konst8 (g, "uq", ANE_DTYPE_UINT8, us, 1, uv, 3);
  g_autoptr(AneTensor) uscale = ane_test_const_f32 (g, "uscale", NULL, 0, usv);
  g_autoptr(AneTensor) uzp = konst8 (g, "uzp", ANE_DTYPE_UINT8, NULL, 0, uz, 1);
  g_autoptr(AneTensor) y = ane_graph_dequantize (g, q, scale, zp, 1, ANE_DTYPE_FLOAT32, &error);
  g_autoptr(AneTensor) uy = ane_graph_dequantize (g, uq, uscale, uzp, 0, ANE_DTYPE_FLOAT32, &error);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, qs, 2);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT32);
  ane_graph_add_output (g, "y", y, &error);
  ane_graph_add_output (g, "uy", uy, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, NULL, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 6, 0, 0);
  ane_test_assert_close (g_ptr_array_index (out, 1), uexpected, 3, 0, 0);
}

static void
test_dequantize_fp16 (void)
{
  /* The dtype attribute picks the result's float type; (3 − 0)·(1/3) rounds once
   * to half: 1/3 as float32 is 0.333333343, ·3 = 1.00000003 → 1.0 in half;
   * 1·(1/3) → 0.333251953 (the nearest half). */
  static const gint64 s[] = { 2 };
  static const gint8 qv[] = { 3, 1 };
  const float sv[] = { 1.0f / 3.0f };
  static const float expected[] = { 1.0f, 0.333251953f };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) q = konst8 (g, "q", ANE_DTYPE_INT8, s, 1, qv, 2);
  g_autoptr(AneTensor) scale = ane_test_const_f32 (g, "scale", NULL, 0, sv);
  g_autoptr(AneTensor) y = ane_graph_dequantize (g, q, scale, NULL, 0, ANE_DTYPE_FLOAT16, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT16);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 2, 0, 0);
}

static void
test_round_trip (void)
{
  /* quantize then dequantize recovers x to within half a step, exactly on the grid. */
  static const gint64 xs[] = { 4 };
  static const float xv[] = { -0.3f, 0.1f, 0.26f, 0.5f }, sv[] = { 0.1f };
  static const guint8 zv[] = { 100 };
  static const float expected[] = { -0.3f, 0.1f, 0.3f, 0.5f };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_const_f32 (g, "x", xs, 1, xv);
  g_autoptr(AneTensor) scale = ane_test_const_f32 (g, "scale", NULL, 0, sv);
  g_autoptr(AneTensor) zp = konst8 (g, "zp", ANE_DTYPE_UINT8, NULL, 0, zv, 1);
  g_autoptr(AneTensor) q = ane_graph_quantize (g, x, scale, zp, 0, ANE_DTYPE_UINT8, &error);
  g_autoptr(AneTensor) y = ane_graph_dequantize (g, q, scale, zp, 0, ANE_DTYPE_FLOAT32, &error);
  g_autoptr(AneTensor) r = NULL;

  g_assert_no_error (error);
  r = ane_test_eval (g, y, NULL);
  ane_test_assert_close (r, expected, 4, 1e-6, 0);
}

/* --- errors ------------------------------------------------------------------- */

static void
test_quantize_errors (void)
{
  static const gint64 xs[] = { 2, 3 }, c3[] = { 3 }, c4[] = { 4 }, c21[] = { 2, 1 }, one[] = { 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
  g_autoptr(AneTensor) xi = ane_test_input (g, "xi", ANE_DTYPE_INT32, xs, 2);
  g_autoptr(AneTensor) s3 = ane_test_input (g, "s3", ANE_DTYPE_FLOAT32, c3, 1);
  g_autoptr(AneTensor) s3h = ane_test_input (g, "s3h", ANE_DTYPE_FLOAT16, c3, 1);
  g_autoptr(AneTensor) s4 = ane_test_input (g, "s4", ANE_DTYPE_FLOAT32, c4, 1);
  g_autoptr(AneTensor) s21 = ane_test_input (g, "s21", ANE_DTYPE_FLOAT32, c21, 2);
  g_autoptr(AneTensor) z3u = ane_test_input (g, "z3u", ANE_DTYPE_UINT8, c3, 1);
  g_autoptr(AneTensor) z1 = ane_test_input (g, "z1", ANE_DTYPE_INT8, one, 1);
  AneTensor *y;

  y = ane_graph_quantize (g, xi, s3, NULL, 1, ANE_DTYPE_INT8, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_DTYPE, "quantize", "'x'", "int32[2,3]", NULL);
  y = ane_graph_quantize (g, x, s3h, NULL, 1, ANE_DTYPE_INT8, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_DTYPE, "quantize", "'scale'", "float16[3]", NULL);
  y = ane_graph_quantize (g, x, s4, NULL, 1, ANE_DTYPE_INT8, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'scale'", "float32[4]", "float32[2,3]", NULL);
  /* a [3] scale does not match axis 0 (2 rows) */
  y = ane_graph_quantize (g, x, s3, NULL, 0, ANE_DTYPE_INT8, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'scale'", "float32[3]", "[2]", NULL);
  y = ane_graph_quantize (g, x, s21, NULL, 1, ANE_DTYPE_INT8, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'scale'", "float32[2,1]", NULL);
  y = ane_graph_quantize (g, x, s3, z3u, 1, ANE_DTYPE_INT8, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_DTYPE, "'zero_point'", "uint8[3]", "int8", NULL);
  y = ane_graph_quantize (g, x, s3, z1, 1, ANE_DTYPE_INT8, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'zero_point'", "int8[1]", "float32[3]", NULL);
  y = ane_graph_quantize (g, x, s3, NULL, 2, ANE_DTYPE_INT8, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "quantize", "axis 2", "rank 2", NULL);
  y = ane_graph_quantize (g, x, s3, NULL, 1, ANE_DTYPE_INT16, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "quantize", "dtype", "'int16'", NULL);
}

static void
test_dequantize_errors (void)
{
  static const gint64 qs[] = { 2, 3 }, c3[] = { 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) q = ane_test_input (g, "q", ANE_DTYPE_INT8, qs, 2);
  g_autoptr(AneTensor) qf = ane_test_input (g, "qf", ANE_DTYPE_FLOAT32, qs, 2);
  g_autoptr(AneTensor) q32 = ane_test_input (g, "q32", ANE_DTYPE_INT32, qs, 2);
  g_autoptr(AneTensor) s3 = ane_test_input (g, "s3", ANE_DTYPE_FLOAT32, c3, 1);
  g_autoptr(AneTensor) s3i = ane_test_input (g, "s3i", ANE_DTYPE_INT32, c3, 1);
  g_autoptr(AneTensor) z3u = ane_test_input (g, "z3u", ANE_DTYPE_UINT8, c3, 1);
  g_autoptr(AneTensor) ok = NULL;
  AneTensor *y;

  y = ane_graph_dequantize (g, qf, s3, NULL, 1, ANE_DTYPE_FLOAT32, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_DTYPE, "dequantize", "'q'", "float32[2,3]", NULL);
  y = ane_graph_dequantize (g, q32, s3, NULL, 1, ANE_DTYPE_FLOAT32, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_DTYPE, "dequantize", "'q'", "int32[2,3]", NULL);
  y = ane_graph_dequantize (g, q, s3i, NULL, 1, ANE_DTYPE_FLOAT32, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_DTYPE, "dequantize", "'scale'", "int32[3]", NULL);
  y = ane_graph_dequantize (g, q, s3, z3u, 1, ANE_DTYPE_FLOAT32, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_DTYPE, "'zero_point'", "uint8[3]", "int8", NULL);
  y = ane_graph_dequantize (g, q, s3, NULL, 0, ANE_DTYPE_FLOAT32, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_SHAPE, "'scale'", "float32[3]", "'q' int8[2,3]", NULL);
  y = ane_graph_dequantize (g, q, s3, NULL, 1, ANE_DTYPE_INT32, &error);
  ane_test_assert_build_error (y, &error, ANE_ERROR_INVALID_ARGUMENT, "dequantize", "dtype", "'int32'", NULL);

  ok = ane_graph_dequantize (g, q, s3, NULL, -1, ANE_DTYPE_BFLOAT16, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ane_tensor_get_dtype (ok), ==, ANE_DTYPE_BFLOAT16);
  ane_test_assert_shape (ok, qs, 2);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (quant_cases); i++)
    g_test_add_data_func (quant_cases[i].path, &quant_cases[i], test_quantize);
  g_test_add_func ("/ane/ops/quant/quantize/per-channel", test_quantize_per_channel);
  g_test_add_func ("/ane/ops/quant/quantize/errors", test_quantize_errors);
  g_test_add_func ("/ane/ops/quant/dequantize/values", test_dequantize);
  g_test_add_func ("/ane/ops/quant/dequantize/fp16", test_dequantize_fp16);
  g_test_add_func ("/ane/ops/quant/dequantize/errors", test_dequantize_errors);
  g_test_add_func ("/ane/ops/quant/round-trip", test_round_trip);
  return g_test_run ();
}
