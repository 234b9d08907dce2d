/* ane-tool-probe.c: `ane-tool probe`, what this machine offers, level by level
 *
 *   operating system → chip → frameworks that open → private classes found
 *   → a tiny program (x[1,16] → relu → add 1) compiled, loaded and run on
 *     each backend, with the median dispatch latency of those that run.
 *
 * The Apple parts (dlopen of the frameworks, Objective-C class lookup) are
 * compiled only where __APPLE__ is defined; they have not been built by this
 * project yet (no Mac), only read.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ane-tool-private.h"
#include "ane-chip.h"

#ifdef __APPLE__
# include <dlfcn.h>
#endif

#define PROBE_WIDTH 16

typedef struct {
  const char *name;
  const char *path;   /* the binary inside the framework bundle */
} Framework;

static const Framework frameworks[] = {
  { "CoreML.framework", "/System/Library/Frameworks/CoreML.framework/CoreML" },
  { "AppleNeuralEngine.framework",
    "/System/Library/PrivateFrameworks/AppleNeuralEngine.framework/AppleNeuralEngine" },
};

static void
probe_frameworks (void)
{
  printf ("frameworks:\n");
  for (guint i = 0; i < G_N_ELEMENTS (frameworks); i++)
    {
#ifdef __APPLE__
      /* Since macOS 11 the binaries live in the dyld shared cache, not on
       * disk, so only dlopen can tell whether they are there. */
      void *handle = dlopen (frameworks[i].path, RTLD_LAZY | RTLD_LOCAL);

      if (handle != NULL)
        printf ("  %-28s opens (%s)\n", frameworks[i].name, frameworks[i].path);
      else
        {
          const char *msg = dlerror ();

          printf ("  %-28s does not open: %s\n", frameworks[i].name, msg ? msg : "unknown error");
        }
      /* Left open on purpose: the class lookup below needs them loaded. */
#else
      printf ("  %-28s not present (not an Apple platform)\n", frameworks[i].name);
#endif
    }
}

static void
probe_private_classes (void)
{
  printf ("private classes:\n");
#ifdef __APPLE__
  {
    /* The classes the Neural Engine's in-memory compile path goes through.
     * objc_getClass is looked up at run time so the tool needs no -lobjc. */
    static const char *const classes[] = {
      "_ANEClient", "_ANECompiler", "_ANEModel", "_ANEInMemoryModel",
      "_ANEInMemoryModelDescriptor", "_ANERequest", "_ANEIOSurfaceObject", "MLModel",
    };
    void *(*get_class) (const char *) = (void *(*) (const char *)) dlsym (RTLD_DEFAULT, "objc_getClass");

    if (get_class == NULL)
      {
        printf ("  (the Objective-C runtime is not loaded)\n");
        return;
      }
    for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
      printf ("  %-28s %s\n", classes[i], get_class (classes[i]) != NULL ? "found" : "missing");
  }
#else
  printf ("  none looked up (Apple only; not an Apple platform)\n");
#endif
}

/* x [1,16] → relu → add 1 */
static AneGraph *
tiny_graph (GError **error)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  gint64 shape[] = { 1, PROBE_WIDTH };
  g_autoptr(AneTensor) x = NULL, r = NULL, one = NULL, y = NULL;

  if ((x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, shape, 2, error)) == NULL ||
      (r = ane_graph_relu (g, x, error)) == NULL ||
      (one = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 1.0, error)) == NULL ||
      (y = ane_graph_add (g, r, one, error)) == NULL ||
      !ane_graph_add_output (g, "y", y, error))
    return NULL;
  return g_steal_pointer (&g);
}

static double
now_us (void)
{
  struct timespec ts;

  /* g_get_monotonic_time () has whole microseconds only: too coarse for a
   * dispatch that may take a few. */
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static gboolean
check_output (AneTensor   *out,
              const float *in,
              GError     **error)
{
  gsize n = 0;
  const float *v;
  GBytes *data = ane_tensor_get_data (out);

  if (data == NULL || ane_tensor_get_dtype (out) != ANE_DTYPE_FLOAT32)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "the output is not float32 data");
      return FALSE;
    }
  v = g_bytes_get_data (data, &n);
  if (n != PROBE_WIDTH * sizeof (float))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "the output has %" G_GSIZE_FORMAT " bytes, not %zu",
                   n, PROBE_WIDTH * sizeof (float));
      return FALSE;
    }
  for (guint i = 0; i < PROBE_WIDTH; i++)
    {
      float want = MAX (in[i], 0.0f) + 1.0f;

      /* fp16 compute on a device is exact here: small integers. */
      if (fabsf (v[i] - want) > 1e-3f)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "wrong result: y[%u] = %g, expected %g",
                       i, v[i], want);
          return FALSE;
        }
    }
  return TRUE;
}

/* Compile, load (first run, checked), then time @runs dispatches. */
static void
probe_backend (AneGraph   *graph,
               AneBackend  backend,
               const char *name,
               int         runs)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, backend);
  g_autoptr(AneTensor) input = NULL, first = NULL;
  g_autofree double *times = NULL;
  gint64 shape[] = { 1, PROBE_WIDTH };
  float in[PROBE_WIDTH];

  for (guint i = 0; i < PROBE_WIDTH; i++)
    in[i] = (float) i - PROBE_WIDTH / 2;

  if (!ane_executable_compile (exe, NULL, &error))
    {
      printf ("  %-10s unavailable: %s\n", name, error->message);
      return;
    }
  input = ane_tensor_new_from_floats ("x", shape, 2, in, PROBE_WIDTH, &error);
  if (input == NULL)
    {
      printf ("  %-10s compiles; failed to make the input: %s\n", name, error->message);
      return;
    }
  /* The first run loads the program (and binds any weights). */
  first = ane_executable_run_one (exe, input, &error);
  if (first == NULL)
    {
      printf ("  %-10s compiles; does not load/run: %s\n", name, error->message);
      return;
    }
  if (!check_output (first, in, &error))
    {
      printf ("  %-10s compiles and runs; %s\n", name, error->message);
      return;
    }

  times = g_new (double, runs);
  for (int i = 0; i < runs; i++)
    {
      g_autoptr(AneTensor) out = NULL;
      double t0 = now_us ();

      out = ane_executable_run_one (exe, input, &error);
      times[i] = now_us () - t0;
      if (out == NULL)
        {
          printf ("  %-10s compiles and loads; run %d failed: %s\n", name, i + 2, error->message);
          return;
        }
    }
  qsort (times, runs, sizeof (double), compare_doubles);
  printf ("  %-10s runs: compiles, loads, correct; median dispatch %.1f us (%d runs)\n",
          name, runs % 2 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2, runs);
}

/* What AUTO picks here, and why it passes the others over. */
static void
probe_auto (AneGraph *graph)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, ANE_BACKEND_AUTO);
  g_autofree char *report = NULL;
  g_auto(GStrv) lines = NULL;

  if (!ane_executable_compile (exe, NULL, &error))
    {
      printf ("auto: fails: %s\n", error->message);
      return;
    }
  report = ane_executable_dup_backend_report (exe);
  lines = g_strsplit (g_strchomp (report), "\n", -1);
  printf ("auto (ANE, then CoreML, then CPU):\n");
  for (guint i = 0; lines[i] != NULL; i++)
    printf ("  %s\n", lines[i]);
}

int
ane_tool_probe (int argc, char **argv)
{
  static int runs = 100;
  GOptionEntry entries[] = {
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Dispatches to time per backend (default 100)", "N" },
    { NULL }
  };
  static const struct { AneBackend backend; const char *name; } backends[] = {
    { ANE_BACKEND_REFERENCE, "reference" },
    { ANE_BACKEND_CPU,       "cpu" },
    { ANE_BACKEND_COREML,    "coreml" },
    { ANE_BACKEND_ANE,       "ane" },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = NULL;
  g_autofree char *report = NULL;
  int status = 0;

  if (!ane_tool_parse (&argc, &argv, "probe", "",
                       "Report, level by level, what this machine offers: the OS, the chip,\n"
                       "the Apple frameworks that open, the private classes found, and whether\n"
                       "a tiny program (x[1,16] -> relu -> add 1) compiles, loads and runs on\n"
                       "each backend, with the median dispatch latency of those that run.",
                       entries, 0, 0, &status))
    return status;
  if (runs < 1)
    {
      fprintf (stderr, "ane-tool probe: --runs must be at least 1\n");
      return 2;
    }

  report = ane_chip_info_dup_report (ane_chip_info ());
  printf ("%s", report);
  probe_frameworks ();
  probe_private_classes ();

  graph = tiny_graph (&error);
  if (graph == NULL)
    return ane_tool_fail ("probe", error);
  printf ("backends (x[1,16] -> relu -> add 1):\n");
  for (guint i = 0; i < G_N_ELEMENTS (backends); i++)
    probe_backend (graph, backends[i].backend, backends[i].name, runs);
  probe_auto (graph);
  return 0;
}
