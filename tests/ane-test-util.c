/* ane-test-util.c: small helpers shared by the C test suites
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ane-test-util.h"

AneTensor *
ane_test_tensor_f32 (const char   *name,
                     const gint64 *shape,
                     guint         rank,
                     const float  *values)
{
  gint64 n = 1;
  g_autoptr(GError) error = NULL;
  AneTensor *t;

  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  t = ane_tensor_new_from_floats (name, shape, rank, values, n, &error);
  g_assert_no_error (error);
  return t;
}

AneTensor *
ane_test_tensor_random (const char   *name,
                        const gint64 *shape,
                        guint         rank,
                        guint32       seed,
                        float         lo,
                        float         hi)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autofree float *v = NULL;
  gint64 n = 1;

  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  v = g_new (float, MAX (n, 1));
  for (gint64 i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (rand, lo, hi);
  return ane_test_tensor_f32 (name, shape, rank, v);
}

GPtrArray *
ane_test_run_reference (AneGraph  *graph,
                        AneTensor *first_input,
                        ...)
{
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, ANE_BACKEND_REFERENCE);
  g_autoptr(GPtrArray) inputs = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GPtrArray *outputs;
  va_list args;

  va_start (args, first_input);
  for (AneTensor *t = first_input; t != NULL; t = va_arg (args, AneTensor *))
    g_ptr_array_add (inputs, t);
  va_end (args);

  ane_executable_compile (exe, NULL, &error);
  g_assert_no_error (error);
  outputs = ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (outputs);
  return outputs;
}

void
ane_test_assert_close (AneTensor   *t,
                       const float *expected,
                       gsize        n,
                       double       rtol,
                       double       atol)
{
  g_assert_cmpint (ane_tensor_get_n_elements (t), ==, (gint64) n);
  for (gsize i = 0; i < n; i++)
    {
      double got = ane_tensor_get_value (t, i);
      double want = expected[i];

      if (isnan (want) && isnan (got))
        continue;
      if (!(fabs (got - want) <= atol + rtol * fabs (want)))
        g_error ("%s[%" G_GSIZE_FORMAT "]: got %.9g, expected %.9g (rtol %g, atol %g)",
                 ane_tensor_get_name (t), i, got, want, rtol, atol);
    }
}

void
ane_test_assert_shape (AneTensor    *t,
                       const gint64 *shape,
                       guint         rank)
{
  guint r;
  const gint64 *s = ane_tensor_get_shape (t, &r);

  g_assert_cmpuint (r, ==, rank);
  for (guint i = 0; i < rank; i++)
    g_assert_cmpint (s[i], ==, shape[i]);
}
