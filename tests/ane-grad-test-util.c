/* ane-grad-test-util.c: the finite-difference checks of the gradient suites
 *
 * See ane-grad-test-util.h. Moved from test-grad.c, unchanged, so that
 * test-grad-vision.c checks its rules the same way.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-grad-test-util.h"
#include "ane-tensor-private.h"

#define H ANE_GRAD_TEST_H

AneTensor *
ane_grad_test_values_full (const char   *name,
                           const gint64 *shape,
                           guint         rank,
                           guint32       seed,
                           double        lo,
                           double        hi,
                           double        away,
                           gboolean      distinct)
{
  gsize n = 1;
  g_autofree float *v = NULL;
  GRand *rand = g_rand_new_with_seed (seed);
  g_autoptr(GError) error = NULL;
  AneTensor *t;

  for (guint i = 0; i < rank; i++)
    n *= (gsize) shape[i];
  v = g_new (float, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    {
      double x = g_rand_double_range (rand, lo, hi);

      if (fabs (x) < away)
        x = x < 0 ? -away - fabs (x) : away + fabs (x);
      v[i] = distinct ? ((float) i - (float) n / 2) / 32.0f : (float) (round (x * 1024.0) / 1024.0);
    }
  for (gsize i = n; distinct && i-- > 1;)
    {
      gsize j = (gsize) g_rand_int_range (rand, 0, (gint32) i + 1);
      float tmp = v[i];

      v[i] = v[j];
      v[j] = tmp;
    }
  g_rand_free (rand);
  t = ane_tensor_new_from_floats (name, shape, rank, v, n, &error);
  g_assert_no_error (error);
  return t;
}

AneTensor *
ane_grad_test_values (const char   *name,
                      const gint64 *shape,
                      guint         rank,
                      guint32       seed,
                      double        lo,
                      double        hi,
                      double        away)
{
  return ane_grad_test_values_full (name, shape, rank, seed, lo, hi, away, FALSE);
}

static AneTensor *
param_of (AneGraph  *g,
          AneTensor *v)
{
  g_autoptr(GError) error = NULL;
  AneTensor *p = ane_graph_param_with_value (g, v, &error);

  g_assert_no_error (error);
  return p;
}

AneTensor *
ane_grad_test_param (AneGraph     *g,
                     const char   *name,
                     const gint64 *shape,
                     guint         rank,
                     guint32       seed,
                     double        lo,
                     double        hi,
                     double        away)
{
  g_autoptr(AneTensor) v = ane_grad_test_values (name, shape, rank, seed, lo, hi, away);

  return param_of (g, v);
}

AneTensor *
ane_grad_test_distinct_param (AneGraph     *g,
                              const char   *name,
                              const gint64 *shape,
                              guint         rank,
                              guint32       seed)
{
  g_autoptr(AneTensor) v = ane_grad_test_values_full (name, shape, rank, seed, 0, 0, 0, TRUE);

  return param_of (g, v);
}

void
ane_grad_test_add_loss (AneGraph  *g,
                        AneTensor *y)
{
  g_autoptr(GError) error = NULL;
  AneSpec spec;
  g_autoptr(AneTensor) rv = NULL;
  g_autoptr(AneTensor) r = NULL;
  g_autoptr(AneTensor) yr = NULL;
  g_autoptr(AneTensor) loss = NULL;

  ane_tensor_get_spec (y, &spec);
  rv = ane_grad_test_values ("r", spec.shape, spec.rank, 999, -1.0, 1.0, 0.0);
  r = ane_graph_const (g, rv, &error);
  g_assert_no_error (error);
  yr = ane_graph_mul (g, y, r, &error);
  g_assert_no_error (error);
  loss = ane_graph_reduce_sum (g, yr, NULL, 0, FALSE, &error);
  g_assert_no_error (error);
  ane_test_output (g, "loss", loss);
}

static double
run_loss (AneExecutable *exe)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) out = ane_executable_run (exe, NULL, 0, NULL, &error);
  g_autofree double *v = NULL;

  g_assert_no_error (error);
  for (guint i = 0; i < out->len; i++)
    if (g_strcmp0 (ane_tensor_get_name (g_ptr_array_index (out, i)), "loss") == 0)
      {
        v = ane_test_dup_doubles (g_ptr_array_index (out, i), NULL);
        return v[0];
      }
  g_assert_not_reached ();
  return 0;
}

AneTensor *
ane_grad_test_find_output (GPtrArray  *out,
                           const char *name)
{
  for (guint i = 0; i < out->len; i++)
    if (g_strcmp0 (ane_tensor_get_name (g_ptr_array_index (out, i)), name) == 0)
      return g_ptr_array_index (out, i);
  g_error ("no output %s", name);
  return NULL;
}

double
ane_grad_test_check (const char        *what,
                     AneGraph          *g,
                     const char *const *wrt)
{
  return ane_grad_test_check_every (what, g, wrt, 1, FALSE, 2e-4);
}

/* The loss at x with element i moved by d (exact in float32). */
static double
loss_at (AneExecutable *fwd,
         const char    *name,
         AneTensor     *value,
         const double  *x,
         gsize          n,
         gsize          i,
         double         d)
{
  g_autofree float *buf = g_new (float, n);
  g_autoptr(AneTensor) t = NULL;
  g_autoptr(GError) error = NULL;
  AneSpec spec;

  ane_tensor_get_spec (value, &spec);
  for (gsize k = 0; k < n; k++)
    buf[k] = (float) x[k];
  buf[i] = (float) (x[i] + d);
  t = ane_tensor_new_from_floats (name, spec.shape, spec.rank, buf, n, &error);
  g_assert_no_error (error);
  g_assert_true (ane_executable_set_param (fwd, name, t, &error));
  return run_loss (fwd);
}

/* With extrapolate, Richardson's (4·D(h) - D(2h))/3 is an O(h⁴)
 * difference (a whole model: its curvature is larger, and the reference
 * rounds every op to float32, which a smaller h would magnify). */
double ane_grad_test_fp16_tol = ANE_GRAD_TEST_FP16_TOL;

double
ane_grad_test_check_every (const char        *what,
                           AneGraph          *g,
                           const char *const *wrt,
                           gsize              stride,
                           gboolean           extrapolate,
                           double             tol)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) gg = ane_graph_gradients (g, "loss", wrt, &error);
  g_autoptr(AneExecutable) ref = NULL;
  g_autoptr(AneExecutable) cpu = NULL;
  g_autoptr(AneExecutable) fwd = ane_executable_new (g, ANE_BACKEND_REFERENCE);
  g_autoptr(GPtrArray) out = NULL;
  g_autoptr(GPtrArray) cpu_out = NULL;
  double worst = 0, cpu_worst = 0;

  g_assert_no_error (error);
  ref = ane_executable_new (gg, ANE_BACKEND_REFERENCE);
  g_assert_true (ane_executable_compile (ref, NULL, &error));
  g_assert_no_error (error);
  out = ane_executable_run (ref, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ane_executable_compile (fwd, NULL, &error));

  for (guint w = 0; wrt[w] != NULL; w++)
    {
      g_autofree char *gname = g_strconcat ("grad_", wrt[w], NULL);
      g_autofree double *analytic = NULL;
      const AneNode *node = ane_graph_find_node (g, wrt[w]);
      g_autofree double *x = NULL;
      gsize n, nx;

      analytic = ane_test_dup_doubles (ane_grad_test_find_output (out, gname), &n);
      x = ane_test_dup_doubles (node->value, &nx);
      g_assert_cmpuint (n, ==, nx);
      for (gsize i = (gsize) w % stride; i < n; i += stride)
        {
          double numeric = (loss_at (fwd, wrt[w], node->value, x, n, i, H) -
                            loss_at (fwd, wrt[w], node->value, x, n, i, -H)) / (2 * H);

          if (extrapolate)
            {
              double wide = (loss_at (fwd, wrt[w], node->value, x, n, i, 2 * H) -
                             loss_at (fwd, wrt[w], node->value, x, n, i, -2 * H)) / (4 * H);

              numeric = (4 * numeric - wide) / 3;
            }
          worst = MAX (worst, fabs (analytic[i] - numeric) / MAX (1.0, fabs (numeric)));
          if (!(fabs (analytic[i] - numeric) <= tol * MAX (1.0, fabs (numeric))))
            g_error ("%s: d loss / d %s[%" G_GSIZE_FORMAT "]: analytic %.9g, central difference %.9g",
                     what, wrt[w], i, analytic[i], numeric);
        }
      /* back to the graph's own value */
      g_assert_true (ane_executable_set_param (fwd, wrt[w], node->value, &error));
    }

  cpu = ane_executable_new (gg, ANE_BACKEND_CPU);
  ane_executable_set_precision (cpu, ANE_PRECISION_FLOAT32);
  ane_executable_compile (cpu, NULL, &error);
  g_assert_no_error (error);
  cpu_out = ane_executable_run (cpu, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  for (guint w = 0; wrt[w] != NULL; w++)
    {
      g_autofree char *gname = g_strconcat ("grad_", wrt[w], NULL);

      cpu_worst = MAX (cpu_worst, ane_test_assert_close_tensors (gname, ane_grad_test_find_output (cpu_out, gname),
                                                                 ane_grad_test_find_output (out, gname),
                                                                 1e-4, 1e-5));
    }
  /* fp16: every value rounded to 11 bits, so each gradient is judged
   * against the largest of its param's (normwise): within FP16_TOL of it */
  {
    g_autoptr(AneExecutable) half = ane_executable_new (gg, ANE_BACKEND_CPU);
    g_autoptr(GPtrArray) half_out = NULL;
    double half_worst = 0;

    ane_executable_set_precision (half, ANE_PRECISION_FLOAT16);
    ane_executable_compile (half, NULL, &error);
    g_assert_no_error (error);
    half_out = ane_executable_run (half, NULL, 0, NULL, &error);
    g_assert_no_error (error);
    for (guint w = 0; wrt[w] != NULL; w++)
      {
        g_autofree char *gname = g_strconcat ("grad_", wrt[w], NULL);
        gsize n, m;
        g_autofree double *h = ane_test_dup_doubles (ane_grad_test_find_output (half_out, gname), &n);
        g_autofree double *r = ane_test_dup_doubles (ane_grad_test_find_output (out, gname), &m);
        double scale = 0, err = 0;

        g_assert_cmpuint (n, ==, m);
        for (gsize i = 0; i < n; i++)
          scale = MAX (scale, fabs (r[i]));
        for (gsize i = 0; i < n; i++)
          err = MAX (err, fabs (h[i] - r[i]));
        err /= MAX (scale, 1e-3);
        half_worst = MAX (half_worst, err);
        if (!(err <= ane_grad_test_fp16_tol))
          g_error ("%s: %s at fp16 is %.3g of its largest value from the reference's (at most %g)", what, gname,
                   err, ane_grad_test_fp16_tol);
      }
    g_test_message ("%s: worst relative difference to the central difference %.2e; largest CPU fp32 - "
                    "reference difference %.2e; CPU fp16, relative to the largest gradient %.2e", what, worst,
                    cpu_worst, half_worst);
  }
  return worst;
}
