/* train/ane-optimizer-private.h: the optimizer updates AneTrainer applies
 *
 * Plain loops over float32 arrays, one weight at a time, always in the same
 * order: the result does not depend on the number of threads (the training
 * test checks 1 and 2 threads give the same losses).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int    kind;           /* AneOptimizer */
  double lr;             /* this step's learning rate (the schedule applied) */
  double weight_decay;   /* decoupled for AdamW; L2 added to the gradient for SGD */
  double momentum;       /* SGD */
  double beta1, beta2, eps;   /* AdamW */
  guint64 step;          /* 1 for the first update (AdamW's bias correction) */
  double grad_scale;     /* the gradient is g · grad_scale (the mean of a batch, the clipping) */
} AneOptimizerStep;

/* One update of n weights w from gradient g; m and v are the optimizer's
 * state for these weights (SGD uses m as its momentum buffer, v unused;
 * AdamW the first and second moments), zero before the first step.
 * decay: whether weight decay applies to this tensor. */
void   ane_optimizer_update       (const AneOptimizerStep *o,
                                   float                  *w,
                                   const float            *g,
                                   float                  *m,
                                   float                  *v,
                                   gsize                   n,
                                   gboolean                decay);

/* The sum of squares of g, in double (the global gradient norm for
 * clipping is the root of the sum over all tensors). */
double ane_optimizer_sum_squares  (const float *g,
                                   gsize        n);

/* The learning rate at step (0-based): a linear warm-up over warmup steps
 * from lr / warmup, then a cosine decay to lr · min_ratio at total steps
 * (total 0: constant after the warm-up) — the schedule of nanoGPT and
 * llama2.c's train.py (get_lr). */
double ane_optimizer_schedule     (double  lr,
                                   guint64 step,
                                   guint64 warmup,
                                   guint64 total,
                                   double  min_ratio);

G_END_DECLS
