/* lint/ane-lint-rule.c: AneLintRule, one row of the ANE lint's table
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "lint/ane-lint-private.h"

/**
 * AneLintRule:
 *
 * One rule of the ANE lint: what it checks, how bad it is when it fires, why,
 * and the public source it was read from (repository, file and lines), with
 * how that source knows it. The rules are a fixed table; a rule is never
 * freed, and copying one returns the same rule.
 *
 * `ane-tool lint --explain RULE` prints [method@Ane.LintRule.to_string];
 * `docs/ane-lint.md` lists them all.
 *
 * Since: 0.2
 */

static gpointer
rule_copy (gpointer rule)
{
  return rule;
}

static void
rule_free (gpointer rule)
{
}

G_DEFINE_BOXED_TYPE (AneLintRule, ane_lint_rule, rule_copy, rule_free)

/**
 * ane_lint_rule_lookup:
 * @id: a rule id, such as "sdpa-mask"
 *
 * Finds a rule by its id.
 *
 * Returns: (transfer none) (nullable): the rule, or %NULL if no rule has @id
 *
 * Since: 0.2
 */
AneLintRule *
ane_lint_rule_lookup (const char *id)
{
  guint n;
  const AneLintRule *rules = ane_lint_rules_get (&n);

  g_return_val_if_fail (id != NULL, NULL);

  for (guint i = 0; i < n; i++)
    if (strcmp (rules[i].id, id) == 0)
      return (AneLintRule *) &rules[i];
  return NULL;
}

/**
 * ane_lint_rule_list:
 *
 * Lists the ids of every rule of the lint.
 *
 * Returns: (transfer full) (array zero-terminated=1): the ids of every rule,
 *   in table order
 *
 * Since: 0.2
 */
char **
ane_lint_rule_list (void)
{
  guint n;
  const AneLintRule *rules = ane_lint_rules_get (&n);
  char **ids = g_new0 (char *, n + 1);

  for (guint i = 0; i < n; i++)
    ids[i] = g_strdup (rules[i].id);
  return ids;
}

/**
 * ane_lint_rule_get_id:
 * @self: a rule
 *
 * Gets the rule's id.
 *
 * Returns: the rule's id ("op-gather", "last-axis-padding", ...)
 *
 * Since: 0.2
 */
const char *
ane_lint_rule_get_id (const AneLintRule *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->id;
}

/**
 * ane_lint_rule_get_scope:
 * @self: a rule
 *
 * Gets what the rule examines.
 *
 * Returns: what the rule examines
 *
 * Since: 0.2
 */
AneLintScope
ane_lint_rule_get_scope (const AneLintRule *self)
{
  g_return_val_if_fail (self != NULL, ANE_LINT_SCOPE_OP);
  return self->scope;
}

/**
 * ane_lint_rule_get_severity:
 * @self: a rule
 *
 * Gets what it means when the rule fires.
 *
 * Returns: what it means when the rule fires
 *
 * Since: 0.2
 */
AneLintSeverity
ane_lint_rule_get_severity (const AneLintRule *self)
{
  g_return_val_if_fail (self != NULL, ANE_LINT_SEVERITY_FALLS_BACK);
  return self->severity;
}

/**
 * ane_lint_rule_get_confidence:
 * @self: a rule
 *
 * Gets how the rule's source knows what it says.
 *
 * Returns: how the rule's source knows what it says
 *
 * Since: 0.2
 */
AneLintConfidence
ane_lint_rule_get_confidence (const AneLintRule *self)
{
  g_return_val_if_fail (self != NULL, ANE_LINT_CONFIDENCE_INFERRED);
  return self->confidence;
}

/**
 * ane_lint_rule_get_check:
 * @self: a rule
 *
 * Gets what makes the rule fire.
 *
 * Returns: what makes the rule fire, in one sentence
 *
 * Since: 0.2
 */
const char *
ane_lint_rule_get_check (const AneLintRule *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->check;
}

/**
 * ane_lint_rule_get_reason:
 * @self: a rule
 *
 * Gets why the rule matters.
 *
 * Returns: why it matters, in one line
 *
 * Since: 0.2
 */
const char *
ane_lint_rule_get_reason (const AneLintRule *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->reason;
}

/**
 * ane_lint_rule_get_source:
 * @self: a rule
 *
 * Gets the public source the rule was read from.
 *
 * Returns: the public source: "owner/repository path:lines", several
 *   separated by "; "
 *
 * Since: 0.2
 */
const char *
ane_lint_rule_get_source (const AneLintRule *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->source;
}

static const char *
scope_to_string (AneLintScope scope)
{
  switch (scope)
    {
    case ANE_LINT_SCOPE_OP: return "op";
    case ANE_LINT_SCOPE_TENSOR: return "tensor";
    case ANE_LINT_SCOPE_PROGRAM: return "program";
    default: return "unknown";
    }
}

static const char *
confidence_to_string (AneLintConfidence confidence)
{
  switch (confidence)
    {
    case ANE_LINT_CONFIDENCE_MEASURED: return "measured on hardware by the source";
    case ANE_LINT_CONFIDENCE_DOCUMENTED: return "documented by Apple";
    case ANE_LINT_CONFIDENCE_INFERRED: return "inferred, not confirmed on hardware";
    default: return "unknown";
    }
}

/**
 * ane_lint_rule_to_string:
 * @self: a rule
 *
 * The rule as `ane-tool lint --explain` prints it: id, severity, scope,
 * check, reason, source and confidence, one per line.
 *
 * Returns: (transfer full): the text
 *
 * Since: 0.2
 */
char *
ane_lint_rule_to_string (const AneLintRule *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_strdup_printf ("%s\n"
                          "  severity:   %s%s\n"
                          "  scope:      %s\n"
                          "  fires when: %s\n"
                          "  why:        %s\n"
                          "  source:     %s\n"
                          "  confidence: %s\n",
                          self->id, ane_lint_severity_to_string (self->severity),
                          self->severity == ANE_LINT_SEVERITY_REFUSED_PRIVATE ? " (only with --private)" : "",
                          scope_to_string (self->scope), self->check, self->reason, self->source,
                          confidence_to_string (self->confidence));
}

/**
 * ane_lint_verdict_to_string:
 * @verdict: a verdict
 *
 * Gets the name of a verdict, as `ane-tool lint` and the JSON report print it.
 *
 * Returns: "ane", "ane-slow", "falls-back" or "refused-private"
 *
 * Since: 0.2
 */
const char *
ane_lint_verdict_to_string (AneLintVerdict verdict)
{
  switch (verdict)
    {
    case ANE_LINT_VERDICT_ANE: return "ane";
    case ANE_LINT_VERDICT_ANE_SLOW: return "ane-slow";
    case ANE_LINT_VERDICT_FALLS_BACK: return "falls-back";
    case ANE_LINT_VERDICT_REFUSED_PRIVATE: return "refused-private";
    default: return "unknown";
    }
}

/**
 * ane_lint_severity_to_string:
 * @severity: a severity
 *
 * Gets the name of a severity, as `ane-tool lint` and the JSON report print it.
 *
 * Returns: "fp16-unsafe", "slow", "falls-back" or "refused-private"
 *
 * Since: 0.2
 */
const char *
ane_lint_severity_to_string (AneLintSeverity severity)
{
  switch (severity)
    {
    case ANE_LINT_SEVERITY_FP16_UNSAFE: return "fp16-unsafe";
    case ANE_LINT_SEVERITY_SLOW: return "slow";
    case ANE_LINT_SEVERITY_FALLS_BACK: return "falls-back";
    case ANE_LINT_SEVERITY_REFUSED_PRIVATE: return "refused-private";
    default: return "unknown";
    }
}
