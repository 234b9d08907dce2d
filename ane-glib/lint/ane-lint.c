/* lint/ane-lint.c: the ANE lint's walker
 *
 * Types every value of every function with the type-inference mirror (the
 * same judgement as ane_package_check_types, so a package Apple wrote is
 * read with the types coremltools would give it), then hands each compute op
 * to the op and tensor rules and each function to the program rules of
 * ane-lint-rules.c. consts and constexpr_* ops are weights, not compute: they
 * are counted in the function's weight bytes and not listed as ops.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "lint/ane-lint-private.h"
#include "mil/ane-mil-specialize-private.h"

typedef struct
{
  AneLintReport   *report;
  AneLintFunction *fn;
  AneMilTarget     target;
  const AneLintRule *rules;
  guint            n_rules;
  GHashTable      *constexpr_inputs;  /* const names a constexpr op reads (set) */
  GHashTable      *const_bytes;       /* const name -> bytes (GUINT_TO_POINTER is too small: guint64*) */
} LintState;

/* --- helpers the rules use ---------------------------------------------- */

guint
ane_lint_dtype_bytes (int dtype)
{
  switch (dtype)
    {
    case ANE_MIL_DT_FP64: case ANE_MIL_DT_INT64: case ANE_MIL_DT_UINT64:
      return 8;
    case ANE_MIL_DT_FP32: case ANE_MIL_DT_INT32: case ANE_MIL_DT_UINT32:
      return 4;
    case ANE_MIL_DT_FP16: case ANE_MIL_DT_BF16: case ANE_MIL_DT_INT16: case ANE_MIL_DT_UINT16:
      return 2;
    case ANE_MIL_DT_BOOL: case ANE_MIL_DT_INT8: case ANE_MIL_DT_UINT8:
    case ANE_MIL_DT_INT4: case ANE_MIL_DT_UINT4: case ANE_MIL_DT_UINT1: case ANE_MIL_DT_UINT2:
    case ANE_MIL_DT_UINT3: case ANE_MIL_DT_UINT6:
      return 1;
    default:
      return 0;
    }
}

/* Bits of one stored element: sub-byte types pack (MIL blob format). */
static guint
dtype_bits (int dtype)
{
  switch (dtype)
    {
    case ANE_MIL_DT_INT4: case ANE_MIL_DT_UINT4: return 4;
    case ANE_MIL_DT_UINT1: return 1;
    case ANE_MIL_DT_UINT2: return 2;
    case ANE_MIL_DT_UINT3: return 3;
    case ANE_MIL_DT_UINT6: return 6;
    default: return 8 * ane_lint_dtype_bytes (dtype);
    }
}

static guint64
val_bytes (const AneMilVal *val)
{
  gint64 n;

  if (val == NULL || val->kind != ANE_MIL_VAL_TENSOR)
    return 0;
  n = ane_mil_val_n_elements (val);
  if (n <= 0)
    return 0;
  return ((guint64) n * dtype_bits (val->dtype) + 7) / 8;
}

gboolean
ane_lint_val_is_activation (const AneMilVal *val)
{
  return val != NULL && val->kind == ANE_MIL_VAL_TENSOR && !val->const_descendant;
}

char *
ane_lint_val_describe (const AneMilVal *val)
{
  if (val == NULL)
    return g_strdup ("a value of unknown type");
  return ane_mil_val_type_string (val);
}

const char *
ane_lint_op_arg_name (const AneMilOperation *op,
                      const char            *param)
{
  for (gsize i = 0; op != NULL && i < op->n_inputs; i++)
    {
      const CoreML__Specification__MILSpec__Operation__InputsEntry *e = op->inputs[i];

      if (e == NULL || g_strcmp0 (e->key, param) != 0 || e->value == NULL || e->value->n_arguments == 0)
        continue;
      if (e->value->arguments[0] != NULL &&
          e->value->arguments[0]->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME)
        return e->value->arguments[0]->name;
      return NULL;
    }
  return NULL;
}

const AneMilVal *
ane_lint_site_arg (const AneLintSite *site,
                   const char        *param)
{
  return site->call != NULL ? ane_mil_infer_arg (site->call, param) : NULL;
}

const char *
ane_lint_site_arg_name (const AneLintSite *site,
                        const char        *param)
{
  return ane_lint_op_arg_name (site->op, param);
}

const AneMilOperation *
ane_lint_function_producer (const AneLintFunction *fn,
                            const char            *name)
{
  return name != NULL ? g_hash_table_lookup (fn->producers, name) : NULL;
}

const AneMilOperation *
ane_lint_site_producer (const AneLintSite *site,
                        const char        *param)
{
  return ane_lint_function_producer (site->fn, ane_lint_site_arg_name (site, param));
}

/* --- the walk ----------------------------------------------------------- */

/* Ops through which a value stays "the cache": what they output is the
 * state's data, moved (the rule on tile/concat of states follows it). */
static gboolean
moves_data (const char *type)
{
  static const char *const movers[] = {
    "read_state", "cast", "reshape", "transpose", "slice_by_index", "slice_by_size",
    "expand_dims", "squeeze", "identity", "tile", "concat", "select", "slice_update",
  };

  for (guint i = 0; i < G_N_ELEMENTS (movers); i++)
    if (strcmp (type, movers[i]) == 0)
      return TRUE;
  return FALSE;
}

gboolean
ane_lint_op_reads_state (const AneLintFunction *fn,
                         const AneMilOperation *op)
{
  if (strcmp (op->type, "read_state") == 0)
    return TRUE;
  for (gsize i = 0; i < op->n_inputs; i++)
    {
      const CoreML__Specification__MILSpec__Operation__InputsEntry *e = op->inputs[i];

      for (gsize j = 0; e != NULL && e->value != NULL && j < e->value->n_arguments; j++)
        {
          const AneMilBinding *b = e->value->arguments[j];

          if (b != NULL && b->binding_case == CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING_NAME &&
              b->name != NULL && g_hash_table_contains (fn->state_derived, b->name))
            return TRUE;
        }
    }
  return FALSE;
}

static void
note_outputs (LintState             *st,
              const AneMilOperation *op)
{
  gboolean state = moves_data (op->type) && ane_lint_op_reads_state (st->fn, op);

  for (gsize i = 0; i < op->n_outputs; i++)
    if (op->outputs[i] != NULL && op->outputs[i]->name != NULL)
      {
        g_hash_table_replace (st->fn->producers, op->outputs[i]->name, (gpointer) op);
        if (state)
          g_hash_table_add (st->fn->state_derived, op->outputs[i]->name);
      }
}

static void
run_op_rules (LintState         *st,
              const AneLintSite *site,
              guint              index)
{
  for (guint r = 0; r < st->n_rules; r++)
    {
      const AneLintRule *rule = &st->rules[r];
      g_autoptr(GString) message = NULL;

      if (rule->check_op == NULL)
        continue;
      if (rule->severity == ANE_LINT_SEVERITY_REFUSED_PRIVATE && !(st->fn->flags & ANE_LINT_PRIVATE))
        continue;
      message = g_string_new (NULL);
      if (rule->check_op (site, message))
        ane_lint_report_add_finding (st->report, st->fn->name, (int) index, rule, message->str);
    }
}

static void lint_block (LintState *st, const AneMilBlock *block, AneMilTypeEnv *env);

static void
lint_weight (LintState             *st,
             const AneMilOperation *op,
             AneMilInferCall       *call,
             AneMilTypeEnv         *env)
{
  if (strcmp (op->type, "const") == 0)
    {
      const AneMilVal *val;
      guint64 bytes;

      if (op->n_outputs != 1 || op->outputs[0] == NULL || op->outputs[0]->name == NULL)
        return;
      val = ane_mil_type_env_lookup (env, op->outputs[0]->name);
      bytes = val_bytes (val);
      st->fn->weight_bytes += bytes;
      st->fn->dense_weight_bytes += bytes;
      g_hash_table_replace (st->const_bytes, op->outputs[0]->name, g_memdup2 (&bytes, sizeof bytes));
      return;
    }
  /* constexpr_*: the ANE holds what it computes (decompressed); what it reads
   * is stored once in the file, in consts it names or in values written
   * into the op (its inputs or, for iOS16's constexpr ops, attributes) */
  for (gsize i = 0; i < op->n_inputs; i++)
    {
      const CoreML__Specification__MILSpec__Operation__InputsEntry *e = op->inputs[i];
      const char *name = e != NULL ? ane_lint_op_arg_name (op, e->key) : NULL;
      const guint64 *bytes = name != NULL ? g_hash_table_lookup (st->const_bytes, name) : NULL;

      if (bytes != NULL && !g_hash_table_contains (st->constexpr_inputs, name))
        {
          g_hash_table_add (st->constexpr_inputs, (gpointer) name);
          st->fn->dense_weight_bytes -= MIN (*bytes, st->fn->dense_weight_bytes);
        }
      else if (e != NULL && e->key != NULL && name == NULL && call != NULL)
        st->fn->weight_bytes += val_bytes (ane_mil_infer_arg (call, e->key));
    }
  for (gsize i = 0; call != NULL && i < op->n_attributes; i++)
    if (op->attributes[i] != NULL && op->attributes[i]->key != NULL && strcmp (op->attributes[i]->key, "name") != 0)
      st->fn->weight_bytes += val_bytes (ane_mil_infer_arg (call, op->attributes[i]->key));
  for (gsize i = 0; i < op->n_outputs; i++)
    if (op->outputs[i] != NULL && op->outputs[i]->name != NULL)
      st->fn->dense_weight_bytes += val_bytes (ane_mil_type_env_lookup (env, op->outputs[i]->name));
}

static void
lint_op (LintState             *st,
         const AneMilOperation *op,
         AneMilTypeEnv         *env)
{
  g_autoptr(AneMilInferCall) call = NULL;
  g_autoptr(GPtrArray) outputs = g_ptr_array_new ();
  AneLintSite site = { 0 };
  guint index;

  if (op == NULL || op->type == NULL)
    return;
  /* arguments first (the call copies them), then the outputs: the mirror
   * adds them to env whatever it thinks of the op */
  if (strcmp (op->type, "const") != 0)
    call = ane_mil_infer_call_new_for_op (env, st->target, op, NULL);
  ane_mil_infer_check_op (env, st->target, op, NULL);
  if (ane_mil_op_is_const_like (op->type))
    {
      lint_weight (st, op, call, env);
      note_outputs (st, op);
      return;
    }
  for (gsize i = 0; i < op->n_outputs; i++)
    g_ptr_array_add (outputs, op->outputs[i] != NULL && op->outputs[i]->name != NULL
                              ? (gpointer) ane_mil_type_env_lookup (env, op->outputs[i]->name) : NULL);
  site.fn = st->fn;
  site.op = op;
  site.type = op->type;
  site.name = ane_mil_op_name (op);
  site.call = call;
  site.outputs = outputs;
  site.env = env;

  st->fn->n_ops++;
  index = ane_lint_report_add_op (st->report, st->fn->name, op->type, site.name, ane_lint_op_cost (&site));
  run_op_rules (st, &site, index);
  note_outputs (st, op);

  for (gsize j = 0; j < op->n_blocks; j++)
    {
      const AneMilBlock *nested = op->blocks[j];
      g_autoptr(AneMilTypeEnv) inner = NULL;

      if (nested == NULL)
        continue;
      inner = ane_mil_type_env_new (env);
      for (gsize k = 0; k < nested->n_inputs; k++)
        if (nested->inputs[k] != NULL && nested->inputs[k]->name != NULL)
          ane_mil_type_env_add (inner, nested->inputs[k]->name,
                                ane_mil_val_from_value_type (nested->inputs[k]->type));
      lint_block (st, nested, inner);
    }
}

static void
lint_block (LintState         *st,
            const AneMilBlock *block,
            AneMilTypeEnv     *env)
{
  for (gsize i = 0; i < block->n_operations; i++)
    lint_op (st, block->operations[i], env);
}

static void
run_function_rules (LintState *st)
{
  for (guint r = 0; r < st->n_rules; r++)
    {
      const AneLintRule *rule = &st->rules[r];
      g_autoptr(GString) message = NULL;

      if (rule->check_function == NULL)
        continue;
      if (rule->severity == ANE_LINT_SEVERITY_REFUSED_PRIVATE && !(st->fn->flags & ANE_LINT_PRIVATE))
        continue;
      message = g_string_new (NULL);
      if (rule->check_function (st->fn, message))
        ane_lint_report_add_finding (st->report, st->fn->name, -1, rule, message->str);
    }
}

static void
lint_function_clear (AneLintFunction *fn)
{
  g_clear_pointer (&fn->inputs, g_ptr_array_unref);
  g_clear_pointer (&fn->input_names, g_ptr_array_unref);
  g_clear_pointer (&fn->outputs, g_ptr_array_unref);
  g_clear_pointer (&fn->output_names, g_ptr_array_unref);
  g_clear_pointer (&fn->producers, g_hash_table_unref);
  g_clear_pointer (&fn->state_derived, g_hash_table_unref);
  g_clear_pointer (&fn->declared_inputs, g_ptr_array_unref);
}

static gboolean
lint_function (AneLintReport        *report,
               guint                 index,
               const char           *name,
               const AneMilFunction *function,
               const AneMilFunction *flexible,
               AneLintFlags          flags,
               GError              **error)
{
  AneLintFunction fn = { 0 };
  LintState st = { 0 };
  g_autoptr(AneMilTypeEnv) env = NULL;
  g_autoptr(GHashTable) constexpr_inputs = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) const_bytes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  const AneMilBlock *block = NULL;
  AneMilTarget target;

  if (!ane_mil_target_from_string (function->opset, &target))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "function '%s': opset '%s' is not one the "
                   "lint knows (CoreML5..CoreML8)", name, function->opset ? function->opset : "");
      return FALSE;
    }
  for (gsize k = 0; k < function->n_block_specializations; k++)
    if (function->block_specializations[k] != NULL &&
        g_strcmp0 (function->block_specializations[k]->key, function->opset) == 0)
      block = function->block_specializations[k]->value;
  if (block == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "function '%s' has no block for its "
                   "opset '%s'", name, function->opset);
      return FALSE;
    }

  fn.name = name;
  fn.index = index;
  fn.target = target;
  fn.function = function;
  fn.flags = flags;
  fn.inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_mil_val_free);
  fn.input_names = g_ptr_array_new ();
  fn.outputs = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_mil_val_free);
  fn.output_names = g_ptr_array_new ();
  fn.producers = g_hash_table_new (g_str_hash, g_str_equal);
  fn.state_derived = g_hash_table_new (g_str_hash, g_str_equal);

  if (flexible != NULL)
    {
      fn.declared_inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_mil_val_free);
      for (gsize k = 0; k < flexible->n_inputs; k++)
        if (flexible->inputs[k] != NULL && flexible->inputs[k]->name != NULL)
          g_ptr_array_add (fn.declared_inputs, ane_mil_val_from_value_type (flexible->inputs[k]->type));
    }
  env = ane_mil_type_env_new (NULL);
  for (gsize k = 0; k < function->n_inputs; k++)
    {
      const AneMilNamedValueType *in = function->inputs[k];
      AneMilVal *val;

      if (in == NULL || in->name == NULL)
        continue;
      val = ane_mil_val_from_value_type (in->type);
      if (val->kind == ANE_MIL_VAL_STATE)
        fn.n_states++;
      g_ptr_array_add (fn.inputs, ane_mil_val_copy (val));
      g_ptr_array_add (fn.input_names, in->name);
      ane_mil_type_env_add (env, in->name, val);
    }

  /* the interface's names first: rules on the ops next to it read them */
  for (gsize k = 0; k < block->n_outputs; k++)
    g_ptr_array_add (fn.output_names, block->outputs[k]);

  st.report = report;
  st.fn = &fn;
  st.target = target;
  st.rules = ane_lint_rules_get (&st.n_rules);
  st.constexpr_inputs = constexpr_inputs;
  st.const_bytes = const_bytes;
  lint_block (&st, block, env);

  for (gsize k = 0; k < block->n_outputs; k++)
    {
      const AneMilVal *val = block->outputs[k] != NULL ? ane_mil_type_env_lookup (env, block->outputs[k]) : NULL;

      g_ptr_array_add (fn.outputs, val != NULL ? ane_mil_val_copy (val) : NULL);
    }
  ane_lint_report_add_function (report, name, fn.weight_bytes);
  run_function_rules (&st);
  lint_function_clear (&fn);
  return TRUE;
}

AneLintReport *
ane_lint_program (const AneMilProgram *program,
                  AneLintFlags         flags,
                  GError             **error)
{
  return ane_lint_program_full (program, NULL, flags, error);
}

AneLintReport *
ane_lint_program_full (const AneMilProgram *program,
                       const AneMilProgram *flexible,
                       AneLintFlags         flags,
                       GError             **error)
{
  g_autoptr(AneLintReport) report = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (program == NULL || program->n_functions == 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "the model is not an ML program with "
                   "functions: the lint reads ML programs (MIL) only");
      return NULL;
    }
  report = ane_lint_report_new (flags);
  for (gsize i = 0; i < program->n_functions; i++)
    {
      const CoreML__Specification__MILSpec__Program__FunctionsEntry *e = program->functions[i];

      if (e == NULL || e->value == NULL)
        continue;
      if (!lint_function (report, (guint) i, e->key != NULL ? e->key : "(unnamed)", e->value,
                          flexible != NULL ? ane_mil_program_find_function (flexible, e->key) : NULL, flags, error))
        return NULL;
    }
  return g_steal_pointer (&report);
}
