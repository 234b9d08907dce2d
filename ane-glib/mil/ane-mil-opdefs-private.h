/* mil/ane-mil-opdefs-private.h: MIL op signatures per Core ML opset
 *
 * A static table of the MIL operations ane-glib emits (and the ones coremltools
 * emits for common layers), one row per (op, range of deployment targets) over
 * which the op's definition stays the same. Every row was transcribed by hand
 * from the op definition classes of Apple's coremltools
 * (coremltools/converters/mil/mil/ops/defs/iOS15 ... iOS18, the input_spec and
 * type_domains of each class); docs/mil-ops.md has the same facts as a table,
 * with the source file of each op.
 *
 * How coremltools' registry works, and so how this table reads:
 *  - An op class registered for opset N (register_op(opset_version=N)) is the
 *    definition for N and every later opset, until a class of the same name is
 *    registered for a later opset. The iOS15 folder registers with the default
 *    version, which for ML programs means "from iOS15 on".
 *  - A parameter is one entry of the class's InputSpec, in InputSpec order.
 *    optional=True  -> may be left out (a default applies);
 *    const=True     -> the value must be known at compile time (a const op, an
 *                      immediate value, or for constexpr ops a constexpr result).
 *  - types is either a concrete MIL dtype list ("int32", "fp16|fp32", "str",
 *    "bool") or the name of a type domain of the op ("T", "U", "SrcT"...):
 *    every parameter bound to the same domain must have the same dtype, and
 *    the domain's allowed dtypes are in AneMilOpDef.domains ("T=fp16|fp32").
 *    Tensor parameters accept a tensor or a scalar of those dtypes unless the
 *    op's own checks say otherwise.
 *  - The op attribute "name" that every serialized op carries is not a
 *    parameter and is not listed.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"

G_BEGIN_DECLS

/* Deployment targets of ML programs. The value order is the opset order. */
typedef enum {
  ANE_MIL_IOS15 = 0,   /* opset CoreML5, specification version 6, macOS12 */
  ANE_MIL_IOS16 = 1,   /* opset CoreML6, specification version 7, macOS13 */
  ANE_MIL_IOS17 = 2,   /* opset CoreML7, specification version 8, macOS14 */
  ANE_MIL_IOS18 = 3,   /* opset CoreML8, specification version 9, macOS15 */
} AneMilTarget;

#define ANE_MIL_N_TARGETS      4
/* The highest rank of a tensor an op may output (coremltools
 * mil/program.py, _check_invalid_tensor_rank: "Core ML only supports
 * tensors with rank <= 5"). */
#define ANE_MIL_MAX_RANK       5
#define ANE_MIL_TARGET_LATEST  ANE_MIL_IOS18
/* AneMilOpDef.last of a definition that no later target (up to
 * ANE_MIL_TARGET_LATEST) replaces: "still current". */
#define ANE_MIL_STILL_CURRENT  ((AneMilTarget) ANE_MIL_N_TARGETS)

/* How coremltools types a parameter (the InputType subclass). */
typedef enum {
  ANE_MIL_PARAM_TENSOR = 0, /* TensorInputType: a tensor or scalar */
  ANE_MIL_PARAM_TUPLE,      /* TupleInputType: a variadic list of values */
  ANE_MIL_PARAM_STATE,      /* StateInputType: a state<tensor> function input */
  ANE_MIL_PARAM_ANY,        /* Internal / ListOrTensorOrDict: not type-checked */
} AneMilParamKind;

typedef struct {
  const char      *name;
  gboolean         optional;
  gboolean         const_only;
  const char      *types;    /* "fp16|fp32", "int32", "bool", "str", or a domain "T" */
  AneMilParamKind  kind;
} AneMilParamDef;

typedef enum {
  /* The parameters are written as op attributes, not inputs: const's val, and
   * the constexpr_* ops of iOS16/iOS17 programs (coremltools'
   * backend/mil/load.py, translate_const / translate_constexpr). */
  ANE_MIL_OPDEF_PARAMS_AS_ATTRIBUTES = 1 << 0,
  /* A coremltools dialect op: it exists in pymil but is never written to a
   * model file (coreml_update_state becomes write_state + read_state). */
  ANE_MIL_OPDEF_NOT_SERIALIZED       = 1 << 1,
  /* No pymil op class: only coremltools' serializer writes it (write_state). */
  ANE_MIL_OPDEF_SERIALIZER_ONLY      = 1 << 2,
  /* The number of outputs depends on the call (split, cond, while_loop). */
  ANE_MIL_OPDEF_VARIADIC_OUTPUTS     = 1 << 3,
  /* The op carries nested blocks (cond, while_loop). */
  ANE_MIL_OPDEF_HAS_BLOCKS           = 1 << 4,
} AneMilOpDefFlags;

/* A type-inference rule (ane-mil-infer-private.h): reads the call's
 * arguments and appends one output per output the op class's type_inference
 * returns, or fails as that type_inference (or the class's input validation)
 * would raise. */
typedef struct _AneMilInferCall AneMilInferCall;
typedef gboolean (*AneMilInferFunc) (AneMilInferCall  *call,
                                     GError          **error);

typedef struct {
  const char            *name;
  AneMilTarget           first;    /* first target with this definition */
  AneMilTarget           last;     /* last one, or ANE_MIL_STILL_CURRENT */
  const AneMilParamDef  *params;   /* InputSpec order; ends with a NULL name */
  const char *const     *domains;  /* "T=fp16|fp32", ...; NULL-terminated */
  const char *const     *outputs;  /* one dtype or domain per output;
                                    * "?x" = present only on request;
                                    * NULL-terminated (empty: no outputs) */
  guint                  flags;    /* AneMilOpDefFlags */
  const char            *source;   /* where the definition lives in coremltools */
  const char            *notes;    /* what changed against the previous row, or NULL */
  AneMilInferFunc        infer;    /* the output-type rule of this opset's class */
} AneMilOpDef;

/* --- targets ------------------------------------------------------------ */

const char *ane_mil_target_name          (AneMilTarget  target);  /* "iOS17" */
const char *ane_mil_target_macos_name    (AneMilTarget  target);  /* "macOS14" */
const char *ane_mil_target_opset         (AneMilTarget  target);  /* "CoreML7" */
int         ane_mil_target_spec_version  (AneMilTarget  target);  /* 8; -1 if invalid */
/* Accepts (case-insensitive) "ios15".."ios18", "macos12".."macos15" and the
 * opset names "CoreML5".."CoreML8". */
gboolean    ane_mil_target_from_string   (const char   *str,
                                          AneMilTarget *out);
gboolean    ane_mil_target_from_spec_version (int           spec_version,
                                              AneMilTarget *out);

/* --- the table ---------------------------------------------------------- */

/* All rows, grouped by op name, each op's rows in target order. */
const AneMilOpDef    *ane_mil_opdefs_get          (guint              *n_rows);
/* The definition of op at target, or NULL if the op does not exist there. */
const AneMilOpDef    *ane_mil_opdef_lookup        (const char         *op,
                                                   AneMilTarget        target);
/* The first target at which op exists at all (any row); FALSE if unknown. */
gboolean              ane_mil_opdef_first_target  (const char         *op,
                                                   AneMilTarget       *first);
guint                 ane_mil_opdef_n_params      (const AneMilOpDef  *def);
guint                 ane_mil_opdef_n_outputs     (const AneMilOpDef  *def);
const AneMilParamDef *ane_mil_opdef_find_param    (const AneMilOpDef  *def,
                                                   const char         *param);
/* The dtype list a parameter accepts, with its type domain resolved
 * ("T" -> "fp16|fp32"); NULL for an unknown parameter or an untyped one. */
const char           *ane_mil_opdef_param_dtypes  (const AneMilOpDef  *def,
                                                   const char         *param);
/* TRUE if dtype (a MIL dtype name such as "fp16", "int32", "uint4") is in the
 * "|"-separated list types. */
gboolean              ane_mil_dtypes_contain      (const char         *types,
                                                   const char         *dtype);

/* Checks that a call of op at target names exactly a valid set of parameters:
 * the op must exist at target (else ANE_ERROR_UNSUPPORTED, naming op and
 * target), every name must be a parameter of it and appear once (else
 * ANE_ERROR_INVALID_ARGUMENT naming it) and every required parameter must be
 * named (else ANE_ERROR_INVALID_ARGUMENT naming it). The attribute "name" is
 * ignored. A dialect op that is never written to a file is refused with
 * ANE_ERROR_UNSUPPORTED. */
gboolean              ane_mil_opdef_check_call    (const char         *op,
                                                   AneMilTarget        target,
                                                   const char *const  *param_names,
                                                   guint               n,
                                                   GError            **error);

G_END_DECLS
