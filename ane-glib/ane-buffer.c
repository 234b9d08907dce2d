/* ane-buffer.c: memory in a backend's own layout, bound to an executable's ports
 *
 * The shape of rane's API (https://cyber.page/honeycrisp/rane/specs/api and
 * docs/guides/surface-lifecycle): a buffer is made for a tensor's shape
 * (`Buffer::with_shape (C, S)`: [1, C, 1, S] fp16), read and written only
 * under the surface's lock (`read` / `write` lock and unlock around a
 * closure; "do not hold a lock while ANE is running"), passed to the
 * program's run as it is ("the ANE reads/writes the same physical memory --
 * no copies") and released on drop. Here the buffer is made by the
 * executable for a named port, so its layout is the backend's by
 * construction, and the lock is explicit (C has no closures to lend).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-buffer-private.h"
#include "ane-tensor-private.h"
#include "runtime/cpu/ane-cpu-private.h"
#include "ane-enum-types.h"

/**
 * AneBuffer:
 *
 * Memory for one input, output or state of an [class@Ane.Executable], laid
 * out the way its backend reads and writes it, so that a run with the buffer
 * bound ([method@Ane.Executable.bind], [method@Ane.Executable.run_bound])
 * copies nothing in or out.
 *
 * ```c
 * g_autoptr(AneBuffer) x = ane_executable_new_buffer (exe, "x", &error);
 * g_autoptr(AneBuffer) y = ane_executable_new_buffer (exe, "y", &error);
 * ane_executable_bind (exe, "x", x, &error);
 * ane_executable_bind (exe, "y", y, &error);
 * gsize size;
 * float *in = ane_buffer_lock (x, FALSE, &size, &error);   // the CPU backend: float32
 * fill (in);
 * ane_buffer_unlock (x);
 * ane_executable_run_bound (exe, NULL, &error);            // y is written in place
 * ```
 *
 * Layouts ([method@Ane.Buffer.get_dtype], [method@Ane.Buffer.get_strides]):
 *
 * - the CPU backend: 64-byte aligned host memory, dense, row-major; every
 *   float port (float32, float16, bfloat16) held as float32 and every
 *   integer or bool port as int32, the interpreter's own values;
 * - the Neural Engine's private path: an IOSurface (on Linux, the test
 *   fake's), float16, the tensor as `[C, H, W]` (a leading batch of 1
 *   allowed) with each row of W halfs padded to a multiple of 64 bytes and
 *   the padding zero. A state's buffer holds two surfaces: each run reads
 *   one and writes the other, and they change places when the run
 *   succeeded (so a failed run leaves the state as it was).
 *
 * Access the memory between [method@Ane.Buffer.lock] and
 * [method@Ane.Buffer.unlock] (an IOSurface must be locked while the CPU
 * touches it, and must not be while the device runs: a run refuses a locked
 * buffer). [method@Ane.Buffer.write_tensor] and
 * [method@Ane.Buffer.dup_tensor] convert from and to a dense tensor (they
 * copy; the way from Python and Vala).
 *
 * A buffer belongs to the executable that made it, for the backend it was
 * compiled for; it holds no reference on the executable. Threads: a buffer
 * may be used from any thread, but not written while a run that has it
 * bound is going on.
 *
 * Since: 0.2
 */
struct _AneBuffer
{
  GObject          parent_instance;

  char            *name;
  AneBackend       backend;
  guint64          owner;
  AneBufferLayout  layout;
  gpointer         memory;        /* host buffers */
  AneSurfaceRef    surfaces[2];   /* surface buffers: one, or two for a state */
  guint            n_surfaces;
  guint            current;       /* the surface a run reads */
  gint             locked;        /* 1 while a caller holds it (atomic) */
  gboolean         lock_read_only;
};

G_DEFINE_FINAL_TYPE (AneBuffer, ane_buffer, G_TYPE_OBJECT)

static void
ane_buffer_finalize (GObject *object)
{
  AneBuffer *self = ANE_BUFFER (object);
  const AneAneRuntime *rt = self->layout.runtime;

  if (self->locked && rt != NULL)
    rt->surface_unlock (rt, self->surfaces[self->current], self->lock_read_only);
  for (guint i = 0; i < self->n_surfaces; i++)
    rt->cf_release (rt, self->surfaces[i]);
  g_aligned_free (self->memory);
  g_free (self->name);
  G_OBJECT_CLASS (ane_buffer_parent_class)->finalize (object);
}

enum {
  PROP_0,
  PROP_NAME,
  PROP_PORT,
  PROP_BACKEND,
  PROP_DTYPE,
  PROP_PORT_DTYPE,
  PROP_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
ane_buffer_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  AneBuffer *self = ANE_BUFFER (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_PORT:
      g_value_set_enum (value, self->layout.port);
      break;
    case PROP_BACKEND:
      g_value_set_enum (value, self->backend);
      break;
    case PROP_DTYPE:
      g_value_set_enum (value, self->layout.dtype);
      break;
    case PROP_PORT_DTYPE:
      g_value_set_enum (value, self->layout.port_dtype);
      break;
    case PROP_SIZE:
      g_value_set_uint64 (value, self->layout.size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ane_buffer_class_init (AneBufferClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = ane_buffer_finalize;
  object_class->get_property = ane_buffer_get_property;

  /**
   * AneBuffer:name: (getter get_name)
   *
   * The name of the port the buffer was made for.
   *
   * Since: 0.2
   */
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, ro);
  /**
   * AneBuffer:port: (getter get_port)
   *
   * The kind of port the buffer was made for.
   *
   * Since: 0.2
   */
  properties[PROP_PORT] = g_param_spec_enum ("port", NULL, NULL, ANE_TYPE_BUFFER_PORT, ANE_BUFFER_PORT_INPUT, ro);
  /**
   * AneBuffer:backend: (getter get_backend)
   *
   * The backend whose layout the buffer has.
   *
   * Since: 0.2
   */
  properties[PROP_BACKEND] = g_param_spec_enum ("backend", NULL, NULL, ANE_TYPE_BACKEND, ANE_BACKEND_CPU, ro);
  /**
   * AneBuffer:dtype: (getter get_dtype)
   *
   * The type of the elements in memory.
   *
   * Since: 0.2
   */
  properties[PROP_DTYPE] = g_param_spec_enum ("dtype", NULL, NULL, ANE_TYPE_DTYPE, ANE_DTYPE_FLOAT32, ro);
  /**
   * AneBuffer:port-dtype: (getter get_port_dtype)
   *
   * The dtype the port declares.
   *
   * Since: 0.2
   */
  properties[PROP_PORT_DTYPE] = g_param_spec_enum ("port-dtype", NULL, NULL, ANE_TYPE_DTYPE, ANE_DTYPE_FLOAT32, ro);
  /**
   * AneBuffer:size: (getter get_size)
   *
   * The bytes the buffer's layout spans, padding included.
   *
   * Since: 0.2
   */
  properties[PROP_SIZE] = g_param_spec_uint64 ("size", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ane_buffer_init (AneBuffer *self)
{
}

/* Zeroes a surface, padding included (the program may read the padding). */
static gboolean
clear_surface (const AneAneRuntime *rt,
               AneSurfaceRef        surface,
               gsize                bytes,
               const char          *name,
               GError             **error)
{
  guint8 *base;

  if (!rt->surface_lock (rt, surface, FALSE))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "buffer '%s': IOSurfaceLock failed", name);
      return FALSE;
    }
  base = rt->surface_base_address (rt, surface);
  if (base != NULL)
    memset (base, 0, bytes);
  rt->surface_unlock (rt, surface, FALSE);
  if (base == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "buffer '%s': the surface has no base address", name);
      return FALSE;
    }
  return TRUE;
}

AneBuffer *
ane_buffer_new_for_layout (guint64                owner,
                           AneBackend             backend,
                           const char            *name,
                           const AneBufferLayout *layout,
                           GError               **error)
{
  g_autoptr(AneBuffer) self = g_object_new (ANE_TYPE_BUFFER, NULL);
  const AneAneRuntime *rt = layout->runtime;

  self->name = g_strdup (name);
  self->backend = backend;
  self->owner = owner;
  self->layout = *layout;
  if (rt == NULL)
    {
      self->memory = g_aligned_alloc0 (MAX (layout->size, 1), 1, ANE_BUFFER_HOST_ALIGN);
      return g_steal_pointer (&self);
    }
  self->n_surfaces = layout->port == ANE_BUFFER_PORT_STATE ? 2 : 1;
  for (guint i = 0; i < self->n_surfaces; i++)
    {
      const AneAneSurfaceLayout *l = &layout->surface;
      AneSurfaceRef s = rt->surface_create (rt, l->row_bytes, l->channels * l->height, l->total_bytes);

      if (s == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "buffer '%s': IOSurfaceCreate failed (%" G_GSIZE_FORMAT
                       " bytes)", name, l->total_bytes);
          return NULL;
        }
      self->surfaces[i] = s;
      /* The program's surfaces follow rows the system widens
       * (ane-ane-runtime.c, make_surfaces); a buffer cannot, since its
       * layout was promised: refuse rather than mislay the data. */
      if (rt->surface_bytes_per_row (rt, s) != l->row_bytes || rt->surface_alloc_size (rt, s) < l->total_bytes)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "buffer '%s': the system made a surface of %" G_GSIZE_FORMAT
                       " bytes per row, %" G_GSIZE_FORMAT " bytes; the layout needs %" G_GSIZE_FORMAT ", %"
                       G_GSIZE_FORMAT, name, rt->surface_bytes_per_row (rt, s), rt->surface_alloc_size (rt, s),
                       l->row_bytes, l->total_bytes);
          return NULL;
        }
      if (!clear_surface (rt, s, l->total_bytes, name, error))
        return NULL;
    }
  return g_steal_pointer (&self);
}

const AneBufferLayout *
ane_buffer_get_layout (AneBuffer *self)
{
  return &self->layout;
}

guint64
ane_buffer_get_owner (AneBuffer *self)
{
  return self->owner;
}

gboolean
ane_buffer_layout_equal (const AneBufferLayout *a,
                         const AneBufferLayout *b)
{
  if (a->dtype != b->dtype || a->port_dtype != b->port_dtype || a->rank != b->rank || a->size != b->size ||
      a->runtime != b->runtime || (a->port == ANE_BUFFER_PORT_STATE) != (b->port == ANE_BUFFER_PORT_STATE))
    return FALSE;
  if (memcmp (a->shape, b->shape, a->rank * sizeof (gint64)) != 0 ||
      memcmp (a->strides, b->strides, a->rank * sizeof (gint64)) != 0)
    return FALSE;
  return a->runtime == NULL || a->surface.row_bytes == b->surface.row_bytes;
}

gpointer
ane_buffer_get_memory (AneBuffer *self)
{
  return self->memory;
}

AneSurfaceRef
ane_buffer_get_surface (AneBuffer *self,
                        gboolean   next)
{
  if (self->n_surfaces == 0)
    return NULL;
  return self->surfaces[next && self->n_surfaces == 2 ? 1 - self->current : self->current];
}

void
ane_buffer_swap (AneBuffer *self)
{
  if (self->n_surfaces == 2)
    self->current = 1 - self->current;
}

gboolean
ane_buffer_is_locked (AneBuffer *self)
{
  return g_atomic_int_get (&self->locked) != 0;
}

/**
 * ane_buffer_get_name:
 * @self: a buffer
 *
 * The name of the input, output or state the buffer was made for.
 *
 * Returns: (transfer none): the port's name
 *
 * Since: 0.2
 */
const char *
ane_buffer_get_name (AneBuffer *self)
{
  g_return_val_if_fail (ANE_IS_BUFFER (self), NULL);
  return self->name;
}

/**
 * ane_buffer_get_port:
 * @self: a buffer
 *
 * Whether the buffer was made for an input, an output or a state. Input
 * and output buffers of the same layout may be bound to either kind (an
 * output of one run as the input of the next); a state's buffer only to a
 * state.
 *
 * Returns: the kind of port
 *
 * Since: 0.2
 */
AneBufferPort
ane_buffer_get_port (AneBuffer *self)
{
  g_return_val_if_fail (ANE_IS_BUFFER (self), ANE_BUFFER_PORT_INPUT);
  return self->layout.port;
}

/**
 * ane_buffer_get_backend:
 * @self: a buffer
 *
 * The backend whose layout the buffer has (never %ANE_BACKEND_AUTO: the
 * one the executable chose).
 *
 * Returns: the backend
 *
 * Since: 0.2
 */
AneBackend
ane_buffer_get_backend (AneBuffer *self)
{
  g_return_val_if_fail (ANE_IS_BUFFER (self), ANE_BACKEND_CPU);
  return self->backend;
}

/**
 * ane_buffer_get_dtype:
 * @self: a buffer
 *
 * The type of the elements in memory: %ANE_DTYPE_FLOAT32 or
 * %ANE_DTYPE_INT32 on the CPU backend (whatever the port declares, see
 * [method@Ane.Buffer.get_port_dtype]), %ANE_DTYPE_FLOAT16 on the Neural
 * Engine's path.
 *
 * Returns: the element type in memory
 *
 * Since: 0.2
 */
AneDType
ane_buffer_get_dtype (AneBuffer *self)
{
  g_return_val_if_fail (ANE_IS_BUFFER (self), ANE_DTYPE_FLOAT32);
  return self->layout.dtype;
}

/**
 * ane_buffer_get_port_dtype:
 * @self: a buffer
 *
 * The dtype the port declares: what [method@Ane.Buffer.dup_tensor] returns.
 * On the CPU backend a float16 port's buffer holds float32 elements whose
 * values are float16 values (the run rounds what it writes; what the caller
 * writes directly is read as it is).
 *
 * Returns: the port's declared dtype
 *
 * Since: 0.2
 */
AneDType
ane_buffer_get_port_dtype (AneBuffer *self)
{
  g_return_val_if_fail (ANE_IS_BUFFER (self), ANE_DTYPE_FLOAT32);
  return self->layout.port_dtype;
}

/**
 * ane_buffer_get_shape:
 * @self: a buffer
 * @rank: (out): the number of dimensions
 *
 * The port's shape as the backend declares it (a scalar input of a graph is
 * `[1]` on the CPU backend).
 *
 * Returns: (array length=rank) (transfer none): the dimensions
 *
 * Since: 0.2
 */
const gint64 *
ane_buffer_get_shape (AneBuffer *self,
                      guint     *rank)
{
  g_return_val_if_fail (ANE_IS_BUFFER (self), NULL);
  g_return_val_if_fail (rank != NULL, NULL);
  *rank = self->layout.rank;
  return self->layout.shape;
}

/**
 * ane_buffer_get_strides:
 * @self: a buffer
 * @rank: (out): the number of dimensions
 *
 * The distance in bytes between neighbours along each dimension. Dense on
 * the CPU backend; on the Neural Engine's path the last dimension's stride
 * is 2 and the one before it the padded row (a multiple of 64 bytes).
 *
 * Returns: (array length=rank) (transfer none): the strides in bytes
 *
 * Since: 0.2
 */
const gint64 *
ane_buffer_get_strides (AneBuffer *self,
                        guint     *rank)
{
  g_return_val_if_fail (ANE_IS_BUFFER (self), NULL);
  g_return_val_if_fail (rank != NULL, NULL);
  *rank = self->layout.rank;
  return self->layout.strides;
}

/**
 * ane_buffer_get_size:
 * @self: a buffer
 *
 * The bytes the layout spans, padding included (one surface of a state's
 * two).
 *
 * Returns: the size in bytes
 *
 * Since: 0.2
 */
gsize
ane_buffer_get_size (AneBuffer *self)
{
  g_return_val_if_fail (ANE_IS_BUFFER (self), 0);
  return self->layout.size;
}

/**
 * ane_buffer_is_surface:
 * @self: a buffer
 *
 * Whether the buffer is an IOSurface (the Neural Engine's path) rather than
 * host memory.
 *
 * Returns: %TRUE for a surface
 *
 * Since: 0.2
 */
gboolean
ane_buffer_is_surface (AneBuffer *self)
{
  g_return_val_if_fail (ANE_IS_BUFFER (self), FALSE);
  return self->layout.runtime != NULL;
}

/**
 * ane_buffer_lock:
 * @self: a buffer
 * @read_only: whether the caller only reads
 * @size: (out) (optional): the bytes the memory spans
 * @error: return location for a #GError
 *
 * Gives the buffer's memory to the caller until [method@Ane.Buffer.unlock],
 * in the layout [method@Ane.Buffer.get_strides] describes (for a state on
 * the Neural Engine's path: the surface the next run reads). An IOSurface
 * is locked meanwhile (IOSurfaceLock), as rane's surfaces are around every
 * CPU access; a run refuses a buffer locked at the time. One lock at a time.
 *
 * Returns: (transfer none) (nullable): the memory, or %NULL with @error set
 *
 * Since: 0.2
 */
gpointer
ane_buffer_lock (AneBuffer  *self,
                 gboolean    read_only,
                 gsize      *size,
                 GError    **error)
{
  const AneAneRuntime *rt;
  gpointer base;

  g_return_val_if_fail (ANE_IS_BUFFER (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_atomic_int_compare_and_exchange (&self->locked, 0, 1))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "buffer '%s' is locked already", self->name);
      return NULL;
    }
  if (size != NULL)
    *size = self->layout.size;
  rt = self->layout.runtime;
  if (rt == NULL)
    return self->memory;
  self->lock_read_only = read_only;
  if (!rt->surface_lock (rt, self->surfaces[self->current], read_only))
    {
      g_atomic_int_set (&self->locked, 0);
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "buffer '%s': IOSurfaceLock failed", self->name);
      return NULL;
    }
  base = rt->surface_base_address (rt, self->surfaces[self->current]);
  if (base == NULL)
    {
      rt->surface_unlock (rt, self->surfaces[self->current], read_only);
      g_atomic_int_set (&self->locked, 0);
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "buffer '%s': the surface has no base address", self->name);
    }
  return base;
}

/**
 * ane_buffer_unlock:
 * @self: a buffer locked with [method@Ane.Buffer.lock]
 *
 * Ends the caller's access to the memory: what it wrote is what the next
 * run reads.
 *
 * Since: 0.2
 */
void
ane_buffer_unlock (AneBuffer *self)
{
  const AneAneRuntime *rt;

  g_return_if_fail (ANE_IS_BUFFER (self));
  g_return_if_fail (g_atomic_int_get (&self->locked) == 1);

  rt = self->layout.runtime;
  if (rt != NULL)
    rt->surface_unlock (rt, self->surfaces[self->current], self->lock_read_only);
  g_atomic_int_set (&self->locked, 0);
}

/* tensor's shape is the buffer's (a scalar fills a [1]). */
static gboolean
check_shape (AneBuffer  *self,
             AneTensor  *tensor,
             GError    **error)
{
  AneSpec have, want = { .dtype = self->layout.port_dtype, .rank = self->layout.rank };
  char h[ANE_SPEC_STRLEN], w[ANE_SPEC_STRLEN];

  ane_tensor_get_spec (tensor, &have);
  memcpy (want.shape, self->layout.shape, want.rank * sizeof (gint64));
  if (have.rank == want.rank && memcmp (have.shape, want.shape, want.rank * sizeof (gint64)) == 0)
    return TRUE;
  if (have.rank == 0 && want.rank == 1 && want.shape[0] == 1)
    return TRUE;
  g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "buffer '%s' holds %s, the tensor is %s", self->name,
               ane_spec_format (&want, w), ane_spec_format (&have, h));
  return FALSE;
}

/**
 * ane_buffer_write_tensor:
 * @self: a buffer, not locked
 * @tensor: a concrete tensor of the buffer's shape, of any dtype that
 *   converts to the port's
 * @error: return location for a #GError
 *
 * Writes a dense tensor into the buffer, converted to the port's dtype and
 * laid out as the backend reads it (row padding zeroed). This copies: it is
 * the convenient way in, for a buffer filled once or from a language
 * without pointers.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
ane_buffer_write_tensor (AneBuffer  *self,
                         AneTensor  *tensor,
                         GError    **error)
{
  g_autoptr(AneTensor) converted = NULL;
  AneDType want;
  gsize size;
  gpointer mem;
  gboolean ok;

  g_return_val_if_fail (ANE_IS_BUFFER (self), FALSE);
  g_return_val_if_fail (ANE_IS_TENSOR (tensor), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (ane_tensor_get_data (tensor) == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "buffer '%s': the tensor has no data", self->name);
      return FALSE;
    }
  if (!check_shape (self, tensor, error))
    return FALSE;
  /* the port's dtype first, so the values are the port's (fp16 rounding,
   * integer saturation) whatever the memory holds them in */
  want = self->layout.runtime != NULL ? ANE_DTYPE_FLOAT16 : self->layout.port_dtype;
  converted = ane_tensor_get_dtype (tensor) == want ? g_object_ref (tensor) : ane_tensor_convert (tensor, want, error);
  if (converted == NULL)
    return FALSE;
  mem = ane_buffer_lock (self, FALSE, &size, error);
  if (mem == NULL)
    return FALSE;
  if (self->layout.runtime != NULL)
    ok = ane_ane_surface_pack_tensor (&self->layout.surface, converted, mem, error);
  else
    {
      g_autoptr(AneCpuValue) v = ane_cpu_value_from_tensor (converted, error);

      ok = v != NULL;
      if (ok)
        memcpy (mem, v->f ? (gpointer) v->f : (gpointer) v->i, v->n * 4);
    }
  ane_buffer_unlock (self);
  return ok;
}

/**
 * ane_buffer_dup_tensor:
 * @self: a buffer, not locked
 * @error: return location for a #GError
 *
 * Reads the buffer into a new dense tensor of the port's dtype and shape
 * (for a state on the Neural Engine's path: its current value). This
 * copies.
 *
 * Returns: (transfer full): a concrete tensor named as the port, or %NULL
 *
 * Since: 0.2
 */
AneTensor *
ane_buffer_dup_tensor (AneBuffer  *self,
                       GError    **error)
{
  const AneBufferLayout *l;
  gpointer mem;
  AneTensor *t;

  g_return_val_if_fail (ANE_IS_BUFFER (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  l = &self->layout;
  mem = ane_buffer_lock (self, TRUE, NULL, error);
  if (mem == NULL)
    return NULL;
  if (l->runtime != NULL)
    {
      gsize n = l->surface.channels * l->surface.height * l->surface.width;
      guint16 *halfs = g_new (guint16, MAX (n, 1));
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(AneTensor) f16 = NULL;

      ane_ane_surface_unpack_f16 (&l->surface, mem, halfs);
      ane_buffer_unlock (self);
      bytes = g_bytes_new_take (halfs, n * 2);
      f16 = ane_tensor_new_from_bytes (self->name, ANE_DTYPE_FLOAT16, l->shape, l->rank, bytes, error);
      if (f16 == NULL || l->port_dtype == ANE_DTYPE_FLOAT16)
        return g_steal_pointer (&f16);
      return ane_tensor_convert (f16, l->port_dtype, error);
    }
  {
    AneCpuValue view = { .dtype = l->port_dtype, .rank = l->rank, .n = 1 };

    for (guint i = 0; i < l->rank; i++)
      {
        view.shape[i] = l->shape[i];
        view.n *= (gsize) l->shape[i];
      }
    if (l->dtype == ANE_DTYPE_FLOAT32)
      view.f = mem;
    else
      view.i = mem;
    t = ane_cpu_value_to_tensor (&view, self->name, l->port_dtype, error);
  }
  ane_buffer_unlock (self);
  return t;
}

/**
 * ane_buffer_clear:
 * @self: a buffer, not locked
 * @error: return location for a #GError
 *
 * Sets every byte of the buffer to zero (both surfaces of a state's buffer):
 * what [method@Ane.Executable.reset_states] does to a bound state.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
ane_buffer_clear (AneBuffer  *self,
                  GError    **error)
{
  g_return_val_if_fail (ANE_IS_BUFFER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (ane_buffer_is_locked (self))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "buffer '%s' is locked", self->name);
      return FALSE;
    }
  if (self->layout.runtime == NULL)
    {
      memset (self->memory, 0, self->layout.size);
      return TRUE;
    }
  for (guint i = 0; i < self->n_surfaces; i++)
    if (!clear_surface (self->layout.runtime, self->surfaces[i], self->layout.surface.total_bytes, self->name, error))
      return FALSE;
  return TRUE;
}
