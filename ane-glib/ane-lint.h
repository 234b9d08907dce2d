/* ane-lint.h: what in a program would leave the Neural Engine, and why
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <glib-object.h>
#include "ane-version.h"
#include "ane-types.h"
#include "ane-graph.h"
#include "ane-package.h"

G_BEGIN_DECLS

/* --- rules -------------------------------------------------------------- */

#define ANE_TYPE_LINT_RULE (ane_lint_rule_get_type ())

typedef struct _AneLintRule AneLintRule;

ANE_AVAILABLE_IN_0_2
GType              ane_lint_rule_get_type       (void) G_GNUC_CONST;
ANE_AVAILABLE_IN_0_2
AneLintRule       *ane_lint_rule_lookup         (const char   *id);
ANE_AVAILABLE_IN_0_2
char             **ane_lint_rule_list           (void);
ANE_AVAILABLE_IN_0_2
const char        *ane_lint_rule_get_id         (const AneLintRule *self);
ANE_AVAILABLE_IN_0_2
AneLintScope       ane_lint_rule_get_scope      (const AneLintRule *self);
ANE_AVAILABLE_IN_0_2
AneLintSeverity    ane_lint_rule_get_severity   (const AneLintRule *self);
ANE_AVAILABLE_IN_0_2
AneLintConfidence  ane_lint_rule_get_confidence (const AneLintRule *self);
ANE_AVAILABLE_IN_0_2
const char        *ane_lint_rule_get_check      (const AneLintRule *self);
ANE_AVAILABLE_IN_0_2
const char        *ane_lint_rule_get_reason     (const AneLintRule *self);
ANE_AVAILABLE_IN_0_2
const char        *ane_lint_rule_get_source     (const AneLintRule *self);
ANE_AVAILABLE_IN_0_2
char              *ane_lint_rule_to_string      (const AneLintRule *self);

ANE_AVAILABLE_IN_0_2
const char        *ane_lint_verdict_to_string   (AneLintVerdict    verdict);
ANE_AVAILABLE_IN_0_2
const char        *ane_lint_severity_to_string  (AneLintSeverity   severity);

/* --- the report --------------------------------------------------------- */

#define ANE_TYPE_LINT_REPORT (ane_lint_report_get_type ())

ANE_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (AneLintReport, ane_lint_report, ANE, LINT_REPORT, GObject)

ANE_AVAILABLE_IN_0_2
AneLintReport   *ane_package_lint                     (AnePackage     *package,
                                                       AneLintFlags    flags,
                                                       GError        **error);
ANE_AVAILABLE_IN_0_2
AneLintReport   *ane_graph_lint                       (AneGraph       *graph,
                                                       AneTarget       target,
                                                       AnePrecision    precision,
                                                       AneLintFlags    flags,
                                                       GError        **error);

ANE_AVAILABLE_IN_0_2
AneLintFlags     ane_lint_report_get_flags            (AneLintReport  *self);
ANE_AVAILABLE_IN_0_2
AneLintVerdict   ane_lint_report_get_verdict          (AneLintReport  *self);
ANE_AVAILABLE_IN_0_2
char           **ane_lint_report_list_functions       (AneLintReport  *self);

/* operations */
ANE_AVAILABLE_IN_0_2
guint            ane_lint_report_get_n_ops            (AneLintReport  *self);
ANE_AVAILABLE_IN_0_2
const char      *ane_lint_report_get_op_function      (AneLintReport  *self,
                                                       guint           index);
ANE_AVAILABLE_IN_0_2
const char      *ane_lint_report_get_op_type          (AneLintReport  *self,
                                                       guint           index);
ANE_AVAILABLE_IN_0_2
const char      *ane_lint_report_get_op_name          (AneLintReport  *self,
                                                       guint           index);
ANE_AVAILABLE_IN_0_2
AneLintVerdict   ane_lint_report_get_op_verdict       (AneLintReport  *self,
                                                       guint           index);
ANE_AVAILABLE_IN_0_2
const char * const *ane_lint_report_get_op_rules      (AneLintReport  *self,
                                                       guint           index);
ANE_AVAILABLE_IN_0_2
const char      *ane_lint_report_get_op_message       (AneLintReport  *self,
                                                       guint           index);
ANE_AVAILABLE_IN_0_2
double           ane_lint_report_get_op_cost          (AneLintReport  *self,
                                                       guint           index);

/* findings: every rule that fired, on an op or on a function */
ANE_AVAILABLE_IN_0_2
guint            ane_lint_report_get_n_findings       (AneLintReport  *self);
ANE_AVAILABLE_IN_0_2
const char      *ane_lint_report_get_finding_rule     (AneLintReport  *self,
                                                       guint           index);
ANE_AVAILABLE_IN_0_2
const char      *ane_lint_report_get_finding_function (AneLintReport  *self,
                                                       guint           index);
ANE_AVAILABLE_IN_0_2
int              ane_lint_report_get_finding_op       (AneLintReport  *self,
                                                       guint           index);
ANE_AVAILABLE_IN_0_2
const char      *ane_lint_report_get_finding_message  (AneLintReport  *self,
                                                       guint           index);
ANE_AVAILABLE_IN_0_2
guint            ane_lint_report_count_rule           (AneLintReport  *self,
                                                       const char     *rule);

/* per function (NULL: the whole package) */
ANE_AVAILABLE_IN_0_2
guint            ane_lint_report_count_ops            (AneLintReport  *self,
                                                       const char     *function,
                                                       AneLintVerdict  verdict);
ANE_AVAILABLE_IN_0_2
double           ane_lint_report_get_ane_cost_share   (AneLintReport  *self,
                                                       const char     *function);
ANE_AVAILABLE_IN_0_2
guint64          ane_lint_report_get_weight_bytes     (AneLintReport  *self,
                                                       const char     *function);
ANE_AVAILABLE_IN_0_2
guint64          ane_lint_report_get_weight_budget    (AneLintReport  *self);

ANE_AVAILABLE_IN_0_2
char            *ane_lint_report_get_summary          (AneLintReport  *self);
ANE_AVAILABLE_IN_0_2
char            *ane_lint_report_to_string            (AneLintReport  *self);
ANE_AVAILABLE_IN_0_2
char            *ane_lint_report_to_json              (AneLintReport  *self);

G_END_DECLS
