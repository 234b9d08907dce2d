/* bench/convert.c: package sizes and conversion time of a ~110M-parameter
 * LLaMA in the Neural Engine's layout
 *
 *   _build/bench/bench-convert [DIR]
 *
 * Writes a synthetic GGUF (random weights; dim 768, 9 layers, 12 heads,
 * ffn 2048, LLaMA's vocabulary of 32000 — the Neural Engine layout splits
 * its classifier in two — context 256; about 113M parameters) in F16 and in
 * Q8_0 into DIR (default: a temporary directory, removed after), then for
 * each: loads it, builds the Neural Engine-shaped decode and 64-token
 * prefill steps, writes them as one two-function .mlpackage (weights shared)
 * and, for comparison, the generic decode step alone. Prints the GGUF size,
 * each package's weight.bin size, and the seconds each stage took.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <glib/gstdio.h>

#include "ane-glib.h"
#include "ane-file-private.h"
#include "ane-reference-private.h"
#include "gguf/ane-gguf-writer-private.h"

#define DIM 768
#define HIDDEN 2048
#define LAYERS 9
#define HEADS 12
#define VOCAB 32000
#define CONTEXT 256
#define PREFILL 64

static double
seconds_since (gint64 t0)
{
  return (double) (g_get_monotonic_time () - t0) / 1e6;
}

static void
write_gguf (const char *path,
            gboolean    q8)
{
  const AneGgufSyntheticLlama spec = {
    .dim = DIM, .hidden = HIDDEN, .layers = LAYERS, .heads = HEADS, .kv_heads = HEADS, .vocab = VOCAB,
    .context = CONTEXT, .matrices = q8 ? ANE_DTYPE_Q8_0 : ANE_DTYPE_FLOAT16, .seed = 110,
  };
  g_autoptr(GError) error = NULL;

  if (!ane_gguf_write_synthetic_llama (path, &spec, &error))
    g_error ("%s", error->message);
}

static goffset
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (goffset) st.st_size : -1;
}

static void
run (const char *dir,
     gboolean    q8)
{
  const char *kind = q8 ? "Q8_0" : "F16";
  g_autofree char *gguf = g_strdup_printf ("%s/synthetic-%s.gguf", dir, kind);
  g_autofree char *ane_pkg = g_strdup_printf ("%s/ane-%s.mlpackage", dir, kind);
  g_autofree char *gen_pkg = g_strdup_printf ("%s/generic-%s.mlpackage", dir, kind);
  g_autofree char *ane_bin = g_build_filename (ane_pkg, "Data", "com.apple.CoreML", "weights", "weight.bin", NULL);
  g_autofree char *gen_bin = g_build_filename (gen_pkg, "Data", "com.apple.CoreML", "weights", "weight.bin", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) m = NULL;
  g_autoptr(AneGraph) decode = NULL;
  g_autoptr(AneGraph) prefill = NULL;
  g_autoptr(AneGraph) generic = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AnePackage) gpkg = NULL;
  const char *names[2] = { "decode", "prefill" };
  AneGraph *graphs[2];
  double t_write, t_load, t_build, t_lower, t_save, t_generic;
  gint64 t0;

  t0 = g_get_monotonic_time ();
  write_gguf (gguf, q8);
  t_write = seconds_since (t0);
  t0 = g_get_monotonic_time ();
  m = ane_llama_model_load_gguf (gguf, &error);
  if (m == NULL)
    g_error ("%s", error->message);
  t_load = seconds_since (t0);
  t0 = g_get_monotonic_time ();
  decode = ane_llama_model_build_ane_decode (m, CONTEXT, &error);
  prefill = decode ? ane_llama_model_build_ane_prefill (m, PREFILL, CONTEXT, &error) : NULL;
  if (prefill == NULL)
    g_error ("%s", error->message);
  t_build = seconds_since (t0);
  graphs[0] = decode;
  graphs[1] = prefill;
  t0 = g_get_monotonic_time ();
  pkg = ane_package_new_from_graphs (names, graphs, 2, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  if (pkg == NULL)
    g_error ("%s", error->message);
  t_lower = seconds_since (t0);
  t0 = g_get_monotonic_time ();
  if (!ane_package_save (pkg, ane_pkg, TRUE, &error))
    g_error ("%s", error->message);
  t_save = seconds_since (t0);
  t0 = g_get_monotonic_time ();
  generic = ane_llama_model_build_decode (m, CONTEXT, &error);
  gpkg = generic ? ane_package_new_from_graph (generic, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error) : NULL;
  if (gpkg == NULL || !ane_package_save (gpkg, gen_pkg, TRUE, &error))
    g_error ("%s", error->message);
  t_generic = seconds_since (t0);

  printf ("%s: GGUF %.1f MB (written in %.1f s, loaded in %.2f s)\n", kind, file_size (gguf) / 1e6, t_write, t_load);
  printf ("  Neural Engine layout, decode + prefill in one package: weight.bin %.1f MB; graphs built in %.1f s, "
          "lowered in %.1f s, saved in %.1f s\n", file_size (ane_bin) / 1e6, t_build, t_lower, t_save);
  printf ("  generic decode step alone: weight.bin %.1f MB; built, lowered and saved in %.1f s\n",
          file_size (gen_bin) / 1e6, t_generic);
}

int
main (int argc, char *argv[])
{
  g_autofree char *dir = argc > 1 ? g_strdup (argv[1]) : g_dir_make_tmp ("ane-bench-convert-XXXXXX", NULL);

  printf ("synthetic LLaMA, dim %d, %d layers, %d heads, ffn %d, vocab %d, context %d "
          "(about 113M parameters)\n", DIM, LAYERS, HEADS, HIDDEN, VOCAB, CONTEXT);
  run (dir, FALSE);
  run (dir, TRUE);
  if (argc <= 1)
    ane_file_remove_tree (dir);
  return 0;
}
