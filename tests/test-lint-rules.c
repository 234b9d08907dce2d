/* test-lint-rules.c: the ANE lint's rules, one by one (lint/ane-lint-rules.c)
 *
 * - every rule: a minimal MIL program that fires it (on the op it names,
 *   with the verdict its severity gives, and a message naming what it saw)
 *   and a near miss that differs minimally and must not fire it; the rules
 *   of the private path also stay quiet without ANE_LINT_PRIVATE;
 * - every rule of the table has a case here and cites its source;
 * - the report: op counts per verdict, the cost share, weight bytes, the
 *   summary, the text and the JSON; the errors of ane_lint_program.
 *
 * Large weights are BLOBFILE consts: they are typed from their declared
 * type, and the lint never reads the file.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdlib.h>
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "lint/ane-lint-private.h"
#include "mil/ane-mil-text-private.h"

/* ---------------------------------------------------------------------- */
/* helpers                                                                */
/* ---------------------------------------------------------------------- */

static void
program_free (AneMilProgram *program)
{
  if (program)
    protobuf_c_message_free_unpacked (&program->base, NULL);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilProgram, program_free)

/* One function main<ios18> with inputs, the body's ops and outputs. */
#define MAIN(inputs, body, outputs) \
  "program(1.3)\n{\n  func main<ios18>(" inputs ") {\n" body "  } -> (" outputs ");\n}\n"

/* A BLOBFILE const: typed from its declaration, never read. */
#define BLOB(type, name) \
  "    " type " " name " = const()[name = string(\"" name "\"), val = " type \
  "(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64(64)))];\n"

static AneMilProgram *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  AneMilProgram *program = ane_mil_text_parse (text, -1, "test-lint-rules", &error);

  g_assert_no_error (error);
  g_assert_nonnull (program);
  return program;
}

static AneLintReport *
lint_text (const char   *text,
           AneLintFlags  flags)
{
  g_autoptr(AneMilProgram) program = parse (text);
  g_autoptr(GError) error = NULL;
  AneLintReport *report = ane_lint_program (program, flags, &error);

  g_assert_no_error (error);
  g_assert_nonnull (report);
  return report;
}

static int
find_op (AneLintReport *report,
         const char    *name)
{
  for (guint i = 0; i < ane_lint_report_get_n_ops (report); i++)
    if (g_strcmp0 (ane_lint_report_get_op_name (report, i), name) == 0)
      return (int) i;
  return -1;
}

static AneLintVerdict
verdict_of (AneLintSeverity severity)
{
  switch (severity)
    {
    case ANE_LINT_SEVERITY_SLOW:
      return ANE_LINT_VERDICT_ANE_SLOW;
    case ANE_LINT_SEVERITY_FALLS_BACK:
      return ANE_LINT_VERDICT_FALLS_BACK;
    case ANE_LINT_SEVERITY_REFUSED_PRIVATE:
      return ANE_LINT_VERDICT_REFUSED_PRIVATE;
    case ANE_LINT_SEVERITY_FP16_UNSAFE:
    default:
      return ANE_LINT_VERDICT_ANE;
    }
}

/* ---------------------------------------------------------------------- */
/* programs made in C                                                     */
/* ---------------------------------------------------------------------- */

/* n functions f0 .. f(n-1), each a relu of an fp16 [1, 64, 1, 32]. */
static char *
make_functions (guint n)
{
  GString *s = g_string_new ("program(1.3)\n{\n");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "  func f%u<ios18>(tensor<fp16, [1, 64, 1, 32]> x) {\n"
                            "    tensor<fp16, [1, 64, 1, 32]> y = relu(x = x);\n"
                            "  } -> (y);\n", i);
  g_string_append (s, "}\n");
  return g_string_free (s, FALSE);
}

static char *
make_budget_fires (void)
{
  return make_functions (120);
}

static char *
make_budget_clean (void)
{
  return make_functions (119);
}

/* ---------------------------------------------------------------------- */
/* the cases                                                              */
/* ---------------------------------------------------------------------- */

typedef struct
{
  const char *rule;
  const char *label;      /* test path: /ane/lint/rule/<rule>/<label> */
  const char *fires;      /* MIL text that fires the rule */
  const char *clean;      /* the near miss: must not fire it */
  const char *op;         /* the op it fires on (its name), NULL: the function */
  const char *function;   /* the function it fires in (NULL: main) */
  const char *names;      /* the message must contain this */
  const char *also;       /* other rules that fire on the same op ("a b"), or NULL */
  char     *(*make_fires) (void);  /* instead of fires/clean, for big programs */
  char     *(*make_clean) (void);
} RuleCase;


static const RuleCase cases[] = {
  /* --- tensors --- */
  { "fp32-compute", "relu",
    MAIN ("tensor<fp32, [1, 64]> x", "    tensor<fp32, [1, 64]> y = relu(x = x);\n", "y"),
    MAIN ("tensor<fp16, [1, 64]> x", "    tensor<fp16, [1, 64]> y = relu(x = x);\n", "y"),
    "y", NULL, "'y'" },
  { "fp32-compute", "cast-inside",
    MAIN ("tensor<fp16, [1, 64]> x",
          "    tensor<fp32, [1, 64]> c = cast(x = x, dtype = string(\"fp32\"));\n"
          "    tensor<fp32, [1, 64]> r = relu(x = c);\n"
          "    tensor<fp16, [1, 64]> y = cast(x = r, dtype = string(\"fp16\"));\n", "y"),
    /* the casts at the interface are what Core ML does anyway */
    MAIN ("tensor<fp16, [1, 64]> x",
          "    tensor<fp32, [1, 64]> c = cast(x = x, dtype = string(\"fp32\"));\n", "c"),
    "r", NULL, "'r'" },
  { "int-compute", "add",
    MAIN ("tensor<int32, [1, 64]> x", "    tensor<int32, [1, 64]> y = add(x = x, y = x);\n", "y"),
    MAIN ("tensor<fp16, [1, 64]> x", "    tensor<fp16, [1, 64]> y = add(x = x, y = x);\n", "y"),
    "y", NULL, "'y'" },
  { "rank-above-4", "relu",
    MAIN ("tensor<fp16, [1, 2, 2, 2, 64]> x", "    tensor<fp16, [1, 2, 2, 2, 64]> y = relu(x = x);\n", "y"),
    MAIN ("tensor<fp16, [2, 2, 2, 64]> x", "    tensor<fp16, [2, 2, 2, 64]> y = relu(x = x);\n", "y"),
    "y", NULL, "'y'" },
  { "dim-above-16384", "relu",
    MAIN ("tensor<fp16, [1, 16385]> x", "    tensor<fp16, [1, 16385]> y = relu(x = x);\n", "y"),
    MAIN ("tensor<fp16, [1, 16384]> x", "    tensor<fp16, [1, 16384]> y = relu(x = x);\n", "y"),
    "y", NULL, "'y'" },
  { "dynamic-shape", "relu",
    MAIN ("tensor<fp16, [1, ?, 64]> x", "    tensor<fp16, [1, ?, 64]> y = relu(x = x);\n", "y"),
    MAIN ("tensor<fp16, [1, 8, 64]> x", "    tensor<fp16, [1, 8, 64]> y = relu(x = x);\n", "y"),
    "y", NULL, "'y'" },
  { "last-axis-padding", "relu",
    MAIN ("tensor<fp16, [1, 512, 1, 1]> x", "    tensor<fp16, [1, 512, 1, 1]> y = relu(x = x);\n", "y"),
    MAIN ("tensor<fp16, [1, 8, 1, 64]> x", "    tensor<fp16, [1, 8, 1, 64]> y = relu(x = x);\n", "y"),
    "y", NULL, "'y'" },

  /* --- ops --- */
  { "op-gather", "gather",
    MAIN ("tensor<fp16, [8, 64]> x",
          "    tensor<int32, [2]> idx = const()[name = string(\"idx\"), val = tensor<int32, [2]>([0, 3])];\n"
          "    tensor<fp16, [2, 64]> y = gather(x = x, indices = idx, axis = int32(0));\n", "y"),
    /* the same rows picked by a one-hot matmul */
    MAIN ("tensor<fp16, [8, 64]> x",
          BLOB ("tensor<fp16, [2, 8]>", "onehot")
          "    tensor<fp16, [2, 64]> y = matmul(x = onehot, y = x);\n", "y"),
    "y", NULL, "gather" },
  { "op-scatter", "scatter",
    MAIN ("tensor<fp16, [8, 64]> x, tensor<fp16, [2, 64]> u",
          "    tensor<int32, [2]> idx = const()[name = string(\"idx\"), val = tensor<int32, [2]>([0, 1])];\n"
          "    tensor<fp16, [8, 64]> y = scatter(data = x, indices = idx, updates = u, axis = int32(0), "
          "mode = string(\"update\"));\n", "y"),
    /* the same rows written by a concat */
    MAIN ("tensor<fp16, [6, 64]> x, tensor<fp16, [2, 64]> u",
          "    tensor<fp16, [8, 64]> y = concat(values = (u, x), axis = int32(0), interleave = bool(false));\n", "y"),
    "y", NULL, "scatter" },
  { "op-recurrent", "rnn",
    MAIN ("tensor<fp16, [4, 1, 32]> x, tensor<fp16, [1, 32]> h0",
          BLOB ("tensor<fp16, [32, 32]>", "wi") BLOB ("tensor<fp16, [32, 32]>", "wh")
          "    tensor<fp16, [4, 1, 32]> y, tensor<fp16, [1, 32]> h = rnn(x = x, initial_h = h0, weight_ih = wi, "
          "weight_hh = wh, output_sequence = bool(true));\n", "y, h"),
    /* one step written out: tanh of a matmul */
    MAIN ("tensor<fp16, [4, 1, 32]> x, tensor<fp16, [1, 32]> h0",
          BLOB ("tensor<fp16, [32, 32]>", "wi")
          "    tensor<fp16, [4, 1, 32]> m = matmul(x = x, y = wi);\n"
          "    tensor<fp16, [4, 1, 32]> y = tanh(x = m);\n", "y, h0"),
    "y", NULL, "rnn" },
  { "op-recurrent", "lstm",
    MAIN ("tensor<fp16, [4, 1, 32]> x, tensor<fp16, [1, 32]> h0, tensor<fp16, [1, 32]> c0",
          BLOB ("tensor<fp16, [128, 32]>", "wi") BLOB ("tensor<fp16, [128, 32]>", "wh")
          "    tensor<fp16, [4, 1, 32]> y, tensor<fp16, [1, 32]> h, tensor<fp16, [1, 32]> c = lstm(x = x, "
          "initial_h = h0, initial_c = c0, weight_ih = wi, weight_hh = wh, output_sequence = bool(true));\n",
          "y, h, c"),
    MAIN ("tensor<fp16, [4, 1, 32]> x",
          "    tensor<fp16, [4, 1, 32]> y = tanh(x = x);\n", "y"),
    "y", NULL, "lstm" },
  { "op-control-flow", "cond",
    MAIN ("tensor<fp16, [1, 64]> x, bool p",
          "    tensor<fp16, [1, 64]> y = cond(pred = p)[name = string(\"y\")] {\n"
          "      block() {\n"
          "        tensor<fp16, [1, 64]> a = relu(x = x);\n"
          "      } -> (a);\n"
          "      block() {\n"
          "        tensor<fp16, [1, 64]> b = tanh(x = x);\n"
          "      } -> (b);\n"
          "    };\n", "y"),
    /* both branches computed, no control flow */
    MAIN ("tensor<fp16, [1, 64]> x, bool p",
          "    tensor<fp16, [1, 64]> a = relu(x = x);\n"
          "    tensor<fp16, [1, 64]> y = tanh(x = a);\n", "y"),
    "y", NULL, "cond" },
  { "op-select", "computed-cond",
    MAIN ("tensor<fp16, [1, 4]> x, tensor<fp16, [1, 4]> z",
          "    tensor<bool, [1, 4]> c = greater(x = x, y = fp16(0x0p+0));\n"
          "    tensor<fp16, [1, 4]> y = select(cond = c, a = x, b = z);\n", "y"),
    /* a constant condition */
    MAIN ("tensor<fp16, [1, 4]> x, tensor<fp16, [1, 4]> z",
          "    tensor<bool, [1, 4]> c = const()[name = string(\"c\"), val = tensor<bool, [1, 4]>([true, false, "
          "true, false])];\n"
          "    tensor<fp16, [1, 4]> y = select(cond = c, a = x, b = z);\n", "y"),
    "y", NULL, "'c'" },
  { "op-resample", "resample",
    MAIN ("tensor<fp16, [1, 3, 16, 16]> x, tensor<fp16, [1, 8, 8, 2]> g",
          "    tensor<fp16, [1, 3, 8, 8]> y = resample(x = x, coordinates = g, sampling_mode = string(\"bilinear\"), "
          "padding_mode = string(\"border\"), padding_value = fp16(0x0p+0), "
          "coordinates_mode = string(\"normalized_minus_one_to_one\"), align_corners = bool(false));\n", "y"),
    /* a regular grid: pooling */
    MAIN ("tensor<fp16, [1, 3, 16, 16]> x, tensor<fp16, [1, 8, 8, 2]> g",
          "    tensor<fp16, [1, 3, 8, 8]> y = avg_pool(x = x, kernel_sizes = tensor<int32, [2]>([2, 2]), "
          "strides = tensor<int32, [2]>([2, 2]), pad_type = string(\"valid\"));\n", "y"),
    "y", NULL, "resample" },
  { "op-cumsum", "cumsum",
    MAIN ("tensor<fp16, [1, 64]> x", "    tensor<fp16, [1, 64]> y = cumsum(x = x, axis = int32(-1));\n", "y"),
    /* the prefix sums as a matmul by a triangular constant */
    MAIN ("tensor<fp16, [1, 64]> x",
          BLOB ("tensor<fp16, [64, 64]>", "tri")
          "    tensor<fp16, [1, 64]> y = matmul(x = tri, y = x, transpose_y = bool(true));\n", "y"),
    "y", NULL, "cumsum" },
  { "linear-not-conv", "matmul",
    MAIN ("tensor<fp16, [1, 8, 64]> x",
          BLOB ("tensor<fp16, [64, 32]>", "W")
          "    tensor<fp16, [1, 8, 32]> y = matmul(x = x, y = W);\n", "y"),
    /* both operands computed: attention's Q K^T */
    MAIN ("tensor<fp16, [1, 8, 64]> x, tensor<fp16, [64, 32]> W",
          "    tensor<fp16, [1, 8, 32]> y = matmul(x = x, y = W);\n", "y"),
    "y", NULL, "'W'" },
  { "linear-not-conv", "linear",
    MAIN ("tensor<fp16, [1, 8, 64]> x",
          BLOB ("tensor<fp16, [32, 64]>", "W")
          "    tensor<fp16, [1, 8, 32]> y = linear(x = x, weight = W);\n", "y"),
    /* the 1x1 conv on (B, C, 1, S) Apple writes instead */
    MAIN ("tensor<fp16, [1, 64, 1, 8]> x",
          BLOB ("tensor<fp16, [32, 64, 1, 1]>", "W")
          "    tensor<fp16, [1, 32, 1, 8]> y = conv(x = x, weight = W);\n", "y"),
    "y", NULL, "linear" },
  { "conv-dilated", "dilation-2",
    MAIN ("tensor<fp16, [1, 8, 16, 16]> x",
          BLOB ("tensor<fp16, [8, 8, 3, 3]>", "W")
          "    tensor<fp16, [1, 8, 12, 12]> y = conv(x = x, weight = W, strides = tensor<int32, [2]>([1, 1]), "
          "pad_type = string(\"valid\"), dilations = tensor<int32, [2]>([2, 2]), groups = int32(1));\n", "y"),
    MAIN ("tensor<fp16, [1, 8, 16, 16]> x",
          BLOB ("tensor<fp16, [8, 8, 3, 3]>", "W")
          "    tensor<fp16, [1, 8, 14, 14]> y = conv(x = x, weight = W, strides = tensor<int32, [2]>([1, 1]), "
          "pad_type = string(\"valid\"), dilations = tensor<int32, [2]>([1, 1]), groups = int32(1));\n", "y"),
    "y", NULL, "dilation 2" },
  { "pool-window", "kernel-14",
    MAIN ("tensor<fp16, [1, 4, 32, 32]> x",
          "    tensor<fp16, [1, 4, 19, 19]> y = max_pool(x = x, kernel_sizes = tensor<int32, [2]>([14, 14]), "
          "strides = tensor<int32, [2]>([1, 1]), pad_type = string(\"valid\"));\n", "y"),
    MAIN ("tensor<fp16, [1, 4, 32, 32]> x",
          "    tensor<fp16, [1, 4, 20, 20]> y = max_pool(x = x, kernel_sizes = tensor<int32, [2]>([13, 13]), "
          "strides = tensor<int32, [2]>([1, 1]), pad_type = string(\"valid\"));\n", "y"),
    "y", NULL, "window 14" },
  { "pool-window", "stride-3",
    MAIN ("tensor<fp16, [1, 4, 32, 32]> x",
          "    tensor<fp16, [1, 4, 11, 11]> y = avg_pool(x = x, kernel_sizes = tensor<int32, [2]>([2, 2]), "
          "strides = tensor<int32, [2]>([3, 3]), pad_type = string(\"valid\"));\n", "y"),
    MAIN ("tensor<fp16, [1, 4, 32, 32]> x",
          "    tensor<fp16, [1, 4, 16, 16]> y = avg_pool(x = x, kernel_sizes = tensor<int32, [2]>([2, 2]), "
          "strides = tensor<int32, [2]>([2, 2]), pad_type = string(\"valid\"));\n", "y"),
    "y", NULL, "stride 3" },
  { "upsample-factor", "factor-3",
    MAIN ("tensor<fp16, [1, 4, 8, 32]> x",
          "    tensor<fp16, [1, 4, 24, 96]> y = upsample_nearest_neighbor(x = x, scale_factor_height = fp32(0x1.8p+1), "
          "scale_factor_width = fp32(0x1.8p+1));\n", "y"),
    MAIN ("tensor<fp16, [1, 4, 8, 32]> x",
          "    tensor<fp16, [1, 4, 16, 64]> y = upsample_nearest_neighbor(x = x, scale_factor_height = fp32(0x1p+1), "
          "scale_factor_width = fp32(0x1p+1));\n", "y"),
    "y", NULL, "scale_factor_height 3" },
  { "conv-dynamic-weight", "conv",
    MAIN ("tensor<fp16, [1, 8, 1, 32]> x, tensor<fp16, [8, 8, 1, 1]> w",
          "    tensor<fp16, [1, 8, 1, 32]> y = conv(x = x, weight = w);\n", "y"),
    MAIN ("tensor<fp16, [1, 8, 1, 32]> x",
          BLOB ("tensor<fp16, [8, 8, 1, 1]>", "w")
          "    tensor<fp16, [1, 8, 1, 32]> y = conv(x = x, weight = w);\n", "y"),
    "y", NULL, "'w'" },
  { "quant-input-blocks", "conv",
    MAIN ("tensor<fp16, [1, 64, 1, 32]> x",
          BLOB ("tensor<int8, [32, 64, 1, 1]>", "q") BLOB ("tensor<fp16, [32, 4, 1, 1]>", "s")
          "    tensor<fp16, [32, 64, 1, 1]> W = constexpr_blockwise_shift_scale(data = q, scale = s);\n"
          "    tensor<fp16, [1, 32, 1, 32]> y = conv(x = x, weight = W);\n", "y"),
    /* one scale per output channel */
    MAIN ("tensor<fp16, [1, 64, 1, 32]> x",
          BLOB ("tensor<int8, [32, 64, 1, 1]>", "q") BLOB ("tensor<fp16, [32, 1, 1, 1]>", "s")
          "    tensor<fp16, [32, 64, 1, 1]> W = constexpr_blockwise_shift_scale(data = q, scale = s);\n"
          "    tensor<fp16, [1, 32, 1, 32]> y = conv(x = x, weight = W);\n", "y"),
    "y", NULL, "'W'" },
  { "quant-input-blocks", "matmul",
    MAIN ("tensor<fp16, [1, 8, 64]> x",
          BLOB ("tensor<int8, [64, 32]>", "q") BLOB ("tensor<fp16, [4, 32]>", "s")
          "    tensor<fp16, [64, 32]> W = constexpr_blockwise_shift_scale(data = q, scale = s);\n"
          "    tensor<fp16, [1, 8, 32]> y = matmul(x = x, y = W);\n", "y"),
    MAIN ("tensor<fp16, [1, 8, 64]> x",
          BLOB ("tensor<int8, [64, 32]>", "q") BLOB ("tensor<fp16, [1, 32]>", "s")
          "    tensor<fp16, [64, 32]> W = constexpr_blockwise_shift_scale(data = q, scale = s);\n"
          "    tensor<fp16, [1, 8, 32]> y = matmul(x = x, y = W);\n", "y"),
    "y", NULL, "'W'", "linear-not-conv" },
  { "quant-input-blocks", "linear",
    MAIN ("tensor<fp16, [1, 8, 64]> x",
          BLOB ("tensor<int8, [32, 64]>", "q") BLOB ("tensor<fp16, [32, 4]>", "s")
          "    tensor<fp16, [32, 64]> W = constexpr_blockwise_shift_scale(data = q, scale = s);\n"
          "    tensor<fp16, [1, 8, 32]> y = linear(x = x, weight = W);\n", "y"),
    MAIN ("tensor<fp16, [1, 8, 64]> x",
          BLOB ("tensor<int8, [32, 64]>", "q") BLOB ("tensor<fp16, [32, 1]>", "s")
          "    tensor<fp16, [32, 64]> W = constexpr_blockwise_shift_scale(data = q, scale = s);\n"
          "    tensor<fp16, [1, 8, 32]> y = linear(x = x, weight = W);\n", "y"),
    "y", NULL, "'W'", "linear-not-conv" },
  { "conv-dynamic-weight", "linear",
    MAIN ("tensor<fp16, [1, 8, 64]> x, tensor<fp16, [32, 64]> w",
          "    tensor<fp16, [1, 8, 32]> y = linear(x = x, weight = w);\n", "y"),
    MAIN ("tensor<fp16, [1, 8, 64]> x",
          BLOB ("tensor<fp16, [32, 64]>", "w")
          "    tensor<fp16, [1, 8, 32]> y = linear(x = x, weight = w);\n", "y"),
    "y", NULL, "'w'", "linear-not-conv" },
  { "upsample-factor", "bilinear-int",
    MAIN ("tensor<fp16, [1, 4, 8, 32]> x",
          "    tensor<fp16, [1, 4, 8, 128]> y = upsample_bilinear(x = x, scale_factor_height = int32(1), "
          "scale_factor_width = int32(4));\n", "y"),
    MAIN ("tensor<fp16, [1, 4, 8, 32]> x",
          "    tensor<fp16, [1, 4, 8, 64]> y = upsample_bilinear(x = x, scale_factor_height = int32(1), "
          "scale_factor_width = int32(2));\n", "y"),
    "y", NULL, "scale_factor_width 4" },
  { "sdpa-mask", "mask",
    MAIN ("tensor<fp16, [1, 4, 8, 32]> q, tensor<fp16, [1, 4, 8, 32]> k, tensor<fp16, [1, 4, 8, 32]> v, "
          "tensor<fp16, [1, 1, 8, 8]> m",
          "    tensor<fp16, [1, 4, 8, 32]> y = scaled_dot_product_attention(query = q, key = k, value = v, "
          "attn_mask = m);\n", "y"),
    MAIN ("tensor<fp16, [1, 4, 8, 32]> q, tensor<fp16, [1, 4, 8, 32]> k, tensor<fp16, [1, 4, 8, 32]> v, "
          "tensor<fp16, [1, 1, 8, 8]> m",
          "    tensor<fp16, [1, 4, 8, 32]> y = scaled_dot_product_attention(query = q, key = k, value = v);\n", "y"),
    "y", NULL, "'m'" },
  { "broadcast-plane", "add",
    MAIN ("tensor<fp16, [1, 64, 4, 32]> x, tensor<fp16, [1, 64, 1, 1]> v",
          "    tensor<fp16, [1, 64, 4, 32]> y = add(x = x, y = v);\n", "y"),
    /* the vector is a constant */
    MAIN ("tensor<fp16, [1, 64, 4, 32]> x",
          BLOB ("tensor<fp16, [1, 64, 1, 1]>", "v")
          "    tensor<fp16, [1, 64, 4, 32]> y = add(x = x, y = v);\n", "y"),
    "y", NULL, "[1, 64, 1, 1]" },
  { "broadcast-plane", "lower-rank",
    MAIN ("tensor<fp16, [1, 64, 4, 32]> x, tensor<fp16, [64, 1, 1]> v",
          "    tensor<fp16, [1, 64, 4, 32]> y = mul(x = x, y = v);\n", "y"),
    /* broadcast along one axis only */
    MAIN ("tensor<fp16, [1, 64, 4, 32]> x, tensor<fp16, [64, 1, 32]> v",
          "    tensor<fp16, [1, 64, 4, 32]> y = mul(x = x, y = v);\n", "y"),
    "y", NULL, "[64, 1, 1]" },
  { "state-copy", "concat",
    MAIN ("tensor<fp16, [1, 1, 64]> x, state<tensor<fp16, [1, 1024, 64]>> s",
          "    tensor<fp16, [1, 1024, 64]> r = read_state(input = s);\n"
          "    tensor<fp16, [1, 1025, 64]> y = concat(values = (r, x), axis = int32(1), interleave = bool(false));\n",
          "y"),
    /* a small state */
    MAIN ("tensor<fp16, [1, 1, 64]> x, state<tensor<fp16, [1, 16, 64]>> s",
          "    tensor<fp16, [1, 16, 64]> r = read_state(input = s);\n"
          "    tensor<fp16, [1, 17, 64]> y = concat(values = (r, x), axis = int32(1), interleave = bool(false));\n",
          "y"),
    "y", NULL, "concat" },
  { "state-copy", "tile-of-slice",
    MAIN ("state<tensor<fp16, [1, 1024, 64]>> s",
          "    tensor<fp16, [1, 1024, 64]> r = read_state(input = s);\n"
          "    tensor<fp16, [1, 512, 64]> h = slice_by_size(x = r, begin = tensor<int32, [3]>([0, 0, 0]), "
          "size = tensor<int32, [3]>([1, 512, 64]));\n"
          "    tensor<fp16, [2, 512, 64]> y = tile(x = h, reps = tensor<int32, [3]>([2, 1, 1]));\n", "y"),
    /* the same tile of an input */
    MAIN ("tensor<fp16, [1, 1024, 64]> r",
          "    tensor<fp16, [1, 512, 64]> h = slice_by_size(x = r, begin = tensor<int32, [3]>([0, 0, 0]), "
          "size = tensor<int32, [3]>([1, 512, 64]));\n"
          "    tensor<fp16, [2, 512, 64]> y = tile(x = h, reps = tensor<int32, [3]>([2, 1, 1]));\n", "y"),
    "y", NULL, "tile" },
  { "transpose-last-axis", "perm",
    MAIN ("tensor<fp16, [1, 64, 32]> x",
          "    tensor<fp16, [1, 32, 64]> y = transpose(x = x, perm = tensor<int32, [3]>([0, 2, 1]));\n", "y"),
    MAIN ("tensor<fp16, [1, 64, 32]> x",
          "    tensor<fp16, [64, 1, 32]> y = transpose(x = x, perm = tensor<int32, [3]>([1, 0, 2]));\n", "y"),
    "y", NULL, "'x'" },
  { "reshape-last-axis", "flatten",
    MAIN ("tensor<fp16, [1, 64, 64]> x",
          "    tensor<fp16, [1, 4096]> y = reshape(x = x, shape = tensor<int32, [2]>([1, 4096]));\n", "y"),
    MAIN ("tensor<fp16, [1, 64, 64]> x",
          "    tensor<fp16, [64, 64]> y = reshape(x = x, shape = tensor<int32, [2]>([64, 64]));\n", "y"),
    "y", NULL, "[1, 4096]" },

  /* --- fp16 numerics --- */
  { "fp16-exp-overflow", "exp",
    MAIN ("tensor<fp16, [1, 64]> x", "    tensor<fp16, [1, 64]> y = exp(x = x);\n", "y"),
    /* softmax's shift */
    MAIN ("tensor<fp16, [1, 64]> x",
          "    tensor<fp16, [1, 1]> m = reduce_max(x = x, axes = tensor<int32, [1]>([-1]), keep_dims = bool(true));\n"
          "    tensor<fp16, [1, 64]> d = sub(x = x, y = m);\n"
          "    tensor<fp16, [1, 64]> y = exp(x = d);\n", "y"),
    "y", NULL, "'x'" },
  { "fp16-exp-overflow", "softplus",
    MAIN ("tensor<fp16, [1, 64]> x", "    tensor<fp16, [1, 64]> y = softplus(x = x);\n", "y"),
    MAIN ("tensor<fp16, [1, 64]> x", "    tensor<fp16, [1, 64]> y = relu(x = x);\n", "y"),
    "y", NULL, "softplus" },
  { "fp16-log-softmax", "log",
    MAIN ("tensor<fp16, [1, 64]> x",
          "    tensor<fp16, [1, 64]> p = softmax(x = x, axis = int32(-1));\n"
          "    tensor<fp16, [1, 64]> y = log(x = p);\n", "y"),
    MAIN ("tensor<fp16, [1, 64]> x",
          "    tensor<fp16, [1, 64]> p = sigmoid(x = x);\n"
          "    tensor<fp16, [1, 64]> y = log(x = p);\n", "y"),
    "y", NULL, "'p'" },
  { "fp16-wide-square-sum", "reduce_sum_square",
    MAIN ("tensor<fp16, [1, 512]> x",
          "    tensor<fp16, [1, 1]> y = reduce_sum_square(x = x, axes = tensor<int32, [1]>([-1]), "
          "keep_dims = bool(true));\n", "y"),
    MAIN ("tensor<fp16, [1, 256]> x",
          "    tensor<fp16, [1, 1]> y = reduce_sum_square(x = x, axes = tensor<int32, [1]>([-1]), "
          "keep_dims = bool(true));\n", "y"),
    "y", NULL, "512" },
  { "fp16-wide-square-sum", "mean-of-mul",
    MAIN ("tensor<fp16, [1, 4096]> x",
          "    tensor<fp16, [1, 4096]> q = mul(x = x, y = x);\n"
          "    tensor<fp16, [1, 1]> y = reduce_mean(x = q, axes = tensor<int32, [1]>([-1]), keep_dims = bool(true));\n",
          "y"),
    /* a mean of the values, not of their squares */
    MAIN ("tensor<fp16, [1, 4096]> x",
          "    tensor<fp16, [1, 4096]> q = relu(x = x);\n"
          "    tensor<fp16, [1, 1]> y = reduce_mean(x = q, axes = tensor<int32, [1]>([-1]), keep_dims = bool(true));\n",
          "y"),
    "y", NULL, "4096" },
  { "fp16-long-softmax", "1024",
    MAIN ("tensor<fp16, [1, 1024]> x", "    tensor<fp16, [1, 1024]> y = softmax(x = x, axis = int32(-1));\n", "y"),
    MAIN ("tensor<fp16, [1, 1023]> x", "    tensor<fp16, [1, 1023]> y = softmax(x = x, axis = int32(-1));\n", "y"),
    "y", NULL, "1024" },
  { "fp16-tiny-epsilon", "layer_norm",
    MAIN ("tensor<fp16, [1, 8, 64]> x",
          "    tensor<fp16, [1, 8, 64]> y = layer_norm(x = x, axes = tensor<int32, [1]>([-1]), "
          "epsilon = fp32(0x1.197998p-40));\n", "y"),
    /* Apple's 1e-7 */
    MAIN ("tensor<fp16, [1, 8, 64]> x",
          "    tensor<fp16, [1, 8, 64]> y = layer_norm(x = x, axes = tensor<int32, [1]>([-1]), "
          "epsilon = fp32(0x1.ad7f2ap-24));\n", "y"),
    "y", NULL, "layer_norm epsilon 1e-12" },
  { "fp16-infinite-mask", "minus-inf",
    MAIN ("tensor<fp16, [1, 4]> x",
          "    tensor<fp16, [1, 4]> m = const()[name = string(\"m\"), val = tensor<fp16, [1, 4]>([0x0p+0, -inf, "
          "-inf, -inf])];\n"
          "    tensor<fp16, [1, 4]> y = add(x = x, y = m);\n", "y"),
    /* -1e4 */
    MAIN ("tensor<fp16, [1, 4]> x",
          "    tensor<fp16, [1, 4]> m = const()[name = string(\"m\"), val = tensor<fp16, [1, 4]>([0x0p+0, "
          "-0x1.388p+13, -0x1.388p+13, -0x1.388p+13])];\n"
          "    tensor<fp16, [1, 4]> y = add(x = x, y = m);\n", "y"),
    "y", NULL, "'m'" },

  { "fp16-infinite-mask", "select",
    MAIN ("tensor<fp16, [1, 4]> x",
          "    tensor<bool, [1, 4]> c = const()[name = string(\"c\"), val = tensor<bool, [1, 4]>([true, false, "
          "false, false])];\n"
          "    tensor<fp16, [1, 4]> y = select(cond = c, a = x, b = fp16(-inf));\n", "y"),
    MAIN ("tensor<fp16, [1, 4]> x",
          "    tensor<bool, [1, 4]> c = const()[name = string(\"c\"), val = tensor<bool, [1, 4]>([true, false, "
          "false, false])];\n"
          "    tensor<fp16, [1, 4]> y = select(cond = c, a = x, b = fp16(-0x1.388p+13));\n", "y"),
    "y", NULL, "-inf" },
  { "fp16-exp-overflow", "exp2",
    MAIN ("tensor<fp16, [1, 64]> x", "    tensor<fp16, [1, 64]> y = exp2(x = x);\n", "y"),
    MAIN ("tensor<fp16, [1, 64]> x",
          "    tensor<fp16, [1, 1]> m = reduce_max(x = x, axes = tensor<int32, [1]>([-1]), keep_dims = bool(true));\n"
          "    tensor<fp16, [1, 64]> d = sub(x = x, y = m);\n"
          "    tensor<fp16, [1, 64]> y = exp2(x = d);\n", "y"),
    "y", NULL, "exp2 of 'x'" },
  /* --- programs --- */
  { "weights-over-sram", "34MB",
    MAIN ("tensor<fp16, [1, 64]> x",
          BLOB ("tensor<fp16, [17000000]>", "W")
          "    tensor<fp16, [1, 64]> y = relu(x = x);\n", "y"),
    MAIN ("tensor<fp16, [1, 64]> x",
          BLOB ("tensor<fp16, [500000]>", "W")
          "    tensor<fp16, [1, 64]> y = relu(x = x);\n", "y"),
    NULL, NULL, "main" },
  { "weight-file-limit", "2.2GB",
    MAIN ("tensor<fp16, [1, 64]> x",
          BLOB ("tensor<fp16, [1100000000]>", "W")
          "    tensor<fp16, [1, 64]> y = relu(x = x);\n", "y"),
    /* 2.0 GB: under 2 GiB */
    MAIN ("tensor<fp16, [1, 64]> x",
          BLOB ("tensor<fp16, [1000000000]>", "W")
          "    tensor<fp16, [1, 64]> y = relu(x = x);\n", "y"),
    NULL, NULL, "main" },
  { "state-width", "width-4",
    MAIN ("state<tensor<fp16, [1, 8, 4]>> s", "    tensor<fp16, [1, 8, 4]> y = read_state(input = s);\n", "y"),
    MAIN ("state<tensor<fp16, [1, 8, 32]>> s", "    tensor<fp16, [1, 8, 32]> y = read_state(input = s);\n", "y"),
    NULL, NULL, "'s'" },

  { "flexible-input", "range",
    MAIN ("tensor<fp16, [1, 64, 1, ?]> x", "    tensor<fp16, [1, 64, 1, ?]> y = relu(x = x);\n", "y"),
    MAIN ("tensor<fp16, [1, 64, 1, 32]> x", "    tensor<fp16, [1, 64, 1, 32]> y = relu(x = x);\n", "y"),
    NULL, NULL, "'x'" },

  /* --- the private path --- */
  { "private-io-layout", "rank-2",
    MAIN ("tensor<fp16, [1, 64]> x", "    tensor<fp16, [1, 64]> y = relu(x = x);\n", "y"),
    MAIN ("tensor<fp16, [1, 64, 1, 32]> x", "    tensor<fp16, [1, 64, 1, 32]> y = relu(x = x);\n", "y"),
    NULL, NULL, "'x'" },
  { "private-io-layout", "fp32-output",
    MAIN ("tensor<fp16, [1, 64, 1, 32]> x",
          "    tensor<fp32, [1, 64, 1, 32]> y = cast(x = x, dtype = string(\"fp32\"));\n", "y"),
    MAIN ("tensor<fp16, [1, 64, 1, 32]> x",
          "    tensor<fp16, [1, 64, 1, 32]> y = relu(x = x);\n", "y"),
    NULL, NULL, "'y'" },
  { "private-io-width", "width-16",
    MAIN ("tensor<fp16, [1, 64, 1, 16]> x", "    tensor<fp16, [1, 64, 1, 16]> y = relu(x = x);\n", "y"),
    MAIN ("tensor<fp16, [1, 64, 1, 32]> x", "    tensor<fp16, [1, 64, 1, 32]> y = relu(x = x);\n", "y"),
    NULL, NULL, "'x'" },
  { "private-states", "state",
    MAIN ("tensor<fp16, [1, 64, 1, 32]> x, state<tensor<fp16, [1, 64, 1, 32]>> s",
          "    tensor<fp16, [1, 64, 1, 32]> r = read_state(input = s);\n"
          "    tensor<fp16, [1, 64, 1, 32]> y = add(x = x, y = r);\n", "y"),
    MAIN ("tensor<fp16, [1, 64, 1, 32]> x, tensor<fp16, [1, 64, 1, 32]> r",
          "    tensor<fp16, [1, 64, 1, 32]> y = add(x = x, y = r);\n", "y"),
    NULL, NULL, "main" },
  { "private-compile-budget", "120-functions",
    NULL, NULL, NULL, "f119", "f119", NULL, make_budget_fires, make_budget_clean },
  { "private-sdpa-mask", "mask",
    MAIN ("tensor<fp16, [1, 4, 8, 32]> q, tensor<fp16, [1, 4, 8, 32]> k, tensor<fp16, [1, 4, 8, 32]> v, "
          "tensor<fp16, [1, 1, 8, 8]> m",
          "    tensor<fp16, [1, 4, 8, 32]> y = scaled_dot_product_attention(query = q, key = k, value = v, "
          "attn_mask = m);\n", "y"),
    MAIN ("tensor<fp16, [1, 4, 8, 32]> q, tensor<fp16, [1, 4, 8, 32]> k, tensor<fp16, [1, 4, 8, 32]> v, "
          "tensor<fp16, [1, 1, 8, 8]> m",
          "    tensor<fp16, [1, 4, 8, 32]> y = scaled_dot_product_attention(query = q, key = k, value = v);\n", "y"),
    "y", NULL, "'m'", "sdpa-mask" },
  { "private-tile", "tile",
    MAIN ("tensor<fp16, [1, 4, 1, 32]> x",
          "    tensor<fp16, [1, 8, 1, 32]> y = tile(x = x, reps = tensor<int32, [4]>([1, 2, 1, 1]));\n", "y"),
    MAIN ("tensor<fp16, [1, 4, 1, 32]> x",
          "    tensor<fp16, [1, 8, 1, 32]> y = concat(values = (x, x), axis = int32(1), interleave = bool(false));\n",
          "y"),
    "y", NULL, "tile" },
  { "private-concat-form", "no-interleave",
    MAIN ("tensor<fp16, [1, 4, 1, 32]> x",
          "    tensor<fp16, [1, 8, 1, 32]> y = concat(values = (x, x), axis = int32(1));\n", "y"),
    MAIN ("tensor<fp16, [1, 4, 1, 32]> x",
          "    tensor<fp16, [1, 8, 1, 32]> y = concat(values = (x, x), axis = int32(1), interleave = bool(false));\n",
          "y"),
    "y", NULL, "interleave" },
  { "private-layer-norm-eps", "fp32-epsilon",
    MAIN ("tensor<fp16, [1, 8, 64]> x",
          BLOB ("tensor<fp16, [64]>", "gamma") BLOB ("tensor<fp16, [64]>", "beta")
          "    tensor<fp16, [1, 8, 64]> y = layer_norm(x = x, axes = tensor<int32, [1]>([-1]), gamma = gamma, "
          "beta = beta, epsilon = fp32(0x1.4f8b58p-17));\n", "y"),
    MAIN ("tensor<fp16, [1, 8, 64]> x",
          BLOB ("tensor<fp16, [64]>", "gamma") BLOB ("tensor<fp16, [64]>", "beta")
          "    tensor<fp16, [1, 8, 64]> y = layer_norm(x = x, axes = tensor<int32, [1]>([-1]), gamma = gamma, "
          "beta = beta, epsilon = fp16(0x1.4f8p-17));\n", "y"),
    "y", NULL, "gamma" },
  { "private-dynamic-weight", "conv",
    MAIN ("tensor<fp16, [1, 8, 1, 32]> x, tensor<fp16, [8, 8, 1, 1]> w",
          "    tensor<fp16, [1, 8, 1, 32]> y = conv(x = x, weight = w);\n", "y"),
    MAIN ("tensor<fp16, [1, 8, 1, 32]> x",
          BLOB ("tensor<fp16, [8, 8, 1, 1]>", "w")
          "    tensor<fp16, [1, 8, 1, 32]> y = conv(x = x, weight = w);\n", "y"),
    "y", NULL, "'w'", "conv-dynamic-weight" },
};

static char *
case_text (const RuleCase *c,
           gboolean        fires)
{
  if (fires)
    return c->make_fires != NULL ? c->make_fires () : g_strdup (c->fires);
  return c->make_clean != NULL ? c->make_clean () : g_strdup (c->clean);
}

/* The rules in also, and rule, are exactly the rules that fired on op. */
static void
assert_op_rules (AneLintReport  *report,
                 guint           op,
                 const RuleCase *c)
{
  const char * const *fired = ane_lint_report_get_op_rules (report, op);
  g_auto(GStrv) also = g_strsplit (c->also != NULL ? c->also : "", " ", -1);
  AneLintVerdict worst = ANE_LINT_VERDICT_ANE;
  guint n_also = 0;

  g_assert_nonnull (fired);
  g_assert_true (g_strv_contains (fired, c->rule));
  for (guint i = 0; also[i] != NULL; i++)
    if (also[i][0] != '\0')
      {
        if (!g_strv_contains (fired, also[i]))
          g_error ("%s: expected %s to fire beside it on '%s'", c->rule, also[i], c->op);
        n_also++;
      }
  for (guint i = 0; fired[i] != NULL; i++)
    {
      AneLintRule *r = ane_lint_rule_lookup (fired[i]);

      g_assert_nonnull (r);
      worst = MAX (worst, verdict_of (ane_lint_rule_get_severity (r)));
    }
  if (g_strv_length ((char **) fired) != n_also + 1)
    {
      g_autofree char *list = g_strjoinv (" ", (char **) fired);

      g_error ("%s: the op '%s' fired [%s]; the case expects %s and [%s] only", c->rule, c->op, list, c->rule,
               c->also != NULL ? c->also : "");
    }
  g_assert_cmpint (ane_lint_report_get_op_verdict (report, op), ==, worst);
}

static void
test_rule_case (gconstpointer data)
{
  const RuleCase *c = data;
  AneLintRule *rule = ane_lint_rule_lookup (c->rule);
  gboolean private = FALSE;
  AneLintFlags flags;
  const char *function = c->function != NULL ? c->function : "main";
  g_autofree char *fires = NULL, *clean = NULL;
  g_autoptr(AneLintReport) report = NULL;
  g_autoptr(AneLintReport) near = NULL;
  int op = -1;
  guint found = 0;

  g_assert_nonnull (rule);
  private = ane_lint_rule_get_severity (rule) == ANE_LINT_SEVERITY_REFUSED_PRIVATE;
  flags = private ? ANE_LINT_PRIVATE : ANE_LINT_NONE;
  fires = case_text (c, TRUE);
  clean = case_text (c, FALSE);

  /* it fires, once, where the case says */
  report = lint_text (fires, flags);
  if (g_test_verbose ())
    {
      g_autofree char *text = ane_lint_report_to_string (report);

      g_test_message ("%s/%s fires:\n%s", c->rule, c->label, text);
    }
  if (ane_lint_report_count_rule (report, c->rule) != 1)
    {
      g_autofree char *text = ane_lint_report_to_string (report);

      g_error ("%s/%s fired %u times (expected once):\n%s", c->rule, c->label,
               ane_lint_report_count_rule (report, c->rule), text);
    }
  if (c->op != NULL)
    {
      op = find_op (report, c->op);
      g_assert_cmpint (op, >=, 0);
      g_assert_cmpstr (ane_lint_report_get_op_function (report, op), ==, function);
      assert_op_rules (report, (guint) op, c);
      g_assert_cmpint (ane_lint_report_get_op_verdict (report, op), >=,
                       verdict_of (ane_lint_rule_get_severity (rule)));
      if (c->also == NULL)
        g_assert_cmpint (ane_lint_report_get_op_verdict (report, op), ==,
                         verdict_of (ane_lint_rule_get_severity (rule)));
      g_assert_nonnull (strstr (ane_lint_report_get_op_message (report, op), c->names));
    }
  for (guint i = 0; i < ane_lint_report_get_n_findings (report); i++)
    {
      const char *message;

      if (g_strcmp0 (ane_lint_report_get_finding_rule (report, i), c->rule) != 0)
        continue;
      found++;
      message = ane_lint_report_get_finding_message (report, i);
      g_assert_cmpstr (ane_lint_report_get_finding_function (report, i), ==, function);
      g_assert_cmpint (ane_lint_report_get_finding_op (report, i), ==, op);
      g_assert_nonnull (message);
      g_assert_cmpuint (strlen (message), >, 0);
      if (strstr (message, c->names) == NULL)
        g_error ("%s/%s: the message \"%s\" does not name \"%s\"", c->rule, c->label, message, c->names);
    }
  g_assert_cmpuint (found, ==, 1);
  if (c->op == NULL)
    {
      /* a program rule: the whole package's verdict */
      g_assert_cmpint (ane_lint_report_get_verdict (report), >=, verdict_of (ane_lint_rule_get_severity (rule)));
    }

  /* the near miss does not fire it */
  near = lint_text (clean, flags);
  if (g_test_verbose ())
    {
      g_autofree char *text = ane_lint_report_to_string (near);

      g_test_message ("%s/%s near miss:\n%s", c->rule, c->label, text);
    }
  if (ane_lint_report_count_rule (near, c->rule) != 0)
    {
      g_autofree char *text = ane_lint_report_to_string (near);

      g_error ("%s/%s: the near miss fired it:\n%s", c->rule, c->label, text);
    }

  /* the private path's rules need ANE_LINT_PRIVATE */
  if (private)
    {
      g_autoptr(AneLintReport) core_ml = lint_text (fires, ANE_LINT_NONE);

      g_assert_cmpuint (ane_lint_report_count_rule (core_ml, c->rule), ==, 0);
      g_assert_cmpuint (ane_lint_report_count_ops (core_ml, NULL, ANE_LINT_VERDICT_REFUSED_PRIVATE), ==, 0);
    }
}

/* ---------------------------------------------------------------------- */
/* the table                                                              */
/* ---------------------------------------------------------------------- */

/* Every rule has a case here (a rule added without one fails), and says
 * what it checks, why, and where that was read. */
static void
test_every_rule_tested (void)
{
  g_auto(GStrv) ids = ane_lint_rule_list ();
  guint n_rules = 0;
  const AneLintRule *table = ane_lint_rules_get (&n_rules);

  g_assert_nonnull (ids);
  g_assert_cmpuint (g_strv_length (ids), ==, n_rules);
  g_assert_cmpuint (n_rules, >=, 40);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      AneLintRule *rule = ane_lint_rule_lookup (ids[i]);
      const char *source;
      gboolean tested = FALSE;

      g_assert_nonnull (rule);
      g_assert_true (rule == &table[i]);
      g_assert_cmpstr (ane_lint_rule_get_id (rule), ==, ids[i]);
      for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
        tested |= strcmp (cases[k].rule, ids[i]) == 0;
      if (!tested)
        g_error ("rule %s has no case in test-lint-rules.c", ids[i]);

      g_assert_cmpuint (strlen (ane_lint_rule_get_check (rule)), >, 0);
      g_assert_cmpuint (strlen (ane_lint_rule_get_reason (rule)), >, 0);
      source = ane_lint_rule_get_source (rule);
      g_assert_cmpuint (strlen (source), >, 0);
      if (strchr (source, ':') == NULL && strchr (source, '#') == NULL)
        g_error ("rule %s cites no file with a line nor an issue: %s", ids[i], source);
      /* the scope says which check it has */
      if (ane_lint_rule_get_scope (rule) == ANE_LINT_SCOPE_PROGRAM)
        g_assert_true (table[i].check_function != NULL && table[i].check_op == NULL);
      else
        g_assert_true (table[i].check_op != NULL && table[i].check_function == NULL);
      /* the private path's rules say so in their id */
      g_assert_cmpint (g_str_has_prefix (ids[i], "private-"), ==,
                       ane_lint_rule_get_severity (rule) == ANE_LINT_SEVERITY_REFUSED_PRIVATE);
      for (guint k = 0; k < i; k++)
        g_assert_cmpstr (ids[k], !=, ids[i]);
    }
  /* and no case names a rule that is not in the table */
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    g_assert_nonnull (ane_lint_rule_lookup (cases[k].rule));
}

static void
test_rule_api (void)
{
  AneLintRule *rule = ane_lint_rule_lookup ("op-gather");
  g_autofree char *text = NULL;

  g_assert_null (ane_lint_rule_lookup ("no-such-rule"));
  g_assert_null (ane_lint_rule_lookup (""));
  g_assert_nonnull (rule);
  g_assert_cmpint (ane_lint_rule_get_scope (rule), ==, ANE_LINT_SCOPE_OP);
  g_assert_cmpint (ane_lint_rule_get_severity (rule), ==, ANE_LINT_SEVERITY_FALLS_BACK);
  text = ane_lint_rule_to_string (rule);
  g_assert_nonnull (strstr (text, "op-gather"));
  g_assert_nonnull (strstr (text, ane_lint_rule_get_source (rule)));
  g_assert_cmpstr (ane_lint_verdict_to_string (ANE_LINT_VERDICT_FALLS_BACK), ==, "falls-back");
  g_assert_cmpstr (ane_lint_verdict_to_string (ANE_LINT_VERDICT_ANE_SLOW), ==, "ane-slow");
}

/* ---------------------------------------------------------------------- */
/* the report                                                             */
/* ---------------------------------------------------------------------- */

/* A 1x1 conv (stays), a transpose into the last axis (slow) and a gather
 * (falls back), with costs worked out by hand. */
static const char report_program[] =
  MAIN ("tensor<fp16, [1, 8, 1, 16]> x, tensor<fp16, [10, 16]> table",
        BLOB ("tensor<fp16, [16, 8, 1, 1]>", "W")
        "    tensor<int32, [4]> idx = const()[name = string(\"idx\"), val = tensor<int32, [4]>([0, 1, 2, 3])];\n"
        "    tensor<fp16, [1, 16, 1, 16]> h = conv(x = x, weight = W);\n"
        "    tensor<fp16, [1, 16, 1, 16]> t = transpose(x = h, perm = tensor<int32, [4]>([0, 3, 2, 1]));\n"
        "    tensor<fp16, [4, 16]> e = gather(x = table, indices = idx, axis = int32(0));\n",
        "t, e");

/* conv: 2 x 256 outputs x (8 x 1 x 1) taps; transpose and gather: one per
 * element moved */
#define COST_CONV      (2.0 * 256 * 8)
#define COST_TRANSPOSE 256.0
#define COST_GATHER    64.0
/* W: 16 x 8 fp16; idx: 4 int32 */
#define WEIGHT_BYTES   (16 * 8 * 2 + 4 * 4)

static void
test_report_counts (void)
{
  g_autoptr(AneLintReport) report = lint_text (report_program, ANE_LINT_NONE);
  g_auto(GStrv) functions = ane_lint_report_list_functions (report);
  double share = (COST_CONV + COST_TRANSPOSE) / (COST_CONV + COST_TRANSPOSE + COST_GATHER);
  int conv, transpose, gather;

  g_assert_cmpuint (g_strv_length (functions), ==, 1);
  g_assert_cmpstr (functions[0], ==, "main");
  g_assert_cmpint (ane_lint_report_get_flags (report), ==, ANE_LINT_NONE);
  /* consts are weights, not ops */
  g_assert_cmpuint (ane_lint_report_get_n_ops (report), ==, 3);
  conv = find_op (report, "h");
  transpose = find_op (report, "t");
  gather = find_op (report, "e");
  g_assert_cmpint (conv, ==, 0);
  g_assert_cmpint (transpose, ==, 1);
  g_assert_cmpint (gather, ==, 2);
  g_assert_cmpstr (ane_lint_report_get_op_type (report, conv), ==, "conv");
  g_assert_cmpstr (ane_lint_report_get_op_type (report, gather), ==, "gather");
  g_assert_cmpint (ane_lint_report_get_op_verdict (report, conv), ==, ANE_LINT_VERDICT_ANE);
  g_assert_cmpint (ane_lint_report_get_op_verdict (report, transpose), ==, ANE_LINT_VERDICT_ANE_SLOW);
  g_assert_cmpint (ane_lint_report_get_op_verdict (report, gather), ==, ANE_LINT_VERDICT_FALLS_BACK);
  g_assert_null (ane_lint_report_get_op_rules (report, conv)[0]);
  g_assert_cmpstr (ane_lint_report_get_op_message (report, conv), ==, "");
  g_assert_cmpfloat (ane_lint_report_get_op_cost (report, conv), ==, COST_CONV);
  g_assert_cmpfloat (ane_lint_report_get_op_cost (report, transpose), ==, COST_TRANSPOSE);
  g_assert_cmpfloat (ane_lint_report_get_op_cost (report, gather), ==, COST_GATHER);

  for (const char *fn = NULL;; fn = "main")
    {
      g_assert_cmpuint (ane_lint_report_count_ops (report, fn, ANE_LINT_VERDICT_ANE), ==, 1);
      g_assert_cmpuint (ane_lint_report_count_ops (report, fn, ANE_LINT_VERDICT_ANE_SLOW), ==, 1);
      g_assert_cmpuint (ane_lint_report_count_ops (report, fn, ANE_LINT_VERDICT_FALLS_BACK), ==, 1);
      g_assert_cmpuint (ane_lint_report_count_ops (report, fn, ANE_LINT_VERDICT_REFUSED_PRIVATE), ==, 0);
      g_assert_cmpfloat_with_epsilon (ane_lint_report_get_ane_cost_share (report, fn), share, 1e-12);
      g_assert_cmpuint (ane_lint_report_get_weight_bytes (report, fn), ==, WEIGHT_BYTES);
      if (fn != NULL)
        break;
    }
  g_assert_cmpuint (ane_lint_report_count_ops (report, "other", ANE_LINT_VERDICT_ANE), ==, 0);
  g_assert_cmpuint (ane_lint_report_get_weight_bytes (report, "other"), ==, 0);
  g_assert_cmpfloat (ane_lint_report_get_ane_cost_share (report, "other"), ==, 1.0);
  g_assert_cmpuint (ane_lint_report_get_weight_budget (report), ==, ane_lint_weight_budget ());
  g_assert_cmpint (ane_lint_report_get_verdict (report), ==, ANE_LINT_VERDICT_FALLS_BACK);
  g_assert_cmpuint (ane_lint_report_get_n_findings (report), ==, 2);
  g_assert_cmpuint (ane_lint_report_count_rule (report, "op-gather"), ==, 1);
  g_assert_cmpuint (ane_lint_report_count_rule (report, "transpose-last-axis"), ==, 1);
}

static void
test_report_text (void)
{
  g_autoptr(AneLintReport) report = lint_text (report_program, ANE_LINT_NONE);
  double share = (COST_CONV + COST_TRANSPOSE) / (COST_CONV + COST_TRANSPOSE + COST_GATHER);
  g_autofree char *summary = ane_lint_report_get_summary (report);
  g_autofree char *text = ane_lint_report_to_string (report);
  g_autofree char *head = g_strdup_printf ("2 of 3 ops stay on the ANE (%.1f%% of the estimated cost), "
                                           "1 of them slowly; 1 fall back (gather); weights ",
                                           floor (1000.0 * share) / 10.0);

  g_assert_nonnull (summary);
  g_assert_true (g_str_has_prefix (summary, head));
  g_assert_nonnull (strstr (summary, " budget"));
  g_assert_null (strchr (summary, '\n'));

  g_assert_true (g_str_has_prefix (text, "function main\n"));
  g_assert_nonnull (strstr (text, "op-gather"));
  g_assert_nonnull (strstr (text, "transpose-last-axis"));
  g_assert_nonnull (strstr (text, summary));
  /* ops on which nothing fired are counted, not listed */
  g_assert_null (strstr (text, " conv "));
}

static JsonObject *
member_object (JsonArray *array,
               guint      i)
{
  return json_node_get_object (json_array_get_element (array, i));
}

static void
test_report_json (void)
{
  g_autoptr(AneLintReport) report = lint_text (report_program, ANE_LINT_NONE);
  g_autofree char *json = ane_lint_report_to_json (report);
  g_autofree char *summary = ane_lint_report_get_summary (report);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  static const char *const top_keys[] = { "verdict", "summary", "private", "weight_budget", "functions", "ops",
                                          "rules" };
  static const char *const fn_keys[] = { "name", "ops", "ops_ane", "ops_ane_slow", "ops_falls_back",
                                         "ops_refused_private", "ane_cost_share", "weight_bytes", "summary",
                                         "findings" };
  static const char *const op_keys[] = { "function", "index", "type", "name", "verdict", "cost", "rules",
                                         "message" };
  static const char *const rule_keys[] = { "id", "severity", "reason", "source" };
  JsonObject *root, *fn, *op;
  JsonArray *functions, *ops, *rules;

  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_nonnull (root);
  for (guint i = 0; i < G_N_ELEMENTS (top_keys); i++)
    if (!json_object_has_member (root, top_keys[i]))
      g_error ("the JSON report has no \"%s\":\n%s", top_keys[i], json);
  g_assert_cmpstr (json_object_get_string_member (root, "verdict"), ==, "falls-back");
  g_assert_cmpstr (json_object_get_string_member (root, "summary"), ==, summary);
  g_assert_false (json_object_get_boolean_member (root, "private"));
  g_assert_cmpint (json_object_get_int_member (root, "weight_budget"), ==, (gint64) ane_lint_weight_budget ());

  functions = json_object_get_array_member (root, "functions");
  g_assert_cmpuint (json_array_get_length (functions), ==, 1);
  fn = member_object (functions, 0);
  for (guint i = 0; i < G_N_ELEMENTS (fn_keys); i++)
    if (!json_object_has_member (fn, fn_keys[i]))
      g_error ("a JSON function has no \"%s\":\n%s", fn_keys[i], json);
  g_assert_cmpstr (json_object_get_string_member (fn, "name"), ==, "main");
  g_assert_cmpint (json_object_get_int_member (fn, "ops"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (fn, "ops_ane"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (fn, "ops_ane_slow"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (fn, "ops_falls_back"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (fn, "ops_refused_private"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (fn, "weight_bytes"), ==, WEIGHT_BYTES);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (fn, "ane_cost_share"),
                                  ane_lint_report_get_ane_cost_share (report, "main"), 1e-9);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (fn, "findings")), ==, 0);

  ops = json_object_get_array_member (root, "ops");
  g_assert_cmpuint (json_array_get_length (ops), ==, 3);
  for (guint k = 0; k < 3; k++)
    for (guint i = 0; i < G_N_ELEMENTS (op_keys); i++)
      if (!json_object_has_member (member_object (ops, k), op_keys[i]))
        g_error ("a JSON op has no \"%s\":\n%s", op_keys[i], json);
  op = member_object (ops, 2);
  g_assert_cmpstr (json_object_get_string_member (op, "type"), ==, "gather");
  g_assert_cmpstr (json_object_get_string_member (op, "name"), ==, "e");
  g_assert_cmpstr (json_object_get_string_member (op, "verdict"), ==, "falls-back");
  g_assert_cmpint (json_object_get_int_member (op, "index"), ==, 2);
  g_assert_cmpfloat (json_object_get_double_member (op, "cost"), ==, COST_GATHER);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (op, "rules"), 0), ==,
                   "op-gather");
  g_assert_cmpstr (json_object_get_string_member (member_object (ops, 1), "verdict"), ==, "ane-slow");

  rules = json_object_get_array_member (root, "rules");
  g_assert_cmpuint (json_array_get_length (rules), ==, 2);
  for (guint k = 0; k < 2; k++)
    for (guint i = 0; i < G_N_ELEMENTS (rule_keys); i++)
      if (!json_object_has_member (member_object (rules, k), rule_keys[i]))
        g_error ("a JSON rule has no \"%s\":\n%s", rule_keys[i], json);
}

/* A program rule that fired shows in the summary and in the function's
 * JSON findings, and sets the package's verdict. */
static void
test_report_program_findings (void)
{
  g_autoptr(AneLintReport) report =
    lint_text (MAIN ("tensor<fp16, [1, 64]> x", BLOB ("tensor<fp16, [17000000]>", "W")
                     "    tensor<fp16, [1, 64]> y = relu(x = x);\n", "y"), ANE_LINT_NONE);
  g_autofree char *summary = ane_lint_report_get_summary (report);
  g_autofree char *json = ane_lint_report_to_json (report);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *fn;
  JsonArray *findings;

  g_assert_cmpuint (ane_lint_report_get_weight_bytes (report, NULL), ==, 34000000);
  g_assert_cmpint (ane_lint_report_get_verdict (report), ==, ANE_LINT_VERDICT_ANE_SLOW);
  g_assert_cmpuint (ane_lint_report_count_ops (report, NULL, ANE_LINT_VERDICT_ANE), ==, 1);
  g_assert_nonnull (strstr (summary, "weights-over-sram"));
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  fn = json_node_get_object (json_array_get_element (
         json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "functions"), 0));
  findings = json_object_get_array_member (fn, "findings");
  g_assert_cmpuint (json_array_get_length (findings), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (findings, 0), "rule"), ==,
                   "weights-over-sram");
}

/* Two functions: per-function figures, the largest function's weights. */
static void
test_report_functions (void)
{
  g_autoptr(AneLintReport) report =
    lint_text ("program(1.3)\n{\n"
               "  func a<ios18>(tensor<fp16, [8, 64]> x) {\n"
               "    tensor<int32, [2]> idx = const()[name = string(\"idx\"), val = tensor<int32, [2]>([0, 3])];\n"
               "    tensor<fp16, [2, 64]> y = gather(x = x, indices = idx, axis = int32(0));\n"
               "  } -> (y);\n"
               "  func b<ios18>(tensor<fp16, [1, 64]> x) {\n"
               BLOB ("tensor<fp16, [1000]>", "W")
               "    tensor<fp16, [1, 64]> y = relu(x = x);\n"
               "  } -> (y);\n"
               "}\n", ANE_LINT_PRIVATE);
  g_auto(GStrv) functions = ane_lint_report_list_functions (report);
  g_autofree char *text = ane_lint_report_to_string (report);

  g_assert_cmpuint (g_strv_length (functions), ==, 2);
  g_assert_cmpstr (functions[0], ==, "a");
  g_assert_cmpstr (functions[1], ==, "b");
  g_assert_cmpint (ane_lint_report_get_flags (report), ==, ANE_LINT_PRIVATE);
  g_assert_cmpuint (ane_lint_report_get_weight_bytes (report, "a"), ==, 8);
  g_assert_cmpuint (ane_lint_report_get_weight_bytes (report, "b"), ==, 2000);
  g_assert_cmpuint (ane_lint_report_get_weight_bytes (report, NULL), ==, 2000);
  g_assert_cmpfloat (ane_lint_report_get_ane_cost_share (report, "a"), ==, 0.0);
  g_assert_cmpfloat (ane_lint_report_get_ane_cost_share (report, "b"), ==, 1.0);
  g_assert_cmpuint (ane_lint_report_count_ops (report, "a", ANE_LINT_VERDICT_FALLS_BACK), ==, 1);
  g_assert_cmpuint (ane_lint_report_count_ops (report, "b", ANE_LINT_VERDICT_FALLS_BACK), ==, 0);
  /* private-io-layout on both (rank-2 interfaces) */
  g_assert_cmpuint (ane_lint_report_count_rule (report, "private-io-layout"), ==, 2);
  g_assert_cmpint (ane_lint_report_get_verdict (report), ==, ANE_LINT_VERDICT_REFUSED_PRIVATE);
  g_assert_nonnull (strstr (text, "function a\n"));
  g_assert_nonnull (strstr (text, "function b\n"));
  g_assert_nonnull (strstr (text, "package: "));
}

/* ---------------------------------------------------------------------- */
/* errors                                                                 */
/* ---------------------------------------------------------------------- */

static void
test_error_no_functions (void)
{
  g_autoptr(AneMilProgram) program = g_new0 (AneMilProgram, 1);
  g_autoptr(GError) error = NULL;
  AneLintReport *report;

  core_ml__specification__milspec__program__init (program);
  report = ane_lint_program (program, ANE_LINT_NONE, &error);
  g_assert_null (report);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  report = ane_lint_program (NULL, ANE_LINT_NONE, &error);
  g_assert_null (report);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
}

static void
test_error_unknown_opset (void)
{
  g_autoptr(AneMilProgram) program =
    parse (MAIN ("tensor<fp16, [1, 64]> x", "    tensor<fp16, [1, 64]> y = relu(x = x);\n", "y"));
  CoreML__Specification__MILSpec__Function *fn = program->functions[0]->value;
  CoreML__Specification__MILSpec__Program__FunctionsEntry *e = program->functions[0];
  g_autoptr(GError) error = NULL;
  AneLintReport *report;

  g_assert_cmpstr (e->key, ==, "main");
  /* an opset past the ones the lint knows, with its block */
  free (fn->opset);
  fn->opset = strdup ("CoreML99");
  free (fn->block_specializations[0]->key);
  fn->block_specializations[0]->key = strdup ("CoreML99");
  report = ane_lint_program (program, ANE_LINT_NONE, &error);
  g_assert_null (report);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "CoreML99"));
  g_assert_nonnull (strstr (error->message, "main"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ane/lint/rule/%s/%s", cases[i].rule, cases[i].label);

      g_test_add_data_func (path, &cases[i], test_rule_case);
    }
  g_test_add_func ("/ane/lint/rules/every-rule-tested", test_every_rule_tested);
  g_test_add_func ("/ane/lint/rules/api", test_rule_api);
  g_test_add_func ("/ane/lint/report/counts", test_report_counts);
  g_test_add_func ("/ane/lint/report/text", test_report_text);
  g_test_add_func ("/ane/lint/report/json", test_report_json);
  g_test_add_func ("/ane/lint/report/program-findings", test_report_program_findings);
  g_test_add_func ("/ane/lint/report/functions", test_report_functions);
  g_test_add_func ("/ane/lint/error/no-functions", test_error_no_functions);
  g_test_add_func ("/ane/lint/error/unknown-opset", test_error_unknown_opset);

  return g_test_run ();
}
