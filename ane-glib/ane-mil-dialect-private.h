/* ane-mil-dialect-private.h: AneMilDialect's insides, and the printing of a
 * program's MIL text in a dialect
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "mil/ane-coreml-proto-private.h"

G_BEGIN_DECLS

struct _AneMilDialect
{
  gatomicrefcount  ref;
  GPtrArray       *keys;     /* char *, in the order they are printed */
  GPtrArray       *values;   /* char *, one per key */
  GHashTable      *removed;  /* keys set to NULL: dropped from a program's own pairs too */
};

/* The dialect the ANE backend uses when the executable was given none (a
 * shared instance of ane_mil_dialect_new (); transfer none). */
AneMilDialect *ane_mil_dialect_get_default (void);

/* The program's MIL text (program(1.3) spelling) with its buildInfo
 * dictionary merged with the dialect's: the dialect's pairs in its order,
 * then the program's own pairs that the dialect neither sets nor removes,
 * in their order (none left: no buildInfo). The program is not changed. NULL dialect: as
 * ane_mil_text_print(). */
char          *ane_mil_dialect_print (AneMilDialect       *dialect,
                                      const AneMilProgram *program,
                                      GError             **error);

G_END_DECLS
