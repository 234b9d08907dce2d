/* model/ane-llama-bound.c: a step of generation run on bound buffers
 *
 * Issue 14 asks that on the Neural Engine's private path "the cache stays
 * in IOSurfaces between calls, no copies per token". A plain
 * ane_executable_run copies each state into the backend and back on every
 * call (the private path packs the caches into its surfaces and unpacks
 * them again); with every port of the step bound to an AneBuffer the
 * caches live in the backend's own memory — the surfaces themselves on the
 * private path, host memory the kernels update in place on the CPU — and a
 * token copies only its small inputs in and its outputs out
 * (ane_executable_run_bound; the buffers are docs/buffers.md's).
 *
 * Backends that take no buffers (CoreML, the reference) are left as they
 * are: ane_llama_bound_step_new gives NULL without an error and the caller
 * runs the executable the plain way.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "model/ane-llama-private.h"
#include "ane-buffer.h"

struct _AneLlamaBoundStep
{
  AneExecutable *exe;
  GHashTable    *inputs;    /* name -> AneBuffer */
  GPtrArray     *outputs;   /* AneBuffer, in the declared order */
  GPtrArray     *states;    /* AneBuffer */
};

static AneBuffer *
bind_new (AneExecutable  *exe,
          const char     *name,
          GError        **error)
{
  g_autoptr(AneBuffer) buffer = ane_executable_new_buffer (exe, name, error);

  if (buffer == NULL || !ane_executable_bind (exe, name, buffer, error))
    return NULL;
  return g_steal_pointer (&buffer);
}

/* A new buffer bound to each port named by ports[from..] (AneTensor), kept
 * in array, or by name in table when array is NULL. */
static gboolean
bind_ports (AneExecutable  *exe,
            GPtrArray      *ports,
            guint           from,
            GPtrArray      *array,
            GHashTable     *table,
            GError        **error)
{
  for (guint i = from; i < ports->len; i++)
    {
      AneBuffer *b = bind_new (exe, ane_tensor_get_name (g_ptr_array_index (ports, i)), error);

      if (b == NULL)
        return FALSE;
      if (array != NULL)
        g_ptr_array_add (array, b);
      else
        g_hash_table_insert (table, (gpointer) ane_buffer_get_name (b), b);
    }
  return TRUE;
}

AneLlamaBoundStep *
ane_llama_bound_step_new (AneExecutable  *exe,
                          GPtrArray      *inputs,
                          GPtrArray      *outputs,
                          GPtrArray      *states,
                          GError        **error)
{
  g_autoptr(AneLlamaBoundStep) step = g_new0 (AneLlamaBoundStep, 1);
  g_autoptr(GError) local = NULL;
  AneBuffer *first;

  step->exe = g_object_ref (exe);
  step->inputs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  step->outputs = g_ptr_array_new_with_free_func (g_object_unref);
  step->states = g_ptr_array_new_with_free_func (g_object_unref);

  /* the first port tells whether the backend takes buffers at all */
  first = bind_new (exe, ane_tensor_get_name (g_ptr_array_index (inputs, 0)), &local);
  if (first == NULL)
    {
      if (g_error_matches (local, ANE_ERROR, ANE_ERROR_UNSUPPORTED))
        return NULL;
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  g_hash_table_insert (step->inputs, (gpointer) ane_buffer_get_name (first), first);
  if (!bind_ports (exe, inputs, 1, NULL, step->inputs, error) ||
      !bind_ports (exe, outputs, 0, step->outputs, NULL, error) ||
      (states != NULL && !bind_ports (exe, states, 0, step->states, NULL, error)))
    return NULL;
  return g_steal_pointer (&step);
}

GPtrArray *
ane_llama_bound_step_run (AneLlamaBoundStep  *step,
                          GPtrArray          *inputs,
                          GError            **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_object_unref);

  if (inputs->len != g_hash_table_size (step->inputs))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "the step takes %u inputs, %u given",
                   g_hash_table_size (step->inputs), inputs->len);
      return NULL;
    }
  for (guint i = 0; i < inputs->len; i++)
    {
      AneTensor *t = g_ptr_array_index (inputs, i);
      AneBuffer *b = g_hash_table_lookup (step->inputs, ane_tensor_get_name (t));

      if (b == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "the step has no input '%s'",
                       ane_tensor_get_name (t));
          return NULL;
        }
      if (!ane_buffer_write_tensor (b, t, error))
        return NULL;
    }
  if (!ane_executable_run_bound (step->exe, NULL, error))
    return NULL;
  for (guint i = 0; i < step->outputs->len; i++)
    {
      AneTensor *t = ane_buffer_dup_tensor (g_ptr_array_index (step->outputs, i), error);

      if (t == NULL)
        return NULL;
      g_ptr_array_add (out, t);
    }
  return g_steal_pointer (&out);
}

GPtrArray *
ane_llama_step_run (AneExecutable      *exe,
                    AneLlamaBoundStep  *bound,
                    GPtrArray          *inputs,
                    GError            **error)
{
  if (bound != NULL)
    return ane_llama_bound_step_run (bound, inputs, error);
  return ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, error);
}

void
ane_llama_bound_step_free (AneLlamaBoundStep *step)
{
  if (step == NULL)
    return;
  /* unbinding hands the states' values back to the executable, which may
   * outlive the step */
  for (guint i = 0; step->states != NULL && i < step->states->len; i++)
    ane_executable_bind (step->exe, ane_buffer_get_name (g_ptr_array_index (step->states, i)), NULL, NULL);
  g_clear_pointer (&step->inputs, g_hash_table_unref);
  g_clear_pointer (&step->outputs, g_ptr_array_unref);
  g_clear_pointer (&step->states, g_ptr_array_unref);
  g_clear_object (&step->exe);
  g_free (step);
}
