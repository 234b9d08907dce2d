/* ane-buffer.h: memory in a backend's own layout, bound to an executable's ports
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <glib-object.h>
#include "ane-types.h"
#include "ane-tensor.h"

G_BEGIN_DECLS

/**
 * AneBufferPort:
 * @ANE_BUFFER_PORT_INPUT: an input of the executable
 * @ANE_BUFFER_PORT_OUTPUT: an output of the executable
 * @ANE_BUFFER_PORT_STATE: a state of the executable (read and written by every run)
 *
 * The kind of port an [class@Ane.Buffer] was made for.
 *
 * Since: 0.2
 */
typedef enum
{
  ANE_BUFFER_PORT_INPUT,
  ANE_BUFFER_PORT_OUTPUT,
  ANE_BUFFER_PORT_STATE,
} AneBufferPort;

#define ANE_TYPE_BUFFER (ane_buffer_get_type ())

ANE_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (AneBuffer, ane_buffer, ANE, BUFFER, GObject)

ANE_AVAILABLE_IN_0_2
const char    *ane_buffer_get_name        (AneBuffer     *self);
ANE_AVAILABLE_IN_0_2
AneBufferPort  ane_buffer_get_port        (AneBuffer     *self);
ANE_AVAILABLE_IN_0_2
AneBackend     ane_buffer_get_backend     (AneBuffer     *self);
ANE_AVAILABLE_IN_0_2
AneDType       ane_buffer_get_dtype       (AneBuffer     *self);
ANE_AVAILABLE_IN_0_2
AneDType       ane_buffer_get_port_dtype  (AneBuffer     *self);
ANE_AVAILABLE_IN_0_2
const gint64  *ane_buffer_get_shape       (AneBuffer     *self,
                                           guint         *rank);
ANE_AVAILABLE_IN_0_2
const gint64  *ane_buffer_get_strides     (AneBuffer     *self,
                                           guint         *rank);
ANE_AVAILABLE_IN_0_2
gsize          ane_buffer_get_size        (AneBuffer     *self);
ANE_AVAILABLE_IN_0_2
gboolean       ane_buffer_is_surface      (AneBuffer     *self);
ANE_AVAILABLE_IN_0_2
gpointer       ane_buffer_lock            (AneBuffer     *self,
                                           gboolean       read_only,
                                           gsize         *size,
                                           GError       **error);
ANE_AVAILABLE_IN_0_2
void           ane_buffer_unlock          (AneBuffer     *self);
ANE_AVAILABLE_IN_0_2
gboolean       ane_buffer_write_tensor    (AneBuffer     *self,
                                           AneTensor     *tensor,
                                           GError       **error);
ANE_AVAILABLE_IN_0_2
AneTensor     *ane_buffer_dup_tensor      (AneBuffer     *self,
                                           GError       **error);
ANE_AVAILABLE_IN_0_2
gboolean       ane_buffer_clear           (AneBuffer     *self,
                                           GError       **error);

G_END_DECLS
