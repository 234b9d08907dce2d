/* runtime/cpu/ane-cpu-vec-q8x.c: 8-bit activations, their quantizer and the portable kernel
 *
 * See ane-cpu-vec-q8x-private.h for what is computed and in which order.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "runtime/cpu/ane-cpu-pool-private.h"
#include "runtime/cpu/ane-cpu-vec-q8x-private.h"

gboolean
ane_cpu_q8x_fits (const AneCpuPacked *p)
{
  return (p->kind == ANE_CPU_PACKED_Q8_0_BLOCKS || p->kind == ANE_CPU_PACKED_Q4_0_BLOCKS ||
          p->kind == ANE_CPU_PACKED_Q4_K_BLOCKS || p->kind == ANE_CPU_PACKED_Q8_0_R16 ||
          p->kind == ANE_CPU_PACKED_Q4_0_R16 || p->kind == ANE_CPU_PACKED_Q4_K_R16) &&
         p->cols % 32 == 0 && p->cols > 0;
}

#define Q8X_ROUND 12582912.0f

static void
quantize_block (const float *x,
                gint8       *q,
                float       *d)
{
  float amax = 0.0f, id;
  gboolean nonfinite = FALSE;

  for (guint t = 0; t < 32; t++)
    {
      float v = fabsf (x[t]);

      nonfinite |= !isfinite (v);
      amax = v > amax ? v : amax;
    }
  if (nonfinite || amax < ANE_CPU_Q8X_TINY)
    {
      /* a NaN or an infinity makes the block's products NaN (0 · NaN), as
       * they would be in float */
      *d = nonfinite ? NAN : 0.0f;
      for (guint t = 0; t < 32; t++)
        q[t] = 0;
      return;
    }
  *d = amax / 127.0f;
  id = 127.0f / amax;
  for (guint t = 0; t < 32; t++)
    {
      /* to the nearest, ties to even: adding and taking away 1.5 · 2^23
       * leaves no fraction (what lrintf does in the default rounding
       * mode, without its call); |x · id| ≤ 127 up to the product's
       * rounding, which the rounding brings back to 127 */
      float v = (x[t] * id + Q8X_ROUND) - Q8X_ROUND;

      q[t] = (gint8) CLAMP ((gint32) v, -127, 127);
    }
}

void
ane_cpu_q8x_quantize_portable (AneCpuQ8x   *a,
                               const float *x,
                               gsize        b0,
                               gsize        b1)
{
  for (gsize i = b0; i < b1; i++)
    {
      gint8 *q = a->q + i * 32;

      quantize_block (x + i * 32, q, a->d + i);
      a->bsum[i] = 0;
      for (guint t = 0; t < 32; t++)
        a->bsum[i] += q[t];
      for (guint j = 0; j < 8; j++)
        {
          gint32 sum = q[4 * j] + q[4 * j + 1] + q[4 * j + 2] + q[4 * j + 3];

          if (a->nsum != NULL)
            a->nsum[i * 8 + j] = -8 * sum;
          if (a->qsum != NULL)
            a->qsum[i * 8 + j] = (float) sum;
        }
    }
}

typedef struct {
  AneCpuQ8x             *a;
  const float           *x;
  AneCpuQ8xQuantizeFunc  func;
} QuantizeJob;

static void
quantize_range (gsize    begin,
                gsize    end,
                gpointer data)
{
  const QuantizeJob *job = data;

  job->func (job->a, job->x, begin, end);
}

/* Blocks a piece at least: a prompt's activations (128 × 768 is 3072
 * blocks) are shared out, a decode step's few are not. */
#define QUANTIZE_GRAIN 512

void
ane_cpu_q8x_quantize (AneCpuQ8x             *a,
                      const float           *x,
                      gsize                  m,
                      gsize                  cols,
                      AneCpuPackedKind       kind,
                      AneCpuQ8xQuantizeFunc  func)
{
  gsize nb = cols / 32;
  QuantizeJob job = { a, x, func };

  a->m = m;
  a->cols = cols;
  a->n_blocks = nb;
  a->q = g_new (gint8, m * cols);
  a->d = g_new (float, m * nb);
  a->nsum = kind == ANE_CPU_PACKED_Q4_0_BLOCKS ? g_new (gint32, m * nb * 8) : NULL;
  a->qsum = kind == ANE_CPU_PACKED_Q4_K_BLOCKS ? g_new (float, m * nb * 8) : NULL;
  a->bsum = g_new (gint32, m * nb);
  /* each block on its own: the split never changes a bit */
  ane_cpu_parallel_for (m * nb, QUANTIZE_GRAIN, quantize_range, &job);
}

void
ane_cpu_q8x_clear (AneCpuQ8x *a)
{
  g_clear_pointer (&a->q, g_free);
  g_clear_pointer (&a->d, g_free);
  g_clear_pointer (&a->nsum, g_free);
  g_clear_pointer (&a->qsum, g_free);
  g_clear_pointer (&a->bsum, g_free);
}

static float
hsum16 (float acc[16])
{
  for (guint j = 0; j < 8; j++)
    acc[j] = acc[j] + acc[j + 8];
  for (guint j = 0; j < 4; j++)
    acc[j] = acc[j] + acc[j + 4];
  for (guint j = 0; j < 2; j++)
    acc[j] = acc[j] + acc[j + 2];
  return acc[0] + acc[1];
}

/* Weight (r, c)'s integer: Q8_0's q, Q4_0's and Q4_K's nibble (ggml's
 * orders: ane-cpu-vec-private.h). */
static gint32
weight_int (const AneCpuPacked *p,
            const guint8       *row,
            gsize               c)
{
  switch (p->kind)
    {
    case ANE_CPU_PACKED_Q8_0_BLOCKS:
      return (gint8) row[c / 32 * 34 + 2 + c % 32];
    case ANE_CPU_PACKED_Q4_0_BLOCKS:
      {
        const guint8 *qs = row + c / 32 * 18 + 2;

        return c % 32 < 16 ? qs[c % 32] & 15 : qs[c % 32 - 16] >> 4;
      }
    default:
      {
        const guint8 *qs = row + c / 256 * 144 + 16 + (c % 256) / 64 * 32;

        return c % 64 < 32 ? qs[c % 64] & 15 : qs[c % 64 - 32] >> 4;
      }
    }
}

/* Block b's d (Q8_0, Q4_0: the fp16 at its start) or scale (Q4_K). */
static float
weight_scale (const AneCpuPacked *p,
              gsize               r,
              const guint8       *row,
              gsize               b)
{
  const guint8 *blk;

  if (p->kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
    return p->scale[r * p->n_blocks + b];
  blk = row + b * (p->kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? 34 : 18);
  return ane_cpu_half_table ()[blk[0] | blk[1] << 8];
}

void
ane_cpu_q8x_rows_portable (const AneCpuPacked *p,
                           gsize               r0,
                           gsize               r1,
                           const AneCpuQ8x    *a,
                           float              *out)
{
  gsize nb = a->n_blocks;

  for (gsize r = r0; r < r1; r++)
    for (gsize i = 0; i < a->m; i++)
      {
        const guint8 *row = p->q + r * p->row_bytes;
        const gint8 *q = a->q + i * a->cols;
        float acc[16] = { 0 }, acc_o[16] = { 0 };

        for (gsize b = 0; b < nb; b++)
          {
            float s = weight_scale (p, r, row, b) * a->d[i * nb + b];
            float so = p->kind == ANE_CPU_PACKED_Q4_K_BLOCKS ? s * p->offset[r * nb + b] : 0.0f;

            for (guint j = 0; j < 8; j++)
              {
                gsize l = 8 * (b % 2) + j, at = (i * nb + b) * 8 + j;
                gint32 sum = a->nsum != NULL ? a->nsum[at] : 0;

                for (gsize t = 32 * b + 4 * j; t < 32 * b + 4 * j + 4; t++)
                  sum += weight_int (p, row, t) * q[t];
                acc[l] = fmaf ((float) sum, s, acc[l]);
                if (a->qsum != NULL)
                  acc_o[l] = fmaf (-a->qsum[at], so, acc_o[l]);
              }
          }
        if (a->qsum != NULL)
          for (guint l = 0; l < 16; l++)
            acc[l] = acc[l] + acc_o[l];
        out[i * p->rows + r] = hsum16 (acc);
      }
}
