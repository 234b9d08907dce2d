/* test-tokenizer-hf.c: Hugging Face tokenizer.json files: the real Qwen3 tokenizer against its
 * reference encodings, a tokenizer.json equivalent to tok512 against the llama2.c tokenizer, the
 * pre-tokenizers and decoders against tokenizers' own examples, and hostile files
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ane-glib.h"
#include "ane-test-hf-tokenizer.h"
#include "model/ane-tokenizer-private.h"
#include "ane-test-gguf.h"
#include "ane-test-util.h"
#include "model/ane-llama-private.h"
#include "model/ane-tokenizer-hf-private.h"

static char *
qwen3_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "tokenizers", "qwen3", name, NULL);
}

static AneTokenizer *
load_qwen3 (void)
{
  g_autofree char *path = qwen3_path ("tokenizer.json.gz");
  g_autoptr(GError) error = NULL;
  AneTokenizer *tok = ane_tokenizer_load_hf (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (tok);
  return tok;
}

static GArray *
int_array (JsonObject *obj,
           const char *name)
{
  JsonArray *arr = json_object_get_array_member (obj, name);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (gint32));

  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      gint32 v = (gint32) json_array_get_int_element (arr, i);
      g_array_append_val (out, v);
    }
  return out;
}

static void
assert_ids (const gint32 *ids,
            gsize         n,
            GArray       *want,
            const char   *text)
{
  if (n != want->len || (n > 0 && memcmp (ids, want->data, n * sizeof (gint32)) != 0))
    {
      g_autoptr(GString) got = g_string_new (NULL);

      for (gsize i = 0; i < n; i++)
        g_string_append_printf (got, " %d", ids[i]);
      g_error ("'%s': got%s (%" G_GSIZE_FORMAT " ids, want %u)", text, got->str, n, want->len);
    }
}

/* Every case of cases.json: ids without and with special tokens, the
 * decoded text with and without skip_special_tokens, exactly. */
static void
test_qwen3_cases (void)
{
  g_autoptr(AneTokenizer) tok = load_qwen3 ();
  g_autofree char *cases_path = qwen3_path ("cases.json");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *cases;

  json_parser_load_from_file (parser, cases_path, &error);
  g_assert_no_error (error);
  cases = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "cases");
  g_assert_cmpuint (json_array_get_length (cases), ==, 20);

  /* 151,643 model tokens and 26 added ones; no BOS (tokenizer_config.json
   * says null), EOS <|im_end|> */
  g_assert_cmpuint (ane_tokenizer_get_n_tokens (tok), ==, 151669);
  g_assert_cmpint (ane_tokenizer_get_bos_id (tok), ==, -1);
  g_assert_cmpint (ane_tokenizer_get_eos_id (tok), ==, 151645);
  g_assert_cmpstr (ane_tokenizer_get_piece (tok, 151644), ==, "<|im_start|>");
  g_assert_cmpstr (ane_tokenizer_get_piece (tok, 1879), ==, "\xc4\xa0world");  /* "Ġworld" */

  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      const char *text = json_object_get_string_member (c, "text");
      g_autoptr(GArray) want = int_array (c, "ids");
      g_autoptr(GArray) want_special = int_array (c, "ids_with_special_tokens");
      g_autofree gint32 *ids = NULL, *ids_special = NULL, *ids_legacy = NULL;
      g_autofree char *decoded = NULL, *decoded_skip = NULL;
      g_autoptr(GString) stream = g_string_new (NULL);
      gsize n, n_special, n_legacy;

      ids = ane_tokenizer_encode_full (tok, text, FALSE, &n, &error);
      g_assert_no_error (error);
      assert_ids (ids, n, want, text);
      ids_special = ane_tokenizer_encode_full (tok, text, TRUE, &n_special, &error);
      g_assert_no_error (error);
      assert_ids (ids_special, n_special, want_special, text);
      /* the llama2.c-style call: bos asked, but Qwen3 has none */
      ids_legacy = ane_tokenizer_encode (tok, text, TRUE, FALSE, &n_legacy);
      assert_ids (ids_legacy, n_legacy, want, text);

      decoded = ane_tokenizer_decode_full (tok, (const gint32 *) (void *) want->data, want->len, FALSE);
      g_assert_cmpstr (decoded, ==, json_object_get_string_member (c, "decoded"));
      decoded_skip = ane_tokenizer_decode_full (tok, (const gint32 *) (void *) want_special->data,
                                                want_special->len, TRUE);
      g_assert_cmpstr (decoded_skip, ==, json_object_get_string_member (c, "decoded_skip_special"));

      /* token by token, as generation decodes: the bytes of each token
       * (a part of a character at times) join into the whole */
      for (guint j = 0; j < want->len; j++)
        {
          g_autofree char *piece = ane_tokenizer_decode_token (tok, j > 0 ? g_array_index (want, gint32, j - 1) : -1,
                                                              g_array_index (want, gint32, j));
          g_string_append (stream, piece);
        }
      g_assert_cmpstr (stream->str, ==, decoded);
    }
}

typedef struct
{
  AneTokenizer *tok;
  JsonArray *cases;
  guint failures;
} ThreadJob;

static gpointer
encode_cases_thread (gpointer data)
{
  ThreadJob *job = data;

  for (guint round = 0; round < 20; round++)
    for (guint i = 0; i < json_array_get_length (job->cases); i++)
      {
        JsonObject *c = json_array_get_object_element (job->cases, (i + round * 7) % json_array_get_length (job->cases));
        g_autoptr(GArray) want = int_array (c, "ids");
        gsize n;
        g_autofree gint32 *ids = ane_tokenizer_encode_full (job->tok, json_object_get_string_member (c, "text"), FALSE, &n,
                                                            NULL);
        g_autofree char *text = ane_tokenizer_decode_full (job->tok, (const gint32 *) (void *) want->data, want->len,
                                                           FALSE);

        if (n != want->len || (n > 0 && memcmp (ids, want->data, n * sizeof (gint32)) != 0) ||
            g_strcmp0 (text, json_object_get_string_member (c, "decoded")) != 0)
          g_atomic_int_inc (&job->failures);
      }
  return NULL;
}

/* A tokenizer is shared by threads (its word cache has a lock): four
 * threads encode and decode the Qwen3 cases at once, from a cold cache. */
static void
test_qwen3_threads (void)
{
  g_autoptr(AneTokenizer) tok = load_qwen3 ();
  g_autofree char *cases_path = qwen3_path ("cases.json");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  ThreadJob job = { tok, NULL, 0 };
  GThread *threads[4];

  json_parser_load_from_file (parser, cases_path, &error);
  g_assert_no_error (error);
  job.cases = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "cases");
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    threads[t] = g_thread_new ("encode", encode_cases_thread, &job);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_thread_join (threads[t]);
  g_assert_cmpuint (job.failures, ==, 0);
}

static const char *const tok512_texts[] = {
  "Once upon a time, there was a little girl named Lily.",
  "Tom said: \"Let's play!\" 123 + 456 = 579",
  "naïve café — ünïcödé ✓ 日本語 🙂",
  "  two leading spaces\tand a tab\nand a newline",
  "multiple     spaces      between words   ",
  "3.14159 -42 1,000,000 2026-12-07 0x1F",
  "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
  "Emoji: 😀👍🏽🎉 ❤️",
  "x",
  " ",
  "",
};

/* A tokenizer.json converted from tok512 the way transformers converts a
 * SentencePiece BPE model encodes and decodes as the llama2.c tokenizer. */
static void
test_tok512_equivalent (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-tokenizer-hf-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "tokenizer.json", NULL);
  g_autofree char *ref_path = g_test_build_filename (G_TEST_DIST, "..", "data", "models", "tok512.bin", NULL);
  g_autoptr(AneTokenizer) ref = ane_tokenizer_load_llama2c (ref_path, 512, &error);
  g_autoptr(AneTokenizer) tok = NULL;

  g_assert_no_error (error);
  g_assert_true (ane_test_write_tok512_tokenizer_json (path, dir, &error));
  g_assert_no_error (error);
  tok = ane_tokenizer_load_hf (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_tokenizer_get_n_tokens (tok), ==, 512);
  g_assert_cmpint (ane_tokenizer_get_bos_id (tok), ==, 1);
  g_assert_cmpint (ane_tokenizer_get_eos_id (tok), ==, 2);

  for (guint i = 0; i < G_N_ELEMENTS (tok512_texts); i++)
    {
      const char *text = tok512_texts[i];
      g_autofree gint32 *a = NULL, *b = NULL, *c = NULL;
      g_autofree char *back = NULL, *back_full = NULL;
      g_autoptr(GString) stream = g_string_new (NULL);
      gsize na, nb, nc;

      a = ane_tokenizer_encode (ref, text, TRUE, FALSE, &na);
      b = ane_tokenizer_encode (tok, text, TRUE, FALSE, &nb);
      g_assert_cmpmem (a, na * sizeof (gint32), b, nb * sizeof (gint32));
      /* add_special_tokens: the template's <s> (add_bos_token agrees) */
      c = ane_tokenizer_encode_full (tok, text, TRUE, &nc, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (a, na * sizeof (gint32), c, nc * sizeof (gint32));

      back = ane_tokenizer_decode (tok, b, nb);
      g_assert_cmpstr (back, ==, text);
      back_full = ane_tokenizer_decode_full (tok, b, nb, TRUE);
      g_assert_cmpstr (back_full, ==, text);
      /* generation decodes after <s>: the dummy-prefix space goes, as in
       * the llama2.c path */
      for (gsize j = 1; j < nb; j++)
        {
          g_autofree char *p = ane_tokenizer_decode_token (tok, b[j - 1], b[j]);
          g_autofree char *q = ane_tokenizer_decode_token (ref, b[j - 1], b[j]);

          g_assert_cmpstr (p, ==, q);
          g_string_append (stream, p);
        }
      g_assert_cmpstr (stream->str, ==, text);
    }
  ane_test_remove_tree (dir);
}

/* Generation with the tok512-equivalent tokenizer.json gives the llama2.c
 * tokenizer's text, token for token: in memory, and from a converted
 * directory, which carries the tokenizer.json (kind "hf") and a
 * tokenizer_config.json. */
static void
test_tok512_generate (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-tokenizer-hf-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "tokenizer.json", NULL);
  g_autofree char *out = g_build_filename (dir, "converted", NULL);
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) ref = ane_test_load_stories_tokenizer ();
  g_autoptr(AneTokenizer) tok = NULL;
  g_autoptr(AneLlamaDir) loaded = NULL;
  g_autofree char *want = NULL, *got = NULL, *want_layout = NULL, *got_dir = NULL;

  g_assert_true (ane_test_write_tok512_tokenizer_json (path, dir, &error));
  g_assert_no_error (error);
  tok = ane_tokenizer_load_hf (path, &error);
  g_assert_no_error (error);

  want = ane_llama_model_generate (m, ref, "Once upon a time", 40, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, 0.0, 0.9, 0,
                                   NULL, NULL, &error);
  g_assert_no_error (error);
  got = ane_llama_model_generate (m, tok, "Once upon a time", 40, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, 0.0, 0.9, 0,
                                  NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%s", got);
  g_assert_cmpuint (strlen (got), >, 20);
  g_assert_cmpstr (got, ==, want);

  g_assert_true (ane_llama_model_save_dir (m, tok, out, 128, 0, ANE_TARGET_IOS18, FALSE, &error));
  g_assert_no_error (error);
  loaded = ane_llama_dir_load (out, &error);
  g_assert_no_error (error);
  g_assert_true (ane_tokenizer_is_hf (ane_llama_dir_get_tokenizer (loaded)));
  g_assert_cmpint (ane_tokenizer_get_bos_id (ane_llama_dir_get_tokenizer (loaded)), ==, 1);
  g_assert_cmpint (ane_tokenizer_get_eos_id (ane_llama_dir_get_tokenizer (loaded)), ==, 2);
  want_layout = ane_llama_generate_layout (m, ref, "Once upon a time", 40, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT16, TRUE,
                                           0.0, 0.9, 0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  got_dir = ane_llama_dir_generate (loaded, "Once upon a time", 40, ANE_BACKEND_CPU, 0.0, 0.9, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got_dir, ==, want_layout);
  ane_test_remove_tree (dir);
}

/* --- pre-tokenizers and decoders, on tokenizers' own examples --- */

static char *
splits_of (const char *pre_tokenizer_json,
           const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  AneHfSplits splits;
  g_autoptr(GString) out = g_string_new (NULL);
  AneHfPreTokenizer *p = NULL;

  json_parser_load_from_data (parser, pre_tokenizer_json, -1, &error);
  g_assert_no_error (error);
  g_assert_true (ane_hf_pre_tokenizer_parse (json_parser_get_root (parser), "pre_tokenizer", &p, &error));
  g_assert_no_error (error);
  ane_hf_splits_init (&splits, text, strlen (text), TRUE);
  g_assert_true (ane_hf_pre_tokenizer_apply (p, &splits, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < splits.spans->len; i++)
    {
      AneHfSpan w = g_array_index (splits.spans, AneHfSpan, i);

      g_string_append_printf (out, "%s%.*s", i > 0 ? "|" : "", (int) w.len, splits.text->str + w.start);
    }
  ane_hf_splits_clear (&splits);
  ane_hf_pre_tokenizer_free (p);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

typedef struct
{
  const char *json, *text, *want;
} SplitCase;

static void
test_pre_tokenizers (void)
{
  /* tokenizers/src/tokenizer/normalizer.rs tests (split), digits.rs,
   * whitespace.rs, metaspace.rs, byte_level.rs, punctuation.rs */
  static const SplitCase cases[] = {
    { "{\"type\":\"Split\",\"pattern\":{\"String\":\"-\"},\"behavior\":\"Removed\",\"invert\":false}",
      "The-final--countdown", "The|final|countdown" },
    { "{\"type\":\"Split\",\"pattern\":{\"String\":\"-\"},\"behavior\":\"Isolated\",\"invert\":false}",
      "The-final--countdown", "The|-|final|-|-|countdown" },
    { "{\"type\":\"Split\",\"pattern\":{\"String\":\"-\"},\"behavior\":\"MergedWithPrevious\",\"invert\":false}",
      "The-final--countdown", "The-|final-|-|countdown" },
    { "{\"type\":\"Split\",\"pattern\":{\"String\":\"-\"},\"behavior\":\"MergedWithNext\",\"invert\":false}",
      "The-final--countdown", "The|-final|-|-countdown" },
    { "{\"type\":\"Split\",\"pattern\":{\"String\":\"-\"},\"behavior\":\"Contiguous\",\"invert\":false}",
      "The-final--countdown", "The|-|final|--|countdown" },
    { "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\w+\"},\"behavior\":\"Removed\",\"invert\":true}",
      "Hey, man!", "Hey|man" },
    { "{\"type\":\"Digits\",\"individual_digits\":true}", "Hey 123 friend!", "Hey |1|2|3| friend!" },
    { "{\"type\":\"Digits\",\"individual_digits\":false}", "Hey 123 friend!", "Hey |123| friend!" },
    { "{\"type\":\"Whitespace\"}", "Hey man!", "Hey|man|!" },
    { "{\"type\":\"Whitespace\"}", "Hey, man, Good?", "Hey|,|man|,|Good|?" },
    { "{\"type\":\"WhitespaceSplit\"}", "Hey man!", "Hey|man!" },
    { "{\"type\":\"Punctuation\"}", "Hey friend!     How are you?!?", "Hey friend|!|     How are you|?|!|?" },
    { "{\"type\":\"Metaspace\",\"replacement\":\"\xe2\x96\x81\",\"prepend_scheme\":\"always\",\"split\":true}",
      "Hey   friend!", "\xe2\x96\x81Hey|\xe2\x96\x81|\xe2\x96\x81|\xe2\x96\x81" "friend!" },
    { "{\"type\":\"Metaspace\",\"replacement\":\"\xe2\x96\x81\",\"prepend_scheme\":\"never\",\"split\":false}",
      "Hey friend!", "Hey\xe2\x96\x81" "friend!" },
    { "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"use_regex\":true}",
      "Hello my friend, how is your day going?",
      "\xc4\xa0Hello|\xc4\xa0my|\xc4\xa0" "friend|,|\xc4\xa0how|\xc4\xa0is|\xc4\xa0your|\xc4\xa0" "day|\xc4\xa0going|?" },
    /* Llama 3's pattern (meta-llama/Meta-Llama-3-8B tokenizer.json): digits
     * in threes, a space before digits on its own, (?i:) contractions */
    { "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|"
      "\\\\p{N}{1,3}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"},"
      "\"behavior\":\"Isolated\",\"invert\":false}",
      "Hello 12345 WORLD'S  end\n\n", "Hello| |123|45| WORLD|'S| | end|\n\n" },
    { "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"WhitespaceSplit\"},{\"type\":\"Digits\",\"individual_digits\":true}]}",
      "Hey friend 42!", "Hey|friend|4|2|!" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = splits_of (cases[i].json, cases[i].text);

      g_assert_cmpstr (got, ==, cases[i].want);
    }
}

static void
gstring_free (gpointer s)
{
  g_string_free (s, TRUE);
}

static char *
decode_with (const char        *decoder_json,
             const char *const *pieces)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) arr = g_ptr_array_new_with_free_func (gstring_free);
  g_autoptr(GString) out = g_string_new (NULL);
  AneHfDecoder *d = NULL;

  json_parser_load_from_data (parser, decoder_json, -1, &error);
  g_assert_no_error (error);
  g_assert_true (ane_hf_decoder_parse (json_parser_get_root (parser), "decoder", &d, &error));
  g_assert_no_error (error);
  for (guint i = 0; pieces[i] != NULL; i++)
    g_ptr_array_add (arr, g_string_new (pieces[i]));
  ane_hf_decoder_apply (d, arr);
  for (guint i = 0; i < arr->len; i++)
    g_string_append_printf (out, "%s%s", i > 0 ? "|" : "", ((GString *) arr->pdata[i])->str);
  ane_hf_decoder_free (d);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
test_decoders (void)
{
  /* tokenizers' decoders tests: metaspace.rs, strip.rs, byte_fallback.rs,
   * fuse.rs, byte_level.rs */
  static const char *const metaspace[] = { "\xe2\x96\x81Hey", "\xe2\x96\x81" "friend!", NULL };
  static const char *const strip[] = { "  Hey", " friend!", NULL };
  static const char *const bytes[] = { "<0xE5>", "<0x8f>", "<0xab>", "a", NULL };
  static const char *const fuse[] = { "Hey", " friend", "!", NULL };
  static const char *const byte_level[] = { "Hello", "\xc4\xa0my", "\xc4\xa0" "friend", ",", NULL };
  g_autofree char *m = decode_with ("{\"type\":\"Metaspace\",\"replacement\":\"\xe2\x96\x81\",\"prepend_scheme\":\"always\"}",
                                    metaspace);
  g_autofree char *s = decode_with ("{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}", strip);
  g_autofree char *b = decode_with ("{\"type\":\"ByteFallback\"}", bytes);
  g_autofree char *f = decode_with ("{\"type\":\"Fuse\"}", fuse);
  g_autofree char *bl = decode_with ("{\"type\":\"ByteLevel\"}", byte_level);
  g_autofree char *lossy = ane_hf_utf8_lossy ("a\xe5\x8f" "b\xff" "c\xf0\x9f\x98\x80", 10);

  g_assert_cmpstr (m, ==, "Hey| friend!");
  g_assert_cmpstr (s, ==, " Hey|friend!");
  g_assert_cmpstr (b, ==, "\xe5|\x8f|\xab|a");  /* raw bytes: "叫" once joined */
  g_assert_cmpstr (f, ==, "Hey friend!");
  g_assert_cmpstr (bl, ==, "Hello my friend,");
  /* from_utf8_lossy: a truncated sequence is one U+FFFD, a stray byte one */
  g_assert_cmpstr (lossy, ==, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xf0\x9f\x98\x80");
}

/* --- a small byte-level tokenizer with added tokens --- */

static const char small_json[] =
  "{\"version\":\"1.0\",\"normalizer\":null,"
  "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
  "\"post_processor\":{\"type\":\"TemplateProcessing\","
  "  \"single\":[{\"SpecialToken\":{\"id\":\"<bos>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
  "             {\"SpecialToken\":{\"id\":\"<eos>\",\"type_id\":0}}],"
  "  \"special_tokens\":{\"<bos>\":{\"id\":\"<bos>\",\"ids\":[10],\"tokens\":[\"<bos>\"]},"
  "                     \"<eos>\":{\"id\":\"<eos>\",\"ids\":[11],\"tokens\":[\"<eos>\"]}}},"
  "\"decoder\":{\"type\":\"ByteLevel\"},"
  "\"added_tokens\":["
  "  {\"id\":10,\"content\":\"<bos>\",\"special\":true,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false},"
  "  {\"id\":11,\"content\":\"<eos>\",\"special\":true,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false},"
  "  {\"id\":12,\"content\":\"<mask>\",\"special\":true,\"normalized\":false,\"lstrip\":true,\"rstrip\":false,\"single_word\":false},"
  "  {\"id\":13,\"content\":\"<mask2>\",\"special\":false,\"normalized\":false,\"lstrip\":false,\"rstrip\":true,\"single_word\":false},"
  "  {\"id\":14,\"content\":\"ab\",\"special\":false,\"normalized\":true,\"lstrip\":false,\"rstrip\":false,\"single_word\":true}],"
  "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"byte_fallback\":false,"
  "  \"vocab\":{\"a\":0,\"b\":1,\"\xc4\xa0\":2,\"\xc4\xa0" "a\":3,\"\xc4\xa0" "ab\":4,\"c\":5,\"ca\":6},"
  "  \"merges\":[\"\xc4\xa0 a\",[\"\xc4\xa0" "a\",\"b\"],\"c a\"]}}";

static AneTokenizer *
load_text (const char *json,
           GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-tokenizer-hf-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "tokenizer.json", NULL);
  AneTokenizer *tok;

  g_assert_true (g_file_set_contents (path, json, -1, &local_error));
  tok = ane_tokenizer_load_hf (path, error);
  ane_test_remove_tree (dir);
  return tok;
}

static void
assert_encodes (AneTokenizer *tok,
                const char   *text,
                gboolean      special,
                const char   *want)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) got = g_string_new (NULL);
  gsize n;
  g_autofree gint32 *ids = ane_tokenizer_encode_full (tok, text, special, &n, &error);

  g_assert_no_error (error);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (got, "%s%d", i > 0 ? " " : "", ids[i]);
  g_assert_cmpstr (got->str, ==, want);
}

static void
test_added_tokens (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTokenizer) tok = load_text (small_json, &error);
  static const gint32 ids[] = { 10, 3, 12, 11 };
  g_autofree char *with = NULL, *skip = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (ane_tokenizer_get_bos_id (tok), ==, 10);
  g_assert_cmpint (ane_tokenizer_get_eos_id (tok), ==, 11);
  /* " abc" merges Ġ+a then Ġa+b ("ab" is followed by a letter: not the
   * single-word added token); "ca": c+a */
  assert_encodes (tok, " abc", FALSE, "4 5");
  assert_encodes (tok, " abc", TRUE, "10 4 5 11");
  assert_encodes (tok, "ca", FALSE, "6");
  /* an added token splits the text; lstrip takes the spaces before it */
  assert_encodes (tok, "a   <mask>b", FALSE, "0 12 1");
  /* rstrip takes the spaces after it */
  assert_encodes (tok, "a<mask2>   b", FALSE, "0 13 1");
  /* the longest added token wins: <mask2> over <mask> */
  assert_encodes (tok, "<mask2>", FALSE, "13");
  /* single_word: "ab" alone is the added token, inside a word it is not */
  assert_encodes (tok, "ab", FALSE, "14");
  assert_encodes (tok, " ab", FALSE, "2 14");
  assert_encodes (tok, "cab", FALSE, "6 1");
  /* special tokens written in the text are their ids */
  assert_encodes (tok, "<bos>a", FALSE, "10 0");

  with = ane_tokenizer_decode_full (tok, ids, G_N_ELEMENTS (ids), FALSE);
  skip = ane_tokenizer_decode_full (tok, ids, G_N_ELEMENTS (ids), TRUE);
  g_assert_cmpstr (with, ==, "<bos> a<mask><eos>");
  g_assert_cmpstr (skip, ==, " a");
}

/* Model options: end_of_word_suffix, continuing_subword_prefix, unk with
 * fuse_unk, byte_fallback, ignore_merges; a normalizer chain with a Regex
 * Replace; RobertaProcessing. */
static void
test_model_options (void)
{
  static const char suffix_json[] = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b</w>\": 1, \"ab</w>\": 2, \"<unk>\": 3}, \"merges\": [\"a b</w>\"], \"end_of_word_suffix\": \"</w>\", \"unk_token\": \"<unk>\"}, \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}}";
  static const char prefix_json[] = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"##b\": 1, \"ab\": 2, \"##c\": 3, \"abc\": 4}, \"merges\": [\"a ##b\", \"ab ##c\"], \"continuing_subword_prefix\": \"##\"}, \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}}";
  static const char options_json[] = "{\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFKC\"}, {\"type\": \"Lowercase\"}, {\"type\": \"Replace\", \"pattern\": {\"Regex\": \"\\\\s+\"}, \"content\": \" \"}]}, \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"String\": \" \"}, \"behavior\": \"Removed\", \"invert\": false}, \"post_processor\": {\"type\": \"RobertaProcessing\", \"cls\": [\"<s>\", 5], \"sep\": [\"</s>\", 6]}, \"model\": {\"type\": \"BPE\", \"vocab\": {\"<unk>\": 0, \"a\": 1, \"b\": 2, \"ab\": 3, \"<0x21>\": 4, \"<s>\": 5, \"</s>\": 6, \"xyz\": 7}, \"merges\": [\"a b\"], \"unk_token\": \"<unk>\", \"fuse_unk\": true, \"byte_fallback\": true, \"ignore_merges\": true}}";
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTokenizer) suffix = load_text (suffix_json, &error);
  g_autoptr(AneTokenizer) prefix = NULL;
  g_autoptr(AneTokenizer) options = NULL;

  g_assert_no_error (error);
  /* "ab" is a + b</w> merged into ab</w>; "a" alone would be a</w>: unknown */
  assert_encodes (suffix, "ab ab a", FALSE, "2 2 3");
  prefix = load_text (prefix_json, &error);
  g_assert_no_error (error);
  /* a ##b ##c: a + ##b gives ab, ab + ##c gives abc */
  assert_encodes (prefix, "abc ab", FALSE, "4 2");
  options = load_text (options_json, &error);
  g_assert_no_error (error);
  /* NFKC (Ａ is A), lowercase, runs of spaces to one, split on spaces;
   * "x?z" is three unknown characters fused into one <unk>, "xyz" is in
   * the vocabulary (ignore_merges), "!" is its byte token; <s> … </s> */
  assert_encodes (options, "AB\t\t\xef\xbc\xa1" "b  x?z xyz !", TRUE, "5 3 3 0 7 4 6");
  assert_encodes (options, "xyz", FALSE, "7");
}

/* A tokenizer.json may have fewer ids than the model's embedding has rows
 * (checkpoints pad it), never more. */
static void
test_model_vocab_size (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) small = load_text (small_json, &error);
  g_autoptr(AneTokenizer) large = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GString) json = g_string_new (small_json);

  g_assert_no_error (error);
  g_assert_cmpuint (ane_tokenizer_get_n_tokens (small), ==, 15);
  text = ane_llama_model_generate (m, small, "ab ca", 4, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, 0.0, 0.9, 0, NULL, NULL,
                                   &error);
  g_assert_no_error (error);
  g_assert_nonnull (text);
  g_clear_pointer (&text, g_free);

  g_string_replace (json, "{\"id\":14,", "{\"id\":600,", 1);
  large = load_text (json->str, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_tokenizer_get_n_tokens (large), ==, 601);
  text = ane_llama_model_generate (m, large, "ab", 4, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, 0.0, 0.9, 0, NULL, NULL,
                                   &error);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_null (text);
}

/* --- hostile files --- */

typedef struct
{
  const char *name;
  const char *json;
  AneError code;
  const char *needle;  /* in the message */
} BadCase;

static void
test_hostile (void)
{
  static const BadCase cases[] = {
    { "not-json", "{\"model\": ", ANE_ERROR_PARSE, "tokenizer.json" },
    { "array", "[1, 2]", ANE_ERROR_PARSE, "top level" },
    { "no-model", "{}", ANE_ERROR_PARSE, "model is missing" },
    { "wordpiece", "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", ANE_ERROR_UNSUPPORTED, "WordPiece" },
    { "unigram", "{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}", ANE_ERROR_UNSUPPORTED, "Unigram" },
    { "vocab-array", "{\"model\":{\"type\":\"BPE\",\"vocab\":[],\"merges\":[]}}", ANE_ERROR_PARSE, "model.vocab" },
    { "vocab-string-id", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":\"0\"},\"merges\":[]}}", ANE_ERROR_PARSE,
      "model.vocab['a']" },
    { "vocab-huge-id", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":999999999},\"merges\":[]}}", ANE_ERROR_PARSE,
      "model.vocab['a']" },
    { "vocab-duplicate-id", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}}",
      ANE_ERROR_PARSE, "id 0" },
    { "merge-one-piece", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a\"]}}", ANE_ERROR_PARSE,
      "model.merges[0]" },
    { "merge-unknown", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[[\"a\",\"b\"]]}}",
      ANE_ERROR_PARSE, "model.merges[0]: 'b'" },
    { "merge-no-result", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a a\"]}}",
      ANE_ERROR_PARSE, "'aa'" },
    { "merge-number", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[7]}}", ANE_ERROR_PARSE,
      "model.merges[0]" },
    { "byte-fallback-string", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[],\"byte_fallback\":\"yes\"}}",
      ANE_ERROR_PARSE, "model.byte_fallback" },
    { "dropout", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[],\"dropout\":0.1}}",
      ANE_ERROR_UNSUPPORTED, "model.dropout" },
    { "normalizer-unknown", "{\"normalizer\":{\"type\":\"Precompiled\"},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}",
      ANE_ERROR_UNSUPPORTED, "Precompiled" },
    { "normalizer-no-type", "{\"normalizer\":{},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}",
      ANE_ERROR_PARSE, "normalizer.type" },
    { "normalizer-seq-bad", "{\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},3]},"
      "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", ANE_ERROR_PARSE, "normalizer.normalizers[1]" },
    { "replace-no-pattern", "{\"normalizer\":{\"type\":\"Replace\",\"content\":\"x\"},"
      "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", ANE_ERROR_PARSE, "normalizer.pattern" },
    { "bad-regex", "{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\"},"
      "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", ANE_ERROR_PARSE, "pre_tokenizer.pattern.Regex" },
    { "bad-behavior", "{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"String\":\" \"},\"behavior\":\"Sideways\"},"
      "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", ANE_ERROR_PARSE, "pre_tokenizer.behavior" },
    { "pretok-unknown", "{\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"UnicodeScripts\"}]},"
      "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", ANE_ERROR_UNSUPPORTED,
      "pre_tokenizer.pretokenizers[0]: pre-tokenizer type 'UnicodeScripts'" },
    { "decoder-unknown", "{\"decoder\":{\"type\":\"WordPiece\"},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}",
      ANE_ERROR_UNSUPPORTED, "decoder: decoder type 'WordPiece'" },
    { "strip-negative", "{\"decoder\":{\"type\":\"Strip\",\"content\":\" \",\"start\":-1,\"stop\":0},"
      "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", ANE_ERROR_PARSE, "decoder" },
    { "added-no-content", "{\"added_tokens\":[{\"id\":1}],\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}",
      ANE_ERROR_PARSE, "added_tokens[0]" },
    { "added-conflict", "{\"added_tokens\":[{\"id\":0,\"content\":\"<s>\"}],\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}",
      ANE_ERROR_PARSE, "added_tokens[0]: id 0" },
    { "template-unknown-special", "{\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\"}}],"
      "\"special_tokens\":{}},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", ANE_ERROR_PARSE,
      "post_processor.single[0]: special token '<s>'" },
    { "template-bad-id", "{\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\"}}],"
      "\"special_tokens\":{\"<s>\":{\"ids\":[99]}}},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}",
      ANE_ERROR_PARSE, "id 99" },
    { "processor-unknown", "{\"post_processor\":{\"type\":\"Mystery\"},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}",
      ANE_ERROR_UNSUPPORTED, "Mystery" },
    { "empty-vocab", "{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}", ANE_ERROR_PARSE, "empty" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTokenizer) tok = load_text (cases[i].json, &error);

      g_test_message ("%s", cases[i].name);
      g_assert_null (tok);
      g_assert_error (error, ANE_ERROR, (gint) cases[i].code);
      if (strstr (error->message, cases[i].needle) == NULL)
        g_error ("%s: '%s' does not name '%s'", cases[i].name, error->message, cases[i].needle);
    }
}

static void
test_hostile_files (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-tokenizer-hf-XXXXXX");
  g_autofree char *gz = g_build_filename (dir, "tokenizer.json.gz", NULL);
  g_autofree char *deep = g_build_filename (dir, "deep.json", NULL);
  g_autofree char *missing = g_build_filename (dir, "none.json", NULL);
  g_autoptr(GString) nested = g_string_new ("{\"model\":");
  AneTokenizer *tok;

  /* a .gz that is not gzip */
  g_assert_true (g_file_set_contents (gz, "not gzip at all", -1, &error));
  tok = ane_tokenizer_load_hf (gz, &error);
  g_assert_null (tok);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "gzip"));
  g_clear_error (&error);

  /* nesting deep enough to overflow a recursive parser */
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (nested, '[');
  g_assert_true (g_file_set_contents (deep, nested->str, (gssize) nested->len, &error));
  tok = ane_tokenizer_load_hf (deep, &error);
  g_assert_null (tok);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_clear_error (&error);

  tok = ane_tokenizer_load_hf (missing, &error);
  g_assert_null (tok);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
  g_clear_error (&error);

  /* whitespace only: json-glib parses it to no root */
  g_assert_true (g_file_set_contents (deep, " \n\t ", -1, &error));
  tok = ane_tokenizer_load_hf (deep, &error);
  g_assert_null (tok);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_clear_error (&error);

  /* an empty file (mapped, it has no address) */
  g_assert_true (g_file_set_contents (deep, "", 0, &error));
  tok = ane_tokenizer_load_hf (deep, &error);
  g_assert_null (tok);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "empty"));
  g_clear_error (&error);

  /* text that is not UTF-8 */
  {
    g_autoptr(AneTokenizer) small = load_text (small_json, &error);
    gsize n;
    g_autofree gint32 *ids = NULL;

    g_assert_no_error (error);
    ids = ane_tokenizer_encode_full (small, "a\xff", FALSE, &n, &error);
    g_assert_null (ids);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
  ane_test_remove_tree (dir);
}

/* A bad tokenizer_config.json next to a good tokenizer.json. */
static void
test_bad_config (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-tokenizer-hf-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "tokenizer.json", NULL);
  g_autofree char *config = g_build_filename (dir, "tokenizer_config.json", NULL);
  AneTokenizer *tok;

  g_assert_true (g_file_set_contents (path, small_json, -1, &error));
  g_assert_true (g_file_set_contents (config, "{\"eos_token\": \"<nope>\"}", -1, &error));
  tok = ane_tokenizer_load_hf (path, &error);
  g_assert_null (tok);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "eos_token '<nope>'"));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (config, "{\"bos_token\": {\"content\": \"<eos>\"}, \"add_bos_token\": true}", -1,
                                      &error));
  tok = ane_tokenizer_load_hf (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ane_tokenizer_get_bos_id (tok), ==, 11);
  /* add_bos_token puts <eos>-as-BOS before the template's tokens */
  assert_encodes (tok, "a", TRUE, "11 10 0 11");
  g_object_unref (tok);
  ane_test_remove_tree (dir);
}

static GBytes *
gunzip_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GInputStream) raw = G_INPUT_STREAM (g_file_read (file, NULL, &error));
  g_autoptr(GZlibDecompressor) gunzip = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr(GInputStream) in = g_converter_input_stream_new (raw, G_CONVERTER (gunzip));
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

  g_assert_no_error (error);
  g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error);
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* The fast reader of model.vocab and model.merges gives what json-glib
 * gives: on the whole Qwen3 file, and on strings with every escape. */
static void
check_fast_reader (const char *text,
                   gsize       len)
{
  g_auto(AneHfBpeData) data = { NULL, NULL, NULL };
  g_autoptr(GString) rest = NULL;
  g_autoptr(JsonParser) full = json_parser_new ();
  g_autoptr(JsonParser) small = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *model, *vocab;
  JsonArray *merges;

  g_assert_true (ane_hf_json_split_model (text, len, &data, &rest));
  json_parser_load_from_data (full, text, (gssize) len, &error);
  g_assert_no_error (error);
  model = json_object_get_object_member (json_node_get_object (json_parser_get_root (full)), "model");
  vocab = json_object_get_object_member (model, "vocab");
  merges = json_object_get_array_member (model, "merges");
  g_assert_cmpuint (data.pieces->len, ==, json_object_get_size (vocab));
  for (guint i = 0; i < data.pieces->len; i++)
    g_assert_cmpint (g_array_index (data.ids, gint64, i), ==,
                     json_object_get_int_member (vocab, data.pieces->pdata[i]));
  g_assert_cmpuint (data.merges->len, ==, 2 * json_array_get_length (merges));
  for (guint i = 0; i < json_array_get_length (merges); i++)
    {
      JsonNode *m = json_array_get_element (merges, i);
      g_autofree char *joined = g_strconcat (data.merges->pdata[2 * i], " ", data.merges->pdata[2 * i + 1], NULL);

      if (JSON_NODE_HOLDS_ARRAY (m))
        {
          g_assert_cmpstr (data.merges->pdata[2 * i], ==, json_array_get_string_element (json_node_get_array (m), 0));
          g_assert_cmpstr (data.merges->pdata[2 * i + 1], ==, json_array_get_string_element (json_node_get_array (m), 1));
        }
      else
        g_assert_cmpstr (joined, ==, json_node_get_string (m));
    }
  /* the rest parses, with the two members emptied */
  json_parser_load_from_data (small, rest->str, (gssize) rest->len, &error);
  g_assert_no_error (error);
  model = json_object_get_object_member (json_node_get_object (json_parser_get_root (small)), "model");
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (model, "vocab")), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (model, "type"), ==, "BPE");
}

static void
test_fast_reader (void)
{
  g_autofree char *path = qwen3_path ("tokenizer.json.gz");
  g_autoptr(GBytes) qwen3 = gunzip_file (path);
  static const char escapes[] =
    "{\"model\": {\"merges\": [[\"\\u0120\", \"\\\"q\"], \"a \\\\\"], \"type\": \"BPE\", "
    "\"vocab\": {\"\\u0120\": 0, \"\\\"q\": 1, \"\\ud83d\\ude00\": 2, \"a\": 3, \"\\\\\": 4, "
    "\"\\b\\f\\n\\r\\t\\/\": 5, \"\\u00e9\\u4e2d\": 6}}, \"added_tokens\": [], \"x\": [1, {\"y\": \"}\"}]}";
  /* what the fast reader gives up on (json-glib then reads the file) */
  static const char *const declined[] = {
    "{\"model\": {\"vocab\": {\"a\": 1.5}}}",
    "{\"model\": {\"vocab\": {\"a\": -1}}}",
    "{\"model\": {\"vocab\": {\"\\u0000\": 1}}}",
    "{\"model\": {\"vocab\": {\"\\ud83d\": 1}}}",
    "{\"model\": {\"vocab\": {}, \"merges\": [\"a b c\"]}}",
    "{\"model\": {\"vocab\": {}, \"merges\": null}}",
    "{\"model\": {\"vocab\": {}, \"vocab\": {}}}",
    "{\"model\": {\"merges\": []}}",
    "{\"model\": {\"vocab\": {\"a\": 1}",
    "[]",
  };

  check_fast_reader (g_bytes_get_data (qwen3, NULL), g_bytes_get_size (qwen3));
  check_fast_reader (escapes, strlen (escapes));
  for (guint i = 0; i < G_N_ELEMENTS (declined); i++)
    {
      g_auto(AneHfBpeData) data = { NULL, NULL, NULL };
      GString *rest = NULL;

      g_assert_false (ane_hf_json_split_model (declined[i], strlen (declined[i]), &data, &rest));
      g_assert_null (rest);
      g_assert_null (data.pieces);
    }
}

/* A tokenizer against the cases Hugging Face tokenizers computed for it
 * (tests/data/tokenizers/synthetic/make_cases.py): ids with and without
 * special tokens, decoded with and without skip_special_tokens. */
static void
test_reference_cases (gconstpointer data)
{
  const char *const *files = data;  /* tokenizer, cases */
  g_autofree char *tok_path = g_test_build_filename (G_TEST_DIST, "data", "tokenizers", files[0], NULL);
  g_autofree char *cases_path = g_test_build_filename (G_TEST_DIST, "data", "tokenizers", files[1], NULL);
  g_autoptr(GBytes) cases_json = gunzip_file (cases_path);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTokenizer) tok = ane_tokenizer_load_hf (tok_path, &error);
  JsonArray *cases;

  g_assert_no_error (error);
  json_parser_load_from_data (parser, g_bytes_get_data (cases_json, NULL), (gssize) g_bytes_get_size (cases_json),
                              &error);
  g_assert_no_error (error);
  cases = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "cases");
  g_assert_cmpuint (json_array_get_length (cases), >=, 300);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      const char *text = json_object_get_string_member (c, "text");
      g_autoptr(GArray) want = int_array (c, "ids");
      g_autoptr(GArray) want_special = int_array (c, "ids_with_special_tokens");
      g_autofree gint32 *ids = NULL, *ids_special = NULL;
      g_autofree char *decoded = NULL, *decoded_skip = NULL;
      gsize n, n_special;

      ids = ane_tokenizer_encode_full (tok, text, FALSE, &n, &error);
      g_assert_no_error (error);
      assert_ids (ids, n, want, text);
      ids_special = ane_tokenizer_encode_full (tok, text, TRUE, &n_special, &error);
      g_assert_no_error (error);
      assert_ids (ids_special, n_special, want_special, text);
      decoded = ane_tokenizer_decode_full (tok, (const gint32 *) (void *) want_special->data, want_special->len, FALSE);
      g_assert_cmpstr (decoded, ==, json_object_get_string_member (c, "decoded"));
      decoded_skip = ane_tokenizer_decode_full (tok, (const gint32 *) (void *) want_special->data, want_special->len,
                                                TRUE);
      g_assert_cmpstr (decoded_skip, ==, json_object_get_string_member (c, "decoded_skip_special"));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/tokenizer-hf/qwen3/cases", test_qwen3_cases);
  g_test_add_func ("/ane/tokenizer-hf/qwen3/threads", test_qwen3_threads);
  g_test_add_func ("/ane/tokenizer-hf/tok512/equivalent", test_tok512_equivalent);
  g_test_add_func ("/ane/tokenizer-hf/tok512/generate", test_tok512_generate);
  g_test_add_func ("/ane/tokenizer-hf/pre-tokenizers", test_pre_tokenizers);
  g_test_add_func ("/ane/tokenizer-hf/decoders", test_decoders);
  g_test_add_func ("/ane/tokenizer-hf/added-tokens", test_added_tokens);
  g_test_add_func ("/ane/tokenizer-hf/model-vocab-size", test_model_vocab_size);
  g_test_add_func ("/ane/tokenizer-hf/model-options", test_model_options);
  g_test_add_func ("/ane/tokenizer-hf/hostile", test_hostile);
  g_test_add_func ("/ane/tokenizer-hf/hostile-files", test_hostile_files);
  g_test_add_func ("/ane/tokenizer-hf/bad-config", test_bad_config);
  g_test_add_func ("/ane/tokenizer-hf/fast-reader", test_fast_reader);
  {
    static const char *const reference[][3] = {
      { "qwen3/random", "qwen3/tokenizer.json.gz", "qwen3/random.cases.json.gz" },
      { "metaspace-byte-fallback", "synthetic/metaspace-byte-fallback.json.gz",
        "synthetic/metaspace-byte-fallback.cases.json.gz" },
      { "wordpiece-like-bpe", "synthetic/wordpiece-like-bpe.json.gz", "synthetic/wordpiece-like-bpe.cases.json.gz" },
      { "byte-level-added-tokens", "synthetic/byte-level-added-tokens.json.gz",
        "synthetic/byte-level-added-tokens.cases.json.gz" },
      { "split-behaviors", "synthetic/split-behaviors.json.gz", "synthetic/split-behaviors.cases.json.gz" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (reference); i++)
      {
        g_autofree char *name = g_strdup_printf ("/ane/tokenizer-hf/reference/%s", reference[i][0]);

        g_test_add_data_func (name, &reference[i][1], test_reference_cases);
      }
  }
  return g_test_run ();
}
