/* train/ane-trainer-run.c: the programs of a training step and how one
 * sequence runs through them
 *
 * Two layouts (AneTrainerLayout):
 *
 * - WHOLE: one program, the gradient graph of the whole model
 *   (ane_llama_build_train → ane_graph_gradients): tokens in, the loss and
 *   every weight's gradient out.
 * - KERNELS: the step split the way maderix/ANE and the Go generators
 *   split it for the Neural Engine: a layer's forward, a layer's backward
 *   (its vector-Jacobian product: the gradient of Σ y·dy, recomputing the
 *   forward) and the head (final norm, classifier, loss and their
 *   backward). A layer's weights are dynamic params named without the
 *   layer, so the two layer programs serve every layer: three programs,
 *   compiled once, whatever the depth. The host keeps each layer's input
 *   between the forward and the backward.
 *
 * The Neural Engine's in-memory path binds float16 surfaces only, so for
 * it (and for every KERNELS program) the inputs are floats: the host
 * gathers the embedding rows and scatters their gradient back, and the
 * targets are one-hot rows.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "train/ane-trainer-private.h"
#include "model/ane-llama-private.h"

void
ane_trainer_kernel_free (AneTrainerKernel *k)
{
  g_free (k->name);
  g_clear_object (&k->graph);
  g_clear_object (&k->exe);
  g_free (k->buffer);
  g_free (k);
}

/* One trained weight, its master copy taken from the model. */
static gboolean
add_weight (AneTrainer  *self,
            const char  *name,
            const char  *input,
            gint         layer,
            GError     **error)
{
  AneTensor *source = g_hash_table_lookup (self->model->weights, name);
  g_autoptr(GError) local_error = NULL;
  AneTrainerWeight *w;
  const gint64 *shape;
  float *values;
  gsize n_values;

  g_assert (source != NULL);
  values = ane_tensor_dup_floats (source, &n_values, &local_error);
  if (values == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s: weight %s: %s", self->model->path, name,
                   local_error->message);
      return FALSE;
    }
  w = g_new0 (AneTrainerWeight, 1);
  w->name = g_strdup (name);
  w->input = g_strdup (input);
  w->grad_output = input != NULL ? g_strconcat ("grad_", input, NULL) : NULL;
  w->layer = layer;
  w->offset = -1;
  shape = ane_tensor_get_shape (source, &w->rank);
  g_assert (w->rank >= 1 && w->rank <= 2);
  memcpy (w->shape, shape, w->rank * sizeof (gint64));
  w->n = n_values;
  w->w = values;
  w->m = g_new0 (float, w->n);
  w->v = g_new0 (float, w->n);
  w->g = g_new0 (float, w->n);
  w->decay = w->rank >= 2;   /* nanoGPT's split: matrices decay, norms do not */
  self->n_params += (gint64) w->n;
  g_ptr_array_add (self->weights, w);
  if (g_str_equal (name, "token_embedding"))
    self->embedding = w;
  return TRUE;
}

/* The model's weight behind input (a program's param; layer ≥ 0: a layer
 * kernel's, named without its layer) added as a trained weight; by_input
 * maps the sanitized names of the model's weights to them. NULL with error
 * set when there is none. */
static AneTrainerWeight *
add_input_weight (AneTrainer  *self,
                  const char  *input,
                  gint         layer,
                  GHashTable  *by_input,
                  GError     **error)
{
  g_autofree char *full = layer >= 0 ? g_strdup_printf ("layers_%d_%s", layer, input) : g_strdup (input);
  const char *name = g_hash_table_lookup (by_input, full);

  if (name == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                   "%s: the training graph's param %s is no weight of the model", self->model->path, full);
      return NULL;
    }
  if (!add_weight (self, name, input, layer, error))
    return NULL;
  return self->weights->pdata[self->weights->len - 1];
}

/* The weights behind each dynamic param of graph. */
static gboolean
add_graph_weights (AneTrainer *self,
                   AneGraph   *graph,
                   gint        layer,
                   GHashTable *by_input,
                   GError    **error)
{
  g_autoptr(GPtrArray) params = ane_graph_list_params (graph);

  for (guint i = 0; i < params->len; i++)
    if (add_input_weight (self, ane_tensor_get_name (params->pdata[i]), layer, by_input, error) == NULL)
      return FALSE;
  return TRUE;
}

/* The weights of a packed kernel (layer, or -1: the head), each at its
 * offset in the kernel's "weights". */
static gboolean
add_packed_weights (AneTrainer *self,
                    GPtrArray  *layout,
                    gint        layer,
                    GHashTable *by_input,
                    GError    **error)
{
  for (guint i = 0; i < layout->len; i++)
    {
      AneLlamaPackedWeight *slot = layout->pdata[i];
      AneTrainerWeight *w = add_input_weight (self, slot->input, layer, by_input, error);

      if (w == NULL)
        return FALSE;
      w->offset = slot->offset;
      g_assert ((gint64) w->n == slot->n);
    }
  return TRUE;
}

static GHashTable *
weights_by_input (AneTrainer *self)
{
  GHashTable *by_input = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init (&it, self->model->weights);
  while (g_hash_table_iter_next (&it, &key, &value))
    g_hash_table_insert (by_input, ane_llama_train_param_name (key), key);
  return by_input;
}

/* Compiles graph (or its gradients of loss with respect to wrt) as the
 * kernel name. */
static AneTrainerKernel *
compile_kernel (AneTrainer         *self,
                const char         *name,
                AneGraph           *graph,
                const char         *loss,
                GPtrArray          *wrt,
                gboolean            packed,
                GError            **error)
{
  g_autoptr(AneGraph) compiled = NULL;
  AneTrainerKernel *k;

  if (loss != NULL)
    {
      g_ptr_array_add (wrt, NULL);
      compiled = ane_graph_gradients (graph, loss, (const char *const *) wrt->pdata, error);
      if (compiled == NULL)
        {
          g_prefix_error (error, "%s: the %s kernel: ", self->model->path, name);
          return NULL;
        }
    }
  else
    compiled = g_object_ref (graph);
  k = g_new0 (AneTrainerKernel, 1);
  k->name = g_strdup (name);
  if (packed)
    {
      g_autoptr(GPtrArray) params = ane_graph_list_params (graph);
      guint rank;

      g_assert (params->len == 1 && g_str_equal (ane_tensor_get_name (params->pdata[0]), "weights"));
      memcpy (k->packed_shape, ane_tensor_get_shape (params->pdata[0], &rank), sizeof k->packed_shape);
      k->packed_n = k->packed_shape[0] * k->packed_shape[1];
      k->buffer = g_new0 (float, k->packed_n);
    }
  k->graph = g_steal_pointer (&compiled);
  k->exe = ane_executable_new (k->graph, self->backend);
  ane_executable_set_precision (k->exe, self->precision);
  if (!ane_executable_compile (k->exe, NULL, error))
    {
      g_prefix_error (error, "%s: the %s kernel: ", self->model->path, name);
      ane_trainer_kernel_free (k);
      return NULL;
    }
  g_ptr_array_add (self->kernels, k);
  return k;
}

/* The untied embedding of a host-gathered step: no program sees it, the
 * host's scatter trains it. */
static gboolean
add_host_embedding (AneTrainer *self,
                    GError    **error)
{
  if (self->embedding != NULL)
    return TRUE;
  return add_weight (self, "token_embedding", NULL, -1, error);
}

static GPtrArray *
inputs_of (AneTrainer *self,
           gint        layer_kind)   /* -1: head weights; 0: one layer's (layer 0) */
{
  GPtrArray *wrt = g_ptr_array_new ();

  for (guint i = 0; i < self->weights->len; i++)
    {
      AneTrainerWeight *w = self->weights->pdata[i];
      if (w->input != NULL && ((layer_kind < 0 && w->layer < 0) || (layer_kind >= 0 && w->layer == layer_kind)))
        g_ptr_array_add (wrt, w->input);
    }
  return wrt;
}

gboolean
ane_trainer_setup (AneTrainer *self,
                   GError    **error)
{
  g_autoptr(GHashTable) by_input = weights_by_input (self);

  if (self->layout == ANE_TRAINER_LAYOUT_WHOLE)
    {
      g_autoptr(AneGraph) forward = ane_llama_build_train (self->model, self->seq_len,
                                                           self->host_embedding ? ANE_LLAMA_TRAIN_HOST_EMBEDDING
                                                                                : ANE_LLAMA_TRAIN_TOKENS,
                                                           error);
      g_autoptr(GPtrArray) wrt = NULL;

      if (forward == NULL || !add_graph_weights (self, forward, -1, by_input, error) ||
          (self->host_embedding && !add_host_embedding (self, error)))
        return FALSE;
      wrt = inputs_of (self, -1);
      if (self->host_embedding)
        g_ptr_array_add (wrt, (gpointer) "embedded");
      return compile_kernel (self, "step", forward, "loss", wrt, FALSE, error) != NULL;
    }
  else
    {
      gboolean pack = self->pack;
      g_autoptr(GPtrArray) layer_layout = NULL;
      g_autoptr(GPtrArray) head_layout = NULL;
      g_autoptr(GPtrArray) backward_layout = NULL;
      g_autoptr(AneGraph) layer = NULL;
      g_autoptr(AneGraph) head = NULL;
      g_autoptr(AneGraph) backward = NULL;
      g_autoptr(GPtrArray) wrt = NULL;
      g_autoptr(AneTensor) dy = NULL;
      g_autoptr(AneTensor) product = NULL;
      g_autoptr(AneTensor) vjp = NULL;
      g_autoptr(GPtrArray) outputs = NULL;

      layer = ane_llama_build_kernel (self->model, self->seq_len, ANE_LLAMA_TRAIN_NONE, pack, &layer_layout, error);
      if (layer == NULL)
        return FALSE;
      head = ane_llama_build_kernel (self->model, self->seq_len, ANE_LLAMA_TRAIN_HOST_EMBEDDING, pack, &head_layout,
                                     error);
      if (head == NULL)
        return FALSE;
      if (pack)
        {
          for (gint l = 0; l < self->model->n_layers; l++)
            if (!add_packed_weights (self, layer_layout, l, by_input, error))
              return FALSE;
          if (!add_packed_weights (self, head_layout, -1, by_input, error))
            return FALSE;
        }
      else
        {
          for (gint l = 0; l < self->model->n_layers; l++)
            if (!add_graph_weights (self, layer, l, by_input, error))
              return FALSE;
          if (!add_graph_weights (self, head, -1, by_input, error))
            return FALSE;
        }
      if (!add_host_embedding (self, error) ||
          compile_kernel (self, "layer_forward", layer, NULL, NULL, pack, error) == NULL)
        return FALSE;

      /* the backward: the layer again, with the gradient dy of its output
       * as an input and Σ y·dy as the loss, whose gradients are the
       * vector-Jacobian products (the forward recomputed, as maderix's
       * backward kernels do) */
      backward = ane_llama_build_kernel (self->model, self->seq_len, ANE_LLAMA_TRAIN_NONE, pack, &backward_layout,
                                         error);
      if (backward == NULL)
        return FALSE;
      outputs = ane_graph_list_outputs (backward);
      dy = ane_graph_input (backward, "dy", ANE_DTYPE_FLOAT32, (const gint64[]) { self->seq_len, self->model->dim }, 2,
                            error);
      if (dy == NULL || (product = ane_graph_mul (backward, outputs->pdata[0], dy, error)) == NULL ||
          (vjp = ane_graph_reduce_sum (backward, product, NULL, 0, TRUE, error)) == NULL ||
          !ane_graph_add_output (backward, "vjp", vjp, error))
        return FALSE;
      wrt = pack ? g_ptr_array_new () : inputs_of (self, 0);
      if (pack)
        g_ptr_array_add (wrt, (gpointer) "weights");
      g_ptr_array_add (wrt, (gpointer) "x");
      if (compile_kernel (self, "layer_backward", backward, "vjp", wrt, pack, error) == NULL)
        return FALSE;
      g_clear_pointer (&wrt, g_ptr_array_unref);
      wrt = pack ? g_ptr_array_new () : inputs_of (self, -1);
      if (pack)
        g_ptr_array_add (wrt, (gpointer) "weights");
      g_ptr_array_add (wrt, (gpointer) "x");
      return compile_kernel (self, "head", head, "loss", wrt, pack, error) != NULL;
    }
}

/* Binds the weights of layer (-1: those outside the layers) to kernel k:
 * as views (the weights only change in the optimizer, after the step's
 * runs, and each run binds them again), or copied into the kernel's
 * packed buffer. */
static gboolean
feed (AneTrainer       *self,
      AneTrainerKernel *k,
      gint              layer,
      GError          **error)
{
  if (k->packed_n > 0)
    {
      g_autoptr(GBytes) view = NULL;
      g_autoptr(AneTensor) t = NULL;

      for (guint i = 0; i < self->weights->len; i++)
        {
          AneTrainerWeight *w = self->weights->pdata[i];
          if (w->input != NULL && w->layer == layer)
            memcpy (k->buffer + w->offset, w->w, w->n * sizeof (float));
        }
      view = g_bytes_new_static (k->buffer, (gsize) k->packed_n * sizeof (float));
      t = ane_tensor_new_from_bytes ("weights", ANE_DTYPE_FLOAT32, k->packed_shape, 2, view, error);
      return t != NULL && ane_executable_set_param (k->exe, "weights", t, error);
    }
  for (guint i = 0; i < self->weights->len; i++)
    {
      AneTrainerWeight *w = self->weights->pdata[i];
      g_autoptr(AneTensor) t = NULL;
      g_autoptr(GBytes) view = NULL;

      if (w->input == NULL || w->layer != layer)
        continue;
      view = g_bytes_new_static (w->w, w->n * sizeof (float));
      t = ane_tensor_new_from_bytes (w->input, ANE_DTYPE_FLOAT32, w->shape, w->rank, view, error);
      if (t == NULL || !ane_executable_set_param (k->exe, w->input, t, error))
        return FALSE;
    }
  return TRUE;
}

static AneTensor *
output_named (GPtrArray  *outputs,
              const char *name,
              gsize       n,
              GError    **error)
{
  for (guint i = 0; i < outputs->len; i++)
    if (g_strcmp0 (ane_tensor_get_name (outputs->pdata[i]), name) == 0)
      {
        if ((gsize) ane_tensor_get_n_elements (outputs->pdata[i]) != n)
          break;
        return outputs->pdata[i];
      }
  g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "trainer: the program gave no %s of %" G_GSIZE_FORMAT " values",
               name, n);
  return NULL;
}

/* The values of t as float32: in place when they are, else converted into
 * *copy. */
static const float *
floats_of (AneTensor *t,
           float    **copy,
           GError   **error)
{
  gsize n;

  if (ane_tensor_get_dtype (t) == ANE_DTYPE_FLOAT32)
    return g_bytes_get_data (ane_tensor_get_data (t), NULL);
  return *copy = ane_tensor_dup_floats (t, &n, error);
}

static gboolean
run (AneTrainer        *self,
     AneTrainerKernel  *k,
     AneTensor        **inputs,
     guint              n_inputs,
     GPtrArray        **outputs,
     GError           **error)
{
  gint64 t0 = g_get_monotonic_time (), us;

  *outputs = ane_executable_run (k->exe, inputs, n_inputs, NULL, error);
  us = g_get_monotonic_time () - t0;
  self->us_run += us;
  k->us_run += us;
  return *outputs != NULL;
}

static gboolean
add_loss (GPtrArray *outputs,
          double    *loss,
          GError   **error)
{
  AneTensor *t = output_named (outputs, "loss", 1, error);
  g_autofree float *copy = NULL;
  const float *v = t != NULL ? floats_of (t, &copy, error) : NULL;

  if (v == NULL)
    return FALSE;
  *loss += v[0];
  return TRUE;
}

/* Adds (first: copies) the gradients kernel k gave to the weights of
 * layer (-1: those outside the layers): each its own output, or a slice of
 * a packed kernel's grad_weights. */
static gboolean
take_gradients (AneTrainer       *self,
                AneTrainerKernel *k,
                GPtrArray        *outputs,
                gint              layer,
                gboolean          first,
                GError          **error)
{
  g_autofree float *packed_copy = NULL;
  const float *packed = NULL;

  if (k->packed_n > 0)
    {
      AneTensor *gt = output_named (outputs, "grad_weights", (gsize) k->packed_n, error);

      if (gt == NULL || (packed = floats_of (gt, &packed_copy, error)) == NULL)
        return FALSE;
    }
  for (guint i = 0; i < self->weights->len; i++)
    {
      AneTrainerWeight *w = self->weights->pdata[i];
      g_autofree float *copy = NULL;
      AneTensor *gt;
      const float *gv;

      if (w->grad_output == NULL || w->layer != layer)
        continue;
      if (packed != NULL)
        gv = packed + w->offset;
      else if ((gt = output_named (outputs, w->grad_output, w->n, error)) == NULL ||
               (gv = floats_of (gt, &copy, error)) == NULL)
        return FALSE;
      if (first)
        memcpy (w->g, gv, w->n * sizeof (float));
      else
        for (gsize j = 0; j < w->n; j++)
          w->g[j] += gv[j];
    }
  return TRUE;
}

/* What the embedding's rows are multiplied by (Gemma's sqrt(hidden)). */
static double
embedding_scale (AneTrainer *self)
{
  return self->model->embed_scale > 0.0 ? self->model->embed_scale : 1.0;
}

/* The embedding rows of seq's first S tokens, times the model's scale. */
static AneTensor *
embedded_rows (AneTrainer   *self,
               const gint32 *seq,
               const char   *name,
               GError      **error)
{
  gint64 S = self->seq_len, dim = self->model->dim;
  double scale = embedding_scale (self);
  g_autofree float *rows = g_new (float, S * dim);

  for (gint64 i = 0; i < S; i++)
    {
      const float *row = self->embedding->w + (gsize) seq[i] * dim;
      for (gint64 j = 0; j < dim; j++)
        rows[i * dim + j] = (float) (row[j] * scale);
    }
  return ane_tensor_new_from_floats (name, (const gint64[]) { S, dim }, 2, rows, (gsize) (S * dim), error);
}

static AneTensor *
one_hot_targets (AneTrainer   *self,
                 const gint32 *seq,
                 GError      **error)
{
  gint64 S = self->seq_len, V = self->model->vocab_size;
  g_autofree float *onehot = g_new0 (float, S * V);

  for (gint64 i = 0; i < S; i++)
    onehot[i * V + seq[i + 1]] = 1.0f;
  return ane_tensor_new_from_floats ("targets", (const gint64[]) { S, V }, 2, onehot, (gsize) (S * V), error);
}

/* The gather's backward: each row's gradient (gt, [S, dim]; NULL: the
 * error is set) back to its token's row of the embedding's gradient. */
static gboolean
scatter_rows (AneTrainer   *self,
              AneTensor    *gt,
              const gint32 *seq,
              GError      **error)
{
  gint64 S = self->seq_len, dim = self->model->dim;
  double scale = embedding_scale (self);
  g_autofree float *copy = NULL;
  const float *gv = gt != NULL ? floats_of (gt, &copy, error) : NULL;

  if (gv == NULL)
    return FALSE;
  for (gint64 i = 0; i < S; i++)
    {
      float *row = self->embedding->g + (gsize) seq[i] * dim;
      for (gint64 j = 0; j < dim; j++)
        row[j] += (float) (gv[i * dim + j] * scale);
    }
  return TRUE;
}

static gboolean
run_whole (AneTrainer   *self,
           const gint32 *seq,
           gboolean      accumulate,
           gboolean      first,
           double       *loss,
           GError      **error)
{
  AneTrainerKernel *step = self->kernels->pdata[0];
  gint64 S = self->seq_len;
  g_autoptr(AneTensor) tokens = NULL;
  g_autoptr(AneTensor) targets = NULL;
  g_autoptr(GPtrArray) outputs = NULL;

  if (!feed (self, step, -1, error))
    return FALSE;
  if (self->host_embedding)
    {
      tokens = embedded_rows (self, seq, "embedded", error);
      targets = tokens != NULL ? one_hot_targets (self, seq, error) : NULL;
    }
  else
    {
      tokens = ane_tensor_new_from_ints ("tokens", &S, 1, seq, (gsize) S, error);
      targets = tokens != NULL ? ane_tensor_new_from_ints ("targets", &S, 1, seq + 1, (gsize) S, error) : NULL;
    }
  if (targets == NULL || !run (self, step, (AneTensor *[]) { tokens, targets }, 2, &outputs, error) ||
      !add_loss (outputs, loss, error))
    return FALSE;
  if (!accumulate)
    return TRUE;
  return take_gradients (self, step, outputs, -1, first, error) &&
         (!self->host_embedding ||
          scatter_rows (self, output_named (outputs, "grad_embedded", (gsize) (S * self->model->dim), error), seq,
                        error));
}

static gboolean
run_kernels (AneTrainer   *self,
             const gint32 *seq,
             gboolean      accumulate,
             gboolean      first,
             double       *loss,
             GError      **error)
{
  AneTrainerKernel *forward = self->kernels->pdata[0];
  AneTrainerKernel *backward = self->kernels->pdata[1];
  AneTrainerKernel *head = self->kernels->pdata[2];
  gint64 L = self->model->n_layers, n = self->seq_len * self->model->dim;
  g_autoptr(GPtrArray) acts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) outputs = NULL;
  g_autoptr(AneTensor) targets = NULL;
  g_autoptr(AneTensor) dy = NULL;
  AneTensor *x;

  /* forward: each layer's input kept for its backward */
  if ((x = embedded_rows (self, seq, "x", error)) == NULL)
    return FALSE;
  g_ptr_array_add (acts, x);
  for (gint64 l = 0; l < L; l++)
    {
      g_autoptr(GPtrArray) out = NULL;
      AneTensor *y;

      if (!feed (self, forward, (gint) l, error) || !run (self, forward, &x, 1, &out, error) ||
          (y = output_named (out, "y", (gsize) n, error)) == NULL)
        return FALSE;
      x = ane_tensor_rename (y, "x");
      g_ptr_array_add (acts, x);
    }

  /* the head: the loss, and the gradients of its weights and its input */
  if ((targets = one_hot_targets (self, seq, error)) == NULL || !feed (self, head, -1, error) ||
      !run (self, head, (AneTensor *[]) { x, targets }, 2, &outputs, error) || !add_loss (outputs, loss, error))
    return FALSE;
  if (!accumulate)
    return TRUE;
  if (!take_gradients (self, head, outputs, -1, first, error) ||
      (dy = output_named (outputs, "grad_x", (gsize) n, error)) == NULL)
    return FALSE;
  dy = ane_tensor_rename (dy, "dy");

  /* backward, last layer first */
  for (gint64 l = L - 1; l >= 0; l--)
    {
      g_autoptr(GPtrArray) out = NULL;
      AneTensor *gx;

      if (!feed (self, backward, (gint) l, error) ||
          !run (self, backward, (AneTensor *[]) { acts->pdata[l], dy }, 2, &out, error) ||
          !take_gradients (self, backward, out, (gint) l, first, error) ||
          (gx = output_named (out, "grad_x", (gsize) n, error)) == NULL)
        return FALSE;
      g_object_unref (dy);
      dy = ane_tensor_rename (gx, "dy");
    }
  return scatter_rows (self, dy, seq, error);
}

gboolean
ane_trainer_run_sequence (AneTrainer   *self,
                          const gint32 *seq,
                          gboolean      accumulate,
                          gboolean      first,
                          double       *loss,
                          GError      **error)
{
  if (self->layout == ANE_TRAINER_LAYOUT_WHOLE)
    return run_whole (self, seq, accumulate, first, loss, error);
  return run_kernels (self, seq, accumulate, first, loss, error);
}
