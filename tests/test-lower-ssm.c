/* test-lower-ssm.c: lowering of selective_scan and gated_delta_net to MIL (unrolled recurrences)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-lower-test-util.h"

/* --- helpers ---------------------------------------------------------------- */

static const char *
producer_type (AneMilProgram   *p,
               AneMilOperation *op,
               const char      *param)
{
  const char *v = ane_test_op_arg (op, param);
  AneMilOperation *src;

  g_assert_nonnull (v);
  src = ane_test_producer (p, v);
  return src ? src->type : "input";
}

/* Every non-const op of the program computes in dtype, except the
 * interface casts (first cast_in ops, and the outputs at the end). */
static void
assert_compute_dtype (AneMilProgram *p,
                      AneDType       dtype,
                      guint          n_outputs)
{
  AneMilBlock *b = ane_test_main_block (p);
  guint n = 0, seen = 0;

  for (gsize i = 0; i < b->n_operations; i++)
    n += !g_str_equal (b->operations[i]->type, "const");
  for (gsize i = 0; i < b->n_operations; i++)
    {
      AneMilOperation *op = b->operations[i];

      if (g_str_equal (op->type, "const"))
        continue;
      seen++;
      if (seen > n - n_outputs || g_str_equal (op->type, "cast"))
        continue;
      g_assert_cmpint (op->outputs[0]->type->tensortype->datatype, ==, ane_mil_dtype_from_ane (dtype));
    }
}

/* --- selective_scan ---------------------------------------------------------- */

/* The expected op sequence (fp32, no interface casts). */
static char *
ss_sequence (guint    L,
             gboolean bias,
             gboolean softplus,
             gboolean skip,
             gboolean gate)
{
  GString *s = g_string_new (NULL);

  if (bias)
    g_string_append (s, "reshape,add,");
  if (softplus)
    g_string_append (s, "softplus,");
  g_string_append (s, "mul,transpose,transpose,");
  if (L > 1)
    g_string_append (s, "reshape,reshape,mul,exp,");
  g_string_append (s, "reshape,reshape,mul,reshape,");
  g_string_append (s, "slice_by_index,");
  for (guint t = 1; t < L; t++)
    g_string_append (s, "slice_by_index,slice_by_index,mul,add,");
  if (L > 1)
    g_string_append (s, "concat,");
  g_string_append (s, "mul,reduce_sum,");
  if (skip)
    g_string_append (s, "reshape,mul,add,");
  if (gate)
    g_string_append (s, "silu,mul,");
  g_string_append (s, "identity");
  return g_string_free (s, FALSE);
}

static void
test_selective_scan_full (void)
{
  /* every optional input, softplus: B=2, D=3, L=3, N=4 */
  static const gint64 bdl[] = { 2, 3, 3 }, dn[] = { 3, 4 }, bnl[] = { 2, 4, 3 }, d1[] = { 3 };
  static const gint64 bdln[] = { 2, 3, 3, 4 }, bd1n[] = { 2, 3, 1, 4 }, dcol[] = { 3, 1 };
  static const gint64 a4[] = { 1, 3, 1, 4 }, b1ln[] = { 2, 1, 3, 4 }, perm[] = { 0, 2, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT32, bdl, 3);
  g_autoptr(AneTensor) delta = ane_test_input (g, "delta", ANE_DTYPE_FLOAT32, bdl, 3);
  g_autoptr(AneTensor) a = ane_test_param (g, "a", dn, 2);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, bnl, 3);
  g_autoptr(AneTensor) c = ane_test_input (g, "c", ANE_DTYPE_FLOAT32, bnl, 3);
  g_autoptr(AneTensor) d = ane_test_param (g, "d", d1, 1);
  g_autoptr(AneTensor) z = ane_test_input (g, "z", ANE_DTYPE_FLOAT32, bdl, 3);
  g_autoptr(AneTensor) db = ane_test_param (g, "delta_bias", d1, 1);
  g_autoptr(AneTensor) y = ane_graph_selective_scan (g, u, delta, a, b, c, d, z, db, TRUE, &error);
  g_autoptr(AneMilProgram) p = NULL;
  g_autofree char *expected = ss_sequence (3, TRUE, TRUE, TRUE, TRUE);
  AneMilOperation *op, *concat, *rsum, *last;

  g_assert_no_error (error);
  ane_test_output (g, "y", y);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, expected);

  /* δ = softplus(delta + delta_bias[:, None]) */
  op = ane_test_find_op (p, "reshape", 0);
  g_assert_cmpstr (ane_test_op_arg (op, "x"), ==, "delta_bias");
  ane_test_assert_const_ints (p, ane_test_op_arg (op, "shape"), dcol, 2);
  op = ane_test_find_op (p, "add", 0);
  g_assert_cmpstr (ane_test_op_arg (op, "x"), ==, "delta");
  op = ane_test_find_op (p, "softplus", 0);
  g_assert_cmpstr (producer_type (p, op, "x"), ==, "add");
  /* Bᵀ, Cᵀ */
  op = ane_test_find_op (p, "transpose", 0);
  g_assert_cmpstr (ane_test_op_arg (op, "x"), ==, "b");
  ane_test_assert_const_ints (p, ane_test_op_arg (op, "perm"), perm, 3);
  g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "transpose", 1), "x"), ==, "c");
  /* dA = exp(δ ⊗ A) */
  op = ane_test_find_op (p, "reshape", 2);
  g_assert_cmpstr (ane_test_op_arg (op, "x"), ==, "a");
  ane_test_assert_const_ints (p, ane_test_op_arg (op, "shape"), a4, 4);
  op = ane_test_find_op (p, "exp", 0);
  ane_test_assert_output (op, 0, ANE_DTYPE_FLOAT32, bdln, 4);
  /* dBu = (δ·u) ⊗ Bᵀ */
  op = ane_test_find_op (p, "reshape", 4);
  ane_test_assert_const_ints (p, ane_test_op_arg (op, "shape"), b1ln, 4);
  ane_test_assert_output (ane_test_find_op (p, "mul", 2), 0, ANE_DTYPE_FLOAT32, bdln, 4);

  /* 2L - 1 step slices [B,D,1,N]; steps t >= 1 slice dBu and dA at t */
  g_assert_cmpuint (ane_test_count_ops (p, "slice_by_index"), ==, 5);
  {
    static const gint64 b2[] = { 0, 0, 2, 0 }, e2[] = { 2, 3, 3, 4 };
    AneMilOperation *s3 = ane_test_find_op (p, "slice_by_index", 3);
    AneMilOperation *s4 = ane_test_find_op (p, "slice_by_index", 4);

    g_assert_cmpstr (producer_type (p, s3, "x"), ==, "mul");   /* dBu */
    g_assert_cmpstr (producer_type (p, s4, "x"), ==, "exp");   /* dA */
    ane_test_assert_const_ints (p, ane_test_op_arg (s3, "begin"), b2, 4);
    ane_test_assert_const_ints (p, ane_test_op_arg (s3, "end"), e2, 4);
    g_assert_cmpstr (ane_test_op_arg (s3, "begin"), ==, ane_test_op_arg (s4, "begin"));
    ane_test_assert_output (s4, 0, ANE_DTYPE_FLOAT32, bd1n, 4);
  }
  /* h_0 = dBu_0; h_1 = dA_1·h_0 + dBu_1 */
  {
    AneMilOperation *s0 = ane_test_find_op (p, "slice_by_index", 0);
    AneMilOperation *m = ane_test_find_op (p, "mul", 3), *ad = ane_test_find_op (p, "add", 1);

    g_assert_cmpstr (ane_test_op_arg (m, "x"), ==, ane_test_find_op (p, "slice_by_index", 2)->outputs[0]->name);
    g_assert_cmpstr (ane_test_op_arg (m, "y"), ==, s0->outputs[0]->name);
    g_assert_cmpstr (ane_test_op_arg (ad, "x"), ==, m->outputs[0]->name);
    g_assert_cmpstr (ane_test_op_arg (ad, "y"), ==, ane_test_find_op (p, "slice_by_index", 1)->outputs[0]->name);
  }
  concat = ane_test_find_op (p, "concat", 0);
  {
    static const gint64 axis[] = { 2 };
    gsize i;

    for (i = 0; i < concat->n_inputs && !g_str_equal (concat->inputs[i]->key, "values"); i++)
      ;
    g_assert_cmpuint (concat->inputs[i]->value->n_arguments, ==, 3);
    g_assert_cmpstr (concat->inputs[i]->value->arguments[0]->name, ==,
                     ane_test_find_op (p, "slice_by_index", 0)->outputs[0]->name);
    ane_test_assert_const_ints (p, ane_test_op_arg (concat, "axis"), axis, 1);
    ane_test_assert_output (concat, 0, ANE_DTYPE_FLOAT32, bdln, 4);
  }
  rsum = ane_test_find_op (p, "reduce_sum", 0);
  {
    static const gint64 axes[] = { 3 };

    ane_test_assert_const_ints (p, ane_test_op_arg (rsum, "axes"), axes, 1);
    ane_test_assert_output (rsum, 0, ANE_DTYPE_FLOAT32, bdl, 3);
  }
  /* + D·u, · silu(z) */
  op = ane_test_find_op (p, "silu", 0);
  g_assert_cmpstr (ane_test_op_arg (op, "x"), ==, "z");
  last = ane_test_find_op (p, "mul", ane_test_count_ops (p, "mul") - 1);
  g_assert_cmpstr (ane_test_op_arg (last, "y"), ==, op->outputs[0]->name);
  g_assert_cmpstr (producer_type (p, last, "x"), ==, "add");
  ane_test_assert_output (last, 0, ANE_DTYPE_FLOAT32, bdl, 3);
  g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "identity", 0), "x"), ==, last->outputs[0]->name);

  /* fp16: the same ops, every one in fp16, casts only at the interface */
  {
    g_autoptr(AneMilProgram) p16 = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16);
    g_autofree char *seq = ane_test_op_sequence (p16);
    g_autofree char *body = g_strndup (expected, strlen (expected) - strlen (",identity"));
    g_autofree char *want = g_strdup_printf ("cast,cast,cast,cast,cast,%s,cast", body);

    g_assert_cmpstr (seq, ==, want);
    assert_compute_dtype (p16, ANE_DTYPE_FLOAT16, 1);
  }
}

static void
test_selective_scan_minimal (void)
{
  /* no D, z, delta_bias, no softplus; L = 1: no decay, no concat */
  static const gint64 bdl[] = { 1, 2, 1 }, dn[] = { 2, 3 }, bnl[] = { 1, 3, 1 }, bdl_[] = { 1, 2, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT32, bdl, 3);
  g_autoptr(AneTensor) delta = ane_test_input (g, "delta", ANE_DTYPE_FLOAT32, bdl, 3);
  g_autoptr(AneTensor) a = ane_test_param (g, "a", dn, 2);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, bnl, 3);
  g_autoptr(AneTensor) c = ane_test_input (g, "c", ANE_DTYPE_FLOAT32, bnl, 3);
  g_autoptr(AneTensor) y = ane_graph_selective_scan (g, u, delta, a, b, c, NULL, NULL, NULL, FALSE, &error);
  g_autoptr(AneMilProgram) p = NULL;
  g_autofree char *expected = ss_sequence (1, FALSE, FALSE, FALSE, FALSE);
  AneMilOperation *rsum;

  g_assert_no_error (error);
  ane_test_output (g, "y", y);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, expected);
  g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "mul", 0), "x"), ==, "delta");
  rsum = ane_test_find_op (p, "reduce_sum", 0);
  ane_test_assert_output (rsum, 0, ANE_DTYPE_FLOAT32, bdl_, 3);
  g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "identity", 0), "x"), ==, rsum->outputs[0]->name);
  {
    /* the mul that feeds reduce_sum multiplies the (only) state with Cᵀ */
    AneMilOperation *m = ane_test_producer (p, ane_test_op_arg (rsum, "x"));

    g_assert_cmpstr (m->type, ==, "mul");
    g_assert_cmpstr (producer_type (p, m, "x"), ==, "slice_by_index");
    g_assert_cmpstr (producer_type (p, m, "y"), ==, "reshape");
  }
}

static void
test_selective_scan_variants (void)
{
  /* D without z (the skip is the last op), softplus without bias */
  static const gint64 bdl[] = { 1, 2, 2 }, dn[] = { 2, 3 }, bnl[] = { 1, 3, 2 }, d1[] = { 2 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT32, bdl, 3);
  g_autoptr(AneTensor) delta = ane_test_input (g, "delta", ANE_DTYPE_FLOAT32, bdl, 3);
  g_autoptr(AneTensor) a = ane_test_param (g, "a", dn, 2);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, bnl, 3);
  g_autoptr(AneTensor) c = ane_test_input (g, "c", ANE_DTYPE_FLOAT32, bnl, 3);
  g_autoptr(AneTensor) d = ane_test_param (g, "d", d1, 1);
  g_autoptr(AneTensor) y = ane_graph_selective_scan (g, u, delta, a, b, c, d, NULL, NULL, TRUE, &error);
  g_autoptr(AneMilProgram) p = NULL;
  g_autofree char *expected = ss_sequence (2, FALSE, TRUE, TRUE, FALSE);
  AneMilOperation *add;

  g_assert_no_error (error);
  ane_test_output (g, "y", y);
  p = ane_test_lower (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, expected);
  g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "softplus", 0), "x"), ==, "delta");
  add = ane_test_find_op (p, "add", ane_test_count_ops (p, "add") - 1);
  g_assert_cmpstr (producer_type (p, add, "x"), ==, "reduce_sum");
  g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "identity", 0), "x"), ==, add->outputs[0]->name);
}

static void
test_selective_scan_limit (void)
{
  /* L above the unroll limit: refused, naming the op, L and the limit */
  static const gint64 bdl[] = { 1, 1, 4097 }, dn[] = { 1, 1 }, bnl[] = { 1, 1, 4097 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT32, bdl, 3);
  g_autoptr(AneTensor) delta = ane_test_input (g, "delta", ANE_DTYPE_FLOAT32, bdl, 3);
  g_autoptr(AneTensor) a = ane_test_param (g, "a", dn, 2);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, bnl, 3);
  g_autoptr(AneTensor) c = ane_test_input (g, "c", ANE_DTYPE_FLOAT32, bnl, 3);
  g_autoptr(AneTensor) y = ane_graph_selective_scan (g, u, delta, a, b, c, NULL, NULL, NULL, FALSE, &error);

  g_assert_no_error (error);
  ane_test_output (g, "y", y);
  ane_test_assert_lower_fails (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, "selective_scan", "L = 4097", "4096", NULL);
}

/* --- gated_delta_net ---------------------------------------------------------- */

static char *
gd_sequence (guint    T,
             gboolean initial,
             gboolean l2norm,
             gboolean fp16)
{
  GString *s = g_string_new (NULL);
  const char *l2 = fp16 ? "abs,reduce_max,maximum,real_div,real_div,mul,mul,reduce_sum,add,sqrt,real_div,"
                        : "mul,reduce_sum,add,sqrt,real_div,";

  if (fp16)
    g_string_append (s, initial ? "cast,cast,cast,cast,cast,cast," : "cast,cast,cast,cast,cast,");
  if (l2norm)
    {
      g_string_append (s, l2);
      g_string_append (s, l2);
    }
  g_string_append (s, "mul,");
  if (initial || T > 1)
    g_string_append (s, "exp,reshape,");
  g_string_append (s, "reshape,");
  for (guint t = 0; t < T; t++)
    {
      g_string_append (s, "slice_by_index,slice_by_index,slice_by_index,reshape,");
      if (t == 0 && !initial)
        g_string_append (s, "mul,mul,");
      else
        g_string_append (s, "slice_by_index,mul,matmul,sub,mul,mul,add,");
      g_string_append (s, "slice_by_index,matmul,");
    }
  if (T > 1)
    g_string_append (s, "concat,");
  g_string_append (s, fp16 ? "cast,cast" : "identity,identity");
  return g_string_free (s, FALSE);
}

static void
test_gated_delta_net_full (void)
{
  /* initial state, q/k L2 norm, default scale 1/√K; B=1, H=2, T=2, K=4, V=3 */
  static const gint64 bhtk[] = { 1, 2, 2, 4 }, bhtv[] = { 1, 2, 2, 3 }, bht[] = { 1, 2, 2 };
  static const gint64 bhkv[] = { 1, 2, 4, 3 }, bh1v[] = { 1, 2, 1, 3 }, bhk1[] = { 1, 2, 4, 1 };
  static const gint64 bht1[] = { 1, 2, 2, 1 }, bh1k[] = { 1, 2, 1, 4 };

  for (guint i = 0; i < 2; i++)
    {
      AneDType prec = i == 0 ? ANE_DTYPE_FLOAT32 : ANE_DTYPE_FLOAT16;
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) q = ane_test_input (g, "q", ANE_DTYPE_FLOAT32, bhtk, 4);
      g_autoptr(AneTensor) k = ane_test_input (g, "k", ANE_DTYPE_FLOAT32, bhtk, 4);
      g_autoptr(AneTensor) v = ane_test_input (g, "v", ANE_DTYPE_FLOAT32, bhtv, 4);
      g_autoptr(AneTensor) gg = ane_test_input (g, "g", ANE_DTYPE_FLOAT32, bht, 3);
      g_autoptr(AneTensor) beta = ane_test_input (g, "beta", ANE_DTYPE_FLOAT32, bht, 3);
      g_autoptr(AneTensor) s0 = ane_test_input (g, "s0", ANE_DTYPE_FLOAT32, bhkv, 4);
      g_autoptr(AneTensor) fs = NULL;
      g_autoptr(AneTensor) o = ane_graph_gated_delta_net (g, q, k, v, gg, beta, s0, 0.0, TRUE, &fs, &error);
      g_autoptr(AneMilProgram) p = NULL;
      g_autofree char *expected = gd_sequence (2, TRUE, TRUE, prec == ANE_DTYPE_FLOAT16);
      AneMilOperation *op, *mm, *concat;
      AneMilBlock *block;

      g_assert_no_error (error);
      ane_test_output (g, "o", o);
      ane_test_output (g, "final_state", fs);
      p = ane_test_lower (g, ANE_MIL_IOS17, prec);
      ane_test_assert_seq (p, expected);
      assert_compute_dtype (p, prec, 2);

      /* L2 norm: x / sqrt(Σx² + 1e-6) over K (keep_dims), q then k */
      op = ane_test_find_op (p, "reduce_sum", 0);
      {
        static const gint64 axes[] = { 3 }, row[] = { 1, 2, 2, 1 };

        ane_test_assert_const_ints (p, ane_test_op_arg (op, "axes"), axes, 1);
        ane_test_assert_output (op, 0, prec, row, 4);
      }
      op = ane_test_find_op (p, "add", 0);
      if (prec == ANE_DTYPE_FLOAT32)
        ane_test_assert_const_scalar (p, ane_test_op_arg (op, "y"), prec, 1e-6);
      else
        {
          /* ε/m² = (1e-3/m)², m = max(max|x|, 2^-14); x/m is normalized */
          AneMilOperation *eps2 = ane_test_producer (p, ane_test_op_arg (op, "y"));
          AneMilOperation *eps1 = ane_test_producer (p, ane_test_op_arg (eps2, "x"));
          AneMilOperation *mx = ane_test_find_op (p, "maximum", 0);
          AneMilOperation *xs = ane_test_find_op (p, "real_div", 0);

          g_assert_cmpstr (eps2->type, ==, "mul");
          g_assert_cmpstr (ane_test_op_arg (eps2, "y"), ==, eps1->outputs[0]->name);
          g_assert_cmpstr (eps1->type, ==, "real_div");
          ane_test_assert_const_scalar (p, ane_test_op_arg (eps1, "x"), prec, 1e-3);
          g_assert_cmpstr (ane_test_op_arg (eps1, "y"), ==, mx->outputs[0]->name);
          ane_test_assert_const_scalar (p, ane_test_op_arg (mx, "y"), prec, 1.0 / 16384.0);
          g_assert_cmpstr (producer_type (p, mx, "x"), ==, "reduce_max");
          g_assert_cmpstr (ane_test_op_arg (xs, "y"), ==, mx->outputs[0]->name);
          g_assert_cmpstr (producer_type (p, ane_test_find_op (p, "mul", 1), "x"), ==, "real_div");
        }
      /* q ·= 1/√K */
      op = ane_test_find_op (p, "real_div", prec == ANE_DTYPE_FLOAT16 ? 5 : 1);   /* k's normalized value */
      g_assert_cmpstr (producer_type (p, op, "y"), ==, "sqrt");
      {
        AneMilOperation *qs = NULL;
        guint n_mul = ane_test_count_ops (p, "mul");

        for (guint j = 0; j < n_mul && qs == NULL; j++)
          {
            AneMilOperation *m = ane_test_find_op (p, "mul", j);
            const char *yv = ane_test_op_arg (m, "y");
            AneMilOperation *src = ane_test_producer (p, yv);

            if (src && g_str_equal (src->type, "const") && strstr (yv, "scale"))
              qs = m;
          }
        g_assert_nonnull (qs);
        ane_test_assert_const_scalar (p, ane_test_op_arg (qs, "y"), prec, 0.5);
        g_assert_cmpstr (producer_type (p, qs, "x"), ==, "real_div");
        ane_test_assert_output (qs, 0, prec, bhtk, 4);
      }
      /* exp(g) as [B,H,T,1], beta as [B,H,T,1] */
      op = ane_test_find_op (p, "exp", 0);
      g_assert_cmpstr (producer_type (p, op, "x"), ==, prec == ANE_DTYPE_FLOAT16 ? "cast" : "input");
      ane_test_assert_output (ane_test_producer (p, ane_test_find_op (p, "reshape", 0)->outputs[0]->name), 0,
                              prec, bht1, 4);

      /* step 0: k_t, v_t, β_t, k_col; S·decay; pred = matmul(k_t, S) */
      {
        AneMilOperation *kt = ane_test_find_op (p, "slice_by_index", 0);
        AneMilOperation *kc = ane_test_find_op (p, "reshape", 2);
        AneMilOperation *dec = ane_test_find_op (p, "slice_by_index", 3);
        static const gint64 b0[] = { 0, 0, 0, 0 }, ek[] = { 1, 2, 1, 4 };

        ane_test_assert_output (kt, 0, prec, bh1k, 4);
        ane_test_assert_const_ints (p, ane_test_op_arg (kt, "begin"), b0, 4);
        ane_test_assert_const_ints (p, ane_test_op_arg (kt, "end"), ek, 4);
        g_assert_cmpstr (ane_test_op_arg (kc, "x"), ==, kt->outputs[0]->name);
        ane_test_assert_output (kc, 0, prec, bhk1, 4);
        g_assert_cmpstr (producer_type (p, dec, "x"), ==, "reshape");
        mm = ane_test_find_op (p, "matmul", 0);
        g_assert_cmpstr (ane_test_op_arg (mm, "x"), ==, kt->outputs[0]->name);
        g_assert_cmpstr (producer_type (p, mm, "y"), ==, "mul");   /* the decayed state */
        g_assert_null (ane_test_op_arg (mm, "transpose_x"));
        ane_test_assert_output (mm, 0, prec, bh1v, 4);
      }
      /* o_t = matmul(q_t, S) with S after the update (an add) */
      mm = ane_test_find_op (p, "matmul", 1);
      g_assert_cmpstr (producer_type (p, mm, "y"), ==, "add");
      g_assert_cmpstr (producer_type (p, mm, "x"), ==, "slice_by_index");
      concat = ane_test_find_op (p, "concat", 0);
      ane_test_assert_output (concat, 0, prec, bhtv, 4);
      /* the outputs: o is the concat, the final state the last add */
      block = ane_test_main_block (p);
      g_assert_cmpstr (block->outputs[0], ==, "o");
      g_assert_cmpstr (block->outputs[1], ==, "final_state");
      {
        AneMilOperation *oo = ane_test_producer (p, "o"), *so = ane_test_producer (p, "final_state");
        AneMilOperation *last_add = ane_test_find_op (p, "add", ane_test_count_ops (p, "add") - 1);

        g_assert_cmpstr (ane_test_op_arg (oo, "x"), ==, concat->outputs[0]->name);
        g_assert_cmpstr (ane_test_op_arg (so, "x"), ==, last_add->outputs[0]->name);
        ane_test_assert_output (last_add, 0, prec, bhkv, 4);
        ane_test_assert_output (so, 0, ANE_DTYPE_FLOAT32, bhkv, 4);
      }
    }
}

static void
test_gated_delta_net_zero_state (void)
{
  /* no initial state, no L2 norm, scale 0.25; T = 1: S = k_0ᵀ·(v_0·β_0), o = q_0·S */
  static const gint64 bhtk[] = { 2, 1, 1, 2 }, bhtv[] = { 2, 1, 1, 5 }, bht[] = { 2, 1, 1 };
  static const gint64 bhkv[] = { 2, 1, 2, 5 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) q = ane_test_input (g, "q", ANE_DTYPE_FLOAT32, bhtk, 4);
  g_autoptr(AneTensor) k = ane_test_input (g, "k", ANE_DTYPE_FLOAT32, bhtk, 4);
  g_autoptr(AneTensor) v = ane_test_input (g, "v", ANE_DTYPE_FLOAT32, bhtv, 4);
  g_autoptr(AneTensor) gg = ane_test_input (g, "g", ANE_DTYPE_FLOAT32, bht, 3);
  g_autoptr(AneTensor) beta = ane_test_input (g, "beta", ANE_DTYPE_FLOAT32, bht, 3);
  g_autoptr(AneTensor) fs = NULL;
  g_autoptr(AneTensor) o = ane_graph_gated_delta_net (g, q, k, v, gg, beta, NULL, 0.25, FALSE, &fs, &error);
  g_autoptr(AneMilProgram) p = NULL;
  g_autofree char *expected = gd_sequence (1, FALSE, FALSE, FALSE);
  AneMilOperation *vp, *st, *mm;

  g_assert_no_error (error);
  ane_test_output (g, "o", o);
  ane_test_output (g, "final_state", fs);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, expected);
  ane_test_assert_const_scalar (p, ane_test_op_arg (ane_test_find_op (p, "mul", 0), "y"), ANE_DTYPE_FLOAT32, 0.25);
  vp = ane_test_find_op (p, "mul", 1);
  g_assert_cmpstr (producer_type (p, vp, "x"), ==, "slice_by_index");
  g_assert_cmpstr (producer_type (p, vp, "y"), ==, "slice_by_index");
  st = ane_test_find_op (p, "mul", 2);
  g_assert_cmpstr (producer_type (p, st, "x"), ==, "reshape");
  g_assert_cmpstr (ane_test_op_arg (st, "y"), ==, vp->outputs[0]->name);
  ane_test_assert_output (st, 0, ANE_DTYPE_FLOAT32, bhkv, 4);
  mm = ane_test_find_op (p, "matmul", 0);
  g_assert_cmpstr (ane_test_op_arg (mm, "y"), ==, st->outputs[0]->name);
  ane_test_assert_output (mm, 0, ANE_DTYPE_FLOAT32, bhtv, 4);
  g_assert_cmpstr (ane_test_op_arg (ane_test_producer (p, "o"), "x"), ==, mm->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (ane_test_producer (p, "final_state"), "x"), ==, st->outputs[0]->name);
  g_assert_cmpuint (ane_test_count_ops (p, "exp"), ==, 0);

  /* T = 3 without initial state: the decay is needed from step 1 on */
  {
    static const gint64 t3k[] = { 1, 1, 3, 2 }, t3v[] = { 1, 1, 3, 2 }, t3[] = { 1, 1, 3 };
    g_autoptr(AneGraph) g3 = ane_graph_new ();
    g_autoptr(AneTensor) q3 = ane_test_input (g3, "q", ANE_DTYPE_FLOAT32, t3k, 4);
    g_autoptr(AneTensor) k3 = ane_test_input (g3, "k", ANE_DTYPE_FLOAT32, t3k, 4);
    g_autoptr(AneTensor) v3 = ane_test_input (g3, "v", ANE_DTYPE_FLOAT32, t3v, 4);
    g_autoptr(AneTensor) g3g = ane_test_input (g3, "g", ANE_DTYPE_FLOAT32, t3, 3);
    g_autoptr(AneTensor) b3 = ane_test_input (g3, "beta", ANE_DTYPE_FLOAT32, t3, 3);
    g_autoptr(AneTensor) o3 = ane_graph_gated_delta_net (g3, q3, k3, v3, g3g, b3, NULL, 0.0, FALSE, NULL, &error);
    g_autoptr(AneMilProgram) p3 = NULL;
    g_autofree char *seq3 = gd_sequence (3, FALSE, FALSE, FALSE);

    g_assert_no_error (error);
    ane_test_output (g3, "o", o3);
    p3 = ane_test_lower (g3, ANE_MIL_IOS16, ANE_DTYPE_FLOAT32);
    /* only o is an output */
    seq3[strlen (seq3) - strlen (",identity")] = '\0';
    ane_test_assert_seq (p3, seq3);
    ane_test_assert_const_scalar (p3, ane_test_op_arg (ane_test_find_op (p3, "mul", 0), "y"), ANE_DTYPE_FLOAT32,
                                  1.0 / sqrt (2.0));
  }
}

static void
test_gated_delta_net_limit (void)
{
  static const gint64 bhtk[] = { 1, 1, 5000, 1 }, bht[] = { 1, 1, 5000 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) q = ane_test_input (g, "q", ANE_DTYPE_FLOAT32, bhtk, 4);
  g_autoptr(AneTensor) k = ane_test_input (g, "k", ANE_DTYPE_FLOAT32, bhtk, 4);
  g_autoptr(AneTensor) v = ane_test_input (g, "v", ANE_DTYPE_FLOAT32, bhtk, 4);
  g_autoptr(AneTensor) gg = ane_test_input (g, "g", ANE_DTYPE_FLOAT32, bht, 3);
  g_autoptr(AneTensor) beta = ane_test_input (g, "beta", ANE_DTYPE_FLOAT32, bht, 3);
  g_autoptr(AneTensor) o = ane_graph_gated_delta_net (g, q, k, v, gg, beta, NULL, 0.0, FALSE, NULL, &error);

  g_assert_no_error (error);
  ane_test_output (g, "o", o);
  ane_test_assert_lower_fails (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, "gated_delta_net", "T = 5000", "4096", NULL);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/lower/ssm/selective-scan/full", test_selective_scan_full);
  g_test_add_func ("/ane/lower/ssm/selective-scan/minimal", test_selective_scan_minimal);
  g_test_add_func ("/ane/lower/ssm/selective-scan/skip-softplus", test_selective_scan_variants);
  g_test_add_func ("/ane/lower/ssm/selective-scan/unroll-limit", test_selective_scan_limit);
  g_test_add_func ("/ane/lower/ssm/gated-delta-net/full", test_gated_delta_net_full);
  g_test_add_func ("/ane/lower/ssm/gated-delta-net/zero-state", test_gated_delta_net_zero_state);
  g_test_add_func ("/ane/lower/ssm/gated-delta-net/unroll-limit", test_gated_delta_net_limit);
  return g_test_run ();
}
