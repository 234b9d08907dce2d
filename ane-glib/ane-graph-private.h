/* ane-graph-private.h: the graph's nodes, for the evaluators, the serializer and lowering
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-op-catalog.h"
#include "ane-shape-flex-private.h"

G_BEGIN_DECLS

typedef struct {
  guint node;   /* ANE_NO_NODE for an absent optional input */
  guint index;  /* which output of that node */
} AneValueRef;

typedef struct {
  guint            id;
  const AneOpInfo *op;
  char            *name;
  guint            n_inputs;
  AneValueRef     *inputs;
  GVariant        *attrs;                   /* a{sv}, complete */
  guint            n_outputs;
  AneSpec          outputs[ANE_MAX_OUTPUTS];
  AneTensor       *value;                   /* const data, or a param's baked value */
} AneNode;

typedef struct {
  char        *name;
  AneValueRef  ref;
} AneGraphOutput;

guint                 ane_graph_get_n_nodes_internal (AneGraph *self);
const AneNode        *ane_graph_get_node       (AneGraph    *self,
                                                guint        id);
const AneNode        *ane_graph_find_node      (AneGraph    *self,
                                                const char  *name);
guint                 ane_graph_get_n_outputs  (AneGraph    *self);
const AneGraphOutput *ane_graph_get_output     (AneGraph    *self,
                                                guint        index);
const AneSpec        *ane_graph_value_spec     (AneGraph    *self,
                                                AneValueRef  ref);

/* needed[] (one per node, zeroed) gets TRUE for every node an output or a
 * side effect depends on. */
void                  ane_graph_mark_needed    (AneGraph    *self,
                                                gboolean    *needed);

/* The generic builder used by every op method, the JSON loader and lowering tests. */
AneTensor *ane_graph_add_node   (AneGraph         *self,
                                 AneOpKind         kind,
                                 AneTensor *const *inputs,
                                 guint             n_inputs,
                                 GVariant         *attrs,
                                 GPtrArray       **all_outputs,
                                 GError          **error);
/* Sources carry their spec; value may be NULL (input, param, state). */
AneTensor *ane_graph_add_source (AneGraph         *self,
                                 AneOpKind         kind,
                                 const char       *name,
                                 const AneSpec    *spec,
                                 AneTensor        *value,
                                 GVariant         *attrs,
                                 GError          **error);

guint64    ane_graph_get_uid       (AneGraph       *self);

/* Flexible input shapes (ane-graph-flex.c). The table itself: input name ->
 * AneShapeFlex, owned by the graph. */
GHashTable *ane_graph_get_flex_table (AneGraph      *self);
/* The flexibility declared for an input, or NULL when its shape is fixed. */
const AneShapeFlex *ane_graph_get_input_flex (AneGraph     *self,
                                              const char   *name);
/* Whether any input of the graph has a flexible shape. */
gboolean   ane_graph_is_flexible    (AneGraph      *self);
/* How a graph is built again at other input shapes when replaying its
 * nodes would not do: a graph imported from a file whose shape
 * computations were folded into constants (ONNX) is imported again with
 * the new shapes. shapes: graph input name -> gint64 array. */
typedef AneGraph *(*AneGraphRebuildFunc) (gpointer     data,
                                          GHashTable  *shapes,
                                          GError     **error);
void       ane_graph_set_rebuild    (AneGraph            *self,
                                     AneGraphRebuildFunc  func,
                                     gpointer             data,
                                     GDestroyNotify       destroy);

/* The rebuild function's graph at shapes; *has_rebuild FALSE (and NULL)
 * when the graph has none. */
AneGraph  *ane_graph_rebuild_internal (AneGraph      *self,
                                       GHashTable    *shapes,
                                       gboolean      *has_rebuild,
                                       GError       **error);

/* The same graph built again with other input shapes: shapes maps input
 * names to gint64 arrays of the input's rank (inputs not in it keep their
 * shape). Every node is added again through its op's shape rule, with its
 * name, attributes and value, so a node whose attributes only fit the old
 * shapes (a reshape to fixed sizes) fails here, named. The new graph
 * declares no flexibility. */
AneGraph  *ane_graph_specialize     (AneGraph      *self,
                                     GHashTable    *shapes,
                                     GError       **error);

G_END_DECLS
