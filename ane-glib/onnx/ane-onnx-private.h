/* ane-onnx-private.h: the ONNX importer's converter interface
 *
 * An ONNX model is imported by walking its graph's nodes in order (ONNX
 * requires them topologically sorted, onnx/onnx.proto "GraphProto.node":
 * "The nodes in the graph, sorted topologically."). Every node is handed to
 * the converter registered for its op type and the opset of its domain; the
 * converter reads the node through an AneOnnxNode view and sets the node's
 * outputs, either as tensors of the AneGraph being built or as constants
 * known at import time.
 *
 * VALUES. Every ONNX value (graph input, initializer, node output) is, at
 * import time, one of:
 *   - a constant: a host AneTensor with data (initializers, Constant nodes,
 *     inputs bound with --input-value, and everything folded from them);
 *   - a graph tensor: an AneTensor of the AneGraph being built.
 * Both always have a static shape: symbolic dims are bound before the walk,
 * so Shape of a runtime tensor is a constant too.
 * ONNX int64 values are int32 in the graph (MIL has no int64 at the
 * interface); constants may stay int64 on the host so shape arithmetic keeps
 * its range (Slice's INT64_MAX ends), and they are range-checked when they
 * become graph constants (ane_onnx_node_input()).
 *
 * CONSTANT FOLDING. When every present input of a node is a constant, the
 * walker folds the node: it calls the same converter with
 * ane_onnx_node_graph() returning a scratch graph in which the inputs are
 * ane_graph_const() nodes, runs the scratch graph through the reference
 * evaluator (ane-reference.c) and stores the outputs as constants. So a
 * converter written with graph ops folds for free; a converter may also set
 * constant outputs itself (Shape, Size, Range, ConstantOfShape do: they need
 * int64 on the host), which the walker keeps as they are. A row flagged
 * ANE_ONNX_CONVERTER_NO_FOLD is never folded this way (If, which instead
 * inlines the branch its constant condition takes).
 *
 * ADDING A CONVERTER
 *   1. In your file (ane-onnx-ops-<family>.c), write
 *        static gboolean
 *        convert_relu (AneOnnxNode *node, GError **error)
 *        {
 *          AneTensor *x = ane_onnx_node_input (node, 0, error);
 *          if (x == NULL)
 *            return FALSE;
 *          return ane_onnx_node_set_output (node, 0,
 *                   ane_graph_relu (ane_onnx_node_graph (node), x, error), error);
 *        }
 *      Read attributes with ane_onnx_node_attr_*(), inputs needed at import
 *      time with ane_onnx_node_input_int64s()/_floats(), and refuse what you
 *      do not support with ane_onnx_node_error() (it names node and op).
 *   2. Add a row {"Relu", 6, convert_relu, 0} to your file's table, e.g.
 *        const AneOnnxConverter ane_onnx_converters_extra[] = {
 *          { "Relu", 6, convert_relu, 0 },
 *          { NULL }
 *        };
 *      since_opset is the first default-domain opset whose semantics the
 *      function implements; when the semantics changed (Softmax at 13,
 *      Squeeze at 13, ...), add one row per version with its own function,
 *      or one function that branches on ane_onnx_node_opset(). The lookup
 *      takes the row with the greatest since_opset <= the model's opset.
 *   3. A new file: declare its table below and add it to the list in
 *      ane-onnx-registry.c (one line), and the file to ane-glib/meson.build.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "ane-graph.h"
#include "ane-tensor.h"

G_BEGIN_DECLS

/* The importer's view of one ONNX node (opaque; valid only during the
 * converter call). */
typedef struct _AneOnnxNode AneOnnxNode;

typedef gboolean (*AneOnnxConvertFunc) (AneOnnxNode *node,
                                        GError     **error);

typedef enum {
  ANE_ONNX_CONVERTER_NONE    = 0,
  /* never constant-folded through a scratch graph (control flow) */
  ANE_ONNX_CONVERTER_NO_FOLD = 1 << 0,
} AneOnnxConverterFlags;

typedef struct {
  const char            *op_type;      /* ONNX op type, default domain */
  int                    since_opset;  /* first opset this row implements */
  AneOnnxConvertFunc     convert;
  AneOnnxConverterFlags  flags;
} AneOnnxConverter;

/* The converter tables, one per file, each ending with a { NULL } row;
 * ane-onnx-registry.c lists them. */
extern const AneOnnxConverter ane_onnx_converters_core[];   /* ane-onnx-ops-core.c: constants, shape glue */
extern const AneOnnxConverter ane_onnx_converters_math[];   /* ane-onnx-ops-math.c: elementwise, reductions, matmul */
extern const AneOnnxConverter ane_onnx_converters_nn[];     /* ane-onnx-ops-nn.c: conv, pool, norm, resize */
extern const AneOnnxConverter ane_onnx_converters_rnn[];    /* ane-onnx-ops-rnn.c */
extern const AneOnnxConverter ane_onnx_converters_extra[];  /* ane-onnx-ops-extra.c */
extern const AneOnnxConverter ane_onnx_converters_resize[]; /* ane-onnx-ops-resize.c */

/* Default-domain opsets the importer accepts (ONNX opset 9 .. 22; the
 * upper bound is onnx 1.17's, onnx/defs/schema.h, and a later opset is
 * refused because its ops may have changed meaning). */
#define ANE_ONNX_MIN_OPSET 9
#define ANE_ONNX_MAX_OPSET 22

/* Registry (ane-onnx-registry.c). The row for op_type at opset, or NULL;
 * when NULL and min_opset is given, *min_opset gets the smallest
 * since_opset of the op's rows (0: no row at all), for the error message. */
const AneOnnxConverter *ane_onnx_find_converter (const char *op_type,
                                                 gint64      opset,
                                                 int        *min_opset);

/* ---- the node view ---- */

const char  *ane_onnx_node_op_type     (AneOnnxNode *node);
/* The node's name, or its first output's name when the export left it empty. */
const char  *ane_onnx_node_name        (AneOnnxNode *node);
/* The opset version imported for the node's domain. */
gint64       ane_onnx_node_opset       (AneOnnxNode *node);
/* The graph outputs are built in: the model's, or a scratch graph while
 * folding. Always build with this one. */
AneGraph    *ane_onnx_node_graph       (AneOnnxNode *node);
/* TRUE while the node is being folded (every present input is a constant). */
gboolean     ane_onnx_node_is_folding  (AneOnnxNode *node);

/* Inputs. Index i counts ONNX's input list; an optional input is absent
 * when it is past the end of the list or its name is empty. */
guint        ane_onnx_node_n_inputs    (AneOnnxNode *node);
gboolean     ane_onnx_node_has_input   (AneOnnxNode *node,
                                        guint        i);
const char  *ane_onnx_node_input_name  (AneOnnxNode *node,
                                        guint        i);
/* The input's constant value (transfer none), or NULL when it is a graph
 * tensor or absent. Its dtype is the ONNX one (int64 stays int64). */
AneTensor   *ane_onnx_node_input_constant (AneOnnxNode *node,
                                           guint        i);
gboolean     ane_onnx_node_input_is_constant (AneOnnxNode *node,
                                              guint        i);
/* TRUE when every present input is a constant. */
gboolean     ane_onnx_node_all_inputs_constant (AneOnnxNode *node);
/* The input as a tensor of ane_onnx_node_graph() (transfer none, owned by
 * the importer), materialising a constant with ane_graph_const() (int64
 * converted to int32, with a range check). An absent input is an error
 * naming the node and the input index. */
AneTensor   *ane_onnx_node_input       (AneOnnxNode *node,
                                        guint        i,
                                        GError     **error);
/* Like ane_onnx_node_input() but NULL without error when absent. */
AneTensor   *ane_onnx_node_input_optional (AneOnnxNode *node,
                                           guint        i,
                                           GError     **error);
/* Shape and dtype of a present input (constant or graph tensor); the dtype
 * is the graph's (int64 reported as int32 for graph tensors). */
const gint64 *ane_onnx_node_input_shape (AneOnnxNode *node,
                                         guint        i,
                                         guint       *rank);
AneDType     ane_onnx_node_input_dtype  (AneOnnxNode *node,
                                         guint        i);
/* A constant input's values on the host (g_free them); any integer, bool
 * or float dtype is converted (floats to int64 only when integral). An
 * input that is not known at import time is an error naming the node, the
 * input and what it is used for ("what", e.g. "shape"). */
gint64      *ane_onnx_node_input_int64s (AneOnnxNode *node,
                                         guint        i,
                                         const char  *what,
                                         gsize       *n_values,
                                         GError     **error);
float       *ane_onnx_node_input_floats (AneOnnxNode *node,
                                         guint        i,
                                         const char  *what,
                                         gsize       *n_values,
                                         GError     **error);

/* Outputs. An output is wanted when present with a non-empty name. */
guint        ane_onnx_node_n_outputs      (AneOnnxNode *node);
gboolean     ane_onnx_node_output_wanted  (AneOnnxNode *node,
                                           guint        i);
/* Set output i (transfer full). value is a tensor of ane_onnx_node_graph()
 * or a host tensor with data (a constant); NULL returns FALSE with the
 * error the builder set (so `return set_output (node, 0, ane_graph_x (...,
 * error), error);` is the idiom). Setting an unwanted output drops it. */
gboolean     ane_onnx_node_set_output     (AneOnnxNode *node,
                                           guint        i,
                                           AneTensor   *value,
                                           GError     **error);
/* Materialise a host tensor in ane_onnx_node_graph() (int64 → int32 with a
 * range check); transfer none, owned by the importer. */
AneTensor   *ane_onnx_node_const          (AneOnnxNode *node,
                                           AneTensor   *host,
                                           GError     **error);

/* Attributes. Each returns FALSE with an error naming node, op and
 * attribute when the attribute is present with another type; when absent,
 * the default is stored (lists: NULL, 0; *present FALSE where offered). */
gboolean     ane_onnx_node_has_attr       (AneOnnxNode *node,
                                           const char  *name);
gboolean     ane_onnx_node_attr_int       (AneOnnxNode *node,
                                           const char  *name,
                                           gint64       default_value,
                                           gint64      *out,
                                           GError     **error);
gboolean     ane_onnx_node_attr_float     (AneOnnxNode *node,
                                           const char  *name,
                                           double       default_value,
                                           double      *out,
                                           GError     **error);
/* transfer none: valid during the converter call */
gboolean     ane_onnx_node_attr_string    (AneOnnxNode *node,
                                           const char  *name,
                                           const char  *default_value,
                                           const char **out,
                                           GError     **error);
/* transfer none; *out NULL and *n 0 when absent */
gboolean     ane_onnx_node_attr_ints      (AneOnnxNode   *node,
                                           const char    *name,
                                           const gint64 **out,
                                           gsize         *n,
                                           GError       **error);
gboolean     ane_onnx_node_attr_floats    (AneOnnxNode   *node,
                                           const char    *name,
                                           const float  **out,
                                           gsize         *n,
                                           GError       **error);
/* transfer full; *out NULL when absent */
gboolean     ane_onnx_node_attr_tensor    (AneOnnxNode  *node,
                                           const char   *name,
                                           AneTensor   **out,
                                           GError      **error);
/* Subgraph attributes (If's branches): walk the subgraph named by the
 * attribute in the node's scope (its outer-scope references resolve to
 * the enclosing values; constants fold as anywhere) and bind its outputs,
 * in order, to the node's outputs. */
gboolean     ane_onnx_node_inline_subgraph (AneOnnxNode *node,
                                            const char  *attr_name,
                                            GError     **error);

/* Fusing a node with the one that consumes its output (Conv followed by
 * BatchNormalization folds the normalization into the weights, as
 * coremltools' fuse_conv_batchnorm pass does, which fp16 needs). The node
 * that alone consumes output i (in the same graph, not a graph output, not
 * used by a subgraph), when its op type is op_type; NULL otherwise or while
 * folding. The view (owned by node) reads the consumer's inputs and
 * attributes as they are now. Claiming it means node's output 0 is the
 * consumer's output 0: the walker binds it so and skips the consumer. */
AneOnnxNode *ane_onnx_node_peek_consumer  (AneOnnxNode *node,
                                           guint        i,
                                           const char  *op_type);
void         ane_onnx_node_claim_consumer (AneOnnxNode *node,
                                           AneOnnxNode *consumer);

/* Errors. Sets error (ANE_ERROR domain, code) to
 * "ONNX node 'NAME' (OP_TYPE): MESSAGE" and returns FALSE. */
gboolean     ane_onnx_node_error          (AneOnnxNode *node,
                                           GError     **error,
                                           AneError     code,
                                           const char  *format,
                                           ...) G_GNUC_PRINTF (4, 5);
/* ONNX's negative axis convention: axis in [-rank, rank) → [0, rank). */
gboolean     ane_onnx_node_normalize_axis (AneOnnxNode *node,
                                           gint64       axis,
                                           guint        rank,
                                           int         *out,
                                           GError     **error);

/* ONNX TensorProto.DataType (1 FLOAT, 7 INT64, ...) → the graph's dtype
 * (int64 → int32, double → float32); FALSE for types not imported. */
gboolean     ane_onnx_dtype_from_elem_type (gint64       elem_type,
                                            AneDType    *dtype);

/* Host tensors for converters that fold themselves (shape arithmetic). */
AneTensor   *ane_onnx_tensor_new_int64s   (const gint64 *values,
                                           const gint64 *shape,
                                           guint         rank,
                                           GError      **error);

G_END_DECLS
