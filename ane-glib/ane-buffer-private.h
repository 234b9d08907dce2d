/* ane-buffer-private.h: AneBuffer's internals, for the executable and the
 * backends that take buffers (cpu, ane)
 *
 * A buffer is made from a layout a backend's program describes for one of
 * its ports (AneProgramClass.buffer_layout); it remembers the executable
 * (by serial number, never by pointer: a buffer outlives nothing it does
 * not own) and the backend, so a binding can refuse a buffer from
 * elsewhere.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "ane-buffer.h"
#include "runtime/ane/ane-ane-private.h"

G_BEGIN_DECLS

/* Where a buffer's bytes live and how they are laid out. */
typedef struct
{
  AneBufferPort  port;
  AneDType       port_dtype;   /* the port's declared dtype */
  AneDType       dtype;        /* the element type in memory */
  guint          rank;
  gint64         shape[ANE_MAX_RANK];
  gint64         strides[ANE_MAX_RANK];   /* bytes */
  gsize          size;         /* bytes */
  /* Non-NULL: IOSurfaces made through this runtime table (the private ANE
   * path), laid out as surface says; else 64-byte aligned host memory. */
  const AneAneRuntime *runtime;
  AneAneSurfaceLayout  surface;
} AneBufferLayout;

/* The alignment of host buffers: a cache line, and the ANE's row unit. */
#define ANE_BUFFER_HOST_ALIGN 64

/* A zeroed buffer of that layout; owner is the executable's serial number.
 * ANE_ERROR_FAILED when a surface cannot be made. */
AneBuffer *ane_buffer_new_for_layout (guint64                owner,
                                      AneBackend             backend,
                                      const char            *name,
                                      const AneBufferLayout *layout,
                                      GError               **error);
const AneBufferLayout *ane_buffer_get_layout (AneBuffer *self);
guint64    ane_buffer_get_owner     (AneBuffer     *self);
/* TRUE when layouts hold the same bytes the same way (kind aside). */
gboolean   ane_buffer_layout_equal  (const AneBufferLayout *a,
                                     const AneBufferLayout *b);
/* Host memory (CPU buffers only). */
gpointer   ane_buffer_get_memory    (AneBuffer     *self);
/* The surface a run reads (current) or, for a state, writes (next). A
 * state's buffer on the ANE holds two surfaces and swaps them after every
 * successful run: the program reads one and writes the other. */
AneSurfaceRef ane_buffer_get_surface (AneBuffer    *self,
                                      gboolean      next);
void       ane_buffer_swap          (AneBuffer     *self);
/* Whether a caller holds the buffer locked (a run refuses it then). */
gboolean   ane_buffer_is_locked     (AneBuffer     *self);

G_END_DECLS
