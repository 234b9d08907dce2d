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

#include "ane-tensor-private.h"
#include "runtime/ane-device-private.h"

void
ane_device_program_init (AneDeviceProgram            *self,
                         const AneDeviceProgramClass *klass,
                         GPtrArray                   *outputs)
{
  self->klass = klass;
  self->outputs = g_ptr_array_ref (outputs);
}

GPtrArray *
ane_device_program_run (AneDeviceProgram  *self,
                        GHashTable        *inputs,
                        GError           **error)
{
  g_autoptr(GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) named = NULL;
  g_autoptr(GPtrArray) outputs = NULL;
  guint n = self->outputs->len;

  named = self->klass->run (self, inputs, error);
  if (named == NULL)
    return NULL;
  for (guint i = 0; i < named->len; i++)
    g_hash_table_replace (by_name, (gpointer) ane_tensor_get_name (g_ptr_array_index (named, i)),
                          g_ptr_array_index (named, i));
  outputs = g_ptr_array_new_full (n, g_object_unref);
  for (guint i = 0; i < n; i++)
    {
      AneTensor *promised = g_ptr_array_index (self->outputs, i);
      const char *name = ane_tensor_get_name (promised);
      AneSpec want_spec;
      const AneSpec *want = &want_spec;
      AneTensor *got = g_hash_table_lookup (by_name, name);
      g_autoptr(AneTensor) converted = NULL;
      g_autoptr(AneTensor) reshaped = NULL;
      AneSpec have;

      ane_tensor_get_spec (promised, &want_spec);
      if (got == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                       "%s backend: the prediction has no output '%s'", self->klass->name, name);
          return NULL;
        }
      ane_tensor_get_spec (got, &have);
      if (want->rank == 0 && have.rank == 1 && have.shape[0] == 1)
        {
          /* CoreML has no rank-0 arrays: a scalar comes back as [1]. */
          got = reshaped = ane_tensor_new_from_bytes (name, have.dtype, NULL, 0, ane_tensor_get_data (got), error);
          if (got == NULL)
            return NULL;
          ane_tensor_get_spec (got, &have);
        }
      if (have.rank != want->rank || memcmp (have.shape, want->shape, want->rank * sizeof (gint64)) != 0)
        {
          char h[ANE_SPEC_STRLEN], w[ANE_SPEC_STRLEN];

          g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                       "%s backend: output '%s' came back as %s, the graph declares %s",
                       self->klass->name, name, ane_spec_format (&have, h), ane_spec_format (want, w));
          return NULL;
        }
      converted = have.dtype == want->dtype ? g_object_ref (got) : ane_tensor_convert (got, want->dtype, error);
      if (converted == NULL)
        return NULL;
      g_ptr_array_add (outputs, ane_tensor_rename (converted, name));
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
  GPtrArray *outputs;
  char *detail;

  if (self == NULL)
    return;
  outputs = self->outputs;
  detail = self->detail;
  self->klass->free (self);
  g_ptr_array_unref (outputs);
  g_free (detail);
}
