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
#include "mil/ane-mil-text-private.h"

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

/* --- narrow inputs widened ------------------------------------------------ */

/* The program of one op that views a [..., min_width] input called wide as
 * the [..., w] value called name (slice_by_size), parsed from MIL text. */
static AneMilProgram *
widening_program (const AneMilFunction  *fn,
                  const char            *name,
                  const char            *wide,
                  const AneMilValueType *type,
                  gint64                 min_width,
                  GError               **error)
{
  const AneMilTensorType *tt = type->tensortype;
  const AneMilTextDType *dt = ane_mil_text_dtype_by_enum (tt->datatype);
  g_autofree char *opset = ane_mil_text_opset_to_text (fn->opset);
  g_autoptr(GString) shape = g_string_new (NULL);
  g_autoptr(GString) wide_shape = g_string_new (NULL);
  g_autoptr(GString) zeros = g_string_new (NULL);
  g_autofree char *text = NULL;

  for (gsize d = 0; d < tt->n_dimensions; d++)
    {
      guint64 size = tt->dimensions[d]->constant->size;
      const char *sep = d > 0 ? ", " : "";

      g_string_append_printf (shape, "%s%" G_GUINT64_FORMAT, sep, size);
      if (d + 1 == tt->n_dimensions)
        g_string_append_printf (wide_shape, "%s%" G_GINT64_FORMAT, sep, min_width);
      else
        g_string_append_printf (wide_shape, "%s%" G_GUINT64_FORMAT, sep, size);
      g_string_append_printf (zeros, "%s0", sep);
    }
  text = g_strdup_printf ("program(1.3)\n{\n  func main<%s>(tensor<%s, [%s]> %s) {\n"
                          "    tensor<%s, [%s]> %s = slice_by_size(x = %s, begin = tensor<int32, [%" G_GSIZE_FORMAT
                          "]>([%s]), size = tensor<int32, [%" G_GSIZE_FORMAT "]>([%s]))[name = string(\"%s\")];\n"
                          "  } -> (%s);\n}\n",
                          opset, dt->name, wide_shape->str, wide, dt->name, shape->str, name, wide,
                          tt->n_dimensions, zeros->str, tt->n_dimensions, shape->str, name, name);
  return ane_mil_text_parse (text, -1, "the widening of a narrow input", error);
}

/* Whether a function input is a tensor whose last dimension is a constant
 * below min_width. */
static gboolean
is_narrow (const AneMilNamedValueType *in,
           gint64                      min_width)
{
  const AneMilTensorType *tt;
  const AneMilDimension *last;

  if (in == NULL || in->name == NULL || in->type == NULL ||
      in->type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE)
    return FALSE;
  tt = in->type->tensortype;
  if (tt == NULL || tt->n_dimensions == 0 || (gint64) tt->n_dimensions != tt->rank)
    return FALSE;
  for (gsize d = 0; d < tt->n_dimensions; d++)
    if (tt->dimensions[d] == NULL ||
        tt->dimensions[d]->dimension_case != CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT)
      return FALSE;
  last = tt->dimensions[tt->n_dimensions - 1];
  return (gint64) last->constant->size < min_width && ane_mil_text_dtype_by_enum (tt->datatype) != NULL;
}

gboolean
ane_mil_function_widen_inputs (AneMilFunction  *fn,
                               const char      *function,
                               gint64           min_width,
                               GPtrArray       *narrow_names,
                               GPtrArray       *wide_names,
                               GError         **error)
{
  AneMilBlock *block = NULL;

  for (gsize k = 0; k < fn->n_block_specializations; k++)
    if (fn->block_specializations[k] != NULL && g_strcmp0 (fn->block_specializations[k]->key, fn->opset) == 0)
      block = fn->block_specializations[k]->value;
  if (block == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "function '%s' has no block for its opset",
                   function);
      return FALSE;
    }
  for (gsize i = 0; i < fn->n_inputs; i++)
    {
      AneMilNamedValueType *in = fn->inputs[i];
      g_autofree char *wide = NULL;
      AneMilProgram *donor;
      AneMilFunction *dfn;
      AneMilBlock *dblock = NULL;
      AneMilOperation *view;

      if (!is_narrow (in, min_width))
        continue;
      wide = g_strdup_printf ("%s_wide", in->name);
      donor = widening_program (fn, in->name, wide, in->type, min_width, error);
      if (donor == NULL)
        return FALSE;
      dfn = donor->functions[0]->value;
      for (gsize k = 0; k < dfn->n_block_specializations; k++)
        dblock = dfn->block_specializations[k]->value;
      /* the donor's input and op move over; the donor keeps nothing of them */
      view = dblock->operations[0];
      dblock->operations[0] = NULL;
      dblock->n_operations = 0;
      g_ptr_array_add (narrow_names, g_strdup (in->name));
      g_ptr_array_add (wide_names, g_strdup (wide));
      free_message (in);
      fn->inputs[i] = dfn->inputs[0];
      dfn->inputs[0] = NULL;
      dfn->n_inputs = 0;
      free_message (donor);
      block->operations = realloc (block->operations, (block->n_operations + 1) * sizeof (AneMilOperation *));
      memmove (block->operations + 1, block->operations, block->n_operations * sizeof (AneMilOperation *));
      block->operations[0] = view;
      block->n_operations++;
    }
  return TRUE;
}
