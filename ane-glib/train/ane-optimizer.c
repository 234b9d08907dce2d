/* train/ane-optimizer.c: SGD with momentum, AdamW, clipping and the
 * learning-rate schedule
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ane-trainer.h"
#include "ane-optimizer-private.h"

/* SGD as torch.optim.SGD (dampening 0, no Nesterov): g' = g + wd·w;
 * buf = momentum·buf + g' (buf = g' at the first step); w -= lr·buf.
 * AdamW as torch.optim.AdamW (Loshchilov & Hutter, "Decoupled Weight Decay
 * Regularization"): w -= lr·wd·w first, then the Adam step with bias
 * corrections 1 − β^t. The moments are kept in float32, as PyTorch keeps
 * them in the parameter's dtype. */
void
ane_optimizer_update (const AneOptimizerStep *o,
                      float                  *w,
                      const float            *g,
                      float                  *m,
                      float                  *v,
                      gsize                   n,
                      gboolean                decay)
{
  double wd = decay ? o->weight_decay : 0.0;

  if (o->kind == ANE_OPTIMIZER_SGD)
    {
      for (gsize i = 0; i < n; i++)
        {
          double gi = (double) g[i] + wd * w[i];
          double buf = o->momentum > 0.0 && o->step > 1 ? o->momentum * m[i] + gi : gi;

          m[i] = (float) buf;
          w[i] = (float) (w[i] - o->lr * buf);
        }
      return;
    }

  double c1 = 1.0 - pow (o->beta1, (double) o->step);
  double c2 = 1.0 - pow (o->beta2, (double) o->step);
  double shrink = 1.0 - o->lr * wd;

  for (gsize i = 0; i < n; i++)
    {
      double gi = g[i];
      double mi = o->beta1 * m[i] + (1.0 - o->beta1) * gi;
      double vi = o->beta2 * v[i] + (1.0 - o->beta2) * gi * gi;
      double wi = w[i] * shrink;

      m[i] = (float) mi;
      v[i] = (float) vi;
      w[i] = (float) (wi - o->lr * (mi / c1) / (sqrt (vi / c2) + o->eps));
    }
}

double
ane_optimizer_sum_squares (const float *g,
                           gsize        n)
{
  double s = 0.0;

  for (gsize i = 0; i < n; i++)
    s += (double) g[i] * g[i];
  return s;
}

double
ane_optimizer_schedule (double  lr,
                        guint64 step,
                        guint64 warmup,
                        guint64 total,
                        double  min_ratio)
{
  double ratio;

  if (step < warmup)
    return lr * (double) (step + 1) / (double) warmup;
  if (total == 0 || total <= warmup)
    return lr;
  if (step >= total)
    return lr * min_ratio;
  ratio = (double) (step - warmup) / (double) (total - warmup);
  return lr * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + cos (G_PI * ratio)));
}
