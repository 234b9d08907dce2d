/* ane-threads.h: how many threads the CPU backend computes with
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <glib.h>
#include "ane-version.h"

G_BEGIN_DECLS

ANE_AVAILABLE_IN_0_2
void  ane_set_num_threads (guint n_threads);
ANE_AVAILABLE_IN_0_2
guint ane_get_num_threads (void);

G_END_DECLS
