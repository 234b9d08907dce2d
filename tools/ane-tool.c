/* ane-tool.c: the command-line face of ane-glib
 *
 *   ane-tool convert GRAPH.json -o OUT.mlpackage [--target T] [--precision P] [--mil OUT.mil]
 *   ane-tool inspect PATH            (a .mlpackage or a graph .json)
 *   ane-tool mil PATH                (print the MIL text of a package or graph)
 *   ane-tool dot PATH                (Graphviz view of a graph or package)
 *   ane-tool plan MODEL.mlpackage    (CoreML's per-op device plan)
 *   ane-tool lint MODEL              (what would leave the Neural Engine, anywhere)
 *   ane-tool generate MODEL          (text from a llama2.c checkpoint or a GGUF model)
 *   ane-tool convert-llm MODEL -o DIR (a LLaMA model as a package directory for a host app)
 *   ane-tool compress IN -o OUT      (palettize, quantize or prune a package's weights)
 *   ane-tool train MODEL --data TEXT (fine-tune a llama2.c, GGUF or Hugging Face model)
 *   ane-tool probe                   (what this machine offers)
 *
 * Exit status: 0 success, 1 the operation failed (the message says why),
 * 2 bad usage.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "ane-tool-private.h"

typedef struct {
  const char *name;
  const char *summary;
  int       (*run) (int argc, char **argv);
} Command;

static const Command commands[] = {
  { "convert", "lower a graph (JSON + safetensors) to an .mlpackage and/or MIL text", ane_tool_convert },
  { "inspect", "describe a .mlpackage, a .mil file or a graph .json", ane_tool_inspect },
  { "mil",     "print the MIL text of a package or a graph", ane_tool_mil },
  { "dot",     "print a Graphviz view of a graph or package", ane_tool_dot },
  { "generate", "generate text with a llama2.c checkpoint or a GGUF llama model", ane_tool_generate },
  { "convert-llm", "convert a llama2.c or GGUF model to a directory (package, manifest, embedding, tokenizer)", ane_tool_convert_llm },
  { "train", "train or fine-tune a LLaMA-family model on a text file (docs/training.md)", ane_tool_train },
  { "compress", "palettize, quantize or prune the weights of a .mlpackage (docs/compression.md)", ane_tool_compress },
  { "probe",   "report what this machine offers: OS, chip, frameworks, backends", ane_tool_probe },
  { "plan",    "show where CoreML would run each operation (MLComputePlan)", ane_tool_plan },
  { "lint",    "say what in a model would leave the Neural Engine, and why (any machine)", ane_tool_lint },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: ane-tool COMMAND [OPTIONS] ...\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'ane-tool COMMAND --help' for a command's options.\n");
}

int
main (int argc, char *argv[])
{
  setlocale (LC_ALL, "");

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      printf ("ane-tool %s\n", PACKAGE_VERSION);
      return 0;
    }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      return commands[i].run (argc - 1, argv + 1);
  fprintf (stderr, "ane-tool: unknown command '%s'\n\n", argv[1]);
  usage (stderr);
  return 2;
}

gboolean
ane_tool_parse_backend (const char *name,
                        AneBackend *backend)
{
  static const struct { const char *name; AneBackend backend; } names[] = {
    { "cpu", ANE_BACKEND_CPU }, { "reference", ANE_BACKEND_REFERENCE }, { "coreml", ANE_BACKEND_COREML },
    { "ane", ANE_BACKEND_ANE }, { "auto", ANE_BACKEND_AUTO },
  };

  if (name == NULL)
    {
      *backend = ANE_BACKEND_CPU;
      return TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (name, names[i].name) == 0)
      {
        *backend = names[i].backend;
        return TRUE;
      }
  return FALSE;
}

gboolean
ane_tool_parse_precision (const char   *name,
                          AnePrecision *precision)
{
  /* One default for every command and for AneExecutable: float16, what the
   * Neural Engine computes in. */
  if (name == NULL || g_ascii_strcasecmp (name, "fp16") == 0 || g_ascii_strcasecmp (name, "float16") == 0)
    *precision = ANE_PRECISION_FLOAT16;
  else if (g_ascii_strcasecmp (name, "fp32") == 0 || g_ascii_strcasecmp (name, "float32") == 0)
    *precision = ANE_PRECISION_FLOAT32;
  else
    return FALSE;
  return TRUE;
}

/* Shared by the commands: parse options, print errors the same way. */
gboolean
ane_tool_parse (int            *argc,
                char         ***argv,
                const char     *command,
                const char     *parameter,
                const char     *summary,
                GOptionEntry   *entries,
                int             n_args_min,
                int             n_args_max,
                int            *status)
{
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf ("ane-tool %s", command);

  g_set_prgname (prgname);
  ctx = g_option_context_new (parameter);
  g_option_context_set_summary (ctx, summary);
  if (entries)
    g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      fprintf (stderr, "ane-tool %s: %s\nRun 'ane-tool %s --help' for usage.\n", command, error->message, command);
      *status = 2;
      return FALSE;
    }
  /* Say which argument is wrong and what the command takes: a bare
   * "expected PATH" names neither. */
  if (*argc - 1 < n_args_min)
    {
      fprintf (stderr, "ane-tool %s: missing argument %s\nRun 'ane-tool %s --help' for usage.\n",
               command, parameter, command);
      *status = 2;
      return FALSE;
    }
  if (n_args_max >= 0 && *argc - 1 > n_args_max)
    {
      const char *extra = (*argv)[n_args_max + 1];

      if (n_args_max == 0)
        fprintf (stderr, "ane-tool %s: unexpected argument '%s' (%s takes no arguments)\n", command, extra, command);
      else
        fprintf (stderr, "ane-tool %s: unexpected argument '%s' (%s takes %s only)\n", command, extra, command, parameter);
      fprintf (stderr, "Run 'ane-tool %s --help' for usage.\n", command);
      *status = 2;
      return FALSE;
    }
  return TRUE;
}

int
ane_tool_fail (const char *command,
               GError     *error)
{
  fprintf (stderr, "ane-tool %s: %s\n", command, error ? error->message : "failed");
  return 1;
}

/* What a path holds: a package directory, MIL text, or a graph JSON. */
AneToolInputKind
ane_tool_classify (const char *path)
{
  if (g_str_has_suffix (path, ".mlpackage") || g_str_has_suffix (path, ".mlpackage/") ||
      g_file_test (path, G_FILE_TEST_IS_DIR))
    return ANE_TOOL_INPUT_PACKAGE;
  if (g_str_has_suffix (path, ".mil"))
    return ANE_TOOL_INPUT_MIL;
  return ANE_TOOL_INPUT_GRAPH;
}

/* The path a command was given, told apart before any loader runs: a
 * loader's message for a path that does not exist ("cannot read graph")
 * would guess a kind the user never meant. */
gboolean
ane_tool_classify_input (const char       *command,
                         const char       *path,
                         const char       *kinds,
                         AneToolInputKind *kind)
{
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, "ane-tool %s: '%s' does not exist (%s takes %s)\n", command, path, command, kinds);
      return FALSE;
    }
  *kind = ane_tool_classify (path);
  if (*kind == ANE_TOOL_INPUT_PACKAGE && !g_str_has_suffix (path, ".mlpackage") &&
      !g_str_has_suffix (path, ".mlpackage/"))
    {
      /* Any directory is tried as a package; one without a manifest is
       * some other directory, not a damaged package. */
      g_autofree char *manifest = g_build_filename (path, "Manifest.json", NULL);

      if (!g_file_test (manifest, G_FILE_TEST_EXISTS))
        {
          fprintf (stderr, "ane-tool %s: '%s' is a directory without a Manifest.json, not a .mlpackage "
                   "(%s takes %s)\n", command, path, command, kinds);
          return FALSE;
        }
    }
  /* A file named neither .mil nor .json is no graph we wrote: say what the
   * command takes rather than "malformed JSON". */
  if (*kind == ANE_TOOL_INPUT_GRAPH && !g_str_has_suffix (path, ".json"))
    {
      fprintf (stderr, "ane-tool %s: '%s' is not %s (told apart by the name's ending)\n", command, path, kinds);
      return FALSE;
    }
  return TRUE;
}

/* A refusal to replace an output, naming the tool's flag (the library's
 * message names the API's `overwrite` argument). */
gboolean
ane_tool_check_overwrite (const char *command,
                          const char *path,
                          gboolean    overwrite)
{
  if (overwrite || path == NULL || !g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  fprintf (stderr, "ane-tool %s: '%s' already exists (pass -f/--overwrite to replace it)\n", command, path);
  return FALSE;
}

gboolean
ane_tool_parse_lowering (const char   *command,
                         const char   *target_name,
                         const char   *precision_name,
                         AneTarget    *target,
                         AnePrecision *precision)
{
  *target = ANE_TARGET_IOS18;
  if (target_name && !ane_target_from_string (target_name, target))
    {
      fprintf (stderr, "ane-tool %s: unknown target '%s' (use ios15..ios18 or macos12..macos15)\n", command,
               target_name);
      return FALSE;
    }
  if (!ane_tool_parse_precision (precision_name, precision))
    {
      fprintf (stderr, "ane-tool %s: unknown precision '%s' (use fp16 or fp32)\n", command, precision_name);
      return FALSE;
    }
  return TRUE;
}

AnePackage *
ane_tool_load_model (const char        *path,
                     AneToolInputKind   kind,
                     AneTarget          target,
                     AnePrecision       precision,
                     GError           **error)
{
  switch (kind)
    {
    case ANE_TOOL_INPUT_PACKAGE:
      return ane_package_load (path, error);
    case ANE_TOOL_INPUT_MIL:
      return ane_package_load_mil (path, error);
    case ANE_TOOL_INPUT_GRAPH:
    default:
      {
        g_autoptr(AneGraph) graph = ane_graph_load (path, error);

        return graph != NULL ? ane_package_new_from_graph (graph, target, precision, error) : NULL;
      }
    }
}
