/* compress/ane-compress-package.c: ane_package_compress(), any package's
 * weights compressed in place
 *
 * The model is copied (packed and unpacked: every field, those this library
 * does not know included, stays as it was), then each function's top-level
 * `const` ops are visited in order. A const is a candidate as coremltools
 * decides (optimize/coreml/_quantization_passes.py:129-192): its value is
 * fp16 or fp32 in weight.bin, of rank 2 or more, with more elements than the
 * config's minimum, read by no constexpr op. The config that decides it is
 * found from its name, its reader's name and its reader's op type
 * (ane-compress-config.c); the reader also says which axis holds the output
 * channels (optimize/_utils.py:536-614): linear and conv their first,
 * conv_transpose its second, matmul the one its transpose flags say; any
 * other reader the first. Readers that disagree leave the weight as it is.
 *
 * The const op is replaced, at its place, by the ops ane_compress_weight()
 * builds (checked against Apple's signatures and type rules as they are
 * made), the last one keeping the const's output name, so nothing that reads
 * it changes. Then every blob the new program refers to is laid out again
 * in one weight.bin in program order: kept blobs byte for byte (shared ones
 * once), the replaced ones dropped, the new ones added, each BlobFileValue
 * pointed at its new offset. The result is a package in memory (written by
 * ane_package_save() atomically like any other); its metadata gains one
 * entry saying what was done.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "compress/ane-compress-private.h"
#include "ane-package-private.h"
#include "ane-progress-private.h"
#include "mil/ane-mil-dtype-private.h"
#include "mil/ane-mil-infer-private.h"
#include "mil/ane-milblob-private.h"
#include "mil/lower/ane-lowered-private.h"

#define NEW_BLOB_PREFIX "@ane-compress/"
#define WEIGHT_FILE     "@model_path/weights/weight.bin"
#define NOTE_KEY        "com.github.ane-glib.compression"

/* --- reading the program ---------------------------------------------------- */

static AneMilValue *
attribute_value (const AneMilOperation *op,
                 const char            *key)
{
  for (gsize i = 0; i < op->n_attributes; i++)
    if (g_strcmp0 (op->attributes[i]->key, key) == 0)
      return op->attributes[i]->value;
  return NULL;
}

static const char *
input_name (const AneMilOperation *op,
            const char            *param)
{
  for (gsize i = 0; i < op->n_inputs; i++)
    if (g_strcmp0 (op->inputs[i]->key, param) == 0 && op->inputs[i]->value->n_arguments == 1 &&
        op->inputs[i]->value->arguments[0]->binding_case ==
          CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME)
      return op->inputs[i]->value->arguments[0]->name;
  return NULL;
}

/* Who reads a value: each (op, parameter) that names it. */
typedef struct {
  const AneMilOperation *op;
  const char            *param;
} Reader;

static void
index_block (const AneMilBlock *block,
             GHashTable        *readers,     /* name -> GArray of Reader */
             GHashTable        *producers,   /* name -> op */
             GHashTable        *names)
{
  for (gsize i = 0; i < block->n_operations; i++)
    {
      const AneMilOperation *op = block->operations[i];

      for (gsize k = 0; k < op->n_inputs; k++)
        for (gsize a = 0; a < op->inputs[k]->value->n_arguments; a++)
          {
            const AneMilBinding *bnd = op->inputs[k]->value->arguments[a];
            GArray *list;
            Reader r = { op, op->inputs[k]->key };

            if (bnd->binding_case != CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME)
              continue;
            list = g_hash_table_lookup (readers, bnd->name);
            if (list == NULL)
              {
                list = g_array_new (FALSE, FALSE, sizeof (Reader));
                g_hash_table_insert (readers, bnd->name, list);
              }
            g_array_append_val (list, r);
          }
      for (gsize k = 0; k < op->n_outputs; k++)
        {
          g_hash_table_insert (producers, op->outputs[k]->name, (gpointer) op);
          g_hash_table_add (names, op->outputs[k]->name);
        }
      for (gsize k = 0; k < op->n_blocks; k++)
        index_block (op->blocks[k], readers, producers, names);
    }
  for (gsize k = 0; k < block->n_outputs; k++)
    {
      /* a block output is read by the function: never compress away */
      GArray *list = g_hash_table_lookup (readers, block->outputs[k]);
      Reader r = { NULL, NULL };

      if (list == NULL)
        {
          list = g_array_new (FALSE, FALSE, sizeof (Reader));
          g_hash_table_insert (readers, block->outputs[k], list);
        }
      g_array_append_val (list, r);
    }
}

/* A const bool's value (matmul's transpose flags); FALSE when unknown. */
static gboolean
const_bool (GHashTable *producers,
            const char *name)
{
  const AneMilOperation *op = name ? g_hash_table_lookup (producers, name) : NULL;
  const AneMilValue *v = op && g_strcmp0 (op->type, "const") == 0 ? attribute_value (op, "val") : NULL;

  if (v && v->value_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE &&
      v->immediatevalue->value_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR)
    {
      const CoreML__Specification__MILSpec__TensorValue *tv = v->immediatevalue->tensor;

      if (tv->value_case == CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_BOOLS && tv->bools->n_values == 1)
        return tv->bools->values[0];
    }
  return FALSE;
}

/* The output and input channel axes a reader gives a weight of rank
 * (optimize/_utils.py:536-614); FALSE for a reader that is not an op. */
static gboolean
reader_axes (const Reader *r,
             guint         rank,
             GHashTable   *producers,
             gint         *out_axis,
             gint         *in_axis)
{
  const char *type;

  if (r->op == NULL)
    return FALSE;
  type = r->op->type;
  *out_axis = 0;
  *in_axis = rank >= 2 ? 1 : -1;
  if (g_strcmp0 (type, "conv_transpose") == 0)
    {
      *out_axis = 1;
      *in_axis = 0;
    }
  else if (g_strcmp0 (type, "matmul") == 0)
    {
      gboolean y = g_strcmp0 (r->param, "y") == 0;
      gboolean t = const_bool (producers, input_name (r->op, y ? "transpose_y" : "transpose_x"));

      if (y != t)   /* y as is, or x transposed: [.., K, N] */
        {
          *out_axis = (gint) rank - 1;
          *in_axis = (gint) rank - 2;
        }
      else          /* y transposed, or x as is: [.., N, K] */
        {
          *out_axis = (gint) rank - 2;
          *in_axis = (gint) rank - 1;
        }
    }
  return TRUE;
}

/* --- the job ---------------------------------------------------------------- */

typedef struct {
  AnePackage         *source;
  AneCompressConfig  *config;
  AneProgress        *progress;
  GCancellable       *cancellable;
  GPtrArray          *report;          /* AneCompressedWeight* */
  GHashTable         *done_blobs;      /* "file\noffset\nconfig\naxes" of a weight compressed already ->
                                        * its ops, packed (a weight two functions share) */
  GHashTable         *new_blobs;       /* "@ane-compress/<n>" -> GPtrArray of AneMilPendingBlob (by builder offset) */
  guint               n_builders;
  guint64             done, total;     /* elements, for the progress */
} Job;

/* A candidate const: its fp16/fp32 blob value, shape and element count. */
static const AneMilValue *
candidate_value (const AneMilOperation *op,
                 AneDType              *dtype,
                 gint64                *shape,
                 guint                 *rank,
                 guint64               *n)
{
  const AneMilValue *v;
  const AneMilTensorType *tt;

  if (g_strcmp0 (op->type, "const") != 0 || op->n_outputs != 1)
    return NULL;
  v = attribute_value (op, "val");
  if (v == NULL || v->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE ||
      v->type == NULL || v->type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE)
    return NULL;
  tt = v->type->tensortype;
  if (tt->datatype == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16)
    *dtype = ANE_DTYPE_FLOAT16;
  else if (tt->datatype == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32)
    *dtype = ANE_DTYPE_FLOAT32;
  else
    return NULL;
  if (tt->n_dimensions < 2 || tt->n_dimensions > 6)
    return NULL;
  *rank = (guint) tt->n_dimensions;
  *n = 1;
  for (guint i = 0; i < *rank; i++)
    {
      if (tt->dimensions[i]->dimension_case != CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT)
        return NULL;
      shape[i] = (gint64) tt->dimensions[i]->constant->size;
      *n *= (guint64) shape[i];
    }
  return v;
}

/* The const's values as floats; NULL (not an error) when one is not finite:
 * coremltools leaves such weights alone (_quantization_passes.py:1393). */
static float *
read_floats (Job               *job,
             const AneMilValue *v,
             AneDType           dtype,
             guint64            n,
             GError           **error)
{
  g_autoptr(GBytes) bytes = ane_package_read_blob (job->source, v->blobfilevalue->filename,
                                                   v->blobfilevalue->offset, error);
  const guint8 *data;
  gsize size;
  float *out;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &size);
  if (size != n * ane_dtype_size (dtype))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "blob at offset %" G_GUINT64_FORMAT " holds %" G_GSIZE_FORMAT
                   " bytes, not %" G_GUINT64_FORMAT, (guint64) v->blobfilevalue->offset, size,
                   n * ane_dtype_size (dtype));
      return NULL;
    }
  out = g_new (float, MAX (n, 1));
  /* the blob as the CPU backend decodes it (ane-cpu-value.c) */
  if (dtype == ANE_DTYPE_FLOAT16)
    ane_f16_to_f32_bulk ((const guint16 *) data, out, n);
  else if (n > 0)
    memcpy (out, data, n * 4);
  for (guint64 i = 0; i < n; i++)
    if (!isfinite (out[i]))
      {
        g_free (out);
        return NULL;
      }
  return out;
}

static AneCompressedWeight *
skipped_entry (const char *name,
               const char *reader_type,
               guint64     bytes,
               const char *why)
{
  AneCompressedWeight *w = g_new0 (AneCompressedWeight, 1);

  w->name = g_strdup (name);
  w->op_type = g_strdup (reader_type);
  w->mode = g_strdup ("skipped");
  w->detail = g_strdup (why);
  w->bytes_before = w->bytes_after = bytes;
  return w;
}

static GBytes *
pack_message (const ProtobufCMessage *m)
{
  gsize size = protobuf_c_message_get_packed_size (m);
  guint8 *buf = g_malloc (MAX (size, 1));

  protobuf_c_message_pack (m, buf);
  return g_bytes_new_take (buf, size);
}

/* Moves the ops of a one-function program into out_ops (their names into
 * names) and frees the program. */
static void
take_ops (AneMilProgram *program,
          GHashTable    *names,
          GPtrArray     *out_ops)
{
  AneMilBlock *block = program->functions[0]->value->block_specializations[0]->value;

  for (gsize i = 0; i < block->n_operations; i++)
    {
      AneMilOperation *nop = block->operations[i];

      for (gsize k = 0; k < nop->n_outputs; k++)
        g_hash_table_add (names, nop->outputs[k]->name);
      g_ptr_array_add (out_ops, nop);
    }
  block->n_operations = 0;
  protobuf_c_message_free_unpacked (&program->base, NULL);
}

/* A weight compressed already in another function (a multifunction
 * package's prefill and decode share their weights): the same ops again,
 * the same blobs (the layout stores them once), no second k-means. Only
 * when the const has the same name and none of the ops' other names is
 * taken in this function. */
static gboolean
reuse_ops (GBytes     *packed,
           const char *name,
           GHashTable *names,
           GPtrArray  *out_ops)
{
  AneMilProgram *program = (AneMilProgram *) protobuf_c_message_unpack (
    &core_ml__specification__milspec__program__descriptor, NULL, g_bytes_get_size (packed),
    g_bytes_get_data (packed, NULL));
  AneMilBlock *block;

  if (program == NULL)
    return FALSE;
  block = program->functions[0]->value->block_specializations[0]->value;
  for (gsize i = 0; i < block->n_operations; i++)
    for (gsize k = 0; k < block->operations[i]->n_outputs; k++)
      {
        const char *out = block->operations[i]->outputs[k]->name;
        gboolean last = i + 1 == block->n_operations;

        if (last ? g_strcmp0 (out, name) != 0 : g_hash_table_contains (names, out))
          {
            protobuf_c_message_free_unpacked (&program->base, NULL);
            return FALSE;
          }
      }
  take_ops (program, names, out_ops);
  return TRUE;
}

/* Compresses one const into ops appended to out_ops; FALSE on error. A
 * weight left as it is appends nothing and returns TRUE with *replaced
 * FALSE. */
static gboolean
compress_const (Job                   *job,
                AneMilTarget           target,
                const AneMilOperation *op,
                GHashTable            *readers,
                GHashTable            *producers,
                GHashTable            *names,
                GPtrArray             *out_ops,
                gboolean              *replaced,
                GError               **error)
{
  AneCompressWeight w = { 0, };
  const AneMilValue *v;
  guint64 n;
  GArray *list;
  const Reader *first;
  AneCompressConfig *cfg;
  g_autofree float *values = NULL;
  g_autofree float *importance = NULL;
  g_autoptr(AneMilBuilder) b = NULL;
  AneCompressedWeight *entry;
  g_autoptr(GPtrArray) blobs = NULL;
  AneMilProgram *program;
  AneMilBlock *block;
  guint64 weight_size;
  AneTensor *imp;
  gint in_axis = -1;
  g_autofree char *done_key = NULL;

  *replaced = FALSE;
  v = candidate_value (op, &w.dtype, w.shape, &w.rank, &n);
  if (v == NULL)
    return TRUE;
  w.name = op->outputs[0]->name;
  list = g_hash_table_lookup (readers, w.name);
  if (list == NULL || list->len == 0)
    return TRUE;
  first = &g_array_index (list, Reader, 0);
  for (guint i = 0; i < list->len; i++)
    {
      const Reader *r = &g_array_index (list, Reader, i);
      gint oa = 0, ia = -1;

      /* read by a constexpr op already, or by the function's output */
      if (r->op == NULL || g_str_has_prefix (r->op->type, "constexpr_"))
        return TRUE;
      reader_axes (r, w.rank, producers, &oa, &ia);
      if (i == 0)
        {
          w.channel_axis = oa;
          in_axis = ia;
        }
      else if (oa != w.channel_axis)
        return TRUE;   /* readers disagree: coremltools skips it (optimize/_utils.py:498-501) */
    }
  w.input_axis = in_axis;
  w.consumer_type = first->op->type;
  cfg = ane_compress_config_resolve (job->config, w.name, n, first->op->type, ane_mil_op_name (first->op));
  if (cfg == NULL)
    return TRUE;
  done_key = g_strdup_printf ("%s\n%" G_GUINT64_FORMAT "\n%p\n%d\n%d", v->blobfilevalue->filename,
                              (guint64) v->blobfilevalue->offset, (void *) cfg, w.channel_axis, w.input_axis);
  {
    GBytes *done = g_hash_table_lookup (job->done_blobs, done_key);

    if (done != NULL && reuse_ops (done, w.name, names, out_ops))
      {
        *replaced = TRUE;
        return TRUE;
      }
  }

  values = read_floats (job, v, w.dtype, n, error);
  if (values == NULL)
    {
      if (error && *error)
        {
          g_prefix_error (error, "weight '%s': ", w.name);
          return FALSE;
        }
      g_ptr_array_add (job->report, skipped_entry (w.name, w.consumer_type, n * ane_dtype_size (w.dtype),
                                                   "not finite"));
      return TRUE;
    }
  w.values = values;
  imp = g_hash_table_lookup (cfg->importance, w.name);
  if (imp == NULL)
    imp = g_hash_table_lookup (job->config->importance, w.name);
  if (imp)
    {
      gsize ni = 0;

      importance = ane_tensor_dup_floats (imp, &ni, error);
      if (importance == NULL)
        return FALSE;
      if (ni != n)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "importance of '%s' has %" G_GSIZE_FORMAT
                       " values, the weight %" G_GUINT64_FORMAT, w.name, ni, n);
          return FALSE;
        }
      w.importance = importance;
    }

  b = ane_mil_builder_new (target);
  ane_mil_builder_begin_function (b, "main");
  {
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init (&it, names);
    while (g_hash_table_iter_next (&it, &key, NULL))
      ane_mil_builder_reserve_name (b, key);
  }
  entry = g_new0 (AneCompressedWeight, 1);
  if (!ane_compress_weight (b, cfg, &w, entry, error))
    {
      ane_compressed_weight_free (entry);
      if (error && *error && (*error)->code == ANE_ERROR_SHAPE)
        {
          /* a size the shape cannot take: left as it is, as coremltools
           * does (optimize/_utils.py:246-299), and said in the report */
          g_ptr_array_add (job->report, skipped_entry (w.name, w.consumer_type, n * ane_dtype_size (w.dtype),
                                                       (*error)->message));
          g_clear_error (error);
          return TRUE;
        }
      g_prefix_error (error, "weight '%s': ", w.name);
      return FALSE;
    }
  program = ane_mil_builder_finish (b, &blobs, &weight_size, error);
  if (program == NULL)
    {
      ane_compressed_weight_free (entry);
      g_prefix_error (error, "weight '%s': ", w.name);
      return FALSE;
    }
  g_ptr_array_add (job->report, entry);
  block = program->functions[0]->value->block_specializations[0]->value;
  {
    /* the new ops' blobs: named after this builder until the layout pass */
    g_autofree char *file = g_strdup_printf (NEW_BLOB_PREFIX "%u", job->n_builders++);

    for (gsize i = 0; i < block->n_operations; i++)
      {
        AneMilOperation *nop = block->operations[i];

        for (gsize a = 0; a < nop->n_attributes; a++)
          {
            AneMilValue *av = nop->attributes[a]->value;

            if (av->value_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE)
              {
                g_free (av->blobfilevalue->filename);
                av->blobfilevalue->filename = g_strdup (file);
              }
          }
      }
    g_hash_table_insert (job->new_blobs, g_steal_pointer (&file), g_steal_pointer (&blobs));
  }
  g_hash_table_insert (job->done_blobs, g_steal_pointer (&done_key), pack_message (&program->base));
  take_ops (program, names, out_ops);
  *replaced = TRUE;
  return TRUE;
}

static guint64
count_candidates (AneMilBlock *block)
{
  guint64 total = 0;

  for (gsize i = 0; i < block->n_operations; i++)
    {
      AneDType dt;
      gint64 shape[8];
      guint rank;
      guint64 n;

      if (candidate_value (block->operations[i], &dt, shape, &rank, &n))
        total += n;
    }
  return total;
}

static gboolean
compress_block (Job           *job,
                AneMilTarget   target,
                AneMilBlock   *block,
                GHashTable    *readers,
                GHashTable    *producers,
                GHashTable    *names,
                GError       **error)
{
  g_autoptr(GPtrArray) ops = g_ptr_array_new ();

  for (gsize i = 0; i < block->n_operations; i++)
    {
      AneMilOperation *op = block->operations[i];
      gboolean replaced = FALSE;
      AneDType dt;
      gint64 shape[8];
      guint rank;
      guint64 n = 0;

      if (candidate_value (op, &dt, shape, &rank, &n))
        {
          job->done += n;
          if (!ane_progress_report (job->progress, "compressing", job->total ? (double) job->done / job->total : 0,
                                    0, 0, error) ||
              g_cancellable_set_error_if_cancelled (job->cancellable, error))
            goto fail;
        }
      if (!compress_const (job, target, op, readers, producers, names, ops, &replaced, error))
        goto fail;
      if (replaced)
        {
          /* producers may point at it: the map is not used after this block */
          g_hash_table_remove (producers, op->outputs[0]->name);
          protobuf_c_message_free_unpacked (&op->base, NULL);
        }
      else
        g_ptr_array_add (ops, op);
      continue;
    fail:
      /* keep the block whole so the model can be freed: the rest as it was */
      for (gsize k = i; k < block->n_operations; k++)
        g_ptr_array_add (ops, block->operations[k]);
      g_free (block->operations);
      block->n_operations = ops->len;
      block->operations = (AneMilOperation **) g_ptr_array_steal (ops, NULL);
      return FALSE;
    }
  g_free (block->operations);
  block->n_operations = ops->len;
  block->operations = (AneMilOperation **) g_ptr_array_steal (ops, NULL);
  return TRUE;
}

/* --- laying out weight.bin again ------------------------------------------- */

typedef struct {
  Job        *job;
  GPtrArray  *blobs;      /* AneMilPendingBlob*, in file order */
  GHashTable *placed;     /* "file\noffset" -> new offset (boxed guint64) */
  guint64     end;        /* where the next record goes */
  guint64     weight_end; /* the file's size */
  GError     *error;
} Layout;

static guint64
align64 (guint64 v)
{
  return (v + ANE_MILBLOB_ALIGNMENT - 1) & ~(guint64) (ANE_MILBLOB_ALIGNMENT - 1);
}

static void
place_blob (Layout            *l,
            AneMilValue       *v)
{
  AneMilBlobFileValue *bf = v->blobfilevalue;
  g_autofree char *key = g_strdup_printf ("%s\n%" G_GUINT64_FORMAT, bf->filename, (guint64) bf->offset);
  guint64 *known = g_hash_table_lookup (l->placed, key);
  AneMilPendingBlob *blob = NULL;

  if (l->error)
    return;
  if (known)
    {
      bf->offset = *known;
      g_free (bf->filename);
      bf->filename = g_strdup (WEIGHT_FILE);
      return;
    }
  if (g_str_has_prefix (bf->filename, NEW_BLOB_PREFIX))
    {
      GPtrArray *mine = g_hash_table_lookup (l->job->new_blobs, bf->filename);

      for (guint i = 0; mine && i < mine->len; i++)
        {
          AneMilPendingBlob *p = g_ptr_array_index (mine, i);

          if (p && p->offset == bf->offset)
            {
              blob = g_ptr_array_steal_index (mine, i);
              g_ptr_array_insert (mine, (gint) i, NULL);
              break;
            }
        }
      if (blob == NULL)
        {
          l->error = g_error_new (ANE_ERROR, ANE_ERROR_FAILED, "internal: no new blob at %s %" G_GUINT64_FORMAT,
                                  bf->filename, (guint64) bf->offset);
          return;
        }
      {
        /* the same weight compressed in two functions of a multifunction
         * package (which shared it) makes the same bytes: stored once */
        g_autofree char *sum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, blob->data);
        char *content = g_strdup_printf ("=%d:%u:%s", blob->blob_type, blob->padding_bits, sum);
        guint64 *same = g_hash_table_lookup (l->placed, content);

        if (same)
          {
            g_free (content);
            ane_mil_pending_blob_free (blob);
            g_hash_table_insert (l->placed, g_steal_pointer (&key), g_memdup2 (same, sizeof (guint64)));
            bf->offset = *same;
            g_free (bf->filename);
            bf->filename = g_strdup (WEIGHT_FILE);
            return;
          }
        g_hash_table_insert (l->placed, content, g_memdup2 (&l->end, sizeof (guint64)));
      }
    }
  else
    {
      /* kept as stored: the same bytes, type and padding */
      GBytes *bytes = ane_package_read_blob (l->job->source, bf->filename, bf->offset, &l->error);
      AneMilBlobDataType type = 0;
      guint bits = 0;
      guint64 n = 0;

      if (bytes == NULL)
        return;
      if (v->type == NULL || v->type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE ||
          !ane_mil_dtype_blob_info (v->type->tensortype->datatype, &type, &bits) ||
          !ane_mil_tensor_type_n_elements (v->type->tensortype, &n, &l->error))
        {
          if (l->error == NULL)
            l->error = g_error_new (ANE_ERROR, ANE_ERROR_PARSE, "blob at %s offset %" G_GUINT64_FORMAT
                                    " has no storable tensor type", bf->filename, (guint64) bf->offset);
          g_bytes_unref (bytes);
          return;
        }
      blob = g_new0 (AneMilPendingBlob, 1);
      blob->source = ANE_MIL_BLOB_FROM_BYTES;
      blob->data = bytes;
      blob->src_dtype = blob->dst_dtype = ANE_DTYPE_UINT8;
      blob->size = g_bytes_get_size (bytes);
      blob->n_elements = (gint64) blob->size;
      blob->blob_type = type;
      if (ane_milblob_data_type_is_sub_byte (type))
        blob->padding_bits = (guint) (blob->size * 8 - n * bits);
    }
  blob->offset = l->end;
  l->weight_end = blob->offset + ANE_MILBLOB_RECORD_SIZE + blob->size;
  l->end = align64 (l->weight_end);
  g_ptr_array_add (l->blobs, blob);
  g_hash_table_insert (l->placed, g_steal_pointer (&key), g_memdup2 (&blob->offset, sizeof (guint64)));
  bf->offset = blob->offset;
  g_free (bf->filename);
  bf->filename = g_strdup (WEIGHT_FILE);
}

static void
layout_value (Layout      *l,
              AneMilValue *v)
{
  if (v && v->value_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE)
    place_blob (l, v);
}

static void
layout_block (Layout      *l,
              AneMilBlock *block)
{
  for (gsize i = 0; i < block->n_operations; i++)
    {
      AneMilOperation *op = block->operations[i];

      for (gsize a = 0; a < op->n_attributes; a++)
        layout_value (l, op->attributes[a]->value);
      for (gsize k = 0; k < op->n_inputs; k++)
        for (gsize a = 0; a < op->inputs[k]->value->n_arguments; a++)
          if (op->inputs[k]->value->arguments[a]->binding_case ==
              CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_VALUE)
            layout_value (l, op->inputs[k]->value->arguments[a]->value);
      for (gsize k = 0; k < op->n_blocks; k++)
        layout_block (l, op->blocks[k]);
    }
}

/* --- the call -------------------------------------------------------------- */

static void
add_note (AneCoreMLModel *model,
          const char     *note)
{
  CoreML__Specification__ModelDescription *d = model->description;
  CoreML__Specification__Metadata *m;
  CoreML__Specification__Metadata__UserDefinedEntry *e;

  if (d == NULL)
    return;
  if (d->metadata == NULL)
    {
      d->metadata = g_new (CoreML__Specification__Metadata, 1);
      core_ml__specification__metadata__init (d->metadata);
    }
  m = d->metadata;
  for (gsize i = 0; i < m->n_userdefined; i++)
    if (g_strcmp0 (m->userdefined[i]->key, NOTE_KEY) == 0)
      {
        /* compressed again: both notes, in order */
        char *both = g_strdup_printf ("%s; then %s", m->userdefined[i]->value, note);

        g_free (m->userdefined[i]->value);
        m->userdefined[i]->value = both;
        return;
      }
  e = g_new (CoreML__Specification__Metadata__UserDefinedEntry, 1);
  core_ml__specification__metadata__user_defined_entry__init (e);
  e->key = g_strdup (NOTE_KEY);
  e->value = g_strdup (note);
  m->userdefined = g_renew (CoreML__Specification__Metadata__UserDefinedEntry *, m->userdefined,
                            m->n_userdefined + 1);
  m->userdefined[m->n_userdefined++] = e;
}

static AneCoreMLModel *
copy_model (const AneCoreMLModel *model)
{
  gsize size = protobuf_c_message_get_packed_size (&model->base);
  g_autofree guint8 *buf = g_malloc (MAX (size, 1));

  protobuf_c_message_pack (&model->base, buf);
  return (AneCoreMLModel *) protobuf_c_message_unpack (&core_ml__specification__model__descriptor, NULL, size, buf);
}

static gboolean
function_target (const AneMilFunction *fn,
                 const char           *name,
                 AneMilTarget         *target,
                 AneMilBlock         **block,
                 GError              **error)
{
  *block = NULL;
  for (gsize i = 0; i < fn->n_block_specializations; i++)
    if (g_strcmp0 (fn->block_specializations[i]->key, fn->opset) == 0)
      *block = fn->block_specializations[i]->value;
  if (*block == NULL || !ane_mil_target_from_string (fn->opset, target))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "function '%s': opset '%s' is not one this library "
                   "can compress (CoreML5 to CoreML8)", name, fn->opset ? fn->opset : "(none)");
      return FALSE;
    }
  return TRUE;
}

/**
 * ane_package_compress:
 * @package: a package, loaded or made from a graph
 * @config: what to compress and how
 * @cancellable: (nullable): a #GCancellable
 * @progress: (nullable): an [class@Ane.Progress] to report to ("compressing",
 *   once per candidate weight) and cancel with
 * @error: return location for a #GError
 *
 * Compresses the weights of @package that @config selects, as coremltools'
 * `ct.optimize.coreml` does (`palettize_weights`, `linear_quantize_weights`,
 * `prune_weights` and their joint forms), and returns the result as a new
 * package in memory: save it with [method@Ane.Package.save], run it with
 * [class@Ane.Executable], print it with [method@Ane.Package.to_mil_text].
 * @package is not changed.
 *
 * Each selected weight — a `const` in the weight file of rank 2 or more,
 * fp16 or fp32, not already read by a constexpr op — is replaced by the
 * Core ML ops of the package's target: `constexpr_lut_to_dense`,
 * `constexpr_affine_dequantize` (iOS16/17) or
 * `constexpr_blockwise_shift_scale` (iOS18), `constexpr_sparse_to_dense`,
 * and the iOS18 joint ops `constexpr_lut_to_sparse` and
 * `constexpr_sparse_blockwise_shift_scale`. The result keeps the weight's
 * name, so everything else in the program is as it was; weight.bin is laid
 * out again with the kept weights byte for byte and the new ones added.
 * The model's metadata and every field this library does not know are
 * kept; the metadata gains `com.github.ane-glib.compression`, saying what
 * was done. The new program is checked against the output types Apple's
 * loader infers.
 *
 * What was done, weight by weight, is in
 * [method@Ane.Package.get_compression_report] of the result. A weight the
 * settings cannot divide (a group size that does not divide its output
 * channels) or that holds infinities stays as it is and is reported as
 * "skipped".
 *
 * Returns: (transfer full): the compressed package, or %NULL with
 *   %ANE_ERROR_INVALID_ARGUMENT for a setting no target has,
 *   %ANE_ERROR_UNSUPPORTED naming the op and the target for one the
 *   package's target cannot express (4-bit integers before iOS18, any
 *   compression before iOS16), %ANE_ERROR_SHAPE for an importance tensor
 *   of the wrong size, %G_IO_ERROR_CANCELLED when cancelled
 *
 * Since: 0.2
 */
AnePackage *
ane_package_compress (AnePackage        *package,
                      AneCompressConfig *config,
                      GCancellable      *cancellable,
                      AneProgress       *progress,
                      GError           **error)
{
  const AneCoreMLModel *source;
  AneCoreMLModel *model;
  AneMilProgram *program;
  Job job = { package, config, progress, cancellable, };
  Layout l = { &job, };
  g_autoptr(GPtrArray) report = NULL;
  g_auto(GStrv) problems = NULL;
  g_autofree char *recipe = NULL;
  g_autofree char *note = NULL;
  AneLowered *lowered;
  AnePackage *result;
  guint64 before;
  guint n_done = 0;
  gboolean source_agrees;

  g_return_val_if_fail (ANE_IS_PACKAGE (package), NULL);
  g_return_val_if_fail (ANE_IS_COMPRESS_CONFIG (config), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (progress == NULL || ANE_IS_PROGRESS (progress), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  {
    /* a program Apple's rules refuse already is compressed as it is; one
     * they accept must still be accepted after */
    g_auto(GStrv) before_problems = ane_package_check_types (package, NULL);

    source_agrees = before_problems == NULL || before_problems[0] == NULL;
  }
  source = ane_package_get_model (package);
  if (source == NULL || source->type_case != CORE_ML__SPECIFICATION__MODEL__TYPE_ML_PROGRAM ||
      source->mlprogram == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "only ML programs can be compressed");
      return NULL;
    }
  ane_progress_begin (progress);
  program = source->mlprogram;
  for (gsize f = 0; f < program->n_functions; f++)
    {
      AneMilTarget target;
      AneMilBlock *block;

      if (!function_target (program->functions[f]->value, program->functions[f]->key, &target, &block, error) ||
          !ane_compress_config_check (config, target, error))
        return NULL;
      job.total += count_candidates (block);
    }

  model = copy_model (source);
  if (model == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "could not copy the model");
      return NULL;
    }
  report = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_compressed_weight_free);
  job.report = report;
  job.new_blobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  job.done_blobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  program = model->mlprogram;
  for (gsize f = 0; f < program->n_functions; f++)
    {
      AneMilFunction *fn = program->functions[f]->value;
      g_autoptr(GHashTable) readers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                              (GDestroyNotify) g_array_unref);
      g_autoptr(GHashTable) producers = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
      AneMilTarget target;
      AneMilBlock *block;

      function_target (fn, program->functions[f]->key, &target, &block, NULL);
      for (gsize i = 0; i < fn->n_inputs; i++)
        g_hash_table_add (names, fn->inputs[i]->name);
      index_block (block, readers, producers, names);
      if (!compress_block (&job, target, block, readers, producers, names, error))
        {
          g_prefix_error (error, "function '%s': ", program->functions[f]->key);
          ane_mlpackage_model_free (model);
          g_hash_table_unref (job.new_blobs);
          g_hash_table_unref (job.done_blobs);
          return NULL;
        }
    }

  /* one weight.bin, in program order */
  l.blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_mil_pending_blob_free);
  l.placed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  l.end = ANE_MILBLOB_HEADER_SIZE;
  l.weight_end = ANE_MILBLOB_HEADER_SIZE;
  for (gsize f = 0; f < program->n_functions; f++)
    for (gsize s = 0; s < program->functions[f]->value->n_block_specializations; s++)
      layout_block (&l, program->functions[f]->value->block_specializations[s]->value);
  g_hash_table_unref (l.placed);
  g_hash_table_unref (job.new_blobs);
  g_hash_table_unref (job.done_blobs);
  if (l.error)
    {
      g_propagate_error (error, l.error);
      g_ptr_array_unref (l.blobs);
      ane_mlpackage_model_free (model);
      return NULL;
    }

  before = ane_package_get_weight_bytes (package);
  for (guint i = 0; i < report->len; i++)
    n_done += g_strcmp0 (((AneCompressedWeight *) g_ptr_array_index (report, i))->mode, "skipped") != 0;
  recipe = ane_compress_config_to_string (config);
  g_strdelimit (recipe, "\n", ';');
  lowered = ane_lowered_new_from_model (model, l.blobs, l.weight_end);
  note = g_strdup_printf ("%s: %u weight%s, weights %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " bytes",
                          recipe, n_done, n_done == 1 ? "" : "s", before, lowered->weight_bytes);
  add_note (model, note);
  result = ane_package_new_compressed (lowered,
                                       ane_compress_report_new (g_steal_pointer (&report), before,
                                                                lowered->weight_bytes),
                                       package);
  problems = ane_package_check_types (result, NULL);
  if (problems && problems[0] && source_agrees)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                   "internal error: the compressed program fails Apple's type rules: %s", problems[0]);
      g_object_unref (result);
      return NULL;
    }
  ane_progress_finish (progress);
  return result;
}

/**
 * ane_package_new_from_graph_compressed:
 * @graph: the graph to package
 * @target: the deployment target (iOS16 or later to compress anything)
 * @precision: the float type the program computes in
 * @config: what to compress and how
 * @progress: (nullable): an [class@Ane.Progress] to report to
 *   ("compressing") and cancel with
 * @error: return location for a #GError
 *
 * Lowers @graph as [ctor@Ane.Package.new_from_graph] does and compresses
 * the result's weights as [method@Ane.Package.compress] does, in memory:
 * nothing is written until the package is saved. The weights the lowering
 * made are those compressed, so their names are the program's (a matmul
 * by a constant weight `w` becomes a 1×1 conv whose weight is `w_kernel`).
 *
 * Returns: (transfer full): the compressed package, or %NULL with the
 *   errors of either step
 *
 * Since: 0.2
 */
AnePackage *
ane_package_new_from_graph_compressed (AneGraph          *graph,
                                       AneTarget          target,
                                       AnePrecision       precision,
                                       AneCompressConfig *config,
                                       AneProgress       *progress,
                                       GError           **error)
{
  g_autoptr(AnePackage) plain = NULL;

  g_return_val_if_fail (ANE_IS_GRAPH (graph), NULL);
  g_return_val_if_fail (ANE_IS_COMPRESS_CONFIG (config), NULL);
  g_return_val_if_fail (progress == NULL || ANE_IS_PROGRESS (progress), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* the lowering reports nothing: one call, one fraction from 0 to 1 */
  if (!ane_progress_check (progress, error))
    return NULL;
  plain = ane_package_new_from_graph (graph, target, precision, error);
  if (plain == NULL)
    return NULL;
  return ane_package_compress (plain, config, NULL, progress, error);
}
