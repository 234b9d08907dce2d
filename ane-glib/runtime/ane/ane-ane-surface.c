/* runtime/ane/ane-ane-surface.c: tensor <-> Neural Engine IOSurface layout
 *
 * The sources (maderix/ANE training/ane_runtime.h and bridge/ane_bridge.m,
 * rane docs/guides/surface-lifecycle) hand the ANE fp16 tensors
 * [1, C, 1, S] channel-major: one plane per channel, planes back to back.
 * We generalise to [C, H, W] with each W-row padded to row_align bytes
 * (64 by default: see docs/ane-private.md for what is and is not verified);
 * row_align = 2 gives the fully packed layout those sources use.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "runtime/ane/ane-ane-private.h"
#include "mil/ane-milblob-private.h"

gboolean
ane_ane_surface_layout_init (AneAneSurfaceLayout *layout,
                             const gint64        *shape,
                             guint                rank,
                             gsize                row_align,
                             GError             **error)
{
  gint64 dims[3] = { 1, 1, 1 };
  guint i;

  g_return_val_if_fail (layout != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (layout, 0, sizeof *layout);
  if (row_align < 2 || (row_align & (row_align - 1)) != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "ANE surface: row alignment %" G_GSIZE_FORMAT " is not a power of two >= 2",
                   row_align);
      return FALSE;
    }
  if (shape == NULL || rank < 1 || rank > 4)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "ANE surface: rank %u is not supported (1 to 4, [N=1,] C, H, W)", rank);
      return FALSE;
    }
  for (i = 0; i < rank; i++)
    if (shape[i] < 1)
      {
        g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                     "ANE surface: dimension %u is %" G_GINT64_FORMAT " (must be >= 1)", i, shape[i]);
        return FALSE;
      }
  if (rank == 4 && shape[0] != 1)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "ANE surface: batch %" G_GINT64_FORMAT " is not supported (N must be 1)", shape[0]);
      return FALSE;
    }
  for (i = 0; i < MIN (rank, 3u); i++)
    dims[2 - i] = shape[rank - 1 - i];

  {
    guint64 c = (guint64) dims[0], h = (guint64) dims[1], w = (guint64) dims[2];
    guint64 row, plane, total;

    if (w > G_MAXUINT64 / 2 - row_align)
      goto overflow;
    row = (w * 2 + row_align - 1) & ~((guint64) row_align - 1);
    if (!g_uint64_checked_mul (&plane, row, h) || !g_uint64_checked_mul (&total, plane, c)
        || total > G_MAXSIZE)
      goto overflow;
    layout->channels = c;
    layout->height = h;
    layout->width = w;
    layout->row_align = row_align;
    layout->row_bytes = row;
    layout->plane_bytes = plane;
    layout->total_bytes = total;
    return TRUE;
  }

overflow:
  g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW,
               "ANE surface: size of [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] overflows",
               dims[0], dims[1], dims[2]);
  return FALSE;
}

/* Row r (over C*H rows) starts at r * row_bytes in both the C and H loops,
 * since plane_bytes = H * row_bytes. */
void
ane_ane_surface_pack_f16 (const AneAneSurfaceLayout *layout, const guint16 *src, guint8 *dst)
{
  gsize rows = layout->channels * layout->height, r;
  gsize data = layout->width * 2;

  for (r = 0; r < rows; r++)
    {
      guint8 *row = dst + r * layout->row_bytes;
      memcpy (row, src + r * layout->width, data);
      memset (row + data, 0, layout->row_bytes - data);
    }
}

void
ane_ane_surface_pack_f32 (const AneAneSurfaceLayout *layout, const float *src, guint8 *dst)
{
  gsize rows = layout->channels * layout->height, r;
  gsize data = layout->width * 2;
  /* Surfaces are page-aligned and rows a multiple of 2 bytes: convert
   * straight into them. Only an odd address (a caller's buffer) goes
   * through a row of scratch. */
  gboolean aligned = ((guintptr) dst % G_ALIGNOF (guint16)) == 0 && layout->row_bytes % 2 == 0;
  g_autofree guint16 *tmp = aligned ? NULL : g_new (guint16, MAX (layout->width, 1));

  for (r = 0; r < rows; r++)
    {
      guint8 *row = dst + r * layout->row_bytes;

      if (aligned)
        ane_f32_to_f16_bulk (src + r * layout->width, (guint16 *) row, layout->width);
      else
        {
          ane_f32_to_f16_bulk (src + r * layout->width, tmp, layout->width);
          memcpy (row, tmp, data);
        }
      memset (row + data, 0, layout->row_bytes - data);
    }
}

void
ane_ane_surface_unpack_f16 (const AneAneSurfaceLayout *layout, const guint8 *src, guint16 *dst)
{
  gsize rows = layout->channels * layout->height, r;

  for (r = 0; r < rows; r++)
    memcpy (dst + r * layout->width, src + r * layout->row_bytes, layout->width * 2);
}

void
ane_ane_surface_unpack_f32 (const AneAneSurfaceLayout *layout, const guint8 *src, float *dst)
{
  gsize rows = layout->channels * layout->height, r;
  gboolean aligned = ((guintptr) src % G_ALIGNOF (guint16)) == 0 && layout->row_bytes % 2 == 0;
  g_autofree guint16 *tmp = aligned ? NULL : g_new (guint16, MAX (layout->width, 1));

  for (r = 0; r < rows; r++)
    {
      const guint8 *row = src + r * layout->row_bytes;

      if (aligned)
        ane_f16_to_f32_bulk ((const guint16 *) row, dst + r * layout->width, layout->width);
      else
        {
          memcpy (tmp, row, layout->width * 2);
          ane_f16_to_f32_bulk (tmp, dst + r * layout->width, layout->width);
        }
    }
}

gboolean
ane_ane_surface_pack_tensor (const AneAneSurfaceLayout *layout,
                             AneTensor                 *tensor,
                             guint8                    *dst,
                             GError                   **error)
{
  gsize n = layout->channels * layout->height * layout->width;
  AneDType dtype = ane_tensor_get_dtype (tensor);
  GBytes *bytes;
  gsize size;
  gconstpointer data;

  if (dtype != ANE_DTYPE_FLOAT32 && dtype != ANE_DTYPE_FLOAT16)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                   "ANE surface: input '%s' must be float32 or float16",
                   ane_tensor_get_name (tensor) ? ane_tensor_get_name (tensor) : "");
      return FALSE;
    }
  if ((gsize) ane_tensor_get_n_elements (tensor) != n)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "ANE surface: input '%s' has %" G_GINT64_FORMAT " elements, the surface holds %" G_GSIZE_FORMAT,
                   ane_tensor_get_name (tensor) ? ane_tensor_get_name (tensor) : "",
                   ane_tensor_get_n_elements (tensor), n);
      return FALSE;
    }
  bytes = ane_tensor_get_data (tensor);
  if (bytes == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "ANE surface: input '%s' has no data",
                   ane_tensor_get_name (tensor) ? ane_tensor_get_name (tensor) : "");
      return FALSE;
    }
  data = g_bytes_get_data (bytes, &size);
  /* A tensor's data may be a view at any offset (a GGUF mapping, a
   * slice): copied only when it is not aligned for its element type. */
  if (dtype == ANE_DTYPE_FLOAT16)
    {
      g_autofree guint16 *copy = (guintptr) data % G_ALIGNOF (guint16) ? g_memdup2 (data, n * 2) : NULL;
      ane_ane_surface_pack_f16 (layout, copy ? copy : data, dst);
    }
  else
    {
      g_autofree float *copy = (guintptr) data % G_ALIGNOF (float) ? g_memdup2 (data, n * 4) : NULL;
      ane_ane_surface_pack_f32 (layout, copy ? copy : data, dst);
    }
  return TRUE;
}
