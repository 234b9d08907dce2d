/* ane-llama-hf.c: Hugging Face checkpoints (config.json + safetensors) as an AneLlamaModel
 *
 * A Hugging Face model directory holds config.json (the architecture's
 * hyper-parameters, transformers' PretrainedConfig.to_json_string) and its
 * weights in model.safetensors, or in shards listed by
 * model.safetensors.index.json ({"weight_map": {tensor: shard file}}).
 * The tensors keep transformers' module names (model.layers.N.self_attn.
 * q_proj.weight, ...), matrices [out, in] as torch.nn.Linear stores them,
 * so they map one to one onto the llama2.c loader's names and feed the same
 * graph builders (ane-llama.c, ane-llama-ane.c).
 *
 * RoPE. transformers' LLaMA family rotates the two halves of each head
 * (rotate_half in modeling_llama.py), and the LLaMA conversion permutes the
 * rows of q_proj and k_proj for it: convert_llama_weights_to_hf.py's
 * permute (huggingface/transformers, src/transformers/models/llama/
 * convert_llama_weights_to_hf.py:148-150 at 01cc9cd) is
 *   w.view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2)
 * so HF row h·D + t·D/2 + i is original row h·D + 2i + t: the original
 * interleaved pair (2i, 2i+1), which rotates by angle i, sits at (i, i + D/2),
 * which rotate_half rotates by the same angle i. Rotating the HF rows with
 * the GPT-NeoX pairing (ANE_ROPE_NEOX) therefore computes the very q and k
 * of the original model, each feature of a head moved by one permutation
 * shared by q and k, and q·k is a sum over the head's features, which that
 * permutation leaves unchanged. No weight is copied or un-permuted; the only
 * difference from the llama2.c path is the order of the terms of that sum.
 * Checkpoints trained in HF's layout (Mistral, Qwen, Gemma) use the same
 * rotate_half and need nothing else.
 *
 * Dtypes: F32 tensors are used as mapped; F16 matrices stay float16 (the
 * graphs widen them with a cast, as for GGUF F16); F16 vectors and every
 * BF16 tensor are converted to float32 at load (exactly: both widen without
 * rounding), since MIL has no bfloat16.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "ane-llama.h"
#include "model/ane-llama-private.h"
#include "ane-file-private.h"
#include "ane-json-private.h"
#include "ane-safetensors-private.h"

#define SUPPORTED_ARCHITECTURES "llama, mistral, qwen2, qwen3, gemma"

typedef enum {
  HF_LLAMA,
  HF_MISTRAL,
  HF_QWEN2,
  HF_QWEN3,
  HF_GEMMA,
} HfArch;

static const struct {
  const char *model_type;
  const char *class_name;   /* config.json "architectures" */
  HfArch arch;
} hf_architectures[] = {
  { "llama",   "LlamaForCausalLM",   HF_LLAMA },
  { "mistral", "MistralForCausalLM", HF_MISTRAL },
  { "qwen2",   "Qwen2ForCausalLM",   HF_QWEN2 },
  { "qwen3",   "Qwen3ForCausalLM",   HF_QWEN3 },
  { "gemma",   "GemmaForCausalLM",   HF_GEMMA },
};

/* Architectures people will try that this loader knowingly does not take,
 * with what is missing. */
static const struct {
  const char *model_type;
  const char *why;
} hf_refused[] = {
  { "gemma2", "its attention logit soft-capping, alternating sliding-window layers and "
              "post-attention/post-feed-forward norms are not implemented" },
  { "gemma3", "its sliding-window layers, q/k norms with offsets and post norms are not implemented" },
  { "gemma3_text", "its sliding-window layers, q/k norms with offsets and post norms are not implemented" },
  { "qwen2_moe", "mixture-of-experts layers are not implemented" },
  { "qwen3_moe", "mixture-of-experts layers are not implemented" },
  { "mixtral", "mixture-of-experts layers are not implemented" },
};

typedef struct {
  AneLlamaModel *model;
  const char *dir;
  const char *config_path;
  const char *arch_name;
  HfArch arch;
  AneSafetensors *single;   /* model.safetensors, or NULL */
  JsonObject *weight_map;   /* model.safetensors.index.json's, or NULL */
  GHashTable *shards;       /* shard file name → AneSafetensors */
  gboolean attention_bias;  /* q/k/v/o biases (config "attention_bias") */
  AneDType embed_dtype;     /* model.embed_tokens.weight's, as stored */
} HfLoad;

/* --- config.json ------------------------------------------------------- */

static gboolean
config_error (HfLoad      *ld,
              GError     **error,
              const char  *key,
              const char  *problem)
{
  g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: \"%s\" %s", ld->config_path, key, problem);
  return FALSE;
}

/* An integer member in [lo, hi]; fallback < 0: required. A JSON null is
 * absent (transformers writes unset options as null). */
static gboolean
config_int (HfLoad     *ld,
            JsonObject *config,
            const char *key,
            gint64      fallback,
            gint64      lo,
            gint64      hi,
            gint64     *out,
            GError    **error)
{
  JsonNode *node = json_object_get_member (config, key);
  g_autofree char *range = NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (fallback < 0)
        return config_error (ld, error, key, "is missing");
      *out = fallback;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return config_error (ld, error, key, "is not an integer");
  *out = json_node_get_int (node);
  range = g_strdup_printf ("is %" G_GINT64_FORMAT ", outside [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
                           *out, lo, hi);
  if (*out < lo || *out > hi)
    return config_error (ld, error, key, range);
  return TRUE;
}

/* A positive finite number (an integer is accepted too); fallback <= 0:
 * required. */
static gboolean
config_double (HfLoad     *ld,
               JsonObject *config,
               const char *key,
               double      fallback,
               double     *out,
               GError    **error)
{
  JsonNode *node = json_object_get_member (config, key);
  GType type;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (fallback <= 0.0)
        return config_error (ld, error, key, "is missing");
      *out = fallback;
      return TRUE;
    }
  type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  if (type == G_TYPE_DOUBLE)
    *out = json_node_get_double (node);
  else if (type == G_TYPE_INT64)
    *out = (double) json_node_get_int (node);
  else
    return config_error (ld, error, key, "is not a number");
  if (!(*out > 0.0) || !isfinite (*out))
    return config_error (ld, error, key, "is not a positive finite number");
  return TRUE;
}

static gboolean
config_bool (HfLoad     *ld,
             JsonObject *config,
             const char *key,
             gboolean    fallback,
             gboolean   *out,
             GError    **error)
{
  JsonNode *node = json_object_get_member (config, key);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      *out = fallback;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return config_error (ld, error, key, "is not true or false");
  *out = json_node_get_boolean (node);
  return TRUE;
}

/* A string member, or NULL when absent or null; FALSE when not a string. */
static gboolean
config_string (HfLoad      *ld,
               JsonObject  *config,
               const char  *key,
               const char **out,
               GError     **error)
{
  JsonNode *node = json_object_get_member (config, key);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return config_error (ld, error, key, "is not a string");
  *out = json_node_get_string (node);
  return TRUE;
}

/* Parses a JSON file whose top level is an object (config.json, the shard
 * index). */
static JsonParser *
parse_json_object (const char  *path,
                   GError     **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *text;
  gsize length;

  mapped = ane_file_map_regular (path, &local);
  if (mapped == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s", local->message);
      return NULL;
    }
  text = g_mapped_file_get_contents (mapped);
  length = g_mapped_file_get_length (mapped);
  if (!ane_json_check_depth (text, length, 0, ANE_JSON_MAX_DEPTH, path, error))
    return NULL;
  if (!json_parser_load_from_data (parser, text != NULL ? text : "", (gssize) length, &local))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: not valid JSON: %s", path, local->message);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: the top level is not a JSON object", path);
      return NULL;
    }
  return g_steal_pointer (&parser);
}

/* The architecture from "model_type" (or, without one, "architectures"[0]). */
static gboolean
config_architecture (HfLoad     *ld,
                     JsonObject *config,
                     GError    **error)
{
  const char *model_type = NULL, *class_name = NULL;
  JsonNode *classes = json_object_get_member (config, "architectures");

  if (!config_string (ld, config, "model_type", &model_type, error))
    return FALSE;
  if (classes != NULL && JSON_NODE_HOLDS_ARRAY (classes) &&
      json_array_get_length (json_node_get_array (classes)) > 0)
    class_name = json_array_get_string_element (json_node_get_array (classes), 0);
  for (guint i = 0; i < G_N_ELEMENTS (hf_architectures); i++)
    if ((model_type != NULL && g_str_equal (model_type, hf_architectures[i].model_type)) ||
        (model_type == NULL && g_strcmp0 (class_name, hf_architectures[i].class_name) == 0))
      {
        ld->arch = hf_architectures[i].arch;
        ld->arch_name = hf_architectures[i].model_type;
        return TRUE;
      }
  if (model_type == NULL && class_name == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s: neither \"model_type\" nor \"architectures\" says the architecture "
                   "(supported: " SUPPORTED_ARCHITECTURES ")", ld->config_path);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (hf_refused); i++)
    if (g_strcmp0 (model_type, hf_refused[i].model_type) == 0)
      {
        g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                     "%s: architecture '%s' is not supported: %s (supported: " SUPPORTED_ARCHITECTURES ")",
                     ld->config_path, model_type, hf_refused[i].why);
        return FALSE;
      }
  g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
               "%s: architecture '%s' is not supported (supported: " SUPPORTED_ARCHITECTURES ")",
               ld->config_path, model_type != NULL ? model_type : class_name);
  return FALSE;
}

/* Llama 3.1's scaled inverse frequencies, as transformers'
 * _compute_llama3_parameters (src/transformers/modeling_rope_utils.py at
 * 0044e3b) computes them, each step rounded to float32 as torch does on its
 * float32 tensors (the Python scalars taken as float32): the default
 * 1 / theta^(2i/D) (_compute_default_rope_parameters), then wavelen =
 * 2π / inv_freq; above original_max_position_embeddings / low_freq_factor
 * divided by factor, below .. / high_freq_factor kept, between the two
 * (1 - s)·inv/factor + s·inv with s = (old_context / wavelen -
 * low_freq_factor) / (high_freq_factor - low_freq_factor). powf may differ
 * from torch's float32 pow in the last place. */
static float *
llama3_inv_freq (gint64 head_dim,
                 double theta,
                 double factor,
                 double low_freq_factor,
                 double high_freq_factor,
                 double old_context)
{
  gint64 half = head_dim / 2;
  float *inv = g_new (float, half);
  float low_wavelen = (float) (old_context / low_freq_factor);
  float high_wavelen = (float) (old_context / high_freq_factor);

  for (gint64 i = 0; i < half; i++)
    {
      float exponent = (float) (2 * i) / (float) head_dim;
      float f = 1.0f / powf ((float) theta, exponent);
      float wavelen = (float) (2.0 * G_PI) / f;
      float scaled = wavelen > low_wavelen ? f / (float) factor : f;

      if (!(wavelen < high_wavelen) && !(wavelen > low_wavelen))
        {
          float smooth = ((float) old_context / wavelen - (float) low_freq_factor) /
                         (float) (high_freq_factor - low_freq_factor);
          scaled = (1.0f - smooth) * scaled / (float) factor + smooth * scaled;
        }
      inv[i] = scaled;
    }
  return inv;
}

/* rope_scaling: absent, null, {"rope_type": "default"} or Llama 3.1's
 * "llama3" (rope_inv_freq); any other type is refused naming it. */
static gboolean
config_rope_scaling (HfLoad     *ld,
                     JsonObject *config,
                     GError    **error)
{
  JsonNode *node = json_object_get_member (config, "rope_scaling");
  JsonObject *scaling;
  const char *type = NULL;
  double factor, low, high, old_context;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return config_error (ld, error, "rope_scaling", "is not an object or null");
  scaling = json_node_get_object (node);
  /* transformers' modeling_rope_utils.py reads "rope_type", and "type"
   * from older configs */
  if (!config_string (ld, scaling, "rope_type", &type, error) ||
      (type == NULL && !config_string (ld, scaling, "type", &type, error)))
    return FALSE;
  if (type != NULL && g_str_equal (type, "default"))
    return TRUE;
  if (type == NULL || !g_str_equal (type, "llama3"))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: rope_scaling type '%s' is not supported (unscaled RoPE, type 'default', or 'llama3')",
                   ld->config_path, type != NULL ? type : "(none given)");
      return FALSE;
    }
  /* _validate_llama3_parameters' required keys */
  if (!config_double (ld, scaling, "factor", -1.0, &factor, error) ||
      !config_double (ld, scaling, "low_freq_factor", -1.0, &low, error) ||
      !config_double (ld, scaling, "high_freq_factor", -1.0, &high, error) ||
      !config_double (ld, scaling, "original_max_position_embeddings", -1.0, &old_context, error))
    return FALSE;
  if (high <= low)
    return config_error (ld, error, "rope_scaling", "has high_freq_factor not above low_freq_factor");
  ld->model->rope_inv_freq = llama3_inv_freq (ld->model->head_dim, ld->model->rope_base, factor, low, high,
                                              old_context);
  return TRUE;
}

/* The activation of the gated feed-forward: silu (SwiGLU) everywhere but
 * Gemma, whose GemmaMLP applies config.hidden_activation (falling back to
 * hidden_act) with gelu_pytorch_tanh the intended one. */
static gboolean
config_activation (HfLoad     *ld,
                   JsonObject *config,
                   GError    **error)
{
  const char *act = NULL, *key = "hidden_act";

  if (ld->arch == HF_GEMMA)
    {
      if (!config_string (ld, config, "hidden_activation", &act, error))
        return FALSE;
      if (act != NULL)
        key = "hidden_activation";
    }
  if (act == NULL && !config_string (ld, config, "hidden_act", &act, error))
    return FALSE;
  if (ld->arch == HF_GEMMA)
    {
      /* transformers' GemmaMLP: with hidden_activation unset it warns and
       * uses gelu_pytorch_tanh even where hidden_act says "gelu" (the
       * original Gemma release's config) */
      if (act == NULL || g_str_equal (act, "gelu_pytorch_tanh") || g_str_equal (act, "gelu_tanh") ||
          (g_str_equal (key, "hidden_act") && g_str_equal (act, "gelu")))
        {
          ld->model->gelu_tanh = TRUE;
          return TRUE;
        }
    }
  else if (act == NULL || g_str_equal (act, "silu") || g_str_equal (act, "swish"))
    return TRUE;
  g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
               "%s: \"%s\" '%s' is not supported for %s (%s)", ld->config_path, key, act, ld->arch_name,
               ld->arch == HF_GEMMA ? "gelu_pytorch_tanh" : "silu");
  return FALSE;
}

/* bfloat16 round to nearest even, for Gemma's normalizer in a BF16 model. */
static float
round_to_bf16 (float f)
{
  guint32 u;

  memcpy (&u, &f, 4);
  u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  memcpy (&f, &u, 4);
  return f;
}

static gboolean
read_config (HfLoad     *ld,
             JsonObject *config,
             GError    **error)
{
  AneLlamaModel *m = ld->model;
  gint64 max_pos, window = 0, head_dim;
  gboolean tie, mlp_bias = FALSE, use_window;
  /* transformers' config defaults where a key may be absent */
  gboolean tie_default = ld->arch == HF_GEMMA;
  gint64 max_pos_default = ld->arch == HF_LLAMA ? 2048 : ld->arch == HF_GEMMA ? 8192 : 32768;

  if (!config_int (ld, config, "hidden_size", -1, 2, 1 << 20, &m->dim, error) ||
      !config_int (ld, config, "intermediate_size", -1, 1, 1 << 22, &m->hidden_dim, error) ||
      !config_int (ld, config, "num_hidden_layers", -1, 1, 4096, &m->n_layers, error) ||
      !config_int (ld, config, "num_attention_heads", -1, 1, 4096, &m->n_heads, error) ||
      !config_int (ld, config, "num_key_value_heads", m->n_heads, 1, m->n_heads, &m->n_kv_heads, error) ||
      !config_int (ld, config, "vocab_size", -1, 1, 1 << 24, &m->vocab_size, error) ||
      !config_int (ld, config, "max_position_embeddings", max_pos_default, 1, 1 << 24, &max_pos, error) ||
      !config_double (ld, config, "rms_norm_eps", 1e-6, &m->rms_eps, error) ||
      !config_double (ld, config, "rope_theta", 10000.0, &m->rope_base, error) ||
      !config_bool (ld, config, "tie_word_embeddings", tie_default, &tie, error) ||
      !config_bool (ld, config, "attention_bias", FALSE, &ld->attention_bias, error) ||
      !config_bool (ld, config, "mlp_bias", FALSE, &mlp_bias, error) ||
      !config_activation (ld, config, error))
    return FALSE;
  /* head_dim: Qwen3, Gemma and Mistral-Nemo give their own; otherwise
   * hidden_size / num_attention_heads, as transformers computes it */
  if (!config_int (ld, config, "head_dim", m->dim % m->n_heads == 0 ? m->dim / m->n_heads : -1,
                   2, 1 << 16, &head_dim, error))
    return FALSE;
  if (head_dim % 2 != 0)
    return config_error (ld, error, "head_dim", "is odd (RoPE rotates pairs of features)");
  if (m->n_heads % m->n_kv_heads != 0)
    return config_error (ld, error, "num_key_value_heads", "does not divide num_attention_heads");
  if (mlp_bias)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: \"mlp_bias\" true is not supported (feed-forward biases)", ld->config_path);
      return FALSE;
    }
  m->head_dim = head_dim;
  if (!config_rope_scaling (ld, config, error))
    return FALSE;
  m->shared_classifier = tie;
  m->rope_mode = ANE_ROPE_NEOX;   /* rotate_half: see the top of this file */

  /* A sliding window only changes attention over sequences longer than
   * it, so capping the context at the window keeps the model exact:
   * Mistral sets sliding_window (null when off); Qwen2/3 apply theirs only
   * with use_sliding_window. */
  use_window = ld->arch == HF_MISTRAL;
  if ((ld->arch == HF_QWEN2 || ld->arch == HF_QWEN3) &&
      !config_bool (ld, config, "use_sliding_window", FALSE, &use_window, error))
    return FALSE;
  if (use_window && !config_int (ld, config, "sliding_window", 0, 1, 1 << 24, &window, error))
    return FALSE;
  m->seq_len = window > 0 && window < max_pos ? window : max_pos;

  if (ld->arch == HF_QWEN3)
    m->qk_norm = TRUE;
  return TRUE;
}

/* --- weights ------------------------------------------------------------ */

/* The safetensors file holding HF tensor name, or NULL (no error) when
 * the checkpoint has no such tensor. */
static AneSafetensors *
file_for (HfLoad      *ld,
          const char  *hf_name,
          GError     **error)
{
  const char *shard;
  AneSafetensors *st;
  JsonNode *node;

  if (ld->single != NULL)
    return ane_safetensors_contains (ld->single, hf_name) ? ld->single : NULL;
  node = json_object_get_member (ld->weight_map, hf_name);
  if (node == NULL)
    return NULL;
  shard = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
          ? json_node_get_string (node) : NULL;
  /* a shard is a file of the directory, never a path out of it */
  if (shard == NULL || *shard == '\0' || strchr (shard, '/') != NULL || g_str_equal (shard, "..") ||
      g_str_equal (shard, "."))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "%s/model.safetensors.index.json: weight_map entry of %s is not a file name of the directory",
                   ld->dir, hf_name);
      return NULL;
    }
  st = g_hash_table_lookup (ld->shards, shard);
  if (st == NULL)
    {
      g_autofree char *path = g_build_filename (ld->dir, shard, NULL);

      st = ane_safetensors_open (path, error);
      if (st == NULL)
        return NULL;
      g_hash_table_insert (ld->shards, g_strdup (shard), st);
    }
  if (!ane_safetensors_contains (st, hf_name))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                   "%s: no tensor %s, which model.safetensors.index.json places there",
                   ane_safetensors_get_display_name (st), hf_name);
      return NULL;
    }
  return st;
}

static char *
shape_string (const gint64 *shape,
              guint         rank)
{
  GString *s = g_string_new ("[");

  for (guint i = 0; i < rank; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* Takes HF tensor hf_name as weight name, checking its shape and dtype
 * (see the top of this file). norm_offset: Gemma's RMSNorm weight, stored
 * as 1 + w in float32 (GemmaRMSNorm multiplies by 1.0 + weight.float()).
 */
static AneTensor *
take_hf (HfLoad       *ld,
         const char   *hf_name,
         const char   *name,
         const gint64 *shape,
         guint         rank,
         gboolean      norm_offset,
         GError      **error)
{
  AneLlamaModel *m = ld->model;
  g_autoptr(GError) local = NULL;
  g_autoptr(AneTensor) t = NULL;
  AneSafetensors *st = file_for (ld, hf_name, &local);
  const gint64 *tshape;
  guint trank;
  gboolean same;
  AneDType dtype;

  if (st == NULL)
    {
      if (local != NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      else
        g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                     "%s: the checkpoint has no tensor %s, which architecture %s needs",
                     ld->dir, hf_name, ld->arch_name);
      return NULL;
    }
  t = ane_safetensors_get_tensor (st, hf_name, error);
  if (t == NULL)
    return NULL;
  tshape = ane_tensor_get_shape (t, &trank);
  same = trank == rank;
  for (guint i = 0; same && i < rank; i++)
    same = tshape[i] == shape[i];
  if (!same)
    {
      g_autofree char *got = shape_string (tshape, trank), *want = shape_string (shape, rank);

      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "%s: tensor %s has shape %s, but config.json's %s needs %s",
                   ane_safetensors_get_display_name (st), hf_name, got, ld->arch_name, want);
      return NULL;
    }
  dtype = ane_tensor_get_dtype (t);
  if (g_str_equal (name, "token_embedding"))
    ld->embed_dtype = dtype;
  if (dtype != ANE_DTYPE_FLOAT32 && dtype != ANE_DTYPE_FLOAT16 && dtype != ANE_DTYPE_BFLOAT16)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE, "%s: tensor %s has dtype %s, expected F32, F16 or BF16",
                   ane_safetensors_get_display_name (st), hf_name, ane_safetensors_dtype_to_string (dtype));
      return NULL;
    }
  if (norm_offset || dtype == ANE_DTYPE_BFLOAT16 || (dtype == ANE_DTYPE_FLOAT16 && rank != 2))
    {
      gsize n;
      g_autofree float *f = ane_tensor_dup_floats (t, &n, error);

      if (f == NULL)
        return NULL;
      if (norm_offset)
        for (gsize i = 0; i < n; i++)
          f[i] = 1.0f + f[i];
      g_clear_object (&t);
      t = ane_tensor_new_from_floats (name, shape, rank, f, n, error);
      if (t == NULL)
        return NULL;
    }
  g_hash_table_insert (m->weights, g_strdup (name), g_object_ref (t));
  return g_steal_pointer (&t);
}

static gboolean
take_all (HfLoad  *ld,
          GError **error)
{
  AneLlamaModel *m = ld->model;
  gint64 q_dim = m->n_heads * m->head_dim, kv_dim = m->n_kv_heads * m->head_dim;
  gboolean gemma = ld->arch == HF_GEMMA;
  g_autoptr(AneTensor) embed = NULL;

  embed = take_hf (ld, "model.embed_tokens.weight", "token_embedding",
                   (const gint64[]) { m->vocab_size, m->dim }, 2, FALSE, error);
  if (embed == NULL)
    return FALSE;
  if (gemma)
    {
      /* GemmaModel.forward: hidden_states * normalizer with normalizer =
       * torch.tensor(hidden_size**0.5, dtype=hidden_states.dtype), the
       * factor rounded to the embedding's dtype */
      float scale = (float) sqrt ((double) m->dim);

      if (ld->embed_dtype == ANE_DTYPE_BFLOAT16)
        scale = round_to_bf16 (scale);
      else if (ld->embed_dtype == ANE_DTYPE_FLOAT16)
        scale = ane_half_to_float (ane_float_to_half (scale));
      m->embed_scale = scale;
    }

  for (gint64 l = 0; l < m->n_layers; l++)
    {
      static const struct {
        const char *hf, *name;
        int rows, cols;         /* 0 none (a vector), 1 dim, 2 q_dim, 3 kv_dim, 4 hidden, 5 head_dim */
        gboolean norm;          /* an RMSNorm weight (Gemma: offset by 1) */
        int when;               /* 0 always, 1 q/k/v biases, 2 o bias, 3 q/k norms */
      } per_layer[] = {
        { "input_layernorm.weight",          "attention_norm", 1, 0, TRUE,  0 },
        { "self_attn.q_proj.weight",         "wq",             2, 1, FALSE, 0 },
        { "self_attn.k_proj.weight",         "wk",             3, 1, FALSE, 0 },
        { "self_attn.v_proj.weight",         "wv",             3, 1, FALSE, 0 },
        { "self_attn.o_proj.weight",         "wo",             1, 2, FALSE, 0 },
        { "post_attention_layernorm.weight", "ffn_norm",       1, 0, TRUE,  0 },
        { "mlp.gate_proj.weight",            "w1",             4, 1, FALSE, 0 },
        { "mlp.down_proj.weight",            "w2",             1, 4, FALSE, 0 },
        { "mlp.up_proj.weight",              "w3",             4, 1, FALSE, 0 },
        { "self_attn.q_proj.bias",           "bq",             2, 0, FALSE, 1 },
        { "self_attn.k_proj.bias",           "bk",             3, 0, FALSE, 1 },
        { "self_attn.v_proj.bias",           "bv",             3, 0, FALSE, 1 },
        { "self_attn.o_proj.bias",           "bo",             1, 0, FALSE, 2 },
        { "self_attn.q_norm.weight",         "q_norm",         5, 0, FALSE, 3 },
        { "self_attn.k_norm.weight",         "k_norm",         5, 0, FALSE, 3 },
      };
      const gint64 sizes[6] = { 0, m->dim, q_dim, kv_dim, m->hidden_dim, m->head_dim };
      /* Qwen2Attention: q/k/v with bias=True, o without; attention_bias
       * (LlamaAttention, Qwen3Attention, GemmaAttention): all four; a bias
       * the architecture does not declare is not read, as transformers
       * ignores it */
      gboolean qkv_bias = ld->arch == HF_QWEN2 || ld->attention_bias;
      gboolean o_bias = ld->arch != HF_QWEN2 && ld->attention_bias;

      for (guint i = 0; i < G_N_ELEMENTS (per_layer); i++)
        {
          g_autofree char *hf = g_strdup_printf ("model.layers.%" G_GINT64_FORMAT ".%s", l, per_layer[i].hf);
          g_autofree char *name = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", l, per_layer[i].name);
          const gint64 shape[2] = { sizes[per_layer[i].rows], sizes[per_layer[i].cols] };
          gboolean wanted = per_layer[i].when == 0 ||
                            (per_layer[i].when == 1 && qkv_bias) ||
                            (per_layer[i].when == 2 && o_bias) ||
                            (per_layer[i].when == 3 && m->qk_norm);
          g_autoptr(AneTensor) t = NULL;

          if (!wanted)
            continue;
          t = take_hf (ld, hf, name, shape, per_layer[i].cols ? 2 : 1, per_layer[i].norm && gemma, error);
          if (t == NULL)
            return FALSE;
        }
    }
  {
    g_autoptr(AneTensor) t = take_hf (ld, "model.norm.weight", "final_norm", (const gint64[]) { m->dim }, 1,
                                      gemma, error);
    if (t == NULL)
      return FALSE;
  }
  if (!m->shared_classifier)
    {
      g_autoptr(AneTensor) t = take_hf (ld, "lm_head.weight", "output", (const gint64[]) { m->vocab_size, m->dim }, 2,
                                        FALSE, error);
      if (t == NULL)
        return FALSE;
    }
  return TRUE;
}

/* model.safetensors, or the shards of model.safetensors.index.json. */
static gboolean
open_weights (HfLoad      *ld,
              JsonParser **index_parser,
              GError     **error)
{
  g_autofree char *single = g_build_filename (ld->dir, "model.safetensors", NULL);
  g_autofree char *index = g_build_filename (ld->dir, "model.safetensors.index.json", NULL);
  JsonNode *map;

  if (g_file_test (single, G_FILE_TEST_EXISTS))
    {
      ld->single = ane_safetensors_open (single, error);
      return ld->single != NULL;
    }
  if (!g_file_test (index, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                   "%s: no model.safetensors or model.safetensors.index.json (only safetensors weights "
                   "are read, not pytorch_model.bin)", ld->dir);
      return FALSE;
    }
  *index_parser = parse_json_object (index, error);
  if (*index_parser == NULL)
    return FALSE;
  map = json_object_get_member (json_node_get_object (json_parser_get_root (*index_parser)), "weight_map");
  if (map == NULL || !JSON_NODE_HOLDS_OBJECT (map))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: no \"weight_map\" object", index);
      return FALSE;
    }
  ld->weight_map = json_node_get_object (map);
  return TRUE;
}

/**
 * ane_llama_model_load_hf:
 * @dir: a Hugging Face model directory
 * @error: return location for a #GError
 *
 * Loads a Hugging Face transformers checkpoint: `config.json` and the
 * weights in `model.safetensors`, or in the shards that
 * `model.safetensors.index.json` lists (its `weight_map`). The files are
 * memory-mapped.
 *
 * The architecture (`model_type`, else `architectures`) must be `llama`,
 * `mistral`, `qwen2` (q/k/v biases), `qwen3` (per-head RMSNorm of q and k
 * before RoPE) or `gemma` (embedding scaled by √hidden_size rounded to the
 * weights' dtype, RMSNorm by `1 + weight`, GeGLU with the tanh GELU, tied
 * classifier); any other is %ANE_ERROR_UNSUPPORTED with a message listing
 * the supported ones. `head_dim` may differ from
 * `hidden_size / num_attention_heads`. RoPE rotates the two halves of each
 * head (transformers' `rotate_half`), which is exact for the q/k rows that
 * transformers' LLaMA conversion permutes; `rope_scaling` may be Llama
 * 3.1's `llama3` (its inverse frequencies computed as transformers'
 * modeling_rope_utils.py does). Other `rope_scaling` types, `mlp_bias` and
 * activations other than the architecture's are refused; a Mistral (or Qwen with `use_sliding_window`) sliding window
 * caps the sequence length at the window, where the model is exact.
 * [method@Ane.LlamaModel.get_seq_len] is `max_position_embeddings`
 * otherwise.
 *
 * F32 tensors are used in place; F16 matrices stay float16 (the graphs
 * widen them); BF16 tensors and F16 vectors are converted to float32.
 *
 * Errors name the file and what is wrong: a missing tensor
 * (%ANE_ERROR_NOT_FOUND) by the name the architecture expects (such as
 * `model.layers.0.self_attn.q_proj.weight`), a shape mismatch
 * (%ANE_ERROR_SHAPE) with both shapes, a bad `config.json`
 * (%ANE_ERROR_PARSE) by its key, an unreadable file %ANE_ERROR_IO.
 *
 * The tokenizer (`tokenizer.json`) is loaded apart.
 *
 * Returns: (transfer full): the model, or %NULL with @error set
 *
 * Since: 0.2
 */
AneLlamaModel *
ane_llama_model_load_hf (const char  *dir,
                         GError     **error)
{
  g_autoptr(AneLlamaModel) self = NULL;
  g_autoptr(JsonParser) config_parser = NULL;
  g_autoptr(JsonParser) index_parser = NULL;
  g_autoptr(GHashTable) shards = NULL;
  g_autofree char *config_path = NULL;
  JsonObject *config;
  HfLoad ld = { 0 };

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "%s: not a directory (a Hugging Face model directory "
                   "holds config.json and model.safetensors)", dir);
      return NULL;
    }
  config_path = g_build_filename (dir, "config.json", NULL);
  config_parser = parse_json_object (config_path, error);
  if (config_parser == NULL)
    return NULL;
  config = json_node_get_object (json_parser_get_root (config_parser));

  self = g_object_new (ANE_TYPE_LLAMA_MODEL, NULL);
  self->path = g_strdup (dir);
  shards = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) ane_safetensors_free);
  ld.model = self;
  ld.dir = dir;
  ld.config_path = config_path;
  ld.shards = shards;
  if (!config_architecture (&ld, config, error) ||
      !read_config (&ld, config, error) ||
      !open_weights (&ld, &index_parser, error))
    {
      g_clear_pointer (&ld.single, ane_safetensors_free);
      return NULL;
    }
  if (!take_all (&ld, error))
    {
      g_clear_pointer (&ld.single, ane_safetensors_free);
      return NULL;
    }
  /* the tensors hold their own references to the mappings */
  g_clear_pointer (&ld.single, ane_safetensors_free);
  return g_steal_pointer (&self);
}
