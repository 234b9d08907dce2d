/* ane-executable.h: a compiled graph, bound to a backend
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "ane-types.h"
#include "ane-tensor.h"
#include "ane-graph.h"
#include "ane-package.h"
#include "ane-progress.h"
#include "ane-buffer.h"

G_BEGIN_DECLS

#define ANE_TYPE_EXECUTABLE (ane_executable_get_type ())

ANE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AneExecutable, ane_executable, ANE, EXECUTABLE, GObject)

ANE_AVAILABLE_IN_ALL
AneExecutable *ane_executable_new          (AneGraph       *graph,
                                            AneBackend      backend);
ANE_AVAILABLE_IN_ALL
AneExecutable *ane_executable_new_from_package (AnePackage   *package,
                                                const char   *function,
                                                GError      **error);
ANE_AVAILABLE_IN_ALL
AneExecutable *ane_executable_new_from_package_full (AnePackage  *package,
                                                     const char  *function,
                                                     AneBackend   backend,
                                                     GError     **error);
ANE_AVAILABLE_IN_ALL
AneGraph      *ane_executable_get_graph    (AneExecutable  *self);
ANE_AVAILABLE_IN_ALL
AneBackend     ane_executable_get_backend  (AneExecutable  *self);
ANE_AVAILABLE_IN_ALL
char          *ane_executable_dup_backend_report (AneExecutable *self);
ANE_AVAILABLE_IN_ALL
gboolean       ane_executable_is_compiled  (AneExecutable  *self);
ANE_AVAILABLE_IN_ALL
void           ane_executable_set_target   (AneExecutable  *self,
                                            AneTarget       target);
ANE_AVAILABLE_IN_0_2
AneTarget      ane_executable_get_target   (AneExecutable  *self);
ANE_AVAILABLE_IN_0_2
void           ane_executable_set_mil_dialect (AneExecutable *self,
                                               AneMilDialect *dialect);
ANE_AVAILABLE_IN_0_2
AneMilDialect *ane_executable_dup_mil_dialect (AneExecutable *self);
ANE_AVAILABLE_IN_ALL
void           ane_executable_set_precision (AneExecutable *self,
                                             AnePrecision   precision);
ANE_AVAILABLE_IN_0_2
AnePrecision   ane_executable_get_precision (AneExecutable *self);
ANE_AVAILABLE_IN_ALL
void           ane_executable_set_compute_units (AneExecutable   *self,
                                                 AneComputeUnits  units);
ANE_AVAILABLE_IN_0_2
AneComputeUnits ane_executable_get_compute_units (AneExecutable *self);
ANE_AVAILABLE_IN_ALL
guint64        ane_executable_default_memory_budget (void);
ANE_AVAILABLE_IN_ALL
void           ane_executable_set_memory_budget (AneExecutable *self,
                                                 guint64        bytes);
ANE_AVAILABLE_IN_ALL
guint64        ane_executable_get_memory_budget (AneExecutable *self);
ANE_AVAILABLE_IN_0_2
void           ane_executable_set_quantize_activations (AneExecutable *self,
                                                        gboolean       quantize);
ANE_AVAILABLE_IN_0_2
gboolean       ane_executable_get_quantize_activations (AneExecutable *self);
ANE_AVAILABLE_IN_ALL
void           ane_executable_set_debug_nonfinite (AneExecutable *self,
                                                   gboolean       enabled);
ANE_AVAILABLE_IN_ALL
gboolean       ane_executable_compile      (AneExecutable  *self,
                                            GCancellable   *cancellable,
                                            GError        **error);
ANE_AVAILABLE_IN_0_2
gboolean       ane_executable_compile_full (AneExecutable  *self,
                                            AneProgress    *progress,
                                            GError        **error);
ANE_AVAILABLE_IN_ALL
void           ane_executable_compile_async (AneExecutable      *self,
                                             GCancellable       *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer            user_data);
ANE_AVAILABLE_IN_ALL
gboolean       ane_executable_compile_finish (AneExecutable  *self,
                                              GAsyncResult   *result,
                                              GError        **error);
ANE_AVAILABLE_IN_ALL
gboolean       ane_executable_set_param    (AneExecutable  *self,
                                            const char     *name,
                                            AneTensor      *value,
                                            GError        **error);
ANE_AVAILABLE_IN_ALL
gboolean       ane_executable_set_param_typed (AneExecutable *self,
                                               const char    *name,
                                               AneDType       dtype,
                                               GBytes        *data,
                                               GError       **error);
ANE_AVAILABLE_IN_ALL
GPtrArray     *ane_executable_run          (AneExecutable  *self,
                                            AneTensor     **inputs,
                                            guint           n_inputs,
                                            GCancellable   *cancellable,
                                            GError        **error);
ANE_AVAILABLE_IN_ALL
void           ane_executable_run_async    (AneExecutable      *self,
                                            AneTensor         **inputs,
                                            guint               n_inputs,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
ANE_AVAILABLE_IN_ALL
GPtrArray     *ane_executable_run_finish   (AneExecutable  *self,
                                            GAsyncResult   *result,
                                            GError        **error);
ANE_AVAILABLE_IN_ALL
AneTensor     *ane_executable_run_one      (AneExecutable  *self,
                                            AneTensor      *input,
                                            GError        **error);
ANE_AVAILABLE_IN_ALL
AneTensor     *ane_executable_dup_state    (AneExecutable  *self,
                                            const char     *name,
                                            GError        **error);
ANE_AVAILABLE_IN_ALL
gboolean       ane_executable_set_state    (AneExecutable  *self,
                                            const char     *name,
                                            AneTensor      *value,
                                            GError        **error);
ANE_AVAILABLE_IN_ALL
void           ane_executable_reset_states (AneExecutable  *self);
ANE_AVAILABLE_IN_0_2
AneBuffer     *ane_executable_new_buffer   (AneExecutable  *self,
                                            const char     *name,
                                            GError        **error);
ANE_AVAILABLE_IN_0_2
gboolean       ane_executable_bind         (AneExecutable  *self,
                                            const char     *name,
                                            AneBuffer      *buffer,
                                            GError        **error);
ANE_AVAILABLE_IN_0_2
gboolean       ane_executable_run_bound    (AneExecutable  *self,
                                            GCancellable   *cancellable,
                                            GError        **error);
ANE_AVAILABLE_IN_0_2
gboolean       ane_executable_load         (AneExecutable  *self,
                                            GCancellable   *cancellable,
                                            GError        **error);
ANE_AVAILABLE_IN_0_2
void           ane_executable_unload       (AneExecutable  *self);
ANE_AVAILABLE_IN_0_2
gboolean       ane_executable_is_loaded    (AneExecutable  *self);

G_END_DECLS
