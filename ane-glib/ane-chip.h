/* ane-chip.h: what this machine offers (chip, OS, Neural Engine)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <glib-object.h>
#include "ane-version.h"

G_BEGIN_DECLS

#define ANE_TYPE_CHIP_INFO (ane_chip_info_get_type ())

ANE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AneChipInfo, ane_chip_info, ANE, CHIP_INFO, GObject)

ANE_AVAILABLE_IN_ALL
AneChipInfo *ane_chip_info                (void);
ANE_AVAILABLE_IN_ALL
gboolean     ane_available                (void);

ANE_AVAILABLE_IN_ALL
const char  *ane_chip_info_get_name       (AneChipInfo *self);
ANE_AVAILABLE_IN_ALL
gboolean     ane_chip_info_get_is_apple   (AneChipInfo *self);
ANE_AVAILABLE_IN_ALL
gboolean     ane_chip_info_get_has_ane    (AneChipInfo *self);
ANE_AVAILABLE_IN_ALL
int          ane_chip_info_get_ane_cores  (AneChipInfo *self);
ANE_AVAILABLE_IN_ALL
const char  *ane_chip_info_get_machine    (AneChipInfo *self);
ANE_AVAILABLE_IN_ALL
const char  *ane_chip_info_get_os_name    (AneChipInfo *self);
ANE_AVAILABLE_IN_ALL
const char  *ane_chip_info_get_os_version (AneChipInfo *self);
ANE_AVAILABLE_IN_ALL
char        *ane_chip_info_dup_report     (AneChipInfo *self);

G_END_DECLS
