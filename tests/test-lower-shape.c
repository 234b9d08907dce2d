/* test-lower-shape.c: lowering of reshape, transpose, concat, narrow, gather, expand, cast,
 * stop_gradient and slice_update
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-test-util.h"
#include "ane-lower-test-util.h"

/* --- helpers ----------------------------------------------------------------- */

static void
assert_float_const (AneMilProgram *p,
                    const char    *value,
                    double         expected)
{
  g_autofree double *v = NULL;

  g_assert_cmpuint (ane_test_const_values (p, value, &v), ==, 1);
  g_assert_cmpfloat (v[0], ==, expected);
}

static guint
op_arg_count (AneMilOperation *op,
              const char      *param)
{
  for (gsize k = 0; k < op->n_inputs; k++)
    if (g_str_equal (op->inputs[k]->key, param))
      return op->inputs[k]->value->n_arguments;
  return 0;
}

static AneTensor *
const_i32 (AneGraph     *g,
           const char   *name,
           const gint64 *shape,
           guint         rank,
           const gint32 *values)
{
  gint64 n = 1;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(AneTensor) t = NULL;
  g_autoptr(GError) error = NULL;
  AneTensor *c;

  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  bytes = g_bytes_new (values, n * sizeof (gint32));
  t = ane_tensor_new_from_bytes (name, ANE_DTYPE_INT32, shape, rank, bytes, &error);
  g_assert_no_error (error);
  c = ane_graph_const (g, t, &error);
  g_assert_no_error (error);
  return c;
}

static const gint64 s234[] = { 2, 3, 4 };

/* --- reshape ----------------------------------------------------------------- */

static void
test_reshape (void)
{
  static const gint64 target[] = { -1, 4 }, resolved[] = { 6, 4 };

  for (int fp16 = 0; fp16 <= 1; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s234, 3, &error);
      g_autoptr(AneTensor) y = ane_graph_reshape (g, x, target, 2, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *op;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, fp16 ? ANE_MIL_IOS17 : ANE_MIL_IOS15, dt);
      ane_test_assert_seq (p, fp16 ? "cast,reshape,cast" : "reshape,identity");
      op = ane_test_find_op (p, "reshape", 0);
      /* the IR's resolved shape, never -1 */
      ane_test_assert_const_ints (p, ane_test_op_arg (op, "shape"), resolved, 2);
      g_assert_cmpstr (ane_test_producer_type (p, ane_test_op_arg (op, "x")), ==, fp16 ? "cast" : "");
      ane_test_assert_output (op, 0, dt, resolved, 2);
    }
}

static void
test_reshape_scalar (void)
{
  static const gint64 s1[] = { 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, s1, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_reshape (g, x, NULL, 0, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT16);
  ane_test_assert_seq (p, "reshape,identity");
  op = ane_test_find_op (p, "reshape", 0);
  ane_test_assert_const_ints (p, ane_test_op_arg (op, "shape"), NULL, 0);
  ane_test_assert_output (op, 0, ANE_DTYPE_INT32, NULL, 0);
}

static void
test_reshape_same_shape (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s234, 3, &error);
  g_autoptr(AneTensor) y = ane_graph_reshape (g, x, (gint64[]) { 2, -1, 4 }, 3, &error);
  g_autoptr(AneMilProgram) p = NULL;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "identity,identity");
}

static void
test_reshape_zero_size (void)
{
  static const gint64 s13[] = { 1, 3 }, s30[] = { 3, 0 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  /* inputs may not have a zero dimension: an empty slice of one */
  g_autoptr(AneTensor) in = ane_graph_input (g, "in", ANE_DTYPE_FLOAT32, s13, 2, &error);
  g_autoptr(AneTensor) x = ane_graph_narrow (g, in, 0, 0, 0, &error);
  g_autoptr(AneTensor) y = ane_graph_reshape (g, x, s30, 2, &error);

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  ane_test_assert_lower_fails (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32, "reshape", "0", NULL);
}

/* --- transpose --------------------------------------------------------------- */

static void
test_transpose (void)
{
  static const gint64 perm[] = { 2, 0, 1 }, out_shape[] = { 4, 2, 3 };

  for (int fp16 = 0; fp16 <= 1; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s234, 3, &error);
      g_autoptr(AneTensor) y = ane_graph_transpose (g, x, perm, 3, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *op;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS16, dt);
      ane_test_assert_seq (p, fp16 ? "cast,transpose,cast" : "transpose,identity");
      op = ane_test_find_op (p, "transpose", 0);
      ane_test_assert_const_ints (p, ane_test_op_arg (op, "perm"), perm, 3);
      ane_test_assert_output (op, 0, dt, out_shape, 3);
    }
}

static void
test_transpose_identity (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, s234, 3, &error);
  g_autoptr(AneTensor) y = ane_graph_transpose (g, x, (gint64[]) { 0, 1, 2 }, 3, &error);
  g_autoptr(AneMilProgram) p = NULL;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "identity,identity");
}

/* --- concat ------------------------------------------------------------------ */

static void
test_concat (void)
{
  static const gint64 s21[] = { 2, 1 }, s22[] = { 2, 2 }, out_shape[] = { 2, 6 };

  for (int fp16 = 0; fp16 <= 1; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT32, s21, 2, &error);
      g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT32, s22, 2, &error);
      g_autoptr(AneTensor) c = ane_graph_input (g, "c", ANE_DTYPE_FLOAT32, (gint64[]) { 2, 3 }, 2, &error);
      AneTensor *vals[] = { a, b, c };
      g_autoptr(AneTensor) y = ane_graph_concat (g, vals, 3, -1, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *op;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS17, dt);
      ane_test_assert_seq (p, fp16 ? "cast,cast,cast,concat,cast" : "concat,identity");
      op = ane_test_find_op (p, "concat", 0);
      g_assert_cmpuint (op_arg_count (op, "values"), ==, 3);
      if (!fp16)
        {
          g_assert_cmpstr (ane_test_op_arg_n (op, "values", 0), ==, "a");
          g_assert_cmpstr (ane_test_op_arg_n (op, "values", 1), ==, "b");
          g_assert_cmpstr (ane_test_op_arg_n (op, "values", 2), ==, "c");
        }
      else
        g_assert_cmpstr (ane_test_op_arg (ane_test_producer (p, ane_test_op_arg_n (op, "values", 2)), "x"), ==, "c");
      ane_test_assert_const_int (p, ane_test_op_arg (op, "axis"), 1);   /* normalized */
      ane_test_assert_const_bool (p, ane_test_op_arg (op, "interleave"), FALSE);
      ane_test_assert_output (op, 0, dt, out_shape, 2);
    }
}

static void
test_concat_single (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT32, s234, 3, &error);
  g_autoptr(AneTensor) y = ane_graph_concat (g, &a, 1, 0, &error);
  g_autoptr(AneMilProgram) p = NULL;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "identity,identity");
}

static void
test_concat_bool (void)
{
  /* concat takes bool natively */
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT32, s234, 3, &error);
  g_autoptr(AneTensor) m = ane_graph_gt (g, a, a, &error);
  AneTensor *vals[] = { m, m };
  g_autoptr(AneTensor) c = ane_graph_concat (g, vals, 2, 0, &error);
  g_autoptr(AneTensor) y = ane_graph_cast (g, c, ANE_DTYPE_INT32, &error);
  g_autoptr(AneMilProgram) p = NULL;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "greater,concat,cast,identity");
  ane_test_assert_output (ane_test_find_op (p, "concat", 0), 0, ANE_DTYPE_BOOL, (gint64[]) { 4, 3, 4 }, 3);
}

static void
test_concat_int8 (void)
{
  /* MIL concat takes no int8 at any target: through int32 and back (exact). */
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_INT32, s234, 3, &error);
  g_autoptr(AneTensor) a8 = ane_graph_cast (g, a, ANE_DTYPE_INT8, &error);
  AneTensor *vals[] = { a8, a8 };
  g_autoptr(AneTensor) c = ane_graph_concat (g, vals, 2, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_cast (g, c, ANE_DTYPE_INT32, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op, *back;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16);
  /* (the int32 -> int8 cast saturates: maximum, minimum first) */
  ane_test_assert_seq (p, "maximum,minimum,cast,cast,cast,concat,cast,cast,identity");
  op = ane_test_find_op (p, "concat", 0);
  ane_test_assert_output (op, 0, ANE_DTYPE_INT32, (gint64[]) { 2, 6, 4 }, 3);
  g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (ane_test_producer (p, ane_test_op_arg_n (op, "values", 0)), "dtype")),
                   ==, "int32");
  back = ane_test_find_op (p, "cast", 3);
  g_assert_cmpstr (ane_test_op_arg (back, "x"), ==, op->outputs[0]->name);
  g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (back, "dtype")), ==, "int8");

  /* before iOS17 MIL cannot convert int8 at all (here an int8 const) */
  {
    static const gint8 data[] = { 1, -2, 3, 4 };
    static const gint64 s4[] = { 4 };
    g_autoptr(AneGraph) g8 = ane_graph_new ();
    g_autoptr(GBytes) bytes = g_bytes_new (data, sizeof data);
    g_autoptr(AneTensor) t = ane_tensor_new_from_bytes ("c8", ANE_DTYPE_INT8, s4, 1, bytes, &error);
    g_autoptr(AneTensor) c8 = ane_graph_const (g8, t, &error);
    AneTensor *two[] = { c8, c8 };
    g_autoptr(AneTensor) cc = ane_graph_concat (g8, two, 2, 0, &error);
    g_autoptr(AneTensor) cy = ane_graph_cast (g8, cc, ANE_DTYPE_INT32, &error);

    ane_graph_add_output (g8, "y", cy, &error);
    g_assert_no_error (error);
    ane_test_assert_lower_fails (g8, ANE_MIL_IOS16, ANE_DTYPE_FLOAT32, "concat 'concat' on iOS16: MIL concat takes no int8", NULL);
  }
}

/* --- narrow ------------------------------------------------------------------ */

static void
test_narrow (void)
{
  static const gint64 s253[] = { 2, 5, 3 }, begin[] = { 0, 2, 0 }, end[] = { 2, 4, 3 }, out_shape[] = { 2, 2, 3 };

  for (int fp16 = 0; fp16 <= 1; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s253, 3, &error);
      g_autoptr(AneTensor) y = ane_graph_narrow (g, x, -2, -3, 2, &error);   /* start -3 = 2 */
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *op;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS18, dt);
      ane_test_assert_seq (p, fp16 ? "cast,slice_by_index,cast" : "slice_by_index,identity");
      op = ane_test_find_op (p, "slice_by_index", 0);
      ane_test_assert_const_ints (p, ane_test_op_arg (op, "begin"), begin, 3);
      ane_test_assert_const_ints (p, ane_test_op_arg (op, "end"), end, 3);
      g_assert_null (ane_test_op_arg (op, "begin_mask"));
      g_assert_null (ane_test_op_arg (op, "stride"));
      ane_test_assert_output (op, 0, dt, out_shape, 3);
    }
}

static void
test_narrow_whole_axis (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, s234, 3, &error);
  g_autoptr(AneTensor) y = ane_graph_narrow (g, x, 1, 0, 3, &error);
  g_autoptr(AneMilProgram) p = NULL;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "identity,identity");
}

/* --- gather ------------------------------------------------------------------ */

static const gint64 s43[] = { 4, 3 }, s22[] = { 2, 2 }, s223[] = { 2, 2, 3 };

static void
test_gather_native (void)
{
  /* up to iOS16 MIL gather wraps negative indices itself */
  for (AneMilTarget t = ANE_MIL_IOS15; t <= ANE_MIL_IOS16; t++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s43, 2, &error);
      g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, s22, 2, &error);
      g_autoptr(AneTensor) y = ane_graph_gather (g, x, i, 0, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *op;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, t, ANE_DTYPE_FLOAT32);
      ane_test_assert_seq (p, "gather,identity");
      op = ane_test_find_op (p, "gather", 0);
      g_assert_cmpstr (ane_test_op_arg (op, "x"), ==, "x");
      g_assert_cmpstr (ane_test_op_arg (op, "indices"), ==, "i");
      ane_test_assert_const_int (p, ane_test_op_arg (op, "axis"), 0);
      g_assert_null (ane_test_op_arg (op, "validate_indices"));
      ane_test_assert_output (op, 0, ANE_DTYPE_FLOAT32, s223, 3);
    }
}

static void
test_gather_wrap (void)
{
  /* from iOS17 on negative indices are out of bounds in MIL: wrapped first */
  for (int fp16 = 0; fp16 <= 1; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s43, 2, &error);
      g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, s22, 2, &error);
      g_autoptr(AneTensor) y = ane_graph_gather (g, x, i, -2, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *ge, *add, *sel, *op;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, fp16 ? ANE_MIL_IOS18 : ANE_MIL_IOS17, dt);
      ane_test_assert_seq (p, fp16 ? "cast,greater_equal,add,select,gather,cast"
                                   : "greater_equal,add,select,gather,identity");
      ge = ane_test_find_op (p, "greater_equal", 0);
      add = ane_test_find_op (p, "add", 0);
      sel = ane_test_find_op (p, "select", 0);
      op = ane_test_find_op (p, "gather", 0);
      g_assert_cmpstr (ane_test_op_arg (ge, "x"), ==, "i");
      ane_test_assert_const_int (p, ane_test_op_arg (ge, "y"), 0);
      ane_test_assert_output (ge, 0, ANE_DTYPE_BOOL, s22, 2);
      g_assert_cmpstr (ane_test_op_arg (add, "x"), ==, "i");
      ane_test_assert_const_int (p, ane_test_op_arg (add, "y"), 4);   /* the gathered axis' size */
      ane_test_assert_output (add, 0, ANE_DTYPE_INT32, s22, 2);
      g_assert_cmpstr (ane_test_op_arg (sel, "cond"), ==, ge->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (sel, "a"), ==, "i");
      g_assert_cmpstr (ane_test_op_arg (sel, "b"), ==, add->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (op, "indices"), ==, sel->outputs[0]->name);
      ane_test_assert_const_int (p, ane_test_op_arg (op, "axis"), 0);   /* -2 normalized */
      ane_test_assert_const_bool (p, ane_test_op_arg (op, "validate_indices"), TRUE);
      ane_test_assert_output (op, 0, dt, s223, 3);
    }
}

static void
test_gather_const_indices (void)
{
  /* const indices that are all >= 0 need no wrap; a negative one does */
  static const gint32 pos[] = { 2, 0, 1 }, neg[] = { -1, 0, 1 };
  static const gint64 s3[] = { 3 }, out_shape[] = { 4, 3 };

  for (int negative = 0; negative <= 1; negative++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s43, 2, &error);
      g_autoptr(AneTensor) i = const_i32 (g, "idx", s3, 1, negative ? neg : pos);
      g_autoptr(AneTensor) y = ane_graph_gather (g, x, i, 1, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *op;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
      ane_test_assert_seq (p, negative ? "greater_equal,add,select,gather,identity" : "gather,identity");
      op = ane_test_find_op (p, "gather", 0);
      if (!negative)
        g_assert_cmpstr (ane_test_op_arg (op, "indices"), ==, "idx");
      else
        ane_test_assert_const_int (p, ane_test_op_arg (ane_test_find_op (p, "add", 0), "y"), 3);
      ane_test_assert_const_int (p, ane_test_op_arg (op, "axis"), 1);
      ane_test_assert_output (op, 0, ANE_DTYPE_FLOAT32, out_shape, 2);
    }
}

static void
test_gather_bool (void)
{
  /* MIL gather takes no bool: gathered as int32 and cast back */
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s43, 2, &error);
  g_autoptr(AneTensor) m = ane_graph_gt (g, x, x, &error);
  g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, s22, 2, &error);
  g_autoptr(AneTensor) gm = ane_graph_gather (g, m, i, 0, &error);
  g_autoptr(AneTensor) y = ane_graph_cast (g, gm, ANE_DTYPE_INT32, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op, *back;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "greater,cast,gather,cast,cast,identity");
  op = ane_test_find_op (p, "gather", 0);
  ane_test_assert_output (op, 0, ANE_DTYPE_INT32, s223, 3);
  g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (ane_test_producer (p, ane_test_op_arg (op, "x")), "dtype")),
                   ==, "int32");
  back = ane_test_find_op (p, "cast", 1);
  g_assert_cmpstr (ane_test_op_arg (back, "x"), ==, op->outputs[0]->name);
  g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (back, "dtype")), ==, "bool");
  ane_test_assert_output (back, 0, ANE_DTYPE_BOOL, s223, 3);
}

static void
test_gather_int8_indices (void)
{
  /* narrow integer indices become int32 (what the wrap's add/select take) */
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, s43, 2, &error);
  g_autoptr(AneTensor) i = ane_graph_input (g, "i", ANE_DTYPE_INT32, s22, 2, &error);
  g_autoptr(AneTensor) i8 = ane_graph_cast (g, i, ANE_DTYPE_INT8, &error);
  g_autoptr(AneTensor) y = ane_graph_gather (g, x, i8, 0, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *to32;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16);
  ane_test_assert_seq (p, "maximum,minimum,cast,cast,greater_equal,add,select,gather,identity");
  to32 = ane_test_find_op (p, "cast", 1);
  g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (to32, "dtype")), ==, "int32");
  g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "greater_equal", 0), "x"), ==, to32->outputs[0]->name);
  ane_test_assert_output (ane_test_find_op (p, "gather", 0), 0, ANE_DTYPE_INT32, s223, 3);
}

/* --- expand ------------------------------------------------------------------ */

static void
test_expand (void)
{
  static const gint64 s31[] = { 3, 1 }, s131[] = { 1, 3, 1 }, reps[] = { 2, 1, 4 };

  for (int fp16 = 0; fp16 <= 1; fp16++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s31, 2, &error);
      g_autoptr(AneTensor) y = ane_graph_expand (g, x, s234, 3, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *rs, *tile;
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS15, dt);
      ane_test_assert_seq (p, fp16 ? "cast,reshape,tile,cast" : "reshape,tile,identity");
      rs = ane_test_find_op (p, "reshape", 0);
      tile = ane_test_find_op (p, "tile", 0);
      ane_test_assert_const_ints (p, ane_test_op_arg (rs, "shape"), s131, 3);
      ane_test_assert_output (rs, 0, dt, s131, 3);
      g_assert_cmpstr (ane_test_op_arg (tile, "x"), ==, rs->outputs[0]->name);
      ane_test_assert_const_ints (p, ane_test_op_arg (tile, "reps"), reps, 3);
      ane_test_assert_output (tile, 0, dt, s234, 3);
    }
}

static void
test_expand_same_rank (void)
{
  static const gint64 s134[] = { 1, 3, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, s134, 3, &error);
  g_autoptr(AneTensor) y = ane_graph_expand (g, x, s234, 3, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *tile;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16);
  ane_test_assert_seq (p, "tile,identity");
  tile = ane_test_find_op (p, "tile", 0);
  g_assert_cmpstr (ane_test_op_arg (tile, "x"), ==, "x");
  ane_test_assert_const_ints (p, ane_test_op_arg (tile, "reps"), (gint64[]) { 2, 1, 1 }, 3);
  ane_test_assert_output (tile, 0, ANE_DTYPE_INT32, s234, 3);
}

static void
test_expand_rank_only (void)
{
  static const gint64 s3[] = { 3 }, s113[] = { 1, 1, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s3, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_expand (g, x, s113, 3, &error);
  g_autoptr(AneTensor) z = ane_graph_expand (g, x, s3, 1, &error);
  g_autoptr(AneMilProgram) p = NULL;

  ane_graph_add_output (g, "y", y, &error);
  ane_graph_add_output (g, "z", z, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "reshape,identity,identity,identity");
  ane_test_assert_const_ints (p, ane_test_op_arg (ane_test_find_op (p, "reshape", 0), "shape"), s113, 3);
}

static void
test_expand_bool_and_int8 (void)
{
  /* tile takes bool natively; int8 goes through int32 */
  static const gint64 s41[] = { 4, 1 }, s43b[] = { 4, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, s41, 2, &error);
  g_autoptr(AneTensor) m = ane_graph_gt (g, x, x, &error);
  g_autoptr(AneTensor) em = ane_graph_expand (g, m, s43b, 2, &error);
  g_autoptr(AneTensor) ym = ane_graph_cast (g, em, ANE_DTYPE_INT32, &error);
  g_autoptr(AneTensor) x8 = ane_graph_cast (g, x, ANE_DTYPE_INT8, &error);
  g_autoptr(AneTensor) e8 = ane_graph_expand (g, x8, s43b, 2, &error);
  g_autoptr(AneTensor) y8 = ane_graph_cast (g, e8, ANE_DTYPE_INT32, &error);
  g_autoptr(AneMilProgram) p = NULL;

  ane_graph_add_output (g, "ym", ym, &error);
  ane_graph_add_output (g, "y8", y8, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "greater,tile,cast,maximum,minimum,cast,cast,tile,cast,cast,identity,identity");
  ane_test_assert_output (ane_test_find_op (p, "tile", 0), 0, ANE_DTYPE_BOOL, s43b, 2);
  ane_test_assert_output (ane_test_find_op (p, "tile", 1), 0, ANE_DTYPE_INT32, s43b, 2);
  g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (ane_test_find_op (p, "cast", 3), "dtype")), ==, "int8");
}

static void
test_expand_to_zero (void)
{
  static const gint64 s1[] = { 1 }, s0[] = { 0 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s1, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_expand (g, x, s0, 1, &error);

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  ane_test_assert_lower_fails (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32, "expand", "tile", NULL);
}

/* --- cast / stop_gradient ---------------------------------------------------- */

static void
test_cast (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s234, 3, &error);
  g_autoptr(AneTensor) i = ane_graph_cast (g, x, ANE_DTYPE_INT32, &error);
  g_autoptr(AneTensor) h = ane_graph_cast (g, x, ANE_DTYPE_FLOAT16, &error);   /* a no-op in an fp16 program */
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op;

  ane_graph_add_output (g, "i", i, &error);
  ane_graph_add_output (g, "h", h, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16);
  /* float -> int saturates (NaN -> 0, clip, cast, +-inf to int32's
   * bounds); fp32 -> fp16 is no op */
  ane_test_assert_seq (p, "cast,equal,select,clip,cast,greater_equal,select,less_equal,select,identity,identity");
  op = ane_test_find_op (p, "cast", 1);
  g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (op, "dtype")), ==, "int32");
  ane_test_assert_output (op, 0, ANE_DTYPE_INT32, s234, 3);
  op = ane_test_find_op (p, "clip", 0);
  assert_float_const (p, ane_test_op_arg (op, "alpha"), -65504.0);
  assert_float_const (p, ane_test_op_arg (op, "beta"), 65504.0);
  g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "identity", 1), "x"), ==,
                   ane_test_find_op (p, "cast", 0)->outputs[0]->name);
  ane_test_assert_output (ane_test_find_op (p, "identity", 1), 0, ANE_DTYPE_FLOAT16, s234, 3);
}

static void
test_cast_saturates (void)
{
  /* clip bounds per target: exact in the float type, or through int32 */
  static const struct {
    AneDType    from, to, compute;
    const char *seq;
    double      lo, hi;
  } cases[] = {
    { ANE_DTYPE_FLOAT32, ANE_DTYPE_INT8,  ANE_DTYPE_FLOAT32, "equal,select,clip,cast,identity", -128, 127 },
    { ANE_DTYPE_FLOAT32, ANE_DTYPE_UINT8, ANE_DTYPE_FLOAT32, "equal,select,clip,cast,identity", 0, 255 },
    { ANE_DTYPE_FLOAT32, ANE_DTYPE_INT16, ANE_DTYPE_FLOAT32, "equal,select,clip,cast,identity", -32768, 32767 },
    /* 32767 is no fp16: clip to fp16's range, cast to int32, clamp there */
    { ANE_DTYPE_FLOAT16, ANE_DTYPE_INT16, ANE_DTYPE_FLOAT16,
      "equal,select,clip,cast,maximum,minimum,cast,identity", -65504, 65504 },
    /* the largest fp32 below 2^31, then 2^31 and above -> int32's maximum */
    { ANE_DTYPE_FLOAT32, ANE_DTYPE_INT32, ANE_DTYPE_FLOAT32,
      "equal,select,clip,cast,greater_equal,select,identity", -2147483648.0, 2147483520.0 },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", cases[k].from, s234, 3, &error);
      g_autoptr(AneTensor) y = ane_graph_cast (g, x, cases[k].to, &error);
      g_autoptr(AneTensor) y32 = cases[k].to == ANE_DTYPE_INT32 ? g_object_ref (y)
                                                                 : ane_graph_cast (g, y, ANE_DTYPE_INT32, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *clip;

      ane_graph_add_output (g, "y", y32, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS17, cases[k].compute);
      if (cases[k].to != ANE_DTYPE_INT32)
        {
          /* the widening cast back to int32 needs no clamp */
          g_autofree char *seq = g_strdup (cases[k].seq);
          g_autofree char *want = NULL;

          seq[strlen (seq) - strlen (",identity")] = '\0';
          want = g_strconcat (seq, ",cast,identity", NULL);
          ane_test_assert_seq (p, want);
        }
      else
        ane_test_assert_seq (p, cases[k].seq);
      clip = ane_test_find_op (p, "clip", 0);
      assert_float_const (p, ane_test_op_arg (clip, "alpha"), cases[k].lo);
      assert_float_const (p, ane_test_op_arg (clip, "beta"), cases[k].hi);
    }

  {
    /* int -> narrower int: maximum, minimum, cast */
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT32, s234, 3, &error);
    g_autoptr(AneTensor) n = ane_graph_cast (g, x, ANE_DTYPE_UINT8, &error);
    g_autoptr(AneTensor) y = ane_graph_cast (g, n, ANE_DTYPE_INT32, &error);
    g_autoptr(AneMilProgram) p = NULL;
    double *v = NULL;

    ane_graph_add_output (g, "y", y, &error);
    g_assert_no_error (error);
    p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
    ane_test_assert_seq (p, "maximum,minimum,cast,cast,identity");
    g_assert_cmpuint (ane_test_const_values (p, ane_test_op_arg (ane_test_find_op (p, "maximum", 0), "y"), &v), ==, 1);
    g_assert_cmpfloat (v[0], ==, 0);
    g_free (v);
    g_assert_cmpuint (ane_test_const_values (p, ane_test_op_arg (ane_test_find_op (p, "minimum", 0), "y"), &v), ==, 1);
    g_assert_cmpfloat (v[0], ==, 255);
    g_free (v);
  }
}

static void
test_cast_int8_gating (void)
{
  /* MIL cast knows int8, uint8 and int16 only from iOS17 on */
  static const AneDType narrow[] = { ANE_DTYPE_INT8, ANE_DTYPE_UINT8, ANE_DTYPE_INT16 };

  for (guint k = 0; k < G_N_ELEMENTS (narrow); k++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s234, 3, &error);
      g_autoptr(AneTensor) n = ane_graph_cast (g, x, narrow[k], &error);
      g_autoptr(AneTensor) y = ane_graph_cast (g, n, ANE_DTYPE_INT32, &error);
      g_autoptr(AneMilProgram) p = NULL;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      ane_test_assert_lower_fails (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT32, "iOS17", ane_dtype_to_string (narrow[k]), NULL);
      p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
      ane_test_assert_seq (p, "equal,select,clip,cast,cast,identity");
      g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (ane_test_find_op (p, "cast", 0), "dtype")), ==,
                       ane_mil_dtype_name (narrow[k]));
    }
}

static void
test_stop_gradient (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s234, 3, &error);
  g_autoptr(AneTensor) y = ane_graph_stop_gradient (g, x, &error);
  g_autoptr(AneMilProgram) p = NULL;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "identity,identity");
  g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "identity", 0), "x"), ==, "x");
}

/* --- slice_update ------------------------------------------------------------ */

static const gint64 s1418[] = { 1, 4, 1, 8 }, s1411[] = { 1, 4, 1, 1 }, s4v[] = { 4 };

/* A run-time begin: clamped in the program, end = begin + update's shape. */
static void
test_slice_update_runtime_begin (void)
{
  static const gint64 limit[] = { 0, 0, 0, 7 }, size[] = { 1, 4, 1, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s1418, 4);
  g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT32, s1411, 4);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_INT32, s4v, 1);
  g_autoptr(AneTensor) y = ane_graph_slice_update (g, x, u, b, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op, *lo, *hi, *add;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "maximum,minimum,add,slice_update,identity");
  op = ane_test_find_op (p, "slice_update", 0);
  lo = ane_test_find_op (p, "maximum", 0);
  hi = ane_test_find_op (p, "minimum", 0);
  add = ane_test_find_op (p, "add", 0);
  g_assert_cmpstr (ane_test_op_arg (lo, "x"), ==, "b");
  ane_test_assert_const_int (p, ane_test_op_arg (lo, "y"), 0);
  ane_test_assert_const_ints (p, ane_test_op_arg (hi, "y"), limit, 4);
  ane_test_assert_const_ints (p, ane_test_op_arg (add, "y"), size, 4);
  g_assert_true (ane_test_producer (p, ane_test_op_arg (op, "begin")) == hi);
  g_assert_true (ane_test_producer (p, ane_test_op_arg (op, "end")) == add);
  g_assert_cmpstr (ane_test_op_arg (op, "x"), ==, "x");
  g_assert_cmpstr (ane_test_op_arg (op, "update"), ==, "u");
  g_assert_null (ane_test_op_arg (op, "stride"));
  g_assert_null (ane_test_op_arg (op, "begin_mask"));
  g_assert_null (ane_test_op_arg (op, "squeeze_mask"));
  ane_test_assert_output (op, 0, ANE_DTYPE_FLOAT32, s1418, 4);
}

/* A host-given end (the IR's optional fourth input): begin and end reach
 * slice_update as the function's inputs, with no integer op in the program
 * (what keeps the KV-cache write on the Neural Engine: lint int-compute);
 * before iOS18 the blend still works from begin alone. */
static void
test_slice_update_host_end (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s1418, 4);
  g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT32, s1411, 4);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_INT32, s4v, 1);
  g_autoptr(AneTensor) e = ane_test_input (g, "e", ANE_DTYPE_INT32, s4v, 1);
  AneTensor *args[4] = { x, u, b, e };
  g_autoptr(GPtrArray) y = ane_graph_apply (g, "slice_update", args, 4, NULL, &error);
  g_autoptr(AneMilProgram) p = NULL;
  g_autoptr(AneMilProgram) p17 = NULL;
  AneMilOperation *op;

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", g_ptr_array_index (y, 0), &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "slice_update,identity");
  op = ane_test_find_op (p, "slice_update", 0);
  g_assert_cmpstr (ane_test_op_arg (op, "begin"), ==, "b");
  g_assert_cmpstr (ane_test_op_arg (op, "end"), ==, "e");
  p17 = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
  g_assert_null (ane_test_find_op (p17, "slice_update", 0));
  g_assert_nonnull (ane_test_find_op (p17, "select", 0));

  /* an update as large as x stays a slice_update (the box is checked at
   * run time; a state's read keeps its use) */
  {
    g_autoptr(AneGraph) g2 = ane_graph_new ();
    g_autoptr(AneTensor) st = ane_graph_state (g2, "cache", ANE_DTYPE_FLOAT16, s1418, 4, &error);
    g_autoptr(AneTensor) old = ane_graph_read_state (g2, st, &error);
    g_autoptr(AneTensor) u2 = ane_test_input (g2, "u", ANE_DTYPE_FLOAT16, s1418, 4);
    g_autoptr(AneTensor) b2 = ane_test_input (g2, "b", ANE_DTYPE_INT32, s4v, 1);
    g_autoptr(AneTensor) e2 = ane_test_input (g2, "e", ANE_DTYPE_INT32, s4v, 1);
    AneTensor *args2[4] = { old, u2, b2, e2 };
    g_autoptr(GPtrArray) y2 = ane_graph_apply (g2, "slice_update", args2, 4, NULL, &error);
    g_autoptr(AneTensor) w2 = NULL;
    g_autoptr(AneMilProgram) pw = NULL;
    AneMilOperation *su;

    g_assert_no_error (error);
    w2 = ane_graph_write_state (g2, st, g_ptr_array_index (y2, 0), &error);
    ane_graph_add_output (g2, "y", w2, &error);
    g_assert_no_error (error);
    pw = ane_test_lower (g2, ANE_MIL_IOS18, ANE_DTYPE_FLOAT16);
    su = ane_test_find_op (pw, "slice_update", 0);
    g_assert_nonnull (su);
    g_assert_true (ane_test_producer (pw, ane_test_op_arg (su, "x")) == ane_test_find_op (pw, "read_state", 0));
  }
}

/* A const begin is clamped when lowering: no ops around slice_update. */
static void
test_slice_update_const_begin (void)
{
  static const double bv[] = { 0, 0, 0, 12 };
  static const gint64 begin[] = { 0, 0, 0, 7 }, end[] = { 1, 4, 1, 8 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s1418, 4);
  g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT32, s1411, 4);
  g_autoptr(AneTensor) cb = ane_test_tensor_values ("b", ANE_DTYPE_INT32, s4v, 1, bv);
  g_autoptr(AneTensor) b = ane_test_const (g, cb);
  g_autoptr(AneTensor) y = ane_graph_slice_update (g, x, u, b, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT16);
  ane_test_assert_seq (p, "cast,cast,slice_update,cast");
  op = ane_test_find_op (p, "slice_update", 0);
  ane_test_assert_const_ints (p, ane_test_op_arg (op, "begin"), begin, 4);
  ane_test_assert_const_ints (p, ane_test_op_arg (op, "end"), end, 4);
  ane_test_assert_output (op, 0, ANE_DTYPE_FLOAT16, s1418, 4);
}

/* Before iOS18: a gather per axis the update is shorter on, a mask from
 * begin, one select; never slice_update, which those targets lack. */
static void
test_slice_update_blend (void)
{
  static const gint64 xs[] = { 2, 5 }, us[] = { 1, 3 }, bs[] = { 2 }, r5[] = { 0, 1, 2, 3, 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
  g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT32, us, 2);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_INT32, bs, 1);
  g_autoptr(AneTensor) y = ane_graph_slice_update (g, x, u, b, &error);

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  for (AneMilTarget t = ANE_MIL_IOS15; t <= ANE_MIL_IOS17; t++)
    {
      g_autoptr(AneMilProgram) p = ane_test_lower (g, t, ANE_DTYPE_FLOAT32);
      AneMilOperation *sel, *g1;

      ane_test_assert_seq (p, "maximum,minimum,"
                              "slice_by_index,sub,maximum,minimum,equal,gather,reshape,"
                              "slice_by_index,sub,maximum,minimum,equal,gather,reshape,logical_and,"
                              "select,identity");
      sel = ane_test_find_op (p, "select", 0);
      g1 = ane_test_find_op (p, "gather", 1);
      g_assert_true (ane_test_producer (p, ane_test_op_arg (sel, "a")) == g1);
      g_assert_cmpstr (ane_test_op_arg (sel, "b"), ==, "x");
      ane_test_assert_const_ints (p, ane_test_op_arg (ane_test_find_op (p, "sub", 1), "x"), r5, 5);
      ane_test_assert_const_int (p, ane_test_op_arg (g1, "axis"), 1);
      ane_test_assert_output (sel, 0, ANE_DTYPE_FLOAT32, xs, 2);
    }
}

/* The box is all of x: the result is the update; an empty update: x. */
static void
test_slice_update_trivial (void)
{
  static const gint64 xs[] = { 2, 3 }, bs[] = { 2 };

  for (int empty = 0; empty <= 1; empty++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
      g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT32, xs, 2);
      g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_INT32, bs, 1);
      /* graph inputs have no zero dimension: an empty update is a slice */
      g_autoptr(AneTensor) e = ane_graph_narrow (g, u, 0, 0, 0, &error);
      g_autoptr(AneTensor) y = ane_graph_slice_update (g, x, empty ? e : u, b, &error);
      g_autoptr(AneMilProgram) p = NULL;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
      /* (the narrow's slice_by_index stays: the lowering keeps every node) */
      ane_test_assert_seq (p, empty ? "slice_by_index,identity,identity" : "identity,identity");
      g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "identity", 0), "x"), ==, empty ? "x" : "u");
    }
}

/* The KV cache: read_state, slice_update at a run-time position, write_state. */
static void
test_slice_update_state (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) st = ane_graph_state (g, "cache", ANE_DTYPE_FLOAT16, s1418, 4, &error);
  g_autoptr(AneTensor) u = ane_test_input (g, "u", ANE_DTYPE_FLOAT16, s1411, 4);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_INT32, s4v, 1);
  g_autoptr(AneTensor) old = ane_graph_read_state (g, st, &error);
  g_autoptr(AneTensor) y = ane_graph_slice_update (g, old, u, b, &error);
  g_autoptr(AneTensor) w = ane_graph_write_state (g, st, y, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op, *ws;

  ane_graph_add_output (g, "y", w, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT16);
  op = ane_test_find_op (p, "slice_update", 0);
  ws = ane_test_find_op (p, "write_state", 0);
  g_assert_nonnull (op);
  g_assert_nonnull (ws);
  g_assert_true (ane_test_producer (p, ane_test_op_arg (op, "x")) == ane_test_find_op (p, "read_state", 0));
  g_assert_true (ane_test_producer (p, ane_test_op_arg (ws, "data")) == op);
  g_assert_cmpuint (ane_test_count_ops (p, "select"), ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/lower/shape/reshape", test_reshape);
  g_test_add_func ("/ane/lower/shape/reshape/scalar", test_reshape_scalar);
  g_test_add_func ("/ane/lower/shape/reshape/same-shape", test_reshape_same_shape);
  g_test_add_func ("/ane/lower/shape/reshape/zero-size", test_reshape_zero_size);
  g_test_add_func ("/ane/lower/shape/transpose", test_transpose);
  g_test_add_func ("/ane/lower/shape/transpose/identity", test_transpose_identity);
  g_test_add_func ("/ane/lower/shape/concat", test_concat);
  g_test_add_func ("/ane/lower/shape/cast/saturates", test_cast_saturates);
  g_test_add_func ("/ane/lower/shape/concat/single", test_concat_single);
  g_test_add_func ("/ane/lower/shape/concat/bool", test_concat_bool);
  g_test_add_func ("/ane/lower/shape/concat/int8", test_concat_int8);
  g_test_add_func ("/ane/lower/shape/narrow", test_narrow);
  g_test_add_func ("/ane/lower/shape/narrow/whole-axis", test_narrow_whole_axis);
  g_test_add_func ("/ane/lower/shape/gather/native", test_gather_native);
  g_test_add_func ("/ane/lower/shape/gather/wrap", test_gather_wrap);
  g_test_add_func ("/ane/lower/shape/gather/const-indices", test_gather_const_indices);
  g_test_add_func ("/ane/lower/shape/gather/bool", test_gather_bool);
  g_test_add_func ("/ane/lower/shape/gather/int8-indices", test_gather_int8_indices);
  g_test_add_func ("/ane/lower/shape/expand", test_expand);
  g_test_add_func ("/ane/lower/shape/expand/same-rank", test_expand_same_rank);
  g_test_add_func ("/ane/lower/shape/expand/rank-only", test_expand_rank_only);
  g_test_add_func ("/ane/lower/shape/expand/bool-int8", test_expand_bool_and_int8);
  g_test_add_func ("/ane/lower/shape/expand/to-zero", test_expand_to_zero);
  g_test_add_func ("/ane/lower/shape/cast", test_cast);
  g_test_add_func ("/ane/lower/shape/cast/int8-gating", test_cast_int8_gating);
  g_test_add_func ("/ane/lower/shape/stop-gradient", test_stop_gradient);
  g_test_add_func ("/ane/lower/shape/slice_update/runtime-begin", test_slice_update_runtime_begin);
  g_test_add_func ("/ane/lower/shape/slice_update/host-end", test_slice_update_host_end);
  g_test_add_func ("/ane/lower/shape/slice_update/const-begin", test_slice_update_const_begin);
  g_test_add_func ("/ane/lower/shape/slice_update/blend", test_slice_update_blend);
  g_test_add_func ("/ane/lower/shape/slice_update/trivial", test_slice_update_trivial);
  g_test_add_func ("/ane/lower/shape/slice_update/state", test_slice_update_state);
  return g_test_run ();
}
