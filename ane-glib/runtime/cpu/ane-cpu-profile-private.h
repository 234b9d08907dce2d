/* runtime/cpu/ane-cpu-profile-private.h: where a CPU program's time goes
 *
 * ANE_CPU_PROFILE=1 in the environment makes every plan time each op it
 * runs and, when the plan is freed, print a table to stderr: per op type,
 * the calls, the total milliseconds and the share of the plan's time,
 * largest first. Off (the default) it costs one pointer test per op. It is
 * how the prompt's non-GEMM time was found (docs/cpu-backend.md).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AneCpuProfile AneCpuProfile;

/* A profile when ANE_CPU_PROFILE is set to something other than "0",
 * else NULL. */
AneCpuProfile *ane_cpu_profile_new_from_env (void);
/* A monotonic clock in nanoseconds. */
gint64         ane_cpu_profile_now          (void);
/* Adds one call of op_type that took ns; thread-safe. */
void           ane_cpu_profile_add          (AneCpuProfile *profile,
                                             const char    *op_type,
                                             gint64         ns);
/* Prints the table (when anything ran) and frees the profile. */
void           ane_cpu_profile_free         (AneCpuProfile *profile);

G_END_DECLS
