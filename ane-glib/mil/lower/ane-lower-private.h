/* mil/lower/ane-lower-private.h: lowering IR nodes to MIL operations
 *
 * The driver (ane-lower.c) walks the graph in order and, for each node,
 * calls its catalog row's lower function with the MIL values of its inputs.
 * A lowering emits MIL ops through the builder (ane-mil-builder-private.h),
 * its small ops and consts through the shared emitters (ane-lower-emit.c,
 * declared below: one naming idiom for all), and sets ctx->out[i] to the MIL
 * value of each IR output.
 *
 * Numbers inside the program: every float value is computed in one compute
 * dtype (fp16 or fp32, the precision asked for); int64 becomes int32 (MIL's
 * ops take int32 indices); other dtypes stay. Function inputs and outputs keep
 * the graph's dtypes and are cast at the boundary, as Apple's converter does.
 *
 * Order of emission: a call that emits an op (a const included) is never an
 * argument of another such call beside a second one. C leaves the order in
 * which arguments are evaluated unspecified (C11 6.5.2.2p10): gcc on x86-64
 * goes last to first, clang first to last, so the same program would come
 * out with its consts in another order from each compiler. Those calls are
 * made into locals first, last argument first: the order gcc gave them, which
 * the golden files (tests/data/golden) hold.
 * The shared emitters keep that rule inside: one that makes several consts
 * makes them into locals, last parameter first.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-graph-private.h"
#include "mil/ane-mil-builder-private.h"
#include "mil/lower/ane-lowered-private.h"
#include "ane-progress-private.h"

G_BEGIN_DECLS

/* A float value that the Neural Engine profile holds channels-first
 * (ane-lower-ane-layout.c): the IR value, of shape [..., S, C], lives in the
 * program as cf, shaped [B, C, 1, S] with B the product of the leading axes
 * (apple/ml-ane-transformers' (B, C, 1, S)). Its graph form (the IR's
 * shape) is made only when a consumer that does not take the layout asks for
 * it (ane_lower_input), once. */
typedef struct {
  const char *cf;          /* NULL: the value is not held channels-first */
  gint64      b, c, s;
  const char *graph_form;  /* NULL until made */
} AneLowerView;

typedef struct _AneLowerState AneLowerState;

struct _AneLowerCtx {
  AneMilBuilder   *b;
  AneGraph        *graph;
  const AneNode   *node;
  AneMilTarget     target;
  AneDType         compute;                    /* fp16 or fp32 */
  guint            n_inputs;
  const char     **in;                         /* MIL value per input; NULL if absent */
  const AneSpec  **in_spec;                    /* IR specs of the inputs (NULL if absent) */
  AneSpec          out_spec[ANE_MAX_OUTPUTS];  /* IR output specs with lowered dtypes */
  const char      *out[ANE_MAX_OUTPUTS];       /* set by the lowering */
  const char      *hint;                       /* the node's name: a prefix for its MIL names */
  const AneNode  **in_node;                    /* the node producing each input (NULL if absent) */
  GHashTable      *block_weights;              /* source node -> MIL value of its dense weight */
  gboolean         fp16_interface;             /* float32 inputs/outputs declared float16 */
  GHashTable      *params;                     /* name -> AneTensor overriding params' values, or NULL */
  /* The Neural Engine profile (ANE_LOWER_PROFILE_NEURAL_ENGINE): a
   * catalog row's lower_neural_engine function runs first. Its inputs that
   * are consts or params not yet emitted, or values held channels-first
   * (in_view[i] set), have in[i] NULL until ane_lower_input () makes them;
   * it returns TRUE with every out[i] and out_view[i].cf NULL to decline
   * (before emitting anything), and the generic lowering runs. */
  AneLowerProfile  profile;
  AneLowerView   **in_view;                    /* per input: its channels-first view, or NULL */
  AneLowerView     out_view[ANE_MAX_OUTPUTS];  /* set instead of out[i]: the result is channels-first */
  AneLowerState   *state;                      /* the driver's (ane-lower.c) */
};

/* Whether input slot has a value not made yet (a lazy const or param, a
 * channels-first value without its graph form): ane_lower_input makes it. */
gboolean    ane_lower_input_pending (AneLowerCtx  *ctx,
                                     guint         slot);
/* Keeps view as input slot's channels-first form for its later consumers. */
void        ane_lower_remember_view (AneLowerCtx        *ctx,
                                     guint               slot,
                                     const AneLowerView *view);
/* The MIL value of input slot in the graph's form: a const or param emitted
 * now if it was not yet, a channels-first value given its graph form.
 * NULL with error on failure (or for an absent slot, without error). */
const char *ane_lower_input        (AneLowerCtx   *ctx,
                                    guint          slot,
                                    GError       **error);

/* The MIL target of a public deployment target. */
AneMilTarget ane_target_to_mil     (AneTarget      target);

/* ANE_ERROR_INVALID_ARGUMENT unless name can name a part of the model's
 * interface (what: "input", "function", ...): a MIL identifier that is not
 * one of MIL's keywords. */
gboolean    ane_lower_check_interface_name (const char  *what,
                                            const char  *name,
                                            GError     **error);

/* The dtype a value of IR dtype has inside the program. */
AneDType    ane_lower_dtype        (AneLowerCtx   *ctx,
                                    AneDType       ir_dtype);
/* The lowered spec of input slot i (dtype mapped). */
AneSpec     ane_lower_in_spec      (AneLowerCtx   *ctx,
                                    guint          slot);
/* "node/suffix" names for the intermediate ops of a node. */
char       *ane_lower_hint         (AneLowerCtx   *ctx,
                                    const char    *suffix);
/* The "node_suffix" names of one lowering's intermediates, freed together
 * (ane_lower_hint's strings, without a g_autofree per call). */
typedef struct {
  AneLowerCtx *ctx;
  GPtrArray   *names;
  /* The consts of an op named after the node itself (a NULL suffix) are
   * "<node>_<param>", or "<node>_<result_stem>_<param>" when this is set
   * (NULL after ane_lower_names_init). The SSM, vision and quantization
   * lowerings have always named them "<node>_out_<param>", the cast
   * lowering "<node>_cast_<param>": the golden programs hold those names. */
  const char  *result_stem;
} AneLowerNames;

void        ane_lower_names_init   (AneLowerNames *w,
                                    AneLowerCtx   *ctx);
void        ane_lower_names_clear  (AneLowerNames *w);
/* The hint for an intermediate, or the node's own name for its result (NULL suffix). */
const char *ane_lower_names_hint   (AneLowerNames *w,
                                    const char    *suffix);
/* g_auto(AneLowerNames) names = { NULL, }; then ane_lower_names_init (): cleared
 * on every return. */
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AneLowerNames, ane_lower_names_clear)

/* --- the shared emitters (ane-lower-emit.c) -------------------------------
 *
 * Every lowering emits its small ops through these, in one naming idiom: an
 * op is named ane_lower_names_hint (w, suffix) ("<node>_<suffix>", the
 * node's own name for NULL) and a const it makes for its parameter param
 * ane_lower_names_param (w, suffix, param). The result's dtype, shape and
 * rank come first, as in ane_mil_op, then the operands. */

/* The node feeding input slot, or NULL when the slot is absent. */
const AneNode *ane_lower_input_node (AneLowerCtx *ctx,
                                     guint        slot);
/* Whether input slot is present and reaches MIL as a const (a graph const
 * or a non-dynamic param, which the driver lowers to const ops). */
gboolean    ane_lower_input_is_const (AneLowerCtx *ctx,
                                      guint        slot);
/* The name of the const an op named after suffix makes for param. */
const char *ane_lower_names_param  (AneLowerNames *w,
                                    const char    *suffix,
                                    const char    *param);

/* Consts named "<node>_<suffix>". */
const char *ane_lower_const_int    (AneLowerNames *w,
                                    const char    *suffix,
                                    gint64         v);
const char *ane_lower_const_ints   (AneLowerNames *w,
                                    const char    *suffix,
                                    const gint64  *v,
                                    gsize          n);
const char *ane_lower_const_float  (AneLowerNames *w,
                                    const char    *suffix,
                                    AneDType       dtype,
                                    double         v);
const char *ane_lower_const_bool   (AneLowerNames *w,
                                    const char    *suffix,
                                    gboolean       v);
const char *ane_lower_const_string (AneLowerNames *w,
                                    const char    *suffix,
                                    const char    *v);

/* The node's result as its input 0 unchanged: an identity op named after
 * the node (a lowering that has nothing to compute). */
const char *ane_lower_emit_identity (AneLowerCtx *ctx);
/* type (x) and type (x, y): elementwise ops, matmul without flags. */
const char *ane_lower_emit_unary   (AneLowerNames *w,
                                    const char    *type,
                                    const char    *suffix,
                                    AneDType       dtype,
                                    const gint64  *shape,
                                    guint          rank,
                                    const char    *x);
const char *ane_lower_emit_binary  (AneLowerNames *w,
                                    const char    *type,
                                    const char    *suffix,
                                    AneDType       dtype,
                                    const gint64  *shape,
                                    guint          rank,
                                    const char    *x,
                                    const char    *y);
/* x reshaped to shape (const param "shape"); _by takes a shape const made
 * once and shared by several reshapes. */
const char *ane_lower_emit_reshape (AneLowerNames *w,
                                    const char    *suffix,
                                    AneDType       dtype,
                                    const gint64  *shape,
                                    guint          rank,
                                    const char    *x);
const char *ane_lower_emit_reshape_by (AneLowerNames *w,
                                       const char    *suffix,
                                       AneDType       dtype,
                                       const gint64  *shape,
                                       guint          rank,
                                       const char    *x,
                                       const char    *shape_const);
/* x cast to dtype to (const param "dtype"). */
const char *ane_lower_emit_cast    (AneLowerNames *w,
                                    const char    *suffix,
                                    AneDType       to,
                                    const gint64  *shape,
                                    guint          rank,
                                    const char    *x);
/* x transposed by perm; shape is the result's (const param "perm"). */
const char *ane_lower_emit_transpose (AneLowerNames *w,
                                      const char    *suffix,
                                      AneDType       dtype,
                                      const gint64  *shape,
                                      guint          rank,
                                      const char    *x,
                                      const gint64  *perm);
/* x[begin:end] over all axes, stride 1 (const params "end", then "begin"). */
const char *ane_lower_emit_slice   (AneLowerNames *w,
                                    const char    *suffix,
                                    AneDType       dtype,
                                    guint          rank,
                                    const char    *x,
                                    const gint64  *begin,
                                    const gint64  *end);

/* A source's value known when lowering: for a param, the value bound on the
 * executable (ctx->params) before the graph's; NULL when there is none. */
AneTensor  *ane_lower_source_value (AneLowerCtx   *ctx,
                                    const AneNode *node);
/* The same without a ctx. */
AneTensor  *ane_lower_bound_value  (GHashTable    *params,
                                    const AneNode *node);

/* An error naming the node, the op and the target. */
gboolean    ane_lower_unsupported  (AneLowerCtx   *ctx,
                                    GError       **error,
                                    const char    *format,
                                    ...) G_GNUC_PRINTF (3, 4);
/* Fails unless the target is at least min (the op's MIL form needs it). */
gboolean    ane_lower_require_target (AneLowerCtx *ctx,
                                      AneMilTarget min,
                                      const char  *why,
                                      GError     **error);

/* Dtype helpers (MIL ops take fewer dtypes than the IR):
 * - ane_lower_op_takes: whether op's param takes dtype at the target (Apple's table);
 * - ane_lower_widen: value cast to a dtype op's param takes (narrow ints, bool -> int32);
 * - ane_lower_restore: a widened result cast back, optionally saturating first;
 * - ane_lower_to_int32: integer indices as int32. */
gboolean    ane_lower_op_takes     (AneLowerCtx   *ctx,
                                    const char    *op,
                                    const char    *param,
                                    AneDType       dtype);
const char *ane_lower_widen        (AneLowerCtx   *ctx,
                                    const char    *op,
                                    const char    *param,
                                    const char    *value,
                                    const AneSpec *spec,
                                    AneDType      *work);
const char *ane_lower_restore      (AneLowerCtx   *ctx,
                                    const char    *value,
                                    AneDType       work,
                                    AneDType       dtype,
                                    const gint64  *shape,
                                    guint          rank,
                                    gboolean       saturate);
const char *ane_lower_to_int32     (AneLowerCtx   *ctx,
                                    const char    *op,
                                    const char    *value,
                                    const AneSpec *spec);

/* int32 indices @idx (spec @idx_spec) with a negative index i made i + dim:
 * select(indices >= 0, indices, indices + dim), Apple's iOS17 gather
 * docstring (from iOS17 on MIL's gathers take no negative index). The
 * consts and ops are named after the node (_zero, _nonnegative, _dim,
 * _wrapped, _indices). */
const char *ane_lower_wrap_indices (AneLowerCtx   *ctx,
                                    const char    *idx,
                                    const AneSpec *idx_spec,
                                    gint64         dim);

/* value (lowered spec) broadcast to shape: reshaped to that rank with
 * leading 1s, then tiled (MIL's ops do not broadcast a lone operand). The
 * last op is named name, or after the node and suffix (NULL: the node's
 * name; intermediates add _shape, _rank, _reps). NULL with error
 * when a size-1 dimension would be repeated 0 times. */
const char *ane_lower_broadcast_to (AneLowerCtx   *ctx,
                                    const char    *value,
                                    const AneSpec *spec,
                                    const gint64  *shape,
                                    guint          rank,
                                    const char    *suffix,
                                    const char    *name,
                                    GError       **error);

/* The dense weight (compute dtype) of a GGUF block-quantized source feeding
 * input slot. Block sources are not lowered eagerly: at iOS18 a bound Q8_0,
 * Q4_0 or Q4_K weight stays quantized in the program (int8/int4/uint4 data
 * with per-block scales, and offsets for Q4_K, dequantized by
 * constexpr_blockwise_shift_scale when the model loads); any other case is dequantized on the host to the compute dtype when
 * the package is written. Each source is lowered once. */
const char *ane_lower_block_weight (AneLowerCtx   *ctx,
                                    guint          slot,
                                    gboolean       on_device,
                                    GError       **error);
/* Whether input slot comes from a block-quantized source. */
gboolean    ane_lower_is_block_source (AneLowerCtx *ctx,
                                       guint        slot);
/* GGUF Q4_K blocks (n_blocks of 256 weights, ane-lower-q4k.c) split for
 * constexpr_blockwise_shift_scale: data = the 4-bit q as MIL uint4 (first
 * element in the low nibble), scales = d·sc_j and offsets = dmin·m_j /
 * (d·sc_j), one per 32 weights (scales as scale_dtype will hold them).
 * FALSE when the bytes do not match or a sub-block is not representable
 * (d·sc_j == 0 but dmin·m_j != 0, or an fp16 scale below 2^-14). Each of
 * data, scales and offsets may be NULL: that part is not made (all NULL:
 * only the check). */
gboolean    ane_lower_split_q4_K       (GBytes      *blocks,
                                       gint64       n_blocks,
                                       AneDType     scale_dtype,
                                       GBytes     **data,
                                       double     **scales,
                                       double     **offsets);

/* --- the Neural Engine layout (ane-lower-ane-layout.c) ------------------ */

/* Whether a value of spec can be held channels-first ([..., S, C] float, rank 1..5). */
gboolean    ane_lower_view_fits    (const AneSpec *spec);
/* value (graph form, lowered spec) as [B, C, 1, S]; sets view. */
const char *ane_lower_view_make    (AneMilBuilder *b,
                                    const char    *value,
                                    const AneSpec *spec,
                                    const char    *hint,
                                    AneLowerView  *view);
/* view's graph form (spec: the IR value's lowered spec), made once. */
const char *ane_lower_view_graph_form (AneMilBuilder *b,
                                       AneLowerView  *view,
                                       const AneSpec *spec,
                                       const char    *hint);
/* The channels-first value of input slot: its view's, or made from its
 * graph form now and kept for the value's later consumers (a residual that
 * feeds a linear and an add converts once). NULL with error. */
const char *ane_lower_input_cf     (AneLowerCtx   *ctx,
                                    guint          slot,
                                    AneLowerView  *view,
                                    GError       **error);

/* --- rope tables shared under the Neural Engine profile (ane-lower-ane-rope.c) */

/* The cos and sin tables a rope op of the same positions input, theta,
 * n_rot, length and table rank already computed: TRUE under the Neural
 * Engine profile when there are such tables. */
gboolean    ane_lower_ane_rope_tables (AneLowerCtx  *ctx,
                                       double        theta,
                                       gint64        n_rot,
                                       guint         tab_rank,
                                       const char  **cos_t,
                                       const char  **sin_t);
/* Keeps the tables a rope op computed for the next ones (profile only). */
void        ane_lower_ane_rope_keep_tables (AneLowerCtx *ctx,
                                            double       theta,
                                            gint64       n_rot,
                                            guint        tab_rank,
                                            const char  *cos_t,
                                            const char  *sin_t);
/* The driver's table of values shared between ops (name -> MIL value). */
GHashTable *ane_lower_shared_values (AneLowerCtx *ctx);

/* Lowers a whole graph with the default options (the compute dtype
 * precision, a declared interface): one function "main", the weights still
 * to be written and the size of weight.bin. A shortcut over
 * ane_lowered_new() (ane-lowered-private.h) for the tests; the caller frees
 * the program with protobuf_c_message_free_unpacked (). */
AneMilProgram *ane_lower_graph     (AneGraph      *graph,
                                    AneMilTarget   target,
                                    AneDType       precision,
                                    GPtrArray    **blobs,
                                    guint64       *weight_size,
                                    GError       **error);

#define ANE_LOWER_FUNC(name) gboolean ane_lower_##name (AneLowerCtx *ctx, GError **error)

/* ane-lower-elementwise.c */
ANE_LOWER_FUNC (binary);
ANE_LOWER_FUNC (unary);
ANE_LOWER_FUNC (compare);
ANE_LOWER_FUNC (where);
/* ane-lower-linalg.c */
ANE_LOWER_FUNC (matmul);
ANE_LOWER_FUNC (lora_matmul);
ANE_LOWER_FUNC (grouped_matmul);
ANE_LOWER_FUNC (dequant_matmul);
ANE_LOWER_FUNC (dequant_grouped_matmul);
ANE_LOWER_FUNC (dequant_moe_weights);
/* ane-lower-norm.c */
ANE_LOWER_FUNC (softmax);
ANE_LOWER_FUNC (layer_norm);
ANE_LOWER_FUNC (rms_norm);
ANE_LOWER_FUNC (group_norm);
ANE_LOWER_FUNC (layer_norm_2d);
ANE_LOWER_FUNC (batch_norm);
/* ane-lower-attention.c */
ANE_LOWER_FUNC (attention);
ANE_LOWER_FUNC (rope);
ANE_LOWER_FUNC (axial_rope_2d);
/* ane-lower-shape.c */
ANE_LOWER_FUNC (reshape);
ANE_LOWER_FUNC (transpose);
ANE_LOWER_FUNC (concat);
ANE_LOWER_FUNC (narrow);
ANE_LOWER_FUNC (gather);
ANE_LOWER_FUNC (expand);
ANE_LOWER_FUNC (cast);
ANE_LOWER_FUNC (stop_gradient);
ANE_LOWER_FUNC (slice_update);
/* ane-lower-reduce.c */
ANE_LOWER_FUNC (reduce);
ANE_LOWER_FUNC (cumsum);
ANE_LOWER_FUNC (top_k);
ANE_LOWER_FUNC (scatter_add);
/* ane-lower-quant.c */
ANE_LOWER_FUNC (quantize);
ANE_LOWER_FUNC (dequantize);
/* ane-lower-ssm.c */
ANE_LOWER_FUNC (selective_scan);
ANE_LOWER_FUNC (gated_delta_net);
/* ane-lower-vision.c */
ANE_LOWER_FUNC (conv);
ANE_LOWER_FUNC (conv_transpose_2d);
ANE_LOWER_FUNC (pool);
ANE_LOWER_FUNC (resize_nearest_2x);
/* ane-lower-state.c */
ANE_LOWER_FUNC (source);
ANE_LOWER_FUNC (read_state);
ANE_LOWER_FUNC (write_state);
/* ane-lower-index.c */
ANE_LOWER_FUNC (pad);
ANE_LOWER_FUNC (gather_elements);
ANE_LOWER_FUNC (arg_reduce);
/* ane-lower-loss.c */
ANE_LOWER_FUNC (cross_entropy);
/* ane-lower-resize.c */
ANE_LOWER_FUNC (resize);

/* The Neural Engine profile's rewrites, each in its own file with its
 * sources: ane-lower-ane-<name>.c. */
ANE_LOWER_FUNC (ane_matmul);       /* ane-lower-ane-conv.c */
ANE_LOWER_FUNC (ane_unary);        /* ane-lower-ane-layout.c */
ANE_LOWER_FUNC (ane_binary);       /* ane-lower-ane-layout.c */
ANE_LOWER_FUNC (ane_rms_norm);     /* ane-lower-ane-rms-norm.c */
ANE_LOWER_FUNC (ane_attention);    /* ane-lower-ane-attention.c */
ANE_LOWER_FUNC (ane_where);        /* ane-lower-ane-select.c */

#undef ANE_LOWER_FUNC

/* What both attention lowerings read of the node (ane-lower-attention.c):
 * q [B, H, S, D], k [B, Hkv, L, D], v [B, Hkv, L, Dv], H = G · Hkv; scale
 * (1/sqrt(D) when the attribute is 0), softcap, causal and whether a mask
 * is needed for it (S > 1), and c, q's factor when the product is composed
 * (scale, or scale / softcap before the tanh). */
typedef struct {
  gint64   B, H, S, D, Hkv, L, Dv, G;
  gboolean causal, need_mask;
  double   scale_attr, scale, softcap, c;
} AneLowerAttention;

void        ane_lower_attention_read (AneLowerCtx       *ctx,
                                      AneLowerAttention *a);
/* The end-aligned causal mask, an additive const [S, L] in the compute
 * dtype: 0 where key j is visible to query i (j <= i + L - S), masked
 * (-inf in the generic lowering, a finite value where the Neural Engine's
 * fp16 must not overflow) where it is not. */
const char *ane_lower_causal_mask    (AneLowerNames     *w,
                                      gint64             S,
                                      gint64             L,
                                      double             masked);

G_END_DECLS
