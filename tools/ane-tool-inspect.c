/* ane-tool-inspect.c: `ane-tool inspect` and `ane-tool dot`
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>

#include "ane-tool-private.h"
#include "ane-package-private.h"
#include "mil/ane-mil-infer-private.h"
#include "mil/ane-mil-text-private.h"

static gint compare_keys (gconstpointer a, gconstpointer b);

/* The feature of @function named @name in the package's model
 * description (per function in a multifunction model), or NULL. */
static const AneCoreMLFeatureDescription *
find_feature (AnePackage *pkg,
              const char *function,
              const char *name)
{
  const AneCoreMLModel *model = ane_package_get_model (pkg);
  const AneCoreMLModelDescription *desc = model != NULL ? model->description : NULL;
  AneCoreMLFeatureDescription * const *lists[3] = { NULL, NULL, NULL };
  gsize lens[3] = { 0, 0, 0 };

  if (desc == NULL)
    return NULL;
  if (desc->n_functions == 0)
    {
      lists[0] = desc->input, lens[0] = desc->n_input;
      lists[1] = desc->output, lens[1] = desc->n_output;
      lists[2] = desc->state, lens[2] = desc->n_state;
    }
  for (gsize f = 0; f < desc->n_functions; f++)
    if (g_strcmp0 (desc->functions[f]->name, function) == 0)
      {
        lists[0] = desc->functions[f]->input, lens[0] = desc->functions[f]->n_input;
        lists[1] = desc->functions[f]->output, lens[1] = desc->functions[f]->n_output;
        lists[2] = desc->functions[f]->state, lens[2] = desc->functions[f]->n_state;
      }
  for (guint l = 0; l < 3; l++)
    for (gsize i = 0; i < lens[l]; i++)
      if (g_strcmp0 (lists[l][i]->name, name) == 0)
        return lists[l][i];
  return NULL;
}

/* Whether a package feature's shape is not fixed: an enumerated set or
 * ranges of sizes (ArrayFeatureType's ShapeFlexibility, FeatureTypes.proto),
 * of which AnePackage lists the default shape. */
static gboolean
feature_is_flexible (AnePackage *pkg,
                     const char *function,
                     const char *name)
{
  const AneCoreMLFeatureDescription *feature = find_feature (pkg, function, name);
  const CoreML__Specification__FeatureType *type = feature != NULL ? feature->type : NULL;

  return type != NULL && type->type_case == CORE_ML__SPECIFICATION__FEATURE_TYPE__TYPE_MULTI_ARRAY_TYPE &&
         type->multiarraytype != NULL &&
         type->multiarraytype->shape_flexibility_case !=
           CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY__NOT_SET;
}

/* name: dtype[shape], the way ane_tensor_to_string writes it but without its
 * "(symbolic)" (which means "no data", true of every listed feature);
 * shapes that are not fixed say so. @pkg is NULL for a graph, whose shapes
 * are all fixed. */
static void
print_tensor_list (const char *title,
                   GPtrArray  *list,
                   AnePackage *pkg,
                   const char *function)
{
  printf ("%s (%u):\n", title, list->len);
  for (guint i = 0; i < list->len; i++)
    {
      AneTensor *t = g_ptr_array_index (list, i);
      const char *name = ane_tensor_get_name (t);
      g_autoptr(GString) dims = g_string_new (NULL);
      guint rank = 0;
      const gint64 *shape = ane_tensor_get_shape (t, &rank);

      for (guint d = 0; d < rank; d++)
        g_string_append_printf (dims, "%s%" G_GINT64_FORMAT, d ? "," : "", shape[d]);
      printf ("  %s: %s[%s]%s\n", name, ane_dtype_to_string (ane_tensor_get_dtype (t)), dims->str,
              pkg != NULL && feature_is_flexible (pkg, function, name) ? " (flexible shape; the default shown)" : "");
    }
}

/* The model description's metadata: who made it, under which licence, and
 * the user-defined keys (coremltools records its version there). */
static void
print_metadata (AnePackage *pkg)
{
  static const struct { const char *label; const char *(*get) (AnePackage *); } fields[] = {
    { "author", ane_package_get_author },
    { "license", ane_package_get_license },
    { "description", ane_package_get_short_description },
    { "version", ane_package_get_version_string },
  };
  g_autoptr(GHashTable) user = ane_package_dup_metadata (pkg);
  g_autofree gpointer *keys = NULL;
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      const char *value = fields[i].get (pkg);

      if (value != NULL)
        printf ("%s: %s\n", fields[i].label, value);
    }
  keys = g_hash_table_get_keys_as_array (user, &n);
  qsort (keys, n, sizeof (gpointer), compare_keys);
  printf ("metadata (%u):\n", n);
  for (guint i = 0; i < n; i++)
    printf ("  %s: %s\n", (const char *) keys[i], (const char *) g_hash_table_lookup (user, keys[i]));
}

static gint
compare_keys (gconstpointer a,
              gconstpointer b)
{
  return g_strcmp0 (*(const char **) a, *(const char **) b);
}

static void
print_histogram (GHashTable *hist)
{
  g_autofree gpointer *keys = NULL;
  guint n;

  keys = g_hash_table_get_keys_as_array (hist, &n);
  qsort (keys, n, sizeof (gpointer), compare_keys);
  printf ("ops:\n");
  for (guint i = 0; i < n; i++)
    printf ("  %-28s %u\n", (const char *) keys[i], GPOINTER_TO_UINT (g_hash_table_lookup (hist, keys[i])));
}

static int
inspect_graph (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_load (path, &error);
  g_autoptr(GPtrArray) inputs = NULL, params = NULL, states = NULL, outputs = NULL;
  g_autoptr(GHashTable) hist = NULL;
  guint bound = 0;

  if (g == NULL)
    return ane_tool_fail ("inspect", error);
  inputs = ane_graph_list_inputs (g);
  params = ane_graph_list_params (g);
  states = ane_graph_list_states (g);
  outputs = ane_graph_list_outputs (g);
  for (guint i = 0; i < params->len; i++)
    bound += ane_graph_find_node (g, ane_tensor_get_name (g_ptr_array_index (params, i)))->value != NULL;
  printf ("graph: %s\nnodes: %u\nparams bound: %u of %u\n", path, ane_graph_get_n_nodes (g), bound, params->len);
  print_tensor_list ("inputs", inputs, NULL, NULL);
  print_tensor_list ("params", params, NULL, NULL);
  print_tensor_list ("states", states, NULL, NULL);
  print_tensor_list ("outputs", outputs, NULL, NULL);
  hist = ane_graph_op_histogram (g);
  print_histogram (hist);
  return 0;
}

/* What the function computes in: the float dtypes of its ops' outputs
 * (consts and constexpr ops left out), most common first. */
static void
print_precision (AnePackage *pkg,
                 const char *function)
{
  const AneCoreMLModel *model = ane_package_get_model (pkg);
  const AneMilProgram *program = model != NULL ? model->mlprogram : NULL;
  guint fp16 = 0, fp32 = 0, other = 0;

  for (gsize f = 0; program != NULL && f < program->n_functions; f++)
    {
      const AneMilFunction *fn = program->functions[f]->value;

      if (g_strcmp0 (program->functions[f]->key, function) != 0 || fn == NULL)
        continue;
      for (gsize b = 0; b < fn->n_block_specializations; b++)
        {
          const AneMilBlock *block = fn->block_specializations[b]->value;

          if (g_strcmp0 (fn->block_specializations[b]->key, fn->opset) != 0 || block == NULL)
            continue;
          for (gsize i = 0; i < block->n_operations; i++)
            {
              const AneMilOperation *op = block->operations[i];

              if (op == NULL || op->type == NULL || g_str_equal (op->type, "const") ||
                  g_str_has_prefix (op->type, "constexpr_"))
                continue;
              for (gsize j = 0; j < op->n_outputs; j++)
                {
                  const AneMilValueType *t = op->outputs[j] ? op->outputs[j]->type : NULL;
                  int dt = t && t->type_case == CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE
                           && t->tensortype ? (int) t->tensortype->datatype : -1;

                  fp16 += dt == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16;
                  fp32 += dt == CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32;
                  other += ane_mil_text_dtype_is_float (dt) && dt != CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT16 &&
                           dt != CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__FLOAT32;
                }
            }
        }
    }
  if (fp16 + fp32 + other == 0)
    printf ("precision: no float ops\n");
  else
    printf ("precision: %s (float outputs: %u fp16, %u fp32%s)\n",
            fp16 >= fp32 ? "fp16" : "fp32", fp16, fp32, other ? ", others too" : "");
}

/* `inspect --check`: the Apple-loader contract, op by op. */
static int
check_types (AnePackage *pkg)
{
  g_auto(GStrv) unchecked = NULL;
  g_auto(GStrv) problems = ane_package_check_types (pkg, &unchecked);
  guint n = g_strv_length (problems);

  printf ("\ntype check (Apple's loader, as coremltools %s infers types): ", ANE_MIL_INFER_COREMLTOOLS_VERSION);
  if (n == 0)
    printf ("every op agrees\n");
  else
    printf ("%u op%s differ%s\n", n, n == 1 ? "" : "s", n == 1 ? "s" : "");
  for (guint i = 0; problems[i] != NULL; i++)
    printf ("  %s\n", problems[i]);
  if (unchecked[0] != NULL)
    {
      g_autofree char *list = g_strjoinv (", ", unchecked);
      printf ("not checked (no rule for these ops): %s\n", list);
    }
  return n == 0 ? 0 : 1;
}

static int
inspect_package (const char *path,
                 gboolean    mil,
                 gboolean    check)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = mil ? ane_package_load_mil (path, &error) : ane_package_load (path, &error);
  g_auto(GStrv) functions = NULL;

  if (pkg == NULL)
    return ane_tool_fail ("inspect", error);
  printf ("%s: %s\nspecification version: %d\nweight bytes: %" G_GUINT64_FORMAT "\n",
          mil ? "MIL text" : "package", path, ane_package_get_specification_version (pkg), ane_package_get_weight_bytes (pkg));
  print_metadata (pkg);
  functions = ane_package_list_functions (pkg);
  for (guint f = 0; functions[f]; f++)
    {
      g_autoptr(GPtrArray) inputs = ane_package_list_inputs (pkg, functions[f], NULL);
      g_autoptr(GPtrArray) outputs = ane_package_list_outputs (pkg, functions[f], NULL);
      g_autoptr(GPtrArray) states = ane_package_list_states (pkg, functions[f], NULL);
      g_autoptr(GHashTable) hist = ane_package_op_histogram (pkg, functions[f], NULL);

      printf ("\nfunction %s%s (opset %s)\n", functions[f],
              g_strcmp0 (functions[f], ane_package_get_default_function (pkg)) == 0 ? " [default]" : "",
              ane_package_get_opset (pkg, functions[f], NULL));
      print_precision (pkg, functions[f]);
      if (inputs)
        print_tensor_list ("inputs", inputs, pkg, functions[f]);
      if (states)
        print_tensor_list ("states", states, pkg, functions[f]);
      if (outputs)
        print_tensor_list ("outputs", outputs, pkg, functions[f]);
      if (hist)
        print_histogram (hist);
    }
  return check ? check_types (pkg) : 0;
}

int
ane_tool_inspect (int    argc,
                  char **argv)
{
  int status = 0;
  gboolean check = FALSE;
  AneToolInputKind kind;
  GOptionEntry entries[] = {
    { "check", 0, 0, G_OPTION_ARG_NONE, &check,
      "Type-check every op as Apple's loader does (exit 1 if an op differs)", NULL },
    { NULL }
  };

  if (!ane_tool_parse (&argc, &argv, "inspect", "PATH",
                       "Describe a .mlpackage or MIL text (functions, inputs, outputs, states,\n"
                       "op counts, weight bytes) or a graph .json (nodes, params, op counts).\n"
                       "--check also type-checks every op of a package or MIL program as\n"
                       "Apple's coremltools loader would, and lists each op that differs.",
                       entries, 1, 1, &status))
    return status;
  if (!ane_tool_classify_input ("inspect", argv[1], "a .mlpackage, a .mil file or a graph .json", &kind))
    return 1;
  switch (kind)
    {
    case ANE_TOOL_INPUT_PACKAGE: return inspect_package (argv[1], FALSE, check);
    case ANE_TOOL_INPUT_MIL:     return inspect_package (argv[1], TRUE, check);
    default:
      if (check)
        {
          fprintf (stderr, "ane-tool inspect: --check takes a .mlpackage or a .mil file (convert the "
                   "graph first)\n");
          return 2;
        }
      return inspect_graph (argv[1]);
    }
}

/* --- dot --------------------------------------------------------------- */

static void
dot_escape (GString    *out,
            const char *s)
{
  for (; *s; s++)
    {
      if (*s == '"' || *s == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *s);
    }
}

static int
dot_graph (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_load (path, &error);
  g_autoptr(GString) out = g_string_new ("digraph ane {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n");

  if (g == NULL)
    return ane_tool_fail ("dot", error);
  for (guint i = 0; i < ane_graph_get_n_nodes (g); i++)
    {
      const AneNode *node = ane_graph_get_node (g, i);
      char buf[ANE_SPEC_STRLEN];
      gboolean source = node->op->flags & ANE_OP_FLAG_SOURCE;

      g_string_append_printf (out, "  n%u [label=\"", i);
      dot_escape (out, node->name);
      g_string_append_printf (out, "\\n%s\\n%s\"%s];\n", node->op->name,
                              ane_spec_format (&node->outputs[0], buf),
                              source ? ", shape=ellipse" : "");
      for (guint j = 0; j < node->n_inputs; j++)
        if (node->inputs[j].node != ANE_NO_NODE)
          g_string_append_printf (out, "  n%u -> n%u [label=\"%s\"];\n", node->inputs[j].node, i,
                                  ane_op_info_slot_name (node->op, j));
    }
  for (guint i = 0; i < ane_graph_get_n_outputs (g); i++)
    {
      const AneGraphOutput *o = ane_graph_get_output (g, i);
      g_string_append_printf (out, "  out%u [label=\"", i);
      dot_escape (out, o->name);
      g_string_append_printf (out, "\", shape=doubleoctagon];\n  n%u -> out%u;\n", o->ref.node, i);
    }
  g_string_append (out, "}\n");
  fputs (out->str, stdout);
  return 0;
}

static int
dot_package (const char *path)
{
  g_autoptr(GError) error = NULL;
  AneMLPackage *pkg = ane_mlpackage_open (path, &error);
  AneMilProgram *program;
  g_autoptr(GString) out = g_string_new ("digraph mil {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n");

  if (pkg == NULL)
    return ane_tool_fail ("dot", error);
  program = ane_mlpackage_get_program (pkg);
  for (gsize f = 0; f < program->n_functions; f++)
    {
      AneMilFunction *fn = program->functions[f]->value;
      AneMilBlock *block = fn->n_block_specializations ? fn->block_specializations[0]->value : NULL;
      g_autoptr(GHashTable) producer = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

      g_string_append_printf (out, "  subgraph \"cluster_%s\" {\n    label=\"%s\";\n",
                              program->functions[f]->key, program->functions[f]->key);
      for (gsize i = 0; i < fn->n_inputs; i++)
        {
          g_string_append_printf (out, "    \"f%zu_%s\" [label=\"%s\", shape=ellipse];\n", f,
                                  fn->inputs[i]->name, fn->inputs[i]->name);
          g_hash_table_insert (producer, fn->inputs[i]->name, g_strdup_printf ("f%zu_%s", f, fn->inputs[i]->name));
        }
      for (gsize i = 0; block && i < block->n_operations; i++)
        {
          AneMilOperation *op = block->operations[i];
          g_autofree char *id = g_strdup_printf ("f%zu_op%zu", f, i);

          if (g_str_equal (op->type, "const"))
            {
              /* consts would drown the picture: fold them into their users' labels */
              for (gsize j = 0; j < op->n_outputs; j++)
                g_hash_table_insert (producer, op->outputs[j]->name, NULL);
              continue;
            }
          g_string_append_printf (out, "    \"%s\" [label=\"%s\\n%s\"];\n", id, op->type,
                                  op->n_outputs ? op->outputs[0]->name : "");
          for (gsize j = 0; j < op->n_inputs; j++)
            for (gsize k = 0; k < op->inputs[j]->value->n_arguments; k++)
              {
                AneMilBinding *bind = op->inputs[j]->value->arguments[k];
                const char *from;

                if (bind->binding_case != CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME)
                  continue;
                from = g_hash_table_lookup (producer, bind->name);
                if (from)
                  g_string_append_printf (out, "    \"%s\" -> \"%s\" [label=\"%s\"];\n", from, id, op->inputs[j]->key);
              }
          for (gsize j = 0; j < op->n_outputs; j++)
            g_hash_table_insert (producer, op->outputs[j]->name, g_strdup (id));
        }
      g_string_append (out, "  }\n");
    }
  g_string_append (out, "}\n");
  fputs (out->str, stdout);
  ane_mlpackage_free (pkg);
  return 0;
}

int
ane_tool_dot (int    argc,
              char **argv)
{
  int status = 0;
  AneToolInputKind kind;

  if (!ane_tool_parse (&argc, &argv, "dot", "PATH",
                       "Print a Graphviz view of a graph .json (IR nodes) or a .mlpackage\n"
                       "(MIL operations; consts folded). Render with: dot -Tsvg",
                       NULL, 1, 1, &status))
    return status;
  if (!ane_tool_classify_input ("dot", argv[1], "a .mlpackage or a graph .json", &kind))
    return 1;
  switch (kind)
    {
    case ANE_TOOL_INPUT_PACKAGE: return dot_package (argv[1]);
    case ANE_TOOL_INPUT_GRAPH:   return dot_graph (argv[1]);
    default:
      fprintf (stderr, "ane-tool dot: '%s' is MIL text, which dot does not draw (give a .mlpackage "
               "or a graph .json)\n", argv[1]);
      return 2;
    }
}
