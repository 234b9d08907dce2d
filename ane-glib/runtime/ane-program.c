/* runtime/ane-program.c: what every backend shares, and the table of backends
 *
 * Backends hand back outputs by name in the dtypes they computed (CoreML:
 * float32 or int32; the ANE: float32 widened from its fp16 surfaces; the
 * CPU interpreter: the function's declared dtypes). The executable promises
 * the interface's outputs in its order and dtypes, and states in their
 * declared dtypes, so that mapping is done once, here, for all of them.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-tensor-private.h"
#include "runtime/ane-program-private.h"
#include "ane-package-private.h"
#include "mil/ane-mil-specialize-private.h"

/* The backends, by AneBackend. A NULL constructor: that backend cannot
 * take that kind of source, for the reason given. */
typedef struct
{
  AneBackend   backend;
  const char  *name;
  AneProgram *(*for_graph)   (AneGraph *graph, const AneProgramOptions *options,
                              GCancellable *cancellable, GError **error);
  AneProgram *(*for_package) (AnePackage *package, const char *function, const AneProgramOptions *options,
                              GCancellable *cancellable, GError **error);
  const char  *no_package;   /* why it takes no package */
} AneBackendRow;

static const AneBackendRow backends[] = {
  { ANE_BACKEND_REFERENCE, "reference", ane_reference_program_new, NULL,
    "the reference backend evaluates graphs; run a package with the CoreML or CPU backend" },
  { ANE_BACKEND_CPU, "cpu", ane_cpu_program_new, ane_cpu_program_new_for_package, NULL },
  { ANE_BACKEND_COREML, "coreml", ane_coreml_program_new, ane_coreml_program_new_for_package, NULL },
  { ANE_BACKEND_ANE, "ane", ane_ane_backend_program_new, NULL,
    "the Neural Engine's in-memory path runs graphs ane-glib lowers (with a float16 interface); run a "
    "package with the CoreML or CPU backend" },
};

static const AneBackendRow *
find_backend (AneBackend backend)
{
  for (guint i = 0; i < G_N_ELEMENTS (backends); i++)
    if (backends[i].backend == backend)
      return &backends[i];
  return NULL;
}

const char *
ane_backend_get_name (AneBackend backend)
{
  const AneBackendRow *row = find_backend (backend);

  if (row != NULL)
    return row->name;
  return backend == ANE_BACKEND_AUTO ? "auto" : "unknown";
}

AneProgram *
ane_program_prepare (AneBackend                backend,
                     AneGraph                 *graph,
                     AnePackage               *package,
                     const char               *function,
                     const AneProgramOptions  *options,
                     GCancellable             *cancellable,
                     GError                  **error)
{
  const AneBackendRow *row = find_backend (backend);
  AneProgram *program;

  g_return_val_if_fail ((graph == NULL) != (package == NULL), NULL);

  if (row == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "unknown backend %d", (int) backend);
      return NULL;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  if (graph != NULL)
    program = row->for_graph (graph, options, cancellable, error);
  else if (row->for_package == NULL)
    {
      g_set_error_literal (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, row->no_package);
      return NULL;
    }
  else
    program = row->for_package (package, function, options, cancellable, error);
  if (program != NULL)
    {
      const AneMilProgram *mil = package != NULL ? ane_package_get_model (package)->mlprogram : NULL;

      program->flexible = graph != NULL ? ane_graph_is_flexible (graph)
                                        : ane_mil_function_is_flexible (ane_mil_program_find_function (mil, function));
    }
  return program;
}

void
ane_program_init (AneProgram            *self,
                  const AneProgramClass *klass,
                  GPtrArray             *outputs,
                  GPtrArray             *states)
{
  self->klass = klass;
  self->outputs = g_ptr_array_ref (outputs);
  self->states = states ? g_ptr_array_ref (states) : g_ptr_array_new_with_free_func (g_object_unref);
}

/* Every state's new value, converted to its declared dtype, into states;
 * nothing is changed unless all of them convert. */
static gboolean
commit_states (AneProgram  *self,
               GHashTable  *updated,
               GHashTable  *states,
               GError     **error)
{
  g_autoptr(GPtrArray) converted = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < self->states->len; i++)
    {
      const char *name = ane_tensor_get_name (g_ptr_array_index (self->states, i));
      AneDType want = ane_tensor_get_dtype (g_ptr_array_index (self->states, i));
      AneTensor *value = g_hash_table_lookup (updated, name);
      AneTensor *t;

      if (value == NULL)
        continue;
      t = ane_tensor_get_dtype (value) == want ? g_object_ref (value) : ane_tensor_convert (value, want, error);
      if (t == NULL)
        return FALSE;
      if (t != value)
        ane_program_count_copy (self, ane_tensor_get_n_elements (t) * ane_dtype_size (want));
      g_ptr_array_add (converted, t);
    }
  for (guint i = 0; i < converted->len; i++)
    {
      AneTensor *t = g_ptr_array_index (converted, i);

      g_hash_table_replace (states, g_strdup (ane_tensor_get_name (t)), g_object_ref (t));
    }
  return TRUE;
}

GPtrArray *
ane_program_run (AneProgram    *self,
                 GHashTable    *inputs,
                 GHashTable    *states,
                 gboolean       debug_nonfinite,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr(GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) working = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_autoptr(GPtrArray) named = NULL;
  g_autoptr(GPtrArray) outputs = NULL;
  guint n = self->outputs->len;
  GHashTableIter iter;
  gpointer key, value;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  /* a copy: a failed run leaves the states as they were */
  g_hash_table_iter_init (&iter, states);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (working, g_strdup (key), g_object_ref (value));
  named = self->klass->run (self, inputs, working, debug_nonfinite, cancellable, error);
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
      /* a flexible program's outputs take their sizes from the call */
      if (have.rank != want->rank ||
          (!self->flexible && memcmp (have.shape, want->shape, want->rank * sizeof (gint64)) != 0))
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
      if (converted != got)
        ane_program_count_copy (self, ane_tensor_get_n_elements (converted) * ane_dtype_size (want->dtype));
      g_ptr_array_add (outputs, ane_tensor_rename (converted, name));
    }
  if (!commit_states (self, working, states, error))
    return NULL;
  return g_steal_pointer (&outputs);
}

gboolean
ane_program_bind_param (AneProgram *self,
                        const char *name,
                        AneTensor  *value)
{
  return self->klass->bind_param != NULL && self->klass->bind_param (self, name, value);
}

AneTensor *
ane_program_find_state (AneProgram *self,
                        const char *name)
{
  for (guint i = 0; i < self->states->len; i++)
    if (g_str_equal (ane_tensor_get_name (g_ptr_array_index (self->states, i)), name))
      return g_ptr_array_index (self->states, i);
  return NULL;
}

gboolean
ane_program_reset_states (AneProgram  *self,
                          GError     **error)
{
  return self->klass->reset_states == NULL || self->klass->reset_states (self, error);
}

void
ane_program_count_copy (AneProgram *self,
                        guint64     bytes)
{
  self->copied += bytes;
}

const char *
ane_program_get_detail (AneProgram *self)
{
  return self->detail;
}

void
ane_program_free (AneProgram *self)
{
  GPtrArray *outputs, *states;
  char *detail;

  if (self == NULL)
    return;
  outputs = self->outputs;
  states = self->states;
  detail = self->detail;
  self->klass->free (self);
  g_ptr_array_unref (outputs);
  g_clear_pointer (&states, g_ptr_array_unref);
  g_free (detail);
}
