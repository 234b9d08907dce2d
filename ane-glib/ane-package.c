/* ane-package.c: a CoreML .mlpackage bundle, loaded and checked, or made from a graph
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-tsan-private.h"

#include <string.h>

#include <glib/gstdio.h>

#include "ane-file-private.h"
#include "ane-package-private.h"
#include "mil/ane-mil-dtype-private.h"
#include "mil/ane-mlpackage-private.h"
#include "mil/ane-mil-infer-private.h"
#include "mil/ane-mil-validate-private.h"
#include "mil/ane-mil-specialize-private.h"
#include "ane-tensor-private.h"
#include "mil/ane-mil-builder-private.h"
#include "mil/lower/ane-lower-private.h"
#include "mil/ane-mil-text-private.h"
#include "ane-mil-dialect-private.h"
#include "mil/ane-milblob-private.h"
#include "ane-compress.h"

/**
 * AnePackage:
 *
 * A CoreML ML Program package (`.mlpackage`), loaded and checked.
 *
 * Loads `.mlpackage` bundles ([func@Ane.Package.load]) and MIL text with its
 * weights ([func@Ane.Package.load_mil]), or is made from an
 * [class@Ane.Graph] ([ctor@Ane.Package.new_from_graph]).
 *
 * Loading reads `Manifest.json`, parses the root model (`model.mlmodel`) and
 * checks every weight the program refers to against the weight file (MIL Blob
 * Storage v2): the record is there, its data type and size are those of the
 * tensor that refers to it, and the data lies inside the file. A package that
 * loads can be described, and saved again unchanged.
 *
 * ```c
 * g_autoptr(GError) error = NULL;
 * g_autoptr(AnePackage) pkg = ane_package_load ("model.mlpackage", &error);
 * if (pkg == NULL)
 *   g_error ("%s", error->message);
 * g_autoptr(GPtrArray) inputs = ane_package_list_inputs (pkg, NULL, &error);
 * for (guint i = 0; i < inputs->len; i++)
 *   {
 *     g_autofree char *s = ane_tensor_to_string (g_ptr_array_index (inputs, i));
 *     g_print ("input %s\n", s);
 *   }
 * ane_package_save (pkg, "copy.mlpackage", FALSE, &error);
 * ```
 *
 * A package may hold several functions (specification version 9, e.g.
 * "prefill" and "decode" sharing weights); calls that take a function name
 * use the default function when given %NULL. Inputs, outputs and states are
 * described as symbolic [class@Ane.Tensor]s (name, dtype, shape, no data).
 *
 * Packages are immutable once loaded; the weight file stays memory-mapped for
 * the lifetime of the object.
 *
 * A package can also be made from a graph: [ctor@Ane.Package.new_from_graph]
 * lowers it to an ML program for a deployment target and keeps the result in
 * memory, where it can be inspected exactly like a loaded package, then
 * [method@Ane.Package.save] streams the weights into the bundle:
 *
 * ```c
 * g_autoptr(AnePackage) pkg = ane_package_new_from_graph (graph, ANE_TARGET_IOS17,
 *                                                         ANE_PRECISION_FLOAT16, &error);
 * if (pkg == NULL || !ane_package_save (pkg, "model.mlpackage", TRUE, &error))
 *   g_error ("%s", error->message);
 * ```
 *
 * Threads: a package does not change once loaded or made, so any number of
 * threads may inspect it, check it, save it, print it and make executables
 * of it at once (weights are read under a lock). A package made from a
 * graph reads the graph's params when it is saved: do not bind params on
 * that graph while another thread saves.
 */
struct _AnePackage
{
  GObject         parent_instance;

  const struct _PackageKind *kind;   /* what it is made of: answers for the methods */
  AneMLPackage   *pkg;              /* a bundle loaded from disk, or NULL */
  AneLowered     *lowered;          /* a program in memory (lowered from a graph, or read
                                     * from MIL text), or NULL */
  char           *save_warning;   /* what the last save reported after its point of
                                   * no return (save_lock), or NULL */
  AneCompressReport *report;      /* what ane_package_compress () did to make it, or NULL */
  AnePackage     *source;         /* the package it was compressed from, or NULL: its manifest and
                                   * items are kept when it is saved */
};

G_DEFINE_FINAL_TYPE (AnePackage, ane_package, G_TYPE_OBJECT)

/* A package is either a bundle loaded from disk (AneMLPackage: the files
 * stay where they are, a save copies them) or a program in memory
 * (AneLowered: the weights are still to be written, a save streams them).
 * Each kind answers what the methods need; the methods never ask which. */
typedef struct _PackageKind
{
  AneCoreMLModel *(*model)          (AnePackage *self);
  const char     *(*path)           (AnePackage *self);   /* NULL in memory */
  guint64         (*weight_bytes)   (AnePackage *self);
  /* the limits the package exceeds, added to errors */
  void            (*limit_errors)   (AnePackage *self, GPtrArray *errors);
  gboolean        (*save)           (AnePackage *self, const char *path, gboolean overwrite,
                                     GCancellable *cancellable, AneProgress *progress,
                                     char **warning, GError **error);
  /* MIL text and its weights file */
  gboolean        (*save_mil)       (AnePackage *self, const char *path, gboolean overwrite,
                                     const char *text, char **warning, GError **error);
  GBytes         *(*read_blob)      (AnePackage *self, const char *file_name, guint64 offset,
                                     GError **error);
  GPtrArray      *(*pending_blobs)  (AnePackage *self, guint64 *weight_size);
  GStrv           (*weight_notes)   (AnePackage *self);
} PackageKind;

static const PackageKind loaded_kind, lowered_kind;

/* save_async sets save_warning from a worker thread. */
G_LOCK_DEFINE_STATIC (save_lock);

/* Replaces the warning of the last save (takes warning; NULL clears). */
static void
set_save_warning (AnePackage *self,
                  char       *warning)
{
  ane_mutex_lock (&G_LOCK_NAME (save_lock));
  g_free (self->save_warning);
  self->save_warning = warning;
  ane_mutex_unlock (&G_LOCK_NAME (save_lock));
}

enum {
  PROP_0,
  PROP_PATH,
  PROP_SPECIFICATION_VERSION,
  PROP_DEFAULT_FUNCTION,
  PROP_FUNCTIONS,
  PROP_WEIGHT_BYTES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
ane_package_finalize (GObject *object)
{
  AnePackage *self = ANE_PACKAGE (object);

  g_clear_pointer (&self->pkg, ane_mlpackage_free);
  g_clear_pointer (&self->lowered, ane_lowered_free);
  g_clear_pointer (&self->save_warning, g_free);
  g_clear_object (&self->report);
  g_clear_object (&self->source);
  G_OBJECT_CLASS (ane_package_parent_class)->finalize (object);
}

static void
ane_package_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  AnePackage *self = ANE_PACKAGE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, ane_package_get_path (self));
      break;
    case PROP_SPECIFICATION_VERSION:
      g_value_set_int (value, ane_package_get_specification_version (self));
      break;
    case PROP_DEFAULT_FUNCTION:
      g_value_set_string (value, ane_package_get_default_function (self));
      break;
    case PROP_FUNCTIONS:
      g_value_take_boxed (value, ane_package_list_functions (self));
      break;
    case PROP_WEIGHT_BYTES:
      g_value_set_uint64 (value, ane_package_get_weight_bytes (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ane_package_class_init (AnePackageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ane_package_finalize;
  object_class->get_property = ane_package_get_property;

  /**
   * AnePackage:path:
   *
   * The directory the package was loaded from; %NULL for a package made by
   * [ctor@Ane.Package.new_from_graph].
   */
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * AnePackage:specification-version:
   *
   * The CoreML specification version of the model (7 = iOS16, 8 = iOS17,
   * 9 = iOS18).
   */
  properties[PROP_SPECIFICATION_VERSION] =
    g_param_spec_int ("specification-version", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * AnePackage:default-function:
   *
   * The function used when none is named.
   */
  properties[PROP_DEFAULT_FUNCTION] =
    g_param_spec_string ("default-function", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * AnePackage:functions:
   *
   * The names of the program's functions, in the package's order, as
   * [method@Ane.Package.list_functions] gives them.
   *
   * Since: 0.2
   */
  properties[PROP_FUNCTIONS] =
    g_param_spec_boxed ("functions", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * AnePackage:weight-bytes: (getter get_weight_bytes)
   *
   * The bytes of weight data the program refers to, as
   * [method@Ane.Package.get_weight_bytes] counts them.
   *
   * Since: 0.2
   */
  properties[PROP_WEIGHT_BYTES] =
    g_param_spec_uint64 ("weight-bytes", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ane_package_init (AnePackage *self)
{
}

static AneCoreMLModel *
package_model (AnePackage *self)
{
  return self->kind->model (self);
}

/* How error messages name the package. */
static const char *
package_name (AnePackage *self)
{
  const char *path = self->kind->path (self);

  return path ? path : "(package in memory)";
}

/* A package of kind made of pkg or lowered (taken). */
static AnePackage *
package_new (AneMLPackage *pkg,
             AneLowered   *lowered)
{
  AnePackage *self = g_object_new (ANE_TYPE_PACKAGE, NULL);

  self->pkg = pkg;
  self->lowered = lowered;
  self->kind = pkg != NULL ? &loaded_kind : &lowered_kind;
  return self;
}

/**
 * ane_package_load:
 * @path: the `.mlpackage` directory
 * @error: return location for a #GError
 *
 * Loads and checks a package. Errors name the file and, for weights, the op,
 * the value and the offset: %ANE_ERROR_NOT_FOUND for missing files,
 * %ANE_ERROR_PARSE for a malformed manifest, model or weight file,
 * %ANE_ERROR_DTYPE when a weight's stored type is not the type of the tensor
 * that refers to it, %ANE_ERROR_UNSUPPORTED for models that are not ML
 * programs or manifests newer than version 1.0.0.
 *
 * Returns: (transfer full): the package, or %NULL on error
 */
AnePackage *
ane_package_load (const char *path,
                  GError    **error)
{
  AneMLPackage *pkg;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  pkg = ane_mlpackage_open (path, error);
  if (pkg == NULL)
    return NULL;
  return package_new (pkg, NULL);
}

/**
 * ane_package_load_full:
 * @path: the `.mlpackage` directory
 * @progress: (nullable): an [class@Ane.Progress] to report to and cancel with
 * @error: return location for a #GError
 *
 * Loads and checks a package as [func@Ane.Package.load] does, reporting the
 * stage "loading" to @progress after each step (manifest, model,
 * description, program check); the fraction ends at 1.0 on success.
 * Cancelling @progress stops the load with %G_IO_ERROR_CANCELLED.
 *
 * Returns: (transfer full): the package, or %NULL on error
 *
 * Since: 0.2
 */
AnePackage *
ane_package_load_full (const char   *path,
                       AneProgress  *progress,
                       GError      **error)
{
  AneMLPackage *pkg;
  AnePackage *self;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (progress == NULL || ANE_IS_PROGRESS (progress), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ane_progress_begin (progress);
  pkg = ane_mlpackage_open_full (path, progress, error);
  if (pkg == NULL)
    return NULL;
  self = package_new (pkg, NULL);
  ane_progress_finish (progress);
  return self;
}

static void
load_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  AnePackage *pkg;

  ane_task_thread_begin (task);
  if (g_task_return_error_if_cancelled (task))
    return;
  pkg = ane_package_load (task_data, &error);
  ane_task_thread_end (task);
  if (pkg)
    g_task_return_pointer (task, pkg, g_object_unref);
  else
    g_task_return_error (task, error);
}

/**
 * ane_package_load_async:
 * @path: the `.mlpackage` directory
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when loading is done
 * @user_data: data for @callback
 *
 * Loads a package in a worker thread; finish with
 * [func@Ane.Package.load_finish].
 */
void
ane_package_load_async (const char          *path,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (path != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ane_package_load_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  ane_task_run_in_thread (task, load_thread);
}

/**
 * ane_package_load_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@Ane.Package.load_async]: the loaded package, or the error
 * [func@Ane.Package.load] would have given.
 *
 * Returns: (transfer full): the package, or %NULL on error
 */
AnePackage *
ane_package_load_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ane_package_load_async, NULL);
  ane_task_finish_begin (result);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The date coremltools records as conversion_date (%Y-%m-%d), from
 * SOURCE_DATE_EPOCH when it is set so that builds can be reproduced. */
static char *
conversion_date (void)
{
  const char *epoch = g_getenv ("SOURCE_DATE_EPOCH");
  g_autoptr(GDateTime) when = NULL;
  guint64 seconds;

  if (epoch && g_ascii_string_to_unsigned (epoch, 10, 0, G_MAXINT64, &seconds, NULL))
    when = g_date_time_new_from_unix_utc ((gint64) seconds);
  if (when == NULL)
    when = g_date_time_new_now_local ();
  return g_date_time_format (when, "%Y-%m-%d");
}

/**
 * ane_package_new_from_graph:
 * @graph: the graph to package
 * @target: the deployment target
 * @precision: the float type the program computes in
 * @error: return location for a #GError
 *
 * Lowers @graph to a CoreML ML program and makes a package of it, held in
 * memory until [method@Ane.Package.save] writes it.
 *
 * The graph is validated and lowered for @target (a macOS target gives the
 * same program as the iOS target of its year); the model gets the target's
 * specification version, a description of the graph's inputs, outputs and
 * states with their dtypes and shapes, and metadata naming ane-glib
 * (`com.github.ane-glib.version`, `.source`, `.conversion_date`, `.target`,
 * `.precision` in the user-defined metadata, as coremltools records itself).
 * Inside the program every float value is computed in @precision; inputs
 * and outputs keep the graph's dtypes.
 *
 * No weight is copied or converted yet. Consts and params that have a value
 * are packaged with that value (the package keeps a reference to its data,
 * not a copy). Params without a value, and GGUF block-quantized weights, are
 * read from the graph when the package is saved: bind them with
 * [method@Ane.Graph.bind_param] before [method@Ane.Package.save]. The
 * package keeps a reference to @graph and can be inspected at once, like a
 * loaded one.
 *
 * Fails with the lowering's errors (%ANE_ERROR_UNSUPPORTED for an op or
 * dtype the target cannot express, %ANE_ERROR_INVALID_GRAPH, ...), and with
 * %ANE_ERROR_TOO_LARGE if `model.mlmodel` would exceed protobuf's limit of
 * 2^31 - 1 bytes. A weight file above the Neural Engine's 2 GiB is not an
 * error (CoreML can still run the model on the CPU and GPU): see
 * [method@Ane.Package.dup_warnings] and [method@Ane.Package.check_limits].
 *
 * Returns: (transfer full): the package, or %NULL on error
 */
static AnePackage *package_from_graph (AneGraph *graph, AneTarget target, AnePrecision precision,
                                       AneLowerFlags flags, AneLowering lowering, GHashTable *params,
                                       gboolean dated, AneProgress *progress, GError **error);

AnePackage *
ane_package_new_from_graph (AneGraph      *graph,
                            AneTarget      target,
                            AnePrecision   precision,
                            GError       **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (graph), NULL);
  g_return_val_if_fail (target >= ANE_TARGET_IOS15 && target <= ANE_TARGET_MACOS15, NULL);
  g_return_val_if_fail (precision == ANE_PRECISION_FLOAT16 || precision == ANE_PRECISION_FLOAT32, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return package_from_graph (graph, target, precision, ANE_LOWER_DEFAULT, ANE_LOWERING_DEFAULT, NULL, TRUE,
                             NULL, error);
}

/**
 * ane_package_new_from_graph_full:
 * @graph: the graph to package
 * @target: the deployment target
 * @precision: the float type the program computes in
 * @progress: (nullable): an [class@Ane.Progress] to report to and cancel with
 * @error: return location for a #GError
 *
 * Makes a package of @graph as [ctor@Ane.Package.new_from_graph] does,
 * reporting the stage "lowering" to @progress once per op of the graph
 * (the fraction counts the ops lowered); it ends at 1.0 on success.
 * Cancelling @progress stops the lowering with %G_IO_ERROR_CANCELLED.
 *
 * Returns: (transfer full): the package, or %NULL on error
 *
 * Since: 0.2
 */
AnePackage *
ane_package_new_from_graph_full (AneGraph      *graph,
                                 AneTarget      target,
                                 AnePrecision   precision,
                                 AneProgress   *progress,
                                 GError       **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (graph), NULL);
  g_return_val_if_fail (target >= ANE_TARGET_IOS15 && target <= ANE_TARGET_MACOS15, NULL);
  g_return_val_if_fail (precision == ANE_PRECISION_FLOAT16 || precision == ANE_PRECISION_FLOAT32, NULL);
  g_return_val_if_fail (progress == NULL || ANE_IS_PROGRESS (progress), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return ane_package_new_from_graph_with_lowering (graph, target, precision, ANE_LOWERING_DEFAULT, progress,
                                                   error);
}

/**
 * ane_package_new_from_graph_with_lowering:
 * @graph: the graph to package
 * @target: the deployment target
 * @precision: the float type the program computes in
 * @lowering: how the graph is lowered: %ANE_LOWERING_DEFAULT (the Neural
 *   Engine profile, as every package gets), %ANE_LOWERING_NEURAL_ENGINE or
 *   %ANE_LOWERING_GENERIC
 * @progress: (nullable): an [class@Ane.Progress] to report to and cancel with
 * @error: return location for a #GError
 *
 * Makes a package of @graph as [ctor@Ane.Package.new_from_graph_full] does,
 * lowered as @lowering says.
 *
 * The Neural Engine profile rewrites the graph's ops into the forms the
 * Neural Engine runs (docs/ane-lowering.md, "Passes for any graph"): a
 * matmul by a constant 2-D weight becomes a 1×1 `conv` on activations held
 * channels-first `[B, C, 1, S]` (kept in that layout through elementwise
 * ops, so consecutive layers convert nothing), RMSNorm a `layer_norm` over
 * the channels of `[x, -x]`, attention an additive finite mask with
 * grouped-query heads sliced. The program computes the same function:
 * equal outputs within float16 rounding. %ANE_LOWERING_GENERIC keeps each
 * op in the graph's layout (what an executable made from the graph runs on the CPU
 * backend); choose it to read a program op for op against the graph.
 *
 * Returns: (transfer full): the package, or %NULL on error
 *
 * Since: 0.2
 */
AnePackage *
ane_package_new_from_graph_with_lowering (AneGraph      *graph,
                                          AneTarget      target,
                                          AnePrecision   precision,
                                          AneLowering    lowering,
                                          AneProgress   *progress,
                                          GError       **error)
{
  AnePackage *self;

  g_return_val_if_fail (ANE_IS_GRAPH (graph), NULL);
  g_return_val_if_fail (target >= ANE_TARGET_IOS15 && target <= ANE_TARGET_MACOS15, NULL);
  g_return_val_if_fail (precision == ANE_PRECISION_FLOAT16 || precision == ANE_PRECISION_FLOAT32, NULL);
  g_return_val_if_fail (lowering >= ANE_LOWERING_DEFAULT && lowering <= ANE_LOWERING_NEURAL_ENGINE, NULL);
  g_return_val_if_fail (progress == NULL || ANE_IS_PROGRESS (progress), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ane_progress_begin (progress);
  self = package_from_graph (graph, target, precision, ANE_LOWER_DEFAULT, lowering, NULL, TRUE, progress, error);
  if (self != NULL)
    ane_progress_finish (progress);
  return self;
}

/* The lowering profile a package takes: the Neural Engine's unless the
 * caller asks for the generic one. */
static AneLowerProfile
package_profile (AneLowering lowering)
{
  return lowering == ANE_LOWERING_GENERIC ? ANE_LOWER_PROFILE_GENERIC : ANE_LOWER_PROFILE_NEURAL_ENGINE;
}

/* What the Apple backends package: the graph lowered with flags, its weights
 * read from params (an executable's bound values) before the graph's. Such a
 * package is an intermediate: without a conversion date, the same graph
 * gives the same bytes, which CoreML's compile cache keys on. */
AnePackage *
ane_package_new_for_backend (AneGraph      *graph,
                             AneTarget      target,
                             AnePrecision   precision,
                             AneLowerFlags  flags,
                             GHashTable    *params,
                             GError       **error)
{
  return package_from_graph (graph, target, precision, flags, ANE_LOWERING_DEFAULT, params, FALSE, NULL, error);
}

static AnePackage *
package_from_graph (AneGraph      *graph,
                    AneTarget      target,
                    AnePrecision   precision,
                    AneLowerFlags  flags,
                    AneLowering    lowering,
                    GHashTable    *params,
                    gboolean       dated,
                    AneProgress   *progress,
                    GError       **error)
{
  g_autofree char *date = dated ? conversion_date () : NULL;
  const char *const user_defined[] = {
    "com.github.ane-glib.version", PACKAGE_VERSION,
    "com.github.ane-glib.source", "AneGraph",
    "com.github.ane-glib.target", ane_target_to_string (target),
    "com.github.ane-glib.precision", precision == ANE_PRECISION_FLOAT16 ? "float16" : "float32",
    date ? "com.github.ane-glib.conversion_date" : NULL, date,
    NULL
  };
  AneLowerOptions options = {
    .target = ane_target_to_mil (target),
    .precision = precision == ANE_PRECISION_FLOAT16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32,
    .flags = flags,
    .profile = package_profile (lowering),
    .params = params,
    .describe = TRUE,
    .metadata = user_defined,
    .progress = progress,
  };
  g_autoptr(AneLowered) lowered = ane_lowered_new (graph, &options, error);

  if (lowered == NULL)
    return NULL;
  /* Checked now, before anything is written: a model protobuf cannot read
   * back is an error, unlike a large weight file. */
  if (!ane_mlpackage_check_model_size (protobuf_c_message_get_packed_size (&lowered->model->base), error))
    return NULL;
  return package_new (NULL, g_steal_pointer (&lowered));
}

typedef struct
{
  AneGraph     *graph;
  AneTarget     target;
  AnePrecision  precision;
} FromGraphData;

static void
from_graph_data_free (gpointer data)
{
  FromGraphData *fg = data;

  g_object_unref (fg->graph);
  g_free (fg);
}


/* Ends a task that made a package (pkg, taken) or failed (error, taken).
 * Lowering cannot stop half-way; a cancel that came meanwhile still wins,
 * so the caller sees the cancellation it asked for. */
static void
return_made_package (GTask      *task,
                     AnePackage *pkg,
                     GError     *error)
{
  if (pkg == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (pkg);
      return;
    }
  g_task_return_pointer (task, pkg, g_object_unref);
}

/* A task making a package from data in a worker thread (tag: the _async
 * function, checked by finish_package_task). */
static void
start_package_task (gpointer             data,
                    GDestroyNotify       data_free,
                    gpointer             tag,
                    GTaskThreadFunc      thread,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  g_task_set_task_data (task, data, data_free);
  ane_task_run_in_thread (task, thread);
}

static AnePackage *
finish_package_task (GAsyncResult  *result,
                     gpointer       tag,
                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  ane_task_finish_begin (result);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
from_graph_thread (GTask        *task,
                   gpointer      source,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  FromGraphData *fg = task_data;
  g_autoptr(AnePackage) pkg = NULL;
  GError *error = NULL;

  ane_task_thread_begin (task);
  if (g_task_return_error_if_cancelled (task))
    return;
  pkg = ane_package_new_from_graph (fg->graph, fg->target, fg->precision, &error);
  ane_task_thread_end (task);
  return_made_package (task, g_steal_pointer (&pkg), error);
}

/**
 * ane_package_new_from_graph_async:
 * @graph: the graph to package
 * @target: the deployment target
 * @precision: the float type the program computes in
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the package is made
 * @user_data: data for @callback
 *
 * Lowers @graph in a worker thread, as [ctor@Ane.Package.new_from_graph]
 * does; finish with [ctor@Ane.Package.new_from_graph_finish]. The task holds
 * a reference on @graph: do not change the graph (add nodes, bind params)
 * until @callback has run. Cancelling before the lowering ends gives
 * %G_IO_ERROR_CANCELLED.
 *
 * Since: 0.2
 */
void
ane_package_new_from_graph_async (AneGraph            *graph,
                                  AneTarget            target,
                                  AnePrecision         precision,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  FromGraphData *fg;

  g_return_if_fail (ANE_IS_GRAPH (graph));
  g_return_if_fail (target >= ANE_TARGET_IOS15 && target <= ANE_TARGET_MACOS15);
  g_return_if_fail (precision == ANE_PRECISION_FLOAT16 || precision == ANE_PRECISION_FLOAT32);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  fg = g_new0 (FromGraphData, 1);
  fg->graph = g_object_ref (graph);
  fg->target = target;
  fg->precision = precision;
  start_package_task (fg, from_graph_data_free, ane_package_new_from_graph_async, from_graph_thread,
                      cancellable, callback, user_data);
}

/**
 * ane_package_new_from_graph_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@Ane.Package.new_from_graph_async]: the package, or the
 * error [ctor@Ane.Package.new_from_graph] would have given (or
 * %G_IO_ERROR_CANCELLED).
 *
 * Returns: (transfer full): the package, or %NULL on error
 *
 * Since: 0.2
 */
AnePackage *
ane_package_new_from_graph_finish (GAsyncResult  *result,
                                   GError       **error)
{
  return finish_package_task (result, ane_package_new_from_graph_async, error);
}

/**
 * ane_package_new_from_graphs:
 * @names: (array length=n_graphs): the functions' names, the first the
 *   default function
 * @graphs: (array length=n_graphs): the graph of each function
 * @n_graphs: how many functions
 * @target: the deployment target (iOS18 / macOS15 or later for several
 *   functions)
 * @precision: the float type every function computes in
 * @error: return location for a #GError
 *
 * Makes one package of several graphs, as Anemll and coremltools'
 * `save_multifunction` do for a language model's `prefill` and `decode`:
 * each graph is lowered, as [ctor@Ane.Package.new_from_graph] lowers it,
 * to one function of one ML program, named @names[i]; the first is the
 * default function. The functions share one `weight.bin`: a weight that
 * several graphs hold with the same bytes (the same param of one model,
 * typically) is stored once, and every function's const points at it.
 *
 * ```c
 * const char *names[] = { "prefill", "decode" };
 * AneGraph *graphs[] = { prefill, decode };
 * g_autoptr(AnePackage) pkg = ane_package_new_from_graphs (names, graphs, 2, ANE_TARGET_IOS18,
 *                                                          ANE_PRECISION_FLOAT16, &error);
 * ```
 *
 * The result is a package like any other: list its functions with
 * [method@Ane.Package.list_functions], save it, print it as MIL text, and
 * run a function with [ctor@Ane.Executable.new_from_package].
 *
 * Unlike a package of one graph, this one takes every weight when it is
 * made (a reference to the param's bytes, not a copy): a param without a
 * value fails with %ANE_ERROR_MISSING_PARAM, and binding another value
 * afterwards does not change the package.
 *
 * Fails with %ANE_ERROR_INVALID_ARGUMENT for an empty list, a name that is
 * not a MIL identifier or is a MIL keyword, a name given twice or a %NULL
 * graph (naming it); %ANE_ERROR_UNSUPPORTED for several functions before
 * iOS18 (Core ML describes functions from specification version 9);
 * %ANE_ERROR_TYPE_MISMATCH when two functions declare a state of one name
 * with different types (Core ML gives the model's functions one set of
 * states; the message names the state and both functions); and with the
 * lowering's errors, prefixed by the function's name.
 *
 * Returns: (transfer full): the package, or %NULL on error
 *
 * Since: 0.2
 */
AnePackage *
ane_package_new_from_graphs (const char * const  *names,
                             AneGraph * const    *graphs,
                             guint                n_graphs,
                             AneTarget            target,
                             AnePrecision         precision,
                             GError             **error)
{
  g_autofree char *date = conversion_date ();
  const char *const user_defined[] = {
    "com.github.ane-glib.version", PACKAGE_VERSION,
    "com.github.ane-glib.source", "AneGraph",
    "com.github.ane-glib.target", ane_target_to_string (target),
    "com.github.ane-glib.precision", precision == ANE_PRECISION_FLOAT16 ? "float16" : "float32",
    "com.github.ane-glib.conversion_date", date,
    NULL
  };
  AneLowerOptions options = {
    .target = ane_target_to_mil (target),
    .precision = precision == ANE_PRECISION_FLOAT16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32,
    .profile = package_profile (ANE_LOWERING_DEFAULT),
    .describe = TRUE,
    .metadata = user_defined,
  };
  g_autoptr(AneLowered) lowered = NULL;

  g_return_val_if_fail (n_graphs == 0 || (names != NULL && graphs != NULL), NULL);
  g_return_val_if_fail (target >= ANE_TARGET_IOS15 && target <= ANE_TARGET_MACOS15, NULL);
  g_return_val_if_fail (precision == ANE_PRECISION_FLOAT16 || precision == ANE_PRECISION_FLOAT32, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  lowered = ane_lowered_new_multifunction (names, graphs, n_graphs, &options, error);
  if (lowered == NULL)
    return NULL;
  if (!ane_mlpackage_check_model_size (protobuf_c_message_get_packed_size (&lowered->model->base), error))
    return NULL;
  return package_new (NULL, g_steal_pointer (&lowered));
}

typedef struct
{
  GPtrArray    *names;    /* char*, owned (NULL names kept: reported by the lowering) */
  GPtrArray    *graphs;   /* AneGraph*, referenced (NULL kept) */
  AneTarget     target;
  AnePrecision  precision;
} FromGraphsData;

static void
from_graphs_data_free (gpointer data)
{
  FromGraphsData *fg = data;

  g_ptr_array_unref (fg->names);
  g_ptr_array_unref (fg->graphs);
  g_free (fg);
}

static void
clear_graph (gpointer graph)
{
  if (graph != NULL)
    g_object_unref (graph);
}

static void
from_graphs_thread (GTask        *task,
                    gpointer      source,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  FromGraphsData *fg = task_data;
  g_autoptr(AnePackage) pkg = NULL;
  GError *error = NULL;

  ane_task_thread_begin (task);
  if (g_task_return_error_if_cancelled (task))
    return;
  pkg = ane_package_new_from_graphs ((const char *const *) fg->names->pdata, (AneGraph **) fg->graphs->pdata,
                                     fg->graphs->len, fg->target, fg->precision, &error);
  ane_task_thread_end (task);
  return_made_package (task, g_steal_pointer (&pkg), error);
}

/**
 * ane_package_new_from_graphs_async:
 * @names: (array length=n_graphs): the functions' names, the first the
 *   default function
 * @graphs: (array length=n_graphs): the graph of each function
 * @n_graphs: how many functions
 * @target: the deployment target
 * @precision: the float type every function computes in
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the package is made
 * @user_data: data for @callback
 *
 * Lowers the graphs in a worker thread, as
 * [ctor@Ane.Package.new_from_graphs] does; finish with
 * [ctor@Ane.Package.new_from_graphs_finish]. The names are copied and the
 * task holds a reference on each graph: do not change the graphs until
 * @callback has run. Cancelling before the lowering ends gives
 * %G_IO_ERROR_CANCELLED.
 *
 * Since: 0.2
 */
void
ane_package_new_from_graphs_async (const char * const  *names,
                                   AneGraph * const    *graphs,
                                   guint                n_graphs,
                                   AneTarget            target,
                                   AnePrecision         precision,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  FromGraphsData *fg;

  g_return_if_fail (n_graphs == 0 || (names != NULL && graphs != NULL));
  g_return_if_fail (target >= ANE_TARGET_IOS15 && target <= ANE_TARGET_MACOS15);
  g_return_if_fail (precision == ANE_PRECISION_FLOAT16 || precision == ANE_PRECISION_FLOAT32);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  fg = g_new0 (FromGraphsData, 1);
  fg->names = g_ptr_array_new_full (n_graphs + 1, g_free);
  fg->graphs = g_ptr_array_new_full (n_graphs + 1, clear_graph);
  for (guint i = 0; i < n_graphs; i++)
    {
      g_ptr_array_add (fg->names, g_strdup (names[i]));
      g_ptr_array_add (fg->graphs, ANE_IS_GRAPH (graphs[i]) ? g_object_ref (graphs[i]) : NULL);
    }
  fg->target = target;
  fg->precision = precision;
  start_package_task (fg, from_graphs_data_free, ane_package_new_from_graphs_async, from_graphs_thread,
                      cancellable, callback, user_data);
}

/**
 * ane_package_new_from_graphs_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@Ane.Package.new_from_graphs_async]: the package, or the
 * error [ctor@Ane.Package.new_from_graphs] would have given (or
 * %G_IO_ERROR_CANCELLED).
 *
 * Returns: (transfer full): the package, or %NULL on error
 *
 * Since: 0.2
 */
AnePackage *
ane_package_new_from_graphs_finish (GAsyncResult  *result,
                                    GError       **error)
{
  return finish_package_task (result, ane_package_new_from_graphs_async, error);
}

/**
 * ane_package_get_path:
 * @self: a package
 *
 * The directory the package was loaded from, as it was given to
 * [func@Ane.Package.load]. A package made by
 * [ctor@Ane.Package.new_from_graph] lives in memory and has no path (saving
 * it does not change that).
 *
 * Returns: (transfer none) (nullable): the directory, or %NULL for a package
 *   made from a graph
 */
const char *
ane_package_get_path (AnePackage *self)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);
  return self->kind->path (self);
}

/**
 * ane_package_get_specification_version:
 * @self: a package
 *
 * The model's CoreML specification version: 6 for iOS15, 7 for iOS16, 8 for
 * iOS17, 9 for iOS18.
 *
 * Returns: the specification version
 */
int
ane_package_get_specification_version (AnePackage *self)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), 0);
  return package_model (self)->specificationversion;
}

/**
 * ane_package_list_functions:
 * @self: a package
 *
 * The program's functions, in the order of the model description when it
 * lists them (multifunction models), else in the program's order.
 *
 * Returns: (transfer full) (array zero-terminated=1): the function names
 */
char **
ane_package_list_functions (AnePackage *self)
{
  const AneCoreMLModelDescription *desc;
  const AneMilProgram *program;
  GStrvBuilder *builder;
  char **names;

  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);

  desc = package_model (self)->description;
  program = package_model (self)->mlprogram;
  builder = g_strv_builder_new ();
  if (desc && desc->n_functions > 0)
    {
      for (gsize i = 0; i < desc->n_functions; i++)
        g_strv_builder_add (builder, desc->functions[i]->name);
      /* Functions the description leaves out are still in the program. */
      for (gsize i = 0; i < program->n_functions; i++)
        {
          gboolean listed = FALSE;

          for (gsize j = 0; j < desc->n_functions && !listed; j++)
            listed = strcmp (desc->functions[j]->name, program->functions[i]->key) == 0;
          if (!listed)
            g_strv_builder_add (builder, program->functions[i]->key);
        }
    }
  else
    for (gsize i = 0; i < program->n_functions; i++)
      g_strv_builder_add (builder, program->functions[i]->key);
  names = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return names;
}

/**
 * ane_package_get_default_function:
 * @self: a package
 *
 * The function used when none is named: the description's
 * `defaultFunctionName`, else "main", else the program's only function.
 *
 * Returns: (transfer none) (nullable): the default function's name, or %NULL
 *   if the program has several functions and names none the default
 */
const char *
ane_package_get_default_function (AnePackage *self)
{
  const AneCoreMLModelDescription *desc;
  const AneMilProgram *program;

  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);

  desc = package_model (self)->description;
  program = package_model (self)->mlprogram;
  if (desc && desc->defaultfunctionname && desc->defaultfunctionname[0])
    return desc->defaultfunctionname;
  for (gsize i = 0; i < program->n_functions; i++)
    if (strcmp (program->functions[i]->key, "main") == 0)
      return program->functions[i]->key;
  if (program->n_functions == 1)
    return program->functions[0]->key;
  return NULL;
}

static const AneMilFunction *
find_function (AnePackage  *self,
               const char **function,
               GError     **error)
{
  const AneMilProgram *program = package_model (self)->mlprogram;

  if (*function == NULL)
    {
      *function = ane_package_get_default_function (self);
      if (*function == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                       "%s: the package has several functions and no default; name one",
                       package_name (self));
          return NULL;
        }
    }
  for (gsize i = 0; i < program->n_functions; i++)
    if (strcmp (program->functions[i]->key, *function) == 0)
      return program->functions[i]->value;
  g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
               "%s: no function '%s'", package_name (self), *function);
  return NULL;
}

static const AneMilBlock *
function_block (const AneMilFunction *fn)
{
  for (gsize i = 0; i < fn->n_block_specializations; i++)
    if (strcmp (fn->block_specializations[i]->key, fn->opset) == 0)
      return fn->block_specializations[i]->value;
  return NULL;   /* not reached: the reader checks the opset has a block */
}

/**
 * ane_package_get_opset:
 * @self: a package
 * @function: (nullable): a function name, or %NULL for the default function
 * @error: return location for a #GError
 *
 * The opset the function's active block is written in ("CoreML6" for iOS16,
 * "CoreML7" for iOS17, "CoreML8" for iOS18).
 *
 * Returns: (transfer none): the opset name, or %NULL if there is no such function
 */
const char *
ane_package_get_opset (AnePackage *self,
                       const char *function,
                       GError    **error)
{
  const AneMilFunction *fn;

  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  fn = find_function (self, &function, error);
  return fn ? fn->opset : NULL;
}

typedef enum { FEATURE_INPUT, FEATURE_OUTPUT, FEATURE_STATE } FeatureKind;

static const char *const feature_kind_names[] = { "input", "output", "state" };

/* The feature list of a function: the description's entry for it in
 * multifunction models, else the model-level lists, which describe the
 * default function. */
static gboolean
function_features (AnePackage                          *self,
                   const char                          *function,
                   FeatureKind                          kind,
                   AneCoreMLFeatureDescription * const **features,
                   gsize                               *n_features,
                   GError                             **error)
{
  const AneCoreMLModelDescription *desc = package_model (self)->description;
  const char *deflt = ane_package_get_default_function (self);

  *features = NULL;
  *n_features = 0;
  if (desc == NULL)
    return TRUE;
  if (desc->n_functions > 0)
    {
      for (gsize i = 0; i < desc->n_functions; i++)
        {
          const AneCoreMLFunctionDescription *fd = desc->functions[i];

          if (strcmp (fd->name, function) != 0)
            continue;
          switch (kind)
            {
            case FEATURE_INPUT:  *features = fd->input;  *n_features = fd->n_input;  break;
            case FEATURE_OUTPUT: *features = fd->output; *n_features = fd->n_output; break;
            case FEATURE_STATE:  *features = fd->state;  *n_features = fd->n_state;  break;
            }
          return TRUE;
        }
    }
  else if (g_strcmp0 (function, deflt) == 0)
    {
      switch (kind)
        {
        case FEATURE_INPUT:  *features = desc->input;  *n_features = desc->n_input;  break;
        case FEATURE_OUTPUT: *features = desc->output; *n_features = desc->n_output; break;
        case FEATURE_STATE:  *features = desc->state;  *n_features = desc->n_state;  break;
        }
      return TRUE;
    }
  g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
               "%s: function '%s' has no description of its %ss",
               package_name (self), function, feature_kind_names[kind]);
  return FALSE;
}

/* The shape of a program value with every dimension known, or FALSE. */
static gboolean
program_value_shape (const AneMilValueType *type,
                     gint64                *shape,
                     guint                 *rank)
{
  const AneMilTensorType *tensor;

  if (type && type->type_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE &&
      type->statetype)
    type = type->statetype->wrappedtype;
  if (type == NULL || type->type_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE ||
      (tensor = type->tensortype) == NULL || tensor->rank < 0 ||
      (guint64) tensor->rank != tensor->n_dimensions || tensor->n_dimensions > ANE_MAX_RANK)
    return FALSE;
  for (gsize i = 0; i < tensor->n_dimensions; i++)
    {
      const AneMilDimension *dim = tensor->dimensions[i];

      if (dim->dimension_case != CORE_ML__SPECIFICATION__MILSPEC__DIMENSION__DIMENSION_CONSTANT ||
          dim->constant == NULL || dim->constant->size > G_MAXINT64)
        return FALSE;
      shape[i] = (gint64) dim->constant->size;
    }
  *rank = (guint) tensor->n_dimensions;
  return TRUE;
}

/* Where the description leaves a shape out, the program's type of the value
 * gives it: function inputs, or the op outputs the block returns. */
static gboolean
shape_from_program (const AneMilFunction *fn,
                    const char           *name,
                    gint64               *shape,
                    guint                *rank)
{
  const AneMilBlock *block = function_block (fn);

  for (gsize i = 0; i < fn->n_inputs; i++)
    if (strcmp (fn->inputs[i]->name, name) == 0)
      return program_value_shape (fn->inputs[i]->type, shape, rank);
  for (gsize i = 0; block && i < block->n_operations; i++)
    for (gsize j = 0; j < block->operations[i]->n_outputs; j++)
      if (strcmp (block->operations[i]->outputs[j]->name, name) == 0)
        return program_value_shape (block->operations[i]->outputs[j]->type, shape, rank);
  return FALSE;
}

static GPtrArray *list_features (AnePackage *self, const char *function, FeatureKind kind, GError **error);
static AneTensor *feature_to_tensor (AnePackage *self, const AneMilFunction *fn, const char *function,
                                     FeatureKind kind, const AneCoreMLFeatureDescription *feature, GError **error);

/* The default shapes of a function's inputs: name -> AneSpec*. */
static GHashTable *
default_shapes (AnePackage  *self,
                const char  *function,
                GError     **error)
{
  g_autoptr(GPtrArray) inputs = list_features (self, function, FEATURE_INPUT, error);

  return inputs != NULL ? ane_tensor_specs_by_name (inputs) : NULL;
}

/* An output of a flexible program declares no shape: at the inputs'
 * default shapes it has the one the program infers. */
static gboolean
shape_at_default (AnePackage  *self,
                  const char  *function,
                  const char  *name,
                  gint64      *shape,
                  guint       *rank)
{
  g_autoptr(GHashTable) shapes = default_shapes (self, function, NULL);
  AneMilProgram *program;
  gboolean found;

  if (shapes == NULL)
    return FALSE;
  program = ane_mil_program_specialize (package_model (self)->mlprogram, function, shapes, NULL);
  if (program == NULL)
    return FALSE;
  found = shape_from_program (ane_mil_program_find_function (program, function), name, shape, rank);
  protobuf_c_message_free_unpacked (&program->base, NULL);
  return found;
}

GHashTable *
ane_package_default_shapes (AnePackage  *self,
                            const char  *function,
                            GError     **error)
{
  if (find_function (self, &function, error) == NULL)
    return NULL;
  return default_shapes (self, function, error);
}

AneShapeFlex *
ane_package_dup_input_flex (AnePackage  *self,
                            const char  *function,
                            const char  *name,
                            GError     **error)
{
  AneCoreMLFeatureDescription * const *features;
  gsize n;

  if (find_function (self, &function, error) == NULL ||
      !function_features (self, function, FEATURE_INPUT, &features, &n, error))
    return NULL;
  for (gsize i = 0; i < n; i++)
    {
      const AneCoreMLFeatureType *type = features[i]->type;
      g_autoptr(AneTensor) t = NULL;
      g_autofree char *what = NULL;
      AneSpec spec;

      if (g_strcmp0 (features[i]->name, name) != 0 || type == NULL ||
          type->type_case != CORE_ML__SPECIFICATION__FEATURE_TYPE__TYPE_MULTI_ARRAY_TYPE || type->multiarraytype == NULL)
        continue;
      t = feature_to_tensor (self, ane_mil_program_find_function (package_model (self)->mlprogram, function),
                             function, FEATURE_INPUT, features[i], error);
      if (t == NULL)
        return NULL;
      ane_tensor_get_spec (t, &spec);
      what = g_strdup_printf ("%s: input '%s'", package_name (self), name);
      return ane_shape_flex_from_array (type->multiarraytype, what, spec.shape, spec.rank, error);
    }
  return NULL;
}

static AneTensor *
feature_to_tensor (AnePackage                        *self,
                   const AneMilFunction              *fn,
                   const char                        *function,
                   FeatureKind                        kind,
                   const AneCoreMLFeatureDescription *feature,
                   GError                           **error)
{
  const AneCoreMLArrayFeatureType *array = NULL;
  const AneCoreMLFeatureType *type = feature->type;
  const int64_t *dims = NULL;
  gsize n_dims = 0;
  gint64 shape[ANE_MAX_RANK];
  guint rank = 0;
  AneDType dtype;

  if (type && type->type_case == CORE_ML__SPECIFICATION__FEATURE_TYPE__TYPE_MULTI_ARRAY_TYPE)
    array = type->multiarraytype;
  else if (type && type->type_case == CORE_ML__SPECIFICATION__FEATURE_TYPE__TYPE_STATE_TYPE &&
           type->statetype &&
           type->statetype->type_case == CORE_ML__SPECIFICATION__STATE_FEATURE_TYPE__TYPE_ARRAY_TYPE)
    array = type->statetype->arraytype;
  if (array == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: function '%s', %s '%s': only multi-array features are supported",
                   package_name (self), function, feature_kind_names[kind], feature->name);
      return NULL;
    }
  if (!ane_array_dtype_to_ane (array->datatype, &dtype))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: function '%s', %s '%s': array data type %d has no AneDType",
                   package_name (self), function, feature_kind_names[kind],
                   feature->name, (int) array->datatype);
      return NULL;
    }

  /* The fixed or default shape; with flexible shapes and no default, the
   * first enumerated shape or the lower bounds, as CoreML itself defaults. */
  if (array->n_shape > 0)
    {
      dims = array->shape;
      n_dims = array->n_shape;
    }
  else if (array->shape_flexibility_case ==
             CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_ENUMERATED_SHAPES &&
           array->enumeratedshapes && array->enumeratedshapes->n_shapes > 0)
    {
      dims = array->enumeratedshapes->shapes[0]->shape;
      n_dims = array->enumeratedshapes->shapes[0]->n_shape;
    }
  else if (array->shape_flexibility_case ==
             CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_SHAPE_RANGE &&
           array->shaperange && array->shaperange->n_sizeranges > 0)
    {
      n_dims = array->shaperange->n_sizeranges;
      for (gsize i = 0; i < n_dims && i < ANE_MAX_RANK; i++)
        shape[i] = (gint64) MIN (array->shaperange->sizeranges[i]->lowerbound, G_MAXINT64);
    }
  else if (shape_from_program (fn, feature->name, shape, &rank))
    n_dims = rank;
  else if (kind == FEATURE_OUTPUT && shape_at_default (self, function, feature->name, shape, &rank))
    n_dims = rank;
  else
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: function '%s', %s '%s' has no known shape",
                   package_name (self), function, feature_kind_names[kind], feature->name);
      return NULL;
    }
  if (n_dims > ANE_MAX_RANK)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: function '%s', %s '%s': rank %" G_GSIZE_FORMAT " exceeds the maximum rank %d",
                   package_name (self), function, feature_kind_names[kind], feature->name,
                   n_dims, ANE_MAX_RANK);
      return NULL;
    }
  if (dims)
    memcpy (shape, dims, n_dims * sizeof (gint64));
  rank = (guint) n_dims;
  return ane_tensor_new (feature->name, dtype, shape, rank, error);
}

static GPtrArray *
list_features (AnePackage  *self,
               const char  *function,
               FeatureKind  kind,
               GError     **error)
{
  g_autoptr(GPtrArray) list = NULL;
  AneCoreMLFeatureDescription * const *features;
  const AneMilFunction *fn;
  gsize n;

  fn = find_function (self, &function, error);
  if (fn == NULL || !function_features (self, function, kind, &features, &n, error))
    return NULL;
  list = g_ptr_array_new_with_free_func (g_object_unref);
  for (gsize i = 0; i < n; i++)
    {
      AneTensor *t = feature_to_tensor (self, fn, function, kind, features[i], error);

      if (t == NULL)
        return NULL;
      g_ptr_array_add (list, t);
    }
  return g_steal_pointer (&list);
}

/**
 * ane_package_list_inputs:
 * @self: a package
 * @function: (nullable): a function name, or %NULL for the default function
 * @error: return location for a #GError
 *
 * Describes the function's inputs as symbolic tensors, in the order of the
 * model description. Array data types map to dtypes (FLOAT32, FLOAT16, INT32,
 * INT8); a flexible shape is given by its default.
 *
 * Returns: (transfer container) (element-type AneTensor): the inputs, or
 *   %NULL if there is no such function or an input is not a multi-array
 */
GPtrArray *
ane_package_list_inputs (AnePackage *self,
                         const char *function,
                         GError    **error)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return list_features (self, function, FEATURE_INPUT, error);
}

/**
 * ane_package_list_outputs:
 * @self: a package
 * @function: (nullable): a function name, or %NULL for the default function
 * @error: return location for a #GError
 *
 * Describes the function's outputs as symbolic tensors, in the order of the
 * model description.
 *
 * Returns: (transfer container) (element-type AneTensor): the outputs, or
 *   %NULL on error
 */
GPtrArray *
ane_package_list_outputs (AnePackage *self,
                          const char *function,
                          GError    **error)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return list_features (self, function, FEATURE_OUTPUT, error);
}

/**
 * ane_package_list_states:
 * @self: a package
 * @function: (nullable): a function name, or %NULL for the default function
 * @error: return location for a #GError
 *
 * Describes the function's states (iOS18 stateful models: values kept from
 * one prediction to the next) as symbolic tensors.
 *
 * Returns: (transfer container) (element-type AneTensor): the states (often
 *   none), or %NULL on error
 */
GPtrArray *
ane_package_list_states (AnePackage *self,
                         const char *function,
                         GError    **error)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return list_features (self, function, FEATURE_STATE, error);
}

static void
count_ops (GHashTable        *hist,
           const AneMilBlock *block)
{
  for (gsize i = 0; i < block->n_operations; i++)
    {
      const AneMilOperation *op = block->operations[i];
      gpointer key, value;

      if (g_hash_table_lookup_extended (hist, op->type, &key, &value))
        g_hash_table_insert (hist, g_strdup (op->type), GUINT_TO_POINTER (GPOINTER_TO_UINT (value) + 1));
      else
        g_hash_table_insert (hist, g_strdup (op->type), GUINT_TO_POINTER (1));
      for (gsize j = 0; j < op->n_blocks; j++)
        count_ops (hist, op->blocks[j]);
    }
}

/**
 * ane_package_op_histogram:
 * @self: a package
 * @function: (nullable): a function name, or %NULL for the default function
 * @error: return location for a #GError
 *
 * Counts the operations of the function's active block per op type
 * ("const", "linear", ...), including those in nested blocks (loops and
 * conditionals). Ops are counted as written in the file.
 *
 * Returns: (transfer full) (element-type utf8 guint): op type -> count, or
 *   %NULL if there is no such function
 */
GHashTable *
ane_package_op_histogram (AnePackage *self,
                          const char *function,
                          GError    **error)
{
  const AneMilFunction *fn;
  GHashTable *hist;

  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  fn = find_function (self, &function, error);
  if (fn == NULL)
    return NULL;
  hist = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  count_ops (hist, function_block (fn));
  return hist;
}

/**
 * ane_package_get_weight_bytes:
 * @self: a package
 *
 * The size of the weight data the program refers to: the sum of the sizes of
 * the distinct blobs in the weight file(s), counted once however many ops
 * share them. For a package made from a graph this is the data the planned
 * `weight.bin` will hold (its size plus 64 bytes of header and 64 of record
 * per blob, aligned to 64 bytes), and the same number the saved package
 * reports once loaded.
 *
 * Returns: the number of bytes (0 for a package without weights)
 */
guint64
ane_package_get_weight_bytes (AnePackage *self)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), 0);
  return self->kind->weight_bytes (self);
}

/* Every limit the package exceeds, as errors. */
static GPtrArray *
limit_errors (AnePackage *self)
{
  GPtrArray *errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);

  self->kind->limit_errors (self, errors);
  return errors;
}

/**
 * ane_package_check_limits:
 * @self: a package
 * @error: return location for a #GError
 *
 * Checks the package against the limits of the formats and of the Neural
 * Engine: `model.mlmodel` must stay within protobuf's 2^31 - 1 bytes, and
 * a weight file must not exceed the 2 GiB the Neural Engine loads (for a
 * package made from a graph, the size `weight.bin` will have). A model over
 * the second limit is valid and runs with CoreML on the CPU and GPU.
 *
 * Returns: %TRUE if the package is within every limit; otherwise %FALSE
 *   with %ANE_ERROR_TOO_LARGE naming the file, its size in bytes and the limit
 */
gboolean
ane_package_check_limits (AnePackage  *self,
                          GError     **error)
{
  g_autoptr(GPtrArray) errors = NULL;

  g_return_val_if_fail (ANE_IS_PACKAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  errors = limit_errors (self);
  if (errors->len == 0)
    return TRUE;
  g_propagate_error (error, g_error_copy (g_ptr_array_index (errors, 0)));
  return FALSE;
}

/**
 * ane_package_dup_warnings:
 * @self: a package
 *
 * Problems that do not stop the package from being saved or loaded but may
 * stop it from running where it is meant to, one sentence each: today, the
 * limits [method@Ane.Package.check_limits] reports (a weight file too large
 * for the Neural Engine), and what went wrong in the last save
 * ([method@Ane.Package.save], [method@Ane.Package.save_async],
 * [method@Ane.Package.save_mil]) after its point of no return: the new files
 * were in place, but the directory could not be synced, so a system crash
 * could still undo the save. Each save replaces that last sentence.
 *
 * Returns: (transfer full) (array zero-terminated=1): the warnings, often none
 */
char **
ane_package_dup_warnings (AnePackage *self)
{
  g_autoptr(GPtrArray) errors = NULL;
  GStrvBuilder *builder;
  char **warnings;

  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);

  errors = limit_errors (self);
  builder = g_strv_builder_new ();
  for (guint i = 0; i < errors->len; i++)
    g_strv_builder_add (builder, ((GError *) g_ptr_array_index (errors, i))->message);
  ane_mutex_lock (&G_LOCK_NAME (save_lock));
  if (self->save_warning != NULL)
    g_strv_builder_add (builder, self->save_warning);
  ane_mutex_unlock (&G_LOCK_NAME (save_lock));
  warnings = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return warnings;
}

static gint compare_strings (gconstpointer a, gconstpointer b);

/**
 * ane_package_check_types:
 * @self: a package
 * @unchecked: (out) (optional) (transfer full) (array zero-terminated=1): the
 *   op types the check has no rule for, each with its count ("gru (2)"); such
 *   ops keep their declared types
 *
 * Checks every op of every function as Apple's coremltools loader does when
 * it reads a program (the `ct.models.MLModel` spec loader, `ct.optimize.coreml`
 * and every coremltools utility go through it): each op's inputs against the
 * op's definition for the function's opset, and each declared output type
 * against the type coremltools' own type inference computes. The rules are
 * read from coremltools (the version is in `docs/mil-ops.md`) and run
 * everywhere, without Python.
 *
 * Programs this library writes pass by construction; this is for packages
 * and MIL text from anywhere. Loading does not run the check: a package Apple
 * wrote is read as it is.
 *
 * Returns: (transfer full) (array zero-terminated=1): one line per op whose
 *   declared output type differs from the type Apple's loader infers, or
 *   that is given an input its op refuses ("function main: MIL select 'where'
 *   at iOS18: output 'where' is declared tensor<fp16, [512]>, but coremltools
 *   9.0 infers fp16 (...)"); empty when every op agrees
 */
char **
ane_package_check_types (AnePackage   *self,
                         char       ***unchecked)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) skipped = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const AneCoreMLModel *model;

  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);

  model = package_model (self);
  ane_mil_infer_check_program (model != NULL ? model->mlprogram : NULL, lines, skipped);
  if (unchecked != NULL)
    {
      g_autofree gpointer *keys = NULL;
      guint n_keys;
      GStrvBuilder *builder = g_strv_builder_new ();

      keys = g_hash_table_get_keys_as_array (skipped, &n_keys);
      qsort (keys, n_keys, sizeof (gpointer), compare_strings);
      for (guint i = 0; i < n_keys; i++)
        {
          g_autofree char *line = g_strdup_printf ("%s (%u)", (const char *) keys[i],
                                                   GPOINTER_TO_UINT (g_hash_table_lookup (skipped, keys[i])));
          g_strv_builder_add (builder, line);
        }
      *unchecked = g_strv_builder_end (builder);
      g_strv_builder_unref (builder);
    }
  g_ptr_array_add (lines, NULL);
  return (char **) g_ptr_array_steal (lines, NULL);
}

/**
 * ane_package_dup_metadata:
 * @self: a package
 *
 * The model's user-defined metadata (`description.metadata.userDefined`),
 * such as `com.github.apple.coremltools.version`.
 *
 * Returns: (transfer full) (element-type utf8 utf8): key -> value
 */
GHashTable *
ane_package_dup_metadata (AnePackage *self)
{
  const AneCoreMLModelDescription *desc;
  GHashTable *metadata;

  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);

  metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  desc = package_model (self)->description;
  if (desc && desc->metadata)
    for (gsize i = 0; i < desc->metadata->n_userdefined; i++)
      g_hash_table_insert (metadata, g_strdup (desc->metadata->userdefined[i]->key),
                           g_strdup (desc->metadata->userdefined[i]->value));
  return metadata;
}

/* One string field of description.metadata, NULL when unset: proto3 has
 * no presence for strings, and an empty author is no author. */
static const char *
metadata_string (AnePackage *self,
                 gsize       offset)
{
  const AneCoreMLModelDescription *desc = package_model (self)->description;
  const char *value;

  if (desc == NULL || desc->metadata == NULL)
    return NULL;
  value = G_STRUCT_MEMBER (const char *, desc->metadata, offset);
  return value != NULL && value[0] != '\0' ? value : NULL;
}

/**
 * ane_package_get_author:
 * @self: a package
 *
 * The model's author (`description.metadata.author` of the .mlpackage's
 * model specification). Packages this library writes leave it empty, as
 * coremltools does.
 *
 * Returns: (transfer none) (nullable): the author, or %NULL if none is set
 *
 * Since: 0.2
 */
const char *
ane_package_get_author (AnePackage *self)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);
  return metadata_string (self, G_STRUCT_OFFSET (CoreML__Specification__Metadata, author));
}

/**
 * ane_package_get_license:
 * @self: a package
 *
 * The model's licence (`description.metadata.license`).
 *
 * Returns: (transfer none) (nullable): the licence, or %NULL if none is set
 *
 * Since: 0.2
 */
const char *
ane_package_get_license (AnePackage *self)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);
  return metadata_string (self, G_STRUCT_OFFSET (CoreML__Specification__Metadata, license));
}

/**
 * ane_package_get_short_description:
 * @self: a package
 *
 * The model's one-line description (`description.metadata.shortDescription`).
 *
 * Returns: (transfer none) (nullable): the description, or %NULL if none is set
 *
 * Since: 0.2
 */
const char *
ane_package_get_short_description (AnePackage *self)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);
  return metadata_string (self, G_STRUCT_OFFSET (CoreML__Specification__Metadata, shortdescription));
}

/**
 * ane_package_get_version_string:
 * @self: a package
 *
 * The model's own version (`description.metadata.versionString`), not the
 * specification version ([method@Ane.Package.get_specification_version]).
 *
 * Returns: (transfer none) (nullable): the version, or %NULL if none is set
 *
 * Since: 0.2
 */
const char *
ane_package_get_version_string (AnePackage *self)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);
  return metadata_string (self, G_STRUCT_OFFSET (CoreML__Specification__Metadata, versionstring));
}

static void
append_features (GString    *out,
                 GPtrArray  *list)
{
  for (guint i = 0; list && i < list->len; i++)
    {
      g_autofree char *s = ane_tensor_to_string (g_ptr_array_index (list, i));
      g_string_append_printf (out, "%s%s", i ? ", " : "", s);
    }
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/**
 * ane_package_to_string:
 * @self: a package
 *
 * A summary for people: specification version, weights, and per function the
 * opset, inputs, outputs, states and op counts.
 *
 * Returns: (transfer full): the summary
 */
char *
ane_package_to_string (AnePackage *self)
{
  g_auto(GStrv) functions = NULL;
  GString *out;

  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);

  functions = ane_package_list_functions (self);
  out = g_string_new (NULL);
  g_string_append_printf (out, "%s: CoreML specification %d, %u function%s (default '%s'), "
                          "%" G_GUINT64_FORMAT " bytes of weights\n",
                          package_name (self),
                          ane_package_get_specification_version (self),
                          g_strv_length (functions), g_strv_length (functions) == 1 ? "" : "s",
                          ane_package_get_default_function (self)
                            ? ane_package_get_default_function (self) : "(none)",
                          ane_package_get_weight_bytes (self));
  for (guint f = 0; functions[f]; f++)
    {
      g_autoptr(GPtrArray) inputs = ane_package_list_inputs (self, functions[f], NULL);
      g_autoptr(GPtrArray) outputs = ane_package_list_outputs (self, functions[f], NULL);
      g_autoptr(GPtrArray) states = ane_package_list_states (self, functions[f], NULL);
      g_autoptr(GHashTable) hist = ane_package_op_histogram (self, functions[f], NULL);
      g_autofree gpointer *ops = NULL;
      guint n_ops = 0, total = 0;

      g_string_append_printf (out, "  function %s [%s]\n", functions[f],
                              ane_package_get_opset (self, functions[f], NULL));
      g_string_append (out, "    inputs:  ");
      append_features (out, inputs);
      g_string_append (out, "\n    outputs: ");
      append_features (out, outputs);
      if (states && states->len > 0)
        {
          g_string_append (out, "\n    states:  ");
          append_features (out, states);
        }
      ops = g_hash_table_get_keys_as_array (hist, &n_ops);
      qsort (ops, n_ops, sizeof (gpointer), compare_strings);
      for (guint i = 0; i < n_ops; i++)
        total += GPOINTER_TO_UINT (g_hash_table_lookup (hist, ops[i]));
      g_string_append_printf (out, "\n    ops (%u):", total);
      for (guint i = 0; i < n_ops; i++)
        g_string_append_printf (out, "%s %s %u", i ? "," : "", (const char *) ops[i],
                                GPOINTER_TO_UINT (g_hash_table_lookup (hist, ops[i])));
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

static gboolean
package_save (AnePackage   *self,
              const char   *path,
              gboolean      overwrite,
              GCancellable *cancellable,
              AneProgress  *progress,
              GError      **error)
{
  char *warning = NULL;
  gboolean ok;

  ok = self->kind->save (self, path, overwrite, cancellable, progress, &warning, error);
  set_save_warning (self, warning);
  return ok;
}

/**
 * ane_package_save:
 * @self: a package
 * @path: where to write the `.mlpackage` directory
 * @overwrite: whether to replace an existing @path
 * @error: return location for a #GError
 *
 * Writes the package out. A loaded package is written again: the same
 * manifest entries, the model re-serialized (fields this library does not
 * know are kept as they were), and the weight files and other items copied.
 *
 * A package made by [ctor@Ane.Package.new_from_graph] is written as Apple's
 * tools write one: `Manifest.json`, `Data/com.apple.CoreML/model.mlmodel`
 * and `Data/com.apple.CoreML/weights/weight.bin`. The weights are streamed
 * into `weight.bin` one tensor at a time and converted on the way (float32 to
 * float16, GGUF blocks dequantized) in small chunks, so saving needs little
 * memory beyond the graph's own weights. Params that had no value when the
 * package was made are read from the graph now, so a value bound since with
 * [method@Ane.Graph.bind_param] is the one written; one still without a
 * value fails with %ANE_ERROR_MISSING_PARAM naming it, one whose value has
 * another dtype or shape with %ANE_ERROR_DTYPE or %ANE_ERROR_SHAPE, before
 * anything is written.
 * Every file and directory is synced to disk before the bundle is renamed
 * into place. Do not change the graph while it is being saved.
 *
 * The bundle is built in a temporary directory next to @path and renamed
 * into place once complete. If @path exists and @overwrite is %FALSE, this
 * fails with %ANE_ERROR_IO and leaves @path untouched; with @overwrite the
 * old bundle is replaced only after the new one is complete. On error no
 * partial bundle is left behind. Temporary directories that earlier saves
 * to @path left when their process was killed (`.NAME.tmp-PID-XXXXXX`,
 * whose process is gone) are removed first.
 *
 * Once the new bundle has taken the place of the old one the save has
 * happened, and this returns %TRUE even if syncing the parent directory
 * afterwards fails; [method@Ane.Package.dup_warnings] then says so (a
 * system crash could still bring back the old bundle).
 *
 * Returns: %TRUE on success (the new bundle is at @path)
 */
gboolean
ane_package_save (AnePackage *self,
                  const char *path,
                  gboolean    overwrite,
                  GError    **error)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return package_save (self, path, overwrite, NULL, NULL, error);
}

/**
 * ane_package_save_full:
 * @self: a package
 * @path: where to write the `.mlpackage` directory
 * @overwrite: whether to replace an existing @path
 * @progress: (nullable): an [class@Ane.Progress] to report to and cancel with
 * @error: return location for a #GError
 *
 * Writes the package out as [method@Ane.Package.save] does, reporting to
 * @progress. A package made from a graph reports "writing weights" after
 * each chunk of `weight.bin` (with its bytes done and in all), then
 * "writing model"; a loaded package reports "copying" per file it copies,
 * then "writing model". The fraction ends at 1.0 on success.
 *
 * Cancelling @progress (from its callback or another thread) stops the save
 * with %G_IO_ERROR_CANCELLED up to the moment the new bundle is renamed into
 * place, and leaves nothing behind: no @path if there was none, the old
 * bundle unchanged if there was one, no temporary directory.
 *
 * Returns: %TRUE on success (the new bundle is at @path)
 *
 * Since: 0.2
 */
gboolean
ane_package_save_full (AnePackage  *self,
                       const char  *path,
                       gboolean     overwrite,
                       AneProgress *progress,
                       GError     **error)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (progress == NULL || ANE_IS_PROGRESS (progress), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ane_progress_begin (progress);
  if (!package_save (self, path, overwrite, ane_progress_cancellable (progress), progress, error))
    return FALSE;
  ane_progress_finish (progress);
  return TRUE;
}

typedef struct {
  char     *path;
  gboolean  overwrite;
} SaveData;

static void
save_data_free (gpointer data)
{
  SaveData *sd = data;

  g_free (sd->path);
  g_free (sd);
}

static void
save_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  SaveData *sd = task_data;
  GError *error = NULL;
  gboolean ok;

  ane_task_thread_begin (task);
  if (g_task_return_error_if_cancelled (task))
    return;
  ok = package_save (source, sd->path, sd->overwrite, cancellable, NULL, &error);
  ane_task_thread_end (task);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * ane_package_save_async:
 * @self: a package
 * @path: where to write the `.mlpackage` directory
 * @overwrite: whether to replace an existing @path
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when saving is done
 * @user_data: data for @callback
 *
 * Saves in a worker thread (see [method@Ane.Package.save]); finish with
 * [method@Ane.Package.save_finish]. Cancelling a package made from a graph
 * stops between chunks of weights and leaves nothing behind.
 */
void
ane_package_save_async (AnePackage          *self,
                        const char          *path,
                        gboolean             overwrite,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SaveData *sd;

  g_return_if_fail (ANE_IS_PACKAGE (self));
  g_return_if_fail (path != NULL);

  sd = g_new0 (SaveData, 1);
  sd->path = g_strdup (path);
  sd->overwrite = overwrite;
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ane_package_save_async);
  g_task_set_task_data (task, sd, save_data_free);
  ane_task_run_in_thread (task, save_thread);
}

/**
 * ane_package_save_finish:
 * @self: a package
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Ane.Package.save_async]: whether the bundle was written,
 * with the error [method@Ane.Package.save] would have given (or
 * %G_IO_ERROR_CANCELLED).
 *
 * Returns: %TRUE if the package was saved
 */
gboolean
ane_package_save_finish (AnePackage    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ane_package_save_async, FALSE);
  ane_task_finish_begin (result);
  return g_task_propagate_boolean (G_TASK (result), error);
}

AnePackage *
ane_package_new_compressed (AneLowered        *lowered,
                            AneCompressReport *report,
                            AnePackage        *source)
{
  AnePackage *self = package_new (NULL, lowered);

  self->report = report;
  /* a source made from a graph or compressed itself has its own source */
  while (source != NULL && source->pkg == NULL && source->source != NULL)
    source = source->source;
  self->source = source != NULL && source->pkg != NULL ? g_object_ref (source) : NULL;
  return self;
}

/**
 * ane_package_get_compression_report:
 * @package: a package
 *
 * What [method@Ane.Package.compress] did to make this package: a
 * [class@Ane.CompressReport] with each weight's mode, bits, sizes and
 * reconstruction error.
 *
 * Returns: (transfer none) (nullable): the report, or %NULL for a package
 *   that was not made by compression
 *
 * Since: 0.2
 */
AneCompressReport *
ane_package_get_compression_report (AnePackage *package)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (package), NULL);
  return package->report;
}

AneMLPackage *
ane_package_get_mlpackage (AnePackage *package)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (package), NULL);
  return package->pkg;
}

AneCoreMLModel *
ane_package_get_model (AnePackage *package)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (package), NULL);
  return package_model (package);
}

GPtrArray *
ane_package_get_pending_blobs (AnePackage *package,
                               guint64    *weight_size)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (package), NULL);
  return package->kind->pending_blobs (package, weight_size);
}

/* --- MIL text ----------------------------------------------------------------- */

/**
 * ane_package_to_mil_text:
 * @self: a package
 * @error: return location for a #GError
 *
 * Prints the package's program as MIL text, the form the Neural Engine's
 * in-memory compile path takes (`program(1.3)`, `func main<ios18>(...)`,
 * consts in `weight.bin` as `BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(...))`).
 *
 * Returns: (transfer full): the text
 */
char *
ane_package_to_mil_text (AnePackage  *self,
                         GError     **error)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);
  return ane_mil_text_print (package_model (self)->mlprogram, error);
}

/**
 * ane_package_save_mil:
 * @self: a package
 * @path: where to write the MIL text (e.g. `model.mil`)
 * @overwrite: whether to replace existing files
 * @error: return location for a #GError
 *
 * Writes the program as MIL text at @path and its weights beside it at
 * `weights/weight.bin` (the file the text's `@model_path/weights/weight.bin`
 * names, with `@model_path` the text's directory, as in a compiled
 * `.mlmodelc`).
 *
 * The text and its weights change as one: the weights are written and
 * synced first under a name no file has (`weights/weight.bin`, or
 * `weights/weight-<16 hex digits>.bin` when `weight.bin` exists, which the
 * text then names), then the text is renamed over @path, then (with
 * @overwrite) the weight files of earlier saves are removed. A reader, even
 * after a crash at any point, sees the old text with its weights or the new
 * text with its own. [func@Ane.Package.load_mil] reads either name. A
 * failure before the text is renamed leaves the old files as they were; a
 * failure to sync the directory after it does not fail the save but is
 * reported by [method@Ane.Package.dup_warnings] (the old weights are then
 * kept until the next save). Keep one MIL text per directory: its
 * `weights/` belongs to it.
 *
 * Returns: %TRUE on success (the new text is at @path)
 */
gboolean
ane_package_save_mil (AnePackage  *self,
                      const char  *path,
                      gboolean     overwrite,
                      GError     **error)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  return ane_package_save_mil_for_dialect (self, path, overwrite, NULL, error);
}

/**
 * ane_package_to_mil_text_for_dialect:
 * @self: a package
 * @dialect: (nullable): the dialect, or %NULL for the program's own buildInfo
 * @error: return location for a #GError
 *
 * Prints the package's program as MIL text as
 * [method@Ane.Package.to_mil_text] does, with the program's `buildInfo`
 * dictionary merged with @dialect's pairs: @dialect's pairs in its order,
 * then the program's own pairs that @dialect neither sets nor removes. With
 * [ctor@Ane.MilDialect.new] that is the text the %ANE_BACKEND_ANE backend
 * hands the Neural Engine:
 *
 * ```
 * program(1.3)
 * [buildInfo = dict<string, string>({{"coremlc-component-MIL", "3510.2.1"}, {"coremlc-version", "3505.4.1"}, ...})]
 * {
 *     func main<ios18>(...) {
 * ```
 *
 * The package is not changed.
 *
 * Returns: (transfer full): the text
 *
 * Since: 0.2
 */
char *
ane_package_to_mil_text_for_dialect (AnePackage     *self,
                                     AneMilDialect  *dialect,
                                     GError        **error)
{
  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);
  return ane_mil_dialect_print (dialect, package_model (self)->mlprogram, error);
}

/**
 * ane_package_save_mil_for_dialect:
 * @self: a package
 * @path: where to write the MIL text (e.g. `model.mil`)
 * @overwrite: whether to replace existing files
 * @dialect: (nullable): the dialect, or %NULL for the program's own buildInfo
 * @error: return location for a #GError
 *
 * Writes the MIL text of [method@Ane.Package.to_mil_text_for_dialect] and
 * its weights as [method@Ane.Package.save_mil] does.
 *
 * Returns: %TRUE on success (the new text is at @path)
 *
 * Since: 0.2
 */
gboolean
ane_package_save_mil_for_dialect (AnePackage     *self,
                                  const char     *path,
                                  gboolean        overwrite,
                                  AneMilDialect  *dialect,
                                  GError        **error)
{
  g_autofree char *text = NULL;
  char *warning = NULL;
  gboolean ok;

  g_return_val_if_fail (ANE_IS_PACKAGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  text = ane_package_to_mil_text_for_dialect (self, dialect, error);
  if (text == NULL)
    return FALSE;
  ok = self->kind->save_mil (self, path, overwrite, text, &warning, error);
  set_save_warning (self, warning);
  return ok;
}

static AneDType
blob_storage_dtype (AneMilBlobDataType type)
{
  switch (type)
    {
    case ANE_MILBLOB_FLOAT16:  return ANE_DTYPE_FLOAT16;
    case ANE_MILBLOB_FLOAT32:  return ANE_DTYPE_FLOAT32;
    case ANE_MILBLOB_BFLOAT16: return ANE_DTYPE_BFLOAT16;
    case ANE_MILBLOB_INT8:     return ANE_DTYPE_INT8;
    case ANE_MILBLOB_INT16:    return ANE_DTYPE_INT16;
    case ANE_MILBLOB_INT32:    return ANE_DTYPE_INT32;
    default:                   return ANE_DTYPE_UINT8;   /* copied as raw bytes */
    }
}

/* Every offset a MIL text reads must hold a blob of its weights file. */
static gboolean
check_weight_offsets (GPtrArray   *blobs,
                      GArray      *offsets,
                      const char  *path,
                      const char  *weights,
                      GError     **error)
{
  g_autoptr(GHashTable) present = g_hash_table_new (g_int64_hash, g_int64_equal);

  for (guint j = 0; j < blobs->len; j++)
    g_hash_table_add (present, &((AneMilPendingBlob *) g_ptr_array_index (blobs, j))->offset);
  for (guint i = 0; i < offsets->len; i++)
    {
      guint64 offset = g_array_index (offsets, guint64, i);

      if (!g_hash_table_contains (present, &offset))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                       "%s: the text reads a weight at offset %" G_GUINT64_FORMAT
                       " of '%s', which holds no blob there", path, offset, weights);
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * ane_package_load_mil:
 * @path: a MIL text file
 * @error: return location for a #GError
 *
 * Reads a program from MIL text, with its weights from `weights/weight.bin`
 * beside the file when the program refers to them. The result inspects,
 * saves (as a package or as MIL text) and runs like any package.
 *
 * Returns: (transfer full): the package, or %NULL
 */
AnePackage *
ane_package_load_mil (const char  *path,
                      GError     **error)
{
  g_autofree char *text = NULL;
  g_autofree char *weights = NULL;
  g_autoptr(GArray) offsets = NULL;
  g_autoptr(AneLowered) lowered = NULL;
  AneCoreMLModel *model;
  AneMilProgram *program;
  AneMilTarget target = ANE_MIL_IOS18;
  gsize len;

  g_return_val_if_fail (path != NULL, NULL);

  {
    g_autoptr(GError) local = NULL;

    /* a regular file only: a FIFO would block the read for ever */
    if (!ane_file_get_contents (path, &text, &len, &local))
      {
        g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "cannot read MIL text: %s", local->message);
        return NULL;
      }
  }
  program = ane_mil_text_parse (text, len, path, error);
  if (program == NULL)
    return NULL;
  /* what the grammar cannot say: names defined once, element counts
   * within bounds, every binding defined before it */
  if (!ane_mil_program_validate (program, path, error))
    {
      protobuf_c_message_free_unpacked (&program->base, NULL);
      return NULL;
    }
  /* The weights file the text names: weight.bin, or the weight-<hex>.bin
   * of a save_mil that replaced one (renamed back to weight.bin in the
   * program, which then saves like any other). */
  weights = ane_mlpackage_mil_weights_path (program, path, &offsets, error);
  if (weights == NULL)
    {
      protobuf_c_message_free_unpacked (&program->base, NULL);
      return NULL;
    }
  if (program->n_functions > 0)
    for (AneMilTarget t = ANE_MIL_IOS15; t <= ANE_MIL_IOS18; t++)
      if (g_strcmp0 (program->functions[0]->value->opset, ane_mil_target_opset (t)) == 0)
        target = t;

  model = ane_mlpackage_model_new (program, target, NULL, error);   /* owns program */
  if (model == NULL)
    return NULL;
  lowered = ane_lowered_new_from_model (model, NULL, 0);

  /* The weights become pending blobs at their own offsets: the package then
   * saves, prints and runs exactly as one lowered from a graph. */
  /* A text that reads weights needs its file now: found missing at run
   * time it would be a puzzle ("no blob at offset") far from its cause. */
  if (offsets->len > 0 && !g_file_test (weights, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                   "%s: the text reads %u weights from '%s', which does not exist",
                   path, offsets->len, weights);
      return NULL;
    }
  if (g_file_test (weights, G_FILE_TEST_EXISTS))
    {
      g_autoptr(AneMilBlobReader) reader = ane_milblob_reader_open (weights, error);
      g_autoptr(GArray) records = NULL;

      if (reader == NULL)
        return NULL;
      records = ane_milblob_reader_list (reader, error);
      if (records == NULL)
        return NULL;
      for (guint i = 0; i < records->len; i++)
        {
          AneMilBlobRecord *r = &g_array_index (records, AneMilBlobRecord, i);
          AneMilPendingBlob *blob = g_new0 (AneMilPendingBlob, 1);
          AneDType dtype = blob_storage_dtype (r->data_type);
          AneMilBlobRecord check;

          blob->source = ANE_MIL_BLOB_FROM_BYTES;
          blob->data = ane_milblob_reader_dup_data (reader, r->offset, &check, error);
          if (blob->data == NULL)
            {
              ane_mil_pending_blob_free (blob);
              return NULL;
            }
          blob->src_dtype = blob->dst_dtype = dtype;
          blob->n_elements = (gint64) (r->size / ane_dtype_size (dtype));
          blob->size = r->size;
          blob->offset = r->offset;
          blob->blob_type = r->data_type;
          ane_lowered_add_blob (lowered, blob);
        }
      lowered->weight_size = ane_milblob_reader_get_size (reader);
    }
  if (!check_weight_offsets (lowered->blobs, offsets, path, weights, error))
    return NULL;
  return package_new (NULL, g_steal_pointer (&lowered));
}

GBytes *
ane_package_read_blob (AnePackage  *self,
                       const char  *file_name,
                       guint64      offset,
                       GError     **error)
{
  return self->kind->read_blob (self, file_name, offset, error);
}

/**
 * ane_package_dup_weight_report:
 * @self: a package
 *
 * What lowering did with each GGUF block-quantized weight, one line per
 * weight: kept quantized on the device (int8 or int4 data with per-block
 * scales, dequantized by `constexpr_blockwise_shift_scale` when the model
 * loads: Q8_0 and Q4_0 at iOS18) or dequantized on the host to the compute
 * dtype when the package is written (every other case).
 *
 * Returns: (transfer full) (array zero-terminated=1): "name: how" lines;
 *   empty for a package without such weights or one loaded from disk
 */
char **
ane_package_dup_weight_report (AnePackage *self)
{
  GStrv notes;

  g_return_val_if_fail (ANE_IS_PACKAGE (self), NULL);
  notes = self->kind->weight_notes (self);
  return notes ? g_strdupv (notes) : g_new0 (char *, 1);
}

/* --- the two kinds ------------------------------------------------------------ */

static AneCoreMLModel *
loaded_model (AnePackage *self)
{
  return ane_mlpackage_get_model (self->pkg);
}

static const char *
loaded_path (AnePackage *self)
{
  return ane_mlpackage_get_path (self->pkg);
}

static guint64
loaded_weight_bytes (AnePackage *self)
{
  return ane_mlpackage_get_weight_bytes (self->pkg);
}

static void
loaded_limit_errors (AnePackage *self,
                     GPtrArray  *errors)
{
  GError *error = NULL;
  const char *model_path = ane_mlpackage_get_model_path (self->pkg);
  const char *weights_dir = ane_mlpackage_get_weights_dir (self->pkg);
  GStatBuf st;

  if (g_stat (model_path, &st) == 0 &&
      !ane_mlpackage_check_model_size ((guint64) st.st_size, &error))
    {
      g_prefix_error (&error, "%s: ", model_path);
      g_ptr_array_add (errors, g_steal_pointer (&error));
    }
  if (weights_dir)
    {
      g_autoptr(GDir) dir = g_dir_open (weights_dir, 0, NULL);
      const char *name;

      while (dir && (name = g_dir_read_name (dir)))
        {
          g_autofree char *file = g_build_filename (weights_dir, name, NULL);

          if (g_stat (file, &st) == 0 && S_ISREG (st.st_mode) &&
              !ane_mlpackage_check_weight_size ((guint64) st.st_size, file, &error))
            g_ptr_array_add (errors, g_steal_pointer (&error));
        }
    }
}

/* Written again: the same manifest entries, the model re-serialized, the
 * weight files and other items copied. */
static gboolean
loaded_save (AnePackage    *self,
             const char    *path,
             gboolean       overwrite,
             GCancellable  *cancellable,
             AneProgress   *progress,
             char         **warning,
             GError       **error)
{
  if (!ane_mlpackage_save_full (self->pkg, path, overwrite, progress, error))
    return FALSE;
  ane_mlpackage_sync_placed (path, warning);
  return TRUE;
}

/* The weight file copied beside the text, as it is. */
static gboolean
loaded_save_mil (AnePackage  *self,
                 const char  *path,
                 gboolean     overwrite,
                 const char  *text,
                 char       **warning,
                 GError     **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GBytes) weight_file = ane_mlpackage_get_weight_file (self->pkg, "@model_path/weights/weight.bin", &local);

  if (weight_file == NULL && !g_error_matches (local, ANE_ERROR, ANE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return ane_mlpackage_write_mil (path, overwrite, text, NULL, 0, NULL, NULL, weight_file, NULL, warning, error);
}

static GBytes *
loaded_read_blob (AnePackage  *self,
                  const char  *file_name,
                  guint64      offset,
                  GError     **error)
{
  AneMilBlobRecord record;

  return ane_mlpackage_dup_blob (self->pkg, file_name, offset, &record, error);
}

static GPtrArray *
loaded_pending_blobs (AnePackage *self,
                      guint64    *weight_size)
{
  if (weight_size)
    *weight_size = 0;
  return NULL;   /* its weights are written already */
}

static GStrv
loaded_weight_notes (AnePackage *self)
{
  return NULL;
}

static const PackageKind loaded_kind = {
  .model = loaded_model,
  .path = loaded_path,
  .weight_bytes = loaded_weight_bytes,
  .limit_errors = loaded_limit_errors,
  .save = loaded_save,
  .save_mil = loaded_save_mil,
  .read_blob = loaded_read_blob,
  .pending_blobs = loaded_pending_blobs,
  .weight_notes = loaded_weight_notes,
};

static AneCoreMLModel *
lowered_model (AnePackage *self)
{
  return self->lowered->model;
}

static const char *
lowered_path (AnePackage *self)
{
  return NULL;
}

static guint64
lowered_weight_bytes (AnePackage *self)
{
  return self->lowered->weight_bytes;
}

/* The sizes the files will have. */
static void
lowered_limit_errors (AnePackage *self,
                      GPtrArray  *errors)
{
  GError *error = NULL;

  if (!ane_mlpackage_check_model_size (protobuf_c_message_get_packed_size (&self->lowered->model->base), &error))
    g_ptr_array_add (errors, g_steal_pointer (&error));
  if (!ane_mlpackage_check_weight_size (self->lowered->weight_size, "weight.bin", &error))
    g_ptr_array_add (errors, g_steal_pointer (&error));
}

/* The weights streamed into the bundle, converted to their stored dtypes. */
static gboolean
lowered_save (AnePackage    *self,
              const char    *path,
              gboolean       overwrite,
              GCancellable  *cancellable,
              AneProgress   *progress,
              char         **warning,
              GError       **error)
{
  AneLowered *l = self->lowered;

  return ane_mlpackage_write_lowered_full (path, overwrite, l->model, l->blobs, l->weight_size,
                                           l->graph, l->params, cancellable, progress,
                                           self->source ? self->source->pkg : NULL, warning, error);
}

static gboolean
lowered_save_mil (AnePackage  *self,
                  const char  *path,
                  gboolean     overwrite,
                  const char  *text,
                  char       **warning,
                  GError     **error)
{
  AneLowered *l = self->lowered;

  return ane_mlpackage_write_mil (path, overwrite, text, l->blobs, l->weight_size, l->graph, l->params,
                                  NULL, NULL, warning, error);
}

static GBytes *
lowered_read_blob (AnePackage  *self,
                   const char  *file_name,
                   guint64      offset,
                   GError     **error)
{
  return ane_lowered_read_blob (self->lowered, file_name, offset, error);
}

static GPtrArray *
lowered_pending_blobs (AnePackage *self,
                       guint64    *weight_size)
{
  if (weight_size)
    *weight_size = self->lowered->weight_size;
  return self->lowered->blobs;
}

static GStrv
lowered_weight_notes (AnePackage *self)
{
  return self->lowered->notes;
}

static const PackageKind lowered_kind = {
  .model = lowered_model,
  .path = lowered_path,
  .weight_bytes = lowered_weight_bytes,
  .limit_errors = lowered_limit_errors,
  .save = lowered_save,
  .save_mil = lowered_save_mil,
  .read_blob = lowered_read_blob,
  .pending_blobs = lowered_pending_blobs,
  .weight_notes = lowered_weight_notes,
};
