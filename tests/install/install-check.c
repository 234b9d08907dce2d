/* install-check.c: a program built against the installed ane-glib only
 * (pkg-config --cflags --libs ane-glib-1.0), as an application would be.
 *
 * Runs relu(x·w + b) on the CPU backend, compares with plain loops, checks
 * that the header's version is the library's, and prints the file the
 * library was loaded from so that the driver can check it is the installed
 * one. Exits non-zero on any mismatch.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>

#include <ane-glib/ane-glib.h>

#if !ANE_CHECK_VERSION (0, 2, 0)
# error "the installed ane-version.h predates 0.2"
#endif

int
main (void)
{
  static const gint64 x_shape[] = { 1, 3 }, w_shape[] = { 3, 2 }, b_shape[] = { 2 };
  static const float x_values[] = { 1.f, 2.f, 3.f };
  static const float w_values[] = { 1.f, -1.f, 0.f, 2.f, 0.5f, 1.f };
  static const float b_values[] = { -1.f, -4.f };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) xv = ane_tensor_new_from_floats ("x", x_shape, 2, x_values, 3, &error);
  g_autoptr(AneTensor) wv = ane_tensor_new_from_floats ("w", w_shape, 2, w_values, 6, &error);
  g_autoptr(AneTensor) bv = ane_tensor_new_from_floats ("b", b_shape, 1, b_values, 2, &error);
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneTensor) y = NULL;
  g_autofree float *got = NULL;
  AneTensor *x, *w, *b, *h;
  gsize n = 0;
  Dl_info info = { 0 };
  int failures = 0;

  if (ane_get_major_version () != ANE_MAJOR_VERSION || ane_get_minor_version () != ANE_MINOR_VERSION ||
      ane_get_micro_version () != ANE_MICRO_VERSION)
    {
      fprintf (stderr, "FAIL: header version %d.%d.%d, library %u.%u.%u\n",
               ANE_MAJOR_VERSION, ANE_MINOR_VERSION, ANE_MICRO_VERSION,
               ane_get_major_version (), ane_get_minor_version (), ane_get_micro_version ());
      return 1;
    }

  if (xv == NULL || wv == NULL || bv == NULL)
    {
      fprintf (stderr, "FAIL: making tensors: %s\n", error->message);
      return 1;
    }
  h = NULL;
  if ((x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, x_shape, 2, &error)) != NULL &&
      (w = ane_graph_const (g, wv, &error)) != NULL &&
      (b = ane_graph_const (g, bv, &error)) != NULL &&
      (h = ane_graph_matmul (g, x, w, FALSE, FALSE, &error)) != NULL &&
      (h = ane_graph_add (g, h, b, &error)) != NULL)
    h = ane_graph_relu (g, h, &error);
  if (h == NULL || !ane_graph_add_output (g, "y", h, &error))
    {
      fprintf (stderr, "FAIL: building the graph: %s\n", error ? error->message : "?");
      return 1;
    }

  exe = ane_executable_new (g, ANE_BACKEND_CPU);
  g_object_set (exe, "precision", ANE_PRECISION_FLOAT32, NULL);
  if (!ane_executable_compile (exe, NULL, &error) ||
      (y = ane_executable_run_one (exe, xv, &error)) == NULL ||
      (got = ane_tensor_dup_floats (y, &n, &error)) == NULL)
    {
      fprintf (stderr, "FAIL: running: %s\n", error->message);
      return 1;
    }
  if (n != 2)
    {
      fprintf (stderr, "FAIL: %" G_GSIZE_FORMAT " outputs, expected 2\n", n);
      return 1;
    }
  for (int j = 0; j < 2; j++)
    {
      float want = b_values[j];

      for (int k = 0; k < 3; k++)
        want += x_values[k] * w_values[k * 2 + j];
      want = want > 0.f ? want : 0.f;
      if (!(fabsf (got[j] - want) <= 1e-5f))
        {
          fprintf (stderr, "FAIL: y[%d] = %g, expected %g\n", j, got[j], want);
          failures++;
        }
    }

  /* Which file the exported symbol came from: the driver checks it is
   * the installed library, not the build tree's. */
  if (!dladdr ((void *) ane_get_major_version, &info) || info.dli_fname == NULL)
    {
      fprintf (stderr, "FAIL: dladdr found no library for ane_get_major_version\n");
      return 1;
    }
  printf ("library %s\n", info.dli_fname);
  printf ("version %u.%u.%u\n", ane_get_major_version (), ane_get_minor_version (), ane_get_micro_version ());
  return failures == 0 ? 0 : 1;
}
