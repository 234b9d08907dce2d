/* mil/ane-mil-opdefs.c: the MIL op signature table (see ane-mil-opdefs-private.h)
 *
 * Every row below was transcribed from the op class named in its source path
 * (relative to coremltools/converters/mil/ in apple/coremltools): the class's
 * InputSpec gives the parameters in order with their optional/const flags and
 * type domains, its type_domains gives the dtype sets, its type_inference the
 * outputs. A class that subclasses an older one without redefining
 * input_spec/type_domains inherits them; such rows say so in their notes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/ane-mil-opdefs-private.h"
#include "mil/infer/ane-mil-infer-rules-private.h"

/* --- row building blocks ------------------------------------------------ */

#define REQ(n, t)   { (n), FALSE, FALSE, (t), ANE_MIL_PARAM_TENSOR }
#define REQC(n, t)  { (n), FALSE, TRUE,  (t), ANE_MIL_PARAM_TENSOR }
#define OPT(n, t)   { (n), TRUE,  FALSE, (t), ANE_MIL_PARAM_TENSOR }
#define OPTC(n, t)  { (n), TRUE,  TRUE,  (t), ANE_MIL_PARAM_TENSOR }
#define TUPLE(n, t) { (n), FALSE, FALSE, (t), ANE_MIL_PARAM_TUPLE }
#define STATE(n)    { (n), FALSE, FALSE, NULL, ANE_MIL_PARAM_STATE }
#define ANY(n)      { (n), FALSE, FALSE, NULL, ANE_MIL_PARAM_ANY }
#define ANYC(n)     { (n), FALSE, TRUE,  NULL, ANE_MIL_PARAM_ANY }

#define PARAMS(...) ((const AneMilParamDef[]) { __VA_ARGS__, { NULL, FALSE, FALSE, NULL, 0 } })
#define STRS(...)   ((const char *const[]) { __VA_ARGS__, NULL })
#define NO_STRS     ((const char *const[]) { NULL })

#define I15 ANE_MIL_IOS15
#define I16 ANE_MIL_IOS16
#define I17 ANE_MIL_IOS17
#define I18 ANE_MIL_IOS18
#define CUR ANE_MIL_STILL_CURRENT
/* a row's type-inference rule (mil/infer/): ane_mil_infer_<op>_<first target> */
#define INFER(op, first) ane_mil_infer_##op##_##first

/* dtype sets that recur in the type_domains of many classes */
#define D_FP     "fp16|fp32"
#define D_FPI    "fp16|fp32|int32"
#define D_FPIB   "fp16|fp32|int32|bool"
#define D_FPI8   "fp16|fp32|int8|int16|int32|uint8|uint16"   /* iOS17 "more dtypes" */
#define D_FPI8B  D_FPI8 "|bool"
#define D_IDX8   "int8|int16|int32"                          /* iOS17 index domain U */

/* source files, relative to coremltools/converters/mil/ */
#define DEFS             "mil/ops/defs/"
#define S_BIN15          DEFS "iOS15/elementwise_binary.py"
#define S_UN15           DEFS "iOS15/elementwise_unary.py"
#define S_UN17           DEFS "iOS17/elementwise_unary.py"
#define S_ACT15          DEFS "iOS15/activation.py"
#define S_ACT17          DEFS "iOS17/activation.py"
#define S_LIN15          DEFS "iOS15/linear.py"
#define S_LIN17          DEFS "iOS17/linear.py"
#define S_NORM15         DEFS "iOS15/normalization.py"
#define S_NORM17         DEFS "iOS17/normalization.py"
#define S_CONV15         DEFS "iOS15/conv.py"
#define S_CONV17         DEFS "iOS17/conv.py"
#define S_POOL15         DEFS "iOS15/pool.py"
#define S_IMG15          DEFS "iOS15/image_resizing.py"
#define S_RED15          DEFS "iOS15/reduction.py"
#define S_RED17          DEFS "iOS17/reduction.py"
#define S_SG15           DEFS "iOS15/scatter_gather.py"
#define S_SG16           DEFS "iOS16/scatter_gather.py"
#define S_SG17           DEFS "iOS17/scatter_gather.py"
#define S_TOP15          DEFS "iOS15/tensor_operation.py"
#define S_TOP16          DEFS "iOS16/tensor_operation.py"
#define S_TOP17          DEFS "iOS17/tensor_operation.py"
#define S_TT15           DEFS "iOS15/tensor_transformation.py"
#define S_TT17           DEFS "iOS17/tensor_transformation.py"
#define S_TT18           DEFS "iOS18/tensor_transformation.py"
#define S_CF15           DEFS "iOS15/control_flow.py"
#define S_CX16           DEFS "iOS16/constexpr_ops.py"
#define S_Q17            DEFS "iOS17/quantization_ops.py"
#define S_CMP18          DEFS "iOS18/compression.py"
#define S_STATE18        DEFS "iOS18/states.py"
#define S_TRF18          DEFS "iOS18/transformers.py"
#define S_DIALECT        DEFS "coreml_dialect/ops.py"
#define S_LOAD           "backend/mil/load.py"

/* shared parameter lists */
static const AneMilParamDef p_x[]        = { REQ ("x", "T"), { NULL } };
static const AneMilParamDef p_xy[]       = { REQ ("x", "T"), REQ ("y", "T"), { NULL } };
static const AneMilParamDef p_x_alpha_T[] = { REQ ("x", "T"), REQC ("alpha", "T"), { NULL } };
static const AneMilParamDef p_x_alpha_U[] = { REQ ("x", "T"), REQC ("alpha", "U"), { NULL } };
static const AneMilParamDef p_x_ab_T[]   = { REQ ("x", "T"), REQC ("alpha", "T"), REQC ("beta", "T"), { NULL } };
static const AneMilParamDef p_x_ab_U[]   = { REQ ("x", "T"), REQC ("alpha", "U"), REQC ("beta", "U"), { NULL } };
static const AneMilParamDef p_x_eps_T[]  = { REQ ("x", "T"), OPTC ("epsilon", "T"), { NULL } };
static const AneMilParamDef p_x_eps_U[]  = { REQ ("x", "T"), OPTC ("epsilon", "U"), { NULL } };
static const AneMilParamDef p_reduce[]   = {
  REQ ("x", "T"), OPTC ("axes", "int32"), OPTC ("keep_dims", "bool"), { NULL } };
static const AneMilParamDef p_pool[]     = {
  REQ ("x", "T"), REQC ("kernel_sizes", "int32"), OPTC ("strides", "int32"),
  REQC ("pad_type", "str"), OPTC ("pad", "int32"), OPTC ("ceil_mode", "bool"), { NULL } };

/* shared domain lists */
static const char *const d_fp[]      = { "T=" D_FP, NULL };
static const char *const d_fpi[]     = { "T=" D_FPI, NULL };
static const char *const d_fpib[]    = { "T=" D_FPIB, NULL };
static const char *const d_fpi8b[]   = { "T=" D_FPI8B, NULL };
static const char *const d_bool[]    = { "T=bool", NULL };
static const char *const d_fp_fp[]   = { "T=" D_FP, "U=" D_FP, NULL };
static const char *const d_fpi8b_idx[] = { "T=" D_FPI8B, "U=" D_IDX8, NULL };

/* shared output lists */
static const char *const o_T[]     = { "T", NULL };
static const char *const o_bool[]  = { "bool", NULL };
static const char *const o_int32[] = { "int32", NULL };

#define N_ALPHA17 "iOS17: alpha may have another float dtype than x (domain U)."
#define N_AB17    "iOS17: alpha and beta may have another float dtype than x (domain U)."
#define N_EPS17   "iOS17: epsilon may have another float dtype than x (domain U)."
#define N_PAR17   "iOS17: the parameters other than x may have another float dtype than x (domain U)."
#define N_MORE17  "iOS17: x accepts int8, uint8, int16 and uint16 too."

static const AneMilOpDef opdefs[] = {
  /* --- elementwise binary (x, y of one domain, broadcasting) ------------ */
#define BINARY(nm, out) \
  { #nm, I15, CUR, p_xy, d_fpi, out, 0, S_BIN15, NULL, INFER (nm, ios15) }
  BINARY (add, o_T),
  BINARY (sub, o_T),
  BINARY (mul, o_T),
  BINARY (real_div, o_T),
  BINARY (floor_div, o_T),
  BINARY (maximum, o_T),
  BINARY (minimum, o_T),
  BINARY (pow, o_T),
  BINARY (mod, o_T),
  BINARY (equal, o_bool),
  BINARY (not_equal, o_bool),
  BINARY (less, o_bool),
  BINARY (less_equal, o_bool),
  BINARY (greater, o_bool),
  BINARY (greater_equal, o_bool),
#undef BINARY
  { "logical_and", I15, CUR, p_xy, d_bool, o_bool, 0, S_BIN15, NULL, INFER (logical_and, ios15) },
  { "logical_or",  I15, CUR, p_xy, d_bool, o_bool, 0, S_BIN15, NULL, INFER (logical_or, ios15) },
  { "logical_xor", I15, CUR, p_xy, d_bool, o_bool, 0, S_BIN15, NULL, INFER (logical_xor, ios15) },

  /* --- elementwise unary ------------------------------------------------ */
#define UNARY(nm, dom, src) { #nm, I15, CUR, p_x, dom, o_T, 0, src, NULL, INFER (nm, ios15) }
  UNARY (abs, d_fpi, S_UN15),
  UNARY (acos, d_fp, S_UN15),
  UNARY (asin, d_fp, S_UN15),
  UNARY (atan, d_fp, S_UN15),
  UNARY (atanh, d_fp, S_UN15),
  UNARY (ceil, d_fp, S_UN15),
  UNARY (cos, d_fp, S_UN15),
  UNARY (cosh, d_fp, S_UN15),
  UNARY (erf, d_fp, S_UN15),
  UNARY (exp, d_fp, S_UN15),
  UNARY (exp2, d_fpi, S_UN15),
  UNARY (floor, d_fp, S_UN15),
  UNARY (round, d_fp, S_UN15),
  UNARY (sign, d_fpi, S_UN15),
  UNARY (sin, d_fp, S_UN15),
  UNARY (sinh, d_fp, S_UN15),
  UNARY (sqrt, d_fp, S_UN15),
  UNARY (square, d_fpi, S_UN15),
  UNARY (tan, d_fp, S_UN15),
  UNARY (tanh, d_fp, S_UN15),
  UNARY (relu, d_fp, S_ACT15),
  UNARY (relu6, d_fp, S_ACT15),
  UNARY (sigmoid, d_fp, S_ACT15),
  UNARY (silu, d_fp, S_ACT15),
  UNARY (softplus, d_fp, S_ACT15),
  UNARY (softsign, d_fp, S_ACT15),
#undef UNARY
  { "logical_not", I15, CUR, PARAMS (REQ ("x", "bool")), NO_STRS, o_bool, 0, S_UN15, NULL, INFER (logical_not, ios15) },
  { "threshold", I15, CUR, p_x_alpha_T, d_fpi, o_T, 0, S_UN15, NULL, INFER (threshold, ios15) },
  { "clip", I15, I16, p_x_ab_T, d_fp, o_T, 0, S_UN15, NULL, INFER (clip, ios15) },
  { "clip", I17, CUR, p_x_ab_T, d_fp, o_T, 0, S_UN17,
    "iOS17 class: same parameters, but type inference rejects alpha >= beta.", INFER (clip, ios17) },
  { "inverse", I15, I16, p_x_eps_T, d_fp, o_T, 0, S_UN15, "epsilon defaults to 1e-4.", INFER (inverse, ios15) },
  { "inverse", I17, CUR, p_x_eps_U, d_fp_fp, o_T, 0, S_UN17, N_EPS17, INFER (inverse, ios17) },
  { "log", I15, I16, p_x_eps_T, d_fp, o_T, 0, S_UN15, "epsilon defaults to 1e-45.", INFER (log, ios15) },
  { "log", I17, CUR, p_x_eps_U, d_fp_fp, o_T, 0, S_UN17, N_EPS17, INFER (log, ios17) },
  { "rsqrt", I15, I16, p_x_eps_T, d_fp, o_T, 0, S_UN15, "epsilon defaults to 1e-12.", INFER (rsqrt, ios15) },
  { "rsqrt", I17, CUR, p_x_eps_U, d_fp_fp, o_T, 0, S_UN17, N_EPS17, INFER (rsqrt, ios17) },
  { "cast", I15, I16, PARAMS (REQ ("x", "T"), REQC ("dtype", "str")),
    STRS ("T=" D_FPIB), STRS ("(dtype)"), 0, S_UN15,
    "dtype is one of int32, fp16, fp32, bool; the output has that dtype.", INFER (cast, ios15) },
  { "cast", I17, CUR, PARAMS (REQ ("x", "T"), REQC ("dtype", "str")),
    STRS ("T=fp16|fp32|int8|uint8|int16|uint16|int32|bool"), STRS ("(dtype)"), 0, S_UN17,
    "iOS17: x and dtype may also be int8, uint8, int16, uint16.", INFER (cast, ios17) },

  /* --- activations ------------------------------------------------------- */
  { "gelu", I15, CUR, PARAMS (REQ ("x", "T"), OPTC ("mode", "str")), d_fp, o_T, 0, S_ACT15,
    "mode: EXACT (default), TANH_APPROXIMATION or SIGMOID_APPROXIMATION.", INFER (gelu, ios15) },
  { "softmax", I15, CUR, PARAMS (REQ ("x", "T"), OPTC ("axis", "int32")), d_fp, o_T, 0, S_ACT15,
    "axis defaults to -1.", INFER (softmax, ios15) },
#define ALPHA_OP(nm) \
  { #nm, I15, I16, p_x_alpha_T, d_fp, o_T, 0, S_ACT15, NULL, INFER (nm, ios15) }, \
  { #nm, I17, CUR, p_x_alpha_U, d_fp_fp, o_T, 0, S_ACT17, N_ALPHA17, INFER (nm, ios17) }
#define AB_OP(nm) \
  { #nm, I15, I16, p_x_ab_T, d_fp, o_T, 0, S_ACT15, NULL, INFER (nm, ios15) }, \
  { #nm, I17, CUR, p_x_ab_U, d_fp_fp, o_T, 0, S_ACT17, N_AB17, INFER (nm, ios17) }
  ALPHA_OP (elu),
  ALPHA_OP (leaky_relu),
  ALPHA_OP (prelu),
  ALPHA_OP (thresholded_relu),
  AB_OP (clamped_relu),
  AB_OP (linear_activation),
  AB_OP (scaled_tanh),
  AB_OP (sigmoid_hard),
  AB_OP (softplus_parametric),
#undef ALPHA_OP
#undef AB_OP

  /* --- linear algebra ---------------------------------------------------- */
  { "linear", I15, I16,
    PARAMS (REQ ("x", "T"), REQC ("weight", "T"), OPTC ("bias", "T")),
    d_fpi, o_T, 0, S_LIN15, "weight is [D_out, D_in]; bias defaults to zeros.", INFER (linear, ios15) },
  { "linear", I17, CUR,
    PARAMS (REQ ("x", "T"), REQC ("weight", "U"), OPTC ("bias", "U")),
    STRS ("T=" D_FPI, "U=" D_FPI), o_T, 0, S_LIN17,
    "iOS17: weight and bias may have another dtype than x (domain U).", INFER (linear, ios17) },
  { "matmul", I15, I16,
    PARAMS (REQ ("x", "T"), REQ ("y", "T"), OPTC ("transpose_x", "bool"), OPTC ("transpose_y", "bool")),
    d_fpi, o_T, 0, S_LIN15, NULL, INFER (matmul, ios15) },
  { "matmul", I17, CUR,
    PARAMS (REQ ("x", "T"), REQ ("y", "U"), OPTC ("transpose_x", "bool"), OPTC ("transpose_y", "bool")),
    STRS ("T=" D_FPI, "U=" D_FPI), o_T, 0, S_LIN17,
    "iOS17: x and y may differ in dtype when exactly one of them is a const; the "
    "output then has the dtype of the non-const one (T is shown).", INFER (matmul, ios17) },
  { "einsum", I15, CUR,
    PARAMS (TUPLE ("values", "T"), REQC ("equation", "str")),
    d_fp, o_T, 0, S_LIN15,
    "values is a tuple of two tensors (TupleInputType; T from the docstring). Only "
    "the equations nchw,nwhu->nchu and chw,whr->chr (and equivalents) are accepted.", INFER (einsum, ios15) },

  /* --- normalization ----------------------------------------------------- */
  { "batch_norm", I15, I16,
    PARAMS (REQ ("x", "T"), REQC ("mean", "T"), REQC ("variance", "T"), OPTC ("gamma", "T"),
            OPTC ("beta", "T"), OPTC ("epsilon", "T")),
    d_fp, o_T, 0, S_NORM15, "epsilon defaults to 1e-5.", INFER (batch_norm, ios15) },
  { "batch_norm", I17, CUR,
    PARAMS (REQ ("x", "T"), REQC ("mean", "U"), REQC ("variance", "U"), OPTC ("gamma", "U"),
            OPTC ("beta", "U"), OPTC ("epsilon", "U")),
    d_fp_fp, o_T, 0, S_NORM17, N_PAR17, INFER (batch_norm, ios17) },
  { "instance_norm", I15, I16,
    PARAMS (REQ ("x", "T"), OPTC ("gamma", "T"), OPTC ("beta", "T"), OPTC ("epsilon", "T")),
    d_fp, o_T, 0, S_NORM15, NULL, INFER (instance_norm, ios15) },
  { "instance_norm", I17, CUR,
    PARAMS (REQ ("x", "T"), OPTC ("gamma", "U"), OPTC ("beta", "U"), OPTC ("epsilon", "U")),
    d_fp_fp, o_T, 0, S_NORM17, N_PAR17, INFER (instance_norm, ios17) },
  { "l2_norm", I15, I16, p_x_eps_T, d_fp, o_T, 0, S_NORM15, "epsilon defaults to 1e-6.", INFER (l2_norm, ios15) },
  { "l2_norm", I17, CUR, p_x_eps_U, d_fp_fp, o_T, 0, S_NORM17, N_EPS17, INFER (l2_norm, ios17) },
  { "layer_norm", I15, I16,
    PARAMS (REQ ("x", "T"), OPTC ("axes", "int32"), OPTC ("gamma", "T"), OPTC ("beta", "T"),
            OPTC ("epsilon", "T")),
    d_fp, o_T, 0, S_NORM15, "axes defaults to all axes; epsilon to 1e-5.", INFER (layer_norm, ios15) },
  { "layer_norm", I17, CUR,
    PARAMS (REQ ("x", "T"), OPTC ("axes", "int32"), OPTC ("gamma", "U"), OPTC ("beta", "U"),
            OPTC ("epsilon", "U")),
    d_fp_fp, o_T, 0, S_NORM17, "iOS17: gamma, beta and epsilon may have another float dtype than x (domain U).", INFER (layer_norm, ios17) },
  { "local_response_norm", I15, I16,
    PARAMS (REQ ("x", "T"), REQC ("size", "int32"), OPTC ("alpha", "T"), OPTC ("beta", "T"),
            OPTC ("k", "T")),
    d_fp, o_T, 0, S_NORM15, NULL, INFER (local_response_norm, ios15) },
  { "local_response_norm", I17, CUR,
    PARAMS (REQ ("x", "T"), REQC ("size", "int32"), OPTC ("alpha", "U"), OPTC ("beta", "U"),
            OPTC ("k", "U")),
    d_fp_fp, o_T, 0, S_NORM17, "iOS17: alpha, beta and k may have another float dtype than x (domain U).", INFER (local_response_norm, ios17) },

  /* --- convolution and pooling ------------------------------------------- */
  { "conv", I15, I16,
    PARAMS (REQ ("x", "T"), REQ ("weight", "T"), OPTC ("bias", "T"), OPTC ("strides", "int32"),
            OPTC ("pad_type", "str"), OPTC ("pad", "int32"), OPTC ("dilations", "int32"),
            OPTC ("groups", "int32")),
    d_fp, o_T, 0, S_CONV15,
    "weight is [C_out, C_in/groups, *K] and need not be const (a non-const weight "
    "allows no dilation > 1); pad_type valid (default), same, custom or same_lower "
    "(same_lower is refused at iOS15); pad is used only with custom.", INFER (conv, ios15) },
  { "conv", I17, CUR,
    PARAMS (REQ ("x", "T"), REQ ("weight", "U"), OPT ("bias", "U"), OPTC ("strides", "int32"),
            OPTC ("pad_type", "str"), OPTC ("pad", "int32"), OPTC ("dilations", "int32"),
            OPTC ("groups", "int32")),
    d_fp_fp, o_T, 0, S_CONV17,
    "iOS17: weight and bias may have another float dtype than x (domain U); bias "
    "no longer has to be const.", INFER (conv, ios17) },
  { "conv_transpose", I15, I16,
    PARAMS (REQ ("x", "T"), REQC ("weight", "T"), OPTC ("bias", "T"), OPTC ("pad", "int32"),
            OPTC ("output_shape", "int32"), OPTC ("pad_type", "str"), OPTC ("strides", "int32"),
            OPTC ("dilations", "int32"), OPTC ("groups", "int32")),
    d_fp, o_T, 0, S_CONV15, "weight is [C_in, C_out/groups, *K]; pad_type valid (default), same or custom.", INFER (conv_transpose, ios15) },
  { "conv_transpose", I17, CUR,
    PARAMS (REQ ("x", "T"), REQ ("weight", "U"), OPT ("bias", "U"), OPTC ("pad", "int32"),
            OPTC ("output_shape", "int32"), OPTC ("pad_type", "str"), OPTC ("strides", "int32"),
            OPTC ("dilations", "int32"), OPTC ("groups", "int32")),
    d_fp_fp, o_T, 0, S_CONV17,
    "iOS17: weight and bias may have another float dtype than x (domain U) and need not be const.", INFER (conv_transpose, ios17) },
  { "avg_pool", I15, CUR,
    PARAMS (OPTC ("exclude_padding_from_average", "bool"), REQ ("x", "T"),
            REQC ("kernel_sizes", "int32"), OPTC ("strides", "int32"), REQC ("pad_type", "str"),
            OPTC ("pad", "int32"), OPTC ("ceil_mode", "bool")),
    d_fp, o_T, 0, S_POOL15,
    "InputSpec order puts exclude_padding_from_average first (it is prepended to the "
    "shared pooling spec). pad_type valid, same, custom or same_lower (not at iOS15).", INFER (avg_pool, ios15) },
  { "max_pool", I15, CUR, p_pool, d_fp, o_T, 0, S_POOL15, NULL, INFER (max_pool, ios15) },
  { "l2_pool", I15, CUR, p_pool, d_fp, o_T, 0, S_POOL15, "1-D and 2-D only.", INFER (l2_pool, ios15) },
  { "upsample_nearest_neighbor", I15, CUR,
    PARAMS (REQ ("x", "T"), OPTC ("scale_factor_height", "U"), OPTC ("scale_factor_width", "U")),
    STRS ("T=" D_FP, "U=fp32|int32"), o_T, 0, S_IMG15,
    "Scales the last two axes; both factors default to 1 and share domain U.", INFER (upsample_nearest_neighbor, ios15) },

  /* --- reductions -------------------------------------------------------- */
#define REDUCE(nm) { #nm, I15, CUR, p_reduce, d_fpi, o_T, 0, S_RED15, NULL, INFER (nm, ios15) }
  REDUCE (reduce_l1_norm),
  REDUCE (reduce_l2_norm),
  REDUCE (reduce_log_sum),
  REDUCE (reduce_log_sum_exp),
  REDUCE (reduce_max),
  REDUCE (reduce_mean),
  REDUCE (reduce_min),
  REDUCE (reduce_prod),
  REDUCE (reduce_sum),
  REDUCE (reduce_sum_square),
#undef REDUCE
#define REDUCE_ARG(nm) \
  { #nm, I15, I16, PARAMS (REQ ("x", "T"), OPTC ("axis", "int32"), OPTC ("keep_dims", "bool")), \
    d_fpi, o_int32, 0, S_RED15, "axis defaults to -1.", INFER (nm, ios15) }, \
  { #nm, I17, CUR, PARAMS (REQ ("x", "T"), OPTC ("axis", "int32"), OPTC ("keep_dims", "bool"), \
                          OPTC ("output_dtype", "str")), \
    d_fpi, STRS ("int32|uint16"), 0, S_RED17, \
    "iOS17: new output_dtype (int32 by default, or uint16) sets the output dtype.", INFER (nm, ios17) }
  REDUCE_ARG (reduce_argmax),
  REDUCE_ARG (reduce_argmin),
#undef REDUCE_ARG

  /* --- gather / scatter -------------------------------------------------- */
  { "gather", I15, I15,
    PARAMS (REQ ("x", "T"), REQ ("indices", "int32"), OPTC ("axis", "int32")),
    d_fpi, o_T, 0, S_SG15, NULL, INFER (gather, ios15) },
  { "gather", I16, I16,
    PARAMS (REQ ("x", "T"), REQ ("indices", "I"), OPTC ("axis", "int32"), OPTC ("batch_dims", "int32")),
    STRS ("T=" D_FPI, "I=int32|uint16|int16"), o_T, 0, S_SG16,
    "iOS16: new batch_dims; indices may be int16 or uint16.", INFER (gather, ios16) },
  { "gather", I17, CUR,
    PARAMS (REQ ("x", "T"), REQ ("indices", "I"), OPTC ("axis", "int32"), OPTC ("batch_dims", "int32"),
            OPTC ("validate_indices", "bool")),
    STRS ("T=fp16|fp32|int32|int16|uint16|int8|uint8", "I=int32|int16|uint16|int8|uint8"), o_T, 0, S_SG17,
    "iOS17: new validate_indices; negative indices are out of bounds; x and indices accept 8-bit dtypes.", INFER (gather, ios17) },
  { "gather_along_axis", I15, I15,
    PARAMS (REQ ("x", "T"), REQ ("indices", "int32"), OPTC ("axis", "int32")),
    d_fpi, o_T, 0, S_SG15, NULL, INFER (gather_along_axis, ios15) },
  { "gather_along_axis", I16, I16,
    PARAMS (REQ ("x", "T"), REQ ("indices", "I"), OPTC ("axis", "int32")),
    STRS ("T=" D_FPI, "I=int32|uint16|int16"), o_T, 0, S_SG16,
    "iOS16: indices may be int16 or uint16 (this iOS16 class exists in current coremltools only).", INFER (gather_along_axis, ios16) },
  { "gather_along_axis", I17, CUR,
    PARAMS (REQ ("x", "T"), REQ ("indices", "I"), OPTC ("axis", "int32"), OPTC ("validate_indices", "bool")),
    STRS ("T=fp16|fp32|int32|int16|uint16|int8|uint8", "I=int32|int16|uint16|int8|uint8"), o_T, 0, S_SG17,
    "iOS17: new validate_indices; x and indices accept 8-bit dtypes.", INFER (gather_along_axis, ios17) },
  { "gather_nd", I15, I15,
    PARAMS (REQ ("x", "T"), REQ ("indices", "int32")),
    d_fpi, o_T, 0, S_SG15, NULL, INFER (gather_nd, ios15) },
  { "gather_nd", I16, I16,
    PARAMS (REQ ("x", "T"), REQ ("indices", "I"), OPTC ("batch_dims", "int32")),
    STRS ("T=" D_FPI, "I=int32|uint16|int16"), o_T, 0, S_SG16,
    "iOS16: new batch_dims; indices may be int16 or uint16.", INFER (gather_nd, ios16) },
  { "gather_nd", I17, CUR,
    PARAMS (REQ ("x", "T"), REQ ("indices", "I"), OPTC ("batch_dims", "int32"), OPTC ("validate_indices", "bool")),
    STRS ("T=fp16|fp32|int32|int16|uint16|int8|uint8", "I=int32|int16|uint16|int8|uint8"), o_T, 0, S_SG17,
    "iOS17: new validate_indices; x and indices accept 8-bit dtypes.", INFER (gather_nd, ios17) },
  { "scatter", I15, I16,
    PARAMS (REQ ("data", "T"), REQ ("indices", "int32"), REQ ("updates", "T"), OPTC ("axis", "int32"),
            OPTC ("mode", "str")),
    d_fpi, o_T, 0, S_SG15, "mode: update, add (default), sub, mul, div, max, min.", INFER (scatter, ios15) },
  { "scatter", I17, CUR,
    PARAMS (REQ ("data", "T"), REQ ("indices", "int32"), REQ ("updates", "T"), OPTC ("axis", "int32"),
            OPTC ("mode", "str"), OPTC ("validate_indices", "bool")),
    d_fpi, o_T, 0, S_SG17, "iOS17: new validate_indices; negative indices are out of bounds (T inherited).", INFER (scatter, ios17) },
  { "scatter_along_axis", I15, I16,
    PARAMS (REQ ("data", "T"), REQ ("indices", "int32"), REQ ("updates", "T"), OPTC ("axis", "int32"),
            OPTC ("mode", "str")),
    d_fpi, o_T, 0, S_SG15, NULL, INFER (scatter_along_axis, ios15) },
  { "scatter_along_axis", I17, CUR,
    PARAMS (REQ ("data", "T"), REQ ("indices", "int32"), REQ ("updates", "T"), OPTC ("axis", "int32"),
            OPTC ("mode", "str"), OPTC ("validate_indices", "bool")),
    d_fpi, o_T, 0, S_SG17, "iOS17: new validate_indices (T inherited).", INFER (scatter_along_axis, ios17) },
  { "scatter_nd", I15, I16,
    PARAMS (REQ ("data", "T"), REQ ("indices", "int32"), REQ ("updates", "T"), OPTC ("mode", "str")),
    d_fpi, o_T, 0, S_SG15, NULL, INFER (scatter_nd, ios15) },
  { "scatter_nd", I17, CUR,
    PARAMS (REQ ("data", "T"), REQ ("indices", "int32"), REQ ("updates", "T"), OPTC ("mode", "str"),
            OPTC ("validate_indices", "bool")),
    d_fpi, o_T, 0, S_SG17, "iOS17: new validate_indices (T inherited).", INFER (scatter_nd, ios17) },

  /* --- tensor operations ------------------------------------------------- */
  { "argsort", I15, CUR,
    PARAMS (REQ ("x", "T"), OPTC ("axis", "int32"), OPTC ("ascending", "bool")),
    d_fpi, o_int32, 0, S_TOP15, NULL, INFER (argsort, ios15) },
  { "band_part", I15, CUR,
    PARAMS (REQ ("x", "T"), OPTC ("lower", "int32"), OPTC ("upper", "int32")),
    d_fpib, o_T, 0, S_TOP15, "lower and upper default to -1 (keep the whole triangle).", INFER (band_part, ios15) },
  { "concat", I15, CUR,
    PARAMS (TUPLE ("values", "T"), REQC ("axis", "int32"), OPTC ("interleave", "bool")),
    d_fpib, o_T, 0, S_TOP15,
    "values is a tuple (TupleInputType) of tensors of one dtype; T from the docstring.", INFER (concat, ios15) },
  { "cumsum", I15, CUR,
    PARAMS (REQ ("x", "T"), OPTC ("axis", "int32"), OPTC ("exclusive", "bool"), OPTC ("reverse", "bool")),
    d_fpi, o_T, 0, S_TOP15, NULL, INFER (cumsum, ios15) },
  { "fill", I15, CUR,
    PARAMS (REQ ("shape", "int32"), OPTC ("value", "T")),
    d_fpib, o_T, 0, S_TOP15, "shape need not be const; value defaults to 0.0.", INFER (fill, ios15) },
  { "fill_like", I16, CUR,
    PARAMS (REQ ("ref_tensor", "T"), OPTC ("value", "U")),
    STRS ("T=" D_FPIB, "U=" D_FPIB), STRS ("U"), 0, S_TOP16, "The output has value's dtype.", INFER (fill_like, ios16) },
  { "flatten2d", I15, CUR,
    PARAMS (REQ ("x", "T"), OPTC ("axis", "int32")),
    d_fpib, o_T, 0, S_TOP15, NULL, INFER (flatten2d, ios15) },
  { "identity", I15, CUR,
    PARAMS (ANY ("x")),
    NO_STRS, STRS ("(type of x)"), 0, S_TOP15,
    "x is a ListOrTensorOrDictInputType (not dtype-checked).", INFER (identity, ios15) },
  { "non_maximum_suppression", I15, I16,
    PARAMS (REQ ("boxes", "T"), REQ ("scores", "T"), REQC ("iou_threshold", "T"),
            REQC ("score_threshold", "T"), REQC ("max_boxes", "int32"),
            OPTC ("per_class_suppression", "bool")),
    d_fp, STRS ("T", "T", "int32", "int32"), 0, S_TOP15, NULL, INFER (non_maximum_suppression, ios15) },
  { "non_maximum_suppression", I17, CUR,
    PARAMS (REQ ("boxes", "T"), REQ ("scores", "T"), REQC ("iou_threshold", "T"),
            REQC ("max_boxes", "int32"), OPTC ("per_class_suppression", "bool")),
    d_fp, STRS ("T", "T", "int32"), 0, S_TOP17,
    "iOS17: score_threshold removed, boxes are [n, 4, B], the box-count output is gone.", INFER (non_maximum_suppression, ios17) },
  { "non_zero", I15, CUR, p_x, d_fpib, o_int32, 0, S_TOP15, "Output is [N, rank(x)].", INFER (non_zero, ios15) },
  { "one_hot", I15, CUR,
    PARAMS (REQ ("indices", "int32"), REQ ("one_hot_vector_size", "int32"), OPTC ("axis", "int32"),
            OPTC ("on_value", "T"), OPTC ("off_value", "T")),
    d_fpib, o_T, 0, S_TOP15, "one_hot_vector_size need not be const.", INFER (one_hot, ios15) },
  { "pad", I15, CUR,
    PARAMS (REQ ("x", "T"), REQ ("pad", "int32"), OPTC ("mode", "str"), OPTC ("constant_val", "T")),
    d_fp, o_T, 0, S_TOP15,
    "mode: constant (default), reflect or replicate; a non-const pad must have 2*rank(x) entries.", INFER (pad, ios15) },
  { "range_1d", I15, CUR,
    PARAMS (REQ ("end", "T"), REQ ("start", "T"), REQ ("step", "T")),
    d_fpi, o_T, 0, S_TOP15, "InputSpec order is end, start, step.", INFER (range_1d, ios15) },
  { "shape", I15, CUR, p_x, d_fpib, o_int32, 0, S_TOP15, NULL, INFER (shape, ios15) },
  { "split", I15, CUR,
    PARAMS (REQ ("x", "T"), OPTC ("num_splits", "int32"), OPTC ("split_sizes", "int32"),
            REQC ("axis", "int32")),
    d_fpib, o_T, ANE_MIL_OPDEF_VARIADIC_OUTPUTS, S_TOP15,
    "At least one of num_splits and split_sizes must be given; one output per split.", INFER (split, ios15) },
  { "stack", I15, CUR,
    PARAMS (TUPLE ("values", "T"), REQC ("axis", "int32")),
    d_fpib, o_T, 0, S_TOP15, "values is a tuple of same-shape tensors; T from the docstring.", INFER (stack, ios15) },
  { "tile", I15, CUR,
    PARAMS (REQ ("x", "T"), REQ ("reps", "int32")),
    d_fpib, o_T, 0, S_TOP15, "reps need not be const.", INFER (tile, ios15) },
  { "topk", I15, I15,
    PARAMS (REQ ("x", "T"), OPTC ("k", "int32"), OPTC ("axis", "int32"), OPTC ("ascending", "bool")),
    d_fpi, STRS ("T", "int32"), 0, S_TOP15, "k defaults to 1, axis to -1.", INFER (topk, ios15) },
  { "topk", I16, I16,
    PARAMS (REQ ("x", "T"), OPTC ("k", "int32"), OPTC ("axis", "int32"), OPTC ("ascending", "bool"),
            OPTC ("sort", "bool"), OPTC ("return_indices", "bool")),
    d_fpi, STRS ("T", "?int32"), 0, S_TOP16,
    "iOS16: new sort and return_indices (both default true); the indices output only "
    "exists when return_indices is true (T inherited from iOS15).", INFER (topk, ios16) },
  { "topk", I17, CUR,
    PARAMS (REQ ("x", "T"), OPTC ("k", "K"), OPTC ("axis", "int32"), OPTC ("ascending", "bool"),
            OPTC ("sort", "bool"), OPTC ("return_indices", "bool"), OPTC ("output_indices_dtype", "str")),
    STRS ("T=" D_FPI8, "K=" D_IDX8), STRS ("T", "?int32|uint16"), 0, S_TOP17,
    "iOS17: new output_indices_dtype (int32 default, or uint16, only with return_indices); "
    "x accepts 8/16-bit integers; k may be int8 or int16; k = -1 selects all.", INFER (topk, ios17) },

  /* --- tensor transformations -------------------------------------------- */
  { "depth_to_space", I15, CUR,
    PARAMS (REQ ("x", "T"), REQC ("block_size", "int32")),
    d_fp, o_T, 0, S_TT15, NULL, INFER (depth_to_space, ios15) },
  { "space_to_depth", I15, CUR,
    PARAMS (REQ ("x", "T"), REQC ("block_size", "int32")),
    d_fp, o_T, 0, S_TT15, NULL, INFER (space_to_depth, ios15) },
  { "pixel_shuffle", I15, CUR,
    PARAMS (REQ ("x", "T"), REQC ("upscale_factor", "int32")),
    d_fp, o_T, 0, S_TT15, NULL, INFER (pixel_shuffle, ios15) },
  { "expand_dims", I15, I16,
    PARAMS (REQ ("x", "T"), REQC ("axes", "int32")),
    d_fpib, o_T, 0, S_TT15, NULL, INFER (expand_dims, ios15) },
  { "expand_dims", I17, CUR,
    PARAMS (REQ ("x", "T"), REQC ("axes", "int32")),
    d_fpi8b, o_T, 0, S_TT17, N_MORE17, INFER (expand_dims, ios17) },
  { "reshape", I15, I16,
    PARAMS (REQ ("x", "T"), REQ ("shape", "int32")),
    d_fpib, o_T, 0, S_TT15,
    "shape need not be const; a 0 in shape copies x's dimension only when len(shape) == rank(x).", INFER (reshape, ios15) },
  { "reshape", I17, CUR,
    PARAMS (REQ ("x", "T"), REQ ("shape", "U")),
    d_fpi8b_idx, o_T, 0, S_TT17,
    "iOS17: 0 in shape matches x's dimensions from the right (1 when out of range); x "
    "accepts 8/16-bit integers; shape may be int8 or int16.", INFER (reshape, ios17) },
  { "reverse", I15, I16,
    PARAMS (REQ ("x", "T"), OPTC ("axes", "int32")),
    d_fpib, o_T, 0, S_TT15, NULL, INFER (reverse, ios15) },
  { "reverse", I17, CUR,
    PARAMS (REQ ("x", "T"), OPTC ("axes", "int32")),
    d_fpi8b, o_T, 0, S_TT17, N_MORE17, INFER (reverse, ios17) },
  { "reverse_sequence", I15, I16,
    PARAMS (REQ ("x", "T"), REQ ("lengths", "int32"), OPTC ("seq_axis", "int32"), OPTC ("batch_axis", "int32")),
    d_fpib, o_T, 0, S_TT15, NULL, INFER (reverse_sequence, ios15) },
  { "reverse_sequence", I17, CUR,
    PARAMS (REQ ("x", "T"), REQ ("lengths", "U"), OPTC ("seq_axis", "int32"), OPTC ("batch_axis", "int32")),
    d_fpi8b_idx, o_T, 0, S_TT17, "iOS17: x accepts 8/16-bit integers; lengths may be int8 or int16.", INFER (reverse_sequence, ios17) },
  { "slice_by_index", I15, I16,
    PARAMS (REQ ("x", "T"), REQ ("begin", "int32"), REQ ("end", "int32"), OPTC ("stride", "int32"),
            OPTC ("begin_mask", "bool"), OPTC ("end_mask", "bool"), OPTC ("squeeze_mask", "bool")),
    d_fpib, o_T, 0, S_TT15, "begin and end need not be const.", INFER (slice_by_index, ios15) },
  { "slice_by_index", I17, CUR,
    PARAMS (REQ ("x", "T"), REQ ("begin", "U"), REQ ("end", "U"), OPTC ("stride", "U"),
            OPTC ("begin_mask", "bool"), OPTC ("end_mask", "bool"), OPTC ("squeeze_mask", "bool")),
    d_fpi8b_idx, o_T, 0, S_TT17,
    "iOS17: x accepts 8/16-bit integers; begin, end and stride share domain U (int8, int16, int32).", INFER (slice_by_index, ios17) },
  { "slice_by_size", I15, I16,
    PARAMS (REQ ("x", "T"), REQ ("begin", "int32"), REQ ("size", "int32")),
    d_fpib, o_T, 0, S_TT15, "size -1 takes the rest of the axis.", INFER (slice_by_size, ios15) },
  { "slice_by_size", I17, CUR,
    PARAMS (REQ ("x", "T"), REQ ("begin", "U"), REQ ("size", "U")),
    d_fpi8b_idx, o_T, 0, S_TT17, "iOS17: x accepts 8/16-bit integers; begin and size may be int8 or int16.", INFER (slice_by_size, ios17) },
  { "slice_update", I18, CUR,
    PARAMS (REQ ("x", "T"), REQ ("update", "T"), REQ ("begin", "U"), REQ ("end", "U"), OPTC ("stride", "U"),
            OPTC ("begin_mask", "bool"), OPTC ("end_mask", "bool"), OPTC ("squeeze_mask", "bool")),
    d_fpi8b_idx, o_T, 0, S_TT18, "New at iOS18; a rank-0 update is refused.", INFER (slice_update, ios18) },
  { "sliding_windows", I15, I16,
    PARAMS (REQ ("x", "T"), REQC ("axis", "int32"), REQC ("size", "int32"), OPTC ("stride", "int32")),
    d_fpi, o_T, 0, S_TT15, NULL, INFER (sliding_windows, ios15) },
  { "sliding_windows", I17, CUR,
    PARAMS (REQ ("x", "T"), REQC ("axis", "int32"), REQC ("size", "int32"), OPTC ("stride", "int32")),
    d_fpi8b, o_T, 0, S_TT17, "iOS17: x accepts int8, uint8, int16, uint16 and bool too.", INFER (sliding_windows, ios17) },
  { "squeeze", I15, I16,
    PARAMS (REQ ("x", "T"), OPTC ("axes", "int32")),
    d_fpib, o_T, 0, S_TT15, NULL, INFER (squeeze, ios15) },
  { "squeeze", I17, CUR,
    PARAMS (REQ ("x", "T"), OPTC ("axes", "int32")),
    d_fpi8b, o_T, 0, S_TT17, N_MORE17, INFER (squeeze, ios17) },
  { "transpose", I15, I16,
    PARAMS (REQ ("x", "T"), REQC ("perm", "int32")),
    d_fpib, o_T, 0, S_TT15, NULL, INFER (transpose, ios15) },
  { "transpose", I17, CUR,
    PARAMS (REQ ("x", "T"), REQC ("perm", "int32")),
    d_fpi8b, o_T, 0, S_TT17, N_MORE17, INFER (transpose, ios17) },

  /* --- control flow and constants ---------------------------------------- */
  { "const", I15, CUR,
    PARAMS (ANYC ("val")),
    NO_STRS, STRS ("(type of val)"), ANE_MIL_OPDEF_PARAMS_AS_ATTRIBUTES, S_CF15,
    "val is an attribute (InternalInputType, not dtype-checked; the docstring lists "
    "fp16, fp32, int32, str, bool).", INFER (const, ios15) },
  { "select", I15, CUR,
    PARAMS (REQ ("cond", "bool"), REQ ("a", "T"), REQ ("b", "T")),
    STRS ("T=fp16|fp32|bool|int32"), o_T, 0, S_CF15,
    "The docstring calls a and b optional, but the InputSpec requires both.", INFER (select, ios15) },
  { "cond", I15, CUR,
    PARAMS (REQ ("pred", "bool")),
    NO_STRS, STRS ("(outputs of the taken branch)"),
    ANE_MIL_OPDEF_VARIADIC_OUTPUTS | ANE_MIL_OPDEF_HAS_BLOCKS, S_CF15,
    "The two branches are nested blocks; pymil's _true_fn/_false_fn are not serialized.", INFER (cond, ios15) },
  { "while_loop", I15, CUR,
    PARAMS (TUPLE ("loop_vars", NULL)),
    NO_STRS, STRS ("(types of loop_vars)"),
    ANE_MIL_OPDEF_VARIADIC_OUTPUTS | ANE_MIL_OPDEF_HAS_BLOCKS, S_CF15,
    "cond and body are nested blocks; pymil's _cond/_body are not serialized.", INFER (while_loop, ios15) },

  /* --- compile-time compression (constexpr) ------------------------------ */
  { "constexpr_affine_dequantize", I16, CUR,
    PARAMS (REQC ("quantized_data", "SrcT"), REQC ("zero_point", "ZeroPointT"), REQC ("scale", "DstT"),
            REQC ("axis", "int32")),
    STRS ("SrcT=uint8|int8", "ZeroPointT=uint8|int8|fp32", "DstT=fp16|fp32"), STRS ("DstT"),
    ANE_MIL_OPDEF_PARAMS_AS_ATTRIBUTES, S_CX16,
    "out = scale * (quantized_data - zero_point) along axis. Older coremltools allowed "
    "only uint8|int8 zero points. An iOS16 class, so its parameters are written as "
    "attributes in every program.", INFER (constexpr_affine_dequantize, ios16) },
  { "constexpr_cast", I16, I17,
    PARAMS (REQC ("source_val", "fp16"), REQC ("output_dtype", "str")),
    NO_STRS, STRS ("fp32"), ANE_MIL_OPDEF_PARAMS_AS_ATTRIBUTES, S_CX16,
    "output_dtype must be fp32.", INFER (constexpr_cast, ios16) },
  { "constexpr_cast", I18, CUR,
    PARAMS (REQC ("source_val", "fp16"), REQC ("output_dtype", "str")),
    NO_STRS, STRS ("fp32"), 0, S_CMP18,
    "iOS18: same parameters, written as inputs instead of attributes.", INFER (constexpr_cast, ios18) },
  { "constexpr_lut_to_dense", I16, I17,
    PARAMS (REQC ("indices", "uint8"), REQC ("lut", "T"), REQC ("shape", "uint32")),
    STRS ("T=int8|uint8|fp16|fp32"), o_T, ANE_MIL_OPDEF_PARAMS_AS_ATTRIBUTES, S_CX16,
    "indices are bit-packed into a flat uint8 vector; lut has 2, 4, 16, 64 or 256 entries.", INFER (constexpr_lut_to_dense, ios16) },
  { "constexpr_lut_to_dense", I18, CUR,
    PARAMS (REQC ("indices", "IndicesT"), REQC ("lut", "T"), OPTC ("vector_axis", "int32")),
    STRS ("IndicesT=uint1|uint2|uint3|uint4|uint6|uint8", "T=int8|uint8|fp16|fp32"), o_T, 0, S_CMP18,
    "iOS18: indices keep their shape in a sub-byte dtype; lut is [*groups, 2^nbits, "
    "VECTOR_SIZE] (per-group tables); shape is gone; new vector_axis; parameters are inputs.", INFER (constexpr_lut_to_dense, ios18) },
  { "constexpr_sparse_to_dense", I16, I17,
    PARAMS (REQC ("nonzero_data", "T"), REQC ("mask", "uint8"), REQC ("shape", "uint32")),
    STRS ("T=int8|uint8|fp16|fp32"), o_T, ANE_MIL_OPDEF_PARAMS_AS_ATTRIBUTES, S_CX16, NULL, INFER (constexpr_sparse_to_dense, ios16) },
  { "constexpr_sparse_to_dense", I18, CUR,
    PARAMS (REQC ("nonzero_data", "T"), REQC ("mask", "uint1")),
    STRS ("T=int4|uint4|int8|uint8|fp16|fp32"), o_T, 0, S_CMP18,
    "iOS18: mask is a shaped uint1 tensor; shape is gone; 4-bit data; parameters are inputs.", INFER (constexpr_sparse_to_dense, ios18) },
  { "constexpr_blockwise_shift_scale", I18, CUR,
    PARAMS (REQC ("data", "SrcT"), REQC ("scale", "DstT"), OPTC ("offset", "OffsetT")),
    STRS ("SrcT=int4|uint4|int8|uint8|fp16|fp32", "DstT=fp16|fp32",
          "OffsetT=int4|uint4|int8|uint8|fp16|fp32"),
    STRS ("DstT"), 0, S_CMP18,
    "New at iOS18: out = scale * (data - offset) per block, block size = "
    "data.shape / scale.shape; an integer offset must have data's dtype.", INFER (constexpr_blockwise_shift_scale, ios18) },
  { "constexpr_lut_to_sparse", I18, CUR,
    PARAMS (REQC ("indices_mask", "uint1"), REQC ("indices_nonzero_data", "IndicesT"),
            REQC ("lut", "T"), OPTC ("vector_axis", "int32")),
    STRS ("IndicesT=uint1|uint2|uint3|uint4|uint6|uint8", "T=int8|uint8|fp16|fp32"),
    STRS ("uint1", "T"), 0, S_CMP18, "New at iOS18: outputs the mask and the nonzero values.", INFER (constexpr_lut_to_sparse, ios18) },
  { "constexpr_sparse_blockwise_shift_scale", I18, CUR,
    PARAMS (REQC ("data_mask", "uint1"), REQC ("nonzero_data", "SrcT"), REQC ("scale", "DstT"),
            OPTC ("offset", "OffsetT")),
    STRS ("SrcT=int4|uint4|int8|uint8|fp16|fp32", "DstT=fp16|fp32",
          "OffsetT=int4|uint4|int8|uint8|fp16|fp32"),
    STRS ("uint1", "DstT"), 0, S_CMP18, "New at iOS18: outputs the mask and the nonzero values.", INFER (constexpr_sparse_blockwise_shift_scale, ios18) },

  /* --- activation quantization ------------------------------------------- */
  { "quantize", I17, CUR,
    PARAMS (REQ ("input", "SrcT"), OPTC ("zero_point", "DstT"), REQC ("scale", "SrcT"),
            OPTC ("axis", "int32"), REQC ("output_dtype", "str")),
    STRS ("SrcT=fp16|fp32", "DstT=uint8|int8"), STRS ("DstT"), 0, S_Q17,
    "New at iOS17. output_dtype is uint8 or int8 and must match zero_point; axis is "
    "given only with vector scale/zero_point.", INFER (quantize, ios17) },
  { "dequantize", I17, CUR,
    PARAMS (REQ ("input", "SrcT"), OPTC ("zero_point", "SrcT"), REQC ("scale", "DstT"),
            OPTC ("axis", "int32")),
    STRS ("SrcT=uint8|int8", "DstT=fp16|fp32"), STRS ("DstT"), 0, S_Q17,
    "New at iOS17: out = scale * (input - zero_point).", INFER (dequantize, ios17) },

  /* --- iOS18: attention and states --------------------------------------- */
  { "scaled_dot_product_attention", I18, CUR,
    PARAMS (REQ ("query", "T"), REQ ("key", "T"), REQ ("value", "T"), OPT ("attn_mask", "M")),
    STRS ("T=fp16|fp32", "M=bool|fp16|fp32"), o_T, 0, S_TRF18,
    "New at iOS18: softmax(Q K^T / sqrt(E) + mask) V; no scale, dropout or is_causal "
    "parameter; a bool mask marks the positions that take part.", INFER (scaled_dot_product_attention, ios18) },
  { "read_state", I18, CUR,
    PARAMS (STATE ("input")),
    NO_STRS, STRS ("(wrapped tensor type)"), 0, S_STATE18,
    "New at iOS18: returns a copy of the state's tensor.", INFER (read_state, ios18) },
  { "write_state", I18, CUR,
    PARAMS (STATE ("input"), REQ ("data", NULL)),
    NO_STRS, NO_STRS, ANE_MIL_OPDEF_SERIALIZER_ONLY, S_LOAD,
    "No pymil class: coremltools' serializer writes it (translate_coreml_update_state_op) "
    "when it splits coreml_update_state; data has the state's wrapped type; no outputs.", INFER (write_state, ios18) },
  { "coreml_update_state", I18, CUR,
    PARAMS (STATE ("state"), REQ ("value", "T")),
    STRS ("T=fp16|fp32|int8|int16|int32|uint8|uint16|bool"), o_T, ANE_MIL_OPDEF_NOT_SERIALIZED, S_DIALECT,
    "coremltools dialect op (register_op(namespace=\"coreml\")): never in a model file, "
    "written as write_state(input, data) then read_state(input). States need iOS18.", INFER (coreml_update_state, ios18) },
};

/* --- targets -------------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *macos;
  const char *opset;
  int         spec_version;
} TargetInfo;

/* coremltools/__init__.py: _SPECIFICATION_VERSION_IOS_15..18 = 6..9 and
 * _OPSET maps them to CoreML5..CoreML8; _deployment_compatibility.py aliases
 * macOS12..14 to iOS15..17, and the stateful-model guide pairs iOS18 with
 * macOS15. */
static const TargetInfo targets[ANE_MIL_N_TARGETS] = {
  { "iOS15", "macOS12", "CoreML5", 6 },
  { "iOS16", "macOS13", "CoreML6", 7 },
  { "iOS17", "macOS14", "CoreML7", 8 },
  { "iOS18", "macOS15", "CoreML8", 9 },
};

static gboolean
target_valid (AneMilTarget target)
{
  return (guint) target < ANE_MIL_N_TARGETS;
}

const char *
ane_mil_target_name (AneMilTarget target)
{
  return target_valid (target) ? targets[target].name : "invalid target";
}

const char *
ane_mil_target_macos_name (AneMilTarget target)
{
  return target_valid (target) ? targets[target].macos : "invalid target";
}

const char *
ane_mil_target_opset (AneMilTarget target)
{
  return target_valid (target) ? targets[target].opset : NULL;
}

int
ane_mil_target_spec_version (AneMilTarget target)
{
  return target_valid (target) ? targets[target].spec_version : -1;
}

gboolean
ane_mil_target_from_string (const char   *str,
                            AneMilTarget *out)
{
  if (str == NULL)
    return FALSE;
  for (guint i = 0; i < ANE_MIL_N_TARGETS; i++)
    {
      if (g_ascii_strcasecmp (str, targets[i].name) == 0 ||
          g_ascii_strcasecmp (str, targets[i].macos) == 0 ||
          g_ascii_strcasecmp (str, targets[i].opset) == 0)
        {
          if (out != NULL)
            *out = (AneMilTarget) i;
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
ane_mil_target_from_spec_version (int           spec_version,
                                  AneMilTarget *out)
{
  for (guint i = 0; i < ANE_MIL_N_TARGETS; i++)
    {
      if (targets[i].spec_version == spec_version)
        {
          if (out != NULL)
            *out = (AneMilTarget) i;
          return TRUE;
        }
    }
  return FALSE;
}

/* --- lookups -------------------------------------------------------------- */

const AneMilOpDef *
ane_mil_opdefs_get (guint *n_rows)
{
  if (n_rows != NULL)
    *n_rows = G_N_ELEMENTS (opdefs);
  return opdefs;
}

static gboolean
row_covers (const AneMilOpDef *def,
            AneMilTarget       target)
{
  return target >= def->first && (def->last == ANE_MIL_STILL_CURRENT || target <= def->last);
}

const AneMilOpDef *
ane_mil_opdef_lookup (const char   *op,
                      AneMilTarget  target)
{
  if (op == NULL || !target_valid (target))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (opdefs); i++)
    if (strcmp (opdefs[i].name, op) == 0 && row_covers (&opdefs[i], target))
      return &opdefs[i];
  return NULL;
}

gboolean
ane_mil_opdef_first_target (const char   *op,
                            AneMilTarget *first)
{
  gboolean found = FALSE;
  AneMilTarget best = ANE_MIL_TARGET_LATEST;

  if (op == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (opdefs); i++)
    {
      if (strcmp (opdefs[i].name, op) != 0)
        continue;
      if (!found || opdefs[i].first < best)
        best = opdefs[i].first;
      found = TRUE;
    }
  if (found && first != NULL)
    *first = best;
  return found;
}

guint
ane_mil_opdef_n_params (const AneMilOpDef *def)
{
  guint n = 0;

  g_return_val_if_fail (def != NULL, 0);
  while (def->params[n].name != NULL)
    n++;
  return n;
}

guint
ane_mil_opdef_n_outputs (const AneMilOpDef *def)
{
  guint n = 0;

  g_return_val_if_fail (def != NULL, 0);
  while (def->outputs[n] != NULL)
    n++;
  return n;
}

const AneMilParamDef *
ane_mil_opdef_find_param (const AneMilOpDef *def,
                          const char        *param)
{
  g_return_val_if_fail (def != NULL, NULL);
  if (param == NULL)
    return NULL;
  for (const AneMilParamDef *p = def->params; p->name != NULL; p++)
    if (strcmp (p->name, param) == 0)
      return p;
  return NULL;
}

const char *
ane_mil_opdef_param_dtypes (const AneMilOpDef *def,
                            const char        *param)
{
  const AneMilParamDef *p = ane_mil_opdef_find_param (def, param);
  gsize len;

  if (p == NULL || p->types == NULL)
    return NULL;
  len = strlen (p->types);
  for (const char *const *d = def->domains; *d != NULL; d++)
    if (strncmp (*d, p->types, len) == 0 && (*d)[len] == '=')
      return *d + len + 1;
  return p->types;
}

gboolean
ane_mil_dtypes_contain (const char *types,
                        const char *dtype)
{
  gsize len;

  if (types == NULL || dtype == NULL || *dtype == '\0')
    return FALSE;
  len = strlen (dtype);
  for (const char *s = types; s != NULL && *s != '\0';)
    {
      const char *bar = strchr (s, '|');
      gsize n = bar != NULL ? (gsize) (bar - s) : strlen (s);

      if (n == len && strncmp (s, dtype, len) == 0)
        return TRUE;
      s = bar != NULL ? bar + 1 : NULL;
    }
  return FALSE;
}

/* "x, y" for error messages. */
static char *
param_list (const AneMilOpDef *def)
{
  GString *s = g_string_new (NULL);

  for (const AneMilParamDef *p = def->params; p->name != NULL; p++)
    {
      if (s->len > 0)
        g_string_append (s, ", ");
      g_string_append (s, p->name);
      if (p->optional)
        g_string_append_c (s, '?');
    }
  return g_string_free (s, FALSE);
}

gboolean
ane_mil_opdef_check_call (const char         *op,
                          AneMilTarget        target,
                          const char *const  *param_names,
                          guint               n,
                          GError            **error)
{
  const AneMilOpDef *def;
  guint n_params;
  gboolean *seen;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (op == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "MIL op name is NULL");
      return FALSE;
    }
  if (!target_valid (target))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "MIL op '%s': invalid deployment target %d", op, (int) target);
      return FALSE;
    }
  if (n > 0 && param_names == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "MIL op '%s': %u parameter names expected, got NULL", op, n);
      return FALSE;
    }

  def = ane_mil_opdef_lookup (op, target);
  if (def == NULL)
    {
      AneMilTarget first;

      if (ane_mil_opdef_first_target (op, &first) && first > target)
        g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                     "MIL op '%s' does not exist at %s (opset %s); it first appears at %s",
                     op, ane_mil_target_name (target), ane_mil_target_opset (target),
                     ane_mil_target_name (first));
      else
        g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                     "MIL op '%s' does not exist at %s (opset %s)",
                     op, ane_mil_target_name (target), ane_mil_target_opset (target));
      return FALSE;
    }
  if (def->flags & ANE_MIL_OPDEF_NOT_SERIALIZED)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "MIL op '%s' at %s is a coremltools dialect op that never appears in a "
                   "model file (%s)", op, ane_mil_target_name (target),
                   def->notes != NULL ? def->notes : "no serialized form");
      return FALSE;
    }

  n_params = ane_mil_opdef_n_params (def);
  seen = g_newa (gboolean, n_params);
  memset (seen, 0, sizeof (gboolean) * n_params);

  for (guint i = 0; i < n; i++)
    {
      const char *name = param_names[i];
      guint j;

      if (name == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "MIL op '%s' at %s: parameter name %u is NULL",
                       op, ane_mil_target_name (target), i);
          return FALSE;
        }
      if (strcmp (name, "name") == 0)
        continue;
      for (j = 0; j < n_params; j++)
        if (strcmp (def->params[j].name, name) == 0)
          break;
      if (j == n_params)
        {
          g_autofree char *list = param_list (def);

          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "MIL op '%s' at %s has no parameter '%s' (parameters: %s)",
                       op, ane_mil_target_name (target), name, list);
          return FALSE;
        }
      if (seen[j])
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "MIL op '%s' at %s: parameter '%s' given twice",
                       op, ane_mil_target_name (target), name);
          return FALSE;
        }
      seen[j] = TRUE;
    }

  for (guint j = 0; j < n_params; j++)
    {
      if (!seen[j] && !def->params[j].optional)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "MIL op '%s' at %s: required parameter '%s' is missing",
                       op, ane_mil_target_name (target), def->params[j].name);
          return FALSE;
        }
    }
  return TRUE;
}
