/* ane-types.h: enumerations, the error domain and dtype helpers
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <glib-object.h>
#include "ane-version.h"

G_BEGIN_DECLS

/**
 * ANE_MAX_RANK:
 *
 * The largest tensor rank ane-glib handles (MIL itself allows more, but the
 * Neural Engine and every op here work within rank 6).
 */
#define ANE_MAX_RANK 6

/**
 * ANE_ERROR:
 *
 * The error domain of ane-glib.
 */
#define ANE_ERROR (ane_error_quark ())

/**
 * AneError:
 * @ANE_ERROR_INVALID_ARGUMENT: an argument is out of range or malformed
 * @ANE_ERROR_SHAPE: shapes do not agree (the message names op, operand and shapes)
 * @ANE_ERROR_DTYPE: a dtype is not accepted by an op or does not match
 * @ANE_ERROR_NOT_FOUND: a named input, param, output or state does not exist
 * @ANE_ERROR_INVALID_GRAPH: the graph is malformed (cycle, foreign tensor, no outputs)
 * @ANE_ERROR_PARSE: a file could not be parsed (JSON, safetensors, protobuf, MIL text)
 * @ANE_ERROR_IO: reading or writing a file failed
 * @ANE_ERROR_UNSUPPORTED: valid request that this backend or target cannot do
 * @ANE_ERROR_OVERFLOW: a size computation would overflow
 * @ANE_ERROR_NOT_COMPILED: the executable must be compiled first
 * @ANE_ERROR_MISSING_PARAM: a param has no value bound
 * @ANE_ERROR_TOO_LARGE: an artifact exceeds a format or device limit
 * @ANE_ERROR_FAILED: any other failure
 * @ANE_ERROR_TYPE_MISMATCH: a MIL program breaks Apple's loader contract: an op's
 *   declared output type differs from the type Apple's loader infers for it, or an
 *   op is given an input it refuses (the message names op, value and both types)
 *
 * Error codes in the %ANE_ERROR domain.
 */
typedef enum {
  ANE_ERROR_INVALID_ARGUMENT,
  ANE_ERROR_SHAPE,
  ANE_ERROR_DTYPE,
  ANE_ERROR_NOT_FOUND,
  ANE_ERROR_INVALID_GRAPH,
  ANE_ERROR_PARSE,
  ANE_ERROR_IO,
  ANE_ERROR_UNSUPPORTED,
  ANE_ERROR_OVERFLOW,
  ANE_ERROR_NOT_COMPILED,
  ANE_ERROR_MISSING_PARAM,
  ANE_ERROR_TOO_LARGE,
  ANE_ERROR_FAILED,
  ANE_ERROR_TYPE_MISMATCH,
} AneError;

ANE_AVAILABLE_IN_ALL
GQuark ane_error_quark (void);

/**
 * AneDType:
 * @ANE_DTYPE_FLOAT32: IEEE 754 binary32
 * @ANE_DTYPE_FLOAT16: IEEE 754 binary16
 * @ANE_DTYPE_BFLOAT16: bfloat16 (the top half of a binary32)
 * @ANE_DTYPE_INT8: signed 8-bit integer
 * @ANE_DTYPE_UINT8: unsigned 8-bit integer
 * @ANE_DTYPE_INT16: signed 16-bit integer
 * @ANE_DTYPE_INT32: signed 32-bit integer
 * @ANE_DTYPE_INT64: signed 64-bit integer
 * @ANE_DTYPE_BOOL: boolean, one byte per element (0 or 1)
 * @ANE_DTYPE_Q8_0: GGUF block type Q8_0 (32 elements, 34 bytes)
 * @ANE_DTYPE_Q4_0: GGUF block type Q4_0 (32 elements, 18 bytes)
 * @ANE_DTYPE_Q4_1: GGUF block type Q4_1 (32 elements, 20 bytes)
 * @ANE_DTYPE_Q5_0: GGUF block type Q5_0 (32 elements, 22 bytes)
 * @ANE_DTYPE_Q5_1: GGUF block type Q5_1 (32 elements, 24 bytes)
 * @ANE_DTYPE_Q2_K: GGUF k-quant Q2_K (256 elements, 84 bytes)
 * @ANE_DTYPE_Q3_K: GGUF k-quant Q3_K (256 elements, 110 bytes)
 * @ANE_DTYPE_Q4_K: GGUF k-quant Q4_K (256 elements, 144 bytes)
 * @ANE_DTYPE_Q5_K: GGUF k-quant Q5_K (256 elements, 176 bytes)
 * @ANE_DTYPE_Q6_K: GGUF k-quant Q6_K (256 elements, 210 bytes)
 * @ANE_DTYPE_Q8_K: GGUF k-quant Q8_K (256 elements, 292 bytes)
 *
 * Element types. Block types hold whole GGUF blocks: a tensor of a block type
 * has a logical element shape whose innermost dimension is a multiple of the
 * block size, and its bytes are the blocks back to back, as in a GGUF file.
 */
typedef enum {
  ANE_DTYPE_FLOAT32,
  ANE_DTYPE_FLOAT16,
  ANE_DTYPE_BFLOAT16,
  ANE_DTYPE_INT8,
  ANE_DTYPE_UINT8,
  ANE_DTYPE_INT16,
  ANE_DTYPE_INT32,
  ANE_DTYPE_INT64,
  ANE_DTYPE_BOOL,
  ANE_DTYPE_Q8_0,
  ANE_DTYPE_Q4_0,
  ANE_DTYPE_Q4_1,
  ANE_DTYPE_Q5_0,
  ANE_DTYPE_Q5_1,
  ANE_DTYPE_Q2_K,
  ANE_DTYPE_Q3_K,
  ANE_DTYPE_Q4_K,
  ANE_DTYPE_Q5_K,
  ANE_DTYPE_Q6_K,
  ANE_DTYPE_Q8_K,
} AneDType;


ANE_AVAILABLE_IN_ALL
const char *ane_dtype_to_string (AneDType dtype);
ANE_AVAILABLE_IN_ALL
gboolean    ane_dtype_from_string (const char *name,
                                   AneDType   *dtype);
ANE_AVAILABLE_IN_ALL
gboolean    ane_dtype_is_float (AneDType dtype);
ANE_AVAILABLE_IN_ALL
gboolean    ane_dtype_is_integer (AneDType dtype);
ANE_AVAILABLE_IN_ALL
gboolean    ane_dtype_is_block (AneDType dtype);
ANE_AVAILABLE_IN_ALL
guint       ane_dtype_block_size (AneDType dtype);
ANE_AVAILABLE_IN_ALL
guint       ane_dtype_block_bytes (AneDType dtype);

ANE_AVAILABLE_IN_ALL
guint16     ane_float_to_half (float value);
ANE_AVAILABLE_IN_ALL
float       ane_half_to_float (guint16 bits);
ANE_AVAILABLE_IN_ALL
guint16     ane_float_to_bfloat16 (float value);
ANE_AVAILABLE_IN_ALL
float       ane_bfloat16_to_float (guint16 bits);

/**
 * AneBackend:
 * @ANE_BACKEND_REFERENCE: the IR reference evaluator (plain loops, the executable spec)
 * @ANE_BACKEND_CPU: the interpreter of the lowered MIL program
 * @ANE_BACKEND_COREML: CoreML.framework (Apple platforms)
 * @ANE_BACKEND_ANE: the Neural Engine's in-memory compile path (Apple platforms)
 * @ANE_BACKEND_AUTO: the best backend this machine offers
 *
 * Where an [class@Ane.Executable] runs.
 */
typedef enum {
  ANE_BACKEND_REFERENCE,
  ANE_BACKEND_CPU,
  ANE_BACKEND_COREML,
  ANE_BACKEND_ANE,
  ANE_BACKEND_AUTO,
} AneBackend;

/**
 * AneComputeUnits:
 * @ANE_COMPUTE_UNITS_ALL: CPU, GPU and Neural Engine (`MLComputeUnitsAll`), CoreML decides per op
 * @ANE_COMPUTE_UNITS_CPU_ONLY: the CPU only (`MLComputeUnitsCPUOnly`)
 * @ANE_COMPUTE_UNITS_CPU_AND_GPU: CPU and GPU (`MLComputeUnitsCPUAndGPU`)
 * @ANE_COMPUTE_UNITS_CPU_AND_NE: CPU and Neural Engine (`MLComputeUnitsCPUAndNeuralEngine`)
 *
 * Which devices the CoreML backend lets CoreML.framework use
 * (`MLModelConfiguration.computeUnits`); see
 * [method@Ane.Executable.set_compute_units].
 */
typedef enum {
  ANE_COMPUTE_UNITS_ALL,
  ANE_COMPUTE_UNITS_CPU_ONLY,
  ANE_COMPUTE_UNITS_CPU_AND_GPU,
  ANE_COMPUTE_UNITS_CPU_AND_NE,
} AneComputeUnits;

/**
 * AneComputeDevice:
 * @ANE_COMPUTE_DEVICE_NONE: no device (CoreML gave no usage for the operation)
 * @ANE_COMPUTE_DEVICE_CPU: the CPU (`MLCPUComputeDevice`)
 * @ANE_COMPUTE_DEVICE_GPU: the GPU (`MLGPUComputeDevice`)
 * @ANE_COMPUTE_DEVICE_NEURAL_ENGINE: the Neural Engine (`MLNeuralEngineComputeDevice`)
 *
 * The devices CoreML can run an operation on, as a set of bits; see
 * [class@Ane.ComputePlan].
 */
typedef enum /*< flags >*/ {
  ANE_COMPUTE_DEVICE_NONE = 0,
  ANE_COMPUTE_DEVICE_CPU = 1 << 0,
  ANE_COMPUTE_DEVICE_GPU = 1 << 1,
  ANE_COMPUTE_DEVICE_NEURAL_ENGINE = 1 << 2,
} AneComputeDevice;

/**
 * AneGeluApproximation:
 * @ANE_GELU_EXACT: `0.5 x (1 + erf(x / sqrt 2))`
 * @ANE_GELU_TANH: `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`
 *
 * The form of [method@Ane.Graph.gelu].
 */
typedef enum {
  ANE_GELU_EXACT,
  ANE_GELU_TANH,
} AneGeluApproximation;

/**
 * AneRopeMode:
 * @ANE_ROPE_NEOX: rotate the two halves of each head (`rotate_half`, GPT-NeoX / HF LLaMA)
 * @ANE_ROPE_INTERLEAVED: rotate consecutive pairs `(x[2i], x[2i+1])` (llama2.c, GGUF LLaMA)
 *
 * How [method@Ane.Graph.rope] pairs the features it rotates.
 */
typedef enum {
  ANE_ROPE_NEOX,
  ANE_ROPE_INTERLEAVED,
} AneRopeMode;

/**
 * AneLlamaCacheWrite:
 * @ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE: MIL `slice_update` (iOS18) writes the
 *   step's rows of each key/value cache at a position the host computes,
 *   given as the int32 inputs `write_begin` and `write_end`; the program does
 *   no integer maths, so every op stays on the Neural Engine
 * @ANE_LLAMA_CACHE_WRITE_ONE_HOT: the rows are blended in with float inputs
 *   (`write`, and `place` for a prompt step): `cache + (new - cache)·write`.
 *   Every input is a float tensor, which the Neural Engine's private path
 *   needs (it binds float16 surfaces only), and no op needs iOS18
 *
 * How the Neural Engine-shaped LLaMA steps
 * ([method@Ane.LlamaModel.build_ane_decode] and the others) write the new
 * keys and values into their caches; see
 * [method@Ane.LlamaModel.build_ane_step].
 *
 * Since: 0.2
 */
typedef enum {
  ANE_LLAMA_CACHE_WRITE_SLICE_UPDATE,
  ANE_LLAMA_CACHE_WRITE_ONE_HOT,
} AneLlamaCacheWrite;

/**
 * AnePoolKind:
 * @ANE_POOL_MAX: maximum over the window
 * @ANE_POOL_AVG: mean over the window
 *
 * The reduction of [method@Ane.Graph.pool].
 */
typedef enum {
  ANE_POOL_MAX,
  ANE_POOL_AVG,
} AnePoolKind;

/**
 * AneTarget:
 * @ANE_TARGET_IOS15: iOS 15: ML program specification version 6, opset CoreML5
 * @ANE_TARGET_IOS16: iOS 16: specification version 7, opset CoreML6
 * @ANE_TARGET_IOS17: iOS 17: specification version 8, opset CoreML7
 * @ANE_TARGET_IOS18: iOS 18: specification version 9, opset CoreML8 (states, SDPA, blockwise int4)
 * @ANE_TARGET_MACOS12: macOS 12, the same programs as iOS 15
 * @ANE_TARGET_MACOS13: macOS 13, the same programs as iOS 16
 * @ANE_TARGET_MACOS14: macOS 14, the same programs as iOS 17
 * @ANE_TARGET_MACOS15: macOS 15, the same programs as iOS 18
 *
 * The deployment target a graph is lowered for: it fixes the specification
 * version, the MIL opset and so which ops exist.
 */
typedef enum {
  ANE_TARGET_IOS15,
  ANE_TARGET_IOS16,
  ANE_TARGET_IOS17,
  ANE_TARGET_IOS18,
  ANE_TARGET_MACOS12,
  ANE_TARGET_MACOS13,
  ANE_TARGET_MACOS14,
  ANE_TARGET_MACOS15,
} AneTarget;

/**
 * AnePrecision:
 * @ANE_PRECISION_FLOAT16: compute in float16 inside the program, as Apple's
 *   converter does by default (float32 inputs and outputs are cast at the boundary)
 * @ANE_PRECISION_FLOAT32: compute in float32
 *
 * The float type a lowered program computes in.
 */
typedef enum {
  ANE_PRECISION_FLOAT16,
  ANE_PRECISION_FLOAT32,
} AnePrecision;

/**
 * AneGraphLoadFlags:
 * @ANE_GRAPH_LOAD_NONE: the safe default: the weights file a graph's JSON
 *   names must be a regular file inside the JSON file's directory
 * @ANE_GRAPH_LOAD_ALLOW_OUTSIDE_WEIGHTS: also open a weights file the JSON
 *   names by an absolute path, by a path leaving its directory (`..`), or
 *   through a symbolic link that leads out of it; only for documents you
 *   trust, since a graph file received from someone else could otherwise
 *   make the loader read any file you can read
 *
 * How [func@Ane.Graph.load_full] treats the side-car weights file that a
 * graph document names.
 */
typedef enum /*< flags >*/ {
  ANE_GRAPH_LOAD_NONE = 0,
  ANE_GRAPH_LOAD_ALLOW_OUTSIDE_WEIGHTS = 1 << 0,
} AneGraphLoadFlags;

/**
 * AneLintVerdict:
 * @ANE_LINT_VERDICT_ANE: the operation stays on the Neural Engine as far as
 *   the lint's rules know
 * @ANE_LINT_VERDICT_ANE_SLOW: it stays on the Neural Engine but a rule says it
 *   runs slowly there (padding, layout copies, weights past the SRAM budget)
 * @ANE_LINT_VERDICT_FALLS_BACK: Core ML would run it on the GPU or the CPU
 * @ANE_LINT_VERDICT_REFUSED_PRIVATE: the private in-memory compile path
 *   refuses it (only with %ANE_LINT_PRIVATE)
 *
 * Where [class@Ane.LintReport] expects an operation to run, from the worst
 * rule that fired on it; the values are ordered from best to worst.
 *
 * Since: 0.2
 */
typedef enum {
  ANE_LINT_VERDICT_ANE,
  ANE_LINT_VERDICT_ANE_SLOW,
  ANE_LINT_VERDICT_FALLS_BACK,
  ANE_LINT_VERDICT_REFUSED_PRIVATE,
} AneLintVerdict;

/**
 * AneLintSeverity:
 * @ANE_LINT_SEVERITY_FP16_UNSAFE: numerically unsafe in float16 (overflow or
 *   lost precision); the placement is unchanged
 * @ANE_LINT_SEVERITY_SLOW: runs on the Neural Engine, slowly
 * @ANE_LINT_SEVERITY_FALLS_BACK: makes Core ML run the operation on the GPU or CPU
 * @ANE_LINT_SEVERITY_REFUSED_PRIVATE: refused by the private compile path;
 *   such rules run only with %ANE_LINT_PRIVATE
 *
 * What a firing [struct@Ane.LintRule] means, ordered from mildest to worst.
 *
 * Since: 0.2
 */
typedef enum {
  ANE_LINT_SEVERITY_FP16_UNSAFE,
  ANE_LINT_SEVERITY_SLOW,
  ANE_LINT_SEVERITY_FALLS_BACK,
  ANE_LINT_SEVERITY_REFUSED_PRIVATE,
} AneLintSeverity;

/**
 * AneLintScope:
 * @ANE_LINT_SCOPE_OP: the rule looks at an operation's type and parameters
 * @ANE_LINT_SCOPE_TENSOR: the rule looks at the types and shapes of an
 *   operation's inputs and outputs, whatever the operation
 * @ANE_LINT_SCOPE_PROGRAM: the rule looks at a whole function (its
 *   interface, its weights, its states)
 *
 * What a [struct@Ane.LintRule] examines.
 *
 * Since: 0.2
 */
typedef enum {
  ANE_LINT_SCOPE_OP,
  ANE_LINT_SCOPE_TENSOR,
  ANE_LINT_SCOPE_PROGRAM,
} AneLintScope;

/**
 * AneLintConfidence:
 * @ANE_LINT_CONFIDENCE_MEASURED: the source measured it on Apple hardware
 *   (a compute plan, a performance report, a failed compile, timings)
 * @ANE_LINT_CONFIDENCE_DOCUMENTED: Apple documents it
 * @ANE_LINT_CONFIDENCE_INFERRED: inferred from what the sources say (by them
 *   or by this library); not confirmed on hardware
 *
 * How sure a [struct@Ane.LintRule] is, by how its source knows it.
 *
 * Since: 0.2
 */
typedef enum {
  ANE_LINT_CONFIDENCE_MEASURED,
  ANE_LINT_CONFIDENCE_DOCUMENTED,
  ANE_LINT_CONFIDENCE_INFERRED,
} AneLintConfidence;

/**
 * AneLintFlags:
 * @ANE_LINT_NONE: lint for Core ML (`MLModel` with the Neural Engine allowed)
 * @ANE_LINT_PRIVATE: also apply the demands of the private in-memory compile
 *   path (float16 `[1, C, 1, S]` inputs and outputs, no states, its compile
 *   budget)
 *
 * How [method@Ane.Package.lint] judges a program.
 *
 * Since: 0.2
 */
typedef enum /*< flags >*/ {
  ANE_LINT_NONE = 0,
  ANE_LINT_PRIVATE = 1 << 0,
} AneLintFlags;

/**
 * AneLowering:
 * @ANE_LOWERING_DEFAULT: the Neural Engine profile for a package (and so
 *   for Core ML and the private Neural Engine path); the CPU backend runs
 *   the graph lowered generically
 * @ANE_LOWERING_GENERIC: each op lowered in the graph's own layout, as a
 *   CPU or GPU program would compute it
 * @ANE_LOWERING_NEURAL_ENGINE: the Neural Engine profile: linear layers as
 *   1×1 convolutions on channels-first `[B, C, 1, S]` activations, RMSNorm as
 *   a layer norm, attention with an additive finite mask and grouped-query
 *   heads sliced (docs/ane-lowering.md, "Passes for any graph"); the
 *   results equal the generic lowering's within float16 rounding
 *
 * How a graph is lowered to a program, chosen with
 * [ctor@Ane.Package.new_from_graph_with_lowering].
 *
 * Since: 0.2
 */
typedef enum {
  ANE_LOWERING_DEFAULT,
  ANE_LOWERING_GENERIC,
  ANE_LOWERING_NEURAL_ENGINE,
} AneLowering;

ANE_AVAILABLE_IN_ALL
const char *ane_target_to_string   (AneTarget   target);
ANE_AVAILABLE_IN_ALL
gboolean    ane_target_from_string (const char *name,
                                    AneTarget  *target);

G_END_DECLS
