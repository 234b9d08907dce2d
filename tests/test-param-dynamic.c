/* test-param-dynamic.c: weights that change without preparing the program again
 *
 * ane_graph_param_dynamic declares a weight the program takes as an input:
 * binding new values to a compiled executable (ane_executable_set_param)
 * takes effect at the next run and never prepares the program again, on
 * the reference and CPU backends and on the Neural Engine's in-memory path
 * (the fake runtime in interpreter mode, which runs the MIL text the
 * backend compiled): each run is compared with the product worked out
 * here, and the count of prepared programs stays 1.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-fake-ane.h"
#include "ane-executable-private.h"

/* y = x @ w, x [1, 8, 32] fp16 (the private path's interface), w dynamic
 * [32, 32]. */
static AneGraph *
graph (void)
{
  const gint64 xs[] = { 1, 8, 32 }, ws[] = { 32, 32 };
  AneGraph *g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT16, xs, 3);
  g_autoptr(AneTensor) w = ane_graph_param_dynamic (g, "w", ANE_DTYPE_FLOAT16, ws, 2, &error);
  g_autoptr(AneTensor) y = NULL;

  g_assert_no_error (error);
  y = ane_graph_matmul (g, x, w, FALSE, FALSE, &error);
  g_assert_no_error (error);
  ane_test_output (g, "y", y);
  return g;
}

static AneTensor *
half_tensor (const char   *name,
             const gint64 *shape,
             guint         rank,
             guint32       seed)
{
  g_autoptr(AneTensor) f = ane_test_tensor_random (name, shape, rank, seed, -1.0f, 1.0f);
  g_autoptr(GError) error = NULL;
  AneTensor *h = ane_tensor_convert (f, ANE_DTYPE_FLOAT16, &error);

  g_assert_no_error (error);
  return h;
}

/* x @ w in doubles, from the fp16 values. */
static double *
product (AneTensor *x,
         AneTensor *w)
{
  g_autofree double *xv = ane_test_dup_doubles (x, NULL);
  g_autofree double *wv = ane_test_dup_doubles (w, NULL);
  double *y = g_new0 (double, 8 * 32);

  for (guint i = 0; i < 8; i++)
    for (guint j = 0; j < 32; j++)
      for (guint k = 0; k < 32; k++)
        y[i * 32 + j] += xv[i * 32 + k] * wv[k * 32 + j];
  return y;
}

static void
check_backend (AneBackend backend)
{
  const gint64 xs[] = { 1, 8, 32 }, ws[] = { 32, 32 };
  g_autoptr(AneGraph) g = graph ();
  g_autoptr(AneExecutable) exe = ane_executable_new (g, backend);
  g_autoptr(AneTensor) x = half_tensor ("x", xs, 3, 1);
  g_autoptr(GError) error = NULL;

  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);

  /* unbound: the run says which param */
  {
    g_autoptr(GPtrArray) none = ane_executable_run (exe, &x, 1, NULL, &error);

    g_assert_null (none);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_MISSING_PARAM);
    g_assert_nonnull (strstr (error->message, "'w'"));
    g_clear_error (&error);
  }
  for (guint step = 0; step < 4; step++)
    {
      g_autoptr(AneTensor) w = half_tensor ("w", ws, 2, 10 + step);
      g_autoptr(GPtrArray) out = NULL;
      g_autofree double *want = product (x, w);
      g_autofree double *got = NULL;
      gsize n;

      g_assert_true (ane_executable_set_param (exe, "w", w, &error));
      out = ane_executable_run (exe, &x, 1, NULL, &error);
      g_assert_no_error (error);
      got = ane_test_dup_doubles (g_ptr_array_index (out, 0), &n);
      g_assert_cmpuint (n, ==, 8 * 32);
      /* fp16 products of 32 terms: the documented m·2^-10 */
      ane_test_assert_close_doubles ("y", got, want, n, 4e-3, 4e-3);
    }
  g_assert_cmpuint (ane_executable_get_n_prepared (exe), ==, 1);
}

static void
test_reference (void)
{
  check_backend (ANE_BACKEND_REFERENCE);
}

static void
test_cpu (void)
{
  check_backend (ANE_BACKEND_CPU);
}

static void
test_ane_fake (void)
{
  guint compiles;

  fake_setup ();
  fake.interpret = TRUE;
  compiles = fake.n_compile;
  check_backend (ANE_BACKEND_ANE);
  g_assert_cmpuint (fake.n_compile, ==, compiles + 1);
  fake_teardown ();
}

/* A baked param still prepares again; a dynamic one of a dtype no model
 * interface takes is refused when declared. */
static void
test_contrast_and_errors (void)
{
  const gint64 s[] = { 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 1);
  g_autoptr(AneTensor) w = ane_test_param (g, "w", s, 1);
  g_autoptr(AneTensor) y = ane_graph_mul (g, x, w, &error);
  g_autoptr(AneTensor) q = ane_graph_param_dynamic (g, "q", ANE_DTYPE_Q8_0, (const gint64[]) { 32 }, 1, &error);
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneTensor) xv = ane_test_tensor_random ("x", s, 1, 1, 0, 1);

  g_assert_null (q);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "'q'"));
  g_clear_error (&error);

  ane_test_output (g, "y", y);
  exe = ane_executable_new (g, ANE_BACKEND_CPU);
  for (guint step = 0; step < 2; step++)
    {
      g_autoptr(AneTensor) wv = ane_test_tensor_random ("w", s, 1, 5 + step, 0, 1);
      g_autoptr(GPtrArray) out = NULL;

      g_assert_true (ane_executable_set_param (exe, "w", wv, &error));
      if (step == 0)
        g_assert_true (ane_executable_compile (exe, NULL, &error));
      out = ane_executable_run (exe, &xv, 1, NULL, &error);
      g_assert_no_error (error);
    }
  g_assert_cmpuint (ane_executable_get_n_prepared (exe), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/param-dynamic/reference", test_reference);
  g_test_add_func ("/param-dynamic/cpu", test_cpu);
  g_test_add_func ("/param-dynamic/ane-fake", test_ane_fake);
  g_test_add_func ("/param-dynamic/contrast", test_contrast_and_errors);
  return g_test_run ();
}
