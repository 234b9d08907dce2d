/* grad/ane-grad.c: reverse-mode differentiation over AneGraph (ane_graph_gradients)
 *
 * The gradient graph starts as a copy of the forward graph (its outputs
 * kept, the loss among them). From the loss back, in reverse graph order,
 * each node on a path from a requested value to the loss hands the
 * gradients of its outputs to its op's rule (the catalog's gradient column,
 * grad/ane-grad-rules.c), which adds the nodes computing the gradients of
 * its inputs; gradients reaching one value from several uses are added.
 * Each requested value's gradient becomes an output "grad_<name>".
 *
 * The loss's gradient is seeded with ones: for a loss of several elements
 * that is the gradient of their sum.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "grad/ane-grad-private.h"
#include "ane-tensor-private.h"

typedef struct {
  AneGraph   *graph;
  GHashTable *grads;      /* (node << 8 | index) -> AneTensor*: d loss / d value so far */
} Acc;

static gpointer
key_of (guint node,
        guint index)
{
  return GSIZE_TO_POINTER (((gsize) node << 8 | index) + 1);
}

static AneTensor *
value_of (AneGraph *graph,
          guint     node,
          guint     index)
{
  const AneNode *n = ane_graph_get_node (graph, node);

  return ane_tensor_new_symbolic (ane_graph_get_uid (graph), node, index, n->name, &n->outputs[index]);
}

/* Adds g (taken) to the gradient of (node, index). */
static gboolean
accumulate (Acc        *acc,
            guint       node,
            guint       index,
            AneTensor  *g,
            GError    **error)
{
  AneTensor *old = g_hash_table_lookup (acc->grads, key_of (node, index));
  AneTensor *sum;

  if (old == NULL)
    {
      g_hash_table_insert (acc->grads, key_of (node, index), g);
      return TRUE;
    }
  sum = ane_graph_add (acc->graph, old, g, error);
  g_object_unref (g);
  if (sum == NULL)
    return FALSE;
  g_hash_table_replace (acc->grads, key_of (node, index), sum);
  return TRUE;
}

/* "grad_" and the name made a MIL identifier (an output name). */
static char *
grad_name (const char *name)
{
  GString *s = g_string_new ("grad_");

  for (const char *p = name; *p; p++)
    g_string_append_c (s, g_ascii_isalnum (*p) || *p == '_' ? *p : '_');
  return g_string_free (s, FALSE);
}

/**
 * ane_graph_gradients:
 * @self: a graph
 * @loss: the name of the output to differentiate
 * @wrt: (array zero-terminated=1): the names of the params (or float
 *   inputs) to differentiate with respect to
 * @error: return location for a #GError
 *
 * Builds the gradient graph of @self: a copy of it (every output kept,
 * @loss among them) that also computes d @loss / d value for each value
 * named in @wrt, as an output named `grad_` and the value's name (made a
 * MIL identifier: other characters become `_`). A loss of several
 * elements is differentiated as their sum.
 *
 * Each op between a requested value and the loss contributes through its
 * row of the op catalog: the gradient column, a vector-Jacobian rule that
 * builds the backward ops with the ordinary graph builders
 * ([ir ops](ir-ops.html) lists which ops have one). So the gradient graph
 * lowers, compiles and runs on every backend like any graph. An op without
 * a rule on such a path is %ANE_ERROR_UNSUPPORTED naming it; a value the
 * loss does not depend on gets a gradient of zeros.
 *
 * Returns: (transfer full): the gradient graph, or %NULL
 *
 * Since: 0.2
 */
AneGraph *
ane_graph_gradients (AneGraph           *self,
                     const char         *loss,
                     const char * const *wrt,
                     GError            **error)
{
  g_autoptr(GHashTable) no_shapes = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(GHashTable) grads = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  g_autofree gboolean *from_wrt = NULL, *to_loss = NULL;
  g_autoptr(GArray) targets = g_array_new (FALSE, FALSE, sizeof (guint));
  const AneGraphOutput *loss_out = NULL;
  Acc acc;
  guint n_nodes;

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (loss != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  graph = ane_graph_specialize (self, no_shapes, error);
  if (graph == NULL)
    return NULL;
  n_nodes = ane_graph_get_n_nodes_internal (graph);
  for (guint i = 0; i < ane_graph_get_n_outputs (graph); i++)
    if (g_strcmp0 (ane_graph_get_output (graph, i)->name, loss) == 0)
      loss_out = ane_graph_get_output (graph, i);
  if (loss_out == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "gradients: the graph has no output named '%s'", loss);
      return NULL;
    }
  if (!ane_dtype_is_float (ane_graph_value_spec (graph, loss_out->ref)->dtype))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE, "gradients: the loss '%s' is not a float tensor", loss);
      return NULL;
    }
  for (guint i = 0; wrt != NULL && wrt[i] != NULL; i++)
    {
      const AneNode *node = ane_graph_find_node (graph, wrt[i]);

      if (node == NULL || (node->op->kind != ANE_OP_PARAM && node->op->kind != ANE_OP_INPUT))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "gradients: '%s' is not a param or an input of the "
                       "graph", wrt[i]);
          return NULL;
        }
      if (!ane_dtype_is_float (node->outputs[0].dtype))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE, "gradients: %s '%s' is %s; only float values have "
                       "gradients", node->op->name, wrt[i], ane_dtype_to_string (node->outputs[0].dtype));
          return NULL;
        }
      g_array_append_val (targets, node->id);
    }

  /* the nodes on a path from a requested value to the loss */
  from_wrt = g_new0 (gboolean, MAX (n_nodes, 1));
  to_loss = g_new0 (gboolean, MAX (n_nodes, 1));
  for (guint t = 0; t < targets->len; t++)
    from_wrt[g_array_index (targets, guint, t)] = TRUE;
  for (guint id = 0; id < n_nodes; id++)
    {
      const AneNode *node = ane_graph_get_node (graph, id);

      for (guint i = 0; i < node->n_inputs && !from_wrt[id]; i++)
        if (node->inputs[i].node != ANE_NO_NODE && from_wrt[node->inputs[i].node])
          from_wrt[id] = TRUE;
    }
  to_loss[loss_out->ref.node] = TRUE;
  for (guint id = n_nodes; id-- > 0;)
    {
      const AneNode *node = ane_graph_get_node (graph, id);

      for (guint i = 0; to_loss[id] && i < node->n_inputs; i++)
        if (node->inputs[i].node != ANE_NO_NODE)
          to_loss[node->inputs[i].node] = TRUE;
    }

  acc.graph = graph;
  acc.grads = grads;
  /* the seed: ones of the loss's shape */
  {
    g_autoptr(AneTensor) lv = value_of (graph, loss_out->ref.node, loss_out->ref.index);
    AneGradCtx seed_ctx = { .graph = graph };
    AneTensor *ones = ane_grad_fill (&seed_ctx, lv, 1.0, error);

    if (ones == NULL || !accumulate (&acc, loss_out->ref.node, loss_out->ref.index, ones, error))
      return NULL;
  }

  for (guint id = loss_out->ref.node + 1; id-- > 0;)
    {
      const AneNode *node = ane_graph_get_node (graph, id);
      AneGradCtx ctx = { 0 };
      gboolean any = FALSE, ok;

      if (!from_wrt[id] || !to_loss[id] || (node->op->flags & ANE_OP_FLAG_SOURCE))
        continue;
      for (guint j = 0; j < node->n_outputs; j++)
        {
          AneTensor *g = g_hash_table_lookup (grads, key_of (id, j));

          ctx.dout[j] = g != NULL ? g_object_ref (g) : NULL;
          any = any || g != NULL;
        }
      if (!any)
        continue;
      if (node->op->gradient == NULL || node->n_inputs > ANE_GRAD_MAX_INPUTS)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                       "gradients: %s '%s' lies between a requested value and the loss '%s', and the op has no "
                       "gradient rule", node->op->name, node->name, loss);
          for (guint j = 0; j < node->n_outputs; j++)
            g_clear_object (&ctx.dout[j]);
          return NULL;
        }
      ctx.graph = graph;
      ctx.node = node;
      ctx.n_inputs = node->n_inputs;
      for (guint i = 0; i < node->n_inputs; i++)
        {
          AneValueRef r = node->inputs[i];

          ctx.in[i] = r.node != ANE_NO_NODE ? value_of (graph, r.node, r.index) : NULL;
          ctx.wants[i] = r.node != ANE_NO_NODE && from_wrt[r.node] &&
                         ane_dtype_is_float (ane_graph_value_spec (graph, r)->dtype);
        }
      for (guint j = 0; j < node->n_outputs; j++)
        {
          ctx.out[j] = value_of (graph, id, j);
          /* an output nothing differentiates gets zeros, so rules see every dy */
          if (ctx.dout[j] == NULL)
            ctx.dout[j] = ane_grad_fill (&ctx, ctx.out[j], 0.0, NULL);
        }
      ok = node->op->gradient (&ctx, error);
      if (!ok && error != NULL && *error != NULL && !g_str_has_prefix ((*error)->message, "gradients: "))
        g_prefix_error (error, "gradients: ");
      for (guint i = 0; ok && i < node->n_inputs; i++)
        if (ctx.wants[i] && ctx.din[i] != NULL)
          ok = accumulate (&acc, node->inputs[i].node, node->inputs[i].index, g_steal_pointer (&ctx.din[i]), error);
      for (guint i = 0; i < node->n_inputs; i++)
        {
          g_clear_object (&ctx.in[i]);
          g_clear_object (&ctx.din[i]);
        }
      for (guint j = 0; j < node->n_outputs; j++)
        {
          g_clear_object (&ctx.out[j]);
          g_clear_object (&ctx.dout[j]);
        }
      if (!ok)
        {
          if (error != NULL && *error == NULL)
            g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "gradients: %s '%s': its rule failed",
                         node->op->name, node->name);
          return NULL;
        }
    }

  for (guint t = 0; t < targets->len; t++)
    {
      guint id = g_array_index (targets, guint, t);
      const AneNode *node = ane_graph_get_node (graph, id);
      g_autofree char *name = grad_name (node->name);
      AneTensor *g = g_hash_table_lookup (grads, key_of (id, 0));
      g_autoptr(AneTensor) zeros = NULL;

      if (g == NULL)
        {
          g_autoptr(AneTensor) v = value_of (graph, id, 0);
          AneGradCtx zctx = { .graph = graph };

          g = zeros = ane_grad_fill (&zctx, v, 0.0, error);
          if (g == NULL)
            return NULL;
        }
      if (!ane_graph_add_output (graph, name, g, error))
        {
          g_prefix_error (error, "gradients: ");
          return NULL;
        }
    }
  return g_steal_pointer (&graph);
}
