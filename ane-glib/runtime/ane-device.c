/* runtime/ane-device.c: what the Apple backends share
 *
 * Devices hand back outputs by name in the dtypes they computed (CoreML:
 * float32 or int32; the ANE: float32 widened from its fp16 surfaces). The
 * executable promises the graph's outputs in the graph's order and dtypes,
 * so that mapping is done once, here.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "runtime/ane-device-private.h"

void
ane_device_program_init (AneDeviceProgram            *self,
                         const AneDeviceProgramClass *klass,
                         AneGraph                    *graph)
{
  self->klass = klass;
  self->graph = g_object_ref (graph);
}

GPtrArray *
ane_device_program_run (AneDeviceProgram  *self,
                        GHashTable        *inputs,
                        GError           **error)
{
  g_autoptr(GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) named = NULL;
  g_autoptr(GPtrArray) outputs = NULL;
  guint n = ane_graph_get_n_outputs (self->graph);

  named = self->klass->run (self, inputs, error);
  if (named == NULL)
    return NULL;
  for (guint i = 0; i < named->len; i++)
    g_hash_table_replace (by_name, (gpointer) ane_tensor_get_name (g_ptr_array_index (named, i)),
                          g_ptr_array_index (named, i));
  outputs = g_ptr_array_new_full (n, g_object_unref);
  for (guint i = 0; i < n; i++)
    {
      const AneGraphOutput *out = ane_graph_get_output (self->graph, i);
      const AneSpec *want = ane_graph_value_spec (self->graph, out->ref);
      AneTensor *got = g_hash_table_lookup (by_name, out->name);
      g_autoptr(AneTensor) converted = NULL;
      AneSpec have;

      if (got == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                       "%s backend: the prediction has no output '%s'", self->klass->name, out->name);
          return NULL;
        }
      ane_tensor_get_spec (got, &have);
      if (have.rank != want->rank || memcmp (have.shape, want->shape, want->rank * sizeof (gint64)) != 0)
        {
          char h[ANE_SPEC_STRLEN], w[ANE_SPEC_STRLEN];

          g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                       "%s backend: output '%s' came back as %s, the graph declares %s",
                       self->klass->name, out->name, ane_spec_format (&have, h), ane_spec_format (want, w));
          return NULL;
        }
      converted = have.dtype == want->dtype ? g_object_ref (got) : ane_tensor_convert (got, want->dtype, error);
      if (converted == NULL)
        return NULL;
      g_ptr_array_add (outputs, ane_tensor_rename (converted, out->name));
    }
  return g_steal_pointer (&outputs);
}

gboolean
ane_device_program_reset_states (AneDeviceProgram  *self,
                                 GError           **error)
{
  return self->klass->reset_states == NULL || self->klass->reset_states (self, error);
}

const char *
ane_device_program_get_detail (AneDeviceProgram *self)
{
  return self->detail;
}

void
ane_device_program_free (AneDeviceProgram *self)
{
  AneGraph *graph;
  char *detail;

  if (self == NULL)
    return;
  graph = self->graph;
  detail = self->detail;
  self->klass->free (self);
  g_clear_object (&graph);
  g_free (detail);
}
