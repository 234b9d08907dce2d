/* mil/ane-mil-validate.c: the structure of a MIL program, checked before anything reads it
 *
 * See ane-mil-validate-private.h. The wire-format walk follows the protobuf
 * encoding (developers.google.com/protocol-buffers/docs/encoding: a key is a
 * varint of field number << 3 | wire type; wire types 0 varint, 1 64-bit,
 * 2 length-delimited, 5 32-bit; 3 and 4 are the deprecated groups) and
 * protobuf-c's descriptors, which say which length-delimited fields are
 * sub-messages.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/ane-mil-validate-private.h"
#include "mil/ane-mil-infer-private.h"
#include "mil/ane-mil-text-private.h"

/* ---------------------------------------------------------------------- */
/* nesting, before unpacking                                              */
/* ---------------------------------------------------------------------- */

static gboolean
read_varint (const guint8 *data,
             gsize         size,
             gsize        *pos,
             guint64      *value)
{
  guint64 v = 0;

  for (guint shift = 0; shift < 64; shift += 7)
    {
      guint8 byte;

      if (*pos >= size)
        return FALSE;
      byte = data[(*pos)++];
      v |= (guint64) (byte & 0x7f) << shift;
      if ((byte & 0x80) == 0)
        {
          *value = v;
          return TRUE;
        }
    }
  return FALSE;   /* more than 10 bytes */
}

static gboolean
check_nesting (const ProtobufCMessageDescriptor *desc,
               const guint8                     *data,
               gsize                             size,
               guint                             depth,
               guint                             max_depth,
               const char                       *origin,
               GError                          **error)
{
  gsize pos = 0;

  if (depth > max_depth)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: messages nest more than %u deep "
                   "(blocks or values inside each other); no program needs that many", origin, max_depth);
      return FALSE;
    }
  while (pos < size)
    {
      guint64 key, len;

      if (!read_varint (data, size, &pos, &key))
        goto malformed;
      switch (key & 7)
        {
        case 0:
          if (!read_varint (data, size, &pos, &len))
            goto malformed;
          break;
        case 1:
          if (size - pos < 8)
            goto malformed;
          pos += 8;
          break;
        case 5:
          if (size - pos < 4)
            goto malformed;
          pos += 4;
          break;
        case 2:
          {
            const ProtobufCFieldDescriptor *field;

            if (!read_varint (data, size, &pos, &len) || len > size - pos)
              goto malformed;
            field = key >> 3 <= G_MAXUINT32 && desc != NULL
                    ? protobuf_c_message_descriptor_get_field (desc, (unsigned) (key >> 3)) : NULL;
            if (field != NULL && field->type == PROTOBUF_C_TYPE_MESSAGE &&
                !check_nesting (field->descriptor, data + pos, (gsize) len, depth + 1, max_depth, origin, error))
              return FALSE;
            pos += (gsize) len;
          }
          break;
        default:
          goto malformed;
        }
    }
  return TRUE;

malformed:
  g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: not a valid protobuf message (truncated or corrupt "
               "at byte %" G_GSIZE_FORMAT " of a %u-deep message)", origin, pos, depth);
  return FALSE;
}

gboolean
ane_protobuf_check_nesting (const ProtobufCMessageDescriptor *desc,
                            const guint8                     *data,
                            gsize                             size,
                            guint                             max_depth,
                            const char                       *origin,
                            GError                          **error)
{
  return check_nesting (desc, data, size, 0, max_depth, origin, error);
}

/* ---------------------------------------------------------------------- */
/* types                                                                  */
/* ---------------------------------------------------------------------- */

gboolean
ane_mil_tensor_type_count (const AneMilTensorType *type,
                           const char             *what,
                           gint64                 *count,
                           GError                **error)
{
  guint64 nonzero = 1;
  gboolean known = type->rank >= 0, zero = FALSE;

  for (gsize i = 0; i < type->n_dimensions; i++)
    {
      const AneMilDimension *d = type->dimensions[i];
      guint64 size;

      if (d == NULL || d->dimension_case != CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT ||
          d->constant == NULL)
        {
          known = FALSE;
          continue;
        }
      size = d->constant->size;
      zero |= size == 0;
      /* the product of the non-zero dimensions is bounded too: a 0 elsewhere
       * must not hide a dimension no memory could hold */
      if (size > ANE_MIL_MAX_ELEMENTS || (size > 0 && nonzero > ANE_MIL_MAX_ELEMENTS / size))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW, "%s: dimension %" G_GSIZE_FORMAT " is %"
                       G_GUINT64_FORMAT ", which makes more than the 2^48 elements any tensor may have",
                       what, i, size);
          return FALSE;
        }
      if (size > 0)
        nonzero *= size;
    }
  *count = !known ? -1 : zero ? 0 : (gint64) nonzero;
  return TRUE;
}

typedef struct {
  const char *origin;
  const char *function;
  const char *op_type;     /* NULL outside ops */
  const char *op_name;
} Where;

static void G_GNUC_PRINTF (3, 4)
fail (GError     **error,
      const Where *w,
      const char  *format,
      ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  if (w->op_type != NULL)
    g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: function '%s', op '%s' (%s): %s",
                 w->origin, w->function, w->op_name, w->op_type, msg);
  else if (w->function != NULL)
    g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: function '%s': %s", w->origin, w->function, msg);
  else
    g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: %s", w->origin, msg);
}

static gboolean
check_dimension (const AneMilDimension *d,
                 const Where           *w,
                 const char            *what,
                 GError               **error)
{
  if (d == NULL ||
      (d->dimension_case == CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT && d->constant == NULL) ||
      (d->dimension_case == CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_UNKNOWN && d->unknown == NULL) ||
      d->dimension_case == CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION__NOT_SET)
    {
      fail (error, w, "%s: a dimension that is neither a size nor unknown", what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_type (const AneMilValueType *t,
            const Where           *w,
            const char            *what,
            guint                  depth,
            GError               **error)
{
  if (depth > ANE_MIL_MAX_NESTING)
    {
      fail (error, w, "%s: types nest more than %d deep", what, ANE_MIL_MAX_NESTING);
      return FALSE;
    }
  if (t == NULL)
    {
      fail (error, w, "%s has no type", what);
      return FALSE;
    }
  switch (t->type_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE:
      {
        const AneMilTensorType *tt = t->tensortype;
        g_autofree char *label = NULL;
        gint64 count;

        if (tt == NULL)
          break;
        if (ane_mil_text_dtype_by_enum (tt->datatype) == NULL)
          {
            fail (error, w, "%s: unknown data type %d", what, (int) tt->datatype);
            return FALSE;
          }
        if (tt->rank < 0 || (guint64) tt->rank != tt->n_dimensions)
          {
            fail (error, w, "%s: rank %" G_GINT64_FORMAT " with %" G_GSIZE_FORMAT " dimensions", what,
                  tt->rank, tt->n_dimensions);
            return FALSE;
          }
        for (gsize i = 0; i < tt->n_dimensions; i++)
          if (!check_dimension (tt->dimensions[i], w, what, error))
            return FALSE;
        for (gsize i = 0; i < tt->n_attributes; i++)
          if (tt->attributes[i] == NULL || tt->attributes[i]->value == NULL)
            {
              fail (error, w, "%s: a type attribute without a value", what);
              return FALSE;
            }
        label = g_strdup_printf ("%s: %s (%s)", w->origin, what, w->op_name != NULL ? w->op_name : "interface");
        if (!ane_mil_tensor_type_count (tt, label, &count, error))
          return FALSE;
        return TRUE;
      }
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_LIST_TYPE:
      if (t->listtype == NULL)
        break;
      return check_type (t->listtype->type, w, what, depth + 1, error) &&
             (t->listtype->length == NULL || check_dimension (t->listtype->length, w, what, error));
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TUPLE_TYPE:
      if (t->tupletype == NULL)
        break;
      for (gsize i = 0; i < t->tupletype->n_types; i++)
        if (!check_type (t->tupletype->types[i], w, what, depth + 1, error))
          return FALSE;
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_DICTIONARY_TYPE:
      if (t->dictionarytype == NULL)
        break;
      return check_type (t->dictionarytype->keytype, w, what, depth + 1, error) &&
             check_type (t->dictionarytype->valuetype, w, what, depth + 1, error);
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE:
      if (t->statetype == NULL)
        break;
      return check_type (t->statetype->wrappedtype, w, what, depth + 1, error);
    default:
      break;
    }
  fail (error, w, "%s: a type that is none of tensor, list, tuple, dictionary or state", what);
  return FALSE;
}

/* ---------------------------------------------------------------------- */
/* values                                                                 */
/* ---------------------------------------------------------------------- */

static gboolean
check_value (const AneMilValue *v,
             const Where       *w,
             const char        *what,
             guint              depth,
             GError           **error)
{
  const CoreML__Specification__MILSpec__Value__ImmediateValue *imm;

  if (depth > ANE_MIL_MAX_NESTING)
    {
      fail (error, w, "%s: values nest more than %d deep", what, ANE_MIL_MAX_NESTING);
      return FALSE;
    }
  if (v == NULL)
    {
      fail (error, w, "%s has no value", what);
      return FALSE;
    }
  if (!check_type (v->type, w, what, depth, error))
    return FALSE;
  switch (v->value_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE:
      if (v->blobfilevalue == NULL || v->blobfilevalue->filename == NULL || v->blobfilevalue->filename[0] == '\0')
        {
          fail (error, w, "%s: a weight reference without a file name", what);
          return FALSE;
        }
      if (v->type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE)
        {
          fail (error, w, "%s: a weight reference that is not a tensor", what);
          return FALSE;
        }
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE:
      break;
    default:
      fail (error, w, "%s: a value that is neither immediate nor a weight reference", what);
      return FALSE;
    }
  if ((imm = v->immediatevalue) == NULL)
    {
      fail (error, w, "%s: an empty immediate value", what);
      return FALSE;
    }
  switch (imm->value_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR:
      {
        const CoreML__Specification__MILSpec__TensorValue *tv = imm->tensor;
        g_autoptr(AneMilVal) decoded = NULL;
        g_autofree char *label = NULL;
        gboolean present;

        if (tv == NULL || v->type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE)
          {
            fail (error, w, "%s: a tensor value without a tensor type", what);
            return FALSE;
          }
        switch (tv->value_case)
          {
          case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_FLOATS:    present = tv->floats != NULL; break;
          case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS:      present = tv->ints != NULL; break;
          case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BOOLS:     present = tv->bools != NULL; break;
          case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS:   present = tv->strings != NULL; break;
          case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS: present = tv->longints != NULL; break;
          case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_DOUBLES:   present = tv->doubles != NULL; break;
          case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES:     present = TRUE; break;
          default:                                                             present = FALSE; break;
          }
        if (!present)
          {
            fail (error, w, "%s: an immediate tensor with no values", what);
            return FALSE;
          }
        if (tv->value_case == CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS)
          for (gsize i = 0; i < tv->strings->n_values; i++)
            if (tv->strings->values[i] == NULL)
              {
                fail (error, w, "%s: a missing string", what);
                return FALSE;
              }
        /* the element count against the type, whole elements, strings only
         * in string tensors: the mirror's decoder makes exactly these checks */
        label = g_strdup_printf ("%s: %s", w->origin, what);
        decoded = ane_mil_val_from_value (v, label, error);
        if (decoded == NULL)
          return FALSE;
        return TRUE;
      }
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TUPLE:
      if (imm->tuple == NULL)
        break;
      for (gsize i = 0; i < imm->tuple->n_values; i++)
        if (!check_value (imm->tuple->values[i], w, what, depth + 1, error))
          return FALSE;
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_LIST:
      if (imm->list == NULL)
        break;
      for (gsize i = 0; i < imm->list->n_values; i++)
        if (!check_value (imm->list->values[i], w, what, depth + 1, error))
          return FALSE;
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_DICTIONARY:
      if (imm->dictionary == NULL)
        break;
      for (gsize i = 0; i < imm->dictionary->n_values; i++)
        {
          const CoreML__Specification__MILSpec__DictionaryValue__KeyValuePair *kv = imm->dictionary->values[i];

          if (kv == NULL || !check_value (kv->key, w, what, depth + 1, error) ||
              !check_value (kv->value, w, what, depth + 1, error))
            {
              if (kv == NULL)
                fail (error, w, "%s: an empty dictionary entry", what);
              return FALSE;
            }
        }
      return TRUE;
    default:
      break;
    }
  fail (error, w, "%s: an immediate value that is none of tensor, tuple, list or dictionary", what);
  return FALSE;
}

/* ---------------------------------------------------------------------- */
/* blocks                                                                 */
/* ---------------------------------------------------------------------- */

typedef struct {
  GHashTable *defined;   /* every name of the function: definitions are unique */
  GPtrArray  *scopes;    /* GHashTable* of the names visible, innermost last */
} Names;

static gboolean
visible (Names      *names,
         const char *name)
{
  for (guint i = names->scopes->len; i-- > 0;)
    if (g_hash_table_contains (g_ptr_array_index (names->scopes, i), name))
      return TRUE;
  return FALSE;
}

static gboolean
define (Names                      *names,
        const AneMilNamedValueType *nvt,
        const Where                *w,
        const char                 *what,
        GError                    **error)
{
  if (nvt == NULL || nvt->name == NULL || nvt->name[0] == '\0')
    {
      fail (error, w, "%s without a name", what);
      return FALSE;
    }
  if (!check_type (nvt->type, w, nvt->name, 0, error))
    return FALSE;
  if (!g_hash_table_add (names->defined, nvt->name))
    {
      fail (error, w, "%s '%s' is defined twice", what, nvt->name);
      return FALSE;
    }
  g_hash_table_add (g_ptr_array_index (names->scopes, names->scopes->len - 1), nvt->name);
  return TRUE;
}

static gboolean check_block (const AneMilBlock *block, Names *names, Where *w, guint depth, GError **error);

static const char *
op_label (const AneMilOperation *op,
          gsize                  index,
          char                  *buf,
          gsize                  size)
{
  if (op->n_outputs > 0 && op->outputs[0] != NULL && op->outputs[0]->name != NULL && op->outputs[0]->name[0])
    return op->outputs[0]->name;
  g_snprintf (buf, size, "#%" G_GSIZE_FORMAT, index);
  return buf;
}

static gboolean
check_operation (const AneMilOperation *op,
                 gsize                  index,
                 Names                 *names,
                 Where                 *outer,
                 guint                  depth,
                 GError               **error)
{
  char buf[32];
  Where w = *outer;

  if (op == NULL)
    {
      fail (error, outer, "operation %" G_GSIZE_FORMAT " is empty", index);
      return FALSE;
    }
  w.op_name = op_label (op, index, buf, sizeof buf);
  w.op_type = op->type != NULL && op->type[0] ? op->type : "?";
  if (op->type == NULL || op->type[0] == '\0')
    {
      fail (error, &w, "an operation without a type");
      return FALSE;
    }
  for (gsize i = 0; i < op->n_inputs; i++)
    {
      const CoreML__Specification__MILSpec__Operation__InputsEntry *e = op->inputs[i];

      if (e == NULL || e->key == NULL || e->key[0] == '\0')
        {
          fail (error, &w, "an input without a parameter name");
          return FALSE;
        }
      if (e->value == NULL)
        {
          fail (error, &w, "input '%s' has no argument", e->key);
          return FALSE;
        }
      for (gsize j = 0; j < e->value->n_arguments; j++)
        {
          const AneMilBinding *b = e->value->arguments[j];

          if (b != NULL && b->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME &&
              b->name != NULL && b->name[0] != '\0')
            {
              if (!visible (names, b->name))
                {
                  fail (error, &w, "input '%s' names '%s', which nothing defines before it", e->key, b->name);
                  return FALSE;
                }
            }
          else if (b != NULL && b->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_VALUE)
            {
              g_autofree char *what = g_strdup_printf ("input '%s'", e->key);

              if (!check_value (b->value, &w, what, depth, error))
                return FALSE;
            }
          else
            {
              fail (error, &w, "input '%s' has a binding with neither a name nor a value", e->key);
              return FALSE;
            }
        }
    }
  for (gsize i = 0; i < op->n_attributes; i++)
    {
      const CoreML__Specification__MILSpec__Operation__AttributesEntry *a = op->attributes[i];
      g_autofree char *what = NULL;

      if (a == NULL || a->key == NULL || a->key[0] == '\0')
        {
          fail (error, &w, "an attribute without a name");
          return FALSE;
        }
      what = g_strdup_printf ("attribute '%s'", a->key);
      if (!check_value (a->value, &w, what, depth, error))
        return FALSE;
    }
  for (gsize i = 0; i < op->n_blocks; i++)
    {
      gboolean ok;

      if (op->blocks[i] == NULL)
        {
          fail (error, &w, "nested block %" G_GSIZE_FORMAT " is empty", i);
          return FALSE;
        }
      g_ptr_array_add (names->scopes, g_hash_table_new (g_str_hash, g_str_equal));
      ok = check_block (op->blocks[i], names, &w, depth + 1, error);
      g_ptr_array_remove_index (names->scopes, names->scopes->len - 1);
      if (!ok)
        return FALSE;
    }
  for (gsize i = 0; i < op->n_outputs; i++)
    if (!define (names, op->outputs[i], &w, "an output", error))
      return FALSE;
  return TRUE;
}

static gboolean
check_block (const AneMilBlock *block,
             Names             *names,
             Where             *w,
             guint              depth,
             GError           **error)
{
  if (depth > ANE_MIL_MAX_NESTING)
    {
      fail (error, w, "blocks nest more than %d deep", ANE_MIL_MAX_NESTING);
      return FALSE;
    }
  for (gsize i = 0; i < block->n_inputs; i++)
    if (!define (names, block->inputs[i], w, "a block input", error))
      return FALSE;
  for (gsize i = 0; i < block->n_attributes; i++)
    if (block->attributes[i] == NULL || block->attributes[i]->key == NULL ||
        !check_value (block->attributes[i]->value, w, "a block attribute", depth, error))
      {
        if (block->attributes[i] == NULL || block->attributes[i]->key == NULL)
          fail (error, w, "a block attribute without a name");
        return FALSE;
      }
  for (gsize i = 0; i < block->n_operations; i++)
    {
      Where inner = *w;

      if (!check_operation (block->operations[i], i, names, &inner, depth, error))
        return FALSE;
    }
  for (gsize i = 0; i < block->n_outputs; i++)
    if (block->outputs[i] == NULL || !visible (names, block->outputs[i]))
      {
        fail (error, w, "block output '%s' is not defined in the block",
              block->outputs[i] != NULL ? block->outputs[i] : "");
        return FALSE;
      }
  return TRUE;
}

static gboolean
check_function (const char           *name,
                const AneMilFunction *fn,
                const char           *origin,
                GError              **error)
{
  Where w = { origin, name, NULL, NULL };
  gboolean has_opset_block = FALSE;

  if (fn == NULL)
    {
      fail (error, &w, "an empty function");
      return FALSE;
    }
  if (fn->opset == NULL || fn->opset[0] == '\0')
    {
      fail (error, &w, "no opset");
      return FALSE;
    }
  for (gsize i = 0; i < fn->n_attributes; i++)
    if (fn->attributes[i] == NULL || fn->attributes[i]->key == NULL ||
        !check_value (fn->attributes[i]->value, &w, "a function attribute", 0, error))
      {
        if (fn->attributes[i] == NULL || fn->attributes[i]->key == NULL)
          fail (error, &w, "a function attribute without a name");
        return FALSE;
      }
  for (gsize s = 0; s < fn->n_block_specializations; s++)
    {
      const CoreML__Specification__MILSpec__Function__BlockSpecializationsEntry *e = fn->block_specializations[s];
      g_autoptr(GHashTable) defined = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr(GPtrArray) scopes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
      Names names = { defined, scopes };

      if (e == NULL || e->key == NULL || e->value == NULL)
        {
          fail (error, &w, "a block specialization without an opset or a block");
          return FALSE;
        }
      has_opset_block |= g_strcmp0 (e->key, fn->opset) == 0;
      /* each specialization is the whole body: the inputs, then its ops */
      g_ptr_array_add (scopes, g_hash_table_new (g_str_hash, g_str_equal));
      for (gsize i = 0; i < fn->n_inputs; i++)
        if (!define (&names, fn->inputs[i], &w, "a function input", error))
          return FALSE;
      if (!check_block (e->value, &names, &w, 1, error))
        return FALSE;
    }
  if (!has_opset_block)
    {
      fail (error, &w, "no block for its opset '%s'", fn->opset);
      return FALSE;
    }
  return TRUE;
}

gboolean
ane_mil_program_validate (const AneMilProgram *program,
                          const char          *origin,
                          GError             **error)
{
  Where w = { origin, NULL, NULL, NULL };

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (program == NULL)
    {
      fail (error, &w, "no ML program");
      return FALSE;
    }
  if (program->n_functions == 0)
    {
      fail (error, &w, "the ML program has no functions");
      return FALSE;
    }
  for (gsize i = 0; i < program->n_attributes; i++)
    if (program->attributes[i] == NULL || program->attributes[i]->key == NULL ||
        !check_value (program->attributes[i]->value, &w, "a program attribute", 0, error))
      {
        if (program->attributes[i] == NULL || program->attributes[i]->key == NULL)
          fail (error, &w, "a program attribute without a name");
        return FALSE;
      }
  for (gsize i = 0; i < program->n_functions; i++)
    {
      const CoreML__Specification__MILSpec__Program__FunctionsEntry *e = program->functions[i];

      if (e == NULL || e->key == NULL || e->key[0] == '\0')
        {
          fail (error, &w, "a function without a name");
          return FALSE;
        }
      for (gsize j = 0; j < i; j++)
        if (g_strcmp0 (program->functions[j]->key, e->key) == 0)
          {
            fail (error, &w, "function '%s' is defined twice", e->key);
            return FALSE;
          }
      if (!check_function (e->key, e->value, origin, error))
        return FALSE;
    }
  return TRUE;
}
