/* runtime/coreml/ane-coreml-backend.c: AneExecutable's CoreML backend
 *
 * The graph goes the way a user's package would: lowered, written as an
 * .mlpackage (weights bound on the executable included), compiled by
 * CoreML into an .mlmodelc kept in a cache keyed by the package's content
 * (a second executable of the same graph and weights compiles nothing),
 * loaded with the executable's compute units. A stateful program gets one
 * MLState, which every run updates.
 *
 * States. The executable's table of state values is the truth, as for
 * every backend (runtime/ane-program-private.h): a run writes into the
 * MLState each value that is not already there (set_state, a new MLState
 * after reset_states, a failed run) and reads every state back afterwards
 * (-[MLState getMultiArrayForStateNamed:handler:], macOS 15 / iOS 18, in
 * ane-coreml.m), so dup_state and set_state work, and a prompt's caches
 * can be handed from one function's program to another's. The price is one
 * copy of every state out of CoreML per run (counted in `copied`); where
 * the API is missing the states stay inside CoreML (states_opaque).
 *
 * Plain C: CoreML is reached through the AneCoremlApi table only, so this
 * file is exercised on Linux against the shim built with fake CoreML
 * classes (tests/coreml). It has NEVER run against the real framework.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-file-private.h"

#include <glib/gstdio.h>

#include "ane-package-private.h"
#include "mil/ane-mlpackage-private.h"
#include "runtime/ane-program-private.h"
#include "runtime/coreml/ane-coreml-private.h"

typedef struct
{
  AneProgram    parent;
  const AneCoremlApi *api;
  AneCoremlModel     *model;
  AneCoremlState     *state;   /* NULL for a stateless program */
  /* state name -> the AneTensor (referenced) whose value the MLState holds
   * now, as the table last had it; absent: unknown, written on the next run */
  GHashTable         *in_state;
} CoremlProgram;

static gboolean
states_readable (CoremlProgram *self)
{
  return self->state != NULL && self->parent.states_opaque == NULL;
}

/* Writes into the MLState every table value it does not hold already (a
 * state absent from the table is zeros: Apple does not say what a new
 * MLState holds). */
static gboolean
write_states (CoremlProgram  *self,
              GHashTable     *states,
              GError        **error)
{
  AneProgram *program = &self->parent;

  for (guint i = 0; i < program->states->len; i++)
    {
      AneTensor *declared = g_ptr_array_index (program->states, i);
      const char *name = ane_tensor_get_name (declared);
      AneTensor *value = g_hash_table_lookup (states, name);
      g_autoptr(AneTensor) zeros = NULL;
      guint rank;
      const gint64 *shape;

      if (value != NULL && value == g_hash_table_lookup (self->in_state, name))
        continue;
      if (value == NULL)
        {
          shape = ane_tensor_get_shape (declared, &rank);
          value = zeros = ane_tensor_new_zeros (name, ane_tensor_get_dtype (declared), shape, rank, error);
          if (zeros == NULL)
            return FALSE;
        }
      g_hash_table_remove (self->in_state, name);
      if (!self->api->set_state (self->state, value, error))
        return FALSE;
      ane_program_count_copy (program, ane_tensor_get_n_elements (value) * ane_dtype_size (ane_tensor_get_dtype (value)));
      if (zeros == NULL)
        g_hash_table_insert (self->in_state, g_strdup (name), g_object_ref (value));
    }
  return TRUE;
}

/* Reads every state's new value into the run's table, in the declared
 * dtypes (so the executable keeps the very tensor, and the next run knows
 * the MLState holds it). */
static gboolean
read_states (CoremlProgram  *self,
             GHashTable     *states,
             GError        **error)
{
  AneProgram *program = &self->parent;

  for (guint i = 0; i < program->states->len; i++)
    {
      AneTensor *declared = g_ptr_array_index (program->states, i);
      const char *name = ane_tensor_get_name (declared);
      AneDType dtype = ane_tensor_get_dtype (declared);
      guint rank;
      const gint64 *shape = ane_tensor_get_shape (declared, &rank);
      AneTensor *value = self->api->get_state (self->state, name, dtype, shape, rank, error);

      if (value == NULL)
        return FALSE;
      ane_program_count_copy (program, ane_tensor_get_n_elements (value) * ane_dtype_size (dtype));
      g_hash_table_replace (states, g_strdup (name), value);
      g_hash_table_replace (self->in_state, g_strdup (name), g_object_ref (value));
    }
  return TRUE;
}

static GPtrArray *
coreml_run (AneProgram    *program,
            GHashTable    *inputs,
            GHashTable    *states,
            gboolean       debug_nonfinite,
            GCancellable  *cancellable,
            GError       **error)
{
  CoremlProgram *self = (CoremlProgram *) program;
  g_autoptr(GPtrArray) outputs = NULL;

  if (!states_readable (self))
    return self->api->predict (self->model, inputs, self->state, error);
  /* whatever fails from here on may have left the MLState half written */
  if (!write_states (self, states, error) ||
      (outputs = self->api->predict (self->model, inputs, self->state, error)) == NULL ||
      !read_states (self, states, error))
    {
      g_hash_table_remove_all (self->in_state);
      return NULL;
    }
  return g_steal_pointer (&outputs);
}

static gboolean
coreml_reset_states (AneProgram  *program,
                     GError           **error)
{
  CoremlProgram *self = (CoremlProgram *) program;
  AneCoremlState *fresh;

  if (self->state == NULL)
    return TRUE;
  fresh = self->api->new_state (self->model, error);
  if (fresh == NULL)
    return FALSE;
  self->api->state_free (self->state);
  self->state = fresh;
  g_hash_table_remove_all (self->in_state);
  return TRUE;
}

static void
coreml_free (AneProgram *program)
{
  CoremlProgram *self = (CoremlProgram *) program;

  if (self->state)
    self->api->state_free (self->state);
  if (self->model)
    self->api->model_free (self->model);
  g_hash_table_unref (self->in_state);
  g_free (self);
}

static const AneProgramClass coreml_class = {
  .name = "coreml",
  .run = coreml_run,
  .reset_states = coreml_reset_states,
  .free = coreml_free,
};

static const AneCoremlApi *
require_api (GError **error)
{
  const AneCoremlApi *api = ane_coreml_api_get ();

  if (api == NULL)
    g_set_error_literal (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                         "CoreML.framework is only available on Apple platforms (this build has no CoreML shim)");
  return api;
}

/* Compiles a package (its own directory when it was loaded from one; else
 * written first into a temporary directory, removed again). */
static char *
compile_package (const AneCoremlApi  *api,
                 AnePackage          *package,
                 GCancellable        *cancellable,
                 gboolean            *from_cache,
                 GError             **error)
{
  g_autofree char *cache = ane_coreml_cache_dir ();
  g_autofree char *staging = NULL;
  g_autofree char *path = NULL;
  char *compiled = NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  if (ane_package_get_path (package) != NULL)
    return api->compile (ane_package_get_path (package), cache, from_cache, error);
  staging = g_dir_make_tmp ("ane-glib-coreml-XXXXXX", error);
  if (staging == NULL)
    return NULL;
  path = g_build_filename (staging, "model.mlpackage", NULL);
  if (ane_package_save (package, path, FALSE, error))
    compiled = api->compile (path, cache, from_cache, error);
  ane_file_remove_tree (staging);
  return compiled;
}

/* Compiled, loaded (function: of a multifunction package, NULL for the
 * default), with a state when the function has states. */
static AneProgram *
program_new (const AneCoremlApi      *api,
             AnePackage              *package,
             const char              *function,
             GPtrArray               *promised,
             GPtrArray               *states,
             const AneProgramOptions  *options,
             GCancellable            *cancellable,
             GError                 **error)
{
  g_autofree char *compiled = NULL;
  g_autoptr(AneProgram) program = NULL;
  CoremlProgram *self;
  gboolean from_cache = FALSE;

  compiled = compile_package (api, package, cancellable, &from_cache, error);
  if (compiled == NULL)
    return NULL;
  self = g_new0 (CoremlProgram, 1);
  ane_program_init (&self->parent, &coreml_class, promised, states);
  self->in_state = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  program = &self->parent;
  self->api = api;
  self->model = api->load (compiled, function, options->compute_units, error);
  if (self->model == NULL)
    return NULL;
  if (states->len > 0)
    {
      self->state = api->new_state (self->model, error);
      if (self->state == NULL)
        return NULL;
      /* without -[MLState getMultiArrayForStateNamed:handler:] (before
       * macOS 15 / iOS 18, or a shim built without blocks) the states
       * cannot be read or written */
      if (api->get_state == NULL || api->set_state == NULL || api->can_access_state == NULL ||
          !api->can_access_state (self->state))
        self->parent.states_opaque = "the CoreML backend keeps states inside CoreML (MLState), where they cannot be "
                                     "read or written without -[MLState getMultiArrayForStateNamed:handler:] "
                                     "(macOS 15 / iOS 18), which this CoreML lacks; reset_states() starts them over";
    }
  program->detail = g_strdup_printf ("%s, model %s %s", api->name,
                                     from_cache ? "from the compile cache" : "compiled to", compiled);
  return g_steal_pointer (&program);
}

AneProgram *
ane_coreml_program_new (AneGraph                *graph,
                        const AneProgramOptions  *options,
                        GCancellable            *cancellable,
                        GError                 **error)
{
  const AneCoremlApi *api = require_api (error);
  g_autoptr(AnePackage) package = NULL;
  g_autoptr(GPtrArray) states = NULL;
  g_autoptr(GPtrArray) promised = NULL;

  if (api == NULL)
    return NULL;
  package = ane_package_new_for_backend (graph, options->target, options->precision, ANE_LOWER_DEFAULT,
                                         options->params, error);
  if (package == NULL)
    return NULL;
  states = ane_graph_list_states (graph);
  promised = ane_graph_list_outputs (graph);
  return program_new (api, package, NULL, promised, states, options, cancellable, error);
}

AneProgram *
ane_coreml_program_new_for_package (AnePackage              *package,
                                    const char              *function,
                                    const AneProgramOptions  *options,
                                    GCancellable            *cancellable,
                                    GError                 **error)
{
  const AneCoremlApi *api = require_api (error);
  const char *main_function = ane_package_get_default_function (package);
  g_autoptr(GPtrArray) states = NULL;
  g_autoptr(GPtrArray) promised = NULL;

  if (api == NULL)
    return NULL;
  /* the default function loads as it is; another one is named in the
   * configuration (MLModelConfiguration.functionName, macOS 15 / iOS 18:
   * ane-coreml.m), which an older system refuses with the reason */
  if (g_strcmp0 (function, main_function) == 0)
    function = NULL;
  states = ane_package_list_states (package, function, error);
  promised = states ? ane_package_list_outputs (package, function, error) : NULL;
  if (promised == NULL)
    return NULL;
  return program_new (api, package, function, promised, states, options, cancellable, error);
}
