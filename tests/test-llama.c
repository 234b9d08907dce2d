/* test-llama.c: llama2.c checkpoints and tokenizers, graphs and generation
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "ane-glib.h"
#include "ane-test-util.h"
#include "ane-test-gguf.h"

#define N_GEN 200
#define PROMPT "Once upon a time"

static char *
model_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "..", "data", "models", name, NULL);
}

static AneLlamaModel *
load_model (void)
{
  g_autofree char *path = model_path ("stories260K.bin");
  g_autoptr(GError) error = NULL;
  AneLlamaModel *m = ane_llama_model_load_llama2c (path, &error);

  g_assert_no_error (error);
  return m;
}

static AneTokenizer *
load_tokenizer (void)
{
  g_autofree char *path = model_path ("tok512.bin");
  g_autoptr(GError) error = NULL;
  AneTokenizer *t = ane_tokenizer_load_llama2c (path, 512, &error);

  g_assert_no_error (error);
  return t;
}

/* ---- tokenizer ---------------------------------------------------------- */

static void
test_tokenizer_load (void)
{
  g_autoptr(AneTokenizer) tok = load_tokenizer ();

  g_assert_cmpuint (ane_tokenizer_get_n_tokens (tok), ==, 512);
  g_assert_cmpstr (ane_tokenizer_get_piece (tok, ANE_TOKENIZER_BOS), ==, "\n<s>\n");   /* as llama2.c exports it */
  g_assert_cmpstr (ane_tokenizer_get_piece (tok, ANE_TOKENIZER_EOS), ==, "\n</s>\n");
  g_assert_cmpstr (ane_tokenizer_get_piece (tok, 3), ==, "<0x00>");
  g_assert_cmpstr (ane_tokenizer_get_piece (tok, 258), ==, "<0xFF>");
  g_assert_null (ane_tokenizer_get_piece (tok, 512));
  g_assert_null (ane_tokenizer_get_piece (tok, -1));
}

static void
test_tokenizer_encode (void)
{
  g_autoptr(AneTokenizer) tok = load_tokenizer ();
  g_autoptr(GString) pieces = g_string_new (NULL);
  g_autofree gint32 *ids = NULL;
  g_autofree char *back = NULL;
  gsize n;

  ids = ane_tokenizer_encode (tok, PROMPT, TRUE, FALSE, &n);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (pieces, "%d '%s' ", ids[i], ane_tokenizer_get_piece (tok, ids[i]));
  g_test_message ("\"%s\" → %s", PROMPT, pieces->str);
  g_assert_cmpint (ids[0], ==, ANE_TOKENIZER_BOS);
  /* BPE merges the 16 characters (plus the dummy-prefix space) to a handful of tokens */
  g_assert_cmpuint (n, >=, 3);
  g_assert_cmpuint (n, <=, 8);
  g_assert_cmpstr (ane_tokenizer_get_piece (tok, ids[1]), ==, " Once");
  back = ane_tokenizer_decode (tok, ids, n);
  g_assert_cmpstr (back, ==, PROMPT);
  g_clear_pointer (&ids, g_free);

  /* eos, and empty text (no dummy prefix) */
  ids = ane_tokenizer_encode (tok, "", TRUE, TRUE, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (ids[0], ==, ANE_TOKENIZER_BOS);
  g_assert_cmpint (ids[1], ==, ANE_TOKENIZER_EOS);
  g_clear_pointer (&ids, g_free);
  ids = ane_tokenizer_encode (tok, "", FALSE, FALSE, &n);
  g_assert_cmpuint (n, ==, 0);
}

static void
test_tokenizer_roundtrip (void)
{
  static const char *const texts[] = {
    "Once upon a time, there was a little girl named Lily.",
    "Tom said: \"Let's play!\" 123 + 456 = 579",
    "naïve café — ünïcödé ✓ 日本語 🙂",     /* byte fallback for most of it */
    "  two leading spaces\tand a tab\nand a newline",
    "x",
  };
  g_autoptr(AneTokenizer) tok = load_tokenizer ();

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autofree gint32 *ids = NULL;
      g_autofree char *back = NULL;
      g_autoptr(GString) incr = g_string_new (NULL);
      gsize n;

      ids = ane_tokenizer_encode (tok, texts[i], TRUE, FALSE, &n);
      back = ane_tokenizer_decode (tok, ids, n);
      g_assert_cmpstr (back, ==, texts[i]);
      for (gsize j = 1; j < n; j++)
        {
          g_autofree char *p = ane_tokenizer_decode_token (tok, ids[j - 1], ids[j]);
          g_string_append (incr, p);
        }
      g_assert_cmpstr (incr->str, ==, texts[i]);
      g_test_message ("%" G_GSIZE_FORMAT " tokens for \"%s\"", n, texts[i]);
    }
}

/* A copy of @src cut to @len bytes in @dir. */
static char *
truncated_copy (const char *src,
                const char *dir,
                gsize       len)
{
  g_autofree char *contents = NULL;
  g_autofree char *name = g_strdup_printf ("cut-%" G_GSIZE_FORMAT ".bin", len);
  char *dst = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  gsize size;

  g_file_get_contents (src, &contents, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, <=, size);
  g_file_set_contents (dst, contents, len, &error);
  g_assert_no_error (error);
  return dst;
}

static gsize
file_size (const char *path)
{
  g_autofree char *contents = NULL;
  gsize size = 0;

  g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
  return size;
}

static void
test_tokenizer_truncated (void)
{
  g_autofree char *src = model_path ("tok512.bin");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-llama-XXXXXX", &error);
  gsize size = file_size (src);
  gsize cuts[] = { 0, 2, 4, 7, 9, 100, size / 2, size - 1 };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autofree char *path = truncated_copy (src, dir, cuts[i]);
      g_autoptr(AneTokenizer) tok = ane_tokenizer_load_llama2c (path, 512, &error);

      g_assert_null (tok);
      g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, "offset"));
      g_test_message ("cut at %" G_GSIZE_FORMAT ": %s", cuts[i], error->message);
      g_clear_error (&error);
      g_unlink (path);
    }
  /* too many tokens for the file */
  {
    g_autoptr(AneTokenizer) tok = ane_tokenizer_load_llama2c (src, 513, &error);
    g_assert_null (tok);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
    g_clear_error (&error);
  }
  g_rmdir (dir);
}

static void
test_tokenizer_vocab_too_large (void)
{
  /* max_token_length 1 and one token "a": 12 bytes. A vocabulary of 2^24
   * tokens is refused from the file size, before 2^24 pieces and scores
   * are allocated. */
  static const guint8 file[] = { 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'a' };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-llama-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "tok.bin", NULL);
  g_autoptr(AneTokenizer) tok = NULL;

  g_assert_no_error (error);
  ane_test_write_file (path, file, sizeof file);
  tok = ane_tokenizer_load_llama2c (path, 1u << 24, &error);
  g_assert_null (tok);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "16777216 tokens need at least 134217728 bytes from offset 4"));
  g_clear_error (&error);
  /* the same file holds one token (3 would need 24 bytes) */
  tok = ane_tokenizer_load_llama2c (path, 3, &error);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "3 tokens need at least 24 bytes"));
  g_clear_error (&error);
  g_unlink (path);
  g_rmdir (dir);
}

/* A FIFO or a directory given as a tokenizer or checkpoint: ANE_ERROR_IO
 * naming it at once. Opening a FIFO for reading waits for a writer, so the
 * loaders must not; alarm() turns a hang into a failure. */
static void
test_not_regular_files (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-llama-XXXXXX", &error);
  g_autofree char *fifo = g_build_filename (dir, "fifo.bin", NULL);
  const char *paths[2] = { fifo, dir };

  g_assert_no_error (error);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  alarm (20);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      const char *kind = i == 0 ? "a FIFO" : "a directory";
      g_autoptr(AneTokenizer) tok = ane_tokenizer_load_llama2c (paths[i], 512, &error);
      g_autoptr(AneLlamaModel) m = NULL;

      g_assert_null (tok);
      g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
      g_assert_nonnull (strstr (error->message, paths[i]));
      g_assert_nonnull (strstr (error->message, kind));
      g_clear_error (&error);

      m = ane_llama_model_load_llama2c (paths[i], &error);
      g_assert_null (m);
      g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
      g_assert_nonnull (strstr (error->message, paths[i]));
      g_assert_nonnull (strstr (error->message, kind));
      g_clear_error (&error);
    }
  alarm (0);
  g_unlink (fifo);
  g_rmdir (dir);
}

/* ---- checkpoint --------------------------------------------------------- */

static void
test_model_header (void)
{
  g_autoptr(AneLlamaModel) m = load_model ();
  g_autofree char *path = model_path ("stories260K.bin");
  AneTensor *w;
  gint64 n_params = 0;
  const char *names[] = { "attention_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w1", "w2", "w3" };

  g_assert_cmpint (ane_llama_model_get_dim (m), ==, 64);
  g_assert_cmpint (ane_llama_model_get_hidden_dim (m), ==, 172);
  g_assert_cmpint (ane_llama_model_get_n_layers (m), ==, 5);
  g_assert_cmpint (ane_llama_model_get_n_heads (m), ==, 8);
  g_assert_cmpint (ane_llama_model_get_n_kv_heads (m), ==, 4);
  g_assert_cmpint (ane_llama_model_get_vocab_size (m), ==, 512);
  g_assert_cmpint (ane_llama_model_get_seq_len (m), ==, 512);
  g_assert_true (ane_llama_model_get_shared_classifier (m));
  g_assert_null (ane_llama_model_get_weight (m, "output"));

  w = ane_llama_model_get_weight (m, "layers.4.wk");
  g_assert_nonnull (w);
  g_assert_cmpint (ane_tensor_get_dim (w, 0), ==, 32);
  g_assert_cmpint (ane_tensor_get_dim (w, 1), ==, 64);
  w = ane_llama_model_get_weight (m, "layers.0.w2");
  g_assert_cmpint (ane_tensor_get_dim (w, 0), ==, 64);
  g_assert_cmpint (ane_tensor_get_dim (w, 1), ==, 172);

  /* every byte after the header is accounted for: the weights plus the two
   * unused RoPE tables (512 positions × 4 pairs each) */
  n_params += ane_tensor_get_n_elements (ane_llama_model_get_weight (m, "token_embedding"));
  n_params += ane_tensor_get_n_elements (ane_llama_model_get_weight (m, "final_norm"));
  for (int l = 0; l < 5; l++)
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autofree char *name = g_strdup_printf ("layers.%d.%s", l, names[i]);
        g_assert_nonnull (ane_llama_model_get_weight (m, name));
        n_params += ane_tensor_get_n_elements (ane_llama_model_get_weight (m, name));
      }
  g_test_message ("%" G_GINT64_FORMAT " parameters", n_params);
  g_assert_cmpuint (file_size (path), ==, 28 + 4 * (n_params + 2 * 512 * 4));

  /* the first embedding value is read little-endian from offset 28 */
  {
    g_autofree char *contents = NULL;
    float first;

    g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
    memcpy (&first, contents + 28, 4);
    g_assert_cmpfloat (ane_tensor_get_value (ane_llama_model_get_weight (m, "token_embedding"), 0), ==, first);
  }
}

static void
test_model_truncated (void)
{
  g_autofree char *src = model_path ("stories260K.bin");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-llama-XXXXXX", &error);
  gsize size = file_size (src);
  gsize cuts[] = { 0, 3, 12, 27, 28, 100, 28 + 4 * 512 * 64, size / 2, size - 4, size - 1 };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autofree char *path = truncated_copy (src, dir, cuts[i]);
      g_autoptr(AneLlamaModel) m = ane_llama_model_load_llama2c (path, &error);

      g_assert_null (m);
      g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, "offset"));
      g_test_message ("cut at %" G_GSIZE_FORMAT ": %s", cuts[i], error->message);
      g_clear_error (&error);
      g_unlink (path);
    }

  /* a bad header: n_heads 3 does not divide dim 64 */
  {
    g_autofree char *contents = NULL;
    g_autofree char *path = g_build_filename (dir, "bad.bin", NULL);
    gint32 three = GINT32_TO_LE (3);
    g_autoptr(AneLlamaModel) m = NULL;

    g_assert_true (g_file_get_contents (src, &contents, &size, NULL));
    memcpy (contents + 12, &three, 4);
    g_assert_true (g_file_set_contents (path, contents, size, NULL));
    m = ane_llama_model_load_llama2c (path, &error);
    g_assert_null (m);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
    g_clear_error (&error);
    g_unlink (path);
  }
  g_rmdir (dir);
}

/* ---- graphs ------------------------------------------------------------- */

/* An independent plain-C forward pass, written from the architecture facts
 * (llama2.c's run.c), to check the graphs mean what the checkpoint means. */
static float *
plain_forward (AneLlamaModel *m,
               const gint32  *tokens,
               gsize          S)
{
  const gint64 D = 64, HD = 172, L = 5, H = 8, KV = 4, V = 512, hs = D / H, kvd = KV * hs;
  g_autofree float *kc = g_new0 (float, L * S * kvd), *vc = g_new0 (float, L * S * kvd);
  float *logits = g_new0 (float, S * V);
  float x[64], xb[64], q[64], k[32], v[32], att[512], o[64], h1[172], h3[172];
#define W(name) ((const float *) g_bytes_get_data (ane_tensor_get_data (ane_llama_model_get_weight (m, name)), NULL))
#define LW(l, n) ({ char _b[32]; g_snprintf (_b, sizeof _b, "layers.%d.%s", (int) (l), n); W (_b); })

  for (gsize pos = 0; pos < S; pos++)
    {
      memcpy (x, W ("token_embedding") + tokens[pos] * D, sizeof x);
      for (gint64 l = 0; l < L; l++)
        {
          double ss = 0;
          for (int i = 0; i < D; i++) ss += x[i] * x[i];
          ss = 1.0 / sqrt (ss / D + 1e-5);
          for (int i = 0; i < D; i++) xb[i] = LW (l, "attention_norm")[i] * (float) (ss * x[i]);
          for (int r = 0; r < D; r++) { double a = 0; for (int c = 0; c < D; c++) a += LW (l, "wq")[r * D + c] * xb[c]; q[r] = a; }
          for (int r = 0; r < kvd; r++)
            {
              double a = 0, b = 0;
              for (int c = 0; c < D; c++) { a += LW (l, "wk")[r * D + c] * xb[c]; b += LW (l, "wv")[r * D + c] * xb[c]; }
              k[r] = a; v[r] = b;
            }
          for (int i = 0; i < D; i += 2)
            {
              double f = pos * pow (10000.0, -(double) (i % hs) / hs), c = cos (f), s = sin (f);
              float a = q[i], b = q[i + 1];
              q[i] = a * c - b * s; q[i + 1] = a * s + b * c;
              if (i < kvd)
                {
                  a = k[i]; b = k[i + 1];
                  k[i] = a * c - b * s; k[i + 1] = a * s + b * c;
                }
            }
          memcpy (kc + (l * S + pos) * kvd, k, sizeof k);
          memcpy (vc + (l * S + pos) * kvd, v, sizeof v);
          for (int h = 0; h < H; h++)
            {
              int kh = h / (H / KV);
              double mx = -INFINITY, sum = 0;
              for (gsize t = 0; t <= pos; t++)
                {
                  double a = 0;
                  for (int i = 0; i < hs; i++) a += q[h * hs + i] * kc[(l * S + t) * kvd + kh * hs + i];
                  att[t] = a / sqrt ((double) hs);
                  mx = MAX (mx, att[t]);
                }
              for (gsize t = 0; t <= pos; t++) { att[t] = exp (att[t] - mx); sum += att[t]; }
              for (int i = 0; i < hs; i++)
                {
                  double a = 0;
                  for (gsize t = 0; t <= pos; t++) a += att[t] / sum * vc[(l * S + t) * kvd + kh * hs + i];
                  xb[h * hs + i] = a;
                }
            }
          for (int r = 0; r < D; r++) { double a = 0; for (int c = 0; c < D; c++) a += LW (l, "wo")[r * D + c] * xb[c]; o[r] = a; }
          for (int i = 0; i < D; i++) x[i] += o[i];
          ss = 0;
          for (int i = 0; i < D; i++) ss += x[i] * x[i];
          ss = 1.0 / sqrt (ss / D + 1e-5);
          for (int i = 0; i < D; i++) xb[i] = LW (l, "ffn_norm")[i] * (float) (ss * x[i]);
          for (int r = 0; r < HD; r++)
            {
              double a = 0, b = 0;
              for (int c = 0; c < D; c++) { a += LW (l, "w1")[r * D + c] * xb[c]; b += LW (l, "w3")[r * D + c] * xb[c]; }
              h1[r] = a / (1.0 + exp (-a)) * b;
            }
          (void) h3;
          for (int r = 0; r < D; r++) { double a = 0; for (int c = 0; c < HD; c++) a += LW (l, "w2")[r * HD + c] * h1[c]; x[r] += a; }
        }
      {
        double ss = 0;
        for (int i = 0; i < D; i++) ss += x[i] * x[i];
        ss = 1.0 / sqrt (ss / D + 1e-5);
        for (int i = 0; i < D; i++) xb[i] = W ("final_norm")[i] * (float) (ss * x[i]);
        for (int r = 0; r < V; r++) { double a = 0; for (int c = 0; c < D; c++) a += W ("token_embedding")[r * D + c] * xb[c]; logits[pos * V + r] = a; }
      }
    }
#undef LW
#undef W
  return logits;
}

/* Every logit within tol * (1 + |want|) of want (atol = rtol = tol), a
 * NaN or an infinity only where want has the same. */
static void
assert_close (const float *got,
              const float *want,
              gsize        n,
              double       tol,
              const char  *what,
              gsize        pos)
{
  g_autofree char *label = g_strdup_printf ("%s: position %" G_GSIZE_FORMAT ": logit", what, pos);
  double worst = ane_test_assert_close_floats (label, got, want, n, tol, tol);

  g_test_message ("%s: position %" G_GSIZE_FORMAT ": largest difference %.3g (bound %g * (1 + |logit|))",
                  what, pos, worst, tol);
}

static void
test_prefill_decode (gconstpointer data)
{
  AneBackend backend = GPOINTER_TO_INT (data);
  const gint64 S = 12, V = 512;
  g_autoptr(AneLlamaModel) m = load_model ();
  g_autoptr(AneTokenizer) tok = load_tokenizer ();
  g_autoptr(GError) error = NULL;
  g_autofree gint32 *prompt = NULL;
  gint32 tokens[12], positions[12];
  gsize n;
  g_autoptr(AneGraph) pre = ane_llama_model_build_prefill (m, S, &error);
  g_autoptr(AneGraph) dec = NULL;
  g_autoptr(AneExecutable) epre = NULL, edec = NULL;
  g_autoptr(AneTensor) t_tok = NULL, t_pos = NULL;
  g_autoptr(GPtrArray) out = NULL;
  g_autofree float *ys = NULL, *plain = NULL;

  g_assert_no_error (error);
  dec = ane_llama_model_build_decode (m, 16, &error);
  g_assert_no_error (error);

  prompt = ane_tokenizer_encode (tok, "Once upon a time, there was a big dog named Max.", TRUE, FALSE, &n);
  g_assert_cmpuint (n, >=, S);
  for (gint64 i = 0; i < S; i++)
    {
      tokens[i] = prompt[i];
      positions[i] = (gint32) i;
    }
  t_tok = ane_tensor_new_from_ints ("tokens", (const gint64[]) { S }, 1, tokens, S, &error);
  t_pos = ane_tensor_new_from_ints ("positions", (const gint64[]) { S }, 1, positions, S, &error);
  epre = ane_executable_new (pre, backend);
  edec = ane_executable_new (dec, backend);
  ane_executable_set_precision (epre, ANE_PRECISION_FLOAT32);
  ane_executable_set_precision (edec, ANE_PRECISION_FLOAT32);
  ane_executable_compile (epre, NULL, &error);
  g_assert_no_error (error);
  ane_executable_compile (edec, NULL, &error);
  g_assert_no_error (error);
  {
    AneTensor *ins[2] = { t_tok, t_pos };
    out = ane_executable_run (epre, ins, 2, NULL, &error);
    g_assert_no_error (error);
  }
  g_assert_cmpint (ane_tensor_get_dim (g_ptr_array_index (out, 0), 0), ==, S);
  g_assert_cmpint (ane_tensor_get_dim (g_ptr_array_index (out, 0), 1), ==, V);
  ys = ane_tensor_dup_floats (g_ptr_array_index (out, 0), &n, &error);
  g_assert_no_error (error);

  /* fp32 against a double-accumulating loop: measured at most 9.5e-6 of
   * max (1, |logit|) over these 12 positions */
  plain = plain_forward (m, tokens, S);
  for (gint64 t = 0; t < S; t++)
    assert_close (ys + t * V, plain + t * V, V, 2e-5, "prefill vs plain C", t);

  for (gint64 t = 0; t < S; t++)
    {
      g_autoptr(AneTensor) a = ane_tensor_new_from_ints ("token", (const gint64[]) { 1 }, 1, &tokens[t], 1, NULL);
      g_autoptr(AneTensor) b = ane_tensor_new_from_ints ("position", (const gint64[]) { 1 }, 1, &positions[t], 1, NULL);
      AneTensor *ins[2] = { a, b };
      g_autoptr(GPtrArray) step = ane_executable_run (edec, ins, 2, NULL, &error);
      g_autofree float *got = NULL;

      g_assert_no_error (error);
      got = ane_tensor_dup_floats (g_ptr_array_index (step, 0), &n, &error);
      g_assert_cmpuint (n, ==, V);
      /* the KV caches are float16 states (as Core ML keeps them): decode
       * reads back keys and values rounded to 11 bits, prefill does not.
       * Measured: at most 0.0065 of max(1, |logit|) over these 12 steps. */
      assert_close (got, ys + t * V, V, 0.01, "decode vs prefill", t);
    }
}

/* ---- generation --------------------------------------------------------- */

static GArray *
generate (AneBackend    backend,
          AnePrecision  precision,
          char        **text_out,
          double       *seconds)
{
  g_autoptr(AneLlamaModel) m = load_model ();
  g_autoptr(AneTokenizer) tok = load_tokenizer ();
  gint64 t0 = g_get_monotonic_time ();
  GArray *tokens = ane_test_generate_greedy (m, tok, PROMPT, N_GEN, backend, precision, 0, text_out);

  *seconds = (g_get_monotonic_time () - t0) / 1e6;
  return tokens;
}

static GArray *fp32_cpu_tokens;

static GArray *
cpu_fp32 (void)
{
  if (fp32_cpu_tokens == NULL)
    {
      g_autofree char *text = NULL;
      double s;

      fp32_cpu_tokens = generate (ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, &text, &s);
      g_test_message ("CPU fp32: %u tokens in %.2f s (%.1f tokens/s):\n%s%s",
                      fp32_cpu_tokens->len, s, fp32_cpu_tokens->len / s, PROMPT, text);
    }
  return fp32_cpu_tokens;
}

static void
test_generate_cpu_vs_reference (void)
{
  GArray *cpu = cpu_fp32 ();
  g_autoptr(GArray) ref = NULL;
  double s;

  ref = generate (ANE_BACKEND_REFERENCE, ANE_PRECISION_FLOAT32, NULL, &s);
  g_test_message ("REFERENCE: %u tokens in %.2f s (%.1f tokens/s)", ref->len, s, ref->len / s);
  g_assert_cmpuint (cpu->len, ==, N_GEN);
  g_assert_cmpuint (ref->len, ==, cpu->len);
  for (guint i = 0; i < cpu->len; i++)
    if (g_array_index (cpu, gint32, i) != g_array_index (ref, gint32, i))
      g_error ("token %u: CPU %d, REFERENCE %d", i, g_array_index (cpu, gint32, i), g_array_index (ref, gint32, i));
}

/* fp16 moves the logits by at most this much: measured 0.068 over the
 * prompt and the 200 greedy steps (0.052 over the prompt alone; see
 * docs/models.md). */
#define FP16_LOGIT_BOUND 0.1
/* How much another BLAS, summation order or op fusion could move the margin
 * of an fp16 greedy choice (its best logit minus its second): four fp16
 * ulps at the logits' size (8 to 16, where an ulp is 2^-7). */
#define FP16_NOISE (4 * 0x1p-7)

/* The fp16 greedy run equals the fp32 one up to the first step that fp16
 * itself wins by less than FP16_NOISE: fp16 under another rounding could
 * choose differently there, and everything after would differ. All 200
 * tokens agree today, but two steps are that close in fp16: step 110
 * (three ulps, 0.023) and step 181 (one ulp, 0.0078; fp32's two best
 * logits are 0.0041 apart there). So the first 110 tokens must agree. */
static void
test_generate_fp16 (void)
{
  GArray *cpu = cpu_fp32 ();
  g_autoptr(AneLlamaModel) m = load_model ();
  g_autoptr(AneTokenizer) tok = load_tokenizer ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) half = NULL;
  g_autoptr(GArray) seq = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr(AneGraph) g = NULL;
  g_autoptr(AneExecutable) e32 = NULL, e16 = NULL;
  g_autofree gint32 *ids = NULL;
  g_autofree double *gaps = NULL, *gaps16 = NULL;
  g_autofree char *text = NULL;
  guint same = 0, must_match = 0, closest = 0;
  gsize n_prompt;
  double err, s;

  /* the logits of fp16 and fp32 along the fp32 run */
  g_assert_cmpuint (cpu->len, ==, N_GEN);
  ids = ane_tokenizer_encode (tok, PROMPT, TRUE, FALSE, &n_prompt);
  g_array_append_vals (seq, ids, n_prompt);
  g_array_append_vals (seq, cpu->data, cpu->len);
  g = ane_llama_model_build_decode (m, seq->len, &error);
  g_assert_no_error (error);
  e32 = ane_executable_new (g, ANE_BACKEND_CPU);
  e16 = ane_executable_new (g, ANE_BACKEND_CPU);
  ane_executable_set_precision (e32, ANE_PRECISION_FLOAT32);
  ane_executable_set_precision (e16, ANE_PRECISION_FLOAT16);
  ane_executable_compile (e32, NULL, &error);
  g_assert_no_error (error);
  ane_executable_compile (e16, NULL, &error);
  g_assert_no_error (error);
  gaps = g_new (double, N_GEN);
  gaps16 = g_new (double, N_GEN);
  err = ane_test_decode_margins (e32, e16, (const gint32 *) seq->data, seq->len, n_prompt, gaps, gaps16);
  for (guint i = 1; i < N_GEN; i++)
    if (gaps16[i] < gaps16[closest])
      closest = i;
  /* (written so that a NaN margin stops the count too) */
  while (must_match < N_GEN && gaps16[must_match] >= FP16_NOISE)
    must_match++;
  g_test_message ("fp16 vs fp32 over the prompt and the %u steps: logits moved by at most %.4g; "
                  "fp16's smallest margin: %.4g at step %u (fp32's there: %.4g); fp16 must follow "
                  "fp32 for %u tokens", N_GEN, err, gaps16[closest], closest, gaps[closest], must_match);
  /* fp16 really is in effect, and moves the logits less than the bound */
  g_assert_cmpfloat (err, >, 0.0);
  g_assert_cmpfloat (err, <, FP16_LOGIT_BOUND);

  half = generate (ANE_BACKEND_CPU, ANE_PRECISION_FLOAT16, &text, &s);
  while (same < half->len && same < cpu->len &&
         g_array_index (half, gint32, same) == g_array_index (cpu, gint32, same))
    same++;
  g_test_message ("CPU fp16: %u tokens in %.2f s; the first %u identical to fp32:\n%s%s",
                  half->len, s, same, PROMPT, text);
  if (same < must_match)
    g_error ("the fp16 run leaves the fp32 one at token %u, where fp32's choice wins by %.4g "
             "and fp16's by %.4g; fp16's first near tie is at %u", same, gaps[same], gaps16[same], must_match);
}

static void
test_generate_sampling (void)
{
  g_autoptr(AneLlamaModel) m = load_model ();
  g_autoptr(AneTokenizer) tok = load_tokenizer ();
  g_autoptr(GError) error = NULL;
  g_autofree char *a = NULL, *b = NULL, *c = NULL;

  a = ane_llama_model_generate (m, tok, PROMPT, 30, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, 1.0, 0.9, 7, NULL, NULL, &error);
  g_assert_no_error (error);
  b = ane_llama_model_generate (m, tok, PROMPT, 30, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, 1.0, 0.9, 7, NULL, NULL, &error);
  g_assert_no_error (error);
  c = ane_llama_model_generate (m, tok, PROMPT, 30, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32, 1.0, 0.9, 8, NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("seed 7: %s%s\nseed 8: %s%s", PROMPT, a, PROMPT, c);
  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, !=, c);
}

/* ---- sampling ----------------------------------------------------------- */

/* The sampler is checked through ane_llama_model_generate () itself, on a
 * model made so that its logits are the same at every step, whatever the
 * token: a llama2.c checkpoint whose layer weights are all zero (attention
 * and the feed-forward network add nothing to the residual stream), every
 * token embedded as (1, 1), which the final RMSNorm (gain 1, eps 1e-5) turns
 * into (1, 1) / sqrt (1 + 1e-5), and classifier row i equal to (l_i, 0). So
 * every step's logit i is l_i / sqrt (1 + 1e-5). Tokens 0-2 (<unk>, BOS and
 * EOS, which would end the generation) get -1e4: never drawn. */
#define FIXED_V 10
static const float fixed_logits[FIXED_V] = { -1e4f, -1e4f, -1e4f, 2.0f, 1.5f, 1.0f, 0.5f, 0.0f, -0.5f, -1.0f };

/* Draws: SAMPLE_CALLS generations of SAMPLE_PER_CALL tokens each (seeds
 * 1000, 1001, ...): many short generations, because every decode step
 * attends over the whole cache (20000 draws take about 2 s this way, 9 s
 * as 10 generations of 2000). */
#define SAMPLE_CALLS 100
#define SAMPLE_PER_CALL 200
#define SAMPLE_N (SAMPLE_CALLS * SAMPLE_PER_CALL)

static void
append_le32 (GByteArray *b,
             guint32     v)
{
  guint32 le = GUINT32_TO_LE (v);

  g_byte_array_append (b, (const guint8 *) &le, 4);
}

static void
append_f32 (GByteArray *b,
            float       value,
            gsize       n)
{
  union { float f; guint32 u; } x = { value };

  for (gsize i = 0; i < n; i++)
    append_le32 (b, x.u);
}

/* The fixed-logit model (see above) and a matching 10-token vocabulary. */
static void
fixed_logit_model (AneLlamaModel **model,
                   AneTokenizer  **tokenizer)
{
  static const char *const pieces[FIXED_V] = { "<unk>", "\n<s>\n", "\n</s>\n", "a", "b", "c", "d", "e", "f", "g" };
  const gint32 D = 2, hidden = 2, seq_len = SAMPLE_PER_CALL + 1;
  const gint32 header[7] = { D, hidden, 1, 1, 1, -FIXED_V /* own classifier */, seq_len };
  g_autoptr(GByteArray) ckpt = g_byte_array_new ();
  g_autoptr(GByteArray) vocab = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-llama-fixed-XXXXXX");
  g_autofree char *ckpt_path = g_build_filename (dir, "fixed.bin", NULL);
  g_autofree char *vocab_path = g_build_filename (dir, "fixed-tok.bin", NULL);

  for (guint i = 0; i < 7; i++)
    append_le32 (ckpt, (guint32) header[i]);
  append_f32 (ckpt, 1.0f, FIXED_V * D);        /* token_embedding: every row (1, 1) */
  append_f32 (ckpt, 0.0f, D                    /* attention_norm */
                          + 4 * D * D          /* wq, wk, wv, wo (one head of 2) */
                          + D                  /* ffn_norm */
                          + 3 * hidden * D);   /* w1, w2, w3 */
  append_f32 (ckpt, 1.0f, D);                  /* final_norm */
  append_f32 (ckpt, 0.0f, 2 * seq_len * 1);    /* the old RoPE tables (unused) */
  for (guint i = 0; i < FIXED_V; i++)          /* the classifier */
    {
      append_f32 (ckpt, fixed_logits[i], 1);
      append_f32 (ckpt, 0.0f, 1);
    }
  ane_test_write_file (ckpt_path, ckpt->data, ckpt->len);

  append_le32 (vocab, 6);                      /* max_token_length */
  for (guint i = 0; i < FIXED_V; i++)
    {
      append_f32 (vocab, 0.0f, 1);             /* merge score */
      append_le32 (vocab, (guint32) strlen (pieces[i]));
      g_byte_array_append (vocab, (const guint8 *) pieces[i], (guint) strlen (pieces[i]));
    }
  ane_test_write_file (vocab_path, vocab->data, vocab->len);

  *model = ane_llama_model_load_llama2c (ckpt_path, &error);
  g_assert_no_error (error);
  *tokenizer = ane_tokenizer_load_llama2c (vocab_path, FIXED_V, &error);
  g_assert_no_error (error);
  /* the checkpoint stays mapped after the unlink */
  ane_test_remove_tree (dir);
}

/* Counts SAMPLE_N tokens drawn with these settings. */
static void
draw_fixed (AneLlamaModel *m,
            AneTokenizer  *tok,
            double         temperature,
            double         top_p,
            guint         *counts)
{
  memset (counts, 0, FIXED_V * sizeof *counts);
  for (guint c = 0; c < SAMPLE_CALLS; c++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) tokens = g_array_new (FALSE, FALSE, sizeof (gint32));
      g_autofree char *text = ane_llama_model_generate (m, tok, "", SAMPLE_PER_CALL, ANE_BACKEND_CPU,
                                                        ANE_PRECISION_FLOAT32, temperature, top_p,
                                                        1000 + c, ane_test_collect_token, tokens, &error);

      g_assert_no_error (error);
      g_assert_nonnull (text);
      /* BOS or EOS would have ended the generation early */
      g_assert_cmpuint (tokens->len, ==, SAMPLE_PER_CALL);
      for (guint i = 0; i < tokens->len; i++)
        {
          gint32 t = g_array_index (tokens, gint32, i);

          g_assert_cmpint (t, >=, 0);
          g_assert_cmpint (t, <, FIXED_V);
          counts[t]++;
        }
    }
}

/* P(X >= x) for X chi-square distributed with an even number k of degrees
 * of freedom: exp (-x/2) * sum_{i < k/2} (x/2)^i / i! (the Poisson sum;
 * e.g. Abramowitz & Stegun 26.4.21). */
static double
chi2_sf_even (double x,
              guint  k)
{
  double term = 1.0, sum = 1.0;

  g_assert_true (k >= 2 && k % 2 == 0);
  for (guint i = 1; i < k / 2; i++)
    {
      term *= (x / 2) / i;
      sum += term;
    }
  return exp (-x / 2) * sum;
}

/* The counts against the distribution want (zero outside the support):
 * tokens outside it are never drawn, and over the support Pearson's
 * chi-square statistic must not be one a correct sampler reaches with
 * probability below 1e-6. The draws are seeded, so the test is
 * deterministic; the 1e-6 level means no seed or draw order a correct
 * sampler could use would make it fail, while a wrong distribution gives a
 * statistic in the thousands (measured with the sampler broken on purpose:
 * a temperature applied as * T instead of / T gives 9.1e4 at T = 0.5; with
 * no top-p cut, token 6, outside the nucleus, was drawn 1702 times). The
 * support must have an odd number of tokens (even degrees of freedom for
 * chi2_sf_even). */
static void
assert_distribution (const char   *what,
                     const guint  *counts,
                     const double *want)
{
  double x2 = 0.0, p;
  guint k = 0;
  g_autoptr(GString) line = g_string_new (NULL);

  for (guint i = 0; i < FIXED_V; i++)
    {
      g_string_append_printf (line, " %u:%u/%.1f", i, counts[i], want[i] * SAMPLE_N);
      if (want[i] == 0.0)
        {
          if (counts[i] != 0)
            g_error ("%s: token %u, outside the support, drawn %u times of %d", what, i, counts[i], SAMPLE_N);
          continue;
        }
      /* Pearson's approximation needs every expected count well above 5
       * (the smallest here: 31) */
      g_assert_cmpfloat (want[i] * SAMPLE_N, >=, 20.0);
      x2 += (counts[i] - want[i] * SAMPLE_N) * (counts[i] - want[i] * SAMPLE_N) / (want[i] * SAMPLE_N);
      k++;
    }
  p = chi2_sf_even (x2, k - 1);
  g_test_message ("%s: drawn/expected%s; chi-square %.2f with %u degrees of freedom, p = %.3g",
                  what, line->str, x2, k - 1, p);
  if (!(p >= 1e-6))
    g_error ("%s: the draws do not follow the distribution: chi-square %.1f with %u degrees of "
             "freedom (p = %.3g < 1e-6); drawn/expected:%s", what, x2, k - 1, p, line->str);
}

/* softmax (logits / temperature) of the fixed model, restricted to the
 * top_p nucleus as the documentation defines it: the most likely tokens,
 * in order, up to and including the first whose cumulative mass exceeds
 * top_p (all tokens when top_p is not in (0, 1)). */
static void
fixed_distribution (double  temperature,
                    double  top_p,
                    double *want)
{
  const double scale = 1.0 / sqrt (1.0 + 1e-5);   /* the final RMSNorm */
  double sum = 0.0, mass = 0.0;

  for (guint i = 0; i < FIXED_V; i++)
    {
      /* logits 3..9 are sorted, largest first; 0-2 are -1e4: exp () is 0 */
      want[i] = exp ((fixed_logits[i] - fixed_logits[3]) * scale / temperature);
      sum += want[i];
    }
  for (guint i = 0; i < FIXED_V; i++)
    want[i] /= sum;
  if (top_p > 0.0 && top_p < 1.0)
    {
      double kept = 0.0;

      for (guint i = 3; i < FIXED_V; i++)
        {
          if (mass > top_p)
            want[i] = 0.0;
          mass += want[i];
          kept += want[i];
        }
      for (guint i = 0; i < FIXED_V; i++)
        want[i] /= kept;
    }
}

static void
test_sampling_temperature (void)
{
  g_autoptr(AneLlamaModel) m = NULL;
  g_autoptr(AneTokenizer) tok = NULL;
  /* top_p 1 and 0 both mean "every token" */
  static const struct { double temperature, top_p; } cases[] = { { 0.5, 0.0 }, { 2.0, 1.0 } };

  fixed_logit_model (&m, &tok);
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      guint counts[FIXED_V];
      double want[FIXED_V];
      g_autofree char *what = g_strdup_printf ("temperature %g, top_p %g", cases[c].temperature, cases[c].top_p);

      fixed_distribution (cases[c].temperature, cases[c].top_p, want);
      draw_fixed (m, tok, cases[c].temperature, cases[c].top_p, counts);
      assert_distribution (what, counts, want);
    }
}

/* top_p 0.7 at temperature 1: the probabilities of tokens 3.. are 0.406,
 * 0.246, 0.149, 0.091, ...; the cumulative mass passes 0.7 at the third
 * (0.652, then 0.801, both far from 0.7), so tokens 3-5 form the nucleus
 * and are drawn in proportion 0.506 : 0.307 : 0.186, the rest never. */
static void
test_sampling_top_p (void)
{
  g_autoptr(AneLlamaModel) m = NULL;
  g_autoptr(AneTokenizer) tok = NULL;
  guint counts[FIXED_V];
  double want[FIXED_V];

  fixed_logit_model (&m, &tok);
  fixed_distribution (1.0, 0.7, want);
  g_assert_cmpfloat (want[5], >, 0.0);
  g_assert_cmpfloat (want[6], ==, 0.0);
  draw_fixed (m, tok, 1.0, 0.7, counts);
  assert_distribution ("temperature 1, top_p 0.7", counts, want);
}

/* ---- pieces as bytes ---------------------------------------------------- */

/* llama2.c's byte-fallback tokens <0x00>..<0xFF> are ids 3..258; '€' is
 * E2 82 AC, three tokens that are each a part of one character. */
static void
test_tokenizer_bytes (void)
{
  g_autoptr(AneTokenizer) tok = load_tokenizer ();
  const gint32 euro[] = { 3 + 0xE2, 3 + 0x82, 3 + 0xAC };
  g_autoptr(GByteArray) joined = g_byte_array_new ();
  g_autoptr(GBytes) raw = NULL, nul = NULL, word = NULL;
  g_autofree char *word_text = NULL;
  gint32 prev = ANE_TOKENIZER_BOS;

  for (guint i = 0; i < G_N_ELEMENTS (euro); i++)
    {
      g_autoptr(GBytes) piece = ane_tokenizer_decode_token_bytes (tok, prev, euro[i]);
      gsize n;
      const guint8 *data = g_bytes_get_data (piece, &n);

      g_assert_cmpuint (n, ==, 1);
      g_assert_cmpuint (data[0], ==, "\xe2\x82\xac"[i] & 0xff);
      g_assert_false (g_utf8_validate ((const char *) data, n, NULL));
      g_byte_array_append (joined, data, n);
      prev = euro[i];
    }
  g_assert_cmpmem (joined->data, joined->len, "\xe2\x82\xac", 3);

  raw = ane_tokenizer_dup_piece_bytes (tok, euro[0]);
  g_assert_cmpmem (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw), "<0xE2>", 6);
  g_assert_null (ane_tokenizer_dup_piece_bytes (tok, 512));
  g_assert_null (ane_tokenizer_dup_piece_bytes (tok, -1));
  /* As decode_token: <0x00> decodes to nothing, a word to its text. */
  nul = ane_tokenizer_decode_token_bytes (tok, ANE_TOKENIZER_BOS, 3);
  g_assert_cmpuint (g_bytes_get_size (nul), ==, 0);
  word_text = ane_tokenizer_decode_token (tok, 300, 400);
  word = ane_tokenizer_decode_token_bytes (tok, 300, 400);
  g_assert_cmpmem (g_bytes_get_data (word, NULL), g_bytes_get_size (word), word_text, strlen (word_text));
}

typedef struct {
  GByteArray *joined;
  guint       calls;
  guint       stop_after;
} PieceCollect;

static gboolean
collect_piece (gint32   token,
               GBytes  *piece,
               gpointer user_data)
{
  PieceCollect *c = user_data;
  gsize n;
  const guint8 *data = g_bytes_get_data (piece, &n);

  g_byte_array_append (c->joined, data, n);
  c->calls++;
  return c->stop_after == 0 || c->calls < c->stop_after;
}

static void
test_generate_bytes (void)
{
  g_autoptr(AneLlamaModel) m = load_model ();
  g_autoptr(AneTokenizer) tok = load_tokenizer ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GBytes) bytes = NULL, stopped = NULL, quiet = NULL;
  g_autoptr(GByteArray) joined = g_byte_array_new ();
  g_autoptr(GByteArray) joined2 = g_byte_array_new ();
  PieceCollect c = { joined, 0, 0 }, two = { joined2, 0, 2 };

  text = ane_llama_model_generate (m, tok, PROMPT, 30, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32,
                                   0.0, 0.9, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  bytes = ane_llama_model_generate_bytes (m, tok, PROMPT, 30, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32,
                                          0.0, 0.9, 0, collect_piece, &c, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (text), >, 0);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), text, strlen (text));
  g_assert_cmpmem (joined->data, joined->len, text, strlen (text));
  g_assert_cmpuint (c.calls, >=, 1);
  g_assert_cmpuint (c.calls, <=, 30);

  stopped = ane_llama_model_generate_bytes (m, tok, PROMPT, 30, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32,
                                            0.0, 0.9, 0, collect_piece, &two, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (two.calls, ==, 2);
  g_assert_cmpmem (g_bytes_get_data (stopped, NULL), g_bytes_get_size (stopped), joined2->data, joined2->len);

  quiet = ane_llama_model_generate_bytes (m, tok, PROMPT, 30, ANE_BACKEND_CPU, ANE_PRECISION_FLOAT32,
                                          0.0, 0.9, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (quiet, bytes));
}

int
main (int argc, char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/llama/tokenizer/load", test_tokenizer_load);
  g_test_add_func ("/ane/llama/tokenizer/encode", test_tokenizer_encode);
  g_test_add_func ("/ane/llama/tokenizer/roundtrip", test_tokenizer_roundtrip);
  g_test_add_func ("/ane/llama/tokenizer/truncated", test_tokenizer_truncated);
  g_test_add_func ("/ane/llama/tokenizer/vocab-too-large", test_tokenizer_vocab_too_large);
  g_test_add_func ("/ane/llama/not-regular-files", test_not_regular_files);
  g_test_add_func ("/ane/llama/model/header", test_model_header);
  g_test_add_func ("/ane/llama/model/truncated", test_model_truncated);
  g_test_add_data_func ("/ane/llama/graph/prefill-decode/reference", GINT_TO_POINTER (ANE_BACKEND_REFERENCE), test_prefill_decode);
  g_test_add_data_func ("/ane/llama/graph/prefill-decode/cpu", GINT_TO_POINTER (ANE_BACKEND_CPU), test_prefill_decode);
  g_test_add_func ("/ane/llama/generate/cpu-vs-reference", test_generate_cpu_vs_reference);
  g_test_add_func ("/ane/llama/generate/fp16", test_generate_fp16);
  g_test_add_func ("/ane/llama/generate/sampling", test_generate_sampling);
  g_test_add_func ("/ane/llama/generate/sampling/temperature", test_sampling_temperature);
  g_test_add_func ("/ane/llama/generate/sampling/top-p", test_sampling_top_p);
  g_test_add_func ("/ane/llama/tokenizer/bytes", test_tokenizer_bytes);
  g_test_add_func ("/ane/llama/generate/bytes", test_generate_bytes);
  ret = g_test_run ();
  if (fp32_cpu_tokens)
    g_array_unref (fp32_cpu_tokens);
  return ret;
}
