/* test-package-write.c: packages made from graphs, and how they are written
 *
 * ane_package_new_from_graph() lowers a graph and keeps the model in memory;
 * every inspection call must answer as it does for the same package once
 * saved and loaded. Saving streams the weights into weight.bin; the blobs
 * are read back with the blob reader and compared with the graph's values
 * (rounded to fp16, or dequantized GGUF blocks). Failing saves (an unbound
 * param, an unwritable place, a write error half-way through, cancellation)
 * must leave nothing behind and an existing bundle untouched.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ane-test-util.h"
#include "ane-lower-test-util.h"
#include "mil/ane-mil-builder-private.h"
#include "ane-package-private.h"
#include "mil/ane-mlpackage-private.h"

#define F32 ANE_DTYPE_FLOAT32
#define F16 ANE_DTYPE_FLOAT16

/* ---- helpers ----------------------------------------------------------- */

/* The entries of a directory, sorted, joined by spaces. */
static char *
list_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static char *
weight_path (const char *bundle)
{
  return g_build_filename (bundle, "Data", "com.apple.CoreML", "weights", "weight.bin", NULL);
}

static char *
model_path (const char *bundle)
{
  return g_build_filename (bundle, "Data", "com.apple.CoreML", "model.mlmodel", NULL);
}

/* Every record of a weight file, in file order. */
static GArray *
list_records (AneMilBlobReader *reader)
{
  g_autoptr(GError) error = NULL;
  GArray *records = ane_milblob_reader_list (reader, &error);

  g_assert_no_error (error);
  return records;
}

static AneTensor *
random_tensor (const char *name,
               gint64      d0,
               gint64      d1,
               guint32     seed)
{
  gint64 shape[2] = { d0, d1 };

  return ane_test_tensor_random (name, shape, d1 > 0 ? 2 : 1, seed, -1.0f, 1.0f);
}

/* The MLP of the conformance case mlp_fp32, with our own weights:
 * x [2, 64] -> x.w1 + b1 -> gelu -> .w2 + b2 -> softmax -> probs [2, 32].
 * w2 is a param without a value when bind_w2 is FALSE. weights[] gets
 * w1, b1, w2, b2 (the value w2 should get). */
static AneGraph *
build_mlp (gboolean    bind_w2,
           AneTensor **weights)
{
  g_autoptr(GError) error = NULL;
  AneGraph *g = ane_graph_new ();
  gint64 xs[2] = { 2, 64 }, w2s[2] = { 48, 32 };
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", F32, xs, 2, &error);
  g_autoptr(AneTensor) w1 = NULL, b1 = NULL, w2 = NULL, b2 = NULL;
  g_autoptr(AneTensor) h = NULL, h2 = NULL, h3 = NULL, y = NULL, y2 = NULL, p = NULL;

  weights[0] = random_tensor ("w1", 64, 48, 1);
  weights[1] = random_tensor ("b1", 48, 0, 2);
  weights[2] = random_tensor ("w2", 48, 32, 3);
  weights[3] = random_tensor ("b2", 32, 0, 4);
  w1 = ane_graph_param_with_value (g, weights[0], &error);
  b1 = ane_graph_param_with_value (g, weights[1], &error);
  w2 = bind_w2 ? ane_graph_param_with_value (g, weights[2], &error)
               : ane_graph_param (g, "w2", F32, w2s, 2, &error);
  b2 = ane_graph_const (g, weights[3], &error);
  g_assert_no_error (error);
  h = ane_graph_matmul (g, x, w1, FALSE, FALSE, &error);
  h2 = ane_graph_add (g, h, b1, &error);
  h3 = ane_graph_gelu (g, h2, ANE_GELU_EXACT, &error);
  y = ane_graph_matmul (g, h3, w2, FALSE, FALSE, &error);
  y2 = ane_graph_add (g, y, b2, &error);
  p = ane_graph_softmax (g, y2, -1, &error);
  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "probs", p, &error));
  g_assert_no_error (error);
  return g;
}

static void
free_weights (AneTensor **weights)
{
  for (guint i = 0; i < 4; i++)
    g_clear_object (&weights[i]);
}

static void
assert_features_equal (GPtrArray *a,
                       GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      g_autofree char *sa = ane_tensor_to_string (g_ptr_array_index (a, i));
      g_autofree char *sb = ane_tensor_to_string (g_ptr_array_index (b, i));
      g_assert_cmpstr (sa, ==, sb);
    }
}

static void
assert_histograms_equal (GHashTable *a,
                         GHashTable *b)
{
  GHashTableIter iter;
  gpointer key, value;

  g_assert_cmpuint (g_hash_table_size (a), ==, g_hash_table_size (b));
  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_assert_cmpuint (GPOINTER_TO_UINT (value), ==, GPOINTER_TO_UINT (g_hash_table_lookup (b, key)));
}

/* Everything the public API tells about a package, compared. */
static void
assert_packages_agree (AnePackage *a,
                       AnePackage *b)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) fa = ane_package_list_functions (a);
  g_auto(GStrv) fb = ane_package_list_functions (b);
  g_autoptr(GHashTable) ma = ane_package_dup_metadata (a);
  g_autoptr(GHashTable) mb = ane_package_dup_metadata (b);
  GHashTableIter iter;
  gpointer key, value;

  g_assert_cmpint (ane_package_get_specification_version (a), ==,
                   ane_package_get_specification_version (b));
  g_assert_cmpstrv (fa, fb);
  g_assert_cmpstr (ane_package_get_default_function (a), ==, ane_package_get_default_function (b));
  g_assert_cmpuint (ane_package_get_weight_bytes (a), ==, ane_package_get_weight_bytes (b));
  for (guint i = 0; fa[i]; i++)
    {
      g_autoptr(GPtrArray) ia = ane_package_list_inputs (a, fa[i], &error);
      g_autoptr(GPtrArray) ib = ane_package_list_inputs (b, fa[i], &error);
      g_autoptr(GPtrArray) oa = ane_package_list_outputs (a, fa[i], &error);
      g_autoptr(GPtrArray) ob = ane_package_list_outputs (b, fa[i], &error);
      g_autoptr(GPtrArray) sa = ane_package_list_states (a, fa[i], &error);
      g_autoptr(GPtrArray) sb = ane_package_list_states (b, fa[i], &error);
      g_autoptr(GHashTable) ha = ane_package_op_histogram (a, fa[i], &error);
      g_autoptr(GHashTable) hb = ane_package_op_histogram (b, fa[i], &error);

      g_assert_no_error (error);
      g_assert_cmpstr (ane_package_get_opset (a, fa[i], NULL), ==, ane_package_get_opset (b, fa[i], NULL));
      assert_features_equal (ia, ib);
      assert_features_equal (oa, ob);
      assert_features_equal (sa, sb);
      assert_histograms_equal (ha, hb);
    }
  g_assert_cmpuint (g_hash_table_size (ma), ==, g_hash_table_size (mb));
  g_hash_table_iter_init (&iter, ma);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_assert_cmpstr (value, ==, g_hash_table_lookup (mb, key));
}

static GBytes *
pack_message (const ProtobufCMessage *msg)
{
  gsize size = protobuf_c_message_get_packed_size (msg);
  guint8 *buf = g_malloc (MAX (size, 1));

  g_assert_cmpuint (protobuf_c_message_pack (msg, buf), ==, size);
  return g_bytes_new_take (buf, size);
}

/* Saves, loads, and checks the loaded package against the in-memory one:
 * the public description, and the program and model packing to the very
 * same bytes. Returns the loaded package. */
static AnePackage *
save_and_reload (AnePackage *pkg,
                 const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) p1 = NULL, p2 = NULL, m1 = NULL, m2 = NULL, file = NULL;
  g_autofree char *mpath = model_path (path);
  AnePackage *loaded;

  g_assert_true (ane_package_save (pkg, path, FALSE, &error));
  g_assert_no_error (error);
  loaded = ane_package_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  assert_packages_agree (pkg, loaded);

  p1 = pack_message (&ane_package_get_model (pkg)->mlprogram->base);
  p2 = pack_message (&ane_package_get_model (loaded)->mlprogram->base);
  g_assert_true (g_bytes_equal (p1, p2));
  m1 = pack_message (&ane_package_get_model (pkg)->base);
  m2 = pack_message (&ane_package_get_model (loaded)->base);
  g_assert_true (g_bytes_equal (m1, m2));
  file = read_file (mpath);
  g_assert_true (g_bytes_equal (m1, file));
  return loaded;
}

/* Blob i of a weight file holds n values equal to expected[] as dtype. */
static void
assert_blob (AneMilBlobReader      *reader,
             const AneMilBlobRecord *record,
             AneDType               dtype,
             const float           *expected,
             gsize                  n)
{
  g_autoptr(GError) error = NULL;
  AneMilBlobRecord rec;
  g_autoptr(GBytes) data = ane_milblob_reader_dup_data (reader, record->offset, &rec, &error);
  const guint8 *p;
  gsize mismatches = 0;

  g_assert_no_error (error);
  g_assert_cmpint (rec.data_type, ==, dtype == F16 ? ANE_MILBLOB_FLOAT16 : ANE_MILBLOB_FLOAT32);
  g_assert_cmpuint (g_bytes_get_size (data), ==, n * ane_dtype_size (dtype));
  p = g_bytes_get_data (data, NULL);
  for (gsize i = 0; i < n; i++)
    {
      if (dtype == F16)
        {
          guint16 h;
          memcpy (&h, p + 2 * i, 2);
          mismatches += h != ane_float_to_half (expected[i]);
        }
      else
        {
          float f;
          memcpy (&f, p + 4 * i, 4);
          mismatches += memcmp (&f, &expected[i], 4) != 0;
        }
    }
  g_assert_cmpuint (mismatches, ==, 0);
}

static const float *
tensor_floats (AneTensor *t)
{
  return g_bytes_get_data (ane_tensor_get_data (t), NULL);
}

/* These tests read weight.bin blob by blob against the graph's weights in
 * their own layout: lowered generically (the Neural Engine profile, a
 * package's default, stores a [K, N] linear weight as its [N, K, 1, 1]
 * conv kernel; tests/test-lower-ane-profile.c covers it). */
static AnePackage *
generic_package (AneGraph      *g,
                 AneTarget      target,
                 AnePrecision   precision,
                 GError       **error)
{
  return ane_package_new_from_graph_with_lowering (g, target, precision, ANE_LOWERING_GENERIC, NULL, error);
}

/* ---- inspection in memory ---------------------------------------------- */

static void
test_inspect (void)
{
  g_autoptr(GError) error = NULL;
  AneTensor *w[4] = { 0 };
  g_autoptr(AneGraph) g = build_mlp (TRUE, w);
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS16, ANE_PRECISION_FLOAT32, &error);
  g_auto(GStrv) functions = NULL;
  g_auto(GStrv) warnings = NULL;
  g_autoptr(GPtrArray) inputs = NULL, outputs = NULL, states = NULL;
  g_autoptr(GHashTable) hist = NULL, metadata = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *s = NULL;
  guint64 expected_bytes = 0;

  g_assert_no_error (error);
  g_assert_nonnull (pkg);
  g_assert_null (ane_package_get_path (pkg));
  g_assert_cmpint (ane_package_get_specification_version (pkg), ==, 7);
  functions = ane_package_list_functions (pkg);
  g_assert_cmpstrv (functions, ((const char *[]) { "main", NULL }));
  g_assert_cmpstr (ane_package_get_default_function (pkg), ==, "main");
  g_assert_cmpstr (ane_package_get_opset (pkg, NULL, &error), ==, "CoreML6");

  inputs = ane_package_list_inputs (pkg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (inputs->len, ==, 1);
  s = ane_tensor_to_string (g_ptr_array_index (inputs, 0));
  g_test_message ("input: %s", s);
  g_assert_cmpstr (ane_tensor_get_name (g_ptr_array_index (inputs, 0)), ==, "x");
  g_assert_cmpint (ane_tensor_get_dtype (g_ptr_array_index (inputs, 0)), ==, F32);
  ane_test_assert_shape (g_ptr_array_index (inputs, 0), (gint64[]) { 2, 64 }, 2);
  outputs = ane_package_list_outputs (pkg, "main", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outputs->len, ==, 1);
  g_assert_cmpstr (ane_tensor_get_name (g_ptr_array_index (outputs, 0)), ==, "probs");
  ane_test_assert_shape (g_ptr_array_index (outputs, 0), (gint64[]) { 2, 32 }, 2);
  states = ane_package_list_states (pkg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (states->len, ==, 0);

  hist = ane_package_op_histogram (pkg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (hist, "softmax")), ==, 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (hist, "gelu")), ==, 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (hist, "const")), >=, 4);

  /* Four weights, all stored as fp32 blobs (the data, not the file). */
  for (guint i = 0; i < 4; i++)
    expected_bytes += ane_tensor_get_n_bytes (w[i]);
  g_assert_cmpuint (ane_package_get_weight_bytes (pkg), ==, expected_bytes);

  metadata = ane_package_dup_metadata (pkg);
  g_assert_cmpstr (g_hash_table_lookup (metadata, "com.github.ane-glib.version"), ==, PACKAGE_VERSION);
  g_assert_cmpstr (g_hash_table_lookup (metadata, "com.github.ane-glib.source"), ==, "AneGraph");
  g_assert_cmpstr (g_hash_table_lookup (metadata, "com.github.ane-glib.target"), ==, "ios16");
  g_assert_cmpstr (g_hash_table_lookup (metadata, "com.github.ane-glib.precision"), ==, "float32");
  g_assert_nonnull (g_hash_table_lookup (metadata, "com.github.ane-glib.conversion_date"));

  g_assert_true (ane_package_check_limits (pkg, &error));
  g_assert_no_error (error);
  warnings = ane_package_dup_warnings (pkg);
  g_assert_cmpuint (g_strv_length (warnings), ==, 0);

  summary = ane_package_to_string (pkg);
  g_test_message ("%s", summary);
  g_assert_nonnull (strstr (summary, "CoreML specification 7"));
  g_assert_nonnull (strstr (summary, "function main [CoreML6]"));
  free_weights (w);
}

/* macOS targets give the programs of the iOS target of their year. */
static void
test_macos_targets (void)
{
  static const struct { AneTarget target; int spec; const char *opset; } cases[] = {
    { ANE_TARGET_IOS15, 6, "CoreML5" }, { ANE_TARGET_MACOS12, 6, "CoreML5" },
    { ANE_TARGET_IOS16, 7, "CoreML6" }, { ANE_TARGET_MACOS13, 7, "CoreML6" },
    { ANE_TARGET_IOS17, 8, "CoreML7" }, { ANE_TARGET_MACOS14, 8, "CoreML7" },
    { ANE_TARGET_IOS18, 9, "CoreML8" }, { ANE_TARGET_MACOS15, 9, "CoreML8" },
  };
  AneTensor *w[4] = { 0 };
  g_autoptr(AneGraph) g = build_mlp (TRUE, w);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(AnePackage) pkg = ane_package_new_from_graph (g, cases[i].target, ANE_PRECISION_FLOAT16, &error);
      g_autoptr(GHashTable) metadata = NULL;

      g_assert_no_error (error);
      g_assert_cmpint (ane_package_get_specification_version (pkg), ==, cases[i].spec);
      g_assert_cmpstr (ane_package_get_opset (pkg, NULL, NULL), ==, cases[i].opset);
      metadata = ane_package_dup_metadata (pkg);
      g_assert_cmpstr (g_hash_table_lookup (metadata, "com.github.ane-glib.target"), ==,
                       ane_target_to_string (cases[i].target));
    }
  free_weights (w);
}

/* The description has the layout coremltools gives the same MLP
 * (tests/data/conformance/mlp_fp32): model-level input and output lists of
 * fixed-shape FLOAT32 multi-arrays with nothing else set, metadata only in
 * userDefined, and the program's buildInfo a dict<string, string>. */
static void
test_conformance_layout (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "conformance", "mlp_fp32",
                                                 "model.mlpackage", NULL);
  g_autoptr(AneMLPackage) ref = NULL;
  AneTensor *w[4] = { 0 };
  g_autoptr(AneGraph) g = build_mlp (TRUE, w);
  g_autoptr(AnePackage) pkg = NULL;
  const AneCoreMLModel *a, *b;
  const AneCoreMLModelDescription *da, *db;
  const AneMilProgram *pa, *pb;

  ref = ane_mlpackage_open (path, &error);
  g_assert_no_error (error);
  pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS16, ANE_PRECISION_FLOAT32, &error);
  g_assert_no_error (error);
  a = ane_package_get_model (pkg);
  b = ane_mlpackage_get_model (ref);
  g_assert_cmpint (a->specificationversion, ==, b->specificationversion);
  g_assert_cmpint (a->isupdatable, ==, b->isupdatable);
  g_assert_cmpint (a->type_case, ==, b->type_case);
  da = a->description;
  db = b->description;
  g_assert_cmpuint (da->n_input, ==, db->n_input);
  g_assert_cmpuint (da->n_output, ==, db->n_output);
  g_assert_cmpuint (da->n_state, ==, db->n_state);
  g_assert_cmpuint (da->n_functions, ==, db->n_functions);
  g_assert_cmpuint (da->n_traininginput, ==, db->n_traininginput);
  g_assert_cmpstr (da->defaultfunctionname, ==, db->defaultfunctionname);
  g_assert_cmpstr (da->predictedfeaturename, ==, db->predictedfeaturename);
  g_assert_cmpstr (da->predictedprobabilitiesname, ==, db->predictedprobabilitiesname);
  for (guint k = 0; k < 2; k++)
    {
      AneCoreMLFeatureDescription *fa = k ? da->output[0] : da->input[0];
      AneCoreMLFeatureDescription *fb = k ? db->output[0] : db->input[0];
      const AneCoreMLArrayFeatureType *xa = fa->type->multiarraytype, *xb = fb->type->multiarraytype;
      g_autoptr(GBytes) pfa = pack_message (&fa->base);
      g_autoptr(GBytes) pfb = pack_message (&fb->base);

      g_assert_cmpstr (fa->name, ==, fb->name);
      g_assert_cmpstr (fa->shortdescription, ==, fb->shortdescription);
      g_assert_cmpint (fa->type->type_case, ==, fb->type->type_case);
      g_assert_cmpint (fa->type->isoptional, ==, fb->type->isoptional);
      g_assert_cmpint (xa->datatype, ==, xb->datatype);
      g_assert_cmpint (xa->datatype, ==, CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT32);
      g_assert_cmpuint (xa->n_shape, ==, xb->n_shape);
      for (gsize i = 0; i < xa->n_shape; i++)
        g_assert_cmpint (xa->shape[i], ==, xb->shape[i]);
      g_assert_cmpint (xa->shape_flexibility_case, ==, xb->shape_flexibility_case);
      g_assert_cmpint (xa->default_optional_value_case, ==, xb->default_optional_value_case);
      /* Same shapes and names: the very same bytes. */
      g_assert_true (g_bytes_equal (pfa, pfb));
    }
  g_assert_nonnull (da->metadata);
  g_assert_cmpstr (da->metadata->shortdescription, ==, db->metadata->shortdescription);
  g_assert_cmpstr (da->metadata->versionstring, ==, db->metadata->versionstring);
  g_assert_cmpstr (da->metadata->author, ==, db->metadata->author);
  g_assert_cmpstr (da->metadata->license, ==, db->metadata->license);
  g_assert_cmpuint (da->metadata->n_userdefined, >=, db->metadata->n_userdefined);

  pa = a->mlprogram;
  pb = b->mlprogram;
  g_assert_cmpint (pa->version, ==, pb->version);
  g_assert_cmpuint (pa->n_attributes, ==, pb->n_attributes);
  g_assert_cmpstr (pa->attributes[0]->key, ==, "buildInfo");
  g_assert_cmpstr (pa->attributes[0]->key, ==, pb->attributes[0]->key);
  {
    const AneMilValue *va = pa->attributes[0]->value, *vb = pb->attributes[0]->value;
    const AneMilValueType *ka = va->type->dictionarytype->keytype, *kb = vb->type->dictionarytype->keytype;
    const AneMilValue *key_a = va->immediatevalue->dictionary->values[0]->key;
    const AneMilValue *key_b = vb->immediatevalue->dictionary->values[0]->key;
    g_autoptr(GBytes) ta = pack_message (&va->type->base);
    g_autoptr(GBytes) tb = pack_message (&vb->type->base);
    g_autoptr(GBytes) kta = pack_message (&key_a->type->base);
    g_autoptr(GBytes) ktb = pack_message (&key_b->type->base);

    g_assert_cmpint (va->type->type_case, ==, vb->type->type_case);
    g_assert_cmpint (ka->tensortype->datatype, ==, kb->tensortype->datatype);
    g_assert_true (g_bytes_equal (ta, tb));
    g_assert_true (g_bytes_equal (kta, ktb));
    g_assert_cmpstr (key_a->immediatevalue->tensor->strings->values[0], ==, "ane-glib-version");
  }
  g_assert_cmpuint (pa->n_functions, ==, pb->n_functions);
  g_assert_cmpstr (pa->functions[0]->key, ==, pb->functions[0]->key);
  g_assert_cmpstr (pa->functions[0]->value->opset, ==, pb->functions[0]->value->opset);
  free_weights (w);
}

/* ---- round trips --------------------------------------------------------- */

static void
test_roundtrip_fp16 (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "mlp.mlpackage", NULL);
  g_autofree char *wpath = weight_path (path);
  AneTensor *w[4] = { 0 };
  g_autoptr(AneGraph) g = build_mlp (TRUE, w);
  g_autoptr(AnePackage) pkg = generic_package (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT16, &error);
  g_autoptr(AnePackage) loaded = NULL;
  g_autoptr(AneMilBlobReader) reader = NULL;
  g_autoptr(GArray) records = NULL;
  GPtrArray *blobs;
  guint64 planned;
  GStatBuf st;

  g_assert_no_error (error);
  blobs = ane_package_get_pending_blobs (pkg, &planned);
  g_assert_cmpuint (blobs->len, ==, 4);
  loaded = save_and_reload (pkg, path);
  g_assert_cmpint (ane_package_get_specification_version (loaded), ==, 8);
  g_assert_null (ane_package_get_pending_blobs (loaded, NULL));

  /* The file is as planned, and every blob is the fp16 rounding of its
   * fp32 weight, in graph order. */
  g_assert_cmpint (g_stat (wpath, &st), ==, 0);
  g_assert_cmpuint ((guint64) st.st_size, ==, planned);
  reader = ane_milblob_reader_open (wpath, &error);
  g_assert_no_error (error);
  records = list_records (reader);
  g_assert_cmpuint (records->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      AneMilBlobRecord *rec = &g_array_index (records, AneMilBlobRecord, i);

      g_assert_cmpuint (rec->offset, ==, ((AneMilPendingBlob *) g_ptr_array_index (blobs, i))->offset);
      assert_blob (reader, rec, F16, tensor_floats (w[i]), ane_tensor_get_n_elements (w[i]));
    }
  g_assert_cmpuint (ane_package_get_weight_bytes (loaded), ==, (64 * 48 + 48 + 48 * 32 + 32) * 2);
  free_weights (w);
  ane_test_remove_tree (dir);
}

/* At fp32 the weights are stored as they are; the stream writes the very
 * bytes AneMilBlobWriter writes for the same blobs. */
static void
test_roundtrip_fp32 (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "mlp.mlpackage", NULL);
  g_autofree char *wpath = weight_path (path);
  g_autofree char *other = g_build_filename (dir, "other.bin", NULL);
  AneTensor *w[4] = { 0 };
  g_autoptr(AneGraph) g = build_mlp (TRUE, w);
  g_autoptr(AnePackage) pkg = generic_package (g, ANE_TARGET_IOS16, ANE_PRECISION_FLOAT32, &error);
  g_autoptr(AnePackage) loaded = NULL;
  g_autoptr(GBytes) a = NULL, b = NULL;
  AneMilBlobWriter *writer;

  g_assert_no_error (error);
  loaded = save_and_reload (pkg, path);

  writer = ane_milblob_writer_new (other, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 4; i++)
    {
      guint64 offset;

      g_assert_true (ane_milblob_writer_add (writer, ANE_MILBLOB_FLOAT32, tensor_floats (w[i]),
                                             ane_tensor_get_n_bytes (w[i]), &offset, &error));
      g_assert_no_error (error);
    }
  g_assert_true (ane_milblob_writer_finish (writer, FALSE, &error));
  a = read_file (wpath);
  b = read_file (other);
  g_assert_true (g_bytes_equal (a, b));
  free_weights (w);
  ane_test_remove_tree (dir);
}

/* Q8_0 blocks with scale s_b = (b + 1) / 64 and q_i = i - 16 + b. */
static GBytes *
make_q8_0 (gsize    n_blocks,
           double **values)
{
  guint8 *raw = g_malloc (n_blocks * 34);

  *values = g_new (double, n_blocks * 32);
  for (gsize b = 0; b < n_blocks; b++)
    {
      guint16 d = ane_float_to_half ((float) ((b % 16) + 1) / 64.0f);
      float df = ane_half_to_float (d);

      memcpy (raw + b * 34, &d, 2);
      for (gsize i = 0; i < 32; i++)
        {
          gint8 q = (gint8) ((gint) i - 16 + (gint) (b % 7));

          raw[b * 34 + 2 + i] = (guint8) q;
          (*values)[b * 32 + i] = (double) df * q;
        }
    }
  return g_bytes_new_take (raw, n_blocks * 34);
}

/* A GGUF block param: dequantized on the host when written. */
static void
test_roundtrip_q8_0 (gconstpointer data)
{
  AnePrecision precision = GPOINTER_TO_INT (data);
  AneDType stored = precision == ANE_PRECISION_FLOAT16 ? F16 : F32;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "q8.mlpackage", NULL);
  g_autofree char *wpath = weight_path (path);
  g_autoptr(AneGraph) g = ane_graph_new ();
  gint64 xs[2] = { 2, 64 }, ws[2] = { 32, 64 };
  g_autofree double *values = NULL;
  g_autoptr(GBytes) raw = make_q8_0 (32 * 64 / 32, &values);
  g_autoptr(AneTensor) wq = ane_tensor_new_from_bytes ("wq", ANE_DTYPE_Q8_0, ws, 2, raw, &error);
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", F32, xs, 2, &error);
  g_autoptr(AneTensor) wp = ane_graph_param (g, "wq", ANE_DTYPE_Q8_0, ws, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_dequant_matmul (g, x, wp, &error);
  g_autoptr(AnePackage) pkg = NULL, loaded = NULL;
  g_autoptr(AneMilBlobReader) reader = NULL;
  g_autoptr(GArray) records = NULL;
  g_autofree float *expected = g_new (float, 32 * 64);

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  /* Bound after the graph is built, before packaging; the blob is read
   * from the param when saving either way. */
  g_assert_true (ane_graph_bind_param (g, "wq", wq, &error));
  g_assert_no_error (error);
  pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS17, precision, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_package_get_weight_bytes (pkg), ==, 32 * 64 * ane_dtype_size (stored));
  loaded = save_and_reload (pkg, path);

  reader = ane_milblob_reader_open (wpath, &error);
  g_assert_no_error (error);
  records = list_records (reader);
  g_assert_cmpuint (records->len, ==, 1);
  for (guint i = 0; i < 32 * 64; i++)
    expected[i] = (float) values[i];   /* exact: an fp16 scale times an int8 */
  assert_blob (reader, &g_array_index (records, AneMilBlobRecord, 0), stored, expected, 32 * 64);
  ane_test_remove_tree (dir);
}

/* Stateful models (iOS18): states in the description, FLOAT16 arrays. */
static void
test_roundtrip_states (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "kv.mlpackage", NULL);
  g_autoptr(AneGraph) g = ane_graph_new ();
  gint64 shape[2] = { 1, 4 };
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", F32, shape, 2, &error);
  g_autoptr(AneTensor) s = ane_graph_state (g, "s", F16, shape, 2, &error);
  g_autoptr(AneTensor) r = ane_graph_read_state (g, s, &error);
  g_autoptr(AneTensor) xc = ane_graph_cast (g, x, F16, &error);
  g_autoptr(AneTensor) sum = ane_graph_add (g, r, xc, &error);
  g_autoptr(AneTensor) wr = ane_graph_write_state (g, s, sum, &error);
  g_autoptr(AneTensor) y = ane_graph_cast (g, wr, F32, &error);
  g_autoptr(AnePackage) pkg = NULL, loaded = NULL;
  g_autoptr(GPtrArray) states = NULL;
  const AneCoreMLModelDescription *desc;

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  g_assert_no_error (error);

  /* States need iOS18. */
  pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT16, &error);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_null (pkg);
  g_clear_error (&error);

  pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  g_assert_no_error (error);
  desc = ane_package_get_model (pkg)->description;
  g_assert_cmpuint (desc->n_state, ==, 1);
  g_assert_cmpint (desc->state[0]->type->type_case, ==, CORE_ML__SPECIFICATION__FEATURE_TYPE__TYPE_STATE_TYPE);
  g_assert_cmpint (desc->state[0]->type->statetype->arraytype->datatype, ==,
                   CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT16);
  states = ane_package_list_states (pkg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (states->len, ==, 1);
  g_assert_cmpstr (ane_tensor_get_name (g_ptr_array_index (states, 0)), ==, "s");
  g_assert_cmpint (ane_tensor_get_dtype (g_ptr_array_index (states, 0)), ==, F16);
  loaded = save_and_reload (pkg, path);
  g_assert_cmpint (ane_package_get_specification_version (loaded), ==, 9);
  ane_test_remove_tree (dir);
}

/* A program without weights still gets a weight.bin (a bare header), as
 * coremltools writes one. */
static void
test_no_weights (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "relu.mlpackage", NULL);
  g_autofree char *wpath = weight_path (path);
  g_autoptr(AneGraph) g = ane_graph_new ();
  gint64 shape[2] = { 2, 3 };
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", F32, shape, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_relu (g, x, &error);
  g_autoptr(AnePackage) pkg = NULL, loaded = NULL;
  g_autoptr(GBytes) bin = NULL;
  const guint8 *p;

  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS15, ANE_PRECISION_FLOAT16, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_package_get_weight_bytes (pkg), ==, 0);
  loaded = save_and_reload (pkg, path);
  g_assert_cmpint (ane_package_get_specification_version (loaded), ==, 6);
  bin = read_file (wpath);
  g_assert_cmpuint (g_bytes_get_size (bin), ==, 64);
  p = g_bytes_get_data (bin, NULL);
  g_assert_cmpuint (p[0], ==, 0);   /* count */
  g_assert_cmpuint (p[4], ==, 2);   /* version */
  ane_test_remove_tree (dir);
}

/* Interface dtypes: FLOAT16 needs iOS16; INT32 inputs stay INT32. */
static void
test_interface_dtypes (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_new ();
  gint64 shape[2] = { 2, 3 }, ishape[1] = { 2 };
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", F16, shape, 2, &error);
  g_autoptr(AneTensor) idx = ane_graph_input (g, "idx", ANE_DTYPE_INT32, ishape, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_relu (g, x, &error);
  g_autoptr(AneTensor) z = ane_graph_gather (g, y, idx, 0, &error);
  g_autoptr(AnePackage) pkg = NULL;
  const AneCoreMLModelDescription *desc;

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", z, &error));
  pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS15, ANE_PRECISION_FLOAT16, &error);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "'x'"));
  g_assert_nonnull (strstr (error->message, "iOS16"));
  g_assert_null (pkg);
  g_clear_error (&error);

  pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS16, ANE_PRECISION_FLOAT16, &error);
  g_assert_no_error (error);
  desc = ane_package_get_model (pkg)->description;
  g_assert_cmpuint (desc->n_input, ==, 2);
  g_assert_cmpint (desc->input[0]->type->multiarraytype->datatype, ==,
                   CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT16);
  g_assert_cmpint (desc->input[1]->type->multiarraytype->datatype, ==,
                   CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__INT32);
  g_assert_cmpint (desc->output[0]->type->multiarraytype->datatype, ==,
                   CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT16);
}

static void
test_conversion_date (void)
{
  g_autoptr(GError) error = NULL;
  AneTensor *w[4] = { 0 };
  g_autoptr(AneGraph) g = build_mlp (TRUE, w);
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(GHashTable) metadata = NULL;

  /* setenv() is only safe before threads exist: in a child of its own. */
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      free_weights (w);
      return;
    }
  g_setenv ("SOURCE_DATE_EPOCH", "86400", TRUE);
  pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS16, ANE_PRECISION_FLOAT16, &error);
  g_assert_no_error (error);
  metadata = ane_package_dup_metadata (pkg);
  g_assert_cmpstr (g_hash_table_lookup (metadata, "com.github.ane-glib.conversion_date"), ==, "1970-01-02");
  free_weights (w);
}

/* ---- params bound later, and missing ------------------------------------ */

static void
test_late_bind (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "mlp.mlpackage", NULL);
  g_autofree char *wpath = weight_path (path);
  g_autofree char *listing = NULL;
  AneTensor *w[4] = { 0 };
  g_autoptr(AneGraph) g = build_mlp (FALSE, w);
  g_autoptr(AnePackage) pkg = generic_package (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT16, &error);
  g_autoptr(AnePackage) loaded = NULL;
  g_autoptr(AneMilBlobReader) reader = NULL;
  g_autoptr(GArray) records = NULL;

  g_assert_no_error (error);
  /* Inspection does not need the weights. */
  g_assert_cmpuint (ane_package_get_weight_bytes (pkg), ==, (64 * 48 + 48 + 48 * 32 + 32) * 2);

  g_assert_false (ane_package_save (pkg, path, FALSE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_MISSING_PARAM);
  g_assert_nonnull (strstr (error->message, "'w2'"));
  g_clear_error (&error);
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "");

  g_assert_true (ane_graph_bind_param (g, "w2", w[2], &error));
  g_assert_no_error (error);
  loaded = save_and_reload (pkg, path);
  reader = ane_milblob_reader_open (wpath, &error);
  g_assert_no_error (error);
  records = list_records (reader);
  g_assert_cmpuint (records->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    assert_blob (reader, &g_array_index (records, AneMilBlobRecord, i), F16,
                 tensor_floats (w[i]), ane_tensor_get_n_elements (w[i]));
  free_weights (w);
  ane_test_remove_tree (dir);
}

/* A param bound to a value of another dtype or size than the one lowered
 * for (ane_graph_bind_param refuses that, so the blob is made by hand). */
static void
test_param_mismatch (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "bad.mlpackage", NULL);
  g_autofree char *listing = NULL;
  AneTensor *w[4] = { 0 };
  g_autoptr(AneGraph) g = build_mlp (TRUE, w);
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT16, &error);
  g_autoptr(GPtrArray) blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_mil_pending_blob_free);
  AneMilPendingBlob *blob = g_new0 (AneMilPendingBlob, 1);

  g_assert_no_error (error);
  blob->source = ANE_MIL_BLOB_FROM_PARAM;
  blob->param = g_strdup ("w1");
  blob->src_dtype = F16;
  blob->dst_dtype = F16;
  blob->n_elements = 64 * 48;
  blob->size = 64 * 48 * 2;
  blob->offset = 64;
  blob->blob_type = ANE_MILBLOB_FLOAT16;
  g_ptr_array_add (blobs, blob);
  g_assert_false (ane_mlpackage_write_lowered (path, FALSE, ane_package_get_model (pkg), blobs,
                                               64 + 64 + blob->size, g, NULL, NULL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_assert_nonnull (strstr (error->message, "'w1'"));
  g_clear_error (&error);

  blob->src_dtype = F32;
  blob->n_elements = 64 * 47;
  blob->size = 64 * 47 * 2;
  g_assert_false (ane_mlpackage_write_lowered (path, FALSE, ane_package_get_model (pkg), blobs,
                                               64 + 64 + blob->size, g, NULL, NULL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);

  g_free (blob->param);
  blob->param = g_strdup ("no_such_param");
  g_assert_false (ane_mlpackage_write_lowered (path, FALSE, ane_package_get_model (pkg), blobs,
                                               64 + 64 + blob->size, g, NULL, NULL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A planned offset the stream cannot honour. */
  g_free (blob->param);
  blob->param = g_strdup ("w1");
  blob->n_elements = 64 * 48;
  blob->size = 64 * 48 * 2;
  blob->offset = 128;
  g_assert_false (ane_mlpackage_write_lowered (path, FALSE, ane_package_get_model (pkg), blobs,
                                               128 + 64 + blob->size, g, NULL, NULL, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "offset 64"));
  g_clear_error (&error);

  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "");
  free_weights (w);
  ane_test_remove_tree (dir);
}

/* ---- every conversion, across chunk boundaries -------------------------- */

typedef struct {
  const char *name;
  AneDType    src;
  AneDType    dst;
  gsize       n;
} ConversionCase;

static const ConversionCase conversion_cases[] = {
  { "f32-f16",      F32, F16, 300001 },
  { "f32-f32",      F32, F32, 5000000 },   /* more than the I/O buffer: written in place */
  { "f16-f32",      F16, F32, 300001 },
  { "f16-f16",      F16, F16, 1000 },
  { "f32-bf16",     F32, ANE_DTYPE_BFLOAT16, 300001 },
  { "bf16-f16",     ANE_DTYPE_BFLOAT16, F16, 300001 },
  { "bf16-f32",     ANE_DTYPE_BFLOAT16, F32, 1000 },
  { "f16-bf16",     F16, ANE_DTYPE_BFLOAT16, 1000 },
  { "q8_0-f16",     ANE_DTYPE_Q8_0, F16, 32 * 10000 },
  { "q8_0-f32",     ANE_DTYPE_Q8_0, F32, 32 * 100 },
  { "q4_0-f16",     ANE_DTYPE_Q4_0, F16, 32 * 9000 },
  { "int32-int32",  ANE_DTYPE_INT32, ANE_DTYPE_INT32, 777 },
  { "int8-uint8",   ANE_DTYPE_INT8, ANE_DTYPE_UINT8, 777 },
};

static AneMilBlobDataType
blob_type (AneDType dtype)
{
  switch (dtype)
    {
    case ANE_DTYPE_FLOAT32:  return ANE_MILBLOB_FLOAT32;
    case ANE_DTYPE_FLOAT16:  return ANE_MILBLOB_FLOAT16;
    case ANE_DTYPE_BFLOAT16: return ANE_MILBLOB_BFLOAT16;
    case ANE_DTYPE_INT32:    return ANE_MILBLOB_INT32;
    case ANE_DTYPE_UINT8:    return ANE_MILBLOB_UINT8;
    default: g_assert_not_reached ();
    }
}

/* Source data: values exact in every float type involved (multiples of
 * 1/64 within +-4), or blocks and integers of a simple pattern. */
static GBytes *
conversion_source (AneDType  dtype,
                   gsize     n,
                   double   *values)
{
  gsize size;
  guint8 *raw;

  g_assert_true (ane_dtype_n_bytes (dtype, (gint64) n, &size, NULL));
  raw = g_malloc0 (size);
  if (ane_dtype_is_block (dtype))
    {
      guint bb = ane_dtype_block_bytes (dtype), bs = ane_dtype_block_size (dtype);

      for (gsize b = 0; b < n / bs; b++)
        {
          guint16 d = ane_float_to_half ((float) ((b % 5) + 1) / 8.0f);

          memcpy (raw + b * bb, &d, 2);
          for (guint i = 2; i < bb; i++)
            raw[b * bb + i] = (guint8) (b * 31 + i * 7);
        }
      g_assert_true (ane_dequant_blocks (dtype, raw, size, n, values, NULL));
    }
  else
    {
      for (gsize i = 0; i < n; i++)
        values[i] = ane_dtype_is_integer (dtype) ? (double) ((gint) (i % 251) - 125)
                                                 : ((double) ((gint) (i % 513) - 256)) / 64.0;
      ane_dtype_encode (dtype, values, n, raw);
    }
  return g_bytes_new_take (raw, size);
}

static void
test_conversion (gconstpointer data)
{
  const ConversionCase *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "conv.mlpackage", NULL);
  g_autofree char *wpath = weight_path (path);
  g_autofree double *values = g_new (double, c->n * 2);
  g_autoptr(GPtrArray) blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_mil_pending_blob_free);
  g_autoptr(AneGraph) g = ane_graph_new ();
  gint64 shape[2] = { 2, 3 };
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", F32, shape, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_relu (g, x, &error);
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AneMilBlobReader) reader = NULL;
  g_autoptr(GArray) records = NULL;
  g_autofree guint8 *expected = NULL;
  guint64 end = 64;

  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS16, ANE_PRECISION_FLOAT32, &error);
  g_assert_no_error (error);

  /* Two blobs, so the second one's record follows padding. */
  for (guint k = 0; k < 2; k++)
    {
      AneMilPendingBlob *blob = g_new0 (AneMilPendingBlob, 1);
      gsize n = k == 0 ? c->n : ane_dtype_block_size (c->src) * 3;

      blob->source = ANE_MIL_BLOB_FROM_BYTES;
      blob->data = conversion_source (c->src, n, values + (k ? c->n : 0));
      blob->src_dtype = c->src;
      blob->dst_dtype = c->dst;
      blob->n_elements = (gint64) n;
      blob->size = n * ane_dtype_size (c->dst);
      blob->blob_type = blob_type (c->dst);
      blob->offset = (end + 63) & ~(guint64) 63;
      end = blob->offset + 64 + blob->size;
      g_ptr_array_add (blobs, blob);
    }
  g_assert_true (ane_mlpackage_write_lowered (path, FALSE, ane_package_get_model (pkg), blobs, end,
                                              NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  reader = ane_milblob_reader_open (wpath, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_milblob_reader_get_size (reader), ==, end);
  records = list_records (reader);
  g_assert_cmpuint (records->len, ==, 2);
  for (guint k = 0; k < 2; k++)
    {
      AneMilPendingBlob *blob = g_ptr_array_index (blobs, k);
      AneMilBlobRecord rec;
      g_autoptr(GBytes) got = ane_milblob_reader_dup_data (reader, blob->offset, &rec, &error);
      gsize n = (gsize) blob->n_elements;

      g_assert_no_error (error);
      g_assert_cmpint (rec.data_type, ==, blob->blob_type);
      g_clear_pointer (&expected, g_free);
      expected = g_malloc (blob->size);
      if (ane_dtype_is_integer (c->src))
        memcpy (expected, g_bytes_get_data (blob->data, NULL), blob->size);   /* the bits, as they are */
      else
        ane_dtype_encode (c->dst, values + (k ? c->n : 0), n, expected);
      g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), expected, blob->size);
    }
  ane_test_remove_tree (dir);
}

/* ---- atomicity ----------------------------------------------------------- */

static void
test_no_overwrite (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "mlp.mlpackage", NULL);
  g_autofree char *mpath = model_path (path);
  g_autofree char *listing = NULL;
  AneTensor *w[4] = { 0 };
  g_autoptr(AneGraph) g = build_mlp (TRUE, w);
  g_autoptr(AnePackage) p16 = ane_package_new_from_graph (g, ANE_TARGET_IOS16, ANE_PRECISION_FLOAT16, &error);
  g_autoptr(AnePackage) p17 = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT16, &error);
  g_autoptr(AnePackage) loaded = NULL;
  g_autoptr(GBytes) before = NULL, after = NULL;

  g_assert_no_error (error);
  g_assert_true (ane_package_save (p16, path, FALSE, &error));
  g_assert_no_error (error);
  before = read_file (mpath);

  g_assert_false (ane_package_save (p17, path, FALSE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
  g_clear_error (&error);
  after = read_file (mpath);
  g_assert_true (g_bytes_equal (before, after));
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "mlp.mlpackage");

  g_assert_true (ane_package_save (p17, path, TRUE, &error));
  g_assert_no_error (error);
  loaded = ane_package_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ane_package_get_specification_version (loaded), ==, 8);
  g_free (listing);
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "mlp.mlpackage");
  free_weights (w);
  ane_test_remove_tree (dir);
}

/* A failing overwrite (an unbound param) leaves the old bundle as it was. */
static void
test_failed_overwrite_keeps_old (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "mlp.mlpackage", NULL);
  g_autofree char *wpath = weight_path (path);
  g_autofree char *mpath = model_path (path);
  g_autofree char *listing = NULL;
  AneTensor *w[4] = { 0 }, *w_unbound[4] = { 0 };
  g_autoptr(AneGraph) g = build_mlp (TRUE, w);
  g_autoptr(AneGraph) g_unbound = build_mlp (FALSE, w_unbound);
  g_autoptr(AnePackage) good = ane_package_new_from_graph (g, ANE_TARGET_IOS16, ANE_PRECISION_FLOAT16, &error);
  g_autoptr(AnePackage) bad = ane_package_new_from_graph (g_unbound, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT32, &error);
  g_autoptr(GBytes) m1 = NULL, w1 = NULL, m2 = NULL, w2 = NULL;

  g_assert_no_error (error);
  g_assert_true (ane_package_save (good, path, FALSE, &error));
  m1 = read_file (mpath);
  w1 = read_file (wpath);
  g_assert_false (ane_package_save (bad, path, TRUE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_MISSING_PARAM);
  m2 = read_file (mpath);
  w2 = read_file (wpath);
  g_assert_true (g_bytes_equal (m1, m2));
  g_assert_true (g_bytes_equal (w1, w2));
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "mlp.mlpackage");
  free_weights (w);
  free_weights (w_unbound);
  ane_test_remove_tree (dir);
}

static void
test_unwritable (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
  g_autofree char *file = g_build_filename (dir, "a-file", NULL);
  g_autofree char *under_file = g_build_filename (file, "x.mlpackage", NULL);
  g_autofree char *missing = g_build_filename (dir, "no", "such", "x.mlpackage", NULL);
  g_autofree char *listing = NULL;
  AneTensor *w[4] = { 0 };
  g_autoptr(AneGraph) g = build_mlp (TRUE, w);
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS16, ANE_PRECISION_FLOAT16, &error);

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  g_assert_false (ane_package_save (pkg, under_file, FALSE, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (ane_package_save (pkg, missing, FALSE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  if (geteuid () != 0)
    {
      g_autofree char *ro = g_build_filename (dir, "ro", NULL);
      g_autofree char *in_ro = g_build_filename (ro, "x.mlpackage", NULL);

      g_assert_cmpint (g_mkdir (ro, 0555), ==, 0);
      g_assert_false (ane_package_save (pkg, in_ro, FALSE, &error));
      g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
      g_clear_error (&error);
      g_chmod (ro, 0755);
      g_free (listing);
      listing = list_dir (ro);
      g_assert_cmpstr (listing, ==, "");
      g_clear_pointer (&listing, g_free);
    }
  else
    g_test_message ("running as root: the read-only directory case is left out");

  listing = list_dir (dir);
  g_assert_true (g_str_equal (listing, "a-file") || g_str_equal (listing, "a-file ro"));
  free_weights (w);
  ane_test_remove_tree (dir);
}

/* A write that fails half-way through weight.bin (the file size limit,
 * RLIMIT_FSIZE: EFBIG) must leave nothing, and an old bundle untouched. */
static void
test_midway_write_error (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *where = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
      g_autofree char *path = g_build_filename (where, "big.mlpackage", NULL);
      g_autofree char *old_model = NULL;
      g_autofree char *listing = NULL;
      g_autoptr(AneGraph) g = ane_graph_new ();
      gint64 xs[2] = { 1, 512 }, ws[2] = { 512, 512 };
      g_autoptr(AneTensor) wv = ane_test_tensor_random ("w", ws, 2, 7, -1, 1);
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", F32, xs, 2, &error);
      g_autoptr(AneTensor) w = ane_graph_param_with_value (g, wv, &error);
      g_autoptr(AneTensor) y = ane_graph_matmul (g, x, w, FALSE, FALSE, &error);
      g_autoptr(AnePackage) pkg = NULL;
      g_autoptr(GBytes) before = NULL, after = NULL;
      struct rlimit lim = { 256 * 1024, 256 * 1024 };

      g_assert_true (ane_graph_add_output (g, "y", y, &error));
      pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS16, ANE_PRECISION_FLOAT16, &error);
      g_assert_no_error (error);
      /* An old bundle, written before the limit. */
      g_assert_true (ane_package_save (pkg, path, FALSE, &error));
      g_assert_no_error (error);
      old_model = model_path (path);
      before = read_file (old_model);

      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &lim), ==, 0);
      g_assert_false (ane_package_save (pkg, path, TRUE, &error));
      g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
      g_assert_nonnull (strstr (error->message, "weight.bin"));
      g_test_message ("%s", error->message);
      after = read_file (old_model);
      g_assert_true (g_bytes_equal (before, after));
      listing = list_dir (where);
      g_assert_cmpstr (listing, ==, "big.mlpackage");
      ane_test_remove_tree (where);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
save_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GError **error = user_data;

  ane_package_save_finish (ANE_PACKAGE (source), result, error);
  if (*error == NULL)
    g_set_error_literal (error, ANE_ERROR, ANE_ERROR_FAILED, "no error: saved");
}

static void
test_async (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "mlp.mlpackage", NULL);
  g_autofree char *listing = NULL;
  AneTensor *w[4] = { 0 };
  g_autoptr(AneGraph) g = build_mlp (TRUE, w);
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS16, ANE_PRECISION_FLOAT16, &error);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(AnePackage) loaded = NULL;

  g_assert_no_error (error);
  ane_package_save_async (pkg, path, FALSE, NULL, save_done, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_FAILED);   /* the "saved" marker */
  g_clear_error (&error);
  loaded = ane_package_load (path, &error);
  g_assert_no_error (error);
  assert_packages_agree (pkg, loaded);

  g_cancellable_cancel (cancellable);
  ane_package_save_async (pkg, path, TRUE, cancellable, save_done, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "mlp.mlpackage");
  free_weights (w);
  ane_test_remove_tree (dir);
}

/* ---- limits -------------------------------------------------------------- */

static void
test_limit_model_size (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ane_mlpackage_check_model_size (0, &error));
  g_assert_true (ane_mlpackage_check_model_size (G_MAXINT32, &error));
  g_assert_no_error (error);
  g_assert_false (ane_mlpackage_check_model_size ((guint64) G_MAXINT32 + 1, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "2147483648"));
  g_assert_nonnull (strstr (error->message, "2147483647"));
  g_assert_nonnull (strstr (error->message, "model.mlmodel"));
  g_clear_error (&error);
  g_assert_false (ane_mlpackage_check_model_size (G_MAXUINT64, &error));
  g_assert_nonnull (strstr (error->message, "18446744073709551615"));
}

static void
test_limit_weight_size (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ane_mlpackage_check_weight_size ((guint64) 1 << 31, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (ane_mlpackage_check_weight_size (((guint64) 1 << 31) + 1, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "weight.bin"));
  g_assert_nonnull (strstr (error->message, "2147483649"));
  g_assert_nonnull (strstr (error->message, "2147483648"));
  g_assert_nonnull (strstr (error->message, "Neural Engine"));
}

/* More than 2 GiB of weights is a warning, not an error: the weights are
 * not bound, so nothing that large is ever allocated. */
static void
test_limit_large_weights (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_new ();
  gint64 xs[2] = { 1, 32768 }, ws[2] = { 32768, 32769 };
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", F32, xs, 2, &error);
  g_autoptr(AneTensor) w = ane_graph_param (g, "w", F32, ws, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_matmul (g, x, w, FALSE, FALSE, &error);
  g_autoptr(AnePackage) pkg = NULL;
  g_auto(GStrv) warnings = NULL;
  g_autofree char *size = NULL;
  guint64 planned;

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT16, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pkg);
  ane_package_get_pending_blobs (pkg, &planned);
  g_assert_cmpuint (planned, ==, 64 + 64 + (guint64) 32768 * 32769 * 2);
  g_assert_cmpuint (ane_package_get_weight_bytes (pkg), ==, (guint64) 32768 * 32769 * 2);

  size = g_strdup_printf ("%" G_GUINT64_FORMAT, planned);
  warnings = ane_package_dup_warnings (pkg);
  g_assert_cmpuint (g_strv_length (warnings), ==, 1);
  g_test_message ("%s", warnings[0]);
  g_assert_nonnull (strstr (warnings[0], size));
  g_assert_nonnull (strstr (warnings[0], "Neural Engine"));
  g_assert_false (ane_package_check_limits (pkg, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, size));
}

/* check_limits on loaded packages looks at the files. */
static void
test_limit_loaded (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "conformance", "mlp_fp32",
                                                 "model.mlpackage", NULL);
  g_autoptr(AnePackage) pkg = ane_package_load (path, &error);
  g_auto(GStrv) warnings = NULL;

  g_assert_no_error (error);
  g_assert_true (ane_package_check_limits (pkg, &error));
  g_assert_no_error (error);
  warnings = ane_package_dup_warnings (pkg);
  g_assert_cmpuint (g_strv_length (warnings), ==, 0);
}

/* Q8_0 and Q4_0 weights stay quantized at iOS18: the package's weight.bin
 * is no bigger than 1.1x the GGUF blocks (the target of the GGUF issue), and
 * the report says what each weight became. */
static void
test_quantized_weights_size (void)
{
  static const AneDType blocks[] = { ANE_DTYPE_Q8_0, ANE_DTYPE_Q4_0, ANE_DTYPE_Q4_1 };

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      const gint64 shape[] = { 256, 1024 };
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 1024 }, 2, &error);
      g_autoptr(AneTensor) wt = ane_tensor_new_zeros ("w", blocks[i], shape, 2, &error);
      g_autoptr(AneTensor) w = ane_graph_param_with_value (g, wt, &error);
      g_autoptr(AneTensor) y = ane_graph_dequant_matmul (g, x, w, &error);
      g_autoptr(AnePackage) pkg = NULL;
      g_auto(GStrv) report = NULL;
      g_autofree char *dir = g_dir_make_tmp ("ane-q-XXXXXX", NULL);
      g_autofree char *path = g_build_filename (dir, "q.mlpackage", NULL);
      g_autofree char *bin = g_build_filename (path, "Data", "com.apple.CoreML", "weights", "weight.bin", NULL);
      GStatBuf st;
      double ratio;

      ane_graph_add_output (g, "y", y, &error);
      pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
      g_assert_no_error (error);
      g_assert_true (ane_package_save (pkg, path, FALSE, &error));
      g_assert_no_error (error);
      g_assert_cmpint (g_stat (bin, &st), ==, 0);
      ratio = (double) st.st_size / ane_tensor_get_n_bytes (wt);
      report = ane_package_dup_weight_report (pkg);
      g_assert_cmpuint (g_strv_length (report), ==, 1);
      g_test_message ("%s: weight.bin %ld bytes = %.4fx the GGUF blocks; %s", ane_dtype_to_string (blocks[i]),
                      (long) st.st_size, ratio, report[0]);
      if (blocks[i] == ANE_DTYPE_Q4_1)
        /* no exact blockwise form (a float offset per block): fp16 on the host */
        g_assert_nonnull (strstr (report[0], "host"));
      else
        {
          g_assert_nonnull (strstr (report[0], "on device"));
          g_assert_cmpfloat (ratio, <=, 1.1);
        }
      ane_test_remove_tree (dir);
    }
}

/* Sub-byte blobs record their unused trailing bits as MILBlob does
 * (StorageWriter.cpp's padding_size_in_bits; the reader refuses a record
 * that disagrees): a uint3 of 5 elements (15 bits in 2 bytes: 1), an int4
 * of 3 (4), a uint6 of 4 (none). Issue 16's palettized indices and masks
 * come in every such count. */
static void
test_sub_byte_padding (void)
{
  static const struct { int mil; AneMilBlobDataType type; gint64 n; guint64 bytes, padding; } cases[] = {
    { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT3, ANE_MILBLOB_UINT3, 5, 2, 1 },
    { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT4, ANE_MILBLOB_INT4, 3, 2, 4 },
    { CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT6, ANE_MILBLOB_UINT6, 4, 3, 0 },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-package-write-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "sub-byte.mlpackage", NULL);
  g_autofree char *wpath = weight_path (path);
  g_autoptr(AneMilBuilder) b = ane_mil_builder_new (ANE_MIL_IOS18);
  g_autoptr(GPtrArray) blobs = NULL;
  g_autoptr(AneGraph) g = ane_graph_new ();
  gint64 shape[2] = { 2, 3 };
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", F32, shape, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_relu (g, x, &error);
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AneMilBlobReader) reader = NULL;
  AneMilProgram *program;
  guint64 size = 0;

  ane_mil_builder_begin_function (b, "main");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *hint = g_strdup_printf ("c%u", i);
      g_autoptr(GBytes) packed = g_bytes_new_take (g_malloc0 (cases[i].bytes), cases[i].bytes);

      ane_mil_const_packed (b, hint, cases[i].mil, cases[i].type, packed, &cases[i].n, 1);
    }
  program = ane_mil_builder_finish (b, &blobs, &size, &error);
  g_assert_no_error (error);
  g_assert_nonnull (program);
  protobuf_c_message_free_unpacked ((ProtobufCMessage *) program, NULL);
  g_assert_cmpuint (blobs->len, ==, G_N_ELEMENTS (cases));

  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT32, &error);
  g_assert_no_error (error);
  g_assert_true (ane_mlpackage_write_lowered (path, FALSE, ane_package_get_model (pkg), blobs, size,
                                              NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  reader = ane_milblob_reader_open (wpath, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      AneMilPendingBlob *blob = g_ptr_array_index (blobs, i);
      AneMilBlobRecord rec;
      g_autoptr(GBytes) got = ane_milblob_reader_dup_data (reader, blob->offset, &rec, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (got), ==, cases[i].bytes);
      g_assert_cmpint (rec.data_type, ==, cases[i].type);
      g_assert_cmpuint (rec.size, ==, cases[i].bytes);
      g_assert_cmpuint (rec.padding_bits, ==, cases[i].padding);
    }
  ane_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/package/write/inspect", test_inspect);
  g_test_add_func ("/ane/package/write/targets", test_macos_targets);
  g_test_add_func ("/ane/package/write/conformance-layout", test_conformance_layout);
  g_test_add_func ("/ane/package/write/interface-dtypes", test_interface_dtypes);
  g_test_add_func ("/ane/package/write/conversion-date", test_conversion_date);
  g_test_add_func ("/ane/package/write/roundtrip/fp16", test_roundtrip_fp16);
  g_test_add_func ("/ane/package/write/roundtrip/fp32", test_roundtrip_fp32);
  g_test_add_data_func ("/ane/package/write/roundtrip/q8_0-fp16",
                        GINT_TO_POINTER (ANE_PRECISION_FLOAT16), test_roundtrip_q8_0);
  g_test_add_data_func ("/ane/package/write/roundtrip/q8_0-fp32",
                        GINT_TO_POINTER (ANE_PRECISION_FLOAT32), test_roundtrip_q8_0);
  g_test_add_func ("/ane/package/write/roundtrip/states", test_roundtrip_states);
  g_test_add_func ("/ane/package/write/roundtrip/no-weights", test_no_weights);
  g_test_add_func ("/ane/package/write/params/late-bind", test_late_bind);
  g_test_add_func ("/ane/package/write/params/mismatch", test_param_mismatch);
  for (guint i = 0; i < G_N_ELEMENTS (conversion_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/ane/package/write/convert/%s", conversion_cases[i].name);
      g_test_add_data_func (name, &conversion_cases[i], test_conversion);
    }
  g_test_add_func ("/ane/package/write/atomic/no-overwrite", test_no_overwrite);
  g_test_add_func ("/ane/package/write/atomic/failed-overwrite", test_failed_overwrite_keeps_old);
  g_test_add_func ("/ane/package/write/atomic/unwritable", test_unwritable);
  g_test_add_func ("/ane/package/write/atomic/midway-write-error", test_midway_write_error);
  g_test_add_func ("/ane/package/write/async", test_async);
  g_test_add_func ("/ane/package/write/limits/model-size", test_limit_model_size);
  g_test_add_func ("/ane/package/write/limits/weight-size", test_limit_weight_size);
  g_test_add_func ("/ane/package/write/limits/large-weights", test_limit_large_weights);
  g_test_add_func ("/ane/package/write/limits/loaded", test_limit_loaded);
  g_test_add_func ("/ane/package/write/quantized-weights-size", test_quantized_weights_size);
  g_test_add_func ("/ane/package/write/sub-byte-padding", test_sub_byte_padding);

  return g_test_run ();
}
