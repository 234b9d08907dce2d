/* test-mil-infer.c: the type-inference mirror's core (mil/ane-mil-infer.c)
 *
 * What every rule stands on: the values the mirror knows (types, element
 * counts, is_compatible_type), coremltools' dtype promotion and broadcast,
 * binding and validating a call as pymil's InputSpec.validate_inputs does,
 * reading Value messages, and walking whole programs as the milproto loader
 * does. The expected promotions and validation outcomes were confirmed with
 * coremltools 9.0 (types.promote_types, the pymil builder).
 *
 * The last cases are the MIL builder's: where it puts write_state ops, and
 * the MIL keywords no name may take.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-infer-test-util.h"
#include "ane-lower-test-util.h"
#include "ane-test-util.h"
#include "mil/ane-mil-builder-private.h"
#include "mil/ane-mil-text-private.h"

#define FP16 ANE_MIL_DT_FP16
#define FP32 ANE_MIL_DT_FP32
#define I8   ANE_MIL_DT_INT8
#define U8   ANE_MIL_DT_UINT8
#define I32  ANE_MIL_DT_INT32
#define BOOL ANE_MIL_DT_BOOL

static void
assert_type_string (const AneMilVal *val,
                    const char      *expected)
{
  g_autofree char *got = ane_mil_val_type_string (val);

  g_assert_cmpstr (got, ==, expected);
}

/* The message of an error from a call run on its own: exact. */
static void
assert_infer_error (AneMilTarget  target,
                    const char   *op,
                    AneError      code,
                    const char   *expected,
                    const char   *param1,
                    AneMilVal    *val1,
                    const char   *param2,
                    AneMilVal    *val2,
                    const char   *param3,
                    AneMilVal    *val3)
{
  g_autoptr(GError) error = ane_test_infer_error (target, op, 1, code, param1, val1, param2, val2,
                                                  param3, val3, NULL);

  g_assert_cmpstr (error->message, ==, expected);
}

/* ---- values ------------------------------------------------------------- */

static void
test_type_string (void)
{
  g_autoptr(AneMilVal) scalar = ane_test_val (FP16, "");
  g_autoptr(AneMilVal) b = ane_test_val (BOOL, "");
  g_autoptr(AneMilVal) tensor = ane_test_val (FP32, "[1, ?, 3]");
  g_autoptr(AneMilVal) empty = ane_test_val (I32, "[0]");
  g_autoptr(AneMilVal) u4 = ane_test_val (ANE_MIL_DT_UINT4, "[8]");
  g_autoptr(AneMilVal) state = ane_test_state (FP16, "[4, ?]");
  g_autoptr(AneMilVal) state0 = ane_test_state (I32, "");
  g_autoptr(AneMilVal) str = ane_test_str ("valid");
  g_autoptr(AneMilVal) other = ane_mil_val_new_other ();
  g_autoptr(AneMilVal) negative = NULL;
  g_autoptr(AneMilVal) too_deep = NULL;
  gint64 dims[ANE_MIL_INFER_MAX_RANK + 1];

  assert_type_string (scalar, "fp16");
  assert_type_string (b, "bool");
  assert_type_string (tensor, "tensor<fp32, [1, ?, 3]>");
  assert_type_string (empty, "tensor<int32, [0]>");
  assert_type_string (u4, "tensor<uint4, [8]>");
  assert_type_string (state, "state<tensor<fp16, [4, ?]>>");
  /* a state always wraps a tensor: a rank-0 one is written with [] */
  assert_type_string (state0, "state<tensor<int32, []>>");
  assert_type_string (str, "string");
  assert_type_string (other, "(a type the mirror does not model)");

  /* any negative size is an unknown dimension */
  dims[0] = 2;
  dims[1] = -7;
  negative = ane_mil_val_new (FP16, dims, 2);
  g_assert_cmpint (negative->shape[1], ==, ANE_MIL_DIM_UNKNOWN);
  assert_type_string (negative, "tensor<fp16, [2, ?]>");

  /* a rank the mirror does not model is OTHER */
  for (guint i = 0; i < G_N_ELEMENTS (dims); i++)
    dims[i] = 1;
  too_deep = ane_mil_val_new (FP16, dims, ANE_MIL_INFER_MAX_RANK + 1);
  g_assert_cmpint (too_deep->kind, ==, ANE_MIL_VAL_OTHER);
  assert_type_string (too_deep, "(a type the mirror does not model)");

  g_assert_cmpstr (ane_mil_dt_name (FP16), ==, "fp16");
  g_assert_cmpstr (ane_mil_dt_name (ANE_MIL_DT_UINT64), ==, "uint64");
  g_assert_cmpstr (ane_mil_dt_name (ANE_MIL_DT_STRING), ==, "string");
  g_assert_cmpstr (ane_mil_dt_name (9999), ==, "unknown");
}

static void
test_n_elements (void)
{
  g_autoptr(AneMilVal) scalar = ane_test_val (FP16, "");
  g_autoptr(AneMilVal) t = ane_test_val (FP16, "[2, 3, 4]");
  g_autoptr(AneMilVal) unknown = ane_test_val (FP16, "[2, ?]");
  g_autoptr(AneMilVal) zero = ane_test_val (FP16, "[0, 5]");
  g_autoptr(AneMilVal) zero_unknown = ane_test_val (FP16, "[0, ?]");
  g_autoptr(AneMilVal) big = ane_test_val (FP16, "[2147483648, 2147483648]");
  g_autoptr(AneMilVal) overflow = ane_test_val (FP16, "[4294967296, 4294967296]");
  g_autoptr(AneMilVal) overflow_by_one_bit = ane_test_val (FP16, "[4611686018427387904, 2]");
  g_autoptr(AneMilVal) max = ane_test_val (FP16, "[9223372036854775807, 1]");
  g_autoptr(AneMilVal) state = ane_test_state (FP32, "[2, 2]");
  g_autoptr(AneMilVal) other = ane_mil_val_new_other ();

  g_assert_cmpint (ane_mil_val_n_elements (scalar), ==, 1);
  g_assert_cmpint (ane_mil_val_n_elements (t), ==, 24);
  g_assert_cmpint (ane_mil_val_n_elements (unknown), ==, -1);
  g_assert_cmpint (ane_mil_val_n_elements (zero), ==, 0);
  g_assert_cmpint (ane_mil_val_n_elements (zero_unknown), ==, -1);
  g_assert_cmpint (ane_mil_val_n_elements (big), ==, G_GINT64_CONSTANT (1) << 62);
  g_assert_cmpint (ane_mil_val_n_elements (overflow), ==, -1);
  g_assert_cmpint (ane_mil_val_n_elements (overflow_by_one_bit), ==, -1);
  g_assert_cmpint (ane_mil_val_n_elements (max), ==, G_MAXINT64);
  g_assert_cmpint (ane_mil_val_n_elements (state), ==, 4);
  g_assert_cmpint (ane_mil_val_n_elements (other), ==, -1);
}

static void
test_values (void)
{
  const gint64 s2[] = { 2 }, s2u[] = { ANE_MIL_DIM_UNKNOWN };
  const gint64 ints[] = { 3, -1, 7 };
  const double v2[] = { 1.5, -2 };
  g_autoptr(AneMilVal) i = ane_mil_val_new_int (-5);
  g_autoptr(AneMilVal) is = ane_mil_val_new_ints (ints, 3);
  g_autoptr(AneMilVal) none = ane_mil_val_new_ints (NULL, 0);
  g_autoptr(AneMilVal) b = ane_mil_val_new_bool (TRUE);
  g_autoptr(AneMilVal) f = ane_mil_val_new_float (FP16, 0.25);
  g_autoptr(AneMilVal) s = ane_mil_val_new_string ("same");
  g_autoptr(AneMilVal) known = ane_mil_val_new_values (FP32, s2, 1, v2);
  g_autoptr(AneMilVal) unknown_shape = ane_mil_val_new_values (FP32, s2u, 1, v2);
  g_autoptr(AneMilVal) plain = ane_test_val (FP32, "[2]");
  g_autoptr(AneMilVal) copy = NULL;

  assert_type_string (i, "int32");
  g_assert_true (i->const_descendant);
  g_assert_cmpuint (i->n_values, ==, 1);
  g_assert_cmpfloat (i->values[0], ==, -5);

  assert_type_string (is, "tensor<int32, [3]>");
  g_assert_cmpuint (is->n_values, ==, 3);
  g_assert_cmpfloat (is->values[1], ==, -1);
  assert_type_string (none, "tensor<int32, [0]>");
  g_assert_nonnull (none->values);
  g_assert_cmpuint (none->n_values, ==, 0);

  assert_type_string (b, "bool");
  g_assert_cmpfloat (b->values[0], ==, 1);
  assert_type_string (f, "fp16");
  g_assert_cmpfloat (f->values[0], ==, 0.25);
  assert_type_string (s, "string");
  g_assert_cmpstr (s->string, ==, "same");
  g_assert_null (s->values);
  g_assert_true (s->const_descendant);

  g_assert_true (known->const_descendant);
  g_assert_cmpuint (known->n_values, ==, 2);
  g_assert_cmpfloat (known->values[0], ==, 1.5);
  /* const, but with an unknown dimension the values cannot be placed */
  g_assert_true (unknown_shape->const_descendant);
  g_assert_null (unknown_shape->values);

  g_assert_false (plain->const_descendant);
  g_assert_null (plain->values);
  /* a value of another element count is not kept */
  ane_mil_infer_out_set_values (plain, v2, 1);
  g_assert_null (plain->values);
  g_assert_false (plain->const_descendant);
  ane_mil_infer_out_set_values (plain, v2, 2);
  g_assert_cmpuint (plain->n_values, ==, 2);
  g_assert_true (plain->const_descendant);

  /* copies are deep */
  copy = ane_mil_val_copy (known);
  g_assert_true (copy->values != known->values);
  copy->values[0] = 9;
  g_assert_cmpfloat (known->values[0], ==, 1.5);
  g_clear_pointer (&copy, ane_mil_val_free);
  copy = ane_mil_val_copy (s);
  g_assert_true (copy->string != s->string);
  g_assert_cmpstr (copy->string, ==, "same");
  ane_mil_val_free (NULL);
}

static void
assert_compatible (gboolean         expected,
                   const AneMilVal *declared,
                   const AneMilVal *inferred)
{
  g_autofree char *d = ane_mil_val_type_string (declared);
  g_autofree char *f = ane_mil_val_type_string (inferred);

  if (ane_mil_val_type_compatible (declared, inferred) != expected)
    g_error ("declared %s, inferred %s: expected %s", d, f, expected ? "compatible" : "incompatible");
}

static void
test_type_compatible (void)
{
  g_autoptr(AneMilVal) t23 = ane_test_val (FP16, "[2, 3]");
  g_autoptr(AneMilVal) t23b = ane_test_val (FP16, "[2, 3]");
  g_autoptr(AneMilVal) t23_fp32 = ane_test_val (FP32, "[2, 3]");
  g_autoptr(AneMilVal) t24 = ane_test_val (FP16, "[2, 4]");
  g_autoptr(AneMilVal) t2q = ane_test_val (FP16, "[2, ?]");
  g_autoptr(AneMilVal) tq3 = ane_test_val (FP16, "[?, 3]");
  g_autoptr(AneMilVal) tq5 = ane_test_val (FP16, "[?, 5]");
  g_autoptr(AneMilVal) t231 = ane_test_val (FP16, "[2, 3, 1]");
  g_autoptr(AneMilVal) t6 = ane_test_val (FP16, "[6]");
  g_autoptr(AneMilVal) scalar = ane_test_val (FP16, "");
  g_autoptr(AneMilVal) const_scalar = ane_mil_val_new_float (FP16, 2);
  g_autoptr(AneMilVal) t1 = ane_test_val (FP16, "[1]");
  g_autoptr(AneMilVal) s23 = ane_test_state (FP16, "[2, 3]");
  g_autoptr(AneMilVal) s23b = ane_test_state (FP16, "[2, ?]");
  g_autoptr(AneMilVal) other = ane_mil_val_new_other ();

  assert_compatible (TRUE, t23, t23b);
  /* dtype */
  assert_compatible (FALSE, t23, t23_fp32);
  assert_compatible (FALSE, t23_fp32, t23);
  /* known dimensions */
  assert_compatible (FALSE, t23, t24);
  /* an unknown dimension matches any size, on either side */
  assert_compatible (TRUE, t2q, t24);
  assert_compatible (TRUE, t24, t2q);
  assert_compatible (TRUE, t2q, tq3);
  assert_compatible (FALSE, tq5, t23);
  /* rank, even with the same element count */
  assert_compatible (FALSE, t23, t231);
  assert_compatible (FALSE, t6, t23);
  /* a rank-0 tensor is a scalar, a [1] tensor is not */
  assert_compatible (TRUE, scalar, const_scalar);
  assert_compatible (FALSE, scalar, t1);
  assert_compatible (FALSE, t1, scalar);
  /* a state is not its tensor */
  assert_compatible (TRUE, s23, s23b);
  assert_compatible (FALSE, s23, t23);
  assert_compatible (FALSE, t23, s23);
  /* what the mirror does not model it does not judge */
  assert_compatible (TRUE, other, t23);
  assert_compatible (TRUE, s23, other);
}

/* ---- hand-built protobuf messages --------------------------------------- */

#define HAND_MAX_RANK 20

/* A Value (and its ValueType) built on the stack, as a program holds it:
 * the type is a tensor type unless changed, the value an immediate tensor. */
typedef struct {
  AneMilValue                                              value;
  AneMilValueType                                          type;
  AneMilTensorType                                         tensor_type;
  AneMilDimension                                          dims[HAND_MAX_RANK];
  AneMilDimension                                         *dim_ptrs[HAND_MAX_RANK];
  CoreML__Specification__MILSpec__Dimension__ConstantDimension constants[HAND_MAX_RANK];
  CoreML__Specification__MILSpec__Dimension__UnknownDimension  unknown;
  CoreML__Specification__MILSpec__StateType                state_type;
  AneMilValueType                                          wrapped;
  CoreML__Specification__MILSpec__ListType                 list_type;
  CoreML__Specification__MILSpec__Value__ImmediateValue    immediate;
  CoreML__Specification__MILSpec__TensorValue              tensor;
  CoreML__Specification__MILSpec__TensorValue__RepeatedFloats  floats;
  CoreML__Specification__MILSpec__TensorValue__RepeatedDoubles doubles;
  CoreML__Specification__MILSpec__TensorValue__RepeatedInts    ints;
  CoreML__Specification__MILSpec__TensorValue__RepeatedLongInts longints;
  CoreML__Specification__MILSpec__TensorValue__RepeatedBools   bools;
  CoreML__Specification__MILSpec__TensorValue__RepeatedBytes   bytes;
  CoreML__Specification__MILSpec__TensorValue__RepeatedStrings strings;
  CoreML__Specification__MILSpec__ListValue                list;
  AneMilBlobFileValue                                      blob;
} HandValue;

/* shape: sizes, negative for an unknown dimension. */
static void
hand_init (HandValue    *h,
           int           dtype,
           const gint64 *shape,
           guint         rank)
{
  memset (h, 0, sizeof *h);
  g_assert_cmpuint (rank, <=, HAND_MAX_RANK);
  core_ml__specification__milspec__value__init (&h->value);
  core_ml__specification__milspec__value_type__init (&h->type);
  core_ml__specification__milspec__tensor_type__init (&h->tensor_type);
  core_ml__specification__milspec__dimension__unknown_dimension__init (&h->unknown);
  h->tensor_type.datatype = dtype;
  h->tensor_type.rank = rank;
  h->tensor_type.n_dimensions = rank;
  h->tensor_type.dimensions = h->dim_ptrs;
  for (guint i = 0; i < rank; i++)
    {
      core_ml__specification__milspec__dimension__init (&h->dims[i]);
      core_ml__specification__milspec__dimension__constant_dimension__init (&h->constants[i]);
      if (shape[i] < 0)
        {
          h->dims[i].dimension_case = CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_UNKNOWN;
          h->dims[i].unknown = &h->unknown;
        }
      else
        {
          h->constants[i].size = (guint64) shape[i];
          h->dims[i].dimension_case = CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT;
          h->dims[i].constant = &h->constants[i];
        }
      h->dim_ptrs[i] = &h->dims[i];
    }
  h->type.type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE;
  h->type.tensortype = &h->tensor_type;
  h->value.type = &h->type;

  core_ml__specification__milspec__value__immediate_value__init (&h->immediate);
  core_ml__specification__milspec__tensor_value__init (&h->tensor);
  h->immediate.value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR;
  h->immediate.tensor = &h->tensor;
  h->value.value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE;
  h->value.immediatevalue = &h->immediate;
}

static void
hand_floats (HandValue *h,
             float     *values,
             gsize      n)
{
  core_ml__specification__milspec__tensor_value__repeated_floats__init (&h->floats);
  h->floats.n_values = n;
  h->floats.values = values;
  h->tensor.value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_FLOATS;
  h->tensor.floats = &h->floats;
}

static void
hand_ints (HandValue *h,
           gint32    *values,
           gsize      n)
{
  core_ml__specification__milspec__tensor_value__repeated_ints__init (&h->ints);
  h->ints.n_values = n;
  h->ints.values = values;
  h->tensor.value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS;
  h->tensor.ints = &h->ints;
}

static void
hand_longints (HandValue *h,
               gint64    *values,
               gsize      n)
{
  core_ml__specification__milspec__tensor_value__repeated_long_ints__init (&h->longints);
  h->longints.n_values = n;
  h->longints.values = values;
  h->tensor.value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS;
  h->tensor.longints = &h->longints;
}

static void
hand_doubles (HandValue *h,
              double    *values,
              gsize      n)
{
  core_ml__specification__milspec__tensor_value__repeated_doubles__init (&h->doubles);
  h->doubles.n_values = n;
  h->doubles.values = values;
  h->tensor.value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_DOUBLES;
  h->tensor.doubles = &h->doubles;
}

static void
hand_bools (HandValue          *h,
            protobuf_c_boolean *values,
            gsize               n)
{
  core_ml__specification__milspec__tensor_value__repeated_bools__init (&h->bools);
  h->bools.n_values = n;
  h->bools.values = values;
  h->tensor.value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BOOLS;
  h->tensor.bools = &h->bools;
}

static void
hand_bytes (HandValue *h,
            guint8    *data,
            gsize      len)
{
  core_ml__specification__milspec__tensor_value__repeated_bytes__init (&h->bytes);
  h->bytes.values.data = data;
  h->bytes.values.len = len;
  h->tensor.value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES;
  h->tensor.bytes = &h->bytes;
}

static void
hand_strings (HandValue  *h,
              char      **values,
              gsize       n)
{
  core_ml__specification__milspec__tensor_value__repeated_strings__init (&h->strings);
  h->strings.n_values = n;
  h->strings.values = values;
  h->tensor.value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS;
  h->tensor.strings = &h->strings;
}

/* Reads h as a const's value, asserting success. */
static AneMilVal *
hand_read (HandValue *h)
{
  g_autoptr(GError) error = NULL;
  AneMilVal *v = ane_mil_val_from_value (&h->value, "MIL const 'c'", &error);

  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_true (v->const_descendant);
  return v;
}

static void
assert_hand_error (HandValue  *h,
                   const char *expected)
{
  g_autoptr(GError) error = NULL;
  AneMilVal *v = ane_mil_val_from_value (&h->value, "MIL const 'c'", &error);

  g_assert_null (v);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, expected);
}

static void
assert_values (const AneMilVal *v,
               const double    *expected,
               gsize            n)
{
  g_assert_nonnull (v->values);
  g_assert_cmpuint (v->n_values, ==, n);
  for (gsize i = 0; i < n; i++)
    if (v->values[i] != expected[i])
      g_error ("value %" G_GSIZE_FORMAT ": %.17g, expected %.17g", i, v->values[i], expected[i]);
}

static void
test_from_value_type (void)
{
  const gint64 s2q[] = { 2, -1 };
  gint64 deep[HAND_MAX_RANK];
  HandValue h;
  g_autoptr(AneMilVal) t = NULL, st = NULL, list = NULL, rank_mismatch = NULL, unknown_rank = NULL;
  g_autoptr(AneMilVal) too_deep = NULL, none = NULL, no_tensor = NULL, huge = NULL;

  hand_init (&h, FP16, s2q, 2);
  t = ane_mil_val_from_value_type (&h.type);
  g_assert_cmpint (t->kind, ==, ANE_MIL_VAL_TENSOR);
  g_assert_false (t->const_descendant);
  assert_type_string (t, "tensor<fp16, [2, ?]>");

  /* a size beyond gint64 is unknown */
  h.constants[0].size = G_MAXUINT64;
  huge = ane_mil_val_from_value_type (&h.type);
  assert_type_string (huge, "tensor<fp16, [?, ?]>");
  h.constants[0].size = 2;

  /* state<tensor<...>> */
  core_ml__specification__milspec__state_type__init (&h.state_type);
  core_ml__specification__milspec__value_type__init (&h.wrapped);
  h.wrapped.type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE;
  h.wrapped.tensortype = &h.tensor_type;
  h.state_type.wrappedtype = &h.wrapped;
  h.type.type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE;
  h.type.statetype = &h.state_type;
  st = ane_mil_val_from_value_type (&h.type);
  g_assert_cmpint (st->kind, ==, ANE_MIL_VAL_STATE);
  assert_type_string (st, "state<tensor<fp16, [2, ?]>>");
  /* a state wrapping no tensor */
  h.state_type.wrappedtype = NULL;
  no_tensor = ane_mil_val_from_value_type (&h.type);
  g_assert_cmpint (no_tensor->kind, ==, ANE_MIL_VAL_OTHER);

  /* lists are not modelled */
  core_ml__specification__milspec__list_type__init (&h.list_type);
  h.type.type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_LIST_TYPE;
  h.type.listtype = &h.list_type;
  list = ane_mil_val_from_value_type (&h.type);
  g_assert_cmpint (list->kind, ==, ANE_MIL_VAL_OTHER);

  /* a tensor type whose rank is not its dimension count, or unknown */
  h.type.type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE;
  h.type.tensortype = &h.tensor_type;
  h.tensor_type.rank = 3;
  rank_mismatch = ane_mil_val_from_value_type (&h.type);
  g_assert_cmpint (rank_mismatch->kind, ==, ANE_MIL_VAL_OTHER);
  h.tensor_type.rank = -1;
  h.tensor_type.n_dimensions = 0;
  unknown_rank = ane_mil_val_from_value_type (&h.type);
  g_assert_cmpint (unknown_rank->kind, ==, ANE_MIL_VAL_OTHER);

  /* ranks beyond ANE_MIL_INFER_MAX_RANK */
  for (guint i = 0; i < HAND_MAX_RANK; i++)
    deep[i] = 1;
  hand_init (&h, FP16, deep, ANE_MIL_INFER_MAX_RANK + 1);
  too_deep = ane_mil_val_from_value_type (&h.type);
  g_assert_cmpint (too_deep->kind, ==, ANE_MIL_VAL_OTHER);

  none = ane_mil_val_from_value_type (NULL);
  g_assert_cmpint (none->kind, ==, ANE_MIL_VAL_OTHER);
}

static void
test_from_value_immediates (void)
{
  const gint64 s3[] = { 3 }, s4[] = { 4 }, s22[] = { 2, 2 }, s5[] = { 5 };
  HandValue h;

  {
    float f[] = { 1.5f, -0.25f, 3e38f };
    const double want[] = { 1.5, -0.25, (double) 3e38f };
    g_autoptr(AneMilVal) v = NULL;

    hand_init (&h, FP32, s3, 1);
    hand_floats (&h, f, 3);
    v = hand_read (&h);
    assert_type_string (v, "tensor<fp32, [3]>");
    assert_values (v, want, 3);
  }
  {
    /* fp16 immediates are little-endian bytes: 1, -2, 0.5, 65504, and the
     * smallest subnormal 2^-24 */
    guint8 bytes[] = { 0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0xff, 0x7b };
    guint8 tiny[] = { 0x01, 0x00 };
    const double want[] = { 1, -2, 0.5, 65504 };
    const double want_tiny[] = { 5.9604644775390625e-08 };
    g_autoptr(AneMilVal) v = NULL, t = NULL;

    hand_init (&h, FP16, s4, 1);
    hand_bytes (&h, bytes, sizeof bytes);
    v = hand_read (&h);
    assert_type_string (v, "tensor<fp16, [4]>");
    assert_values (v, want, 4);

    hand_init (&h, FP16, NULL, 0);
    hand_bytes (&h, tiny, sizeof tiny);
    t = hand_read (&h);
    assert_type_string (t, "fp16");
    assert_values (t, want_tiny, 1);
  }
  {
    /* 8-bit integers are bytes too: signed and unsigned */
    guint8 bytes[] = { 0xff, 0x7f, 0x80 };
    const double want_i8[] = { -1, 127, -128 }, want_u8[] = { 255, 127, 128 };
    g_autoptr(AneMilVal) i = NULL, u = NULL;

    hand_init (&h, I8, s3, 1);
    hand_bytes (&h, bytes, sizeof bytes);
    i = hand_read (&h);
    assert_values (i, want_i8, 3);
    hand_init (&h, U8, s3, 1);
    hand_bytes (&h, bytes, sizeof bytes);
    u = hand_read (&h);
    assert_values (u, want_u8, 3);
  }
  {
    /* int4, packed low nibble first: 3 elements in 2 bytes */
    guint8 bytes[] = { 0x9f, 0x07 };
    const double want[] = { -1, -7, 7 };
    g_autoptr(AneMilVal) v = NULL;

    hand_init (&h, ANE_MIL_DT_INT4, s3, 1);
    hand_bytes (&h, bytes, sizeof bytes);
    v = hand_read (&h);
    assert_type_string (v, "tensor<int4, [3]>");
    assert_values (v, want, 3);
  }
  {
    gint32 ints[] = { 1, -2, 3, 2147483647 };
    gint64 longs[] = { G_GINT64_CONSTANT (5000000000), -1 };
    double doubles[] = { 0.1, -1e300 };
    const double want_ints[] = { 1, -2, 3, 2147483647 }, want_longs[] = { 5e9, -1 };
    const double want_doubles[] = { 0.1, -1e300 };
    const gint64 s2[] = { 2 };
    g_autoptr(AneMilVal) i = NULL, l = NULL, d = NULL;

    hand_init (&h, I32, s22, 2);
    hand_ints (&h, ints, 4);
    i = hand_read (&h);
    assert_type_string (i, "tensor<int32, [2, 2]>");
    assert_values (i, want_ints, 4);

    hand_init (&h, ANE_MIL_DT_INT64, s2, 1);
    hand_longints (&h, longs, 2);
    l = hand_read (&h);
    assert_type_string (l, "tensor<int64, [2]>");
    assert_values (l, want_longs, 2);

    hand_init (&h, ANE_MIL_DT_FP64, s2, 1);
    hand_doubles (&h, doubles, 2);
    d = hand_read (&h);
    assert_values (d, want_doubles, 2);
  }
  {
    protobuf_c_boolean bools[] = { TRUE, FALSE, TRUE, TRUE, FALSE };
    const double want[] = { 1, 0, 1, 1, 0 };
    g_autoptr(AneMilVal) v = NULL;

    hand_init (&h, BOOL, s5, 1);
    hand_bools (&h, bools, 5);
    v = hand_read (&h);
    assert_type_string (v, "tensor<bool, [5]>");
    assert_values (v, want, 5);
  }
  {
    /* an unknown dimension: the count cannot be checked, the values are not kept */
    const gint64 sq[] = { -1 };
    float f[] = { 1, 2 };
    g_autoptr(AneMilVal) v = NULL;

    hand_init (&h, FP32, sq, 1);
    hand_floats (&h, f, 2);
    v = hand_read (&h);
    assert_type_string (v, "tensor<fp32, [?]>");
    g_assert_null (v->values);
  }
  {
    /* more than ANE_MIL_INFER_MAX_VALUES elements: typed, const, not kept */
    const gint64 sbig[] = { ANE_MIL_INFER_MAX_VALUES + 1 };
    g_autofree float *f = g_new0 (float, ANE_MIL_INFER_MAX_VALUES + 1);
    g_autoptr(AneMilVal) v = NULL;

    hand_init (&h, FP32, sbig, 1);
    hand_floats (&h, f, ANE_MIL_INFER_MAX_VALUES + 1);
    v = hand_read (&h);
    assert_type_string (v, "tensor<fp32, [4097]>");
    g_assert_null (v->values);
  }
}

static void
test_from_value_strings_blobs_lists (void)
{
  const gint64 s2[] = { 2 }, s6432[] = { 64, 32 };
  HandValue h;

  {
    char *strs[] = { (char *) "valid" };
    g_autoptr(AneMilVal) v = NULL;

    hand_init (&h, ANE_MIL_DT_STRING, NULL, 0);
    hand_strings (&h, strs, 1);
    v = hand_read (&h);
    assert_type_string (v, "string");
    g_assert_cmpstr (v->string, ==, "valid");
    g_assert_null (v->values);
  }
  {
    /* a string tensor: typed, no single string */
    char *strs[] = { (char *) "a", (char *) "b" };
    g_autoptr(AneMilVal) v = NULL;

    hand_init (&h, ANE_MIL_DT_STRING, s2, 1);
    hand_strings (&h, strs, 2);
    v = hand_read (&h);
    assert_type_string (v, "tensor<string, [2]>");
    g_assert_null (v->string);
  }
  {
    /* a blob: const, its value left in weight.bin */
    g_autoptr(AneMilVal) v = NULL;

    hand_init (&h, FP16, s6432, 2);
    core_ml__specification__milspec__value__blob_file_value__init (&h.blob);
    h.blob.filename = (char *) "@model_path/weights/weight.bin";
    h.blob.offset = 64;
    h.value.value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE;
    h.value.blobfilevalue = &h.blob;
    v = hand_read (&h);
    g_assert_cmpint (v->kind, ==, ANE_MIL_VAL_TENSOR);
    assert_type_string (v, "tensor<fp16, [64, 32]>");
    g_assert_null (v->values);
  }
  {
    /* a list value (and a list type): not modelled */
    g_autoptr(AneMilVal) v = NULL, w = NULL;

    hand_init (&h, FP32, s2, 1);
    core_ml__specification__milspec__list_value__init (&h.list);
    h.immediate.value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_LIST;
    h.immediate.list = &h.list;
    v = ane_mil_val_from_value (&h.value, "MIL const 'c'", NULL);
    g_assert_nonnull (v);
    g_assert_cmpint (v->kind, ==, ANE_MIL_VAL_OTHER);

    core_ml__specification__milspec__list_type__init (&h.list_type);
    h.type.type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_LIST_TYPE;
    h.type.listtype = &h.list_type;
    w = hand_read (&h);
    g_assert_cmpint (w->kind, ==, ANE_MIL_VAL_OTHER);
  }
}

static void
test_from_value_errors (void)
{
  const gint64 s3[] = { 3 }, s2[] = { 2 };
  HandValue h;

  {
    float f[] = { 1, 2 };

    hand_init (&h, FP32, s3, 1);
    hand_floats (&h, f, 2);
    assert_hand_error (&h, "MIL const 'c': the immediate value holds 2 elements, but its type "
                           "tensor<fp32, [3]> has 3");
  }
  {
    /* fp16 bytes that are not whole elements */
    guint8 bytes[] = { 0x00, 0x3c, 0x00 };

    hand_init (&h, FP16, s2, 1);
    hand_bytes (&h, bytes, sizeof bytes);
    assert_hand_error (&h, "MIL const 'c': an immediate fp16 value whose storage does not hold whole elements");
  }
  {
    /* int4: 3 elements take 2 bytes, not 1 */
    guint8 bytes[] = { 0x9f };

    hand_init (&h, ANE_MIL_DT_INT4, s3, 1);
    hand_bytes (&h, bytes, sizeof bytes);
    assert_hand_error (&h, "MIL const 'c': an immediate int4 value whose storage does not hold whole elements");
  }
  {
    float f[] = { 1 };

    hand_init (&h, ANE_MIL_DT_STRING, NULL, 0);
    hand_floats (&h, f, 1);
    assert_hand_error (&h, "MIL const 'c': a string value holds no strings");
  }
  {
    char *strs[] = { (char *) "1" };

    hand_init (&h, FP32, NULL, 0);
    hand_strings (&h, strs, 1);
    assert_hand_error (&h, "MIL const 'c': a fp32 value holds strings");
  }
  {
    /* an immediate with no tensor storage at all */
    hand_init (&h, FP32, NULL, 0);
    assert_hand_error (&h, "MIL const 'c': an immediate fp32 value whose storage does not hold whole elements");
  }
  {
    hand_init (&h, FP32, NULL, 0);
    h.value.value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE__NOT_SET;
    h.value.immediatevalue = NULL;
    assert_hand_error (&h, "MIL const 'c': a value that is neither an immediate nor a blob");
  }
  {
    hand_init (&h, FP32, NULL, 0);
    h.value.type = NULL;
    assert_hand_error (&h, "MIL const 'c': a value without a type");
  }
}

/* ---- dtypes ------------------------------------------------------------- */

static void
test_dt_is_int (void)
{
  const int ints[] = { I8, ANE_MIL_DT_INT16, I32, ANE_MIL_DT_INT64, U8, ANE_MIL_DT_UINT16,
                       ANE_MIL_DT_UINT32, ANE_MIL_DT_UINT64, ANE_MIL_DT_INT4, ANE_MIL_DT_UINT4,
                       ANE_MIL_DT_UINT1, ANE_MIL_DT_UINT2, ANE_MIL_DT_UINT3, ANE_MIL_DT_UINT6 };
  const int not_ints[] = { BOOL, FP16, FP32, ANE_MIL_DT_FP64, ANE_MIL_DT_BF16, ANE_MIL_DT_STRING,
                           CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UNUSED_TYPE, 9999 };

  for (guint i = 0; i < G_N_ELEMENTS (ints); i++)
    if (!ane_mil_dt_is_int (ints[i]))
      g_error ("%s is an integer type", ane_mil_dt_name (ints[i]));
  for (guint i = 0; i < G_N_ELEMENTS (not_ints); i++)
    if (ane_mil_dt_is_int (not_ints[i]))
      g_error ("%s (%d) is not an integer type", ane_mil_dt_name (not_ints[i]), not_ints[i]);
}

typedef struct {
  int a, b, expected;
} Promotion;

static void
test_dt_promote (void)
{
  /* coremltools 9.0, types.promote_types: numpy's np.promote_types, except
   * that a float with a signed integer gives the float */
  static const Promotion cases[] = {
    { FP16, FP16, FP16 },
    { I32, I32, I32 },
    { FP16, FP32, FP32 },
    { FP32, ANE_MIL_DT_FP64, ANE_MIL_DT_FP64 },
    /* float and signed int: the float (numpy would widen fp32+int32 to fp64) */
    { FP32, I32, FP32 },
    { I32, FP16, FP16 },
    { FP16, I8, FP16 },
    { FP16, ANE_MIL_DT_INT64, FP16 },
    { ANE_MIL_DT_INT4, FP16, FP16 },
    /* float and unsigned int: numpy's smallest float holding every value */
    { FP16, U8, FP16 },
    { U8, FP16, FP16 },
    { FP16, ANE_MIL_DT_UINT16, FP32 },
    { FP32, ANE_MIL_DT_UINT16, FP32 },
    { FP32, ANE_MIL_DT_UINT32, ANE_MIL_DT_FP64 },
    { ANE_MIL_DT_UINT1, FP16, FP16 },
    /* ints of one signedness: the wider */
    { I8, I32, I32 },
    { U8, ANE_MIL_DT_UINT16, ANE_MIL_DT_UINT16 },
    { ANE_MIL_DT_UINT4, U8, U8 },
    /* signed with unsigned: a signed type wider than the unsigned one */
    { I8, U8, ANE_MIL_DT_INT16 },
    { U8, I8, ANE_MIL_DT_INT16 },
    { ANE_MIL_DT_INT16, U8, ANE_MIL_DT_INT16 },
    { ANE_MIL_DT_UINT16, I8, I32 },
    { I32, ANE_MIL_DT_UINT32, ANE_MIL_DT_INT64 },
    { ANE_MIL_DT_INT4, U8, ANE_MIL_DT_INT16 },
    { ANE_MIL_DT_UINT4, I8, ANE_MIL_DT_INT16 },
    /* no integer holds both int64 and uint64: numpy gives float64 */
    { ANE_MIL_DT_INT64, ANE_MIL_DT_UINT64, ANE_MIL_DT_FP64 },
    /* bool gives way to anything */
    { BOOL, BOOL, BOOL },
    { BOOL, I8, I8 },
    { FP16, BOOL, FP16 },
    { BOOL, ANE_MIL_DT_UINT32, ANE_MIL_DT_UINT32 },
    /* numpy has no bfloat16: no promotion with another type */
    { ANE_MIL_DT_BF16, FP32, -1 },
    { FP16, ANE_MIL_DT_BF16, -1 },
    { ANE_MIL_DT_BF16, I32, -1 },
    { ANE_MIL_DT_BF16, BOOL, -1 },
    /* strings and types the mirror does not know */
    { ANE_MIL_DT_STRING, FP16, -1 },
    { I32, ANE_MIL_DT_STRING, -1 },
    { 9999, FP16, -1 },
    { FP16, CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UNUSED_TYPE, -1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      int got = ane_mil_dt_promote (cases[i].a, cases[i].b);

      if (got != cases[i].expected)
        g_error ("promote (%s, %s): %s (%d), expected %s (%d)", ane_mil_dt_name (cases[i].a),
                 ane_mil_dt_name (cases[i].b), ane_mil_dt_name (got), got,
                 ane_mil_dt_name (cases[i].expected), cases[i].expected);
    }
}

/* ---- broadcast and axes ------------------------------------------------- */

/* The broadcast of a and b as a type string of a's dtype. */
static char *
broadcast (AneMilVal *a,
           AneMilVal *b)
{
  g_autoptr(AneMilInferCall) call = ane_mil_infer_call_new ("add", "a", ANE_MIL_IOS15, 1);
  g_autoptr(AneMilVal) a_owned G_GNUC_UNUSED = a, b_owned G_GNUC_UNUSED = b;
  g_autoptr(AneMilVal) out = NULL;
  g_autoptr(GError) error = NULL;
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  guint rank = 99;

  g_assert_true (ane_mil_infer_broadcast (call, a, b, shape, &rank, &error));
  g_assert_no_error (error);
  out = ane_mil_val_new (a->dtype, shape, rank);
  return ane_mil_val_type_string (out);
}

static char *
broadcast_error (AneMilVal *a,
                 AneMilVal *b)
{
  g_autoptr(AneMilInferCall) call = ane_mil_infer_call_new ("add", "a", ANE_MIL_IOS15, 1);
  g_autoptr(AneMilVal) a_owned G_GNUC_UNUSED = a, b_owned G_GNUC_UNUSED = b;
  g_autoptr(GError) error = NULL;
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  guint rank;

  g_assert_false (ane_mil_infer_broadcast (call, a, b, shape, &rank, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_TYPE_MISMATCH);
  return g_strdup (error->message);
}

#define assert_broadcast(a, b, expected) G_STMT_START { \
    g_autofree char *got_ = broadcast ((a), (b)); \
    g_assert_cmpstr (got_, ==, (expected)); \
  } G_STMT_END

#define assert_broadcast_error(a, b, expected) G_STMT_START { \
    g_autofree char *got_ = broadcast_error ((a), (b)); \
    g_assert_cmpstr (got_, ==, (expected)); \
  } G_STMT_END

static void
test_broadcast (void)
{
  assert_broadcast (ane_test_val (FP16, "[2, 3]"), ane_test_val (FP16, "[2, 3]"), "tensor<fp16, [2, 3]>");
  /* 1s stretch, on either side */
  assert_broadcast (ane_test_val (FP16, "[2, 1]"), ane_test_val (FP16, "[1, 3]"), "tensor<fp16, [2, 3]>");
  assert_broadcast (ane_test_val (FP16, "[1, 1]"), ane_test_val (FP16, "[1, 1]"), "tensor<fp16, [1, 1]>");
  /* missing leading dimensions are 1 */
  assert_broadcast (ane_test_val (FP16, "[4, 2, 3]"), ane_test_val (FP16, "[3]"), "tensor<fp16, [4, 2, 3]>");
  assert_broadcast (ane_test_val (FP16, "[3]"), ane_test_val (FP16, "[5, 1, 1]"), "tensor<fp16, [5, 1, 3]>");
  /* a dimension of size 0 broadcasts against 1 only */
  assert_broadcast (ane_test_val (FP16, "[0, 3]"), ane_test_val (FP16, "[1, 3]"), "tensor<fp16, [0, 3]>");
  /* unknown dimensions: an unknown against 1 stays unknown, against a known
   * size > 1 takes that size, against an unknown is unknown */
  assert_broadcast (ane_test_val (FP16, "[?, 3]"), ane_test_val (FP16, "[1, 3]"), "tensor<fp16, [?, 3]>");
  assert_broadcast (ane_test_val (FP16, "[1, 3]"), ane_test_val (FP16, "[?, 3]"), "tensor<fp16, [?, 3]>");
  assert_broadcast (ane_test_val (FP16, "[?, 3]"), ane_test_val (FP16, "[4, 3]"), "tensor<fp16, [4, 3]>");
  assert_broadcast (ane_test_val (FP16, "[4, 3]"), ane_test_val (FP16, "[?, 3]"), "tensor<fp16, [4, 3]>");
  assert_broadcast (ane_test_val (FP16, "[?, ?]"), ane_test_val (FP16, "[?, 1]"), "tensor<fp16, [?, ?]>");
  assert_broadcast (ane_test_val (FP16, "[0]"), ane_test_val (FP16, "[?]"), "tensor<fp16, [?]>");
  /* a scalar side takes the other's shape as it is (infer_type_with_broadcast) */
  assert_broadcast (ane_test_val (FP16, ""), ane_test_val (FP16, "[2, ?]"), "tensor<fp16, [2, ?]>");
  assert_broadcast (ane_test_val (FP16, "[7]"), ane_test_val (FP16, ""), "tensor<fp16, [7]>");
  assert_broadcast (ane_test_val (FP16, ""), ane_test_val (FP16, ""), "fp16");

  assert_broadcast_error (ane_test_val (FP16, "[2, 3]"), ane_test_val (FP16, "[4]"),
                          "MIL add 'a' at iOS15: shapes [2, 3] and [4] do not broadcast (dimension 1)");
  assert_broadcast_error (ane_test_val (FP16, "[2, 5, 3]"), ane_test_val (FP16, "[4, 3]"),
                          "MIL add 'a' at iOS15: shapes [2, 5, 3] and [4, 3] do not broadcast (dimension 1)");
  assert_broadcast_error (ane_test_val (FP16, "[?, 0]"), ane_test_val (FP16, "[?, 2]"),
                          "MIL add 'a' at iOS15: shapes [?, 0] and [?, 2] do not broadcast (dimension 1)");
}

static void
test_axis (void)
{
  g_autoptr(AneMilInferCall) call = ane_mil_infer_call_new ("squeeze", "sq", ANE_MIL_IOS17, 1);
  g_autoptr(GError) error = NULL;
  guint out = 99;

  g_assert_true (ane_mil_infer_axis (call, "axis", 0, 3, &out, &error));
  g_assert_cmpuint (out, ==, 0);
  g_assert_true (ane_mil_infer_axis (call, "axis", -1, 3, &out, &error));
  g_assert_cmpuint (out, ==, 2);
  g_assert_true (ane_mil_infer_axis (call, "axis", -3, 3, &out, &error));
  g_assert_cmpuint (out, ==, 0);
  g_assert_no_error (error);

  out = 99;
  g_assert_false (ane_mil_infer_axis (call, "axis", 3, 3, &out, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_TYPE_MISMATCH);
  g_assert_cmpstr (error->message, ==, "MIL squeeze 'sq' at iOS17: axis 3 is out of range for rank 3");
  g_assert_cmpuint (out, ==, 99);
  g_clear_error (&error);
  g_assert_false (ane_mil_infer_axis (call, "axes", -4, 3, &out, &error));
  g_assert_cmpstr (error->message, ==, "MIL squeeze 'sq' at iOS17: axes -4 is out of range for rank 3");
  g_clear_error (&error);
  /* a scalar has no axis at all */
  g_assert_false (ane_mil_infer_axis (call, "axis", 0, 0, &out, &error));
  g_assert_cmpstr (error->message, ==, "MIL squeeze 'sq' at iOS17: axis 0 is out of range for rank 0");
}

/* ---- calls -------------------------------------------------------------- */

static void
test_call_accessors (void)
{
  g_autoptr(AneMilInferCall) call = ane_mil_infer_call_new ("concat", NULL, ANE_MIL_IOS16, 1);
  g_autoptr(AneMilInferCall) c = NULL;
  g_autoptr(GError) error = NULL;
  gint64 *ints, v = 0;
  gsize n;
  gboolean b;
  double d;

  /* no name: the op's */
  g_assert_cmpstr (call->name, ==, "concat");
  g_assert_cmpint (call->target, ==, ANE_MIL_IOS16);
  g_assert_cmpuint (call->n_declared, ==, 1);

  ane_mil_infer_call_bind (call, "values", ane_test_val (FP16, "[2, 3]"));
  ane_mil_infer_call_bind (call, "values", ane_test_val (FP16, "[2, 5]"));
  ane_mil_infer_call_bind (call, "axis", ane_test_ints ("-1"));
  ane_mil_infer_call_bind (call, "interleave", ane_test_val (BOOL, ""));

  g_assert_cmpuint (ane_mil_infer_n_args (call, "values"), ==, 2);
  g_assert_cmpuint (ane_mil_infer_n_args (call, "axis"), ==, 1);
  g_assert_cmpuint (ane_mil_infer_n_args (call, "nothing"), ==, 0);
  assert_type_string (ane_mil_infer_arg (call, "values"), "tensor<fp16, [2, 3]>");
  assert_type_string (ane_mil_infer_arg_nth (call, "values", 1), "tensor<fp16, [2, 5]>");
  g_assert_null (ane_mil_infer_arg_nth (call, "values", 2));
  g_assert_null (ane_mil_infer_arg (call, "nothing"));

  /* known values, defaults for absent params, FALSE for unknown values */
  g_assert_true (ane_mil_infer_int (call, "axis", 0, &v));
  g_assert_cmpint (v, ==, -1);
  g_assert_true (ane_mil_infer_int (call, "nothing", 42, &v));
  g_assert_cmpint (v, ==, 42);
  g_assert_false (ane_mil_infer_bool (call, "interleave", FALSE, &b));
  g_assert_true (ane_mil_infer_bool (call, "nothing", TRUE, &b));
  g_assert_true (b);
  g_assert_true (ane_mil_infer_double (call, "axis", 0, &d));
  g_assert_cmpfloat (d, ==, -1);
  g_assert_true (ane_mil_infer_ints (call, "axis", &ints, &n));
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (ints[0], ==, -1);
  g_assert_true (ane_mil_infer_ints (call, "nothing", &ints, &n));
  g_assert_null (ints);
  g_assert_cmpuint (n, ==, 0);
  g_assert_false (ane_mil_infer_ints (call, "values", &ints, &n));
  g_assert_cmpstr (ane_mil_infer_string (call, "nothing", "dflt"), ==, "dflt");
  g_assert_null (ane_mil_infer_string (call, "axis", "dflt"));

  /* before run: no outputs */
  g_assert_cmpuint (ane_mil_infer_call_n_outputs (call), ==, 0);
  g_assert_null (ane_mil_infer_call_output (call, 0));

  /* interleave's value is unknown: concat cannot judge */
  g_assert_false (ane_mil_infer_call_run (call, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_TYPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "MIL concat 'concat' at iOS16: "));
  g_assert_nonnull (strstr (error->message, "interleave"));
  g_clear_error (&error);

  /* runs twice give the same outputs, not twice as many */
  c = ane_mil_infer_call_new ("add", "sum", ANE_MIL_IOS15, 1);
  ane_mil_infer_call_bind (c, "x", ane_test_val (FP32, "[2, 1]"));
  ane_mil_infer_call_bind (c, "y", ane_test_val (FP32, "[3]"));
  g_assert_true (ane_mil_infer_call_run (c, &error));
  g_assert_true (ane_mil_infer_call_run (c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ane_mil_infer_call_n_outputs (c), ==, 1);
  ane_test_assert_type (c, 0, "tensor<fp32, [2, 3]>");
  g_assert_nonnull (c->def);
  g_assert_cmpstr (c->def->name, ==, "add");
  g_assert_cmpstr (c->def->source, ==, "mil/ops/defs/iOS15/elementwise_binary.py");
  g_assert_null (ane_mil_infer_call_output (c, 1));
  /* inputs that do not descend from consts: neither does the output */
  g_assert_false (ane_mil_infer_call_output (c, 0)->const_descendant);
}

static void
test_call_constness (void)
{
  g_autoptr(AneMilInferCall) consts = NULL, mixed = NULL, cx = NULL;

  /* Var._propagate_constness_upstream: an op of const inputs is const */
  consts = ane_test_infer (ANE_MIL_IOS15, "add", 1,
                           "x", ane_test_const_val (FP32, "[2]"), "y", ane_test_float (FP32, 1), NULL);
  g_assert_true (ane_mil_infer_call_output (consts, 0)->const_descendant);
  mixed = ane_test_infer (ANE_MIL_IOS15, "add", 1,
                          "x", ane_test_val (FP32, "[2]"), "y", ane_test_float (FP32, 1), NULL);
  g_assert_false (ane_mil_infer_call_output (mixed, 0)->const_descendant);
  /* constexpr ops are const whatever their inputs */
  cx = ane_test_infer (ANE_MIL_IOS16, "constexpr_affine_dequantize", 1,
                       "quantized_data", ane_test_const_val (I8, "[4, 2]"),
                       "zero_point", ane_test_const_val (I8, ""),
                       "scale", ane_test_const_val (FP16, ""), "axis", ane_test_ints ("0"), NULL);
  g_assert_true (ane_mil_infer_call_output (cx, 0)->const_descendant);
}

/* ---- validation (InputSpec.validate_inputs) ----------------------------- */

static void
test_validate_dtypes (void)
{
  /* a param of the wrong dtype */
  assert_infer_error (ANE_MIL_IOS15, "add", ANE_ERROR_TYPE_MISMATCH,
                      "MIL add 'add' at iOS15: parameter 'x' takes fp16|fp32|int32, not bool",
                      "x", ane_test_val (BOOL, "[2]"), "y", ane_test_val (BOOL, "[2]"), NULL, NULL);
  /* a concrete dtype list */
  assert_infer_error (ANE_MIL_IOS15, "select", ANE_ERROR_TYPE_MISMATCH,
                      "MIL select 'select' at iOS15: parameter 'cond' takes bool, not fp16",
                      "cond", ane_test_val (FP16, "[2]"), "a", ane_test_val (FP16, "[2]"),
                      "b", ane_test_val (FP16, "[2]"));
  /* the table's "str" is MIL's string */
  assert_infer_error (ANE_MIL_IOS15, "cast", ANE_ERROR_TYPE_MISMATCH,
                      "MIL cast 'cast' at iOS15: parameter 'dtype' takes str, not int32",
                      "x", ane_test_val (FP32, "[2]"), "dtype", ane_test_ints ("1"), NULL, NULL);
  /* two params of one domain with different dtypes (pymil: "must have the
   * same data type") */
  assert_infer_error (ANE_MIL_IOS16, "add", ANE_ERROR_TYPE_MISMATCH,
                      "MIL add 'add' at iOS16: parameters 'x' (fp16) and 'y' (fp32) share type domain T "
                      "and must have one dtype",
                      "x", ane_test_val (FP16, "[2]"), "y", ane_test_val (FP32, "[2]"), NULL, NULL);
  assert_infer_error (ANE_MIL_IOS15, "select", ANE_ERROR_TYPE_MISMATCH,
                      "MIL select 'select' at iOS15: parameters 'a' (int32) and 'b' (fp32) share type "
                      "domain T and must have one dtype",
                      "cond", ane_test_val (BOOL, "[2]"), "a", ane_test_val (I32, "[2]"),
                      "b", ane_test_val (FP32, "[2]"));
  /* a scalar and a tensor of one domain: one dtype is all it takes */
  {
    g_autoptr(AneMilInferCall) ok = ane_test_infer (ANE_MIL_IOS15, "add", 1,
                                                    "x", ane_test_val (I32, ""),
                                                    "y", ane_test_val (I32, "[4]"), NULL);
    ane_test_assert_type (ok, 0, "tensor<int32, [4]>");
  }
  /* iOS17: alpha has its own domain U, so fp16 x with an fp32 alpha passes */
  {
    g_autoptr(AneMilInferCall) ok = ane_test_infer (ANE_MIL_IOS17, "leaky_relu", 1,
                                                    "x", ane_test_val (FP16, "[4]"),
                                                    "alpha", ane_test_float (FP32, 0.1), NULL);
    ane_test_assert_type (ok, 0, "tensor<fp16, [4]>");
  }
  assert_infer_error (ANE_MIL_IOS16, "leaky_relu", ANE_ERROR_TYPE_MISMATCH,
                      "MIL leaky_relu 'leaky_relu' at iOS16: parameters 'x' (fp16) and 'alpha' (fp32) "
                      "share type domain T and must have one dtype",
                      "x", ane_test_val (FP16, "[4]"), "alpha", ane_test_float (FP32, 0.1), NULL, NULL);
}

static void
test_validate_const (void)
{
  g_autoptr(AneMilInferCall) ok = NULL, const_unknown = NULL;

  assert_infer_error (ANE_MIL_IOS15, "leaky_relu", ANE_ERROR_TYPE_MISMATCH,
                      "MIL leaky_relu 'leaky_relu' at iOS15: parameter 'alpha' must be const at compile time",
                      "x", ane_test_val (FP16, "[4]"), "alpha", ane_test_val (FP16, ""), NULL, NULL);
  ok = ane_test_infer (ANE_MIL_IOS15, "leaky_relu", 1,
                       "x", ane_test_val (FP16, "[4]"), "alpha", ane_test_float (FP16, 0.1), NULL);
  ane_test_assert_type (ok, 0, "tensor<fp16, [4]>");
  /* a value computed from consts is const, though its value is not known */
  const_unknown = ane_test_infer (ANE_MIL_IOS15, "leaky_relu", 1,
                                  "x", ane_test_val (FP16, "[4]"), "alpha", ane_test_const_val (FP16, ""), NULL);
  ane_test_assert_type (const_unknown, 0, "tensor<fp16, [4]>");
}

static void
test_validate_states (void)
{
  g_autoptr(AneMilInferCall) read = NULL;

  /* a state where a tensor is expected */
  assert_infer_error (ANE_MIL_IOS18, "add", ANE_ERROR_TYPE_MISMATCH,
                      "MIL add 'add' at iOS18: parameter 'x' takes a tensor, not a state "
                      "(read it with read_state first)",
                      "x", ane_test_state (FP16, "[4]"), "y", ane_test_val (FP16, "[4]"), NULL, NULL);
  /* and a tensor, or anything else, where a state is */
  assert_infer_error (ANE_MIL_IOS18, "read_state", ANE_ERROR_TYPE_MISMATCH,
                      "MIL read_state 'read_state' at iOS18: parameter 'input' takes a state, not a tensor",
                      "input", ane_test_val (FP16, "[4]"), NULL, NULL, NULL, NULL);
  assert_infer_error (ANE_MIL_IOS18, "read_state", ANE_ERROR_TYPE_MISMATCH,
                      "MIL read_state 'read_state' at iOS18: parameter 'input' takes a state, not a "
                      "non-tensor value",
                      "input", ane_mil_val_new_other (), NULL, NULL, NULL, NULL);
  read = ane_test_infer (ANE_MIL_IOS18, "read_state", 1, "input", ane_test_state (FP16, "[4, ?]"), NULL);
  ane_test_assert_type (read, 0, "tensor<fp16, [4, ?]>");
}

static void
test_validate_tuples (void)
{
  g_autoptr(AneMilInferCall) int8s = NULL;
  g_autoptr(GError) mixed = NULL;

  /* pymil checks neither a tuple's elements (TupleInputType._is_compatible)
   * nor so their dtype against concat's documented T: int8 values pass */
  int8s = ane_test_infer (ANE_MIL_IOS15, "concat", 1,
                          "values", ane_test_val (I8, "[2]"), "values", ane_test_val (I8, "[3]"),
                          "axis", ane_test_ints ("0"), NULL);
  ane_test_assert_type (int8s, 0, "tensor<int8, [5]>");
  /* mixed dtypes pass validation; it is concat's own type inference that
   * refuses them */
  mixed = ane_test_infer_error (ANE_MIL_IOS15, "concat", 1, ANE_ERROR_TYPE_MISMATCH,
                                "values", ane_test_val (FP16, "[2]"), "values", ane_test_val (FP32, "[3]"),
                                "axis", ane_test_ints ("0"), NULL);
  g_assert_cmpstr (mixed->message, ==, "MIL concat 'concat' at iOS15: values[1] is fp32, values[0] fp16: "
                                       "the values must share one dtype");
  /* a param that is not a tuple takes one value */
  assert_infer_error (ANE_MIL_IOS15, "relu", ANE_ERROR_TYPE_MISMATCH,
                      "MIL relu 'relu' at iOS15: parameter 'x' takes one value, not a tuple of 2",
                      "x", ane_test_val (FP16, "[2]"), "x", ane_test_val (FP16, "[2]"), NULL, NULL);
}

static void
test_validate_signature (void)
{
  /* an op the target does not have: the first target that has it */
  assert_infer_error (ANE_MIL_IOS15, "read_state", ANE_ERROR_UNSUPPORTED,
                      "MIL op 'read_state' does not exist at iOS15 (opset CoreML5); it first appears at iOS18",
                      "input", ane_test_state (FP16, "[4]"), NULL, NULL, NULL, NULL);
  assert_infer_error (ANE_MIL_IOS17, "scaled_dot_product_attention", ANE_ERROR_UNSUPPORTED,
                      "MIL op 'scaled_dot_product_attention' does not exist at iOS17 (opset CoreML7); "
                      "it first appears at iOS18",
                      "query", ane_test_val (FP16, "[1, 2, 4]"), "key", ane_test_val (FP16, "[1, 2, 4]"),
                      "value", ane_test_val (FP16, "[1, 2, 4]"));
  assert_infer_error (ANE_MIL_IOS18, "frobnicate", ANE_ERROR_UNSUPPORTED,
                      "MIL op 'frobnicate' does not exist at iOS18 (opset CoreML8)",
                      "x", ane_test_val (FP16, "[4]"), NULL, NULL, NULL, NULL);
  /* a dialect op is never in a file */
  {
    g_autoptr(GError) error = ane_test_infer_error (ANE_MIL_IOS18, "coreml_update_state", 1,
                                                    ANE_ERROR_UNSUPPORTED,
                                                    "state", ane_test_state (FP16, "[4]"),
                                                    "value", ane_test_val (FP16, "[4]"), NULL);
    g_assert_true (g_str_has_prefix (error->message, "MIL op 'coreml_update_state' at iOS18 is a "
                                                     "coremltools dialect op"));
  }
  /* an unknown parameter, listing the ones there are */
  assert_infer_error (ANE_MIL_IOS15, "add", ANE_ERROR_INVALID_ARGUMENT,
                      "MIL op 'add' at iOS15 has no parameter 'z' (parameters: x, y)",
                      "x", ane_test_val (FP16, "[4]"), "y", ane_test_val (FP16, "[4]"),
                      "z", ane_test_val (FP16, "[4]"));
  /* a missing required one */
  assert_infer_error (ANE_MIL_IOS15, "add", ANE_ERROR_INVALID_ARGUMENT,
                      "MIL op 'add' at iOS15: required parameter 'y' is missing",
                      "x", ane_test_val (FP16, "[4]"), NULL, NULL, NULL, NULL);
  /* "name" is no parameter, but every op may carry it */
  {
    g_autoptr(AneMilInferCall) named = ane_test_infer (ANE_MIL_IOS15, "relu", 1,
                                                       "x", ane_test_val (FP16, "[4]"),
                                                       "name", ane_test_str ("r"), NULL);
    ane_test_assert_type (named, 0, "tensor<fp16, [4]>");
  }
}

/* ---- whole programs ----------------------------------------------------- */

static const gint64 s23[] = { 2, 3 };

/* x -> add (x, 1) -> relu, fp16 [2, 3], at iOS18: "a" and "r". */
static AneMilProgram *
small_program (void)
{
  g_autoptr(AneMilBuilder) b = ane_mil_builder_new (ANE_MIL_IOS18);
  g_autoptr(GError) error = NULL;
  const char *x, *one, *a, *r;
  AneMilProgram *p;

  ane_mil_builder_begin_function (b, "main");
  x = ane_mil_builder_add_input (b, "x", ANE_DTYPE_FLOAT16, s23, 2);
  one = ane_mil_const_float (b, "one", ANE_DTYPE_FLOAT16, 1.0);
  a = ane_mil_op (b, "add", "a", ANE_DTYPE_FLOAT16, s23, 2, "x", x, "y", one, NULL);
  r = ane_mil_op (b, "relu", "r", ANE_DTYPE_FLOAT16, s23, 2, "x", a, NULL);
  ane_mil_builder_add_output (b, r);
  p = ane_mil_builder_finish (b, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  g_assert_cmpuint (ane_test_main_block (p)->n_operations, ==, 3);
  return p;
}

static AneMilProgram *
parse_mil (const char *text)
{
  g_autoptr(GError) error = NULL;
  AneMilProgram *p = ane_mil_text_parse (text, -1, "test.mil", &error);

  g_assert_no_error (error);
  g_assert_nonnull (p);
  return p;
}

typedef struct {
  GPtrArray  *problems;
  GHashTable *unchecked;
  guint       n;
} Check;

static void
check_clear (Check *c)
{
  g_clear_pointer (&c->problems, g_ptr_array_unref);
  g_clear_pointer (&c->unchecked, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Check, check_clear)

static void
check (const AneMilProgram *p,
       Check               *c)
{
  c->problems = g_ptr_array_new_with_free_func (g_free);
  c->unchecked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  c->n = ane_mil_infer_check_program (p, c->problems, c->unchecked);
  g_assert_cmpuint (c->n, ==, c->problems->len);
  /* the count does not depend on the lists being asked for */
  g_assert_cmpuint (ane_mil_infer_check_program (p, NULL, NULL), ==, c->n);
}

static void
set_dim (AneMilOperation *op,
         guint            i,
         guint64          size)
{
  op->outputs[0]->type->tensortype->dimensions[i]->constant->size = size;
}

static void
test_program_passes (void)
{
  g_autoptr(AneMilProgram) p = small_program ();
  g_auto(Check) c = { 0 };

  check (p, &c);
  g_assert_cmpuint (c.n, ==, 0);
  g_assert_cmpuint (g_hash_table_size (c.unchecked), ==, 0);
  g_assert_cmpuint (ane_mil_infer_check_program (NULL, NULL, NULL), ==, 0);
}

static void
test_program_declared_type (void)
{
  g_auto(Check) c = { 0 };

  {
    /* add's output declared [2, 4]: add is wrong; relu, declared [2, 4] as
     * well, agrees with what it is given -- the declared type is carried on */
    g_autoptr(AneMilProgram) p = small_program ();

    set_dim (ane_test_find_op (p, "add", 0), 1, 4);
    set_dim (ane_test_find_op (p, "relu", 0), 1, 4);
    check (p, &c);
    g_assert_cmpuint (c.n, ==, 1);
    g_assert_cmpstr (g_ptr_array_index (c.problems, 0), ==,
                     "function main: MIL add 'a' at iOS18: output 'a' is declared tensor<fp16, [2, 4]>, "
                     "but coremltools 9.0 infers tensor<fp16, [2, 3]> (mil/ops/defs/iOS15/elementwise_binary.py)");
    check_clear (&c);
  }
  {
    /* only add's output changed: relu, given the declared [2, 4], now
     * disagrees with its own declaration */
    g_autoptr(AneMilProgram) p = small_program ();

    set_dim (ane_test_find_op (p, "add", 0), 1, 4);
    check (p, &c);
    g_assert_cmpuint (c.n, ==, 2);
    g_assert_true (g_str_has_prefix (g_ptr_array_index (c.problems, 0), "function main: MIL add 'a' "));
    g_assert_cmpstr (g_ptr_array_index (c.problems, 1), ==,
                     "function main: MIL relu 'r' at iOS18: output 'r' is declared tensor<fp16, [2, 3]>, "
                     "but coremltools 9.0 infers tensor<fp16, [2, 4]> (mil/ops/defs/iOS15/activation.py)");
    check_clear (&c);
  }
  {
    /* a dtype, on the last op */
    g_autoptr(AneMilProgram) p = small_program ();

    ane_test_find_op (p, "relu", 0)->outputs[0]->type->tensortype->datatype = FP32;
    check (p, &c);
    g_assert_cmpuint (c.n, ==, 1);
    g_assert_cmpstr (g_ptr_array_index (c.problems, 0), ==,
                     "function main: MIL relu 'r' at iOS18: output 'r' is declared tensor<fp32, [2, 3]>, "
                     "but coremltools 9.0 infers tensor<fp16, [2, 3]> (mil/ops/defs/iOS15/activation.py)");
    check_clear (&c);
  }
  {
    /* a const whose declared type is not its value's */
    g_autoptr(AneMilProgram) p = small_program ();
    AneMilOperation *one = ane_test_producer (p, ane_test_op_arg (ane_test_find_op (p, "add", 0), "y"));

    g_assert_cmpstr (one->type, ==, "const");
    one->outputs[0]->type->tensortype->datatype = FP32;
    check (p, &c);
    /* the const is wrong; add then sees its declared fp32 against fp16 x */
    g_assert_cmpuint (c.n, ==, 2);
    g_assert_cmpstr (g_ptr_array_index (c.problems, 0), ==,
                     "function main: MIL const 'one' at iOS18: output 'one' is declared fp32, "
                     "but coremltools 9.0 infers fp16 (mil/ops/defs/iOS15/control_flow.py)");
    g_assert_cmpstr (g_ptr_array_index (c.problems, 1), ==,
                     "function main: MIL add 'a' at iOS18: parameters 'x' (fp16) and 'y' (fp32) share "
                     "type domain T and must have one dtype");
  }
}

static void
test_program_unknown_op (void)
{
  g_autoptr(AneMilProgram) p = small_program ();
  g_auto(Check) c = { 0 };
  AneMilOperation *add = ane_test_find_op (p, "add", 0);
  AneMilOperation *relu = ane_test_find_op (p, "relu", 0);

  g_free (add->type);
  add->type = g_strdup ("frobnicate");
  g_free (relu->type);
  relu->type = g_strdup ("frobnicate");
  check (p, &c);
  g_assert_cmpuint (c.n, ==, 0);
  g_assert_cmpuint (g_hash_table_size (c.unchecked), ==, 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (c.unchecked, "frobnicate")), ==, 2);
}

static void
test_program_unknown_op_keeps_types (void)
{
  g_autoptr(AneMilProgram) p = small_program ();
  g_auto(Check) c = { 0 };
  AneMilOperation *add = ane_test_find_op (p, "add", 0);

  /* the unjudged op's declared type is what its consumers see */
  g_free (add->type);
  add->type = g_strdup ("frobnicate");
  set_dim (add, 0, 5);
  check (p, &c);
  g_assert_cmpuint (c.n, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (c.problems, 0), ==,
                   "function main: MIL relu 'r' at iOS18: output 'r' is declared tensor<fp16, [2, 3]>, "
                   "but coremltools 9.0 infers tensor<fp16, [5, 3]> (mil/ops/defs/iOS15/activation.py)");
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (c.unchecked, "frobnicate")), ==, 1);
}

static void
test_program_undefined_input (void)
{
  g_autoptr(AneMilProgram) p = small_program ();
  g_auto(Check) c = { 0 };
  AneMilOperation *relu = ane_test_find_op (p, "relu", 0);
  AneMilBinding *bnd = relu->inputs[0]->value->arguments[0];

  g_free (bnd->name);
  bnd->name = g_strdup ("nowhere");
  check (p, &c);
  g_assert_cmpuint (c.n, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (c.problems, 0), ==,
                   "function main: MIL relu 'r': input 'x' names 'nowhere', which no earlier op or "
                   "function input defines");
}

static void
test_program_rank6 (void)
{
  g_autoptr(AneMilProgram) p = parse_mil (
    "program(1.3)\n"
    "{\n"
    "    func main<ios18>(tensor<fp16, [1, 1, 1, 1, 2, 3]> x) {\n"
    "        tensor<fp16, [1, 1, 1, 1, 2, 3]> r = relu(x = x)[name = string(\"r\")];\n"
    "        tensor<fp16, [1, 1, 1, 2, 3]> s = squeeze(x = r, axes = tensor<int32, [1]>([0]))[name = string(\"s\")];\n"
    "    } -> (s);\n"
    "}\n");
  g_auto(Check) c = { 0 };

  check (p, &c);
  g_assert_cmpuint (c.n, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (c.problems, 0), ==,
                   "function main: MIL relu 'r' at iOS18: output 'r' has rank 6: Core ML tensors have "
                   "rank 5 at most");
}

static void
test_program_attribute (void)
{
  g_autoptr(AneMilProgram) p = parse_mil (
    "program(1.3)\n"
    "{\n"
    "    func main<ios17>(tensor<fp16, [2]> x) {\n"
    "        tensor<fp16, [2]> r = relu(x = x)[name = string(\"r\"), alpha = fp16(0x1p-1)];\n"
    "    } -> (r);\n"
    "}\n");
  g_auto(Check) c = { 0 };

  check (p, &c);
  g_assert_cmpuint (c.n, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (c.problems, 0), ==,
                   "function main: MIL relu 'r' at iOS17: has attribute 'alpha'; Apple's loader takes "
                   "only \"name\" as an attribute of a relu op");
}

static void
test_program_op_not_at_target (void)
{
  /* an op the table knows, but not at the function's opset: not "unchecked"
   * but a problem, as Apple's loader has no such op there */
  g_autoptr(AneMilProgram) p = parse_mil (
    "program(1.3)\n"
    "{\n"
    "    func main<ios17>(tensor<fp16, [1, 2, 4]> q) {\n"
    "        tensor<fp16, [1, 2, 4]> a = scaled_dot_product_attention(query = q, key = q, value = q)"
    "[name = string(\"a\")];\n"
    "        tensor<fp16, [1, 2, 4]> r = relu(x = a)[name = string(\"r\")];\n"
    "    } -> (r);\n"
    "}\n");
  g_auto(Check) c = { 0 };

  check (p, &c);
  g_assert_cmpuint (c.n, ==, 1);
  g_assert_cmpuint (g_hash_table_size (c.unchecked), ==, 0);
  g_assert_cmpstr (g_ptr_array_index (c.problems, 0), ==,
                   "function main: MIL op 'scaled_dot_product_attention' does not exist at iOS17 "
                   "(opset CoreML7); it first appears at iOS18");
}

static void
test_program_opset (void)
{
  g_autoptr(AneMilProgram) p = small_program ();
  g_auto(Check) c = { 0 };
  AneMilFunction *fn = p->functions[0]->value;

  g_free (fn->opset);
  fn->opset = g_strdup ("CoreML9");
  check (p, &c);
  g_assert_cmpuint (c.n, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (c.problems, 0), ==,
                   "function main: opset 'CoreML9' is not one the mirror knows (CoreML5..CoreML8)");
}

static void
test_program_nested_and_functions (void)
{
  /* a problem inside a cond's branch names the branch; the second function
   * is checked at its own opset (iOS15 has no read_state-era ops, and
   * there add's output is wrong) */
  g_autoptr(AneMilProgram) p = parse_mil (
    "program(1.3)\n"
    "{\n"
    "    func main<ios18>(tensor<bool, []> p, tensor<fp16, [2]> x) {\n"
    "        tensor<fp16, [2]> c = cond(pred = p)[name = string(\"c\")] {\n"
    "            block() {\n"
    "                tensor<fp16, [3]> t = relu(x = x)[name = string(\"t\")];\n"
    "            } -> (t);\n"
    "            block() {\n"
    "                tensor<fp16, [2]> e = exp(x = x)[name = string(\"e\")];\n"
    "            } -> (e);\n"
    "        };\n"
    "    } -> (c);\n"
    "    func other<ios15>(tensor<fp32, [2]> x) {\n"
    "        tensor<fp32, [2, 2]> y = add(x = x, y = x)[name = string(\"y\")];\n"
    "    } -> (y);\n"
    "}\n");
  g_auto(Check) c = { 0 };

  check (p, &c);
  g_assert_cmpuint (c.n, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (c.problems, 0), ==,
                   "function main, block 0 of cond 'c': MIL relu 't' at iOS18: output 't' is declared "
                   "tensor<fp16, [3]>, but coremltools 9.0 infers tensor<fp16, [2]> "
                   "(mil/ops/defs/iOS15/activation.py)");
  g_assert_cmpstr (g_ptr_array_index (c.problems, 1), ==,
                   "function other: MIL add 'y' at iOS15: output 'y' is declared tensor<fp32, [2, 2]>, "
                   "but coremltools 9.0 infers tensor<fp32, [2]> (mil/ops/defs/iOS15/elementwise_binary.py)");
}

static void
test_check_op_env (void)
{
  g_autoptr(AneMilProgram) p = small_program ();
  g_autoptr(AneMilTypeEnv) outer = ane_mil_type_env_new (NULL);
  g_autoptr(AneMilTypeEnv) env = ane_mil_type_env_new (outer);
  g_autoptr(GError) error = NULL;
  AneMilBlock *block = ane_test_main_block (p);
  AneMilOperation *relu = ane_test_find_op (p, "relu", 0);

  /* a nested env sees its parent's names, and shadows them */
  ane_mil_type_env_add (outer, "x", ane_test_val (FP16, "[2, 3]"));
  ane_mil_type_env_add (outer, "shadowed", ane_test_val (FP16, "[1]"));
  ane_mil_type_env_add (env, "shadowed", ane_test_val (FP32, "[1]"));
  assert_type_string (ane_mil_type_env_lookup (env, "x"), "tensor<fp16, [2, 3]>");
  assert_type_string (ane_mil_type_env_lookup (env, "shadowed"), "tensor<fp32, [1]>");
  assert_type_string (ane_mil_type_env_lookup (outer, "shadowed"), "tensor<fp16, [1]>");
  g_assert_null (ane_mil_type_env_lookup (env, "nothing"));

  for (gsize i = 0; i < block->n_operations; i++)
    {
      g_assert_true (ane_mil_infer_check_op (env, ANE_MIL_IOS18, block->operations[i], &error));
      g_assert_no_error (error);
    }
  /* the const is typed (and valued) from its value */
  g_assert_cmpfloat (ane_mil_type_env_lookup (env, "one")->values[0], ==, 1.0);
  g_assert_true (ane_mil_type_env_lookup (env, "one")->const_descendant);
  assert_type_string (ane_mil_type_env_lookup (env, "r"), "tensor<fp16, [2, 3]>");
  g_assert_false (ane_mil_type_env_lookup (env, "r")->const_descendant);
  g_assert_null (ane_mil_type_env_lookup (outer, "r"));

  /* a failing op still adds its (declared) outputs */
  set_dim (relu, 0, 7);
  g_assert_false (ane_mil_infer_check_op (env, ANE_MIL_IOS18, relu, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_TYPE_MISMATCH);
  g_assert_cmpstr (error->message, ==,
                   "MIL relu 'r' at iOS18: output 'r' is declared tensor<fp16, [7, 3]>, but coremltools "
                   "9.0 infers tensor<fp16, [2, 3]> (mil/ops/defs/iOS15/activation.py)");
  assert_type_string (ane_mil_type_env_lookup (env, "r"), "tensor<fp16, [7, 3]>");
  g_clear_error (&error);

  {
    AneMilOperation none;

    /* protobuf-c's empty type is "", an op no target has */
    core_ml__specification__milspec__operation__init (&none);
    g_assert_false (ane_mil_infer_check_op (env, ANE_MIL_IOS18, &none, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
    g_assert_cmpstr (error->message, ==, "MIL op '' does not exist at iOS18 (opset CoreML8)");
    g_clear_error (&error);
    none.type = NULL;
    g_assert_false (ane_mil_infer_check_op (env, ANE_MIL_IOS18, &none, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
    g_assert_cmpstr (error->message, ==, "a MIL operation without a type");
  }
}

/* ---- the builder -------------------------------------------------------- */

static const gint64 s2[] = { 2 };

static void
emit_write_state (AneMilBuilder *b,
                  const char    *hint,
                  const char    *state,
                  const char    *data)
{
  AneMilOpCall *call = ane_mil_op_begin (b, "write_state", hint);

  ane_mil_op_arg (call, "input", state);
  ane_mil_op_arg (call, "data", data);
  ane_mil_op_end (call);
}

/* "type(args)" of every op of main, in order, e.g. "relu(fa)",
 * "write_state(sa<-fa)". */
static char *
op_listing (AneMilProgram *p)
{
  AneMilBlock *block = ane_test_main_block (p);
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < block->n_operations; i++)
    {
      AneMilOperation *op = block->operations[i];

      if (i)
        g_string_append (s, ", ");
      if (g_str_equal (op->type, "write_state"))
        g_string_append_printf (s, "write_state(%s<-%s)", ane_test_op_arg (op, "input"), ane_test_op_arg (op, "data"));
      else
        g_string_append_printf (s, "%s=%s", op->outputs[0]->name, op->type);
    }
  return g_string_free (s, FALSE);
}

static AneMilProgram *
finish (AneMilBuilder *b)
{
  g_autoptr(GError) error = NULL;
  AneMilProgram *p = ane_mil_builder_finish (b, NULL, NULL, &error);

  g_assert_no_error (error);
  return p;
}

static void
test_builder_write_state_placement (void)
{
  g_autoptr(AneMilBuilder) b = ane_mil_builder_new (ANE_MIL_IOS18);
  g_autoptr(AneMilProgram) p = NULL;
  g_autofree char *listing = NULL;
  g_auto(Check) c = { 0 };
  const char *sa, *sb, *ra, *rb, *fa, *gb;

  ane_mil_builder_begin_function (b, "main");
  sa = ane_mil_builder_add_state_input (b, "sa", ANE_DTYPE_FLOAT16, s2, 1);
  sb = ane_mil_builder_add_state_input (b, "sb", ANE_DTYPE_FLOAT16, s2, 1);
  ra = ane_mil_op (b, "read_state", "ra", ANE_DTYPE_FLOAT16, s2, 1, "input", sa, NULL);
  rb = ane_mil_op (b, "read_state", "rb", ANE_DTYPE_FLOAT16, s2, 1, "input", sb, NULL);
  fa = ane_mil_op (b, "relu", "fa", ANE_DTYPE_FLOAT16, s2, 1, "x", ra, NULL);
  gb = ane_mil_op (b, "exp", "gb", ANE_DTYPE_FLOAT16, s2, 1, "x", rb, NULL);
  emit_write_state (b, "wa", sa, fa);
  emit_write_state (b, "wb", sb, gb);
  ane_mil_builder_add_output (b, gb);
  p = finish (b);

  /* each write right after the op making its data: coremltools'
   * canonicalize_inplace_pattern would fail on two producers followed by
   * their two writes */
  listing = op_listing (p);
  g_assert_cmpstr (listing, ==, "ra=read_state, rb=read_state, fa=relu, write_state(sa<-fa), gb=exp, "
                                "write_state(sb<-gb)");
  check (p, &c);
  g_assert_cmpuint (c.n, ==, 0);
}

static void
test_builder_write_state_after_reads (void)
{
  g_autoptr(AneMilBuilder) b = ane_mil_builder_new (ANE_MIL_IOS18);
  g_autoptr(AneMilProgram) p = NULL;
  g_autofree char *listing = NULL;
  const char *sa, *ra, *fa, *again, *y;

  /* the state is read again after the producer: moving the write up would
   * change what that read sees, so it stays at the end */
  ane_mil_builder_begin_function (b, "main");
  sa = ane_mil_builder_add_state_input (b, "sa", ANE_DTYPE_FLOAT16, s2, 1);
  ra = ane_mil_op (b, "read_state", "ra", ANE_DTYPE_FLOAT16, s2, 1, "input", sa, NULL);
  fa = ane_mil_op (b, "relu", "fa", ANE_DTYPE_FLOAT16, s2, 1, "x", ra, NULL);
  again = ane_mil_op (b, "read_state", "again", ANE_DTYPE_FLOAT16, s2, 1, "input", sa, NULL);
  y = ane_mil_op (b, "add", "y", ANE_DTYPE_FLOAT16, s2, 1, "x", fa, "y", again, NULL);
  emit_write_state (b, "wa", sa, fa);
  ane_mil_builder_add_output (b, y);
  p = finish (b);

  listing = op_listing (p);
  g_assert_cmpstr (listing, ==, "ra=read_state, fa=relu, again=read_state, y=add, write_state(sa<-fa)");
}

static void
test_builder_write_state_same_data (void)
{
  g_autoptr(AneMilBuilder) b = ane_mil_builder_new (ANE_MIL_IOS18);
  g_autoptr(AneMilProgram) p = NULL;
  g_autofree char *listing = NULL;
  const char *sa, *sb, *x, *fa, *y;

  /* one value written to two states: the first write goes right after the
   * producer, the second cannot go there too; data from a function input
   * has no producer to follow */
  ane_mil_builder_begin_function (b, "main");
  x = ane_mil_builder_add_input (b, "x", ANE_DTYPE_FLOAT16, s2, 1);
  sa = ane_mil_builder_add_state_input (b, "sa", ANE_DTYPE_FLOAT16, s2, 1);
  sb = ane_mil_builder_add_state_input (b, "sb", ANE_DTYPE_FLOAT16, s2, 1);
  fa = ane_mil_op (b, "relu", "fa", ANE_DTYPE_FLOAT16, s2, 1, "x", x, NULL);
  y = ane_mil_op (b, "exp", "y", ANE_DTYPE_FLOAT16, s2, 1, "x", fa, NULL);
  emit_write_state (b, "wa", sa, fa);
  emit_write_state (b, "wb", sb, fa);
  emit_write_state (b, "wx", sa, x);
  ane_mil_builder_add_output (b, y);
  p = finish (b);

  listing = op_listing (p);
  g_assert_cmpstr (listing, ==, "fa=relu, write_state(sa<-fa), y=exp, write_state(sb<-fa), write_state(sa<-x)");
}

static void
test_builder_reserved_names (void)
{
  static const char *const keywords[] = { "state", "tensor", "fp16", "bool", "string", "func", "program",
                                          "true", "uint64", "any", "dict", "tuple", "list" };
  g_autoptr(AneMilBuilder) b = ane_mil_builder_new (ANE_MIL_IOS18);

  for (guint i = 0; i < G_N_ELEMENTS (keywords); i++)
    g_assert_true (ane_mil_name_is_reserved (keywords[i]));
  g_assert_false (ane_mil_name_is_reserved ("states"));
  g_assert_false (ane_mil_name_is_reserved ("Tensor"));
  g_assert_false (ane_mil_name_is_reserved ("x"));
  g_assert_false (ane_mil_name_is_reserved (NULL));

  ane_mil_builder_begin_function (b, "main");
  g_assert_cmpstr (ane_mil_builder_unique_name (b, "state"), ==, "state_1");
  g_assert_cmpstr (ane_mil_builder_unique_name (b, "state"), ==, "state_2");
  g_assert_cmpstr (ane_mil_builder_unique_name (b, "tensor"), ==, "tensor_1");
  g_assert_cmpstr (ane_mil_builder_unique_name (b, "fp16"), ==, "fp16_1");
  g_assert_cmpstr (ane_mil_builder_unique_name (b, "x"), ==, "x");
  g_assert_cmpstr (ane_mil_builder_unique_name (b, "x"), ==, "x_1");
  /* a leading digit is kept after an underscore; other characters become '_' */
  g_assert_cmpstr (ane_mil_builder_unique_name (b, "1abc"), ==, "_1abc");
  g_assert_cmpstr (ane_mil_builder_unique_name (b, "9"), ==, "_9");
  g_assert_cmpstr (ane_mil_builder_unique_name (b, "layers.0/q-proj"), ==, "layers_0_q_proj");
}

static void
test_lower_keyword_names (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) blobs = NULL;
  guint64 size = 0;

  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2);
    g_autoptr(AneTensor) y = ane_graph_relu (g, x, &error);

    ane_graph_add_output (g, "tensor", y, &error);
    g_assert_no_error (error);
    g_assert_null (ane_lower_graph (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, &blobs, &size, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
    g_assert_cmpstr (error->message, ==, "output 'tensor' is a MIL keyword, which Apple's tools rename "
                                         "('tensor_workaround'): rename it to lower the graph");
    g_clear_error (&error);
  }
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = ane_test_input (g, "state", ANE_DTYPE_FLOAT32, s23, 2);
    g_autoptr(AneTensor) y = ane_graph_relu (g, x, &error);

    ane_graph_add_output (g, "y", y, &error);
    g_assert_no_error (error);
    g_assert_null (ane_lower_graph (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, &blobs, &size, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "input 'state' is a MIL keyword"));
    g_clear_error (&error);
  }
  {
    /* a value the graph calls "fp16" inside is renamed, and the program
     * lowers */
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2);
    g_autoptr(AneTensor) y = ane_graph_relu (g, x, &error);
    g_autoptr(AneTensor) z = NULL;
    g_autoptr(AneMilProgram) p = NULL;

    g_assert_true (ane_graph_set_name (g, y, "fp16", &error));
    z = ane_graph_exp (g, y, &error);
    ane_graph_add_output (g, "y", z, &error);
    g_assert_no_error (error);
    p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
    g_assert_cmpstr (ane_test_find_op (p, "relu", 0)->outputs[0]->name, ==, "fp16_1");
    for (gsize i = 0; i < ane_test_main_block (p)->n_operations; i++)
      for (gsize j = 0; j < ane_test_main_block (p)->operations[i]->n_outputs; j++)
        g_assert_false (ane_mil_name_is_reserved (ane_test_main_block (p)->operations[i]->outputs[j]->name));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/mil-infer/core/val/type-string", test_type_string);
  g_test_add_func ("/ane/mil-infer/core/val/n-elements", test_n_elements);
  g_test_add_func ("/ane/mil-infer/core/val/values", test_values);
  g_test_add_func ("/ane/mil-infer/core/val/type-compatible", test_type_compatible);
  g_test_add_func ("/ane/mil-infer/core/val/from-value-type", test_from_value_type);
  g_test_add_func ("/ane/mil-infer/core/val/from-value/immediates", test_from_value_immediates);
  g_test_add_func ("/ane/mil-infer/core/val/from-value/strings-blobs-lists", test_from_value_strings_blobs_lists);
  g_test_add_func ("/ane/mil-infer/core/val/from-value/errors", test_from_value_errors);
  g_test_add_func ("/ane/mil-infer/core/dtype/is-int", test_dt_is_int);
  g_test_add_func ("/ane/mil-infer/core/dtype/promote", test_dt_promote);
  g_test_add_func ("/ane/mil-infer/core/broadcast", test_broadcast);
  g_test_add_func ("/ane/mil-infer/core/axis", test_axis);
  g_test_add_func ("/ane/mil-infer/core/call/accessors", test_call_accessors);
  g_test_add_func ("/ane/mil-infer/core/call/constness", test_call_constness);
  g_test_add_func ("/ane/mil-infer/core/validate/dtypes", test_validate_dtypes);
  g_test_add_func ("/ane/mil-infer/core/validate/const", test_validate_const);
  g_test_add_func ("/ane/mil-infer/core/validate/states", test_validate_states);
  g_test_add_func ("/ane/mil-infer/core/validate/tuples", test_validate_tuples);
  g_test_add_func ("/ane/mil-infer/core/validate/signature", test_validate_signature);
  g_test_add_func ("/ane/mil-infer/core/program/passes", test_program_passes);
  g_test_add_func ("/ane/mil-infer/core/program/declared-type", test_program_declared_type);
  g_test_add_func ("/ane/mil-infer/core/program/unknown-op", test_program_unknown_op);
  g_test_add_func ("/ane/mil-infer/core/program/unknown-op-keeps-types", test_program_unknown_op_keeps_types);
  g_test_add_func ("/ane/mil-infer/core/program/undefined-input", test_program_undefined_input);
  g_test_add_func ("/ane/mil-infer/core/program/rank6", test_program_rank6);
  g_test_add_func ("/ane/mil-infer/core/program/attribute", test_program_attribute);
  g_test_add_func ("/ane/mil-infer/core/program/op-not-at-target", test_program_op_not_at_target);
  g_test_add_func ("/ane/mil-infer/core/program/opset", test_program_opset);
  g_test_add_func ("/ane/mil-infer/core/program/nested-and-functions", test_program_nested_and_functions);
  g_test_add_func ("/ane/mil-infer/core/program/check-op-env", test_check_op_env);
  g_test_add_func ("/ane/mil-infer/core/builder/write-state-placement", test_builder_write_state_placement);
  g_test_add_func ("/ane/mil-infer/core/builder/write-state-after-reads", test_builder_write_state_after_reads);
  g_test_add_func ("/ane/mil-infer/core/builder/write-state-same-data", test_builder_write_state_same_data);
  g_test_add_func ("/ane/mil-infer/core/builder/reserved-names", test_builder_reserved_names);
  g_test_add_func ("/ane/mil-infer/core/builder/lower-keyword-names", test_lower_keyword_names);

  return g_test_run ();
}
