/* test-lint-calibration.c: the ANE lint against placements measured on Macs
 *
 * Each case rebuilds, as small MIL, a program whose placement someone
 * measured on Apple hardware and published (Core ML's MLComputePlan, Xcode's
 * performance report, a failed compile), and checks that the lint's verdict
 * on each op agrees with what was measured. The source of every case is
 * named beside it; docs/ane-lint.md lists them. A case the lint gets wrong
 * is a rule to fix, not a case to drop.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-glib.h"
#include "ane-test-util.h"
#include "lint/ane-lint-private.h"
#include "mil/ane-mil-text-private.h"
#include "ane-lower-test-util.h"

#define W(type, off) "BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64(" #off "))"

typedef struct {
  const char *op;        /* an op's name */
  AneLintVerdict verdict;
} Expect;

typedef struct {
  const char   *name;
  const char   *source;   /* who measured it, where */
  const char   *mil;
  Expect        expect[8];
} Case;

static const Case cases[] = {
  { "rmsnorm-conv",
    "0seba/VoxCPMANE#15: MLComputePlan on an M5 Max, a TTS decoder's RMSNorm (mul, reduce_mean, add, "
    "rsqrt, mul) and 1x1 convs preferred on the Neural Engine",
    "program(1.3)\n{\n  func main<ios18>(tensor<fp16, [1, 256, 1, 64]> x) {\n"
    "    tensor<fp16, [1, 256, 1, 64]> sq = mul(x = x, y = x)[name = string(\"sq\")];\n"
    "    tensor<fp16, [1, 1, 1, 64]> ms = reduce_mean(x = sq, axes = tensor<int32, [1]>([1]), keep_dims = bool(true))[name = string(\"ms\")];\n"
    "    tensor<fp16, [1, 1, 1, 64]> mse = add(x = ms, y = fp16(0x1p-14))[name = string(\"mse\")];\n"
    "    tensor<fp16, [1, 1, 1, 64]> inv = rsqrt(x = mse, epsilon = fp16(0x0p+0))[name = string(\"inv\")];\n"
    "    tensor<fp16, [1, 256, 1, 64]> nx = mul(x = x, y = inv)[name = string(\"nx\")];\n"
    "    tensor<fp16, [256, 256, 1, 1]> w = const()[name = string(\"w\"), val = tensor<fp16, [256, 256, 1, 1]>(" W (fp16, 64) ")];\n"
    "    tensor<fp16, [1, 256, 1, 64]> h = conv(x = nx, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string(\"valid\"), "
    "pad = tensor<int32, [4]>([0, 0, 0, 0]), dilations = tensor<int32, [2]>([1, 1]), groups = int32(1))[name = string(\"proj\")];\n"
    "    tensor<fp16, [1, 256, 1, 64]> y = add(x = h, y = x)[name = string(\"y\")];\n"
    "  } -> (y);\n}\n",
    { { "sq", ANE_LINT_VERDICT_ANE }, { "ms", ANE_LINT_VERDICT_ANE }, { "mse", ANE_LINT_VERDICT_ANE },
      { "inv", ANE_LINT_VERDICT_ANE }, { "nx", ANE_LINT_VERDICT_ANE }, { "proj", ANE_LINT_VERDICT_ANE },
      { "y", ANE_LINT_VERDICT_ANE } } },
  { "fp32-tiny-matmul",
    "vx-lang/Vx#436: MLComputePlan, an fp32 4x4 matmul and its casts preferred on the CPU, "
    "even with CPU_AND_NE",
    "program(1.3)\n{\n  func main<ios18>(tensor<fp32, [4, 4]> a, tensor<fp32, [4, 4]> b) {\n"
    "    tensor<fp32, [4, 4]> c = matmul(x = a, y = b, transpose_x = bool(false), transpose_y = bool(false))[name = string(\"mm\")];\n"
    "  } -> (c);\n}\n",
    { { "mm", ANE_LINT_VERDICT_FALLS_BACK } } },
  { "fp16-matmul",
    "vx-lang/Vx#436 (follow-up): MLComputePlan, fp16 512x512 matmuls preferred on the Neural Engine",
    "program(1.3)\n{\n  func main<ios18>(tensor<fp16, [512, 512]> a, tensor<fp16, [512, 512]> b) {\n"
    "    tensor<fp16, [512, 512]> c = matmul(x = a, y = b, transpose_x = bool(false), transpose_y = bool(false))[name = string(\"mm\")];\n"
    "  } -> (c);\n}\n",
    { { "mm", ANE_LINT_VERDICT_ANE } } },
  { "int4-k-grouped-conv",
    "cadamcat/llms-on-apple-neural-engine findings/coreml-grouped-scale-cpu/README.md:13, :27: an ios18 "
    "conv with two K32 int4 scales per output row: MLComputePlan supports the CPU only (\"ANE only support "
    "per-cout/per-tensor quantization\")",
    "program(1.3)\n{\n  func main<ios18>(tensor<fp16, [1, 64, 1, 64]> x) {\n"
    "    tensor<fp16, [64, 64, 1, 1]> w = constexpr_blockwise_shift_scale(data = tensor<int4, [64, 64, 1, 1]>(" W (int4, 64) "), "
    "scale = tensor<fp16, [64, 2, 1, 1]>(" W (fp16, 2176) "))[name = string(\"w\")];\n"
    "    tensor<fp16, [1, 64, 1, 64]> y = conv(x = x, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string(\"valid\"), "
    "pad = tensor<int32, [4]>([0, 0, 0, 0]), dilations = tensor<int32, [2]>([1, 1]), groups = int32(1))[name = string(\"conv\")];\n"
    "  } -> (y);\n}\n",
    { { "conv", ANE_LINT_VERDICT_FALLS_BACK } } },
  { "int4-per-cout-conv",
    "cadamcat/llms-on-apple-neural-engine findings/coreml-grouped-scale-cpu/README.md:14: the same conv "
    "split to one scale per output channel: MLComputePlan supports the Neural Engine",
    "program(1.3)\n{\n  func main<ios18>(tensor<fp16, [1, 64, 1, 64]> x) {\n"
    "    tensor<fp16, [64, 64, 1, 1]> w = constexpr_blockwise_shift_scale(data = tensor<int4, [64, 64, 1, 1]>(" W (int4, 64) "), "
    "scale = tensor<fp16, [64, 1, 1, 1]>(" W (fp16, 2176) "))[name = string(\"w\")];\n"
    "    tensor<fp16, [1, 64, 1, 64]> y = conv(x = x, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string(\"valid\"), "
    "pad = tensor<int32, [4]>([0, 0, 0, 0]), dilations = tensor<int32, [2]>([1, 1]), groups = int32(1))[name = string(\"conv\")];\n"
    "  } -> (y);\n}\n",
    { { "conv", ANE_LINT_VERDICT_ANE } } },
  { "int-cast-select",
    "Anemll anemll/utils/ANE_PROFILER.md:43-55, :161-169 (zkh2016/Anemll): MLComputePlan of an LLM, the "
    "cast of current_pos to int16 and a select placed on the GPU, comparisons among the usual fallbacks",
    "program(1.3)\n{\n  func main<ios18>(tensor<int32, [1]> current_pos, tensor<fp16, [1, 64]> x) {\n"
    "    tensor<int16, [1]> p16 = cast(x = current_pos, dtype = string(\"int16\"))[name = string(\"current_pos_to_int16\")];\n"
    "    tensor<bool, [1]> ok = greater_equal(x = p16, y = int16(0))[name = string(\"ok\")];\n"
    "    tensor<fp16, [1, 64]> y = select(cond = ok, a = x, b = fp16(0x0p+0))[name = string(\"sel\")];\n"
    "  } -> (y);\n}\n",
    { { "current_pos_to_int16", ANE_LINT_VERDICT_FALLS_BACK }, { "ok", ANE_LINT_VERDICT_FALLS_BACK },
      { "sel", ANE_LINT_VERDICT_FALLS_BACK } } },
  { "embedding-then-conv",
    "apple/ml-ane-transformers README.md:89: in Apple's ANE DistilBERT 4 of 606 ops run on the CPU, the "
    "embedding lookups; the 1x1 convs of the layers stay on the Neural Engine",
    "program(1.3)\n{\n  func main<ios18>(tensor<int32, [1, 128]> ids) {\n"
    "    tensor<fp16, [512, 64]> table = const()[name = string(\"table\"), val = tensor<fp16, [512, 64]>(" W (fp16, 64) ")];\n"
    "    tensor<fp16, [1, 128, 64]> emb = gather(x = table, indices = ids, axis = int32(0), batch_dims = int32(0))[name = string(\"embedding\")];\n"
    "    tensor<fp16, [1, 64, 128]> t = transpose(x = emb, perm = tensor<int32, [3]>([0, 2, 1]))[name = string(\"to_channels\")];\n"
    "    tensor<fp16, [1, 64, 1, 128]> x = expand_dims(x = t, axes = tensor<int32, [1]>([2]))[name = string(\"bc1s\")];\n"
    "    tensor<fp16, [64, 64, 1, 1]> w = const()[name = string(\"w\"), val = tensor<fp16, [64, 64, 1, 1]>(" W (fp16, 65600) ")];\n"
    "    tensor<fp16, [1, 64, 1, 128]> y = conv(x = x, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string(\"valid\"), "
    "pad = tensor<int32, [4]>([0, 0, 0, 0]), dilations = tensor<int32, [2]>([1, 1]), groups = int32(1))[name = string(\"q_proj\")];\n"
    "  } -> (y);\n}\n",
    { { "embedding", ANE_LINT_VERDICT_FALLS_BACK }, { "bc1s", ANE_LINT_VERDICT_ANE },
      { "q_proj", ANE_LINT_VERDICT_ANE } } },
  { "fused-sdpa",
    "kasper0406/stablehlo-coreml PR #110: MLComputePlan of a Llama-3.2-1B decode step, fused "
    "scaled_dot_product_attention and every other op on the Neural Engine",
    "program(1.3)\n{\n  func main<ios18>(tensor<fp16, [1, 8, 1, 64]> q, tensor<fp16, [1, 8, 512, 64]> k, tensor<fp16, [1, 8, 512, 64]> v) {\n"
    "    tensor<fp16, [1, 8, 1, 64]> o = scaled_dot_product_attention(query = q, key = k, value = v)[name = string(\"attention\")];\n"
    "  } -> (o);\n}\n",
    { { "attention", ANE_LINT_VERDICT_ANE } } },
  { "range-shape",
    "apple/coremltools#2370: a model with a range-shaped (RangeDim) input measured at 0% on the Neural "
    "Engine; #1764: flexible shapes ran on the CPU only (Xcode performance report)",
    "program(1.3)\n{\n  func main<ios18>(tensor<fp16, [1, 64, 1, ?]> x) {\n"
    "    tensor<fp16, [1, 64, 1, ?]> y = relu(x = x)[name = string(\"relu\")];\n"
    "  } -> (y);\n}\n",
    { { "relu", ANE_LINT_VERDICT_FALLS_BACK } } },
};

/* States: apple/coremltools#2631 (M4, Xcode performance report): a state of
 * width 270 fails on the Neural Engine, 256 runs. */
static const char state_program[] =
  "program(1.3)\n{\n  func main<ios18>(tensor<fp16, [1, %d]> x, state<tensor<fp16, [1, %d]>> s) {\n"
  "    tensor<fp16, [1, %d]> old = read_state(input = s)[name = string(\"old\")];\n"
  "    tensor<fp16, [1, %d]> y = add(x = old, y = x)[name = string(\"y\")];\n"
  "    write_state(input = s, data = y)[name = string(\"write\")];\n"
  "  } -> (y);\n}\n";

static AneLintReport *
lint_text (const char *text,
           const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (text, -1, name, &error);
  AneLintReport *report;

  g_assert_no_error (error);
  report = ane_lint_program (program, ANE_LINT_NONE, &error);
  g_assert_no_error (error);
  return report;
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(AneLintReport) report = lint_text (c->mil, c->name);

  g_test_message ("measured: %s", c->source);
  for (guint e = 0; e < G_N_ELEMENTS (c->expect) && c->expect[e].op != NULL; e++)
    {
      gboolean found = FALSE;

      for (guint i = 0; i < ane_lint_report_get_n_ops (report); i++)
        if (g_str_equal (ane_lint_report_get_op_name (report, i), c->expect[e].op))
          {
            AneLintVerdict v = ane_lint_report_get_op_verdict (report, i);

            found = TRUE;
            if (v != c->expect[e].verdict)
              g_error ("%s: op '%s' is %s by the lint (%s), but was measured %s (%s)", c->name, c->expect[e].op,
                       ane_lint_verdict_to_string (v), ane_lint_report_get_op_message (report, i),
                       ane_lint_verdict_to_string (c->expect[e].verdict), c->source);
          }
      g_assert_true (found);
    }
}

static void
test_state_width (void)
{
  static const int widths[] = { 270, 256 };

  for (guint w = 0; w < G_N_ELEMENTS (widths); w++)
    {
      int n = widths[w];
      g_autofree char *text = g_strdup_printf (state_program, n, n, n, n);
      g_autoptr(AneLintReport) report = lint_text (text, "state");

      g_assert_cmpuint (ane_lint_report_count_rule (report, "state-width"), ==, n == 270 ? 1 : 0);
      g_assert_cmpint (ane_lint_report_get_verdict (report), ==,
                       n == 270 ? ANE_LINT_VERDICT_FALLS_BACK : ANE_LINT_VERDICT_ANE);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/lint/calibration/%s", cases[i].name);

      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/lint/calibration/state-width", test_state_width);
  return g_test_run ();
}
