/* test-lower-reduce.c: lowering of reduce_*, cumsum, top_k and scatter_add
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-lower-test-util.h"

/* --- helpers ----------------------------------------------------------------- */

static const gint64 s234[] = { 2, 3, 4 };

/* --- reduce_* ---------------------------------------------------------------- */

typedef AneTensor *(*ReduceFunc) (AneGraph *, AneTensor *, const gint64 *, guint, gboolean, GError **);

typedef struct {
  const char *path;
  ReduceFunc  func;
  const char *mil;
} ReduceCase;

static const ReduceCase reduce_cases[] = {
  { "/ane/lower/reduce/reduce_sum", ane_graph_reduce_sum, "reduce_sum" },
  { "/ane/lower/reduce/reduce_mean", ane_graph_reduce_mean, "reduce_mean" },
  { "/ane/lower/reduce/reduce_max", ane_graph_reduce_max, "reduce_max" },
  { "/ane/lower/reduce/reduce_min", ane_graph_reduce_min, "reduce_min" },
  { "/ane/lower/reduce/reduce_prod", ane_graph_reduce_prod, "reduce_prod" },
};

/* Every reduction: negative axes (normalized, sorted), keepdims both ways,
 * both precisions. */
static void
test_reduce (gconstpointer data)
{
  const ReduceCase *c = data;
  static const gint64 axes[] = { -1, 0 }, sorted[] = { 0, 2 };
  static const gint64 kept[] = { 1, 3, 1 }, dropped[] = { 3 };

  for (int fp16 = 0; fp16 <= 1; fp16++)
    for (int keep = 0; keep <= 1; keep++)
      {
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s234, 3, &error);
        g_autoptr(AneTensor) y = c->func (g, x, axes, 2, keep, &error);
        g_autoptr(AneMilProgram) p = NULL;
        g_autofree char *seq = NULL;
        AneMilOperation *op;
        AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;

        ane_graph_add_output (g, "y", y, &error);
        g_assert_no_error (error);
        p = ane_test_lower (g, fp16 ? ANE_MIL_IOS18 : ANE_MIL_IOS15, dt);
        seq = fp16 ? g_strdup_printf ("cast,%s,cast", c->mil) : g_strdup_printf ("%s,identity", c->mil);
        ane_test_assert_seq (p, seq);
        op = ane_test_find_op (p, c->mil, 0);
        g_assert_cmpstr (ane_test_producer_type (p, ane_test_op_arg (op, "x")), ==, fp16 ? "cast" : "");
        ane_test_assert_const_ints (p, ane_test_op_arg (op, "axes"), sorted, 2);
        ane_test_assert_const_bool (p, ane_test_op_arg (op, "keep_dims"), keep);
        if (keep)
          ane_test_assert_output (op, 0, dt, kept, 3);
        else
          ane_test_assert_output (op, 0, dt, dropped, 1);
      }
}

static void
test_reduce_all_axes (void)
{
  /* the IR's empty axes mean all axes: written out explicitly */
  static const gint64 all[] = { 0, 1, 2 }, ones[] = { 1, 1, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s234, 3, &error);
  g_autoptr(AneTensor) s = ane_graph_reduce_sum (g, x, NULL, 0, FALSE, &error);
  g_autoptr(AneTensor) m = ane_graph_reduce_max (g, x, NULL, 0, TRUE, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op;

  ane_graph_add_output (g, "s", s, &error);
  ane_graph_add_output (g, "m", m, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16);
  ane_test_assert_seq (p, "cast,reduce_sum,reduce_max,cast,cast");
  op = ane_test_find_op (p, "reduce_sum", 0);
  ane_test_assert_const_ints (p, ane_test_op_arg (op, "axes"), all, 3);
  ane_test_assert_const_bool (p, ane_test_op_arg (op, "keep_dims"), FALSE);
  ane_test_assert_output (op, 0, ANE_DTYPE_FLOAT16, NULL, 0);
  op = ane_test_find_op (p, "reduce_max", 0);
  ane_test_assert_const_ints (p, ane_test_op_arg (op, "axes"), all, 3);
  ane_test_assert_output (op, 0, ANE_DTYPE_FLOAT16, ones, 3);
}

static void
test_reduce_scalar (void)
{
  /* a rank-0 value has nothing to reduce */
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, NULL, 0, &error);
  g_autoptr(AneTensor) y = ane_graph_reduce_mean (g, x, NULL, 0, FALSE, &error);
  g_autoptr(AneMilProgram) p = NULL;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "squeeze,identity,identity");
}

static void
test_reduce_int32 (void)
{
  /* int32 is a MIL reduction dtype: no casts */
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, s234, 3, &error);
  g_autoptr(AneTensor) y = ane_graph_reduce_prod (g, x, (gint64[]) { 1 }, 1, FALSE, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT16);
  ane_test_assert_seq (p, "reduce_prod,identity");
  op = ane_test_find_op (p, "reduce_prod", 0);
  g_assert_cmpstr (ane_test_op_arg (op, "x"), ==, "x");
  ane_test_assert_output (op, 0, ANE_DTYPE_INT32, (gint64[]) { 2, 4 }, 2);
}

static void
test_reduce_int8 (void)
{
  /* int8: reduced in int32; sums (and products) saturate back to int8, as
   * the IR's integer results do; max and min cannot leave the range */
  static const gint64 out_shape[] = { 2, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, s234, 3, &error);
  g_autoptr(AneTensor) x8 = ane_graph_cast (g, x, ANE_DTYPE_INT8, &error);
  g_autoptr(AneTensor) s = ane_graph_reduce_sum (g, x8, (gint64[]) { -1 }, 1, FALSE, &error);
  g_autoptr(AneTensor) m = ane_graph_reduce_max (g, x8, (gint64[]) { -1 }, 1, FALSE, &error);
  g_autoptr(AneTensor) ys = ane_graph_cast (g, s, ANE_DTYPE_INT32, &error);
  g_autoptr(AneTensor) ym = ane_graph_cast (g, m, ANE_DTYPE_INT32, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *sum, *lo, *hi, *back;

  ane_graph_add_output (g, "ys", ys, &error);
  ane_graph_add_output (g, "ym", ym, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "maximum,minimum,cast,"                      /* graph: int32 -> int8, saturating */
                          "cast,reduce_sum,maximum,minimum,cast,"      /* reduce_sum */
                          "cast,reduce_max,cast,"                      /* reduce_max */
                          "cast,cast,identity,identity");
  sum = ane_test_find_op (p, "reduce_sum", 0);
  ane_test_assert_output (sum, 0, ANE_DTYPE_INT32, out_shape, 2);
  g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (ane_test_producer (p, ane_test_op_arg (sum, "x")), "dtype")),
                   ==, "int32");
  lo = ane_test_find_op (p, "maximum", 1);
  hi = ane_test_find_op (p, "minimum", 1);
  g_assert_cmpstr (ane_test_op_arg (lo, "x"), ==, sum->outputs[0]->name);
  ane_test_assert_const_int (p, ane_test_op_arg (lo, "y"), -128);
  g_assert_cmpstr (ane_test_op_arg (hi, "x"), ==, lo->outputs[0]->name);
  ane_test_assert_const_int (p, ane_test_op_arg (hi, "y"), 127);
  back = ane_test_find_op (p, "cast", 2);
  g_assert_cmpstr (ane_test_op_arg (back, "x"), ==, hi->outputs[0]->name);
  g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (back, "dtype")), ==, "int8");
  ane_test_assert_output (back, 0, ANE_DTYPE_INT8, out_shape, 2);
}

static void
test_reduce_int8_before_ios17 (void)
{
  /* before iOS17 MIL cannot convert int8 (here an int8 const) to int32 */
  static const gint8 data[] = { 1, -2, 3, 4 };
  static const gint64 s4[] = { 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) blobs = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new (data, sizeof data);
  g_autoptr(AneTensor) t = ane_tensor_new_from_bytes ("c8", ANE_DTYPE_INT8, s4, 1, bytes, &error);
  g_autoptr(AneTensor) c = ane_graph_const (g, t, &error);
  g_autoptr(AneTensor) s = ane_graph_reduce_sum (g, c, NULL, 0, FALSE, &error);
  g_autoptr(AneTensor) y = ane_graph_cast (g, s, ANE_DTYPE_INT32, &error);
  g_autoptr(AneMilProgram) p = NULL;
  guint64 size;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  g_assert_null (ane_lower_graph (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT32, &blobs, &size, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "reduce_sum"));
  g_assert_nonnull (strstr (error->message, "iOS16"));
  g_assert_nonnull (strstr (error->message, "int8"));
  g_clear_error (&error);

  /* iOS17: through int32 */
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "cast,reduce_sum,maximum,minimum,cast,cast,identity");
  ane_test_assert_const_ints (p, ane_test_op_arg (ane_test_find_op (p, "reduce_sum", 0), "axes"), (gint64[]) { 0 }, 1);
}

/* --- cumsum ------------------------------------------------------------------ */

static void
test_cumsum (void)
{
  /* all four exclusive/reverse combinations map one to one */
  for (int fp16 = 0; fp16 <= 1; fp16++)
    for (int exclusive = 0; exclusive <= 1; exclusive++)
      for (int reverse = 0; reverse <= 1; reverse++)
        {
          g_autoptr(AneGraph) g = ane_graph_new ();
          g_autoptr(GError) error = NULL;
          g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s234, 3, &error);
          g_autoptr(AneTensor) y = ane_graph_cumsum (g, x, -2, exclusive, reverse, &error);
          g_autoptr(AneMilProgram) p = NULL;
          AneMilOperation *op;
          AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;

          ane_graph_add_output (g, "y", y, &error);
          g_assert_no_error (error);
          p = ane_test_lower (g, fp16 ? ANE_MIL_IOS17 : ANE_MIL_IOS15, dt);
          ane_test_assert_seq (p, fp16 ? "cast,cumsum,cast" : "cumsum,identity");
          op = ane_test_find_op (p, "cumsum", 0);
          ane_test_assert_const_int (p, ane_test_op_arg (op, "axis"), 1);   /* MIL takes only -1..rank-1 */
          ane_test_assert_const_bool (p, ane_test_op_arg (op, "exclusive"), exclusive);
          ane_test_assert_const_bool (p, ane_test_op_arg (op, "reverse"), reverse);
          ane_test_assert_output (op, 0, dt, s234, 3);
        }
}

static void
test_cumsum_int (void)
{
  /* int32 natively; int16 through int32, saturated back */
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, s234, 3, &error);
  g_autoptr(AneTensor) c = ane_graph_cumsum (g, x, 0, TRUE, TRUE, &error);
  g_autoptr(AneTensor) x16 = ane_graph_cast (g, x, ANE_DTYPE_INT16, &error);
  g_autoptr(AneTensor) c16 = ane_graph_cumsum (g, x16, -1, FALSE, FALSE, &error);
  g_autoptr(AneTensor) y16 = ane_graph_cast (g, c16, ANE_DTYPE_INT32, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op;

  ane_graph_add_output (g, "c", c, &error);
  ane_graph_add_output (g, "y16", y16, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT16);
  /* (the graph's int32 -> int16 cast saturates: the first maximum, minimum) */
  ane_test_assert_seq (p, "cumsum,maximum,minimum,cast,cast,cumsum,maximum,minimum,cast,cast,identity,identity");
  op = ane_test_find_op (p, "cumsum", 0);
  g_assert_cmpstr (ane_test_op_arg (op, "x"), ==, "x");
  ane_test_assert_output (op, 0, ANE_DTYPE_INT32, s234, 3);
  op = ane_test_find_op (p, "cumsum", 1);
  ane_test_assert_const_int (p, ane_test_op_arg (op, "axis"), 2);
  ane_test_assert_output (op, 0, ANE_DTYPE_INT32, s234, 3);
  ane_test_assert_const_int (p, ane_test_op_arg (ane_test_find_op (p, "maximum", 1), "y"), -32768);
  ane_test_assert_const_int (p, ane_test_op_arg (ane_test_find_op (p, "minimum", 1), "y"), 32767);
}

/* --- top_k ------------------------------------------------------------------- */

static void
test_top_k (void)
{
  static const gint64 out_shape[] = { 2, 2, 4 };

  for (AneMilTarget t = ANE_MIL_IOS15; t <= ANE_MIL_IOS18; t++)
    for (int fp16 = 0; fp16 <= 1; fp16++)
      {
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s234, 3, &error);
        g_autoptr(AneTensor) idx = NULL;
        g_autoptr(AneTensor) v = ane_graph_top_k (g, x, 2, -2, &idx, &error);
        g_autoptr(AneMilProgram) p = NULL;
        AneMilOperation *op;
        AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;

        ane_graph_add_output (g, "v", v, &error);
        ane_graph_add_output (g, "i", idx, &error);
        g_assert_no_error (error);
        p = ane_test_lower (g, t, dt);
        ane_test_assert_seq (p, fp16 ? "cast,topk,cast,identity" : "topk,identity,identity");
        op = ane_test_find_op (p, "topk", 0);
        ane_test_assert_const_int (p, ane_test_op_arg (op, "k"), 2);
        ane_test_assert_const_int (p, ane_test_op_arg (op, "axis"), 1);
        ane_test_assert_const_bool (p, ane_test_op_arg (op, "ascending"), FALSE);
        if (t >= ANE_MIL_IOS16)
          {
            ane_test_assert_const_bool (p, ane_test_op_arg (op, "sort"), TRUE);
            ane_test_assert_const_bool (p, ane_test_op_arg (op, "return_indices"), TRUE);
          }
        else
          {
            g_assert_null (ane_test_op_arg (op, "sort"));
            g_assert_null (ane_test_op_arg (op, "return_indices"));
          }
        g_assert_null (ane_test_op_arg (op, "output_indices_dtype"));
        g_assert_cmpuint (op->n_outputs, ==, 2);
        ane_test_assert_output (op, 0, dt, out_shape, 3);
        ane_test_assert_output (op, 1, ANE_DTYPE_INT32, out_shape, 3);
        /* the indices output feeds the graph output "i" directly */
        g_assert_cmpstr (ane_test_op_arg (ane_test_producer (p, "i"), "x"), ==, op->outputs[1]->name);
      }
}

static void
test_top_k_int (void)
{
  /* int32 natively at every target; int8 natively from iOS17 on */
  static const gint64 s21[] = { 2, 3, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, s234, 3, &error);
  g_autoptr(AneTensor) v = ane_graph_top_k (g, x, 1, -1, NULL, &error);
  g_autoptr(AneTensor) x8 = ane_graph_cast (g, x, ANE_DTYPE_INT8, &error);
  g_autoptr(AneTensor) v8 = ane_graph_top_k (g, x8, 1, 2, NULL, &error);
  g_autoptr(AneTensor) y8 = ane_graph_cast (g, v8, ANE_DTYPE_INT32, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op;

  ane_graph_add_output (g, "v", v, &error);
  ane_graph_add_output (g, "y8", y8, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "topk,maximum,minimum,cast,topk,cast,identity,identity");
  op = ane_test_find_op (p, "topk", 0);
  g_assert_cmpstr (ane_test_op_arg (op, "x"), ==, "x");
  ane_test_assert_output (op, 0, ANE_DTYPE_INT32, s21, 3);
  op = ane_test_find_op (p, "topk", 1);
  ane_test_assert_output (op, 0, ANE_DTYPE_INT8, s21, 3);
  ane_test_assert_output (op, 1, ANE_DTYPE_INT32, s21, 3);
}

/* --- scatter_add ------------------------------------------------------------- */

static const gint64 s34[] = { 3, 4 };

static void
test_scatter_add (void)
{
  /* indices as large as x off the axis: one scatter_along_axis */
  static const gint64 s24[] = { 2, 4 };

  for (int fp16 = 0; fp16 <= 1; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s34, 2, &error);
      g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, s24, 2, &error);
      g_autoptr(AneTensor) u = ane_graph_input (g, "u", ANE_DTYPE_FLOAT32, s24, 2, &error);
      g_autoptr(AneTensor) y = ane_graph_scatter_add (g, x, i, u, -2, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *op;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, fp16 ? ANE_MIL_IOS17 : ANE_MIL_IOS15, dt);
      ane_test_assert_seq (p, fp16 ? "cast,cast,scatter_along_axis,cast" : "scatter_along_axis,identity");
      op = ane_test_find_op (p, "scatter_along_axis", 0);
      g_assert_cmpstr (ane_test_producer_type (p, ane_test_op_arg (op, "data")), ==, fp16 ? "cast" : "");
      g_assert_cmpstr (ane_test_op_arg (op, "indices"), ==, "i");
      g_assert_cmpstr (ane_test_producer_type (p, ane_test_op_arg (op, "updates")), ==, fp16 ? "cast" : "");
      ane_test_assert_const_int (p, ane_test_op_arg (op, "axis"), 0);
      g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (op, "mode")), ==, "add");
      if (fp16)   /* iOS17 */
        ane_test_assert_const_bool (p, ane_test_op_arg (op, "validate_indices"), TRUE);
      else        /* iOS15 has no validate_indices */
        g_assert_null (ane_test_op_arg (op, "validate_indices"));
      ane_test_assert_output (op, 0, dt, s34, 2);
    }
}

static void
test_scatter_add_padded (void)
{
  /* torch allows indices smaller than x off the axis, MIL does not: indices
   * are padded with 0 and updates with -0.0 (x + -0.0 == x for every x) */
  static const gint64 s22[] = { 2, 2 }, s24[] = { 2, 4 }, fill[] = { 2, 2 }, ones[] = { 1, 1 };

  for (int fp16 = 0; fp16 <= 1; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s34, 2, &error);
      g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, s22, 2, &error);
      g_autoptr(AneTensor) u = ane_graph_input (g, "u", ANE_DTYPE_FLOAT32, s22, 2, &error);
      g_autoptr(AneTensor) y = ane_graph_scatter_add (g, x, i, u, 0, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *op, *ti, *ci, *tu, *cu;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
      g_autofree double *vals = NULL;
      const char *c;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS18, dt);
      ane_test_assert_seq (p, fp16 ? "cast,cast,tile,concat,tile,concat,scatter_along_axis,cast"
                                   : "tile,concat,tile,concat,scatter_along_axis,identity");
      ti = ane_test_find_op (p, "tile", 0);
      ci = ane_test_find_op (p, "concat", 0);
      tu = ane_test_find_op (p, "tile", 1);
      cu = ane_test_find_op (p, "concat", 1);
      op = ane_test_find_op (p, "scatter_along_axis", 0);

      /* indices: [2,2] + zeros [2,2] along axis 1 */
      c = ane_test_op_arg (ti, "x");
      ane_test_assert_const_ints (p, c, (gint64[]) { 0 }, 1);
      ane_test_assert_output (ane_test_producer (p, c), 0, ANE_DTYPE_INT32, ones, 2);
      ane_test_assert_const_ints (p, ane_test_op_arg (ti, "reps"), fill, 2);
      ane_test_assert_output (ti, 0, ANE_DTYPE_INT32, fill, 2);
      g_assert_cmpstr (ane_test_op_arg_n (ci, "values", 0), ==, "i");
      g_assert_cmpstr (ane_test_op_arg_n (ci, "values", 1), ==, ti->outputs[0]->name);
      ane_test_assert_const_int (p, ane_test_op_arg (ci, "axis"), 1);
      ane_test_assert_const_bool (p, ane_test_op_arg (ci, "interleave"), FALSE);
      ane_test_assert_output (ci, 0, ANE_DTYPE_INT32, s24, 2);

      /* updates: padded with -0.0 in the compute dtype */
      c = ane_test_op_arg (tu, "x");
      g_assert_cmpuint (ane_test_const_values (p, c, &vals), ==, 1);
      g_assert_cmpfloat (vals[0], ==, 0.0);
      g_assert_true (signbit (vals[0]));
      ane_test_assert_output (ane_test_producer (p, c), 0, dt, ones, 2);
      ane_test_assert_output (tu, 0, dt, fill, 2);
      g_assert_cmpstr (ane_test_op_arg_n (cu, "values", 1), ==, tu->outputs[0]->name);
      ane_test_assert_output (cu, 0, dt, s24, 2);

      g_assert_cmpstr (ane_test_op_arg (op, "indices"), ==, ci->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (op, "updates"), ==, cu->outputs[0]->name);
      ane_test_assert_const_int (p, ane_test_op_arg (op, "axis"), 0);
      ane_test_assert_output (op, 0, dt, s34, 2);
    }
}

static void
test_scatter_add_int (void)
{
  /* int8 data through int32 (saturated back), int8 indices as int32;
   * integer updates are padded with 0 */
  static const gint64 s31[] = { 3, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, s34, 2, &error);
  g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, s31, 2, &error);
  g_autoptr(AneTensor) x8 = ane_graph_cast (g, x, ANE_DTYPE_INT8, &error);
  g_autoptr(AneTensor) i8 = ane_graph_cast (g, i, ANE_DTYPE_INT8, &error);
  g_autoptr(AneTensor) u8 = ane_graph_cast (g, i, ANE_DTYPE_INT8, &error);
  g_autoptr(AneTensor) s = ane_graph_scatter_add (g, x8, i8, u8, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_cast (g, s, ANE_DTYPE_INT32, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op, *tu;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "maximum,minimum,cast,maximum,minimum,cast,"
                          "maximum,minimum,cast,"                   /* the graph's casts to int8, saturating */
                          "cast,cast,cast,"                         /* data, updates, indices to int32 */
                          "scatter_along_axis,maximum,minimum,cast,"
                          "cast,identity");
  op = ane_test_find_op (p, "scatter_along_axis", 0);
  ane_test_assert_output (op, 0, ANE_DTYPE_INT32, s34, 2);
  g_assert_cmpstr (ane_test_producer_type (p, ane_test_op_arg (op, "indices")), ==, "cast");
  ane_test_assert_const_int (p, ane_test_op_arg (op, "axis"), 1);
  ane_test_assert_const_int (p, ane_test_op_arg (ane_test_find_op (p, "maximum", 3), "y"), -128);
  ane_test_assert_const_int (p, ane_test_op_arg (ane_test_find_op (p, "minimum", 3), "y"), 127);
  tu = ane_test_find_op (p, "tile", 0);
  g_assert_null (tu);   /* [3,1] indices already match x's 3 rows off axis 1 */
}

static void
test_scatter_add_int_padded (void)
{
  static const gint64 s12[] = { 1, 2 }, s32[] = { 3, 2 }, fill[] = { 2, 2 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, s34, 2, &error);
  g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, s12, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_scatter_add (g, x, i, i, 1, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *tu, *cu;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT16);
  ane_test_assert_seq (p, "tile,concat,tile,concat,scatter_along_axis,identity");
  tu = ane_test_find_op (p, "tile", 1);
  cu = ane_test_find_op (p, "concat", 1);
  ane_test_assert_const_ints (p, ane_test_op_arg (tu, "x"), (gint64[]) { 0 }, 1);
  ane_test_assert_const_ints (p, ane_test_op_arg (tu, "reps"), fill, 2);
  ane_test_assert_output (tu, 0, ANE_DTYPE_INT32, fill, 2);
  ane_test_assert_const_int (p, ane_test_op_arg (cu, "axis"), 0);
  ane_test_assert_output (cu, 0, ANE_DTYPE_INT32, s32, 2);
}

static void
test_scatter_add_rank3 (void)
{
  /* two short axes: padded one after the other */
  static const gint64 x_shape[] = { 2, 3, 4 }, i_shape[] = { 1, 5, 2 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, x_shape, 3, &error);
  g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, i_shape, 3, &error);
  g_autoptr(AneTensor) u = ane_graph_input (g, "u", ANE_DTYPE_FLOAT32, i_shape, 3, &error);
  g_autoptr(AneTensor) y = ane_graph_scatter_add (g, x, i, u, 1, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "tile,concat,tile,concat,tile,concat,tile,concat,scatter_along_axis,identity");
  /* axis 0: [1,5,2] -> [2,5,2]; axis 2: [2,5,2] -> [2,5,4] */
  ane_test_assert_const_ints (p, ane_test_op_arg (ane_test_find_op (p, "tile", 0), "reps"), (gint64[]) { 1, 5, 2 }, 3);
  ane_test_assert_const_int (p, ane_test_op_arg (ane_test_find_op (p, "concat", 0), "axis"), 0);
  ane_test_assert_const_ints (p, ane_test_op_arg (ane_test_find_op (p, "tile", 2), "reps"), (gint64[]) { 2, 5, 2 }, 3);
  ane_test_assert_const_int (p, ane_test_op_arg (ane_test_find_op (p, "concat", 2), "axis"), 2);
  op = ane_test_find_op (p, "scatter_along_axis", 0);
  ane_test_assert_output (ane_test_producer (p, ane_test_op_arg (op, "indices")), 0, ANE_DTYPE_INT32,
                          (gint64[]) { 2, 5, 4 }, 3);
  ane_test_assert_output (ane_test_producer (p, ane_test_op_arg (op, "updates")), 0, ANE_DTYPE_FLOAT32,
                          (gint64[]) { 2, 5, 4 }, 3);
  ane_test_assert_const_int (p, ane_test_op_arg (op, "axis"), 1);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (reduce_cases); i++)
    g_test_add_data_func (reduce_cases[i].path, &reduce_cases[i], test_reduce);
  g_test_add_func ("/ane/lower/reduce/reduce/all-axes", test_reduce_all_axes);
  g_test_add_func ("/ane/lower/reduce/reduce/scalar", test_reduce_scalar);
  g_test_add_func ("/ane/lower/reduce/reduce/int32", test_reduce_int32);
  g_test_add_func ("/ane/lower/reduce/reduce/int8", test_reduce_int8);
  g_test_add_func ("/ane/lower/reduce/reduce/int8-before-ios17", test_reduce_int8_before_ios17);
  g_test_add_func ("/ane/lower/reduce/cumsum", test_cumsum);
  g_test_add_func ("/ane/lower/reduce/cumsum/int", test_cumsum_int);
  g_test_add_func ("/ane/lower/reduce/top_k", test_top_k);
  g_test_add_func ("/ane/lower/reduce/top_k/int", test_top_k_int);
  g_test_add_func ("/ane/lower/reduce/scatter_add", test_scatter_add);
  g_test_add_func ("/ane/lower/reduce/scatter_add/padded", test_scatter_add_padded);
  g_test_add_func ("/ane/lower/reduce/scatter_add/int", test_scatter_add_int);
  g_test_add_func ("/ane/lower/reduce/scatter_add/int-padded", test_scatter_add_int_padded);
  g_test_add_func ("/ane/lower/reduce/scatter_add/rank3", test_scatter_add_rank3);
  return g_test_run ();
}
