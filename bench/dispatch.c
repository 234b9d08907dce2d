/* bench/dispatch.c: what ane-glib itself costs around a Neural Engine dispatch
 *
 *   bench-dispatch [REPEATS] [--ane-only]
 *
 * The ANE backend's run path -- input checks, packing fp32 inputs into fp16
 * IOSurface rows, the evaluate message, unpacking fp16 outputs to fp32,
 * mapping them to the graph's outputs -- over a *null device*: a runtime
 * table whose evaluate does nothing and whose surfaces are plain memory.
 * No Apple software runs here; what is timed is host-side overhead only, the
 * part ane-glib adds to whatever the device takes. For each shape, y = x + 1
 * on [1, C, 1, S]: median time per ane_executable_run, the fp32 bytes in and
 * out per second, and a memcpy of the same bytes for scale. The CPU
 * backend's time for the same graph is printed as a point of comparison
 * (it computes; the null device does not).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ane-glib.h"
#include "runtime/ane/ane-ane-private.h"

#define CHECK(expr) G_STMT_START { if (!(expr)) { \
  fflush (stdout); \
  g_printerr ("%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr, error ? error->message : "?"); \
  exit (1); } } G_STMT_END

/* --- the null device --------------------------------------------------- */

typedef struct { guint8 *mem; gsize bpr, alloc; } Surface;

static int dummy_object;
#define OBJ ((AneObjcId) &dummy_object)

static gboolean n_open (const AneAneRuntime *rt, const char *path, char **message) { return TRUE; }
static AneObjcClass n_class (const AneAneRuntime *rt, const char *name) { return OBJ; }
static AneObjcSel n_sel (const AneAneRuntime *rt, const char *name) { return (gpointer) g_intern_string (name); }
static gboolean n_responds (const AneAneRuntime *rt, AneObjcClass c, AneObjcSel s, gboolean cm) { return TRUE; }
static gpointer n_push (const AneAneRuntime *rt) { return OBJ; }
static void n_pop (const AneAneRuntime *rt, gpointer pool) { }
static AneObjcId n_retain (const AneAneRuntime *rt, AneObjcId o) { return o; }
static void n_release (const AneAneRuntime *rt, AneObjcId o) { }
static char *n_describe (const AneAneRuntime *rt, AneObjcId o) { return g_strdup ("ane_glib_bench_null_device"); }
static AneObjcId n_data (const AneAneRuntime *rt, gconstpointer b, gsize n) { return OBJ; }
static AneObjcId n_number (const AneAneRuntime *rt, gint64 v) { return OBJ; }
static AneObjcId n_array (const AneAneRuntime *rt, const AneObjcId *items, gsize n) { return OBJ; }
static AneObjcId n_dict (const AneAneRuntime *rt, const char *const *k, const AneObjcId *v, gsize n) { return OBJ; }
static AneObjcId n_msg (const AneAneRuntime *rt, AneObjcId s, AneObjcSel sel) { return OBJ; }
static AneObjcId n_msg1 (const AneAneRuntime *rt, AneObjcId s, AneObjcSel sel, gpointer a) { return OBJ; }
static AneObjcId n_msg3 (const AneAneRuntime *rt, AneObjcId s, AneObjcSel sel, gpointer a, gpointer b, gpointer c) { return OBJ; }
static AneObjcId
n_msg7 (const AneAneRuntime *rt, AneObjcId s, AneObjcSel sel,
        gpointer a, gpointer b, gpointer c, gpointer d, gpointer e, gpointer f, gpointer g)
{
  return OBJ;
}
static gboolean n_qos (const AneAneRuntime *rt, AneObjcId s, AneObjcSel sel, guint q, AneObjcId o, AneObjcId *e) { return TRUE; }
static gboolean n_eval (const AneAneRuntime *rt, AneObjcId s, AneObjcSel sel, guint q, AneObjcId o, AneObjcId r, AneObjcId *e) { return TRUE; }
static gboolean n_unload (const AneAneRuntime *rt, AneObjcId s, AneObjcSel sel, guint q, AneObjcId *e) { return TRUE; }

static AneSurfaceRef
n_surface (const AneAneRuntime *rt, gsize bpr, gsize rows, gsize alloc)
{
  Surface *s = g_new0 (Surface, 1);

  s->bpr = bpr;
  s->alloc = alloc;
  s->mem = g_malloc0 (alloc);
  return s;
}
static gboolean n_lock (const AneAneRuntime *rt, AneSurfaceRef s, gboolean ro) { return TRUE; }
static void n_unlock (const AneAneRuntime *rt, AneSurfaceRef s, gboolean ro) { }
static gpointer n_base (const AneAneRuntime *rt, AneSurfaceRef s) { return ((Surface *) s)->mem; }
static gsize n_bpr (const AneAneRuntime *rt, AneSurfaceRef s) { return ((Surface *) s)->bpr; }
static gsize n_alloc (const AneAneRuntime *rt, AneSurfaceRef s) { return ((Surface *) s)->alloc; }
static void
n_cf_release (const AneAneRuntime *rt, gpointer cf)
{
  Surface *s = cf;

  if (s != NULL && (gpointer) s != OBJ)
    {
      g_free (s->mem);
      g_free (s);
    }
}

static const AneAneRuntime null_device = {
  .name = "null device",
  .open_framework = n_open, .get_class = n_class, .register_selector = n_sel, .responds = n_responds,
  .pool_push = n_push, .pool_pop = n_pop, .retain = n_retain, .release = n_release, .describe = n_describe,
  .new_data = n_data, .new_number = n_number, .new_array = n_array, .new_dictionary = n_dict,
  .msg_id = n_msg, .msg_id_p1 = n_msg1, .msg_id_p3 = n_msg3, .msg_id_p7 = n_msg7,
  .msg_bool_qos_opts_err = n_qos, .msg_bool_qos_opts_req_err = n_eval, .msg_bool_qos_err = n_unload,
  .surface_create = n_surface, .surface_lock = n_lock, .surface_unlock = n_unlock,
  .surface_base_address = n_base, .surface_bytes_per_row = n_bpr, .surface_alloc_size = n_alloc,
  .cf_release = n_cf_release,
};

/* --- timing ------------------------------------------------------------ */

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Median microseconds per run over repeats runs (after one warm-up). */
static double
time_runs (AneExecutable *exe,
           AneTensor     *x,
           int            repeats)
{
  g_autoptr(GError) error = NULL;
  g_autofree double *t = g_new (double, repeats);

  {
    g_autoptr(AneTensor) y = ane_executable_run_one (exe, x, &error);
    CHECK (y != NULL);
  }
  for (int i = 0; i < repeats; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr(AneTensor) y = ane_executable_run_one (exe, x, &error);

      t[i] = (double) (g_get_monotonic_time () - t0);
      CHECK (y != NULL);
    }
  qsort (t, repeats, sizeof (double), compare_doubles);
  return t[repeats / 2];
}

static double
time_memcpy (gsize bytes,
             int   repeats)
{
  g_autofree guint8 *a = g_malloc0 (bytes), *b = g_malloc0 (bytes);
  g_autofree double *t = g_new (double, repeats);

  memcpy (b, a, bytes);
  for (int i = 0; i < repeats; i++)
    {
      gint64 t0 = g_get_monotonic_time ();

      memcpy (b, a, bytes);
      t[i] = (double) (g_get_monotonic_time () - t0);
      a[i % bytes] = b[(i + 1) % bytes];   /* keep the copy from being elided */
    }
  qsort (t, repeats, sizeof (double), compare_doubles);
  return t[repeats / 2];
}

int
main (int argc, char **argv)
{
  static const gint64 shapes[][2] = { { 64, 64 }, { 768, 128 }, { 768, 512 }, { 4096, 64 } };
  int repeats = argc > 1 ? atoi (argv[1]) : 200;
  gboolean ane_only = argc > 2 && g_str_equal (argv[2], "--ane-only");   /* for profiling */
  g_autoptr(GError) error = NULL;

  if (repeats < 1)
    {
      g_printerr ("usage: bench-dispatch [REPEATS]\n");
      return 2;
    }
  ane_ane_runtime_set_override (&null_device);
  printf ("ANE backend over a null device (host-side work only), y = x + 1, median of %d runs\n", repeats);
  printf ("%-18s %12s %14s %14s %12s\n", "shape", "ane run us", "fp32 in+out", "memcpy same", "cpu run us");
  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    {
      gint64 shape[] = { 1, shapes[k][0], 1, shapes[k][1] };
      gint64 n = shapes[k][0] * shapes[k][1];
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, shape, 4, &error);
      g_autoptr(AneTensor) one = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 1.0, &error);
      g_autoptr(AneTensor) y = ane_graph_add (g, x, one, &error);
      g_autoptr(AneExecutable) ane = NULL, cpu = NULL;
      g_autoptr(AneTensor) xv = NULL;
      g_autofree float *data = g_new (float, n);
      g_autofree char *label = g_strdup_printf ("[1,%" G_GINT64_FORMAT ",1,%" G_GINT64_FORMAT "]",
                                                shapes[k][0], shapes[k][1]);
      double t_ane, t_cpu, t_copy, bytes = 2.0 * 4.0 * (double) n;

      CHECK (y != NULL && ane_graph_add_output (g, "y", y, &error));
      for (gint64 i = 0; i < n; i++)
        data[i] = (float) (i % 1000) / 100.0f;
      xv = ane_tensor_new_from_floats ("x", shape, 4, data, n, &error);
      CHECK (xv != NULL);
      ane = ane_executable_new (g, ANE_BACKEND_ANE);
      CHECK (ane_executable_compile (ane, NULL, &error));
      cpu = ane_executable_new (g, ANE_BACKEND_CPU);
      CHECK (ane_executable_compile (cpu, NULL, &error));
      t_ane = time_runs (ane, xv, repeats);
      t_cpu = ane_only ? 0 : time_runs (cpu, xv, repeats);
      t_copy = time_memcpy ((gsize) bytes, repeats);
      printf ("%-18s %12.1f %10.2f GB/s %10.2f GB/s %12.1f\n", label, t_ane, bytes / t_ane / 1e3,
              bytes / MAX (t_copy, 0.5) / 1e3, t_cpu);
    }
  ane_ane_runtime_set_override (NULL);
  return 0;
}
