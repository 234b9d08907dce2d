/* test-mil-opdefs.c: the MIL op signature table (mil/ane-mil-opdefs.c)
 *
 * Besides lookups and check_call errors, two cross-checks tie the table to
 * files Apple's own tools wrote:
 *  - /ane/mil-opdefs/conformance/readme: every op type the conformance pack's
 *    README lists for a case exists in the table at that case's target;
 *  - /ane/mil-opdefs/conformance/files: every operation in every
 *    model.mlmodel of the pack (decoded here with a minimal protobuf walker,
 *    independent of the library's protobuf bindings) passes
 *    ane_mil_opdef_check_call() with the parameter names coremltools wrote,
 *    at the target of the function's opset.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-test-util.h"
#include "mil/ane-mil-opdefs-private.h"

/* --- targets ------------------------------------------------------------ */

static void
test_targets (void)
{
  static const struct {
    AneMilTarget target;
    const char  *ios, *macos, *opset;
    int          spec;
  } expect[] = {
    { ANE_MIL_IOS15, "iOS15", "macOS12", "CoreML5", 6 },
    { ANE_MIL_IOS16, "iOS16", "macOS13", "CoreML6", 7 },
    { ANE_MIL_IOS17, "iOS17", "macOS14", "CoreML7", 8 },
    { ANE_MIL_IOS18, "iOS18", "macOS15", "CoreML8", 9 },
  };

  g_assert_cmpint (G_N_ELEMENTS (expect), ==, ANE_MIL_N_TARGETS);
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      AneMilTarget t = (AneMilTarget) -1;
      g_autofree char *lower_ios = g_ascii_strdown (expect[i].ios, -1);
      g_autofree char *lower_macos = g_ascii_strdown (expect[i].macos, -1);
      g_autofree char *upper_opset = g_ascii_strup (expect[i].opset, -1);

      g_assert_cmpstr (ane_mil_target_name (expect[i].target), ==, expect[i].ios);
      g_assert_cmpstr (ane_mil_target_macos_name (expect[i].target), ==, expect[i].macos);
      g_assert_cmpstr (ane_mil_target_opset (expect[i].target), ==, expect[i].opset);
      g_assert_cmpint (ane_mil_target_spec_version (expect[i].target), ==, expect[i].spec);

      g_assert_true (ane_mil_target_from_string (lower_ios, &t));
      g_assert_cmpint (t, ==, expect[i].target);
      t = (AneMilTarget) -1;
      g_assert_true (ane_mil_target_from_string (lower_macos, &t));
      g_assert_cmpint (t, ==, expect[i].target);
      t = (AneMilTarget) -1;
      g_assert_true (ane_mil_target_from_string (expect[i].ios, &t));
      g_assert_cmpint (t, ==, expect[i].target);
      t = (AneMilTarget) -1;
      g_assert_true (ane_mil_target_from_string (upper_opset, &t));
      g_assert_cmpint (t, ==, expect[i].target);
      t = (AneMilTarget) -1;
      g_assert_true (ane_mil_target_from_spec_version (expect[i].spec, &t));
      g_assert_cmpint (t, ==, expect[i].target);
    }

  {
    static const char *const bad[] = { "", "ios14", "ios19", "macos11", "macos16", "coreml4",
                                       "CoreML9", "ios 17", "ios17 ", "17", "iOS", NULL };
    AneMilTarget t = ANE_MIL_IOS16;

    for (guint i = 0; bad[i] != NULL; i++)
      {
        if (ane_mil_target_from_string (bad[i], &t))
          g_error ("'%s' parsed as a target", bad[i]);
      }
    g_assert_false (ane_mil_target_from_string (NULL, &t));
    g_assert_cmpint (t, ==, ANE_MIL_IOS16);
    g_assert_false (ane_mil_target_from_spec_version (5, &t));
    g_assert_false (ane_mil_target_from_spec_version (10, &t));
  }

  g_assert_null (ane_mil_target_opset ((AneMilTarget) ANE_MIL_N_TARGETS));
  g_assert_cmpint (ane_mil_target_spec_version ((AneMilTarget) 17), ==, -1);
}

/* --- the table is well formed ------------------------------------------- */

static const char *const known_dtypes[] = {
  "fp16", "fp32", "int8", "uint8", "int16", "uint16", "int32", "uint32",
  "bool", "str", "int4", "uint4", "uint1", "uint2", "uint3", "uint6", NULL,
};

static gboolean
is_dtype_list (const char *types)
{
  g_auto (GStrv) parts = g_strsplit (types, "|", -1);

  if (parts[0] == NULL)
    return FALSE;
  for (guint i = 0; parts[i] != NULL; i++)
    if (!g_strv_contains (known_dtypes, parts[i]))
      return FALSE;
  return TRUE;
}

static gboolean
has_domain (const AneMilOpDef *def,
            const char        *domain)
{
  gsize len = strlen (domain);

  for (const char *const *d = def->domains; *d != NULL; d++)
    if (strncmp (*d, domain, len) == 0 && (*d)[len] == '=')
      return TRUE;
  return FALSE;
}

static void
test_table_well_formed (void)
{
  guint n_rows = 0;
  const AneMilOpDef *rows = ane_mil_opdefs_get (&n_rows);
  g_autoptr (GHashTable) finished = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_cmpuint (n_rows, >, 100);
  for (guint i = 0; i < n_rows; i++)
    {
      const AneMilOpDef *def = &rows[i];
      const AneMilOpDef *prev = i > 0 ? &rows[i - 1] : NULL;

      g_assert_nonnull (def->name);
      g_assert_nonnull (def->params);
      g_assert_nonnull (def->domains);
      g_assert_nonnull (def->outputs);
      g_assert_nonnull (def->source);
      g_assert_true (g_str_has_prefix (def->source, "mil/ops/defs/") ||
                     g_str_equal (def->source, "backend/mil/load.py"));
      g_assert_cmpint (def->first, >=, ANE_MIL_IOS15);
      g_assert_cmpint (def->first, <=, ANE_MIL_TARGET_LATEST);
      g_assert_true (def->last == ANE_MIL_STILL_CURRENT ||
                     (def->last >= def->first && def->last < ANE_MIL_TARGET_LATEST));
      g_assert_cmpuint (ane_mil_opdef_n_params (def), >=, 1);

      /* An op's rows are adjacent, in order, and leave no gap. */
      if (prev != NULL && g_str_equal (prev->name, def->name))
        {
          g_assert_cmpint (prev->last, !=, ANE_MIL_STILL_CURRENT);
          g_assert_cmpint (def->first, ==, prev->last + 1);
        }
      else
        {
          if (g_hash_table_contains (finished, def->name))
            g_error ("rows of '%s' are not adjacent", def->name);
          if (prev != NULL)
            {
              if (prev->last != ANE_MIL_STILL_CURRENT)
                g_error ("'%s' stops at %s with no later row", prev->name,
                         ane_mil_target_name (prev->last));
              g_hash_table_add (finished, (gpointer) prev->name);
            }
        }

      for (guint j = 0; def->params[j].name != NULL; j++)
        {
          const AneMilParamDef *p = &def->params[j];

          for (guint k = 0; k < j; k++)
            if (g_str_equal (def->params[k].name, p->name))
              g_error ("%s: parameter '%s' listed twice", def->name, p->name);
          g_assert_cmpstr (p->name, !=, "name");
          if (p->types == NULL)
            {
              g_assert_true (p->kind != ANE_MIL_PARAM_TENSOR || g_str_equal (def->name, "write_state"));
              continue;
            }
          if (!is_dtype_list (p->types) && !has_domain (def, p->types))
            g_error ("%s: parameter '%s' has types '%s', neither dtypes nor a domain",
                     def->name, p->name, p->types);
          g_assert_nonnull (ane_mil_opdef_param_dtypes (def, p->name));
          g_assert_true (is_dtype_list (ane_mil_opdef_param_dtypes (def, p->name)));
        }

      for (const char *const *d = def->domains; *d != NULL; d++)
        {
          const char *eq = strchr (*d, '=');

          g_assert_nonnull (eq);
          g_assert_true (is_dtype_list (eq + 1));
        }

      for (const char *const *o = def->outputs; *o != NULL; o++)
        {
          const char *out = **o == '?' ? *o + 1 : *o;

          if (*out == '(')
            continue;
          if (!is_dtype_list (out) && !has_domain (def, out))
            g_error ("%s: output '%s' is neither dtypes nor a domain", def->name, *o);
        }
    }
}

/* --- lookups -------------------------------------------------------------- */

static void
assert_param (const AneMilOpDef *def,
              const char        *name,
              gboolean           optional,
              gboolean           const_only,
              const char        *dtypes)
{
  const AneMilParamDef *p;

  g_assert_nonnull (def);
  p = ane_mil_opdef_find_param (def, name);
  if (p == NULL)
    g_error ("%s has no parameter %s", def->name, name);
  if (p->optional != optional || p->const_only != const_only)
    g_error ("%s.%s: optional %d const %d, expected %d %d", def->name, name,
             p->optional, p->const_only, optional, const_only);
  if (dtypes != NULL)
    g_assert_cmpstr (ane_mil_opdef_param_dtypes (def, name), ==, dtypes);
}

static void
assert_param_order (const AneMilOpDef *def,
                    const char *const *names)
{
  guint n = g_strv_length ((char **) names);

  g_assert_nonnull (def);
  g_assert_cmpuint (ane_mil_opdef_n_params (def), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (def->params[i].name, ==, names[i]);
}

static void
assert_only_at (const char  *op,
                AneMilTarget first)
{
  for (guint t = 0; t < ANE_MIL_N_TARGETS; t++)
    {
      const AneMilOpDef *def = ane_mil_opdef_lookup (op, (AneMilTarget) t);

      if ((t >= (guint) first) != (def != NULL))
        g_error ("%s at %s: %s", op, ane_mil_target_name ((AneMilTarget) t),
                 def != NULL ? "present, expected absent" : "absent, expected present");
    }
}

static void
test_lookup_ios18_only (void)
{
  const AneMilOpDef *def;
  AneMilTarget first;

  assert_only_at ("scaled_dot_product_attention", ANE_MIL_IOS18);
  def = ane_mil_opdef_lookup ("scaled_dot_product_attention", ANE_MIL_IOS18);
  assert_param_order (def, (const char *const[]) { "query", "key", "value", "attn_mask", NULL });
  assert_param (def, "query", FALSE, FALSE, "fp16|fp32");
  assert_param (def, "attn_mask", TRUE, FALSE, "bool|fp16|fp32");
  g_assert_cmpuint (ane_mil_opdef_n_outputs (def), ==, 1);
  g_assert_true (ane_mil_opdef_first_target ("scaled_dot_product_attention", &first));
  g_assert_cmpint (first, ==, ANE_MIL_IOS18);

  assert_only_at ("constexpr_blockwise_shift_scale", ANE_MIL_IOS18);
  def = ane_mil_opdef_lookup ("constexpr_blockwise_shift_scale", ANE_MIL_IOS18);
  assert_param_order (def, (const char *const[]) { "data", "scale", "offset", NULL });
  assert_param (def, "data", FALSE, TRUE, "int4|uint4|int8|uint8|fp16|fp32");
  assert_param (def, "scale", FALSE, TRUE, "fp16|fp32");
  assert_param (def, "offset", TRUE, TRUE, NULL);
  g_assert_false (def->flags & ANE_MIL_OPDEF_PARAMS_AS_ATTRIBUTES);

  assert_only_at ("read_state", ANE_MIL_IOS18);
  def = ane_mil_opdef_lookup ("read_state", ANE_MIL_IOS18);
  assert_param_order (def, (const char *const[]) { "input", NULL });
  g_assert_cmpint (def->params[0].kind, ==, ANE_MIL_PARAM_STATE);

  assert_only_at ("write_state", ANE_MIL_IOS18);
  def = ane_mil_opdef_lookup ("write_state", ANE_MIL_IOS18);
  assert_param_order (def, (const char *const[]) { "input", "data", NULL });
  g_assert_cmpuint (ane_mil_opdef_n_outputs (def), ==, 0);

  assert_only_at ("coreml_update_state", ANE_MIL_IOS18);
  assert_only_at ("slice_update", ANE_MIL_IOS18);

  /* iOS16: constexpr ops; iOS17: activation quantization. */
  assert_only_at ("constexpr_affine_dequantize", ANE_MIL_IOS16);
  assert_only_at ("constexpr_lut_to_dense", ANE_MIL_IOS16);
  assert_only_at ("constexpr_cast", ANE_MIL_IOS16);
  assert_only_at ("fill_like", ANE_MIL_IOS16);
  assert_only_at ("quantize", ANE_MIL_IOS17);
  assert_only_at ("dequantize", ANE_MIL_IOS17);

  g_assert_null (ane_mil_opdef_lookup ("no_such_op", ANE_MIL_IOS18));
  g_assert_false (ane_mil_opdef_first_target ("no_such_op", &first));
  g_assert_null (ane_mil_opdef_lookup ("add", (AneMilTarget) ANE_MIL_N_TARGETS));
}

static void
test_lookup_signatures (void)
{
  static const char *const required_ops[] = {
    "const", "cast", "add", "sub", "mul", "real_div", "floor_div", "maximum", "minimum",
    "pow", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_not", "select", "relu", "sigmoid", "tanh",
    "gelu", "silu", "exp", "log", "sqrt", "rsqrt", "abs", "sin", "cos", "tan", "atan",
    "round", "sign", "clip", "inverse", "square", "softmax", "layer_norm",
    "instance_norm", "batch_norm", "l2_norm", "matmul", "linear", "einsum", "conv",
    "conv_transpose", "max_pool", "avg_pool", "upsample_nearest_neighbor", "reshape",
    "transpose", "concat", "split", "slice_by_index", "slice_by_size", "gather",
    "gather_along_axis", "gather_nd", "scatter", "scatter_along_axis", "scatter_nd",
    "expand_dims", "squeeze", "tile", "reduce_sum", "reduce_mean", "reduce_max",
    "reduce_min", "reduce_prod", "reduce_argmax", "cumsum", "topk", "fill", "range_1d",
    "shape", "identity", "band_part", "pad", "stack", "one_hot", "non_zero", "erf",
    "while_loop", "cond", NULL,
  };
  const AneMilOpDef *def, *def17;

  for (guint i = 0; required_ops[i] != NULL; i++)
    assert_only_at (required_ops[i], ANE_MIL_IOS15);

  /* gelu's mode is an optional compile-time string at every target. */
  for (guint t = 0; t < ANE_MIL_N_TARGETS; t++)
    {
      def = ane_mil_opdef_lookup ("gelu", (AneMilTarget) t);
      assert_param_order (def, (const char *const[]) { "x", "mode", NULL });
      assert_param (def, "x", FALSE, FALSE, "fp16|fp32");
      assert_param (def, "mode", TRUE, TRUE, "str");
    }

  /* layer_norm: same names throughout; iOS17 frees gamma/beta/epsilon's dtype. */
  def = ane_mil_opdef_lookup ("layer_norm", ANE_MIL_IOS16);
  def17 = ane_mil_opdef_lookup ("layer_norm", ANE_MIL_IOS17);
  g_assert_true (def != def17);
  g_assert_true (def == ane_mil_opdef_lookup ("layer_norm", ANE_MIL_IOS15));
  g_assert_true (def17 == ane_mil_opdef_lookup ("layer_norm", ANE_MIL_IOS18));
  for (guint k = 0; k < 2; k++)
    {
      const AneMilOpDef *d = k == 0 ? def : def17;

      assert_param_order (d, (const char *const[]) { "x", "axes", "gamma", "beta", "epsilon", NULL });
      assert_param (d, "x", FALSE, FALSE, "fp16|fp32");
      assert_param (d, "axes", TRUE, TRUE, "int32");
      assert_param (d, "gamma", TRUE, TRUE, "fp16|fp32");
      assert_param (d, "beta", TRUE, TRUE, "fp16|fp32");
      assert_param (d, "epsilon", TRUE, TRUE, "fp16|fp32");
    }
  g_assert_cmpstr (def->params[2].types, ==, "T");
  g_assert_cmpstr (def17->params[2].types, ==, "U");

  /* conv: weight need not be const; iOS17 also frees bias. */
  def = ane_mil_opdef_lookup ("conv", ANE_MIL_IOS16);
  def17 = ane_mil_opdef_lookup ("conv", ANE_MIL_IOS17);
  assert_param_order (def, (const char *const[]) {
    "x", "weight", "bias", "strides", "pad_type", "pad", "dilations", "groups", NULL });
  assert_param_order (def17, (const char *const[]) {
    "x", "weight", "bias", "strides", "pad_type", "pad", "dilations", "groups", NULL });
  assert_param (def, "weight", FALSE, FALSE, "fp16|fp32");
  assert_param (def, "bias", TRUE, TRUE, "fp16|fp32");
  assert_param (def, "pad_type", TRUE, TRUE, "str");
  assert_param (def, "pad", TRUE, TRUE, "int32");
  assert_param (def, "strides", TRUE, TRUE, "int32");
  assert_param (def, "dilations", TRUE, TRUE, "int32");
  assert_param (def, "groups", TRUE, TRUE, "int32");
  assert_param (def17, "weight", FALSE, FALSE, NULL);
  assert_param (def17, "bias", TRUE, FALSE, NULL);
  g_assert_cmpstr (def17->params[1].types, ==, "U");

  /* conv_transpose: weight const until iOS17. */
  assert_param (ane_mil_opdef_lookup ("conv_transpose", ANE_MIL_IOS15), "weight", FALSE, TRUE, NULL);
  assert_param (ane_mil_opdef_lookup ("conv_transpose", ANE_MIL_IOS17), "weight", FALSE, FALSE, NULL);
  assert_param (ane_mil_opdef_lookup ("conv_transpose", ANE_MIL_IOS16), "output_shape", TRUE, TRUE, "int32");

  /* Pools: pad_type and kernel_sizes are required. */
  def = ane_mil_opdef_lookup ("avg_pool", ANE_MIL_IOS16);
  assert_param (def, "pad_type", FALSE, TRUE, "str");
  assert_param (def, "kernel_sizes", FALSE, TRUE, "int32");
  assert_param (def, "exclude_padding_from_average", TRUE, TRUE, "bool");
  assert_param (ane_mil_opdef_lookup ("max_pool", ANE_MIL_IOS18), "ceil_mode", TRUE, TRUE, "bool");

  /* cast: iOS17 adds the 8- and 16-bit integers. */
  def = ane_mil_opdef_lookup ("cast", ANE_MIL_IOS16);
  def17 = ane_mil_opdef_lookup ("cast", ANE_MIL_IOS17);
  g_assert_false (ane_mil_dtypes_contain (ane_mil_opdef_param_dtypes (def, "x"), "int8"));
  g_assert_true (ane_mil_dtypes_contain (ane_mil_opdef_param_dtypes (def17, "x"), "int8"));
  g_assert_true (ane_mil_dtypes_contain (ane_mil_opdef_param_dtypes (def17, "x"), "uint16"));
  assert_param (def, "dtype", FALSE, TRUE, "str");

  /* rsqrt: epsilon gets its own domain at iOS17 (the fp32 epsilon of an fp16 program). */
  g_assert_cmpstr (ane_mil_opdef_lookup ("rsqrt", ANE_MIL_IOS16)->params[1].types, ==, "T");
  g_assert_cmpstr (ane_mil_opdef_lookup ("rsqrt", ANE_MIL_IOS17)->params[1].types, ==, "U");

  /* linear: weight/bias const; iOS17 lets them differ in dtype from x. */
  def = ane_mil_opdef_lookup ("linear", ANE_MIL_IOS15);
  assert_param_order (def, (const char *const[]) { "x", "weight", "bias", NULL });
  assert_param (def, "weight", FALSE, TRUE, "fp16|fp32|int32");
  assert_param (def, "bias", TRUE, TRUE, "fp16|fp32|int32");
  g_assert_cmpstr (ane_mil_opdef_lookup ("linear", ANE_MIL_IOS17)->params[1].types, ==, "U");

  /* matmul */
  def = ane_mil_opdef_lookup ("matmul", ANE_MIL_IOS18);
  assert_param_order (def, (const char *const[]) { "x", "y", "transpose_x", "transpose_y", NULL });
  assert_param (def, "transpose_y", TRUE, TRUE, "bool");

  /* gather grows batch_dims at iOS16 and validate_indices at iOS17. */
  g_assert_null (ane_mil_opdef_find_param (ane_mil_opdef_lookup ("gather", ANE_MIL_IOS15), "batch_dims"));
  assert_param (ane_mil_opdef_lookup ("gather", ANE_MIL_IOS16), "batch_dims", TRUE, TRUE, "int32");
  g_assert_null (ane_mil_opdef_find_param (ane_mil_opdef_lookup ("gather", ANE_MIL_IOS16), "validate_indices"));
  assert_param (ane_mil_opdef_lookup ("gather", ANE_MIL_IOS17), "validate_indices", TRUE, TRUE, "bool");
  assert_param (ane_mil_opdef_lookup ("scatter", ANE_MIL_IOS17), "validate_indices", TRUE, TRUE, "bool");

  /* slice_by_index: begin/end are runtime int32, then domain U at iOS17. */
  assert_param (ane_mil_opdef_lookup ("slice_by_index", ANE_MIL_IOS15), "begin", FALSE, FALSE, "int32");
  assert_param (ane_mil_opdef_lookup ("slice_by_index", ANE_MIL_IOS17), "begin", FALSE, FALSE, "int8|int16|int32");
  assert_param (ane_mil_opdef_lookup ("slice_by_index", ANE_MIL_IOS17), "squeeze_mask", TRUE, TRUE, "bool");

  /* Required const axes / perm. */
  assert_param (ane_mil_opdef_lookup ("concat", ANE_MIL_IOS16), "axis", FALSE, TRUE, "int32");
  g_assert_cmpint (ane_mil_opdef_lookup ("concat", ANE_MIL_IOS16)->params[0].kind, ==, ANE_MIL_PARAM_TUPLE);
  assert_param (ane_mil_opdef_lookup ("transpose", ANE_MIL_IOS17), "perm", FALSE, TRUE, "int32");
  assert_param (ane_mil_opdef_lookup ("reshape", ANE_MIL_IOS16), "shape", FALSE, FALSE, "int32");
  assert_param (ane_mil_opdef_lookup ("expand_dims", ANE_MIL_IOS15), "axes", FALSE, TRUE, "int32");
  assert_param (ane_mil_opdef_lookup ("split", ANE_MIL_IOS15), "axis", FALSE, TRUE, "int32");

  /* topk: sort/return_indices at iOS16, output_indices_dtype at iOS17. */
  g_assert_cmpuint (ane_mil_opdef_n_params (ane_mil_opdef_lookup ("topk", ANE_MIL_IOS15)), ==, 4);
  g_assert_cmpuint (ane_mil_opdef_n_params (ane_mil_opdef_lookup ("topk", ANE_MIL_IOS16)), ==, 6);
  assert_param (ane_mil_opdef_lookup ("topk", ANE_MIL_IOS17), "output_indices_dtype", TRUE, TRUE, "str");

  /* reduce_argmax: output_dtype at iOS17. */
  g_assert_null (ane_mil_opdef_find_param (ane_mil_opdef_lookup ("reduce_argmax", ANE_MIL_IOS16), "output_dtype"));
  assert_param (ane_mil_opdef_lookup ("reduce_argmax", ANE_MIL_IOS17), "output_dtype", TRUE, TRUE, "str");

  /* constexpr ops: attributes in their iOS16 form, inputs in their iOS18 form. */
  def = ane_mil_opdef_lookup ("constexpr_affine_dequantize", ANE_MIL_IOS18);
  g_assert_true (def == ane_mil_opdef_lookup ("constexpr_affine_dequantize", ANE_MIL_IOS16));
  g_assert_true (def->flags & ANE_MIL_OPDEF_PARAMS_AS_ATTRIBUTES);
  assert_param_order (def, (const char *const[]) { "quantized_data", "zero_point", "scale", "axis", NULL });
  def = ane_mil_opdef_lookup ("constexpr_lut_to_dense", ANE_MIL_IOS17);
  assert_param_order (def, (const char *const[]) { "indices", "lut", "shape", NULL });
  g_assert_true (def->flags & ANE_MIL_OPDEF_PARAMS_AS_ATTRIBUTES);
  def = ane_mil_opdef_lookup ("constexpr_lut_to_dense", ANE_MIL_IOS18);
  assert_param_order (def, (const char *const[]) { "indices", "lut", "vector_axis", NULL });
  g_assert_false (def->flags & ANE_MIL_OPDEF_PARAMS_AS_ATTRIBUTES);
  g_assert_true (ane_mil_dtypes_contain (ane_mil_opdef_param_dtypes (def, "indices"), "uint4"));

  /* select requires all three operands. */
  def = ane_mil_opdef_lookup ("select", ANE_MIL_IOS15);
  assert_param (def, "cond", FALSE, FALSE, "bool");
  assert_param (def, "a", FALSE, FALSE, "fp16|fp32|bool|int32");
  assert_param (def, "b", FALSE, FALSE, "fp16|fp32|bool|int32");

  /* range_1d's InputSpec order is end, start, step. */
  assert_param_order (ane_mil_opdef_lookup ("range_1d", ANE_MIL_IOS15),
                      (const char *const[]) { "end", "start", "step", NULL });

  /* comparisons output bool */
  g_assert_cmpstr (ane_mil_opdef_lookup ("less", ANE_MIL_IOS17)->outputs[0], ==, "bool");
  g_assert_cmpstr (ane_mil_opdef_lookup ("add", ANE_MIL_IOS17)->outputs[0], ==, "T");
}

static void
test_dtypes_contain (void)
{
  g_assert_true (ane_mil_dtypes_contain ("fp16|fp32", "fp16"));
  g_assert_true (ane_mil_dtypes_contain ("fp16|fp32", "fp32"));
  g_assert_false (ane_mil_dtypes_contain ("fp16|fp32", "fp"));
  g_assert_false (ane_mil_dtypes_contain ("fp16|fp32", "fp32|"));
  g_assert_false (ane_mil_dtypes_contain ("int8|uint8", "int"));
  g_assert_true (ane_mil_dtypes_contain ("int8|uint8", "uint8"));
  g_assert_false (ane_mil_dtypes_contain ("uint8", "int8"));
  g_assert_false (ane_mil_dtypes_contain (NULL, "int8"));
  g_assert_false (ane_mil_dtypes_contain ("int8", ""));
  g_assert_null (ane_mil_opdef_param_dtypes (ane_mil_opdef_lookup ("add", ANE_MIL_IOS15), "z"));
}

/* --- check_call ------------------------------------------------------------ */

#define NAMES(...) ((const char *const[]) { __VA_ARGS__ }), \
                   G_N_ELEMENTS (((const char *const[]) { __VA_ARGS__ }))

static void
test_check_call (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ane_mil_opdef_check_call ("add", ANE_MIL_IOS15, NAMES ("x", "y"), &error));
  g_assert_no_error (error);
  g_assert_true (ane_mil_opdef_check_call ("add", ANE_MIL_IOS18, NAMES ("y", "x", "name"), &error));
  g_assert_no_error (error);
  g_assert_true (ane_mil_opdef_check_call ("gelu", ANE_MIL_IOS16, NAMES ("x"), &error));
  g_assert_true (ane_mil_opdef_check_call ("gelu", ANE_MIL_IOS16, NAMES ("x", "mode"), &error));
  g_assert_true (ane_mil_opdef_check_call ("conv", ANE_MIL_IOS17,
                                           NAMES ("x", "weight", "bias", "strides", "pad_type",
                                                  "pad", "dilations", "groups"), &error));
  g_assert_true (ane_mil_opdef_check_call ("scaled_dot_product_attention", ANE_MIL_IOS18,
                                           NAMES ("query", "key", "value"), &error));
  g_assert_true (ane_mil_opdef_check_call ("write_state", ANE_MIL_IOS18,
                                           NAMES ("input", "data"), &error));
  g_assert_true (ane_mil_opdef_check_call ("const", ANE_MIL_IOS15, NAMES ("name", "val"), &error));
  g_assert_no_error (error);

  /* the op does not exist at that target */
  g_assert_false (ane_mil_opdef_check_call ("scaled_dot_product_attention", ANE_MIL_IOS17,
                                            NAMES ("query", "key", "value"), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "scaled_dot_product_attention"));
  g_assert_nonnull (strstr (error->message, "iOS17"));
  g_assert_nonnull (strstr (error->message, "iOS18"));
  g_clear_error (&error);

  g_assert_false (ane_mil_opdef_check_call ("constexpr_blockwise_shift_scale", ANE_MIL_IOS16,
                                            NAMES ("data", "scale"), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "iOS16"));
  g_clear_error (&error);

  g_assert_false (ane_mil_opdef_check_call ("frobnicate", ANE_MIL_IOS18, NAMES ("x"), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "frobnicate"));
  g_assert_nonnull (strstr (error->message, "iOS18"));
  g_clear_error (&error);

  /* coremltools' dialect op is never written to a file */
  g_assert_false (ane_mil_opdef_check_call ("coreml_update_state", ANE_MIL_IOS18,
                                            NAMES ("state", "value"), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "coreml_update_state"));
  g_clear_error (&error);

  /* unknown parameter, including one that only a later target has */
  g_assert_false (ane_mil_opdef_check_call ("add", ANE_MIL_IOS15, NAMES ("x", "y", "alpha"), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'alpha'"));
  g_assert_nonnull (strstr (error->message, "add"));
  g_clear_error (&error);

  g_assert_false (ane_mil_opdef_check_call ("gather", ANE_MIL_IOS16,
                                            NAMES ("x", "indices", "validate_indices"), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "validate_indices"));
  g_clear_error (&error);
  g_assert_true (ane_mil_opdef_check_call ("gather", ANE_MIL_IOS17,
                                           NAMES ("x", "indices", "validate_indices"), &error));
  g_assert_no_error (error);

  g_assert_false (ane_mil_opdef_check_call ("constexpr_lut_to_dense", ANE_MIL_IOS18,
                                            NAMES ("indices", "lut", "shape"), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'shape'"));
  g_clear_error (&error);

  /* missing required parameter */
  g_assert_false (ane_mil_opdef_check_call ("layer_norm", ANE_MIL_IOS17,
                                            NAMES ("axes", "gamma", "beta", "epsilon"), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'x'"));
  g_assert_nonnull (strstr (error->message, "layer_norm"));
  g_clear_error (&error);

  g_assert_false (ane_mil_opdef_check_call ("max_pool", ANE_MIL_IOS16,
                                            NAMES ("x", "kernel_sizes", "strides"), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "pad_type"));
  g_clear_error (&error);

  g_assert_false (ane_mil_opdef_check_call ("select", ANE_MIL_IOS15, NAMES ("cond", "a"), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'b'"));
  g_clear_error (&error);

  /* duplicates and bad arguments */
  g_assert_false (ane_mil_opdef_check_call ("add", ANE_MIL_IOS15, NAMES ("x", "x", "y"), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_mil_opdef_check_call ("add", ANE_MIL_IOS15, NAMES ("x", NULL), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_mil_opdef_check_call ("add", (AneMilTarget) 9, NAMES ("x", "y"), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_mil_opdef_check_call (NULL, ANE_MIL_IOS15, NAMES ("x", "y"), &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_mil_opdef_check_call ("relu", ANE_MIL_IOS15, NULL, 0, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_mil_opdef_check_call ("relu", ANE_MIL_IOS15, NULL, 0, NULL));
}

/* --- the conformance pack ------------------------------------------------- */

typedef struct {
  const char   *name;
  AneMilTarget  target;
  const char   *ops;   /* op types in the file, from tests/data/conformance/README.md */
} ConformanceCase;

static const ConformanceCase conformance_cases[] = {
  { "mlp_fp32", ANE_MIL_IOS16, "const linear gelu softmax" },
  { "mlp_fp16", ANE_MIL_IOS16, "const cast linear gelu softmax" },
  { "transformer_block_fp32", ANE_MIL_IOS17,
    "const linear reshape transpose add layer_norm matmul gelu mul softmax" },
  { "sdpa_ios18", ANE_MIL_IOS18, "const scaled_dot_product_attention" },
  { "convnet_fp32", ANE_MIL_IOS16,
    "const conv avg_pool batch_norm conv_transpose linear max_pool reduce_mean relu "
    "upsample_nearest_neighbor" },
  { "rmsnorm_rope_fp16", ANE_MIL_IOS17,
    "const mul add cast slice_by_index concat reduce_mean rsqrt" },
  { "quant_int8_ios16", ANE_MIL_IOS16, "const constexpr_affine_dequantize linear relu" },
  { "quant_int4_blockwise_ios18", ANE_MIL_IOS18, "const cast constexpr_blockwise_shift_scale linear" },
  { "palettized_ios18", ANE_MIL_IOS18, "const cast constexpr_lut_to_dense linear" },
  { "stateful_kv_ios18", ANE_MIL_IOS18, "const cast read_state write_state add mul" },
  { "multifunction", ANE_MIL_IOS18, "const linear relu tanh" },
};

/* The README's list of every op type in the pack. */
static const char pack_op_types[] =
  "add avg_pool batch_norm cast concat conv conv_transpose gelu layer_norm linear matmul "
  "max_pool mul reduce_mean relu reshape rsqrt scaled_dot_product_attention slice_by_index "
  "softmax tanh transpose upsample_nearest_neighbor constexpr_affine_dequantize "
  "constexpr_blockwise_shift_scale constexpr_lut_to_dense read_state write_state const";

static void
test_conformance_readme (void)
{
  g_auto (GStrv) all = g_strsplit (pack_op_types, " ", -1);
  g_autoptr (GHashTable) union_ops = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (conformance_cases); i++)
    {
      const ConformanceCase *c = &conformance_cases[i];
      g_auto (GStrv) ops = g_strsplit (c->ops, " ", -1);

      for (guint j = 0; ops[j] != NULL; j++)
        {
          const AneMilOpDef *def = ane_mil_opdef_lookup (ops[j], c->target);

          if (def == NULL)
            g_error ("%s: op '%s' is not in the table at %s", c->name, ops[j],
                     ane_mil_target_name (c->target));
          g_assert_false (def->flags & ANE_MIL_OPDEF_NOT_SERIALIZED);
          g_hash_table_add (union_ops, g_strdup (ops[j]));
        }
    }

  /* the per-case lists cover exactly the README's pack-wide list */
  g_assert_cmpuint (g_hash_table_size (union_ops), ==, g_strv_length (all));
  for (guint i = 0; all[i] != NULL; i++)
    if (!g_hash_table_contains (union_ops, all[i]))
      g_error ("pack op '%s' is in no case", all[i]);
}

/* A minimal protobuf wire-format reader: enough to walk
 * Model -> mlProgram (502) -> functions (2) -> block_specializations (3)
 * -> operations (3) -> type (1), inputs (2), blocks (4), attributes (5),
 * with the field numbers of proto/Model.proto and proto/MIL.proto. */
typedef struct {
  const guint8 *p;
  const guint8 *end;
} Pb;

static gboolean
pb_varint (Pb      *b,
           guint64 *v)
{
  guint64 r = 0;

  for (guint shift = 0; b->p < b->end && shift < 64; shift += 7)
    {
      guint8 c = *b->p++;

      r |= (guint64) (c & 0x7f) << shift;
      if ((c & 0x80) == 0)
        {
          *v = r;
          return TRUE;
        }
    }
  return FALSE;
}

/* Reads one field: a varint into *v, a length-delimited payload into *sub. */
static gboolean
pb_field (Pb      *b,
          guint32 *field,
          Pb      *sub,
          guint64 *v)
{
  guint64 key, len;

  if (!pb_varint (b, &key))
    return FALSE;
  *field = (guint32) (key >> 3);
  switch (key & 7)
    {
    case 0:
      return pb_varint (b, v);
    case 1:
      if (b->end - b->p < 8)
        return FALSE;
      b->p += 8;
      return TRUE;
    case 2:
      if (!pb_varint (b, &len) || len > (guint64) (b->end - b->p))
        return FALSE;
      sub->p = b->p;
      sub->end = b->p + len;
      b->p += len;
      return TRUE;
    case 5:
      if (b->end - b->p < 4)
        return FALSE;
      b->p += 4;
      return TRUE;
    default:
      return FALSE;
    }
}

static char *
pb_string (Pb s)
{
  return g_strndup ((const char *) s.p, s.end - s.p);
}

/* The key (field 1) and value (field 2) of a map entry. */
static char *
pb_map_entry (Pb  entry,
              Pb *value)
{
  char *key = NULL;
  guint32 field;
  Pb sub = { NULL, NULL };
  guint64 v;

  value->p = value->end = NULL;
  while (entry.p < entry.end)
    {
      g_assert_true (pb_field (&entry, &field, &sub, &v));
      if (field == 1)
        {
          g_free (key);
          key = pb_string (sub);
        }
      else if (field == 2)
        *value = sub;
    }
  g_assert_nonnull (key);
  return key;
}

typedef struct {
  const ConformanceCase *c;
  AneMilTarget           target;
  GHashTable            *seen_ops;
  guint                  n_ops;
} WalkState;

static void walk_block (WalkState *st, Pb block);

static void
walk_operation (WalkState *st,
                Pb         op)
{
  g_autofree char *type = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  guint n_attributes = 0, n_inputs = 0;
  const AneMilOpDef *def;
  g_autoptr (GArray) blocks = g_array_new (FALSE, FALSE, sizeof (Pb));
  g_autoptr (GError) error = NULL;
  guint32 field;
  Pb sub = { NULL, NULL };
  guint64 v;

  while (op.p < op.end)
    {
      g_assert_true (pb_field (&op, &field, &sub, &v));
      if (field == 1)
        type = pb_string (sub);
      else if (field == 2 || field == 5)   /* inputs, attributes: map<string, ...> */
        {
          Pb value;
          char *key = pb_map_entry (sub, &value);

          if (field == 5 && g_str_equal (key, "name"))
            g_free (key);
          else
            {
              g_ptr_array_add (names, key);
              if (field == 5)
                n_attributes++;
              else
                n_inputs++;
            }
        }
      else if (field == 4)
        g_array_append_val (blocks, sub);
    }
  g_assert_nonnull (type);

  if (!ane_mil_opdef_check_call (type, st->target, (const char *const *) names->pdata,
                                 names->len, &error))
    g_error ("%s (%s): %s", st->c->name, ane_mil_target_name (st->target), error->message);

  /* parameters are inputs, except where the table says attributes */
  def = ane_mil_opdef_lookup (type, st->target);
  if (def->flags & ANE_MIL_OPDEF_PARAMS_AS_ATTRIBUTES)
    g_assert_cmpuint (n_inputs, ==, 0);
  else
    g_assert_cmpuint (n_attributes, ==, 0);
  g_hash_table_add (st->seen_ops, g_steal_pointer (&type));
  st->n_ops++;

  for (guint i = 0; i < blocks->len; i++)
    walk_block (st, g_array_index (blocks, Pb, i));
}

static void
walk_block (WalkState *st,
            Pb         block)
{
  guint32 field;
  Pb sub = { NULL, NULL };
  guint64 v;

  while (block.p < block.end)
    {
      g_assert_true (pb_field (&block, &field, &sub, &v));
      if (field == 3)
        walk_operation (st, sub);
    }
}

static void
walk_function (WalkState  *st,
               Pb          function)
{
  g_autofree char *opset = NULL;
  Pb b = function, sub = { NULL, NULL };
  guint32 field;
  guint64 v;

  /* first the opset (field 2), then the blocks (field 3) */
  while (b.p < b.end)
    {
      g_assert_true (pb_field (&b, &field, &sub, &v));
      if (field == 2)
        opset = pb_string (sub);
    }
  g_assert_nonnull (opset);
  if (!ane_mil_target_from_string (opset, &st->target))
    g_error ("%s: unknown opset '%s'", st->c->name, opset);
  g_assert_cmpint (st->target, ==, st->c->target);

  b = function;
  while (b.p < b.end)
    {
      g_assert_true (pb_field (&b, &field, &sub, &v));
      if (field == 3)
        {
          Pb block;
          g_autofree char *key G_GNUC_UNUSED = pb_map_entry (sub, &block);

          walk_block (st, block);
        }
    }
}

static void
test_conformance_files (void)
{
  guint n_files = 0, n_ops = 0;

  for (guint i = 0; i < G_N_ELEMENTS (conformance_cases); i++)
    {
      const ConformanceCase *c = &conformance_cases[i];
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "conformance", c->name,
                                                     "model.mlpackage", "Data", "com.apple.CoreML",
                                                     "model.mlmodel", NULL);
      g_autofree char *data = NULL;
      gsize len = 0;
      g_autoptr (GError) error = NULL;
      g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_auto (GStrv) expected = g_strsplit (c->ops, " ", -1);
      WalkState st = { c, ANE_MIL_IOS15, seen, 0 };
      Pb model, sub = { NULL, NULL };
      guint32 field;
      guint64 v;
      gint64 spec_version = -1;
      guint n_functions = 0;

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      g_assert_true (g_file_get_contents (path, &data, &len, &error));
      g_assert_no_error (error);
      n_files++;

      model.p = (const guint8 *) data;
      model.end = model.p + len;
      while (model.p < model.end)
        {
          g_assert_true (pb_field (&model, &field, &sub, &v));
          if (field == 1)
            spec_version = (gint64) v;
          else if (field == 502)
            {
              Pb program = sub;

              while (program.p < program.end)
                {
                  g_assert_true (pb_field (&program, &field, &sub, &v));
                  if (field == 2)
                    {
                      Pb function;
                      g_autofree char *fname G_GNUC_UNUSED = pb_map_entry (sub, &function);

                      walk_function (&st, function);
                      n_functions++;
                    }
                }
            }
        }
      g_assert_cmpint (spec_version, ==, ane_mil_target_spec_version (c->target));
      g_assert_cmpuint (n_functions, ==, g_str_equal (c->name, "multifunction") ? 2 : 1);

      /* the file holds exactly the op types the README lists */
      g_assert_cmpuint (g_hash_table_size (seen), ==, g_strv_length (expected));
      for (guint j = 0; expected[j] != NULL; j++)
        if (!g_hash_table_contains (seen, expected[j]))
          g_error ("%s: README lists '%s', the file has no such op", c->name, expected[j]);
      n_ops += st.n_ops;
    }

  if (n_files == 0)
    {
      /* the pack is part of the repository (tests/data/conformance/) */
      ane_test_skip ("conformance pack not found");
      return;
    }
  g_test_message ("%u operations in %u model files passed check_call", n_ops, n_files);
  /* 2 functions x 4 ops in multifunction, and the README's counts elsewhere */
  g_assert_cmpuint (n_ops, ==, 10 + 14 + 60 + 2 + 54 + 31 + 4 + 7 + 7 + 10 + 8);
  g_assert_cmpuint (n_files, ==, G_N_ELEMENTS (conformance_cases));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/mil-opdefs/targets", test_targets);
  g_test_add_func ("/ane/mil-opdefs/table-well-formed", test_table_well_formed);
  g_test_add_func ("/ane/mil-opdefs/lookup/ios18-only", test_lookup_ios18_only);
  g_test_add_func ("/ane/mil-opdefs/lookup/signatures", test_lookup_signatures);
  g_test_add_func ("/ane/mil-opdefs/dtypes-contain", test_dtypes_contain);
  g_test_add_func ("/ane/mil-opdefs/check-call", test_check_call);
  g_test_add_func ("/ane/mil-opdefs/conformance/readme", test_conformance_readme);
  g_test_add_func ("/ane/mil-opdefs/conformance/files", test_conformance_files);

  return g_test_run ();
}
