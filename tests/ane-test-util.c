/* ane-test-util.c: small helpers shared by the C test suites
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "ane-test-util.h"

/* --- tensors ------------------------------------------------------------- */

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

AneTensor *
ane_test_tensor_values (const char   *name,
                        AneDType      dtype,
                        const gint64 *shape,
                        guint         rank,
                        const double *values)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  gint64 n = 1;
  gsize n_bytes;
  gpointer buf;
  AneTensor *t;

  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  n_bytes = (gsize) n * ane_dtype_size (dtype);
  buf = g_malloc0 (MAX (n_bytes, 1));
  ane_dtype_encode (dtype, values, (gsize) n, buf);
  bytes = g_bytes_new_take (buf, n_bytes);
  t = ane_tensor_new_from_bytes (name, dtype, shape, rank, bytes, &error);
  g_assert_no_error (error);
  return t;
}

float *
ane_test_dup_floats (AneTensor *t)
{
  g_autoptr(GError) error = NULL;
  gsize n;
  float *v = ane_tensor_dup_floats (t, &n, &error);

  g_assert_no_error (error);
  return v;
}

/* --- graph building ------------------------------------------------------ */

AneTensor *
ane_test_input (AneGraph     *g,
                const char   *name,
                AneDType      dtype,
                const gint64 *shape,
                guint         rank)
{
  g_autoptr(GError) error = NULL;
  AneTensor *t = ane_graph_input (g, name, dtype, shape, rank, &error);

  g_assert_no_error (error);
  return t;
}

AneTensor *
ane_test_const (AneGraph  *g,
                AneTensor *t)
{
  g_autoptr(GError) error = NULL;
  AneTensor *c = ane_graph_const (g, t, &error);

  g_assert_no_error (error);
  return c;
}

AneTensor *
ane_test_const_f32 (AneGraph     *g,
                    const char   *name,
                    const gint64 *shape,
                    guint         rank,
                    const float  *values)
{
  g_autoptr(AneTensor) t = ane_test_tensor_f32 (name, shape, rank, values);

  return ane_test_const (g, t);
}

/* --- running ------------------------------------------------------------- */

static GPtrArray *
run_reference_valist (AneGraph  *graph,
                      AneTensor *first_input,
                      va_list    args)
{
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, ANE_BACKEND_REFERENCE);
  g_autoptr(GPtrArray) inputs = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GPtrArray *outputs;

  for (AneTensor *t = first_input; t != NULL; t = va_arg (args, AneTensor *))
    g_ptr_array_add (inputs, t);

  ane_executable_compile (exe, NULL, &error);
  g_assert_no_error (error);
  outputs = ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (outputs);
  return outputs;
}

GPtrArray *
ane_test_run_reference (AneGraph  *graph,
                        AneTensor *first_input,
                        ...)
{
  GPtrArray *outputs;
  va_list args;

  va_start (args, first_input);
  outputs = run_reference_valist (graph, first_input, args);
  va_end (args);
  return outputs;
}

AneTensor *
ane_test_eval (AneGraph  *graph,
               AneTensor *y,
               ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) out = NULL;
  AneTensor *first_input;
  va_list args;

  g_assert_nonnull (y);
  ane_graph_add_output (graph, "y", y, &error);
  g_assert_no_error (error);
  va_start (args, y);
  first_input = va_arg (args, AneTensor *);
  out = run_reference_valist (graph, first_input, args);
  va_end (args);
  g_assert_cmpuint (out->len, ==, 1);
  return g_object_ref (g_ptr_array_index (out, 0));
}

static void
assert_error_valist (GError    **error,
                     AneError    code,
                     const char *first_substring,
                     va_list     args)
{
  g_assert_error (*error, ANE_ERROR, (gint) code);
  for (const char *s = first_substring; s != NULL; s = va_arg (args, const char *))
    if (strstr ((*error)->message, s) == NULL)
      g_error ("error message \"%s\" does not mention \"%s\"", (*error)->message, s);
  g_test_message ("expected error: %s", (*error)->message);
  g_clear_error (error);
}

void
ane_test_run_expect_error (AneGraph   *graph,
                           AneTensor **inputs,
                           guint       n_inputs,
                           AneError    code,
                           const char *first_substring,
                           ...)
{
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, ANE_BACKEND_REFERENCE);
  g_autoptr(GPtrArray) out = NULL;
  GError *error = NULL;
  va_list args;

  ane_executable_compile (exe, NULL, &error);
  g_assert_no_error (error);
  out = ane_executable_run (exe, inputs, n_inputs, NULL, &error);
  g_assert_null (out);
  va_start (args, first_substring);
  assert_error_valist (&error, code, first_substring, args);
  va_end (args);
}

/* --- assertions ---------------------------------------------------------- */

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
ane_test_assert_values_near (AneTensor    *t,
                             const double *expected,
                             gsize         n,
                             double        tol)
{
  g_assert_cmpint (ane_tensor_get_n_elements (t), ==, (gint64) n);
  for (gsize i = 0; i < n; i++)
    {
      double got = ane_tensor_get_value (t, (gint64) i);

      if (isnan (expected[i]) && isnan (got))
        continue;
      if (got == expected[i])
        continue;
      if (!(fabs (got - expected[i]) <= tol))
        g_error ("%s[%" G_GSIZE_FORMAT "]: got %.17g, expected %.17g (tol %g)",
                 ane_tensor_get_name (t), i, got, expected[i], tol);
    }
}

void
ane_test_assert_values (AneTensor    *t,
                        const double *expected,
                        gsize         n)
{
  /* With tol 0 only equal values (or two NaNs) pass. */
  ane_test_assert_values_near (t, expected, n, 0.0);
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

void
ane_test_assert_spec (AneTensor    *t,
                      AneDType      dtype,
                      const gint64 *shape,
                      guint         rank)
{
  g_assert_nonnull (t);
  g_assert_cmpint (ane_tensor_get_dtype (t), ==, dtype);
  ane_test_assert_shape (t, shape, rank);
}

void
ane_test_assert_error (GError    **error,
                       AneError    code,
                       const char *first_substring,
                       ...)
{
  va_list args;

  va_start (args, first_substring);
  assert_error_valist (error, code, first_substring, args);
  va_end (args);
}

void
ane_test_assert_build_error (AneTensor  *result,
                             GError    **error,
                             AneError    code,
                             const char *op,
                             ...)
{
  const char *first_substring;
  va_list args;

  g_assert_null (result);
  g_assert_nonnull (op);
  g_assert_error (*error, ANE_ERROR, (gint) code);
  if (strstr ((*error)->message, op) == NULL)
    g_error ("error message \"%s\" does not mention \"%s\"", (*error)->message, op);
  va_start (args, op);
  first_substring = va_arg (args, const char *);
  assert_error_valist (error, code, first_substring, args);
  va_end (args);
}

/* --- files --------------------------------------------------------------- */

char *
ane_test_make_tmp_dir (const char *tmpl)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp (tmpl, &error);

  g_assert_no_error (error);
  return dir;
}

void
ane_test_remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir && (name = g_dir_read_name (dir)))
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          ane_test_remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

void
ane_test_write_file (const char *path,
                     const void *data,
                     gsize       n)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, data, (gssize) n, &error);
  g_assert_no_error (error);
}
