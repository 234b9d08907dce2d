/* ane-tool-train.c: `ane-tool train`, fine-tuning a LLaMA-family model on a
 * text file (AneTrainer)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ane-tool-private.h"
#include "ane-trainer.h"
#include "ane-lint.h"

typedef struct {
  AneTrainer *trainer;
  guint n_steps, every;
  gsize tokens_per_step;
  gint64 t_last;      /* monotonic µs at the last report */
  guint64 first_step;
  guint64 shown;      /* the last step printed (the final report repeats it) */
} TrainView;

/* One line per reported step: the loss, the learning rate it used, the
 * gradient norm before clipping and the speed since the last line. */
static void
show_step (AneProgress *progress,
           gpointer     user_data)
{
  TrainView *view = user_data;
  guint64 step = ane_trainer_get_step (view->trainer);
  guint done = (guint) (step - view->first_step);
  gint64 now = g_get_monotonic_time ();
  double seconds = (now - view->t_last) / 1e6;
  guint since = done % view->every == 0 ? view->every : done % view->every;

  if ((done % view->every != 0 && done != view->n_steps) || (done > 0 && step == view->shown))
    return;
  view->shown = step;
  printf ("step %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "  loss %.4f  grad norm %.3f  %.0f tokens/s\n",
          step, view->first_step + view->n_steps, ane_trainer_get_last_loss (view->trainer),
          ane_trainer_get_last_grad_norm (view->trainer),
          seconds > 0 ? (double) (since * view->tokens_per_step) / seconds : 0.0);
  fflush (stdout);
  view->t_last = now;
}

int
ane_tool_train (int    argc,
                char **argv)
{
  g_autofree char *tokenizer_path = NULL, *data_path = NULL, *backend_name = NULL, *precision_name = NULL;
  g_autofree char *optimizer_name = NULL, *save_path = NULL, *checkpoint_path = NULL, *resume_path = NULL;
  g_autofree char *layout_name = NULL;
  gboolean lint = FALSE;
  int n_steps = 100, batch = 4, seq = 64, warmup = 0, every = 1;
  double lr = 1e-3, weight_decay = 0.0, momentum = 0.9, clip = 1.0;
  gboolean cosine = FALSE;
  gint64 seed = 42;
  GOptionEntry entries[] = {
    { "tokenizer", 'z', 0, G_OPTION_ARG_FILENAME, &tokenizer_path, "The llama2.c tokenizer file or a Hugging Face tokenizer.json (required for a llama2.c checkpoint)", "TOK.bin" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data_path, "The training text (UTF-8), tokenized whole with a leading BOS (required)", "TEXT.txt" },
    { "steps", 'n', 0, G_OPTION_ARG_INT, &n_steps, "Optimizer steps to take (default 100)", "N" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr, "Peak learning rate (default 1e-3)", "LR" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Sequences per step, their gradients averaged (default 4)", "B" },
    { "seq", 0, 0, G_OPTION_ARG_INT, &seq, "Tokens per sequence (default 64, at most the model's context)", "S" },
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &backend_name, "cpu, reference, ane or auto (default cpu)", "BACKEND" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name, "fp32 (default on cpu and reference) or fp16 (default on ane and auto); weights and optimizer stay fp32", "PRECISION" },
    { "layout", 'l', 0, G_OPTION_ARG_STRING, &layout_name, "whole (one program; the default on cpu, reference and auto) or kernels (a layer's forward, a layer's backward and the head, as on the Neural Engine; the default on ane)", "LAYOUT" },
    { "lint", 0, 0, G_OPTION_ARG_NONE, &lint, "Print what the ANE lint says of each program before training", NULL },
    { "optimizer", 0, 0, G_OPTION_ARG_STRING, &optimizer_name, "adamw (default) or sgd (with --momentum)", "OPT" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &weight_decay, "Weight decay of the matrices (default 0)", "WD" },
    { "momentum", 0, 0, G_OPTION_ARG_DOUBLE, &momentum, "SGD momentum (default 0.9)", "M" },
    { "clip", 0, 0, G_OPTION_ARG_DOUBLE, &clip, "Clip the global gradient norm to this (default 1.0; 0: off)", "NORM" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Linear warm-up steps (default 0)", "N" },
    { "cosine", 0, 0, G_OPTION_ARG_NONE, &cosine, "Cosine decay of the learning rate to a tenth at the last step", NULL },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of the windows drawn from the data (default 42)", "S" },
    { "every", 0, 0, G_OPTION_ARG_INT, &every, "Print every N steps (default 1)", "N" },
    { "save", 'o', 0, G_OPTION_ARG_FILENAME, &save_path, "Write the trained model as a llama2.c checkpoint (loads in generate)", "OUT.bin" },
    { "checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &checkpoint_path, "Write a training checkpoint (weights and optimizer state, safetensors) at the end", "CKPT.safetensors" },
    { "resume", 0, 0, G_OPTION_ARG_FILENAME, &resume_path, "Resume from a training checkpoint", "CKPT.safetensors" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneLlamaModel) model = NULL;
  g_autoptr(AneTokenizer) tokenizer = NULL;
  g_autoptr(AneTrainer) trainer = NULL;
  g_autoptr(AneProgress) progress = NULL;
  g_autofree char *text = NULL;
  g_autofree gint32 *data = NULL;
  gsize text_len, n_data;
  AneBackend backend = ANE_BACKEND_CPU;
  AnePrecision precision;
  TrainView view = { 0 };
  gint64 t0;
  double seconds;
  int status = 0;

  if (!ane_tool_parse (&argc, &argv, "train", "MODEL",
                       "Train or fine-tune a llama2.c checkpoint (e.g. data/models/stories260K.bin, with\n"
                       "--tokenizer), an F32/F16 GGUF model or a Hugging Face directory on a text file:\n"
                       "each step draws --batch windows of --seq + 1 tokens from the text, runs the\n"
                       "forward and backward passes (one program, compiled once, the weights fed as\n"
                       "inputs) and updates the weights with the optimizer. Prints the loss per step.",
                       entries, 1, 1, &status))
    return status;
  if (data_path == NULL)
    {
      fprintf (stderr, "ane-tool train: --data TEXT.txt is required\n");
      return 2;
    }
  if (n_steps < 0 || batch < 1 || seq < 1 || warmup < 0 || every < 1 || lr < 0 || weight_decay < 0 ||
      momentum < 0 || momentum >= 1 || clip < 0)
    {
      fprintf (stderr, "ane-tool train: --steps, --warmup must be at least 0, --batch, --seq and --every at "
               "least 1, --lr, --weight-decay and --clip not negative, --momentum in [0, 1)\n");
      return 2;
    }
  if (!ane_tool_parse_backend (backend_name, &backend) || backend == ANE_BACKEND_COREML)
    {
      fprintf (stderr, "ane-tool train: unknown backend '%s' (use cpu, reference, ane or auto)\n", backend_name);
      return 2;
    }
  precision = backend == ANE_BACKEND_ANE || backend == ANE_BACKEND_AUTO ? ANE_PRECISION_FLOAT16
                                                                         : ANE_PRECISION_FLOAT32;
  if (precision_name != NULL && !ane_tool_parse_precision (precision_name, &precision))
    {
      fprintf (stderr, "ane-tool train: unknown precision '%s' (use fp16 or fp32)\n", precision_name);
      return 2;
    }
  if (layout_name != NULL && !g_str_equal (layout_name, "whole") && !g_str_equal (layout_name, "kernels"))
    {
      fprintf (stderr, "ane-tool train: unknown layout '%s' (use whole or kernels)\n", layout_name);
      return 2;
    }
  if (optimizer_name != NULL && !g_str_equal (optimizer_name, "adamw") && !g_str_equal (optimizer_name, "sgd"))
    {
      fprintf (stderr, "ane-tool train: unknown optimizer '%s' (use adamw or sgd)\n", optimizer_name);
      return 2;
    }

  status = ane_tool_load_llama ("train", argv[1], tokenizer_path, TRUE, &model, &tokenizer);
  if (status != 0)
    return status;
  if (!g_file_get_contents (data_path, &text, &text_len, &error))
    return ane_tool_fail ("train", error);
  if (!g_utf8_validate (text, (gssize) text_len, NULL))
    {
      fprintf (stderr, "ane-tool train: '%s' is not UTF-8 text\n", data_path);
      return 1;
    }
  data = ane_tokenizer_encode_full (tokenizer, text, TRUE, &n_data, &error);
  if (data == NULL)
    return ane_tool_fail ("train", error);
  if ((gint64) seq > ane_llama_model_get_seq_len (model))
    seq = (int) ane_llama_model_get_seq_len (model);
  if (n_data < (gsize) seq + 1)
    {
      fprintf (stderr, "ane-tool train: '%s' is %" G_GSIZE_FORMAT " tokens, fewer than one sequence of --seq + 1 = %d\n",
               data_path, n_data, seq + 1);
      return 1;
    }

  if (layout_name != NULL)
    trainer = ane_trainer_new_full (model, seq, backend, precision,
                                    g_str_equal (layout_name, "kernels") ? ANE_TRAINER_LAYOUT_KERNELS
                                                                          : ANE_TRAINER_LAYOUT_WHOLE, &error);
  else
    trainer = ane_trainer_new (model, seq, backend, precision, &error);
  if (trainer == NULL)
    return ane_tool_fail ("train", error);
  if (lint)
    for (guint k = 0; k < ane_trainer_get_n_kernels (trainer); k++)
      {
        /* judged as the Neural Engine would run it: iOS18, float16 */
        g_autoptr(AneLintReport) report = ane_graph_lint (ane_trainer_get_kernel_graph (trainer, k),
                                                          ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, 0, &error);
        g_autofree char *summary = NULL;

        if (report == NULL)
          return ane_tool_fail ("train", error);
        summary = ane_lint_report_get_summary (report);
        printf ("lint %s: %s\n", ane_trainer_get_kernel_name (trainer, k), summary);
      }
  if (resume_path != NULL && !ane_trainer_load (trainer, resume_path, &error))
    return ane_tool_fail ("train", error);
  /* the command line's settings win over the checkpoint's */
  ane_trainer_set_optimizer (trainer, optimizer_name != NULL && g_str_equal (optimizer_name, "sgd")
                                      ? ANE_OPTIMIZER_SGD : ANE_OPTIMIZER_ADAMW);
  ane_trainer_set_learning_rate (trainer, lr);
  ane_trainer_set_weight_decay (trainer, weight_decay);
  ane_trainer_set_momentum (trainer, momentum);
  ane_trainer_set_clip_norm (trainer, clip);
  ane_trainer_set_schedule (trainer, (guint64) warmup,
                            cosine ? ane_trainer_get_step (trainer) + (guint64) n_steps : 0, 0.1);

  printf ("%s: %" G_GINT64_FORMAT " parameters, %" G_GSIZE_FORMAT " tokens of data, %d × %d tokens per step\n",
          argv[1], ane_trainer_get_n_params (trainer), n_data, batch, seq);
  fflush (stdout);
  view.trainer = trainer;
  view.n_steps = (guint) n_steps;
  view.every = (guint) every;
  view.tokens_per_step = (gsize) batch * (gsize) seq;
  view.first_step = ane_trainer_get_step (trainer);
  progress = ane_progress_new (show_step, &view, NULL);
  t0 = view.t_last = g_get_monotonic_time ();
  if (!ane_trainer_train (trainer, data, n_data, (guint) n_steps, (guint) batch, (guint64) seed, progress, &error))
    return ane_tool_fail ("train", error);
  seconds = (g_get_monotonic_time () - t0) / 1e6;
  fprintf (stderr, "%d steps in %.2f s: %.2f steps/s, %.0f tokens/s\n", n_steps, seconds,
           seconds > 0 ? n_steps / seconds : 0.0, seconds > 0 ? n_steps * view.tokens_per_step / seconds : 0.0);

  if (checkpoint_path != NULL)
    {
      if (!ane_trainer_save (trainer, checkpoint_path, &error))
        return ane_tool_fail ("train", error);
      printf ("wrote %s\n", checkpoint_path);
    }
  if (save_path != NULL)
    {
      if (!ane_trainer_export_llama2c (trainer, save_path, &error))
        return ane_tool_fail ("train", error);
      printf ("wrote %s\n", save_path);
    }
  return 0;
}
