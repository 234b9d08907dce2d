/* mil/ane-mil-infer.c: values, calls and program checks of the type-inference mirror
 *
 * The rules themselves (one per op signature row) live in mil/infer/, one
 * file per family of coremltools' op definitions; this file is what they
 * stand on: the values the mirror knows, binding and validating a call as
 * pymil's InputSpec.validate_inputs does (coremltools/converters/mil/mil/
 * input_type.py), coremltools' broadcast and dtype promotion
 * (mil/ops/defs/_utils.py broadcast_shapes, mil/types/type_mapping.py
 * promote_types), and walking a program as the milproto loader does
 * (frontend/milproto/load.py, _load_operation).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mil/ane-mil-infer-private.h"
#include "mil/ane-mil-text-private.h"

/* ---------------------------------------------------------------------- */
/* values                                                                 */
/* ---------------------------------------------------------------------- */

static AneMilVal *
val_alloc (AneMilValKind  kind,
           int            dtype,
           const gint64  *shape,
           guint          rank)
{
  AneMilVal *v = g_new0 (AneMilVal, 1);

  v->kind = kind;
  v->dtype = dtype;
  if (rank > ANE_MIL_INFER_MAX_RANK)
    {
      v->kind = ANE_MIL_VAL_OTHER;
      return v;
    }
  v->rank = rank;
  for (guint i = 0; i < rank; i++)
    v->shape[i] = shape[i] < 0 ? ANE_MIL_DIM_UNKNOWN : shape[i];
  return v;
}

AneMilVal *
ane_mil_val_new (int           dtype,
                 const gint64 *shape,
                 guint         rank)
{
  return val_alloc (ANE_MIL_VAL_TENSOR, dtype, shape, rank);
}

AneMilVal *
ane_mil_val_new_state (int           dtype,
                       const gint64 *shape,
                       guint         rank)
{
  return val_alloc (ANE_MIL_VAL_STATE, dtype, shape, rank);
}

AneMilVal *
ane_mil_val_new_other (void)
{
  return val_alloc (ANE_MIL_VAL_OTHER, CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UNUSED_TYPE, NULL, 0);
}

gint64
ane_mil_val_n_elements (const AneMilVal *val)
{
  gint64 n = 1;

  if (val->kind == ANE_MIL_VAL_OTHER)
    return -1;
  for (guint i = 0; i < val->rank; i++)
    {
      if (val->shape[i] < 0)
        return -1;
      if (val->shape[i] != 0 && n > G_MAXINT64 / val->shape[i])
        return -1;
      n *= val->shape[i];
    }
  return n;
}

void
ane_mil_infer_out_set_values (AneMilVal    *out,
                              const double *values,
                              gsize         n)
{
  g_clear_pointer (&out->values, g_free);
  out->n_values = 0;
  if (values == NULL || ane_mil_val_n_elements (out) != (gint64) n || n > ANE_MIL_INFER_MAX_VALUES)
    return;
  out->values = g_memdup2 (values, MAX (n, 1) * sizeof (double));
  out->n_values = n;
  out->const_descendant = TRUE;
}

AneMilVal *
ane_mil_val_new_values (int           dtype,
                        const gint64 *shape,
                        guint         rank,
                        const double *values)
{
  AneMilVal *v = ane_mil_val_new (dtype, shape, rank);
  gint64 n = ane_mil_val_n_elements (v);

  v->const_descendant = TRUE;
  if (n >= 0)
    ane_mil_infer_out_set_values (v, values, (gsize) n);
  return v;
}

AneMilVal *
ane_mil_val_new_int (gint64 value)
{
  double d = (double) value;

  return ane_mil_val_new_values (ANE_MIL_DT_INT32, NULL, 0, &d);
}

AneMilVal *
ane_mil_val_new_ints (const gint64 *values,
                      gsize         n)
{
  g_autofree double *d = g_new (double, MAX (n, 1));
  gint64 shape = (gint64) n;

  for (gsize i = 0; i < n; i++)
    d[i] = (double) values[i];
  return ane_mil_val_new_values (ANE_MIL_DT_INT32, &shape, 1, d);
}

AneMilVal *
ane_mil_val_new_bool (gboolean value)
{
  double d = value ? 1.0 : 0.0;

  return ane_mil_val_new_values (ANE_MIL_DT_BOOL, NULL, 0, &d);
}

AneMilVal *
ane_mil_val_new_float (int    dtype,
                       double value)
{
  return ane_mil_val_new_values (dtype, NULL, 0, &value);
}

AneMilVal *
ane_mil_val_new_string (const char *value)
{
  AneMilVal *v = ane_mil_val_new (ANE_MIL_DT_STRING, NULL, 0);

  v->string = g_strdup (value);
  v->const_descendant = TRUE;
  return v;
}

AneMilVal *
ane_mil_val_copy (const AneMilVal *val)
{
  AneMilVal *v = g_memdup2 (val, sizeof *val);

  v->values = val->values ? g_memdup2 (val->values, MAX (val->n_values, 1) * sizeof (double)) : NULL;
  v->string = g_strdup (val->string);
  return v;
}

void
ane_mil_val_free (AneMilVal *val)
{
  if (val == NULL)
    return;
  g_free (val->values);
  g_free (val->string);
  g_free (val);
}

const char *
ane_mil_dt_name (int dtype)
{
  const AneMilTextDType *dt = ane_mil_text_dtype_by_enum (dtype);

  return dt != NULL ? dt->name : "unknown";
}

static void
append_tensor_type (GString         *s,
                    const AneMilVal *val)
{
  if (val->rank == 0)
    {
      g_string_append (s, ane_mil_dt_name (val->dtype));
      return;
    }
  {
    g_autofree char *dims = ane_mil_infer_dims_string (val->shape, val->rank);

    g_string_append_printf (s, "tensor<%s, %s>", ane_mil_dt_name (val->dtype), dims);
  }
}

char *
ane_mil_val_type_string (const AneMilVal *val)
{
  GString *s = g_string_new (NULL);

  switch (val->kind)
    {
    case ANE_MIL_VAL_TENSOR:
      append_tensor_type (s, val);
      break;
    case ANE_MIL_VAL_STATE:
      g_string_append (s, "state<");
      if (val->rank == 0)
        g_string_append_printf (s, "tensor<%s, []>", ane_mil_dt_name (val->dtype));
      else
        append_tensor_type (s, val);
      g_string_append_c (s, '>');
      break;
    default:
      g_string_append (s, "(a type the mirror does not model)");
      break;
    }
  return g_string_free (s, FALSE);
}

gboolean
ane_mil_val_type_compatible (const AneMilVal *declared,
                             const AneMilVal *inferred)
{
  if (declared->kind == ANE_MIL_VAL_OTHER || inferred->kind == ANE_MIL_VAL_OTHER)
    return TRUE;   /* nothing to judge */
  if (declared->kind != inferred->kind || declared->dtype != inferred->dtype ||
      declared->rank != inferred->rank)
    return FALSE;
  for (guint i = 0; i < declared->rank; i++)
    if (declared->shape[i] >= 0 && inferred->shape[i] >= 0 && declared->shape[i] != inferred->shape[i])
      return FALSE;
  return TRUE;
}

static AneMilVal *
val_from_tensor_type (AneMilValKind           kind,
                      const AneMilTensorType *tt)
{
  gint64 shape[ANE_MIL_INFER_MAX_RANK];

  if (tt == NULL || tt->rank < 0 || (guint64) tt->rank != tt->n_dimensions ||
      tt->n_dimensions > ANE_MIL_INFER_MAX_RANK)
    return ane_mil_val_new_other ();
  for (gsize i = 0; i < tt->n_dimensions; i++)
    {
      const AneMilDimension *d = tt->dimensions[i];

      if (d != NULL && d->dimension_case == CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT &&
          d->constant != NULL && d->constant->size <= (guint64) G_MAXINT64)
        shape[i] = (gint64) d->constant->size;
      else
        shape[i] = ANE_MIL_DIM_UNKNOWN;
    }
  return val_alloc (kind, tt->datatype, shape, (guint) tt->n_dimensions);
}

AneMilVal *
ane_mil_val_from_value_type (const AneMilValueType *type)
{
  if (type == NULL)
    return ane_mil_val_new_other ();
  switch (type->type_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE:
      return val_from_tensor_type (ANE_MIL_VAL_TENSOR, type->tensortype);
    case CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE:
      if (type->statetype != NULL && type->statetype->wrappedtype != NULL &&
          type->statetype->wrappedtype->type_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE)
        return val_from_tensor_type (ANE_MIL_VAL_STATE, type->statetype->wrappedtype->tensortype);
      return ane_mil_val_new_other ();
    default:
      return ane_mil_val_new_other ();
    }
}

static double
int_from_bits (guint64 u,
               guint   bits,
               gboolean is_signed)
{
  if (is_signed && bits < 64 && (u & (G_GUINT64_CONSTANT (1) << (bits - 1))))
    return (double) (gint64) (u | ~((G_GUINT64_CONSTANT (1) << bits) - 1));
  return is_signed ? (double) (gint64) u : (double) u;
}

/* The element count an immediate tensor holds, by its storage. */
static gboolean
immediate_count (const CoreML__Specification__MILSpec__TensorValue *tv,
                 const AneMilTextDType                             *dt,
                 gint64                                             expected,
                 gsize                                             *n)
{
  switch (tv->value_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_FLOATS:
      *n = tv->floats->n_values;
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_DOUBLES:
      *n = tv->doubles->n_values;
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS:
      *n = tv->ints->n_values;
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS:
      *n = tv->longints->n_values;
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BOOLS:
      *n = tv->bools->n_values;
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS:
      *n = tv->strings->n_values;
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES:
      if (dt == NULL || dt->bits == 0)
        return FALSE;
      /* sub-byte types pad their last byte: the count comes from the type */
      if (dt->bits < 8 && expected >= 0 &&
          (guint64) expected <= G_MAXSIZE / dt->bits &&
          ((gsize) expected * dt->bits + 7) / 8 == tv->bytes->values.len)
        *n = (gsize) expected;
      else if (dt->bits >= 8 && tv->bytes->values.len % (dt->bits / 8) == 0)
        *n = tv->bytes->values.len / (dt->bits / 8);
      else
        return FALSE;
      return TRUE;
    default:
      return FALSE;
    }
}

static double
immediate_element (const CoreML__Specification__MILSpec__TensorValue *tv,
                   const AneMilTextDType                             *dt,
                   gsize                                              i)
{
  switch (tv->value_case)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_FLOATS:
      return tv->floats->values[i];
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_DOUBLES:
      return tv->doubles->values[i];
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS:
      return tv->ints->values[i];
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS:
      return (double) tv->longints->values[i];
    case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BOOLS:
      return tv->bools->values[i] ? 1.0 : 0.0;
    default:
      {
        guint64 u = ane_mil_text_packed_element (tv->bytes->values.data, i, dt->bits);

        if (ane_mil_text_dtype_is_float (dt->mil))
          return ane_mil_text_float_from_bits (u, dt->mil);
        if (dt->mil == ANE_MIL_DT_BOOL)
          return u != 0;
        return int_from_bits (u, dt->bits, ane_mil_text_dtype_is_signed (dt->mil));
      }
    }
}

AneMilVal *
ane_mil_val_from_value (const AneMilValue  *value,
                        const char         *what,
                        GError            **error)
{
  const CoreML__Specification__MILSpec__TensorValue *tv;
  const AneMilTextDType *dt;
  g_autoptr(AneMilVal) v = NULL;
  gint64 expected;
  gsize n;

  if (value == NULL || value->type == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "%s: a value without a type", what);
      return NULL;
    }
  v = ane_mil_val_from_value_type (value->type);
  v->const_descendant = TRUE;
  if (v->kind != ANE_MIL_VAL_TENSOR)
    return g_steal_pointer (&v);
  if (value->value_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE)
    return g_steal_pointer (&v);   /* const; the bytes stay in weight.bin */
  if (value->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE ||
      value->immediatevalue == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "%s: a value that is neither "
                   "an immediate nor a blob", what);
      return NULL;
    }
  if (value->immediatevalue->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR ||
      value->immediatevalue->tensor == NULL)
    {
      /* lists, tuples, dictionaries: not modelled, but a const all the same */
      AneMilVal *other = ane_mil_val_new_other ();

      other->const_descendant = TRUE;
      return other;
    }
  tv = value->immediatevalue->tensor;
  dt = ane_mil_text_dtype_by_enum (v->dtype);
  expected = ane_mil_val_n_elements (v);
  if (!immediate_count (tv, dt, expected, &n))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "%s: an immediate %s value whose "
                   "storage does not hold whole elements", what, ane_mil_dt_name (v->dtype));
      return NULL;
    }
  if (expected >= 0 && (gint64) n != expected)
    {
      g_autofree char *type = ane_mil_val_type_string (v);

      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "%s: the immediate value holds %"
                   G_GSIZE_FORMAT " elements, but its type %s has %" G_GINT64_FORMAT, what, n, type, expected);
      return NULL;
    }
  if (v->dtype == ANE_MIL_DT_STRING)
    {
      if (tv->value_case != CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "%s: a string value holds no strings", what);
          return NULL;
        }
      if (n == 1 && v->rank == 0)
        v->string = g_strdup (tv->strings->values[0] ? tv->strings->values[0] : "");
      return g_steal_pointer (&v);
    }
  if (tv->value_case == CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "%s: a %s value holds strings",
                   what, ane_mil_dt_name (v->dtype));
      return NULL;
    }
  if (expected >= 0 && n <= ANE_MIL_INFER_MAX_VALUES && dt != NULL)
    {
      g_autofree double *d = g_new (double, MAX (n, 1));

      for (gsize i = 0; i < n; i++)
        d[i] = immediate_element (tv, dt, i);
      ane_mil_infer_out_set_values (v, d, n);
    }
  return g_steal_pointer (&v);
}

/* ---------------------------------------------------------------------- */
/* dtypes                                                                 */
/* ---------------------------------------------------------------------- */

gboolean
ane_mil_dt_is_int (int dtype)
{
  const AneMilTextDType *dt = ane_mil_text_dtype_by_enum (dtype);

  return dt != NULL && dt->bits > 0 && dtype != ANE_MIL_DT_BOOL && !ane_mil_text_dtype_is_float (dtype);
}

/* numpy's view of a MIL dtype: the sub-byte types are stored in 8 bits
 * (coremltools' nptype_from_builtin gives np.int8/np.uint8 for them). */
static guint
np_bits (int dtype)
{
  const AneMilTextDType *dt = ane_mil_text_dtype_by_enum (dtype);

  return dt == NULL ? 0 : MAX (dt->bits, 8);
}

static int
float_of_bits (guint bits)
{
  return bits <= 16 ? ANE_MIL_DT_FP16 : bits <= 32 ? ANE_MIL_DT_FP32 : ANE_MIL_DT_FP64;
}

static int
int_of_bits (guint bits, gboolean is_signed)
{
  if (is_signed)
    return bits <= 8 ? ANE_MIL_DT_INT8 : bits <= 16 ? ANE_MIL_DT_INT16 : bits <= 32 ? ANE_MIL_DT_INT32 : ANE_MIL_DT_INT64;
  return bits <= 8 ? ANE_MIL_DT_UINT8 : bits <= 16 ? ANE_MIL_DT_UINT16 : bits <= 32 ? ANE_MIL_DT_UINT32 : ANE_MIL_DT_UINT64;
}

int
ane_mil_dt_promote (int a,
                    int b)
{
  gboolean fa = ane_mil_text_dtype_is_float (a), fb = ane_mil_text_dtype_is_float (b);
  gboolean ia = ane_mil_dt_is_int (a), ib = ane_mil_dt_is_int (b);

  if (ane_mil_text_dtype_by_enum (a) == NULL || ane_mil_text_dtype_by_enum (b) == NULL)
    return -1;
  if (a == b)
    return a;
  if (a == ANE_MIL_DT_STRING || b == ANE_MIL_DT_STRING)
    return -1;
  /* numpy knows no bfloat16 or fp8: coremltools cannot promote them */
  if ((fa && a != ANE_MIL_DT_FP16 && a != ANE_MIL_DT_FP32 && a != ANE_MIL_DT_FP64) ||
      (fb && b != ANE_MIL_DT_FP16 && b != ANE_MIL_DT_FP32 && b != ANE_MIL_DT_FP64))
    return -1;
  if (a == ANE_MIL_DT_BOOL)
    return b;
  if (b == ANE_MIL_DT_BOOL)
    return a;
  if (fa && fb)
    return np_bits (a) >= np_bits (b) ? a : b;
  if (fa || fb)
    {
      int f = fa ? a : b, i = fa ? b : a;

      /* coremltools' exception to numpy: float with a signed int is the float */
      if (ane_mil_text_dtype_is_signed (i))
        return f;
      /* numpy: the smallest float holding every value of the unsigned int */
      return float_of_bits (MAX (np_bits (f), 2 * np_bits (i)));
    }
  if (ia && ib)
    {
      gboolean sa = ane_mil_text_dtype_is_signed (a), sb = ane_mil_text_dtype_is_signed (b);
      guint ba = np_bits (a), bb = np_bits (b);

      if (sa == sb)
        return int_of_bits (MAX (ba, bb), sa);
      /* signed with unsigned: a signed type wider than the unsigned one */
      {
        guint need = MAX (sa ? ba : bb, 2 * (sa ? bb : ba));
        return need > 64 ? ANE_MIL_DT_FP64 : int_of_bits (need, TRUE);
      }
    }
  return -1;
}

/* ---------------------------------------------------------------------- */
/* calls                                                                  */
/* ---------------------------------------------------------------------- */

typedef struct {
  char      *name;
  GPtrArray *vals;   /* AneMilVal*; more than one: a tuple */
} Param;

static void
param_free (gpointer data)
{
  Param *p = data;

  g_free (p->name);
  g_ptr_array_unref (p->vals);
  g_free (p);
}

AneMilInferCall *
ane_mil_infer_call_new (const char   *op,
                        const char   *name,
                        AneMilTarget  target,
                        guint         n_declared)
{
  AneMilInferCall *call = g_new0 (AneMilInferCall, 1);

  call->op = g_strdup (op);
  call->name = g_strdup (name != NULL ? name : op);
  call->target = target;
  call->n_declared = n_declared;
  call->params = g_ptr_array_new_with_free_func (param_free);
  call->outputs = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_mil_val_free);
  return call;
}

void
ane_mil_infer_call_free (AneMilInferCall *call)
{
  if (call == NULL)
    return;
  g_free ((char *) call->op);
  g_free ((char *) call->name);
  g_ptr_array_unref (call->params);
  g_ptr_array_unref (call->outputs);
  g_clear_pointer (&call->scratch, g_ptr_array_unref);
  g_free (call);
}

static Param *
find_param (AneMilInferCall *call,
            const char      *param)
{
  for (guint i = 0; i < call->params->len; i++)
    {
      Param *p = g_ptr_array_index (call->params, i);

      if (strcmp (p->name, param) == 0)
        return p;
    }
  return NULL;
}

void
ane_mil_infer_call_bind (AneMilInferCall *call,
                         const char      *param,
                         AneMilVal       *val)
{
  Param *p = find_param (call, param);

  if (p == NULL)
    {
      p = g_new0 (Param, 1);
      p->name = g_strdup (param);
      p->vals = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_mil_val_free);
      g_ptr_array_add (call->params, p);
    }
  g_ptr_array_add (p->vals, val);
}

guint
ane_mil_infer_call_n_outputs (AneMilInferCall *call)
{
  return call->outputs->len;
}

const AneMilVal *
ane_mil_infer_call_output (AneMilInferCall *call,
                           guint            i)
{
  return i < call->outputs->len ? g_ptr_array_index (call->outputs, i) : NULL;
}

const AneMilVal *
ane_mil_infer_arg (AneMilInferCall *call,
                   const char      *param)
{
  return ane_mil_infer_arg_nth (call, param, 0);
}

guint
ane_mil_infer_n_args (AneMilInferCall *call,
                      const char      *param)
{
  Param *p = find_param (call, param);

  return p != NULL ? p->vals->len : 0;
}

const AneMilVal *
ane_mil_infer_arg_nth (AneMilInferCall *call,
                       const char      *param,
                       guint            i)
{
  Param *p = find_param (call, param);

  return p != NULL && i < p->vals->len ? g_ptr_array_index (p->vals, i) : NULL;
}

/* The one value of param: TRUE with the default if param is absent, FALSE
 * if it is given with no known single value. */
static gboolean
scalar_arg (AneMilInferCall *call,
            const char      *param,
            double           default_value,
            double          *value)
{
  const AneMilVal *v = ane_mil_infer_arg (call, param);

  if (v == NULL)
    {
      *value = default_value;
      return TRUE;
    }
  if (v->values == NULL || v->n_values != 1)
    return FALSE;
  *value = v->values[0];
  return TRUE;
}

gboolean
ane_mil_infer_int (AneMilInferCall *call,
                   const char      *param,
                   gint64           default_value,
                   gint64          *value)
{
  double d;

  if (!scalar_arg (call, param, (double) default_value, &d))
    return FALSE;
  *value = (gint64) d;
  return TRUE;
}

gboolean
ane_mil_infer_ints (AneMilInferCall  *call,
                    const char       *param,
                    gint64          **values,
                    gsize            *n)
{
  const AneMilVal *v = ane_mil_infer_arg (call, param);
  gint64 *ints;

  *values = NULL;
  *n = 0;
  if (v == NULL)
    return TRUE;
  if (v->values == NULL)
    return FALSE;
  /* kept with the call's outputs' lifetime: freed with the call */
  ints = g_new (gint64, MAX (v->n_values, 1));
  for (gsize i = 0; i < v->n_values; i++)
    ints[i] = (gint64) v->values[i];
  g_ptr_array_add (call->scratch != NULL ? call->scratch
                                         : (call->scratch = g_ptr_array_new_with_free_func (g_free)), ints);
  *values = ints;
  *n = v->n_values;
  return TRUE;
}

gboolean
ane_mil_infer_bool (AneMilInferCall *call,
                    const char      *param,
                    gboolean         default_value,
                    gboolean        *value)
{
  double d;

  if (!scalar_arg (call, param, default_value ? 1.0 : 0.0, &d))
    return FALSE;
  *value = d != 0.0;
  return TRUE;
}

gboolean
ane_mil_infer_double (AneMilInferCall *call,
                      const char      *param,
                      double           default_value,
                      double          *value)
{
  return scalar_arg (call, param, default_value, value);
}

const char *
ane_mil_infer_string (AneMilInferCall *call,
                      const char      *param,
                      const char      *default_value)
{
  const AneMilVal *v = ane_mil_infer_arg (call, param);

  if (v == NULL)
    return default_value;
  return v->string;
}

AneMilVal *
ane_mil_infer_out (AneMilInferCall *call,
                   int              dtype,
                   const gint64    *shape,
                   guint            rank)
{
  AneMilVal *v = ane_mil_val_new (dtype, shape, rank);

  g_ptr_array_add (call->outputs, v);
  return v;
}

AneMilVal *
ane_mil_infer_out_like (AneMilInferCall *call,
                        const AneMilVal *val,
                        int              dtype)
{
  return ane_mil_infer_out (call, dtype < 0 ? val->dtype : dtype, val->shape, val->rank);
}

static void G_GNUC_PRINTF (3, 0)
set_error_va (GError         **error,
              AneMilInferCall *call,
              const char      *format,
              va_list          args)
{
  g_autofree char *msg = g_strdup_vprintf (format, args);

  g_set_error (error, ANE_ERROR, ANE_ERROR_TYPE_MISMATCH, "MIL %s '%s' at %s: %s",
               call->op, call->name, ane_mil_target_name (call->target), msg);
}

gboolean
ane_mil_infer_fail (AneMilInferCall *call,
                    GError         **error,
                    const char      *format,
                    ...)
{
  va_list args;

  va_start (args, format);
  set_error_va (error, call, format, args);
  va_end (args);
  return FALSE;
}

char *
ane_mil_infer_dims_string (const gint64 *shape,
                           gsize         rank)
{
  GString *s = g_string_new ("[");

  for (gsize i = 0; i < rank; i++)
    {
      if (i)
        g_string_append (s, ", ");
      if (shape[i] < 0)
        g_string_append_c (s, '?');
      else
        g_string_append_printf (s, "%" G_GINT64_FORMAT, shape[i]);
    }
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

gboolean
ane_mil_infer_broadcast (AneMilInferCall *call,
                         const AneMilVal *a,
                         const AneMilVal *b,
                         gint64          *shape,
                         guint           *rank,
                         GError         **error)
{
  guint r = MAX (a->rank, b->rank);

  /* infer_type_with_broadcast: a scalar takes the other side's shape as is */
  if (a->rank == 0 || b->rank == 0)
    {
      const AneMilVal *t = a->rank == 0 ? b : a;

      memcpy (shape, t->shape, t->rank * sizeof (gint64));
      *rank = t->rank;
      return TRUE;
    }
  for (guint i = 0; i < r; i++)
    {
      /* right-aligned; missing leading dimensions are 1 */
      gint64 x = i + a->rank >= r ? a->shape[i + a->rank - r] : 1;
      gint64 y = i + b->rank >= r ? b->shape[i + b->rank - r] : 1;

      if (x == y && x >= 0)
        shape[i] = x;
      else if (x == 1)
        shape[i] = y;
      else if (y == 1)
        shape[i] = x;
      else if (y > 1 || x > 1)
        {
          if (x >= 0 && y >= 0)
            {
              g_autofree char *sa = ane_mil_infer_dims_string (a->shape, a->rank);
              g_autofree char *sb = ane_mil_infer_dims_string (b->shape, b->rank);

              return ane_mil_infer_fail (call, error, "shapes %s and %s do not broadcast "
                                         "(dimension %u)", sa, sb, i);
            }
          shape[i] = y > 1 ? y : x;
        }
      else if (x < 0 || y < 0)
        shape[i] = ANE_MIL_DIM_UNKNOWN;
      else
        {
          g_autofree char *sa = ane_mil_infer_dims_string (a->shape, a->rank);
          g_autofree char *sb = ane_mil_infer_dims_string (b->shape, b->rank);

          return ane_mil_infer_fail (call, error, "shapes %s and %s do not broadcast "
                                     "(dimension %u)", sa, sb, i);
        }
    }
  *rank = r;
  return TRUE;
}

gboolean
ane_mil_infer_axis (AneMilInferCall *call,
                    const char      *param,
                    gint64           axis,
                    guint            rank,
                    guint           *out,
                    GError         **error)
{
  if (axis < -(gint64) rank || axis >= (gint64) rank)
    return ane_mil_infer_fail (call, error, "%s %" G_GINT64_FORMAT " is out of range for rank %u",
                               param, axis, rank);
  *out = (guint) (axis < 0 ? axis + rank : axis);
  return TRUE;
}

/* --- input validation (InputSpec.validate_inputs) ----------------------- */

static const char *
domain_of (const AneMilOpDef    *def,
           const AneMilParamDef *p)
{
  gsize len;

  if (p->types == NULL)
    return NULL;
  len = strlen (p->types);
  for (const char *const *d = def->domains; *d != NULL; d++)
    if (strncmp (*d, p->types, len) == 0 && (*d)[len] == '=')
      return p->types;
  return NULL;
}

static gboolean
validate_inputs (AneMilInferCall  *call,
                 GError          **error)
{
  const AneMilOpDef *def = call->def;

  for (guint i = 0; i < call->params->len; i++)
    {
      Param *p = g_ptr_array_index (call->params, i);
      const AneMilParamDef *pd = ane_mil_opdef_find_param (def, p->name);
      const char *types = ane_mil_opdef_param_dtypes (def, p->name);

      if (pd == NULL)
        continue;   /* "name" (checked with the signature) */
      if (pd->kind != ANE_MIL_PARAM_TUPLE && pd->kind != ANE_MIL_PARAM_ANY && p->vals->len > 1)
        return ane_mil_infer_fail (call, error, "parameter '%s' takes one value, not a tuple of %u",
                                   p->name, p->vals->len);
      for (guint j = 0; j < p->vals->len; j++)
        {
          const AneMilVal *v = g_ptr_array_index (p->vals, j);

          if (pd->kind == ANE_MIL_PARAM_STATE)
            {
              if (v->kind != ANE_MIL_VAL_STATE)
                return ane_mil_infer_fail (call, error, "parameter '%s' takes a state, not a %s",
                                           p->name, v->kind == ANE_MIL_VAL_TENSOR ? "tensor" : "non-tensor value");
              continue;
            }
          /* pymil checks neither an Internal input nor the elements of a
           * tuple (input_type.py, TupleInputType._is_compatible): the
           * table's dtypes for a tuple are the docstring's, which the
           * lowering consults when it picks dtypes (ane_lower_op_takes) */
          if (pd->kind == ANE_MIL_PARAM_ANY || pd->kind == ANE_MIL_PARAM_TUPLE)
            continue;
          if (v->kind == ANE_MIL_VAL_OTHER)
            continue;   /* not modelled: nothing to judge */
          if (v->kind == ANE_MIL_VAL_STATE)
            return ane_mil_infer_fail (call, error, "parameter '%s' takes a tensor, not a state "
                                       "(read it with read_state first)", p->name);
          /* the table writes pymil's "str" for MIL's string dtype */
          if (types != NULL && !ane_mil_dtypes_contain (types, v->dtype == ANE_MIL_DT_STRING ? "str"
                                                                : ane_mil_dt_name (v->dtype)))
            return ane_mil_infer_fail (call, error, "parameter '%s' takes %s, not %s",
                                       p->name, types, ane_mil_dt_name (v->dtype));
          /* InternalInputType (const's val) is exempt from the const check */
          if (pd->const_only && !v->const_descendant && strcmp (def->name, "const") != 0)
            return ane_mil_infer_fail (call, error, "parameter '%s' must be const at compile time",
                                       p->name);
        }
    }

  /* every parameter of one type domain has the same dtype */
  for (guint i = 0; i < call->params->len; i++)
    {
      Param *p = g_ptr_array_index (call->params, i);
      const AneMilParamDef *pd = ane_mil_opdef_find_param (def, p->name);
      const char *dom = pd != NULL && pd->kind == ANE_MIL_PARAM_TENSOR ? domain_of (def, pd) : NULL;
      const AneMilVal *v = p->vals->len > 0 ? g_ptr_array_index (p->vals, 0) : NULL;

      if (dom == NULL || v == NULL || v->kind != ANE_MIL_VAL_TENSOR)
        continue;
      for (guint j = i + 1; j < call->params->len; j++)
        {
          Param *q = g_ptr_array_index (call->params, j);
          const AneMilParamDef *qd = ane_mil_opdef_find_param (def, q->name);
          const AneMilVal *w = q->vals->len > 0 ? g_ptr_array_index (q->vals, 0) : NULL;

          if (qd == NULL || qd->kind != ANE_MIL_PARAM_TENSOR || w == NULL || w->kind != ANE_MIL_VAL_TENSOR ||
              g_strcmp0 (domain_of (def, qd), dom) != 0)
            continue;
          if (w->dtype != v->dtype)
            return ane_mil_infer_fail (call, error, "parameters '%s' (%s) and '%s' (%s) share type "
                                       "domain %s and must have one dtype", p->name,
                                       ane_mil_dt_name (v->dtype), q->name, ane_mil_dt_name (w->dtype), dom);
        }
    }
  return TRUE;
}

gboolean
ane_mil_infer_call_run (AneMilInferCall  *call,
                        GError          **error)
{
  g_autofree const char **names = g_new0 (const char *, call->params->len + 1);
  gboolean const_inputs = TRUE;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < call->params->len; i++)
    {
      Param *p = g_ptr_array_index (call->params, i);

      names[i] = p->name;
      for (guint j = 0; j < p->vals->len; j++)
        if (!((AneMilVal *) g_ptr_array_index (p->vals, j))->const_descendant)
          const_inputs = FALSE;
    }
  if (!ane_mil_opdef_check_call (call->op, call->target, names, call->params->len, error))
    return FALSE;
  call->def = ane_mil_opdef_lookup (call->op, call->target);
  if (call->def->infer == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "MIL %s '%s' at %s: the type-inference "
                   "mirror has no rule for this op", call->op, call->name, ane_mil_target_name (call->target));
      return FALSE;
    }
  if (!validate_inputs (call, error))
    return FALSE;
  g_ptr_array_set_size (call->outputs, 0);
  if (!call->def->infer (call, error))
    return FALSE;
  /* Var._propagate_constness_upstream */
  for (guint i = 0; i < call->outputs->len; i++)
    {
      AneMilVal *out = g_ptr_array_index (call->outputs, i);

      if (g_str_has_prefix (call->op, "constexpr_") || const_inputs || out->values != NULL)
        out->const_descendant = TRUE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* programs                                                               */
/* ---------------------------------------------------------------------- */

struct _AneMilTypeEnv
{
  AneMilTypeEnv *parent;
  GHashTable    *vals;   /* name -> AneMilVal* */
};

AneMilTypeEnv *
ane_mil_type_env_new (AneMilTypeEnv *parent)
{
  AneMilTypeEnv *env = g_new0 (AneMilTypeEnv, 1);

  env->parent = parent;
  env->vals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) ane_mil_val_free);
  return env;
}

void
ane_mil_type_env_free (AneMilTypeEnv *env)
{
  if (env == NULL)
    return;
  g_hash_table_unref (env->vals);
  g_free (env);
}

void
ane_mil_type_env_add (AneMilTypeEnv *env,
                      const char    *name,
                      AneMilVal     *val)
{
  g_hash_table_replace (env->vals, g_strdup (name), val);
}

const AneMilVal *
ane_mil_type_env_lookup (AneMilTypeEnv *env,
                         const char    *name)
{
  for (; env != NULL; env = env->parent)
    {
      const AneMilVal *v = g_hash_table_lookup (env->vals, name);

      if (v != NULL)
        return v;
    }
  return NULL;
}

static const char *
op_name (const AneMilOperation *op)
{
  for (gsize i = 0; i < op->n_attributes; i++)
    {
      const AneMilValue *v = op->attributes[i] != NULL ? op->attributes[i]->value : NULL;

      if (op->attributes[i] != NULL && g_strcmp0 (op->attributes[i]->key, "name") == 0 &&
          v != NULL && v->value_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE &&
          v->immediatevalue != NULL && v->immediatevalue->tensor != NULL &&
          v->immediatevalue->tensor->value_case == CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS &&
          v->immediatevalue->tensor->strings->n_values == 1)
        return v->immediatevalue->tensor->strings->values[0];
    }
  if (op->n_outputs > 0 && op->outputs[0] != NULL && op->outputs[0]->name != NULL)
    return op->outputs[0]->name;
  return "(unnamed)";
}

/* Adds the declared outputs (what later ops see when this one is wrong or
 * not judged). */
static void
add_declared (AneMilTypeEnv         *env,
              const AneMilOperation *op,
              gboolean               const_descendant)
{
  for (gsize i = 0; i < op->n_outputs; i++)
    {
      AneMilVal *v;

      if (op->outputs[i] == NULL || op->outputs[i]->name == NULL)
        continue;
      v = ane_mil_val_from_value_type (op->outputs[i]->type);
      v->const_descendant = const_descendant;
      ane_mil_type_env_add (env, op->outputs[i]->name, v);
    }
}


gboolean
ane_mil_op_is_const_like (const char *type)
{
  return strcmp (type, "const") == 0 || g_str_has_prefix (type, "constexpr_");
}

/* The op's inputs (and a const-like op's attributes) bound on call. */
static gboolean
bind_op (AneMilTypeEnv         *env,
         AneMilInferCall       *call,
         const AneMilOperation *op,
         GError               **error)
{
  for (gsize i = 0; i < op->n_attributes; i++)
    {
      const CoreML__Specification__MILSpec__Operation__AttributesEntry *a = op->attributes[i];
      g_autofree char *what = NULL;
      AneMilVal *v;

      if (a == NULL || a->key == NULL || strcmp (a->key, "name") == 0)
        continue;
      if (!ane_mil_op_is_const_like (op->type))
        return ane_mil_infer_fail (call, error, "has attribute '%s'; Apple's loader takes only "
                                   "\"name\" as an attribute of a %s op", a->key, op->type);
      what = g_strdup_printf ("MIL %s '%s': attribute '%s'", op->type, call->name, a->key);
      v = ane_mil_val_from_value (a->value, what, error);
      if (v == NULL)
        return FALSE;
      ane_mil_infer_call_bind (call, a->key, v);
    }
  for (gsize i = 0; i < op->n_inputs; i++)
    {
      const CoreML__Specification__MILSpec__Operation__InputsEntry *e = op->inputs[i];

      if (e == NULL || e->key == NULL || e->value == NULL)
        return ane_mil_infer_fail (call, error, "has an input entry without a name or an argument");
      for (gsize j = 0; j < e->value->n_arguments; j++)
        {
          const AneMilBinding *bnd = e->value->arguments[j];
          AneMilVal *v = NULL;

          if (bnd != NULL && bnd->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME &&
              bnd->name != NULL)
            {
              const AneMilVal *found = ane_mil_type_env_lookup (env, bnd->name);

              if (found == NULL)
                {
                  g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "MIL %s '%s': input '%s' "
                               "names '%s', which no earlier op or function input defines",
                               op->type, call->name, e->key, bnd->name);
                  return FALSE;
                }
              v = ane_mil_val_copy (found);
            }
          else if (bnd != NULL && bnd->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_VALUE)
            {
              g_autofree char *what = g_strdup_printf ("MIL %s '%s': input '%s'", op->type, call->name, e->key);

              v = ane_mil_val_from_value (bnd->value, what, error);
              if (v == NULL)
                return FALSE;
            }
          else
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "MIL %s '%s': input '%s' has "
                           "a binding with neither a name nor a value", op->type, call->name, e->key);
              return FALSE;
            }
          ane_mil_infer_call_bind (call, e->key, v);
        }
    }
  return TRUE;
}


static gboolean
compare_outputs (AneMilInferCall       *call,
                 const AneMilOperation *op,
                 GError               **error)
{
  guint n = ane_mil_infer_call_n_outputs (call);

  if (n != op->n_outputs)
    return ane_mil_infer_fail (call, error, "declares %" G_GSIZE_FORMAT " outputs, but coremltools "
                               "infers %u", op->n_outputs, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(AneMilVal) declared = NULL;
      const AneMilVal *inferred = ane_mil_infer_call_output (call, i);

      /* what ct.convert then refuses of every program (mil/program.py,
       * _check_invalid_tensor_rank), consts and constexpr results aside */
      if (inferred->kind == ANE_MIL_VAL_TENSOR && inferred->rank > ANE_MIL_MAX_RANK &&
          !ane_mil_op_is_const_like (call->op))
        return ane_mil_infer_fail (call, error, "output '%s' has rank %u: Core ML tensors have rank %d "
                                   "at most", op->outputs[i] != NULL && op->outputs[i]->name != NULL
                                              ? op->outputs[i]->name : "",
                                   inferred->rank, ANE_MIL_MAX_RANK);

      if (op->outputs[i] == NULL || op->outputs[i]->type == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "MIL %s '%s': output %u has no type",
                       op->type, call->name, i);
          return FALSE;
        }
      declared = ane_mil_val_from_value_type (op->outputs[i]->type);
      if (!ane_mil_val_type_compatible (declared, inferred))
        {
          g_autofree char *d = ane_mil_val_type_string (declared);
          g_autofree char *f = ane_mil_val_type_string (inferred);

          return ane_mil_infer_fail (call, error, "output '%s' is declared %s, but coremltools %s "
                                     "infers %s (%s)", op->outputs[i]->name ? op->outputs[i]->name : "",
                                     d, ANE_MIL_INFER_COREMLTOOLS_VERSION, f,
                                     call->def != NULL ? call->def->source : "no source");
        }
    }
  return TRUE;
}

AneMilInferCall *
ane_mil_infer_call_new_for_op (AneMilTypeEnv          *env,
                               AneMilTarget            target,
                               const AneMilOperation  *op,
                               GError                **error)
{
  g_autoptr(AneMilInferCall) call = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (op == NULL || op->type == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "a MIL operation without a type");
      return NULL;
    }
  call = ane_mil_infer_call_new (op->type, op_name (op), target, (guint) op->n_outputs);
  /* a const's value is an attribute, which bind_op binds for const-like ops */
  if (!bind_op (env, call, op, error))
    return NULL;
  return g_steal_pointer (&call);
}

const char *
ane_mil_op_name (const AneMilOperation *op)
{
  return op_name (op);
}

gboolean
ane_mil_infer_check_op (AneMilTypeEnv          *env,
                        AneMilTarget            target,
                        const AneMilOperation  *op,
                        GError                **error)
{
  g_autoptr(AneMilInferCall) call = NULL;
  const char *name;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (op == NULL || op->type == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "a MIL operation without a type");
      return FALSE;
    }
  name = op_name (op);
  call = ane_mil_infer_call_new (op->type, name, target, (guint) op->n_outputs);

  if (strcmp (op->type, "const") == 0)
    {
      const AneMilValue *val = NULL;
      g_autofree char *what = g_strdup_printf ("MIL const '%s'", name);
      AneMilVal *v;

      for (gsize i = 0; i < op->n_attributes; i++)
        if (op->attributes[i] != NULL && g_strcmp0 (op->attributes[i]->key, "val") == 0)
          val = op->attributes[i]->value;
      if (op->n_inputs > 0 || val == NULL || op->n_outputs != 1 || op->outputs[0] == NULL ||
          op->outputs[0]->name == NULL)
        {
          add_declared (env, op, TRUE);
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "%s: a const op takes no inputs, "
                       "has a \"val\" attribute and one named output", what);
          return FALSE;
        }
      v = ane_mil_val_from_value (val, what, error);
      if (v == NULL)
        {
          add_declared (env, op, TRUE);
          return FALSE;
        }
      ane_mil_infer_call_bind (call, "val", v);
      if (!ane_mil_infer_call_run (call, error) || !compare_outputs (call, op, error))
        {
          add_declared (env, op, TRUE);
          return FALSE;
        }
      /* later ops see the value's type, as pymil's const var has it */
      ane_mil_type_env_add (env, op->outputs[0]->name, ane_mil_val_copy (ane_mil_infer_call_output (call, 0)));
      return TRUE;
    }

  if (!bind_op (env, call, op, error))
    {
      add_declared (env, op, ane_mil_op_is_const_like (op->type));
      return FALSE;
    }

  if (op->n_blocks > 0)
    {
      /* cond / while_loop: the signature only (their outputs come from
       * nested blocks, which the mirror does not walk here) */
      g_autofree const char **names = g_new0 (const char *, call->params->len + 1);

      for (guint i = 0; i < call->params->len; i++)
        names[i] = ((Param *) g_ptr_array_index (call->params, i))->name;
      add_declared (env, op, FALSE);
      return ane_mil_opdef_check_call (op->type, target, names, call->params->len, error);
    }

  if (!ane_mil_infer_call_run (call, error) || !compare_outputs (call, op, error))
    {
      add_declared (env, op, ane_mil_op_is_const_like (op->type));
      return FALSE;
    }
  for (guint i = 0; i < call->outputs->len; i++)
    if (op->outputs[i]->name != NULL)
      ane_mil_type_env_add (env, op->outputs[i]->name,
                            ane_mil_val_copy (g_ptr_array_index (call->outputs, i)));
  return TRUE;
}

static void
check_block (const AneMilBlock *block,
             AneMilTypeEnv     *env,
             AneMilTarget       target,
             const char        *where,
             GPtrArray         *problems,
             GHashTable        *unchecked,
             guint             *n_problems)
{
  for (gsize i = 0; i < block->n_operations; i++)
    {
      const AneMilOperation *op = block->operations[i];
      g_autoptr(GError) error = NULL;

      if (op == NULL)
        continue;
      if (op->type != NULL && !ane_mil_op_is_const_like (op->type) && strcmp (op->type, "write_state") != 0 &&
          ane_mil_opdef_lookup (op->type, target) == NULL && ane_mil_opdef_first_target (op->type, NULL) == FALSE)
        {
          /* an op the table does not know: count it, keep its declared types */
          if (unchecked != NULL)
            {
              gpointer n = g_hash_table_lookup (unchecked, op->type);
              g_hash_table_replace (unchecked, g_strdup (op->type), GUINT_TO_POINTER (GPOINTER_TO_UINT (n) + 1));
            }
          add_declared (env, op, FALSE);
          continue;
        }
      if (!ane_mil_infer_check_op (env, target, op, &error))
        {
          (*n_problems)++;
          if (problems != NULL)
            g_ptr_array_add (problems, g_strdup_printf ("%s: %s", where, error->message));
        }
      for (gsize j = 0; j < op->n_blocks; j++)
        {
          const AneMilBlock *nested = op->blocks[j];
          g_autoptr(AneMilTypeEnv) inner = NULL;
          g_autofree char *nested_where = NULL;

          if (nested == NULL)
            continue;
          inner = ane_mil_type_env_new (env);
          for (gsize k = 0; k < nested->n_inputs; k++)
            if (nested->inputs[k] != NULL && nested->inputs[k]->name != NULL)
              ane_mil_type_env_add (inner, nested->inputs[k]->name,
                                    ane_mil_val_from_value_type (nested->inputs[k]->type));
          nested_where = g_strdup_printf ("%s, block %" G_GSIZE_FORMAT " of %s '%s'", where, j, op->type, op_name (op));
          check_block (nested, inner, target, nested_where, problems, unchecked, n_problems);
        }
    }
}

guint
ane_mil_infer_check_program (const AneMilProgram *program,
                             GPtrArray           *problems,
                             GHashTable          *unchecked)
{
  guint n_problems = 0;

  for (gsize i = 0; program != NULL && i < program->n_functions; i++)
    {
      const CoreML__Specification__MILSpec__Program__FunctionsEntry *e = program->functions[i];
      const AneMilFunction *fn = e != NULL ? e->value : NULL;
      g_autoptr(AneMilTypeEnv) env = NULL;
      g_autofree char *where = NULL;
      AneMilTarget target;

      if (fn == NULL)
        continue;
      where = g_strdup_printf ("function %s", e->key ? e->key : "(unnamed)");
      if (!ane_mil_target_from_string (fn->opset, &target))
        {
          n_problems++;
          if (problems != NULL)
            g_ptr_array_add (problems, g_strdup_printf ("%s: opset '%s' is not one the mirror knows "
                                                        "(CoreML5..CoreML8)", where, fn->opset ? fn->opset : ""));
          continue;
        }
      env = ane_mil_type_env_new (NULL);
      for (gsize k = 0; k < fn->n_inputs; k++)
        if (fn->inputs[k] != NULL && fn->inputs[k]->name != NULL)
          ane_mil_type_env_add (env, fn->inputs[k]->name, ane_mil_val_from_value_type (fn->inputs[k]->type));
      for (gsize k = 0; k < fn->n_block_specializations; k++)
        {
          const CoreML__Specification__MILSpec__Function__BlockSpecializationsEntry *b = fn->block_specializations[k];
          g_autoptr(AneMilTypeEnv) block_env = NULL;

          if (b == NULL || b->value == NULL || g_strcmp0 (b->key, fn->opset) != 0)
            continue;
          block_env = ane_mil_type_env_new (env);
          check_block (b->value, block_env, target, where, problems, unchecked, &n_problems);
        }
    }
  return n_problems;
}
