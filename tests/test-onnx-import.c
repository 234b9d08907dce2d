/* test-onnx-import.c: the ONNX importer on small models written here --
 * hostile files (truncated, wrong field types, huge dims, external data out
 * of bounds or outside the model's directory), the one error listing
 * every unsupported op, symbolic dims, control flow (If folded on a bound
 * input, nested, reading outer values; a dynamic If refused) and the
 * folding of shape arithmetic
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-glib.h"
#include "ane-file-private.h"
#include "ane-test-onnx.h"

#define FLOAT ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define INT64 ONNX__TENSOR_PROTO__DATA_TYPE__INT64
#define BOOL  ONNX__TENSOR_PROTO__DATA_TYPE__BOOL

typedef struct {
  char *dir;
} Fixture;

static void
fixture_setup (Fixture      *f,
               gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("ane-onnx-import-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer data)
{
  ane_file_remove_tree (f->dir);
  g_free (f->dir);
}

/* Imports path, expecting failure with code and every fragment (NULL-
 * terminated) in the message. */
static void
expect_import_error (const char           *path,
                     AneOnnxImportOptions *options,
                     AneError              code,
                     ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_load_onnx (path, options, &error);
  va_list args;
  const char *frag;

  g_assert_null (g);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error (error, ANE_ERROR, (int) code);
  va_start (args, code);
  while ((frag = va_arg (args, const char *)) != NULL)
    if (strstr (error->message, frag) == NULL)
      g_error ("'%s' not in the error '%s'", frag, error->message);
  va_end (args);
}

/* y = x + w, x f32[4] input, w an initializer. */
static AneTestOnnx *
add_model (Onnx__TensorProto **w_out)
{
  AneTestOnnx *b = ane_test_onnx_new (13);
  Onnx__GraphProto *g = ane_test_onnx_graph (b);
  gint64 dims[] = { 4 };
  float w[] = { 1, 2, 3, 4 };
  Onnx__TensorProto *t = ane_test_onnx_floats (b, "w", dims, 1, w);

  ane_test_onnx_input (b, g, "x", FLOAT, dims, 1, NULL);
  ane_test_onnx_initializer (b, g, t);
  ane_test_onnx_node (b, g, "Add", "add0", "x,w", "y");
  ane_test_onnx_output (b, g, "y", FLOAT);
  if (w_out != NULL)
    *w_out = t;
  return b;
}

/* Runs a one-input graph on the reference backend; the first output. */
static AneTensor *
run1 (AneGraph   *g,
      const char *name,
      AneTensor  *x)
{
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_REFERENCE);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) in = ane_tensor_rename (x, name);
  g_autoptr(GPtrArray) outs = NULL;

  g_assert_true (ane_executable_compile (exe, NULL, &error));
  outs = ane_executable_run (exe, &in, 1, NULL, &error);
  g_assert_no_error (error);
  return g_object_ref (outs->pdata[0]);
}

static void
assert_floats (AneTensor   *t,
               const float *want,
               gsize        n)
{
  g_autofree float *got = NULL;
  gsize m = 0;
  g_autoptr(GError) error = NULL;

  got = ane_tensor_dup_floats (t, &m, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (m, ==, n);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (got[i], want[i], 1e-6);
}

/* ---- hostile files ---- */

static void
test_truncated (Fixture      *f,
                gconstpointer data)
{
  g_autofree char *src = g_test_build_filename (G_TEST_DIST, "data", "onnx", "models", "ppocr_mobile_v2_cls.onnx",
                                                NULL);
  g_autofree char *contents = NULL;
  g_autofree char *path = g_build_filename (f->dir, "truncated.onnx", NULL);
  gsize len;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents (src, &contents, &len, &error));
  g_assert_true (g_file_set_contents (path, contents, len / 2, &error));
  expect_import_error (path, NULL, ANE_ERROR_PARSE, "truncated or corrupt", NULL);
}

static void
test_garbage (Fixture      *f,
              gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "garbage.onnx", NULL);
  g_autofree char *empty = g_build_filename (f->dir, "empty.onnx", NULL);
  static const guint8 bytes[] = { 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00 };

  g_assert_true (g_file_set_contents (path, (const char *) bytes, sizeof bytes, NULL));
  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  expect_import_error (path, NULL, ANE_ERROR_PARSE, "not a valid protobuf message", NULL);
  expect_import_error (empty, NULL, ANE_ERROR_PARSE, "not an ONNX model", NULL);
  expect_import_error ("/nonexistent/model.onnx", NULL, ANE_ERROR_IO, "/nonexistent/model.onnx", NULL);
}

/* An attribute of the wrong type: Concat's axis given as a float. */
static void
test_bad_attribute (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr(AneTestOnnx) b = ane_test_onnx_new (13);
  Onnx__GraphProto *g = ane_test_onnx_graph (b);
  gint64 dims[] = { 2 };
  Onnx__NodeProto *n;
  Onnx__AttributeProto *a;
  g_autofree char *path = NULL;

  ane_test_onnx_input (b, g, "x", FLOAT, dims, 1, NULL);
  n = ane_test_onnx_node (b, g, "Concat", "cat", "x,x", "y");
  ane_test_onnx_attr_int (b, n, "axis", 0);
  a = n->attribute[0];
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  a->has_f = TRUE;
  ane_test_onnx_output (b, g, "y", FLOAT);
  path = ane_test_onnx_write (b, f->dir, "m.onnx");
  expect_import_error (path, NULL, ANE_ERROR_PARSE, "ONNX node 'cat' (Concat)", "attribute 'axis' is FLOAT, expected INT",
                       NULL);
}

static void
test_huge_dims (Fixture      *f,
                gconstpointer data)
{
  Onnx__TensorProto *w;
  g_autoptr(AneTestOnnx) b = add_model (&w);
  g_autofree char *path = NULL;
  int64_t huge[2] = { G_GINT64_CONSTANT (1) << 40, G_GINT64_CONSTANT (1) << 40 };
  int64_t *saved = w->dims;

  /* 2^40 x 2^40 elements claimed, 16 bytes stored: refused before any allocation */
  w->dims = huge;
  w->n_dims = 2;
  path = ane_test_onnx_write (b, f->dir, "m.onnx");
  w->dims = saved;
  w->n_dims = 1;
  expect_import_error (path, NULL, ANE_ERROR_SHAPE, "ONNX tensor 'w'", "out of range", NULL);
}

static void
test_typed_count (Fixture      *f,
                  gconstpointer data)
{
  Onnx__TensorProto *w;
  g_autoptr(AneTestOnnx) b = add_model (&w);
  float two[] = { 1, 2 };
  g_autofree char *path = NULL, *path2 = NULL;

  /* raw_data of 16 bytes for [4] is right; 8 bytes is not */
  w->raw_data.len = 8;
  path = ane_test_onnx_write (b, f->dir, "raw.onnx");
  expect_import_error (path, NULL, ANE_ERROR_SHAPE, "ONNX tensor 'w'", "raw_data has 8 bytes, its dims need 16", NULL);
  /* typed float_data with 2 values for 4 */
  w->has_raw_data = FALSE;
  w->float_data = two;
  w->n_float_data = 2;
  path2 = ane_test_onnx_write (b, f->dir, "typed.onnx");
  w->float_data = NULL;
  w->n_float_data = 0;
  expect_import_error (path2, NULL, ANE_ERROR_SHAPE, "2 float values stored, its dims need 4", NULL);
}

static void
set_external (Onnx__TensorProto *w,
              Onnx__StringStringEntryProto **entries,
              Onnx__StringStringEntryProto *storage,
              const char *location,
              const char *offset,
              const char *length)
{
  const char *keys[] = { "location", "offset", "length" };
  const char *values[] = { location, offset, length };

  for (guint i = 0; i < 3; i++)
    {
      onnx__string_string_entry_proto__init (&storage[i]);
      storage[i].key = (char *) keys[i];
      storage[i].value = (char *) values[i];
      entries[i] = &storage[i];
    }
  w->has_raw_data = FALSE;
  w->has_data_location = TRUE;
  w->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  w->external_data = entries;
  w->n_external_data = 3;
}

static void
test_external_data (Fixture      *f,
                    gconstpointer data)
{
  Onnx__TensorProto *w;
  g_autoptr(AneTestOnnx) b = add_model (&w);
  Onnx__StringStringEntryProto *entries[3], storage[3];
  float weights[] = { 0, 0, 10, 20, 30, 40 };   /* the tensor at offset 8 */
  g_autofree char *bin = g_build_filename (f->dir, "w.bin", NULL);
  g_autofree char *ok = NULL, *oob = NULL, *escape = NULL, *absolute = NULL;
  g_autoptr(AneGraph) g = NULL;
  g_autoptr(AneTensor) x = NULL, y = NULL;
  g_autoptr(GError) error = NULL;
  gint64 four = 4;
  float ones[] = { 1, 1, 1, 1 }, want[] = { 11, 21, 31, 41 };

  g_assert_true (g_file_set_contents (bin, (const char *) weights, sizeof weights, NULL));
  set_external (w, entries, storage, "w.bin", "8", "16");
  ok = ane_test_onnx_write (b, f->dir, "ok.onnx");
  set_external (w, entries, storage, "w.bin", "16", "16");   /* 16 + 16 > 24 bytes */
  oob = ane_test_onnx_write (b, f->dir, "oob.onnx");
  set_external (w, entries, storage, "../w.bin", "0", "16");
  escape = ane_test_onnx_write (b, f->dir, "escape.onnx");
  set_external (w, entries, storage, "/etc/passwd", "0", "16");
  absolute = ane_test_onnx_write (b, f->dir, "absolute.onnx");
  w->external_data = NULL;
  w->n_external_data = 0;

  g = ane_graph_load_onnx (ok, NULL, &error);
  g_assert_no_error (error);
  x = ane_tensor_new_from_floats ("x", &four, 1, ones, 4, &error);
  y = run1 (g, "x", x);
  assert_floats (y, want, 4);

  expect_import_error (oob, NULL, ANE_ERROR_PARSE, "ONNX tensor 'w'", "outside 'w.bin' (24 bytes)", NULL);
  expect_import_error (escape, NULL, ANE_ERROR_INVALID_ARGUMENT, "'../w.bin' is not a relative path inside", NULL);
  expect_import_error (absolute, NULL, ANE_ERROR_INVALID_ARGUMENT, "'/etc/passwd'", NULL);
}

/* Ifs nested 40 deep: 120 levels of messages, refused before protobuf-c's
 * recursive decoder sees them. */
static void
test_deep_nesting (Fixture      *f,
                   gconstpointer data)
{
  g_autoptr(AneTestOnnx) b = ane_test_onnx_new (13);
  Onnx__GraphProto *g = ane_test_onnx_graph (b);
  gint64 two = 2;
  g_autofree char *path = NULL;

  ane_test_onnx_input (b, g, "c", BOOL, NULL, 0, NULL);
  ane_test_onnx_input (b, g, "x", FLOAT, &two, 1, NULL);
  for (guint level = 0; level < 40; level++)
    {
      Onnx__GraphProto *branch = ane_test_onnx_subgraph (b, "branch");
      Onnx__GraphProto *leaf = ane_test_onnx_subgraph (b, "leaf");
      Onnx__NodeProto *n = ane_test_onnx_node (b, g, "If", "if", "c", "y");

      /* distinct branches: a shared one would be written twice per level */
      ane_test_onnx_node (b, leaf, "Identity", "id", "x", "y");
      ane_test_onnx_output (b, leaf, "y", FLOAT);
      ane_test_onnx_attr_graph (b, n, "then_branch", branch);
      ane_test_onnx_attr_graph (b, n, "else_branch", leaf);
      ane_test_onnx_output (b, g, "y", FLOAT);
      g = branch;
    }
  ane_test_onnx_node (b, g, "Identity", "id", "x", "y");
  ane_test_onnx_output (b, g, "y", FLOAT);
  path = ane_test_onnx_write (b, f->dir, "m.onnx");
  expect_import_error (path, NULL, ANE_ERROR_PARSE, "nest", NULL);
}

/* ConstantOfShape asked for 2^62 elements: refused, not allocated. */
static void
test_huge_constant (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr(AneTestOnnx) b = ane_test_onnx_new (13);
  Onnx__GraphProto *g = ane_test_onnx_graph (b);
  gint64 two = 2, shape[] = { G_GINT64_CONSTANT (1) << 31, G_GINT64_CONSTANT (1) << 31 };
  g_autofree char *path = NULL;

  ane_test_onnx_initializer (b, g, ane_test_onnx_int64s (b, "shape", &two, 1, shape));
  ane_test_onnx_node (b, g, "ConstantOfShape", "cos", "shape", "y");
  ane_test_onnx_output (b, g, "y", FLOAT);
  path = ane_test_onnx_write (b, f->dir, "m.onnx");
  expect_import_error (path, NULL, ANE_ERROR_TOO_LARGE, "ONNX node 'cos' (ConstantOfShape)", NULL);
}

/* ---- what is refused, before anything is built ---- */

static void
test_unsupported_list (Fixture      *f,
                       gconstpointer data)
{
  g_autoptr(AneTestOnnx) b = ane_test_onnx_new (13);
  Onnx__GraphProto *g = ane_test_onnx_graph (b);
  Onnx__GraphProto *then_g = ane_test_onnx_subgraph (b, "then"), *else_g = ane_test_onnx_subgraph (b, "else");
  gint64 dims[] = { 2 };
  Onnx__NodeProto *n;
  g_autofree char *path = NULL;

  ane_test_onnx_input (b, g, "x", FLOAT, dims, 1, NULL);
  ane_test_onnx_input (b, g, "c", BOOL, NULL, 0, NULL);
  ane_test_onnx_node (b, g, "FooOp", "f1", "x", "a");
  ane_test_onnx_node (b, g, "Relu", "r", "a", "b");
  ane_test_onnx_node (b, g, "BarOp", "b1", "b", "d");
  ane_test_onnx_node (b, g, "FooOp", "f2", "d", "e");
  n = ane_test_onnx_node (b, g, "Foreign", "m1", "e", "h");
  n->domain = (char *) "com.example";
  /* one more inside a branch: subgraphs are scanned too */
  ane_test_onnx_node (b, then_g, "BazOp", "z1", "h", "t");
  ane_test_onnx_output (b, then_g, "t", FLOAT);
  ane_test_onnx_node (b, else_g, "Identity", "i1", "h", "u");
  ane_test_onnx_output (b, else_g, "u", FLOAT);
  n = ane_test_onnx_node (b, g, "If", "if0", "c", "y");
  ane_test_onnx_attr_graph (b, n, "then_branch", then_g);
  ane_test_onnx_attr_graph (b, n, "else_branch", else_g);
  ane_test_onnx_output (b, g, "y", FLOAT);
  path = ane_test_onnx_write (b, f->dir, "m.onnx");
  expect_import_error (path, NULL, ANE_ERROR_UNSUPPORTED, "4 op types with no converter (nothing was written)",
                       "FooOp (2 nodes, first 'f1')", "BarOp (1 node, first 'b1')",
                       "Foreign (domain 'com.example') (1 node, first 'm1')", "BazOp (1 node, first 'z1')", NULL);
}

static void
test_opset_and_functions (Fixture      *f,
                          gconstpointer data)
{
  g_autoptr(AneTestOnnx) old = ane_test_onnx_new (8);
  g_autoptr(AneTestOnnx) b = NULL;
  Onnx__FunctionProto fn, *fns[1] = { &fn };
  Onnx__NodeProto *n;
  g_autofree char *old_path = NULL, *fn_path = NULL;
  gint64 dims[] = { 2 };

  ane_test_onnx_input (old, ane_test_onnx_graph (old), "x", FLOAT, dims, 1, NULL);
  ane_test_onnx_node (old, ane_test_onnx_graph (old), "Relu", "r", "x", "y");
  ane_test_onnx_output (old, ane_test_onnx_graph (old), "y", FLOAT);
  old_path = ane_test_onnx_write (old, f->dir, "old.onnx");
  expect_import_error (old_path, NULL, ANE_ERROR_UNSUPPORTED, "ONNX opset 8 is not supported (opsets 9 to", NULL);

  b = ane_test_onnx_new (13);
  ane_test_onnx_opset (b, "local", 1);
  ane_test_onnx_input (b, ane_test_onnx_graph (b), "x", FLOAT, dims, 1, NULL);
  n = ane_test_onnx_node (b, ane_test_onnx_graph (b), "MyGelu", "call", "x", "y");
  n->domain = (char *) "local";
  ane_test_onnx_output (b, ane_test_onnx_graph (b), "y", FLOAT);
  onnx__function_proto__init (&fn);
  fn.name = (char *) "MyGelu";
  fn.domain = (char *) "local";
  ane_test_onnx_model (b)->functions = fns;
  ane_test_onnx_model (b)->n_functions = 1;
  fn_path = ane_test_onnx_write (b, f->dir, "fn.onnx");
  ane_test_onnx_model (b)->functions = NULL;
  ane_test_onnx_model (b)->n_functions = 0;
  expect_import_error (fn_path, NULL, ANE_ERROR_UNSUPPORTED, "node 'call' calls the model-local function 'MyGelu'",
                       NULL);
}

/* ---- inputs ---- */

static void
test_symbolic_dim (Fixture      *f,
                   gconstpointer data)
{
  g_autoptr(AneTestOnnx) b = ane_test_onnx_new (13);
  Onnx__GraphProto *g = ane_test_onnx_graph (b);
  gint64 dims[] = { -1, 3, -1 }, bound[] = { 2, 3, 5 }, wrong[] = { 2, 4, 5 };
  const char *params[] = { "batch", NULL, "" };
  g_autofree char *path = NULL;
  g_autoptr(AneOnnxImportOptions) options = ane_onnx_import_options_new ();
  g_autoptr(AneOnnxImportOptions) unknown = ane_onnx_import_options_new ();
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) inputs = NULL;
  guint rank;
  const gint64 *shape;

  ane_test_onnx_input (b, g, "x", FLOAT, dims, 3, params);
  ane_test_onnx_node (b, g, "Relu", "r", "x", "y");
  ane_test_onnx_output (b, g, "y", FLOAT);
  path = ane_test_onnx_write (b, f->dir, "m.onnx");
  expect_import_error (path, NULL, ANE_ERROR_SHAPE,
                       "input 'x' dim 0 ('batch') is symbolic; bind it with --input-shape x=?,3,?", NULL);

  ane_onnx_import_options_set_input_shape (options, "x", wrong, 3);
  expect_import_error (path, options, ANE_ERROR_SHAPE, "input 'x': dim 1 is 3 in the model, given as 4", NULL);

  ane_onnx_import_options_set_input_shape (unknown, "X", bound, 3);
  expect_import_error (path, unknown, ANE_ERROR_NOT_FOUND, "the model has no input 'X' (its inputs: 'x')", NULL);

  ane_onnx_import_options_set_input_shape (options, "x", bound, 3);
  graph = ane_graph_load_onnx (path, options, &error);
  g_assert_no_error (error);
  inputs = ane_graph_list_inputs (graph);
  g_assert_cmpuint (inputs->len, ==, 1);
  shape = ane_tensor_get_shape (inputs->pdata[0], &rank);
  g_assert_cmpuint (rank, ==, 3);
  g_assert_cmpint (shape[0], ==, 2);
  g_assert_cmpint (shape[2], ==, 5);
}

/* int64 inputs and outputs are int32 in the graph; a constant output that
 * does not fit is refused. */
static void
test_int64_interface (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr(AneTestOnnx) b = ane_test_onnx_new (13);
  g_autoptr(AneTestOnnx) big = ane_test_onnx_new (13);
  Onnx__GraphProto *g = ane_test_onnx_graph (b);
  gint64 three = 3, one = 1, huge = G_GINT64_CONSTANT (1) << 40;
  g_autofree char *path = NULL, *big_path = NULL;
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) inputs = NULL, outputs = NULL;

  ane_test_onnx_input (b, g, "ids", INT64, &three, 1, NULL);
  ane_test_onnx_node (b, g, "Identity", "id", "ids", "out");
  ane_test_onnx_output (b, g, "out", INT64);
  path = ane_test_onnx_write (b, f->dir, "m.onnx");
  graph = ane_graph_load_onnx (path, NULL, &error);
  g_assert_no_error (error);
  inputs = ane_graph_list_inputs (graph);
  outputs = ane_graph_list_outputs (graph);
  g_assert_cmpint (ane_tensor_get_dtype (inputs->pdata[0]), ==, ANE_DTYPE_INT32);
  g_assert_cmpint (ane_tensor_get_dtype (outputs->pdata[0]), ==, ANE_DTYPE_INT32);

  ane_test_onnx_initializer (big, ane_test_onnx_graph (big), ane_test_onnx_int64s (big, "k", &one, 1, &huge));
  ane_test_onnx_node (big, ane_test_onnx_graph (big), "Identity", "id", "k", "out");
  ane_test_onnx_output (big, ane_test_onnx_graph (big), "out", INT64);
  big_path = ane_test_onnx_write (big, f->dir, "big.onnx");
  expect_import_error (big_path, NULL, ANE_ERROR_OVERFLOW, "1099511627776", NULL);
}

/* ---- control flow ---- */

/* cond = Not(Equal(sr, 2000)); If cond: (If sr > 10000: x + k else x - k)
 * else x * k. The branches read x and k from the enclosing graph. */
static char *
write_if_model (const char *dir)
{
  g_autoptr(AneTestOnnx) b = ane_test_onnx_new (13);
  Onnx__GraphProto *g = ane_test_onnx_graph (b);
  Onnx__GraphProto *then_g = ane_test_onnx_subgraph (b, "then"), *else_g = ane_test_onnx_subgraph (b, "else");
  Onnx__GraphProto *inner_then = ane_test_onnx_subgraph (b, "inner_then");
  Onnx__GraphProto *inner_else = ane_test_onnx_subgraph (b, "inner_else");
  gint64 two = 2, one = 1, rate = 2000, threshold = 10000;
  float k[] = { 10, 20 };
  Onnx__NodeProto *n;

  ane_test_onnx_input (b, g, "x", FLOAT, &two, 1, NULL);
  ane_test_onnx_input (b, g, "sr", INT64, NULL, 0, NULL);
  ane_test_onnx_initializer (b, g, ane_test_onnx_floats (b, "k", &two, 1, k));
  ane_test_onnx_initializer (b, g, ane_test_onnx_int64s (b, "rate", NULL, 0, &rate));
  ane_test_onnx_initializer (b, g, ane_test_onnx_int64s (b, "threshold", &one, 1, &threshold));
  ane_test_onnx_node (b, g, "Equal", "eq", "sr,rate", "is_low");
  ane_test_onnx_node (b, g, "Not", "not", "is_low", "cond");
  ane_test_onnx_node (b, g, "Greater", "gt", "sr,threshold", "cond2");

  ane_test_onnx_node (b, inner_then, "Add", "add", "x,k", "it");
  ane_test_onnx_output (b, inner_then, "it", FLOAT);
  ane_test_onnx_node (b, inner_else, "Sub", "sub", "x,k", "ie");
  ane_test_onnx_output (b, inner_else, "ie", FLOAT);
  n = ane_test_onnx_node (b, then_g, "If", "inner_if", "cond2", "t");
  ane_test_onnx_attr_graph (b, n, "then_branch", inner_then);
  ane_test_onnx_attr_graph (b, n, "else_branch", inner_else);
  ane_test_onnx_output (b, then_g, "t", FLOAT);
  ane_test_onnx_node (b, else_g, "Mul", "mul", "x,k", "e");
  ane_test_onnx_output (b, else_g, "e", FLOAT);
  n = ane_test_onnx_node (b, g, "If", "outer_if", "cond", "y");
  ane_test_onnx_attr_graph (b, n, "then_branch", then_g);
  ane_test_onnx_attr_graph (b, n, "else_branch", else_g);
  ane_test_onnx_output (b, g, "y", FLOAT);
  return ane_test_onnx_write (b, dir, "if.onnx");
}

static void
check_if (const char *path,
          gint64      sr,
          const float *want)
{
  g_autoptr(AneOnnxImportOptions) options = ane_onnx_import_options_new ();
  g_autoptr(GBytes) bytes = g_bytes_new (&sr, sizeof sr);
  g_autoptr(AneTensor) value = NULL, x = NULL, y = NULL;
  g_autoptr(AneGraph) g = NULL;
  g_autoptr(GHashTable) ops = NULL;
  g_autoptr(GPtrArray) inputs = NULL;
  g_autoptr(GError) error = NULL;
  gint64 two = 2;
  float xs[] = { 1, 2 };

  value = ane_tensor_new_from_bytes ("sr", ANE_DTYPE_INT64, NULL, 0, bytes, &error);
  g_assert_no_error (error);
  ane_onnx_import_options_set_input_value (options, "sr", value);
  g = ane_graph_load_onnx (path, options, &error);
  g_assert_no_error (error);
  /* the conditions folded: no comparison, one arithmetic op, sr no input */
  ops = ane_graph_op_histogram (g);
  g_assert_false (g_hash_table_contains (ops, "eq"));
  g_assert_false (g_hash_table_contains (ops, "gt"));
  g_assert_false (g_hash_table_contains (ops, "cast"));
  inputs = ane_graph_list_inputs (g);
  g_assert_cmpuint (inputs->len, ==, 1);
  x = ane_tensor_new_from_floats ("x", &two, 1, xs, 2, &error);
  y = run1 (g, "x", x);
  assert_floats (y, want, 2);
}

static void
test_if_folded (Fixture      *f,
                gconstpointer data)
{
  g_autofree char *path = write_if_model (f->dir);
  const float added[] = { 11, 22 }, subtracted[] = { -9, -18 }, multiplied[] = { 10, 40 };

  check_if (path, 16000, added);
  check_if (path, 8000, subtracted);
  check_if (path, 2000, multiplied);
}

static void
test_if_dynamic (Fixture      *f,
                 gconstpointer data)
{
  g_autofree char *path = write_if_model (f->dir);

  /* sr stays an input: the condition is only known at run time */
  expect_import_error (path, NULL, ANE_ERROR_UNSUPPORTED, "ONNX node 'outer_if' (If)",
                       "its condition 'cond' is only known at run time", NULL);
}

/* ---- folding ---- */

/* Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): [2, 3, 4] →
 * [2, 12] with the shape arithmetic folded away. */
static void
test_shape_chain (Fixture      *f,
                  gconstpointer data)
{
  g_autoptr(AneTestOnnx) b = ane_test_onnx_new (13);
  Onnx__GraphProto *g = ane_test_onnx_graph (b);
  gint64 dims[] = { 2, 3, 4 }, one = 1, zero = 0, minus_one = -1;
  g_autofree char *path = NULL;
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(GHashTable) ops = NULL;
  g_autoptr(GPtrArray) outputs = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = NULL, y = NULL;
  float xs[24];
  guint rank;
  const gint64 *shape;
  Onnx__NodeProto *n;

  ane_test_onnx_input (b, g, "x", FLOAT, dims, 3, NULL);
  ane_test_onnx_initializer (b, g, ane_test_onnx_int64s (b, "zero", NULL, 0, &zero));
  ane_test_onnx_initializer (b, g, ane_test_onnx_int64s (b, "axes", &one, 1, &zero));
  ane_test_onnx_initializer (b, g, ane_test_onnx_int64s (b, "rest", &one, 1, &minus_one));
  ane_test_onnx_node (b, g, "Shape", "shape", "x", "s");
  n = ane_test_onnx_node (b, g, "Gather", "gather", "s,zero", "d0");
  ane_test_onnx_attr_int (b, n, "axis", 0);
  ane_test_onnx_node (b, g, "Unsqueeze", "unsqueeze", "d0,axes", "d0u");
  n = ane_test_onnx_node (b, g, "Concat", "concat", "d0u,rest", "target");
  ane_test_onnx_attr_int (b, n, "axis", 0);
  ane_test_onnx_node (b, g, "Reshape", "reshape", "x,target", "y");
  ane_test_onnx_output (b, g, "y", FLOAT);
  path = ane_test_onnx_write (b, f->dir, "m.onnx");

  graph = ane_graph_load_onnx (path, NULL, &error);
  g_assert_no_error (error);
  ops = ane_graph_op_histogram (graph);
  g_assert_cmpuint (g_hash_table_size (ops), ==, 2);   /* input, reshape */
  g_assert_true (g_hash_table_contains (ops, "reshape"));
  outputs = ane_graph_list_outputs (graph);
  shape = ane_tensor_get_shape (outputs->pdata[0], &rank);
  g_assert_cmpuint (rank, ==, 2);
  g_assert_cmpint (shape[0], ==, 2);
  g_assert_cmpint (shape[1], ==, 12);
  for (guint i = 0; i < 24; i++)
    xs[i] = (float) i;
  x = ane_tensor_new_from_floats ("x", dims, 3, xs, 24, &error);
  y = run1 (graph, "x", x);
  assert_floats (y, xs, 24);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/onnx/import/hostile/truncated", test_truncated);
  ADD ("/onnx/import/hostile/garbage", test_garbage);
  ADD ("/onnx/import/hostile/bad-attribute", test_bad_attribute);
  ADD ("/onnx/import/hostile/huge-dims", test_huge_dims);
  ADD ("/onnx/import/hostile/typed-count", test_typed_count);
  ADD ("/onnx/import/hostile/external-data", test_external_data);
  ADD ("/onnx/import/hostile/huge-constant", test_huge_constant);
  ADD ("/onnx/import/hostile/deep-nesting", test_deep_nesting);
  ADD ("/onnx/import/refused/unsupported-list", test_unsupported_list);
  ADD ("/onnx/import/refused/opset-and-functions", test_opset_and_functions);
  ADD ("/onnx/import/inputs/symbolic-dim", test_symbolic_dim);
  ADD ("/onnx/import/inputs/int64", test_int64_interface);
  ADD ("/onnx/import/if/folded", test_if_folded);
  ADD ("/onnx/import/if/dynamic", test_if_dynamic);
  ADD ("/onnx/import/fold/shape-chain", test_shape_chain);
#undef ADD
  return g_test_run ();
}
