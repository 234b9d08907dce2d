/* ane-progress-private.h: how the library moves an AneProgress on
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-progress.h"

G_BEGIN_DECLS

/* The stage names the library reports (docs/progress.md lists them). */
#define ANE_PROGRESS_STAGE_LOWERING        "lowering"
#define ANE_PROGRESS_STAGE_WRITING_WEIGHTS "writing weights"
#define ANE_PROGRESS_STAGE_COPYING         "copying"
#define ANE_PROGRESS_STAGE_WRITING_MODEL   "writing model"
#define ANE_PROGRESS_STAGE_LOADING         "loading"
#define ANE_PROGRESS_STAGE_COMPILING       "compiling"
#define ANE_PROGRESS_STAGE_GENERATING      "generating"
#define ANE_PROGRESS_STAGE_TRAINING        "training"

/* Every function here accepts a NULL progress (nothing reported, never
 * cancelled), so the work's code needs no branches. */

/* A new operation starts: the fraction goes back to 0 (without a report). */
void          ane_progress_begin       (AneProgress  *self);
/* Moves on to fraction (kept within [the last fraction, 1), so reports
 * never go back and only ane_progress_finish says 1.0) in stage (a string
 * literal: getters hand it to other threads without a copy), with
 * bytes_done of bytes_total (0 when unknown); calls the callback, then
 * fails with G_IO_ERROR_CANCELLED if the progress was cancelled. */
gboolean      ane_progress_report      (AneProgress  *self,
                                        const char   *stage,
                                        double        fraction,
                                        guint64       bytes_done,
                                        guint64       bytes_total,
                                        GError      **error);
/* The same without a report: only whether the work must stop. */
gboolean      ane_progress_check       (AneProgress  *self,
                                        GError      **error);
/* The operation succeeded: fraction 1.0 (bytes_done = bytes_total),
 * reported once. */
void          ane_progress_finish      (AneProgress  *self);
/* The progress's cancellable, or NULL for a NULL progress. */
GCancellable *ane_progress_cancellable (AneProgress  *self);

G_END_DECLS
