/* test-package-async.c: the _async/_finish forms of AnePackage's long calls
 * (new_from_graph, load, save) give what the sync calls give, run their
 * callback in the caller's main context, and honour a cancelled
 * GCancellable with G_IO_ERROR_CANCELLED.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-test-util.h"
#include "ane-test-models.h"

/* Keeps the callback's result; the test iterates the main context until
 * it is set, which also proves the callback ran there. */
static void
keep_result (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static GCancellable *
cancelled (void)
{
  GCancellable *c = g_cancellable_new ();

  g_cancellable_cancel (c);
  return c;
}

static AnePackage *
new_from_graph_async_wait (AneGraph      *graph,
                           AneTarget      target,
                           AnePrecision   precision,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ane_package_new_from_graph_async (graph, target, precision, cancellable, keep_result, &result);
  return ane_package_new_from_graph_finish (wait_for (&result), error);
}

static AnePackage *
load_async_wait (const char    *path,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ane_package_load_async (path, cancellable, keep_result, &result);
  return ane_package_load_finish (wait_for (&result), error);
}

static gboolean
save_async_wait (AnePackage    *pkg,
                 const char    *path,
                 gboolean       overwrite,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ane_package_save_async (pkg, path, overwrite, cancellable, keep_result, &result);
  return ane_package_save_finish (pkg, wait_for (&result), error);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Every file under root: its relative path, size and contents, in sorted order. */
static void
collect_tree (const char *root,
              const char *rel,
              GString    *out)
{
  g_autofree char *dir_path = rel ? g_build_filename (root, rel, NULL) : g_strdup (root);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = g_ptr_array_index (names, i);
      g_autofree char *child_rel = rel ? g_build_filename (rel, n, NULL) : g_strdup (n);
      g_autofree char *child = g_build_filename (root, child_rel, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        collect_tree (root, child_rel, out);
      else if (strcmp (n, "Manifest.json") == 0)
        /* Its item identifiers are fresh random UUIDs at every save
         * (mil/ane-mlpackage.c), as coremltools writes them: only its
         * presence is compared. */
        g_string_append_printf (out, "%s\n", child_rel);
      else
        {
          g_autofree char *contents = NULL;
          gsize len = 0;

          g_assert_true (g_file_get_contents (child, &contents, &len, NULL));
          g_string_append_printf (out, "%s %" G_GSIZE_FORMAT "\n", child_rel, len);
          g_string_append_len (out, contents, (gssize) len);
        }
    }
}

static GBytes *
tree_bytes (const char *root)
{
  GString *s = g_string_new (NULL);

  collect_tree (root, NULL, s);
  return g_string_free_to_bytes (s);
}

static void
assert_same_program (AnePackage *a,
                     AnePackage *b)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ta = ane_package_to_mil_text (a, &error);
  g_autofree char *tb = NULL;
  g_autofree char *sa = ane_package_to_string (a);
  g_autofree char *sb = ane_package_to_string (b);

  g_assert_no_error (error);
  tb = ane_package_to_mil_text (b, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ta, ==, tb);
  g_assert_cmpstr (sa, ==, sb);
  g_assert_cmpuint (ane_package_get_weight_bytes (a), ==, ane_package_get_weight_bytes (b));
}

static void
test_new_from_graph_matches_sync (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_test_model_mlp ();
  g_autoptr(AnePackage) sync = ane_package_new_from_graph (graph, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT16, &error);
  g_autoptr(AnePackage) async = NULL;

  g_assert_no_error (error);
  async = new_from_graph_async_wait (graph, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT16, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ANE_IS_PACKAGE (async));
  g_assert_true (async != sync);
  assert_same_program (sync, async);
  g_assert_cmpint (ane_package_get_specification_version (async), ==, 8);
}

static void
test_new_from_graph_error (void)
{
  g_autoptr(GError) sync_error = NULL;
  g_autoptr(GError) async_error = NULL;
  /* No outputs: the lowering refuses it. */
  g_autoptr(AneGraph) graph = ane_graph_new ();
  g_autoptr(AnePackage) sync = ane_package_new_from_graph (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, &sync_error);
  g_autoptr(AnePackage) async = NULL;

  g_assert_null (sync);
  g_assert_nonnull (sync_error);
  async = new_from_graph_async_wait (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, NULL, &async_error);
  g_assert_null (async);
  g_assert_error (async_error, sync_error->domain, sync_error->code);
  g_assert_cmpstr (async_error->message, ==, sync_error->message);
}

static void
test_new_from_graph_cancelled (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_test_model_mlp ();
  g_autoptr(GCancellable) cancellable = cancelled ();
  g_autoptr(AnePackage) pkg = new_from_graph_async_wait (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16,
                                                         cancellable, &error);

  g_assert_null (pkg);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_save_and_load_match_sync (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-async-XXXXXX");
  g_autofree char *sync_path = g_build_filename (dir, "sync.mlpackage", NULL);
  g_autofree char *async_path = g_build_filename (dir, "async.mlpackage", NULL);
  g_autoptr(AneGraph) graph = ane_test_model_mlp ();
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  g_autoptr(AnePackage) loaded_sync = NULL;
  g_autoptr(AnePackage) loaded_async = NULL;
  g_autoptr(GBytes) sync_tree = NULL;
  g_autoptr(GBytes) async_tree = NULL;

  g_assert_no_error (error);
  g_assert_true (ane_package_save (pkg, sync_path, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (save_async_wait (pkg, async_path, FALSE, NULL, &error));
  g_assert_no_error (error);
  /* The same bytes on disk, file for file. */
  sync_tree = tree_bytes (sync_path);
  async_tree = tree_bytes (async_path);
  g_assert_cmpuint (g_bytes_get_size (async_tree), >, 0);
  g_assert_true (g_bytes_equal (sync_tree, async_tree));

  /* An existing destination without overwrite: the sync call's error. */
  g_assert_false (save_async_wait (pkg, async_path, FALSE, NULL, &error));
  g_assert_nonnull (error);
  {
    g_autoptr(GError) sync_error = NULL;

    g_assert_false (ane_package_save (pkg, sync_path, FALSE, &sync_error));
    g_assert_error (error, sync_error->domain, sync_error->code);
  }
  g_clear_error (&error);

  loaded_sync = ane_package_load (async_path, &error);
  g_assert_no_error (error);
  loaded_async = load_async_wait (async_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ane_package_get_path (loaded_async), ==, async_path);
  assert_same_program (loaded_sync, loaded_async);
  ane_test_remove_tree (dir);
}

static void
test_load_error_and_cancel (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) sync_error = NULL;
  g_autoptr(GCancellable) cancellable = cancelled ();
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-async-XXXXXX");
  g_autofree char *missing = g_build_filename (dir, "missing.mlpackage", NULL);
  g_autofree char *path = g_build_filename (dir, "mlp.mlpackage", NULL);
  g_autoptr(AneGraph) graph = ane_test_model_mlp ();
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);

  g_assert_no_error (error);
  g_assert_null (ane_package_load (missing, &sync_error));
  g_assert_null (load_async_wait (missing, NULL, &error));
  g_assert_error (error, sync_error->domain, sync_error->code);
  g_assert_cmpstr (error->message, ==, sync_error->message);
  g_clear_error (&error);

  g_assert_true (ane_package_save (pkg, path, FALSE, &error));
  g_assert_no_error (error);
  /* A package that would load: the cancellation wins. */
  g_assert_null (load_async_wait (path, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  ane_test_remove_tree (dir);
}

static void
test_save_cancelled (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = cancelled ();
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-async-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "mlp.mlpackage", NULL);
  g_autoptr(AneGraph) graph = ane_test_model_mlp ();
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);

  g_assert_no_error (error);
  g_assert_false (save_async_wait (pkg, path, FALSE, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  ane_test_remove_tree (dir);
}

int
main (int argc, char *argv[])
{
  /* The conversion date is part of the model: one date for both calls. */
  g_setenv ("SOURCE_DATE_EPOCH", "1700000000", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/package/async/new-from-graph", test_new_from_graph_matches_sync);
  g_test_add_func ("/ane/package/async/new-from-graph-error", test_new_from_graph_error);
  g_test_add_func ("/ane/package/async/new-from-graph-cancelled", test_new_from_graph_cancelled);
  g_test_add_func ("/ane/package/async/save-load", test_save_and_load_match_sync);
  g_test_add_func ("/ane/package/async/load-error-cancel", test_load_error_and_cancel);
  g_test_add_func ("/ane/package/async/save-cancelled", test_save_cancelled);
  return g_test_run ();
}
