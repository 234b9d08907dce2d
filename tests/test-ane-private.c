/* test-ane-private.c: the Neural Engine private in-memory path, over a fake
 *
 * A fake AneAneRuntime records every class lookup and message, keeps
 * reference counts of every object it hands out, and plays a tiny device:
 * evaluate writes 2 * input[i] to output[i], surface to surface, in fp16.
 * Nothing here touches Apple software; see docs/ane-private.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "ane-fake-ane.h"
#include "ane-test-util.h"

/* --- a program ----------------------------------------------------------- */

static const char *mil_text =
  "program(1.3)\n"
  "[buildInfo = dict<string, string>({{\"coremlc-component-MIL\", \"3510.2.1\"}, {\"coremlc-version\", \"3505.4.1\"}, "
  "{\"coremltools-component-milinternal\", \"\"}, {\"coremltools-version\", \"9.0\"}})]\n"
  "{\n    func main<ios18>(tensor<fp16, [1, 2, 1, 40]> x) {\n"
  "        tensor<fp16, [1, 2, 1, 40]> y = mul(x = x, y = x)[name = string(\"y\")];\n    } -> (y);\n}\n";
static const gint64 shape_x[] = { 1, 2, 1, 40 };

static AneAneProgram *
make_program (GBytes *weights, GError **error)
{
  AneAneTensorSpec in = { "x", shape_x, 4 }, out = { "y", shape_x, 4 };
  return ane_ane_program_new (NULL, mil_text, weights, &in, 1, &out, 1, fake.tmp_root, error);
}

static GHashTable *
make_inputs (float *values, gsize n)
{
  GHashTable *h = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  AneTensor *t = ane_tensor_new_from_floats ("x", shape_x, 4, values, n, NULL);
  g_assert_nonnull (t);
  g_hash_table_insert (h, "x", t);
  return h;
}

/* --- tests --------------------------------------------------------------- */

static void
test_default_runtime (void)
{
  g_autoptr(GError) error = NULL;
  AneAneTensorSpec out = { "y", shape_x, 4 };
  AneAneProgram *p;

#ifndef __APPLE__
  g_assert_null (ane_ane_runtime_get_default ());
  ane_ane_runtime_set_override (NULL);
  g_assert_null (ane_ane_runtime_get ());
  p = ane_ane_program_new (NULL, mil_text, NULL, NULL, 0, &out, 1, NULL, &error);
  g_assert_null (p);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "not available on this platform"));
#else
  (void) p; (void) out;
  /* a legitimate skip (g_test_skip, not ane_test_skip): on Apple platforms
   * the default table is the real framework, checked by test-apple-hardware */
  g_test_skip ("runs on Linux only: the default table here is the real one");
#endif
}

static void
test_layout (void)
{
  g_autoptr(GError) error = NULL;
  AneAneSurfaceLayout l;
  gint64 chw[] = { 2, 3, 5 }, nchw[] = { 1, 4, 1, 40 }, w[] = { 32 };
  gint64 bad_n[] = { 2, 1, 1, 1 }, zero[] = { 1, 0, 4 };

  g_assert_true (ane_ane_surface_layout_init (&l, chw, 3, 64, &error));
  g_assert_cmpuint (l.channels, ==, 2);
  g_assert_cmpuint (l.height, ==, 3);
  g_assert_cmpuint (l.width, ==, 5);
  g_assert_cmpuint (l.row_bytes, ==, 64);
  g_assert_cmpuint (l.plane_bytes, ==, 192);
  g_assert_cmpuint (l.total_bytes, ==, 384);

  g_assert_true (ane_ane_surface_layout_init (&l, nchw, 4, 64, &error));
  g_assert_cmpuint (l.channels, ==, 4);
  g_assert_cmpuint (l.row_bytes, ==, 128);     /* 80 bytes -> 128 */
  g_assert_cmpuint (l.total_bytes, ==, 512);

  g_assert_true (ane_ane_surface_layout_init (&l, nchw, 4, 2, &error));   /* packed */
  g_assert_cmpuint (l.row_bytes, ==, 80);
  g_assert_cmpuint (l.total_bytes, ==, 320);

  g_assert_true (ane_ane_surface_layout_init (&l, w, 1, 64, &error));     /* exactly a row */
  g_assert_cmpuint (l.channels, ==, 1);
  g_assert_cmpuint (l.row_bytes, ==, 64);

  g_assert_false (ane_ane_surface_layout_init (&l, bad_n, 4, 64, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);
  g_assert_false (ane_ane_surface_layout_init (&l, zero, 3, 64, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);
  g_assert_false (ane_ane_surface_layout_init (&l, chw, 3, 48, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_ane_surface_layout_init (&l, chw, 5, 64, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);
  {
    gint64 huge[] = { G_MAXINT64 / 4, G_MAXINT64 / 4, 8 };
    g_assert_false (ane_ane_surface_layout_init (&l, huge, 3, 64, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW);
  }
}

static void
test_pack (void)
{
  g_autoptr(GError) error = NULL;
  gint64 shape[] = { 2, 3, 5 };
  AneAneSurfaceLayout l;
  float src[30], back[30];
  guint16 h[30], hback[30];
  guint8 *buf;
  gsize c, y, x, k;

  g_assert_true (ane_ane_surface_layout_init (&l, shape, 3, 64, &error));
  for (k = 0; k < 30; k++)
    src[k] = (float) k * 0.1f - 1.0f;
  src[7] = 1.0f + 1.0f / 4096.0f;   /* halfway-below: rounds to 1.0 */
  src[8] = 65520.0f;                 /* rounds to +inf in fp16 */
  buf = g_malloc (l.total_bytes);
  memset (buf, 0xAA, l.total_bytes);
  ane_ane_surface_pack_f32 (&l, src, buf);

  for (c = 0; c < 2; c++)
    for (y = 0; y < 3; y++)
      {
        const guint8 *row = buf + c * l.plane_bytes + y * l.row_bytes;
        for (x = 0; x < 5; x++)
          {
            guint16 v;
            memcpy (&v, row + 2 * x, 2);
            g_assert_cmphex (v, ==, ane_float_to_half (src[(c * 3 + y) * 5 + x]));
          }
        for (k = 10; k < l.row_bytes; k++)
          g_assert_cmphex (row[k], ==, 0);   /* padding zeroed */
      }
  {
    guint16 v;
    memcpy (&v, buf + 0 * l.plane_bytes + 1 * l.row_bytes + 2 * 2, 2);   /* element 7: c 0, y 1, x 2 */
    g_assert_cmphex (v, ==, 0x3c00);
    memcpy (&v, buf + 0 * l.plane_bytes + 1 * l.row_bytes + 3 * 2, 2);   /* element 8: c 0, y 1, x 3 */
    g_assert_cmphex (v, ==, 0x7c00);
  }

  ane_ane_surface_unpack_f32 (&l, buf, back);
  for (k = 0; k < 30; k++)
    g_assert_cmpfloat (back[k], ==, ane_half_to_float (ane_float_to_half (src[k])));

  /* At an odd address (converted through scratch): the same bytes. */
  {
    g_autofree guint8 *odd = g_malloc (l.total_bytes + 1);

    memset (odd, 0xAA, l.total_bytes + 1);
    ane_ane_surface_pack_f32 (&l, src, odd + 1);
    g_assert_cmpmem (odd + 1, l.total_bytes, buf, l.total_bytes);
    memset (back, 0, sizeof back);
    ane_ane_surface_unpack_f32 (&l, odd + 1, back);
    for (k = 0; k < 30; k++)
      g_assert_cmpfloat (back[k], ==, ane_half_to_float (ane_float_to_half (src[k])));
  }

  for (k = 0; k < 30; k++)
    h[k] = (guint16) (0x3000 + k * 17);
  memset (buf, 0xAA, l.total_bytes);
  ane_ane_surface_pack_f16 (&l, h, buf);
  ane_ane_surface_unpack_f16 (&l, buf, hback);
  g_assert_cmpmem (h, sizeof h, hback, sizeof hback);
  g_assert_cmphex (buf[l.row_bytes - 1], ==, 0);

  /* Tensors: float16 is copied bit for bit; other dtypes and sizes refused. */
  {
    g_autoptr(AneTensor) t32 = ane_tensor_new_from_floats ("a", shape, 3, src, 30, NULL);
    g_autoptr(AneTensor) t16 = ane_tensor_convert (t32, ANE_DTYPE_FLOAT16, NULL);
    g_autoptr(AneTensor) ti = ane_tensor_convert (t32, ANE_DTYPE_INT32, NULL);
    gint64 small[] = { 2, 5 };
    g_autoptr(AneTensor) ts = ane_tensor_new_from_floats ("s", small, 2, src, 10, NULL);
    guint8 *buf2 = g_malloc (l.total_bytes);

    g_assert_nonnull (t16);
    memset (buf, 0, l.total_bytes);
    g_assert_true (ane_ane_surface_pack_tensor (&l, t32, buf, &error));
    g_assert_true (ane_ane_surface_pack_tensor (&l, t16, buf2, &error));
    g_assert_cmpmem (buf, l.total_bytes, buf2, l.total_bytes);
    {
      /* a tensor viewing data at an odd offset packs the same */
      g_autofree guint8 *shifted = g_malloc (30 * 4 + 1);
      g_autoptr(GBytes) whole = NULL, view = NULL;
      g_autoptr(AneTensor) tv = NULL;

      memcpy (shifted + 1, src, 30 * 4);
      whole = g_bytes_new_static (shifted, 30 * 4 + 1);
      view = g_bytes_new_from_bytes (whole, 1, 30 * 4);
      tv = ane_tensor_new_from_bytes ("v", ANE_DTYPE_FLOAT32, shape, 3, view, &error);
      g_assert_no_error (error);
      memset (buf2, 0xAA, l.total_bytes);
      g_assert_true (ane_ane_surface_pack_tensor (&l, tv, buf2, &error));
      g_assert_cmpmem (buf, l.total_bytes, buf2, l.total_bytes);
    }
    g_assert_false (ane_ane_surface_pack_tensor (&l, ti, buf, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
    g_clear_error (&error);
    g_assert_false (ane_ane_surface_pack_tensor (&l, ts, buf, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
    g_free (buf2);
  }
  g_free (buf);
}

/* The compile budget: with ANE_GLIB_ANE_COMPILE_BUDGET=2, two programs
 * compile; the same program again comes from the cache and costs nothing;
 * a third distinct one is refused before the framework is asked, naming the
 * budget and the variable; once a program is freed, compiling it again
 * counts again; a larger budget lets the third through. */
static void
test_compile_budget (void)
{
  g_autoptr(GBytes) w1 = g_bytes_new_static ("budget-weights-1", 16);
  g_autoptr(GBytes) w2 = g_bytes_new_static ("budget-weights-2", 16);
  g_autoptr(GBytes) w3 = g_bytes_new_static ("budget-weights-3", 16);
  g_autoptr(GError) error = NULL;
  AneAneProgram *p1, *p2, *again, *p3;
  guint compiles;

  g_setenv (ANE_ANE_COMPILE_BUDGET_ENV, "2", TRUE);
  fake_setup ();
  g_assert_cmpuint (ane_ane_compile_budget (), ==, 2);
  p1 = make_program (w1, &error);
  g_assert_no_error (error);
  p2 = make_program (w2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_ane_compile_count (), ==, 2);
  compiles = fake.n_compile;
  again = make_program (w1, &error);
  g_assert_no_error (error);
  g_assert_true (ane_ane_program_was_cached (again));
  g_assert_cmpuint (ane_ane_compile_count (), ==, 2);
  g_assert_cmpuint (fake.n_compile, ==, compiles);

  p3 = make_program (w3, &error);
  g_assert_null (p3);
  ane_test_assert_error (&error, ANE_ERROR_TOO_LARGE, "compiled 2 programs", "budget (2)",
                         "ANE_GLIB_ANE_COMPILE_BUDGET", "119", NULL);
  g_assert_cmpuint (fake.n_compile, ==, compiles);
  g_assert_cmpuint (ane_ane_compile_count (), ==, 2);

  /* freed programs leave the cache: the same text again is a new compile */
  ane_ane_program_free (again);
  ane_ane_program_free (p1);
  g_assert_null (make_program (w1, &error));
  ane_test_assert_error (&error, ANE_ERROR_TOO_LARGE, "budget (2)", NULL);

  g_setenv (ANE_ANE_COMPILE_BUDGET_ENV, "3", TRUE);
  ane_ane_compile_budget_reset ();
  g_assert_cmpuint (ane_ane_compile_budget (), ==, 3);
  p3 = make_program (w3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fake.n_compile, ==, compiles + 1);
  ane_ane_program_free (p3);
  ane_ane_program_free (p2);

  /* 0: no limit */
  g_setenv (ANE_ANE_COMPILE_BUDGET_ENV, "0", TRUE);
  ane_ane_compile_budget_reset ();
  g_assert_cmpuint (ane_ane_compile_budget (), ==, 0);
  for (int i = 0; i < 5; i++)
    {
      g_autofree char *text = g_strdup_printf ("budget-weights-%d", 4 + i);
      g_autoptr(GBytes) w = g_bytes_new_take (g_steal_pointer (&text), 16);
      AneAneProgram *p = make_program (w, &error);

      g_assert_no_error (error);
      ane_ane_program_free (p);
    }
  g_assert_cmpuint (ane_ane_compile_count (), ==, 5);
  g_unsetenv (ANE_ANE_COMPILE_BUDGET_ENV);
  ane_ane_compile_budget_reset ();
  g_assert_cmpuint (ane_ane_compile_budget (), ==, ANE_ANE_DEFAULT_COMPILE_BUDGET);
  fake_teardown ();
}

static void
test_sequence (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) weights = g_bytes_new_static ("0123456789abcdef", 16);
  g_autoptr(GHashTable) inputs = NULL;
  g_autoptr(GPtrArray) outs = NULL;
  g_autofree char *log = NULL, *wbin = NULL;
  AneAneProgram *p;
  float x[80];
  gsize k, n = 0;

  fake_setup ();
  p = make_program (weights, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  g_assert_false (ane_ane_program_was_cached (p));
  g_assert_cmpuint (strlen (ane_ane_program_get_key (p)), ==, 64);
  g_assert_true (fake.saw_files_at_compile);
  g_assert_cmpstr (fake.weight_key, ==, "@model_path/weights/weight.bin");
  g_assert_cmpint (fake.weight_offset, ==, 0);
  g_assert_cmpuint (fake.weight_size, ==, 16);
  g_assert_cmpuint (fake.mil_size, ==, strlen (mil_text));
  g_assert_cmpuint (fake.qos_seen, ==, 21);
  wbin = g_build_filename (fake.tmp_root, fake.hex, "weights", "weight.bin", NULL);
  g_assert_true (g_file_test (wbin, G_FILE_TEST_IS_REGULAR));

  for (k = 0; k < 80; k++)
    x[k] = (float) k / 8.0f - 3.3f;
  inputs = make_inputs (x, 80);
  outs = ane_ane_program_run (p, inputs, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outs->len, ==, 1);
  {
    AneTensor *y = outs->pdata[0];
    g_autofree float *v = ane_tensor_dup_floats (y, &n, NULL);
    g_assert_cmpstr (ane_tensor_get_name (y), ==, "y");
    g_assert_cmpuint (ane_tensor_get_rank (y), ==, 4);
    g_assert_cmpuint (n, ==, 80);
    for (k = 0; k < 80; k++)
      g_assert_cmpfloat (v[k], ==, ane_half_to_float (ane_float_to_half (2.0f * ane_half_to_float (ane_float_to_half (x[k])))));
  }
  ane_ane_program_free (p);
  g_assert_false (g_file_test (wbin, G_FILE_TEST_EXISTS));

  log = fake_log_text ();
  g_assert_cmpstr (log, ==,
    "open /System/Library/PrivateFrameworks/AppleNeuralEngine.framework/AppleNeuralEngine\n"
    "class _ANEInMemoryModelDescriptor\n"
    "class _ANEInMemoryModel\n"
    "class _ANERequest\n"
    "class _ANEIOSurfaceObject\n"
    "+[_ANEInMemoryModelDescriptor modelWithMILText:weights:optionsPlist:]\n"
    "+[_ANEInMemoryModel inMemoryModelWithDescriptor:]\n"
    "-[_ANEInMemoryModel hexStringIdentifier]\n"
    "-[_ANEInMemoryModel compileWithQoS:options:error:]\n"
    "-[_ANEInMemoryModel loadWithQoS:options:error:]\n"
    "IOSurfaceCreate 128x2 256\n"
    "+[_ANEIOSurfaceObject objectWithIOSurface:]\n"
    "IOSurfaceCreate 128x2 256\n"
    "+[_ANEIOSurfaceObject objectWithIOSurface:]\n"
    "+[_ANERequest requestWithInputs:inputIndices:outputs:outputIndices:weightsBuffer:perfStats:procedureIndex:]\n"
    "-[_ANEInMemoryModel evaluateWithQoS:options:request:error:]\n"
    "-[_ANEInMemoryModel unloadWithQoS:error:]");
  /* The request: indices 0.., procedureIndex 0. */
  for (k = 0; k < fake.arena->len; k++)
    {
      FObj *r = fake.arena->pdata[k];
      if (r->kind != F_REQUEST)
        continue;
      g_assert_cmpuint (r->req_in->items->len, ==, 1);
      g_assert_cmpint (((FObj *) r->req_in_idx->items->pdata[0])->number, ==, 0);
      g_assert_cmpint (((FObj *) r->req_out_idx->items->pdata[0])->number, ==, 0);
      g_assert_cmpint (r->req_proc->number, ==, 0);
    }
  fake_teardown ();
}

static void
test_cache (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) w1 = g_bytes_new_static ("weights-one", 11);
  g_autoptr(GBytes) w2 = g_bytes_new_static ("weights-two", 11);
  AneAneProgram *a, *b, *c;

  fake_setup ();
  a = make_program (w1, &error);
  g_assert_no_error (error);
  b = make_program (w1, &error);
  g_assert_no_error (error);
  g_assert_false (ane_ane_program_was_cached (a));
  g_assert_true (ane_ane_program_was_cached (b));
  g_assert_cmpstr (ane_ane_program_get_key (a), ==, ane_ane_program_get_key (b));
  g_assert_cmpuint (fake.n_compile, ==, 1);
  g_assert_cmpuint (fake.n_load, ==, 1);
  g_assert_cmpuint (ane_ane_cache_size (), ==, 1);

  /* Other weights: another model (the fake gives it another directory). */
  fake.hex = "another_fake_id";
  c = make_program (w2, &error);
  g_assert_no_error (error);
  g_assert_false (ane_ane_program_was_cached (c));
  g_assert_cmpstr (ane_ane_program_get_key (a), !=, ane_ane_program_get_key (c));
  g_assert_cmpuint (fake.n_compile, ==, 2);
  g_assert_cmpuint (ane_ane_cache_size (), ==, 2);

  ane_ane_program_free (a);
  g_assert_cmpuint (fake.n_unload, ==, 0);   /* b still uses it */
  {
    float x[80] = { 1.0f };
    g_autoptr(GHashTable) in = make_inputs (x, 80);
    g_autoptr(GPtrArray) outs = ane_ane_program_run (b, in, &error);
    g_assert_no_error (error);
    g_assert_cmpfloat (ane_tensor_get_value (outs->pdata[0], 0), ==, 2.0);
  }
  ane_ane_program_free (b);
  g_assert_cmpuint (fake.n_unload, ==, 1);
  ane_ane_program_free (c);
  g_assert_cmpuint (fake.n_unload, ==, 2);
  g_assert_cmpuint (ane_ane_cache_size (), ==, 0);
  fake_teardown ();
}

static void
expect_failure (int code, const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) w = g_bytes_new_static ("w", 1);
  AneAneProgram *p = make_program (w, &error);

  g_assert_null (p);
  g_assert_error (error, ANE_ERROR, code);
  if (strstr (error->message, fragment) == NULL)
    g_error ("message '%s' lacks '%s'", error->message, fragment);
  g_assert_cmpuint (fake.n_unload, ==, 0);
}

static void
test_missing_class (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (fake_classes); i++)
    {
      fake_setup ();
      fake.missing_class = fake_classes[i];
      expect_failure (ANE_ERROR_UNSUPPORTED, fake_classes[i]);
      g_assert_cmpuint (fake.n_compile, ==, 0);
      fake_teardown ();
    }
  fake_setup ();
  fake.fail_open = TRUE;
  expect_failure (ANE_ERROR_UNSUPPORTED, "image not found");
  fake_teardown ();
}

static void
test_missing_selector (void)
{
  static const char *const cases[][2] = {
    { "modelWithMILText:weights:optionsPlist:", "+[_ANEInMemoryModelDescriptor modelWithMILText:weights:optionsPlist:]" },
    { "inMemoryModelWithDescriptor:", "+[_ANEInMemoryModel inMemoryModelWithDescriptor:]" },
    { "compileWithQoS:options:error:", "-[_ANEInMemoryModel compileWithQoS:options:error:]" },
    { "evaluateWithQoS:options:request:error:", "-[_ANEInMemoryModel evaluateWithQoS:options:request:error:]" },
    { "unloadWithQoS:error:", "-[_ANEInMemoryModel unloadWithQoS:error:]" },
    { "objectWithIOSurface:", "+[_ANEIOSurfaceObject objectWithIOSurface:]" },
    { "requestWithInputs:inputIndices:outputs:outputIndices:weightsBuffer:perfStats:procedureIndex:", "+[_ANERequest requestWithInputs:" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      fake_setup ();
      fake.missing_selector = g_intern_string (cases[i][0]);
      expect_failure (ANE_ERROR_UNSUPPORTED, cases[i][1]);
      g_assert_cmpuint (fake.n_compile, ==, 0);
      g_assert_cmpuint (fake.arena->len, ==, G_N_ELEMENTS (fake_classes));   /* only classes: nothing sent */
      fake_teardown ();
    }
}

static void
test_failures (void)
{
  /* descriptor nil */
  fake_setup ();
  fake.desc_nil = TRUE;
  expect_failure (ANE_ERROR_FAILED, "modelWithMILText:weights:optionsPlist:] returned nil");
  fake_teardown ();

  /* compile error with an NSError message */
  fake_setup ();
  fake.compile_error = "ANECCompile() FAILED: unsupported op";
  expect_failure (ANE_ERROR_FAILED, "ANE compile failed: ANECCompile() FAILED: unsupported op");
  g_assert_cmpuint (fake.n_load, ==, 0);
  g_assert_cmpuint (ane_ane_cache_size (), ==, 0);
  fake_teardown ();

  /* load failure: one retry, then the error */
  fake_setup ();
  fake.load_error = "program load failure (0x50004)";
  expect_failure (ANE_ERROR_FAILED, "ANE load failed: program load failure (0x50004)");
  g_assert_cmpuint (fake.n_load, ==, 2);
  fake_teardown ();

  /* a bad identifier cannot escape the temporary root */
  fake_setup ();
  fake.hex = "../escape";
  expect_failure (ANE_ERROR_FAILED, "hexStringIdentifier");
  g_assert_cmpuint (fake.n_compile, ==, 0);
  fake_teardown ();

  /* evaluate failure, and a missing input */
  fake_setup ();
  {
    g_autoptr(GError) error = NULL;
    AneAneProgram *p = make_program (NULL, &error);
    float x[80] = { 0 };
    g_autoptr(GHashTable) in = make_inputs (x, 80);
    g_autoptr(GHashTable) empty = g_hash_table_new (g_str_hash, g_str_equal);
    GPtrArray *outs;

    g_assert_no_error (error);
    g_assert_null (fake.weight_key);   /* no weights: @{} */
    fake.eval_error = "ANEProgramProcessRequestDirect() Failed with status=0x1d";
    outs = ane_ane_program_run (p, in, &error);
    g_assert_null (outs);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_FAILED);
    g_assert_cmpstr (error->message, ==, "ANE evaluate failed: ANEProgramProcessRequestDirect() Failed with status=0x1d");
    g_clear_error (&error);
    fake.eval_error = NULL;
    outs = ane_ane_program_run (p, empty, &error);
    g_assert_null (outs);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (error->message, "'x'"));
    ane_ane_program_free (p);
    g_assert_cmpuint (fake.n_unload, ==, 1);
  }
  fake_teardown ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/private/default-runtime", test_default_runtime);
  g_test_add_func ("/ane/private/layout", test_layout);
  g_test_add_func ("/ane/private/pack", test_pack);
  g_test_add_func ("/ane/private/sequence", test_sequence);
  g_test_add_func ("/ane/private/cache", test_cache);
  g_test_add_func ("/ane/private/compile-budget", test_compile_budget);
  g_test_add_func ("/ane/private/missing-class", test_missing_class);
  g_test_add_func ("/ane/private/missing-selector", test_missing_selector);
  g_test_add_func ("/ane/private/failures", test_failures);
  return g_test_run ();
}
