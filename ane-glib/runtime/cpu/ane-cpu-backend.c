/* runtime/cpu/ane-cpu-backend.c: the CPU backend behind AneExecutable
 *
 * For a graph: lower it (the same lowering that writes packages), keep the
 * pending weight blobs, and prepare the program with a blob reader that
 * converts each pending blob to its stored dtype exactly as the package
 * writer would (fp16 rounding, GGUF dequantization), so the CPU runs what a
 * package would hold.
 *
 * A program with flexible inputs (unknown sizes: ane-lower-flexible.c, or a
 * package written so) is planned per call shape: the plan of the default
 * shapes is made at once, others when a call first has them
 * (ane_mil_program_specialize infers every size from the program, as Core
 * ML does). Up to ANE_CPU_MAX_SHAPES plans are kept; a call beyond them
 * starts the cache over. Each plan decodes its constants again, which is
 * what a shape costs in memory.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-tensor-private.h"
#include "ane-reference-private.h"
#include "mil/ane-mil-builder-private.h"
#include "mil/ane-mlpackage-private.h"
#include "mil/lower/ane-lower-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"
#include "runtime/cpu/ane-cpu-private.h"
#include "ane-buffer-private.h"
#include "mil/ane-mil-specialize-private.h"

/* The call shapes a flexible program keeps plans for. */
#define ANE_CPU_MAX_SHAPES 8

typedef struct
{
  AneMilProgram *program;   /* specialized: owned */
  AneCpuPlan    *plan;
} ShapePlan;

static void
shape_plan_free (gpointer data)
{
  ShapePlan *sp = data;

  ane_cpu_plan_free (sp->plan);
  if (sp->program != NULL)
    protobuf_c_message_free_unpacked (&sp->program->base, NULL);
  g_free (sp);
}

struct _AneCpuBackend
{
  AneLowered    *lowered;         /* a graph lowered here, or NULL */
  AneCpuGetBlob  get_blob;
  gpointer       blob_data;
  GDestroyNotify blob_data_free;
  AneCpuPlan    *plan;           /* the plan of the default shapes */
  guint64        copied;          /* bytes copied across the interface by runs */
  /* flexible programs */
  const AneMilProgram *source;    /* the program with unknown sizes (borrowed), or NULL */
  char          *function;
  AneCpuBlocksFunc blocks;
  guint64        budget;
  gboolean       quantize_activations;   /* ane_cpu_backend_set_quantize_activations */
  ShapePlan     *default_plan;    /* owns plan's specialized program */
  GHashTable    *plans;           /* shape key -> ShapePlan*, other call shapes */
};

void
ane_cpu_backend_free (AneCpuBackend *backend)
{
  if (backend == NULL)
    return;
  g_clear_pointer (&backend->plans, g_hash_table_unref);
  if (backend->default_plan != NULL)
    shape_plan_free (backend->default_plan);
  else
    ane_cpu_plan_free (backend->plan);
  g_free (backend->function);
  g_clear_pointer (&backend->lowered, ane_lowered_free);
  if (backend->blob_data_free)
    backend->blob_data_free (backend->blob_data);
  g_free (backend);
}

struct _AneCpuPlan *
ane_cpu_backend_get_plan (AneCpuBackend *backend)
{
  return backend->plan;
}

static GBytes *
graph_blob (gpointer     user_data,
            const char  *file_name,
            guint64      offset,
            GError     **error)
{
  AneCpuBackend *backend = user_data;

  return ane_lowered_read_blob (backend->lowered, file_name, offset, error);
}

static GBytes *
graph_blocks (gpointer     user_data,
              const char  *file_name,
              guint64      offset,
              AneDType    *blocks_dtype,
              int         *part)
{
  AneCpuBackend *backend = user_data;

  return ane_lowered_blob_blocks (backend->lowered, offset, blocks_dtype, part);
}

static GBytes *
plan_blob (gpointer     user_data,
           const char  *file_name,
           guint64      offset,
           GError     **error)
{
  AneCpuBackend *backend = user_data;

  return backend->get_blob (backend->blob_data, file_name, offset, error);
}

/* A plan of program at the given input shapes (name -> AneSpec*). */
static ShapePlan *
plan_at (AneCpuBackend  *backend,
         GHashTable     *shapes,
         GError        **error)
{
  g_autofree ShapePlan *sp = g_new0 (ShapePlan, 1);

  sp->program = ane_mil_program_specialize (backend->source, backend->function, shapes, error);
  if (sp->program == NULL)
    return NULL;
  sp->plan = ane_cpu_plan_new_full (sp->program, backend->function, backend->get_blob ? plan_blob : NULL,
                                    backend->blocks, backend, backend->budget, backend->quantize_activations, error);
  if (sp->plan == NULL)
    {
      protobuf_c_message_free_unpacked (&sp->program->base, NULL);
      return NULL;
    }
  return g_steal_pointer (&sp);
}

/* Prepares the plan: at once, or for a flexible program at the default
 * shapes (defaults: name -> AneSpec*). */
static gboolean
prepare (AneCpuBackend       *backend,
         const AneMilProgram *program,
         const char          *function,
         AneCpuBlocksFunc     blocks,
         guint64              budget,
         GHashTable          *defaults,
         GError             **error)
{
  const AneMilFunction *fn = ane_mil_program_find_function (program, function);

  if (fn == NULL || !ane_mil_function_is_flexible (fn))
    {
      backend->plan = ane_cpu_plan_new_full (program, function, backend->get_blob ? plan_blob : NULL, blocks,
                                             backend, budget, backend->quantize_activations, error);
      return backend->plan != NULL;
    }
  if (defaults == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "function '%s' has flexible input shapes and no default shapes were given",
                   function ? function : "main");
      return FALSE;
    }
  backend->source = program;
  backend->function = g_strdup (function);
  backend->blocks = blocks;
  backend->budget = budget;
  backend->plans = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, shape_plan_free);
  backend->default_plan = plan_at (backend, defaults, error);
  if (backend->default_plan == NULL)
    return FALSE;
  backend->plan = backend->default_plan->plan;
  return TRUE;
}

/* The plan for a call: the default one, or for a flexible program the one
 * of the inputs' shapes (made and kept on first use). */
static AneCpuPlan *
plan_for_call (AneCpuBackend  *backend,
               GHashTable     *inputs,
               GError        **error)
{
  AneCpuPlan *plan = backend->plan;
  g_autoptr(GHashTable) shapes = NULL;
  g_autoptr(GString) key = NULL;
  gboolean is_default = TRUE;
  ShapePlan *sp;

  if (backend->source == NULL || inputs == NULL)
    return plan;
  shapes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  key = g_string_new (NULL);
  for (guint i = 0; i < ane_cpu_plan_n_inputs (plan); i++)
    {
      const char *name = ane_cpu_plan_input_name (plan, i);
      AneTensor *t = g_hash_table_lookup (inputs, name);
      AneSpec want, *have;

      if (t == NULL || ane_cpu_plan_input_is_state (plan, i))
        continue;
      ane_cpu_plan_input_spec (plan, i, &want);
      have = g_new (AneSpec, 1);
      ane_tensor_get_spec (t, have);
      if (have->rank == 0 && want.rank == 1)
        {
          /* a scalar input is declared [1] (ane-lower.c, add_input) */
          have->rank = 1;
          have->shape[0] = 1;
        }
      is_default = is_default && have->rank == want.rank &&
                   memcmp (have->shape, want.shape, want.rank * sizeof (gint64)) == 0;
      g_string_append_printf (key, "%s:", name);
      for (guint d = 0; d < have->rank; d++)
        g_string_append_printf (key, "%" G_GINT64_FORMAT ",", have->shape[d]);
      g_hash_table_insert (shapes, (gpointer) name, have);
    }
  if (is_default)
    return plan;
  sp = g_hash_table_lookup (backend->plans, key->str);
  if (sp != NULL)
    return sp->plan;
  sp = plan_at (backend, shapes, error);
  if (sp == NULL)
    return NULL;
  if (g_hash_table_size (backend->plans) >= ANE_CPU_MAX_SHAPES - 1)
    g_hash_table_remove_all (backend->plans);
  g_hash_table_insert (backend->plans, g_strdup (key->str), sp);
  return sp->plan;
}

void
ane_cpu_backend_set_quantize_activations (AneCpuBackend *backend,
                                          gboolean       quantize)
{
  GHashTableIter iter;
  ShapePlan *sp;

  backend->quantize_activations = quantize;
  ane_cpu_plan_set_quantize_activations (backend->plan, quantize);
  if (backend->plans == NULL)
    return;
  g_hash_table_iter_init (&iter, backend->plans);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &sp))
    ane_cpu_plan_set_quantize_activations (sp->plan, quantize);
}

AneCpuBackend *
ane_cpu_backend_new_for_graph (AneGraph      *graph,
                               AneTarget      target,
                               AnePrecision   precision,
                               GHashTable    *params,
                               guint64        budget,
                               GError       **error)
{
  return ane_cpu_backend_new_for_graph_full (graph, target, precision, params, budget, FALSE, error);
}

AneCpuBackend *
ane_cpu_backend_new_for_graph_full (AneGraph      *graph,
                                    AneTarget      target,
                                    AnePrecision   precision,
                                    GHashTable    *params,
                                    guint64        budget,
                                    gboolean       quantize_activations,
                                    GError       **error)
{
  g_autoptr(AneCpuBackend) backend = g_new0 (AneCpuBackend, 1);
  AneLowerOptions options = {
    .target = ane_target_to_mil (target),
    .precision = precision == ANE_PRECISION_FLOAT32 ? ANE_DTYPE_FLOAT32 : ANE_DTYPE_FLOAT16,
    .params = params,   /* values bound on the executable are lowered in place of the graph's */
  };

  backend->quantize_activations = quantize_activations;
  backend->lowered = ane_lowered_new (graph, &options, error);
  if (backend->lowered == NULL)
    return NULL;
  backend->get_blob = graph_blob;
  backend->blob_data = backend;
  /* GGUF Q8_0 / Q4_0 weights are multiplied where the blocks lie (the
   * mapped file): graph_blocks says which consts are parts of them */
  {
    g_autoptr(GPtrArray) inputs = ane_graph_list_inputs (graph);
    g_autoptr(GHashTable) defaults = ane_tensor_specs_by_name (inputs);

    if (!prepare (backend, ane_lowered_get_program (backend->lowered), "main", graph_blocks, budget, defaults, error))
      return NULL;
  }
  return g_steal_pointer (&backend);
}

AneCpuBackend *
ane_cpu_backend_new_for_program_shaped (const AneMilProgram *program,
                                        const char          *function,
                                        AneCpuGetBlob        get_blob,
                                        gpointer             blob_data,
                                        GDestroyNotify       blob_data_free,
                                        guint64              budget,
                                        GHashTable          *defaults,
                                        GError             **error)
{
  g_autoptr(AneCpuBackend) backend = g_new0 (AneCpuBackend, 1);

  backend->get_blob = get_blob;
  backend->blob_data = blob_data;
  backend->blob_data_free = blob_data_free;
  if (!prepare (backend, program, function, NULL, budget, defaults, error))
    return NULL;
  return g_steal_pointer (&backend);
}

AneCpuBackend *
ane_cpu_backend_new_for_program_full (const AneMilProgram *program,
                                      const char          *function,
                                      AneCpuGetBlob        get_blob,
                                      gpointer             blob_data,
                                      GDestroyNotify       blob_data_free,
                                      guint64              budget,
                                      GError             **error)
{
  return ane_cpu_backend_new_for_program_shaped (program, function, get_blob, blob_data, blob_data_free, budget,
                                                 NULL, error);
}

AneCpuBackend *
ane_cpu_backend_new_for_program (const AneMilProgram *program,
                                 const char          *function,
                                 AneCpuGetBlob        get_blob,
                                 gpointer             blob_data,
                                 GDestroyNotify       blob_data_free,
                                 GError             **error)
{
  return ane_cpu_backend_new_for_program_full (program, function, get_blob, blob_data, blob_data_free, 0, error);
}

static GPtrArray *
list_ports (AneCpuBackend *backend,
            gboolean       inputs,
            gboolean       states)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_object_unref);
  guint n = inputs ? ane_cpu_plan_n_inputs (backend->plan) : ane_cpu_plan_n_outputs (backend->plan);

  for (guint i = 0; i < n; i++)
    {
      AneSpec spec;

      if (inputs && ane_cpu_plan_input_is_state (backend->plan, i) != states)
        continue;
      if (inputs)
        ane_cpu_plan_input_spec (backend->plan, i, &spec);
      else
        ane_cpu_plan_output_spec (backend->plan, i, &spec);
      g_ptr_array_add (list, ane_tensor_new (inputs ? ane_cpu_plan_input_name (backend->plan, i)
                                                    : ane_cpu_plan_output_name (backend->plan, i),
                                             spec.dtype, spec.shape, spec.rank, NULL));
    }
  return list;
}

GPtrArray *ane_cpu_backend_list_inputs (AneCpuBackend *backend) { return list_ports (backend, TRUE, FALSE); }
GPtrArray *ane_cpu_backend_list_states (AneCpuBackend *backend) { return list_ports (backend, TRUE, TRUE); }
GPtrArray *ane_cpu_backend_list_outputs (AneCpuBackend *backend) { return list_ports (backend, FALSE, FALSE); }

/* An input the caller does not give: a dynamic param, the executable's
 * bound value, else the graph's. */
static gboolean
dynamic_param (AneCpuBackend  *backend,
               const char     *name,
               AneTensor     **value,
               GError        **error)
{
  const AneNode *node = backend->lowered ? ane_graph_find_node (backend->lowered->graph, name) : NULL;
  gboolean param = node != NULL && node->op->kind == ANE_OP_PARAM;

  *value = param ? ane_lower_bound_value (backend->lowered->params, node) : NULL;
  if (*value == NULL && param)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_MISSING_PARAM,
                   "param '%s' has no value: bind one with ane_executable_set_param()", name);
      return FALSE;
    }
  if (*value == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "run: input '%s' was not given", name);
      return FALSE;
    }
  return TRUE;
}

gboolean
ane_cpu_backend_is_dynamic_param (AneCpuBackend *backend,
                                  const char    *name)
{
  const AneNode *node = backend->lowered ? ane_graph_find_node (backend->lowered->graph, name) : NULL;

  return node != NULL && node->op->kind == ANE_OP_PARAM;
}

gboolean
ane_cpu_backend_find_port (AneCpuBackend *backend,
                           const char    *name,
                           AneBufferPort *port,
                           AneSpec       *spec)
{
  AneCpuPlan *plan = backend->plan;

  for (guint i = 0; i < ane_cpu_plan_n_inputs (plan); i++)
    if (g_str_equal (ane_cpu_plan_input_name (plan, i), name))
      {
        *port = ane_cpu_plan_input_is_state (plan, i) ? ANE_BUFFER_PORT_STATE : ANE_BUFFER_PORT_INPUT;
        ane_cpu_plan_input_spec (plan, i, spec);
        return TRUE;
      }
  for (guint i = 0; i < ane_cpu_plan_n_outputs (plan); i++)
    if (g_str_equal (ane_cpu_plan_output_name (plan, i), name))
      {
        *port = ANE_BUFFER_PORT_OUTPUT;
        ane_cpu_plan_output_spec (plan, i, spec);
        return TRUE;
      }
  return FALSE;
}

guint64
ane_cpu_backend_get_copied (AneCpuBackend *backend)
{
  return backend->copied;
}

/* A bound buffer as a value over its memory. */
static AneCpuValue *
buffer_view (AneBuffer *buffer)
{
  const AneBufferLayout *l = ane_buffer_get_layout (buffer);

  return ane_cpu_value_new_view (l->port_dtype == ANE_DTYPE_INT64 ? ANE_DTYPE_INT32 : l->port_dtype,
                                 l->shape, l->rank, ane_buffer_get_memory (buffer));
}

gboolean
ane_cpu_backend_run_bound (AneCpuBackend *backend,
                           GHashTable    *inputs,
                           GHashTable    *outputs,
                           GHashTable    *states,
                           gboolean       debug_nonfinite,
                           GCancellable  *cancellable,
                           GError       **error)
{
  AneCpuPlan *plan = backend->plan;
  guint n_in = ane_cpu_plan_n_inputs (plan), n_out = ane_cpu_plan_n_outputs (plan);
  g_autoptr(GPtrArray) in_values = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_cpu_value_free);
  g_autoptr(GPtrArray) state_values = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_cpu_value_free);
  g_autoptr(GPtrArray) bound = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_cpu_value_free);
  g_autofree AneCpuValue **outs = g_new0 (AneCpuValue *, MAX (n_out, 1));
  gboolean ok;

  for (guint i = 0; i < n_in; i++)
    {
      const char *name = ane_cpu_plan_input_name (plan, i);
      gboolean state = ane_cpu_plan_input_is_state (plan, i);
      AneBuffer *buffer = g_hash_table_lookup (state ? states : inputs, name);
      AneTensor *t;
      AneCpuValue *v;

      if (buffer != NULL)
        {
          g_ptr_array_add (state ? state_values : in_values, buffer_view (buffer));
          continue;
        }
      /* the executable checked every port is bound; dynamic params are not ports */
      if (state || !dynamic_param (backend, name, &t, error))
        {
          if (state)
            g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "run_bound: state '%s' is not bound", name);
          return FALSE;
        }
      v = ane_cpu_value_from_tensor (t, error);
      if (v == NULL)
        return FALSE;
      g_ptr_array_add (in_values, v);
    }
  for (guint i = 0; i < n_out; i++)
    {
      AneBuffer *buffer = g_hash_table_lookup (outputs, ane_cpu_plan_output_name (plan, i));

      if (buffer == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "run_bound: output '%s' is not bound",
                       ane_cpu_plan_output_name (plan, i));
          return FALSE;
        }
      g_ptr_array_add (bound, buffer_view (buffer));
    }
  ok = ane_cpu_plan_run_full (plan, (AneCpuValue * const *) in_values->pdata, (AneCpuValue **) state_values->pdata,
                              outs, (AneCpuValue * const *) bound->pdata, &backend->copied, debug_nonfinite,
                              cancellable, error);
  for (guint i = 0; i < n_out; i++)
    ane_cpu_value_free (outs[i]);
  return ok;
}

GPtrArray *
ane_cpu_backend_run (AneCpuBackend *backend,
                     GHashTable    *inputs,
                     GHashTable    *states,
                     gboolean       debug_nonfinite,
                     GCancellable  *cancellable,
                     GError       **error)
{
  AneCpuPlan *plan = plan_for_call (backend, inputs, error);
  guint n_in, n_out;
  g_autoptr(GPtrArray) in_values = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_cpu_value_free);
  g_autoptr(GPtrArray) state_values = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_cpu_value_free);
  g_autoptr(GPtrArray) state_names = g_ptr_array_new ();
  g_autofree AneCpuValue **outs = NULL;
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_object_unref);
  gboolean ok;

  if (plan == NULL)
    return NULL;
  n_in = ane_cpu_plan_n_inputs (plan);
  n_out = ane_cpu_plan_n_outputs (plan);
  outs = g_new0 (AneCpuValue *, MAX (n_out, 1));

  for (guint i = 0; i < n_in; i++)
    {
      const char *name = ane_cpu_plan_input_name (plan, i);
      AneSpec spec;
      AneCpuValue *v;

      ane_cpu_plan_input_spec (plan, i, &spec);
      if (ane_cpu_plan_input_is_state (plan, i))
        {
          AneTensor *t = states ? g_hash_table_lookup (states, name) : NULL;
          v = t ? ane_cpu_value_from_tensor (t, error) : ane_cpu_value_new (spec.dtype, spec.shape, spec.rank);
          if (v == NULL)
            return NULL;
          if (t != NULL)
            backend->copied += v->n * 4;   /* converted, or made its own below */
          ane_cpu_value_own (v);   /* write_state writes into it */
          v->dtype = spec.dtype;   /* a float32 state tensor feeds an fp16 state as fp16 */
          ane_cpu_value_round (v);
          g_ptr_array_add (state_values, v);
          g_ptr_array_add (state_names, (gpointer) name);
          continue;
        }
      {
        AneTensor *t = g_hash_table_lookup (inputs, name);
        AneSpec have;
        gboolean scalar;

        if (t == NULL && !dynamic_param (backend, name, &t, error))
          return NULL;
        ane_tensor_get_spec (t, &have);
        /* a scalar input is declared [1] in the program (ane-lower.c, add_input) */
        scalar = have.rank == 0 && spec.rank == 1 && spec.shape[0] == 1;
        if (!scalar && (have.rank != spec.rank || memcmp (have.shape, spec.shape, spec.rank * sizeof (gint64)) != 0))
          {
            char a[ANE_SPEC_STRLEN], b[ANE_SPEC_STRLEN];
            g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "run: input '%s' must be %s, got %s", name,
                         ane_spec_format (&spec, a), ane_spec_format (&have, b));
            return NULL;
          }
        v = ane_cpu_value_from_tensor (t, error);
        if (v == NULL)
          return NULL;
        if (v->keep == NULL || v->dtype != spec.dtype)
          backend->copied += v->n * 4;   /* converted, or rounded in a copy below */
        if (scalar)
          {
            v->rank = 1;
            v->shape[0] = 1;
          }
        if (v->dtype != spec.dtype)
          {
            ane_cpu_value_own (v);   /* rounded to the function's dtype in place */
            v->dtype = spec.dtype;
            ane_cpu_value_round (v);
          }
        g_ptr_array_add (in_values, v);
      }
    }

  ok = ane_cpu_plan_run_full (plan, (AneCpuValue * const *) in_values->pdata, (AneCpuValue **) state_values->pdata,
                              outs, NULL, &backend->copied, debug_nonfinite, cancellable, error);
  for (guint i = 0; i < n_out; i++)
    {
      AneSpec spec;
      AneTensor *t;

      if (!ok || outs[i] == NULL)
        {
          ane_cpu_value_free (outs[i]);
          continue;
        }
      ane_cpu_plan_output_spec (plan, i, &spec);
      /* handed over as it is only as float32 or int32 storage (steal_to_tensor) */
      if (!((spec.dtype == ANE_DTYPE_FLOAT32 && outs[i]->f) || (spec.dtype == ANE_DTYPE_INT32 && outs[i]->i)))
        backend->copied += outs[i]->n * 4;
      t = ane_cpu_value_steal_to_tensor (outs[i], ane_cpu_plan_output_name (plan, i), spec.dtype, error);
      ane_cpu_value_free (outs[i]);
      if (t == NULL)
        ok = FALSE;
      else
        g_ptr_array_add (results, t);
    }
  if (!ok)
    return NULL;
  for (guint i = 0; states && i < state_values->len; i++)
    {
      AneCpuValue *v = g_ptr_array_index (state_values, i);
      AneTensor *t = ane_cpu_value_to_tensor (v, g_ptr_array_index (state_names, i), v->dtype, error);

      backend->copied += v->n * 4;

      if (t == NULL)
        return NULL;
      g_hash_table_replace (states, g_strdup (g_ptr_array_index (state_names, i)), t);
    }
  return g_steal_pointer (&results);
}
