/* runtime/cpu/ane-cpu-bcast.c: walking a C-order output with its operands broadcast
 *
 * The merge rule is numpy's nditer coalescing (numpy/core/src/multiarray/
 * nditer_api.c, npyiter_coalesce_axes: two axes merge when, for every
 * operand, stride[outer] == stride[inner] × shape[inner]); see
 * ane-cpu-bcast-private.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "runtime/cpu/ane-cpu-bcast-private.h"

void
ane_cpu_bcast_init_strided (AneCpuBcast         *b,
                            const gint64        *shape,
                            guint                rank,
                            const gint64 *const *strides,
                            guint                n_operands)
{
  guint r = 0;

  g_assert (rank <= ANE_CPU_BCAST_MAX_RANK && n_operands <= ANE_CPU_BCAST_MAX_OPERANDS);
  b->n_operands = n_operands;
  b->n = 1;
  for (guint d = 0; d < rank; d++)
    {
      gboolean merges = r > 0;

      b->n *= (gsize) shape[d];
      /* a size-1 dim never moves an offset */
      if (shape[d] == 1)
        continue;
      for (guint k = 0; k < n_operands && merges; k++)
        merges = b->strides[k][r - 1] == strides[k][d] * shape[d];
      if (merges)
        {
          b->shape[r - 1] *= shape[d];
          for (guint k = 0; k < n_operands; k++)
            b->strides[k][r - 1] = strides[k][d];
          continue;
        }
      b->shape[r] = shape[d];
      for (guint k = 0; k < n_operands; k++)
        b->strides[k][r] = strides[k][d];
      r++;
    }
  /* a scalar, or all dims 1: one run of one element */
  if (r == 0)
    {
      b->shape[0] = 1;
      for (guint k = 0; k < n_operands; k++)
        b->strides[k][0] = 0;
      r = 1;
    }
  b->rank = r;
}

gboolean
ane_cpu_bcast_init (AneCpuBcast              *b,
                    const AneCpuValue        *out,
                    const AneCpuValue *const *operands,
                    guint                     n_operands)
{
  gint64 strides[ANE_CPU_BCAST_MAX_OPERANDS][ANE_CPU_MAX_RANK];
  const gint64 *rows[ANE_CPU_BCAST_MAX_OPERANDS];

  g_assert (n_operands <= ANE_CPU_BCAST_MAX_OPERANDS);
  for (guint k = 0; k < n_operands; k++)
    {
      const AneCpuValue *v = operands[k];
      gint64 step = 1;

      if (v->rank > out->rank)
        return FALSE;
      /* numpy: dims aligned from the right; a missing or size-1 dim repeats */
      for (guint d = out->rank; d-- > 0;)
        {
          guint lead = out->rank - v->rank;
          gint64 dim = d < lead ? 1 : v->shape[d - lead];

          if (dim != 1 && dim != out->shape[d])
            return FALSE;
          strides[k][d] = dim == 1 ? 0 : step;
          step *= dim;
        }
      rows[k] = strides[k];
    }
  ane_cpu_bcast_init_strided (b, out->shape, out->rank, rows, n_operands);
  return TRUE;
}

void
ane_cpu_bcast_iter_init (AneCpuBcastIter   *it,
                         const AneCpuBcast *b,
                         gsize              begin,
                         gsize              end)
{
  gsize rest = begin;

  it->b = b;
  it->end = MIN (end, b->n);
  it->next_index = begin;
  it->index = begin;
  it->len = 0;
  for (guint k = 0; k < b->n_operands; k++)
    it->next_off[k] = it->off[k] = 0;
  if (begin >= it->end)
    return;
  /* the one unravel of the walk */
  for (guint d = b->rank; d-- > 0;)
    {
      it->c[d] = (gint64) (rest % (gsize) b->shape[d]);
      rest /= (gsize) b->shape[d];
      for (guint k = 0; k < b->n_operands; k++)
        it->next_off[k] += (gsize) (it->c[d] * b->strides[k][d]);
    }
}

gboolean
ane_cpu_bcast_next (AneCpuBcastIter *it)
{
  const AneCpuBcast *b = it->b;
  guint last = b->rank - 1;
  gint64 inner = b->shape[last];
  gsize len;

  if (it->next_index >= it->end)
    return FALSE;
  len = MIN ((gsize) (inner - it->c[last]), it->end - it->next_index);
  it->index = it->next_index;
  it->len = len;
  for (guint k = 0; k < b->n_operands; k++)
    {
      it->off[k] = it->next_off[k];
      it->next_off[k] += len * (gsize) b->strides[k][last];
    }
  it->next_index += len;
  it->c[last] += (gint64) len;
  if (it->c[last] < inner || it->next_index >= it->end)
    return TRUE;
  /* the odometer over the outer dims (offsets are unsigned: the steps back
   * wrap and come out right) */
  it->c[last] = 0;
  for (guint k = 0; k < b->n_operands; k++)
    it->next_off[k] -= (gsize) (inner * b->strides[k][last]);
  for (guint d = last; d-- > 0;)
    {
      it->c[d]++;
      for (guint k = 0; k < b->n_operands; k++)
        it->next_off[k] += (gsize) b->strides[k][d];
      if (it->c[d] < b->shape[d])
        break;
      for (guint k = 0; k < b->n_operands; k++)
        it->next_off[k] -= (gsize) (b->shape[d] * b->strides[k][d]);
      it->c[d] = 0;
    }
  return TRUE;
}
