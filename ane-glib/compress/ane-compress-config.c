/* compress/ane-compress-config.c: what to compress and how (AneCompressConfig)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "compress/ane-compress-private.h"

/**
 * AneCompressConfig:
 *
 * How [method@Ane.Package.compress] compresses weights, and which.
 *
 * A config holds one recipe — palettize, quantize or prune, with its
 * settings — and the selectors that say which weights it applies to: a
 * glob over the weight's name or the name of the op that reads it
 * ([method@Ane.CompressConfig.set_select]), the type of that op
 * ([method@Ane.CompressConfig.set_op_type]) and a minimum size
 * ([method@Ane.CompressConfig.set_min_size]; as coremltools, a weight of
 * 2048 elements or fewer stays as it is by default). Overrides
 * ([method@Ane.CompressConfig.add_override]) are configs of their own
 * whose selectors are tried first, in the order they were added: the first
 * that matches decides the weight, so a model can get 4-bit tables
 * everywhere but 6-bit ones for its output layer, or keep its embedding
 * uncompressed ([ctor@Ane.CompressConfig.new_skip]).
 *
 * ```c
 * g_autoptr(AneCompressConfig) config = ane_compress_config_new_palettize (4);
 * ane_compress_config_set_granularity (config, ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL, 8);
 * g_autoptr(AneCompressConfig) head = ane_compress_config_new_palettize (6);
 * ane_compress_config_set_select (head, "*lm_head*");
 * ane_compress_config_add_override (config, head);
 * g_autoptr(AnePackage) small = ane_package_compress (pkg, config, NULL, NULL, &error);
 * ```
 *
 * In Python: `c = Ane.CompressConfig.new_quantize(4, True);
 * c.set_granularity(Ane.CompressGranularity.PER_BLOCK, 32)`.
 *
 * Settings are checked when the config is used: a setting no target has
 * (7 bits, a sparsity of 1.5) fails with %ANE_ERROR_INVALID_ARGUMENT, one
 * the package's target cannot express (4-bit integers before iOS18) with
 * %ANE_ERROR_UNSUPPORTED naming the Core ML op and the target.
 *
 * Since: 0.2
 */

G_DEFINE_FINAL_TYPE (AneCompressConfig, ane_compress_config, G_TYPE_OBJECT)

static void
ane_compress_config_finalize (GObject *object)
{
  AneCompressConfig *self = ANE_COMPRESS_CONFIG (object);

  g_free (self->select);
  g_clear_pointer (&self->select_spec, g_pattern_spec_free);
  g_free (self->op_type);
  g_hash_table_unref (self->importance);
  g_ptr_array_unref (self->overrides);
  G_OBJECT_CLASS (ane_compress_config_parent_class)->finalize (object);
}

static void
ane_compress_config_class_init (AneCompressConfigClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ane_compress_config_finalize;
}

static void
ane_compress_config_init (AneCompressConfig *self)
{
  /* coremltools' defaults (optimize/coreml/_config.py): weight_threshold
   * 2048, group_size 32, block_size 32, per-channel linear_symmetric int8,
   * per-tensor kmeans */
  self->granularity = ANE_COMPRESS_GRANULARITY_PER_TENSOR;
  self->group_size = 32;
  self->block_size = 32;
  self->cluster_dim = 1;
  self->is_signed = TRUE;
  self->symmetric = TRUE;
  self->threshold = 1e-12;
  self->min_size = 2048;
  self->importance = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->overrides = g_ptr_array_new_with_free_func (g_object_unref);
}

static AneCompressConfig *
config_new (AneCompressMode mode,
            guint           bits)
{
  AneCompressConfig *self = g_object_new (ANE_TYPE_COMPRESS_CONFIG, NULL);

  self->mode = mode;
  self->bits = bits;
  return self;
}

/**
 * ane_compress_config_new_palettize:
 * @bits: bits per index: 1, 2, 3, 4, 6 or 8 (3 needs iOS18)
 *
 * Palettization: each weight becomes an index into a table of 2^@bits
 * values, chosen by k-means (the table with the least squared error, found
 * exactly) for the whole tensor. Change the table's scope with
 * [method@Ane.CompressConfig.set_granularity] (a table per group of output
 * channels, iOS18), the method with
 * [method@Ane.CompressConfig.set_method].
 *
 * Returns: (transfer full): a new config
 *
 * Since: 0.2
 */
AneCompressConfig *
ane_compress_config_new_palettize (guint bits)
{
  return config_new (ANE_COMPRESS_PALETTIZE, bits);
}

/**
 * ane_compress_config_new_quantize:
 * @bits: 8 or 4 (4 needs iOS18)
 * @is_signed: integers from −2^(bits−1) (%TRUE) or from 0 (%FALSE)
 *
 * Linear quantization: w ≈ scale · (q − offset), symmetric (no offset,
 * the range −127..127 for int8 as in coremltools) with a scale per output
 * channel. Change that with [method@Ane.CompressConfig.set_symmetric] and
 * [method@Ane.CompressConfig.set_granularity] (per tensor, or per block of
 * input channels on iOS18). q = round(w / scale), ties to even.
 *
 * Returns: (transfer full): a new config
 *
 * Since: 0.2
 */
AneCompressConfig *
ane_compress_config_new_quantize (guint    bits,
                                  gboolean is_signed)
{
  AneCompressConfig *self = config_new (ANE_COMPRESS_QUANTIZE, bits);

  self->granularity = ANE_COMPRESS_GRANULARITY_PER_CHANNEL;
  self->is_signed = is_signed;
  return self;
}

/**
 * ane_compress_config_new_prune:
 * @sparsity: the fraction of weights to make zero, in [0, 1]
 *
 * Magnitude pruning to a target sparsity: the weights of smallest
 * magnitude become zero (every weight at or below the @sparsity
 * percentile of the magnitudes, as numpy's linear percentile gives it;
 * ties at the threshold all go), and the weight is stored as a bit mask
 * and its other values.
 *
 * Returns: (transfer full): a new config
 *
 * Since: 0.2
 */
AneCompressConfig *
ane_compress_config_new_prune (double sparsity)
{
  AneCompressConfig *self = config_new (ANE_COMPRESS_PRUNE, 1);

  ane_compress_config_set_prune_sparsity (self, sparsity);
  return self;
}

/**
 * ane_compress_config_new_prune_n_m:
 * @n: how many weights of each run to make zero
 * @m: the run: @m consecutive weights along the input channels
 *
 * Structured n:m pruning: of every @m consecutive weights of an output
 * channel the @n of smallest magnitude become zero (a short last run is
 * padded with zeros, which count as the smallest).
 *
 * Returns: (transfer full): a new config
 *
 * Since: 0.2
 */
AneCompressConfig *
ane_compress_config_new_prune_n_m (guint n,
                                   guint m)
{
  AneCompressConfig *self = config_new (ANE_COMPRESS_PRUNE, 1);

  ane_compress_config_set_prune_n_m (self, n, m);
  return self;
}

/**
 * ane_compress_config_new_skip:
 *
 * A config that leaves the weights it selects as they are: give it
 * selectors and add it as an override to exempt them from a broader
 * config.
 *
 * Returns: (transfer full): a new config
 *
 * Since: 0.2
 */
AneCompressConfig *
ane_compress_config_new_skip (void)
{
  return config_new (ANE_COMPRESS_NONE, 0);
}

/**
 * ane_compress_config_get_mode:
 * @self: a config
 *
 * What the config does to the weights it selects.
 *
 * Returns: the mode
 *
 * Since: 0.2
 */
AneCompressMode
ane_compress_config_get_mode (AneCompressConfig *self)
{
  g_return_val_if_fail (ANE_IS_COMPRESS_CONFIG (self), ANE_COMPRESS_NONE);
  return self->mode;
}

/**
 * ane_compress_config_get_bits:
 * @self: a config
 *
 * The bits per index (palettization) or per integer (quantization).
 *
 * Returns: the bits, 0 for pruning alone
 *
 * Since: 0.2
 */
guint
ane_compress_config_get_bits (AneCompressConfig *self)
{
  g_return_val_if_fail (ANE_IS_COMPRESS_CONFIG (self), 0);
  return self->mode == ANE_COMPRESS_PALETTIZE || self->mode == ANE_COMPRESS_QUANTIZE ? self->bits : 0;
}

/**
 * ane_compress_config_set_granularity:
 * @self: a config
 * @granularity: how many tables or scales a weight gets
 * @size: the group size (output channels per table) for
 *   %ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL, the block size (input channels per
 *   scale) for %ANE_COMPRESS_GRANULARITY_PER_BLOCK; ignored otherwise (0 keeps the
 *   default, 32)
 *
 * Palettization takes per tensor and per grouped channel, quantization per
 * tensor, per channel and per block. A weight whose channels the size does
 * not divide is left as it is (and reported as skipped), as coremltools
 * does.
 *
 * Since: 0.2
 */
void
ane_compress_config_set_granularity (AneCompressConfig     *self,
                                     AneCompressGranularity granularity,
                                     guint                  size)
{
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (self));
  self->granularity = granularity;
  if (size == 0)
    return;
  if (granularity == ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL)
    self->group_size = size;
  else if (granularity == ANE_COMPRESS_GRANULARITY_PER_BLOCK)
    self->block_size = size;
}

/**
 * ane_compress_config_get_granularity:
 * @self: a config
 *
 * How many tables or scales a weight gets.
 *
 * Returns: the granularity
 *
 * Since: 0.2
 */
AneCompressGranularity
ane_compress_config_get_granularity (AneCompressConfig *self)
{
  g_return_val_if_fail (ANE_IS_COMPRESS_CONFIG (self), ANE_COMPRESS_GRANULARITY_PER_TENSOR);
  return self->granularity;
}

/**
 * ane_compress_config_set_method:
 * @self: a palettization config
 * @method: k-means (the default) or uniform tables
 *
 * How tables are chosen.
 *
 * Since: 0.2
 */
void
ane_compress_config_set_method (AneCompressConfig  *self,
                                AnePalettizeMethod  method)
{
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (self));
  self->method = method;
}

/**
 * ane_compress_config_set_cluster_dim:
 * @self: a palettization config
 * @cluster_dim: values per table entry (1: scalar tables)
 *
 * Vector palettization (iOS18): each table entry is @cluster_dim
 * consecutive values along the output channels, found by k-means over the
 * vectors.
 *
 * Since: 0.2
 */
void
ane_compress_config_set_cluster_dim (AneCompressConfig *self,
                                     guint              cluster_dim)
{
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (self));
  self->cluster_dim = cluster_dim;
}

/**
 * ane_compress_config_set_seed:
 * @self: a palettization config
 * @seed: the seed of k-means++'s random draws (0 by default)
 *
 * Vector palettization seeds its centroids with k-means++ (random draws,
 * weighted by distance) before its Lloyd iterations: the same seed gives
 * the same tables, another seed may land in another local optimum. Scalar
 * tables (cluster dim 1) are found exactly and take no seed.
 *
 * Since: 0.2
 */
void
ane_compress_config_set_seed (AneCompressConfig *self,
                              guint32            seed)
{
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (self));
  self->seed = seed;
}

/**
 * ane_compress_config_set_int8_lut:
 * @self: a palettization config
 * @int8_lut: whether the table is stored as int8 with a scale
 *
 * Joint compression (iOS18): the table itself is quantized to int8
 * (symmetric, one scale per weight) and dequantized by a
 * `constexpr_blockwise_shift_scale` feeding `constexpr_lut_to_dense`, as
 * coremltools' `joint_compression=True` does.
 *
 * Since: 0.2
 */
void
ane_compress_config_set_int8_lut (AneCompressConfig *self,
                                  gboolean           int8_lut)
{
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (self));
  self->int8_lut = int8_lut;
}

/**
 * ane_compress_config_set_symmetric:
 * @self: a quantization config
 * @symmetric: %TRUE for a range symmetric about 0 (no offset), %FALSE for
 *   an affine range with an offset (zero point)
 *
 * Symmetric int8 uses −127..127 and uint8 0..254 around 127, as
 * coremltools' `linear_symmetric`; affine ranges always hold 0.
 *
 * Since: 0.2
 */
void
ane_compress_config_set_symmetric (AneCompressConfig *self,
                                   gboolean           symmetric)
{
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (self));
  self->symmetric = symmetric;
}

/**
 * ane_compress_config_set_prune_threshold:
 * @self: a config
 * @threshold: weights with |w| <= @threshold become zero
 *
 * Prunes by magnitude threshold: with a palettization or quantization
 * config this makes the joint form (iOS18).
 *
 * Since: 0.2
 */
void
ane_compress_config_set_prune_threshold (AneCompressConfig *self,
                                         double             threshold)
{
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (self));
  self->prune = ANE_PRUNE_THRESHOLD;
  self->threshold = threshold;
}

/**
 * ane_compress_config_set_prune_sparsity:
 * @self: a config
 * @sparsity: the fraction of weights to make zero, in [0, 1]
 *
 * Prunes to a target sparsity (see [ctor@Ane.CompressConfig.new_prune]);
 * with a palettization or quantization config this makes the joint form
 * (iOS18).
 *
 * Since: 0.2
 */
void
ane_compress_config_set_prune_sparsity (AneCompressConfig *self,
                                        double             sparsity)
{
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (self));
  self->prune = ANE_PRUNE_SPARSITY;
  self->sparsity = sparsity;
}

/**
 * ane_compress_config_set_prune_n_m:
 * @self: a config
 * @n: weights to zero per run
 * @m: the run length
 *
 * Prunes n of every m (see [ctor@Ane.CompressConfig.new_prune_n_m]); with
 * a palettization or quantization config this makes the joint form
 * (iOS18).
 *
 * Since: 0.2
 */
void
ane_compress_config_set_prune_n_m (AneCompressConfig *self,
                                   guint              n,
                                   guint              m)
{
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (self));
  self->prune = ANE_PRUNE_N_M;
  self->prune_n = n;
  self->prune_m = m;
}

/**
 * ane_compress_config_get_prune_method:
 * @self: a config
 *
 * How the config prunes, if it does.
 *
 * Returns: the pruning method (%ANE_PRUNE_OFF when it does not prune)
 *
 * Since: 0.2
 */
AnePruneMethod
ane_compress_config_get_prune_method (AneCompressConfig *self)
{
  g_return_val_if_fail (ANE_IS_COMPRESS_CONFIG (self), ANE_PRUNE_OFF);
  return self->prune;
}

/**
 * ane_compress_config_set_min_size:
 * @self: a config
 * @min_size: weights of at most this many elements stay as they are
 *
 * The size threshold: 2048 by default, as coremltools' `weight_threshold`
 * (a weight is compressed when it has more elements than this).
 *
 * Since: 0.2
 */
void
ane_compress_config_set_min_size (AneCompressConfig *self,
                                  guint64            min_size)
{
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (self));
  self->min_size = min_size;
}

/**
 * ane_compress_config_set_select:
 * @self: a config
 * @pattern: (nullable): a glob (`*` and `?`) matched against the weight's
 *   name and the name of each op that reads it; %NULL selects every weight
 *
 * Limits the config to the weights whose name, or whose reader's name,
 * matches.
 *
 * Since: 0.2
 */
void
ane_compress_config_set_select (AneCompressConfig *self,
                                const char        *pattern)
{
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (self));
  g_free (self->select);
  g_clear_pointer (&self->select_spec, g_pattern_spec_free);
  self->select = g_strdup (pattern);
  if (pattern)
    self->select_spec = g_pattern_spec_new (pattern);
}

/**
 * ane_compress_config_set_op_type:
 * @self: a config
 * @op_type: (nullable): a MIL op type ("linear", "conv", "matmul",
 *   "gather", ...); %NULL for any
 *
 * Limits the config to the weights an op of this type reads.
 *
 * Since: 0.2
 */
void
ane_compress_config_set_op_type (AneCompressConfig *self,
                                 const char        *op_type)
{
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (self));
  g_free (self->op_type);
  self->op_type = g_strdup (op_type);
}

/**
 * ane_compress_config_set_importance:
 * @self: a palettization config
 * @weight: the weight's name (its const's name in the program)
 * @importance: a float tensor with one non-negative value per element of
 *   the weight (its shape is checked when the weight is compressed)
 * @error: return location for a #GError
 *
 * Weights k-means by importance (e.g. squared gradients or activations
 * statistics): the table then minimises Σ importance · (w − w')².
 *
 * Returns: %TRUE, or %FALSE with %ANE_ERROR_DTYPE when @importance holds
 *   no float values, %ANE_ERROR_INVALID_ARGUMENT when one is negative or
 *   not finite
 *
 * Since: 0.2
 */
gboolean
ane_compress_config_set_importance (AneCompressConfig *self,
                                    const char        *weight,
                                    AneTensor         *importance,
                                    GError           **error)
{
  g_autofree float *v = NULL;
  gsize n = 0;

  g_return_val_if_fail (ANE_IS_COMPRESS_CONFIG (self), FALSE);
  g_return_val_if_fail (weight != NULL, FALSE);
  g_return_val_if_fail (ANE_IS_TENSOR (importance), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  v = ane_tensor_dup_floats (importance, &n, error);
  if (v == NULL)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!isfinite (v[i]) || v[i] < 0)
      {
        g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                     "importance of '%s': element %" G_GSIZE_FORMAT " is %g (must be finite and >= 0)",
                     weight, i, (double) v[i]);
        return FALSE;
      }
  g_hash_table_replace (self->importance, g_strdup (weight), g_object_ref (importance));
  return TRUE;
}

/**
 * ane_compress_config_add_override:
 * @self: a config
 * @config: a config whose selectors pick the weights it decides instead
 *
 * Adds an override: for each weight, the overrides are tried in the order
 * they were added and the first whose selectors match decides it; @self
 * decides the others (if its own selectors match).
 *
 * Since: 0.2
 */
void
ane_compress_config_add_override (AneCompressConfig *self,
                                  AneCompressConfig *config)
{
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (self));
  g_return_if_fail (ANE_IS_COMPRESS_CONFIG (config));
  g_return_if_fail (self != config);
  g_ptr_array_add (self->overrides, g_object_ref (config));
}

static const char *
granularity_name (AneCompressGranularity g)
{
  switch (g)
    {
    case ANE_COMPRESS_GRANULARITY_PER_TENSOR: return "per tensor";
    case ANE_COMPRESS_GRANULARITY_PER_CHANNEL: return "per channel";
    case ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL: return "per grouped channel";
    case ANE_COMPRESS_GRANULARITY_PER_BLOCK: return "per block";
    default: return "?";
    }
}

static void
append_recipe (GString           *s,
               AneCompressConfig *c)
{
  switch (c->mode)
    {
    case ANE_COMPRESS_NONE:
      g_string_append (s, "leave as is");
      break;
    case ANE_COMPRESS_PALETTIZE:
      g_string_append_printf (s, "palettize %u-bit %s %s", c->bits,
                              c->method == ANE_PALETTIZE_KMEANS ? "kmeans" : "uniform",
                              granularity_name (c->granularity));
      if (c->granularity == ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL)
        g_string_append_printf (s, " (group %u)", c->group_size);
      if (c->cluster_dim > 1)
        g_string_append_printf (s, ", vectors of %u", c->cluster_dim);
      if (c->int8_lut)
        g_string_append (s, ", int8 LUT");
      break;
    case ANE_COMPRESS_QUANTIZE:
      g_string_append_printf (s, "quantize %s%u %s %s", c->is_signed ? "int" : "uint", c->bits,
                              c->symmetric ? "symmetric" : "affine", granularity_name (c->granularity));
      if (c->granularity == ANE_COMPRESS_GRANULARITY_PER_BLOCK)
        g_string_append_printf (s, " (block %u)", c->block_size);
      break;
    case ANE_COMPRESS_PRUNE:
      g_string_append (s, "prune");
      break;
    default:
      break;
    }
  if (c->prune == ANE_PRUNE_THRESHOLD)
    g_string_append_printf (s, "%s|w| <= %g", c->mode == ANE_COMPRESS_PRUNE ? " " : " + prune ", c->threshold);
  else if (c->prune == ANE_PRUNE_SPARSITY)
    g_string_append_printf (s, "%sto sparsity %g", c->mode == ANE_COMPRESS_PRUNE ? " " : " + prune ", c->sparsity);
  else if (c->prune == ANE_PRUNE_N_M)
    g_string_append_printf (s, "%s%u:%u", c->mode == ANE_COMPRESS_PRUNE ? " " : " + prune ", c->prune_n, c->prune_m);
  if (c->select)
    g_string_append_printf (s, " [select %s]", c->select);
  if (c->op_type)
    g_string_append_printf (s, " [op %s]", c->op_type);
  g_string_append_printf (s, " [> %" G_GUINT64_FORMAT " elements]", c->min_size);
}

/**
 * ane_compress_config_to_string:
 * @self: a config
 *
 * Describes the config and its overrides in one line each, e.g.
 * "palettize 4-bit kmeans per grouped channel (group 8) [> 2048 elements]".
 *
 * Returns: (transfer full): the description
 *
 * Since: 0.2
 */
char *
ane_compress_config_to_string (AneCompressConfig *self)
{
  GString *s = g_string_new (NULL);

  g_return_val_if_fail (ANE_IS_COMPRESS_CONFIG (self), NULL);
  append_recipe (s, self);
  for (guint i = 0; i < self->overrides->len; i++)
    {
      g_string_append (s, "\n  override: ");
      append_recipe (s, g_ptr_array_index (self->overrides, i));
    }
  return g_string_free (s, FALSE);
}

gboolean
ane_compress_config_matches (AneCompressConfig *config,
                             const char        *weight,
                             guint64            n_elements,
                             const char        *consumer_type,
                             const char        *consumer_name)
{
  if (n_elements <= config->min_size)
    return FALSE;
  if (config->op_type && g_strcmp0 (config->op_type, consumer_type) != 0)
    return FALSE;
  if (config->select_spec &&
      !g_pattern_spec_match_string (config->select_spec, weight) &&
      (consumer_name == NULL || !g_pattern_spec_match_string (config->select_spec, consumer_name)))
    return FALSE;
  return TRUE;
}

AneCompressConfig *
ane_compress_config_resolve (AneCompressConfig *config,
                             const char        *weight,
                             guint64            n_elements,
                             const char        *consumer_type,
                             const char        *consumer_name)
{
  for (guint i = 0; i < config->overrides->len; i++)
    {
      AneCompressConfig *o = g_ptr_array_index (config->overrides, i);

      if (ane_compress_config_matches (o, weight, n_elements, consumer_type, consumer_name))
        return o->mode == ANE_COMPRESS_NONE && o->prune == ANE_PRUNE_OFF ? NULL : o;
    }
  if (ane_compress_config_matches (config, weight, n_elements, consumer_type, consumer_name))
    return config->mode == ANE_COMPRESS_NONE && config->prune == ANE_PRUNE_OFF ? NULL : config;
  return NULL;
}

static gboolean
needs (AneMilTarget  target,
       AneMilTarget  first,
       const char   *what,
       const char   *op,
       GError      **error)
{
  if (target >= first)
    return TRUE;
  g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
               "%s needs %s's %s; the program targets %s (re-lower it for %s or later)",
               what, ane_mil_target_name (first), op, ane_mil_target_name (target),
               ane_mil_target_name (first));
  return FALSE;
}

static gboolean
check_one (AneCompressConfig *c,
           AneMilTarget       target,
           GError           **error)
{
  gboolean joint = c->prune != ANE_PRUNE_OFF && c->mode != ANE_COMPRESS_PRUNE && c->mode != ANE_COMPRESS_NONE;

  /* what no target has */
  if (c->mode == ANE_COMPRESS_PALETTIZE)
    {
      if (c->bits != 1 && c->bits != 2 && c->bits != 3 && c->bits != 4 && c->bits != 6 && c->bits != 8)
        return g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                            "palettization takes 1, 2, 3, 4, 6 or 8 bits, not %u", c->bits), FALSE;
      if (c->granularity != ANE_COMPRESS_GRANULARITY_PER_TENSOR && c->granularity != ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL)
        return g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                            "palettization is per tensor or per grouped channel, not %s",
                            granularity_name (c->granularity)), FALSE;
      if (c->granularity == ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL && c->group_size == 0)
        return g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "group size 0"), FALSE;
      if (c->cluster_dim == 0 || c->cluster_dim > 64)
        return g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                            "cluster dim %u (1 to 64)", c->cluster_dim), FALSE;
      if (c->cluster_dim > 1 && (c->int8_lut || c->prune != ANE_PRUNE_OFF))
        return g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                            "vector palettization (cluster dim %u) takes neither an int8 LUT nor pruning",
                            c->cluster_dim), FALSE;
      if (c->cluster_dim > 1 && c->method == ANE_PALETTIZE_UNIFORM)
        return g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                            "uniform palettization has no vector form (cluster dim %u)", c->cluster_dim), FALSE;
    }
  if (c->mode == ANE_COMPRESS_QUANTIZE)
    {
      if (c->bits != 4 && c->bits != 8)
        return g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                            "linear quantization takes 4 or 8 bits, not %u", c->bits), FALSE;
      if (c->granularity == ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL)
        return g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                            "linear quantization is per tensor, per channel or per block, not per grouped channel"),
               FALSE;
      if (c->granularity == ANE_COMPRESS_GRANULARITY_PER_BLOCK && c->block_size == 0)
        return g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "block size 0"), FALSE;
    }
  if (c->prune == ANE_PRUNE_SPARSITY && !(c->sparsity >= 0 && c->sparsity <= 1))
    return g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                        "sparsity %g is not in [0, 1]", c->sparsity), FALSE;
  if (c->prune == ANE_PRUNE_THRESHOLD && !(c->threshold >= 0 && isfinite (c->threshold)))
    return g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                        "pruning threshold %g (must be finite and >= 0)", c->threshold), FALSE;
  if (c->prune == ANE_PRUNE_N_M && (c->prune_m < 1 || c->prune_n > c->prune_m || c->prune_m > 65536))
    return g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                        "n:m pruning %u:%u (need 0 <= n <= m, 1 <= m <= 65536)", c->prune_n, c->prune_m), FALSE;

  /* what the target cannot express (coremltools 9.0,
   * optimize/coreml/_quantization_passes.py:42, 1027-1035, 1137-1141,
   * 1381-1389; the iOS16 lut_to_dense takes 2, 4, 16, 64 or 256 entries,
   * ops/defs/iOS16/constexpr_ops.py:245-248) */
  if (c->mode == ANE_COMPRESS_NONE && c->prune == ANE_PRUNE_OFF)
    return TRUE;
  if (!needs (target, ANE_MIL_IOS16, "weight compression", "constexpr ops", error))
    return FALSE;
  if (joint && !needs (target, ANE_MIL_IOS18, c->mode == ANE_COMPRESS_PALETTIZE ? "pruning with palettization"
                                                                                : "pruning with quantization",
                       c->mode == ANE_COMPRESS_PALETTIZE ? "constexpr_lut_to_sparse"
                                                         : "constexpr_sparse_blockwise_shift_scale", error))
    return FALSE;
  if (c->mode == ANE_COMPRESS_PALETTIZE)
    {
      if (c->bits == 3 && !needs (target, ANE_MIL_IOS18, "3-bit palettization", "constexpr_lut_to_dense (uint3 indices)", error))
        return FALSE;
      if (c->granularity == ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL &&
          !needs (target, ANE_MIL_IOS18, "palettization per grouped channel", "constexpr_lut_to_dense (per-group tables)", error))
        return FALSE;
      if (c->cluster_dim > 1 &&
          !needs (target, ANE_MIL_IOS18, "vector palettization", "constexpr_lut_to_dense (vector_axis)", error))
        return FALSE;
      if (c->int8_lut &&
          !needs (target, ANE_MIL_IOS18, "an int8 LUT", "constexpr_blockwise_shift_scale", error))
        return FALSE;
    }
  if (c->mode == ANE_COMPRESS_QUANTIZE)
    {
      if (c->bits == 4 && !needs (target, ANE_MIL_IOS18, "4-bit quantization", "constexpr_blockwise_shift_scale", error))
        return FALSE;
      if (c->granularity == ANE_COMPRESS_GRANULARITY_PER_BLOCK &&
          !needs (target, ANE_MIL_IOS18, "quantization per block", "constexpr_blockwise_shift_scale", error))
        return FALSE;
    }
  return TRUE;
}

gboolean
ane_compress_config_check (AneCompressConfig *config,
                           AneMilTarget       target,
                           GError           **error)
{
  if (!check_one (config, target, error))
    return FALSE;
  for (guint i = 0; i < config->overrides->len; i++)
    if (!check_one (g_ptr_array_index (config->overrides, i), target, error))
      {
        g_prefix_error (error, "override %u: ", i + 1);
        return FALSE;
      }
  return TRUE;
}
