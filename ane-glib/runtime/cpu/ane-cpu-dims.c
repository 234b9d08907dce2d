/* runtime/cpu/ane-cpu-dims.c: shape arithmetic and checks the kernel families share
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "runtime/cpu/ane-cpu-dims-private.h"

char *
ane_cpu_dims_string (const gint64 *shape,
                     guint         rank)
{
  GString *s = g_string_new ("[");

  for (guint i = 0; i < rank; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

gsize
ane_cpu_dims_product (const gint64 *shape,
                      guint         from,
                      guint         to)
{
  gsize n = 1;

  for (guint d = from; d < to; d++)
    n *= (gsize) shape[d];
  return n;
}

gboolean
ane_cpu_dims_equal (const gint64 *a,
                    guint         rank_a,
                    const gint64 *b,
                    guint         rank_b)
{
  return rank_a == rank_b && (rank_a == 0 || memcmp (a, b, rank_a * sizeof (gint64)) == 0);
}

gboolean
ane_cpu_check_out_shape (AneCpuCtx         *ctx,
                         const AneCpuValue *out,
                         const gint64      *shape,
                         guint              rank,
                         GError           **error)
{
  g_autofree char *want = NULL, *have = NULL;

  if (ane_cpu_dims_equal (out->shape, out->rank, shape, rank))
    return TRUE;
  want = ane_cpu_dims_string (shape, rank);
  have = ane_cpu_dims_string (out->shape, out->rank);
  return ane_cpu_fail (ctx, error, "the inputs give an output of shape %s, but the program declares %s",
                       want, have);
}
