/* gguf/ane-gguf-synthetic.c: a LLaMA GGUF of random weights, for benchmarks
 * and tests that need a model of a given size (bench/convert.c, the
 * wide-vocabulary tests)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "gguf/ane-gguf-writer-private.h"
#include "ane-reference-private.h"

/* A [out, in] matrix (out 1: a norm's weight, all ones, float32) of uniform
 * random values scaled by 1/sqrt(in), stored as dtype. */
static gboolean
add_weight (AneGgufWriter  *w,
            const char     *name,
            gint64          out,
            gint64          in,
            AneDType        dtype,
            GRand          *rand,
            GError        **error)
{
  gsize n = (gsize) (out * in);
  g_autofree float *v = g_new (float, n);
  gint64 ne[2] = { in, out };
  g_autoptr(GBytes) data = NULL;
  float scale = 1.0f / sqrtf ((float) in);

  if (out == 1)
    {
      for (gsize i = 0; i < n; i++)
        v[i] = 1.0f;
      data = g_bytes_new (v, n * sizeof (float));
      ane_gguf_writer_add_tensor (w, name, ANE_GGML_TYPE_F32, ne, 1, data);
      return TRUE;
    }
  for (gsize i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (rand, -1.0, 1.0) * scale;
  if (dtype == ANE_DTYPE_FLOAT32)
    {
      data = g_bytes_new (v, n * sizeof (float));
      ane_gguf_writer_add_tensor (w, name, ANE_GGML_TYPE_F32, ne, 2, data);
    }
  else if (dtype == ANE_DTYPE_FLOAT16)
    {
      guint16 *h = g_new (guint16, n);

      for (gsize i = 0; i < n; i++)
        h[i] = ane_float_to_half (v[i]);
      data = g_bytes_new_take (h, n * 2);
      ane_gguf_writer_add_tensor (w, name, ANE_GGML_TYPE_F16, ne, 2, data);
    }
  else
    {
      gsize bytes = ane_dtype_is_block (dtype) ? n / ane_dtype_block_size (dtype) * ane_dtype_block_bytes (dtype) : 0;
      guint8 *blocks = g_malloc (MAX (bytes, 1));
      guint32 type = 0;

      if (!ane_gguf_ggml_type_from_dtype (dtype, &type) || !ane_dtype_is_block (dtype))
        {
          g_free (blocks);
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "synthetic %s weights are not written",
                       ane_dtype_to_string (dtype));
          return FALSE;
        }
      if (!ane_quant_blocks_f32 (dtype, v, n, blocks, error))
        {
          g_free (blocks);
          return FALSE;
        }
      data = g_bytes_new_take (blocks, bytes);
      ane_gguf_writer_add_tensor (w, name, type, ne, 2, data);
    }
  return TRUE;
}

gboolean
ane_gguf_write_synthetic_llama (const char                   *path,
                                const AneGgufSyntheticLlama  *spec,
                                GError                      **error)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (spec->seed);
  g_autoptr(AneGgufWriter) w = ane_gguf_writer_new (3, 32);
  gint64 head = spec->dim / spec->heads, kv = head * spec->kv_heads;
  const struct { const char *name; gint64 out, in; } per_layer[] = {
    { "attn_q.weight", spec->dim, spec->dim }, { "attn_k.weight", kv, spec->dim },
    { "attn_v.weight", kv, spec->dim }, { "attn_output.weight", spec->dim, spec->dim },
    { "ffn_gate.weight", spec->hidden, spec->dim }, { "ffn_up.weight", spec->hidden, spec->dim },
    { "ffn_down.weight", spec->dim, spec->hidden },
  };

  ane_gguf_writer_add_string (w, "general.architecture", "llama");
  ane_gguf_writer_add_string (w, "general.name", "synthetic");
  ane_gguf_writer_add_int (w, "llama.context_length", ANE_GGUF_VALUE_TYPE_UINT32, spec->context);
  ane_gguf_writer_add_int (w, "llama.embedding_length", ANE_GGUF_VALUE_TYPE_UINT32, spec->dim);
  ane_gguf_writer_add_int (w, "llama.block_count", ANE_GGUF_VALUE_TYPE_UINT32, spec->layers);
  ane_gguf_writer_add_int (w, "llama.feed_forward_length", ANE_GGUF_VALUE_TYPE_UINT32, spec->hidden);
  ane_gguf_writer_add_int (w, "llama.attention.head_count", ANE_GGUF_VALUE_TYPE_UINT32, spec->heads);
  ane_gguf_writer_add_int (w, "llama.attention.head_count_kv", ANE_GGUF_VALUE_TYPE_UINT32, spec->kv_heads);
  ane_gguf_writer_add_float (w, "llama.attention.layer_norm_rms_epsilon", ANE_GGUF_VALUE_TYPE_FLOAT32, 1e-5);
  ane_gguf_writer_add_float (w, "llama.rope.freq_base", ANE_GGUF_VALUE_TYPE_FLOAT32, 10000.0);
  if (!add_weight (w, "token_embd.weight", spec->vocab, spec->dim, spec->matrices, rand, error))
    return FALSE;
  for (gint64 l = 0; l < spec->layers; l++)
    {
      g_autofree char *an = g_strdup_printf ("blk.%" G_GINT64_FORMAT ".attn_norm.weight", l);
      g_autofree char *fn = g_strdup_printf ("blk.%" G_GINT64_FORMAT ".ffn_norm.weight", l);

      if (!add_weight (w, an, 1, spec->dim, ANE_DTYPE_FLOAT32, rand, error) ||
          !add_weight (w, fn, 1, spec->dim, ANE_DTYPE_FLOAT32, rand, error))
        return FALSE;
      for (guint i = 0; i < G_N_ELEMENTS (per_layer); i++)
        {
          g_autofree char *name = g_strdup_printf ("blk.%" G_GINT64_FORMAT ".%s", l, per_layer[i].name);

          if (!add_weight (w, name, per_layer[i].out, per_layer[i].in, spec->matrices, rand, error))
            return FALSE;
        }
    }
  /* tied: no output.weight, so the loader uses the embedding as the
   * classifier (as llama.cpp does, and llama2.c's stories models are) */
  if (!add_weight (w, "output_norm.weight", 1, spec->dim, ANE_DTYPE_FLOAT32, rand, error) ||
      (!spec->tied && !add_weight (w, "output.weight", spec->vocab, spec->dim, spec->matrices, rand, error)))
    return FALSE;
  return ane_gguf_writer_write (w, path, error);
}
