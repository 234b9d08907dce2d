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
 *    apple/coremltools#2631); the new key and value are blended into their
 *    row by a one-hot input (cache + (new - cache)·onehot), arithmetic the
 *    Neural Engine runs, where the generic graph uses a `select`.
 *    slice_update (iOS18) writing only that row is the next step.
 * 8. The token embedding is looked up on the host (the gather has no
 *    Neural Engine kernel; Apple's DistilBERT leaves it on the CPU,
 *    apple/ml-ane-transformers README.md:89): the step takes the embedding.
 *
 * What is not done yet (issue 14): prefill of N tokens in this layout,
 * slice_update, a classifier wider than 16384 channels (refused), chunking.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "model/ane-llama-private.h"
#include "ane-reference-private.h"

/* What the causal mask adds to the scores of rows not yet written: finite,
 * as Apple's ANE attention masks (multihead_attention.py:71-74 uses -1e4),
 * so that a row's softmax never sees -inf. */
#define MASK_VALUE (-1e4)
/* The widest channel axis the Neural Engine takes (lint rule
 * dim-above-16384). */
#define MAX_CHANNELS 16384

typedef struct
{
  AneLlamaModel *m;
  AneGraph      *g;
  GPtrArray     *keep;
  GError        *error;
  gint64         head;      /* D */
  gint64         max_seq;
  AneTensor     *cos, *sin, *mask, *write;
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

/* A [out, in] weight as a conv kernel [out, in, 1, 1], rows moved to NeoX
 * order when rope is set, scaled by scale. */
static AneTensor *
conv_kernel (Builder    *b,
             const char *name,
             gboolean    rope,
             double      scale)
{
  g_autofree float *w = NULL;
  g_autofree float *k = NULL;
  AneTensor *src = g_hash_table_lookup (b->m->weights, name);
  gsize n = 0;
  gint64 out, in;
  g_autoptr(AneTensor) value = NULL;

  if (b->error != NULL)
    return NULL;
  g_assert (src != NULL && ane_tensor_get_rank (src) == 2);
  out = ane_tensor_get_dim (src, 0);
  in = ane_tensor_get_dim (src, 1);
  w = weight_floats (b, name, &n);
  if (w == NULL)
    return NULL;
  k = g_new (float, n);
  for (gint64 r = 0; r < out; r++)
    {
      gint64 to = rope ? neox_row (b, r) : r;

      for (gint64 c = 0; c < in; c++)
        k[to * in + c] = (float) (w[r * in + c] * scale);
    }
  value = ane_tensor_new_from_floats (name, (const gint64[]) { out, in, 1, 1 }, 4, k, n, &b->error);
  if (value == NULL)
    return NULL;
  return B (ane_graph_param_with_value (b->g, value, &b->error));
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
  g_autoptr(AneTensor) value = NULL;
  gsize n = 0;

  if (b->error != NULL || !g_hash_table_contains (b->m->weights, name))
    return NULL;
  v = weight_floats (b, name, &n);
  if (v == NULL)
    return NULL;
  p = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    p[rope ? neox_row (b, (gint64) i) : (gint64) i] = (float) (v[i] * scale);
  value = ane_tensor_new_from_floats (name, (const gint64[]) { (gint64) n }, 1, p, n, &b->error);
  if (value == NULL)
    return NULL;
  return B (ane_graph_param_with_value (b->g, value, &b->error));
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
  g_autoptr(AneTensor) gamma_value = NULL;
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
  gamma_value = ane_tensor_new_from_floats (gamma_name, (const gint64[]) { 2 * (gint64) n }, 1, w2, 2 * n,
                                            &b->error);
  if (gamma_value == NULL)
    return NULL;
  gamma = B (ane_graph_param_with_value (b->g, gamma_value, &b->error));
  neg = B (ane_graph_neg (b->g, x, &b->error));
  parts[0] = x;
  parts[1] = neg;
  both = b->error == NULL ? B (ane_graph_concat (b->g, parts, 2, 1, &b->error)) : NULL;
  y = B (ane_graph_layer_norm_2d (b->g, both, gamma, NULL, b->m->rms_eps, &b->error));
  return B (ane_graph_narrow (b->g, y, 1, 0, (gint64) n, &b->error));
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

/* The cache of layer l (its state named name) with row `write` set to
 * value [1, Hkv·D, 1, 1], written back; the updated cache as float32. */
static AneTensor *
update_cache (Builder    *b,
              const char *name,
              AneTensor  *value)
{
  gint64 width = b->m->n_kv_heads * b->head;
  const gint64 shape[4] = { 1, width, 1, b->max_seq };
  AneTensor *state, *old, *diff, *moved, *next, *written;

  state = B (ane_graph_state (b->g, name, ANE_DTYPE_FLOAT16, shape, 4, &b->error));
  old = B (ane_graph_read_state (b->g, state, &b->error));
  old = B (ane_graph_cast (b->g, old, ANE_DTYPE_FLOAT32, &b->error));
  diff = B (ane_graph_sub (b->g, value, old, &b->error));
  moved = B (ane_graph_mul (b->g, diff, b->write, &b->error));
  next = B (ane_graph_add (b->g, old, moved, &b->error));
  next = B (ane_graph_cast (b->g, next, ANE_DTYPE_FLOAT16, &b->error));
  written = B (ane_graph_write_state (b->g, state, next, &b->error));
  return B (ane_graph_cast (b->g, written, ANE_DTYPE_FLOAT32, &b->error));
}

/* Attention of [1, H·D, 1, 1] queries over the caches [1, Hkv·D, 1, S],
 * one KV head (and its group of query heads) at a time (pass 5). */
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
  q = rope (b, conv1x1 (b, xn, wq, bq, TRUE, scale), m->n_heads);
  k = rope (b, conv1x1 (b, xn, wk, bk, TRUE, 1.0), m->n_kv_heads);
  v = conv1x1 (b, xn, wv, bv, FALSE, 1.0);
  kc = update_cache (b, kname, k);
  vc = update_cache (b, vname, v);
  att = attention (b, q, kc, vc);
  o = conv1x1 (b, att, wo, NULL, FALSE, 1.0);
  x = B (ane_graph_add (b->g, x, o, &b->error));

  xn = rms_norm (b, x, ffn_norm);
  h1 = conv1x1 (b, xn, w1, NULL, FALSE, 1.0);
  h3 = conv1x1 (b, xn, w3, NULL, FALSE, 1.0);
  h = B (ane_graph_silu (b->g, h1, &b->error));
  h = B (ane_graph_mul (b->g, h, h3, &b->error));
  o = conv1x1 (b, h, w2, NULL, FALSE, 1.0);
  return B (ane_graph_add (b->g, x, o, &b->error));
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
 * done by the caller, so that every operation can stay on the Neural
 * Engine: the inputs are
 *
 * - `x`: the token's embedding, float32 `[1, dim, 1, 1]`;
 * - `rope_cos`, `rope_sin`: float32 `[1, n_heads·head, 1, 1]`, the cosine
 *   and the signed sine of the token's rotary angles per channel, halves of
 *   each head paired (GPT-NeoX order);
 * - `mask`: float32 `[1, 1, 1, max_seq]`, 0 for the cache rows up to the
 *   position and -1e4 after;
 * - `write`: float32 `[1, 1, 1, max_seq]`, 1 at the position, 0 elsewhere.
 *
 * The output is `logits`, float32 `[1, vocab_size, 1, 1]`. Weights stored
 * block-quantized are dequantized into the graph. A classifier wider than
 * 16384 channels is refused for now (%ANE_ERROR_UNSUPPORTED).
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
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(GPtrArray) keep_arr = g_ptr_array_new_with_free_func (g_object_unref);
  Builder bb = { 0 }, *b = &bb;
  gint64 head;
  AneTensor *x, *logits;

  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (max_seq <= 0 || max_seq > self->seq_len)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: cache length %" G_GINT64_FORMAT " is outside [1, %" G_GINT64_FORMAT "]",
                   self->path, max_seq, self->seq_len);
      return NULL;
    }
  if (self->vocab_size > MAX_CHANNELS)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: a classifier of %" G_GINT64_FORMAT " channels is wider than the Neural Engine's "
                   "%d; splitting it is not done yet", self->path, self->vocab_size, MAX_CHANNELS);
      return NULL;
    }
  head = self->dim / self->n_heads;
  graph = ane_graph_new ();
  b->m = self;
  b->g = graph;
  b->keep = keep_arr;
  b->head = head;
  b->max_seq = max_seq;

  x = B (ane_graph_input (graph, "x", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, self->dim, 1, 1 }, 4, &b->error));
  b->cos = B (ane_graph_input (graph, "rope_cos", ANE_DTYPE_FLOAT32,
                               (const gint64[]) { 1, self->n_heads * head, 1, 1 }, 4, &b->error));
  b->sin = B (ane_graph_input (graph, "rope_sin", ANE_DTYPE_FLOAT32,
                               (const gint64[]) { 1, self->n_heads * head, 1, 1 }, 4, &b->error));
  b->mask = B (ane_graph_input (graph, "mask", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 1, 1, max_seq }, 4,
                                &b->error));
  b->write = B (ane_graph_input (graph, "write", ANE_DTYPE_FLOAT32, (const gint64[]) { 1, 1, 1, max_seq }, 4,
                                 &b->error));
  for (gint64 l = 0; l < self->n_layers; l++)
    {
      g_autofree char *scope = g_strdup_printf ("layers.%" G_GINT64_FORMAT, l);

      if (b->error == NULL)
        ane_graph_push_scope (graph, scope);
      x = layer (b, x, l);
      if (b->error == NULL)
        ane_graph_pop_scope (graph);
    }
  x = rms_norm (b, x, "final_norm");
  logits = conv1x1 (b, x, g_hash_table_contains (self->weights, "output") ? "output" : "token_embedding",
                    NULL, FALSE, 1.0);
  if (b->error == NULL)
    ane_graph_add_output (graph, "logits", logits, &b->error);
  if (b->error != NULL)
    {
      g_propagate_prefixed_error (error, b->error, "%s: building the Neural Engine decode graph: ", self->path);
      return NULL;
    }
  return g_steal_pointer (&graph);
}

static AneTensor *
vector_input (const char   *name,
              const float  *values,
              gint64        n,
              gboolean      last_axis,
              GError      **error)
{
  const gint64 channels[4] = { 1, n, 1, 1 }, row[4] = { 1, 1, 1, n };

  return ane_tensor_new_from_floats (name, last_axis ? row : channels, 4, values, (gsize) n, error);
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
 * `rope_cos` and `rope_sin` (angle `position · rope_base^(-2i/head)` of
 * pair i, on channels i and i + head/2 of every head; the sine negated on
 * the first half), `mask` (0 up to @position, -1e4 after) and `write` (1 at
 * @position), in the graph's input order, ready for
 * [method@Ane.Executable.run]. Feed positions in order from 0 after
 * resetting the states.
 *
 * Returns: (transfer container) (element-type AneTensor): the five inputs,
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
  g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func (g_object_unref);
  AneTensor *table = g_hash_table_lookup (self->weights, "token_embedding");
  gint64 head = self->dim / self->n_heads, width = self->n_heads * head;
  g_autofree float *x = g_new (float, self->dim);
  g_autofree float *cos_v = g_new (float, width);
  g_autofree float *sin_v = g_new (float, width);
  g_autofree float *mask = g_new (float, max_seq);
  g_autofree float *write = g_new0 (float, max_seq);
  AneDType dtype = ane_tensor_get_dtype (table);
  GBytes *data = ane_tensor_get_data (table);
  const guint8 *bytes = g_bytes_get_data (data, NULL);
  AneTensor *t;

  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (token < 0 || token >= self->vocab_size || position < 0 || position >= max_seq)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: token %d at position %" G_GINT64_FORMAT " is outside the vocabulary (%" G_GINT64_FORMAT
                   ") or the cache (%" G_GINT64_FORMAT ")", self->path, token, position, self->vocab_size, max_seq);
      return NULL;
    }
  /* the embedding row, dequantized if it is stored in blocks */
  if (ane_dtype_is_block (dtype))
    {
      gsize row_bytes = (gsize) self->dim / ane_dtype_block_size (dtype) * ane_dtype_block_bytes (dtype);

      if (!ane_dequant_blocks_f32 (dtype, bytes + (gsize) token * row_bytes, row_bytes, (gsize) self->dim, x, error))
        return NULL;
    }
  else
    {
      g_autofree double *row = g_new (double, self->dim);

      ane_dtype_decode (dtype, bytes + (gsize) token * (gsize) self->dim * ane_dtype_size (dtype),
                        (gsize) self->dim, row);
      for (gint64 i = 0; i < self->dim; i++)
        x[i] = (float) row[i];
    }
  /* angle i of a head: position · base^(-2i/D), for channel i and i + D/2;
   * rotate-half's sign goes on the first half's sine */
  for (gint64 c = 0; c < width; c++)
    {
      gint64 d = c % head, i = d % (head / 2);
      double angle = (double) position * pow (self->rope_base, -2.0 * (double) i / (double) head);

      cos_v[c] = (float) cos (angle);
      sin_v[c] = (float) (d < head / 2 ? -sin (angle) : sin (angle));
    }
  for (gint64 j = 0; j < max_seq; j++)
    mask[j] = j <= position ? 0.0f : (float) MASK_VALUE;
  write[position] = 1.0f;

  if ((t = vector_input ("x", x, self->dim, FALSE, error)) == NULL)
    return NULL;
  g_ptr_array_add (inputs, t);
  if ((t = vector_input ("rope_cos", cos_v, width, FALSE, error)) == NULL)
    return NULL;
  g_ptr_array_add (inputs, t);
  if ((t = vector_input ("rope_sin", sin_v, width, FALSE, error)) == NULL)
    return NULL;
  g_ptr_array_add (inputs, t);
  if ((t = vector_input ("mask", mask, max_seq, TRUE, error)) == NULL)
    return NULL;
  g_ptr_array_add (inputs, t);
  if ((t = vector_input ("write", write, max_seq, TRUE, error)) == NULL)
    return NULL;
  g_ptr_array_add (inputs, t);
  return g_steal_pointer (&inputs);
}
