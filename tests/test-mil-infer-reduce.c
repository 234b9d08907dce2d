/* test-mil-infer-reduce.c: the type-inference rules of ane-glib/mil/infer/ane-mil-infer-reduce.c
 *
 * Hand-checked cases per op against the type_inference of coremltools'
 * op classes (the source each row of ane-mil-opdefs.c names).
 *
 * Every expectation below was checked against coremltools 9.0 itself:
 * the same call built with its MIL builder (a "?" dimension as a new
 * symbol, a scalar as a squeezed [1] input, a const as a numpy value); a
 * rejected call notes what coremltools raises. Cases marked "the mirror
 * only" have no coremltools equivalent (a const whose value the mirror
 * does not hold, a value it does not model).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-infer-test-util.h"

static void
test_reduce (void)
{
  /* axes absent: every axis, a scalar of x's dtype */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_sum", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"), NULL);

    ane_test_assert_type (c, 0, "fp16");
  }
  /* keep_dims: every axis kept as 1 */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_mean", 1,
        "x", ane_test_val (ANE_MIL_DT_FP32, "[2, 3, 4]"),
        "keep_dims", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp32, [1, 1, 1]>");
  }
  /* int32 stays int32; negative axes */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_max", 1,
        "x", ane_test_val (ANE_MIL_DT_INT32, "[2, 3, 4]"),
        "axes", ane_test_ints ("[0, -1]"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_min", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axes", ane_test_ints ("[-1]"),
        "keep_dims", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 1]>");
  }
  /* no axes: nothing reduced */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_prod", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axes", ane_test_ints ("[]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 4]>");
  }
  /* symbolic dimensions pass through */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_l1_norm", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, ?, 4]"),
        "axes", ane_test_ints ("[0]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [?, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_l2_norm", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[?, 3]"),
        "axes", ane_test_ints ("[0]"),
        "keep_dims", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [1, 3]>");
  }
  /* a scalar x with axes absent reduces nothing */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_log_sum", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, ""), NULL);

    ane_test_assert_type (c, 0, "fp16");
  }
  /* reducing the only axis gives a scalar */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_log_sum_exp", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[4]"),
        "axes", ane_test_ints ("[0]"), NULL);

    ane_test_assert_type (c, 0, "fp16");
  }
  /* a repeated axis pops a second dimension */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_sum_square", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axes", ane_test_ints ("[1, 1]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2]>");
  }
  /* below -rank: normalised once, then indexes from the end */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_sum", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axes", ane_test_ints ("[-6]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [3, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_sum", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axes", ane_test_ints ("[-4]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  /* too many pops */
  {
    /* coremltools: IndexError: pop index out of range */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_mean", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axes", ane_test_ints ("[0, 1, 2, 2]"), NULL);
  }
  /* but keep_dims only sets dimensions */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_mean", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axes", ane_test_ints ("[0, 1, 2, 2]"),
        "keep_dims", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [1, 1, 1]>");
  }
  /* rejected: axis out of range */
  {
    /* coremltools: IndexError: pop index out of range */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_mean", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axes", ane_test_ints ("[3]"), NULL);
  }
  {
    /* coremltools: IndexError: list assignment index out of range */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_mean", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axes", ane_test_ints ("[-4]"),
        "keep_dims", ane_test_bool (TRUE), NULL);
  }
  /* rejected: a scalar has no axis */
  {
    /* coremltools: IndexError: pop from empty list */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_sum", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, ""),
        "axes", ane_test_ints ("[0]"), NULL);
  }
  /* rejected: axes must be iterable */
  {
    /* coremltools: TypeError: 'numpy.int32' object is not iterable */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_sum", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "axes", ane_test_ints ("1"), NULL);
  }
  /* a const x: value inference runs */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_sum", 1,
        "x", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 2 }, 2,
                                     (double[]) { 1, 2, 3, 4 }),
        "axes", ane_test_ints ("[1]"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2]>");
  }
  /* rejected by numpy: a repeated axis */
  {
    /* coremltools: ValueError: duplicate value in 'axis' */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_sum", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 2 }, 2,
                                     (double[]) { 1, 2, 3, 4 }),
        "axes", ane_test_ints ("[1, 1]"),
        "keep_dims", ane_test_bool (TRUE), NULL);
  }
  /* rejected by numpy: axis below -rank */
  {
    /* coremltools: AxisError: axis -3 is out of bounds for array of dimension 2 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_sum", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 2 }, 2,
                                     (double[]) { 1, 2, 3, 4 }),
        "axes", ane_test_ints ("[-3]"), NULL);
  }
  /* the same axes on a non-const x pass */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_sum", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 2]"),
        "axes", ane_test_ints ("[-3]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2]>");
  }
  /* the mirror only: a const axes whose value it does not hold cannot be judged */
  {
    g_autoptr(GError) e = ane_test_infer_error (ANE_MIL_IOS15, "reduce_sum", 1, ANE_ERROR_UNSUPPORTED,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "axes", ane_test_const_val (ANE_MIL_DT_INT32, "[1]"), NULL);

    g_assert_nonnull (strstr (e->message, "'axes'"));
  }
  {
    g_autoptr(GError) e = ane_test_infer_error (ANE_MIL_IOS15, "reduce_sum", 1, ANE_ERROR_UNSUPPORTED,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "keep_dims", ane_test_const_val (ANE_MIL_DT_BOOL, ""), NULL);

    g_assert_nonnull (strstr (e->message, "'keep_dims'"));
  }
  /* input validation (the core): axes must be const, x of T */
  {
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_sum", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "axes", ane_test_val (ANE_MIL_DT_INT32, "[1]"), NULL);
  }
  {
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_max", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_BOOL, "[2, 3]"), NULL);
  }
  /* the message names the axis */
  {
    g_autoptr(GError) e = ane_test_infer_error (ANE_MIL_IOS15, "reduce_mean", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axes", ane_test_ints ("[3]"), "keep_dims", ane_test_bool (TRUE), NULL);

    g_assert_nonnull (strstr (e->message, "axis 3 is out of range"));
  }
  /* a value the mirror does not model gives an output it does not model */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_sum", 1,
        "x", ane_mil_val_new_other (), "axes", ane_test_ints ("[0]"), NULL);

    ane_test_assert_type (c, 0, "(a type the mirror does not model)");
  }
}

static void
test_reduce_arg (void)
{
  /* axis -1 by default; int32 */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_argmax", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_argmin", 1,
        "x", ane_test_val (ANE_MIL_DT_INT32, "[2, 3, 4]"),
        "axis", ane_test_ints ("0"),
        "keep_dims", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [1, 3, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_argmin", 1,
        "x", ane_test_val (ANE_MIL_DT_FP32, "[2, ?, 4]"),
        "axis", ane_test_ints ("-3"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [?, 4]>");
  }
  /* rank 1: a rank-0 tensor, taken as a scalar */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_argmax", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[4]"), NULL);

    ane_test_assert_type (c, 0, "int32");
  }
  /* -5 + 3 = -2 still indexes */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_argmax", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axis", ane_test_ints ("-5"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "reduce_argmax", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axis", ane_test_ints ("-5"),
        "keep_dims", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2, 1, 4]>");
  }
  /* rejected: out of range */
  {
    /* coremltools: IndexError: pop index out of range */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_argmax", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axis", ane_test_ints ("3"), NULL);
  }
  {
    /* coremltools: IndexError: pop index out of range */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_argmax", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axis", ane_test_ints ("-7"), NULL);
  }
  /* rejected: a scalar */
  {
    /* coremltools: IndexError: pop from empty list */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_argmin", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, ""), NULL);
  }
  /* rejected by numpy in value inference */
  {
    /* coremltools: AxisError: axis -3 is out of bounds for array of dimension 2 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_argmax", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 2 }, 2,
                                     (double[]) { 1, 5, 7, 2 }),
        "axis", ane_test_ints ("-3"), NULL);
  }
  /* iOS16 has the iOS15 class */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "reduce_argmax", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2]>");
  }
  /* iOS17: output_dtype defaults to int32 */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "reduce_argmax", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "reduce_argmax", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "output_dtype", ane_test_str ("uint16"), NULL);

    ane_test_assert_type (c, 0, "tensor<uint16, [2, 3]>");
  }
  /* lowercased first */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "reduce_argmin", 1,
        "x", ane_test_val (ANE_MIL_DT_INT32, "[2, 3, 4]"),
        "axis", ane_test_ints ("1"),
        "output_dtype", ane_test_str ("UINT16"), NULL);

    ane_test_assert_type (c, 0, "tensor<uint16, [2, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS18, "reduce_argmin", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[5]"),
        "keep_dims", ane_test_bool (TRUE),
        "output_dtype", ane_test_str ("int32"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [1]>");
  }
  /* rejected: neither int32 nor uint16 */
  {
    /* coremltools: ValueError: Invalid "output_dtype" int16. Only support ('int32', 'uint16') */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "reduce_argmax", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "output_dtype", ane_test_str ("int16"), NULL);
  }
  /* rejected: out of range */
  {
    /* coremltools: IndexError: pop index out of range */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "reduce_argmin", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "axis", ane_test_ints ("2"), NULL);
  }
  {
    g_autoptr(GError) e = ane_test_infer_error (ANE_MIL_IOS17, "reduce_argmax", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "output_dtype", ane_test_str ("fp16"), NULL);

    g_assert_nonnull (strstr (e->message, "\"fp16\""));
  }
  /* output_dtype does not exist before iOS17 (the signature check) */
  {
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS16, "reduce_argmax", 1, ANE_ERROR_INVALID_ARGUMENT,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "output_dtype", ane_test_str ("int32"), NULL);
  }
  {
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_argmin", 1, ANE_ERROR_UNSUPPORTED,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "axis", ane_test_const_val (ANE_MIL_DT_INT32, ""), NULL);
  }
  /* a vector axis is refused (coremltools cannot index with it) */
  {
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "reduce_argmin", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "axis", ane_test_ints ("[1]"), NULL);
  }
}

static void
test_gather (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4, 5]"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 4, 5]>");
  }
  /* axis 0 by default */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_INT32, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4]"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [4, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4, 5]"),
        "axis", ane_test_ints ("-2"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [4, 5, 3]>");
  }
  /* symbolic dimensions */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP32, "[?, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[?]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp32, [?, 3]>");
  }
  /* a scalar index on a vector: a scalar */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, ""), NULL);

    ane_test_assert_type (c, 0, "fp16");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, ""),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2]>");
  }
  /* rejected: axis out of range */
  {
    /* coremltools: IndexError: Axis value 2 is out of bounds */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "gather", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4]"),
        "axis", ane_test_ints ("2"), NULL);
  }
  /* rejected: a scalar x has no axis */
  {
    /* coremltools: IndexError: Axis value 0 is out of bounds */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "gather", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, ""),
        "indices", ane_test_val (ANE_MIL_DT_INT32, ""), NULL);
  }
  /* value inference: folded, negative indices wrap */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather", 1,
        "x", ane_test_ints ("[5, 6, 7]"),
        "indices", ane_test_ints ("[2, -1, 0]"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [3]>");
    ane_test_assert_out_values (c, 0, "[7, 7, 5]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather", 1,
        "x", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 2 }, 2,
                                     (double[]) { 1, 2, 3, 4 }),
        "indices", ane_test_ints ("1"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2]>");
    ane_test_assert_out_values (c, 0, "[2, 4]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather", 1,
        "x", ane_test_ints ("[5, 6, 7]"),
        "indices", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "int32");
    ane_test_assert_out_values (c, 0, "[6]");
  }
  /* rejected by numpy: index out of range */
  {
    /* coremltools: IndexError: index 3 is out of bounds for axis 0 with size 3 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "gather", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_ints ("[5, 6, 7]"),
        "indices", ane_test_ints ("[3]"), NULL);
  }
  /* iOS16: batch_dims */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 5]"),
        "axis", ane_test_ints ("1"),
        "batch_dims", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 5, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_UINT16, "[2, 5]"),
        "axis", ane_test_ints ("2"),
        "batch_dims", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 5]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT16, "[2, 5]"),
        "axis", ane_test_ints ("1"),
        "batch_dims", ane_test_ints ("2"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 4]>");
  }
  /* a negative batch_dims slices from the end */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 5]"),
        "axis", ane_test_ints ("1"),
        "batch_dims", ane_test_ints ("-1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 5, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2]"),
        "axis", ane_test_ints ("1"),
        "batch_dims", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2]>");
  }
  /* rejected: batch_dims >= rank(x) */
  {
    /* coremltools: ValueError: batch_dims 3 must be less than x.rank 3 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS16, "gather", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 5]"),
        "axis", ane_test_ints ("1"),
        "batch_dims", ane_test_ints ("3"), NULL);
  }
  /* rejected: batch_dims > rank(indices) */
  {
    /* coremltools: ValueError: batch_dims 3 must be less or equal to than indices.rank 2 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS16, "gather", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4, 6]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 5]"),
        "axis", ane_test_ints ("1"),
        "batch_dims", ane_test_ints ("3"), NULL);
  }
  /* folded per batch */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "gather", 1,
        "x", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 2 }, 2,
                                     (double[]) { 1, 2, 3, 4 }),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 1 }, 2,
                                     (double[]) { 1, 0 }),
        "axis", ane_test_ints ("1"),
        "batch_dims", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2, 1]>");
    ane_test_assert_out_values (c, 0, "[2, 3]");
  }
  {
    /* coremltools: IndexError: index 2 is out of bounds for axis 0 with size 2 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS16, "gather", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 2 }, 2,
                                     (double[]) { 1, 2, 3, 4 }),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 1 }, 2,
                                     (double[]) { 1, 2 }),
        "axis", ane_test_ints ("1"),
        "batch_dims", ane_test_ints ("1"), NULL);
  }
  /* iOS17: 8-bit dtypes */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_INT8, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_UINT8, "[2]"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<int8, [2, 2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_ints ("[0, 2]"),
        "axis", ane_test_ints ("-1"),
        "validate_indices", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 2]>");
  }
  /* negative indices pass unless validated */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_ints ("[0, -1]"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 2]>");
  }
  /* rejected: validate_indices */
  {
    /* coremltools: IndexError: Indices is out of bounds Expected indices between [0, 3), but got [... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "gather", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_ints ("[0, -1]"),
        "axis", ane_test_ints ("1"),
        "validate_indices", ane_test_bool (TRUE), NULL);
  }
  {
    /* coremltools: IndexError: Indices is out of bounds Expected indices between [0, 3), but got [... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "gather", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_ints ("[0, 3]"),
        "axis", ane_test_ints ("1"),
        "validate_indices", ane_test_bool (TRUE), NULL);
  }
  /* rejected: compared with a symbol */
  {
    /* coremltools: TypeError: cannot determine truth value of Relational: sym <= 0 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "gather", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, ?]"),
        "indices", ane_test_ints ("[0, 1]"),
        "axis", ane_test_ints ("1"),
        "validate_indices", ane_test_bool (TRUE), NULL);
  }
  /* unknown indices are not checked */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, ?]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2]"),
        "axis", ane_test_ints ("1"),
        "validate_indices", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS18, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 5]"),
        "axis", ane_test_ints ("2"),
        "batch_dims", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 5]>");
  }
  /* folded values flow on: gathering from a gathered const */
  {
    g_autoptr(AneMilInferCall) c1 = ane_test_infer (ANE_MIL_IOS18, "gather", 1,
        "x", ane_test_ints ("[7, 8, 9, 10]"), "indices", ane_test_ints ("[3, 1]"), NULL);
    g_autoptr(AneMilInferCall) c2 = NULL;

    ane_test_assert_out_values (c1, 0, "[10, 8]");
    c2 = ane_test_infer (ANE_MIL_IOS18, "gather", 1,
        "x", ane_mil_val_copy (ane_mil_infer_call_output (c1, 0)), "indices", ane_test_ints ("1"), NULL);
    ane_test_assert_type (c2, 0, "int32");
    ane_test_assert_out_values (c2, 0, "[8]");
    g_assert_true (ane_mil_infer_call_output (c2, 0)->const_descendant);
  }
  /* a non-const x: no value */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_INT32, "[3]"), "indices", ane_test_ints ("[0]"), NULL);

    g_assert_null (ane_mil_infer_call_output (c, 0)->values);
  }
  /* the mirror only: validate_indices of unknown value, with known indices */
  {
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "gather", 1, ANE_ERROR_UNSUPPORTED,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), "indices", ane_test_ints ("[0]"),
        "validate_indices", ane_test_const_val (ANE_MIL_DT_BOOL, ""), NULL);
  }
  /* batch_dims does not exist at iOS15 (the signature check) */
  {
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "gather", 1, ANE_ERROR_INVALID_ARGUMENT,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), "indices", ane_test_val (ANE_MIL_DT_INT32, "[2]"),
        "batch_dims", ane_test_ints ("0"), NULL);
  }
  {
    g_autoptr(GError) e = ane_test_infer_error (ANE_MIL_IOS15, "gather", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), "indices", ane_test_val (ANE_MIL_DT_INT32, "[2]"),
        "axis", ane_test_ints ("-3"), NULL);

    g_assert_nonnull (strstr (e->message, "axis -3 is out of bounds"));
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "gather", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), "indices", ane_mil_val_new_other (), NULL);

    ane_test_assert_type (c, 0, "(a type the mirror does not model)");
  }
}

static void
test_gather_along_axis (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather_along_axis", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 5]"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 5]>");
  }
  /* axis 0 by default */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather_along_axis", 1,
        "x", ane_test_val (ANE_MIL_DT_INT32, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4, 3]"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [4, 3]>");
  }
  /* symbolic sizes are not compared */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather_along_axis", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[?, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4, ?]"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [4, ?]>");
  }
  /* rejected: sizes differ off the axis */
  {
    /* coremltools: AssertionError: The input data and indices should have the same size at axis 1, but... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "gather_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4, 5]"), NULL);
  }
  /* rejected: ranks differ */
  {
    /* coremltools: ValueError: Rank mismatch between input and indices. Input rank: 2, indices ran... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "gather_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4]"), NULL);
  }
  /* rejected: axis out of range */
  {
    /* coremltools: IndexError: Axis value -3 is out of bounds */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "gather_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 3]"),
        "axis", ane_test_ints ("-3"), NULL);
  }
  /* rejected: scalars have no axis */
  {
    /* coremltools: IndexError: Axis value 0 is out of bounds */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "gather_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, ""),
        "indices", ane_test_val (ANE_MIL_DT_INT32, ""), NULL);
  }
  /* value inference: folded, negative indices wrap */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather_along_axis", 1,
        "x", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 2 }, 2,
                                     (double[]) { 1, 2, 3, 4 }),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 2 }, 2,
                                     (double[]) { -1, 0 }), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [1, 2]>");
    ane_test_assert_out_values (c, 0, "[3, 2]");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather_along_axis", 1,
        "x", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 2 }, 2,
                                     (double[]) { 1, 2, 3, 4 }),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 1 }, 2,
                                     (double[]) { 1, 0 }),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2, 1]>");
    ane_test_assert_out_values (c, 0, "[2, 3]");
  }
  /* rejected by numpy: index out of range */
  {
    /* coremltools: IndexError: index 2 is out of bounds for axis 0 with size 2 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "gather_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "x", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 2 }, 2,
                                     (double[]) { 1, 2, 3, 4 }),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 2 }, 2,
                                     (double[]) { 2, 0 }), NULL);
  }
  /* iOS16: 16-bit indices */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "gather_along_axis", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_UINT16, "[2, 5]"),
        "axis", ane_test_ints ("-1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 5]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "gather_along_axis", 1,
        "x", ane_test_val (ANE_MIL_DT_UINT8, "[2, 3]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 3 }, 2,
                                     (double[]) { 1, 1, 1 }),
        "validate_indices", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<uint8, [1, 3]>");
  }
  /* rejected: validate_indices */
  {
    /* coremltools: IndexError: Indices is out of bounds Expected indices between [0, 2), but got [... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "gather_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 3 }, 2,
                                     (double[]) { 2, 1, 1 }),
        "axis", ane_test_ints ("-2"),
        "validate_indices", ane_test_bool (TRUE), NULL);
  }
  /* the same indices unvalidated */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "gather_along_axis", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 3 }, 2,
                                     (double[]) { 2, 1, 1 }), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [1, 3]>");
  }
  {
    g_autoptr(GError) e = ane_test_infer_error (ANE_MIL_IOS15, "gather_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 5]"),
        NULL);

    g_assert_nonnull (strstr (e->message, "dimension 1"));
  }
}

static void
test_gather_nd (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather_nd", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[5, 2]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [5, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather_nd", 1,
        "x", ane_test_val (ANE_MIL_DT_INT32, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[5, 3]"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [5]>");
  }
  /* depth 0: whole of x per index */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather_nd", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[5, 0]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [5, 2, 3, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather_nd", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, ?, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[?, 1]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [?, ?, 4]>");
  }
  /* one full index: a rank-0 tensor, a scalar */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "gather_nd", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2]"), NULL);

    ane_test_assert_type (c, 0, "fp16");
  }
  /* rejected: depth above rank */
  {
    /* coremltools: AssertionError */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "gather_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[5, 4]"), NULL);
  }
  /* rejected: a symbolic depth */
  {
    /* coremltools: TypeError: cannot determine truth value of Relational: sym <= 3 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "gather_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[5, ?]"), NULL);
  }
  /* rejected: scalar indices */
  {
    /* coremltools: IndexError: tuple index out of range */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "gather_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, ""), NULL);
  }
  /* iOS16: batch_dims */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "gather_nd", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 5, 1]"),
        "batch_dims", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 5, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "gather_nd", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT16, "[2, 5, 2]"),
        "batch_dims", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 5]>");
  }
  /* a negative batch_dims */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "gather_nd", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 5, 1]"),
        "batch_dims", ane_test_ints ("-1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 5, 2, 3, 4]>");
  }
  /* rejected: depth + batch_dims above rank */
  {
    /* coremltools: ValueError: indices.shape[-1] (3) + batch_dims (1) must be smaller or equal to ... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS16, "gather_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 5, 3]"),
        "batch_dims", ane_test_ints ("1"), NULL);
  }
  /* iOS17 validate_indices */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "gather_nd", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 3 }, 2,
                                     (double[]) { 1, 2, 3 }),
        "validate_indices", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [1]>");
  }
  /* rejected: 3 >= 3 */
  {
    /* coremltools: IndexError: Indices is out of bounds Expected indices between [0, (2, 3, 4)), b... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "gather_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 3 }, 2,
                                     (double[]) { 1, 3, 3 }),
        "validate_indices", ane_test_bool (TRUE), NULL);
  }
  /* depth 1: compared with every dimension */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "gather_nd", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 1 }, 2,
                                     (double[]) { 1 }),
        "validate_indices", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [1, 3, 4]>");
  }
  {
    /* coremltools: IndexError: Indices is out of bounds Expected indices between [0, (2, 3, 4)), b... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "gather_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 1 }, 2,
                                     (double[]) { 2 }),
        "validate_indices", ane_test_bool (TRUE), NULL);
  }
  /* rejected: numpy cannot broadcast (1, 2) with (3,) */
  {
    /* coremltools: ValueError: operands could not be broadcast together with shapes (1,2) (3,) */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "gather_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 2 }, 2,
                                     (double[]) { 1, 2 }),
        "validate_indices", ane_test_bool (TRUE), NULL);
  }
  /* the same without validation */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "gather_nd", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 2 }, 2,
                                     (double[]) { 1, 2 }), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [1, 4]>");
  }
  /* rejected: compared with a symbol */
  {
    /* coremltools: TypeError: cannot determine truth value of Relational: sym <= 2 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "gather_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, ?, 4]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 3 }, 2,
                                     (double[]) { 1, 2, 3 }),
        "validate_indices", ane_test_bool (TRUE), NULL);
  }
  {
    g_autoptr(GError) e = ane_test_infer_error (ANE_MIL_IOS16, "gather_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), "indices", ane_test_val (ANE_MIL_DT_INT32, "[4, 2]"),
        "batch_dims", ane_test_ints ("1"), NULL);

    g_assert_nonnull (strstr (e->message, "exceeds the rank"));
  }
}

static void
test_scatter (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "scatter", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 4]"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  /* scalar indices; mode unchecked */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "scatter", 1,
        "data", ane_test_val (ANE_MIL_DT_INT32, "[3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, ""),
        "updates", ane_test_val (ANE_MIL_DT_INT32, ""),
        "mode", ane_test_str ("bogus"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [3]>");
  }
  /* a symbolic size matches */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "scatter", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[?, 4]"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "scatter", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, ?]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 4]"),
        "axis", ane_test_ints ("-1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?]>");
  }
  /* indices of rank 2 */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "scatter", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4, 2]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[4, 2, 3]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  /* rejected: updates shape */
  {
    /* coremltools: AssertionError: Updates shape (2, 5) is incorrect. It should be (2, 4). */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "scatter", 1, ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 5]"),
        "axis", ane_test_ints ("1"), NULL);
  }
  /* rejected: axis out of range */
  {
    /* coremltools: IndexError: Axis value 2 is out of bounds */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "scatter", 1, ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 4]"),
        "axis", ane_test_ints ("2"), NULL);
  }
  /* iOS16 has the iOS15 class */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "scatter", 1,
        "data", ane_test_val (ANE_MIL_DT_FP32, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2]"),
        "updates", ane_test_val (ANE_MIL_DT_FP32, "[2, 3]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp32, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "scatter", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_ints ("[0, 1, 2, 2]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 4]"),
        "axis", ane_test_ints ("-1"),
        "validate_indices", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  /* rejected: validate_indices */
  {
    /* coremltools: IndexError: Indices is out of bounds Expected indices between [0, 3), but got [... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "scatter", 1, ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_ints ("[0, 1, 2, 3]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 4]"),
        "axis", ane_test_ints ("1"),
        "validate_indices", ane_test_bool (TRUE), NULL);
  }
  /* rejected: compared with a symbol */
  {
    /* coremltools: TypeError: cannot determine truth value of Relational: sym <= 0 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "scatter", 1, ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, ?]"),
        "indices", ane_test_ints ("[0, 1]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 2]"),
        "axis", ane_test_ints ("1"),
        "validate_indices", ane_test_bool (TRUE), NULL);
  }
  /* unvalidated */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "scatter", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_ints ("[0, 1, 2, 3]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 4]"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  {
    g_autoptr(GError) e = ane_test_infer_error (ANE_MIL_IOS15, "scatter", 1, ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), "indices", ane_test_val (ANE_MIL_DT_INT32, "[4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[4, 2]"), NULL);

    g_assert_nonnull (strstr (e->message, "must be [4, 3]"));
  }
  /* data and updates share T */
  {
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "scatter", 1, ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), "indices", ane_test_val (ANE_MIL_DT_INT32, "[4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP32, "[4, 3]"), NULL);
  }
}

static void
test_scatter_along_axis (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "scatter_along_axis", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 4]"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "scatter_along_axis", 1,
        "data", ane_test_val (ANE_MIL_DT_INT32, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[5, 3]"),
        "updates", ane_test_val (ANE_MIL_DT_INT32, "[5, 3]"),
        "mode", ane_test_str ("update"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2, 3]>");
  }
  /* updates against indices: a symbol matches */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "scatter_along_axis", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[?, 4]"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  /* rejected: updates and indices differ */
  {
    /* coremltools: AssertionError */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "scatter_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 5]"),
        "axis", ane_test_ints ("1"), NULL);
  }
  /* rejected: data and indices differ off the axis */
  {
    /* coremltools: AssertionError */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "scatter_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[3, 4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[3, 4]"),
        "axis", ane_test_ints ("1"), NULL);
  }
  /* rejected: a size never equals a symbol */
  {
    /* coremltools: AssertionError */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "scatter_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[?, 4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[?, 4]"),
        "axis", ane_test_ints ("1"), NULL);
  }
  /* rejected: ranks differ */
  {
    /* coremltools: AssertionError */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "scatter_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2]"),
        "axis", ane_test_ints ("0"), NULL);
  }
  /* rejected: axis out of range */
  {
    /* coremltools: IndexError: Axis value -3 is out of bounds */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "scatter_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 4]"),
        "axis", ane_test_ints ("-3"), NULL);
  }
  /* value inference: negative indices wrap */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "scatter_along_axis", 1,
        "data", ane_test_ints ("[1, 2, 3]"),
        "indices", ane_test_ints ("[-3]"),
        "updates", ane_test_ints ("[9]"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [3]>");
  }
  /* rejected by numpy: index out of range */
  {
    /* coremltools: IndexError: index 5 is out of bounds for axis 0 with size 3 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "scatter_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_ints ("[1, 2, 3]"),
        "indices", ane_test_ints ("[5]"),
        "updates", ane_test_ints ("[9]"), NULL);
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "scatter_along_axis", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 2 }, 2,
                                     (double[]) { 0, 2, 1, 1 }),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 2]"),
        "axis", ane_test_ints ("1"),
        "validate_indices", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  /* rejected: validate_indices */
  {
    /* coremltools: IndexError: Indices is out of bounds Expected indices between [0, 3), but got [... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "scatter_along_axis", 1,
        ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 2, 2 }, 2,
                                     (double[]) { 0, 3, 1, 1 }),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 2]"),
        "axis", ane_test_ints ("1"),
        "validate_indices", ane_test_bool (TRUE), NULL);
  }
  /* two symbolic sizes may be one symbol: the mirror lets them pass */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "scatter_along_axis", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[?, 3]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[?, 4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[?, 4]"), "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [?, 3]>");
  }
}

static void
test_scatter_nd (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "scatter_nd", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[5, 2]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[5, 4]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "scatter_nd", 1,
        "data", ane_test_val (ANE_MIL_DT_INT32, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[5, 3]"),
        "updates", ane_test_val (ANE_MIL_DT_INT32, "[5]"),
        "mode", ane_test_str ("max"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2, 3, 4]>");
  }
  /* one index: a scalar update */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "scatter_nd", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[3]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, ""), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "scatter_nd", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, ?, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[?, 1]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[5, 7, 4]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, ?, 4]>");
  }
  /* rejected: updates shape */
  {
    /* coremltools: AssertionError */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "scatter_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[5, 2]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[5, 3]"), NULL);
  }
  /* rejected: depth above rank */
  {
    /* coremltools: AssertionError */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "scatter_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[5, 4]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[5]"), NULL);
  }
  /* rejected: symbolic depth */
  {
    /* coremltools: TypeError: cannot determine truth value of Relational: sym <= 3 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "scatter_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[5, ?]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[5]"), NULL);
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "scatter_nd", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[4, 4]"),
        "indices", ane_test_val (ANE_MIL_DT_INT32, "[2, 1]"),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[2, 4]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [4, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "scatter_nd", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 3 }, 2,
                                     (double[]) { 1, 2, 3 }),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[1]"),
        "validate_indices", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 4]>");
  }
  /* rejected: validate_indices */
  {
    /* coremltools: IndexError: Indices is out of bounds Expected indices between [0, (2, 3, 4)), b... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "scatter_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 3 }, 2,
                                     (double[]) { 1, 3, 3 }),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[1]"),
        "validate_indices", ane_test_bool (TRUE), NULL);
  }
  /* rejected: numpy cannot broadcast */
  {
    /* coremltools: ValueError: operands could not be broadcast together with shapes (1,2) (3,) */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "scatter_nd", 1, ANE_ERROR_TYPE_MISMATCH,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 2 }, 2,
                                     (double[]) { 1, 2 }),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[1, 4]"),
        "validate_indices", ane_test_bool (TRUE), NULL);
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "scatter_nd", 1,
        "data", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "indices", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 2 }, 2,
                                     (double[]) { 1, 2 }),
        "updates", ane_test_val (ANE_MIL_DT_FP16, "[1, 4]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 4]>");
  }
}

static void
test_argsort (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "argsort", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "argsort", 1,
        "x", ane_test_val (ANE_MIL_DT_INT32, "[2, ?]"),
        "axis", ane_test_ints ("0"),
        "ascending", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2, ?]>");
  }
  /* the axis is not checked */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "argsort", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "axis", ane_test_ints ("7"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2, 3]>");
  }
  /* a scalar x: a rank-0 int32 tensor, a scalar */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "argsort", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, ""), NULL);

    ane_test_assert_type (c, 0, "int32");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "argsort", 1,
        "x", ane_test_ints ("[3, 1, 2]"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [3]>");
  }
  /* rejected by numpy in value inference */
  {
    /* coremltools: AxisError: axis 2 is out of bounds for array of dimension 2 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "argsort", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 2 }, 2,
                                     (double[]) { 3, 1 }),
        "axis", ane_test_ints ("2"), NULL);
  }
  {
    /* coremltools: AxisError: axis -3 is out of bounds for array of dimension 2 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "argsort", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_mil_val_new_values (ANE_MIL_DT_INT32, (gint64[]) { 1, 2 }, 2,
                                     (double[]) { 3, 1 }),
        "axis", ane_test_ints ("-3"), NULL);
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS18, "argsort", 1,
        "x", ane_test_val (ANE_MIL_DT_FP32, "[4]"),
        "axis", ane_test_ints ("-1"), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [4]>");
  }
}

static void
test_cumsum (void)
{
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "cumsum", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "cumsum", 1,
        "x", ane_test_val (ANE_MIL_DT_INT32, "[?, 3]"),
        "axis", ane_test_ints ("1"),
        "exclusive", ane_test_bool (TRUE),
        "reverse", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [?, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "cumsum", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "axis", ane_test_ints ("-1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3]>");
  }
  /* rejected: only -1 of the negative axes */
  {
    /* coremltools: ValueError: axis should be in the range [-1, 1] */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "cumsum", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "axis", ane_test_ints ("-2"), NULL);
  }
  /* rejected: out of range */
  {
    /* coremltools: ValueError: axis should be in the range [-1, 1] */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "cumsum", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "axis", ane_test_ints ("2"), NULL);
  }
  /* a scalar takes axis -1 */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "cumsum", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, ""),
        "axis", ane_test_ints ("-1"), NULL);

    ane_test_assert_type (c, 0, "fp16");
  }
  /* rejected: a scalar with the default axis 0 */
  {
    /* coremltools: ValueError: axis should be in the range [-1, -1] */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "cumsum", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, ""), NULL);
  }
  /* value inference */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "cumsum", 1,
        "x", ane_test_ints ("[3, 1, 2]"),
        "reverse", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [3]>");
  }
  /* rejected: value inference with exclusive */
  {
    /* coremltools: TypeError: Cannot construct a dtype from an array */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "cumsum", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_ints ("[3, 1, 2]"),
        "exclusive", ane_test_bool (TRUE), NULL);
  }
  /* value inference of an int scalar */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "cumsum", 1,
        "x", ane_test_ints ("3"),
        "axis", ane_test_ints ("-1"), NULL);

    ane_test_assert_type (c, 0, "int32");
  }
  /* rejected: value inference of a float scalar */
  {
    /* coremltools: ValueError: Types should have zero-rank ndarray input, got [3.] instead. */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "cumsum", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_float (ANE_MIL_DT_FP16, 3),
        "axis", ane_test_ints ("-1"), NULL);
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "cumsum", 1,
        "x", ane_test_val (ANE_MIL_DT_FP32, "[4, 5]"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp32, [4, 5]>");
  }
  {
    g_autoptr(GError) e = ane_test_infer_error (ANE_MIL_IOS15, "cumsum", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), "axis", ane_test_ints ("-2"), NULL);

    g_assert_nonnull (strstr (e->message, "[-1, 1]"));
  }
}

static void
test_topk (void)
{
  /* k 1, axis -1 by default */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "topk", 2,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 1]>");
    ane_test_assert_type (c, 1, "tensor<int32, [2, 3, 1]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "topk", 2,
        "x", ane_test_val (ANE_MIL_DT_INT32, "[2, 3, 4]"),
        "k", ane_test_ints ("2"),
        "axis", ane_test_ints ("1"),
        "ascending", ane_test_bool (TRUE), NULL);

    ane_test_assert_type (c, 0, "tensor<int32, [2, 2, 4]>");
    ane_test_assert_type (c, 1, "tensor<int32, [2, 2, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "topk", 2,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "k", ane_test_ints ("2"),
        "axis", ane_test_ints ("-3"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 4]>");
    ane_test_assert_type (c, 1, "tensor<int32, [2, 3, 4]>");
  }
  /* a symbolic axis size is not compared with k */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "topk", 2,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, ?, 4]"),
        "k", ane_test_ints ("9"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 9, 4]>");
    ane_test_assert_type (c, 1, "tensor<int32, [2, 9, 4]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "topk", 2,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "k", ane_test_ints ("0"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 0]>");
    ane_test_assert_type (c, 1, "tensor<int32, [2, 3, 0]>");
  }
  /* k = -1 is the dimension: a wildcard */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS15, "topk", 2,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "k", ane_test_ints ("-1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, ?]>");
    ane_test_assert_type (c, 1, "tensor<int32, [2, 3, ?]>");
  }
  /* rejected: k above the axis size */
  {
    /* coremltools: ValueError: K=4 is greater than size of the given axis=1 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "topk", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "k", ane_test_ints ("4"),
        "axis", ane_test_ints ("1"), NULL);
  }
  /* rejected: axis out of range */
  {
    /* coremltools: IndexError: tuple index out of range */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "topk", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "axis", ane_test_ints ("3"), NULL);
  }
  /* rejected: a scalar */
  {
    /* coremltools: IndexError: tuple index out of range */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "topk", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, ""), NULL);
  }
  /* iOS16: indices by default */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "topk", 2,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "k", ane_test_ints ("2"),
        "sort", ane_test_bool (FALSE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 2]>");
    ane_test_assert_type (c, 1, "tensor<int32, [2, 3, 2]>");
  }
  /* iOS16: values only */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS16, "topk", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "k", ane_test_ints ("2"),
        "return_indices", ane_test_bool (FALSE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 2]>");
  }
  /* rejected */
  {
    /* coremltools: ValueError: K=5 is greater than size of the given axis=-1 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS16, "topk", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "k", ane_test_ints ("5"), NULL);
  }
  /* iOS17: 8-bit x and k */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "topk", 2,
        "x", ane_test_val (ANE_MIL_DT_INT8, "[2, 3, 4]"),
        "k", ane_mil_val_new_values (ANE_MIL_DT_INT8, NULL, 0, (double[]) { 2 }), NULL);

    ane_test_assert_type (c, 0, "tensor<int8, [2, 3, 2]>");
    ane_test_assert_type (c, 1, "tensor<int32, [2, 3, 2]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "topk", 2,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "k", ane_mil_val_new_values (ANE_MIL_DT_INT16, NULL, 0, (double[]) { 3 }),
        "output_indices_dtype", ane_test_str ("uint16"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 3]>");
    ane_test_assert_type (c, 1, "tensor<uint16, [2, 3, 3]>");
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "topk", 1,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "k", ane_test_ints ("2"),
        "return_indices", ane_test_bool (FALSE), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, 2]>");
  }
  /* documented as 'all', typed as a wildcard */
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "topk", 2,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "k", ane_test_ints ("-1"), NULL);

    ane_test_assert_type (c, 0, "tensor<fp16, [2, 3, ?]>");
    ane_test_assert_type (c, 1, "tensor<int32, [2, 3, ?]>");
  }
  /* rejected: int16 indices */
  {
    /* coremltools: ValueError: "topk" op invalid output_indices_dtype: "int16". Valid options are:... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "topk", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "output_indices_dtype", ane_test_str ("int16"), NULL);
  }
  /* rejected: not lowercased */
  {
    /* coremltools: ValueError: "topk" op invalid output_indices_dtype: "INT32". Valid options are:... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "topk", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "output_indices_dtype", ane_test_str ("INT32"), NULL);
  }
  /* rejected: dtype without indices */
  {
    /* coremltools: ValueError: In iOS17 topk op, "output_indices_dtype" can only be set when "retu... */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS17, "topk", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3, 4]"),
        "return_indices", ane_test_bool (FALSE),
        "output_indices_dtype", ane_test_str ("int32"), NULL);
  }
  /* rejected: k above the axis size */
  {
    /* coremltools: ValueError: K=3 is greater than size of the given axis=0 */
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS18, "topk", 1, ANE_ERROR_TYPE_MISMATCH,
        "x", ane_test_val (ANE_MIL_DT_UINT16, "[2, 3, 4]"),
        "k", ane_test_ints ("3"),
        "axis", ane_test_ints ("0"), NULL);
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS18, "topk", 2,
        "x", ane_test_val (ANE_MIL_DT_UINT16, "[2, 3, 4]"),
        "k", ane_test_ints ("3"),
        "axis", ane_test_ints ("1"), NULL);

    ane_test_assert_type (c, 0, "tensor<uint16, [2, 3, 4]>");
    ane_test_assert_type (c, 1, "tensor<int32, [2, 3, 4]>");
  }
  /* the mirror only: return_indices or k of unknown value */
  {
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS16, "topk", 2, ANE_ERROR_UNSUPPORTED,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"),
        "return_indices", ane_test_const_val (ANE_MIL_DT_BOOL, ""), NULL);
  }
  {
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "topk", 2, ANE_ERROR_UNSUPPORTED,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), "k", ane_test_const_val (ANE_MIL_DT_INT32, ""), NULL);
  }
  /* sort and return_indices do not exist at iOS15 */
  {
    g_autoptr(GError) e G_GNUC_UNUSED = ane_test_infer_error (ANE_MIL_IOS15, "topk", 2, ANE_ERROR_INVALID_ARGUMENT,
        "x", ane_test_val (ANE_MIL_DT_FP16, "[2, 3]"), "return_indices", ane_test_bool (FALSE), NULL);
  }
  {
    g_autoptr(AneMilInferCall) c = ane_test_infer (ANE_MIL_IOS17, "topk", 1,
        "x", ane_mil_val_new_other (), "return_indices", ane_test_bool (FALSE), NULL);

    g_assert_cmpuint (ane_mil_infer_call_n_outputs (c), ==, 1);
    ane_test_assert_type (c, 0, "(a type the mirror does not model)");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/mil-infer/reduce/reduce", test_reduce);
  g_test_add_func ("/ane/mil-infer/reduce/reduce_arg", test_reduce_arg);
  g_test_add_func ("/ane/mil-infer/reduce/gather", test_gather);
  g_test_add_func ("/ane/mil-infer/reduce/gather_along_axis", test_gather_along_axis);
  g_test_add_func ("/ane/mil-infer/reduce/gather_nd", test_gather_nd);
  g_test_add_func ("/ane/mil-infer/reduce/scatter", test_scatter);
  g_test_add_func ("/ane/mil-infer/reduce/scatter_along_axis", test_scatter_along_axis);
  g_test_add_func ("/ane/mil-infer/reduce/scatter_nd", test_scatter_nd);
  g_test_add_func ("/ane/mil-infer/reduce/argsort", test_argsort);
  g_test_add_func ("/ane/mil-infer/reduce/cumsum", test_cumsum);
  g_test_add_func ("/ane/mil-infer/reduce/topk", test_topk);

  return g_test_run ();
}
