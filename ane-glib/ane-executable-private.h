/* ane-executable-private.h: what tests read of an executable's insides
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "ane-executable.h"

G_BEGIN_DECLS

/* Bytes the executable's runs copied between the caller's tensors and the
 * backend's own memory so far: inputs converted or packed into surfaces,
 * outputs converted or unpacked, states in and out (AneProgram.copied, and
 * states of the tensor path moved through bound buffers). A run on bound
 * buffers adds nothing; tests count with it. */
guint64 ane_executable_get_copied (AneExecutable *self);
/* The same, summed over every executable freed so far in the process: what
 * code that makes and frees its own executables (generation) copied. */
guint64 ane_executable_get_finished_copied (void);
/* Test hook: how many times a backend prepared (lowered, compiled, loaded)
 * a program for this executable. */
guint   ane_executable_get_n_prepared (AneExecutable *self);

G_END_DECLS
