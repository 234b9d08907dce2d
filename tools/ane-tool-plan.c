/* ane-tool-plan.c: `ane-tool plan`, where CoreML would run each operation
 *
 *   ane-tool plan MODEL.mlpackage [--compute-units all|cpu|cpu-gpu|cpu-ne]
 *
 * Prints AneComputePlan's summary: per operation the preferred and the
 * supported devices and the estimated share of the cost, then totals per
 * preferred device. Needs CoreML's MLComputePlan (macOS 14.4 / iOS 17.4);
 * elsewhere it says so and exits 1. Never run on a Mac yet.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>

#include "ane-tool-private.h"
#include "ane-compute-plan.h"

static const struct {
  const char      *name;
  AneComputeUnits  units;
} unit_names[] = {
  { "all",     ANE_COMPUTE_UNITS_ALL },
  { "cpu",     ANE_COMPUTE_UNITS_CPU_ONLY },
  { "cpu-gpu", ANE_COMPUTE_UNITS_CPU_AND_GPU },
  { "cpu-ne",  ANE_COMPUTE_UNITS_CPU_AND_NE },
};

int
ane_tool_plan (int argc, char **argv)
{
  static char *units_arg = NULL;
  GOptionEntry entries[] = {
    { "compute-units", 'u', 0, G_OPTION_ARG_STRING, &units_arg,
      "Devices CoreML may plan for: all (default), cpu, cpu-gpu, cpu-ne", "UNITS" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneComputePlan) plan = NULL;
  g_autofree char *text = NULL;
  AneComputeUnits units = ANE_COMPUTE_UNITS_ALL;
  int status = 0;

  if (!ane_tool_parse (&argc, &argv, "plan", "MODEL.mlpackage",
                       "Show where CoreML would run each operation of a model: the preferred\n"
                       "and the supported devices and the estimated share of the cost, from\n"
                       "CoreML's MLComputePlan (macOS 14.4 / iOS 17.4 or later). MODEL may also\n"
                       "be a compiled .mlmodelc directory.",
                       entries, 1, 1, &status))
    return status;
  if (units_arg != NULL)
    {
      gboolean found = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (unit_names); i++)
        if (g_str_equal (units_arg, unit_names[i].name))
          {
            units = unit_names[i].units;
            found = TRUE;
          }
      if (!found)
        {
          fprintf (stderr, "ane-tool plan: unknown compute units '%s' (all, cpu, cpu-gpu, cpu-ne)\n"
                   "Run 'ane-tool plan --help' for usage.\n", units_arg);
          return 2;
        }
    }

  plan = ane_compute_plan_new_for_package (argv[1], units, NULL, &error);
  if (plan == NULL)
    return ane_tool_fail ("plan", error);
  text = ane_compute_plan_to_string (plan);
  fputs (text, stdout);
  return 0;
}
