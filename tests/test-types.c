/* test-types.c: dtype facts, fp16/bf16 conversion, size arithmetic, attributes
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"

typedef struct {
  float   value;
  guint16 bits;
} HalfCase;

static void
test_half_edges (void)
{
  /* Expected bit patterns follow IEEE 754 binary16 with round-to-nearest-even. */
  static const HalfCase cases[] = {
    { 0.0f, 0x0000 },
    { -0.0f, 0x8000 },
    { 1.0f, 0x3c00 },
    { -2.0f, 0xc000 },
    { 0.1f, 0x2e66 },
    { 65504.0f, 0x7bff },            /* largest finite half */
    { 65519.0f, 0x7bff },            /* below the halfway point to 65536 */
    { 65520.0f, 0x7c00 },            /* halfway: ties to even, the even neighbour is inf */
    { 1e9f, 0x7c00 },
    { -1e9f, 0xfc00 },
    { 0x1p-14f, 0x0400 },            /* smallest normal */
    { 0x1p-24f, 0x0001 },            /* smallest subnormal */
    { 0x1p-25f, 0x0000 },            /* half of it: ties to even (0) */
    { 0x1.000002p-25f, 0x0001 },     /* just above half: rounds up */
    { 0x3p-25f, 0x0002 },            /* 1.5 ulp: ties to even (2) */
    { 0x1.ffcp-15f, 0x0400 },        /* 1023.5 ulp ties up to 1024: subnormal rounding carries into the normal range */
    { 0x1.002p+0f, 0x3c00 },         /* 1 + 2^-11: tie, stays 1 (even) */
    { 0x1.006p+0f, 0x3c02 },         /* 1 + 3*2^-11: tie, goes to the even 1 + 2^-9 */
    { 0x1.0021p+0f, 0x3c01 },        /* just above the tie */
    { 1e-10f, 0x0000 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint16 got = ane_float_to_half (cases[i].value);
      if (got != cases[i].bits)
        g_error ("float_to_half(%a) = 0x%04x, expected 0x%04x", cases[i].value, got, cases[i].bits);
    }

  g_assert_cmphex (ane_float_to_half (INFINITY), ==, 0x7c00);
  g_assert_cmphex (ane_float_to_half (-INFINITY), ==, 0xfc00);
  {
    guint16 nan = ane_float_to_half (NAN);
    g_assert_cmphex (nan & 0x7c00, ==, 0x7c00);
    g_assert_cmphex (nan & 0x03ff, !=, 0);
  }
  g_assert_cmpfloat (ane_half_to_float (0x0001), ==, 0x1p-24f);
  g_assert_cmpfloat (ane_half_to_float (0x7bff), ==, 65504.0f);
  g_assert_cmpfloat (ane_half_to_float (0x3555), ==, 0x1.554p-2f);
  g_assert_cmpfloat (ane_half_to_float (0xfc00), ==, -INFINITY);
  g_assert_true (isnan (ane_half_to_float (0x7e00)));
  g_assert_true (signbit (ane_half_to_float (0x8000)));
}

static void
test_half_exhaustive (void)
{
  /* Every half converts to float and back to itself (NaNs stay NaN), and
   * the double-precision rounding used by the reference evaluator agrees. */
  for (guint h = 0; h < 0x10000; h++)
    {
      float f = ane_half_to_float ((guint16) h);

      if (isnan (f))
        {
          g_assert_true (isnan (ane_half_to_float (ane_float_to_half (f))));
          continue;
        }
      if (ane_float_to_half (f) != h)
        g_error ("round trip of 0x%04x gave 0x%04x", h, ane_float_to_half (f));
      g_assert_cmpfloat (ane_dtype_round (ANE_DTYPE_FLOAT16, f), ==, f);
    }
}

static void
test_half_random_agrees (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1234);

  for (int i = 0; i < 200000; i++)
    {
      guint32 bits = g_rand_int (rand);
      float f;
      double via_double;

      memcpy (&f, &bits, 4);
      if (isnan (f))
        continue;
      via_double = ane_dtype_round (ANE_DTYPE_FLOAT16, f);
      if (via_double != ane_half_to_float (ane_float_to_half (f)))
        g_error ("%a: double path %a, bit path %a", f, via_double,
                 ane_half_to_float (ane_float_to_half (f)));
    }
}

static void
test_bfloat16 (void)
{
  g_assert_cmphex (ane_float_to_bfloat16 (1.0f), ==, 0x3f80);
  g_assert_cmphex (ane_float_to_bfloat16 (0x1.01p+0f), ==, 0x3f80);   /* tie to even */
  g_assert_cmphex (ane_float_to_bfloat16 (0x1.03p+0f), ==, 0x3f82);   /* tie to even, up */
  g_assert_cmphex (ane_float_to_bfloat16 (0x1.011p+0f), ==, 0x3f81);
  g_assert_cmphex (ane_float_to_bfloat16 (-INFINITY), ==, 0xff80);
  g_assert_true (isnan (ane_bfloat16_to_float (ane_float_to_bfloat16 (NAN))));
  g_assert_cmpfloat (ane_bfloat16_to_float (0x4049), ==, 3.140625f);
  g_assert_cmpfloat (ane_dtype_round (ANE_DTYPE_BFLOAT16, 0x1.03p+0), ==, 0x1.04p+0);
}

static void
test_dtype_names (void)
{
  AneDType d;

  for (guint i = 0; i <= ANE_DTYPE_Q8_K; i++)
    {
      g_assert_true (ane_dtype_from_string (ane_dtype_to_string (i), &d));
      g_assert_cmpint (d, ==, i);
    }
  g_assert_true (ane_dtype_from_string ("FP16", &d));
  g_assert_cmpint (d, ==, ANE_DTYPE_FLOAT16);
  g_assert_true (ane_dtype_from_string ("bf16", &d));
  g_assert_cmpint (d, ==, ANE_DTYPE_BFLOAT16);
  g_assert_false (ane_dtype_from_string ("float8", &d));
  g_assert_cmpstr (ane_dtype_to_string (ANE_DTYPE_Q4_K), ==, "q4_k");
  g_assert_cmpstr (ane_dtype_to_string (999), ==, "invalid");
}

static void
test_dtype_facts (void)
{
  static const struct { AneDType d; guint bs, bb; } blocks[] = {
    { ANE_DTYPE_Q8_0, 32, 34 }, { ANE_DTYPE_Q4_0, 32, 18 }, { ANE_DTYPE_Q4_1, 32, 20 },
    { ANE_DTYPE_Q5_0, 32, 22 }, { ANE_DTYPE_Q5_1, 32, 24 }, { ANE_DTYPE_Q2_K, 256, 84 },
    { ANE_DTYPE_Q3_K, 256, 110 }, { ANE_DTYPE_Q4_K, 256, 144 }, { ANE_DTYPE_Q5_K, 256, 176 },
    { ANE_DTYPE_Q6_K, 256, 210 }, { ANE_DTYPE_Q8_K, 256, 292 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      g_assert_true (ane_dtype_is_block (blocks[i].d));
      g_assert_false (ane_dtype_is_float (blocks[i].d));
      g_assert_cmpuint (ane_dtype_block_size (blocks[i].d), ==, blocks[i].bs);
      g_assert_cmpuint (ane_dtype_block_bytes (blocks[i].d), ==, blocks[i].bb);
    }
  g_assert_true (ane_dtype_is_float (ANE_DTYPE_BFLOAT16));
  g_assert_true (ane_dtype_is_integer (ANE_DTYPE_UINT8));
  g_assert_false (ane_dtype_is_integer (ANE_DTYPE_BOOL));
  g_assert_cmpuint (ane_dtype_block_size (ANE_DTYPE_INT64), ==, 1);
  g_assert_cmpuint (ane_dtype_block_bytes (ANE_DTYPE_INT64), ==, 8);
}

static void
test_sizes (void)
{
  static const gint64 big[] = { G_MAXINT64 / 2, 3 };
  static const gint64 neg[] = { 2, -1 };
  g_autoptr(GError) error = NULL;
  gint64 n;
  gsize bytes;

  g_assert_false (ane_shape_n_elements (big, 2, &n, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW);
  g_clear_error (&error);
  g_assert_false (ane_shape_n_elements (neg, 2, &n, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);

  g_assert_true (ane_dtype_n_bytes (ANE_DTYPE_Q4_0, 64, &bytes, NULL));
  g_assert_cmpuint (bytes, ==, 36);
  g_assert_false (ane_dtype_n_bytes (ANE_DTYPE_Q4_K, 64, &bytes, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);
  g_assert_false (ane_dtype_n_bytes (ANE_DTYPE_INT64, G_MAXINT64 / 2, &bytes, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW);
}

static void
test_integer_rounding (void)
{
  g_assert_cmpfloat (ane_dtype_round (ANE_DTYPE_INT8, 300.7), ==, 127);
  g_assert_cmpfloat (ane_dtype_round (ANE_DTYPE_INT8, -300.7), ==, -128);
  g_assert_cmpfloat (ane_dtype_round (ANE_DTYPE_INT8, -2.9), ==, -2);
  g_assert_cmpfloat (ane_dtype_round (ANE_DTYPE_UINT8, -1), ==, 0);
  g_assert_cmpfloat (ane_dtype_round (ANE_DTYPE_INT32, NAN), ==, 0);
  g_assert_cmpfloat (ane_dtype_round (ANE_DTYPE_INT64, 1e30), <, 0x1p63);
  g_assert_cmpfloat (ane_dtype_round (ANE_DTYPE_BOOL, -0.5), ==, 1);
  g_assert_cmpfloat (ane_dtype_round (ANE_DTYPE_BOOL, 0), ==, 0);
  g_assert_cmpfloat (ane_dtype_round (ANE_DTYPE_BOOL, NAN), ==, 1);   /* numpy: bool(nan) is True */
}

static void
test_attrs (void)
{
  static const gint64 axes[] = { 0, -1 };
  const AneOpInfo *info = ane_op_catalog_lookup ("reduce_sum");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) given = g_variant_ref_sink (ane_attrs_new ("keepdims", g_variant_new_boolean (TRUE), NULL));
  g_autoptr(GVariant) complete = ane_op_attrs_complete (info, "n", given, &error);
  g_autoptr(GVariant) bad = NULL;
  g_autoptr(GVariant) typo = NULL;
  g_autoptr(GVariant) ints = NULL;
  gsize n;

  g_assert_no_error (error);
  g_assert_true (ane_attrs_bool (complete, "keepdims"));
  ane_attrs_ints (complete, "axes", &n);
  g_assert_cmpuint (n, ==, 0);

  /* Python hands over "i" ints; they are widened to the catalog's "x". */
  ints = g_variant_ref_sink (ane_attrs_new ("axes", ane_attrs_ints_variant (axes, 2), NULL));
  g_clear_pointer (&complete, g_variant_unref);
  complete = ane_op_attrs_complete (info, "n", ints, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ane_attrs_ints (complete, "axes", &n)[1], ==, -1);

  /* a plain int32 axis list and an int32 keepdims-free dict, as PyGObject makes them */
  {
    g_autoptr(GVariant) py = g_variant_ref_sink (g_variant_new_parsed ("{'axes': <[int32 1, -1]>}"));
    g_autoptr(GVariant) c2 = ane_op_attrs_complete (info, "n", py, &error);
    const AneOpInfo *cs = ane_op_catalog_lookup ("cumsum");
    g_autoptr(GVariant) ax = g_variant_ref_sink (g_variant_new_parsed ("{'axis': <int32 1>}"));
    g_autoptr(GVariant) c3 = ane_op_attrs_complete (cs, "n", ax, &error);
    const AneOpInfo *ln = ane_op_catalog_lookup ("layer_norm");
    g_autoptr(GVariant) eps = g_variant_ref_sink (g_variant_new_parsed ("{'eps': <int64 1>}"));
    g_autoptr(GVariant) c4 = ane_op_attrs_complete (ln, "n", eps, &error);

    g_assert_no_error (error);
    g_assert_cmpint (ane_attrs_ints (c2, "axes", &n)[0], ==, 1);
    g_assert_cmpint (ane_attrs_int (c3, "axis"), ==, 1);
    g_assert_cmpfloat (ane_attrs_double (c4, "eps"), ==, 1.0);
  }

  bad = g_variant_ref_sink (ane_attrs_new ("keepdims", g_variant_new_string ("yes"), NULL));
  g_assert_null (ane_op_attrs_complete (info, "n", bad, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "keepdims"));
  g_clear_error (&error);

  typo = g_variant_ref_sink (ane_attrs_new ("keepdim", g_variant_new_boolean (TRUE), NULL));
  g_assert_null (ane_op_attrs_complete (info, "n", typo, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "unknown attribute 'keepdim'"));
}

static void
test_catalog_complete (void)
{
  /* Every row is filled in, named uniquely, and its defaults parse. */
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint k = 0; k < ANE_N_OPS; k++)
    {
      const AneOpInfo *info = ane_op_catalog_get (k);
      g_autoptr(GVariantBuilder) b = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
      g_autoptr(GVariant) attrs = NULL;
      g_autoptr(GVariant) complete = NULL;

      g_assert_cmpint (info->kind, ==, k);
      g_assert_nonnull (info->infer);
      g_assert_nonnull (info->reference);
      g_assert_nonnull (info->summary);
      g_assert_false (g_hash_table_contains (names, info->name));
      g_hash_table_add (names, (gpointer) info->name);
      g_assert_true (ane_op_catalog_lookup (info->name) == info);
      /* give required attributes a value of their type */
      for (const AneAttrSpec *a = info->attrs; a && a->name; a++)
        if (a->default_value == NULL)
          {
            const char *sample = g_str_equal (a->type, "x") ? "1" : g_str_equal (a->type, "ax") ? "[1]" :
                                 g_str_equal (a->type, "s") ? "'float32'" : g_str_equal (a->type, "d") ? "1.0" : "true";
            g_variant_builder_add (b, "{sv}", a->name, g_variant_parse (G_VARIANT_TYPE (a->type), sample, NULL, NULL, NULL));
          }
      attrs = g_variant_ref_sink (g_variant_builder_end (b));
      complete = ane_op_attrs_complete (info, "n", attrs, NULL);
      g_assert_nonnull (complete);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/types/half/edges", test_half_edges);
  g_test_add_func ("/ane/types/half/exhaustive", test_half_exhaustive);
  g_test_add_func ("/ane/types/half/random-agrees", test_half_random_agrees);
  g_test_add_func ("/ane/types/bfloat16", test_bfloat16);
  g_test_add_func ("/ane/types/dtype/names", test_dtype_names);
  g_test_add_func ("/ane/types/dtype/facts", test_dtype_facts);
  g_test_add_func ("/ane/types/sizes", test_sizes);
  g_test_add_func ("/ane/types/integer-rounding", test_integer_rounding);
  g_test_add_func ("/ane/types/attrs", test_attrs);
  g_test_add_func ("/ane/types/catalog-complete", test_catalog_complete);
  return g_test_run ();
}
