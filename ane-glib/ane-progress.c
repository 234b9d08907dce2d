/* ane-progress.c: how far long work has come, and a way to cancel it
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-tsan-private.h"

#include "ane-progress-private.h"

/**
 * AneProgress:
 *
 * Follows long work — lowering a graph, saving or loading a package,
 * compiling an executable, generating text — and cancels it.
 *
 * Give one to the `_full` variant of the call:
 * [ctor@Ane.Package.new_from_graph_full], [method@Ane.Package.save_full],
 * [func@Ane.Package.load_full], [method@Ane.Executable.compile_full],
 * [method@Ane.LlamaModel.generate_full]. The work calls the progress's
 * callback as it moves on; the callback reads the state:
 *
 * - the fraction done, from 0 to 1, never going back within one call and
 *   exactly 1.0 at the end of a call that succeeds (and only then);
 * - the stage, a short name for people ("lowering", "writing weights",
 *   "copying", "writing model", "loading", "compiling", "generating",
 *   "training");
 * - the bytes done and the bytes in all, where the work knows them (a
 *   total of 0 means unknown).
 *
 * ```c
 * static void
 * on_progress (AneProgress *progress, gpointer user_data)
 * {
 *   g_print ("%s %3.0f%%\n", ane_progress_get_stage (progress),
 *            100 * ane_progress_get_fraction (progress));
 *   if (ane_progress_get_fraction (progress) >= 0.5 && give_up)
 *     ane_progress_cancel (progress);   // the save fails with G_IO_ERROR_CANCELLED
 * }
 *
 * g_autoptr(AneProgress) progress = ane_progress_new (on_progress, NULL, NULL);
 * if (!ane_package_save_full (pkg, "model.mlpackage", TRUE, progress, &error))
 *   ...
 * ```
 *
 * In Python: `Ane.Progress.new(lambda p: print(p.get_stage(), p.get_fraction()))`;
 * in Vala: `new Ane.Progress ((p) => { ... })`.
 *
 * Cancelling — [method@Ane.Progress.cancel], or `g_cancellable_cancel()` on
 * [method@Ane.Progress.get_cancellable], from the callback or from any
 * other thread — stops the work at its next report with
 * %G_IO_ERROR_CANCELLED. A cancelled save leaves nothing behind: the
 * destination is not created, or an old package there is left unchanged.
 * A cancelled progress stays cancelled; use a new one for new work.
 *
 * Why a small object and not a struct plus a callback argument on each
 * call: one object carries the callback (with its data, freed when the
 * progress goes), the state and the cancellable together, so C, Python and
 * Vala all write the same one line to make one, and a second thread can
 * hold a reference to read it or cancel it while the work runs.
 *
 * Each call given a progress starts it again from 0; the callback runs in
 * the thread doing the work, so a callback that touches a user interface
 * should hand the values to the main loop (`g_idle_add()`). The getters
 * may be called from any thread.
 *
 * Since: 0.2
 */
struct _AneProgress {
  GObject          parent_instance;

  AneProgressFunc  callback;
  gpointer         user_data;
  GDestroyNotify   destroy;
  GCancellable    *cancellable;

  GMutex           lock;       /* the state below, read by other threads */
  double           fraction;
  const char      *stage;      /* a string literal */
  guint64          bytes_done;
  guint64          bytes_total;
};

G_DEFINE_FINAL_TYPE (AneProgress, ane_progress, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FRACTION,
  PROP_STAGE,
  PROP_BYTES_DONE,
  PROP_BYTES_TOTAL,
  PROP_CANCELLABLE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The largest fraction a report may give: 1.0 is kept for the end of work
 * that succeeded, so "fraction == 1" always means done. */
#define ANE_PROGRESS_BEFORE_END 0.999

static void
ane_progress_finalize (GObject *object)
{
  AneProgress *self = ANE_PROGRESS (object);

  if (self->destroy != NULL)
    self->destroy (self->user_data);
  g_clear_object (&self->cancellable);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ane_progress_parent_class)->finalize (object);
}

static void
ane_progress_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  AneProgress *self = ANE_PROGRESS (object);

  switch (prop_id)
    {
    case PROP_FRACTION:
      g_value_set_double (value, ane_progress_get_fraction (self));
      break;
    case PROP_STAGE:
      g_value_set_string (value, ane_progress_get_stage (self));
      break;
    case PROP_BYTES_DONE:
      g_value_set_uint64 (value, ane_progress_get_bytes_done (self));
      break;
    case PROP_BYTES_TOTAL:
      g_value_set_uint64 (value, ane_progress_get_bytes_total (self));
      break;
    case PROP_CANCELLABLE:
      g_value_set_object (value, self->cancellable);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ane_progress_class_init (AneProgressClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ane_progress_finalize;
  object_class->get_property = ane_progress_get_property;

  /* Read-only, and without notify: the work runs in any thread, and notify
   * emitted there would surprise a user interface; the callback is how a
   * change is announced. */

  /**
   * AneProgress:fraction:
   *
   * The fraction of the work done, from 0 to 1.
   *
   * Since: 0.2
   */
  properties[PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL, 0.0, 1.0, 0.0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * AneProgress:stage:
   *
   * What the work is doing now, or %NULL before it starts.
   *
   * Since: 0.2
   */
  properties[PROP_STAGE] =
    g_param_spec_string ("stage", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * AneProgress:bytes-done:
   *
   * The bytes of the stage done, where known.
   *
   * Since: 0.2
   */
  properties[PROP_BYTES_DONE] =
    g_param_spec_uint64 ("bytes-done", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * AneProgress:bytes-total:
   *
   * The bytes of the stage in all, or 0 when unknown.
   *
   * Since: 0.2
   */
  properties[PROP_BYTES_TOTAL] =
    g_param_spec_uint64 ("bytes-total", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * AneProgress:cancellable:
   *
   * The cancellable that stops the work.
   *
   * Since: 0.2
   */
  properties[PROP_CANCELLABLE] =
    g_param_spec_object ("cancellable", NULL, NULL, G_TYPE_CANCELLABLE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ane_progress_init (AneProgress *self)
{
  g_mutex_init (&self->lock);
  self->cancellable = g_cancellable_new ();
}

/**
 * ane_progress_new:
 * @callback: (nullable) (scope notified) (closure user_data) (destroy destroy): called
 *   each time the work moves on, or %NULL to only poll or cancel
 * @user_data: data for @callback
 * @destroy: (nullable): frees @user_data when the progress is finalized
 *
 * Makes a progress to give to long work.
 *
 * Returns: (transfer full): a new progress
 *
 * Since: 0.2
 */
AneProgress *
ane_progress_new (AneProgressFunc callback,
                  gpointer        user_data,
                  GDestroyNotify  destroy)
{
  AneProgress *self = g_object_new (ANE_TYPE_PROGRESS, NULL);

  self->callback = callback;
  self->user_data = user_data;
  self->destroy = destroy;
  return self;
}

/**
 * ane_progress_get_fraction:
 * @self: a progress
 *
 * The fraction of the work done: from 0 to 1, never lower than at the
 * last report of the same call, and 1.0 exactly once the work succeeded.
 *
 * Returns: the fraction done
 *
 * Since: 0.2
 */
double
ane_progress_get_fraction (AneProgress *self)
{
  double fraction;

  g_return_val_if_fail (ANE_IS_PROGRESS (self), 0.0);
  ane_mutex_lock (&self->lock);
  fraction = self->fraction;
  ane_mutex_unlock (&self->lock);
  return fraction;
}

/**
 * ane_progress_get_stage:
 * @self: a progress
 *
 * What the work is doing now: "lowering", "writing weights", "copying",
 * "writing model", "loading", "compiling", "generating" or "training".
 *
 * Returns: (transfer none) (nullable): the stage, or %NULL before any report
 *
 * Since: 0.2
 */
const char *
ane_progress_get_stage (AneProgress *self)
{
  const char *stage;

  g_return_val_if_fail (ANE_IS_PROGRESS (self), NULL);
  ane_mutex_lock (&self->lock);
  stage = self->stage;
  ane_mutex_unlock (&self->lock);
  return stage;
}

/**
 * ane_progress_get_bytes_done:
 * @self: a progress
 *
 * The bytes the stage has done (weights written, files copied), or 0 when
 * the stage does not count bytes.
 *
 * Returns: the bytes done
 *
 * Since: 0.2
 */
guint64
ane_progress_get_bytes_done (AneProgress *self)
{
  guint64 done;

  g_return_val_if_fail (ANE_IS_PROGRESS (self), 0);
  ane_mutex_lock (&self->lock);
  done = self->bytes_done;
  ane_mutex_unlock (&self->lock);
  return done;
}

/**
 * ane_progress_get_bytes_total:
 * @self: a progress
 *
 * The bytes the stage will do in all, or 0 when unknown.
 *
 * Returns: the bytes in all
 *
 * Since: 0.2
 */
guint64
ane_progress_get_bytes_total (AneProgress *self)
{
  guint64 total;

  g_return_val_if_fail (ANE_IS_PROGRESS (self), 0);
  ane_mutex_lock (&self->lock);
  total = self->bytes_total;
  ane_mutex_unlock (&self->lock);
  return total;
}

/**
 * ane_progress_get_cancellable:
 * @self: a progress
 *
 * The cancellable the work watches: cancelling it (from the callback or
 * from another thread) stops the work with %G_IO_ERROR_CANCELLED.
 *
 * Returns: (transfer none): the cancellable
 *
 * Since: 0.2
 */
GCancellable *
ane_progress_get_cancellable (AneProgress *self)
{
  g_return_val_if_fail (ANE_IS_PROGRESS (self), NULL);
  return self->cancellable;
}

/**
 * ane_progress_cancel:
 * @self: a progress
 *
 * Cancels the work: `g_cancellable_cancel()` on
 * [method@Ane.Progress.get_cancellable]. Safe from the callback and from
 * any thread.
 *
 * Since: 0.2
 */
void
ane_progress_cancel (AneProgress *self)
{
  g_return_if_fail (ANE_IS_PROGRESS (self));
  g_cancellable_cancel (self->cancellable);
}

/* --- what the library calls --------------------------------------------- */

void
ane_progress_begin (AneProgress *self)
{
  if (self == NULL)
    return;
  ane_mutex_lock (&self->lock);
  self->fraction = 0.0;
  self->stage = NULL;
  self->bytes_done = self->bytes_total = 0;
  ane_mutex_unlock (&self->lock);
}

gboolean
ane_progress_report (AneProgress  *self,
                     const char   *stage,
                     double        fraction,
                     guint64       bytes_done,
                     guint64       bytes_total,
                     GError      **error)
{
  if (self == NULL)
    return TRUE;
  ane_mutex_lock (&self->lock);
  /* !(a >= b) also catches NaN */
  if (!(fraction >= self->fraction))
    fraction = self->fraction;
  self->fraction = MIN (fraction, ANE_PROGRESS_BEFORE_END);
  self->stage = stage;
  self->bytes_done = bytes_done;
  self->bytes_total = bytes_total;
  ane_mutex_unlock (&self->lock);
  if (self->callback != NULL)
    self->callback (self, self->user_data);
  return ane_progress_check (self, error);
}

gboolean
ane_progress_check (AneProgress  *self,
                    GError      **error)
{
  return self == NULL || !g_cancellable_set_error_if_cancelled (self->cancellable, error);
}

void
ane_progress_finish (AneProgress *self)
{
  if (self == NULL)
    return;
  ane_mutex_lock (&self->lock);
  self->fraction = 1.0;
  self->bytes_done = self->bytes_total;
  ane_mutex_unlock (&self->lock);
  if (self->callback != NULL)
    self->callback (self, self->user_data);
}

GCancellable *
ane_progress_cancellable (AneProgress *self)
{
  return self ? self->cancellable : NULL;
}
