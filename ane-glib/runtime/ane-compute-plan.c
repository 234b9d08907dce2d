/* ane-compute-plan.c: CoreML's per-operation device plan (MLComputePlan)
 *
 * Plain C: CoreML is reached only through the AneCoremlApi table
 * (runtime/coreml/ane-coreml-private.h). Where there is none (every
 * non-Apple build) or it has no compute_plan, the constructor fails with
 * ANE_ERROR_UNSUPPORTED. The Apple side (ane-coreml-plan.m) has never been
 * compiled or run on a Mac; see docs/coreml.md, "Per-op device plan".
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-tsan-private.h"

#include <string.h>

#include "ane-compute-plan.h"
#include "ane-enum-types.h"
#include "runtime/coreml/ane-coreml-private.h"

/**
 * AneComputePlan:
 *
 * Where CoreML means to run each operation of a model: for every operation
 * of its ML Program, the device CoreML prefers, the devices that support
 * it, and its estimated share of the model's cost, read from CoreML's
 * `MLComputePlan` (macOS 14.4 / iOS 17.4 or later).
 *
 * ```c
 * g_autoptr(GError) error = NULL;
 * g_autoptr(AneComputePlan) plan =
 *   ane_compute_plan_new_for_package ("model.mlpackage", ANE_COMPUTE_UNITS_ALL, NULL, &error);
 *
 * if (plan == NULL)
 *   g_printerr ("%s\n", error->message);   // ANE_ERROR_UNSUPPORTED off Apple
 * else
 *   for (guint i = 0; i < ane_compute_plan_get_n_operations (plan); i++)
 *     if (ane_compute_plan_get_preferred_device (plan, i) != ANE_COMPUTE_DEVICE_NEURAL_ENGINE)
 *       g_print ("%s (%s) is not on the Neural Engine\n",
 *                ane_compute_plan_get_operator_name (plan, i),
 *                ane_compute_plan_get_output_name (plan, i));
 * ```
 *
 * Operations are listed function by function (functions sorted by name),
 * each function's operations in program order; the operations of a nested
 * block (a loop's body, a conditional's branches) follow the operation
 * that holds it, one level deeper ([method@Ane.ComputePlan.get_depth]).
 *
 * CoreML does not give a device or a cost for every operation (constants,
 * for one): such an operation has [flags@Ane.ComputeDevice] `NONE` for its
 * devices and a cost of -1.
 *
 * On platforms without CoreML the constructors fail with
 * %ANE_ERROR_UNSUPPORTED. None of this has been run on a Mac yet: it was
 * tested against fake CoreML classes only.
 *
 * A plan is immutable once made: any number of threads may read it.
 */
struct _AneComputePlan
{
  GObject          parent_instance;

  AneComputeUnits  units;
  GPtrArray       *ops;   /* AneCoremlPlanOp */
};

G_DEFINE_FINAL_TYPE (AneComputePlan, ane_compute_plan, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_COMPUTE_UNITS,
  PROP_N_OPERATIONS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
ane_compute_plan_finalize (GObject *object)
{
  AneComputePlan *self = ANE_COMPUTE_PLAN (object);

  g_clear_pointer (&self->ops, g_ptr_array_unref);
  G_OBJECT_CLASS (ane_compute_plan_parent_class)->finalize (object);
}

static void
ane_compute_plan_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  AneComputePlan *self = ANE_COMPUTE_PLAN (object);

  switch (prop_id)
    {
    case PROP_COMPUTE_UNITS:
      g_value_set_enum (value, self->units);
      break;
    case PROP_N_OPERATIONS:
      g_value_set_uint (value, self->ops->len);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ane_compute_plan_class_init (AneComputePlanClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = ane_compute_plan_finalize;
  object_class->get_property = ane_compute_plan_get_property;

  /**
   * AneComputePlan:compute-units:
   *
   * The devices CoreML was allowed to plan for.
   */
  properties[PROP_COMPUTE_UNITS] =
    g_param_spec_enum ("compute-units", NULL, NULL, ANE_TYPE_COMPUTE_UNITS,
                       ANE_COMPUTE_UNITS_ALL, flags);
  /**
   * AneComputePlan:n-operations:
   *
   * The number of operations in the plan, nested ones included.
   */
  properties[PROP_N_OPERATIONS] =
    g_param_spec_uint ("n-operations", NULL, NULL, 0, G_MAXUINT, 0, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ane_compute_plan_init (AneComputePlan *self)
{
  self->ops = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_coreml_plan_op_free);
}

/* What @path is: a compiled model (used as it is) or a package to compile.
 * The check is here, not left to CoreML, so that a wrong path gives the
 * same error on every platform and never reaches Objective-C. */
static gboolean
check_path (const char *path,
            gboolean   *is_compiled,
            GError    **error)
{
  gboolean is_dir = g_file_test (path, G_FILE_TEST_IS_DIR);

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                   "compute plan: '%s' does not exist", path);
      return FALSE;
    }
  *is_compiled = is_dir && (g_str_has_suffix (path, ".mlmodelc") ||
                            g_str_has_suffix (path, ".mlmodelc/"));
  if (*is_compiled)
    return TRUE;
  if (is_dir)
    {
      g_autofree char *manifest = g_build_filename (path, "Manifest.json", NULL);

      if (g_file_test (manifest, G_FILE_TEST_IS_REGULAR))
        return TRUE;
    }
  else if (g_str_has_suffix (path, ".mlmodel"))
    return TRUE;
  g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
               "compute plan: '%s' is not a CoreML model (an .mlpackage directory with a "
               "Manifest.json, an .mlmodel file or a compiled .mlmodelc directory)", path);
  return FALSE;
}

/**
 * ane_compute_plan_new_for_package:
 * @path: an `.mlpackage` directory, an `.mlmodel` file, or a compiled
 *   `.mlmodelc` directory
 * @units: the devices CoreML may plan for
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Asks CoreML where it would run each operation of the model at @path.
 *
 * A package is first compiled by CoreML into a `.mlmodelc`, kept in a
 * cache under [func@GLib.get_user_cache_dir] (`ane-glib/coreml/`, named by
 * the SHA-256 of the package's content, so an unchanged package is not
 * compiled again); a `.mlmodelc` directory is used as it is. The plan is
 * then loaded with `MLComputePlan` for @units.
 *
 * Fails with %ANE_ERROR_NOT_FOUND when @path does not exist,
 * %ANE_ERROR_INVALID_ARGUMENT when it is not a CoreML model,
 * %ANE_ERROR_UNSUPPORTED where there is no CoreML or it has no
 * `MLComputePlan` (before macOS 14.4 / iOS 17.4) or the model is not an ML
 * Program, %G_IO_ERROR_CANCELLED when cancelled, and %ANE_ERROR_FAILED with
 * CoreML's message when CoreML fails.
 *
 * Returns: (transfer full): the plan, or %NULL on error
 */
AneComputePlan *
ane_compute_plan_new_for_package (const char      *path,
                                  AneComputeUnits  units,
                                  GCancellable    *cancellable,
                                  GError         **error)
{
  const AneCoremlApi *api;
  g_autofree char *compiled = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  AneComputePlan *self;
  gboolean is_compiled = FALSE;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if ((guint) units > ANE_COMPUTE_UNITS_CPU_AND_NE)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "compute plan: unknown compute units %d", (int) units);
      return NULL;
    }
  if (!check_path (path, &is_compiled, error))
    return NULL;

  api = ane_coreml_api_get ();
  if (api == NULL || api->compute_plan == NULL || (!is_compiled && api->compile == NULL))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "MLComputePlan needs CoreML.framework on macOS 14.4 / iOS 17.4 or later; "
                   "this platform has none (compute plan of '%s')", path);
      return NULL;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  if (is_compiled)
    compiled = g_strdup (path);
  else
    {
      g_autofree char *cache = ane_coreml_cache_dir ();

      compiled = api->compile (path, cache, NULL, error);
      if (compiled == NULL)
        return NULL;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  ops = api->compute_plan (compiled, units, error);
  if (ops == NULL)
    return NULL;

  self = g_object_new (ANE_TYPE_COMPUTE_PLAN, NULL);
  self->units = units;
  g_ptr_array_extend_and_steal (self->ops, g_steal_pointer (&ops));
  return self;
}

typedef struct {
  char            *path;
  AneComputeUnits  units;
} NewData;

static void
new_data_free (NewData *data)
{
  g_free (data->path);
  g_free (data);
}

static void
new_thread (GTask        *task,
            gpointer      source,
            gpointer      task_data,
            GCancellable *cancellable)
{
  NewData *data = task_data;
  GError *error = NULL;
  AneComputePlan *plan;

  ane_task_thread_begin (task);
  (void) source;
  plan = ane_compute_plan_new_for_package (data->path, data->units, cancellable, &error);
  ane_task_thread_end (task);
  if (plan != NULL)
    g_task_return_pointer (task, plan, g_object_unref);
  else
    g_task_return_error (task, error);
}

/**
 * ane_compute_plan_new_for_package_async:
 * @path: an `.mlpackage` directory, an `.mlmodel` file, or a compiled
 *   `.mlmodelc` directory
 * @units: the devices CoreML may plan for
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the plan is ready or has failed
 * @user_data: data for @callback
 *
 * Does what [ctor@Ane.ComputePlan.new_for_package] does (compiling the
 * package may take seconds) in a worker thread; finish with
 * [ctor@Ane.ComputePlan.new_for_package_finish].
 */
void
ane_compute_plan_new_for_package_async (const char          *path,
                                        AneComputeUnits      units,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  NewData *data;

  g_return_if_fail (path != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  data = g_new0 (NewData, 1);
  data->path = g_strdup (path);
  data->units = units;
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ane_compute_plan_new_for_package_async);
  g_task_set_task_data (task, data, (GDestroyNotify) new_data_free);
  ane_task_run_in_thread (task, new_thread);
}

/**
 * ane_compute_plan_new_for_package_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@Ane.ComputePlan.new_for_package_async]: the plan, or the
 * error [ctor@Ane.ComputePlan.new_for_package] would have given.
 *
 * Returns: (transfer full): the plan, or %NULL on error
 */
AneComputePlan *
ane_compute_plan_new_for_package_finish (GAsyncResult  *result,
                                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ane_compute_plan_new_for_package_async, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ane_task_finish_begin (result);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ane_compute_plan_get_compute_units:
 * @self: a plan
 *
 * The compute units the plan was made for: the same model can be planned
 * differently for each.
 *
 * Returns: the devices CoreML was allowed to plan for
 */
AneComputeUnits
ane_compute_plan_get_compute_units (AneComputePlan *self)
{
  g_return_val_if_fail (ANE_IS_COMPUTE_PLAN (self), ANE_COMPUTE_UNITS_ALL);

  return self->units;
}

/**
 * ane_compute_plan_get_n_operations:
 * @self: a plan
 *
 * The number of operations, indices for the per-operation getters.
 *
 * Returns: the number of operations, nested ones included
 */
guint
ane_compute_plan_get_n_operations (AneComputePlan *self)
{
  g_return_val_if_fail (ANE_IS_COMPUTE_PLAN (self), 0);

  return self->ops->len;
}

static const AneCoremlPlanOp *
op_at (AneComputePlan *self,
       guint           index)
{
  return g_ptr_array_index (self->ops, index);
}

/**
 * ane_compute_plan_get_function:
 * @self: a plan
 * @index: the operation, below [method@Ane.ComputePlan.get_n_operations]
 *
 * The program function the operation belongs to.
 *
 * Returns: (transfer none): the name of the program function the operation
 *   belongs to, e.g. "main"
 */
const char *
ane_compute_plan_get_function (AneComputePlan *self,
                               guint           index)
{
  g_return_val_if_fail (ANE_IS_COMPUTE_PLAN (self), NULL);
  g_return_val_if_fail (index < self->ops->len, NULL);

  return op_at (self, index)->function;
}

/**
 * ane_compute_plan_get_operator_name:
 * @self: a plan
 * @index: the operation, below [method@Ane.ComputePlan.get_n_operations]
 *
 * The operation's MIL operator (`MLModelStructureProgramOperation.operatorName`).
 *
 * Returns: (transfer none): the MIL operator, e.g. "conv" or "linear"
 */
const char *
ane_compute_plan_get_operator_name (AneComputePlan *self,
                                    guint           index)
{
  g_return_val_if_fail (ANE_IS_COMPUTE_PLAN (self), NULL);
  g_return_val_if_fail (index < self->ops->len, NULL);

  return op_at (self, index)->operator_name;
}

/**
 * ane_compute_plan_get_output_name:
 * @self: a plan
 * @index: the operation, below [method@Ane.ComputePlan.get_n_operations]
 *
 * The name of the operation's first output: the name the MIL program
 * gives the value, which tells operations of the same operator apart.
 *
 * Returns: (transfer none): the name, or "" when the operation has no output
 */
const char *
ane_compute_plan_get_output_name (AneComputePlan *self,
                                  guint           index)
{
  g_return_val_if_fail (ANE_IS_COMPUTE_PLAN (self), NULL);
  g_return_val_if_fail (index < self->ops->len, NULL);

  return op_at (self, index)->output_name;
}

/**
 * ane_compute_plan_get_depth:
 * @self: a plan
 * @index: the operation, below [method@Ane.ComputePlan.get_n_operations]
 *
 * How deeply the operation is nested in blocks of other operations.
 *
 * Returns: 0 for an operation of a function's block, 1 for one in a block
 *   nested in such an operation (a loop body, a conditional branch), and so on
 */
guint
ane_compute_plan_get_depth (AneComputePlan *self,
                            guint           index)
{
  g_return_val_if_fail (ANE_IS_COMPUTE_PLAN (self), 0);
  g_return_val_if_fail (index < self->ops->len, 0);

  return op_at (self, index)->depth;
}

/**
 * ane_compute_plan_get_preferred_device:
 * @self: a plan
 * @index: the operation, below [method@Ane.ComputePlan.get_n_operations]
 *
 * The device CoreML would run the operation on (`MLComputePlanDeviceUsage.preferredComputeDevice`).
 *
 * Returns: the one device CoreML prefers for the operation, or
 *   %ANE_COMPUTE_DEVICE_NONE when CoreML did not say (or named a device
 *   kind this library does not know)
 */
AneComputeDevice
ane_compute_plan_get_preferred_device (AneComputePlan *self,
                                       guint           index)
{
  g_return_val_if_fail (ANE_IS_COMPUTE_PLAN (self), ANE_COMPUTE_DEVICE_NONE);
  g_return_val_if_fail (index < self->ops->len, ANE_COMPUTE_DEVICE_NONE);

  return (AneComputeDevice) op_at (self, index)->preferred;
}

/**
 * ane_compute_plan_get_supported_devices:
 * @self: a plan
 * @index: the operation, below [method@Ane.ComputePlan.get_n_operations]
 *
 * The devices that could run the operation (`MLComputePlanDeviceUsage.supportedComputeDevices`).
 *
 * Returns: every device that can run the operation, or
 *   %ANE_COMPUTE_DEVICE_NONE when CoreML did not say
 */
AneComputeDevice
ane_compute_plan_get_supported_devices (AneComputePlan *self,
                                        guint           index)
{
  g_return_val_if_fail (ANE_IS_COMPUTE_PLAN (self), ANE_COMPUTE_DEVICE_NONE);
  g_return_val_if_fail (index < self->ops->len, ANE_COMPUTE_DEVICE_NONE);

  return (AneComputeDevice) op_at (self, index)->supported;
}

/**
 * ane_compute_plan_get_cost:
 * @self: a plan
 * @index: the operation, below [method@Ane.ComputePlan.get_n_operations]
 *
 * CoreML's estimate of the operation's share of the work of one run of
 * the whole model (`MLComputePlanCost.weight`).
 *
 * Returns: a fraction between 0 and 1, or -1 when CoreML gave no estimate
 */
double
ane_compute_plan_get_cost (AneComputePlan *self,
                           guint           index)
{
  g_return_val_if_fail (ANE_IS_COMPUTE_PLAN (self), -1.0);
  g_return_val_if_fail (index < self->ops->len, -1.0);

  return op_at (self, index)->cost;
}

static const struct {
  AneComputeDevice device;
  const char      *name;
} device_names[] = {
  { ANE_COMPUTE_DEVICE_CPU, "cpu" },
  { ANE_COMPUTE_DEVICE_GPU, "gpu" },
  { ANE_COMPUTE_DEVICE_NEURAL_ENGINE, "neural-engine" },
};

static void
append_devices (GString *s,
                guint    devices)
{
  gboolean first = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (device_names); i++)
    if (devices & device_names[i].device)
      {
        g_string_append_printf (s, "%s%s", first ? "" : ",", device_names[i].name);
        first = FALSE;
      }
  if (first)
    g_string_append_c (s, '-');
}

/* Cost with 4 decimals, a '.' whatever the locale (the tool sets one). */
static void
append_cost (GString *s,
             double   cost)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (cost < 0)
    g_string_append_c (s, '-');
  else
    g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.4f", cost));
}

static void
append_padded (GString    *s,
               const char *text,
               gsize       width)
{
  gsize len = strlen (text);

  g_string_append (s, text);
  for (gsize i = len; i < width + 2; i++)
    g_string_append_c (s, ' ');
}

/**
 * ane_compute_plan_to_string:
 * @self: a plan
 *
 * Describes the plan as text: a header line, one line per operation
 * (function, index, operator indented by its depth, first output, preferred
 * device, supported devices, cost; "-" where CoreML gave nothing), then per
 * preferred device the number of operations and the sum of their costs.
 *
 * Returns: (transfer full): the description
 */
char *
ane_compute_plan_to_string (AneComputePlan *self)
{
  GString *s;
  g_autofree char **cells = NULL;
  const char *headers[] = { "function", "#", "operator", "output", "preferred", "supported", "cost" };
  enum { N_COLS = G_N_ELEMENTS (headers) };
  gsize width[N_COLS];
  guint n, count[G_N_ELEMENTS (device_names) + 1] = { 0 };
  double total[G_N_ELEMENTS (device_names) + 1] = { 0 };
  g_autoptr(GEnumClass) units_class = NULL;
  GEnumValue *units_value;

  g_return_val_if_fail (ANE_IS_COMPUTE_PLAN (self), NULL);

  /* Cells first, so that every column is as wide as its widest cell. */
  n = self->ops->len;
  cells = g_new0 (char *, (gsize) n * N_COLS + 1);
  for (guint c = 0; c < N_COLS; c++)
    width[c] = strlen (headers[c]);
  for (guint i = 0; i < n; i++)
    {
      const AneCoremlPlanOp *op = op_at (self, i);
      g_autoptr(GString) dev = g_string_new (NULL);
      g_autoptr(GString) cost = g_string_new (NULL);
      g_autoptr(GString) indent = g_string_new (NULL);
      char **row = cells + (gsize) i * N_COLS;
      guint slot = G_N_ELEMENTS (device_names);

      for (guint d = 0; d < op->depth; d++)
        g_string_append (indent, "  ");
      row[0] = g_strdup (op->function);
      row[1] = g_strdup_printf ("%u", i);
      row[2] = g_strconcat (indent->str, op->operator_name, NULL);
      row[3] = g_strdup (op->output_name[0] ? op->output_name : "-");
      append_devices (dev, op->preferred);
      row[4] = g_strdup (dev->str);
      g_string_truncate (dev, 0);
      append_devices (dev, op->supported);
      row[5] = g_strdup (dev->str);
      append_cost (cost, op->cost);
      row[6] = g_strdup (cost->str);
      for (guint c = 0; c < N_COLS; c++)
        width[c] = MAX (width[c], strlen (row[c]));

      for (guint d = 0; d < G_N_ELEMENTS (device_names); d++)
        if (op->preferred == device_names[d].device)
          slot = d;
      count[slot]++;
      if (op->cost >= 0)
        total[slot] += op->cost;
    }

  s = g_string_new (NULL);
  for (guint c = 0; c < N_COLS; c++)
    append_padded (s, headers[c], c + 1 < N_COLS ? width[c] : 0);
  g_strchomp (s->str);
  s->len = strlen (s->str);
  g_string_append_c (s, '\n');
  for (guint i = 0; i < n; i++)
    {
      for (guint c = 0; c < N_COLS; c++)
        {
          append_padded (s, cells[(gsize) i * N_COLS + c], c + 1 < N_COLS ? width[c] : 0);
          g_free (cells[(gsize) i * N_COLS + c]);
        }
      g_strchomp (s->str);
      s->len = strlen (s->str);
      g_string_append_c (s, '\n');
    }

  units_class = g_type_class_ref (ANE_TYPE_COMPUTE_UNITS);
  units_value = g_enum_get_value (units_class, self->units);
  g_string_append_printf (s, "\n%u operations, compute units %s; by preferred device (operations, estimated cost):\n",
                          n, units_value != NULL ? units_value->value_nick : "?");
  for (guint d = 0; d <= G_N_ELEMENTS (device_names); d++)
    {
      g_string_append_printf (s, "  %-14s %6u  ",
                              d < G_N_ELEMENTS (device_names) ? device_names[d].name : "none",
                              count[d]);
      append_cost (s, total[d]);
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}
