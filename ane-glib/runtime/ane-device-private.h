/* runtime/ane-device-private.h: the Apple backends behind AneExecutable
 *
 * A device program is a graph prepared for CoreML.framework
 * (runtime/coreml/ane-coreml-backend.c) or for the Neural Engine's private
 * in-memory path (runtime/ane/ane-ane-backend.c). Both reach Apple software
 * only through swappable tables (AneCoremlApi, AneAneRuntime), so this
 * layer runs on Linux against fakes in the tests. The executable owns one
 * program at a time and serializes runs.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-graph-private.h"

G_BEGIN_DECLS

typedef struct _AneDeviceProgram AneDeviceProgram;

typedef struct
{
  const char *name;   /* "coreml", "ane" */
  /* Outputs of one run, named (any order; any float dtype or int32). */
  GPtrArray  *(*run)          (AneDeviceProgram *self, GHashTable *inputs, GError **error);
  /* Starts the program's states over (zeros); NULL when it has none. */
  gboolean    (*reset_states) (AneDeviceProgram *self, GError **error);
  void        (*free)         (AneDeviceProgram *self);
} AneDeviceProgramClass;

struct _AneDeviceProgram
{
  const AneDeviceProgramClass *klass;
  GPtrArray *outputs;   /* symbolic AneTensor: the names, dtypes and shapes promised, in order */
  char      *detail;    /* one line for the backend report, e.g. "model from the compile cache" */
};

/* What the two backends need of the executable. */
typedef struct
{
  AneTarget        target;
  AnePrecision     precision;
  AneComputeUnits  compute_units;   /* CoreML only */
  GHashTable      *params;          /* name -> AneTensor bound on the executable */
} AneDeviceOptions;

/* CoreML.framework: lowers graph, writes a .mlpackage, compiles it (cached
 * by content) and loads it with the compute units. ANE_ERROR_UNSUPPORTED
 * when this build has no CoreML shim. */
AneDeviceProgram *ane_coreml_program_new (AneGraph                *graph,
                                          const AneDeviceOptions  *options,
                                          GCancellable            *cancellable,
                                          GError                 **error);
/* The Neural Engine's in-memory path: lowers graph with a float16 interface
 * to MIL text + weight.bin and compiles it for the ANE. ANE_ERROR_UNSUPPORTED
 * when the runtime is missing, and for what the path cannot run: states,
 * non-float inputs or outputs, float32 precision, shapes beyond [1, C, H, W]. */
AneDeviceProgram *ane_ane_backend_program_new (AneGraph                *graph,
                                               const AneDeviceOptions  *options,
                                               GCancellable            *cancellable,
                                               GError                 **error);

/* CoreML.framework, for a package as it is (whoever wrote it): a loaded
 * package is compiled from its directory, one made from a graph is written
 * first. Only the default function (CoreML picks a function by
 * MLModelConfiguration.functionName, which this build does not set). */
AneDeviceProgram *ane_coreml_program_new_for_package (AnePackage              *package,
                                                      const char              *function,
                                                      const AneDeviceOptions  *options,
                                                      GCancellable            *cancellable,
                                                      GError                 **error);

/* Runs once: inputs by name (AneTensor, the graph's dtypes). Returns the
 * outputs in the promised order, named and typed as promised. */
GPtrArray        *ane_device_program_run          (AneDeviceProgram  *self,
                                                   GHashTable        *inputs,
                                                   GError           **error);
gboolean          ane_device_program_reset_states (AneDeviceProgram  *self,
                                                   GError           **error);
const char       *ane_device_program_get_detail   (AneDeviceProgram  *self);
void              ane_device_program_free         (AneDeviceProgram  *self);

/* For implementations: fills the common part; outputs (symbolic AneTensor,
 * referenced) are what runs return, in order. */
void              ane_device_program_init         (AneDeviceProgram            *self,
                                                   const AneDeviceProgramClass *klass,
                                                   GPtrArray                   *outputs);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneDeviceProgram, ane_device_program_free)

G_END_DECLS
