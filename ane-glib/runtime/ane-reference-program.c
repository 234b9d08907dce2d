/* runtime/ane-reference-program.c: the reference evaluator as a backend
 *
 * The IR's executable specification (ane-reference.c) behind the program
 * interface. It evaluates the graph itself, node by node, so there is
 * nothing to lower or compile: preparing checks the memory budget, and the
 * params bound on the executable are read at every run (binding one needs
 * no second preparation). A graph with flexible inputs run at another
 * shape is built again at that shape (ane_graph_specialize) and the
 * result kept for the next call at the same shapes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-reference-private.h"
#include "runtime/ane-program-private.h"

typedef struct
{
  AneProgram  parent;
  AneGraph   *graph;
  GHashTable *params;   /* the executable's table, shared: read at each run */
  char       *shaped_key;    /* the input shapes shaped was built at */
  AneGraph   *shaped;        /* the graph built again at other input shapes */
} ReferenceProgram;

/* The graph to evaluate for these inputs: the graph, or for other shapes
 * of flexible inputs the graph built at them. */
static AneGraph *
graph_for_call (ReferenceProgram  *self,
                GHashTable        *inputs,
                GError           **error)
{
  g_autoptr(GPtrArray) declared = NULL;
  g_autoptr(GHashTable) shapes = NULL;
  g_autoptr(GString) key = NULL;
  gboolean same = TRUE;

  if (!ane_graph_is_flexible (self->graph))
    return self->graph;
  declared = ane_graph_list_inputs (self->graph);
  shapes = g_hash_table_new (g_str_hash, g_str_equal);
  key = g_string_new (NULL);
  for (guint i = 0; i < declared->len; i++)
    {
      AneTensor *want = g_ptr_array_index (declared, i);
      const char *name = ane_tensor_get_name (want);
      AneTensor *t = g_hash_table_lookup (inputs, name);
      const gint64 *shape, *declared_shape;
      guint rank, declared_rank;

      if (t == NULL)
        continue;
      shape = ane_tensor_get_shape (t, &rank);
      declared_shape = ane_tensor_get_shape (want, &declared_rank);
      same = same && rank == declared_rank &&
             (rank == 0 || memcmp (shape, declared_shape, rank * sizeof (gint64)) == 0);
      g_hash_table_insert (shapes, (gpointer) name, (gpointer) shape);
      g_string_append_printf (key, "%s:", name);
      for (guint d = 0; d < rank; d++)
        g_string_append_printf (key, "%" G_GINT64_FORMAT ",", shape[d]);
    }
  if (same)
    return self->graph;
  if (g_strcmp0 (key->str, self->shaped_key) != 0)
    {
      AneGraph *shaped = ane_graph_specialize (self->graph, shapes, error);

      if (shaped == NULL)
        return NULL;
      g_clear_object (&self->shaped);
      g_free (self->shaped_key);
      self->shaped = shaped;
      self->shaped_key = g_strdup (key->str);
    }
  return self->shaped;
}

static GPtrArray *
reference_run (AneProgram    *program,
               GHashTable    *inputs,
               GHashTable    *states,
               gboolean       debug_nonfinite,
               GCancellable  *cancellable,
               GError       **error)
{
  ReferenceProgram *self = (ReferenceProgram *) program;
  AneGraph *graph = graph_for_call (self, inputs, error);

  if (graph == NULL)
    return NULL;
  return ane_reference_run (graph, self->params, inputs, states, cancellable, error);
}

static gboolean
reference_bind_param (AneProgram *program,
                      const char *name,
                      AneTensor  *value)
{
  return TRUE;   /* read from the shared table at the next run */
}

static void
reference_free (AneProgram *program)
{
  ReferenceProgram *self = (ReferenceProgram *) program;

  g_clear_object (&self->graph);
  g_clear_object (&self->shaped);
  g_free (self->shaped_key);
  g_clear_pointer (&self->params, g_hash_table_unref);
  g_free (self);
}

static const AneProgramClass reference_class = {
  .name = "reference",
  .run = reference_run,
  .bind_param = reference_bind_param,
  .free = reference_free,
};

/* The evaluator keeps every needed node's values, as doubles, for the whole
 * run: their sum must fit the budget. */
static gboolean
fits_budget (AneGraph  *graph,
             guint64    budget,
             GError   **error)
{
  guint n_nodes = ane_graph_get_n_nodes_internal (graph);
  g_autofree gboolean *needed = g_new0 (gboolean, MAX (n_nodes, 1));
  guint64 total = 0;

  if (budget == 0)
    return TRUE;
  ane_graph_mark_needed (graph, needed);
  for (guint i = 0; i < n_nodes; i++)
    {
      const AneNode *node = ane_graph_get_node (graph, i);

      for (guint j = 0; needed[i] && j < node->n_outputs; j++)
        {
          guint64 bytes = sizeof (double);
          char spec[ANE_SPEC_STRLEN];

          for (guint d = 0; d < node->outputs[j].rank && bytes != G_MAXUINT64; d++)
            {
              guint64 dim = (guint64) MAX (node->outputs[j].shape[d], 0);

              bytes = dim != 0 && bytes > G_MAXUINT64 / dim ? G_MAXUINT64 : bytes * dim;
            }
          if (bytes > budget || total > budget - bytes)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE,
                           "%s '%s': its %s value takes %" G_GUINT64_FORMAT " bytes as doubles; with the %"
                           G_GUINT64_FORMAT " bytes before it, the reference backend would exceed the memory "
                           "budget of %" G_GUINT64_FORMAT " bytes (ane_executable_set_memory_budget)",
                           node->op->name, node->name, ane_spec_format (&node->outputs[j], spec),
                           bytes, total, budget);
              return FALSE;
            }
          total += bytes;
        }
    }
  return TRUE;
}

AneProgram *
ane_reference_program_new (AneGraph                 *graph,
                           const AneProgramOptions  *options,
                           GCancellable             *cancellable,
                           GError                  **error)
{
  g_autoptr(GPtrArray) outputs = NULL;
  g_autoptr(GPtrArray) states = NULL;
  ReferenceProgram *self;

  if (!fits_budget (graph, options->budget, error))
    return NULL;
  outputs = ane_graph_list_outputs (graph);
  states = ane_graph_list_states (graph);
  self = g_new0 (ReferenceProgram, 1);
  ane_program_init (&self->parent, &reference_class, outputs, states);
  self->graph = g_object_ref (graph);
  self->params = g_hash_table_ref (options->params);
  return &self->parent;
}
