/* test-llama-hf.c: Hugging Face checkpoints (ane_llama_model_load_hf)
 *
 * The checkpoints are written here from the bundled llama2.c stories260K
 * (ane-test-hf.c): config.json and safetensors under transformers' names,
 * q_proj/k_proj permuted as transformers' LLaMA conversion permutes them.
 * Loaded back, they must generate the llama2.c checkpoint's greedy tokens,
 * token for token. Qwen3 and Gemma, which stories260K cannot stand for, are
 * checked against a numpy forward pass in tests/python/test_llama_hf.py.
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
#include "ane-test-hf.h"

#define PROMPT "Once upon a time"
#define N_GEN 200

static GArray *
generate (AneLlamaModel *m,
          char         **text)
{
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();

  return ane_test_generate_greedy (m, tok, PROMPT, N_GEN, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, 42, text);
}

static AneLlamaModel *
write_and_load (const char             *dir,
                const AneTestHfVariant *v)
{
  g_autoptr(GError) error = NULL;
  AneLlamaModel *m;

  g_assert_true (ane_test_write_stories_hf (dir, v, &error));
  g_assert_no_error (error);
  m = ane_llama_model_load_hf (dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (m);
  return m;
}

static void
assert_same_tokens (GArray     *want,
                    GArray     *got,
                    const char *what)
{
  guint first_diff = 0;

  while (first_diff < want->len && first_diff < got->len &&
         g_array_index (want, gint32, first_diff) == g_array_index (got, gint32, first_diff))
    first_diff++;
  g_test_message ("%s: %u of %u greedy tokens equal before the first difference", what, first_diff, want->len);
  g_assert_cmpuint (want->len, ==, N_GEN);
  g_assert_cmpuint (got->len, ==, want->len);
  g_assert_cmpuint (first_diff, ==, want->len);
}

/* F32, one file or two shards: the llama2.c checkpoint's greedy text. */
static void
test_greedy (gconstpointer data)
{
  guint n_shards = GPOINTER_TO_UINT (data);
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-llama-hf-XXXXXX");
  g_autoptr(AneLlamaModel) ref = ane_test_load_stories ();
  g_autoptr(AneLlamaModel) m = write_and_load (dir, &(AneTestHfVariant) { .n_shards = n_shards });
  g_autoptr(GArray) want = NULL, got = NULL;
  g_autofree char *want_text = NULL, *got_text = NULL;
  g_autofree char *shard = g_build_filename (dir, "model-00002-of-00002.safetensors", NULL);
  AneTensor *w;

  g_assert_true (g_file_test (shard, G_FILE_TEST_EXISTS) == (n_shards == 2));
  g_assert_cmpint (ane_llama_model_get_dim (m), ==, ane_llama_model_get_dim (ref));
  g_assert_cmpint (ane_llama_model_get_hidden_dim (m), ==, ane_llama_model_get_hidden_dim (ref));
  g_assert_cmpint (ane_llama_model_get_n_layers (m), ==, ane_llama_model_get_n_layers (ref));
  g_assert_cmpint (ane_llama_model_get_n_heads (m), ==, ane_llama_model_get_n_heads (ref));
  g_assert_cmpint (ane_llama_model_get_n_kv_heads (m), ==, ane_llama_model_get_n_kv_heads (ref));
  g_assert_cmpint (ane_llama_model_get_vocab_size (m), ==, ane_llama_model_get_vocab_size (ref));
  g_assert_cmpint (ane_llama_model_get_seq_len (m), ==, ane_llama_model_get_seq_len (ref));
  g_assert_true (ane_llama_model_get_shared_classifier (m));
  g_assert_null (ane_llama_model_get_weight (m, "output"));
  /* the unpermuted weights are the file's bytes, used in place */
  w = ane_llama_model_get_weight (m, "layers.2.w2");
  g_assert_cmpint (ane_tensor_get_dtype (w), ==, ANE_DTYPE_FLOAT32);
  g_assert_true (g_bytes_equal (ane_tensor_get_data (w),
                                ane_tensor_get_data (ane_llama_model_get_weight (ref, "layers.2.w2"))));
  /* q is permuted: not the llama2.c bytes */
  g_assert_false (g_bytes_equal (ane_tensor_get_data (ane_llama_model_get_weight (m, "layers.0.wq")),
                                 ane_tensor_get_data (ane_llama_model_get_weight (ref, "layers.0.wq"))));

  want = generate (ref, &want_text);
  got = generate (m, &got_text);
  g_test_message ("HF (%u shard(s)): %s", MAX (n_shards, 1), got_text);
  assert_same_tokens (want, got, n_shards == 2 ? "two shards" : "model.safetensors");
  g_assert_cmpstr (want_text, ==, got_text);
  ane_test_remove_tree (dir);
}

/* The checkpoint with its tokenizer.json (tok512's, as a Hugging Face
 * conversion writes it): model and tokenizer both from the directory give
 * the llama2.c checkpoint's text with tok512.bin, token for token. */
static void
test_tokenizer_json (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-llama-hf-XXXXXX");
  g_autofree char *tok_path = g_build_filename (dir, "tokenizer.json", NULL);
  g_autoptr(AneLlamaModel) ref = ane_test_load_stories ();
  g_autoptr(AneTokenizer) ref_tok = ane_test_load_stories_tokenizer ();
  g_autoptr(AneLlamaModel) m = write_and_load (dir, &(AneTestHfVariant) { .tokenizer = TRUE });
  g_autoptr(AneTokenizer) tok = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *want_text = NULL, *got_text = NULL;
  g_autoptr(GArray) want = NULL, got = NULL;

  tok = ane_tokenizer_load_hf (tok_path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ane_tokenizer_get_bos_id (tok), ==, ANE_TOKENIZER_BOS);
  g_assert_cmpint (ane_tokenizer_get_eos_id (tok), ==, ANE_TOKENIZER_EOS);
  want = ane_test_generate_greedy (ref, ref_tok, PROMPT, N_GEN, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, 42,
                                   &want_text);
  got = ane_test_generate_greedy (m, tok, PROMPT, N_GEN, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, 42, &got_text);
  g_test_message ("HF with tokenizer.json: %s", got_text);
  assert_same_tokens (want, got, "tokenizer.json");
  g_assert_cmpstr (want_text, ==, got_text);
  ane_test_remove_tree (dir);
}

/* F16 and BF16 checkpoints against the llama2.c checkpoint with the same
 * rounded weights: both compute in float32 over the same values, so the
 * greedy tokens are the same, token for token. The F16 matrices stay
 * float16 (widened in the graph), BF16 ones are widened at load. */
static void
test_half (gconstpointer data)
{
  AneDType dtype = GPOINTER_TO_INT (data);
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-llama-hf-XXXXXX");
  g_autofree char *rounded_path = g_build_filename (dir, "rounded.bin", NULL);
  g_autofree char *hf_dir = g_build_filename (dir, "hf", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) rounded = NULL;
  g_autoptr(AneLlamaModel) plain = ane_test_load_stories ();
  g_autoptr(AneLlamaModel) m = write_and_load (hf_dir, &(AneTestHfVariant) { .dtype = dtype });
  g_autoptr(GArray) want = NULL, got = NULL, full = NULL;
  guint same_as_f32 = 0;

  g_assert_true (ane_test_write_stories_rounded (rounded_path, dtype, &error));
  g_assert_no_error (error);
  rounded = ane_llama_model_load_llama2c (rounded_path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ane_tensor_get_dtype (ane_llama_model_get_weight (m, "layers.1.w3")), ==,
                   dtype == ANE_DTYPE_FLOAT16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32);
  g_assert_cmpint (ane_tensor_get_dtype (ane_llama_model_get_weight (m, "layers.1.attention_norm")), ==,
                   ANE_DTYPE_FLOAT32);

  want = generate (rounded, NULL);
  got = generate (m, NULL);
  assert_same_tokens (want, got, dtype == ANE_DTYPE_FLOAT16 ? "F16" : "BF16");
  /* for the record: how far the rounding itself moves the float32 text */
  full = generate (plain, NULL);
  while (same_as_f32 < full->len && g_array_index (full, gint32, same_as_f32) == g_array_index (got, gint32, same_as_f32))
    same_as_f32++;
  g_test_message ("%s: %u of %u greedy tokens equal to the float32 checkpoint's",
                  dtype == ANE_DTYPE_FLOAT16 ? "F16" : "BF16", same_as_f32, full->len);
  ane_test_remove_tree (dir);
}

/* The prefill logits of the HF checkpoint and the llama2.c one agree to
 * float32 rounding (only the order of q·k's terms differs). */
static void
test_prefill_logits (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-llama-hf-XXXXXX");
  g_autoptr(AneLlamaModel) ref = ane_test_load_stories ();
  g_autoptr(AneLlamaModel) m = write_and_load (dir, &(AneTestHfVariant) { 0 });
  const gint32 tokens[8] = { 1, 403, 407, 261, 378, 432, 270, 289 };
  const gint32 positions[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  g_autoptr(GError) error = NULL;
  float *logits[2];
  g_autoptr(GPtrArray) outs0 = NULL, outs1 = NULL;
  double max_diff = 0.0;
  gsize n = 0;
  AneLlamaModel *models[2] = { ref, m };

  for (guint k = 0; k < 2; k++)
    {
      g_autoptr(AneGraph) g = ane_llama_model_build_prefill (models[k], 8, &error);
      g_autoptr(AneExecutable) exe = NULL;
      g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func (g_object_unref);
      GPtrArray *outs;

      g_assert_no_error (error);
      exe = ane_executable_new (g, ANE_BACKEND_CPU);
      ane_executable_set_precision (exe, ANE_PRECISION_FLOAT32);
      g_assert_true (ane_executable_compile (exe, NULL, &error));
      g_assert_no_error (error);
      g_ptr_array_add (inputs, ane_tensor_new_from_ints ("tokens", (const gint64[]) { 8 }, 1, tokens, 8, &error));
      g_ptr_array_add (inputs, ane_tensor_new_from_ints ("positions", (const gint64[]) { 8 }, 1, positions, 8, &error));
      g_assert_no_error (error);
      outs = ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, &error);
      g_assert_no_error (error);
      if (k == 0)
        outs0 = outs;
      else
        outs1 = outs;
    }
  logits[0] = ane_tensor_dup_floats (g_ptr_array_index (outs0, 0), &n, &error);
  g_assert_cmpuint (n, ==, 8 * 512);
  logits[1] = ane_tensor_dup_floats (g_ptr_array_index (outs1, 0), &n, &error);
  g_assert_cmpuint (n, ==, 8 * 512);
  g_assert_no_error (error);
  for (gsize i = 0; i < 8 * 512; i++)
    max_diff = MAX (max_diff, fabs ((double) logits[0][i] - logits[1][i]));
  g_test_message ("prefill logits: max |HF - llama2.c| = %.3g", max_diff);
  /* the logits are of order 10; float32 sums in another order: 1e-4 */
  g_assert_cmpfloat (max_diff, <, 1e-4);
  g_free (logits[0]);
  g_free (logits[1]);
  ane_test_remove_tree (dir);
}

static void
expect_error (const AneTestHfVariant *v,
              AneError                code,
              const char             *first_substring,
              const char             *second_substring)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-llama-hf-XXXXXX");
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = NULL;

  g_assert_true (ane_test_write_stories_hf (dir, v, &error));
  g_assert_no_error (error);
  m = ane_llama_model_load_hf (dir, &error);
  g_assert_null (m);
  g_test_message ("%s", error ? error->message : "(no error)");
  ane_test_assert_error (&error, code, first_substring, second_substring, NULL);
  ane_test_remove_tree (dir);
}

static void
test_errors (void)
{
  /* a missing tensor, by the name the architecture expects */
  expect_error (&(AneTestHfVariant) { .omit_tensor = "model.layers.3.self_attn.k_proj.weight" },
                ANE_ERROR_NOT_FOUND, "model.layers.3.self_attn.k_proj.weight", "llama");
  expect_error (&(AneTestHfVariant) { .omit_tensor = "model.norm.weight", .n_shards = 2 },
                ANE_ERROR_NOT_FOUND, "model.norm.weight", "llama");
  /* untied: lm_head.weight is then needed */
  expect_error (&(AneTestHfVariant) { .config_extra = ",\n  \"tie_word_embeddings\": false" },
                ANE_ERROR_NOT_FOUND, "lm_head.weight", NULL);
  /* the biases an architecture declares */
  expect_error (&(AneTestHfVariant) { .model_type = "qwen2" },
                ANE_ERROR_NOT_FOUND, "model.layers.0.self_attn.q_proj.bias", "qwen2");
  expect_error (&(AneTestHfVariant) { .config_extra = ",\n  \"attention_bias\": true" },
                ANE_ERROR_NOT_FOUND, "model.layers.0.self_attn.q_proj.bias", "llama");
  /* qwen3's q/k norms */
  expect_error (&(AneTestHfVariant) { .model_type = "qwen3" },
                ANE_ERROR_NOT_FOUND, "model.layers.0.self_attn.q_norm.weight", "qwen3");
  /* a shape mismatch, with both shapes */
  expect_error (&(AneTestHfVariant) { .bad_tensor = "model.layers.1.self_attn.k_proj.weight" },
                ANE_ERROR_SHAPE, "[31, 64]", "[32, 64]");
  expect_error (&(AneTestHfVariant) { .bad_tensor = "model.layers.0.input_layernorm.weight", .dtype = ANE_DTYPE_BFLOAT16 },
                ANE_ERROR_SHAPE, "[63]", "[64]");
  /* a dtype that is not a float */
  expect_error (&(AneTestHfVariant) { .int_tensor = "model.layers.2.mlp.up_proj.weight" },
                ANE_ERROR_DTYPE, "model.layers.2.mlp.up_proj.weight", "I32");
  /* unknown architectures list the supported ones */
  expect_error (&(AneTestHfVariant) { .model_type = "phi3" },
                ANE_ERROR_UNSUPPORTED, "'phi3'", "llama, mistral, qwen2, qwen3, gemma");
  expect_error (&(AneTestHfVariant) { .model_type = "gemma2" },
                ANE_ERROR_UNSUPPORTED, "'gemma2'", "soft-capping");
  /* config.json options that would change the model */
  expect_error (&(AneTestHfVariant) { .config_extra = ",\n  \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}" },
                ANE_ERROR_UNSUPPORTED, "'yarn'", "rope_scaling");
  expect_error (&(AneTestHfVariant) { .config_extra = ",\n  \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}" },
                ANE_ERROR_PARSE, "low_freq_factor", "missing");
  expect_error (&(AneTestHfVariant) { .config_extra = ",\n  \"mlp_bias\": true" },
                ANE_ERROR_UNSUPPORTED, "mlp_bias", NULL);
  expect_error (&(AneTestHfVariant) { .config_extra = ",\n  \"hidden_act\": \"gelu\"" },
                ANE_ERROR_UNSUPPORTED, "'gelu'", "silu");
  expect_error (&(AneTestHfVariant) { .config_extra = ",\n  \"num_key_value_heads\": 3" },
                ANE_ERROR_PARSE, "num_key_value_heads", NULL);
  expect_error (&(AneTestHfVariant) { .config_extra = ",\n  \"hidden_size\": \"64\"" },
                ANE_ERROR_PARSE, "hidden_size", "not an integer");
}

/* config.json and the index, broken. */
static void
test_bad_files (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-llama-hf-XXXXXX");
  g_autofree char *config = g_build_filename (dir, "config.json", NULL);
  g_autofree char *index = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autofree char *missing = g_build_filename (dir, "nothing-here", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL, *cut = NULL, *escaping = NULL;
  AneLlamaModel *m;

  m = ane_llama_model_load_hf (missing, &error);
  g_assert_null (m);
  ane_test_assert_error (&error, ANE_ERROR_IO, "nothing-here", NULL);
  /* no config.json */
  m = ane_llama_model_load_hf (dir, &error);
  g_assert_null (m);
  ane_test_assert_error (&error, ANE_ERROR_IO, "config.json", NULL);

  g_assert_true (ane_test_write_stories_hf (dir, &(AneTestHfVariant) { .n_shards = 2 }, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (config, &text, NULL, &error));
  /* truncated JSON */
  cut = g_strndup (text, strlen (text) / 2);
  ane_test_write_file (config, cut, strlen (cut));
  m = ane_llama_model_load_hf (dir, &error);
  g_assert_null (m);
  ane_test_assert_error (&error, ANE_ERROR_PARSE, "config.json", "not valid JSON", NULL);
  /* not an object */
  ane_test_write_file (config, "[1, 2]", 6);
  m = ane_llama_model_load_hf (dir, &error);
  g_assert_null (m);
  ane_test_assert_error (&error, ANE_ERROR_PARSE, "config.json", "not a JSON object", NULL);
  /* a required key missing */
  ane_test_write_file (config, "{\"model_type\": \"llama\"}", 23);
  m = ane_llama_model_load_hf (dir, &error);
  g_assert_null (m);
  ane_test_assert_error (&error, ANE_ERROR_PARSE, "\"hidden_size\"", "missing", NULL);
  /* no architecture at all */
  ane_test_write_file (config, "{\"hidden_size\": 64}", 19);
  m = ane_llama_model_load_hf (dir, &error);
  g_assert_null (m);
  ane_test_assert_error (&error, ANE_ERROR_PARSE, "model_type", "llama, mistral, qwen2, qwen3, gemma", NULL);

  /* an index pointing out of the directory */
  ane_test_write_file (config, text, strlen (text));
  escaping = g_strdup ("{\"weight_map\": {\"model.embed_tokens.weight\": \"../model-00001-of-00002.safetensors\"}}");
  ane_test_write_file (index, escaping, strlen (escaping));
  m = ane_llama_model_load_hf (dir, &error);
  g_assert_null (m);
  ane_test_assert_error (&error, ANE_ERROR_PARSE, "model.embed_tokens.weight", "not a file name", NULL);
  ane_test_write_file (index, "{}", 2);
  m = ane_llama_model_load_hf (dir, &error);
  g_assert_null (m);
  ane_test_assert_error (&error, ANE_ERROR_PARSE, "weight_map", NULL);
  ane_test_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/ane/llama-hf/greedy/single", GUINT_TO_POINTER (1), test_greedy);
  g_test_add_data_func ("/ane/llama-hf/greedy/sharded", GUINT_TO_POINTER (2), test_greedy);
  g_test_add_data_func ("/ane/llama-hf/greedy/f16", GINT_TO_POINTER (ANE_DTYPE_FLOAT16), test_half);
  g_test_add_data_func ("/ane/llama-hf/greedy/bf16", GINT_TO_POINTER (ANE_DTYPE_BFLOAT16), test_half);
  g_test_add_func ("/ane/llama-hf/greedy/tokenizer-json", test_tokenizer_json);
  g_test_add_func ("/ane/llama-hf/prefill-logits", test_prefill_logits);
  g_test_add_func ("/ane/llama-hf/errors", test_errors);
  g_test_add_func ("/ane/llama-hf/bad-files", test_bad_files);
  return g_test_run ();
}
