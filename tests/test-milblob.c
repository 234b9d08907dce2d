/* test-milblob.c: MIL Blob Storage v2 (weight.bin) reader/writer, bulk fp16
 *
 * The strongest check here is the /ane/milblob/apple/ tests: every weight.bin of the
 * conformance pack (written by coremltools' C++ StorageWriter) is read and
 * written again, blob by blob, and must come out byte for byte the same.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <signal.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "ane-test-util.h"
#include "mil/ane-milblob-private.h"

/* --- helpers ----------------------------------------------------------- */

static guint32
f2u (float f)
{
  guint32 u;
  memcpy (&u, &f, sizeof u);
  return u;
}

static float
u2f (guint32 u)
{
  float f;
  memcpy (&f, &u, sizeof f);
  return f;
}

static GBytes *
read_file_bytes (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

/* Asserts two buffers are equal, naming the first differing offset. */
static void
assert_same_bytes (const char   *what,
                   const guint8 *got,
                   gsize         got_len,
                   const guint8 *want,
                   gsize         want_len)
{
  for (gsize i = 0; i < MIN (got_len, want_len); i++)
    if (got[i] != want[i])
      g_error ("%s: byte %" G_GSIZE_FORMAT " is 0x%02x, expected 0x%02x", what, i, got[i], want[i]);
  if (got_len != want_len)
    g_error ("%s: %" G_GSIZE_FORMAT " bytes, expected %" G_GSIZE_FORMAT, what, got_len, want_len);
}

typedef struct {
  char *dir;
} TmpDir;

static void
tmp_dir_init (TmpDir *t)
{
  g_autoptr(GError) error = NULL;

  t->dir = g_dir_make_tmp ("ane-milblob-XXXXXX", &error);
  g_assert_no_error (error);
}

static char *
tmp_path (TmpDir     *t,
          const char *name)
{
  return g_build_filename (t->dir, name, NULL);
}

static void
tmp_dir_clear (TmpDir *t)
{
  GDir *dir = g_dir_open (t->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (t->dir, name, NULL);
      g_unlink (path);
    }
  if (dir != NULL)
    g_dir_close (dir);
  g_rmdir (t->dir);
  g_clear_pointer (&t->dir, g_free);
}

/* --- the small file, byte by byte -------------------------------------- */

/* Five blobs that exercise every layout rule: a record right after the
 * header, zero gaps to the next 64-byte boundary, a sub-byte type with
 * padding bits, the float16 conversion path and an empty last blob, which
 * ends the file at its data offset. */
static void
write_small_file (const char *path,
                  guint64     offsets[5])
{
  static const float f32[] = { 1.0f, -2.0f, 0.5f };
  static const guint8 u8[] = { 0xaa };
  static const guint8 int4[] = { 0x01 };   /* one int4 value (1) in the low nibble, 4 padding bits */
  static const float to_f16[] = { 1.0f, 65504.0f, 1e9f };
  g_autoptr(GError) error = NULL;
  AneMilBlobWriter *w;

  w = ane_milblob_writer_new (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_milblob_writer_get_size (w), ==, 64);
  g_assert_true (ane_milblob_writer_add (w, ANE_MILBLOB_FLOAT32, f32, sizeof f32, &offsets[0], &error));
  g_assert_true (ane_milblob_writer_add (w, ANE_MILBLOB_UINT8, u8, sizeof u8, &offsets[1], &error));
  g_assert_true (ane_milblob_writer_add_full (w, ANE_MILBLOB_INT4, int4, sizeof int4, 4, &offsets[2], &error));
  g_assert_true (ane_milblob_writer_add_f32_as_f16 (w, to_f16, G_N_ELEMENTS (to_f16), &offsets[3], &error));
  g_assert_true (ane_milblob_writer_add (w, ANE_MILBLOB_FLOAT16, NULL, 0, &offsets[4], &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ane_milblob_writer_get_size (w), ==, 640);
  g_assert_true (ane_milblob_writer_finish (w, TRUE, &error));
  g_assert_no_error (error);
}

typedef struct {
  gsize        offset;
  const char  *bytes;
  gsize        len;
} Segment;

#define SEG(off, lit) { off, lit, sizeof (lit) - 1 }

static void
test_layout (void)
{
  /* Every non-zero byte of the expected file; all others must be zero. */
  static const Segment expected[] = {
    /* storage_header: count 5, version 2 */
    SEG (0,   "\x05\x00\x00\x00" "\x02\x00\x00\x00"),
    /* blob 0 at 64: sentinel, float32 (2), 12 bytes, data at 128, 0 padding bits */
    SEG (64,  "\xef\xbe\xad\xde" "\x02\x00\x00\x00" "\x0c\x00\x00\x00\x00\x00\x00\x00"
              "\x80\x00\x00\x00\x00\x00\x00\x00"),
    SEG (128, "\x00\x00\x80\x3f" "\x00\x00\x00\xc0" "\x00\x00\x00\x3f"),
    /* 140..191 zero; blob 1 at 192: uint8 (3), 1 byte, data at 256 */
    SEG (192, "\xef\xbe\xad\xde" "\x03\x00\x00\x00" "\x01\x00\x00\x00\x00\x00\x00\x00"
              "\x00\x01\x00\x00\x00\x00\x00\x00"),
    SEG (256, "\xaa"),
    /* blob 2 at 320: int4 (8), 1 byte, data at 384, 4 padding bits */
    SEG (320, "\xef\xbe\xad\xde" "\x08\x00\x00\x00" "\x01\x00\x00\x00\x00\x00\x00\x00"
              "\x80\x01\x00\x00\x00\x00\x00\x00" "\x04\x00\x00\x00\x00\x00\x00\x00"),
    SEG (384, "\x01"),
    /* blob 3 at 448: float16 (1), 6 bytes, data at 512: 1.0, 65504, 1e9 -> inf */
    SEG (448, "\xef\xbe\xad\xde" "\x01\x00\x00\x00" "\x06\x00\x00\x00\x00\x00\x00\x00"
              "\x00\x02\x00\x00\x00\x00\x00\x00"),
    SEG (512, "\x00\x3c" "\xff\x7b" "\x00\x7c"),
    /* blob 4 at 576: float16, 0 bytes, data at 640 = the end of the file */
    SEG (576, "\xef\xbe\xad\xde" "\x01\x00\x00\x00" "\x00\x00\x00\x00\x00\x00\x00\x00"
              "\x80\x02\x00\x00\x00\x00\x00\x00"),
  };
  static const guint64 want_offsets[5] = { 64, 192, 320, 448, 576 };
  TmpDir t;
  g_autofree char *path = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint8 want[640] = { 0 };
  guint64 offsets[5];
  const guint8 *got;
  gsize len;

  tmp_dir_init (&t);
  path = tmp_path (&t, "weight.bin");
  write_small_file (path, offsets);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpuint (offsets[i], ==, want_offsets[i]);

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    memcpy (want + expected[i].offset, expected[i].bytes, expected[i].len);
  bytes = read_file_bytes (path);
  got = g_bytes_get_data (bytes, &len);
  assert_same_bytes ("small weight.bin", got, len, want, sizeof want);

  /* The rules, stated once more independently of the literal bytes. */
  for (guint i = 0; i < 5; i++)
    {
      guint64 data_offset;

      g_assert_cmpuint (offsets[i] % 64, ==, 0);
      memcpy (&data_offset, got + offsets[i] + 16, 8);
      g_assert_cmpuint (GUINT64_FROM_LE (data_offset), ==, offsets[i] + 64);
      for (guint k = 32; k < 64; k++)
        g_assert_cmpuint (got[offsets[i] + k], ==, 0);
    }
  for (guint k = 8; k < 64; k++)
    g_assert_cmpuint (got[k], ==, 0);

  tmp_dir_clear (&t);
}

static void
check_small_file_reader (AneMilBlobReader *r)
{
  static const AneMilBlobDataType types[5] = {
    ANE_MILBLOB_FLOAT32, ANE_MILBLOB_UINT8, ANE_MILBLOB_INT4, ANE_MILBLOB_FLOAT16, ANE_MILBLOB_FLOAT16,
  };
  static const guint64 sizes[5] = { 12, 1, 1, 6, 0 };
  static const guint64 offsets[5] = { 64, 192, 320, 448, 576 };
  static const guint16 halves[3] = { 0x3c00, 0x7bff, 0x7c00 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) records = NULL;
  g_autoptr(GBytes) data = NULL;
  AneMilBlobRecord rec;
  const float *f;
  gsize len;

  g_assert_cmpuint (ane_milblob_reader_get_count (r), ==, 5);
  g_assert_cmpuint (ane_milblob_reader_get_size (r), ==, 640);
  records = ane_milblob_reader_list (r, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      AneMilBlobRecord *a = &g_array_index (records, AneMilBlobRecord, i);

      g_assert_cmpint (a->data_type, ==, types[i]);
      g_assert_cmpuint (a->size, ==, sizes[i]);
      g_assert_cmpuint (a->offset, ==, offsets[i]);
      g_assert_cmpuint (a->data_offset, ==, offsets[i] + 64);
      g_assert_cmpuint (a->padding_bits, ==, i == 2 ? 4 : 0);
      g_assert_true (ane_milblob_reader_record (r, offsets[i], &rec, &error));
      g_assert_no_error (error);
      g_assert_cmpint (rec.data_type, ==, a->data_type);
      g_assert_cmpuint (rec.size, ==, a->size);
      g_assert_cmpuint (rec.data_offset, ==, a->data_offset);
      g_assert_cmpuint (rec.offset, ==, a->offset);
      g_assert_cmpuint (rec.padding_bits, ==, a->padding_bits);
    }

  data = ane_milblob_reader_dup_data (r, 64, &rec, &error);
  g_assert_no_error (error);
  f = g_bytes_get_data (data, &len);
  g_assert_cmpuint (len, ==, 12);
  g_assert_cmpfloat (f[0], ==, 1.0f);
  g_assert_cmpfloat (f[1], ==, -2.0f);
  g_assert_cmpfloat (f[2], ==, 0.5f);
  g_clear_pointer (&data, g_bytes_unref);

  data = ane_milblob_reader_dup_data (r, 448, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (data, NULL), g_bytes_get_size (data), halves, sizeof halves);
  g_clear_pointer (&data, g_bytes_unref);

  data = ane_milblob_reader_dup_data (r, 576, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (data), ==, 0);
}

static void
test_roundtrip (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilBlobReader) r = NULL;
  g_autoptr(AneMilBlobReader) rb = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *path = NULL;
  guint64 offsets[5];
  TmpDir t;

  tmp_dir_init (&t);
  path = tmp_path (&t, "weight.bin");
  write_small_file (path, offsets);

  r = ane_milblob_reader_open (path, &error);
  g_assert_no_error (error);
  check_small_file_reader (r);

  bytes = read_file_bytes (path);
  rb = ane_milblob_reader_new_from_bytes (bytes, "mem", &error);
  g_assert_no_error (error);
  check_small_file_reader (rb);

  tmp_dir_clear (&t);
}

/* add_f32_as_f16 converts in chunks: a blob larger than one chunk and not
 * a multiple of it must come out as the scalar conversion would. */
static void
test_f16_chunks (void)
{
  const gsize n = 100003;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilBlobReader) r = NULL;
  g_autoptr(GBytes) data = NULL;
  g_autofree float *src = g_new (float, n);
  g_autofree char *path = NULL;
  AneMilBlobWriter *w;
  const guint16 *h;
  guint64 offset;
  TmpDir t;

  for (gsize i = 0; i < n; i++)
    src[i] = u2f (g_test_rand_int ());
  tmp_dir_init (&t);
  path = tmp_path (&t, "weight.bin");
  w = ane_milblob_writer_new (path, &error);
  g_assert_no_error (error);
  g_assert_true (ane_milblob_writer_add (w, ANE_MILBLOB_UINT8, "x", 1, NULL, &error));
  g_assert_true (ane_milblob_writer_add_f32_as_f16 (w, src, n, &offset, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (offset, ==, 192);   /* 64 + record + 1 byte, padded to 192 */
  g_assert_true (ane_milblob_writer_finish (w, FALSE, &error));

  r = ane_milblob_reader_open (path, &error);
  g_assert_no_error (error);
  data = ane_milblob_reader_dup_data (r, offset, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (data), ==, n * 2);
  h = g_bytes_get_data (data, NULL);
  for (gsize i = 0; i < n; i++)
    if (h[i] != ane_float_to_half (src[i]))
      g_error ("value %" G_GSIZE_FORMAT " (0x%08x): 0x%04x, expected 0x%04x",
               i, f2u (src[i]), h[i], ane_float_to_half (src[i]));
  tmp_dir_clear (&t);
}

/* --- Apple's files ----------------------------------------------------- */

static char *
conformance_weight_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "conformance", name, "model.mlpackage",
                                "Data", "com.apple.CoreML", "weights", "weight.bin", NULL);
}

/* Reads every record of Apple's file and writes them again in order. With
 * via_f16 the float16 blobs go through add_f32_as_f16 (decoded with the
 * bulk path first), so coremltools' own fp16 rounding is checked too. */
static void
rewrite_apple (const char *name,
               gboolean    via_f16)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilBlobReader) r = NULL;
  g_autoptr(GArray) records = NULL;
  g_autoptr(GBytes) apple = NULL;
  g_autoptr(GBytes) ours = NULL;
  g_autofree char *apple_path = conformance_weight_path (name);
  g_autofree char *path = NULL;
  g_autofree guint64 *sizes = NULL;
  AneMilBlobWriter *w;
  const guint8 *a, *o;
  gsize alen, olen;
  guint n_f16 = 0;
  TmpDir t;

  r = ane_milblob_reader_open (apple_path, &error);
  g_assert_no_error (error);
  apple = read_file_bytes (apple_path);
  a = g_bytes_get_data (apple, &alen);
  g_assert_cmpuint (ane_milblob_reader_get_size (r), ==, alen);

  records = ane_milblob_reader_list (r, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, ane_milblob_reader_get_count (r));
  g_assert_cmpuint (records->len, >, 0);

  tmp_dir_init (&t);
  path = tmp_path (&t, "weight.bin");
  w = ane_milblob_writer_new (path, &error);
  g_assert_no_error (error);
  sizes = g_new (guint64, records->len);
  for (guint i = 0; i < records->len; i++)
    {
      AneMilBlobRecord *rec = &g_array_index (records, AneMilBlobRecord, i);
      g_autoptr(GBytes) data = ane_milblob_reader_dup_data (r, rec->offset, NULL, &error);
      guint64 offset = 0;

      g_assert_no_error (error);
      g_test_message ("%s: blob %u at %" G_GUINT64_FORMAT ": %s, %" G_GUINT64_FORMAT " bytes",
                      name, i, rec->offset, ane_milblob_data_type_name (rec->data_type), rec->size);
      sizes[i] = rec->size;
      if (via_f16 && rec->data_type == ANE_MILBLOB_FLOAT16)
        {
          gsize n = rec->size / 2;
          g_autofree float *f = g_new (float, MAX (n, 1));

          ane_f16_to_f32_bulk (g_bytes_get_data (data, NULL), f, n);
          g_assert_true (ane_milblob_writer_add_f32_as_f16 (w, f, n, &offset, &error));
          n_f16++;
        }
      else
        g_assert_true (ane_milblob_writer_add_full (w, rec->data_type, g_bytes_get_data (data, NULL),
                                                    g_bytes_get_size (data), (guint) rec->padding_bits,
                                                    &offset, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (offset, ==, rec->offset);
    }
  g_assert_cmpuint (ane_milblob_writer_get_size (w), ==, alen);
  g_assert_true (ane_milblob_writer_finish (w, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ane_milblob_planned_size (sizes, records->len), ==, alen);

  ours = read_file_bytes (path);
  o = g_bytes_get_data (ours, &olen);
  assert_same_bytes (name, o, olen, a, alen);
  if (via_f16)
    {
      g_test_message ("%s: %u float16 blobs went through add_f32_as_f16", name, n_f16);
      g_assert_cmpuint (n_f16, >, 0);
    }
  tmp_dir_clear (&t);
}

static void
test_apple_rewrite (gconstpointer data)
{
  rewrite_apple (data, FALSE);
}

static void
test_apple_rewrite_f16 (gconstpointer data)
{
  rewrite_apple (data, TRUE);
}

static const char *const apple_cases[] = {
  "convnet_fp32",
  "mlp_fp16",
  "mlp_fp32",
  "multifunction",
  "palettized_ios18",
  "quant_int4_blockwise_ios18",
  "quant_int8_ios16",
  "rmsnorm_rope_fp16",
  "sdpa_ios18",
  "transformer_block_fp32",
};

/* The cases with float16 blobs. */
static const char *const apple_f16_cases[] = {
  "mlp_fp16",
  "palettized_ios18",
  "quant_int4_blockwise_ios18",
  "rmsnorm_rope_fp16",
};

/* --- planned size ------------------------------------------------------ */

static void
test_planned_size (void)
{
  static const guint8 zeros[300] = { 0 };
  const guint64 huge[2] = { G_MAXUINT64 - 100, 1 };
  TmpDir t;

  g_assert_cmpuint (ane_milblob_planned_size (NULL, 0), ==, 64);
  g_assert_cmpuint (ane_milblob_planned_size (huge, 1), ==, G_MAXUINT64);
  g_assert_cmpuint (ane_milblob_planned_size (huge, 2), ==, G_MAXUINT64);

  tmp_dir_init (&t);
  for (guint iter = 0; iter < 60; iter++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = tmp_path (&t, "weight.bin");
      guint n = (guint) g_test_rand_int_range (0, 9);
      guint64 sizes[8];
      AneMilBlobWriter *w;
      GStatBuf st;

      w = ane_milblob_writer_new (path, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < n; i++)
        {
          /* Favour the boundary cases: 0, 63, 64, 65, 128. */
          static const guint64 edges[] = { 0, 1, 63, 64, 65, 127, 128, 129 };
          sizes[i] = g_test_rand_bit () ? edges[g_test_rand_int_range (0, G_N_ELEMENTS (edges))]
                                        : (guint64) g_test_rand_int_range (0, sizeof zeros);
          g_assert_true (ane_milblob_writer_add (w, ANE_MILBLOB_UINT8, zeros, sizes[i], NULL, &error));
          g_assert_no_error (error);
        }
      g_assert_cmpuint (ane_milblob_writer_get_size (w), ==, ane_milblob_planned_size (sizes, n));
      g_assert_true (ane_milblob_writer_finish (w, FALSE, &error));
      g_assert_no_error (error);
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_cmpuint ((guint64) st.st_size, ==, ane_milblob_planned_size (sizes, n));
    }
  tmp_dir_clear (&t);
}

/* --- fp16 -------------------------------------------------------------- */

typedef struct {
  guint32 f;     /* float bits */
  guint16 h;     /* expected half bits */
} F16Case;

static void
test_fp16_expected (void)
{
  /* IEEE 754 binary16, round to nearest, ties to even. */
  static const F16Case cases[] = {
    { 0x00000000, 0x0000 },   /* +0 */
    { 0x80000000, 0x8000 },   /* -0 */
    { 0x3f800000, 0x3c00 },   /* 1 */
    { 0x477fe000, 0x7bff },   /* 65504, the largest finite half */
    { 0x477fefff, 0x7bff },   /* just below 65520 */
    { 0x477ff000, 0x7c00 },   /* 65520: tie between 65504 (odd) and 2^16 -> inf */
    { 0x47800000, 0x7c00 },   /* 65536 */
    { 0x7f800000, 0x7c00 },   /* +inf */
    { 0xff800000, 0xfc00 },   /* -inf */
    { 0x33800000, 0x0001 },   /* 2^-24, the smallest subnormal */
    { 0x33000000, 0x0000 },   /* 2^-25: tie between 0 (even) and 2^-24 -> 0 */
    { 0x33000001, 0x0001 },   /* just above the tie */
    { 0xb3000000, 0x8000 },   /* -2^-25 -> -0 */
    { 0x33c00000, 0x0002 },   /* 1.5 * 2^-24: tie between 1 and 2 -> 2 (even) */
    { 0x34200000, 0x0002 },   /* 2.5 * 2^-24: tie between 2 and 3 -> 2 (even) */
    { 0x38800000, 0x0400 },   /* 2^-14, the smallest normal */
    { 0x387fc000, 0x03ff },   /* the largest subnormal */
    { 0x387fe000, 0x0400 },   /* tie between 0x03ff and 0x0400 -> 0x0400 (even) */
    { 0x3f801000, 0x3c00 },   /* 1 + 2^-11: tie between 0x3c00 (even) and 0x3c01 */
    { 0x3f803000, 0x3c02 },   /* 1 + 3 * 2^-11: tie between 0x3c01 and 0x3c02 (even) */
    { 0x3f801001, 0x3c01 },   /* just above a tie rounds up */
    { 0x00000001, 0x0000 },   /* the smallest float subnormal */
    { 0x807fffff, 0x8000 },   /* the largest negative float subnormal */
    { 0xc0000000, 0xc000 },   /* -2 */
  };
  guint16 out[G_N_ELEMENTS (cases)];
  float in[G_N_ELEMENTS (cases)];

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    in[i] = u2f (cases[i].f);
  g_test_message ("bulk path: %s", ane_fp16_bulk_impl ());

  /* Both paths, and every length so each case also lands in a vector tail. */
  for (guint path = 0; path < 2; path++)
    for (guint len = 1; len <= G_N_ELEMENTS (cases); len++)
      {
        memset (out, 0x55, sizeof out);
        if (path == 0)
          ane_f32_to_f16_bulk (in, out, len);
        else
          ane_f32_to_f16_portable (in, out, len);
        for (guint i = 0; i < len; i++)
          if (out[i] != cases[i].h)
            g_error ("%s (len %u): 0x%08x -> 0x%04x, expected 0x%04x",
                     path == 0 ? "bulk" : "portable", len, cases[i].f, out[i], cases[i].h);
        for (guint i = len; i < G_N_ELEMENTS (cases); i++)
          g_assert_cmphex (out[i], ==, 0x5555);   /* nothing written past n */
      }

  /* NaN stays NaN, with the sign, quiet, top payload bits kept. */
  {
    const guint32 nans[] = { 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0x7f802000, 0xffffffff };
    const guint16 want[] = { 0x7e00,     0xfe00,     0x7e00,     0x7fff,     0x7e01,     0xffff };
    float f[G_N_ELEMENTS (nans)];
    guint16 h[G_N_ELEMENTS (nans)];

    for (guint i = 0; i < G_N_ELEMENTS (nans); i++)
      f[i] = u2f (nans[i]);
    ane_f32_to_f16_bulk (f, h, G_N_ELEMENTS (nans));
    for (guint i = 0; i < G_N_ELEMENTS (nans); i++)
      {
        g_assert_cmphex (h[i] & 0x7c00, ==, 0x7c00);
        g_assert_cmphex (h[i] & 0x03ff, !=, 0);
        g_assert_cmphex (h[i], ==, want[i]);
      }
  }
}

/* Compares the bulk path with ane_float_to_half over a buffer of float bits. */
static void
check_against_scalar (const guint32 *bits,
                      gsize          n,
                      const char    *what)
{
  g_autofree guint16 *out = g_new (guint16, n);

  ane_f32_to_f16_bulk ((const float *) bits, out, n);
  for (gsize i = 0; i < n; i++)
    {
      guint16 want = ane_float_to_half (u2f (bits[i]));

      if (out[i] != want)
        g_error ("%s: 0x%08x -> 0x%04x, ane_float_to_half gives 0x%04x", what, bits[i], out[i], want);
    }
}

static void
test_fp16_every_half (void)
{
  g_autoptr(GArray) bits = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autofree float *f = g_new (float, 65536);
  g_autofree float *fp = g_new (float, 65536);
  g_autofree guint16 *h = g_new (guint16, 65536);
  g_autofree guint16 *back = g_new (guint16, 65536);

  for (guint i = 0; i < 65536; i++)
    h[i] = (guint16) i;
  ane_f16_to_f32_bulk (h, f, 65536);
  ane_f16_to_f32_portable (h, fp, 65536);
  for (guint i = 0; i < 65536; i++)
    {
      gboolean nan = (i & 0x7c00) == 0x7c00 && (i & 0x3ff) != 0;
      guint32 want = nan ? f2u (ane_half_to_float ((guint16) i)) | 0x00400000u   /* quieted */
                         : f2u (ane_half_to_float ((guint16) i));

      if (f2u (f[i]) != want || f2u (fp[i]) != want)
        g_error ("half 0x%04x -> bulk 0x%08x, portable 0x%08x, expected 0x%08x",
                 i, f2u (f[i]), f2u (fp[i]), want);
    }

  /* Every half's image converts back to itself; the float next to it on
   * each side and the midpoints to the neighbouring halves (the ties), with
   * one float either side of them, agree with the scalar reference. */
  ane_f32_to_f16_bulk (f, back, 65536);
  for (guint i = 0; i < 65536; i++)
    {
      guint32 u = f2u (f[i]);

      if (isnan (f[i]))
        continue;
      if (back[i] != i)
        g_error ("half 0x%04x -> float -> 0x%04x", i, back[i]);
      if ((u & 0x7fffffffu) < 0x7f800000u)
        {
          guint32 extra[] = { u + 1, u - 1, u + 2, u - 2 };
          g_array_append_vals (bits, extra, G_N_ELEMENTS (extra));
        }
      if ((i & 0x7fff) < 0x7c00)
        {
          /* Midpoint to the next half up in magnitude (exact in float). */
          guint mag = i & 0x7fff;
          double lo = fabs ((double) f[i]);
          double hi = mag == 0x7bff ? 65536.0 : (double) ane_half_to_float ((guint16) (mag + 1));
          float mid = (float) ((lo + hi) / 2);
          guint32 m;

          g_assert_cmpfloat ((double) mid, ==, (lo + hi) / 2);
          m = f2u (mid) | (i & 0x8000 ? 0x80000000u : 0);
          {
            guint32 extra[] = { m, m + 1, m - 1 };
            g_array_append_vals (bits, extra, G_N_ELEMENTS (extra));
          }
        }
    }
  g_test_message ("%u boundary floats", bits->len);
  check_against_scalar ((const guint32 *) bits->data, bits->len, "half boundaries");
}

static void
test_fp16_subnormal (void)
{
  /* Dense sweeps around every place where the rounding rule changes in the
   * subnormal range: 0, half of the smallest subnormal, the smallest
   * subnormal, the subnormal/normal boundary, float's own subnormals. */
  static const guint32 centres[] = {
    0x00000000, 0x00000001, 0x007fffff, 0x00800000,
    0x32800000, 0x33000000, 0x33800000, 0x33c00000, 0x34000000,
    0x387fc000, 0x387fe000, 0x38800000, 0x38801000,
  };
  g_autoptr(GArray) bits = g_array_new (FALSE, FALSE, sizeof (guint32));

  for (guint c = 0; c < G_N_ELEMENTS (centres); c++)
    for (gint d = -4096; d <= 4096; d++)
      {
        gint64 v = (gint64) centres[c] + d;

        if (v < 0 || v > 0x7f7fffff)
          continue;
        for (guint s = 0; s < 2; s++)
          {
            guint32 u = (guint32) v | (s ? 0x80000000u : 0);
            g_array_append_val (bits, u);
          }
      }
  /* Each half subnormal k * 2^-24 and the tie (k + 1/2) * 2^-24 above it,
   * with 8 floats either side. */
  for (guint k = 0; k < 1024; k++)
    for (guint tie = 0; tie < 2; tie++)
      {
        guint32 u = f2u ((float) ((k + 0.5 * tie) * 0x1p-24));

        for (gint d = -8; d <= 8; d++)
          {
            guint32 v = u + (guint32) d;
            if (u == 0 && d < 0)
              continue;
            g_array_append_val (bits, v);
            v |= 0x80000000u;
            g_array_append_val (bits, v);
          }
      }
  g_test_message ("%u subnormal-range floats", bits->len);
  check_against_scalar ((const guint32 *) bits->data, bits->len, "subnormal range");
}

static void
test_fp16_nan (void)
{
  /* Every float NaN (2 * (2^23 - 1) patterns): the bulk and the portable
   * path agree bit for bit, and the result is a NaN. */
  const gsize n = 1u << 23;
  g_autofree guint32 *bits = g_new (guint32, n);
  g_autofree guint16 *bulk = g_new (guint16, n);
  g_autofree guint16 *port = g_new (guint16, n);

  for (guint s = 0; s < 2; s++)
    {
      for (gsize i = 0; i < n; i++)
        bits[i] = (s ? 0xff800000u : 0x7f800000u) | (guint32) (i == 0 ? 1 : i);
      ane_f32_to_f16_bulk ((const float *) bits, bulk, n);
      ane_f32_to_f16_portable ((const float *) bits, port, n);
      for (gsize i = 0; i < n; i++)
        {
          if ((bulk[i] & 0x7c00) != 0x7c00 || (bulk[i] & 0x3ff) == 0)
            g_error ("NaN 0x%08x -> 0x%04x, not a NaN", bits[i], bulk[i]);
          if (bulk[i] != port[i])
            g_error ("NaN 0x%08x -> bulk 0x%04x, portable 0x%04x", bits[i], bulk[i], port[i]);
        }
    }
}

static void
test_fp16_random (void)
{
  const gsize n = 2 * 1000 * 1000;
  g_autofree guint32 *bits = g_new (guint32, n);

  for (gsize i = 0; i < n; i++)
    bits[i] = g_test_rand_int ();
  check_against_scalar (bits, n, "random");
}

/* All 2^32 floats: about a minute, so only with -m slow. */
static void
test_fp16_exhaustive (void)
{
  const gsize chunk = 1u << 24;
  g_autofree guint32 *bits = NULL;
  g_autofree guint16 *bulk = NULL;
  g_autofree guint16 *port = NULL;

  if (!g_test_slow ())
    {
      /* a legitimate skip (g_test_skip, not ane_test_skip): an opt-in
       * minute-long run; the quick tests above cover every fp16 value and
       * the rounding boundaries around each */
      g_test_skip ("all 2^32 floats: run with -m slow");
      return;
    }
  bits = g_new (guint32, chunk);
  bulk = g_new (guint16, chunk);
  port = g_new (guint16, chunk);
  for (guint64 base = 0; base < G_GUINT64_CONSTANT (1) << 32; base += chunk)
    {
      for (gsize i = 0; i < chunk; i++)
        bits[i] = (guint32) (base + i);
      ane_f32_to_f16_bulk ((const float *) bits, bulk, chunk);
      ane_f32_to_f16_portable ((const float *) bits, port, chunk);
      if (memcmp (bulk, port, chunk * sizeof (guint16)) != 0)
        for (gsize i = 0; i < chunk; i++)
          if (bulk[i] != port[i])
            g_error ("0x%08x -> bulk 0x%04x, portable 0x%04x", bits[i], bulk[i], port[i]);
    }
}

/* --- corrupted files --------------------------------------------------- */

typedef enum {
  OPEN,     /* the reader refuses the header */
  LIST,     /* the header is fine, listing fails */
} Stage;

typedef struct {
  const char *name;
  Stage       stage;
  gsize       at;          /* offset to patch */
  guint64     value;       /* little-endian value to put there */
  guint       width;       /* 4 or 8; 0: truncate the file to `at` bytes */
  const char *message;     /* a substring the error must contain */
} Corruption;

static const Corruption corruptions[] = {
  { "bad-version",       OPEN, 4,   3,                          4, "offset 4: blob storage version 3" },
  { "version-1",         OPEN, 4,   1,                          4, "version 1" },
  { "short-header",      OPEN, 40,  0,                          0, "too short" },
  { "count-too-large",   OPEN, 0,   1000,                       4, "counts 1000 blobs" },
  { "bad-sentinel",      LIST, 192, 0xdeadbeee,                 4, "blob record at offset 192: sentinel 0xdeadbeee" },
  { "unknown-type",      LIST, 196, 99,                         4, "offset 192: unknown data type 99" },
  { "size-past-end",     LIST, 200, 4096,                       8, "offset 192: 4096 bytes of data at offset 256 end past the end" },
  { "size-overflow",     LIST, 200, G_MAXUINT64 - 10,           8, "end past the end" },
  { "data-offset-past-end", LIST, 208, 1 << 20,                 8, "offset 192: 1 bytes of data at offset 1048576 end past" },
  { "data-offset-overflow", LIST, 208, G_MAXUINT64 - 63,        8, "end past the end" },
  { "data-misaligned",   LIST, 208, 260,                        8, "data offset 260 is not a 64-byte aligned" },
  { "data-before-record", LIST, 208, 192,                       8, "data offset 192 is not" },
  { "data-in-header",    LIST, 80,  0,                          8, "offset 64: data offset 0" },
  { "padding-bits",      LIST, 344, 8,                          8, "offset 320: 8 padding bits for 1 bytes of int4" },
  { "truncated-data",    LIST, 384, 0,                          0, "offset 320: 1 bytes of data at offset 384 end past" },
  { "truncated-record",  LIST, 470, 0,                          0, "offset 448: the 64-byte record ends past the end of the file (470 bytes)" },
  { "truncated-count",   OPEN, 360, 0,                          0, "offset 0: header counts 5 blobs, more than 360 bytes can hold" },
  { "stale-count",       LIST, 0,   4,                          4, "offset 518: 122 bytes after the last of the 4 blobs" },
  { "trailing-garbage",  LIST, 0,   0,                          0, NULL },   /* built by the test */
};

static void
test_corrupt (gconstpointer data)
{
  const Corruption *c = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilBlobReader) r = NULL;
  g_autoptr(GArray) records = NULL;
  g_autoptr(GBytes) good = NULL;
  g_autoptr(GBytes) bad = NULL;
  g_autofree char *path = NULL;
  g_autofree char *expected = NULL;
  guint64 offsets[5];
  guint8 *buf;
  gsize len;
  TmpDir t;

  tmp_dir_init (&t);
  path = tmp_path (&t, "weight.bin");
  write_small_file (path, offsets);
  good = read_file_bytes (path);
  tmp_dir_clear (&t);

  buf = g_bytes_unref_to_data (g_steal_pointer (&good), &len);
  if (c->message == NULL)
    {
      /* One more byte after the file: not padding (non-zero). */
      buf = g_realloc (buf, len + 1);
      buf[len++] = 0x01;
      expected = g_strdup ("offset 640: 1 bytes after the last of the 5 blobs");
    }
  else if (c->width == 0)
    len = c->at;
  else if (c->width == 4)
    {
      guint32 v = GUINT32_TO_LE ((guint32) c->value);
      memcpy (buf + c->at, &v, 4);
    }
  else
    {
      guint64 v = GUINT64_TO_LE (c->value);
      memcpy (buf + c->at, &v, 8);
    }
  bad = g_bytes_new_take (buf, len);
  if (expected == NULL)
    expected = g_strdup (c->message);

  r = ane_milblob_reader_new_from_bytes (bad, "corrupt.bin", &error);
  if (c->stage == LIST)
    {
      g_assert_no_error (error);
      records = ane_milblob_reader_list (r, &error);
      g_assert_null (records);
    }
  else
    g_assert_null (r);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "corrupt.bin: "));
  if (strstr (error->message, expected) == NULL)
    g_error ("error \"%s\" does not mention \"%s\"", error->message, expected);
}

static void
test_bad_record_offsets (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilBlobReader) r = NULL;
  g_autofree char *path = NULL;
  AneMilBlobRecord rec;
  guint64 offsets[5];
  TmpDir t;
  static const struct { guint64 offset; const char *message; } cases[] = {
    { 100, "offset 100: not 64-byte aligned" },
    { 0, "offset 0: inside the 64-byte header" },
    { 640, "offset 640: the 64-byte record ends past the end of the file (640 bytes)" },
    { G_GUINT64_CONSTANT (1) << 40, "ends past the end" },
    { G_MAXUINT64 - 63, "ends past the end" },
    { 128, "offset 128: sentinel 0x3f800000" },   /* the data of blob 0, not a record */
  };

  tmp_dir_init (&t);
  path = tmp_path (&t, "weight.bin");
  write_small_file (path, offsets);
  r = ane_milblob_reader_open (path, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_false (ane_milblob_reader_record (r, cases[i].offset, &rec, &error));
      g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
      g_assert_true (g_str_has_prefix (error->message, path));
      if (strstr (error->message, cases[i].message) == NULL)
        g_error ("error \"%s\" does not mention \"%s\"", error->message, cases[i].message);
      g_clear_error (&error);
      g_assert_null (ane_milblob_reader_dup_data (r, cases[i].offset, NULL, &error));
      g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
      g_clear_error (&error);
    }

  /* Missing and empty files (a missing file is ANE_ERROR_NOT_FOUND, as
   * ane-file-private.h reports it). */
  g_clear_pointer (&r, ane_milblob_reader_free);
  g_unlink (path);
  r = ane_milblob_reader_open (path, &error);
  g_assert_null (r);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  r = ane_milblob_reader_open (path, &error);
  g_assert_null (r);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_clear_error (&error);
  tmp_dir_clear (&t);
}

/* --- writer failures --------------------------------------------------- */

static void
test_abort (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *missing = NULL;
  AneMilBlobWriter *w;
  float v[4] = { 1, 2, 3, 4 };
  TmpDir t;

  tmp_dir_init (&t);
  path = tmp_path (&t, "weight.bin");
  w = ane_milblob_writer_new (path, &error);
  g_assert_no_error (error);
  g_assert_true (ane_milblob_writer_add (w, ANE_MILBLOB_FLOAT32, v, sizeof v, NULL, &error));
  g_assert_true (ane_milblob_writer_add_f32_as_f16 (w, v, 4, NULL, &error));
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  ane_milblob_writer_abort (w);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  ane_milblob_writer_abort (NULL);

  /* Arguments the format cannot hold leave the writer usable. */
  w = ane_milblob_writer_new (path, &error);
  g_assert_no_error (error);
  g_assert_false (ane_milblob_writer_add (w, (AneMilBlobDataType) 99, v, sizeof v, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_milblob_writer_add_full (w, ANE_MILBLOB_FLOAT32, v, sizeof v, 4, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_milblob_writer_add_full (w, ANE_MILBLOB_UINT4, v, 1, 8, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpuint (ane_milblob_writer_get_size (w), ==, 64);
  g_assert_true (ane_milblob_writer_finish (w, FALSE, &error));
  g_assert_no_error (error);
  {
    g_autoptr(AneMilBlobReader) r = ane_milblob_reader_open (path, &error);
    g_autoptr(GArray) records = NULL;

    g_assert_no_error (error);
    records = ane_milblob_reader_list (r, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (records->len, ==, 0);
    g_assert_cmpuint (ane_milblob_reader_get_size (r), ==, 64);
  }

  /* A directory that does not exist: an I/O error naming the path. */
  missing = g_build_filename (t.dir, "no-such-dir", "weight.bin", NULL);
  g_assert_null (ane_milblob_writer_new (missing, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, missing));
  tmp_dir_clear (&t);
}

/* A write that fails part way (a file size limit standing in for a full
 * disk): the error names the file and the offset, the writer refuses further
 * blobs, and finish fails and deletes the partial file. */
static void
test_write_error (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree guint8 *data = g_malloc0 (8192);
  struct rlimit old_limit, limit;
  void (*old_handler) (int);
  AneMilBlobWriter *w;
  gboolean ok;
  TmpDir t;

  tmp_dir_init (&t);
  path = tmp_path (&t, "weight.bin");
  w = ane_milblob_writer_new (path, &error);
  g_assert_no_error (error);
  g_assert_true (ane_milblob_writer_add (w, ANE_MILBLOB_UINT8, data, 100, NULL, &error));

  /* With SIGXFSZ ignored, writing past RLIMIT_FSIZE fails with EFBIG. */
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
  limit = old_limit;
  limit.rlim_cur = 4096;
  old_handler = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
  ok = ane_milblob_writer_add (w, ANE_MILBLOB_UINT8, data, 8192, NULL, &error);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
  signal (SIGXFSZ, old_handler);

  g_assert_false (ok);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_nonnull (strstr (error->message, ": writing at offset 4096: "));
  g_clear_error (&error);

  g_assert_false (ane_milblob_writer_add (w, ANE_MILBLOB_UINT8, data, 1, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
  g_clear_error (&error);
  g_assert_false (ane_milblob_writer_finish (w, TRUE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  tmp_dir_clear (&t);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/milblob/layout", test_layout);
  g_test_add_func ("/ane/milblob/roundtrip", test_roundtrip);
  g_test_add_func ("/ane/milblob/f16-chunks", test_f16_chunks);
  for (guint i = 0; i < G_N_ELEMENTS (apple_cases); i++)
    {
      g_autofree char *p = g_strdup_printf ("/ane/milblob/apple/rewrite/%s", apple_cases[i]);
      g_test_add_data_func (p, apple_cases[i], test_apple_rewrite);
    }
  for (guint i = 0; i < G_N_ELEMENTS (apple_f16_cases); i++)
    {
      g_autofree char *p = g_strdup_printf ("/ane/milblob/apple/rewrite-f16/%s", apple_f16_cases[i]);
      g_test_add_data_func (p, apple_f16_cases[i], test_apple_rewrite_f16);
    }
  g_test_add_func ("/ane/milblob/planned-size", test_planned_size);
  g_test_add_func ("/ane/milblob/fp16/expected", test_fp16_expected);
  g_test_add_func ("/ane/milblob/fp16/every-half", test_fp16_every_half);
  g_test_add_func ("/ane/milblob/fp16/subnormal", test_fp16_subnormal);
  g_test_add_func ("/ane/milblob/fp16/nan", test_fp16_nan);
  g_test_add_func ("/ane/milblob/fp16/random", test_fp16_random);
  g_test_add_func ("/ane/milblob/fp16/exhaustive", test_fp16_exhaustive);
  for (guint i = 0; i < G_N_ELEMENTS (corruptions); i++)
    {
      g_autofree char *p = g_strdup_printf ("/ane/milblob/corrupt/%s", corruptions[i].name);
      g_test_add_data_func (p, &corruptions[i], test_corrupt);
    }
  g_test_add_func ("/ane/milblob/corrupt/record-offsets", test_bad_record_offsets);
  g_test_add_func ("/ane/milblob/writer/abort", test_abort);
  g_test_add_func ("/ane/milblob/writer/write-error", test_write_error);
  return g_test_run ();
}
