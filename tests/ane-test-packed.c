/* ane-test-packed.c: the per-ISA checks of a packed weight and the running
 * of programs that read one, shared by tests/test-cpu-lut.c and
 * tests/test-cpu-sparse.c (see ane-test-packed.h)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-packed.h"
#include "mil/ane-mil-text-private.h"
#include "mil/ane-milblob-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

static const char *const isa_names[] = { "portable", "avx2", "avx512" };

float
ane_test_round_half (float v)
{
  guint16 h;

  ane_f32_to_f16_portable (&v, &h, 1);
  ane_f16_to_f32_portable (&h, &v, 1);
  return v;
}

void
ane_test_packed_log_isas (const char *kind)
{
  g_test_message ("%s kernels: %s by default; checked: portable%s%s", kind, ane_cpu_vec_get_isa (),
                  ane_cpu_vec_isa_available (ANE_CPU_VEC_ISA_AVX2) ? ", avx2" : "",
                  ane_cpu_vec_isa_available (ANE_CPU_VEC_ISA_AVX512) ? ", avx512" : " (no AVX-512 on this CPU)");
}

/* Every weight through ane_cpu_packed_matmul with one-hot activations:
 * m rows at a time, row i of x picking column c0 + i (rows past the
 * weight's columns zero). Exact: the other terms are 0 · w. */
static void
check_weights_by_products (const AneCpuPacked *p,
                           const float        *w,
                           gsize               m,
                           const char         *what)
{
  g_autofree float *x = g_new0 (float, m * p->cols), *out = g_new (float, m * p->rows);

  for (gsize c0 = 0; c0 < p->cols; c0 += m)
    {
      memset (x, 0, m * p->cols * sizeof (float));
      for (gsize i = 0; i < m && c0 + i < p->cols; i++)
        x[i * p->cols + c0 + i] = 1.0f;
      ane_cpu_packed_matmul (p, x, m, NULL, out);
      for (gsize i = 0; i < m && c0 + i < p->cols; i++)
        for (gsize r = 0; r < p->rows; r++)
          {
            float got = out[i * p->rows + r], want = w[r * p->cols + c0 + i];

            if (memcmp (&got, &want, sizeof got) != 0)
              g_error ("%s, m %zu: weight (%zu, %zu) is %.9g, the dense kernel's %.9g", what, m, r, c0 + i, got, want);
          }
    }
}

/* The products of random activations and bias on m rows: near a
 * double-precision sum, the same for 1 to 4 threads; a decode row the
 * same as row 0 of a short batch (the row dots and the
 * dequantize-and-dot path sum alike). */
static void
check_random_products (const AneCpuPacked *p,
                       const float        *w,
                       gsize               m,
                       const char         *what,
                       const char         *isa,
                       GRand              *rand)
{
  gsize rows = p->rows, cols = p->cols;
  g_autofree float *x = g_new (float, m * cols), *bias = g_new (float, rows);
  g_autofree float *first = NULL;

  for (gsize i = 0; i < m * cols; i++)
    x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  for (gsize r = 0; r < rows; r++)
    bias[r] = (float) g_rand_double_range (rand, -1.0, 1.0);
  for (guint threads = 1; threads <= 4; threads++)
    {
      g_autofree float *out = g_new (float, m * rows);

      ane_cpu_set_n_threads (threads);
      ane_cpu_packed_matmul (p, x, m, bias, out);
      for (gsize i = 0; i < m; i++)
        for (gsize r = 0; r < rows; r++)
          {
            double want = bias[r], mag = fabs (bias[r]);

            for (gsize k = 0; k < cols; k++)
              {
                want += (double) w[r * cols + k] * x[i * cols + k];
                mag += fabs ((double) w[r * cols + k] * x[i * cols + k]);
              }
            if (fabs (out[i * rows + r] - want) > ldexp (mag, -20))
              g_error ("%s, m %zu, %s kernels, %u threads: out[%zu, %zu] = %.9g, want %.9g", what, m, isa, threads, i,
                       r, out[i * rows + r], want);
          }
      if (threads == 1)
        first = g_memdup2 (out, m * rows * sizeof (float));
      else
        g_assert_cmpmem (out, m * rows * sizeof (float), first, m * rows * sizeof (float));
    }
  if (m > 1 && m < 64)
    {
      g_autofree float *one = g_new (float, rows);

      ane_cpu_packed_matmul (p, x, 1, bias, one);
      g_assert_cmpmem (one, rows * sizeof (float), first, rows * sizeof (float));
    }
}

void
ane_test_packed_check_kernels (const AneCpuPacked *p,
                               const float        *w,
                               const char         *what,
                               GRand              *rand)
{
  /* one row, a few (the row dequantizer and dots), a GEMM's worth */
  static const gsize ms[] = { 1, 2, 5, 70 };
  g_autofree float *row = g_new (float, p->cols);

  for (gsize r = 0; r < p->rows; r++)
    {
      ane_cpu_packed_dequantize_row (p, r, row);
      g_assert_cmpmem (row, p->cols * sizeof (float), w + r * p->cols, p->cols * sizeof (float));
    }
  for (AneCpuVecIsa isa = ANE_CPU_VEC_ISA_PORTABLE; isa <= ANE_CPU_VEC_ISA_AVX512; isa++)
    {
      if (!ane_cpu_vec_set_isa (isa))
        continue;
      /* every shape runs on the ISA's own kernels */
      g_assert_cmpstr (ane_cpu_packed_kernel_isa (p), ==, isa_names[isa]);
      check_weights_by_products (p, w, 1, what);
      check_weights_by_products (p, w, 7, what);
      check_weights_by_products (p, w, 64, what);
      for (gsize j = 0; j < G_N_ELEMENTS (ms); j++)
        check_random_products (p, w, ms[j], what, isa_names[isa], rand);
    }
  ane_cpu_vec_set_isa (ANE_CPU_VEC_ISA_DEFAULT);
  ane_cpu_set_n_threads (0);
}

AneCpuBackend *
ane_test_cpu_backend_for_text (const char     *text,
                               AneMilProgram **program_out)
{
  g_autoptr(GError) error = NULL;
  AneMilProgram *program = ane_mil_text_parse (text, -1, "test", &error);
  AneCpuBackend *backend;

  g_assert_no_error (error);
  backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  *program_out = program;
  return backend;
}

GPtrArray *
ane_test_cpu_run_x (AneCpuBackend *backend,
                    const float   *x,
                    const gint64  *shape,
                    guint          rank)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  gsize n = 1;
  AneTensor *t;
  GPtrArray *outs;

  for (guint d = 0; d < rank; d++)
    n *= (gsize) shape[d];
  t = ane_tensor_new_from_floats ("x", shape, rank, x, n, &error);
  g_assert_no_error (error);
  g_hash_table_insert (inputs, (gpointer) "x", t);
  outs = ane_cpu_backend_run (backend, inputs, NULL, FALSE, NULL, &error);
  g_assert_no_error (error);
  return outs;
}

float *
ane_test_output_floats (GPtrArray *outs,
                        guint      i,
                        gsize     *n)
{
  g_autoptr(GError) error = NULL;
  float *f = ane_tensor_dup_floats (g_ptr_array_index (outs, i), n, &error);

  g_assert_no_error (error);
  return f;
}

void
ane_test_append_reader (GString       *s,
                        AneTestReader  reader,
                        const char    *dtype,
                        gsize          m,
                        gsize          n,
                        gsize          k,
                        gboolean       weight_out)
{
  switch (reader)
    {
    case ANE_TEST_READ_LINEAR:
      g_string_append_printf (s, "        tensor<%s, [%zu, %zu]> y = linear(x = x, weight = w)[name = string(\"y\")];\n",
                              dtype, m, n);
      break;
    case ANE_TEST_READ_MATMUL:
      g_string_append_printf (s, "        tensor<%s, [%zu, %zu]> y = matmul(x = x, y = w, transpose_x = bool(false), "
                              "transpose_y = bool(true))[name = string(\"y\")];\n", dtype, m, n);
      break;
    case ANE_TEST_READ_GATHER:
      /* rows 1 and n − 1 of w, then x · wᵀ: both readers take it packed */
      g_string_append_printf (s, "        tensor<%s, [2, %zu]> g = gather(x = w, indices = tensor<int32, [2]>([1, %zu]), "
                              "axis = int32(0))[name = string(\"g\")];\n", dtype, k, n - 1);
      g_string_append_printf (s, "        tensor<%s, [%zu, %zu]> y = linear(x = x, weight = w)[name = string(\"y\")];\n",
                              dtype, m, n);
      break;
    case ANE_TEST_READ_CONV:
      g_string_append_printf (s, "        tensor<%s, [1, %zu, 1, %zu]> y = conv(x = x, weight = w, "
                              "strides = tensor<int32, [2]>([1, 1]), pad_type = string(\"valid\"), "
                              "dilations = tensor<int32, [2]>([1, 1]), groups = int32(1))[name = string(\"y\")];\n",
                              dtype, n, m);
      break;
    }
  g_string_append_printf (s, "    } -> (y%s%s);\n}\n", reader == ANE_TEST_READ_GATHER ? ", g" : "", weight_out ? ", w" : "");
}
