/* ane-json-private.h: checks on JSON text before json-glib parses it (internal)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

#include "ane-private.h"

G_BEGIN_DECLS

/* The deepest nesting of arrays and objects the library's JSON formats
 * accept. Theirs is at most 6 (a graph's node → attrs → an array of arrays);
 * json-glib parses recursively, one C stack frame per level at least, so a
 * file of a few hundred kilobytes of '[' overflows the stack. */
#define ANE_JSON_MAX_DEPTH 64

/* Scans @text (@length bytes, not NUL-terminated) for the nesting depth of
 * its arrays and objects, outside strings, and fails with ANE_ERROR_PARSE
 * naming @what (the file or part being read) and the byte offset (@offset is
 * where @text starts in it) when it passes @max_depth. Other malformations
 * are left to the parser. */
gboolean      ane_json_check_depth      (const char   *text,
                                         gsize         length,
                                         gsize         offset,
                                         guint         max_depth,
                                         const char   *what,
                                         GError      **error);

G_END_DECLS
