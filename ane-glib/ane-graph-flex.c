/* ane-graph-flex.c: inputs whose shape may vary (Core ML's flexible shapes)
 *
 * A graph is built at one shape per input: the declared one, which stays
 * the default. ane_graph_set_input_range and ane_graph_set_input_shapes
 * widen an input to a range per axis or a set of shapes, as coremltools'
 * RangeDim and EnumeratedShapes do. The lowering (mil/lower/
 * ane-lower-flexible.c) then writes one program valid at every allowed
 * shape, built by lowering the graph again at other shapes
 * (ane_graph_specialize) and keeping what does not change.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-graph-private.h"
#include "ane-tensor-private.h"
#include "ane-private.h"

static void
unref_nullable (gpointer object)
{
  if (object != NULL)
    g_object_unref (object);
}

/* The input node named input, or NULL with an error naming what it is. */
static const AneNode *
find_input (AneGraph    *self,
            const char  *where,
            const char  *input,
            GError     **error)
{
  const AneNode *node = input ? ane_graph_find_node (self, input) : NULL;

  if (node == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "%s: the graph has no input named '%s'", where,
                   input ? input : "(null)");
      return NULL;
    }
  if (node->op->kind == ANE_OP_STATE)
    {
      /* coremltools, backend/mil/load.py: "Flexible shape model states are
       * not supported!" */
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: '%s' is a state; Core ML declares every state with a fixed shape", where, input);
      return NULL;
    }
  if (node->op->kind != ANE_OP_INPUT)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "%s: '%s' is a %s, not an input", where, input,
                   node->op->name);
      return NULL;
    }
  return node;
}

/**
 * ane_graph_set_input_range:
 * @self: a graph
 * @input: the name of one of its inputs
 * @axis: the axis that may vary
 * @lower: the smallest size, at least 1
 * @upper: the largest size (an ML program takes no unbounded range)
 * @error: return location for a #GError
 *
 * Lets an input's size on @axis vary from @lower to @upper, as coremltools'
 * `RangeDim` does. The size the input was declared with stays its default
 * and must lie in the range. Call once per axis that varies; the input's
 * other axes keep their size.
 *
 * The package then declares the input's `shapeRange` and the program
 * leaves those sizes unknown; the CPU backend prepares the program again
 * for each shape it is run with (and keeps what it prepared for the next
 * calls). Compiling checks that the graph really computes the same program
 * at other sizes: a reshape, a slice or a constant that holds a size of the
 * default shape makes it fail, naming the op. On a Mac, Core ML runs only
 * the default shape on the Neural Engine; prefer
 * [method@Ane.Graph.set_input_shapes] when a few sizes are enough (the ANE
 * lint says so too).
 *
 * An input with enumerated shapes cannot also have ranges, and a state's
 * shape is always fixed (%ANE_ERROR_UNSUPPORTED).
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
ane_graph_set_input_range (AneGraph    *self,
                           const char  *input,
                           guint        axis,
                           gint64       lower,
                           gint64       upper,
                           GError     **error)
{
  GHashTable *table;
  const AneNode *node;
  AneShapeFlex *flex;
  g_autoptr(AneShapeFlex) fresh = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (ANE_IS_GRAPH (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  node = find_input (self, "set_input_range", input, error);
  if (node == NULL)
    return FALSE;
  what = g_strdup_printf ("set_input_range: input '%s'", input);
  if (upper < 0)
    {
      /* coremltools, converters/mil/backend/mil/load.py: "For mlprogram,
       * inputs with infinite upper_bound is not allowed" */
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: axis %u needs an upper bound; Core ML takes no unbounded range in an ML program", what, axis);
      return FALSE;
    }
  table = ane_graph_get_flex_table (self);
  flex = g_hash_table_lookup (table, input);
  if (flex == NULL)
    flex = fresh = ane_shape_flex_new_fixed (node->outputs[0].shape, node->outputs[0].rank);
  if (!ane_shape_flex_set_range (flex, what, axis, lower, upper, error))
    return FALSE;
  if (fresh != NULL)
    g_hash_table_insert (table, g_strdup (input), g_steal_pointer (&fresh));
  return TRUE;
}

/**
 * ane_graph_set_input_shapes:
 * @self: a graph
 * @input: the name of one of its inputs
 * @shapes: (array length=n_values): the allowed shapes, one after the other,
 *   each of the input's rank
 * @n_values: the number of values in @shapes (the number of shapes times
 *   the rank)
 * @error: return location for a #GError
 *
 * Lets an input take any of a set of shapes, as coremltools'
 * `EnumeratedShapes` does: the shape the input was declared with must be
 * one of them (it is the default), at most 128 shapes, no shape twice.
 * Replaces ranges set before on the input.
 *
 * On a Mac, Core ML compiles each enumerated shape for the Neural Engine,
 * which makes them the flexible shapes to prefer. Below iOS 18 only one
 * input of a program may have enumerated shapes; from iOS 18 several may,
 * with the same number of shapes, the i-th shapes of each going together
 * (compiling checks both, as coremltools does).
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
ane_graph_set_input_shapes (AneGraph      *self,
                            const char    *input,
                            const gint64  *shapes,
                            gsize          n_values,
                            GError       **error)
{
  const AneNode *node;
  AneShapeFlex *flex;
  g_autofree char *what = NULL;

  g_return_val_if_fail (ANE_IS_GRAPH (self), FALSE);
  g_return_val_if_fail (shapes != NULL || n_values == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  node = find_input (self, "set_input_shapes", input, error);
  if (node == NULL)
    return FALSE;
  what = g_strdup_printf ("set_input_shapes: input '%s'", input);
  flex = ane_shape_flex_new_enumerated (what, node->outputs[0].shape, node->outputs[0].rank, shapes, n_values, error);
  if (flex == NULL)
    return FALSE;
  g_hash_table_replace (ane_graph_get_flex_table (self), g_strdup (input), flex);
  return TRUE;
}

const AneShapeFlex *
ane_graph_get_input_flex (AneGraph    *self,
                          const char  *name)
{
  const AneShapeFlex *flex = g_hash_table_lookup (ane_graph_get_flex_table (self), name);

  return flex != NULL && ane_shape_flex_is_flexible (flex) ? flex : NULL;
}

gboolean
ane_graph_is_flexible (AneGraph *self)
{
  GHashTableIter iter;
  gpointer flex;

  g_hash_table_iter_init (&iter, ane_graph_get_flex_table (self));
  while (g_hash_table_iter_next (&iter, NULL, &flex))
    if (ane_shape_flex_is_flexible (flex))
      return TRUE;
  return FALSE;
}

AneGraph *
ane_graph_specialize (AneGraph    *self,
                      GHashTable  *shapes,
                      GError     **error)
{
  g_autoptr(AneGraph) graph = NULL;
  guint64 uid;
  guint n_nodes = ane_graph_get_n_nodes_internal (self);
  gboolean has_rebuild;

  graph = ane_graph_rebuild_internal (self, shapes, &has_rebuild, error);
  if (has_rebuild)
    return g_steal_pointer (&graph);
  graph = ane_graph_new ();
  uid = ane_graph_get_uid (graph);

  for (guint id = 0; id < n_nodes; id++)
    {
      const AneNode *node = ane_graph_get_node (self, id);
      g_autoptr(AneTensor) result = NULL;
      g_autoptr(GError) local_error = NULL;

      if (node->op->flags & ANE_OP_FLAG_SOURCE)
        {
          AneSpec spec = node->outputs[0];
          const gint64 *shape = node->op->kind == ANE_OP_INPUT && shapes != NULL
                                ? g_hash_table_lookup (shapes, node->name) : NULL;

          if (shape != NULL)
            memcpy (spec.shape, shape, spec.rank * sizeof (gint64));
          result = ane_graph_add_source (graph, node->op->kind, node->name, &spec, node->value,
                                         node->attrs, &local_error);
        }
      else
        {
          g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func (unref_nullable);

          for (guint i = 0; i < node->n_inputs; i++)
            {
              AneValueRef ref = node->inputs[i];
              const AneNode *src;

              if (ref.node == ANE_NO_NODE)
                {
                  g_ptr_array_add (inputs, NULL);
                  continue;
                }
              /* the new graph has the same node ids: one node per node, in order */
              src = ane_graph_get_node (graph, ref.node);
              g_ptr_array_add (inputs, ane_tensor_new_symbolic (uid, ref.node, ref.index, src->name,
                                                                &src->outputs[ref.index]));
            }
          result = ane_graph_add_node (graph, node->op->kind, (AneTensor *const *) inputs->pdata, inputs->len,
                                       node->attrs, NULL, &local_error);
          if (result != NULL && !ane_graph_set_name (graph, result, node->name, &local_error))
            g_clear_object (&result);
        }
      if (result == NULL)
        {
          g_set_error (error, ANE_ERROR, local_error->code, "%s '%s' does not take the new shapes: %s",
                       node->op->name, node->name, local_error->message);
          return NULL;
        }
    }
  for (guint i = 0; i < ane_graph_get_n_outputs (self); i++)
    {
      const AneGraphOutput *out = ane_graph_get_output (self, i);
      const AneNode *src = ane_graph_get_node (graph, out->ref.node);
      g_autoptr(AneTensor) value = ane_tensor_new_symbolic (uid, out->ref.node, out->ref.index, src->name,
                                                            &src->outputs[out->ref.index]);

      if (!ane_graph_add_output (graph, out->name, value, error))
        return NULL;
    }
  return g_steal_pointer (&graph);
}
