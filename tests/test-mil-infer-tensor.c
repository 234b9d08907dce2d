/* test-mil-infer-tensor.c: the type-inference rules of ane-glib/mil/infer/ane-mil-infer-tensor.c
 *
 * Hand-checked cases per op against the type_inference of coremltools'
 * op classes (the source each row of ane-mil-opdefs.c names). Every expected
 * type below was checked against coremltools 9.0 (mb.<op> in a program at the
 * same target; "?" where coremltools infers a symbol).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-infer-test-util.h"

#define FP16  ANE_MIL_DT_FP16
#define FP32  ANE_MIL_DT_FP32
#define INT32 ANE_MIL_DT_INT32
#define BOOL  ANE_MIL_DT_BOOL
#define I15   ANE_MIL_IOS15
#define I16   ANE_MIL_IOS16
#define I17   ANE_MIL_IOS17
#define I18   ANE_MIL_IOS18
#define MISMATCH ANE_ERROR_TYPE_MISMATCH

/* A const tensor of dtype with known values. */
static AneMilVal *
known (int           dtype,
       const gint64 *shape,
       guint         rank,
       const double *values)
{
  return ane_mil_val_new_values (dtype, shape, rank, values);
}

/* The call is refused with a message containing part. */
static void
assert_error (GError     *error,
              const char *part)
{
  g_assert_nonnull (error);
  if (strstr (error->message, part) == NULL)
    g_error ("expected an error mentioning '%s', got: %s", part, error->message);
  g_error_free (error);
}

static void
test_band_part (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "band_part", 1,
        "x", ane_test_val (FP16, "[2, ?]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I18, "band_part", 1,
        "x", ane_test_val (INT32, "[3, 4, 5]"), "lower", ane_test_ints ("0"), "upper", ane_test_ints ("-1"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [3, 4, 5]>");
  }
  {
    /* a scalar x is fine as long as its value is unknown */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "band_part", 1,
        "x", ane_test_val (BOOL, ""), "lower", ane_test_ints ("0"), NULL);
    ane_test_assert_type (c, 0, "bool");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "band_part", 1,
        "x", known (FP32, (gint64[]) { 2, 2 }, 2, (double[]) { 1, 1, 1, 1 }),
        "lower", ane_test_ints ("0"), "upper", ane_test_ints ("0"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [2, 2]>");
  }
  /* value inference folds a known x as matrices: rank 1 is refused */
  assert_error (ane_test_infer_error (I15, "band_part", 1, MISMATCH,
      "x", known (FP32, (gint64[]) { 2 }, 1, (double[]) { 1, 2 }), NULL), "rank >= 2");
  /* lower is const-only */
  assert_error (ane_test_infer_error (I15, "band_part", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 2]"), "lower", ane_test_val (INT32, ""), NULL), "const");
}

static void
test_concat (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "concat", 1,
        "values", ane_test_val (FP16, "[2, ?]"), "values", ane_test_val (FP16, "[2, 3]"),
        "axis", ane_test_ints ("1"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?]>");
  }
  {
    /* values[0]'s shape is the output's off the axis */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "concat", 1,
        "values", ane_test_val (FP16, "[2, ?]"), "values", ane_test_val (FP16, "[2, 3]"),
        "axis", ane_test_ints ("0"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [4, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I17, "concat", 1,
        "values", ane_test_val (BOOL, "[2, 4]"), "values", ane_test_val (BOOL, "[2, 3]"),
        "values", ane_test_val (BOOL, "[2, 1]"), "axis", ane_test_ints ("-1"), NULL);
    ane_test_assert_type (c, 0, "tensor<bool, [2, 8]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "concat", 1,
        "values", ane_test_val (INT32, "[2]"), "axis", ane_test_ints ("0"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "concat", 1,
        "values", ane_test_val (FP16, "[2, 3]"), "values", ane_test_val (FP16, "[2, 3]"),
        "axis", ane_test_ints ("1"), "interleave", ane_test_bool (TRUE), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 6]>");
  }
  {
    /* scalars make a vector; axis 0 and -1 are the ones numpy's stack takes */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "concat", 1,
        "values", ane_test_val (FP16, ""), "values", ane_test_val (FP16, ""),
        "axis", ane_test_ints ("-1"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2]>");
  }
  {
    /* known values are concatenated (a shape being built) */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "concat", 1,
        "values", ane_test_ints ("[2, 3]"), "values", ane_test_ints ("[5]"), "axis", ane_test_ints ("0"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [3]>");
    ane_test_assert_out_values (c, 0, "[2, 3, 5]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "concat", 1,
        "values", known (INT32, (gint64[]) { 2, 2 }, 2, (double[]) { 1, 2, 3, 4 }),
        "values", known (INT32, (gint64[]) { 2, 1 }, 2, (double[]) { 5, 6 }), "axis", ane_test_ints ("1"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 3]>");
    ane_test_assert_out_values (c, 0, "[1, 2, 5, 3, 4, 6]");
  }
  {
    /* coremltools folds an interleaved concat as a plain one */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "concat", 1,
        "values", ane_test_ints ("[1, 2]"), "values", ane_test_ints ("[3, 4]"), "axis", ane_test_ints ("0"),
        "interleave", ane_test_bool (TRUE), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [4]>");
    ane_test_assert_out_values (c, 0, "[1, 2, 3, 4]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "concat", 1,
        "values", ane_test_ints ("7"), "values", ane_test_ints ("8"), "axis", ane_test_ints ("0"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2]>");
    ane_test_assert_out_values (c, 0, "[7, 8]");
  }
  {
    /* one value unknown: no value */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "concat", 1,
        "values", ane_test_val (INT32, "[2]"), "values", ane_test_ints ("[5]"), "axis", ane_test_ints ("0"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [3]>");
    g_assert_null (ane_mil_infer_call_output (c, 0)->values);
  }
  assert_error (ane_test_infer_error (I15, "concat", 1, MISMATCH,
      "values", ane_test_val (FP16, "[2, 4]"), "values", ane_test_val (FP16, "[3, 3]"),
      "axis", ane_test_ints ("-1"), NULL), "shape");
  assert_error (ane_test_infer_error (I15, "concat", 1, MISMATCH,
      "values", ane_test_val (FP16, "[0, ?]"), "values", ane_test_val (FP16, "[2, 3]"),
      "axis", ane_test_ints ("1"), NULL), "shape");
  assert_error (ane_test_infer_error (I15, "concat", 1, MISMATCH,
      "values", ane_test_val (FP16, "[2, 4]"), "values", ane_test_val (FP16, "[2, 3]"),
      "axis", ane_test_ints ("2"), NULL), "out of range");
  assert_error (ane_test_infer_error (I15, "concat", 1, MISMATCH,
      "values", ane_test_val (FP16, "[2, 4]"), "values", ane_test_val (FP16, "[2, 3]"),
      "axis", ane_test_ints ("-3"), NULL), "out of range");
  assert_error (ane_test_infer_error (I15, "concat", 1, MISMATCH,
      "values", ane_test_val (FP16, "[2, 4]"), "values", ane_test_val (FP32, "[2, 3]"),
      "axis", ane_test_ints ("1"), NULL), "dtype");
  assert_error (ane_test_infer_error (I15, "concat", 1, MISMATCH,
      "values", ane_test_val (FP16, "[2, 4]"), "values", ane_test_val (FP16, "[2]"),
      "axis", ane_test_ints ("0"), NULL), "rank");
  /* interleave wants equal shapes, the axis included, even with one side unknown elsewhere */
  assert_error (ane_test_infer_error (I15, "concat", 1, MISMATCH,
      "values", ane_test_val (FP16, "[?, 4]"), "values", ane_test_val (FP16, "[2, 3]"),
      "axis", ane_test_ints ("1"), "interleave", ane_test_bool (TRUE), NULL), "interleave");
  assert_error (ane_test_infer_error (I15, "concat", 1, MISMATCH,
      "values", ane_test_val (FP16, ""), "values", ane_test_val (FP16, ""), "axis", ane_test_ints ("3"),
      NULL),
      "out of range");
  assert_error (ane_test_infer_error (I15, "concat", 1, MISMATCH,
      "values", ane_test_val (FP16, ""), "values", ane_test_val (FP16, ""), "axis", ane_test_ints ("-2"),
      NULL),
      "out of range");
}

static void
test_fill (void)
{
  {
    /* value's default is the float 0.0 */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "fill", 1,
        "shape", ane_test_val (INT32, "[2]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [?, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "fill", 1,
        "shape", ane_test_val (INT32, "[2]"), "value", ane_test_float (FP16, 1.0), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [?, ?]>");
  }
  {
    /* a shape of unknown length: one variadic dimension */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "fill", 1,
        "shape", ane_test_val (INT32, "[?]"), "value", ane_test_bool (TRUE), NULL);
    ane_test_assert_type (c, 0, "tensor<bool, [?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I17, "fill", 1,
        "shape", ane_test_ints ("[2, 3]"), "value", ane_test_ints ("3"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "fill", 1,
        "shape", ane_test_ints ("[]"), "value", ane_test_ints ("3"), NULL);
    ane_test_assert_type (c, 0, "int32");
  }
  {
    /* an unknown shape of rank 2: one dimension per row */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "fill", 1,
        "shape", ane_test_val (INT32, "[1, 2]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "fill", 1,
        "shape", ane_test_val (INT32, "[1, ?]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [?]>");
  }
  assert_error (ane_test_infer_error (I15, "fill", 1, MISMATCH,
      "shape", ane_test_ints ("3"), NULL), "scalar");
  assert_error (ane_test_infer_error (I15, "fill", 1, MISMATCH,
      "shape", ane_test_val (INT32, ""), NULL), "scalar");
  assert_error (ane_test_infer_error (I15, "fill", 1, MISMATCH,
      "shape", ane_test_ints ("[2, -3]"), "value", ane_test_float (FP32, 3.0), NULL), "negative");
  assert_error (ane_test_infer_error (I15, "fill", 1, MISMATCH,
      "shape", known (INT32, (gint64[]) { 1, 2 }, 2, (double[]) { 2, 3 }), NULL), "vector");
}

static void
test_fill_like (void)
{
  g_autoptr(GError) error = NULL;

  {
    /* value's default is fp32, whatever ref_tensor's dtype */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I16, "fill_like", 1,
        "ref_tensor", ane_test_val (FP16, "[2, ?]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [2, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I18, "fill_like", 1,
        "ref_tensor", ane_test_val (FP16, "[2, ?]"), "value", ane_test_bool (TRUE), NULL);
    ane_test_assert_type (c, 0, "tensor<bool, [2, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I16, "fill_like", 1,
        "ref_tensor", ane_test_val (FP16, ""), "value", ane_test_ints ("2"), NULL);
    ane_test_assert_type (c, 0, "int32");
  }
  /* type_inference never raises; the op is new in iOS16 */
  error = ane_test_infer_error (I15, "fill_like", 1, ANE_ERROR_UNSUPPORTED,
      "ref_tensor", ane_test_val (FP16, "[2, 3]"), NULL);
}

static void
test_flatten2d (void)
{
  static const struct { const char *shape; const char *axis; const char *expected; } cases[] = {
    { "[2, 3, 4]", NULL, "tensor<fp16, [2, 12]>" },
    { "[2, 3, 4]", "-1", "tensor<fp16, [6, 4]>" },
    /* python slicing clamps an axis out of range */
    { "[2, 3, 4]", "5", "tensor<fp16, [24, 1]>" },
    { "[2, 3, 4]", "-7", "tensor<fp16, [1, 24]>" },
    { "[2, ?, 4]", "2", "tensor<fp16, [?, 4]>" },
    /* 0 * symbol is 0 */
    { "[0, ?, 4]", "2", "tensor<fp16, [0, 4]>" },
    { "[3]", NULL, "tensor<fp16, [3, 1]>" },
    { "[3]", "-1", "tensor<fp16, [1, 3]>" },
    { "", "0", "tensor<fp16, [1, 1]>" },
    { "", "3", "tensor<fp16, [1, 1]>" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(AneMilInferCall) c = cases[i].axis != NULL
        ? ane_test_infer (I15, "flatten2d", 1, "x", ane_test_val (FP16, cases[i].shape),
                          "axis", ane_test_ints (cases[i].axis), NULL)
        : ane_test_infer (I15, "flatten2d", 1, "x", ane_test_val (FP16, cases[i].shape), NULL);
      ane_test_assert_type (c, 0, cases[i].expected);
    }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I17, "flatten2d", 1,
        "x", ane_test_val (BOOL, "[3]"), "axis", ane_test_ints ("-1"), NULL);
    ane_test_assert_type (c, 0, "tensor<bool, [1, 3]>");
  }
  /* flatten2d's type_inference never raises; axis must be const */
  assert_error (ane_test_infer_error (I15, "flatten2d", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 3]"), "axis", ane_test_val (INT32, ""), NULL), "const");
}

static void
test_identity (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "identity", 1,
        "x", ane_test_val (FP16, "[2, ?]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?]>");
    g_assert_false (ane_mil_infer_call_output (c, 0)->const_descendant);
  }
  {
    /* not dtype-checked: int8 passes */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I17, "identity", 1,
        "x", ane_test_val (ANE_MIL_DT_INT8, "[2, 3]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int8, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "identity", 1,
        "x", ane_test_ints ("[2, 3]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2]>");
    ane_test_assert_out_values (c, 0, "[2, 3]");
    g_assert_true (ane_mil_infer_call_output (c, 0)->const_descendant);
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "identity", 1,
        "x", ane_test_float (FP32, 1.5), NULL);
    ane_test_assert_type (c, 0, "fp32");
    ane_test_assert_out_values (c, 0, "[1.5]");
  }
  assert_error (ane_test_infer_error (I18, "identity", 1, MISMATCH,
      "x", ane_test_state (FP16, "[2]"), NULL), "state");
}

static void
test_non_maximum_suppression (void)
{
  for (AneMilTarget t = I15; t <= I16; t++)
    {
      g_autoptr(AneMilInferCall) c = ane_test_infer (t, "non_maximum_suppression", 4,
          "boxes", ane_test_val (FP16, "[1, ?, 4]"), "scores", ane_test_val (FP16, "[1, ?, 3]"),
          "iou_threshold", ane_test_float (FP16, 0.5), "score_threshold", ane_test_float (FP16, 0.1),
          "max_boxes", ane_test_ints ("5"), NULL);
      g_assert_cmpuint (ane_mil_infer_call_n_outputs (c), ==, 4);
      ane_test_assert_type (c, 0, "tensor<fp16, [1, 5, 4]>");
      ane_test_assert_type (c, 1, "tensor<fp16, [1, 5, 3]>");
      ane_test_assert_type (c, 2, "tensor<int32, [1, 5]>");
      ane_test_assert_type (c, 3, "tensor<int32, [1]>");
    }
  {
    /* boxes' shape is not read: the batch comes from scores */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "non_maximum_suppression", 4,
        "boxes", ane_test_val (FP32, "[7]"), "scores", ane_test_val (FP32, "[2, 5, 3]"),
        "iou_threshold", ane_test_float (FP32, 0.5), "score_threshold", ane_test_float (FP32, 0.1),
        "max_boxes", ane_test_ints ("5"), "per_class_suppression", ane_test_bool (TRUE), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [2, 5, 4]>");
    ane_test_assert_type (c, 1, "tensor<fp32, [2, 5, 3]>");
    ane_test_assert_type (c, 3, "tensor<int32, [2]>");
  }
  assert_error (ane_test_infer_error (I15, "non_maximum_suppression", 4, MISMATCH,
      "boxes", ane_test_val (FP32, "[1, 5, 4]"), "scores", ane_test_val (FP32, "[1, 5]"),
      "iou_threshold", ane_test_float (FP32, 0.5), "score_threshold", ane_test_float (FP32, 0.1),
      "max_boxes", ane_test_ints ("5"), NULL), "rank 3");
  assert_error (ane_test_infer_error (I15, "non_maximum_suppression", 4, MISMATCH,
      "boxes", ane_test_val (FP32, "[1, 5, 4]"), "scores", ane_test_val (FP32, "[1, 5, 3]"),
      "iou_threshold", ane_test_float (FP32, 0.5), "score_threshold", ane_test_float (FP32, 0.1),
      "max_boxes", ane_test_ints ("[5]"), NULL), "scalar");

  /* iOS17: [n, 4, B] / [n, K, B], three outputs */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I17, "non_maximum_suppression", 3,
        "boxes", ane_test_val (FP16, "[2, 4, ?]"), "scores", ane_test_val (FP16, "[2, 3, ?]"),
        "iou_threshold", ane_test_float (FP16, 0.5), "max_boxes", ane_test_ints ("5"), NULL);
    g_assert_cmpuint (ane_mil_infer_call_n_outputs (c), ==, 3);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 4, 5]>");
    ane_test_assert_type (c, 1, "tensor<fp16, [2, 3, 5]>");
    ane_test_assert_type (c, 2, "tensor<int32, [2, 5]>");
  }
  assert_error (ane_test_infer_error (I18, "non_maximum_suppression", 3, MISMATCH,
      "boxes", ane_test_val (FP16, "[2, 4, ?]"), "scores", ane_test_val (FP16, "[2, 3]"),
      "iou_threshold", ane_test_float (FP16, 0.5), "max_boxes", ane_test_ints ("5"), NULL), "rank 3");
}

static void
test_non_zero (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "non_zero", 1,
        "x", ane_test_val (FP16, "[2, ?, 4]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [?, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "non_zero", 1,
        "x", ane_test_val (BOOL, ""), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [?, 0]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "non_zero", 1,
        "x", known (FP32, (gint64[]) { 2, 2 }, 2, (double[]) { 1, 0, 2, 3 }), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [3, 2]>");
    ane_test_assert_out_values (c, 0, "[0, 0, 1, 0, 1, 1]");
  }
  {
    /* numpy treats a known scalar as a one-element vector */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "non_zero", 1,
        "x", ane_test_float (FP32, 3.0), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [1, 1]>");
    ane_test_assert_out_values (c, 0, "[0]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "non_zero", 1,
        "x", ane_test_float (FP32, 0.0), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [0, 1]>");
  }
  /* non_zero's type_inference never raises; the dtype domain does */
  assert_error (ane_test_infer_error (I17, "non_zero", 1, MISMATCH,
      "x", ane_test_val (ANE_MIL_DT_INT8, "[2]"), NULL), "int8");
}

static void
test_one_hot (void)
{
  {
    /* on_value and off_value default to int32 1 and 0 */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "one_hot", 1,
        "indices", ane_test_val (INT32, "[2, 3]"), "one_hot_vector_size", ane_test_ints ("4"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 3, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "one_hot", 1,
        "indices", ane_test_val (INT32, "[2, 3]"), "one_hot_vector_size", ane_test_ints ("4"),
        "axis", ane_test_ints ("0"), "on_value", ane_test_float (FP16, 1), "off_value",
        ane_test_float (FP16, 0),
        NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [4, 2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I17, "one_hot", 1,
        "indices", ane_test_val (INT32, "[2, 3]"), "one_hot_vector_size", ane_test_ints ("4"),
        "axis", ane_test_ints ("2"), "on_value", ane_test_bool (TRUE), "off_value", ane_test_bool (FALSE),
        NULL);
    ane_test_assert_type (c, 0, "tensor<bool, [2, 3, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "one_hot", 1,
        "indices", ane_test_val (INT32, "[2, 3]"), "one_hot_vector_size", ane_test_ints ("4"),
        "axis", ane_test_ints ("-3"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [4, 2, 3]>");
  }
  {
    /* one_hot_vector_size need not be const: its dimension is unknown then */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "one_hot", 1,
        "indices", ane_test_val (INT32, "[2, 3]"), "one_hot_vector_size", ane_test_val (INT32, ""),
        "axis", ane_test_ints ("1"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, ?, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "one_hot", 1,
        "indices", ane_test_val (INT32, ""), "one_hot_vector_size", ane_test_ints ("4"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "one_hot", 1,
        "indices", ane_test_val (INT32, "[2, 3]"), "one_hot_vector_size", ane_test_ints ("0"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 3, 0]>");
  }
  assert_error (ane_test_infer_error (I15, "one_hot", 1, MISMATCH,
      "indices", ane_test_val (INT32, "[2, 3]"), "one_hot_vector_size", ane_test_ints ("4"),
      "axis", ane_test_ints ("3"), NULL), "out of range");
  assert_error (ane_test_infer_error (I15, "one_hot", 1, MISMATCH,
      "indices", ane_test_val (INT32, "[2, 3]"), "one_hot_vector_size", ane_test_ints ("4"),
      "axis", ane_test_ints ("-4"), NULL), "out of range");
  assert_error (ane_test_infer_error (I15, "one_hot", 1, MISMATCH,
      "indices", ane_test_val (INT32, ""), "one_hot_vector_size", ane_test_ints ("4"),
      "axis", ane_test_ints ("1"), NULL), "out of range");
  /* a float on_value against the int32 default off_value */
  assert_error (ane_test_infer_error (I15, "one_hot", 1, MISMATCH,
      "indices", ane_test_val (INT32, "[2, 3]"), "one_hot_vector_size", ane_test_ints ("4"),
      "on_value", ane_test_float (FP16, 1), NULL), "one dtype");
  assert_error (ane_test_infer_error (I15, "one_hot", 1, MISMATCH,
      "indices", ane_test_val (INT32, "[2, 3]"), "one_hot_vector_size", ane_test_ints ("-1"), NULL),
      "negative");
  assert_error (ane_test_infer_error (I15, "one_hot", 1, MISMATCH,
      "indices", ane_test_val (INT32, "[2, 3]"), "one_hot_vector_size", ane_test_ints ("[4]"), NULL),
      "scalar");
}

static void
test_pad (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "pad", 1,
        "x", ane_test_val (FP16, "[2, 3, 4]"), "pad", ane_test_ints ("[1, 1, 2, 0]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 5, 6]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "pad", 1,
        "x", ane_test_val (FP16, "[2, ?, 4]"), "pad", ane_test_ints ("[1, 1, 2, 0]"),
        "mode", ane_test_str ("reflect"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?, 6]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I18, "pad", 1,
        "x", ane_test_val (FP32, "[2, 3]"), "pad", ane_test_ints ("[]"), "mode", ane_test_str ("replicate"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "pad", 1,
        "x", ane_test_val (FP32, "[2, 3]"), "pad", ane_test_ints ("[0, 1, 2, 3]"),
        "constant_val", ane_test_float (FP32, 2.0), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [3, 8]>");
  }
  {
    /* pad need not be const: every dimension is unknown then */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "pad", 1,
        "x", ane_test_val (FP16, "[2, 3]"), "pad", ane_test_val (INT32, "[4]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [?, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "pad", 1,
        "x", ane_test_val (FP32, ""), "pad", ane_test_ints ("[]"), NULL);
    ane_test_assert_type (c, 0, "fp32");
  }
  assert_error (ane_test_infer_error (I15, "pad", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 3, 4]"), "pad", ane_test_ints ("[1, 1, 2, 0, 0, 0, 1, 1]"), NULL),
      "covers 4 dimensions");
  assert_error (ane_test_infer_error (I15, "pad", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 3, 4]"), "pad", ane_test_ints ("[1, 1, 2]"), NULL), "even");
  assert_error (ane_test_infer_error (I15, "pad", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 3, 4]"), "pad", ane_test_ints ("[1, -1]"), NULL), "negative");
  assert_error (ane_test_infer_error (I15, "pad", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 3, 4]"), "pad", ane_test_ints ("[1, 1]"), "mode", ane_test_str ("edge"),
      NULL), "mode");
  assert_error (ane_test_infer_error (I15, "pad", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 3, 4]"), "pad", ane_test_ints ("1"), NULL), "vector");
  assert_error (ane_test_infer_error (I15, "pad", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 3, 4]"),
      "pad", known (INT32, (gint64[]) { 2, 2 }, 2, (double[]) { 0, 0, 0, 0 }), NULL), "vector");
  assert_error (ane_test_infer_error (I15, "pad", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 3]"), "pad", ane_test_val (INT32, "[2]"), NULL), "2 * rank(x)");
  assert_error (ane_test_infer_error (I15, "pad", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 3]"), "pad", ane_test_val (INT32, "[?]"), NULL), "2 * rank(x)");
  /* constant_val shares x's dtype domain */
  assert_error (ane_test_infer_error (I15, "pad", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 3]"), "pad", ane_test_ints ("[1, 1]"),
      "constant_val", ane_test_float (FP32, 2.0), NULL), "constant_val");
}

static void
test_range_1d (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "range_1d", 1,
        "start", ane_test_ints ("0"), "end", ane_test_ints ("10"), "step", ane_test_ints ("3"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "range_1d", 1,
        "start", ane_test_ints ("7"), "end", ane_test_ints ("0"), "step", ane_test_ints ("-2"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [4]>");
  }
  {
    /* coremltools writes a length of -3 here; left unknown */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "range_1d", 1,
        "start", ane_test_ints ("10"), "end", ane_test_ints ("0"), "step", ane_test_ints ("3"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [?]>");
  }
  {
    /* fp16 arithmetic: 1 / fp16(0.1) rounds to 10.0, so 10 elements, not 11 */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "range_1d", 1,
        "start", ane_test_float (FP16, 0.0), "end", ane_test_float (FP16, 1.0),
        "step", ane_test_float (FP16, 0.0999755859375), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [10]>");
  }
  {
    /* fp32 arithmetic: fp32(0.3) / fp32(0.1) rounds to 3.0: 3 elements, not 4 */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "range_1d", 1,
        "start", ane_test_float (FP32, 0.0), "end", ane_test_float (FP32, (float) 0.3),
        "step", ane_test_float (FP32, (float) 0.1), NULL);
    ane_test_assert_type (c, 0, "tensor<fp32, [3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "range_1d", 1,
        "start", ane_test_ints ("0"), "end", ane_test_val (INT32, ""), "step", ane_test_ints ("1"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "range_1d", 1,
        "start", ane_test_ints ("0"), "end", ane_test_val (INT32, "[1]"), "step", ane_test_ints ("1"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [?]>");
  }
  {
    /* one-element vectors are read as their element */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "range_1d", 1,
        "start", ane_test_ints ("[0]"), "end", ane_test_ints ("[5]"), "step", ane_test_ints ("[2]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [3]>");
  }
  assert_error (ane_test_infer_error (I15, "range_1d", 1, MISMATCH,
      "start", ane_test_ints ("10"), "end", ane_test_ints ("0"), "step", ane_test_ints ("0"), NULL),
      "finite");
  assert_error (ane_test_infer_error (I15, "range_1d", 1, MISMATCH,
      "start", ane_test_float (FP32, 0), "end", ane_test_float (FP32, 0), "step", ane_test_float (FP32, 0),
      NULL), "finite");
  assert_error (ane_test_infer_error (I15, "range_1d", 1, MISMATCH,
      "start", ane_test_ints ("0"), "end", ane_test_float (FP32, 3), "step", ane_test_ints ("1"), NULL),
      "one dtype");
}

static void
test_shape (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "shape", 1,
        "x", ane_test_val (FP16, "[2, ?]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2]>");
    g_assert_null (ane_mil_infer_call_output (c, 0)->values);
    g_assert_false (ane_mil_infer_call_output (c, 0)->const_descendant);
  }
  {
    /* a known shape is a value, and so a const descendant */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I18, "shape", 1,
        "x", ane_test_val (BOOL, "[2, 3]"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2]>");
    ane_test_assert_out_values (c, 0, "[2, 3]");
    g_assert_true (ane_mil_infer_call_output (c, 0)->const_descendant);
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "shape", 1,
        "x", ane_test_val (FP16, ""), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [0]>");
    ane_test_assert_out_values (c, 0, "[]");
  }
  {
    /* shape feeds a later op's shape: concat, then fill */
    g_autoptr(AneMilInferCall) s = ane_test_infer (I15, "shape", 1,
        "x", ane_test_val (FP32, "[2, 3]"), NULL);
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "concat", 1,
        "values", ane_mil_val_copy (ane_mil_infer_call_output (s, 0)), "values", ane_test_ints ("[5]"),
        "axis", ane_test_ints ("0"), NULL);
    g_autoptr(AneMilInferCall) f = ane_test_infer (I15, "fill", 1,
        "shape", ane_mil_val_copy (ane_mil_infer_call_output (c, 0)), NULL);
    ane_test_assert_type (f, 0, "tensor<fp32, [2, 3, 5]>");
  }
  /* shape's type_inference never raises; the dtype domain does */
  assert_error (ane_test_infer_error (I17, "shape", 1, MISMATCH,
      "x", ane_test_val (ANE_MIL_DT_INT8, "[3, 5]"), NULL), "int8");
}

static void
test_split (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "split", 3,
        "x", ane_test_val (FP16, "[2, 6]"), "num_splits", ane_test_ints ("3"), "axis", ane_test_ints ("1"),
        NULL);
    g_assert_cmpuint (ane_mil_infer_call_n_outputs (c), ==, 3);
    for (guint i = 0; i < 3; i++)
      ane_test_assert_type (c, i, "tensor<fp16, [2, 2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "split", 4,
        "x", ane_test_val (FP16, "[2, ?]"), "num_splits", ane_test_ints ("4"), "axis", ane_test_ints ("-1"),
        NULL);
    g_assert_cmpuint (ane_mil_infer_call_n_outputs (c), ==, 4);
    ane_test_assert_type (c, 3, "tensor<fp16, [2, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "split", 2,
        "x", ane_test_val (INT32, "[2, 6]"), "split_sizes", ane_test_ints ("[1, 5]"), "axis",
        ane_test_ints ("1"),
        NULL);
    g_assert_cmpuint (ane_mil_infer_call_n_outputs (c), ==, 2);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 1]>");
    ane_test_assert_type (c, 1, "tensor<int32, [2, 5]>");
  }
  {
    /* the sizes' sum is not checked */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "split", 2,
        "x", ane_test_val (FP16, "[2, 6]"), "split_sizes", ane_test_ints ("[1, 2]"), "axis",
        ane_test_ints ("1"),
        NULL);
    ane_test_assert_type (c, 1, "tensor<fp16, [2, 2]>");
  }
  {
    /* num_splits beyond split_sizes: the extra outputs keep x's dimension */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "split", 3,
        "x", ane_test_val (FP16, "[2, 6]"), "num_splits", ane_test_ints ("3"), "split_sizes",
        ane_test_ints ("[1, 5]"),
        "axis", ane_test_ints ("1"), NULL);
    g_assert_cmpuint (ane_mil_infer_call_n_outputs (c), ==, 3);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 1]>");
    ane_test_assert_type (c, 1, "tensor<fp16, [2, 5]>");
    ane_test_assert_type (c, 2, "tensor<fp16, [2, 6]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "split", 1,
        "x", ane_test_val (BOOL, "[2, 6]"), "num_splits", ane_test_ints ("1"), "axis", ane_test_ints ("-2"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<bool, [2, 6]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "split", 2,
        "x", ane_test_val (FP16, "[2, 6]"), "split_sizes", ane_test_ints ("[-1, 7]"), "axis",
        ane_test_ints ("1"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?]>");
    ane_test_assert_type (c, 1, "tensor<fp16, [2, 7]>");
  }
  {
    /* no outputs: num_splits 0 or negative, or empty split_sizes (whose
     * axis is then never read) */
    g_autoptr(AneMilInferCall) c0 = ane_test_infer (I15, "split", 0,
        "x", ane_test_val (FP16, "[2, 6]"), "num_splits", ane_test_ints ("0"), "axis", ane_test_ints ("1"),
        NULL);
    g_autoptr(AneMilInferCall) c1 = ane_test_infer (I15, "split", 0,
        "x", ane_test_val (FP16, "[2, 6]"), "num_splits", ane_test_ints ("-2"), "axis", ane_test_ints ("1"),
        NULL);
    g_autoptr(AneMilInferCall) c2 = ane_test_infer (I15, "split", 0,
        "x", ane_test_val (FP16, "[2, 6]"), "split_sizes", ane_test_ints ("[]"), "axis",
        ane_test_ints ("7"), NULL);
    g_assert_cmpuint (ane_mil_infer_call_n_outputs (c0), ==, 0);
    g_assert_cmpuint (ane_mil_infer_call_n_outputs (c1), ==, 0);
    g_assert_cmpuint (ane_mil_infer_call_n_outputs (c2), ==, 0);
  }
  {
    /* split_sizes const of unknown value: one output per dimension of its
     * shape (its rank), not per entry */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "split", 1,
        "x", ane_test_val (FP16, "[2, 6]"), "split_sizes", ane_test_const_val (INT32, "[3]"),
        "axis", ane_test_ints ("1"), NULL);
    g_assert_cmpuint (ane_mil_infer_call_n_outputs (c), ==, 1);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "split", 2,
        "x", ane_test_val (FP16, "[2, 6]"), "num_splits", ane_test_ints ("2"),
        "split_sizes", ane_test_const_val (INT32, "[2]"), "axis", ane_test_ints ("0"), NULL);
    ane_test_assert_type (c, 1, "tensor<fp16, [?, 6]>");
  }
  assert_error (ane_test_infer_error (I15, "split", 4, MISMATCH,
      "x", ane_test_val (FP16, "[2, 6]"), "num_splits", ane_test_ints ("4"), "axis", ane_test_ints ("1"),
      NULL),
      "divide");
  assert_error (ane_test_infer_error (I15, "split", 2, MISMATCH,
      "x", ane_test_val (FP16, "[2, 6]"), "num_splits", ane_test_ints ("2"), "split_sizes",
      ane_test_ints ("[1, 2, 3]"),
      "axis", ane_test_ints ("1"), NULL), "entries");
  assert_error (ane_test_infer_error (I15, "split", 2, MISMATCH,
      "x", ane_test_val (FP16, "[2, 6]"), "axis", ane_test_ints ("1"), NULL), "neither");
  assert_error (ane_test_infer_error (I15, "split", 2, MISMATCH,
      "x", ane_test_val (FP16, "[2, 6]"), "num_splits", ane_test_ints ("2"), "axis", ane_test_ints ("2"),
      NULL),
      "out of range");
  assert_error (ane_test_infer_error (I15, "split", 2, MISMATCH,
      "x", ane_test_val (FP16, "[2, 6]"), "num_splits", ane_test_ints ("2"), "split_sizes",
      ane_test_ints ("[2, 2, 2]"),
      "axis", ane_test_ints ("7"), NULL), "entries");
  assert_error (ane_test_infer_error (I15, "split", 3, MISMATCH,
      "x", ane_test_val (FP16, "[2, 6]"), "split_sizes", ane_test_ints ("[2, 2, 2]"),
      "axis", ane_test_ints ("7"), NULL), "out of range");
  assert_error (ane_test_infer_error (I15, "split", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 6]"), "split_sizes", ane_test_ints ("6"), "axis", ane_test_ints ("1"),
      NULL),
      "scalar");
  assert_error (ane_test_infer_error (I15, "split", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 6]"), "num_splits", ane_test_ints ("[2]"), "axis", ane_test_ints ("1"),
      NULL),
      "scalar");
  assert_error (ane_test_infer_error (I15, "split", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 6]"), "split_sizes", ane_test_const_val (INT32, "[?]"),
      "axis", ane_test_ints ("1"), NULL), "unknown");
}

static void
test_stack (void)
{
  static const struct { const char *axis; const char *expected; } axes[] = {
    { "0", "tensor<fp16, [2, 4, 3]>" },
    { "2", "tensor<fp16, [4, 3, 2]>" },
    { "-1", "tensor<fp16, [4, 3, 2]>" },
    { "-3", "tensor<fp16, [2, 4, 3]>" },
    /* below -(rank + 1): python's list insert places it, nothing refuses it */
    { "-4", "tensor<fp16, [4, 2, 3]>" },
    { "-6", "tensor<fp16, [2, 4, 3]>" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (axes); i++)
    {
      g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "stack", 1,
          "values", ane_test_val (FP16, "[4, 3]"), "values", ane_test_val (FP16, "[4, 3]"),
          "axis", ane_test_ints (axes[i].axis), NULL);
      ane_test_assert_type (c, 0, axes[i].expected);
    }
  {
    /* the first fully known shape is the output's */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "stack", 1,
        "values", ane_test_val (FP16, "[2, ?]"), "values", ane_test_val (FP16, "[2, 3]"),
        "axis", ane_test_ints ("0"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, 2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "stack", 1,
        "values", ane_test_val (FP16, "[2, ?]"), "values", ane_test_val (FP16, "[?, 3]"),
        "axis", ane_test_ints ("-1"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?, 2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "stack", 1,
        "values", ane_test_val (INT32, ""), "values", ane_test_val (INT32, ""), "axis", ane_test_ints ("0"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "stack", 1,
        "values", ane_test_ints ("[2, 3]"), "values", ane_test_ints ("[4, 5]"), "axis", ane_test_ints ("0"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 2]>");
    ane_test_assert_out_values (c, 0, "[2, 3, 4, 5]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "stack", 1,
        "values", ane_test_ints ("[2, 3]"), "values", ane_test_ints ("[4, 5]"), "axis", ane_test_ints ("1"),
        NULL);
    ane_test_assert_out_values (c, 0, "[2, 4, 3, 5]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "stack", 1,
        "values", ane_test_ints ("3"), "values", ane_test_ints ("4"), "axis", ane_test_ints ("-1"), NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2]>");
    ane_test_assert_out_values (c, 0, "[3, 4]");
  }
  {
    /* an unknown vector: numpy's stack does not run, the axis passes */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "stack", 1,
        "values", ane_test_ints ("[2, 3]"), "values", ane_test_val (INT32, "[2]"), "axis",
        ane_test_ints ("-3"),
        NULL);
    ane_test_assert_type (c, 0, "tensor<int32, [2, 2]>");
  }
  assert_error (ane_test_infer_error (I15, "stack", 1, MISMATCH,
      "values", ane_test_val (FP16, "[2, 4]"), "values", ane_test_val (FP16, "[2, 3]"),
      "axis", ane_test_ints ("0"), NULL), "shape");
  assert_error (ane_test_infer_error (I15, "stack", 1, MISMATCH,
      "values", ane_test_val (FP16, "[2, 3]"), "values", ane_test_val (FP32, "[2, 3]"),
      "axis", ane_test_ints ("0"), NULL), "dtype");
  assert_error (ane_test_infer_error (I15, "stack", 1, MISMATCH,
      "values", ane_test_val (FP16, "[2, 3]"), "values", ane_test_val (FP16, "[2, 3]"),
      "axis", ane_test_ints ("3"), NULL), "out of range");
  /* numpy's stack refuses what the type inference let through */
  assert_error (ane_test_infer_error (I15, "stack", 1, MISMATCH,
      "values", ane_test_val (INT32, ""), "values", ane_test_val (INT32, ""), "axis", ane_test_ints ("-3"),
      NULL),
      "value inference");
  assert_error (ane_test_infer_error (I15, "stack", 1, MISMATCH,
      "values", ane_test_ints ("[2, 3]"), "values", ane_test_ints ("[4, 5]"), "axis", ane_test_ints ("-3"),
      NULL),
      "value inference");
}

static void
test_tile (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "tile", 1,
        "x", ane_test_val (FP16, "[2, ?]"), "reps", ane_test_ints ("[2, 1]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [4, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "tile", 1,
        "x", ane_test_val (BOOL, "[0, 3]"), "reps", ane_test_ints ("[1, 2]"), NULL);
    ane_test_assert_type (c, 0, "tensor<bool, [0, 6]>");
  }
  {
    /* reps need not be const; its length is not checked then */
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "tile", 1,
        "x", ane_test_val (FP16, "[2, 3]"), "reps", ane_test_val (INT32, "[3]"), NULL);
    ane_test_assert_type (c, 0, "tensor<fp16, [?, ?]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "tile", 1,
        "x", ane_test_val (FP16, ""), "reps", ane_test_val (INT32, "[1]"), NULL);
    ane_test_assert_type (c, 0, "fp16");
  }
  {
    /* reps known through shape */
    g_autoptr(AneMilInferCall) s = ane_test_infer (I15, "shape", 1, "x", ane_test_val (BOOL, "[2, 3]"), NULL);
    g_autoptr(AneMilInferCall) c = ane_test_infer (I15, "tile", 1,
        "x", ane_test_val (BOOL, "[2, 3]"), "reps", ane_mil_val_copy (ane_mil_infer_call_output (s, 0)),
        NULL);
    ane_test_assert_type (c, 0, "tensor<bool, [4, 9]>");
  }
  assert_error (ane_test_infer_error (I15, "tile", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 3]"), "reps", ane_test_ints ("[2]"), NULL), "rank(x)");
  assert_error (ane_test_infer_error (I15, "tile", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 3]"), "reps", ane_test_ints ("[2, 0]"), NULL), "positive");
  assert_error (ane_test_infer_error (I15, "tile", 1, MISMATCH,
      "x", ane_test_val (FP16, ""), "reps", ane_test_ints ("[]"), NULL), "rank(x)");
  assert_error (ane_test_infer_error (I15, "tile", 1, MISMATCH,
      "x", ane_test_val (FP16, "[2, 3]"), "reps", ane_test_ints ("2"), NULL), "vector");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/mil-infer/tensor/band_part", test_band_part);
  g_test_add_func ("/ane/mil-infer/tensor/concat", test_concat);
  g_test_add_func ("/ane/mil-infer/tensor/fill", test_fill);
  g_test_add_func ("/ane/mil-infer/tensor/fill_like", test_fill_like);
  g_test_add_func ("/ane/mil-infer/tensor/flatten2d", test_flatten2d);
  g_test_add_func ("/ane/mil-infer/tensor/identity", test_identity);
  g_test_add_func ("/ane/mil-infer/tensor/non_maximum_suppression", test_non_maximum_suppression);
  g_test_add_func ("/ane/mil-infer/tensor/non_zero", test_non_zero);
  g_test_add_func ("/ane/mil-infer/tensor/one_hot", test_one_hot);
  g_test_add_func ("/ane/mil-infer/tensor/pad", test_pad);
  g_test_add_func ("/ane/mil-infer/tensor/range_1d", test_range_1d);
  g_test_add_func ("/ane/mil-infer/tensor/shape", test_shape);
  g_test_add_func ("/ane/mil-infer/tensor/split", test_split);
  g_test_add_func ("/ane/mil-infer/tensor/stack", test_stack);
  g_test_add_func ("/ane/mil-infer/tensor/tile", test_tile);

  return g_test_run ();
}
