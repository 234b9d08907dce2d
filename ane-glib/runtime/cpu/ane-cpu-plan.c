/* runtime/cpu/ane-cpu-plan.c: preparing and running a MIL function
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>   /* malloc_trim */
#endif

#include "ane-file-private.h"
#include "ane-reference-private.h"
#include "mil/ane-mil-dtype-private.h"
#include "mil/ane-mil-builder-private.h"
#include "runtime/cpu/ane-cpu-arena-private.h"
#include "runtime/cpu/ane-cpu-private.h"
#include "runtime/cpu/ane-cpu-profile-private.h"
#include "mil/ane-mil-validate-private.h"
#include "mil/ane-mil-infer-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"
#include "runtime/cpu/ane-cpu-vec-q8x-private.h"

typedef struct {
  char   *param;
  guint   n;
  guint  *slots;
} StepInput;

/* How a step of an in-place state update runs (plan_state_updates). */
typedef enum {
  FUSE_NONE,
  FUSE_VIEW,         /* read_state, or the cast of it to fp32: a view of the state, no copy */
  FUSE_IN_PLACE,     /* slice_update: writes its rows into x's storage (the state's) */
  FUSE_SKIP,         /* the cast to fp16 and write_state after it: the state holds the value already */
} StepFuse;

/* An output's declared type, decoded once when the plan is made (a run
 * would otherwise decode every output's MIL type again, per op). */
typedef struct {
  AneDType dtype;
  guint    rank;
  gint64   shape[ANE_CPU_MAX_RANK];
} StepType;

typedef struct {
  const AneCpuKernel *kernel;
  const AneMilOperation *op;
  char       *name;          /* the op's first output, or its type */
  guint       n_inputs;
  StepInput  *inputs;
  guint       n_outputs;
  guint      *outputs;
  StepType   *out_types;     /* per output */
  GArray     *frees;         /* slots whose last use is this step */
  gboolean    is_identity;   /* identity of a same-typed value: may move it */
  guint       identity_in;
  gboolean    folded;        /* a constexpr_* op of consts: made once into a const (fold_constexpr) */
  gboolean    elided;        /* folded: an identity of a constexpr op's value, read in its place (elide_identity) */
  StepFuse    fuse;          /* its part in an in-place state update (plan_state_updates) */
  guint       fuse_slot;     /* VIEW: the slot viewed; IN_PLACE: the state's slot */
  gboolean    round_after;   /* IN_PLACE: the rows are rewritten rounded to the state's fp16 at the end */
  /* decided once when the plan is made, not per run: */
  gboolean    is_constexpr;  /* a constexpr_* op */
  guint       view_x;        /* a cast, reshape, expand_dims or squeeze of one output: x's slot (may_view); else G_MAXUINT */
  gboolean    view_cast;     /* view_x is a cast's */
} Step;

static gboolean decode_type (const AneMilValueType *type, AneDType *dtype, gint64 *shape, guint *rank,
                             const char *what, GError **error);

/* Whether a value has exactly the type an op output declares. */
static gboolean
same_type (const AneCpuValue          *v,
           const AneMilNamedValueType *declared)
{
  AneDType dtype;
  gint64 shape[ANE_CPU_MAX_RANK];
  guint rank;

  if (!decode_type (declared->type, &dtype, shape, &rank, "identity", NULL) ||
      dtype != v->dtype || rank != v->rank)
    return FALSE;
  return memcmp (shape, v->shape, rank * sizeof (gint64)) == 0;
}

static gboolean
step_frees (const Step *step,
            guint       slot)
{
  for (guint k = 0; k < step->frees->len; k++)
    if (g_array_index (step->frees, guint, k) == slot)
      return TRUE;
  return FALSE;
}

/* The slot bound to a step's single-valued parameter, or G_MAXUINT. */
static guint
input_slot (const Step *step,
            const char *param)
{
  for (guint j = 0; j < step->n_inputs; j++)
    if (g_str_equal (step->inputs[j].param, param) && step->inputs[j].n == 1)
      return step->inputs[j].slots[0];
  return G_MAXUINT;
}

typedef struct {
  char     *name;
  AneSpec   spec;            /* dtype, rank, shape (rank ≤ ANE_CPU_MAX_RANK kept in shape[]) */
  gint64    shape[ANE_CPU_MAX_RANK];
  guint     rank;
  guint     slot;
  gboolean  state;
} Port;

struct _AneCpuPlan
{
  guint        n_slots;
  AneCpuValue **consts;      /* per slot: a const value, or NULL */
  char       **const_names;  /* per slot: the const op's name (for reloads) */
  GPtrArray   *steps;        /* Step* */
  GArray      *inputs;       /* Port */
  GArray      *outputs;      /* Port */
  GHashTable  *slot_of;      /* name -> slot + 1 */
  gboolean    *pinned;       /* never freed during a run: inputs, states, consts, outputs */
  AneCpuBlobFunc blobs;
  AneCpuBlocksFunc blocks;   /* which blobs are parts of GGUF blocks, or NULL */
  gpointer     blobs_data;
  const AneMilProgram *program;
  GHashTable  *const_ops;    /* const name -> AneMilOperation* */
  guint64      budget;       /* bytes the program may hold at once; 0: no limit */
  gboolean     quantize_activations;   /* ane_cpu_plan_set_quantize_activations */
  guint64      held;         /* bytes of consts, inputs and states */
  gboolean    *dropped;      /* per slot: a const read only by folded steps, freed (reloaded on demand) */
  gboolean    *packed_const; /* per slot: a const op's value kept compressed */
  /* per slot: the immediate value (an op's argument or attribute, such as
   * an iOS16 constexpr op's data) it was decoded from, or NULL; freed like
   * a const op's value when only folded steps read it, decoded again on
   * demand (load_dropped) */
  const CoreML__Specification__MILSpec__Value **immediates;
  guint64      constexpr_runs; /* constexpr_* evaluations so far (a test hook) */
  AneCpuProfile *profile;    /* ANE_CPU_PROFILE: time per op type; NULL when off */
  AneCpuArena *arena;        /* the storage of the runs' values, reused across runs */
  GPtrArray   *round_steps;  /* the Steps with round_after, in order (round_updated_rows) */
};

struct _AneCpuCtx
{
  AneCpuPlan   *plan;
  Step         *step;
  AneCpuValue **slots;
};

/* --- decoding values ------------------------------------------------------ */

static gboolean
decode_type (const AneMilValueType *type,
             AneDType              *dtype,
             gint64                *shape,
             guint                 *rank,
             const char            *what,
             GError               **error)
{
  const AneMilTensorType *tt;

  if (type == NULL)
    goto bad;
  if (type->type_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE)
    type = type->statetype->wrappedtype;
  if (type == NULL || type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE)
    goto bad;
  tt = type->tensortype;
  if (tt->datatype == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING)
    {
      *dtype = ANE_DTYPE_INT32;   /* strings carry no elements; callers look at ->s */
      *rank = 0;
      return TRUE;
    }
  if (!ane_mil_dtype_to_ane (tt->datatype, dtype))
    {
      switch (tt->datatype)
        {
        /* Integer types with no AneDType (the parameters of constexpr ops:
         * int4 data, uint1..uint8 indices, uint32 shapes) are held as int32;
         * fill_from_bytes unpacks them. */
        case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT4:
        case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT1:
        case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT2:
        case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT3:
        case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT4:
        case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT6:
        case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT16:
        case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT32:
          *dtype = ANE_DTYPE_INT32;
          break;
        default:
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s: MIL data type %s is not supported by the CPU backend",
                       what, ane_mil_dtype_to_string (tt->datatype));
          return FALSE;
        }
    }
  if (*dtype == ANE_DTYPE_INT64)
    *dtype = ANE_DTYPE_INT32;
  if (tt->n_dimensions > ANE_CPU_MAX_RANK || (gsize) tt->rank != tt->n_dimensions)
    goto bad;
  for (gsize i = 0; i < tt->n_dimensions; i++)
    {
      if (tt->dimensions[i]->dimension_case != CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                       "%s: dimension %zu is not fixed; the CPU backend runs static shapes", what, i);
          return FALSE;
        }
      shape[i] = (gint64) tt->dimensions[i]->constant->size;
    }
  *rank = tt->n_dimensions;
  return TRUE;

bad:
  g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s: only tensor values are supported", what);
  return FALSE;
}

/* The bytes a value of that shape takes in the interpreter (every element
 * is held as a float or an int32), or G_MAXUINT64 past any memory. */
static guint64
value_bytes (const gint64 *shape,
             guint         rank)
{
  guint64 n = 4;

  for (guint i = 0; i < rank; i++)
    {
      if (shape[i] < 0)
        return G_MAXUINT64;
      if (shape[i] > 0 && n > G_MAXUINT64 / (guint64) shape[i])
        return G_MAXUINT64;
      n *= (guint64) shape[i];
    }
  return n;
}

static gboolean
over_budget (AneCpuPlan   *plan,
             guint64       in_use,
             guint64       bytes,
             const char   *what,
             const gint64 *shape,
             guint         rank,
             GError      **error)
{
  g_autofree char *dims = NULL;

  if (plan->budget == 0 || (bytes <= plan->budget && in_use <= plan->budget - bytes))
    return FALSE;
  dims = ane_mil_infer_dims_string (shape, rank);
  if (bytes == G_MAXUINT64)
    g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE, "%s: a %s tensor is more than any memory holds", what, dims);
  else
    g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE, "%s: a %s tensor of %" G_GUINT64_FORMAT " bytes, with %"
                 G_GUINT64_FORMAT " bytes already held, exceeds the memory budget of %" G_GUINT64_FORMAT
                 " bytes (ane_executable_set_memory_budget)", what, dims, bytes, in_use, plan->budget);
  return TRUE;
}

/* Counts a value the plan keeps for the whole run (a const, an input, a
 * state) against the budget, before it is allocated. */
static gboolean
reserve (AneCpuPlan   *plan,
         const char   *what,
         const gint64 *shape,
         guint         rank,
         GError      **error)
{
  guint64 bytes = value_bytes (shape, rank);

  if (over_budget (plan, plan->held, bytes, what, shape, rank, error))
    return FALSE;
  plan->held += MIN (bytes, G_MAXUINT64 - plan->held);
  return TRUE;
}

/* Fills v from data as stored for its MIL type (type: the value's type,
 * already checked by decode_type): fp16, fp32 and the types with an AneDType
 * as ane_dtype_decode reads them; int4 and uint1/2/3/4/6 as one bit stream,
 * element 0 in the lowest bits of byte 0 (an element may straddle two bytes;
 * int4 is two's complement), as MILBlob and coremltools pack them; uint16 and
 * uint32 little-endian. The last kinds are held as int32 (decode_type);
 * uint32 values above 2^31 - 1 saturate. */
static gboolean
fill_from_bytes (AneCpuValue          *v,
                 const AneMilValueType *type,
                 const guint8         *data,
                 gsize                 size,
                 const char           *what,
                 GError              **error)
{
  int mil = CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UNUSED_TYPE;
  guint bits = 0;
  gboolean packed = FALSE;
  gsize expected;

  if (type && type->type_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE)
    type = type->statetype->wrappedtype;
  if (type && type->type_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE)
    mil = type->tensortype->datatype;
  switch (mil)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT4:
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT4: bits = 4; packed = TRUE; break;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT1: bits = 1; packed = TRUE; break;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT2: bits = 2; packed = TRUE; break;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT3: bits = 3; packed = TRUE; break;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT6: bits = 6; packed = TRUE; break;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT16: bits = 16; break;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT32: bits = 32; break;
    default: bits = 8 * (guint) ane_dtype_size (v->dtype); break;
    }
  expected = packed ? (v->n * bits + 7) / 8 : (bits / 8) * v->n;
  if (size != expected)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: %zu bytes of data for %zu %s elements",
                   what, size, v->n, mil != CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UNUSED_TYPE
                                     ? ane_mil_dtype_to_string (mil) : ane_dtype_to_string (v->dtype));
      return FALSE;
    }
  if (packed)
    {
      for (gsize i = 0; i < v->n; i++)
        {
          guint64 bit = (guint64) i * bits;
          guint32 u = 0;

          for (guint b = 0; b < bits; b++, bit++)
            u |= (guint32) ((data[bit / 8] >> (bit % 8)) & 1u) << b;
          v->i[i] = mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT4 && (u & 8u) ? (gint32) u - 16 : (gint32) u;
        }
    }
  else if (mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT16)
    {
      for (gsize i = 0; i < v->n; i++)
        v->i[i] = (gint32) (data[2 * i] | (guint32) data[2 * i + 1] << 8);
    }
  else if (mil == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT32)
    {
      for (gsize i = 0; i < v->n; i++)
        {
          guint32 u = data[4 * i] | (guint32) data[4 * i + 1] << 8 | (guint32) data[4 * i + 2] << 16 |
                      (guint32) data[4 * i + 3] << 24;
          v->i[i] = (gint32) MIN (u, (guint32) G_MAXINT32);
        }
    }
  else if (v->dtype == ANE_DTYPE_FLOAT16)
    ane_f16_to_f32_bulk ((const guint16 *) data, v->f, v->n);
  else if (v->dtype == ANE_DTYPE_FLOAT32)
    memcpy (v->f, data, size);
  else if (v->dtype == ANE_DTYPE_INT8 || v->dtype == ANE_DTYPE_UINT8)
    {
      /* weight data: a plain loop, not ane_dtype_decode's doubles */
      for (gsize i = 0; i < v->n; i++)
        v->i[i] = v->dtype == ANE_DTYPE_INT8 ? (gint32) (gint8) data[i] : (gint32) data[i];
    }
  else
    {
      g_autofree double *tmp = g_new (double, MAX (v->n, 1));
      ane_dtype_decode (v->dtype, data, v->n, tmp);
      for (gsize i = 0; i < v->n; i++)
        {
          if (v->f)
            v->f[i] = (float) tmp[i];
          else
            v->i[i] = (gint32) tmp[i];
        }
    }
  return TRUE;
}

/* A Value (immediate or blob file) as an interpreter value. */
static AneCpuValue *
decode_value (AneCpuPlan                            *plan,
              const CoreML__Specification__MILSpec__Value *value,
              const char                            *what,
              GError                               **error)
{
  g_autoptr(AneCpuValue) v = NULL;
  gint64 shape[ANE_CPU_MAX_RANK];
  AneDType dtype;
  guint rank;

  if (!decode_type (value->type, &dtype, shape, &rank, what, error) ||
      !reserve (plan, what, shape, rank, error))
    return NULL;
  v = ane_cpu_value_new (dtype, shape, rank);

  if (value->value_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE)
    {
      g_autoptr(GBytes) bytes = NULL;

      if (plan->blobs == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "%s: a blob-file value but no weights", what);
          return NULL;
        }
      bytes = plan->blobs (plan->blobs_data, value->blobfilevalue->filename, value->blobfilevalue->offset, error);
      if (bytes == NULL)
        return NULL;
      /* float32 and int32 weights are used where they lie (the mapped
       * weight.bin, the graph's tensor): no second copy of the model */
      if ((v->dtype == ANE_DTYPE_FLOAT32 || v->dtype == ANE_DTYPE_INT32) &&
          (int) value->type->tensortype->datatype == ane_mil_dtype_from_ane (v->dtype) &&
          g_bytes_get_size (bytes) == v->n * 4 &&
          ((guintptr) g_bytes_get_data (bytes, NULL)) % 4 == 0)
        {
          AneCpuValue *borrowed = ane_cpu_value_new_borrowed (v->dtype, v->shape, v->rank, bytes);
          return borrowed;
        }
      if (!fill_from_bytes (v, value->type, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), what, error))
        return NULL;
      return g_steal_pointer (&v);
    }
  if (value->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE ||
      value->immediatevalue->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s: only tensor values are supported", what);
      return NULL;
    }
  {
    const CoreML__Specification__MILSpec__TensorValue *t = value->immediatevalue->tensor;
    gsize count = 0;

#define FILL(arr, cnt) \
    do { count = (cnt); if (count != v->n) goto count_mismatch; \
         for (gsize k = 0; k < count; k++) { if (v->f) v->f[k] = (float) (arr)[k]; else v->i[k] = (gint32) (arr)[k]; } } while (0)
    switch (t->value_case)
      {
      case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_FLOATS:   FILL (t->floats->values, t->floats->n_values); break;
      case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_DOUBLES:  FILL (t->doubles->values, t->doubles->n_values); break;
      case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_INTS:     FILL (t->ints->values, t->ints->n_values); break;
      case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS: FILL (t->longints->values, t->longints->n_values); break;
      case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BOOLS:    FILL (t->bools->values, t->bools->n_values); break;
      case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS:
        if (t->strings->n_values != 1)
          goto count_mismatch;
        v->s = g_strdup (t->strings->values[0]);
        break;
      case CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BYTES:
        if (!fill_from_bytes (v, value->type, t->bytes->values.data, t->bytes->values.len, what, error))
          return NULL;
        break;
      default:
        g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s: empty immediate value", what);
        return NULL;
      }
#undef FILL
  }
  ane_cpu_value_round (v);
  return g_steal_pointer (&v);

count_mismatch:
  g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: the immediate value's element count does not match its type", what);
  return NULL;
}

/* --- building ------------------------------------------------------------- */

static guint
add_slot (AneCpuPlan *plan,
          const char *name)
{
  guint slot = plan->n_slots++;

  plan->consts = g_renew (AneCpuValue *, plan->consts, plan->n_slots);
  plan->const_names = g_renew (char *, plan->const_names, plan->n_slots);
  plan->dropped = g_renew (gboolean, plan->dropped, plan->n_slots);
  plan->packed_const = g_renew (gboolean, plan->packed_const, plan->n_slots);
  plan->immediates = g_renew (const CoreML__Specification__MILSpec__Value *, plan->immediates, plan->n_slots);
  plan->consts[slot] = NULL;
  plan->const_names[slot] = NULL;
  plan->dropped[slot] = FALSE;
  plan->packed_const[slot] = FALSE;
  plan->immediates[slot] = NULL;
  if (name)
    g_hash_table_insert (plan->slot_of, (gpointer) name, GUINT_TO_POINTER (slot + 1));
  return slot;
}

static gboolean
lookup_slot (AneCpuPlan *plan,
             const char *name,
             guint      *slot)
{
  gpointer p = g_hash_table_lookup (plan->slot_of, name);

  if (p == NULL)
    return FALSE;
  *slot = GPOINTER_TO_UINT (p) - 1;
  return TRUE;
}

static void
step_free (gpointer data)
{
  Step *step = data;

  for (guint i = 0; i < step->n_inputs; i++)
    {
      g_free (step->inputs[i].param);
      g_free (step->inputs[i].slots);
    }
  g_free (step->inputs);
  g_free (step->outputs);
  g_free (step->out_types);
  g_free (step->name);
  if (step->frees)
    g_array_unref (step->frees);
  g_free (step);
}

void
ane_cpu_plan_free (AneCpuPlan *plan)
{
  if (plan == NULL)
    return;
  for (guint i = 0; i < plan->n_slots; i++)
    {
      ane_cpu_value_free (plan->consts[i]);
      g_free (plan->const_names[i]);
    }
  g_free (plan->consts);
  g_free (plan->const_names);
  g_free (plan->pinned);
  g_free (plan->dropped);
  g_free (plan->packed_const);
  g_free (plan->immediates);
  g_clear_pointer (&plan->round_steps, g_ptr_array_unref);   /* borrowed from steps */
  g_clear_pointer (&plan->steps, g_ptr_array_unref);
  g_clear_pointer (&plan->inputs, g_array_unref);
  g_clear_pointer (&plan->outputs, g_array_unref);
  g_clear_pointer (&plan->slot_of, g_hash_table_unref);
  g_clear_pointer (&plan->const_ops, g_hash_table_unref);
  g_clear_pointer (&plan->profile, ane_cpu_profile_free);
  g_clear_pointer (&plan->arena, ane_cpu_arena_free);
  g_free (plan);
}

static const CoreML__Specification__MILSpec__Value *
op_attribute (const AneMilOperation *op,
              const char            *key)
{
  for (gsize i = 0; i < op->n_attributes; i++)
    if (g_str_equal (op->attributes[i]->key, key))
      return op->attributes[i]->value;
  return NULL;
}

static const char *
op_display_name (const AneMilOperation *op)
{
  return op->n_outputs > 0 ? op->outputs[0]->name : op->type;
}

static gboolean
load_const (AneCpuPlan            *plan,
            const AneMilOperation *op,
            guint                  slot,
            GError               **error)
{
  const CoreML__Specification__MILSpec__Value *val = op_attribute (op, "val");
  g_autofree char *what = g_strdup_printf ("const '%s'", op_display_name (op));
  AneCpuValue *v;

  if (val == NULL || op->n_outputs != 1)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: a const needs a 'val' attribute and one output", what);
      return FALSE;
    }
  v = decode_value (plan, val, what, error);
  if (v == NULL)
    return FALSE;
  ane_cpu_value_free (plan->consts[slot]);
  plan->consts[slot] = v;
  return TRUE;
}

/* Binds a parameter's arguments to slots; immediate values become consts. */
static gboolean
bind_argument (AneCpuPlan            *plan,
               const AneMilOperation *op,
               const char            *param,
               const AneMilArgument  *arg,
               StepInput             *in,
               GError               **error)
{
  in->param = g_strdup (param);
  in->n = arg->n_arguments;
  in->slots = g_new (guint, MAX (arg->n_arguments, 1));
  for (gsize k = 0; k < arg->n_arguments; k++)
    {
      const AneMilBinding *b = arg->arguments[k];

      if (b->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME)
        {
          if (!lookup_slot (plan, b->name, &in->slots[k]))
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "op %s '%s': parameter '%s' refers to '%s', "
                           "which is not defined before it", op->type, op_display_name (op), param, b->name);
              return FALSE;
            }
        }
      else
        {
          g_autofree char *what = g_strdup_printf ("op %s '%s' parameter '%s'", op->type, op_display_name (op), param);
          AneCpuValue *v = decode_value (plan, b->value, what, error);

          if (v == NULL)
            return FALSE;
          in->slots[k] = add_slot (plan, NULL);
          plan->consts[in->slots[k]] = v;
          plan->immediates[in->slots[k]] = b->value;
        }
    }
  return TRUE;
}

static const AneMilFunction *
find_function (const AneMilProgram *program,
               const char          *function,
               GError             **error)
{
  if (function == NULL && program->n_functions == 1)
    return program->functions[0]->value;
  for (gsize i = 0; i < program->n_functions; i++)
    if (g_str_equal (program->functions[i]->key, function ? function : "main"))
      return program->functions[i]->value;
  g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "the program has no function '%s'", function ? function : "main");
  return NULL;
}

static const AneMilBlock *
function_block (const AneMilFunction *fn)
{
  for (gsize i = 0; i < fn->n_block_specializations; i++)
    if (g_strcmp0 (fn->block_specializations[i]->key, fn->opset) == 0)
      return fn->block_specializations[i]->value;
  return fn->n_block_specializations ? fn->block_specializations[0]->value : NULL;
}

static gboolean
add_port (AneCpuPlan                 *plan,
          GArray                     *ports,
          const AneMilNamedValueType *nvt,
          gboolean                    allocate,
          GError                    **error)
{
  Port port = { 0 };
  AneDType dtype;
  g_autofree char *what = g_strdup_printf ("'%s'", nvt->name);

  if (!decode_type (nvt->type, &dtype, port.shape, &port.rank, what, error) ||
      (allocate && !reserve (plan, what, port.shape, port.rank, error)))
    return FALSE;
  port.name = nvt->name;
  port.state = nvt->type && nvt->type->type_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE;
  port.spec.dtype = dtype;
  port.spec.rank = MIN (port.rank, ANE_MAX_RANK);
  for (guint i = 0; i < port.spec.rank; i++)
    port.spec.shape[i] = port.shape[i];
  port.slot = allocate ? add_slot (plan, nvt->name) : 0;
  g_array_append_val (ports, port);
  return TRUE;
}

/* The most the run holds at once: what the plan keeps, plus the
 * intermediates alive after each step (outputs made, then the values whose
 * last reader it was freed), checked against the budget before any run
 * allocates them. */
static gboolean
check_peak (AneCpuPlan  *plan,
            GError     **error)
{
  g_autofree guint64 *slot_bytes = NULL;
  guint64 live = 0;

  if (plan->budget == 0)
    return TRUE;
  slot_bytes = g_new0 (guint64, MAX (plan->n_slots, 1));
  for (guint s = 0; s < plan->steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->steps, s);

      if (step->folded)
        continue;   /* a const, counted in held */
      for (guint o = 0; o < step->n_outputs; o++)
        {
          const AneMilNamedValueType *out = step->op->outputs[o];
          g_autofree char *what = NULL;
          gint64 shape[ANE_CPU_MAX_RANK];
          guint64 bytes;
          AneDType dtype;
          guint rank;

          if (!decode_type (out->type, &dtype, shape, &rank, "output", NULL))
            continue;   /* refused when the plan was made */
          bytes = value_bytes (shape, rank);
          what = g_strdup_printf ("op %s '%s' output '%s'", step->op->type, step->name, out->name);
          if (over_budget (plan, plan->held + live, bytes, what, shape, rank, error))
            return FALSE;
          live += bytes;
          slot_bytes[step->outputs[o]] = bytes;
        }
      for (guint f = 0; f < step->frees->len; f++)
        live -= MIN (live, slot_bytes[g_array_index (step->frees, guint, f)]);
    }
  return TRUE;
}

/* --- constexpr ops are constants -------------------------------------------- */

/* Issue 15, item 1. A constexpr_* op whose parameters are all consts (every
 * one a lowering writes: the weights of a compressed model) computes the
 * same value on every run, so the plan computes it once, when it is made,
 * and keeps it as a const; its step never runs. A rebound param
 * (ane_cpu_plan_reload_const) makes it again. The consts only such steps
 * read (the int8/int4 data, scales, tables: held as int32 and float, 4 bytes
 * an element) are freed after, and read again from the program when a
 * reload needs them.
 *
 * Where every reader of the value can take it compressed (a linear's
 * weight, a gather of rows), it is not even expanded: int8 / int4 data with
 * scales (constexpr_blockwise_shift_scale, constexpr_affine_dequantize) and
 * fp16 values (constexpr_cast from fp16, an fp16 const) and palettized
 * weights (constexpr_lut_to_dense, pack_lut) and pruned ones
 * (constexpr_sparse_to_dense and the joint forms feeding it, pack_sparse) are packed
 * (ane-cpu-vec-private.h) and those kernels work on them directly. */

static gboolean
is_constexpr (const Step *step)
{
  return step->is_constexpr;
}

static const AneCpuValue *
step_const (AneCpuPlan *plan,
            const Step *step,
            const char *param)
{
  for (guint j = 0; j < step->n_inputs; j++)
    if (g_str_equal (step->inputs[j].param, param) && step->inputs[j].n == 1)
      return plan->consts[step->inputs[j].slots[0]];
  return NULL;
}

static gboolean
is_graph_output (AneCpuPlan *plan,
                 guint       slot)
{
  for (guint i = 0; i < plan->outputs->len; i++)
    if (g_array_index (plan->outputs, Port, i).slot == slot)
      return TRUE;
  return FALSE;
}

/* Whether a 1×1 conv reads its weight [O, C, 1, ..] as the matrix
 * [O, C]: one group, stride 1, no padding (pad_type valid or same, which
 * pads nothing for a 1-wide kernel at stride 1, or custom zeros). The
 * Neural Engine lowering makes every linear layer such a conv
 * (docs/ane-lowering.md), as Anemll and ml-ane-transformers do. */
static gboolean
conv_takes_matrix (AneCpuPlan *plan,
                   const Step *step)
{
  const AneCpuValue *groups = step_const (plan, step, "groups"), *strides = step_const (plan, step, "strides");
  const AneCpuValue *pad_type = step_const (plan, step, "pad_type"), *pad = step_const (plan, step, "pad");

  if (groups != NULL && (groups->n != 1 || ane_cpu_value_get (groups, 0) != 1))
    return FALSE;
  for (gsize i = 0; strides != NULL && i < strides->n; i++)
    if (ane_cpu_value_get (strides, i) != 1)
      return FALSE;
  if (pad_type != NULL && (pad_type->s == NULL ||
                           (!g_str_equal (pad_type->s, "valid") && !g_str_equal (pad_type->s, "same") &&
                            !g_str_equal (pad_type->s, "same_lower") && !g_str_equal (pad_type->s, "custom"))))
    return FALSE;
  for (gsize i = 0; pad != NULL && i < pad->n; i++)
    if (ane_cpu_value_get (pad, i) != 0)
      return FALSE;
  return TRUE;
}

/* Whether a packed value in slot serves step's parameter param: a linear's
 * weight, or the rows a gather on axis 0 picks (an embedding); a weight of
 * rank > 2 held as a matrix (collapsed: [O, C, 1, ..]) only a 1×1 conv's. */
static gboolean
takes_packed_at (AneCpuPlan *plan,
                 const Step *step,
                 const char *param,
                 gboolean    collapsed)
{
  if (g_str_equal (step->op->type, "conv"))
    return collapsed && g_str_equal (param, "weight") && conv_takes_matrix (plan, step);
  if (collapsed)
    return FALSE;
  if (g_str_equal (step->op->type, "linear"))
    return g_str_equal (param, "weight");
  if (g_str_equal (step->op->type, "matmul") && g_str_equal (param, "y"))
    {
      /* x · yᵀ with y [N, K]: the layout of a linear's weight */
      const AneCpuValue *tx = step_const (plan, step, "transpose_x"), *ty = step_const (plan, step, "transpose_y");

      return ty != NULL && ty->n == 1 && ane_cpu_value_get (ty, 0) != 0 &&
             (tx == NULL || (tx->n == 1 && ane_cpu_value_get (tx, 0) == 0));
    }
  if (g_str_equal (step->op->type, "gather") && g_str_equal (param, "x"))
    {
      const AneCpuValue *axis = step_const (plan, step, "axis"), *batch = step_const (plan, step, "batch_dims");

      return axis != NULL && axis->n == 1 && (ane_cpu_value_get (axis, 0) == 0 || ane_cpu_value_get (axis, 0) == -2) &&
             (batch == NULL || (batch->n == 1 && ane_cpu_value_get (batch, 0) == 0));
    }
  return FALSE;
}

/* Whether every reader of slot (at least one, none a graph output) takes
 * the value packed. */
static gboolean
all_take_packed (AneCpuPlan *plan,
                 guint       slot,
                 gboolean    collapsed)
{
  gboolean any = FALSE;

  if (is_graph_output (plan, slot))
    return FALSE;
  for (guint s = 0; s < plan->steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->steps, s);

      if (step->folded)
        continue;
      for (guint j = 0; j < step->n_inputs; j++)
        for (guint k = 0; k < step->inputs[j].n; k++)
          if (step->inputs[j].slots[k] == slot)
            {
              if (!takes_packed_at (plan, step, step->inputs[j].param, collapsed))
                return FALSE;
              any = TRUE;
            }
    }
  return any;
}

static AneCpuValue *
packed_value (AneDType      dtype,
              const gint64 *shape,
              AneCpuPacked *p)
{
  AneCpuValue *v = g_new0 (AneCpuValue, 1);

  v->dtype = dtype;
  v->rank = 2;
  v->shape[0] = shape[0];
  v->shape[1] = shape[1];
  v->n = (gsize) (shape[0] * shape[1]);
  v->packed = p;
  return v;
}

/* float copies of a scale / offset tensor (float or integer), or NULL. */
static float *
floats_copy (const AneCpuValue *v)
{
  float *f;

  if (v == NULL)
    return NULL;
  f = g_new (float, MAX (v->n, 1));
  for (gsize i = 0; i < v->n; i++)
    f[i] = v->f ? v->f[i] : (float) v->i[i];
  return f;
}

/* Whether shape is [a, b, 1, ..]: a weight a 1×1 conv reads as [a, b]. */
static gboolean
trailing_ones (const gint64 *shape,
               guint         rank)
{
  if (rank < 3)
    return FALSE;
  for (guint i = 2; i < rank; i++)
    if (shape[i] != 1)
      return FALSE;
  return TRUE;
}

/* v as a matrix: itself, or (in tmp) a rank-2 view of a [a, b, 1, ..]
 * value, sharing its storage. */
static const AneCpuValue *
as_matrix (const AneCpuValue *v,
           AneCpuValue       *tmp)
{
  if (v == NULL || !trailing_ones (v->shape, v->rank))
    return v;
  *tmp = *v;
  tmp->rank = 2;
  return tmp;
}

/* An iOS18 lut [G, 1, .., 2^n, V] of a collapsed weight as [G, 1, 2^n, V]. */
static const AneCpuValue *
lut_as_matrix (const AneCpuValue *lut,
               AneCpuValue       *tmp)
{
  if (lut == NULL || lut->rank <= 4)
    return lut;
  for (guint i = 1; i < lut->rank - 2; i++)
    if (lut->shape[i] != 1)
      return lut;
  *tmp = *lut;
  tmp->rank = 4;
  tmp->shape[2] = lut->shape[lut->rank - 2];
  tmp->shape[3] = lut->shape[lut->rank - 1];
  return tmp;
}

/* int8, int4 or uint4 data (held as int32) with scales [srows, scols]: the
 * narrowest kind that holds every value (uint4: GGUF Q4_K's q in 0..15,
 * ane-lower-q4k.c). */
static AneCpuPacked *
pack_ints (const AneCpuValue *data,
           const float       *scale,
           gsize              srows,
           gsize              scols,
           const float       *offset,
           gboolean           round_fp16)
{
  gboolean int4 = TRUE, uint4 = TRUE;

  if (data == NULL || data->i == NULL || data->rank != 2)
    return NULL;
  for (gsize i = 0; i < data->n && (int4 || uint4); i++)
    {
      int4 = int4 && data->i[i] >= -8 && data->i[i] <= 7;
      uint4 = uint4 && data->i[i] >= 0 && data->i[i] <= 15;
    }
  return ane_cpu_packed_new_blockwise (int4 ? ANE_CPU_PACKED_INT4 : uint4 ? ANE_CPU_PACKED_UINT4 : ANE_CPU_PACKED_INT8,
                                       (gsize) data->shape[0], (gsize) data->shape[1], data->i,
                                       scale, srows, scols, offset, round_fp16);
}

/* A folded constexpr_lut_to_dense whose tables are per group of rows (one
 * for the tensor, or per-grouped-channel along the output axis) with
 * scalar entries, as ANE_CPU_PACKED_LUT (ane-cpu-vec-lut.c); NULL to
 * expand it (what the dense kernel, ane-cpu-k-quant.c, then checks and
 * makes). The forms (coremltools iOS16/constexpr_ops.py and
 * iOS18/compression.py constexpr_lut_to_dense):
 * - iOS16: indices a uint8 vector holding the bit stream of n-bit indices
 *   (LSB first), lut [2^n] (n 1, 2, 4, 6 or 8), shape;
 * - iOS18: indices uint{n} [rows, cols], lut [G0, G1, 2^n, VECTOR_SIZE]:
 *   packed when G1 = 1 (tables along the output axis only: G1 > 1, a
 *   table per group of input columns, stays dense) and VECTOR_SIZE = 1
 *   (vector palettization stays dense).
 * The lut's entries may be a folded value too (the iOS18 joint
 * constexpr_blockwise_shift_scale → lut form): any float lut is taken. */
static AneCpuPacked *
pack_lut (AneCpuPlan   *plan,
          const Step   *step,
          const gint64 *shape,
          gboolean      round_fp16)
{
  AneCpuValue iview, lview;
  const AneCpuValue *indices = as_matrix (step_const (plan, step, "indices"), &iview);
  const AneCpuValue *lut = lut_as_matrix (step_const (plan, step, "lut"), &lview);
  const AneCpuValue *out_shape = step_const (plan, step, "shape");
  gsize rows = (gsize) shape[0], cols = (gsize) shape[1], n_tables = 1;
  g_autofree gint32 *idx = NULL;
  guint bits = 0;

  if (indices == NULL || indices->i == NULL || lut == NULL || lut->f == NULL)
    return NULL;
  if (out_shape != NULL)
    {
      /* iOS16: one table, the indices a bit stream */
      const AneCpuValue *bytes = indices;

      if (lut->rank != 1 || out_shape->n < 2 || (gint64) ane_cpu_value_get (out_shape, 0) != shape[0] ||
          (gint64) ane_cpu_value_get (out_shape, 1) != shape[1])
        return NULL;
      for (gsize d = 2; d < out_shape->n; d++)
        if (ane_cpu_value_get (out_shape, d) != 1)
          return NULL;
      for (guint b = 1; b <= 8; b++)
        if (((gsize) 1 << b) == lut->n && b != 3 && b != 5 && b != 7)
          bits = b;
      if (bits == 0 || bytes->rank != 1 || bytes->n != (rows * cols * bits + 7) / 8)
        return NULL;
      idx = g_new (gint32, rows * cols);
      for (gsize i = 0; i < rows * cols; i++)
        {
          guint64 bit = (guint64) i * bits;
          guint32 u = 0;

          for (guint b = 0; b < bits; b++, bit++)
            u |= (guint32) (((guint32) bytes->i[bit / 8] >> (bit % 8)) & 1u) << b;
          idx[i] = (gint32) u;
        }
      return ane_cpu_packed_new_lut (rows, cols, bits, idx, lut->f, 1, round_fp16);
    }
  /* iOS18 */
  if (indices->rank != 2 || indices->shape[0] != shape[0] || indices->shape[1] != shape[1] || lut->rank != 4 ||
      lut->shape[1] != 1 || lut->shape[3] != 1 || lut->shape[0] <= 0 || shape[0] % lut->shape[0] != 0)
    return NULL;
  for (guint b = 1; b <= 8; b++)
    if (((gint64) 1 << b) == lut->shape[2])
      bits = b;
  n_tables = (gsize) lut->shape[0];
  return bits ? ane_cpu_packed_new_lut (rows, cols, bits, indices->i, lut->f, n_tables, round_fp16) : NULL;
}

/* A folded constexpr_sparse_to_dense as ANE_CPU_PACKED_SPARSE
 * (ane-cpu-vec-sparse.c); NULL to expand it (what the dense kernel,
 * ane-cpu-k-quant.c, then checks and makes). The forms (coremltools
 * iOS16/constexpr_ops.py and iOS18/compression.py
 * constexpr_sparse_to_dense):
 * - iOS16: mask a uint8 vector holding one bit per output element, LSB
 *   first, and shape;
 * - iOS18: mask uint1 of the output's shape.
 * nonzero_data may be a const or the values output of a folded iOS18
 * joint op (constexpr_lut_to_sparse, constexpr_sparse_blockwise_shift_scale:
 * the float weights those make, dequantized already; kept as halves when
 * the output is fp16, as fp32 otherwise); its mask then comes from the
 * same op (drop_joint_values frees the pair once packed). */
static AneCpuPacked *
pack_sparse (AneCpuPlan   *plan,
             const Step   *step,
             const gint64 *shape,
             guint         rank,
             gboolean      round_fp16)
{
  const AneCpuValue *nz = step_const (plan, step, "nonzero_data"), *mask = step_const (plan, step, "mask");
  const AneCpuValue *out_shape = step_const (plan, step, "shape");
  gsize rows = (gsize) shape[0], cols = (gsize) shape[1], n = rows * cols;
  g_autofree guint8 *bits = NULL;

  if (nz == NULL || nz->f == NULL || mask == NULL || mask->i == NULL)
    return NULL;
  bits = g_malloc0 ((n + 7) / 8);
  if (out_shape != NULL)
    {
      /* iOS16: the bytes as they are */
      if (out_shape->n != rank || mask->rank != 1 || mask->n != (n + 7) / 8)
        return NULL;
      for (guint d = 0; d < rank; d++)
        if ((gint64) ane_cpu_value_get (out_shape, d) != shape[d])
          return NULL;
      for (gsize i = 0; i < mask->n; i++)
        bits[i] = (guint8) mask->i[i];
    }
  else
    {
      /* iOS18: one uint1 per element, of the output's shape */
      if (mask->rank != rank || mask->n != n)
        return NULL;
      for (guint d = 0; d < rank; d++)
        if (mask->shape[d] != shape[d])
          return NULL;
      for (gsize i = 0; i < n; i++)
        if (mask->i[i] != 0)
          bits[i / 8] |= (guint8) (1u << (i % 8));
    }
  return ane_cpu_packed_new_sparse (rows, cols, bits, nz->f, nz->n, round_fp16);
}

static Step *producer_of (AneCpuPlan *plan, guint slot);
static guint readers (AneCpuPlan *plan, guint slot, Step **one);

static guint
input_of (const Step *step,
          const char *param)
{
  for (guint j = 0; j < step->n_inputs; j++)
    if (g_str_equal (step->inputs[j].param, param) && step->inputs[j].n == 1)
      return step->inputs[j].slots[0];
  return G_MAXUINT;
}

/* After a constexpr_sparse_to_dense was packed: the (mask, values) pair
 * a folded joint op made for it alone is freed (a uint1 mask is held as
 * int32, 4 bytes a weight: more than the dense weight). A reload of the
 * joint op's consts makes the pair again before the step is packed again
 * (refold runs the folded steps in program order). */
static void
drop_joint_values (AneCpuPlan *plan,
                   const Step *step)
{
  guint mask = input_of (step, "mask"), nz = input_of (step, "nonzero_data");
  Step *producer, *one = NULL;

  if (mask == G_MAXUINT || nz == G_MAXUINT || (producer = producer_of (plan, mask)) == NULL ||
      producer != producer_of (plan, nz) || !producer->folded || producer->n_outputs != 2)
    return;
  for (guint o = 0; o < producer->n_outputs; o++)
    {
      guint slot = producer->outputs[o];

      if (is_graph_output (plan, slot) || readers (plan, slot, &one) != 1 || one != step)
        return;
    }
  for (guint o = 0; o < producer->n_outputs; o++)
    {
      AneCpuValue *v = plan->consts[producer->outputs[o]];

      if (v == NULL)
        continue;
      if (v->keep == NULL && v->packed == NULL)
        plan->held -= MIN (plan->held, value_bytes (v->shape, v->rank));
      ane_cpu_value_free (v);
      plan->consts[producer->outputs[o]] = NULL;
    }
}

/* The packed result of a folded step, or NULL to expand it instead. */
static AneCpuValue *
pack_step (AneCpuPlan *plan,
           const Step *step)
{
  const AneMilNamedValueType *out = step->op->outputs[0];
  const char *type = step->op->type;
  AneDType dtype;
  gint64 shape[ANE_CPU_MAX_RANK];
  guint rank;
  AneCpuPacked *p = NULL;

  gboolean collapsed;
  AneCpuValue dview, sview;

  if (step->n_outputs != 1 || !decode_type (out->type, &dtype, shape, &rank, "constexpr", NULL))
    return NULL;
  collapsed = trailing_ones (shape, rank);
  if ((rank != 2 && !collapsed) || (dtype != ANE_DTYPE_FLOAT32 && dtype != ANE_DTYPE_FLOAT16) ||
      !all_take_packed (plan, step->outputs[0], collapsed))
    return NULL;
  if (g_str_equal (type, "constexpr_blockwise_shift_scale"))
    {
      const AneCpuValue *data = as_matrix (step_const (plan, step, "data"), &dview);
      const AneCpuValue *scale = as_matrix (step_const (plan, step, "scale"), &sview);
      const AneCpuValue *offset = step_const (plan, step, "offset");
      g_autofree float *s = NULL, *o = NULL;

      if (data == NULL || scale == NULL || scale->rank != 2 || data->rank != 2 ||
          data->shape[0] != shape[0] || data->shape[1] != shape[1] || (offset && offset->n != scale->n))
        return NULL;
      s = floats_copy (scale);
      o = floats_copy (offset);
      p = pack_ints (data, s, (gsize) scale->shape[0], (gsize) scale->shape[1], o, dtype == ANE_DTYPE_FLOAT16);
    }
  else if (g_str_equal (type, "constexpr_affine_dequantize"))
    {
      const AneCpuValue *data = as_matrix (step_const (plan, step, "quantized_data"), &dview);
      const AneCpuValue *scale = step_const (plan, step, "scale");
      const AneCpuValue *zp = step_const (plan, step, "zero_point"), *axis_v = step_const (plan, step, "axis");
      gint64 axis = axis_v ? (gint64) ane_cpu_value_get (axis_v, 0) : 0;
      g_autofree float *s = NULL, *o = NULL;
      gsize srows = 1, scols = 1;

      if (data == NULL || scale == NULL || zp == NULL || data->rank != 2 || zp->n != scale->n)
        return NULL;
      if (scale->n != 1)
        {
          if (axis < 0)
            axis += 2;
          if (scale->rank != 1 || axis < 0 || axis > 1 || (gint64) scale->n != data->shape[axis])
            return NULL;
          srows = axis == 0 ? scale->n : 1;
          scols = axis == 1 ? scale->n : 1;
        }
      s = floats_copy (scale);
      o = floats_copy (zp);
      p = pack_ints (data, s, srows, scols, o, dtype == ANE_DTYPE_FLOAT16);
    }
  else if (g_str_equal (type, "constexpr_cast"))
    {
      const AneCpuValue *src = as_matrix (step_const (plan, step, "source_val"), &dview);

      if (src && src->dtype == ANE_DTYPE_FLOAT16 && src->f && src->rank == 2)
        p = ane_cpu_packed_new_fp16 ((gsize) shape[0], (gsize) shape[1], src->f);
    }
  else if (g_str_equal (type, "constexpr_lut_to_dense"))
    p = pack_lut (plan, step, shape, dtype == ANE_DTYPE_FLOAT16);
  else if (g_str_equal (type, "constexpr_sparse_to_dense"))
    p = pack_sparse (plan, step, shape, rank, dtype == ANE_DTYPE_FLOAT16);
  return p ? packed_value (dtype, shape, p) : NULL;
}

/* Makes a folded step's value: packed, or by running its kernel once. */
static gboolean
materialize (AneCpuPlan *plan,
             Step       *step,
             GError    **error)
{
  AneCpuValue *packed = pack_step (plan, step);

  plan->constexpr_runs++;
  for (guint o = 0; o < step->n_outputs; o++)
    {
      ane_cpu_value_free (plan->consts[step->outputs[o]]);
      plan->consts[step->outputs[o]] = NULL;
    }
  if (packed != NULL)
    {
      plan->held += ane_cpu_packed_bytes (packed->packed);
      plan->consts[step->outputs[0]] = packed;
      if (packed->packed->kind == ANE_CPU_PACKED_SPARSE)
        drop_joint_values (plan, step);
      return TRUE;
    }
  for (guint o = 0; o < step->n_outputs; o++)
    {
      AneDType dtype;
      gint64 shape[ANE_CPU_MAX_RANK];
      guint rank;

      decode_type (step->op->outputs[o]->type, &dtype, shape, &rank, step->name, NULL);
      if (!reserve (plan, step->name, shape, rank, error))
        return FALSE;
      plan->consts[step->outputs[o]] = ane_cpu_value_new (dtype, shape, rank);
    }
  {
    AneCpuCtx ctx = { plan, step, plan->consts };

    if (!step->kernel->run (&ctx, error))
      return FALSE;
  }
  for (guint o = 0; o < step->n_outputs; o++)
    ane_cpu_value_round (plan->consts[step->outputs[o]]);
  return TRUE;
}

static gboolean
read_by_unfolded (AneCpuPlan *plan,
                  guint       slot)
{
  for (guint s = 0; s < plan->steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->steps, s);

      if (step->folded)
        continue;
      for (guint j = 0; j < step->n_inputs; j++)
        for (guint k = 0; k < step->inputs[j].n; k++)
          if (step->inputs[j].slots[k] == slot)
            return TRUE;
    }
  return FALSE;
}

/* Frees the const ops' values only folded steps read. */
static void
drop_folded_sources (AneCpuPlan *plan)
{
  for (guint slot = 0; slot < plan->n_slots; slot++)
    {
      AneCpuValue *v = plan->consts[slot];

      if (v == NULL || (plan->const_names[slot] == NULL && plan->immediates[slot] == NULL) ||
          read_by_unfolded (plan, slot) || is_graph_output (plan, slot))
        continue;
      if (v->keep == NULL && v->packed == NULL)
        plan->held -= MIN (plan->held, value_bytes (v->shape, v->rank));
      ane_cpu_value_free (v);
      plan->consts[slot] = NULL;
      plan->dropped[slot] = TRUE;
    }
}

/* Packs a const op's fp16 value when every reader takes it packed. */
static void
pack_const (AneCpuPlan *plan,
            guint       slot)
{
  AneCpuValue *v = plan->consts[slot];
  AneCpuPacked *p;

  gboolean collapsed = v != NULL && trailing_ones (v->shape, v->rank);

  if (v == NULL || v->dtype != ANE_DTYPE_FLOAT16 || v->f == NULL || (v->rank != 2 && !collapsed) || v->n == 0 ||
      !all_take_packed (plan, slot, collapsed))
    return;
  p = ane_cpu_packed_new_fp16 ((gsize) v->shape[0], (gsize) v->shape[1], v->f);
  plan->held -= MIN (plan->held, value_bytes (v->shape, v->rank));
  plan->held += ane_cpu_packed_bytes (p);
  plan->consts[slot] = packed_value (v->dtype, v->shape, p);
  plan->packed_const[slot] = TRUE;
  ane_cpu_value_free (v);
}

/* Whether a const op holds integer weights in a blob file (the data of a
 * constexpr op) or fp16 ones, whose decoding waits for fold_constexpr
 * (which may use the bytes as they are instead). */
static gboolean
deferrable (const AneMilOperation *op)
{
  const CoreML__Specification__MILSpec__Value *val = op_attribute (op, "val");
  int dt;

  if (val == NULL || op->n_outputs != 1 ||
      val->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE ||
      val->type == NULL || val->type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE)
    return FALSE;
  dt = val->type->tensortype->datatype;
  return dt == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT8 || dt == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT8 ||
         dt == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16 ||
         dt == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT4 || dt == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT4 ||
         dt == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT1 || dt == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT2 ||
         dt == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT3 || dt == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT6;
}

/* The GGUF blocks a const op's blob is a part of (ane_mil_const_blocks),
 * or NULL. */
static GBytes *
const_blocks (AneCpuPlan            *plan,
              const AneMilOperation *op,
              AneDType              *blocks_dtype,
              int                   *part)
{
  const CoreML__Specification__MILSpec__Value *val = op ? op_attribute (op, "val") : NULL;

  if (plan->blocks == NULL || val == NULL ||
      val->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE)
    return NULL;
  return plan->blocks (plan->blobs_data, val->blobfilevalue->filename, val->blobfilevalue->offset, blocks_dtype, part);
}

/* Whether a const op's value is a part of GGUF blocks: deferred like
 * integer data, so that the blocks can be packed as they are (its split
 * bytes are made only when something needs them decoded). */
static gboolean
from_blocks (AneCpuPlan            *plan,
             const AneMilOperation *op)
{
  AneDType dtype;
  int part;
  g_autoptr(GBytes) blocks = const_blocks (plan, op, &dtype, &part);

  return blocks != NULL;
}

static gboolean
load_dropped (AneCpuPlan *plan,
              guint       slot,
              GError    **error)
{
  if (!plan->dropped[slot] || plan->consts[slot] != NULL)
    return TRUE;
  plan->dropped[slot] = FALSE;
  if (plan->const_names[slot] == NULL)
    return (plan->consts[slot] = decode_value (plan, plan->immediates[slot], "an immediate value", error)) != NULL;
  return load_const (plan, g_hash_table_lookup (plan->const_ops, plan->const_names[slot]), slot, error);
}

/* The stored bytes of a deferred const (a blob file value), its MIL data
 * type and shape; NULL when it is not one. */
static GBytes *
raw_blob (AneCpuPlan *plan,
          guint       slot,
          int        *mil_dtype,
          gint64     *shape,
          guint      *rank)
{
  const AneMilOperation *op;
  const CoreML__Specification__MILSpec__Value *val;
  AneDType dtype;

  if (!plan->dropped[slot] || plan->consts[slot] != NULL || plan->const_names[slot] == NULL || plan->blobs == NULL)
    return NULL;
  op = g_hash_table_lookup (plan->const_ops, plan->const_names[slot]);
  val = op ? op_attribute (op, "val") : NULL;
  if (val == NULL || val->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE ||
      !decode_type (val->type, &dtype, shape, rank, "const", NULL))
    return NULL;
  *mil_dtype = val->type->tensortype->datatype;
  return plan->blobs (plan->blobs_data, val->blobfilevalue->filename, val->blobfilevalue->offset, NULL);
}

/* A folded constexpr_cast of a deferred fp16 blob to fp32 (a float16
 * weight of an fp32 program, ane-lower.c half_weight) that only packed
 * readers take: packed over the stored halves, never widened (widening
 * first held the weight at 4 bytes a weight while the plan was made). NULL
 * to take the ordinary way. */
static AneCpuValue *
pack_cast_raw (AneCpuPlan *plan,
               const Step *step)
{
  AneDType dtype;
  gint64 shape[ANE_CPU_MAX_RANK], sshape[ANE_CPU_MAX_RANK];
  guint rank, srank = 0;
  int mil = 0;
  guint source = input_slot (step, "source_val");
  g_autoptr(GBytes) bytes = NULL;
  AneCpuPacked *p;

  if (step->n_outputs != 1 || source == G_MAXUINT ||
      !decode_type (step->op->outputs[0]->type, &dtype, shape, &rank, "constexpr", NULL) || rank != 2 ||
      dtype != ANE_DTYPE_FLOAT32 || !all_take_packed (plan, step->outputs[0], FALSE))
    return NULL;
  bytes = raw_blob (plan, source, &mil, sshape, &srank);
  if (bytes == NULL || mil != CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16 || srank != 2 ||
      sshape[0] != shape[0] || sshape[1] != shape[1])
    return NULL;
  p = ane_cpu_packed_new_borrowed (ANE_CPU_PACKED_FP16, (gsize) shape[0], (gsize) shape[1], bytes,
                                   NULL, 0, 0, NULL, FALSE);
  return p ? packed_value (dtype, shape, p) : NULL;
}

/* A deferred const's values as floats, the const left dropped (decoded
 * for this and freed at once, so that the scales of every weight are not
 * all held decoded while the plan is made); NULL when it cannot be read. */
static float *
deferred_floats (AneCpuPlan *plan,
                 guint       slot,
                 gsize       n)
{
  AneCpuValue *v;
  float *f;

  if (!plan->dropped[slot] || plan->consts[slot] != NULL || !load_dropped (plan, slot, NULL) ||
      (v = plan->consts[slot]) == NULL)
    return NULL;
  f = v->n == n ? floats_copy (v) : NULL;
  if (v->keep == NULL)
    plan->held -= MIN (plan->held, value_bytes (v->shape, v->rank));
  ane_cpu_value_free (v);
  plan->consts[slot] = NULL;
  plan->dropped[slot] = TRUE;
  return f;
}

/* A folded constexpr_blockwise_shift_scale of the data, scale and offset
 * of GGUF Q4_K blocks (ane-lower-q4k.c), packed over the blocks: the
 * kernels read the q where the file holds them, with the program's
 * scales and offsets (decoded once, 8 bytes per 32 weights). NULL to take
 * another way. */
static AneCpuValue *
pack_step_q4_K_blocks (AneCpuPlan *plan,
                       const Step *step,
                       GBytes     *blocks,
                       AneDType    dtype,
                       const gint64 *shape)
{
  guint scale_slot = input_slot (step, "scale"), offset_slot = input_slot (step, "offset");
  const AneMilOperation *op;
  g_autoptr(GBytes) sb = NULL;
  g_autoptr(GBytes) ob = NULL;
  g_autofree float *scale = NULL, *offset = NULL;
  AneDType sd = ANE_DTYPE_FLOAT32, od = ANE_DTYPE_FLOAT32;
  int sp = -1, op_part = -1;
  gsize n = (gsize) shape[0] * (gsize) (shape[1] / 32);
  AneCpuPacked *p;

  if (step->n_inputs != 3 || offset_slot == G_MAXUINT || plan->const_names[offset_slot] == NULL ||
      plan->consts[offset_slot] != NULL || shape[1] % 256 != 0)
    return NULL;
  op = g_hash_table_lookup (plan->const_ops, plan->const_names[scale_slot]);
  sb = const_blocks (plan, op, &sd, &sp);
  op = g_hash_table_lookup (plan->const_ops, plan->const_names[offset_slot]);
  ob = const_blocks (plan, op, &od, &op_part);
  if (sb == NULL || ob == NULL || sp != ANE_MIL_BLOCKS_SCALE || op_part != ANE_MIL_BLOCKS_OFFSET ||
      sd != ANE_DTYPE_Q4_K || od != ANE_DTYPE_Q4_K || g_bytes_get_data (sb, NULL) != g_bytes_get_data (blocks, NULL) ||
      g_bytes_get_data (ob, NULL) != g_bytes_get_data (blocks, NULL))
    return NULL;
  scale = deferred_floats (plan, scale_slot, n);
  offset = deferred_floats (plan, offset_slot, n);
  if (scale == NULL || offset == NULL)
    return NULL;
  /* the scales were read from every block through the file's mapping: its
   * pages are not needed now (a gathered table reads its rows with pread,
   * streamed weights are copied later) */
  ane_file_release_pages (g_bytes_get_data (blocks, NULL), g_bytes_get_size (blocks));
  p = ane_cpu_packed_new_q4_K_blocks ((gsize) shape[0], (gsize) shape[1], blocks, scale, offset,
                                      dtype == ANE_DTYPE_FLOAT16);
  return p ? packed_value (dtype, shape, p) : NULL;
}

/* A folded constexpr_blockwise_shift_scale of the data and scale of GGUF
 * Q8_0 / Q4_0 blocks (ane_mil_const_blocks), packed over the blocks
 * themselves: scale · data is d · q, and the kernels read d and q where
 * the file holds them (ANE_CPU_PACKED_Q8_0_BLOCKS / Q4_0_BLOCKS). Neither
 * the split data nor the scales are ever made. Q4_K blocks (with an
 * offset too): pack_step_q4_K_blocks. NULL to take another way. */
static AneCpuValue *
pack_step_blocks (AneCpuPlan *plan,
                  const Step *step)
{
  AneDType dtype, held, data_dtype = ANE_DTYPE_FLOAT32, scale_dtype = ANE_DTYPE_FLOAT32;
  gint64 shape[ANE_CPU_MAX_RANK], dshape[ANE_CPU_MAX_RANK], sshape[ANE_CPU_MAX_RANK];
  guint rank, drank = 0, srank = 0;
  int data_part = -1, scale_part = -1;
  guint data_slot = input_slot (step, "data"), scale_slot = input_slot (step, "scale");
  g_autoptr(GBytes) data = NULL;
  g_autoptr(GBytes) scale = NULL;
  const AneMilOperation *data_op, *scale_op;
  const CoreML__Specification__MILSpec__Value *sval;
  AneCpuPacked *p;

  if (plan->blocks == NULL || !g_str_equal (step->op->type, "constexpr_blockwise_shift_scale") ||
      step->n_outputs != 1 || data_slot == G_MAXUINT || scale_slot == G_MAXUINT ||
      !decode_type (step->op->outputs[0]->type, &dtype, shape, &rank, "constexpr", NULL) || rank != 2 ||
      (dtype != ANE_DTYPE_FLOAT32 && dtype != ANE_DTYPE_FLOAT16) ||
      plan->const_names[data_slot] == NULL || plan->const_names[scale_slot] == NULL ||
      plan->consts[data_slot] != NULL || plan->consts[scale_slot] != NULL || !all_take_packed (plan, step->outputs[0], FALSE))
    return NULL;
  data_op = g_hash_table_lookup (plan->const_ops, plan->const_names[data_slot]);
  scale_op = g_hash_table_lookup (plan->const_ops, plan->const_names[scale_slot]);
  data = const_blocks (plan, data_op, &data_dtype, &data_part);
  scale = const_blocks (plan, scale_op, &scale_dtype, &scale_part);
  sval = scale_op ? op_attribute (scale_op, "val") : NULL;
  /* the data and the scales of the same blocks, shaped as the op's output */
  if (data == NULL || scale == NULL || data_part != ANE_MIL_BLOCKS_DATA || scale_part != ANE_MIL_BLOCKS_SCALE ||
      data_dtype != scale_dtype || g_bytes_get_data (data, NULL) != g_bytes_get_data (scale, NULL) ||
      g_bytes_get_size (data) != g_bytes_get_size (scale) ||
      !decode_type (op_attribute (data_op, "val")->type, &held, dshape, &drank, "const", NULL) ||
      !decode_type (sval->type, &held, sshape, &srank, "const", NULL) ||
      drank != 2 || dshape[0] != shape[0] || dshape[1] != shape[1] ||
      srank != 2 || sshape[0] != shape[0] || sshape[1] * 32 != shape[1])
    return NULL;
  /* a float scale (fp32 or fp16: either holds the fp16 d exactly) */
  if (sval->type->tensortype->datatype != CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32 &&
      sval->type->tensortype->datatype != CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16)
    return NULL;
  if (data_dtype == ANE_DTYPE_Q4_K)
    return pack_step_q4_K_blocks (plan, step, data, dtype, shape);
  if (step->n_inputs != 2)
    return NULL;
  p = ane_cpu_packed_new_blocks (data_dtype == ANE_DTYPE_Q8_0 ? ANE_CPU_PACKED_Q8_0_BLOCKS : ANE_CPU_PACKED_Q4_0_BLOCKS,
                                 (gsize) shape[0], (gsize) shape[1], data, dtype == ANE_DTYPE_FLOAT16);
  return p ? packed_value (dtype, shape, p) : NULL;
}

/* A folded constexpr_blockwise_shift_scale whose int8 data is a deferred
 * blob, packed over the stored bytes (no decoding, no copy); NULL to take
 * the ordinary way. */
static AneCpuValue *
pack_step_raw (AneCpuPlan *plan,
               const Step *step,
               GError    **error)
{
  AneDType dtype;
  gint64 shape[ANE_CPU_MAX_RANK], dshape[ANE_CPU_MAX_RANK];
  guint rank, drank = 0;
  int mil = 0;
  guint data_slot = G_MAXUINT;
  const AneCpuValue *scale, *offset;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree float *s = NULL, *o = NULL;
  AneCpuPacked *p;
  AneCpuValue *raw;

  if (g_str_equal (step->op->type, "constexpr_cast"))
    return pack_cast_raw (plan, step);
  if ((raw = pack_step_blocks (plan, step)) != NULL)
    return raw;
  if (!g_str_equal (step->op->type, "constexpr_blockwise_shift_scale") || step->n_outputs != 1 ||
      !decode_type (step->op->outputs[0]->type, &dtype, shape, &rank, "constexpr", NULL) || rank != 2 ||
      (dtype != ANE_DTYPE_FLOAT32 && dtype != ANE_DTYPE_FLOAT16))
    return NULL;
  for (guint j = 0; j < step->n_inputs; j++)
    if (g_str_equal (step->inputs[j].param, "data") && step->inputs[j].n == 1)
      data_slot = step->inputs[j].slots[0];
  if (data_slot == G_MAXUINT || !all_take_packed (plan, step->outputs[0], FALSE))
    return NULL;
  bytes = raw_blob (plan, data_slot, &mil, dshape, &drank);
  if (bytes == NULL || mil != CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT8 || drank != 2 ||
      dshape[0] != shape[0] || dshape[1] != shape[1])
    return NULL;
  for (guint j = 0; j < step->n_inputs; j++)
    if (step->inputs[j].slots[0] != data_slot && !load_dropped (plan, step->inputs[j].slots[0], error))
      return NULL;
  scale = step_const (plan, step, "scale");
  offset = step_const (plan, step, "offset");
  if (scale == NULL || scale->rank != 2 || (offset && offset->n != scale->n))
    return NULL;
  s = floats_copy (scale);
  o = floats_copy (offset);
  p = ane_cpu_packed_new_borrowed (ANE_CPU_PACKED_INT8, (gsize) shape[0], (gsize) shape[1], bytes, s,
                                   (gsize) scale->shape[0], (gsize) scale->shape[1], o, dtype == ANE_DTYPE_FLOAT16);
  return p ? packed_value (dtype, shape, p) : NULL;
}

/* A deferred fp16 const that linears / transposed matmuls read, used as
 * stored; FALSE to decode it instead. */
static gboolean
pack_const_raw (AneCpuPlan *plan,
                guint       slot)
{
  gint64 shape[ANE_CPU_MAX_RANK];
  guint rank = 0;
  int mil = 0;
  g_autoptr(GBytes) bytes = NULL;
  AneCpuPacked *p;

  if (!all_take_packed (plan, slot, FALSE))
    return FALSE;
  bytes = raw_blob (plan, slot, &mil, shape, &rank);
  if (bytes == NULL || mil != CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16 || rank != 2)
    return FALSE;
  p = ane_cpu_packed_new_borrowed (ANE_CPU_PACKED_FP16, (gsize) shape[0], (gsize) shape[1], bytes,
                                   NULL, 0, 0, NULL, FALSE);
  if (p == NULL)
    return FALSE;
  plan->consts[slot] = packed_value (ANE_DTYPE_FLOAT16, shape, p);
  plan->dropped[slot] = FALSE;
  plan->packed_const[slot] = TRUE;
  return TRUE;
}

/* An identity of a folded constexpr op's value (how dequant_moe_weights
 * lowers: the LLaMA graphs' quantized embedding, ane-llama.c
 * embedding_param) is the same value: its readers read the constexpr
 * op's value in its place, so that a gather reading it can take it packed
 * (the rows dequantized from the compressed weight instead of a whole
 * dense copy). Not when the identity's value is a function output. */
static gboolean
elide_identity (AneCpuPlan *plan,
                guint       s,
                gboolean   *folded_value)
{
  Step *step = g_ptr_array_index (plan->steps, s);
  guint out;

  if (!step->is_identity || !folded_value[step->identity_in] || step->n_outputs != 1 ||
      is_graph_output (plan, step->outputs[0]))
    return FALSE;
  out = step->outputs[0];
  for (guint t = s + 1; t < plan->steps->len; t++)
    {
      Step *later = g_ptr_array_index (plan->steps, t);

      for (guint j = 0; j < later->n_inputs; j++)
        for (guint k = 0; k < later->inputs[j].n; k++)
          if (later->inputs[j].slots[k] == out)
            later->inputs[j].slots[k] = step->identity_in;
    }
  step->folded = step->elided = TRUE;
  return TRUE;
}

/* Folds every constexpr step of consts, in program order (one may read
 * another's value), then packs the fp16 const weights. The deferred
 * integer data a step reads is decoded just before it is folded and freed
 * just after, so at most one weight is ever held decoded. */
static gboolean
fold_constexpr (AneCpuPlan *plan,
                GError    **error)
{
  g_autofree gboolean *is_const = g_new0 (gboolean, MAX (plan->n_slots, 1));
  g_autofree gboolean *unfolded_reader = g_new0 (gboolean, MAX (plan->n_slots, 1));
  g_autofree gboolean *folded_value = g_new0 (gboolean, MAX (plan->n_slots, 1));
  gboolean fold = g_strcmp0 (g_getenv ("ANE_CPU_FOLD"), "0") != 0;

  for (guint slot = 0; slot < plan->n_slots; slot++)
    is_const[slot] = plan->consts[slot] != NULL || plan->dropped[slot];
  /* which steps fold, before any is made: a folded step's outputs are consts */
  for (guint s = 0; s < plan->steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->steps, s);
      /* ANE_CPU_FOLD=0: every constexpr op runs on every run and every
       * weight is dense, as before issue 15 (a diagnostic, and the
       * baseline bench/llm compares with) */
      gboolean consts = fold && is_constexpr (step) && step->n_outputs > 0;

      if (fold && elide_identity (plan, s, folded_value))
        continue;
      for (guint j = 0; j < step->n_inputs && consts; j++)
        for (guint k = 0; k < step->inputs[j].n && consts; k++)
          consts = is_const[step->inputs[j].slots[k]];
      step->folded = consts;
      for (guint o = 0; o < step->n_outputs && consts; o++)
        is_const[step->outputs[o]] = folded_value[step->outputs[o]] = TRUE;
      for (guint j = 0; j < step->n_inputs && !consts; j++)
        for (guint k = 0; k < step->inputs[j].n; k++)
          unfolded_reader[step->inputs[j].slots[k]] = TRUE;
    }
  for (guint s = 0; s < plan->steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->steps, s);

      AneCpuValue *raw;

      if (!step->folded || step->elided)
        continue;
      raw = pack_step_raw (plan, step, error);
      if (raw == NULL && error && *error)
        return FALSE;
      if (raw != NULL)
        {
          plan->constexpr_runs++;
          plan->held += ane_cpu_packed_bytes (raw->packed);
          ane_cpu_value_free (plan->consts[step->outputs[0]]);
          plan->consts[step->outputs[0]] = raw;
          continue;
        }
      for (guint j = 0; j < step->n_inputs; j++)
        for (guint k = 0; k < step->inputs[j].n; k++)
          if (!load_dropped (plan, step->inputs[j].slots[k], error))
            return FALSE;
      if (!materialize (plan, step, error))
        return FALSE;
      /* the data only folded steps read: freed now (read again on a reload) */
      for (guint j = 0; j < step->n_inputs; j++)
        for (guint k = 0; k < step->inputs[j].n; k++)
          {
            guint in = step->inputs[j].slots[k];
            AneCpuValue *v = plan->consts[in];

            if (v == NULL || (plan->const_names[in] == NULL && plan->immediates[in] == NULL) || unfolded_reader[in] ||
                is_graph_output (plan, in) || v->packed != NULL)
              continue;
            if (v->keep == NULL)
              plan->held -= MIN (plan->held, value_bytes (v->shape, v->rank));
            ane_cpu_value_free (v);
            plan->consts[in] = NULL;
            plan->dropped[in] = TRUE;
          }
    }
  /* deferred data some op reads at run time after all */
  for (guint slot = 0; slot < plan->n_slots; slot++)
    if (plan->dropped[slot] && (unfolded_reader[slot] || is_graph_output (plan, slot)) &&
        !(fold && pack_const_raw (plan, slot)) && !load_dropped (plan, slot, error))
      return FALSE;
  if (!fold)
    return TRUE;
  for (guint slot = 0; slot < plan->n_slots; slot++)
    if (plan->const_names[slot] != NULL)
      pack_const (plan, slot);
  drop_folded_sources (plan);
  return TRUE;
}

/* After the const in slot was read again: its packed form, and every
 * folded value depending on it made again. */
static gboolean
refold (AneCpuPlan *plan,
        guint       slot,
        GError    **error)
{
  g_autofree gboolean *changed = g_new0 (gboolean, MAX (plan->n_slots, 1));

  if (plan->packed_const[slot])
    {
      plan->packed_const[slot] = FALSE;
      pack_const (plan, slot);
    }
  changed[slot] = TRUE;
  for (guint s = 0; s < plan->steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->steps, s);
      gboolean hit = FALSE;

      if (!step->folded || step->elided)
        continue;
      for (guint j = 0; j < step->n_inputs; j++)
        for (guint k = 0; k < step->inputs[j].n; k++)
          hit |= changed[step->inputs[j].slots[k]];
      if (!hit)
        continue;
      for (guint j = 0; j < step->n_inputs; j++)
        for (guint k = 0; k < step->inputs[j].n; k++)
          {
            guint in = step->inputs[j].slots[k];

            if (!load_dropped (plan, in, error))
              return FALSE;
          }
      if (!materialize (plan, step, error))
        return FALSE;
      for (guint o = 0; o < step->n_outputs; o++)
        changed[step->outputs[o]] = TRUE;
    }
  drop_folded_sources (plan);
  return TRUE;
}

guint64
ane_cpu_plan_get_allocations (AneCpuPlan *plan)
{
  return ane_cpu_arena_get_allocated (plan->arena);
}

guint64
ane_cpu_plan_get_reuses (AneCpuPlan *plan)
{
  return ane_cpu_arena_get_reused (plan->arena);
}

guint64
ane_cpu_plan_get_constexpr_runs (AneCpuPlan *plan)
{
  return plan->constexpr_runs;
}

AneCpuValue *
ane_cpu_plan_dup_const (AneCpuPlan *plan,
                        const char *name,
                        gboolean   *packed)
{
  guint slot;

  if (!lookup_slot (plan, name, &slot) || plan->consts[slot] == NULL)
    return NULL;
  if (packed)
    *packed = plan->consts[slot]->packed != NULL;
  return ane_cpu_value_copy (plan->consts[slot]);
}

void
ane_cpu_plan_get_const_bytes (AneCpuPlan *plan,
                              guint64    *packed,
                              guint64    *dense,
                              guint64    *borrowed)
{
  /* borrowed bytes count once however many values use them (a tied
   * classifier and the embedding's gather on the same GGUF blocks) */
  g_autoptr(GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);

  *packed = *dense = *borrowed = 0;
  for (guint slot = 0; slot < plan->n_slots; slot++)
    {
      const AneCpuValue *v = plan->consts[slot];

      if (v == NULL)
        continue;
      if (v->packed)
        {
          *packed += ane_cpu_packed_bytes (v->packed);
          if (v->packed->keep && g_hash_table_add (seen, (gpointer) g_bytes_get_data (v->packed->keep, NULL)))
            *borrowed += g_bytes_get_size (v->packed->keep);
        }
      else if (v->keep)
        *borrowed += v->n * 4;
      else if (v->f || v->i)
        *dense += v->n * 4;
    }
}

/* --- in-place state updates ------------------------------------------------ */

/* How many parameters of all steps read slot; *one is the last step seen. */
static guint
readers (AneCpuPlan *plan,
         guint       slot,
         Step      **one)
{
  guint count = 0;

  for (guint s = 0; s < plan->steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->steps, s);

      for (guint j = 0; j < step->n_inputs; j++)
        for (guint k = 0; k < step->inputs[j].n; k++)
          if (step->inputs[j].slots[k] == slot)
            {
              count++;
              *one = step;
            }
    }
  return count;
}

static gboolean
is_op (const Step *step,
       const char *type)
{
  return step != NULL && !step->folded && g_str_equal (step->op->type, type);
}

static AneDType
output_dtype (const Step *step)
{
  AneDType dtype = ANE_DTYPE_FLOAT32;
  gint64 shape[ANE_CPU_MAX_RANK];
  guint rank;

  decode_type (step->op->outputs[0]->type, &dtype, shape, &rank, step->name, NULL);
  return dtype;
}

/* The state port bound to slot, or NULL. */
static const Port *
state_port (AneCpuPlan *plan,
            guint       slot)
{
  for (guint i = 0; i < plan->inputs->len; i++)
    {
      const Port *p = &g_array_index (plan->inputs, Port, i);

      if (p->slot == slot && p->state)
        return p;
    }
  return NULL;
}

/* slot is freed when the run ends, not after its last reader. */
static void
keep_to_end (AneCpuPlan *plan,
             guint       slot)
{
  for (guint s = 0; s < plan->steps->len; s++)
    {
      GArray *frees = ((Step *) g_ptr_array_index (plan->steps, s))->frees;

      for (guint k = 0; k < frees->len; k++)
        if (g_array_index (frees, guint, k) == slot)
          g_array_remove_index (frees, k--);
    }
}

/* Issue 15, item 4 ("in-place state updates"): a decode step writes a few
 * rows of each key/value cache as read_state → [cast to fp32] →
 * slice_update → [cast to fp16] → write_state (how both LLaMA decode steps
 * write their caches, ane_llama_write_cache). Run as written, every token
 * copies each whole cache five times. Where a state is read and written by
 * such a chain and nothing else, the plan runs it in place: read_state and
 * the cast view the state, slice_update writes its rows into the state's
 * storage, and the cast and write_state after it have nothing left to do.
 * The states a run gets are the backend's copies or bound buffers, which
 * write_state updates in place anyway.
 *
 * In an fp32 program the value slice_update makes keeps the new rows in
 * fp32 (what the ops reading it see), while the state stores them rounded
 * to fp16: slice_update writes them as fp32, and they are written again,
 * rounded, when the run ends (its inputs are kept alive to then; nothing
 * else reads the state in the run). */
static gboolean in_place_states = TRUE;   /* ane_cpu_plan_set_in_place_states */

void
ane_cpu_plan_set_in_place_states (gboolean enabled)
{
  in_place_states = enabled;
}

guint
ane_cpu_plan_get_in_place_updates (AneCpuPlan *plan)
{
  guint n = 0;

  for (guint s = 0; s < plan->steps->len; s++)
    n += ((Step *) g_ptr_array_index (plan->steps, s))->fuse == FUSE_IN_PLACE;
  return n;
}

static void
plan_state_updates (AneCpuPlan *plan)
{
  for (guint s = 0; in_place_states && s < plan->steps->len; s++)
    {
      Step *read = g_ptr_array_index (plan->steps, s), *cast1 = NULL, *update = NULL, *cast2 = NULL;
      Step *write = NULL, *other = NULL;
      guint state, x16, x, y, data = G_MAXUINT;
      const Port *port;

      if (!is_op (read, "read_state") || read->n_outputs != 1 || (state = input_slot (read, "input")) == G_MAXUINT ||
          (port = state_port (plan, state)) == NULL || readers (plan, state, &other) != 2)
        continue;
      x = x16 = read->outputs[0];
      if (plan->pinned[x16] || readers (plan, x16, &update) != 1)
        continue;
      if (is_op (update, "cast") && update->n_outputs == 1 && output_dtype (update) == ANE_DTYPE_FLOAT32)
        {
          cast1 = update;
          x = cast1->outputs[0];
          if (plan->pinned[x] || readers (plan, x, &update) != 1)
            continue;
        }
      if (!is_op (update, "slice_update") || update->n_outputs != 1 || input_slot (update, "x") != x)
        continue;
      y = update->outputs[0];
      if (plan->pinned[y])
        continue;
      /* the write_state of the state (its one other reader, counted
       * above): of y itself in an fp16 program, of cast (y, fp16) read by
       * it alone in an fp32 one */
      for (guint t = s + 1; t < plan->steps->len && write == NULL; t++)
        {
          Step *w = g_ptr_array_index (plan->steps, t);

          if (is_op (w, "write_state") && input_slot (w, "input") == state)
            {
              write = w;
              data = input_slot (w, "data");
            }
        }
      if (write == NULL || data == G_MAXUINT)
        continue;
      if (cast1 != NULL && !plan->pinned[data] && readers (plan, data, &other) == 1)
        for (guint c = s + 1; c < plan->steps->len && cast2 == NULL; c++)
          {
            Step *cs = g_ptr_array_index (plan->steps, c);

            if (is_op (cs, "cast") && cs->n_outputs == 1 && cs->outputs[0] == data && input_slot (cs, "x") == y &&
                output_dtype (cs) == port->spec.dtype)
              cast2 = cs;
          }
      if (cast1 == NULL ? data != y : cast2 == NULL)
        continue;
      if (output_dtype (update) != (cast1 ? ANE_DTYPE_FLOAT32 : port->spec.dtype))
        continue;

      read->fuse = FUSE_VIEW;
      read->fuse_slot = state;
      if (cast1 != NULL)
        {
          cast1->fuse = FUSE_VIEW;
          cast1->fuse_slot = x16;
        }
      update->fuse = FUSE_IN_PLACE;
      update->fuse_slot = state;
      if (cast2 != NULL)
        cast2->fuse = FUSE_SKIP;
      write->fuse = FUSE_SKIP;
      update->round_after = cast1 != NULL && port->spec.dtype != ANE_DTYPE_FLOAT32;
      if (update->round_after)
        {
          g_ptr_array_add (plan->round_steps, update);
          for (guint j = 0; j < update->n_inputs; j++)
            if (!g_str_equal (update->inputs[j].param, "x"))
              for (guint k = 0; k < update->inputs[j].n; k++)
                keep_to_end (plan, update->inputs[j].slots[k]);
        }
    }
}

/* Each packed weight told whether its products may quantize their
 * activations (the kernels that can do so look at it). */
static void
mark_quantize_activations (AneCpuPlan *plan)
{
  for (guint slot = 0; slot < plan->n_slots; slot++)
    if (plan->consts[slot] != NULL && plan->consts[slot]->packed != NULL)
      plan->consts[slot]->packed->quantize_activations = plan->quantize_activations;
}

/* The consts borrowed from a mapped model file moved into huge pages
 * (ane_file_hot_bytes says why): the matrices, which every decode step
 * streams, and the small vectors between them (norm weights, biases),
 * which lie in the chunks the matrices already copied; read through the
 * file's own mapping, each would map its page-cache folio, 2 MiB on a
 * kernel whose page cache holds large folios. A table only gathered stays
 * where it is: a token reads one row of it. One a product (linear, matmul,
 * conv) streams too (a classifier tied to the embedding, as stories15M's)
 * moves: every step reads all of it. */
static void
make_weights_hot (AneCpuPlan *plan)
{
  g_autofree gboolean *gathered = g_new0 (gboolean, MAX (plan->n_slots, 1));
  g_autofree gboolean *streamed = g_new0 (gboolean, MAX (plan->n_slots, 1));

  for (guint s = 0; s < plan->steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->steps, s);
      gboolean gather = is_op (step, "gather");
      gboolean product = is_op (step, "linear") || is_op (step, "matmul") || is_op (step, "conv");

      for (guint j = 0; j < step->n_inputs; j++)
        for (guint k = 0; k < step->inputs[j].n; k++)
          {
            if (gather && g_str_equal (step->inputs[j].param, "x"))
              gathered[step->inputs[j].slots[k]] = TRUE;
            else if (product)
              streamed[step->inputs[j].slots[k]] = TRUE;
          }
    }
  for (guint slot = 0; slot < plan->n_slots; slot++)
    {
      AneCpuValue *v = plan->consts[slot];
      AneCpuPacked *r16;

      if (v == NULL || (gathered[slot] && !streamed[slot]))
        continue;
      /* with 8-bit activations, GGUF Q8_0 / Q4_0 / Q4_K blocks a product
       * streams are regrouped 16 rows at a time (in huge pages too; the
       * file pages they were read from released) instead of copied as they
       * are; ane_cpu_packed_new_r16 says which kinds it takes */
      if (plan->quantize_activations && v->packed != NULL && streamed[slot] &&
          (r16 = ane_cpu_packed_new_r16 (v->packed)) != NULL)
        {
          gboolean had_arrays = v->packed->kind == ANE_CPU_PACKED_Q4_K_BLOCKS;

          ane_cpu_packed_free (v->packed);
          v->packed = r16;
#ifdef __GLIBC__
          /* Q4_K's fp32 scale and offset per 32 weights, freed just now,
           * lie in the middle of the heap, which glibc keeps resident:
           * given back weight by weight, so that they never all coexist
           * with the regrouped copies (the 134M model's peak RSS, bench-llm:
           * 133 → 103 MiB; one trim after the last weight was too late for
           * that). Q8_0 and Q4_0 blocks free nothing of size here. */
          if (had_arrays)
            malloc_trim (0);
#endif
          continue;
        }
      /* the small vectors between them (norm weights) then lie in chunks
       * nothing else copies: a copy of their own, read with pread(2),
       * instead of a 2 MiB chunk each (50 MiB of the 134M Q8_0 model) */
      if (plan->quantize_activations && v->packed == NULL && v->keep != NULL && v->n * sizeof (float) < (1 << 20))
        {
          ane_cpu_value_own (v);
          continue;
        }
      ane_cpu_value_make_hot (v);
    }
  mark_quantize_activations (plan);
}

AneCpuPlan *
ane_cpu_plan_new (const AneMilProgram *program,
                  const char          *function,
                  AneCpuBlobFunc       blobs,
                  gpointer             blobs_data,
                  guint64              budget,
                  GError             **error)
{
  return ane_cpu_plan_new_full (program, function, blobs, NULL, blobs_data, budget, FALSE, error);
}

AneCpuPlan *
ane_cpu_plan_new_full (const AneMilProgram *program,
                       const char          *function,
                       AneCpuBlobFunc       blobs,
                       AneCpuBlocksFunc     blocks_func,
                       gpointer             blobs_data,
                       guint64              budget,
                       gboolean             quantize_activations,
                       GError             **error)
{
  g_autoptr(AneCpuPlan) plan = g_new0 (AneCpuPlan, 1);
  const AneMilFunction *fn;
  const AneMilBlock *block;
  g_autofree guint *last_use = NULL;

  plan->program = program;
  plan->budget = budget;
  plan->quantize_activations = quantize_activations;
  plan->blobs = blobs;
  plan->blocks = blocks_func;
  plan->blobs_data = blobs_data;
  plan->steps = g_ptr_array_new_with_free_func (step_free);
  plan->inputs = g_array_new (FALSE, TRUE, sizeof (Port));
  plan->outputs = g_array_new (FALSE, TRUE, sizeof (Port));
  plan->slot_of = g_hash_table_new (g_str_hash, g_str_equal);
  plan->const_ops = g_hash_table_new (g_str_hash, g_str_equal);
  plan->profile = ane_cpu_profile_new_from_env ();
  plan->arena = ane_cpu_arena_new ();
  plan->round_steps = g_ptr_array_new ();

  /* the loaders validated the program already; a program handed over any
   * other way is checked here too, before a pointer in it is followed */
  if (!ane_mil_program_validate (program, "program", error))
    return NULL;
  fn = find_function (program, function, error);
  if (fn == NULL)
    return NULL;
  block = function_block (fn);
  if (block == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "function '%s' has no block", function ? function : "main");
      return NULL;
    }
  for (gsize i = 0; i < fn->n_inputs; i++)
    if (!add_port (plan, plan->inputs, fn->inputs[i], TRUE, error))
      return NULL;

  for (gsize i = 0; i < block->n_operations; i++)
    {
      const AneMilOperation *op = block->operations[i];
      Step *step;

      if (g_str_equal (op->type, "const"))
        {
          guint slot;

          if (op->n_outputs != 1)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "const op %zu has %zu outputs", i, op->n_outputs);
              return NULL;
            }
          slot = add_slot (plan, op->outputs[0]->name);
          plan->const_names[slot] = g_strdup (op->outputs[0]->name);
          g_hash_table_insert (plan->const_ops, op->outputs[0]->name, (gpointer) op);
          /* integer weights (a constexpr op's int8 / int4 data) are decoded
           * when folding needs them, one at a time: decoded they take 4
           * bytes a weight */
          if (deferrable (op) || from_blocks (plan, op))
            {
              plan->dropped[slot] = TRUE;
              continue;
            }
          if (!load_const (plan, op, slot, error))
            return NULL;
          continue;
        }

      step = g_new0 (Step, 1);
      g_ptr_array_add (plan->steps, step);
      step->op = op;
      step->is_constexpr = g_str_has_prefix (op->type, "constexpr_");
      step->name = g_strdup (op_display_name (op));
      step->kernel = ane_cpu_kernel_lookup (op->type);
      if (step->kernel == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                       "op %s '%s': the CPU backend has no kernel for MIL op '%s'", op->type, step->name, op->type);
          return NULL;
        }
      /* Parameters come as inputs, or (const ops of older opsets, such as
       * iOS16 constexpr_*) as attributes. */
      step->inputs = g_new0 (StepInput, op->n_inputs + op->n_attributes);
      for (gsize j = 0; j < op->n_inputs; j++)
        if (!bind_argument (plan, op, op->inputs[j]->key, op->inputs[j]->value, &step->inputs[step->n_inputs++], error))
          return NULL;
      for (gsize j = 0; j < op->n_attributes; j++)
        {
          StepInput *in;
          g_autofree char *what = NULL;
          AneCpuValue *v;

          if (g_str_equal (op->attributes[j]->key, "name"))
            continue;
          in = &step->inputs[step->n_inputs++];
          what = g_strdup_printf ("op %s '%s' attribute '%s'", op->type, step->name, op->attributes[j]->key);
          v = decode_value (plan, op->attributes[j]->value, what, error);
          if (v == NULL)
            return NULL;
          in->param = g_strdup (op->attributes[j]->key);
          in->n = 1;
          in->slots = g_new (guint, 1);
          in->slots[0] = add_slot (plan, NULL);
          plan->consts[in->slots[0]] = v;
          plan->immediates[in->slots[0]] = op->attributes[j]->value;
        }
      if (g_str_equal (op->type, "identity") && step->n_inputs == 1 && step->inputs[0].n == 1 &&
          g_str_equal (step->inputs[0].param, "x") && op->n_outputs == 1)
        {
          step->is_identity = TRUE;
          step->identity_in = step->inputs[0].slots[0];
        }
      step->n_outputs = op->n_outputs;
      step->outputs = g_new (guint, MAX (op->n_outputs, 1));
      step->out_types = g_new0 (StepType, MAX (op->n_outputs, 1));
      for (gsize j = 0; j < op->n_outputs; j++)
        {
          StepType *t = &step->out_types[j];
          g_autofree char *what = g_strdup_printf ("op %s '%s' output '%s'", op->type, step->name, op->outputs[j]->name);

          if (!decode_type (op->outputs[j]->type, &t->dtype, t->shape, &t->rank, what, error))
            return NULL;
          step->outputs[j] = add_slot (plan, op->outputs[j]->name);
        }
    }

  for (gsize i = 0; i < block->n_outputs; i++)
    {
      guint slot;
      AneMilNamedValueType nvt = CORE_ML__SPECIFICATION__MILSPEC__NAMED_VALUE_TYPE__INIT;
      const AneMilOperation *producer = NULL;

      if (!lookup_slot (plan, block->outputs[i], &slot))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "block output '%s' is not defined", block->outputs[i]);
          return NULL;
        }
      /* the output's type is its producer's declared type */
      for (guint s = 0; s < plan->steps->len && !producer; s++)
        {
          Step *st = g_ptr_array_index (plan->steps, s);
          for (guint o = 0; o < st->n_outputs; o++)
            if (st->outputs[o] == slot)
              {
                producer = st->op;
                nvt = *st->op->outputs[o];
              }
        }
      if (producer == NULL)
        {
          const AneMilOperation *c = g_hash_table_lookup (plan->const_ops, block->outputs[i]);
          for (gsize k = 0; k < fn->n_inputs && c == NULL && producer == NULL; k++)
            if (g_str_equal (fn->inputs[k]->name, block->outputs[i]))
              nvt = *fn->inputs[k];
          if (c)
            nvt = *c->outputs[0];
        }
      if (!add_port (plan, plan->outputs, &nvt, FALSE, error))
        return NULL;
      g_array_index (plan->outputs, Port, plan->outputs->len - 1).slot = slot;
      g_array_index (plan->outputs, Port, plan->outputs->len - 1).name = block->outputs[i];
    }

  if (!fold_constexpr (plan, error))
    return NULL;
  make_weights_hot (plan);
  /* after fold_constexpr, whose elided identities move later steps'
   * inputs */
  for (guint s = 0; s < plan->steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->steps, s);
      const char *type = step->op->type;

      step->view_x = G_MAXUINT;
      step->view_cast = g_str_equal (type, "cast");
      if (step->n_outputs == 1 &&
          (step->view_cast || g_str_equal (type, "reshape") ||
           g_str_equal (type, "expand_dims") || g_str_equal (type, "squeeze")))
        step->view_x = input_slot (step, "x");
    }

  /* Liveness: each intermediate is freed by the last step that reads it. */
  plan->pinned = g_new0 (gboolean, MAX (plan->n_slots, 1));
  last_use = g_new0 (guint, MAX (plan->n_slots, 1));
  for (guint s = 0; s < plan->n_slots; s++)
    plan->pinned[s] = plan->consts[s] != NULL;
  for (guint i = 0; i < plan->inputs->len; i++)
    plan->pinned[g_array_index (plan->inputs, Port, i).slot] = TRUE;
  for (guint i = 0; i < plan->outputs->len; i++)
    plan->pinned[g_array_index (plan->outputs, Port, i).slot] = TRUE;
  for (guint s = 0; s < plan->steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->steps, s);
      for (guint j = 0; j < step->n_inputs; j++)
        for (guint k = 0; k < step->inputs[j].n; k++)
          last_use[step->inputs[j].slots[k]] = s + 1;
    }
  for (guint s = 0; s < plan->steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->steps, s);
      step->frees = g_array_new (FALSE, FALSE, sizeof (guint));
    }
  for (guint slot = 0; slot < plan->n_slots; slot++)
    if (!plan->pinned[slot] && last_use[slot] > 0)
      g_array_append_val (((Step *) g_ptr_array_index (plan->steps, last_use[slot] - 1))->frees, slot);
  plan_state_updates (plan);
  if (!check_peak (plan, error))
    return NULL;
  return g_steal_pointer (&plan);
}

void
ane_cpu_plan_set_quantize_activations (AneCpuPlan *plan,
                                       gboolean    quantize)
{
  plan->quantize_activations = quantize;
  mark_quantize_activations (plan);
}

gboolean
ane_cpu_plan_reload_const (AneCpuPlan  *plan,
                           const char  *name,
                           GError     **error)
{
  const AneMilOperation *op = g_hash_table_lookup (plan->const_ops, name);
  guint slot;

  if (op == NULL || !lookup_slot (plan, name, &slot))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "the program has no const '%s'", name);
      return FALSE;
    }
  if (!load_const (plan, op, slot, error) || !refold (plan, slot, error))
    return FALSE;
  mark_quantize_activations (plan);
  return TRUE;
}

guint ane_cpu_plan_n_inputs (AneCpuPlan *plan) { return plan->inputs->len; }
guint ane_cpu_plan_n_outputs (AneCpuPlan *plan) { return plan->outputs->len; }
const char *ane_cpu_plan_input_name (AneCpuPlan *plan, guint i) { return g_array_index (plan->inputs, Port, i).name; }
const char *ane_cpu_plan_output_name (AneCpuPlan *plan, guint i) { return g_array_index (plan->outputs, Port, i).name; }
gboolean ane_cpu_plan_input_is_state (AneCpuPlan *plan, guint i) { return g_array_index (plan->inputs, Port, i).state; }
void ane_cpu_plan_input_spec (AneCpuPlan *plan, guint i, AneSpec *spec) { *spec = g_array_index (plan->inputs, Port, i).spec; }
void ane_cpu_plan_output_spec (AneCpuPlan *plan, guint i, AneSpec *spec) { *spec = g_array_index (plan->outputs, Port, i).spec; }

/* --- running -------------------------------------------------------------- */

static gboolean
all_finite (const AneCpuValue *v)
{
  if (v->f == NULL)
    return TRUE;
  for (gsize i = 0; i < v->n; i++)
    if (!isfinite (v->f[i]))
      return FALSE;
  return TRUE;
}

gboolean
ane_cpu_plan_run (AneCpuPlan          *plan,
                  AneCpuValue * const *inputs,
                  AneCpuValue        **states,
                  AneCpuValue        **outputs,
                  gboolean             debug_nonfinite,
                  GCancellable        *cancellable,
                  GError             **error)
{
  return ane_cpu_plan_run_full (plan, inputs, states, outputs, NULL, NULL, debug_nonfinite, cancellable, error);
}

static Step *
producer_of (AneCpuPlan *plan,
             guint       slot)
{
  for (guint s = 0; s < plan->steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->steps, s);

      for (guint o = 0; o < step->n_outputs; o++)
        if (step->outputs[o] == slot)
          return step;
    }
  return NULL;
}

/* Per slot, the caller's memory its value is made in (NULL: the plan's
 * own): each bound output's slot, and the value an identity producing it
 * only renames (every graph output ends in one), so the op computing the
 * output writes the caller's memory itself. */
static AneCpuValue **
bound_targets (AneCpuPlan          *plan,
               AneCpuValue * const *bound)
{
  AneCpuValue **target = g_new0 (AneCpuValue *, MAX (plan->n_slots, 1));

  for (guint i = 0; i < plan->outputs->len; i++)
    {
      guint slot = g_array_index (plan->outputs, Port, i).slot;
      Step *step;

      if (bound[i] == NULL || target[slot] != NULL)
        continue;
      target[slot] = bound[i];
      step = producer_of (plan, slot);
      if (step != NULL && step->is_identity && !plan->pinned[step->identity_in] &&
          target[step->identity_in] == NULL && step_frees (step, step->identity_in) &&
          producer_of (plan, step->identity_in) != NULL && same_type (bound[i], step->op->outputs[0]))
        target[step->identity_in] = bound[i];
    }
  return target;
}

/* A header over v's storage with the declared type of step's output: no
 * copy (the run's views, see lives_through_run). */
static AneCpuValue *
view_as (const AneCpuValue *v,
         const Step        *step)
{
  const StepType *t = &step->out_types[0];

  return ane_cpu_value_new_view (t->dtype, t->shape, t->rank, v->f ? (gpointer) v->f : (gpointer) v->i);
}

/* A step whose output is its input's elements as they are, under another
 * shape (reshape, expand_dims, squeeze) or as fp32 (a cast from a float
 * dtype: every float is stored as float already), may view its input
 * instead of copying it, when the input's storage lives through the run
 * unchanged (an input, a const, the state of an in-place update) and the
 * output is not one of the function's (handed over to the caller). The
 * attention reads a key/value cache so. */
static gboolean
may_view (AneCpuPlan         *plan,
          const Step         *step,
          AneCpuValue       **slots,
          const gboolean     *lived,
          AneCpuValue       **target)
{
  guint x = step->view_x;
  const AneCpuValue *v;
  AneDType dtype;

  if (x == G_MAXUINT || step->folded || plan->pinned[step->outputs[0]] ||
      (target != NULL && target[step->outputs[0]] != NULL) ||
      !lived[x] || (v = slots[x]) == NULL || (v->f == NULL && v->i == NULL))
    return FALSE;
  dtype = step->out_types[0].dtype;
  if (step->view_cast)
    return v->f != NULL && dtype == ANE_DTYPE_FLOAT32;
  return dtype == v->dtype;
}

/* The rows of each in-place update of an fp32 program written again,
 * rounded to the state's dtype (plan_state_updates). */
static gboolean
round_updated_rows (AneCpuPlan   *plan,
                    AneCpuValue **slots,
                    GError      **error)
{
  /* the list, not every step: a run would otherwise walk the whole plan
   * again, each step's header a cache miss by then */
  for (guint s = 0; s < plan->round_steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->round_steps, s);
      AneCpuCtx ctx = { plan, step, slots };
      AneCpuValue *state, *saved[3];
      guint x, u, y;
      g_autoptr(AneCpuValue) rounded = NULL;
      gboolean ok;

      state = slots[step->fuse_slot];
      x = input_slot (step, "x");
      u = input_slot (step, "update");
      y = step->outputs[0];
      rounded = ane_cpu_value_copy (slots[u]);
      rounded->dtype = state->dtype;
      ane_cpu_value_round (rounded);
      saved[0] = slots[x];
      saved[1] = slots[u];
      saved[2] = slots[y];
      slots[x] = slots[y] = state;
      slots[u] = rounded;
      ok = step->kernel->run (&ctx, error);
      slots[x] = saved[0];
      slots[u] = saved[1];
      slots[y] = saved[2];
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

gboolean
ane_cpu_plan_run_full (AneCpuPlan          *plan,
                       AneCpuValue * const *inputs,
                       AneCpuValue        **states,
                       AneCpuValue        **outputs,
                       AneCpuValue * const *bound,
                       guint64             *copied,
                       gboolean             debug_nonfinite,
                       GCancellable        *cancellable,
                       GError             **error)
{
  g_autofree AneCpuValue **slots = g_new0 (AneCpuValue *, MAX (plan->n_slots, 1));
  g_autofree gboolean *owned = g_new0 (gboolean, MAX (plan->n_slots, 1));
  /* per slot: its storage lives through the run unchanged (may_view) */
  g_autofree gboolean *lived = g_new0 (gboolean, MAX (plan->n_slots, 1));
  g_autofree AneCpuValue **target = bound ? bound_targets (plan, bound) : NULL;
  gboolean ok = TRUE;
  guint in = 0, st = 0;

  for (guint s = 0; s < plan->n_slots; s++)
    {
      slots[s] = plan->consts[s];
      lived[s] = slots[s] != NULL;
    }
  for (guint i = 0; i < plan->inputs->len; i++)
    {
      Port *p = &g_array_index (plan->inputs, Port, i);
      slots[p->slot] = p->state ? states[st++] : inputs[in++];
      lived[p->slot] = !p->state;   /* a state is read by read_state, which copies it or views it (FUSE_VIEW) */
    }

  for (guint s = 0; ok && s < plan->steps->len; s++)
    {
      Step *step = g_ptr_array_index (plan->steps, s);
      AneCpuCtx ctx = { plan, step, slots };

      /* A decode step's weights stream through the caches between two
       * runs, so each step's header and arrays are misses by the next
       * run: they are asked for while earlier steps run, in two stages
       * (a header three steps ahead; the arrays of the next step, whose
       * header the stage before brought in). They were a few percent of a
       * quantized decode step. */
      if (s + 3 < plan->steps->len)
        {
          const Step *ahead = g_ptr_array_index (plan->steps, s + 3);

          __builtin_prefetch (ahead);
          __builtin_prefetch ((const char *) ahead + 64);
        }
      if (s + 2 < plan->steps->len)
        __builtin_prefetch (((const Step *) g_ptr_array_index (plan->steps, s + 2))->frees);
      if (s + 1 < plan->steps->len)
        {
          const Step *next = g_ptr_array_index (plan->steps, s + 1);

          __builtin_prefetch (next->inputs);
          __builtin_prefetch (next->outputs);
          __builtin_prefetch (next->out_types);
          __builtin_prefetch (next->frees->data);
          for (guint j = 0; j < MIN (next->n_inputs, 4u); j++)
            __builtin_prefetch (next->inputs[j].param);
        }
      if (step->folded)
        continue;   /* its value is a const already */
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ok = FALSE;
          break;
        }
      if (is_constexpr (step))
        plan->constexpr_runs++;   /* a constexpr op of values computed in the run */
      if (step->fuse == FUSE_SKIP)
        continue;   /* the state holds the value already */
      if (step->fuse == FUSE_VIEW || may_view (plan, step, slots, lived, target))
        {
          slots[step->outputs[0]] = view_as (slots[step->fuse == FUSE_VIEW ? step->fuse_slot : input_slot (step, "x")],
                                             step);
          owned[step->outputs[0]] = TRUE;   /* the header: the storage is left alone */
          lived[step->outputs[0]] = TRUE;
          continue;
        }
      /* An identity that renames a value made in the caller's memory
       * already: nothing to do. */
      if (step->is_identity && target != NULL && target[step->outputs[0]] != NULL &&
          slots[step->identity_in] == target[step->outputs[0]])
        {
          slots[step->outputs[0]] = slots[step->identity_in];
          continue;
        }
      /* An identity whose input dies here passes the value on instead of
       * copying it (every graph output ends in one). */
      if (step->is_identity && owned[step->identity_in] && !slots[step->identity_in]->view &&
          step_frees (step, step->identity_in) && same_type (slots[step->identity_in], step->op->outputs[0]))
        {
          slots[step->outputs[0]] = slots[step->identity_in];
          owned[step->outputs[0]] = TRUE;
          slots[step->identity_in] = NULL;
          owned[step->identity_in] = FALSE;
          continue;
        }
      for (guint o = 0; o < step->n_outputs; o++)
        {
          if (step->fuse == FUSE_IN_PLACE)
            {
              /* the state's storage: the kernel writes its rows there */
              slots[step->outputs[o]] = view_as (slots[step->fuse_slot], step);
              owned[step->outputs[o]] = TRUE;
              lived[step->outputs[o]] = TRUE;
              continue;
            }
          if (target != NULL && target[step->outputs[o]] != NULL)
            {
              /* kernels may count on zeroed outputs, as ane_cpu_value_new makes them */
              AneCpuValue *v = target[step->outputs[o]];

              memset (v->f ? (gpointer) v->f : (gpointer) v->i, 0, v->n * 4);
              slots[step->outputs[o]] = v;
              owned[step->outputs[o]] = FALSE;
              continue;
            }
          slots[step->outputs[o]] = ane_cpu_arena_value_new (plan->arena, step->out_types[o].dtype,
                                                             step->out_types[o].shape, step->out_types[o].rank);
          owned[step->outputs[o]] = TRUE;
        }
      {
        gint64 t0 = plan->profile != NULL ? ane_cpu_profile_now () : 0;

        if (!step->kernel->run (&ctx, error))
          {
            ok = FALSE;
            break;
          }
        if (plan->profile != NULL)
          ane_cpu_profile_add (plan->profile, step->op->type, ane_cpu_profile_now () - t0);
      }
      for (guint o = 0; o < step->n_outputs; o++)
        {
          AneCpuValue *v = slots[step->outputs[o]];

          /* in place, the rows written are the update's, of the dtype
           * already: rounding the whole state would be a pass for nothing */
          if (step->fuse != FUSE_IN_PLACE)
            ane_cpu_value_round (v);
          if (debug_nonfinite && !all_finite (v))
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                           "op %s '%s' is the first to produce inf or NaN (output %u)",
                           step->op->type, step->name, o);
              ok = FALSE;
            }
        }
      for (guint k = 0; k < step->frees->len; k++)
        {
          guint slot = g_array_index (step->frees, guint, k);
          if (owned[slot])
            {
              ane_cpu_arena_value_free (plan->arena, slots[slot]);
              slots[slot] = NULL;
              owned[slot] = FALSE;
            }
        }
    }

  if (ok)
    ok = round_updated_rows (plan, slots, error);
  /* Hand the outputs over; a value that is two outputs is copied for the
   * second, and inputs, states and consts are always copied. */
  for (guint i = 0; i < plan->outputs->len; i++)
    {
      guint slot = g_array_index (plan->outputs, Port, i).slot;

      if (!ok)
        outputs[i] = NULL;
      else if (bound != NULL && bound[i] != NULL)
        {
          AneCpuValue *b = bound[i];
          const AneCpuValue *v = slots[slot];

          outputs[i] = NULL;
          if (v != b)
            {
              /* an input, a state, a const or a second output: not made in place */
              g_assert (v->n == b->n && (v->f == NULL) == (b->f == NULL));
              memcpy (b->f ? (gpointer) b->f : (gpointer) b->i, v->f ? (gpointer) v->f : (gpointer) v->i, v->n * 4);
              if (copied != NULL)
                *copied += v->n * 4;
            }
        }
      else if (owned[slot])
        {
          outputs[i] = slots[slot];
          owned[slot] = FALSE;
        }
      else
        {
          outputs[i] = ane_cpu_value_copy (slots[slot]);
          if (copied != NULL)
            *copied += slots[slot]->n * 4;
        }
    }
  for (guint s = 0; s < plan->n_slots; s++)
    if (owned[s])
      ane_cpu_arena_value_free (plan->arena, slots[s]);
  return ok;
}

/* --- the kernel context ---------------------------------------------------- */

static const StepInput *
find_input (AneCpuCtx  *ctx,
            const char *param)
{
  for (guint i = 0; i < ctx->step->n_inputs; i++)
    if (g_str_equal (ctx->step->inputs[i].param, param))
      return &ctx->step->inputs[i];
  return NULL;
}

const AneCpuValue *
ane_cpu_in (AneCpuCtx  *ctx,
            const char *param)
{
  const StepInput *in = find_input (ctx, param);

  return in && in->n > 0 ? ctx->slots[in->slots[0]] : NULL;
}

const AneCpuValue **
ane_cpu_in_tuple (AneCpuCtx  *ctx,
                  const char *param,
                  guint      *n)
{
  const StepInput *in = find_input (ctx, param);
  const AneCpuValue **values;

  *n = in ? in->n : 0;
  values = g_new0 (const AneCpuValue *, MAX (*n, 1));
  for (guint i = 0; i < *n; i++)
    values[i] = ctx->slots[in->slots[i]];
  return values;
}

AneCpuValue *
ane_cpu_out (AneCpuCtx *ctx,
             guint      index)
{
  g_assert (index < ctx->step->n_outputs);
  return ctx->slots[ctx->step->outputs[index]];
}

guint ane_cpu_n_outputs (AneCpuCtx *ctx) { return ctx->step->n_outputs; }
const char *ane_cpu_op_name (AneCpuCtx *ctx) { return ctx->step->name; }
const char *ane_cpu_op_type (AneCpuCtx *ctx) { return ctx->step->op->type; }

gint64
ane_cpu_int (AneCpuCtx  *ctx,
             const char *param,
             gint64      fallback)
{
  const AneCpuValue *v = ane_cpu_in (ctx, param);

  return v && v->n > 0 ? (gint64) ane_cpu_value_get (v, 0) : fallback;
}

double
ane_cpu_float (AneCpuCtx  *ctx,
               const char *param,
               double      fallback)
{
  const AneCpuValue *v = ane_cpu_in (ctx, param);

  return v && v->n > 0 ? ane_cpu_value_get (v, 0) : fallback;
}

gboolean
ane_cpu_bool (AneCpuCtx  *ctx,
              const char *param,
              gboolean    fallback)
{
  const AneCpuValue *v = ane_cpu_in (ctx, param);

  return v && v->n > 0 ? ane_cpu_value_get (v, 0) != 0.0 : fallback;
}

const char *
ane_cpu_string (AneCpuCtx  *ctx,
                const char *param,
                const char *fallback)
{
  const AneCpuValue *v = ane_cpu_in (ctx, param);

  return v && v->s ? v->s : fallback;
}

gint64 *
ane_cpu_ints (AneCpuCtx  *ctx,
              const char *param,
              gsize      *n)
{
  const AneCpuValue *v = ane_cpu_in (ctx, param);
  gint64 *out;

  if (v == NULL)
    {
      *n = 0;
      return NULL;
    }
  *n = v->n;
  out = g_new (gint64, MAX (v->n, 1));
  for (gsize i = 0; i < v->n; i++)
    out[i] = (gint64) ane_cpu_value_get (v, i);
  return out;
}

gboolean
ane_cpu_fail (AneCpuCtx  *ctx,
              GError    **error,
              const char *format,
              ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "op %s '%s': %s",
               ctx->step->op->type, ctx->step->name, msg);
  return FALSE;
}

void
ane_cpu_strides (const AneCpuValue *v,
                 gint64            *strides)
{
  gint64 s = 1;

  for (guint i = v->rank; i-- > 0;)
    {
      strides[i] = s;
      s *= v->shape[i];
    }
}

void
ane_cpu_unravel (gsize         index,
                 const gint64 *shape,
                 guint         rank,
                 gint64       *coords)
{
  /* the reference evaluator's, which has exactly this job */
  ane_ref_unravel (index, shape, rank, coords);
}

gsize
ane_cpu_broadcast_offset (const AneCpuValue *v,
                          const gint64      *out_coords,
                          guint              out_rank)
{
  gsize offset = 0;

  for (guint i = 0; i < v->rank; i++)
    {
      gint64 dim = v->shape[i];
      gint64 c = out_coords[out_rank - v->rank + i];

      offset = offset * (gsize) dim + (gsize) (dim == 1 ? 0 : c);
    }
  return offset;
}

gboolean
ane_cpu_axis (AneCpuCtx *ctx,
              gint64     axis,
              guint      rank,
              guint     *out,
              GError   **error)
{
  if (axis < -(gint64) rank || axis >= (gint64) rank)
    return ane_cpu_fail (ctx, error, "axis %" G_GINT64_FORMAT " is out of range for rank %u", axis, rank);
  *out = (guint) (axis < 0 ? axis + rank : axis);
  return TRUE;
}
