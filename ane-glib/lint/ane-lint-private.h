/* lint/ane-lint-private.h: the ANE lint's rule table and what its rules see
 *
 * The lint is a third table of the same kind as the op catalog and the MIL
 * op signatures: one row per rule (ane-lint-rules.c), each with the check it
 * makes, its severity, a one-line reason and the public source it was read
 * from. The walker (ane-lint.c) types every value of a program with the
 * type-inference mirror (mil/ane-mil-infer-private.h), hands each op to the
 * op and tensor rules as an AneLintSite and each function to the program
 * rules as an AneLintFunction, and files what fires in an AneLintReport.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"
#include "ane-lint.h"
#include "mil/ane-coreml-proto-private.h"
#include "mil/ane-mil-infer-private.h"

G_BEGIN_DECLS

typedef struct _AneLintSite     AneLintSite;
typedef struct _AneLintFunction AneLintFunction;

/* A rule's check: TRUE when it fires, with what it saw appended to message
 * (one clause naming the offending value, shape or count; the walker adds
 * the op). */
typedef gboolean (*AneLintOpCheck)       (const AneLintSite     *site,
                                          GString               *message);
typedef gboolean (*AneLintFunctionCheck) (const AneLintFunction *fn,
                                          GString               *message);

/* One row of the table; also the public boxed AneLintRule (static rows:
 * copy and free do nothing). */
struct _AneLintRule
{
  const char          *id;
  AneLintScope         scope;
  AneLintSeverity      severity;
  AneLintConfidence    confidence;
  const char          *check;       /* what fires it, one sentence */
  const char          *reason;      /* why it matters, one line */
  const char          *source;      /* "owner/repo path:lines" (several separated by "; ") */
  AneLintOpCheck       check_op;        /* SCOPE_OP and SCOPE_TENSOR */
  AneLintFunctionCheck check_function;  /* SCOPE_PROGRAM */
};

/* The table, in the order reports and docs list it. */
const AneLintRule *ane_lint_rules_get      (guint *n_rules);
/* Weight bytes per program past which the weights-over-sram rule fires. */
guint64            ane_lint_weight_budget  (void);

/* One function of the program being linted. */
struct _AneLintFunction
{
  const char           *name;
  AneMilTarget          target;
  const AneMilFunction *function;
  AneLintFlags          flags;
  GPtrArray            *inputs;        /* AneMilVal* per function input (tensors and states) */
  GPtrArray            *input_names;   /* const char* */
  GPtrArray            *outputs;       /* AneMilVal* per block output (NULL entries: unknown) */
  GPtrArray            *output_names;  /* const char* */
  guint                 index;         /* of the function in the program */
  guint                 n_states;
  guint                 n_ops;         /* compute ops (not const) */
  guint64               weight_bytes;  /* bytes of the consts the function uses, as stored */
  guint64               dense_weight_bytes;  /* the same weights decompressed (constexpr outputs) */
  GHashTable           *producers;     /* value name -> const AneMilOperation* */
  GHashTable           *state_derived; /* value names computed from a read_state (set) */
  GPtrArray            *declared_inputs; /* a flexible program linted at its default shapes: the
                                          * inputs as declared, unknown sizes and all; else NULL */
};

/* One op of a function, as its rules see it. */
struct _AneLintSite
{
  const AneLintFunction *fn;
  const AneMilOperation *op;
  const char            *type;
  const char            *name;      /* ane_mil_op_name () */
  AneMilInferCall       *call;      /* the op's arguments; NULL if they could not be bound */
  GPtrArray             *outputs;   /* const AneMilVal* per output (NULL entries: unknown) */
  AneMilTypeEnv         *env;       /* every value defined so far */
};

/* The (first) value bound to param, or NULL. */
const AneMilVal       *ane_lint_site_arg          (const AneLintSite *site,
                                                   const char        *param);
/* The name the op binds param to (NULL for an immediate value or none). */
const char            *ane_lint_site_arg_name     (const AneLintSite *site,
                                                   const char        *param);
/* The op that computes the value bound to param, or NULL (function input,
 * immediate value). */
const AneMilOperation *ane_lint_site_producer     (const AneLintSite *site,
                                                   const char        *param);
/* The op that computes the value called name in fn, or NULL. */
const AneMilOperation *ane_lint_function_producer (const AneLintFunction *fn,
                                                   const char            *name);
/* The name an op binds param to (NULL for an immediate value or none). */
const char            *ane_lint_op_arg_name       (const AneMilOperation *op,
                                                   const char            *param);
/* Whether op is a read_state or takes a value computed from one (fn's
 * state_derived names, as far as the walk has come). */
gboolean               ane_lint_op_reads_state    (const AneLintFunction *fn,
                                                   const AneMilOperation *op);
/* Whether a value is a tensor computed at run time (not from consts). */
gboolean               ane_lint_val_is_activation (const AneMilVal   *val);
/* Bytes of one element of a MIL dtype (sub-byte types round up to 1); 0
 * for types without a size. */
guint                  ane_lint_dtype_bytes       (int                dtype);
/* "tensor<fp16, [1, 64]>" for messages (owned by the caller). */
char                  *ane_lint_val_describe      (const AneMilVal   *val);

/* The estimated cost of an op in floating-point operations; data movement
 * counts one per element moved (ane-lint-cost.c). */
double                 ane_lint_op_cost           (const AneLintSite *site);

/* The walker: every function of program linted into a new report. */
/* A program with flexible inputs linted at its default shapes: program is
 * it specialized (ane_mil_program_specialize), flexible the program as
 * written, whose function inputs the flexible-input rule reads. */
AneLintReport         *ane_lint_program_full      (const AneMilProgram *program,
                                                   const AneMilProgram *flexible,
                                                   AneLintFlags         flags,
                                                   GError             **error);
AneLintReport         *ane_lint_program           (const AneMilProgram *program,
                                                   AneLintFlags         flags,
                                                   GError             **error);

/* Filling a report (ane-lint-report.c). */
AneLintReport         *ane_lint_report_new        (AneLintFlags       flags);
void                   ane_lint_report_add_function (AneLintReport   *self,
                                                     const char      *function,
                                                     guint64          weight_bytes);
guint                  ane_lint_report_add_op     (AneLintReport     *self,
                                                   const char        *function,
                                                   const char        *type,
                                                   const char        *name,
                                                   double             cost);
/* op: the index add_op returned, or -1 for a finding about the function. */
void                   ane_lint_report_add_finding (AneLintReport    *self,
                                                    const char       *function,
                                                    int               op,
                                                    const AneLintRule *rule,
                                                    const char       *message);

G_END_DECLS
