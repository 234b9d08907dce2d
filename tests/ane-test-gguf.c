/* ane-test-gguf.c: the bundled stories260K, and GGUF files made from it
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ane-test-gguf.h"
#include "ane-test-util.h"
#include "gguf/ane-gguf-writer-private.h"
#include "ane-reference-private.h"

char *
ane_test_model_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "..", "data", "models", name, NULL);
}

AneLlamaModel *
ane_test_load_stories (void)
{
  g_autofree char *path = ane_test_model_path ("stories260K.bin");
  g_autoptr(GError) error = NULL;
  AneLlamaModel *m = ane_llama_model_load_llama2c (path, &error);

  g_assert_no_error (error);
  return m;
}

AneTokenizer *
ane_test_load_stories_tokenizer (void)
{
  g_autofree char *path = ane_test_model_path ("tok512.bin");
  g_autoptr(GError) error = NULL;
  AneTokenizer *t = ane_tokenizer_load_llama2c (path, 512, &error);

  g_assert_no_error (error);
  return t;
}

gboolean
ane_test_collect_token (gint32      token,
                        const char *piece,
                        gpointer    user_data)
{
  g_array_append_val ((GArray *) user_data, token);
  return TRUE;
}

GArray *
ane_test_generate_greedy (AneLlamaModel *m,
                          AneTokenizer  *tok,
                          const char    *prompt,
                          guint          n_tokens,
                          AneBackend     backend,
                          AnePrecision   precision,
                          guint64        seed,
                          char         **text)
{
  g_autoptr(GError) error = NULL;
  GArray *tokens = g_array_new (FALSE, FALSE, sizeof (gint32));
  char *out = ane_llama_model_generate (m, tok, prompt, n_tokens, backend, precision, 0.0, 0.9, seed,
                                        ane_test_collect_token, tokens, &error);

  g_assert_no_error (error);
  g_assert_nonnull (out);
  if (text != NULL)
    *text = out;
  else
    g_free (out);
  return tokens;
}

/* Block-quantized as ane_quant_blocks_f32 does it (Q8_0, Q4_0: ggml's
 * quantize_row_*_ref). */
static GBytes *
quantize_blocks (AneDType     type,
                 const float *x,
                 gsize        n)
{
  g_autoptr(GError) error = NULL;
  gsize bytes = n / ane_dtype_block_size (type) * ane_dtype_block_bytes (type);
  guint8 *out = g_malloc (bytes);

  g_assert_true (ane_quant_blocks_f32 (type, x, n, out, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (out, bytes);
}


static void
add_tensor (AneGgufWriter *w,
            const AneTestGgufVariant *v,
            const char    *name,
            AneTensor     *t)
{
  guint rank;
  const gint64 *shape = ane_tensor_get_shape (t, &rank);
  gint64 ne[2];
  g_autoptr(GBytes) data = NULL;
  guint32 type = ANE_GGML_TYPE_F32;
  AneDType quant = v->quant != ANE_DTYPE_FLOAT32 ? v->quant : v->q8_0 ? ANE_DTYPE_Q8_0 : ANE_DTYPE_FLOAT32;
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
  if (quant == ANE_DTYPE_FLOAT16 && rank == 2)
    {
      guint16 *h = g_new (guint16, MAX (n, 1));

      for (gsize i = 0; i < n; i++)
        h[i] = GUINT16_TO_LE (ane_float_to_half (f[i]));
      type = ANE_GGML_TYPE_F16;
      data = g_bytes_new_take (h, n * sizeof (guint16));
    }
  else if (quant != ANE_DTYPE_FLOAT32 && quant != ANE_DTYPE_FLOAT16 && rank == 2 &&
           ne[0] % ane_dtype_block_size (quant) == 0)
    {
      g_assert_true (ane_gguf_ggml_type_from_dtype (quant, &type));
      data = quantize_blocks (quant, f, n);
    }
  else
    data = g_bytes_new (f, n * sizeof (float));
  ane_gguf_writer_add_tensor (w, name, type, ne, rank, data);
}

static void
add_u32 (AneGgufWriter *w,
         const AneTestGgufVariant *v,
         const char    *suffix,
         gint64         value)
{
  g_autofree char *key = g_strdup_printf ("%s.%s", v->arch, suffix);

  if (g_strcmp0 (key, v->omit_key) != 0)
    ane_gguf_writer_add_int (w, key, ANE_GGUF_VALUE_TYPE_UINT32, value);
}

char *
ane_test_write_stories_gguf (const char               *dir,
                             const char               *file_name,
                             const AneTestGgufVariant *v)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(AneTokenizer) tok = ane_test_load_stories_tokenizer ();
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

