/* ane-compute-plan.h: CoreML's per-operation device plan (MLComputePlan)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "ane-version.h"
#include "ane-types.h"

G_BEGIN_DECLS

#define ANE_TYPE_COMPUTE_PLAN (ane_compute_plan_get_type ())

ANE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AneComputePlan, ane_compute_plan, ANE, COMPUTE_PLAN, GObject)

ANE_AVAILABLE_IN_ALL
AneComputePlan  *ane_compute_plan_new_for_package         (const char          *path,
                                                           AneComputeUnits      units,
                                                           GCancellable        *cancellable,
                                                           GError             **error);
ANE_AVAILABLE_IN_ALL
void             ane_compute_plan_new_for_package_async   (const char          *path,
                                                           AneComputeUnits      units,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
ANE_AVAILABLE_IN_ALL
AneComputePlan  *ane_compute_plan_new_for_package_finish  (GAsyncResult        *result,
                                                           GError             **error);

ANE_AVAILABLE_IN_ALL
AneComputeUnits  ane_compute_plan_get_compute_units       (AneComputePlan      *self);
ANE_AVAILABLE_IN_ALL
guint            ane_compute_plan_get_n_operations        (AneComputePlan      *self);
ANE_AVAILABLE_IN_ALL
const char      *ane_compute_plan_get_function            (AneComputePlan      *self,
                                                           guint                index);
ANE_AVAILABLE_IN_ALL
const char      *ane_compute_plan_get_operator_name       (AneComputePlan      *self,
                                                           guint                index);
ANE_AVAILABLE_IN_ALL
const char      *ane_compute_plan_get_output_name         (AneComputePlan      *self,
                                                           guint                index);
ANE_AVAILABLE_IN_ALL
guint            ane_compute_plan_get_depth               (AneComputePlan      *self,
                                                           guint                index);
ANE_AVAILABLE_IN_ALL
AneComputeDevice ane_compute_plan_get_preferred_device    (AneComputePlan      *self,
                                                           guint                index);
ANE_AVAILABLE_IN_ALL
AneComputeDevice ane_compute_plan_get_supported_devices   (AneComputePlan      *self,
                                                           guint                index);
ANE_AVAILABLE_IN_ALL
double           ane_compute_plan_get_cost                (AneComputePlan      *self,
                                                           guint                index);
ANE_AVAILABLE_IN_ALL
char            *ane_compute_plan_to_string               (AneComputePlan      *self);

G_END_DECLS
