/* test-llama-gguf.c: LLaMA-architecture GGUF models and vocabularies
 *
 * The GGUF files are written here from the bundled llama2.c stories260K
 * (weights under llama.cpp's tensor names, the vocabulary with spaces
 * spelled "▁"), F32 and with the linear weights quantized to Q8_0, then read
 * back with ane_llama_model_load_gguf () and ane_tokenizer_load_gguf ().
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

#define PROMPT "Once upon a time"
#define N_GEN 50
/* Q8_0 moves the logits by at most this much (measured 0.26 over the prompt
 * and the 50 greedy steps). */
#define Q8_LOGIT_BOUND 0.5
/* How much another BLAS or summation order could move the margin of a
 * greedy choice (its best logit minus its second) of a program computing in
 * float32: these logits are within 1.4e-5 of a double-precision forward
 * pass (test-llama.c), so 1e-3 is generous. */
#define Q8_NOISE 1e-3

static GArray *
generate (AneLlamaModel *m,
          AneTokenizer  *tok,
          char         **text)
{
  return ane_test_generate_greedy (m, tok, PROMPT, N_GEN, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, 42, text);
}

static void
assert_same_hparams (AneLlamaModel *a,
                     AneLlamaModel *b)
{
  g_assert_cmpint (ane_llama_model_get_dim (a), ==, ane_llama_model_get_dim (b));
  g_assert_cmpint (ane_llama_model_get_hidden_dim (a), ==, ane_llama_model_get_hidden_dim (b));
  g_assert_cmpint (ane_llama_model_get_n_layers (a), ==, ane_llama_model_get_n_layers (b));
  g_assert_cmpint (ane_llama_model_get_n_heads (a), ==, ane_llama_model_get_n_heads (b));
  g_assert_cmpint (ane_llama_model_get_n_kv_heads (a), ==, ane_llama_model_get_n_kv_heads (b));
  g_assert_cmpint (ane_llama_model_get_vocab_size (a), ==, ane_llama_model_get_vocab_size (b));
  g_assert_cmpint (ane_llama_model_get_seq_len (a), ==, ane_llama_model_get_seq_len (b));
  g_assert_true (ane_llama_model_get_shared_classifier (a) == ane_llama_model_get_shared_classifier (b));
}

static AneTokenizer *
gguf_tokenizer (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGgufFile) f = ane_gguf_file_new (path, &error);
  AneTokenizer *tok;

  g_assert_no_error (error);
  tok = ane_tokenizer_load_gguf (f, &error);
  g_assert_no_error (error);
  return tok;
}

static void
test_tokenizer (void)
{
  static const char *const texts[] = {
    PROMPT,
    "Once upon a time, there was a little girl named Lily.",
    "Tom said: \"Let's play!\" 123 + 456 = 579",
    "naïve café — ünïcödé ✓ 日本語 🙂",
    "  two leading spaces\tand a tab\nand a newline",
    "x",
    "",
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-llama-gguf-XXXXXX", &error);
  g_autofree char *path = ane_test_write_stories_gguf (dir, "tok.gguf", &(AneTestGgufVariant) { .arch = "llama" });
  g_autoptr(AneTokenizer) ref = ane_test_load_stories_tokenizer ();
  g_autoptr(AneTokenizer) tok = gguf_tokenizer (path);

  g_assert_cmpuint (ane_tokenizer_get_n_tokens (tok), ==, 512);
  g_assert_cmpint (ane_tokenizer_get_bos_id (tok), ==, 1);
  g_assert_cmpint (ane_tokenizer_get_eos_id (tok), ==, 2);
  g_assert_cmpstr (ane_tokenizer_get_piece (tok, 403), ==, "\xe2\x96\x81" "Once");
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autofree gint32 *a = NULL, *b = NULL;
      g_autofree char *back = NULL;
      g_autoptr(GString) incr = g_string_new (NULL);
      gsize na, nb;

      a = ane_tokenizer_encode (ref, texts[i], TRUE, TRUE, &na);
      b = ane_tokenizer_encode (tok, texts[i], TRUE, TRUE, &nb);
      g_assert_cmpmem (a, na * sizeof (gint32), b, nb * sizeof (gint32));
      back = ane_tokenizer_decode (tok, b, nb);
      g_assert_cmpstr (back, ==, texts[i]);
      for (gsize j = 1; j + 1 < nb; j++)
        {
          g_autofree char *p = ane_tokenizer_decode_token (tok, b[j - 1], b[j]);
          g_string_append (incr, p);
        }
      g_assert_cmpstr (incr->str, ==, texts[i]);
    }
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_f32 (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-llama-gguf-XXXXXX", &error);
  g_autofree char *path = ane_test_write_stories_gguf (dir, "f32.gguf", &(AneTestGgufVariant) { .arch = "llama" });
  g_autoptr(AneLlamaModel) ref = ane_test_load_stories ();
  g_autoptr(AneTokenizer) ref_tok = ane_test_load_stories_tokenizer ();
  g_autoptr(AneLlamaModel) m = ane_llama_model_load_gguf (path, &error);
  g_autoptr(AneTokenizer) tok = NULL;
  g_autoptr(GArray) want = NULL, got = NULL;
  g_autofree char *want_text = NULL, *got_text = NULL;
  AneTensor *a, *b;

  g_assert_no_error (error);
  tok = gguf_tokenizer (path);
  assert_same_hparams (m, ref);
  a = ane_llama_model_get_weight (ref, "layers.3.w2");
  b = ane_llama_model_get_weight (m, "layers.3.w2");
  g_assert_nonnull (b);
  g_assert_cmpint (ane_tensor_get_dtype (b), ==, ANE_DTYPE_FLOAT32);
  g_assert_true (g_bytes_equal (ane_tensor_get_data (a), ane_tensor_get_data (b)));
  g_assert_null (ane_llama_model_get_weight (m, "output"));

  want = generate (ref, ref_tok, &want_text);
  got = generate (m, tok, &got_text);
  g_test_message ("GGUF F32: %s", got_text);
  g_assert_cmpuint (want->len, ==, N_GEN);
  g_assert_cmpmem (want->data, want->len * sizeof (gint32), got->data, got->len * sizeof (gint32));
  g_assert_cmpstr (want_text, ==, got_text);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_q8_0 (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-llama-gguf-XXXXXX", &error);
  g_autofree char *path = ane_test_write_stories_gguf (dir, "q8.gguf", &(AneTestGgufVariant) { .arch = "llama", .q8_0 = TRUE });
  g_autofree char *f32_path = ane_test_write_stories_gguf (dir, "f32.gguf", &(AneTestGgufVariant) { .arch = "llama" });
  g_autoptr(AneLlamaModel) m = ane_llama_model_load_gguf (path, &error);
  g_autoptr(AneLlamaModel) m32 = NULL;
  g_autoptr(AneTokenizer) tok = gguf_tokenizer (path);
  g_autoptr(AneGraph) g = NULL, prefill = NULL;
  g_autoptr(GHashTable) hist = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_auto(GStrv) report = NULL;
  g_autoptr(GArray) want = NULL, got = NULL;
  g_autofree char *text = NULL;
  guint n_layers, same = 0, on_device = 0;

  g_assert_no_error (error);
  m32 = ane_llama_model_load_gguf (f32_path, &error);
  g_assert_no_error (error);
  n_layers = (guint) ane_llama_model_get_n_layers (m);
  g_assert_cmpint (ane_tensor_get_dtype (ane_llama_model_get_weight (m, "layers.0.wq")), ==, ANE_DTYPE_Q8_0);
  /* ffn_down has rows of 172, not a multiple of 32: left F32 */
  g_assert_cmpint (ane_tensor_get_dtype (ane_llama_model_get_weight (m, "layers.0.w2")), ==, ANE_DTYPE_FLOAT32);
  /* the quantized embedding stays in its blocks (no float32 table), which
   * are the tied classifier too */
  g_assert_cmpint (ane_tensor_get_dtype (ane_llama_model_get_weight (m, "token_embedding")), ==, ANE_DTYPE_Q8_0);
  g_assert_true (ane_llama_model_get_weight (m, "token_embedding") == ane_llama_model_get_weight (m, "output"));
  g_assert_cmpint (ane_tensor_get_dtype (ane_llama_model_get_weight (m, "output")), ==, ANE_DTYPE_Q8_0);
  g_assert_true (ane_llama_model_get_shared_classifier (m));

  g = ane_llama_model_build_decode (m, 16, &error);
  g_assert_no_error (error);
  hist = ane_graph_op_histogram (g);
  /* wq wk wv wo w1 w3 per layer, and the classifier; the embedding's rows
   * are gathered from its dequantized blocks */
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (hist, "dequant_matmul")), ==, 6 * n_layers + 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (hist, "dequant_moe_weights")), ==, 1);

  prefill = ane_llama_model_build_prefill (m, 8, &error);
  g_assert_no_error (error);
  pkg = ane_package_new_from_graph (prefill, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  g_assert_no_error (error);
  report = ane_package_dup_weight_report (pkg);
  /* the matrices, and the classifier (one weight with the embedding) */
  g_assert_cmpuint (g_strv_length (report), ==, 6 * n_layers + 1);
  for (guint i = 0; report[i] != NULL; i++)
    if (strstr (report[i], "on device") != NULL)
      on_device++;
  g_test_message ("iOS18 package: %u of %u Q8_0 weights on device, e.g. %s", on_device,
                  g_strv_length (report), report[0]);
  g_assert_cmpuint (on_device, ==, g_strv_length (report));

  want = generate (m32, tok, NULL);
  got = generate (m, tok, &text);
  g_assert_cmpuint (want->len, ==, N_GEN);
  for (guint i = 0; i < MIN (want->len, got->len) && g_array_index (want, gint32, i) == g_array_index (got, gint32, i); i++)
    same++;
  g_test_message ("Q8_0: the first %u of %u tokens equal the F32 ones: %s", same, N_GEN, text);
  g_assert_cmpuint (got->len, ==, N_GEN);

  /* Q8_0 against F32 along the F32 run: how far quantization moves the
   * logits and the margins of the greedy choices */
  {
    g_autoptr(GArray) seq = g_array_new (FALSE, FALSE, sizeof (gint32));
    g_autofree gint32 *ids = NULL;
    g_autoptr(AneGraph) g32 = NULL, g8 = NULL;
    g_autoptr(AneExecutable) e32 = NULL, e8 = NULL;
    double gaps[N_GEN], gaps8[N_GEN], err;
    guint must_match = 0, closest = 0;
    gsize n_prompt;

    ids = ane_tokenizer_encode (tok, PROMPT, TRUE, FALSE, &n_prompt);
    g_array_append_vals (seq, ids, n_prompt);
    g_array_append_vals (seq, want->data, want->len);
    g32 = ane_llama_model_build_decode (m32, seq->len, &error);
    g_assert_no_error (error);
    g8 = ane_llama_model_build_decode (m, seq->len, &error);
    g_assert_no_error (error);
    e32 = ane_executable_new (g32, ANE_BACKEND_CPU);
    e8 = ane_executable_new (g8, ANE_BACKEND_CPU);
    ane_executable_set_precision (e32, ANE_PRECISION_FLOAT32);
    ane_executable_set_precision (e8, ANE_PRECISION_FLOAT32);
    ane_executable_compile (e32, NULL, &error);
    g_assert_no_error (error);
    ane_executable_compile (e8, NULL, &error);
    g_assert_no_error (error);
    err = ane_test_decode_margins (e32, e8, (const gint32 *) seq->data, seq->len, n_prompt, gaps, gaps8);
    for (guint i = 1; i < N_GEN; i++)
      if (gaps8[i] < gaps8[closest])
        closest = i;
    /* (written so that a NaN margin stops the count too) */
    while (must_match < N_GEN && gaps8[must_match] >= Q8_NOISE)
      must_match++;
    g_test_message ("Q8_0 vs F32 over the prompt and the %u steps: logits moved by at most %.4g; Q8_0's "
                    "smallest margin: %.4g at step %u (F32's there: %.4g); Q8_0 must follow F32 for %u tokens",
                    N_GEN, err, gaps8[closest], closest, gaps[closest], must_match);
    g_assert_cmpfloat (err, >, 0.0);
    g_assert_cmpfloat (err, <, Q8_LOGIT_BOUND);
    /* Q8_0 equals F32 up to the first step Q8_0 itself wins by less than
     * Q8_NOISE: another rounding could tip that one. Measured: none of the
     * 50 (Q8_0's smallest margin is 0.18, at step 16), so all 50 agree. */
    if (same < must_match)
      g_error ("the Q8_0 run leaves the F32 one at token %u, where F32's choice wins by %.4g "
               "and Q8_0's by %.4g; Q8_0's first near tie is at %u", same, gaps[same], gaps8[same], must_match);
  }
  g_unlink (path);
  g_unlink (f32_path);
  g_rmdir (dir);
}

static void
test_qwen2 (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-llama-gguf-XXXXXX", &error);
  g_autofree char *path = ane_test_write_stories_gguf (dir, "qwen2.gguf", &(AneTestGgufVariant) { .arch = "qwen2", .biases = TRUE });
  g_autofree char *nobias = ane_test_write_stories_gguf (dir, "qwen2-nobias.gguf", &(AneTestGgufVariant) { .arch = "qwen2" });
  g_autoptr(AneLlamaModel) m = ane_llama_model_load_gguf (path, &error);
  g_autoptr(AneLlamaModel) bad = NULL;
  g_autoptr(AneTokenizer) tok = gguf_tokenizer (path);
  g_autoptr(GArray) got = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (ane_llama_model_get_weight (m, "layers.4.bk"));
  got = generate (m, tok, NULL);
  g_assert_cmpuint (got->len, >, 0);

  bad = ane_llama_model_load_gguf (nobias, &error);
  g_assert_null (bad);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "blk.0.attn_q.bias"));
  g_unlink (path);
  g_unlink (nobias);
  g_rmdir (dir);
}

static void
test_bad (void)
{
  static const struct {
    AneTestGgufVariant v;
    gint code;
    const char *named;
  } cases[] = {
    { { .arch = "gpt2" }, ANE_ERROR_UNSUPPORTED, "gpt2" },
    { { .arch = "llama", .omit_tensor = "blk.2.ffn_up.weight" }, ANE_ERROR_NOT_FOUND, "blk.2.ffn_up.weight" },
    { { .arch = "llama", .omit_tensor = "output_norm.weight" }, ANE_ERROR_NOT_FOUND, "output_norm.weight" },
    { { .arch = "llama", .bad_tensor = "blk.1.attn_k.weight" }, ANE_ERROR_SHAPE, "blk.1.attn_k.weight" },
    { { .arch = "llama", .bad_tensor = "blk.0.ffn_down.weight", .q8_0 = TRUE }, ANE_ERROR_SHAPE, "blk.0.ffn_down.weight" },
    { { .arch = "llama", .omit_key = "llama.block_count" }, ANE_ERROR_NOT_FOUND, "llama.block_count" },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-llama-gguf-XXXXXX", &error);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = ane_test_write_stories_gguf (dir, "bad.gguf", &cases[i].v);
      g_autoptr(AneLlamaModel) m = ane_llama_model_load_gguf (path, &error);

      g_assert_null (m);
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      if (cases[i].code >= 0)
        g_assert_error (error, ANE_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].named));
      g_clear_error (&error);
      g_unlink (path);
    }

  /* a tokenizer model other than llama */
  {
    g_autofree char *path = ane_test_write_stories_gguf (dir, "bad.gguf", &(AneTestGgufVariant) { .arch = "llama", .tok_model = "gpt2" });
    g_autoptr(AneGgufFile) f = ane_gguf_file_new (path, &error);
    g_autoptr(AneTokenizer) tok = NULL;

    g_assert_no_error (error);
    tok = ane_tokenizer_load_gguf (f, &error);
    g_assert_null (tok);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "gpt2"));
    g_clear_error (&error);
    g_unlink (path);
  }
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/llama-gguf/tokenizer", test_tokenizer);
  g_test_add_func ("/ane/llama-gguf/f32", test_f32);
  g_test_add_func ("/ane/llama-gguf/q8_0", test_q8_0);
  g_test_add_func ("/ane/llama-gguf/qwen2", test_qwen2);
  g_test_add_func ("/ane/llama-gguf/bad", test_bad);
  return g_test_run ();
}
