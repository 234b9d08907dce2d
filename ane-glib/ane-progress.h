/* ane-progress.h: how far long work has come, and a way to cancel it
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "ane-version.h"

G_BEGIN_DECLS

#define ANE_TYPE_PROGRESS (ane_progress_get_type ())

ANE_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (AneProgress, ane_progress, ANE, PROGRESS, GObject)

/**
 * AneProgressFunc:
 * @progress: the progress that changed
 * @user_data: the data given to [ctor@Ane.Progress.new]
 *
 * Called each time @progress moves on, in the thread doing the work. Read
 * the new state with [method@Ane.Progress.get_fraction],
 * [method@Ane.Progress.get_stage] and the byte counts; cancel with
 * [method@Ane.Progress.cancel].
 *
 * Since: 0.2
 */
typedef void (*AneProgressFunc) (AneProgress *progress,
                                 gpointer     user_data);

ANE_AVAILABLE_IN_0_2
AneProgress  *ane_progress_new             (AneProgressFunc  callback,
                                            gpointer         user_data,
                                            GDestroyNotify   destroy);
ANE_AVAILABLE_IN_0_2
double        ane_progress_get_fraction    (AneProgress     *self);
ANE_AVAILABLE_IN_0_2
const char   *ane_progress_get_stage       (AneProgress     *self);
ANE_AVAILABLE_IN_0_2
guint64       ane_progress_get_bytes_done  (AneProgress     *self);
ANE_AVAILABLE_IN_0_2
guint64       ane_progress_get_bytes_total (AneProgress     *self);
ANE_AVAILABLE_IN_0_2
GCancellable *ane_progress_get_cancellable (AneProgress     *self);
ANE_AVAILABLE_IN_0_2
void          ane_progress_cancel          (AneProgress     *self);

G_END_DECLS
