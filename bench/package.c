/* bench/package.c: lowering and packaging a LLaMA-sized graph
 *
 *   bench-package [--hidden=2048] [--layers=22] [--ffn=5632] [--vocab=32000]
 *                 [--params-scale=1.0] [--seq=64] [--dir=DIR] [--keep]
 *
 * Builds a synthetic LLaMA-style decoder (token embedding, per layer RMSNorm,
 * q/k/v/o projections with grouped-query heads of 64 features, RoPE, causal
 * attention, RMSNorm and a SwiGLU MLP; final norm and an untied LM head).
 * The defaults are TinyLlama's shape: about 1.1 billion parameters, 4.4 GB of
 * fp32 weights, 2.2 GB of fp16 weights written. --params-scale multiplies the
 * layer count and the vocabulary (so the parameter count) by about that much.
 *
 * It prints:
 *  1. lowering time: ane_package_new_from_graph() on the graph with its
 *     weights NOT bound (only the program is built), at --layers and at 32
 *     layers; the best of 10 runs (target: < 50 ms for 32 layers);
 *  2. packaging: the graph again with fp32 host weights (one allocation per
 *     tensor), lowered at fp16 and saved (every file synced before the
 *     rename): seconds, GB/s of fp32 weights consumed and of bytes written,
 *     and peak RSS (getrusage ru_maxrss) against the host weights' bytes;
 *  3. the physical limit: a plain sequential write of the same number of
 *     bytes to the same directory, fsynced, before and after packaging; the
 *     faster one is compared with packaging (target: package >= 70% of it).
 * 1 GB = 1e9 bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ane-glib.h"

#define HEAD_DIM 64

typedef struct {
  gint64 hidden, layers, ffn, vocab, seq, heads, kv_heads;
} Shape;

typedef struct {
  gboolean bind;          /* host weights, or params without values */
  guint64  n_params;
  guint64  host_bytes;
  guint32  seed;
} Build;

static double
now (void)
{
  return (double) g_get_monotonic_time () / G_USEC_PER_SEC;
}

static double
cpu_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double
peak_rss_bytes (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (double) ru.ru_maxrss * 1024.0;   /* Linux: kilobytes */
}

static void
die (const char *what,
     GError     *error)
{
  fprintf (stderr, "bench-package: %s: %s\n", what, error ? error->message : "failed");
  exit (1);
}

/* One weight: a param with a value in one allocation of its own (small
 * uniform values from a xorshift generator), or a param without one. */
static AneTensor *
weight (AneGraph   *g,
        Build      *b,
        const char *name,
        gint64      d0,
        gint64      d1)
{
  g_autoptr(GError) error = NULL;
  gint64 shape[2] = { d0, d1 };
  guint rank = d1 > 0 ? 2 : 1;
  gsize n = (gsize) d0 * (gsize) (d1 > 0 ? d1 : 1);
  AneTensor *t;

  b->n_params += n;
  if (!b->bind)
    t = ane_graph_param (g, name, ANE_DTYPE_FLOAT32, shape, rank, &error);
  else
    {
      float *data = g_try_malloc (n * sizeof (float));
      guint32 s = b->seed++ * 2654435761u + 1;
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(AneTensor) value = NULL;

      if (data == NULL)
        die ("out of memory for the host weights", NULL);
      for (gsize i = 0; i < n; i++)
        {
          s ^= s << 13;
          s ^= s >> 17;
          s ^= s << 5;
          data[i] = ((float) (s >> 8) * (1.0f / 16777216.0f) - 0.5f) * 0.1f;
        }
      bytes = g_bytes_new_take (data, n * sizeof (float));
      b->host_bytes += n * sizeof (float);
      value = ane_tensor_new_from_bytes (name, ANE_DTYPE_FLOAT32, shape, rank, bytes, &error);
      if (value == NULL)
        die (name, error);
      t = ane_graph_param_with_value (g, value, &error);
    }
  if (t == NULL)
    die (name, error);
  return t;
}

#define CHECK(expr) G_STMT_START { if ((expr) == NULL) die (#expr, error); } G_STMT_END

/* x . w^T for w [out, in], the Hugging Face layout. */
static AneTensor *
linear (AneGraph   *g,
        Build      *b,
        AneTensor  *x,
        const char *name,
        gint64      out,
        gint64      in)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) w = weight (g, b, name, out, in);
  AneTensor *y = ane_graph_matmul (g, x, w, FALSE, TRUE, &error);

  if (y == NULL)
    die (name, error);
  return y;
}

/* [1, S, n*64] -> [1, n, S, 64] */
static AneTensor *
split_heads (AneGraph  *g,
             AneTensor *x,
             gint64     seq,
             gint64     n)
{
  g_autoptr(GError) error = NULL;
  gint64 shape[4] = { 1, seq, n, HEAD_DIM }, perm[4] = { 0, 2, 1, 3 };
  g_autoptr(AneTensor) r = ane_graph_reshape (g, x, shape, 4, &error);
  AneTensor *t;

  CHECK (r);
  t = ane_graph_transpose (g, r, perm, 4, &error);
  CHECK (t);
  return t;
}

static AneGraph *
build_llama (const Shape *sh,
             Build       *b)
{
  g_autoptr(GError) error = NULL;
  AneGraph *g = ane_graph_new ();
  gint64 tok_shape[2] = { 1, sh->seq }, pos_shape[1] = { sh->seq };
  gint64 merged[3] = { 1, sh->seq, sh->hidden }, perm[4] = { 0, 2, 1, 3 };
  g_autoptr(AneTensor) tokens = ane_graph_input (g, "tokens", ANE_DTYPE_INT32, tok_shape, 2, &error);
  g_autoptr(AneTensor) positions = ane_graph_input (g, "positions", ANE_DTYPE_INT32, pos_shape, 1, &error);
  g_autoptr(AneTensor) emb = weight (g, b, "tok_embeddings", sh->vocab, sh->hidden);
  g_autoptr(AneTensor) h = NULL;
  g_autoptr(AneTensor) final_norm_w = NULL, hn = NULL, logits = NULL;

  CHECK (tokens);
  CHECK (positions);
  h = ane_graph_gather (g, emb, tokens, 0, &error);   /* [1, S, hidden] */
  CHECK (h);
  for (gint64 l = 0; l < sh->layers; l++)
    {
      g_autofree char *p = g_strdup_printf ("layers.%" G_GINT64_FORMAT, l);
      g_autofree char *n_attn = g_strdup_printf ("%s.attention_norm", p);
      g_autofree char *n_ffn = g_strdup_printf ("%s.ffn_norm", p);
      g_autofree char *n_q = g_strdup_printf ("%s.attention.wq", p);
      g_autofree char *n_k = g_strdup_printf ("%s.attention.wk", p);
      g_autofree char *n_v = g_strdup_printf ("%s.attention.wv", p);
      g_autofree char *n_o = g_strdup_printf ("%s.attention.wo", p);
      g_autofree char *n_gate = g_strdup_printf ("%s.feed_forward.w1", p);
      g_autofree char *n_down = g_strdup_printf ("%s.feed_forward.w2", p);
      g_autofree char *n_up = g_strdup_printf ("%s.feed_forward.w3", p);
      g_autoptr(AneTensor) wn1 = weight (g, b, n_attn, sh->hidden, 0);
      g_autoptr(AneTensor) wn2 = weight (g, b, n_ffn, sh->hidden, 0);
      g_autoptr(AneTensor) x = ane_graph_rms_norm (g, h, wn1, 1e-5, &error);
      g_autoptr(AneTensor) q = NULL, k = NULL, v = NULL, qh = NULL, kh = NULL, vh = NULL;
      g_autoptr(AneTensor) qr = NULL, kr = NULL, a = NULL, at = NULL, am = NULL, o = NULL, h2 = NULL;
      g_autoptr(AneTensor) x2 = NULL, gate = NULL, up = NULL, act = NULL, prod = NULL, down = NULL;

      CHECK (x);
      q = linear (g, b, x, n_q, sh->heads * HEAD_DIM, sh->hidden);
      k = linear (g, b, x, n_k, sh->kv_heads * HEAD_DIM, sh->hidden);
      v = linear (g, b, x, n_v, sh->kv_heads * HEAD_DIM, sh->hidden);
      qh = split_heads (g, q, sh->seq, sh->heads);
      kh = split_heads (g, k, sh->seq, sh->kv_heads);
      vh = split_heads (g, v, sh->seq, sh->kv_heads);
      qr = ane_graph_rope (g, qh, positions, ANE_ROPE_NEOX, 10000.0, 0, &error);
      CHECK (qr);
      kr = ane_graph_rope (g, kh, positions, ANE_ROPE_NEOX, 10000.0, 0, &error);
      CHECK (kr);
      a = ane_graph_attention (g, qr, kr, vh, NULL, TRUE, 0.0, 0.0, &error);
      CHECK (a);
      at = ane_graph_transpose (g, a, perm, 4, &error);
      CHECK (at);
      am = ane_graph_reshape (g, at, merged, 3, &error);
      CHECK (am);
      o = linear (g, b, am, n_o, sh->hidden, sh->heads * HEAD_DIM);
      h2 = ane_graph_add (g, h, o, &error);
      CHECK (h2);

      x2 = ane_graph_rms_norm (g, h2, wn2, 1e-5, &error);
      CHECK (x2);
      gate = linear (g, b, x2, n_gate, sh->ffn, sh->hidden);
      up = linear (g, b, x2, n_up, sh->ffn, sh->hidden);
      act = ane_graph_silu (g, gate, &error);
      CHECK (act);
      prod = ane_graph_mul (g, act, up, &error);
      CHECK (prod);
      down = linear (g, b, prod, n_down, sh->hidden, sh->ffn);
      g_clear_object (&h);
      h = ane_graph_add (g, h2, down, &error);
      CHECK (h);
    }
  final_norm_w = weight (g, b, "norm", sh->hidden, 0);
  hn = ane_graph_rms_norm (g, h, final_norm_w, 1e-5, &error);
  CHECK (hn);
  logits = linear (g, b, hn, "output", sh->vocab, sh->hidden);
  if (!ane_graph_add_output (g, "logits", logits, &error))
    die ("add_output", error);
  return g;
}

/* Lowering only: the best of a few runs, weights not bound; the CPU time
 * too, which other work on the machine disturbs less than the wall time. */
static double
lowering_ms (const Shape *sh,
             guint64     *n_params,
             double      *cpu_ms)
{
  Build b = { FALSE, 0, 0, 1 };
  g_autoptr(AneGraph) g = build_llama (sh, &b);
  double best = G_MAXDOUBLE;

  *cpu_ms = G_MAXDOUBLE;
  for (guint r = 0; r < 10; r++)
    {
      g_autoptr(GError) error = NULL;
      double t0 = now (), c0 = cpu_now ();
      g_autoptr(AnePackage) pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);

      if (pkg == NULL)
        die ("ane_package_new_from_graph", error);
      best = MIN (best, now () - t0);
      *cpu_ms = MIN (*cpu_ms, (cpu_now () - c0) * 1e3);
    }
  *n_params = b.n_params;
  return best * 1e3;
}

/* A plain sequential write of size bytes, fsynced: what the disk and the
 * page cache can do. The bytes are pseudo-random, like fp16 weights, and
 * repeat only every 64 MiB, so a storage layer that compresses or
 * deduplicates gains nothing; they go out in 4 MiB writes, as the package's
 * do. */
static double
plain_write_seconds (const char *dir,
                     guint64     size)
{
  g_autofree char *path = g_build_filename (dir, "plain-write.bin", NULL);
  const gsize chunk = (gsize) 4 << 20, span = (gsize) 64 << 20;
  g_autofree guint32 *buf = g_malloc (span);
  guint32 s = 2463534242u;
  double t0, t;
  int fd;

  for (gsize i = 0; i < span / 4; i++)
    {
      s ^= s << 13;
      s ^= s >> 17;
      s ^= s << 5;
      buf[i] = s;
    }
  t0 = now ();
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    die (path, NULL);
  for (guint64 done = 0; done < size;)
    {
      gsize k = (gsize) MIN ((guint64) MIN (chunk, span - done % span), size - done);
      gssize n = write (fd, (const guint8 *) buf + done % span, k);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        die ("plain write", NULL);
      done += (guint64) n;
    }
  if (fsync (fd) != 0)
    die ("plain fsync", NULL);
  close (fd);
  t = now () - t0;
  g_unlink (path);
  return t;
}

static void
remove_tree (const char *path)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) d = g_dir_open (path, 0, NULL);
      const char *name;

      while (d && (name = g_dir_read_name (d)))
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

int
main (int   argc,
      char *argv[])
{
  Shape sh = { 2048, 22, 5632, 32000, 64, 0, 0 };
  Shape sh32;
  double scale = 1.0;
  g_autofree char *dir_opt = NULL;
  gboolean keep = FALSE;
  gint64 kv_heads = 0;
  GOptionEntry entries[] = {
    { "hidden", 0, 0, G_OPTION_ARG_INT64, &sh.hidden, "Model width (a multiple of 64)", "N" },
    { "layers", 0, 0, G_OPTION_ARG_INT64, &sh.layers, "Decoder layers", "N" },
    { "ffn", 0, 0, G_OPTION_ARG_INT64, &sh.ffn, "MLP width", "N" },
    { "vocab", 0, 0, G_OPTION_ARG_INT64, &sh.vocab, "Vocabulary size", "N" },
    { "kv-heads", 0, 0, G_OPTION_ARG_INT64, &kv_heads, "Key/value heads (default: heads / 8)", "N" },
    { "seq", 0, 0, G_OPTION_ARG_INT64, &sh.seq, "Tokens per call", "N" },
    { "params-scale", 0, 0, G_OPTION_ARG_DOUBLE, &scale, "Scale layers and vocabulary by about this", "S" },
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir_opt, "Where to write (default: a new directory in /tmp)", "DIR" },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, "Keep the package", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- lower and package a LLaMA-sized graph");
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_auto(GStrv) warnings = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *bundle = NULL;
  g_autofree char *wfile = NULL;
  Build b = { TRUE, 0, 0, 1 };
  guint64 n_params_unbound, n32, out_bytes;
  double ms, ms32, cpu, cpu32, t0, t_gen, t_lower, t_save, plain1, plain2, plain, rss_before, rss_peak;
  GStatBuf st;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    die ("options", error);
  if (scale <= 0 || sh.hidden <= 0 || sh.hidden % HEAD_DIM != 0 || sh.layers <= 0 ||
      sh.ffn <= 0 || sh.vocab <= 0 || sh.seq <= 0)
    die ("options: sizes must be positive and --hidden a multiple of 64", NULL);
  sh.layers = MAX (1, (gint64) (sh.layers * scale + 0.5));
  sh.vocab = MAX (64, (gint64) (sh.vocab * scale + 0.5));
  sh.heads = sh.hidden / HEAD_DIM;
  sh.kv_heads = kv_heads > 0 ? kv_heads : MAX (1, sh.heads / 8);
  if (sh.heads % sh.kv_heads != 0)
    die ("options: --kv-heads must divide hidden / 64", NULL);

  printf ("model: hidden %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT " layers, ffn %" G_GINT64_FORMAT
          ", vocab %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT " heads / %" G_GINT64_FORMAT
          " kv heads of %d, %" G_GINT64_FORMAT " tokens\n",
          sh.hidden, sh.layers, sh.ffn, sh.vocab, sh.heads, sh.kv_heads, HEAD_DIM, sh.seq);

  /* 1. lowering alone */
  ms = lowering_ms (&sh, &n_params_unbound, &cpu);
  sh32 = sh;
  sh32.layers = 32;
  ms32 = lowering_ms (&sh32, &n32, &cpu32);
  printf ("lowering (weights not bound, iOS18, fp16, best of 10):\n");
  printf ("  %3" G_GINT64_FORMAT " layers: %8.2f ms wall, %8.2f ms CPU  (%.3f G params)\n",
          sh.layers, ms, cpu, n_params_unbound / 1e9);
  printf ("   32 layers: %8.2f ms wall, %8.2f ms CPU  (%.3f G params; target < 50 ms)\n",
          ms32, cpu32, n32 / 1e9);

  /* 2. packaging with host weights */
  if (dir_opt)
    dir = g_strdup (dir_opt);
  else
    {
      dir = g_dir_make_tmp ("ane-bench-package-XXXXXX", &error);
      if (dir == NULL)
        die ("temporary directory", error);
    }
  bundle = g_build_filename (dir, "llama.mlpackage", NULL);
  wfile = g_build_filename (bundle, "Data", "com.apple.CoreML", "weights", "weight.bin", NULL);

  t0 = now ();
  g = build_llama (&sh, &b);
  t_gen = now () - t0;
  printf ("host weights: %.3f G params, %.3f GB fp32 in %u tensors (generated in %.2f s)\n",
          b.n_params / 1e9, b.host_bytes / 1e9, b.seed - 1, t_gen);

  t0 = now ();
  pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);
  t_lower = now () - t0;
  if (pkg == NULL)
    die ("ane_package_new_from_graph", error);
  warnings = ane_package_dup_warnings (pkg);
  for (guint i = 0; warnings[i]; i++)
    printf ("  warning: %s\n", warnings[i]);

  /* The physical limit, before... */
  out_bytes = ane_package_get_weight_bytes (pkg);
  plain1 = plain_write_seconds (dir, out_bytes);

  rss_before = peak_rss_bytes ();
  t0 = now ();
  if (!ane_package_save (pkg, bundle, TRUE, &error))
    die ("ane_package_save", error);
  t_save = now () - t0;
  rss_peak = peak_rss_bytes ();
  if (g_stat (wfile, &st) != 0)
    die (wfile, NULL);
  out_bytes = (guint64) st.st_size;

  /* ... and after. */
  plain2 = plain_write_seconds (dir, out_bytes);
  plain = MIN (plain1, plain2);

  printf ("package (fp16 weights, iOS18, durable save to %s):\n", dir);
  printf ("  lowering with bound weights: %.2f ms\n", t_lower * 1e3);
  printf ("  save: %.2f s, %.3f GB written; %.2f GB/s of fp32 weights consumed, %.2f GB/s written\n",
          t_save, out_bytes / 1e9, b.host_bytes / t_save / 1e9, out_bytes / t_save / 1e9);
  printf ("  peak RSS: %.3f GB (%.3f GB before saving) = %.3f x the host weights (%.3f GB)\n",
          rss_peak / 1e9, rss_before / 1e9, rss_peak / b.host_bytes, b.host_bytes / 1e9);
  printf ("plain sequential write + fsync of %.3f GB: %.2f s before, %.2f s after (%.2f GB/s best)\n",
          out_bytes / 1e9, plain1, plain2, out_bytes / plain / 1e9);
  printf ("package / plain write speed: %.0f%% (target >= 70%%)\n", 100.0 * plain / t_save);

  if (!keep)
    remove_tree (bundle);
  if (!keep && dir_opt == NULL)
    g_rmdir (dir);
  return 0;
}
