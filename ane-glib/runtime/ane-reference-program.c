/* runtime/ane-reference-program.c: the reference evaluator as a backend
 *
 * The IR's executable specification (ane-reference.c) behind the program
 * interface. It evaluates the graph itself, node by node, so there is
 * nothing to lower or compile: preparing checks the memory budget, and the
 * params bound on the executable are read at every run (binding one needs
 * no second preparation).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-reference-private.h"
#include "runtime/ane-program-private.h"

typedef struct
{
  AneProgram  parent;
  AneGraph   *graph;
  GHashTable *params;   /* the executable's table, shared: read at each run */
} ReferenceProgram;

static GPtrArray *
reference_run (AneProgram    *program,
               GHashTable    *inputs,
               GHashTable    *states,
               gboolean       debug_nonfinite,
               GCancellable  *cancellable,
               GError       **error)
{
  ReferenceProgram *self = (ReferenceProgram *) program;

  return ane_reference_run (self->graph, self->params, inputs, states, cancellable, error);
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
