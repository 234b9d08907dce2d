/* test-lint-models.c: the ANE lint on whole models, against expected summaries
 *
 * Every package of the test data and every model this library writes is
 * linted, and what the lint says is compared with a summary checked in
 * under tests/data/lint/ (one file per model): the verdict, each function's
 * summary line, and how often each rule fired. The summaries were reviewed
 * by hand against the rules' sources (docs/ane-lint.md); a change in the
 * lint or in lowering that moves them fails here and is reviewed again.
 * ANE_LINT_UPDATE=1 rewrites the files instead of comparing (then read the
 * diff before committing it).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "ane-glib.h"
#include "ane-test-util.h"
#include "ane-test-gguf.h"
#include "ane-test-models.h"

static const char *const conformance[] = {
  "convnet_fp32", "mlp_fp16", "mlp_fp32", "multifunction", "palettized_ios18",
  "quant_int4_blockwise_ios18", "quant_int8_ios16", "rmsnorm_rope_fp16", "sdpa_ios18",
  "stateful_kv_ios18", "transformer_block_fp32",
};

/* The digest compared with the checked-in summary. */
static char *
digest (AneLintReport *report,
        const char    *name)
{
  GString *s = g_string_new (NULL);
  g_auto(GStrv) functions = ane_lint_report_list_functions (report);
  g_auto(GStrv) rules = ane_lint_rule_list ();
  g_autofree char *summary = ane_lint_report_get_summary (report);

  g_string_append_printf (s, "# ane-lint summary of %s (tests/test-lint-models.c; ANE_LINT_UPDATE=1 rewrites it)\n",
                          name);
  g_string_append_printf (s, "verdict: %s\n", ane_lint_verdict_to_string (ane_lint_report_get_verdict (report)));
  g_string_append_printf (s, "summary: %s\n", summary);
  for (guint f = 0; functions[f] != NULL && functions[1] != NULL; f++)
    {
      guint n = 0;

      for (guint i = 0; i < ane_lint_report_get_n_ops (report); i++)
        n += g_str_equal (ane_lint_report_get_op_function (report, i), functions[f]);
      g_string_append_printf (s, "function %s: %u ops, %.1f%% of the cost on the ANE\n", functions[f], n,
                              floor (1000.0 * ane_lint_report_get_ane_cost_share (report, functions[f])) / 10.0);
    }
  for (guint r = 0; rules[r] != NULL; r++)
    {
      guint n = ane_lint_report_count_rule (report, rules[r]);

      if (n > 0)
        g_string_append_printf (s, "rule %s: %u\n", rules[r], n);
    }
  return g_string_free (s, FALSE);
}

static void
check_expected (AneLintReport *report,
                const char    *name)
{
  g_autofree char *got = digest (report, name);
  g_autofree char *file = g_strdup_printf ("%s.txt", name);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "lint", file, NULL);
  g_autofree char *expected = NULL;
  g_autoptr(GError) error = NULL;

  if (g_getenv ("ANE_LINT_UPDATE") != NULL)
    {
      g_file_set_contents (path, got, -1, &error);
      g_assert_no_error (error);
      return;
    }
  g_file_get_contents (path, &expected, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got, ==, expected);
}

static void
test_conformance (gconstpointer data)
{
  const char *name = data;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "conformance", name, "model.mlpackage", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_load (path, &error);
  g_autoptr(AneLintReport) report = NULL;
  g_autoptr(AneLintReport) private_report = NULL;
  g_autofree char *expected_name = g_strdup_printf ("conformance-%s", name);

  g_assert_no_error (error);
  report = ane_package_lint (pkg, ANE_LINT_NONE, &error);
  g_assert_no_error (error);
  check_expected (report, expected_name);

  /* the private path's demands only add findings */
  private_report = ane_package_lint (pkg, ANE_LINT_PRIVATE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_lint_report_get_n_findings (private_report), >=, ane_lint_report_get_n_findings (report));
  g_assert_cmpint (ane_lint_report_get_verdict (private_report), >=, ane_lint_report_get_verdict (report));
}

static void
lint_graph (AneGraph   *graph,
            const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLintReport) report = ane_graph_lint (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16,
                                                    ANE_LINT_NONE, &error);

  g_assert_no_error (error);
  g_assert_nonnull (report);
  check_expected (report, name);
}

/* A Neural Engine-shaped step: its golden, and not one op off the ANE. */
static void
lint_ane_step (AneGraph   *graph,
               const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLintReport) report = ane_graph_lint (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16,
                                                    ANE_LINT_NONE, &error);

  g_assert_no_error (error);
  check_expected (report, name);
  g_assert_cmpuint (ane_lint_report_count_ops (report, NULL, ANE_LINT_VERDICT_FALLS_BACK), ==, 0);
  g_assert_cmpuint (ane_lint_report_count_rule (report, "int-compute"), ==, 0);
  g_assert_cmpfloat (ane_lint_report_get_ane_cost_share (report, NULL), ==, 1.0);
}

/* The graph's package lowered generically (ane_graph_lint and a package
 * take the Neural Engine profile). */
static AneLintReport *
lint_generic (AneGraph *graph)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph_with_lowering (graph, ANE_TARGET_IOS18,
                                                                        ANE_PRECISION_FLOAT16,
                                                                        ANE_LOWERING_GENERIC, NULL, &error);
  AneLintReport *report;

  g_assert_no_error (error);
  report = ane_package_lint (pkg, ANE_LINT_NONE, &error);
  g_assert_no_error (error);
  return report;
}

/* The generic decode step, lowered with the Neural Engine profile (the
 * default) and generically: the profile's program is pinned by its own
 * summary, and may only do better than the generic one (no linear left
 * outside a conv, no smaller share of the cost on the ANE). */
static void
test_stories_decode (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_llama_model_build_decode (m, ane_llama_model_get_seq_len (m), &error);
  g_autoptr(AneLintReport) generic = NULL;
  g_autoptr(AneLintReport) profiled = NULL;

  g_assert_no_error (error);
  lint_graph (graph, "stories260K-decode");
  generic = lint_generic (graph);
  check_expected (generic, "stories260K-decode-generic");
  profiled = ane_graph_lint (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, ANE_LINT_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_lint_report_count_rule (generic, "linear-not-conv"), >, 0);
  g_assert_cmpuint (ane_lint_report_count_rule (profiled, "linear-not-conv"), ==, 0);
  g_assert_cmpfloat (ane_lint_report_get_ane_cost_share (profiled, NULL), >=,
                     ane_lint_report_get_ane_cost_share (generic, NULL));
}

/* The Neural Engine-shaped decode step (issue 14): nothing falls back. */
static void
test_stories_ane_decode (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_llama_model_build_ane_decode (m, ane_llama_model_get_seq_len (m), &error);

  g_assert_no_error (error);
  lint_ane_step (graph, "stories260K-ane-decode");
}

/* Its 64-token prompt step: the caches written by slice_update at a box
 * the host computes, so nothing falls back either. */
static void
test_stories_ane_prefill (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_llama_model_build_ane_prefill (m, 64, ane_llama_model_get_seq_len (m), &error);

  g_assert_no_error (error);
  lint_ane_step (graph, "stories260K-ane-prefill");
}

static void
test_stories_prefill (void)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = ane_llama_model_build_prefill (m, 64, &error);

  g_assert_no_error (error);
  lint_graph (graph, "stories260K-prefill");
}

static void
lint_gguf (const AneTestGgufVariant *variant,
           const char               *name)
{
  g_autofree char *dir = g_dir_make_tmp ("ane-lint-XXXXXX", NULL);
  g_autofree char *path = ane_test_write_stories_gguf (dir, "model.gguf", variant);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = ane_llama_model_load_gguf (path, &error);
  g_autoptr(AneGraph) graph = NULL;

  g_assert_no_error (error);
  graph = ane_llama_model_build_decode (m, ane_llama_model_get_seq_len (m), &error);
  g_assert_no_error (error);
  lint_graph (graph, name);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_gguf_f32 (void)
{
  lint_gguf (&(AneTestGgufVariant) { .arch = "llama" }, "gguf-llama-f32-decode");
}

static void
test_gguf_q8_0 (void)
{
  lint_gguf (&(AneTestGgufVariant) { .arch = "llama", .q8_0 = TRUE }, "gguf-llama-q8_0-decode");
}

static void
test_gguf_qwen2 (void)
{
  lint_gguf (&(AneTestGgufVariant) { .arch = "qwen2", .biases = TRUE }, "gguf-qwen2-decode");
}

static void
test_test_model (gconstpointer data)
{
  const char *name = data;
  g_autoptr(AneGraph) graph = NULL;

  if (g_str_equal (name, "mlp"))
    graph = ane_test_model_mlp ();
  else if (g_str_equal (name, "transformer-block"))
    graph = ane_test_model_transformer_block ();
  else if (g_str_equal (name, "convnet"))
    graph = ane_test_model_convnet ();
  else if (g_str_equal (name, "moe"))
    graph = ane_test_model_moe ();
  else
    graph = ane_test_model_mamba ();
  lint_graph (graph, name);
  /* the Neural Engine profile (the default) leaves no linear outside a conv */
  {
    g_autoptr(AneLintReport) generic = lint_generic (graph);
    g_autoptr(GError) error = NULL;
    g_autoptr(AneLintReport) profiled = ane_graph_lint (graph, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16,
                                                        ANE_LINT_NONE, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (ane_lint_report_count_rule (profiled, "linear-not-conv"), <=,
                      ane_lint_report_count_rule (generic, "linear-not-conv"));
    if (g_str_equal (name, "mlp") || g_str_equal (name, "convnet"))
      g_assert_cmpuint (ane_lint_report_count_rule (profiled, "linear-not-conv"), ==, 0);
  }
}

int
main (int argc, char *argv[])
{
  static const char *const models[] = { "mlp", "transformer-block", "convnet", "moe", "mamba" };

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (conformance); i++)
    {
      g_autofree char *path = g_strdup_printf ("/lint/conformance/%s", conformance[i]);

      g_test_add_data_func (path, conformance[i], test_conformance);
    }
  g_test_add_func ("/lint/stories260K/decode", test_stories_decode);
  g_test_add_func ("/lint/stories260K/prefill", test_stories_prefill);
  g_test_add_func ("/lint/stories260K/ane-decode", test_stories_ane_decode);
  g_test_add_func ("/lint/stories260K/ane-prefill", test_stories_ane_prefill);
  g_test_add_func ("/lint/gguf/llama-f32", test_gguf_f32);
  g_test_add_func ("/lint/gguf/llama-q8_0", test_gguf_q8_0);
  g_test_add_func ("/lint/gguf/qwen2", test_gguf_qwen2);
  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autofree char *path = g_strdup_printf ("/lint/models/%s", models[i]);

      g_test_add_data_func (path, models[i], test_test_model);
    }
  return g_test_run ();
}
