/* ane-tensor.h: a named, typed, shaped value
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <glib-object.h>
#include "ane-types.h"

G_BEGIN_DECLS

#define ANE_TYPE_TENSOR (ane_tensor_get_type ())

ANE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AneTensor, ane_tensor, ANE, TENSOR, GObject)

ANE_AVAILABLE_IN_ALL
AneTensor    *ane_tensor_new              (const char    *name,
                                           AneDType       dtype,
                                           const gint64  *shape,
                                           guint          rank,
                                           GError       **error);
ANE_AVAILABLE_IN_ALL
AneTensor    *ane_tensor_new_from_bytes   (const char    *name,
                                           AneDType       dtype,
                                           const gint64  *shape,
                                           guint          rank,
                                           GBytes        *data,
                                           GError       **error);
ANE_AVAILABLE_IN_ALL
AneTensor    *ane_tensor_new_from_floats  (const char    *name,
                                           const gint64  *shape,
                                           guint          rank,
                                           const float   *values,
                                           gsize          n_values,
                                           GError       **error);
ANE_AVAILABLE_IN_ALL
AneTensor    *ane_tensor_new_from_ints    (const char    *name,
                                           const gint64  *shape,
                                           guint          rank,
                                           const gint32  *values,
                                           gsize          n_values,
                                           GError       **error);
ANE_AVAILABLE_IN_ALL
AneTensor    *ane_tensor_new_zeros        (const char    *name,
                                           AneDType       dtype,
                                           const gint64  *shape,
                                           guint          rank,
                                           GError       **error);
ANE_AVAILABLE_IN_ALL
AneTensor    *ane_tensor_new_scalar       (const char    *name,
                                           AneDType       dtype,
                                           double         value,
                                           GError       **error);

ANE_AVAILABLE_IN_ALL
const char   *ane_tensor_get_name         (AneTensor     *self);
ANE_AVAILABLE_IN_ALL
AneDType      ane_tensor_get_dtype        (AneTensor     *self);
ANE_AVAILABLE_IN_ALL
guint         ane_tensor_get_rank         (AneTensor     *self);
ANE_AVAILABLE_IN_ALL
const gint64 *ane_tensor_get_shape        (AneTensor     *self,
                                           guint         *rank);
ANE_AVAILABLE_IN_ALL
gint64        ane_tensor_get_dim          (AneTensor     *self,
                                           int            axis);
ANE_AVAILABLE_IN_ALL
gint64        ane_tensor_get_n_elements   (AneTensor     *self);
ANE_AVAILABLE_IN_ALL
gsize         ane_tensor_get_n_bytes      (AneTensor     *self);
ANE_AVAILABLE_IN_ALL
gboolean      ane_tensor_has_data         (AneTensor     *self);
ANE_AVAILABLE_IN_ALL
GBytes       *ane_tensor_get_data         (AneTensor     *self);
ANE_AVAILABLE_IN_ALL
float        *ane_tensor_dup_floats       (AneTensor     *self,
                                           gsize         *n_values,
                                           GError       **error);
ANE_AVAILABLE_IN_ALL
double        ane_tensor_get_value        (AneTensor     *self,
                                           gint64         index);
ANE_AVAILABLE_IN_ALL
char         *ane_tensor_to_string        (AneTensor     *self);
ANE_AVAILABLE_IN_ALL
AneTensor    *ane_tensor_rename           (AneTensor     *self,
                                           const char    *name);
ANE_AVAILABLE_IN_ALL
AneTensor    *ane_tensor_convert          (AneTensor     *self,
                                           AneDType       dtype,
                                           GError       **error);

G_END_DECLS
