/* test-golden-mil.c: golden MIL text of representative graphs
 *
 * Each model is lowered (iOS18, fp16) and printed as MIL text; the text must
 * equal the file checked in under tests/data/golden/ -- files reviewed by
 * hand, so any change to what we emit shows up as a diff to review.
 * Regenerate with ANE_UPDATE_GOLDEN=1 after a deliberate change.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-models.h"
#include "ane-lower-test-util.h"
#include "mil/ane-mil-text-private.h"

typedef struct {
  const char *name;
  AneGraph *(*build) (void);
} Model;

static const Model models[] = {
  { "mlp", ane_test_model_mlp },
  { "transformer-block", ane_test_model_transformer_block },
  { "convnet", ane_test_model_convnet },
  { "moe", ane_test_model_moe },
  { "mamba", ane_test_model_mamba },
};

static void
test_golden (gconstpointer data)
{
  const Model *m = data;
  g_autoptr(AneGraph) g = m->build ();
  g_autoptr(AneMilProgram) p = ane_test_lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT16);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = ane_mil_text_print (p, &error);
  g_autofree char *file = g_strdup_printf ("%s.mil", m->name);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "golden", file, NULL);
  g_autofree char *expected = NULL;

  g_assert_no_error (error);
  if (g_getenv ("ANE_UPDATE_GOLDEN"))
    {
      g_file_set_contents (path, text, -1, &error);
      g_assert_no_error (error);
      g_test_message ("updated %s", path);
      return;
    }
  g_file_get_contents (path, &expected, NULL, &error);
  g_assert_no_error (error);
  if (!g_str_equal (text, expected))
    {
      g_autofree char *got = g_build_filename (g_get_tmp_dir (), file, NULL);
      g_file_set_contents (got, text, -1, NULL);
      g_error ("MIL text of %s differs from %s (got written to %s)", m->name, path, got);
    }

  /* the golden text parses back to the same program */
  {
    g_autoptr(AneMilProgram) back = ane_mil_text_parse (expected, -1, path, &error);
    g_autofree char *again = NULL;
    g_assert_no_error (error);
    again = ane_mil_text_print (back, &error);
    g_assert_cmpstr (again, ==, expected);
  }
}

static void
test_all_targets (gconstpointer data)
{
  /* every model lowers at every target where its ops exist, in both precisions */
  const Model *m = data;
  g_autoptr(AneGraph) g = m->build ();

  for (AneMilTarget t = ANE_MIL_IOS15; t <= ANE_MIL_IOS18; t++)
    for (int prec = 0; prec < 2; prec++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) blobs = NULL;
        guint64 size;
        AneMilProgram *p = ane_lower_graph (g, t, prec ? ANE_DTYPE_FLOAT32 : ANE_DTYPE_FLOAT16,
                                            &blobs, &size, &error);
        g_assert_no_error (error);
        g_assert_nonnull (p);
        ane_test_assert_program_checks (p);
        ane_test_program_free (p);
      }
}

static void
test_reference_runs (gconstpointer data)
{
  /* the models themselves are valid and evaluate to finite numbers */
  const Model *m = data;
  g_autoptr(AneGraph) g = m->build ();
  g_autoptr(GPtrArray) inputs = ane_test_model_inputs (g, 7);
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_REFERENCE);
  g_autoptr(GPtrArray) outs = NULL;
  g_autoptr(GError) error = NULL;

  ane_executable_compile (exe, NULL, &error);
  outs = ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < outs->len; i++)
    {
      AneTensor *t = g_ptr_array_index (outs, i);
      for (gint64 j = 0; j < ane_tensor_get_n_elements (t); j++)
        g_assert_true (isfinite (ane_tensor_get_value (t, j)));
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autofree char *p1 = g_strdup_printf ("/ane/golden/mil/%s", models[i].name);
      g_autofree char *p2 = g_strdup_printf ("/ane/golden/targets/%s", models[i].name);
      g_autofree char *p3 = g_strdup_printf ("/ane/golden/reference/%s", models[i].name);
      g_test_add_data_func (p1, &models[i], test_golden);
      g_test_add_data_func (p2, &models[i], test_all_targets);
      g_test_add_data_func (p3, &models[i], test_reference_runs);
    }
  return g_test_run ();
}
