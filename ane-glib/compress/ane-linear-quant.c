/* compress/ane-linear-quant.c: linear quantization parameters (see the
 * header for the definitions and their source).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ane-types.h"
#include "compress/ane-linear-quant-private.h"

void
ane_linear_quant_range (const AneLinearQuant *spec,
                        gint                 *qmin,
                        gint                 *qmax)
{
  if (spec->is_signed)
    {
      *qmin = -(1 << (spec->bits - 1)) + (spec->symmetric ? 1 : 0);
      *qmax = (1 << (spec->bits - 1)) - 1;
    }
  else
    {
      *qmin = 0;
      *qmax = (1 << spec->bits) - 1 - (spec->symmetric ? 1 : 0);
    }
}

/* x as the scale will be stored. */
static double
stored (const AneLinearQuant *spec,
        double                x)
{
  return spec->scale_fp16 ? (double) ane_half_to_float (ane_float_to_half ((float) x)) : (double) (float) x;
}

double
ane_linear_quant_block (const AneLinearQuant *spec,
                        const float          *w,
                        gsize                 n,
                        gsize                 stride,
                        float                *scale,
                        gint                 *zero_point,
                        gint8                *q_signed,
                        guint8               *q_unsigned)
{
  gint qmin, qmax, zp;
  double lo = 0.0, hi = 0.0, s, worst = 0.0;

  ane_linear_quant_range (spec, &qmin, &qmax);
  for (gsize i = 0; i < n; i++)
    {
      lo = MIN (lo, (double) w[i * stride]);
      hi = MAX (hi, (double) w[i * stride]);
    }
  if (spec->symmetric)
    {
      double m = MAX (-lo, hi);

      lo = -m;
      hi = m;
    }
  s = stored (spec, (hi - lo) / (double) (qmax - qmin));
  if (spec->symmetric)
    zp = spec->is_signed ? 0 : qmax / 2;
  else if (hi > lo)
    zp = (gint) CLAMP (nearbyint (((double) qmin * hi - (double) qmax * lo) / (hi - lo)), (double) qmin, (double) qmax);
  else
    zp = 0;
  for (gsize i = 0; i < n; i++)
    {
      double v = w[i * stride];
      /* nearbyint rounds half to even in the default rounding mode */
      double q = s > 0.0 ? nearbyint (v / s) + zp : zp;
      gint qi = (gint) CLAMP (q, (double) qmin, (double) qmax);
      double back = s * (double) (qi - zp);

      if (spec->is_signed)
        q_signed[i * stride] = (gint8) qi;
      else
        q_unsigned[i * stride] = (guint8) qi;
      worst = MAX (worst, fabs (v - back));
    }
  *scale = (float) s;
  *zero_point = zp;
  return worst;
}

double
ane_linear_quantize (const AneLinearQuant *spec,
                     const float          *w,
                     gsize                 rows,
                     gsize                 cols,
                     gsize                 block_cols,
                     gboolean              whole,
                     float                *scale,
                     gint                 *zero_point,
                     gint8                *q_signed,
                     guint8               *q_unsigned,
                     double               *rms)
{
  gsize block = whole ? rows * cols : block_cols, n = rows * cols;
  double worst = 0.0, sq = 0.0;

  g_return_val_if_fail (block > 0 && n % block == 0 && (whole || cols % block_cols == 0), 0.0);
  for (gsize b = 0; b < n / block; b++)
    {
      gsize off = b * block;

      worst = MAX (worst, ane_linear_quant_block (spec, w + off, block, 1, &scale[b], &zero_point[b],
                                                  q_signed ? q_signed + off : NULL,
                                                  q_unsigned ? q_unsigned + off : NULL));
      for (gsize i = 0; i < block; i++)
        {
          gint q = spec->is_signed ? q_signed[off + i] : q_unsigned[off + i];
          double e = (double) w[off + i] - (double) scale[b] * (double) (q - zero_point[b]);

          sq += e * e;
        }
    }
  if (rms != NULL)
    *rms = n > 0 ? sqrt (sq / (double) n) : 0.0;
  return worst;
}
