/* train/ane-trainer.c: AneTrainer, training a LLaMA-family model
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "train/ane-trainer-private.h"
#include "train/ane-optimizer-private.h"
#include "model/ane-llama-private.h"
#include "ane-progress-private.h"

/**
 * AneTrainer:
 *
 * Trains or fine-tunes an [class@Ane.LlamaModel] on token data.
 *
 * The trainer builds the model's forward pass over `seq_len` tokens with
 * every weight a dynamic param ([method@Ane.Graph.param_dynamic]), ends it
 * with the mean next-token cross-entropy ([method@Ane.Graph.cross_entropy]),
 * differentiates it with [method@Ane.Graph.gradients] and compiles that one
 * graph once, for the chosen backend. A step runs it on each sequence of a
 * batch with the current weights fed as inputs (nothing is recompiled),
 * sums the gradients, clips them to a global norm and applies the optimizer
 * on the CPU to float32 master copies of the weights, which the model keeps
 * untouched.
 *
 * A step takes `batch` sequences of `seq_len + 1` tokens laid end to end:
 * each sequence's first `seq_len` tokens are the inputs and its last
 * `seq_len` the targets. Gradients are averaged over the sequences (this is
 * also gradient accumulation: the sequences run one after the other, so
 * memory does not grow with the batch).
 *
 * ```c
 * g_autoptr(AneTrainer) trainer = ane_trainer_new (model, 64, ANE_BACKEND_CPU,
 *                                                  ANE_PRECISION_FLOAT32, &error);
 * ane_trainer_set_learning_rate (trainer, 1e-3);
 * ane_trainer_train (trainer, tokens, n_tokens, 100, 4, 42, NULL, &error);
 * ane_trainer_export_llama2c (trainer, "tuned.bin", &error);
 * ```
 *
 * Threads: a trainer is used by one thread at a time.
 *
 * Since: 0.2
 */

G_DEFINE_FINAL_TYPE (AneTrainer, ane_trainer, G_TYPE_OBJECT)

void
ane_trainer_weight_free (AneTrainerWeight *w)
{
  g_free (w->name);
  g_free (w->input);
  g_free (w->grad_output);
  g_free (w->w);
  g_free (w->m);
  g_free (w->v);
  g_free (w->g);
  g_free (w);
}

static void
ane_trainer_finalize (GObject *object)
{
  AneTrainer *self = ANE_TRAINER (object);

  g_clear_object (&self->model);
  g_clear_pointer (&self->kernels, g_ptr_array_unref);
  g_clear_pointer (&self->weights, g_ptr_array_unref);
  G_OBJECT_CLASS (ane_trainer_parent_class)->finalize (object);
}

static void
ane_trainer_class_init (AneTrainerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ane_trainer_finalize;
}

static void
ane_trainer_init (AneTrainer *self)
{
  self->weights = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_trainer_weight_free);
  self->kernels = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_trainer_kernel_free);
  /* torch.optim.AdamW's defaults, but for the learning rate: llama2.c's
   * train.py uses 5e-4 and weight decay 0.1 */
  self->optimizer = ANE_OPTIMIZER_ADAMW;
  self->lr = 1e-3;
  self->weight_decay = 0.0;
  self->momentum = 0.9;
  self->beta1 = 0.9;
  self->beta2 = 0.999;
  self->eps = 1e-8;
  self->min_ratio = 0.1;
  self->last_loss = NAN;
  self->last_grad_norm = NAN;
}

/**
 * ane_trainer_new:
 * @model: a model with float weights (a llama2.c checkpoint, an F32 or F16
 *   GGUF file, a Hugging Face checkpoint)
 * @seq_len: the tokens of one training sequence, at most the model's
 *   context length
 * @backend: where the forward and backward passes run
 * @precision: their precision (float16 is what the Neural Engine computes
 *   in; the weights and the optimizer stay float32 either way)
 * @error: return location for a #GError
 *
 * [ctor@Ane.Trainer.new_full] with the layout that suits @backend:
 * %ANE_TRAINER_LAYOUT_KERNELS for the Neural Engine (%ANE_BACKEND_ANE),
 * %ANE_TRAINER_LAYOUT_WHOLE for the others.
 *
 * Returns: (transfer full): the trainer, or %NULL with @error set
 *
 * Since: 0.2
 */
AneTrainer *
ane_trainer_new (AneLlamaModel  *model,
                 gint64          seq_len,
                 AneBackend      backend,
                 AnePrecision    precision,
                 GError        **error)
{
  return ane_trainer_new_full (model, seq_len, backend, precision,
                               backend == ANE_BACKEND_ANE ? ANE_TRAINER_LAYOUT_KERNELS : ANE_TRAINER_LAYOUT_WHOLE,
                               error);
}

/**
 * ane_trainer_new_full:
 * @model: a model with float weights (a llama2.c checkpoint, an F32 or F16
 *   GGUF file, a Hugging Face checkpoint)
 * @seq_len: the tokens of one training sequence, at most the model's
 *   context length
 * @backend: where the forward and backward passes run
 * @precision: their precision (float16 is what the Neural Engine computes
 *   in; the weights and the optimizer stay float32 either way)
 * @layout: one program for the whole step, or per-layer kernels
 * @error: return location for a #GError
 *
 * Builds the training programs of @layout and compiles them once (see
 * [method@Ane.Trainer.get_n_kernels]). Fails with %ANE_ERROR_UNSUPPORTED
 * naming the weight when the model's weights are block-quantized, and
 * naming the op when the model uses one without a gradient rule.
 *
 * Returns: (transfer full): the trainer, or %NULL with @error set
 *
 * Since: 0.2
 */
AneTrainer *
ane_trainer_new_full (AneLlamaModel     *model,
                      gint64             seq_len,
                      AneBackend         backend,
                      AnePrecision       precision,
                      AneTrainerLayout   layout,
                      GError           **error)
{
  g_autoptr(AneTrainer) self = NULL;

  g_return_val_if_fail (ANE_IS_LLAMA_MODEL (model), NULL);
  g_return_val_if_fail (layout == ANE_TRAINER_LAYOUT_WHOLE || layout == ANE_TRAINER_LAYOUT_KERNELS, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* the graph builders check seq_len against the model's context */
  self = g_object_new (ANE_TYPE_TRAINER, NULL);
  self->model = g_object_ref (model);
  self->seq_len = seq_len;
  self->backend = backend;
  self->precision = precision;
  self->layout = layout;
  /* the in-memory Neural Engine path binds float16 surfaces only: no
   * int32 tokens, so the host gathers the embedding rows (auto may choose
   * it); the kernels always take floats, whatever runs them */
  self->host_embedding = layout == ANE_TRAINER_LAYOUT_KERNELS || backend == ANE_BACKEND_ANE ||
                         backend == ANE_BACKEND_AUTO;
  /* the private path: every weight of a kernel in one input surface (the
   * "second input surface" of maderix/ANE's dynamic-weight kernels) */
  self->pack = layout == ANE_TRAINER_LAYOUT_KERNELS && backend == ANE_BACKEND_ANE;
  if (!ane_trainer_setup (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * ane_trainer_set_optimizer:
 * @self: a trainer
 * @optimizer: the update rule
 *
 * Chooses the optimizer (%ANE_OPTIMIZER_ADAMW by default). Its state
 * starts again from zero.
 *
 * Since: 0.2
 */
void
ane_trainer_set_optimizer (AneTrainer   *self,
                           AneOptimizer  optimizer)
{
  g_return_if_fail (ANE_IS_TRAINER (self));
  g_return_if_fail (optimizer == ANE_OPTIMIZER_SGD || optimizer == ANE_OPTIMIZER_ADAMW);

  if (optimizer == self->optimizer)
    return;
  self->optimizer = optimizer;
  for (guint i = 0; i < self->weights->len; i++)
    {
      AneTrainerWeight *w = self->weights->pdata[i];
      memset (w->m, 0, w->n * sizeof (float));
      memset (w->v, 0, w->n * sizeof (float));
    }
}

/**
 * ane_trainer_get_optimizer:
 * @self: a trainer
 *
 * The update rule the steps apply.
 *
 * Returns: the optimizer
 *
 * Since: 0.2
 */
AneOptimizer
ane_trainer_get_optimizer (AneTrainer *self)
{
  g_return_val_if_fail (ANE_IS_TRAINER (self), ANE_OPTIMIZER_ADAMW);
  return self->optimizer;
}

/**
 * ane_trainer_set_learning_rate:
 * @self: a trainer
 * @learning_rate: the peak learning rate (default 1e-3)
 *
 * Sets the learning rate the schedule starts from and returns to (the peak after the warm-up).
 *
 * Since: 0.2
 */
void
ane_trainer_set_learning_rate (AneTrainer *self,
                               double      learning_rate)
{
  g_return_if_fail (ANE_IS_TRAINER (self));
  g_return_if_fail (learning_rate >= 0.0 && isfinite (learning_rate));
  self->lr = learning_rate;
}

/**
 * ane_trainer_get_learning_rate:
 * @self: a trainer
 *
 * The peak learning rate, before the schedule.
 *
 * Returns: the peak learning rate
 *
 * Since: 0.2
 */
double
ane_trainer_get_learning_rate (AneTrainer *self)
{
  g_return_val_if_fail (ANE_IS_TRAINER (self), 0.0);
  return self->lr;
}

/**
 * ane_trainer_set_weight_decay:
 * @self: a trainer
 * @weight_decay: the decay (default 0): decoupled for AdamW, an L2 term of
 *   the gradient for SGD; applied to matrices, not to norm weights
 *
 * Sets the weight decay of the matrices.
 *
 * Since: 0.2
 */
void
ane_trainer_set_weight_decay (AneTrainer *self,
                              double      weight_decay)
{
  g_return_if_fail (ANE_IS_TRAINER (self));
  g_return_if_fail (weight_decay >= 0.0 && isfinite (weight_decay));
  self->weight_decay = weight_decay;
}

/**
 * ane_trainer_set_momentum:
 * @self: a trainer
 * @momentum: SGD's momentum (default 0.9; 0: plain SGD)
 *
 * Sets SGD's momentum; AdamW does not use it.
 *
 * Since: 0.2
 */
void
ane_trainer_set_momentum (AneTrainer *self,
                          double      momentum)
{
  g_return_if_fail (ANE_IS_TRAINER (self));
  g_return_if_fail (momentum >= 0.0 && momentum < 1.0);
  self->momentum = momentum;
}

/**
 * ane_trainer_set_betas:
 * @self: a trainer
 * @beta1: AdamW's first-moment decay (default 0.9)
 * @beta2: AdamW's second-moment decay (default 0.999)
 *
 * Sets AdamW's moment decays; SGD does not use them.
 *
 * Since: 0.2
 */
void
ane_trainer_set_betas (AneTrainer *self,
                       double      beta1,
                       double      beta2)
{
  g_return_if_fail (ANE_IS_TRAINER (self));
  g_return_if_fail (beta1 >= 0.0 && beta1 < 1.0 && beta2 >= 0.0 && beta2 < 1.0);
  self->beta1 = beta1;
  self->beta2 = beta2;
}

/**
 * ane_trainer_set_clip_norm:
 * @self: a trainer
 * @max_norm: the largest global gradient norm (the root of the sum of
 *   squares over every weight), beyond which the gradient is scaled down;
 *   0 (the default) turns clipping off
 *
 * Sets the gradient clipping.
 *
 * Since: 0.2
 */
void
ane_trainer_set_clip_norm (AneTrainer *self,
                           double      max_norm)
{
  g_return_if_fail (ANE_IS_TRAINER (self));
  g_return_if_fail (max_norm >= 0.0 && isfinite (max_norm));
  self->clip_norm = max_norm;
}

/**
 * ane_trainer_set_schedule:
 * @self: a trainer
 * @warmup_steps: steps of linear warm-up to the learning rate
 * @total_steps: the step at which the cosine decay ends (0: no decay, the
 *   learning rate stays constant after the warm-up)
 * @min_ratio: the learning rate at the end of the decay, as a fraction of
 *   the peak (default 0.1)
 *
 * Sets the learning-rate schedule of llama2.c's and nanoGPT's `train.py`:
 * linear warm-up, then cosine decay. The default is a constant rate.
 *
 * Since: 0.2
 */
void
ane_trainer_set_schedule (AneTrainer *self,
                          guint64     warmup_steps,
                          guint64     total_steps,
                          double      min_ratio)
{
  g_return_if_fail (ANE_IS_TRAINER (self));
  g_return_if_fail (min_ratio >= 0.0 && min_ratio <= 1.0);
  self->warmup = warmup_steps;
  self->total = total_steps;
  self->min_ratio = min_ratio;
}

/**
 * ane_trainer_get_current_learning_rate:
 * @self: a trainer
 *
 * The learning rate of the next step: the peak with the schedule applied at the step count.
 *
 * Returns: the learning rate the next step uses (the schedule applied)
 *
 * Since: 0.2
 */
double
ane_trainer_get_current_learning_rate (AneTrainer *self)
{
  g_return_val_if_fail (ANE_IS_TRAINER (self), 0.0);
  return ane_optimizer_schedule (self->lr, self->step, self->warmup, self->total, self->min_ratio);
}

/**
 * ane_trainer_get_step:
 * @self: a trainer
 *
 * How many updates the weights have had.
 *
 * Returns: the number of updates done (restored by [method@Ane.Trainer.load])
 *
 * Since: 0.2
 */
guint64
ane_trainer_get_step (AneTrainer *self)
{
  g_return_val_if_fail (ANE_IS_TRAINER (self), 0);
  return self->step;
}

/**
 * ane_trainer_get_seq_len:
 * @self: a trainer
 *
 * The length of one training sequence (a window is one more token).
 *
 * Returns: the tokens of one training sequence
 *
 * Since: 0.2
 */
gint64
ane_trainer_get_seq_len (AneTrainer *self)
{
  g_return_val_if_fail (ANE_IS_TRAINER (self), 0);
  return self->seq_len;
}

/**
 * ane_trainer_get_last_loss:
 * @self: a trainer
 *
 * The loss the last step measured.
 *
 * Returns: the mean loss of the last step (before its update), NaN before
 *   the first
 *
 * Since: 0.2
 */
double
ane_trainer_get_last_loss (AneTrainer *self)
{
  g_return_val_if_fail (ANE_IS_TRAINER (self), NAN);
  return self->last_loss;
}

/**
 * ane_trainer_get_last_grad_norm:
 * @self: a trainer
 *
 * The global gradient norm the last step measured.
 *
 * Returns: the global gradient norm of the last step, before clipping (NaN
 *   before the first)
 *
 * Since: 0.2
 */
double
ane_trainer_get_last_grad_norm (AneTrainer *self)
{
  g_return_val_if_fail (ANE_IS_TRAINER (self), NAN);
  return self->last_grad_norm;
}

/**
 * ane_trainer_get_n_params:
 * @self: a trainer
 *
 * The size of the trained model.
 *
 * Returns: the number of trained weights' elements (a tied embedding and
 *   classifier counted once)
 *
 * Since: 0.2
 */
gint64
ane_trainer_get_n_params (AneTrainer *self)
{
  g_return_val_if_fail (ANE_IS_TRAINER (self), 0);
  return self->n_params;
}

/**
 * ane_trainer_get_layout:
 * @self: a trainer
 *
 * How the trainer splits a step into programs.
 *
 * Returns: how the step is split into programs
 *
 * Since: 0.2
 */
AneTrainerLayout
ane_trainer_get_layout (AneTrainer *self)
{
  g_return_val_if_fail (ANE_IS_TRAINER (self), ANE_TRAINER_LAYOUT_WHOLE);
  return self->layout;
}

/**
 * ane_trainer_get_n_kernels:
 * @self: a trainer
 *
 * The programs a step runs, each compiled once when the trainer was made:
 * one (`step`) for %ANE_TRAINER_LAYOUT_WHOLE; three for
 * %ANE_TRAINER_LAYOUT_KERNELS (`layer_forward`, `layer_backward`, `head`),
 * whatever the number of layers.
 *
 * Returns: the number of programs
 *
 * Since: 0.2
 */
guint
ane_trainer_get_n_kernels (AneTrainer *self)
{
  g_return_val_if_fail (ANE_IS_TRAINER (self), 0);
  return self->kernels->len;
}

static AneTrainerKernel *
kernel_at (AneTrainer *self,
           guint       index)
{
  g_return_val_if_fail (ANE_IS_TRAINER (self), NULL);
  g_return_val_if_fail (index < self->kernels->len, NULL);
  return self->kernels->pdata[index];
}

/**
 * ane_trainer_get_kernel_name:
 * @self: a trainer
 * @index: a program, below [method@Ane.Trainer.get_n_kernels]
 *
 * The name of one of the programs a step runs.
 *
 * Returns: (transfer none): its name
 *
 * Since: 0.2
 */
const char *
ane_trainer_get_kernel_name (AneTrainer *self,
                             guint       index)
{
  AneTrainerKernel *k = kernel_at (self, index);
  return k != NULL ? k->name : NULL;
}

/**
 * ane_trainer_get_kernel_graph:
 * @self: a trainer
 * @index: a program, below [method@Ane.Trainer.get_n_kernels]
 *
 * The graph of a program, weights as dynamic params: to lint it
 * ([method@Ane.Graph.lint]), write it as a package or read its MIL. Its
 * outputs are `loss` and `grad_<weight>` per weight (a kernel's input
 * `x` also gets `grad_x`).
 *
 * Returns: (transfer none): the graph
 *
 * Since: 0.2
 */
AneGraph *
ane_trainer_get_kernel_graph (AneTrainer *self,
                              guint       index)
{
  AneTrainerKernel *k = kernel_at (self, index);
  return k != NULL ? k->graph : NULL;
}

/**
 * ane_trainer_get_kernel_executable:
 * @self: a trainer
 * @index: a program, below [method@Ane.Trainer.get_n_kernels]
 *
 * One of the compiled programs a step runs.
 *
 * Returns: (transfer none): the compiled program
 *
 * Since: 0.2
 */
AneExecutable *
ane_trainer_get_kernel_executable (AneTrainer *self,
                                   guint       index)
{
  AneTrainerKernel *k = kernel_at (self, index);
  return k != NULL ? k->exe : NULL;
}

/* n_tokens must be batch · (seq_len + 1) for some batch ≥ 1. */
static gboolean
check_tokens (AneTrainer   *self,
              const gint32 *tokens,
              gsize         n_tokens,
              guint        *batch,
              GError      **error)
{
  gsize per = (gsize) self->seq_len + 1;
  gint64 vocab = self->model->vocab_size;

  if (n_tokens == 0 || n_tokens % per != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "trainer: %" G_GSIZE_FORMAT " tokens are not whole sequences of seq_len + 1 = %" G_GSIZE_FORMAT
                   " tokens (inputs and their next tokens)", n_tokens, per);
      return FALSE;
    }
  for (gsize i = 0; i < n_tokens; i++)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      {
        g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                     "trainer: token %" G_GSIZE_FORMAT " is %d, outside the vocabulary [0, %" G_GINT64_FORMAT ")",
                     i, tokens[i], vocab);
        return FALSE;
      }
  *batch = (guint) (n_tokens / per);
  return TRUE;
}

/**
 * ane_trainer_evaluate:
 * @self: a trainer
 * @tokens: (array length=n_tokens): whole sequences of `seq_len + 1` tokens
 * @n_tokens: the number of tokens
 * @loss: (out): the mean cross-entropy over the sequences
 * @error: return location for a #GError
 *
 * The loss of the current weights, without an update.
 *
 * Returns: (skip): %TRUE on success (bindings return the loss and raise on
 *   failure)
 *
 * Since: 0.2
 */
gboolean
ane_trainer_evaluate (AneTrainer   *self,
                      const gint32 *tokens,
                      gsize         n_tokens,
                      double       *loss,
                      GError      **error)
{
  guint batch;
  double sum = 0.0;

  g_return_val_if_fail (ANE_IS_TRAINER (self), FALSE);
  g_return_val_if_fail (tokens != NULL || n_tokens == 0, FALSE);

  if (!check_tokens (self, tokens, n_tokens, &batch, error))
    return FALSE;
  for (guint b = 0; b < batch; b++)
    if (!ane_trainer_run_sequence (self, tokens + b * (self->seq_len + 1), FALSE, FALSE, &sum, error))
      return FALSE;
  if (loss != NULL)
    *loss = sum / batch;
  return TRUE;
}

/**
 * ane_trainer_step:
 * @self: a trainer
 * @tokens: (array length=n_tokens): a batch of whole sequences of
 *   `seq_len + 1` tokens each
 * @n_tokens: the number of tokens
 * @loss: (out) (optional): the mean loss of the batch, before the update
 * @error: return location for a #GError
 *
 * One optimizer step: the gradient of the batch's mean loss (each sequence
 * run in turn and the gradients averaged), clipped to the global norm, then
 * the update. A loss or gradient that is not finite fails the step with
 * %ANE_ERROR_FAILED and leaves the weights as they were.
 *
 * Returns: (skip): %TRUE on success (bindings return the loss and raise on
 *   failure)
 *
 * Since: 0.2
 */
gboolean
ane_trainer_step (AneTrainer   *self,
                  const gint32 *tokens,
                  gsize         n_tokens,
                  double       *loss,
                  GError      **error)
{
  AneOptimizerStep o;
  guint batch;
  double sum = 0.0, squares = 0.0, norm, scale;
  gint64 t0;

  g_return_val_if_fail (ANE_IS_TRAINER (self), FALSE);
  g_return_val_if_fail (tokens != NULL || n_tokens == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  t0 = g_get_monotonic_time ();
  if (!check_tokens (self, tokens, n_tokens, &batch, error))
    return FALSE;
  /* the program's gradients are copied in by the first sequence; a weight
   * only the host sees starts from zero */
  for (guint i = 0; i < self->weights->len; i++)
    {
      AneTrainerWeight *w = self->weights->pdata[i];
      if (w->grad_output == NULL)
        memset (w->g, 0, w->n * sizeof (float));
    }
  for (guint b = 0; b < batch; b++)
    if (!ane_trainer_run_sequence (self, tokens + b * (self->seq_len + 1), TRUE, b == 0, &sum, error))
      return FALSE;

  /* g holds the batch's sum: the mean's norm is the sum's over batch, and
   * the optimizer scales by 1/batch (and the clipping) as it reads g */
  for (guint i = 0; i < self->weights->len; i++)
    {
      AneTrainerWeight *w = self->weights->pdata[i];
      squares += ane_optimizer_sum_squares (w->g, w->n);
    }
  norm = sqrt (squares) / batch;
  self->last_loss = sum / batch;
  self->last_grad_norm = norm;
  if (!isfinite (self->last_loss) || !isfinite (norm))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                   "trainer: step %" G_GUINT64_FORMAT ": the loss (%g) or the gradient norm (%g) is not finite; "
                   "the weights were not updated (a lower learning rate, clipping or float32 precision may help)",
                   self->step + 1, self->last_loss, norm);
      return FALSE;
    }

  scale = self->clip_norm > 0.0 && norm > self->clip_norm ? self->clip_norm / norm : 1.0;
  o.kind = self->optimizer;
  o.lr = ane_optimizer_schedule (self->lr, self->step, self->warmup, self->total, self->min_ratio);
  o.weight_decay = self->weight_decay;
  o.momentum = self->momentum;
  o.beta1 = self->beta1;
  o.beta2 = self->beta2;
  o.eps = self->eps;
  o.step = self->step + 1;
  o.grad_scale = scale / batch;
  for (guint i = 0; i < self->weights->len; i++)
    {
      AneTrainerWeight *w = self->weights->pdata[i];
      ane_optimizer_update (&o, w->w, w->g, w->m, w->v, w->n, w->decay);
    }
  self->step++;
  self->us_steps += g_get_monotonic_time () - t0;
  if (loss != NULL)
    *loss = self->last_loss;
  return TRUE;
}

/* The window of step step's sequence b: drawn from a generator seeded by
 * (seed, step), so a run resumed from a checkpoint draws what the
 * uninterrupted run would have. */
static void
draw_batch (const gint32 *data,
            gsize         n_data,
            gsize         per,
            guint         batch,
            guint64       seed,
            guint64       step,
            gint32       *out)
{
  guint32 words[4] = { (guint32) seed, (guint32) (seed >> 32), (guint32) step, (guint32) (step >> 32) };
  g_autoptr(GRand) rand = g_rand_new_with_seed_array (words, 4);
  gsize starts = n_data - per + 1;

  for (guint b = 0; b < batch; b++)
    {
      gsize start = (gsize) (g_rand_double (rand) * (double) starts);
      if (start >= starts)
        start = starts - 1;
      memcpy (out + b * per, data + start, per * sizeof (gint32));
    }
}

/**
 * ane_trainer_train:
 * @self: a trainer
 * @data: (array length=n_data): the training text as tokens
 * @n_data: the number of tokens, at least `seq_len + 1`
 * @n_steps: the steps to take
 * @batch: sequences per step (at least 1)
 * @seed: the seed of the windows drawn from @data
 * @progress: (nullable): reports "training" after each step (read the loss
 *   with [method@Ane.Trainer.get_last_loss]) and cancels between steps
 * @error: return location for a #GError
 *
 * Takes @n_steps steps, each on @batch windows of `seq_len + 1` tokens
 * drawn at random from @data. The windows of a step depend only on @seed
 * and the step's number, so training resumed from a checkpoint
 * ([method@Ane.Trainer.load]) with the same seed sees the data the
 * uninterrupted run would have.
 *
 * Returns: %TRUE on success; %FALSE with @error set (a cancelled progress
 *   gives %G_IO_ERROR_CANCELLED, the steps already taken kept)
 *
 * Since: 0.2
 */
gboolean
ane_trainer_train (AneTrainer   *self,
                   const gint32 *data,
                   gsize         n_data,
                   guint         n_steps,
                   guint         batch,
                   guint64       seed,
                   AneProgress  *progress,
                   GError      **error)
{
  gsize per;
  g_autofree gint32 *window = NULL;

  g_return_val_if_fail (ANE_IS_TRAINER (self), FALSE);
  g_return_val_if_fail (data != NULL || n_data == 0, FALSE);
  g_return_val_if_fail (progress == NULL || ANE_IS_PROGRESS (progress), FALSE);

  per = (gsize) self->seq_len + 1;
  if (n_data < per)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "trainer: %" G_GSIZE_FORMAT " tokens of data are fewer than one sequence (seq_len + 1 = %"
                   G_GSIZE_FORMAT ")", n_data, per);
      return FALSE;
    }
  if (batch == 0 || batch > G_MAXSIZE / per / sizeof (gint32))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "trainer: batch %u is not a positive size", batch);
      return FALSE;
    }
  window = g_new (gint32, per * batch);
  ane_progress_begin (progress);
  for (guint s = 0; s < n_steps; s++)
    {
      if (!ane_progress_check (progress, error))
        return FALSE;
      draw_batch (data, n_data, per, batch, seed, self->step, window);
      if (!ane_trainer_step (self, window, per * batch, NULL, error))
        return FALSE;
      if (!ane_progress_report (progress, ANE_PROGRESS_STAGE_TRAINING, (double) (s + 1) / n_steps, 0, 0, error))
        return FALSE;
    }
  ane_progress_finish (progress);
  return TRUE;
}
