/* test-mil-infer-linalg.c: the type-inference rules of ane-glib/mil/infer/ane-mil-infer-linalg.c
 *
 * Hand-checked cases per op against the type_inference of coremltools'
 * op classes (the source each row of ane-mil-opdefs.c names). Every expected
 * type and every refusal below was checked with coremltools 9.0's builder
 * (mb.<op> in an mb.program at the same opset).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-infer-test-util.h"

#define F16(shape)  ane_test_val (ANE_MIL_DT_FP16, shape)
#define F32(shape)  ane_test_val (ANE_MIL_DT_FP32, shape)
#define I32(shape)  ane_test_val (ANE_MIL_DT_INT32, shape)
#define CF16(shape) ane_test_const_val (ANE_MIL_DT_FP16, shape)
#define CF32(shape) ane_test_const_val (ANE_MIL_DT_FP32, shape)
#define CI32(shape) ane_test_const_val (ANE_MIL_DT_INT32, shape)
#define INTS(v)     ane_test_ints (v)
#define STR(v)      ane_test_str (v)

#define TYPE_MISMATCH ANE_ERROR_TYPE_MISMATCH

/* The call of op at target (one output) infers the type expected. */
#define CHECK(target, op, expected, ...) \
  G_STMT_START { \
    g_autoptr(AneMilInferCall) c_ = ane_test_infer ((target), (op), 1, __VA_ARGS__, NULL); \
    g_assert_cmpuint (ane_mil_infer_call_n_outputs (c_), ==, 1); \
    ane_test_assert_type (c_, 0, (expected)); \
  } G_STMT_END

/* The call is refused as a type mismatch whose message holds needle. */
#define REFUSE(target, op, needle, ...) \
  G_STMT_START { \
    g_autoptr(GError) e_ = ane_test_infer_error ((target), (op), 1, TYPE_MISMATCH, __VA_ARGS__, NULL); \
    if (strstr (e_->message, (needle)) == NULL) \
      g_error ("%s:%d: '%s' not in: %s", __FILE__, __LINE__, (needle), e_->message); \
  } G_STMT_END

#define I15 ANE_MIL_IOS15
#define I16 ANE_MIL_IOS16
#define I17 ANE_MIL_IOS17
#define I18 ANE_MIL_IOS18

/* --- values the mirror does not hold ------------------------------------------ */

/* A const whose value the mirror does not know (a large const, an op it does
 * not fold) leaves the sizes it decides unknown; lengths are still checked.
 * (Mirror policy: coremltools would know these values.) */
static void
test_unknown_values (void)
{
  CHECK (I15, "conv", "tensor<fp16, [1, 6, ?, ?]>", "x", F16 ("[1, 4, 8, 8]"),
         "weight", CF16 ("[6, 4, 3, 3]"), "strides", CI32 ("[2]"));
  REFUSE (I15, "conv", "strides (3)", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
          "strides", CI32 ("[3]"));
  CHECK (I15, "conv", "tensor<fp16, [1, 6, 6, 6]>", "x", F16 ("[1, 4, 8, 8]"),
         "weight", CF16 ("[6, 2, 3, 3]"), "groups", CI32 (""));
  CHECK (I15, "max_pool", "tensor<fp16, [1, 4, ?, ?]>", "x", F16 ("[1, 4, 8, 8]"),
         "kernel_sizes", CI32 ("[2]"), "pad_type", STR ("valid"));
  CHECK (I15, "max_pool", "tensor<fp16, [1, 4, ?, ?]>", "x", F16 ("[1, 4, 8, 8]"),
         "kernel_sizes", INTS ("[2, 2]"), "pad_type", STR ("valid"),
         "ceil_mode", ane_test_const_val (ANE_MIL_DT_BOOL, ""));
  CHECK (I15, "conv_transpose", "tensor<fp16, [?, ?, ?, ?]>", "x", F16 ("[1, 4, 8, 8]"),
         "weight", CF16 ("[4, 3, 3, 3]"), "output_shape", CI32 ("[4]"));
  CHECK (I15, "conv_transpose", "tensor<fp16, [1, 3, ?, ?]>", "x", F16 ("[1, 4, 8, 8]"),
         "weight", CF16 ("[4, 3, 3, 3]"), "strides", CI32 ("[2]"));
  CHECK (I15, "layer_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"), "axes", CI32 ("[1]"),
         "gamma", CF16 ("[7]"));
  CHECK (I15, "upsample_nearest_neighbor", "tensor<fp16, [1, 3, ?, 10]>", "x", F16 ("[1, 3, 4, 5]"),
         "scale_factor_height", ane_test_const_val (ANE_MIL_DT_INT32, ""), "scale_factor_width", INTS ("2"));
  CHECK (I15, "matmul", "tensor<fp16, [?, 4]>", "x", F16 ("[2, 3]"), "y", F16 ("[3, 4]"),
         "transpose_x", ane_test_const_val (ANE_MIL_DT_BOOL, ""));
}

/* --- linear --------------------------------------------------------------- */

static void
test_linear (void)
{
  CHECK (I15, "linear", "tensor<fp16, [2, 4]>", "x", F16 ("[2, 3]"), "weight", CF16 ("[4, 3]"));
  CHECK (I15, "linear", "tensor<fp16, [4]>", "x", F16 ("[3]"), "weight", CF16 ("[4, 3]"));
  CHECK (I15, "linear", "tensor<fp16, [2, 4]>", "x", F16 ("[2, ?]"), "weight", CF16 ("[4, 3]"));
  /* the docstring's rank <= 3 is not checked */
  CHECK (I15, "linear", "tensor<fp16, [2, 3, 4, 4]>", "x", F16 ("[2, 3, 4, 3]"), "weight", CF16 ("[4, 3]"));
  CHECK (I15, "linear", "tensor<fp32, [2, 4]>", "x", F32 ("[2, 3]"), "weight", CF32 ("[4, 3]"),
         "bias", CF32 ("[4]"));
  CHECK (I15, "linear", "tensor<int32, [?, 4]>", "x", I32 ("[?, 3]"), "weight", CI32 ("[4, 3]"));
  CHECK (I18, "linear", "tensor<fp16, [2, 4]>", "x", F16 ("[2, 3]"), "weight", CF16 ("[4, 3]"));

  REFUSE (I15, "linear", "last axis of x (5)", "x", F16 ("[2, 5]"), "weight", CF16 ("[4, 3]"));
  REFUSE (I15, "linear", "bias has 5 values", "x", F16 ("[2, 3]"), "weight", CF16 ("[4, 3]"),
          "bias", CF16 ("[5]"));
  REFUSE (I15, "linear", "bias has rank 2", "x", F16 ("[2, 3]"), "weight", CF16 ("[4, 3]"),
          "bias", CF16 ("[1, 4]"));
  REFUSE (I15, "linear", "bias has rank 0", "x", F16 ("[2, 3]"), "weight", CF16 ("[4, 3]"),
          "bias", ane_test_float (ANE_MIL_DT_FP16, 1.0));
  REFUSE (I15, "linear", "weight has rank 3", "x", F16 ("[2, 3]"), "weight", CF16 ("[2, 4, 3]"));
  REFUSE (I15, "linear", "weight has rank 1", "x", F16 ("[2, 3]"), "weight", CF16 ("[3]"));
  REFUSE (I15, "linear", "x is a scalar", "x", F16 (""), "weight", CF16 ("[4, 1]"));
  /* iOS15: one dtype for all (the core's domain check) */
  REFUSE (I15, "linear", "share type domain", "x", F16 ("[2, 3]"), "weight", CF32 ("[4, 3]"));

  /* iOS17: weight and bias in their own domain; the output is x's dtype */
  CHECK (I17, "linear", "tensor<fp16, [2, 4]>", "x", F16 ("[2, 3]"), "weight", CF32 ("[4, 3]"),
         "bias", CF32 ("[4]"));
  CHECK (I17, "linear", "tensor<int32, [2, 4]>", "x", I32 ("[2, 3]"), "weight", CF32 ("[4, 3]"));
  REFUSE (I17, "linear", "last axis of x (2)", "x", F16 ("[2]"), "weight", CF32 ("[4, 3]"));
}

/* --- matmul --------------------------------------------------------------- */

static void
test_matmul (void)
{
  CHECK (I15, "matmul", "tensor<fp16, [2, 4]>", "x", F16 ("[2, 3]"), "y", F16 ("[3, 4]"));
  CHECK (I15, "matmul", "tensor<fp16, [5, 10, 4, 2]>", "x", F16 ("[10, 4, 3]"), "y", F16 ("[5, 10, 3, 2]"));
  /* a rank-1 x: coremltools drops the first axis of [10, 1, 3], not the 1 */
  CHECK (I15, "matmul", "tensor<fp16, [1, 3]>", "x", F16 ("[4]"), "y", F16 ("[10, 4, 3]"));
  CHECK (I15, "matmul", "tensor<fp16, [3]>", "x", F16 ("[4]"), "y", F16 ("[3, 4]"),
         "transpose_y", ane_test_bool (TRUE));
  CHECK (I15, "matmul", "tensor<fp16, [2, 4]>", "x", F16 ("[2, 3]"), "y", F16 ("[4, 3]"),
         "transpose_y", ane_test_bool (TRUE));
  CHECK (I15, "matmul", "tensor<fp16, [2, 4]>", "x", F16 ("[3, 2]"), "y", F16 ("[3, 4]"),
         "transpose_x", ane_test_bool (TRUE), "transpose_y", ane_test_bool (FALSE));
  CHECK (I15, "matmul", "tensor<fp16, [2, 4]>", "x", F16 ("[2, ?]"), "y", F16 ("[5, 4]"));
  CHECK (I15, "matmul", "tensor<fp16, [4, 2, 4]>", "x", F16 ("[?, 2, 3]"), "y", F16 ("[4, 3, 4]"));
  CHECK (I15, "matmul", "tensor<fp16, [?, ?]>", "x", F16 ("[?, 3]"), "y", F16 ("[?, 3]"),
         "transpose_y", ane_test_bool (TRUE));
  CHECK (I15, "matmul", "tensor<fp16, [?, 3, 5]>", "x", F16 ("[1, 3, 4]"), "y", F16 ("[?, 4, 5]"));
  CHECK (I15, "matmul", "tensor<fp16, [3, 3, 5]>", "x", F16 ("[3, 3, 4]"), "y", F16 ("[?, 4, 5]"));
  CHECK (I15, "matmul", "tensor<int32, [2, 4]>", "x", I32 ("[2, 3]"), "y", I32 ("[3, 4]"));
  CHECK (I16, "matmul", "tensor<fp16, [2, 4]>", "x", F16 ("[2, 3]"), "y", CF16 ("[3, 4]"));

  REFUSE (I15, "matmul", "y has rank 1", "x", F16 ("[10, 3, 4]"), "y", F16 ("[4]"));
  REFUSE (I15, "matmul", "y has rank 1", "x", F16 ("[4]"), "y", F16 ("[4]"));
  REFUSE (I15, "matmul", "transpose_x", "x", F16 ("[4]"), "y", F16 ("[4, 2]"),
          "transpose_x", ane_test_bool (TRUE));
  REFUSE (I15, "matmul", "contracted axis (3 vs 5)", "x", F16 ("[2, 3]"), "y", F16 ("[5, 4]"));
  REFUSE (I15, "matmul", "do not broadcast", "x", F16 ("[2, 2, 3]"), "y", F16 ("[4, 3, 4]"));
  REFUSE (I15, "matmul", "x is a scalar", "x", F16 (""), "y", F16 ("[3, 4]"));
  REFUSE (I15, "matmul", "y has rank 0", "x", F16 ("[2, 3]"), "y", ane_test_float (ANE_MIL_DT_FP16, 2.0));
  REFUSE (I15, "matmul", "share type domain", "x", F16 ("[2, 3]"), "y", CF32 ("[3, 4]"));

  /* iOS17: one const side may have another dtype; the output takes the other side's */
  CHECK (I17, "matmul", "tensor<fp16, [2, 4]>", "x", F16 ("[2, 3]"), "y", CF32 ("[3, 4]"));
  CHECK (I17, "matmul", "tensor<fp16, [4, 3]>", "x", CF32 ("[4, 2]"), "y", F16 ("[2, 3]"));
  CHECK (I17, "matmul", "tensor<int32, [2, 4]>", "x", I32 ("[2, 3]"), "y", CF32 ("[3, 4]"));
  CHECK (I18, "matmul", "tensor<fp32, [2, 4]>", "x", F32 ("[2, 3]"), "y", F32 ("[3, 4]"));
  REFUSE (I17, "matmul", "both non-const", "x", F16 ("[2, 3]"), "y", F32 ("[3, 4]"));
  REFUSE (I17, "matmul", "both const", "x", CF16 ("[2, 3]"), "y", CF32 ("[3, 4]"));
  REFUSE (I17, "matmul", "y has rank 1", "x", F16 ("[2, 3]"), "y", CF32 ("[3]"));
}

/* --- einsum --------------------------------------------------------------- */

static void
test_einsum (void)
{
  CHECK (I15, "einsum", "tensor<fp16, [2, 3, 4, 6]>", "values", F16 ("[2, 3, 4, 5]"),
         "values", F16 ("[2, 5, 4, 6]"), "equation", STR ("nchw,nwhu->nchu"));
  CHECK (I15, "einsum", "tensor<fp16, [2, 3, 4, 6]>", "values", F16 ("[1, 3, 1, 5]"),
         "values", F16 ("[2, 5, 4, 6]"), "equation", STR ("abcd,adce->abce"));
  CHECK (I15, "einsum", "tensor<fp16, [3, 4, 6]>", "values", F16 ("[3, 4, 5]"),
         "values", F16 ("[5, 4, 6]"), "equation", STR ("chw,whr->chr"));
  /* the equation's rank is not matched against the values' */
  CHECK (I15, "einsum", "tensor<fp16, [3, 4, 6]>", "values", F16 ("[3, 4, 5]"),
         "values", F16 ("[5, 4, 6]"), "equation", STR ("nchw,nwhu->nchu"));
  CHECK (I15, "einsum", "tensor<fp32, [3, 4, 6]>", "values", F32 ("[3, 4, 5]"),
         "values", F32 ("[5, 4, 6]"), "equation", STR ("\xc3\xa4" "bc,cbd->" "\xc3\xa4" "bd"));
  CHECK (I15, "einsum", "tensor<fp16, [3, ?, 6]>", "values", F16 ("[3, ?, 5]"),
         "values", F16 ("[5, 1, 6]"), "equation", STR ("chw,whr->chr"));
  CHECK (I15, "einsum", "tensor<fp16, [3, 4, 6]>", "values", F16 ("[3, 4, ?]"),
         "values", F16 ("[7, 4, 6]"), "equation", STR ("chw,whr->chr"));
  CHECK (I15, "einsum", "tensor<fp16, [?, 3, 4, 6]>", "values", F16 ("[?, 3, 4, 5]"),
         "values", F16 ("[1, 5, 4, 6]"), "equation", STR ("nchw,nwhu->nchu"));
  /* rank 5: only axes -1..-3 are set, the rest stay 1 */
  CHECK (I15, "einsum", "tensor<fp16, [1, 1, 3, 4, 6]>", "values", F16 ("[9, 2, 3, 4, 5]"),
         "values", F16 ("[9, 2, 5, 4, 6]"), "equation", STR ("chw,whr->chr"));

  REFUSE (I15, "einsum", "not one einsum supports", "values", F16 ("[3, 4, 5]"),
          "values", F16 ("[5, 4, 6]"), "equation", STR ("chw,whr->crh"));
  REFUSE (I15, "einsum", "not one einsum supports", "values", F16 ("[3, 4, 5]"),
          "values", F16 ("[5, 4, 6]"), "equation", STR ("chw,whr"));
  REFUSE (I15, "einsum", "not one einsum supports", "values", F16 ("[3, 4, 5]"),
          "values", F16 ("[5, 4, 6]"), "equation", STR ("chw,whr->chr->x"));
  REFUSE (I15, "einsum", "not one einsum supports", "values", F16 ("[3, 4, 5]"),
          "values", F16 ("[5, 4, 6]"), "equation", STR ("chw,whr,->chr"));
  REFUSE (I15, "einsum", "not one einsum supports", "values", F16 ("[3, 4, 5]"),
          "values", F16 ("[5, 4, 6]"), "equation", STR ("c h,whr->chr"));
  REFUSE (I15, "einsum", "not one einsum supports", "values", F16 ("[3, 4, 5]"),
          "values", F16 ("[5, 4, 6]"), "equation", STR ("chw,whc->chc"));
  REFUSE (I15, "einsum", "not one einsum supports", "values", F16 ("[3, 4, 5]"),
          "values", F16 ("[5, 4, 6]"), "equation", STR (",->"));
  REFUSE (I15, "einsum", "axis -1 of the first value (5)", "values", F16 ("[3, 4, 5]"),
          "values", F16 ("[6, 4, 6]"), "equation", STR ("chw,whr->chr"));
  REFUSE (I15, "einsum", "axis -2 of the values (?, 4)", "values", F16 ("[3, ?, 5]"),
          "values", F16 ("[5, 4, 6]"), "equation", STR ("chw,whr->chr"));
  REFUSE (I15, "einsum", "axis -2 of the values (2, 4)", "values", F16 ("[3, 2, 5]"),
          "values", F16 ("[5, 4, 6]"), "equation", STR ("chw,whr->chr"));
  REFUSE (I15, "einsum", "axis -4 of the values (?, 3)", "values", F16 ("[?, 3, 4, 5]"),
          "values", F16 ("[3, 5, 4, 6]"), "equation", STR ("nchw,nwhu->nchu"));
  REFUSE (I15, "einsum", "ranks differ", "values", F16 ("[3, 4, 5]"),
          "values", F16 ("[2, 5, 4, 6]"), "equation", STR ("chw,whr->chr"));
  REFUSE (I15, "einsum", "dtypes differ", "values", F16 ("[3, 4, 5]"),
          "values", F32 ("[5, 4, 6]"), "equation", STR ("chw,whr->chr"));
  REFUSE (I15, "einsum", "holds 3 tensors", "values", F16 ("[3, 4, 5]"), "values", F16 ("[5, 4, 6]"),
          "values", F16 ("[5, 4, 6]"), "equation", STR ("chw,whr->chr"));
  REFUSE (I15, "einsum", "have rank 2", "values", F16 ("[4, 5]"),
          "values", F16 ("[5, 6]"), "equation", STR ("hw,wr->hr"));
  CHECK (I18, "einsum", "tensor<fp16, [3, 4, 6]>", "values", F16 ("[3, 4, 5]"),
         "values", F16 ("[5, 4, 6]"), "equation", STR ("chw,whr->chr"));
}

/* --- normalization -------------------------------------------------------- */

static void
test_batch_norm (void)
{
  CHECK (I15, "batch_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"),
         "mean", CF16 ("[3]"), "variance", CF16 ("[3]"));
  CHECK (I15, "batch_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"),
         "mean", CF16 ("[3]"), "variance", CF16 ("[3]"), "gamma", CF16 ("[3]"), "beta", CF16 ("[3]"),
         "epsilon", ane_test_float (ANE_MIL_DT_FP16, 1e-3));
  /* neither the rank nor the parameters' lengths are checked */
  CHECK (I15, "batch_norm", "tensor<fp16, [2]>", "x", F16 ("[2]"), "mean", CF16 ("[7]"),
         "variance", CF16 ("[3]"));
  CHECK (I15, "batch_norm", "fp16", "x", F16 (""), "mean", CF16 ("[7]"), "variance", CF16 ("[3]"));
  CHECK (I17, "batch_norm", "tensor<fp16, [2, 3, ?]>", "x", F16 ("[2, 3, ?]"), "mean", CF32 ("[3]"),
         "variance", CF32 ("[3]"), "epsilon", ane_test_float (ANE_MIL_DT_FP32, 1e-3));
  /* iOS15 shares one domain: the core refuses fp32 parameters for fp16 x */
  REFUSE (I15, "batch_norm", "share type domain", "x", F16 ("[2, 3, 4]"), "mean", CF32 ("[3]"),
          "variance", CF32 ("[3]"));
}

static void
test_instance_norm (void)
{
  CHECK (I15, "instance_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"));
  CHECK (I15, "instance_norm", "tensor<fp32, [2, 3, 4]>", "x", F32 ("[2, 3, 4]"), "gamma", CF32 ("[3]"),
         "beta", CF32 ("[3]"), "epsilon", ane_test_float (ANE_MIL_DT_FP32, 1e-3));
  CHECK (I15, "instance_norm", "fp16", "x", F16 (""));
  CHECK (I17, "instance_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"), "gamma", CF32 ("[3]"),
         "epsilon", ane_test_float (ANE_MIL_DT_FP32, 1e-3));
  REFUSE (I16, "instance_norm", "share type domain", "x", F16 ("[2, 3, 4]"), "gamma", CF32 ("[3]"));
}

static void
test_l2_norm (void)
{
  CHECK (I15, "l2_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"));
  CHECK (I15, "l2_norm", "tensor<fp16, [?, 2, 3, 4]>", "x", F16 ("[?, 2, 3, 4]"),
         "epsilon", ane_test_float (ANE_MIL_DT_FP16, 1e-6));
  CHECK (I17, "l2_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"),
         "epsilon", ane_test_float (ANE_MIL_DT_FP32, 1e-3));
  REFUSE (I15, "l2_norm", "x has rank 2", "x", F16 ("[2, 3]"));
  REFUSE (I17, "l2_norm", "x has rank 2", "x", F16 ("[2, 3]"),
          "epsilon", ane_test_float (ANE_MIL_DT_FP32, 1e-3));
  REFUSE (I15, "l2_norm", "x has rank 0", "x", F16 (""));
}

static void
test_layer_norm (void)
{
  CHECK (I15, "layer_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"), "axes", INTS ("[-1]"),
         "gamma", CF16 ("[4]"), "beta", CF16 ("[4]"));
  CHECK (I15, "layer_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"), "axes", INTS ("[-1]"));
  /* the normalized shape is in x's axis order; a repeated axis counts once */
  CHECK (I15, "layer_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"), "axes", INTS ("[2, 1]"),
         "gamma", CF16 ("[3, 4]"));
  CHECK (I15, "layer_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"), "axes", INTS ("[2, -1]"),
         "gamma", CF16 ("[4]"));
  CHECK (I15, "layer_norm", "tensor<fp16, [2, 3, ?]>", "x", F16 ("[2, 3, ?]"), "axes", INTS ("[1, 2]"),
         "gamma", CF16 ("[3, 9]"));
  CHECK (I15, "layer_norm", "tensor<fp16, [2]>", "x", F16 ("[2]"), "axes", INTS ("[]"),
         "gamma", ane_test_float (ANE_MIL_DT_FP16, 1.0));
  CHECK (I15, "layer_norm", "fp16", "x", F16 (""), "axes", INTS ("[]"));
  /* beta is checked against gamma's shape, not its own */
  CHECK (I15, "layer_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"), "axes", INTS ("[-1]"),
         "gamma", CF16 ("[4]"), "beta", CF16 ("[7]"));
  CHECK (I17, "layer_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"), "axes", INTS ("[-1]"),
         "gamma", CF32 ("[4]"), "beta", CF32 ("[4]"), "epsilon", ane_test_float (ANE_MIL_DT_FP32, 1e-5));

  /* coremltools 9.0 cannot build the default axes (range(rank)) */
  REFUSE (I15, "layer_norm", "axes is not given", "x", F16 ("[2, 3, 4]"));
  REFUSE (I17, "layer_norm", "axes is not given", "x", F16 ("[2, 3, 4]"));
  REFUSE (I15, "layer_norm", "gamma has shape [3]", "x", F16 ("[2, 3, 4]"), "axes", INTS ("[-1]"),
          "gamma", CF16 ("[3]"));
  REFUSE (I15, "layer_norm", "gamma has shape [1, 4]", "x", F16 ("[2, 3, 4]"), "axes", INTS ("[-1]"),
          "gamma", CF16 ("[1, 4]"));
  REFUSE (I15, "layer_norm", "beta is given without gamma", "x", F16 ("[2, 3, 4]"), "axes", INTS ("[-1]"),
          "beta", CF16 ("[4]"));
  REFUSE (I15, "layer_norm", "out of range", "x", F16 ("[2, 3, 4]"), "axes", INTS ("[3]"));
  REFUSE (I15, "layer_norm", "out of range", "x", F16 ("[2, 3, 4]"), "axes", INTS ("[-4]"));
  REFUSE (I15, "layer_norm", "axes is a scalar", "x", F16 ("[2, 3, 4]"), "axes", INTS ("1"),
          "gamma", CF16 ("[3]"));
}

static void
test_local_response_norm (void)
{
  CHECK (I15, "local_response_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"), "size", INTS ("3"));
  CHECK (I15, "local_response_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"), "size", INTS ("3"),
         "alpha", ane_test_float (ANE_MIL_DT_FP16, 1e-4), "beta", ane_test_float (ANE_MIL_DT_FP16, 0.75),
         "k", ane_test_float (ANE_MIL_DT_FP16, 1.0));
  CHECK (I15, "local_response_norm", "fp16", "x", F16 (""), "size", INTS ("3"));
  CHECK (I17, "local_response_norm", "tensor<fp16, [2, 3, 4]>", "x", F16 ("[2, 3, 4]"), "size", INTS ("3"),
         "alpha", ane_test_float (ANE_MIL_DT_FP32, 1e-4));
  REFUSE (I15, "local_response_norm", "share type domain", "x", F16 ("[2, 3, 4]"), "size", INTS ("3"),
          "alpha", ane_test_float (ANE_MIL_DT_FP32, 1e-4));
}

/* --- conv ----------------------------------------------------------------- */

static void
test_conv (void)
{
  const char *const conv = "conv";

  CHECK (I15, conv, "tensor<fp16, [1, 6, 6, 6]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"));
  CHECK (I15, conv, "tensor<fp16, [1, 6, 6, 6]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
         "bias", CF16 ("[6]"));
  CHECK (I15, conv, "tensor<fp16, [1, 6, 4, 4]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
         "pad_type", STR ("same"), "strides", INTS ("[2, 2]"));
  CHECK (I15, conv, "tensor<fp16, [1, 6, 4, 4]>", "x", F16 ("[1, 4, 7, 7]"), "weight", CF16 ("[6, 4, 3, 3]"),
         "pad_type", STR ("same"), "strides", INTS ("[2, 2]"));
  CHECK (I15, conv, "tensor<fp16, [1, 6, 9, 6]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
         "pad_type", STR ("custom"), "pad", INTS ("[1, 2, 0, 0]"));
  CHECK (I15, conv, "tensor<fp16, [1, 6, 4, 6]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
         "pad_type", STR ("custom"), "pad", INTS ("[-2, 0, 0, 0]"));
  CHECK (I15, conv, "tensor<fp16, [1, 6, 6, 6]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
         "pad_type", STR ("custom"));
  /* pad is read only for custom */
  CHECK (I15, conv, "tensor<fp16, [1, 6, 6, 6]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
         "pad_type", STR ("valid"), "pad", INTS ("[1, 2]"));
  CHECK (I15, conv, "tensor<fp16, [1, 6, 4, 2]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
         "dilations", INTS ("[2, 3]"));
  CHECK (I15, conv, "tensor<fp16, [1, 6, 2, 3]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
         "strides", INTS ("[3, 2]"));
  CHECK (I15, conv, "tensor<fp16, [1, 6, 6, 6]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 2, 3, 3]"),
         "groups", INTS ("2"));
  CHECK (I15, conv, "tensor<fp16, [1, 6, 6]>", "x", F16 ("[1, 4, 8]"), "weight", CF16 ("[6, 4, 3]"));
  CHECK (I15, conv, "tensor<fp16, [1, 6, 8, 8, 8]>", "x", F16 ("[1, 4, 8, 8, 8]"),
         "weight", CF16 ("[6, 4, 3, 3, 3]"), "pad_type", STR ("same"), "dilations", INTS ("[2, 2, 2]"));
  /* a weight that is not const */
  CHECK (I15, conv, "tensor<fp16, [1, 6, 6, 6]>", "x", F16 ("[1, 4, 8, 8]"), "weight", F16 ("[6, 4, 3, 3]"));
  CHECK (I15, conv, "tensor<fp16, [1, ?, 6, 6]>", "x", F16 ("[1, 4, 8, 8]"), "weight", F16 ("[?, 4, 3, 3]"));
  CHECK (I15, conv, "tensor<fp16, [1, 6, ?, ?]>", "x", F16 ("[1, 4, ?, ?]"), "weight", F16 ("[6, 4, ?, ?]"));
  CHECK (I15, conv, "tensor<fp16, [1, 6, ?, ?]>", "x", F16 ("[1, 4, ?, ?]"), "weight", F16 ("[6, 4, ?, ?]"),
         "pad_type", STR ("same"));
  /* symbolic sizes */
  CHECK (I15, conv, "tensor<fp16, [1, 6, 6, 6]>", "x", F16 ("[1, ?, 8, 8]"), "weight", CF16 ("[6, 3, 3, 3]"));
  CHECK (I15, conv, "tensor<fp16, [?, 6, ?, 6]>", "x", F16 ("[?, 4, ?, 8]"), "weight", CF16 ("[6, 4, 3, 3]"));
  /* no spatial axis: fine when the lists are given (empty) */
  CHECK (I15, conv, "tensor<fp16, [1, 6]>", "x", F16 ("[1, 4]"), "weight", CF16 ("[6, 4]"),
         "strides", INTS ("[]"), "pad", INTS ("[]"), "dilations", INTS ("[]"));
  /* same_lower: refused by the iOS15 class only when the opset is iOS15 */
  CHECK (I16, conv, "tensor<fp16, [1, 6, 8, 8]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
         "pad_type", STR ("same_lower"));
  CHECK (I16, conv, "tensor<fp16, [1, 6, 4, 3]>", "x", F16 ("[1, 4, 7, 7]"), "weight", CF16 ("[6, 4, 4, 4]"),
         "pad_type", STR ("same_lower"), "strides", INTS ("[2, 3]"));
  CHECK (I17, conv, "tensor<fp16, [1, 6, 8, 8]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
         "pad_type", STR ("same_lower"));
  /* iOS17: weight and bias in domain U, bias need not be const */
  CHECK (I17, conv, "tensor<fp16, [1, 6, 6, 6]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF32 ("[6, 4, 3, 3]"),
         "bias", F32 ("[6]"));
  CHECK (I18, conv, "tensor<fp32, [1, 6, 6, 6]>", "x", F32 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"));

  REFUSE (I15, conv, "same_lower is refused at iOS15", "x", F16 ("[1, 4, 8, 8]"),
          "weight", CF16 ("[6, 4, 3, 3]"), "pad_type", STR ("same_lower"));
  REFUSE (I15, conv, "differ in length", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
          "pad_type", STR ("custom"), "pad", INTS ("[1, 2]"));
  REFUSE (I15, conv, "pad_type 'VALID'", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
          "pad_type", STR ("VALID"));
  REFUSE (I15, conv, "no dilation > 1", "x", F16 ("[1, 4, 8, 8]"), "weight", F16 ("[6, 4, 3, 3]"),
          "dilations", INTS ("[2, 1]"));
  REFUSE (I15, conv, "kernel size of spatial axis 1 is unknown", "x", F16 ("[1, 4, 8, 8]"),
          "weight", F16 ("[6, 4, 3, ?]"));
  REFUSE (I15, conv, "kernel size of spatial axis 0 is unknown", "x", F16 ("[1, 4, 8, 8]"),
          "weight", F16 ("[6, 4, ?, ?]"), "pad_type", STR ("same"));
  REFUSE (I15, conv, "weight.shape[1] (?)", "x", F16 ("[1, 4, 8, 8]"), "weight", F16 ("[6, ?, 3, 3]"));
  REFUSE (I15, conv, "not divisible by groups (3)", "x", F16 ("[1, 4, 8, 8]"),
          "weight", CF16 ("[6, 2, 3, 3]"), "groups", INTS ("3"));
  REFUSE (I15, conv, "(4 / 0)", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
          "groups", INTS ("0"));
  REFUSE (I15, conv, "(4 / -2)", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
          "groups", INTS ("-2"));
  REFUSE (I15, conv, "bias has shape [5]", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
          "bias", CF16 ("[5]"));
  REFUSE (I15, conv, "bias has shape [6, 1]", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
          "bias", CF16 ("[6, 1]"));
  REFUSE (I15, conv, "bias has shape []", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
          "bias", ane_test_float (ANE_MIL_DT_FP16, 1.0));
  REFUSE (I17, conv, "bias has shape [?]", "x", F16 ("[1, 4, 8, 8]"), "weight", CF32 ("[6, 4, 3, 3]"),
          "bias", F32 ("[?]"));
  REFUSE (I15, conv, "output size 0", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 9, 3]"));
  REFUSE (I15, conv, "output size -4", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
          "strides", INTS ("[-1, 1]"));
  REFUSE (I15, conv, "stride 0", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
          "strides", INTS ("[0, 1]"));
  REFUSE (I15, conv, "stride 0", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
          "strides", INTS ("[0, 1]"), "pad_type", STR ("same"));
  REFUSE (I15, conv, "strides (1)", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3, 3]"),
          "strides", INTS ("[1]"));
  REFUSE (I15, conv, "kernel (1)", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[6, 4, 3]"));
  REFUSE (I15, conv, "strides must be a vector", "x", F16 ("[1, 4, 8]"), "weight", CF16 ("[6, 4, 3]"),
          "strides", INTS ("1"), "dilations", INTS ("[1]"));
  REFUSE (I15, conv, "default of 'strides'", "x", F16 ("[1, 4]"), "weight", CF16 ("[6, 4]"));
  REFUSE (I15, conv, "default of 'pad'", "x", F16 ("[1, 4]"), "weight", CF16 ("[6, 4]"),
          "strides", INTS ("[]"), "dilations", INTS ("[]"));
  REFUSE (I15, conv, "x has rank 1", "x", F16 ("[4]"), "weight", CF16 ("[6, 4]"));
  REFUSE (I15, conv, "share type domain", "x", F16 ("[1, 4, 8, 8]"), "weight", CF32 ("[6, 4, 3, 3]"));
}

static void
test_conv_transpose (void)
{
  const char *const ct = "conv_transpose";

  CHECK (I15, ct, "tensor<fp16, [1, 3, 10, 10]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"));
  CHECK (I15, ct, "tensor<fp16, [1, 3, 16, 16]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
         "strides", INTS ("[2, 2]"), "pad_type", STR ("same"));
  CHECK (I15, ct, "tensor<fp16, [1, 3, 15, 16]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
         "strides", INTS ("[2, 2]"), "pad_type", STR ("custom"), "pad", INTS ("[1, 1, 0, 1]"));
  CHECK (I15, ct, "tensor<fp16, [1, 3, 10, 10]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
         "pad_type", STR ("custom"));
  CHECK (I15, ct, "tensor<fp16, [1, 6, 10, 10]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
         "groups", INTS ("2"));
  CHECK (I15, ct, "tensor<fp16, [1, 0, 10, 10]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
         "groups", INTS ("0"));
  CHECK (I15, ct, "tensor<fp16, [1, 3, 12, 10]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
         "dilations", INTS ("[2, 1]"));
  CHECK (I15, ct, "tensor<fp16, [1, 3, 10, 10]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
         "bias", CF16 ("[3]"));
  /* only bias's length is read */
  CHECK (I15, ct, "tensor<fp16, [1, 3, 10, 10]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
         "bias", CF16 ("[3, 2]"));
  /* extra entries and kernel axes are ignored; C_in is not checked */
  CHECK (I15, ct, "tensor<fp16, [1, 3, 17, 17]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
         "strides", INTS ("[2, 2, 2]"));
  CHECK (I15, ct, "tensor<fp16, [1, 3, 10, 10]>", "x", F16 ("[1, 4, 8, 8]"),
         "weight", CF16 ("[4, 3, 3, 3, 3]"));
  CHECK (I15, ct, "tensor<fp16, [1, 3, 10, 10]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[5, 3, 3, 3]"));
  CHECK (I15, ct, "tensor<fp16, [1, 3, 10]>", "x", F16 ("[1, 4, 8]"), "weight", CF16 ("[4, 3, 3]"),
         "pad_type", STR ("valid"), "pad", INTS ("1"));
  CHECK (I15, ct, "tensor<fp16, [1, 3, ?, 17]>", "x", F16 ("[1, 4, ?, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
         "strides", INTS ("[2, 2]"));
  /* output_shape is the output (any length) once [0] and [1] are N and C_out */
  CHECK (I15, ct, "tensor<fp16, [1, 3, 17, 17]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
         "output_shape", INTS ("[1, 3, 17, 17]"));
  CHECK (I15, ct, "tensor<fp16, [1, 3, 17]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
         "output_shape", INTS ("[1, 3, 17]"));
  CHECK (I15, ct, "tensor<fp16, [1, 3, 5, 5]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
         "output_shape", INTS ("[1, 3, 5, 5]"), "pad_type", STR ("bogus"), "strides", INTS ("[1]"));
  /* iOS17: weight may be non-const and of another float dtype */
  CHECK (I17, ct, "tensor<fp16, [1, 3, 10, 10]>", "x", F16 ("[1, 4, 8, 8]"), "weight", F32 ("[4, 3, 3, 3]"));
  CHECK (I17, ct, "tensor<fp16, [1, 3, ?, 10]>", "x", F16 ("[1, 4, 8, 8]"), "weight", F32 ("[4, 3, ?, 3]"));
  CHECK (I17, ct, "tensor<fp16, [1, 3, 10, 10]>", "x", F16 ("[1, 4, 8, 8]"), "weight", CF32 ("[4, 3, 3, 3]"),
         "bias", CF32 ("[3]"));
  CHECK (I18, ct, "tensor<fp16, [1, 3, 10, 10]>", "x", F16 ("[1, 4, 8, 8]"), "weight", F32 ("[?, 3, 3, 3]"),
         "output_shape", INTS ("[1, 3, 10, 10]"));

  REFUSE (I15, ct, "pad_type 'same_lower'", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
          "pad_type", STR ("same_lower"));
  REFUSE (I17, ct, "pad_type 'same_lower'", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
          "pad_type", STR ("same_lower"));
  REFUSE (I15, ct, "bias has 4 values", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
          "bias", CF16 ("[4]"));
  REFUSE (I15, ct, "bias is a scalar", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
          "bias", ane_test_float (ANE_MIL_DT_FP16, 1.0));
  REFUSE (I15, ct, "output_shape[0] (2)", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
          "output_shape", INTS ("[2, 3, 17, 17]"));
  REFUSE (I15, ct, "output_shape[1] (4)", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
          "output_shape", INTS ("[1, 4, 17, 17]"));
  REFUSE (I15, ct, "batch size (?)", "x", F16 ("[?, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
          "output_shape", INTS ("[1, 3, 17, 17]"));
  REFUSE (I15, ct, "output_shape[2] is -1", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
          "output_shape", INTS ("[1, 3, -1, 0]"));
  REFUSE (I15, ct, "output_shape has 1 entries", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
          "output_shape", INTS ("[1]"));
  REFUSE (I15, ct, "output_shape must be a vector", "x", F16 ("[1, 4, 8, 8]"),
          "weight", CF16 ("[4, 3, 3, 3]"), "output_shape", INTS ("3"));
  /* coremltools computes these negative sizes and keeps them */
  REFUSE (I15, ct, "gets size -8", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
          "pad_type", STR ("custom"), "pad", INTS ("[9, 9, 0, 0]"));
  REFUSE (I15, ct, "gets size -1", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3, 3]"),
          "pad_type", STR ("custom"), "pad", INTS ("[6, 5, 0, 0]"));
  REFUSE (I15, ct, "strides has no entry for spatial axis 1", "x", F16 ("[1, 4, 8, 8]"),
          "weight", CF16 ("[4, 3, 3, 3]"), "strides", INTS ("[2]"));
  REFUSE (I15, ct, "strides has no entry for spatial axis 0", "x", F16 ("[1, 4, 8]"),
          "weight", CF16 ("[4, 3, 3]"), "strides", INTS ("2"));
  REFUSE (I15, ct, "dilations has no entry for spatial axis 0", "x", F16 ("[1, 4, 8]"),
          "weight", CF16 ("[4, 3, 3]"), "dilations", INTS ("[]"));
  REFUSE (I15, ct, "pad has no entries for spatial axis 0", "x", F16 ("[1, 4, 8]"),
          "weight", CF16 ("[4, 3, 3]"), "pad_type", STR ("custom"), "pad", INTS ("[1]"));
  REFUSE (I15, ct, "weight has 1 kernel axes", "x", F16 ("[1, 4, 8, 8]"), "weight", CF16 ("[4, 3, 3]"));
  REFUSE (I15, ct, "pad_type 'VALID'", "x", F16 ("[1, 4, 8]"), "weight", CF16 ("[4, 3, 3]"),
          "pad_type", STR ("VALID"));
  REFUSE (I15, ct, "default of 'pad'", "x", F16 ("[1, 4]"), "weight", CF16 ("[4, 3]"),
          "strides", INTS ("[]"), "dilations", INTS ("[]"));
  REFUSE (I17, ct, "weight.shape[1] is unknown", "x", F16 ("[1, 4, 8, 8]"), "weight", F32 ("[4, ?, 3, 3]"),
          "groups", INTS ("2"));
  REFUSE (I17, ct, "bias is not const", "x", F16 ("[1, 4, 8, 8]"), "weight", CF32 ("[4, 3, 3, 3]"),
          "bias", F32 ("[3]"));
  /* iOS15's weight must be const (the core's check) */
  REFUSE (I15, ct, "must be const", "x", F16 ("[1, 4, 8, 8]"), "weight", F16 ("[4, 3, 3, 3]"));
  CHECK (I15, ct, "tensor<fp16, [1, 3]>", "x", F16 ("[1, 4]"), "weight", CF16 ("[4, 3]"),
         "strides", INTS ("[]"), "pad", INTS ("[]"), "dilations", INTS ("[]"));
}

/* --- pooling -------------------------------------------------------------- */

static void
test_pool (void)
{
  static const char *const pools[] = { "avg_pool", "max_pool", "l2_pool" };

  for (guint i = 0; i < G_N_ELEMENTS (pools); i++)
    {
      CHECK (I15, pools[i], "tensor<fp16, [1, 4, 4, 4]>", "x", F16 ("[1, 4, 8, 8]"),
             "kernel_sizes", INTS ("[2, 2]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("valid"));
      CHECK (I18, pools[i], "tensor<fp32, [1, 4, 4, 4]>", "x", F32 ("[1, 4, 7, 7]"),
             "kernel_sizes", INTS ("[2, 2]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("same"));
      REFUSE (I15, pools[i], "same_lower is refused at iOS15", "x", F16 ("[1, 4, 7, 7]"),
              "kernel_sizes", INTS ("[2, 2]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("same_lower"));
      REFUSE (I15, pools[i], "ceil_mode is refused with pad_type same", "x", F16 ("[1, 4, 7, 7]"),
              "kernel_sizes", INTS ("[2, 2]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("same"),
              "ceil_mode", ane_test_bool (TRUE));
    }
  CHECK (I15, "max_pool", "tensor<fp16, [1, 4, 4, 4, 4]>", "x", F16 ("[1, 4, 8, 8, 8]"),
         "kernel_sizes", INTS ("[2, 2, 2]"), "strides", INTS ("[2, 2, 2]"), "pad_type", STR ("valid"));
  CHECK (I15, "max_pool", "tensor<fp16, [1, 4, 4, 4]>", "x", F16 ("[1, 4, 7, 7]"),
         "kernel_sizes", INTS ("[2, 2]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("SAME"));
  /* pad_type is lower-cased, but the iOS15 same_lower check is not */
  CHECK (I15, "max_pool", "tensor<fp16, [1, 4, 4, 4]>", "x", F16 ("[1, 4, 7, 7]"),
         "kernel_sizes", INTS ("[2, 2]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("SAME_LOWER"));
  CHECK (I16, "max_pool", "tensor<fp16, [1, 4, 4, 4]>", "x", F16 ("[1, 4, 7, 7]"),
         "kernel_sizes", INTS ("[2, 2]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("same_lower"));
  CHECK (I15, "max_pool", "tensor<fp16, [1, 4, 6, 6]>", "x", F16 ("[1, 4, 7, 7]"),
         "kernel_sizes", INTS ("[2, 2]"), "pad_type", STR ("valid"));
  CHECK (I15, "max_pool", "tensor<fp16, [1, 4, 4, 4]>", "x", F16 ("[1, 4, 7, 7]"),
         "kernel_sizes", INTS ("[2, 2]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("valid"),
         "ceil_mode", ane_test_bool (TRUE));
  CHECK (I15, "max_pool", "tensor<fp16, [1, 4, 4, 4]>", "x", F16 ("[1, 4, 7, 7]"),
         "kernel_sizes", INTS ("[2, 2]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("custom"),
         "pad", INTS ("[1, 1, 1, 1]"), "ceil_mode", ane_test_bool (TRUE));
  CHECK (I15, "max_pool", "tensor<fp16, [1, 4, 4, 4]>", "x", F16 ("[1, 4, 6, 6]"),
         "kernel_sizes", INTS ("[2, 2]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("custom"),
         "pad", INTS ("[1, 1, 1, 1]"), "ceil_mode", ane_test_bool (TRUE));
  CHECK (I15, "max_pool", "tensor<fp16, [1, 4, 5, 5]>", "x", F16 ("[1, 4, 8, 8]"),
         "kernel_sizes", INTS ("[3, 3]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("custom"),
         "pad", INTS ("[1, 1, 1, 1]"), "ceil_mode", ane_test_bool (TRUE));
  CHECK (I15, "max_pool", "tensor<fp16, [1, 4, ?, 5]>", "x", F16 ("[1, 4, ?, 8]"),
         "kernel_sizes", INTS ("[3, 3]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("custom"),
         "pad", INTS ("[1, 1, 1, 1]"), "ceil_mode", ane_test_bool (TRUE));
  CHECK (I15, "max_pool", "tensor<fp16, [1, 4, 4, 4]>", "x", F16 ("[1, 4, 7, 7]"),
         "kernel_sizes", INTS ("[3, 3]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("custom"),
         "pad", INTS ("[1, 1, 1, 1]"), "ceil_mode", ane_test_bool (TRUE));
  CHECK (I15, "max_pool", "tensor<fp16, [?, ?, ?, 4]>", "x", F16 ("[?, ?, ?, 7]"),
         "kernel_sizes", INTS ("[3, 3]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("same"));
  CHECK (I15, "max_pool", "tensor<fp16, [1, 4]>", "x", F16 ("[1, 4]"), "kernel_sizes", INTS ("[]"),
         "strides", INTS ("[]"), "pad", INTS ("[]"), "pad_type", STR ("valid"));
  CHECK (I15, "avg_pool", "tensor<fp16, [1, 4, 3, 3]>", "x", F16 ("[1, 4, 7, 7]"),
         "kernel_sizes", INTS ("[2, 2]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("valid"),
         "exclude_padding_from_average", ane_test_bool (TRUE));

  REFUSE (I15, "l2_pool", "x has 3 spatial axes", "x", F16 ("[1, 4, 8, 8, 8]"),
          "kernel_sizes", INTS ("[2, 2, 2]"), "strides", INTS ("[2, 2, 2]"), "pad_type", STR ("valid"));
  REFUSE (I15, "max_pool", "pad_type 'bogus'", "x", F16 ("[1, 4, 7, 7]"), "kernel_sizes", INTS ("[2, 2]"),
          "pad_type", STR ("bogus"));
  REFUSE (I15, "max_pool", "symmetric padding", "x", F16 ("[1, 4, 7, 7]"), "kernel_sizes", INTS ("[2, 2]"),
          "strides", INTS ("[2, 2]"), "pad_type", STR ("custom"), "pad", INTS ("[1, 0, 1, 1]"),
          "ceil_mode", ane_test_bool (TRUE));
  REFUSE (I15, "max_pool", "at most 2 spatial axes", "x", F16 ("[1, 4, 7, 7, 7]"),
          "kernel_sizes", INTS ("[2, 2, 2]"), "strides", INTS ("[2, 2, 2]"), "pad_type", STR ("valid"),
          "ceil_mode", ane_test_bool (TRUE));
  /* pad's length counts even when pad_type does not use it */
  REFUSE (I15, "max_pool", "pad (2, two per axis)", "x", F16 ("[1, 4, 7, 7]"),
          "kernel_sizes", INTS ("[2, 2]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("valid"),
          "pad", INTS ("[1, 1]"));
  REFUSE (I15, "max_pool", "pad has no entries for spatial axis 1", "x", F16 ("[1, 4, 7, 7]"),
          "kernel_sizes", INTS ("[2, 2]"), "strides", INTS ("[2, 2]"), "pad_type", STR ("valid"),
          "pad", INTS ("[1, 1]"), "ceil_mode", ane_test_bool (TRUE));
  REFUSE (I15, "max_pool", "kernel (1)", "x", F16 ("[1, 4, 7, 7]"), "kernel_sizes", INTS ("[2]"),
          "strides", INTS ("[2, 2]"), "pad_type", STR ("valid"));
  REFUSE (I15, "max_pool", "output size 0", "x", F16 ("[1, 4, 7, 7]"), "kernel_sizes", INTS ("[9, 2]"),
          "strides", INTS ("[2, 2]"), "pad_type", STR ("valid"));
  REFUSE (I15, "max_pool", "stride 0", "x", F16 ("[1, 4, 8, 8]"), "kernel_sizes", INTS ("[3, 3]"),
          "strides", INTS ("[0, 2]"), "pad_type", STR ("valid"));
  REFUSE (I15, "max_pool", "kernel_sizes must be a vector", "x", F16 ("[1, 4, 8, 8]"),
          "kernel_sizes", INTS ("3"), "strides", INTS ("[2, 2]"), "pad_type", STR ("valid"));
  REFUSE (I15, "max_pool", "pad must be a vector", "x", F16 ("[1, 4, 8]"),
          "kernel_sizes", INTS ("[3]"), "pad", INTS ("1"), "pad_type", STR ("valid"));
  REFUSE (I15, "max_pool", "default of 'strides'", "x", F16 ("[1, 4]"), "kernel_sizes", INTS ("[]"),
          "pad_type", STR ("valid"));
  REFUSE (I15, "avg_pool", "must be const", "x", F16 ("[1, 4, 8, 8]"), "kernel_sizes", I32 ("[2]"),
          "pad_type", STR ("valid"));
}

/* --- upsample_nearest_neighbor -------------------------------------------- */

static void
test_upsample_nearest_neighbor (void)
{
  const char *const up = "upsample_nearest_neighbor";

  CHECK (I15, up, "tensor<fp16, [1, 3, 4, 5]>", "x", F16 ("[1, 3, 4, 5]"));
  CHECK (I15, up, "tensor<fp16, [1, 3, 8, 15]>", "x", F16 ("[1, 3, 4, 5]"),
         "scale_factor_height", INTS ("2"), "scale_factor_width", INTS ("3"));
  CHECK (I15, up, "tensor<fp16, [1, 3, 6, 2]>", "x", F16 ("[1, 3, 4, 5]"),
         "scale_factor_height", ane_test_float (ANE_MIL_DT_FP32, 1.5),
         "scale_factor_width", ane_test_float (ANE_MIL_DT_FP32, 0.5));
  /* fp32 factors as a program holds them: 0.1f * 10 and 0.7f * 5 in double */
  CHECK (I15, up, "tensor<fp32, [1, 3, 1, 3]>", "x", F32 ("[1, 3, 10, 5]"),
         "scale_factor_height", ane_test_float (ANE_MIL_DT_FP32, (double) 0.1f),
         "scale_factor_width", ane_test_float (ANE_MIL_DT_FP32, (double) 0.7f));
  CHECK (I15, up, "tensor<fp16, [3, 6, 2]>", "x", F16 ("[3, 4, 5]"),
         "scale_factor_height", ane_test_float (ANE_MIL_DT_FP32, 1.5),
         "scale_factor_width", ane_test_float (ANE_MIL_DT_FP32, 0.5));
  CHECK (I15, up, "tensor<fp16, [1, 3, ?, 10]>", "x", F16 ("[1, 3, ?, 5]"),
         "scale_factor_height", INTS ("2"), "scale_factor_width", INTS ("2"));
  CHECK (I15, up, "tensor<fp16, [1, 3, 0, 10]>", "x", F16 ("[1, 3, 4, 5]"),
         "scale_factor_height", INTS ("0"), "scale_factor_width", INTS ("2"));
  /* one factor given: the default of the other is not held to its dtype */
  CHECK (I15, up, "tensor<fp16, [1, 4, 17, 7]>", "x", F16 ("[1, 4, 7, 7]"),
         "scale_factor_height", ane_test_float (ANE_MIL_DT_FP32, 2.5));
  CHECK (I18, up, "tensor<fp16, [?, 4, 14, 7]>", "x", F16 ("[?, 4, 7, 7]"),
         "scale_factor_height", INTS ("2"));

  REFUSE (I15, up, "x has rank 2", "x", F16 ("[4, 5]"));
  REFUSE (I15, up, "size -4", "x", F16 ("[1, 3, 4, 5]"), "scale_factor_height", INTS ("-1"),
          "scale_factor_width", INTS ("2"));
  REFUSE (I15, up, "scale_factor_height must be a scalar", "x", F16 ("[1, 3, 4, 5]"),
          "scale_factor_height", INTS ("[2]"), "scale_factor_width", INTS ("[2]"));
  REFUSE (I15, up, "share type domain", "x", F16 ("[1, 3, 4, 5]"),
          "scale_factor_height", ane_test_float (ANE_MIL_DT_FP32, 2.0), "scale_factor_width", INTS ("2"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/mil-infer/linalg/linear", test_linear);
  g_test_add_func ("/ane/mil-infer/linalg/matmul", test_matmul);
  g_test_add_func ("/ane/mil-infer/linalg/einsum", test_einsum);
  g_test_add_func ("/ane/mil-infer/linalg/batch_norm", test_batch_norm);
  g_test_add_func ("/ane/mil-infer/linalg/instance_norm", test_instance_norm);
  g_test_add_func ("/ane/mil-infer/linalg/l2_norm", test_l2_norm);
  g_test_add_func ("/ane/mil-infer/linalg/layer_norm", test_layer_norm);
  g_test_add_func ("/ane/mil-infer/linalg/local_response_norm", test_local_response_norm);
  g_test_add_func ("/ane/mil-infer/linalg/conv", test_conv);
  g_test_add_func ("/ane/mil-infer/linalg/conv_transpose", test_conv_transpose);
  g_test_add_func ("/ane/mil-infer/linalg/pool", test_pool);
  g_test_add_func ("/ane/mil-infer/linalg/upsample_nearest_neighbor", test_upsample_nearest_neighbor);
  g_test_add_func ("/ane/mil-infer/linalg/unknown_values", test_unknown_values);
  return g_test_run ();
}
