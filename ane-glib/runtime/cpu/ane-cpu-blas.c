/* runtime/cpu/ane-cpu-blas.c: the matrix product of the CPU kernels
 *
 * Threads: the CPU pool (ane-cpu-pool.c) owns the cores. OpenBLAS is set to
 * one thread (openblas_set_num_threads (1), once, before the first product)
 * so its own threads never compete with the pool's, and a product is shared
 * out by the pool instead:
 * - few rows (m < SMALL_M: a decode step's matrix-vector products), our own
 *   loops over blocks of output columns, one block per piece: OpenBLAS's
 *   sgemm packs all of B (the whole weight matrix) on every call, which
 *   doubles the memory traffic of a product that is bound by it;
 * - one column and many rows (a 1×1 conv at one position, the
 *   channels-first decode shape), our dot per row, blocks of rows split;
 * - more rows (prefill), cblas_sgemm on blocks of ROW_BLOCK rows of C, one
 *   call per piece.
 * Either way each element of C is one dot product over k in a fixed order,
 * whichever piece computes it, so the result does not depend on the thread
 * count (tests/test-cpu-threads.c checks it bit for bit).
 *
 * When the CPU has AVX2+FMA or AVX-512F, our own tiled kernels
 * (ane-cpu-gemm-private.h) take instead the NT form (C = A·Bᵀ, every
 * linear layer) at every m and the other forms from 4 rows and columns on
 * (all of the above but the other forms' decode shapes): pieces of whole
 * column blocks (weight rows) or, when A has more rows than B, row
 * blocks. The NN form (B stored [k,n], a conv's im2col buffer or input)
 * from 4 rows and 16 columns on, k up to 2048, goes to their NN kernel instead
 * (ane-cpu-gemm-nn-tiles.h), in pieces of whole row and column blocks.
 * AneCpuGemmVariant (ANE_CPU_GEMM) picks.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#ifdef HAVE_CBLAS
#include <cblas.h>
#endif

#include "runtime/cpu/ane-cpu-blas-private.h"
#include "runtime/cpu/ane-cpu-gemm-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

/* Products with fewer rows than this use our loops (see above). */
#define SMALL_M 4
/* cblas pieces start on a multiple of this many rows, a multiple of every
 * OpenBLAS sgemm kernel's row unroll, so each piece is tiled as the whole
 * product would be. */
#define ROW_BLOCK 16
/* a piece is at least this many multiply-adds: below it the hand-off to
 * another thread costs more than it saves */
#define MIN_PIECE_FLOPS 65536

static gint blas_disabled;   /* test switch; 0 = use the CBLAS when there is one */

gboolean
ane_cpu_blas_enabled (void)
{
#ifdef HAVE_CBLAS
  return ane_cpu_gemm_get_variant () != ANE_CPU_GEMM_PORTABLE;
#else
  return FALSE;
#endif
}

void
ane_cpu_blas_set_enabled (gboolean enabled)
{
  g_atomic_int_set (&blas_disabled, !enabled);
}

#ifdef HAVE_OPENBLAS_GET_CORENAME
char *openblas_get_corename (void);   /* openblas_config.h, which cblas.h does not always include */
#endif

const char *
ane_cpu_blas_describe (void)
{
  static gsize once;
  static char *text;

  if (g_once_init_enter (&once))
    {
#if defined(HAVE_OPENBLAS_GET_CORENAME)
      char *name = g_strdup_printf ("OpenBLAS %s", openblas_get_corename ());
#elif defined(HAVE_CBLAS)
      char *name = g_strdup ("a CBLAS");
#else
      char *name = g_strdup ("none");
#endif
      text = name;
      g_once_init_leave (&once, 1);
    }
  return text;
}

/* --- which GEMM ------------------------------------------------------------- */

static gint gemm_forced;   /* test hook: an AneCpuGemmVariant, AUTO = none */

gboolean
ane_cpu_gemm_variant_available (AneCpuGemmVariant variant)
{
  switch (variant)
    {
    case ANE_CPU_GEMM_AUTO:
    case ANE_CPU_GEMM_PORTABLE:
      return TRUE;
    case ANE_CPU_GEMM_AVX2:
#ifdef ANE_HAVE_GEMM_AVX2
      __builtin_cpu_init ();
      return __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
#else
      return FALSE;
#endif
    case ANE_CPU_GEMM_AVX512:
#ifdef ANE_HAVE_GEMM_AVX512
      /* libgcc's check includes the OS saving the ZMM state (XGETBV) */
      __builtin_cpu_init ();
      return __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("fma");
#else
      return FALSE;
#endif
    case ANE_CPU_GEMM_BLAS:
#ifdef HAVE_CBLAS
      return TRUE;
#else
      return FALSE;
#endif
    default:
      return FALSE;
    }
}

const char *
ane_cpu_gemm_variant_name (AneCpuGemmVariant variant)
{
  static const char *const names[] = { "auto", "portable", "avx2", "avx512", "blas" };

  return (guint) variant < G_N_ELEMENTS (names) ? names[variant] : "?";
}

/* ANE_CPU_GEMM, else the best the CPU has; once. */
static AneCpuGemmVariant
default_variant (void)
{
  static gsize once;
  static AneCpuGemmVariant chosen;

  if (g_once_init_enter (&once))
    {
      const char *env = g_getenv ("ANE_CPU_GEMM");
      AneCpuGemmVariant v = ANE_CPU_GEMM_AUTO;

      for (guint i = ANE_CPU_GEMM_PORTABLE; env && i <= ANE_CPU_GEMM_BLAS; i++)
        if (g_ascii_strcasecmp (env, ane_cpu_gemm_variant_name (i)) == 0)
          v = i;
      if (env && (v == ANE_CPU_GEMM_AUTO || !ane_cpu_gemm_variant_available (v)))
        {
          g_warning ("ANE_CPU_GEMM=%s: not one of portable, avx2, avx512, blas that this build and CPU "
                     "can run; using the default", env);
          v = ANE_CPU_GEMM_AUTO;
        }
      if (v == ANE_CPU_GEMM_AUTO)
        {
          static const AneCpuGemmVariant best[] = {
            ANE_CPU_GEMM_AVX512, ANE_CPU_GEMM_AVX2, ANE_CPU_GEMM_BLAS, ANE_CPU_GEMM_PORTABLE,
          };

          for (guint i = 0; v == ANE_CPU_GEMM_AUTO; i++)
            if (ane_cpu_gemm_variant_available (best[i]))
              v = best[i];
        }
      chosen = v;
      g_once_init_leave (&once, 1);
    }
  return chosen;
}

AneCpuGemmVariant
ane_cpu_gemm_get_variant (void)
{
  AneCpuGemmVariant forced = g_atomic_int_get (&gemm_forced);

  if (g_atomic_int_get (&blas_disabled))
    return ANE_CPU_GEMM_PORTABLE;
  return forced != ANE_CPU_GEMM_AUTO ? forced : default_variant ();
}

gboolean
ane_cpu_gemm_set_variant (AneCpuGemmVariant variant)
{
  if (!ane_cpu_gemm_variant_available (variant))
    return FALSE;
  g_atomic_int_set (&gemm_forced, variant);
  return TRUE;
}

const char *
ane_cpu_gemm_describe (void)
{
  AneCpuGemmVariant v = ane_cpu_gemm_get_variant ();
  g_autofree char *text = NULL;

  if (v == ANE_CPU_GEMM_PORTABLE)
    text = g_strdup ("portable loops (every form)");
  else if (v == ANE_CPU_GEMM_BLAS)
    text = g_strdup_printf ("%s (4 rows on), our loops below", ane_cpu_blas_describe ());
  else
    text = g_strdup_printf ("%s (NT form at every size, NN from 4 rows and 16 columns up to k = 2048, other forms "
                            "from 4 rows and columns), our loops (other forms below)", ane_cpu_gemm_variant_name (v));
  return g_intern_string (text);
}

/* The tiled kernel of the variant, or NULL (PORTABLE, BLAS). */
static AneCpuGemmNtFunc
nt_kernel (AneCpuGemmVariant variant)
{
  switch (variant)
    {
#ifdef ANE_HAVE_GEMM_AVX2
    case ANE_CPU_GEMM_AVX2:
      return ane_cpu_gemm_nt_avx2;
#endif
#ifdef ANE_HAVE_GEMM_AVX512
    case ANE_CPU_GEMM_AVX512:
      return ane_cpu_gemm_nt_avx512;
#endif
    default:
      return NULL;
    }
}

/* The NN kernel of the variant, or NULL (PORTABLE, BLAS). */
static AneCpuGemmNnFunc
nn_kernel (AneCpuGemmVariant variant)
{
  switch (variant)
    {
#ifdef ANE_HAVE_GEMM_AVX2
    case ANE_CPU_GEMM_AVX2:
      return ane_cpu_gemm_nn_avx2;
#endif
#ifdef ANE_HAVE_GEMM_AVX512
    case ANE_CPU_GEMM_AVX512:
      return ane_cpu_gemm_nn_avx512;
#endif
    default:
      return NULL;
    }
}

/* --- the loops ---------------------------------------------------------------- */

/* A dot product in a fixed order: eight running sums over the elements
 * p ≡ l (mod 8), added pairwise, then the tail. The compiler can keep the
 * eight sums in vector registers; the order never depends on the caller. */
static float
dot (const float *x,
     gsize        x_stride,
     const float *y,
     gsize        k)
{
  float s[8] = { 0 };
  gsize p = 0;

  if (x_stride == 1)
    for (; p + 8 <= k; p += 8)
      for (guint l = 0; l < 8; l++)
        s[l] += x[p + l] * y[p + l];
  else
    for (; p + 8 <= k; p += 8)
      for (guint l = 0; l < 8; l++)
        s[l] += x[(p + l) * x_stride] * y[p + l];
  s[0] += s[4];
  s[1] += s[5];
  s[2] += s[6];
  s[3] += s[7];
  s[0] += s[2];
  s[1] += s[3];
  s[0] += s[1];
  for (; p < k; p++)
    s[0] += x[p * x_stride] * y[p];
  return s[0];
}

/* The plain loops: C's rows are updated in place, so every sum is in fp32. */
static void
sgemm_loops (gboolean     trans_a,
             gboolean     trans_b,
             gsize        m,
             gsize        n,
             gsize        k,
             float        alpha,
             const float *a,
             gsize        lda,
             const float *b,
             gsize        ldb,
             float        beta,
             float       *c,
             gsize        ldc)
{
  g_autofree float *acc = trans_b ? NULL : g_new (float, n);
  /* the row update: the same bits whichever runs it */
  void (*axpy) (float *, float, const float *, gsize) = ane_cpu_axpy_f32;
  /* the whole row update at once, its sums in registers (the same bits) */
  void (*row_times_rows) (const float *, const float *, gsize, gsize, gsize, float *) = NULL;

#ifdef ANE_HAVE_GEMM_AVX512
  if (ane_cpu_gemm_get_variant () == ANE_CPU_GEMM_AVX512)
    {
      axpy = ane_cpu_axpy_f32_avx512;
      row_times_rows = ane_cpu_row_times_rows_f32_avx512;
    }
#endif

  for (gsize i = 0; i < m; i++)
    {
      float *crow = c + i * ldc;

      if (!trans_b && !trans_a && n == 1)
        {
          /* one column (a 1×1 conv at one position): a dot of A's row with
           * B's column, without the accumulator pass */
          float sum = dot (b, ldb, a + i * lda, k);

          crow[0] = alpha * sum + (beta == 0.0f ? 0.0f : beta * crow[0]);
        }
      else if (!trans_b)
        {
          /* acc = A[i,:] · B, a contiguous row of B at a time */
          if (row_times_rows != NULL && !trans_a)
            row_times_rows (a + i * lda, b, k, n, ldb, acc);
          else
            {
              memset (acc, 0, n * sizeof (float));
              for (gsize p = 0; p < k; p++)
                {
                  float aip = trans_a ? a[p * lda + i] : a[i * lda + p];
                  const float *brow = b + p * ldb;

                  axpy (acc, aip, brow, n);
                }
            }
          for (gsize j = 0; j < n; j++)
            crow[j] = alpha * acc[j] + (beta == 0.0f ? 0.0f : beta * crow[j]);
        }
      else
        {
          /* C[i,j] = A[i,:] · B[j,:] (B is stored [n,k]) */
          for (gsize j = 0; j < n; j++)
            {
              float sum = trans_a ? dot (a + i, lda, b + j * ldb, k) : dot (a + i * lda, 1, b + j * ldb, k);

              crow[j] = alpha * sum + (beta == 0.0f ? 0.0f : beta * crow[j]);
            }
        }
    }
}

typedef struct {
  gboolean     trans_a, trans_b;
  gsize        m, n, k;
  float        alpha;
  const float *a;
  gsize        lda;
  const float *b;
  gsize        ldb;
  float        beta;
  float       *c;
  gsize        ldc;
  gboolean     use_blas;
} Gemm;

/* Columns [begin, end) of C, all rows: our loops. */
static void
gemm_columns (gsize    begin,
              gsize    end,
              gpointer data)
{
  const Gemm *g = data;

  sgemm_loops (g->trans_a, g->trans_b, g->m, end - begin, g->k, g->alpha,
               g->a, g->lda, g->trans_b ? g->b + begin * g->ldb : g->b + begin, g->ldb,
               g->beta, g->c + begin, g->ldc);
}

/* Row blocks [begin, end) of C (ROW_BLOCK rows each), all columns. */
static void
gemm_rows (gsize    begin,
           gsize    end,
           gpointer data)
{
  const Gemm *g = data;
  gsize i0 = begin * ROW_BLOCK, i1 = MIN (end * ROW_BLOCK, g->m);
  const float *a = g->trans_a ? g->a + i0 : g->a + i0 * g->lda;

#ifdef HAVE_CBLAS
  if (g->use_blas)
    {
      cblas_sgemm (CblasRowMajor,
                   g->trans_a ? CblasTrans : CblasNoTrans,
                   g->trans_b ? CblasTrans : CblasNoTrans,
                   (int) (i1 - i0), (int) g->n, (int) g->k, g->alpha,
                   a, (int) g->lda, g->b, (int) g->ldb, g->beta, g->c + i0 * g->ldc, (int) g->ldc);
      return;
    }
#endif
  sgemm_loops (g->trans_a, g->trans_b, i1 - i0, g->n, g->k, g->alpha,
               a, g->lda, g->b, g->ldb, g->beta, g->c + i0 * g->ldc, g->ldc);
}

/* Our tiled kernel (NT form): pieces of NT_COLUMN_BLOCK columns (weight
 * rows), or of NT_ROW_BLOCK rows of A when A has more rows than B has. A
 * piece boundary never changes a result (ane-cpu-gemm-private.h); the
 * blocks only keep the tiles whole: 24 is a multiple of every tile width
 * (3, 4, 6, 8), 4 the tiles' height. */
#define NT_COLUMN_BLOCK 24
#define NT_ROW_BLOCK    4

typedef struct {
  AneCpuGemmNtFunc kernel;
  gsize        m, n, k;
  float        alpha;
  const float *a;
  gsize        lda, a_step;   /* row i of op(A) at a + i · lda, its elements a_step apart */
  const float *b;
  gsize        ldb, b_step;   /* row j of op(B)ᵀ likewise */
  float        beta;
  float       *c;
  gsize        ldc;
} NtJob;

static void
nt_columns (gsize    begin,
            gsize    end,
            gpointer data)
{
  const NtJob *g = data;
  gsize j0 = begin * NT_COLUMN_BLOCK, j1 = MIN (end * NT_COLUMN_BLOCK, g->n);

  g->kernel (g->m, j1 - j0, g->k, g->alpha, g->a, g->lda, g->a_step, g->b + j0 * g->ldb, g->ldb,
             g->b_step, g->beta, g->c + j0, g->ldc);
}

static void
nt_rows (gsize    begin,
         gsize    end,
         gpointer data)
{
  const NtJob *g = data;
  gsize i0 = begin * NT_ROW_BLOCK, i1 = MIN (end * NT_ROW_BLOCK, g->m);

  g->kernel (i1 - i0, g->n, g->k, g->alpha, g->a + i0 * g->lda, g->lda, g->a_step, g->b, g->ldb,
             g->b_step, g->beta, g->c + i0 * g->ldc, g->ldc);
}

/* Any form, through the NT kernel: op(A)'s rows and op(B)ᵀ's rows as
 * (row stride, element stride) pairs. */
static void
sgemm_nt (AneCpuGemmNtFunc kernel,
          gboolean         trans_a,
          gboolean         trans_b,
          gsize            m,
          gsize            n,
          gsize            k,
          float            alpha,
          const float     *a,
          gsize            lda,
          const float     *b,
          gsize            ldb,
          float            beta,
          float           *c,
          gsize            ldc)
{
  NtJob g = { kernel, m, n, k, alpha,
              a, trans_a ? 1 : lda, trans_a ? lda : 1,
              b, trans_b ? ldb : 1, trans_b ? 1 : ldb,
              beta, c, ldc };

  if (n >= m)
    ane_cpu_parallel_for ((n + NT_COLUMN_BLOCK - 1) / NT_COLUMN_BLOCK,
                          MAX (1, MIN_PIECE_FLOPS / MAX (NT_COLUMN_BLOCK * m * k, 1)), nt_columns, &g);
  else
    ane_cpu_parallel_for ((m + NT_ROW_BLOCK - 1) / NT_ROW_BLOCK,
                          MAX (1, MIN_PIECE_FLOPS / MAX (NT_ROW_BLOCK * n * k, 1)), nt_rows, &g);
}

/* Our NN kernel: pieces of NN_ROW_BLOCK rows by NN_COLUMN_BLOCK columns
 * of C, row-block major (consecutive pieces share A's rows). Every element
 * is one chain of fmas whatever piece computes it
 * (ane-cpu-gemm-nn-tiles.h); the blocks only keep the tiles whole: 48 is a
 * multiple of the tiles' height (6), 64 of their widths (16 with AVX2, 64
 * with AVX-512). Below NN_MIN_N columns most lanes would be masked: the NT
 * route. */
#define NN_ROW_BLOCK    48
#define NN_COLUMN_BLOCK 64
#define NN_MIN_N        16
/* Each 6-row strip of a piece streams the piece's panel of B (k rows of
 * NN_COLUMN_BLOCK floats): from k = 2048 on (512 KiB) the panel leaves L2
 * and every strip reads it from memory again, m/6 passes over B where the
 * NT route reads it once. Measured: the classifier's backward of a 32000-
 * token vocabulary (64×288×32000, NN) made a training step of a 24M
 * LLaMA 10% slower (bench-train, 0.94 → 0.85 steps/s) through the NN
 * kernel; convs (k = C·kh·kw, 27 to 864 in PaddleOCR's detector) stay far
 * below. */
#define NN_MAX_K        2048

typedef struct {
  AneCpuGemmNnFunc kernel;
  gsize        m, n, k;
  float        alpha;
  const float *a;
  gsize        lda;
  const float *b;
  gsize        ldb;
  float        beta;
  float       *c;
  gsize        ldc;
  gsize        col_blocks;
} NnJob;

static void
nn_pieces (gsize    begin,
           gsize    end,
           gpointer data)
{
  const NnJob *g = data;

  for (gsize piece = begin; piece < end; piece++)
    {
      gsize i0 = piece / g->col_blocks * NN_ROW_BLOCK, j0 = piece % g->col_blocks * NN_COLUMN_BLOCK;
      gsize i1 = MIN (i0 + NN_ROW_BLOCK, g->m), j1 = MIN (j0 + NN_COLUMN_BLOCK, g->n);

      g->kernel (i1 - i0, j1 - j0, g->k, g->alpha, g->a + i0 * g->lda, g->lda, g->b + j0, g->ldb,
                 g->beta, g->c + i0 * g->ldc + j0, g->ldc);
    }
}

static void
sgemm_nn (AneCpuGemmNnFunc kernel,
          gsize            m,
          gsize            n,
          gsize            k,
          float            alpha,
          const float     *a,
          gsize            lda,
          const float     *b,
          gsize            ldb,
          float            beta,
          float           *c,
          gsize            ldc)
{
  NnJob g = { kernel, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, (n + NN_COLUMN_BLOCK - 1) / NN_COLUMN_BLOCK };
  gsize row_blocks = (m + NN_ROW_BLOCK - 1) / NN_ROW_BLOCK;

  ane_cpu_parallel_for (row_blocks * g.col_blocks,
                        MAX (1, MIN_PIECE_FLOPS / MAX (NN_ROW_BLOCK * NN_COLUMN_BLOCK * k, 1)), nn_pieces, &g);
}

#ifdef HAVE_CBLAS
static void
blas_single_thread_once (void)
{
  static gsize once;

  if (g_once_init_enter (&once))
    {
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
      /* process-wide, and OPENBLAS_NUM_THREADS is overridden: the pool
       * shares out the products (see the top of this file) */
      openblas_set_num_threads (1);
#endif
      g_once_init_leave (&once, 1);
    }
}
#endif

void
ane_cpu_sgemm (gboolean     trans_a,
               gboolean     trans_b,
               gsize        m,
               gsize        n,
               gsize        k,
               float        alpha,
               const float *a,
               gsize        lda,
               const float *b,
               gsize        ldb,
               float        beta,
               float       *c,
               gsize        ldc)
{
  if (m == 0 || n == 0)
    return;
  if (k == 0)
    {
      for (gsize i = 0; i < m; i++)
        for (gsize j = 0; j < n; j++)
          c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
      return;
    }
  {
    Gemm g = { trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, FALSE };
    gsize row_flops = n * k;
    AneCpuGemmVariant variant = ane_cpu_gemm_get_variant ();
    AneCpuGemmNtFunc kernel = nt_kernel (variant);
    AneCpuGemmNnFunc nn = nn_kernel (variant);

    /* B stored [k,n] (a conv's im2col buffer or input): the NN kernel
     * reads it where it lies, where the NT kernel would gather it through
     * transposes (ane-cpu-gemm-nn-tiles.h) */
    if (nn && !trans_a && !trans_b && m >= SMALL_M && n >= NN_MIN_N && k <= NN_MAX_K)
      {
        sgemm_nn (nn, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
      }

    /* The NT form at every size; one contiguous column (a 1×1 conv at
     * one position: B's column is the one row of an NT product); any other
     * form from SMALL_M rows and columns on, where the kernel's copies of
     * the transposed operands cost a small share of the product (below,
     * it would copy a decode step's whole weight on every call).
     * Measured on the other forms (bench-sgemm --form NN|TN, 128×768×768
     * and 128×2048×768, AVX-512, one thread): ours 100–118 GFLOP/s,
     * OpenBLAS 0.3.21 with its generic Prescott kernels (what it picks on
     * this project's VM) 33, with OPENBLAS_CORETYPE=SkylakeX 145 — but
     * then its results change with the split of the rows over threads
     * (test-cpu-gemm, the blas variant, 130×33×771 at 3 threads), which
     * the determinism of the CPU backend does not allow. */
    if (kernel && ((!trans_a && trans_b) || (!trans_a && n == 1 && ldb == 1) || (m >= SMALL_M && n >= SMALL_M)))
      {
        sgemm_nt (kernel, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
      }
#ifdef HAVE_CBLAS
    g.use_blas = variant != ANE_CPU_GEMM_PORTABLE &&
                 m <= INT_MAX && n <= INT_MAX && k <= INT_MAX &&
                 lda <= INT_MAX && ldb <= INT_MAX && ldc <= INT_MAX;
    if (g.use_blas)
      blas_single_thread_once ();
#endif
    if (m < SMALL_M)
      ane_cpu_parallel_for (n, MAX (1, MIN_PIECE_FLOPS / MAX (m * k, 1)), gemm_columns, &g);
    else if (n == 1 && !trans_a && !trans_b)
      {
        /* one column, many rows (a 1×1 conv over one position, the
         * channels-first decode shape): our dot per row, rows split, for
         * the same reason as a one-row product */
        g.use_blas = FALSE;
        ane_cpu_parallel_for ((m + ROW_BLOCK - 1) / ROW_BLOCK,
                              MAX (1, MIN_PIECE_FLOPS / MAX (ROW_BLOCK * k, 1)), gemm_rows, &g);
      }
    else
      ane_cpu_parallel_for ((m + ROW_BLOCK - 1) / ROW_BLOCK,
                            MAX (1, MIN_PIECE_FLOPS / MAX (ROW_BLOCK * row_flops, 1)), gemm_rows, &g);
  }
}
