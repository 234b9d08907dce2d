/* runtime/cpu/ane-cpu-vec-sparse-x86-private.h: the row prefetch the AVX2
 * and AVX-512 pruned weight kernels share (ane-cpu-vec-sparse-avx2.c,
 * ane-cpu-vec-sparse-avx512.c)
 *
 * Only SSE's prefetch, so the same for both ISAs; static inline, so each
 * kernel inlines it into its row dot as before. Include only from x86
 * files (<immintrin.h>).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <immintrin.h>

#include "runtime/cpu/ane-cpu-vec-private.h"

G_BEGIN_DECLS

/* How many rows ahead the row dots prefetch: as the other kinds' AVX2 and
 * AVX-512 kernels (ane-cpu-vec-avx2.c, ane-cpu-vec-avx512.c PREFETCH_ROWS). */
#define ANE_CPU_SPARSE_PREFETCH_ROWS 4

/* The mask and values of the row ANE_CPU_SPARSE_PREFETCH_ROWS after r (as
 * the other kinds' kernels: the hardware prefetcher alone left the decode
 * products latency-bound on this project's VM). */
static inline void
ane_cpu_sparse_prefetch_row (const AneCpuPacked *p,
                             gsize               r)
{
  gsize ahead = r + ANE_CPU_SPARSE_PREFETCH_ROWS;
  const guint8 *mask, *v, *end;

  if (ahead >= p->rows)
    return;
  mask = p->q + ahead * p->row_bytes;
  for (gsize b = 0; b < p->row_bytes; b += 64)
    _mm_prefetch ((const char *) mask + b, _MM_HINT_T0);
  v = p->nz + p->nz_start[ahead] * p->nz_width;
  end = p->nz + p->nz_start[ahead + 1] * p->nz_width;
  for (; v < end; v += 64)
    _mm_prefetch ((const char *) v, _MM_HINT_T0);
}

G_END_DECLS
