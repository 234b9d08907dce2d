/* mil/lower/ane-lower-multifunction.c: several graphs lowered into one program
 *
 * A multifunction package (Anemll's, coremltools' save_multifunction) is one
 * ML program whose functions share one weight.bin: a const of each function
 * points at the same blob offset when the weights are the same. Each graph
 * is lowered alone by ane_lowered_new() (its own "main", its blobs planned
 * from the start of its own weight file); here the functions are renamed and
 * put in one program, and the blobs are planned again in one file, a blob
 * equal to one already planned (same stored type and count, same source
 * bytes) stored once and every const that read it pointed at the first.
 *
 * Weights are taken when the package is made: a param read from its graph
 * when the package is saved (unbound, or a GGUF block weight dequantized on
 * the way) is pinned to the value it has now (a reference to its bytes, not
 * a copy), so a function can never end up reading another graph's later
 * binding through a shared blob. A param without a value is an error.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/lower/ane-lower-private.h"
#include "mil/lower/ane-lowered-private.h"
#include "mil/ane-mil-dtype-private.h"
#include "mil/ane-mlpackage-private.h"

static guint64
align64 (guint64 v)
{
  return (v + 63) & ~(guint64) 63;
}

/* A FROM_PARAM blob turned into a FROM_BYTES one holding the param's
 * current value (see above). */
static gboolean
pin_blob (AneMilPendingBlob *blob,
          const char        *function,
          AneGraph          *graph,
          GError           **error)
{
  const AneNode *node;
  AneTensor *value;

  if (blob->source != ANE_MIL_BLOB_FROM_PARAM)
    return TRUE;
  node = ane_graph_find_node (graph, blob->param);
  value = node ? node->value : NULL;
  if (value == NULL || !ane_tensor_has_data (value))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_MISSING_PARAM,
                   "function '%s': param '%s' has no value; a package of several functions takes "
                   "every weight when it is made: bind it with ane_graph_bind_param() first",
                   function, blob->param);
      return FALSE;
    }
  if (ane_tensor_get_dtype (value) != blob->src_dtype || ane_tensor_get_n_elements (value) != blob->n_elements)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "function '%s': param '%s': its value does not match the lowered program",
                   function, blob->param);
      return FALSE;
    }
  blob->data = g_bytes_ref (ane_tensor_get_data (value));
  blob->source = ANE_MIL_BLOB_FROM_BYTES;
  return TRUE;
}

/* Whether a and b store the same bytes (both FROM_BYTES). */
static gboolean
same_blob (const AneMilPendingBlob *a,
           const AneMilPendingBlob *b)
{
  gsize na, nb;
  gconstpointer da, db;

  if (a->blob_type != b->blob_type || a->src_dtype != b->src_dtype || a->dst_dtype != b->dst_dtype ||
      a->n_elements != b->n_elements || a->size != b->size)
    return FALSE;
  /* the same blocks make the same part only (ane_mil_const_blocks) */
  if (a->source != b->source || (a->source == ANE_MIL_BLOB_FROM_BLOCKS && a->part != b->part))
    return FALSE;
  da = g_bytes_get_data (a->data, &na);
  db = g_bytes_get_data (b->data, &nb);
  /* graphs built from one model share their tensors' bytes: no compare */
  return na == nb && (da == db || memcmp (da, db, na) == 0);
}

static guint
blob_key_hash (gconstpointer key)
{
  const AneMilPendingBlob *b = key;

  return g_int64_hash (&b->n_elements) ^ ((guint) b->dst_dtype << 8) ^ ((guint) b->blob_type << 16);
}

static gboolean
blob_key_equal (gconstpointer a,
                gconstpointer b)
{
  const AneMilPendingBlob *x = a, *y = b;

  return x->n_elements == y->n_elements && x->dst_dtype == y->dst_dtype && x->blob_type == y->blob_type &&
         x->src_dtype == y->src_dtype && x->size == y->size;
}

/* Points every blob value of block at its new offset (old -> new in moved). */
static void
move_blob_value (AneMilValue *value,
                 GHashTable  *moved)
{
  guint64 *to;

  if (value == NULL || value->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE ||
      value->blobfilevalue == NULL)
    return;
  to = g_hash_table_lookup (moved, &value->blobfilevalue->offset);
  g_assert (to != NULL);   /* every blob of the function was planned */
  value->blobfilevalue->offset = *to;
}

static void
move_blobs (AneMilBlock *block,
            GHashTable  *moved)
{
  if (block == NULL)
    return;
  for (gsize i = 0; i < block->n_operations; i++)
    {
      AneMilOperation *op = block->operations[i];

      if (op == NULL)
        continue;
      for (gsize j = 0; j < op->n_attributes; j++)
        if (op->attributes[j] != NULL)
          move_blob_value (op->attributes[j]->value, moved);
      for (gsize j = 0; j < op->n_inputs; j++)
        {
          AneMilArgument *arg = op->inputs[j] ? op->inputs[j]->value : NULL;

          for (gsize k = 0; arg != NULL && k < arg->n_arguments; k++)
            if (arg->arguments[k] != NULL &&
                arg->arguments[k]->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_VALUE)
              move_blob_value (arg->arguments[k]->value, moved);
        }
      for (gsize j = 0; j < op->n_blocks; j++)
        move_blobs (op->blocks[j], moved);
    }
}

/* "fp16[1, 64, 8]" */
static char *
format_tensor_type (const AneMilValueType *type)
{
  const AneMilTensorType *t = type ? type->tensortype : NULL;
  GString *s;

  if (t == NULL)
    return g_strdup ("(not a tensor)");
  s = g_string_new (ane_mil_dtype_to_string (t->datatype));
  g_string_append_c (s, '[');
  for (gsize i = 0; i < t->n_dimensions; i++)
    {
      const CoreML__Specification__MILSpec__Dimension *d = t->dimensions[i];

      if (i > 0)
        g_string_append (s, ", ");
      if (d != NULL && d->dimension_case == CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT &&
          d->constant != NULL)
        g_string_append_printf (s, "%" G_GUINT64_FORMAT, (guint64) d->constant->size);
      else
        g_string_append_c (s, '?');
    }
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static gboolean
same_value_type (const AneMilValueType *a,
                 const AneMilValueType *b)
{
  gsize na = protobuf_c_message_get_packed_size (&a->base);
  gsize nb = protobuf_c_message_get_packed_size (&b->base);
  g_autofree guint8 *pa = g_malloc (MAX (na, 1));
  g_autofree guint8 *pb = g_malloc (MAX (nb, 1));

  protobuf_c_message_pack (&a->base, pa);
  protobuf_c_message_pack (&b->base, pb);
  return na == nb && memcmp (pa, pb, na) == 0;
}

/* coremltools refuses a multifunction model whose functions declare states
 * of one name with different types (mil/mil/program.py: "states ... must
 * have the same type across functions"): Core ML makes one MLState for the
 * model, which every function reads and writes. */
static gboolean
check_states (AneMilProgram      *program,
              GError            **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);   /* name -> function index */

  for (gsize f = 0; f < program->n_functions; f++)
    {
      const AneMilFunction *fn = program->functions[f]->value;

      for (gsize i = 0; i < fn->n_inputs; i++)
        {
          const AneMilNamedValueType *in = fn->inputs[i];
          gpointer first;

          if (in->type == NULL || in->type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE)
            continue;
          if (!g_hash_table_lookup_extended (seen, in->name, NULL, &first))
            {
              g_hash_table_insert (seen, in->name, GSIZE_TO_POINTER (f));
              continue;
            }
          {
            const AneMilFunction *other = program->functions[GPOINTER_TO_SIZE (first)]->value;

            for (gsize j = 0; j < other->n_inputs; j++)
              if (strcmp (other->inputs[j]->name, in->name) == 0 &&
                  !same_value_type (other->inputs[j]->type, in->type))
                {
                  g_autofree char *ta = format_tensor_type (other->inputs[j]->type->statetype->wrappedtype);
                  g_autofree char *tb = format_tensor_type (in->type->statetype->wrappedtype);

                  g_set_error (error, ANE_ERROR, ANE_ERROR_TYPE_MISMATCH,
                               "state '%s' is %s in function '%s' but %s in function '%s': the functions "
                               "of one package share their states, which must have one type",
                               in->name, ta, program->functions[GPOINTER_TO_SIZE (first)]->key, tb,
                               program->functions[f]->key);
                  return FALSE;
                }
          }
        }
    }
  return TRUE;
}

static gboolean
check_functions (const char *const  *names,
                 AneGraph *const    *graphs,
                 guint               n,
                 AneMilTarget        target,
                 GError            **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  if (n == 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "a package needs at least one function; the list of graphs is empty");
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      if (names[i] == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "function %u has no name", i);
          return FALSE;
        }
      if (!ane_lower_check_interface_name ("function", names[i], error))
        return FALSE;
      if (!g_hash_table_add (seen, (gpointer) names[i]))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "function '%s' is named twice; the functions of a package need distinct names",
                       names[i]);
          return FALSE;
        }
      if (graphs[i] == NULL || !ANE_IS_GRAPH (graphs[i]))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "function '%s' has no graph", names[i]);
          return FALSE;
        }
    }
  /* Function descriptions came with specification version 9 (Core ML 8):
   * coremltools saves multifunction models for iOS18 only. */
  if (n > 1 && target < ANE_MIL_IOS18)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "functions '%s' and '%s': a package of several functions needs target iOS18 / "
                   "macOS15 or later (Core ML describes functions from specification version 9), "
                   "not %s", names[0], names[1], ane_mil_target_name (target));
      return FALSE;
    }
  /* A package of one function lists no functions: Core ML (and coremltools'
   * ct.convert: "Default function main not found in program") then runs the
   * one called "main". Found by the contract suite. */
  if (n == 1 && strcmp (names[0], "main") != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "function '%s': a package of one function must call it 'main' (Core ML looks for that name "
                   "when a model describes no functions); name it so, or add another function (iOS18)",
                   names[0]);
      return FALSE;
    }
  return TRUE;
}

AneLowered *
ane_lowered_new_multifunction (const char *const      *names,
                               AneGraph *const        *graphs,
                               guint                   n_graphs,
                               const AneLowerOptions  *options,
                               GError                **error)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_lowered_free);
  g_autoptr(GPtrArray) blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_mil_pending_blob_free);
  g_autoptr(GHashTable) planned = g_hash_table_new_full (blob_key_hash, blob_key_equal, NULL,
                                                         (GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GPtrArray) notes = g_ptr_array_new ();
  g_autoptr(GHashTable) note_seen = g_hash_table_new (g_str_hash, g_str_equal);
  AneLowerOptions one = *options;
  guint64 end = ANE_MILBLOB_HEADER_SIZE, weight_size = 0;
  AneMilProgram *program;
  AneCoreMLModel *model;
  AneLowered *self;
  const char *dump_dir = g_getenv ("ANE_GLIB_DUMP_DIR");

  if (!check_functions (names, graphs, n_graphs, options->target, error))
    return NULL;

  /* Each graph alone, as a program of one function, not described. */
  one.describe = FALSE;
  one.metadata = NULL;
  one.params = NULL;   /* the weights are the graphs' own (pin_blob) */
  for (guint i = 0; i < n_graphs; i++)
    {
      AneLowered *part = ane_lowered_new (graphs[i], &one, error);

      if (part == NULL)
        {
          g_prefix_error (error, "function '%s': ", names[i]);
          return NULL;
        }
      g_ptr_array_add (parts, part);
    }

  /* One weight file: each distinct blob planned once, in function order. */
  for (guint i = 0; i < n_graphs; i++)
    {
      AneLowered *part = g_ptr_array_index (parts, i);
      g_autoptr(GHashTable) moved = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
      AneMilFunction *fn = part->program->functions[0]->value;

      for (guint j = 0; j < part->blobs->len; j++)
        {
          AneMilPendingBlob *blob = g_ptr_array_index (part->blobs, j);
          GPtrArray *same_kind;
          AneMilPendingBlob *found = NULL;
          guint64 *from = g_new (guint64, 1), *to = g_new (guint64, 1);

          if (!pin_blob (blob, names[i], graphs[i], error))
            {
              g_free (from);
              g_free (to);
              return NULL;
            }
          same_kind = g_hash_table_lookup (planned, blob);
          for (guint k = 0; same_kind != NULL && found == NULL && k < same_kind->len; k++)
            if (same_blob (g_ptr_array_index (same_kind, k), blob))
              found = g_ptr_array_index (same_kind, k);
          *from = blob->offset;
          if (found != NULL)
            *to = found->offset;
          else
            {
              /* taken out of the part: the part's array does not free it */
              g_ptr_array_index (part->blobs, j) = NULL;
              blob->offset = end;
              weight_size = blob->offset + ANE_MILBLOB_RECORD_SIZE + blob->size;
              end = align64 (weight_size);
              *to = blob->offset;
              g_ptr_array_add (blobs, blob);
              if (same_kind == NULL)
                {
                  same_kind = g_ptr_array_new ();
                  g_hash_table_insert (planned, blob, same_kind);
                }
              g_ptr_array_add (same_kind, blob);
            }
          g_hash_table_insert (moved, from, to);
        }
      for (gsize b = 0; b < fn->n_block_specializations; b++)
        move_blobs (fn->block_specializations[b]->value, moved);
      for (guint k = 0; part->notes[k] != NULL; k++)
        if (g_hash_table_add (note_seen, part->notes[k]))
          g_ptr_array_add (notes, part->notes[k]);
    }

  /* One program: the first part's, with every part's function renamed. */
  program = g_steal_pointer (&((AneLowered *) g_ptr_array_index (parts, 0))->program);
  program->functions = g_renew (CoreML__Specification__MILSpec__Program__FunctionsEntry *, program->functions,
                                n_graphs);
  for (guint i = 1; i < n_graphs; i++)
    {
      AneMilProgram *other = ((AneLowered *) g_ptr_array_index (parts, i))->program;

      program->functions[i] = other->functions[0];
      other->n_functions = 0;   /* moved: freeing other leaves it alone */
    }
  program->n_functions = n_graphs;
  for (guint i = 0; i < n_graphs; i++)
    {
      g_free (program->functions[i]->key);
      program->functions[i]->key = g_strdup (names[i]);
    }
  if (!check_states (program, error))
    {
      protobuf_c_message_free_unpacked (&program->base, NULL);
      return NULL;
    }

  /* Every program the library lowers is dumped (docs/contract.md); each
   * function was, alone, by ane_lowered_new(). */
  if (dump_dir != NULL && *dump_dir != '\0')
    ane_mlpackage_dump_lowered (dump_dir, program, options->target, options->precision, blobs,
                                blobs->len ? weight_size : 0, NULL, NULL);

  if (options->describe)
    {
      model = ane_mlpackage_model_new (program, options->target, options->metadata, error);   /* owns program */
      if (model == NULL)
        return NULL;
      self = ane_lowered_new_from_model (model, g_steal_pointer (&blobs), weight_size);
    }
  else
    self = ane_lowered_new_for_program (program, g_steal_pointer (&blobs), weight_size);
  g_ptr_array_add (notes, NULL);
  g_strfreev (self->notes);
  self->notes = g_strdupv ((char **) notes->pdata);
  return self;
}
