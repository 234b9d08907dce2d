/* runtime/cpu/ane-cpu-k-packed.c: linear, matmul, 1×1 conv and gather on a compressed weight
 *
 * The plan hands these kernels a packed const (AneCpuValue.packed,
 * ane-cpu-vec-private.h) only where every reader of the weight is one of
 * them; the float kernels (ane-cpu-k-linalg.c, ane-cpu-k-shape.c) call here
 * when they see one. Semantics are the dense ops' (coremltools
 * iOS15/linear.py: x · weightᵀ + bias; iOS15/conv.py with a 1×1 kernel,
 * one group, stride 1 and no padding: y[n, o, p] = Σ_c w[o, c] x[n, c, p]
 * + bias[o]; iOS15/scatter_gather.py gather on axis 0 with batch_dims 0),
 * on the weights the dequantizing constexpr op would have made.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-file-private.h"
#include "runtime/cpu/ane-cpu-dims-private.h"
#include "runtime/cpu/ane-cpu-kernels-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"

gboolean
ane_cpu_linear_packed (AneCpuCtx         *ctx,
                       const AneCpuValue *x,
                       const AneCpuValue *w,
                       const AneCpuValue *bias,
                       AneCpuValue       *out,
                       GError           **error)
{
  const AneCpuPacked *p = w->packed;

  if (x->f == NULL || out->f == NULL || (bias && bias->f == NULL))
    return ane_cpu_fail (ctx, error, "a compressed weight needs float x, bias and output (x is %s)",
                         ane_dtype_to_string (x->dtype));
  ane_cpu_packed_matmul (p, x->f, x->n / p->cols, bias ? bias->f : NULL, out->f);
  return TRUE;
}

/* matmul (x [.., M, K], y [N, K], transpose_y): x · yᵀ, [.., M, N]; a
 * rank-1 x is one row and gives [N] (numpy's promotion). */
gboolean
ane_cpu_matmul_packed (AneCpuCtx         *ctx,
                       const AneCpuValue *x,
                       const AneCpuValue *y,
                       AneCpuValue       *out,
                       GError           **error)
{
  const AneCpuPacked *p = y->packed;
  gint64 shape[ANE_CPU_MAX_RANK];

  if (x->f == NULL || out->f == NULL)
    return ane_cpu_fail (ctx, error, "a compressed weight needs float x and output (x is %s)",
                         ane_dtype_to_string (x->dtype));
  if (x->shape[x->rank - 1] != (gint64) p->cols)
    return ane_cpu_fail (ctx, error, "inner dimensions differ: x gives %" G_GINT64_FORMAT " and y gives %zu "
                         "(transpose_y)", x->shape[x->rank - 1], p->cols);
  memcpy (shape, x->shape, x->rank * sizeof (gint64));
  shape[x->rank - 1] = (gint64) p->rows;
  if (!ane_cpu_check_out_shape (ctx, out, shape, x->rank, error))
    return FALSE;
  ane_cpu_packed_matmul (p, x->f, x->n / p->cols, NULL, out->f);
  return TRUE;
}

gboolean
ane_cpu_gather_packed (AneCpuCtx         *ctx,
                       const AneCpuValue *x,
                       GError           **error)
{
  const AneCpuValue *indices = ane_cpu_in (ctx, "indices");
  const AneCpuPacked *p = x->packed;
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gboolean ios17 = ane_cpu_in (ctx, "validate_indices") != NULL;
  gint64 shape[ANE_CPU_MAX_RANK];
  g_autofree guint8 *row_buf = NULL;

  if (indices == NULL || indices->i == NULL)
    return ane_cpu_fail (ctx, error, "needs integer indices");
  if (indices->rank + 1 > ANE_CPU_MAX_RANK)
    return ane_cpu_fail (ctx, error, "the result's rank is too large");
  memcpy (shape, indices->shape, indices->rank * sizeof (gint64));
  shape[indices->rank] = (gint64) p->cols;
  if (!ane_cpu_check_out_shape (ctx, out, shape, indices->rank + 1, error))
    return FALSE;
  if (out->f == NULL)
    return ane_cpu_fail (ctx, error, "the output must be a float tensor");
  /* A table left in a mapped file (not moved into huge pages: a gather is
   * its only reader) whose rows hold their weights (GGUF blocks carry
   * their d; Q4_K's scales and offsets per row are the plan's; fp16 has
   * none): each row is read with pread(2), so the
   * page-cache folios around it are not mapped (2 MiB each on a kernel
   * with large folios: 12 MiB of a Q4_0 model's peak RSS). */
  if (!p->hot && p->keep != NULL && p->row_bytes <= 65536 &&
      (p->kind == ANE_CPU_PACKED_Q8_0_BLOCKS || p->kind == ANE_CPU_PACKED_Q4_0_BLOCKS ||
       p->kind == ANE_CPU_PACKED_Q4_K_BLOCKS || p->kind == ANE_CPU_PACKED_FP16))
    row_buf = g_malloc (p->row_bytes);
  for (gsize i = 0; i < indices->n; i++)
    {
      gint64 k = indices->i[i], dim = (gint64) p->rows;

      /* as the dense gather: negative indices wrap before iOS17 only */
      if (k < 0 && k >= -dim && !ios17)
        k += dim;
      if (k < 0 || k >= dim)
        return ane_cpu_fail (ctx, error, "index %" G_GINT64_FORMAT " is out of range for a dimension of size %"
                             G_GINT64_FORMAT, (gint64) indices->i[i], dim);
      if (row_buf != NULL && ane_file_read_mapped (p->q + (gsize) k * p->row_bytes, p->row_bytes, row_buf))
        {
          AneCpuPacked one = *p;

          one.q = row_buf;
          one.rows = 1;
          /* Q4_K's scales and offsets: row k's */
          if (p->scale != NULL)
            one.scale = p->scale + (gsize) k * p->n_blocks;
          if (p->offset != NULL)
            one.offset = p->offset + (gsize) k * p->n_blocks;
          ane_cpu_packed_dequantize_row (&one, 0, out->f + i * p->cols);
          continue;
        }
      ane_cpu_packed_dequantize_row (p, (gsize) k, out->f + i * p->cols);
    }
  return TRUE;
}

/* Channels-first x [N, C, P]: each position's C values are a column. A
 * single position (decode: P = 1) is already the row the packed product
 * takes; otherwise x is turned to [P, C], multiplied, and the [P, O]
 * result turned back. */
gboolean
ane_cpu_conv_packed (AneCpuCtx         *ctx,
                     const AneCpuValue *x,
                     const AneCpuValue *w,
                     const AneCpuValue *bias,
                     AneCpuValue       *out,
                     GError           **error)
{
  const AneCpuPacked *p = w->packed;
  gint64 shape[ANE_CPU_MAX_RANK];
  gsize N, C, O, P = 1;
  g_autofree float *xt = NULL;
  g_autofree float *yt = NULL;

  if (x->f == NULL || out->f == NULL || (bias && (bias->f == NULL || bias->n != p->rows)))
    return ane_cpu_fail (ctx, error, "a compressed weight needs float x and output, and a bias of %zu floats",
                         p->rows);
  if (x->rank < 3 || x->shape[1] != (gint64) p->cols)
    return ane_cpu_fail (ctx, error, "x must be [N, %zu, ...] for the weight's %zu input channels",
                         p->cols, p->cols);
  N = (gsize) x->shape[0];
  C = p->cols;
  O = p->rows;
  memcpy (shape, x->shape, x->rank * sizeof (gint64));
  shape[1] = (gint64) O;
  if (!ane_cpu_check_out_shape (ctx, out, shape, x->rank, error))
    return FALSE;
  for (guint i = 2; i < x->rank; i++)
    P *= (gsize) x->shape[i];
  if (P == 1)
    {
      ane_cpu_packed_matmul (p, x->f, N, bias ? bias->f : NULL, out->f);
      return TRUE;
    }
  xt = g_try_malloc_n (P * C, sizeof (float));
  yt = g_try_malloc_n (P * O, sizeof (float));
  if (xt == NULL || yt == NULL)
    return ane_cpu_fail (ctx, error, "cannot allocate the %zu×%zu transposes", P, MAX (C, O));
  for (gsize n = 0; n < N; n++)
    {
      const float *xn = x->f + n * C * P;
      float *on = out->f + n * O * P;

      for (gsize c = 0; c < C; c++)
        for (gsize q = 0; q < P; q++)
          xt[q * C + c] = xn[c * P + q];
      ane_cpu_packed_matmul (p, xt, P, bias ? bias->f : NULL, yt);
      for (gsize q = 0; q < P; q++)
        for (gsize o = 0; o < O; o++)
          on[o * P + q] = yt[q * O + o];
    }
  return TRUE;
}
