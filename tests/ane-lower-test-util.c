/* ane-lower-test-util.c: helpers for tests of the lowering to MIL
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-lower-test-util.h"
#include "mil/ane-mil-dtype-private.h"
#include "mil/ane-mil-infer-private.h"

AneMilProgram *
ane_test_lower (AneGraph     *g,
                AneMilTarget  target,
                AneDType      precision)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) blobs = NULL;
  guint64 size;
  AneMilProgram *p = ane_lower_graph (g, target, precision, &blobs, &size, &error);

  g_assert_no_error (error);
  g_assert_nonnull (p);
  ane_test_assert_program_checks (p);
  return p;
}

void
ane_test_assert_program_checks (const AneMilProgram *p)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) unchecked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  /* the whole finished program, as Apple's loader reads it (the builder
   * checked each op as it came; this sees them in their final order) */
  if (ane_mil_infer_check_program (p, problems, unchecked) != 0)
    g_error ("the lowered program breaks the loader contract: %s", (const char *) g_ptr_array_index (problems, 0));
  g_assert_cmpuint (g_hash_table_size (unchecked), ==, 0);
}

void
ane_test_program_free (AneMilProgram *p)
{
  if (p)
    protobuf_c_message_free_unpacked (&p->base, NULL);
}

AneMilBlock *
ane_test_main_block (AneMilProgram *p)
{
  for (gsize i = 0; i < p->n_functions; i++)
    if (g_str_equal (p->functions[i]->key, "main"))
      return p->functions[i]->value->block_specializations[0]->value;
  g_assert_not_reached ();
}

AneMilOperation *
ane_test_find_op (AneMilProgram *p,
                  const char    *type,
                  guint          nth)
{
  AneMilBlock *b = ane_test_main_block (p);

  for (gsize i = 0; i < b->n_operations; i++)
    if (g_str_equal (b->operations[i]->type, type) && nth-- == 0)
      return b->operations[i];
  return NULL;
}

guint
ane_test_count_ops (AneMilProgram *p,
                    const char    *type)
{
  AneMilBlock *b = ane_test_main_block (p);
  guint n = 0;

  for (gsize i = 0; i < b->n_operations; i++)
    n += g_str_equal (b->operations[i]->type, type);
  return n;
}

const char *
ane_test_op_arg (AneMilOperation *op,
                 const char      *param)
{
  for (gsize i = 0; i < op->n_inputs; i++)
    if (g_str_equal (op->inputs[i]->key, param))
      return op->inputs[i]->value->arguments[0]->name;
  return NULL;
}

AneMilOperation *
ane_test_producer (AneMilProgram *p,
                   const char    *value)
{
  AneMilBlock *b = ane_test_main_block (p);

  for (gsize i = 0; i < b->n_operations; i++)
    for (gsize j = 0; j < b->operations[i]->n_outputs; j++)
      if (g_str_equal (b->operations[i]->outputs[j]->name, value))
        return b->operations[i];
  return NULL;
}

static CoreML__Specification__MILSpec__Value *
const_val (AneMilProgram *p,
           const char    *value)
{
  AneMilOperation *op = ane_test_producer (p, value);

  g_assert_nonnull (op);
  g_assert_cmpstr (op->type, ==, "const");
  for (gsize i = 0; i < op->n_attributes; i++)
    if (g_str_equal (op->attributes[i]->key, "val"))
      return op->attributes[i]->value;
  g_assert_not_reached ();
}

gsize
ane_test_const_values (AneMilProgram *p,
                       const char    *value,
                       double       **values)
{
  CoreML__Specification__MILSpec__Value *v = const_val (p, value);
  CoreML__Specification__MILSpec__TensorValue *t;
  AneDType dtype;
  gsize n = 0;

  g_assert_cmpint (v->value_case, ==, CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE);
  t = v->immediatevalue->tensor;
  switch (t->value_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_FLOATS:
      n = t->floats->n_values;
      *values = g_new (double, MAX (n, 1));
      for (gsize i = 0; i < n; i++)
        (*values)[i] = t->floats->values[i];
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS:
      n = t->ints->n_values;
      *values = g_new (double, MAX (n, 1));
      for (gsize i = 0; i < n; i++)
        (*values)[i] = t->ints->values[i];
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BOOLS:
      n = t->bools->n_values;
      *values = g_new (double, MAX (n, 1));
      for (gsize i = 0; i < n; i++)
        (*values)[i] = t->bools->values[i];
      break;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES:
      g_assert_true (ane_mil_dtype_to_ane (v->type->tensortype->datatype, &dtype));
      n = t->bytes->values.len / ane_dtype_size (dtype);
      *values = g_new (double, MAX (n, 1));
      ane_dtype_decode (dtype, t->bytes->values.data, n, *values);
      break;
    default:
      g_assert_not_reached ();
    }
  return n;
}

const char *
ane_test_const_string (AneMilProgram *p,
                       const char    *value)
{
  CoreML__Specification__MILSpec__Value *v = const_val (p, value);

  if (v->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE ||
      v->immediatevalue->tensor->value_case != CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS)
    return NULL;
  return v->immediatevalue->tensor->strings->values[0];
}

void
ane_test_assert_output (AneMilOperation *op,
                        guint            index,
                        AneDType         dtype,
                        const gint64    *shape,
                        guint            rank)
{
  CoreML__Specification__MILSpec__TensorType *tt;

  g_assert_cmpuint (index, <, op->n_outputs);
  tt = op->outputs[index]->type->tensortype;
  g_assert_nonnull (tt);
  g_assert_cmpint (tt->datatype, ==, ane_mil_dtype_from_ane (dtype));
  g_assert_cmpint (tt->rank, ==, rank);
  g_assert_cmpuint (tt->n_dimensions, ==, rank);
  for (guint i = 0; i < rank; i++)
    g_assert_cmpuint (tt->dimensions[i]->constant->size, ==, (guint64) shape[i]);
}

char *
ane_test_op_sequence (AneMilProgram *p)
{
  AneMilBlock *b = ane_test_main_block (p);
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < b->n_operations; i++)
    if (!g_str_equal (b->operations[i]->type, "const"))
      g_string_append_printf (s, "%s%s", s->len ? "," : "", b->operations[i]->type);
  return g_string_free (s, FALSE);
}

/* --- assertions on a lowered program ------------------------------------- */

void
ane_test_assert_seq (AneMilProgram *p,
                     const char    *expected)
{
  g_autofree char *seq = ane_test_op_sequence (p);

  g_assert_cmpstr (seq, ==, expected);
}

void
ane_test_assert_const_ints (AneMilProgram *p,
                            const char    *value,
                            const gint64  *expected,
                            gsize          n)
{
  g_autofree double *vals = NULL;

  g_assert_nonnull (value);
  g_assert_cmpuint (ane_test_const_values (p, value, &vals), ==, n);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (vals[i], ==, (double) expected[i]);
}

void
ane_test_assert_const_int (AneMilProgram *p,
                           const char    *value,
                           gint64         expected)
{
  ane_test_assert_const_ints (p, value, &expected, 1);
  g_assert_cmpint (ane_test_producer (p, value)->outputs[0]->type->tensortype->datatype, ==,
                   ane_mil_dtype_from_ane (ANE_DTYPE_INT32));
}

void
ane_test_assert_const_bool (AneMilProgram *p,
                            const char    *value,
                            gboolean       expected)
{
  ane_test_assert_const_ints (p, value, (gint64[]) { expected ? 1 : 0 }, 1);
}

void
ane_test_assert_const_scalar (AneMilProgram *p,
                              const char    *value,
                              AneDType       dtype,
                              double         expected)
{
  g_autofree double *vals = NULL;
  AneMilOperation *c;

  g_assert_nonnull (value);
  g_assert_cmpuint (ane_test_const_values (p, value, &vals), ==, 1);
  g_assert_cmpfloat (vals[0], ==, ane_dtype_round (dtype, expected));
  c = ane_test_producer (p, value);
  g_assert_cmpint (c->outputs[0]->type->tensortype->datatype, ==, ane_mil_dtype_from_ane (dtype));
  g_assert_cmpint (c->outputs[0]->type->tensortype->rank, ==, 0);
}

void
ane_test_assert_const_string (AneMilProgram *p,
                              const char    *value,
                              const char    *expected)
{
  g_assert_nonnull (value);
  g_assert_cmpstr (ane_test_const_string (p, value), ==, expected);
}

const char *
ane_test_op_arg_n (AneMilOperation *op,
                   const char      *param,
                   guint            i)
{
  for (gsize k = 0; k < op->n_inputs; k++)
    if (g_str_equal (op->inputs[k]->key, param))
      {
        g_assert_cmpuint (i, <, op->inputs[k]->value->n_arguments);
        return op->inputs[k]->value->arguments[i]->name;
      }
  return NULL;
}

const char *
ane_test_producer_type (AneMilProgram *p,
                        const char    *value)
{
  AneMilOperation *op = ane_test_producer (p, value);

  return op ? op->type : "";
}

void
ane_test_assert_lower_fails (AneGraph     *g,
                             AneMilTarget  target,
                             AneDType      precision,
                             const char   *needle,
                             ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) blobs = NULL;
  guint64 size;
  AneMilProgram *p = ane_lower_graph (g, target, precision, &blobs, &size, &error);
  va_list args;

  g_assert_null (p);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_test_message ("%s", error->message);
  va_start (args, needle);
  for (const char *n = needle; n != NULL; n = va_arg (args, const char *))
    g_assert_nonnull (strstr (error->message, n));
  va_end (args);
}
