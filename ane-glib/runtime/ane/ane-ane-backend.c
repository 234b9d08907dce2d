/* runtime/ane/ane-ane-backend.c: AneExecutable's Neural Engine backend
 *
 * The graph is lowered as for a package, except that its float32 inputs and
 * outputs are declared float16: the in-memory path binds fp16 IOSurfaces,
 * and the programs its users hand it (maderix/ANE, rane) declare fp16
 * interfaces. The MIL text and weight.bin are what ane_package_save_mil
 * writes; they go to the private runtime (ane-ane-runtime.c), which compiles
 * them (cached by content) and binds one surface per input and output.
 *
 * What the path cannot run is refused here, before any compile, with
 * ANE_ERROR_UNSUPPORTED naming the reason, so AUTO can fall back: states,
 * inputs or outputs that are not float, float32 precision (the ANE computes
 * in fp16). Shapes beyond [1, C, H, W] are refused by the surface layout.
 *
 * It has NEVER run on a Neural Engine (see docs/ane-private.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-file-private.h"

#include <glib/gstdio.h>

#include "ane-package-private.h"
#include "ane-mil-dialect-private.h"
#include "mil/ane-mlpackage-private.h"
#include "runtime/ane-program-private.h"
#include "runtime/ane/ane-ane-private.h"

typedef struct
{
  AneProgram  parent;
  AneAneProgram    *program;
} AneBackendProgram;

static GPtrArray *
ane_run (AneProgram    *program,
         GHashTable    *inputs,
         GHashTable    *states,
         gboolean       debug_nonfinite,
         GCancellable  *cancellable,
         GError       **error)
{
  AneBackendProgram *self = (AneBackendProgram *) program;

  return ane_ane_program_run (self->program, inputs, error);
}

static void
ane_free (AneProgram *program)
{
  AneBackendProgram *self = (AneBackendProgram *) program;

  g_clear_pointer (&self->program, ane_ane_program_free);
  g_free (self);
}

static const AneProgramClass ane_class = {
  .name = "ane",
  .run = ane_run,
  .reset_states = NULL,
  .free = ane_free,
};

static gboolean
check_float_interface (const char  *what,
                       GPtrArray   *tensors,
                       GError     **error)
{
  for (guint i = 0; i < tensors->len; i++)
    {
      AneTensor *t = g_ptr_array_index (tensors, i);
      AneDType dtype = ane_tensor_get_dtype (t);

      if (dtype != ANE_DTYPE_FLOAT32 && dtype != ANE_DTYPE_FLOAT16)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                       "%s '%s' is %s; the Neural Engine's in-memory path binds float16 surfaces only",
                       what, ane_tensor_get_name (t), ane_dtype_to_string (dtype));
          return FALSE;
        }
    }
  return TRUE;
}

/* What the path cannot run, said before anything is lowered. */
static gboolean
check_graph (AneGraph                *graph,
             const AneProgramOptions  *options,
             GError                 **error)
{
  g_autoptr(GPtrArray) states = ane_graph_list_states (graph);
  g_autoptr(GPtrArray) inputs = ane_graph_list_inputs (graph);
  g_autoptr(GPtrArray) outputs = ane_graph_list_outputs (graph);

  if (options->precision != ANE_PRECISION_FLOAT16)
    {
      g_set_error_literal (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                           "the Neural Engine computes in float16; float32 precision needs the CoreML or CPU backend");
      return FALSE;
    }
  if (states->len > 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "state '%s': the Neural Engine's in-memory path has no states (the CoreML backend has)",
                   ane_tensor_get_name (g_ptr_array_index (states, 0)));
      return FALSE;
    }
  return check_float_interface ("input", inputs, error) && check_float_interface ("output", outputs, error);
}

/* The MIL text and weight.bin, as ane_package_save_mil_for_dialect writes
 * them (through a temporary directory, removed again), in the executable's
 * dialect: the buildInfo keys the projects that ran MIL text on the Neural
 * Engine write (ane-mil-dialect.c cites them). */
static gboolean
lower_to_mil (AneGraph                *graph,
              const AneProgramOptions  *options,
              AnePackage             **package_out,
              char                   **text,
              GBytes                 **weights,
              GError                 **error)
{
  g_autoptr(AnePackage) package = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *mil_path = NULL;
  g_autofree char *weight_path = NULL;
  gboolean ok = FALSE;

  package = ane_package_new_for_backend (graph, options->target, ANE_PRECISION_FLOAT16, ANE_LOWER_FP16_INTERFACE,
                                         options->params, error);
  if (package == NULL)
    return FALSE;
  dir = g_dir_make_tmp ("ane-glib-ane-XXXXXX", error);
  if (dir == NULL)
    return FALSE;
  mil_path = g_build_filename (dir, "model.mil", NULL);
  weight_path = g_build_filename (dir, "weights", "weight.bin", NULL);
  if (ane_package_save_mil_for_dialect (package, mil_path, FALSE,
                                        options->dialect ? options->dialect : ane_mil_dialect_get_default (),
                                        error) &&
      g_file_get_contents (mil_path, text, NULL, error))
    {
      g_autoptr(GMappedFile) mapped = NULL;

      ok = TRUE;
      *weights = NULL;
      if (g_file_test (weight_path, G_FILE_TEST_EXISTS))
        {
          mapped = g_mapped_file_new (weight_path, FALSE, error);
          if (mapped != NULL)
            *weights = g_mapped_file_get_bytes (mapped);   /* stays valid after the unlink */
          else
            {
              g_clear_pointer (text, g_free);
              ok = FALSE;
            }
        }
    }
  ane_file_remove_tree (dir);
  if (ok)
    *package_out = g_steal_pointer (&package);
  return ok;
}

/* Surface specs in the order of the model description, which is the MIL
 * function's order: the request binds surfaces by index. */
static AneAneTensorSpec *
specs_of (GPtrArray *tensors)
{
  AneAneTensorSpec *specs = g_new0 (AneAneTensorSpec, MAX (tensors->len, 1));

  for (guint i = 0; i < tensors->len; i++)
    {
      AneTensor *t = g_ptr_array_index (tensors, i);

      specs[i].name = ane_tensor_get_name (t);
      specs[i].shape = ane_tensor_get_shape (t, &specs[i].rank);
    }
  return specs;
}

AneProgram *
ane_ane_backend_program_new (AneGraph                *graph,
                             const AneProgramOptions  *options,
                             GCancellable            *cancellable,
                             GError                 **error)
{
  const AneAneRuntime *rt = ane_ane_runtime_get ();
  g_autoptr(AnePackage) package = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GBytes) weights = NULL;
  g_autoptr(GPtrArray) inputs = NULL;
  g_autoptr(GPtrArray) outputs = NULL;
  g_autofree AneAneTensorSpec *in_specs = NULL;
  g_autofree AneAneTensorSpec *out_specs = NULL;
  g_autoptr(AneProgram) program = NULL;
  AneBackendProgram *self;

  if (rt == NULL)
    {
      g_set_error_literal (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                           "the Neural Engine's private path is not available on this platform "
                           "(it needs macOS with AppleNeuralEngine.framework)");
      return NULL;
    }
  if (!check_graph (graph, options, error))
    return NULL;
  if (!lower_to_mil (graph, options, &package, &text, &weights, error))
    return NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  inputs = ane_package_list_inputs (package, NULL, error);
  outputs = inputs ? ane_package_list_outputs (package, NULL, error) : NULL;
  if (outputs == NULL)
    return NULL;
  in_specs = specs_of (inputs);
  out_specs = specs_of (outputs);

  self = g_new0 (AneBackendProgram, 1);
  {
    g_autoptr(GPtrArray) promised = ane_graph_list_outputs (graph);

    ane_program_init (&self->parent, &ane_class, promised, NULL);   /* states are refused */
  }
  program = &self->parent;
  self->program = ane_ane_program_new (rt, text, weights, in_specs, inputs->len, out_specs, outputs->len,
                                       NULL, error);
  if (self->program == NULL)
    return NULL;
  program->detail = g_strdup_printf ("%s runtime, model %s (key %.16s…)", rt->name,
                                     ane_ane_program_was_cached (self->program) ? "from the compile cache" : "compiled",
                                     ane_ane_program_get_key (self->program));
  return g_steal_pointer (&program);
}
