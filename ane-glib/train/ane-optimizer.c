/* train/ane-optimizer.c: SGD with momentum, AdamW, clipping and the
 * learning-rate schedule
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "ane-trainer.h"
#include "ane-optimizer-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

/* SGD as torch.optim.SGD (dampening 0, no Nesterov): g' = g + wd·w;
 * buf = momentum·buf + g' (buf = g' at the first step); w -= lr·buf.
 * AdamW as torch.optim.AdamW (Loshchilov & Hutter, "Decoupled Weight Decay
 * Regularization"): w -= lr·wd·w first, then the Adam step with bias
 * corrections 1 − β^t, in float32 as PyTorch computes it for float32
 * params. */
typedef struct {
  const AneOptimizerStep *o;
  float *w, *m, *v;
  const float *g;
  double wd, c1, c2, shrink;
} Update;

#if defined(__GNUC__) && !defined(__clang__)
__attribute__ ((optimize ("tree-vectorize")))
#endif
static void
update_range (gsize    begin,
              gsize    end,
              gpointer data)
{
  const Update *u = data;
  const AneOptimizerStep *o = u->o;
  float *w = u->w, *m = u->m, *v = u->v;
  const float *g = u->g;

  if (o->kind == ANE_OPTIMIZER_SGD)
    {
      for (gsize i = begin; i < end; i++)
        {
          double gi = g[i] * o->grad_scale + u->wd * w[i];
          double buf = o->momentum > 0.0 && o->step > 1 ? o->momentum * m[i] + gi : gi;

          m[i] = (float) buf;
          w[i] = (float) (w[i] - o->lr * buf);
        }
      return;
    }
  {
    /* float32 throughout, as torch.optim.AdamW computes for float32
     * params; the loop vectorizes */
    const float b1 = (float) o->beta1, b2 = (float) o->beta2, nb1 = (float) (1.0 - o->beta1);
    const float nb2 = (float) (1.0 - o->beta2), gs = (float) o->grad_scale, shrink = (float) u->shrink;
    const float step = (float) (o->lr / u->c1), inv_c2 = (float) (1.0 / u->c2), eps = (float) o->eps;

    for (gsize i = begin; i < end; i++)
      {
        float gi = g[i] * gs;
        float mi = b1 * m[i] + nb1 * gi;
        float vi = b2 * v[i] + nb2 * gi * gi;

        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * shrink - step * mi / (sqrtf (vi * inv_c2) + eps);
      }
  }
}

/* Each element on its own, so the pool's split (runtime/cpu) cannot change
 * a bit: the same weights on any number of threads. */
void
ane_optimizer_update (const AneOptimizerStep *o,
                      float                  *w,
                      const float            *g,
                      float                  *m,
                      float                  *v,
                      gsize                   n,
                      gboolean                decay)
{
  Update u = { o, w, m, v, g, decay ? o->weight_decay : 0.0, 1.0, 1.0, 1.0 };

  if (o->kind != ANE_OPTIMIZER_SGD)
    {
      u.c1 = 1.0 - pow (o->beta1, (double) o->step);
      u.c2 = 1.0 - pow (o->beta2, (double) o->step);
      u.shrink = 1.0 - o->lr * u.wd;
    }
  ane_cpu_parallel_for (n, 1 << 15, update_range, &u);
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
