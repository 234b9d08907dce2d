/* runtime/ane-program-private.h: the one interface every backend implements
 *
 * An AneProgram is what a backend prepared to run: a graph (or a package's
 * function) lowered, compiled, loaded -- whatever that backend needs. The
 * executable (ane-executable.c) only ever talks to this interface; it holds
 * no per-backend code. The four backends:
 *
 *   reference  ane-reference-program.c   the IR evaluator (graphs only)
 *   cpu        cpu/ane-cpu-program.c     the interpreter of the lowered MIL
 *   coreml     coreml/ane-coreml-backend.c  CoreML.framework
 *   ane        ane/ane-ane-backend.c     the Neural Engine's in-memory path (graphs only)
 *
 * The table in ane-program.c maps AneBackend to each one's constructors
 * (one for graphs, one for packages), the way ggml's backend registry and
 * libdex's DexSchedulerClass put a vtable between callers and
 * implementations.
 *
 * States. The executable owns one table of state values (name -> concrete
 * AneTensor in the interface's dtypes; a state absent from it is zeros), so
 * that states exist before the first compile, survive a program prepared
 * again (a param bound, a new budget) and are read and written the same way
 * whatever the backend. A run hands the program a copy of that table; the
 * program reads the values it needs and leaves every state's new value in
 * the copy, in any float dtype (the CPU interpreter holds them fp16); the
 * common code converts them to the declared dtypes and commits them only
 * when the run succeeded. A backend that keeps states inside the device
 * (CoreML's MLState) says so in states_opaque and implements reset_states.
 *
 * Buffers (docs/buffers.md). A backend that takes AneBuffers describes each
 * port's layout (buffer_layout) and runs on them (run_bound): inputs,
 * outputs and states all bound, nothing converted. load / unload hold and
 * release device memory; without them the executable frees and prepares
 * the program again.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-graph-private.h"
#include "ane-buffer-private.h"

G_BEGIN_DECLS

typedef struct _AneProgram AneProgram;

/* What a backend is given to prepare a program: the executable's settings. */
typedef struct
{
  AneTarget        target;          /* the MIL backends lower for it */
  AnePrecision     precision;
  AneComputeUnits  compute_units;   /* CoreML only */
  GHashTable      *params;          /* name -> AneTensor bound on the executable; NULL for packages */
  guint64          budget;          /* bytes a run may hold at once; 0: no limit */
  gboolean         quantize_activations;   /* CPU only: AneExecutable:quantize-activations */
  AneMilDialect   *dialect;         /* ANE only: buildInfo of its MIL text; NULL: the default */
} AneProgramOptions;

typedef struct
{
  const char *name;   /* "reference", "cpu", "coreml", "ane" */
  /* Runs once. inputs: name -> AneTensor, already checked against the
   * interface. states: name -> AneTensor, a copy the program may read and
   * must leave holding every state's new value. Returns the outputs, named
   * (any order; any float dtype or int32). */
  GPtrArray  *(*run)          (AneProgram   *self,
                               GHashTable   *inputs,
                               GHashTable   *states,
                               gboolean      debug_nonfinite,
                               GCancellable *cancellable,
                               GError      **error);
  /* Takes a param bound on the executable without preparing again; returns
   * FALSE when the program must be prepared again. NULL: always again. */
  gboolean    (*bind_param)   (AneProgram   *self,
                               const char   *name,
                               AneTensor    *value);
  /* Starts device-held states over; NULL when states live in the table. */
  gboolean    (*reset_states) (AneProgram   *self,
                               GError      **error);
  void        (*free)         (AneProgram   *self);

  /* Buffers (ane-buffer-private.h); NULL: the backend takes none. The
   * layout of the named input, output or state (ANE_ERROR_NOT_FOUND when
   * there is none). */
  gboolean    (*buffer_layout) (AneProgram      *self,
                                const char      *name,
                                AneBufferLayout *layout,
                                GError         **error);
  /* Runs once with a buffer (name -> AneBuffer, checked by the executable
   * against buffer_layout) for every input, output and state: reads the
   * inputs, writes the outputs and the states' new values in place. On
   * failure the outputs may be half written; states as the backend says. */
  gboolean    (*run_bound)    (AneProgram   *self,
                               GHashTable   *inputs,
                               GHashTable   *outputs,
                               GHashTable   *states,
                               gboolean      debug_nonfinite,
                               GCancellable *cancellable,
                               GError      **error);
  /* Device memory held explicitly (rane's Program::load / unload). NULL:
   * the executable frees the program to unload it and prepares it again to
   * load. load is only called on an unloaded program, unload on a loaded
   * one. */
  gboolean    (*load)         (AneProgram   *self,
                               GError      **error);
  void        (*unload)       (AneProgram   *self);
} AneProgramClass;

struct _AneProgram
{
  const AneProgramClass *klass;
  GPtrArray  *outputs;        /* symbolic AneTensor: the names, dtypes and shapes promised, in order */
  GPtrArray  *states;         /* symbolic AneTensor: the states, as the interface declares them */
  char       *detail;         /* one line for the backend report, e.g. "model from the compile cache" */
  const char *states_opaque;  /* why states cannot be read or written here, or NULL */
  gboolean    unloaded;       /* its device memory was released (klass->unload) */
  gboolean    flexible;       /* inputs of flexible shape: outputs are promised their rank only */
  guint64     copied;         /* bytes runs copied between the caller's tensors and the backend's memory */
};

/* Prepares backend's program for a graph (package NULL) or a package's
 * function (graph NULL). ANE_ERROR_UNSUPPORTED, with the reason, for a
 * backend that cannot take that kind of source or is missing; AUTO is the
 * executable's business, not a backend. */
AneProgram       *ane_program_prepare          (AneBackend                backend,
                                                AneGraph                 *graph,
                                                AnePackage               *package,
                                                const char               *function,
                                                const AneProgramOptions  *options,
                                                GCancellable             *cancellable,
                                                GError                  **error);
const char       *ane_backend_get_name         (AneBackend                backend);

/* Runs once: inputs by name (AneTensor, the interface's dtypes), states the
 * executable's table (updated on success only). Returns the outputs in the
 * promised order, named and typed as promised. */
GPtrArray        *ane_program_run              (AneProgram               *self,
                                                GHashTable               *inputs,
                                                GHashTable               *states,
                                                gboolean                  debug_nonfinite,
                                                GCancellable             *cancellable,
                                                GError                  **error);
gboolean          ane_program_bind_param       (AneProgram               *self,
                                                const char               *name,
                                                AneTensor                *value);
gboolean          ane_program_reset_states     (AneProgram               *self,
                                                GError                  **error);
/* The declared state named name (symbolic), or NULL. */
AneTensor        *ane_program_find_state       (AneProgram               *self,
                                                const char               *name);
const char       *ane_program_get_detail       (AneProgram               *self);
/* Counts bytes a run copied across the interface (for tests: a bound run
 * copies none). */
void              ane_program_count_copy       (AneProgram               *self,
                                                guint64                   bytes);
void              ane_program_free             (AneProgram               *self);

/* For implementations: fills the common part. outputs and states
 * (symbolic AneTensor, referenced; states may be NULL for none) are the
 * interface. */
void              ane_program_init             (AneProgram               *self,
                                                const AneProgramClass    *klass,
                                                GPtrArray                *outputs,
                                                GPtrArray                *states);

/* The constructors of the table (each backend's file). */
AneProgram *ane_reference_program_new     (AneGraph *graph, const AneProgramOptions *options,
                                           GCancellable *cancellable, GError **error);
AneProgram *ane_cpu_program_new           (AneGraph *graph, const AneProgramOptions *options,
                                           GCancellable *cancellable, GError **error);
AneProgram *ane_cpu_program_new_for_package (AnePackage *package, const char *function,
                                             const AneProgramOptions *options,
                                             GCancellable *cancellable, GError **error);
/* CoreML.framework: lowers graph, writes a .mlpackage, compiles it (cached
 * by content) and loads it with the compute units. ANE_ERROR_UNSUPPORTED
 * when this build has no CoreML shim. */
AneProgram *ane_coreml_program_new        (AneGraph *graph, const AneProgramOptions *options,
                                           GCancellable *cancellable, GError **error);
/* CoreML.framework, for a package as it is (whoever wrote it): a loaded
 * package is compiled from its directory, one made from a graph is written
 * first. Only the default function (CoreML picks a function by
 * MLModelConfiguration.functionName, which this build does not set). */
AneProgram *ane_coreml_program_new_for_package (AnePackage *package, const char *function,
                                                const AneProgramOptions *options,
                                                GCancellable *cancellable, GError **error);
/* The Neural Engine's in-memory path: lowers graph with a float16 interface
 * to MIL text + weight.bin and compiles it for the ANE. ANE_ERROR_UNSUPPORTED
 * when the runtime is missing, and for what the path cannot run: states,
 * non-float inputs or outputs, float32 precision, shapes beyond [1, C, H, W]. */
AneProgram *ane_ane_backend_program_new   (AneGraph *graph, const AneProgramOptions *options,
                                           GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneProgram, ane_program_free)

G_END_DECLS
