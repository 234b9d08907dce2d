/* compress/ane-compress-private.h: what the compressor reads of a config,
 * and how one weight is compressed (ane-compress-*.c)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "ane-compress.h"
#include "mil/ane-mil-builder-private.h"
#include "mil/ane-mil-opdefs-private.h"

G_BEGIN_DECLS

/* The config's settings, read by the compressor (ane-compress-config.c). */
struct _AneCompressConfig
{
  GObject                 parent_instance;

  AneCompressMode         mode;
  guint                   bits;          /* palettize: 1..8; quantize: 4 or 8 */
  AneCompressGranularity  granularity;
  guint                   group_size;    /* per grouped channel: channels per table */
  guint                   block_size;    /* per block: input channels per scale */
  AnePalettizeMethod      method;
  guint                   cluster_dim;   /* vector palettization: values per LUT entry */
  guint32                 seed;          /* vector k-means++: the first draw's seed */
  gboolean                int8_lut;      /* joint: the LUT itself quantized to int8 */
  gboolean                is_signed;     /* quantize: int (TRUE) or uint */
  gboolean                symmetric;     /* quantize: no offset (coremltools' linear_symmetric) */
  AnePruneMethod          prune;
  double                  threshold;
  double                  sparsity;
  guint                   prune_n, prune_m;
  guint64                 min_size;      /* weights of at most this many elements stay */
  char                   *select;        /* glob over weight and consumer names, or NULL */
  GPatternSpec           *select_spec;
  char                   *op_type;       /* consumer op type, or NULL */
  GHashTable             *importance;    /* weight name -> AneTensor (float) */
  GPtrArray              *overrides;     /* AneCompressConfig*, first match wins */
};

/* Whether config's own selectors take a weight read by consumer (its op
 * type and name; either may be NULL). */
gboolean           ane_compress_config_matches (AneCompressConfig *config,
                                                const char        *weight,
                                                guint64            n_elements,
                                                const char        *consumer_type,
                                                const char        *consumer_name);
/* The config that decides a weight: the first override that matches, else
 * config itself if it matches, else NULL (the weight stays as it is). */
AneCompressConfig *ane_compress_config_resolve (AneCompressConfig *config,
                                                const char        *weight,
                                                guint64            n_elements,
                                                const char        *consumer_type,
                                                const char        *consumer_name);
/* ANE_ERROR_INVALID_ARGUMENT naming the setting when config (or an
 * override) asks for something no target has (bits, sizes, sparsity);
 * ANE_ERROR_UNSUPPORTED naming the Core ML op and the target when target
 * cannot express it. */
gboolean           ane_compress_config_check   (AneCompressConfig *config,
                                                AneMilTarget       target,
                                                GError           **error);

/* One weight to compress: dense values in row-major order, viewed as
 * [rows, cols] with rows its output channels (the channel axis moved
 * first, as axis_perm says). */
typedef struct {
  const char   *name;          /* the const's output name: the replacement keeps it */
  const char   *consumer_type;
  AneDType      dtype;         /* fp16 or fp32: the weight's, kept for scales and LUTs */
  gint64        shape[8];
  guint         rank;
  gint          channel_axis;  /* output channels, in [0, rank) */
  gint          input_axis;    /* input channels for per-block and n:m, or -1 */
  const float  *values;        /* prod(shape) values */
  const float  *importance;    /* or NULL */
} AneCompressWeight;

/* Emits into b (a builder of the function's target, with every name of the
 * function reserved and weight->name among them) the constexpr ops that
 * make the weight, the last one's output named weight->name, and fills
 * report (name, mode, sizes, errors). FALSE with an error naming the
 * weight (e.g. a shape the granularity cannot divide). */
gboolean           ane_compress_weight         (AneMilBuilder            *b,
                                                AneCompressConfig        *config,
                                                const AneCompressWeight  *weight,
                                                AneCompressedWeight      *report,
                                                GError                  **error);

/* The report object (ane-compress-report.c): takes weights
 * (AneCompressedWeight*), the whole model's weight bytes before and after. */
AneCompressReport *ane_compress_report_new     (GPtrArray         *weights,
                                                guint64            bytes_before,
                                                guint64            bytes_after);

G_END_DECLS
