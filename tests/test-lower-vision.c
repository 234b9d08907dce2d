/* test-lower-vision.c: lowering of conv, conv_transpose_2d, pool and resize_nearest_2x to MIL
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-test-util.h"
#include "ane-tensor-private.h"
#include "ane-lower-test-util.h"

/* --- helpers ---------------------------------------------------------------- */

static const AneDType precisions[2] = { ANE_DTYPE_FLOAT32, ANE_DTYPE_FLOAT16 };

/* The op sequence of a one-input, one-output graph without the interface
 * casts fp16 adds (cast in, cast out) or the fp32 identity. */
static void
assert_body (AneMilProgram *p,
             AneDType       precision,
             const char    *body)
{
  g_autofree char *expected = precision == ANE_DTYPE_FLOAT16
                              ? g_strdup_printf ("cast,%s,cast", body)
                              : g_strdup_printf ("%s,identity", body);

  ane_test_assert_seq (p, expected);
}

/* The producer of op's param is of type. */
static AneMilOperation *
arg_producer (AneMilProgram   *p,
              AneMilOperation *op,
              const char      *param,
              const char      *type)
{
  const char *v = ane_test_op_arg (op, param);
  AneMilOperation *src;

  g_assert_nonnull (v);
  src = ane_test_producer (p, v);
  if (type == NULL)
    {
      g_assert_null (src);   /* a function input */
      return NULL;
    }
  g_assert_nonnull (src);
  g_assert_cmpstr (src->type, ==, type);
  return src;
}

/* --- conv ------------------------------------------------------------------ */

static void
test_conv_2d (void)
{
  /* strides, asymmetric pads, dilations, const weight and bias: one MIL conv */
  static const gint64 xs[] = { 1, 2, 5, 5 }, wsh[] = { 4, 2, 3, 3 }, bsh[] = { 4 };
  static const gint64 strides[] = { 2, 1 }, pads[] = { 1, 0, 1, 1 }, dil[] = { 1, 2 };
  static const gint64 ys[] = { 1, 4, 2, 3 };

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
      g_autoptr(AneTensor) w = ane_test_param (g, "w", wsh, 4);
      g_autoptr(AneTensor) b = ane_test_param (g, "b", bsh, 1);
      g_autoptr(AneTensor) y = ane_graph_conv (g, x, w, b, strides, 2, pads, 4, dil, 2, 1, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *conv;

      g_assert_no_error (error);
      ane_test_output (g, "y", y);
      p = ane_test_lower (g, ANE_MIL_IOS15, precisions[i]);
      assert_body (p, precisions[i], "conv");
      conv = ane_test_find_op (p, "conv", 0);
      if (precisions[i] == ANE_DTYPE_FLOAT32)
        g_assert_cmpstr (ane_test_op_arg (conv, "x"), ==, "x");
      else
        arg_producer (p, conv, "x", "cast");
      g_assert_cmpstr (ane_test_op_arg (conv, "weight"), ==, "w");
      g_assert_cmpstr (ane_test_op_arg (conv, "bias"), ==, "b");
      g_assert_cmpint (ane_test_producer (p, "w")->outputs[0]->type->tensortype->datatype, ==,
                       ane_mil_dtype_from_ane (precisions[i]));
      ane_test_assert_const_ints (p, ane_test_op_arg (conv, "strides"), strides, 2);
      ane_test_assert_const_string (p, ane_test_op_arg (conv, "pad_type"), "custom");
      ane_test_assert_const_ints (p, ane_test_op_arg (conv, "pad"), pads, 4);
      ane_test_assert_const_ints (p, ane_test_op_arg (conv, "dilations"), dil, 2);
      ane_test_assert_const_int (p, ane_test_op_arg (conv, "groups"), 1);
      ane_test_assert_output (conv, 0, precisions[i], ys, 4);
    }
}

static void
test_conv_1d_grouped (void)
{
  /* rank-3 x is a MIL conv as it is (1-D); defaults: stride 1, dilation 1 */
  static const gint64 xs[] = { 2, 4, 8 }, wsh[] = { 6, 2, 3 }, pads[] = { 2, 1 }, ys[] = { 2, 6, 9 };
  static const gint64 one[] = { 1 };

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 3);
      g_autoptr(AneTensor) w = ane_test_param (g, "w", wsh, 3);
      g_autoptr(AneTensor) y = ane_graph_conv (g, x, w, NULL, NULL, 0, pads, 2, NULL, 0, 2, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *conv;

      g_assert_no_error (error);
      ane_test_output (g, "y", y);
      p = ane_test_lower (g, ANE_MIL_IOS16, precisions[i]);
      assert_body (p, precisions[i], "conv");
      conv = ane_test_find_op (p, "conv", 0);
      g_assert_null (ane_test_op_arg (conv, "bias"));
      ane_test_assert_const_ints (p, ane_test_op_arg (conv, "strides"), one, 1);
      ane_test_assert_const_ints (p, ane_test_op_arg (conv, "pad"), pads, 2);
      ane_test_assert_const_ints (p, ane_test_op_arg (conv, "dilations"), one, 1);
      ane_test_assert_const_int (p, ane_test_op_arg (conv, "groups"), 2);
      ane_test_assert_output (conv, 0, precisions[i], ys, 3);
    }
}

static void
test_conv_dynamic_bias (void)
{
  /* a bias that is not const: added after the conv before iOS17, inside from iOS17 */
  static const gint64 xs[] = { 1, 2, 4, 4 }, wsh[] = { 3, 2, 1, 1 }, bsh[] = { 3 };
  static const gint64 ys[] = { 1, 3, 4, 4 }, bcol[] = { 3, 1, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
  g_autoptr(AneTensor) w = ane_test_param (g, "w", wsh, 4);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, bsh, 1);
  g_autoptr(AneTensor) y = ane_graph_conv (g, x, w, b, NULL, 0, NULL, 0, NULL, 0, 1, &error);

  g_assert_no_error (error);
  ane_test_output (g, "y", y);
  {
    g_autoptr(AneMilProgram) p = ane_test_lower (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT32);
    AneMilOperation *conv = ane_test_find_op (p, "conv", 0), *rs, *add;
    static const gint64 zeros[] = { 0, 0, 0, 0 };

    ane_test_assert_seq (p, "conv,reshape,add,identity");
    g_assert_null (ane_test_op_arg (conv, "bias"));
    ane_test_assert_const_ints (p, ane_test_op_arg (conv, "pad"), zeros, 4);
    rs = ane_test_find_op (p, "reshape", 0);
    g_assert_cmpstr (ane_test_op_arg (rs, "x"), ==, "b");
    ane_test_assert_const_ints (p, ane_test_op_arg (rs, "shape"), bcol, 3);
    ane_test_assert_output (rs, 0, ANE_DTYPE_FLOAT32, bcol, 3);
    add = ane_test_find_op (p, "add", 0);
    g_assert_cmpstr (ane_test_op_arg (add, "x"), ==, conv->outputs[0]->name);
    g_assert_cmpstr (ane_test_op_arg (add, "y"), ==, rs->outputs[0]->name);
    ane_test_assert_output (add, 0, ANE_DTYPE_FLOAT32, ys, 4);
  }
  {
    g_autoptr(AneMilProgram) p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16);
    AneMilOperation *conv = ane_test_find_op (p, "conv", 0);

    ane_test_assert_seq (p, "cast,cast,conv,cast");
    arg_producer (p, conv, "bias", "cast");
    ane_test_assert_output (conv, 0, ANE_DTYPE_FLOAT16, ys, 4);
  }
}

static void
test_conv_dynamic_weight_dilated (void)
{
  /* MIL refuses a dilated conv with a weight that is not const: the dilation
   * is written into the weight (zeros between the taps) and the conv runs
   * with dilation 1. */
  static const gint64 xs[] = { 1, 2, 9, 9 }, wsh[] = { 4, 2, 3, 2 }, dil[] = { 2, 3 }, ones[] = { 1, 1 };
  static const gint64 split[] = { 8, 3, 1, 2, 1 }, spread[] = { 8, 3, 2, 2, 3 };
  static const gint64 amounts[] = { 0, 1, 0, 0, 0, 2 }, flat[] = { 4, 2, 6, 6 };
  static const gint64 begin[] = { 0, 0, 0, 0 }, end[] = { 4, 2, 5, 4 }, ys[] = { 1, 4, 5, 6 };

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
      g_autoptr(AneTensor) w = ane_test_input (g, "w", ANE_DTYPE_FLOAT32, wsh, 4);
      g_autoptr(AneTensor) y = ane_graph_conv (g, x, w, NULL, NULL, 0, NULL, 0, dil, 2, 1, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *conv, *rs0, *pad, *rs1, *sl;

      g_assert_no_error (error);
      ane_test_output (g, "y", y);
      p = ane_test_lower (g, ANE_MIL_IOS17, precisions[i]);
      ane_test_assert_seq (p, precisions[i] == ANE_DTYPE_FLOAT16
                              ? "cast,cast,reshape,pad,reshape,slice_by_index,conv,cast"
                              : "reshape,pad,reshape,slice_by_index,conv,identity");
      rs0 = ane_test_find_op (p, "reshape", 0);
      pad = ane_test_find_op (p, "pad", 0);
      rs1 = ane_test_find_op (p, "reshape", 1);
      sl = ane_test_find_op (p, "slice_by_index", 0);
      conv = ane_test_find_op (p, "conv", 0);
      ane_test_assert_const_ints (p, ane_test_op_arg (rs0, "shape"), split, 5);
      ane_test_assert_output (rs0, 0, precisions[i], split, 5);
      g_assert_cmpstr (ane_test_op_arg (pad, "x"), ==, rs0->outputs[0]->name);
      ane_test_assert_const_ints (p, ane_test_op_arg (pad, "pad"), amounts, 6);
      ane_test_assert_output (pad, 0, precisions[i], spread, 5);
      ane_test_assert_const_ints (p, ane_test_op_arg (rs1, "shape"), flat, 4);
      ane_test_assert_const_ints (p, ane_test_op_arg (sl, "begin"), begin, 4);
      ane_test_assert_const_ints (p, ane_test_op_arg (sl, "end"), end, 4);
      ane_test_assert_output (sl, 0, precisions[i], end, 4);
      g_assert_cmpstr (ane_test_op_arg (conv, "weight"), ==, sl->outputs[0]->name);
      ane_test_assert_const_ints (p, ane_test_op_arg (conv, "dilations"), ones, 2);
      ane_test_assert_output (conv, 0, precisions[i], ys, 4);
    }

  /* 1-D, and a dynamic weight without dilation goes straight in */
  {
    static const gint64 xs1[] = { 1, 2, 9 }, ws1[] = { 3, 2, 3 }, dil1[] = { 4 };
    static const gint64 split1[] = { 6, 3, 1 }, spread1[] = { 6, 3, 4 }, amounts1[] = { 0, 3 };
    static const gint64 end1[] = { 3, 2, 9 }, ys1[] = { 1, 3, 1 };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs1, 3);
    g_autoptr(AneTensor) w = ane_test_input (g, "w", ANE_DTYPE_FLOAT32, ws1, 3);
    g_autoptr(AneTensor) y = ane_graph_conv (g, x, w, NULL, NULL, 0, NULL, 0, dil1, 1, 1, &error);
    g_autoptr(AneTensor) y2 = ane_graph_conv (g, x, w, NULL, NULL, 0, NULL, 0, NULL, 0, 1, &error);
    g_autoptr(AneMilProgram) p = NULL;

    g_assert_no_error (error);
    ane_test_output (g, "y", y);
    ane_test_output (g, "y2", y2);
    p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
    ane_test_assert_seq (p, "reshape,pad,reshape,slice_by_index,conv,conv,identity,identity");
    ane_test_assert_const_ints (p, ane_test_op_arg (ane_test_find_op (p, "reshape", 0), "shape"), split1, 3);
    ane_test_assert_const_ints (p, ane_test_op_arg (ane_test_find_op (p, "pad", 0), "pad"), amounts1, 2);
    ane_test_assert_output (ane_test_find_op (p, "pad", 0), 0, ANE_DTYPE_FLOAT32, spread1, 3);
    ane_test_assert_output (ane_test_find_op (p, "slice_by_index", 0), 0, ANE_DTYPE_FLOAT32, end1, 3);
    ane_test_assert_output (ane_test_find_op (p, "conv", 0), 0, ANE_DTYPE_FLOAT32, ys1, 3);
    g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "conv", 1), "weight"), ==, "w");
  }
}

/* --- conv_transpose_2d ------------------------------------------------------ */

typedef struct {
  const char  *path;
  gint64       strides[2], pads[4], dil[2], outpad[2], groups;
  gboolean     bias;
  const char  *body;            /* fp32 op sequence, without the identity */
  gint64       ct_pad[4];       /* the symmetric crop inside conv_transpose */
  gint64       ct_shape[4];
  gint64       begin[4], end[4];   /* the slice, if any */
  gint64       ext[4];          /* the pad amounts, if any */
  gint64       out[4];
} CtCase;

/* x [1, 4, 3, 3]; weight [4, 2, 3, 3]: O = 2·groups */
static const CtCase ct_cases[] = {
  { "/ane/lower/vision/conv-transpose/symmetric",
    { 2, 2 }, { 1, 1, 1, 1 }, { 1, 1 }, { 0, 0 }, 1, TRUE,
    "conv_transpose", { 1, 1, 1, 1 }, { 1, 2, 5, 5 }, { 0 }, { 0 }, { 0 }, { 1, 2, 5, 5 } },
  { "/ane/lower/vision/conv-transpose/output-padding",
    /* torch's k3 s2 p1 op1: full 7, keep rows [1, 7) */
    { 2, 2 }, { 1, 1, 1, 1 }, { 1, 1 }, { 1, 1 }, 1, TRUE,
    "conv_transpose,slice_by_index", { 0, 0, 0, 0 }, { 1, 2, 7, 7 },
    { 0, 0, 1, 1 }, { 1, 2, 7, 7 }, { 0 }, { 1, 2, 6, 6 } },
  { "/ane/lower/vision/conv-transpose/asymmetric-grouped-dilated",
    /* full h = 2·2 + 2·2 + 1 = 9, w = 2·1 + 2·2 + 1 = 7; pads h (2, 1), w (0, 3) */
    { 2, 1 }, { 2, 1, 0, 3 }, { 2, 2 }, { 0, 0 }, 2, FALSE,
    "conv_transpose,slice_by_index", { 1, 1, 0, 0 }, { 1, 4, 7, 7 },
    { 0, 0, 1, 0 }, { 1, 4, 7, 4 }, { 0 }, { 1, 4, 6, 4 } },
  { "/ane/lower/vision/conv-transpose/output-padding-extends",
    /* no pads, output_padding 1: a row and a column no input reaches, bias only */
    { 2, 2 }, { 0, 0, 0, 0 }, { 1, 1 }, { 1, 1 }, 1, TRUE,
    "conv_transpose,pad,reshape,add", { 0, 0, 0, 0 }, { 1, 2, 7, 7 },
    { 0 }, { 0 }, { 0, 1, 0, 1 }, { 1, 2, 8, 8 } },
  { "/ane/lower/vision/conv-transpose/crop-and-extend",
    /* h: pad (1, 0) + output_padding 1 -> crop 1 at the start, extend 1 at the end;
     * w: pad (0, 2), output_padding 1 -> crop 1 at the end */
    { 2, 2 }, { 1, 0, 0, 2 }, { 1, 1 }, { 1, 1 }, 1, FALSE,
    "conv_transpose,slice_by_index,pad", { 0, 0, 0, 0 }, { 1, 2, 7, 7 },
    { 0, 0, 1, 0 }, { 1, 2, 7, 6 }, { 0, 1, 0, 0 }, { 1, 2, 7, 6 } },
};

static void
test_conv_transpose (gconstpointer data)
{
  const CtCase *c = data;
  static const gint64 xs[] = { 1, 4, 3, 3 }, wsh[] = { 4, 2, 3, 3 };
  gint64 bsh[1] = { 2 * c->groups };

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
      g_autoptr(AneTensor) w = ane_test_param (g, "w", wsh, 4);
      g_autoptr(AneTensor) b = c->bias ? ane_test_param (g, "b", bsh, 1) : NULL;
      g_autoptr(AneTensor) y = ane_graph_conv_transpose_2d (g, x, w, b, c->strides, 2, c->pads, 4, c->dil, 2,
                                                            c->outpad, 2, c->groups, &error);
      g_autoptr(AneMilProgram) p = NULL;
      gboolean has_slice = strstr (c->body, "slice_by_index") != NULL;
      gboolean has_pad = strstr (c->body, "pad") != NULL;
      AneMilOperation *ct, *last;
      AneMilBlock *block;

      g_assert_no_error (error);
      ane_test_assert_shape (y, c->out, 4);
      ane_test_output (g, "y", y);
      p = ane_test_lower (g, ANE_MIL_IOS15, precisions[i]);
      assert_body (p, precisions[i], c->body);
      ct = ane_test_find_op (p, "conv_transpose", 0);
      g_assert_cmpstr (ane_test_op_arg (ct, "weight"), ==, "w");
      if (c->bias && !has_pad)
        g_assert_cmpstr (ane_test_op_arg (ct, "bias"), ==, "b");
      else
        g_assert_null (ane_test_op_arg (ct, "bias"));
      ane_test_assert_const_string (p, ane_test_op_arg (ct, "pad_type"), "custom");
      ane_test_assert_const_ints (p, ane_test_op_arg (ct, "pad"), c->ct_pad, 4);
      ane_test_assert_const_ints (p, ane_test_op_arg (ct, "output_shape"), c->ct_shape, 4);
      ane_test_assert_const_ints (p, ane_test_op_arg (ct, "strides"), c->strides, 2);
      ane_test_assert_const_ints (p, ane_test_op_arg (ct, "dilations"), c->dil, 2);
      ane_test_assert_const_int (p, ane_test_op_arg (ct, "groups"), c->groups);
      ane_test_assert_output (ct, 0, precisions[i], c->ct_shape, 4);
      if (has_slice)
        {
          AneMilOperation *sl = ane_test_find_op (p, "slice_by_index", 0);
          gint64 shape[4];

          for (guint j = 0; j < 4; j++)
            shape[j] = c->end[j] - c->begin[j];
          g_assert_cmpstr (ane_test_op_arg (sl, "x"), ==, ct->outputs[0]->name);
          ane_test_assert_const_ints (p, ane_test_op_arg (sl, "begin"), c->begin, 4);
          ane_test_assert_const_ints (p, ane_test_op_arg (sl, "end"), c->end, 4);
          ane_test_assert_output (sl, 0, precisions[i], shape, 4);
        }
      if (has_pad)
        {
          AneMilOperation *pd = ane_test_find_op (p, "pad", 0);

          ane_test_assert_const_ints (p, ane_test_op_arg (pd, "pad"), c->ext, 4);
          g_assert_null (ane_test_op_arg (pd, "mode"));   /* constant 0 */
          ane_test_assert_output (pd, 0, precisions[i], c->out, 4);
          {
            /* constant_val written in the program's dtype (issue 10: left
             * out, coremltools fills in an fp32 0.0 an fp16 x refuses) */
            AneMilOperation *cv = ane_test_producer (p, ane_test_op_arg (pd, "constant_val"));
            g_autofree double *zero = NULL;

            g_assert_nonnull (cv);
            ane_test_assert_output (cv, 0, precisions[i], NULL, 0);
            g_assert_cmpuint (ane_test_const_values (p, ane_test_op_arg (pd, "constant_val"), &zero), ==, 1);
            g_assert_cmpfloat (zero[0], ==, 0.0);
          }
        }
      if (c->bias && has_pad)
        {
          static const gint64 bcol[] = { 2, 1, 1 };
          AneMilOperation *add = ane_test_find_op (p, "add", 0);

          ane_test_assert_const_ints (p, ane_test_op_arg (ane_test_find_op (p, "reshape", 0), "shape"), bcol, 3);
          g_assert_cmpstr (ane_test_op_arg (add, "x"), ==, ane_test_find_op (p, "pad", 0)->outputs[0]->name);
        }
      /* the node's last op (before the output's cast or identity) has the IR's shape */
      block = ane_test_main_block (p);
      last = NULL;
      for (gsize j = 0, seen = 0; j < block->n_operations; j++)
        if (!g_str_equal (block->operations[block->n_operations - 1 - j]->type, "const") && seen++ == 1)
          {
            last = block->operations[block->n_operations - 1 - j];
            break;
          }
      g_assert_nonnull (last);
      ane_test_assert_output (last, 0, precisions[i], c->out, 4);
    }
}

static void
test_conv_transpose_dynamic (void)
{
  static const gint64 xs[] = { 1, 4, 3, 3 }, wsh[] = { 4, 2, 3, 3 }, bsh[] = { 2 }, ys[] = { 1, 2, 5, 5 };

  /* a weight that is not const needs iOS17 */
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
    g_autoptr(AneTensor) w = ane_test_input (g, "w", ANE_DTYPE_FLOAT32, wsh, 4);
    g_autoptr(AneTensor) y = ane_graph_conv_transpose_2d (g, x, w, NULL, NULL, 0, NULL, 0, NULL, 0,
                                                          NULL, 0, 1, &error);
    g_autoptr(AneMilProgram) p = NULL;

    g_assert_no_error (error);
    ane_test_output (g, "y", y);
    ane_test_assert_lower_fails (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT16, "conv_transpose_2d", "iOS17", NULL);
    p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
    ane_test_assert_seq (p, "conv_transpose,identity");
    g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "conv_transpose", 0), "weight"), ==, "w");
  }
  /* a bias that is not const: after, at every target (iOS17's class takes
   * one, but its type inference reads the bias's value) */
  {
    static const gint64 pads[] = { 1, 1, 1, 1 }, s[] = { 2, 2 };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
    g_autoptr(AneTensor) w = ane_test_param (g, "w", wsh, 4);
    g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, bsh, 1);
    g_autoptr(AneTensor) y = ane_graph_conv_transpose_2d (g, x, w, b, s, 2, pads, 4, NULL, 0,
                                                          NULL, 0, 1, &error);

    g_assert_no_error (error);
    ane_test_output (g, "y", y);
    {
      g_autoptr(AneMilProgram) p = ane_test_lower (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT16);

      ane_test_assert_seq (p, "cast,cast,conv_transpose,reshape,add,cast");
      g_assert_null (ane_test_op_arg (ane_test_find_op (p, "conv_transpose", 0), "bias"));
      ane_test_assert_output (ane_test_find_op (p, "add", 0), 0, ANE_DTYPE_FLOAT16, ys, 4);
    }
    {
      g_autoptr(AneMilProgram) p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16);

      ane_test_assert_seq (p, "cast,cast,conv_transpose,reshape,add,cast");
      g_assert_null (ane_test_op_arg (ane_test_find_op (p, "conv_transpose", 0), "bias"));
    }
  }
}

/* --- pool -------------------------------------------------------------------- */

static void
test_pool (void)
{
  static const gint64 xs[] = { 1, 3, 7, 6 }, kernel[] = { 3, 2 }, pads[] = { 1, 2, 0, 1 };
  static const gint64 zeros[] = { 0, 0, 0, 0 }, strides[] = { 2, 1 };

  for (guint i = 0; i < 2; i++)
    for (guint kind = 0; kind < 3; kind++)
      {
        /* 0: max, default strides (the kernel); 1: avg excluding the padding;
         * 2: avg counting it */
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
        g_autoptr(AneTensor) y = NULL;
        g_autoptr(AneMilProgram) p = NULL;
        AneMilOperation *op;
        AneSpec spec;

        if (kind == 0)
          y = ane_graph_pool (g, x, ANE_POOL_MAX, kernel, 2, NULL, 0, pads, 4, FALSE, &error);
        else
          y = ane_graph_pool (g, x, ANE_POOL_AVG, kernel, 2, strides, 2, kind == 1 ? NULL : pads,
                              kind == 1 ? 0 : 4, kind == 2, &error);
        g_assert_no_error (error);
        ane_test_output (g, "y", y);
        p = ane_test_lower (g, ANE_MIL_IOS15, precisions[i]);
        assert_body (p, precisions[i], kind == 0 ? "max_pool" : "avg_pool");
        op = ane_test_find_op (p, kind == 0 ? "max_pool" : "avg_pool", 0);
        ane_test_assert_const_ints (p, ane_test_op_arg (op, "kernel_sizes"), kernel, 2);
        ane_test_assert_const_ints (p, ane_test_op_arg (op, "strides"), kind == 0 ? kernel : strides, 2);
        ane_test_assert_const_string (p, ane_test_op_arg (op, "pad_type"), "custom");
        ane_test_assert_const_ints (p, ane_test_op_arg (op, "pad"), kind == 1 ? zeros : pads, 4);
        ane_test_assert_const_bool (p, ane_test_op_arg (op, "ceil_mode"), FALSE);
        if (kind == 0)
          g_assert_null (ane_test_op_arg (op, "exclude_padding_from_average"));
        else
          ane_test_assert_const_bool (p, ane_test_op_arg (op, "exclude_padding_from_average"), kind == 1);
        ane_tensor_get_spec (y, &spec);
        ane_test_assert_output (op, 0, precisions[i], spec.shape, 4);
      }
}

/* --- resize_nearest_2x ------------------------------------------------------ */

static void
test_resize_float (void)
{
  static const gint64 xs[] = { 1, 2, 3, 5 }, ys[] = { 1, 2, 6, 10 };

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4);
      g_autoptr(AneTensor) y = ane_graph_resize_nearest_2x (g, x, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *up;

      g_assert_no_error (error);
      ane_test_output (g, "y", y);
      p = ane_test_lower (g, ANE_MIL_IOS15, precisions[i]);
      assert_body (p, precisions[i], "upsample_nearest_neighbor");
      up = ane_test_find_op (p, "upsample_nearest_neighbor", 0);
      /* int32 factors: the U domain is fp32|int32 at every target */
      ane_test_assert_const_int (p, ane_test_op_arg (up, "scale_factor_height"), 2);
      ane_test_assert_const_int (p, ane_test_op_arg (up, "scale_factor_width"), 2);
      ane_test_assert_output (up, 0, precisions[i], ys, 4);
    }
}

static void
test_resize_int (void)
{
  static const gint64 xs[] = { 2, 3, 4, 5 }, ys[] = { 2, 3, 8, 10 };
  static const gint64 split[] = { 6, 4, 1, 5, 1 }, reps[] = { 1, 1, 2, 1, 2 }, tiled[] = { 6, 4, 2, 5, 2 };

  /* int32: reshape, tile, reshape (MIL's upsample is float-only); any target */
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_INT32, xs, 4);
    g_autoptr(AneTensor) y = ane_graph_resize_nearest_2x (g, x, &error);
    g_autoptr(AneMilProgram) p = NULL;
    AneMilOperation *rs0, *tile, *rs1;

    g_assert_no_error (error);
    ane_test_output (g, "y", y);
    p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT16);
    ane_test_assert_seq (p, "reshape,tile,reshape,identity");
    rs0 = ane_test_find_op (p, "reshape", 0);
    tile = ane_test_find_op (p, "tile", 0);
    rs1 = ane_test_find_op (p, "reshape", 1);
    g_assert_cmpstr (ane_test_op_arg (rs0, "x"), ==, "x");
    ane_test_assert_const_ints (p, ane_test_op_arg (rs0, "shape"), split, 5);
    ane_test_assert_const_ints (p, ane_test_op_arg (tile, "reps"), reps, 5);
    ane_test_assert_output (tile, 0, ANE_DTYPE_INT32, tiled, 5);
    ane_test_assert_const_ints (p, ane_test_op_arg (rs1, "shape"), ys, 4);
    ane_test_assert_output (rs1, 0, ANE_DTYPE_INT32, ys, 4);
  }
  /* int8 (iOS17): through int32 and back */
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_INT32, xs, 4);
    g_autoptr(AneTensor) x8 = ane_graph_cast (g, x, ANE_DTYPE_INT8, &error);
    g_autoptr(AneTensor) y8 = ane_graph_resize_nearest_2x (g, x8, &error);
    g_autoptr(AneTensor) y = ane_graph_cast (g, y8, ANE_DTYPE_INT32, &error);
    g_autoptr(AneMilProgram) p = NULL;
    AneMilOperation *back;

    g_assert_no_error (error);
    ane_test_output (g, "y", y);
    p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
    /* the IR's int32 -> int8 cast saturates: clamped first */
    ane_test_assert_seq (p, "maximum,minimum,cast,cast,reshape,tile,reshape,cast,cast,identity");
    ane_test_assert_const_string (p, ane_test_op_arg (ane_test_find_op (p, "cast", 1), "dtype"), "int32");
    back = ane_test_find_op (p, "cast", 2);
    ane_test_assert_const_string (p, ane_test_op_arg (back, "dtype"), "int8");
    ane_test_assert_output (back, 0, ANE_DTYPE_INT8, ys, 4);
  }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/lower/vision/conv/2d", test_conv_2d);
  g_test_add_func ("/ane/lower/vision/conv/1d-grouped", test_conv_1d_grouped);
  g_test_add_func ("/ane/lower/vision/conv/dynamic-bias", test_conv_dynamic_bias);
  g_test_add_func ("/ane/lower/vision/conv/dynamic-weight-dilated", test_conv_dynamic_weight_dilated);
  for (guint i = 0; i < G_N_ELEMENTS (ct_cases); i++)
    g_test_add_data_func (ct_cases[i].path, &ct_cases[i], test_conv_transpose);
  g_test_add_func ("/ane/lower/vision/conv-transpose/dynamic", test_conv_transpose_dynamic);
  g_test_add_func ("/ane/lower/vision/pool/max-avg", test_pool);
  g_test_add_func ("/ane/lower/vision/resize-nearest-2x/float", test_resize_float);
  g_test_add_func ("/ane/lower/vision/resize-nearest-2x/int", test_resize_int);
  return g_test_run ();
}
