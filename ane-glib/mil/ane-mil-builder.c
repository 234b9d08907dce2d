/* mil/ane-mil-builder.c: build MIL programs (protobuf-c) so lowering reads like MIL
 *
 * The message layout follows coremltools' serializer
 * (coremltools/converters/mil/backend/mil/load.py and helper.py): every
 * operation carries a "name" attribute; const ops carry their value in the
 * "val" attribute; parameters are bound by name through Argument.Binding;
 * fp16, bf16 and 8-bit immediate tensors are stored as raw little-endian
 * bytes, fp32 as floats, int16 and int32 as ints, int64 as longInts, bool as
 * bools (coremltools backend/mil/helper.py, create_tensor_value).
 *
 * Everything is allocated with g_malloc (malloc), so a finished program is
 * freed by protobuf_c_message_free_unpacked (program, NULL).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-graph-private.h"
#include "ane-tensor-private.h"
#include "mil/ane-mil-builder-private.h"
#include "mil/ane-mil-infer-private.h"
#include "mil/ane-mil-dtype-private.h"
#include "mil/lower/ane-lower-private.h"   /* ane_lower_split_q4_K */

#define BLOB_FILE_NAME "@model_path/weights/weight.bin"

typedef struct {
  char       *name;
  GPtrArray  *inputs;     /* AneMilNamedValueType* */
  GPtrArray  *ops;        /* AneMilOperation* */
  GPtrArray  *outputs;    /* char* */
} FunctionState;

struct _AneMilBuilder
{
  AneMilTarget  target;
  GPtrArray    *functions;   /* FunctionState* */
  FunctionState *current;
  GHashTable   *names;       /* used identifiers of the current function -> AneSpec* */
  GHashTable   *reserved;    /* interface names set aside until claimed */
  AneMilTypeEnv *env;        /* the current function's values as Apple's loader types them */
  GPtrArray    *blobs;       /* AneMilPendingBlob* */
  guint64       blob_end;    /* where the next blob record goes (64-byte aligned) */
  guint64       weight_end;  /* the file size: Apple does not pad after the last blob */
  GError       *error;
  GStringChunk *strings;
  GPtrArray    *weight_notes;  /* char* */
};

struct _AneMilOpCall
{
  AneMilBuilder   *b;
  AneMilOperation *op;
  char            *hint;
  GPtrArray       *inputs;    /* InputsEntry* */
  GPtrArray       *outputs;   /* NamedValueType* */
};

/* --- dtypes ------------------------------------------------------------- */

int
ane_mil_dtype_from_ane (AneDType dtype)
{
  switch (dtype)
    {
    case ANE_DTYPE_FLOAT32:  return CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32;
    case ANE_DTYPE_FLOAT16:  return CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16;
    case ANE_DTYPE_BFLOAT16: return CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BFLOAT16;
    case ANE_DTYPE_INT8:     return CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT8;
    case ANE_DTYPE_UINT8:    return CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT8;
    case ANE_DTYPE_INT16:    return CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT16;
    case ANE_DTYPE_INT32:    return CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT32;
    case ANE_DTYPE_INT64:    return CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT64;
    case ANE_DTYPE_BOOL:     return CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BOOL;
    default:                 return CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UNUSED_TYPE;
    }
}

/* The type names of MIL text and coremltools ("fp16", "int32", ...). */
const char *
ane_mil_dtype_name (AneDType dtype)
{
  switch (dtype)
    {
    case ANE_DTYPE_FLOAT32:  return "fp32";
    case ANE_DTYPE_FLOAT16:  return "fp16";
    case ANE_DTYPE_BFLOAT16: return "bf16";
    case ANE_DTYPE_INT8:     return "int8";
    case ANE_DTYPE_UINT8:    return "uint8";
    case ANE_DTYPE_INT16:    return "int16";
    case ANE_DTYPE_INT32:    return "int32";
    case ANE_DTYPE_INT64:    return "int64";
    case ANE_DTYPE_BOOL:     return "bool";
    default:                 return NULL;
    }
}

static AneMilBlobDataType
blob_type_for (AneDType dtype)
{
  switch (dtype)
    {
    case ANE_DTYPE_FLOAT32:  return ANE_MILBLOB_FLOAT32;
    case ANE_DTYPE_FLOAT16:  return ANE_MILBLOB_FLOAT16;
    case ANE_DTYPE_BFLOAT16: return ANE_MILBLOB_BFLOAT16;
    case ANE_DTYPE_INT8:     return ANE_MILBLOB_INT8;
    case ANE_DTYPE_UINT8:    return ANE_MILBLOB_UINT8;
    case ANE_DTYPE_INT16:    return ANE_MILBLOB_INT16;
    case ANE_DTYPE_INT32:    return ANE_MILBLOB_INT32;
    default:                 return 0;
    }
}

/* --- life cycle --------------------------------------------------------- */

static void
function_state_free (gpointer data)
{
  FunctionState *f = data;

  g_free (f->name);
  g_ptr_array_unref (f->inputs);
  g_ptr_array_unref (f->ops);
  g_ptr_array_unref (f->outputs);
  g_free (f);
}

static void
free_message (gpointer msg)
{
  protobuf_c_message_free_unpacked (msg, NULL);
}

AneMilBuilder *
ane_mil_builder_new (AneMilTarget target)
{
  AneMilBuilder *b = g_new0 (AneMilBuilder, 1);

  b->target = target;
  b->functions = g_ptr_array_new_with_free_func (function_state_free);
  b->blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_mil_pending_blob_free);
  b->blob_end = ANE_MILBLOB_HEADER_SIZE;
  b->strings = g_string_chunk_new (4096);
  b->weight_notes = g_ptr_array_new_with_free_func (g_free);
  return b;
}

void
ane_mil_builder_free (AneMilBuilder *b)
{
  if (b == NULL)
    return;
  g_ptr_array_unref (b->functions);
  g_clear_pointer (&b->names, g_hash_table_unref);
  g_clear_pointer (&b->reserved, g_hash_table_unref);
  g_clear_pointer (&b->env, ane_mil_type_env_free);
  g_ptr_array_unref (b->blobs);
  g_clear_error (&b->error);
  g_string_chunk_free (b->strings);
  g_ptr_array_unref (b->weight_notes);
  g_free (b);
}

void
ane_mil_pending_blob_free (AneMilPendingBlob *blob)
{
  if (blob == NULL)
    return;
  g_free (blob->param);
  g_clear_pointer (&blob->data, g_bytes_unref);
  g_free (blob);
}

AneMilTarget
ane_mil_builder_get_target (AneMilBuilder *b)
{
  return b->target;
}

gboolean
ane_mil_builder_has_error (AneMilBuilder *b)
{
  return b->error != NULL;
}

void
ane_mil_builder_set_error (AneMilBuilder *b,
                           GError        *error)
{
  if (b->error == NULL)
    b->error = error;
  else
    g_error_free (error);
}

gboolean
ane_mil_builder_propagate_error (AneMilBuilder  *b,
                                 GError        **error)
{
  if (b->error == NULL)
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&b->error));
  return FALSE;
}

void
ane_mil_builder_begin_function (AneMilBuilder *b,
                                const char    *name)
{
  FunctionState *f = g_new0 (FunctionState, 1);

  f->name = g_strdup (name);
  f->inputs = g_ptr_array_new_with_free_func (free_message);
  f->ops = g_ptr_array_new_with_free_func (free_message);
  f->outputs = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (b->functions, f);
  b->current = f;
  g_clear_pointer (&b->names, g_hash_table_unref);
  g_clear_pointer (&b->reserved, g_hash_table_unref);
  b->names = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  b->reserved = g_hash_table_new (g_str_hash, g_str_equal);
  g_clear_pointer (&b->env, ane_mil_type_env_free);
  b->env = ane_mil_type_env_new (NULL);
}

/* Every op goes into the function through here: Apple's loader contract is
 * checked on the message as it will be written (ane-mil-infer-private.h:
 * the signature, the inputs the op accepts, and the declared output types
 * against the ones coremltools infers), so no lowering can emit a program
 * Apple's tools would refuse. The op is kept only if it passes. */
static const char *
first_binding (const AneMilOperation *op,
               const char            *param)
{
  for (gsize i = 0; i < op->n_inputs; i++)
    if (g_strcmp0 (op->inputs[i]->key, param) == 0 && op->inputs[i]->value->n_arguments > 0 &&
        op->inputs[i]->value->arguments[0]->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME)
      return op->inputs[i]->value->arguments[0]->name;
  return NULL;
}

static gboolean
op_reads (const AneMilOperation *op,
          const char            *value)
{
  for (gsize i = 0; i < op->n_inputs; i++)
    for (gsize j = 0; j < op->inputs[i]->value->n_arguments; j++)
      if (g_strcmp0 (op->inputs[i]->value->arguments[j]->name, value) == 0)
        return TRUE;
  return FALSE;
}

/* Where a write_state goes: right after the op that makes its data.
 * coremltools' canonicalize_inplace_pattern pass (mil/passes/defs/
 * optimize_state.py, run by ct.convert and ct.optimize) inserts each state
 * update before the op that follows the data's producer in the original op
 * list, and fails with a KeyError when that op is another update it has
 * already moved: two producers followed by their two writes break it. The
 * write moves up only when nothing after the producer uses the state, so
 * what the program computes does not change. */
static guint
write_state_position (AneMilBuilder         *b,
                      const AneMilOperation *op)
{
  GPtrArray *ops = b->current->ops;
  const char *state = first_binding (op, "input"), *data = first_binding (op, "data");
  guint producer = ops->len;

  if (state == NULL || data == NULL)
    return ops->len;
  for (guint i = ops->len; i-- > 0 && producer == ops->len;)
    {
      const AneMilOperation *o = g_ptr_array_index (ops, i);

      for (gsize k = 0; k < o->n_outputs; k++)
        if (g_strcmp0 (o->outputs[k]->name, data) == 0)
          producer = i;
    }
  if (producer == ops->len)
    return ops->len;   /* a function input: no pattern to match */
  for (guint i = producer + 1; i < ops->len; i++)
    {
      const AneMilOperation *o = g_ptr_array_index (ops, i);

      /* the state used after the producer, or the data already written
       * right after it (a second write there would meet the same failure) */
      if (op_reads (o, state) || (i == producer + 1 && g_strcmp0 (o->type, "write_state") == 0))
        return ops->len;
    }
  return producer + 1;
}

static void
append_op (AneMilBuilder   *b,
           AneMilOperation *op)
{
  GError *error = NULL;

  if (b->error == NULL && !ane_mil_infer_check_op (b->env, b->target, op, &error))
    ane_mil_builder_set_error (b, error);
  if (b->error != NULL)
    free_message (op);
  else if (g_strcmp0 (op->type, "write_state") == 0)
    g_ptr_array_insert (b->current->ops, (gint) write_state_position (b, op), op);
  else
    g_ptr_array_add (b->current->ops, op);
}

/* --- names -------------------------------------------------------------- */

static gboolean
is_ident_char (char c, gboolean first)
{
  return g_ascii_isalpha (c) || c == '_' || (!first && g_ascii_isdigit (c));
}

gboolean
ane_mil_name_is_reserved (const char *name)
{
  /* coremltools 9.0, NameSanitizer.sanitize_name's reserved_names */
  static const char *const reserved[] = {
    "any", "bool", "program", "func", "tensor", "list", "dict", "tuple", "true", "false",
    "string", "bf16", "fp16", "fp32", "fp64", "int8", "int16", "int32", "int64", "uint8",
    "uint16", "uint32", "uint64", "state",
  };

  for (guint i = 0; i < G_N_ELEMENTS (reserved); i++)
    if (g_strcmp0 (name, reserved[i]) == 0)
      return TRUE;
  return FALSE;
}

const char *
ane_mil_builder_unique_name (AneMilBuilder *b,
                             const char    *hint)
{
  g_autoptr(GString) base = g_string_new (NULL);
  g_autofree char *candidate = NULL;

  g_assert (b->current != NULL);
  /* any other character becomes '_'; a leading digit is kept after one */
  for (const char *p = hint && *hint ? hint : "v"; *p; p++)
    {
      if (base->len == 0 && g_ascii_isdigit (*p))
        g_string_append_c (base, '_');
      g_string_append_c (base, is_ident_char (*p, base->len == 0) ? *p : '_');
    }
  candidate = g_strdup (base->str);
  for (guint n = 1; g_hash_table_contains (b->names, candidate) ||
                    g_hash_table_contains (b->reserved, candidate) ||
                    ane_mil_name_is_reserved (candidate); n++)
    {
      g_free (candidate);
      candidate = g_strdup_printf ("%s_%u", base->str, n);
    }
  /* Reserve the name; its spec is filled when the value is declared. */
  {
    const char *interned = g_string_chunk_insert_const (b->strings, candidate);
    g_hash_table_insert (b->names, (gpointer) interned, NULL);
    return interned;
  }
}

gboolean
ane_mil_builder_reserve_name (AneMilBuilder *b,
                              const char    *name)
{
  if (g_hash_table_contains (b->names, name) || g_hash_table_contains (b->reserved, name))
    return FALSE;
  g_hash_table_add (b->reserved, (gpointer) g_string_chunk_insert_const (b->strings, name));
  return TRUE;
}

/* A reserved interface name is handed out exactly once, as it is; anything
 * else gets a fresh derived name. */
static const char *
claim_name (AneMilBuilder *b,
            const char    *name)
{
  gpointer key;

  if (g_hash_table_steal_extended (b->reserved, name, &key, NULL))
    {
      g_hash_table_insert (b->names, key, NULL);
      return key;
    }
  return ane_mil_builder_unique_name (b, name);
}

static void
record_spec (AneMilBuilder *b,
             const char    *name,
             AneDType       dtype,
             const gint64  *shape,
             guint          rank)
{
  AneSpec *spec = g_new0 (AneSpec, 1);

  spec->dtype = dtype;
  ane_spec_set_shape (spec, shape, rank);
  g_hash_table_insert (b->names, (gpointer) name, spec);
}

gboolean
ane_mil_builder_lookup (AneMilBuilder *b,
                        const char    *value,
                        AneSpec       *spec)
{
  AneSpec *s = b->names ? g_hash_table_lookup (b->names, value) : NULL;

  if (s == NULL)
    return FALSE;
  *spec = *s;
  return TRUE;
}

/* --- protobuf pieces ---------------------------------------------------- */

static AneMilValueType *
tensor_value_type (AneDType      dtype,
                   const gint64 *shape,
                   guint         rank)
{
  AneMilValueType *vt = g_new (AneMilValueType, 1);
  CoreML__Specification__MILSpec__TensorType *tt = g_new (CoreML__Specification__MILSpec__TensorType, 1);

  core_ml__specification__milspec__value_type__init (vt);
  core_ml__specification__milspec__tensor_type__init (tt);
  tt->datatype = ane_mil_dtype_from_ane (dtype);
  tt->rank = rank;
  tt->n_dimensions = rank;
  tt->dimensions = g_new (CoreML__Specification__MILSpec__Dimension *, MAX (rank, 1));
  for (guint i = 0; i < rank; i++)
    {
      CoreML__Specification__MILSpec__Dimension *d = g_new (CoreML__Specification__MILSpec__Dimension, 1);
      CoreML__Specification__MILSpec__Dimension__ConstantDimension *c =
        g_new (CoreML__Specification__MILSpec__Dimension__ConstantDimension, 1);

      core_ml__specification__milspec__dimension__init (d);
      core_ml__specification__milspec__dimension__constant_dimension__init (c);
      c->size = (guint64) shape[i];
      d->dimension_case = CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT;
      d->constant = c;
      tt->dimensions[i] = d;
    }
  vt->type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE;
  vt->tensortype = tt;
  return vt;
}

static AneMilNamedValueType *
named_value_type (const char      *name,
                  AneMilValueType *type)
{
  AneMilNamedValueType *nvt = g_new (AneMilNamedValueType, 1);

  core_ml__specification__milspec__named_value_type__init (nvt);
  nvt->name = g_strdup (name);
  nvt->type = type;
  return nvt;
}

static CoreML__Specification__MILSpec__Value *
value_new (AneMilValueType *type)
{
  CoreML__Specification__MILSpec__Value *v = g_new (CoreML__Specification__MILSpec__Value, 1);

  core_ml__specification__milspec__value__init (v);
  v->type = type;
  return v;
}

static CoreML__Specification__MILSpec__TensorValue *
immediate_tensor (CoreML__Specification__MILSpec__Value *v)
{
  CoreML__Specification__MILSpec__Value__ImmediateValue *iv =
    g_new (CoreML__Specification__MILSpec__Value__ImmediateValue, 1);
  CoreML__Specification__MILSpec__TensorValue *tv = g_new (CoreML__Specification__MILSpec__TensorValue, 1);

  core_ml__specification__milspec__value__immediate_value__init (iv);
  core_ml__specification__milspec__tensor_value__init (tv);
  iv->value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR;
  iv->tensor = tv;
  v->value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE;
  v->immediatevalue = iv;
  return tv;
}

/* An immediate tensor value holding n elements given as doubles, encoded as
 * coremltools does for the dtype. */
static CoreML__Specification__MILSpec__Value *
immediate_value (AneDType      dtype,
                 const gint64 *shape,
                 guint         rank,
                 const double *values,
                 gsize         n)
{
  CoreML__Specification__MILSpec__Value *v = value_new (tensor_value_type (dtype, shape, rank));
  CoreML__Specification__MILSpec__TensorValue *tv = immediate_tensor (v);

  switch (dtype)
    {
    case ANE_DTYPE_FLOAT32:
      {
        CoreML__Specification__MILSpec__TensorValue__RepeatedFloats *r =
          g_new (CoreML__Specification__MILSpec__TensorValue__RepeatedFloats, 1);
        core_ml__specification__milspec__tensor_value__repeated_floats__init (r);
        r->n_values = n;
        r->values = g_new (float, MAX (n, 1));
        for (gsize i = 0; i < n; i++)
          r->values[i] = (float) values[i];
        tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_FLOATS;
        tv->floats = r;
      }
      break;
    case ANE_DTYPE_INT16:   /* coremltools keeps int16 (and uint16) in ints, not bytes */
    case ANE_DTYPE_INT32:
      {
        CoreML__Specification__MILSpec__TensorValue__RepeatedInts *r =
          g_new (CoreML__Specification__MILSpec__TensorValue__RepeatedInts, 1);
        core_ml__specification__milspec__tensor_value__repeated_ints__init (r);
        r->n_values = n;
        r->values = g_new (gint32, MAX (n, 1));
        for (gsize i = 0; i < n; i++)
          r->values[i] = (gint32) ane_dtype_round (dtype, values[i]);
        tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS;
        tv->ints = r;
      }
      break;
    case ANE_DTYPE_INT64:
      {
        CoreML__Specification__MILSpec__TensorValue__RepeatedLongInts *r =
          g_new (CoreML__Specification__MILSpec__TensorValue__RepeatedLongInts, 1);
        core_ml__specification__milspec__tensor_value__repeated_long_ints__init (r);
        r->n_values = n;
        r->values = g_new (gint64, MAX (n, 1));
        for (gsize i = 0; i < n; i++)
          r->values[i] = (gint64) ane_dtype_round (ANE_DTYPE_INT64, values[i]);
        tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS;
        tv->longints = r;
      }
      break;
    case ANE_DTYPE_BOOL:
      {
        CoreML__Specification__MILSpec__TensorValue__RepeatedBools *r =
          g_new (CoreML__Specification__MILSpec__TensorValue__RepeatedBools, 1);
        core_ml__specification__milspec__tensor_value__repeated_bools__init (r);
        r->n_values = n;
        r->values = g_new (protobuf_c_boolean, MAX (n, 1));
        for (gsize i = 0; i < n; i++)
          r->values[i] = values[i] != 0.0;
        tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BOOLS;
        tv->bools = r;
      }
      break;
    default:
      {
        /* fp16, bf16 and the 8-bit integers: raw little-endian bytes. */
        CoreML__Specification__MILSpec__TensorValue__RepeatedBytes *r =
          g_new (CoreML__Specification__MILSpec__TensorValue__RepeatedBytes, 1);
        gsize size = ane_dtype_size (dtype) * n;

        core_ml__specification__milspec__tensor_value__repeated_bytes__init (r);
        r->values.len = size;
        r->values.data = g_malloc (MAX (size, 1));
        ane_dtype_encode (dtype, values, n, r->values.data);
        tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES;
        tv->bytes = r;
      }
      break;
    }
  return v;
}

static CoreML__Specification__MILSpec__Value *
string_value (const char *s)
{
  CoreML__Specification__MILSpec__Value *v = value_new (NULL);
  CoreML__Specification__MILSpec__TensorValue *tv;
  CoreML__Specification__MILSpec__TensorValue__RepeatedStrings *r =
    g_new (CoreML__Specification__MILSpec__TensorValue__RepeatedStrings, 1);
  AneMilValueType *vt = tensor_value_type (ANE_DTYPE_FLOAT32, NULL, 0);

  vt->tensortype->datatype = CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING;
  v->type = vt;
  tv = immediate_tensor (v);
  core_ml__specification__milspec__tensor_value__repeated_strings__init (r);
  r->n_values = 1;
  r->values = g_new (char *, 1);
  r->values[0] = g_strdup (s);
  tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS;
  tv->strings = r;
  return v;
}

static CoreML__Specification__MILSpec__Operation__AttributesEntry *
attribute (const char                            *key,
           CoreML__Specification__MILSpec__Value *value)
{
  CoreML__Specification__MILSpec__Operation__AttributesEntry *e =
    g_new (CoreML__Specification__MILSpec__Operation__AttributesEntry, 1);

  core_ml__specification__milspec__operation__attributes_entry__init (e);
  e->key = g_strdup (key);
  e->value = value;
  return e;
}

/* --- function inputs and outputs ---------------------------------------- */

const char *
ane_mil_builder_add_input (AneMilBuilder *b,
                           const char    *name,
                           AneDType       dtype,
                           const gint64  *shape,
                           guint          rank)
{
  const char *id = claim_name (b, name);

  if (b->error)
    return id;
  g_ptr_array_add (b->current->inputs, named_value_type (id, tensor_value_type (dtype, shape, rank)));
  record_spec (b, id, dtype, shape, rank);
  ane_mil_type_env_add (b->env, id, ane_mil_val_new (ane_mil_dtype_from_ane (dtype), shape, rank));
  return id;
}

const char *
ane_mil_builder_add_state_input (AneMilBuilder *b,
                                 const char    *name,
                                 AneDType       dtype,
                                 const gint64  *shape,
                                 guint          rank)
{
  const char *id = claim_name (b, name);
  AneMilValueType *vt, *wrapped;
  CoreML__Specification__MILSpec__StateType *st;

  if (b->error)
    return id;
  if (b->target < ANE_MIL_IOS18)
    {
      ane_mil_builder_set_error (b, g_error_new (ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                                                 "state '%s' needs target iOS18 or later (got %s)",
                                                 name, ane_mil_target_name (b->target)));
      return id;
    }
  wrapped = tensor_value_type (dtype, shape, rank);
  vt = g_new (AneMilValueType, 1);
  st = g_new (CoreML__Specification__MILSpec__StateType, 1);
  core_ml__specification__milspec__value_type__init (vt);
  core_ml__specification__milspec__state_type__init (st);
  st->wrappedtype = wrapped;
  vt->type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE;
  vt->statetype = st;
  g_ptr_array_add (b->current->inputs, named_value_type (id, vt));
  record_spec (b, id, dtype, shape, rank);
  ane_mil_type_env_add (b->env, id, ane_mil_val_new_state (ane_mil_dtype_from_ane (dtype), shape, rank));
  return id;
}

void
ane_mil_builder_add_output (AneMilBuilder *b,
                            const char    *value)
{
  if (b->error)
    return;
  g_ptr_array_add (b->current->outputs, g_strdup (value));
}

/* --- consts ------------------------------------------------------------- */

static const char *
emit_const (AneMilBuilder                         *b,
            const char                            *hint,
            CoreML__Specification__MILSpec__Value *value,
            AneDType                               dtype,
            const gint64                          *shape,
            guint                                  rank)
{
  const char *id = ane_mil_builder_unique_name (b, hint);
  AneMilOperation *op;

  if (b->error)
    {
      free_message (value);
      return id;
    }
  op = g_new (AneMilOperation, 1);
  core_ml__specification__milspec__operation__init (op);
  op->type = g_strdup ("const");
  op->n_attributes = 2;
  op->attributes = g_new (CoreML__Specification__MILSpec__Operation__AttributesEntry *, 2);
  op->attributes[0] = attribute ("name", string_value (id));
  op->attributes[1] = attribute ("val", value);
  op->n_outputs = 1;
  op->outputs = g_new (AneMilNamedValueType *, 1);
  op->outputs[0] = named_value_type (id, tensor_value_type (dtype, shape, rank));
  append_op (b, op);
  record_spec (b, id, dtype, shape, rank);
  return id;
}

static guint64
align64 (guint64 v)
{
  return (v + ANE_MILBLOB_ALIGNMENT - 1) & ~(guint64) (ANE_MILBLOB_ALIGNMENT - 1);
}

/* A tensor type of any MIL DataType (sub-byte ones included). */
static AneMilValueType *
raw_value_type (int           mil_dtype,
                const gint64 *shape,
                guint         rank)
{
  AneMilValueType *vt = tensor_value_type (ANE_DTYPE_FLOAT32, shape, rank);

  vt->tensortype->datatype = mil_dtype;
  return vt;
}

/* Appends a pending blob (its size set) and makes v (of type vt) a
 * blob-file value pointing at its record. The offsets are fixed now: they
 * depend only on sizes, so the program is complete before any weight byte
 * is read. */
static CoreML__Specification__MILSpec__Value *
placed_blob_value (AneMilBuilder     *b,
                   AneMilPendingBlob *blob,
                   AneMilValueType   *vt)
{
  CoreML__Specification__MILSpec__Value *v = value_new (vt);
  CoreML__Specification__MILSpec__Value__BlobFileValue *bf =
    g_new (CoreML__Specification__MILSpec__Value__BlobFileValue, 1);

  blob->offset = b->blob_end;
  b->weight_end = blob->offset + ANE_MILBLOB_RECORD_SIZE + blob->size;
  b->blob_end = align64 (b->weight_end);
  g_ptr_array_add (b->blobs, blob);
  core_ml__specification__milspec__value__blob_file_value__init (bf);
  bf->filename = g_strdup (BLOB_FILE_NAME);
  bf->offset = blob->offset;
  v->value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE;
  v->blobfilevalue = bf;
  return v;
}

/* A blob of a dtype with an AneDType, shaped, stored in blob->dst_dtype. */
static CoreML__Specification__MILSpec__Value *
blob_value (AneMilBuilder     *b,
            AneMilPendingBlob *blob,
            const gint64      *shape,
            guint              rank)
{
  blob->blob_type = blob_type_for (blob->dst_dtype);
  blob->size = (guint64) blob->n_elements * ane_dtype_size (blob->dst_dtype);
  return placed_blob_value (b, blob, tensor_value_type (blob->dst_dtype, shape, rank));
}

static gboolean
check_storable (AneMilBuilder *b,
                const char    *what,
                AneDType       src,
                AneDType       dst)
{
  /* Floats convert among themselves, GGUF blocks dequantize to a float
   * (on the host, when the package is written), integers convert among
   * themselves (int64 ids narrow to MIL's int32, saturating). */
  if (blob_type_for (dst) != 0 &&
      (src == dst ||
       (ane_dtype_is_float (dst) && (ane_dtype_is_float (src) || ane_dtype_is_block (src))) ||
       (ane_dtype_is_integer (src) && ane_dtype_is_integer (dst))))
    return TRUE;
  ane_mil_builder_set_error (b, g_error_new (ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                                             "const '%s': cannot store %s as %s in a MIL program",
                                             what, ane_dtype_to_string (src), ane_dtype_to_string (dst)));
  return FALSE;
}

/* A tensor as a Value: immediate when small, else a weight.bin blob. */
static CoreML__Specification__MILSpec__Value *
tensor_value (AneMilBuilder *b,
              AneTensor     *value,
              AneDType       dst_dtype)
{
  AneSpec spec;
  gint64 n = ane_tensor_get_n_elements (value);

  ane_tensor_get_spec (value, &spec);
  if (n < ANE_MIL_BLOB_MIN_ELEMENTS || blob_type_for (dst_dtype) == 0)
    {
      g_autofree double *tmp = g_new (double, MAX (n, 1));
      ane_dtype_decode (spec.dtype, g_bytes_get_data (ane_tensor_get_data (value), NULL), n, tmp);
      return immediate_value (dst_dtype, spec.shape, spec.rank, tmp, n);
    }
  else
    {
      AneMilPendingBlob *blob = g_new0 (AneMilPendingBlob, 1);

      blob->source = ANE_MIL_BLOB_FROM_BYTES;
      blob->data = g_bytes_ref (ane_tensor_get_data (value));
      blob->src_dtype = spec.dtype;
      blob->dst_dtype = dst_dtype;
      blob->n_elements = n;
      return blob_value (b, blob, spec.shape, spec.rank);
    }
}

const char *
ane_mil_const_tensor (AneMilBuilder *b,
                      const char    *hint,
                      AneTensor     *value,
                      AneDType       dst_dtype)
{
  AneSpec spec;

  ane_tensor_get_spec (value, &spec);
  if (b->error || !check_storable (b, hint, spec.dtype, dst_dtype))
    return ane_mil_builder_unique_name (b, hint);
  return emit_const (b, hint, tensor_value (b, value, dst_dtype), dst_dtype, spec.shape, spec.rank);
}

const char *
ane_mil_constexpr_affine_dequantize (AneMilBuilder *b,
                                     const char    *hint,
                                     AneTensor     *q,
                                     AneTensor     *zero_point,
                                     AneTensor     *scale,
                                     gint64         axis,
                                     AneDType       out_dtype)
{
  const char *id = ane_mil_builder_unique_name (b, hint);
  AneSpec qs, ss;
  AneMilOperation *op;
  double zero = 0.0, ax = (double) axis;
  g_autoptr(AneTensor) zp_default = NULL;

  ane_tensor_get_spec (q, &qs);
  ane_tensor_get_spec (scale, &ss);
  if (b->error || !check_storable (b, hint, qs.dtype, qs.dtype) || !check_storable (b, hint, ss.dtype, out_dtype))
    return id;
  if (ane_mil_opdef_lookup ("constexpr_affine_dequantize", b->target) == NULL)
    {
      ane_mil_builder_set_error (b, g_error_new (ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                                                 "constexpr_affine_dequantize needs target iOS16 or later (got %s)",
                                                 ane_mil_target_name (b->target)));
      return id;
    }
  /* no zero point: zeros shaped like the scale (MIL wants them alike) */
  if (zero_point == NULL)
    zp_default = ss.rank == 0 ? ane_tensor_new_scalar ("zero_point", qs.dtype, zero, NULL)
                              : ane_tensor_new_zeros ("zero_point", qs.dtype, ss.shape, ss.rank, NULL);
  /* Its parameters are attributes, not inputs, whatever the program's
   * opset (coremltools decides from the op's own iOS16 definition). */
  op = g_new (AneMilOperation, 1);
  core_ml__specification__milspec__operation__init (op);
  op->type = g_strdup ("constexpr_affine_dequantize");
  op->n_attributes = 5;
  op->attributes = g_new (CoreML__Specification__MILSpec__Operation__AttributesEntry *, 5);
  op->attributes[0] = attribute ("name", string_value (id));
  op->attributes[1] = attribute ("quantized_data", tensor_value (b, q, qs.dtype));
  op->attributes[2] = attribute ("zero_point", tensor_value (b, zero_point ? zero_point : zp_default, qs.dtype));
  op->attributes[3] = attribute ("scale", tensor_value (b, scale, out_dtype));
  op->attributes[4] = attribute ("axis", immediate_value (ANE_DTYPE_INT32, NULL, 0, &ax, 1));
  op->n_outputs = 1;
  op->outputs = g_new (AneMilNamedValueType *, 1);
  op->outputs[0] = named_value_type (id, tensor_value_type (out_dtype, qs.shape, qs.rank));
  append_op (b, op);
  record_spec (b, id, out_dtype, qs.shape, qs.rank);
  return id;
}

const char *
ane_mil_const_param (AneMilBuilder *b,
                     const char    *hint,
                     const char    *param,
                     AneDType       src_dtype,
                     AneDType       dst_dtype,
                     const gint64  *shape,
                     guint          rank)
{
  AneMilPendingBlob *blob;
  gint64 n = 1;

  if (b->error || !check_storable (b, param, src_dtype, dst_dtype))
    return ane_mil_builder_unique_name (b, hint);
  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  blob = g_new0 (AneMilPendingBlob, 1);
  blob->source = ANE_MIL_BLOB_FROM_PARAM;
  blob->param = g_strdup (param);
  blob->src_dtype = src_dtype;
  blob->dst_dtype = dst_dtype;
  blob->n_elements = n;
  return emit_const (b, hint, blob_value (b, blob, shape, rank), dst_dtype, shape, rank);
}

void
ane_mil_builder_note_weight (AneMilBuilder *b,
                             const char    *name,
                             const char    *how)
{
  g_ptr_array_add (b->weight_notes, g_strdup_printf ("%s: %s", name, how));
}

GPtrArray *
ane_mil_builder_get_weight_notes (AneMilBuilder *b)
{
  return b->weight_notes;
}

/* The const op of a sub-byte MIL type over blob (its size set). */
static const char *
emit_packed_const (AneMilBuilder     *b,
                   const char        *hint,
                   int                mil_dtype,
                   AneMilPendingBlob *blob,
                   const gint64      *shape,
                   guint              rank)
{
  const char *id = ane_mil_builder_unique_name (b, hint);
  CoreML__Specification__MILSpec__Value *v;
  AneMilOperation *op;
  AneMilValueType *vt;

  v = placed_blob_value (b, blob, raw_value_type (mil_dtype, shape, rank));

  op = g_new (AneMilOperation, 1);
  core_ml__specification__milspec__operation__init (op);
  op->type = g_strdup ("const");
  op->n_attributes = 2;
  op->attributes = g_new (CoreML__Specification__MILSpec__Operation__AttributesEntry *, 2);
  op->attributes[0] = attribute ("name", string_value (id));
  op->attributes[1] = attribute ("val", v);
  vt = raw_value_type (mil_dtype, shape, rank);
  op->n_outputs = 1;
  op->outputs = g_new (AneMilNamedValueType *, 1);
  op->outputs[0] = named_value_type (id, vt);
  append_op (b, op);
  /* no AneDType for sub-byte types: ane_mil_builder_lookup () fails for it
   * (the contract check knows its MIL type) */
  return id;
}

const char *
ane_mil_const_packed (AneMilBuilder      *b,
                      const char         *hint,
                      int                 mil_dtype,
                      AneMilBlobDataType  blob_type,
                      GBytes             *packed,
                      const gint64       *shape,
                      guint               rank)
{
  AneMilPendingBlob *blob;
  gsize size = g_bytes_get_size (packed);

  if (b->error)
    return ane_mil_builder_unique_name (b, hint);
  /* The bytes are copied as they are: src and dst "uint8" of the packed size. */
  blob = g_new0 (AneMilPendingBlob, 1);
  blob->source = ANE_MIL_BLOB_FROM_BYTES;
  blob->data = g_bytes_ref (packed);
  blob->src_dtype = blob->dst_dtype = ANE_DTYPE_UINT8;
  blob->n_elements = (gint64) size;
  blob->size = size;
  blob->blob_type = blob_type;
  {
    /* the record says how many bits of the last byte are unused (MILBlob
     * writes it, readers check it): a uint3 or uint6 count that does not
     * fill whole bytes, an odd int4 count */
    guint bits = ane_milblob_data_type_bits (blob_type);
    guint64 n = 1;

    for (guint i = 0; i < rank; i++)
      n *= (guint64) shape[i];
    if (bits > 0 && (n * bits + 7) / 8 == size)
      blob->padding_bits = (guint) (size * 8 - n * bits);
  }
  return emit_packed_const (b, hint, mil_dtype, blob, shape, rank);
}

/* --- values given raw (compression) --------------------------------------- */

static CoreML__Specification__MILSpec__Operation__InputsEntry *input_entry (const char  *param,
                                                                          const char **values,
                                                                          guint        n);

/* A Value of raw bytes: a weight.bin blob (10 elements or more, or a
 * sub-byte type: MIL has no packed immediates we emit), else an immediate
 * encoded as coremltools encodes the dtype (fp32 as floats, int32 as ints,
 * the rest as raw bytes: mil/types/type_mapping.py, _numpy_val_to_bytes). */
static CoreML__Specification__MILSpec__Value *
raw_value (AneMilBuilder        *b,
           const AneMilRawValue *rv)
{
  CoreML__Specification__MILSpec__Value *v;
  CoreML__Specification__MILSpec__TensorValue *tv;
  CoreML__Specification__MILSpec__TensorValue__RepeatedBytes *r;
  AneMilBlobDataType blob_type = 0;
  guint bits = 0;
  guint64 n = 1;
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (rv->bytes, &size);

  for (guint i = 0; i < rv->rank; i++)
    n *= (guint64) rv->shape[i];
  if (ane_mil_dtype_blob_info (rv->mil_dtype, &blob_type, &bits) &&
      (n >= ANE_MIL_BLOB_MIN_ELEMENTS || ane_milblob_data_type_is_sub_byte (blob_type)))
    {
      AneMilPendingBlob *blob = g_new0 (AneMilPendingBlob, 1);

      blob->source = ANE_MIL_BLOB_FROM_BYTES;
      blob->data = g_bytes_ref (rv->bytes);
      blob->src_dtype = blob->dst_dtype = ANE_DTYPE_UINT8;
      blob->n_elements = (gint64) size;
      blob->size = size;
      blob->blob_type = blob_type;
      if (ane_milblob_data_type_is_sub_byte (blob_type))
        blob->padding_bits = (guint) (size * 8 - n * bits);
      return placed_blob_value (b, blob, raw_value_type (rv->mil_dtype, rv->shape, rv->rank));
    }
  if (rv->mil_dtype == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32 ||
      rv->mil_dtype == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT32)
    {
      /* floats and ints as immediate_value encodes them (exact through doubles) */
      AneDType dtype = rv->mil_dtype == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32 ? ANE_DTYPE_FLOAT32
                                                                                         : ANE_DTYPE_INT32;
      g_autofree double *values = g_new (double, MAX (size / 4, 1));

      ane_dtype_decode (dtype, data, size / 4, values);
      return immediate_value (dtype, rv->shape, rv->rank, values, size / 4);
    }
  /* the rest (fp16, the 8-bit integers, uint32) as their raw bytes */
  v = value_new (raw_value_type (rv->mil_dtype, rv->shape, rv->rank));
  tv = immediate_tensor (v);
  r = g_new (CoreML__Specification__MILSpec__TensorValue__RepeatedBytes, 1);
  core_ml__specification__milspec__tensor_value__repeated_bytes__init (r);
  r->values.len = size;
  r->values.data = g_malloc (MAX (size, 1));
  if (size)
    memcpy (r->values.data, data, size);
  tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES;
  tv->bytes = r;
  return v;
}

void
ane_mil_constexpr_raw (AneMilBuilder         *b,
                       const char            *type,
                       const char            *hint,
                       const AneMilRawValue  *params,
                       guint                  n_params,
                       const AneMilRawOutput *outputs,
                       guint                  n_outputs,
                       const char           **out_names)
{
  const AneMilOpDef *def = ane_mil_opdef_lookup (type, b->target);
  AneMilOperation *op;

  for (guint i = 0; i < n_outputs; i++)
    out_names[i] = outputs[i].name ? claim_name (b, outputs[i].name) : ane_mil_builder_unique_name (b, hint);
  if (b->error)
    return;
  if (def == NULL)
    {
      ane_mil_builder_set_error (b, g_error_new (ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s needs a later target than %s",
                                                 type, ane_mil_target_name (b->target)));
      return;
    }
  op = g_new (AneMilOperation, 1);
  core_ml__specification__milspec__operation__init (op);
  op->type = g_strdup (type);
  if (def->flags & ANE_MIL_OPDEF_PARAMS_AS_ATTRIBUTES)
    {
      op->n_attributes = 1 + n_params;
      op->attributes = g_new (CoreML__Specification__MILSpec__Operation__AttributesEntry *, 1 + n_params);
      op->attributes[0] = attribute ("name", string_value (out_names[0]));
      for (guint i = 0; i < n_params; i++)
        op->attributes[1 + i] = attribute (params[i].param, raw_value (b, &params[i]));
    }
  else
    {
      op->n_attributes = 1;
      op->attributes = g_new (CoreML__Specification__MILSpec__Operation__AttributesEntry *, 1);
      op->attributes[0] = attribute ("name", string_value (out_names[0]));
      op->n_inputs = n_params;
      op->inputs = g_new (CoreML__Specification__MILSpec__Operation__InputsEntry *, MAX (n_params, 1));
      for (guint i = 0; i < n_params; i++)
        {
          g_autofree char *chint = NULL;
          const char *id;
          AneMilOperation *c;

          if (params[i].ref != NULL)
            {
              op->inputs[i] = input_entry (params[i].param, (const char **) &params[i].ref, 1);
              continue;
            }
          chint = g_strdup_printf ("%s_%s", out_names[0], params[i].param);
          id = ane_mil_builder_unique_name (b, chint);
          c = g_new (AneMilOperation, 1);
          core_ml__specification__milspec__operation__init (c);
          c->type = g_strdup ("const");
          c->n_attributes = 2;
          c->attributes = g_new (CoreML__Specification__MILSpec__Operation__AttributesEntry *, 2);
          c->attributes[0] = attribute ("name", string_value (id));
          c->attributes[1] = attribute ("val", raw_value (b, &params[i]));
          c->n_outputs = 1;
          c->outputs = g_new (AneMilNamedValueType *, 1);
          c->outputs[0] = named_value_type (id, raw_value_type (params[i].mil_dtype, params[i].shape, params[i].rank));
          append_op (b, c);
          op->inputs[i] = input_entry (params[i].param, &id, 1);
        }
    }
  op->n_outputs = n_outputs;
  op->outputs = g_new (AneMilNamedValueType *, MAX (n_outputs, 1));
  for (guint i = 0; i < n_outputs; i++)
    op->outputs[i] = named_value_type (out_names[i], raw_value_type (outputs[i].mil_dtype, outputs[i].shape,
                                                                     outputs[i].rank));
  append_op (b, op);
}

/* --- GGUF Q8_0 / Q4_0 blocks, split lazily ----------------------------------- */

/* Each block's d (an fp16, first in the block) as doubles. */
static double *
blocks_scales (const guint8 *blocks,
               gsize         n_blocks,
               guint         block_bytes)
{
  double *s = g_new (double, MAX (n_blocks, 1));

  for (gsize i = 0; i < n_blocks; i++)
    {
      guint16 h;

      memcpy (&h, blocks + i * block_bytes, 2);
      s[i] = ane_half_to_float (GUINT16_FROM_LE (h));
    }
  return s;
}

/* The scales or offsets (one per 32 weights) of blocks as doubles; NULL
 * with a Q4_K sub-block that has none (ane_lower_split_q4_K). */
static double *
blocks_per_32 (GBytes           *blocks,
               AneDType          blocks_dtype,
               AneMilBlocksPart  part,
               AneDType          scale_dtype)
{
  gsize n_blocks = g_bytes_get_size (blocks) / ane_dtype_block_bytes (blocks_dtype);
  double *v = NULL;

  if (blocks_dtype != ANE_DTYPE_Q4_K)
    return blocks_scales (g_bytes_get_data (blocks, NULL), n_blocks, ane_dtype_block_bytes (blocks_dtype));
  if (!ane_lower_split_q4_K (blocks, (gint64) n_blocks, scale_dtype, NULL, part == ANE_MIL_BLOCKS_SCALE ? &v : NULL,
                             part == ANE_MIL_BLOCKS_OFFSET ? &v : NULL))
    return NULL;
  return v;
}

/* Issue 15 ("memory equals the file"): the data, scales (and offsets) MIL's
 * constexpr_blockwise_shift_scale takes are the GGUF blocks taken apart.
 * Split at lowering time they were a second copy of the weights held by
 * the program for its whole life (the CPU plan then used that copy, while
 * the file's pages were resident too); here the blob keeps a reference to
 * the blocks and ane_mil_blocks_split makes the stored bytes when they are
 * asked for, the same bytes as before, so a package written is unchanged. */
const char *
ane_mil_const_blocks (AneMilBuilder    *b,
                      const char       *hint,
                      GBytes           *blocks,
                      AneDType          blocks_dtype,
                      AneMilBlocksPart  part,
                      AneDType          dst_dtype,
                      AneDType          scale_dtype,
                      const gint64     *shape,
                      guint             rank)
{
  guint bb = ane_dtype_block_bytes (blocks_dtype), bs = ane_dtype_block_size (blocks_dtype);
  AneMilPendingBlob *blob;
  gint64 n = 1, n_weights;

  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  n_weights = part == ANE_MIL_BLOCKS_DATA ? n : n * 32;
  if (b->error)
    return ane_mil_builder_unique_name (b, hint);
  if ((blocks_dtype != ANE_DTYPE_Q8_0 && blocks_dtype != ANE_DTYPE_Q4_0 && blocks_dtype != ANE_DTYPE_Q4_K) ||
      (part == ANE_MIL_BLOCKS_OFFSET && blocks_dtype != ANE_DTYPE_Q4_K) || n_weights % bs != 0 ||
      g_bytes_get_size (blocks) != (gsize) (n_weights / bs) * bb)
    {
      ane_mil_builder_set_error (b, g_error_new (ANE_ERROR, ANE_ERROR_SHAPE,
                                                 "const '%s': %zu bytes of %s blocks do not match its shape",
                                                 hint, g_bytes_get_size (blocks), ane_dtype_to_string (blocks_dtype)));
      return ane_mil_builder_unique_name (b, hint);
    }
  if (part != ANE_MIL_BLOCKS_DATA && n < ANE_MIL_BLOB_MIN_ELEMENTS)
    {
      /* a few scales: an immediate value, as ane_mil_const_floats writes it */
      g_autofree double *v = blocks_per_32 (blocks, blocks_dtype, part, scale_dtype);

      if (v == NULL)
        {
          ane_mil_builder_set_error (b, g_error_new (ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                                                     "const '%s': a Q4_K sub-block has no offset", hint));
          return ane_mil_builder_unique_name (b, hint);
        }
      return ane_mil_const_floats (b, hint, dst_dtype, v, shape, rank);
    }
  blob = g_new0 (AneMilPendingBlob, 1);
  blob->source = ANE_MIL_BLOB_FROM_BLOCKS;
  blob->data = g_bytes_ref (blocks);
  blob->blocks_dtype = blocks_dtype;
  blob->part = part;
  blob->scale_dtype = scale_dtype;
  if (part != ANE_MIL_BLOCKS_DATA || blocks_dtype == ANE_DTYPE_Q8_0)
    {
      /* as ane_mil_const_tensor stores an int8 tensor or a float one */
      AneDType stored = part != ANE_MIL_BLOCKS_DATA ? dst_dtype : ANE_DTYPE_INT8;

      if (!check_storable (b, hint, stored, stored))
        {
          ane_mil_pending_blob_free (blob);
          return ane_mil_builder_unique_name (b, hint);
        }
      blob->src_dtype = blob->dst_dtype = stored;
      blob->n_elements = n;
      return emit_const (b, hint, blob_value (b, blob, shape, rank), stored, shape, rank);
    }
  /* 4-bit q as MIL int4 (Q4_0) or uint4 (Q4_K), as ane_mil_const_packed
   * stores packed bytes */
  blob->src_dtype = blob->dst_dtype = ANE_DTYPE_UINT8;
  blob->n_elements = n / 2;
  blob->size = (guint64) (n / 2);
  blob->blob_type = blocks_dtype == ANE_DTYPE_Q4_K ? ANE_MILBLOB_UINT4 : ANE_MILBLOB_INT4;
  return emit_packed_const (b, hint, blocks_dtype == ANE_DTYPE_Q4_K ? CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT4
                                                                    : CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT4,
                            blob, shape, rank);
}

GBytes *
ane_mil_blocks_split (const AneMilPendingBlob *blob,
                      GError                 **error)
{
  const guint8 *b = g_bytes_get_data (blob->data, NULL);
  guint bb = ane_dtype_block_bytes (blob->blocks_dtype), bs = ane_dtype_block_size (blob->blocks_dtype);
  gsize n_blocks = bb ? g_bytes_get_size (blob->data) / bb : 0, n_weights = n_blocks * bs;
  gboolean q8 = blob->blocks_dtype == ANE_DTYPE_Q8_0;
  gsize want = blob->part != ANE_MIL_BLOCKS_DATA ? n_weights / 32 * ane_dtype_size (blob->dst_dtype)
                                                 : q8 ? n_weights : n_weights / 2;
  guint8 *d;

  if (blob->source != ANE_MIL_BLOB_FROM_BLOCKS ||
      (!q8 && blob->blocks_dtype != ANE_DTYPE_Q4_0 && blob->blocks_dtype != ANE_DTYPE_Q4_K) ||
      n_blocks * bb != g_bytes_get_size (blob->data) || want != blob->size)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "weights: %zu bytes of %s blocks for a blob of %" G_GUINT64_FORMAT
                   " bytes", g_bytes_get_size (blob->data), ane_dtype_to_string (blob->blocks_dtype), blob->size);
      return NULL;
    }
  if (blob->part != ANE_MIL_BLOCKS_DATA)
    {
      g_autofree double *v = blocks_per_32 (blob->data, blob->blocks_dtype, blob->part, blob->scale_dtype);

      if (v == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "weights: a Q4_K sub-block has no offset");
          return NULL;
        }
      d = g_malloc (MAX (want, 1));
      ane_dtype_encode (blob->dst_dtype, v, n_weights / 32, d);
      return g_bytes_new_take (d, want);
    }
  if (blob->blocks_dtype == ANE_DTYPE_Q4_K)
    {
      GBytes *data = NULL;

      if (!ane_lower_split_q4_K (blob->data, (gint64) n_blocks, blob->scale_dtype, &data, NULL, NULL))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "weights: a Q4_K sub-block has no offset");
          return NULL;
        }
      return data;
    }
  d = g_malloc (MAX (want, 1));
  for (gsize i = 0; i < n_blocks; i++)
    {
      const guint8 *blk = b + i * bb;

      if (q8)
        memcpy (d + i * 32, blk + 2, 32);
      else
        /* ggml: element j is qs[j] & 15, element j + 16 is qs[j] >> 4, both
         * offset by 8; MIL int4 packs element 2m in the low nibble of byte m */
        for (int j = 0; j < 16; j++)
          {
            int e0 = 2 * j, e1 = 2 * j + 1;
            int q0 = e0 < 16 ? blk[2 + e0] & 15 : blk[2 + e0 - 16] >> 4;
            int q1 = e1 < 16 ? blk[2 + e1] & 15 : blk[2 + e1 - 16] >> 4;

            d[i * 16 + j] = (guint8) (((q0 - 8) & 15) | (((q1 - 8) & 15) << 4));
          }
    }
  return g_bytes_new_take (d, want);
}

const char *
ane_mil_const_int (AneMilBuilder *b,
                   const char    *hint,
                   gint64         value)
{
  double v = (double) value;

  return emit_const (b, hint, immediate_value (ANE_DTYPE_INT32, NULL, 0, &v, 1), ANE_DTYPE_INT32, NULL, 0);
}

const char *
ane_mil_const_ints (AneMilBuilder *b,
                    const char    *hint,
                    const gint64  *values,
                    gsize          n)
{
  g_autofree double *tmp = g_new (double, MAX (n, 1));
  gint64 shape = (gint64) n;

  for (gsize i = 0; i < n; i++)
    tmp[i] = (double) values[i];
  return emit_const (b, hint, immediate_value (ANE_DTYPE_INT32, &shape, 1, tmp, n), ANE_DTYPE_INT32, &shape, 1);
}

const char *
ane_mil_const_float (AneMilBuilder *b,
                     const char    *hint,
                     AneDType       dtype,
                     double         value)
{
  return emit_const (b, hint, immediate_value (dtype, NULL, 0, &value, 1), dtype, NULL, 0);
}

const char *
ane_mil_const_floats (AneMilBuilder *b,
                      const char    *hint,
                      AneDType       dtype,
                      const double  *values,
                      const gint64  *shape,
                      guint          rank)
{
  gint64 n = 1;

  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  if (n >= ANE_MIL_BLOB_MIN_ELEMENTS)
    {
      /* Large computed constants (RoPE tables, masks) are weights too. */
      gsize size = ane_dtype_size (dtype) * n;
      gpointer buf = g_malloc (MAX (size, 1));
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(AneTensor) t = NULL;

      ane_dtype_encode (dtype, values, n, buf);
      bytes = g_bytes_new_take (buf, size);
      t = ane_tensor_new_from_bytes (hint, dtype, shape, rank, bytes, NULL);
      return ane_mil_const_tensor (b, hint, t, dtype);
    }
  return emit_const (b, hint, immediate_value (dtype, shape, rank, values, n), dtype, shape, rank);
}

const char *
ane_mil_const_bool (AneMilBuilder *b,
                    const char    *hint,
                    gboolean       value)
{
  double v = value ? 1.0 : 0.0;

  return emit_const (b, hint, immediate_value (ANE_DTYPE_BOOL, NULL, 0, &v, 1), ANE_DTYPE_BOOL, NULL, 0);
}

const char *
ane_mil_const_string (AneMilBuilder *b,
                      const char    *hint,
                      const char    *value)
{
  const char *id = ane_mil_builder_unique_name (b, hint);
  AneMilOperation *op;
  AneMilValueType *vt;

  if (b->error)
    return id;
  op = g_new (AneMilOperation, 1);
  core_ml__specification__milspec__operation__init (op);
  op->type = g_strdup ("const");
  op->n_attributes = 2;
  op->attributes = g_new (CoreML__Specification__MILSpec__Operation__AttributesEntry *, 2);
  op->attributes[0] = attribute ("name", string_value (id));
  op->attributes[1] = attribute ("val", string_value (value));
  vt = tensor_value_type (ANE_DTYPE_FLOAT32, NULL, 0);
  vt->tensortype->datatype = CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING;
  op->n_outputs = 1;
  op->outputs = g_new (AneMilNamedValueType *, 1);
  op->outputs[0] = named_value_type (id, vt);
  append_op (b, op);
  /* Strings have no AneDType; ane_mil_builder_lookup () fails for them,
   * which is fine: they are only ever passed as parameters. */
  return id;
}

/* --- ops ---------------------------------------------------------------- */

AneMilOpCall *
ane_mil_op_begin (AneMilBuilder *b,
                  const char    *type,
                  const char    *hint)
{
  AneMilOpCall *call = g_new0 (AneMilOpCall, 1);

  call->b = b;
  call->op = g_new (AneMilOperation, 1);
  core_ml__specification__milspec__operation__init (call->op);
  call->op->type = g_strdup (type);
  call->hint = g_strdup (hint ? hint : type);
  call->inputs = g_ptr_array_new ();
  call->outputs = g_ptr_array_new ();
  return call;
}

static CoreML__Specification__MILSpec__Operation__InputsEntry *
input_entry (const char  *param,
             const char **values,
             guint        n)
{
  CoreML__Specification__MILSpec__Operation__InputsEntry *e =
    g_new (CoreML__Specification__MILSpec__Operation__InputsEntry, 1);
  AneMilArgument *arg = g_new (AneMilArgument, 1);

  core_ml__specification__milspec__operation__inputs_entry__init (e);
  core_ml__specification__milspec__argument__init (arg);
  arg->n_arguments = n;
  arg->arguments = g_new (AneMilBinding *, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      AneMilBinding *bind = g_new (AneMilBinding, 1);

      core_ml__specification__milspec__argument__binding__init (bind);
      bind->binding_case = CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME;
      bind->name = g_strdup (values[i]);
      arg->arguments[i] = bind;
    }
  e->key = g_strdup (param);
  e->value = arg;
  return e;
}

void
ane_mil_op_args (AneMilOpCall *call,
                 const char   *param,
                 const char  **values,
                 guint         n)
{
  g_ptr_array_add (call->inputs, input_entry (param, values, n));
}

void
ane_mil_op_arg (AneMilOpCall *call,
                const char   *param,
                const char   *value)
{
  ane_mil_op_args (call, param, &value, 1);
}

const char *
ane_mil_op_output_named (AneMilOpCall *call,
                         const char   *name,
                         AneDType      dtype,
                         const gint64 *shape,
                         guint         rank)
{
  const char *id = claim_name (call->b, name);

  g_ptr_array_add (call->outputs, named_value_type (id, tensor_value_type (dtype, shape, rank)));
  record_spec (call->b, id, dtype, shape, rank);
  return id;
}

const char *
ane_mil_op_output (AneMilOpCall *call,
                   AneDType      dtype,
                   const gint64 *shape,
                   guint         rank)
{
  return ane_mil_op_output_named (call, call->hint, dtype, shape, rank);
}

void
ane_mil_op_end (AneMilOpCall *call)
{
  AneMilBuilder *b = call->b;
  AneMilOperation *op = call->op;

  op->n_inputs = call->inputs->len;
  op->inputs = (CoreML__Specification__MILSpec__Operation__InputsEntry **) g_ptr_array_free (call->inputs, FALSE);
  op->n_outputs = call->outputs->len;
  op->outputs = (AneMilNamedValueType **) g_ptr_array_free (call->outputs, FALSE);
  op->n_attributes = 1;
  op->attributes = g_new (CoreML__Specification__MILSpec__Operation__AttributesEntry *, 1);
  op->attributes[0] = attribute ("name", string_value (op->n_outputs ? op->outputs[0]->name : call->hint));
  append_op (b, op);
  g_free (call->hint);
  g_free (call);
}

const char *
ane_mil_op (AneMilBuilder *b,
            const char    *type,
            const char    *hint,
            AneDType       out_dtype,
            const gint64  *out_shape,
            guint          out_rank,
            ...)
{
  AneMilOpCall *call = ane_mil_op_begin (b, type, hint);
  const char *out;
  va_list args;

  va_start (args, out_rank);
  for (const char *param = va_arg (args, const char *); param; param = va_arg (args, const char *))
    {
      const char *value = va_arg (args, const char *);
      if (value != NULL)   /* an absent optional parameter */
        ane_mil_op_arg (call, param, value);
    }
  va_end (args);
  out = ane_mil_op_output (call, out_dtype, out_shape, out_rank);
  ane_mil_op_end (call);
  return out;
}

/* --- finishing ---------------------------------------------------------- */

static CoreML__Specification__MILSpec__Function *
build_function (AneMilBuilder *b,
                FunctionState *f)
{
  CoreML__Specification__MILSpec__Function *fn = g_new (CoreML__Specification__MILSpec__Function, 1);
  CoreML__Specification__MILSpec__Function__BlockSpecializationsEntry *entry =
    g_new (CoreML__Specification__MILSpec__Function__BlockSpecializationsEntry, 1);
  AneMilBlock *block = g_new (AneMilBlock, 1);
  guint n;

  core_ml__specification__milspec__function__init (fn);
  core_ml__specification__milspec__function__block_specializations_entry__init (entry);
  core_ml__specification__milspec__block__init (block);

  n = f->outputs->len;
  block->n_outputs = n;
  block->outputs = (char **) g_ptr_array_steal (f->outputs, NULL);
  n = f->ops->len;
  block->n_operations = n;
  block->operations = (AneMilOperation **) g_ptr_array_steal (f->ops, NULL);

  fn->n_inputs = f->inputs->len;
  fn->inputs = (AneMilNamedValueType **) g_ptr_array_steal (f->inputs, NULL);
  fn->opset = g_strdup (ane_mil_target_opset (b->target));
  entry->key = g_strdup (fn->opset);
  entry->value = block;
  fn->n_block_specializations = 1;
  fn->block_specializations = g_new (CoreML__Specification__MILSpec__Function__BlockSpecializationsEntry *, 1);
  fn->block_specializations[0] = entry;
  return fn;
}

AneMilProgram *
ane_mil_builder_finish (AneMilBuilder  *b,
                        GPtrArray     **blobs,
                        guint64        *weight_size,
                        GError        **error)
{
  AneMilProgram *program;

  if (!ane_mil_builder_propagate_error (b, error))
    return NULL;
  program = g_new (AneMilProgram, 1);
  core_ml__specification__milspec__program__init (program);
  program->version = 1;
  program->n_functions = b->functions->len;
  program->functions = g_new (CoreML__Specification__MILSpec__Program__FunctionsEntry *, MAX (b->functions->len, 1));
  for (guint i = 0; i < b->functions->len; i++)
    {
      FunctionState *f = g_ptr_array_index (b->functions, i);
      CoreML__Specification__MILSpec__Program__FunctionsEntry *e =
        g_new (CoreML__Specification__MILSpec__Program__FunctionsEntry, 1);

      core_ml__specification__milspec__program__functions_entry__init (e);
      e->key = g_strdup (f->name);
      e->value = build_function (b, f);
      program->functions[i] = e;
    }
  if (weight_size)
    *weight_size = b->blobs->len ? b->weight_end : 0;
  if (blobs)
    *blobs = g_ptr_array_ref (b->blobs);
  return program;
}
