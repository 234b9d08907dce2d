/* ane-mil-dialect.h: the buildInfo the Neural Engine's private path is handed
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

#define ANE_TYPE_MIL_DIALECT (ane_mil_dialect_get_type ())

typedef struct _AneMilDialect AneMilDialect;

ANE_AVAILABLE_IN_0_2
GType          ane_mil_dialect_get_type        (void) G_GNUC_CONST;
ANE_AVAILABLE_IN_0_2
AneMilDialect *ane_mil_dialect_new             (void);
ANE_AVAILABLE_IN_0_2
AneMilDialect *ane_mil_dialect_new_empty       (void);
ANE_AVAILABLE_IN_0_2
AneMilDialect *ane_mil_dialect_ref             (AneMilDialect  *self);
ANE_AVAILABLE_IN_0_2
void           ane_mil_dialect_unref           (AneMilDialect  *self);
ANE_AVAILABLE_IN_0_2
AneMilDialect *ane_mil_dialect_copy            (AneMilDialect  *self);
ANE_AVAILABLE_IN_0_2
gboolean       ane_mil_dialect_set_build_info  (AneMilDialect  *self,
                                                const char     *key,
                                                const char     *value,
                                                GError        **error);
ANE_AVAILABLE_IN_0_2
const char    *ane_mil_dialect_get_build_info  (AneMilDialect  *self,
                                                const char     *key);
ANE_AVAILABLE_IN_0_2
char         **ane_mil_dialect_dup_build_info_keys (AneMilDialect *self);
ANE_AVAILABLE_IN_0_2
gboolean       ane_mil_dialect_parse_assignment (AneMilDialect *self,
                                                 const char    *assignment,
                                                 GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilDialect, ane_mil_dialect_unref)

G_END_DECLS
