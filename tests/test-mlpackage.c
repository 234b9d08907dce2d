/* test-mlpackage.c: the .mlpackage reader, AnePackage and saving bundles
 *
 * Every case of the conformance pack (tests/data/conformance, written by
 * coremltools) is loaded and described, and its numbers are checked against
 * the pack's README: spec version, opset, inputs/outputs/states and the op
 * counts "in the file". Each is then saved and must come back byte for byte
 * (Manifest.json, model.mlmodel, weight.bin). Broken packages are made by
 * copying a case to a temporary directory and corrupting one thing.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "ane-test-util.h"
#include "ane-package-private.h"
#include "mil/ane-mlpackage-private.h"

/* ---- the conformance pack, as its README describes it ---------------- */

typedef struct {
  const char *name;
  AneDType    dtype;
  guint       rank;
  gint64      shape[4];
} Feature;

typedef struct {
  const char *op;
  guint       count;
} OpCount;

typedef struct {
  const char *name;
  const char *opset;
  Feature     inputs[3];
  Feature     outputs[2];
  Feature     states[1];
  OpCount     ops[12];     /* "Ops in the file"; ends at a NULL op */
  guint       n_ops;       /* the README's total */
} FunctionCase;

typedef struct {
  const char  *name;
  int          spec_version;
  gboolean     has_weights;
  const char  *default_function;
  FunctionCase functions[2];
} ConformanceCase;

#define F32 ANE_DTYPE_FLOAT32
#define F16 ANE_DTYPE_FLOAT16

static const ConformanceCase conformance_cases[] = {
  { "mlp_fp32", 7, TRUE, "main", {
      { "main", "CoreML6",
        { { "x", F32, 2, { 2, 64 } } },
        { { "probs", F32, 2, { 2, 32 } } },
        { { NULL } },
        { { "const", 6 }, { "linear", 2 }, { "gelu", 1 }, { "softmax", 1 } }, 10 } } },
  { "mlp_fp16", 7, TRUE, "main", {
      { "main", "CoreML6",
        { { "x", F32, 2, { 2, 64 } } },
        { { "probs", F32, 2, { 2, 32 } } },
        { { NULL } },
        { { "const", 8 }, { "cast", 2 }, { "linear", 2 }, { "gelu", 1 }, { "softmax", 1 } }, 14 } } },
  { "transformer_block_fp32", 8, TRUE, "main", {
      { "main", "CoreML7",
        { { "x", F32, 3, { 1, 16, 64 } } },
        { { "y", F32, 3, { 1, 16, 64 } } },
        { { NULL } },
        { { "const", 36 }, { "linear", 6 }, { "reshape", 4 }, { "transpose", 4 }, { "add", 3 },
          { "layer_norm", 2 }, { "matmul", 2 }, { "gelu", 1 }, { "mul", 1 }, { "softmax", 1 } }, 60 } } },
  { "sdpa_ios18", 9, TRUE, "main", {
      { "main", "CoreML8",
        { { "query", F32, 4, { 1, 4, 16, 16 } }, { "key", F32, 4, { 1, 4, 16, 16 } },
          { "value", F32, 4, { 1, 4, 16, 16 } } },
        { { "out", F32, 4, { 1, 4, 16, 16 } } },
        { { NULL } },
        { { "const", 1 }, { "scaled_dot_product_attention", 1 } }, 2 } } },
  { "convnet_fp32", 7, TRUE, "main", {
      { "main", "CoreML6",
        { { "x", F32, 4, { 1, 3, 32, 32 } } },
        { { "logits", F32, 2, { 1, 10 } }, { "feature_map", F32, 4, { 1, 8, 16, 16 } } },
        { { NULL } },
        { { "const", 44 }, { "conv", 2 }, { "avg_pool", 1 }, { "batch_norm", 1 },
          { "conv_transpose", 1 }, { "linear", 1 }, { "max_pool", 1 }, { "reduce_mean", 1 },
          { "relu", 1 }, { "upsample_nearest_neighbor", 1 } }, 54 } } },
  { "rmsnorm_rope_fp16", 8, TRUE, "main", {
      { "main", "CoreML7",
        { { "x", F32, 3, { 1, 8, 32 } } },
        { { "y", F32, 3, { 1, 8, 32 } } },
        { { NULL } },
        { { "const", 16 }, { "mul", 6 }, { "add", 2 }, { "cast", 2 }, { "slice_by_index", 2 },
          { "concat", 1 }, { "reduce_mean", 1 }, { "rsqrt", 1 } }, 31 } } },
  { "quant_int8_ios16", 7, TRUE, "main", {
      { "main", "CoreML6",
        { { "x", F32, 2, { 4, 64 } } },
        { { "y", F32, 2, { 4, 64 } } },
        { { NULL } },
        { { "const", 1 }, { "constexpr_affine_dequantize", 1 }, { "linear", 1 }, { "relu", 1 } }, 4 } } },
  { "quant_int4_blockwise_ios18", 9, TRUE, "main", {
      { "main", "CoreML8",
        { { "x", F32, 2, { 4, 64 } } },
        { { "y", F32, 2, { 4, 64 } } },
        { { NULL } },
        { { "const", 3 }, { "cast", 2 }, { "constexpr_blockwise_shift_scale", 1 }, { "linear", 1 } }, 7 } } },
  { "palettized_ios18", 9, TRUE, "main", {
      { "main", "CoreML8",
        { { "x", F32, 2, { 4, 64 } } },
        { { "y", F32, 2, { 4, 64 } } },
        { { NULL } },
        { { "const", 3 }, { "cast", 2 }, { "constexpr_lut_to_dense", 1 }, { "linear", 1 } }, 7 } } },
  { "stateful_kv_ios18", 9, FALSE, "main", {
      { "main", "CoreML8",
        { { "x", F32, 2, { 1, 4 } } },
        { { "y", F32, 2, { 1, 4 } } },
        { { "s", F16, 2, { 1, 4 } } },
        { { "const", 3 }, { "cast", 2 }, { "read_state", 2 }, { "write_state", 1 }, { "add", 1 },
          { "mul", 1 } }, 10 } } },
  { "multifunction", 9, TRUE, "prefill", {
      { "prefill", "CoreML8",
        { { "x", F32, 3, { 1, 8, 64 } } },
        { { "y", F32, 3, { 1, 8, 64 } } },
        { { NULL } },
        { { "const", 2 }, { "linear", 1 }, { "relu", 1 } }, 4 },
      { "decode", "CoreML8",
        { { "x", F32, 3, { 1, 1, 64 } } },
        { { "y", F32, 3, { 1, 1, 64 } } },
        { { NULL } },
        { { "const", 2 }, { "linear", 1 }, { "tanh", 1 } }, 4 } } },
};

/* ---- helpers ----------------------------------------------------------- */

static char *
case_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "conformance", name, "model.mlpackage", NULL);
}

static void
copy_tree (const char *src,
           const char *dst)
{
  if (g_file_test (src, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GDir) dir = g_dir_open (src, 0, &error);
      const char *name;

      g_assert_no_error (error);
      g_assert_cmpint (g_mkdir_with_parents (dst, 0755), ==, 0);
      while ((name = g_dir_read_name (dir)))
        {
          g_autofree char *s = g_build_filename (src, name, NULL);
          g_autofree char *d = g_build_filename (dst, name, NULL);
          copy_tree (s, d);
        }
    }
  else
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *contents = NULL;
      gsize len;

      g_file_get_contents (src, &contents, &len, &error);
      g_assert_no_error (error);
      g_file_set_contents (dst, contents, (gssize) len, &error);
      g_assert_no_error (error);
    }
}

/* A private copy of a conformance case: <tmp>/model.mlpackage. */
static char *
copy_case (const char *name,
           char      **tmp_dir)
{
  g_autofree char *src = case_path (name);
  char *dst;

  *tmp_dir = ane_test_make_tmp_dir ("ane-mlpackage-XXXXXX");
  dst = g_build_filename (*tmp_dir, "model.mlpackage", NULL);
  copy_tree (src, dst);
  return dst;
}

static GBytes *
read_bytes (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static void
assert_same_file (const char *a,
                  const char *b)
{
  g_autoptr(GBytes) x = read_bytes (a);
  g_autoptr(GBytes) y = read_bytes (b);

  if (!g_bytes_equal (x, y))
    g_error ("'%s' (%" G_GSIZE_FORMAT " bytes) and '%s' (%" G_GSIZE_FORMAT " bytes) differ",
             a, g_bytes_get_size (x), b, g_bytes_get_size (y));
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Names in a directory, sorted, as one string ("a b c"). */
static char *
list_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static char *
model_file (const char *package)
{
  return g_build_filename (package, "Data", "com.apple.CoreML", "model.mlmodel", NULL);
}

static char *
weight_file (const char *package)
{
  return g_build_filename (package, "Data", "com.apple.CoreML", "weights", "weight.bin", NULL);
}

static void
assert_features (GPtrArray     *list,
                 const Feature *want,
                 guint          max)
{
  guint n = 0;

  while (n < max && want[n].name)
    n++;
  g_assert_nonnull (list);
  g_assert_cmpuint (list->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      AneTensor *t = g_ptr_array_index (list, i);
      guint rank;
      const gint64 *shape = ane_tensor_get_shape (t, &rank);

      g_assert_cmpstr (ane_tensor_get_name (t), ==, want[i].name);
      g_assert_cmpint (ane_tensor_get_dtype (t), ==, want[i].dtype);
      g_assert_false (ane_tensor_has_data (t));
      g_assert_cmpuint (rank, ==, want[i].rank);
      for (guint d = 0; d < rank; d++)
        g_assert_cmpint (shape[d], ==, want[i].shape[d]);
    }
}

static void
assert_histogram (GHashTable    *hist,
                  const OpCount *want,
                  guint          total)
{
  guint n = 0, sum = 0;
  GHashTableIter iter;
  gpointer key, value;

  g_assert_nonnull (hist);
  for (n = 0; n < 12 && want[n].op; n++)
    {
      gpointer got;

      if (!g_hash_table_lookup_extended (hist, want[n].op, NULL, &got))
        g_error ("op '%s' missing from the histogram", want[n].op);
      g_assert_cmpuint (GPOINTER_TO_UINT (got), ==, want[n].count);
      sum += want[n].count;
    }
  g_assert_cmpuint (sum, ==, total);
  g_hash_table_iter_init (&iter, hist);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gboolean listed = FALSE;

      for (guint i = 0; i < n; i++)
        listed |= strcmp (key, want[i].op) == 0;
      if (!listed)
        g_error ("op '%s' (%u) is not in the README's list", (const char *) key,
                 GPOINTER_TO_UINT (value));
    }
}

/* Everything the README says about a case. */
static void
check_case (AnePackage            *pkg,
            const ConformanceCase *c)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) functions = ane_package_list_functions (pkg);
  g_autoptr(GHashTable) metadata = ane_package_dup_metadata (pkg);
  g_autofree char *summary = ane_package_to_string (pkg);
  guint n_functions = c->functions[1].name ? 2 : 1;

  g_assert_cmpint (ane_package_get_specification_version (pkg), ==, c->spec_version);
  g_assert_cmpstr (ane_package_get_default_function (pkg), ==, c->default_function);
  g_assert_cmpuint (g_strv_length (functions), ==, n_functions);
  /* coremltools' multifunction saver writes no metadata. */
  if (n_functions == 1)
    {
      g_assert_cmpstr (g_hash_table_lookup (metadata, "com.github.apple.coremltools.version"), ==, "9.1.dev1");
      g_assert_cmpstr (g_hash_table_lookup (metadata, "com.github.apple.coremltools.source"), ==, "milinternal");
    }
  else
    g_assert_cmpuint (g_hash_table_size (metadata), ==, 0);

  for (guint f = 0; f < n_functions; f++)
    {
      const FunctionCase *fc = &c->functions[f];
      g_autoptr(GPtrArray) inputs = NULL;
      g_autoptr(GPtrArray) outputs = NULL;
      g_autoptr(GPtrArray) states = NULL;
      g_autoptr(GHashTable) hist = NULL;

      g_assert_cmpstr (functions[f], ==, fc->name);
      g_assert_cmpstr (ane_package_get_opset (pkg, fc->name, &error), ==, fc->opset);
      g_assert_no_error (error);
      inputs = ane_package_list_inputs (pkg, fc->name, &error);
      g_assert_no_error (error);
      assert_features (inputs, fc->inputs, G_N_ELEMENTS (fc->inputs));
      outputs = ane_package_list_outputs (pkg, fc->name, &error);
      g_assert_no_error (error);
      assert_features (outputs, fc->outputs, G_N_ELEMENTS (fc->outputs));
      states = ane_package_list_states (pkg, fc->name, &error);
      g_assert_no_error (error);
      assert_features (states, fc->states, G_N_ELEMENTS (fc->states));
      hist = ane_package_op_histogram (pkg, fc->name, &error);
      g_assert_no_error (error);
      assert_histogram (hist, fc->ops, fc->n_ops);
      g_assert_nonnull (strstr (summary, fc->name));
    }

  /* NULL is the default function. */
  {
    g_autoptr(GPtrArray) inputs = ane_package_list_inputs (pkg, NULL, &error);
    g_autoptr(GHashTable) hist = ane_package_op_histogram (pkg, NULL, &error);

    g_assert_no_error (error);
    assert_features (inputs, c->functions[0].inputs, G_N_ELEMENTS (c->functions[0].inputs));
    assert_histogram (hist, c->functions[0].ops, c->functions[0].n_ops);
    g_assert_cmpstr (ane_package_get_opset (pkg, NULL, &error), ==, c->functions[0].opset);
  }

  if (c->has_weights)
    g_assert_cmpuint (ane_package_get_weight_bytes (pkg), >, 0);
  else
    g_assert_cmpuint (ane_package_get_weight_bytes (pkg), ==, 0);
}

static void
test_conformance_case (gconstpointer data)
{
  const ConformanceCase *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = case_path (c->name);
  g_autoptr(AnePackage) pkg = ane_package_load (path, &error);
  g_autofree char *tmp = NULL;
  g_autofree char *saved = NULL;
  g_autoptr(AnePackage) again = NULL;
  g_autofree char *summary = NULL;

  g_assert_no_error (error);
  g_assert_true (ANE_IS_PACKAGE (pkg));
  g_assert_cmpstr (ane_package_get_path (pkg), ==, path);
  summary = ane_package_to_string (pkg);
  g_test_message ("%s", summary);
  check_case (pkg, c);

  /* Save and load again: the same package, and the same bytes. */
  tmp = ane_test_make_tmp_dir ("ane-mlpackage-XXXXXX");
  saved = g_build_filename (tmp, "copy.mlpackage", NULL);
  g_assert_true (ane_package_save (pkg, saved, FALSE, &error));
  g_assert_no_error (error);
  again = ane_package_load (saved, &error);
  g_assert_no_error (error);
  check_case (again, c);
  g_assert_cmpuint (ane_package_get_weight_bytes (again), ==, ane_package_get_weight_bytes (pkg));

  {
    g_autofree char *m1 = g_build_filename (path, "Manifest.json", NULL);
    g_autofree char *m2 = g_build_filename (saved, "Manifest.json", NULL);
    g_autofree char *p1 = model_file (path);
    g_autofree char *p2 = model_file (saved);
    g_autofree char *w1 = weight_file (path);
    g_autofree char *w2 = weight_file (saved);

    assert_same_file (m1, m2);
    assert_same_file (p1, p2);
    if (c->has_weights)
      assert_same_file (w1, w2);
  }
  ane_test_remove_tree (tmp);
}

/* multifunction: two functions share two blobs; weight bytes count each
 * blob once (W fp32 [64,64] + b fp32 [64]). */
static void
test_multifunction_weights (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = case_path ("multifunction");
  g_autoptr(AnePackage) pkg = ane_package_load (path, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (ane_package_get_weight_bytes (pkg), ==, 64 * 64 * 4 + 64 * 4);
}

static void
test_unknown_function (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = case_path ("multifunction");
  g_autoptr(AnePackage) pkg = ane_package_load (path, &error);
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GHashTable) hist = NULL;

  g_assert_no_error (error);
  list = ane_package_list_inputs (pkg, "extend", &error);
  g_assert_null (list);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "extend"));
  g_clear_error (&error);
  hist = ane_package_op_histogram (pkg, "extend", &error);
  g_assert_null (hist);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (ane_package_get_opset (pkg, "extend", &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
}

/* ---- bad packages -------------------------------------------------------- */

typedef void (*Corrupt) (const char *package);

typedef struct {
  const char *name;
  Corrupt     corrupt;
  int         code;
  const char *needles[3];   /* substrings the message must hold */
} BadCase;

static void
patch_file (const char *path,
            gsize       offset,
            const void *data,
            gsize       len)
{
  g_autoptr(GBytes) bytes = read_bytes (path);
  gsize size;
  guint8 *buf = g_bytes_unref_to_data (g_steal_pointer (&bytes), &size);

  g_assert_cmpuint (offset + len, <=, size);
  memcpy (buf + offset, data, len);
  ane_test_write_file (path, buf, size);
  g_free (buf);
}

static guint64
read_u64_at (const char *path,
             gsize       offset)
{
  g_autoptr(GBytes) bytes = read_bytes (path);
  guint64 v;

  memcpy (&v, (const guint8 *) g_bytes_get_data (bytes, NULL) + offset, 8);
  return GUINT64_FROM_LE (v);
}

static void
patch_u32 (const char *path,
           gsize       offset,
           guint32     value)
{
  guint32 le = GUINT32_TO_LE (value);

  patch_file (path, offset, &le, sizeof le);
}

static void
patch_u64 (const char *path,
           gsize       offset,
           guint64     value)
{
  guint64 le = GUINT64_TO_LE (value);

  patch_file (path, offset, &le, sizeof le);
}

/* Loads the manifest, lets @edit change it, writes it back. */
static void
edit_manifest (const char *package,
               void      (*edit) (JsonObject *root))
{
  g_autofree char *path = g_build_filename (package, "Manifest.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  edit (json_node_get_object (json_parser_get_root (parser)));
  json_generator_set_root (gen, json_parser_get_root (parser));
  json_generator_set_pretty (gen, TRUE);
  json_generator_to_file (gen, path, &error);
  g_assert_no_error (error);
}

static JsonObject *
first_entry (JsonObject *root)
{
  JsonObject *entries = json_object_get_object_member (root, "itemInfoEntries");
  g_autoptr(GList) ids = json_object_get_members (entries);

  return json_object_get_object_member (entries, ids->data);
}

static void
corrupt_no_manifest (const char *package)
{
  g_autofree char *path = g_build_filename (package, "Manifest.json", NULL);

  g_assert_cmpint (g_unlink (path), ==, 0);
}

static void
corrupt_manifest_json (const char *package)
{
  g_autofree char *path = g_build_filename (package, "Manifest.json", NULL);

  ane_test_write_file (path, "{\n    \"fileFormatVersion\": \"1.0.0\",\n    \"itemInfo", 48);
}

static void
drop_root_id (JsonObject *root)
{
  json_object_remove_member (root, "rootModelIdentifier");
}

static void
corrupt_no_root (const char *package)
{
  edit_manifest (package, drop_root_id);
}

static void
set_unknown_root (JsonObject *root)
{
  json_object_set_string_member (root, "rootModelIdentifier", "00000000-0000-0000-0000-000000000000");
}

static void
corrupt_root_not_in_entries (const char *package)
{
  edit_manifest (package, set_unknown_root);
}

static void
drop_entry_path (JsonObject *root)
{
  json_object_remove_member (first_entry (root), "path");
}

static void
corrupt_entry_without_path (const char *package)
{
  edit_manifest (package, drop_entry_path);
}

static void
set_escaping_path (JsonObject *root)
{
  json_object_set_string_member (first_entry (root), "path", "../../etc/passwd");
}

static void
corrupt_entry_escapes (const char *package)
{
  edit_manifest (package, set_escaping_path);
}

static void
set_bad_version (JsonObject *root)
{
  json_object_set_string_member (root, "fileFormatVersion", "1.0");
}

static void
corrupt_version_form (const char *package)
{
  edit_manifest (package, set_bad_version);
}

static void
set_future_version (JsonObject *root)
{
  json_object_set_string_member (root, "fileFormatVersion", "2.0.0");
}

static void
corrupt_version_future (const char *package)
{
  edit_manifest (package, set_future_version);
}

static void
set_version_number (JsonObject *root)
{
  json_object_set_int_member (root, "fileFormatVersion", 1);
}

static void
corrupt_version_type (const char *package)
{
  edit_manifest (package, set_version_number);
}

static void
corrupt_missing_item (const char *package)
{
  g_autofree char *weights = g_build_filename (package, "Data", "com.apple.CoreML", "weights", NULL);

  ane_test_remove_tree (weights);
}

static void
corrupt_truncated_model (const char *package)
{
  g_autofree char *path = model_file (package);
  g_autoptr(GBytes) bytes = read_bytes (path);

  ane_test_write_file (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes) / 2);
}

static void
corrupt_empty_model (const char *package)
{
  g_autofree char *path = model_file (package);

  /* A valid message (specificationVersion 7) with no ML program. */
  ane_test_write_file (path, "\x08\x07", 2);
}

static void
corrupt_no_model (const char *package)
{
  g_autofree char *path = model_file (package);

  g_assert_cmpint (g_unlink (path), ==, 0);
}

/* Rewrites model.mlmodel with the first blob reference pointing elsewhere. */
static AneMilBlobFileValue *
find_blob_ref (const AneMilBlock *block)
{
  for (gsize i = 0; i < block->n_operations; i++)
    {
      const AneMilOperation *op = block->operations[i];

      for (gsize j = 0; j < op->n_attributes; j++)
        {
          AneMilValue *v = op->attributes[j]->value;

          if (v->value_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE)
            return v->blobfilevalue;
        }
    }
  return NULL;
}

static void
rewrite_blob_ref (const char *package,
                  guint64     offset,
                  const char *file_name)
{
  g_autofree char *path = model_file (package);
  g_autoptr(GBytes) bytes = read_bytes (path);
  AneCoreMLModel *model;
  AneMilBlobFileValue *bfv;
  g_autofree guint8 *buf = NULL;
  gsize size;

  model = core_ml__specification__model__unpack (NULL, g_bytes_get_size (bytes),
                                                 g_bytes_get_data (bytes, NULL));
  g_assert_nonnull (model);
  bfv = find_blob_ref (model->mlprogram->functions[0]->value->block_specializations[0]->value);
  g_assert_nonnull (bfv);
  g_assert_cmpuint (bfv->offset, ==, 64);
  bfv->offset = offset;
  if (file_name)
    {
      free (bfv->filename);
      bfv->filename = strdup (file_name);
    }
  size = core_ml__specification__model__get_packed_size (model);
  buf = g_malloc (size);
  core_ml__specification__model__pack (model, buf);
  core_ml__specification__model__free_unpacked (model, NULL);
  ane_test_write_file (path, buf, size);
}

static void
corrupt_blob_offset_past_end (const char *package)
{
  rewrite_blob_ref (package, 1 << 20, NULL);
}

static void
corrupt_blob_offset_unaligned (const char *package)
{
  rewrite_blob_ref (package, 96, NULL);
}

static void
corrupt_blob_file_escapes (const char *package)
{
  rewrite_blob_ref (package, 64, "@model_path/../../weight.bin");
}

static void
corrupt_blob_file_missing (const char *package)
{
  rewrite_blob_ref (package, 64, "@model_path/weights/other.bin");
}

static void
corrupt_sentinel (const char *package)
{
  g_autofree char *path = weight_file (package);

  patch_u32 (path, 64, 0xCAFEBABE);
}

static void
corrupt_record_dtype (const char *package)
{
  g_autofree char *path = weight_file (package);

  /* mlp_fp32's blobs are fp32 (2); say fp16 (1). */
  patch_u32 (path, 64 + 4, 1);
}

static void
corrupt_record_size (const char *package)
{
  g_autofree char *path = weight_file (package);

  patch_u64 (path, 64 + 8, read_u64_at (path, 64 + 8) - 4);
}

static void
corrupt_record_data_offset (const char *package)
{
  g_autofree char *path = weight_file (package);

  patch_u64 (path, 64 + 16, 1 << 20);
}

static void
corrupt_storage_version (const char *package)
{
  g_autofree char *path = weight_file (package);

  patch_u32 (path, 4, 1);
}

static void
corrupt_no_weight_bin (const char *package)
{
  g_autofree char *path = weight_file (package);

  g_assert_cmpint (g_unlink (path), ==, 0);
}

static void
corrupt_truncated_weights (const char *package)
{
  g_autofree char *path = weight_file (package);
  g_autoptr(GBytes) bytes = read_bytes (path);

  ane_test_write_file (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes) - 100);
}

static const BadCase bad_cases[] = {
  { "no-manifest", corrupt_no_manifest, ANE_ERROR_NOT_FOUND, { "Manifest.json" } },
  { "manifest-json", corrupt_manifest_json, ANE_ERROR_PARSE, { "Manifest.json", "invalid JSON" } },
  { "no-root", corrupt_no_root, ANE_ERROR_PARSE, { "Manifest.json", "rootModelIdentifier" } },
  { "root-not-in-entries", corrupt_root_not_in_entries, ANE_ERROR_PARSE,
    { "Manifest.json", "rootModelIdentifier", "00000000-0000-0000-0000-000000000000" } },
  { "entry-without-path", corrupt_entry_without_path, ANE_ERROR_PARSE, { "Manifest.json", ".path" } },
  { "entry-escapes", corrupt_entry_escapes, ANE_ERROR_PARSE, { "Manifest.json", "../../etc/passwd" } },
  { "version-form", corrupt_version_form, ANE_ERROR_PARSE, { "Manifest.json", "fileFormatVersion" } },
  { "version-future", corrupt_version_future, ANE_ERROR_UNSUPPORTED, { "Manifest.json", "2.0.0" } },
  { "version-type", corrupt_version_type, ANE_ERROR_PARSE, { "Manifest.json", "fileFormatVersion" } },
  { "missing-item", corrupt_missing_item, ANE_ERROR_NOT_FOUND, { "Manifest.json", "weights" } },
  { "no-model", corrupt_no_model, ANE_ERROR_NOT_FOUND, { "model.mlmodel" } },
  { "truncated-model", corrupt_truncated_model, ANE_ERROR_PARSE, { "model.mlmodel", "truncated" } },
  { "not-ml-program", corrupt_empty_model, ANE_ERROR_UNSUPPORTED, { "model.mlmodel", "ML program" } },
  { "blob-offset-past-end", corrupt_blob_offset_past_end, ANE_ERROR_PARSE,
    { "weight.bin", "offset 1048576", "(const)" } },
  { "blob-offset-unaligned", corrupt_blob_offset_unaligned, ANE_ERROR_PARSE,
    { "weight.bin", "offset 96", "(const)" } },
  { "blob-file-escapes", corrupt_blob_file_escapes, ANE_ERROR_PARSE, { "model.mlmodel", "../../weight.bin" } },
  { "blob-file-missing", corrupt_blob_file_missing, ANE_ERROR_NOT_FOUND, { "other.bin", "(const)" } },
  { "sentinel", corrupt_sentinel, ANE_ERROR_PARSE, { "weight.bin", "offset 64", "sentinel" } },
  { "record-dtype", corrupt_record_dtype, ANE_ERROR_DTYPE, { "weight.bin", "offset 64", "(const)" } },
  { "record-size", corrupt_record_size, ANE_ERROR_PARSE, { "weight.bin", "offset 64", "(const)" } },
  { "record-data-offset", corrupt_record_data_offset, ANE_ERROR_PARSE, { "weight.bin", "offset 64" } },
  { "storage-version", corrupt_storage_version, ANE_ERROR_PARSE, { "weight.bin", "version" } },
  { "no-weight-bin", corrupt_no_weight_bin, ANE_ERROR_NOT_FOUND, { "weight.bin" } },
  { "truncated-weights", corrupt_truncated_weights, ANE_ERROR_PARSE, { "weight.bin", "past the end" } },
};

static void
test_bad_package (gconstpointer data)
{
  const BadCase *bc = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *path = copy_case ("mlp_fp32", &tmp);
  g_autoptr(AnePackage) pkg = NULL;

  /* The untouched copy loads. */
  pkg = ane_package_load (path, &error);
  g_assert_no_error (error);
  g_clear_object (&pkg);

  bc->corrupt (path);
  pkg = ane_package_load (path, &error);
  g_assert_null (pkg);
  g_assert_error (error, ANE_ERROR, bc->code);
  g_test_message ("%s: %s", bc->name, error->message);
  for (guint i = 0; i < G_N_ELEMENTS (bc->needles) && bc->needles[i]; i++)
    if (strstr (error->message, bc->needles[i]) == NULL)
      g_error ("'%s' is not in the message: %s", bc->needles[i], error->message);
  ane_test_remove_tree (tmp);
}

static void
test_not_a_directory (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_load ("/nonexistent/model.mlpackage", &error);

  g_assert_null (pkg);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/model.mlpackage"));
}

/* The stateful case's weights directory holds only .gitkeep (git drops
 * empty directories); an empty weights directory must load too. */
static void
test_empty_weights_dir (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *path = copy_case ("stateful_kv_ios18", &tmp);
  g_autofree char *keep = g_build_filename (path, "Data", "com.apple.CoreML", "weights", ".gitkeep", NULL);
  g_autoptr(AnePackage) pkg = NULL;

  g_unlink (keep);
  pkg = ane_package_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_package_get_weight_bytes (pkg), ==, 0);
  ane_test_remove_tree (tmp);
}

/* ---- unknown fields ------------------------------------------------------ */

static AneMilOperation *
first_op (AneCoreMLModel *model)
{
  return model->mlprogram->functions[0]->value->block_specializations[0]->value->operations[0];
}

static const ProtobufCMessageUnknownField *
find_unknown (const ProtobufCMessage *msg,
              guint32                 tag)
{
  for (unsigned i = 0; i < msg->n_unknown_fields; i++)
    if (msg->unknown_fields[i].tag == tag)
      return &msg->unknown_fields[i];
  return NULL;
}

/* Fields written by newer tools must survive a load and save: at the top
 * (appended bytes), inside a nested message (a second `description`, which
 * protobuf merges into the first) and deep in the program (an op). */
static void
test_unknown_fields (void)
{
  /* field 999 varint 42; field 2 (description) { field 777 varint 5 } */
  static const guint8 tail[] = { 0xb8, 0x3e, 42, 0x12, 0x03, 0xc8, 0x30, 0x05 };
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *path = copy_case ("mlp_fp32", &tmp);
  g_autofree char *mpath = model_file (path);
  g_autofree char *saved = g_build_filename (tmp, "saved.mlpackage", NULL);
  g_autofree char *saved_model = model_file (saved);
  g_autoptr(GBytes) orig = read_bytes (mpath);
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AnePackage) again = NULL;
  g_autoptr(GBytes) out = NULL;
  AneCoreMLModel *model;
  AneMilOperation *op;
  const ProtobufCMessageUnknownField *u;
  g_autofree guint8 *buf = NULL;
  gsize size;

  /* An op with an unknown length-delimited field 4242 = "hello". */
  model = core_ml__specification__model__unpack (NULL, g_bytes_get_size (orig),
                                                 g_bytes_get_data (orig, NULL));
  g_assert_nonnull (model);
  op = first_op (model);
  op->base.n_unknown_fields = 1;
  op->base.unknown_fields = malloc (sizeof (ProtobufCMessageUnknownField));
  op->base.unknown_fields[0].tag = 4242;
  op->base.unknown_fields[0].wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
  /* protobuf-c keeps an unknown field's bytes after the tag: for a
   * length-delimited field, the length too. */
  op->base.unknown_fields[0].len = 6;
  op->base.unknown_fields[0].data = (guint8 *) strdup ("\005hello");
  size = core_ml__specification__model__get_packed_size (model);
  buf = g_malloc (size + sizeof tail);
  core_ml__specification__model__pack (model, buf);
  core_ml__specification__model__free_unpacked (model, NULL);
  memcpy (buf + size, tail, sizeof tail);
  ane_test_write_file (mpath, buf, size + sizeof tail);

  pkg = ane_package_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (ane_package_save (pkg, saved, FALSE, &error));
  g_assert_no_error (error);
  again = ane_package_load (saved, &error);
  g_assert_no_error (error);
  check_case (again, &conformance_cases[0]);

  out = read_bytes (saved_model);
  model = core_ml__specification__model__unpack (NULL, g_bytes_get_size (out),
                                                 g_bytes_get_data (out, NULL));
  g_assert_nonnull (model);
  u = find_unknown (&model->base, 999);
  g_assert_nonnull (u);
  g_assert_cmpint (u->wire_type, ==, PROTOBUF_C_WIRE_TYPE_VARINT);
  g_assert_cmpuint (u->len, ==, 1);
  g_assert_cmpuint (u->data[0], ==, 42);
  u = find_unknown (&model->description->base, 777);
  g_assert_nonnull (u);
  g_assert_cmpuint (u->data[0], ==, 5);
  g_assert_cmpuint (model->description->n_input, ==, 1);   /* merged, not replaced */
  u = find_unknown (&first_op (model)->base, 4242);
  g_assert_nonnull (u);
  g_assert_cmpint (u->wire_type, ==, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
  g_assert_cmpmem (u->data, u->len, "\005hello", 6);
  core_ml__specification__model__free_unpacked (model, NULL);
  ane_test_remove_tree (tmp);
}

/* The model description's own metadata (author, licence, short description,
 * version): NULL when empty, as coremltools leaves them, and what the file
 * says once set; kept by a save. */
static void
test_model_metadata (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *path = copy_case ("mlp_fp32", &tmp);
  g_autofree char *mpath = model_file (path);
  g_autofree char *saved = g_build_filename (tmp, "saved.mlpackage", NULL);
  g_autoptr(GBytes) orig = read_bytes (mpath);
  g_autoptr(AnePackage) pkg = ane_package_load (path, &error);
  g_autoptr(AnePackage) again = NULL;
  AneCoreMLModel *model;
  CoreML__Specification__Metadata *md;
  g_autofree guint8 *buf = NULL;
  gsize size;

  g_assert_no_error (error);
  g_assert_null (ane_package_get_author (pkg));
  g_assert_null (ane_package_get_license (pkg));
  g_assert_null (ane_package_get_short_description (pkg));
  g_assert_null (ane_package_get_version_string (pkg));
  g_clear_object (&pkg);

  model = core_ml__specification__model__unpack (NULL, g_bytes_get_size (orig),
                                                 g_bytes_get_data (orig, NULL));
  g_assert_nonnull (model);
  md = model->description->metadata;
  g_assert_nonnull (md);   /* coremltools' userDefined keys are there */
  /* Set for packing only, put back before free_unpacked: unpack leaves
   * empty strings pointing at protobuf-c's shared "" (not to be freed). */
  {
    char *was[4] = { md->author, md->license, md->shortdescription, md->versionstring };

    md->author = (char *) "Ada Lovelace";
    md->license = (char *) "MIT";
    md->shortdescription = (char *) "A two-layer perceptron";
    md->versionstring = (char *) "1.2.3";
    size = core_ml__specification__model__get_packed_size (model);
    buf = g_malloc (size);
    core_ml__specification__model__pack (model, buf);
    md->author = was[0];
    md->license = was[1];
    md->shortdescription = was[2];
    md->versionstring = was[3];
  }
  core_ml__specification__model__free_unpacked (model, NULL);
  ane_test_write_file (mpath, buf, size);

  pkg = ane_package_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (ane_package_save (pkg, saved, FALSE, &error));
  again = ane_package_load (saved, &error);
  g_assert_no_error (error);
  for (AnePackage *p = pkg; p != NULL; p = p == pkg ? again : NULL)
    {
      g_autoptr(GHashTable) user = ane_package_dup_metadata (p);

      g_assert_cmpstr (ane_package_get_author (p), ==, "Ada Lovelace");
      g_assert_cmpstr (ane_package_get_license (p), ==, "MIT");
      g_assert_cmpstr (ane_package_get_short_description (p), ==, "A two-layer perceptron");
      g_assert_cmpstr (ane_package_get_version_string (p), ==, "1.2.3");
      g_assert_cmpstr (g_hash_table_lookup (user, "com.github.apple.coremltools.version"), ==, "9.1.dev1");
    }
  ane_test_remove_tree (tmp);
}

/* ---- saving ------------------------------------------------------------- */

static void
test_save_no_overwrite (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *src = case_path ("mlp_fp32");
  g_autoptr(AnePackage) pkg = ane_package_load (src, &error);
  g_autofree char *tmp = ane_test_make_tmp_dir ("ane-mlpackage-XXXXXX");
  g_autofree char *dst = g_build_filename (tmp, "out.mlpackage", NULL);
  g_autofree char *marker = g_build_filename (dst, "keep.txt", NULL);
  g_autofree char *listing = NULL;
  g_autoptr(GBytes) kept = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (dst, 0755), ==, 0);
  ane_test_write_file (marker, "original", 8);

  g_assert_false (ane_package_save (pkg, dst, FALSE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "out.mlpackage"));
  g_assert_nonnull (strstr (error->message, "exists"));

  kept = read_bytes (marker);
  g_assert_cmpmem (g_bytes_get_data (kept, NULL), g_bytes_get_size (kept), "original", 8);
  listing = list_dir (dst);
  g_assert_cmpstr (listing, ==, "keep.txt");
  g_free (listing);
  listing = list_dir (tmp);
  g_assert_cmpstr (listing, ==, "out.mlpackage");   /* no temporary left */
  ane_test_remove_tree (tmp);
}

static void
test_save_overwrite (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *src = case_path ("mlp_fp32");
  g_autoptr(AnePackage) pkg = ane_package_load (src, &error);
  g_autofree char *tmp = ane_test_make_tmp_dir ("ane-mlpackage-XXXXXX");
  g_autofree char *dst = g_build_filename (tmp, "out.mlpackage", NULL);
  g_autofree char *marker = g_build_filename (dst, "keep.txt", NULL);
  g_autofree char *listing = NULL;
  g_autoptr(AnePackage) again = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (dst, 0755), ==, 0);
  ane_test_write_file (marker, "original", 8);

  g_assert_true (ane_package_save (pkg, dst, TRUE, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  listing = list_dir (dst);
  g_assert_cmpstr (listing, ==, "Data Manifest.json");
  g_free (listing);
  listing = list_dir (tmp);
  g_assert_cmpstr (listing, ==, "out.mlpackage");
  again = ane_package_load (dst, &error);
  g_assert_no_error (error);
  check_case (again, &conformance_cases[0]);

  /* And over a plain file. */
  g_clear_object (&again);
  ane_test_remove_tree (dst);
  ane_test_write_file (dst, "not a package", 13);
  g_assert_false (ane_package_save (pkg, dst, FALSE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
  g_clear_error (&error);
  g_assert_true (ane_package_save (pkg, dst, TRUE, &error));
  g_assert_no_error (error);
  again = ane_package_load (dst, &error);
  g_assert_no_error (error);
  g_free (listing);
  listing = list_dir (tmp);
  g_assert_cmpstr (listing, ==, "out.mlpackage");
  ane_test_remove_tree (tmp);
}

/* Saving a package over its own directory: the new bundle is built from the
 * old one before it replaces it. */
static void
test_save_over_itself (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *path = copy_case ("multifunction", &tmp);
  g_autoptr(AnePackage) pkg = ane_package_load (path, &error);
  g_autoptr(AnePackage) again = NULL;
  g_autofree char *listing = NULL;
  g_autoptr(GBytes) blob = NULL;

  g_assert_no_error (error);
  g_assert_true (ane_package_save (pkg, path, TRUE, &error));
  g_assert_no_error (error);
  again = ane_package_load (path, &error);
  g_assert_no_error (error);
  check_case (again, &conformance_cases[G_N_ELEMENTS (conformance_cases) - 1]);
  listing = list_dir (tmp);
  g_assert_cmpstr (listing, ==, "model.mlpackage");
  /* The first package's mapping still reads (the old file is unlinked, not
   * overwritten). */
  blob = ane_mlpackage_dup_blob (ane_package_get_mlpackage (pkg), "@model_path/weights/weight.bin",
                                 64, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (blob), ==, 64 * 64 * 4);
  ane_test_remove_tree (tmp);
}

/* A failure half-way (an item vanished after loading) leaves nothing. */
static void
test_save_error_cleanup (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *path = copy_case ("mlp_fp32", &tmp);
  g_autoptr(AnePackage) pkg = ane_package_load (path, &error);
  g_autofree char *weights = g_build_filename (path, "Data", "com.apple.CoreML", "weights", NULL);
  g_autofree char *out_dir = ane_test_make_tmp_dir ("ane-mlpackage-XXXXXX");
  g_autofree char *dst = g_build_filename (out_dir, "out.mlpackage", NULL);
  g_autofree char *listing = NULL;

  g_assert_no_error (error);
  ane_test_remove_tree (weights);
  g_assert_false (ane_package_save (pkg, dst, FALSE, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == ANE_ERROR);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "weights"));
  listing = list_dir (out_dir);
  g_assert_cmpstr (listing, ==, "");
  g_clear_error (&error);

  /* The parent must exist. */
  g_assert_false (ane_package_save (pkg, "/nonexistent/dir/out.mlpackage", FALSE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  ane_test_remove_tree (tmp);
  ane_test_remove_tree (out_dir);
}

static void
async_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
test_async (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *src = case_path ("multifunction");
  g_autofree char *tmp = ane_test_make_tmp_dir ("ane-mlpackage-XXXXXX");
  g_autofree char *dst = g_build_filename (tmp, "async.mlpackage", NULL);
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AnePackage) again = NULL;
  GAsyncResult *result = NULL;

  ane_package_load_async (src, NULL, async_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  pkg = ane_package_load_finish (result, &error);
  g_clear_object (&result);
  g_assert_no_error (error);

  ane_package_save_async (pkg, dst, FALSE, NULL, async_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (ane_package_save_finish (pkg, result, &error));
  g_clear_object (&result);
  g_assert_no_error (error);
  again = ane_package_load (dst, &error);
  g_assert_no_error (error);
  check_case (again, &conformance_cases[G_N_ELEMENTS (conformance_cases) - 1]);

  ane_package_load_async ("/nonexistent.mlpackage", NULL, async_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (ane_package_load_finish (result, &error));
  g_clear_object (&result);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  ane_test_remove_tree (tmp);
}

/* ---- private API the writer and the interpreter build on ---------------- */

static void
test_private_blobs (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = case_path ("multifunction");
  g_autoptr(AnePackage) pkg = ane_package_load (path, &error);
  AneMLPackage *mp;
  g_autoptr(GBytes) file = NULL;
  g_autoptr(GBytes) w = NULL;
  g_autoptr(GBytes) b = NULL;
  g_autoptr(GBytes) bad = NULL;
  AneMilBlobRecord record;
  const guint8 *base;
  const AneMilProgram *program;
  guint n_values = 0;

  g_assert_no_error (error);
  mp = ane_package_get_mlpackage (pkg);
  g_assert_nonnull (mp);
  g_assert_nonnull (ane_mlpackage_get_model (mp));
  g_assert_cmpstr (ane_mlpackage_get_file_format_version (mp), ==, "1.0.0");
  g_assert_cmpuint (ane_mlpackage_get_items (mp)->len, ==, 2);
  g_assert_cmpstr (ane_mlpackage_get_root_item (mp)->name, ==, "model.mlmodel");
  g_assert_true (g_str_has_suffix (ane_mlpackage_get_weights_dir (mp), "weights"));
  g_assert_true (g_str_has_suffix (ane_mlpackage_get_model_path (mp), "model.mlmodel"));

  file = ane_mlpackage_get_weight_file (mp, "@model_path/weights/weight.bin", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (file), ==, 16832);
  base = g_bytes_get_data (file, NULL);

  /* W fp32 [64,64] at 64 and b fp32 [64] at 16512; zero-copy views. */
  w = ane_mlpackage_dup_blob (mp, "@model_path/weights/weight.bin", 64, &record, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (w), ==, 64 * 64 * 4);
  g_assert_true (g_bytes_get_data (w, NULL) == base + 128);
  g_assert_cmpuint (record.data_offset, ==, 128);
  g_assert_cmpint (record.data_type, ==, ANE_MILBLOB_FLOAT32);
  b = ane_mlpackage_dup_blob (mp, "@model_path/weights/weight.bin", 16512, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (b), ==, 64 * 4);

  bad = ane_mlpackage_dup_blob (mp, "@model_path/weights/weight.bin", 16576, NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "offset 16576"));
  g_clear_error (&error);

  /* Every blob value of both functions, checked against its type. */
  program = ane_mlpackage_get_program (mp);
  for (gsize f = 0; f < program->n_functions; f++)
    {
      const AneMilBlock *block = program->functions[f]->value->block_specializations[0]->value;

      for (gsize i = 0; i < block->n_operations; i++)
        for (gsize j = 0; j < block->operations[i]->n_attributes; j++)
          {
            const AneMilValue *v = block->operations[i]->attributes[j]->value;
            g_autoptr(GBytes) data = NULL;

            if (v->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE)
              continue;
            data = ane_mlpackage_dup_value_blob (mp, v, &error);
            g_assert_no_error (error);
            g_assert_true (g_bytes_get_data (data, NULL) == base + 128 ||
                           g_bytes_get_data (data, NULL) == base + 16512 + 64);
            n_values++;
          }
    }
  g_assert_cmpuint (n_values, ==, 4);   /* four references to two blobs */
}

/* The writer's path: stage a bundle from a model message and a weights
 * directory, with Apple's default manifest. */
static void
test_private_staging (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *src = case_path ("mlp_fp32");
  g_autoptr(AnePackage) pkg = ane_package_load (src, &error);
  g_autofree char *tmp = ane_test_make_tmp_dir ("ane-mlpackage-XXXXXX");
  g_autofree char *dst = g_build_filename (tmp, "staged.mlpackage", NULL);
  g_autoptr(AneMLPackageStaging) staging = NULL;
  g_autoptr(JsonNode) manifest = ane_mlpackage_manifest_new_default ();
  g_autofree char *text = ane_mlpackage_manifest_to_string (manifest);
  g_autofree char *weights_src = NULL;
  g_autofree char *weights_dst = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *abandoned = g_build_filename (tmp, "abandoned.mlpackage", NULL);
  g_autoptr(AnePackage) again = NULL;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (text, "{\n    \"fileFormatVersion\": \"1.0.0\",\n"));
  g_assert_true (g_str_has_suffix (text, "\"\n}\n"));

  staging = ane_mlpackage_staging_new (dst, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (ane_mlpackage_staging_get_data_dir (staging), G_FILE_TEST_IS_DIR));
  weights_src = g_build_filename (src, "Data", "com.apple.CoreML", "weights", NULL);
  weights_dst = g_build_filename (ane_mlpackage_staging_get_data_dir (staging),
                                  "com.apple.CoreML", "weights", NULL);
  copy_tree (weights_src, weights_dst);
  g_assert_false (g_file_test (dst, G_FILE_TEST_EXISTS));
  g_assert_true (ane_mlpackage_staging_commit (staging, manifest,
                                               ane_mlpackage_get_model (ane_package_get_mlpackage (pkg)),
                                               &error));
  g_assert_no_error (error);
  again = ane_package_load (dst, &error);
  g_assert_no_error (error);
  check_case (again, &conformance_cases[0]);

  /* An abandoned staging area leaves nothing. */
  g_clear_pointer (&staging, ane_mlpackage_staging_free);
  staging = ane_mlpackage_staging_new (abandoned, FALSE, &error);
  g_assert_no_error (error);
  g_clear_pointer (&staging, ane_mlpackage_staging_free);
  listing = list_dir (tmp);
  g_assert_cmpstr (listing, ==, "staged.mlpackage");
  ane_test_remove_tree (tmp);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (conformance_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/ane/mlpackage/conformance/%s", conformance_cases[i].name);
      g_test_add_data_func (name, &conformance_cases[i], test_conformance_case);
    }
  g_test_add_func ("/ane/mlpackage/multifunction/weight-bytes", test_multifunction_weights);
  g_test_add_func ("/ane/mlpackage/multifunction/unknown-function", test_unknown_function);
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/ane/mlpackage/bad/%s", bad_cases[i].name);
      g_test_add_data_func (name, &bad_cases[i], test_bad_package);
    }
  g_test_add_func ("/ane/mlpackage/bad/not-a-directory", test_not_a_directory);
  g_test_add_func ("/ane/mlpackage/empty-weights-dir", test_empty_weights_dir);
  g_test_add_func ("/ane/mlpackage/unknown-fields", test_unknown_fields);
  g_test_add_func ("/ane/mlpackage/model-metadata", test_model_metadata);
  g_test_add_func ("/ane/mlpackage/save/no-overwrite", test_save_no_overwrite);
  g_test_add_func ("/ane/mlpackage/save/overwrite", test_save_overwrite);
  g_test_add_func ("/ane/mlpackage/save/over-itself", test_save_over_itself);
  g_test_add_func ("/ane/mlpackage/save/error-cleanup", test_save_error_cleanup);
  g_test_add_func ("/ane/mlpackage/async", test_async);
  g_test_add_func ("/ane/mlpackage/private/blobs", test_private_blobs);
  g_test_add_func ("/ane/mlpackage/private/staging", test_private_staging);

  return g_test_run ();
}
