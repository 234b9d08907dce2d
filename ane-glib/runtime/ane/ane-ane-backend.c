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
 * ANE_ERROR_UNSUPPORTED naming the reason, so AUTO can fall back: inputs or
 * outputs that are not float, float32 precision (the ANE computes in fp16).
 * Shapes beyond [1, C, H, W] are refused by the surface layout.
 *
 * The path has no states; a graph with states is lowered with them, then
 * its MIL rewritten so that each state is an input and its new value an
 * extra output (mil/ane-mil-states-io.c): each run feeds the executable's
 * state values in and commits what comes out. The values are copied
 * through the surfaces on every run -- unless they are bound to buffers
 * (ane_run_bound): then the buffers' surfaces go into the request as they
 * are, a state's buffer holding two that swap after each run
 * (docs/buffers.md).
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
#include "mil/ane-mil-states-io-private.h"
#include "mil/ane-mil-text-private.h"

typedef struct
{
  AneProgram  parent;
  AneAneProgram    *program;
  GPtrArray        *state_names;    /* char*: the states, as inputs of the rewritten program */
  GPtrArray        *final_values;   /* char*: the output holding each state's new value */
  GPtrArray        *narrow_names;   /* char*: inputs (or states) narrower than the path reads... */
  GPtrArray        *wide_names;     /* char*: ...bound widened under these names */
  GPtrArray        *wide_shapes;    /* gint64[]: the widened shapes, for the surface specs */
  GPtrArray        *input_order;    /* char*: the rewritten function's inputs, as the request orders them */
  GPtrArray        *inputs;         /* symbolic AneTensor: the graph's inputs, as declared */
  const AneAneRuntime *rt;
  guint64           copied;         /* the runtime program's count when last looked at */
  /* Requests over bound surfaces, the last two (a state's buffer swaps
   * between two surfaces): each keeps the buffers it was made for alive. */
  struct {
    AneAneRequest *request;
    GPtrArray     *buffers;         /* AneBuffer, referenced */
    AneSurfaceRef *surfaces;        /* inputs then outputs */
  } bound[2];
  guint             next_bound;
} AneBackendProgram;

/* The narrowest last axis the private path reads correctly: runtime inputs
 * narrower compile but evaluate to garbage
 * (skyfallsin/apple-neural-engine-field-guide README.md:90, measured). */
#define MIN_INPUT_WIDTH 32

/* value (a [..., w] tensor) as [..., MIN_INPUT_WIDTH] named name, its rows
 * in the first w columns, zeros after. */
static AneTensor *
widened (AneTensor   *value,
         const char  *name,
         GError     **error)
{
  guint rank;
  const gint64 *shape = ane_tensor_get_shape (value, &rank);
  gint64 wide_shape[ANE_MAX_RANK], w = shape[rank - 1];
  g_autofree float *src = NULL;
  g_autofree float *dst = NULL;
  gsize n;
  gint64 rows;

  src = ane_tensor_dup_floats (value, &n, error);
  if (src == NULL)
    return NULL;
  memcpy (wide_shape, shape, rank * sizeof (gint64));
  wide_shape[rank - 1] = MIN_INPUT_WIDTH;
  rows = w > 0 ? (gint64) n / w : 0;
  dst = g_new0 (float, rows * MIN_INPUT_WIDTH);
  for (gint64 r = 0; r < rows; r++)
    memcpy (dst + r * MIN_INPUT_WIDTH, src + r * w, (gsize) w * sizeof (float));
  return ane_tensor_new_from_floats (name, wide_shape, rank, dst, (gsize) (rows * MIN_INPUT_WIDTH), error);
}

/* What the runtime program copied since the last look, on the program's count. */
static void
count_copies (AneBackendProgram *self)
{
  guint64 now = ane_ane_program_get_copied (self->program);

  ane_program_count_copy (&self->parent, now - self->copied);
  self->copied = now;
}

static GPtrArray *
ane_run (AneProgram    *program,
         GHashTable    *inputs,
         GHashTable    *states,
         gboolean       debug_nonfinite,
         GCancellable  *cancellable,
         GError       **error)
{
  AneBackendProgram *self = (AneBackendProgram *) program;
  g_autoptr(GHashTable) all = NULL;
  g_autoptr(GPtrArray) raw = NULL;
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *outputs;

  if (self->state_names->len == 0 && self->narrow_names->len == 0)
    {
      outputs = ane_ane_program_run (self->program, inputs, error);
      count_copies (self);
      return outputs;
    }

  /* the states' values go in beside the inputs; their new values come out
   * after the outputs */
  all = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, NULL);
  {
    GHashTableIter it;
    gpointer key, value;

    g_hash_table_iter_init (&it, inputs);
    while (g_hash_table_iter_next (&it, &key, &value))
      g_hash_table_insert (all, key, value);
  }
  for (guint i = 0; i < self->state_names->len; i++)
    {
      const char *name = self->state_names->pdata[i];
      AneTensor *value = g_hash_table_lookup (states, name);

      if (value == NULL)
        {
          /* never written: zeros of the declared type (the table's rule) */
          AneTensor *declared = ane_program_find_state (program, name);
          guint rank;
          const gint64 *shape;

          if (declared == NULL)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "state '%s' is not declared", name);
              return NULL;
            }
          shape = ane_tensor_get_shape (declared, &rank);
          value = ane_tensor_new_zeros (name, ane_tensor_get_dtype (declared), shape, rank, error);
          if (value == NULL)
            return NULL;
          g_hash_table_insert (states, g_strdup (name), value);
        }
      g_hash_table_insert (all, (gpointer) name, value);
    }
  /* narrow inputs go in widened (the program slices them back) */
  for (guint i = 0; i < self->narrow_names->len; i++)
    {
      AneTensor *value = g_hash_table_lookup (all, self->narrow_names->pdata[i]);
      AneTensor *wide;

      if (value == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "input '%s' is missing",
                       (const char *) self->narrow_names->pdata[i]);
          return NULL;
        }
      wide = widened (value, self->wide_names->pdata[i], error);
      if (wide == NULL)
        return NULL;
      ane_program_count_copy (program, ane_tensor_get_n_elements (wide) * sizeof (float));
      g_ptr_array_add (keep, wide);
      g_hash_table_insert (all, self->wide_names->pdata[i], wide);
    }
  raw = ane_ane_program_run (self->program, all, error);
  count_copies (self);
  if (raw == NULL)
    return NULL;
  outputs = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < raw->len - self->state_names->len; i++)
    g_ptr_array_add (outputs, g_object_ref (g_ptr_array_index (raw, i)));
  for (guint i = 0; i < self->state_names->len; i++)
    {
      AneTensor *out = g_ptr_array_index (raw, raw->len - self->state_names->len + i);
      AneTensor *declared = ane_program_find_state (program, self->state_names->pdata[i]);
      g_autoptr(AneTensor) value = ane_tensor_convert (out, ane_tensor_get_dtype (declared), error);

      if (value == NULL)
        {
          g_ptr_array_unref (outputs);
          return NULL;
        }
      if (value != out)
        ane_program_count_copy (program, ane_tensor_get_n_elements (value) * ane_dtype_size (ane_tensor_get_dtype (value)));
      g_hash_table_replace (states, g_strdup (self->state_names->pdata[i]),
                            ane_tensor_rename (value, self->state_names->pdata[i]));
    }
  return outputs;
}

static gint
index_of (GPtrArray  *names,
          const char *name)
{
  for (guint i = 0; i < names->len; i++)
    if (g_str_equal (names->pdata[i], name))
      return (gint) i;
  return -1;
}

static AneTensor *find_named (GPtrArray *tensors, const char *name);

/* The surface layout the program reads: fp16 [C, H, W] with 64-byte rows
 * (ane-ane-surface.c). A narrow input's rows are 64 bytes all the same,
 * which is what its widened port reads, padding zero. */
static gboolean
ane_buffer_layout (AneProgram      *program,
                   const char      *name,
                   AneBufferLayout *layout,
                   GError         **error)
{
  AneBackendProgram *self = (AneBackendProgram *) program;
  AneTensor *t;
  const gint64 *shape;
  guint rank;
  const AneAneSurfaceLayout *l = &layout->surface;

  memset (layout, 0, sizeof *layout);
  if ((t = find_named (self->inputs, name)) != NULL)
    layout->port = ANE_BUFFER_PORT_INPUT;
  else if ((t = find_named (program->outputs, name)) != NULL)
    layout->port = ANE_BUFFER_PORT_OUTPUT;
  else if ((t = find_named (program->states, name)) != NULL)
    layout->port = ANE_BUFFER_PORT_STATE;
  else
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "the program has no input, output or state named '%s'", name);
      return FALSE;
    }
  shape = ane_tensor_get_shape (t, &rank);
  if (!ane_ane_surface_layout_init (&layout->surface, shape, rank, ANE_ANE_ROW_ALIGN, error))
    return FALSE;
  layout->port_dtype = ane_tensor_get_dtype (t);
  layout->dtype = ANE_DTYPE_FLOAT16;
  layout->rank = rank;
  memcpy (layout->shape, shape, rank * sizeof (gint64));
  {
    const gint64 steps[4] = { (gint64) l->total_bytes, (gint64) l->plane_bytes, (gint64) l->row_bytes, 2 };

    for (guint i = 0; i < rank; i++)
      layout->strides[i] = steps[4 - rank + i];
  }
  layout->size = l->total_bytes;
  layout->runtime = self->rt;
  return TRUE;
}

/* The cached request for these surfaces, or a new one (replacing the
 * older of the two). */
static AneAneRequest *
bound_request (AneBackendProgram *self,
               AneSurfaceRef     *surfaces,
               guint              n,
               GPtrArray         *buffers,
               guint              n_in,
               GError           **error)
{
  AneAneRequest *request;
  guint slot;

  for (guint k = 0; k < G_N_ELEMENTS (self->bound); k++)
    if (self->bound[k].request != NULL && memcmp (self->bound[k].surfaces, surfaces, n * sizeof (AneSurfaceRef)) == 0)
      return self->bound[k].request;
  request = ane_ane_request_new (self->program, surfaces, surfaces + n_in, error);
  if (request == NULL)
    return NULL;
  slot = self->next_bound;
  self->next_bound = (slot + 1) % G_N_ELEMENTS (self->bound);
  g_clear_pointer (&self->bound[slot].request, ane_ane_request_free);
  g_clear_pointer (&self->bound[slot].buffers, g_ptr_array_unref);
  g_free (self->bound[slot].surfaces);
  self->bound[slot].request = request;
  self->bound[slot].buffers = g_ptr_array_ref (buffers);
  self->bound[slot].surfaces = g_memdup2 (surfaces, n * sizeof (AneSurfaceRef));
  return request;
}

/* The bound surfaces go into the request as they are: the inputs' and the
 * states' current surfaces are read, the outputs' and the states' other
 * surfaces written; the states swap when the run succeeded. No byte is
 * copied by the host. */
static gboolean
ane_run_bound (AneProgram    *program,
               GHashTable    *inputs,
               GHashTable    *outputs,
               GHashTable    *states,
               gboolean       debug_nonfinite,
               GCancellable  *cancellable,
               GError       **error)
{
  AneBackendProgram *self = (AneBackendProgram *) program;
  guint n_in = self->input_order->len, n_out = program->outputs->len + self->state_names->len;
  g_autofree AneSurfaceRef *surfaces = g_new0 (AneSurfaceRef, n_in + n_out + 1);
  g_autoptr(GPtrArray) buffers = g_ptr_array_new_with_free_func (g_object_unref);
  AneAneRequest *request;

  for (guint i = 0; i < n_in; i++)
    {
      const char *name = self->input_order->pdata[i];
      gint wide = index_of (self->wide_names, name);
      AneBuffer *buffer;

      if (wide >= 0)
        name = self->narrow_names->pdata[wide];
      buffer = g_hash_table_lookup (index_of (self->state_names, name) >= 0 ? states : inputs, name);
      if (buffer == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "run_bound: '%s' is not bound", name);
          return FALSE;
        }
      surfaces[i] = ane_buffer_get_surface (buffer, FALSE);
      g_ptr_array_add (buffers, g_object_ref (buffer));
    }
  for (guint i = 0; i < n_out; i++)
    {
      gboolean state = i >= program->outputs->len;
      const char *name = state ? self->state_names->pdata[i - program->outputs->len]
                               : ane_tensor_get_name (g_ptr_array_index (program->outputs, i));
      AneBuffer *buffer = g_hash_table_lookup (state ? states : outputs, name);

      if (buffer == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "run_bound: '%s' is not bound", name);
          return FALSE;
        }
      surfaces[n_in + i] = ane_buffer_get_surface (buffer, state);
      g_ptr_array_add (buffers, g_object_ref (buffer));
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  request = bound_request (self, surfaces, n_in + n_out, buffers, n_in, error);
  if (request == NULL || !ane_ane_program_evaluate (self->program, request, error))
    return FALSE;
  for (guint i = 0; i < self->state_names->len; i++)
    ane_buffer_swap (g_hash_table_lookup (states, self->state_names->pdata[i]));
  return TRUE;
}

static gboolean
ane_load (AneProgram  *program,
          GError     **error)
{
  return ane_ane_program_load (((AneBackendProgram *) program)->program, error);
}

static void
ane_unload (AneProgram *program)
{
  ane_ane_program_unload (((AneBackendProgram *) program)->program);
}

static void
ane_free (AneProgram *program)
{
  AneBackendProgram *self = (AneBackendProgram *) program;

  for (guint k = 0; k < G_N_ELEMENTS (self->bound); k++)
    {
      g_clear_pointer (&self->bound[k].request, ane_ane_request_free);
      g_clear_pointer (&self->bound[k].buffers, g_ptr_array_unref);
      g_free (self->bound[k].surfaces);
    }
  g_clear_pointer (&self->input_order, g_ptr_array_unref);
  g_clear_pointer (&self->inputs, g_ptr_array_unref);

  g_clear_pointer (&self->program, ane_ane_program_free);
  g_clear_pointer (&self->state_names, g_ptr_array_unref);
  g_clear_pointer (&self->final_values, g_ptr_array_unref);
  g_clear_pointer (&self->narrow_names, g_ptr_array_unref);
  g_clear_pointer (&self->wide_names, g_ptr_array_unref);
  g_clear_pointer (&self->wide_shapes, g_ptr_array_unref);
  g_free (self);
}

static const AneProgramClass ane_class = {
  .name = "ane",
  .run = ane_run,
  .reset_states = NULL,
  .free = ane_free,
  .buffer_layout = ane_buffer_layout,
  .run_bound = ane_run_bound,
  .load = ane_load,
  .unload = ane_unload,
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
  if (ane_graph_is_flexible (graph))
    {
      /* the in-memory path compiles one model for one set of IOSurfaces */
      g_set_error_literal (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                           "the Neural Engine's in-memory path compiles fixed shapes; a graph with flexible inputs "
                           "runs on the CoreML or CPU backend");
      return FALSE;
    }
  if (!check_float_interface ("state", states, error))
    return FALSE;
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

/* The MIL text rewritten for the path (see the header): each state an input
 * and its new value an extra output, each input narrower than
 * MIN_INPUT_WIDTH widened; text is replaced. Fills the program's record of
 * both and the rewritten function's input names in order. */
static gboolean
rewrite_for_path (char                    **text,
                  const AneProgramOptions  *options,
                  AneBackendProgram        *self,
                  GPtrArray                *input_order,
                  GError                  **error)
{
  AneMilProgram *program = ane_mil_text_parse (*text, -1, "the lowered program", error);
  AneMilFunction *main_fn = NULL;
  char *rewritten = NULL;

  if (program == NULL)
    return FALSE;
  for (gsize i = 0; i < program->n_functions; i++)
    if (program->functions[i] != NULL && g_strcmp0 (program->functions[i]->key, "main") == 0)
      main_fn = program->functions[i]->value;
  if (main_fn == NULL)
    g_set_error_literal (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "the lowered program has no function 'main'");
  else if (ane_mil_function_states_to_io (main_fn, "main", self->state_names, self->final_values, error) &&
           ane_mil_function_widen_inputs (main_fn, "main", MIN_INPUT_WIDTH, self->narrow_names, self->wide_names,
                                          error))
    {
      for (gsize i = 0; i < main_fn->n_inputs; i++)
        g_ptr_array_add (input_order, g_strdup (main_fn->inputs[i]->name));
      rewritten = ane_mil_dialect_print (options->dialect ? options->dialect : ane_mil_dialect_get_default (),
                                         program, error);
    }
  protobuf_c_message_free_unpacked (&program->base, NULL);
  if (rewritten == NULL)
    return FALSE;
  g_free (*text);
  *text = rewritten;
  return TRUE;
}

static AneTensor *
find_named (GPtrArray  *tensors,
            const char *name)
{
  for (guint i = 0; i < tensors->len; i++)
    if (g_str_equal (ane_tensor_get_name (g_ptr_array_index (tensors, i)), name))
      return g_ptr_array_index (tensors, i);
  return NULL;
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
  g_autoptr(GPtrArray) states = NULL;
  g_autoptr(AneProgram) program = NULL;
  AneBackendProgram *self;
  guint n_in, n_out;

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
  states = ane_package_list_states (package, NULL, error);
  if (states == NULL)
    return NULL;

  self = g_new0 (AneBackendProgram, 1);
  self->state_names = g_ptr_array_new_with_free_func (g_free);
  self->final_values = g_ptr_array_new_with_free_func (g_free);
  self->narrow_names = g_ptr_array_new_with_free_func (g_free);
  self->wide_names = g_ptr_array_new_with_free_func (g_free);
  self->wide_shapes = g_ptr_array_new_with_free_func (g_free);
  self->input_order = g_ptr_array_new_with_free_func (g_free);
  self->inputs = ane_graph_list_inputs (graph);
  self->rt = rt;
  {
    g_autoptr(GPtrArray) promised = ane_graph_list_outputs (graph);
    g_autoptr(GPtrArray) declared = ane_graph_list_states (graph);

    ane_program_init (&self->parent, &ane_class, promised, declared);
  }
  program = &self->parent;

  {
      g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func (g_free);

      if (!rewrite_for_path (&text, options, self, order, error))
        return NULL;
      /* inputs in the rewritten function's order (states among them), the
       * states' new values after the outputs */
      n_in = order->len;
      n_out = outputs->len + self->state_names->len;
      in_specs = g_new0 (AneAneTensorSpec, MAX (n_in, 1));
      out_specs = g_new0 (AneAneTensorSpec, MAX (n_out, 1));
      for (guint i = 0; i < order->len; i++)
        g_ptr_array_add (self->input_order, g_strdup (order->pdata[i]));
      for (guint i = 0; i < order->len; i++)
        {
          AneTensor *t = find_named (inputs, order->pdata[i]);
          gint wide = -1;

          for (guint k = 0; k < self->wide_names->len; k++)
            if (g_str_equal (self->wide_names->pdata[k], order->pdata[i]))
              wide = (gint) k;
          if (wide >= 0)
            {
              /* a widened input: its narrow tensor's shape, MIN_INPUT_WIDTH wide */
              AneTensor *narrow = find_named (inputs, self->narrow_names->pdata[wide]);
              gint64 *shape;
              guint rank;

              if (narrow == NULL)
                narrow = find_named (states, self->narrow_names->pdata[wide]);
              g_assert (narrow != NULL);
              shape = (gint64 *) ane_tensor_get_shape (narrow, &rank);
              shape = g_memdup2 (shape, rank * sizeof (gint64));
              shape[rank - 1] = MIN_INPUT_WIDTH;
              g_ptr_array_add (self->wide_shapes, shape);
              in_specs[i].name = self->wide_names->pdata[wide];
              in_specs[i].shape = shape;
              in_specs[i].rank = rank;
              continue;
            }
          if (t == NULL)
            t = find_named (states, order->pdata[i]);
          if (t == NULL)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "input '%s' of the rewritten program is "
                           "neither an input nor a state", (const char *) order->pdata[i]);
              return NULL;
            }
          in_specs[i].name = ane_tensor_get_name (t);
          in_specs[i].shape = ane_tensor_get_shape (t, &in_specs[i].rank);
        }
      for (guint i = 0; i < outputs->len; i++)
        {
          AneTensor *t = g_ptr_array_index (outputs, i);

          out_specs[i].name = ane_tensor_get_name (t);
          out_specs[i].shape = ane_tensor_get_shape (t, &out_specs[i].rank);
        }
      for (guint i = 0; i < self->state_names->len; i++)
        {
          AneTensor *t = find_named (states, self->state_names->pdata[i]);

          out_specs[outputs->len + i].name = self->final_values->pdata[i];
          out_specs[outputs->len + i].shape = ane_tensor_get_shape (t, &out_specs[outputs->len + i].rank);
        }
    }
  self->program = ane_ane_program_new (rt, text, weights, in_specs, n_in, out_specs, n_out, NULL, error);
  if (self->program == NULL)
    return NULL;
  program->detail = g_strdup_printf ("%s runtime, model %s (key %.16s…)", rt->name,
                                     ane_ane_program_was_cached (self->program) ? "from the compile cache" : "compiled",
                                     ane_ane_program_get_key (self->program));
  return g_steal_pointer (&program);
}
