/* test-harness.c: the test helpers that decide whether a test passes
 *
 * ane_test_assert_close_* is the comparison every numeric C test uses and
 * ane_test_skip the only way a C test may skip for something the library
 * lacks; a mistake in either would let regressions through silently, so
 * each rule is checked here in a subprocess that must fail (or pass).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ane-test-util.h"

/* What must pass: NaN for NaN, the same infinity, differences within
 * atol + rtol * |want| (the bound itself included). */
static void
test_close_accepts (void)
{
  const double want[] = { 1.0, -2.0, NAN, INFINITY, -INFINITY, 0.0, 100.0 };
  const double got[] = { 1.0 + 1e-7, -2.0, NAN, INFINITY, -INFINITY, 1e-9, 100.0 + 0.5 };
  const float fwant[] = { 0.5f, NAN, -INFINITY };
  const float fgot[] = { 0.5f, NAN, -INFINITY };
  double largest;

  /* element 6: |0.5| <= 1e-3 + 5e-3 * 100 = 0.501 */
  largest = ane_test_assert_close_doubles ("accepts", got, want, G_N_ELEMENTS (want), 5e-3, 1e-3);
  g_assert_cmpfloat (largest, ==, 0.5);
  largest = ane_test_assert_close_floats ("accepts f32", fgot, fwant, G_N_ELEMENTS (fwant), 0.0, 0.0);
  g_assert_cmpfloat (largest, ==, 0.0);
}

/* Each case: one array pair that must fail, and what the message must say. */
static const struct {
  const char *name;
  double got[3], want[3];
  double rtol, atol;
  const char *message;
} rejects[] = {
  { "nan-got", { 1.0, NAN, 3.0 }, { 1.0, 2.0, 3.0 }, 1.0, 1.0, "rejects[1]: got nan, expected 2" },
  { "nan-want", { 1.0, 2.0, 3.0 }, { 1.0, 2.0, NAN }, 1.0, 1.0, "rejects[2]: got 3, expected nan" },
  { "inf-sign", { -INFINITY, 2.0, 3.0 }, { INFINITY, 2.0, 3.0 }, 1.0, 1.0, "rejects[0]: got -inf, expected inf" },
  { "inf-got", { 1.0, 2.0, INFINITY }, { 1.0, 2.0, 3.0 }, 1.0, 1.0, "rejects[2]: got inf, expected 3" },
  { "inf-want", { 1.0, 1e300, 3.0 }, { 1.0, INFINITY, 3.0 }, 1.0, 1.0, "rejects[1]: got 1.0000000000000001e+300, expected inf" },
  /* just over the bound 1e-3 + 1e-2 * 2 = 0.021; the message names the
   * first of the two bad elements and the worst (element 2, 3 times over) */
  { "over", { 1.0, 2.0211, 3.0 + 3 * 0.031 }, { 1.0, 2.0, 3.0 }, 1e-2, 1e-3,
    "2 of 3 elements off, the worst at [2]" },
  { "exact", { 1.0, 2.0, 3.0000000000000004 }, { 1.0, 2.0, 3.0 }, 0.0, 0.0, "rejects[2]" },
  { "nan-tolerance", { 1.0, 2.0, 3.0 }, { 1.0, 2.0, 3.0 }, NAN, 0.0, "rejects[0]" },
};

static void
test_close_rejects (gconstpointer data)
{
  guint i = GPOINTER_TO_UINT (data);
  g_autofree char *pattern = g_strconcat ("*", rejects[i].message, "*", NULL);

  if (g_test_subprocess ())
    {
      ane_test_assert_close_doubles ("rejects", rejects[i].got, rejects[i].want, 3,
                                     rejects[i].rtol, rejects[i].atol);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr (pattern);
}

/* A float NaN is caught as well, and the tensor variant compares counts. */
static void
test_close_floats_and_tensors (void)
{
  if (g_test_subprocess ())
    {
      const float want[] = { 1.0f, 2.0f }, got[] = { 1.0f, NAN };

      ane_test_assert_close_floats ("floats", got, want, 2, 0.5, 0.5);
      return;
    }
  g_test_trap_subprocess ("/ane/harness/close/floats/subprocess/nan", 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*floats[1]: got nan, expected 2*");

  g_test_trap_subprocess ("/ane/harness/close/floats/subprocess/counts", 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*tensors: 3 elements, expected 2*");

  g_test_trap_subprocess ("/ane/harness/close/floats/subprocess/tensor-nan", 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*y[0]: got nan*");
}

static void
floats_nan_subprocess (void)
{
  const float want[] = { 1.0f, 2.0f }, got[] = { 1.0f, NAN };

  ane_test_assert_close_floats ("floats", got, want, 2, 0.5, 0.5);
}

static void
tensor_counts_subprocess (void)
{
  const gint64 s2[] = { 2 }, s3[] = { 3 };
  g_autoptr(AneTensor) a = ane_test_tensor_f32 ("a", s3, 1, (const float[]) { 1, 2, 3 });
  g_autoptr(AneTensor) b = ane_test_tensor_f32 ("b", s2, 1, (const float[]) { 1, 2 });

  ane_test_assert_close_tensors ("tensors", a, b, 1.0, 1.0);
}

static void
tensor_nan_subprocess (void)
{
  const gint64 s2[] = { 2 };
  g_autoptr(AneTensor) y = ane_test_tensor_f32 ("y", s2, 1, (const float[]) { NAN, 2 });

  /* ane_test_assert_close (a tensor against floats) follows the same rule */
  ane_test_assert_close (y, (const float[]) { 1, 2 }, 2, 1.0, 1.0);
}

/* ane_test_skip: a failure under ANE_TEST_STRICT, a skip without it. The
 * subprocess inherits the environment the parent sets before spawning it. */
static void
test_strict_skip (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("ANE_TEST_STRICT"));

  if (g_test_subprocess ())
    {
      ane_test_skip ("no kernel for '%s'", "frobnicate");
      g_print ("carried on after the skip\n");
      return;
    }

  g_setenv ("ANE_TEST_STRICT", "1", TRUE);
  g_assert_true (ane_test_strict ());
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*no kernel for 'frobnicate'*ANE_TEST_STRICT*");
  g_test_trap_assert_stdout_unmatched ("*carried on*");

  for (guint i = 0; i < 2; i++)
    {
      if (i == 0)
        g_setenv ("ANE_TEST_STRICT", "0", TRUE);
      else
        g_unsetenv ("ANE_TEST_STRICT");
      g_assert_false (ane_test_strict ());
      /* a skipped test's process exits with 77, which
       * g_test_trap_assert_passed () counts as a failure: check that it
       * carried on and reported nothing */
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_stdout ("*carried on after the skip*");
      g_test_trap_assert_stderr_unmatched ("*ANE_TEST_STRICT*");
    }

  if (saved != NULL)
    g_setenv ("ANE_TEST_STRICT", saved, TRUE);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/harness/close/accepts", test_close_accepts);
  for (guint i = 0; i < G_N_ELEMENTS (rejects); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ane/harness/close/rejects/%s", rejects[i].name);
      g_test_add_data_func (path, GUINT_TO_POINTER (i), test_close_rejects);
    }
  g_test_add_func ("/ane/harness/close/floats", test_close_floats_and_tensors);
  g_test_add_func ("/ane/harness/close/floats/subprocess/nan", floats_nan_subprocess);
  g_test_add_func ("/ane/harness/close/floats/subprocess/counts", tensor_counts_subprocess);
  g_test_add_func ("/ane/harness/close/floats/subprocess/tensor-nan", tensor_nan_subprocess);
  g_test_add_func ("/ane/harness/strict-skip", test_strict_skip);
  return g_test_run ();
}
