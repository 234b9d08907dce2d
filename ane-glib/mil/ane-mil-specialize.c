/* mil/ane-mil-specialize.c: a program with unknown dimensions, made concrete for one call
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/ane-mil-infer-private.h"
#include "mil/ane-mil-specialize-private.h"

AneMilFunction *
ane_mil_program_find_function (const AneMilProgram *program,
                               const char          *name)
{
  if (name == NULL)
    name = "main";
  for (gsize i = 0; program != NULL && i < program->n_functions; i++)
    if (program->functions[i] != NULL && g_strcmp0 (program->functions[i]->key, name) == 0)
      return program->functions[i]->value;
  return NULL;
}

AneMilBlock *
ane_mil_function_get_block (const AneMilFunction *fn)
{
  for (gsize i = 0; fn != NULL && i < fn->n_block_specializations; i++)
    if (fn->block_specializations[i] != NULL && g_strcmp0 (fn->block_specializations[i]->key, fn->opset) == 0)
      return fn->block_specializations[i]->value;
  return NULL;
}

void
ane_mil_dimension_set (AneMilDimension *dim,
                       gint64           size)
{
  switch (dim->dimension_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT:
      if (dim->constant != NULL)
        protobuf_c_message_free_unpacked (&dim->constant->base, NULL);
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_UNKNOWN:
      if (dim->unknown != NULL)
        protobuf_c_message_free_unpacked (&dim->unknown->base, NULL);
      break;
    default:
      break;
    }
  if (size >= 0)
    {
      CoreML__Specification__MILSpec__Dimension__ConstantDimension *c =
        g_new (CoreML__Specification__MILSpec__Dimension__ConstantDimension, 1);

      core_ml__specification__milspec__dimension__constant_dimension__init (c);
      c->size = (uint64_t) size;
      dim->dimension_case = CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT;
      dim->constant = c;
    }
  else
    {
      CoreML__Specification__MILSpec__Dimension__UnknownDimension *u =
        g_new (CoreML__Specification__MILSpec__Dimension__UnknownDimension, 1);

      core_ml__specification__milspec__dimension__unknown_dimension__init (u);
      u->variadic = FALSE;
      dim->dimension_case = CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_UNKNOWN;
      dim->unknown = u;
    }
}

AneMilTensorType *
ane_mil_value_type_tensor (const AneMilValueType *type)
{
  if (type != NULL && type->type_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE &&
      type->statetype != NULL)
    type = type->statetype->wrappedtype;
  if (type == NULL || type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE)
    return NULL;
  return type->tensortype;
}

static gboolean
dim_unknown (const AneMilDimension *d)
{
  return d == NULL || d->dimension_case != CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT ||
         d->constant == NULL;
}

gboolean
ane_mil_function_is_flexible (const AneMilFunction *fn)
{
  for (gsize i = 0; fn != NULL && i < fn->n_inputs; i++)
    {
      const AneMilTensorType *tt = fn->inputs[i] ? ane_mil_value_type_tensor (fn->inputs[i]->type) : NULL;

      for (gsize d = 0; tt != NULL && d < tt->n_dimensions; d++)
        if (dim_unknown (tt->dimensions[d]))
          return TRUE;
    }
  return FALSE;
}

AneMilProgram *
ane_mil_program_copy (const AneMilProgram *program)
{
  gsize size = protobuf_c_message_get_packed_size (&program->base);
  g_autofree guint8 *bytes = g_malloc (MAX (size, 1));

  protobuf_c_message_pack (&program->base, bytes);
  return core_ml__specification__milspec__program__unpack (NULL, size, bytes);
}

void
ane_mil_program_free (AneMilProgram *program)
{
  if (program != NULL)
    protobuf_c_message_free_unpacked (&program->base, NULL);
}

/* Gives every unknown dimension of type the size the mirror inferred. */
static gboolean
concretize (AneMilNamedValueType *out,
            const AneMilVal      *inferred,
            const char           *op_name,
            GError              **error)
{
  AneMilTensorType *tt = ane_mil_value_type_tensor (out->type);

  if (tt == NULL)
    return TRUE;
  for (gsize d = 0; d < tt->n_dimensions; d++)
    {
      if (!dim_unknown (tt->dimensions[d]))
        continue;
      if (inferred == NULL || inferred->kind == ANE_MIL_VAL_OTHER || d >= inferred->rank ||
          inferred->shape[d] == ANE_MIL_DIM_UNKNOWN)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                       "op '%s': the size of output '%s' on axis %" G_GSIZE_FORMAT " cannot be worked out "
                       "from the input shapes", op_name, out->name, d);
          return FALSE;
        }
      ane_mil_dimension_set (tt->dimensions[d], inferred->shape[d]);
    }
  return TRUE;
}

AneMilProgram *
ane_mil_program_specialize (const AneMilProgram  *program,
                            const char           *function,
                            GHashTable           *shapes,
                            GError              **error)
{
  g_autoptr(AneMilProgram) copy = NULL;
  g_autoptr(AneMilTypeEnv) env = NULL;
  AneMilFunction *fn;
  AneMilBlock *block;
  AneMilTarget target;

  copy = ane_mil_program_copy (program);
  fn = copy != NULL ? ane_mil_program_find_function (copy, function) : NULL;
  block = ane_mil_function_get_block (fn);
  if (block == NULL || !ane_mil_target_from_string (fn->opset, &target))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "the program has no function '%s' of a known opset",
                   function ? function : "main");
      return NULL;
    }
  env = ane_mil_type_env_new (NULL);
  for (gsize i = 0; i < fn->n_inputs; i++)
    {
      AneMilNamedValueType *in = fn->inputs[i];
      AneMilTensorType *tt = ane_mil_value_type_tensor (in->type);
      const AneSpec *spec = shapes != NULL ? g_hash_table_lookup (shapes, in->name) : NULL;

      if (spec != NULL && tt != NULL)
        {
          if (spec->rank != tt->n_dimensions)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "input '%s' has rank %" G_GSIZE_FORMAT ", not %u",
                           in->name, tt->n_dimensions, spec->rank);
              return NULL;
            }
          for (guint d = 0; d < spec->rank; d++)
            {
              if (!dim_unknown (tt->dimensions[d]) && (gint64) tt->dimensions[d]->constant->size != spec->shape[d])
                {
                  g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "input '%s' has size %" G_GUINT64_FORMAT
                               " on axis %u, not %" G_GINT64_FORMAT, in->name,
                               (guint64) tt->dimensions[d]->constant->size, d, spec->shape[d]);
                  return NULL;
                }
              ane_mil_dimension_set (tt->dimensions[d], spec->shape[d]);
            }
        }
      for (gsize d = 0; tt != NULL && d < tt->n_dimensions; d++)
        if (dim_unknown (tt->dimensions[d]))
          {
            g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "input '%s' has a flexible size on axis %" G_GSIZE_FORMAT
                         " and no shape was given for it", in->name, d);
            return NULL;
          }
      ane_mil_type_env_add (env, in->name, ane_mil_val_from_value_type (in->type));
    }

  for (gsize i = 0; i < block->n_operations; i++)
    {
      AneMilOperation *op = block->operations[i];
      const char *name = ane_mil_op_name (op);
      gboolean known = ane_mil_op_is_const_like (op->type) || g_strcmp0 (op->type, "write_state") == 0 ||
                       ane_mil_opdef_first_target (op->type, NULL);
      g_autoptr(GError) local_error = NULL;

      if (known && op->n_blocks == 0)
        {
          if (!ane_mil_infer_check_op (env, target, op, &local_error))
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_TYPE_MISMATCH, "the program does not take these input "
                           "shapes: %s", local_error->message);
              return NULL;
            }
        }
      for (gsize j = 0; j < op->n_outputs; j++)
        {
          AneMilNamedValueType *out = op->outputs[j];
          const AneMilVal *inferred = known && op->n_blocks == 0 ? ane_mil_type_env_lookup (env, out->name) : NULL;

          if (!concretize (out, inferred, name, error))
            return NULL;
          /* later ops see the declared type, now concrete */
          if (!known || op->n_blocks > 0)
            ane_mil_type_env_add (env, out->name, ane_mil_val_from_value_type (out->type));
        }
    }
  return g_steal_pointer (&copy);
}
