/* mil/ane-mlpackage-write.c: lowered programs written as .mlpackage bundles
 *
 * Two halves:
 *
 *  - ane_mlpackage_model_new() wraps a lowered MIL program in a CoreML Model
 *    message as coremltools' converter does (coremltools/models/utils.py and
 *    converters/mil/backend/mil/load.py): the specification version of the
 *    deployment target, a description whose inputs, outputs and states are the
 *    main function's interface, userDefined metadata, and the program's
 *    "buildInfo" attribute (a dict<string, string>).
 *
 *  - ane_mlpackage_write_lowered() streams the weights into
 *    Data/com.apple.CoreML/weights/weight.bin blob by blob in the order the
 *    builder planned them, converting each from its source dtype in bounded
 *    chunks, then writes model.mlmodel and Manifest.json and moves the bundle
 *    into place through the staging area of ane-mlpackage.c.
 *
 * Memory: the weights are read where they already are (the graph's GBytes) and
 * leave through one I/O buffer of IO_BUFFER_SIZE bytes plus, for conversions
 * that need it, one scratch chunk; nothing ever holds a whole converted tensor.
 *
 * Writeback: on Linux the weight file is pushed to the disk while it is
 * written, a window of WRITEBACK_WINDOW bytes at a time (sync_file_range),
 * waiting for the window before the last one, and those pages are dropped
 * from the cache. The disk then works while the next chunks are converted,
 * the final fsync finds little left to do, and saving a large model does not
 * fill the page cache with gigabytes of dirty pages.
 *
 * Durability: every file is fsynced (F_FULLFSYNC on Apple platforms, where
 * fsync alone does not flush the drive's cache), then the directories that
 * hold them, before the staging directory is renamed into place (commit
 * syncs the whole staging tree); the parent directory is synced after the
 * rename. That rename is the point of no return: a failure after it (the
 * parent's sync) is a warning in the save's report, not a failed save,
 * since the new bundle is in place and the old one gone. Every I/O error
 * names its file (ane-file.c). MIL text and its weights are one unit too:
 * see ane_mlpackage_write_mil(). The weight file is written here rather
 * than with AneMilBlobWriter because that writer takes a blob in one call,
 * which would need a whole converted copy of every tensor whose dtype changes
 * (fp16 -> fp32, bf16, GGUF blocks). The record layout is the same
 * (ane-milblob-private.h), and test-package-write checks that both writers
 * produce identical bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE 1   /* sync_file_range() */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ane-file-private.h"
#include "ane-graph-private.h"
#include "ane-progress-private.h"
#include "ane-tensor-private.h"
#include "ane-reference-private.h"
#include "mil/ane-mil-builder-private.h"
#include "mil/ane-mil-dtype-private.h"
#include "mil/ane-mlpackage-private.h"
#include "mil/ane-mil-specialize-private.h"

#define MODEL_DIR       "com.apple.CoreML"
#define MODEL_FILE      "model.mlmodel"
#define WEIGHTS_DIR     "weights"
#define WEIGHT_FILE     "weight.bin"
#define MANIFEST_FILE   "Manifest.json"

/* One buffer between the conversions and write(2): big enough that a write
 * costs little per byte, small next to any real model. */
#define IO_BUFFER_SIZE  ((gsize) 4 << 20)
/* Elements converted per step through a float or double scratch buffer; a
 * multiple of every GGUF block size (32, 256). */
#define CHUNK_ELEMENTS  ((gsize) 1 << 18)
/* Bytes stored as they are go out in pieces of this size: each piece is a
 * progress report and a point where cancelling stops the save. */
#define PLAIN_PIECE     ((gsize) 16 << 20)
/* The share of a save's progress that writing weight.bin takes; the rest is
 * model.mlmodel, Manifest.json, syncing and the rename. */
#define WEIGHTS_SHARE   0.9
/* Early writeback, in windows of this many bytes (see above). */
#define WRITEBACK_WINDOW ((guint64) 32 << 20)

/* ---------------------------------------------------------------------- */
/* limits                                                                 */
/* ---------------------------------------------------------------------- */

gboolean
ane_mlpackage_check_model_size (guint64   packed_size,
                                GError  **error)
{
  if (packed_size <= ANE_MLPACKAGE_MAX_MODEL_SIZE)
    return TRUE;
  g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE,
               MODEL_FILE " would be %" G_GUINT64_FORMAT " bytes; a protobuf message is "
               "limited to %" G_GUINT64_FORMAT " bytes (2 GiB - 1), so CoreML could not "
               "read it (keep large tensors in weight.bin rather than as immediate values)",
               packed_size, ANE_MLPACKAGE_MAX_MODEL_SIZE);
  return FALSE;
}

gboolean
ane_mlpackage_check_weight_size (guint64      size,
                                 const char  *file,
                                 GError     **error)
{
  if (size <= ANE_MLPACKAGE_MAX_ANE_WEIGHTS)
    return TRUE;
  g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE,
               "%s is %" G_GUINT64_FORMAT " bytes, more than the %" G_GUINT64_FORMAT
               " bytes (2 GiB) the Neural Engine loads; CoreML can still run the model "
               "on the CPU or GPU (split the model to use the Neural Engine)",
               file ? file : WEIGHT_FILE, size, ANE_MLPACKAGE_MAX_ANE_WEIGHTS);
  return FALSE;
}

/* ---------------------------------------------------------------------- */
/* the Model message                                                      */
/* ---------------------------------------------------------------------- */

/* ArrayFeatureType.ArrayDataType of a MIL dtype: Apple's codes are
 * 0x10000 | bits for floats and 0x20000 | bits for integers
 * (FeatureTypes.proto). Model interfaces take only these three (INT8 is
 * output-only and newer). */
static gboolean
array_dtype_from_mil (int  mil_dtype,
                      int *array_dtype)
{
  switch (mil_dtype)
    {
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32:
      *array_dtype = CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT32;
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16:
      *array_dtype = CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT16;
      return TRUE;
    case CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT32:
      *array_dtype = CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__INT32;
      return TRUE;
    default:
      return FALSE;
    }
}

typedef enum {
  KIND_INPUT,
  KIND_OUTPUT,
  KIND_STATE,
} FeatureKind;

static const char *const kind_names[] = { "input", "output", "state" };

/* A multi-array FeatureDescription (in a StateFeatureType for states) with
 * the fixed shape of a MIL tensor type, as coremltools writes one for a
 * TensorType of known shape: name, type, nothing else. */
static AneCoreMLFeatureDescription *
feature_new (const char            *function,
             const char            *name,
             const AneMilValueType *type,
             FeatureKind            kind,
             AneMilTarget           target,
             GError               **error)
{
  g_autoptr(GError) local_error = NULL;
  AneCoreMLFeatureDescription *feature;
  AneCoreMLArrayFeatureType *array;
  const AneMilTensorType *tensor;
  guint64 n;
  int array_dtype;

  if (type && type->type_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE &&
      type->statetype)
    type = type->statetype->wrappedtype;
  if (type == NULL || type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE ||
      (tensor = type->tensortype) == NULL ||
      !ane_mil_tensor_type_n_elements (tensor, &n, &local_error))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "function '%s', %s '%s': a model interface needs a tensor of known shape%s%s",
                   function, kind_names[kind], name,
                   local_error ? ": " : "", local_error ? local_error->message : "");
      return NULL;
    }
  if (!array_dtype_from_mil (tensor->datatype, &array_dtype))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "function '%s', %s '%s' has dtype %s; CoreML model interfaces take "
                   "fp32, fp16 or int32", function, kind_names[kind], name,
                   ane_mil_dtype_to_string (tensor->datatype));
      return NULL;
    }
  /* coremltools refuses float16 inputs and outputs before iOS16 / macOS13
   * (converters/mil/converter.py): the iOS15 runtime has no such arrays. */
  if (array_dtype == CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT16 &&
      target < ANE_MIL_IOS16 && kind != KIND_STATE)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "function '%s', %s '%s' is fp16; fp16 model inputs and outputs need "
                   "target iOS16 / macOS13 or later (cast to fp32 inside the graph)",
                   function, kind_names[kind], name);
      return NULL;
    }

  array = g_new (AneCoreMLArrayFeatureType, 1);
  core_ml__specification__array_feature_type__init (array);
  array->datatype = array_dtype;
  array->n_shape = tensor->n_dimensions;
  array->shape = g_new (int64_t, MAX (tensor->n_dimensions, 1));
  for (gsize i = 0; i < tensor->n_dimensions; i++)
    array->shape[i] = (int64_t) tensor->dimensions[i]->constant->size;

  feature = g_new (AneCoreMLFeatureDescription, 1);
  core_ml__specification__feature_description__init (feature);
  feature->name = g_strdup (name);
  feature->type = g_new (AneCoreMLFeatureType, 1);
  core_ml__specification__feature_type__init (feature->type);
  if (kind == KIND_STATE)
    {
      CoreML__Specification__StateFeatureType *state = g_new (CoreML__Specification__StateFeatureType, 1);

      core_ml__specification__state_feature_type__init (state);
      state->type_case = CORE_ML__SPECIFICATION__STATE_FEATURE_TYPE__TYPE_ARRAY_TYPE;
      state->arraytype = array;
      feature->type->type_case = CORE_ML__SPECIFICATION__FEATURE_TYPE__TYPE_STATE_TYPE;
      feature->type->statetype = state;
    }
  else
    {
      feature->type->type_case = CORE_ML__SPECIFICATION__FEATURE_TYPE__TYPE_MULTI_ARRAY_TYPE;
      feature->type->multiarraytype = array;
    }
  return feature;
}

static void
feature_free (gpointer feature)
{
  protobuf_c_message_free_unpacked (feature, NULL);
}

static const AneMilBlock *
function_block (const AneMilFunction *fn)
{
  for (gsize i = 0; i < fn->n_block_specializations; i++)
    if (g_strcmp0 (fn->block_specializations[i]->key, fn->opset) == 0)
      return fn->block_specializations[i]->value;
  return NULL;
}

/* The type of a value the block returns: an op output, or a function input
 * returned as it is. */
static const AneMilValueType *
value_type (const AneMilFunction *fn,
            const AneMilBlock    *block,
            const char           *name)
{
  for (gsize i = block->n_operations; i-- > 0;)
    for (gsize j = 0; j < block->operations[i]->n_outputs; j++)
      if (strcmp (block->operations[i]->outputs[j]->name, name) == 0)
        return block->operations[i]->outputs[j]->type;
  for (gsize i = 0; i < fn->n_inputs; i++)
    if (strcmp (fn->inputs[i]->name, name) == 0)
      return fn->inputs[i]->type;
  return NULL;
}

/* Steals the array of a GPtrArray of messages into a protobuf repeated field. */
static gpointer
steal_repeated (GPtrArray *array,
                gsize     *n)
{
  *n = array->len;
  g_ptr_array_set_free_func (array, NULL);
  return g_ptr_array_free (array, array->len == 0);
}

static gboolean
describe_function (const char            *name,
                   const AneMilFunction  *fn,
                   AneMilTarget           target,
                   GPtrArray             *inputs,
                   GPtrArray             *outputs,
                   GPtrArray             *states,
                   GError               **error)
{
  const AneMilBlock *block = function_block (fn);

  if (block == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "function '%s': opset '%s' has no block", name, fn->opset);
      return FALSE;
    }
  /* Function inputs in order: tensors are model inputs, state<tensor>s are
   * model states (coremltools lists both in the order of the function). */
  for (gsize i = 0; i < fn->n_inputs; i++)
    {
      const AneMilValueType *type = fn->inputs[i]->type;
      gboolean is_state = type && type->type_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE;
      AneCoreMLFeatureDescription *f = feature_new (name, fn->inputs[i]->name, type,
                                                    is_state ? KIND_STATE : KIND_INPUT, target, error);

      if (f == NULL)
        return FALSE;
      g_ptr_array_add (is_state ? states : inputs, f);
    }
  for (gsize i = 0; i < block->n_outputs; i++)
    {
      AneCoreMLFeatureDescription *f = feature_new (name, block->outputs[i],
                                                    value_type (fn, block, block->outputs[i]),
                                                    KIND_OUTPUT, target, error);

      if (f == NULL)
        return FALSE;
      g_ptr_array_add (outputs, f);
    }
  return TRUE;
}

/* A rank-0 string tensor Value, as MIL writes dictionary keys and values. */
static AneMilValueType *
string_type_new (void)
{
  AneMilValueType *vt = g_new (AneMilValueType, 1);
  AneMilTensorType *tt = g_new (AneMilTensorType, 1);

  core_ml__specification__milspec__value_type__init (vt);
  core_ml__specification__milspec__tensor_type__init (tt);
  tt->datatype = CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING;
  vt->type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE;
  vt->tensortype = tt;
  return vt;
}

static AneMilValue *
string_value_new (const char *s)
{
  AneMilValue *v = g_new (AneMilValue, 1);
  CoreML__Specification__MILSpec__Value__ImmediateValue *imm =
    g_new (CoreML__Specification__MILSpec__Value__ImmediateValue, 1);
  CoreML__Specification__MILSpec__TensorValue *tv = g_new (CoreML__Specification__MILSpec__TensorValue, 1);
  CoreML__Specification__MILSpec__TensorValue__RepeatedStrings *strings =
    g_new (CoreML__Specification__MILSpec__TensorValue__RepeatedStrings, 1);

  core_ml__specification__milspec__value__init (v);
  core_ml__specification__milspec__value__immediate_value__init (imm);
  core_ml__specification__milspec__tensor_value__init (tv);
  core_ml__specification__milspec__tensor_value__repeated_strings__init (strings);
  strings->n_values = 1;
  strings->values = g_new (char *, 1);
  strings->values[0] = g_strdup (s);
  tv->value_case = CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS;
  tv->strings = strings;
  imm->value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR;
  imm->tensor = tv;
  v->type = string_type_new ();
  v->value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE;
  v->immediatevalue = imm;
  return v;
}

/* A buildInfo value: dict<string, string> of rank-0 string tensors. */
AneMilValue *
ane_mlpackage_build_info_new (const char *const *keys,
                              const char *const *values,
                              gsize              n)
{
  AneMilValue *v = g_new (AneMilValue, 1);
  CoreML__Specification__MILSpec__Value__ImmediateValue *imm =
    g_new (CoreML__Specification__MILSpec__Value__ImmediateValue, 1);
  CoreML__Specification__MILSpec__DictionaryValue *dict = g_new (CoreML__Specification__MILSpec__DictionaryValue, 1);
  CoreML__Specification__MILSpec__DictionaryType *dt = g_new (CoreML__Specification__MILSpec__DictionaryType, 1);

  core_ml__specification__milspec__value__init (v);
  core_ml__specification__milspec__value__immediate_value__init (imm);
  core_ml__specification__milspec__dictionary_value__init (dict);
  core_ml__specification__milspec__dictionary_type__init (dt);

  dict->n_values = n;
  dict->values = g_new (CoreML__Specification__MILSpec__DictionaryValue__KeyValuePair *, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    {
      CoreML__Specification__MILSpec__DictionaryValue__KeyValuePair *kv =
        g_new (CoreML__Specification__MILSpec__DictionaryValue__KeyValuePair, 1);

      core_ml__specification__milspec__dictionary_value__key_value_pair__init (kv);
      kv->key = string_value_new (keys[i]);
      kv->value = string_value_new (values[i]);
      dict->values[i] = kv;
    }
  imm->value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_DICTIONARY;
  imm->dictionary = dict;
  dt->keytype = string_type_new ();
  dt->valuetype = string_type_new ();
  v->type = g_new (AneMilValueType, 1);
  core_ml__specification__milspec__value_type__init (v->type);
  v->type->type_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_DICTIONARY_TYPE;
  v->type->dictionarytype = dt;
  v->value_case = CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE;
  v->immediatevalue = imm;
  return v;
}

/* The program attribute coremltools writes as
 *   buildInfo = dict<string, string>({{"coremltools-version", "9.1"}, ...})
 * here with ane-glib's version under its own key: CoreML does not read it,
 * it records which tool wrote the program. The MIL text handed to the
 * Neural Engine's private path carries more keys (AneMilDialect,
 * ane-mil-dialect.c); a package written for Core ML keeps this one. */
static void
add_build_info (AneMilProgram *program)
{
  static const char *const keys[] = { "ane-glib-version" };
  static const char *const values[] = { PACKAGE_VERSION };
  CoreML__Specification__MILSpec__Program__AttributesEntry *entry;

  /* A program read back (from MIL text) keeps the buildInfo it has. */
  for (gsize i = 0; i < program->n_attributes; i++)
    if (g_str_equal (program->attributes[i]->key, "buildInfo"))
      return;

  entry = g_new (CoreML__Specification__MILSpec__Program__AttributesEntry, 1);
  core_ml__specification__milspec__program__attributes_entry__init (entry);
  entry->key = g_strdup ("buildInfo");
  entry->value = ane_mlpackage_build_info_new (keys, values, G_N_ELEMENTS (keys));
  program->attributes = g_renew (CoreML__Specification__MILSpec__Program__AttributesEntry *,
                                 program->attributes, program->n_attributes + 1);
  program->attributes[program->n_attributes++] = entry;
}

static CoreML__Specification__Metadata *
metadata_new (const char *const *user_defined)
{
  CoreML__Specification__Metadata *md = g_new (CoreML__Specification__Metadata, 1);
  gsize n = user_defined ? g_strv_length ((char **) user_defined) / 2 : 0;

  /* coremltools leaves shortDescription, versionString, author and license
   * empty and records itself in userDefined; so do we. */
  core_ml__specification__metadata__init (md);
  md->n_userdefined = n;
  md->userdefined = g_new (CoreML__Specification__Metadata__UserDefinedEntry *, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    {
      CoreML__Specification__Metadata__UserDefinedEntry *e =
        g_new (CoreML__Specification__Metadata__UserDefinedEntry, 1);

      core_ml__specification__metadata__user_defined_entry__init (e);
      e->key = g_strdup (user_defined[2 * i]);
      e->value = g_strdup (user_defined[2 * i + 1]);
      md->userdefined[i] = e;
    }
  return md;
}

AneCoreMLModel *
ane_mlpackage_model_new (AneMilProgram      *program,
                         AneMilTarget        target,
                         const char *const  *user_defined,
                         GError            **error)
{
  g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func (feature_free);
  g_autoptr(GPtrArray) outputs = g_ptr_array_new_with_free_func (feature_free);
  g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func (feature_free);
  AneCoreMLModelDescription *desc;
  AneCoreMLModel *model;

  g_return_val_if_fail (program != NULL, NULL);
  g_return_val_if_fail (target >= ANE_MIL_IOS15 && target <= ANE_MIL_TARGET_LATEST, NULL);

  /* The model owns the program from here on, also on error. */
  model = g_new (AneCoreMLModel, 1);
  core_ml__specification__model__init (model);
  model->specificationversion = ane_mil_target_spec_version (target);
  model->type_case = CORE_ML__SPECIFICATION__MODEL__TYPE_ML_PROGRAM;
  model->mlprogram = program;
  desc = g_new (AneCoreMLModelDescription, 1);
  core_ml__specification__model_description__init (desc);
  model->description = desc;

  if (program->n_functions == 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "the program has no functions");
      ane_mlpackage_model_free (model);
      return NULL;
    }
  if (program->n_functions == 1)
    {
      /* One function: the model-level lists, as coremltools writes them. */
      if (!describe_function (program->functions[0]->key, program->functions[0]->value,
                              target, inputs, outputs, states, error))
        {
          ane_mlpackage_model_free (model);
          return NULL;
        }
      desc->input = steal_repeated (g_steal_pointer (&inputs), &desc->n_input);
      desc->output = steal_repeated (g_steal_pointer (&outputs), &desc->n_output);
      desc->state = steal_repeated (g_steal_pointer (&states), &desc->n_state);
    }
  else
    {
      /* Several: one FunctionDescription each (specification version 9),
       * the first the default, as coremltools' multifunction saver does. */
      desc->n_functions = program->n_functions;
      desc->functions = g_new0 (AneCoreMLFunctionDescription *, program->n_functions);
      for (gsize i = 0; i < program->n_functions; i++)
        {
          AneCoreMLFunctionDescription *fd = g_new (AneCoreMLFunctionDescription, 1);
          g_autoptr(GPtrArray) fin = g_ptr_array_new_with_free_func (feature_free);
          g_autoptr(GPtrArray) fout = g_ptr_array_new_with_free_func (feature_free);
          g_autoptr(GPtrArray) fstate = g_ptr_array_new_with_free_func (feature_free);

          core_ml__specification__function_description__init (fd);
          fd->name = g_strdup (program->functions[i]->key);
          desc->functions[i] = fd;
          if (!describe_function (fd->name, program->functions[i]->value, target,
                                  fin, fout, fstate, error))
            {
              ane_mlpackage_model_free (model);
              return NULL;
            }
          fd->input = steal_repeated (g_steal_pointer (&fin), &fd->n_input);
          fd->output = steal_repeated (g_steal_pointer (&fout), &fd->n_output);
          fd->state = steal_repeated (g_steal_pointer (&fstate), &fd->n_state);
        }
      desc->defaultfunctionname = g_strdup (program->functions[0]->key);
    }

  desc->metadata = metadata_new (user_defined);
  add_build_info (program);
  return model;
}

void
ane_mlpackage_model_free (AneCoreMLModel *model)
{
  if (model)
    protobuf_c_message_free_unpacked (&model->base, NULL);
}

/* ---------------------------------------------------------------------- */
/* the weight file, streamed                                              */
/* ---------------------------------------------------------------------- */

typedef struct {
  char     *path;
  int       fd;
  guint64   size;       /* logical end of the file (buffered bytes included) */
  guint64   started;    /* writeback was started up to here */
  guint32   count;
  guint8   *buf;
  gsize     len;        /* bytes waiting in buf */
  gboolean  failed;
  float    *f32;        /* conversion scratch, CHUNK_ELEMENTS each, made on demand */
  AneProgress *progress; /* nullable: told of each chunk */
  guint64   total;      /* the file's planned size, for progress */
} BlobStream;

static void
put_u32 (guint8  *p,
         guint32  v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, sizeof v);
}

static void
put_u64 (guint8  *p,
         guint64  v)
{
  v = GUINT64_TO_LE (v);
  memcpy (p, &v, sizeof v);
}

/* Starts writeback of every whole window written so far, waits for the one
 * before, and drops it from the page cache. Best effort: errors surface at
 * the final fsync. */
static void
stream_writeback (BlobStream *s,
                  guint64     written)
{
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
  while (written - s->started >= WRITEBACK_WINDOW)
    {
      sync_file_range (s->fd, (off_t) s->started, WRITEBACK_WINDOW, SYNC_FILE_RANGE_WRITE);
      if (s->started >= WRITEBACK_WINDOW)
        {
          off_t prev = (off_t) (s->started - WRITEBACK_WINDOW);

          sync_file_range (s->fd, prev, WRITEBACK_WINDOW,
                           SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                           SYNC_FILE_RANGE_WAIT_AFTER);
          posix_fadvise (s->fd, prev, WRITEBACK_WINDOW, POSIX_FADV_DONTNEED);
        }
      s->started += WRITEBACK_WINDOW;
    }
#endif
}

static gboolean
stream_flush (BlobStream  *s,
              GError     **error)
{
  if (s->len == 0)
    return TRUE;
  if (!ane_file_write_all (s->fd, s->path, s->buf, s->len, s->size - s->len, error))
    {
      s->failed = TRUE;
      return FALSE;
    }
  s->len = 0;
  stream_writeback (s, s->size);
  return TRUE;
}

/* Appends bytes: small ones through the buffer, large ones straight from
 * where they are (no copy of a tensor stored as it is). */
static gboolean
stream_put (BlobStream  *s,
            const void  *data,
            gsize        size,
            GError     **error)
{
  if (size >= IO_BUFFER_SIZE)
    {
      if (!stream_flush (s, error))
        return FALSE;
      if (!ane_file_write_all (s->fd, s->path, data, size, s->size, error))
        {
          s->failed = TRUE;
          return FALSE;
        }
      s->size += size;
      stream_writeback (s, s->size);
      return TRUE;
    }
  while (size > 0)
    {
      gsize k = MIN (size, IO_BUFFER_SIZE - s->len);

      memcpy (s->buf + s->len, data, k);
      s->len += k;
      s->size += k;
      data = (const guint8 *) data + k;
      size -= k;
      if (s->len == IO_BUFFER_SIZE && !stream_flush (s, error))
        return FALSE;
    }
  return TRUE;
}

/* Room for at least min bytes at the end of the buffer, for a conversion to
 * write into; stream_commit() then counts what it wrote. */
static guint8 *
stream_space (BlobStream  *s,
              gsize        min,
              gsize       *avail,
              GError     **error)
{
  g_assert (min <= IO_BUFFER_SIZE);
  if (IO_BUFFER_SIZE - s->len < min && !stream_flush (s, error))
    return NULL;
  *avail = IO_BUFFER_SIZE - s->len;
  return s->buf + s->len;
}

static void
stream_commit (BlobStream *s,
               gsize       n)
{
  s->len += n;
  s->size += n;
}

/* Starts a weight file at path, created here (fd < 0) or already open
 * for writing (a temporary, fd then belongs to the stream). */
static gboolean
stream_open (BlobStream  *s,
             const char  *path,
             int          fd,
             GError     **error)
{
  guint8 header[ANE_MILBLOB_HEADER_SIZE] = { 0 };

  memset (s, 0, sizeof *s);
  s->path = g_strdup (path);
  s->fd = fd;
  while (s->fd < 0)
    {
      s->fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
      if (s->fd < 0 && errno != EINTR)
        {
          int errsv = errno;

          g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: cannot create: %s", path, g_strerror (errsv));
          return FALSE;
        }
    }
  s->buf = g_malloc (IO_BUFFER_SIZE);
  /* The count stays 0 until finish rewrites it (StorageFormat.hpp). */
  put_u32 (header, 0);
  put_u32 (header + 4, ANE_MILBLOB_VERSION);
  return stream_put (s, header, sizeof header, error);
}

static void
stream_clear (BlobStream *s)
{
  if (s->fd >= 0)
    close (s->fd);
  s->fd = -1;
  g_clear_pointer (&s->path, g_free);
  g_clear_pointer (&s->buf, g_free);
  g_clear_pointer (&s->f32, g_free);
}

/* Pads to the next 64-byte boundary and writes the metadata record of a
 * blob, which must land at the offset the builder planned: the program
 * already points there. */
static gboolean
stream_begin_blob (BlobStream              *s,
                   const AneMilPendingBlob *blob,
                   GError                 **error)
{
  static const guint8 zeros[ANE_MILBLOB_ALIGNMENT] = { 0 };
  guint8 record[ANE_MILBLOB_RECORD_SIZE] = { 0 };
  guint64 record_offset = (s->size + ANE_MILBLOB_ALIGNMENT - 1) & ~(guint64) (ANE_MILBLOB_ALIGNMENT - 1);

  if (record_offset != blob->offset)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                   "%s: the blob of '%s' would be written at offset %" G_GUINT64_FORMAT
                   " but the program points at %" G_GUINT64_FORMAT " (a bug in ane-glib)",
                   s->path, blob->param ? blob->param : "a const", record_offset, blob->offset);
      return FALSE;
    }
  if (s->count == G_MAXUINT32)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE,
                   "%s: the blob storage header counts at most %u blobs", s->path, G_MAXUINT32);
      return FALSE;
    }
  put_u32 (record, ANE_MILBLOB_SENTINEL);
  put_u32 (record + 4, (guint32) blob->blob_type);
  put_u64 (record + 8, blob->size);
  put_u64 (record + 16, record_offset + ANE_MILBLOB_RECORD_SIZE);
  put_u64 (record + 24, blob->padding_bits);   /* sub-byte types: the last byte's unused bits */
  return stream_put (s, zeros, (gsize) (record_offset - s->size), error) &&
         stream_put (s, record, sizeof record, error);
}

static gboolean
stream_finish (BlobStream  *s,
               GError     **error)
{
  guint8 count[4];
  int fd;

  put_u32 (count, s->count);
  if (!stream_flush (s, error))
    return FALSE;
  while (pwrite (s->fd, count, sizeof count, 0) != (gssize) sizeof count)
    if (errno != EINTR)
      {
        int errsv = errno;

        g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: writing the blob count: %s",
                     s->path, g_strerror (errsv));
        return FALSE;
      }
  if (!ane_file_sync_fd (s->fd, s->path, error))
    return FALSE;
  /* close can report a deferred write error (NFS, quota). */
  fd = s->fd;
  s->fd = -1;
  return ane_file_close (fd, s->path, error);
}

/* --- conversions ------------------------------------------------------- */

/* n elements of a float dtype to float32 (exact for fp16 and bf16). */
static void
float_to_f32 (AneDType     dtype,
              const void  *src,
              gsize        n,
              float       *dst)
{
  switch (dtype)
    {
    case ANE_DTYPE_FLOAT32:
      memcpy (dst, src, n * sizeof (float));
      break;
    case ANE_DTYPE_FLOAT16:
      ane_f16_to_f32_bulk (src, dst, n);
      break;
    case ANE_DTYPE_BFLOAT16:
      for (gsize i = 0; i < n; i++)
        {
          guint16 b;

          memcpy (&b, (const guint8 *) src + 2 * i, 2);
          dst[i] = ane_bfloat16_to_float (GUINT16_FROM_LE (b));
        }
      break;
    default:
      g_assert_not_reached ();
    }
}

/* n float32 values to a float dtype, rounding to nearest even. */
static void
f32_to_float (AneDType     dtype,
              const float *src,
              gsize        n,
              void        *dst)
{
  switch (dtype)
    {
    case ANE_DTYPE_FLOAT32:
      memcpy (dst, src, n * sizeof (float));
      break;
    case ANE_DTYPE_FLOAT16:
      ane_f32_to_f16_bulk (src, dst, n);
      break;
    case ANE_DTYPE_BFLOAT16:
      for (gsize i = 0; i < n; i++)
        {
          guint16 b = GUINT16_TO_LE (ane_float_to_bfloat16 (src[i]));

          memcpy ((guint8 *) dst + 2 * i, &b, 2);
        }
      break;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
check_cancelled (GCancellable  *cancellable,
                 GError       **error)
{
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

/* Tells the stream's progress how much of weight.bin is written; fails
 * when it was cancelled. */
static gboolean
stream_report (BlobStream  *s,
               GError     **error)
{
  double done = s->total > 0 ? (double) MIN (s->size, s->total) / (double) s->total : 0.0;

  return ane_progress_report (s->progress, ANE_PROGRESS_STAGE_WRITING_WEIGHTS, WEIGHTS_SHARE * done,
                              MIN (s->size, s->total), s->total, error);
}

/* Streams one blob's data: src elements converted to dst on the way, in
 * chunks that fit the I/O buffer. */
static gboolean
stream_blob_data (BlobStream              *s,
                  const AneMilPendingBlob *blob,
                  GBytes                  *data,
                  GCancellable            *cancellable,
                  GError                 **error)
{
  const guint8 *src = g_bytes_get_data (data, NULL);
  AneDType from = blob->src_dtype, to = blob->dst_dtype;
  gsize n = (gsize) blob->n_elements;
  gsize dst_size = ane_dtype_size (to);
  guint64 start = s->size;

  /* Stored as it is (also integers of the same width, whose bits MIL reads
   * in the destination type). */
  if (from == to || (ane_dtype_is_integer (from) && ane_dtype_is_integer (to) &&
                     ane_dtype_size (from) == dst_size))
    {
      for (gsize done = 0; done < blob->size;)
        {
          gsize k = (gsize) MIN (blob->size - done, (guint64) PLAIN_PIECE);

          if (!check_cancelled (cancellable, error) || !stream_report (s, error) ||
              !stream_put (s, src + done, k, error))
            return FALSE;
          done += k;
        }
    }
  else if (ane_dtype_is_float (from) && ane_dtype_is_float (to))
    {
      gsize src_size = ane_dtype_size (from);

      for (gsize done = 0; done < n;)
        {
          gsize avail, k;
          guint8 *out = stream_space (s, CHUNK_ELEMENTS * dst_size, &avail, error);

          if (out == NULL || !check_cancelled (cancellable, error) || !stream_report (s, error))
            return FALSE;
          k = MIN (MIN (n - done, avail / dst_size), CHUNK_ELEMENTS);
          if (from == ANE_DTYPE_FLOAT32)
            f32_to_float (to, (const float *) (src + done * src_size), k, out);
          else if (to == ANE_DTYPE_FLOAT32)
            float_to_f32 (from, src + done * src_size, k, (float *) out);
          else
            {
              if (s->f32 == NULL)
                s->f32 = g_new (float, CHUNK_ELEMENTS);
              float_to_f32 (from, src + done * src_size, k, s->f32);
              f32_to_float (to, s->f32, k, out);
            }
          stream_commit (s, k * dst_size);
          done += k;
        }
    }
  else if (ane_dtype_is_block (from) && ane_dtype_is_float (to))
    {
      /* GGUF blocks: dequantize whole blocks into floats (exactly the
       * reference evaluator's values, which are ggml's floats), then round
       * once to the stored dtype. */
      guint bs = ane_dtype_block_size (from), bb = ane_dtype_block_bytes (from);

      if (s->f32 == NULL)
        s->f32 = g_new (float, CHUNK_ELEMENTS);
      for (gsize done = 0; done < n;)
        {
          gsize avail, k;
          guint8 *out = stream_space (s, CHUNK_ELEMENTS * dst_size, &avail, error);

          if (out == NULL || !check_cancelled (cancellable, error) || !stream_report (s, error))
            return FALSE;
          k = MIN (n - done, CHUNK_ELEMENTS);   /* whole blocks: CHUNK_ELEMENTS % bs == 0 */
          if (!ane_dequant_blocks_f32 (from, src + (done / bs) * bb, (k / bs) * bb, k, s->f32, error))
            {
              g_prefix_error (error, "%s: '%s': ", s->path, blob->param ? blob->param : "const");
              return FALSE;
            }
          f32_to_float (to, s->f32, k, out);
          stream_commit (s, k * dst_size);
          done += k;
        }
    }
  else
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s: cannot store %s as %s",
                   s->path, ane_dtype_to_string (from), ane_dtype_to_string (to));
      return FALSE;
    }

  if (s->size - start != blob->size)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                   "%s: wrote %" G_GUINT64_FORMAT " bytes for a blob of %" G_GUINT64_FORMAT
                   " (a bug in ane-glib)", s->path, s->size - start, blob->size);
      return FALSE;
    }
  s->count++;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* the bundle                                                             */
/* ---------------------------------------------------------------------- */

/* The bytes a pending blob is made from, checked against what the program
 * was lowered for. Params are looked up now, so a value bound after
 * lowering is the one written. */
static GBytes *
blob_source (const AneMilPendingBlob *blob,
             AneGraph                *graph,
             GHashTable              *params,
             GError                 **error)
{
  g_autoptr(GBytes) data = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *what = blob->param ? blob->param : "const";
  AneTensor *bound = blob->source == ANE_MIL_BLOB_FROM_PARAM && params ? g_hash_table_lookup (params, blob->param) : NULL;
  gsize want;

  if (!ane_dtype_n_bytes (blob->src_dtype, blob->n_elements, &want, &local_error))
    {
      g_set_error (error, ANE_ERROR, local_error->code, "weights of '%s': %s", what, local_error->message);
      return NULL;
    }
  if (blob->source == ANE_MIL_BLOB_FROM_BYTES)
    data = g_bytes_ref (blob->data);
  else if (blob->source == ANE_MIL_BLOB_FROM_BLOCKS)
    {
      /* GGUF blocks taken apart now (ane_mil_const_blocks) */
      data = ane_mil_blocks_split (blob, error);
      if (data == NULL)
        return NULL;
    }
  else if (bound != NULL)
    {
      /* Bound on an executable (already checked against the param's spec). */
      if (ane_tensor_get_dtype (bound) != blob->src_dtype || ane_tensor_get_n_elements (bound) != blob->n_elements)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                       "param '%s': the bound value does not match the lowered program", blob->param);
          return NULL;
        }
      data = g_bytes_ref (ane_tensor_get_data (bound));
    }
  else
    {
      const AneNode *node = graph ? ane_graph_find_node (graph, blob->param) : NULL;
      AneSpec spec;

      if (node == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                       "weights of '%s': the graph has no such param any more", blob->param);
          return NULL;
        }
      if (node->value == NULL || !ane_tensor_has_data (node->value))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_MISSING_PARAM,
                       "param '%s' has no value: bind one with ane_graph_bind_param() "
                       "(or ane_executable_set_param() when running)", blob->param);
          return NULL;
        }
      ane_tensor_get_spec (node->value, &spec);
      if (spec.dtype != blob->src_dtype)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                       "param '%s' is bound to a %s value; the package was lowered for %s",
                       blob->param, ane_dtype_to_string (spec.dtype), ane_dtype_to_string (blob->src_dtype));
          return NULL;
        }
      if (!ane_spec_equal (&spec, &node->outputs[0]) ||
          ane_tensor_get_n_elements (node->value) != blob->n_elements)
        {
          char have[ANE_SPEC_STRLEN], lowered[ANE_SPEC_STRLEN];

          g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                       "param '%s' is bound to a %s value; the package was lowered for %s",
                       blob->param, ane_spec_format (&spec, have), ane_spec_format (&node->outputs[0], lowered));
          return NULL;
        }
      data = g_bytes_ref (ane_tensor_get_data (node->value));
    }
  if (g_bytes_get_size (data) != want)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "weights of '%s': %" G_GSIZE_FORMAT " bytes of data for %" G_GINT64_FORMAT
                   " %s elements, which take %" G_GSIZE_FORMAT,
                   what, g_bytes_get_size (data), blob->n_elements,
                   ane_dtype_to_string (blob->src_dtype), want);
      return NULL;
    }
  return g_steal_pointer (&data);
}

/* Streams the blobs into a new weight file at path (created, or fd when it
 * is open already: the stream then owns it). On error the file is removed. */
static gboolean
write_weights (const char   *path,
               int           fd,
               GPtrArray    *blobs,
               GPtrArray    *sources,
               guint64       weight_size,
               GCancellable *cancellable,
               AneProgress  *progress,
               GError      **error)
{
  BlobStream s;
  gboolean ok;

  ok = stream_open (&s, path, fd, error);
  s.progress = progress;
  s.total = weight_size;
  for (guint i = 0; ok && i < blobs->len; i++)
    ok = stream_begin_blob (&s, g_ptr_array_index (blobs, i), error) &&
         stream_blob_data (&s, g_ptr_array_index (blobs, i), g_ptr_array_index (sources, i),
                           cancellable, error);
  if (ok && blobs->len > 0 && s.size != weight_size)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                   "%s: wrote %" G_GUINT64_FORMAT " bytes, the program planned %" G_GUINT64_FORMAT
                   " (a bug in ane-glib)", path, s.size, weight_size);
      ok = FALSE;
    }
  ok = ok && stream_report (&s, error) && stream_finish (&s, error);
  stream_clear (&s);
  if (!ok)
    g_unlink (path);   /* the staging area goes too; this just frees the space early */
  return ok;
}

/* Every blob's source, checked before anything is written. */
static GPtrArray *
collect_sources (GPtrArray   *blobs,
                 AneGraph    *graph,
                 GHashTable  *params,
                 GError     **error)
{
  g_autoptr(GPtrArray) sources = g_ptr_array_new_full (blobs->len, (GDestroyNotify) g_bytes_unref);

  for (guint i = 0; i < blobs->len; i++)
    {
      GBytes *data = blob_source (g_ptr_array_index (blobs, i), graph, params, error);

      if (data == NULL)
        return NULL;
      g_ptr_array_add (sources, data);
    }
  return g_steal_pointer (&sources);
}

void
ane_mlpackage_sync_placed (const char  *path,
                           char       **warning)
{
  g_autofree char *dest = g_canonicalize_filename (path, NULL);
  g_autofree char *parent = g_path_get_dirname (dest);
  g_autoptr(GError) local = NULL;

  if (ane_file_sync_dir (parent, &local))
    return;
  g_debug ("%s: saved, but %s", dest, local->message);
  if (warning != NULL)
    {
      g_free (*warning);
      *warning = g_strdup_printf ("'%s' was saved, but its directory could not be synced after the "
                                  "rename, so a system crash could still bring back what was there "
                                  "before (%s)", dest, local->message);
    }
}

gboolean
ane_mlpackage_write_lowered (const char            *path,
                             gboolean               overwrite,
                             const AneCoreMLModel  *model,
                             GPtrArray             *blobs,
                             guint64                weight_size,
                             AneGraph              *graph,
                             GHashTable            *params,
                             GCancellable          *cancellable,
                             char                 **warning,
                             GError               **error)
{
  return ane_mlpackage_write_lowered_full (path, overwrite, model, blobs, weight_size, graph, params,
                                           cancellable, NULL, NULL, warning, error);
}

gboolean
ane_mlpackage_write_lowered_full (const char            *path,
                                  gboolean               overwrite,
                                  const AneCoreMLModel  *model,
                                  GPtrArray             *blobs,
                                  guint64                weight_size,
                                  AneGraph              *graph,
                                  GHashTable            *params,
                                  GCancellable          *cancellable,
                                  AneProgress           *progress,
                                  AneMLPackage          *like,
                                  char                 **warning,
                                  GError               **error)
{
  g_autoptr(AneMLPackageStaging) staging = NULL;
  g_autoptr(GPtrArray) sources = NULL;
  g_autoptr(JsonNode) manifest = NULL;
  g_autofree char *weights_dir = NULL;
  g_autofree char *file = NULL;
  gsize packed_size;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (model != NULL, FALSE);
  g_return_val_if_fail (blobs != NULL, FALSE);

  if (warning != NULL)
    *warning = NULL;

  /* Everything that can be known before writing is checked first: the
   * model's size, and that every weight is there with its lowered shape. */
  packed_size = protobuf_c_message_get_packed_size (&model->base);
  if (!ane_mlpackage_check_model_size (packed_size, error))
    return FALSE;
  sources = collect_sources (blobs, graph, params, error);
  if (sources == NULL || !check_cancelled (cancellable, error))
    return FALSE;

  /* The staging area also removes what killed saves left (ane-file.c). */
  staging = ane_mlpackage_staging_new (path, overwrite, error);
  if (staging == NULL)
    return FALSE;
  weights_dir = g_build_filename (ane_mlpackage_staging_get_data_dir (staging), MODEL_DIR, WEIGHTS_DIR, NULL);
  if (g_mkdir_with_parents (weights_dir, 0755) != 0)
    {
      int errsv = errno;

      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "cannot create directory '%s': %s",
                   weights_dir, g_strerror (errsv));
      return FALSE;
    }

  /* coremltools writes weight.bin even for a program without weights (a
   * header with a count of 0); so do we, the manifest names the directory. */
  file = g_build_filename (weights_dir, WEIGHT_FILE, NULL);
  if (!write_weights (file, -1, blobs, sources, weight_size, cancellable, progress, error))
    return FALSE;
  g_clear_pointer (&sources, g_ptr_array_unref);
  /* The last point where cancelling stops the save: commit ends with the
   * rename that publishes the bundle. */
  if (!check_cancelled (cancellable, error) ||
      !ane_progress_report (progress, ANE_PROGRESS_STAGE_WRITING_MODEL, WEIGHTS_SHARE,
                            weight_size, weight_size, error))
    return FALSE;

  /* A package made from another (compressed): its manifest and its other
   * items as they were, when its model is where this writes it. */
  if (like != NULL && g_strcmp0 (ane_mlpackage_get_root_item (like)->path, MODEL_DIR "/" MODEL_FILE) == 0)
    {
      if (!ane_mlpackage_staging_copy_items (like, staging, MODEL_DIR "/" WEIGHTS_DIR, error))
        return FALSE;
      manifest = json_node_copy (ane_mlpackage_get_manifest (like));
    }
  /* Commit writes model.mlmodel and Manifest.json, syncs every file and
   * directory of the staging area and renames it into place. */
  if (manifest == NULL)
    manifest = ane_mlpackage_manifest_new_default ();
  if (!ane_mlpackage_staging_commit (staging, manifest, model, error))
    return FALSE;

  /* The point of no return: the new bundle is in place and the old one is
   * gone, so what fails now is reported, not a failure of the save. */
  ane_mlpackage_sync_placed (path, warning);
  return TRUE;
}

/* --- MIL text + weights, for the Neural Engine's in-memory path -------------- */

/* The BLOBFILE path prefix of weight files beside a text, and the path as
 * ane_mil_text_print() spells it in program(1.3) text. */
#define MIL_WEIGHTS_REF "@model_path/" WEIGHTS_DIR "/"
#define MIL_BLOB_PATH_PRINTED "BLOBFILE(path = string(\"" MIL_WEIGHTS_REF WEIGHT_FILE "\")"
#define VERSIONED_PREFIX "weight-"
#define VERSIONED_SUFFIX ".bin"
#define VERSIONED_DIGITS 16

gboolean
ane_mlpackage_is_mil_weight_name (const char *name)
{
  gsize len;

  if (name == NULL)
    return FALSE;
  if (strcmp (name, WEIGHT_FILE) == 0)
    return TRUE;
  len = strlen (name);
  if (len != strlen (VERSIONED_PREFIX) + VERSIONED_DIGITS + strlen (VERSIONED_SUFFIX) ||
      !g_str_has_prefix (name, VERSIONED_PREFIX) || !g_str_has_suffix (name, VERSIONED_SUFFIX))
    return FALSE;
  for (gsize i = strlen (VERSIONED_PREFIX); i < strlen (VERSIONED_PREFIX) + VERSIONED_DIGITS; i++)
    if (!g_ascii_isdigit (name[i]) && !(name[i] >= 'a' && name[i] <= 'f'))
      return FALSE;
  return TRUE;
}

/* A weight file name no file in weights_dir has: weight-<16 hex digits>.bin,
 * random (hashing gigabytes of weights for a name would cost more than
 * writing them). */
static char *
new_weight_name (const char *weights_dir)
{
  for (;;)
    {
      g_autofree char *name = g_strdup_printf (VERSIONED_PREFIX "%08x%08x" VERSIONED_SUFFIX,
                                               g_random_int (), g_random_int ());
      g_autofree char *path = g_build_filename (weights_dir, name, NULL);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return g_steal_pointer (&name);
    }
}

/* The text with every BLOBFILE path of weight.bin naming @name instead. The
 * pattern cannot occur inside a string literal: the printer escapes its
 * quotes there. */
static char *
retarget_text (const char *text,
               const char *name)
{
  g_autofree char *to = g_strdup_printf ("BLOBFILE(path = string(\"" MIL_WEIGHTS_REF "%s\")", name);
  GString *s = g_string_new (text);

  g_string_replace (s, MIL_BLOB_PATH_PRINTED, to, 0);
  return g_string_free (s, FALSE);
}

/* Removes the weight files of earlier saves from weights_dir (weight.bin and
 * weight-<16 hex>.bin, whatever text named them) except keep (nullable). */
static void
remove_old_weights (const char *weights_dir,
                    const char *keep)
{
  g_autoptr(GDir) dir = g_dir_open (weights_dir, 0, NULL);
  g_autoptr(GPtrArray) old = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)))
    if (ane_mlpackage_is_mil_weight_name (name) && g_strcmp0 (name, keep) != 0)
      g_ptr_array_add (old, g_build_filename (weights_dir, name, NULL));
  for (guint i = 0; i < old->len; i++)
    if (g_unlink (g_ptr_array_index (old, i)) != 0)
      g_debug ("cannot remove the old weight file '%s': %s", (const char *) g_ptr_array_index (old, i),
               g_strerror (errno));
  if (keep == NULL)
    g_rmdir (weights_dir);   /* only if nothing else is there */
}

/* Copies a loaded weight file into fd (a temporary, consumed). */
static gboolean
write_copy (int          fd,
            const char  *path,
            GBytes      *bytes,
            GError     **error)
{
  if (!ane_file_write_all (fd, path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), 0, error) ||
      !ane_file_sync_fd (fd, path, error))
    {
      close (fd);
      return FALSE;
    }
  return ane_file_close (fd, path, error);
}

/* Writes the text to mil_path and its weights to <dir of mil_path>/weights/
 * (the layout "@model_path/weights/..." names when @model_path is the
 * text's directory, as in a compiled .mlmodelc), so that no reader ever
 * sees a text beside weights of another save, even after a crash:
 *
 *  1. the weights go to a synced temporary, renamed to weight.bin when no
 *     file has that name, otherwise to a fresh weight-<16 hex>.bin (the old
 *     text may name weight.bin: it must stay as it is), and the directories
 *     are synced;
 *  2. the text, naming that file, goes to a synced temporary renamed over
 *     mil_path: the commit;
 *  3. once the directory sync has made the commit durable, the weight
 *     files of earlier saves are removed (only with overwrite, which allows
 *     replacing them). Should that sync fail, they stay, since a crash could
 *     still bring back the old text: the warning says so and the next save
 *     removes them.
 *
 * A failure before the commit removes the new weights and leaves the old
 * text and weights as they were. With a loaded package's weights
 * (weight_file), the file is copied as it is; otherwise the pending blobs
 * are streamed. */
gboolean
ane_mlpackage_write_mil (const char   *mil_path,
                         gboolean      overwrite,
                         const char   *text,
                         GPtrArray    *blobs,
                         guint64       weight_size,
                         AneGraph     *graph,
                         GHashTable   *params,
                         GBytes       *weight_file,
                         GCancellable *cancellable,
                         char        **warning,
                         GError      **error)
{
  g_autofree char *dir = g_path_get_dirname (mil_path);
  g_autofree char *weights_dir = g_build_filename (dir, WEIGHTS_DIR, NULL);
  g_autofree char *canonical = g_build_filename (weights_dir, WEIGHT_FILE, NULL);
  g_autofree char *name = NULL;
  g_autofree char *weights = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *retargeted = NULL;
  g_autofree char *sync_warning = NULL;
  g_autoptr(GPtrArray) sources = NULL;
  gboolean has_weights = weight_file != NULL || (blobs != NULL && blobs->len > 0);

  g_return_val_if_fail (mil_path != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  if (warning != NULL)
    *warning = NULL;

  /* What saves killed half-way left here (ane-file.c): temporaries of the
   * text and of the weights, whose temporaries are all named after
   * weight.bin. */
  ane_file_remove_stale_temps (mil_path);
  ane_file_remove_stale_temps (canonical);

  if (!overwrite && (g_file_test (mil_path, G_FILE_TEST_EXISTS) ||
                     (has_weights && g_file_test (canonical, G_FILE_TEST_EXISTS))))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "'%s' already exists; pass overwrite to replace it",
                   g_file_test (mil_path, G_FILE_TEST_EXISTS) ? mil_path : canonical);
      return FALSE;
    }
  if (blobs != NULL && weight_file == NULL)
    {
      sources = collect_sources (blobs, graph, params, error);
      if (sources == NULL)
        return FALSE;
    }
  if (!check_cancelled (cancellable, error))
    return FALSE;

  if (has_weights)
    {
      gboolean ok;
      int fd;

      if (g_mkdir_with_parents (weights_dir, 0755) != 0)
        {
          int errsv = errno;
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "cannot create directory '%s': %s",
                       weights_dir, g_strerror (errsv));
          return FALSE;
        }
      name = g_file_test (canonical, G_FILE_TEST_EXISTS) ? new_weight_name (weights_dir) : g_strdup (WEIGHT_FILE);
      weights = g_build_filename (weights_dir, name, NULL);
      fd = ane_file_make_temp_file (canonical, &tmp, error);
      if (fd < 0)
        return FALSE;
      if (weight_file != NULL)
        ok = write_copy (fd, tmp, weight_file, error);
      else
        ok = write_weights (tmp, fd, blobs, sources, weight_size, cancellable, NULL, error);
      g_clear_pointer (&sources, g_ptr_array_unref);
      if (!ok)
        {
          g_unlink (tmp);
          return FALSE;
        }
      if (g_rename (tmp, weights) != 0)
        {
          int errsv = errno;
          g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "cannot rename '%s' to '%s': %s",
                       tmp, weights, g_strerror (errsv));
          g_unlink (tmp);
          return FALSE;
        }
      /* Durable before any text names it: its entry, and that of the
       * weights directory should it be new. */
      if (!ane_file_sync_dir (weights_dir, error) || !ane_file_sync_dir (dir, error))
        {
          g_unlink (weights);
          return FALSE;
        }
      if (strcmp (name, WEIGHT_FILE) != 0)
        text = retargeted = retarget_text (text, name);
    }

  /* The commit. */
  if (!ane_file_replace (mil_path, text, strlen (text), &sync_warning, error))
    {
      if (weights != NULL)
        g_unlink (weights);
      return FALSE;
    }
  if (sync_warning != NULL)
    {
      if (warning != NULL)
        *warning = g_strdup_printf ("%s; the weight files of the earlier save were kept for that reason",
                                    sync_warning);
      return TRUE;
    }
  if (overwrite)
    remove_old_weights (weights_dir, name);
  return TRUE;
}

/* What a MIL text says of its weights: the versioned file it names (if
 * any), whether it names weight.bin, and every offset it reads. */
typedef struct {
  const char *origin;
  char       *found;
  gboolean    found_canonical;
  GArray     *offsets;          /* guint64 */
} WeightRefs;

/* Rewrites one BLOBFILE value naming a versioned weight file to weight.bin
 * and records the name and the offset. */
static gboolean
normalize_blob_value (AneMilValue  *value,
                      WeightRefs   *refs,
                      GError      **error)
{
  AneMilBlobFileValue *bf;
  const char *rel;

  if (value == NULL || value->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE ||
      (bf = value->blobfilevalue) == NULL || bf->filename == NULL ||
      !g_str_has_prefix (bf->filename, MIL_WEIGHTS_REF))
    return TRUE;
  rel = bf->filename + strlen (MIL_WEIGHTS_REF);
  if (strcmp (rel, WEIGHT_FILE) == 0)
    {
      refs->found_canonical = TRUE;
      g_array_append_val (refs->offsets, bf->offset);
      return TRUE;
    }
  if (!ane_mlpackage_is_mil_weight_name (rel))
    return TRUE;
  if (refs->found != NULL && strcmp (refs->found, rel) != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: the text names two weight files, '%s' and '%s'; a text names one",
                   refs->origin, refs->found, rel);
      return FALSE;
    }
  if (refs->found == NULL)
    refs->found = g_strdup (rel);
  g_free (bf->filename);
  bf->filename = g_strdup (MIL_WEIGHTS_REF WEIGHT_FILE);
  g_array_append_val (refs->offsets, bf->offset);
  return TRUE;
}

static gboolean
normalize_block (AneMilBlock  *block,
                 WeightRefs   *refs,
                 GError      **error)
{
  if (block == NULL)
    return TRUE;
  for (gsize i = 0; i < block->n_operations; i++)
    {
      AneMilOperation *op = block->operations[i];

      if (op == NULL)
        continue;
      for (gsize j = 0; j < op->n_attributes; j++)
        if (op->attributes[j] != NULL &&
            !normalize_blob_value (op->attributes[j]->value, refs, error))
          return FALSE;
      for (gsize j = 0; j < op->n_inputs; j++)
        {
          AneMilArgument *arg = op->inputs[j] ? op->inputs[j]->value : NULL;

          for (gsize k = 0; arg != NULL && k < arg->n_arguments; k++)
            if (arg->arguments[k] != NULL &&
                arg->arguments[k]->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_VALUE &&
                !normalize_blob_value (arg->arguments[k]->value, refs, error))
              return FALSE;
        }
      for (gsize j = 0; j < op->n_blocks; j++)
        if (!normalize_block (op->blocks[j], refs, error))
          return FALSE;
    }
  return TRUE;
}

char *
ane_mlpackage_mil_weights_path (AneMilProgram  *program,
                                const char     *mil_path,
                                GArray        **offsets,
                                GError        **error)
{
  g_autofree char *dir = g_path_get_dirname (mil_path);
  g_autoptr(GArray) found_offsets = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autofree char *found = NULL;
  WeightRefs refs = { mil_path, NULL, FALSE, found_offsets };
  gboolean ok = TRUE;

  for (gsize i = 0; ok && i < program->n_functions; i++)
    {
      AneMilFunction *fn = program->functions[i] ? program->functions[i]->value : NULL;

      for (gsize j = 0; ok && fn != NULL && j < fn->n_block_specializations; j++)
        if (fn->block_specializations[j] != NULL)
          ok = normalize_block (fn->block_specializations[j]->value, &refs, error);
    }
  found = refs.found;
  if (!ok)
    return NULL;
  if (found != NULL && refs.found_canonical)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: the text names two weight files, '%s' and '%s'; a text names one",
                   mil_path, WEIGHT_FILE, found);
      return NULL;
    }
  if (offsets != NULL)
    *offsets = g_steal_pointer (&found_offsets);
  return g_build_filename (dir, WEIGHTS_DIR, found != NULL ? found : WEIGHT_FILE, NULL);
}

/* One pending blob's bytes as weight.bin will hold them, in memory: for the
 * CPU backend, which runs a lowered program without writing it. A param in
 * params (name -> AneTensor) overrides the graph's value. */
GBytes *
ane_mlpackage_blob_bytes (gconstpointer  pending_blob,
                          AneGraph      *graph,
                          GHashTable    *params,
                          GError       **error)
{
  const AneMilPendingBlob *blob = pending_blob;
  g_autoptr(GBytes) src = blob_source (blob, graph, params, error);
  gsize n = (gsize) blob->n_elements;
  const guint8 *data;
  g_autofree double *tmp = NULL;
  gpointer out;

  if (src == NULL)
    return NULL;
  if (blob->src_dtype == blob->dst_dtype)
    return g_steal_pointer (&src);
  data = g_bytes_get_data (src, NULL);
  out = g_malloc (MAX (blob->size, 1));
  if (blob->src_dtype == ANE_DTYPE_FLOAT32 && blob->dst_dtype == ANE_DTYPE_FLOAT16)
    ane_f32_to_f16_bulk ((const float *) data, out, n);
  else
    {
      tmp = g_new (double, MAX (n, 1));
      if (ane_dtype_is_block (blob->src_dtype))
        {
          if (!ane_dequant_blocks (blob->src_dtype, data, g_bytes_get_size (src), n, tmp, error))
            {
              g_free (out);
              return NULL;
            }
        }
      else
        ane_dtype_decode (blob->src_dtype, data, n, tmp);
      ane_dtype_encode (blob->dst_dtype, tmp, n, out);
    }
  /* The caller keeps the converted copy: the source's pages, when they are
   * a mapped model file, need not stay resident beside it (an F32 GGUF run
   * at fp16 would otherwise hold both, issue 15; a BF16 or block source the
   * same). */
  ane_file_release_pages (data, g_bytes_get_size (src));
  return g_bytes_new_take (out, blob->size);
}

/* ---------------------------------------------------------------------- */
/* ANE_GLIB_DUMP_DIR                                                      */
/* ---------------------------------------------------------------------- */

/* Whether a FROM_PARAM blob has a value to write (bound on the executable
 * or in the graph). */
static gboolean
blob_has_value (const AneMilPendingBlob *blob,
                AneGraph                *graph,
                GHashTable              *params)
{
  const AneNode *node;

  if (blob->source != ANE_MIL_BLOB_FROM_PARAM)
    return TRUE;
  if (params != NULL && g_hash_table_lookup (params, blob->param) != NULL)
    return TRUE;
  node = graph != NULL ? ane_graph_find_node (graph, blob->param) : NULL;
  return node != NULL && node->value != NULL && ane_tensor_has_data (node->value);
}

/* The dump's file name, or NULL when it is there already or the program
 * is not dumped. */
static char *
dump_path (const char          *dir,
           const AneMilProgram *program,
           AneMilTarget         target,
           AneDType             precision,
           guint64              weight_size)
{
  gsize size = protobuf_c_message_get_packed_size (&program->base);
  g_autofree guint8 *packed = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *name = NULL;
  char *path;

  /* Programs with more weights than that come from tests of size limits
   * (their params are never bound): zeros of that size would only cost
   * disk and time; their types are as checkable in smaller programs. */
  if (weight_size > ANE_MLPACKAGE_DUMP_MAX_WEIGHTS)
    {
      g_debug ("ANE_GLIB_DUMP_DIR: a program with %" G_GUINT64_FORMAT " bytes of weights is not written",
               weight_size);
      return NULL;
    }
  packed = g_malloc (MAX (size, 1));
  protobuf_c_message_pack (&program->base, packed);
  /* named by content: the same program lowered by many tests is written once */
  hash = g_compute_checksum_for_data (G_CHECKSUM_SHA256, packed, size);
  hash[16] = '\0';
  name = g_strdup_printf ("%s-%s-%s.mlpackage", hash, ane_mil_target_name (target),
                          precision == ANE_DTYPE_FLOAT16 ? "fp16" : "fp32");
  path = g_build_filename (dir, name, NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_free (path);
      return NULL;
    }
  return path;
}

static const char *const dump_user_defined[] = { "com.github.ane-glib.version", PACKAGE_VERSION,
                                                 "com.github.ane-glib.source", "ANE_GLIB_DUMP_DIR", NULL };

/* Writes model (taken) with blobs, weights without a value as zeros. */
static void
dump_write (const char     *dir,
            const char     *path,
            AneCoreMLModel *model,
            GPtrArray      *blobs,
            guint64         weight_size,
            AneGraph       *graph,
            GHashTable     *params)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) dump_blobs = g_ptr_array_new ();
  g_autoptr(GPtrArray) zero_blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_mil_pending_blob_free);

  /* weights nobody bound yet are written as zeros: types are what matter */
  for (guint i = 0; i < blobs->len; i++)
    {
      AneMilPendingBlob *blob = g_ptr_array_index (blobs, i);
      AneMilPendingBlob *zero;
      gsize n_bytes;

      if (blob_has_value (blob, graph, params))
        {
          g_ptr_array_add (dump_blobs, blob);
          continue;
        }
      if (!ane_dtype_n_bytes (blob->src_dtype, blob->n_elements, &n_bytes, &error))
        {
          g_debug ("ANE_GLIB_DUMP_DIR: %s", error->message);
          ane_mlpackage_model_free (model);
          return;
        }
      zero = g_memdup2 (blob, sizeof *blob);
      zero->source = ANE_MIL_BLOB_FROM_BYTES;
      zero->param = NULL;
      zero->data = g_bytes_new_take (g_malloc0 (MAX (n_bytes, 1)), n_bytes);
      g_ptr_array_add (zero_blobs, zero);
      g_ptr_array_add (dump_blobs, zero);
    }

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int errsv = errno;

      g_debug ("ANE_GLIB_DUMP_DIR: cannot create '%s': %s", dir, g_strerror (errsv));
      ane_mlpackage_model_free (model);
      return;
    }
  if (!ane_mlpackage_write_lowered (path, TRUE, model, dump_blobs, weight_size, graph, params, NULL, NULL, &error))
    g_debug ("ANE_GLIB_DUMP_DIR: %s: %s", path, error->message);
  ane_mlpackage_model_free (model);
}

void
ane_mlpackage_dump_lowered (const char          *dir,
                            const AneMilProgram *program,
                            AneMilTarget         target,
                            AneDType             precision,
                            GPtrArray           *blobs,
                            guint64              weight_size,
                            AneGraph            *graph,
                            GHashTable          *params)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  AneMilProgram *copy;
  AneCoreMLModel *model;

  path = dump_path (dir, program, target, precision, weight_size);
  if (path == NULL)
    return;
  copy = ane_mil_program_copy (program);
  if (copy == NULL)
    {
      g_debug ("ANE_GLIB_DUMP_DIR: a lowered program does not unpack (a bug in ane-glib)");
      return;
    }
  model = ane_mlpackage_model_new (copy, target, dump_user_defined, &error);
  if (model == NULL)
    {
      g_debug ("ANE_GLIB_DUMP_DIR: %s: %s", path, error->message);
      return;
    }
  dump_write (dir, path, model, blobs, weight_size, graph, params);
}

void
ane_mlpackage_dump_model (const char     *dir,
                          AneCoreMLModel *model,
                          AneMilTarget    target,
                          AneDType        precision,
                          GPtrArray      *blobs,
                          guint64         weight_size,
                          AneGraph       *graph,
                          GHashTable     *params)
{
  g_autofree char *path = NULL;

  if ((path = dump_path (dir, model->mlprogram, target, precision, weight_size)) == NULL)
    {
      ane_mlpackage_model_free (model);
      return;
    }
  dump_write (dir, path, model, blobs, weight_size, graph, params);
}
