/* runtime/cpu/ane-cpu-k-packed.c: linear and gather on a compressed weight
 *
 * The plan hands these kernels a packed const (AneCpuValue.packed,
 * ane-cpu-vec-private.h) only where every reader of the weight is one of
 * them; the float kernels (ane-cpu-k-linalg.c, ane-cpu-k-shape.c) call here
 * when they see one. Semantics are the dense ops' (coremltools
 * iOS15/linear.py: x · weightᵀ + bias; iOS15/scatter_gather.py gather on
 * axis 0 with batch_dims 0), on the weights the dequantizing constexpr op
 * would have made.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

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
  for (gsize i = 0; i < indices->n; i++)
    {
      gint64 k = indices->i[i], dim = (gint64) p->rows;

      /* as the dense gather: negative indices wrap before iOS17 only */
      if (k < 0 && k >= -dim && !ios17)
        k += dim;
      if (k < 0 || k >= dim)
        return ane_cpu_fail (ctx, error, "index %" G_GINT64_FORMAT " is out of range for a dimension of size %"
                             G_GINT64_FORMAT, (gint64) indices->i[i], dim);
      ane_cpu_packed_dequantize_row (p, (gsize) k, out->f + i * p->cols);
    }
  return TRUE;
}
