/* test-properties.c: the GObject properties of AneExecutable and AnePackage
 * read what the getters read, write through the setters, and notify only
 * when a value changes (G_PARAM_EXPLICIT_NOTIFY).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-test-util.h"
#include "ane-test-models.h"

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  guint *count = user_data;

  (*count)++;
}

static guint
watch (gpointer    object,
       const char *property,
       guint      *count)
{
  g_autofree char *signal = g_strconcat ("notify::", property, NULL);

  return g_signal_connect (object, signal, G_CALLBACK (count_notify), count);
}

static void
test_executable_backend (void)
{
  g_autoptr(AneGraph) graph = ane_test_model_mlp ();
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, ANE_BACKEND_CPU);
  g_autoptr(AneExecutable) bare = NULL;
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (exe), "backend");
  AneBackend backend = ANE_BACKEND_AUTO;

  g_assert_nonnull (pspec);
  g_assert_true (pspec->flags & G_PARAM_CONSTRUCT_ONLY);
  g_assert_true (pspec->flags & G_PARAM_READABLE);
  g_assert_true (G_PARAM_SPEC_VALUE_TYPE (pspec) == ANE_TYPE_BACKEND);
  g_object_get (exe, "backend", &backend, NULL);
  g_assert_cmpint (backend, ==, ANE_BACKEND_CPU);

  /* Set at construction through the property. */
  bare = g_object_new (ANE_TYPE_EXECUTABLE, "backend", ANE_BACKEND_REFERENCE, NULL);
  g_assert_cmpint (ane_executable_get_backend (bare), ==, ANE_BACKEND_REFERENCE);
}

static void
test_executable_defaults (void)
{
  g_autoptr(AneGraph) graph = ane_test_model_mlp ();
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, ANE_BACKEND_CPU);
  AneTarget target;
  AnePrecision precision;
  AneComputeUnits units;
  guint64 budget;

  g_object_get (exe, "target", &target, "precision", &precision,
                "compute-units", &units, "memory-budget", &budget, NULL);
  g_assert_cmpint (target, ==, ane_executable_get_target (exe));
  g_assert_cmpint (target, ==, ANE_TARGET_IOS18);
  g_assert_cmpint (precision, ==, ane_executable_get_precision (exe));
  g_assert_cmpint (precision, ==, ANE_PRECISION_FLOAT16);
  g_assert_cmpint (units, ==, ane_executable_get_compute_units (exe));
  g_assert_cmpint (units, ==, ANE_COMPUTE_UNITS_ALL);
  g_assert_cmpuint (budget, ==, ane_executable_get_memory_budget (exe));
  g_assert_cmpuint (budget, ==, ane_executable_default_memory_budget ());
}

static void
test_executable_notify (void)
{
  g_autoptr(AneGraph) graph = ane_test_model_mlp ();
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, ANE_BACKEND_CPU);
  guint n_target = 0, n_precision = 0, n_units = 0, n_budget = 0;
  guint64 budget = ane_executable_get_memory_budget (exe);

  watch (exe, "target", &n_target);
  watch (exe, "precision", &n_precision);
  watch (exe, "compute-units", &n_units);
  watch (exe, "memory-budget", &n_budget);

  /* The values they have already: no notification. */
  ane_executable_set_target (exe, ANE_TARGET_IOS18);
  g_object_set (exe, "precision", ANE_PRECISION_FLOAT16, "compute-units", ANE_COMPUTE_UNITS_ALL,
                "memory-budget", budget, NULL);
  ane_executable_set_memory_budget (exe, budget);
  g_assert_cmpuint (n_target + n_precision + n_units + n_budget, ==, 0);

  /* Through the property: one notification each, and the getters follow. */
  g_object_set (exe, "target", ANE_TARGET_IOS16, "precision", ANE_PRECISION_FLOAT32,
                "compute-units", ANE_COMPUTE_UNITS_CPU_ONLY, "memory-budget", budget + 1, NULL);
  g_assert_cmpuint (n_target, ==, 1);
  g_assert_cmpuint (n_precision, ==, 1);
  g_assert_cmpuint (n_units, ==, 1);
  g_assert_cmpuint (n_budget, ==, 1);
  g_assert_cmpint (ane_executable_get_target (exe), ==, ANE_TARGET_IOS16);
  g_assert_cmpint (ane_executable_get_precision (exe), ==, ANE_PRECISION_FLOAT32);
  g_assert_cmpint (ane_executable_get_compute_units (exe), ==, ANE_COMPUTE_UNITS_CPU_ONLY);
  g_assert_cmpuint (ane_executable_get_memory_budget (exe), ==, budget + 1);

  /* Through the setters: notified on change only. */
  ane_executable_set_target (exe, ANE_TARGET_IOS16);
  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
  ane_executable_set_compute_units (exe, ANE_COMPUTE_UNITS_CPU_ONLY);
  ane_executable_set_memory_budget (exe, budget + 1);
  g_assert_cmpuint (n_target + n_precision + n_units + n_budget, ==, 4);
  ane_executable_set_target (exe, ANE_TARGET_IOS17);
  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT16);
  ane_executable_set_compute_units (exe, ANE_COMPUTE_UNITS_CPU_AND_NE);
  ane_executable_set_memory_budget (exe, 0);
  g_assert_cmpuint (n_target, ==, 2);
  g_assert_cmpuint (n_precision, ==, 2);
  g_assert_cmpuint (n_units, ==, 2);
  g_assert_cmpuint (n_budget, ==, 2);
}

/* A budget set through the property is the one compile checks. */
static void
test_executable_budget_takes_effect (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_test_model_mlp ();
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, ANE_BACKEND_CPU);

  g_object_set (exe, "memory-budget", (guint64) 16, NULL);
  g_assert_false (ane_executable_compile (exe, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_object_set (exe, "memory-budget", (guint64) 0, NULL);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
}

static void
test_package_loaded (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "conformance", "multifunction",
                                                 "model.mlpackage", NULL);
  g_autoptr(AnePackage) pkg = ane_package_load (path, &error);
  g_auto(GStrv) functions = NULL;
  g_auto(GStrv) listed = NULL;
  g_autofree char *prop_path = NULL;
  g_autofree char *default_function = NULL;
  guint64 weight_bytes = 0;
  int spec = 0;

  g_assert_no_error (error);
  g_object_get (pkg, "functions", &functions, "path", &prop_path, "weight-bytes", &weight_bytes,
                "specification-version", &spec, "default-function", &default_function, NULL);
  listed = ane_package_list_functions (pkg);
  g_assert_cmpuint (g_strv_length (functions), ==, 2);
  g_assert_true (g_strv_equal ((const char *const *) functions, (const char *const *) listed));
  g_assert_true (g_strv_contains ((const char *const *) functions, default_function));
  g_assert_cmpstr (prop_path, ==, path);
  g_assert_cmpuint (weight_bytes, >, 0);
  g_assert_cmpuint (weight_bytes, ==, ane_package_get_weight_bytes (pkg));
  g_assert_cmpint (spec, ==, ane_package_get_specification_version (pkg));
}

static void
test_package_from_graph (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_test_model_mlp ();
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph (graph, ANE_TARGET_IOS16, ANE_PRECISION_FLOAT32, &error);
  g_auto(GStrv) functions = NULL;
  g_autofree char *path = NULL;
  guint64 weight_bytes = 0;
  GParamSpec *pspec;

  g_assert_no_error (error);
  g_object_get (pkg, "functions", &functions, "path", &path, "weight-bytes", &weight_bytes, NULL);
  g_assert_cmpstrv (functions, ((const char *const[]) { "main", NULL }));
  g_assert_null (path);
  g_assert_cmpuint (weight_bytes, ==, ane_package_get_weight_bytes (pkg));
  g_assert_cmpuint (weight_bytes, >, 0);
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (pkg), "functions");
  g_assert_false (pspec->flags & G_PARAM_WRITABLE);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/properties/executable/backend", test_executable_backend);
  g_test_add_func ("/ane/properties/executable/defaults", test_executable_defaults);
  g_test_add_func ("/ane/properties/executable/notify", test_executable_notify);
  g_test_add_func ("/ane/properties/executable/budget", test_executable_budget_takes_effect);
  g_test_add_func ("/ane/properties/package/loaded", test_package_loaded);
  g_test_add_func ("/ane/properties/package/from-graph", test_package_from_graph);
  return g_test_run ();
}
