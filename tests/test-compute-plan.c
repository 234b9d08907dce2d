/* test-compute-plan.c: AneComputePlan where there is no CoreML
 *
 * The plan itself is tested against fake CoreML classes in
 * tests/coreml/test-coreml-plan.m; here: the errors of a build without
 * CoreML (or with a table that has no compute plan), bad paths, and the
 * AneComputeDevice flags type.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "ane-compute-plan.h"
#include "ane-enum-types.h"
#include "runtime/coreml/ane-coreml-private.h"

#define NO_PLAN_MESSAGE \
  "MLComputePlan needs CoreML.framework on macOS 14.4 / iOS 17.4 or later; this platform has none"

typedef struct {
  char *tmp;
  char *package;    /* model.mlpackage with a Manifest.json */
  char *compiled;   /* model.mlmodelc */
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autofree char *manifest = NULL;
  (void) data;

  f->tmp = g_dir_make_tmp ("ane-compute-plan-XXXXXX", NULL);
  g_assert_nonnull (f->tmp);
  f->package = g_build_filename (f->tmp, "model.mlpackage", NULL);
  f->compiled = g_build_filename (f->tmp, "model.mlmodelc", NULL);
  g_assert_cmpint (g_mkdir (f->package, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (f->compiled, 0755), ==, 0);
  manifest = g_build_filename (f->package, "Manifest.json", NULL);
  g_assert_true (g_file_set_contents (manifest, "{}", -1, NULL));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *manifest = g_build_filename (f->package, "Manifest.json", NULL);
  (void) data;

  ane_coreml_api_set_override (NULL);
  g_remove (manifest);
  g_rmdir (f->package);
  g_rmdir (f->compiled);
  g_rmdir (f->tmp);
  g_free (f->tmp);
  g_free (f->package);
  g_free (f->compiled);
}

static void
on_plan (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError **error = user_data;
  AneComputePlan *plan;

  (void) source;
  plan = ane_compute_plan_new_for_package_finish (result, error);
  g_assert_null (plan);
  g_assert_nonnull (*error);
}

/* The default table: none off Apple. */
static void
test_no_coreml (Fixture *f, gconstpointer data)
{
  const char *paths[] = { f->package, f->compiled };
  GError *error = NULL;
  (void) data;

  if (ane_coreml_api_get_default () != NULL)
    {
      /* a legitimate skip (g_test_skip, not ane_test_skip): only on a Mac */
      g_test_skip ("this platform has CoreML: the no-CoreML error cannot happen");
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_assert_null (ane_compute_plan_new_for_package (paths[i], ANE_COMPUTE_UNITS_ALL, NULL, &error));
      g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error->message, NO_PLAN_MESSAGE));
      g_assert_nonnull (strstr (error->message, paths[i]));
      g_clear_error (&error);
    }

  ane_compute_plan_new_for_package_async (f->package, ANE_COMPUTE_UNITS_CPU_AND_NE, NULL, on_plan, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, NO_PLAN_MESSAGE));
  g_clear_error (&error);
}

/* A table that cannot plan (as an older shim would be): the same error,
 * on every platform. */
static void
test_table_without_plan (Fixture *f, gconstpointer data)
{
  static const AneCoremlApi no_plan = { .name = "a shim without compute plans" };
  GError *error = NULL;
  (void) data;

  ane_coreml_api_set_override (&no_plan);
  g_assert_null (ane_compute_plan_new_for_package (f->compiled, ANE_COMPUTE_UNITS_ALL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, NO_PLAN_MESSAGE));
  g_clear_error (&error);
}

/* Bad paths are refused before CoreML is asked, so the same everywhere. */
static void
test_bad_paths (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (f->tmp, "missing.mlpackage", NULL);
  g_autofree char *plain_dir = g_build_filename (f->tmp, "photos", NULL);
  g_autofree char *text = g_build_filename (f->tmp, "notes.txt", NULL);
  GError *error = NULL;
  (void) data;

  g_assert_null (ane_compute_plan_new_for_package (missing, ANE_COMPUTE_UNITS_ALL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  g_assert_cmpint (g_mkdir (plain_dir, 0755), ==, 0);
  g_assert_null (ane_compute_plan_new_for_package (plain_dir, ANE_COMPUTE_UNITS_ALL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, plain_dir));
  g_clear_error (&error);
  g_rmdir (plain_dir);

  g_assert_true (g_file_set_contents (text, "not a model", -1, NULL));
  g_assert_null (ane_compute_plan_new_for_package (text, ANE_COMPUTE_UNITS_ALL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, text));
  g_clear_error (&error);
  g_remove (text);

  g_assert_null (ane_compute_plan_new_for_package (f->package, (AneComputeUnits) 17, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

static void
test_device_flags (void)
{
  g_autoptr(GFlagsClass) klass = g_type_class_ref (ANE_TYPE_COMPUTE_DEVICE);
  static const struct { const char *nick; guint value; } values[] = {
    { "none", ANE_COMPUTE_DEVICE_NONE },
    { "cpu", ANE_COMPUTE_DEVICE_CPU },
    { "gpu", ANE_COMPUTE_DEVICE_GPU },
    { "neural-engine", ANE_COMPUTE_DEVICE_NEURAL_ENGINE },
  };

  g_assert_true (G_TYPE_IS_FLAGS (ANE_TYPE_COMPUTE_DEVICE));
  g_assert_cmpuint (ANE_COMPUTE_DEVICE_CPU | ANE_COMPUTE_DEVICE_GPU | ANE_COMPUTE_DEVICE_NEURAL_ENGINE, ==, 7);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      GFlagsValue *v = g_flags_get_value_by_nick (klass, values[i].nick);

      g_assert_nonnull (v);
      g_assert_cmpuint (v->value, ==, values[i].value);
    }
  g_assert_true (g_type_is_a (ANE_TYPE_COMPUTE_PLAN, G_TYPE_OBJECT));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/compute-plan/no-coreml", Fixture, NULL, fixture_setup, test_no_coreml, fixture_teardown);
  g_test_add ("/compute-plan/table-without-plan", Fixture, NULL, fixture_setup, test_table_without_plan, fixture_teardown);
  g_test_add ("/compute-plan/bad-paths", Fixture, NULL, fixture_setup, test_bad_paths, fixture_teardown);
  g_test_add_func ("/compute-plan/device-flags", test_device_flags);
  return g_test_run ();
}
