/* bench/compress.c: ane_package_compress() on a ~110M-parameter model, per
 * mode
 *
 *   _build/bench/bench-compress [MODE...]
 *
 * Builds, in memory, a LLaMA-sized stack of float weights (random normal,
 * σ 0.02): a token embedding [32000, 768] read by a gather, then 12 layers
 * of four [768, 768] projections and the three [2048, 768] / [768, 2048]
 * of a gated feed-forward, each a matmul with transpose_y (weights
 * [out, in], as linear layers store them): 110.2M parameters, lowered to a
 * float16 iOS18 package (220 MB of weights). Then times ane_package_compress
 * for each MODE (default: all of them, in this order):
 *
 *   pal4       palettize 4 bits, k-means, per tensor
 *   pal4g8     palettize 4 bits, k-means, per grouped channel, group 8 (Anemll's LUT4)
 *   pal8       palettize 8 bits, k-means, per tensor
 *   int8       quantize int8 symmetric, per channel
 *   int4b32    quantize int4 symmetric, per block of 32
 *   prune50    prune to 50% sparsity
 *   prune24    prune 2:4
 *
 * For each: seconds, GB/s of float16 weights read, the peak resident
 * memory during the call above what was resident before it (the peak is
 * reset through /proc/self/clear_refs, Linux 4.0+; "-" elsewhere) and the
 * weight size ratio.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ane-glib.h"

#define DIM    768
#define HIDDEN 2048
#define LAYERS 12
#define VOCAB  32000

typedef struct {
  const char *name;
  const char *what;
} Mode;

static const Mode modes[] = {
  { "pal4", "palettize 4-bit k-means per tensor" },
  { "pal4g8", "palettize 4-bit k-means per grouped channel (8)" },
  { "pal8", "palettize 8-bit k-means per tensor" },
  { "int8", "quantize int8 symmetric per channel" },
  { "int4b32", "quantize int4 symmetric per block (32)" },
  { "prune50", "prune 50% sparsity" },
  { "prune24", "prune 2:4" },
};

static AneCompressConfig *
mode_config (const char *name)
{
  AneCompressConfig *c = NULL;

  if (g_str_equal (name, "pal4"))
    c = ane_compress_config_new_palettize (4);
  else if (g_str_equal (name, "pal4g8"))
    {
      c = ane_compress_config_new_palettize (4);
      ane_compress_config_set_granularity (c, ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL, 8);
    }
  else if (g_str_equal (name, "pal8"))
    c = ane_compress_config_new_palettize (8);
  else if (g_str_equal (name, "int8"))
    c = ane_compress_config_new_quantize (8, TRUE);
  else if (g_str_equal (name, "int4b32"))
    {
      c = ane_compress_config_new_quantize (4, TRUE);
      ane_compress_config_set_granularity (c, ANE_COMPRESS_GRANULARITY_PER_BLOCK, 32);
    }
  else if (g_str_equal (name, "prune50"))
    c = ane_compress_config_new_prune (0.5);
  else if (g_str_equal (name, "prune24"))
    c = ane_compress_config_new_prune_n_m (2, 4);
  return c;
}

/* Normal values of σ 0.02 (Box-Muller over a xorshift: fast, and the same
 * every run). */
static guint64 rng_state = 0x9E3779B97F4A7C15ull;

static double
uniform01 (void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return ((double) (rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static AneTensor *
weight (AneGraph   *g,
        const char *name,
        gint64      rows,
        gint64      cols)
{
  g_autoptr(GError) error = NULL;
  gsize n = (gsize) rows * (gsize) cols;
  float *v = g_new (float, n);
  gint64 shape[2] = { rows, cols };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(AneTensor) value = NULL;
  AneTensor *param;

  for (gsize i = 0; i + 1 < n; i += 2)
    {
      double r = sqrt (-2.0 * log (uniform01 ())), t = 2.0 * G_PI * uniform01 ();

      v[i] = (float) (0.02 * r * cos (t));
      v[i + 1] = (float) (0.02 * r * sin (t));
    }
  bytes = g_bytes_new_take (v, n * sizeof (float));
  value = ane_tensor_new_from_bytes (name, ANE_DTYPE_FLOAT32, shape, 2, bytes, &error);
  param = ane_graph_param_with_value (g, value, &error);
  if (param == NULL)
    g_error ("%s: %s", name, error->message);
  return param;
}

static AneTensor *
linear (AneGraph   *g,
        AneTensor  *x,
        const char *name,
        gint64      out,
        gint64      in)
{
  g_autoptr(GError) error = NULL;
  AneTensor *y = ane_graph_matmul (g, x, weight (g, name, out, in), FALSE, TRUE, &error);

  if (y == NULL)
    g_error ("%s: %s", name, error->message);
  return y;
}

static AnePackage *
build_package (guint64 *n_params)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_new ();
  gint64 one[1] = { 1 };
  AneTensor *tokens = ane_graph_input (g, "tokens", ANE_DTYPE_INT32, one, 1, &error);
  AneTensor *x = ane_graph_gather (g, weight (g, "embedding", VOCAB, DIM), tokens, 0, &error);
  AnePackage *pkg;

  *n_params = (guint64) VOCAB * DIM;
  for (int l = 0; l < LAYERS && x != NULL; l++)
    {
      static const char *const projections[4] = { "wq", "wk", "wv", "wo" };
      AneTensor *gate, *up;

      for (int p = 0; p < 4; p++)
        {
          g_autofree char *name = g_strdup_printf ("layers.%d.%s", l, projections[p]);

          x = linear (g, x, name, DIM, DIM);
        }
      {
        g_autofree char *w1 = g_strdup_printf ("layers.%d.w1", l);
        g_autofree char *w3 = g_strdup_printf ("layers.%d.w3", l);
        g_autofree char *w2 = g_strdup_printf ("layers.%d.w2", l);

        gate = linear (g, x, w1, HIDDEN, DIM);
        up = linear (g, x, w3, HIDDEN, DIM);
        x = ane_graph_mul (g, gate, up, &error);
        if (x == NULL)
          g_error ("mul: %s", error->message);
        x = linear (g, x, w2, DIM, HIDDEN);
      }
      *n_params += 4 * (guint64) DIM * DIM + 3 * (guint64) DIM * HIDDEN;
    }
  if (x == NULL || !ane_graph_add_output (g, "y", x, &error))
    g_error ("graph: %s", error->message);
  pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  if (pkg == NULL)
    g_error ("lower: %s", error->message);
  return pkg;
}

/* A field of /proc/self/status in bytes, or -1. */
static gint64
status_bytes (const char *field)
{
  g_autofree char *text = NULL;
  const char *at;

  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL) || (at = strstr (text, field)) == NULL)
    return -1;
  return g_ascii_strtoll (at + strlen (field) + 1, NULL, 10) * 1024;
}

/* Resets the peak RSS (VmHWM) to the current RSS, as `echo 5 >
 * /proc/PID/clear_refs` does (proc(5)). */
static gboolean
reset_peak (void)
{
  /* written in place: g_file_set_contents would write a temporary and
   * rename it, which /proc refuses */
  FILE *f = fopen ("/proc/self/clear_refs", "w");
  gboolean ok;

  if (f == NULL)
    return FALSE;
  ok = fputs ("5", f) >= 0;
  return fclose (f) == 0 && ok;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(AnePackage) pkg = NULL;
  guint64 n_params = 0, weight_bytes;
  gint64 t0;
  double build_s;

  t0 = g_get_monotonic_time ();
  pkg = build_package (&n_params);
  build_s = (double) (g_get_monotonic_time () - t0) / 1e6;
  weight_bytes = ane_package_get_weight_bytes (pkg);
  printf ("model: %.1fM parameters, %.1f MB of float16 weights (built and lowered in %.1f s)\n",
          (double) n_params / 1e6, (double) weight_bytes / 1e6, build_s);
  printf ("%-9s %-48s %9s %8s %12s %7s\n", "mode", "", "seconds", "GB/s", "peak +RSS", "ratio");

  for (int i = 0; i < (argc > 1 ? argc - 1 : (int) G_N_ELEMENTS (modes)); i++)
    {
      const char *name = argc > 1 ? argv[i + 1] : modes[i].name;
      const char *what = "";
      g_autoptr(AneCompressConfig) config = mode_config (name);
      g_autoptr(AnePackage) small = NULL;
      g_autoptr(GError) error = NULL;
      gboolean peak_known;
      gint64 rss_before, peak;
      double s;
      char peak_text[32];

      if (config == NULL)
        {
          fprintf (stderr, "bench-compress: unknown mode '%s'\n", name);
          return 2;
        }
      for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
        if (g_str_equal (modes[m].name, name))
          what = modes[m].what;
      peak_known = reset_peak ();
      rss_before = status_bytes ("VmRSS:");
      t0 = g_get_monotonic_time ();
      small = ane_package_compress (pkg, config, NULL, NULL, &error);
      s = (double) (g_get_monotonic_time () - t0) / 1e6;
      if (small == NULL)
        g_error ("%s: %s", name, error->message);
      peak = status_bytes ("VmHWM:");
      if (peak_known && peak >= 0 && rss_before >= 0)
        g_snprintf (peak_text, sizeof peak_text, "%.0f MB", (double) (peak - rss_before) / 1e6);
      else
        g_strlcpy (peak_text, "-", sizeof peak_text);
      printf ("%-9s %-48s %9.2f %8.3f %12s %7.3f\n", name, what, s, (double) weight_bytes / 1e9 / s, peak_text,
              ane_compress_report_get_ratio (ane_package_get_compression_report (small)));
      fflush (stdout);
    }
  return 0;
}
