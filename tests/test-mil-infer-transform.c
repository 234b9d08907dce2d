/* test-mil-infer-transform.c: the type-inference rules of ane-glib/mil/infer/ane-mil-infer-transform.c
 *
 * Hand-checked cases per op against the type_inference of coremltools'
 * op classes (the source each row of ane-mil-opdefs.c names).
 *
 * Every expectation below was checked with coremltools 9.0 itself (mb.<op>
 * at the opset, x a placeholder with symbols for '?', or a const where the
 * case has a known value); a '?' expected here is a symbol there, a failure
 * a ValueError/IndexError/TypeError there.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-infer-test-util.h"

#define T15 ANE_MIL_IOS15
#define T16 ANE_MIL_IOS16
#define T17 ANE_MIL_IOS17
#define T18 ANE_MIL_IOS18
#define MISMATCH ANE_ERROR_TYPE_MISMATCH

/* "[1, -2, 3]" -> doubles; returns the count. */
static gsize
parse_list (const char *text,
            double     *out,
            gsize       max)
{
  const char *p = strchr (text, '[');
  gsize n = 0;

  g_assert_nonnull (p);
  p++;
  while (*p != ']')
    {
      char *end;

      while (*p == ' ' || *p == ',')
        p++;
      if (*p == ']')
        break;
      g_assert_cmpuint (n, <, max);
      out[n++] = g_ascii_strtod (p, &end);
      g_assert_true (end != p);
      p = end;
    }
  return n;
}

/* A const vector of dtype holding values. */
static AneMilVal *
vec (int         dtype,
     const char *values)
{
  double v[64];
  gint64 n = (gint64) parse_list (values, v, G_N_ELEMENTS (v));

  return ane_mil_val_new_values (dtype, &n, 1, v);
}

static AneMilVal *
bools (const char *values)
{
  return vec (ANE_MIL_DT_BOOL, values);
}

/* A const tensor of dtype and shape holding values (row-major). */
static AneMilVal *
known (int         dtype,
       const char *shape,
       const char *values)
{
  g_autoptr(AneMilVal) t = ane_test_val (dtype, shape);
  double v[64];
  gsize n = parse_list (values, v, G_N_ELEMENTS (v));

  g_assert_cmpint ((gint64) n, ==, ane_mil_val_n_elements (t));
  return ane_mil_val_new_values (dtype, t->shape, t->rank, v);
}

/* A const int32 scalar. */
static AneMilVal *
i32 (gint64 v)
{
  return ane_mil_val_new_int (v);
}

static AneMilVal *
fp16 (const char *shape)
{
  return ane_test_val (ANE_MIL_DT_FP16, shape);
}

static AneMilVal *
fp32 (const char *shape)
{
  return ane_test_val (ANE_MIL_DT_FP32, shape);
}

/* The error message holds part. */
static void
assert_error (GError     *error,
              const char *part)
{
  g_assert_nonnull (error);
  if (strstr (error->message, part) == NULL)
    g_error ("expected \"%s\" in: %s", part, error->message);
  g_error_free (error);
}

static void
assert_no_values (AneMilInferCall *call,
                  guint            i)
{
  g_assert_null (ane_mil_infer_call_output (call, i)->values);
}

/* --- depth_to_space, space_to_depth, pixel_shuffle ----------------------- */

static void
test_depth_to_space (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "depth_to_space", 1,
        "x", fp16 ("[1, 8, 3, 4]"), "block_size", i32 (2), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 2, 6, 8]>");
  }
  {
    /* C not divisible by bs^2: floored, not refused */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "depth_to_space", 1,
        "x", fp16 ("[1, 9, 3, 4]"), "block_size", i32 (2), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 2, 6, 8]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T16, "depth_to_space", 1,
        "x", fp32 ("[2, 12, ?, 5]"), "block_size", i32 (2), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [2, 3, ?, 10]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T18, "depth_to_space", 1,
        "x", fp16 ("[?, ?, 3, 4]"), "block_size", i32 (2), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [?, ?, 6, 8]>");
  }
  {
    /* bs 0: numpy's integer division by zero gives 0 */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "depth_to_space", 1,
        "x", fp16 ("[1, 8, 3, 4]"), "block_size", i32 (0), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 0, 0, 0]>");
  }
  assert_error (ane_test_infer_error (T15, "depth_to_space", 1, MISMATCH,
      "x", fp16 ("[8, 3, 4]"), "block_size", i32 (2), NULL), "rank 4");
  assert_error (ane_test_infer_error (T15, "depth_to_space", 1, MISMATCH,
      "x", fp16 ("[1, 8, 3, 4]"), "block_size", ane_test_ints ("[2]"), NULL), "must be a scalar");
  /* bs -2: coremltools infers [1, 2, -6, -8] */
  assert_error (ane_test_infer_error (T15, "depth_to_space", 1, MISMATCH,
      "x", fp16 ("[1, 8, 3, 4]"), "block_size", i32 (-2), NULL), "-6");
}

static void
test_space_to_depth (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "space_to_depth", 1,
        "x", fp32 ("[1, 2, 5, 4]"), "block_size", i32 (2), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [1, 8, 2, 2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T17, "space_to_depth", 1,
        "x", fp32 ("[1, ?, ?, 4]"), "block_size", i32 (2), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [1, ?, ?, 2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "space_to_depth", 1,
        "x", fp32 ("[1, 2, 5, 4]"), "block_size", i32 (0), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [1, 0, 0, 0]>");
  }
  assert_error (ane_test_infer_error (T15, "space_to_depth", 1, MISMATCH,
      "x", fp32 ("[2, 5, 4]"), "block_size", i32 (2), NULL), "rank 4");
}

static void
test_pixel_shuffle (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "pixel_shuffle", 1,
        "x", fp32 ("[1, 8, 5, 4]"), "upscale_factor", i32 (2), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [1, 2, 10, 8]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T18, "pixel_shuffle", 1,
        "x", fp16 ("[?, 18, ?, 2]"), "upscale_factor", i32 (3), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [?, 2, ?, 6]>");
  }
  assert_error (ane_test_infer_error (T15, "pixel_shuffle", 1, MISMATCH,
      "x", fp32 ("[1, 8, 5]"), "upscale_factor", i32 (2), NULL), "rank 4");
}

/* --- expand_dims --------------------------------------------------------- */

static void
test_expand_dims (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "expand_dims", 1,
        "x", fp16 ("[2, 3]"), "axes", ane_test_ints ("[0]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "expand_dims", 1,
        "x", fp16 ("[2, 3]"), "axes", ane_test_ints ("[-1, 0]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 2, 3, 1]>");
  }
  {
    /* the range is [-R, R) of the output's rank R, not of x's */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "expand_dims", 1,
        "x", fp16 ("[2, 3]"), "axes", ane_test_ints ("[3, -4]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 2, 3, 1]>");
  }
  {
    /* repeated axes each add a dimension; list.insert past the end appends */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "expand_dims", 1,
        "x", fp16 ("[2]"), "axes", ane_test_ints ("[2, 2]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 1, 1]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "expand_dims", 1,
        "x", ane_test_val (ANE_MIL_DT_BOOL, "[?, 3]"), "axes", ane_test_ints ("[-1, 1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<bool, [?, 1, 3, 1]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "expand_dims", 1,
        "x", fp16 (""), "axes", ane_test_ints ("[0]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "expand_dims", 1,
        "x", ane_test_val (ANE_MIL_DT_INT32, ""), "axes", ane_test_ints ("[]"), NULL);
    ane_test_assert_type (c, 0, "int32");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T17, "expand_dims", 1,
        "x", ane_test_val (ANE_MIL_DT_INT8, "[2, ?]"), "axes", ane_test_ints ("[1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int8, [2, 1, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "expand_dims", 1,
        "x", known (ANE_MIL_DT_INT32, "[2]", "[1, 2]"), "axes", ane_test_ints ("[0]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [1, 2]>");
    ane_test_assert_out_values (c, 0, "[1, 2]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "expand_dims", 1,
        "x", ane_test_float (ANE_MIL_DT_FP32, 2.5), "axes", ane_test_ints ("[0, -1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [1, 1]>");
    ane_test_assert_out_values (c, 0, "[2.5]");
  }
  {
    /* axes const of unknown value: only the rank is known */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "expand_dims", 1,
        "x", fp16 ("[2, 3]"), "axes", ane_test_const_val (ANE_MIL_DT_INT32, "[2]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [?, ?, ?, ?]>");
  }
  assert_error (ane_test_infer_error (T15, "expand_dims", 1, MISMATCH,
      "x", fp16 ("[2, 3]"), "axes", ane_test_ints ("[3]"), NULL), "out of range");
  assert_error (ane_test_infer_error (T15, "expand_dims", 1, MISMATCH,
      "x", fp16 ("[2, 3]"), "axes", ane_test_ints ("[-5]"), NULL), "out of range");
  assert_error (ane_test_infer_error (T15, "expand_dims", 1, MISMATCH,
      "x", ane_test_val (ANE_MIL_DT_INT32, ""), "axes", ane_test_ints ("0"), NULL), "vector");
  /* int8 x only from iOS17 (the InputSpec check of the core) */
  assert_error (ane_test_infer_error (T15, "expand_dims", 1, MISMATCH,
      "x", ane_test_val (ANE_MIL_DT_INT8, "[2]"), "axes", ane_test_ints ("[0]"), NULL), "int8");
}

/* --- reshape ------------------------------------------------------------- */

static void
test_reshape (void)
{
  static const AneMilTarget both[] = { T15, T17 };

  for (guint i = 0; i < G_N_ELEMENTS (both); i++)
    {
      AneMilTarget t = both[i];

      {
        g_autoptr(AneMilInferCall) c = ane_test_infer (t, "reshape", 1,
            "x", fp16 ("[2, 3]"), "shape", ane_test_ints ("[3, 2]"), NULL);
        ane_test_assert_type (c, 0, "tensor<fp16, [3, 2]>");
      }
      {
        g_autoptr(AneMilInferCall) c = ane_test_infer (t, "reshape", 1,
            "x", fp16 ("[2, 3]"), "shape", ane_test_ints ("[-1]"), NULL);
        ane_test_assert_type (c, 0, "tensor<fp16, [6]>");
      }
      {
        g_autoptr(AneMilInferCall) c = ane_test_infer (t, "reshape", 1,
            "x", fp16 ("[2, 3]"), "shape", ane_test_ints ("[0, -1]"), NULL);
        ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
      }
      {
        /* 0 // 0 is 0 in numpy */
        g_autoptr(AneMilInferCall) c = ane_test_infer (t, "reshape", 1,
            "x", fp16 ("[2, 0]"), "shape", ane_test_ints ("[-1, 0]"), NULL);
        ane_test_assert_type (c, 0, "tensor<fp16, [0, 0]>");
      }
      {
        g_autoptr(AneMilInferCall) c = ane_test_infer (t, "reshape", 1,
            "x", fp16 (""), "shape", ane_test_ints ("[1, 1]"), NULL);
        ane_test_assert_type (c, 0, "tensor<fp16, [1, 1]>");
      }
      {
        g_autoptr(AneMilInferCall) c = ane_test_infer (t, "reshape", 1,
            "x", fp16 ("[1, 1]"), "shape", ane_test_ints ("[]"), NULL);
        ane_test_assert_type (c, 0, "fp16");
      }
      {
        /* x with a symbol: -1 becomes a symbol, 0 stays 0 (not copied) */
        g_autoptr(AneMilInferCall) c = ane_test_infer (t, "reshape", 1,
            "x", fp16 ("[?, 6]"), "shape", ane_test_ints ("[0, -1]"), NULL);
        ane_test_assert_type (c, 0, "tensor<fp16, [0, ?]>");
      }
      {
        /* ... and the element count goes unchecked */
        g_autoptr(AneMilInferCall) c = ane_test_infer (t, "reshape", 1,
            "x", fp16 ("[?, 6]"), "shape", ane_test_ints ("[5, 7]"), NULL);
        ane_test_assert_type (c, 0, "tensor<fp16, [5, 7]>");
      }
      {
        g_autoptr(AneMilInferCall) c = ane_test_infer (t, "reshape", 1,
            "x", fp16 ("[?, 6]"), "shape", ane_test_ints ("[-1, 3]"), NULL);
        ane_test_assert_type (c, 0, "tensor<fp16, [?, 3]>");
      }
      {
        g_autoptr(AneMilInferCall) c = ane_test_infer (t, "reshape", 1,
            "x", fp16 ("[2, 3]"), "shape", ane_test_val (ANE_MIL_DT_INT32, "[3]"), NULL);
        ane_test_assert_type (c, 0, "tensor<fp16, [?, ?, ?]>");
      }
      {
        /* a shape of unknown length: a variadic symbol, rank 1 */
        g_autoptr(AneMilInferCall) c = ane_test_infer (t, "reshape", 1,
            "x", fp16 ("[2, 3]"), "shape", ane_test_val (ANE_MIL_DT_INT32, "[?]"), NULL);
        ane_test_assert_type (c, 0, "tensor<fp16, [?]>");
      }
      {
        g_autoptr(AneMilInferCall) c = ane_test_infer (t, "reshape", 1,
            "x", fp16 ("[2, 3]"), "shape", ane_test_val (ANE_MIL_DT_INT32, "[2, 2]"), NULL);
        ane_test_assert_type (c, 0, "tensor<fp16, [?, ?]>");
      }
      {
        g_autoptr(AneMilInferCall) c = ane_test_infer (t, "reshape", 1,
            "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "shape", ane_test_ints ("[3, -1]"),
            NULL);
        ane_test_assert_type (c, 0, "tensor<int32, [3, 2]>");
        ane_test_assert_out_values (c, 0, "[1, 2, 3, 4, 5, 6]");
      }
      assert_error (ane_test_infer_error (t, "reshape", 1, MISMATCH,
          "x", fp16 ("[2, 3]"), "shape", ane_test_ints ("[-1, -1]"), NULL), "-1");
      assert_error (ane_test_infer_error (t, "reshape", 1, MISMATCH,
          "x", fp16 ("[?, 6]"), "shape", ane_test_ints ("[-1, -1]"), NULL), "-1");
      assert_error (ane_test_infer_error (t, "reshape", 1, MISMATCH,
          "x", fp16 ("[2, 3]"), "shape", ane_test_ints ("[4, -1]"), NULL), "cannot take shape [4, -1]");
      assert_error (ane_test_infer_error (t, "reshape", 1, MISMATCH,
          "x", fp16 ("[2, 3]"), "shape", ane_test_ints ("[5]"), NULL), "cannot take");
      assert_error (ane_test_infer_error (t, "reshape", 1, MISMATCH,
          "x", fp16 ("[2, 3]"), "shape", ane_test_val (ANE_MIL_DT_INT32, ""), NULL), "vector");
      assert_error (ane_test_infer_error (t, "reshape", 1, MISMATCH,
          "x", fp16 ("[2, 3]"), "shape", ane_test_ints ("6"), NULL), "vector");
      /* [-2, -3] passes coremltools' count check as [-2, -3] */
      assert_error (ane_test_infer_error (t, "reshape", 1, MISMATCH,
          "x", fp16 ("[2, 3]"), "shape", ane_test_ints ("[-2, -3]"), NULL), "-2");
    }

  /* a 0 with len(shape) != rank(x): refused up to iOS16, right-aligned from
   * iOS17 (1 where x has no dimension) */
  assert_error (ane_test_infer_error (T15, "reshape", 1, MISMATCH,
      "x", fp16 ("[2, 3]"), "shape", ane_test_ints ("[1, 0, -1]"), NULL), "rank(x) = 2");
  assert_error (ane_test_infer_error (T16, "reshape", 1, MISMATCH,
      "x", fp16 ("[2, 3]"), "shape", ane_test_ints ("[1, 0, -1]"), NULL), "rank(x) = 2");
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T18, "reshape", 1,
        "x", fp16 ("[2, 3]"), "shape", ane_test_ints ("[1, 0, -1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T17, "reshape", 1,
        "x", fp16 ("[2, 50]"), "shape", ane_test_ints ("[1, 0, -1, 0]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 1, 2, 50]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T18, "reshape", 1,
        "x", ane_test_val (ANE_MIL_DT_INT8, "[2, 3]"), "shape", vec (ANE_MIL_DT_INT8, "[3, -1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int8, [3, 2]>");
  }
  assert_error (ane_test_infer_error (T15, "reshape", 1, MISMATCH,
      "x", fp16 ("[2, 3]"), "shape", vec (ANE_MIL_DT_INT8, "[3, -1]"), NULL), "int8");
}

/* --- reverse, reverse_sequence ------------------------------------------- */

static void
test_reverse (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "reverse", 1, "x", fp16 ("[2, ?]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?]>");
  }
  {
    /* axes are not checked against x's rank */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "reverse", 1,
        "x", fp16 ("[2, 3]"), "axes", ane_test_ints ("[5]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "reverse", 1,
        "x", fp16 ("[2, 3]"), "axes", ane_test_ints ("1"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "reverse", 1,
        "x", ane_test_val (ANE_MIL_DT_BOOL, ""), NULL);
    ane_test_assert_type (c, 0, "bool");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T17, "reverse", 1,
        "x", ane_test_val (ANE_MIL_DT_UINT16, "[2, 3]"), "axes", ane_test_ints ("[1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<uint16, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "reverse", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 2]", "[1, 2, 3, 4]"), "axes", ane_test_ints ("[-1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 2]>");
    ane_test_assert_out_values (c, 0, "[2, 1, 4, 3]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "reverse", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 2]", "[1, 2, 3, 4]"), NULL);
    ane_test_assert_out_values (c, 0, "[4, 3, 2, 1]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "reverse", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 2]", "[1, 2, 3, 4]"), "axes", ane_test_ints ("[0, 0]"), NULL);
    ane_test_assert_out_values (c, 0, "[1, 2, 3, 4]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "reverse", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "axes", ane_test_ints ("[1, -2]"),
        NULL);
    ane_test_assert_out_values (c, 0, "[6, 5, 4, 3, 2, 1]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "reverse", 1, "x", i32 (3), NULL);
    ane_test_assert_type (c, 0, "int32");
    ane_test_assert_out_values (c, 0, "[3]");
  }
  /* for a known x, value inference flips with np.flip */
  assert_error (ane_test_infer_error (T15, "reverse", 1, MISMATCH,
      "x", known (ANE_MIL_DT_INT32, "[2, 2]", "[1, 2, 3, 4]"), "axes", ane_test_ints ("[5]"), NULL),
      "out of range");
  assert_error (ane_test_infer_error (T15, "reverse", 1, MISMATCH,
      "x", i32 (3), "axes", ane_test_ints ("[0]"), NULL), "out of range");
  assert_error (ane_test_infer_error (T15, "reverse", 1, MISMATCH,
      "x", known (ANE_MIL_DT_INT32, "[2, 2]", "[1, 2, 3, 4]"), "axes", ane_test_ints ("1"), NULL), "vector");
}

static void
test_reverse_sequence (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "reverse_sequence", 1,
        "x", fp16 ("[2, 3]"), "lengths", ane_test_val (ANE_MIL_DT_INT32, "[7]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  {
    /* nothing checked: axes out of range pass */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "reverse_sequence", 1,
        "x", fp16 ("[2, ?]"), "lengths", ane_test_val (ANE_MIL_DT_INT32, "[7]"),
        "seq_axis", i32 (9), "batch_axis", i32 (-9), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?]>");
  }
  {
    /* no value, even for a known x */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "reverse_sequence", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 2]", "[1, 2, 3, 4]"), "lengths", ane_test_ints ("[1, 2]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 2]>");
    assert_no_values (c, 0);
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T17, "reverse_sequence", 1,
        "x", ane_test_val (ANE_MIL_DT_INT8, ""), "lengths", vec (ANE_MIL_DT_INT8, "[1]"), NULL);
    ane_test_assert_type (c, 0, "int8");
  }
  /* int8 lengths only from iOS17 */
  assert_error (ane_test_infer_error (T16, "reverse_sequence", 1, MISMATCH,
      "x", fp16 ("[2, 3]"), "lengths", vec (ANE_MIL_DT_INT8, "[1]"), NULL), "int8");
}

/* --- slice_by_index ------------------------------------------------------ */

static void
test_slice_by_index (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 0, 2]"), "end", ane_test_ints ("[3, 5, 6]"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 5, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 0, 2]"), "end", ane_test_ints ("[3, 5, 6]"),
        "stride", ane_test_ints ("[2, 2, 3]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 3, 2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[0, 0, 0]"), "end", ane_test_ints ("[0, 0, 0]"),
        "begin_mask", bools ("[1, 1, 1]"), "end_mask", bools ("[1, 1, 1]"),
        "stride", ane_test_ints ("[1, -1, 4]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [4, 5, 2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 0, 2]"), "end", ane_test_ints ("[3, 5, 6]"),
        "squeeze_mask", bools ("[1, 0, 0]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [5, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 0, 2]"), "end", ane_test_ints ("[3, 5, 6]"),
        "squeeze_mask", bools ("[1, 1, 1]"), NULL);
    ane_test_assert_type (c, 0, "fp16");
  }
  {
    /* negative begin/end: wrapped and clamped */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[-1, 0, 2]"), "end", ane_test_ints ("[-3, 5, 6]"),
        "stride", ane_test_ints ("[-1, 1, 1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 5, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[3, 4, 5]"), "end", ane_test_ints ("[0, 0, 0]"),
        "stride", ane_test_ints ("[-1, -2, -1]"), "begin_mask", bools ("[0, 0, 1]"),
        "end_mask", bools ("[1, 1, 0]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [4, 3, 5]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[-9, 2, 2]"), "end", ane_test_ints ("[-7, -1, 3]"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [0, 2, 1]>");
  }
  {
    /* symbolic dimensions: 0 and 1 known from begin/end alone */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[?, ?, ?]"), "begin", ane_test_ints ("[1, 0, 2]"), "end", ane_test_ints ("[2, 5, 2]"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, ?, 0]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[?, ?, ?]"), "begin", ane_test_ints ("[0, 0, 2]"), "end", ane_test_ints ("[0, 5, 2]"),
        "begin_mask", bools ("[0, 1, 0]"), "end_mask", bools ("[1, 1, 0]"),
        "stride", ane_test_ints ("[-1, 2, 1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, ?, 0]>");
  }
  {
    /* a dimension of 1 stays 1, although x[5:9] of it is empty */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[1, 1, 1]"), "begin", ane_test_ints ("[5, 0, 0]"), "end", ane_test_ints ("[9, 1, 0]"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 1, 0]>");
  }
  {
    /* begin not const: unknown where masks do not decide */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_val (ANE_MIL_DT_INT32, "[3]"),
        "end", ane_test_val (ANE_MIL_DT_INT32, "[3]"), "begin_mask", bools ("[1, 1, 0]"),
        "end_mask", bools ("[1, 0, 1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [4, ?, ?]>");
  }
  {
    /* an empty begin and end count as unknown */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[]"), "end", ane_test_ints ("[]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [?, ?, ?]>");
  }
  {
    /* masks past rank(x) are never read */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 2, 3]"), "end", ane_test_ints ("[3, 5, 6]"),
        "stride", ane_test_ints ("[1, 1, 1, 1]"), "squeeze_mask", bools ("[0, 0, 0, 1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", fp16 (""), "begin", ane_test_ints ("[]"), "end", ane_test_ints ("[]"), NULL);
    ane_test_assert_type (c, 0, "fp16");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T17, "slice_by_index", 1,
        "x", ane_test_val (ANE_MIL_DT_UINT8, "[4, 5]"), "begin", vec (ANE_MIL_DT_INT16, "[1, 0]"),
        "end", vec (ANE_MIL_DT_INT16, "[3, 5]"), "stride", vec (ANE_MIL_DT_INT16, "[1, 2]"), NULL);
    ane_test_assert_type (c, 0, "tensor<uint8, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "begin", ane_test_ints ("[0, -1]"),
        "end", ane_test_ints ("[2, -4]"), "stride", ane_test_ints ("[1, -1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 2]>");
    ane_test_assert_out_values (c, 0, "[3, 2, 6, 5]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "begin", ane_test_ints ("[0, 0]"),
        "end", ane_test_ints ("[2, 3]"), "stride", ane_test_ints ("[-1, 2]"), "begin_mask", bools ("[1, 0]"),
        "end_mask", bools ("[1, 1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 2]>");
    ane_test_assert_out_values (c, 0, "[4, 6, 1, 3]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "begin", ane_test_ints ("[1, 0]"),
        "end", ane_test_ints ("[2, 3]"), "squeeze_mask", bools ("[1, 0]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [3]>");
    ane_test_assert_out_values (c, 0, "[4, 5, 6]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", known (ANE_MIL_DT_FP32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "begin", ane_test_ints ("[1, 2]"),
        "end", ane_test_ints ("[2, 3]"), "squeeze_mask", bools ("[1, 1]"), NULL);
    ane_test_assert_type (c, 0, "fp32");
    ane_test_assert_out_values (c, 0, "[6]");
  }
  {
    /* an int8 stride: the squeeze step INT32_MAX wraps to -1 in its array */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T17, "slice_by_index", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "begin", vec (ANE_MIL_DT_INT8,
        "[1, 0]"),
        "end", vec (ANE_MIL_DT_INT8, "[2, 3]"), "squeeze_mask", bools ("[1, 0]"), NULL);
    ane_test_assert_out_values (c, 0, "[4, 5, 6]");
  }
  assert_error (ane_test_infer_error (T17, "slice_by_index", 1, MISMATCH,
      "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "begin", vec (ANE_MIL_DT_INT8, "[1, 0]"),
      "end", vec (ANE_MIL_DT_INT8, "[2, 3]"), "stride", vec (ANE_MIL_DT_INT8, "[1, 1]"),
      "squeeze_mask", bools ("[1, 0]"), NULL), "np.squeeze");
  /* whole squeeze of a known value: only int32 and fp32 convert */
  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", known (ANE_MIL_DT_FP16, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "begin", ane_test_ints ("[1, 2]"),
      "end", ane_test_ints ("[2, 3]"), "squeeze_mask", bools ("[1, 1]"), NULL), "not fp16");
  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", known (ANE_MIL_DT_BOOL, "[2, 3]", "[1, 1, 1, 1, 1, 1]"), "begin", ane_test_ints ("[1, 2]"),
      "end", ane_test_ints ("[2, 3]"), "squeeze_mask", bools ("[1, 1]"), NULL), "not bool");
  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", known (ANE_MIL_DT_FP32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "begin", ane_test_ints ("[0, 5]"),
      "end", ane_test_ints ("[0, 0]"), "end_mask", bools ("[1, 1]"), "squeeze_mask", bools ("[1, 1]"), NULL),
      "empty");
  {
    /* ... an int32 scalar takes the empty value (no value kept here) */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_index", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "begin", ane_test_ints ("[5, 0]"),
        "end", ane_test_ints ("[0, 0]"), "end_mask", bools ("[1, 1]"), "squeeze_mask", bools ("[1, 1]"),
        NULL);
    ane_test_assert_type (c, 0, "int32");
    assert_no_values (c, 0);
  }
  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "begin", ane_test_ints ("[5, 2]"),
      "end", ane_test_ints ("[2, 3]"), "squeeze_mask", bools ("[1, 0]"), NULL), "np.squeeze");
  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "begin", ane_test_ints ("[]"),
      "end", ane_test_ints ("[]"), NULL), "no entry 0");

  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[3, 0, 2]"), "end", ane_test_ints ("[1, 5, 6]"),
      NULL),
      "before begin");
  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[-3, 0, 2]"), "end", ane_test_ints ("[-1, 5, 6]"),
      "stride", ane_test_ints ("[-1, 1, 1]"), NULL), "before end");
  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 2]"), "end", ane_test_ints ("[3, 5, 6]"), NULL),
      "begin has 2 entries");
  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 2, 3]"), "end", ane_test_ints ("[3, 5]"), NULL),
      "end has 2 entries");
  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("1"), "end", ane_test_ints ("[3, 5, 6]"), NULL),
      "vector");
  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 2, 3]"), "end", ane_test_ints ("[3, 5, 6]"),
      "stride", ane_test_ints ("[1, 1]"), NULL), "stride has no entry 2");
  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 2, 3]"), "end", ane_test_ints ("[3, 5, 6]"),
      "squeeze_mask", ane_test_bool (TRUE), NULL), "squeeze_mask has no entry 0");
  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", fp16 ("[3, 4]"), "begin", ane_test_ints ("[0, 1]"), "end", ane_test_ints ("[0, 2]"),
      "squeeze_mask", bools ("[1, 0]"), "begin_mask", bools ("[1]"), "end_mask", bools ("[1, 1]"), NULL),
      "begin_mask has no entry 1");
  /* both masks and stride 0: coremltools' size depends on float-to-int casts */
  assert_error (ane_test_infer_error (T15, "slice_by_index", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 2, 3]"), "end", ane_test_ints ("[3, 5, 6]"),
      "stride", ane_test_ints ("[1, 0, 1]"), "begin_mask", bools ("[0, 1, 0]"),
      "end_mask", bools ("[0, 1, 0]"),
      NULL), "stride 1 is 0");
}

/* --- slice_by_size ------------------------------------------------------- */

static void
test_slice_by_size (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_size", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 0, 2]"),
        "size", ane_test_ints ("[2, -1, 3]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 5, 3]>");
  }
  {
    /* -1 with a negative begin: x's dimension minus begin, unwrapped */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_size", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, -2, 2]"),
        "size", ane_test_ints ("[2, -1, 3]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 7, 3]>");
  }
  {
    /* sizes are not clamped to x */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_size", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 0, 2]"), "size", ane_test_ints ("[9, 0, 9]"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [9, 0, 9]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_size", 1,
        "x", fp16 ("[4, ?, 6]"), "begin", ane_test_ints ("[1, 0, 2]"),
        "size", ane_test_ints ("[2, -1, 3]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_size", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_val (ANE_MIL_DT_INT32, "[3]"),
        "size", ane_test_ints ("[2, -1, 3]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_size", 1,
        "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 0, 2]"),
        "size", ane_test_val (ANE_MIL_DT_INT32, "[3]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [?, ?, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_size", 1,
        "x", fp16 (""), "begin", ane_test_ints ("[]"), "size", ane_test_ints ("[]"), NULL);
    ane_test_assert_type (c, 0, "fp16");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T17, "slice_by_size", 1,
        "x", ane_test_val (ANE_MIL_DT_INT16, "[4, 5]"), "begin", vec (ANE_MIL_DT_INT8, "[1, 0]"),
        "size", vec (ANE_MIL_DT_INT8, "[-1, 2]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int16, [3, 2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_size", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "begin", ane_test_ints ("[0, 1]"),
        "size", ane_test_ints ("[2, -1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 2]>");
    ane_test_assert_out_values (c, 0, "[2, 3, 5, 6]");
  }
  {
    /* the value ([[5, 6]]) does not have the type's shape: not kept */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "slice_by_size", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"), "begin", ane_test_ints ("[1, -2]"),
        "size", ane_test_ints ("[1, -1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [1, 5]>");
    assert_no_values (c, 0);
  }
  assert_error (ane_test_infer_error (T15, "slice_by_size", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 0]"), "size", ane_test_ints ("[2, -1, 3]"), NULL),
      "begin has shape [2]");
  assert_error (ane_test_infer_error (T15, "slice_by_size", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 0, 0]"), "size", ane_test_ints ("[2, -1]"), NULL),
      "size has shape [2]");
  assert_error (ane_test_infer_error (T15, "slice_by_size", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("0"), "size", ane_test_ints ("[2, -1, 3]"), NULL),
      "begin must be a vector");
  assert_error (ane_test_infer_error (T15, "slice_by_size", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "begin", ane_test_val (ANE_MIL_DT_INT32, "[?]"),
      "size", ane_test_ints ("[2, -1, 3]"), NULL), "begin has shape [?]");
  /* coremltools infers [2, -2, 3] */
  assert_error (ane_test_infer_error (T15, "slice_by_size", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "begin", ane_test_ints ("[1, 7, 2]"), "size", ane_test_ints ("[2, -1, 3]"),
      NULL),
      "-2");
  assert_error (ane_test_infer_error (T17, "slice_by_size", 1, MISMATCH,
      "x", ane_test_val (ANE_MIL_DT_INT16, "[4, 5]"), "begin", vec (ANE_MIL_DT_INT8, "[1, 0]"),
      "size", vec (ANE_MIL_DT_INT16, "[-1, 2]"), NULL), "one dtype");
}

/* --- slice_update -------------------------------------------------------- */

static void
test_slice_update (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T18, "slice_update", 1,
        "x", fp16 ("[4, 5, 6]"), "update", fp16 ("[2, 5, 4]"), "begin", ane_test_ints ("[1, 0, 2]"),
        "end", ane_test_ints ("[3, 5, 6]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [4, 5, 6]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T18, "slice_update", 1,
        "x", fp16 ("[4, 5, 6]"), "update", fp16 ("[?, 5, 4]"), "begin", ane_test_ints ("[1, 0, 2]"),
        "end", ane_test_ints ("[3, 5, 6]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [4, 5, 6]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T18, "slice_update", 1,
        "x", fp16 ("[4, 5]"), "update", fp16 ("[5]"), "begin", ane_test_ints ("[1, 0]"),
        "end", ane_test_ints ("[0, 0]"), "squeeze_mask", bools ("[1, 0]"), "end_mask", bools ("[0, 1]"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [4, 5]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T18, "slice_update", 1,
        "x", fp16 ("[4, 5]"), "update", fp16 ("[2, 2]"), "begin", ane_test_ints ("[1, 0]"),
        "end", ane_test_ints ("[3, 0]"), "stride", ane_test_ints ("[1, 3]"), "end_mask", bools ("[0, 1]"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [4, 5]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T18, "slice_update", 1,
        "x", fp16 ("[4, 5, 6]"), "update", fp16 ("[7, 8, 9]"), "begin", ane_test_val (ANE_MIL_DT_INT32,
        "[3]"),
        "end", ane_test_ints ("[3, 5, 6]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [4, 5, 6]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T18, "slice_update", 1,
        "x", fp16 ("[4, ?, 6]"), "update", fp16 ("[2, 7, 4]"), "begin", ane_test_ints ("[1, 0, 2]"),
        "end", ane_test_ints ("[3, 5, 6]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [4, ?, 6]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T18, "slice_update", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"),
        "update", known (ANE_MIL_DT_INT32, "[1, 2]", "[9, 8]"), "begin", ane_test_ints ("[1, 0]"),
        "end", ane_test_ints ("[2, 3]"), "stride", ane_test_ints ("[1, 2]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 3]>");
    ane_test_assert_out_values (c, 0, "[1, 2, 3, 9, 5, 8]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T18, "slice_update", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 3]", "[1, 2, 3, 4, 5, 6]"),
        "update", known (ANE_MIL_DT_INT32, "[2, 1]", "[7, 8]"), "begin", ane_test_ints ("[0, 2]"),
        "end", ane_test_ints ("[2, 3]"), NULL);
    ane_test_assert_out_values (c, 0, "[1, 2, 7, 4, 5, 8]");
  }
  assert_error (ane_test_infer_error (T18, "slice_update", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "update", fp16 ("[2, 5, 3]"), "begin", ane_test_ints ("[1, 0, 2]"),
      "end", ane_test_ints ("[3, 5, 6]"), NULL), "slice's shape [2, 5, 4]");
  assert_error (ane_test_infer_error (T18, "slice_update", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "update", fp16 ("[2, 5]"), "begin", ane_test_ints ("[1, 0, 2]"),
      "end", ane_test_ints ("[3, 5, 6]"), NULL), "slice's shape");
  assert_error (ane_test_infer_error (T18, "slice_update", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "update", fp16 ("[7, 8]"), "begin", ane_test_val (ANE_MIL_DT_INT32, "[3]"),
      "end", ane_test_ints ("[3, 5, 6]"), NULL), "[?, ?, ?]");
  assert_error (ane_test_infer_error (T18, "slice_update", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "update", fp16 (""), "begin", ane_test_ints ("[1, 0, 2]"),
      "end", ane_test_ints ("[3, 5, 6]"), "squeeze_mask", bools ("[1, 1, 1]"), NULL), "rank-0");
  assert_error (ane_test_infer_error (T18, "slice_update", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "update", fp16 ("[1]"), "begin", ane_test_ints ("[1, 0, 2]"),
      "end", ane_test_ints ("[3, 5, 6]"), "squeeze_mask", bools ("[1, 1, 1]"), NULL), "slice's shape []");
  assert_error (ane_test_infer_error (T18, "slice_update", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "update", fp16 ("[2, 5, 4]"), "begin", ane_test_ints ("[1, 0, 2]"),
      "end", ane_test_ints ("[3, 5]"), NULL), "end has 2 entries");
  assert_error (ane_test_infer_error (T18, "slice_update", 1, MISMATCH,
      "x", fp16 ("[4, 5, 6]"), "update", fp32 ("[2, 5, 4]"), "begin", ane_test_ints ("[1, 0, 2]"),
      "end", ane_test_ints ("[3, 5, 6]"), NULL), "one dtype");
  /* not before iOS18 */
  assert_error (ane_test_infer_error (T17, "slice_update", 1, ANE_ERROR_UNSUPPORTED,
      "x", fp16 ("[4, 5, 6]"), "update", fp16 ("[2, 5, 4]"), "begin", ane_test_ints ("[1, 0, 2]"),
      "end", ane_test_ints ("[3, 5, 6]"), NULL), "slice_update");
}

/* --- sliding_windows ----------------------------------------------------- */

static void
test_sliding_windows (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "sliding_windows", 1,
        "x", fp32 ("[2, 10, 3]"), "axis", i32 (1), "size", i32 (4), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [2, 7, 4, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "sliding_windows", 1,
        "x", fp32 ("[2, 10, 3]"), "axis", i32 (-2), "size", i32 (4), "stride", i32 (3), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [2, 3, 4, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T16, "sliding_windows", 1,
        "x", fp32 ("[2, 10, 3]"), "axis", i32 (-1), "size", i32 (2), "stride", i32 (2), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [2, 10, 1, 2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "sliding_windows", 1,
        "x", fp32 ("[2, ?, 3]"), "axis", i32 (1), "size", i32 (4), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [2, ?, 4, 3]>");
  }
  {
    /* size past the dimension: coremltools infers -1 (unspecified) */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "sliding_windows", 1,
        "x", fp32 ("[2, 10, 3]"), "axis", i32 (1), "size", i32 (12), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [2, ?, 12, 3]>");
  }
  {
    /* stride 0: numpy's // gives 0 */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "sliding_windows", 1,
        "x", fp32 ("[2, 10, 3]"), "axis", i32 (1), "size", i32 (4), "stride", i32 (0), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [2, 1, 4, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T17, "sliding_windows", 1,
        "x", ane_test_val (ANE_MIL_DT_BOOL, "[10]"), "axis", i32 (0), "size", i32 (4), "stride", i32 (2),
        NULL);
    ane_test_assert_type (c, 0, "tensor<bool, [4, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T17, "sliding_windows", 1,
        "x", ane_test_val (ANE_MIL_DT_INT16, "[?, 8]"), "axis", i32 (-1), "size", i32 (3), "stride", i32 (2),
        NULL);
    ane_test_assert_type (c, 0, "tensor<int16, [?, 3, 3]>");
  }
  assert_error (ane_test_infer_error (T15, "sliding_windows", 1, MISMATCH,
      "x", fp32 ("[2, 10, 3]"), "axis", i32 (3), "size", i32 (4), NULL), "out of range");
  assert_error (ane_test_infer_error (T15, "sliding_windows", 1, MISMATCH,
      "x", fp32 ("[2, 10, 3]"), "axis", i32 (-4), "size", i32 (4), NULL), "out of range");
  assert_error (ane_test_infer_error (T15, "sliding_windows", 1, MISMATCH,
      "x", fp32 (""), "axis", i32 (0), "size", i32 (1), NULL), "rank >= 1");
  assert_error (ane_test_infer_error (T15, "sliding_windows", 1, MISMATCH,
      "x", fp32 ("[2, 10, 3]"), "axis", ane_test_ints ("[1]"), "size", i32 (4), NULL),
      "axis must be a scalar");
  assert_error (ane_test_infer_error (T15, "sliding_windows", 1, MISMATCH,
      "x", fp32 ("[2, 10, 3]"), "axis", i32 (1), "size", i32 (4), "stride", ane_test_ints ("[2]"), NULL),
      "stride must be a scalar");
  /* coremltools infers [2, 15, -4, 3] and [2, -5, 4, 3] */
  assert_error (ane_test_infer_error (T15, "sliding_windows", 1, MISMATCH,
      "x", fp32 ("[2, 10, 3]"), "axis", i32 (1), "size", i32 (-4), NULL), "-4");
  assert_error (ane_test_infer_error (T15, "sliding_windows", 1, MISMATCH,
      "x", fp32 ("[2, 10, 3]"), "axis", i32 (1), "size", i32 (4), "stride", i32 (-1), NULL), "-5");
  /* bool x only from iOS17 */
  assert_error (ane_test_infer_error (T15, "sliding_windows", 1, MISMATCH,
      "x", ane_test_val (ANE_MIL_DT_BOOL, "[10]"), "axis", i32 (0), "size", i32 (4), NULL), "bool");
}

/* --- squeeze ------------------------------------------------------------- */

static void
test_squeeze (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "squeeze", 1, "x", fp16 ("[1, 2, 1, ?]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "squeeze", 1,
        "x", fp16 ("[1, 2, 1, ?]"), "axes", ane_test_ints ("[0]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 1, ?]>");
  }
  {
    /* a dimension that is not 1 stays (PyTorch's way) */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "squeeze", 1,
        "x", fp16 ("[1, 2, 1, ?]"), "axes", ane_test_ints ("[-2, 1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 2, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "squeeze", 1,
        "x", fp16 ("[1, 2, 1, ?]"), "axes", ane_test_ints ("[3]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 2, 1, ?]>");
  }
  {
    /* below -rank an axis wraps a second time: -6 on rank 4 is 2 */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "squeeze", 1,
        "x", fp16 ("[1, 2, 1, ?]"), "axes", ane_test_ints ("[-6]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 2, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "squeeze", 1,
        "x", fp16 ("[1, 2, 1, ?]"), "axes", ane_test_ints ("[-5]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 2, 1, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "squeeze", 1,
        "x", fp16 ("[1, 2, 1, ?]"), "axes", ane_test_ints ("[2, 2]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 2, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "squeeze", 1,
        "x", fp16 ("[1, 1]"), "axes", ane_test_ints ("[0, 1]"), NULL);
    ane_test_assert_type (c, 0, "fp16");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "squeeze", 1, "x", fp16 (""), NULL);
    ane_test_assert_type (c, 0, "fp16");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "squeeze", 1,
        "x", fp16 ("[1, 2]"), "axes", ane_test_ints ("[]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [1, 2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T17, "squeeze", 1,
        "x", ane_test_val (ANE_MIL_DT_INT8, "[1, ?, 1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int8, [?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "squeeze", 1,
        "x", known (ANE_MIL_DT_INT32, "[1, 2]", "[1, 2]"), "axes", ane_test_ints ("[0]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2]>");
    ane_test_assert_out_values (c, 0, "[1, 2]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "squeeze", 1,
        "x", known (ANE_MIL_DT_INT32, "[1, 1]", "[3]"), NULL);
    ane_test_assert_type (c, 0, "int32");
    ane_test_assert_out_values (c, 0, "[3]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "squeeze", 1,
        "x", known (ANE_MIL_DT_FP32, "[1]", "[3]"), NULL);
    ane_test_assert_type (c, 0, "fp32");
    ane_test_assert_out_values (c, 0, "[3]");
  }
  assert_error (ane_test_infer_error (T15, "squeeze", 1, MISMATCH,
      "x", fp16 ("[1, 2, 1, ?]"), "axes", ane_test_ints ("[4]"), NULL), "out of range");
  assert_error (ane_test_infer_error (T15, "squeeze", 1, MISMATCH,
      "x", fp16 ("[1, 2, 1, ?]"), "axes", ane_test_ints ("[-9]"), NULL), "below -rank");
  assert_error (ane_test_infer_error (T15, "squeeze", 1, MISMATCH,
      "x", fp16 (""), "axes", ane_test_ints ("[0]"), NULL), "out of range");
  assert_error (ane_test_infer_error (T15, "squeeze", 1, MISMATCH,
      "x", fp16 ("[1]"), "axes", ane_test_ints ("0"), NULL), "vector");
  /* a known x: np.squeeze of its value */
  assert_error (ane_test_infer_error (T15, "squeeze", 1, MISMATCH,
      "x", known (ANE_MIL_DT_INT32, "[1, 2]", "[1, 2]"), "axes", ane_test_ints ("[1]"), NULL), "has size 2");
  assert_error (ane_test_infer_error (T15, "squeeze", 1, MISMATCH,
      "x", known (ANE_MIL_DT_INT32, "[1, 2]", "[1, 2]"), "axes", ane_test_ints ("[0, 0]"), NULL), "repeated");
  assert_error (ane_test_infer_error (T15, "squeeze", 1, MISMATCH,
      "x", known (ANE_MIL_DT_INT32, "[1, 2]", "[1, 2]"), "axes", ane_test_ints ("[-3]"), NULL),
      "out of range");
  assert_error (ane_test_infer_error (T15, "squeeze", 1, MISMATCH,
      "x", i32 (3), NULL), "scalar of known value");
  assert_error (ane_test_infer_error (T15, "squeeze", 1, MISMATCH,
      "x", known (ANE_MIL_DT_FP32, "[1, 1]", "[3]"), NULL), "float scalar");
  assert_error (ane_test_infer_error (T15, "squeeze", 1, MISMATCH,
      "x", known (ANE_MIL_DT_FP16, "[1, 1]", "[3]"), "axes", ane_test_ints ("[0, 1]"), NULL), "float scalar");
}

/* --- transpose ----------------------------------------------------------- */

static void
test_transpose (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "transpose", 1,
        "x", fp16 ("[2, 3, ?]"), "perm", ane_test_ints ("[2, 0, 1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [?, 2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "transpose", 1,
        "x", fp16 ("[2, 3, ?]"), "perm", ane_test_ints ("[-1, 0, 1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [?, 2, 3]>");
  }
  {
    /* repeated entries pass the type inference */
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "transpose", 1,
        "x", fp16 ("[2, 3, ?]"), "perm", ane_test_ints ("[0, 0, 1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "transpose", 1,
        "x", fp16 (""), "perm", ane_test_ints ("[]"), NULL);
    ane_test_assert_type (c, 0, "fp16");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T17, "transpose", 1,
        "x", ane_test_val (ANE_MIL_DT_UINT8, "[2, 3]"), "perm", ane_test_ints ("[1, 0]"), NULL);
    ane_test_assert_type (c, 0, "tensor<uint8, [3, 2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "transpose", 1,
        "x", known (ANE_MIL_DT_INT32, "[1, 3]", "[1, 2, 3]"), "perm", ane_test_ints ("[-1, 0]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [3, 1]>");
    ane_test_assert_out_values (c, 0, "[1, 2, 3]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "transpose", 1,
        "x", known (ANE_MIL_DT_INT32, "[2, 2, 2]", "[1, 2, 3, 4, 5, 6, 7, 8]"),
        "perm", ane_test_ints ("[2, 0, 1]"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 2, 2]>");
    ane_test_assert_out_values (c, 0, "[1, 3, 5, 7, 2, 4, 6, 8]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (T15, "transpose", 1,
        "x", ane_test_float (ANE_MIL_DT_FP32, 3), "perm", ane_test_ints ("[]"), NULL);
    ane_test_assert_type (c, 0, "fp32");
    ane_test_assert_out_values (c, 0, "[3]");
  }
  assert_error (ane_test_infer_error (T15, "transpose", 1, MISMATCH,
      "x", fp16 ("[2, 3, ?]"), "perm", ane_test_ints ("[3, 0, 1]"), NULL), "out of range");
  assert_error (ane_test_infer_error (T15, "transpose", 1, MISMATCH,
      "x", fp16 ("[2, 3, ?]"), "perm", ane_test_ints ("[-4, 0, 1]"), NULL), "out of range");
  assert_error (ane_test_infer_error (T15, "transpose", 1, MISMATCH,
      "x", fp16 ("[2, 3, ?]"), "perm", ane_test_ints ("[0, 1]"), NULL), "perm has 2 entries");
  assert_error (ane_test_infer_error (T15, "transpose", 1, MISMATCH,
      "x", fp16 ("[2]"), "perm", ane_test_ints ("0"), NULL), "vector");
  assert_error (ane_test_infer_error (T15, "transpose", 1, MISMATCH,
      "x", known (ANE_MIL_DT_INT32, "[1, 3]", "[1, 2, 3]"), "perm", ane_test_ints ("[0, 0]"), NULL),
      "repeats");
  /* perm must be const (the core's InputSpec check) */
  assert_error (ane_test_infer_error (T15, "transpose", 1, MISMATCH,
      "x", fp16 ("[2, 3]"), "perm", ane_test_val (ANE_MIL_DT_INT32, "[2]"), NULL), "const");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/mil-infer/transform/depth_to_space", test_depth_to_space);
  g_test_add_func ("/ane/mil-infer/transform/space_to_depth", test_space_to_depth);
  g_test_add_func ("/ane/mil-infer/transform/pixel_shuffle", test_pixel_shuffle);
  g_test_add_func ("/ane/mil-infer/transform/expand_dims", test_expand_dims);
  g_test_add_func ("/ane/mil-infer/transform/reshape", test_reshape);
  g_test_add_func ("/ane/mil-infer/transform/reverse", test_reverse);
  g_test_add_func ("/ane/mil-infer/transform/reverse_sequence", test_reverse_sequence);
  g_test_add_func ("/ane/mil-infer/transform/slice_by_index", test_slice_by_index);
  g_test_add_func ("/ane/mil-infer/transform/slice_by_size", test_slice_by_size);
  g_test_add_func ("/ane/mil-infer/transform/slice_update", test_slice_update);
  g_test_add_func ("/ane/mil-infer/transform/sliding_windows", test_sliding_windows);
  g_test_add_func ("/ane/mil-infer/transform/squeeze", test_squeeze);
  g_test_add_func ("/ane/mil-infer/transform/transpose", test_transpose);

  return g_test_run ();
}
