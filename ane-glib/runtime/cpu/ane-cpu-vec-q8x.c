/* runtime/cpu/ane-cpu-vec-q8x.c: 8-bit activations, their quantizer and the portable kernel
 *
 * See ane-cpu-vec-q8x-private.h for what is computed and in which order.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "runtime/cpu/ane-cpu-vec-q8x-private.h"

gboolean
ane_cpu_q8x_fits (const AneCpuPacked *p)
{
  return (p->kind == ANE_CPU_PACKED_Q8_0_BLOCKS || p->kind == ANE_CPU_PACKED_Q4_0_BLOCKS) &&
         p->cols % 32 == 0 && p->cols > 0;
}

/* Below this a block's scale would overflow 127 / max |x|; such a block
 * is all zeros to 8 bits (its products are below 2^-90 of a unit weight). */
#define Q8X_TINY 1e-30f
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
  if (nonfinite || amax < Q8X_TINY)
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
ane_cpu_q8x_quantize (AneCpuQ8x   *a,
                      const float *x,
                      gsize        m,
                      gsize        cols,
                      gboolean     with_nsum)
{
  gsize nb = cols / 32;

  a->m = m;
  a->cols = cols;
  a->n_blocks = nb;
  a->q = g_new (gint8, m * cols);
  a->d = g_new (float, m * nb);
  a->nsum = with_nsum ? g_new (gint32, m * nb * 8) : NULL;
  for (gsize i = 0; i < m * nb; i++)
    {
      gint8 *q = a->q + i * 32;

      quantize_block (x + i * 32, q, a->d + i);
      if (a->nsum != NULL)
        for (guint j = 0; j < 8; j++)
          a->nsum[i * 8 + j] = -8 * (q[4 * j] + q[4 * j + 1] + q[4 * j + 2] + q[4 * j + 3]);
    }
}

void
ane_cpu_q8x_clear (AneCpuQ8x *a)
{
  g_clear_pointer (&a->q, g_free);
  g_clear_pointer (&a->d, g_free);
  g_clear_pointer (&a->nsum, g_free);
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

void
ane_cpu_q8x_rows_portable (const AneCpuPacked *p,
                           gsize               r0,
                           gsize               r1,
                           const AneCpuQ8x    *a,
                           float              *out)
{
  const float *halves = ane_cpu_half_table ();
  gboolean q8 = p->kind == ANE_CPU_PACKED_Q8_0_BLOCKS;
  gsize bb = q8 ? 34 : 18, nb = a->n_blocks;

  for (gsize r = r0; r < r1; r++)
    for (gsize i = 0; i < a->m; i++)
      {
        const guint8 *row = p->q + r * p->row_bytes;
        const gint8 *q = a->q + i * a->cols;
        float acc[16] = { 0 };

        for (gsize b = 0; b < nb; b++)
          {
            const guint8 *blk = row + b * bb;
            float s = halves[blk[0] | blk[1] << 8] * a->d[i * nb + b];

            for (guint j = 0; j < 8; j++)
              {
                gint32 sum = q8 ? 0 : a->nsum[(i * nb + b) * 8 + j];

                for (guint t = 4 * j; t < 4 * j + 4; t++)
                  {
                    gint32 w = q8 ? (gint8) blk[2 + t] : t < 16 ? blk[2 + t] & 15 : blk[2 + t - 16] >> 4;

                    sum += w * q[32 * b + t];
                  }
                acc[8 * (b % 2) + j] = fmaf ((float) sum, s, acc[8 * (b % 2) + j]);
              }
          }
        out[i * p->rows + r] = hsum16 (acc);
      }
}
