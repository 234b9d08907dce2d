/* ane-onnx-import.c: the public entry point of the ONNX importer and its options
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-onnx-importer-private.h"
#include "ane-graph-private.h"

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
  GHashTable *ranges;   /* name → GArray of gint64 (axis, lower, upper) triples */
  GHashTable *enumerated; /* name → GArray of gint64: shapes one after the other */
};

G_DEFINE_FINAL_TYPE (AneOnnxImportOptions, ane_onnx_import_options, G_TYPE_OBJECT)

static void
ane_onnx_import_options_finalize (GObject *object)
{
  AneOnnxImportOptions *self = ANE_ONNX_IMPORT_OPTIONS (object);

  g_hash_table_unref (self->shapes);
  g_hash_table_unref (self->values);
  g_hash_table_unref (self->ranges);
  g_hash_table_unref (self->enumerated);
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
  self->ranges = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
  self->enumerated = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
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

/**
 * ane_onnx_import_options_set_input_range:
 * @self: import options
 * @name: an input of the ONNX model, as the model names it
 * @axis: the axis whose size may vary
 * @lower: the smallest size, at least 1
 * @upper: the largest size (an ML program takes no unbounded range)
 *
 * Keeps the input's size on @axis flexible in the converted program, as
 * [method@Ane.Graph.set_input_range] does for a graph. The model is
 * imported at the input's default shape (given with
 * [method@Ane.OnnxImportOptions.set_input_shape], else the model's own
 * sizes) and imported again at other sizes to write one program for all
 * of them; the import then fails, naming the op, where the model computes
 * something the program cannot take from its input (more than one size of
 * a reshape depending on the flexible sizes, a constant built for one
 * length).
 *
 * Since: 0.2
 */
void
ane_onnx_import_options_set_input_range (AneOnnxImportOptions *self,
                                         const char           *name,
                                         guint                 axis,
                                         gint64                lower,
                                         gint64                upper)
{
  GArray *a;
  gint64 triple[3] = { axis, lower, upper };

  g_return_if_fail (ANE_IS_ONNX_IMPORT_OPTIONS (self));
  g_return_if_fail (name != NULL);

  g_hash_table_remove (self->enumerated, name);
  a = g_hash_table_lookup (self->ranges, name);
  if (a == NULL)
    {
      a = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_hash_table_insert (self->ranges, g_strdup (name), a);
    }
  g_array_append_vals (a, triple, 3);
}

/**
 * ane_onnx_import_options_set_input_shapes:
 * @self: import options
 * @name: an input of the ONNX model, as the model names it
 * @shapes: (array length=n_values): the shapes the input may take, one
 *   after the other
 * @n_values: the number of values in @shapes
 *
 * Lets the input take any of a set of shapes in the converted program, as
 * [method@Ane.Graph.set_input_shapes] does for a graph; the default shape
 * (set with [method@Ane.OnnxImportOptions.set_input_shape], else the
 * model's own sizes) must be one of them. Replaces ranges set before.
 *
 * Since: 0.2
 */
void
ane_onnx_import_options_set_input_shapes (AneOnnxImportOptions *self,
                                          const char           *name,
                                          const gint64         *shapes,
                                          gsize                 n_values)
{
  GArray *a;

  g_return_if_fail (ANE_IS_ONNX_IMPORT_OPTIONS (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (shapes != NULL || n_values == 0);

  a = g_array_sized_new (FALSE, FALSE, sizeof (gint64), (guint) n_values);
  g_array_append_vals (a, shapes, (guint) n_values);
  g_hash_table_remove (self->ranges, name);
  g_hash_table_replace (self->enumerated, g_strdup (name), a);
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

/* What a flexible import keeps to import the model again at other shapes. */
typedef struct {
  char                 *path;
  AneOnnxImportOptions *options;   /* a copy: the caller may change theirs */
  GHashTable           *onnx_names; /* graph input name → ONNX input name */
  GHashTable           *ranks;      /* graph input name → its rank */
} Rebuild;

static void
rebuild_free (gpointer data)
{
  Rebuild *r = data;

  g_free (r->path);
  g_clear_object (&r->options);
  g_clear_pointer (&r->onnx_names, g_hash_table_unref);
  g_clear_pointer (&r->ranks, g_hash_table_unref);
  g_free (r);
}

static AneOnnxImportOptions *
copy_options (AneOnnxImportOptions *self)
{
  AneOnnxImportOptions *copy = ane_onnx_import_options_new ();
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init (&it, self->shapes);
  while (g_hash_table_iter_next (&it, &key, &value))
    g_hash_table_insert (copy->shapes, g_strdup (key), g_array_ref (value));
  g_hash_table_iter_init (&it, self->values);
  while (g_hash_table_iter_next (&it, &key, &value))
    g_hash_table_insert (copy->values, g_strdup (key), g_object_ref (value));
  return copy;
}

/* The model imported again with the graph inputs' shapes given. */
static AneGraph *
rebuild (gpointer     data,
         GHashTable  *shapes,
         GError     **error)
{
  Rebuild *r = data;
  g_autoptr(AneOnnxImportOptions) options = copy_options (r->options);
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init (&it, shapes);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      const char *onnx_name = g_hash_table_lookup (r->onnx_names, key);
      guint rank = GPOINTER_TO_UINT (g_hash_table_lookup (r->ranks, key));

      if (onnx_name != NULL)
        ane_onnx_import_options_set_input_shape (options, onnx_name, value, rank);
    }
  return ane_onnx_import_file (r->path, options, NULL, error);
}

/* The graph's name of an ONNX input named in the flexible options. */
static const char *
graph_input_name (GHashTable  *input_names,
                  const char  *path,
                  const char  *onnx_name,
                  GError     **error)
{
  const char *graph_name = g_hash_table_lookup (input_names, onnx_name);

  if (graph_name == NULL)
    g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "%s: the model has no input '%s' to make flexible",
                 path, onnx_name);
  return graph_name;
}

static AneGraph *
import_flexible (const char           *path,
                 AneOnnxImportOptions *options,
                 GError              **error)
{
  g_autoptr(GHashTable) input_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(AneGraph) graph = NULL;
  Rebuild *r;
  GHashTableIter it;
  gpointer key, value;

  graph = ane_onnx_import_file (path, options, input_names, error);
  if (graph == NULL)
    return NULL;
  g_hash_table_iter_init (&it, options->ranges);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      GArray *a = value;
      const char *graph_name = graph_input_name (input_names, path, key, error);

      if (graph_name == NULL)
        return NULL;
      for (guint i = 0; i + 2 < a->len; i += 3)
        if (!ane_graph_set_input_range (graph, graph_name, (guint) g_array_index (a, gint64, i),
                                        g_array_index (a, gint64, i + 1), g_array_index (a, gint64, i + 2), error))
          {
            g_prefix_error (error, "%s: ", path);
            return NULL;
          }
    }
  g_hash_table_iter_init (&it, options->enumerated);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      GArray *a = value;
      const char *graph_name = graph_input_name (input_names, path, key, error);

      if (graph_name == NULL)
        return NULL;
      if (!ane_graph_set_input_shapes (graph, graph_name, (const gint64 *) (void *) a->data, a->len, error))
        {
          g_prefix_error (error, "%s: ", path);
          return NULL;
        }
    }
  r = g_new0 (Rebuild, 1);
  r->path = g_strdup (path);
  r->options = copy_options (options);
  r->onnx_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  r->ranks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_iter_init (&it, input_names);
  while (g_hash_table_iter_next (&it, &key, &value))
    g_hash_table_insert (r->onnx_names, g_strdup (value), g_strdup (key));
  {
    g_autoptr(GPtrArray) inputs = ane_graph_list_inputs (graph);

    for (guint i = 0; i < inputs->len; i++)
      g_hash_table_insert (r->ranks, g_strdup (ane_tensor_get_name (g_ptr_array_index (inputs, i))),
                           GUINT_TO_POINTER (ane_tensor_get_rank (g_ptr_array_index (inputs, i))));
  }
  ane_graph_set_rebuild (graph, rebuild, r, rebuild_free);
  return g_steal_pointer (&graph);
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

  if (options == NULL || (g_hash_table_size (options->ranges) == 0 && g_hash_table_size (options->enumerated) == 0))
    return ane_onnx_import_file (path, options, NULL, error);
  return import_flexible (path, options, error);
}
