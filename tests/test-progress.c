/* test-progress.c: AneProgress on lowering, saving, loading, compiling and
 * generating: reports in order, 1.0 at the end, and cancelling that stops
 * the work and leaves nothing behind
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "ane-glib.h"
#include "ane-test-models.h"

/* What a progress reported, and when to cancel it. */
typedef struct {
  GArray    *fractions;   /* double */
  GPtrArray *stages;      /* const char *, as reported */
  GArray    *bytes_done;  /* guint64 */
  GArray    *bytes_total; /* guint64 */
  double     cancel_at;   /* cancel at the first report at or above; < 0: never */
  gboolean   cancel_from_thread;
  guint      n_after_cancel;   /* reports after the cancel (0 expected) */
  gboolean   cancelled;
} Record;

static void
record_init (Record *r,
             double  cancel_at)
{
  memset (r, 0, sizeof *r);
  r->fractions = g_array_new (FALSE, FALSE, sizeof (double));
  r->stages = g_ptr_array_new ();
  r->bytes_done = g_array_new (FALSE, FALSE, sizeof (guint64));
  r->bytes_total = g_array_new (FALSE, FALSE, sizeof (guint64));
  r->cancel_at = cancel_at;
}

static void
record_clear (Record *r)
{
  g_array_unref (r->fractions);
  g_ptr_array_unref (r->stages);
  g_array_unref (r->bytes_done);
  g_array_unref (r->bytes_total);
}

static gpointer
cancel_thread (gpointer data)
{
  g_cancellable_cancel (ane_progress_get_cancellable (data));
  return NULL;
}

static void
on_progress (AneProgress *progress,
             gpointer     user_data)
{
  Record *r = user_data;
  double f = ane_progress_get_fraction (progress);
  guint64 done = ane_progress_get_bytes_done (progress), total = ane_progress_get_bytes_total (progress);

  if (r->cancelled)
    r->n_after_cancel++;
  g_array_append_val (r->fractions, f);
  g_ptr_array_add (r->stages, (gpointer) ane_progress_get_stage (progress));
  g_array_append_val (r->bytes_done, done);
  g_array_append_val (r->bytes_total, total);
  if (r->cancel_at >= 0 && f >= r->cancel_at && !r->cancelled)
    {
      r->cancelled = TRUE;
      if (r->cancel_from_thread)
        g_thread_join (g_thread_new ("cancel", cancel_thread, progress));
      else
        ane_progress_cancel (progress);
    }
}

static AneProgress *
progress_new (Record *r)
{
  return ane_progress_new (on_progress, r, NULL);
}

/* Every report's fraction in [0, 1] and not below the one before; below 1
 * until the last, which is exactly 1.0. */
static void
assert_completed (Record *r)
{
  g_assert_cmpuint (r->fractions->len, >=, 2);
  for (guint i = 0; i < r->fractions->len; i++)
    {
      double f = g_array_index (r->fractions, double, i);

      g_assert_cmpfloat (f, >=, 0.0);
      if (i > 0)
        g_assert_cmpfloat (f, >=, g_array_index (r->fractions, double, i - 1));
      if (i + 1 < r->fractions->len)
        g_assert_cmpfloat (f, <, 1.0);
      g_assert_nonnull (g_ptr_array_index (r->stages, i));
    }
  g_assert_cmpfloat (g_array_index (r->fractions, double, r->fractions->len - 1), ==, 1.0);
}

static guint
count_stage (Record     *r,
             const char *stage)
{
  guint n = 0;

  for (guint i = 0; i < r->stages->len; i++)
    n += g_strcmp0 (g_ptr_array_index (r->stages, i), stage) == 0;
  return n;
}

/* x [1, 1024] through two 1024x1024 float32 weights: 4 MiB each, stored
 * fp16 in chunks of 2^18 elements, so a save reports several chunks. */
static AneGraph *
big_weights_graph (float scale)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) y = NULL;

  /* the builders return new references: each is dropped once used */
  y = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 1024 }, 2, &error);
  g_assert_no_error (error);
  for (guint l = 0; l < 2; l++)
    {
      g_autofree char *name = g_strdup_printf ("w%u", l);
      g_autofree float *v = g_new (float, 1024 * 1024);
      g_autoptr(AneTensor) value = NULL;
      g_autoptr(AneTensor) w = NULL;
      AneTensor *next;

      for (guint i = 0; i < 1024 * 1024; i++)
        v[i] = scale * (float) ((i * 7 + l) % 13) / 13.0f;
      value = ane_tensor_new_from_floats (name, (const gint64[]) { 1024, 1024 }, 2, v, 1024 * 1024, &error);
      g_assert_no_error (error);
      w = ane_graph_param_with_value (g, value, &error);
      g_assert_no_error (error);
      next = ane_graph_matmul (g, y, w, FALSE, FALSE, &error);
      g_assert_no_error (error);
      g_object_unref (y);
      y = next;
    }
  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&g);
}

static AnePackage *
package_of (AneGraph *g)
{
  g_autoptr(GError) error = NULL;
  AnePackage *pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);

  g_assert_no_error (error);
  g_assert_nonnull (pkg);
  return pkg;
}

/* The names in dir, sorted, joined by spaces ("" when empty): what a
 * cancelled save must not have changed. */
static char *
list_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static GBytes *
read_weights (const char *package)
{
  g_autofree char *file = g_build_filename (package, "Data", "com.apple.CoreML", "weights", "weight.bin", NULL);
  g_autoptr(GError) error = NULL;
  char *data;
  gsize size;

  g_assert_true (g_file_get_contents (file, &data, &size, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (data, size);
}

/* ---- the object --------------------------------------------------------- */

static void
count_destroy (gpointer data)
{
  (*(guint *) data)++;
}

static void
test_object (void)
{
  guint destroyed = 0;
  AneProgress *p = ane_progress_new (NULL, &destroyed, count_destroy);
  GCancellable *c = ane_progress_get_cancellable (p);
  g_autofree char *stage = NULL;
  double fraction = -1;

  g_assert_cmpfloat (ane_progress_get_fraction (p), ==, 0.0);
  g_assert_null (ane_progress_get_stage (p));
  g_assert_cmpuint (ane_progress_get_bytes_done (p), ==, 0);
  g_assert_cmpuint (ane_progress_get_bytes_total (p), ==, 0);
  g_assert_true (G_IS_CANCELLABLE (c));
  g_object_get (p, "fraction", &fraction, "stage", &stage, NULL);
  g_assert_cmpfloat (fraction, ==, 0.0);
  g_assert_null (stage);
  g_assert_false (g_cancellable_is_cancelled (c));
  ane_progress_cancel (p);
  g_assert_true (g_cancellable_is_cancelled (c));
  g_assert_cmpuint (destroyed, ==, 0);
  g_object_unref (p);
  g_assert_cmpuint (destroyed, ==, 1);
}

/* ---- lowering ----------------------------------------------------------- */

static void
test_lowering (void)
{
  g_autoptr(AneGraph) g = ane_test_model_transformer_block ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AneProgress) p = NULL;
  Record r;

  record_init (&r, -1);
  p = progress_new (&r);
  pkg = ane_package_new_from_graph_full (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, p, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pkg);
  assert_completed (&r);
  /* one report per op lowered, and the block has dozens */
  g_assert_cmpuint (count_stage (&r, "lowering"), >=, 20);
  g_assert_cmpuint (count_stage (&r, "lowering"), ==, r.fractions->len);
  record_clear (&r);
}

static void
test_lowering_cancel (void)
{
  g_autoptr(AneGraph) g = ane_test_model_transformer_block ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AneProgress) p = NULL;
  Record r;

  record_init (&r, 0.5);
  p = progress_new (&r);
  pkg = ane_package_new_from_graph_full (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, p, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (pkg);
  g_assert_true (r.cancelled);
  g_assert_cmpuint (r.n_after_cancel, ==, 0);
  g_assert_cmpfloat (ane_progress_get_fraction (p), <, 1.0);
  record_clear (&r);
}

/* ---- saving ------------------------------------------------------------- */

static void
test_save (void)
{
  g_autoptr(AneGraph) g = big_weights_graph (1.0f);
  g_autoptr(AnePackage) pkg = package_of (g);
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-progress-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "m.mlpackage", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneProgress) p = NULL;
  g_autoptr(GBytes) weights = NULL;
  guint64 total;
  Record r;

  record_init (&r, -1);
  p = progress_new (&r);
  g_assert_true (ane_package_save_full (pkg, path, FALSE, p, &error));
  g_assert_no_error (error);
  assert_completed (&r);
  /* 2 x 4 chunks of weights, at least, then the model */
  g_assert_cmpuint (count_stage (&r, "writing weights"), >=, 8);
  /* the model is written after the weights, and the final 1.0 keeps its stage */
  g_assert_cmpuint (count_stage (&r, "writing model"), ==, 2);
  g_assert_cmpstr (g_ptr_array_index (r.stages, 0), ==, "writing weights");
  /* the byte counts are weight.bin's */
  weights = read_weights (path);
  total = g_array_index (r.bytes_total, guint64, 0);
  g_assert_cmpuint (total, ==, g_bytes_get_size (weights));
  g_assert_cmpuint (total, >, 2 * 1024 * 1024 * 2);
  for (guint i = 1; i < r.bytes_done->len; i++)
    {
      g_assert_cmpuint (g_array_index (r.bytes_done, guint64, i), >=, g_array_index (r.bytes_done, guint64, i - 1));
      g_assert_cmpuint (g_array_index (r.bytes_total, guint64, i), ==, total);
    }
  g_assert_cmpuint (ane_progress_get_bytes_done (p), ==, total);

  /* the same progress again: it starts from 0 and is monotonic anew */
  g_array_set_size (r.fractions, 0);
  g_ptr_array_set_size (r.stages, 0);
  g_assert_true (ane_package_save_full (pkg, path, TRUE, p, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (g_array_index (r.fractions, double, 0), <, 0.1);
  assert_completed (&r);

  record_clear (&r);
  ane_test_remove_tree (dir);
}

/* Cancelled at half-way, from the callback or from another thread: the
 * save fails with G_IO_ERROR_CANCELLED and the directory holds what it
 * held before (no package, no temporary). */
static void
test_save_cancel_new (gconstpointer data)
{
  gboolean from_thread = GPOINTER_TO_INT (data);
  g_autoptr(AneGraph) g = big_weights_graph (1.0f);
  g_autoptr(AnePackage) pkg = package_of (g);
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-progress-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "m.mlpackage", NULL);
  g_autofree char *listing = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneProgress) p = NULL;
  Record r;

  record_init (&r, 0.5);
  r.cancel_from_thread = from_thread;
  p = progress_new (&r);
  g_assert_false (ane_package_save_full (pkg, path, FALSE, p, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (r.cancelled);
  g_assert_cmpuint (r.n_after_cancel, ==, 0);
  g_assert_cmpstr (g_ptr_array_index (r.stages, r.stages->len - 1), ==, "writing weights");
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "");
  record_clear (&r);
  ane_test_remove_tree (dir);
}

/* Over an old package, cancelled at half-way: the old one is unchanged. */
static void
test_save_cancel_old (void)
{
  g_autoptr(AneGraph) g_old = big_weights_graph (1.0f);
  g_autoptr(AneGraph) g_new = big_weights_graph (-2.0f);
  g_autoptr(AnePackage) old_pkg = package_of (g_old);
  g_autoptr(AnePackage) new_pkg = package_of (g_new);
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-progress-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "m.mlpackage", NULL);
  g_autofree char *before = NULL, *after = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneProgress) p = NULL;
  g_autoptr(GBytes) old_weights = NULL, kept_weights = NULL;
  Record r;

  g_assert_true (ane_package_save (old_pkg, path, FALSE, &error));
  g_assert_no_error (error);
  old_weights = read_weights (path);
  before = list_dir (dir);

  record_init (&r, 0.5);
  p = progress_new (&r);
  g_assert_false (ane_package_save_full (new_pkg, path, TRUE, p, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  kept_weights = read_weights (path);
  g_assert_true (g_bytes_equal (old_weights, kept_weights));
  after = list_dir (dir);
  g_assert_cmpstr (after, ==, before);
  record_clear (&r);
  ane_test_remove_tree (dir);
}

/* A loaded package copies its files: "copying", then "writing model". */
static void
test_save_loaded (void)
{
  g_autoptr(AneGraph) g = ane_test_model_mlp ();
  g_autoptr(AnePackage) made = package_of (g);
  g_autoptr(AnePackage) loaded = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-progress-XXXXXX");
  g_autofree char *src = g_build_filename (dir, "a.mlpackage", NULL);
  g_autofree char *dst = g_build_filename (dir, "b.mlpackage", NULL);
  g_autofree char *listing = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneProgress) p = NULL;
  Record r;

  g_assert_true (ane_package_save (made, src, FALSE, &error));
  g_assert_no_error (error);
  loaded = ane_package_load (src, &error);
  g_assert_no_error (error);

  record_init (&r, -1);
  p = progress_new (&r);
  g_assert_true (ane_package_save_full (loaded, dst, FALSE, p, &error));
  g_assert_no_error (error);
  assert_completed (&r);
  g_assert_cmpuint (count_stage (&r, "copying"), >=, 2);
  g_assert_cmpuint (count_stage (&r, "writing model"), ==, 2);
  record_clear (&r);
  ane_test_remove_tree (dst);

  /* cancelled at its first report: nothing is left */
  record_init (&r, 0.0);
  g_clear_object (&p);
  p = progress_new (&r);
  g_assert_false (ane_package_save_full (loaded, dst, FALSE, p, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "a.mlpackage");
  record_clear (&r);
  ane_test_remove_tree (dir);
}

/* ---- loading ------------------------------------------------------------ */

static void
test_load (void)
{
  g_autoptr(AneGraph) g = ane_test_model_mlp ();
  g_autoptr(AnePackage) made = package_of (g);
  g_autoptr(AnePackage) loaded = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-progress-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "m.mlpackage", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneProgress) p = NULL;
  Record r;

  g_assert_true (ane_package_save (made, path, FALSE, &error));
  g_assert_no_error (error);

  record_init (&r, -1);
  p = progress_new (&r);
  loaded = ane_package_load_full (path, p, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  assert_completed (&r);
  /* four steps and the end */
  g_assert_cmpuint (count_stage (&r, "loading"), ==, 5);
  g_assert_cmpuint (r.fractions->len, ==, 5);
  record_clear (&r);
  g_clear_object (&loaded);
  g_clear_object (&p);

  record_init (&r, 0.5);
  p = progress_new (&r);
  loaded = ane_package_load_full (path, p, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (loaded);
  g_assert_cmpuint (r.n_after_cancel, ==, 0);
  record_clear (&r);
  ane_test_remove_tree (dir);
}

/* ---- compiling ---------------------------------------------------------- */

static void
test_compile (void)
{
  g_autoptr(AneGraph) g = ane_test_model_transformer_block ();
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_CPU);
  g_autoptr(AneExecutable) exe2 = ane_executable_new (g, ANE_BACKEND_CPU);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneProgress) p = NULL;
  Record r;

  record_init (&r, -1);
  p = progress_new (&r);
  g_assert_true (ane_executable_compile_full (exe, p, &error));
  g_assert_no_error (error);
  g_assert_true (ane_executable_is_compiled (exe));
  assert_completed (&r);
  g_assert_cmpstr (g_ptr_array_index (r.stages, 0), ==, "compiling");
  record_clear (&r);
  g_clear_object (&p);

  /* cancelled at its first report: not compiled */
  record_init (&r, 0.0);
  p = progress_new (&r);
  g_assert_false (ane_executable_compile_full (exe2, p, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (ane_executable_is_compiled (exe2));
  record_clear (&r);
}

/* ---- generating --------------------------------------------------------- */

static char *
model_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "..", "data", "models", name, NULL);
}

static void
load_stories (AneLlamaModel **model,
              AneTokenizer  **tokenizer)
{
  g_autofree char *m = model_path ("stories260K.bin");
  g_autofree char *t = model_path ("tok512.bin");
  g_autoptr(GError) error = NULL;

  *model = ane_llama_model_load_llama2c (m, &error);
  g_assert_no_error (error);
  *tokenizer = ane_tokenizer_load_llama2c (t, 512, &error);
  g_assert_no_error (error);
}

static gboolean
count_token (gint32      token,
             const char *piece,
             gpointer    user_data)
{
  (*(guint *) user_data)++;
  return TRUE;
}

static void
test_generate (void)
{
  g_autoptr(AneLlamaModel) model = NULL;
  g_autoptr(AneTokenizer) tok = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneProgress) p = NULL;
  g_autofree char *text = NULL, *plain = NULL;
  guint n_tokens = 0;
  Record r;

  load_stories (&model, &tok);
  record_init (&r, -1);
  p = progress_new (&r);
  text = ane_llama_model_generate_full (model, tok, "Once upon a time", 24, ANE_BACKEND_CPU,
                                        ANE_PRECISION_FLOAT32, 0.0, 0.9, 0, p, count_token, &n_tokens, &error);
  g_assert_no_error (error);
  g_assert_nonnull (text);
  assert_completed (&r);
  g_assert_cmpstr (g_ptr_array_index (r.stages, 0), ==, "compiling");
  /* a report per step: each prompt token after BOS fed, each token made */
  g_assert_cmpuint (n_tokens, >, 0);
  g_assert_cmpuint (count_stage (&r, "generating"), >=, n_tokens);
  /* the same text as without a progress */
  plain = ane_llama_model_generate (model, tok, "Once upon a time", 24, ANE_BACKEND_CPU,
                                    ANE_PRECISION_FLOAT32, 0.0, 0.9, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, plain);
  record_clear (&r);
}

static void
test_generate_cancel (void)
{
  g_autoptr(AneLlamaModel) model = NULL;
  g_autoptr(AneTokenizer) tok = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneProgress) p = NULL;
  g_autofree char *text = NULL;
  guint n_tokens = 0;
  Record r;

  load_stories (&model, &tok);
  record_init (&r, 0.5);
  p = progress_new (&r);
  text = ane_llama_model_generate_full (model, tok, "Once upon a time", 40, ANE_BACKEND_CPU,
                                        ANE_PRECISION_FLOAT32, 0.0, 0.9, 0, p, count_token, &n_tokens, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (text);
  g_assert_true (r.cancelled);
  g_assert_cmpuint (r.n_after_cancel, ==, 0);
  g_assert_cmpfloat (ane_progress_get_fraction (p), <, 1.0);
  record_clear (&r);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/progress/object", test_object);
  g_test_add_func ("/ane/progress/lowering", test_lowering);
  g_test_add_func ("/ane/progress/lowering/cancel", test_lowering_cancel);
  g_test_add_func ("/ane/progress/save", test_save);
  g_test_add_data_func ("/ane/progress/save/cancel/callback", GINT_TO_POINTER (FALSE), test_save_cancel_new);
  g_test_add_data_func ("/ane/progress/save/cancel/thread", GINT_TO_POINTER (TRUE), test_save_cancel_new);
  g_test_add_func ("/ane/progress/save/cancel/old-kept", test_save_cancel_old);
  g_test_add_func ("/ane/progress/save/loaded", test_save_loaded);
  g_test_add_func ("/ane/progress/load", test_load);
  g_test_add_func ("/ane/progress/compile", test_compile);
  g_test_add_func ("/ane/progress/generate", test_generate);
  g_test_add_func ("/ane/progress/generate/cancel", test_generate_cancel);
  return g_test_run ();
}
