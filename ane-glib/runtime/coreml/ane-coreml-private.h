/* runtime/coreml/ane-coreml-private.h: plain-C interface to the CoreML.framework shim
 *
 * The implementation (ane-coreml.m) is Objective-C over CoreML.framework; it
 * is built for real only on Apple platforms. On Linux it is compiled against
 * fake CoreML classes (tests/coreml/fake-coreml.m, GNUstep Foundation) and
 * unit-tested there. Nothing in this header needs Objective-C.
 *
 * Memory: the shim is written for manual retain/release (no ARC).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"

G_BEGIN_DECLS


typedef struct _AneCoremlModel AneCoremlModel;
typedef struct _AneCoremlState AneCoremlState;

/* The MLComputeUnits value (CPUOnly 0, CPUAndGPU 1, All 2,
 * CPUAndNeuralEngine 3) for @units; -1 for an unknown value. */
gint64          ane_coreml_compute_units_to_ml (AneComputeUnits units);

/* SHA-256 (hex) of a package's content: every regular file under @path (or
 * @path itself if it is a file), by sorted relative path, each as
 * "path\0size\0bytes". Identical bytes give the identical key; so do two
 * writes of one model whose Manifest.json differ only in the items' random
 * UUIDs and their order (the manifest is hashed as its items' paths, names,
 * authors and descriptions sorted by path, and which one is the root). */
char           *ane_coreml_package_hash     (const char   *package_path,
                                             GError      **error);

/* Compiles an .mlpackage (or .mlmodel) into a .mlmodelc with
 * +[MLModel compileModelAtURL:error:] and moves it to
 * @cache_dir/<content hash>.mlmodelc. When that directory already exists the
 * compile is skipped (*@from_cache = TRUE). Returns the .mlmodelc path. */
char           *ane_coreml_compile          (const char   *package_path,
                                             const char   *cache_dir,
                                             gboolean     *from_cache,
                                             GError      **error);

/* Loads a compiled model (+[MLModel modelWithContentsOfURL:configuration:error:]).
 * @function (nullable): the function of a multifunction program to load
 * (MLModelConfiguration.functionName, macOS 15 / iOS 18); NULL for the
 * default. On an older system a function is refused, ANE_ERROR_UNSUPPORTED. */
AneCoremlModel *ane_coreml_model_load       (const char             *compiled_path,
                                             const char             *function,
                                             AneComputeUnits   units,
                                             GError                **error);
void            ane_coreml_model_free       (AneCoremlModel *model);

/* A fresh MLState (-[MLModel newState]) for a stateful program; the state
 * is updated in place by every prediction made with it. */
AneCoremlState *ane_coreml_model_new_state  (AneCoremlModel *model,
                                             GError        **error);
void            ane_coreml_state_free       (AneCoremlState *state);

/* Reading and writing a state's buffer: -[MLState
 * getMultiArrayForStateNamed:handler:] (macOS 15 / iOS 18), whose handler
 * (an Objective-C block) is handed the state's MLMultiArray, read and
 * written in place (ane-coreml.m cites Apple's documentation). FALSE where
 * the MLState has no such method or this build cannot make the call (no
 * blocks); get/set then fail with ANE_ERROR_UNSUPPORTED naming the API. */
gboolean        ane_coreml_state_can_access (AneCoremlState *state);
/* A dense copy of state @name in @dtype (FLOAT16, FLOAT32 or INT32),
 * whatever the buffer's strides. The buffer must have @shape (rank 0 as
 * [1]): ANE_ERROR_SHAPE otherwise; ANE_ERROR_NOT_FOUND when the MLState
 * has no state @name. */
AneTensor      *ane_coreml_state_get        (AneCoremlState *state,
                                             const char     *name,
                                             AneDType        dtype,
                                             const gint64   *shape,
                                             guint           rank,
                                             GError        **error);
/* Writes @value (FLOAT16, FLOAT32 or INT32, converted to the buffer's data
 * type) into the state named as @value, by the buffer's strides. The same
 * errors as ane_coreml_state_get, and ANE_ERROR_DTYPE for a value of
 * another dtype. */
gboolean        ane_coreml_state_set        (AneCoremlState *state,
                                             AneTensor      *value,
                                             GError        **error);

/* Runs one prediction. @inputs: name -> AneTensor (float32, float16 or
 * int32; other dtypes are converted to float32). @state may be NULL.
 * Returns the output features as AneTensor, sorted by name: float32 for
 * float16/float32/double arrays (fp16 widened), int32 for int32 arrays.
 * Outputs are copied by their strides (CoreML pads innermost dimensions). */
GPtrArray      *ane_coreml_model_predict    (AneCoremlModel *model,
                                             GHashTable     *inputs,
                                             AneCoremlState *state,
                                             GError        **error);

/* An ANE_ERROR_FAILED GError "CoreML: <what>: <the NSError's localized
 * description>" (ns_error: an NSError, or NULL). */
void            ane_coreml_set_error_from_ns (GError    **error,
                                              gpointer    ns_error,
                                              const char *what);

/* Element kinds of the strided copies (the MLMultiArrayDataType subset). */
typedef enum {
  ANE_COREML_ELEM_FLOAT32,
  ANE_COREML_ELEM_FLOAT16,
  ANE_COREML_ELEM_INT32,
  ANE_COREML_ELEM_FLOAT64,
} AneCoremlElem;

/* Copies a strided array (@strides in elements, as MLMultiArray.strides) into
 * a dense row-major buffer of @dst_dtype (FLOAT32, FLOAT16 or INT32). */
gboolean        ane_coreml_copy_out         (const void    *src,
                                             AneCoremlElem  src_elem,
                                             const gint64  *shape,
                                             const gint64  *strides,
                                             guint          rank,
                                             AneDType       dst_dtype,
                                             void          *dst,
                                             GError       **error);
/* Copies a dense row-major AneTensor's data (FLOAT32, FLOAT16 or INT32) into
 * a strided array of @dst_elem. */
gboolean        ane_coreml_copy_in          (const void    *src,
                                             AneDType       src_dtype,
                                             const gint64  *shape,
                                             const gint64  *strides,
                                             guint          rank,
                                             AneCoremlElem  dst_elem,
                                             void          *dst,
                                             GError       **error);

/* --- per-op device plan (MLComputePlan, macOS 14.4 / iOS 17.4) ---------
 *
 * One record per ML Program operation, as ane-coreml-plan.m reads them from
 * an MLComputePlan: functions in sorted name order, operations in program
 * order, an operation's nested blocks (loops, conditionals) right after it. */
typedef struct
{
  char   *function;       /* the function the operation belongs to ("main") */
  char   *operator_name;  /* MLModelStructureProgramOperation.operatorName */
  char   *output_name;    /* the name of its first output, "" when it has none */
  guint   depth;          /* 0 in the function's block, +1 per nested block */
  guint   preferred;      /* one AneComputeDevice bit, 0 when CoreML gave no usage */
  guint   supported;      /* AneComputeDevice bits, 0 when CoreML gave no usage */
  double  cost;           /* MLComputePlanCost.weight in [0, 1], -1 when none */
} AneCoremlPlanOp;

void            ane_coreml_plan_op_free     (AneCoremlPlanOp *op);

/* The records of an MLComputePlan object (@plan is an MLComputePlan *, typed
 * as a pointer so this header stays plain C); a GPtrArray of
 * AneCoremlPlanOp, owning them. Needs no Objective-C blocks. */
GPtrArray      *ane_coreml_compute_plan_walk (gpointer     plan,
                                              GError     **error);

/* Loads the MLComputePlan of a compiled model (.mlmodelc) for @units and
 * walks it. ANE_ERROR_UNSUPPORTED when the OS has no MLComputePlan. */
GPtrArray      *ane_coreml_compute_plan     (const char       *compiled_path,
                                             AneComputeUnits   units,
                                             GError          **error);

/* --- the table the CoreML backend calls --------------------------------
 *
 * AneExecutable's CoreML backend (ane-coreml-backend.c, plain C, in every
 * build) reaches the shim only through this table, as the private ANE path
 * reaches its runtime: on Apple platforms the default is the shim built
 * into the library (ane_coreml_framework_api); elsewhere there is none, and
 * tests install the shim compiled against the fake CoreML classes. */
typedef struct
{
  const char     *name;   /* for messages: "CoreML.framework", "fake CoreML" */
  char           *(*compile)     (const char *package_path, const char *cache_dir,
                                  gboolean *from_cache, GError **error);
  AneCoremlModel *(*load)        (const char *compiled_path, const char *function, AneComputeUnits units,
                                  GError **error);
  void            (*model_free)  (AneCoremlModel *model);
  AneCoremlState *(*new_state)   (AneCoremlModel *model, GError **error);
  void            (*state_free)  (AneCoremlState *state);
  GPtrArray      *(*predict)     (AneCoremlModel *model, GHashTable *inputs,
                                  AneCoremlState *state, GError **error);
  /* NULL (or can_access_state FALSE): states stay inside CoreML, the
   * backend sets states_opaque. */
  gboolean        (*can_access_state) (AneCoremlState *state);
  AneTensor      *(*get_state)   (AneCoremlState *state, const char *name, AneDType dtype,
                                  const gint64 *shape, guint rank, GError **error);
  gboolean        (*set_state)   (AneCoremlState *state, AneTensor *value, GError **error);
  /* NULL: this table cannot give a device plan (see ane-coreml-plan.m). */
  GPtrArray      *(*compute_plan) (const char *compiled_path, AneComputeUnits units,
                                   GError **error);
} AneCoremlApi;

/* The shim's own table (defined in ane-coreml.m, wherever it is compiled). */
extern const AneCoremlApi ane_coreml_framework_api;

/* The default (the shim on Apple builds, NULL elsewhere) unless an override
 * is set; NULL restores the default. */
const AneCoremlApi *ane_coreml_api_get          (void);
const AneCoremlApi *ane_coreml_api_get_default  (void);
void                ane_coreml_api_set_override (const AneCoremlApi *api);

/* Where compiled models are kept: $XDG_CACHE_HOME/ane-glib/coreml (the
 * backend and the compute plan share it; ane_coreml_compile creates it). */
char               *ane_coreml_cache_dir        (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneCoremlModel, ane_coreml_model_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneCoremlState, ane_coreml_state_free)

G_END_DECLS
