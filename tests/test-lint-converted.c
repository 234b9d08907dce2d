/* test-lint-converted.c: every kind of model convert-llm takes, converted
 * and linted
 *
 * Issue 14 asks for the lint of every LLM package the converter writes
 * (stories260K; GGUF F32, F16, Q8_0, Q4_0 and a K-quant) with zero
 * fallbacks expected and checked, and the type-inference mirror passing on
 * all of them. The GGUF files are made here: stories260K's own weights as
 * F32, Q8_0 and Q4_0 (ane-test-gguf.c; its matrices have rows of 64, so a
 * 256-element K-quant block does not fit them), and a synthetic LLaMA with
 * rows of 256 and 512 for F16 and Q4_K (ane-gguf-synthetic.c), with
 * stories260K's 512-token vocabulary.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gstdio.h>

#include "ane-glib.h"
#include "ane-file-private.h"
#include "gguf/ane-gguf-writer-private.h"
#include "ane-test-gguf.h"

#define CONTEXT 64
#define PREFILL 32

typedef enum { FROM_LLAMA2C, FROM_STORIES_GGUF, FROM_SYNTHETIC_GGUF } Source;

typedef struct {
  const char *name;
  Source      source;
  AneDType    weights;     /* the GGUF's matrices */
} Case;

static const Case cases[] = {
  { "llama2c-f32", FROM_LLAMA2C, ANE_DTYPE_FLOAT32 },
  { "gguf-f32", FROM_STORIES_GGUF, ANE_DTYPE_FLOAT32 },
  { "gguf-q8_0", FROM_STORIES_GGUF, ANE_DTYPE_Q8_0 },
  { "gguf-q4_0", FROM_STORIES_GGUF, ANE_DTYPE_Q4_0 },
  { "gguf-f16", FROM_SYNTHETIC_GGUF, ANE_DTYPE_FLOAT16 },
  { "gguf-q4_k", FROM_SYNTHETIC_GGUF, ANE_DTYPE_Q4_K },
};

/* The GGUF written for c at dir/model.gguf; its path. */
static char *
write_gguf (const Case *c,
            const char *dir)
{
  g_autoptr(GError) error = NULL;
  char *path;

  if (c->source == FROM_STORIES_GGUF)
    return ane_test_write_stories_gguf (dir, "model.gguf",
                                        &(AneTestGgufVariant) { .arch = "llama", .quant = c->weights });
  path = g_build_filename (dir, "model.gguf", NULL);
  g_assert_true (ane_gguf_write_synthetic_llama (path, &(AneGgufSyntheticLlama) {
                   .dim = 256, .hidden = 512, .layers = 2, .heads = 4, .kv_heads = 2, .vocab = 512,
                   .context = CONTEXT, .matrices = c->weights,
                   .seed = 14 }, &error));
  g_assert_no_error (error);
  return path;
}

/* The GGUF's attention query weight really is of the case's type (the
 * writer would quietly keep floats for rows that are not whole blocks). */
static void
assert_weight_type (const char *path,
                    AneDType    expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGgufFile) file = ane_gguf_file_new (path, &error);
  g_autoptr(AneTensor) t = NULL;

  g_assert_no_error (error);
  t = ane_gguf_file_dup_tensor (file, "blk.0.attn_q.weight", &error);
  g_assert_no_error (error);
  g_assert_cmpint (ane_tensor_get_dtype (t), ==, expected);
}

static void
test_converted (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ane-lint-converted-XXXXXX", &error);
  g_autofree char *out = g_build_filename (tmp, "converted", NULL);
  g_autofree char *pkg_path = g_build_filename (out, "model.mlpackage", NULL);
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autoptr(AneLlamaModel) m = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AneLintReport) report = NULL;
  g_auto(GStrv) functions = NULL;
  g_auto(GStrv) problems = NULL;

  g_assert_no_error (error);
  if (c->source == FROM_LLAMA2C)
    m = ane_test_load_stories ();
  else
    {
      g_autofree char *gguf = write_gguf (c, tmp);

      assert_weight_type (gguf, c->weights);
      m = ane_llama_model_load_gguf (gguf, &error);
      g_assert_no_error (error);
    }
  g_assert_true (ane_llama_model_save_dir (m, tok, out, CONTEXT, PREFILL, ANE_TARGET_IOS18, FALSE, &error));
  g_assert_no_error (error);

  pkg = ane_package_load (pkg_path, &error);
  g_assert_no_error (error);
  problems = ane_package_check_types (pkg, NULL);
  if (problems != NULL && problems[0] != NULL)
    g_error ("%s: the type mirror refuses %s", c->name, problems[0]);
  report = ane_package_lint (pkg, ANE_LINT_NONE, &error);
  g_assert_no_error (error);
  functions = ane_package_list_functions (pkg);
  g_assert_cmpuint (g_strv_length (functions), ==, 2);
  for (guint i = 0; functions[i] != NULL; i++)
    {
      guint falls = ane_lint_report_count_ops (report, functions[i], ANE_LINT_VERDICT_FALLS_BACK);
      guint on_ane = ane_lint_report_count_ops (report, functions[i], ANE_LINT_VERDICT_ANE);

      g_test_message ("%s %s: %u ops on the Neural Engine, %u fall back", c->name, functions[i], on_ane, falls);
      g_assert_cmpuint (falls, ==, 0);
      g_assert_cmpuint (on_ane, >, 0);
    }
  ane_file_remove_tree (tmp);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/lint/converted/%s", cases[i].name);

      g_test_add_data_func (path, &cases[i], test_converted);
    }
  return g_test_run ();
}
