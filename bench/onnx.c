/* bench/onnx.c: the real ONNX models of tests/data/onnx on the CPU backend,
 * next to ONNX Runtime
 *
 *   bench-onnx [--runs=N] [--data=DIR] [MODEL...]
 *
 * For each PaddleOCR model (MODEL: ppocr_mobile_v2_cls, ppocrv4_det; both
 * by default) it prints the milliseconds of the import
 * (ane_graph_load_onnx), the lowering (ane_package_new_from_graph, fp32),
 * the compile (ane_executable_new_from_package_full on ANE_BACKEND_CPU) and
 * the median of N runs (after one warm-up run) at 1 and 2 threads, next to
 * ONNX Runtime's one-thread median recorded with the case
 * (cases/<model>/ort_run.txt, written by the oracle script of
 * tests/data/onnx) and the ratio ORT / ours (1.0 = level, higher is
 * faster). The input is the case's shape filled with a fixed pseudo-random
 * pattern: the time of these convolutions does not depend on the values.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ane-glib.h"

typedef struct {
  const char *name;
  gint64      shape[4];
} Model;

static const Model models[] = {
  { "ppocr_mobile_v2_cls", { 1, 3, 48, 192 } },
  { "ppocrv4_det", { 1, 3, 640, 640 } },
};

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* ONNX Runtime's median_ms from ort_run.txt, or -1. */
static double
ort_median (const char *data_dir,
            const char *name)
{
  g_autofree char *path = g_build_filename (data_dir, "cases", name, "ort_run.txt", NULL);
  g_autofree char *text = NULL;
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (p = strstr (text, "median_ms=")) == NULL)
    return -1;
  return g_ascii_strtod (p + strlen ("median_ms="), NULL);
}

static double
median_run_ms (AneExecutable *exe,
               AneTensor     *input,
               guint          n_threads,
               guint          runs)
{
  g_autofree double *t = g_new (double, runs);
  g_autoptr(GError) error = NULL;

  ane_set_num_threads (n_threads);
  for (guint i = 0; i <= runs; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr(GPtrArray) outs = ane_executable_run (exe, &input, 1, NULL, &error);

      if (outs == NULL)
        {
          fprintf (stderr, "run: %s\n", error->message);
          exit (1);
        }
      if (i > 0)
        t[i - 1] = (g_get_monotonic_time () - t0) / 1000.0;
    }
  qsort (t, runs, sizeof (double), cmp_double);
  return runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
}

static void
bench_model (const Model *m,
             const char  *data_dir,
             guint        runs)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strconcat (m->name, ".onnx", NULL);
  g_autofree char *path = g_build_filename (data_dir, "models", file, NULL);
  g_autoptr(AneOnnxImportOptions) options = ane_onnx_import_options_new ();
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneTensor) input = NULL;
  g_autofree float *values = NULL;
  gsize n = (gsize) (m->shape[0] * m->shape[1] * m->shape[2] * m->shape[3]);
  guint32 seed = 12345;
  double import_ms, lower_ms, compile_ms, run1, run2, ort;
  gint64 t0;

  ane_onnx_import_options_set_input_shape (options, "x", m->shape, 4);
  t0 = g_get_monotonic_time ();
  graph = ane_graph_load_onnx (path, options, &error);
  import_ms = (g_get_monotonic_time () - t0) / 1000.0;
  if (graph == NULL)
    {
      fprintf (stderr, "%s: %s\n", path, error->message);
      exit (1);
    }
  t0 = g_get_monotonic_time ();
  pkg = ane_package_new_from_graph (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, &error);
  lower_ms = (g_get_monotonic_time () - t0) / 1000.0;
  if (pkg == NULL)
    {
      fprintf (stderr, "%s: lowering: %s\n", m->name, error->message);
      exit (1);
    }
  t0 = g_get_monotonic_time ();
  exe = ane_executable_new_from_package_full (pkg, NULL, ANE_BACKEND_CPU, &error);
  compile_ms = (g_get_monotonic_time () - t0) / 1000.0;
  if (exe == NULL)
    {
      fprintf (stderr, "%s: compile: %s\n", m->name, error->message);
      exit (1);
    }
  values = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    {
      seed = seed * 1664525u + 1013904223u;
      values[i] = (float) (seed >> 8) / (float) (1u << 24) * 2.0f - 1.0f;
    }
  input = ane_tensor_new_from_floats ("x", m->shape, 4, values, n, &error);
  g_assert_no_error (error);
  run1 = median_run_ms (exe, input, 1, runs);
  run2 = median_run_ms (exe, input, 2, runs);
  ort = ort_median (data_dir, m->name);
  printf ("%-20s %9.1f %9.1f %9.1f %9.2f %9.2f %9.2f %8.3f\n", m->name, import_ms, lower_ms,
          compile_ms, run1, run2, ort, ort > 0 ? ort / run1 : 0.0);
}

int
main (int argc, char *argv[])
{
  const char *data_dir = ANE_BENCH_ONNX_DATA;
  guint runs = 10;
  gboolean any = FALSE;

  for (int i = 1; i < argc; i++)
    if (g_str_has_prefix (argv[i], "--runs="))
      runs = MAX (1, (guint) atoi (argv[i] + 7));
    else if (g_str_has_prefix (argv[i], "--data="))
      data_dir = argv[i] + 7;
  printf ("%-20s %9s %9s %9s %9s %9s %9s %8s\n", "model", "import", "lower", "compile",
          "run 1t", "run 2t", "ORT 1t", "ORT/1t");
  for (int i = 1; i < argc; i++)
    if (argv[i][0] != '-')
      for (guint j = 0; j < G_N_ELEMENTS (models); j++)
        if (g_str_equal (argv[i], models[j].name))
          {
            bench_model (&models[j], data_dir, runs);
            any = TRUE;
          }
  if (!any)
    for (guint j = 0; j < G_N_ELEMENTS (models); j++)
      bench_model (&models[j], data_dir, runs);
  printf ("(milliseconds; run = median of %u runs after a warm-up; ORT = cases/*/ort_run.txt median)\n", runs);
  return 0;
}
