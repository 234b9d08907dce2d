/* too-new-api.c: compiled by the install test with
 * -DANE_VERSION_MAX_ALLOWED=ANE_VERSION_0_1 -Werror=deprecated-declarations,
 * which must fail: ane_get_major_version is ANE_AVAILABLE_IN_0_2, and a
 * program that asks for the 0.1 API must be told it uses something newer.
 * Compiled without the define it must build.
 *
 * SPDX-License-Identifier: MIT
 */
#include <ane-glib/ane-glib.h>

int
main (void)
{
  return ane_get_major_version () == ANE_MAJOR_VERSION ? 0 : 1;
}
