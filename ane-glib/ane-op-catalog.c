/* ane-op-catalog.c: the ONE table of IR ops, and the attribute machinery
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-op-catalog.h"
#include "ops/ane-ops.h"
#include "mil/lower/ane-lower-private.h"
#include "grad/ane-grad-private.h"

#define IN(...)    ((const char *const[]) { __VA_ARGS__, NULL })
#define NO_IN      ((const char *const[]) { NULL })
#define ATTRS(...) ((const AneAttrSpec[]) { __VA_ARGS__, { NULL, NULL, NULL } })
#define NO_ATTRS   NULL
#define F(name)    ane_infer_##name, ane_ref_##name, ane_lower_##name

#define REDUCE_ATTRS ATTRS ({ "axes", "ax", "@ax []" }, { "keepdims", "b", "false" })
#define BINARY(K, n, s)  [K] = { K, n, IN ("a", "b"), NO_ATTRS, 1, 0, F (binary), s, ane_lower_ane_binary, \
                                 ane_grad_binary }
#define UNARY(K, n, s)   [K] = { K, n, IN ("x"), NO_ATTRS, 1, 0, F (unary), s, ane_lower_ane_unary, ane_grad_unary }
#define COMPARE(K, n, s) [K] = { K, n, IN ("a", "b"), NO_ATTRS, 1, 0, F (compare), s }
#define REDUCE(K, n, s)  [K] = { K, n, IN ("x"), REDUCE_ATTRS, 1, 0, F (reduce), s, NULL, ane_grad_reduce }

static const AneOpInfo catalog[ANE_N_OPS] = {
  /* sources: their spec is given by the builder, not inferred */
  [ANE_OP_INPUT] = { ANE_OP_INPUT, "input", NO_IN, NO_ATTRS, 1, ANE_OP_FLAG_SOURCE, F (source),
                     "a value fed at run time" },
  [ANE_OP_PARAM] = { ANE_OP_PARAM, "param", NO_IN, ATTRS ({ "dynamic", "b", "false" }), 1,
                     ANE_OP_FLAG_SOURCE, F (source),
                     "a named weight, bound later or baked; dynamic params stay run-time inputs when lowered" },
  [ANE_OP_CONST] = { ANE_OP_CONST, "const", NO_IN, NO_ATTRS, 1, ANE_OP_FLAG_SOURCE, F (source),
                     "a constant tensor" },
  [ANE_OP_STATE] = { ANE_OP_STATE, "state", NO_IN, NO_ATTRS, 1, ANE_OP_FLAG_SOURCE, F (source),
                     "a persistent tensor kept between runs (starts as zeros)" },

  /* linear algebra */
  [ANE_OP_MATMUL] = { ANE_OP_MATMUL, "matmul", IN ("a", "b"),
                      ATTRS ({ "transpose_a", "b", "false" }, { "transpose_b", "b", "false" }),
                      1, 0, F (matmul), "batched matrix product with numpy broadcasting of batch dims",
                      ane_lower_ane_matmul, ane_grad_matmul },
  [ANE_OP_LORA_MATMUL] = { ANE_OP_LORA_MATMUL, "lora_matmul", IN ("x", "w", "lora_a", "lora_b"),
                           ATTRS ({ "scale", "d", "1.0" }), 1, 0, F (lora_matmul),
                           "x.W + scale.(x.A).B", NULL, ane_grad_lora_matmul },
  [ANE_OP_GROUPED_MATMUL] = { ANE_OP_GROUPED_MATMUL, "grouped_matmul", IN ("x", "experts", "expert_ids"),
                              ATTRS ({ "transpose_b", "b", "false" }), 1, 0, F (grouped_matmul),
                              "per-row expert matmul: y[...] = x[...] . W[ids[...]]" },
  [ANE_OP_DEQUANT_MATMUL] = { ANE_OP_DEQUANT_MATMUL, "dequant_matmul", IN ("x", "weight"), NO_ATTRS,
                              1, 0, F (dequant_matmul),
                              "x . dequant(W)^T for a GGUF block weight W[N,K]" },
  [ANE_OP_DEQUANT_GROUPED_MATMUL] = { ANE_OP_DEQUANT_GROUPED_MATMUL, "dequant_grouped_matmul",
                                      IN ("x", "experts", "expert_ids"), NO_ATTRS, 1, 0,
                                      F (dequant_grouped_matmul),
                                      "grouped_matmul over GGUF block experts W[E,N,K] (transposed)" },
  [ANE_OP_DEQUANT_MOE_WEIGHTS] = { ANE_OP_DEQUANT_MOE_WEIGHTS, "dequant_moe_weights", IN ("experts"),
                                   ATTRS ({ "dtype", "s", "'float32'" }), 1, 0, F (dequant_moe_weights),
                                   "dense expert weights [E,N,K] from GGUF blocks" },

  /* elementwise binary */
  BINARY (ANE_OP_ADD, "add", "a + b"),
  BINARY (ANE_OP_SUB, "sub", "a - b"),
  BINARY (ANE_OP_MUL, "mul", "a * b"),
  BINARY (ANE_OP_DIV, "div", "a / b (floor division for integers)"),
  BINARY (ANE_OP_MAXIMUM, "maximum", "elementwise max"),
  BINARY (ANE_OP_MINIMUM, "minimum", "elementwise min"),
  BINARY (ANE_OP_POW, "pow", "a ** b"),

  /* elementwise unary */
  UNARY (ANE_OP_RELU, "relu", "max(x, 0)"),
  UNARY (ANE_OP_SIGMOID, "sigmoid", "1 / (1 + exp(-x))"),
  UNARY (ANE_OP_TANH, "tanh", "tanh(x)"),
  [ANE_OP_GELU] = { ANE_OP_GELU, "gelu", IN ("x"), ATTRS ({ "approximation", "s", "'exact'" }), 1, 0,
                    F (unary), "gelu, exact (erf) or tanh approximation", ane_lower_ane_unary, ane_grad_unary },
  UNARY (ANE_OP_SILU, "silu", "x * sigmoid(x)"),
  UNARY (ANE_OP_EXP, "exp", "e ** x"),
  UNARY (ANE_OP_LOG, "log", "natural logarithm"),
  UNARY (ANE_OP_SQRT, "sqrt", "square root"),
  UNARY (ANE_OP_RSQRT, "rsqrt", "1 / sqrt(x)"),
  UNARY (ANE_OP_ABS, "abs", "|x|"),
  UNARY (ANE_OP_NEG, "neg", "-x"),
  UNARY (ANE_OP_SIN, "sin", "sine"),
  UNARY (ANE_OP_COS, "cos", "cosine"),
  UNARY (ANE_OP_TAN, "tan", "tangent"),
  UNARY (ANE_OP_ATAN, "atan", "arc tangent"),
  UNARY (ANE_OP_ROUND, "round", "round half to even"),

  /* comparison and selection */
  COMPARE (ANE_OP_EQ, "eq", "a == b"),
  COMPARE (ANE_OP_NE, "ne", "a != b"),
  COMPARE (ANE_OP_LT, "lt", "a < b"),
  COMPARE (ANE_OP_LE, "le", "a <= b"),
  COMPARE (ANE_OP_GT, "gt", "a > b"),
  COMPARE (ANE_OP_GE, "ge", "a >= b"),
  [ANE_OP_WHERE] = { ANE_OP_WHERE, "where", IN ("cond", "a", "b"), NO_ATTRS, 1, 0, F (where),
                     "cond ? a : b, broadcast", ane_lower_ane_where, ane_grad_where },

  /* normalization */
  [ANE_OP_SOFTMAX] = { ANE_OP_SOFTMAX, "softmax", IN ("x"), ATTRS ({ "axis", "x", "-1" }), 1, 0,
                       F (softmax), "softmax along an axis", NULL, ane_grad_softmax },
  [ANE_OP_LAYER_NORM] = { ANE_OP_LAYER_NORM, "layer_norm", IN ("x", "?gamma", "?beta"),
                          ATTRS ({ "axes", "ax", "[-1]" }, { "eps", "d", "1e-05" }), 1, 0,
                          F (layer_norm), "layer normalization over trailing axes", NULL, ane_grad_layer_norm },
  [ANE_OP_RMS_NORM] = { ANE_OP_RMS_NORM, "rms_norm", IN ("x", "?weight"), ATTRS ({ "eps", "d", "1e-05" }),
                        1, 0, F (rms_norm), "x / sqrt(mean(x^2) + eps) * weight over the last axis",
                        ane_lower_ane_rms_norm, ane_grad_rms_norm },
  [ANE_OP_GROUP_NORM] = { ANE_OP_GROUP_NORM, "group_norm", IN ("x", "?gamma", "?beta"),
                          ATTRS ({ "groups", "x", NULL }, { "eps", "d", "1e-05" }), 1, 0,
                          F (group_norm), "group normalization of [N,C,...]", NULL, ane_grad_group_norm },
  [ANE_OP_LAYER_NORM_2D] = { ANE_OP_LAYER_NORM_2D, "layer_norm_2d", IN ("x", "?gamma", "?beta"),
                             ATTRS ({ "eps", "d", "1e-06" }), 1, 0, F (layer_norm_2d),
                             "layer normalization over the channels of NCHW at each position" },
  [ANE_OP_BATCH_NORM] = { ANE_OP_BATCH_NORM, "batch_norm", IN ("x", "mean", "variance", "?gamma", "?beta"),
                          ATTRS ({ "eps", "d", "1e-05" }), 1, 0, F (batch_norm),
                          "inference batch normalization over channel axis 1" },

  /* attention and positions */
  [ANE_OP_ATTENTION] = { ANE_OP_ATTENTION, "attention", IN ("q", "k", "v", "?bias"),
                         ATTRS ({ "causal", "b", "false" }, { "scale", "d", "0.0" },
                                { "softcap", "d", "0.0" }),
                         1, 0, F (attention),
                         "softmax(q.k^T * scale [+ bias] [causal]) . v over [B,H,S,D], grouped-query",
                         ane_lower_ane_attention, ane_grad_attention },
  [ANE_OP_ROPE] = { ANE_OP_ROPE, "rope", IN ("x", "positions"),
                    ATTRS ({ "mode", "s", "'neox'" }, { "theta", "d", "10000.0" }, { "n_rot", "x", "0" }),
                    1, 0, F (rope), "rotary position embedding of [B,H,S,D]", NULL, ane_grad_rope },
  [ANE_OP_AXIAL_ROPE_2D] = { ANE_OP_AXIAL_ROPE_2D, "axial_rope_2d", IN ("x"),
                             ATTRS ({ "end_x", "x", NULL }, { "end_y", "x", NULL },
                                    { "theta", "d", "10000.0" }),
                             1, 0, F (axial_rope_2d), "SAM2 axial 2-D rotary embedding of [B,H,N,D]" },

  /* shape */
  [ANE_OP_RESHAPE] = { ANE_OP_RESHAPE, "reshape", IN ("x"), ATTRS ({ "shape", "ax", NULL }), 1, 0,
                       F (reshape), "same elements, new shape (one -1 dimension is inferred)", NULL,
                       ane_grad_reshape },
  [ANE_OP_TRANSPOSE] = { ANE_OP_TRANSPOSE, "transpose", IN ("x"), ATTRS ({ "perm", "ax", NULL }), 1, 0,
                         F (transpose), "permute axes", NULL, ane_grad_transpose },
  [ANE_OP_CONCAT] = { ANE_OP_CONCAT, "concat", IN ("values"), ATTRS ({ "axis", "x", NULL }), 1,
                      ANE_OP_FLAG_VARIADIC, F (concat), "join along an axis", NULL, ane_grad_concat },
  [ANE_OP_NARROW] = { ANE_OP_NARROW, "narrow", IN ("x"),
                      ATTRS ({ "axis", "x", NULL }, { "start", "x", NULL }, { "length", "x", NULL }),
                      1, 0, F (narrow), "slice [start, start+length) along an axis", NULL, ane_grad_narrow },
  [ANE_OP_GATHER] = { ANE_OP_GATHER, "gather", IN ("x", "indices"), ATTRS ({ "axis", "x", "0" }), 1, 0,
                      F (gather), "numpy.take along an axis", NULL, ane_grad_gather },
  [ANE_OP_EXPAND] = { ANE_OP_EXPAND, "expand", IN ("x"), ATTRS ({ "shape", "ax", NULL }), 1, 0,
                      F (expand), "numpy.broadcast_to", NULL, ane_grad_expand },
  [ANE_OP_CAST] = { ANE_OP_CAST, "cast", IN ("x"), ATTRS ({ "dtype", "s", NULL }), 1, 0, F (cast),
                    "convert dtype (floats round to nearest even, integers truncate and saturate)", NULL,
                    ane_grad_cast },
  [ANE_OP_STOP_GRADIENT] = { ANE_OP_STOP_GRADIENT, "stop_gradient", IN ("x"), NO_ATTRS, 1, 0,
                             F (stop_gradient), "identity in the forward pass (no gradient flows back)", NULL,
                             ane_grad_stop_gradient },
  [ANE_OP_SLICE_UPDATE] = { ANE_OP_SLICE_UPDATE, "slice_update", IN ("x", "update", "begin", "?end"), NO_ATTRS,
                            1, 0, F (slice_update),
                            "x with the box at run-time int32 begin (clamped so it fits; with end: checked, "
                            "not clamped) replaced by update" },

  /* reductions and scans */
  REDUCE (ANE_OP_REDUCE_SUM, "reduce_sum", "sum over axes (all axes when empty)"),
  REDUCE (ANE_OP_REDUCE_MEAN, "reduce_mean", "mean over axes"),
  REDUCE (ANE_OP_REDUCE_MAX, "reduce_max", "maximum over axes"),
  REDUCE (ANE_OP_REDUCE_MIN, "reduce_min", "minimum over axes"),
  REDUCE (ANE_OP_REDUCE_PROD, "reduce_prod", "product over axes"),
  [ANE_OP_CUMSUM] = { ANE_OP_CUMSUM, "cumsum", IN ("x"),
                      ATTRS ({ "axis", "x", "0" }, { "exclusive", "b", "false" }, { "reverse", "b", "false" }),
                      1, 0, F (cumsum), "cumulative sum" },
  [ANE_OP_TOP_K] = { ANE_OP_TOP_K, "top_k", IN ("x"), ATTRS ({ "k", "x", NULL }, { "axis", "x", "-1" }),
                     2, 0, F (top_k), "k largest values (descending) and their int32 indices" },
  [ANE_OP_SCATTER_ADD] = { ANE_OP_SCATTER_ADD, "scatter_add", IN ("x", "indices", "updates"),
                           ATTRS ({ "axis", "x", "0" }), 1, 0, F (scatter_add),
                           "torch.scatter_add: out[idx along axis] += updates" },

  /* quantization */
  [ANE_OP_QUANTIZE] = { ANE_OP_QUANTIZE, "quantize", IN ("x", "scale", "?zero_point"),
                        ATTRS ({ "axis", "x", "0" }, { "dtype", "s", "'int8'" }), 1, 0, F (quantize),
                        "clamp(round(x / scale) + zero_point), per tensor or per channel" },
  [ANE_OP_DEQUANTIZE] = { ANE_OP_DEQUANTIZE, "dequantize", IN ("q", "scale", "?zero_point"),
                          ATTRS ({ "axis", "x", "0" }, { "dtype", "s", "'float32'" }), 1, 0,
                          F (dequantize), "(q - zero_point) * scale, per tensor or per channel" },

  /* state-space models */
  [ANE_OP_SELECTIVE_SCAN] = { ANE_OP_SELECTIVE_SCAN, "selective_scan",
                              IN ("u", "delta", "a", "b", "c", "?d", "?z", "?delta_bias"),
                              ATTRS ({ "delta_softplus", "b", "false" }), 1, 0, F (selective_scan),
                              "Mamba S6 selective scan" },
  [ANE_OP_GATED_DELTA_NET] = { ANE_OP_GATED_DELTA_NET, "gated_delta_net",
                               IN ("q", "k", "v", "g", "beta", "?initial_state"),
                               ATTRS ({ "scale", "d", "0.0" }, { "qk_l2norm", "b", "false" }), 2, 0,
                               F (gated_delta_net), "gated delta rule (outputs o and the final state)" },

  /* vision, NCHW */
  [ANE_OP_CONV] = { ANE_OP_CONV, "conv", IN ("x", "weight", "?bias"),
                    ATTRS ({ "strides", "ax", "@ax []" }, { "pads", "ax", "@ax []" },
                           { "dilations", "ax", "@ax []" }, { "groups", "x", "1" }),
                    1, 0, F (conv), "1-D or 2-D convolution (cross-correlation)", NULL, ane_grad_conv },
  [ANE_OP_CONV_TRANSPOSE_2D] = { ANE_OP_CONV_TRANSPOSE_2D, "conv_transpose_2d", IN ("x", "weight", "?bias"),
                                 ATTRS ({ "strides", "ax", "@ax []" }, { "pads", "ax", "@ax []" },
                                        { "dilations", "ax", "@ax []" }, { "output_padding", "ax", "@ax []" },
                                        { "groups", "x", "1" }),
                                 1, 0, F (conv_transpose_2d), "2-D transposed convolution" },
  [ANE_OP_POOL] = { ANE_OP_POOL, "pool", IN ("x"),
                    ATTRS ({ "kind", "s", "'max'" }, { "kernel", "ax", NULL }, { "strides", "ax", "@ax []" },
                           { "pads", "ax", "@ax []" }, { "count_include_pad", "b", "false" }),
                    1, 0, F (pool), "2-D max or average pooling", NULL, ane_grad_pool },
  [ANE_OP_RESIZE_NEAREST_2X] = { ANE_OP_RESIZE_NEAREST_2X, "resize_nearest_2x", IN ("x"), NO_ATTRS, 1, 0,
                                 F (resize_nearest_2x), "nearest-neighbour 2x upsampling of NCHW" },

  /* state */
  [ANE_OP_READ_STATE] = { ANE_OP_READ_STATE, "read_state", IN ("state"), NO_ATTRS, 1, 0, F (read_state),
                          "the state's current value" },
  [ANE_OP_WRITE_STATE] = { ANE_OP_WRITE_STATE, "write_state", IN ("state", "value"), NO_ATTRS, 1,
                           ANE_OP_FLAG_SIDE_EFFECT, F (write_state),
                           "store a value into the state; returns the value" },

  /* ops ONNX import needs (ops/ane-ops-index.c, mil/lower/ane-lower-index.c) */
  UNARY (ANE_OP_ERF, "erf", "Gauss error function"),
  [ANE_OP_PAD] = { ANE_OP_PAD, "pad", IN ("x"),
                   ATTRS ({ "pads", "ax", NULL }, { "mode", "s", "'constant'" }, { "value", "d", "0.0" }),
                   1, 0, F (pad), "numpy.pad of the trailing axes: constant, reflect or edge" },
  [ANE_OP_GATHER_ELEMENTS] = { ANE_OP_GATHER_ELEMENTS, "gather_elements", IN ("x", "indices"),
                               ATTRS ({ "axis", "x", "0" }), 1, 0, F (gather_elements),
                               "numpy.take_along_axis (ONNX GatherElements)" },
  [ANE_OP_ARGMAX] = { ANE_OP_ARGMAX, "argmax", IN ("x"), ATTRS ({ "axis", "x", "0" }, { "keepdims", "b", "false" }),
                      1, 0, F (arg_reduce), "int32 index of the first largest value along an axis" },
  [ANE_OP_ARGMIN] = { ANE_OP_ARGMIN, "argmin", IN ("x"), ATTRS ({ "axis", "x", "0" }, { "keepdims", "b", "false" }),
                      1, 0, F (arg_reduce), "int32 index of the first smallest value along an axis" },
  [ANE_OP_RESIZE] = { ANE_OP_RESIZE, "resize", IN ("x"),
                      ATTRS ({ "size", "ax", NULL }, { "scale_h", "d", "0.0" }, { "scale_w", "d", "0.0" },
                             { "mode", "s", "'nearest'" }, { "coordinate_mode", "s", "'half_pixel'" },
                             { "nearest_mode", "s", "'round_prefer_floor'" }),
                      1, 0, F (resize), "ONNX Resize of the last two axes: nearest or bilinear" },

  /* losses (ops/ane-ops-loss.c, mil/lower/ane-lower-loss.c, grad/ane-grad-rules-loss.c) */
  [ANE_OP_CROSS_ENTROPY] = { ANE_OP_CROSS_ENTROPY, "cross_entropy", IN ("logits", "targets"),
                             ATTRS ({ "ignore_index", "x", "-100" }), 1, 0, F (cross_entropy),
                             "mean softmax cross-entropy of logits [...,V] at int32 targets [...] "
                             "(ignore_index skipped; all ignored: 0), a float32 scalar",
                             NULL, ane_grad_cross_entropy },
};

const AneOpInfo *
ane_op_catalog_get (AneOpKind kind)
{
  g_return_val_if_fail ((guint) kind < ANE_N_OPS, NULL);
  g_assert (catalog[kind].kind == kind && catalog[kind].name != NULL);
  return &catalog[kind];
}

const AneOpInfo *
ane_op_catalog_lookup (const char *name)
{
  for (guint i = 0; i < ANE_N_OPS; i++)
    if (g_str_equal (catalog[i].name, name))
      return &catalog[i];
  return NULL;
}

guint
ane_op_info_n_slots (const AneOpInfo *info)
{
  guint n = 0;

  while (info->inputs[n] != NULL)
    n++;
  return n;
}

gboolean
ane_op_info_slot_optional (const AneOpInfo *info,
                           guint            slot)
{
  return slot < ane_op_info_n_slots (info) && info->inputs[slot][0] == '?';
}

const char *
ane_op_info_slot_name (const AneOpInfo *info,
                       guint            slot)
{
  if (info->flags & ANE_OP_FLAG_VARIADIC)
    slot = 0;
  if (slot >= ane_op_info_n_slots (info))
    return "?";
  return info->inputs[slot][0] == '?' ? info->inputs[slot] + 1 : info->inputs[slot];
}

/* Accept the numeric forms a binding naturally produces (Python ints come as
 * "i" or "x", JSON numbers as "x" or "d") and convert to the catalog's type.
 * Returns a full (non-floating) reference, or NULL if the type cannot fit. */
static GVariant *
coerce (GVariant           *value,
        const GVariantType *want)
{
  const char *have = g_variant_get_type_string (value);

  if (g_variant_is_of_type (value, want))
    return g_variant_ref (value);
  if (g_variant_type_equal (want, G_VARIANT_TYPE_INT64))
    {
      if (g_str_equal (have, "i")) return g_variant_ref_sink (g_variant_new_int64 (g_variant_get_int32 (value)));
      if (g_str_equal (have, "u")) return g_variant_ref_sink (g_variant_new_int64 (g_variant_get_uint32 (value)));
      if (g_str_equal (have, "t") && g_variant_get_uint64 (value) <= G_MAXINT64)
        return g_variant_ref_sink (g_variant_new_int64 ((gint64) g_variant_get_uint64 (value)));
    }
  if (g_variant_type_equal (want, G_VARIANT_TYPE_DOUBLE))
    {
      if (g_str_equal (have, "i")) return g_variant_ref_sink (g_variant_new_double (g_variant_get_int32 (value)));
      if (g_str_equal (have, "x")) return g_variant_ref_sink (g_variant_new_double ((double) g_variant_get_int64 (value)));
    }
  if (g_variant_type_equal (want, G_VARIANT_TYPE ("ax")) && g_str_equal (have, "ai"))
    {
      gsize n;
      const gint32 *v = g_variant_get_fixed_array (value, &n, sizeof (gint32));
      g_autofree gint64 *w = g_new (gint64, MAX (n, 1));

      for (gsize i = 0; i < n; i++)
        w[i] = v[i];
      return g_variant_ref_sink (ane_attrs_ints_variant (w, n));
    }
  return NULL;
}

GVariant *
ane_op_attrs_complete (const AneOpInfo *info,
                       const char      *node_name,
                       GVariant        *attrs,
                       GError         **error)
{
  GVariantBuilder builder;
  GVariant *result;

  if (attrs != NULL && !g_variant_is_of_type (attrs, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s '%s': attributes must be an a{sv} dictionary, not %s",
                   info->name, node_name, g_variant_get_type_string (attrs));
      return NULL;
    }

  /* Reject names the op does not know, so a typo never silently becomes a default. */
  if (attrs != NULL)
    {
      GVariantIter iter;
      const char *key;
      GVariant *value;

      g_variant_iter_init (&iter, attrs);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          gboolean known = FALSE;

          for (const AneAttrSpec *a = info->attrs; a && a->name; a++)
            known |= g_str_equal (a->name, key);
          g_variant_unref (value);
          if (!known)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                           "%s '%s': unknown attribute '%s'", info->name, node_name, key);
              return NULL;
            }
        }
    }

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  for (const AneAttrSpec *a = info->attrs; a && a->name; a++)
    {
      const GVariantType *type = G_VARIANT_TYPE (a->type);
      g_autoptr(GVariant) given = attrs ? g_variant_lookup_value (attrs, a->name, NULL) : NULL;
      g_autoptr(GVariant) value = NULL;

      if (given != NULL)
        {
          value = coerce (given, type);
          if (value == NULL)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                           "%s '%s': attribute '%s' must have type %s, not %s", info->name,
                           node_name, a->name, a->type, g_variant_get_type_string (given));
              g_variant_builder_clear (&builder);
              return NULL;
            }
        }
      else if (a->default_value != NULL)
        {
          value = g_variant_parse (type, a->default_value, NULL, NULL, NULL);
          g_assert (value != NULL);   /* catalog defaults are literals checked by tests */
        }
      else
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "%s '%s': attribute '%s' is required", info->name, node_name, a->name);
          g_variant_builder_clear (&builder);
          return NULL;
        }
      g_variant_builder_add (&builder, "{sv}", a->name, value);
    }
  result = g_variant_ref_sink (g_variant_builder_end (&builder));
  /* Serialize now: values handed out by ane_attrs_string()/ane_attrs_ints()
   * then point into this dictionary's own buffer. */
  (void) g_variant_get_data (result);
  return result;
}

/* --- shape-rule helpers -------------------------------------------------- */

void
ane_infer_error (AneInferCtx *ctx,
                 GError     **error,
                 AneError     code,
                 const char  *format,
                 ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, ANE_ERROR, code, "%s '%s': %s", ctx->op->name, ctx->node_name, msg);
}

static const AneSpec *
slot_spec (AneInferCtx *ctx,
           guint        slot)
{
  g_assert (slot < ctx->n_inputs && ctx->inputs[slot] != NULL);
  return ctx->inputs[slot];
}

static gboolean
require_dtype_class (AneInferCtx *ctx,
                     guint        slot,
                     gboolean   (*pred) (AneDType),
                     const char  *what,
                     GError     **error)
{
  const AneSpec *s = slot_spec (ctx, slot);
  char buf[ANE_SPEC_STRLEN];

  if (pred (s->dtype))
    return TRUE;
  ane_infer_error (ctx, error, ANE_ERROR_DTYPE, "input '%s' must be %s, got %s",
                   ane_op_info_slot_name (ctx->op, slot), what, ane_spec_format (s, buf));
  return FALSE;
}

static gboolean
is_numeric (AneDType dtype)
{
  return ane_dtype_is_float (dtype) || ane_dtype_is_integer (dtype);
}

gboolean
ane_infer_require_float (AneInferCtx *ctx, guint slot, GError **error)
{
  return require_dtype_class (ctx, slot, ane_dtype_is_float, "a float tensor", error);
}

gboolean
ane_infer_require_numeric (AneInferCtx *ctx, guint slot, GError **error)
{
  return require_dtype_class (ctx, slot, is_numeric, "a float or integer tensor", error);
}

gboolean
ane_infer_require_integer (AneInferCtx *ctx, guint slot, GError **error)
{
  return require_dtype_class (ctx, slot, ane_dtype_is_integer, "an integer tensor", error);
}

gboolean
ane_infer_require_block (AneInferCtx *ctx, guint slot, GError **error)
{
  return require_dtype_class (ctx, slot, ane_dtype_is_block, "a GGUF block-quantized tensor", error);
}

gboolean
ane_infer_require_rank (AneInferCtx *ctx,
                        guint        slot,
                        guint        min_rank,
                        guint        max_rank,
                        GError     **error)
{
  const AneSpec *s = slot_spec (ctx, slot);
  char buf[ANE_SPEC_STRLEN];

  if (s->rank >= min_rank && s->rank <= max_rank)
    return TRUE;
  if (min_rank == max_rank)
    ane_infer_error (ctx, error, ANE_ERROR_SHAPE, "input '%s' must have rank %u, got %s",
                     ane_op_info_slot_name (ctx->op, slot), min_rank, ane_spec_format (s, buf));
  else
    ane_infer_error (ctx, error, ANE_ERROR_SHAPE, "input '%s' must have rank %u to %u, got %s",
                     ane_op_info_slot_name (ctx->op, slot), min_rank, max_rank,
                     ane_spec_format (s, buf));
  return FALSE;
}

gboolean
ane_infer_same_dtype (AneInferCtx *ctx,
                      guint        slot_a,
                      guint        slot_b,
                      GError     **error)
{
  const AneSpec *a = slot_spec (ctx, slot_a), *b = slot_spec (ctx, slot_b);
  char ba[ANE_SPEC_STRLEN], bb[ANE_SPEC_STRLEN];

  if (a->dtype == b->dtype)
    return TRUE;
  ane_infer_error (ctx, error, ANE_ERROR_DTYPE, "inputs '%s' %s and '%s' %s must have the same dtype",
                   ane_op_info_slot_name (ctx->op, slot_a), ane_spec_format (a, ba),
                   ane_op_info_slot_name (ctx->op, slot_b), ane_spec_format (b, bb));
  return FALSE;
}

/* numpy broadcasting: align shapes at the right; each dimension pair must be
 * equal or contain a 1. The result takes the dtype of the first slot. */
gboolean
ane_infer_broadcast (AneInferCtx *ctx,
                     const guint *slots,
                     guint        n_slots,
                     AneSpec     *out,
                     GError     **error)
{
  guint rank = 0;

  for (guint i = 0; i < n_slots; i++)
    rank = MAX (rank, slot_spec (ctx, slots[i])->rank);
  memset (out, 0, sizeof *out);
  out->dtype = slot_spec (ctx, slots[0])->dtype;
  out->rank = rank;
  for (guint d = 0; d < rank; d++)
    {
      gint64 dim = 1;

      for (guint i = 0; i < n_slots; i++)
        {
          const AneSpec *s = slot_spec (ctx, slots[i]);
          gint64 di;

          if (d + s->rank < rank)
            continue;
          di = s->shape[d + s->rank - rank];
          if (di == dim || di == 1)
            continue;
          if (dim == 1)
            {
              dim = di;
              continue;
            }
          {
            g_autoptr(GString) msg = g_string_new ("cannot broadcast ");
            for (guint j = 0; j < n_slots; j++)
              {
                char buf[ANE_SPEC_STRLEN];
                g_string_append_printf (msg, "%s'%s' %s", j ? " with " : "",
                                        ane_op_info_slot_name (ctx->op, slots[j]),
                                        ane_spec_format (slot_spec (ctx, slots[j]), buf));
              }
            ane_infer_error (ctx, error, ANE_ERROR_SHAPE, "%s", msg->str);
          }
          return FALSE;
        }
      out->shape[d] = dim;
    }
  return TRUE;
}

gboolean
ane_infer_axis (AneInferCtx *ctx,
                const char  *attr,
                guint        slot,
                guint       *axis,
                GError     **error)
{
  const AneSpec *s = slot_spec (ctx, slot);
  gint64 a = ane_attrs_int (ctx->attrs, attr);
  char buf[ANE_SPEC_STRLEN];

  if (ane_normalize_axis (a, s->rank, axis))
    return TRUE;
  ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                   "%s %" G_GINT64_FORMAT " is out of range for input '%s' %s (rank %u)",
                   attr, a, ane_op_info_slot_name (ctx->op, slot), ane_spec_format (s, buf), s->rank);
  return FALSE;
}
