/* train/ane-trainer-private.h: AneTrainer's fields, shared by the step
 * (ane-trainer.c) and the checkpoints (ane-trainer-checkpoint.c)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "ane-trainer.h"
#include "ane-executable.h"

G_BEGIN_DECLS

/* One trained weight: the float32 master copy the optimizer updates, its
 * optimizer state and the gradient summed over a step's sequences. */
typedef struct {
  char   *name;         /* the model's weight name, "layers.0.wq" */
  char   *input;        /* the program's dynamic param, "layers_0_wq"; NULL: the
                         * host uses it alone (an untied embedding, host-gathered) */
  char   *grad_output;  /* "grad_layers_0_wq", or NULL */
  gint64  shape[2];
  guint   rank;
  gsize   n;
  float  *w, *m, *v, *g;
  gboolean decay;       /* weight decay on matrices only, not on norms (nanoGPT's split) */
  gint    layer;        /* KERNELS: the layer whose kernels take it; -1: the head's (or the host's) */
  gint64  offset;       /* packed kernels: where it sits in its kernel's "weights"; else -1 */
} AneTrainerWeight;

/* One compiled program of a step (ane-trainer-run.c). */
typedef struct {
  char          *name;    /* "step"; or "layer_forward", "layer_backward", "head" */
  AneGraph      *graph;
  AneExecutable *exe;
  gint64         us_run;  /* µs spent running it (bench/train.c) */
  gint64         packed_n;   /* > 0: its weights are one param "weights" of this many floats */
  gint64         packed_shape[2];   /* [rows, width] */
  float         *buffer;     /* ... filled here before each run */
} AneTrainerKernel;

struct _AneTrainer
{
  GObject parent_instance;

  AneLlamaModel *model;
  gint64 seq_len;
  AneBackend backend;
  AnePrecision precision;
  AneTrainerLayout layout;
  GPtrArray *kernels;         /* AneTrainerKernel*, each compiled once */
  gboolean host_embedding;    /* the host gathers the embedding rows (float inputs only) */
  gboolean pack;              /* KERNELS: each kernel's weights packed into one input */
  AneTrainerWeight *embedding;
  GPtrArray *weights;         /* AneTrainerWeight*, in the program's param order */
  gint64 n_params;

  AneOptimizer optimizer;
  double lr, weight_decay, momentum, beta1, beta2, eps, clip_norm;
  guint64 warmup, total;
  double min_ratio;

  guint64 step;               /* updates done */
  /* time spent (µs, since creation) running the program, and in whole
   * steps: the rest is the host's (feeding weights, summing gradients,
   * the optimizer); bench/train.c reports the shares */
  gint64 us_run, us_steps;
  double last_loss, last_grad_norm;
};

void     ane_trainer_weight_free  (AneTrainerWeight *w);
void     ane_trainer_kernel_free  (AneTrainerKernel *k);
/* Builds and compiles the layout's programs and takes the weights. */
gboolean ane_trainer_setup        (AneTrainer       *self,
                                   GError          **error);
/* Runs one sequence (seq_len + 1 tokens) with the current weights, adds
 * its loss to *loss and, with accumulate, its gradients to the weights'
 * (first: sets them). */
gboolean ane_trainer_run_sequence (AneTrainer       *self,
                                   const gint32     *seq,
                                   gboolean          accumulate,
                                   gboolean          first,
                                   double           *loss,
                                   GError          **error);

G_END_DECLS
