/* ane-version.c: the version of the library the program runs with
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-version.h"

/* The macros of ane-version.h are those of the headers a program was
 * compiled against; these functions answer for the library it is running
 * with, which differs when the program was built against other headers
 * (and is the only version a Python or Vala program can ask for: GI
 * bindings see no C macros but the constants' values at scan time). */

/**
 * ane_get_major_version:
 *
 * The major version of the ane-glib library running (%ANE_MAJOR_VERSION
 * of the headers it was built from).
 *
 * Returns: the major version
 *
 * Since: 0.2
 */
guint
ane_get_major_version (void)
{
  return ANE_MAJOR_VERSION;
}

/**
 * ane_get_minor_version:
 *
 * The minor version of the ane-glib library running (%ANE_MINOR_VERSION
 * of the headers it was built from).
 *
 * Returns: the minor version
 *
 * Since: 0.2
 */
guint
ane_get_minor_version (void)
{
  return ANE_MINOR_VERSION;
}

/**
 * ane_get_micro_version:
 *
 * The micro version of the ane-glib library running (%ANE_MICRO_VERSION
 * of the headers it was built from).
 *
 * Returns: the micro version
 *
 * Since: 0.2
 */
guint
ane_get_micro_version (void)
{
  return ANE_MICRO_VERSION;
}
