/* ane-reference.c: the IR reference evaluator
 *
 * Evaluates a graph node by node in insertion order (a topological order),
 * calling each op's reference kernel from the catalog. Values are arrays of
 * doubles; each op's results are rounded once to their dtype. Only nodes that
 * an output or a side effect (write_state) depends on are evaluated.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-tensor-private.h"
#include "ane-reference-private.h"

AneRefValue *
ane_ref_value_new (const AneSpec *spec)
{
  AneRefValue *v = g_new0 (AneRefValue, 1);
  gint64 n = 0;

  ane_spec_n_elements (spec, &n);
  v->dtype = spec->dtype;
  v->rank = spec->rank;
  memcpy (v->shape, spec->shape, sizeof v->shape);
  v->n = (gsize) n;
  if (!ane_dtype_is_block (spec->dtype))
    v->v = g_new0 (double, MAX (v->n, 1));
  return v;
}

void
ane_ref_value_free (AneRefValue *value)
{
  if (value == NULL)
    return;
  g_free (value->v);
  g_clear_pointer (&value->raw, g_bytes_unref);
  g_free (value);
}

AneRefValue *
ane_ref_value_new_from_tensor (AneTensor *tensor,
                               GError   **error)
{
  AneRefValue *v;
  AneSpec spec;
  GBytes *data = ane_tensor_get_data (tensor);

  if (data == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "tensor '%s' has no data", ane_tensor_get_name (tensor));
      return NULL;
    }
  ane_tensor_get_spec (tensor, &spec);
  v = ane_ref_value_new (&spec);
  if (ane_dtype_is_block (spec.dtype))
    v->raw = g_bytes_ref (data);
  else
    ane_dtype_decode (spec.dtype, g_bytes_get_data (data, NULL), v->n, v->v);
  return v;
}

AneTensor *
ane_ref_value_to_tensor (const AneRefValue *value,
                         const char        *name,
                         GError           **error)
{
  gsize n_bytes;
  gpointer buf;
  g_autoptr(GBytes) bytes = NULL;

  if (value->raw != NULL)
    return ane_tensor_new_from_bytes (name, value->dtype, value->shape, value->rank, value->raw, error);
  if (!ane_dtype_n_bytes (value->dtype, value->n, &n_bytes, error))
    return NULL;
  buf = g_malloc (MAX (n_bytes, 1));
  ane_dtype_encode (value->dtype, value->v, value->n, buf);
  bytes = g_bytes_new_take (buf, n_bytes);
  return ane_tensor_new_from_bytes (name, value->dtype, value->shape, value->rank, bytes, error);
}

void
ane_ref_value_round (AneRefValue *value)
{
  if (value->v == NULL)
    return;
  for (gsize i = 0; i < value->n; i++)
    value->v[i] = ane_dtype_round (value->dtype, value->v[i]);
}

gsize
ane_ref_ravel (const gint64 *coords,
               const gint64 *shape,
               guint         rank)
{
  gsize offset = 0;

  for (guint i = 0; i < rank; i++)
    offset = offset * (gsize) shape[i] + (gsize) coords[i];
  return offset;
}

gboolean
ane_ref_wrap_index (double   raw,
                    gint64   dim,
                    guint    axis,
                    gint64  *k,
                    GError **error)
{
  *k = (gint64) raw;
  if (*k < 0)
    *k += dim;
  if (*k < 0 || *k >= dim)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "index %" G_GINT64_FORMAT " in input 'indices' is out of range for axis %u "
                   "of size %" G_GINT64_FORMAT, (gint64) raw, axis, dim);
      return FALSE;
    }
  return TRUE;
}

void
ane_ref_unravel (gsize         index,
                 const gint64 *shape,
                 guint         rank,
                 gint64       *coords)
{
  for (guint i = rank; i-- > 0;)
    {
      coords[i] = shape[i] ? (gint64) (index % (gsize) shape[i]) : 0;
      index = shape[i] ? index / (gsize) shape[i] : 0;
    }
}

gsize
ane_ref_broadcast_offset (const AneRefValue *value,
                          const gint64      *out_coords,
                          guint              out_rank)
{
  gsize offset = 0;

  /* Right-aligned: a size-1 dimension always reads index 0. */
  for (guint i = 0; i < value->rank; i++)
    {
      gint64 dim = value->shape[i];
      gint64 c = out_coords[out_rank - value->rank + i];

      offset = offset * (gsize) dim + (gsize) (dim == 1 ? 0 : c);
    }
  return offset;
}

static AneRefValue *
source_value (const AneNode *node,
              GHashTable    *params,
              GHashTable    *inputs,
              GHashTable    *states,
              GError       **error)
{
  AneTensor *t = NULL;

  switch (node->op->kind)
    {
    case ANE_OP_INPUT:
      t = g_hash_table_lookup (inputs, node->name);
      if (t == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "input '%s' was not given", node->name);
          return NULL;
        }
      break;
    case ANE_OP_PARAM:
      t = params ? g_hash_table_lookup (params, node->name) : NULL;
      if (t == NULL)
        t = node->value;
      if (t == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_MISSING_PARAM,
                       "param '%s' has no value: bind one with ane_executable_set_param()", node->name);
          return NULL;
        }
      break;
    case ANE_OP_CONST:
      t = node->value;
      break;
    case ANE_OP_STATE:
      t = g_hash_table_lookup (states, node->name);
      if (t == NULL)
        return ane_ref_value_new (&node->outputs[0]);   /* states start as zeros */
      break;
    default:
      g_assert_not_reached ();
    }
  return ane_ref_value_new_from_tensor (t, error);
}

GPtrArray *
ane_reference_run (AneGraph     *graph,
                   GHashTable   *params,
                   GHashTable   *inputs,
                   GHashTable   *states,
                   GCancellable *cancellable,
                   GError      **error)
{
  guint n_nodes = ane_graph_get_n_nodes_internal (graph);
  g_autofree gboolean *needed = g_new0 (gboolean, MAX (n_nodes, 1));
  g_autofree AneRefValue **values = g_new0 (AneRefValue *, MAX (n_nodes, 1) * ANE_MAX_OUTPUTS);
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_object_unref);
  gboolean ok = TRUE;

  ane_graph_mark_needed (graph, needed);

  for (guint i = 0; ok && i < n_nodes; i++)
    {
      const AneNode *node = ane_graph_get_node (graph, i);
      AneRefValue **outs = &values[i * ANE_MAX_OUTPUTS];

      if (!needed[i])
        continue;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ok = FALSE;
          break;
        }
      if (node->op->flags & ANE_OP_FLAG_SOURCE)
        {
          outs[0] = source_value (node, params, inputs, states, error);
          ok = outs[0] != NULL;
          continue;
        }
      else
        {
          g_autofree const AneRefValue **ins = g_new0 (const AneRefValue *, MAX (node->n_inputs, 1));
          AneRefCtx ctx = { 0 };

          for (guint j = 0; j < node->n_inputs; j++)
            if (node->inputs[j].node != ANE_NO_NODE)
              ins[j] = values[node->inputs[j].node * ANE_MAX_OUTPUTS + node->inputs[j].index];
          for (guint j = 0; j < node->n_outputs; j++)
            outs[j] = ane_ref_value_new (&node->outputs[j]);
          ctx.node = node;
          ctx.attrs = node->attrs;
          ctx.n_inputs = node->n_inputs;
          ctx.inputs = ins;
          ctx.n_outputs = node->n_outputs;
          ctx.outputs = outs;
          if (node->op->kind == ANE_OP_READ_STATE || node->op->kind == ANE_OP_WRITE_STATE)
            ctx.state = values[node->inputs[0].node * ANE_MAX_OUTPUTS];
          ok = node->op->reference (&ctx, error);
          if (!ok)
            {
              g_prefix_error (error, "reference %s '%s': ", node->op->name, node->name);
              break;
            }
          for (guint j = 0; j < node->n_outputs; j++)
            ane_ref_value_round (outs[j]);
        }
    }

  if (ok)
    {
      for (guint i = 0; ok && i < ane_graph_get_n_outputs (graph); i++)
        {
          const AneGraphOutput *out = ane_graph_get_output (graph, i);
          AneTensor *t = ane_ref_value_to_tensor (values[out->ref.node * ANE_MAX_OUTPUTS + out->ref.index],
                                                  out->name, error);
          ok = t != NULL;
          if (ok)
            g_ptr_array_add (results, t);
        }
      /* Persist every state that was touched, so the next run sees it. */
      for (guint i = 0; ok && i < n_nodes; i++)
        {
          const AneNode *node = ane_graph_get_node (graph, i);
          AneTensor *t;

          if (node->op->kind != ANE_OP_STATE || values[i * ANE_MAX_OUTPUTS] == NULL)
            continue;
          t = ane_ref_value_to_tensor (values[i * ANE_MAX_OUTPUTS], node->name, error);
          ok = t != NULL;
          if (ok)
            g_hash_table_replace (states, g_strdup (node->name), t);
        }
    }

  for (guint i = 0; i < n_nodes * ANE_MAX_OUTPUTS; i++)
    ane_ref_value_free (values[i]);
  return ok ? g_steal_pointer (&results) : NULL;
}
