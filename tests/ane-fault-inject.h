/* ane-fault-inject.h: failing the N-th write, fsync, rename or close
 *
 * ane-fault-inject.c defines write(), pwrite(), fsync(), rename(), close()
 * and their relatives in the test executable itself. The executable's
 * definitions come first in symbol lookup, so they stand in for the C
 * library's everywhere in the process: in the library's objects linked into
 * the test and in GLib (the same interposition an LD_PRELOAD shim gets,
 * without the environment variable). Each passes through to the C
 * library's function (dlsym RTLD_NEXT) unless armed for it.
 *
 * Linux only: a descriptor's path is read from /proc/self/fd.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  ANE_FAULT_WRITE  = 1 << 0,   /* write, pwrite, pwrite64, copy_file_range, splice */
  ANE_FAULT_FSYNC  = 1 << 1,   /* fsync, fdatasync */
  ANE_FAULT_RENAME = 1 << 2,   /* rename, renameat, renameat2 */
  ANE_FAULT_CLOSE  = 1 << 3,   /* close */
  ANE_FAULT_ALL    = 0xf,
} AneFaultKind;

/* From now on, counts the calls of @kinds that touch @dir or a path under
 * it (for a rename, either path), and makes the @n-th (from 1) fail with
 * @errsv without doing anything, except close(), which closes and then
 * reports @errsv as Linux does. @n = 0 only counts. */
void         ane_fault_arm         (const char    *dir,
                                    guint          kinds,
                                    guint          n,
                                    int            errsv);
/* Every counted call sleeps this long first (0: none), armed or not. */
void         ane_fault_set_delay   (guint          usec);
/* Stops counting; returns the number of calls counted. */
guint        ane_fault_disarm      (void);

/* Whether the armed failure happened, and on what: the kind, the path
 * (for a rename, the source), whether it was a directory and whether the
 * descriptor was open read-only (close, fsync). */
typedef struct {
  AneFaultKind kind;
  char         path[4096];
  gboolean     is_dir;
  gboolean     read_only;
} AneFaultHit;

gboolean     ane_fault_fired       (AneFaultHit   *hit);
const char  *ane_fault_kind_name   (AneFaultKind   kind);

G_END_DECLS
