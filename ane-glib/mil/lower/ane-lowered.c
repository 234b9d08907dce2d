/* mil/lower/ane-lowered.c: the lowered artifact (ane-lowered-private.h)
 *
 * ane_lowered_new() itself is in ane-lower.c, beside the lowering it runs.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mil/ane-mil-builder-private.h"
#include "mil/ane-mlpackage-private.h"
#include "mil/lower/ane-lowered-private.h"

/* The common part; takes program. */
AneLowered *
ane_lowered_new_for_program (AneMilProgram *program,
                             GPtrArray     *blobs,
                             guint64        weight_size)
{
  AneLowered *self = g_new0 (AneLowered, 1);

  self->program = program;
  self->blobs = blobs ? blobs : g_ptr_array_new_with_free_func ((GDestroyNotify) ane_mil_pending_blob_free);
  self->weight_size = weight_size;
  for (guint i = 0; i < self->blobs->len; i++)
    self->weight_bytes += ((AneMilPendingBlob *) g_ptr_array_index (self->blobs, i))->size;
  self->notes = g_new0 (char *, 1);
  return self;
}

AneLowered *
ane_lowered_new_from_model (AneCoreMLModel *model,
                            GPtrArray      *blobs,
                            guint64         weight_size)
{
  AneLowered *self = ane_lowered_new_for_program (model->mlprogram, blobs, weight_size);

  self->model = model;
  return self;
}

void
ane_lowered_add_blob (AneLowered        *self,
                      AneMilPendingBlob *blob)
{
  g_ptr_array_add (self->blobs, blob);
  self->weight_bytes += blob->size;
}

AneMilProgram *
ane_lowered_get_program (AneLowered *self)
{
  return self->program;
}

GBytes *
ane_lowered_read_blob (AneLowered  *self,
                       const char  *file_name,
                       guint64      offset,
                       GError     **error)
{
  for (guint i = 0; i < self->blobs->len; i++)
    {
      AneMilPendingBlob *blob = g_ptr_array_index (self->blobs, i);

      if (blob->offset == offset)
        return ane_mlpackage_blob_bytes (blob, self->graph, self->params, error);
    }
  g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "%s: no blob at offset %" G_GUINT64_FORMAT, file_name, offset);
  return NULL;
}

GBytes *
ane_lowered_blob_blocks (AneLowered *self,
                         guint64     offset,
                         AneDType   *blocks_dtype,
                         int        *part)
{
  for (guint i = 0; i < self->blobs->len; i++)
    {
      AneMilPendingBlob *blob = g_ptr_array_index (self->blobs, i);

      if (blob->offset == offset)
        {
          if (blob->source != ANE_MIL_BLOB_FROM_BLOCKS)
            return NULL;
          *blocks_dtype = blob->blocks_dtype;
          *part = (int) blob->part;
          return g_bytes_ref (blob->data);
        }
    }
  return NULL;
}

void
ane_lowered_free (AneLowered *self)
{
  if (self == NULL)
    return;
  if (self->model != NULL)
    ane_mlpackage_model_free (self->model);   /* and the program it owns */
  else if (self->program != NULL)
    protobuf_c_message_free_unpacked (&self->program->base, NULL);
  g_clear_pointer (&self->blobs, g_ptr_array_unref);
  g_clear_pointer (&self->notes, g_strfreev);
  g_clear_object (&self->graph);
  g_clear_pointer (&self->params, g_hash_table_unref);
  g_free (self);
}
