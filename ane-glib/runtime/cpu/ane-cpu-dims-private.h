/* runtime/cpu/ane-cpu-dims-private.h: shape arithmetic and checks the kernel families share
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "runtime/cpu/ane-cpu-private.h"

G_BEGIN_DECLS

/* "[2, 3, 4]" (g_free) for error messages. */
char     *ane_cpu_dims_string     (const gint64      *shape,
                                   guint              rank);
/* The number of elements of dims [from, to) of shape (1 when empty). */
gsize     ane_cpu_dims_product    (const gint64      *shape,
                                   guint              from,
                                   guint              to);
gboolean  ane_cpu_dims_equal      (const gint64      *a,
                                   guint              rank_a,
                                   const gint64      *b,
                                   guint              rank_b);
/* Fails (naming both shapes) unless the output the program declares has the
 * shape the op computes from its inputs. */
gboolean  ane_cpu_check_out_shape (AneCpuCtx         *ctx,
                                   const AneCpuValue *out,
                                   const gint64      *shape,
                                   guint              rank,
                                   GError           **error);

G_END_DECLS
