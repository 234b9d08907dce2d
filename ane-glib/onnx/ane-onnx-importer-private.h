/* ane-onnx-importer-private.h: the importer's state, shared by the walker
 * (ane-onnx-walk.c), the node view (ane-onnx-node.c) and the model loader
 * (ane-onnx-model.c). Converters never see it: they use ane-onnx-private.h.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-onnx-private.h"
#include "onnx.pb-c.h"

G_BEGIN_DECLS

/* One ONNX value at import time (see ane-onnx-private.h, VALUES). */
typedef struct {
  AneTensor *constant;  /* host tensor with data, or NULL */
  AneTensor *tensor;    /* tensor of the model's graph (made lazily from constant) */
} AneOnnxValue;

void ane_onnx_value_free (AneOnnxValue *value);

/* Names visible where a node is walked: a subgraph's scope sees its
 * enclosing graph's values (ONNX IR.md, "outer scope" names). */
typedef struct _AneOnnxScope AneOnnxScope;
struct _AneOnnxScope {
  AneOnnxScope *parent;
  GHashTable   *values;   /* name → AneOnnxValue (owned) */
};

/* What the walk of one graph knows about its nodes' outputs. */
typedef struct {
  GHashTable *uses;        /* value name → GUINT count of uses (nodes, subgraphs, graph outputs) */
  GHashTable *consumer;    /* value name → the last Onnx__NodeProto that reads it */
  GHashTable *claimed;     /* Onnx__NodeProto set: fused into their producer, skipped */
} AneOnnxWalk;

typedef struct {
  AneGraph   *graph;       /* the graph being built */
  AneOnnxWalk *walk;       /* the innermost graph being walked */
  GHashTable *opsets;      /* domain ("" for ai.onnx) → gint64 * version */
  gint64      default_opset;
  guint       depth;       /* subgraph nesting, bounded */
  char       *model_dir;   /* resolves external data; NULL refuses it */
  const Onnx__ModelProto *model;
  GHashTable *interface_names;  /* graph input and output names given so far */
  GHashTable *input_names;      /* ONNX input name → graph input name (nullable: the caller's) */
} AneOnnxImporter;

/* Max If nesting the walker follows (hostile models). */
#define ANE_ONNX_MAX_DEPTH 32

AneOnnxScope *ane_onnx_scope_new    (AneOnnxScope *parent);
void          ane_onnx_scope_free   (AneOnnxScope *scope);
AneOnnxValue *ane_onnx_scope_lookup (AneOnnxScope *scope,
                                     const char   *name);
/* Takes ownership of constant and tensor (either may be NULL, not both). */
void          ane_onnx_scope_bind   (AneOnnxScope *scope,
                                     const char   *name,
                                     AneTensor    *constant,
                                     AneTensor    *tensor);

/* The opset imported for domain ("" or "ai.onnx": the default domain);
 * -1 when the model imports none. */
gint64        ane_onnx_importer_opset (AneOnnxImporter *imp,
                                       const char      *domain);

/* Walks graph's nodes in scope (ane-onnx-walk.c). */
gboolean      ane_onnx_walk_nodes   (AneOnnxImporter         *imp,
                                     const Onnx__GraphProto  *graph,
                                     AneOnnxScope            *scope,
                                     GError                 **error);
/* Every op type without a converter, in graph and its subgraphs: NULL when
 * all are supported, else one error message listing each with its count
 * and first node (ane-onnx-walk.c). */
char         *ane_onnx_list_unsupported (AneOnnxImporter        *imp,
                                         const Onnx__GraphProto *graph);

/* Tensors (ane-onnx-tensor.c). ONNX TensorProto → host AneTensor, with the
 * checks a hostile file needs; model_dir resolves external data (NULL:
 * external data refused). int64 stays int64, double becomes float32. */
AneTensor    *ane_onnx_tensor_from_proto (const Onnx__TensorProto *proto,
                                          const char              *model_dir,
                                          GError                 **error);
/* ONNX element type → graph dtype (int64 → int32, double → float32);
 * FALSE for types we do not import. */
gboolean      ane_onnx_elem_type_to_dtype (int       elem_type,
                                           AneDType *dtype);
const char   *ane_onnx_elem_type_name     (int       elem_type);

/* The node view's constructor and the walker's access to its outputs
 * (ane-onnx-node.c). */
AneOnnxNode  *ane_onnx_node_new        (AneOnnxImporter        *imp,
                                        const Onnx__NodeProto  *proto,
                                        AneOnnxScope           *scope,
                                        gint64                  opset,
                                        AneGraph               *graph,
                                        gboolean                folding);
void          ane_onnx_node_free       (AneOnnxNode            *node);
/* transfer none; NULL when the converter did not set it */
AneTensor    *ane_onnx_node_get_output (AneOnnxNode            *node,
                                        guint                   i);
const Onnx__NodeProto *ane_onnx_node_get_proto (AneOnnxNode    *node);
AneOnnxScope *ane_onnx_node_get_scope  (AneOnnxNode            *node);
AneOnnxImporter *ane_onnx_node_get_importer (AneOnnxNode       *node);
/* The consumer the converter claimed (ane_onnx_node_claim_consumer), or NULL. */
AneOnnxNode  *ane_onnx_node_get_claimed (AneOnnxNode            *node);

/* The loader (ane-onnx-model.c) and the options it reads (ane-onnx-import.c). */
AneGraph     *ane_onnx_import_file (const char           *path,
                                    AneOnnxImportOptions *options,
                                    GHashTable           *input_names,
                                    GError              **error);
const gint64 *ane_onnx_import_options_get_shape_internal (AneOnnxImportOptions *self,
                                                          const char           *name,
                                                          guint                *rank);
AneTensor    *ane_onnx_import_options_get_value_internal (AneOnnxImportOptions *self,
                                                          const char           *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneOnnxNode, ane_onnx_node_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneOnnxScope, ane_onnx_scope_free)

G_END_DECLS
