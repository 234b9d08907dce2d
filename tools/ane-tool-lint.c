/* ane-tool-lint.c: `ane-tool lint`, what would leave the Neural Engine
 *
 *   ane-tool lint MODEL [--json] [--private] [--ops | --all]
 *   ane-tool lint --explain RULE | --rules
 *
 * MODEL is an .mlpackage (ours or anyone's), a .mil file or a graph .json
 * (lowered first, as `convert` would). Exit status: 0 when every operation
 * stays on the Neural Engine (slowly or not), 1 when something falls back
 * (or, with --private, is refused by the private path), 2 when the model
 * could not be linted (usage, unreadable or malformed input).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>

#include "ane-tool-private.h"
#include "ane-lint.h"

static int
explain (const char *id)
{
  AneLintRule *rule = ane_lint_rule_lookup (id);
  g_autofree char *text = NULL;

  if (rule == NULL)
    {
      g_auto(GStrv) ids = ane_lint_rule_list ();
      g_autofree char *known = g_strjoinv (", ", ids);

      fprintf (stderr, "ane-tool lint: no rule '%s' (rules: %s)\n", id, known);
      return 2;
    }
  text = ane_lint_rule_to_string (rule);
  fputs (text, stdout);
  return 0;
}

static int
list_rules (void)
{
  g_auto(GStrv) ids = ane_lint_rule_list ();

  for (guint i = 0; ids[i] != NULL; i++)
    {
      AneLintRule *rule = ane_lint_rule_lookup (ids[i]);

      printf ("%-24s %-16s %s\n", ids[i], ane_lint_severity_to_string (ane_lint_rule_get_severity (rule)),
              ane_lint_rule_get_reason (rule));
    }
  return 0;
}

/* Every operation (all) or those a rule fired on, each with what its rules
 * saw, before the report. */
static void
print_ops (AneLintReport *report,
           gboolean       all)
{
  for (guint i = 0; i < ane_lint_report_get_n_ops (report); i++)
    {
      const char *const *rules = ane_lint_report_get_op_rules (report, i);

      if (!all && rules[0] == NULL)
        continue;
      printf ("%s  %-15s %-28s %s\n", ane_lint_report_get_op_function (report, i),
              ane_lint_verdict_to_string (ane_lint_report_get_op_verdict (report, i)),
              ane_lint_report_get_op_type (report, i), ane_lint_report_get_op_name (report, i));
      for (guint k = 0; k < ane_lint_report_get_n_findings (report); k++)
        if (ane_lint_report_get_finding_op (report, k) == (int) i)
          printf ("      %s: %s\n", ane_lint_report_get_finding_rule (report, k),
                  ane_lint_report_get_finding_message (report, k));
    }
  printf ("\n");
}

int
ane_tool_lint (int    argc,
               char **argv)
{
  g_autofree char *target_name = NULL, *precision_name = NULL, *explain_id = NULL;
  gboolean json = FALSE, private_path = FALSE, all = FALSE, ops = FALSE, rules = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the report as JSON", NULL },
    { "private", 0, 0, G_OPTION_ARG_NONE, &private_path,
      "Also apply the private in-memory compile path's demands", NULL },
    { "ops", 0, 0, G_OPTION_ARG_NONE, &ops, "Also list each operation a rule fired on, with what every rule saw", NULL },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Also list every operation, with its verdict", NULL },
    { "explain", 0, 0, G_OPTION_ARG_STRING, &explain_id, "Print a rule with its source and exit", "RULE" },
    { "rules", 0, 0, G_OPTION_ARG_NONE, &rules, "List the rules and exit", NULL },
    { "target", 't', 0, G_OPTION_ARG_STRING, &target_name, "For a graph: deployment target (default ios18)", "TARGET" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name, "For a graph: fp16 (default) or fp32", "PRECISION" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AneLintReport) report = NULL;
  AneTarget target = ANE_TARGET_IOS18;
  AnePrecision precision = ANE_PRECISION_FLOAT16;
  AneLintFlags flags;
  AneToolInputKind kind;
  int status = 0;

  if (!ane_tool_parse (&argc, &argv, "lint", "MODEL",
                       "Say, op by op and with the public source of each rule, what in a model\n"
                       "would leave the Neural Engine (fall back to the GPU/CPU), run slowly on\n"
                       "it, or be numerically unsafe in fp16. MODEL is a .mlpackage, a .mil file\n"
                       "or a graph .json. Runs anywhere: no Mac needed.\n\n"
                       "Exit status: 0 when everything stays on the Neural Engine, 1 when\n"
                       "something falls back (with --private: or is refused by the private\n"
                       "path), 2 when the model could not be linted.",
                       entries, 0, 1, &status))
    return status;
  if (explain_id != NULL)
    return explain (explain_id);
  if (rules)
    return list_rules ();
  if (argc < 2)
    {
      fprintf (stderr, "ane-tool lint: missing argument MODEL\nRun 'ane-tool lint --help' for usage.\n");
      return 2;
    }
  if (!ane_tool_parse_lowering ("lint", target_name, precision_name, &target, &precision))
    return 2;
  if (!ane_tool_classify_input ("lint", argv[1], "a .mlpackage, a .mil file or a graph .json", &kind))
    return 2;
  pkg = ane_tool_load_model (argv[1], kind, target, precision, &error);
  flags = private_path ? ANE_LINT_PRIVATE : ANE_LINT_NONE;
  if (pkg != NULL)
    report = ane_package_lint (pkg, flags, &error);
  if (report == NULL)
    {
      ane_tool_fail ("lint", error);
      return 2;
    }
  if (json)
    {
      g_autofree char *text = ane_lint_report_to_json (report);

      printf ("%s\n", text);
    }
  else
    {
      g_autofree char *text = ane_lint_report_to_string (report);

      if (ops || all)
        print_ops (report, all);
      fputs (text, stdout);
    }
  return ane_lint_report_get_verdict (report) >= ANE_LINT_VERDICT_FALLS_BACK ? 1 : 0;
}
