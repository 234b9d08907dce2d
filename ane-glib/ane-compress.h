/* ane-compress.h: weight compression (palettization, linear quantization,
 * pruning) of any ML program package
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "ane-version.h"
#include "ane-tensor.h"
#include "ane-package.h"
#include "ane-graph.h"
#include "ane-progress.h"

G_BEGIN_DECLS

/**
 * AneCompressMode:
 * @ANE_COMPRESS_NONE: leave the selected weights as they are (an override
 *   that exempts some weights from a broader config)
 * @ANE_COMPRESS_PALETTIZE: a look-up table of 2^bits values and an index
 *   per weight (`constexpr_lut_to_dense`)
 * @ANE_COMPRESS_QUANTIZE: integers of 4 or 8 bits with a scale (and an
 *   offset) per tensor, channel or block (`constexpr_affine_dequantize`,
 *   `constexpr_blockwise_shift_scale`)
 * @ANE_COMPRESS_PRUNE: zeros dropped, a bit mask and the other values
 *   kept (`constexpr_sparse_to_dense`)
 *
 * What a [class@Ane.CompressConfig] does to a weight. Pruning can also be
 * added to palettization or quantization (the joint forms of iOS18) with
 * [method@Ane.CompressConfig.set_prune_sparsity] and its siblings.
 *
 * Since: 0.2
 */
typedef enum {
  ANE_COMPRESS_NONE,
  ANE_COMPRESS_PALETTIZE,
  ANE_COMPRESS_QUANTIZE,
  ANE_COMPRESS_PRUNE,
} AneCompressMode;

/**
 * AneCompressGranularity:
 * @ANE_COMPRESS_GRANULARITY_PER_TENSOR: one table (palettization) or one scale
 *   (quantization) for the whole weight
 * @ANE_COMPRESS_GRANULARITY_PER_CHANNEL: quantization: a scale per output channel
 * @ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL: palettization: a table per group of
 *   output channels (iOS18)
 * @ANE_COMPRESS_GRANULARITY_PER_BLOCK: quantization: a scale per block of input
 *   channels of each output channel (iOS18)
 *
 * How many tables or scales a weight gets.
 *
 * Since: 0.2
 */
typedef enum {
  ANE_COMPRESS_GRANULARITY_PER_TENSOR,
  ANE_COMPRESS_GRANULARITY_PER_CHANNEL,
  ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL,
  ANE_COMPRESS_GRANULARITY_PER_BLOCK,
} AneCompressGranularity;

/**
 * AnePalettizeMethod:
 * @ANE_PALETTIZE_KMEANS: the table that minimises the squared error (exact
 *   1-D k-means, optionally weighted by an importance per weight)
 * @ANE_PALETTIZE_UNIFORM: 2^bits evenly spaced values over the weights'
 *   range
 *
 * How a palette (look-up table) is chosen.
 *
 * Since: 0.2
 */
typedef enum {
  ANE_PALETTIZE_KMEANS,
  ANE_PALETTIZE_UNIFORM,
} AnePalettizeMethod;

/**
 * AnePruneMethod:
 * @ANE_PRUNE_OFF: no pruning
 * @ANE_PRUNE_THRESHOLD: zero every weight whose magnitude is at most a
 *   threshold
 * @ANE_PRUNE_SPARSITY: zero the smallest weights by magnitude until a
 *   fraction of them is zero
 * @ANE_PRUNE_N_M: zero the n smallest of every m consecutive weights along
 *   the input channels (structured n:m sparsity)
 *
 * How weights are chosen to become zero.
 *
 * Since: 0.2
 */
typedef enum {
  ANE_PRUNE_OFF,
  ANE_PRUNE_THRESHOLD,
  ANE_PRUNE_SPARSITY,
  ANE_PRUNE_N_M,
} AnePruneMethod;

#define ANE_TYPE_COMPRESS_CONFIG (ane_compress_config_get_type ())

ANE_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (AneCompressConfig, ane_compress_config, ANE, COMPRESS_CONFIG, GObject)

ANE_AVAILABLE_IN_0_2
AneCompressConfig *ane_compress_config_new_palettize  (guint                   bits);
ANE_AVAILABLE_IN_0_2
AneCompressConfig *ane_compress_config_new_quantize   (guint                   bits,
                                                       gboolean                is_signed);
ANE_AVAILABLE_IN_0_2
AneCompressConfig *ane_compress_config_new_prune      (double                  sparsity);
ANE_AVAILABLE_IN_0_2
AneCompressConfig *ane_compress_config_new_prune_n_m  (guint                   n,
                                                       guint                   m);
ANE_AVAILABLE_IN_0_2
AneCompressConfig *ane_compress_config_new_skip       (void);

ANE_AVAILABLE_IN_0_2
AneCompressMode    ane_compress_config_get_mode       (AneCompressConfig      *self);
ANE_AVAILABLE_IN_0_2
guint              ane_compress_config_get_bits       (AneCompressConfig      *self);
ANE_AVAILABLE_IN_0_2
void               ane_compress_config_set_granularity (AneCompressConfig     *self,
                                                        AneCompressGranularity granularity,
                                                        guint                  size);
ANE_AVAILABLE_IN_0_2
AneCompressGranularity ane_compress_config_get_granularity (AneCompressConfig *self);
ANE_AVAILABLE_IN_0_2
void               ane_compress_config_set_method     (AneCompressConfig      *self,
                                                       AnePalettizeMethod      method);
ANE_AVAILABLE_IN_0_2
void               ane_compress_config_set_cluster_dim (AneCompressConfig     *self,
                                                        guint                  cluster_dim);
ANE_AVAILABLE_IN_0_2
void               ane_compress_config_set_seed       (AneCompressConfig      *self,
                                                       guint32                 seed);
ANE_AVAILABLE_IN_0_2
void               ane_compress_config_set_int8_lut   (AneCompressConfig      *self,
                                                       gboolean                int8_lut);
ANE_AVAILABLE_IN_0_2
void               ane_compress_config_set_symmetric  (AneCompressConfig      *self,
                                                       gboolean                symmetric);
ANE_AVAILABLE_IN_0_2
void               ane_compress_config_set_prune_threshold (AneCompressConfig *self,
                                                            double             threshold);
ANE_AVAILABLE_IN_0_2
void               ane_compress_config_set_prune_sparsity  (AneCompressConfig *self,
                                                            double             sparsity);
ANE_AVAILABLE_IN_0_2
void               ane_compress_config_set_prune_n_m  (AneCompressConfig      *self,
                                                       guint                   n,
                                                       guint                   m);
ANE_AVAILABLE_IN_0_2
AnePruneMethod     ane_compress_config_get_prune_method (AneCompressConfig    *self);
ANE_AVAILABLE_IN_0_2
void               ane_compress_config_set_min_size   (AneCompressConfig      *self,
                                                       guint64                 min_size);
ANE_AVAILABLE_IN_0_2
void               ane_compress_config_set_select     (AneCompressConfig      *self,
                                                       const char             *pattern);
ANE_AVAILABLE_IN_0_2
void               ane_compress_config_set_op_type    (AneCompressConfig      *self,
                                                       const char             *op_type);
ANE_AVAILABLE_IN_0_2
gboolean           ane_compress_config_set_importance (AneCompressConfig      *self,
                                                       const char             *weight,
                                                       AneTensor              *importance,
                                                       GError                **error);
ANE_AVAILABLE_IN_0_2
void               ane_compress_config_add_override   (AneCompressConfig      *self,
                                                       AneCompressConfig      *config);
ANE_AVAILABLE_IN_0_2
char              *ane_compress_config_to_string      (AneCompressConfig      *self);

/**
 * AneCompressedWeight:
 * @name: the weight (the name of the const it was)
 * @op_type: the type of the op that reads it ("linear", "conv", ...)
 * @mode: what was done ("palettize", "quantize", "prune", "prune+palettize",
 *   "prune+quantize")
 * @detail: the form, e.g. "4-bit kmeans LUT per grouped channel (group 8)"
 * @bits: bits per stored weight (indices or integers; 1 for a mask alone)
 * @bytes_before: the bytes the weight took (fp16 or fp32)
 * @bytes_after: the bytes its compressed form takes in the weight file
 * @max_error: the largest |w − w'| over the weight
 * @rms_error: the root mean square of w − w'
 * @sparsity: the fraction of zeros after compression
 *
 * What [method@Ane.Package.compress] did to one weight.
 *
 * Since: 0.2
 */
typedef struct {
  char    *name;
  char    *op_type;
  char    *mode;
  char    *detail;
  guint    bits;
  guint64  bytes_before;
  guint64  bytes_after;
  double   max_error;
  double   rms_error;
  double   sparsity;
} AneCompressedWeight;

#define ANE_TYPE_COMPRESSED_WEIGHT (ane_compressed_weight_get_type ())
ANE_AVAILABLE_IN_0_2
GType                ane_compressed_weight_get_type (void) G_GNUC_CONST;
ANE_AVAILABLE_IN_0_2
AneCompressedWeight *ane_compressed_weight_copy     (const AneCompressedWeight *self);
ANE_AVAILABLE_IN_0_2
void                 ane_compressed_weight_free     (AneCompressedWeight       *self);

#define ANE_TYPE_COMPRESS_REPORT (ane_compress_report_get_type ())

ANE_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (AneCompressReport, ane_compress_report, ANE, COMPRESS_REPORT, GObject)

ANE_AVAILABLE_IN_0_2
GPtrArray  *ane_compress_report_get_weights      (AneCompressReport *self);
ANE_AVAILABLE_IN_0_2
guint64     ane_compress_report_get_bytes_before (AneCompressReport *self);
ANE_AVAILABLE_IN_0_2
guint64     ane_compress_report_get_bytes_after  (AneCompressReport *self);
ANE_AVAILABLE_IN_0_2
double      ane_compress_report_get_ratio        (AneCompressReport *self);
ANE_AVAILABLE_IN_0_2
char       *ane_compress_report_to_string        (AneCompressReport *self);
ANE_AVAILABLE_IN_0_2
char       *ane_compress_report_to_json          (AneCompressReport *self);

ANE_AVAILABLE_IN_0_2
AnePackage *ane_package_compress                 (AnePackage        *package,
                                                  AneCompressConfig *config,
                                                  GCancellable      *cancellable,
                                                  AneProgress       *progress,
                                                  GError           **error);
ANE_AVAILABLE_IN_0_2
AneCompressReport *ane_package_get_compression_report (AnePackage   *package);
ANE_AVAILABLE_IN_0_2
AnePackage *ane_package_new_from_graph_compressed (AneGraph          *graph,
                                                   AneTarget          target,
                                                   AnePrecision       precision,
                                                   AneCompressConfig *config,
                                                   AneProgress       *progress,
                                                   GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneCompressedWeight, ane_compressed_weight_free)

G_END_DECLS
