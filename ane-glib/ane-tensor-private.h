/* ane-tensor-private.h: AneTensor's internals, for the graph, the
 * evaluators, the executable and the package writer (ane-tensor.c)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"

G_BEGIN_DECLS

/* Tensors made by a graph remember where they come from. */
AneTensor *ane_tensor_new_symbolic (guint64         graph_uid,
                                    guint           node,
                                    guint           index,
                                    const char     *name,
                                    const AneSpec  *spec);
gboolean   ane_tensor_get_origin   (AneTensor      *self,
                                    guint64        *graph_uid,
                                    guint          *node,
                                    guint          *index);
/* The specs of a list of tensors by name: name -> AneSpec*. */
GHashTable *ane_tensor_specs_by_name (GPtrArray     *tensors);
void       ane_tensor_get_spec     (AneTensor      *self,
                                    AneSpec        *spec);
/* A value given for a declared slot (a source's value, a param, a run
 * input, a state) must hold data of exactly the declared spec. The format
 * names the slot in the error, e.g. "set_param: param 'w'"; it is only
 * expanded on failure, since run() checks every input on every call. */
gboolean   ane_tensor_check_spec   (AneTensor      *value,
                                    const AneSpec  *want,
                                    GError        **error,
                                    const char     *format,
                                    ...) G_GNUC_PRINTF (4, 5);

G_END_DECLS
