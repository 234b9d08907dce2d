/* test-graph.c: the graph builder core -- sources, names, scopes, outputs, validation
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "ane-test-util.h"

static const gint64 s23[] = { 2, 3 };

static void
test_sources (void)
{
  static const float wv[] = { 1, 2, 3, 4, 5, 6 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_autoptr(AneTensor) p = ane_graph_param (g, "p", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_autoptr(AneTensor) wt = ane_test_tensor_f32 ("w", s23, 2, wv);
  g_autoptr(AneTensor) w = ane_graph_param_with_value (g, wt, &error);
  g_autoptr(AneTensor) c = ane_graph_const (g, wt, &error);   /* "w" is taken: gets a fresh name */
  g_autoptr(AneTensor) st = ane_graph_state (g, "cache", ANE_DTYPE_FLOAT16, s23, 2, &error);
  g_autoptr(GPtrArray) inputs = NULL, params = NULL, states = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (p);
  g_assert_nonnull (st);
  g_assert_cmpstr (ane_tensor_get_name (x), ==, "x");
  g_assert_false (ane_tensor_has_data (x));
  g_assert_cmpstr (ane_tensor_get_name (w), ==, "w");
  g_assert_cmpstr (ane_tensor_get_name (c), !=, "w");
  g_assert_cmpuint (ane_graph_get_n_nodes (g), ==, 5);

  inputs = ane_graph_list_inputs (g);
  params = ane_graph_list_params (g);
  states = ane_graph_list_states (g);
  g_assert_cmpuint (inputs->len, ==, 1);
  g_assert_cmpuint (params->len, ==, 2);
  g_assert_cmpuint (states->len, ==, 1);
  g_assert_cmpstr (ane_tensor_get_name (g_ptr_array_index (params, 1)), ==, "w");
  g_assert_cmpint (ane_tensor_get_dtype (g_ptr_array_index (states, 0)), ==, ANE_DTYPE_FLOAT16);
}

static void
test_source_errors (void)
{
  static const gint64 q[] = { 1, 32 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2, &error);
  AneTensor *t;

  g_assert_nonnull (x);
  t = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'x' is already used"));
  g_clear_error (&error);

  t = ane_graph_input (g, "bad\"name", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  t = ane_graph_input (g, "", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  t = ane_graph_input (g, "q", ANE_DTYPE_Q8_0, q, 2, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_clear_error (&error);

  t = ane_graph_state (g, "s", ANE_DTYPE_BOOL, s23, 2, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
  g_clear_error (&error);

  {
    /* a baked value must match the declared spec */
    static const gint64 s32[] = { 3, 2 };
    g_autoptr(AneTensor) v = ane_tensor_new_zeros ("w", ANE_DTYPE_FLOAT32, s32, 2, NULL);
    g_autoptr(AneTensor) p = ane_graph_param (g, "w", ANE_DTYPE_FLOAT32, s23, 2, &error);

    g_assert_no_error (error);
    g_assert_nonnull (p);
    g_assert_false (ane_graph_bind_param (g, "w", v, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
    g_assert_nonnull (strstr (error->message, "float32[2,3]"));
    g_assert_nonnull (strstr (error->message, "float32[3,2]"));
    g_clear_error (&error);
    g_assert_false (ane_graph_bind_param (g, "x", v, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  }
}

static void
test_names_and_scopes (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_autoptr(AneTensor) a = NULL, b = NULL, c = NULL, d = NULL, e = NULL;

  a = ane_graph_relu (g, x, &error);
  b = ane_graph_relu (g, a, &error);
  ane_graph_push_scope (g, "layer0");
  c = ane_graph_relu (g, b, &error);
  ane_graph_push_scope (g, "mlp");
  d = ane_graph_relu (g, c, &error);
  ane_graph_pop_scope (g);
  ane_graph_pop_scope (g);
  e = ane_graph_exp (g, d, &error);
  g_assert_no_error (error);

  g_assert_cmpstr (ane_tensor_get_name (a), ==, "relu");
  g_assert_cmpstr (ane_tensor_get_name (b), ==, "relu_1");
  g_assert_cmpstr (ane_tensor_get_name (c), ==, "layer0/relu");
  g_assert_cmpstr (ane_tensor_get_name (d), ==, "layer0/mlp/relu");
  g_assert_cmpstr (ane_tensor_get_name (e), ==, "exp");

  g_assert_true (ane_graph_set_name (g, e, "final", &error));
  g_assert_no_error (error);
  g_assert_false (ane_graph_set_name (g, d, "final", &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_graph_set_name (g, x, "renamed_input", &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  {
    /* a new relu does not collide with the renamed node */
    g_autoptr(AneTensor) f = ane_graph_relu (g, e, &error);
    g_assert_cmpstr (ane_tensor_get_name (f), ==, "relu_2");
  }
}

static void
test_outputs_and_validate (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_tanh (g, x, &error);
  g_autoptr(GPtrArray) outs = NULL;
  g_autoptr(GHashTable) hist = NULL;
  g_autoptr(AneGraph) other = ane_graph_new ();
  g_autoptr(AneTensor) foreign = ane_graph_input (other, "f", ANE_DTYPE_FLOAT32, s23, 2, NULL);
  g_autoptr(AneTensor) loose = ane_tensor_new ("loose", ANE_DTYPE_FLOAT32, s23, 2, NULL);

  g_assert_false (ane_graph_validate (g, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH);
  g_assert_nonnull (strstr (error->message, "no outputs"));
  g_clear_error (&error);

  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  g_assert_true (ane_graph_add_output (g, "x_again", x, &error));
  g_assert_no_error (error);
  g_assert_false (ane_graph_add_output (g, "y", x, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_graph_add_output (g, "z", foreign, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH);
  g_clear_error (&error);
  g_assert_false (ane_graph_add_output (g, "z", loose, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH);
  g_clear_error (&error);

  g_assert_true (ane_graph_validate (g, &error));
  g_assert_no_error (error);
  outs = ane_graph_list_outputs (g);
  g_assert_cmpuint (outs->len, ==, 2);
  g_assert_cmpstr (ane_tensor_get_name (g_ptr_array_index (outs, 0)), ==, "y");
  ane_test_assert_shape (g_ptr_array_index (outs, 1), s23, 2);

  hist = ane_graph_op_histogram (g);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (hist, "tanh")), ==, 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (hist, "input")), ==, 1);
}

static void
test_apply (void)
{
  static const float av[] = { 1, 2, 3, 4, 5, 6 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s23, 2, &error);
  AneTensor *ins[2] = { x, x };
  g_autoptr(GPtrArray) r = ane_graph_apply (g, "add", ins, 2, NULL, &error);
  g_autoptr(GPtrArray) bad = NULL;
  g_autoptr(GPtrArray) out = NULL;
  g_autoptr(AneTensor) tx = ane_test_tensor_f32 ("x", s23, 2, av);
  static const float expected[] = { 2, 4, 6, 8, 10, 12 };
  g_auto(GStrv) ops = ane_graph_list_ops ();

  g_assert_no_error (error);
  g_assert_cmpuint (r->len, ==, 1);

  bad = ane_graph_apply (g, "frobnicate", ins, 2, NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "frobnicate"));
  g_clear_error (&error);

  bad = ane_graph_apply (g, "add", ins, 1, NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "takes 2 inputs, got 1"));
  g_clear_error (&error);

  bad = ane_graph_apply (g, "input", ins, 0, NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  bad = ane_graph_apply (g, "gelu", ins, 1,
                         ane_attrs_new ("approximation", g_variant_new_string ("cubic"), NULL), &error);
  g_assert_null (bad);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "cubic"));
  g_clear_error (&error);

  ane_graph_add_output (g, "y", g_ptr_array_index (r, 0), &error);
  out = ane_test_run_reference (g, tx, NULL);
  ane_test_assert_close (g_ptr_array_index (out, 0), expected, 6, 0, 0);

  g_assert_true (g_strv_contains ((const char *const *) ops, "gated_delta_net"));
  g_assert_cmpuint (g_strv_length (ops), ==, ANE_N_OPS);
}

static void
test_optional_input_required (void)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  AneTensor *ins[2] = { NULL, NULL };
  g_autoptr(GPtrArray) r = ane_graph_apply (g, "add", ins, 2, NULL, &error);

  g_assert_null (r);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "input 'a' is required"));
}

/* A zero dimension on an input, param or state is refused where it is
 * declared, naming the tensor and the dimension; also from a graph file. */
static void
test_zero_dimension (void)
{
  static const gint64 s064[] = { 0, 64 }, s40[] = { 4, 0 }, s3[] = { 3 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) t = NULL;
  g_autoptr(AneTensor) zeros = NULL;
  g_autofree char *dir = NULL, *path = NULL;
  g_autoptr(AneGraph) loaded = NULL;

  t = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s064, 2, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "input 'x': dimension 0 is 0 in float32[0,64] (every dimension must be at least 1)");
  g_clear_error (&error);

  t = ane_graph_param (g, "w", ANE_DTYPE_FLOAT16, s40, 2, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "param 'w': dimension 1 is 0"));
  g_clear_error (&error);

  t = ane_graph_state (g, "kv", ANE_DTYPE_FLOAT16, s40, 2, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "state 'kv': dimension 1 is 0"));
  g_clear_error (&error);

  zeros = ane_tensor_new_zeros ("b", ANE_DTYPE_FLOAT32, s064, 2, &error);
  g_assert_no_error (error);
  t = ane_graph_param_with_value (g, zeros, &error);
  g_assert_null (t);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "param 'b': dimension 0 is 0"));
  g_clear_error (&error);

  /* none of the refused ones was added; a good one still is */
  g_assert_cmpuint (ane_graph_get_n_nodes (g), ==, 0);
  t = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s3, 1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);

  /* the JSON loader goes through the same builders */
  dir = g_dir_make_tmp ("ane-zero-dim-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "g.json", NULL);
  g_file_set_contents (path,
                       "{\"format\": \"ane-glib-graph\", \"version\": 1, \"nodes\": ["
                       "{\"op\":\"input\",\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[2,0],\"attrs\":{}},"
                       "{\"op\":\"relu\",\"name\":\"r\",\"inputs\":[[\"x\",0]],\"attrs\":{}}],"
                       "\"outputs\": [{\"name\":\"y\",\"node\":\"r\",\"index\":0}]}", -1, &error);
  g_assert_no_error (error);
  loaded = ane_graph_load (path, &error);
  g_assert_null (loaded);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "input 'x': dimension 1 is 0"));
  g_remove (path);
  g_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/graph/sources", test_sources);
  g_test_add_func ("/ane/graph/source-errors", test_source_errors);
  g_test_add_func ("/ane/graph/zero-dimension", test_zero_dimension);
  g_test_add_func ("/ane/graph/names-and-scopes", test_names_and_scopes);
  g_test_add_func ("/ane/graph/outputs-and-validate", test_outputs_and_validate);
  g_test_add_func ("/ane/graph/apply", test_apply);
  g_test_add_func ("/ane/graph/optional-input-required", test_optional_input_required);
  return g_test_run ();
}
