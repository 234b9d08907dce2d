/* test-gguf.c: the GGUF reader, against files the tests write themselves
 *
 * - round trips: GGUF v2 and v3 files with every metadata value type (and
 *   arrays of each), tensors of every supported ggml type, at alignments 32,
 *   64, 16, 8 and 1, are read back exactly: metadata values, tensor names,
 *   dtypes, shapes (ggml's ne reversed) and bytes (zero-copy, aligned);
 * - the block tensors of Q8_0, Q4_0 and Q4_K dequantize (ane_dequant_blocks)
 *   to the values computed here from the block formulas;
 * - hostile files: every strict prefix of a valid file, every single-byte
 *   corruption, and a table of hand-built malformed files (huge lengths and
 *   counts, bad dims, offsets, overlaps, types, versions, alignments) all fail
 *   with a GError and never read out of bounds (the suite also runs under
 *   ASan+UBSan; the inputs are exact-size heap copies so that any over-read
 *   is caught).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "ane-test-util.h"
#include "ane-reference-private.h"
#include "gguf/ane-gguf-writer-private.h"

/* --- deterministic data ------------------------------------------------- */

static guint32
lcg (guint32 *state)
{
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

static void
put_half (guint8 *p, float v)
{
  guint16 h = GUINT16_TO_LE (ane_float_to_half (v));
  memcpy (p, &h, 2);
}

/* The byte offsets of the fp16 scales in each block type (ggml-common.h), so
 * that random blocks carry finite, modest scales. */
static void
fix_scales (AneDType dtype, guint8 *b, guint32 *state)
{
  float d = 0.01f + (lcg (state) % 100) / 1000.0f;
  float m = 0.005f + (lcg (state) % 100) / 2000.0f;

  switch (dtype)
    {
    case ANE_DTYPE_Q8_0: case ANE_DTYPE_Q4_0: case ANE_DTYPE_Q5_0:
      put_half (b, d);
      break;
    case ANE_DTYPE_Q4_1: case ANE_DTYPE_Q5_1: case ANE_DTYPE_Q4_K: case ANE_DTYPE_Q5_K:
      put_half (b, d);
      put_half (b + 2, m);
      break;
    case ANE_DTYPE_Q2_K:
      put_half (b + 80, d);
      put_half (b + 82, m);
      break;
    case ANE_DTYPE_Q3_K:
      put_half (b + 108, d);
      break;
    case ANE_DTYPE_Q6_K:
      put_half (b + 208, d);
      break;
    case ANE_DTYPE_Q8_K:
      {
        guint32 bits;
        memcpy (&bits, &d, 4);
        bits = GUINT32_TO_LE (bits);
        memcpy (b, &bits, 4);
        break;
      }
    default:
      break;
    }
}

static guint
elem_bytes (AneDType dtype)
{
  switch (dtype)
    {
    case ANE_DTYPE_FLOAT32: case ANE_DTYPE_INT32: return 4;
    case ANE_DTYPE_FLOAT16: case ANE_DTYPE_BFLOAT16: case ANE_DTYPE_INT16: return 2;
    case ANE_DTYPE_INT64: return 8;
    default: return 1;
    }
}

/* Bytes for n_elements of dtype: blocks with sane scales, or random elements
 * (finite floats). */
static GBytes *
make_data (AneDType dtype, gsize n_elements, guint32 seed)
{
  guint32 state = seed;
  gsize n;
  guint8 *p;

  if (ane_dtype_is_block (dtype))
    n = n_elements / ane_dtype_block_size (dtype) * ane_dtype_block_bytes (dtype);
  else
    n = n_elements * elem_bytes (dtype);
  p = g_malloc (n);
  for (gsize i = 0; i < n; i++)
    p[i] = lcg (&state);
  if (ane_dtype_is_block (dtype))
    {
      guint bb = ane_dtype_block_bytes (dtype);
      for (gsize off = 0; off < n; off += bb)
        fix_scales (dtype, p + off, &state);
    }
  else if (dtype == ANE_DTYPE_FLOAT32)
    for (gsize i = 0; i < n_elements; i++)
      {
        float v = ((float) (lcg (&state) % 2001) - 1000.0f) / 64.0f;
        memcpy (p + 4 * i, &v, 4);
      }
  else if (dtype == ANE_DTYPE_FLOAT16)
    for (gsize i = 0; i < n_elements; i++)
      put_half (p + 2 * i, ((float) (lcg (&state) % 2001) - 1000.0f) / 64.0f);
  else if (dtype == ANE_DTYPE_BFLOAT16)
    for (gsize i = 0; i < n_elements; i++)
      {
        guint16 h = GUINT16_TO_LE (ane_float_to_bfloat16 (((float) (lcg (&state) % 2001) - 1000.0f) / 64.0f));
        memcpy (p + 2 * i, &h, 2);
      }
  return g_bytes_new_take (p, n);
}

/* --- the round trip ------------------------------------------------------ */

typedef struct
{
  guint version;
  guint alignment;
} RoundTrip;

static const AneDType all_dtypes[] = {
  ANE_DTYPE_FLOAT32, ANE_DTYPE_FLOAT16, ANE_DTYPE_BFLOAT16,
  ANE_DTYPE_INT8, ANE_DTYPE_INT16, ANE_DTYPE_INT32, ANE_DTYPE_INT64,
  ANE_DTYPE_Q8_0, ANE_DTYPE_Q4_0, ANE_DTYPE_Q4_1, ANE_DTYPE_Q5_0, ANE_DTYPE_Q5_1,
  ANE_DTYPE_Q2_K, ANE_DTYPE_Q3_K, ANE_DTYPE_Q4_K, ANE_DTYPE_Q5_K, ANE_DTYPE_Q6_K,
  ANE_DTYPE_Q8_K,
};

/* ne (ggml order) for a tensor of dtype: two blocks per row, three rows; or
 * a 3-d [5, 3, 2] for the plain types. */
static guint
tensor_ne (AneDType dtype, gint64 *ne)
{
  if (ane_dtype_is_block (dtype))
    {
      ne[0] = 2 * ane_dtype_block_size (dtype);
      ne[1] = 3;
      return 2;
    }
  ne[0] = 5;
  ne[1] = 3;
  ne[2] = 2;
  return 3;
}

static const guint8  u8s[]  = { 0, 1, 255 };
static const gint8   i8s[]  = { -128, 0, 127 };
static const guint16 u16s[] = { 0, 65535 };
static const gint16  i16s[] = { -32768, 32767 };
static const guint32 u32s[] = { 0, 4000000000u };
static const gint32  i32s[] = { G_MININT32, -1, G_MAXINT32 };
static const float   f32s[] = { 0.5f, -1.25f, 3.0e10f };
static const guint8  bools[] = { 1, 0, 1 };
static const guint64 u64s[] = { 0, G_MAXINT64 };
static const gint64  i64s[] = { G_MININT64, 7 };
static const double  f64s[] = { G_PI, -0.0, 1e300 };
static const char   *strs[] = { "a", "", "h\xc3\xa9llo", "<0x0A>", NULL };

static AneGgufWriter *
make_writer (guint version, guint alignment)
{
  AneGgufWriter *w = ane_gguf_writer_new (version, alignment);

  ane_gguf_writer_add_string (w, "general.architecture", "llama");
  ane_gguf_writer_add_int (w, "k.u8", ANE_GGUF_VALUE_TYPE_UINT8, 200);
  ane_gguf_writer_add_int (w, "k.i8", ANE_GGUF_VALUE_TYPE_INT8, -100);
  ane_gguf_writer_add_int (w, "k.u16", ANE_GGUF_VALUE_TYPE_UINT16, 60000);
  ane_gguf_writer_add_int (w, "k.i16", ANE_GGUF_VALUE_TYPE_INT16, -30000);
  ane_gguf_writer_add_int (w, "k.u32", ANE_GGUF_VALUE_TYPE_UINT32, 4000000000u);
  ane_gguf_writer_add_int (w, "k.i32", ANE_GGUF_VALUE_TYPE_INT32, -2000000000);
  ane_gguf_writer_add_float (w, "k.f32", ANE_GGUF_VALUE_TYPE_FLOAT32, 1.5);
  ane_gguf_writer_add_int (w, "k.bool", ANE_GGUF_VALUE_TYPE_BOOL, 1);
  ane_gguf_writer_add_uint64 (w, "k.u64", 123456789012345ull);
  ane_gguf_writer_add_uint64 (w, "k.u64max", G_MAXUINT64);
  ane_gguf_writer_add_int (w, "k.i64", ANE_GGUF_VALUE_TYPE_INT64, G_MININT64);
  ane_gguf_writer_add_float (w, "k.f64", ANE_GGUF_VALUE_TYPE_FLOAT64, G_PI);
  ane_gguf_writer_add_array (w, "a.u8", ANE_GGUF_VALUE_TYPE_UINT8, u8s, G_N_ELEMENTS (u8s));
  ane_gguf_writer_add_array (w, "a.i8", ANE_GGUF_VALUE_TYPE_INT8, i8s, G_N_ELEMENTS (i8s));
  ane_gguf_writer_add_array (w, "a.u16", ANE_GGUF_VALUE_TYPE_UINT16, u16s, G_N_ELEMENTS (u16s));
  ane_gguf_writer_add_array (w, "a.i16", ANE_GGUF_VALUE_TYPE_INT16, i16s, G_N_ELEMENTS (i16s));
  ane_gguf_writer_add_array (w, "a.u32", ANE_GGUF_VALUE_TYPE_UINT32, u32s, G_N_ELEMENTS (u32s));
  ane_gguf_writer_add_array (w, "a.i32", ANE_GGUF_VALUE_TYPE_INT32, i32s, G_N_ELEMENTS (i32s));
  ane_gguf_writer_add_array (w, "a.f32", ANE_GGUF_VALUE_TYPE_FLOAT32, f32s, G_N_ELEMENTS (f32s));
  ane_gguf_writer_add_array (w, "a.bool", ANE_GGUF_VALUE_TYPE_BOOL, bools, G_N_ELEMENTS (bools));
  ane_gguf_writer_add_array (w, "a.u64", ANE_GGUF_VALUE_TYPE_UINT64, u64s, G_N_ELEMENTS (u64s));
  ane_gguf_writer_add_array (w, "a.i64", ANE_GGUF_VALUE_TYPE_INT64, i64s, G_N_ELEMENTS (i64s));
  ane_gguf_writer_add_array (w, "a.f64", ANE_GGUF_VALUE_TYPE_FLOAT64, f64s, G_N_ELEMENTS (f64s));
  ane_gguf_writer_add_strings (w, "a.str", strs, G_N_ELEMENTS (strs) - 1);
  ane_gguf_writer_add_array (w, "a.empty", ANE_GGUF_VALUE_TYPE_INT32, NULL, 0);
  return w;
}

static void
check_metadata (AneGgufFile *f)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) keys = ane_gguf_file_list_keys (f);
  gint64 iv;
  double fv;
  gboolean bv;
  AneGgufValueType type, etype;
  guint64 n;
  gsize nv;

  g_assert_cmpstr (ane_gguf_file_get_architecture (f), ==, "llama");
  /* File order, with general.alignment first when it was written. */
  g_assert_cmpstr (keys[ane_gguf_file_get_alignment (f) == 32 ? 0 : 1], ==, "general.architecture");
  g_assert_cmpuint (g_strv_length (keys), ==, 26 + (ane_gguf_file_get_alignment (f) != 32));

  {
    static const struct { const char *key; gint64 value; AneGgufValueType type; } ints[] = {
      { "k.u8", 200, ANE_GGUF_VALUE_TYPE_UINT8 },
      { "k.i8", -100, ANE_GGUF_VALUE_TYPE_INT8 },
      { "k.u16", 60000, ANE_GGUF_VALUE_TYPE_UINT16 },
      { "k.i16", -30000, ANE_GGUF_VALUE_TYPE_INT16 },
      { "k.u32", 4000000000ll, ANE_GGUF_VALUE_TYPE_UINT32 },
      { "k.i32", -2000000000, ANE_GGUF_VALUE_TYPE_INT32 },
      { "k.u64", 123456789012345ll, ANE_GGUF_VALUE_TYPE_UINT64 },
      { "k.i64", G_MININT64, ANE_GGUF_VALUE_TYPE_INT64 },
    };
    for (guint i = 0; i < G_N_ELEMENTS (ints); i++)
      {
        g_assert_true (ane_gguf_file_get_int (f, ints[i].key, &iv, &error));
        g_assert_no_error (error);
        g_assert_cmpint (iv, ==, ints[i].value);
        g_assert_true (ane_gguf_file_get_value_type (f, ints[i].key, &type, &etype, &n));
        g_assert_cmpint (type, ==, ints[i].type);
        g_assert_cmpint (etype, ==, ints[i].type);
        g_assert_cmpuint (n, ==, 1);
      }
  }
  g_assert_false (ane_gguf_file_get_int (f, "k.u64max", &iv, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW);
  g_clear_error (&error);

  g_assert_true (ane_gguf_file_get_float (f, "k.f32", &fv, &error));
  g_assert_cmpfloat (fv, ==, 1.5);
  g_assert_true (ane_gguf_file_get_float (f, "k.f64", &fv, &error));
  g_assert_cmpfloat (fv, ==, G_PI);
  g_assert_true (ane_gguf_file_get_bool (f, "k.bool", &bv, &error));
  g_assert_true (bv);
  g_assert_no_error (error);

  /* Wrong types and missing keys. */
  g_assert_null (ane_gguf_file_get_string (f, "k.u8", &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_assert_nonnull (strstr (error->message, "'k.u8'"));
  g_clear_error (&error);
  g_assert_false (ane_gguf_file_get_int (f, "k.f32", &iv, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_clear_error (&error);
  g_assert_false (ane_gguf_file_get_int (f, "a.i32", &iv, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_clear_error (&error);
  g_assert_false (ane_gguf_file_get_float (f, "nope", &fv, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (ane_gguf_file_get_value_type (f, "nope", NULL, NULL, NULL));
  g_assert_false (ane_gguf_file_has_key (f, "nope"));
  g_assert_true (ane_gguf_file_has_key (f, "a.str"));

  /* Arrays. */
  {
    g_autofree gint64 *v = ane_gguf_file_dup_ints (f, "a.u8", &nv, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (nv, ==, 3);
    g_assert_cmpint (v[0], ==, 0); g_assert_cmpint (v[1], ==, 1); g_assert_cmpint (v[2], ==, 255);
  }
#define CHECK_INTS(key, arr) G_STMT_START {                                   \
    g_autofree gint64 *v = ane_gguf_file_dup_ints (f, key, &nv, &error);       \
    g_assert_no_error (error);                                                \
    g_assert_cmpuint (nv, ==, G_N_ELEMENTS (arr));                            \
    for (gsize k = 0; k < nv; k++)                                            \
      g_assert_cmpint (v[k], ==, (gint64) arr[k]);                            \
    g_assert_true (ane_gguf_file_get_value_type (f, key, &type, &etype, &n));  \
    g_assert_cmpint (type, ==, ANE_GGUF_VALUE_TYPE_ARRAY);                    \
    g_assert_cmpuint (n, ==, G_N_ELEMENTS (arr));                             \
  } G_STMT_END
  CHECK_INTS ("a.i8", i8s);
  CHECK_INTS ("a.u16", u16s);
  CHECK_INTS ("a.i16", i16s);
  CHECK_INTS ("a.u32", u32s);
  CHECK_INTS ("a.i32", i32s);
  CHECK_INTS ("a.bool", bools);
  CHECK_INTS ("a.u64", u64s);
  CHECK_INTS ("a.i64", i64s);
#undef CHECK_INTS
  g_assert_true (ane_gguf_file_get_value_type (f, "a.bool", NULL, &etype, NULL));
  g_assert_cmpint (etype, ==, ANE_GGUF_VALUE_TYPE_BOOL);
  {
    g_autofree double *v = ane_gguf_file_dup_floats (f, "a.f32", &nv, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (nv, ==, 3);
    for (gsize k = 0; k < nv; k++)
      g_assert_cmpfloat (v[k], ==, f32s[k]);
  }
  {
    g_autofree double *v = ane_gguf_file_dup_floats (f, "a.f64", &nv, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (nv, ==, 3);
    for (gsize k = 0; k < nv; k++)
      g_assert_cmpmem (&v[k], 8, &f64s[k], 8);
  }
  {
    g_autofree gint64 *v = ane_gguf_file_dup_ints (f, "a.empty", &nv, &error);
    g_assert_no_error (error);
    g_assert_nonnull (v);
    g_assert_cmpuint (nv, ==, 0);
  }
  {
    g_auto(GStrv) v = ane_gguf_file_dup_strings (f, "a.str", &error);
    g_assert_no_error (error);
    g_assert_cmpstrv (v, strs);
  }
  g_assert_null (ane_gguf_file_dup_strings (f, "a.i32", &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_clear_error (&error);
  g_assert_null (ane_gguf_file_dup_ints (f, "a.f32", &nv, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_clear_error (&error);

  /* The GVariant forms. */
  {
    static const struct { const char *key, *text; } variants[] = {
      { "general.architecture", "'llama'" },
      { "k.u8", "byte 0xc8" },
      { "k.i8", "int16 -100" },
      { "k.u16", "uint16 60000" },
      { "k.i16", "int16 -30000" },
      { "k.u32", "uint32 4000000000" },
      { "k.i32", "-2000000000" },
      { "k.f32", "1.5" },
      { "k.bool", "true" },
      { "k.u64max", "uint64 18446744073709551615" },
      { "k.i64", "int64 -9223372036854775808" },
      { "a.u8", "[byte 0x00, 0x01, 0xff]" },
      { "a.i8", "[int16 -128, 0, 127]" },
      { "a.bool", "[true, false, true]" },
      { "a.f32", "[0.5, -1.25, 30000001024.0]" },
      { "a.u64", "[uint64 0, 9223372036854775807]" },
      { "a.str", "['a', '', 'h\xc3\xa9llo', '<0x0A>']" },
      { "a.empty", "@ai []" },
    };
    for (guint i = 0; i < G_N_ELEMENTS (variants); i++)
      {
        g_autoptr(GVariant) got = ane_gguf_file_dup_value (f, variants[i].key, &error);
        g_autoptr(GVariant) want = g_variant_new_parsed (variants[i].text);
        g_assert_no_error (error);
        if (!g_variant_equal (got, want))
          {
            g_autofree char *s = g_variant_print (got, TRUE);
            g_error ("%s: got %s, want %s", variants[i].key, s, variants[i].text);
          }
      }
    g_assert_null (ane_gguf_file_dup_value (f, "nope", &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
}

static void
test_round_trip (gconstpointer data)
{
  const RoundTrip *rt = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-gguf-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "model.gguf", NULL);
  g_autoptr(AneGgufWriter) w = make_writer (rt->version, rt->alignment);
  g_autoptr(GPtrArray) datas = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(AneGgufFile) f = NULL;
  g_autoptr(AneTensor) keep = NULL;
  g_auto(GStrv) names = NULL;
  static const gint64 ne4[] = { 2, 3, 1, 2 }, ne1[] = { 7 };
  g_autoptr(GBytes) d4 = make_data (ANE_DTYPE_FLOAT32, 12, 99);
  g_autoptr(GBytes) d1 = make_data (ANE_DTYPE_INT32, 7, 98);

  for (guint i = 0; i < G_N_ELEMENTS (all_dtypes); i++)
    {
      gint64 ne[4];
      guint n_dims = tensor_ne (all_dtypes[i], ne);
      gsize n_el = 1;
      guint32 ggml;
      g_autofree char *name = g_strdup_printf ("t.%s", ane_dtype_to_string (all_dtypes[i]));
      GBytes *d;

      for (guint k = 0; k < n_dims; k++)
        n_el *= ne[k];
      d = make_data (all_dtypes[i], n_el, 1000 + i);
      g_ptr_array_add (datas, d);
      g_assert_true (ane_gguf_ggml_type_from_dtype (all_dtypes[i], &ggml));
      ane_gguf_writer_add_tensor (w, name, ggml, ne, n_dims, d);
    }
  ane_gguf_writer_add_tensor (w, "t.4d", ANE_GGML_TYPE_F32, ne4, 4, d4);
  ane_gguf_writer_add_tensor (w, "t.1d", ANE_GGML_TYPE_I32, ne1, 1, d1);
  g_assert_true (ane_gguf_writer_write (w, path, &error));
  g_assert_no_error (error);

  f = ane_gguf_file_new (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f);
  g_assert_cmpstr (ane_gguf_file_get_path (f), ==, path);
  g_assert_cmpuint (ane_gguf_file_get_version (f), ==, rt->version);
  g_assert_cmpuint (ane_gguf_file_get_alignment (f), ==, rt->alignment);
  g_assert_cmpuint (ane_gguf_file_get_data_offset (f) % rt->alignment, ==, 0);
  g_assert_cmpuint (ane_gguf_file_get_n_tensors (f), ==, G_N_ELEMENTS (all_dtypes) + 2);
  check_metadata (f);

  names = ane_gguf_file_list_tensors (f);
  g_assert_cmpuint (g_strv_length (names), ==, G_N_ELEMENTS (all_dtypes) + 2);
  for (guint i = 0; i < G_N_ELEMENTS (all_dtypes); i++)
    {
      g_autoptr(AneTensor) t = ane_gguf_file_dup_tensor (f, names[i], &error);
      gint64 ne[4];
      guint n_dims = tensor_ne (all_dtypes[i], ne), rank;
      const gint64 *shape;
      GBytes *got;
      gsize n;
      const guint8 *p;

      g_assert_no_error (error);
      g_assert_cmpstr (ane_tensor_get_name (t), ==, names[i]);
      g_assert_cmpint (ane_tensor_get_dtype (t), ==, all_dtypes[i]);
      shape = ane_tensor_get_shape (t, &rank);
      g_assert_cmpuint (rank, ==, n_dims);
      for (guint k = 0; k < rank; k++)
        g_assert_cmpint (shape[k], ==, ne[n_dims - 1 - k]);
      got = ane_tensor_get_data (t);
      g_assert_true (g_bytes_equal (got, g_ptr_array_index (datas, i)));
      /* Zero-copy out of a page-aligned mapping: the data sits at the
       * file's alignment in memory too. */
      p = g_bytes_get_data (got, &n);
      g_assert_cmpuint (GPOINTER_TO_SIZE (p) % rt->alignment, ==, 0);
    }
  {
    g_autoptr(AneTensor) t = ane_gguf_file_dup_tensor (f, "t.4d", &error);
    guint rank;
    const gint64 *shape = ane_tensor_get_shape (t, &rank);
    g_assert_no_error (error);
    g_assert_cmpuint (rank, ==, 4);
    g_assert_cmpint (shape[0], ==, 2); g_assert_cmpint (shape[1], ==, 1);
    g_assert_cmpint (shape[2], ==, 3); g_assert_cmpint (shape[3], ==, 2);
    g_assert_true (g_bytes_equal (ane_tensor_get_data (t), d4));
    keep = ane_gguf_file_dup_tensor (f, "t.1d", &error);
    g_assert_no_error (error);
    g_assert_cmpint (ane_tensor_get_dim (keep, 0), ==, 7);
  }
  g_assert_null (ane_gguf_file_dup_tensor (f, "nope", &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The tensor keeps the mapping alive after the file object is gone. */
  g_clear_object (&f);
  g_assert_true (g_bytes_equal (ane_tensor_get_data (keep), d1));

  ane_test_remove_tree (dir);
}

/* --- dequantization -------------------------------------------------------- */

static float
half_at (const guint8 *p)
{
  guint16 h;
  memcpy (&h, p, 2);
  return ane_half_to_float (GUINT16_FROM_LE (h));
}

/* The block formulas of ggml-quants.c (dequantize_row_*), computed here. */
static void
expect_q8_0 (const guint8 *b, double *y)
{
  float d = half_at (b);
  for (int j = 0; j < 32; j++)
    y[j] = (float) ((double) d * (gint8) b[2 + j]);
}

static void
expect_q4_0 (const guint8 *b, double *y)
{
  float d = half_at (b);
  for (int j = 0; j < 16; j++)
    {
      y[j] = (float) ((double) d * ((b[2 + j] & 0xf) - 8));
      y[j + 16] = (float) ((double) d * ((b[2 + j] >> 4) - 8));
    }
}

static void
expect_q4_k (const guint8 *b, double *y)
{
  float d = half_at (b), dmin = half_at (b + 2);
  const guint8 *sc = b + 4, *q = b + 16;

  /* 8 sub-blocks of 32: 6-bit scale and min each, packed in 12 bytes. */
  for (int j = 0; j < 8; j++)
    {
      int s, m;
      float ds, dm;

      if (j < 4)
        {
          s = sc[j] & 63;
          m = sc[j + 4] & 63;
        }
      else
        {
          s = (sc[j + 4] & 0xf) | ((sc[j - 4] >> 6) << 4);
          m = (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
        }
      ds = (float) ((double) d * s);
      dm = (float) ((double) dmin * m);
      /* Sub-blocks 2i and 2i+1 share 32 bytes: low then high nibbles. */
      for (int l = 0; l < 32; l++)
        {
          int nib = (j % 2 == 0) ? (q[(j / 2) * 32 + l] & 0xf) : (q[(j / 2) * 32 + l] >> 4);
          float p = (float) ((double) ds * nib);
          y[j * 32 + l] = (float) ((double) p - dm);
        }
    }
}

static void
test_dequant (void)
{
  static const struct { AneDType dtype; guint32 ggml; void (*expect) (const guint8 *, double *); } cases[] = {
    { ANE_DTYPE_Q8_0, ANE_GGML_TYPE_Q8_0, expect_q8_0 },
    { ANE_DTYPE_Q4_0, ANE_GGML_TYPE_Q4_0, expect_q4_0 },
    { ANE_DTYPE_Q4_K, ANE_GGML_TYPE_Q4_K, expect_q4_k },
  };
  g_autoptr(AneGgufWriter) w = ane_gguf_writer_new (3, 32);
  g_autoptr(GBytes) file = NULL;
  g_autoptr(AneGgufFile) f = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gint64 ne[2] = { 2 * ane_dtype_block_size (cases[i].dtype), 4 };
      g_autoptr(GBytes) d = make_data (cases[i].dtype, ne[0] * ne[1], 7 + i);
      ane_gguf_writer_add_tensor (w, ane_dtype_to_string (cases[i].dtype), cases[i].ggml, ne, 2, d);
    }
  file = ane_gguf_writer_to_bytes (w);
  f = ane_gguf_file_new_from_bytes (file, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(AneTensor) t = ane_gguf_file_dup_tensor (f, ane_dtype_to_string (cases[i].dtype), &error);
      gsize n_el, n_bytes, bs = ane_dtype_block_size (cases[i].dtype), bb = ane_dtype_block_bytes (cases[i].dtype);
      const guint8 *p;
      g_autofree double *got = NULL, *want = NULL;

      g_assert_no_error (error);
      n_el = ane_tensor_get_n_elements (t);
      g_assert_cmpuint (ane_tensor_get_dim (t, 0), ==, 4);
      p = g_bytes_get_data (ane_tensor_get_data (t), &n_bytes);
      got = g_new (double, n_el);
      want = g_new (double, n_el);
      g_assert_true (ane_dequant_blocks (cases[i].dtype, p, n_bytes, n_el, got, &error));
      g_assert_no_error (error);
      for (gsize b = 0; b < n_el / bs; b++)
        cases[i].expect (p + b * bb, want + b * bs);
      for (gsize k = 0; k < n_el; k++)
        if (got[k] != want[k])
          g_error ("%s element %" G_GSIZE_FORMAT ": got %.9g, want %.9g",
                   ane_dtype_to_string (cases[i].dtype), k, got[k], want[k]);
      g_test_message ("%s: %" G_GSIZE_FORMAT " values match", ane_dtype_to_string (cases[i].dtype), n_el);
    }
}

/* --- hostile files ------------------------------------------------------- */

/* A small valid file touching every parser: strings, numeric and string
 * arrays, alignment, two tensors whose data ends exactly at the end of the
 * file (so every strict prefix is invalid). */
static GBytes *
small_file (void)
{
  g_autoptr(AneGgufWriter) w = ane_gguf_writer_new (3, 16);
  static const gint64 ne_a[] = { 4 }, ne_b[] = { 32, 1 };
  g_autoptr(GBytes) da = make_data (ANE_DTYPE_FLOAT32, 4, 1);
  g_autoptr(GBytes) db = make_data (ANE_DTYPE_Q8_0, 32, 2);
  static const char *toks[] = { "x", "yz" };
  static const gint32 ints[] = { 1, 2 };
  GBytes *bytes;
  gsize n;

  ane_gguf_writer_add_string (w, "general.architecture", "t");
  ane_gguf_writer_add_strings (w, "tok", toks, 2);
  ane_gguf_writer_add_array (w, "ids", ANE_GGUF_VALUE_TYPE_INT32, ints, 2);
  ane_gguf_writer_add_float (w, "eps", ANE_GGUF_VALUE_TYPE_FLOAT64, 1e-5);
  ane_gguf_writer_add_tensor (w, "a", ANE_GGML_TYPE_F32, ne_a, 1, da);
  ane_gguf_writer_add_tensor (w, "b", ANE_GGML_TYPE_Q8_0, ne_b, 2, db);
  bytes = ane_gguf_writer_to_bytes (w);
  /* Drop the final padding (34 bytes of Q8_0 data end off the alignment). */
  n = g_bytes_get_size (bytes);
  {
    g_autoptr(AneGgufFile) f = ane_gguf_file_new_from_bytes (bytes, NULL);
    gsize end = ane_gguf_file_get_data_offset (f) + 16 + 34;
    GBytes *trimmed;
    g_assert_cmpuint (end, <=, n);
    trimmed = g_bytes_new (g_bytes_get_data (bytes, NULL), end);
    g_bytes_unref (bytes);
    return trimmed;
  }
}

/* Parses an exact-size heap copy, so ASan sees any over-read. */
static AneGgufFile *
parse_copy (const guint8 *data, gsize n, GError **error)
{
  g_autoptr(GBytes) b = g_bytes_new (data, n);
  return ane_gguf_file_new_from_bytes (b, error);
}

static void
test_truncated (void)
{
  g_autoptr(GBytes) file = small_file ();
  gsize n;
  const guint8 *p = g_bytes_get_data (file, &n);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGgufFile) whole = parse_copy (p, n, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (ane_gguf_file_get_n_tensors (whole), ==, 2);
  for (gsize len = 0; len < n; len++)
    {
      g_autoptr(AneGgufFile) f = parse_copy (p, len, &error);
      if (f != NULL)
        g_error ("a %" G_GSIZE_FORMAT "-byte prefix of a %" G_GSIZE_FORMAT "-byte file parsed", len, n);
      g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
      g_assert_nonnull (strstr (error->message, "<memory>"));
      g_clear_error (&error);
    }
  g_test_message ("%" G_GSIZE_FORMAT " prefixes rejected", n);
}

/* Every byte replaced by a few values: parse or fail cleanly, never crash. */
static void
test_corrupted (void)
{
  g_autoptr(GBytes) file = small_file ();
  gsize n;
  const guint8 *p = g_bytes_get_data (file, &n);
  g_autofree guint8 *copy = g_memdup2 (p, n);
  static const guint8 values[] = { 0x00, 0x01, 0x07, 0x80, 0xff };
  guint n_failed = 0;

  for (gsize i = 0; i < n; i++)
    for (guint v = 0; v < G_N_ELEMENTS (values); v++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(AneGgufFile) f = NULL;

        memcpy (copy, p, n);
        copy[i] = values[v];
        f = parse_copy (copy, n, &error);
        if (f == NULL)
          {
            g_assert_nonnull (error);
            n_failed++;
          }
        else
          {
            /* Whatever parsed must be readable in full. */
            g_auto(GStrv) names = ane_gguf_file_list_tensors (f);
            g_auto(GStrv) keys = ane_gguf_file_list_keys (f);
            for (guint k = 0; names[k]; k++)
              {
                g_autoptr(AneTensor) t = ane_gguf_file_dup_tensor (f, names[k], NULL);
                g_assert_nonnull (t);
              }
            for (guint k = 0; keys[k]; k++)
              {
                g_autoptr(GVariant) val = ane_gguf_file_dup_value (f, keys[k], NULL);
                g_assert_nonnull (val);
              }
          }
      }
  g_test_message ("%u of %" G_GSIZE_FORMAT " corruptions rejected", n_failed, n * G_N_ELEMENTS (values));
}

/* Hand-built files. */
static void
raw_u32 (GByteArray *b, guint32 v)
{
  v = GUINT32_TO_LE (v);
  g_byte_array_append (b, (guint8 *) &v, 4);
}

static void
raw_u64 (GByteArray *b, guint64 v)
{
  v = GUINT64_TO_LE (v);
  g_byte_array_append (b, (guint8 *) &v, 8);
}

static void
raw_str (GByteArray *b, const char *s)
{
  raw_u64 (b, strlen (s));
  g_byte_array_append (b, (const guint8 *) s, strlen (s));
}

static GByteArray *
raw_header (guint32 version, guint64 n_tensors, guint64 n_kv)
{
  GByteArray *b = g_byte_array_new ();
  g_byte_array_append (b, (const guint8 *) "GGUF", 4);
  raw_u32 (b, version);
  raw_u64 (b, n_tensors);
  raw_u64 (b, n_kv);
  return b;
}

static void
raw_kv_u32 (GByteArray *b, const char *key, guint32 type, guint32 v)
{
  raw_str (b, key);
  raw_u32 (b, type);
  raw_u32 (b, v);
}

static void
raw_tensor (GByteArray *b, const char *name, guint32 n_dims, const guint64 *ne,
            guint32 type, guint64 offset)
{
  raw_str (b, name);
  raw_u32 (b, n_dims);
  for (guint i = 0; i < n_dims; i++)
    raw_u64 (b, ne[i]);
  raw_u32 (b, type);
  raw_u64 (b, offset);
}

/* Pads to align and appends n data bytes. */
static GBytes *
raw_finish (GByteArray *b, guint align, gsize n_data)
{
  static const guint8 zero = 0;
  while (b->len % align)
    g_byte_array_append (b, &zero, 1);
  for (gsize i = 0; i < n_data; i++)
    g_byte_array_append (b, &zero, 1);
  return g_byte_array_free_to_bytes (b);
}

/* One F32 tensor "w" of ne, at offset, with n_data bytes of data. */
static GBytes *
one_tensor (guint32 n_dims, const guint64 *ne, guint32 type, guint64 offset, gsize n_data)
{
  GByteArray *b = raw_header (3, 1, 0);
  raw_tensor (b, "w", n_dims, ne, type, offset);
  return raw_finish (b, 32, n_data);
}

static const guint64 ne8[] = { 8 };

static GBytes *c_valid (void) { return one_tensor (1, ne8, 0, 0, 32); }
static GBytes *c_bad_magic (void)
{
  GByteArray *b = raw_header (3, 0, 0);
  b->data[3] = 'G';
  return raw_finish (b, 1, 0);
}
static GBytes *c_version1 (void) { return raw_finish (raw_header (1, 0, 0), 1, 0); }
static GBytes *c_version4 (void) { return raw_finish (raw_header (4, 0, 0), 1, 0); }
static GBytes *c_version_be (void) { return raw_finish (raw_header (0x03000000, 0, 0), 1, 0); }
static GBytes *c_huge_tensor_count (void) { return raw_finish (raw_header (3, G_MAXUINT64, 0), 1, 64); }
static GBytes *c_huge_kv_count (void) { return raw_finish (raw_header (3, 0, G_MAXUINT64 / 2), 1, 64); }
static GBytes *c_huge_key_length (void)
{
  GByteArray *b = raw_header (3, 0, 1);
  raw_u64 (b, G_MAXUINT64);
  return raw_finish (b, 1, 64);
}
static GBytes *c_key_one_past (void)
{
  GByteArray *b = raw_header (3, 0, 1);
  raw_u64 (b, 18);   /* 17 bytes follow: "k", the type and 12 more */
  g_byte_array_append (b, (const guint8 *) "k", 1);
  raw_u32 (b, 4);
  raw_u32 (b, 1);
  raw_u64 (b, 0);
  return raw_finish (b, 1, 0);
}
static GBytes *c_huge_string_value (void)
{
  GByteArray *b = raw_header (3, 0, 1);
  raw_str (b, "k");
  raw_u32 (b, ANE_GGUF_VALUE_TYPE_STRING);
  raw_u64 (b, G_MAXUINT64 - 3);
  return raw_finish (b, 1, 64);
}
static GBytes *c_huge_array (void)
{
  GByteArray *b = raw_header (3, 0, 1);
  raw_str (b, "k");
  raw_u32 (b, ANE_GGUF_VALUE_TYPE_ARRAY);
  raw_u32 (b, ANE_GGUF_VALUE_TYPE_UINT64);
  raw_u64 (b, G_MAXUINT64 / 4);   /* ×8 wraps to a small size */
  return raw_finish (b, 1, 64);
}
static GBytes *c_huge_string_array (void)
{
  GByteArray *b = raw_header (3, 0, 1);
  raw_str (b, "k");
  raw_u32 (b, ANE_GGUF_VALUE_TYPE_ARRAY);
  raw_u32 (b, ANE_GGUF_VALUE_TYPE_STRING);
  raw_u64 (b, 1ull << 60);
  return raw_finish (b, 1, 64);
}
static GBytes *c_array_string_huge (void)
{
  GByteArray *b = raw_header (3, 0, 1);
  raw_str (b, "k");
  raw_u32 (b, ANE_GGUF_VALUE_TYPE_ARRAY);
  raw_u32 (b, ANE_GGUF_VALUE_TYPE_STRING);
  raw_u64 (b, 2);
  raw_str (b, "ok");
  raw_u64 (b, 1ull << 40);
  return raw_finish (b, 1, 16);
}
static GBytes *c_unknown_value_type (void)
{
  GByteArray *b = raw_header (3, 0, 1);
  raw_kv_u32 (b, "k", 13, 0);
  return raw_finish (b, 1, 16);
}
static GBytes *c_unknown_element_type (void)
{
  GByteArray *b = raw_header (3, 0, 1);
  raw_str (b, "k");
  raw_u32 (b, ANE_GGUF_VALUE_TYPE_ARRAY);
  raw_u32 (b, 200);
  raw_u64 (b, 0);
  return raw_finish (b, 1, 16);
}
static GBytes *c_nested_array (void)
{
  GByteArray *b = raw_header (3, 0, 1);
  raw_str (b, "k");
  raw_u32 (b, ANE_GGUF_VALUE_TYPE_ARRAY);
  raw_u32 (b, ANE_GGUF_VALUE_TYPE_ARRAY);
  raw_u64 (b, 1);
  raw_u32 (b, ANE_GGUF_VALUE_TYPE_UINT8);
  raw_u64 (b, 0);
  return raw_finish (b, 1, 16);
}
static GBytes *c_truncated_value (void)
{
  GByteArray *b = raw_header (3, 0, 1);
  raw_str (b, "k");
  raw_u32 (b, ANE_GGUF_VALUE_TYPE_FLOAT64);
  raw_u32 (b, 0);
  return raw_finish (b, 1, 0);
}
static GBytes *c_duplicate_key (void)
{
  GByteArray *b = raw_header (3, 0, 2);
  raw_kv_u32 (b, "k", ANE_GGUF_VALUE_TYPE_UINT32, 1);
  raw_kv_u32 (b, "k", ANE_GGUF_VALUE_TYPE_UINT32, 2);
  return raw_finish (b, 1, 0);
}
static GBytes *c_bad_utf8_key (void)
{
  GByteArray *b = raw_header (3, 0, 1);
  raw_kv_u32 (b, "k\xff", ANE_GGUF_VALUE_TYPE_UINT32, 1);
  return raw_finish (b, 1, 0);
}
static GBytes *c_alignment_zero (void)
{
  GByteArray *b = raw_header (3, 1, 1);
  raw_kv_u32 (b, "general.alignment", ANE_GGUF_VALUE_TYPE_UINT32, 0);
  raw_tensor (b, "w", 1, ne8, 0, 0);
  return raw_finish (b, 32, 32);
}
static GBytes *c_alignment_48 (void)
{
  GByteArray *b = raw_header (3, 1, 1);
  raw_kv_u32 (b, "general.alignment", ANE_GGUF_VALUE_TYPE_UINT32, 48);
  raw_tensor (b, "w", 1, ne8, 0, 0);
  return raw_finish (b, 48, 32);
}
static GBytes *c_alignment_type (void)
{
  GByteArray *b = raw_header (3, 0, 1);
  raw_kv_u32 (b, "general.alignment", ANE_GGUF_VALUE_TYPE_INT32, 32);
  return raw_finish (b, 1, 0);
}
static GBytes *c_n_dims (void)
{
  static const guint64 ne[] = { 1, 1, 1, 1, 8 };
  return one_tensor (5, ne, 0, 0, 32);
}
static GBytes *c_n_dims_huge (void)
{
  GByteArray *b = raw_header (3, 1, 0);
  raw_str (b, "w");
  raw_u32 (b, G_MAXUINT32);
  raw_u64 (b, 8);
  raw_u32 (b, 0);
  raw_u64 (b, 0);
  return raw_finish (b, 32, 32);
}
static GBytes *c_dims_overflow (void)
{
  static const guint64 ne[] = { 1ull << 32, 1ull << 32 };
  return one_tensor (2, ne, 0, 0, 32);
}
static GBytes *c_dims_overflow_int64 (void)
{
  static const guint64 ne[] = { 1ull << 62, 2 };
  return one_tensor (2, ne, 0, 0, 32);
}
static GBytes *c_bytes_overflow (void)
{
  static const guint64 ne[] = { 1ull << 62 };   /* ×4 bytes wraps */
  return one_tensor (1, ne, 0, 0, 32);
}
static GBytes *c_negative_dim (void)
{
  static const guint64 ne[] = { 8, (guint64) -1 };
  return one_tensor (2, ne, 0, 0, 32);
}
static GBytes *c_offset_past_end (void) { return one_tensor (1, ne8, 0, 32, 32); }
static GBytes *c_offset_huge (void) { return one_tensor (1, ne8, 0, G_MAXUINT64 - 31, 32); }
static GBytes *c_data_past_end (void) { return one_tensor (1, ne8, 0, 0, 31); }
static GBytes *c_misaligned (void) { return one_tensor (1, ne8, 0, 4, 64); }
static GBytes *c_unknown_ggml_type (void) { return one_tensor (1, ne8, 99, 0, 32); }
static GBytes *c_unsupported_ggml_type (void) { return one_tensor (1, ne8, 16, 0, 32); }
static GBytes *c_block_ne0 (void)
{
  static const guint64 ne[] = { 16 };
  return one_tensor (1, ne, ANE_GGML_TYPE_Q8_0, 0, 64);
}
static GBytes *c_block_scalar (void) { return one_tensor (0, NULL, ANE_GGML_TYPE_Q4_0, 0, 32); }
static GBytes *c_overlap (void)
{
  GByteArray *b = raw_header (3, 2, 1);
  raw_kv_u32 (b, "general.alignment", ANE_GGUF_VALUE_TYPE_UINT32, 16);
  raw_tensor (b, "a", 1, ne8, 0, 0);
  raw_tensor (b, "b", 1, ne8, 0, 16);
  return raw_finish (b, 16, 64);
}
static GBytes *c_same_offset (void)
{
  GByteArray *b = raw_header (3, 2, 0);
  raw_tensor (b, "a", 1, ne8, 0, 0);
  raw_tensor (b, "b", 1, ne8, 0, 0);
  return raw_finish (b, 32, 64);
}
static GBytes *c_duplicate_tensor (void)
{
  GByteArray *b = raw_header (3, 2, 0);
  raw_tensor (b, "a", 1, ne8, 0, 0);
  raw_tensor (b, "a", 1, ne8, 0, 32);
  return raw_finish (b, 32, 64);
}

typedef struct
{
  const char *name;
  GBytes *(*build) (void);
  int code;            /* -1: parses */
  const char *substring;
} Hostile;

static const Hostile hostile[] = {
  { "valid",               c_valid,               -1, NULL },
  { "bad-magic",           c_bad_magic,           ANE_ERROR_PARSE, "magic" },
  { "version-1",           c_version1,            ANE_ERROR_UNSUPPORTED, "version 1" },
  { "version-4",           c_version4,            ANE_ERROR_UNSUPPORTED, "version 4" },
  { "version-big-endian",  c_version_be,          ANE_ERROR_UNSUPPORTED, "big-endian" },
  { "huge-tensor-count",   c_huge_tensor_count,   ANE_ERROR_PARSE, "tensor count" },
  { "huge-kv-count",       c_huge_kv_count,       ANE_ERROR_PARSE, "key-value count" },
  { "huge-key-length",     c_huge_key_length,     ANE_ERROR_PARSE, "byte 24" },
  { "key-one-past",        c_key_one_past,        ANE_ERROR_PARSE, "length 18" },
  { "huge-string-value",   c_huge_string_value,   ANE_ERROR_PARSE, "string value" },
  { "huge-array",          c_huge_array,          ANE_ERROR_PARSE, "array count" },
  { "huge-string-array",   c_huge_string_array,   ANE_ERROR_PARSE, "array count" },
  { "array-string-huge",   c_array_string_huge,   ANE_ERROR_PARSE, "element 1" },
  { "unknown-value-type",  c_unknown_value_type,  ANE_ERROR_PARSE, "value type 13" },
  { "unknown-element-type", c_unknown_element_type, ANE_ERROR_PARSE, "element type 200" },
  { "nested-array",        c_nested_array,        ANE_ERROR_UNSUPPORTED, "array of arrays" },
  { "truncated-value",     c_truncated_value,     ANE_ERROR_PARSE, "truncated" },
  { "duplicate-key",       c_duplicate_key,       ANE_ERROR_PARSE, "duplicate key 'k'" },
  { "bad-utf8-key",        c_bad_utf8_key,        ANE_ERROR_PARSE, "UTF-8" },
  { "alignment-0",         c_alignment_zero,      ANE_ERROR_PARSE, "power of two" },
  { "alignment-48",        c_alignment_48,        ANE_ERROR_PARSE, "power of two" },
  { "alignment-type",      c_alignment_type,      ANE_ERROR_PARSE, "not uint32" },
  { "n-dims-5",            c_n_dims,              ANE_ERROR_PARSE, "5 dimensions" },
  { "n-dims-huge",         c_n_dims_huge,         ANE_ERROR_PARSE, "tensor 'w'" },
  { "dims-overflow",       c_dims_overflow,       ANE_ERROR_PARSE, "overflows" },
  { "dims-overflow-int64", c_dims_overflow_int64, ANE_ERROR_PARSE, "overflows" },
  { "bytes-overflow",      c_bytes_overflow,      ANE_ERROR_PARSE, "tensor 'w'" },
  { "negative-dim",        c_negative_dim,        ANE_ERROR_PARSE, "negative" },
  { "offset-past-end",     c_offset_past_end,     ANE_ERROR_PARSE, "past the end" },
  { "offset-huge",         c_offset_huge,         ANE_ERROR_PARSE, "past the end" },
  { "data-past-end",       c_data_past_end,       ANE_ERROR_PARSE, "past the end" },
  { "misaligned-offset",   c_misaligned,          ANE_ERROR_PARSE, "alignment" },
  { "unknown-ggml-type",   c_unknown_ggml_type,   ANE_ERROR_UNSUPPORTED, "ggml type 99" },
  { "unsupported-ggml-type", c_unsupported_ggml_type, ANE_ERROR_UNSUPPORTED, "ggml type 16" },
  { "block-ne0",           c_block_ne0,           ANE_ERROR_PARSE, "block size" },
  { "block-scalar",        c_block_scalar,        ANE_ERROR_PARSE, "block size" },
  { "overlap",             c_overlap,             ANE_ERROR_PARSE, "overlaps" },
  { "same-offset",         c_same_offset,         ANE_ERROR_PARSE, "overlaps" },
  { "duplicate-tensor",    c_duplicate_tensor,    ANE_ERROR_PARSE, "duplicate tensor 'a'" },
};

static void
test_hostile (gconstpointer data)
{
  const Hostile *h = data;
  g_autoptr(GBytes) bytes = h->build ();
  g_autoptr(GError) error = NULL;
  gsize n;
  const guint8 *p = g_bytes_get_data (bytes, &n);
  g_autoptr(AneGgufFile) f = parse_copy (p, n, &error);

  if (h->code < 0)
    {
      g_assert_no_error (error);
      g_assert_nonnull (f);
      return;
    }
  g_assert_null (f);
  g_assert_error (error, ANE_ERROR, h->code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "<memory>"));
  if (strstr (error->message, h->substring) == NULL)
    g_error ("'%s' does not mention '%s'", error->message, h->substring);
}

static void
test_file_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-gguf-XXXXXX");
  g_autofree char *missing = g_build_filename (dir, "missing.gguf", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.gguf", NULL);
  g_autoptr(AneGgufFile) f = ane_gguf_file_new (missing, &error);

  g_assert_null (f);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
  g_clear_error (&error);

  /* A FIFO is refused at once (open(2) for reading would wait for a
   * writer; alarm() turns a hang into a failure), a directory too. */
  {
    g_autofree char *fifo = g_build_filename (dir, "fifo.gguf", NULL);

    g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
    alarm (20);
    f = ane_gguf_file_new (fifo, &error);
    alarm (0);
    g_assert_null (f);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
    g_assert_nonnull (strstr (error->message, fifo));
    g_assert_nonnull (strstr (error->message, "a FIFO"));
    g_clear_error (&error);
    g_unlink (fifo);

    f = ane_gguf_file_new (dir, &error);
    g_assert_null (f);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
    g_assert_nonnull (strstr (error->message, "a directory"));
    g_clear_error (&error);
  }

  /* Errors from a file name the file. */
  ane_test_write_file (bad, "GGUF\x01\0\0\0", 8);
  f = ane_gguf_file_new (bad, &error);
  g_assert_null (f);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, bad));
  g_clear_error (&error);

  /* Empty file: nothing mapped, still an error, not a crash. */
  ane_test_write_file (bad, "", 0);
  f = ane_gguf_file_new (bad, &error);
  g_assert_null (f);
  g_assert_nonnull (error);
  ane_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  static const RoundTrip trips[] = {
    { 3, 32 }, { 2, 32 }, { 3, 64 }, { 2, 16 }, { 3, 16 }, { 3, 8 }, { 2, 1 },
  };

  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (trips); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ane/gguf/round-trip/v%u-align%u",
                                               trips[i].version, trips[i].alignment);
      g_test_add_data_func (path, &trips[i], test_round_trip);
    }
  g_test_add_func ("/ane/gguf/dequant", test_dequant);
  g_test_add_func ("/ane/gguf/hostile/truncated", test_truncated);
  g_test_add_func ("/ane/gguf/hostile/corrupted", test_corrupted);
  g_test_add_func ("/ane/gguf/file-errors", test_file_errors);
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ane/gguf/hostile/%s", hostile[i].name);
      g_test_add_data_func (path, &hostile[i], test_hostile);
    }
  return g_test_run ();
}
