/* transformer-block.c: one LLaMA-style decoder block with ane-glib
 *
 *     h   = x + Wo · attention(rope(Wq · rms_norm(x)), rope(Wk · rms_norm(x)), Wv · rms_norm(x))
 *     out = h + W2 · (silu(W1 · rms_norm(h)) * W3 · rms_norm(h))
 *
 * with causal grouped-query attention (4 query heads sharing 2 key/value
 * heads), NeoX-style rotary embeddings and a SwiGLU feed-forward network.
 * The weights are deterministic pseudo-random numbers baked into the graph
 * with ane_graph_param_with_value(); the block runs on a [1, seq, dim] input
 * and prints the output's shape, a few values and a checksum, then checks
 * the output against the same block written out in plain C (block_by_hand
 * at the end), exiting non-zero on a mismatch.
 *
 * With --backend cpu the block is lowered to a CoreML ML Program and run by
 * the MIL interpreter. --package and --mil write the lowered program as an
 * .mlpackage bundle and as MIL text (with weights/weight.bin beside it).
 *
 *     transformer-block [--seq N] [--dim N] [--backend reference|cpu]
 *                       [--precision fp16|fp32] [--package OUT.mlpackage] [--mil OUT.mil]
 *
 * examples/transformer_block.py builds the same block from Python and checks
 * it against numpy.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>

#include <ane-glib/ane-glib.h>

#define N_HEADS     4
#define N_KV_HEADS  2
#define ROPE_THETA  10000.0
#define NORM_EPS    1e-5

typedef struct
{
  gint64  seq;       /* tokens */
  gint64  dim;       /* model width */
  gint64  head_dim;  /* dim / N_HEADS */
  gint64  ffn_dim;   /* hidden width of the feed-forward network */
  guint64 rng;       /* state of the weight generator */
  /* the weights' values, kept for the check in plain C */
  float  *attention_norm, *wq, *wk, *wv, *wo, *ffn_norm, *w1, *w2, *w3;
} Block;

static void
block_clear (Block *blk)
{
  float **kept[] = { &blk->attention_norm, &blk->wq, &blk->wk, &blk->wv, &blk->wo,
                     &blk->ffn_norm, &blk->w1, &blk->w2, &blk->w3 };

  for (guint i = 0; i < G_N_ELEMENTS (kept); i++)
    g_clear_pointer (kept[i], g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Block, block_clear)

/* xorshift64*: a tiny deterministic generator, uniform in [-1, 1). */
static float
next_uniform (guint64 *state)
{
  guint64 x = *state;

  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return (float) ((x * G_GUINT64_CONSTANT (2685821657736338717)) >> 40) / (float) (1 << 23) - 1.0f;
}

/* A [rows, cols] projection with values uniform in ±1/sqrt(rows), baked into
 * the graph as a named param (names follow Meta's LLaMA checkpoints; it could
 * be rebound later with ane_executable_set_param()). The values are kept in
 * *keep. */
static AneTensor *
weight (AneGraph    *g,
        Block       *blk,
        const char  *name,
        gint64       rows,
        gint64       cols,
        float      **keep,
        GError     **error)
{
  const gint64 shape[] = { rows, cols };
  gsize n = (gsize) (rows * cols);
  float *values = *keep = g_new (float, n);
  g_autoptr(AneTensor) value = NULL;

  for (gsize i = 0; i < n; i++)
    values[i] = next_uniform (&blk->rng) / sqrtf ((float) rows);
  value = ane_tensor_new_from_floats (name, shape, 2, values, n, error);
  return value ? ane_graph_param_with_value (g, value, error) : NULL;
}

/* An RMSNorm gain vector, close to 1 (kept in *keep). */
static AneTensor *
norm_weight (AneGraph    *g,
             Block       *blk,
             const char  *name,
             float      **keep,
             GError     **error)
{
  const gint64 shape[] = { blk->dim };
  float *values = *keep = g_new (float, blk->dim);
  g_autoptr(AneTensor) value = NULL;

  for (gint64 i = 0; i < blk->dim; i++)
    values[i] = 1.0f + 0.1f * next_uniform (&blk->rng);
  value = ane_tensor_new_from_floats (name, shape, 1, values, (gsize) blk->dim, error);
  return value ? ane_graph_param_with_value (g, value, error) : NULL;
}

/* [1, S, heads·hd] -> [1, heads, S, hd]: the layout attention and rope expect. */
static AneTensor *
split_heads (AneGraph   *g,
             Block      *blk,
             AneTensor  *x,
             gint64      heads,
             GError    **error)
{
  const gint64 shape[] = { 1, blk->seq, heads, blk->head_dim };
  const gint64 perm[] = { 0, 2, 1, 3 };
  g_autoptr(AneTensor) r = ane_graph_reshape (g, x, shape, 4, error);

  return r ? ane_graph_transpose (g, r, perm, 4, error) : NULL;
}

/* [1, H, S, hd] -> [1, S, H·hd] */
static AneTensor *
merge_heads (AneGraph   *g,
             Block      *blk,
             AneTensor  *x,
             GError    **error)
{
  const gint64 perm[] = { 0, 2, 1, 3 };
  const gint64 shape[] = { 1, blk->seq, blk->dim };
  g_autoptr(AneTensor) t = ane_graph_transpose (g, x, perm, 4, error);

  return t ? ane_graph_reshape (g, t, shape, 3, error) : NULL;
}

/* Self-attention sub-block: returns x + Wo · attention(...). */
static AneTensor *
attention_block (AneGraph   *g,
                 Block      *blk,
                 AneTensor  *x,
                 AneTensor  *positions,
                 GError    **error)
{
  const gint64 kv_dim = N_KV_HEADS * blk->head_dim;
  g_autoptr(AneTensor) norm_w = NULL, wq = NULL, wk = NULL, wv = NULL, wo = NULL;
  g_autoptr(AneTensor) h = NULL, q = NULL, k = NULL, v = NULL;
  g_autoptr(AneTensor) qh = NULL, kh = NULL, vh = NULL, qr = NULL, kr = NULL;
  g_autoptr(AneTensor) attn = NULL, merged = NULL, proj = NULL;

  ane_graph_push_scope (g, "attention");

  if (!(norm_w = norm_weight (g, blk, "layers.0.attention_norm", &blk->attention_norm, error)) ||
      !(wq = weight (g, blk, "layers.0.attention.wq", blk->dim, blk->dim, &blk->wq, error)) ||
      !(wk = weight (g, blk, "layers.0.attention.wk", blk->dim, kv_dim, &blk->wk, error)) ||
      !(wv = weight (g, blk, "layers.0.attention.wv", blk->dim, kv_dim, &blk->wv, error)) ||
      !(wo = weight (g, blk, "layers.0.attention.wo", blk->dim, blk->dim, &blk->wo, error)))
    goto out;

  /* Pre-norm, then the three projections, split into heads. */
  if (!(h = ane_graph_rms_norm (g, x, norm_w, NORM_EPS, error)) ||
      !(q = ane_graph_matmul (g, h, wq, FALSE, FALSE, error)) ||
      !(k = ane_graph_matmul (g, h, wk, FALSE, FALSE, error)) ||
      !(v = ane_graph_matmul (g, h, wv, FALSE, FALSE, error)) ||
      !(qh = split_heads (g, blk, q, N_HEADS, error)) ||
      !(kh = split_heads (g, blk, k, N_KV_HEADS, error)) ||
      !(vh = split_heads (g, blk, v, N_KV_HEADS, error)))
    goto out;

  /* Rotary position embedding of queries and keys. */
  if (!(qr = ane_graph_rope (g, qh, positions, ANE_ROPE_NEOX, ROPE_THETA, 0, error)) ||
      !(kr = ane_graph_rope (g, kh, positions, ANE_ROPE_NEOX, ROPE_THETA, 0, error)))
    goto out;

  /* Causal grouped-query attention: query head h reads kv head h / 2.
   * scale 0 means 1/sqrt(head_dim); softcap 0 means none. */
  if (!(attn = ane_graph_attention (g, qr, kr, vh, NULL, TRUE, 0.0, 0.0, error)) ||
      !(merged = merge_heads (g, blk, attn, error)) ||
      !(proj = ane_graph_matmul (g, merged, wo, FALSE, FALSE, error)))
    goto out;

  ane_graph_pop_scope (g);
  return ane_graph_add (g, x, proj, error);   /* residual */

out:
  ane_graph_pop_scope (g);
  return NULL;
}

/* SwiGLU feed-forward sub-block: returns x + W2 · (silu(W1 · n) * W3 · n). */
static AneTensor *
ffn_block (AneGraph   *g,
           Block      *blk,
           AneTensor  *x,
           GError    **error)
{
  g_autoptr(AneTensor) norm_w = NULL, w1 = NULL, w2 = NULL, w3 = NULL;
  g_autoptr(AneTensor) h = NULL, gate = NULL, up = NULL, act = NULL, prod = NULL, down = NULL;

  ane_graph_push_scope (g, "ffn");

  if (!(norm_w = norm_weight (g, blk, "layers.0.ffn_norm", &blk->ffn_norm, error)) ||
      !(w1 = weight (g, blk, "layers.0.feed_forward.w1", blk->dim, blk->ffn_dim, &blk->w1, error)) ||
      !(w2 = weight (g, blk, "layers.0.feed_forward.w2", blk->ffn_dim, blk->dim, &blk->w2, error)) ||
      !(w3 = weight (g, blk, "layers.0.feed_forward.w3", blk->dim, blk->ffn_dim, &blk->w3, error)))
    goto out;

  if (!(h = ane_graph_rms_norm (g, x, norm_w, NORM_EPS, error)) ||
      !(gate = ane_graph_matmul (g, h, w1, FALSE, FALSE, error)) ||
      !(up = ane_graph_matmul (g, h, w3, FALSE, FALSE, error)) ||
      !(act = ane_graph_silu (g, gate, error)) ||
      !(prod = ane_graph_mul (g, act, up, error)) ||
      !(down = ane_graph_matmul (g, prod, w2, FALSE, FALSE, error)))
    goto out;

  ane_graph_pop_scope (g);
  return ane_graph_add (g, x, down, error);   /* residual */

out:
  ane_graph_pop_scope (g);
  return NULL;
}

static AneGraph *
build_block (Block   *blk,
             GError **error)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  const gint64 x_shape[] = { 1, blk->seq, blk->dim };
  const gint64 pos_shape[] = { blk->seq };
  g_autofree gint32 *pos_values = g_new (gint32, blk->seq);
  g_autoptr(AneTensor) x = NULL, pos_value = NULL, positions = NULL, h = NULL, out = NULL;

  /* Token positions 0..seq-1, a constant of the graph. */
  for (gint64 i = 0; i < blk->seq; i++)
    pos_values[i] = (gint32) i;

  if (!(x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, x_shape, 3, error)) ||
      !(pos_value = ane_tensor_new_from_ints ("positions", pos_shape, 1, pos_values,
                                              (gsize) blk->seq, error)) ||
      !(positions = ane_graph_const (g, pos_value, error)))
    return NULL;

  ane_graph_push_scope (g, "layers.0");
  h = attention_block (g, blk, x, positions, error);
  out = h ? ffn_block (g, blk, h, error) : NULL;
  ane_graph_pop_scope (g);
  if (out == NULL || !ane_graph_add_output (g, "out", out, error))
    return NULL;
  return g_steal_pointer (&g);
}

/* --- the same block in plain C, to check the result ---------------------- */

/* y[S, cols] = x[S, rows] · w[rows, cols], in double */
static void
matmul_by_hand (const double *x,
                const float  *w,
                gint64        S,
                gint64        rows,
                gint64        cols,
                double       *y)
{
  for (gint64 s = 0; s < S; s++)
    for (gint64 c = 0; c < cols; c++)
      {
        double acc = 0.0;
        for (gint64 r = 0; r < rows; r++)
          acc += x[s * rows + r] * w[r * cols + c];
        y[s * cols + c] = acc;
      }
}

/* y = x / sqrt (mean (x^2) + eps) * gain, row by row */
static void
rms_norm_by_hand (const double *x,
                  const float  *gain,
                  gint64        S,
                  gint64        D,
                  double       *y)
{
  for (gint64 s = 0; s < S; s++)
    {
      double ss = 0.0;
      for (gint64 i = 0; i < D; i++)
        ss += x[s * D + i] * x[s * D + i];
      for (gint64 i = 0; i < D; i++)
        y[s * D + i] = x[s * D + i] / sqrt (ss / D + NORM_EPS) * gain[i];
    }
}

/* NeoX rotary embedding of t[S, heads * hd] in place: in each head, element
 * i and i + hd/2 turn by the angle pos · theta^(-2i/hd). */
static void
rope_by_hand (double *t,
              gint64  S,
              gint64  heads,
              gint64  hd)
{
  for (gint64 s = 0; s < S; s++)
    for (gint64 h = 0; h < heads; h++)
      for (gint64 i = 0; i < hd / 2; i++)
        {
          double *a = &t[s * heads * hd + h * hd + i], *b = a + hd / 2;
          double angle = s * pow (ROPE_THETA, -2.0 * i / hd), x = *a, y = *b;

          *a = x * cos (angle) - y * sin (angle);
          *b = x * sin (angle) + y * cos (angle);
        }
}

/* The block of build_block (), in double: out[S, dim]. */
static void
block_by_hand (const Block *blk,
               const float *x_in,
               double      *out)
{
  const gint64 S = blk->seq, D = blk->dim, hd = blk->head_dim, F = blk->ffn_dim, kvd = N_KV_HEADS * hd;
  g_autofree double *x = g_new (double, S * D), *h = g_new (double, S * D);
  g_autofree double *q = g_new (double, S * D), *k = g_new (double, S * kvd), *v = g_new (double, S * kvd);
  g_autofree double *attn = g_new0 (double, S * D), *proj = g_new (double, S * D);
  g_autofree double *gate = g_new (double, S * F), *up = g_new (double, S * F);
  g_autofree double *p = g_new (double, S);

  for (gint64 i = 0; i < S * D; i++)
    x[i] = x_in[i];

  /* attention: query head hq reads key/value head hq / (N_HEADS / N_KV_HEADS) */
  rms_norm_by_hand (x, blk->attention_norm, S, D, h);
  matmul_by_hand (h, blk->wq, S, D, D, q);
  matmul_by_hand (h, blk->wk, S, D, kvd, k);
  matmul_by_hand (h, blk->wv, S, D, kvd, v);
  rope_by_hand (q, S, N_HEADS, hd);
  rope_by_hand (k, S, N_KV_HEADS, hd);
  for (gint64 hq = 0; hq < N_HEADS; hq++)
    {
      gint64 hk = hq / (N_HEADS / N_KV_HEADS);

      for (gint64 s = 0; s < S; s++)
        {
          double max = -INFINITY, sum = 0.0;

          for (gint64 t = 0; t <= s; t++)   /* causal: positions up to s */
            {
              p[t] = 0.0;
              for (gint64 i = 0; i < hd; i++)
                p[t] += q[s * D + hq * hd + i] * k[t * kvd + hk * hd + i];
              p[t] /= sqrt ((double) hd);
              max = MAX (max, p[t]);
            }
          for (gint64 t = 0; t <= s; t++)
            {
              p[t] = exp (p[t] - max);
              sum += p[t];
            }
          for (gint64 t = 0; t <= s; t++)
            for (gint64 i = 0; i < hd; i++)
              attn[s * D + hq * hd + i] += p[t] / sum * v[t * kvd + hk * hd + i];
        }
    }
  matmul_by_hand (attn, blk->wo, S, D, D, proj);
  for (gint64 i = 0; i < S * D; i++)
    x[i] += proj[i];

  /* SwiGLU feed-forward */
  rms_norm_by_hand (x, blk->ffn_norm, S, D, h);
  matmul_by_hand (h, blk->w1, S, D, F, gate);
  matmul_by_hand (h, blk->w3, S, D, F, up);
  for (gint64 i = 0; i < S * F; i++)
    gate[i] = gate[i] / (1.0 + exp (-gate[i])) * up[i];   /* silu (gate) * up */
  matmul_by_hand (gate, blk->w2, S, F, D, out);
  for (gint64 i = 0; i < S * D; i++)
    out[i] += x[i];
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneTensor) x = NULL;
  g_autoptr(GPtrArray) params = NULL;
  g_autoptr(GPtrArray) outputs = NULL;
  g_autofree float *x_values = NULL;
  g_autofree float *y = NULL;
  gint seq = 8, dim = 64;
  g_autofree char *backend_name = NULL, *precision_name = NULL, *package_path = NULL, *mil_path = NULL;
  AneBackend backend = ANE_BACKEND_REFERENCE;
  AnePrecision precision = ANE_PRECISION_FLOAT16;
  gsize n = 0;
  double sum = 0.0, sum_abs = 0.0;
  guint rank = 0;
  const gint64 *shape;
  AneTensor *out;
  g_auto(Block) blk = { 0 };
  const GOptionEntry entries[] = {
    { "seq", 's', 0, G_OPTION_ARG_INT, &seq, "Number of tokens (default 8)", "N" },
    { "dim", 'd', 0, G_OPTION_ARG_INT, &dim, "Model width, a multiple of 8 (default 64)", "N" },
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &backend_name, "reference (default) or cpu", "NAME" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name, "fp16 (default) or fp32, for the cpu backend", "P" },
    { "package", 0, 0, G_OPTION_ARG_FILENAME, &package_path, "Also write the lowered block as an .mlpackage", "PATH" },
    { "mil", 0, 0, G_OPTION_ARG_FILENAME, &mil_path, "Also write the lowered block as MIL text", "PATH" },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("- run one LLaMA-style transformer block");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }
  /* Each head needs an even width for the rotary pairs. */
  if (seq < 1 || seq > 4096 || dim < 8 || dim > 4096 || dim % (2 * N_HEADS) != 0)
    {
      g_printerr ("--seq must be in 1..4096 and --dim a multiple of %d in 8..4096\n",
                  2 * N_HEADS);
      return EXIT_FAILURE;
    }

  if (backend_name && g_str_equal (backend_name, "cpu"))
    backend = ANE_BACKEND_CPU;
  else if (backend_name && !g_str_equal (backend_name, "reference"))
    {
      g_printerr ("--backend must be reference or cpu\n");
      return EXIT_FAILURE;
    }
  if (precision_name && g_str_equal (precision_name, "fp32"))
    precision = ANE_PRECISION_FLOAT32;
  else if (precision_name && !g_str_equal (precision_name, "fp16"))
    {
      g_printerr ("--precision must be fp16 or fp32\n");
      return EXIT_FAILURE;
    }

  blk.seq = seq;
  blk.dim = dim;
  blk.head_dim = dim / N_HEADS;
  blk.ffn_dim = 3 * dim;
  blk.rng = G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);

  graph = build_block (&blk, &error);
  if (graph == NULL)
    {
      g_printerr ("building the block failed: %s\n", error->message);
      return EXIT_FAILURE;
    }
  params = ane_graph_list_params (graph);
  g_print ("graph: %u nodes, %u params\n", ane_graph_get_n_nodes (graph), params->len);

  if (package_path || mil_path)
    {
      /* Lower once (iOS18) and write both forms; overwrite earlier runs. */
      g_autoptr(AnePackage) package = ane_package_new_from_graph (graph, ANE_TARGET_IOS18, precision, &error);

      if (package == NULL ||
          (package_path && !ane_package_save (package, package_path, TRUE, &error)) ||
          (mil_path && !ane_package_save_mil (package, mil_path, TRUE, &error)))
        {
          g_printerr ("packaging failed: %s\n", error->message);
          return EXIT_FAILURE;
        }
      if (package_path)
        g_print ("wrote %s\n", package_path);
      if (mil_path)
        g_print ("wrote %s (weights in weights/weight.bin beside it)\n", mil_path);
    }

  exe = ane_executable_new (graph, backend);
  ane_executable_set_precision (exe, precision);
  if (!ane_executable_compile (exe, NULL, &error))
    {
      g_printerr ("compiling failed: %s\n", error->message);
      return EXIT_FAILURE;
    }

  /* The input activations: the same generator, continued. */
  x_values = g_new (float, seq * dim);
  for (gint i = 0; i < seq * dim; i++)
    x_values[i] = next_uniform (&blk.rng);
  x = ane_tensor_new_from_floats ("x", (const gint64[]) { 1, seq, dim }, 3,
                                  x_values, (gsize) (seq * dim), &error);
  if (x == NULL ||
      (outputs = ane_executable_run (exe, &x, 1, NULL, &error)) == NULL ||
      (y = ane_tensor_dup_floats (g_ptr_array_index (outputs, 0), &n, &error)) == NULL)
    {
      g_printerr ("running failed: %s\n", error->message);
      return EXIT_FAILURE;
    }

  out = g_ptr_array_index (outputs, 0);
  shape = ane_tensor_get_shape (out, &rank);
  g_print ("output '%s': [", ane_tensor_get_name (out));
  for (guint i = 0; i < rank; i++)
    g_print (i ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, shape[i]);
  g_print ("]\n");

  g_print ("out[0, 0, :4] = %.6f %.6f %.6f %.6f\n", y[0], y[1], y[2], y[3]);
  g_print ("out[0, %d, :4] = %.6f %.6f %.6f %.6f\n", seq - 1,
           y[(seq - 1) * dim], y[(seq - 1) * dim + 1], y[(seq - 1) * dim + 2], y[(seq - 1) * dim + 3]);
  for (gsize i = 0; i < n; i++)
    {
      sum += y[i];
      sum_abs += fabs (y[i]);
    }
  g_print ("checksum: sum %.6f, sum |x| %.6f\n", sum, sum_abs);

  /* Check against plain C, relative to the output's largest value: fp32
   * (the reference backend computes in fp32 whatever --precision says)
   * differs from double by at most 2.1e-7 of it up to --seq 128 --dim 256;
   * fp16 by at most 1e-3 (every op rounds to 11 bits). */
  {
    g_autofree double *want = g_new (double, n);
    double tol = backend == ANE_BACKEND_REFERENCE || precision == ANE_PRECISION_FLOAT32 ? 1e-6 : 4e-3;
    double scale = 0.0, worst = 0.0;

    block_by_hand (&blk, x_values, want);
    for (gsize i = 0; i < n; i++)
      scale = MAX (scale, fabs (want[i]));
    for (gsize i = 0; i < n; i++)
      {
        double d = fabs (y[i] - want[i]);

        if (!(d <= tol * scale))   /* written so that a NaN fails too */
          {
            g_printerr ("MISMATCH at %" G_GSIZE_FORMAT ": %.6f, plain C says %.6f (allowed: %.3g)\n",
                        i, y[i], want[i], tol * scale);
            return EXIT_FAILURE;
          }
        worst = MAX (worst, d);
      }
    g_print ("matches plain C: max |difference| %.3g = %.2g of max |out|\n", worst, worst / scale);
  }
  return EXIT_SUCCESS;
}
