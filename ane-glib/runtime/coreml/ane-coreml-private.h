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

/**
 * AneCoremlComputeUnits:
 * @ANE_COREML_COMPUTE_ALL: MLComputeUnitsAll
 * @ANE_COREML_COMPUTE_CPU_ONLY: MLComputeUnitsCPUOnly
 * @ANE_COREML_COMPUTE_CPU_AND_GPU: MLComputeUnitsCPUAndGPU
 * @ANE_COREML_COMPUTE_CPU_AND_NE: MLComputeUnitsCPUAndNeuralEngine
 *
 * Which devices CoreML may use (MLModelConfiguration.computeUnits).
 */
typedef enum {
  ANE_COREML_COMPUTE_ALL,
  ANE_COREML_COMPUTE_CPU_ONLY,
  ANE_COREML_COMPUTE_CPU_AND_GPU,
  ANE_COREML_COMPUTE_CPU_AND_NE,
} AneCoremlComputeUnits;

typedef struct _AneCoremlModel AneCoremlModel;
typedef struct _AneCoremlState AneCoremlState;

/* The MLComputeUnits value (CPUOnly 0, CPUAndGPU 1, All 2,
 * CPUAndNeuralEngine 3) for @units; -1 for an unknown value. */
gint64          ane_coreml_compute_units_to_ml (AneCoremlComputeUnits units);

/* SHA-256 (hex) of a package's content: every regular file under @path (or
 * @path itself if it is a file), by sorted relative path, each as
 * "path\0size\0bytes". Identical bytes give the identical key. */
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

/* Loads a compiled model (+[MLModel modelWithContentsOfURL:configuration:error:]). */
AneCoremlModel *ane_coreml_model_load       (const char             *compiled_path,
                                             AneCoremlComputeUnits   units,
                                             GError                **error);
void            ane_coreml_model_free       (AneCoremlModel *model);

/* A fresh MLState (-[MLModel newState]) for a stateful program; the state
 * is updated in place by every prediction made with it. */
AneCoremlState *ane_coreml_model_new_state  (AneCoremlModel *model,
                                             GError        **error);
void            ane_coreml_state_free       (AneCoremlState *state);

/* Runs one prediction. @inputs: name -> AneTensor (float32, float16 or
 * int32; other dtypes are converted to float32). @state may be NULL.
 * Returns the output features as AneTensor, sorted by name: float32 for
 * float16/float32/double arrays (fp16 widened), int32 for int32 arrays.
 * Outputs are copied by their strides (CoreML pads innermost dimensions). */
GPtrArray      *ane_coreml_model_predict    (AneCoremlModel *model,
                                             GHashTable     *inputs,
                                             AneCoremlState *state,
                                             GError        **error);

/* Element kinds of the strided copies (the MLMultiArrayDataType subset). */
typedef enum {
  ANE_COREML_ELEM_FLOAT32,
  ANE_COREML_ELEM_FLOAT16,
  ANE_COREML_ELEM_INT32,
  ANE_COREML_ELEM_FLOAT64,
} AneCoremlElem;

/* Copies a strided array (@strides in elements, as MLMultiArray.strides) into
 * a dense row-major buffer of @dst_dtype (FLOAT32 or INT32). */
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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneCoremlModel, ane_coreml_model_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneCoremlState, ane_coreml_state_free)

G_END_DECLS
