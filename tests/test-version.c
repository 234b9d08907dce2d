/* test-version.c: ane-version.h is generated from meson.build's project
 * version, and the run-time getters agree with it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdlib.h>

#include "ane-test-util.h"

/* PACKAGE_VERSION (config.h) is meson.project_version(): the version the
 * header's numbers must have been made from. */
static void
test_macros_match_project (void)
{
  g_auto(GStrv) parts = g_strsplit (PACKAGE_VERSION, ".", -1);

  g_assert_cmpuint (g_strv_length (parts), ==, 3);
  g_assert_cmpint (ANE_MAJOR_VERSION, ==, atoi (parts[0]));
  g_assert_cmpint (ANE_MINOR_VERSION, ==, atoi (parts[1]));
  g_assert_cmpint (ANE_MICRO_VERSION, ==, atoi (parts[2]));
}

static void
test_getters_match_macros (void)
{
  g_assert_cmpuint (ane_get_major_version (), ==, ANE_MAJOR_VERSION);
  g_assert_cmpuint (ane_get_minor_version (), ==, ANE_MINOR_VERSION);
  g_assert_cmpuint (ane_get_micro_version (), ==, ANE_MICRO_VERSION);
}

static void
test_check_version (void)
{
  const int major = ANE_MAJOR_VERSION, minor = ANE_MINOR_VERSION, micro = ANE_MICRO_VERSION;

  g_assert_true (ANE_CHECK_VERSION (major, minor, micro));
  g_assert_true (ANE_CHECK_VERSION (0, 0, 0));
  g_assert_false (ANE_CHECK_VERSION (major, minor, micro + 1));
  g_assert_false (ANE_CHECK_VERSION (major, minor + 1, 0));
  g_assert_false (ANE_CHECK_VERSION (major + 1, 0, 0));
  if (micro > 0)
    g_assert_true (ANE_CHECK_VERSION (major, minor, micro - 1));
  if (minor > 0)
    g_assert_true (ANE_CHECK_VERSION (major, minor - 1, 99));
  if (major > 0)
    g_assert_true (ANE_CHECK_VERSION (major - 1, 99, 99));
  /* The API of issue 12 is marked 0.2: the project cannot be older. */
  g_assert_true (ANE_CHECK_VERSION (0, 2, 0));
  g_assert_cmpint (ANE_VERSION_MAX_ALLOWED, >=, ANE_VERSION_0_2);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/version/macros", test_macros_match_project);
  g_test_add_func ("/ane/version/getters", test_getters_match_macros);
  g_test_add_func ("/ane/version/check", test_check_version);
  return g_test_run ();
}
