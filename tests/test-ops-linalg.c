/* test-ops-linalg.c: matmul, lora_matmul, grouped_matmul and the GGUF dequant ops
 *
 * The GGUF block tests build blocks from deterministic bytes and compute the
 * expected floats element by element from the block formulas (bit extraction
 * per element, float arithmetic), independently of ane-quant.c's loops.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"

/* --- helpers ------------------------------------------------------------- */

static AneTensor *
int_tensor (const char   *name,
            const gint64 *shape,
            guint         rank,
            const gint32 *values,
            gsize         n)
{
  g_autoptr(GError) error = NULL;
  AneTensor *t = ane_tensor_new_from_ints (name, shape, rank, values, n, &error);

  g_assert_no_error (error);
  return t;
}

/* --- matmul: shapes ------------------------------------------------------ */

typedef struct {
  const char *path;
  AneDType    dtype;
  guint       ra;
  gint64      a[4];
  guint       rb;
  gint64      b[4];
  gboolean    ta, tb;
  guint       ro;
  gint64      o[4];
} MatmulShapeCase;

static const MatmulShapeCase matmul_shape_cases[] = {
  { "/ane/ops/linalg/matmul/shape/2d", ANE_DTYPE_FLOAT32, 2, { 2, 3 }, 2, { 3, 4 }, FALSE, FALSE, 2, { 2, 4 } },
  { "/ane/ops/linalg/matmul/shape/vec-mat", ANE_DTYPE_FLOAT32, 1, { 3 }, 2, { 3, 4 }, FALSE, FALSE, 1, { 4 } },
  { "/ane/ops/linalg/matmul/shape/mat-vec", ANE_DTYPE_FLOAT32, 2, { 2, 3 }, 1, { 3 }, FALSE, FALSE, 1, { 2 } },
  { "/ane/ops/linalg/matmul/shape/vec-vec", ANE_DTYPE_FLOAT32, 1, { 3 }, 1, { 3 }, FALSE, FALSE, 0, { 0 } },
  { "/ane/ops/linalg/matmul/shape/batch-broadcast", ANE_DTYPE_FLOAT32,
    4, { 5, 1, 2, 3 }, 3, { 4, 3, 6 }, FALSE, FALSE, 4, { 5, 4, 2, 6 } },
  { "/ane/ops/linalg/matmul/shape/batch-vec", ANE_DTYPE_FLOAT32, 3, { 2, 2, 3 }, 1, { 3 }, FALSE, FALSE, 2, { 2, 2 } },
  { "/ane/ops/linalg/matmul/shape/vec-batch", ANE_DTYPE_FLOAT32, 1, { 3 }, 3, { 2, 3, 4 }, FALSE, FALSE, 2, { 2, 4 } },
  { "/ane/ops/linalg/matmul/shape/transpose-a", ANE_DTYPE_FLOAT32, 2, { 3, 2 }, 2, { 3, 4 }, TRUE, FALSE, 2, { 2, 4 } },
  { "/ane/ops/linalg/matmul/shape/transpose-b", ANE_DTYPE_FLOAT32, 2, { 2, 3 }, 2, { 4, 3 }, FALSE, TRUE, 2, { 2, 4 } },
  { "/ane/ops/linalg/matmul/shape/transpose-both", ANE_DTYPE_FLOAT16,
    3, { 7, 3, 2 }, 3, { 1, 4, 3 }, TRUE, TRUE, 3, { 7, 2, 4 } },
  /* transposes do not apply to rank-1 operands */
  { "/ane/ops/linalg/matmul/shape/transpose-vec", ANE_DTYPE_BFLOAT16, 1, { 3 }, 2, { 4, 3 }, TRUE, TRUE, 1, { 4 } },
};

static void
test_matmul_shape (gconstpointer data)
{
  const MatmulShapeCase *c = data;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", c->dtype, c->a, c->ra, &error);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", c->dtype, c->b, c->rb, &error);
  g_autoptr(AneTensor) y = ane_graph_matmul (g, a, b, c->ta, c->tb, &error);

  g_assert_no_error (error);
  ane_test_assert_shape (y, c->o, c->ro);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, c->dtype);
}

static void
test_matmul_errors (void)
{
  static const gint64 s23[] = { 2, 3 }, s45[] = { 4, 5 }, s234[] = { 2, 3, 4 }, s343[] = { 3, 4, 3 };
  static const gint64 s3[] = { 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT32, s23, 2, NULL);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT32, s45, 2, NULL);
  g_autoptr(AneTensor) c = ane_graph_input (g, "c", ANE_DTYPE_FLOAT32, s234, 3, NULL);
  g_autoptr(AneTensor) d = ane_graph_input (g, "d", ANE_DTYPE_FLOAT32, s343, 3, NULL);
  g_autoptr(AneTensor) h = ane_graph_input (g, "h", ANE_DTYPE_FLOAT16, s3, 1, NULL);
  g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, s3, 1, NULL);
  g_autoptr(AneTensor) v = ane_graph_input (g, "v", ANE_DTYPE_FLOAT32, s3, 1, NULL);
  g_autoptr(AneTensor) scalar = ane_graph_input (g, "s", ANE_DTYPE_FLOAT32, NULL, 0, NULL);
  AneTensor *y;

  /* K = 3 vs 4 */
  y = ane_graph_matmul (g, a, b, FALSE, FALSE, &error);
  g_assert_null (y);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "matmul", "'a'", "'b'", "float32[2,3]", "float32[4,5]", NULL);

  /* transpose_b makes [4,5] contract over 5 */
  y = ane_graph_matmul (g, a, b, FALSE, TRUE, &error);
  g_assert_null (y);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "matmul", "transposed", NULL);

  /* batch dims 2 vs 3 */
  y = ane_graph_matmul (g, c, d, FALSE, FALSE, &error);
  g_assert_null (y);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "matmul", "batch", "float32[2,3,4]", "float32[3,4,3]", NULL);

  /* dtypes must agree */
  y = ane_graph_matmul (g, v, h, FALSE, FALSE, &error);
  g_assert_null (y);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "matmul", "float16[3]", NULL);

  /* float only */
  y = ane_graph_matmul (g, i, i, FALSE, FALSE, &error);
  g_assert_null (y);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "matmul", "'a'", "int32[3]", NULL);

  /* scalars are not matrices */
  y = ane_graph_matmul (g, scalar, v, FALSE, FALSE, &error);
  g_assert_null (y);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "matmul", "'a'", "float32[]", NULL);
}

/* --- matmul: numbers ----------------------------------------------------- */

/* A = [[1,2,3],[4,5,6]], B = [[1,0],[0,1],[1,1]]: A.B = [[4,5],[10,11]] (by hand). */
static const float mm_a[] = { 1, 2, 3, 4, 5, 6 };
static const float mm_at[] = { 1, 4, 2, 5, 3, 6 };       /* A^T, [3,2] */
static const float mm_b[] = { 1, 0, 0, 1, 1, 1 };
static const float mm_bt[] = { 1, 0, 1, 0, 1, 1 };       /* B^T, [2,3] */
static const float mm_ab[] = { 4, 5, 10, 11 };

typedef struct {
  const char  *path;
  gboolean     ta, tb;
  const float *a, *b;
  gint64       a_shape[2], b_shape[2];
} MatmulValueCase;

static const MatmulValueCase matmul_value_cases[] = {
  { "/ane/ops/linalg/matmul/values/plain", FALSE, FALSE, mm_a, mm_b, { 2, 3 }, { 3, 2 } },
  { "/ane/ops/linalg/matmul/values/transpose-a", TRUE, FALSE, mm_at, mm_b, { 3, 2 }, { 3, 2 } },
  { "/ane/ops/linalg/matmul/values/transpose-b", FALSE, TRUE, mm_a, mm_bt, { 2, 3 }, { 2, 3 } },
  { "/ane/ops/linalg/matmul/values/transpose-both", TRUE, TRUE, mm_at, mm_bt, { 3, 2 }, { 2, 3 } },
};

static void
test_matmul_values (gconstpointer data)
{
  const MatmulValueCase *c = data;
  static const gint64 os[] = { 2, 2 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT32, c->a_shape, 2, &error);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT32, c->b_shape, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_matmul (g, a, b, c->ta, c->tb, &error);
  g_autoptr(AneTensor) ta = ane_test_tensor_f32 ("a", c->a_shape, 2, c->a);
  g_autoptr(AneTensor) tb = ane_test_tensor_f32 ("b", c->b_shape, 2, c->b);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, os, 2);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, ta, tb, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), mm_ab, 4, 0, 0);
}

static void
test_matmul_batch_broadcast (void)
{
  /* a [2,1,1,2]: a[i] = [[i+1, 1]]; b [3,2,1]: b[j] = [[j],[2]];
   * y [2,3,1,1]: y[i][j] = (i+1)*j + 2. */
  static const gint64 as[] = { 2, 1, 1, 2 }, bs[] = { 3, 2, 1 }, os[] = { 2, 3, 1, 1 };
  static const float av[] = { 1, 1, 2, 1 }, bv[] = { 0, 2, 1, 2, 2, 2 };
  static const float expected[] = { 2, 3, 4, 2, 4, 6 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT32, as, 4, &error);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT32, bs, 3, &error);
  g_autoptr(AneTensor) y = ane_graph_matmul (g, a, b, FALSE, FALSE, &error);
  g_autoptr(AneTensor) ta = ane_test_tensor_f32 ("a", as, 4, av);
  g_autoptr(AneTensor) tb = ane_test_tensor_f32 ("b", bs, 3, bv);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, os, 4);
  ane_graph_add_output (g, "y", y, &error);
  out = ane_test_run_reference (g, ta, tb, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 6, 0, 0);
}

static void
test_matmul_vectors (void)
{
  /* v = [1,2,3]; M = [[1,2],[3,4],[5,6]] (3x2); N = [[1,0,1],[2,1,0]] (2x3)
   * v.M = [22, 28]; N.v = [4, 4]; v.v = 14; batched: P [2,2,3] = [N, 2N]
   * P.v = [[4,4],[8,8]] (all by hand). */
  static const gint64 vs[] = { 3 }, ms[] = { 3, 2 }, ns[] = { 2, 3 }, ps[] = { 2, 2, 3 };
  static const gint64 s2[] = { 2 }, s22[] = { 2, 2 };
  static const float vv[] = { 1, 2, 3 }, mv[] = { 1, 2, 3, 4, 5, 6 }, nv[] = { 1, 0, 1, 2, 1, 0 };
  static const float pv[] = { 1, 0, 1, 2, 1, 0, 2, 0, 2, 4, 2, 0 };
  static const float e_vm[] = { 22, 28 }, e_nv[] = { 4, 4 }, e_vv[] = { 14 }, e_pv[] = { 4, 4, 8, 8 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) v = ane_graph_input (g, "v", ANE_DTYPE_FLOAT32, vs, 1, &error);
  g_autoptr(AneTensor) m = ane_graph_input (g, "m", ANE_DTYPE_FLOAT32, ms, 2, &error);
  g_autoptr(AneTensor) n = ane_graph_input (g, "n", ANE_DTYPE_FLOAT32, ns, 2, &error);
  g_autoptr(AneTensor) p = ane_graph_input (g, "p", ANE_DTYPE_FLOAT32, ps, 3, &error);
  g_autoptr(AneTensor) vm = ane_graph_matmul (g, v, m, FALSE, FALSE, &error);
  g_autoptr(AneTensor) nvp = ane_graph_matmul (g, n, v, FALSE, FALSE, &error);
  g_autoptr(AneTensor) vvp = ane_graph_matmul (g, v, v, FALSE, FALSE, &error);
  g_autoptr(AneTensor) pvp = ane_graph_matmul (g, p, v, FALSE, FALSE, &error);
  g_autoptr(AneTensor) tv = ane_test_tensor_f32 ("v", vs, 1, vv);
  g_autoptr(AneTensor) tm = ane_test_tensor_f32 ("m", ms, 2, mv);
  g_autoptr(AneTensor) tn = ane_test_tensor_f32 ("n", ns, 2, nv);
  g_autoptr(AneTensor) tp = ane_test_tensor_f32 ("p", ps, 3, pv);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (vm, s2, 1);
  ane_test_assert_shape (nvp, s2, 1);
  ane_test_assert_shape (vvp, NULL, 0);
  ane_test_assert_shape (pvp, s22, 2);
  ane_graph_add_output (g, "vm", vm, &error);
  ane_graph_add_output (g, "nv", nvp, &error);
  ane_graph_add_output (g, "vv", vvp, &error);
  ane_graph_add_output (g, "pv", pvp, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, tv, tm, tn, tp, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), e_vm, 2, 0, 0);
  ane_test_assert_close (g_ptr_array_index (out, 1), e_nv, 2, 0, 0);
  ane_test_assert_close (g_ptr_array_index (out, 2), e_vv, 1, 0, 0);
  ane_test_assert_close (g_ptr_array_index (out, 3), e_pv, 4, 0, 0);
}

static void
test_matmul_fp16 (void)
{
  /* [1, 2^-11] . [1, 1]^T = 1 + 2^-11, not a half: rounds (ties to even) to 1;
   * the reference rounds once per op, so the sum itself is exact first. */
  static const gint64 as[] = { 1, 2 }, bs[] = { 2, 1 };
  static const float expected[] = { 1.0f };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT16, as, 2, &error);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT16, bs, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_matmul (g, a, b, FALSE, FALSE, &error);
  guint16 av[2] = { ane_float_to_half (1.0f), ane_float_to_half (0x1p-11f) };
  guint16 bv[2] = { ane_float_to_half (1.0f), ane_float_to_half (1.0f) };
  g_autoptr(GBytes) ba = g_bytes_new (av, sizeof av);
  g_autoptr(GBytes) bb = g_bytes_new (bv, sizeof bv);
  g_autoptr(AneTensor) ta = ane_tensor_new_from_bytes ("a", ANE_DTYPE_FLOAT16, as, 2, ba, &error);
  g_autoptr(AneTensor) tb = ane_tensor_new_from_bytes ("b", ANE_DTYPE_FLOAT16, bs, 2, bb, &error);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  out = ane_test_run_reference (g, ta, tb, NULL);
  g_assert_cmpint (ane_tensor_get_dtype (g_ptr_array_index (out, 0)), ==, ANE_DTYPE_FLOAT16);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 1, 0, 0);
}

/* --- lora_matmul --------------------------------------------------------- */

static void
test_lora_matmul (void)
{
  /* x [1,2,2] = [[1,2],[3,4]], w = [[1,0],[0,1]], lora_a = [[1],[1]],
   * lora_b = [[1,-1]]: x.A = [3, 7], (x.A).B = [[3,-3],[7,-7]].
   * scale 0.5: [[2.5, 0.5], [6.5, 0.5]]; scale 0: x; scale 1 (default of
   * the catalog): [[4,-1],[10,-3]]. */
  static const gint64 xs[] = { 1, 2, 2 }, ws[] = { 2, 2 }, las[] = { 2, 1 }, lbs[] = { 1, 2 };
  static const float xv[] = { 1, 2, 3, 4 }, wv[] = { 1, 0, 0, 1 }, lav[] = { 1, 1 }, lbv[] = { 1, -1 };
  static const double scales[] = { 0.5, 0.0, 1.0 };
  static const float expected[][4] = { { 2.5f, 0.5f, 6.5f, 0.5f }, { 1, 2, 3, 4 }, { 4, -1, 10, -3 } };

  for (guint c = 0; c < G_N_ELEMENTS (scales); c++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3, &error);
      g_autoptr(AneTensor) w = ane_graph_input (g, "w", ANE_DTYPE_FLOAT32, ws, 2, &error);
      g_autoptr(AneTensor) la = ane_graph_input (g, "lora_a", ANE_DTYPE_FLOAT32, las, 2, &error);
      g_autoptr(AneTensor) lb = ane_graph_input (g, "lora_b", ANE_DTYPE_FLOAT32, lbs, 2, &error);
      g_autoptr(AneTensor) y = ane_graph_lora_matmul (g, x, w, la, lb, scales[c], &error);
      g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", xs, 3, xv);
      g_autoptr(AneTensor) tw = ane_test_tensor_f32 ("w", ws, 2, wv);
      g_autoptr(AneTensor) tla = ane_test_tensor_f32 ("lora_a", las, 2, lav);
      g_autoptr(AneTensor) tlb = ane_test_tensor_f32 ("lora_b", lbs, 2, lbv);
      g_autoptr(GPtrArray) out = NULL;

      g_assert_no_error (error);
      ane_test_assert_shape (y, xs, 3);
      ane_graph_add_output (g, "y", y, &error);
      out = ane_test_run_reference (g, tx, tw, tla, tlb, NULL);
      ane_test_assert_close (g_ptr_array_index (out, 0), expected[c], 4, 0, 0);
    }
}

static void
test_lora_matmul_shapes (void)
{
  static const gint64 xs[] = { 5, 4 }, ws[] = { 4, 6 }, las[] = { 4, 2 }, lbs[] = { 2, 6 };
  static const gint64 os[] = { 5, 6 }, bad_w[] = { 3, 6 }, bad_a[] = { 3, 2 }, bad_b[] = { 3, 6 };
  static const gint64 bad_b2[] = { 2, 5 }, w3[] = { 1, 4, 6 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) w = ane_graph_input (g, "w", ANE_DTYPE_FLOAT32, ws, 2, NULL);
  g_autoptr(AneTensor) la = ane_graph_input (g, "la", ANE_DTYPE_FLOAT32, las, 2, NULL);
  g_autoptr(AneTensor) lb = ane_graph_input (g, "lb", ANE_DTYPE_FLOAT32, lbs, 2, NULL);
  g_autoptr(AneTensor) wbad = ane_graph_input (g, "wbad", ANE_DTYPE_FLOAT32, bad_w, 2, NULL);
  g_autoptr(AneTensor) labad = ane_graph_input (g, "labad", ANE_DTYPE_FLOAT32, bad_a, 2, NULL);
  g_autoptr(AneTensor) lbbad = ane_graph_input (g, "lbbad", ANE_DTYPE_FLOAT32, bad_b, 2, NULL);
  g_autoptr(AneTensor) lbbad2 = ane_graph_input (g, "lbbad2", ANE_DTYPE_FLOAT32, bad_b2, 2, NULL);
  g_autoptr(AneTensor) wr3 = ane_graph_input (g, "wr3", ANE_DTYPE_FLOAT32, w3, 3, NULL);
  g_autoptr(AneTensor) lah = ane_graph_input (g, "lah", ANE_DTYPE_FLOAT16, las, 2, NULL);
  g_autoptr(AneTensor) y = ane_graph_lora_matmul (g, x, w, la, lb, 2.0, &error);
  AneTensor *bad;

  g_assert_no_error (error);
  ane_test_assert_shape (y, os, 2);

  bad = ane_graph_lora_matmul (g, x, wbad, la, lb, 1.0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "lora_matmul", "'w'", "float32[3,6]", "float32[5,4]", NULL);

  bad = ane_graph_lora_matmul (g, x, w, labad, lb, 1.0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "lora_matmul", "'lora_a'", "float32[3,2]", NULL);

  bad = ane_graph_lora_matmul (g, x, w, la, lbbad, 1.0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "lora_matmul", "'lora_b'", "float32[3,6]", NULL);

  bad = ane_graph_lora_matmul (g, x, w, la, lbbad2, 1.0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "lora_matmul", "'lora_b'", "float32[2,5]", NULL);

  bad = ane_graph_lora_matmul (g, x, wr3, la, lb, 1.0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "lora_matmul", "'w'", "float32[1,4,6]", NULL);

  bad = ane_graph_lora_matmul (g, x, w, lah, lb, 1.0, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "lora_matmul", "'lora_a'", "float16[4,2]", NULL);
}

/* --- grouped_matmul ------------------------------------------------------ */

static void
test_grouped_matmul (void)
{
  /* x [3,2] = [[1,2],[3,4],[5,6]]; experts [2,2,2]: e0 = I, e1 = [[0,1],[1,0]];
   * ids = [1,0,1]: y = [[2,1],[3,4],[6,5]]. */
  static const gint64 xs[] = { 3, 2 }, es[] = { 2, 2, 2 }, is[] = { 3 };
  static const float xv[] = { 1, 2, 3, 4, 5, 6 }, ev[] = { 1, 0, 0, 1, 0, 1, 1, 0 };
  static const gint32 iv[] = { 1, 0, 1 };
  static const float expected[] = { 2, 1, 3, 4, 6, 5 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, &error);
  g_autoptr(AneTensor) e = ane_graph_input (g, "e", ANE_DTYPE_FLOAT32, es, 3, &error);
  g_autoptr(AneTensor) ids = ane_graph_input (g, "ids", ANE_DTYPE_INT32, is, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_grouped_matmul (g, x, e, ids, FALSE, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", xs, 2, xv);
  g_autoptr(AneTensor) te = ane_test_tensor_f32 ("e", es, 3, ev);
  g_autoptr(AneTensor) tids = int_tensor ("ids", is, 1, iv, 3);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, xs, 2);
  ane_graph_add_output (g, "y", y, &error);
  out = ane_test_run_reference (g, tx, te, tids, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 6, 0, 0);
}

static void
test_grouped_matmul_transposed (void)
{
  /* x [1,2,2] = [[[1,2],[3,4]]]; experts [E=2,N=3,K=2] (transpose_b):
   * e0 = [[1,0],[0,1],[1,1]], e1 = [[2,0],[0,2],[1,-1]]; ids [1,2] = [[1,0]]:
   * row 0 with e1: [2,4,-1]; row 1 with e0: [3,4,7]. */
  static const gint64 xs[] = { 1, 2, 2 }, es[] = { 2, 3, 2 }, is[] = { 1, 2 }, os[] = { 1, 2, 3 };
  static const float xv[] = { 1, 2, 3, 4 };
  static const float ev[] = { 1, 0, 0, 1, 1, 1, 2, 0, 0, 2, 1, -1 };
  static const gint32 iv[] = { 1, 0 };
  static const float expected[] = { 2, 4, -1, 3, 4, 7 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3, &error);
  g_autoptr(AneTensor) e = ane_graph_input (g, "e", ANE_DTYPE_FLOAT32, es, 3, &error);
  g_autoptr(AneTensor) ids = ane_graph_input (g, "ids", ANE_DTYPE_INT32, is, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_grouped_matmul (g, x, e, ids, TRUE, &error);
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", xs, 3, xv);
  g_autoptr(AneTensor) te = ane_test_tensor_f32 ("e", es, 3, ev);
  g_autoptr(AneTensor) tids = int_tensor ("ids", is, 2, iv, 2);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, os, 3);
  ane_graph_add_output (g, "y", y, &error);
  out = ane_test_run_reference (g, tx, te, tids, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 6, 0, 0);
}

static void
test_grouped_matmul_bad_id (void)
{
  static const gint64 xs[] = { 2, 2 }, es[] = { 2, 2, 2 }, is[] = { 2 };
  static const float xv[] = { 1, 2, 3, 4 }, ev[] = { 1, 0, 0, 1, 0, 1, 1, 0 };
  static const gint32 bad_ids[][2] = { { 0, 2 }, { -1, 0 } };

  for (guint c = 0; c < G_N_ELEMENTS (bad_ids); c++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, &error);
      g_autoptr(AneTensor) e = ane_graph_input (g, "e", ANE_DTYPE_FLOAT32, es, 3, &error);
      g_autoptr(AneTensor) ids = ane_graph_input (g, "ids", ANE_DTYPE_INT32, is, 1, &error);
      g_autoptr(AneTensor) y = ane_graph_grouped_matmul (g, x, e, ids, FALSE, &error);
      g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", xs, 2, xv);
      g_autoptr(AneTensor) te = ane_test_tensor_f32 ("e", es, 3, ev);
      g_autoptr(AneTensor) tids = int_tensor ("ids", is, 1, bad_ids[c], 2);
      AneTensor *inputs[3] = { tx, te, tids };

      g_assert_no_error (error);
      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      ane_test_run_expect_error (g, inputs, 3, ANE_ERROR_INVALID_ARGUMENT, "grouped_matmul", "expert_ids",
                                 c == 0 ? "expert_ids[1] = 2" : "expert_ids[0] = -1", "[0, 2)", NULL);
    }
}

static void
test_grouped_matmul_errors (void)
{
  static const gint64 xs[] = { 3, 2 }, es[] = { 4, 2, 5 }, is[] = { 3 }, is2[] = { 3, 1 };
  static const gint64 is4[] = { 4 }, e2[] = { 2, 5 }, os[] = { 3, 5 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) e = ane_graph_input (g, "e", ANE_DTYPE_FLOAT32, es, 3, NULL);
  g_autoptr(AneTensor) e_2d = ane_graph_input (g, "e2", ANE_DTYPE_FLOAT32, e2, 2, NULL);
  g_autoptr(AneTensor) ids = ane_graph_input (g, "ids", ANE_DTYPE_INT64, is, 1, NULL);
  g_autoptr(AneTensor) fids = ane_graph_input (g, "fids", ANE_DTYPE_FLOAT32, is, 1, NULL);
  g_autoptr(AneTensor) ids2 = ane_graph_input (g, "ids2", ANE_DTYPE_INT32, is2, 2, NULL);
  g_autoptr(AneTensor) ids4 = ane_graph_input (g, "ids4", ANE_DTYPE_INT32, is4, 1, NULL);
  g_autoptr(AneTensor) y = ane_graph_grouped_matmul (g, x, e, ids, FALSE, &error);
  AneTensor *bad;

  g_assert_no_error (error);
  ane_test_assert_shape (y, os, 2);

  /* ids must be integers */
  bad = ane_graph_grouped_matmul (g, x, e, fids, FALSE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "grouped_matmul", "'expert_ids'", "float32[3]", NULL);

  /* ids shape must equal x's without K */
  bad = ane_graph_grouped_matmul (g, x, e, ids2, FALSE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "grouped_matmul", "'expert_ids'", "int32[3,1]", "float32[3,2]", NULL);
  bad = ane_graph_grouped_matmul (g, x, e, ids4, FALSE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "grouped_matmul", "'expert_ids'", "int32[4]", NULL);

  /* with transpose_b the experts [4,2,5] would need K = 5 */
  bad = ane_graph_grouped_matmul (g, x, e, ids, TRUE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "grouped_matmul", "'experts'", "float32[4,2,5]", NULL);

  /* experts must be rank 3 */
  bad = ane_graph_grouped_matmul (g, x, e_2d, ids, FALSE, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "grouped_matmul", "'experts'", "float32[2,5]", NULL);
}

/* --- GGUF blocks: independent per-element formulas ------------------------ */

static float
half_at (const guint8 *p)
{
  return ane_half_to_float ((guint16) (p[0] | (p[1] << 8)));
}

static void
put_half (guint8 *p,
          float   v)
{
  guint16 h = ane_float_to_half (v);

  p[0] = h & 0xff;
  p[1] = h >> 8;
}

/* Bit `bit` of the little-endian bit string starting at p. */
static int
bit_at (const guint8 *p,
        int           bit)
{
  return (p[bit / 8] >> (bit % 8)) & 1;
}

/* The 6-bit scale and min of sub-block j of q4_K / q5_K (12 bytes at s):
 * sub-blocks 0-3 have them in the low 6 bits of bytes j and j+4; 4-7 have
 * their low 4 bits in the nibbles of byte j+4 and their top 2 bits in the
 * top 2 bits of bytes j-4 (scale) and j (min). */
static void
k4_scale_min (const guint8 *s,
              int           j,
              int          *sc,
              int          *mn)
{
  if (j < 4)
    {
      *sc = s[j] % 64;
      *mn = s[j + 4] % 64;
    }
  else
    {
      *sc = s[j + 4] % 16 + 16 * (s[j - 4] / 64);
      *mn = s[j + 4] / 16 + 16 * (s[j] / 64);
    }
}

/* Element e of one block, from ggml's block layout and dequantize_row_* formula. */
static float
block_element (AneDType      t,
               const guint8 *b,
               int           e)
{
  switch (t)
    {
    case ANE_DTYPE_Q8_0:
      return half_at (b) * (float) (gint8) b[2 + e];
    case ANE_DTYPE_Q4_0:
      {
        int nib = e < 16 ? b[2 + e] % 16 : b[2 + e - 16] / 16;
        return (float) (nib - 8) * half_at (b);
      }
    case ANE_DTYPE_Q4_1:
      {
        int nib = e < 16 ? b[4 + e] % 16 : b[4 + e - 16] / 16;
        return (float) nib * half_at (b) + half_at (b + 2);
      }
    case ANE_DTYPE_Q5_0:
      {
        int nib = e < 16 ? b[6 + e] % 16 : b[6 + e - 16] / 16;
        int q = nib + 16 * bit_at (b + 2, e);
        return (float) (q - 16) * half_at (b);
      }
    case ANE_DTYPE_Q5_1:
      {
        int nib = e < 16 ? b[8 + e] % 16 : b[8 + e - 16] / 16;
        int q = nib + 16 * bit_at (b + 4, e);
        return (float) q * half_at (b) + half_at (b + 2);
      }
    case ANE_DTYPE_Q2_K:
      {
        /* element e: byte 16 + 32*(e/128) + e%32 of qs, bit pair (e%128)/32 */
        int q = (b[16 + 32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
        int sc = b[e / 16];
        float dl = half_at (b + 80) * (float) (sc % 16);
        float ml = half_at (b + 82) * (float) (sc / 16);
        return dl * (float) q - ml;
      }
    case ANE_DTYPE_Q3_K:
      {
        int j = e / 16;
        int low_scale = j < 8 ? b[96 + j] % 16 : b[96 + j - 8] / 16;
        /* top bits: bytes 104..107 as a little-endian word, 2 bits per scale */
        int top = bit_at (b + 104, 8 * (j % 4) + 2 * (j / 4)) + 2 * bit_at (b + 104, 8 * (j % 4) + 2 * (j / 4) + 1);
        int scale = low_scale + 16 * top - 32;
        int low = (b[32 + 32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
        int high = bit_at (b + (e % 32), e / 32);
        int q = low - (high ? 0 : 4);
        return (half_at (b + 108) * (float) scale) * (float) q;
      }
    case ANE_DTYPE_Q4_K:
    case ANE_DTYPE_Q5_K:
      {
        int sc, mn, q;
        const guint8 *qs = b + (t == ANE_DTYPE_Q4_K ? 16 : 48);

        k4_scale_min (b + 4, e / 32, &sc, &mn);
        q = (qs[32 * (e / 64) + e % 32] >> (4 * ((e % 64) / 32))) & 15;
        if (t == ANE_DTYPE_Q5_K)
          q += 16 * bit_at (b + 16 + e % 32, e / 32);
        return (half_at (b) * (float) sc) * (float) q - half_at (b + 2) * (float) mn;
      }
    case ANE_DTYPE_Q6_K:
      {
        int n = e / 128, k = (e % 128) / 32, l = e % 32;
        int lbyte = b[64 * n + l + 32 * (k % 2)];
        int low = k < 2 ? lbyte % 16 : lbyte / 16;
        int high = (b[128 + 32 * n + l] >> (2 * k)) & 3;
        int q = low + 16 * high - 32;
        return (half_at (b + 208) * (float) (gint8) b[192 + e / 16]) * (float) q;
      }
    case ANE_DTYPE_Q8_K:
      {
        guint32 u = b[0] | (b[1] << 8) | (b[2] << 16) | ((guint32) b[3] << 24);
        float d;

        memcpy (&d, &u, 4);
        return d * (float) (gint8) b[4 + e];
      }
    default:
      g_assert_not_reached ();
    }
}

/* Deterministic bytes (xorshift32), then sensible scales in the fp fields. */
static void
fill_block (AneDType t,
            guint32  seed,
            guint8  *b)
{
  guint32 s = seed * 2654435761u + 1;
  guint bb = ane_dtype_block_bytes (t);
  float d = 0.0123f * (float) (1 + seed % 3), m = -0.37f - 0.01f * (float) seed;
  float dmin = 0.0071f + 0.001f * (float) seed;

  for (guint i = 0; i < bb; i++)
    {
      s ^= s << 13;
      s ^= s >> 17;
      s ^= s << 5;
      b[i] = s >> 24;
    }
  switch (t)
    {
    case ANE_DTYPE_Q8_0:
    case ANE_DTYPE_Q4_0:
    case ANE_DTYPE_Q5_0:
      put_half (b, d);
      break;
    case ANE_DTYPE_Q4_1:
    case ANE_DTYPE_Q5_1:
      put_half (b, d);
      put_half (b + 2, m);
      break;
    case ANE_DTYPE_Q2_K:
      put_half (b + 80, d);
      put_half (b + 82, dmin);
      break;
    case ANE_DTYPE_Q3_K:
      put_half (b + 108, d);
      break;
    case ANE_DTYPE_Q4_K:
    case ANE_DTYPE_Q5_K:
      put_half (b, d);
      put_half (b + 2, dmin);
      break;
    case ANE_DTYPE_Q6_K:
      put_half (b + 208, d);
      break;
    case ANE_DTYPE_Q8_K:
      {
        float fd = 0.0173f * (float) (1 + seed % 3);
        guint32 u;

        memcpy (&u, &fd, 4);
        for (int i = 0; i < 4; i++)
          b[i] = (u >> (8 * i)) & 0xff;
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

/* n_blocks deterministic blocks and their expected elements. */
static GBytes *
make_blocks (AneDType  t,
             guint     n_blocks,
             guint32   seed,
             float   **expected)
{
  guint bs = ane_dtype_block_size (t), bb = ane_dtype_block_bytes (t);
  guint8 *data = g_malloc (n_blocks * bb);

  *expected = g_new (float, n_blocks * bs);
  for (guint i = 0; i < n_blocks; i++)
    {
      fill_block (t, seed + i, data + i * bb);
      for (guint e = 0; e < bs; e++)
        (*expected)[i * bs + e] = block_element (t, data + i * bb, e);
    }
  return g_bytes_new_take (data, n_blocks * bb);
}

typedef struct {
  const char *path;
  AneDType    dtype;
} BlockCase;

static const BlockCase block_cases[] = {
  { "/ane/ops/linalg/dequant/q8_0", ANE_DTYPE_Q8_0 },
  { "/ane/ops/linalg/dequant/q4_0", ANE_DTYPE_Q4_0 },
  { "/ane/ops/linalg/dequant/q4_1", ANE_DTYPE_Q4_1 },
  { "/ane/ops/linalg/dequant/q5_0", ANE_DTYPE_Q5_0 },
  { "/ane/ops/linalg/dequant/q5_1", ANE_DTYPE_Q5_1 },
  { "/ane/ops/linalg/dequant/q2_K", ANE_DTYPE_Q2_K },
  { "/ane/ops/linalg/dequant/q3_K", ANE_DTYPE_Q3_K },
  { "/ane/ops/linalg/dequant/q4_K", ANE_DTYPE_Q4_K },
  { "/ane/ops/linalg/dequant/q5_K", ANE_DTYPE_Q5_K },
  { "/ane/ops/linalg/dequant/q6_K", ANE_DTYPE_Q6_K },
  { "/ane/ops/linalg/dequant/q8_K", ANE_DTYPE_Q8_K },
};

/* ane_dequant_blocks directly, then the dequant_moe_weights op on the same
 * blocks; both must equal the per-element formula exactly. */
static void
test_dequant_blocks (gconstpointer data)
{
  const BlockCase *c = data;
  const guint n_blocks = 3;
  guint bs = ane_dtype_block_size (c->dtype);
  gsize n = n_blocks * bs, n_bytes;
  g_autofree float *expected = NULL;
  g_autoptr(GBytes) bytes = make_blocks (c->dtype, n_blocks, 7, &expected);
  const guint8 *raw = g_bytes_get_data (bytes, &n_bytes);
  g_autofree double *got = g_new (double, n);
  g_autoptr(GError) error = NULL;
  gint64 shape[3] = { 1, n_blocks, bs };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) w = NULL;
  g_autoptr(AneTensor) y = NULL;
  g_autoptr(AneTensor) tw = NULL;
  g_autoptr(GPtrArray) out = NULL;
  guint distinct = 0;

  g_assert_true (ane_dequant_blocks (c->dtype, raw, n_bytes, n, got, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < n; i++)
    {
      if (got[i] != (double) expected[i])
        g_error ("%s element %" G_GSIZE_FORMAT ": got %.9g, expected %.9g",
                 ane_dtype_to_string (c->dtype), i, got[i], (double) expected[i]);
      distinct += i > 0 && expected[i] != expected[i - 1];
    }
  /* The bytes must exercise the format, not produce a constant. */
  g_assert_cmpuint (distinct, >, n / 2);

  /* End to end through the op, [1, n_blocks, bs] -> float32 (block dtypes
   * are only accepted for consts and params). */
  tw = ane_tensor_new_from_bytes ("w", c->dtype, shape, 3, bytes, &error);
  g_assert_no_error (error);
  w = ane_graph_const (g, tw, &error);
  g_assert_no_error (error);
  y = ane_graph_dequant_moe_weights (g, w, ANE_DTYPE_FLOAT32, &error);
  g_assert_no_error (error);
  ane_test_assert_shape (y, shape, 3);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT32);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  out = ane_test_run_reference (g, NULL, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, n, 0, 0);
}

static void
test_dequant_blocks_errors (void)
{
  guint8 block[34] = { 0 };
  double out[64];
  g_autoptr(GError) error = NULL;

  /* 64 elements need two blocks */
  g_assert_false (ane_dequant_blocks (ANE_DTYPE_Q8_0, block, sizeof block, 64, out, &error));
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "68", "34", NULL);
  /* not a whole number of blocks */
  g_assert_false (ane_dequant_blocks (ANE_DTYPE_Q8_0, block, sizeof block, 16, out, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);
  /* not a block type */
  g_assert_false (ane_dequant_blocks (ANE_DTYPE_FLOAT32, block, sizeof block, 8, out, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
}

/* --- dequant_moe_weights ------------------------------------------------- */

static void
test_dequant_moe_weights_fp16 (void)
{
  /* The dense weights rounded once to float16. */
  gint64 shape[3] = { 2, 1, 32 };
  g_autofree float *expected = NULL;
  g_autoptr(GBytes) bytes = make_blocks (ANE_DTYPE_Q4_1, 2, 3, &expected);
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) tw = ane_tensor_new_from_bytes ("w", ANE_DTYPE_Q4_1, shape, 3, bytes, &error);
  g_autoptr(AneTensor) w = ane_graph_param_with_value (g, tw, &error);
  g_autoptr(AneTensor) y = ane_graph_dequant_moe_weights (g, w, ANE_DTYPE_FLOAT16, &error);
  g_autoptr(GPtrArray) out = NULL;
  float rounded[64];

  g_assert_no_error (error);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT16);
  ane_graph_add_output (g, "y", y, &error);
  out = ane_test_run_reference (g, NULL, NULL);
  for (int i = 0; i < 64; i++)
    rounded[i] = ane_half_to_float (ane_float_to_half (expected[i]));
  ane_test_assert_close (g_ptr_array_index (out, 0), rounded, 64, 0, 0);
}

static void
test_dequant_moe_weights_errors (void)
{
  static const gint64 s2[] = { 2, 32 }, s1[] = { 32 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) q = ane_graph_param (g, "q", ANE_DTYPE_Q8_0, s2, 2, NULL);
  g_autoptr(AneTensor) q1 = ane_graph_param (g, "q1", ANE_DTYPE_Q8_0, s1, 1, NULL);
  g_autoptr(AneTensor) f = ane_graph_input (g, "f", ANE_DTYPE_FLOAT32, s2, 2, NULL);
  g_autoptr(GPtrArray) applied = NULL;
  AneTensor *bad;

  bad = ane_graph_dequant_moe_weights (g, f, ANE_DTYPE_FLOAT32, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "dequant_moe_weights", "'experts'", "float32[2,32]", NULL);

  bad = ane_graph_dequant_moe_weights (g, q1, ANE_DTYPE_FLOAT32, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "dequant_moe_weights", "'experts'", "q8_0[32]", NULL);

  bad = ane_graph_dequant_moe_weights (g, q, ANE_DTYPE_INT32, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "dequant_moe_weights", "int32", NULL);

  applied = ane_graph_apply (g, "dequant_moe_weights", &q, 1,
                             ane_attrs_new ("dtype", g_variant_new_string ("float99"), NULL), &error);
  g_assert_null (applied);
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "dequant_moe_weights", "float99", NULL);
}

/* --- dequant_matmul ------------------------------------------------------ */

static float
x_value (gsize i)
{
  return (float) ((gint) ((i * 7) % 11) - 5) * 0.125f;
}

typedef struct {
  const char *path;
  AneDType    dtype;
  guint       n;      /* output features N (rows of the weight) */
} DequantMatmulCase;

static const DequantMatmulCase dequant_matmul_cases[] = {
  { "/ane/ops/linalg/dequant_matmul/q8_0", ANE_DTYPE_Q8_0, 3 },
  { "/ane/ops/linalg/dequant_matmul/q4_0", ANE_DTYPE_Q4_0, 3 },
  { "/ane/ops/linalg/dequant_matmul/q4_K", ANE_DTYPE_Q4_K, 2 },
  { "/ane/ops/linalg/dequant_matmul/q6_K", ANE_DTYPE_Q6_K, 2 },
};

static void
test_dequant_matmul (gconstpointer data)
{
  const DequantMatmulCase *c = data;
  /* weight [N, K] with K two blocks long; x [1, 2, K] */
  gint64 k = 2 * ane_dtype_block_size (c->dtype);
  gint64 ws[2] = { c->n, k }, xs[3] = { 1, 2, k }, os[3] = { 1, 2, c->n };
  g_autofree float *wv = NULL;
  g_autoptr(GBytes) bytes = make_blocks (c->dtype, 2 * c->n, 11, &wv);
  g_autofree float *xv = g_new (float, 2 * k);
  g_autofree float *expected = g_new (float, 2 * c->n);
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3, &error);
  g_autoptr(AneTensor) tw = ane_tensor_new_from_bytes ("weight", c->dtype, ws, 2, bytes, &error);
  g_autoptr(AneTensor) w = ane_graph_const (g, tw, &error);
  g_autoptr(AneTensor) y = ane_graph_dequant_matmul (g, x, w, &error);
  g_autoptr(AneTensor) tx = NULL;
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, os, 3);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT32);
  for (gint64 i = 0; i < 2 * k; i++)
    xv[i] = x_value (i);
  tx = ane_test_tensor_f32 ("x", xs, 3, xv);
  /* y[r, n] = sum_p x[r, p] * W[n, p], W row n = blocks 2n, 2n+1 */
  for (guint r = 0; r < 2; r++)
    for (guint n = 0; n < c->n; n++)
      {
        double sum = 0.0;

        for (gint64 p = 0; p < k; p++)
          sum += (double) xv[r * k + p] * (double) wv[n * k + p];
        expected[r * c->n + n] = (float) sum;
      }
  ane_graph_add_output (g, "y", y, &error);
  out = ane_test_run_reference (g, tx, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 2 * c->n, 1e-6, 1e-6);
}

static void
test_dequant_matmul_errors (void)
{
  static const gint64 xs[] = { 2, 64 }, ws[] = { 3, 64 }, w32[] = { 3, 32 }, w3[] = { 1, 3, 64 };
  static const gint64 os[] = { 2, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT16, xs, 2, NULL);
  g_autoptr(AneTensor) xi = ane_graph_input (g, "xi", ANE_DTYPE_INT32, xs, 2, NULL);
  g_autoptr(AneTensor) w = ane_graph_param (g, "w", ANE_DTYPE_Q4_0, ws, 2, NULL);
  g_autoptr(AneTensor) wf = ane_graph_input (g, "wf", ANE_DTYPE_FLOAT16, ws, 2, NULL);
  g_autoptr(AneTensor) wk = ane_graph_param (g, "wk", ANE_DTYPE_Q4_0, w32, 2, NULL);
  g_autoptr(AneTensor) wr3 = ane_graph_param (g, "wr3", ANE_DTYPE_Q4_0, w3, 3, NULL);
  g_autoptr(AneTensor) y = ane_graph_dequant_matmul (g, x, w, &error);
  AneTensor *bad;

  /* the output takes x's dtype */
  g_assert_no_error (error);
  ane_test_assert_shape (y, os, 2);
  g_assert_cmpint (ane_tensor_get_dtype (y), ==, ANE_DTYPE_FLOAT16);

  bad = ane_graph_dequant_matmul (g, x, wf, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "dequant_matmul", "'weight'", "float16[3,64]", NULL);

  bad = ane_graph_dequant_matmul (g, xi, w, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "dequant_matmul", "'x'", "int32[2,64]", NULL);

  bad = ane_graph_dequant_matmul (g, x, wk, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "dequant_matmul", "'weight'", "q4_0[3,32]", "float16[2,64]", NULL);

  bad = ane_graph_dequant_matmul (g, x, wr3, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "dequant_matmul", "'weight'", "q4_0[1,3,64]", NULL);
}

/* --- dequant_grouped_matmul ---------------------------------------------- */

static void
test_dequant_grouped_matmul (void)
{
  /* experts [E=2, N=3, K=32] q8_0 (6 blocks, expert e row n = block 3e+n);
   * x [3, 32]; ids [1, 0, 1]. */
  static const gint64 es[] = { 2, 3, 32 }, xs[] = { 3, 32 }, is[] = { 3 }, os[] = { 3, 3 };
  static const gint32 iv[] = { 1, 0, 1 };
  g_autofree float *wv = NULL;
  g_autoptr(GBytes) bytes = make_blocks (ANE_DTYPE_Q8_0, 6, 21, &wv);
  float xv[96], expected[9];
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, &error);
  g_autoptr(AneTensor) te = ane_tensor_new_from_bytes ("experts", ANE_DTYPE_Q8_0, es, 3, bytes, &error);
  g_autoptr(AneTensor) e = ane_graph_const (g, te, &error);
  g_autoptr(AneTensor) ids = ane_graph_input (g, "ids", ANE_DTYPE_INT32, is, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_dequant_grouped_matmul (g, x, e, ids, &error);
  g_autoptr(AneTensor) tx = NULL;
  g_autoptr(AneTensor) tids = int_tensor ("ids", is, 1, iv, 3);
  g_autoptr(GPtrArray) out = NULL;

  g_assert_no_error (error);
  ane_test_assert_shape (y, os, 2);
  for (int i = 0; i < 96; i++)
    xv[i] = x_value (i);
  tx = ane_test_tensor_f32 ("x", xs, 2, xv);
  for (int r = 0; r < 3; r++)
    for (int n = 0; n < 3; n++)
      {
        double sum = 0.0;

        for (int p = 0; p < 32; p++)
          sum += (double) xv[r * 32 + p] * (double) wv[(iv[r] * 3 + n) * 32 + p];
        expected[r * 3 + n] = (float) sum;
      }
  ane_graph_add_output (g, "y", y, &error);
  out = ane_test_run_reference (g, tx, tids, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 9, 1e-6, 1e-6);
}

static void
test_dequant_grouped_matmul_errors (void)
{
  static const gint64 es[] = { 2, 3, 32 }, xs[] = { 3, 32 }, is[] = { 3 }, x64[] = { 3, 64 };
  static const gint64 e2[] = { 3, 32 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, NULL);
  g_autoptr(AneTensor) xk = ane_graph_input (g, "xk", ANE_DTYPE_FLOAT32, x64, 2, NULL);
  g_autoptr(AneTensor) e = ane_graph_param (g, "experts", ANE_DTYPE_Q8_0, es, 3, NULL);
  g_autoptr(AneTensor) ef = ane_graph_input (g, "ef", ANE_DTYPE_FLOAT32, es, 3, NULL);
  g_autoptr(AneTensor) e_2d = ane_graph_param (g, "e2", ANE_DTYPE_Q8_0, e2, 2, NULL);
  g_autoptr(AneTensor) ids = ane_graph_input (g, "ids", ANE_DTYPE_INT32, is, 1, NULL);
  g_autoptr(AneTensor) fids = ane_graph_input (g, "fids", ANE_DTYPE_FLOAT32, is, 1, NULL);
  AneTensor *bad;

  bad = ane_graph_dequant_grouped_matmul (g, x, ef, ids, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "dequant_grouped_matmul", "'experts'", "float32[2,3,32]", NULL);

  bad = ane_graph_dequant_grouped_matmul (g, xk, e, ids, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "dequant_grouped_matmul", "'experts'", "q8_0[2,3,32]",
                         "float32[3,64]", NULL);

  bad = ane_graph_dequant_grouped_matmul (g, x, e_2d, ids, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_SHAPE, "dequant_grouped_matmul", "'experts'", "q8_0[3,32]", NULL);

  bad = ane_graph_dequant_grouped_matmul (g, x, e, fids, &error);
  g_assert_null (bad);
  ane_test_assert_error (&error, ANE_ERROR_DTYPE, "dequant_grouped_matmul", "'expert_ids'", NULL);
}

static void
test_dequant_grouped_matmul_bad_id (void)
{
  static const gint64 es[] = { 2, 3, 32 }, xs[] = { 3, 32 }, is[] = { 3 };
  static const gint32 bad_ids[] = { 0, 5, 1 };
  g_autofree float *wv = NULL;
  g_autoptr(GBytes) bytes = make_blocks (ANE_DTYPE_Q8_0, 6, 1, &wv);
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) te = ane_tensor_new_from_bytes ("experts", ANE_DTYPE_Q8_0, es, 3, bytes, &error);
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2, &error);
  g_autoptr(AneTensor) e = ane_graph_const (g, te, &error);
  g_autoptr(AneTensor) ids = ane_graph_input (g, "ids", ANE_DTYPE_INT32, is, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_dequant_grouped_matmul (g, x, e, ids, &error);
  g_autoptr(AneTensor) tx = ane_tensor_new_zeros ("x", ANE_DTYPE_FLOAT32, xs, 2, &error);
  g_autoptr(AneTensor) tids = int_tensor ("ids", is, 1, bad_ids, 3);
  AneTensor *inputs[2] = { tx, tids };

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  ane_test_run_expect_error (g, inputs, 2, ANE_ERROR_INVALID_ARGUMENT, "dequant_grouped_matmul",
                             "expert_ids[1] = 5", "[0, 2)", NULL);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (matmul_shape_cases); i++)
    g_test_add_data_func (matmul_shape_cases[i].path, &matmul_shape_cases[i], test_matmul_shape);
  g_test_add_func ("/ane/ops/linalg/matmul/errors", test_matmul_errors);
  for (guint i = 0; i < G_N_ELEMENTS (matmul_value_cases); i++)
    g_test_add_data_func (matmul_value_cases[i].path, &matmul_value_cases[i], test_matmul_values);
  g_test_add_func ("/ane/ops/linalg/matmul/batch-broadcast", test_matmul_batch_broadcast);
  g_test_add_func ("/ane/ops/linalg/matmul/vectors", test_matmul_vectors);
  g_test_add_func ("/ane/ops/linalg/matmul/fp16", test_matmul_fp16);
  g_test_add_func ("/ane/ops/linalg/lora_matmul/values", test_lora_matmul);
  g_test_add_func ("/ane/ops/linalg/lora_matmul/shapes", test_lora_matmul_shapes);
  g_test_add_func ("/ane/ops/linalg/grouped_matmul/values", test_grouped_matmul);
  g_test_add_func ("/ane/ops/linalg/grouped_matmul/transpose-b", test_grouped_matmul_transposed);
  g_test_add_func ("/ane/ops/linalg/grouped_matmul/bad-id", test_grouped_matmul_bad_id);
  g_test_add_func ("/ane/ops/linalg/grouped_matmul/errors", test_grouped_matmul_errors);
  for (guint i = 0; i < G_N_ELEMENTS (block_cases); i++)
    g_test_add_data_func (block_cases[i].path, &block_cases[i], test_dequant_blocks);
  g_test_add_func ("/ane/ops/linalg/dequant/errors", test_dequant_blocks_errors);
  g_test_add_func ("/ane/ops/linalg/dequant_moe_weights/fp16", test_dequant_moe_weights_fp16);
  g_test_add_func ("/ane/ops/linalg/dequant_moe_weights/errors", test_dequant_moe_weights_errors);
  for (guint i = 0; i < G_N_ELEMENTS (dequant_matmul_cases); i++)
    g_test_add_data_func (dequant_matmul_cases[i].path, &dequant_matmul_cases[i], test_dequant_matmul);
  g_test_add_func ("/ane/ops/linalg/dequant_matmul/errors", test_dequant_matmul_errors);
  g_test_add_func ("/ane/ops/linalg/dequant_grouped_matmul/values", test_dequant_grouped_matmul);
  g_test_add_func ("/ane/ops/linalg/dequant_grouped_matmul/errors", test_dequant_grouped_matmul_errors);
  g_test_add_func ("/ane/ops/linalg/dequant_grouped_matmul/bad-id", test_dequant_grouped_matmul_bad_id);
  return g_test_run ();
}
