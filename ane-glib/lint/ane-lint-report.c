/* lint/ane-lint-report.c: AneLintReport, what the ANE lint found
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "ane-package-private.h"
#include "lint/ane-lint-private.h"
#include "mil/ane-mil-specialize-private.h"

/**
 * AneLintReport:
 *
 * What the ANE lint found in a program: for each compute operation where it
 * would run (the Neural Engine, the Neural Engine slowly, the GPU/CPU
 * instead, or refused by the private compile path) and which rules say so;
 * for each function the share of the estimated cost that stays on the
 * Neural Engine and its weight bytes against the SRAM budget.
 *
 * The lint runs anywhere: it reads the program, not a device. Each rule is a
 * row of a table that cites the public source it was read from (see
 * [struct@Ane.LintRule] and `docs/ane-lint.md`); what the sources do not say,
 * the lint cannot know, so a clean report is a forecast, not a measurement.
 * On a Mac, [class@Ane.ComputePlan] gives Core ML's own answer.
 *
 * ```c
 * g_autoptr(AneLintReport) report = ane_package_lint (package, ANE_LINT_NONE, &error);
 * g_autofree char *text = ane_lint_report_to_string (report);
 * ```
 *
 * Since: 0.2
 */

typedef struct
{
  char           *function;
  char           *type;
  char           *name;
  double          cost;
  AneLintVerdict  verdict;
  GPtrArray      *rules;     /* const char* rule ids, NULL-terminated */
  GString        *message;   /* "; "-joined finding messages */
} LintOp;

typedef struct
{
  char              *function;
  int                op;
  const AneLintRule *rule;
  char              *message;
} LintFinding;

typedef struct
{
  char    *name;
  guint64  weight_bytes;
} LintFunction;

struct _AneLintReport
{
  GObject       parent_instance;
  AneLintFlags  flags;
  GArray       *ops;        /* LintOp */
  GArray       *findings;   /* LintFinding */
  GArray       *functions;  /* LintFunction, in program order */
};

G_DEFINE_FINAL_TYPE (AneLintReport, ane_lint_report, G_TYPE_OBJECT)

static void
clear_op (gpointer data)
{
  LintOp *op = data;

  g_free (op->function);
  g_free (op->type);
  g_free (op->name);
  g_ptr_array_unref (op->rules);
  g_string_free (op->message, TRUE);
}

static void
clear_finding (gpointer data)
{
  LintFinding *f = data;

  g_free (f->function);
  g_free (f->message);
}

static void
clear_function (gpointer data)
{
  g_free (((LintFunction *) data)->name);
}

static void
ane_lint_report_finalize (GObject *object)
{
  AneLintReport *self = ANE_LINT_REPORT (object);

  g_array_unref (self->ops);
  g_array_unref (self->findings);
  g_array_unref (self->functions);
  G_OBJECT_CLASS (ane_lint_report_parent_class)->finalize (object);
}

static void
ane_lint_report_class_init (AneLintReportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ane_lint_report_finalize;
}

static void
ane_lint_report_init (AneLintReport *self)
{
  self->ops = g_array_new (FALSE, TRUE, sizeof (LintOp));
  g_array_set_clear_func (self->ops, clear_op);
  self->findings = g_array_new (FALSE, TRUE, sizeof (LintFinding));
  g_array_set_clear_func (self->findings, clear_finding);
  self->functions = g_array_new (FALSE, TRUE, sizeof (LintFunction));
  g_array_set_clear_func (self->functions, clear_function);
}

/* --- filling ------------------------------------------------------------ */

AneLintReport *
ane_lint_report_new (AneLintFlags flags)
{
  AneLintReport *self = g_object_new (ANE_TYPE_LINT_REPORT, NULL);

  self->flags = flags;
  return self;
}

void
ane_lint_report_add_function (AneLintReport *self,
                              const char    *function,
                              guint64        weight_bytes)
{
  LintFunction fn = { g_strdup (function), weight_bytes };

  g_array_append_val (self->functions, fn);
}

guint
ane_lint_report_add_op (AneLintReport *self,
                        const char    *function,
                        const char    *type,
                        const char    *name,
                        double         cost)
{
  LintOp op = { 0 };

  op.function = g_strdup (function);
  op.type = g_strdup (type);
  op.name = g_strdup (name);
  op.cost = cost;
  op.verdict = ANE_LINT_VERDICT_ANE;
  op.rules = g_ptr_array_new ();
  g_ptr_array_add (op.rules, NULL);
  op.message = g_string_new (NULL);
  g_array_append_val (self->ops, op);
  return self->ops->len - 1;
}

static AneLintVerdict
verdict_of_severity (AneLintSeverity severity)
{
  switch (severity)
    {
    case ANE_LINT_SEVERITY_SLOW:
      return ANE_LINT_VERDICT_ANE_SLOW;
    case ANE_LINT_SEVERITY_FALLS_BACK:
      return ANE_LINT_VERDICT_FALLS_BACK;
    case ANE_LINT_SEVERITY_REFUSED_PRIVATE:
      return ANE_LINT_VERDICT_REFUSED_PRIVATE;
    case ANE_LINT_SEVERITY_FP16_UNSAFE:
    default:
      return ANE_LINT_VERDICT_ANE;
    }
}

void
ane_lint_report_add_finding (AneLintReport     *self,
                             const char        *function,
                             int                op,
                             const AneLintRule *rule,
                             const char        *message)
{
  LintFinding f = { g_strdup (function), op, rule, g_strdup (message) };

  g_array_append_val (self->findings, f);
  if (op >= 0 && (guint) op < self->ops->len)
    {
      LintOp *o = &g_array_index (self->ops, LintOp, op);

      o->verdict = MAX (o->verdict, verdict_of_severity (rule->severity));
      g_ptr_array_insert (o->rules, (int) o->rules->len - 1, (gpointer) rule->id);
      if (o->message->len > 0)
        g_string_append (o->message, "; ");
      g_string_append (o->message, message);
    }
}

/* --- entry points ------------------------------------------------------- */

/**
 * ane_package_lint:
 * @package: a package: written by this library or by anyone else
 * @flags: %ANE_LINT_PRIVATE to also apply the private compile path's demands
 *
 * Says, op by op, what in @package would run on the Neural Engine, what
 * would run there slowly, and what Core ML would move to the GPU or CPU,
 * with the rule and public source behind each verdict. Runs on any machine.
 *
 * Returns: (transfer full): the report; %NULL with %ANE_ERROR_UNSUPPORTED if
 *   the package is not an ML program or a function's opset is unknown
 *
 * Since: 0.2
 */
AneLintReport *
ane_package_lint (AnePackage    *package,
                  AneLintFlags   flags,
                  GError       **error)
{
  const AneCoreMLModel *model;

  g_return_val_if_fail (ANE_IS_PACKAGE (package), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  model = ane_package_get_model (package);
  /* a program with flexible inputs: Core ML compiles it for the Neural
   * Engine at its default shapes (flexible-input says what the others
   * cost), so that is where its ops are judged */
  if (model != NULL && model->mlprogram != NULL &&
      ane_mil_function_is_flexible (ane_mil_program_find_function (model->mlprogram,
                                                                   ane_package_get_default_function (package))))
    {
      g_autoptr(GHashTable) defaults = ane_package_default_shapes (package, NULL, NULL);
      g_autoptr(AneMilProgram) at_default = defaults != NULL
        ? ane_mil_program_specialize (model->mlprogram, ane_package_get_default_function (package), defaults, NULL)
        : NULL;

      if (at_default != NULL)
        return ane_lint_program_full (at_default, model->mlprogram, flags, error);
    }
  return ane_lint_program (model != NULL ? model->mlprogram : NULL, flags, error);
}

/**
 * ane_graph_lint:
 * @graph: a graph with outputs
 * @target: the deployment target to lower for
 * @precision: the float type to compute in
 * @flags: %ANE_LINT_PRIVATE to also apply the private compile path's demands
 *
 * Lowers @graph as [ctor@Ane.Package.new_from_graph] would and lints the
 * program that results: what the Neural Engine would get if the graph were
 * written as a package.
 *
 * Returns: (transfer full): the report, or %NULL with the lowering's error
 *
 * Since: 0.2
 */
AneLintReport *
ane_graph_lint (AneGraph      *graph,
                AneTarget      target,
                AnePrecision   precision,
                AneLintFlags   flags,
                GError       **error)
{
  g_autoptr(AnePackage) package = NULL;

  g_return_val_if_fail (ANE_IS_GRAPH (graph), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  package = ane_package_new_from_graph (graph, target, precision, error);
  if (package == NULL)
    return NULL;
  return ane_package_lint (package, flags, error);
}

/* --- reading ------------------------------------------------------------ */

#define OP_AT(self, index) (&g_array_index ((self)->ops, LintOp, (index)))
#define FINDING_AT(self, index) (&g_array_index ((self)->findings, LintFinding, (index)))

/**
 * ane_lint_report_get_flags:
 * @self: a report
 *
 * Gets the flags given to [method@Ane.Package.lint] or [method@Ane.Graph.lint].
 *
 * Returns: the flags the program was linted with
 *
 * Since: 0.2
 */
AneLintFlags
ane_lint_report_get_flags (AneLintReport *self)
{
  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), ANE_LINT_NONE);
  return self->flags;
}

/**
 * ane_lint_report_get_verdict:
 * @self: a report
 *
 * The worst verdict of any operation, or %ANE_LINT_VERDICT_REFUSED_PRIVATE
 * if a program-wide rule of the private path fired, or
 * %ANE_LINT_VERDICT_ANE_SLOW if a program-wide rule about speed fired (such
 * as weights past the SRAM budget).
 *
 * Returns: the verdict for the whole package
 *
 * Since: 0.2
 */
AneLintVerdict
ane_lint_report_get_verdict (AneLintReport *self)
{
  AneLintVerdict worst = ANE_LINT_VERDICT_ANE;

  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), ANE_LINT_VERDICT_ANE);

  for (guint i = 0; i < self->ops->len; i++)
    worst = MAX (worst, OP_AT (self, i)->verdict);
  for (guint i = 0; i < self->findings->len; i++)
    if (FINDING_AT (self, i)->op < 0)
      worst = MAX (worst, verdict_of_severity (FINDING_AT (self, i)->rule->severity));
  return worst;
}

/**
 * ane_lint_report_list_functions:
 * @self: a report
 *
 * Lists the functions of the linted program.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names of the
 *   functions linted, in program order
 *
 * Since: 0.2
 */
char **
ane_lint_report_list_functions (AneLintReport *self)
{
  GStrvBuilder *builder;
  char **names;

  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), NULL);

  builder = g_strv_builder_new ();
  for (guint i = 0; i < self->functions->len; i++)
    g_strv_builder_add (builder, g_array_index (self->functions, LintFunction, i).name);
  names = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return names;
}

/**
 * ane_lint_report_get_n_ops:
 * @self: a report
 *
 * Gets the number of operations the report judges.
 *
 * Returns: the number of compute operations (every op except `const` and
 *   `constexpr_*`, which are weights), over all functions
 *
 * Since: 0.2
 */
guint
ane_lint_report_get_n_ops (AneLintReport *self)
{
  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), 0);
  return self->ops->len;
}

#define CHECK_OP(self, index, val) G_STMT_START { \
  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), val); \
  g_return_val_if_fail ((index) < (self)->ops->len, val); } G_STMT_END

/**
 * ane_lint_report_get_op_function:
 * @self: a report
 * @index: an operation, below [method@Ane.LintReport.get_n_ops]
 *
 * Gets the function an operation belongs to.
 *
 * Returns: the function the operation belongs to
 *
 * Since: 0.2
 */
const char *
ane_lint_report_get_op_function (AneLintReport *self,
                                 guint          index)
{
  CHECK_OP (self, index, NULL);
  return OP_AT (self, index)->function;
}

/**
 * ane_lint_report_get_op_type:
 * @self: a report
 * @index: an operation
 *
 * Gets an operation's MIL type.
 *
 * Returns: the MIL op type ("conv", "gather", ...)
 *
 * Since: 0.2
 */
const char *
ane_lint_report_get_op_type (AneLintReport *self,
                             guint          index)
{
  CHECK_OP (self, index, NULL);
  return OP_AT (self, index)->type;
}

/**
 * ane_lint_report_get_op_name:
 * @self: a report
 * @index: an operation
 *
 * Gets an operation's name.
 *
 * Returns: the operation's name (its `name` attribute, else its first output)
 *
 * Since: 0.2
 */
const char *
ane_lint_report_get_op_name (AneLintReport *self,
                             guint          index)
{
  CHECK_OP (self, index, NULL);
  return OP_AT (self, index)->name;
}

/**
 * ane_lint_report_get_op_verdict:
 * @self: a report
 * @index: an operation
 *
 * Gets where an operation would run.
 *
 * Returns: where the operation would run: the verdict of the worst rule that
 *   fired on it (%ANE_LINT_VERDICT_ANE when none did, or only rules about
 *   float16 precision)
 *
 * Since: 0.2
 */
AneLintVerdict
ane_lint_report_get_op_verdict (AneLintReport *self,
                                guint          index)
{
  CHECK_OP (self, index, ANE_LINT_VERDICT_ANE);
  return OP_AT (self, index)->verdict;
}

/**
 * ane_lint_report_get_op_rules:
 * @self: a report
 * @index: an operation
 *
 * Gets the rules that fired on an operation.
 *
 * Returns: (transfer none) (array zero-terminated=1): the ids of the rules
 *   that fired on the operation, in table order; empty when none did
 *
 * Since: 0.2
 */
const char * const *
ane_lint_report_get_op_rules (AneLintReport *self,
                              guint          index)
{
  CHECK_OP (self, index, NULL);
  return (const char * const *) OP_AT (self, index)->rules->pdata;
}

/**
 * ane_lint_report_get_op_message:
 * @self: a report
 * @index: an operation
 *
 * Gets the messages of the rules that fired on an operation.
 *
 * Returns: what the rules that fired saw, joined by "; " (empty when none
 *   fired)
 *
 * Since: 0.2
 */
const char *
ane_lint_report_get_op_message (AneLintReport *self,
                                guint          index)
{
  CHECK_OP (self, index, NULL);
  return OP_AT (self, index)->message->str;
}

/**
 * ane_lint_report_get_op_cost:
 * @self: a report
 * @index: an operation
 *
 * The operation's estimated cost: floating-point operations for arithmetic
 * (a multiply-add counts two), one per element for data movement. Unknown
 * (flexible) dimensions count as 1.
 *
 * Returns: the estimate
 *
 * Since: 0.2
 */
double
ane_lint_report_get_op_cost (AneLintReport *self,
                             guint          index)
{
  CHECK_OP (self, index, 0.0);
  return OP_AT (self, index)->cost;
}

/**
 * ane_lint_report_get_n_findings:
 * @self: a report
 *
 * Gets the number of findings, each one firing of a rule.
 *
 * Returns: how many times a rule fired (on an operation or on a function)
 *
 * Since: 0.2
 */
guint
ane_lint_report_get_n_findings (AneLintReport *self)
{
  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), 0);
  return self->findings->len;
}

#define CHECK_FINDING(self, index, val) G_STMT_START { \
  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), val); \
  g_return_val_if_fail ((index) < (self)->findings->len, val); } G_STMT_END

/**
 * ane_lint_report_get_finding_rule:
 * @self: a report
 * @index: a finding, below [method@Ane.LintReport.get_n_findings]
 *
 * Gets the rule that made a finding.
 *
 * Returns: the id of the rule that fired (see [func@Ane.LintRule.lookup])
 *
 * Since: 0.2
 */
const char *
ane_lint_report_get_finding_rule (AneLintReport *self,
                                  guint          index)
{
  CHECK_FINDING (self, index, NULL);
  return FINDING_AT (self, index)->rule->id;
}

/**
 * ane_lint_report_get_finding_function:
 * @self: a report
 * @index: a finding
 *
 * Gets the function a finding was made in.
 *
 * Returns: the function it fired in
 *
 * Since: 0.2
 */
const char *
ane_lint_report_get_finding_function (AneLintReport *self,
                                      guint          index)
{
  CHECK_FINDING (self, index, NULL);
  return FINDING_AT (self, index)->function;
}

/**
 * ane_lint_report_get_finding_op:
 * @self: a report
 * @index: a finding
 *
 * Gets the operation a finding is about, as an index for the `get_op_` getters.
 *
 * Returns: the operation it fired on, or -1 for a rule about the whole
 *   function (its interface, weights or states)
 *
 * Since: 0.2
 */
int
ane_lint_report_get_finding_op (AneLintReport *self,
                                guint          index)
{
  CHECK_FINDING (self, index, -1);
  return FINDING_AT (self, index)->op;
}

/**
 * ane_lint_report_get_finding_message:
 * @self: a report
 * @index: a finding
 *
 * Gets what a rule saw when it fired.
 *
 * Returns: what the rule saw, naming the value, shape or count
 *
 * Since: 0.2
 */
const char *
ane_lint_report_get_finding_message (AneLintReport *self,
                                     guint          index)
{
  CHECK_FINDING (self, index, NULL);
  return FINDING_AT (self, index)->message;
}

/**
 * ane_lint_report_count_rule:
 * @self: a report
 * @rule: a rule id
 *
 * Counts the findings of one rule, on operations and on functions.
 *
 * Returns: how many times @rule fired
 *
 * Since: 0.2
 */
guint
ane_lint_report_count_rule (AneLintReport *self,
                            const char    *rule)
{
  guint n = 0;

  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), 0);
  g_return_val_if_fail (rule != NULL, 0);

  for (guint i = 0; i < self->findings->len; i++)
    if (strcmp (FINDING_AT (self, i)->rule->id, rule) == 0)
      n++;
  return n;
}

/**
 * ane_lint_report_count_ops:
 * @self: a report
 * @function: (nullable): a function, or %NULL for every function
 * @verdict: a verdict
 *
 * Counts the operations of @function, or of every function, that have @verdict.
 *
 * Returns: how many operations of @function have @verdict
 *
 * Since: 0.2
 */
guint
ane_lint_report_count_ops (AneLintReport  *self,
                           const char     *function,
                           AneLintVerdict  verdict)
{
  guint n = 0;

  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), 0);

  for (guint i = 0; i < self->ops->len; i++)
    if ((function == NULL || strcmp (OP_AT (self, i)->function, function) == 0) &&
        OP_AT (self, i)->verdict == verdict)
      n++;
  return n;
}

/**
 * ane_lint_report_get_ane_cost_share:
 * @self: a report
 * @function: (nullable): a function, or %NULL for every function
 *
 * The share of the estimated cost (see [method@Ane.LintReport.get_op_cost])
 * of the operations that stay on the Neural Engine, slowly or not.
 *
 * Returns: a fraction in [0, 1]; 1 for a function without operations
 *
 * Since: 0.2
 */
double
ane_lint_report_get_ane_cost_share (AneLintReport *self,
                                    const char    *function)
{
  double total = 0, ane = 0;

  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), 0.0);

  for (guint i = 0; i < self->ops->len; i++)
    {
      const LintOp *op = OP_AT (self, i);

      if (function != NULL && strcmp (op->function, function) != 0)
        continue;
      total += op->cost;
      if (op->verdict <= ANE_LINT_VERDICT_ANE_SLOW)
        ane += op->cost;
    }
  return total > 0 ? ane / total : 1.0;
}

/**
 * ane_lint_report_get_weight_bytes:
 * @self: a report
 * @function: (nullable): a function, or %NULL for the largest of them
 *
 * The bytes of the weights (`const` values, compressed ones as stored) a
 * function uses; each function is compiled as one program, so this is what
 * competes for the Neural Engine's SRAM.
 *
 * Returns: the bytes, 0 for an unknown function
 *
 * Since: 0.2
 */
guint64
ane_lint_report_get_weight_bytes (AneLintReport *self,
                                  const char    *function)
{
  guint64 bytes = 0;

  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), 0);

  for (guint i = 0; i < self->functions->len; i++)
    {
      const LintFunction *fn = &g_array_index (self->functions, LintFunction, i);

      if (function == NULL)
        bytes = MAX (bytes, fn->weight_bytes);
      else if (strcmp (fn->name, function) == 0)
        return fn->weight_bytes;
    }
  return bytes;
}

/**
 * ane_lint_report_get_weight_budget:
 * @self: a report
 *
 * The weight bytes per program past which the lint's `weights-over-sram`
 * rule fires (see `docs/ane-lint.md` for the measurement it comes from).
 *
 * Returns: the budget in bytes
 *
 * Since: 0.2
 */
guint64
ane_lint_report_get_weight_budget (AneLintReport *self)
{
  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), 0);
  return ane_lint_weight_budget ();
}

static void
append_size (GString *s,
             guint64  bytes)
{
  g_autofree char *text = g_format_size (bytes);

  g_string_append (s, text);
}

/* "gather ×2, topk" for the ops of function (NULL: all) with verdict. */
static void
append_op_types (AneLintReport  *self,
                 const char     *function,
                 AneLintVerdict  verdict,
                 GString        *s)
{
  g_autoptr(GPtrArray) types = g_ptr_array_new ();
  g_autoptr(GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < self->ops->len; i++)
    {
      const LintOp *op = OP_AT (self, i);
      guint n;

      if ((function != NULL && strcmp (op->function, function) != 0) || op->verdict != verdict)
        continue;
      n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, op->type));
      if (n == 0)
        g_ptr_array_add (types, op->type);
      g_hash_table_insert (counts, op->type, GUINT_TO_POINTER (n + 1));
    }
  for (guint i = 0; i < types->len; i++)
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, types->pdata[i]));

      g_string_append_printf (s, "%s%s", i > 0 ? ", " : "", (const char *) types->pdata[i]);
      if (n > 1)
        g_string_append_printf (s, " ×%u", n);
    }
}

/* A share as a percentage with one decimal, rounded down: 99.97% of the
 * cost is not "100.0%" while something falls back. */
static double
percent_down (double share)
{
  return floor (share * 1000.0) / 10.0;
}

static char *
summarize (AneLintReport *self,
           const char    *function)
{
  GString *s = g_string_new (NULL);
  guint n_ops = 0, n_ane, n_slow, n_back, n_refused;
  guint64 weights = ane_lint_report_get_weight_bytes (self, function);

  for (guint i = 0; i < self->ops->len; i++)
    if (function == NULL || strcmp (OP_AT (self, i)->function, function) == 0)
      n_ops++;
  n_ane = ane_lint_report_count_ops (self, function, ANE_LINT_VERDICT_ANE);
  n_slow = ane_lint_report_count_ops (self, function, ANE_LINT_VERDICT_ANE_SLOW);
  n_back = ane_lint_report_count_ops (self, function, ANE_LINT_VERDICT_FALLS_BACK);
  n_refused = ane_lint_report_count_ops (self, function, ANE_LINT_VERDICT_REFUSED_PRIVATE);

  g_string_append_printf (s, "%u of %u ops stay on the ANE (%.1f%% of the estimated cost)",
                          n_ane + n_slow, n_ops, percent_down (ane_lint_report_get_ane_cost_share (self, function)));
  if (n_slow > 0)
    g_string_append_printf (s, ", %u of them slowly", n_slow);
  if (n_back > 0)
    {
      g_string_append_printf (s, "; %u fall back (", n_back);
      append_op_types (self, function, ANE_LINT_VERDICT_FALLS_BACK, s);
      g_string_append (s, ")");
    }
  if (n_refused > 0)
    {
      g_string_append_printf (s, "; %u refused by the private path (", n_refused);
      append_op_types (self, function, ANE_LINT_VERDICT_REFUSED_PRIVATE, s);
      g_string_append (s, ")");
    }
  g_string_append (s, "; weights ");
  append_size (s, weights);
  g_string_append (s, function == NULL && self->functions->len > 1 ? " in the largest function" : "");
  g_string_append (s, " of a ");
  append_size (s, ane_lint_weight_budget ());
  g_string_append (s, " budget");
  for (guint i = 0; i < self->findings->len; i++)
    {
      const LintFinding *f = FINDING_AT (self, i);

      if (f->op < 0 && (function == NULL || strcmp (f->function, function) == 0))
        {
          g_string_append_printf (s, "; %s", f->rule->id);
          if (function == NULL && self->functions->len > 1)
            g_string_append_printf (s, " (%s)", f->function);
        }
    }
  return g_string_free (s, FALSE);
}

/**
 * ane_lint_report_get_summary:
 * @self: a report
 *
 * One line for the whole package: how many operations stay on the Neural
 * Engine and their share of the estimated cost, what falls back (op types
 * and counts), the weight bytes against the budget, and the program-wide
 * rules that fired.
 *
 * Returns: (transfer full): the line, without a newline
 *
 * Since: 0.2
 */
char *
ane_lint_report_get_summary (AneLintReport *self)
{
  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), NULL);
  return summarize (self, NULL);
}

/* The rules that fired in function, worst severity first (table order
 * within one), as the rules themselves. */
static GPtrArray *
fired_rules (AneLintReport *self,
             const char    *function)
{
  GPtrArray *fired = g_ptr_array_new ();
  guint n_rules;
  const AneLintRule *rules = ane_lint_rules_get (&n_rules);

  for (int sev = ANE_LINT_SEVERITY_REFUSED_PRIVATE; sev >= ANE_LINT_SEVERITY_FP16_UNSAFE; sev--)
    for (guint r = 0; r < n_rules; r++)
      {
        if ((int) rules[r].severity != sev)
          continue;
        for (guint k = 0; k < self->findings->len; k++)
          if (FINDING_AT (self, k)->rule == &rules[r] && strcmp (FINDING_AT (self, k)->function, function) == 0)
            {
              g_ptr_array_add (fired, (gpointer) &rules[r]);
              break;
            }
      }
  return fired;
}

/**
 * ane_lint_report_to_string:
 * @self: a report
 *
 * The report as `ane-tool lint` prints it: per function, each rule that
 * fired, worst first, with its severity, how many operations it fired on
 * (or "program" for a rule about the whole function), the first of them and
 * what the rule saw there; then the function's summary line, and for a
 * package of several functions the package's. Per-operation detail is in
 * the report's getters (and `ane-tool lint --ops`).
 *
 * Returns: (transfer full): the text
 *
 * Since: 0.2
 */
char *
ane_lint_report_to_string (AneLintReport *self)
{
  GString *s;

  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), NULL);

  s = g_string_new (NULL);
  for (guint f = 0; f < self->functions->len; f++)
    {
      const char *function = g_array_index (self->functions, LintFunction, f).name;
      g_autofree char *summary = summarize (self, function);
      g_autoptr(GPtrArray) fired = fired_rules (self, function);

      g_string_append_printf (s, "function %s\n", function);
      for (guint r = 0; r < fired->len; r++)
        {
          const AneLintRule *rule = fired->pdata[r];
          const LintFinding *first = NULL;
          guint n = 0;

          for (guint k = 0; k < self->findings->len; k++)
            {
              const LintFinding *fd = FINDING_AT (self, k);

              if (fd->rule != rule || strcmp (fd->function, function) != 0)
                continue;
              if (first == NULL)
                first = fd;
              n++;
            }
          if (first->op < 0)
            g_string_append_printf (s, "  %-15s %-22s program  %s\n", ane_lint_severity_to_string (rule->severity),
                                    rule->id, first->message);
          else
            g_string_append_printf (s, "  %-15s %-22s %3u op%s  %s %s: %s\n",
                                    ane_lint_severity_to_string (rule->severity), rule->id, n, n == 1 ? " " : "s",
                                    n > 1 ? "first" : "on", OP_AT (self, first->op)->name, first->message);
        }
      g_string_append_printf (s, "  %s\n", summary);
    }
  if (self->functions->len > 1)
    {
      g_autofree char *summary = summarize (self, NULL);

      g_string_append_printf (s, "package: %s\n", summary);
    }
  return g_string_free (s, FALSE);
}

static void
add_rule_json (JsonBuilder       *b,
               const AneLintRule *rule)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, rule->id);
  json_builder_set_member_name (b, "severity");
  json_builder_add_string_value (b, ane_lint_severity_to_string (rule->severity));
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, rule->reason);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, rule->source);
  json_builder_end_object (b);
}

/**
 * ane_lint_report_to_json:
 * @self: a report
 *
 * The report for tools: an object with `verdict`, `summary`, `private`
 * (whether %ANE_LINT_PRIVATE was given), `weight_budget`, `functions` (name,
 * ops, ops per verdict, `ane_cost_share`, `weight_bytes`, `summary`,
 * program-wide `findings`), `ops` (every
 * operation: function, index, type, name, verdict, cost, rules, message) and
 * `rules` (each rule that fired: id, severity, reason, source). Verdicts are
 * "ane", "ane-slow", "falls-back" and "refused-private".
 *
 * Returns: (transfer full): pretty-printed JSON
 *
 * Since: 0.2
 */
char *
ane_lint_report_to_json (AneLintReport *self)
{
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonGenerator) gen = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GHashTable) fired = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *summary = NULL;

  g_return_val_if_fail (ANE_IS_LINT_REPORT (self), NULL);

  b = json_builder_new ();
  summary = summarize (self, NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "verdict");
  json_builder_add_string_value (b, ane_lint_verdict_to_string (ane_lint_report_get_verdict (self)));
  json_builder_set_member_name (b, "summary");
  json_builder_add_string_value (b, summary);
  json_builder_set_member_name (b, "private");
  json_builder_add_boolean_value (b, (self->flags & ANE_LINT_PRIVATE) != 0);
  json_builder_set_member_name (b, "weight_budget");
  json_builder_add_int_value (b, (gint64) ane_lint_weight_budget ());

  json_builder_set_member_name (b, "functions");
  json_builder_begin_array (b);
  for (guint f = 0; f < self->functions->len; f++)
    {
      const LintFunction *fn = &g_array_index (self->functions, LintFunction, f);
      g_autofree char *fn_summary = summarize (self, fn->name);
      guint n_ops = 0;

      for (guint i = 0; i < self->ops->len; i++)
        n_ops += strcmp (OP_AT (self, i)->function, fn->name) == 0;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, fn->name);
      json_builder_set_member_name (b, "ops");
      json_builder_add_int_value (b, n_ops);
      for (AneLintVerdict v = ANE_LINT_VERDICT_ANE; v <= ANE_LINT_VERDICT_REFUSED_PRIVATE; v++)
        {
          g_autofree char *key = g_strdup_printf ("ops_%s", ane_lint_verdict_to_string (v));

          g_strdelimit (key, "-", '_');
          json_builder_set_member_name (b, key);
          json_builder_add_int_value (b, ane_lint_report_count_ops (self, fn->name, v));
        }
      json_builder_set_member_name (b, "ane_cost_share");
      json_builder_add_double_value (b, ane_lint_report_get_ane_cost_share (self, fn->name));
      json_builder_set_member_name (b, "weight_bytes");
      json_builder_add_int_value (b, (gint64) fn->weight_bytes);
      json_builder_set_member_name (b, "summary");
      json_builder_add_string_value (b, fn_summary);
      json_builder_set_member_name (b, "findings");
      json_builder_begin_array (b);
      for (guint k = 0; k < self->findings->len; k++)
        {
          const LintFinding *fd = FINDING_AT (self, k);

          if (fd->op >= 0 || strcmp (fd->function, fn->name) != 0)
            continue;
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "rule");
          json_builder_add_string_value (b, fd->rule->id);
          json_builder_set_member_name (b, "message");
          json_builder_add_string_value (b, fd->message);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "ops");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->ops->len; i++)
    {
      const LintOp *op = OP_AT (self, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "function");
      json_builder_add_string_value (b, op->function);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, i);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, op->type);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, op->name);
      json_builder_set_member_name (b, "verdict");
      json_builder_add_string_value (b, ane_lint_verdict_to_string (op->verdict));
      json_builder_set_member_name (b, "cost");
      json_builder_add_double_value (b, op->cost);
      json_builder_set_member_name (b, "rules");
      json_builder_begin_array (b);
      for (guint r = 0; r + 1 < op->rules->len; r++)
        json_builder_add_string_value (b, op->rules->pdata[r]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, op->message->str);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "rules");
  json_builder_begin_array (b);
  for (guint k = 0; k < self->findings->len; k++)
    {
      const AneLintRule *rule = FINDING_AT (self, k)->rule;

      if (g_hash_table_add (fired, (gpointer) rule->id))
        add_rule_json (b, rule);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}
