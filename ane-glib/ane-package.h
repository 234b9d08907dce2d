/* ane-package.h: a CoreML .mlpackage bundle, loaded and checked, or made from a graph
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
#include "ane-progress.h"
#include "ane-mil-dialect.h"

G_BEGIN_DECLS

#define ANE_TYPE_PACKAGE (ane_package_get_type ())

ANE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AnePackage, ane_package, ANE, PACKAGE, GObject)

ANE_AVAILABLE_IN_ALL
AnePackage  *ane_package_load                  (const char          *path,
                                                GError             **error);
ANE_AVAILABLE_IN_0_2
AnePackage  *ane_package_load_full             (const char          *path,
                                                AneProgress         *progress,
                                                GError             **error);
ANE_AVAILABLE_IN_ALL
void         ane_package_load_async            (const char          *path,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
ANE_AVAILABLE_IN_ALL
AnePackage  *ane_package_load_finish           (GAsyncResult        *result,
                                                GError             **error);
ANE_AVAILABLE_IN_ALL
AnePackage  *ane_package_new_from_graph        (AneGraph            *graph,
                                                AneTarget            target,
                                                AnePrecision         precision,
                                                GError             **error);
ANE_AVAILABLE_IN_0_2
AnePackage  *ane_package_new_from_graph_full   (AneGraph            *graph,
                                                AneTarget            target,
                                                AnePrecision         precision,
                                                AneProgress         *progress,
                                                GError             **error);
ANE_AVAILABLE_IN_0_2
AnePackage  *ane_package_new_from_graph_with_lowering (AneGraph      *graph,
                                                       AneTarget      target,
                                                       AnePrecision   precision,
                                                       AneLowering    lowering,
                                                       AneProgress   *progress,
                                                       GError       **error);
ANE_AVAILABLE_IN_0_2
void         ane_package_new_from_graph_async  (AneGraph            *graph,
                                                AneTarget            target,
                                                AnePrecision         precision,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
ANE_AVAILABLE_IN_0_2
AnePackage  *ane_package_new_from_graph_finish (GAsyncResult        *result,
                                                GError             **error);
ANE_AVAILABLE_IN_0_2
AnePackage  *ane_package_new_from_graphs       (const char * const  *names,
                                                AneGraph * const    *graphs,
                                                guint                n_graphs,
                                                AneTarget            target,
                                                AnePrecision         precision,
                                                GError             **error);
ANE_AVAILABLE_IN_0_2
void         ane_package_new_from_graphs_async (const char * const  *names,
                                                AneGraph * const    *graphs,
                                                guint                n_graphs,
                                                AneTarget            target,
                                                AnePrecision         precision,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
ANE_AVAILABLE_IN_0_2
AnePackage  *ane_package_new_from_graphs_finish (GAsyncResult       *result,
                                                 GError            **error);

ANE_AVAILABLE_IN_ALL
const char  *ane_package_get_path              (AnePackage          *self);
ANE_AVAILABLE_IN_ALL
int          ane_package_get_specification_version (AnePackage      *self);
ANE_AVAILABLE_IN_ALL
char       **ane_package_list_functions        (AnePackage          *self);
ANE_AVAILABLE_IN_ALL
const char  *ane_package_get_default_function  (AnePackage          *self);
ANE_AVAILABLE_IN_ALL
const char  *ane_package_get_opset             (AnePackage          *self,
                                                const char          *function,
                                                GError             **error);
ANE_AVAILABLE_IN_ALL
GPtrArray   *ane_package_list_inputs           (AnePackage          *self,
                                                const char          *function,
                                                GError             **error);
ANE_AVAILABLE_IN_ALL
GPtrArray   *ane_package_list_outputs          (AnePackage          *self,
                                                const char          *function,
                                                GError             **error);
ANE_AVAILABLE_IN_ALL
GPtrArray   *ane_package_list_states           (AnePackage          *self,
                                                const char          *function,
                                                GError             **error);
ANE_AVAILABLE_IN_ALL
GHashTable  *ane_package_op_histogram          (AnePackage          *self,
                                                const char          *function,
                                                GError             **error);
ANE_AVAILABLE_IN_ALL
guint64      ane_package_get_weight_bytes      (AnePackage          *self);
ANE_AVAILABLE_IN_ALL
gboolean     ane_package_check_limits          (AnePackage          *self,
                                                GError             **error);
ANE_AVAILABLE_IN_ALL
char       **ane_package_dup_warnings          (AnePackage          *self);
ANE_AVAILABLE_IN_ALL
char       **ane_package_check_types           (AnePackage          *self,
                                                char              ***unchecked);
ANE_AVAILABLE_IN_ALL
GHashTable  *ane_package_dup_metadata          (AnePackage          *self);
ANE_AVAILABLE_IN_0_2
const char  *ane_package_get_author            (AnePackage          *self);
ANE_AVAILABLE_IN_0_2
const char  *ane_package_get_license           (AnePackage          *self);
ANE_AVAILABLE_IN_0_2
const char  *ane_package_get_short_description (AnePackage          *self);
ANE_AVAILABLE_IN_0_2
const char  *ane_package_get_version_string    (AnePackage          *self);
ANE_AVAILABLE_IN_ALL
char        *ane_package_to_string             (AnePackage          *self);

ANE_AVAILABLE_IN_ALL
gboolean     ane_package_save                  (AnePackage          *self,
                                                const char          *path,
                                                gboolean             overwrite,
                                                GError             **error);
ANE_AVAILABLE_IN_0_2
gboolean     ane_package_save_full             (AnePackage          *self,
                                                const char          *path,
                                                gboolean             overwrite,
                                                AneProgress         *progress,
                                                GError             **error);
ANE_AVAILABLE_IN_ALL
void         ane_package_save_async            (AnePackage          *self,
                                                const char          *path,
                                                gboolean             overwrite,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
ANE_AVAILABLE_IN_ALL
gboolean     ane_package_save_finish           (AnePackage          *self,
                                                GAsyncResult        *result,
                                                GError             **error);

ANE_AVAILABLE_IN_ALL
char       **ane_package_dup_weight_report     (AnePackage          *self);
ANE_AVAILABLE_IN_ALL
char        *ane_package_to_mil_text           (AnePackage          *self,
                                                GError             **error);
ANE_AVAILABLE_IN_ALL
gboolean     ane_package_save_mil              (AnePackage          *self,
                                                const char          *path,
                                                gboolean             overwrite,
                                                GError             **error);
ANE_AVAILABLE_IN_0_2
char        *ane_package_to_mil_text_for_dialect (AnePackage        *self,
                                                  AneMilDialect     *dialect,
                                                  GError           **error);
ANE_AVAILABLE_IN_0_2
gboolean     ane_package_save_mil_for_dialect  (AnePackage          *self,
                                                const char          *path,
                                                gboolean             overwrite,
                                                AneMilDialect       *dialect,
                                                GError             **error);
ANE_AVAILABLE_IN_ALL
AnePackage  *ane_package_load_mil              (const char          *path,
                                                GError             **error);

G_END_DECLS
