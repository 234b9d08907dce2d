/* ane-tool-compress.c: `ane-tool compress`, a package's weights palettized,
 * quantized or pruned (ane_package_compress) and written atomically
 *
 * Every flag is checked, and named in its message, before the model is
 * read: a typo costs nothing. The library checks again what the package's
 * target can express (4-bit integers before iOS18...) and its message names
 * the Core ML op and the target. Nothing is written until the whole model
 * is compressed, and ane_package_save_full() writes in a temporary sibling
 * renamed into place: a failure leaves no OUT, and an existing OUT as it
 * was.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ane-tool-private.h"
#include "ane-glib.h"

#define COMMAND "compress"

typedef struct {
  char     *palettize, *granularity, *group_size, *method, *cluster_dim;
  gboolean  int8_lut;
  char     *quantize;
  gboolean  per_tensor, per_channel, symmetric, affine;
  char     *block;
  char     *prune, *prune_nm, *prune_threshold;
  char     *min_size, *select, *op_type;
} Flags;

static void
flags_clear (Flags *f)
{
  g_free (f->palettize);
  g_free (f->granularity);
  g_free (f->group_size);
  g_free (f->method);
  g_free (f->cluster_dim);
  g_free (f->quantize);
  g_free (f->block);
  g_free (f->prune);
  g_free (f->prune_nm);
  g_free (f->prune_threshold);
  g_free (f->min_size);
  g_free (f->select);
  g_free (f->op_type);
}

static gboolean
usage_error (const char *format,
             ...) G_GNUC_PRINTF (1, 2);

/* Always FALSE, after "ane-tool compress: MESSAGE" and the --help hint. */
static gboolean
usage_error (const char *format,
             ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "ane-tool %s: %s\nRun 'ane-tool %s --help' for usage.\n", COMMAND, message, COMMAND);
  return FALSE;
}

/* A whole number in [min, max] for the flag named, or a message naming it. */
static gboolean
parse_count (const char *flag,
             const char *text,
             guint64     min,
             guint64     max,
             guint64    *value)
{
  if (!g_ascii_string_to_unsigned (text, 10, min, max, value, NULL))
    return usage_error ("%s takes a whole number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT ", not '%s'",
                        flag, min, max, text);
  return TRUE;
}

static gboolean
parse_real (const char *flag,
            const char *text,
            double      min,
            double      max,
            double     *value)
{
  char *end = NULL;

  *value = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !(*value >= min && *value <= max))
    return usage_error ("%s takes a number from %g to %g, not '%s'", flag, min, max, text);
  return TRUE;
}

static gboolean
parse_n_m (const char *text,
           guint      *n,
           guint      *m)
{
  g_auto(GStrv) parts = g_strsplit (text, ":", -1);
  guint64 nn, mm;

  if (g_strv_length (parts) != 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 0, 65536, &nn, NULL) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 1, 65536, &mm, NULL) || nn > mm)
    return usage_error ("--prune-nm takes N:M, N of every M weights made zero (0 <= N <= M), not '%s'", text);
  *n = (guint) nn;
  *m = (guint) mm;
  return TRUE;
}

/* The pruning the flags ask for (at most one of the three), set on config. */
static gboolean
apply_pruning (Flags             *f,
               AneCompressConfig *config)
{
  if (f->prune != NULL)
    {
      double sparsity;

      if (!parse_real ("--prune", f->prune, 0.0, 1.0, &sparsity))
        return FALSE;
      ane_compress_config_set_prune_sparsity (config, sparsity);
    }
  else if (f->prune_nm != NULL)
    {
      guint n = 0, m = 0;

      if (!parse_n_m (f->prune_nm, &n, &m))
        return FALSE;
      ane_compress_config_set_prune_n_m (config, n, m);
    }
  else if (f->prune_threshold != NULL)
    {
      double threshold;

      if (!parse_real ("--prune-threshold", f->prune_threshold, 0.0, G_MAXDOUBLE, &threshold))
        return FALSE;
      ane_compress_config_set_prune_threshold (config, threshold);
    }
  return TRUE;
}

static AneCompressConfig *
palettize_config (Flags *f)
{
  g_autoptr(AneCompressConfig) config = NULL;
  guint64 bits, group = 0, cluster = 1;
  AneCompressGranularity granularity = ANE_COMPRESS_GRANULARITY_PER_TENSOR;

  if (!g_ascii_string_to_unsigned (f->palettize, 10, 1, 8, &bits, NULL) || bits == 5 || bits == 7)
    return usage_error ("--palettize takes 1, 2, 3, 4, 6 or 8 bits, not '%s'", f->palettize), NULL;
  if (f->group_size != NULL && !parse_count ("--group-size", f->group_size, 1, G_MAXUINT32, &group))
    return NULL;
  if (g_strcmp0 (f->granularity, "per-grouped-channel") == 0 || (f->granularity == NULL && f->group_size != NULL))
    granularity = ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL;
  else if (f->granularity != NULL && g_strcmp0 (f->granularity, "per-tensor") != 0)
    return usage_error ("--granularity takes per-tensor or per-grouped-channel, not '%s'", f->granularity), NULL;
  if (granularity == ANE_COMPRESS_GRANULARITY_PER_TENSOR && f->group_size != NULL)
    return usage_error ("--group-size is for --granularity per-grouped-channel, not per-tensor"), NULL;
  if (f->cluster_dim != NULL && !parse_count ("--cluster-dim", f->cluster_dim, 1, 64, &cluster))
    return NULL;

  config = ane_compress_config_new_palettize ((guint) bits);
  ane_compress_config_set_granularity (config, granularity, (guint) group);
  if (f->method != NULL)
    {
      if (g_strcmp0 (f->method, "kmeans") == 0)
        ane_compress_config_set_method (config, ANE_PALETTIZE_KMEANS);
      else if (g_strcmp0 (f->method, "uniform") == 0)
        ane_compress_config_set_method (config, ANE_PALETTIZE_UNIFORM);
      else
        return usage_error ("--method takes kmeans or uniform, not '%s'", f->method), NULL;
    }
  ane_compress_config_set_cluster_dim (config, (guint) cluster);
  ane_compress_config_set_int8_lut (config, f->int8_lut);
  return g_steal_pointer (&config);
}

static AneCompressConfig *
quantize_config (Flags *f)
{
  static const struct { const char *name; guint bits; gboolean is_signed; } dtypes[] = {
    { "int8", 8, TRUE }, { "uint8", 8, FALSE }, { "int4", 4, TRUE }, { "uint4", 4, FALSE },
  };
  g_autoptr(AneCompressConfig) config = NULL;
  guint64 block = 0;
  guint which;

  for (which = 0; which < G_N_ELEMENTS (dtypes); which++)
    if (g_ascii_strcasecmp (f->quantize, dtypes[which].name) == 0)
      break;
  if (which == G_N_ELEMENTS (dtypes))
    return usage_error ("--quantize takes int8, uint8, int4 or uint4, not '%s'", f->quantize), NULL;
  if (f->per_tensor + f->per_channel + (f->block != NULL) > 1)
    return usage_error ("give one of --per-tensor, --per-channel and --block B"), NULL;
  if (f->symmetric && f->affine)
    return usage_error ("give --symmetric or --affine, not both"), NULL;
  if (f->block != NULL && !parse_count ("--block", f->block, 1, G_MAXUINT32, &block))
    return NULL;

  config = ane_compress_config_new_quantize (dtypes[which].bits, dtypes[which].is_signed);
  if (f->per_tensor)
    ane_compress_config_set_granularity (config, ANE_COMPRESS_GRANULARITY_PER_TENSOR, 0);
  else if (f->block != NULL)
    ane_compress_config_set_granularity (config, ANE_COMPRESS_GRANULARITY_PER_BLOCK, (guint) block);
  if (f->affine)
    ane_compress_config_set_symmetric (config, FALSE);
  return g_steal_pointer (&config);
}

/* The config the flags describe, or NULL after a message naming the flag. */
static AneCompressConfig *
config_from_flags (Flags *f)
{
  g_autoptr(AneCompressConfig) config = NULL;
  int n_prune = (f->prune != NULL) + (f->prune_nm != NULL) + (f->prune_threshold != NULL);
  gboolean palettize_flags = f->granularity || f->group_size || f->method || f->cluster_dim || f->int8_lut;
  gboolean quantize_flags = f->per_tensor || f->per_channel || f->block || f->symmetric || f->affine;

  if (f->palettize == NULL && f->quantize == NULL && n_prune == 0)
    return usage_error ("say what to do: --palettize BITS, --quantize TYPE or --prune SPARSITY "
                        "(or --prune-nm N:M, --prune-threshold T)"), NULL;
  if (f->palettize != NULL && f->quantize != NULL)
    return usage_error ("give --palettize or --quantize, not both (either may be joined with a --prune flag)"), NULL;
  if (n_prune > 1)
    return usage_error ("give one of --prune, --prune-nm and --prune-threshold"), NULL;
  if (palettize_flags && f->palettize == NULL)
    return usage_error ("%s is for --palettize",
                        f->granularity ? "--granularity" : f->group_size ? "--group-size" : f->method ? "--method"
                        : f->cluster_dim ? "--cluster-dim" : "--int8-lut"), NULL;
  if (quantize_flags && f->quantize == NULL)
    return usage_error ("%s is for --quantize",
                        f->per_tensor ? "--per-tensor" : f->per_channel ? "--per-channel" : f->block ? "--block"
                        : f->symmetric ? "--symmetric" : "--affine"), NULL;

  if (f->palettize != NULL)
    config = palettize_config (f);
  else if (f->quantize != NULL)
    config = quantize_config (f);
  else
    config = ane_compress_config_new_prune (0.0);
  if (config == NULL || !apply_pruning (f, config))
    return NULL;
  if (f->min_size != NULL)
    {
      guint64 min_size;

      if (!parse_count ("--min-size", f->min_size, 0, G_MAXUINT64, &min_size))
        return NULL;
      ane_compress_config_set_min_size (config, min_size);
    }
  if (f->select != NULL)
    ane_compress_config_set_select (config, f->select);
  if (f->op_type != NULL)
    ane_compress_config_set_op_type (config, f->op_type);
  return g_steal_pointer (&config);
}

int
ane_tool_compress (int    argc,
                   char **argv)
{
  g_autofree char *output = NULL, *target_name = NULL, *precision_name = NULL;
  gboolean json = FALSE, overwrite = FALSE;
  Flags f = { 0, };
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the compressed .mlpackage here (required)",
      "OUT.mlpackage" },
    { "palettize", 0, 0, G_OPTION_ARG_STRING, &f.palettize,
      "Palettize: each weight an index into a table of 2^BITS values (1, 2, 3, 4, 6 or 8; 3 needs iOS18)", "BITS" },
    { "granularity", 0, 0, G_OPTION_ARG_STRING, &f.granularity,
      "Palettization: one table per-tensor (default) or per-grouped-channel (iOS18)", "GRANULARITY" },
    { "group-size", 0, 0, G_OPTION_ARG_STRING, &f.group_size,
      "Palettization per grouped channel: output channels per table (default 32)", "G" },
    { "method", 0, 0, G_OPTION_ARG_STRING, &f.method,
      "Palettization: kmeans (default, exact 1-D k-means) or uniform tables", "METHOD" },
    { "cluster-dim", 0, 0, G_OPTION_ARG_STRING, &f.cluster_dim,
      "Palettization: table entries of D values (vector palettization, iOS18; default 1)", "D" },
    { "int8-lut", 0, 0, G_OPTION_ARG_NONE, &f.int8_lut,
      "Palettization: tables of int8 with a scale instead of fp16 (iOS18)", NULL },
    { "quantize", 0, 0, G_OPTION_ARG_STRING, &f.quantize,
      "Linear quantization to int8, uint8, int4 or uint4 (4 bits need iOS18)", "TYPE" },
    { "per-tensor", 0, 0, G_OPTION_ARG_NONE, &f.per_tensor, "Quantization: one scale for the whole weight", NULL },
    { "per-channel", 0, 0, G_OPTION_ARG_NONE, &f.per_channel,
      "Quantization: a scale per output channel (the default)", NULL },
    { "block", 0, 0, G_OPTION_ARG_STRING, &f.block,
      "Quantization: a scale per B input channels of each output channel (iOS18)", "B" },
    { "symmetric", 0, 0, G_OPTION_ARG_NONE, &f.symmetric,
      "Quantization: no offset, -127..127 for int8 (the default)", NULL },
    { "affine", 0, 0, G_OPTION_ARG_NONE, &f.affine, "Quantization: an offset (zero point) with each scale", NULL },
    { "prune", 0, 0, G_OPTION_ARG_STRING, &f.prune,
      "Prune the smallest weights until this fraction is zero (0 to 1); with --palettize or --quantize, "
      "the joint forms of iOS18", "SPARSITY" },
    { "prune-nm", 0, 0, G_OPTION_ARG_STRING, &f.prune_nm,
      "Prune the N smallest of every M consecutive input-channel weights", "N:M" },
    { "prune-threshold", 0, 0, G_OPTION_ARG_STRING, &f.prune_threshold,
      "Prune every weight whose magnitude is at most T", "T" },
    { "min-size", 0, 0, G_OPTION_ARG_STRING, &f.min_size,
      "Leave weights of N elements or fewer as they are (default 2048, as coremltools)", "N" },
    { "select", 0, 0, G_OPTION_ARG_STRING, &f.select,
      "Only the weights whose name, or whose reader's name, matches this glob", "PATTERN" },
    { "op-type", 0, 0, G_OPTION_ARG_STRING, &f.op_type,
      "Only the weights read by ops of this type (linear, conv, matmul...)", "TYPE" },
    { "target", 't', 0, G_OPTION_ARG_STRING, &target_name,
      "For a graph .json: the deployment target it is lowered for (default ios18)", "TARGET" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name,
      "For a graph .json: fp16 (default) or fp32", "PRECISION" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the report as JSON (and nothing else on stdout)", NULL },
    { "overwrite", 'f', 0, G_OPTION_ARG_NONE, &overwrite, "Replace an existing OUT", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneCompressConfig) config = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AnePackage) compressed = NULL;
  g_autoptr(AneProgress) progress = NULL;
  g_autofree char *text = NULL;
  AneCompressReport *report;
  AneToolBar *bar = NULL;
  AneTarget target = ANE_TARGET_IOS18;
  AnePrecision precision = ANE_PRECISION_FLOAT16;
  AneToolInputKind kind;
  int status = 0;

  if (!ane_tool_parse (&argc, &argv, COMMAND, "IN",
                       "Compress the weights of a .mlpackage (or a .mil file, or a graph .json\n"
                       "lowered first) as coremltools' ct.optimize.coreml does: palettization\n"
                       "(constexpr_lut_to_dense), linear quantization (constexpr_affine_dequantize\n"
                       "before iOS18, constexpr_blockwise_shift_scale from iOS18) or pruning\n"
                       "(constexpr_sparse_to_dense), and write OUT. Prints what was done to each\n"
                       "weight. docs/compression.md describes the modes.",
                       entries, 1, 1, &status))
    {
      flags_clear (&f);
      return status;
    }
  config = config_from_flags (&f);
  flags_clear (&f);
  if (config == NULL)
    return 2;
  if (output == NULL)
    return usage_error ("-o/--output OUT.mlpackage is required"), 2;
  if (!ane_tool_parse_lowering (COMMAND, target_name, precision_name, &target, &precision))
    return 2;
  if (!ane_tool_classify_input (COMMAND, argv[1], "a .mlpackage, a .mil file or a graph .json", &kind))
    return 1;
  if (!ane_tool_check_overwrite (COMMAND, output, overwrite))
    return 1;

  progress = ane_tool_progress_new (&bar);
  pkg = ane_tool_load_model (argv[1], kind, target, precision, &error);
  if (pkg == NULL)
    return ane_tool_fail (COMMAND, error);
  compressed = ane_package_compress (pkg, config, NULL, progress, &error);
  if (compressed == NULL)
    {
      ane_tool_bar_end_line (bar);
      g_prefix_error (&error, "%s: ", argv[1]);
      return ane_tool_fail (COMMAND, error);
    }
  if (!ane_package_save_full (compressed, output, overwrite, progress, &error))
    {
      ane_tool_bar_end_line (bar);
      return ane_tool_fail (COMMAND, error);
    }
  report = ane_package_get_compression_report (compressed);
  text = json ? ane_compress_report_to_json (report) : ane_compress_report_to_string (report);
  fputs (text, stdout);
  if (json)
    fputc ('\n', stdout);
  else
    printf ("wrote %s\n", output);
  return 0;
}
