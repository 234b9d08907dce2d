/* ane-graph.c: the graph builder core (nodes, names, outputs, validation)
 *
 * The per-op builder methods live beside their shape rules and kernels in
 * ops/ane-ops-*.c; they all funnel into ane_graph_add_node().
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-tsan-private.h"

#include <string.h>

#include "ane-graph-private.h"
#include "ane-tensor-private.h"

/**
 * AneGraph:
 *
 * A tensor graph under construction.
 *
 * Each builder method adds one op, infers and checks the dtypes and shapes of
 * its result, and returns the result as a symbolic [class@Ane.Tensor]. A bad
 * operand fails at once with an [error@Ane.Error] naming the op, the operand
 * and the shapes.
 *
 * ```c
 * g_autoptr(AneGraph) g = ane_graph_new ();
 * gint64 xs[] = { 1, 64 }, ws[] = { 64, 32 };
 * g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, &error);
 * g_autoptr(AneTensor) w = ane_graph_param (g, "w", ANE_DTYPE_FLOAT32, ws, 2, &error);
 * g_autoptr(AneTensor) h = ane_graph_matmul (g, x, w, FALSE, FALSE, &error);
 * g_autoptr(AneTensor) y = ane_graph_relu (g, h, &error);
 * ane_graph_add_output (g, "y", y, &error);
 * ```
 *
 * Nodes are kept in insertion order, which is a topological order: an op can
 * only use values that already exist. Graphs are compiled and run through
 * [class@Ane.Executable], and saved as JSON with [method@Ane.Graph.save].
 *
 * Loads the graph format: a JSON file of nodes and outputs with its weights
 * in a safetensors file beside it ([func@Ane.Graph.load],
 * [func@Ane.Graph.load_full]; the format is in docs/graph-format.md).
 *
 * Threads: build and bind a graph from one thread at a time. Once it is
 * built, any number of threads may compile executables of it, save it or
 * lower it at once, as long as none of them changes it.
 */
struct _AneGraph
{
  GObject     parent_instance;

  guint64     uid;
  GPtrArray  *nodes;     /* AneNode*, index == id */
  GHashTable *by_name;   /* name -> AneNode* (borrowed) */
  GPtrArray  *outputs;   /* AneGraphOutput* */
  GPtrArray  *scopes;    /* char* */
  GHashTable *counters;  /* op name -> next auto-name number */
  GHashTable *flex;      /* input name -> AneShapeFlex*: its flexible shape (ane-graph-flex.c) */
  AneGraphRebuildFunc rebuild;   /* builds it at other input shapes, or NULL: replay */
  gpointer            rebuild_data;
  GDestroyNotify      rebuild_destroy;
};

G_DEFINE_FINAL_TYPE (AneGraph, ane_graph, G_TYPE_OBJECT)

static void
node_free (gpointer data)
{
  AneNode *node = data;

  g_free (node->name);
  g_free (node->inputs);
  g_clear_pointer (&node->attrs, g_variant_unref);
  g_clear_object (&node->value);
  g_free (node);
}

static void
output_free (gpointer data)
{
  AneGraphOutput *out = data;

  g_free (out->name);
  g_free (out);
}

static void
ane_graph_finalize (GObject *object)
{
  AneGraph *self = ANE_GRAPH (object);

  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_clear_pointer (&self->nodes, g_ptr_array_unref);
  g_clear_pointer (&self->outputs, g_ptr_array_unref);
  g_clear_pointer (&self->scopes, g_ptr_array_unref);
  g_clear_pointer (&self->counters, g_hash_table_unref);
  g_clear_pointer (&self->flex, g_hash_table_unref);
  if (self->rebuild_destroy != NULL)
    self->rebuild_destroy (self->rebuild_data);
  G_OBJECT_CLASS (ane_graph_parent_class)->finalize (object);
}

static void
ane_graph_class_init (AneGraphClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ane_graph_finalize;
}

static void
ane_graph_init (AneGraph *self)
{
  /* A process-wide serial, so a tensor from one graph is never mistaken for
   * a value of another, even one allocated at the same address later. */
  static guint64 next_uid = 1;
  static GMutex lock;

  ane_mutex_lock (&lock);
  self->uid = next_uid++;
  ane_mutex_unlock (&lock);

  self->nodes = g_ptr_array_new_with_free_func (node_free);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->outputs = g_ptr_array_new_with_free_func (output_free);
  self->scopes = g_ptr_array_new_with_free_func (g_free);
  self->counters = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, NULL);
  self->flex = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) ane_shape_flex_free);
}

/**
 * ane_graph_new:
 *
 * Creates an empty graph.
 *
 * Returns: (transfer full): a new graph
 */
AneGraph *
ane_graph_new (void)
{
  return g_object_new (ANE_TYPE_GRAPH, NULL);
}

guint64
ane_graph_get_uid (AneGraph *self)
{
  return self->uid;
}

GHashTable *
ane_graph_get_flex_table (AneGraph *self)
{
  return self->flex;
}

void
ane_graph_set_rebuild (AneGraph            *self,
                       AneGraphRebuildFunc  func,
                       gpointer             data,
                       GDestroyNotify       destroy)
{
  if (self->rebuild_destroy != NULL)
    self->rebuild_destroy (self->rebuild_data);
  self->rebuild = func;
  self->rebuild_data = data;
  self->rebuild_destroy = destroy;
}

AneGraph *
ane_graph_rebuild_internal (AneGraph    *self,
                            GHashTable  *shapes,
                            gboolean    *has_rebuild,
                            GError     **error)
{
  *has_rebuild = self->rebuild != NULL;
  return self->rebuild != NULL ? self->rebuild (self->rebuild_data, shapes, error) : NULL;
}

guint
ane_graph_get_n_nodes_internal (AneGraph *self)
{
  return self->nodes->len;
}

const AneNode *
ane_graph_get_node (AneGraph *self,
                    guint     id)
{
  g_return_val_if_fail (id < self->nodes->len, NULL);
  return g_ptr_array_index (self->nodes, id);
}

const AneNode *
ane_graph_find_node (AneGraph   *self,
                     const char *name)
{
  return g_hash_table_lookup (self->by_name, name);
}

guint
ane_graph_get_n_outputs (AneGraph *self)
{
  return self->outputs->len;
}

const AneGraphOutput *
ane_graph_get_output (AneGraph *self,
                      guint     index)
{
  g_return_val_if_fail (index < self->outputs->len, NULL);
  return g_ptr_array_index (self->outputs, index);
}

const AneSpec *
ane_graph_value_spec (AneGraph    *self,
                      AneValueRef  ref)
{
  const AneNode *node = ane_graph_get_node (self, ref.node);

  g_return_val_if_fail (node != NULL && ref.index < node->n_outputs, NULL);
  return &node->outputs[ref.index];
}

/**
 * ane_graph_get_n_nodes:
 * @self: a graph
 *
 * The number of nodes in the graph.
 *
 * Returns: the number of nodes (sources included)
 */
guint
ane_graph_get_n_nodes (AneGraph *self)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), 0);
  return self->nodes->len;
}

/* A valid node name is non-empty printable ASCII without '"' or '\\' (names
 * travel into JSON, safetensors headers and, sanitized, MIL identifiers). */
static gboolean
name_is_valid (const char *name)
{
  if (name == NULL || *name == '\0' || strlen (name) > 1024)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
      return FALSE;
  return TRUE;
}

static char *
auto_name (AneGraph   *self,
           const char *base)
{
  g_autoptr(GString) prefix = g_string_new (NULL);

  for (guint i = 0; i < self->scopes->len; i++)
    g_string_append_printf (prefix, "%s/", (const char *) g_ptr_array_index (self->scopes, i));
  g_string_append (prefix, base);
  if (!g_hash_table_contains (self->by_name, prefix->str))
    return g_string_free (g_steal_pointer (&prefix), FALSE);
  for (guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->counters, base)) + 1;; n++)
    {
      char *candidate = g_strdup_printf ("%s_%u", prefix->str, n);

      if (!g_hash_table_contains (self->by_name, candidate))
        {
          g_hash_table_insert (self->counters, (gpointer) g_intern_string (base), GUINT_TO_POINTER (n));
          return candidate;
        }
      g_free (candidate);
    }
}

static char *
value_name (const AneNode *node,
            guint          index)
{
  return index == 0 ? g_strdup (node->name) : g_strdup_printf ("%s:%u", node->name, index);
}

static AneTensor *
node_tensor (AneGraph      *self,
             const AneNode *node,
             guint          index)
{
  g_autofree char *name = value_name (node, index);

  return ane_tensor_new_symbolic (self->uid, node->id, index, name, &node->outputs[index]);
}

static AneNode *
append_node (AneGraph        *self,
             const AneOpInfo *op,
             char            *name,
             GVariant        *attrs)
{
  AneNode *node = g_new0 (AneNode, 1);

  node->id = self->nodes->len;
  node->op = op;
  node->name = name;
  node->attrs = attrs;
  g_ptr_array_add (self->nodes, node);
  g_hash_table_insert (self->by_name, node->name, node);
  return node;
}

static gboolean
resolve_input (AneGraph        *self,
               const AneOpInfo *op,
               guint            slot,
               AneTensor       *tensor,
               AneValueRef     *ref,
               GError         **error)
{
  guint64 uid;

  if (tensor == NULL)
    {
      ref->node = ANE_NO_NODE;
      ref->index = 0;
      if (ane_op_info_slot_optional (op, slot))
        return TRUE;
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: input '%s' is required", op->name, ane_op_info_slot_name (op, slot));
      return FALSE;
    }
  if (!ANE_IS_TENSOR (tensor) || !ane_tensor_get_origin (tensor, &uid, &ref->node, &ref->index) ||
      uid != self->uid || ref->node >= self->nodes->len)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH,
                   "%s: input '%s' (%s) is not a value of this graph; wrap data with "
                   "ane_graph_const() or ane_graph_param_with_value()",
                   op->name, ane_op_info_slot_name (op, slot),
                   ANE_IS_TENSOR (tensor) ? ane_tensor_get_name (tensor) : "not a tensor");
      return FALSE;
    }
  return TRUE;
}

AneTensor *
ane_graph_add_node (AneGraph         *self,
                    AneOpKind         kind,
                    AneTensor *const *inputs,
                    guint             n_inputs,
                    GVariant         *attrs,
                    GPtrArray       **all_outputs,
                    GError          **error)
{
  const AneOpInfo *op = ane_op_catalog_get (kind);
  g_autoptr(GVariant) sunk = attrs ? g_variant_ref_sink (attrs) : NULL;
  g_autoptr(GVariant) complete = NULL;
  g_autofree AneValueRef *refs = NULL;
  g_autofree const AneSpec **specs = NULL;
  g_autofree char *name = NULL;
  guint n_slots = ane_op_info_n_slots (op);
  AneInferCtx ctx = { 0 };
  AneNode *node;

  g_return_val_if_fail (!(op->flags & ANE_OP_FLAG_SOURCE), NULL);

  if (op->flags & ANE_OP_FLAG_VARIADIC ? n_inputs == 0 : n_inputs != n_slots)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: takes %s%u input%s, got %u", op->name,
                   op->flags & ANE_OP_FLAG_VARIADIC ? "at least " : "",
                   op->flags & ANE_OP_FLAG_VARIADIC ? 1 : n_slots,
                   n_slots == 1 ? "" : "s", n_inputs);
      return NULL;
    }

  name = auto_name (self, op->name);
  complete = ane_op_attrs_complete (op, name, sunk, error);
  if (complete == NULL)
    return NULL;

  refs = g_new0 (AneValueRef, MAX (n_inputs, 1));
  specs = g_new0 (const AneSpec *, MAX (n_inputs, 1));
  for (guint i = 0; i < n_inputs; i++)
    {
      guint slot = op->flags & ANE_OP_FLAG_VARIADIC ? 0 : i;

      if (!resolve_input (self, op, slot, inputs[i], &refs[i], error))
        return NULL;
      specs[i] = refs[i].node == ANE_NO_NODE ? NULL : ane_graph_value_spec (self, refs[i]);
    }
  /* State ops take the state itself, never a computed value of that shape. */
  if ((kind == ANE_OP_READ_STATE || kind == ANE_OP_WRITE_STATE) &&
      ane_graph_get_node (self, refs[0].node)->op->kind != ANE_OP_STATE)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: input 'state' ('%s') is not a state; declare one with ane_graph_state()",
                   op->name, ane_graph_get_node (self, refs[0].node)->name);
      return NULL;
    }

  ctx.op = op;
  ctx.node_name = name;
  ctx.n_inputs = n_inputs;
  ctx.inputs = specs;
  ctx.attrs = complete;
  ctx.n_outputs = op->n_outputs;
  if (!op->infer (&ctx, error))
    return NULL;
  for (guint i = 0; i < op->n_outputs; i++)
    {
      g_autofree char *what = g_strdup_printf ("%s '%s' output %u", op->name, name, i);
      if (!ane_spec_check (&ctx.outputs[i], what, error))
        return NULL;
    }

  node = append_node (self, op, g_steal_pointer (&name), g_steal_pointer (&complete));
  node->n_inputs = n_inputs;
  node->inputs = g_steal_pointer (&refs);
  node->n_outputs = op->n_outputs;
  memcpy (node->outputs, ctx.outputs, sizeof ctx.outputs);

  if (all_outputs != NULL)
    {
      *all_outputs = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < node->n_outputs; i++)
        g_ptr_array_add (*all_outputs, node_tensor (self, node, i));
    }
  return node_tensor (self, node, 0);
}

/* An input, param or state with a zero dimension holds no elements: a
 * caller's slip (a size left at 0, a shape from an empty list) that would
 * otherwise surface far from its cause, as an empty output or at lowering
 * or run time. Refused where it is declared, naming the dimension. Consts
 * are not checked here: their shape comes with their value. */
static gboolean
source_dims_nonzero (const AneSpec *spec,
                     const char    *what,
                     GError       **error)
{
  for (guint i = 0; i < spec->rank; i++)
    if (spec->shape[i] == 0)
      {
        char buf[ANE_SPEC_STRLEN];

        g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                     "%s: dimension %u is 0 in %s (every dimension must be at least 1)",
                     what, i, ane_spec_format (spec, buf));
        return FALSE;
      }
  return TRUE;
}

AneTensor *
ane_graph_add_source (AneGraph      *self,
                      AneOpKind      kind,
                      const char    *name,
                      const AneSpec *spec,
                      AneTensor     *value,
                      GVariant      *attrs,
                      GError       **error)
{
  const AneOpInfo *op = ane_op_catalog_get (kind);
  g_autoptr(GVariant) sunk = attrs ? g_variant_ref_sink (attrs) : NULL;
  g_autoptr(GVariant) complete = NULL;
  g_autofree char *what = NULL;
  AneNode *node;

  g_return_val_if_fail (op->flags & ANE_OP_FLAG_SOURCE, NULL);

  if (!name_is_valid (name))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: invalid name '%s' (need 1-1024 printable ASCII characters, no quotes or backslashes)",
                   op->name, name ? name : "(null)");
      return NULL;
    }
  if (g_hash_table_contains (self->by_name, name))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: the name '%s' is already used in this graph", op->name, name);
      return NULL;
    }
  what = g_strdup_printf ("%s '%s'", op->name, name);
  if (!ane_spec_check (spec, what, error))
    return NULL;
  if (kind != ANE_OP_CONST && !source_dims_nonzero (spec, what, error))
    return NULL;
  if (value != NULL && !ane_tensor_check_spec (value, spec, error, "%s", what))
    return NULL;
  complete = ane_op_attrs_complete (op, name, sunk, error);
  if (complete == NULL)
    return NULL;

  node = append_node (self, op, g_strdup (name), g_steal_pointer (&complete));
  node->n_outputs = 1;
  node->outputs[0] = *spec;
  node->value = value ? ane_tensor_rename (value, name) : NULL;
  return node_tensor (self, node, 0);
}

static gboolean
source_spec (const char    *op,
             const char    *name,
             AneDType       dtype,
             const gint64  *shape,
             guint          rank,
             AneSpec       *spec,
             GError       **error)
{
  if (rank > ANE_MAX_RANK || (rank > 0 && shape == NULL))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "%s '%s': rank %u is not valid (at most %d, with a shape)",
                   op, name ? name : "", rank, ANE_MAX_RANK);
      return FALSE;
    }
  memset (spec, 0, sizeof *spec);
  spec->dtype = dtype;
  ane_spec_set_shape (spec, shape, rank);
  return TRUE;
}

/**
 * ane_graph_input:
 * @self: a graph
 * @name: the input's name, used by [method@Ane.Executable.run]
 * @dtype: element type
 * @shape: (array length=rank) (nullable): dimensions
 * @rank: number of dimensions
 * @error: return location for a #GError
 *
 * Declares a graph input, fed at run time.
 *
 * Every dimension must be at least 1: a zero dimension is
 * %ANE_ERROR_INVALID_ARGUMENT.
 *
 * Returns: (transfer full): the input value
 */
AneTensor *
ane_graph_input (AneGraph     *self,
                 const char   *name,
                 AneDType      dtype,
                 const gint64 *shape,
                 guint         rank,
                 GError      **error)
{
  AneSpec spec;

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  if (!source_spec ("input", name, dtype, shape, rank, &spec, error))
    return NULL;
  if (ane_dtype_is_block (dtype))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                   "input '%s': block-quantized dtype %s is only allowed for params and consts",
                   name ? name : "", ane_dtype_to_string (dtype));
      return NULL;
    }
  return ane_graph_add_source (self, ANE_OP_INPUT, name, &spec, NULL, NULL, error);
}

/**
 * ane_graph_param:
 * @self: a graph
 * @name: the param's name, used by [method@Ane.Executable.set_param] and in saved weights
 * @dtype: element type (block-quantized dtypes allowed)
 * @shape: (array length=rank) (nullable): dimensions
 * @rank: number of dimensions
 * @error: return location for a #GError
 *
 * Declares a named weight whose value is supplied later, with
 * [method@Ane.Graph.bind_param] or [method@Ane.Executable.set_param].
 *
 * Every dimension must be at least 1: a zero dimension is
 * %ANE_ERROR_INVALID_ARGUMENT.
 *
 * Returns: (transfer full): the param value
 */
AneTensor *
ane_graph_param (AneGraph     *self,
                 const char   *name,
                 AneDType      dtype,
                 const gint64 *shape,
                 guint         rank,
                 GError      **error)
{
  AneSpec spec;

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  if (!source_spec ("param", name, dtype, shape, rank, &spec, error))
    return NULL;
  return ane_graph_add_source (self, ANE_OP_PARAM, name, &spec, NULL, NULL, error);
}

/**
 * ane_graph_param_dynamic:
 * @self: a graph
 * @name: the param's name, used by [method@Ane.Executable.set_param]
 * @dtype: element type: float32, float16 or int32
 * @shape: (array length=rank) (nullable): dimensions
 * @rank: number of dimensions
 * @error: return location for a #GError
 *
 * Declares a weight that changes while the graph runs: the lowering makes
 * it an input of the program instead of a constant, so a value bound with
 * [method@Ane.Executable.set_param] after compiling takes effect at the
 * next run without preparing the program again, on every backend (what a
 * training step needs: new weights, the same compiled program). A weight
 * of the graph's own ([method@Ane.Graph.bind_param]) is the value until
 * the executable binds one.
 *
 * It is an input of the program as Core ML sees it, so its dtype must be
 * one a model interface takes (%ANE_ERROR_UNSUPPORTED otherwise) and its
 * name a MIL identifier (checked when the graph is lowered).
 *
 * Returns: (transfer full): the param value
 *
 * Since: 0.2
 */
AneTensor *
ane_graph_param_dynamic (AneGraph     *self,
                         const char   *name,
                         AneDType      dtype,
                         const gint64 *shape,
                         guint         rank,
                         GError      **error)
{
  g_auto(GVariantBuilder) attrs = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  AneSpec spec;

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  if (!source_spec ("param_dynamic", name, dtype, shape, rank, &spec, error))
    return NULL;
  if (dtype != ANE_DTYPE_FLOAT32 && dtype != ANE_DTYPE_FLOAT16 && dtype != ANE_DTYPE_INT32)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "param_dynamic: '%s' has dtype %s; a dynamic param is a program input, and Core ML model "
                   "inputs are float32, float16 or int32", name ? name : "(null)", ane_dtype_to_string (dtype));
      return NULL;
    }
  g_variant_builder_add (&attrs, "{sv}", "dynamic", g_variant_new_boolean (TRUE));
  return ane_graph_add_source (self, ANE_OP_PARAM, name, &spec, NULL, g_variant_builder_end (&attrs), error);
}

/**
 * ane_graph_param_with_value:
 * @self: a graph
 * @value: a concrete tensor; its name becomes the param's name
 * @error: return location for a #GError
 *
 * Declares a named weight with a baked-in value (an executable may still
 * override it with [method@Ane.Executable.set_param]).
 *
 * Returns: (transfer full): the param value
 */
AneTensor *
ane_graph_param_with_value (AneGraph   *self,
                            AneTensor  *value,
                            GError    **error)
{
  AneSpec spec;

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (value), NULL);
  ane_tensor_get_spec (value, &spec);
  return ane_graph_add_source (self, ANE_OP_PARAM, ane_tensor_get_name (value), &spec, value,
                               NULL, error);
}

/**
 * ane_graph_const:
 * @self: a graph
 * @value: a concrete tensor
 * @error: return location for a #GError
 *
 * Adds a constant. If @value's name is empty or taken, a fresh name is made.
 *
 * Returns: (transfer full): the constant value
 */
AneTensor *
ane_graph_const (AneGraph   *self,
                 AneTensor  *value,
                 GError    **error)
{
  g_autofree char *name = NULL;
  const char *wanted;
  AneSpec spec;

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (value), NULL);

  wanted = ane_tensor_get_name (value);
  name = name_is_valid (wanted) && !g_hash_table_contains (self->by_name, wanted)
         ? g_strdup (wanted) : auto_name (self, "const");
  ane_tensor_get_spec (value, &spec);
  return ane_graph_add_source (self, ANE_OP_CONST, name, &spec, value, NULL, error);
}

/**
 * ane_graph_scalar:
 * @self: a graph
 * @dtype: a non-block element type
 * @value: the value
 * @error: return location for a #GError
 *
 * Adds a rank-0 constant, handy as a broadcast operand.
 *
 * Returns: (transfer full): the constant value
 */
AneTensor *
ane_graph_scalar (AneGraph *self,
                  AneDType  dtype,
                  double    value,
                  GError  **error)
{
  g_autoptr(AneTensor) t = NULL;

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  t = ane_tensor_new_scalar (NULL, dtype, value, error);
  return t ? ane_graph_const (self, t, error) : NULL;
}

/**
 * ane_graph_state:
 * @self: a graph
 * @name: the state's name
 * @dtype: element type
 * @shape: (array length=rank) (nullable): dimensions
 * @rank: number of dimensions
 * @error: return location for a #GError
 *
 * Declares a persistent tensor (a KV cache, a recurrent state) that keeps its
 * value between runs of an executable. It starts as zeros. Read it with
 * [method@Ane.Graph.read_state], update it with [method@Ane.Graph.write_state].
 *
 * Every dimension must be at least 1: a zero dimension is
 * %ANE_ERROR_INVALID_ARGUMENT.
 *
 * Returns: (transfer full): the state handle
 */
AneTensor *
ane_graph_state (AneGraph     *self,
                 const char   *name,
                 AneDType      dtype,
                 const gint64 *shape,
                 guint         rank,
                 GError      **error)
{
  AneSpec spec;

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  if (!source_spec ("state", name, dtype, shape, rank, &spec, error))
    return NULL;
  if (!ane_dtype_is_float (dtype) && !ane_dtype_is_integer (dtype))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE, "state '%s': dtype %s is not supported",
                   name ? name : "", ane_dtype_to_string (dtype));
      return NULL;
    }
  return ane_graph_add_source (self, ANE_OP_STATE, name, &spec, NULL, NULL, error);
}

/**
 * ane_graph_apply:
 * @self: a graph
 * @op: an op name from [func@Ane.Graph.list_ops], e.g. "matmul"
 * @inputs: (array length=n_inputs): the op's inputs in slot order (%NULL for an absent optional input)
 * @n_inputs: number of inputs
 * @attrs: (nullable): attributes as an `a{sv}` dictionary; missing ones take their defaults
 * @error: return location for a #GError
 *
 * Adds any op by name: the generic form of the per-op methods, for tools and
 * bindings that drive the catalog.
 *
 * Returns: (transfer container) (element-type AneTensor): all outputs of the op
 */
GPtrArray *
ane_graph_apply (AneGraph    *self,
                 const char  *op,
                 AneTensor  **inputs,
                 guint        n_inputs,
                 GVariant    *attrs,
                 GError     **error)
{
  const AneOpInfo *info;
  GPtrArray *outputs = NULL;
  g_autoptr(AneTensor) first = NULL;

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (op != NULL, NULL);

  info = ane_op_catalog_lookup (op);
  if (info == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "unknown op '%s'", op);
      return NULL;
    }
  if (info->flags & ANE_OP_FLAG_SOURCE)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "op '%s' is a source: use ane_graph_%s()", op, op);
      return NULL;
    }
  first = ane_graph_add_node (self, info->kind, inputs, n_inputs, attrs, &outputs, error);
  return first ? outputs : NULL;
}

/**
 * ane_graph_list_ops:
 *
 * The names of every op in the catalog, sources included.
 *
 * Returns: (transfer full) (array zero-terminated=1): op names
 */
char **
ane_graph_list_ops (void)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  char **names;

  for (guint i = 0; i < ANE_N_OPS; i++)
    g_strv_builder_add (builder, ane_op_catalog_get (i)->name);
  names = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return names;
}

static gboolean
lookup_value (AneGraph    *self,
              AneTensor   *value,
              const char  *what,
              AneValueRef *ref,
              GError     **error)
{
  guint64 uid;

  if (!ane_tensor_get_origin (value, &uid, &ref->node, &ref->index) ||
      uid != self->uid || ref->node >= self->nodes->len)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH,
                   "%s: '%s' is not a value of this graph", what, ane_tensor_get_name (value));
      return FALSE;
    }
  return TRUE;
}

/**
 * ane_graph_add_output:
 * @self: a graph
 * @name: the output's name, as it appears in run results
 * @value: a value of this graph
 * @error: return location for a #GError
 *
 * Marks @value as a graph output. Outputs keep the order they were added in.
 *
 * Returns: %TRUE on success
 */
gboolean
ane_graph_add_output (AneGraph    *self,
                      const char  *name,
                      AneTensor   *value,
                      GError     **error)
{
  AneGraphOutput *out;
  AneValueRef ref;

  g_return_val_if_fail (ANE_IS_GRAPH (self), FALSE);
  g_return_val_if_fail (ANE_IS_TENSOR (value), FALSE);

  if (!name_is_valid (name))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "output: invalid name '%s'", name ? name : "(null)");
      return FALSE;
    }
  for (guint i = 0; i < self->outputs->len; i++)
    if (g_str_equal (((AneGraphOutput *) g_ptr_array_index (self->outputs, i))->name, name))
      {
        g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                     "output '%s' is already defined", name);
        return FALSE;
      }
  if (!lookup_value (self, value, "output", &ref, error))
    return FALSE;
  out = g_new0 (AneGraphOutput, 1);
  out->name = g_strdup (name);
  out->ref = ref;
  g_ptr_array_add (self->outputs, out);
  return TRUE;
}

/**
 * ane_graph_set_name:
 * @self: a graph
 * @value: an op result of this graph (the first output of its node)
 * @name: the new node name
 * @error: return location for a #GError
 *
 * Renames the node producing @value. Names flow into saved graphs and into
 * lowered MIL identifiers, so stable names give stable artifacts. Tensors
 * handed out before keep their old names; the node is what changes.
 *
 * Returns: %TRUE on success
 */
gboolean
ane_graph_set_name (AneGraph    *self,
                    AneTensor   *value,
                    const char  *name,
                    GError     **error)
{
  AneValueRef ref;
  AneNode *node;

  g_return_val_if_fail (ANE_IS_GRAPH (self), FALSE);
  g_return_val_if_fail (ANE_IS_TENSOR (value), FALSE);

  if (!lookup_value (self, value, "set_name", &ref, error))
    return FALSE;
  node = g_ptr_array_index (self->nodes, ref.node);
  if (!name_is_valid (name))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "set_name: invalid name '%s'", name ? name : "(null)");
      return FALSE;
    }
  if (g_str_equal (node->name, name))
    return TRUE;
  if (g_hash_table_contains (self->by_name, name))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "set_name: the name '%s' is already used in this graph", name);
      return FALSE;
    }
  if (node->op->flags & ANE_OP_FLAG_SOURCE && node->op->kind != ANE_OP_CONST)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "set_name: %s '%s' is named by its declaration", node->op->name, node->name);
      return FALSE;
    }
  g_hash_table_remove (self->by_name, node->name);
  g_free (node->name);
  node->name = g_strdup (name);
  g_hash_table_insert (self->by_name, node->name, node);
  return TRUE;
}

/**
 * ane_graph_push_scope:
 * @self: a graph
 * @scope: a name prefix such as "layer0"
 *
 * Ops added from now on get automatic names under @scope
 * ("layer0/matmul"), until the matching [method@Ane.Graph.pop_scope].
 * Scopes nest.
 */
void
ane_graph_push_scope (AneGraph   *self,
                      const char *scope)
{
  g_return_if_fail (ANE_IS_GRAPH (self));
  g_return_if_fail (scope != NULL);
  g_ptr_array_add (self->scopes, g_strdup (scope));
}

/**
 * ane_graph_pop_scope:
 * @self: a graph
 *
 * Leaves the innermost scope.
 */
void
ane_graph_pop_scope (AneGraph *self)
{
  g_return_if_fail (ANE_IS_GRAPH (self));
  g_return_if_fail (self->scopes->len > 0);
  g_ptr_array_remove_index (self->scopes, self->scopes->len - 1);
}

static GPtrArray *
list_sources (AneGraph  *self,
              AneOpKind  kind)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < self->nodes->len; i++)
    {
      const AneNode *node = g_ptr_array_index (self->nodes, i);
      if (node->op->kind == kind)
        g_ptr_array_add (list, node_tensor (self, node, 0));
    }
  return list;
}

/**
 * ane_graph_list_inputs:
 * @self: a graph
 *
 * The graph inputs as symbolic tensors.
 *
 * Returns: (transfer container) (element-type AneTensor): the inputs, in declaration order
 */
GPtrArray *
ane_graph_list_inputs (AneGraph *self)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  return list_sources (self, ANE_OP_INPUT);
}

/**
 * ane_graph_list_params:
 * @self: a graph
 *
 * The graph params as symbolic tensors.
 *
 * Returns: (transfer container) (element-type AneTensor): the params, in declaration order
 */
GPtrArray *
ane_graph_list_params (AneGraph *self)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  return list_sources (self, ANE_OP_PARAM);
}

/**
 * ane_graph_list_states:
 * @self: a graph
 *
 * The graph states as symbolic tensors.
 *
 * Returns: (transfer container) (element-type AneTensor): the states, in declaration order
 */
GPtrArray *
ane_graph_list_states (AneGraph *self)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  return list_sources (self, ANE_OP_STATE);
}

/**
 * ane_graph_list_outputs:
 * @self: a graph
 *
 * The outputs as symbolic tensors named by their output names.
 *
 * Returns: (transfer container) (element-type AneTensor): the outputs, in order
 */
GPtrArray *
ane_graph_list_outputs (AneGraph *self)
{
  GPtrArray *list;

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  list = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->outputs->len; i++)
    {
      const AneGraphOutput *out = g_ptr_array_index (self->outputs, i);
      g_ptr_array_add (list, ane_tensor_new_symbolic (self->uid, out->ref.node, out->ref.index,
                                                      out->name, ane_graph_value_spec (self, out->ref)));
    }
  return list;
}

/**
 * ane_graph_op_histogram:
 * @self: a graph
 *
 * Counts the nodes per op name.
 *
 * Returns: (transfer container) (element-type utf8 guint): op name -> count
 */
GHashTable *
ane_graph_op_histogram (AneGraph *self)
{
  GHashTable *hist;

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  hist = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < self->nodes->len; i++)
    {
      const AneNode *node = g_ptr_array_index (self->nodes, i);
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (hist, node->op->name));
      g_hash_table_insert (hist, (gpointer) node->op->name, GUINT_TO_POINTER (n + 1));
    }
  return hist;
}

/**
 * ane_graph_bind_param:
 * @self: a graph
 * @name: a param's name
 * @value: a concrete tensor of the param's dtype and shape
 * @error: return location for a #GError
 *
 * Bakes a value into a param of the graph (saved with the graph's weights).
 *
 * Returns: %TRUE on success
 */
gboolean
ane_graph_bind_param (AneGraph    *self,
                      const char  *name,
                      AneTensor   *value,
                      GError     **error)
{
  AneNode *node;

  g_return_val_if_fail (ANE_IS_GRAPH (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (ANE_IS_TENSOR (value), FALSE);

  node = g_hash_table_lookup (self->by_name, name);
  if (node == NULL || node->op->kind != ANE_OP_PARAM)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "bind_param: no param named '%s'", name);
      return FALSE;
    }
  if (!ane_tensor_check_spec (value, &node->outputs[0], error, "bind_param: param '%s'", name))
    return FALSE;
  g_clear_object (&node->value);
  node->value = ane_tensor_rename (value, name);
  return TRUE;
}

/**
 * ane_graph_validate:
 * @self: a graph
 * @error: return location for a #GError
 *
 * Checks the whole graph: at least one output, every input reference points
 * to an earlier node (so the node order is topological), every shape rule
 * still holds, state ops refer to states, names are unique.
 *
 * Returns: %TRUE if the graph is valid
 */
gboolean
ane_graph_validate (AneGraph  *self,
                    GError   **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), FALSE);

  if (self->outputs->len == 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH, "the graph has no outputs");
      return FALSE;
    }
  for (guint i = 0; i < self->nodes->len; i++)
    {
      const AneNode *node = g_ptr_array_index (self->nodes, i);
      g_autofree const AneSpec **specs = g_new0 (const AneSpec *, MAX (node->n_inputs, 1));
      AneInferCtx ctx = { 0 };

      if (node->op->flags & ANE_OP_FLAG_SOURCE)
        continue;
      for (guint j = 0; j < node->n_inputs; j++)
        {
          AneValueRef ref = node->inputs[j];
          const AneNode *src;

          if (ref.node == ANE_NO_NODE)
            continue;
          if (ref.node >= node->id)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH,
                           "%s '%s': input %u refers to node %u, which does not come before it",
                           node->op->name, node->name, j, ref.node);
              return FALSE;
            }
          src = g_ptr_array_index (self->nodes, ref.node);
          if (ref.index >= src->n_outputs)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH,
                           "%s '%s': input %u refers to output %u of '%s', which has %u",
                           node->op->name, node->name, j, ref.index, src->name, src->n_outputs);
              return FALSE;
            }
          specs[j] = &src->outputs[ref.index];
        }
      ctx.op = node->op;
      ctx.node_name = node->name;
      ctx.n_inputs = node->n_inputs;
      ctx.inputs = specs;
      ctx.attrs = node->attrs;
      ctx.n_outputs = node->op->n_outputs;
      if (!node->op->infer (&ctx, error))
        return FALSE;
      for (guint j = 0; j < node->n_outputs; j++)
        if (!ane_spec_equal (&ctx.outputs[j], &node->outputs[j]))
          {
            g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH,
                         "%s '%s': recorded output %u disagrees with its shape rule",
                         node->op->name, node->name, j);
            return FALSE;
          }
    }
  return TRUE;
}

static void
mark_from (AneGraph *self,
           guint     id,
           gboolean *needed)
{
  g_autoptr(GArray) stack = g_array_new (FALSE, FALSE, sizeof (guint));

  g_array_append_val (stack, id);
  while (stack->len > 0)
    {
      guint n = g_array_index (stack, guint, stack->len - 1);
      const AneNode *node;

      g_array_set_size (stack, stack->len - 1);
      if (needed[n])
        continue;
      needed[n] = TRUE;
      node = g_ptr_array_index (self->nodes, n);
      for (guint i = 0; i < node->n_inputs; i++)
        if (node->inputs[i].node != ANE_NO_NODE)
          g_array_append_val (stack, node->inputs[i].node);
    }
}

/* Marks the nodes an output or a side effect (write_state) depends on:
 * what every evaluator and the lowering must process, and nothing more. */
void
ane_graph_mark_needed (AneGraph *self,
                       gboolean *needed)
{
  for (guint i = 0; i < self->outputs->len; i++)
    mark_from (self, ((AneGraphOutput *) g_ptr_array_index (self->outputs, i))->ref.node, needed);
  for (guint i = 0; i < self->nodes->len; i++)
    if (((AneNode *) g_ptr_array_index (self->nodes, i))->op->flags & ANE_OP_FLAG_SIDE_EFFECT)
      mark_from (self, i, needed);
}
