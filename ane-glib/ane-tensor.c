/* ane-tensor.c: a named, typed, shaped value
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "ane-graph-private.h"
#include "ane-tensor-private.h"

/**
 * AneTensor:
 *
 * A named, typed, shaped value.
 *
 * A tensor is either concrete -- it holds its elements as [struct@GLib.Bytes]
 * -- or symbolic: a value inside an [class@Ane.Graph], returned by the graph's
 * builder methods, with a dtype and shape but no data. Run outputs and
 * weights are concrete tensors.
 *
 * Elements are stored densely in C order in the dtype's own encoding (little
 * endian); block-quantized dtypes hold whole GGUF blocks back to back.
 *
 * ```python
 * import numpy as np
 * from gi.repository import Ane, GLib
 *
 * x = np.random.rand(2, 3).astype(np.float32)
 * t = Ane.Tensor.new_from_bytes("x", Ane.DType.FLOAT32, x.shape, GLib.Bytes(x.tobytes()))
 * back = np.frombuffer(t.get_data().get_data(), np.float32).reshape(t.get_shape())
 * ```
 *
 * Tensors are immutable once made, so any number of threads may read and
 * share one.
 */
struct _AneTensor
{
  GObject   parent_instance;

  char     *name;
  AneSpec   spec;
  gint64    n_elements;
  gsize     n_bytes;
  GBytes   *data;

  /* Symbolic tensors: where in which graph the value comes from. */
  guint64   graph_uid;
  guint     node;
  guint     index;
};

G_DEFINE_FINAL_TYPE (AneTensor, ane_tensor, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_DTYPE,
  PROP_RANK,
  PROP_DATA,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
ane_tensor_finalize (GObject *object)
{
  AneTensor *self = ANE_TENSOR (object);

  /* Freed without clearing the fields: finalize runs on whichever thread
   * drops the last reference (a GTask worker done with a run's inputs, say),
   * and a store into the instance would look to ThreadSanitizer like a
   * race with another thread's earlier read of it, because the atomic
   * reference count that orders the two is inside GObject, which TSan does
   * not see (tests/tsan.supp). The instance is freed by GObject next. */
  g_free (self->name);
  if (self->data != NULL)
    g_bytes_unref (self->data);
  G_OBJECT_CLASS (ane_tensor_parent_class)->finalize (object);
}

static void
ane_tensor_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  AneTensor *self = ANE_TENSOR (object);

  switch (prop_id)
    {
    case PROP_NAME:  g_value_set_string (value, self->name); break;
    case PROP_DTYPE: g_value_set_enum (value, self->spec.dtype); break;
    case PROP_RANK:  g_value_set_uint (value, self->spec.rank); break;
    case PROP_DATA:  g_value_set_boxed (value, self->data); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ane_tensor_class_init (AneTensorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ane_tensor_finalize;
  object_class->get_property = ane_tensor_get_property;

  /**
   * AneTensor:name:
   *
   * The tensor's name.
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * AneTensor:dtype:
   *
   * The element type.
   */
  properties[PROP_DTYPE] =
    g_param_spec_enum ("dtype", NULL, NULL, ANE_TYPE_DTYPE, ANE_DTYPE_FLOAT32,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * AneTensor:rank:
   *
   * The number of dimensions.
   */
  properties[PROP_RANK] =
    g_param_spec_uint ("rank", NULL, NULL, 0, ANE_MAX_RANK, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * AneTensor:data:
   *
   * The elements, or %NULL for a symbolic tensor.
   */
  properties[PROP_DATA] =
    g_param_spec_boxed ("data", NULL, NULL, G_TYPE_BYTES,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ane_tensor_init (AneTensor *self)
{
  self->node = ANE_NO_NODE;
}

static AneTensor *
tensor_alloc (const char    *name,
              const AneSpec *spec,
              GError       **error)
{
  g_autoptr(AneTensor) self = NULL;
  g_autofree char *what = g_strdup_printf ("tensor '%s'", name ? name : "");

  if (!ane_spec_check (spec, what, error))
    return NULL;
  self = g_object_new (ANE_TYPE_TENSOR, NULL);
  self->name = g_strdup (name ? name : "");
  self->spec = *spec;
  ane_shape_n_elements (spec->shape, spec->rank, &self->n_elements, NULL);
  ane_dtype_n_bytes (spec->dtype, self->n_elements, &self->n_bytes, NULL);
  return g_steal_pointer (&self);
}

static gboolean
make_spec (AneDType      dtype,
           const gint64 *shape,
           guint         rank,
           const char   *name,
           AneSpec      *spec,
           GError      **error)
{
  if (rank > ANE_MAX_RANK)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "tensor '%s': rank %u exceeds the maximum rank %d",
                   name ? name : "", rank, ANE_MAX_RANK);
      return FALSE;
    }
  if (rank > 0 && shape == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "tensor '%s': rank %u but no shape given", name ? name : "", rank);
      return FALSE;
    }
  memset (spec, 0, sizeof *spec);
  spec->dtype = dtype;
  ane_spec_set_shape (spec, shape, rank);
  return TRUE;
}

/**
 * ane_tensor_new:
 * @name: (nullable): the tensor's name
 * @dtype: element type
 * @shape: (array length=rank) (nullable): dimensions
 * @rank: number of dimensions (0 for a scalar)
 * @error: return location for a #GError
 *
 * Creates a tensor description without data (a symbolic tensor not tied to
 * any graph). Use it to describe inputs and outputs.
 *
 * Returns: (transfer full): a new tensor, or %NULL if the shape is invalid
 */
AneTensor *
ane_tensor_new (const char    *name,
                AneDType       dtype,
                const gint64  *shape,
                guint          rank,
                GError       **error)
{
  AneSpec spec;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!make_spec (dtype, shape, rank, name, &spec, error))
    return NULL;
  return tensor_alloc (name, &spec, error);
}

/**
 * ane_tensor_new_from_bytes:
 * @name: (nullable): the tensor's name
 * @dtype: element type
 * @shape: (array length=rank) (nullable): dimensions
 * @rank: number of dimensions
 * @data: the elements, C order, little endian; exactly the tensor's byte size
 * @error: return location for a #GError
 *
 * Creates a concrete tensor that references @data without copying it. Wrap
 * caller memory zero-copy with g_bytes_new_static() or
 * g_bytes_new_with_free_func().
 *
 * Returns: (transfer full): a new tensor, or %NULL if the shape or the size of @data is wrong
 */
AneTensor *
ane_tensor_new_from_bytes (const char    *name,
                           AneDType       dtype,
                           const gint64  *shape,
                           guint          rank,
                           GBytes        *data,
                           GError       **error)
{
  g_autoptr(AneTensor) self = NULL;
  AneSpec spec;

  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!make_spec (dtype, shape, rank, name, &spec, error))
    return NULL;
  self = tensor_alloc (name, &spec, error);
  if (self == NULL)
    return NULL;
  if (g_bytes_get_size (data) != self->n_bytes)
    {
      char buf[ANE_SPEC_STRLEN];
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "tensor '%s': %s needs %" G_GSIZE_FORMAT " bytes, got %" G_GSIZE_FORMAT,
                   self->name, ane_spec_format (&spec, buf), self->n_bytes, g_bytes_get_size (data));
      return NULL;
    }
  self->data = g_bytes_ref (data);
  return g_steal_pointer (&self);
}

/**
 * ane_tensor_new_from_floats:
 * @name: (nullable): the tensor's name
 * @shape: (array length=rank) (nullable): dimensions
 * @rank: number of dimensions
 * @values: (array length=n_values): the elements, C order
 * @n_values: number of elements; must equal the shape's element count
 * @error: return location for a #GError
 *
 * Creates a float32 tensor, copying @values.
 *
 * Returns: (transfer full): a new tensor, or %NULL on a size mismatch
 */
AneTensor *
ane_tensor_new_from_floats (const char    *name,
                            const gint64  *shape,
                            guint          rank,
                            const float   *values,
                            gsize          n_values,
                            GError       **error)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (values != NULL || n_values == 0, NULL);
  bytes = g_bytes_new (values, n_values * sizeof (float));
  return ane_tensor_new_from_bytes (name, ANE_DTYPE_FLOAT32, shape, rank, bytes, error);
}

/**
 * ane_tensor_new_from_ints:
 * @name: (nullable): the tensor's name
 * @shape: (array length=rank) (nullable): dimensions
 * @rank: number of dimensions
 * @values: (array length=n_values): the elements, C order
 * @n_values: number of elements; must equal the shape's element count
 * @error: return location for a #GError
 *
 * Creates an int32 tensor (token ids, positions, expert ids), copying @values.
 *
 * Returns: (transfer full): a new tensor, or %NULL on a size mismatch
 */
AneTensor *
ane_tensor_new_from_ints (const char    *name,
                          const gint64  *shape,
                          guint          rank,
                          const gint32  *values,
                          gsize          n_values,
                          GError       **error)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (values != NULL || n_values == 0, NULL);
  bytes = g_bytes_new (values, n_values * sizeof (gint32));
  return ane_tensor_new_from_bytes (name, ANE_DTYPE_INT32, shape, rank, bytes, error);
}

/**
 * ane_tensor_new_zeros:
 * @name: (nullable): the tensor's name
 * @dtype: element type
 * @shape: (array length=rank) (nullable): dimensions
 * @rank: number of dimensions
 * @error: return location for a #GError
 *
 * Creates a concrete tensor whose bytes are all zero.
 *
 * Returns: (transfer full): a new tensor, or %NULL if the shape is invalid
 */
AneTensor *
ane_tensor_new_zeros (const char    *name,
                      AneDType       dtype,
                      const gint64  *shape,
                      guint          rank,
                      GError       **error)
{
  g_autoptr(AneTensor) self = ane_tensor_new (name, dtype, shape, rank, error);

  if (self == NULL)
    return NULL;
  self->data = g_bytes_new_take (g_malloc0 (MAX (self->n_bytes, 1)), self->n_bytes);
  return g_steal_pointer (&self);
}

/**
 * ane_tensor_new_scalar:
 * @name: (nullable): the tensor's name
 * @dtype: a non-block element type
 * @value: the value, rounded to @dtype
 * @error: return location for a #GError
 *
 * Creates a rank-0 tensor holding one value.
 *
 * Returns: (transfer full): a new tensor, or %NULL for a block dtype
 */
AneTensor *
ane_tensor_new_scalar (const char  *name,
                       AneDType     dtype,
                       double       value,
                       GError     **error)
{
  guint8 buf[8];

  if (ane_dtype_is_block (dtype) || (guint) dtype >= ANE_N_DTYPES)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                   "tensor '%s': a scalar cannot have dtype %s", name ? name : "",
                   ane_dtype_to_string (dtype));
      return NULL;
    }
  ane_dtype_encode (dtype, &value, 1, buf);
  {
    g_autoptr(GBytes) bytes = g_bytes_new (buf, ane_dtype_size (dtype));
    return ane_tensor_new_from_bytes (name, dtype, NULL, 0, bytes, error);
  }
}

AneTensor *
ane_tensor_new_symbolic (guint64        graph_uid,
                         guint          node,
                         guint          index,
                         const char    *name,
                         const AneSpec *spec)
{
  AneTensor *self = tensor_alloc (name, spec, NULL);

  g_assert (self != NULL);   /* shape rules only produce checked specs */
  self->graph_uid = graph_uid;
  self->node = node;
  self->index = index;
  return self;
}

gboolean
ane_tensor_get_origin (AneTensor *self,
                       guint64   *graph_uid,
                       guint     *node,
                       guint     *index)
{
  if (self->node == ANE_NO_NODE)
    return FALSE;
  *graph_uid = self->graph_uid;
  *node = self->node;
  *index = self->index;
  return TRUE;
}

void
ane_tensor_get_spec (AneTensor *self,
                     AneSpec   *spec)
{
  *spec = self->spec;
}

gboolean
ane_tensor_check_spec (AneTensor      *value,
                       const AneSpec  *want,
                       GError        **error,
                       const char     *format,
                       ...)
{
  char a[ANE_SPEC_STRLEN], b[ANE_SPEC_STRLEN];
  g_autofree char *what = NULL;
  va_list args;

  if (ane_tensor_has_data (value) && ane_spec_equal (&value->spec, want))
    return TRUE;
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "%s is %s, the value is %s%s",
               what, ane_spec_format (want, a), ane_spec_format (&value->spec, b),
               ane_tensor_has_data (value) ? "" : " without data");
  return FALSE;
}

/**
 * ane_tensor_get_name:
 * @self: a tensor
 *
 * The tensor's name.
 *
 * Returns: (transfer none): the tensor's name
 */
const char *
ane_tensor_get_name (AneTensor *self)
{
  g_return_val_if_fail (ANE_IS_TENSOR (self), NULL);
  return self->name;
}

/**
 * ane_tensor_get_dtype:
 * @self: a tensor
 *
 * The element type.
 *
 * Returns: the element type
 */
AneDType
ane_tensor_get_dtype (AneTensor *self)
{
  g_return_val_if_fail (ANE_IS_TENSOR (self), ANE_DTYPE_FLOAT32);
  return self->spec.dtype;
}

/**
 * ane_tensor_get_rank:
 * @self: a tensor
 *
 * The number of dimensions.
 *
 * Returns: the number of dimensions
 */
guint
ane_tensor_get_rank (AneTensor *self)
{
  g_return_val_if_fail (ANE_IS_TENSOR (self), 0);
  return self->spec.rank;
}

/**
 * ane_tensor_get_shape:
 * @self: a tensor
 * @rank: (out): the number of dimensions
 *
 * The dimensions.
 *
 * Returns: (array length=rank) (transfer none): the dimensions
 */
const gint64 *
ane_tensor_get_shape (AneTensor *self,
                      guint     *rank)
{
  g_return_val_if_fail (ANE_IS_TENSOR (self), NULL);
  g_return_val_if_fail (rank != NULL, NULL);
  *rank = self->spec.rank;
  return self->spec.shape;
}

/**
 * ane_tensor_get_dim:
 * @self: a tensor
 * @axis: a dimension index; negative counts from the end
 *
 * The size of one dimension.
 *
 * Returns: the size of dimension @axis, or -1 if @axis is out of range
 */
gint64
ane_tensor_get_dim (AneTensor *self,
                    int        axis)
{
  guint a;

  g_return_val_if_fail (ANE_IS_TENSOR (self), -1);
  if (!ane_normalize_axis (axis, self->spec.rank, &a))
    return -1;
  return self->spec.shape[a];
}

/**
 * ane_tensor_get_n_elements:
 * @self: a tensor
 *
 * The number of elements.
 *
 * Returns: the number of elements (1 for a scalar)
 */
gint64
ane_tensor_get_n_elements (AneTensor *self)
{
  g_return_val_if_fail (ANE_IS_TENSOR (self), 0);
  return self->n_elements;
}

/**
 * ane_tensor_get_n_bytes:
 * @self: a tensor
 *
 * The size of the data in bytes.
 *
 * Returns: the size of the tensor's data in bytes
 */
gsize
ane_tensor_get_n_bytes (AneTensor *self)
{
  g_return_val_if_fail (ANE_IS_TENSOR (self), 0);
  return self->n_bytes;
}

/**
 * ane_tensor_has_data:
 * @self: a tensor
 *
 * Whether the tensor holds data (is concrete).
 *
 * Returns: %TRUE if the tensor is concrete
 */
gboolean
ane_tensor_has_data (AneTensor *self)
{
  g_return_val_if_fail (ANE_IS_TENSOR (self), FALSE);
  return self->data != NULL;
}

/**
 * ane_tensor_get_data:
 * @self: a tensor
 *
 * The elements. In Python, `numpy.frombuffer(t.get_data().get_data(), dtype)`
 * views them.
 *
 * Returns: (transfer none) (nullable): the data, or %NULL for a symbolic tensor
 */
GBytes *
ane_tensor_get_data (AneTensor *self)
{
  g_return_val_if_fail (ANE_IS_TENSOR (self), NULL);
  return self->data;
}

/**
 * ane_tensor_dup_floats:
 * @self: a concrete tensor of a non-block dtype
 * @n_values: (out): number of values returned
 * @error: return location for a #GError
 *
 * Copies the elements out as float32, converting from the tensor's dtype.
 *
 * Returns: (array length=n_values) (transfer full) (nullable): the values
 */
float *
ane_tensor_dup_floats (AneTensor *self,
                       gsize     *n_values,
                       GError   **error)
{
  g_autofree double *tmp = NULL;
  float *out;

  g_return_val_if_fail (ANE_IS_TENSOR (self), NULL);
  g_return_val_if_fail (n_values != NULL, NULL);

  if (self->data == NULL || ane_dtype_is_block (self->spec.dtype))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                   "tensor '%s': %s", self->name,
                   self->data == NULL ? "has no data" : "block-quantized data has no plain float view");
      return NULL;
    }
  tmp = g_new (double, MAX (self->n_elements, 1));
  ane_dtype_decode (self->spec.dtype, g_bytes_get_data (self->data, NULL), self->n_elements, tmp);
  out = g_new (float, MAX (self->n_elements, 1));
  for (gint64 i = 0; i < self->n_elements; i++)
    out[i] = (float) tmp[i];
  *n_values = self->n_elements;
  return out;
}

/**
 * ane_tensor_get_value:
 * @self: a concrete tensor of a non-block dtype
 * @index: flat (C order) element index
 *
 * Reads one element as a double, for tests and quick looks.
 *
 * Returns: the element, or NaN if there is none
 */
double
ane_tensor_get_value (AneTensor *self,
                      gint64     index)
{
  double v;
  gsize size;

  g_return_val_if_fail (ANE_IS_TENSOR (self), NAN);
  if (self->data == NULL || ane_dtype_is_block (self->spec.dtype) ||
      index < 0 || index >= self->n_elements)
    return NAN;
  size = ane_dtype_size (self->spec.dtype);
  ane_dtype_decode (self->spec.dtype,
                    (const guint8 *) g_bytes_get_data (self->data, NULL) + index * size, 1, &v);
  return v;
}

/**
 * ane_tensor_to_string:
 * @self: a tensor
 *
 * A short description such as `x: float32[2,3]`.
 *
 * Returns: (transfer full): the description
 */
char *
ane_tensor_to_string (AneTensor *self)
{
  char buf[ANE_SPEC_STRLEN];

  g_return_val_if_fail (ANE_IS_TENSOR (self), NULL);
  return g_strdup_printf ("%s: %s%s", self->name, ane_spec_format (&self->spec, buf),
                          self->data ? "" : " (symbolic)");
}

/**
 * ane_tensor_rename:
 * @self: a concrete tensor
 * @name: the new name
 *
 * A tensor sharing @self's data under another name (no copy).
 *
 * Returns: (transfer full): the renamed tensor
 */
AneTensor *
ane_tensor_rename (AneTensor  *self,
                   const char *name)
{
  AneTensor *copy;

  g_return_val_if_fail (ANE_IS_TENSOR (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  copy = tensor_alloc (name, &self->spec, NULL);
  copy->data = self->data ? g_bytes_ref (self->data) : NULL;
  return copy;
}

/**
 * ane_tensor_convert:
 * @self: a concrete tensor of a non-block dtype
 * @dtype: the target non-block dtype
 * @error: return location for a #GError
 *
 * Converts the elements to @dtype (floats round to nearest even; integers
 * truncate toward zero and saturate).
 *
 * Returns: (transfer full): the converted tensor
 */
AneTensor *
ane_tensor_convert (AneTensor *self,
                    AneDType   dtype,
                    GError   **error)
{
  g_autofree double *tmp = NULL;
  g_autoptr(AneTensor) out = NULL;
  gpointer buf;

  g_return_val_if_fail (ANE_IS_TENSOR (self), NULL);

  if (self->data == NULL || ane_dtype_is_block (self->spec.dtype) || ane_dtype_is_block (dtype))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                   "tensor '%s': cannot convert %s to %s%s", self->name,
                   ane_dtype_to_string (self->spec.dtype), ane_dtype_to_string (dtype),
                   self->data == NULL ? " (no data)" : "");
      return NULL;
    }
  out = ane_tensor_new (self->name, dtype, self->spec.shape, self->spec.rank, error);
  if (out == NULL)
    return NULL;
  tmp = g_new (double, MAX (self->n_elements, 1));
  ane_dtype_decode (self->spec.dtype, g_bytes_get_data (self->data, NULL), self->n_elements, tmp);
  buf = g_malloc (MAX (out->n_bytes, 1));
  ane_dtype_encode (dtype, tmp, self->n_elements, buf);
  out->data = g_bytes_new_take (buf, out->n_bytes);
  return g_steal_pointer (&out);
}

GHashTable *
ane_tensor_specs_by_name (GPtrArray *tensors)
{
  GHashTable *specs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < tensors->len; i++)
    {
      AneSpec *spec = g_new (AneSpec, 1);

      ane_tensor_get_spec (g_ptr_array_index (tensors, i), spec);
      g_hash_table_insert (specs, g_strdup (ane_tensor_get_name (g_ptr_array_index (tensors, i))), spec);
    }
  return specs;
}
