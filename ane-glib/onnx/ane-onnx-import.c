/* ane-onnx-import.c: the public entry point of the ONNX importer and its options
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-onnx-importer-private.h"

/**
 * AneOnnxImportOptions:
 *
 * What [func@Ane.Graph.load_onnx] needs to know beyond the file: the
 * shapes of inputs whose ONNX dims are symbolic, and inputs bound to
 * constants.
 *
 * Every dim of an imported graph is static. A symbolic dim (`dim_param`,
 * e.g. `batch` or `p2o.DynamicDimension.1`) must be bound by giving the
 * input's whole shape; an input given a value becomes a constant, and
 * everything computed from it alone is folded at import time (an `If` on
 * it becomes its taken branch).
 *
 * ```c
 * g_autoptr(AneOnnxImportOptions) options = ane_onnx_import_options_new ();
 * gint64 shape[] = { 1, 3, 640, 640 };
 * g_autoptr(AneTensor) sr = ane_tensor_new_scalar ("sr", ANE_DTYPE_INT64, 16000, NULL);
 *
 * ane_onnx_import_options_set_input_shape (options, "x", shape, 4);
 * ane_onnx_import_options_set_input_value (options, "sr", sr);
 * graph = ane_graph_load_onnx ("model.onnx", options, &error);
 * ```
 *
 * Since: 0.2
 */
struct _AneOnnxImportOptions {
  GObject     parent_instance;
  GHashTable *shapes;   /* name → GArray of gint64 */
  GHashTable *values;   /* name → AneTensor */
};

G_DEFINE_FINAL_TYPE (AneOnnxImportOptions, ane_onnx_import_options, G_TYPE_OBJECT)

static void
ane_onnx_import_options_finalize (GObject *object)
{
  AneOnnxImportOptions *self = ANE_ONNX_IMPORT_OPTIONS (object);

  g_hash_table_unref (self->shapes);
  g_hash_table_unref (self->values);
  G_OBJECT_CLASS (ane_onnx_import_options_parent_class)->finalize (object);
}

static void
ane_onnx_import_options_class_init (AneOnnxImportOptionsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ane_onnx_import_options_finalize;
}

static void
ane_onnx_import_options_init (AneOnnxImportOptions *self)
{
  self->shapes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
  self->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

/**
 * ane_onnx_import_options_new:
 *
 * Creates empty import options: every input keeps the shape the model
 * declares, and none is bound to a constant.
 *
 * Returns: (transfer full): new options
 *
 * Since: 0.2
 */
AneOnnxImportOptions *
ane_onnx_import_options_new (void)
{
  return g_object_new (ANE_TYPE_ONNX_IMPORT_OPTIONS, NULL);
}

/**
 * ane_onnx_import_options_set_input_shape:
 * @self: import options
 * @name: the ONNX graph input's name
 * @shape: (array length=rank): its whole shape, every dim positive
 * @rank: the number of dims (the model's declared rank)
 *
 * Binds the shape of the input @name: its symbolic dims take the values
 * given here, and its static dims must agree with them (checked by
 * [func@Ane.Graph.load_onnx]). Replaces an earlier shape for @name.
 *
 * Since: 0.2
 */
void
ane_onnx_import_options_set_input_shape (AneOnnxImportOptions *self,
                                         const char           *name,
                                         const gint64         *shape,
                                         guint                 rank)
{
  GArray *a;

  g_return_if_fail (ANE_IS_ONNX_IMPORT_OPTIONS (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (shape != NULL || rank == 0);
  g_return_if_fail (rank <= ANE_MAX_RANK);

  a = g_array_sized_new (FALSE, FALSE, sizeof (gint64), rank);
  if (rank > 0)
    g_array_append_vals (a, shape, rank);
  g_hash_table_replace (self->shapes, g_strdup (name), a);
}

/**
 * ane_onnx_import_options_set_input_value:
 * @self: import options
 * @name: the ONNX graph input's name
 * @value: a tensor with data; converted to the input's element type
 *   (an integer input takes integral values only)
 *
 * Binds the input @name to a constant: it is no longer an input of the
 * imported graph, and the nodes that depend on it alone are folded at
 * import time. This is how a sample-rate input (Silero VAD's `sr`) selects
 * the branch of the `If` nodes that test it.
 *
 * Since: 0.2
 */
void
ane_onnx_import_options_set_input_value (AneOnnxImportOptions *self,
                                         const char           *name,
                                         AneTensor            *value)
{
  g_return_if_fail (ANE_IS_ONNX_IMPORT_OPTIONS (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (ANE_IS_TENSOR (value));
  g_return_if_fail (ane_tensor_has_data (value));

  g_hash_table_replace (self->values, g_strdup (name), g_object_ref (value));
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/**
 * ane_onnx_import_options_list_inputs:
 * @self: import options
 *
 * Lists the input names these options bind (a shape, a value or both), in
 * alphabetical order.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names
 *
 * Since: 0.2
 */
char **
ane_onnx_import_options_list_inputs (AneOnnxImportOptions *self)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  GHashTableIter it;
  gpointer key;

  g_return_val_if_fail (ANE_IS_ONNX_IMPORT_OPTIONS (self), NULL);

  g_hash_table_iter_init (&it, self->shapes);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (names, g_strdup (key));
  g_hash_table_iter_init (&it, self->values);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (!g_hash_table_contains (self->shapes, key))
      g_ptr_array_add (names, g_strdup (key));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

const gint64 *
ane_onnx_import_options_get_shape_internal (AneOnnxImportOptions *self,
                                            const char           *name,
                                            guint                *rank)
{
  GArray *a = self ? g_hash_table_lookup (self->shapes, name) : NULL;

  *rank = a ? a->len : 0;
  return a ? (const gint64 *) (void *) a->data : NULL;
}

AneTensor *
ane_onnx_import_options_get_value_internal (AneOnnxImportOptions *self,
                                            const char           *name)
{
  return self ? g_hash_table_lookup (self->values, name) : NULL;
}

/**
 * ane_graph_load_onnx:
 * @path: an ONNX model file (`.onnx`; external data files are read from
 *   its directory)
 * @options: (nullable): input shapes and values to bind
 * @error: return location for a #GError
 *
 * Imports an ONNX model as a graph. The model's nodes (default ONNX
 * domain, opsets 9 to 22) are converted in order; nodes whose inputs are
 * all known at import time (initializers, `Constant`, inputs bound with
 * [method@Ane.OnnxImportOptions.set_input_value], and `Shape` of any
 * tensor, since every shape is static) are folded, so shape arithmetic
 * and an `If` on a bound input disappear. int64 inputs and outputs become
 * int32 (MIL has no int64 at a program's interface).
 *
 * Nothing is built when the model cannot be imported: an op without a
 * converter fails before the walk with one error listing every such op
 * type, its count and its first node; a symbolic dim left unbound, an
 * `If` whose condition stays dynamic, a hostile or truncated file each
 * give an error naming the input, dim, node or tensor. See docs/onnx.md.
 *
 * Returns: (transfer full): the imported graph, or %NULL with @error set
 *
 * Since: 0.2
 */
AneGraph *
ane_graph_load_onnx (const char           *path,
                     AneOnnxImportOptions *options,
                     GError              **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (options == NULL || ANE_IS_ONNX_IMPORT_OPTIONS (options), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return ane_onnx_import_file (path, options, error);
}
