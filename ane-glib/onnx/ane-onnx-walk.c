/* ane-onnx-walk.c: walks an ONNX graph's nodes, folding what is constant
 *
 * See ane-onnx-private.h for the values and the folding rule. The walk is
 * one pass in node order (ONNX graphs are topologically sorted,
 * onnx/onnx.proto GraphProto.node); a subgraph (If's branch) is walked the
 * same way in a child scope when its converter inlines it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-onnx-importer-private.h"
#include "ane-reference-private.h"
#include "ane-tensor-private.h"

gint64
ane_onnx_importer_opset (AneOnnxImporter *imp,
                         const char      *domain)
{
  const gint64 *v;

  /* "ai.onnx" and "" both name the default operator set (onnx/docs/IR.md,
   * "Operator Sets") */
  if (domain == NULL || g_str_equal (domain, "ai.onnx"))
    domain = "";
  v = g_hash_table_lookup (imp->opsets, domain);
  return v != NULL ? *v : -1;
}

static gboolean
is_default_domain (const char *domain)
{
  return domain == NULL || domain[0] == '\0' || g_str_equal (domain, "ai.onnx");
}

/* ---- the scan for unsupported ops ---- */

typedef struct {
  char  *what;        /* op type, with its domain or opset when that is the reason */
  guint  count;
  char  *first_node;
} Unsupported;

static void
unsupported_free (Unsupported *u)
{
  g_free (u->what);
  g_free (u->first_node);
  g_free (u);
}

static void
scan_graph (AneOnnxImporter        *imp,
            const Onnx__GraphProto *graph,
            GPtrArray              *found,
            guint                   depth)
{
  if (depth > ANE_ONNX_MAX_DEPTH)
    return;   /* the walk reports the nesting */
  for (gsize i = 0; i < graph->n_node; i++)
    {
      const Onnx__NodeProto *n = graph->node[i];
      const char *op = n->op_type ? n->op_type : "";
      g_autofree char *what = NULL;

      if (!is_default_domain (n->domain))
        what = g_strdup_printf ("%s (domain '%s')", op, n->domain);
      else
        {
          gint64 opset = ane_onnx_importer_opset (imp, "");
          int min_opset = 0;

          if (ane_onnx_find_converter (op, opset, &min_opset) == NULL)
            what = min_opset > 0
                   ? g_strdup_printf ("%s (opset %" G_GINT64_FORMAT "; supported from opset %d)",
                                      op, opset, min_opset)
                   : g_strdup (op);
        }
      if (what != NULL)
        {
          Unsupported *u = NULL;

          for (guint k = 0; k < found->len && u == NULL; k++)
            if (g_str_equal (((Unsupported *) found->pdata[k])->what, what))
              u = found->pdata[k];
          if (u == NULL)
            {
              u = g_new0 (Unsupported, 1);
              u->what = g_steal_pointer (&what);
              u->first_node = g_strdup (n->name && n->name[0] ? n->name
                                        : n->n_output > 0 ? n->output[0] : "(unnamed)");
              g_ptr_array_add (found, u);
            }
          u->count++;
        }
      for (gsize a = 0; a < n->n_attribute; a++)
        {
          const Onnx__AttributeProto *attr = n->attribute[a];

          if (attr->g != NULL)
            scan_graph (imp, attr->g, found, depth + 1);
          for (gsize k = 0; k < attr->n_graphs; k++)
            scan_graph (imp, attr->graphs[k], found, depth + 1);
        }
    }
}

char *
ane_onnx_list_unsupported (AneOnnxImporter        *imp,
                           const Onnx__GraphProto *graph)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) unsupported_free);
  GString *msg;

  scan_graph (imp, graph, found, 0);
  if (found->len == 0)
    return NULL;
  msg = g_string_new (NULL);
  g_string_append_printf (msg, "the model uses %u op type%s with no converter (nothing was written):",
                          found->len, found->len == 1 ? "" : "s");
  for (guint k = 0; k < found->len; k++)
    {
      Unsupported *u = found->pdata[k];

      g_string_append_printf (msg, "%s %s (%u node%s, first '%s')", k == 0 ? "" : ";",
                              u->what, u->count, u->count == 1 ? "" : "s", u->first_node);
    }
  return g_string_free (msg, FALSE);
}

/* ---- the walk ---- */

static gboolean
is_graph_tensor (AneTensor *t)
{
  guint64 uid;
  guint n, index;

  return ane_tensor_get_origin (t, &uid, &n, &index);
}

static gboolean
check_inputs_defined (const Onnx__NodeProto *proto,
                      AneOnnxScope          *scope,
                      GError               **error)
{
  for (gsize i = 0; i < proto->n_input; i++)
    {
      const char *name = proto->input[i];

      if (name != NULL && name[0] != '\0' && ane_onnx_scope_lookup (scope, name) == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH,
                       "ONNX node '%s' (%s): input %" G_GSIZE_FORMAT " '%s' is not defined before it "
                       "(not a graph input, an initializer or an earlier node's output)",
                       proto->name && proto->name[0] ? proto->name : "(unnamed)",
                       proto->op_type ? proto->op_type : "", i, name);
          return FALSE;
        }
    }
  return TRUE;
}

/* Binds every output the converter set, under its ONNX name. */
static gboolean
bind_outputs (AneOnnxNode  *node,
              AneOnnxScope *scope,
              GError      **error)
{
  const Onnx__NodeProto *proto = ane_onnx_node_get_proto (node);

  for (guint i = 0; i < proto->n_output; i++)
    {
      AneTensor *t;

      if (!ane_onnx_node_output_wanted (node, i))
        continue;
      t = ane_onnx_node_get_output (node, i);
      if (t == NULL)
        return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                    "output %u ('%s') is not produced by the converter", i,
                                    proto->output[i]);
      if (is_graph_tensor (t))
        ane_onnx_scope_bind (scope, proto->output[i], NULL, g_object_ref (t));
      else
        ane_onnx_scope_bind (scope, proto->output[i], ane_tensor_rename (t, proto->output[i]), NULL);
    }
  return TRUE;
}

/* Folds a node whose inputs are all constants: the converter builds into a
 * scratch graph, the reference evaluator computes it, and the outputs
 * become constants. FALSE (with error) when the node cannot be folded; the
 * caller then converts it into the model's graph instead. */
static gboolean
fold_node (AneOnnxImporter        *imp,
           const Onnx__NodeProto  *proto,
           const AneOnnxConverter *conv,
           AneOnnxScope           *scope,
           gint64                  opset,
           GError                **error)
{
  g_autoptr(AneGraph) scratch = ane_graph_new ();
  g_autoptr(AneOnnxNode) node = ane_onnx_node_new (imp, proto, scope, opset, scratch, TRUE);
  g_autoptr(GPtrArray) results = NULL;
  g_autofree int *result_of = g_new0 (int, MAX (proto->n_output, 1));
  guint n_graph_outputs = 0;

  if (!conv->convert (node, error))
    return FALSE;
  for (guint i = 0; i < proto->n_output; i++)
    {
      AneTensor *t = ane_onnx_node_get_output (node, i);
      char name[32];

      result_of[i] = -1;
      if (!ane_onnx_node_output_wanted (node, i) || t == NULL || !is_graph_tensor (t))
        continue;
      g_snprintf (name, sizeof name, "out%u", i);
      if (!ane_graph_add_output (scratch, name, t, error))
        return FALSE;
      result_of[i] = (int) n_graph_outputs++;
    }
  if (n_graph_outputs > 0)
    {
      results = ane_reference_run (scratch, NULL, NULL, NULL, NULL, error);
      if (results == NULL)
        return FALSE;
    }
  for (guint i = 0; i < proto->n_output; i++)
    if (result_of[i] >= 0)
      ane_onnx_node_set_output (node, i, g_object_ref (results->pdata[result_of[i]]), NULL);
  return bind_outputs (node, scope, error);
}

/* Counts the uses of every value name in graph (its nodes, the subgraphs
 * they hold, its outputs) and remembers a consumer of each. */
static void
count_uses (const Onnx__GraphProto *graph,
            AneOnnxWalk            *walk,
            guint                   depth)
{
  if (depth > ANE_ONNX_MAX_DEPTH)
    return;
  for (gsize i = 0; i < graph->n_node; i++)
    {
      const Onnx__NodeProto *n = graph->node[i];

      for (gsize k = 0; k < n->n_input; k++)
        if (n->input[k] != NULL && n->input[k][0] != '\0')
          {
            guint c = GPOINTER_TO_UINT (g_hash_table_lookup (walk->uses, n->input[k]));

            g_hash_table_insert (walk->uses, n->input[k], GUINT_TO_POINTER (c + 1));
            if (depth == 0)
              g_hash_table_insert (walk->consumer, n->input[k], (gpointer) n);
          }
      for (gsize a = 0; a < n->n_attribute; a++)
        {
          if (n->attribute[a]->g != NULL)
            count_uses (n->attribute[a]->g, walk, depth + 1);
          for (gsize k = 0; k < n->attribute[a]->n_graphs; k++)
            count_uses (n->attribute[a]->graphs[k], walk, depth + 1);
        }
    }
  for (gsize i = 0; i < graph->n_output; i++)
    if (graph->output[i]->name != NULL)
      {
        guint c = GPOINTER_TO_UINT (g_hash_table_lookup (walk->uses, graph->output[i]->name));

        g_hash_table_insert (walk->uses, graph->output[i]->name, GUINT_TO_POINTER (c + 1));
      }
}

static gboolean
convert_node (AneOnnxImporter        *imp,
              const Onnx__NodeProto  *proto,
              const AneOnnxConverter *conv,
              AneOnnxScope           *scope,
              gint64                  opset,
              GError                **error)
{
  g_autoptr(AneOnnxNode) node = ane_onnx_node_new (imp, proto, scope, opset, imp->graph, FALSE);

  AneOnnxNode *claimed;

  if (!conv->convert (node, error))
    return FALSE;
  claimed = ane_onnx_node_get_claimed (node);
  if (claimed != NULL)
    {
      const Onnx__NodeProto *c = ane_onnx_node_get_proto (claimed);

      /* the fused pair's result is the consumer's output */
      if (c->n_output < 1 || ane_onnx_node_get_output (node, 0) == NULL)
        return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_GRAPH, "the fused node has no output");
      ane_onnx_scope_bind (scope, c->output[0], NULL, g_object_ref (ane_onnx_node_get_output (node, 0)));
      g_hash_table_add (imp->walk->claimed, (gpointer) c);
      return TRUE;
    }
  return bind_outputs (node, scope, error);
}

static gboolean walk_nodes (AneOnnxImporter *imp, const Onnx__GraphProto *graph, AneOnnxScope *scope,
                            GError **error);

gboolean
ane_onnx_walk_nodes (AneOnnxImporter         *imp,
                     const Onnx__GraphProto  *graph,
                     AneOnnxScope            *scope,
                     GError                 **error)
{
  AneOnnxWalk walk, *outer = imp->walk;
  gboolean ok;

  walk.uses = g_hash_table_new (g_str_hash, g_str_equal);
  walk.consumer = g_hash_table_new (g_str_hash, g_str_equal);
  walk.claimed = g_hash_table_new (NULL, NULL);
  count_uses (graph, &walk, 0);
  /* (a value a subgraph reads from outside counts as a use there, so it
   * is never fused away) */
  imp->walk = &walk;
  ok = walk_nodes (imp, graph, scope, error);
  imp->walk = outer;
  g_hash_table_unref (walk.uses);
  g_hash_table_unref (walk.consumer);
  g_hash_table_unref (walk.claimed);
  return ok;
}

static gboolean
walk_nodes (AneOnnxImporter         *imp,
                     const Onnx__GraphProto  *graph,
                     AneOnnxScope            *scope,
                     GError                 **error)
{
  /* a subgraph's own initializers (the main graph's are bound by the loader
   * together with the inputs, before the walk) */
  if (imp->depth > 0)
    for (gsize i = 0; i < graph->n_initializer; i++)
      {
        AneTensor *t = ane_onnx_tensor_from_proto (graph->initializer[i], imp->model_dir, error);

        if (t == NULL)
          return FALSE;
        ane_onnx_scope_bind (scope, graph->initializer[i]->name ? graph->initializer[i]->name : "", t, NULL);
      }

  for (gsize i = 0; i < graph->n_node; i++)
    {
      const Onnx__NodeProto *proto = graph->node[i];
      const char *op = proto->op_type ? proto->op_type : "";
      const AneOnnxConverter *conv;
      gint64 opset;
      g_autoptr(AneOnnxNode) probe = NULL;

      if (g_hash_table_contains (imp->walk->claimed, proto))
        continue;   /* fused into its producer */
      if (!is_default_domain (proto->domain))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                       "ONNX node '%s' (%s): domain '%s' is not supported (only the default ONNX domain is)",
                       proto->name ? proto->name : "", op, proto->domain);
          return FALSE;
        }
      opset = imp->default_opset;
      conv = ane_onnx_find_converter (op, opset, NULL);
      if (conv == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                       "ONNX node '%s': op %s (opset %" G_GINT64_FORMAT ") has no converter",
                       proto->name ? proto->name : "", op, opset);
          return FALSE;
        }
      if (!check_inputs_defined (proto, scope, error))
        return FALSE;

      probe = ane_onnx_node_new (imp, proto, scope, opset, imp->graph, FALSE);
      if (!(conv->flags & ANE_ONNX_CONVERTER_NO_FOLD) && ane_onnx_node_all_inputs_constant (probe))
        {
          g_autoptr(GError) fold_error = NULL;

          if (fold_node (imp, proto, conv, scope, opset, &fold_error))
            continue;
          /* not foldable (e.g. an op the reference evaluator refuses for
           * this dtype): build it into the graph like any other node */
          g_debug ("ONNX: node '%s' (%s) not folded: %s", proto->name ? proto->name : "", op,
                   fold_error->message);
        }
      if (!convert_node (imp, proto, conv, scope, opset, error))
        return FALSE;
    }
  return TRUE;
}
