/* test-llama-dir.c: a LLaMA model converted to a directory
 * (ane_llama_model_save_dir) and generation from it (AneLlamaDir)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "ane-glib.h"
#include "ane-file-private.h"
#include "model/ane-llama-private.h"
#include "ane-test-gguf.h"

#define PROMPT "Once upon a time"
#define N_TOKENS 80
/* The cache of the converted tests: enough for the prompt and 80 tokens,
 * a multiple of 32 */
#define CONTEXT 128

static char *
make_tmp (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("ane-llama-dir-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static char *
convert_stories (const char *tmp,
                 gint64      prefill_step)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autoptr(GError) error = NULL;
  char *out = g_build_filename (tmp, "stories", NULL);

  g_assert_true (ane_llama_model_save_dir (m, tok, out, CONTEXT, prefill_step, ANE_TARGET_IOS18, FALSE, &error));
  g_assert_no_error (error);
  return out;
}

static void
assert_file (const char *dir,
             const char *name,
             GFileTest   test)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_test (path, test));
}

static void
test_convert_files (void)
{
  g_autofree char *tmp = make_tmp ();
  g_autofree char *out = convert_stories (tmp, 0);
  g_autofree char *pkg_path = g_build_filename (out, "model.mlpackage", NULL);
  g_autofree char *tok_path = g_build_filename (out, "tokenizer.bin", NULL);
  g_autofree char *src_tok = ane_test_model_path ("tok512.bin");
  g_autofree char *a = NULL, *b = NULL;
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AneLintReport) report = NULL;
  g_auto(GStrv) functions = NULL;
  g_auto(GStrv) problems = NULL;
  g_autoptr(AneLlamaDir) dir = NULL;
  g_autoptr(GDir) listing = NULL;
  gsize na = 0, nb = 0;
  const char *name;

  assert_file (out, "manifest.json", G_FILE_TEST_IS_REGULAR);
  assert_file (out, "embedding.bin", G_FILE_TEST_IS_REGULAR);
  assert_file (out, "tokenizer.bin", G_FILE_TEST_IS_REGULAR);
  assert_file (out, "model.mlpackage", G_FILE_TEST_IS_DIR);
  /* the llama2.c tokenizer is written back byte for byte */
  g_assert_true (g_file_get_contents (tok_path, &a, &na, NULL));
  g_assert_true (g_file_get_contents (src_tok, &b, &nb, NULL));
  g_assert_cmpmem (a, na, b, nb);
  /* nothing but the directory is left beside it */
  listing = g_dir_open (tmp, 0, NULL);
  while ((name = g_dir_read_name (listing)) != NULL)
    g_assert_cmpstr (name, ==, "stories");

  pkg = ane_package_load (pkg_path, &error);
  g_assert_no_error (error);
  functions = ane_package_list_functions (pkg);
  g_assert_cmpuint (g_strv_length (functions), ==, 2);
  g_assert_true (g_strv_contains ((const char *const *) functions, "prefill"));
  g_assert_true (g_strv_contains ((const char *const *) functions, "decode"));
  problems = ane_package_check_types (pkg, NULL);
  g_assert_cmpuint (problems != NULL ? g_strv_length (problems) : 0, ==, 0);
  report = ane_package_lint (pkg, ANE_LINT_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_lint_report_count_ops (report, "prefill", ANE_LINT_VERDICT_FALLS_BACK), ==, 0);
  g_assert_cmpuint (ane_lint_report_count_ops (report, "decode", ANE_LINT_VERDICT_FALLS_BACK), ==, 0);
  g_assert_cmpuint (ane_lint_report_count_ops (report, "prefill", ANE_LINT_VERDICT_ANE), >, 0);
  g_assert_cmpuint (ane_lint_report_count_ops (report, "decode", ANE_LINT_VERDICT_ANE), >, 0);

  dir = ane_llama_dir_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ane_llama_dir_get_context (dir), ==, CONTEXT);
  g_assert_cmpint (ane_llama_dir_get_prefill_step (dir), ==, 64);
  g_assert_cmpint (ane_llama_dir_get_vocab_size (dir), ==, ane_llama_model_get_vocab_size (m));
  g_assert_cmpint (ane_llama_dir_get_dim (dir), ==, ane_llama_model_get_dim (m));
  g_assert_nonnull (ane_llama_dir_get_tokenizer (dir));
  g_assert_nonnull (ane_llama_dir_get_package (dir));
  ane_file_remove_tree (tmp);
}

typedef struct {
  guint n;
  GString *text;
} Collect;

static gboolean
collect (gint32      token,
         const char *piece,
         gpointer    user_data)
{
  Collect *c = user_data;

  c->n++;
  g_string_append (c->text, piece);
  return TRUE;
}

/* Greedy text from the directory against the in-memory path in the same
 * layout and precision. */
static void
check_same_text (AneLlamaModel *m,
                 AneTokenizer  *tok,
                 const char    *out,
                 const char    *prompt)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaDir) dir = ane_llama_dir_load (out, &error);
  g_autofree char *want = NULL;
  g_autofree char *got = NULL;
  Collect c = { 0, g_string_new (NULL) };

  g_assert_no_error (error);
  want = ane_llama_generate_layout (m, tok, prompt, N_TOKENS, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT16, TRUE, 0.0, 0.9,
                                    0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  got = ane_llama_dir_generate (dir, prompt, N_TOKENS, ANE_BACKEND_CPU, 0.0, 0.9, 0, collect, &c, &error);
  g_assert_no_error (error);
  g_test_message ("%s|%s", prompt, got);
  g_assert_cmpuint (strlen (got), >, 20);
  g_assert_cmpstr (got, ==, want);
  g_assert_cmpstr (c.text->str, ==, got);
  g_assert_cmpuint (c.n, >, 0);
  g_string_free (c.text, TRUE);
}

static void
test_generate_same_text (void)
{
  g_autofree char *tmp = make_tmp ();
  g_autofree char *out = convert_stories (tmp, 0);
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();

  check_same_text (m, tok, out, PROMPT);
  /* one token (the BOS alone) goes to decode directly */
  check_same_text (m, tok, out, "");
  ane_file_remove_tree (tmp);
}

/* A prompt longer than the prefill step takes several prefill calls. */
static void
test_generate_chunked_prompt (void)
{
  g_autofree char *tmp = make_tmp ();
  g_autofree char *out = convert_stories (tmp, 4);
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaDir) dir = ane_llama_dir_load (out, &error);
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  check_same_text (m, tok, out, PROMPT " there was a little girl");
  /* a prompt longer than the context is refused */
  {
    GString *s = g_string_new (NULL);

    for (guint i = 0; i < CONTEXT; i++)
      g_string_append (s, " cat");
    text = ane_llama_dir_generate (dir, s->str, 4, ANE_BACKEND_CPU, 0.0, 0.9, 0, NULL, NULL, &error);
    g_string_free (s, TRUE);
  }
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_null (text);
  ane_file_remove_tree (tmp);
}

/* A prefill step that does not divide the context (48 of 128) and a prompt
 * whose last block would pass the cache end (rows 96..143): the caches are
 * written by slice_update, whole blocks, so the last block starts at
 * 128 - 48 = 80 instead and writes rows 80..95 again; the text is still
 * the in-memory path's, up to the context. */
static void
test_generate_last_block_at_end (void)
{
  g_autofree char *tmp = make_tmp ();
  g_autofree char *out = convert_stories (tmp, 48);
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaDir) dir = ane_llama_dir_load (out, &error);
  g_autoptr(GString) prompt = g_string_new ("Once upon a time");
  g_autofree gint32 *ids = NULL;
  g_autofree char *want = NULL;
  g_autofree char *got = NULL;
  gsize n = 0;

  g_assert_no_error (error);
  for (;;)
    {
      g_free (ids);
      ids = ane_tokenizer_encode (tok, prompt->str, TRUE, FALSE, &n);
      if (n > 100)
        break;
      g_string_append (prompt, " the cat sat on the mat.");
    }
  g_assert_cmpuint (n, <, CONTEXT - 8);
  /* the directory generates at positions n - 1 .. CONTEXT - 1 */
  want = ane_llama_generate_layout (m, tok, prompt->str, CONTEXT - (guint) n + 1, ANE_BACKEND_CPU,
                                    ANE_PRECISION_FLOAT16, TRUE, 0.0, 0.9, 0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  got = ane_llama_dir_generate (dir, prompt->str, CONTEXT, ANE_BACKEND_CPU, 0.0, 0.9, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%" G_GSIZE_FORMAT " prompt tokens|%s", n, got);
  g_assert_cmpuint (strlen (got), >, 10);
  g_assert_cmpstr (got, ==, want);
  ane_file_remove_tree (tmp);
}

static void
test_gguf (gconstpointer data)
{
  gboolean q8 = GPOINTER_TO_INT (data);
  g_autofree char *tmp = make_tmp ();
  g_autofree char *path = ane_test_write_stories_gguf (tmp, "model.gguf",
                                                       &(AneTestGgufVariant) { .arch = "llama", .q8_0 = q8 });
  g_autofree char *out = g_build_filename (tmp, "converted", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = ane_llama_model_load_gguf (path, &error);
  g_autoptr(AneGgufFile) file = NULL;
  g_autoptr(AneTokenizer) tok = NULL;

  g_assert_no_error (error);
  file = ane_gguf_file_new (path, &error);
  g_assert_no_error (error);
  tok = ane_tokenizer_load_gguf (file, &error);
  g_assert_no_error (error);
  /* no tokenizer given: the GGUF's own vocabulary */
  g_assert_true (ane_llama_model_save_dir (m, NULL, out, CONTEXT, 0, ANE_TARGET_IOS18, FALSE, &error));
  g_assert_no_error (error);
  assert_file (out, "tokenizer.gguf", G_FILE_TEST_IS_REGULAR);
  check_same_text (m, tok, out, PROMPT);
  ane_file_remove_tree (tmp);
}

/* A context that is not a multiple of 32 is rounded up to one: the caches'
 * rows stay whole 64-byte rows (the lint's state-width rule would send a
 * 100-wide state off the Neural Engine). */
static void
test_context_aligned (void)
{
  g_autofree char *tmp = make_tmp ();
  g_autofree char *out = g_build_filename (tmp, "stories", NULL);
  g_autofree char *pkg_path = g_build_filename (out, "model.mlpackage", NULL);
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaDir) dir = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AneLintReport) report = NULL;

  g_assert_true (ane_llama_model_save_dir (m, tok, out, 100, 32, ANE_TARGET_IOS18, FALSE, &error));
  g_assert_no_error (error);
  dir = ane_llama_dir_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ane_llama_dir_get_context (dir), ==, 128);
  pkg = ane_package_load (pkg_path, &error);
  g_assert_no_error (error);
  report = ane_package_lint (pkg, ANE_LINT_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_lint_report_count_rule (report, "state-width"), ==, 0);
  g_assert_cmpuint (ane_lint_report_count_ops (report, NULL, ANE_LINT_VERDICT_FALLS_BACK), ==, 0);
  ane_file_remove_tree (tmp);
}

static void
test_refuse_existing (void)
{
  g_autofree char *tmp = make_tmp ();
  g_autofree char *out = convert_stories (tmp, 0);
  g_autofree char *marker = g_build_filename (out, "marker", NULL);
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) listing = NULL;
  const char *name;

  g_assert_true (g_file_set_contents (marker, "x", 1, NULL));
  g_assert_false (ane_llama_model_save_dir (m, tok, out, CONTEXT, 0, ANE_TARGET_IOS18, FALSE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, out));
  g_clear_error (&error);
  g_assert_true (g_file_test (marker, G_FILE_TEST_EXISTS));
  /* with overwrite, replaced as a whole */
  g_assert_true (ane_llama_model_save_dir (m, tok, out, CONTEXT, 0, ANE_TARGET_IOS18, TRUE, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  assert_file (out, "manifest.json", G_FILE_TEST_IS_REGULAR);
  listing = g_dir_open (tmp, 0, NULL);
  while ((name = g_dir_read_name (listing)) != NULL)
    g_assert_cmpstr (name, ==, "stories");

  /* bad arguments, nothing written */
  g_clear_pointer (&out, g_free);
  out = g_build_filename (tmp, "other", NULL);
  g_assert_false (ane_llama_model_save_dir (m, tok, out, 100000, 0, ANE_TARGET_IOS18, FALSE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "context"));
  g_clear_error (&error);
  g_assert_false (ane_llama_model_save_dir (m, tok, out, CONTEXT, CONTEXT + 1, ANE_TARGET_IOS18, FALSE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "prefill"));
  g_clear_error (&error);
  g_assert_false (ane_llama_model_save_dir (m, tok, out, CONTEXT, 0, ANE_TARGET_IOS16, FALSE, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  ane_file_remove_tree (tmp);
}

/* Manifest edits: (a JSON text substitution, the field the error names, the
 * error code). */
typedef struct {
  const char *from, *to;
  const char *field;
  int code;
} Edit;

static const Edit edits[] = {
  { "\"format_version\" : 1", "\"format_version\" : \"1\"", "format_version", ANE_ERROR_PARSE },
  { "\"format_version\" : 1", "\"format_version\" : 7", "format_version", ANE_ERROR_UNSUPPORTED },
  { "\"format\" : \"ane-glib-llama-dir\"", "\"format\" : \"other\"", "format", ANE_ERROR_PARSE },
  { "\"dim\" : 64", "\"dim\" : -64", "model.dim", ANE_ERROR_PARSE },
  { "\"dim\" : 64", "\"dim\" : 64.5", "model.dim", ANE_ERROR_PARSE },
  { "\"dim\" : 64", "\"dim\" : 99999999999", "model.dim", ANE_ERROR_PARSE },
  { "\"dim\" : 64", "\"dim\" : 32", "model.head", ANE_ERROR_PARSE },
  { "\"dim\" : 64", "\"dimension\" : 64", "model.dim", ANE_ERROR_PARSE },
  { "\"n_kv_heads\" : 4", "\"n_kv_heads\" : 3", "model.n_kv_heads", ANE_ERROR_PARSE },
  { "\"n_kv_heads\" : 4", "\"n_kv_heads\" : 9", "model.n_kv_heads", ANE_ERROR_PARSE },
  { "\"vocab_size\" : 512", "\"vocab_size\" : 511", "embedding.shape[0]", ANE_ERROR_PARSE },
  { "\"rope_base\" : 10000.0", "\"rope_base\" : \"big\"", "model.rope_base", ANE_ERROR_PARSE },
  { "\"rope_base\" : 10000.0", "\"rope_base\" : -1", "model.rope_base", ANE_ERROR_PARSE },
  { "\"context\" : 128", "\"context\" : 0", "context", ANE_ERROR_PARSE },
  { "\"context\" : 128", "\"context\" : 96", "context", ANE_ERROR_PARSE },
  { "\"prefill_step\" : 64", "\"prefill_step\" : 1000", "prefill_step", ANE_ERROR_PARSE },
  { "\"prefill_step\" : 64", "\"prefill_step\" : 32", "functions[0].tokens", ANE_ERROR_PARSE },
  { "\"file\" : \"embedding.bin\"", "\"file\" : \"missing.bin\"", "embedding.file", ANE_ERROR_NOT_FOUND },
  { "\"file\" : \"embedding.bin\"", "\"file\" : \"../embedding.bin\"", "embedding.file", ANE_ERROR_PARSE },
  { "\"file\" : \"embedding.bin\"", "\"file\" : 3", "embedding.file", ANE_ERROR_PARSE },
  { "\"file\" : \"model.mlpackage\"", "\"file\" : \"manifest.json\"", "chunks[0].file", ANE_ERROR_NOT_FOUND },
  { "\"file\" : \"tokenizer.bin\"", "\"file\" : \"embedding.bin\"", "tokenizer.file", ANE_ERROR_PARSE },
  { "\"kind\" : \"llama2c\"", "\"kind\" : \"bpe\"", "tokenizer.kind", ANE_ERROR_PARSE },
  { "\"name\" : \"prefill\"", "\"name\" : \"decode\"", "functions[0].name", ANE_ERROR_PARSE },
  { "\"name\" : \"rope_cos\"", "\"name\" : \"cos\"", "functions[0].inputs[1].name", ANE_ERROR_PARSE },
  { "\"precision\" : \"float16\"", "\"precision\" : \"float32\"", "precision", ANE_ERROR_PARSE },
  { "\"functions\" : [", "\"functions\" : {\"a\":1}, \"x\" : [", "functions", ANE_ERROR_PARSE },
  { "\"embedding\" : {", "\"embedding\" : [], \"e\" : {", "embedding", ANE_ERROR_PARSE },
  { "{", "[", NULL, ANE_ERROR_PARSE },
};

static char *
replace_once (const char *text,
              const char *from,
              const char *to)
{
  const char *at = strstr (text, from);

  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
}

static void
test_manifest_errors (void)
{
  g_autofree char *tmp = make_tmp ();
  g_autofree char *out = convert_stories (tmp, 0);
  g_autofree char *manifest = g_build_filename (out, "manifest.json", NULL);
  g_autofree char *good = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaDir) dir = NULL;
  g_autofree char *emb = g_build_filename (out, "embedding.bin", NULL);

  g_assert_true (g_file_get_contents (manifest, &good, NULL, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      g_autofree char *bad = replace_once (good, edits[i].from, edits[i].to);

      g_assert_true (g_file_set_contents (manifest, bad, -1, NULL));
      dir = ane_llama_dir_load (out, &error);
      g_assert_null (dir);
      g_assert_nonnull (error);
      g_test_message ("edit %u: %s", i, error->message);
      g_assert_error (error, ANE_ERROR, edits[i].code);
      if (edits[i].field != NULL)
        {
          g_autofree char *quoted = g_strdup_printf ("'%s", edits[i].field);

          g_assert_nonnull (strstr (error->message, quoted));
        }
      g_clear_error (&error);
    }
  /* not JSON, too deep, empty, missing */
  g_assert_true (g_file_set_contents (manifest, "{\"format\": ", -1, NULL));
  g_assert_null (ane_llama_dir_load (out, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_clear_error (&error);
  {
    g_autofree char *deep = g_strnfill (100000, '[');

    g_assert_true (g_file_set_contents (manifest, deep, -1, NULL));
    g_assert_null (ane_llama_dir_load (out, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
    g_clear_error (&error);
  }
  {
    /* a manifest too large to be one, refused before it is read */
    g_autofree char *big = g_strnfill (2 << 20, ' ');

    g_assert_true (g_file_set_contents (manifest, big, -1, NULL));
    g_assert_null (ane_llama_dir_load (out, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE);
    g_clear_error (&error);
  }
  g_assert_true (g_file_set_contents (manifest, "", 0, NULL));
  g_assert_null (ane_llama_dir_load (out, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_clear_error (&error);
  /* a truncated embedding */
  g_assert_true (g_file_set_contents (manifest, good, -1, NULL));
  g_assert_true (g_file_set_contents (emb, "xx", 2, NULL));
  g_assert_null (ane_llama_dir_load (out, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "'embedding.file'"));
  g_clear_error (&error);
  g_assert_cmpint (g_unlink (manifest), ==, 0);
  g_assert_null (ane_llama_dir_load (out, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ane_file_remove_tree (tmp);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/llama-dir/convert-files", test_convert_files);
  g_test_add_func ("/ane/llama-dir/generate-same-text", test_generate_same_text);
  g_test_add_func ("/ane/llama-dir/generate-chunked-prompt", test_generate_chunked_prompt);
  g_test_add_func ("/ane/llama-dir/generate-last-block-at-end", test_generate_last_block_at_end);
  g_test_add_data_func ("/ane/llama-dir/gguf-f32", GINT_TO_POINTER (FALSE), test_gguf);
  g_test_add_data_func ("/ane/llama-dir/gguf-q8_0", GINT_TO_POINTER (TRUE), test_gguf);
  g_test_add_func ("/ane/llama-dir/context-aligned", test_context_aligned);
  g_test_add_func ("/ane/llama-dir/refuse-existing", test_refuse_existing);
  g_test_add_func ("/ane/llama-dir/manifest-errors", test_manifest_errors);
  return g_test_run ();
}
