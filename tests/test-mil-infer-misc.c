/* test-mil-infer-misc.c: the type-inference rules of ane-glib/mil/infer/ane-mil-infer-misc.c
 *
 * Hand-checked cases per op against the type_inference of coremltools'
 * op classes (the source each row of ane-mil-opdefs.c names); each expected
 * type below was also confirmed by building the same call with coremltools
 * 9.0's pymil builder.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-infer-test-util.h"

#define FP16 ANE_MIL_DT_FP16
#define FP32 ANE_MIL_DT_FP32
#define I8   ANE_MIL_DT_INT8
#define U8   ANE_MIL_DT_UINT8
#define I32  ANE_MIL_DT_INT32
#define BOOL ANE_MIL_DT_BOOL

static void
assert_message (GError     *error,
                const char *fragment)
{
  if (strstr (error->message, fragment) == NULL)
    g_error ("'%s' not in '%s'", fragment, error->message);
}

static void
test_const (void)
{
  g_autoptr(AneMilInferCall) f = NULL, i64 = NULL, s = NULL, big = NULL;
  const gint64 shape2[] = { 2 };
  const double v64[] = { 5e9, -3 };

  f = ane_test_infer (ANE_MIL_IOS15, "const", 1, "val", ane_test_float (FP16, 1.5), NULL);
  ane_test_assert_type (f, 0, "fp16");
  ane_test_assert_out_values (f, 0, "[1.5]");
  g_assert_true (ane_mil_infer_call_output (f, 0)->const_descendant);

  /* Const._get_type_val: int64 values become int32, clipped */
  i64 = ane_test_infer (ANE_MIL_IOS15, "const", 1,
                        "val", ane_mil_val_new_values (ANE_MIL_DT_INT64, shape2, 1, v64), NULL);
  ane_test_assert_type (i64, 0, "tensor<int32, [2]>");
  ane_test_assert_out_values (i64, 0, "[2.14748e+09, -3]");

  s = ane_test_infer (ANE_MIL_IOS18, "const", 1, "val", ane_test_str ("fp16"), NULL);
  ane_test_assert_type (s, 0, "string");
  g_assert_cmpstr (ane_mil_infer_call_output (s, 0)->string, ==, "fp16");

  /* a blob const: typed, const, value not read */
  big = ane_test_infer (ANE_MIL_IOS15, "const", 1, "val", ane_test_const_val (FP32, "[64, 32]"), NULL);
  ane_test_assert_type (big, 0, "tensor<fp32, [64, 32]>");
  g_assert_null (ane_mil_infer_call_output (big, 0)->values);
}

static void
test_select (void)
{
  g_autoptr(AneMilInferCall) scalars = NULL, wide = NULL, bcast = NULL;
  g_autoptr(GError) e1 = NULL, e2 = NULL;

  /* the decode mask of issue 10: cond [512], scalar branches -> a scalar */
  scalars = ane_test_infer (ANE_MIL_IOS18, "select", 1,
                            "cond", ane_test_val (BOOL, "[512]"),
                            "a", ane_test_float (FP16, 0), "b", ane_test_float (FP16, -1e4), NULL);
  ane_test_assert_type (scalars, 0, "fp16");

  /* cond wider than both branches: the branches' shape */
  wide = ane_test_infer (ANE_MIL_IOS15, "select", 1,
                         "cond", ane_test_val (BOOL, "[2, 3, 4]"),
                         "a", ane_test_val (FP32, "[3, 4]"), "b", ane_test_val (FP32, "[3, 4]"), NULL);
  ane_test_assert_type (wide, 0, "tensor<fp32, [3, 4]>");

  bcast = ane_test_infer (ANE_MIL_IOS17, "select", 1,
                          "cond", ane_test_val (BOOL, "[2, 3, 4]"),
                          "a", ane_test_val (I32, "[2, 3, 4]"), "b", ane_test_val (I32, "[1]"), NULL);
  ane_test_assert_type (bcast, 0, "tensor<int32, [2, 3, 4]>");

  e1 = ane_test_infer_error (ANE_MIL_IOS15, "select", 1, ANE_ERROR_TYPE_MISMATCH,
                             "cond", ane_test_val (BOOL, "[3]"),
                             "a", ane_test_val (FP32, "[3]"), "b", ane_test_val (FP32, "[4]"), NULL);
  assert_message (e1, "do not broadcast");
  /* a and b share domain T */
  e2 = ane_test_infer_error (ANE_MIL_IOS15, "select", 1, ANE_ERROR_TYPE_MISMATCH,
                             "cond", ane_test_val (BOOL, "[3]"),
                             "a", ane_test_val (FP32, "[3]"), "b", ane_test_val (FP16, "[3]"), NULL);
  assert_message (e2, "domain T");
}

static void
test_control_flow (void)
{
  g_autoptr(AneMilInferCall) c = NULL;

  /* types come from nested blocks: each declared output is taken as given */
  c = ane_test_infer (ANE_MIL_IOS15, "cond", 2, "pred", ane_test_val (BOOL, ""), NULL);
  g_assert_cmpuint (ane_mil_infer_call_n_outputs (c), ==, 2);
  g_assert_cmpint (ane_mil_infer_call_output (c, 0)->kind, ==, ANE_MIL_VAL_OTHER);
}

static void
test_constexpr_ios16 (void)
{
  g_autoptr(AneMilInferCall) aq = NULL, cast = NULL, lut = NULL, sparse = NULL;
  g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL, e6 = NULL;
  const gint64 mask_shape[] = { 2 };
  const double mask_ok[] = { 0x0f, 0x01 }, mask_pad[] = { 0x0f, 0x03 };

  aq = ane_test_infer (ANE_MIL_IOS16, "constexpr_affine_dequantize", 1,
                       "quantized_data", ane_test_const_val (I8, "[8, 4]"),
                       "zero_point", ane_test_const_val (I8, "[8]"),
                       "scale", ane_test_const_val (FP16, "[8]"), "axis", ane_test_ints ("0"), NULL);
  ane_test_assert_type (aq, 0, "tensor<fp16, [8, 4]>");
  g_assert_true (ane_mil_infer_call_output (aq, 0)->const_descendant);
  e1 = ane_test_infer_error (ANE_MIL_IOS17, "constexpr_affine_dequantize", 1, ANE_ERROR_TYPE_MISMATCH,
                             "quantized_data", ane_test_const_val (I8, "[8, 4]"),
                             "zero_point", ane_test_const_val (I8, ""),
                             "scale", ane_test_const_val (FP32, "[4]"), "axis", ane_test_ints ("0"), NULL);
  assert_message (e1, "along axis 0");
  e2 = ane_test_infer_error (ANE_MIL_IOS18, "constexpr_affine_dequantize", 1, ANE_ERROR_TYPE_MISMATCH,
                             "quantized_data", ane_test_const_val (I8, "[8, 4]"),
                             "zero_point", ane_test_const_val (I8, ""),
                             "scale", ane_test_const_val (FP32, ""), "axis", ane_test_ints ("2"), NULL);
  assert_message (e2, "out of range");
  /* every parameter must be const */
  e3 = ane_test_infer_error (ANE_MIL_IOS16, "constexpr_affine_dequantize", 1, ANE_ERROR_TYPE_MISMATCH,
                             "quantized_data", ane_test_val (I8, "[8, 4]"),
                             "zero_point", ane_test_const_val (I8, ""),
                             "scale", ane_test_const_val (FP32, ""), "axis", ane_test_ints ("0"), NULL);
  assert_message (e3, "must be const");

  cast = ane_test_infer (ANE_MIL_IOS16, "constexpr_cast", 1, "source_val", ane_test_const_val (FP16, "[3, 2]"),
                         "output_dtype", ane_test_str ("fp32"), NULL);
  ane_test_assert_type (cast, 0, "tensor<fp32, [3, 2]>");
  e4 = ane_test_infer_error (ANE_MIL_IOS18, "constexpr_cast", 1, ANE_ERROR_TYPE_MISMATCH,
                             "source_val", ane_test_const_val (FP16, "[3]"),
                             "output_dtype", ane_test_str ("int32"), NULL);
  assert_message (e4, "fp32");

  /* 4-bit palette: 16 entries, 24 elements take 12 bytes */
  lut = ane_test_infer (ANE_MIL_IOS17, "constexpr_lut_to_dense", 1,
                        "indices", ane_test_const_val (U8, "[12]"), "lut", ane_test_const_val (FP16, "[16]"),
                        "shape", ane_mil_val_new_values (ANE_MIL_DT_UINT32, (gint64[]) { 2 }, 1,
                                                         (double[]) { 4, 6 }), NULL);
  ane_test_assert_type (lut, 0, "tensor<fp16, [4, 6]>");
  e5 = ane_test_infer_error (ANE_MIL_IOS16, "constexpr_lut_to_dense", 1, ANE_ERROR_TYPE_MISMATCH,
                             "indices", ane_test_const_val (U8, "[12]"), "lut", ane_test_const_val (FP16, "[8]"),
                             "shape", ane_mil_val_new_values (ANE_MIL_DT_UINT32, (gint64[]) { 2 }, 1,
                                                              (double[]) { 4, 6 }), NULL);
  assert_message (e5, "not 2, 4, 16, 64 or 256");

  sparse = ane_test_infer (ANE_MIL_IOS16, "constexpr_sparse_to_dense", 1,
                           "nonzero_data", ane_test_const_val (FP32, "[5]"),
                           "mask", ane_mil_val_new_values (U8, mask_shape, 1, mask_ok),
                           "shape", ane_mil_val_new_values (ANE_MIL_DT_UINT32, (gint64[]) { 2 }, 1,
                                                            (double[]) { 3, 3 }), NULL);
  ane_test_assert_type (sparse, 0, "tensor<fp32, [3, 3]>");
  /* a padding bit (the tenth) set */
  e6 = ane_test_infer_error (ANE_MIL_IOS16, "constexpr_sparse_to_dense", 1, ANE_ERROR_TYPE_MISMATCH,
                             "nonzero_data", ane_test_const_val (FP32, "[6]"),
                             "mask", ane_mil_val_new_values (U8, mask_shape, 1, mask_pad),
                             "shape", ane_mil_val_new_values (ANE_MIL_DT_UINT32, (gint64[]) { 2 }, 1,
                                                              (double[]) { 3, 3 }), NULL);
  assert_message (e6, "padding bit 9");
}

static void
test_constexpr_ios18 (void)
{
  g_autoptr(AneMilInferCall) bss = NULL, lut = NULL, vec = NULL, sp = NULL, l2s = NULL, sbss = NULL;
  g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL, e6 = NULL;

  bss = ane_test_infer (ANE_MIL_IOS18, "constexpr_blockwise_shift_scale", 1,
                        "data", ane_test_const_val (I8, "[4, 64]"), "scale", ane_test_const_val (FP16, "[4, 2]"), NULL);
  ane_test_assert_type (bss, 0, "tensor<fp16, [4, 64]>");
  e1 = ane_test_infer_error (ANE_MIL_IOS18, "constexpr_blockwise_shift_scale", 1, ANE_ERROR_TYPE_MISMATCH,
                             "data", ane_test_const_val (I8, "[4, 64]"), "scale", ane_test_const_val (FP16, "[4, 3]"),
                             NULL);
  assert_message (e1, "not a multiple");
  e2 = ane_test_infer_error (ANE_MIL_IOS18, "constexpr_blockwise_shift_scale", 1, ANE_ERROR_TYPE_MISMATCH,
                             "data", ane_test_const_val (ANE_MIL_DT_INT4, "[4, 64]"),
                             "scale", ane_test_const_val (FP16, "[4, 2]"),
                             "offset", ane_test_const_val (I8, "[4, 2]"), NULL);
  assert_message (e2, "data's dtype");
  /* not in the iOS17 opset */
  e3 = ane_test_infer_error (ANE_MIL_IOS17, "constexpr_blockwise_shift_scale", 1, ANE_ERROR_UNSUPPORTED,
                             "data", ane_test_const_val (I8, "[4, 64]"), "scale", ane_test_const_val (FP16, "[4, 2]"),
                             NULL);

  lut = ane_test_infer (ANE_MIL_IOS18, "constexpr_lut_to_dense", 1,
                        "indices", ane_test_const_val (ANE_MIL_DT_UINT4, "[4, 8]"),
                        "lut", ane_test_const_val (FP16, "[2, 1, 16, 1]"), NULL);
  ane_test_assert_type (lut, 0, "tensor<fp16, [4, 8]>");
  vec = ane_test_infer (ANE_MIL_IOS18, "constexpr_lut_to_dense", 1,
                        "indices", ane_test_const_val (ANE_MIL_DT_UINT4, "[4, 8]"),
                        "lut", ane_test_const_val (FP16, "[2, 1, 16, 2]"), "vector_axis", ane_test_ints ("0"), NULL);
  ane_test_assert_type (vec, 0, "tensor<fp16, [8, 8]>");
  e4 = ane_test_infer_error (ANE_MIL_IOS18, "constexpr_lut_to_dense", 1, ANE_ERROR_TYPE_MISMATCH,
                             "indices", ane_test_const_val (ANE_MIL_DT_UINT2, "[4, 8]"),
                             "lut", ane_test_const_val (FP16, "[2, 1, 16, 1]"), NULL);
  assert_message (e4, "must be uint4");
  e5 = ane_test_infer_error (ANE_MIL_IOS18, "constexpr_lut_to_dense", 1, ANE_ERROR_TYPE_MISMATCH,
                             "indices", ane_test_const_val (ANE_MIL_DT_UINT4, "[4, 8]"),
                             "lut", ane_test_const_val (FP16, "[2, 1, 16, 2]"), NULL);
  assert_message (e5, "vector_axis");

  sp = ane_test_infer (ANE_MIL_IOS18, "constexpr_sparse_to_dense", 1,
                       "nonzero_data", ane_test_const_val (ANE_MIL_DT_INT4, "[7]"),
                       "mask", ane_test_const_val (ANE_MIL_DT_UINT1, "[3, 5]"), NULL);
  ane_test_assert_type (sp, 0, "tensor<int4, [3, 5]>");

  l2s = ane_test_infer (ANE_MIL_IOS18, "constexpr_lut_to_sparse", 2,
                        "indices_mask", ane_test_const_val (ANE_MIL_DT_UINT1, "[4, 8]"),
                        "indices_nonzero_data", ane_test_const_val (ANE_MIL_DT_UINT2, "[10]"),
                        "lut", ane_test_const_val (FP32, "[1, 1, 4, 3]"), "vector_axis", ane_test_ints ("-1"), NULL);
  ane_test_assert_type (l2s, 0, "tensor<uint1, [4, 24]>");
  ane_test_assert_type (l2s, 1, "tensor<fp32, [30]>");

  sbss = ane_test_infer (ANE_MIL_IOS18, "constexpr_sparse_blockwise_shift_scale", 2,
                         "data_mask", ane_test_const_val (ANE_MIL_DT_UINT1, "[4, 8]"),
                         "nonzero_data", ane_test_const_val (I8, "[9]"),
                         "scale", ane_test_const_val (FP16, "[4, 1]"), NULL);
  ane_test_assert_type (sbss, 0, "tensor<uint1, [4, 8]>");
  ane_test_assert_type (sbss, 1, "tensor<fp16, [9]>");
  e6 = ane_test_infer_error (ANE_MIL_IOS18, "constexpr_sparse_blockwise_shift_scale", 2, ANE_ERROR_TYPE_MISMATCH,
                             "data_mask", ane_test_const_val (ANE_MIL_DT_UINT1, "[4, 8]"),
                             "nonzero_data", ane_test_const_val (I8, "[3, 3]"),
                             "scale", ane_test_const_val (FP16, "[4, 1]"), NULL);
  assert_message (e6, "must be a vector");
}

static void
test_quantize (void)
{
  g_autoptr(AneMilInferCall) q = NULL, dq = NULL;
  g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL;

  q = ane_test_infer (ANE_MIL_IOS17, "quantize", 1, "input", ane_test_val (FP32, "[3, 4]"),
                      "scale", ane_test_float (FP32, 0.5), "output_dtype", ane_test_str ("uint8"), NULL);
  ane_test_assert_type (q, 0, "tensor<uint8, [3, 4]>");
  e1 = ane_test_infer_error (ANE_MIL_IOS17, "quantize", 1, ANE_ERROR_TYPE_MISMATCH,
                             "input", ane_test_val (FP32, "[3, 4]"), "scale", ane_test_float (FP32, 0.5),
                             "zero_point", ane_test_const_val (I8, ""), "output_dtype", ane_test_str ("uint8"), NULL);
  assert_message (e1, "differ");
  e2 = ane_test_infer_error (ANE_MIL_IOS17, "quantize", 1, ANE_ERROR_TYPE_MISMATCH,
                             "input", ane_test_val (FP32, "[3, 4]"), "scale", ane_test_float (FP32, 0.5),
                             "axis", ane_test_ints ("0"), "output_dtype", ane_test_str ("uint8"), NULL);
  assert_message (e2, "axis must not be given");
  e3 = ane_test_infer_error (ANE_MIL_IOS18, "quantize", 1, ANE_ERROR_TYPE_MISMATCH,
                             "input", ane_test_val (FP16, "[3, 4]"), "scale", ane_test_float (FP16, 0),
                             "output_dtype", ane_test_str ("int8"), NULL);
  assert_message (e3, "scale is 0");
  e4 = ane_test_infer_error (ANE_MIL_IOS17, "quantize", 1, ANE_ERROR_TYPE_MISMATCH,
                             "input", ane_test_val (FP32, "[3, 4]"), "scale", ane_test_float (FP32, 0.5),
                             "output_dtype", ane_test_str ("int16"), NULL);

  /* a vector scale along axis 1 (-1 too); scale's dtype */
  dq = ane_test_infer (ANE_MIL_IOS17, "dequantize", 1, "input", ane_test_val (I8, "[3, 4]"),
                       "scale", ane_test_const_val (FP16, "[4]"), "zero_point", ane_test_const_val (I8, "[4]"),
                       "axis", ane_test_ints ("-1"), NULL);
  ane_test_assert_type (dq, 0, "tensor<fp16, [3, 4]>");
  e5 = ane_test_infer_error (ANE_MIL_IOS17, "dequantize", 1, ANE_ERROR_TYPE_MISMATCH,
                             "input", ane_test_val (I8, "[3, 4]"), "scale", ane_test_const_val (FP16, "[4]"), NULL);
  assert_message (e5, "axis must be given");
}

static void
test_sdpa (void)
{
  g_autoptr(AneMilInferCall) a = NULL, m = NULL, sym = NULL;
  g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;

  a = ane_test_infer (ANE_MIL_IOS18, "scaled_dot_product_attention", 1,
                      "query", ane_test_val (FP16, "[1, 2, 5, 8]"), "key", ane_test_val (FP16, "[1, 2, 7, 8]"),
                      "value", ane_test_val (FP16, "[1, 2, 7, 3]"), NULL);
  ane_test_assert_type (a, 0, "tensor<fp16, [1, 2, 5, 3]>");
  m = ane_test_infer (ANE_MIL_IOS18, "scaled_dot_product_attention", 1,
                      "query", ane_test_val (FP32, "[1, 2, 5, 8]"), "key", ane_test_val (FP32, "[1, 2, 7, 8]"),
                      "value", ane_test_val (FP32, "[1, 2, 7, 3]"), "attn_mask", ane_test_val (BOOL, "[5, 7]"), NULL);
  ane_test_assert_type (m, 0, "tensor<fp32, [1, 2, 5, 3]>");
  /* a symbolic batch dimension skips the batch check */
  sym = ane_test_infer (ANE_MIL_IOS18, "scaled_dot_product_attention", 1,
                        "query", ane_test_val (FP16, "[?, 5, 8]"), "key", ane_test_val (FP16, "[2, 7, 8]"),
                        "value", ane_test_val (FP16, "[3, 7, 4]"), NULL);
  ane_test_assert_type (sym, 0, "tensor<fp16, [?, 5, 4]>");

  e1 = ane_test_infer_error (ANE_MIL_IOS18, "scaled_dot_product_attention", 1, ANE_ERROR_TYPE_MISMATCH,
                             "query", ane_test_val (FP16, "[1, 2, 5, 8]"), "key", ane_test_val (FP16, "[1, 2, 7, 8]"),
                             "value", ane_test_val (FP16, "[1, 2, 7, 3]"), "attn_mask", ane_test_val (BOOL, "[5, 6]"),
                             NULL);
  assert_message (e1, "sequence length");
  e2 = ane_test_infer_error (ANE_MIL_IOS18, "scaled_dot_product_attention", 1, ANE_ERROR_TYPE_MISMATCH,
                             "query", ane_test_val (FP16, "[5, 8]"), "key", ane_test_val (FP16, "[7, 8]"),
                             "value", ane_test_val (FP16, "[7, 3]"), NULL);
  assert_message (e2, "rank 3 or more");
  e3 = ane_test_infer_error (ANE_MIL_IOS18, "scaled_dot_product_attention", 1, ANE_ERROR_TYPE_MISMATCH,
                             "query", ane_test_val (FP16, "[1, 5, 8]"), "key", ane_test_val (FP16, "[1, 7, 4]"),
                             "value", ane_test_val (FP16, "[1, 7, 3]"), NULL);
  assert_message (e3, "embedding");
  e4 = ane_test_infer_error (ANE_MIL_IOS17, "scaled_dot_product_attention", 1, ANE_ERROR_UNSUPPORTED,
                             "query", ane_test_val (FP16, "[1, 5, 8]"), "key", ane_test_val (FP16, "[1, 7, 8]"),
                             "value", ane_test_val (FP16, "[1, 7, 3]"), NULL);
}

static void
test_states (void)
{
  g_autoptr(AneMilInferCall) r = NULL, w = NULL;
  g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;

  r = ane_test_infer (ANE_MIL_IOS18, "read_state", 1, "input", ane_test_state (FP16, "[2, 4]"), NULL);
  ane_test_assert_type (r, 0, "tensor<fp16, [2, 4]>");
  w = ane_test_infer (ANE_MIL_IOS18, "write_state", 0, "input", ane_test_state (FP16, "[2, 4]"),
                      "data", ane_test_val (FP16, "[2, 4]"), NULL);
  g_assert_cmpuint (ane_mil_infer_call_n_outputs (w), ==, 0);

  e1 = ane_test_infer_error (ANE_MIL_IOS18, "write_state", 0, ANE_ERROR_TYPE_MISMATCH,
                             "input", ane_test_state (FP16, "[2, 4]"), "data", ane_test_val (FP32, "[2, 4]"), NULL);
  assert_message (e1, "the state holds tensor<fp16, [2, 4]>");
  e2 = ane_test_infer_error (ANE_MIL_IOS18, "write_state", 0, ANE_ERROR_TYPE_MISMATCH,
                             "input", ane_test_state (FP16, "[2, 4]"), "data", ane_test_val (FP16, "[4]"), NULL);
  e3 = ane_test_infer_error (ANE_MIL_IOS18, "read_state", 1, ANE_ERROR_TYPE_MISMATCH,
                             "input", ane_test_val (FP16, "[2, 4]"), NULL);
  assert_message (e3, "takes a state");
  /* the dialect op never appears in a file */
  e4 = ane_test_infer_error (ANE_MIL_IOS18, "coreml_update_state", 1, ANE_ERROR_UNSUPPORTED,
                             "state", ane_test_state (FP16, "[2]"), "value", ane_test_val (FP16, "[2]"), NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/mil-infer/misc/const", test_const);
  g_test_add_func ("/ane/mil-infer/misc/select", test_select);
  g_test_add_func ("/ane/mil-infer/misc/control-flow", test_control_flow);
  g_test_add_func ("/ane/mil-infer/misc/constexpr-ios16", test_constexpr_ios16);
  g_test_add_func ("/ane/mil-infer/misc/constexpr-ios18", test_constexpr_ios18);
  g_test_add_func ("/ane/mil-infer/misc/quantize", test_quantize);
  g_test_add_func ("/ane/mil-infer/misc/sdpa", test_sdpa);
  g_test_add_func ("/ane/mil-infer/misc/states", test_states);
  return g_test_run ();
}
