/* train/ane-trainer-checkpoint.c: saving and resuming training, and the
 * trained model as a llama2.c checkpoint
 *
 * A training checkpoint is one safetensors file: the weights under the
 * model's names ("layers.0.wq"), the optimizer's state beside them
 * ("optimizer.m.layers.0.wq", "optimizer.v.…"; SGD's momentum is m), and
 * string metadata: the format, the step, every optimizer setting and the
 * model's shape, which load() checks against the trainer's model.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "train/ane-trainer-private.h"
#include "model/ane-llama-private.h"
#include "ane-safetensors-private.h"

#define FORMAT_NAME "ane-glib trainer 1"

/* The settings kept in the metadata, as exact decimal text ("%.17g"). */
typedef struct {
  const char *key;
  gsize offset;
} Setting;

static const Setting settings[] = {
  { "lr", G_STRUCT_OFFSET (AneTrainer, lr) },
  { "weight_decay", G_STRUCT_OFFSET (AneTrainer, weight_decay) },
  { "momentum", G_STRUCT_OFFSET (AneTrainer, momentum) },
  { "beta1", G_STRUCT_OFFSET (AneTrainer, beta1) },
  { "beta2", G_STRUCT_OFFSET (AneTrainer, beta2) },
  { "eps", G_STRUCT_OFFSET (AneTrainer, eps) },
  { "clip_norm", G_STRUCT_OFFSET (AneTrainer, clip_norm) },
  { "min_ratio", G_STRUCT_OFFSET (AneTrainer, min_ratio) },
};

/* The model's shape: a checkpoint resumes only into the same shape. */
static char *
model_shape (AneLlamaModel *m)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                          " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
                          m->dim, m->hidden_dim, m->n_layers, m->n_heads, m->n_kv_heads, m->vocab_size);
}

/**
 * ane_trainer_save:
 * @self: a trainer
 * @path: where to write the checkpoint (safetensors)
 * @error: return location for a #GError
 *
 * Writes the weights, the optimizer's state, the step and the optimizer
 * settings to one safetensors file, atomically (a failure leaves no file
 * behind and an existing one untouched). [method@Ane.Trainer.load] resumes
 * from it; any safetensors reader sees the weights under the model's
 * names.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
ane_trainer_save (AneTrainer  *self,
                  const char  *path,
                  GError     **error)
{
  g_autoptr(GPtrArray) tensors = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) meta = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

  g_return_val_if_fail (ANE_IS_TRAINER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  for (guint i = 0; i < self->weights->len; i++)
    {
      AneTrainerWeight *w = self->weights->pdata[i];
      const struct { const char *prefix; const float *values; } parts[] = {
        { "", w->w }, { "optimizer.m.", w->m }, { "optimizer.v.", w->v },
      };

      for (guint p = 0; p < G_N_ELEMENTS (parts); p++)
        {
          g_autofree char *name = g_strconcat (parts[p].prefix, w->name, NULL);
          AneTensor *t = ane_tensor_new_from_floats (name, w->shape, w->rank, parts[p].values, w->n, error);

          if (t == NULL)
            return FALSE;
          g_ptr_array_add (tensors, t);
        }
    }
  g_hash_table_insert (meta, "format", g_strdup (FORMAT_NAME));
  g_hash_table_insert (meta, "step", g_strdup_printf ("%" G_GUINT64_FORMAT, self->step));
  g_hash_table_insert (meta, "optimizer", g_strdup (self->optimizer == ANE_OPTIMIZER_SGD ? "sgd" : "adamw"));
  g_hash_table_insert (meta, "warmup", g_strdup_printf ("%" G_GUINT64_FORMAT, self->warmup));
  g_hash_table_insert (meta, "total", g_strdup_printf ("%" G_GUINT64_FORMAT, self->total));
  g_hash_table_insert (meta, "model", model_shape (self->model));
  g_hash_table_insert (meta, "seq_len", g_strdup_printf ("%" G_GINT64_FORMAT, self->seq_len));
  for (guint s = 0; s < G_N_ELEMENTS (settings); s++)
    g_hash_table_insert (meta, (gpointer) settings[s].key,
                         g_strdup_printf ("%.17g", G_STRUCT_MEMBER (double, self, settings[s].offset)));
  return ane_safetensors_write (path, (AneTensor *const *) tensors->pdata, tensors->len, meta, error);
}

static gboolean
meta_uint (AneSafetensors *st,
           const char     *key,
           guint64        *out,
           GError        **error)
{
  const char *text = ane_safetensors_get_metadata (st, key);

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, out, NULL))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: metadata \"%s\" is %s%s%s, not a count",
                   ane_safetensors_get_display_name (st), key, text ? "'" : "missing", text ? text : "",
                   text ? "'" : "");
      return FALSE;
    }
  return TRUE;
}

static gboolean
meta_double (AneSafetensors *st,
             const char     *key,
             double          lo,
             double          hi,
             double         *out,
             GError        **error)
{
  const char *text = ane_safetensors_get_metadata (st, key);
  char *end = NULL;
  double v = text != NULL ? g_ascii_strtod (text, &end) : NAN;

  if (text == NULL || end == text || *end != '\0' || !(v >= lo && v <= hi))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: metadata \"%s\" is %s%s%s, not a number in [%g, %g]",
                   ane_safetensors_get_display_name (st), key, text ? "'" : "missing", text ? text : "",
                   text ? "'" : "", lo, hi);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

/* Copies checkpoint tensor name (float32, w's shape) into dest. */
static gboolean
read_values (AneSafetensors   *st,
             const char       *name,
             AneTrainerWeight *w,
             float            *dest,
             GError          **error)
{
  g_autoptr(AneTensor) t = ane_safetensors_get_tensor (st, name, error);
  const gint64 *shape;
  guint rank;
  GBytes *data;

  if (t == NULL)
    return FALSE;
  shape = ane_tensor_get_shape (t, &rank);
  if (ane_tensor_get_dtype (t) != ANE_DTYPE_FLOAT32 || rank != w->rank ||
      memcmp (shape, w->shape, rank * sizeof (gint64)) != 0)
    {
      g_autofree char *got = ane_tensor_to_string (t);
      g_autofree char *want = w->rank > 1 ? g_strdup_printf ("%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT, w->shape[0],
                                                             w->shape[1])
                                          : g_strdup_printf ("%" G_GINT64_FORMAT, w->shape[0]);
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "%s: tensor %s; the model needs float32[%s]",
                   ane_safetensors_get_display_name (st), got, want);
      return FALSE;
    }
  data = ane_tensor_get_data (t);
  memcpy (dest, g_bytes_get_data (data, NULL), w->n * sizeof (float));
  return TRUE;
}

/**
 * ane_trainer_load:
 * @self: a trainer
 * @path: a checkpoint written by [method@Ane.Trainer.save]
 * @error: return location for a #GError
 *
 * Resumes: the weights, the optimizer's state and settings and the step
 * count become the checkpoint's. The checkpoint must be of a model of the
 * same shape (%ANE_ERROR_INVALID_ARGUMENT otherwise); a malformed one is
 * %ANE_ERROR_PARSE naming the file and the entry. On failure the trainer is
 * unchanged.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
ane_trainer_load (AneTrainer  *self,
                  const char  *path,
                  GError     **error)
{
  g_autoptr(AneSafetensors) st = NULL;
  g_autofree char *shape = NULL;
  g_autoptr(GPtrArray) staged = g_ptr_array_new_with_free_func (g_free);
  const char *format, *kind, *model;
  guint64 step, warmup, total;
  double values[G_N_ELEMENTS (settings)];
  static const double limits[G_N_ELEMENTS (settings)][2] = {
    { 0, G_MAXDOUBLE }, { 0, G_MAXDOUBLE }, { 0, 1 }, { 0, 1 }, { 0, 1 }, { 0, 1 }, { 0, G_MAXDOUBLE }, { 0, 1 },
  };

  g_return_val_if_fail (ANE_IS_TRAINER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if ((st = ane_safetensors_open (path, error)) == NULL)
    return FALSE;
  format = ane_safetensors_get_metadata (st, "format");
  if (g_strcmp0 (format, FORMAT_NAME) != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: not a trainer checkpoint (metadata \"format\" is %s%s%s)",
                   path, format ? "'" : "missing", format ? format : "", format ? "'" : "");
      return FALSE;
    }
  shape = model_shape (self->model);
  model = ane_safetensors_get_metadata (st, "model");
  if (g_strcmp0 (model, shape) != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: the checkpoint is of a model shaped '%s' (dim hidden layers heads kv_heads vocab), "
                   "the trainer's is '%s'", path, model ? model : "(missing)", shape);
      return FALSE;
    }
  kind = ane_safetensors_get_metadata (st, "optimizer");
  if (g_strcmp0 (kind, "sgd") != 0 && g_strcmp0 (kind, "adamw") != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: metadata \"optimizer\" is %s, not sgd or adamw", path,
                   kind ? kind : "missing");
      return FALSE;
    }
  if (!meta_uint (st, "step", &step, error) || !meta_uint (st, "warmup", &warmup, error) ||
      !meta_uint (st, "total", &total, error))
    return FALSE;
  for (guint s = 0; s < G_N_ELEMENTS (settings); s++)
    if (!meta_double (st, settings[s].key, limits[s][0], limits[s][1], &values[s], error))
      return FALSE;

  /* every tensor read before anything changes: a failure leaves the
   * trainer as it was */
  for (guint i = 0; i < self->weights->len; i++)
    {
      AneTrainerWeight *w = self->weights->pdata[i];
      const char *prefixes[] = { "", "optimizer.m.", "optimizer.v." };

      for (guint p = 0; p < G_N_ELEMENTS (prefixes); p++)
        {
          g_autofree char *name = g_strconcat (prefixes[p], w->name, NULL);
          float *dest = g_new (float, w->n);

          g_ptr_array_add (staged, dest);
          if (!read_values (st, name, w, dest, error))
            return FALSE;
        }
    }
  for (guint i = 0; i < self->weights->len; i++)
    {
      AneTrainerWeight *w = self->weights->pdata[i];
      memcpy (w->w, staged->pdata[3 * i], w->n * sizeof (float));
      memcpy (w->m, staged->pdata[3 * i + 1], w->n * sizeof (float));
      memcpy (w->v, staged->pdata[3 * i + 2], w->n * sizeof (float));
    }
  self->optimizer = g_str_equal (kind, "sgd") ? ANE_OPTIMIZER_SGD : ANE_OPTIMIZER_ADAMW;
  self->step = step;
  self->warmup = warmup;
  self->total = total;
  for (guint s = 0; s < G_N_ELEMENTS (settings); s++)
    G_STRUCT_MEMBER (double, self, settings[s].offset) = values[s];
  return TRUE;
}

static AneTrainerWeight *
find (AneTrainer *self,
      const char *name)
{
  for (guint i = 0; i < self->weights->len; i++)
    {
      AneTrainerWeight *w = self->weights->pdata[i];
      if (g_str_equal (w->name, name))
        return w;
    }
  return NULL;
}

/**
 * ane_trainer_dup_weight:
 * @self: a trainer
 * @name: a weight's name in the model ("token_embedding", "layers.0.wq", …)
 * @error: return location for a #GError
 *
 * The trained value of a weight, as the optimizer left it (the model's own
 * weight is never changed).
 *
 * Returns: (transfer full): a copy of the weight's current (trained)
 *   value, float32, or %NULL with %ANE_ERROR_NOT_FOUND
 *
 * Since: 0.2
 */
AneTensor *
ane_trainer_dup_weight (AneTrainer  *self,
                        const char  *name,
                        GError     **error)
{
  AneTrainerWeight *w;

  g_return_val_if_fail (ANE_IS_TRAINER (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if ((w = find (self, name)) == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "trainer: no trained weight named '%s'", name);
      return NULL;
    }
  return ane_tensor_new_from_floats (w->name, w->shape, w->rank, w->w, w->n, error);
}

/* What llama2.c's format cannot say about this model, or NULL. */
static const char *
not_llama2c (AneLlamaModel *m)
{
  if (m->rope_mode != ANE_ROPE_INTERLEAVED)
    return "its rotary embedding rotates the halves of each head (llama2.c rotates consecutive pairs)";
  if (m->head_dim > 0 && m->head_dim != m->dim / m->n_heads)
    return "its head width is not dim / n_heads";
  if (m->qk_norm || m->gelu_tanh || m->embed_scale > 0.0 || m->rope_inv_freq != NULL)
    return "it uses a feature of its architecture (qk norm, GeGLU, embedding scale or rope scaling) llama2.c lacks";
  if (m->rms_eps != 1e-5 || m->rope_base != 10000.0)
    return "its RMSNorm epsilon or RoPE base differs from llama2.c's fixed 1e-5 and 10000";
  return NULL;
}

static gboolean
put (AneAtomicFile *file,
     const float   *values,
     gsize          n,
     GError       **error)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  return ane_atomic_file_write (file, values, n * sizeof (float), error);
#else
  g_autofree guint32 *le = g_new (guint32, n);
  memcpy (le, values, n * sizeof (float));
  for (gsize i = 0; i < n; i++)
    le[i] = GUINT32_TO_LE (le[i]);
  return ane_atomic_file_write (file, le, n * sizeof (float), error);
#endif
}

/**
 * ane_trainer_export_llama2c:
 * @self: a trainer
 * @path: where to write the checkpoint (`.bin`)
 * @error: return location for a #GError
 *
 * Writes the trained weights as a llama2.c checkpoint (the layout
 * [func@Ane.LlamaModel.load_llama2c] reads and llama2.c's `run.c` runs),
 * atomically. A model llama2.c cannot describe (biases, half-rotation RoPE,
 * Qwen3's or Gemma's extras) is %ANE_ERROR_UNSUPPORTED naming what is
 * missing; [method@Ane.Trainer.save] keeps any model.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
ane_trainer_export_llama2c (AneTrainer  *self,
                            const char  *path,
                            GError     **error)
{
  AneLlamaModel *m;
  static const char *const stacked[] = { "attention_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w1", "w2", "w3" };
  AneTrainerWeight *embedding, *final_norm, *output;
  const char *why;
  gint32 header[7];
  gint64 head, half;
  g_autofree float *table = NULL;
  AneAtomicFile *file;

  g_return_val_if_fail (ANE_IS_TRAINER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  m = self->model;
  why = not_llama2c (m);
  embedding = find (self, "token_embedding");
  final_norm = find (self, "final_norm");
  output = find (self, "output");
  if (why == NULL && (embedding == NULL || final_norm == NULL))
    why = "it lacks a token embedding or a final norm";
  for (guint i = 0; why == NULL && i < self->weights->len; i++)
    {
      AneTrainerWeight *w = self->weights->pdata[i];
      gboolean known = w == embedding || w == final_norm || w == output;

      for (guint s = 0; !known && s < G_N_ELEMENTS (stacked); s++)
        known = g_str_has_prefix (w->name, "layers.") && g_str_has_suffix (w->name, stacked[s]) &&
                w->name[strlen (w->name) - strlen (stacked[s]) - 1] == '.';
      if (!known)
        why = "it has weights llama2.c has no place for (biases or extra norms)";
    }
  if (why != NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: the model cannot be written as a llama2.c checkpoint: %s; ane_trainer_save() keeps it",
                   path, why);
      return FALSE;
    }

  header[0] = (gint32) m->dim;
  header[1] = (gint32) m->hidden_dim;
  header[2] = (gint32) m->n_layers;
  header[3] = (gint32) m->n_heads;
  header[4] = (gint32) m->n_kv_heads;
  header[5] = (gint32) (output != NULL ? -m->vocab_size : m->vocab_size);
  header[6] = (gint32) m->seq_len;
  for (guint i = 0; i < 7; i++)
    header[i] = GINT32_TO_LE (header[i]);

  if ((file = ane_atomic_file_new (path, error)) == NULL)
    return FALSE;
  if (!ane_atomic_file_write (file, header, sizeof header, error) || !put (file, embedding->w, embedding->n, error))
    goto fail;
  for (guint s = 0; s < G_N_ELEMENTS (stacked); s++)
    for (gint64 l = 0; l < m->n_layers; l++)
      {
        g_autofree char *name = g_strdup_printf ("layers.%" G_GINT64_FORMAT ".%s", l, stacked[s]);
        AneTrainerWeight *w = find (self, name);

        if (w == NULL)
          {
            g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s: the model has no weight %s", path, name);
            goto fail;
          }
        if (!put (file, w->w, w->n, error))
          goto fail;
      }
  if (!put (file, final_norm->w, final_norm->n, error))
    goto fail;
  /* llama2.c's export still writes freq_cis_real and freq_cis_imag
   * ([seq_len, head/2] each), which run.c skips; written as its export.py
   * computed them, so older readers get what they expect */
  head = ane_llama_head (m);
  half = head / 2;
  table = g_new (float, m->seq_len * half);
  for (int part = 0; part < 2; part++)
    {
      for (gint64 p = 0; p < m->seq_len; p++)
        for (gint64 i = 0; i < half; i++)
          {
            double freq = 1.0 / pow (m->rope_base, (double) (2 * i) / (double) head);
            table[p * half + i] = (float) (part == 0 ? cos (p * freq) : sin (p * freq));
          }
      if (!put (file, table, (gsize) (m->seq_len * half), error))
        goto fail;
    }
  if (output != NULL && !put (file, output->w, output->n, error))
    goto fail;
  return ane_atomic_file_commit (file, error);

fail:
  ane_atomic_file_abort (file);
  return FALSE;
}
