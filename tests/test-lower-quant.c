/* test-lower-quant.c: lowering of quantize and dequantize (int8 / uint8) to MIL
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-test-util.h"
#include "ane-lower-test-util.h"

/* --- helpers ---------------------------------------------------------------- */

static const AneDType precisions[2] = { ANE_DTYPE_FLOAT32, ANE_DTYPE_FLOAT16 };

static AneTensor *
konst (AneGraph     *g,
       const char   *name,
       const gint64 *shape,
       guint         rank,
       const float  *values)
{
  g_autoptr(AneTensor) t = ane_test_tensor_f32 (name, shape, rank, values);
  g_autoptr(GError) error = NULL;
  AneTensor *c = ane_graph_const (g, t, &error);

  g_assert_no_error (error);
  return c;
}

/* A const of an 8-bit dtype from raw bytes. */
static AneTensor *
konst8 (AneGraph     *g,
        const char   *name,
        AneDType      dtype,
        const gint64 *shape,
        guint         rank,
        const void   *bytes,
        gsize         n)
{
  g_autoptr(GBytes) data = g_bytes_new (bytes, n);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) t = ane_tensor_new_from_bytes (name, dtype, shape, rank, data, &error);
  AneTensor *c;

  g_assert_no_error (error);
  c = ane_graph_const (g, t, &error);
  g_assert_no_error (error);
  return c;
}

/* An int8/uint8 result made a valid interface value (int32). */
static void
output_int (AneGraph   *g,
            const char *name,
            AneTensor  *t)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) c = NULL;

  g_assert_nonnull (t);
  c = ane_graph_cast (g, t, ANE_DTYPE_INT32, &error);
  g_assert_no_error (error);
  ane_graph_add_output (g, name, c, &error);
  g_assert_no_error (error);
}

/* A const's values, MIL dtype and rank. */
static void
assert_const (AneMilProgram *p,
              const char    *value,
              AneDType       dtype,
              guint          rank,
              const double  *expected,
              gsize          n)
{
  g_autofree double *vals = NULL;
  AneMilOperation *c;

  g_assert_nonnull (value);
  c = ane_test_producer (p, value);
  g_assert_nonnull (c);
  g_assert_cmpstr (c->type, ==, "const");
  g_assert_cmpint (c->outputs[0]->type->tensortype->datatype, ==, ane_mil_dtype_from_ane (dtype));
  g_assert_cmpint (c->outputs[0]->type->tensortype->rank, ==, rank);
  g_assert_cmpuint (ane_test_const_values (p, value, &vals), ==, n);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (vals[i], ==, ane_dtype_round (dtype, expected[i]));
}

/* --- quantize ------------------------------------------------------------------ */

static void
test_quantize_per_tensor (void)
{
  /* const scale [1] and zero point [1]: MIL quantize with scalar consts (a
   * [1] vector would need an axis of size 1) and no axis */
  static const gint64 xs[] = { 2, 3 }, s1[] = { 1 };
  static const float scale[] = { 0.5f };
  static const gint8 zp[] = { -3 };

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
      g_autoptr(AneTensor) s = konst (g, "s", s1, 1, scale);
      g_autoptr(AneTensor) z = konst8 (g, "z", ANE_DTYPE_INT8, s1, 1, zp, 1);
      g_autoptr(AneTensor) q = ane_graph_quantize (g, x, s, z, 0, ANE_DTYPE_INT8, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *op;
      double v;

      g_assert_no_error (error);
      output_int (g, "q", q);
      p = ane_test_lower (g, ANE_MIL_IOS17, precisions[i]);
      ane_test_assert_seq (p, precisions[i] == ANE_DTYPE_FLOAT16 ? "cast,quantize,cast,identity" : "quantize,cast,identity");
      op = ane_test_find_op (p, "quantize", 0);
      v = 0.5;
      assert_const (p, ane_test_op_arg (op, "scale"), precisions[i], 0, &v, 1);
      v = -3;
      assert_const (p, ane_test_op_arg (op, "zero_point"), ANE_DTYPE_INT8, 0, &v, 1);
      g_assert_null (ane_test_op_arg (op, "axis"));
      g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (op, "output_dtype")), ==, "int8");
      ane_test_assert_output (op, 0, ANE_DTYPE_INT8, xs, 2);
    }

  /* no zero point, a rank-0 scale used as it is, uint8 */
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
    g_autoptr(AneTensor) s = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 0.25, &error);
    g_autoptr(AneTensor) q = ane_graph_quantize (g, x, s, NULL, 0, ANE_DTYPE_UINT8, &error);
    g_autoptr(AneMilProgram) p = NULL;
    AneMilOperation *op;

    g_assert_no_error (error);
    output_int (g, "q", q);
    p = ane_test_lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32);
    ane_test_assert_seq (p, "quantize,cast,identity");
    op = ane_test_find_op (p, "quantize", 0);
    g_assert_null (ane_test_op_arg (op, "zero_point"));
    g_assert_cmpint (ane_test_producer (p, ane_test_op_arg (op, "scale"))->outputs[0]->type->tensortype->rank, ==, 0);
    g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (op, "output_dtype")), ==, "uint8");
    ane_test_assert_output (op, 0, ANE_DTYPE_UINT8, xs, 2);
  }
}

static void
test_quantize_per_channel (void)
{
  /* [C] scale and zero point along axis -1 (normalized to 1) */
  static const gint64 xs[] = { 2, 3 }, c3[] = { 3 };
  static const float scale[] = { 0.5f, 1.0f, 2.0f };
  static const guint8 zp[] = { 0, 128, 255 };

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
      g_autoptr(AneTensor) s = konst (g, "s", c3, 1, scale);
      g_autoptr(AneTensor) z = konst8 (g, "z", ANE_DTYPE_UINT8, c3, 1, zp, 3);
      g_autoptr(AneTensor) q = ane_graph_quantize (g, x, s, z, -1, ANE_DTYPE_UINT8, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *op;
      static const double sv[] = { 0.5, 1.0, 2.0 }, zv[] = { 0, 128, 255 };
      static const gint64 axis[] = { 1 };

      g_assert_no_error (error);
      output_int (g, "q", q);
      p = ane_test_lower (g, ANE_MIL_IOS17, precisions[i]);
      op = ane_test_find_op (p, "quantize", 0);
      g_assert_cmpstr (ane_test_op_arg (op, "scale"), ==, "s");
      g_assert_cmpstr (ane_test_op_arg (op, "zero_point"), ==, "z");
      assert_const (p, "s", precisions[i], 1, sv, 3);
      assert_const (p, "z", ANE_DTYPE_UINT8, 1, zv, 3);
      ane_test_assert_const_ints (p, ane_test_op_arg (op, "axis"), axis, 1);
      g_assert_cmpint (ane_test_producer (p, ane_test_op_arg (op, "axis"))->outputs[0]->type->tensortype->rank, ==, 0);
      g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (op, "output_dtype")), ==, "uint8");
    }
}

static void
test_quantize_composed (void)
{
  /* a scale computed in the graph (an input): composed for any float dtype,
   * per channel along axis 1 of [2, 3, 4], reshaped to [1, 3, 1] */
  static const gint64 xs[] = { 2, 3, 4 }, c3[] = { 3 }, bshape[] = { 1, 3, 1 };
  static const gint8 zp[] = { 1, -2, 3 };

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3);
      g_autoptr(AneTensor) s = ane_test_input (g, "s", ANE_DTYPE_FLOAT32, c3, 1);
      g_autoptr(AneTensor) z = konst8 (g, "z", ANE_DTYPE_INT8, c3, 1, zp, 3);
      g_autoptr(AneTensor) q = ane_graph_quantize (g, x, s, z, 1, ANE_DTYPE_INT8, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *rs_s, *div, *rnd, *rs_z, *cz, *add, *clip, *cq;
      double lo = -128, hi = 127;

      g_assert_no_error (error);
      output_int (g, "q", q);
      p = ane_test_lower (g, ANE_MIL_IOS17, precisions[i]);
      ane_test_assert_seq (p, precisions[i] == ANE_DTYPE_FLOAT16
                              ? "cast,cast,reshape,cast,cast,real_div,round,reshape,cast,add,clip,cast,cast,identity"
                              : "reshape,real_div,round,reshape,cast,add,clip,cast,cast,identity");
      rs_s = ane_test_find_op (p, "reshape", 0);
      div = ane_test_find_op (p, "real_div", 0);
      rnd = ane_test_find_op (p, "round", 0);
      rs_z = ane_test_find_op (p, "reshape", 1);
      add = ane_test_find_op (p, "add", 0);
      clip = ane_test_find_op (p, "clip", 0);
      cz = ane_test_producer (p, ane_test_op_arg (add, "y"));
      cq = ane_test_producer (p, ane_test_op_arg (ane_test_find_op (p, "identity", 0), "x"));
      cq = ane_test_producer (p, ane_test_op_arg (cq, "x"));   /* the IR cast's input */

      ane_test_assert_const_ints (p, ane_test_op_arg (rs_s, "shape"), bshape, 3);
      ane_test_assert_output (rs_s, 0, precisions[i], bshape, 3);
      {
        /* fp16 programs divide in fp32: x and the scale are cast up first */
        const char *y = ane_test_op_arg (div, "y");

        if (precisions[i] == ANE_DTYPE_FLOAT16)
          y = ane_test_op_arg (ane_test_producer (p, y), "x");
        g_assert_cmpstr (y, ==, rs_s->outputs[0]->name);
        ane_test_assert_output (div, 0, ANE_DTYPE_FLOAT32, xs, 3);
      }
      g_assert_cmpstr (ane_test_op_arg (rnd, "x"), ==, div->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (rs_z, "x"), ==, "z");
      ane_test_assert_output (rs_z, 0, ANE_DTYPE_INT8, bshape, 3);
      g_assert_cmpstr (cz->type, ==, "cast");
      g_assert_cmpstr (ane_test_op_arg (cz, "x"), ==, rs_z->outputs[0]->name);
      ane_test_assert_output (cz, 0, ANE_DTYPE_FLOAT32, bshape, 3);
      g_assert_cmpstr (ane_test_op_arg (add, "x"), ==, rnd->outputs[0]->name);
      assert_const (p, ane_test_op_arg (clip, "alpha"), ANE_DTYPE_FLOAT32, 0, &lo, 1);
      assert_const (p, ane_test_op_arg (clip, "beta"), ANE_DTYPE_FLOAT32, 0, &hi, 1);
      g_assert_cmpstr (cq->type, ==, "cast");
      g_assert_cmpstr (ane_test_op_arg (cq, "x"), ==, clip->outputs[0]->name);
      g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (cq, "dtype")), ==, "int8");
      ane_test_assert_output (cq, 0, ANE_DTYPE_INT8, xs, 3);
      ane_test_assert_output (clip, 0, ANE_DTYPE_FLOAT32, xs, 3);
    }
}

static void
test_quantize_composed_per_tensor (void)
{
  /* a per-tensor scale from a dynamic param of shape [1] (value unknown) and
   * a rank-0 x: the [1] scale is reshaped to [] so the result stays rank 0;
   * no zero point: no add */
  static const gint64 s1[] = { 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, NULL, 0);
  g_autoptr(AneTensor) s = ane_test_input (g, "s", ANE_DTYPE_FLOAT32, s1, 1);
  g_autoptr(AneTensor) q = ane_graph_quantize (g, x, s, NULL, 0, ANE_DTYPE_UINT8, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *rs, *div;
  double lo = 0, hi = 255;

  g_assert_no_error (error);
  output_int (g, "q", q);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "squeeze,reshape,real_div,round,clip,cast,cast,identity");
  rs = ane_test_find_op (p, "reshape", 0);
  ane_test_assert_const_ints (p, ane_test_op_arg (rs, "shape"), NULL, 0);
  ane_test_assert_output (rs, 0, ANE_DTYPE_FLOAT32, NULL, 0);
  div = ane_test_find_op (p, "real_div", 0);
  ane_test_assert_output (div, 0, ANE_DTYPE_FLOAT32, NULL, 0);
  assert_const (p, ane_test_op_arg (ane_test_find_op (p, "clip", 0), "alpha"), ANE_DTYPE_FLOAT32, 0, &lo, 1);
  assert_const (p, ane_test_op_arg (ane_test_find_op (p, "clip", 0), "beta"), ANE_DTYPE_FLOAT32, 0, &hi, 1);
}

static void
test_quantize_target (void)
{
  static const gint64 xs[] = { 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 1);
  g_autoptr(AneTensor) s = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 0.1, &error);
  g_autoptr(AneTensor) q = ane_graph_quantize (g, x, s, NULL, 0, ANE_DTYPE_INT8, &error);

  g_assert_no_error (error);
  output_int (g, "q", q);
  ane_test_assert_lower_fails (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT16, "iOS17", ane_mil_target_name (ANE_MIL_IOS16), NULL);
  ane_test_assert_lower_fails (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT16, "iOS17", ane_mil_target_name (ANE_MIL_IOS15), NULL);
}

/* --- dequantize ---------------------------------------------------------------- */

static CoreML__Specification__MILSpec__Value *
op_attr (AneMilOperation *op,
         const char      *key)
{
  for (gsize i = 0; i < op->n_attributes; i++)
    if (g_str_equal (op->attributes[i]->key, key))
      return op->attributes[i]->value;
  return NULL;
}

static void
test_dequantize_const (void)
{
  /* const q, scale and zero point: constexpr_affine_dequantize (iOS16), its
   * parameters as attributes; q stays int8 in the program and never becomes
   * a runtime tensor (per channel along axis 0, and per tensor) */
  static const gint64 qs[] = { 2, 3 }, c2[] = { 2 }, s1[] = { 1 };
  static const gint8 qv[] = { -128, -1, 0, 1, 2, 127 }, zp[] = { 4, -4 };
  static const float scale[] = { 0.25f, 4.0f }, scale1[] = { 0.125f };

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) q = konst8 (g, "q", ANE_DTYPE_INT8, qs, 2, qv, 6);
      g_autoptr(AneTensor) s = konst (g, "s", c2, 1, scale);
      g_autoptr(AneTensor) z = konst8 (g, "z", ANE_DTYPE_INT8, c2, 1, zp, 2);
      g_autoptr(AneTensor) s_1 = konst (g, "s_1", s1, 1, scale1);
      g_autoptr(AneTensor) y = ane_graph_dequantize (g, q, s, z, 0, ANE_DTYPE_FLOAT32, &error);
      g_autoptr(AneTensor) y1 = ane_graph_dequantize (g, q, s_1, NULL, 0, ANE_DTYPE_FLOAT16, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *op;

      g_assert_no_error (error);
      ane_test_output (g, "y", y);
      ane_test_output (g, "y1", y1);
      p = ane_test_lower (g, i ? ANE_MIL_IOS16 : ANE_MIL_IOS17, precisions[i]);
      ane_test_assert_seq (p, precisions[i] == ANE_DTYPE_FLOAT16
                              ? "constexpr_affine_dequantize,constexpr_affine_dequantize,cast,identity"
                              : "constexpr_affine_dequantize,constexpr_affine_dequantize,identity,cast");
      /* no runtime int8 value anywhere */
      g_assert_null (ane_test_producer (p, "q"));
      op = ane_test_find_op (p, "constexpr_affine_dequantize", 0);
      g_assert_cmpuint (op->n_inputs, ==, 0);
      g_assert_cmpint (op_attr (op, "quantized_data")->type->tensortype->datatype, ==,
                       ane_mil_dtype_from_ane (ANE_DTYPE_INT8));
      g_assert_cmpint (op_attr (op, "zero_point")->type->tensortype->datatype, ==,
                       ane_mil_dtype_from_ane (ANE_DTYPE_INT8));
      g_assert_cmpint (op_attr (op, "scale")->type->tensortype->datatype, ==, ane_mil_dtype_from_ane (precisions[i]));
      g_assert_cmpint (op_attr (op, "scale")->type->tensortype->rank, ==, 1);
      g_assert_cmpint (op_attr (op, "axis")->immediatevalue->tensor->ints->values[0], ==, 0);
      ane_test_assert_output (op, 0, precisions[i], qs, 2);
      /* the [1] scale is per tensor: a scalar, with a zero point of 0 */
      op = ane_test_find_op (p, "constexpr_affine_dequantize", 1);
      g_assert_cmpint (op_attr (op, "scale")->type->tensortype->rank, ==, 0);
      g_assert_cmpint (op_attr (op, "zero_point")->type->tensortype->rank, ==, 0);
      ane_test_assert_output (op, 0, precisions[i], qs, 2);
    }
}

static void
test_dequantize_native (void)
{
  /* q computed in the program (a quantize), const scale: MIL dequantize */
  static const gint64 xs[] = { 2, 3 }, s1[] = { 1 };
  static const float qscale[] = { 0.5f }, dscale[] = { 0.25f };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 2);
  g_autoptr(AneTensor) qsc = konst (g, "qs", s1, 1, qscale);
  g_autoptr(AneTensor) dsc = konst (g, "ds", s1, 1, dscale);
  g_autoptr(AneTensor) q = ane_graph_quantize (g, x, qsc, NULL, 0, ANE_DTYPE_INT8, &error);
  g_autoptr(AneTensor) y = ane_graph_dequantize (g, q, dsc, NULL, 0, ANE_DTYPE_FLOAT32, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *op;

  g_assert_no_error (error);
  ane_test_output (g, "y", y);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
  ane_test_assert_seq (p, "quantize,dequantize,identity");
  op = ane_test_find_op (p, "dequantize", 0);
  g_assert_cmpstr (ane_test_op_arg (op, "input"), ==, ane_test_find_op (p, "quantize", 0)->outputs[0]->name);
  g_assert_null (ane_test_op_arg (op, "zero_point"));
  ane_test_assert_output (op, 0, ANE_DTYPE_FLOAT32, xs, 2);
}

static void
test_dequantize_composed (void)
{
  /* q from a quantize, a scale computed in the graph, per channel along axis 2 */
  static const gint64 xs[] = { 1, 2, 3 }, c3[] = { 3 }, bshape[] = { 1, 1, 3 };
  static const guint8 zp[] = { 10, 20, 30 };
  static const float qscale[] = { 0.5f };

  for (guint i = 0; i < 2; i++)
    {
      static const gint64 s1[] = { 1 };
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3);
      g_autoptr(AneTensor) qsc = konst (g, "qs", s1, 1, qscale);
      g_autoptr(AneTensor) s = ane_test_input (g, "s", ANE_DTYPE_FLOAT32, c3, 1);
      g_autoptr(AneTensor) z = konst8 (g, "z", ANE_DTYPE_UINT8, c3, 1, zp, 3);
      g_autoptr(AneTensor) q = ane_graph_quantize (g, x, qsc, NULL, 0, ANE_DTYPE_UINT8, &error);
      g_autoptr(AneTensor) y = ane_graph_dequantize (g, q, s, z, 2, ANE_DTYPE_FLOAT32, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *cq, *rz, *cz, *sub, *rs, *mul;

      g_assert_no_error (error);
      ane_test_output (g, "y", y);
      p = ane_test_lower (g, ANE_MIL_IOS17, precisions[i]);
      ane_test_assert_seq (p, precisions[i] == ANE_DTYPE_FLOAT16
                              ? "cast,cast,quantize,cast,reshape,cast,sub,reshape,mul,cast"
                              : "quantize,cast,reshape,cast,sub,reshape,mul,identity");
      cq = ane_test_find_op (p, "cast", precisions[i] == ANE_DTYPE_FLOAT16 ? 2 : 0);
      g_assert_cmpstr (ane_test_op_arg (cq, "x"), ==, ane_test_find_op (p, "quantize", 0)->outputs[0]->name);
      g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (cq, "dtype")), ==,
                       precisions[i] == ANE_DTYPE_FLOAT16 ? "fp16" : "fp32");
      rz = ane_test_find_op (p, "reshape", 0);
      g_assert_cmpstr (ane_test_op_arg (rz, "x"), ==, "z");
      ane_test_assert_const_ints (p, ane_test_op_arg (rz, "shape"), bshape, 3);
      ane_test_assert_output (rz, 0, ANE_DTYPE_UINT8, bshape, 3);
      cz = ane_test_find_op (p, "cast", precisions[i] == ANE_DTYPE_FLOAT16 ? 3 : 1);
      g_assert_cmpstr (ane_test_op_arg (cz, "x"), ==, rz->outputs[0]->name);
      sub = ane_test_find_op (p, "sub", 0);
      g_assert_cmpstr (ane_test_op_arg (sub, "x"), ==, cq->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (sub, "y"), ==, cz->outputs[0]->name);
      rs = ane_test_find_op (p, "reshape", 1);
      ane_test_assert_const_ints (p, ane_test_op_arg (rs, "shape"), bshape, 3);
      mul = ane_test_find_op (p, "mul", 0);
      g_assert_cmpstr (ane_test_op_arg (mul, "x"), ==, sub->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (mul, "y"), ==, rs->outputs[0]->name);
      ane_test_assert_output (mul, 0, precisions[i], xs, 3);
    }
}

static void
test_dequantize_target (void)
{
  static const gint64 qs[] = { 3 };
  static const gint8 qv[] = { 1, 2, 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) q = konst8 (g, "q", ANE_DTYPE_INT8, qs, 1, qv, 3);
  g_autoptr(AneTensor) s = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 0.1, &error);
  g_autoptr(AneTensor) y = ane_graph_dequantize (g, q, s, NULL, 0, ANE_DTYPE_FLOAT32, &error);

  g_assert_no_error (error);
  ane_test_output (g, "y", y);
  /* constexpr_affine_dequantize is iOS16's; nothing before it holds int8 */
  ane_test_assert_lower_fails (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT16, "iOS17", ane_mil_target_name (ANE_MIL_IOS15), NULL);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/lower/quant/quantize/per-tensor", test_quantize_per_tensor);
  g_test_add_func ("/ane/lower/quant/quantize/per-channel", test_quantize_per_channel);
  g_test_add_func ("/ane/lower/quant/quantize/composed-per-channel", test_quantize_composed);
  g_test_add_func ("/ane/lower/quant/quantize/composed-per-tensor", test_quantize_composed_per_tensor);
  g_test_add_func ("/ane/lower/quant/quantize/target", test_quantize_target);
  g_test_add_func ("/ane/lower/quant/dequantize/const", test_dequantize_const);
  g_test_add_func ("/ane/lower/quant/dequantize/native", test_dequantize_native);
  g_test_add_func ("/ane/lower/quant/dequantize/composed", test_dequantize_composed);
  g_test_add_func ("/ane/lower/quant/dequantize/target", test_dequantize_target);
  return g_test_run ();
}
