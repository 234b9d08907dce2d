/* test-llama-dir-chunks.c: converted directories split into chunks of
 * layers, and with an in-model arg-max head (ane_llama_model_save_dir_full)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "ane-glib.h"
#include "ane-file-private.h"
#include "gguf/ane-gguf-writer-private.h"
#include "model/ane-llama-private.h"
#include "ane-test-gguf.h"

#define PROMPT "Once upon a time"
#define N_TOKENS 60
#define CONTEXT 128

typedef struct {
  guint n_chunks;
  guint64 chunk_bytes;
  gboolean argmax;
  guint want_chunks;   /* how many packages that makes of stories260K */
  gint64 head_first;   /* the last chunk's first layer */
} Split;

static char *
make_tmp (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("ane-llama-chunks-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static char *
convert (AneLlamaModel *m,
         AneTokenizer  *tok,
         const char    *tmp,
         const char    *name,
         const Split   *split)
{
  g_autoptr(GError) error = NULL;
  char *out = g_build_filename (tmp, name, NULL);

  g_assert_true (ane_llama_model_save_dir_full (m, tok, out, CONTEXT, 0, ANE_TARGET_IOS18, split->n_chunks,
                                                split->chunk_bytes, split->argmax, FALSE, &error));
  g_assert_no_error (error);
  return out;
}

/* Greedy text from the directory against the in-memory path (the same
 * layout, float16, logits picked on the host). */
static char *
check_same_text (AneLlamaModel *m,
                 AneTokenizer  *tok,
                 AneLlamaDir   *dir,
                 const char    *prompt)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *want = NULL;
  char *got;

  want = ane_llama_generate_layout (m, tok, prompt, N_TOKENS, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT16, TRUE, 0.0, 0.9,
                                    0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  got = ane_llama_dir_generate (dir, prompt, N_TOKENS, ANE_BACKEND_CPU, 0.0, 0.9, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  {
    /* a synthetic vocabulary's pieces need not be UTF-8; TAP lines must be */
    g_autofree char *shown = g_utf8_make_valid (got, -1);

    g_test_message ("%u chunk(s)%s: %s|%s", ane_llama_dir_get_n_chunks (dir),
                    ane_llama_dir_get_argmax (dir) ? ", arg-max" : "", prompt, shown);
  }
  g_assert_cmpuint (strlen (got), >, 20);
  g_assert_cmpstr (got, ==, want);
  return got;
}

/* Every chunk: the type mirror finds nothing, and the lint keeps every op
 * of both functions on the Neural Engine, the arg-max head's included. */
static void
check_lint (AneLlamaDir *dir)
{
  guint n = ane_llama_dir_get_n_chunks (dir);

  for (guint c = 0; c < n; c++)
    {
      AnePackage *pkg = ane_llama_dir_get_chunk (dir, c, NULL, NULL);
      g_auto(GStrv) problems = ane_package_check_types (pkg, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(AneLintReport) report = ane_package_lint (pkg, ANE_LINT_NONE, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (problems != NULL ? g_strv_length (problems) : 0, ==, 0);
      for (guint i = 0; i < ane_lint_report_get_n_ops (report); i++)
        if (ane_lint_report_get_op_verdict (report, i) == ANE_LINT_VERDICT_FALLS_BACK)
          g_test_message ("chunk %u: %s %s falls back: %s", c, ane_lint_report_get_op_function (report, i),
                          ane_lint_report_get_op_type (report, i), ane_lint_report_get_op_message (report, i));
      g_assert_cmpuint (ane_lint_report_count_ops (report, "prefill", ANE_LINT_VERDICT_FALLS_BACK), ==, 0);
      g_assert_cmpuint (ane_lint_report_count_ops (report, "decode", ANE_LINT_VERDICT_FALLS_BACK), ==, 0);
      g_assert_cmpuint (ane_lint_report_count_ops (report, "prefill", ANE_LINT_VERDICT_ANE), >, 0);
      g_assert_cmpuint (ane_lint_report_count_ops (report, "decode", ANE_LINT_VERDICT_ANE), >, 0);
    }
}

static void
test_split (gconstpointer data)
{
  const Split *split = data;
  g_autofree char *tmp = make_tmp ();
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autofree char *out = convert (m, tok, tmp, "split", split);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaDir) dir = ane_llama_dir_load (out, &error);
  g_autofree char *text = NULL;
  gint64 next = 0, first = -1, end = -1;
  guint n;

  g_assert_no_error (error);
  n = ane_llama_dir_get_n_chunks (dir);
  g_assert_cmpuint (n, ==, split->want_chunks);
  g_assert_true (ane_llama_dir_get_argmax (dir) == split->argmax);
  for (guint c = 0; c < n; c++)
    {
      g_autofree char *name = n == 1 ? g_strdup ("model.mlpackage") : g_strdup_printf ("chunk-%u.mlpackage", c);
      g_autofree char *path = g_build_filename (out, name, NULL);

      g_assert_true (g_file_test (path, G_FILE_TEST_IS_DIR));
      g_assert_nonnull (ane_llama_dir_get_chunk (dir, c, &first, &end));
      g_assert_cmpint (first, ==, next);
      g_assert_cmpint (end, >=, first);
      next = end;
    }
  g_assert_cmpint (end, ==, ane_llama_model_get_n_layers (m));
  g_assert_cmpint (first, ==, split->head_first);
  check_lint (dir);
  text = check_same_text (m, tok, dir, PROMPT);
  g_clear_pointer (&text, g_free);
  /* the BOS alone goes to decode directly */
  text = check_same_text (m, tok, dir, "");
  if (split->argmax)
    {
      g_autofree char *sampled = ane_llama_dir_generate (dir, PROMPT, 4, ANE_BACKEND_CPU, 0.8, 0.9, 1, NULL, NULL,
                                                         &error);

      g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error->message, "argmax"));
      g_assert_null (sampled);
    }
  ane_file_remove_tree (tmp);
}

/* Each layer of stories260K is 98 816 bytes of float16 weights (and 256 of
 * norms), its classifier 65 536: budgets that put two layers in a chunk,
 * and one, with the head alone in the last. */
static const Split split_two = { .n_chunks = 2, .want_chunks = 2, .head_first = 3 };
static const Split split_budget = { .chunk_bytes = 200000, .want_chunks = 3, .head_first = 4 };
static const Split split_head_alone = { .chunk_bytes = 100000, .want_chunks = 6, .head_first = 5 };
static const Split split_argmax = { .n_chunks = 2, .argmax = TRUE, .want_chunks = 2, .head_first = 3 };
static const Split split_argmax_one = { .argmax = TRUE, .want_chunks = 1, .head_first = 0 };
static const Split split_default = { .want_chunks = 1, .head_first = 0 };

static void
test_bad_split (void)
{
  g_autofree char *tmp = make_tmp ();
  g_autofree char *out = g_build_filename (tmp, "never", NULL);
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autoptr(GError) error = NULL;

  g_assert_false (ane_llama_model_save_dir_full (m, tok, out, CONTEXT, 0, ANE_TARGET_IOS18, 2, 1000, FALSE, FALSE,
                                                 &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_llama_model_save_dir_full (m, tok, out, CONTEXT, 0, ANE_TARGET_IOS18, 6, 0, FALSE, FALSE,
                                                 &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "6 chunks"));
  g_clear_error (&error);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  ane_file_remove_tree (tmp);
}

/* ------------------------------------------------------------------------ */
/* Manifests of a chunked directory, edited                                  */

typedef void (*EditFunc) (JsonObject *root, JsonArray *chunks);

static void
drop_last (JsonObject *root, JsonArray *chunks)
{
  json_array_remove_element (chunks, json_array_get_length (chunks) - 1);
}

static void
drop_middle (JsonObject *root, JsonArray *chunks)
{
  json_array_remove_element (chunks, 1);
}

static void
repeat_first (JsonObject *root, JsonArray *chunks)
{
  json_array_add_element (chunks, json_node_copy (json_array_get_element (chunks, 0)));
}

static void
swap_first_two (JsonObject *root, JsonArray *chunks)
{
  JsonNode *a = json_node_copy (json_array_get_element (chunks, 0));

  json_array_remove_element (chunks, 0);
  /* the old second is first now; the old first goes after it */
  {
    g_autoptr(GList) rest = json_array_get_elements (chunks);
    JsonArray *copy = json_array_new ();
    guint i = 0;

    for (GList *l = rest; l != NULL; l = l->next, i++)
      {
        json_array_add_element (copy, json_node_copy (l->data));
        if (i == 0)
          json_array_add_element (copy, a);
      }
    while (json_array_get_length (chunks) > 0)
      json_array_remove_element (chunks, 0);
    for (guint j = 0; j < json_array_get_length (copy); j++)
      json_array_add_element (chunks, json_node_copy (json_array_get_element (copy, j)));
    json_array_unref (copy);
  }
}

static JsonArray *
layers_of (JsonArray *chunks, guint c)
{
  return json_object_get_array_member (json_array_get_object_element (chunks, c), "layers");
}

static void
set_layer (JsonArray *layers, guint i, gint64 v)
{
  json_array_remove_element (layers, i);
  if (i == 0)
    {
      JsonNode *end = json_node_copy (json_array_get_element (layers, 0));

      json_array_remove_element (layers, 0);
      json_array_add_int_element (layers, v);
      json_array_add_element (layers, end);
    }
  else
    json_array_add_int_element (layers, v);
}

static void
first_too_long (JsonObject *root, JsonArray *chunks)
{
  set_layer (layers_of (chunks, 0), 1, 9);
}

static void
first_empty (JsonObject *root, JsonArray *chunks)
{
  set_layer (layers_of (chunks, 0), 1, 0);
}

static void
gap (JsonObject *root, JsonArray *chunks)
{
  set_layer (layers_of (chunks, 1), 0, 3);
}

static void
three_numbers (JsonObject *root, JsonArray *chunks)
{
  json_array_add_int_element (layers_of (chunks, 0), 2);
}

static void
escaping_file (JsonObject *root, JsonArray *chunks)
{
  json_object_set_string_member (json_array_get_object_element (chunks, 1), "file", "../chunk-1.mlpackage");
}

static void
swapped_files (JsonObject *root, JsonArray *chunks)
{
  json_object_set_string_member (json_array_get_object_element (chunks, 1), "file", "chunk-2.mlpackage");
  json_object_set_string_member (json_array_get_object_element (chunks, 2), "file", "chunk-1.mlpackage");
}

static void
no_states (JsonObject *root, JsonArray *chunks)
{
  json_object_remove_member (json_array_get_object_element (chunks, 1), "states");
}

static void
no_functions (JsonObject *root, JsonArray *chunks)
{
  json_object_remove_member (json_array_get_object_element (chunks, 2), "functions");
}

static void
head_argmax (JsonObject *root, JsonArray *chunks)
{
  json_object_set_string_member (root, "head", "argmax");
}

static void
head_unknown (JsonObject *root, JsonArray *chunks)
{
  json_object_set_string_member (root, "head", "softmax");
}

static void
no_chunks (JsonObject *root, JsonArray *chunks)
{
  while (json_array_get_length (chunks) > 0)
    json_array_remove_element (chunks, 0);
}

static const struct {
  EditFunc edit;
  const char *field;
  int code;
} chunk_edits[] = {
  { drop_last, "chunks[1].layers[1]", ANE_ERROR_PARSE },
  { drop_middle, "chunks[1].layers[0]", ANE_ERROR_PARSE },
  { repeat_first, "chunks[3].file", ANE_ERROR_PARSE },
  { swap_first_two, "chunks[0].layers[0]", ANE_ERROR_PARSE },
  { first_too_long, "chunks[0].layers[1]", ANE_ERROR_PARSE },
  { first_empty, "chunks[0].layers[1]", ANE_ERROR_PARSE },
  { gap, "chunks[1].layers[0]", ANE_ERROR_PARSE },
  { three_numbers, "chunks[0].layers", ANE_ERROR_PARSE },
  { escaping_file, "chunks[1].file", ANE_ERROR_PARSE },
  { swapped_files, "chunks[1].functions", ANE_ERROR_PARSE },
  { no_states, "chunks[1].states", ANE_ERROR_PARSE },
  { no_functions, "chunks[2].functions", ANE_ERROR_PARSE },
  { head_argmax, "chunks[2].functions[0].outputs", ANE_ERROR_PARSE },
  { head_unknown, "head", ANE_ERROR_PARSE },
  { no_chunks, "chunks", ANE_ERROR_PARSE },
};

static void
test_chunk_manifest_errors (void)
{
  g_autofree char *tmp = make_tmp ();
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  const Split three = { .n_chunks = 3 };
  g_autofree char *out = convert (m, tok, tmp, "three", &three);
  g_autofree char *manifest = g_build_filename (out, "manifest.json", NULL);
  g_autofree char *good = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaDir) dir = NULL;

  g_assert_true (g_file_get_contents (manifest, &good, NULL, NULL));
  /* the chunks keep their functions and states; the top has none */
  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonObject *root;

    g_assert_true (json_parser_load_from_data (parser, good, -1, NULL));
    root = json_node_get_object (json_parser_get_root (parser));
    g_assert_false (json_object_has_member (root, "functions"));
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "chunks")), ==, 3);
    g_assert_cmpstr (json_object_get_string_member (root, "head"), ==, "logits");
  }
  dir = ane_llama_dir_load (out, &error);
  g_assert_no_error (error);
  g_clear_object (&dir);
  for (guint i = 0; i < G_N_ELEMENTS (chunk_edits); i++)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      g_autofree char *bad = NULL;
      g_autofree char *quoted = g_strdup_printf ("'%s", chunk_edits[i].field);
      JsonObject *root;

      g_assert_true (json_parser_load_from_data (parser, good, -1, NULL));
      root = json_node_get_object (json_parser_get_root (parser));
      chunk_edits[i].edit (root, json_object_get_array_member (root, "chunks"));
      json_generator_set_root (gen, json_parser_get_root (parser));
      bad = json_generator_to_data (gen, NULL);
      g_assert_true (g_file_set_contents (manifest, bad, -1, NULL));
      dir = ane_llama_dir_load (out, &error);
      g_assert_null (dir);
      g_assert_nonnull (error);
      g_test_message ("edit %u: %s", i, error->message);
      g_assert_error (error, ANE_ERROR, chunk_edits[i].code);
      g_assert_nonnull (strstr (error->message, quoted));
      g_clear_error (&error);
    }
  ane_file_remove_tree (tmp);
}

/* A one-chunk manifest keeps the layout format version 1 was first written
 * in (functions and states at the top, no "head"), and also loads with its
 * functions and states moved into the chunk. */
static void
test_one_chunk_layouts (void)
{
  g_autofree char *tmp = make_tmp ();
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
  g_autofree char *out = convert (m, tok, tmp, "one", &split_default);
  g_autofree char *manifest = g_build_filename (out, "manifest.json", NULL);
  g_autofree char *good = NULL;
  g_autofree char *moved = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaDir) dir = NULL;
  JsonObject *root, *chunk;

  g_assert_true (g_file_get_contents (manifest, &good, NULL, NULL));
  g_assert_true (json_parser_load_from_data (parser, good, -1, NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_has_member (root, "functions"));
  g_assert_true (json_object_has_member (root, "states"));
  g_assert_cmpint (json_object_get_int_member (root, "format_version"), ==, 1);
  /* as the first manifests: no "head" */
  json_object_remove_member (root, "head");
  json_generator_set_root (gen, json_parser_get_root (parser));
  g_clear_pointer (&moved, g_free);
  moved = json_generator_to_data (gen, NULL);
  g_assert_true (g_file_set_contents (manifest, moved, -1, NULL));
  dir = ane_llama_dir_load (out, &error);
  g_assert_no_error (error);
  g_assert_false (ane_llama_dir_get_argmax (dir));
  g_clear_object (&dir);
  /* functions and states inside the chunk */
  chunk = json_array_get_object_element (json_object_get_array_member (root, "chunks"), 0);
  json_object_set_member (chunk, "functions", json_node_copy (json_object_get_member (root, "functions")));
  json_object_set_member (chunk, "states", json_node_copy (json_object_get_member (root, "states")));
  json_object_remove_member (root, "functions");
  json_object_remove_member (root, "states");
  g_clear_pointer (&moved, g_free);
  moved = json_generator_to_data (gen, NULL);
  g_assert_true (g_file_set_contents (manifest, moved, -1, NULL));
  dir = ane_llama_dir_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_llama_dir_get_n_chunks (dir), ==, 1);
  ane_file_remove_tree (tmp);
}

/* ------------------------------------------------------------------------ */
/* A vocabulary above 16384 with an arg-max head                             */

/* A llama2.c tokenizer file of n tokens: <unk>, <s>, </s>, the 256 byte
 * tokens, then words. */
static void
write_wide_tokenizer (const char *path,
                      guint       n)
{
  g_autoptr(GByteArray) b = g_byte_array_new ();
  gint32 max_len = 16;

  g_byte_array_append (b, (const guint8 *) &max_len, 4);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *piece = i == 0 ? g_strdup ("<unk>") : i == 1 ? g_strdup ("\n<s>\n") : i == 2
                               ? g_strdup ("\n</s>\n") : i < 259 ? g_strdup_printf ("<0x%02X>", i - 3)
                               : g_strdup_printf (" w%u", i);
      float score = -(float) i;
      gint32 len = (gint32) strlen (piece);

      g_byte_array_append (b, (const guint8 *) &score, 4);
      g_byte_array_append (b, (const guint8 *) &len, 4);
      g_byte_array_append (b, (const guint8 *) piece, (guint) len);
    }
  g_assert_true (g_file_set_contents (path, (const char *) b->data, b->len, NULL));
}

static void
test_wide_argmax (void)
{
  const AneGgufSyntheticLlama spec = {
    .dim = 64, .hidden = 128, .layers = 2, .heads = 4, .kv_heads = 2, .vocab = 20000, .context = CONTEXT,
    .matrices = ANE_DTYPE_FLOAT16, .seed = 11,
  };
  g_autofree char *tmp = make_tmp ();
  g_autofree char *path = g_build_filename (tmp, "wide.gguf", NULL);
  g_autofree char *tok_path = g_build_filename (tmp, "wide-tok.bin", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = NULL;
  g_autoptr(AneTokenizer) tok = NULL;
  const Split split = { .n_chunks = 2, .argmax = TRUE };
  g_autofree char *out = NULL;
  g_autoptr(AneLlamaDir) dir = NULL;
  g_autoptr(GPtrArray) outputs = NULL;
  g_autofree char *text = NULL;

  g_assert_true (ane_gguf_write_synthetic_llama (path, &spec, &error));
  g_assert_no_error (error);
  write_wide_tokenizer (tok_path, (guint) spec.vocab);
  m = ane_llama_model_load_gguf (path, &error);
  g_assert_no_error (error);
  tok = ane_tokenizer_load_llama2c (tok_path, (guint) spec.vocab, &error);
  g_assert_no_error (error);
  out = convert (m, tok, tmp, "wide", &split);
  dir = ane_llama_dir_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_llama_dir_get_n_chunks (dir), ==, 2);
  /* two parts of 10000: an index and a value each */
  outputs = ane_package_list_outputs (ane_llama_dir_get_chunk (dir, 1, NULL, NULL), "decode", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outputs->len, ==, 4);
  g_assert_cmpstr (ane_tensor_get_name (g_ptr_array_index (outputs, 0)), ==, "argmax_idx_0");
  g_assert_cmpint (ane_tensor_get_dim (g_ptr_array_index (outputs, 0), 1), ==, 2);
  g_assert_cmpstr (ane_tensor_get_name (g_ptr_array_index (outputs, 3)), ==, "argmax_val_1");
  check_lint (dir);
  text = check_same_text (m, tok, dir, " w300 w4000 w17000");
  ane_file_remove_tree (tmp);
}

static AneExecutable *
compiled (AneGraph *graph)
{
  g_autoptr(GError) error = NULL;
  AneExecutable *exe = ane_executable_new (graph, ANE_BACKEND_CPU);

  ane_executable_set_precision (exe, ANE_PRECISION_FLOAT16);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
  return exe;
}

/* Ties: classifier rows from 300 on all equal to row 0, the rows before
 * it half of row 0, so that the largest logit is shared by every row from
 * 300 (both parts of a 20000-token vocabulary) or by every row before it.
 * The arg-max head must pick the lowest of them (300 or 0), as the greedy
 * pick over the logits does. */
static void
test_argmax_ties (void)
{
  const AneGgufSyntheticLlama spec = {
    .dim = 64, .hidden = 128, .layers = 1, .heads = 4, .kv_heads = 2, .vocab = 20000, .context = 32,
    .matrices = ANE_DTYPE_FLOAT16, .seed = 5,
  };
  g_autofree char *tmp = make_tmp ();
  g_autofree char *path = g_build_filename (tmp, "ties.gguf", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = NULL;
  g_autofree float *w = NULL;
  g_autofree gpointer scratch = NULL;
  AneTensor *tied;
  gsize n = 0;
  gint64 dim;

  g_assert_true (ane_gguf_write_synthetic_llama (path, &spec, &error));
  g_assert_no_error (error);
  m = ane_llama_model_load_gguf (path, &error);
  g_assert_no_error (error);
  dim = ane_llama_model_get_dim (m);
  w = ane_tensor_dup_floats (ane_llama_model_get_weight (m, "output"), &n, &error);
  g_assert_no_error (error);
  for (gint64 r = 1; r < spec.vocab; r++)
    for (gint64 c = 0; c < dim; c++)
      w[r * dim + c] = r < 300 ? 0.5f * w[c] : w[c];
  for (gint64 c = 0; c < dim; c++)
    w[c] *= 0.5f;
  tied = ane_tensor_new_from_floats ("output", (const gint64[]) { spec.vocab, dim }, 2, w, n, &error);
  g_assert_no_error (error);
  g_hash_table_replace (m->weights, g_strdup ("output"), tied);
  scratch = ane_llama_sampler_scratch_new (spec.vocab);
  for (gint32 token = 0; token < 40; token += 3)
    {
      g_autoptr(AneGraph) logits_graph = ane_llama_model_build_ane_step (m, 1, 32, 0, 1, ANE_LLAMA_HEAD_LOGITS,
                                                                         ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE, &error);
      g_autoptr(AneGraph) argmax_graph = ane_llama_model_build_ane_step (m, 1, 32, 0, 1, ANE_LLAMA_HEAD_ARGMAX,
                                                                         ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE, &error);
      g_autoptr(AneExecutable) el = NULL;
      g_autoptr(AneExecutable) ea = NULL;
      g_autoptr(GPtrArray) in = ane_llama_model_ane_decode_inputs (m, token, 0, 32, &error);
      g_autoptr(GPtrArray) lo = NULL;
      g_autoptr(GPtrArray) ao = NULL;
      g_autofree float *logits = g_new (float, spec.vocab);
      gint32 want, got = -1;

      g_assert_no_error (error);
      el = compiled (logits_graph);
      ea = compiled (argmax_graph);
      lo = ane_executable_run (el, (AneTensor **) in->pdata, in->len, NULL, &error);
      g_assert_no_error (error);
      ao = ane_executable_run (ea, (AneTensor **) in->pdata, in->len, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (ane_llama_ane_logits_column (lo, spec.vocab, 1, 0, logits, &error));
      want = ane_llama_pick_token (logits, spec.vocab, 0.0, 0.9, NULL, scratch);
      g_assert_true (ane_llama_ane_argmax_column (ao, spec.vocab, 1, 0, &got, &error));
      g_assert_no_error (error);
      g_test_message ("token %d: logits pick %d, arg-max head %d", token, want, got);
      g_assert_true (want == 0 || want == 300);
      g_assert_cmpint (got, ==, want);
    }
  ane_file_remove_tree (tmp);
}

/* The host's side of the arg-max head: the part with the largest value
 * wins, the first on a tie; digits that name no row are refused. */
static void
test_argmax_column (void)
{
  const gint64 vocab = 20000;
  const float idx0[2] = { 3, 7 }, idx1[2] = { 1, 2 }, bad[2] = { 127, 127 };
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  float v0 = 2.5f, v1 = 2.5f;
  gint32 token = -1;

  g_ptr_array_add (out, ane_tensor_new_from_floats ("argmax_idx_0", (const gint64[]) { 1, 2, 1, 1 }, 4, idx0, 2, NULL));
  g_ptr_array_add (out, ane_tensor_new_from_floats ("argmax_val_0", (const gint64[]) { 1, 1, 1, 1 }, 4, &v0, 1, NULL));
  g_ptr_array_add (out, ane_tensor_new_from_floats ("argmax_idx_1", (const gint64[]) { 1, 2, 1, 1 }, 4, idx1, 2, NULL));
  g_ptr_array_add (out, ane_tensor_new_from_floats ("argmax_val_1", (const gint64[]) { 1, 1, 1, 1 }, 4, &v1, 1, NULL));
  g_assert_true (ane_llama_ane_argmax_column (out, vocab, 1, 0, &token, &error));
  g_assert_cmpint (token, ==, 3 * 128 + 7);
  v1 = 2.75f;
  g_ptr_array_remove_index (out, 3);
  g_ptr_array_add (out, ane_tensor_new_from_floats ("argmax_val_1", (const gint64[]) { 1, 1, 1, 1 }, 4, &v1, 1, NULL));
  g_assert_true (ane_llama_ane_argmax_column (out, vocab, 1, 0, &token, &error));
  g_assert_cmpint (token, ==, 10000 + 1 * 128 + 2);
  /* 127 · 128 + 127 is past the part's 10000 rows */
  g_ptr_array_remove_index (out, 2);
  g_ptr_array_insert (out, 2, ane_tensor_new_from_floats ("argmax_idx_1", (const gint64[]) { 1, 2, 1, 1 }, 4, bad, 2,
                                                          NULL));
  g_assert_false (ane_llama_ane_argmax_column (out, vocab, 1, 0, &token, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_ptr_array_remove_index (out, 3);
  g_assert_false (ane_llama_ane_argmax_column (out, vocab, 1, 0, &token, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/ane/llama-dir-chunks/default-one", &split_default, test_split);
  g_test_add_data_func ("/ane/llama-dir-chunks/two", &split_two, test_split);
  g_test_add_data_func ("/ane/llama-dir-chunks/budget", &split_budget, test_split);
  g_test_add_data_func ("/ane/llama-dir-chunks/head-alone", &split_head_alone, test_split);
  g_test_add_data_func ("/ane/llama-dir-chunks/argmax-two", &split_argmax, test_split);
  g_test_add_data_func ("/ane/llama-dir-chunks/argmax-one", &split_argmax_one, test_split);
  g_test_add_func ("/ane/llama-dir-chunks/bad-split", test_bad_split);
  g_test_add_func ("/ane/llama-dir-chunks/manifest-errors", test_chunk_manifest_errors);
  g_test_add_func ("/ane/llama-dir-chunks/one-chunk-layouts", test_one_chunk_layouts);
  g_test_add_func ("/ane/llama-dir-chunks/wide-argmax", test_wide_argmax);
  g_test_add_func ("/ane/llama-dir-chunks/argmax-ties", test_argmax_ties);
  g_test_add_func ("/ane/llama-dir-chunks/argmax-column", test_argmax_column);
  return g_test_run ();
}
