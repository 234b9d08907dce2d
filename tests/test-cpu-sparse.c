/* test-cpu-sparse.c: pruned weights on the CPU backend (issue 15 item 2,
 * issue 16 item 5): constexpr_sparse_to_dense weights, and the iOS18 joint
 * forms feeding one, kept as their mask and kept values
 * (ANE_CPU_PACKED_SPARSE) and multiplied on them
 *
 * The weights are checked bit for bit against the dense kernel's (the kept
 * value where the mask is set, +0 elsewhere, rounded to fp16 when the op's
 * output is fp16): the portable row reader directly, and every ISA's
 * kernels through products with one-hot activations (one row: the row
 * dots; a few: the row dequantizer and dots; 64 and more: the row
 * dequantizer feeding the GEMM), which are exact. The products of random
 * activations are checked against a double-precision sum of the same
 * weights, |got − want| ≤ 2^-20 · Σ|w·x| (as tests/test-cpu-vec.c),
 * bit-identical for 1 to 4 threads, and a decode row equal to the same row
 * in a batch of a few. Sparsities: none pruned, half, 90%, whole rows
 * pruned, and everything pruned.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-packed.h"
#include "ane-test-util.h"
#include "mil/ane-milblob-private.h"
#include "mil/ane-mil-text-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"
#include "runtime/cpu/ane-cpu-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"

static void
program_free (AneMilProgram *p)
{
  if (p)
    protobuf_c_message_free_unpacked (&p->base, NULL);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneMilProgram, program_free)

/* Whether weight i is kept at sparsity `pruned` (the fraction dropped;
 * 2.0: every other row dropped whole, the rest kept). */
static gboolean
keep_weight (double  pruned,
             gsize   i,
             gsize   cols,
             GRand  *rand)
{
  if (pruned > 1.5)
    return (i / cols) % 2 == 0;
  return g_rand_double (rand) >= pruned;
}

/* --- the kernels against the dense weights ----------------------------------- */

typedef struct {
  gsize    rows, cols;
  gboolean round_fp16;   /* the op's output is fp16 (values kept as halves) */
} Case;

typedef struct {
  AneCpuPacked *p;
  float        *w;       /* the dense kernel's weights [rows, cols] */
  gsize         kept;
} Sparse;

static Sparse
make_sparse (const Case *c,
             double      pruned,
             GRand      *rand)
{
  gsize n = c->rows * c->cols;
  g_autofree guint8 *mask = g_new0 (guint8, (n + 7) / 8);
  g_autofree float *values = g_new (float, n + 1);
  Sparse out = { NULL, g_new (float, n), 0 };

  for (gsize i = 0; i < n; i++)
    {
      /* away from 0, so that no value rounds to −0 (a one-hot product
       * makes +0 of it) */
      float v = (float) g_rand_double_range (rand, 0.01, 2.0) * (g_rand_boolean (rand) ? 1.0f : -1.0f);

      out.w[i] = 0.0f;
      if (!keep_weight (pruned, i, c->cols, rand))
        continue;
      mask[i / 8] |= (guint8) (1u << (i % 8));
      values[out.kept++] = v;
      /* k_constexpr_sparse_to_dense's value, then ane_cpu_value_round's */
      out.w[i] = c->round_fp16 ? ane_test_round_half (v) : v;
    }
  out.p = ane_cpu_packed_new_sparse (c->rows, c->cols, mask, values, out.kept, c->round_fp16);
  return out;
}

static void
check_case (const Case *c,
            double      pruned,
            GRand      *rand)
{
  Sparse sp = make_sparse (c, pruned, rand);
  g_autofree char *what = g_strdup_printf ("sparse %zux%zu, %s pruned%s", c->rows, c->cols,
                                           pruned > 1.5 ? "every other row" : pruned == 0.0 ? "none" : "some",
                                           c->round_fp16 ? ", fp16 output" : "");
  gsize value_bytes = c->round_fp16 ? 2 : 4;

  g_assert_nonnull (sp.p);
  /* the mask (rows padded to 16 bits), the kept values and their slack of
   * 16, a start per row: never a dense copy */
  g_assert_cmpuint (ane_cpu_packed_bytes (sp.p), ==,
                    c->rows * ((c->cols + 15) / 16) * 2 + (sp.kept + 16) * value_bytes + (c->rows + 1) * sizeof (gsize));
  ane_test_packed_check_kernels (sp.p, sp.w, what, rand);
  ane_cpu_packed_free (sp.p);
  g_free (sp.w);
}

static void
test_kernels (void)
{
  static const Case cases[] = {
    /* rows not a multiple of any vector width, whole chunks of 16 and 32 */
    { 37, 256, FALSE },
    /* columns not a multiple of 8 */
    { 12, 77, FALSE },
    { 9, 200, TRUE },
    /* one row (a matvec of one output), odd columns */
    { 1, 45, FALSE },
    { 1, 45, TRUE },
    /* fewer columns than a chunk */
    { 5, 7, TRUE },
    { 4, 116, FALSE },
    { 3, 16, TRUE },
    /* 129 rows: more than a GEMM tile */
    { 129, 40, FALSE },
  };
  static const double sparsities[] = { 0.0, 0.5, 0.9, 2.0 /* every other row */, 1.0 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);

  ane_test_packed_log_isas ("sparse");
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (gsize s = 0; s < G_N_ELEMENTS (sparsities); s++)
      check_case (&cases[i], sparsities[s], rand);
}

/* The packer refuses a mask whose set bits are not the values given. */
static void
test_pack_refuses (void)
{
  static const float v[3] = { 1, 2, 3 };
  static const guint8 mask[1] = { 0x5 };   /* 2 of 4 set */

  g_assert_null (ane_cpu_packed_new_sparse (2, 2, mask, v, 3, FALSE));
  g_assert_null (ane_cpu_packed_new_sparse (2, 2, mask, v, 1, FALSE));
  g_assert_null (ane_cpu_packed_new_sparse (0, 2, mask, v, 2, FALSE));
  {
    AneCpuPacked *p = ane_cpu_packed_new_sparse (2, 2, mask, v, 2, FALSE);

    g_assert_nonnull (p);
    ane_cpu_packed_free (p);
  }
}

/* --- programs: the plan packs constexpr_sparse_to_dense ---------------------- */

typedef enum {
  FORM_IOS16,       /* mask: uint8 bit stream attribute, with shape */
  FORM_IOS18,       /* mask: uint1 of the output's shape */
  FORM_LUT,         /* constexpr_lut_to_sparse (4-bit, a table per row group) → constexpr_sparse_to_dense */
  FORM_QUANT,       /* constexpr_sparse_blockwise_shift_scale (int8, a scale per row) → constexpr_sparse_to_dense */
} Form;

static const char *const form_names[] = { "iOS16", "iOS18", "lut_to_sparse", "sparse_blockwise_shift_scale" };

typedef struct {
  Form          form;
  const char   *dtype;
  double        pruned;
  gsize         m, n, k;
  AneTestReader reader;
} ProgramCase;

static void
append_list_floats (GString     *s,
                    const float *v,
                    gsize        n)
{
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%s%.9g", i ? ", " : "", v[i]);
}

/* Appends weight `name` [n, k] (or [n, k, 1, 1] for a conv) in c's form
 * to s, the dense weights in w; returns how many are kept. */
static gsize
append_sparse_weight (GString           *s,
                      const ProgramCase *c,
                      const char        *name,
                      GRand             *rand,
                      float             *w)
{
  gsize n = c->n * c->k, kept = 0, groups = c->n % 2 == 0 ? 2 : 1;
  gboolean fp16 = g_str_equal (c->dtype, "fp16");
  const char *dims = c->reader == ANE_TEST_READ_CONV ? ", 1, 1" : "";
  g_autofree gboolean *mask = g_new0 (gboolean, n);
  g_autofree float *values = g_new (float, n);
  g_autofree gint32 *q = g_new (gint32, n);
  float lut[2][16], scale[64];

  for (gsize g = 0; g < 2; g++)
    for (gsize e = 0; e < 16; e++)
      lut[g][e] = ane_test_round_half ((float) g_rand_double_range (rand, -1.0, 1.0));
  for (gsize r = 0; r < c->n && r < 64; r++)
    scale[r] = ane_test_round_half ((float) g_rand_double_range (rand, 0.001, 0.02));
  for (gsize i = 0; i < n; i++)
    {
      float v;

      w[i] = 0.0f;
      if (!keep_weight (c->pruned, i, c->k, rand))
        continue;
      mask[i] = TRUE;
      switch (c->form)
        {
        case FORM_LUT:
          q[kept] = g_rand_int_range (rand, 0, 16);
          v = lut[(i / c->k) / (c->n / groups)][q[kept]];
          break;
        case FORM_QUANT:
          q[kept] = g_rand_int_range (rand, -128, 128);
          /* k_constexpr_sparse_blockwise_shift_scale: s · q in double, once rounded */
          v = (float) ((double) scale[i / c->k] * q[kept]);
          break;
        default:
          v = (float) g_rand_double_range (rand, -1.0, 1.0);
          break;
        }
      values[kept++] = v;
      w[i] = fp16 ? ane_test_round_half (v) : v;
    }
  if (c->form == FORM_IOS16)
    {
      gsize n_bytes = (n + 7) / 8;
      g_autofree guint8 *bytes = g_new0 (guint8, n_bytes);

      for (gsize i = 0; i < n; i++)
        if (mask[i])
          bytes[i / 8] |= (guint8) (1u << (i % 8));
      g_string_append_printf (s, "        tensor<%s, [%zu, %zu%s]> %s = constexpr_sparse_to_dense()[mask = "
                              "tensor<uint8, [%zu]>([", c->dtype, c->n, c->k, dims, name, n_bytes);
      for (gsize i = 0; i < n_bytes; i++)
        g_string_append_printf (s, "%s%u", i ? ", " : "", bytes[i]);
      g_string_append_printf (s, "]), name = string(\"%s\"), nonzero_data = tensor<%s, [%zu]>([", name, c->dtype, kept);
      append_list_floats (s, values, kept);
      g_string_append_printf (s, "]), shape = tensor<uint32, [%u]>([%zu, %zu%s])];\n",
                              c->reader == ANE_TEST_READ_CONV ? 4 : 2, c->n, c->k, dims);
      return kept;
    }
  if (c->form == FORM_IOS18)
    {
      g_string_append_printf (s, "        tensor<%s, [%zu, %zu%s]> %s = constexpr_sparse_to_dense(nonzero_data = "
                              "tensor<%s, [%zu]>([", c->dtype, c->n, c->k, dims, name, c->dtype, kept);
      append_list_floats (s, values, kept);
      g_string_append_printf (s, "]), mask = tensor<uint1, [%zu, %zu%s]>([", c->n, c->k, dims);
      for (gsize i = 0; i < n; i++)
        g_string_append_printf (s, "%s%d", i ? ", " : "", mask[i] ? 1 : 0);
      g_string_append_printf (s, "]))[name = string(\"%s\")];\n", name);
      return kept;
    }
  g_string_append_printf (s, "        (tensor<uint1, [%zu, %zu%s]> %s_m, tensor<%s, [%zu]> %s_v) = %s(%s = "
                          "tensor<uint1, [%zu, %zu%s]>([", c->n, c->k, dims, name, c->dtype, kept, name,
                          c->form == FORM_LUT ? "constexpr_lut_to_sparse" : "constexpr_sparse_blockwise_shift_scale",
                          c->form == FORM_LUT ? "indices_mask" : "data_mask", c->n, c->k, dims);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%s%d", i ? ", " : "", mask[i] ? 1 : 0);
  g_string_append_printf (s, "]), %s = tensor<%s, [%zu]>([", c->form == FORM_LUT ? "indices_nonzero_data" : "nonzero_data",
                          c->form == FORM_LUT ? "uint4" : "int8", kept);
  for (gsize i = 0; i < kept; i++)
    g_string_append_printf (s, "%s%d", i ? ", " : "", q[i]);
  if (c->form == FORM_LUT)
    {
      g_string_append_printf (s, "]), lut = tensor<%s, [%zu, 1%s, 16, 1]>([", c->dtype, groups, dims);
      append_list_floats (s, &lut[0][0], groups * 16);
    }
  else
    {
      g_string_append_printf (s, "]), scale = tensor<%s, [%zu, 1%s]>([", c->dtype, c->n, dims);
      append_list_floats (s, scale, c->n);
    }
  g_string_append_printf (s, "]))[name = string(\"%s_j\")];\n", name);
  g_string_append_printf (s, "        tensor<%s, [%zu, %zu%s]> %s = constexpr_sparse_to_dense(nonzero_data = %s_v, "
                          "mask = %s_m)[name = string(\"%s\")];\n", c->dtype, c->n, c->k, dims, name, name, name, name);
  return kept;
}

/* x [m, k] (a conv's: [1, k, 1, m]) → y = x · wᵀ, with weight w also an
 * output when weight_out (then dense: a graph output is never packed). */
static char *
sparse_program (const ProgramCase *c,
                gboolean           weight_out,
                GRand             *rand,
                float             *w,
                gsize             *kept)
{
  GString *s = g_string_new ("program(1.3)\n{\n");
  const char *opset = c->form == FORM_IOS16 ? "ios16" : "ios18";

  if (c->reader == ANE_TEST_READ_CONV)
    g_string_append_printf (s, "    func main<%s>(tensor<%s, [1, %zu, 1, %zu]> x) {\n", opset, c->dtype, c->k, c->m);
  else
    g_string_append_printf (s, "    func main<%s>(tensor<%s, [%zu, %zu]> x) {\n", opset, c->dtype, c->m, c->k);
  *kept = append_sparse_weight (s, c, "w", rand, w);
  ane_test_append_reader (s, c->reader, c->dtype, c->m, c->n, c->k, weight_out);
  return g_string_free (s, FALSE);
}

/* The plan keeps w packed (its bytes the mask's and the kept values',
 * nothing dense: not the joint forms' mask and values either), w
 * dequantized is the dense kernel's output bit for bit, and y is x · wᵀ of
 * those weights (and equal, within the sums' rounding, to the dense run's). */
static void
check_program (const ProgramCase *c)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed ((guint32) (c->form * 1000 + c->n + c->m));
  g_autoptr(GRand) rand2 = g_rand_new_with_seed ((guint32) (c->form * 1000 + c->n + c->m));
  g_autofree float *w = g_new (float, c->n * c->k), *w2 = g_new (float, c->n * c->k);
  gsize kept = 0, kept2 = 0;
  g_autofree char *text = sparse_program (c, FALSE, rand, w, &kept);
  g_autofree char *dense_text = sparse_program (c, TRUE, rand2, w2, &kept2);
  g_autoptr(AneMilProgram) program = NULL, dense_program = NULL;
  g_autoptr(AneCpuBackend) backend = ane_test_cpu_backend_for_text (text, &program);
  g_autoptr(AneCpuBackend) dense_backend = ane_test_cpu_backend_for_text (dense_text, &dense_program);
  g_autoptr(GPtrArray) outs = NULL, dense_outs = NULL;
  g_autofree float *x = g_new (float, c->m * c->k), *xin = g_new (float, c->m * c->k);
  g_autofree float *y = NULL, *dy = NULL, *dw = NULL;
  g_autoptr(AneCpuValue) packed_w = NULL;
  gboolean fp16 = g_str_equal (c->dtype, "fp16"), packed = FALSE, conv = c->reader == ANE_TEST_READ_CONV;
  guint64 packed_bytes, dense_bytes, borrowed;
  gint64 xshape[4] = { (gint64) c->m, (gint64) c->k };
  gint64 cshape[4] = { 1, (gint64) c->k, 1, (gint64) c->m };
  gsize n = 0;

  g_test_message ("%s, %s, %zux%zu, %zu of %zu kept, m %zu, reader %d", form_names[c->form], c->dtype, c->n, c->k,
                  kept, c->n * c->k, c->m, c->reader);
  g_assert_cmpmem (w, c->n * c->k * sizeof (float), w2, c->n * c->k * sizeof (float));
  for (gsize i = 0; i < c->m * c->k; i++)
    x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  if (fp16)
    for (gsize i = 0; i < c->m * c->k; i++)
      x[i] = ane_test_round_half (x[i]);
  /* a conv's input is [1, k, 1, m]: x transposed */
  for (gsize i = 0; i < c->m; i++)
    for (gsize k = 0; k < c->k; k++)
      xin[conv ? k * c->m + i : i * c->k + k] = x[i * c->k + k];

  /* packed: the mask at a bit a weight (rows padded to 16 bits), the kept
   * values at 2 or 4 bytes, a start per row; nothing dense of w's size */
  ane_cpu_plan_get_const_bytes (ane_cpu_backend_get_plan (backend), &packed_bytes, &dense_bytes, &borrowed);
  g_assert_cmpuint (packed_bytes, ==, c->n * ((c->k + 15) / 16) * 2 + (kept + 16) * (fp16 ? 2 : 4) +
                                      (c->n + 1) * sizeof (gsize));
  g_assert_cmpuint (dense_bytes, <, 64);
  packed_w = ane_cpu_plan_dup_const (ane_cpu_backend_get_plan (backend), "w", &packed);
  g_assert_nonnull (packed_w);
  g_assert_true (packed);

  outs = ane_test_cpu_run_x (backend, xin, conv ? cshape : xshape, conv ? 4 : 2);
  dense_outs = ane_test_cpu_run_x (dense_backend, xin, conv ? cshape : xshape, conv ? 4 : 2);
  /* the dense kernel's weights (w an output: expanded), bit for bit */
  dw = ane_test_output_floats (dense_outs, c->reader == ANE_TEST_READ_GATHER ? 2 : 1, &n);
  g_assert_cmpuint (n, ==, c->n * c->k);
  g_assert_cmpmem (dw, n * sizeof (float), w, n * sizeof (float));
  g_assert_cmpmem (packed_w->f, n * sizeof (float), dw, n * sizeof (float));
  y = ane_test_output_floats (outs, 0, &n);
  dy = ane_test_output_floats (dense_outs, 0, &n);
  g_assert_cmpuint (n, ==, c->m * c->n);
  for (gsize i = 0; i < c->m; i++)
    for (gsize r = 0; r < c->n; r++)
      {
        double want = 0.0, mag = 0.0, tol;
        gsize at = conv ? r * c->m + i : i * c->n + r;

        for (gsize k = 0; k < c->k; k++)
          {
            want += (double) w[r * c->k + k] * x[i * c->k + k];
            mag += fabs ((double) w[r * c->k + k] * x[i * c->k + k]);
          }
        /* fp16 programs round the product to fp16 (m · 2^-10, m = 1) */
        tol = ldexp (mag, -20) + (fp16 ? ldexp (fabs (want), -10) : 0.0);
        g_assert_cmpfloat (fabs (y[at] - want), <=, tol);
        g_assert_cmpfloat (fabs (y[at] - dy[at]), <=, 2.0 * tol);
      }
  if (c->reader == ANE_TEST_READ_GATHER)
    {
      g_autofree float *g = ane_test_output_floats (outs, 1, &n);

      g_assert_cmpuint (n, ==, 2 * c->k);
      g_assert_cmpmem (g, c->k * sizeof (float), w + 1 * c->k, c->k * sizeof (float));
      g_assert_cmpmem (g + c->k, c->k * sizeof (float), w + (c->n - 1) * c->k, c->k * sizeof (float));
    }
}

static void
test_programs (void)
{
  static const ProgramCase cases[] = {
    /* iOS16 attribute form: half pruned, fp32, a linear */
    { FORM_IOS16, "fp32", 0.5, 3, 24, 72, ANE_TEST_READ_LINEAR },
    /* iOS16, fp16, 90% pruned, a transposed matmul */
    { FORM_IOS16, "fp16", 0.9, 2, 19, 50, ANE_TEST_READ_MATMUL },
    /* iOS16, a prefill of 70 rows (the row dequantizer and the GEMM) */
    { FORM_IOS16, "fp32", 0.5, 70, 10, 40, ANE_TEST_READ_LINEAR },
    /* iOS18 uint1 mask: nothing pruned, gather and linear on one weight */
    { FORM_IOS18, "fp32", 0.0, 1, 8, 33, ANE_TEST_READ_GATHER },
    /* iOS18, fp16, every other row pruned whole, a prefill */
    { FORM_IOS18, "fp16", 2.0, 66, 12, 48, ANE_TEST_READ_LINEAR },
    /* iOS18, a 1×1 conv [n, k, 1, 1] (what the Neural Engine lowering makes of a linear) */
    { FORM_IOS18, "fp16", 0.5, 3, 20, 36, ANE_TEST_READ_CONV },
    { FORM_IOS16, "fp32", 0.75, 5, 9, 64, ANE_TEST_READ_CONV },
    /* the joint forms: palettized and quantized kept values */
    { FORM_LUT, "fp16", 0.5, 1, 16, 40, ANE_TEST_READ_LINEAR },
    { FORM_LUT, "fp32", 0.9, 70, 10, 37, ANE_TEST_READ_MATMUL },
    { FORM_LUT, "fp16", 0.5, 2, 12, 32, ANE_TEST_READ_CONV },
    { FORM_QUANT, "fp16", 0.5, 4, 11, 45, ANE_TEST_READ_LINEAR },
    { FORM_QUANT, "fp32", 0.0, 1, 6, 20, ANE_TEST_READ_GATHER },
    { FORM_QUANT, "fp16", 0.75, 64, 8, 64, ANE_TEST_READ_CONV },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    check_program (&cases[i]);
}

/* A reader that cannot take the packed weight (an add): the weight is made
 * dense by the dense kernel, and still right. */
static void
test_dense_fallback (void)
{
  const char *text =
    "program(1.3)\n{\n    func main<ios18>(tensor<fp32, [2, 3]> x) {\n"
    "        tensor<fp32, [2, 3]> w = constexpr_sparse_to_dense(nonzero_data = tensor<fp32, [3]>([1, 2, 3]), "
    "mask = tensor<uint1, [2, 3]>([1, 0, 0, 0, 1, 1]))[name = string(\"w\")];\n"
    "        tensor<fp32, [2, 3]> y = add(x = x, y = w)[name = string(\"y\")];\n"
    "    } -> (y);\n}\n";
  static const float x[6] = { 10, 20, 30, 40, 50, 60 };
  static const float want[6] = { 11, 20, 30, 40, 52, 63 };
  g_autoptr(AneMilProgram) program = NULL;
  g_autoptr(AneCpuBackend) backend = ane_test_cpu_backend_for_text (text, &program);
  g_autoptr(GPtrArray) outs = ane_test_cpu_run_x (backend, x, (const gint64[]) { 2, 3 }, 2);
  g_autoptr(AneCpuValue) w = NULL;
  g_autofree float *y = NULL;
  gboolean packed = TRUE;
  gsize n = 0;

  w = ane_cpu_plan_dup_const (ane_cpu_backend_get_plan (backend), "w", &packed);
  g_assert_nonnull (w);
  g_assert_false (packed);
  y = ane_test_output_floats (outs, 0, &n);
  g_assert_cmpmem (y, sizeof want, want, sizeof want);
}

/* A param rebound (ane_cpu_plan_reload_const) makes the joint weight
 * again: the lut a const, the (mask, values) pair the plan freed after
 * packing made again by the folded constexpr_lut_to_sparse. */
static void
test_reload_joint (void)
{
  const char *text =
    "program(1.3)\n{\n    func main<ios18>(tensor<fp32, [1, 3]> x) {\n"
    "        tensor<fp32, [1, 1, 4, 1]> lut = const()[name = string(\"lut\"), "
    "val = tensor<fp32, [1, 1, 4, 1]>([1, 2, 4, 8])];\n"
    "        (tensor<uint1, [2, 3]> m, tensor<fp32, [4]> v) = constexpr_lut_to_sparse(indices_mask = "
    "tensor<uint1, [2, 3]>([1, 0, 1, 1, 1, 0]), indices_nonzero_data = tensor<uint2, [4]>([0, 3, 2, 1]), "
    "lut = lut)[name = string(\"j\")];\n"
    "        tensor<fp32, [2, 3]> w = constexpr_sparse_to_dense(nonzero_data = v, mask = m)[name = string(\"w\")];\n"
    "        tensor<fp32, [1, 2]> y = linear(x = x, weight = w)[name = string(\"y\")];\n"
    "    } -> (y);\n}\n";
  static const float x[3] = { 1, 10, 100 };
  g_autoptr(AneMilProgram) program = NULL;
  g_autoptr(AneCpuBackend) backend = ane_test_cpu_backend_for_text (text, &program);
  AneCpuPlan *plan = ane_cpu_backend_get_plan (backend);
  g_autoptr(GError) error = NULL;
  guint64 packed, dense, borrowed;

  g_assert_cmpuint (ane_cpu_plan_get_constexpr_runs (plan), ==, 2);
  ane_cpu_plan_get_const_bytes (plan, &packed, &dense, &borrowed);
  /* the mask (int32 a weight) and the values freed, the lut and indices too */
  g_assert_cmpuint (dense, ==, 0);
  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(GPtrArray) outs = NULL;
      g_autofree float *y = NULL;
      gsize n = 0;

      if (round == 1)
        {
          g_assert_true (ane_cpu_plan_reload_const (plan, "lut", &error));
          g_assert_no_error (error);
          g_assert_cmpuint (ane_cpu_plan_get_constexpr_runs (plan), ==, 4);
          ane_cpu_plan_get_const_bytes (plan, &packed, &dense, &borrowed);
          g_assert_cmpuint (dense, ==, 0);
        }
      outs = ane_test_cpu_run_x (backend, x, (const gint64[]) { 1, 3 }, 2);
      y = ane_test_output_floats (outs, 0, &n);
      /* w = [[1, 0, 8], [4, 2, 0]] */
      g_assert_cmpfloat (y[0], ==, 1 + 800);
      g_assert_cmpfloat (y[1], ==, 4 + 20);
    }
}

/* --- memory: a pruned model keeps no dense float copy ---------------------- */

/* Issue 15's "memory equals the file" for a pruned model: an embedding
 * (gathered) and two matrices of a small MLP, 75% pruned, fp16 (the iOS18
 * mask form) and the joint 4-bit palettized form: the plan's packed bytes
 * are exactly the masks and kept values, nothing dense of a weight's float
 * size (not the uint1 masks the plan decoded to int32), and the results
 * are the dense weights' (the dense program's). */
static void
test_pruned_memory (void)
{
  const gsize vocab = 128, dim = 64, hidden = 96;
  static const Form forms[] = { FORM_IOS18, FORM_LUT, FORM_IOS16 };

  for (gsize f = 0; f < G_N_ELEMENTS (forms); f++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (42 + (guint32) f);
      GString *s = g_string_new ("program(1.3)\n{\n");
      const ProgramCase ce = { forms[f], "fp16", 0.75, 5, vocab, dim, ANE_TEST_READ_GATHER };
      const ProgramCase c1 = { forms[f], "fp16", 0.75, 5, hidden, dim, ANE_TEST_READ_LINEAR };
      const ProgramCase c2 = { forms[f], "fp16", 0.75, 5, dim, hidden, ANE_TEST_READ_LINEAR };
      g_autofree float *we = g_new (float, vocab * dim), *w1 = g_new (float, hidden * dim);
      g_autofree float *w2 = g_new (float, dim * hidden);
      g_autofree char *text = NULL;
      g_autoptr(AneMilProgram) program = NULL;
      g_autoptr(AneCpuBackend) backend = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
      g_autoptr(GPtrArray) outs = NULL;
      g_autofree float *y = NULL;
      static const gint32 ids[5] = { 3, 127, 0, 17, 64 };
      guint64 packed, dense, borrowed, half_bytes = (vocab * dim + 2 * hidden * dim) * 2, want_packed;
      gsize n = 0, ke, k1, k2;

      g_string_append_printf (s, "    func main<%s>(tensor<int32, [5]> ids) {\n", forms[f] == FORM_IOS16 ? "ios16" : "ios18");
      ke = append_sparse_weight (s, &ce, "embd", rand, we);
      k1 = append_sparse_weight (s, &c1, "w1", rand, w1);
      k2 = append_sparse_weight (s, &c2, "w2", rand, w2);
      g_string_append_printf (s,
        "        tensor<fp16, [5, %zu]> h = gather(x = embd, indices = ids, axis = int32(0))[name = string(\"h\")];\n"
        "        tensor<fp16, [5, %zu]> a = linear(x = h, weight = w1)[name = string(\"a\")];\n"
        "        tensor<fp16, [5, %zu]> y = linear(x = a, weight = w2)[name = string(\"y\")];\n"
        "    } -> (y);\n}\n", dim, hidden, dim);
      text = g_string_free (s, FALSE);
      want_packed = (vocab + hidden) * ((dim + 15) / 16) * 2 + dim * ((hidden + 15) / 16) * 2 +
                    (ke + k1 + k2 + 48) * 2 + (vocab + hidden + dim + 3) * sizeof (gsize);

      backend = ane_test_cpu_backend_for_text (text, &program);
      ane_cpu_plan_get_const_bytes (ane_cpu_backend_get_plan (backend), &packed, &dense, &borrowed);
      g_test_message ("%s 75%% pruned fp16 MLP (%" G_GUINT64_FORMAT " bytes as halves): plan holds %" G_GUINT64_FORMAT
                      " packed, %" G_GUINT64_FORMAT " dense", form_names[forms[f]], half_bytes, packed, dense);
      g_assert_cmpuint (packed, ==, want_packed);
      /* a bit and a quarter of a half a weight, and the rows' starts */
      g_assert_cmpuint (packed, <, half_bytes / 16 + half_bytes / 4 + half_bytes / 10);
      /* no dense copy of any weight, no decoded mask */
      g_assert_cmpuint (dense, <, dim * hidden / 10);

      g_hash_table_insert (inputs, (gpointer) "ids", ane_tensor_new_from_ints ("ids", (const gint64[]) { 5 }, 1, ids, 5,
                                                                              &error));
      g_assert_no_error (error);
      outs = ane_cpu_backend_run (backend, inputs, NULL, FALSE, NULL, &error);
      g_assert_no_error (error);
      y = ane_test_output_floats (outs, 0, &n);
      g_assert_cmpuint (n, ==, 5 * dim);
      for (gsize t = 0; t < 5; t++)
        {
          float h[64], a[96];

          for (gsize k = 0; k < dim; k++)
            h[k] = we[(gsize) ids[t] * dim + k];
          for (gsize j = 0; j < hidden; j++)
            {
              double acc = 0.0;

              for (gsize k = 0; k < dim; k++)
                acc += (double) w1[j * dim + k] * h[k];
              a[j] = ane_test_round_half ((float) acc);
            }
          for (gsize i = 0; i < dim; i++)
            {
              double want = 0.0, mag = 0.0;

              for (gsize j = 0; j < hidden; j++)
                {
                  want += (double) w2[i * hidden + j] * a[j];
                  mag += fabs ((double) w2[i * hidden + j] * a[j]);
                }
              /* fp16 activations: a's rounding (2^-11 relative, ± one
               * ulp from the sums' order) carried through, and y's own */
              g_assert_cmpfloat (fabs (y[t * dim + i] - want), <=, ldexp (mag, -9) + ldexp (fabs (want), -10) + 1e-6);
            }
        }
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/cpu/sparse/kernels", test_kernels);
  g_test_add_func ("/ane/cpu/sparse/pack-refuses", test_pack_refuses);
  g_test_add_func ("/ane/cpu/sparse/programs", test_programs);
  g_test_add_func ("/ane/cpu/sparse/dense-fallback", test_dense_fallback);
  g_test_add_func ("/ane/cpu/sparse/reload-joint", test_reload_joint);
  g_test_add_func ("/ane/cpu/sparse/pruned-memory", test_pruned_memory);
  return g_test_run ();
}
