/* lint/ane-lint-rules.c: the ANE lint's rule table
 *
 * One row per rule: what it checks, how bad it is, why, and the public
 * source it was read from, with how that source knows it (measured on a
 * device, stated by Apple, or inferred). The facts were read with the
 * project's search tools from the sources below; the code and the sentences
 * are this library's own. docs/ane-lint.md lists the rules with the same
 * sources and says what the lint cannot know.
 *
 * Sources (stored versions read; line numbers are of those versions):
 *   maderix/ANE docs/ANE_INTERNALS.md @005fa4d, README.md @1524292,
 *     training/stories_mil.h @aedb036
 *   apple/ml-ane-transformers README.md @2050f58,
 *     ane_transformers/reference/multihead_attention.py @da64000,
 *     ane_transformers/huggingface/distilbert.py @472816e
 *   Apple, "Deploying Transformers on the Apple Neural Engine" (2022),
 *     machinelearning.apple.com/research/neural-engine-transformers
 *   hollance/neural-engine docs/unsupported-layers.md @06a7632,
 *     docs/16-bit.md @e8529c9, issue #2 (Espresso kernel validation log)
 *   Anemll/Anemll anemll/models/llama_model.py @9e1c1df
 *   skyfallsin/apple-neural-engine-field-guide README.md @4a1b518
 *   cadamcat/llms-on-apple-neural-engine
 *     findings/coreml-grouped-scale-cpu/README.md @2159b56
 *   Apple, coreai-models skills/skills/model-authoring/references/
 *     neural_engine_rules.md (Apple's Neural Engine authoring rules; the
 *     stored copy was reached by index, its path from the documents citing it)
 *   apple/coremltools issues #1780, #1875, #2365, #2370, #2593, #2631,
 *     #2687, #2690, #2728 (Apple staff replies and measurements by users)
 *   cadamcat/llms-on-apple-neural-engine, 0seba/VoxCPMANE#15 (MLComputePlan
 *     dumps and placements measured on M5 machines)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "lint/ane-lint-private.h"

/* Weights per program past which they no longer fit the Neural Engine's
 * on-chip SRAM: maderix measured the first spill at ~32 MB on an M4 Max
 * (sram_probe.m; maderix/ANE docs/ANE_INTERNALS.md:38-41). Smaller chips
 * have less (the same file's table, lines 31-36, inferred). */
#define WEIGHT_BUDGET       (32ull * 1000 * 1000)
/* Where the same measurement found spilling catastrophic. */
#define WEIGHT_CLIFF        (128ull * 1000 * 1000)
/* The Neural Engine compiler's limit on a weight file (its message quoted
 * in apple/coremltools PR #2593: "Weight file size ... exceeds the maximum
 * (2147483648 bytes)"). */
#define WEIGHT_FILE_LIMIT   (2147483648ull)
/* The largest dimension the Neural Engine takes (Anemll llama_model.py:
 * 185-186; a compile sweep at exactly 2^14 in ncdrone/rustane issue #13). */
#define MAX_DIM             16384
/* fp16's largest finite value and smallest subnormal. */
#define FP16_MAX            65504.0
#define FP16_MIN_SUBNORMAL  5.96e-8
/* ln(65504): exp overflows fp16 past it (apple/coremltools #2687). */
#define FP16_EXP_LIMIT      11.09
/* A reduction of squares over this many fp16 elements overflows once their
 * root mean square passes sqrt(65504 / 512) ~ 11.3. */
#define WIDE_REDUCTION      512
/* The private path's compile budget per process (maderix/ANE
 * docs/ANE_INTERNALS.md:115). */
#define PRIVATE_COMPILES    119
/* Wasted bytes from last-axis padding below which the lint stays quiet: a
 * few padded small tensors cost nothing measurable. */
#define PADDING_WASTE_MIN   (16 * 1024)

guint64
ane_lint_weight_budget (void)
{
  return WEIGHT_BUDGET;
}

/* --- small helpers ------------------------------------------------------ */

static gboolean
type_is (const AneLintSite *site,
         const char *const  *types)
{
  for (guint i = 0; types[i] != NULL; i++)
    if (strcmp (site->type, types[i]) == 0)
      return TRUE;
  return FALSE;
}

static const AneMilVal *
output (const AneLintSite *site,
        guint              i)
{
  return i < site->outputs->len ? g_ptr_array_index (site->outputs, i) : NULL;
}

static const char *
output_name (const AneLintSite *site,
             guint              i)
{
  return i < site->op->n_outputs && site->op->outputs[i] != NULL ? site->op->outputs[i]->name : NULL;
}

static gboolean
is_wide_int (int dtype)
{
  return dtype == ANE_MIL_DT_INT16 || dtype == ANE_MIL_DT_INT32 || dtype == ANE_MIL_DT_INT64 ||
         dtype == ANE_MIL_DT_UINT16 || dtype == ANE_MIL_DT_UINT32 || dtype == ANE_MIL_DT_UINT64 ||
         dtype == ANE_MIL_DT_BOOL;
}

/* An output the program computes at run time (not folded from consts). */
static gboolean
computed (const AneMilVal *val)
{
  return ane_lint_val_is_activation (val) && val->values == NULL;
}

static gboolean
is_interface (const AneLintFunction *fn,
              const char            *name)
{
  if (name == NULL)
    return FALSE;
  for (guint i = 0; i < fn->input_names->len; i++)
    if (g_strcmp0 (g_ptr_array_index (fn->input_names, i), name) == 0)
      return TRUE;
  for (guint i = 0; i < fn->output_names->len; i++)
    if (g_strcmp0 (g_ptr_array_index (fn->output_names, i), name) == 0)
      return TRUE;
  return FALSE;
}

static void
append_val (GString         *message,
            const char      *what,
            const char      *name,
            const AneMilVal *val)
{
  g_autofree char *type = ane_lint_val_describe (val);

  g_string_append_printf (message, "%s '%s' is %s", what, name != NULL ? name : "?", type);
}

/* The first computed output for which pred holds; its index in *index. */
static const AneMilVal *
find_output (const AneLintSite *site,
             gboolean         (*pred) (const AneMilVal *val),
             guint             *index)
{
  for (guint i = 0; i < site->outputs->len; i++)
    {
      const AneMilVal *val = output (site, i);

      if (computed (val) && pred (val))
        {
          *index = i;
          return val;
        }
    }
  return NULL;
}

/* The tensor rules' common form: the first computed output for which pred
 * holds is named in message ("output 'x' is tensor<...>") followed by why
 * (nullable: the caller adds it); the output, or NULL when none holds. */
static const AneMilVal *
fire_on_output (const AneLintSite *site,
                GString           *message,
                gboolean         (*pred) (const AneMilVal *val),
                const char        *why)
{
  guint i;
  const AneMilVal *val = find_output (site, pred, &i);

  if (val == NULL)
    return NULL;
  append_val (message, "output", output_name (site, i), val);
  if (why != NULL)
    g_string_append (message, why);
  return val;
}

/* --- tensor rules ------------------------------------------------------- */

static gboolean
is_fp32 (const AneMilVal *val)
{
  return val->kind == ANE_MIL_VAL_TENSOR && val->dtype == ANE_MIL_DT_FP32;
}

static gboolean
check_fp32_compute (const AneLintSite *site,
                    GString           *message)
{
  /* the casts at the interface are the conversion Core ML makes anyway for
   * fp32 inputs and outputs of an fp16 program */
  if (strcmp (site->type, "cast") == 0 &&
      (is_interface (site->fn, ane_lint_site_arg_name (site, "x")) || is_interface (site->fn, output_name (site, 0))))
    return FALSE;
  return fire_on_output (site, message, is_fp32, ": the Neural Engine computes in fp16 only") != NULL;
}

static gboolean
is_int_tensor (const AneMilVal *val)
{
  return val->kind == ANE_MIL_VAL_TENSOR && is_wide_int (val->dtype);
}

static gboolean
check_int_compute (const AneLintSite *site,
                   GString           *message)
{
  return fire_on_output (site, message, is_int_tensor,
                         ": integer and bool tensors are computed off the Neural Engine") != NULL;
}

static gboolean
is_rank_above_4 (const AneMilVal *val)
{
  return val->kind == ANE_MIL_VAL_TENSOR && val->rank > 4;
}

static gboolean
check_rank (const AneLintSite *site,
            GString           *message)
{
  const AneMilVal *val = fire_on_output (site, message, is_rank_above_4, NULL);

  if (val == NULL)
    return FALSE;
  g_string_append_printf (message, ": rank %u; the Neural Engine works on (B, C, H, W) tensors", val->rank);
  return TRUE;
}

static gboolean
has_huge_dim (const AneMilVal *val)
{
  for (guint d = 0; val->kind == ANE_MIL_VAL_TENSOR && d < val->rank; d++)
    if (val->shape[d] > MAX_DIM)
      return TRUE;
  return FALSE;
}

static gboolean
check_dim_limit (const AneLintSite *site,
                 GString           *message)
{
  const AneMilVal *val = fire_on_output (site, message, has_huge_dim, NULL);

  if (val == NULL)
    return FALSE;
  for (guint d = 0; d < val->rank; d++)
    if (val->shape[d] > MAX_DIM)
      {
        g_string_append_printf (message, ": dimension %u is %" G_GINT64_FORMAT ", above %d", d,
                                val->shape[d], MAX_DIM);
        break;
      }
  return TRUE;
}

static gboolean
has_unknown_dim (const AneMilVal *val)
{
  for (guint d = 0; val->kind == ANE_MIL_VAL_TENSOR && d < val->rank; d++)
    if (val->shape[d] == ANE_MIL_DIM_UNKNOWN)
      return TRUE;
  return FALSE;
}

static gboolean
check_dynamic_shape (const AneLintSite *site,
                     GString           *message)
{
  return fire_on_output (site, message, has_unknown_dim, ": a dimension is only known at run time") != NULL;
}

/* Bytes wasted by padding the last axis of val to 64 bytes, and the factor
 * its memory grows by. */
static guint64
padding_waste (const AneMilVal *val,
               double          *factor)
{
  guint64 row, padded, rows;
  gint64 n;

  *factor = 1;
  if (val->kind != ANE_MIL_VAL_TENSOR || val->rank == 0 || val->shape[val->rank - 1] <= 0 ||
      ane_lint_dtype_bytes (val->dtype) == 0 || (n = ane_mil_val_n_elements (val)) <= 0)
    return 0;
  row = (guint64) val->shape[val->rank - 1] * ane_lint_dtype_bytes (val->dtype);
  padded = (row + 63) / 64 * 64;
  rows = (guint64) n / (guint64) val->shape[val->rank - 1];
  *factor = (double) padded / (double) row;
  return (padded - row) * rows;
}

static gboolean
wastes_padding (const AneMilVal *val)
{
  double factor;
  guint64 waste = padding_waste (val, &factor);

  return factor >= 2.0 && waste >= PADDING_WASTE_MIN;
}

static gboolean
check_last_axis_padding (const AneLintSite *site,
                         GString           *message)
{
  const AneMilVal *val = fire_on_output (site, message, wastes_padding, NULL);
  g_autofree char *waste_text = NULL;
  double factor;
  guint64 waste;

  if (val == NULL)
    return FALSE;
  waste = padding_waste (val, &factor);
  waste_text = g_format_size (waste);
  g_string_append_printf (message, ": a last axis of %" G_GINT64_FORMAT " is padded to 64 bytes, "
                          "%.0f× its memory (%s wasted)", val->shape[val->rank - 1], factor, waste_text);
  return TRUE;
}

/* --- op rules ----------------------------------------------------------- */

static gboolean
check_op_list (const AneLintSite  *site,
               GString            *message,
               const char *const  *types,
               const char         *what)
{
  if (!type_is (site, types))
    return FALSE;
  g_string_append_printf (message, "%s has %s", site->type, what);
  return TRUE;
}

static gboolean
check_gather (const AneLintSite *site,
              GString           *message)
{
  static const char *const types[] = { "gather", "gather_along_axis", "gather_nd", NULL };

  return check_op_list (site, message, types, "no Neural Engine kernel (embedding lookups run on the CPU)");
}

static gboolean
check_scatter (const AneLintSite *site,
               GString           *message)
{
  static const char *const types[] = { "scatter", "scatter_along_axis", "scatter_nd", NULL };

  return check_op_list (site, message, types, "no Neural Engine kernel (like gather)");
}

static gboolean
check_recurrent (const AneLintSite *site,
                 GString           *message)
{
  static const char *const types[] = { "lstm", "gru", "rnn", NULL };

  return check_op_list (site, message, types, "no Neural Engine kernel: recurrent layers run on the CPU");
}

static gboolean
check_control_flow (const AneLintSite *site,
                    GString           *message)
{
  static const char *const types[] = { "cond", "while_loop", NULL };

  return check_op_list (site, message, types, "data-dependent control flow, which the Neural Engine "
                        "compiler does not take");
}

static gboolean
check_select (const AneLintSite *site,
              GString           *message)
{
  const AneMilVal *cond;

  if (strcmp (site->type, "select") != 0)
    return FALSE;
  cond = ane_lint_site_arg (site, "cond");
  if (!computed (cond))
    return FALSE;
  append_val (message, "select on the condition", ane_lint_site_arg_name (site, "cond"), cond);
  return TRUE;
}

static gboolean
check_resample (const AneLintSite *site,
                GString           *message)
{
  static const char *const types[] = { "resample", NULL };

  return check_op_list (site, message, types, "no Neural Engine kernel (grid sampling runs on the CPU)");
}

static gboolean
check_cumsum (const AneLintSite *site,
              GString           *message)
{
  static const char *const types[] = { "cumsum", NULL };

  return check_op_list (site, message, types, "no Neural Engine kernel (prefix sums are kept on the CPU)");
}

static gboolean
check_linear_not_conv (const AneLintSite *site,
                       GString           *message)
{
  const AneMilVal *y;

  if (strcmp (site->type, "linear") == 0)
    {
      g_string_append (message, "linear layer, not a 1×1 conv on (B, C, 1, S)");
      return TRUE;
    }
  if (strcmp (site->type, "matmul") != 0)
    return FALSE;
  y = ane_lint_site_arg (site, "y");
  if (y == NULL || y->kind != ANE_MIL_VAL_TENSOR || ane_lint_val_is_activation (y) ||
      !ane_lint_val_is_activation (ane_lint_site_arg (site, "x")))
    return FALSE;
  g_string_append_printf (message, "matmul by the constant '%s', not a 1×1 conv on (B, C, 1, S)",
                          ane_lint_site_arg_name (site, "y") ?: "?");
  return TRUE;
}

static gboolean
check_dilated_conv (const AneLintSite *site,
                    GString           *message)
{
  gint64 *dil = NULL;
  gsize n = 0;

  if ((strcmp (site->type, "conv") != 0 && strcmp (site->type, "conv_transpose") != 0) || site->call == NULL ||
      !ane_mil_infer_ints (site->call, "dilations", &dil, &n))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (dil[i] > 1)
      {
        g_string_append_printf (message, "%s with dilation %" G_GINT64_FORMAT " on spatial axis %" G_GSIZE_FORMAT,
                                site->type, dil[i], i);
        return TRUE;
      }
  return FALSE;
}

static gboolean
check_pool_window (const AneLintSite *site,
                   GString           *message)
{
  static const char *const types[] = { "max_pool", "avg_pool", "l2_pool", NULL };
  gint64 *k = NULL, *s = NULL;
  gsize nk = 0, ns = 0;

  if (!type_is (site, types) || site->call == NULL)
    return FALSE;
  if (ane_mil_infer_ints (site->call, "kernel_sizes", &k, &nk))
    for (gsize i = 0; i < nk; i++)
      if (k[i] > 13)
        {
          g_string_append_printf (message, "%s window %" G_GINT64_FORMAT " on spatial axis %" G_GSIZE_FORMAT
                                  " is wider than 13", site->type, k[i], i);
          return TRUE;
        }
  if (ane_mil_infer_ints (site->call, "strides", &s, &ns))
    for (gsize i = 0; i < ns; i++)
      if (s[i] > 2)
        {
          g_string_append_printf (message, "%s stride %" G_GINT64_FORMAT " on spatial axis %" G_GSIZE_FORMAT
                                  " is above 2", site->type, s[i], i);
          return TRUE;
        }
  return FALSE;
}

static gboolean
check_upsample_factor (const AneLintSite *site,
                       GString           *message)
{
  static const char *const params[] = { "scale_factor_height", "scale_factor_width" };
  double f;

  if ((strcmp (site->type, "upsample_nearest_neighbor") != 0 && strcmp (site->type, "upsample_bilinear") != 0) ||
      site->call == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (params); i++)
    if (ane_mil_infer_double (site->call, params[i], 1.0, &f) && f != 1.0 && f != 2.0)
      {
        g_string_append_printf (message, "%s with %s %g (the kernel scales by 2)", site->type, params[i], f);
        return TRUE;
      }
  return FALSE;
}

static gboolean
check_dynamic_weight (const AneLintSite *site,
                      GString           *message)
{
  const AneMilVal *w;

  if (strcmp (site->type, "conv") != 0 && strcmp (site->type, "linear") != 0 &&
      strcmp (site->type, "conv_transpose") != 0)
    return FALSE;
  w = ane_lint_site_arg (site, "weight");
  if (!ane_lint_val_is_activation (w))
    return FALSE;
  append_val (message, "weight", ane_lint_site_arg_name (site, "weight"), w);
  g_string_append_printf (message, " and computed at run time; %s wants a const weight", site->type);
  return TRUE;
}

/* The weight of a conv/linear/matmul dequantized per block along its input
 * (reduction) axis by constexpr_blockwise_shift_scale. */
static gboolean
check_block_quant_axis (const AneLintSite *site,
                        GString           *message)
{
  static const char *const types[] = { "conv", "linear", "matmul", NULL };
  static const char *const params[] = { "weight", "y" };

  if (!type_is (site, types))
    return FALSE;
  for (guint p = 0; p < G_N_ELEMENTS (params); p++)
    {
      const AneMilOperation *producer = ane_lint_site_producer (site, params[p]);
      g_autoptr(AneMilInferCall) call = NULL;
      const AneMilVal *scale, *data;

      if (producer == NULL || g_strcmp0 (producer->type, "constexpr_blockwise_shift_scale") != 0)
        continue;
      /* its data and scale may be named consts or values written into it */
      call = ane_mil_infer_call_new_for_op (site->env, site->fn->target, producer, NULL);
      scale = call != NULL ? ane_mil_infer_arg (call, "scale") : NULL;
      data = call != NULL ? ane_mil_infer_arg (call, "data") : NULL;
      if (scale == NULL || data == NULL || scale->rank < 2 || data->rank != scale->rank)
        continue;
      /* conv and linear weights are [Cout, Cin, ...]: blocks along axis 1
       * split the reduction; a matmul's y is [.., K, N]: blocks along K */
      {
        guint axis = strcmp (site->type, "matmul") == 0 ? scale->rank - 2 : 1;

        if (scale->shape[axis] > 1)
          {
            g_string_append_printf (message, "weight '%s' is dequantized in %" G_GINT64_FORMAT " blocks along "
                                    "its input axis (constexpr_blockwise_shift_scale '%s')",
                                    ane_lint_site_arg_name (site, params[p]) ?: "?", scale->shape[axis],
                                    ane_mil_op_name (producer));
            return TRUE;
          }
      }
    }
  return FALSE;
}

static gboolean
check_sdpa_mask (const AneLintSite *site,
                 GString           *message)
{
  if (strcmp (site->type, "scaled_dot_product_attention") != 0 || ane_lint_site_arg (site, "attn_mask") == NULL)
    return FALSE;
  append_val (message, "attn_mask", ane_lint_site_arg_name (site, "attn_mask"), ane_lint_site_arg (site, "attn_mask"));
  g_string_append (message, "; the Neural Engine's attention ignores the mask");
  return TRUE;
}

/* The size of val's axis d counted from the last one; 1 past its rank (MIL
 * broadcasts as NumPy does, aligning the last axes). */
static gint64
dim_from_end (const AneMilVal *val,
              guint            d)
{
  return d < val->rank ? val->shape[val->rank - 1 - d] : 1;
}

/* Both operands computed at run time, one a vector broadcast over the
 * other's last two axes: a [C, 1, 1] vector over a [C, H, W] plane, the case
 * Core ML's kernel validation names. A row broadcast over leading axes (an
 * attention mask [1, 1, S, S] over the heads) is not it: maderix/ANE's
 * training kernels add such a mask on the Neural Engine
 * (training/stories_mil.h:56-62). */
static gboolean
check_broadcast_plane (const AneLintSite *site,
                       GString           *message)
{
  static const char *const types[] = {
    "add", "sub", "mul", "real_div", "maximum", "minimum", "pow", "floor_div", "mod", NULL
  };
  const AneMilVal *x, *y, *small = NULL, *big = NULL;
  guint spread = 0, rank;

  if (!type_is (site, types))
    return FALSE;
  x = ane_lint_site_arg (site, "x");
  y = ane_lint_site_arg (site, "y");
  if (!ane_lint_val_is_activation (x) || !ane_lint_val_is_activation (y))
    return FALSE;
  rank = MAX (x->rank, y->rank);
  for (guint d = 0; d < rank; d++)
    if (dim_from_end (x, d) == 1 && dim_from_end (y, d) > 1)
      small = x, big = y;
    else if (dim_from_end (y, d) == 1 && dim_from_end (x, d) > 1)
      small = y, big = x;
  if (small == NULL)
    return FALSE;
  for (guint d = 0; d < rank; d++)
    if (dim_from_end (small, d) == 1 && dim_from_end (big, d) > 1)
      spread++;
  if (spread < 2 || ane_mil_val_n_elements (small) <= 1 ||
      !(dim_from_end (small, 0) == 1 && dim_from_end (big, 0) > 1 &&
        dim_from_end (small, 1) == 1 && dim_from_end (big, 1) > 1))
    return FALSE;
  {
    g_autofree char *a = ane_lint_val_describe (small);
    g_autofree char *b = ane_lint_val_describe (big);

    g_string_append_printf (message, "%s broadcasts a computed %s across %u axes of a computed %s",
                            site->type, a, spread, b);
  }
  return TRUE;
}

static gboolean
check_state_copy (const AneLintSite *site,
                  GString           *message)
{
  static const char *const types[] = { "tile", "concat", NULL };
  const AneMilVal *out = output (site, 0);
  g_autofree char *size = NULL;
  guint64 bytes;
  gint64 n;

  if (!type_is (site, types) || out == NULL || out->kind != ANE_MIL_VAL_TENSOR)
    return FALSE;
  /* the walker notes the op's own outputs after its rules: look at what it
   * reads (tile's x, concat's values) */
  if (!ane_lint_op_reads_state (site->fn, site->op))
    return FALSE;
  n = ane_mil_val_n_elements (out);
  bytes = n > 0 ? (guint64) n * ane_lint_dtype_bytes (out->dtype) : 0;
  if (bytes < 64 * 1024)
    return FALSE;
  size = g_format_size (bytes);
  g_string_append_printf (message, "%s copies %s of the state on every call", site->type, size);
  return TRUE;
}

static gboolean
check_transpose (const AneLintSite *site,
                 GString           *message)
{
  const AneMilVal *x = ane_lint_site_arg (site, "x");
  gint64 *perm = NULL;
  gsize n = 0;

  if (strcmp (site->type, "transpose") != 0 || !computed (x) || x->rank < 2 || site->call == NULL ||
      !ane_mil_infer_ints (site->call, "perm", &perm, &n) || n != x->rank)
    return FALSE;
  if (perm[n - 1] == (gint64) n - 1 || perm[n - 1] == -1)
    return FALSE;
  append_val (message, "transpose of", ane_lint_site_arg_name (site, "x"), x);
  g_string_append_printf (message, " moves axis %" G_GINT64_FORMAT " to the last axis: a copy in memory",
                          perm[n - 1]);
  return TRUE;
}

static gboolean
check_reshape (const AneLintSite *site,
               GString           *message)
{
  const AneMilVal *x = ane_lint_site_arg (site, "x");
  const AneMilVal *out = output (site, 0);

  if (strcmp (site->type, "reshape") != 0 || !computed (x) || out == NULL || out->kind != ANE_MIL_VAL_TENSOR ||
      x->rank == 0 || out->rank == 0)
    return FALSE;
  if (x->shape[x->rank - 1] == out->shape[out->rank - 1] || ane_mil_val_n_elements (x) <= 1)
    return FALSE;
  {
    g_autofree char *a = ane_lint_val_describe (x);
    g_autofree char *b = ane_lint_val_describe (out);

    g_string_append_printf (message, "reshape of %s to %s changes the last axis: a copy in memory", a, b);
  }
  return TRUE;
}

/* --- fp16 numerics ------------------------------------------------------ */

static gboolean
is_fp16_tensor (const AneMilVal *val)
{
  return val != NULL && val->kind == ANE_MIL_VAL_TENSOR && val->dtype == ANE_MIL_DT_FP16;
}

/* Whether x is computed as something minus its maximum (softmax's shift). */
static gboolean
max_shifted (const AneLintSite *site,
             const char        *param)
{
  const AneMilOperation *sub = ane_lint_site_producer (site, param);
  const AneMilOperation *max;

  if (sub == NULL || strcmp (sub->type, "sub") != 0)
    return FALSE;
  max = ane_lint_function_producer (site->fn, ane_lint_op_arg_name (sub, "y"));
  return max != NULL && strcmp (max->type, "reduce_max") == 0;
}

static gboolean
check_exp_overflow (const AneLintSite *site,
                    GString           *message)
{
  const AneMilVal *x = ane_lint_site_arg (site, "x");

  if (!is_fp16_tensor (x) || !computed (x))
    return FALSE;
  if (strcmp (site->type, "softplus") == 0 || strcmp (site->type, "reduce_log_sum_exp") == 0)
    {
      g_string_append_printf (message, "fp16 %s exponentiates its input: exp overflows fp16 past %.2f",
                              site->type, FP16_EXP_LIMIT);
      return TRUE;
    }
  if ((strcmp (site->type, "exp") == 0 || strcmp (site->type, "exp2") == 0) && !max_shifted (site, "x"))
    {
      g_string_append_printf (message, "fp16 %s of '%s', which is not shifted by its maximum: it overflows "
                              "past %.2f", site->type, ane_lint_site_arg_name (site, "x") ?: "?",
                              strcmp (site->type, "exp") == 0 ? FP16_EXP_LIMIT : 15.99);
      return TRUE;
    }
  return FALSE;
}

static gboolean
check_log_softmax (const AneLintSite *site,
                   GString           *message)
{
  const AneMilOperation *producer;

  if (strcmp (site->type, "log") != 0 || !is_fp16_tensor (ane_lint_site_arg (site, "x")))
    return FALSE;
  producer = ane_lint_site_producer (site, "x");
  if (producer == NULL || strcmp (producer->type, "softmax") != 0)
    return FALSE;
  g_string_append_printf (message, "log of fp16 softmax '%s': probabilities below 6e-5 underflow to 0 "
                          "and their log to -inf", ane_mil_op_name (producer));
  return TRUE;
}

/* The number of elements an op reduces over, from its axes (all when none). */
static gint64
reduced_elements (const AneLintSite *site,
                  const AneMilVal   *x,
                  const char        *axes_param)
{
  gint64 *axes = NULL;
  gsize n = 0;
  gint64 count = 1;

  if (site->call == NULL || !ane_mil_infer_ints (site->call, axes_param, &axes, &n))
    return 0;
  if (n == 0)
    return ane_mil_val_n_elements (x);
  for (gsize i = 0; i < n; i++)
    {
      gint64 a = axes[i] < 0 ? axes[i] + (gint64) x->rank : axes[i];

      if (a < 0 || a >= (gint64) x->rank || x->shape[a] <= 0)
        return 0;
      count *= x->shape[a];
    }
  return count;
}

/* Whether the value called name is divided by its maximum magnitude
 * (real_div by a reduce_max, through a maximum with a floor), so that it
 * lies in [-1, 1]: this library's RMSNorm lowering rescales so. */
static gboolean
scaled_by_max (const AneLintFunction *fn,
               const char            *name)
{
  const AneMilOperation *div = ane_lint_function_producer (fn, name);
  const AneMilOperation *den;

  if (div == NULL || strcmp (div->type, "real_div") != 0)
    return FALSE;
  den = ane_lint_function_producer (fn, ane_lint_op_arg_name (div, "y"));
  if (den != NULL && strcmp (den->type, "maximum") == 0)
    den = ane_lint_function_producer (fn, ane_lint_op_arg_name (den, "x"));
  return den != NULL && strcmp (den->type, "reduce_max") == 0;
}

/* Whether x is the square of a value; *bounded when that value is scaled
 * into [-1, 1] first. */
static gboolean
squares (const AneLintSite *site,
         gboolean          *bounded)
{
  const AneMilOperation *p = ane_lint_site_producer (site, "x");
  const char *a;

  *bounded = FALSE;
  if (p == NULL)
    return FALSE;
  a = ane_lint_op_arg_name (p, "x");
  if (strcmp (p->type, "square") == 0 ||
      (strcmp (p->type, "mul") == 0 && a != NULL && g_strcmp0 (a, ane_lint_op_arg_name (p, "y")) == 0))
    {
      *bounded = scaled_by_max (site->fn, a);
      return TRUE;
    }
  return FALSE;
}

static gboolean
check_wide_square_sum (const AneLintSite *site,
                       GString           *message)
{
  const AneMilVal *x = ane_lint_site_arg (site, "x");
  gboolean bounded = FALSE;
  gint64 n = 0;

  if (!is_fp16_tensor (x) || !computed (x))
    return FALSE;
  if (strcmp (site->type, "reduce_sum_square") == 0 || strcmp (site->type, "reduce_l2_norm") == 0 ||
      ((strcmp (site->type, "reduce_sum") == 0 || strcmp (site->type, "reduce_mean") == 0) && squares (site, &bounded)))
    n = reduced_elements (site, x, "axes");
  else if (strcmp (site->type, "layer_norm") == 0)
    n = reduced_elements (site, x, "axes");
  else if (strcmp (site->type, "l2_norm") == 0 && x->rank >= 3)
    n = x->shape[x->rank - 1] * x->shape[x->rank - 2] * x->shape[x->rank - 3];
  /* squares of values in [-1, 1] sum to at most n */
  if (n < WIDE_REDUCTION || (bounded && (double) n <= FP16_MAX))
    return FALSE;
  g_string_append_printf (message, "%s sums the squares of %" G_GINT64_FORMAT " fp16 elements: it overflows "
                          "once their RMS passes %.1f", site->type, n, sqrt (FP16_MAX / (double) n));
  return TRUE;
}

static gboolean
check_long_softmax (const AneLintSite *site,
                    GString           *message)
{
  const AneMilVal *x = ane_lint_site_arg (site, "x");
  gint64 axis = -1;

  if (strcmp (site->type, "softmax") != 0 || !is_fp16_tensor (x) || x->rank == 0 || site->call == NULL ||
      !ane_mil_infer_int (site->call, "axis", -1, &axis))
    return FALSE;
  if (axis < 0)
    axis += x->rank;
  if (axis < 0 || axis >= (gint64) x->rank || x->shape[axis] < 1024)
    return FALSE;
  g_string_append_printf (message, "fp16 softmax over %" G_GINT64_FORMAT " elements: each probability is "
                          "below fp16's resolution of the sum", x->shape[axis]);
  return TRUE;
}

static gboolean
check_tiny_epsilon (const AneLintSite *site,
                    GString           *message)
{
  const AneMilVal *eps = ane_lint_site_arg (site, "epsilon");
  const AneMilVal *x = ane_lint_site_arg (site, "x");
  double e;

  if (eps == NULL || !is_fp16_tensor (x) || site->call == NULL ||
      !ane_mil_infer_double (site->call, "epsilon", 0, &e))
    return FALSE;
  if (e <= 0 || e >= FP16_MIN_SUBNORMAL)
    return FALSE;
  g_string_append_printf (message, "%s epsilon %g is below fp16's smallest value (%g): it becomes 0",
                          site->type, e, FP16_MIN_SUBNORMAL);
  return TRUE;
}

static gboolean
check_infinite_mask (const AneLintSite *site,
                     GString           *message)
{
  static const char *const types[] = { "add", "select", NULL };
  static const char *const params[] = { "x", "y", "a", "b" };

  if (!type_is (site, types) || !is_fp16_tensor (output (site, 0)))
    return FALSE;
  for (guint p = 0; p < G_N_ELEMENTS (params); p++)
    {
      const AneMilVal *v = ane_lint_site_arg (site, params[p]);

      if (v == NULL || v->values == NULL)
        continue;
      for (gsize i = 0; i < v->n_values; i++)
        if (isinf (v->values[i]) || fabs (v->values[i]) > FP16_MAX)
          {
            g_string_append_printf (message, "%s operand '%s' holds %g, which fp16 turns into %sinf",
                                    site->type, ane_lint_site_arg_name (site, params[p]) ?: params[p],
                                    v->values[i], v->values[i] < 0 ? "-" : "");
            return TRUE;
          }
    }
  return FALSE;
}

/* --- the private path ----------------------------------------------------- */

static gboolean
check_private_sdpa_mask (const AneLintSite *site,
                         GString           *message)
{
  if (strcmp (site->type, "scaled_dot_product_attention") != 0 || ane_lint_site_arg (site, "attn_mask") == NULL)
    return FALSE;
  g_string_append_printf (message, "attn_mask '%s' would be ignored: the result is unmasked attention",
                          ane_lint_site_arg_name (site, "attn_mask") ?: "?");
  return TRUE;
}

static gboolean
check_private_tile (const AneLintSite *site,
                    GString           *message)
{
  if (strcmp (site->type, "tile") != 0)
    return FALSE;
  g_string_append (message, "tile corrupts the Neural Engine's state for the rest of the process");
  return TRUE;
}

static gboolean
check_private_concat (const AneLintSite *site,
                      GString           *message)
{
  const AneMilVal *axis;

  if (strcmp (site->type, "concat") != 0)
    return FALSE;
  axis = ane_lint_site_arg (site, "axis");
  if (ane_lint_site_arg (site, "interleave") == NULL)
    {
      g_string_append (message, "concat without an interleave argument");
      return TRUE;
    }
  if (axis != NULL && (axis->kind != ANE_MIL_VAL_TENSOR || axis->rank != 0 || axis->dtype != ANE_MIL_DT_INT32))
    {
      append_val (message, "concat axis", ane_lint_site_arg_name (site, "axis"), axis);
      g_string_append (message, ", not an int32 scalar");
      return TRUE;
    }
  return FALSE;
}

static gboolean
check_private_layer_norm_eps (const AneLintSite *site,
                              GString           *message)
{
  static const char *const params[] = { "gamma", "beta" };
  const AneMilVal *eps;

  if (strcmp (site->type, "layer_norm") != 0 || (eps = ane_lint_site_arg (site, "epsilon")) == NULL)
    return FALSE;
  for (guint p = 0; p < G_N_ELEMENTS (params); p++)
    {
      const AneMilVal *v = ane_lint_site_arg (site, params[p]);

      if (v != NULL && v->kind == ANE_MIL_VAL_TENSOR && v->dtype != eps->dtype)
        {
          g_string_append_printf (message, "layer_norm epsilon is %s but %s is %s", ane_mil_dt_name (eps->dtype),
                                  params[p], ane_mil_dt_name (v->dtype));
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
check_private_dynamic_weight (const AneLintSite *site,
                              GString           *message)
{
  const AneMilVal *w;

  if (strcmp (site->type, "conv") != 0 && strcmp (site->type, "linear") != 0)
    return FALSE;
  w = ane_lint_site_arg (site, "weight");
  if (!ane_lint_val_is_activation (w))
    return FALSE;
  g_string_append_printf (message, "%s weight '%s' is computed at run time; the private compiler bakes weights "
                          "in (use matmul for run-time weights)", site->type,
                          ane_lint_site_arg_name (site, "weight") ?: "?");
  return TRUE;
}

/* --- program rules -------------------------------------------------------- */

static gboolean
check_weights_over_sram (const AneLintFunction *fn,
                         GString               *message)
{
  g_autofree char *have = NULL;
  g_autofree char *budget = NULL;

  if (fn->weight_bytes <= WEIGHT_BUDGET)
    return FALSE;
  have = g_format_size (fn->weight_bytes);
  budget = g_format_size (WEIGHT_BUDGET);
  g_string_append_printf (message, "function %s holds %s of weights, past the %s that fit the Neural Engine's "
                          "SRAM%s", fn->name, have, budget,
                          fn->weight_bytes > WEIGHT_CLIFF ? " (and past the 128 MB cliff measured on an M4 Max)"
                                                          : "");
  return TRUE;
}

static gboolean
check_weight_file_limit (const AneLintFunction *fn,
                         GString               *message)
{
  g_autofree char *have = NULL;

  if (fn->weight_bytes <= WEIGHT_FILE_LIMIT)
    return FALSE;
  have = g_format_size (fn->weight_bytes);
  g_string_append_printf (message, "function %s holds %s of weights, above the Neural Engine compiler's "
                          "2 GiB limit", fn->name, have);
  return TRUE;
}

static gboolean
check_state_width (const AneLintFunction *fn,
                   GString               *message)
{
  for (guint i = 0; i < fn->inputs->len; i++)
    {
      const AneMilVal *v = g_ptr_array_index (fn->inputs, i);

      if (v != NULL && v->kind == ANE_MIL_VAL_STATE && v->rank >= 1 && v->shape[v->rank - 1] > 0 &&
          v->shape[v->rank - 1] % 32 != 0)
        {
          append_val (message, "state", g_ptr_array_index (fn->input_names, i), v);
          g_string_append_printf (message, ": a last axis of %" G_GINT64_FORMAT " is not a multiple of 32",
                                  v->shape[v->rank - 1]);
          return TRUE;
        }
    }
  return FALSE;
}

/* An input with sizes the program leaves unknown (flexible shapes). */
static gboolean
check_flexible_input (const AneLintFunction *fn,
                      GString               *message)
{
  GPtrArray *inputs = fn->declared_inputs != NULL ? fn->declared_inputs : fn->inputs;

  for (guint i = 0; i < inputs->len && i < fn->input_names->len; i++)
    {
      const AneMilVal *v = g_ptr_array_index (inputs, i);
      gboolean any = FALSE;

      if (v == NULL || v->kind != ANE_MIL_VAL_TENSOR)
        continue;
      for (guint d = 0; d < v->rank; d++)
        if (v->shape[d] == ANE_MIL_DIM_UNKNOWN)
          {
            if (!any)
              {
                append_val (message, "input", g_ptr_array_index (fn->input_names, i), v);
                g_string_append (message, ": flexible sizes on axis");
              }
            g_string_append_printf (message, "%s %u", any ? "," : "", d);
            any = TRUE;
          }
      if (any)
        {
          g_string_append (message, " (with range flexibility only the default shape runs on the Neural Engine; "
                                    "enumerated shapes each do)");
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
check_private_io (const AneLintFunction *fn,
                  GString               *message)
{
  for (guint pass = 0; pass < 2; pass++)
    {
      GPtrArray *vals = pass == 0 ? fn->inputs : fn->outputs;
      GPtrArray *names = pass == 0 ? fn->input_names : fn->output_names;

      for (guint i = 0; i < vals->len; i++)
        {
          const AneMilVal *v = g_ptr_array_index (vals, i);

          if (v == NULL || v->kind == ANE_MIL_VAL_STATE)
            continue;
          if (v->kind != ANE_MIL_VAL_TENSOR || v->dtype != ANE_MIL_DT_FP16 || v->rank != 4 || v->shape[0] != 1)
            {
              append_val (message, pass == 0 ? "input" : "output", g_ptr_array_index (names, i), v);
              g_string_append (message, "; the private path's surfaces are fp16 [1, C, H, W] ([1, C, 1, S])");
              return TRUE;
            }
        }
    }
  return FALSE;
}

static gboolean
check_private_io_width (const AneLintFunction *fn,
                        GString               *message)
{
  for (guint i = 0; i < fn->inputs->len; i++)
    {
      const AneMilVal *v = g_ptr_array_index (fn->inputs, i);

      if (v != NULL && v->kind == ANE_MIL_VAL_TENSOR && v->rank >= 1 && v->shape[v->rank - 1] > 0 &&
          v->shape[v->rank - 1] < 32)
        {
          append_val (message, "input", g_ptr_array_index (fn->input_names, i), v);
          g_string_append_printf (message, ": a last axis of %" G_GINT64_FORMAT " is below the 32 the private "
                                  "path reads correctly", v->shape[v->rank - 1]);
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
check_private_states (const AneLintFunction *fn,
                      GString               *message)
{
  if (fn->n_states == 0)
    return FALSE;
  g_string_append_printf (message, "function %s has %u state%s; the private path takes none", fn->name,
                          fn->n_states, fn->n_states == 1 ? "" : "s");
  return TRUE;
}

static gboolean
check_private_compile_budget (const AneLintFunction *fn,
                              GString               *message)
{
  if (fn->index < PRIVATE_COMPILES)
    return FALSE;
  g_string_append_printf (message, "function %s is compile %u of this package, past the ~%d compiles a "
                          "process gets", fn->name, fn->index + 1, PRIVATE_COMPILES);
  return TRUE;
}

/* --- the table ------------------------------------------------------------ */

#define MADERIX_INT    "maderix/ANE docs/ANE_INTERNALS.md"
#define MADERIX_README "maderix/ANE README.md"
#define AMLT           "apple/ml-ane-transformers"
#define APPLE_ARTICLE  "Apple, \"Deploying Transformers on the Apple Neural Engine\" " \
                       "(machinelearning.apple.com/research/neural-engine-transformers)"
#define HOLLANCE       "hollance/neural-engine"
#define SKYFALLSIN     "skyfallsin/apple-neural-engine-field-guide README.md"
#define ANEMLL_PROFILER "Anemll anemll/utils/ANE_PROFILER.md (zkh2016/Anemll @4e77d00)"
#define APPLE_RULES    "Apple coreai-models skills/skills/model-authoring/references/neural_engine_rules.md"

static const AneLintRule rules[] = {
  /* tensors */
  { "fp32-compute", ANE_LINT_SCOPE_TENSOR, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_DOCUMENTED,
    "an op computes an fp32 tensor at run time (casts at the function's interface aside)",
    "the Neural Engine computes in fp16 only; Apple: \"fp32 falls back to GPU/CPU\"",
    APPLE_RULES ":8, :123; " MADERIX_INT ":43, :241; " HOLLANCE " docs/16-bit.md:5-9",
    check_fp32_compute, NULL },
  { "int-compute", ANE_LINT_SCOPE_TENSOR, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_MEASURED,
    "an op computes an integer (16 bits or wider) or bool tensor at run time",
    "the Neural Engine is a float16 engine; integer casts and comparisons are placed on the GPU or CPU",
    ANEMLL_PROFILER ":161-169, :43-55 (MLComputePlan: integer cast, greater_equal fall back); "
    "apple/coremltools#2365 (int32 input casts forced onto the CPU; Apple: needs a Core ML change)",
    check_int_compute, NULL },
  { "rank-above-4", ANE_LINT_SCOPE_TENSOR, ANE_LINT_SEVERITY_SLOW, ANE_LINT_CONFIDENCE_INFERRED,
    "an op computes a tensor of rank 5",
    "the Neural Engine's layout is (B, C, H, W); rank 5 is its limit and any-rank layers once fell back",
    APPLE_RULES ":7 (rank at most 5); " HOLLANCE " docs/unsupported-layers.md:35-43; " MADERIX_INT ":175; "
    AMLT " ane_transformers/reference/layer_norm.py:32",
    check_rank, NULL },
  { "dim-above-16384", ANE_LINT_SCOPE_TENSOR, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_MEASURED,
    "an op computes a tensor with a dimension above 16384",
    "Neural Engine tensors are limited to 16384 per dimension (LLM heads split their vocabulary for it)",
    "Anemll/Anemll anemll/models/llama_model.py:185-186, :42-44; ncdrone/rustane#13 (compile sweep: 2^14 passes, "
    "more fails); apple/coremltools#1003; chrishayuk/larql#312 (MLComputePlan: reduction depth up to 16384)",
    check_dim_limit, NULL },
  { "dynamic-shape", ANE_LINT_SCOPE_TENSOR, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_MEASURED,
    "an op computes a tensor with a dimension known only at run time (a flexible input shape)",
    "Core ML keeps range-shaped models off the Neural Engine (measured 0% ANE with RangeDim)",
    "apple/coremltools#2370 (measured ANE share per shape mode); apple/coremltools#1764; "
    "apple/coremltools#1029 (\"MLE5Engine is not currently supported for models with range shape inputs\"); "
    APPLE_RULES ":9 (fully static shapes); " MADERIX_INT ":236-237",
    check_dynamic_shape, NULL },
  { "last-axis-padding", ANE_LINT_SCOPE_TENSOR, ANE_LINT_SEVERITY_SLOW, ANE_LINT_CONFIDENCE_DOCUMENTED,
    "a tensor's last axis is padded to 64 bytes to at least twice its size, wasting 16 KiB or more",
    "the Neural Engine aligns the last axis to 64 bytes: an fp16 last axis of 1 takes 32× the memory and bandwidth",
    APPLE_RULES ":23, :27-30; " APPLE_ARTICLE ", Principle 1 (Picking the Right Data Format); "
    SKYFALLSIN ":90 (W >= 32 on the private path)",
    check_last_axis_padding, NULL },

  /* ops */
  { "op-gather", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_MEASURED,
    "the op is gather, gather_along_axis or gather_nd",
    "gathers have no Neural Engine kernel; Apple's own ANE DistilBERT runs its embedding lookups on the CPU",
    AMLT " README.md:89 (4 of 606 ops on the CPU: the embedding lookups); " ANEMLL_PROFILER ":161-169; "
    HOLLANCE " docs/unsupported-layers.md:15-21; apple/coremltools#1103",
    check_gather, NULL },
  { "op-scatter", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_INFERRED,
    "the op is scatter, scatter_along_axis or scatter_nd",
    "data-dependent writes, like gathers, have no Neural Engine kernel (untested by any source)",
    HOLLANCE " docs/unsupported-layers.md:15-21 (gather); " MADERIX_INT ":220-230 (untested), :239-240",
    check_scatter, NULL },
  { "op-recurrent", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_DOCUMENTED,
    "the op is lstm, gru or rnn",
    "Apple: \"RNN or LSTM are not supported on the neural engine\"",
    "apple/coremltools#1780 (aseemw, Apple); " HOLLANCE " docs/unsupported-layers.md:15-21",
    check_recurrent, NULL },
  { "op-control-flow", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_INFERRED,
    "the op is cond or while_loop",
    "the Neural Engine compiler takes no control flow; all shapes and paths are fixed at compile time",
    ANEMLL_PROFILER ":161-169 (MLComputePlan: while_loop falls back); " MADERIX_INT ":236-237",
    check_control_flow, NULL },
  { "op-select", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_MEASURED,
    "a select whose condition is computed at run time",
    "Core ML's compute plan places run-time select on the GPU (ANE LLM ports replace it by arithmetic masks)",
    ANEMLL_PROFILER ":161-169, :43-55 (MLComputePlan: select falls back to the GPU)",
    check_select, NULL },
  { "op-resample", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_MEASURED,
    "the op is resample (grid sampling)",
    "Xcode's performance report places resample on the CPU",
    "apple/coremltools#1875 (performance report screenshots)",
    check_resample, NULL },
  { "op-cumsum", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_INFERRED,
    "the op is cumsum",
    "ANE model authors keep cumsum-based position chains on the CPU",
    "0seba/VoxCPMANE#15 (the \"CPU-only causal-mask chain\" of cumsum, gather and compare, beside an "
    "MLComputePlan dump)",
    check_cumsum, NULL },
  { "linear-not-conv", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_SLOW, ANE_LINT_CONFIDENCE_DOCUMENTED,
    "a linear, or a matmul of a computed tensor by a constant",
    "Apple writes ANE linear layers as 1×1 conv on (B, C, 1, S); linear may be decomposed into slower ops",
    APPLE_RULES ":94; " AMLT " ane_transformers/reference/multihead_attention.py:50-53; " MADERIX_INT ":176",
    check_linear_not_conv, NULL },
  { "conv-dilated", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_INFERRED,
    "a conv or conv_transpose has a dilation above 1",
    "dilated convolutions did not run on the Neural Engine (the source says some entries are guesses)",
    HOLLANCE " docs/unsupported-layers.md:15-23",
    check_dilated_conv, NULL },
  { "pool-window", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_MEASURED,
    "a pooling window is wider than 13 or its stride above 2",
    "the Neural Engine's kernel validation refuses such pools (logged by Core ML on device)",
    HOLLANCE "#2 (Espresso \"Kernel validation warning\": kernel width 28 > 13, stride_x 4 > 2); " HOLLANCE "#1",
    check_pool_window, NULL },
  { "upsample-factor", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_MEASURED,
    "an upsample scales by a factor other than 1 or 2",
    "the Neural Engine's upsample kernel scales by 2 only (logged by Core ML on device)",
    HOLLANCE "#2 (Espresso: \"only scaling factor of 2 is supported\"); " HOLLANCE
    " docs/unsupported-layers.md:64-68 (factor-2 upsampling runs)",
    check_upsample_factor, NULL },
  { "conv-dynamic-weight", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_INFERRED,
    "a conv, conv_transpose or linear takes a weight computed at run time",
    "the Neural Engine bakes conv and linear weights in at compile time; run-time weights need matmul",
    MADERIX_INT ":214 (linear needs const weights; matmul takes run-time inputs); " SKYFALLSIN ":241",
    check_dynamic_weight, NULL },
  { "quant-input-blocks", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_MEASURED,
    "a conv, linear or matmul weight is dequantized in blocks along its input (reduction) axis",
    "the Neural Engine compiler takes per-output-channel or per-tensor quantization only",
    "cadamcat/llms-on-apple-neural-engine findings/coreml-grouped-scale-cpu/README.md:13, :27-31 "
    "(\"ANE only support per-cout/per-tensor quantization\"; MLComputePlan: CPU)",
    check_block_quant_axis, NULL },
  { "sdpa-mask", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_INFERRED,
    "scaled_dot_product_attention is given an attn_mask",
    "the hardware ignores SDPA's mask, so a masked SDPA must run elsewhere or be decomposed",
    MADERIX_README ":188 (causal SDPA decomposed because the mask is ignored); "
    "maderix/ANE training/stories_mil.h:56-62 (additive mask + softmax on the ANE instead)",
    check_sdpa_mask, NULL },
  { "broadcast-plane", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_INFERRED,
    "an elementwise op broadcasts a computed vector over the last two axes (the H×W plane) of another computed tensor",
    "the Neural Engine broadcasts a run-time vector over a plane only from a constant",
    HOLLANCE "#2 (Espresso: \"elementwise with channel broadcast supported only with constant vector\"); "
    HOLLANCE " docs/unsupported-layers.md:27-45; " SKYFALLSIN ":141-143",
    check_broadcast_plane, NULL },
  { "state-copy", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_SLOW, ANE_LINT_CONFIDENCE_INFERRED,
    "a tile or concat copies 64 KiB or more of a state (a KV cache) on every call",
    "whole-cache copies cost memory bandwidth per token; write the new position with slice_update instead",
    AMLT " ane_transformers/reference/multihead_attention.py:85-89 (minimize memory copies); "
    SKYFALLSIN ":132, :153",
    check_state_copy, NULL },
  { "transpose-last-axis", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_SLOW, ANE_LINT_CONFIDENCE_DOCUMENTED,
    "a transpose of a computed tensor moves another axis into the last one",
    "transposes that touch the last (width) axis rewrite the whole tensor in memory; Apple's ANE layers avoid them",
    APPLE_RULES ":71; " AMLT " ane_transformers/reference/multihead_attention.py:85-89 "
    "(Principle 3: Minimizing Memory Copies)",
    check_transpose, NULL },
  { "reshape-last-axis", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_SLOW, ANE_LINT_CONFIDENCE_DOCUMENTED,
    "a reshape of a computed tensor changes the size of its last axis",
    "a reshape that changes the last (64-byte aligned) axis rewrites the whole tensor in memory",
    APPLE_RULES ":71; " AMLT " ane_transformers/reference/multihead_attention.py:85-89",
    check_reshape, NULL },

  /* fp16 numerics */
  { "fp16-exp-overflow", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FP16_UNSAFE, ANE_LINT_CONFIDENCE_MEASURED,
    "an fp16 exp or exp2 of a computed tensor not shifted by its maximum, or an fp16 softplus or reduce_log_sum_exp",
    "exp overflows fp16 past 11.09: softplus and log-sum-exp return 0 or inf on the Neural Engine",
    "apple/coremltools#2687 (softplus), #2690 (reduce_log_sum_exp), measured on device; "
    "Anemll/Anemll anemll/models/llama_model.py (ANE_softmax subtracts the row maximum)",
    check_exp_overflow, NULL },
  { "fp16-log-softmax", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FP16_UNSAFE, ANE_LINT_CONFIDENCE_MEASURED,
    "an fp16 log takes a softmax's output",
    "log(softmax) gives -inf on the Neural Engine once a probability underflows fp16",
    "apple/coremltools#2728 (measured; fixed by a max-shifted log_softmax)",
    check_log_softmax, NULL },
  { "fp16-wide-square-sum", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FP16_UNSAFE, ANE_LINT_CONFIDENCE_INFERRED,
    "a norm or reduction sums the squares of 512 or more fp16 elements not first scaled into [-1, 1]",
    "a sum of squares in fp16 overflows 65504 long before the values do; ANE LLM ports clamp or rescale first",
    MADERIX_INT ":307 (fp16 range); maderix/ANE training/stories_mil.h:30-41 (RMSNorm as reduce_sum of squares); "
    "Anemll/Anemll anemll/models/llama_model.py:151-162 (layer norm clamps, \"ANE tuned\")",
    check_wide_square_sum, NULL },
  { "fp16-long-softmax", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FP16_UNSAFE, ANE_LINT_CONFIDENCE_MEASURED,
    "an fp16 softmax over 1024 or more elements",
    "dense softmax·V over long key axes lost ~5% (relative L2) on the Neural Engine; blocks of 1024 keys ~1%",
    "cadamcat/llms-on-apple-neural-engine findings/attention-product-precision/README.md:9-13, :17",
    check_long_softmax, NULL },
  { "fp16-tiny-epsilon", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FP16_UNSAFE, ANE_LINT_CONFIDENCE_DOCUMENTED,
    "a norm's epsilon is below fp16's smallest subnormal (6e-8)",
    "Apple raises DistilBERT's 1e-12 epsilon to 1e-7 because fp16 flushes it to 0",
    AMLT " ane_transformers/huggingface/distilbert.py:14-16",
    check_tiny_epsilon, NULL },
  { "fp16-infinite-mask", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_FP16_UNSAFE, ANE_LINT_CONFIDENCE_DOCUMENTED,
    "an fp16 add or select takes a constant beyond fp16's range (such as a -1e9 or -inf mask)",
    "Apple: the Neural Engine's softmax mishandles -inf; mask with a finite value such as -40000 or -1e4",
    APPLE_RULES ":366, :370; " AMLT " ane_transformers/reference/multihead_attention.py:71-74; "
    AMLT " ane_transformers/huggingface/distilbert.py:132-135",
    check_infinite_mask, NULL },

  /* programs */
  { "weights-over-sram", ANE_LINT_SCOPE_PROGRAM, ANE_LINT_SEVERITY_SLOW, ANE_LINT_CONFIDENCE_MEASURED,
    "a function's weights exceed 32 MB",
    "weights past the Neural Engine's SRAM spill to DRAM: efficiency peaks at ~12.5 MB, drops at ~32 MB, "
    "collapses at 128 MB (M4 Max)",
    MADERIX_INT ":38-41 (sram_probe.m), :31-36 (per-chip table, inferred)",
    NULL, check_weights_over_sram },
  { "weight-file-limit", ANE_LINT_SCOPE_PROGRAM, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_MEASURED,
    "a function's weights exceed 2 GiB",
    "the Neural Engine compiler refuses a weight file above 2 GiB; chunk the model",
    "apple/coremltools#2593 (compiler message \"ane: Weight file size ... exceeds the maximum (2147483648 bytes)\"); "
    "apple/coremltools#1807",
    NULL, check_weight_file_limit },

  { "state-width", ANE_LINT_SCOPE_PROGRAM, ANE_LINT_SEVERITY_FALLS_BACK, ANE_LINT_CONFIDENCE_MEASURED,
    "a state's last axis is not a multiple of 32",
    "a stateful model whose state width is not a multiple of 32 fails on the Neural Engine (fine on CPU/GPU)",
    "apple/coremltools#2631 (Xcode performance report, M4, coremltools 9.0)",
    NULL, check_state_width },

  { "flexible-input", ANE_LINT_SCOPE_PROGRAM, ANE_LINT_SEVERITY_SLOW, ANE_LINT_CONFIDENCE_DOCUMENTED,
    "a function input has sizes the program leaves unknown (flexible shapes)",
    "Core ML runs a range-flexible model on the Neural Engine only at the default shape, other shapes on the "
    "GPU or CPU (from iOS 17.4 the reshapeFrequency = Infrequent load hint may let them on); each enumerated "
    "shape is compiled for the Neural Engine, so prefer a few enumerated shapes",
    "apple/coremltools docs-guides/source/flexible-inputs.md:27-29; apple/coremltools#1764; "
    "Apple Developer Forums thread 724930 (answer by an Apple engineer)",
    NULL, check_flexible_input },

  /* the private path (--private) */
  { "private-io-layout", ANE_LINT_SCOPE_PROGRAM, ANE_LINT_SEVERITY_REFUSED_PRIVATE, ANE_LINT_CONFIDENCE_MEASURED,
    "a function input or output is not an fp16 rank-4 tensor with batch 1",
    "the private path passes every input and output as an fp16 [1, C, 1, S] IOSurface",
    MADERIX_INT ":43, :175, :304-306",
    NULL, check_private_io },
  { "private-io-width", ANE_LINT_SCOPE_PROGRAM, ANE_LINT_SEVERITY_REFUSED_PRIVATE, ANE_LINT_CONFIDENCE_MEASURED,
    "a function input's last axis is below 32",
    "inputs narrower than 32 compile but read garbage on the private path (ane-glib's backend widens them)",
    SKYFALLSIN ":90, :339",
    NULL, check_private_io_width },
  { "private-states", ANE_LINT_SCOPE_PROGRAM, ANE_LINT_SEVERITY_REFUSED_PRIVATE, ANE_LINT_CONFIDENCE_INFERRED,
    "a function has states",
    "no public program for the private path declares a state; ane-glib's backend passes them as inputs and outputs instead, copied through surfaces on every call",
    "no state in maderix/ANE's MIL (training/stories_mil.h); ane-glib runtime/ane/ane-ane-backend.c:241 (states_to_io)",
    NULL, check_private_states },
  { "private-compile-budget", ANE_LINT_SCOPE_PROGRAM, ANE_LINT_SEVERITY_REFUSED_PRIVATE, ANE_LINT_CONFIDENCE_MEASURED,
    "a package has more functions than the ~119 compiles a process gets",
    "after ~119 compiles in one process the private compiler fails silently",
    MADERIX_INT ":115, :270, :281; " MADERIX_README ":107, :189",
    NULL, check_private_compile_budget },
  { "private-sdpa-mask", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_REFUSED_PRIVATE, ANE_LINT_CONFIDENCE_MEASURED,
    "scaled_dot_product_attention is given an attn_mask",
    "the hardware ignores SDPA's attn_mask: causal attention silently becomes full attention",
    MADERIX_README ":188; maderix/ANE training/test_ane_causal_attn.m:1-2",
    check_private_sdpa_mask, NULL },
  { "private-tile", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_REFUSED_PRIVATE, ANE_LINT_CONFIDENCE_MEASURED,
    "the op is tile",
    "tile corrupts the Neural Engine's global state for the rest of the process (status 0x1d)",
    SKYFALLSIN ":132, :153",
    check_private_tile, NULL },
  { "private-concat-form", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_REFUSED_PRIVATE, ANE_LINT_CONFIDENCE_MEASURED,
    "a concat has no interleave argument or an axis that is not an int32 scalar",
    "the private compiler needs concat's interleave and an int32 scalar axis",
    MADERIX_INT ":212, :217, :258; maderix/ANE training/stories_mil.h:67-69",
    check_private_concat, NULL },
  { "private-layer-norm-eps", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_REFUSED_PRIVATE, ANE_LINT_CONFIDENCE_MEASURED,
    "a layer_norm's epsilon has another dtype than its gamma or beta",
    "the private compiler refuses a layer_norm whose epsilon dtype differs from gamma/beta",
    MADERIX_INT ":258",
    check_private_layer_norm_eps, NULL },
  { "private-dynamic-weight", ANE_LINT_SCOPE_OP, ANE_LINT_SEVERITY_REFUSED_PRIVATE, ANE_LINT_CONFIDENCE_MEASURED,
    "a conv or linear takes a weight computed at run time",
    "the private path bakes conv/linear weights in: a run-time weight is silently never read",
    MADERIX_INT ":214; " SKYFALLSIN ":241",
    check_private_dynamic_weight, NULL },
};

const AneLintRule *
ane_lint_rules_get (guint *n_rules)
{
  *n_rules = G_N_ELEMENTS (rules);
  return rules;
}
