/* test-chip.c: AneChipInfo, what this machine offers
 *
 * `ane-tool probe` is exercised by tests/python/test_chip.py, which runs the
 * built tool.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>
#include <sys/utsname.h>

#include "ane-test-util.h"
#include "ane-chip.h"

static void
test_chip_cached (void)
{
  AneChipInfo *a = ane_chip_info ();

  g_assert_true (ANE_IS_CHIP_INFO (a));
  g_assert_true (a == ane_chip_info ());
}

static gpointer
chip_from_thread (gpointer data)
{
  (void) data;
  return ane_chip_info ();
}

static void
test_chip_threads (void)
{
  GThread *threads[4];
  AneChipInfo *mine = ane_chip_info ();

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("chip", chip_from_thread, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_true (g_thread_join (threads[i]) == mine);
}

static void
test_chip_basics (void)
{
  AneChipInfo *chip = ane_chip_info ();
  g_autofree char *name = NULL, *os_name = NULL, *os_version = NULL;
  gboolean has_ane = TRUE;
  int cores = 42;
  struct utsname u;

  g_assert_nonnull (ane_chip_info_get_name (chip));
  g_assert_cmpstr (ane_chip_info_get_name (chip), !=, "");
  g_assert_cmpstr (ane_chip_info_get_machine (chip), !=, "");
  g_test_message ("chip: %s", ane_chip_info_get_name (chip));

  /* The OS fields are uname's. */
  g_assert_cmpint (uname (&u), ==, 0);
  g_assert_cmpstr (ane_chip_info_get_os_name (chip), ==, u.sysname);
  g_assert_cmpstr (ane_chip_info_get_os_version (chip), ==, u.release);
  g_assert_cmpstr (ane_chip_info_get_machine (chip), ==, u.machine);

  /* Properties and getters agree. */
  g_object_get (chip, "name", &name, "os-name", &os_name, "os-version", &os_version,
                "has-ane", &has_ane, "ane-cores", &cores, NULL);
  g_assert_cmpstr (name, ==, ane_chip_info_get_name (chip));
  g_assert_cmpstr (os_name, ==, ane_chip_info_get_os_name (chip));
  g_assert_cmpstr (os_version, ==, ane_chip_info_get_os_version (chip));
  g_assert_cmpint (has_ane, ==, ane_chip_info_get_has_ane (chip));
  g_assert_cmpint (cores, ==, ane_chip_info_get_ane_cores (chip));
  g_assert_cmpint (ane_available (), ==, ane_chip_info_get_has_ane (chip));

  /* Without a Neural Engine there are no cores; with one, the count is
   * positive or -1 (the OS does not say). */
  if (has_ane)
    g_assert_true (cores == -1 || cores > 0);
  else
    g_assert_cmpint (cores, ==, 0);
}

static void
test_chip_not_apple (void)
{
#ifdef __APPLE__
  /* a legitimate skip (g_test_skip, not ane_test_skip): test_chip_info
   * checks what an Apple platform reports */
  g_test_skip ("checks what a non-Apple platform reports");
#else
  AneChipInfo *chip = ane_chip_info ();

  g_assert_false (ane_chip_info_get_is_apple (chip));
  g_assert_false (ane_chip_info_get_has_ane (chip));
  g_assert_false (ane_available ());
  g_assert_cmpint (ane_chip_info_get_ane_cores (chip), ==, 0);
#endif
}

static void
test_chip_report (void)
{
  AneChipInfo *chip = ane_chip_info ();
  g_autofree char *report = ane_chip_info_dup_report (chip);

  g_test_message ("%s", report);
  g_assert_true (g_str_has_suffix (report, "\n"));
  g_assert_nonnull (strstr (report, ane_chip_info_get_os_name (chip)));
  g_assert_nonnull (strstr (report, ane_chip_info_get_os_version (chip)));
  g_assert_nonnull (strstr (report, ane_chip_info_get_name (chip)));
  g_assert_nonnull (strstr (report, "neural engine:"));
#ifndef __APPLE__
  g_assert_nonnull (strstr (report, "neural engine: no (not an Apple platform)"));
#endif
}

static void
test_chip_precondition (void)
{
  if (g_test_subprocess ())
    {
      g_assert_null (ane_chip_info_get_name (NULL));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*ANE_IS_CHIP_INFO*");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/chip/cached", test_chip_cached);
  g_test_add_func ("/ane/chip/threads", test_chip_threads);
  g_test_add_func ("/ane/chip/basics", test_chip_basics);
  g_test_add_func ("/ane/chip/not-apple", test_chip_not_apple);
  g_test_add_func ("/ane/chip/report", test_chip_report);
  g_test_add_func ("/ane/chip/precondition", test_chip_precondition);

  return g_test_run ();
}
