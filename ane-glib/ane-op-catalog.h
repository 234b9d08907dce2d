/* ane-op-catalog.h: the ONE table of IR ops
 *
 * Every op of the IR is a row of this table: its name, its input slots, its
 * attributes with their types and defaults, how many outputs it has, its shape
 * rule, its reference kernel and its lowering to MIL (and, optionally, a
 * second lowering for the Neural Engine profile). Adding an op is one row
 * in ane-op-catalog.c plus its functions in ops/ and mil/lower/.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"

G_BEGIN_DECLS

typedef enum {
  /* sources */
  ANE_OP_INPUT, ANE_OP_PARAM, ANE_OP_CONST, ANE_OP_STATE,
  /* linear algebra */
  ANE_OP_MATMUL, ANE_OP_LORA_MATMUL, ANE_OP_GROUPED_MATMUL, ANE_OP_DEQUANT_MATMUL,
  ANE_OP_DEQUANT_GROUPED_MATMUL, ANE_OP_DEQUANT_MOE_WEIGHTS,
  /* elementwise binary */
  ANE_OP_ADD, ANE_OP_SUB, ANE_OP_MUL, ANE_OP_DIV, ANE_OP_MAXIMUM, ANE_OP_MINIMUM, ANE_OP_POW,
  /* elementwise unary */
  ANE_OP_RELU, ANE_OP_SIGMOID, ANE_OP_TANH, ANE_OP_GELU, ANE_OP_SILU, ANE_OP_EXP, ANE_OP_LOG,
  ANE_OP_SQRT, ANE_OP_RSQRT, ANE_OP_ABS, ANE_OP_NEG, ANE_OP_SIN, ANE_OP_COS, ANE_OP_TAN,
  ANE_OP_ATAN, ANE_OP_ROUND,
  /* comparison, selection */
  ANE_OP_EQ, ANE_OP_NE, ANE_OP_LT, ANE_OP_LE, ANE_OP_GT, ANE_OP_GE, ANE_OP_WHERE,
  /* normalization */
  ANE_OP_SOFTMAX, ANE_OP_LAYER_NORM, ANE_OP_RMS_NORM, ANE_OP_GROUP_NORM, ANE_OP_LAYER_NORM_2D,
  ANE_OP_BATCH_NORM,
  /* attention, positions */
  ANE_OP_ATTENTION, ANE_OP_ROPE, ANE_OP_AXIAL_ROPE_2D,
  /* shape */
  ANE_OP_RESHAPE, ANE_OP_TRANSPOSE, ANE_OP_CONCAT, ANE_OP_NARROW, ANE_OP_GATHER, ANE_OP_EXPAND,
  ANE_OP_CAST, ANE_OP_STOP_GRADIENT, ANE_OP_SLICE_UPDATE,
  /* reductions, scans */
  ANE_OP_REDUCE_SUM, ANE_OP_REDUCE_MEAN, ANE_OP_REDUCE_MAX, ANE_OP_REDUCE_MIN,
  ANE_OP_REDUCE_PROD, ANE_OP_CUMSUM, ANE_OP_TOP_K, ANE_OP_SCATTER_ADD,
  /* quantization */
  ANE_OP_QUANTIZE, ANE_OP_DEQUANTIZE,
  /* state-space */
  ANE_OP_SELECTIVE_SCAN, ANE_OP_GATED_DELTA_NET,
  /* vision */
  ANE_OP_CONV, ANE_OP_CONV_TRANSPOSE_2D, ANE_OP_POOL, ANE_OP_RESIZE_NEAREST_2X,
  /* state */
  ANE_OP_READ_STATE, ANE_OP_WRITE_STATE,
  /* ops ONNX import needs (ops/ane-ops-index.c) */
  ANE_OP_ERF, ANE_OP_PAD, ANE_OP_GATHER_ELEMENTS, ANE_OP_ARGMAX, ANE_OP_ARGMIN, ANE_OP_RESIZE,
  /* losses (ops/ane-ops-loss.c); appended so the numbers above do not move */
  ANE_OP_CROSS_ENTROPY,
  ANE_N_OPS
} AneOpKind;

typedef enum {
  ANE_OP_FLAG_NONE        = 0,
  ANE_OP_FLAG_SOURCE      = 1 << 0, /* no inputs; the node carries its output spec */
  ANE_OP_FLAG_SIDE_EFFECT = 1 << 1, /* must run even when no output depends on it */
  ANE_OP_FLAG_VARIADIC    = 1 << 2, /* the single input slot takes 1..n values */
} AneOpFlags;

typedef struct {
  const char *name;
  const char *type;          /* GVariant type string: "x", "d", "b", "s" or "ax" */
  const char *default_value; /* GVariant text form; NULL: the attribute is required */
} AneAttrSpec;

typedef struct _AneOpInfo AneOpInfo;
typedef struct _AneInferCtx AneInferCtx;
typedef struct _AneRefCtx AneRefCtx;

typedef struct _AneLowerCtx AneLowerCtx;
typedef struct _AneGradCtx AneGradCtx;

typedef gboolean (*AneInferFunc)     (AneInferCtx *ctx, GError **error);
typedef gboolean (*AneReferenceFunc) (AneRefCtx   *ctx, GError **error);
typedef gboolean (*AneLowerFunc)     (AneLowerCtx *ctx, GError **error);
typedef gboolean (*AneGradFunc)      (AneGradCtx  *ctx, GError **error);

struct _AneOpInfo {
  AneOpKind          kind;
  const char        *name;
  /* Input slot names, NULL-terminated; a leading '?' marks an optional slot. */
  const char *const *inputs;
  /* Attribute specs, terminated by a row with name NULL; NULL for none. */
  const AneAttrSpec *attrs;
  guint              n_outputs;
  AneOpFlags         flags;
  AneInferFunc       infer;
  AneReferenceFunc   reference;
  AneLowerFunc       lower;          /* to MIL: mil/lower/ane-lower-*.c */
  const char        *summary;
  /* Optional: the op rewritten for the Neural Engine profile
   * (mil/lower/ane-lower-ane-*.c); it may decline, and lower runs. */
  AneLowerFunc       lower_neural_engine;
  /* Optional: the vector-Jacobian product (grad/ane-grad-rules.c) that
   * ane_graph_gradients builds for the op; NULL: not differentiable. */
  AneGradFunc        gradient;
};

/* Shape inference context: the inputs are given, the rule fills the outputs. */
struct _AneInferCtx {
  const AneOpInfo *op;
  const char      *node_name;
  guint            n_inputs;
  const AneSpec  **inputs;          /* NULL entries: absent optional inputs */
  GVariant        *attrs;           /* a{sv}, every attribute present (defaults filled) */
  guint            n_outputs;
  AneSpec          outputs[ANE_MAX_OUTPUTS];
};

const AneOpInfo *ane_op_catalog_get        (AneOpKind   kind);
const AneOpInfo *ane_op_catalog_lookup     (const char *name);
guint            ane_op_info_n_slots       (const AneOpInfo *info);
gboolean         ane_op_info_slot_optional (const AneOpInfo *info,
                                            guint            slot);
const char      *ane_op_info_slot_name     (const AneOpInfo *info,
                                            guint            slot);
GVariant        *ane_op_attrs_complete     (const AneOpInfo *info,
                                            const char      *node_name,
                                            GVariant        *attrs,
                                            GError         **error);

/* Errors from shape rules: "op 'node': message". */
void     ane_infer_error         (AneInferCtx *ctx,
                                  GError     **error,
                                  AneError     code,
                                  const char  *format,
                                  ...) G_GNUC_PRINTF (4, 5);
/* Common checks; each sets a descriptive error naming op, operand and shape. */
gboolean ane_infer_require_float (AneInferCtx *ctx, guint slot, GError **error);
gboolean ane_infer_require_numeric (AneInferCtx *ctx, guint slot, GError **error);
gboolean ane_infer_require_integer (AneInferCtx *ctx, guint slot, GError **error);
gboolean ane_infer_require_block (AneInferCtx *ctx, guint slot, GError **error);
gboolean ane_infer_require_rank  (AneInferCtx *ctx, guint slot, guint min_rank,
                                  guint max_rank, GError **error);
gboolean ane_infer_same_dtype    (AneInferCtx *ctx, guint slot_a, guint slot_b,
                                  GError **error);
gboolean ane_infer_broadcast     (AneInferCtx *ctx, const guint *slots, guint n_slots,
                                  AneSpec *out, GError **error);
/* Normalizes integer attribute attr as an axis of the input in slot; the
 * error names the attribute, the operand and its shape. */
gboolean ane_infer_axis          (AneInferCtx *ctx, const char *attr, guint slot,
                                  guint *axis, GError **error);

G_END_DECLS
