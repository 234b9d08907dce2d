/* runtime/cpu/ane-cpu-blas.c: the matrix product of the CPU kernels
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

static gint blas_disabled;   /* test switch; 0 = use the CBLAS when there is one */

gboolean
ane_cpu_blas_enabled (void)
{
#ifdef HAVE_CBLAS
  return !g_atomic_int_get (&blas_disabled);
#else
  return FALSE;
#endif
}

void
ane_cpu_blas_set_enabled (gboolean enabled)
{
  g_atomic_int_set (&blas_disabled, !enabled);
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

  for (gsize i = 0; i < m; i++)
    {
      float *crow = c + i * ldc;

      if (!trans_b)
        {
          /* acc = A[i,:] · B, a contiguous row of B at a time */
          memset (acc, 0, n * sizeof (float));
          for (gsize p = 0; p < k; p++)
            {
              float aip = trans_a ? a[p * lda + i] : a[i * lda + p];
              const float *brow = b + p * ldb;

              for (gsize j = 0; j < n; j++)
                acc[j] += aip * brow[j];
            }
          for (gsize j = 0; j < n; j++)
            crow[j] = alpha * acc[j] + (beta == 0.0f ? 0.0f : beta * crow[j]);
        }
      else
        {
          /* C[i,j] = A[i,:] · B[j,:] (B is stored [n,k]) */
          for (gsize j = 0; j < n; j++)
            {
              const float *brow = b + j * ldb;
              float sum = 0.0f;

              if (trans_a)
                for (gsize p = 0; p < k; p++)
                  sum += a[p * lda + i] * brow[p];
              else
                for (gsize p = 0; p < k; p++)
                  sum += a[i * lda + p] * brow[p];
              crow[j] = alpha * sum + (beta == 0.0f ? 0.0f : beta * crow[j]);
            }
        }
    }
}

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
#ifdef HAVE_CBLAS
  if (!g_atomic_int_get (&blas_disabled) &&
      m <= INT_MAX && n <= INT_MAX && k <= INT_MAX &&
      lda <= INT_MAX && ldb <= INT_MAX && ldc <= INT_MAX)
    {
      cblas_sgemm (CblasRowMajor,
                   trans_a ? CblasTrans : CblasNoTrans,
                   trans_b ? CblasTrans : CblasNoTrans,
                   (int) m, (int) n, (int) k, alpha,
                   a, (int) lda, b, (int) ldb, beta, c, (int) ldc);
      return;
    }
#endif
  sgemm_loops (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
