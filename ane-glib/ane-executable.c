/* ane-executable.c: compile / set_param / run over a backend
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-tsan-private.h"

#include <unistd.h>

#include "ane-package-private.h"
#include "ane-progress-private.h"
#include "ane-tensor-private.h"
#include "mil/ane-mlpackage-private.h"
#include "runtime/ane-program-private.h"
#include "ane-executable-private.h"

/**
 * AneExecutable:
 *
 * A graph prepared to run on a backend.
 *
 * ```c
 * g_autoptr(AneExecutable) exe = ane_executable_new (graph, ANE_BACKEND_REFERENCE);
 * if (!ane_executable_compile (exe, NULL, &error))
 *   return FALSE;
 * ane_executable_set_param (exe, "w", weights, &error);
 * g_autoptr(GPtrArray) outputs = ane_executable_run (exe, inputs, n_inputs, NULL, &error);
 * ```
 *
 * Inputs are matched to the graph's inputs by name; outputs come back in the
 * graph's output order, named by their output names. Params bound with
 * [method@Ane.Executable.set_param] override values baked into the graph.
 * States (see [method@Ane.Graph.state]) keep their value from one run to the
 * next; a failed run leaves them as they were.
 *
 * The executable takes a reference on the graph; change the graph after
 * compiling and the executable keeps running the graph as it was compiled
 * only in what it has cached -- recompile to be safe.
 *
 * Buffers: [method@Ane.Executable.new_buffer], [method@Ane.Executable.bind]
 * and [method@Ane.Executable.run_bound] run on memory in the backend's own
 * layout without copies; [method@Ane.Executable.load] and
 * [method@Ane.Executable.unload] hold and release device memory
 * (docs/buffers.md).
 *
 * Threads: run, run_async, run_bound, compile, set_param, set_state,
 * dup_state, reset_states, bind, load and unload may be called from any
 * thread at any time; one executable
 * runs one program at a time (runs are serialized, and each sees whole
 * params and states), so use one executable per thread to run in parallel.
 * The settings (target, precision, compute units, memory budget,
 * debug_nonfinite, MIL dialect) are read by compile: set them before, not while another
 * thread compiles. Memory: a program that would hold more than
 * [method@Ane.Executable.set_memory_budget] allows fails to compile
 * (docs/safety.md).
 */
struct _AneExecutable
{
  GObject     parent_instance;

  AneGraph   *graph;
  AneBackend  backend;
  gboolean    compiled;
  GHashTable *params;   /* name -> AneTensor */
  GHashTable *states;   /* name -> AneTensor */
  GMutex      lock;     /* serializes runs: states are shared */

  AneTarget      target;      /* what the MIL backends lower for */
  AnePrecision   precision;
  AneComputeUnits compute_units;
  gboolean       debug_nonfinite;
  AneProgram    *program;     /* what the backend prepared (runtime/ane-program-private.h) */
  AneProgramOptions prepared; /* the settings it was prepared with */
  AnePackage    *package;     /* runs a package's program instead of a graph */
  char          *report;      /* how the backend was chosen */
  char          *function;
  gboolean       stale;       /* a param changed since the program was prepared */
  guint64        budget;      /* bytes a program may hold at once; 0: no limit */
  gboolean       quantize_activations;   /* CPU: 8-bit activations for GGUF Q8_0 / Q4_0 products */
  AneMilDialect *dialect;     /* the ANE backend's MIL text buildInfo; NULL: the default */
  guint64        serial;      /* tells this executable's buffers from others' */
  GHashTable    *bound;       /* name -> AneBuffer bound with ane_executable_bind */
  guint64        copied;      /* bytes copied by runs of programs since freed (ane_executable_get_copied) */
  guint          n_prepared;  /* programs prepared so far (ane_executable_get_n_prepared) */
  GPtrArray     *dynamic;     /* char*: the graph's dynamic params, as of the last preparation */
  GHashTable    *package_flex; /* input name -> AneShapeFlex*: a package's flexible inputs */
  GError        *package_flex_error; /* why its description's flexibility could not be read */
};

G_DEFINE_FINAL_TYPE (AneExecutable, ane_executable, G_TYPE_OBJECT)

static gboolean prepare_backend (AneExecutable *self, AneBackend backend,
                                 GCancellable *cancellable, GError **error);
static gboolean ane_executable_ensure_loaded (AneExecutable *self, GCancellable *cancellable, GError **error);
static void     ane_executable_clear_bound_states (AneExecutable *self);

/* What the runs of executables since freed copied, all together (for
 * tests of code that makes its own executables). */
static guint64 finished_copied;

static void
ane_executable_finalize (GObject *object)
{
  AneExecutable *self = ANE_EXECUTABLE (object);
  guint64 copied;

  /* the lock orders this read after the last run on another thread for
   * ThreadSanitizer (ane_mutex_lock is annotated; GObject's refcount is
   * not seen), and the add is an atomic it sees */
  ane_mutex_lock (&self->lock);
  copied = self->copied + (self->program != NULL ? self->program->copied : 0);
  ane_mutex_unlock (&self->lock);
  __atomic_fetch_add (&finished_copied, copied, __ATOMIC_RELAXED);
  g_clear_object (&self->graph);
  g_clear_pointer (&self->params, g_hash_table_unref);
  g_clear_pointer (&self->states, g_hash_table_unref);
  g_clear_pointer (&self->program, ane_program_free);
  g_clear_pointer (&self->bound, g_hash_table_unref);
  g_clear_pointer (&self->dynamic, g_ptr_array_unref);
  g_clear_pointer (&self->package_flex, g_hash_table_unref);
  g_clear_error (&self->package_flex_error);
  g_clear_pointer (&self->dialect, ane_mil_dialect_unref);
  g_clear_object (&self->package);
  g_free (self->function);
  g_free (self->report);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ane_executable_parent_class)->finalize (object);
}

enum {
  PROP_0,
  PROP_BACKEND,
  PROP_TARGET,
  PROP_PRECISION,
  PROP_COMPUTE_UNITS,
  PROP_MEMORY_BUDGET,
  PROP_QUANTIZE_ACTIVATIONS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
ane_executable_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  AneExecutable *self = ANE_EXECUTABLE (object);

  switch (prop_id)
    {
    case PROP_BACKEND:
      g_value_set_enum (value, ane_executable_get_backend (self));
      break;
    case PROP_TARGET:
      g_value_set_enum (value, ane_executable_get_target (self));
      break;
    case PROP_PRECISION:
      g_value_set_enum (value, ane_executable_get_precision (self));
      break;
    case PROP_COMPUTE_UNITS:
      g_value_set_enum (value, ane_executable_get_compute_units (self));
      break;
    case PROP_MEMORY_BUDGET:
      g_value_set_uint64 (value, ane_executable_get_memory_budget (self));
      break;
    case PROP_QUANTIZE_ACTIVATIONS:
      g_value_set_boolean (value, ane_executable_get_quantize_activations (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ane_executable_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  AneExecutable *self = ANE_EXECUTABLE (object);

  switch (prop_id)
    {
    case PROP_BACKEND:
      /* construct-only: the constructors set it again after g_object_new */
      self->backend = g_value_get_enum (value);
      break;
    case PROP_TARGET:
      ane_executable_set_target (self, g_value_get_enum (value));
      break;
    case PROP_PRECISION:
      ane_executable_set_precision (self, g_value_get_enum (value));
      break;
    case PROP_COMPUTE_UNITS:
      ane_executable_set_compute_units (self, g_value_get_enum (value));
      break;
    case PROP_MEMORY_BUDGET:
      ane_executable_set_memory_budget (self, g_value_get_uint64 (value));
      break;
    case PROP_QUANTIZE_ACTIVATIONS:
      ane_executable_set_quantize_activations (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ane_executable_class_init (AneExecutableClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = ane_executable_finalize;
  object_class->get_property = ane_executable_get_property;
  object_class->set_property = ane_executable_set_property;

  /**
   * AneExecutable:backend:
   *
   * Where the executable runs; set when it is made
   * ([ctor@Ane.Executable.new], [ctor@Ane.Executable.new_from_package_full]).
   * After compiling, %ANE_BACKEND_AUTO reads as the backend actually chosen
   * (see [method@Ane.Executable.dup_backend_report]); that resolution is not
   * notified: read the property after [method@Ane.Executable.compile].
   *
   * Since: 0.2
   */
  properties[PROP_BACKEND] =
    g_param_spec_enum ("backend", NULL, NULL, ANE_TYPE_BACKEND, ANE_BACKEND_AUTO,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY |
                       G_PARAM_STATIC_STRINGS);
  /**
   * AneExecutable:target: (setter set_target) (getter get_target)
   *
   * The deployment target the MIL backends lower for; takes effect at the
   * next compile. Notified only when it changes.
   *
   * Since: 0.2
   */
  properties[PROP_TARGET] =
    g_param_spec_enum ("target", NULL, NULL, ANE_TYPE_TARGET, ANE_TARGET_IOS18, rw);
  /**
   * AneExecutable:precision: (setter set_precision) (getter get_precision)
   *
   * The float type the lowered program computes in; takes effect at the
   * next compile. Notified only when it changes.
   *
   * Since: 0.2
   */
  properties[PROP_PRECISION] =
    g_param_spec_enum ("precision", NULL, NULL, ANE_TYPE_PRECISION, ANE_PRECISION_FLOAT16, rw);
  /**
   * AneExecutable:compute-units: (setter set_compute_units) (getter get_compute_units)
   *
   * The devices the CoreML backend lets CoreML.framework use; takes effect
   * at the next compile. Notified only when it changes.
   *
   * Since: 0.2
   */
  properties[PROP_COMPUTE_UNITS] =
    g_param_spec_enum ("compute-units", NULL, NULL, ANE_TYPE_COMPUTE_UNITS, ANE_COMPUTE_UNITS_ALL, rw);
  /**
   * AneExecutable:memory-budget: (setter set_memory_budget) (getter get_memory_budget)
   *
   * The most memory, in bytes, a program may hold at once (0: no limit);
   * starts at [func@Ane.Executable.default_memory_budget] and takes effect
   * at the next compile. Notified only when it changes.
   *
   * Since: 0.2
   */
  properties[PROP_MEMORY_BUDGET] =
    g_param_spec_uint64 ("memory-budget", NULL, NULL, 0, G_MAXUINT64, 0, rw);
  /**
   * AneExecutable:quantize-activations: (setter set_quantize_activations) (getter get_quantize_activations)
   *
   * Whether the CPU backend multiplies GGUF Q8_0, Q4_0 and Q4_K weights
   * by activations quantized to 8 bits, as llama.cpp does; see
   * [method@Ane.Executable.set_quantize_activations]. Takes effect at the
   * next compile. Notified only when it changes.
   *
   * Since: 0.2
   */
  properties[PROP_QUANTIZE_ACTIVATIONS] =
    g_param_spec_boolean ("quantize-activations", NULL, NULL, FALSE, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

/**
 * ane_executable_get_target:
 * @self: an executable
 *
 * The deployment target the MIL backends lower for (the
 * [property@Ane.Executable:target] property).
 *
 * Returns: the deployment target the MIL backends lower for
 *
 * Since: 0.2
 */
AneTarget
ane_executable_get_target (AneExecutable *self)
{
  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), ANE_TARGET_IOS18);
  return self->target;
}

/**
 * ane_executable_get_precision:
 * @self: an executable
 *
 * The float type the lowered program computes in (the
 * [property@Ane.Executable:precision] property).
 *
 * Returns: the float type the lowered program computes in
 *
 * Since: 0.2
 */
AnePrecision
ane_executable_get_precision (AneExecutable *self)
{
  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), ANE_PRECISION_FLOAT16);
  return self->precision;
}

/**
 * ane_executable_get_compute_units:
 * @self: an executable
 *
 * The devices the CoreML backend lets CoreML.framework use (the
 * [property@Ane.Executable:compute-units] property).
 *
 * Returns: the devices the CoreML backend may use
 *
 * Since: 0.2
 */
AneComputeUnits
ane_executable_get_compute_units (AneExecutable *self)
{
  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), ANE_COMPUTE_UNITS_ALL);
  return self->compute_units;
}

static void
ane_executable_init (AneExecutable *self)
{
  self->params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->bound = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  {
    static gint serials = 0;
    self->serial = (guint64) (guint) g_atomic_int_add (&serials, 1) + 1;
  }
  g_mutex_init (&self->lock);
  self->target = ANE_TARGET_IOS18;
  self->precision = ANE_PRECISION_FLOAT16;
  self->budget = ane_executable_default_memory_budget ();
  self->quantize_activations = g_strcmp0 (g_getenv ("ANE_CPU_QUANTIZE_ACTIVATIONS"), "1") == 0;
}

/**
 * ane_executable_default_memory_budget:
 *
 * The memory budget a new executable starts with: the value of the
 * environment variable `ANE_GLIB_MEMORY_BUDGET` (bytes, with an optional
 * `K`, `M` or `G` suffix for powers of 1024; `0` for no limit) when it is
 * set, else the machine's physical memory (a program needing more could
 * only be swapped to death or killed).
 *
 * Returns: the default budget in bytes; 0 means no limit
 */
guint64
ane_executable_default_memory_budget (void)
{
  const char *env = g_getenv ("ANE_GLIB_MEMORY_BUDGET");
  long pages = sysconf (_SC_PHYS_PAGES), page = sysconf (_SC_PAGESIZE);

  if (env != NULL && *env != '\0')
    {
      char *end = NULL;
      guint64 v = g_ascii_strtoull (env, &end, 10);
      guint shift = 0;

      if (end != env && end != NULL)
        {
          switch (g_ascii_toupper (*end))
            {
            case 'K': shift = 10; end++; break;
            case 'M': shift = 20; end++; break;
            case 'G': shift = 30; end++; break;
            default: break;
            }
          if (*end == '\0' && v <= (G_MAXUINT64 >> shift))
            return v << shift;
        }
      g_debug ("ANE_GLIB_MEMORY_BUDGET='%s' is not a size in bytes; using the machine's memory", env);
    }
  if (pages > 0 && page > 0)
    return (guint64) pages * (guint64) page;
  return G_GUINT64_CONSTANT (8) << 30;   /* an unknown machine: 8 GiB */
}

/**
 * ane_executable_set_memory_budget:
 * @self: an executable
 * @bytes: the most memory a program may hold at once; 0 for no limit
 *
 * Bounds what the program may allocate: the CPU backend adds up, before it
 * allocates anything, the bytes of every const, input and state and of the
 * intermediates alive at once (each element held as a float or an int32),
 * and the reference backend the values of every node (as doubles); a
 * program that would need more fails to compile with
 * %ANE_ERROR_TOO_LARGE naming the value that crosses the budget and its
 * size. It keeps a program from a file you did not write from taking the
 * process down. The default is [func@Ane.Executable.default_memory_budget];
 * kernels' own scratch memory is not counted. Takes effect at the next
 * compile (for an executable made from a package, too).
 */
void
ane_executable_set_memory_budget (AneExecutable *self,
                                  guint64        bytes)
{
  g_return_if_fail (ANE_IS_EXECUTABLE (self));
  if (self->budget == bytes)
    return;
  self->budget = bytes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MEMORY_BUDGET]);
}

/**
 * ane_executable_get_memory_budget:
 * @self: an executable
 *
 * The most memory a program of this executable may hold at once, as set by
 * [method@Ane.Executable.set_memory_budget] or taken from
 * [func@Ane.Executable.default_memory_budget].
 *
 * Returns: the memory budget in bytes (0: no limit)
 */
guint64
ane_executable_get_memory_budget (AneExecutable *self)
{
  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), 0);
  return self->budget;
}

/**
 * ane_executable_set_quantize_activations:
 * @self: an executable
 * @quantize: whether to quantize the activations of quantized products
 *
 * Trades Core ML's arithmetic for llama.cpp's speed on the CPU backend. A
 * product (linear, matmul, 1×1 conv) whose weight is a GGUF Q8_0, Q4_0 or
 * Q4_K tensor normally keeps its activations in float, as Core ML does,
 * and converts each weight to float. With this set, such products
 * quantize each block of 32 activations to 8 bits with a scale of its own
 * and sum the block's products in integers, as llama.cpp does, for every
 * product of such a weight (whose blocks are then regrouped 16 rows at a
 * time, once per process, in about the file's bytes; docs/cpu-backend.md,
 * "8-bit activations"). Q4_K weights are then ggml's own values (d · sc ·
 * q − dmin · m), which differ from the lowered program's by the rounding
 * of its offsets. The weights are unchanged;
 * each activation moves by up to half its block's step (max |x| / 254), so
 * the results differ from the float ones and from what Apple's runtime
 * computes. They do not depend on the thread count or the instruction
 * set.
 *
 * Off by default, or on when the environment variable
 * `ANE_CPU_QUANTIZE_ACTIVATIONS` is `1` as the executable is made. Other
 * weights and other backends are not affected. Takes effect at the next
 * compile.
 *
 * Since: 0.2
 */
void
ane_executable_set_quantize_activations (AneExecutable *self,
                                         gboolean       quantize)
{
  g_return_if_fail (ANE_IS_EXECUTABLE (self));
  quantize = !!quantize;
  if (self->quantize_activations == quantize)
    return;
  self->quantize_activations = quantize;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUANTIZE_ACTIVATIONS]);
}

/**
 * ane_executable_get_quantize_activations:
 * @self: an executable
 *
 * Whether the CPU backend quantizes the activations of GGUF Q8_0, Q4_0 and
 * Q4_K products (see [method@Ane.Executable.set_quantize_activations]).
 *
 * Returns: %TRUE when it does
 *
 * Since: 0.2
 */
gboolean
ane_executable_get_quantize_activations (AneExecutable *self)
{
  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), FALSE);
  return self->quantize_activations;
}

/**
 * ane_executable_new:
 * @graph: the graph to run
 * @backend: where to run it
 *
 * Creates an executable; call [method@Ane.Executable.compile] before running.
 *
 * Returns: (transfer full): a new executable
 */
AneExecutable *
ane_executable_new (AneGraph   *graph,
                    AneBackend  backend)
{
  AneExecutable *self;

  g_return_val_if_fail (ANE_IS_GRAPH (graph), NULL);

  self = g_object_new (ANE_TYPE_EXECUTABLE, NULL);
  self->graph = g_object_ref (graph);
  self->backend = backend;
  return self;
}

/* The settings a backend prepares a program with. */
static AneProgramOptions
current_options (AneExecutable *self)
{
  AneProgramOptions options = {
    .target = self->target,
    .precision = self->precision,
    .compute_units = self->compute_units,
    .params = self->package != NULL ? NULL : self->params,
    .budget = self->budget,
    .quantize_activations = self->quantize_activations,
    .dialect = self->dialect,
  };

  return options;
}

/* Frees the prepared program, keeping its count of copies. */
static void
drop_program (AneExecutable *self)
{
  if (self->program != NULL)
    self->copied += self->program->copied;
  g_clear_pointer (&self->program, ane_program_free);
}

/* Prepares backend's program for the graph and the bound params (or for the
 * package's function), replacing any program prepared before. The states
 * stay: they are the executable's. Called with the lock held. */
static gboolean
prepare (AneExecutable  *self,
         AneBackend      backend,
         GCancellable   *cancellable,
         GError        **error)
{
  AneProgramOptions options = current_options (self);
  AneProgram *program;

  program = ane_program_prepare (backend, self->package ? NULL : self->graph, self->package, self->function,
                                 &options, cancellable, error);
  if (program == NULL)
    return FALSE;
  drop_program (self);
  self->program = program;
  self->prepared = options;
  self->backend = backend;
  self->stale = FALSE;
  self->n_prepared++;
  /* the dynamic params every run feeds (add_dynamic_params): found once
   * here, not on each run */
  g_clear_pointer (&self->dynamic, g_ptr_array_unref);
  self->dynamic = g_ptr_array_new_with_free_func (g_free);
  for (guint id = 0; self->graph != NULL && id < ane_graph_get_n_nodes_internal (self->graph); id++)
    {
      const AneNode *node = ane_graph_get_node (self->graph, id);

      if (node->op->kind == ANE_OP_PARAM && ane_attrs_bool (node->attrs, "dynamic"))
        g_ptr_array_add (self->dynamic, g_strdup (node->name));
    }
  return TRUE;
}

guint
ane_executable_get_n_prepared (AneExecutable *self)
{
  guint n;

  ane_mutex_lock (&self->lock);
  n = self->n_prepared;
  ane_mutex_unlock (&self->lock);
  return n;
}

/**
 * ane_executable_new_from_package:
 * @package: a package (loaded, or made from a graph)
 * @function: (nullable): the function to run, or %NULL for the default one
 * @error: return location for a #GError
 *
 * Creates an executable that runs a package's program as it is, whoever
 * wrote the package (ane-glib or Apple's coremltools), on the CPU backend
 * (the interpreter of MIL programs). It is compiled already. Inputs,
 * outputs and states are those the function declares. See
 * [ctor@Ane.Executable.new_from_package_full] for other backends.
 *
 * Returns: (transfer full): the executable, or %NULL if the program cannot be prepared
 */
AneExecutable *
ane_executable_new_from_package (AnePackage  *package,
                                 const char  *function,
                                 GError     **error)
{
  return ane_executable_new_from_package_full (package, function, ANE_BACKEND_CPU, error);
}

/* The flexible inputs the package's description declares, read once: every
 * run checks its inputs against them (check_input), and a description that
 * cannot be read fails each run, as when it was read there. */
static void
read_package_flex (AneExecutable *self)
{
  g_autoptr(GPtrArray) inputs = ane_package_list_inputs (self->package, self->function, NULL);

  self->package_flex = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) ane_shape_flex_free);
  for (guint i = 0; inputs != NULL && i < inputs->len; i++)
    {
      const char *name = ane_tensor_get_name (g_ptr_array_index (inputs, i));
      g_autoptr(GError) local_error = NULL;
      AneShapeFlex *flex = ane_package_dup_input_flex (self->package, self->function, name, &local_error);

      if (local_error != NULL)
        {
          self->package_flex_error = g_steal_pointer (&local_error);
          return;
        }
      if (flex != NULL)
        g_hash_table_insert (self->package_flex, g_strdup (name), flex);
    }
}

/**
 * ane_executable_new_from_package_full:
 * @package: a package (loaded, or made from a graph)
 * @function: (nullable): the function to run, or %NULL for the default one
 * @backend: %ANE_BACKEND_CPU, %ANE_BACKEND_COREML or %ANE_BACKEND_AUTO
 * @error: return location for a #GError
 *
 * Creates an executable that runs a package's program as it is, compiled
 * already, on @backend: the CPU interpreter, or CoreML.framework (which
 * compiles the package, cached by content, and runs its default function
 * only). %ANE_BACKEND_AUTO takes CoreML where it is available and the CPU
 * otherwise; [method@Ane.Executable.dup_backend_report] says why. The
 * Neural Engine's in-memory path and the reference backend take graphs,
 * not packages (%ANE_ERROR_UNSUPPORTED).
 *
 * To give CoreML other compute units, call
 * [method@Ane.Executable.set_compute_units] then
 * [method@Ane.Executable.compile], which prepares the program again.
 *
 * Returns: (transfer full): the executable, or %NULL if the program cannot be prepared
 */
AneExecutable *
ane_executable_new_from_package_full (AnePackage  *package,
                                      const char  *function,
                                      AneBackend   backend,
                                      GError     **error)
{
  g_autoptr(AneExecutable) self = NULL;

  g_return_val_if_fail (ANE_IS_PACKAGE (package), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (ANE_TYPE_EXECUTABLE, NULL);
  self->package = g_object_ref (package);
  self->function = g_strdup (function ? function : ane_package_get_default_function (package));
  read_package_flex (self);
  if (!prepare_backend (self, backend, NULL, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * ane_executable_get_graph:
 * @self: an executable
 *
 * The graph this executable runs.
 *
 * Returns: (transfer none) (nullable): the graph, or %NULL for an executable made from a package
 */
AneGraph *
ane_executable_get_graph (AneExecutable *self)
{
  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), NULL);
  return self->graph;
}

/**
 * ane_executable_get_backend:
 * @self: an executable
 *
 * The backend; after compiling, %ANE_BACKEND_AUTO has been resolved to the
 * backend actually used.
 *
 * Returns: the backend
 */
AneBackend
ane_executable_get_backend (AneExecutable *self)
{
  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), ANE_BACKEND_REFERENCE);
  return self->backend;
}

/**
 * ane_executable_is_compiled:
 * @self: an executable
 *
 * Whether the executable is ready to run.
 *
 * Returns: %TRUE once [method@Ane.Executable.compile] succeeded
 */
gboolean
ane_executable_is_compiled (AneExecutable *self)
{
  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), FALSE);
  return self->compiled;
}

/**
 * ane_executable_set_target:
 * @self: an executable, not yet compiled
 * @target: the deployment target to lower for
 *
 * Sets the target the MIL backends (CPU, CoreML, ANE) lower the graph for;
 * the default is %ANE_TARGET_IOS18. Takes effect at the next compile.
 */
void
ane_executable_set_target (AneExecutable *self,
                           AneTarget      target)
{
  g_return_if_fail (ANE_IS_EXECUTABLE (self));
  if (self->target == target)
    return;
  self->target = target;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TARGET]);
}

/**
 * ane_executable_set_mil_dialect:
 * @self: an executable
 * @dialect: (nullable): the dialect, or %NULL for [ctor@Ane.MilDialect.new]'s
 *
 * Sets the `buildInfo` dictionary of the MIL text the %ANE_BACKEND_ANE
 * backend (also under %ANE_BACKEND_AUTO) hands the Neural Engine's private
 * compile path. The executable keeps a copy: changing @dialect afterwards
 * does not change it. Takes effect at the next compile; other backends do
 * not use it.
 *
 * Since: 0.2
 */
void
ane_executable_set_mil_dialect (AneExecutable *self,
                                AneMilDialect *dialect)
{
  g_return_if_fail (ANE_IS_EXECUTABLE (self));
  g_clear_pointer (&self->dialect, ane_mil_dialect_unref);
  if (dialect != NULL)
    self->dialect = ane_mil_dialect_copy (dialect);
}

/**
 * ane_executable_dup_mil_dialect:
 * @self: an executable
 *
 * The dialect of the MIL text the %ANE_BACKEND_ANE backend compiles (see
 * [method@Ane.Executable.set_mil_dialect]).
 *
 * Returns: (transfer full): a copy of the dialect (the default one when none
 *   was set)
 *
 * Since: 0.2
 */
AneMilDialect *
ane_executable_dup_mil_dialect (AneExecutable *self)
{
  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), NULL);
  return self->dialect != NULL ? ane_mil_dialect_copy (self->dialect) : ane_mil_dialect_new ();
}

/**
 * ane_executable_set_precision:
 * @self: an executable, not yet compiled
 * @precision: the compute precision
 *
 * Sets the float type the lowered program computes in; the default is
 * %ANE_PRECISION_FLOAT16, as on the device. Takes effect at the next compile.
 */
void
ane_executable_set_precision (AneExecutable *self,
                              AnePrecision   precision)
{
  g_return_if_fail (ANE_IS_EXECUTABLE (self));
  if (self->precision == precision)
    return;
  self->precision = precision;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRECISION]);
}

/**
 * ane_executable_set_compute_units:
 * @self: an executable, not yet compiled
 * @units: the devices CoreML may use
 *
 * Sets which devices the CoreML backend lets CoreML.framework plan the
 * program's operations on; the default is %ANE_COMPUTE_UNITS_ALL. Other
 * backends ignore it. Takes effect at the next compile.
 */
void
ane_executable_set_compute_units (AneExecutable   *self,
                                  AneComputeUnits  units)
{
  g_return_if_fail (ANE_IS_EXECUTABLE (self));
  g_return_if_fail (units <= ANE_COMPUTE_UNITS_CPU_AND_NE);
  if (self->compute_units == units)
    return;
  self->compute_units = units;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPUTE_UNITS]);
}

/**
 * ane_executable_set_debug_nonfinite:
 * @self: an executable
 * @enabled: whether to check
 *
 * When enabled, the CPU backend checks every operation's result and fails
 * the run at the first one producing inf or NaN, naming it: the way to find
 * where a float16 program overflows.
 */
void
ane_executable_set_debug_nonfinite (AneExecutable *self,
                                    gboolean       enabled)
{
  g_return_if_fail (ANE_IS_EXECUTABLE (self));
  self->debug_nonfinite = enabled;
}


/* An explicit backend: weights may be bound after compiling; when the
 * program lowered but a param's bytes are missing, it is prepared at the
 * first run instead. */
static gboolean
prepare_or_defer (AneExecutable  *self,
                  AneBackend      backend,
                  GCancellable   *cancellable,
                  GError        **error)
{
  g_autoptr(GError) local = NULL;

  if (prepare (self, backend, cancellable, &local))
    return TRUE;
  if (g_error_matches (local, ANE_ERROR, ANE_ERROR_MISSING_PARAM))
    {
      drop_program (self);
      self->stale = TRUE;
      return TRUE;
    }
  g_propagate_prefixed_error (error, g_steal_pointer (&local), "backend '%s': ", ane_backend_get_name (backend));
  return FALSE;
}

static char *
report_line (AneExecutable *self,
             AneBackend     backend)
{
  const char *name = ane_backend_get_name (backend);

  if (self->program != NULL && ane_program_get_detail (self->program) != NULL)
    return g_strdup_printf ("%s: selected: %s\n", name, ane_program_get_detail (self->program));
  if (self->stale)
    return g_strdup_printf ("%s: selected: prepared at the first run (a param has no value yet)\n", name);
  return g_strdup_printf ("%s: selected\n", name);
}

/* AUTO: the Neural Engine's in-memory path, then CoreML, then the CPU
 * interpreter; each one passed over is recorded with the reason
 * (ane_executable_dup_backend_report). Called with the lock held. */
static gboolean
choose_backend (AneExecutable  *self,
                GCancellable   *cancellable,
                GError        **error)
{
  static const AneBackend order[] = { ANE_BACKEND_ANE, ANE_BACKEND_COREML };
  g_autoptr(GString) report = g_string_new (NULL);
  g_autofree char *line = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      g_autoptr(GError) local = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (prepare (self, order[i], cancellable, &local))
        {
          line = report_line (self, order[i]);
          g_string_append (report, line);
          g_free (self->report);
          self->report = g_string_free (g_steal_pointer (&report), FALSE);
          return TRUE;
        }
      g_string_append_printf (report, "%s: passed over: %s\n", ane_backend_get_name (order[i]), local->message);
    }
  if (!prepare_or_defer (self, ANE_BACKEND_CPU, cancellable, error))
    return FALSE;
  self->backend = ANE_BACKEND_CPU;
  line = report_line (self, ANE_BACKEND_CPU);
  g_string_append (report, line);
  g_free (self->report);
  self->report = g_string_free (g_steal_pointer (&report), FALSE);
  return TRUE;
}

/* Compiles for backend (AUTO: chooses), writing the report. */
static gboolean
prepare_backend (AneExecutable  *self,
                 AneBackend      backend,
                 GCancellable   *cancellable,
                 GError        **error)
{
  gboolean ok;

  ane_mutex_lock (&self->lock);
  g_clear_pointer (&self->report, g_free);
  ok = backend == ANE_BACKEND_AUTO ? choose_backend (self, cancellable, error)
                                   : prepare_or_defer (self, backend, cancellable, error);
  if (ok && self->report == NULL)
    self->report = report_line (self, self->backend);
  self->compiled = ok;
  ane_mutex_unlock (&self->lock);
  return ok;
}

/**
 * ane_executable_compile:
 * @self: an executable
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Validates the graph and prepares it for the backend.
 *
 * Returns: %TRUE on success
 */
gboolean
ane_executable_compile (AneExecutable  *self,
                        GCancellable   *cancellable,
                        GError        **error)
{
  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  /* A package's program was prepared when made, and does not change:
   * prepare it again only for new settings (compute units, a budget). A
   * graph may have changed since: always again. */
  if (self->package != NULL && self->program != NULL && !self->stale)
    {
      AneProgramOptions now = current_options (self);

      if (now.target == self->prepared.target && now.precision == self->prepared.precision &&
          now.compute_units == self->prepared.compute_units && now.budget == self->prepared.budget &&
          now.quantize_activations == self->prepared.quantize_activations)
        return TRUE;
    }
  if (self->graph != NULL && !ane_graph_validate (self->graph, error))
    return FALSE;
  return prepare_backend (self, self->backend, cancellable, error);
}

/**
 * ane_executable_dup_backend_report:
 * @self: an executable
 *
 * How the backend was chosen, one line per backend considered: for
 * %ANE_BACKEND_AUTO, each backend passed over with the reason, then the one
 * selected. Empty before compiling.
 *
 * Returns: (transfer full): the report
 */
char *
ane_executable_dup_backend_report (AneExecutable *self)
{
  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), NULL);
  return g_strdup (self->report ? self->report : "");
}

static void
compile_thread (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GError *error = NULL;
  gboolean ok;

  ane_task_thread_begin (task);
  ok = ane_executable_compile (source, cancellable, &error);
  ane_task_thread_end (task);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * ane_executable_compile_async:
 * @self: an executable
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when compiling is done
 * @user_data: data for @callback
 *
 * Compiles in a worker thread; finish with
 * [method@Ane.Executable.compile_finish].
 */
void
ane_executable_compile_async (AneExecutable       *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (ANE_IS_EXECUTABLE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ane_executable_compile_async);
  ane_task_run_in_thread (task, compile_thread);
}

/**
 * ane_executable_compile_finish:
 * @self: an executable
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Ane.Executable.compile_async].
 *
 * Returns: %TRUE if compiling succeeded
 */
gboolean
ane_executable_compile_finish (AneExecutable  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ane_executable_compile_async, FALSE);
  ane_task_finish_begin (result);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * ane_executable_compile_full:
 * @self: an executable
 * @progress: (nullable): an [class@Ane.Progress] to report to and cancel with
 * @error: return location for a #GError
 *
 * Compiles as [method@Ane.Executable.compile] does, with the cancellable of
 * @progress, reporting the stage "compiling" as it starts and a fraction of
 * 1.0 when it succeeded. A cancelled @progress fails with
 * %G_IO_ERROR_CANCELLED.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
ane_executable_compile_full (AneExecutable  *self,
                             AneProgress    *progress,
                             GError        **error)
{
  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), FALSE);
  g_return_val_if_fail (progress == NULL || ANE_IS_PROGRESS (progress), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* The backends prepare in one step each, with no finer point to report
   * from: the start and the end are what is known. */
  ane_progress_begin (progress);
  if (!ane_progress_report (progress, ANE_PROGRESS_STAGE_COMPILING, 0.0, 0, 0, error) ||
      !ane_executable_compile (self, ane_progress_cancellable (progress), error))
    return FALSE;
  ane_progress_finish (progress);
  return TRUE;
}

/**
 * ane_executable_set_param:
 * @self: an executable
 * @name: a param's name
 * @value: a concrete tensor with the param's dtype and shape
 * @error: return location for a #GError
 *
 * Binds a param's value for later runs (the graph is left unchanged).
 *
 * Returns: %TRUE on success
 */
gboolean
ane_executable_set_param (AneExecutable  *self,
                          const char     *name,
                          AneTensor      *value,
                          GError        **error)
{
  const AneNode *node;

  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (ANE_IS_TENSOR (value), FALSE);

  if (self->graph == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "set_param: '%s': a package's weights are fixed in its program", name);
      return FALSE;
    }
  node = ane_graph_find_node (self->graph, name);
  if (node == NULL || node->op->kind != ANE_OP_PARAM)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "set_param: no param named '%s'", name);
      return FALSE;
    }
  if (!ane_tensor_check_spec (value, &node->outputs[0], error, "set_param: param '%s'", name))
    return FALSE;
  ane_mutex_lock (&self->lock);
  g_hash_table_replace (self->params, g_strdup (name), ane_tensor_rename (value, name));
  /* The prepared program holds the weights: prepare it again before the
   * next run. A dynamic param needs no such step: it is an input of the
   * program, fed from the table at every run (add_dynamic_params). */
  if (self->program != NULL && !ane_attrs_bool (node->attrs, "dynamic") &&
      !ane_program_bind_param (self->program, name, value))
    self->stale = TRUE;
  ane_mutex_unlock (&self->lock);
  return TRUE;
}

/**
 * ane_executable_set_param_typed:
 * @self: an executable made from a graph
 * @name: a param's name
 * @dtype: the dtype of @data; must be the param's (a GGUF block dtype for
 *   quantized weights, whose bytes are whole GGUF blocks)
 * @data: the elements or blocks, exactly the param's byte size
 * @error: return location for a #GError
 *
 * Binds raw bytes to a param, without building a tensor first: the way to
 * hand over a GGUF tensor's blocks as they are in the file. The bytes are
 * referenced, not copied.
 *
 * Returns: %TRUE on success
 */
gboolean
ane_executable_set_param_typed (AneExecutable  *self,
                                const char     *name,
                                AneDType        dtype,
                                GBytes         *data,
                                GError        **error)
{
  const AneNode *node;
  g_autoptr(AneTensor) value = NULL;

  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (data != NULL, FALSE);

  node = self->graph ? ane_graph_find_node (self->graph, name) : NULL;
  if (node == NULL || node->op->kind != ANE_OP_PARAM)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "set_param_typed: no param named '%s'", name);
      return FALSE;
    }
  if (dtype != node->outputs[0].dtype)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE, "set_param_typed: param '%s' is %s, the data is %s",
                   name, ane_dtype_to_string (node->outputs[0].dtype), ane_dtype_to_string (dtype));
      return FALSE;
    }
  value = ane_tensor_new_from_bytes (name, dtype, node->outputs[0].shape, node->outputs[0].rank, data, error);
  if (value == NULL)
    return FALSE;
  return ane_executable_set_param (self, name, value, error);
}

/* An input against its declaration: its dtype and shape, or a shape its
 * flexibility allows (ane_graph_set_input_range, a package's shapeRange
 * or enumeratedShapes). */
static gboolean
check_input (AneExecutable  *self,
             AneTensor      *input,
             const char     *name,
             const AneSpec  *spec,
             GError        **error)
{
  const AneShapeFlex *flex;
  g_autofree char *what = NULL;
  AneSpec have;

  if (self->graph != NULL)
    flex = ane_graph_get_input_flex (self->graph, name);
  else if (self->package_flex_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->package_flex_error));
      return FALSE;
    }
  else
    flex = self->package_flex != NULL ? g_hash_table_lookup (self->package_flex, name) : NULL;
  if (flex == NULL)
    return ane_tensor_check_spec (input, spec, error, "run: input '%s'", name);
  ane_tensor_get_spec (input, &have);
  if (have.dtype != spec->dtype)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE, "run: input '%s' must be %s, got %s", name,
                   ane_dtype_to_string (spec->dtype), ane_dtype_to_string (have.dtype));
      return FALSE;
    }
  what = g_strdup_printf ("run: input '%s'", name);
  return ane_shape_flex_check (flex, what, have.shape, have.rank, error);
}

/* The inputs by name, each one declared (by the graph, or by the package's
 * description of the function), given once and of its declared dtype and
 * shape; every declared input given. */
static GHashTable *
match_inputs (AneExecutable  *self,
              AneTensor     **inputs,
              guint           n_inputs,
              GError        **error)
{
  g_autoptr(GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) declared = self->graph != NULL ? ane_graph_list_inputs (self->graph)
                                  : ane_package_list_inputs (self->package, self->function, error);
  const char *where = self->graph != NULL ? "the graph" : "the package's function";

  if (declared == NULL)
    return NULL;
  for (guint i = 0; i < n_inputs; i++)
    {
      AneTensor *want = NULL;
      const char *name;
      AneSpec spec;

      g_return_val_if_fail (ANE_IS_TENSOR (inputs[i]), NULL);
      name = ane_tensor_get_name (inputs[i]);
      for (guint j = 0; j < declared->len && want == NULL; j++)
        if (g_strcmp0 (ane_tensor_get_name (g_ptr_array_index (declared, j)), name) == 0)
          want = g_ptr_array_index (declared, j);
      if (want == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "run: %s has no input named '%s'", where, name);
          return NULL;
        }
      if (g_hash_table_contains (by_name, name))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "run: input '%s' given twice", name);
          return NULL;
        }
      ane_tensor_get_spec (want, &spec);
      if (!check_input (self, inputs[i], name, &spec, error))
        return NULL;
      g_hash_table_insert (by_name, (gpointer) name, inputs[i]);
    }
  for (guint i = 0; i < declared->len; i++)
    {
      const char *name = ane_tensor_get_name (g_ptr_array_index (declared, i));
      if (!g_hash_table_contains (by_name, name))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "run: input '%s' was not given", name);
          return NULL;
        }
    }
  return g_steal_pointer (&by_name);
}

/* The graph's dynamic params, which the program takes as inputs: their
 * values bound on the executable (else the graph's) added to the inputs,
 * on every backend, so that binding one never prepares the program again. */
static gboolean
add_dynamic_params (AneExecutable  *self,
                    GHashTable     *inputs,
                    GError        **error)
{
  for (guint i = 0; self->dynamic != NULL && i < self->dynamic->len; i++)
    {
      const char *name = g_ptr_array_index (self->dynamic, i);
      const AneNode *node = ane_graph_find_node (self->graph, name);
      AneTensor *value = g_hash_table_lookup (self->params, name);

      if (value == NULL && node != NULL && node->value != NULL && ane_tensor_has_data (node->value))
        value = node->value;
      if (value == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_MISSING_PARAM,
                       "run: dynamic param '%s' has no value: bind one with ane_executable_set_param()", name);
          return FALSE;
        }
      g_hash_table_insert (inputs, (gpointer) name, value);
    }
  return TRUE;
}

/* The tensor path with states bound to buffers: their values go through
 * the state table for this run (copied, and counted), and back into the
 * buffers when it succeeded. Called with the lock held. */
static GPtrArray *
run_with_bound_states (AneExecutable  *self,
                       GHashTable     *inputs,
                       GCancellable   *cancellable,
                       GError        **error)
{
  g_autoptr(GPtrArray) moved = g_ptr_array_new ();
  GPtrArray *outputs;

  for (guint i = 0; i < self->program->states->len; i++)
    {
      const char *name = ane_tensor_get_name (g_ptr_array_index (self->program->states, i));
      AneBuffer *buffer = g_hash_table_lookup (self->bound, name);
      AneTensor *value;

      if (buffer == NULL)
        continue;
      value = ane_buffer_dup_tensor (buffer, error);
      if (value == NULL)
        outputs = NULL;
      else
        {
          self->copied += ane_buffer_get_size (buffer);
          g_hash_table_replace (self->states, g_strdup (name), value);
          g_ptr_array_add (moved, (gpointer) name);
          continue;
        }
      goto out;
    }
  outputs = ane_program_run (self->program, inputs, self->states, self->debug_nonfinite, cancellable, error);
  for (guint i = 0; outputs != NULL && i < moved->len; i++)
    {
      AneBuffer *buffer = g_hash_table_lookup (self->bound, moved->pdata[i]);

      if (!ane_buffer_write_tensor (buffer, g_hash_table_lookup (self->states, moved->pdata[i]), error))
        g_clear_pointer (&outputs, g_ptr_array_unref);
      else
        self->copied += ane_buffer_get_size (buffer);
    }
out:
  for (guint i = 0; i < moved->len; i++)
    g_hash_table_remove (self->states, moved->pdata[i]);
  return outputs;
}

/**
 * ane_executable_run:
 * @self: a compiled executable
 * @inputs: (array length=n_inputs): one concrete tensor per graph input, named as the input
 * @n_inputs: number of inputs
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs the graph once.
 *
 * Returns: (transfer container) (element-type AneTensor): the outputs, in the graph's output order
 */
GPtrArray *
ane_executable_run (AneExecutable  *self,
                    AneTensor     **inputs,
                    guint           n_inputs,
                    GCancellable   *cancellable,
                    GError        **error)
{
  g_autoptr(GHashTable) by_name = NULL;
  GPtrArray *outputs;

  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), NULL);
  g_return_val_if_fail (inputs != NULL || n_inputs == 0, NULL);

  if (!self->compiled)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_COMPILED,
                   "run: the executable is not compiled; call ane_executable_compile() first");
      return NULL;
    }
  by_name = match_inputs (self, inputs, n_inputs, error);
  if (by_name == NULL)
    return NULL;
  ane_mutex_lock (&self->lock);
  if (!add_dynamic_params (self, by_name, error))
    {
      ane_mutex_unlock (&self->lock);
      return NULL;
    }
  /* A param bound since the program was prepared (or missing then), or the
   * program unloaded. */
  if (!ane_executable_ensure_loaded (self, cancellable, error))
    outputs = NULL;
  else
    outputs = run_with_bound_states (self, by_name, cancellable, error);
  ane_mutex_unlock (&self->lock);
  return outputs;
}

static void
run_thread (GTask        *task,
            gpointer      source,
            gpointer      task_data,
            GCancellable *cancellable)
{
  GPtrArray *inputs = task_data;
  GError *error = NULL;
  GPtrArray *outputs;

  ane_task_thread_begin (task);
  outputs = ane_executable_run (source, (AneTensor **) inputs->pdata, inputs->len, cancellable, &error);
  ane_task_thread_end (task);
  if (outputs != NULL)
    g_task_return_pointer (task, outputs, (GDestroyNotify) g_ptr_array_unref);
  else
    g_task_return_error (task, error);
}

/**
 * ane_executable_run_async:
 * @self: a compiled executable
 * @inputs: (array length=n_inputs): the inputs, as for [method@Ane.Executable.run]
 * @n_inputs: number of inputs
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the result
 * @user_data: data for @callback
 *
 * Runs in a worker thread; finish with [method@Ane.Executable.run_finish].
 * Runs of one executable are serialized (they share states).
 */
void
ane_executable_run_async (AneExecutable       *self,
                          AneTensor          **inputs,
                          guint                n_inputs,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GPtrArray *held;

  g_return_if_fail (ANE_IS_EXECUTABLE (self));
  g_return_if_fail (inputs != NULL || n_inputs == 0);

  held = g_ptr_array_new_full (n_inputs, g_object_unref);
  for (guint i = 0; i < n_inputs; i++)
    g_ptr_array_add (held, g_object_ref (inputs[i]));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ane_executable_run_async);
  g_task_set_task_data (task, held, (GDestroyNotify) g_ptr_array_unref);
  ane_task_run_in_thread (task, run_thread);
}

/**
 * ane_executable_run_finish:
 * @self: an executable
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Ane.Executable.run_async].
 *
 * Returns: (transfer container) (element-type AneTensor): the outputs
 */
GPtrArray *
ane_executable_run_finish (AneExecutable  *self,
                           GAsyncResult   *result,
                           GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ane_executable_run_async, NULL);
  ane_task_finish_begin (result);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ane_executable_run_one:
 * @self: a compiled executable of a graph with one input
 * @input: the input
 * @error: return location for a #GError
 *
 * Convenience for graphs with one input: runs and returns the first output.
 *
 * Returns: (transfer full): the first output
 */
AneTensor *
ane_executable_run_one (AneExecutable  *self,
                        AneTensor      *input,
                        GError        **error)
{
  g_autoptr(GPtrArray) outputs = NULL;

  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (input), NULL);

  outputs = ane_executable_run (self, &input, 1, NULL, error);
  if (outputs == NULL)
    return NULL;
  return g_object_ref (g_ptr_array_index (outputs, 0));
}

/* A state's spec: the prepared program's declaration, or before there is
 * one, the graph's. */
static gboolean
find_state (AneExecutable *self,
            const char    *name,
            AneSpec       *spec,
            GError       **error)
{
  AneTensor *state = NULL;

  if (self->program != NULL)
    {
      if (self->program->states_opaque != NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "state '%s': %s", name, self->program->states_opaque);
          return FALSE;
        }
      state = ane_program_find_state (self->program, name);
      if (state != NULL)
        {
          ane_tensor_get_spec (state, spec);
          return TRUE;
        }
    }
  else if (self->graph != NULL)
    {
      const AneNode *node = ane_graph_find_node (self->graph, name);

      if (node != NULL && node->op->kind == ANE_OP_STATE)
        {
          *spec = node->outputs[0];
          return TRUE;
        }
    }
  else if (self->package != NULL)
    {
      /* a package's program freed by ane_executable_unload: its function says */
      g_autoptr(GPtrArray) states = ane_package_list_states (self->package, self->function, NULL);

      for (guint i = 0; states != NULL && i < states->len; i++)
        if (g_str_equal (ane_tensor_get_name (g_ptr_array_index (states, i)), name))
          {
            ane_tensor_get_spec (g_ptr_array_index (states, i), spec);
            return TRUE;
          }
    }
  g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "no state named '%s'", name);
  return FALSE;
}

/**
 * ane_executable_dup_state:
 * @self: an executable
 * @name: a state's name
 * @error: return location for a #GError
 *
 * The current value of a state (zeros before any run wrote it).
 *
 * Returns: (transfer full): a concrete tensor
 */
AneTensor *
ane_executable_dup_state (AneExecutable  *self,
                          const char     *name,
                          GError        **error)
{
  AneSpec spec;
  AneTensor *value;

  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (!find_state (self, name, &spec, error))
    return NULL;
  ane_mutex_lock (&self->lock);
  if (g_hash_table_contains (self->bound, name))
    value = ane_buffer_dup_tensor (g_hash_table_lookup (self->bound, name), error);
  else
    {
      value = g_hash_table_lookup (self->states, name);
      value = value ? g_object_ref (value)
                    : ane_tensor_new_zeros (name, spec.dtype, spec.shape, spec.rank, error);
    }
  ane_mutex_unlock (&self->lock);
  return value;
}

/**
 * ane_executable_set_state:
 * @self: an executable
 * @name: a state's name
 * @value: a concrete tensor of the state's dtype and shape
 * @error: return location for a #GError
 *
 * Overwrites a state's value.
 *
 * Returns: %TRUE on success
 */
gboolean
ane_executable_set_state (AneExecutable  *self,
                          const char     *name,
                          AneTensor      *value,
                          GError        **error)
{
  AneSpec want;
  gboolean ok = TRUE;

  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (ANE_IS_TENSOR (value), FALSE);

  if (!find_state (self, name, &want, error))
    return FALSE;
  if (!ane_tensor_check_spec (value, &want, error, "set_state: state '%s'", name))
    return FALSE;
  ane_mutex_lock (&self->lock);
  if (g_hash_table_contains (self->bound, name))
    ok = ane_buffer_write_tensor (g_hash_table_lookup (self->bound, name), value, error);
  else
    g_hash_table_replace (self->states, g_strdup (name), ane_tensor_rename (value, name));
  ane_mutex_unlock (&self->lock);
  return ok;
}

/**
 * ane_executable_reset_states:
 * @self: an executable
 *
 * Sets every state back to zeros (on the CoreML backend: gives the program
 * a fresh MLState; a state bound to a buffer: zeroes the buffer).
 */
void
ane_executable_reset_states (AneExecutable *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (ANE_IS_EXECUTABLE (self));
  ane_mutex_lock (&self->lock);
  g_hash_table_remove_all (self->states);
  if (self->program != NULL && !ane_program_reset_states (self->program, &error))
    g_warning ("reset_states: %s", error->message);
  ane_executable_clear_bound_states (self);
  ane_mutex_unlock (&self->lock);
}

/* --- buffers and device memory -------------------------------------------- */

/* The program, prepared again when a param changed or it was unloaded by
 * freeing it. Called with the lock held. */
static gboolean
ensure_program (AneExecutable  *self,
                GCancellable   *cancellable,
                GError        **error)
{
  if (!self->compiled)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_COMPILED,
                   "the executable is not compiled; call ane_executable_compile() first");
      return FALSE;
    }
  return !self->stale || prepare (self, self->backend, cancellable, error);
}

/* The program, with its device memory held. Called with the lock held. */
static gboolean
ane_executable_ensure_loaded (AneExecutable  *self,
                              GCancellable   *cancellable,
                              GError        **error)
{
  if (!ensure_program (self, cancellable, error))
    return FALSE;
  if (!self->program->unloaded)
    return TRUE;
  if (!self->program->klass->load (self->program, error))
    return FALSE;
  self->program->unloaded = FALSE;
  return TRUE;
}

/* Zeroes every buffer bound to a state. Called with the lock held. */
static void
ane_executable_clear_bound_states (AneExecutable *self)
{
  GHashTableIter iter;
  gpointer name, buffer;

  g_hash_table_iter_init (&iter, self->bound);
  while (g_hash_table_iter_next (&iter, &name, &buffer))
    {
      g_autoptr(GError) error = NULL;

      if (ane_buffer_get_port (buffer) == ANE_BUFFER_PORT_STATE && !ane_buffer_clear (buffer, &error))
        g_warning ("reset_states: %s", error->message);
    }
}

/* The layout the program gives the named port, or an error saying the
 * backend takes no buffers. Called with the lock held. */
static gboolean
port_layout (AneExecutable    *self,
             const char       *name,
             AneBufferLayout  *layout,
             GError          **error)
{
  if (self->program->klass->buffer_layout == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "'%s': the %s backend takes no buffers (the cpu backend and the Neural Engine's path do)",
                   name, ane_backend_get_name (self->backend));
      return FALSE;
    }
  return self->program->klass->buffer_layout (self->program, name, layout, error);
}

static const char *
port_kind (AneBufferPort port)
{
  switch (port)
    {
    case ANE_BUFFER_PORT_INPUT: return "input";
    case ANE_BUFFER_PORT_OUTPUT: return "output";
    case ANE_BUFFER_PORT_STATE: return "state";
    default: return "port";
    }
}

static char *
layout_string (const AneBufferLayout *l)
{
  AneSpec spec = { .dtype = l->dtype, .rank = l->rank };
  char text[ANE_SPEC_STRLEN];
  GString *s = g_string_new (NULL);

  memcpy (spec.shape, l->shape, l->rank * sizeof (gint64));
  g_string_append_printf (s, "%s %s, strides [", l->runtime ? "surface" : "host", ane_spec_format (&spec, text));
  for (guint i = 0; i < l->rank; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", l->strides[i]);
  g_string_append (s, "]");
  return g_string_free (s, FALSE);
}

/* buffer fits the port name as the program lays it out now. Called with
 * the lock held. */
static gboolean
check_binding (AneExecutable  *self,
               const char     *name,
               AneBuffer      *buffer,
               GError        **error)
{
  AneBufferLayout want;
  const AneBufferLayout *have = ane_buffer_get_layout (buffer);

  if (ane_buffer_get_owner (buffer) != self->serial)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "'%s': the buffer (made for '%s') belongs to another executable", name, ane_buffer_get_name (buffer));
      return FALSE;
    }
  if (ane_buffer_get_backend (buffer) != self->backend)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "'%s': the buffer was made for the %s backend; the executable now runs on %s", name,
                   ane_backend_get_name (ane_buffer_get_backend (buffer)), ane_backend_get_name (self->backend));
      return FALSE;
    }
  if (!port_layout (self, name, &want, error))
    return FALSE;
  if ((want.port == ANE_BUFFER_PORT_STATE) != (have->port == ANE_BUFFER_PORT_STATE))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "'%s' is %s %s; the buffer was made for %s '%s'", name,
                   want.port == ANE_BUFFER_PORT_INPUT ? "an" : "a", port_kind (want.port), port_kind (have->port),
                   ane_buffer_get_name (buffer));
      return FALSE;
    }
  if (!ane_buffer_layout_equal (&want, have))
    {
      g_autofree char *w = layout_string (&want);
      g_autofree char *h = layout_string (have);

      g_set_error (error, ANE_ERROR, have->dtype != want.dtype || have->port_dtype != want.port_dtype ? ANE_ERROR_DTYPE
                                                                                                    : ANE_ERROR_SHAPE,
                   "%s '%s' is laid out as %s (%s); the buffer made for '%s' is %s (%s)", port_kind (want.port), name, w,
                   ane_dtype_to_string (want.port_dtype), ane_buffer_get_name (buffer), h,
                   ane_dtype_to_string (have->port_dtype));
      return FALSE;
    }
  return TRUE;
}

/**
 * ane_executable_new_buffer:
 * @self: a compiled executable, on the CPU backend or the Neural Engine's path
 * @name: the name of one of its inputs, outputs or states
 * @error: return location for a #GError
 *
 * Makes a zeroed [class@Ane.Buffer] in the layout the backend reads and
 * writes that port in (see [class@Ane.Buffer] for the layouts): 64-byte
 * aligned host memory on the CPU backend, an IOSurface on the Neural
 * Engine's path. Bind it with [method@Ane.Executable.bind]. Backends that
 * take no buffers (reference, CoreML) fail with %ANE_ERROR_UNSUPPORTED; a
 * name that is no port, with %ANE_ERROR_NOT_FOUND.
 *
 * Returns: (transfer full): the buffer, or %NULL
 *
 * Since: 0.2
 */
AneBuffer *
ane_executable_new_buffer (AneExecutable  *self,
                           const char     *name,
                           GError        **error)
{
  AneBufferLayout layout;
  AneBuffer *buffer = NULL;

  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ane_mutex_lock (&self->lock);
  if (ensure_program (self, NULL, error) && port_layout (self, name, &layout, error))
    buffer = ane_buffer_new_for_layout (self->serial, self->backend, name, &layout, error);
  ane_mutex_unlock (&self->lock);
  return buffer;
}

/**
 * ane_executable_bind:
 * @self: a compiled executable
 * @name: the name of one of its inputs, outputs or states
 * @buffer: (nullable): a buffer this executable made, of that port's
 *   layout, or %NULL to unbind
 * @error: return location for a #GError
 *
 * Binds a buffer to an input, output or state for
 * [method@Ane.Executable.run_bound]. An input or output takes any input or
 * output buffer of the same layout (an output buffer of one step may be the
 * input of the next); a state takes a state's buffer, into which its
 * current value is written now, and from then on the buffer *is* the
 * state: every run (bound or not) reads and updates it,
 * [method@Ane.Executable.dup_state] and [method@Ane.Executable.set_state]
 * copy from and into it, [method@Ane.Executable.reset_states] zeroes it.
 * Unbinding a state copies its value back into the executable.
 *
 * A buffer from another executable or for another backend, of another
 * dtype, shape or layout, or bound to another port already: a #GError
 * naming the port.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
ane_executable_bind (AneExecutable  *self,
                     const char     *name,
                     AneBuffer      *buffer,
                     GError        **error)
{
  gboolean ok = FALSE;
  AneBuffer *old;

  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (buffer == NULL || ANE_IS_BUFFER (buffer), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ane_mutex_lock (&self->lock);
  old = g_hash_table_lookup (self->bound, name);
  if (buffer == NULL)
    {
      ok = TRUE;
      if (old != NULL && ane_buffer_get_port (old) == ANE_BUFFER_PORT_STATE)
        {
          AneTensor *value = ane_buffer_dup_tensor (old, error);

          ok = value != NULL;
          if (ok)
            g_hash_table_replace (self->states, g_strdup (name), value);
        }
      if (ok)
        g_hash_table_remove (self->bound, name);
      goto out;
    }
  if (old == buffer)
    {
      ok = TRUE;
      goto out;
    }
  {
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init (&iter, self->bound);
    while (g_hash_table_iter_next (&iter, &key, &value))
      if (value == buffer)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "'%s': the buffer is bound to '%s' already",
                       name, (const char *) key);
          goto out;
        }
  }
  if (!ensure_program (self, NULL, error) || !check_binding (self, name, buffer, error))
    goto out;
  if (ane_buffer_get_port (buffer) == ANE_BUFFER_PORT_STATE)
    {
      /* the state's value moves into the buffer (zeros when it has none) */
      AneTensor *value = old != NULL ? NULL : g_hash_table_lookup (self->states, name);

      if (old != NULL)
        {
          g_autoptr(AneTensor) held = ane_buffer_dup_tensor (old, error);

          ok = held != NULL && ane_buffer_write_tensor (buffer, held, error);
        }
      else
        ok = value != NULL ? ane_buffer_write_tensor (buffer, value, error) : ane_buffer_clear (buffer, error);
      if (!ok)
        goto out;
      g_hash_table_remove (self->states, name);
    }
  g_hash_table_replace (self->bound, g_strdup (name), g_object_ref (buffer));
  ok = TRUE;
out:
  ane_mutex_unlock (&self->lock);
  return ok;
}

/* Adds the bound buffer of each of ports (symbolic tensors) to table, or
 * fails naming the first one unbound or locked. Called with the lock held. */
static gboolean
collect_bound (AneExecutable  *self,
               GPtrArray      *ports,
               const char     *kind,
               GHashTable     *table,
               GError        **error)
{
  for (guint i = 0; i < ports->len; i++)
    {
      const char *name = ane_tensor_get_name (g_ptr_array_index (ports, i));
      AneBuffer *buffer = g_hash_table_lookup (self->bound, name);

      if (buffer == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "run_bound: %s '%s' has no buffer bound", kind, name);
          return FALSE;
        }
      if (ane_buffer_is_locked (buffer))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "run_bound: the buffer bound to %s '%s' is locked (unlock it before running)", kind, name);
          return FALSE;
        }
      /* the program may have been prepared again since the binding */
      if (!check_binding (self, name, buffer, error))
        return FALSE;
      g_hash_table_insert (table, (gpointer) name, buffer);
    }
  return TRUE;
}

/**
 * ane_executable_run_bound:
 * @self: a compiled executable with a buffer bound to every input, output
 *   and state
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs once on the bound buffers ([method@Ane.Executable.bind]): the inputs
 * are read where they lie, the outputs written into their buffers and the
 * states updated in theirs, so nothing is copied or converted on the way in
 * or out -- on the CPU backend the kernels read and write the buffers'
 * memory, on the Neural Engine's path the bound IOSurfaces are the ones the
 * device reads and writes, and a decode loop with its caches bound copies
 * nothing per token.
 *
 * An input, output or state without a buffer, or a buffer locked by the
 * caller: a #GError naming it. When a run fails the outputs may be half
 * written; states are as they were on the Neural Engine's path (the state
 * buffers swap surfaces only on success) but may be half updated on the
 * CPU backend (written in place). Runs are serialized with every other run
 * of the executable; do not touch the bound buffers meanwhile. A run of an
 * unloaded executable loads it again (see [method@Ane.Executable.unload]).
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
ane_executable_run_bound (AneExecutable  *self,
                          GCancellable   *cancellable,
                          GError        **error)
{
  g_autoptr(GHashTable) inputs = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) outputs = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) states = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) declared = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  declared = self->graph != NULL ? ane_graph_list_inputs (self->graph)
             : self->package != NULL ? ane_package_list_inputs (self->package, self->function, error) : NULL;
  if (declared == NULL)
    return FALSE;
  ane_mutex_lock (&self->lock);
  if (!ane_executable_ensure_loaded (self, cancellable, error))
    goto out;
  if (self->program->klass->run_bound == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "run_bound: the %s backend takes no buffers",
                   ane_backend_get_name (self->backend));
      goto out;
    }
  if (!collect_bound (self, declared, "input", inputs, error) ||
      !collect_bound (self, self->program->outputs, "output", outputs, error) ||
      !collect_bound (self, self->program->states, "state", states, error))
    goto out;
  ok = self->program->klass->run_bound (self->program, inputs, outputs, states, self->debug_nonfinite, cancellable,
                                        error);
out:
  ane_mutex_unlock (&self->lock);
  return ok;
}

/**
 * ane_executable_load:
 * @self: an executable
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Holds the program's device memory, compiling first if need be: on the
 * Neural Engine's path the compiled model is loaded into the device
 * (`loadWithQoS:options:error:`; a model compiled before is not compiled
 * again), on the CPU backend the program is prepared with its weights
 * decoded. A compiled executable is loaded; this undoes
 * [method@Ane.Executable.unload] ahead of the next run, so that run does
 * not pay for it.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
ane_executable_load (AneExecutable  *self,
                     GCancellable   *cancellable,
                     GError        **error)
{
  gboolean ok;

  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!self->compiled && !ane_executable_compile (self, cancellable, error))
    return FALSE;
  ane_mutex_lock (&self->lock);
  ok = ane_executable_ensure_loaded (self, cancellable, error);
  ane_mutex_unlock (&self->lock);
  return ok;
}

/**
 * ane_executable_unload:
 * @self: an executable
 *
 * Releases the program's device memory until it is needed again: on the
 * Neural Engine's path the model leaves the device
 * (`unloadWithQoS:error:`, once no other executable of the same program
 * holds it) but stays compiled; on the CPU and other backends the prepared
 * program is freed (its weights with it). Params, states, bindings and
 * buffers stay. The next run, [method@Ane.Executable.run_bound] or
 * [method@Ane.Executable.load] loads it again. Unloading an unloaded
 * executable does nothing.
 *
 * Since: 0.2
 */
void
ane_executable_unload (AneExecutable *self)
{
  g_return_if_fail (ANE_IS_EXECUTABLE (self));

  ane_mutex_lock (&self->lock);
  if (self->program != NULL && !self->program->unloaded)
    {
      if (self->program->klass->unload != NULL)
        {
          self->program->klass->unload (self->program);
          self->program->unloaded = TRUE;
        }
      else
        {
          drop_program (self);
          self->stale = TRUE;   /* prepared again when needed */
        }
    }
  ane_mutex_unlock (&self->lock);
}

/**
 * ane_executable_is_loaded:
 * @self: an executable
 *
 * Whether the program holds its device memory: compiled, and not unloaded
 * since (see [method@Ane.Executable.unload]).
 *
 * Returns: %TRUE when loaded
 *
 * Since: 0.2
 */
gboolean
ane_executable_is_loaded (AneExecutable *self)
{
  gboolean loaded;

  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), FALSE);
  ane_mutex_lock (&self->lock);
  loaded = self->compiled && self->program != NULL && !self->program->unloaded;
  ane_mutex_unlock (&self->lock);
  return loaded;
}

guint64
ane_executable_get_finished_copied (void)
{
  return __atomic_load_n (&finished_copied, __ATOMIC_RELAXED);
}

guint64
ane_executable_get_copied (AneExecutable *self)
{
  guint64 copied;

  g_return_val_if_fail (ANE_IS_EXECUTABLE (self), 0);
  ane_mutex_lock (&self->lock);
  copied = self->copied + (self->program != NULL ? self->program->copied : 0);
  ane_mutex_unlock (&self->lock);
  return copied;
}
