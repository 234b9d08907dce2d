/* ane-test-util.c: small helpers shared by the C test suites
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "ane-test-util.h"
#include "ane-file-private.h"

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
ane_test_param (AneGraph     *g,
                const char   *name,
                const gint64 *shape,
                guint         rank)
{
  g_autoptr(GError) error = NULL;
  AneTensor *t = ane_graph_param (g, name, ANE_DTYPE_FLOAT32, shape, rank, &error);

  g_assert_no_error (error);
  return t;
}

void
ane_test_output (AneGraph   *g,
                 const char *name,
                 AneTensor  *t)
{
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (t);
  ane_graph_add_output (g, name, t, &error);
  g_assert_no_error (error);
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

/* --- comparing numbers --------------------------------------------------- */

/* One element against its expected value, by the rule in the header. Sets
 * *err to |got - want| (inf for a NaN or infinity mismatch) and *bound to
 * what that element is allowed. */
static gboolean
close_enough (double  got,
              double  want,
              double  rtol,
              double  atol,
              double *err,
              double *bound)
{
  *bound = atol + rtol * fabs (want);
  if (isnan (want) || isnan (got))
    {
      *err = isnan (want) && isnan (got) ? 0.0 : INFINITY;
      return isnan (want) && isnan (got);
    }
  if (isinf (want) || isinf (got))
    {
      *err = got == want ? 0.0 : INFINITY;
      return got == want;
    }
  *err = fabs (got - want);
  /* written so that a NaN bound (a NaN tolerance) fails too */
  return *err <= *bound;
}

/* Element i of an array of doubles, or of floats when is_double is FALSE. */
static double
get_value (const void *values,
           gboolean    is_double,
           gsize       i)
{
  return is_double ? ((const double *) values)[i] : (double) ((const float *) values)[i];
}

static double
assert_close_any (const char *what,
                  const void *got,
                  const void *want,
                  gboolean    is_double,
                  gsize       n,
                  double      rtol,
                  double      atol)
{
  gsize n_bad = 0, first = 0, worst_at = 0;
  double largest = 0.0, worst_ratio = 0.0;

  g_assert_true (n == 0 || (got != NULL && want != NULL));
  for (gsize i = 0; i < n; i++)
    {
      double g = get_value (got, is_double, i), w = get_value (want, is_double, i), err, bound;
      gboolean ok = close_enough (g, w, rtol, atol, &err, &bound);

      if (isfinite (err))
        largest = MAX (largest, err);
      if (!ok)
        {
          double ratio = bound > 0.0 ? err / bound : INFINITY;

          if (n_bad++ == 0)
            first = i;
          if (n_bad == 1 || ratio > worst_ratio)
            {
              worst_ratio = ratio;
              worst_at = i;
            }
        }
    }
  if (n_bad > 0)
    {
      double g = get_value (got, is_double, first), w = get_value (want, is_double, first);
      int digits = is_double ? 17 : 9;   /* enough to tell any two values apart */

      g_error ("%s[%" G_GSIZE_FORMAT "]: got %.*g, expected %.*g (|difference| %.3g, allowed %.3g = "
               "atol %g + rtol %g * |expected|); %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
               " elements off, the worst at [%" G_GSIZE_FORMAT "]: got %.*g, expected %.*g, "
               "%.3g times its bound",
               what, first, digits, g, digits, w, fabs (g - w), atol + rtol * fabs (w), atol, rtol,
               n_bad, n, worst_at, digits, get_value (got, is_double, worst_at),
               digits, get_value (want, is_double, worst_at), worst_ratio);
    }
  return largest;
}

double
ane_test_assert_close_doubles (const char   *what,
                               const double *got,
                               const double *want,
                               gsize         n,
                               double        rtol,
                               double        atol)
{
  return assert_close_any (what, got, want, TRUE, n, rtol, atol);
}

double
ane_test_assert_close_floats (const char  *what,
                              const float *got,
                              const float *want,
                              gsize        n,
                              double       rtol,
                              double       atol)
{
  return assert_close_any (what, got, want, FALSE, n, rtol, atol);
}

double *
ane_test_dup_doubles (AneTensor *t,
                      gsize     *n)
{
  gint64 count = ane_tensor_get_n_elements (t);
  double *v = g_new (double, MAX (count, 1));

  for (gint64 i = 0; i < count; i++)
    v[i] = ane_tensor_get_value (t, i);
  if (n != NULL)
    *n = (gsize) count;
  return v;
}

double
ane_test_assert_close_tensors (const char *what,
                               AneTensor  *got,
                               AneTensor  *want,
                               double      rtol,
                               double      atol)
{
  gsize ng, nw;
  g_autofree double *g = ane_test_dup_doubles (got, &ng);
  g_autofree double *w = ane_test_dup_doubles (want, &nw);

  if (ng != nw)
    g_error ("%s: %" G_GSIZE_FORMAT " elements, expected %" G_GSIZE_FORMAT, what, ng, nw);
  return assert_close_any (what, g, w, TRUE, nw, rtol, atol);
}

float *
ane_test_decode_logits (AneExecutable *exe,
                        const gint32  *tokens,
                        gsize          n_tokens,
                        gsize         *n_out)
{
  GArray *all = g_array_new (FALSE, FALSE, sizeof (float));

  for (gint32 i = 0; i < (gint32) n_tokens; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) t = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &tokens[i], 1, NULL);
      g_autoptr(AneTensor) p = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &i, 1, NULL);
      g_autoptr(GPtrArray) outs = ane_executable_run (exe, (AneTensor *[]) { t, p }, 2, NULL, &error);
      g_autofree float *f = NULL;
      gsize n = 0;

      g_assert_no_error (error);
      f = ane_tensor_dup_floats (g_ptr_array_index (outs, 0), &n, &error);
      g_assert_no_error (error);
      g_array_append_vals (all, f, (guint) n);
    }
  *n_out = all->len;
  return (float *) g_array_free (all, FALSE);
}

double
ane_test_decode_margins (AneExecutable *a,
                         AneExecutable *b,
                         const gint32  *tokens,
                         gsize          n_tokens,
                         gsize          n_prompt,
                         double        *gaps_a,
                         double        *gaps_b)
{
  double worst = 0.0;

  g_assert_cmpuint (n_prompt, >=, 1);
  g_assert_cmpuint (n_tokens, >=, n_prompt);
  /* the last token's own step predicts nothing that was generated */
  for (gsize t = 0; t + 1 < n_tokens; t++)
    {
      g_autoptr(GError) error = NULL;
      gint32 position = (gint32) t;
      g_autoptr(AneTensor) tok = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &tokens[t], 1, &error);
      g_autoptr(AneTensor) pos = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &position, 1, &error);
      AneTensor *ins[2] = { tok, pos };
      g_autoptr(GPtrArray) oa = ane_executable_run (a, ins, 2, NULL, &error);
      g_autoptr(GPtrArray) ob = NULL;
      g_autofree float *la = NULL, *lb = NULL;
      gsize na, nb, best = 0;
      double second = -INFINITY, other_b = -INFINITY;

      g_assert_no_error (error);
      ob = ane_executable_run (b, ins, 2, NULL, &error);
      g_assert_no_error (error);
      la = ane_tensor_dup_floats (g_ptr_array_index (oa, 0), &na, &error);
      g_assert_no_error (error);
      lb = ane_tensor_dup_floats (g_ptr_array_index (ob, 0), &nb, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (na, ==, nb);
      for (gsize j = 0; j < na; j++)
        {
          double d = fabs ((double) lb[j] - la[j]);

          /* a NaN or an infinity anywhere is as far apart as it gets */
          worst = isfinite (d) ? MAX (worst, d) : INFINITY;
          if (la[j] > la[best])
            best = j;
        }
      if (t + 1 < n_prompt)
        continue;
      for (gsize j = 0; j < na; j++)
        if (j != best)
          {
            second = MAX (second, la[j]);
            other_b = MAX (other_b, lb[j]);
          }
      if ((gint32) best != tokens[t + 1])
        g_error ("step %" G_GSIZE_FORMAT ": the greedy run chose %d, its decode graph's largest logit is %"
                 G_GSIZE_FORMAT, t, tokens[t + 1], best);
      gaps_a[t + 1 - n_prompt] = la[best] - second;
      gaps_b[t + 1 - n_prompt] = lb[best] - other_b;
    }
  return worst;
}

/* --- skipping ------------------------------------------------------------ */

gboolean
ane_test_strict (void)
{
  const char *v = g_getenv ("ANE_TEST_STRICT");

  return v != NULL && *v != '\0' && g_strcmp0 (v, "0") != 0;
}

void
ane_test_skip (const char *format,
               ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);
  if (ane_test_strict ())
    g_error ("%s -- a skip, which ANE_TEST_STRICT turns into a failure: "
             "in a complete library this is a regression", reason);
  else
    g_test_skip (reason);
}

/* --- assertions ---------------------------------------------------------- */

void
ane_test_assert_close (AneTensor   *t,
                       const float *expected,
                       gsize        n,
                       double       rtol,
                       double       atol)
{
  g_autofree double *got = NULL, *want = g_new (double, MAX (n, 1));
  gsize n_got;

  g_assert_cmpint (ane_tensor_get_n_elements (t), ==, (gint64) n);
  got = ane_test_dup_doubles (t, &n_got);
  for (gsize i = 0; i < n; i++)
    want[i] = expected[i];
  assert_close_any (ane_tensor_get_name (t), got, want, TRUE, n, rtol, atol);
}

void
ane_test_assert_values_near (AneTensor    *t,
                             const double *expected,
                             gsize         n,
                             double        tol)
{
  g_autofree double *got = NULL;
  gsize n_got;

  g_assert_cmpint (ane_tensor_get_n_elements (t), ==, (gint64) n);
  got = ane_test_dup_doubles (t, &n_got);
  assert_close_any (ane_tensor_get_name (t), got, expected, TRUE, n, 0.0, tol);
}

void
ane_test_assert_values (AneTensor    *t,
                        const double *expected,
                        gsize         n)
{
  /* With tol 0 only equal values (or two NaNs, or the same infinity) pass. */
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
  ane_file_remove_tree (path);
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
