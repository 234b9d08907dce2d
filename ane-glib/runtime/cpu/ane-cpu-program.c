/* runtime/cpu/ane-cpu-program.c: the CPU interpreter as a backend
 *
 * The interpreter (ane-cpu-backend.c, ane-cpu-plan.c) behind the program
 * interface: for a graph it runs the very MIL program the lowering writes
 * into packages; for a package, the package's own program, its weights
 * read from the package's blobs.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-package-private.h"
#include "mil/ane-mlpackage-private.h"
#include "runtime/ane-program-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"

typedef struct
{
  AneProgram     parent;
  AneCpuBackend *cpu;
  guint64        copied;    /* the backend's count when last looked at */
} CpuProgram;

/* What the interpreter copied since the last look, on the program's count. */
static void
count_copies (CpuProgram *self)
{
  guint64 now = ane_cpu_backend_get_copied (self->cpu);

  ane_program_count_copy (&self->parent, now - self->copied);
  self->copied = now;
}

static GPtrArray *
cpu_run (AneProgram    *program,
         GHashTable    *inputs,
         GHashTable    *states,
         gboolean       debug_nonfinite,
         GCancellable  *cancellable,
         GError       **error)
{
  CpuProgram *self = (CpuProgram *) program;
  g_autoptr(GPtrArray) outputs = NULL;
  GPtrArray *named;

  outputs = ane_cpu_backend_run (self->cpu, inputs, states, debug_nonfinite, cancellable, error);
  count_copies (self);
  if (outputs == NULL)
    return NULL;
  /* The function's outputs come in the interface's order; the lowering may
   * have given them other names (MIL keywords, leading digits), so name
   * them by position. */
  named = g_ptr_array_new_full (outputs->len, g_object_unref);
  for (guint i = 0; i < outputs->len; i++)
    {
      AneTensor *t = g_ptr_array_index (outputs, i);

      g_ptr_array_add (named, i < program->outputs->len
                                ? ane_tensor_rename (t, ane_tensor_get_name (g_ptr_array_index (program->outputs, i)))
                                : g_object_ref (t));
    }
  return named;
}

/* The interpreter's own values: 64-byte aligned host memory, dense,
 * float32 for every float dtype and int32 for the rest
 * (ane-cpu-private.h), so its kernels read and write a buffer as they
 * would their own value. */
static gboolean
cpu_buffer_layout (AneProgram      *program,
                   const char      *name,
                   AneBufferLayout *layout,
                   GError         **error)
{
  CpuProgram *self = (CpuProgram *) program;
  AneSpec spec;
  gsize n = 1;

  memset (layout, 0, sizeof *layout);
  if (ane_cpu_backend_is_dynamic_param (self->cpu, name) ||
      !ane_cpu_backend_find_port (self->cpu, name, &layout->port, &spec))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "the program has no input, output or state named '%s'", name);
      return FALSE;
    }
  layout->port_dtype = spec.dtype;
  layout->dtype = ane_dtype_is_float (spec.dtype) ? ANE_DTYPE_FLOAT32 : ANE_DTYPE_INT32;
  layout->rank = spec.rank;
  for (guint i = spec.rank; i-- > 0;)
    {
      layout->shape[i] = spec.shape[i];
      layout->strides[i] = (gint64) (n * 4);
      if (!g_size_checked_mul (&n, n, (gsize) spec.shape[i]))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW, "'%s': the buffer's size overflows", name);
          return FALSE;
        }
    }
  if (!g_size_checked_mul (&layout->size, n, 4))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW, "'%s': the buffer's size overflows", name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
cpu_run_bound (AneProgram    *program,
               GHashTable    *inputs,
               GHashTable    *outputs,
               GHashTable    *states,
               gboolean       debug_nonfinite,
               GCancellable  *cancellable,
               GError       **error)
{
  CpuProgram *self = (CpuProgram *) program;
  gboolean ok;

  ok = ane_cpu_backend_run_bound (self->cpu, inputs, outputs, states, debug_nonfinite, cancellable, error);
  count_copies (self);
  return ok;
}

static void
cpu_free (AneProgram *program)
{
  CpuProgram *self = (CpuProgram *) program;

  g_clear_pointer (&self->cpu, ane_cpu_backend_free);
  g_free (self);
}

static const AneProgramClass cpu_class = {
  .name = "cpu",
  .run = cpu_run,
  .free = cpu_free,
  .buffer_layout = cpu_buffer_layout,
  .run_bound = cpu_run_bound,
};

static AneProgram *
wrap (AneCpuBackend *cpu,
      GPtrArray     *outputs,
      GPtrArray     *states)
{
  CpuProgram *self = g_new0 (CpuProgram, 1);

  ane_program_init (&self->parent, &cpu_class, outputs, states);
  self->cpu = cpu;
  return &self->parent;
}

AneProgram *
ane_cpu_program_new (AneGraph                 *graph,
                     const AneProgramOptions  *options,
                     GCancellable             *cancellable,
                     GError                  **error)
{
  AneCpuBackend *cpu;
  g_autoptr(GPtrArray) outputs = NULL;
  g_autoptr(GPtrArray) states = NULL;

  cpu = ane_cpu_backend_new_for_graph_full (graph, options->target, options->precision, options->params,
                                            options->budget, options->quantize_activations, error);
  if (cpu == NULL)
    return NULL;
  outputs = ane_graph_list_outputs (graph);
  states = ane_graph_list_states (graph);
  return wrap (cpu, outputs, states);
}

static GBytes *
package_blob (gpointer     user_data,
              const char  *file_name,
              guint64      offset,
              GError     **error)
{
  return ane_package_read_blob (user_data, file_name, offset, error);
}

AneProgram *
ane_cpu_program_new_for_package (AnePackage               *package,
                                 const char               *function,
                                 const AneProgramOptions  *options,
                                 GCancellable             *cancellable,
                                 GError                  **error)
{
  AneCpuBackend *cpu;
  g_autoptr(GPtrArray) outputs = NULL;
  g_autoptr(GPtrArray) states = NULL;
  g_autoptr(GHashTable) defaults = ane_package_default_shapes (package, function, NULL);

  /* defaults: where a flexible program is planned first (a package whose
   * description cannot say fails below, on its program) */
  cpu = ane_cpu_backend_new_for_program_shaped (ane_package_get_model (package)->mlprogram, function,
                                                package_blob, g_object_ref (package), g_object_unref,
                                                options->budget, defaults, error);
  if (cpu == NULL)
    return NULL;
  ane_cpu_backend_set_quantize_activations (cpu, options->quantize_activations);
  outputs = ane_cpu_backend_list_outputs (cpu);
  states = ane_cpu_backend_list_states (cpu);
  return wrap (cpu, outputs, states);
}
