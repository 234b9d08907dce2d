/* mil/ane-mil-states-io.c: states made inputs and outputs, for the Neural
 * Engine's private path
 *
 * The in-memory compile path takes no states (no public program fed to
 * `_ANEInMemoryModelDescriptor` declares one; maderix/ANE keeps its caches
 * in input and output surfaces). A program written with states is rewritten
 * for it: each state input becomes a tensor input of the state's type and
 * name, each read_state is replaced by the state's current value (the input,
 * or the data of the last write_state before it), each write_state is
 * dropped, and the state's final value is appended to the block's outputs.
 * The caller feeds the state's value in and takes the new one out, so the
 * program computes exactly what it computed with states.
 *
 * The program is one that protobuf_c_message_free_unpacked frees (the MIL
 * text parser's); removed messages are freed the same way.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/ane-mil-states-io-private.h"

static void
free_message (gpointer message)
{
  if (message != NULL)
    protobuf_c_message_free_unpacked (message, NULL);
}

/* Replaces every use of the value named from by to, in the ops after index
 * start and in the block's outputs. */
static void
rename_uses (AneMilBlock *block,
             gsize        start,
             const char  *from,
             const char  *to)
{
  for (gsize i = start; i < block->n_operations; i++)
    {
      AneMilOperation *op = block->operations[i];

      for (gsize k = 0; op != NULL && k < op->n_inputs; k++)
        {
          CoreML__Specification__MILSpec__Operation__InputsEntry *e = op->inputs[k];

          for (gsize j = 0; e != NULL && e->value != NULL && j < e->value->n_arguments; j++)
            {
              AneMilBinding *b = e->value->arguments[j];

              if (b != NULL && b->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME &&
                  g_strcmp0 (b->name, from) == 0)
                {
                  free (b->name);
                  b->name = strdup (to);
                }
            }
        }
    }
  for (gsize i = 0; i < block->n_outputs; i++)
    if (g_strcmp0 (block->outputs[i], from) == 0)
      {
        free (block->outputs[i]);
        block->outputs[i] = strdup (to);
      }
}

/* The name an op binds param to, or NULL. */
static const char *
arg_name (const AneMilOperation *op,
          const char            *param)
{
  for (gsize k = 0; k < op->n_inputs; k++)
    {
      const CoreML__Specification__MILSpec__Operation__InputsEntry *e = op->inputs[k];

      if (e != NULL && g_strcmp0 (e->key, param) == 0 && e->value != NULL && e->value->n_arguments == 1 &&
          e->value->arguments[0] != NULL &&
          e->value->arguments[0]->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME)
        return e->value->arguments[0]->name;
    }
  return NULL;
}

gboolean
ane_mil_function_states_to_io (AneMilFunction  *fn,
                               const char      *function,
                               GPtrArray       *state_names,
                               GPtrArray       *final_values,
                               GError         **error)
{
  g_autoptr(GHashTable) current = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func (g_free);
  AneMilBlock *block = NULL;
  gsize kept = 0;

  for (gsize k = 0; k < fn->n_block_specializations; k++)
    if (fn->block_specializations[k] != NULL && g_strcmp0 (fn->block_specializations[k]->key, fn->opset) == 0)
      block = fn->block_specializations[k]->value;
  if (block == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "function '%s' has no block for its opset",
                   function);
      return FALSE;
    }

  /* state inputs become tensor inputs of the wrapped type */
  for (gsize i = 0; i < fn->n_inputs; i++)
    {
      AneMilNamedValueType *in = fn->inputs[i];
      AneMilValueType *wrapped;

      if (in == NULL || in->type == NULL || in->type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE)
        continue;
      if (in->type->statetype == NULL || in->type->statetype->wrappedtype == NULL || in->name == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "function '%s': state input %" G_GSIZE_FORMAT
                       " has no name or no wrapped type", function, i);
          return FALSE;
        }
      wrapped = in->type->statetype->wrappedtype;
      in->type->statetype->wrappedtype = NULL;
      free_message (in->type);
      in->type = wrapped;
      g_hash_table_insert (current, g_strdup (in->name), g_strdup (in->name));
      g_ptr_array_add (order, g_strdup (in->name));
    }

  /* read_state: its output becomes the state's current value; write_state:
   * the data becomes it. Both ops go. */
  for (gsize i = 0; i < block->n_operations; i++)
    {
      AneMilOperation *op = block->operations[i];
      gboolean read = op != NULL && g_strcmp0 (op->type, "read_state") == 0;
      gboolean write = op != NULL && g_strcmp0 (op->type, "write_state") == 0;

      if (read || write)
        {
          const char *state = arg_name (op, "input");
          const char *value = state != NULL ? g_hash_table_lookup (current, state) : NULL;

          if (value == NULL)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "function '%s': %s of '%s', which is not "
                           "a state input", function, op->type, state ? state : "(none)");
              for (gsize j = i; j < block->n_operations; j++)
                block->operations[kept++] = block->operations[j];
              block->n_operations = kept;
              return FALSE;
            }
          if (read)
            {
              if (op->n_outputs == 1 && op->outputs[0] != NULL && op->outputs[0]->name != NULL)
                rename_uses (block, i + 1, op->outputs[0]->name, value);
            }
          else
            {
              const char *data = arg_name (op, "data");

              if (data == NULL)
                {
                  g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "function '%s': write_state of '%s' "
                               "writes no named value", function, state);
                  for (gsize j = i; j < block->n_operations; j++)
                    block->operations[kept++] = block->operations[j];
                  block->n_operations = kept;
                  return FALSE;
                }
              g_hash_table_insert (current, g_strdup (state), g_strdup (data));
            }
          free_message (op);
          continue;
        }
      block->operations[kept++] = op;
    }
  block->n_operations = kept;

  /* the final values, after the function's own outputs */
  block->outputs = realloc (block->outputs, (block->n_outputs + order->len) * sizeof (char *));
  for (guint s = 0; s < order->len; s++)
    {
      const char *value = g_hash_table_lookup (current, order->pdata[s]);

      block->outputs[block->n_outputs++] = strdup (value);
      g_ptr_array_add (state_names, g_strdup (order->pdata[s]));
      g_ptr_array_add (final_values, g_strdup (value));
    }
  return TRUE;
}
