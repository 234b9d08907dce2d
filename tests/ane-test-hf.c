/* ane-test-hf.c: the bundled stories260K as a Hugging Face checkpoint (ane-test-hf.h)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "ane-test-hf.h"
#include "ane-test-gguf.h"
#include "ane-test-hf-tokenizer.h"
#include "ane-safetensors-private.h"

/* f through dtype and back (round to nearest even, as torch's .to() does). */
static float
round_through (float    f,
               AneDType dtype)
{
  guint32 u;

  if (dtype == ANE_DTYPE_FLOAT16)
    return ane_half_to_float (ane_float_to_half (f));
  if (dtype != ANE_DTYPE_BFLOAT16)
    return f;
  memcpy (&u, &f, 4);
  u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  memcpy (&f, &u, 4);
  return f;
}

/* The llama2.c weight name's values, rows permuted for HF's rotate_half
 * when heads > 0 (convert_llama_weights_to_hf.py's permute: HF row
 * h·D + t·D/2 + i is the original row h·D + 2i + t). */
static float *
weight_values (AneLlamaModel *m,
               const char    *name,
               gint64         heads,
               gsize         *n)
{
  AneTensor *w = ane_llama_model_get_weight (m, name);
  g_autoptr(GError) error = NULL;
  float *f, *p;
  gint64 cols, D;

  g_assert_nonnull (w);
  f = ane_tensor_dup_floats (w, n, &error);
  g_assert_no_error (error);
  if (heads == 0)
    return f;
  cols = ane_llama_model_get_dim (m);
  D = (gint64) *n / cols / heads;
  p = g_new (float, *n);
  for (gint64 h = 0; h < heads; h++)
    for (gint64 t = 0; t < 2; t++)
      for (gint64 i = 0; i < D / 2; i++)
        memcpy (p + (h * D + t * D / 2 + i) * cols, f + (h * D + 2 * i + t) * cols, (gsize) cols * sizeof (float));
  g_free (f);
  return p;
}

/* A tensor of values in dtype (F32, F16 or BF16). */
static AneTensor *
make_tensor (const char   *name,
             AneDType      dtype,
             const gint64 *shape,
             guint         rank,
             const float  *f,
             gsize         n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  AneTensor *t;

  if (dtype == ANE_DTYPE_FLOAT32)
    bytes = g_bytes_new (f, n * 4);
  else
    {
      guint16 *h = g_new (guint16, n);

      for (gsize i = 0; i < n; i++)
        {
          float r = round_through (f[i], dtype);
          guint32 u;

          memcpy (&u, &r, 4);
          h[i] = dtype == ANE_DTYPE_FLOAT16 ? ane_float_to_half (r) : (guint16) (u >> 16);
        }
      bytes = g_bytes_new_take (h, n * 2);
    }
  t = ane_tensor_new_from_bytes (name, dtype, shape, rank, bytes, &error);
  g_assert_no_error (error);
  return t;
}

typedef struct { const char *hf, *name; int perm; } HfEntry;

gboolean
ane_test_write_stories_hf (const char             *dir,
                           const AneTestHfVariant *v,
                           GError                **error)
{
  g_autoptr(AneLlamaModel) m = ane_test_load_stories ();
  g_autoptr(GPtrArray) tensors = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GString) config = g_string_new (NULL);
  g_autoptr(GString) index = NULL;
  g_autofree char *config_path = g_build_filename (dir, "config.json", NULL);
  AneDType dtype = v->dtype != 0 ? v->dtype : ANE_DTYPE_FLOAT32;
  gint64 dim = ane_llama_model_get_dim (m), hidden = ane_llama_model_get_hidden_dim (m);
  gint64 heads = ane_llama_model_get_n_heads (m), kv_heads = ane_llama_model_get_n_kv_heads (m);
  gint64 vocab = ane_llama_model_get_vocab_size (m), head = dim / heads;
  static const struct { const char *hf, *name; int perm; } per_layer[] = {
    /* perm: 1 q (n_heads), 2 k (n_kv_heads) */
    { "input_layernorm.weight",          "attention_norm", 0 },
    { "self_attn.q_proj.weight",         "wq",             1 },
    { "self_attn.k_proj.weight",         "wk",             2 },
    { "self_attn.v_proj.weight",         "wv",             0 },
    { "self_attn.o_proj.weight",         "wo",             0 },
    { "post_attention_layernorm.weight", "ffn_norm",       0 },
    { "mlp.gate_proj.weight",            "w1",             0 },
    { "mlp.down_proj.weight",            "w2",             0 },
    { "mlp.up_proj.weight",              "w3",             0 },
  };
  guint n_first;

  g_assert_true (ane_llama_model_get_shared_classifier (m));
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "cannot create %s", dir);
      return FALSE;
    }

  /* tensor list: the embedding, the layers, the final norm (tied head) */
  {
    HfEntry all[64];
    guint n_all = 0;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

    all[n_all++] = (HfEntry) { "model.embed_tokens.weight", "token_embedding", 0 };
    for (gint64 l = 0; l < ane_llama_model_get_n_layers (m); l++)
      for (guint i = 0; i < G_N_ELEMENTS (per_layer); i++)
        {
          char *hf = g_strdup_printf ("model.layers.%" G_GINT64_FORMAT ".%s", l, per_layer[i].hf);
          char *name = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", l, per_layer[i].name);

          g_ptr_array_add (names, hf);
          g_ptr_array_add (names, name);
          all[n_all++] = (HfEntry) { hf, name, per_layer[i].perm };
        }
    all[n_all++] = (HfEntry) { "model.norm.weight", "final_norm", 0 };
    g_assert_cmpuint (n_all, <=, G_N_ELEMENTS (all));

    for (guint i = 0; i < n_all; i++)
      {
        AneTensor *src = ane_llama_model_get_weight (m, all[i].name);
        gint64 perm_heads = all[i].perm == 1 ? heads : all[i].perm == 2 ? kv_heads : 0;
        const gint64 *shape;
        gint64 s[2];
        guint rank;
        gsize n;
        g_autofree float *f = NULL;

        if (g_strcmp0 (all[i].hf, v->omit_tensor) == 0)
          continue;
        shape = ane_tensor_get_shape (src, &rank);
        memcpy (s, shape, rank * sizeof (gint64));
        f = weight_values (m, all[i].name, perm_heads, &n);
        if (g_strcmp0 (all[i].hf, v->bad_tensor) == 0)
          {
            n -= (gsize) (rank == 2 ? s[1] : 1);
            s[0] -= 1;
          }
        if (g_strcmp0 (all[i].hf, v->int_tensor) == 0)
          {
            g_autofree gint32 *ints = g_new (gint32, n);
            g_autoptr(GError) local = NULL;
            AneTensor *t;

            for (gsize j = 0; j < n; j++)
              ints[j] = (gint32) (f[j] * 1000.0f);
            t = ane_tensor_new_from_ints (all[i].hf, s, rank, ints, n, &local);
            g_assert_no_error (local);
            g_ptr_array_add (tensors, t);
          }
        else
          g_ptr_array_add (tensors, make_tensor (all[i].hf, dtype, s, rank, f, n));
      }
  }

  g_string_append_printf (config,
                          "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"model_type\": \"%s\",\n"
                          "  \"hidden_size\": %" G_GINT64_FORMAT ",\n  \"intermediate_size\": %" G_GINT64_FORMAT ",\n"
                          "  \"num_hidden_layers\": %" G_GINT64_FORMAT ",\n  \"num_attention_heads\": %" G_GINT64_FORMAT ",\n"
                          "  \"num_key_value_heads\": %" G_GINT64_FORMAT ",\n  \"head_dim\": %" G_GINT64_FORMAT ",\n"
                          "  \"vocab_size\": %" G_GINT64_FORMAT ",\n  \"max_position_embeddings\": %" G_GINT64_FORMAT ",\n"
                          "  \"rms_norm_eps\": 1e-05,\n  \"rope_theta\": 10000.0,\n  \"rope_scaling\": null,\n"
                          "  \"hidden_act\": \"silu\",\n  \"tie_word_embeddings\": true,\n  \"attention_bias\": false,\n"
                          "  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n  \"torch_dtype\": \"%s\"%s\n}\n",
                          v->model_type != NULL ? v->model_type : "llama",
                          dim, hidden, ane_llama_model_get_n_layers (m), heads, kv_heads, head, vocab,
                          ane_llama_model_get_seq_len (m),
                          dtype == ANE_DTYPE_FLOAT16 ? "float16" : dtype == ANE_DTYPE_BFLOAT16 ? "bfloat16" : "float32",
                          v->config_extra != NULL ? v->config_extra : "");
  if (!g_file_set_contents (config_path, config->str, -1, error))
    return FALSE;
  if (v->tokenizer)
    {
      g_autofree char *tok_path = g_build_filename (dir, "tokenizer.json", NULL);

      if (!ane_test_write_tok512_tokenizer_json (tok_path, dir, error))
        return FALSE;
    }

  if (v->n_shards <= 1)
    {
      g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
      return ane_safetensors_write (path, (AneTensor *const *) tensors->pdata, tensors->len, NULL, error);
    }

  /* two shards: the first half of the tensors, then the rest, as
   * save_pretrained names them */
  n_first = tensors->len / 2;
  index = g_string_new ("{\n  \"metadata\": {\"total_size\": 0},\n  \"weight_map\": {\n");
  for (guint s = 0; s < 2; s++)
    {
      g_autofree char *file = g_strdup_printf ("model-%05u-of-00002.safetensors", s + 1);
      g_autofree char *path = g_build_filename (dir, file, NULL);
      guint first = s == 0 ? 0 : n_first, last = s == 0 ? n_first : tensors->len;

      for (guint i = first; i < last; i++)
        g_string_append_printf (index, "    \"%s\": \"%s\"%s\n",
                                ane_tensor_get_name (g_ptr_array_index (tensors, i)), file,
                                i + 1 < tensors->len ? "," : "");
      if (!ane_safetensors_write (path, (AneTensor *const *) tensors->pdata + first, last - first, NULL, error))
        return FALSE;
    }
  g_string_append (index, "  }\n}\n");
  {
    g_autofree char *path = g_build_filename (dir, "model.safetensors.index.json", NULL);
    return g_file_set_contents (path, index->str, -1, error);
  }
}

gboolean
ane_test_write_stories_rounded (const char *path,
                                AneDType    dtype,
                                GError    **error)
{
  g_autofree char *src = ane_test_model_path ("stories260K.bin");
  g_autofree char *bytes = NULL;
  gsize size;
  float *f;

  /* the header is 7 int32; every value after it is a float32 weight (the
   * RoPE tables included, which nothing reads) */
  if (!g_file_get_contents (src, &bytes, &size, error))
    return FALSE;
  g_assert_cmpuint (size % 4, ==, 0);
  f = (float *) (gpointer) (bytes + 28);
  for (gsize i = 0; i < (size - 28) / 4; i++)
    f[i] = round_through (f[i], dtype);
  return g_file_set_contents (path, bytes, (gssize) size, error);
}
