/* test-cpu-lut.c: palettized weights on the CPU backend (issue 15 item 2,
 * issue 16 item 5): constexpr_lut_to_dense weights kept as their indices
 * and tables (ANE_CPU_PACKED_LUT) and multiplied on them
 *
 * The weights are checked bit for bit against the dense kernel's (the LUT
 * entry of each index, rounded to fp16 when the op's output is fp16): the
 * portable row reader directly, and every ISA's kernels through products
 * with one-hot activations (one row: the row dots; a few: the row
 * dequantizer and dots; 64 and more: the row dequantizer feeding the
 * GEMM), which are exact. The products of random activations are checked
 * against a double-precision sum of the same weights, |got − want| ≤
 * 2^-20 · Σ|w·x| (as tests/test-cpu-vec.c), bit-identical for 1 to 4
 * threads, and a decode row equal to the same row in a batch of a few.
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
#include "mil/ane-mlpackage-private.h"
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

static const guint all_bits[] = { 1, 2, 3, 4, 6, 8 };

/* --- the kernels against the dense weights ----------------------------------- */

typedef struct {
  gsize    rows, cols, n_tables;
  gboolean fp16_table;   /* entries exact in fp16 (an fp16 LUT) */
  gboolean round_fp16;   /* the op's output is fp16 */
} Case;

typedef struct {
  AneCpuPacked *p;
  float        *w;       /* the dense kernel's weights [rows, cols] */
} Lut;

static Lut
make_lut (const Case *c,
          guint       bits,
          GRand      *rand)
{
  gsize entries = (gsize) 1 << bits, n = c->rows * c->cols;
  g_autofree float *tables = g_new (float, c->n_tables * entries);
  g_autofree gint32 *idx = g_new (gint32, n);
  Lut out;

  for (gsize i = 0; i < c->n_tables * entries; i++)
    {
      /* away from 0, so that no entry rounds to −0 (a one-hot product
       * makes +0 of it) */
      float v = (float) g_rand_double_range (rand, 0.01, 2.0) * (g_rand_boolean (rand) ? 1.0f : -1.0f);

      tables[i] = c->fp16_table ? ane_test_round_half (v) : v;
    }
  out.w = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    {
      gsize t = (i / c->cols) / (c->rows / c->n_tables);

      idx[i] = g_rand_int_range (rand, 0, (gint32) entries);
      /* k_constexpr_lut_to_dense's value, then ane_cpu_value_round's */
      out.w[i] = tables[t * entries + (gsize) idx[i]];
      if (c->round_fp16)
        out.w[i] = ane_test_round_half (out.w[i]);
    }
  out.p = ane_cpu_packed_new_lut (c->rows, c->cols, bits, idx, tables, c->n_tables, c->round_fp16);
  return out;
}

static void
check_case (const Case *c,
            guint       bits,
            GRand      *rand)
{
  Lut lut = make_lut (c, bits, rand);
  g_autofree char *what = g_strdup_printf ("%u-bit LUT %zux%zu, %zu table(s)%s%s", bits, c->rows, c->cols,
                                           c->n_tables, c->fp16_table ? ", fp16 entries" : "",
                                           c->round_fp16 ? ", fp16 output" : "");

  g_assert_nonnull (lut.p);
  /* ~ the compressed size: n bits a weight (rows padded to 32), the tables */
  g_assert_cmpuint (ane_cpu_packed_bytes (lut.p), ==,
                    c->rows * ((c->cols + 31) / 32) * 4 * bits + c->n_tables * MAX (16, 1u << bits) * sizeof (float));
  ane_test_packed_check_kernels (lut.p, lut.w, what, rand);
  ane_cpu_packed_free (lut.p);
  g_free (lut.w);
}

static void
test_kernels (void)
{
  static const Case cases[] = {
    /* per tensor: rows not a multiple of any vector width, whole groups */
    { 37, 256, 1, TRUE, FALSE },
    /* per-grouped-channel (a table per 3 rows), columns not a multiple of 8 */
    { 12, 77, 4, FALSE, FALSE },
    /* a table per row, fp16 output (the fp32 entries rounded) */
    { 9, 200, 9, FALSE, TRUE },
    /* fp16 entries and output; one whole group and a partial one, 40 */
    { 6, 40, 2, TRUE, TRUE },
    /* one row (a matvec of one output), odd columns, fewer than a chunk */
    { 1, 45, 1, FALSE, FALSE },
    { 5, 7, 1, TRUE, FALSE },
    /* three whole groups, then 20 */
    { 4, 116, 1, FALSE, FALSE },
    /* 16 columns exactly: half a group */
    { 3, 16, 3, FALSE, TRUE },
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (16);

  ane_test_packed_log_isas ("LUT");
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (gsize b = 0; b < G_N_ELEMENTS (all_bits); b++)
      check_case (&cases[i], all_bits[b], rand);
}

/* The packer refuses what it cannot hold. */
static void
test_pack_refuses (void)
{
  static const float t[4] = { 1, 2, 3, 4 };

  /* an index past the table */
  g_assert_null (ane_cpu_packed_new_lut (1, 2, 1, (const gint32[]) { 0, 2 }, t, 1, FALSE));
  g_assert_null (ane_cpu_packed_new_lut (1, 2, 2, (const gint32[]) { -1, 2 }, t, 1, FALSE));
  /* 5 and 7 bits: no Core ML index type (and no kernel) */
  g_assert_null (ane_cpu_packed_new_lut (1, 2, 5, (const gint32[]) { 0, 1 }, t, 1, FALSE));
  /* tables that do not divide the rows */
  g_assert_null (ane_cpu_packed_new_lut (3, 1, 1, (const gint32[]) { 0, 1, 1 }, t, 2, FALSE));
  /* the other constructors make no LUT weight (it needs its tables) */
  g_assert_null (ane_cpu_packed_new_blockwise (ANE_CPU_PACKED_LUT, 1, 2, (const gint32[]) { 0, 1 }, t, 1, 1, NULL,
                                               FALSE));
  g_assert_nonnull (t);
}

/* --- programs: the plan packs constexpr_lut_to_dense ------------------------- */

/* Appends weight `name` [n, k] as constexpr_lut_to_dense of random indices
 * and tables (n_tables along the output axis) in opset's form (ios16: a
 * bit stream and one table, as attributes; ios18: uint{bits} indices and
 * lut [n_tables, 1, 2^bits, 1]) to s, the dense weights in w. */
static void
append_lut_weight (GString    *s,
                   const char *name,
                   const char *opset,
                   const char *dtype,
                   guint       bits,
                   gsize       n,
                   gsize       k,
                   gsize       n_tables,
                   GRand      *rand,
                   float      *w)
{
  gsize entries = (gsize) 1 << bits;
  g_autofree float *tables = g_new (float, n_tables * entries);
  g_autofree guint *idx = g_new (guint, n * k);
  gboolean fp16 = g_str_equal (dtype, "fp16");

  for (gsize i = 0; i < n_tables * entries; i++)
    {
      float v = (float) g_rand_double_range (rand, -1.0, 1.0);

      tables[i] = fp16 ? ane_test_round_half (v) : v;
    }
  for (gsize i = 0; i < n * k; i++)
    {
      idx[i] = (guint) g_rand_int_range (rand, 0, (gint32) entries);
      w[i] = tables[(i / k) / (n / n_tables) * entries + idx[i]];
    }
  g_string_append_printf (s, "        tensor<%s, [%zu, %zu]> %s = constexpr_lut_to_dense", dtype, n, k, name);
  if (g_str_equal (opset, "ios16"))
    {
      gsize n_bytes = (n * k * bits + 7) / 8;
      g_autofree guint8 *bytes = g_new0 (guint8, n_bytes);

      g_assert_cmpuint (n_tables, ==, 1);
      for (gsize i = 0; i < n * k; i++)
        for (guint b = 0; b < bits; b++)
          if (idx[i] >> b & 1u)
            bytes[(i * bits + b) / 8] |= (guint8) (1u << ((i * bits + b) % 8));
      g_string_append_printf (s, "()[indices = tensor<uint8, [%zu]>([", n_bytes);
      for (gsize i = 0; i < n_bytes; i++)
        g_string_append_printf (s, "%s%u", i ? ", " : "", bytes[i]);
      g_string_append_printf (s, "]), lut = tensor<%s, [%zu]>([", dtype, entries);
      for (gsize i = 0; i < entries; i++)
        g_string_append_printf (s, "%s%.9g", i ? ", " : "", tables[i]);
      g_string_append_printf (s, "]), name = string(\"%s\"), shape = tensor<uint32, [2]>([%zu, %zu])];\n", name, n, k);
      return;
    }
  g_string_append_printf (s, "(indices = tensor<uint%u, [%zu, %zu]>([", bits, n, k);
  for (gsize i = 0; i < n * k; i++)
    g_string_append_printf (s, "%s%u", i ? ", " : "", idx[i]);
  g_string_append_printf (s, "]), lut = tensor<%s, [%zu, 1, %zu, 1]>([", dtype, n_tables, entries);
  for (gsize i = 0; i < n_tables * entries; i++)
    g_string_append_printf (s, "%s%.9g", i ? ", " : "", tables[i]);
  g_string_append_printf (s, "]))[name = string(\"%s\")];\n", name);
}

typedef struct {
  const char   *opset, *dtype;
  guint         bits;
  gsize         m, n, k, n_tables;
  AneTestReader reader;
} ProgramCase;

/* x [m, k] → y [m, n] (gather: y [m + 2, k]... see below), with weight w
 * also an output when weight_out (then dense: a graph output is never
 * packed). */
static char *
lut_program (const ProgramCase *c,
             gboolean           weight_out,
             GRand             *rand,
             float             *w)
{
  GString *s = g_string_new ("program(1.3)\n{\n");

  g_string_append_printf (s, "    func main<%s>(tensor<%s, [%zu, %zu]> x) {\n", c->opset, c->dtype, c->m, c->k);
  append_lut_weight (s, "w", c->opset, c->dtype, c->bits, c->n, c->k, c->n_tables, rand, w);
  ane_test_append_reader (s, c->reader, c->dtype, c->m, c->n, c->k, weight_out);
  return g_string_free (s, FALSE);
}

static GPtrArray *
run_x (AneCpuBackend *backend,
       const float   *x,
       gsize          m,
       gsize          k)
{
  return ane_test_cpu_run_x (backend, x, (const gint64[]) { (gint64) m, (gint64) k }, 2);
}

/* The plan keeps w packed (its bytes the indices' and the tables'), w
 * dequantized is the dense kernel's output bit for bit, and y is x · wᵀ of
 * those weights (and equal, within the sums' rounding, to the dense run's). */
static void
check_program (const ProgramCase *c)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (c->bits * 100 + c->n);
  g_autoptr(GRand) rand2 = g_rand_new_with_seed (c->bits * 100 + c->n);
  g_autofree float *w = g_new (float, c->n * c->k), *w2 = g_new (float, c->n * c->k);
  g_autofree char *text = lut_program (c, FALSE, rand, w);
  g_autofree char *dense_text = lut_program (c, TRUE, rand2, w2);
  g_autoptr(AneMilProgram) program = NULL, dense_program = NULL;
  g_autoptr(AneCpuBackend) backend = ane_test_cpu_backend_for_text (text, &program);
  g_autoptr(AneCpuBackend) dense_backend = ane_test_cpu_backend_for_text (dense_text, &dense_program);
  g_autoptr(GPtrArray) outs = NULL, dense_outs = NULL;
  g_autofree float *x = g_new (float, c->m * c->k), *y = NULL, *dy = NULL, *dw = NULL;
  g_autoptr(AneCpuValue) packed_w = NULL;
  gboolean fp16 = g_str_equal (c->dtype, "fp16"), packed = FALSE;
  guint64 packed_bytes, dense_bytes, borrowed;
  gsize n = 0, entries = (gsize) 1 << c->bits;

  g_assert_cmpmem (w, c->n * c->k * sizeof (float), w2, c->n * c->k * sizeof (float));
  for (gsize i = 0; i < c->m * c->k; i++)
    x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  if (fp16)
    for (gsize i = 0; i < c->m * c->k; i++)
      x[i] = ane_test_round_half (x[i]);

  /* packed: the indices at bits a weight (rows padded to groups of 32) and
   * the tables, nothing dense of w's size */
  ane_cpu_plan_get_const_bytes (ane_cpu_backend_get_plan (backend), &packed_bytes, &dense_bytes, &borrowed);
  g_assert_cmpuint (packed_bytes, ==, c->n * ((c->k + 31) / 32) * 4 * c->bits +
                                      c->n_tables * MAX (16, entries) * sizeof (float));
  /* nothing else of w's: not the tables nor the indices as decoded (int32),
   * only the few small consts of the readers (gather indices, flags) */
  g_assert_cmpuint (dense_bytes, <, 64);
  packed_w = ane_cpu_plan_dup_const (ane_cpu_backend_get_plan (backend), "w", &packed);
  g_assert_nonnull (packed_w);
  g_assert_true (packed);

  outs = run_x (backend, x, c->m, c->k);
  dense_outs = run_x (dense_backend, x, c->m, c->k);
  /* the dense kernel's weights (w an output: expanded), bit for bit */
  dw = ane_test_output_floats (dense_outs, c->reader == ANE_TEST_READ_GATHER ? 2 : 1, &n);
  g_assert_cmpuint (n, ==, c->n * c->k);
  for (gsize i = 0; i < n; i++)
    {
      g_assert_cmpfloat (dw[i], ==, w[i]);
      g_assert_cmpfloat (packed_w->f[i], ==, dw[i]);
    }
  y = ane_test_output_floats (outs, 0, &n);
  dy = ane_test_output_floats (dense_outs, 0, &n);
  g_assert_cmpuint (n, ==, c->m * c->n);
  for (gsize i = 0; i < c->m; i++)
    for (gsize r = 0; r < c->n; r++)
      {
        double want = 0.0, mag = 0.0;
        /* fp16 programs round the product to fp16 (m · 2^-10, m = 1) */
        double tol;

        for (gsize k = 0; k < c->k; k++)
          {
            want += (double) w[r * c->k + k] * x[i * c->k + k];
            mag += fabs ((double) w[r * c->k + k] * x[i * c->k + k]);
          }
        tol = ldexp (mag, -20) + (fp16 ? ldexp (fabs (want), -10) : 0.0);
        g_assert_cmpfloat (fabs (y[i * c->n + r] - want), <=, tol);
        g_assert_cmpfloat (fabs (y[i * c->n + r] - dy[i * c->n + r]), <=, 2.0 * tol);
      }
  if (c->reader == ANE_TEST_READ_GATHER)
    {
      g_autofree float *g = ane_test_output_floats (outs, 1, &n);

      g_assert_cmpuint (n, ==, 2 * c->k);
      for (gsize k = 0; k < c->k; k++)
        {
          g_assert_cmpfloat (g[k], ==, w[1 * c->k + k]);
          g_assert_cmpfloat (g[c->k + k], ==, w[(c->n - 1) * c->k + k]);
        }
    }
}

static void
test_programs (void)
{
  static const ProgramCase cases[] = {
    /* iOS18 per-grouped-channel (4 tables of 6 rows), 3-bit, fp32 */
    { "ios18", "fp32", 3, 3, 24, 72, 4, ANE_TEST_READ_LINEAR },
    /* iOS18 per tensor, 6-bit, fp16, a transposed matmul */
    { "ios18", "fp16", 6, 2, 19, 50, 1, ANE_TEST_READ_MATMUL },
    /* iOS18 1-bit per row, gather and linear on the same weight */
    { "ios18", "fp32", 1, 1, 8, 33, 8, ANE_TEST_READ_GATHER },
    /* iOS18 8-bit, fp16, a prefill (70 rows: the row dequantizer and the GEMM) */
    { "ios18", "fp16", 8, 70, 10, 40, 2, ANE_TEST_READ_LINEAR },
    /* iOS16: the bit stream and one table */
    { "ios16", "fp32", 2, 1, 17, 23, 1, ANE_TEST_READ_GATHER },
    { "ios16", "fp16", 4, 5, 9, 64, 1, ANE_TEST_READ_MATMUL },
    { "ios16", "fp32", 6, 1, 5, 31, 1, ANE_TEST_READ_LINEAR },
    { "ios16", "fp32", 8, 66, 12, 48, 1, ANE_TEST_READ_LINEAR },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    check_program (&cases[i]);
}

/* Forms left dense (and still right): tables per group of input columns
 * (lut [1, 2, 4, 1]) and vector palettization (VECTOR_SIZE 2). */
static void
test_dense_fallbacks (void)
{
  static const char *const texts[] = {
    "program(1.3)\n{\n    func main<ios18>(tensor<fp32, [1, 4]> x) {\n"
    "        tensor<fp32, [2, 4]> w = constexpr_lut_to_dense(indices = tensor<uint2, [2, 4]>([0, 1, 2, 3, 3, 2, 1, 0]), "
    "lut = tensor<fp32, [1, 2, 4, 1]>([1, 2, 3, 4, 10, 20, 30, 40]))[name = string(\"w\")];\n"
    "        tensor<fp32, [1, 2]> y = linear(x = x, weight = w)[name = string(\"y\")];\n"
    "    } -> (y);\n}\n",
    "program(1.3)\n{\n    func main<ios18>(tensor<fp32, [1, 4]> x) {\n"
    "        tensor<fp32, [2, 4]> w = constexpr_lut_to_dense(indices = tensor<uint1, [1, 4]>([0, 1, 1, 0]), "
    "lut = tensor<fp32, [1, 1, 2, 2]>([1, 2, 3, 4]), vector_axis = int32(0))[name = string(\"w\")];\n"
    "        tensor<fp32, [1, 2]> y = linear(x = x, weight = w)[name = string(\"y\")];\n"
    "    } -> (y);\n}\n",
  };
  /* x = (1, 2, 3, 4); the first: w = [[1, 2, 30, 40], [4, 3, 20, 10]]; the
   * second: column j is the index's vector, w = [[1, 3, 3, 1], [2, 4, 4, 2]] */
  static const float want[2][2] = { { 1 + 4 + 90 + 160, 4 + 6 + 60 + 40 }, { 1 + 6 + 9 + 4, 2 + 8 + 12 + 8 } };
  static const float x[4] = { 1, 2, 3, 4 };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(AneMilProgram) program = NULL;
      g_autoptr(AneCpuBackend) backend = ane_test_cpu_backend_for_text (texts[i], &program);
      g_autoptr(GPtrArray) outs = run_x (backend, x, 1, 4);
      g_autoptr(AneCpuValue) w = NULL;
      g_autofree float *y = NULL;
      gboolean packed = TRUE;
      gsize n = 0;

      w = ane_cpu_plan_dup_const (ane_cpu_backend_get_plan (backend), "w", &packed);
      g_assert_nonnull (w);
      g_assert_false (packed);
      y = ane_test_output_floats (outs, 0, &n);
      g_assert_cmpuint (n, ==, 2);
      g_assert_cmpfloat (y[0], ==, want[i][0]);
      g_assert_cmpfloat (y[1], ==, want[i][1]);
    }
}

/* iOS18 joint compression: the LUT is itself int8 with a scale
 * (constexpr_blockwise_shift_scale → constexpr_lut_to_dense); its folded
 * float value is the table, and the weight is packed. */
static void
test_joint_lut (void)
{
  const char *text =
    "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 3]> x) {\n"
    "        tensor<fp16, [2, 1, 4, 1]> lut = constexpr_blockwise_shift_scale("
    "data = tensor<int8, [2, 1, 4, 1]>([-4, -1, 2, 7, 100, -100, 3, 0]), "
    "scale = tensor<fp16, [2, 1, 1, 1]>([0.5, 0.25]))[name = string(\"lut\")];\n"
    "        tensor<fp16, [2, 3]> w = constexpr_lut_to_dense(indices = tensor<uint2, [2, 3]>([3, 0, 1, 0, 1, 2]), "
    "lut = lut)[name = string(\"w\")];\n"
    "        tensor<fp16, [1, 2]> y = linear(x = x, weight = w)[name = string(\"y\")];\n"
    "    } -> (y);\n}\n";
  static const float x[3] = { 1, 2, 4 };
  /* w = [[3.5, -2, -0.5], [25, -25, 0.75]] */
  static const float want[2] = { 3.5f - 4.0f - 2.0f, 25.0f - 50.0f + 3.0f };
  g_autoptr(AneMilProgram) program = NULL;
  g_autoptr(AneCpuBackend) backend = ane_test_cpu_backend_for_text (text, &program);
  g_autoptr(GPtrArray) outs = run_x (backend, x, 1, 3);
  g_autoptr(AneCpuValue) w = NULL;
  g_autofree float *y = NULL;
  gboolean packed = FALSE;
  gsize n = 0;

  w = ane_cpu_plan_dup_const (ane_cpu_backend_get_plan (backend), "w", &packed);
  g_assert_nonnull (w);
  g_assert_true (packed);
  g_assert_cmpfloat (w->f[0], ==, 3.5f);
  g_assert_cmpfloat (w->f[4], ==, -25.0f);
  y = ane_test_output_floats (outs, 0, &n);
  g_assert_cmpfloat (y[0], ==, want[0]);
  g_assert_cmpfloat (y[1], ==, want[1]);
}

/* A param rebound (ane_cpu_plan_reload_const) makes the LUT weight again:
 * its indices, an immediate value the plan freed after packing (only the
 * folded op read them), are decoded again from the program. */
static void
test_reload (void)
{
  const char *text =
    "program(1.3)\n{\n    func main<ios18>(tensor<fp32, [1, 3]> x) {\n"
    "        tensor<fp32, [1, 1, 4, 1]> lut = const()[name = string(\"lut\"), "
    "val = tensor<fp32, [1, 1, 4, 1]>([1, 2, 4, 8])];\n"
    "        tensor<fp32, [2, 3]> w = constexpr_lut_to_dense(indices = tensor<uint2, [2, 3]>([0, 1, 2, 3, 2, 1]), "
    "lut = lut)[name = string(\"w\")];\n"
    "        tensor<fp32, [1, 2]> y = linear(x = x, weight = w)[name = string(\"y\")];\n"
    "    } -> (y);\n}\n";
  static const float x[3] = { 1, 10, 100 };
  g_autoptr(AneMilProgram) program = NULL;
  g_autoptr(AneCpuBackend) backend = ane_test_cpu_backend_for_text (text, &program);
  AneCpuPlan *plan = ane_cpu_backend_get_plan (backend);
  g_autoptr(GError) error = NULL;
  guint64 packed, dense, borrowed;

  g_assert_cmpuint (ane_cpu_plan_get_constexpr_runs (plan), ==, 1);
  ane_cpu_plan_get_const_bytes (plan, &packed, &dense, &borrowed);
  g_assert_cmpuint (dense, ==, 0);   /* the indices and the lut freed */
  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(GPtrArray) outs = NULL;
      g_autofree float *y = NULL;
      gsize n = 0;

      if (round == 1)
        {
          g_assert_true (ane_cpu_plan_reload_const (plan, "lut", &error));
          g_assert_no_error (error);
          g_assert_cmpuint (ane_cpu_plan_get_constexpr_runs (plan), ==, 2);
        }
      outs = run_x (backend, x, 1, 3);
      y = ane_test_output_floats (outs, 0, &n);
      /* w = [[1, 2, 4], [8, 4, 2]] */
      g_assert_cmpfloat (y[0], ==, 1 + 20 + 400);
      g_assert_cmpfloat (y[1], ==, 8 + 40 + 200);
    }
}

/* --- memory: a palettized model keeps no dense float copy ------------------ */

/* Issue 15's "memory equals the file" for a palettized model: an embedding
 * (gathered) and two matrices of a small MLP, all 4- or 6-bit palettized
 * (the Anemll LUT4 / LUT6 forms: per-grouped-channel tables), held as
 * their indices and tables — the plan's packed bytes are exactly those,
 * and nothing dense of a weight's float size, not even the int32 indices
 * the plan decoded them into — with the results of the dense weights
 * (a double-precision forward pass of the dense kernel's weights). */
static void
test_palettized_memory (void)
{
  const gsize vocab = 256, dim = 96, hidden = 160, group = 16;
  static const guint bits[] = { 4, 6 };

  for (gsize b = 0; b < G_N_ELEMENTS (bits); b++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (42 + bits[b]);
      GString *s = g_string_new ("program(1.3)\n{\n    func main<ios18>(tensor<int32, [5]> ids) {\n");
      g_autofree float *we = g_new (float, vocab * dim), *w1 = g_new (float, hidden * dim);
      g_autofree float *w2 = g_new (float, dim * hidden);
      g_autofree char *text = NULL;
      g_autoptr(AneMilProgram) program = NULL;
      g_autoptr(AneCpuBackend) backend = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
      g_autoptr(GPtrArray) outs = NULL;
      g_autofree float *y = NULL;
      static const gint32 ids[5] = { 3, 255, 0, 17, 128 };
      guint64 packed, dense, borrowed, float_bytes = (vocab * dim + 2 * hidden * dim) * 4, want_packed = 0;
      gsize n = 0;

      append_lut_weight (s, "embd", "ios18", "fp32", bits[b], vocab, dim, vocab / group, rand, we);
      append_lut_weight (s, "w1", "ios18", "fp32", bits[b], hidden, dim, hidden / group, rand, w1);
      append_lut_weight (s, "w2", "ios18", "fp32", bits[b], dim, hidden, dim / group, rand, w2);
      g_string_append_printf (s,
        "        tensor<fp32, [5, %zu]> h = gather(x = embd, indices = ids, axis = int32(0))[name = string(\"h\")];\n"
        "        tensor<fp32, [5, %zu]> a = linear(x = h, weight = w1)[name = string(\"a\")];\n"
        "        tensor<fp32, [5, %zu]> r = relu(x = a)[name = string(\"r\")];\n"
        "        tensor<fp32, [5, %zu]> y = linear(x = r, weight = w2)[name = string(\"y\")];\n"
        "    } -> (y);\n}\n", dim, hidden, hidden, dim);
      text = g_string_free (s, FALSE);
      want_packed = (vocab * ((dim + 31) / 32) + hidden * ((dim + 31) / 32) + dim * ((hidden + 31) / 32)) * 4 * bits[b] +
                    (vocab + hidden + dim) / group * MAX (16, 1u << bits[b]) * sizeof (float);

      backend = ane_test_cpu_backend_for_text (text, &program);
      ane_cpu_plan_get_const_bytes (ane_cpu_backend_get_plan (backend), &packed, &dense, &borrowed);
      g_test_message ("%u-bit palettized MLP (%" G_GUINT64_FORMAT " bytes as floats): plan holds %" G_GUINT64_FORMAT
                      " packed, %" G_GUINT64_FORMAT " dense, %" G_GUINT64_FORMAT " borrowed", bits[b], float_bytes,
                      packed, dense, borrowed);
      /* the indices at their bits and the tables, each weight once */
      g_assert_cmpuint (packed, ==, want_packed);
      g_assert_cmpuint (packed, <, float_bytes * bits[b] / 32 + float_bytes / 16);
      /* no dense copy of any weight (the smallest is dim · hidden floats) */
      g_assert_cmpuint (dense, <, dim * hidden * 4 / 10);

      g_hash_table_insert (inputs, (gpointer) "ids", ane_tensor_new_from_ints ("ids", (const gint64[]) { 5 }, 1, ids, 5,
                                                                              &error));
      g_assert_no_error (error);
      outs = ane_cpu_backend_run (backend, inputs, NULL, FALSE, NULL, &error);
      g_assert_no_error (error);
      y = ane_test_output_floats (outs, 0, &n);
      g_assert_cmpuint (n, ==, 5 * dim);
      for (gsize t = 0; t < 5; t++)
        {
          double r[160], mag_r[160];

          for (gsize j = 0; j < hidden; j++)
            {
              double a = 0.0, mag = 0.0;

              for (gsize k = 0; k < dim; k++)
                {
                  a += (double) w1[j * dim + k] * we[(gsize) ids[t] * dim + k];
                  mag += fabs ((double) w1[j * dim + k] * we[(gsize) ids[t] * dim + k]);
                }
              r[j] = MAX (a, 0.0);
              mag_r[j] = mag;
            }
          for (gsize i = 0; i < dim; i++)
            {
              double want = 0.0, mag = 0.0;

              for (gsize j = 0; j < hidden; j++)
                {
                  want += (double) w2[i * hidden + j] * r[j];
                  /* the first product's rounding carried through */
                  mag += fabs ((double) w2[i * hidden + j]) * (r[j] + mag_r[j] * ldexp (1.0, -20));
                }
              g_assert_cmpfloat (fabs (y[t * dim + i] - want), <=, ldexp (mag, -20) * 2.0);
            }
        }
    }
}

/* --- the conformance pack's palettized package --------------------------- */

static GBytes *
package_blob (gpointer     user_data,
              const char  *file_name,
              guint64      offset,
              GError     **error)
{
  return ane_mlpackage_dup_blob (user_data, file_name, offset, NULL, error);
}

/* Reads a little-endian float32 .npy (the conformance pack's format). */
static float *
npy_floats (const char *path,
            gsize      *n)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize len, hlen;
  float *f;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, >=, 10);
  g_assert_cmpmem (contents, 6, "\x93NUMPY", 6);
  hlen = (guint8) contents[8] | (gsize) (guint8) contents[9] << 8;
  g_assert_nonnull (g_strstr_len (contents + 10, (gssize) hlen, "'<f4'"));
  *n = (len - 10 - hlen) / 4;
  f = g_new (float, MAX (*n, 1));
  memcpy (f, contents + 10 + hlen, *n * 4);
  return f;
}

/* tests/data/conformance/palettized_ios18 (coremltools' own package: an
 * fp16 program, constexpr_lut_to_dense W_lut feeding a linear): W_lut is
 * packed, its weights are intermediate/W_lut.npy bit for bit (the pack's
 * README: coremltools' materialization), and y matches expected/y.npy at
 * the README's tolerance and the dense path's y within fp16 rounding. */
static void
test_conformance_palettized (void)
{
  const char *srcdir = g_getenv ("G_TEST_SRCDIR") ? g_getenv ("G_TEST_SRCDIR") : ".";
  g_autofree char *dir = g_build_filename (srcdir, "data", "conformance", "palettized_ios18", NULL);
  g_autofree char *pkg = g_build_filename (dir, "model.mlpackage", NULL);
  g_autofree char *x_path = g_build_filename (dir, "inputs", "x.npy", NULL);
  g_autofree char *y_path = g_build_filename (dir, "expected", "y.npy", NULL);
  g_autofree char *w_path = g_build_filename (dir, "intermediate", "W_lut.npy", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMLPackage) package = ane_mlpackage_open (pkg, &error);
  g_autoptr(AneCpuBackend) backend = NULL, dense_backend = NULL;
  g_autoptr(AneCpuValue) w = NULL;
  g_autoptr(GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  g_autoptr(GPtrArray) outs = NULL, dense_outs = NULL;
  g_autofree float *x = NULL, *want_y = NULL, *want_w = NULL, *y = NULL, *dy = NULL;
  AneSpec spec;
  gsize nx, ny, nw, n = 0;
  gboolean packed = FALSE;
  guint64 packed_bytes, dense_bytes, borrowed;

  g_assert_no_error (error);
  backend = ane_cpu_backend_new_for_program (ane_mlpackage_get_program (package), NULL, package_blob, package, NULL,
                                             &error);
  g_assert_no_error (error);
  {
    /* the dense path: W_lut made an output of the program too (a graph
     * output is never packed, so the linear reads the expanded weight) */
    AneMilBlock *block = ane_mlpackage_get_program (package)->functions[0]->value->block_specializations[0]->value;
    char **saved = block->outputs;
    gsize n_saved = block->n_outputs;
    g_autofree char **outputs = g_new0 (char *, n_saved + 1);

    memcpy (outputs, saved, n_saved * sizeof (char *));
    outputs[n_saved] = (char *) "W_lut";
    block->outputs = outputs;
    block->n_outputs = n_saved + 1;
    dense_backend = ane_cpu_backend_new_for_program (ane_mlpackage_get_program (package), NULL, package_blob, package,
                                                     NULL, &error);
    block->outputs = saved;
    block->n_outputs = n_saved;
    g_assert_no_error (error);
  }
  {
    gboolean dense_packed = TRUE;
    g_autoptr(AneCpuValue) dw = ane_cpu_plan_dup_const (ane_cpu_backend_get_plan (dense_backend), "W_lut", &dense_packed);

    g_assert_nonnull (dw);
    g_assert_false (dense_packed);
  }

  w = ane_cpu_plan_dup_const (ane_cpu_backend_get_plan (backend), "W_lut", &packed);
  g_assert_nonnull (w);
  g_assert_true (packed);
  want_w = npy_floats (w_path, &nw);
  g_assert_cmpuint (nw, ==, w->n);
  for (gsize i = 0; i < nw; i++)
    g_assert_cmpfloat (w->f[i], ==, want_w[i]);
  ane_cpu_plan_get_const_bytes (ane_cpu_backend_get_plan (backend), &packed_bytes, &dense_bytes, &borrowed);
  g_test_message ("palettized_ios18: W_lut [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] packed in %" G_GUINT64_FORMAT
                  " bytes (%zu as fp32)", w->shape[0], w->shape[1], packed_bytes, nw * 4);
  g_assert_cmpuint (packed_bytes, <, nw * 4 / 2);

  ane_cpu_plan_input_spec (ane_cpu_backend_get_plan (backend), 0, &spec);
  x = npy_floats (x_path, &nx);
  g_hash_table_insert (inputs, (gpointer) "x", ane_tensor_new_from_floats ("x", spec.shape, spec.rank, x, nx, &error));
  g_assert_no_error (error);
  outs = ane_cpu_backend_run (backend, inputs, NULL, FALSE, NULL, &error);
  g_assert_no_error (error);
  dense_outs = ane_cpu_backend_run (dense_backend, inputs, NULL, FALSE, NULL, &error);
  g_assert_no_error (error);
  want_y = npy_floats (y_path, &ny);
  y = ane_test_output_floats (outs, 0, &n);
  g_assert_cmpuint (n, ==, ny);
  dy = ane_test_output_floats (dense_outs, 0, &n);
  g_assert_cmpuint (n, ==, ny);
  ane_test_assert_close_floats ("palettized_ios18 y", y, want_y, ny, 1e-2, 1e-2);
  /* the dense path's y: the same weights, fp32 sums in another order, then
   * fp16: at most an fp16 unit apart */
  for (gsize i = 0; i < ny; i++)
    g_assert_cmpfloat (fabs (y[i] - dy[i]), <=, ldexp (fabs (dy[i]), -10) + 1e-6);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/cpu/lut/kernels", test_kernels);
  g_test_add_func ("/ane/cpu/lut/pack-refuses", test_pack_refuses);
  g_test_add_func ("/ane/cpu/lut/programs", test_programs);
  g_test_add_func ("/ane/cpu/lut/dense-fallbacks", test_dense_fallbacks);
  g_test_add_func ("/ane/cpu/lut/joint-lut", test_joint_lut);
  g_test_add_func ("/ane/cpu/lut/reload", test_reload);
  g_test_add_func ("/ane/cpu/lut/palettized-memory", test_palettized_memory);
  g_test_add_func ("/ane/cpu/lut/conformance-palettized", test_conformance_palettized);
  return g_test_run ();
}
