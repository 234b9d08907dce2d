/* runtime/cpu/ane-cpu-value.c: values of the MIL interpreter
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-file-private.h"
#include "ane-graph-private.h"
#include "ane-tensor-private.h"
#include "mil/ane-milblob-private.h"
#include "runtime/cpu/ane-cpu-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"

gboolean
ane_cpu_dtype_is_float (AneDType dtype)
{
  return ane_dtype_is_float (dtype);
}

/* A value of dtype and shape, its storage (f for float dtypes, i for the
 * others) memory: every constructor's header. */
static AneCpuValue *
value_over (AneDType      dtype,
            const gint64 *shape,
            guint         rank,
            gpointer      memory)
{
  AneCpuValue *v = g_new0 (AneCpuValue, 1);

  g_assert (rank <= ANE_CPU_MAX_RANK);
  v->dtype = dtype;
  v->rank = rank;
  v->n = 1;
  for (guint i = 0; i < rank; i++)
    {
      v->shape[i] = shape[i];
      v->n *= (gsize) shape[i];
    }
  if (ane_cpu_dtype_is_float (dtype))
    v->f = memory;
  else
    v->i = memory;
  return v;
}

/* Elements of a value of shape, and what its storage holds (at least one). */
static gsize
storage_elements (const gint64 *shape,
                  guint         rank)
{
  gsize n = 1;

  for (guint i = 0; i < rank; i++)
    n *= (gsize) shape[i];
  return MAX (n, 1);
}

AneCpuValue *
ane_cpu_value_new (AneDType      dtype,
                   const gint64 *shape,
                   guint         rank)
{
  return value_over (dtype, shape, rank, g_new0 (gint32, storage_elements (shape, rank)));
}

AneCpuValue *
ane_cpu_value_new_owning (AneDType      dtype,
                          const gint64 *shape,
                          guint         rank,
                          gpointer      storage)
{
  return value_over (dtype, shape, rank, storage);
}

void
ane_cpu_value_free (AneCpuValue *v)
{
  if (v == NULL)
    return;
  if (v->keep)
    g_bytes_unref (v->keep);
  else if (!v->view)
    {
      g_free (v->f);
      g_free (v->i);
    }
  ane_cpu_packed_free (v->packed);
  g_free (v->s);
  g_free (v);
}

AneCpuValue *
ane_cpu_value_copy (const AneCpuValue *v)
{
  AneCpuValue *c = g_new0 (AneCpuValue, 1);

  *c = *v;
  c->keep = NULL;
  c->view = FALSE;
  c->f = v->f ? g_memdup2 (v->f, MAX (v->n, 1) * sizeof (float)) : NULL;
  c->i = v->i ? g_memdup2 (v->i, MAX (v->n, 1) * sizeof (gint32)) : NULL;
  c->s = g_strdup (v->s);
  c->packed = NULL;
  if (v->packed)
    {
      /* a copy (a const handed out) is the dense value */
      c->f = g_new (float, MAX (v->n, 1));
      for (gsize r = 0; r < v->packed->rows; r++)
        ane_cpu_packed_dequantize_row (v->packed, r, c->f + r * v->packed->cols);
    }
  return c;
}

static void
saturate (gint32 *values,
          gsize   n,
          gint32  lo,
          gint32  hi)
{
  for (gsize i = 0; i < n; i++)
    values[i] = CLAMP (values[i], lo, hi);
}

AneCpuValue *
ane_cpu_value_new_borrowed (AneDType      dtype,
                            const gint64 *shape,
                            guint         rank,
                            GBytes       *bytes)
{
  AneCpuValue *v;

  g_assert (dtype == ANE_DTYPE_FLOAT32 || dtype == ANE_DTYPE_INT32);
  /* Read-only by contract: kernels never write their inputs, and values
   * that get written (states) are made to own their storage first. */
  v = value_over (dtype, shape, rank, (gpointer) g_bytes_get_data (bytes, NULL));
  g_assert (g_bytes_get_size (bytes) == v->n * 4);
  v->keep = g_bytes_ref (bytes);
  return v;
}

void
ane_cpu_value_make_hot (AneCpuValue *v)
{
  GBytes *hot;

  if (v->packed != NULL)
    {
      ane_cpu_packed_make_hot (v->packed);
      return;
    }
  if (v->keep == NULL || v->view)
    return;
  hot = ane_file_hot_bytes (v->keep);
  if (v->f)
    v->f = (float *) g_bytes_get_data (hot, NULL);
  else
    v->i = (gint32 *) g_bytes_get_data (hot, NULL);
  g_bytes_unref (v->keep);
  v->keep = hot;
}

AneCpuValue *
ane_cpu_value_new_view (AneDType      dtype,
                        const gint64 *shape,
                        guint         rank,
                        gpointer      memory)
{
  AneCpuValue *v = value_over (dtype, shape, rank, memory);

  v->view = TRUE;
  return v;
}

void
ane_cpu_value_own (AneCpuValue *v)
{
  gsize size = MAX (v->n, 1) * sizeof (float);   /* float or int32 */
  gpointer src, copy;

  if (v->keep == NULL || (v->f == NULL && v->i == NULL))
    return;
  src = v->f ? (gpointer) v->f : (gpointer) v->i;
  copy = g_malloc (size);
  /* from a mapped file with pread(2): reading through the mapping would
   * map the page-cache folio around the bytes (2 MiB where the page cache
   * holds large folios) */
  if (!ane_file_read_mapped (src, size, copy))
    memcpy (copy, src, size);
  if (v->f)
    v->f = copy;
  else
    v->i = copy;
  g_clear_pointer (&v->keep, g_bytes_unref);
}

AneTensor *
ane_cpu_value_steal_to_tensor (AneCpuValue *v,
                               const char  *name,
                               AneDType     dtype,
                               GError     **error)
{
  g_autoptr(GBytes) bytes = NULL;

  if (!v->view && ((dtype == ANE_DTYPE_FLOAT32 && v->f) || (dtype == ANE_DTYPE_INT32 && v->i)))
    {
      if (v->keep)
        bytes = g_bytes_ref (v->keep);
      else
        {
          bytes = g_bytes_new_take (v->f ? (gpointer) v->f : (gpointer) v->i, v->n * 4);
          v->f = NULL;
          v->i = NULL;
        }
      return ane_tensor_new_from_bytes (name, dtype, v->shape, v->rank, bytes, error);
    }
  return ane_cpu_value_to_tensor (v, name, dtype, error);
}

void
ane_cpu_value_round (AneCpuValue *v)
{
  switch (v->dtype)
    {
    case ANE_DTYPE_FLOAT16:
      {
        /* Through fp16 and back in bounded chunks: the bulk (F16C) path. */
        guint16 buf[4096];
        for (gsize off = 0; off < v->n; off += G_N_ELEMENTS (buf))
          {
            gsize k = MIN (G_N_ELEMENTS (buf), v->n - off);
            ane_f32_to_f16_bulk (v->f + off, buf, k);
            ane_f16_to_f32_bulk (buf, v->f + off, k);
          }
      }
      break;
    case ANE_DTYPE_BFLOAT16:
      for (gsize i = 0; i < v->n; i++)
        v->f[i] = ane_bfloat16_to_float (ane_float_to_bfloat16 (v->f[i]));
      break;
    case ANE_DTYPE_INT8:  saturate (v->i, v->n, -128, 127); break;
    case ANE_DTYPE_UINT8: saturate (v->i, v->n, 0, 255); break;
    case ANE_DTYPE_INT16: saturate (v->i, v->n, -32768, 32767); break;
    case ANE_DTYPE_BOOL:
      for (gsize i = 0; i < v->n; i++)
        v->i[i] = v->i[i] != 0;
      break;
    default:
      break;
    }
}

double
ane_cpu_value_get (const AneCpuValue *v,
                   gsize              i)
{
  return v->f ? (double) v->f[i] : (double) v->i[i];
}

AneCpuValue *
ane_cpu_value_from_tensor (AneTensor *t,
                           GError   **error)
{
  AneSpec spec;
  AneCpuValue *v;
  GBytes *data = ane_tensor_get_data (t);
  g_autofree double *tmp = NULL;

  ane_tensor_get_spec (t, &spec);
  if (data == NULL || ane_dtype_is_block (spec.dtype))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "tensor '%s' %s", ane_tensor_get_name (t),
                   data == NULL ? "has no data" : "is block-quantized");
      return NULL;
    }
  /* int64 values live as int32 inside MIL programs */
  if (spec.dtype == ANE_DTYPE_FLOAT32 || spec.dtype == ANE_DTYPE_INT32)
    return ane_cpu_value_new_borrowed (spec.dtype, spec.shape, spec.rank, data);
  v = ane_cpu_value_new (spec.dtype == ANE_DTYPE_INT64 ? ANE_DTYPE_INT32 : spec.dtype, spec.shape, spec.rank);
  if (spec.dtype == ANE_DTYPE_FLOAT16)
    ane_f16_to_f32_bulk (g_bytes_get_data (data, NULL), v->f, v->n);
  else
    {
      tmp = g_new (double, MAX (v->n, 1));
      ane_dtype_decode (spec.dtype, g_bytes_get_data (data, NULL), v->n, tmp);
      for (gsize i = 0; i < v->n; i++)
        {
          if (v->f)
            v->f[i] = (float) tmp[i];
          else
            v->i[i] = (gint32) ane_dtype_round (ANE_DTYPE_INT32, tmp[i]);
        }
    }
  return v;
}

AneTensor *
ane_cpu_value_to_tensor (const AneCpuValue *v,
                         const char        *name,
                         AneDType           dtype,
                         GError           **error)
{
  gsize n_bytes;
  gpointer buf;
  g_autoptr(GBytes) bytes = NULL;

  if (!ane_dtype_n_bytes (dtype, v->n, &n_bytes, error))
    return NULL;
  buf = g_malloc (MAX (n_bytes, 1));
  if (dtype == ANE_DTYPE_FLOAT32 && v->f)
    memcpy (buf, v->f, v->n * sizeof (float));
  else if (dtype == ANE_DTYPE_FLOAT16 && v->f)
    ane_f32_to_f16_bulk (v->f, buf, v->n);
  else if (dtype == ANE_DTYPE_INT32 && v->i)
    memcpy (buf, v->i, v->n * sizeof (gint32));
  else
    {
      g_autofree double *tmp = g_new (double, MAX (v->n, 1));
      for (gsize i = 0; i < v->n; i++)
        tmp[i] = ane_cpu_value_get (v, i);
      ane_dtype_encode (dtype, tmp, v->n, buf);
    }
  bytes = g_bytes_new_take (buf, n_bytes);
  /* MIL shapes may exceed the IR's rank only inside programs, never at the interface */
  return ane_tensor_new_from_bytes (name, dtype, v->shape, v->rank, bytes, error);
}
