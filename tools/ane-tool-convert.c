/* ane-tool-convert.c: `ane-tool convert` and `ane-tool mil`
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ane-tool-private.h"
#include "mil/ane-mlpackage-private.h"
#include "mil/lower/ane-lower-private.h"

/* 0 if path is a graph .json, else the exit status (the message printed). */
static int
check_graph_path (const char *path)
{
  AneToolInputKind kind;

  if (!ane_tool_classify_input ("convert", path, "a graph .json", &kind))
    return 1;
  if (kind != ANE_TOOL_INPUT_GRAPH)
    {
      fprintf (stderr, "ane-tool convert: '%s' is not a graph .json (convert lowers graphs; "
               "'ane-tool mil' prints a package's or a .mil file's MIL text)\n", path);
      return 2;
    }
  return 0;
}

/* --function NAME=GRAPH.json ...: one package of several functions. */
static AnePackage *
package_of_functions (char         **functions,
                      AneTarget      target,
                      AnePrecision   precision,
                      GError       **error)
{
  guint n = g_strv_length (functions);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) graphs = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n; i++)
    {
      const char *eq = strchr (functions[i], '=');
      AneGraph *graph = ane_graph_load (eq + 1, error);

      if (graph == NULL)
        return NULL;
      g_ptr_array_add (names, g_strndup (functions[i], eq - functions[i]));
      g_ptr_array_add (graphs, graph);
    }
  return ane_package_new_from_graphs ((const char *const *) names->pdata, (AneGraph **) graphs->pdata, n,
                                      target, precision, error);
}

int
ane_tool_convert (int    argc,
                  char **argv)
{
  g_autofree char *output = NULL, *mil = NULL, *target_name = NULL, *precision_name = NULL;
  g_autofree char *lowering_name = NULL;
  g_auto(GStrv) functions = NULL;
  g_auto(GStrv) input_shapes = NULL, input_values = NULL, input_ranges = NULL, enumerated = NULL;
  gboolean overwrite = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the .mlpackage here", "OUT.mlpackage" },
    { "function", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &functions,
      "Instead of GRAPH.json: a function NAME lowered from GRAPH.json; repeat it for one package of "
      "several functions sharing their weights (the first is the default; needs ios18 or macos15)",
      "NAME=GRAPH.json" },
    { "mil", 0, 0, G_OPTION_ARG_FILENAME, &mil, "Also write MIL text here (weights beside it in weights/weight.bin)", "OUT.mil" },
    { "target", 't', 0, G_OPTION_ARG_STRING, &target_name, "Deployment target: ios15..ios18, macos12..macos15 (default ios18)", "TARGET" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name, "Compute precision: fp16 (default) or fp32", "PRECISION" },
    { "lowering", 'l', 0, G_OPTION_ARG_STRING, &lowering_name,
      "neural-engine (default: linear layers as 1x1 conv on [B, C, 1, S], RMSNorm as layer_norm, attention "
      "with an additive mask) or generic (each op in the graph's layout)", "LOWERING" },
    { "overwrite", 'f', 0, G_OPTION_ARG_NONE, &overwrite, "Replace an existing output", NULL },
    { "input-shape", 0, 0, G_OPTION_ARG_STRING_ARRAY, &input_shapes,
      "For MODEL.onnx: the shape of an input, binding its symbolic dims (repeatable)", "NAME=D,D,..." },
    { "input-value", 0, 0, G_OPTION_ARG_STRING_ARRAY, &input_values,
      "For MODEL.onnx: bind an input to a constant, a scalar or a comma list (repeatable); what depends "
      "on it alone is folded, an If on it becomes its branch", "NAME=V[,V...]" },
    { "input-range", 0, 0, G_OPTION_ARG_STRING_ARRAY, &input_ranges,
      "Keep an input flexible: a size or a range L..U per axis, as coremltools' RangeDim "
      "(repeatable; the default shape is the declared one, for ONNX --input-shape or the lower bounds)",
      "NAME=D,L..U,..." },
    { "input-shapes", 0, 0, G_OPTION_ARG_STRING_ARRAY, &enumerated,
      "Let an input take any of these shapes, as coremltools' EnumeratedShapes (repeatable; the default is "
      "the declared shape, for ONNX --input-shape or the first)", "NAME=D,..;D,.." },
    { NULL }
  };
  AneLowering lowering = ANE_LOWERING_DEFAULT;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AneProgress) progress = NULL;
  AneToolBar *bar = NULL;
  AneTarget target = ANE_TARGET_IOS18;
  AnePrecision precision = ANE_PRECISION_FLOAT16;
  gboolean onnx;
  int status = 0;

  if (!ane_tool_parse (&argc, &argv, "convert", "GRAPH.json|MODEL.onnx",
                       "Lower a graph (JSON + its safetensors weights, or an ONNX model) to a\n"
                       "CoreML ML Program package and/or MIL text for the Neural Engine's\n"
                       "in-memory path.",
                       entries, 0, 1, &status))
    return status;
  if (functions == NULL && argc < 2)
    {
      fprintf (stderr, "ane-tool convert: missing argument GRAPH.json\nRun 'ane-tool convert --help' for usage.\n");
      return 2;
    }
  if (functions != NULL && argc > 1)
    {
      fprintf (stderr, "ane-tool convert: give GRAPH.json or --function NAME=GRAPH.json, not both\n");
      return 2;
    }
  if (output == NULL && mil == NULL)
    {
      fprintf (stderr, "ane-tool convert: give -o OUT.mlpackage and/or --mil OUT.mil\n");
      return 2;
    }
  if (!ane_tool_parse_lowering ("convert", target_name, precision_name, &target, &precision))
    return 2;
  if (g_strcmp0 (lowering_name, "generic") == 0)
    lowering = ANE_LOWERING_GENERIC;
  else if (g_strcmp0 (lowering_name, "neural-engine") == 0)
    lowering = ANE_LOWERING_NEURAL_ENGINE;
  else if (lowering_name != NULL)
    {
      fprintf (stderr, "ane-tool convert: unknown lowering '%s' (use neural-engine or generic)\n", lowering_name);
      return 2;
    }
  if (functions != NULL && lowering == ANE_LOWERING_GENERIC)
    {
      fprintf (stderr, "ane-tool convert: --lowering generic takes one GRAPH.json; --function packages are "
               "lowered with the Neural Engine profile\n");
      return 2;
    }

  for (guint i = 0; functions != NULL && functions[i] != NULL; i++)
    {
      const char *eq = strchr (functions[i], '=');

      if (eq == NULL || eq == functions[i] || eq[1] == '\0')
        {
          fprintf (stderr, "ane-tool convert: --function takes NAME=GRAPH.json, not '%s'\n", functions[i]);
          return 2;
        }
      if ((status = check_graph_path (eq + 1)) != 0)
        return status;
    }
  onnx = functions == NULL && g_str_has_suffix (argv[1], ".onnx");
  if (functions != NULL && (input_ranges != NULL || enumerated != NULL))
    {
      fprintf (stderr, "ane-tool convert: --input-range and --input-shapes take one GRAPH.json or MODEL.onnx\n");
      return 2;
    }
  if ((input_shapes != NULL || input_values != NULL) && !onnx)
    {
      fprintf (stderr, "ane-tool convert: --input-shape and --input-value are for MODEL.onnx\n");
      return 2;
    }
  if (functions == NULL && !onnx && (status = check_graph_path (argv[1])) != 0)
    return status;
  /* Before the work, and with the tool's flag in the message. MIL text
   * keeps its weights in weights/weight.bin beside it (ane_package_save_mil),
   * which is not replaced either; checked before lowering tells whether
   * the program has weights, so a weightless graph is refused too. */
  if (!ane_tool_check_overwrite ("convert", output, overwrite) ||
      !ane_tool_check_overwrite ("convert", mil, overwrite))
    return 1;
  if (mil != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (mil);
      g_autofree char *weights = g_build_filename (dir, "weights", "weight.bin", NULL);

      if (!ane_tool_check_overwrite ("convert", weights, overwrite))
        return 1;
    }

  /* lowering and saving are the long parts: shown on stderr */
  progress = ane_tool_progress_new (&bar);
  if (functions != NULL)
    pkg = package_of_functions (functions, target, precision, &error);
  else
    {
      AneToolFlexible flexible = { input_ranges, enumerated };

      graph = onnx ? ane_tool_load_onnx (argv[1], input_shapes, input_values, &flexible, &error)
                   : ane_graph_load (argv[1], &error);
      if (graph != NULL && !onnx && !ane_tool_apply_flexible (graph, &flexible, &error))
        g_clear_object (&graph);
      if (graph == NULL)
        {
          ane_tool_bar_end_line (bar);
          return ane_tool_fail ("convert", error);
        }
      pkg = ane_package_new_from_graph_with_lowering (graph, target, precision, lowering, progress, &error);
    }
  if (pkg == NULL || (output && !ane_package_save_full (pkg, output, overwrite, progress, &error)))
    {
      ane_tool_bar_end_line (bar);
      return ane_tool_fail ("convert", error);
    }
  if (mil && !ane_package_save_mil (pkg, mil, overwrite, &error))
    return ane_tool_fail ("convert", error);
  if (output)
    printf ("wrote %s (%s, %s)\n", output, ane_target_to_string (target),
            precision == ANE_PRECISION_FLOAT16 ? "fp16" : "fp32");
  if (mil)
    printf ("wrote %s\n", mil);
  return 0;
}

int
ane_tool_mil (int    argc,
              char **argv)
{
  g_autofree char *target_name = NULL, *precision_name = NULL;
  g_auto(GStrv) build_info = NULL;
  gboolean ane_dialect = FALSE;
  GOptionEntry entries[] = {
    { "target", 't', 0, G_OPTION_ARG_STRING, &target_name, "For a graph: deployment target (default ios18)", "TARGET" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name, "For a graph: fp16 (default) or fp32", "PRECISION" },
    { "ane-dialect", 0, 0, G_OPTION_ARG_NONE, &ane_dialect,
      "buildInfo as the Neural Engine's private path is handed it (coremlc-component-MIL, coremlc-version, "
      "coremltools-component-milinternal, coremltools-version)", NULL },
    { "build-info", 0, 0, G_OPTION_ARG_STRING_ARRAY, &build_info,
      "Set a buildInfo pair (repeatable; KEY alone removes the key)", "KEY=VALUE" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AneMilDialect) dialect = NULL;
  g_autofree char *text = NULL;
  AneTarget target = ANE_TARGET_IOS18;
  AnePrecision precision = ANE_PRECISION_FLOAT16;
  AneToolInputKind kind;
  int status = 0;

  if (!ane_tool_parse (&argc, &argv, "mil", "PATH",
                       "Print the MIL text of a .mlpackage, a .mil file (normalized) or a\n"
                       "graph .json (lowered first). Its buildInfo is the program's own;\n"
                       "--ane-dialect gives the text the ANE backend compiles, and\n"
                       "--build-info changes a pair (docs/ane-private.md).",
                       entries, 1, 1, &status))
    return status;
  if (!ane_tool_parse_lowering ("mil", target_name, precision_name, &target, &precision))
    return 2;
  if (!ane_tool_classify_input ("mil", argv[1], "a .mlpackage, a .mil file or a graph .json", &kind))
    return 1;
  if (ane_dialect || build_info != NULL)
    {
      dialect = ane_dialect ? ane_mil_dialect_new () : ane_mil_dialect_new_empty ();
      for (guint i = 0; build_info != NULL && build_info[i] != NULL; i++)
        if (!ane_mil_dialect_parse_assignment (dialect, build_info[i], &error))
          {
            g_printerr ("ane-tool mil: --build-info '%s': %s\n", build_info[i], error->message);
            return 2;
          }
    }
  pkg = ane_tool_load_model (argv[1], kind, target, precision, &error);
  if (pkg == NULL)
    return ane_tool_fail ("mil", error);
  text = ane_package_to_mil_text_for_dialect (pkg, dialect, &error);
  if (text == NULL)
    return ane_tool_fail ("mil", error);
  fputs (text, stdout);
  return 0;
}
