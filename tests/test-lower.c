/* test-lower.c: the lowering driver, the MIL builder, and the elementwise and state lowerings
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-lower-test-util.h"

static const gint64 s23[] = { 2, 3 };

static void
test_interface_fp16 (void)
{
  /* fp16 compute: fp32 inputs are cast to fp16 inside, outputs cast back. */
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_relu (g, x, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilFunction *main_fn;
  AneMilOperation *cast_in, *relu, *cast_out;
  AneMilBlock *block;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16);

  g_assert_cmpint (p->version, ==, 1);
  g_assert_cmpuint (p->n_functions, ==, 1);
  main_fn = p->functions[0]->value;
  g_assert_cmpstr (main_fn->opset, ==, "CoreML7");
  g_assert_cmpstr (main_fn->block_specializations[0]->key, ==, "CoreML7");
  g_assert_cmpuint (main_fn->n_inputs, ==, 1);
  g_assert_cmpstr (main_fn->inputs[0]->name, ==, "x");
  g_assert_cmpint (main_fn->inputs[0]->type->tensortype->datatype, ==, ane_mil_dtype_from_ane (ANE_DTYPE_FLOAT32));

  {
    g_autofree char *seq = ane_test_op_sequence (p);
    g_assert_cmpstr (seq, ==, "cast,relu,cast");
  }
  cast_in = ane_test_find_op (p, "cast", 0);
  relu = ane_test_find_op (p, "relu", 0);
  cast_out = ane_test_find_op (p, "cast", 1);
  g_assert_cmpstr (ane_test_op_arg (cast_in, "x"), ==, "x");
  g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (cast_in, "dtype")), ==, "fp16");
  ane_test_assert_output (cast_in, 0, ANE_DTYPE_FLOAT16, s23, 2);
  g_assert_cmpstr (ane_test_op_arg (relu, "x"), ==, cast_in->outputs[0]->name);
  ane_test_assert_output (relu, 0, ANE_DTYPE_FLOAT16, s23, 2);
  g_assert_cmpstr (cast_out->outputs[0]->name, ==, "y");
  g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (cast_out, "dtype")), ==, "fp32");
  ane_test_assert_output (cast_out, 0, ANE_DTYPE_FLOAT32, s23, 2);

  block = ane_test_main_block (p);
  g_assert_cmpuint (block->n_outputs, ==, 1);
  g_assert_cmpstr (block->outputs[0], ==, "y");

  /* every op carries its name as an attribute, as coremltools writes it */
  g_assert_cmpstr (relu->attributes[0]->key, ==, "name");
}

static void
test_interface_fp32 (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_exp (g, x, &error);
  g_autoptr(AneMilProgram) p = NULL;
  g_autofree char *seq = NULL;

  ane_graph_add_output (g, "y", y, &error);
  ane_graph_add_output (g, "x_copy", x, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  seq = ane_test_op_sequence (p);
  g_assert_cmpstr (seq, ==, "exp,identity,identity");
  g_assert_cmpstr (p->functions[0]->value->opset, ==, "CoreML5");
  g_assert_cmpstr (ane_test_find_op (p, "identity", 0)->outputs[0]->name, ==, "y");
  g_assert_cmpstr (ane_test_find_op (p, "identity", 1)->outputs[0]->name, ==, "x_copy");
  g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "identity", 1), "x"), ==, "x");
}

static void
test_names (void)
{
  /* internal names derive from node names; interface names stay exact even
   * when a node would have taken them. */
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_autoptr(AneTensor) a = NULL, b = NULL;
  g_autoptr(AneMilProgram) p = NULL;

  ane_graph_push_scope (g, "layer.0");
  a = ane_graph_relu (g, x, &error);
  ane_graph_pop_scope (g);
  b = ane_graph_relu (g, a, &error);
  g_assert_true (ane_graph_set_name (g, b, "relu_out", &error));
  ane_graph_add_output (g, "relu", b, &error);   /* "relu" is also a node-derived hint */
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT32);
  g_assert_cmpstr (ane_test_find_op (p, "relu", 0)->outputs[0]->name, ==, "layer_0_relu");
  g_assert_cmpstr (ane_test_find_op (p, "relu", 1)->outputs[0]->name, ==, "relu_out");
  g_assert_cmpstr (ane_test_find_op (p, "identity", 0)->outputs[0]->name, ==, "relu");
}

static void
test_interface_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) blobs = NULL;
  guint64 size;

  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = ane_graph_input (g, "in.x", ANE_DTYPE_FLOAT32, s23, 2, NULL);
    g_autoptr(AneTensor) y = ane_graph_relu (g, x, NULL);
    ane_graph_add_output (g, "y", y, NULL);
    g_assert_null (ane_lower_graph (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, &blobs, &size, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "'in.x'"));
    g_clear_error (&error);
  }
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_INT64, s23, 2, NULL);
    g_autoptr(AneTensor) y = ane_graph_abs (g, x, NULL);
    ane_graph_add_output (g, "y", y, NULL);
    g_assert_null (ane_lower_graph (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, &blobs, &size, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "int64"));
    g_clear_error (&error);
  }
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2, NULL);
    ane_graph_add_output (g, "x", x, NULL);
    g_assert_null (ane_lower_graph (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, &blobs, &size, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "output 'x'"));
    g_clear_error (&error);
  }
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_assert_null (ane_lower_graph (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, &blobs, &size, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH);
  }
}

static void
test_consts_and_blobs (void)
{
  /* <10 elements stay immediate; >=10 go to weight.bin at 64-byte aligned
   * records; unbound params are blobs fetched at write time. */
  static const gint64 s3[] = { 3 }, s16[] = { 16 }, s40[] = { 40 };
  static const float small[] = { 1, 2, 3 };
  float big[16];
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s16, 1, &error);
  g_autoptr(AneTensor) ts = ane_test_tensor_f32 ("small", s3, 1, small);
  g_autoptr(AneTensor) tb = NULL;
  g_autoptr(AneTensor) cs = ane_graph_const (g, ts, &error);
  g_autoptr(AneTensor) cb = NULL, w = NULL, p40 = NULL, y = NULL, z = NULL, s = NULL, zz = NULL;
  g_autoptr(GPtrArray) blobs = NULL;
  g_autoptr(AneMilProgram) p = NULL;
  AneMilPendingBlob *b0, *b1;
  guint64 size;
  double *vals = NULL;
  gsize n;

  for (int i = 0; i < 16; i++)
    big[i] = i * 0.5f;
  tb = ane_test_tensor_f32 ("big", s16, 1, big);
  cb = ane_graph_const (g, tb, &error);
  w = ane_graph_param (g, "w", ANE_DTYPE_FLOAT32, s16, 1, &error);
  p40 = ane_graph_param (g, "p40", ANE_DTYPE_FLOAT32, s40, 1, &error);
  y = ane_graph_add (g, x, cb, &error);
  z = ane_graph_mul (g, y, w, &error);
  s = ane_graph_reduce_sum (g, p40, NULL, 0, TRUE, &error);
  zz = ane_graph_add (g, z, s, &error);
  ane_graph_add_output (g, "z", zz, &error);
  ane_graph_add_output (g, "c", cs, &error);
  g_assert_no_error (error);

  p = ane_lower_graph (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, &blobs, &size, &error);
  g_assert_no_error (error);
  ane_test_assert_program_checks (p);

  n = ane_test_const_values (p, "small", &vals);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpfloat (vals[2], ==, 3);
  g_free (vals);
  g_assert_cmpint (ane_test_producer (p, "small")->outputs[0]->type->tensortype->datatype, ==,
                   ane_mil_dtype_from_ane (ANE_DTYPE_FLOAT16));

  g_assert_cmpuint (blobs->len, ==, 3);
  b0 = g_ptr_array_index (blobs, 0);
  b1 = g_ptr_array_index (blobs, 1);
  g_assert_cmpint (b0->source, ==, ANE_MIL_BLOB_FROM_BYTES);
  g_assert_cmpint (b0->dst_dtype, ==, ANE_DTYPE_FLOAT16);
  g_assert_cmpuint (b0->size, ==, 32);
  g_assert_cmpuint (b0->offset, ==, 64);                       /* right after the file header */
  g_assert_cmpint (b1->source, ==, ANE_MIL_BLOB_FROM_PARAM);
  g_assert_cmpstr (b1->param, ==, "w");
  g_assert_cmpuint (b1->offset, ==, 64 + 64 + 64);              /* record + 32 data bytes padded to 64 */
  g_assert_cmpuint (((AneMilPendingBlob *) g_ptr_array_index (blobs, 2))->offset, ==, 320);  /* 192 + 64 + 32 -> 288, aligned */
  g_assert_cmpuint (size, ==, 320 + 64 + 80);                   /* 40 fp16; no padding after the last blob */
  {
    guint64 sizes[3] = { 32, 32, 80 };
    g_assert_cmpuint (size, ==, ane_milblob_planned_size (sizes, 3));
  }
  {
    AneMilOperation *c = ane_test_producer (p, "big");
    CoreML__Specification__MILSpec__Value *v = c->attributes[1]->value;
    g_assert_cmpint (v->value_case, ==, CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE);
    g_assert_cmpstr (v->blobfilevalue->filename, ==, "@model_path/weights/weight.bin");
    g_assert_cmpuint (v->blobfilevalue->offset, ==, 64);
  }
}

static void
test_params_are_consts (void)
{
  /* A param that is not dynamic becomes a const, not a function input. */
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_autoptr(AneTensor) delta = ane_graph_param (g, "delta", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_add (g, x, delta, &error);
  g_autoptr(AneMilProgram) p = NULL;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32);
  g_assert_cmpuint (p->functions[0]->value->n_inputs, ==, 1);
  g_assert_cmpstr (ane_test_producer (p, "delta")->type, ==, "const");
}

typedef struct {
  const char *path;
  AneTensor *(*binary) (AneGraph *, AneTensor *, AneTensor *, GError **);
  AneTensor *(*unary) (AneGraph *, AneTensor *, GError **);
  AneDType    dtype;
  const char *mil_sequence;
} ElementCase;

static const ElementCase element_cases[] = {
  { "/ane/lower/elementwise/add", ane_graph_add, NULL, ANE_DTYPE_FLOAT32, "add,identity" },
  { "/ane/lower/elementwise/sub", ane_graph_sub, NULL, ANE_DTYPE_FLOAT32, "sub,identity" },
  { "/ane/lower/elementwise/mul", ane_graph_mul, NULL, ANE_DTYPE_FLOAT32, "mul,identity" },
  { "/ane/lower/elementwise/div", ane_graph_div, NULL, ANE_DTYPE_FLOAT32, "real_div,identity" },
  { "/ane/lower/elementwise/div-int", ane_graph_div, NULL, ANE_DTYPE_INT32, "floor_div,identity" },
  { "/ane/lower/elementwise/maximum", ane_graph_maximum, NULL, ANE_DTYPE_FLOAT32, "maximum,identity" },
  { "/ane/lower/elementwise/minimum", ane_graph_minimum, NULL, ANE_DTYPE_FLOAT32, "minimum,identity" },
  { "/ane/lower/elementwise/pow", ane_graph_pow, NULL, ANE_DTYPE_FLOAT32, "pow,identity" },
  { "/ane/lower/elementwise/eq", ane_graph_eq, NULL, ANE_DTYPE_FLOAT32, "equal,cast,identity" },
  { "/ane/lower/elementwise/ne", ane_graph_ne, NULL, ANE_DTYPE_FLOAT32, "not_equal,cast,identity" },
  { "/ane/lower/elementwise/lt", ane_graph_lt, NULL, ANE_DTYPE_FLOAT32, "less,cast,identity" },
  { "/ane/lower/elementwise/le", ane_graph_le, NULL, ANE_DTYPE_FLOAT32, "less_equal,cast,identity" },
  { "/ane/lower/elementwise/gt", ane_graph_gt, NULL, ANE_DTYPE_FLOAT32, "greater,cast,identity" },
  { "/ane/lower/elementwise/ge", ane_graph_ge, NULL, ANE_DTYPE_FLOAT32, "greater_equal,cast,identity" },
  { "/ane/lower/elementwise/relu", NULL, ane_graph_relu, ANE_DTYPE_FLOAT32, "relu,identity" },
  { "/ane/lower/elementwise/relu-int", NULL, ane_graph_relu, ANE_DTYPE_INT32, "maximum,identity" },
  { "/ane/lower/elementwise/sigmoid", NULL, ane_graph_sigmoid, ANE_DTYPE_FLOAT32, "sigmoid,identity" },
  { "/ane/lower/elementwise/tanh", NULL, ane_graph_tanh, ANE_DTYPE_FLOAT32, "tanh,identity" },
  { "/ane/lower/elementwise/silu", NULL, ane_graph_silu, ANE_DTYPE_FLOAT32, "silu,identity" },
  { "/ane/lower/elementwise/exp", NULL, ane_graph_exp, ANE_DTYPE_FLOAT32, "exp,identity" },
  { "/ane/lower/elementwise/log", NULL, ane_graph_log, ANE_DTYPE_FLOAT32, "log,identity" },
  { "/ane/lower/elementwise/sqrt", NULL, ane_graph_sqrt, ANE_DTYPE_FLOAT32, "sqrt,identity" },
  { "/ane/lower/elementwise/rsqrt", NULL, ane_graph_rsqrt, ANE_DTYPE_FLOAT32, "rsqrt,identity" },
  { "/ane/lower/elementwise/abs", NULL, ane_graph_abs, ANE_DTYPE_FLOAT32, "abs,identity" },
  { "/ane/lower/elementwise/neg", NULL, ane_graph_neg, ANE_DTYPE_FLOAT32, "mul,identity" },
  { "/ane/lower/elementwise/neg-int", NULL, ane_graph_neg, ANE_DTYPE_INT32, "mul,identity" },
  { "/ane/lower/elementwise/sin", NULL, ane_graph_sin, ANE_DTYPE_FLOAT32, "sin,identity" },
  { "/ane/lower/elementwise/cos", NULL, ane_graph_cos, ANE_DTYPE_FLOAT32, "cos,identity" },
  { "/ane/lower/elementwise/tan", NULL, ane_graph_tan, ANE_DTYPE_FLOAT32, "tan,identity" },
  { "/ane/lower/elementwise/atan", NULL, ane_graph_atan, ANE_DTYPE_FLOAT32, "atan,identity" },
  { "/ane/lower/elementwise/round", NULL, ane_graph_round, ANE_DTYPE_FLOAT32, "round,identity" },
  { "/ane/lower/elementwise/erf", NULL, ane_graph_erf, ANE_DTYPE_FLOAT32, "erf,identity" },
};

static void
test_element (gconstpointer data)
{
  const ElementCase *c = data;
  static const gint64 s3[] = { 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", c->dtype, s23, 2, &error);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", c->dtype, s3, 1, &error);
  g_autoptr(AneTensor) y = c->binary ? c->binary (g, a, b, &error) : c->unary (g, a, &error);
  g_autoptr(AneTensor) out = NULL;
  g_autoptr(AneMilProgram) p = NULL;
  g_autofree char *seq = NULL;
  AneMilOperation *op;
  gboolean compare = ane_tensor_get_dtype (y) == ANE_DTYPE_BOOL;

  g_assert_no_error (error);
  /* bool outputs are not a CoreML interface type: cast to int32 in the graph */
  out = compare ? ane_graph_cast (g, y, ANE_DTYPE_INT32, &error) : g_object_ref (y);
  g_assert_no_error (error);
  ane_graph_add_output (g, "y", out, &error);
  if (c->unary)
    ane_graph_add_output (g, "b_out", b, &error);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  seq = ane_test_op_sequence (p);
  if (c->unary)
    {
      /* drop the identity for b_out */
      char *last = strrchr (seq, ',');
      *last = '\0';
    }
  g_assert_cmpstr (seq, ==, c->mil_sequence);
  op = NULL;
  {
    AneMilBlock *block = ane_test_main_block (p);
    for (gsize i = 0; i < block->n_operations; i++)
      if (!g_str_equal (block->operations[i]->type, "const"))
        {
          op = block->operations[i];
          break;
        }
  }
  g_assert_cmpstr (ane_test_op_arg (op, "x"), ==, "a");
  if (c->binary)
    g_assert_cmpstr (ane_test_op_arg (op, "y"), ==, "b");
  ane_test_assert_output (op, 0, compare ? ANE_DTYPE_BOOL : c->dtype, s23, 2);
}

static void
test_gelu_modes (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_autoptr(AneTensor) e = ane_graph_gelu (g, x, ANE_GELU_EXACT, &error);
  g_autoptr(AneTensor) t = ane_graph_gelu (g, e, ANE_GELU_TANH, &error);
  g_autoptr(AneMilProgram) p = NULL;

  ane_graph_add_output (g, "y", t, &error);
  p = ane_test_lower (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT16);
  g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (ane_test_find_op (p, "gelu", 0), "mode")), ==, "EXACT");
  g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (ane_test_find_op (p, "gelu", 1), "mode")), ==,
                   "TANH_APPROXIMATION");
}

static void
test_where (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_autoptr(AneTensor) c = ane_graph_gt (g, a, b, &error);
  g_autoptr(AneTensor) y = ane_graph_where (g, c, a, b, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *sel;

  ane_graph_add_output (g, "y", y, &error);
  p = ane_test_lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16);
  sel = ane_test_find_op (p, "select", 0);
  g_assert_nonnull (sel);
  g_assert_cmpstr (ane_test_producer (p, ane_test_op_arg (sel, "cond"))->type, ==, "greater");
  ane_test_assert_output (sel, 0, ANE_DTYPE_FLOAT16, s23, 2);
}

static void
test_state (void)
{
  static const gint64 s4[] = { 1, 4 };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT16, s4, 2, &error);
  g_autoptr(AneTensor) st = ane_graph_state (g, "s", ANE_DTYPE_FLOAT16, s4, 2, &error);
  g_autoptr(AneTensor) r = ane_graph_read_state (g, st, &error);
  g_autoptr(AneTensor) sum = ane_graph_add (g, r, x, &error);
  g_autoptr(AneTensor) w = ane_graph_write_state (g, st, sum, &error);
  g_autoptr(AneMilProgram) p = NULL;
  g_autoptr(GPtrArray) blobs = NULL;
  AneMilFunction *fn;
  AneMilOperation *ws;
  guint64 size;

  ane_graph_add_output (g, "y", w, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT16);
  fn = p->functions[0]->value;
  g_assert_cmpuint (fn->n_inputs, ==, 2);
  g_assert_cmpstr (fn->inputs[1]->name, ==, "s");
  g_assert_cmpint (fn->inputs[1]->type->type_case, ==, CORE_ML__SPECIFICATION__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE);
  g_assert_cmpint (fn->inputs[1]->type->statetype->wrappedtype->tensortype->datatype, ==,
                   ane_mil_dtype_from_ane (ANE_DTYPE_FLOAT16));
  g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "read_state", 0), "input"), ==, "s");
  ws = ane_test_find_op (p, "write_state", 0);
  g_assert_cmpstr (ane_test_op_arg (ws, "input"), ==, "s");
  g_assert_cmpstr (ane_test_producer (p, ane_test_op_arg (ws, "data"))->type, ==, "add");
  g_assert_cmpuint (ws->n_outputs, ==, 0);

  /* target gating: states need iOS18 */
  g_assert_null (ane_lower_graph (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, &blobs, &size, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "iOS18"));
  g_assert_nonnull (strstr (error->message, "iOS17"));
}

static void
test_state_fp32 (void)
{
  /* issue 10: a float32 state in a float32 program is still fp16 in the
   * program (Core ML keeps states only so): read_state gives fp16, cast up;
   * the value written is cast down first */
  static const gint64 s4[] = { 1, 4 };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s4, 2, &error);
  g_autoptr(AneTensor) st = ane_graph_state (g, "s", ANE_DTYPE_FLOAT32, s4, 2, &error);
  g_autoptr(AneTensor) r = ane_graph_read_state (g, st, &error);
  g_autoptr(AneTensor) sum = ane_graph_add (g, r, x, &error);
  g_autoptr(AneTensor) w = ane_graph_write_state (g, st, sum, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilFunction *fn;
  AneMilOperation *rs, *up, *ws, *down;

  ane_graph_add_output (g, "y", w, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32);
  fn = p->functions[0]->value;
  g_assert_cmpstr (fn->inputs[1]->name, ==, "s");
  g_assert_cmpint (fn->inputs[1]->type->statetype->wrappedtype->tensortype->datatype, ==,
                   ane_mil_dtype_from_ane (ANE_DTYPE_FLOAT16));
  rs = ane_test_find_op (p, "read_state", 0);
  ane_test_assert_output (rs, 0, ANE_DTYPE_FLOAT16, s4, 2);
  up = ane_test_find_op (p, "cast", 0);
  g_assert_cmpstr (ane_test_op_arg (up, "x"), ==, rs->outputs[0]->name);
  ane_test_assert_output (up, 0, ANE_DTYPE_FLOAT32, s4, 2);
  ws = ane_test_find_op (p, "write_state", 0);
  down = ane_test_producer (p, ane_test_op_arg (ws, "data"));
  g_assert_cmpstr (down->type, ==, "cast");
  ane_test_assert_output (down, 0, ANE_DTYPE_FLOAT16, s4, 2);
  g_assert_cmpstr (ane_test_producer (p, ane_test_op_arg (down, "x"))->type, ==, "add");
}

static void
test_state_integer (void)
{
  /* Core ML has no integer states: refused, naming the state */
  static const gint64 s4[] = { 4 };
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) st = ane_graph_state (g, "counts", ANE_DTYPE_INT32, s4, 1, &error);
  g_autoptr(AneTensor) r = ane_graph_read_state (g, st, &error);
  g_autoptr(GPtrArray) blobs = NULL;
  guint64 size;

  ane_graph_add_output (g, "y", r, &error);
  g_assert_no_error (error);
  g_assert_null (ane_lower_graph (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT16, &blobs, &size, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "state 'counts' is int32"));
  g_assert_nonnull (strstr (error->message, "float16"));
}

static void
test_scalar_input (void)
{
  /* coremltools' loader takes no rank-0 function input: declared [1] and
   * squeezed inside */
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, NULL, 0, &error);
  g_autoptr(AneTensor) y = ane_graph_mul (g, x, x, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilFunction *fn;
  AneMilOperation *sq;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
  fn = p->functions[0]->value;
  g_assert_cmpuint (fn->inputs[0]->type->tensortype->rank, ==, 1);
  g_assert_cmpuint (fn->inputs[0]->type->tensortype->dimensions[0]->constant->size, ==, 1);
  sq = ane_test_find_op (p, "squeeze", 0);
  g_assert_cmpstr (ane_test_op_arg (sq, "x"), ==, "x");
  ane_test_assert_output (sq, 0, ANE_DTYPE_FLOAT32, NULL, 0);
  g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "mul", 0), "x"), ==, sq->outputs[0]->name);
}

static void
test_reserved_names (void)
{
  /* MIL keywords, which coremltools renames: no interface may use one */
  static const gint64 s2[] = { 2 };
  static const char *const names[] = { "state", "tensor", "fp16", "func" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s2, 1, &error);
      g_autoptr(AneTensor) y = ane_graph_relu (g, x, &error);
      g_autoptr(GPtrArray) blobs = NULL;
      guint64 size;

      ane_graph_add_output (g, names[i], y, &error);
      g_assert_no_error (error);
      g_assert_null (ane_lower_graph (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, &blobs, &size, &error));
      g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, names[i]));
      g_assert_nonnull (strstr (error->message, "keyword"));
    }
}

static void
test_builder_checks_signatures (void)
{
  /* The builder refuses a call Apple's definition would reject. */
  static const gint64 s2[] = { 2 };
  g_autoptr(AneMilBuilder) b = ane_mil_builder_new (ANE_MIL_IOS16);
  g_autoptr(GError) error = NULL;
  const char *x;

  ane_mil_builder_begin_function (b, "main");
  x = ane_mil_builder_add_input (b, "x", ANE_DTYPE_FLOAT32, s2, 1);
  ane_mil_op (b, "relu", "r", ANE_DTYPE_FLOAT32, s2, 1, "input", x, NULL);   /* relu takes "x" */
  g_assert_false (ane_mil_builder_propagate_error (b, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "relu"));
  g_clear_error (&error);

  ane_mil_op (b, "scaled_dot_product_attention", "a", ANE_DTYPE_FLOAT32, s2, 1,
              "query", x, "key", x, "value", x, NULL);
  g_assert_false (ane_mil_builder_propagate_error (b, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "scaled_dot_product_attention"));
  g_clear_error (&error);

  {
    /* dtype domains: sin takes fp16/fp32, not int32 */
    const char *i = ane_mil_builder_add_input (b, "i", ANE_DTYPE_INT32, s2, 1);
    ane_mil_op (b, "sin", "s", ANE_DTYPE_INT32, s2, 1, "x", i, NULL);
    g_assert_false (ane_mil_builder_propagate_error (b, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_TYPE_MISMATCH);
    g_assert_nonnull (strstr (error->message, "int32"));
    g_clear_error (&error);
  }
  {
    /* the declared output type must be the one coremltools infers: select
     * types its result from a and b only (issue 10's decode mask) */
    static const gint64 s512[] = { 512 };
    const char *c = ane_mil_builder_add_input (b, "c", ANE_DTYPE_BOOL, s512, 1);
    const char *zero = ane_mil_const_float (b, "zero", ANE_DTYPE_FLOAT16, 0.0);
    const char *ninf = ane_mil_const_float (b, "ninf", ANE_DTYPE_FLOAT16, -INFINITY);

    ane_mil_op (b, "select", "where", ANE_DTYPE_FLOAT16, s512, 1, "cond", c, "a", ninf, "b", zero, NULL);
    g_assert_false (ane_mil_builder_propagate_error (b, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_TYPE_MISMATCH);
    g_assert_nonnull (strstr (error->message, "MIL select 'where' at iOS16"));
    g_assert_nonnull (strstr (error->message, "declared tensor<fp16, [512]>"));
    g_assert_nonnull (strstr (error->message, "infers fp16"));
    g_clear_error (&error);
  }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/lower/driver/interface-fp16", test_interface_fp16);
  g_test_add_func ("/ane/lower/driver/interface-fp32", test_interface_fp32);
  g_test_add_func ("/ane/lower/driver/names", test_names);
  g_test_add_func ("/ane/lower/driver/interface-errors", test_interface_errors);
  g_test_add_func ("/ane/lower/driver/consts-and-blobs", test_consts_and_blobs);
  g_test_add_func ("/ane/lower/driver/params-are-consts", test_params_are_consts);
  g_test_add_func ("/ane/lower/driver/builder-checks-signatures", test_builder_checks_signatures);
  for (guint i = 0; i < G_N_ELEMENTS (element_cases); i++)
    g_test_add_data_func (element_cases[i].path, &element_cases[i], test_element);
  g_test_add_func ("/ane/lower/elementwise/gelu-modes", test_gelu_modes);
  g_test_add_func ("/ane/lower/elementwise/where", test_where);
  g_test_add_func ("/ane/lower/state/read-write", test_state);
  g_test_add_func ("/ane/lower/state/fp32", test_state_fp32);
  g_test_add_func ("/ane/lower/state/integer", test_state_integer);
  g_test_add_func ("/ane/lower/interface/scalar-input", test_scalar_input);
  g_test_add_func ("/ane/lower/interface/reserved-names", test_reserved_names);
  return g_test_run ();
}
