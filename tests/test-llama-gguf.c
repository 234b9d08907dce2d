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
#include "gguf/ane-gguf-writer-private.h"

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

static char *
model_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "..", "data", "models", name, NULL);
}

static AneLlamaModel *
load_llama2c (void)
{
  g_autofree char *path = model_path ("stories260K.bin");
  g_autoptr(GError) error = NULL;
  AneLlamaModel *m = ane_llama_model_load_llama2c (path, &error);

  g_assert_no_error (error);
  return m;
}

static AneTokenizer *
load_llama2c_tokenizer (void)
{
  g_autofree char *path = model_path ("tok512.bin");
  g_autoptr(GError) error = NULL;
  AneTokenizer *t = ane_tokenizer_load_llama2c (path, 512, &error);

  g_assert_no_error (error);
  return t;
}

/* Q8_0 as ggml's quantize_row_q8_0_ref: per 32 values d = max|x| / 127
 * (stored as fp16), q = round (x / d). */
static GBytes *
quantize_q8_0 (const float *x,
               gsize        n)
{
  gsize n_blocks = n / 32;
  guint8 *out = g_malloc (n_blocks * 34);

  g_assert_cmpuint (n % 32, ==, 0);
  for (gsize b = 0; b < n_blocks; b++)
    {
      const float *v = x + b * 32;
      guint8 *blk = out + b * 34;
      float amax = 0.0f, d, id;
      guint16 h;

      for (guint i = 0; i < 32; i++)
        amax = MAX (amax, fabsf (v[i]));
      d = amax / 127.0f;
      id = d != 0.0f ? 1.0f / d : 0.0f;
      h = ane_float_to_half (d);
      blk[0] = h & 0xff;
      blk[1] = h >> 8;
      for (guint i = 0; i < 32; i++)
        blk[2 + i] = (guint8) (gint8) lrintf (v[i] * id);
    }
  return g_bytes_new_take (out, n_blocks * 34);
}

typedef struct {
  const char *arch;          /* general.architecture */
  gboolean q8_0;             /* linear weights (and the embedding) as Q8_0 */
  const char *omit_tensor;   /* a tensor left out */
  const char *bad_tensor;    /* a tensor written with one row too few */
  const char *omit_key;      /* a metadata key left out */
  gboolean biases;           /* zero attn_q/k/v biases (qwen2) */
  const char *tok_model;     /* tokenizer.ggml.model */
} Variant;

static void
add_tensor (AneGgufWriter *w,
            const Variant *v,
            const char    *name,
            AneTensor     *t)
{
  guint rank;
  const gint64 *shape = ane_tensor_get_shape (t, &rank);
  gint64 ne[2];
  g_autoptr(GBytes) data = NULL;
  guint32 type = ANE_GGML_TYPE_F32;
  gsize n;
  g_autofree float *f = ane_tensor_dup_floats (t, &n, NULL);

  if (g_strcmp0 (name, v->omit_tensor) == 0)
    return;
  for (guint i = 0; i < rank; i++)
    ne[i] = shape[rank - 1 - i];
  if (g_strcmp0 (name, v->bad_tensor) == 0)
    {
      ne[rank - 1] -= 1;
      n = n / shape[0] * (shape[0] - 1);
    }
  if (v->q8_0 && rank == 2 && ne[0] % 32 == 0)
    {
      type = ANE_GGML_TYPE_Q8_0;
      data = quantize_q8_0 (f, n);
    }
  else
    data = g_bytes_new (f, n * sizeof (float));
  ane_gguf_writer_add_tensor (w, name, type, ne, rank, data);
}

static void
add_u32 (AneGgufWriter *w,
         const Variant *v,
         const char    *suffix,
         gint64         value)
{
  g_autofree char *key = g_strdup_printf ("%s.%s", v->arch, suffix);

  if (g_strcmp0 (key, v->omit_key) != 0)
    ane_gguf_writer_add_int (w, key, ANE_GGUF_VALUE_TYPE_UINT32, value);
}

/* Writes stories260K + tok512 as a GGUF file in @dir. */
static char *
write_gguf (const char    *dir,
            const char    *file_name,
            const Variant *v)
{
  g_autoptr(AneLlamaModel) m = load_llama2c ();
  g_autoptr(AneTokenizer) tok = load_llama2c_tokenizer ();
  g_autoptr(AneGgufWriter) w = ane_gguf_writer_new (3, 32);
  g_autoptr(GError) error = NULL;
  g_autofree char *eps_key = g_strdup_printf ("%s.attention.layer_norm_rms_epsilon", v->arch);
  g_autofree char *base_key = g_strdup_printf ("%s.rope.freq_base", v->arch);
  guint n_tok = ane_tokenizer_get_n_tokens (tok);
  g_autofree char **pieces = g_new0 (char *, n_tok + 1);
  g_autofree float *scores = g_new (float, n_tok);
  g_autofree gint32 *types = g_new (gint32, n_tok);
  char *path = g_build_filename (dir, file_name, NULL);
  static const struct { const char *ours, *gguf; } per_layer[] = {
    { "attention_norm", "attn_norm.weight" }, { "wq", "attn_q.weight" }, { "wk", "attn_k.weight" },
    { "wv", "attn_v.weight" }, { "wo", "attn_output.weight" }, { "ffn_norm", "ffn_norm.weight" },
    { "w1", "ffn_gate.weight" }, { "w2", "ffn_down.weight" }, { "w3", "ffn_up.weight" },
  };

  ane_gguf_writer_add_string (w, "general.architecture", v->arch);
  ane_gguf_writer_add_string (w, "general.name", "stories260K");
  add_u32 (w, v, "context_length", ane_llama_model_get_seq_len (m));
  add_u32 (w, v, "embedding_length", ane_llama_model_get_dim (m));
  add_u32 (w, v, "block_count", ane_llama_model_get_n_layers (m));
  add_u32 (w, v, "feed_forward_length", ane_llama_model_get_hidden_dim (m));
  add_u32 (w, v, "attention.head_count", ane_llama_model_get_n_heads (m));
  add_u32 (w, v, "attention.head_count_kv", ane_llama_model_get_n_kv_heads (m));
  ane_gguf_writer_add_float (w, eps_key, ANE_GGUF_VALUE_TYPE_FLOAT32, 1e-5);
  ane_gguf_writer_add_float (w, base_key, ANE_GGUF_VALUE_TYPE_FLOAT32, 10000.0);

  for (guint i = 0; i < n_tok; i++)
    {
      g_autoptr(GString) p = g_string_new (ane_tokenizer_get_piece (tok, (gint32) i));

      g_string_replace (p, " ", "\xe2\x96\x81", 0);
      pieces[i] = g_string_free (g_steal_pointer (&p), FALSE);
      scores[i] = ane_tokenizer_get_score (tok, (gint32) i);
      /* llama_token_type: 1 normal, 2 unknown, 3 control, 6 byte */
      types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
    }
  ane_gguf_writer_add_string (w, "tokenizer.ggml.model", v->tok_model ? v->tok_model : "llama");
  ane_gguf_writer_add_strings (w, "tokenizer.ggml.tokens", (const char *const *) pieces, n_tok);
  ane_gguf_writer_add_array (w, "tokenizer.ggml.scores", ANE_GGUF_VALUE_TYPE_FLOAT32, scores, n_tok);
  ane_gguf_writer_add_array (w, "tokenizer.ggml.token_type", ANE_GGUF_VALUE_TYPE_INT32, types, n_tok);
  ane_gguf_writer_add_int (w, "tokenizer.ggml.bos_token_id", ANE_GGUF_VALUE_TYPE_UINT32, ANE_TOKENIZER_BOS);
  ane_gguf_writer_add_int (w, "tokenizer.ggml.eos_token_id", ANE_GGUF_VALUE_TYPE_UINT32, ANE_TOKENIZER_EOS);
  for (guint i = 0; i < n_tok; i++)
    g_free (pieces[i]);

  add_tensor (w, v, "token_embd.weight", ane_llama_model_get_weight (m, "token_embedding"));
  for (gint64 l = 0; l < ane_llama_model_get_n_layers (m); l++)
    {
      for (guint i = 0; i < G_N_ELEMENTS (per_layer); i++)
        {
          g_autofree char *ours = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", l, per_layer[i].ours);
          g_autofree char *gguf = g_strdup_printf ("blk.%" G_GINT64_FORMAT ".%s", l, per_layer[i].gguf);

          add_tensor (w, v, gguf, ane_llama_model_get_weight (m, ours));
        }
      if (v->biases)
        {
          static const char *const b[3] = { "attn_q.bias", "attn_k.bias", "attn_v.bias" };
          gint64 kv = ane_llama_model_get_dim (m) / ane_llama_model_get_n_heads (m) * ane_llama_model_get_n_kv_heads (m);

          for (guint i = 0; i < 3; i++)
            {
              g_autofree char *gguf = g_strdup_printf ("blk.%" G_GINT64_FORMAT ".%s", l, b[i]);
              g_autoptr(AneTensor) z = ane_tensor_new_zeros (gguf, ANE_DTYPE_FLOAT32,
                                                             (const gint64[]) { i == 0 ? ane_llama_model_get_dim (m) : kv },
                                                             1, NULL);
              add_tensor (w, v, gguf, z);
            }
        }
    }
  add_tensor (w, v, "output_norm.weight", ane_llama_model_get_weight (m, "final_norm"));
  g_assert_true (ane_gguf_writer_write (w, path, &error));
  g_assert_no_error (error);
  return path;
}

typedef struct {
  GArray *tokens;
} Collect;

static gboolean
collect (gint32      token,
         const char *piece,
         gpointer    user_data)
{
  g_array_append_val (((Collect *) user_data)->tokens, token);
  return TRUE;
}

static GArray *
generate (AneLlamaModel *m,
          AneTokenizer  *tok,
          char         **text)
{
  g_autoptr(GError) error = NULL;
  Collect c = { g_array_new (FALSE, FALSE, sizeof (gint32)) };
  char *out = ane_llama_model_generate (m, tok, PROMPT, N_GEN, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32,
                                        0.0, 0.9, 42, collect, &c, &error);

  g_assert_no_error (error);
  g_assert_nonnull (out);
  if (text != NULL)
    *text = out;
  else
    g_free (out);
  return c.tokens;
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
  g_autofree char *path = write_gguf (dir, "tok.gguf", &(Variant) { .arch = "llama" });
  g_autoptr(AneTokenizer) ref = load_llama2c_tokenizer ();
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
  g_autofree char *path = write_gguf (dir, "f32.gguf", &(Variant) { .arch = "llama" });
  g_autoptr(AneLlamaModel) ref = load_llama2c ();
  g_autoptr(AneTokenizer) ref_tok = load_llama2c_tokenizer ();
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
  g_autofree char *path = write_gguf (dir, "q8.gguf", &(Variant) { .arch = "llama", .q8_0 = TRUE });
  g_autofree char *f32_path = write_gguf (dir, "f32.gguf", &(Variant) { .arch = "llama" });
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
  /* the quantized embedding: a float32 table, its blocks the tied classifier */
  g_assert_cmpint (ane_tensor_get_dtype (ane_llama_model_get_weight (m, "token_embedding")), ==, ANE_DTYPE_FLOAT32);
  g_assert_cmpint (ane_tensor_get_dtype (ane_llama_model_get_weight (m, "output")), ==, ANE_DTYPE_Q8_0);
  g_assert_true (ane_llama_model_get_shared_classifier (m));

  g = ane_llama_model_build_decode (m, 16, &error);
  g_assert_no_error (error);
  hist = ane_graph_op_histogram (g);
  /* wq wk wv wo w1 w3 per layer, and the classifier */
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (hist, "dequant_matmul")), ==, 6 * n_layers + 1);

  prefill = ane_llama_model_build_prefill (m, 8, &error);
  g_assert_no_error (error);
  pkg = ane_package_new_from_graph (prefill, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  g_assert_no_error (error);
  report = ane_package_dup_weight_report (pkg);
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
  g_autofree char *path = write_gguf (dir, "qwen2.gguf", &(Variant) { .arch = "qwen2", .biases = TRUE });
  g_autofree char *nobias = write_gguf (dir, "qwen2-nobias.gguf", &(Variant) { .arch = "qwen2" });
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
    Variant v;
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
      g_autofree char *path = write_gguf (dir, "bad.gguf", &cases[i].v);
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
    g_autofree char *path = write_gguf (dir, "bad.gguf", &(Variant) { .arch = "llama", .tok_model = "gpt2" });
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
