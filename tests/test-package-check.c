/* test-package-check.c: ane_package_check_types, the Apple-loader type check of a package
 *
 * Every case of the conformance pack (tests/data/conformance) was written by
 * coremltools and re-loaded through coremltools' MIL loader, so every op of
 * it must agree. A package lowered from a graph agrees by construction. A
 * program whose declared types were changed -- in memory, on disk, or
 * written as MIL text -- must not, and the problem must be named.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "ane-test-util.h"
#include "ane-package-private.h"
#include "mil/ane-mlpackage-private.h"

static const char *const conformance_cases[] = {
  "convnet_fp32",
  "mlp_fp16",
  "mlp_fp32",
  "multifunction",
  "palettized_ios18",
  "quant_int4_blockwise_ios18",
  "quant_int8_ios16",
  "rmsnorm_rope_fp16",
  "sdpa_ios18",
  "stateful_kv_ios18",
  "transformer_block_fp32",
};

static char *
case_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "conformance", name, "model.mlpackage", NULL);
}

static char *
model_file (const char *package)
{
  return g_build_filename (package, "Data", "com.apple.CoreML", "model.mlmodel", NULL);
}

static void
test_conformance_list (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "data", "conformance", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  /* a case added to the pack must be added here too */
  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = case_path (name);
      gboolean listed = FALSE;

      if (!g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      for (guint i = 0; i < G_N_ELEMENTS (conformance_cases); i++)
        listed |= g_str_equal (conformance_cases[i], name);
      if (!listed)
        g_error ("conformance case '%s' is not checked", name);
      n++;
    }
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (conformance_cases));
}

static void
test_conformance_case (gconstpointer data)
{
  const char *name = data;
  g_autofree char *path = case_path (name);
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_load (path, &error);
  g_auto(GStrv) problems = NULL, unchecked = NULL;
  g_autofree char *list = NULL;

  g_assert_no_error (error);
  problems = ane_package_check_types (pkg, &unchecked);
  g_assert_nonnull (problems);
  g_assert_nonnull (unchecked);
  if (problems[0] != NULL)
    g_error ("%s: %u problems, the first: %s", name, g_strv_length (problems), problems[0]);
  list = g_strjoinv (", ", unchecked);
  g_test_message ("%s: not checked: %s", name, unchecked[0] ? list : "(none)");
  /* each entry is "op (count)" */
  for (guint i = 0; unchecked[i]; i++)
    g_assert_true (g_str_has_suffix (unchecked[i], ")") && strstr (unchecked[i], " (") != NULL);

  /* the out array is optional */
  {
    g_auto(GStrv) again = ane_package_check_types (pkg, NULL);

    g_assert_cmpuint (g_strv_length (again), ==, 0);
  }
}

/* relu (x · w) with x [2, 4] fp32 and w [4, 3]. */
static AneGraph *
small_graph (void)
{
  static const gint64 sx[] = { 2, 4 }, sw[] = { 4, 3 };
  static const float w[] = { 1, 0, -1, 0.5f, 2, 0, 0, 1, 1, -2, 0, 3 };
  g_autoptr(GError) error = NULL;
  AneGraph *g = ane_graph_new ();
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, sx, 2);
  g_autoptr(AneTensor) wc = ane_test_const_f32 (g, "w", sw, 2, w);
  g_autoptr(AneTensor) h = ane_graph_matmul (g, x, wc, FALSE, FALSE, &error);
  g_autoptr(AneTensor) y = ane_graph_relu (g, h, &error);

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  return g;
}

static AneMilOperation *
find_op (AnePackage *pkg,
         const char *type)
{
  AneCoreMLModel *model = ane_package_get_model (pkg);
  AneMilBlock *block;

  g_assert_nonnull (model);
  g_assert_nonnull (model->mlprogram);
  g_assert_cmpuint (model->mlprogram->n_functions, ==, 1);
  block = model->mlprogram->functions[0]->value->block_specializations[0]->value;
  for (gsize i = 0; i < block->n_operations; i++)
    if (g_str_equal (block->operations[i]->type, type))
      return block->operations[i];
  g_error ("no %s op", type);
}

static void
test_from_graph (void)
{
  g_autoptr(AneGraph) g = small_graph ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) problems = NULL, unchecked = NULL;

  for (AneTarget t = ANE_TARGET_IOS15; t <= ANE_TARGET_IOS18; t++)
    for (AnePrecision p = ANE_PRECISION_FLOAT16; p <= ANE_PRECISION_FLOAT32; p++)
      {
        g_autoptr(AnePackage) pkg = ane_package_new_from_graph (g, t, p, &error);

        g_assert_no_error (error);
        problems = ane_package_check_types (pkg, &unchecked);
        g_assert_cmpuint (g_strv_length (problems), ==, 0);
        g_assert_cmpuint (g_strv_length (unchecked), ==, 0);
        g_clear_pointer (&problems, g_strfreev);
        g_clear_pointer (&unchecked, g_strfreev);
      }
}

/* relu's declared dtype made fp32: relu is wrong, and the cast after it,
 * which casts to fp32 anyway, agrees with what it is given. */
static char *
break_relu (AnePackage *pkg)
{
  AneMilOperation *relu = find_op (pkg, "relu");
  AneMilTensorType *tt = relu->outputs[0]->type->tensortype;

  g_assert_cmpint (tt->datatype, ==, CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16);
  tt->datatype = CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32;
  return g_strdup_printf ("function main: MIL relu '%s' at iOS17: output '%s' is declared "
                          "tensor<fp32, [2, 3]>, but coremltools 9.0 infers tensor<fp16, [2, 3]> "
                          "(mil/ops/defs/iOS15/activation.py)", relu->outputs[0]->name,
                          relu->outputs[0]->name);
}

static void
test_mutated (void)
{
  g_autoptr(AneGraph) g = small_graph ();
  g_autoptr(GError) error = NULL;
  /* generic: the relu feeds the output's cast directly (the Neural Engine
   * profile, a package's default, keeps it channels-first and reshapes it
   * after, where the broken dtype would be reported a second time) */
  g_autoptr(AnePackage) made = ane_package_new_from_graph_with_lowering (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT16,
                                                                         ANE_LOWERING_GENERIC, NULL, &error);
  g_autoptr(AnePackage) loaded = NULL, reloaded = NULL;
  g_autofree char *tmp = ane_test_make_tmp_dir ("ane-check-XXXXXX");
  g_autofree char *path = g_build_filename (tmp, "m.mlpackage", NULL);
  g_autofree char *mlmodel = model_file (path);
  g_autofree char *problem = NULL;
  g_auto(GStrv) problems = NULL, unchecked = NULL;
  AneCoreMLModel *model;
  gsize size;
  guint8 *packed;

  g_assert_no_error (error);
  g_assert_true (ane_package_save (made, path, FALSE, &error));
  g_assert_no_error (error);
  loaded = ane_package_load (path, &error);
  g_assert_no_error (error);
  problems = ane_package_check_types (loaded, NULL);
  g_assert_cmpuint (g_strv_length (problems), ==, 0);
  g_clear_pointer (&problems, g_strfreev);

  problem = break_relu (loaded);
  problems = ane_package_check_types (loaded, &unchecked);
  g_assert_cmpuint (g_strv_length (problems), ==, 1);
  g_assert_cmpstr (problems[0], ==, problem);
  g_assert_cmpuint (g_strv_length (unchecked), ==, 0);
  g_clear_pointer (&problems, g_strfreev);
  g_clear_pointer (&unchecked, g_strfreev);

  /* the same program written to disk and loaded again: loading does not
   * check, the check does */
  model = ane_package_get_model (loaded);
  size = protobuf_c_message_get_packed_size (&model->base);
  packed = g_malloc (size);
  g_assert_cmpuint (protobuf_c_message_pack (&model->base, packed), ==, size);
  ane_test_write_file (mlmodel, packed, size);
  g_free (packed);
  reloaded = ane_package_load (path, &error);
  g_assert_no_error (error);
  problems = ane_package_check_types (reloaded, NULL);
  g_assert_cmpuint (g_strv_length (problems), ==, 1);
  g_assert_cmpstr (problems[0], ==, problem);
  g_clear_pointer (&problems, g_strfreev);

  /* two ops wrong: both listed, in program order */
  {
    AneMilOperation *matmul = find_op (reloaded, "matmul");

    matmul->outputs[0]->type->tensortype->dimensions[1]->constant->size = 7;
    problems = ane_package_check_types (reloaded, NULL);
    g_assert_cmpuint (g_strv_length (problems), ==, 2);
    g_assert_true (g_str_has_prefix (problems[0], "function main: MIL matmul '"));
    g_assert_nonnull (strstr (problems[0], "is declared tensor<fp16, [2, 7]>, but coremltools 9.0 infers "
                                           "tensor<fp16, [2, 3]>"));
    /* relu is given matmul's declared [2, 7] and declares fp32 [2, 3] */
    g_assert_true (g_str_has_prefix (problems[1], "function main: MIL relu '"));
    g_assert_nonnull (strstr (problems[1], "is declared tensor<fp32, [2, 3]>, but coremltools 9.0 infers "
                                           "tensor<fp16, [2, 7]>"));
  }

  ane_test_remove_tree (tmp);
}

static const char bad_mil[] =
  "program(1.3)\n"
  "{\n"
  "    func main<ios18>(tensor<fp32, [2]> a, tensor<fp32, [2]> b) {\n"
  "        tensor<fp32, [3]> y = add(x = a, y = b)[name = string(\"y\")];\n"
  "    } -> (y);\n"
  "}\n";

static AnePackage *
load_mil_text (const char *text)
{
  g_autofree char *tmp = ane_test_make_tmp_dir ("ane-check-XXXXXX");
  g_autofree char *path = g_build_filename (tmp, "model.mil", NULL);
  g_autoptr(GError) error = NULL;
  AnePackage *pkg;

  ane_test_write_file (path, text, strlen (text));
  pkg = ane_package_load_mil (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pkg);
  ane_test_remove_tree (tmp);
  return pkg;
}

static void
test_mil_text (void)
{
  g_autoptr(AnePackage) bad = load_mil_text (bad_mil);
  g_auto(GStrv) problems = NULL, unchecked = NULL;
  g_autofree char *good_text = NULL;
  static const char problem[] =
    "function main: MIL add 'y' at iOS18: output 'y' is declared tensor<fp32, [3]>, but coremltools "
    "9.0 infers tensor<fp32, [2]> (mil/ops/defs/iOS15/elementwise_binary.py)";

  /* loading took the declared type as it is */
  problems = ane_package_check_types (bad, &unchecked);
  g_assert_cmpuint (g_strv_length (problems), ==, 1);
  g_assert_cmpstr (problems[0], ==, problem);
  g_assert_cmpuint (g_strv_length (unchecked), ==, 0);
  g_clear_pointer (&problems, g_strfreev);
  g_clear_pointer (&unchecked, g_strfreev);

  /* the same program declaring [2] agrees; an op the mirror has no rule
   * for is listed with its count */
  {
    g_autoptr(GString) s = g_string_new (bad_mil);
    g_autoptr(AnePackage) good = NULL;

    g_string_replace (s, "tensor<fp32, [3]> y", "tensor<fp32, [2]> y", 1);
    good_text = g_string_free (g_steal_pointer (&s), FALSE);
    good = load_mil_text (good_text);
    problems = ane_package_check_types (good, &unchecked);
    g_assert_cmpuint (g_strv_length (problems), ==, 0);
    g_clear_pointer (&problems, g_strfreev);
    g_clear_pointer (&unchecked, g_strfreev);
  }
  {
    g_autoptr(GString) s = g_string_new (good_text);
    g_autoptr(AnePackage) pkg = NULL;

    g_string_replace (s, "    } -> (y);",
                      "        tensor<fp32, [2]> z = frobnicate(x = y)[name = string(\"z\")];\n"
                      "        tensor<fp32, [2]> w = frobnicate(x = z)[name = string(\"w\")];\n"
                      "        tensor<fp32, [2]> v = gizmo(x = w)[name = string(\"v\")];\n"
                      "    } -> (v);", 1);
    pkg = load_mil_text (s->str);
    problems = ane_package_check_types (pkg, &unchecked);
    g_assert_cmpuint (g_strv_length (problems), ==, 0);
    g_assert_cmpuint (g_strv_length (unchecked), ==, 2);
    g_assert_cmpstr (unchecked[0], ==, "frobnicate (2)");
    g_assert_cmpstr (unchecked[1], ==, "gizmo (1)");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/package/check-types/conformance/all-listed", test_conformance_list);
  for (guint i = 0; i < G_N_ELEMENTS (conformance_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/ane/package/check-types/conformance/%s", conformance_cases[i]);
      g_test_add_data_func (name, conformance_cases[i], test_conformance_case);
    }
  g_test_add_func ("/ane/package/check-types/from-graph", test_from_graph);
  g_test_add_func ("/ane/package/check-types/mutated", test_mutated);
  g_test_add_func ("/ane/package/check-types/mil-text", test_mil_text);

  return g_test_run ();
}
