/* test-tensor.c: AneTensor construction, accessors and conversions
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"

static void
test_from_floats (void)
{
  static const gint64 shape[] = { 2, 3 };
  static const float v[] = { 1, 2, 3, 4, 5, 6 };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) t = ane_tensor_new_from_floats ("x", shape, 2, v, 6, &error);
  g_autofree char *desc = NULL;
  g_autofree float *back = NULL;
  gsize n;
  guint rank;
  const gint64 *s;

  g_assert_no_error (error);
  g_assert_cmpstr (ane_tensor_get_name (t), ==, "x");
  g_assert_cmpint (ane_tensor_get_dtype (t), ==, ANE_DTYPE_FLOAT32);
  s = ane_tensor_get_shape (t, &rank);
  g_assert_cmpuint (rank, ==, 2);
  g_assert_cmpint (s[0], ==, 2);
  g_assert_cmpint (s[1], ==, 3);
  g_assert_cmpint (ane_tensor_get_dim (t, -1), ==, 3);
  g_assert_cmpint (ane_tensor_get_dim (t, 2), ==, -1);
  g_assert_cmpint (ane_tensor_get_n_elements (t), ==, 6);
  g_assert_cmpuint (ane_tensor_get_n_bytes (t), ==, 24);
  g_assert_true (ane_tensor_has_data (t));
  g_assert_cmpmem (g_bytes_get_data (ane_tensor_get_data (t), NULL), 24, v, 24);
  back = ane_tensor_dup_floats (t, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (back, n * sizeof (float), v, sizeof v);
  g_assert_cmpfloat (ane_tensor_get_value (t, 4), ==, 5);
  g_assert_true (isnan (ane_tensor_get_value (t, 6)));
  desc = ane_tensor_to_string (t);
  g_assert_cmpstr (desc, ==, "x: float32[2,3]");
}

static void
test_zero_copy (void)
{
  /* new_from_bytes keeps the caller's memory: no copy is made. */
  static const float v[] = { 1, 2, 3, 4 };
  static const gint64 shape[] = { 4 };
  g_autoptr(GBytes) bytes = g_bytes_new_static (v, sizeof v);
  g_autoptr(AneTensor) t = ane_tensor_new_from_bytes ("x", ANE_DTYPE_FLOAT32, shape, 1, bytes, NULL);

  g_assert_true (g_bytes_get_data (ane_tensor_get_data (t), NULL) == (gconstpointer) v);
}

static void
test_errors (void)
{
  static const gint64 shape[] = { 2, 3 };
  static const gint64 neg[] = { 2, -3 };
  static const gint64 big[] = { G_MAXINT64 / 2, 4 };
  static const gint64 seven[] = { 1, 2, 3, 4, 5, 6, 7 };
  static const gint64 q[] = { 2, 40 };
  static const float v[] = { 1, 2, 3 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) short_bytes = g_bytes_new (v, sizeof v);
  AneTensor *t;

  t = ane_tensor_new_from_floats ("x", shape, 2, v, 3, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "'x'"));
  g_assert_nonnull (strstr (error->message, "24 bytes"));
  g_clear_error (&error);

  t = ane_tensor_new ("n", ANE_DTYPE_FLOAT32, neg, 2, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);

  t = ane_tensor_new ("b", ANE_DTYPE_FLOAT32, big, 2, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW);
  g_clear_error (&error);

  t = ane_tensor_new ("r", ANE_DTYPE_FLOAT32, seven, 7, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "rank 7"));
  g_clear_error (&error);

  /* 40 is not a multiple of Q4_0's 32-element blocks */
  t = ane_tensor_new ("q", ANE_DTYPE_Q4_0, q, 2, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);

  t = ane_tensor_new_from_bytes ("s", ANE_DTYPE_INT32, shape, 2, short_bytes, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);

  t = ane_tensor_new_scalar ("q", ANE_DTYPE_Q8_0, 1.0, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
}

static void
test_block_tensor (void)
{
  static const gint64 shape[] = { 2, 64 };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) t = ane_tensor_new_zeros ("w", ANE_DTYPE_Q4_K, (const gint64[]) { 1, 256 }, 2, &error);
  g_autoptr(AneTensor) q8 = ane_tensor_new_zeros ("w8", ANE_DTYPE_Q8_0, shape, 2, &error);
  gsize n;

  g_assert_no_error (error);
  g_assert_cmpuint (ane_tensor_get_n_bytes (t), ==, 144);
  g_assert_cmpuint (ane_tensor_get_n_bytes (q8), ==, 4 * 34);
  g_assert_null (ane_tensor_dup_floats (q8, &n, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
}

static void
test_scalar_and_convert (void)
{
  static const gint64 shape[] = { 4 };
  static const float v[] = { 1.5f, -2.7f, 70000.0f, 0.1f };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) s = ane_tensor_new_scalar ("s", ANE_DTYPE_INT32, 7.9, &error);
  g_autoptr(AneTensor) t = ane_tensor_new_from_floats ("t", shape, 1, v, 4, &error);
  g_autoptr(AneTensor) h = ane_tensor_convert (t, ANE_DTYPE_FLOAT16, &error);
  g_autoptr(AneTensor) i8 = ane_tensor_convert (t, ANE_DTYPE_INT8, &error);
  g_autoptr(AneTensor) r = ane_tensor_rename (t, "renamed");
  const guint16 *hb;

  g_assert_no_error (error);
  g_assert_cmpuint (ane_tensor_get_rank (s), ==, 0);
  g_assert_cmpint (ane_tensor_get_n_elements (s), ==, 1);
  g_assert_cmpfloat (ane_tensor_get_value (s, 0), ==, 7);
  hb = g_bytes_get_data (ane_tensor_get_data (h), NULL);
  g_assert_cmphex (hb[0], ==, 0x3e00);         /* 1.5 */
  g_assert_cmphex (hb[2], ==, 0x7c00);         /* 70000 overflows to inf */
  g_assert_cmpfloat (ane_tensor_get_value (h, 3), ==, ane_half_to_float (0x2e66));
  g_assert_cmpfloat (ane_tensor_get_value (i8, 1), ==, -2);
  g_assert_cmpfloat (ane_tensor_get_value (i8, 2), ==, 127);
  g_assert_cmpstr (ane_tensor_get_name (r), ==, "renamed");
  g_assert_true (ane_tensor_get_data (r) == ane_tensor_get_data (t));
}

static void
test_properties (void)
{
  static const gint64 shape[] = { 3 };
  g_autoptr(AneTensor) t = ane_tensor_new_zeros ("p", ANE_DTYPE_INT16, shape, 1, NULL);
  g_autofree char *name = NULL;
  AneDType dtype;
  guint rank;
  g_autoptr(GBytes) data = NULL;

  g_object_get (t, "name", &name, "dtype", &dtype, "rank", &rank, "data", &data, NULL);
  g_assert_cmpstr (name, ==, "p");
  g_assert_cmpint (dtype, ==, ANE_DTYPE_INT16);
  g_assert_cmpuint (rank, ==, 1);
  g_assert_cmpuint (g_bytes_get_size (data), ==, 6);
  g_assert_cmpint (ANE_TYPE_DTYPE, !=, G_TYPE_INVALID);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/tensor/from-floats", test_from_floats);
  g_test_add_func ("/ane/tensor/zero-copy", test_zero_copy);
  g_test_add_func ("/ane/tensor/errors", test_errors);
  g_test_add_func ("/ane/tensor/block", test_block_tensor);
  g_test_add_func ("/ane/tensor/scalar-and-convert", test_scalar_and_convert);
  g_test_add_func ("/ane/tensor/properties", test_properties);
  return g_test_run ();
}
