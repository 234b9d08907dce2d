/* runtime/cpu/ane-cpu-arena-private.h: a plan's storage for the values of its runs
 *
 * Issue 15, item 4: a run makes a value for every op output and frees it
 * after its last reader; a decode step does it hundreds of times per token,
 * with the same sizes every time. The arena keeps the storage a run frees,
 * by element count, and hands it to the next value of that count (of this
 * run or a later one), zeroed as ane_cpu_value_new makes it: after the first
 * run no intermediate is allocated. It holds at most what runs had live at
 * once (a buffer comes back only after it was taken) and never more than
 * ANE_CPU_ARENA_MAX_BYTES. Values handed to the caller keep their storage,
 * which is plain g_malloc memory and leaves the arena with them. Runs of one
 * plan may overlap on several threads: take and give hold a mutex.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "runtime/cpu/ane-cpu-private.h"

G_BEGIN_DECLS

#define ANE_CPU_ARENA_MAX_BYTES ((gsize) 1 << 30)

typedef struct _AneCpuArena AneCpuArena;

AneCpuArena *ane_cpu_arena_new        (void);
void         ane_cpu_arena_free       (AneCpuArena  *arena);
/* A value of dtype and shape as ane_cpu_value_new makes it (zeroed), its
 * storage from the arena when it holds a buffer of that many elements. */
AneCpuValue *ane_cpu_arena_value_new  (AneCpuArena  *arena,
                                       AneDType      dtype,
                                       const gint64 *shape,
                                       guint         rank);
/* Frees v, keeping its storage when v owns plain storage (not borrowed, a
 * view or packed) and the arena has room; ane_cpu_value_free otherwise. */
void         ane_cpu_arena_value_free (AneCpuArena  *arena,
                                       AneCpuValue  *v);
/* Test hooks: values whose storage came from the arena so far, values
 * whose storage was allocated, and the bytes the arena holds. */
guint64      ane_cpu_arena_get_reused    (AneCpuArena  *arena);
guint64      ane_cpu_arena_get_allocated (AneCpuArena  *arena);
gsize        ane_cpu_arena_get_held      (AneCpuArena  *arena);

G_END_DECLS
