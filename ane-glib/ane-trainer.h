/* ane-trainer.h: training and fine-tuning LLaMA-family models
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "ane-types.h"
#include "ane-llama.h"
#include "ane-executable.h"
#include "ane-progress.h"

G_BEGIN_DECLS

/**
 * AneOptimizer:
 * @ANE_OPTIMIZER_SGD: stochastic gradient descent with momentum and L2
 *   weight decay, as `torch.optim.SGD`
 * @ANE_OPTIMIZER_ADAMW: Adam with decoupled weight decay, as
 *   `torch.optim.AdamW`
 *
 * The update rule an [class@Ane.Trainer] applies.
 *
 * Since: 0.2
 */
typedef enum {
  ANE_OPTIMIZER_SGD,
  ANE_OPTIMIZER_ADAMW,
} AneOptimizer;

/**
 * AneTrainerLayout:
 * @ANE_TRAINER_LAYOUT_WHOLE: one program computes the loss and every
 *   gradient (int32 tokens in, the fused cross-entropy; on the Neural
 *   Engine, float inputs as for kernels)
 * @ANE_TRAINER_LAYOUT_KERNELS: per-layer kernels, as maderix/ANE trains on
 *   the Neural Engine: a layer's forward, a layer's backward and the head,
 *   three programs whatever the depth, with float inputs only (the host
 *   gathers the embedding and keeps each layer's input)
 *
 * How an [class@Ane.Trainer] splits a step into programs.
 *
 * Since: 0.2
 */
typedef enum {
  ANE_TRAINER_LAYOUT_WHOLE,
  ANE_TRAINER_LAYOUT_KERNELS,
} AneTrainerLayout;

#define ANE_TYPE_TRAINER (ane_trainer_get_type ())

ANE_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (AneTrainer, ane_trainer, ANE, TRAINER, GObject)

ANE_AVAILABLE_IN_0_2
AneTrainer   *ane_trainer_new                (AneLlamaModel  *model,
                                              gint64          seq_len,
                                              AneBackend      backend,
                                              AnePrecision    precision,
                                              GError        **error);
ANE_AVAILABLE_IN_0_2
AneTrainer   *ane_trainer_new_full           (AneLlamaModel     *model,
                                              gint64             seq_len,
                                              AneBackend         backend,
                                              AnePrecision       precision,
                                              AneTrainerLayout   layout,
                                              GError           **error);
ANE_AVAILABLE_IN_0_2
void          ane_trainer_set_optimizer      (AneTrainer     *self,
                                              AneOptimizer    optimizer);
ANE_AVAILABLE_IN_0_2
AneOptimizer  ane_trainer_get_optimizer      (AneTrainer     *self);
ANE_AVAILABLE_IN_0_2
void          ane_trainer_set_learning_rate  (AneTrainer     *self,
                                              double          learning_rate);
ANE_AVAILABLE_IN_0_2
double        ane_trainer_get_learning_rate  (AneTrainer     *self);
ANE_AVAILABLE_IN_0_2
void          ane_trainer_set_weight_decay   (AneTrainer     *self,
                                              double          weight_decay);
ANE_AVAILABLE_IN_0_2
void          ane_trainer_set_momentum       (AneTrainer     *self,
                                              double          momentum);
ANE_AVAILABLE_IN_0_2
void          ane_trainer_set_betas          (AneTrainer     *self,
                                              double          beta1,
                                              double          beta2);
ANE_AVAILABLE_IN_0_2
void          ane_trainer_set_clip_norm      (AneTrainer     *self,
                                              double          max_norm);
ANE_AVAILABLE_IN_0_2
void          ane_trainer_set_schedule       (AneTrainer     *self,
                                              guint64         warmup_steps,
                                              guint64         total_steps,
                                              double          min_ratio);
ANE_AVAILABLE_IN_0_2
double        ane_trainer_get_current_learning_rate (AneTrainer *self);
ANE_AVAILABLE_IN_0_2
guint64       ane_trainer_get_step           (AneTrainer     *self);
ANE_AVAILABLE_IN_0_2
gint64        ane_trainer_get_seq_len        (AneTrainer     *self);
ANE_AVAILABLE_IN_0_2
double        ane_trainer_get_last_loss      (AneTrainer     *self);
ANE_AVAILABLE_IN_0_2
double        ane_trainer_get_last_grad_norm (AneTrainer     *self);
ANE_AVAILABLE_IN_0_2
gint64        ane_trainer_get_n_params       (AneTrainer     *self);
ANE_AVAILABLE_IN_0_2
AneTrainerLayout ane_trainer_get_layout      (AneTrainer     *self);
ANE_AVAILABLE_IN_0_2
guint         ane_trainer_get_n_kernels      (AneTrainer     *self);
ANE_AVAILABLE_IN_0_2
const char   *ane_trainer_get_kernel_name    (AneTrainer     *self,
                                              guint           index);
ANE_AVAILABLE_IN_0_2
AneGraph     *ane_trainer_get_kernel_graph   (AneTrainer     *self,
                                              guint           index);
ANE_AVAILABLE_IN_0_2
AneExecutable *ane_trainer_get_kernel_executable (AneTrainer *self,
                                                  guint       index);
ANE_AVAILABLE_IN_0_2
gboolean      ane_trainer_step               (AneTrainer     *self,
                                              const gint32   *tokens,
                                              gsize           n_tokens,
                                              double         *loss,
                                              GError        **error);
ANE_AVAILABLE_IN_0_2
gboolean      ane_trainer_evaluate           (AneTrainer     *self,
                                              const gint32   *tokens,
                                              gsize           n_tokens,
                                              double         *loss,
                                              GError        **error);
ANE_AVAILABLE_IN_0_2
gboolean      ane_trainer_train              (AneTrainer     *self,
                                              const gint32   *data,
                                              gsize           n_data,
                                              guint           n_steps,
                                              guint           batch,
                                              guint64         seed,
                                              AneProgress    *progress,
                                              GError        **error);
ANE_AVAILABLE_IN_0_2
gboolean      ane_trainer_save               (AneTrainer     *self,
                                              const char     *path,
                                              GError        **error);
ANE_AVAILABLE_IN_0_2
gboolean      ane_trainer_load               (AneTrainer     *self,
                                              const char     *path,
                                              GError        **error);
ANE_AVAILABLE_IN_0_2
gboolean      ane_trainer_export_llama2c     (AneTrainer     *self,
                                              const char     *path,
                                              GError        **error);
ANE_AVAILABLE_IN_0_2
AneTensor    *ane_trainer_dup_weight         (AneTrainer     *self,
                                              const char     *name,
                                              GError        **error);

G_END_DECLS
