/* mil/ane-mil-infer-private.h: the mirror of coremltools' MIL type inference
 *
 * Apple's tools do not take a program's declared types on trust. coremltools'
 * milproto loader (coremltools/converters/mil/frontend/milproto/load.py,
 * _load_operation) rebuilds every op with its pymil class, which validates the
 * inputs (mil/input_type.py, InputSpec.validate_inputs: dtype domains, one
 * dtype per domain, const-only inputs) and infers the output types
 * (type_inference of the op class), then fails with "Mismatch between var
 * types in specification vs PyMIL" where a declared output type differs. Its
 * comparison (mil/types/type_tensor.py, is_compatible_type) wants the same
 * dtype, the same rank (a rank-0 tensor is a scalar) and equal dimensions,
 * where a symbolic dimension matches anything.
 *
 * This file is that judgement in C, for every row of the op signature table
 * (ane-mil-opdefs.c): each row carries an AneMilInferFunc, written from the
 * type_inference of the op class named in the row's source, for that opset.
 * The MIL builder runs it on every op it emits, so a lowering cannot write a
 * program Apple's loader would refuse; ane_mil_infer_check_program runs it
 * over any program (ane_package_check_types, `ane-tool inspect --check`).
 *
 * What the mirror knows of a value (AneMilVal): its kind (tensor, state, or
 * something it does not model), dtype, shape with ANE_MIL_DIM_UNKNOWN for
 * what coremltools would call a symbol, whether it descends from consts
 * (Var.is_descendant_of_const) and, for consts and the few ops whose value it
 * folds, the value itself (small tensors only: values decide types only
 * where they are axes, shapes, sizes or modes).
 *
 * Read from coremltools ANE_MIL_INFER_COREMLTOOLS_VERSION; docs/mil-ops.md has
 * the rules and the places where MIL's documentation and the inference differ.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "mil/ane-coreml-proto-private.h"
#include "mil/ane-mil-opdefs-private.h"

G_BEGIN_DECLS

/* The coremltools release the rules were read from (and that the contract
 * suite installs: tools/requirements-contract.txt). */
#define ANE_MIL_INFER_COREMLTOOLS_VERSION "9.0"

/* MIL DataType values (MIL.proto), short. */
#define ANE_MIL_DT_BOOL    CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BOOL
#define ANE_MIL_DT_STRING  CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__STRING
#define ANE_MIL_DT_FP16    CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16
#define ANE_MIL_DT_FP32    CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32
#define ANE_MIL_DT_FP64    CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT64
#define ANE_MIL_DT_BF16    CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__BFLOAT16
#define ANE_MIL_DT_INT8    CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT8
#define ANE_MIL_DT_INT16   CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT16
#define ANE_MIL_DT_INT32   CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT32
#define ANE_MIL_DT_INT64   CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT64
#define ANE_MIL_DT_INT4    CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT4
#define ANE_MIL_DT_UINT8   CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT8
#define ANE_MIL_DT_UINT16  CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT16
#define ANE_MIL_DT_UINT32  CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT32
#define ANE_MIL_DT_UINT64  CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT64
#define ANE_MIL_DT_UINT4   CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT4
#define ANE_MIL_DT_UINT2   CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT2
#define ANE_MIL_DT_UINT1   CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT1
#define ANE_MIL_DT_UINT6   CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT6
#define ANE_MIL_DT_UINT3   CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__UINT3

/* Tensors of higher rank are not modelled (kind OTHER). */
#define ANE_MIL_INFER_MAX_RANK   16
/* A dimension coremltools would infer as a symbol: it matches any size. */
#define ANE_MIL_DIM_UNKNOWN      ((gint64) -1)
/* Known values are kept up to this many elements (larger consts are known to
 * be const, not what they hold). */
#define ANE_MIL_INFER_MAX_VALUES 4096

typedef enum {
  ANE_MIL_VAL_TENSOR = 0,   /* a tensor; rank 0 is a scalar */
  ANE_MIL_VAL_STATE,        /* state<tensor<...>>: dtype/shape of the wrapped tensor */
  ANE_MIL_VAL_OTHER,        /* a list, dictionary, or a type the mirror does not model */
} AneMilValKind;

typedef struct {
  AneMilValKind kind;
  int           dtype;         /* MIL DataType */
  guint         rank;
  gint64        shape[ANE_MIL_INFER_MAX_RANK];  /* ANE_MIL_DIM_UNKNOWN: symbolic */
  gboolean      const_descendant;  /* Var.is_descendant_of_const */
  /* The value, where known: n_values elements in row-major order, as doubles
   * (exact for every integer a MIL shape or axis can hold), or a string. */
  double       *values;        /* NULL: not known */
  gsize         n_values;
  char         *string;        /* a str value, or NULL */
} AneMilVal;

/* --- values ------------------------------------------------------------- */

/* A tensor (rank 0: a scalar) of unknown value; shape may hold
 * ANE_MIL_DIM_UNKNOWN. */
AneMilVal  *ane_mil_val_new          (int            dtype,
                                      const gint64  *shape,
                                      guint          rank);
AneMilVal  *ane_mil_val_new_state    (int            dtype,
                                      const gint64  *shape,
                                      guint          rank);
/* A const tensor holding values (n = the shape's element count). */
AneMilVal  *ane_mil_val_new_values   (int            dtype,
                                      const gint64  *shape,
                                      guint          rank,
                                      const double  *values);
/* Shorthands for tests and rules: a const int32 scalar, an int32 vector, a
 * bool scalar, a str. */
AneMilVal  *ane_mil_val_new_int      (gint64         value);
AneMilVal  *ane_mil_val_new_ints     (const gint64  *values,
                                      gsize          n);
AneMilVal  *ane_mil_val_new_bool     (gboolean       value);
AneMilVal  *ane_mil_val_new_float    (int            dtype,
                                      double         value);
AneMilVal  *ane_mil_val_new_string   (const char    *value);
AneMilVal  *ane_mil_val_new_other    (void);
AneMilVal  *ane_mil_val_copy         (const AneMilVal *val);
void        ane_mil_val_free         (AneMilVal     *val);
/* The value's type as MIL text writes it: "tensor<fp16, [1, ?]>", "fp32"
 * for a scalar, "state<tensor<fp16, [4]>>", "string". */
char       *ane_mil_val_type_string  (const AneMilVal *val);
/* The number of elements of a fully known shape; -1 if a dimension is
 * unknown or the product overflows. */
gint64      ane_mil_val_n_elements   (const AneMilVal *val);
/* Whether the declared type agrees with the inferred one as coremltools
 * judges it (is_compatible_type): same kind, dtype and rank, and equal
 * dimensions where both are known. */
gboolean    ane_mil_val_type_compatible (const AneMilVal *declared,
                                         const AneMilVal *inferred);
/* A value type of a program (tensor, state, or OTHER); rank and dimension
 * sizes are checked, a negative or unknown dimension becomes unknown. */
AneMilVal  *ane_mil_val_from_value_type (const AneMilValueType *type);
/* The value a Value message holds: an immediate tensor (decoded when it has
 * at most ANE_MIL_INFER_MAX_VALUES elements) or a blob (const, value not
 * read). NULL with error if the message is malformed (element count against
 * its type, missing type). */
AneMilVal  *ane_mil_val_from_value   (const AneMilValue *value,
                                      const char        *what,
                                      GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilVal, ane_mil_val_free)

/* MIL DataType facts (names and float/signed tests: ane-mil-text-private.h,
 * ane_mil_text_dtype_by_enum ()). */
gboolean    ane_mil_dt_is_int        (int dtype);   /* any signed or unsigned integer, sub-byte too */
/* "fp16", "int32", "uint4", "bool", "string"; "unknown" otherwise. */
const char *ane_mil_dt_name          (int dtype);
/* coremltools' types.promote_types (numpy's promotion, except that a float
 * and a signed integer give the float); -1 when there is no common type. */
int         ane_mil_dt_promote       (int a,
                                      int b);

/* --- one call of an op -------------------------------------------------- */

/* AneMilInferCall and AneMilInferFunc (a rule) are declared with the table,
 * ane-mil-opdefs-private.h. */

/* A call of op at target, with n_declared outputs declared by the program
 * (rules of ops whose output count depends on the call read it). */
AneMilInferCall *ane_mil_infer_call_new      (const char       *op,
                                              const char       *name,
                                              AneMilTarget      target,
                                              guint             n_declared);
void             ane_mil_infer_call_free     (AneMilInferCall  *call);
/* Binds param; binding the same param again makes a tuple. Takes val. */
void             ane_mil_infer_call_bind     (AneMilInferCall  *call,
                                              const char       *param,
                                              AneMilVal        *val);
/* Validates the inputs as pymil's InputSpec does and runs the row's rule:
 * ANE_ERROR_UNSUPPORTED if the op does not exist at the target or the mirror
 * has no rule for it, ANE_ERROR_TYPE_MISMATCH for inputs the op refuses or a
 * call its type inference rejects. */
gboolean         ane_mil_infer_call_run      (AneMilInferCall  *call,
                                              GError          **error);
guint            ane_mil_infer_call_n_outputs (AneMilInferCall *call);
const AneMilVal *ane_mil_infer_call_output   (AneMilInferCall  *call,
                                              guint             i);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilInferCall, ane_mil_infer_call_free)

/* --- what rules use ----------------------------------------------------- */

struct _AneMilInferCall
{
  const char        *op;          /* op type */
  const char        *name;        /* the op's name, for messages */
  AneMilTarget       target;
  const AneMilOpDef *def;         /* the row at target (set by run) */
  guint              n_declared;  /* outputs the program declares */
  GPtrArray         *params;      /* internal: bound parameters */
  GPtrArray         *outputs;     /* AneMilVal*, appended by the rule */
  GPtrArray         *scratch;     /* internal: arrays handed out by ane_mil_infer_ints */
};

/* The (first) value bound to param, or NULL if it is not given. */
const AneMilVal *ane_mil_infer_arg           (AneMilInferCall  *call,
                                              const char       *param);
/* Tuple parameters (concat's values): count and element. */
guint            ane_mil_infer_n_args        (AneMilInferCall  *call,
                                              const char       *param);
const AneMilVal *ane_mil_infer_arg_nth       (AneMilInferCall  *call,
                                              const char       *param,
                                              guint             i);
/* Known values of param. They return FALSE if param is given but its value
 * is not known; if param is absent they give the default and TRUE.
 * ane_mil_infer_ints: *values points into the call (NULL with n = 0 when
 * absent); a scalar is one value. */
gboolean         ane_mil_infer_int           (AneMilInferCall  *call,
                                              const char       *param,
                                              gint64            default_value,
                                              gint64           *value);
gboolean         ane_mil_infer_ints          (AneMilInferCall  *call,
                                              const char       *param,
                                              gint64          **values,
                                              gsize            *n);
gboolean         ane_mil_infer_bool          (AneMilInferCall  *call,
                                              const char       *param,
                                              gboolean          default_value,
                                              gboolean         *value);
gboolean         ane_mil_infer_double        (AneMilInferCall  *call,
                                              const char       *param,
                                              double            default_value,
                                              double           *value);
/* A str param's value; default_value if absent; NULL if given but unknown. */
const char      *ane_mil_infer_string        (AneMilInferCall  *call,
                                              const char       *param,
                                              const char       *default_value);

/* Appends an output (a tensor of unknown value) and returns it, so the rule
 * may add a value (ane_mil_infer_out_set_values). */
AneMilVal       *ane_mil_infer_out           (AneMilInferCall  *call,
                                              int               dtype,
                                              const gint64     *shape,
                                              guint             rank);
/* An output with val's shape and dtype (dtype -1: val's dtype). */
AneMilVal       *ane_mil_infer_out_like      (AneMilInferCall  *call,
                                              const AneMilVal  *val,
                                              int               dtype);
/* Gives an output a known value (copied; n must match its shape). */
void             ane_mil_infer_out_set_values (AneMilVal       *out,
                                               const double    *values,
                                               gsize            n);
/* ANE_ERROR_TYPE_MISMATCH "MIL <op> '<name>' at <target>: <message>" and
 * FALSE: the call is one coremltools' type inference rejects. */
gboolean         ane_mil_infer_fail          (AneMilInferCall  *call,
                                              GError          **error,
                                              const char       *format,
                                              ...) G_GNUC_PRINTF (3, 4);

/* Shared rules of coremltools' helpers (mil/ops/defs/_utils.py). */
/* broadcast_shapes of two tensors (or scalars: a scalar takes the other's
 * shape, as infer_type_with_broadcast does); fails naming the dimension. */
gboolean         ane_mil_infer_broadcast     (AneMilInferCall  *call,
                                              const AneMilVal  *a,
                                              const AneMilVal  *b,
                                              gint64           *shape,
                                              guint            *rank,
                                              GError          **error);
/* "[2, ?, 3]": a shape as messages print it (unknown dimensions as '?'). */
char            *ane_mil_infer_dims_string   (const gint64     *shape,
                                              gsize             rank);
/* An axis in [-rank, rank) made non-negative; fails naming param otherwise. */
gboolean         ane_mil_infer_axis          (AneMilInferCall  *call,
                                              const char       *param,
                                              gint64            axis,
                                              guint             rank,
                                              guint            *out,
                                              GError          **error);

/* --- checking programs -------------------------------------------------- */

/* Names visible in a block: function inputs and op outputs; a nested block's
 * env sees its parent's. */
typedef struct _AneMilTypeEnv AneMilTypeEnv;

AneMilTypeEnv   *ane_mil_type_env_new        (AneMilTypeEnv    *parent);
void             ane_mil_type_env_free       (AneMilTypeEnv    *env);
/* Takes val. */
void             ane_mil_type_env_add        (AneMilTypeEnv    *env,
                                              const char       *name,
                                              AneMilVal        *val);
const AneMilVal *ane_mil_type_env_lookup     (AneMilTypeEnv    *env,
                                              const char       *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilTypeEnv, ane_mil_type_env_free)

/* Checks one op of a program as coremltools' loader would, then adds its
 * outputs to env (with the declared types, so one wrong op does not make its
 * consumers wrong too). const ops are typed from their value; constexpr ops
 * take their parameters from attributes or inputs; an op with nested blocks
 * (cond, while_loop) has only its signature checked. Errors:
 * ANE_ERROR_UNSUPPORTED for an op the table does not know at the target,
 * ANE_ERROR_TYPE_MISMATCH (op, name, declared and inferred types in the
 * message) for a type Apple's loader would refuse, ANE_ERROR_INVALID_ARGUMENT
 * for a malformed op (unknown value name, missing type). The outputs are
 * added in every case. */
gboolean         ane_mil_infer_check_op      (AneMilTypeEnv         *env,
                                              AneMilTarget           target,
                                              const AneMilOperation *op,
                                              GError               **error);

/* An op's arguments (and a const-like op's attributes) bound on a call as
 * ane_mil_infer_check_op binds them, without running its rule: for tools
 * that read what an op is given (the ANE lint). NULL with error for an input
 * naming nothing env defines or a malformed value. */
AneMilInferCall *ane_mil_infer_call_new_for_op (AneMilTypeEnv         *env,
                                                AneMilTarget           target,
                                                const AneMilOperation *op,
                                                GError               **error);
/* The op's "name" attribute, else its first output's name, else
 * "(unnamed)". */
const char      *ane_mil_op_name             (const AneMilOperation *op);
/* Whether an op of this type is a weight: const, or a constexpr_* whose
 * result Core ML computes once when the model loads. */
gboolean         ane_mil_op_is_const_like    (const char            *type);

/* Every op of every function of program (each at its opset's target; nested
 * blocks too): one line per op the loader would refuse, added to problems
 * ("function main: MIL select 'where' at iOS18: ..."); ops the mirror cannot
 * judge (unknown to the table) are counted in unchecked (op type -> count,
 * nullable). Returns the number of problems. */
guint            ane_mil_infer_check_program (const AneMilProgram   *program,
                                              GPtrArray             *problems,
                                              GHashTable            *unchecked);

G_END_DECLS
