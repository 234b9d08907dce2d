/* test-compress.c: ane_package_compress() from C, every mode on every target
 *
 * The Python suite (tests/python/test_compress.py) checks the values
 * against numpy and tests/contract/compare_compression.py against
 * coremltools; this suite runs the same paths from C, where the sanitizer
 * builds (ASan + UBSan, TSan) and clang see them: each mode, granularity and
 * joint form on an iOS16 and an iOS18 package, the compressed package run on
 * the CPU backend against the float one, the reconstruction error within
 * the bound its bits give, saved and loaded back byte-identical in its
 * outputs, and the refusals.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include <ane-glib/ane-glib.h>

#include "ane-package-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"
#include "runtime/cpu/ane-cpu-private.h"
#include "ane-test-util.h"

#define N 48   /* output channels */
#define K 64   /* input channels */

/* y = x · wᵀ with x [4, K] and w [N, K] (a 1×1 conv once lowered). */
static AnePackage *
weight_package (AneTarget target,
                float    *w_out)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  gint64 xs[] = { 4, K }, ws[] = { N, K };
  g_autoptr(AneTensor) w = ane_test_tensor_random ("w", ws, 2, 16, -1.0f, 1.0f);
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
  g_autoptr(AneTensor) p = NULL;
  g_autoptr(AneTensor) y = NULL;
  g_autofree float *v = ane_test_dup_floats (w);
  g_autoptr(GError) error = NULL;
  AnePackage *pkg;

  memcpy (w_out, v, sizeof (float) * N * K);
  p = ane_graph_param_with_value (g, w, &error);
  g_assert_no_error (error);
  y = ane_graph_matmul (g, x, p, FALSE, TRUE, &error);
  g_assert_no_error (error);
  ane_test_output (g, "y", y);
  pkg = ane_package_new_from_graph (g, target, ANE_PRECISION_FLOAT32, &error);
  g_assert_no_error (error);
  return pkg;
}

static AneTensor *
run (AnePackage *pkg,
     AneTensor  *x)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneExecutable) exe = ane_executable_new_from_package (pkg, NULL, &error);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  out = ane_executable_run (exe, &x, 1, NULL, &error);
  g_assert_no_error (error);
  return g_object_ref (g_ptr_array_index (out, 0));
}

typedef struct {
  const char        *what;
  AneCompressConfig *(*make) (void);
  gboolean           ios18_only;
  double             bound;      /* the largest |w − w'| allowed, for weights in [−1, 1) */
} Case;

static AneCompressConfig *pal4 (void) { return ane_compress_config_new_palettize (4); }
static AneCompressConfig *pal8 (void) { return ane_compress_config_new_palettize (8); }
static AneCompressConfig *pal2u (void)
{
  AneCompressConfig *c = ane_compress_config_new_palettize (2);
  ane_compress_config_set_method (c, ANE_PALETTIZE_UNIFORM);
  return c;
}
static AneCompressConfig *pal3g (void)
{
  AneCompressConfig *c = ane_compress_config_new_palettize (3);
  ane_compress_config_set_granularity (c, ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL, 8);
  return c;
}
static AneCompressConfig *pal4v (void)
{
  AneCompressConfig *c = ane_compress_config_new_palettize (4);
  ane_compress_config_set_cluster_dim (c, 2);
  return c;
}
static AneCompressConfig *pal4i8 (void)
{
  AneCompressConfig *c = ane_compress_config_new_palettize (4);
  ane_compress_config_set_int8_lut (c, TRUE);
  return c;
}
static AneCompressConfig *q8 (void) { return ane_compress_config_new_quantize (8, TRUE); }
static AneCompressConfig *q8a (void)
{
  AneCompressConfig *c = ane_compress_config_new_quantize (8, FALSE);
  ane_compress_config_set_symmetric (c, FALSE);
  ane_compress_config_set_granularity (c, ANE_COMPRESS_GRANULARITY_PER_TENSOR, 0);
  return c;
}
static AneCompressConfig *q4b (void)
{
  AneCompressConfig *c = ane_compress_config_new_quantize (4, TRUE);
  ane_compress_config_set_granularity (c, ANE_COMPRESS_GRANULARITY_PER_BLOCK, 16);
  return c;
}
static AneCompressConfig *u4 (void) { return ane_compress_config_new_quantize (4, FALSE); }
static AneCompressConfig *pr50 (void) { return ane_compress_config_new_prune (0.5); }
static AneCompressConfig *pr24 (void) { return ane_compress_config_new_prune_n_m (2, 4); }
static AneCompressConfig *pr_pal (void)
{
  AneCompressConfig *c = ane_compress_config_new_palettize (4);
  ane_compress_config_set_prune_sparsity (c, 0.3);
  return c;
}
static AneCompressConfig *pr_q (void)
{
  AneCompressConfig *c = ane_compress_config_new_quantize (4, FALSE);
  ane_compress_config_set_symmetric (c, FALSE);
  ane_compress_config_set_prune_threshold (c, 0.2);
  return c;
}

/* Bounds for weights uniform in [−1, 1): a level of the quantizer or table
 * is 2/(2^n − 1) wide (a symmetric signed range one level fewer), half of
 * it the largest rounding error; k-means tables sit no further apart than
 * uniform ones where the weights are dense; pruning drops weights up to
 * its threshold, at most 1. */
static const Case cases[] = {
  { "palettize 4-bit", pal4, FALSE, 2.0 / 15 },
  { "palettize 8-bit", pal8, FALSE, 2.0 / 255 },
  { "palettize 2-bit uniform", pal2u, FALSE, 1.0 / 3 + 1e-3 },
  { "palettize 3-bit per grouped channel", pal3g, TRUE, 2.0 / 7 },
  { "palettize 4-bit vectors of 2", pal4v, TRUE, 1.0 },
  { "palettize 4-bit int8 LUT", pal4i8, TRUE, 2.0 / 15 + 2.0 / 127 },
  { "quantize int8 per channel", q8, FALSE, 1.0 / 127 + 1e-6 },
  { "quantize uint8 affine per tensor", q8a, FALSE, 1.0 / 255 + 1e-6 },
  { "quantize int4 per block", q4b, TRUE, 1.0 / 7 + 1e-6 },
  { "quantize uint4 per channel", u4, TRUE, 1.0 / 7 + 1e-6 },
  { "prune 50%", pr50, FALSE, 0.51 },
  { "prune 2:4", pr24, FALSE, 1.0 },
  { "prune + palettize", pr_pal, TRUE, 0.31 },
  { "prune + quantize", pr_q, TRUE, 0.21 },
};

static void
test_every_mode (void)
{
  const AneTarget targets[] = { ANE_TARGET_IOS16, ANE_TARGET_IOS18 };
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-compress-XXXXXX");
  gint64 xs[] = { 4, K };
  g_autoptr(AneTensor) x = ane_test_tensor_random ("x", xs, 2, 3, -1.0f, 1.0f);

  for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
    {
      float w[N * K];
      g_autoptr(AnePackage) pkg = weight_package (targets[t], w);
      g_autoptr(AneTensor) ref = run (pkg, x);
      g_autofree float *yr = ane_test_dup_floats (ref);

      for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
        {
          g_autoptr(AneCompressConfig) config = cases[c].make ();
          g_autoptr(GError) error = NULL;
          g_autoptr(AnePackage) out = NULL;
          g_autoptr(AneTensor) y = NULL;
          g_autoptr(AneTensor) y2 = NULL;
          g_autoptr(AnePackage) back = NULL;
          g_autofree float *yc = NULL;
          g_autofree char *path = g_strdup_printf ("%s/%u-%u.mlpackage", dir, t, c);
          g_autofree char *text = NULL;
          g_auto(GStrv) problems = NULL;
          AneCompressReport *report;
          AneCompressedWeight *entry;
          double worst = 0;

          ane_compress_config_set_min_size (config, 0);
          out = ane_package_compress (pkg, config, NULL, NULL, &error);
          if (cases[c].ios18_only && targets[t] == ANE_TARGET_IOS16)
            {
              /* every refusal names the target */
              g_assert_null (out);
              ane_test_assert_error (&error, ANE_ERROR_UNSUPPORTED, "iOS16", NULL);
              continue;
            }
          g_assert_no_error (error);
          problems = ane_package_check_types (out, NULL);
          g_assert_cmpstrv (problems, (const char *const[]) { NULL });
          report = ane_package_get_compression_report (out);
          g_assert_nonnull (report);
          g_assert_cmpuint (ane_compress_report_get_weights (report)->len, ==, 1);
          entry = g_ptr_array_index (ane_compress_report_get_weights (report), 0);
          g_assert_cmpstr (entry->name, ==, "w_kernel");
          g_assert_cmpfloat (entry->max_error, <=, cases[c].bound);
          g_assert_cmpfloat (entry->rms_error, <=, entry->max_error);
          g_assert_cmpuint (entry->bytes_after, <, entry->bytes_before);
          g_assert_cmpfloat (ane_compress_report_get_ratio (report), <, 1.0);
          text = ane_compress_report_to_string (report);
          g_assert_nonnull (strstr (text, "w_kernel"));

          /* the outputs move by no more than the weights allow: |Δy| <=
           * Σ|x|·max|Δw| = K · max_error for |x| < 1 */
          y = run (out, x);
          yc = ane_test_dup_floats (y);
          for (guint i = 0; i < 4 * N; i++)
            worst = MAX (worst, fabs ((double) yc[i] - yr[i]));
          g_assert_cmpfloat (worst, <=, K * entry->max_error + 1e-4);

          /* saved, loaded back, the same outputs */
          g_assert_true (ane_package_save (out, path, FALSE, &error));
          g_assert_no_error (error);
          back = ane_package_load (path, &error);
          g_assert_no_error (error);
          y2 = run (back, x);
          ane_test_assert_close_tensors (cases[c].what, y2, y, 0.0, 0.0);
        }
    }
  ane_test_remove_tree (dir);
}

static void
test_refusals (void)
{
  float w[N * K];
  g_autoptr(AnePackage) p15 = weight_package (ANE_TARGET_IOS15, w);
  g_autoptr(AnePackage) p18 = weight_package (ANE_TARGET_IOS18, w);
  g_autoptr(AneCompressConfig) any = ane_compress_config_new_prune (0.5);
  g_autoptr(AneCompressConfig) bits = ane_compress_config_new_palettize (5);
  g_autoptr(AneCompressConfig) nm = ane_compress_config_new_prune_n_m (3, 2);
  g_autoptr(AneCompressConfig) grouped = ane_compress_config_new_quantize (8, TRUE);
  g_autoptr(AneCompressConfig) over = ane_compress_config_new_palettize (4);
  g_autoptr(AneCompressConfig) bad = ane_compress_config_new_quantize (3, TRUE);
  g_autoptr(GError) error = NULL;

  g_assert_null (ane_package_compress (p15, any, NULL, NULL, &error));
  ane_test_assert_error (&error, ANE_ERROR_UNSUPPORTED, "iOS16", "iOS15", NULL);
  g_assert_null (ane_package_compress (p18, bits, NULL, NULL, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "5", NULL);
  g_assert_null (ane_package_compress (p18, nm, NULL, NULL, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "3:2", NULL);
  ane_compress_config_set_granularity (grouped, ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL, 4);
  g_assert_null (ane_package_compress (p18, grouped, NULL, NULL, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "per grouped channel", NULL);
  ane_compress_config_add_override (over, bad);
  g_assert_null (ane_package_compress (p18, over, NULL, NULL, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "override 1", "3", NULL);
}

static void
on_progress (AneProgress *progress,
             gpointer     user_data)
{
  guint *calls = user_data;

  (*calls)++;
  g_assert_cmpstr (ane_progress_get_stage (progress), ==, "compressing");
  ane_progress_cancel (progress);
}

static void
test_cancel (void)
{
  float w[N * K];
  g_autoptr(AnePackage) pkg = weight_package (ANE_TARGET_IOS18, w);
  g_autoptr(AneCompressConfig) config = ane_compress_config_new_palettize (4);
  guint calls = 0;
  g_autoptr(AneProgress) progress = ane_progress_new (on_progress, &calls, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  ane_compress_config_set_min_size (config, 0);
  g_assert_null (ane_package_compress (pkg, config, NULL, progress, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (calls, ==, 1);
  g_clear_error (&error);
  g_cancellable_cancel (cancellable);
  g_assert_null (ane_package_compress (pkg, config, cancellable, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Apple's two-function package: the weight both functions share is
 * compressed once, and each function still runs. */
static void
test_multifunction (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "conformance", "multifunction",
                                                 "model.mlpackage", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_load (path, &error);
  g_autoptr(AneCompressConfig) config = ane_compress_config_new_palettize (6);
  g_autoptr(AnePackage) out = NULL;
  g_auto(GStrv) functions = NULL;

  g_assert_no_error (error);
  ane_compress_config_set_min_size (config, 10);
  out = ane_package_compress (pkg, config, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_compress_report_get_weights (ane_package_get_compression_report (out))->len, ==, 2);
  g_assert_cmpuint (ane_package_get_weight_bytes (out), <, ane_package_get_weight_bytes (pkg) / 2);
  functions = ane_package_list_functions (out);
  for (guint f = 0; functions[f]; f++)
    {
      g_autoptr(AneExecutable) exe = ane_executable_new_from_package (out, functions[f], &error);

      g_assert_no_error (error);
      g_assert_true (ane_executable_compile (exe, NULL, &error));
      g_assert_no_error (error);
    }
}

/* Issue 16 item 5 / issue 15 item 2: the CPU backend runs the forms the
 * compressor writes on the compressed weights. The Neural Engine lowering
 * makes the matmul a 1×1 conv, whose weight [N, K, 1, 1] the plan holds as
 * the [N, K] packed matrix: its bytes are the compressed ones, nothing of
 * the weight's float size stays dense. (Pruned weights are expanded: the
 * CPU backend has no sparse kind yet, docs/cpu-backend.md.) */
static void
test_cpu_keeps_it_compressed (void)
{
  /* pruned (ANE_CPU_PACKED_SPARSE): the mask and the kept values at 4
   * bytes (an fp32 program; the joint forms' too), under the dense 4 bytes
   * a weight rather than 2 */
  static const struct { AneTarget target; AneCompressConfig *(*make) (void); gboolean pruned; } forms[] = {
    { ANE_TARGET_IOS18, q8 }, { ANE_TARGET_IOS16, q8 }, { ANE_TARGET_IOS18, q4b }, { ANE_TARGET_IOS18, u4 },
    { ANE_TARGET_IOS18, pal4 }, { ANE_TARGET_IOS16, pal4 }, { ANE_TARGET_IOS18, pal3g },
    { ANE_TARGET_IOS18, pal4i8 },
    { ANE_TARGET_IOS17, pr50, TRUE }, { ANE_TARGET_IOS18, pr50, TRUE }, { ANE_TARGET_IOS18, pr24, TRUE },
    { ANE_TARGET_IOS18, pr_pal, TRUE }, { ANE_TARGET_IOS18, pr_q, TRUE },
  };
  for (guint f = 0; f < G_N_ELEMENTS (forms); f++)
    {
      float w[N * K];
      g_autoptr(AnePackage) pkg = weight_package (forms[f].target, w);
      g_autoptr(AneCompressConfig) config = forms[f].make ();
      g_autoptr(AnePackage) out = NULL;
      g_autoptr(GError) error = NULL;
      AneCpuBackend *backend;
      guint64 packed = 0, dense = 0, borrowed = 0;

      ane_compress_config_set_min_size (config, 0);
      out = ane_package_compress (pkg, config, NULL, NULL, &error);
      g_assert_no_error (error);
      backend = ane_cpu_backend_new_for_program (ane_package_get_model (out)->mlprogram, "main",
                                                 (AneCpuGetBlob) ane_package_read_blob, g_object_ref (out),
                                                 g_object_unref, &error);
      g_assert_no_error (error);
      ane_cpu_plan_get_const_bytes (ane_cpu_backend_get_plan (backend), &packed, &dense, &borrowed);
      g_test_message ("form %u: packed %" G_GUINT64_FORMAT ", dense %" G_GUINT64_FORMAT, f, packed, dense);
      g_assert_cmpuint (packed, >, 0);
      g_assert_cmpuint (packed, <, forms[f].pruned ? N * K * 4 : N * K * 2 + 1);
      g_assert_cmpuint (dense, <, N * K);
      ane_cpu_backend_free (backend);
      /* the values: every-mode above runs these packages against the float
       * ones; tests/python/test_compress.py reads each weight back exactly */
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/compress/every-mode", test_every_mode);
  g_test_add_func ("/compress/refusals", test_refusals);
  g_test_add_func ("/compress/cancel", test_cancel);
  g_test_add_func ("/compress/multifunction", test_multifunction);
  g_test_add_func ("/compress/cpu-keeps-it-compressed", test_cpu_keeps_it_compressed);
  return g_test_run ();
}
