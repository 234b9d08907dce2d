/* test-coreml-shim.m: the CoreML shim against fake CoreML classes (GNUstep)
 *
 * Everything here checks the shim's own logic: strided copies with padding,
 * dtype conversions, compute-unit mapping, the compile cache, states and
 * the mapping of NSError to GError. Built with -DANE_COREML_FAKE; without it
 * (macOS, real CoreML) only the tests that need no fake run.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "ane-test-util.h"
#include "runtime/coreml/ane-coreml-private.h"
#ifdef ANE_COREML_FAKE
# import "fake-coreml.h"
#else
# import <Foundation/Foundation.h>
#endif

/* ---- pure helpers ------------------------------------------------------ */

static void
test_compute_units_mapping (void)
{
  g_assert_cmpint (ane_coreml_compute_units_to_ml (ANE_COMPUTE_UNITS_CPU_ONLY), ==, 0);
  g_assert_cmpint (ane_coreml_compute_units_to_ml (ANE_COMPUTE_UNITS_CPU_AND_GPU), ==, 1);
  g_assert_cmpint (ane_coreml_compute_units_to_ml (ANE_COMPUTE_UNITS_ALL), ==, 2);
  g_assert_cmpint (ane_coreml_compute_units_to_ml (ANE_COMPUTE_UNITS_CPU_AND_NE), ==, 3);
  g_assert_cmpint (ane_coreml_compute_units_to_ml ((AneComputeUnits) 42), ==, -1);
}

/* A [1,2,3,5] array whose innermost dimension is padded to 16 elements. */
static void
test_copy_out_padded (void)
{
  const gint64 shape[] = { 1, 2, 3, 5 };
  const gint64 strides[] = { 2 * 3 * 16, 3 * 16, 16, 1 };
  float src32[96];
  guint16 src16[96];
  gint32 srci[96];
  double src64[96];
  float dst[30];
  gint32 dsti[30];
  GError *error = NULL;

  for (int i = 0; i < 96; i++)
    {
      src32[i] = NAN;   /* padding: would poison the result if read */
      src16[i] = 0x7e00;
      srci[i] = -999;
      src64[i] = NAN;
    }
  for (int b = 0; b < 2; b++)
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 5; c++)
        {
          int off = b * 48 + r * 16 + c, dense = (b * 3 + r) * 5 + c;
          src32[off] = dense * 0.5f;
          src16[off] = ane_float_to_half (dense * 0.5f);
          srci[off] = dense - 7;
          src64[off] = dense * 0.25;
        }

  g_assert_true (ane_coreml_copy_out (src32, ANE_COREML_ELEM_FLOAT32, shape, strides, 4, ANE_DTYPE_FLOAT32, dst, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 30; i++)
    g_assert_cmpfloat (dst[i], ==, i * 0.5f);

  g_assert_true (ane_coreml_copy_out (src16, ANE_COREML_ELEM_FLOAT16, shape, strides, 4, ANE_DTYPE_FLOAT32, dst, &error));
  for (int i = 0; i < 30; i++)
    g_assert_cmpfloat (dst[i], ==, i * 0.5f);   /* exact in binary16 */

  g_assert_true (ane_coreml_copy_out (src64, ANE_COREML_ELEM_FLOAT64, shape, strides, 4, ANE_DTYPE_FLOAT32, dst, &error));
  for (int i = 0; i < 30; i++)
    g_assert_cmpfloat (dst[i], ==, i * 0.25f);

  g_assert_true (ane_coreml_copy_out (srci, ANE_COREML_ELEM_INT32, shape, strides, 4, ANE_DTYPE_INT32, dsti, &error));
  for (int i = 0; i < 30; i++)
    g_assert_cmpint (dsti[i], ==, i - 7);

  /* Output to an unsupported dtype */
  g_assert_false (ane_coreml_copy_out (src32, ANE_COREML_ELEM_FLOAT32, shape, strides, 4, ANE_DTYPE_INT8, dst, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_clear_error (&error);
}

static void
test_copy_in_padded (void)
{
  const gint64 shape[] = { 3, 5 };
  const gint64 strides[] = { 8, 1 };
  float src[15], back[15];
  guint16 half[24], src16[15];
  GError *error = NULL;

  for (int i = 0; i < 15; i++)
    {
      src[i] = i - 3.5f;
      src16[i] = ane_float_to_half (src[i]);
    }
  memset (half, 0xff, sizeof half);
  /* fp32 -> fp16 array, then back */
  g_assert_true (ane_coreml_copy_in (src, ANE_DTYPE_FLOAT32, shape, strides, 2, ANE_COREML_ELEM_FLOAT16, half, &error));
  g_assert_no_error (error);
  g_assert_cmphex (half[5], ==, 0xffff);   /* padding untouched */
  g_assert_cmphex (half[8], ==, ane_float_to_half (src[5]));
  g_assert_true (ane_coreml_copy_out (half, ANE_COREML_ELEM_FLOAT16, shape, strides, 2, ANE_DTYPE_FLOAT32, back, &error));
  for (int i = 0; i < 15; i++)
    g_assert_cmpfloat (back[i], ==, src[i]);
  /* fp16 -> fp16 bits unchanged */
  memset (half, 0, sizeof half);
  g_assert_true (ane_coreml_copy_in (src16, ANE_DTYPE_FLOAT16, shape, strides, 2, ANE_COREML_ELEM_FLOAT16, half, &error));
  g_assert_cmphex (half[16 + 4], ==, src16[14]);
  /* unsupported source dtype */
  g_assert_false (ane_coreml_copy_in (src, ANE_DTYPE_INT8, shape, strides, 2, ANE_COREML_ELEM_FLOAT32, half, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_clear_error (&error);
}

static char *
make_package (const char *parent, const char *name, const char *weights)
{
  char *pkg = g_build_filename (parent, name, NULL);
  g_autofree char *data = g_build_filename (pkg, "Data", "com.apple.CoreML", "weights", NULL);
  g_autofree char *manifest = g_build_filename (pkg, "Manifest.json", NULL);
  g_autofree char *weight = g_build_filename (data, "weight.bin", NULL);

  g_assert_cmpint (g_mkdir_with_parents (data, 0755), ==, 0);
  g_assert_true (g_file_set_contents (manifest, "{\"fileFormatVersion\": \"1.0.0\"}", -1, NULL));
  g_assert_true (g_file_set_contents (weight, weights, -1, NULL));
  return pkg;
}

static void
test_package_hash (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("coreml-hash-XXXXXX", NULL);
  g_autofree char *a = make_package (tmp, "a.mlpackage", "0123456789");
  g_autofree char *b = make_package (tmp, "b.mlpackage", "0123456789");
  g_autofree char *c = make_package (tmp, "c.mlpackage", "0123456788");
  g_autofree char *ha = ane_coreml_package_hash (a, NULL);
  g_autofree char *hb = ane_coreml_package_hash (b, NULL);
  g_autofree char *hc = ane_coreml_package_hash (c, NULL);
  g_autofree char *missing = g_build_filename (tmp, "missing.mlpackage", NULL);
  GError *error = NULL;

  g_assert_nonnull (ha);
  g_assert_cmpuint (strlen (ha), ==, 64);
  g_assert_cmpstr (ha, ==, hb);
  g_assert_cmpstr (ha, !=, hc);
  g_assert_null (ane_coreml_package_hash (missing, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  ane_test_remove_tree (tmp);
}

#ifdef ANE_COREML_FAKE
/* ---- against the fakes ------------------------------------------------- */

typedef struct {
  char *tmp;
  char *cache;
  char *compiled;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autofree char *pkg = NULL;
  (void) data;
  fake_coreml_reset ();
  f->tmp = g_dir_make_tmp ("coreml-test-XXXXXX", NULL);
  f->cache = g_build_filename (f->tmp, "cache", NULL);
  pkg = make_package (f->tmp, "model.mlpackage", "weights");
  f->compiled = ane_coreml_compile (pkg, f->cache, NULL, NULL);
  g_assert_nonnull (f->compiled);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  (void) data;
  ane_test_remove_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->cache);
  g_free (f->compiled);
  fake_coreml_reset ();
}

static GHashTable *
one_input (AneTensor *t)
{
  GHashTable *h = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  g_hash_table_insert (h, (gpointer) ane_tensor_get_name (t), t);
  return h;
}

static void
test_compile_cache (Fixture *f, gconstpointer data)
{
  g_autofree char *p1 = make_package (f->tmp, "one.mlpackage", "same bytes");
  g_autofree char *p2 = make_package (f->tmp, "two.mlpackage", "same bytes");
  g_autofree char *p3 = make_package (f->tmp, "three.mlpackage", "other bytes");
  g_autofree char *c1 = NULL, *c1b = NULL, *c2 = NULL, *c3 = NULL;
  gboolean cached = TRUE;
  guint base = fake_coreml_compile_count ();
  (void) data;

  c1 = ane_coreml_compile (p1, f->cache, &cached, NULL);
  g_assert_nonnull (c1);
  g_assert_false (cached);
  g_assert_cmpuint (fake_coreml_compile_count (), ==, base + 1);
  g_assert_true (g_str_has_prefix (c1, f->cache));
  g_assert_true (g_str_has_suffix (c1, ".mlmodelc"));
  g_assert_true (g_file_test (c1, G_FILE_TEST_IS_DIR));

  c1b = ane_coreml_compile (p1, f->cache, &cached, NULL);
  g_assert_true (cached);
  g_assert_cmpstr (c1b, ==, c1);
  /* identical bytes elsewhere: the same key, no recompile */
  c2 = ane_coreml_compile (p2, f->cache, &cached, NULL);
  g_assert_true (cached);
  g_assert_cmpstr (c2, ==, c1);
  g_assert_cmpuint (fake_coreml_compile_count (), ==, base + 1);
  /* different bytes: compiled */
  c3 = ane_coreml_compile (p3, f->cache, &cached, NULL);
  g_assert_false (cached);
  g_assert_cmpstr (c3, !=, c1);
  g_assert_cmpuint (fake_coreml_compile_count (), ==, base + 2);
}

static void
test_load_compute_units (Fixture *f, gconstpointer data)
{
  static const AneComputeUnits all[] = {
    ANE_COMPUTE_UNITS_ALL, ANE_COMPUTE_UNITS_CPU_ONLY,
    ANE_COMPUTE_UNITS_CPU_AND_GPU, ANE_COMPUTE_UNITS_CPU_AND_NE,
  };
  static const long expect[] = { MLComputeUnitsAll, MLComputeUnitsCPUOnly,
                                 MLComputeUnitsCPUAndGPU, MLComputeUnitsCPUAndNeuralEngine };
  GError *error = NULL;
  (void) data;

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    {
      g_autoptr(AneCoremlModel) m = ane_coreml_model_load (f->compiled, NULL, all[i], &error);
      g_assert_no_error (error);
      g_assert_nonnull (m);
      g_assert_cmpint (fake_coreml_last_compute_units (), ==, expect[i]);
    }
  g_assert_null (ane_coreml_model_load (f->compiled, NULL, (AneComputeUnits) 9, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpuint (fake_coreml_load_count (), ==, 4);
  g_assert_null (fake_coreml_last_function_name ());

  /* a function other than the default: MLModelConfiguration.functionName
   * (macOS 15 / iOS 18); where the class lacks it, refused before loading */
  {
    g_autoptr(AneCoremlModel) m = ane_coreml_model_load (f->compiled, "decode", ANE_COMPUTE_UNITS_ALL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (m);
    g_assert_cmpstr (fake_coreml_last_function_name (), ==, "decode");
  }
  fake_coreml_set_function_name_supported (FALSE);
  g_assert_null (ane_coreml_model_load (f->compiled, "decode", ANE_COMPUTE_UNITS_ALL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "MLModelConfiguration.functionName"));
  g_assert_nonnull (strstr (error->message, "'decode'"));
  g_clear_error (&error);
  g_assert_cmpuint (fake_coreml_load_count (), ==, 5);
  fake_coreml_set_function_name_supported (TRUE);
}

static void
test_predict_float32_padded (Fixture *f, gconstpointer data)
{
  const gint64 shape[] = { 1, 2, 3, 5 };
  float x[30];
  g_autoptr(AneCoremlModel) m = ane_coreml_model_load (f->compiled, NULL, ANE_COMPUTE_UNITS_CPU_AND_NE, NULL);
  g_autoptr(GHashTable) inputs = NULL;
  g_autoptr(GPtrArray) out = NULL;
  g_autofree float *y = NULL;
  GError *error = NULL;
  gsize n = 0;
  AneTensor *t;
  (void) data;

  for (int i = 0; i < 30; i++)
    x[i] = i * 0.25f - 2;
  inputs = one_input (ane_tensor_new_from_floats ("x", shape, 4, x, 30, NULL));
  out = ane_coreml_model_predict (m, inputs, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (out->len, ==, 1);
  t = g_ptr_array_index (out, 0);
  g_assert_cmpstr (ane_tensor_get_name (t), ==, "y");
  g_assert_cmpint (ane_tensor_get_dtype (t), ==, ANE_DTYPE_FLOAT32);
  g_assert_cmpuint (ane_tensor_get_rank (t), ==, 4);
  g_assert_cmpint (ane_tensor_get_dim (t, 3), ==, 5);
  g_assert_cmpuint (ane_tensor_get_n_bytes (t), ==, 30 * 4);   /* dense, no padding */
  y = ane_tensor_dup_floats (t, &n, NULL);
  g_assert_cmpuint (n, ==, 30);
  for (int i = 0; i < 30; i++)
    g_assert_cmpfloat (y[i], ==, 2 * x[i]);
  g_assert_cmpuint (fake_coreml_predict_count (), ==, 1);
}

static void
test_predict_fp16 (Fixture *f, gconstpointer data)
{
  const gint64 shape[] = { 2, 3 };
  guint16 h[6];
  g_autoptr(AneCoremlModel) m = ane_coreml_model_load (f->compiled, NULL, ANE_COMPUTE_UNITS_ALL, NULL);
  g_autoptr(GHashTable) inputs = NULL;
  g_autoptr(GPtrArray) out = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree float *y = NULL;
  GError *error = NULL;
  gsize n = 0;
  AneTensor *t;
  (void) data;

  for (int i = 0; i < 6; i++)
    h[i] = ane_float_to_half (i * 1.5f - 1);
  bytes = g_bytes_new (h, sizeof h);
  inputs = one_input (ane_tensor_new_from_bytes ("x", ANE_DTYPE_FLOAT16, shape, 2, bytes, NULL));
  /* fp16 in, fp16 out (the array's pad also hits the rank-2 case) */
  out = ane_coreml_model_predict (m, inputs, NULL, &error);
  g_assert_no_error (error);
  t = g_ptr_array_index (out, 0);
  g_assert_cmpint (ane_tensor_get_dtype (t), ==, ANE_DTYPE_FLOAT32);   /* widened */
  y = ane_tensor_dup_floats (t, &n, NULL);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (y[i], ==, 2 * (i * 1.5f - 1));
  g_clear_pointer (&out, g_ptr_array_unref);
  g_clear_pointer (&y, g_free);

  /* fp32 in, fp16 out: rounded to binary16 */
  {
    const float x[6] = { 0.1f, 1000.3f, -3, 7, 0, 65504 };
    g_autoptr(GHashTable) in32 = one_input (ane_tensor_new_from_floats ("x", shape, 2, x, 6, NULL));
    fake_coreml_set_output_type (MLMultiArrayDataTypeFloat16);
    out = ane_coreml_model_predict (m, in32, NULL, &error);
    g_assert_no_error (error);
    y = ane_tensor_dup_floats (g_ptr_array_index (out, 0), &n, NULL);
    for (int i = 0; i < 6; i++)
      g_assert_cmpfloat (y[i], ==, ane_half_to_float (ane_float_to_half (2 * x[i])));
    g_assert_true (isinf (y[5]));   /* 131008 overflows binary16 */
  }
}

static void
test_predict_int32_and_names (Fixture *f, gconstpointer data)
{
  const gint64 shape[] = { 4 };
  const gint32 v[] = { -3, 0, 5, 1000000 };
  const float w[] = { 1, 2, 3, 4 };
  g_autoptr(AneCoremlModel) m = ane_coreml_model_load (f->compiled, NULL, ANE_COMPUTE_UNITS_CPU_ONLY, NULL);
  g_autoptr(GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  g_autoptr(GPtrArray) out = NULL;
  AneTensor *a = ane_tensor_new_from_ints ("idx", shape, 1, v, 4, NULL);
  AneTensor *b = ane_tensor_new_from_floats ("x", shape, 1, w, 4, NULL);
  GError *error = NULL;
  AneTensor *t;
  (void) data;

  g_hash_table_insert (inputs, "idx", a);
  g_hash_table_insert (inputs, "x", b);
  out = ane_coreml_model_predict (m, inputs, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (out->len, ==, 2);
  t = g_ptr_array_index (out, 0);   /* sorted by name */
  g_assert_cmpstr (ane_tensor_get_name (t), ==, "idx_out");
  g_assert_cmpint (ane_tensor_get_dtype (t), ==, ANE_DTYPE_INT32);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (ane_tensor_get_value (t, i), ==, 2.0 * v[i]);
  t = g_ptr_array_index (out, 1);
  g_assert_cmpstr (ane_tensor_get_name (t), ==, "y");
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (ane_tensor_get_value (t, i), ==, 2.0 * w[i]);
}

static void
test_state (Fixture *f, gconstpointer data)
{
  const gint64 shape[] = { 1, 1, 2, 3 };
  const float x[] = { 1, 2, 3, 4, 5, 6 };
  g_autoptr(AneCoremlModel) m = ane_coreml_model_load (f->compiled, NULL, ANE_COMPUTE_UNITS_CPU_AND_NE, NULL);
  g_autoptr(AneCoremlState) s1 = ane_coreml_model_new_state (m, NULL);
  g_autoptr(AneCoremlState) s2 = ane_coreml_model_new_state (m, NULL);
  g_autoptr(GHashTable) inputs = one_input (ane_tensor_new_from_floats ("x", shape, 4, x, 6, NULL));
  GError *error = NULL;
  (void) data;

  g_assert_nonnull (s1);
  for (int step = 0; step < 3; step++)
    {
      g_autoptr(GPtrArray) out = ane_coreml_model_predict (m, inputs, s1, &error);
      g_assert_no_error (error);
      for (int i = 0; i < 6; i++)
        g_assert_cmpfloat (ane_tensor_get_value (g_ptr_array_index (out, 0), i), ==, 2 * x[i] + step);
    }
  {
    /* a fresh state starts over; no state: no offset */
    g_autoptr(GPtrArray) o2 = ane_coreml_model_predict (m, inputs, s2, &error);
    g_autoptr(GPtrArray) o3 = ane_coreml_model_predict (m, inputs, NULL, &error);
    g_autoptr(GPtrArray) o4 = ane_coreml_model_predict (m, inputs, s1, &error);
    g_assert_no_error (error);
    g_assert_cmpfloat (ane_tensor_get_value (g_ptr_array_index (o2, 0), 0), ==, 2);
    g_assert_cmpfloat (ane_tensor_get_value (g_ptr_array_index (o3, 0), 0), ==, 2);
    g_assert_cmpfloat (ane_tensor_get_value (g_ptr_array_index (o4, 0), 0), ==, 5);
  }
  g_assert_cmpuint (fake_coreml_predict_count (), ==, 6);
}

static void
test_errors (Fixture *f, gconstpointer data)
{
  const gint64 shape[] = { 2 };
  const float x[] = { 1, 2 };
  g_autofree char *pkg = make_package (f->tmp, "bad.mlpackage", "bad");
  g_autoptr(AneCoremlModel) m = NULL;
  g_autoptr(GHashTable) inputs = one_input (ane_tensor_new_from_floats ("x", shape, 1, x, 2, NULL));
  GError *error = NULL;
  (void) data;

  fake_coreml_fail_compile ("Failed to parse the model specification. Error: Unable to parse ML Program: unknown op 'frob'");
  g_assert_null (ane_coreml_compile (pkg, f->cache, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "Unable to parse ML Program: unknown op 'frob'"));
  g_assert_nonnull (strstr (error->message, "bad.mlpackage"));
  g_clear_error (&error);
  /* nothing was cached: the next compile goes to CoreML again and succeeds */
  {
    gboolean cached = TRUE;
    g_autofree char *c = ane_coreml_compile (pkg, f->cache, &cached, &error);
    g_assert_no_error (error);
    g_assert_nonnull (c);
    g_assert_false (cached);
  }

  fake_coreml_fail_load ("The model is not supported on this device");
  g_assert_null (ane_coreml_model_load (f->compiled, NULL, ANE_COMPUTE_UNITS_ALL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "not supported on this device"));
  g_clear_error (&error);

  m = ane_coreml_model_load (f->compiled, NULL, ANE_COMPUTE_UNITS_ALL, &error);
  g_assert_no_error (error);
  fake_coreml_fail_predict ("Input x has shape [2] but the model expects [1,2]");
  g_assert_null (ane_coreml_model_predict (m, inputs, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "model expects [1,2]"));
  g_clear_error (&error);

  /* an input of an unsupported dtype is converted, one without data refused */
  {
    g_autoptr(GHashTable) bad = one_input (ane_tensor_new ("x", ANE_DTYPE_FLOAT32, shape, 1, NULL));
    g_assert_null (ane_coreml_model_predict (m, bad, NULL, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
  {
    g_autoptr(GPtrArray) out = ane_coreml_model_predict (m, inputs, NULL, &error);
    g_assert_no_error (error);   /* the failure was one-shot */
    g_assert_nonnull (out);
  }
}
#endif

int
main (int argc, char **argv)
{
  NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
  int rc;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/coreml/compute-units/mapping", test_compute_units_mapping);
  g_test_add_func ("/coreml/copy/out-padded", test_copy_out_padded);
  g_test_add_func ("/coreml/copy/in-padded", test_copy_in_padded);
  g_test_add_func ("/coreml/cache/package-hash", test_package_hash);
#ifdef ANE_COREML_FAKE
  g_test_add ("/coreml/cache/compile", Fixture, NULL, fixture_setup, test_compile_cache, fixture_teardown);
  g_test_add ("/coreml/load/compute-units", Fixture, NULL, fixture_setup, test_load_compute_units, fixture_teardown);
  g_test_add ("/coreml/predict/float32-padded", Fixture, NULL, fixture_setup, test_predict_float32_padded, fixture_teardown);
  g_test_add ("/coreml/predict/float16", Fixture, NULL, fixture_setup, test_predict_fp16, fixture_teardown);
  g_test_add ("/coreml/predict/int32-names", Fixture, NULL, fixture_setup, test_predict_int32_and_names, fixture_teardown);
  g_test_add ("/coreml/predict/state", Fixture, NULL, fixture_setup, test_state, fixture_teardown);
  g_test_add ("/coreml/errors", Fixture, NULL, fixture_setup, test_errors, fixture_teardown);
#endif
  rc = g_test_run ();
  [pool drain];
  return rc;
}
