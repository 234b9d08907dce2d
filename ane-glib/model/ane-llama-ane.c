/* model/ane-llama-ane.c: the LLaMA decode step shaped for the Neural Engine
 *
 * The generic decode graph (ane-llama.c) is what a GPU or CPU runs well:
 * matmuls on [S, C] activations, heads split by reshape and transpose, a
 * `where` over the whole cache to write one row, the mask and the rotary
 * angles computed from an int32 position inside the program. The ANE lint
 * (docs/ane-lint.md) sends much of it off the Neural Engine. This builder
 * writes the same model the way the projects that run LLMs on the Neural
 * Engine do, one rewrite per concern, each citing where it comes from:
 *
 * 1. Layout (B, C, 1, S): every activation is channels-first with the
 *    sequence on the last axis (apple/ml-ane-transformers
 *    ane_transformers/reference/layer_norm.py:24, "most conducive to ANE";
 *    maderix/ANE docs/ANE_INTERNALS.md:43, the private path's [1, C, 1, S]).
 * 2. Linear layers as 1x1 conv with [out, in, 1, 1] weights
 *    (multihead_attention.py:50-53; maderix/ANE docs/ANE_INTERNALS.md:176).
 *    Block-quantized GGUF weights are dequantized to float here: the Neural
 *    Engine takes per-channel quantization only (lint rule
 *    quant-input-blocks), so compressing them again is the compression
 *    issue's work.
 * 3. RMSNorm through layer_norm over the channel axis of [x, -x]: the mean of
 *    that is 0, so its variance is mean(x^2), and the Neural Engine's
 *    layer_norm kernel does the sum of squares without fp16 overflow (Anemll
 *    anemll/models/qwen_model.py:101-136; john-rocky/coreai-model-zoo
 *    knowledge/compute-units-and-authoring.md:33-35). The weight is folded
 *    into layer_norm's gamma, [w, w].
 * 4. Rotary positions without gathers or int math: the host passes the cos
 *    and sin of the position, per channel (Apple's neural_engine_rules.md:378
 *    asks for RoPE tables as inputs rather than an in-graph gather). The
 *    rotation pairs halves of a head (GPT-NeoX); a llama2.c / GGUF model,
 *    which pairs neighbours, gets its q/k weight rows permuted to that order
 *    (the permutation huggingface/transformers'
 *    convert_llama_weights_to_hf.py applies): attention scores are sums over
 *    a head's channels, so permuting q and k alike changes nothing. The
 *    rotate-half's sign is folded into the sin input.
 * 5. Attention per key/value head, no transposes, no tile: for each KV head
 *    the query heads of its group are sliced from the channels and viewed as
 *    [1, G, D, 1], its keys and values as [1, 1, D, S] (the last axis never
 *    moves: reshapes that keep it are free, lint rule reshape-last-axis);
 *    scores are a product summed over D, softmax runs over the cache axis,
 *    and the weighted sum over S gives [1, G, D, 1]. Grouped-query heads
 *    slice the shared KV head instead of tiling it (apple/ml-ane-transformers
 *    multihead_attention.py:80-97, split per head; Apple's rules against
 *    tile). The 1/sqrt(D) scale is folded into wq.
 * 6. The causal mask is an additive input (0 or -1e4) computed on the host,
 *    not SDPA's attn_mask, which the hardware ignores (maderix/ANE
 *    README.md:188), and not -inf (multihead_attention.py:71-74; Apple's
 *    neural_engine_rules.md:366-370).
 * 7. KV caches are fp16 states [1, Hkv·D, 1, S] whose width is the cache
 *    length (a multiple of 32 keeps them on the Neural Engine,
 *    apple/coremltools#2631). The step's keys and values [1, Hkv·D, 1, n]
 *    are written by slice_update (iOS18) into the box the host computes:
 *    the int32 inputs write_begin [0, 0, 0, start] and write_end
 *    [1, Hkv·D, 1, start + n], checked on the host
 *    (ane_llama_ane_step_inputs), so the program does no integer maths
 *    (int32 maximum/minimum/add run off the Neural Engine: lint rule
 *    int-compute). Anemll writes its caches the same way, the position an
 *    int32 input (`current_pos`; anemll/models/llama_model.py,
 *    process_layer_regular and process_layer_prefill:
 *    kv_cache[..., current_pos:current_pos + n, :] = key_states, which
 *    coremltools converts to slice_update). Where slice_update cannot be
 *    used, ANE_LLAMA_CACHE_WRITE_ONE_HOT keeps the older form, every input
 *    a float: one token is blended into its row by a one-hot input
 *    (cache + (new - cache)·write), n tokens are moved to their rows by a
 *    `place` matmul. It is for targets before iOS18 (slice_update is new
 *    there) and for the private path, which binds fp16 surfaces only
 *    (maderix/ANE docs/ANE_INTERNALS.md:43), so an int32 begin cannot reach
 *    it. The generic graph uses a `select` over the whole cache.
 * 8. The token embedding is looked up on the host (the gather has no
 *    Neural Engine kernel; Apple's DistilBERT leaves it on the CPU,
 *    apple/ml-ane-transformers README.md:89): the step takes the embedding.
 *
 * What is not done yet (issue 14): a rewrite pass for any graph (this
 * builder writes the layout for the LLaMA family only).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "model/ane-llama-private.h"
#include "ane-reference-private.h"
#include "ane-graph-private.h"

/* What the causal mask adds to the scores of rows not yet written: finite,
 * as Apple's ANE attention masks (multihead_attention.py:71-74 uses -1e4),
 * so that a row's softmax never sees -inf. */
#define MASK_VALUE (-1e4)
/* The widest channel axis the Neural Engine takes (lint rule
 * dim-above-16384). */
#define MAX_CHANNELS 16384
/* The arg-max head's index digits: two of them cover MAX_CHANNELS rows,
 * each exact in float16. */
#define ARGMAX_BASE 128

typedef struct
{
  AneLlamaModel *m;
  AneGraph      *g;
  GPtrArray     *keep;
  GError        *error;
  gint64         head;      /* D */
  gint64         n;         /* tokens per call: 1 for decode */
  gint64         max_seq;
  AneLlamaCacheWrite cache_write;
  AneTensor     *cos, *sin, *mask;
  AneTensor     *write, *place;            /* ANE_LLAMA_CACHE_WRITE_ONE_HOT */
  AneTensor     *write_begin, *write_end;  /* ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE */
} Builder;

static AneTensor *
keep (Builder   *b,
      AneTensor *t)
{
  if (t != NULL)
    g_ptr_array_add (b->keep, t);
  return t;
}

#define B(call) (b->error != NULL ? NULL : keep (b, (call)))

/* A float param of the program holding values (n of them, shaped). */
static AneTensor *
float_param (Builder      *b,
             const char   *name,
             const gint64 *shape,
             guint         rank,
             const float  *values,
             gsize         n)
{
  g_autoptr(AneTensor) value = b->error != NULL ? NULL
                               : ane_tensor_new_from_floats (name, shape, rank, values, n, &b->error);

  if (value == NULL)
    return NULL;
  return B (ane_graph_param_with_value (b->g, value, &b->error));
}

/* A weight of the model as floats, dequantized if it is block-quantized. */
static float *
weight_floats (Builder    *b,
               const char *name,
               gsize      *n)
{
  AneTensor *w = g_hash_table_lookup (b->m->weights, name);
  AneDType dtype;

  if (b->error != NULL || w == NULL)
    return NULL;
  dtype = ane_tensor_get_dtype (w);
  *n = (gsize) ane_tensor_get_n_elements (w);
  if (ane_dtype_is_block (dtype))
    {
      GBytes *data = ane_tensor_get_data (w);
      float *out = g_new (float, *n);

      if (!ane_dequant_blocks_f32 (dtype, g_bytes_get_data (data, NULL), g_bytes_get_size (data), *n, out,
                                   &b->error))
        {
          g_free (out);
          return NULL;
        }
      return out;
    }
  return ane_tensor_dup_floats (w, n, &b->error);
}

/* The position within a head's D channels, in GPT-NeoX order, of channel c
 * in the model's own order: llama2.c and GGUF pair neighbours (2i, 2i+1),
 * NeoX halves (i, i + D/2). */
static gint64
neox_row (const Builder *b,
          gint64         c)
{
  gint64 h = c / b->head, d = c % b->head;

  if (b->m->rope_mode == ANE_ROPE_NEOX)
    return c;
  return h * b->head + (d % 2 == 0 ? d / 2 : b->head / 2 + d / 2);
}

/* Rows [first, first + n_rows) of an [out, in] weight as a conv kernel
 * [n_rows, in, 1, 1], the param named param: rows moved to NeoX order when
 * rope is set (whole weights only), scaled by scale. */
static AneTensor *
conv_kernel_part (Builder    *b,
                  const char *name,
                  gint64      first,
                  gint64      n_rows,
                  gboolean    rope,
                  double      scale,
                  const char *param)
{
  g_autofree float *w = NULL;
  g_autofree float *k = NULL;
  AneTensor *src = g_hash_table_lookup (b->m->weights, name);
  gsize n = 0;
  gint64 in;

  if (b->error != NULL)
    return NULL;
  g_assert (src != NULL && ane_tensor_get_rank (src) == 2);
  in = ane_tensor_get_dim (src, 1);
  w = weight_floats (b, name, &n);
  if (w == NULL)
    return NULL;
  k = g_new (float, n_rows * in);
  for (gint64 r = 0; r < n_rows; r++)
    {
      gint64 to = rope ? neox_row (b, r) : r;

      for (gint64 c = 0; c < in; c++)
        k[to * in + c] = (float) (w[(first + r) * in + c] * scale);
    }
  return float_param (b, param, (const gint64[]) { n_rows, in, 1, 1 }, 4, k, (gsize) (n_rows * in));
}

/* A whole [out, in] weight as a conv kernel [out, in, 1, 1]. */
static AneTensor *
conv_kernel (Builder    *b,
             const char *name,
             gboolean    rope,
             double      scale)
{
  AneTensor *src = g_hash_table_lookup (b->m->weights, name);

  g_assert (src != NULL);
  return conv_kernel_part (b, name, 0, ane_tensor_get_dim (src, 0), rope, scale, name);
}

/* An optional [out] bias, permuted and scaled like its kernel. */
static AneTensor *
conv_bias (Builder    *b,
           const char *name,
           gboolean    rope,
           double      scale)
{
  g_autofree float *v = NULL;
  g_autofree float *p = NULL;
  gsize n = 0;

  if (b->error != NULL || !g_hash_table_contains (b->m->weights, name))
    return NULL;
  v = weight_floats (b, name, &n);
  if (v == NULL)
    return NULL;
  p = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    p[rope ? neox_row (b, (gint64) i) : (gint64) i] = (float) (v[i] * scale);
  return float_param (b, name, (const gint64[]) { (gint64) n }, 1, p, n);
}

static AneTensor *
conv1x1 (Builder    *b,
         AneTensor  *x,
         const char *weight,
         const char *bias,
         gboolean    rope,
         double      scale)
{
  AneTensor *k = conv_kernel (b, weight, rope, scale);
  AneTensor *bb = bias != NULL ? conv_bias (b, bias, rope, scale) : NULL;

  return B (ane_graph_conv (b->g, x, k, bb, NULL, 0, NULL, 0, NULL, 0, 1, &b->error));
}

/* RMSNorm over the channels of [1, C, 1, S]: layer_norm_2d of [x, -x] with
 * gamma [w, w], then the first C channels (see the header, pass 3). */
static AneTensor *
rms_norm (Builder    *b,
          AneTensor  *x,
          const char *weight)
{
  g_autofree float *w = NULL;
  g_autofree float *w2 = NULL;
  g_autofree char *gamma_name = NULL;
  AneTensor *neg, *both, *gamma, *y;
  AneTensor *parts[2];
  gsize n = 0;

  w = weight_floats (b, weight, &n);
  if (w == NULL)
    return NULL;
  w2 = g_new (float, 2 * n);
  memcpy (w2, w, n * sizeof (float));
  memcpy (w2 + n, w, n * sizeof (float));
  gamma_name = g_strdup_printf ("%s.mirrored", weight);
  gamma = float_param (b, gamma_name, (const gint64[]) { 2 * (gint64) n }, 1, w2, 2 * n);
  if (gamma == NULL)
    return NULL;
  neg = B (ane_graph_neg (b->g, x, &b->error));
  parts[0] = x;
  parts[1] = neg;
  both = b->error == NULL ? B (ane_graph_concat (b->g, parts, 2, 1, &b->error)) : NULL;
  y = B (ane_graph_layer_norm_2d (b->g, both, gamma, NULL, b->m->rms_eps, &b->error));
  return B (ane_graph_narrow (b->g, y, 1, 0, (gint64) n, &b->error));
}

/* Qwen3's RMSNorm of each head of q or k ([1, heads·D, 1, n]) before
 * RoPE: each head's D channels normalized as rms_norm does (layer_norm of
 * [x, -x] over the channels), gamma the head weight (q_norm or k_norm)
 * times scale, where q's 1/sqrt(D) goes: folded into wq it would be
 * normalized away. */
static AneTensor *
head_rms_norm (Builder    *b,
               AneTensor  *x,
               gint64      heads,
               const char *weight,
               double      scale)
{
  g_autofree float *w = NULL;
  g_autofree float *w2 = NULL;
  g_autofree char *gamma_name = NULL;
  g_autofree AneTensor **parts = NULL;
  AneTensor *gamma;
  gsize n = 0;

  w = weight_floats (b, weight, &n);
  if (w == NULL)
    return NULL;
  g_assert ((gint64) n == b->head);
  w2 = g_new (float, 2 * n);
  for (gsize i = 0; i < n; i++)
    w2[i] = w2[n + i] = (float) (w[i] * scale);
  gamma_name = g_strdup_printf ("%s.mirrored", weight);
  gamma = float_param (b, gamma_name, (const gint64[]) { 2 * (gint64) n }, 1, w2, 2 * n);
  if (gamma == NULL)
    return NULL;
  parts = g_new0 (AneTensor *, heads);
  for (gint64 h = 0; h < heads; h++)
    {
      AneTensor *xh = B (ane_graph_narrow (b->g, x, 1, h * b->head, b->head, &b->error));
      AneTensor *neg = B (ane_graph_neg (b->g, xh, &b->error));
      AneTensor *pair[2] = { xh, neg };
      AneTensor *both = b->error == NULL ? B (ane_graph_concat (b->g, pair, 2, 1, &b->error)) : NULL;
      AneTensor *y = B (ane_graph_layer_norm_2d (b->g, both, gamma, NULL, b->m->rms_eps, &b->error));

      parts[h] = B (ane_graph_narrow (b->g, y, 1, 0, b->head, &b->error));
    }
  if (b->error != NULL)
    return NULL;
  return B (ane_graph_concat (b->g, parts, (guint) heads, 1, &b->error));
}

/* Rotary positions on [1, heads·D, 1, 1] in NeoX order: x·cos + swap(x)·sin,
 * swap exchanging the halves of every head and sin carrying rotate-half's
 * sign (see the header, pass 4). */
static AneTensor *
rope (Builder   *b,
      AneTensor *x,
      gint64     heads)
{
  g_autofree AneTensor **parts = g_new0 (AneTensor *, 2 * heads);
  gint64 half = b->head / 2, width = heads * b->head;
  AneTensor *swapped, *cos, *sin, *a, *c;

  for (gint64 h = 0; h < heads; h++)
    {
      parts[2 * h] = B (ane_graph_narrow (b->g, x, 1, h * b->head + half, half, &b->error));
      parts[2 * h + 1] = B (ane_graph_narrow (b->g, x, 1, h * b->head, half, &b->error));
    }
  if (b->error != NULL)
    return NULL;
  swapped = B (ane_graph_concat (b->g, parts, (guint) (2 * heads), 1, &b->error));
  cos = B (ane_graph_narrow (b->g, b->cos, 1, 0, width, &b->error));
  sin = B (ane_graph_narrow (b->g, b->sin, 1, 0, width, &b->error));
  a = B (ane_graph_mul (b->g, x, cos, &b->error));
  c = B (ane_graph_mul (b->g, swapped, sin, &b->error));
  return B (ane_graph_add (b->g, a, c, &b->error));
}

/* The cache of layer l (its state named name) with the rows of the step's
 * tokens set to value [1, Hkv·D, 1, n], written back; the updated cache as
 * float32 (pass 7). slice_update: value goes into the box [write_begin,
 * write_end) the host computed. One-hot, one token: value is spread over
 * the cache by the one-hot `write` ([1, 1, 1, S]); n tokens: `place`
 * ([1, 1, n, S], token i to its row) moves them there in one matmul, and
 * `write` marks those rows. */
static AneTensor *
update_cache (Builder    *b,
              const char *name,
              AneTensor  *value)
{
  gint64 width = b->m->n_kv_heads * b->head;
  const gint64 shape[4] = { 1, width, 1, b->max_seq };
  AneTensor *state, *old, *diff, *moved, *next, *written;

  state = B (ane_graph_state (b->g, name, ANE_DTYPE_FLOAT16, shape, 4, &b->error));
  if (b->cache_write == ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE)
    return B (ane_llama_write_cache (b->g, state, value, b->write_begin, b->write_end, &b->error));
  old = B (ane_graph_read_state (b->g, state, &b->error));
  old = B (ane_graph_cast (b->g, old, ANE_DTYPE_FLOAT32, &b->error));
  if (b->n == 1)
    {
      diff = B (ane_graph_sub (b->g, value, old, &b->error));
      moved = B (ane_graph_mul (b->g, diff, b->write, &b->error));
      next = B (ane_graph_add (b->g, old, moved, &b->error));
    }
  else
    {
      AneTensor *placed = B (ane_graph_matmul (b->g, value, b->place, FALSE, FALSE, &b->error));
      AneTensor *kept = B (ane_graph_mul (b->g, old, b->write, &b->error));

      diff = B (ane_graph_sub (b->g, old, kept, &b->error));
      next = B (ane_graph_add (b->g, diff, placed, &b->error));
      moved = NULL;
    }
  next = B (ane_graph_cast (b->g, next, ANE_DTYPE_FLOAT16, &b->error));
  written = B (ane_graph_write_state (b->g, state, next, &b->error));
  return B (ane_graph_cast (b->g, written, ANE_DTYPE_FLOAT32, &b->error));
}

/* Attention of [1, H·D, 1, n] queries over the caches [1, Hkv·D, 1, S],
 * one KV head (and its group of query heads) at a time (pass 5). One query:
 * scores [1, G, 1, S], a product summed over D. n queries: scores
 * [1, G, S, n] = kᵀ·q as a matmul that transposes its operand itself (no
 * transpose op), softmax over the keys, the output v·p [1, G, D, n]: the
 * query axis stays last throughout (apple/ml-ane-transformers
 * multihead_attention.py:94-107 computes (B, S_k, 1, S_q) scores the same
 * way). */
static AneTensor *
attention_n (Builder   *b,
             AneTensor *q,
             AneTensor *k,
             AneTensor *v)
{
  AneLlamaModel *m = b->m;
  gint64 group = m->n_heads / m->n_kv_heads, D = b->head, S = b->max_seq, n = b->n;
  g_autofree AneTensor **outs = g_new0 (AneTensor *, m->n_kv_heads);

  for (gint64 g = 0; g < m->n_kv_heads; g++)
    {
      AneTensor *qg, *kg, *vg, *s, *p, *o;

      qg = B (ane_graph_narrow (b->g, q, 1, g * group * D, group * D, &b->error));
      qg = B (ane_graph_reshape (b->g, qg, (const gint64[]) { 1, group, D, n }, 4, &b->error));
      kg = B (ane_graph_narrow (b->g, k, 1, g * D, D, &b->error));
      kg = B (ane_graph_reshape (b->g, kg, (const gint64[]) { 1, 1, D, S }, 4, &b->error));
      vg = B (ane_graph_narrow (b->g, v, 1, g * D, D, &b->error));
      vg = B (ane_graph_reshape (b->g, vg, (const gint64[]) { 1, 1, D, S }, 4, &b->error));
      s = B (ane_graph_matmul (b->g, kg, qg, TRUE, FALSE, &b->error));
      s = B (ane_graph_add (b->g, s, b->mask, &b->error));
      p = B (ane_graph_softmax (b->g, s, 2, &b->error));
      o = B (ane_graph_matmul (b->g, vg, p, FALSE, FALSE, &b->error));
      outs[g] = B (ane_graph_reshape (b->g, o, (const gint64[]) { 1, group * D, 1, n }, 4, &b->error));
    }
  if (b->error != NULL)
    return NULL;
  return B (ane_graph_concat (b->g, outs, (guint) m->n_kv_heads, 1, &b->error));
}

static AneTensor *
attention (Builder   *b,
           AneTensor *q,
           AneTensor *k,
           AneTensor *v)
{
  AneLlamaModel *m = b->m;
  gint64 group = m->n_heads / m->n_kv_heads, D = b->head, S = b->max_seq;
  g_autofree AneTensor **outs = g_new0 (AneTensor *, m->n_kv_heads);
  const gint64 axis_d = 2, axis_s = 3;

  for (gint64 g = 0; g < m->n_kv_heads; g++)
    {
      AneTensor *qg, *kg, *vg, *s, *p, *o;

      qg = B (ane_graph_narrow (b->g, q, 1, g * group * D, group * D, &b->error));
      qg = B (ane_graph_reshape (b->g, qg, (const gint64[]) { 1, group, D, 1 }, 4, &b->error));
      kg = B (ane_graph_narrow (b->g, k, 1, g * D, D, &b->error));
      kg = B (ane_graph_reshape (b->g, kg, (const gint64[]) { 1, 1, D, S }, 4, &b->error));
      vg = B (ane_graph_narrow (b->g, v, 1, g * D, D, &b->error));
      vg = B (ane_graph_reshape (b->g, vg, (const gint64[]) { 1, 1, D, S }, 4, &b->error));
      s = B (ane_graph_mul (b->g, qg, kg, &b->error));
      s = B (ane_graph_reduce_sum (b->g, s, &axis_d, 1, TRUE, &b->error));
      s = B (ane_graph_add (b->g, s, b->mask, &b->error));
      p = B (ane_graph_softmax (b->g, s, 3, &b->error));
      o = B (ane_graph_mul (b->g, p, vg, &b->error));
      o = B (ane_graph_reduce_sum (b->g, o, &axis_s, 1, TRUE, &b->error));
      outs[g] = B (ane_graph_reshape (b->g, o, (const gint64[]) { 1, group * D, 1, 1 }, 4, &b->error));
    }
  if (b->error != NULL)
    return NULL;
  return B (ane_graph_concat (b->g, outs, (guint) m->n_kv_heads, 1, &b->error));
}

static AneTensor *
layer (Builder   *b,
       AneTensor *x,
       gint64     l)
{
  AneLlamaModel *m = b->m;
  g_autofree char *wq = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".wq", l);
  g_autofree char *wk = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".wk", l);
  g_autofree char *wv = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".wv", l);
  g_autofree char *bq = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".bq", l);
  g_autofree char *bk = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".bk", l);
  g_autofree char *bv = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".bv", l);
  g_autofree char *wo = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".wo", l);
  g_autofree char *bo = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".bo", l);   /* HF attention_bias */
  g_autofree char *w1 = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".w1", l);
  g_autofree char *w2 = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".w2", l);
  g_autofree char *w3 = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".w3", l);
  g_autofree char *att_norm = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".attention_norm", l);
  g_autofree char *ffn_norm = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".ffn_norm", l);
  g_autofree char *kname = g_strdup_printf ("k_cache_%" G_GINT64_FORMAT, l);
  g_autofree char *vname = g_strdup_printf ("v_cache_%" G_GINT64_FORMAT, l);
  double scale = 1.0 / sqrt ((double) b->head);
  AneTensor *xn, *q, *k, *v, *kc, *vc, *att, *o, *h1, *h3, *h;

  xn = rms_norm (b, x, att_norm);
  if (m->qk_norm)
    {
      g_autofree char *qn = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".q_norm", l);
      g_autofree char *kn = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".k_norm", l);

      q = rope (b, head_rms_norm (b, conv1x1 (b, xn, wq, bq, TRUE, 1.0), m->n_heads, qn, scale), m->n_heads);
      k = rope (b, head_rms_norm (b, conv1x1 (b, xn, wk, bk, TRUE, 1.0), m->n_kv_heads, kn, 1.0), m->n_kv_heads);
    }
  else
    {
      q = rope (b, conv1x1 (b, xn, wq, bq, TRUE, scale), m->n_heads);
      k = rope (b, conv1x1 (b, xn, wk, bk, TRUE, 1.0), m->n_kv_heads);
    }
  v = conv1x1 (b, xn, wv, bv, FALSE, 1.0);
  kc = update_cache (b, kname, k);
  vc = update_cache (b, vname, v);
  att = b->n == 1 ? attention (b, q, kc, vc) : attention_n (b, q, kc, vc);
  o = conv1x1 (b, att, wo, bo, FALSE, 1.0);
  x = B (ane_graph_add (b->g, x, o, &b->error));

  xn = rms_norm (b, x, ffn_norm);
  h1 = conv1x1 (b, xn, w1, NULL, FALSE, 1.0);
  h3 = conv1x1 (b, xn, w3, NULL, FALSE, 1.0);
  /* SwiGLU; Gemma's GeGLU takes the tanh GELU */
  if (m->gelu_tanh)
    h = B (ane_graph_gelu (b->g, h1, ANE_GELU_TANH, &b->error));
  else
    h = B (ane_graph_silu (b->g, h1, &b->error));
  h = B (ane_graph_mul (b->g, h, h3, &b->error));
  o = conv1x1 (b, h, w2, NULL, FALSE, 1.0);
  return B (ane_graph_add (b->g, x, o, &b->error));
}

/* A [1, rows, 1, 1] table of digit (0: i / 128, 1: i % 128) of each row
 * index i, as a param. */
static AneTensor *
index_digits (Builder *b,
              gint64   rows,
              int      digit,
              gint64   part)
{
  g_autofree float *v = g_new (float, rows);
  g_autofree char *name = g_strdup_printf ("argmax.%s%" G_GINT64_FORMAT, digit == 0 ? "high" : "low", part);

  for (gint64 i = 0; i < rows; i++)
    v[i] = (float) (digit == 0 ? i / ARGMAX_BASE : i % ARGMAX_BASE);
  return float_param (b, name, (const gint64[]) { 1, rows, 1, 1 }, 4, v, (gsize) rows);
}

/* The smallest digit (a [1, rows, 1, 1] table) among the rows where hit
 * ([1, rows, 1, n], 1 or 0) is 1: base - max(hit · (base - digit)), each
 * term an integer of at most 128, exact in float16. */
static AneTensor *
smallest_digit (Builder   *b,
                AneTensor *hit,
                AneTensor *digits)
{
  const gint64 channels = 1;
  AneTensor *base = B (ane_graph_scalar (b->g, ANE_DTYPE_FLOAT32, ARGMAX_BASE, &b->error));
  AneTensor *score = B (ane_graph_sub (b->g, base, digits, &b->error));

  score = B (ane_graph_mul (b->g, hit, score, &b->error));
  score = B (ane_graph_reduce_max (b->g, score, &channels, 1, TRUE, &b->error));
  return B (ane_graph_sub (b->g, base, score, &b->error));
}

/* The arg-max of one part of the classifier, logits [1, rows, 1, n], as
 * outputs argmax_idx<suffix> ([1, 2, 1, n]: the index within the part as
 * two base-128 digits, high then low) and argmax_val<suffix> (the largest
 * logit, [1, 1, 1, n]).
 *
 * Anemll's in-model arg-max (--argmax) returns the local winner and its
 * value per LM-head chunk and lets the host pick among chunks
 * (docs/RELEASE_NOTES_0.3.5.md, "In-Model Argmax", zkh2016/Anemll @4e77d00,
 * a mirror of Anemll 0.3.5). Written as reduce_argmax or topk, the index
 * is an int32 tensor, which the lint places off the Neural Engine (rule
 * int-compute: integer ops fall back, Anemll anemll/utils/ANE_PROFILER.md
 * "Common GPU Fallback Operations"). This form uses float16 arithmetic
 * only, which stays on it:
 *
 * - m = max over the rows; d = m - logits is 0 exactly where a logit equals
 *   m (two different float16 numbers differ by 2^-24 at least, the
 *   smallest subnormal), so min(d · 4096 · 4096, 1) is 0 there and 1
 *   elsewhere, and hit = 1 - that marks the maxima;
 * - an index up to 16383 is not exact in float16 (integers are up to 2048:
 *   an 11-bit significand), so it is found as two base-128 digits, each
 *   the smallest among the candidates left (smallest_digit): the high
 *   digit among the maxima, then the low digit among the maxima of that
 *   high digit. The lowest index wins a tie, as the host's greedy pick
 *   over the logits takes the first maximum. */
static void
argmax_outputs (Builder    *b,
                AneTensor  *logits,
                gint64      rows,
                const char *suffix,
                gint64      part)
{
  const gint64 channels = 1;
  g_autofree char *iname = g_strconcat ("argmax_idx", suffix, NULL);
  g_autofree char *vname = g_strconcat ("argmax_val", suffix, NULL);
  AneTensor *high = index_digits (b, rows, 0, part), *low = index_digits (b, rows, 1, part);
  AneTensor *one = B (ane_graph_scalar (b->g, ANE_DTYPE_FLOAT32, 1.0, &b->error));
  AneTensor *scale = B (ane_graph_scalar (b->g, ANE_DTYPE_FLOAT32, 4096.0, &b->error));
  AneTensor *m, *d, *hit, *h, *same, *l, *digits[2];

  m = B (ane_graph_reduce_max (b->g, logits, &channels, 1, TRUE, &b->error));
  d = B (ane_graph_sub (b->g, m, logits, &b->error));
  d = B (ane_graph_mul (b->g, d, scale, &b->error));
  d = B (ane_graph_mul (b->g, d, scale, &b->error));
  d = B (ane_graph_minimum (b->g, d, one, &b->error));
  hit = B (ane_graph_sub (b->g, one, d, &b->error));
  h = smallest_digit (b, hit, high);
  /* the maxima whose high digit is h: |digit - h| is an integer */
  same = B (ane_graph_sub (b->g, high, h, &b->error));
  same = B (ane_graph_abs (b->g, same, &b->error));
  same = B (ane_graph_minimum (b->g, same, one, &b->error));
  same = B (ane_graph_sub (b->g, one, same, &b->error));
  hit = B (ane_graph_mul (b->g, hit, same, &b->error));
  l = smallest_digit (b, hit, low);
  digits[0] = h;
  digits[1] = l;
  if (b->error != NULL)
    return;
  ane_graph_add_output (b->g, iname, B (ane_graph_concat (b->g, digits, 2, 1, &b->error)), &b->error);
  if (b->error == NULL)
    ane_graph_add_output (b->g, vname, m, &b->error);
}

/* The final norm and the classifier on x [1, dim, 1, n], as outputs: the
 * logits, or with argmax the arg-max of each part and its value. */
static void
classifier_head (Builder   *b,
                 AneTensor *x,
                 gboolean   argmax)
{
  AneLlamaModel *m = b->m;
  const char *classifier = g_hash_table_contains (m->weights, "output") ? "output" : "token_embedding";
  gint64 parts = ane_llama_ane_logits_parts (m->vocab_size);

  x = rms_norm (b, x, "final_norm");
  /* A classifier wider than the Neural Engine's 16384 channels (lint rule
   * dim-above-16384) in equal slices, one output each: Anemll splits its LM
   * head the same way (ENABLE_VACAB_SPLIT, anemll/models/llama_model.py:
   * 42-44). */
  for (gint64 p = 0, row = 0; p < parts && b->error == NULL; p++)
    {
      gint64 rows = ane_llama_ane_logits_part_rows (m->vocab_size, p);
      g_autofree char *wname = parts == 1 ? g_strdup (classifier)
                                          : g_strdup_printf ("%s.part%" G_GINT64_FORMAT, classifier, p);
      g_autofree char *suffix = parts == 1 ? g_strdup ("") : g_strdup_printf ("_%" G_GINT64_FORMAT, p);
      g_autofree char *oname = g_strconcat ("logits", suffix, NULL);
      AneTensor *k = conv_kernel_part (b, classifier, row, rows, FALSE, 1.0, wname);
      AneTensor *logits = B (ane_graph_conv (b->g, x, k, NULL, NULL, 0, NULL, 0, NULL, 0, 1, &b->error));

      if (argmax)
        argmax_outputs (b, logits, rows, suffix, p);
      else if (b->error == NULL)
        ane_graph_add_output (b->g, oname, logits, &b->error);
      row += rows;
    }
}

/* The step of n tokens over layers [first, first + n_layers), from the
 * embedding (or the hidden state a previous chunk gave) to the logits when
 * with_head, else to the hidden state `hidden` [1, dim, 1, n]. */
static AneGraph *
build (AneLlamaModel       *self,
       gint64               n,
       gint64               max_seq,
       gint64               first,
       gint64               n_layers,
       AneLlamaHead         head_kind,
       AneLlamaCacheWrite   cache_write,
       GError             **error)
{
  gboolean with_head = head_kind != ANE_LLAMA_HEAD_NONE;
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(GPtrArray) keep_arr = g_ptr_array_new_with_free_func (g_object_unref);
  Builder bb = { 0 }, *b = &bb;
  gint64 head;
  AneTensor *x;

  if (max_seq <= 0 || max_seq > self->seq_len)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: cache length %" G_GINT64_FORMAT " is outside [1, %" G_GINT64_FORMAT "]",
                   self->path, max_seq, self->seq_len);
      return NULL;
    }
  if (n <= 0 || n > max_seq)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: %" G_GINT64_FORMAT " tokens per call is outside [1, %" G_GINT64_FORMAT "] (the cache)",
                   self->path, n, max_seq);
      return NULL;
    }
  if (first < 0 || n_layers < 0 || first + n_layers > self->n_layers || (n_layers == 0 && !with_head))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: layers %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT " are outside the model's %" G_GINT64_FORMAT
                   " (or the chunk is empty)", self->path, first, first + n_layers - 1, self->n_layers);
      return NULL;
    }
  head = ane_llama_head (self);
  graph = ane_graph_new ();
  b->m = self;
  b->g = graph;
  b->keep = keep_arr;
  b->head = head;
  b->n = n;
  b->max_seq = max_seq;
  b->cache_write = cache_write;

  x = B (ane_graph_input (graph, "x", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, self->dim, 1, n }, 4, &b->error));
  /* a chunk of the classifier alone takes the hidden state only */
  if (n_layers > 0)
    {
      b->cos = B (ane_graph_input (graph, "rope_cos", ANE_DTYPE_FLOAT32,
                                   (const gint64[]) { 1, self->n_heads * head, 1, n }, 4, &b->error));
      b->sin = B (ane_graph_input (graph, "rope_sin", ANE_DTYPE_FLOAT32,
                                   (const gint64[]) { 1, self->n_heads * head, 1, n }, 4, &b->error));
      if (n == 1)
        b->mask = B (ane_graph_input (graph, "mask", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 1, 1, max_seq }, 4,
                                      &b->error));
      else
        b->mask = B (ane_graph_input (graph, "mask", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 1, max_seq, n }, 4,
                                      &b->error));
      if (cache_write == ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE)
        {
          b->write_begin = B (ane_graph_input (graph, "write_begin", ANE_DTYPE_INT32, (const gint64[]) { 4 }, 1,
                                               &b->error));
          b->write_end = B (ane_graph_input (graph, "write_end", ANE_DTYPE_INT32, (const gint64[]) { 4 }, 1,
                                             &b->error));
        }
      else
        {
          b->write = B (ane_graph_input (graph, "write", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 1, 1, max_seq }, 4,
                                         &b->error));
          if (n > 1)
            b->place = B (ane_graph_input (graph, "place", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 1, n, max_seq },
                                           4, &b->error));
        }
    }
  for (gint64 l = first; l < first + n_layers; l++)
    {
      g_autofree char *scope = g_strdup_printf ("layers.%" G_GINT64_FORMAT, l);

      if (b->error == NULL)
        ane_graph_push_scope (graph, scope);
      x = layer (b, x, l);
      if (b->error == NULL)
        ane_graph_pop_scope (graph);
    }
  if (with_head)
    classifier_head (b, x, head_kind == ANE_LLAMA_HEAD_ARGMAX);
  else if (b->error == NULL)
    ane_graph_add_output (graph, "hidden", x, &b->error);
  if (b->error != NULL)
    {
      g_propagate_prefixed_error (error, b->error, "%s: building the Neural Engine %s graph: ", self->path,
                                  n == 1 ? "decode" : "prefill");
      return NULL;
    }
  return g_steal_pointer (&graph);
}

/**
 * ane_llama_model_build_ane_decode:
 * @self: a model
 * @max_seq: the capacity of the key/value caches, in tokens
 * @error: return location for a #GError
 *
 * Builds the one-token decode step in the Neural Engine's layout: the
 * model's maths as [method@Ane.LlamaModel.build_decode], written as the
 * projects that keep LLMs on the Neural Engine write it (channels-first
 * `[1, C, 1, S]` activations, 1×1 convolutions, per-head attention without
 * transposes, RMSNorm as a layer norm, the key/value caches as float16
 * states `[1, n_kv_heads·head, 1, max_seq]`; `docs/ane-lowering.md` has each
 * rewrite and its source). What needs integer maths or a table lookup is
 * done by the caller ([method@Ane.LlamaModel.ane_decode_inputs]), so that
 * every operation can stay on the Neural Engine: the inputs are
 *
 * - `x`: the token's embedding, float32 `[1, dim, 1, 1]`;
 * - `rope_cos`, `rope_sin`: float32 `[1, n_heads·head, 1, 1]`, the cosine
 *   and the signed sine of the token's rotary angles per channel, halves of
 *   each head paired (GPT-NeoX order);
 * - `mask`: float32 `[1, 1, 1, max_seq]`, 0 for the cache rows up to the
 *   position and -1e4 after;
 * - `write_begin`, `write_end`: int32 `[4]`, the box of the caches the
 *   step's key and value go to, `[0, 0, 0, position]` and
 *   `[1, n_kv_heads·head, 1, position + 1]`, written with `slice_update`
 *   (iOS18; the program does no integer maths).
 *
 * The output is `logits`, float32 `[1, vocab_size, 1, 1]`, or its parts
 * `logits_0`, `logits_1`… for a classifier wider than 16384 channels.
 * Weights stored block-quantized are dequantized into the graph. For the
 * caches written with float inputs only (the private path, targets before
 * iOS18) see [method@Ane.LlamaModel.build_ane_step].
 *
 * Returns: (transfer full): the graph, or %NULL with @error set
 *
 * Since: 0.2
 */
AneGraph *
ane_llama_model_build_ane_decode (AneLlamaModel  *self,
                                  gint64          max_seq,
                                  GError        **error)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return build (self, 1, max_seq, 0, self->n_layers, ANE_LLAMA_HEAD_LOGITS, ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE,
                error);
}

/**
 * ane_llama_model_build_ane_prefill:
 * @self: a model
 * @n_tokens: the tokens each call takes (2 or more; a multiple of 32 keeps
 *   the last axis aligned)
 * @max_seq: the capacity of the key/value caches, in tokens
 * @error: return location for a #GError
 *
 * Builds the prompt step in the Neural Engine's layout: @n_tokens tokens in
 * one call write their keys and values into the same caches as
 * [method@Ane.LlamaModel.build_ane_decode] (same state names and shapes, so
 * the decode step continues where it stops) and give their logits. The
 * inputs are those of the decode step with @n_tokens on the last axis —
 * `x` `[1, dim, 1, n]`, `rope_cos` and `rope_sin` `[1, n_heads·head, 1, n]`,
 * `mask` `[1, 1, max_seq, n]` (cache row by query), `write_begin`
 * `[0, 0, 0, start]` and `write_end` `[1, n_kv_heads·head, 1, start + n]`:
 * the whole block of @n_tokens rows is written, padding included (rows
 * after the prompt that no query sees until a later step writes them
 * again); see [method@Ane.LlamaModel.ane_prefill_inputs]. The output is
 * `logits` `[1, vocab_size, 1, n]`.
 *
 * Returns: (transfer full): the graph, or %NULL with @error set
 *
 * Since: 0.2
 */
AneGraph *
ane_llama_model_build_ane_prefill (AneLlamaModel  *self,
                                   gint64          n_tokens,
                                   gint64          max_seq,
                                   GError        **error)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (n_tokens < 2)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: a prefill step takes 2 or more tokens (got %" G_GINT64_FORMAT "); one token is the "
                   "decode step", self->path, n_tokens);
      return NULL;
    }
  return build (self, n_tokens, max_seq, 0, self->n_layers, ANE_LLAMA_HEAD_LOGITS, ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE,
                error);
}

/**
 * ane_llama_model_build_ane_chunk:
 * @self: a model
 * @n_tokens: tokens per call: 1 for a decode step, more for a prefill
 * @max_seq: the capacity of the key/value caches, in tokens
 * @first_layer: the first layer of the chunk
 * @n_layers: how many layers it holds (0 for the classifier alone)
 * @with_head: whether the chunk ends with the final norm and the classifier
 * @error: return location for a #GError
 *
 * A part of [method@Ane.LlamaModel.build_ane_decode] (@n_tokens 1) or
 * [method@Ane.LlamaModel.build_ane_prefill]: layers @first_layer to
 * @first_layer + @n_layers - 1, for a model whose weights are more than one
 * program should hold (the Neural Engine's SRAM budget, the lint's
 * `weights-over-sram`; Anemll splits models the same way). The inputs are
 * those of the whole step, `x` being the embedding for the first chunk and
 * the previous chunk's `hidden` output for the others; the output is
 * `hidden` `[1, dim, 1, n_tokens]`, or `logits` when @with_head. Each chunk
 * holds the caches of its own layers; run them in order for every step.
 *
 * Returns: (transfer full): the graph, or %NULL with @error set
 *
 * Since: 0.2
 */
AneGraph *
ane_llama_model_build_ane_chunk (AneLlamaModel  *self,
                                 gint64          n_tokens,
                                 gint64          max_seq,
                                 gint64          first_layer,
                                 gint64          n_layers,
                                 gboolean        with_head,
                                 GError        **error)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return build (self, n_tokens, max_seq, first_layer, n_layers,
                with_head ? ANE_LLAMA_HEAD_LOGITS : ANE_LLAMA_HEAD_NONE, ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE,
                error);
}

/**
 * ane_llama_model_build_ane_step:
 * @self: a model
 * @n_tokens: tokens per call: 1 for a decode step, more for a prefill
 * @max_seq: the capacity of the key/value caches, in tokens
 * @first_layer: the first layer of the step
 * @n_layers: how many layers it holds (0 for the classifier alone)
 * @head: what the step ends with: %ANE_LLAMA_HEAD_NONE for the hidden
 *   state another chunk continues from, %ANE_LLAMA_HEAD_LOGITS for the
 *   logits, %ANE_LLAMA_HEAD_ARGMAX for the arg-max of the logits
 * @cache_write: how the caches are written
 * @error: return location for a #GError
 *
 * [method@Ane.LlamaModel.build_ane_chunk] with everything chosen: the head
 * and the way the step writes its key/value caches.
 *
 * With %ANE_LLAMA_HEAD_ARGMAX the step returns, per part of the
 * classifier (one part up to 16384 tokens, see [enum@Ane.LlamaHead]),
 * `argmax_idx` (the index of the largest logit within the part, as two
 * base-128 digits) and `argmax_val` (that logit): a greedy decoder reads
 * two numbers per part instead of the whole vocabulary (Anemll's
 * `--argmax`). The index is computed in float16 arithmetic, so the lint
 * keeps it on the Neural Engine.
 *
 * %ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE is what the other builders write.
 * %ANE_LLAMA_CACHE_WRITE_ONE_HOT takes float inputs only, in place of
 * `write_begin` and `write_end`: `write`, float32 `[1, 1, 1, max_seq]` (1
 * on the rows written), and for @n_tokens above 1 `place`, float32
 * `[1, 1, n_tokens, max_seq]` (token i to its row). Use it where
 * `slice_update` or an int32 input cannot go: the Neural Engine's private
 * path ([enum@Ane.Backend] `ANE`, which binds float16 surfaces only) and
 * targets before iOS18. [method@Ane.LlamaModel.ane_step_inputs] computes
 * the inputs of either form.
 *
 * Returns: (transfer full): the graph, or %NULL with @error set
 *
 * Since: 0.2
 */
AneGraph *
ane_llama_model_build_ane_step (AneLlamaModel       *self,
                                gint64               n_tokens,
                                gint64               max_seq,
                                gint64               first_layer,
                                gint64               n_layers,
                                AneLlamaHead         head,
                                AneLlamaCacheWrite   cache_write,
                                GError             **error)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (head <= ANE_LLAMA_HEAD_ARGMAX, NULL);
  g_return_val_if_fail (cache_write == ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE ||
                        cache_write == ANE_LLAMA_CACHE_WRITE_ONE_HOT, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return build (self, n_tokens, max_seq, first_layer, n_layers, head, cache_write, error);
}

gint64
ane_llama_ane_logits_parts (gint64 vocab)
{
  return (vocab + MAX_CHANNELS - 1) / MAX_CHANNELS;
}

gint64
ane_llama_ane_logits_part_rows (gint64 vocab,
                                gint64 part)
{
  gint64 parts = ane_llama_ane_logits_parts (vocab), row = 0, rows = 0;

  /* equal slices, the first ones a row longer when vocab does not divide */
  for (gint64 p = 0; p <= part; p++)
    {
      rows = (vocab - row + (parts - p) - 1) / (parts - p);
      row += rows;
    }
  return rows;
}

gboolean
ane_llama_ane_argmax_column (GPtrArray  *outputs,
                             gint64      vocab,
                             gint64      n_step,
                             gint64      column,
                             gint32     *token,
                             GError    **error)
{
  gint64 parts = ane_llama_ane_logits_parts (vocab), row = 0;
  float best = 0.0f;

  if (outputs->len != (guint) (2 * parts) || column < 0 || column >= n_step)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "the step gave %u output(s), an arg-max head of "
                   "%" G_GINT64_FORMAT " part(s) gives %" G_GINT64_FORMAT, outputs->len, parts, 2 * parts);
      return FALSE;
    }
  *token = -1;
  for (gint64 p = 0; p < parts; p++)
    {
      gsize ni = 0, nv = 0;
      g_autofree float *idx = ane_tensor_dup_floats (g_ptr_array_index (outputs, 2 * p), &ni, error);
      g_autofree float *val = idx != NULL ? ane_tensor_dup_floats (g_ptr_array_index (outputs, 2 * p + 1), &nv, error)
                                          : NULL;
      gint64 rows = ane_llama_ane_logits_part_rows (vocab, p);
      float high, low;
      gint64 local;

      if (val == NULL)
        return FALSE;
      if ((gint64) ni != 2 * n_step || (gint64) nv != n_step)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "arg-max part %" G_GINT64_FORMAT " holds %"
                       G_GSIZE_FORMAT " and %" G_GSIZE_FORMAT " values, not two digits and a value per token of %"
                       G_GINT64_FORMAT, p, ni, nv, n_step);
          return FALSE;
        }
      /* [1, 2, 1, n_step]: the high digits, then the low ones */
      high = idx[column];
      low = idx[n_step + column];
      local = (gint64) high * ARGMAX_BASE + (gint64) low;
      if (!(high >= 0.0f && high < ARGMAX_BASE && low >= 0.0f && low < ARGMAX_BASE) || high != floorf (high) ||
          low != floorf (low) || local >= rows)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "arg-max part %" G_GINT64_FORMAT " gave digits "
                       "%g, %g: no index within its %" G_GINT64_FORMAT " rows (logits not finite?)", p, high, low,
                       rows);
          return FALSE;
        }
      /* strictly greater: on a tie the earlier part, as the host's greedy
       * pick over the whole vocabulary takes the first maximum */
      if (*token < 0 || val[column] > best)
        {
          best = val[column];
          *token = (gint32) (row + local);
        }
      row += rows;
    }
  return TRUE;
}

gboolean
ane_llama_ane_logits_column (GPtrArray  *outputs,
                             gint64      vocab,
                             gint64      n_step,
                             gint64      column,
                             float      *logits,
                             GError    **error)
{
  gint64 parts = ane_llama_ane_logits_parts (vocab), filled = 0;

  if (outputs->len < (guint) parts)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "the step gave %u output(s), the classifier "
                   "has %" G_GINT64_FORMAT " part(s)", outputs->len, parts);
      return FALSE;
    }
  for (gint64 p = 0; p < parts; p++)
    {
      gsize n;
      g_autofree float *all = ane_tensor_dup_floats (g_ptr_array_index (outputs, p), &n, error);
      gint64 rows;

      if (all == NULL)
        return FALSE;
      rows = (gint64) n / n_step;
      if (rows * n_step != (gint64) n || filled + rows > vocab)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "logits part %" G_GINT64_FORMAT " holds %"
                       G_GSIZE_FORMAT " values, not rows of %" G_GINT64_FORMAT " tokens within the vocabulary",
                       p, n, n_step);
          return FALSE;
        }
      /* [1, rows, 1, n_step]: the token column of each row */
      for (gint64 v = 0; v < rows; v++)
        logits[filled + v] = all[v * n_step + column];
      filled += rows;
    }
  if (filled != vocab)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "the logits parts hold %" G_GINT64_FORMAT
                   " rows, the vocabulary %" G_GINT64_FORMAT, filled, vocab);
      return FALSE;
    }
  return TRUE;
}

/* Row token of an embedding table as floats (dequantized if stored in
 * blocks); the table has been checked to hold vocab_size rows of dim. */
static gboolean
embedding_row (const AneLlamaAneHost  *host,
               gint32                  token,
               float                  *x,
               GError                **error)
{
  if (ane_dtype_is_block (host->dtype))
    {
      gsize row_bytes = (gsize) host->dim / ane_dtype_block_size (host->dtype) * ane_dtype_block_bytes (host->dtype);

      return ane_dequant_blocks_f32 (host->dtype, host->table + (gsize) token * row_bytes, row_bytes,
                                     (gsize) host->dim, x, error);
    }
  else
    {
      g_autofree double *row = g_new (double, host->dim);

      ane_dtype_decode (host->dtype, host->table + (gsize) token * (gsize) host->dim * ane_dtype_size (host->dtype),
                        (gsize) host->dim, row);
      for (gint64 i = 0; i < host->dim; i++)
        x[i] = (float) row[i];
      return TRUE;
    }
}

static gboolean
add_input (GPtrArray     *inputs,
           const char    *name,
           const gint64  *shape,
           const float   *values,
           GError       **error)
{
  gsize n = (gsize) (shape[0] * shape[1] * shape[2] * shape[3]);
  AneTensor *t = ane_tensor_new_from_floats (name, shape, 4, values, n, error);

  if (t == NULL)
    return FALSE;
  g_ptr_array_add (inputs, t);
  return TRUE;
}

static gboolean
add_int_input (GPtrArray     *inputs,
               const char    *name,
               const gint32  *values,
               GError       **error)
{
  AneTensor *t = ane_tensor_new_from_ints (name, (const gint64[]) { 4 }, 1, values, 4, error);

  if (t == NULL)
    return FALSE;
  g_ptr_array_add (inputs, t);
  return TRUE;
}

/* The inputs of a step of n tokens (n_real of them real, the rest padding)
 * written from cache row start on: the one computation of the host's side
 * of the Neural Engine layout, for a model in memory
 * (ane_llama_model_ane_*_inputs) and for a converted directory
 * (ane-llama-dir.c). The box a slice_update step writes is checked here, so
 * that the program needs no clamp: it holds the whole step, padding
 * included, and must lie inside the cache; begin and end fit int32 because
 * the cache length does (the graph's shapes are int32 in MIL). */
GPtrArray *
ane_llama_ane_step_inputs (const AneLlamaAneHost  *host,
                           const gint32           *tokens,
                           gint64                  n_real,
                           gint64                  start,
                           gint64                  n,
                           gint64                  max_seq,
                           GError                **error)
{
  g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 head = host->head > 0 ? host->head : host->dim / host->n_heads, width = host->n_heads * head;
  g_autofree float *row = g_new (float, host->dim);
  g_autofree float *x = g_new0 (float, host->dim * n);
  g_autofree float *cos_v = g_new0 (float, width * n);
  g_autofree float *sin_v = g_new0 (float, width * n);
  g_autofree float *mask = g_new (float, max_seq * n);
  gboolean one_hot = host->cache_write == ANE_LLAMA_CACHE_WRITE_ONE_HOT;
  g_autofree float *write = one_hot ? g_new0 (float, max_seq) : NULL;
  g_autofree float *place = one_hot && n > 1 ? g_new0 (float, n * max_seq) : NULL;

  if (n_real < 1 || n_real > n || start < 0 || start + n_real > max_seq || max_seq > G_MAXINT32)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: %" G_GINT64_FORMAT " token(s) at position %" G_GINT64_FORMAT " do not fit a step of %"
                   G_GINT64_FORMAT " in a cache of %" G_GINT64_FORMAT, host->what, n_real, start, n, max_seq);
      return NULL;
    }
  if (!one_hot && start + n > max_seq)
    {
      /* slice_update writes all n rows: a padded block past the end would
       * be a box outside the cache (the caller starts the last block at
       * max_seq - n instead, see ane-llama-dir.c run_prefill) */
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: a step of %" G_GINT64_FORMAT " tokens at position %" G_GINT64_FORMAT " writes rows %"
                   G_GINT64_FORMAT "..%" G_GINT64_FORMAT ", past the cache of %" G_GINT64_FORMAT " (start the block "
                   "at %" G_GINT64_FORMAT " at the latest)", host->what, n, start, start, start + n - 1, max_seq,
                   max_seq - n);
      return NULL;
    }
  if (host->n_kv_heads < 1 || host->n_heads % host->n_kv_heads != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "%s: %" G_GINT64_FORMAT " key/value heads do not "
                   "divide %" G_GINT64_FORMAT " heads", host->what, host->n_kv_heads, host->n_heads);
      return NULL;
    }
  for (gint64 i = 0; i < n_real; i++)
    {
      gint64 position = start + i;

      if (tokens[i] < 0 || tokens[i] >= host->vocab_size)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "%s: token %d at position %" G_GINT64_FORMAT " is outside the vocabulary (%" G_GINT64_FORMAT
                       ")", host->what, tokens[i], position, host->vocab_size);
          return NULL;
        }
      if (!embedding_row (host, tokens[i], row, error))
        return NULL;
      for (gint64 c = 0; c < host->dim; c++)
        x[c * n + i] = row[c];
      /* Gemma's scaled embedding, in float32 as the generic graph's mul */
      if (host->embed_scale > 0.0)
        for (gint64 c = 0; c < host->dim; c++)
          x[c * n + i] = row[c] * (float) host->embed_scale;
      /* angle k of a head: position · base^(-2k/D), on channels k and
       * k + D/2; rotate-half's sign goes on the first half's sine */
      for (gint64 c = 0; c < width; c++)
        {
          gint64 d = c % head, k = d % (head / 2);
          double angle = host->rope_inv_freq != NULL
                         ? (double) position * (double) host->rope_inv_freq[k]
                         : (double) position * pow (host->rope_base, -2.0 * (double) k / (double) head);

          cos_v[c * n + i] = (float) cos (angle);
          sin_v[c * n + i] = (float) (d < head / 2 ? -sin (angle) : sin (angle));
        }
      if (write != NULL)
        write[position] = 1.0f;
      if (place != NULL)
        place[i * max_seq + position] = 1.0f;
    }
  /* cache row s is visible to query i when s <= start + i; padding queries
   * see nothing (their uniform softmax is never read) */
  for (gint64 s = 0; s < max_seq; s++)
    for (gint64 i = 0; i < n; i++)
      mask[s * n + i] = i < n_real && s <= start + i ? 0.0f : (float) MASK_VALUE;

  if (!add_input (inputs, "x", (const gint64[]) { 1, host->dim, 1, n }, x, error) ||
      !add_input (inputs, "rope_cos", (const gint64[]) { 1, width, 1, n }, cos_v, error) ||
      !add_input (inputs, "rope_sin", (const gint64[]) { 1, width, 1, n }, sin_v, error) ||
      !add_input (inputs, "mask", n == 1 ? (const gint64[]) { 1, 1, 1, max_seq } : (const gint64[]) { 1, 1, max_seq, n },
                  mask, error))
    return NULL;
  if (one_hot)
    {
      if (!add_input (inputs, "write", (const gint64[]) { 1, 1, 1, max_seq }, write, error) ||
          (place != NULL && !add_input (inputs, "place", (const gint64[]) { 1, 1, n, max_seq }, place, error)))
        return NULL;
    }
  else
    {
      /* the box of every cache [1, n_kv_heads·head, 1, max_seq] the step's
       * rows go to (pass 7) */
      const gint32 begin[4] = { 0, 0, 0, (gint32) start };
      const gint32 end[4] = { 1, (gint32) (host->n_kv_heads * head), 1, (gint32) (start + n) };

      if (!add_int_input (inputs, "write_begin", begin, error) || !add_int_input (inputs, "write_end", end, error))
        return NULL;
    }
  return g_steal_pointer (&inputs);
}

/* The model's side of ane_llama_ane_step_inputs. */
static GPtrArray *
step_inputs (AneLlamaModel       *self,
             AneLlamaCacheWrite   cache_write,
             const gint32        *tokens,
             gint64          n_real,
             gint64          start,
             gint64          n,
             gint64          max_seq,
             GError        **error)
{
  AneTensor *table = g_hash_table_lookup (self->weights, "token_embedding");
  AneLlamaAneHost host = {
    .table = g_bytes_get_data (ane_tensor_get_data (table), NULL),
    .dtype = ane_tensor_get_dtype (table),
    .dim = self->dim,
    .n_heads = self->n_heads,
    .n_kv_heads = self->n_kv_heads,
    .vocab_size = self->vocab_size,
    .rope_base = self->rope_base,
    .what = self->path,
    .cache_write = cache_write,
    .head = ane_llama_head (self),
    .embed_scale = self->embed_scale,
    .rope_inv_freq = self->rope_inv_freq,
  };

  return ane_llama_ane_step_inputs (&host, tokens, n_real, start, n, max_seq, error);
}

/**
 * ane_llama_model_ane_decode_inputs:
 * @self: a model
 * @token: the token fed at this step
 * @position: its position, from 0
 * @max_seq: the cache length the graph was built with
 * @error: return location for a #GError
 *
 * The inputs of one step of [method@Ane.LlamaModel.build_ane_decode]:
 * `x` (the token's embedding row, dequantized if stored in blocks),
 * `rope_cos` and `rope_sin` (angle `position · rope_base^(-2k/head)` of
 * pair k, on channels k and k + head/2 of every head; the sine negated on
 * the first half), `mask` (0 up to @position, -1e4 after), `write_begin`
 * and `write_end` (int32 `[0, 0, 0, position]` and
 * `[1, n_kv_heads·head, 1, position + 1]`: the box of the caches written),
 * in the graph's input order, ready for [method@Ane.Executable.run]. Feed
 * positions in order from 0 after resetting the states.
 *
 * Returns: (transfer container) (element-type AneTensor): the six inputs,
 *   or %NULL with %ANE_ERROR_INVALID_ARGUMENT if @token is outside the
 *   vocabulary or @position outside the cache
 *
 * Since: 0.2
 */
GPtrArray *
ane_llama_model_ane_decode_inputs (AneLlamaModel  *self,
                                   gint32          token,
                                   gint64          position,
                                   gint64          max_seq,
                                   GError        **error)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return step_inputs (self, ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE, &token, 1, position, 1, max_seq, error);
}

/**
 * ane_llama_model_ane_prefill_inputs:
 * @self: a model
 * @tokens: (array length=n_tokens): the tokens of this call
 * @n_tokens: how many; at most @n_step, the rest of the step is padding
 * @start: the position of the first, from 0
 * @n_step: the tokens per call the graph was built with
 * @max_seq: the cache length the graph was built with
 * @error: return location for a #GError
 *
 * The inputs of one call of [method@Ane.LlamaModel.build_ane_prefill]: as
 * [method@Ane.LlamaModel.ane_decode_inputs] with the tokens on the last
 * axis, `mask` `[1, 1, max_seq, n_step]` (row s visible to token i when
 * s <= @start + i), and the box written, `write_begin` `[0, 0, 0, start]`
 * and `write_end` `[1, n_kv_heads·head, 1, start + n_step]`. Padding tokens
 * see nothing; their rows, after the prompt, are written and stay hidden
 * by the mask until a later step writes them again. The whole step must
 * fit the cache (@start + @n_step ≤ @max_seq): start the last block of a
 * long prompt at @max_seq - @n_step at the latest (the rows it repeats get
 * the same values again).
 *
 * Returns: (transfer container) (element-type AneTensor): the six inputs,
 *   or %NULL with %ANE_ERROR_INVALID_ARGUMENT if a token is outside the
 *   vocabulary or the tokens do not fit the step or the step the cache
 *
 * Since: 0.2
 */
GPtrArray *
ane_llama_model_ane_prefill_inputs (AneLlamaModel  *self,
                                    const gint32   *tokens,
                                    gsize           n_tokens,
                                    gint64          start,
                                    gint64          n_step,
                                    gint64          max_seq,
                                    GError        **error)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (tokens != NULL || n_tokens == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (n_step < 2)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: a prefill step takes 2 or more tokens (got %" G_GINT64_FORMAT ")", self->path, n_step);
      return NULL;
    }
  return step_inputs (self, ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE, tokens, (gint64) n_tokens, start, n_step, max_seq,
                      error);
}

/**
 * ane_llama_model_ane_step_inputs:
 * @self: a model
 * @cache_write: how the step was built to write its caches
 * @tokens: (array length=n_tokens): the tokens of this call
 * @n_tokens: how many; at most @n_step, the rest of the step is padding
 * @start: the position of the first, from 0
 * @n_step: the tokens per call the graph was built with (1 for decode)
 * @max_seq: the cache length the graph was built with
 * @error: return location for a #GError
 *
 * The inputs of one call of a step built by
 * [method@Ane.LlamaModel.build_ane_step] with @cache_write:
 * [method@Ane.LlamaModel.ane_decode_inputs] and
 * [method@Ane.LlamaModel.ane_prefill_inputs] for either form. With
 * %ANE_LLAMA_CACHE_WRITE_ONE_HOT, `write` marks rows @start to
 * @start + @n_tokens - 1 and (for @n_step above 1) `place` sends token i to
 * row @start + i, in place of `write_begin` and `write_end`; padding tokens
 * write nothing.
 *
 * Returns: (transfer container) (element-type AneTensor): the inputs, or
 *   %NULL with %ANE_ERROR_INVALID_ARGUMENT if a token is outside the
 *   vocabulary or the tokens do not fit the step or the cache
 *
 * Since: 0.2
 */
GPtrArray *
ane_llama_model_ane_step_inputs (AneLlamaModel       *self,
                                 AneLlamaCacheWrite   cache_write,
                                 const gint32        *tokens,
                                 gsize                n_tokens,
                                 gint64               start,
                                 gint64               n_step,
                                 gint64               max_seq,
                                 GError             **error)
{
  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (cache_write == ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE ||
                        cache_write == ANE_LLAMA_CACHE_WRITE_ONE_HOT, NULL);
  g_return_val_if_fail (tokens != NULL || n_tokens == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (n_step < 1)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: a step takes 1 or more tokens (got %" G_GINT64_FORMAT ")", self->path, n_step);
      return NULL;
    }
  return step_inputs (self, cache_write, tokens, (gint64) n_tokens, start, n_step, max_seq, error);
}
