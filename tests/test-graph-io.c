/* test-graph-io.c: saving and loading graphs (JSON + safetensors)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "ane-test-util.h"
#include "ane-tensor-private.h"
#include "ane-safetensors-private.h"

/* --- helpers ------------------------------------------------------------- */

static guint
count_files (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* A tensor of GGUF blocks with a sane fp16 scale and pseudo-random quants. */
static AneTensor *
make_blocks (const char   *name,
             AneDType      dtype,
             const gint64 *shape,
             guint         rank,
             guint32       seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  gint64 n = 1;
  gsize n_bytes, block = ane_dtype_block_bytes (dtype);
  guint8 *data;
  AneTensor *t;

  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  n_bytes = (gsize) (n / ane_dtype_block_size (dtype)) * block;
  data = g_malloc (MAX (n_bytes, 1));
  for (gsize i = 0; i < n_bytes; i++)
    data[i] = (guint8) g_rand_int (rand);
  /* Every block type used here starts with a fp16 scale d. */
  for (gsize b = 0; b < n_bytes; b += block)
    {
      guint16 d = ane_float_to_half (0.01f);
      memcpy (data + b, &d, 2);
    }
  bytes = g_bytes_new_take (data, n_bytes);
  t = ane_tensor_new_from_bytes (name, dtype, shape, rank, bytes, &error);
  g_assert_no_error (error);
  return t;
}

static void
assert_tensors_identical (AneTensor *a,
                          AneTensor *b)
{
  AneSpec sa, sb;

  ane_tensor_get_spec (a, &sa);
  ane_tensor_get_spec (b, &sb);
  g_assert_true (ane_spec_equal (&sa, &sb));
  g_assert_cmpint (ane_tensor_has_data (a), ==, ane_tensor_has_data (b));
  if (ane_tensor_has_data (a))
    g_assert_true (g_bytes_equal (ane_tensor_get_data (a), ane_tensor_get_data (b)));
}

/* Same nodes (ops, names, inputs, attrs, specs, values) and outputs. */
static void
assert_graphs_equal (AneGraph *a,
                     AneGraph *b)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ja = NULL, *jb = NULL;

  g_assert_cmpuint (ane_graph_get_n_nodes (a), ==, ane_graph_get_n_nodes (b));
  for (guint i = 0; i < ane_graph_get_n_nodes (a); i++)
    {
      const AneNode *na = ane_graph_get_node (a, i), *nb = ane_graph_get_node (b, i);

      g_assert_cmpint (na->op->kind, ==, nb->op->kind);
      g_assert_cmpstr (na->name, ==, nb->name);
      g_assert_cmpuint (na->n_inputs, ==, nb->n_inputs);
      for (guint j = 0; j < na->n_inputs; j++)
        {
          g_assert_cmpuint (na->inputs[j].node, ==, nb->inputs[j].node);
          g_assert_cmpuint (na->inputs[j].index, ==, nb->inputs[j].index);
        }
      if (!g_variant_equal (na->attrs, nb->attrs))
        {
          g_autofree char *sa = g_variant_print (na->attrs, TRUE);
          g_autofree char *sb = g_variant_print (nb->attrs, TRUE);
          g_error ("node '%s': attrs %s != %s", na->name, sa, sb);
        }
      g_assert_cmpuint (na->n_outputs, ==, nb->n_outputs);
      for (guint j = 0; j < na->n_outputs; j++)
        g_assert_true (ane_spec_equal (&na->outputs[j], &nb->outputs[j]));
      g_assert_true ((na->value == NULL) == (nb->value == NULL));
      if (na->value != NULL)
        assert_tensors_identical (na->value, nb->value);
    }
  g_assert_cmpuint (ane_graph_get_n_outputs (a), ==, ane_graph_get_n_outputs (b));
  for (guint i = 0; i < ane_graph_get_n_outputs (a); i++)
    {
      const AneGraphOutput *oa = ane_graph_get_output (a, i), *ob = ane_graph_get_output (b, i);

      g_assert_cmpstr (oa->name, ==, ob->name);
      g_assert_cmpuint (oa->ref.node, ==, ob->ref.node);
      g_assert_cmpuint (oa->ref.index, ==, ob->ref.index);
    }
  /* And the serialized forms agree to the byte. */
  ja = ane_graph_to_json (a, "w.safetensors", &error);
  g_assert_no_error (error);
  jb = ane_graph_to_json (b, "w.safetensors", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ja, ==, jb);
}

/* Runs on the reference backend; NULL (after ane_test_skip: a failure
 * under ANE_TEST_STRICT) if some kernel is still a placeholder. */
static GPtrArray *
try_run (AneGraph   *graph,
         AneTensor **inputs,
         guint       n_inputs)
{
  g_autoptr(AneExecutable) exe = ane_executable_new (graph, ANE_BACKEND_REFERENCE);
  g_autoptr(GError) error = NULL;
  GPtrArray *out;

  ane_executable_compile (exe, NULL, &error);
  g_assert_no_error (error);
  out = ane_executable_run (exe, inputs, n_inputs, NULL, &error);
  if (out == NULL && g_error_matches (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED))
    {
      ane_test_skip ("not comparing outputs: %s", error->message);
      return NULL;
    }
  g_assert_no_error (error);
  return out;
}

static void
assert_runs_identical (GPtrArray *a,
                       GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      AneTensor *ta = g_ptr_array_index (a, i), *tb = g_ptr_array_index (b, i);

      if (!g_bytes_equal (ane_tensor_get_data (ta), ane_tensor_get_data (tb)))
        g_error ("output %u '%s' differs after the round trip", i, ane_tensor_get_name (ta));
      assert_tensors_identical (ta, tb);
    }
}

static AneGraph *
save_and_load (AneGraph   *graph,
               const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "graph.json", NULL);
  g_autoptr(GError) error = NULL;
  AneGraph *loaded;

  ane_graph_save (graph, path, &error);
  g_assert_no_error (error);
  loaded = ane_graph_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  return loaded;
}

/* --- a graph with every op of the catalog ---------------------------------- */

typedef enum { SRC_INPUT, SRC_PARAM, SRC_DYNAMIC, SRC_CONST, SRC_STATE } SrcKind;

typedef struct {
  const char *name;
  SrcKind     kind;
  AneDType    dtype;
  guint       rank;
  gint64      shape[4];
  float       lo, hi;        /* float data: uniform in [lo, hi) */
  gint32      ints[8];       /* integer data */
} SourceRow;

#define F32 ANE_DTYPE_FLOAT32
#define I32 ANE_DTYPE_INT32

static const SourceRow sources[] = {
  { "x", SRC_INPUT, F32, 2, { 2, 4 } },
  { "v4", SRC_PARAM, F32, 1, { 4 }, -1, 1 },
  { "pos4", SRC_DYNAMIC, F32, 1, { 4 }, 0.5f, 2 },
  { "pos24", SRC_CONST, F32, 2, { 2, 4 }, 0.5f, 2 },
  { "w34", SRC_PARAM, F32, 2, { 3, 4 }, -1, 1 },
  { "w43", SRC_PARAM, F32, 2, { 4, 3 }, -1, 1 },
  { "la", SRC_PARAM, F32, 2, { 4, 2 }, -1, 1 },
  { "lb", SRC_PARAM, F32, 2, { 2, 3 }, -1, 1 },
  { "experts", SRC_PARAM, F32, 3, { 3, 4, 5 }, -1, 1 },
  { "ids2", SRC_CONST, I32, 1, { 2 }, 0, 0, { 2, 0 } },
  { "x32", SRC_PARAM, F32, 2, { 2, 32 }, -1, 1 },
  { "wq8", SRC_PARAM, ANE_DTYPE_Q8_0, 2, { 3, 32 } },
  { "eq4", SRC_PARAM, ANE_DTYPE_Q4_0, 3, { 2, 3, 32 } },
  { "ids2b", SRC_CONST, I32, 1, { 2 }, 0, 0, { 1, 0 } },
  { "g4", SRC_PARAM, F32, 1, { 4 }, 0.5f, 1.5f },
  { "b4", SRC_PARAM, F32, 1, { 4 }, -0.5f, 0.5f },
  { "x4", SRC_PARAM, F32, 4, { 1, 4, 3, 3 }, -1, 1 },
  { "q", SRC_PARAM, F32, 4, { 1, 2, 3, 4 }, -1, 1 },
  { "k", SRC_PARAM, F32, 4, { 1, 1, 3, 4 }, -1, 1 },
  { "vv", SRC_PARAM, F32, 4, { 1, 1, 3, 4 }, -1, 1 },
  { "positions", SRC_CONST, I32, 1, { 3 }, 0, 0, { 0, 1, 2 } },
  { "xr", SRC_PARAM, F32, 4, { 1, 1, 4, 8 }, -1, 1 },
  { "row14", SRC_PARAM, F32, 2, { 1, 4 }, -1, 1 },
  { "idx3", SRC_CONST, I32, 1, { 3 }, 0, 0, { 1, 0, 1 } },
  { "sidx", SRC_CONST, I32, 2, { 1, 4 }, 0, 0, { 1, 0, 1, 0 } },
  { "supd", SRC_PARAM, F32, 2, { 1, 4 }, -1, 1 },
  { "qscale", SRC_CONST, F32, 0, { 0 }, 0.05f, 0.05f },
  { "qzp", SRC_CONST, ANE_DTYPE_INT8, 0, { 0 }, 0, 0, { 3 } },
  { "ge_idx", SRC_CONST, I32, 2, { 2, 3 }, 0, 0, { 3, 0, -1, 1, 2, -4 } },
  { "u", SRC_PARAM, F32, 3, { 1, 2, 3 }, -1, 1 },
  { "delta", SRC_PARAM, F32, 3, { 1, 2, 3 }, 0.1f, 1 },
  { "A", SRC_PARAM, F32, 2, { 2, 2 }, -1, -0.1f },
  { "B", SRC_PARAM, F32, 3, { 1, 2, 3 }, -1, 1 },
  { "C", SRC_PARAM, F32, 3, { 1, 2, 3 }, -1, 1 },
  { "D", SRC_PARAM, F32, 1, { 2 }, -1, 1 },
  { "z", SRC_PARAM, F32, 3, { 1, 2, 3 }, -1, 1 },
  { "dbias", SRC_PARAM, F32, 1, { 2 }, -0.5f, 0.5f },
  { "gq", SRC_PARAM, F32, 4, { 1, 1, 3, 2 }, -1, 1 },
  { "gk", SRC_PARAM, F32, 4, { 1, 1, 3, 2 }, -1, 1 },
  { "gv", SRC_PARAM, F32, 4, { 1, 1, 3, 2 }, -1, 1 },
  { "gg", SRC_PARAM, F32, 3, { 1, 1, 3 }, -1, -0.1f },
  { "gbeta", SRC_PARAM, F32, 3, { 1, 1, 3 }, 0.1f, 0.9f },
  { "cw", SRC_PARAM, F32, 4, { 2, 2, 2, 2 }, -1, 1 },
  { "cb", SRC_PARAM, F32, 1, { 2 }, -1, 1 },
  { "tx", SRC_PARAM, F32, 4, { 1, 2, 2, 2 }, -1, 1 },
  { "tw", SRC_PARAM, F32, 4, { 2, 1, 2, 2 }, -1, 1 },
  { "tb", SRC_PARAM, F32, 1, { 1 }, -1, 1 },
  { "s", SRC_STATE, F32, 2, { 2, 4 } },
  { "su_update", SRC_PARAM, F32, 2, { 1, 2 }, -1, 1 },
  { "su_begin", SRC_CONST, I32, 1, { 2 }, 0, 0, { 1, 5 } },
};

typedef struct {
  const char *op;
  const char *inputs;   /* pool keys; "-" for an absent input, "@op" for an op's result */
  const char *attrs;    /* GVariant text of an a{sv}, NULL for none */
} OpRow;

/* One small valid instance of every non-source op, in the catalog's order
 * (read_state before write_state). Non-default attributes where possible, so
 * their round trip is exercised. */
static const OpRow op_rows[] = {
  { "matmul", "x w34", "{'transpose_b': <true>}" },
  { "lora_matmul", "x w43 la lb", "{'scale': <0.1>}" },
  { "grouped_matmul", "x experts ids2", NULL },
  { "dequant_matmul", "x32 wq8", NULL },
  { "dequant_grouped_matmul", "x32 eq4 ids2b", NULL },
  { "dequant_moe_weights", "eq4", "{'dtype': <'float16'>}" },
  { "add", "x v4", NULL },
  { "sub", "x v4", NULL },
  { "mul", "x v4", NULL },
  { "div", "x v4", NULL },
  { "maximum", "x v4", NULL },
  { "minimum", "x v4", NULL },
  { "pow", "pos24 v4", NULL },
  { "relu", "x", NULL },
  { "sigmoid", "x", NULL },
  { "tanh", "x", NULL },
  { "gelu", "x", "{'approximation': <'tanh'>}" },
  { "silu", "x", NULL },
  { "exp", "x", NULL },
  { "log", "pos24", NULL },
  { "sqrt", "pos24", NULL },
  { "rsqrt", "pos24", NULL },
  { "abs", "x", NULL },
  { "neg", "x", NULL },
  { "sin", "x", NULL },
  { "cos", "x", NULL },
  { "tan", "x", NULL },
  { "atan", "x", NULL },
  { "round", "x", NULL },
  { "eq", "x v4", NULL },
  { "ne", "x v4", NULL },
  { "lt", "x v4", NULL },
  { "le", "x v4", NULL },
  { "gt", "x v4", NULL },
  { "ge", "x v4", NULL },
  { "where", "@gt x v4", NULL },
  { "softmax", "x", "{'axis': <int64 0>}" },
  { "layer_norm", "x g4 b4", "{'axes': <[int64 -1]>, 'eps': <0.001>}" },
  { "rms_norm", "x g4", "{'eps': <1e-6>}" },
  { "group_norm", "x4 g4 b4", "{'groups': <int64 2>}" },
  { "layer_norm_2d", "x4 g4 b4", "{'eps': <1e-5>}" },
  { "batch_norm", "x4 v4 pos4 g4 b4", "{'eps': <0.01>}" },
  { "attention", "q k vv -", "{'causal': <true>, 'scale': <0.3>}" },
  { "rope", "q positions", "{'mode': <'interleaved'>, 'theta': <100.0>, 'n_rot': <int64 2>}" },
  { "axial_rope_2d", "xr", "{'end_x': <int64 2>, 'end_y': <int64 2>, 'theta': <100.0>}" },
  { "reshape", "x", "{'shape': <[int64 4, -1]>}" },
  { "transpose", "x", "{'perm': <[int64 1, 0]>}" },
  { "concat", "x x", "{'axis': <int64 0>}" },
  { "narrow", "x", "{'axis': <int64 1>, 'start': <int64 -3>, 'length': <int64 2>}" },
  { "gather", "x idx3", "{'axis': <int64 0>}" },
  { "expand", "row14", "{'shape': <[int64 3, 4]>}" },
  { "cast", "x", "{'dtype': <'float16'>}" },
  { "stop_gradient", "x", NULL },
  { "slice_update", "x su_update su_begin -", NULL },
  { "reduce_sum", "x", "{'axes': <[int64 1]>, 'keepdims': <true>}" },
  { "reduce_mean", "x", "{'axes': <[int64 0]>}" },
  { "reduce_max", "x", NULL },
  { "reduce_min", "x", "{'axes': <[int64 -1]>}" },
  { "reduce_prod", "x", "{'keepdims': <true>}" },
  { "cumsum", "x", "{'axis': <int64 1>, 'exclusive': <true>, 'reverse': <true>}" },
  { "top_k", "x", "{'k': <int64 2>}" },
  { "scatter_add", "x sidx supd", "{'axis': <int64 0>}" },
  { "quantize", "x qscale qzp", "{'dtype': <'int8'>}" },
  { "dequantize", "@quantize qscale qzp", NULL },
  { "selective_scan", "u delta A B C D z dbias", "{'delta_softplus': <true>}" },
  { "gated_delta_net", "gq gk gv gg gbeta -", "{'qk_l2norm': <true>}" },
  { "conv", "x4 cw cb",
    "{'strides': <[int64 1, 1]>, 'pads': <[int64 0, 1, 0, 1]>, 'dilations': <[int64 1, 1]>, 'groups': <int64 2>}" },
  { "conv_transpose_2d", "tx tw tb", "{'strides': <[int64 2, 2]>, 'output_padding': <[int64 1, 1]>}" },
  { "pool", "x4",
    "{'kind': <'avg'>, 'kernel': <[int64 2, 2]>, 'strides': <[int64 1, 1]>, 'pads': <[int64 0, 1, 0, 1]>, 'count_include_pad': <true>}" },
  { "resize_nearest_2x", "x4", NULL },
  { "read_state", "s", NULL },
  { "write_state", "s x", NULL },
  { "erf", "x", NULL },
  { "pad", "x", "{'pads': <[int64 1, 2]>, 'mode': <'reflect'>}" },
  { "gather_elements", "x ge_idx", "{'axis': <int64 1>}" },
  { "argmax", "x", "{'axis': <int64 1>, 'keepdims': <true>}" },
  { "argmin", "x", "{'axis': <int64 -1>}" },
  { "resize", "x4", "{'size': <[int64 5, 7]>, 'mode': <'linear'>, 'coordinate_mode': <'align_corners'>}" },
  { "cross_entropy", "x ids2", "{'ignore_index': <int64 0>}" },
};

static AneTensor *
make_source (AneGraph        *g,
             const SourceRow *row,
             guint32          seed)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) value = NULL;
  AneTensor *t = NULL;
  gint64 n = 1;

  for (guint i = 0; i < row->rank; i++)
    n *= row->shape[i];
  if (row->kind == SRC_INPUT)
    t = ane_graph_input (g, row->name, row->dtype, row->shape, row->rank, &error);
  else if (row->kind == SRC_STATE)
    t = ane_graph_state (g, row->name, row->dtype, row->shape, row->rank, &error);
  else
    {
      if (ane_dtype_is_block (row->dtype))
        value = make_blocks (row->name, row->dtype, row->shape, row->rank, seed);
      else if (row->dtype == F32)
        value = ane_test_tensor_random (row->name, row->shape, row->rank, seed, row->lo, row->hi);
      else
        {
          g_autoptr(AneTensor) ints = ane_tensor_new_from_ints (row->name, row->shape, row->rank,
                                                                row->ints, n, &error);
          g_assert_no_error (error);
          value = ane_tensor_convert (ints, row->dtype, &error);
          g_assert_no_error (error);
        }
      if (row->kind == SRC_CONST)
        t = ane_graph_const (g, value, &error);
      else if (row->kind == SRC_PARAM)
        t = ane_graph_param_with_value (g, value, &error);
      else
        {
          AneSpec spec;
          ane_tensor_get_spec (value, &spec);
          t = ane_graph_add_source (g, ANE_OP_PARAM, row->name, &spec, value,
                                    ane_attrs_new ("dynamic", g_variant_new_boolean (TRUE), NULL),
                                    &error);
        }
    }
  g_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

/* Builds the every-op graph; returns how many ops had to be left out
 * because their family is still a placeholder. */
static guint
build_all_ops_graph (AneGraph  *g,
                     AneTensor *x_value_out[1])
{
  g_autoptr(GHashTable) pool = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) eps = NULL, renamed_user = NULL;
  guint missing = 0;
  static const float xv[] = { 0.5f, -1.25f, 2.0f, -0.75f, 1.5f, 0.25f, -2.0f, 1.0f };
  static const gint64 xs[] = { 2, 4 };

  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    g_hash_table_insert (pool, g_strdup (sources[i].name), make_source (g, &sources[i], 100 + i));
  *x_value_out = ane_test_tensor_f32 ("x", xs, 2, xv);

  /* A const renamed after creation: saved under its node's new name. */
  eps = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 0.125, &error);
  g_assert_no_error (error);
  ane_graph_set_name (g, eps, "eps_const", &error);
  g_assert_no_error (error);
  renamed_user = ane_graph_add (g, g_hash_table_lookup (pool, "x"), eps, &error);
  g_assert_no_error (error);
  ane_graph_add_output (g, "out/renamed_const", renamed_user, &error);
  g_assert_no_error (error);

  ane_graph_push_scope (g, "layer0");
  for (guint i = 0; i < G_N_ELEMENTS (op_rows); i++)
    {
      const OpRow *row = &op_rows[i];
      g_auto(GStrv) names = g_strsplit (row->inputs, " ", -1);
      g_autoptr(GPtrArray) inputs = g_ptr_array_new ();
      g_autoptr(GVariant) attrs = NULL;
      g_autoptr(GPtrArray) outputs = NULL;

      if (row->attrs != NULL)
        {
          attrs = g_variant_parse (G_VARIANT_TYPE_VARDICT, row->attrs, NULL, NULL, &error);
          g_assert_no_error (error);
        }
      for (guint j = 0; names[j] != NULL; j++)
        {
          AneTensor *t = NULL;

          if (!g_str_equal (names[j], "-"))
            {
              t = g_hash_table_lookup (pool, names[j]);
              if (t == NULL && names[j][0] == '@')
                break;   /* that op is missing */
              g_assert_nonnull (t);
            }
          g_ptr_array_add (inputs, t);
        }
      if (inputs->len != g_strv_length (names))
        {
          g_test_message ("op '%s' skipped: its input %s is missing", row->op, names[inputs->len]);
          missing++;
          continue;
        }
      outputs = ane_graph_apply (g, row->op, (AneTensor **) inputs->pdata, inputs->len, attrs, &error);
      if (outputs == NULL && g_error_matches (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED))
        {
          ane_test_skip ("op '%s' not available yet: %s", row->op, error->message);
          g_clear_error (&error);
          missing++;
          continue;
        }
      g_assert_no_error (error);
      for (guint j = 0; j < outputs->len; j++)
        {
          AneTensor *t = g_ptr_array_index (outputs, j);
          g_autofree char *key = j ? g_strdup_printf ("@%s:%u", row->op, j) : g_strdup_printf ("@%s", row->op);
          g_autofree char *out = g_strdup_printf ("out/%s%s", row->op, j ? ":1" : "");

          ane_graph_add_output (g, out, t, &error);
          g_assert_no_error (error);
          g_hash_table_insert (pool, g_steal_pointer (&key), g_object_ref (t));
        }
    }
  ane_graph_pop_scope (g);
  return missing;
}

static void
test_catalog_coverage (void)
{
  g_auto(GStrv) ops = ane_graph_list_ops ();
  guint n_sources = 0;

  for (guint i = 0; ops[i] != NULL; i++)
    {
      const AneOpInfo *info = ane_op_catalog_lookup (ops[i]);
      gboolean found = FALSE;

      g_assert_nonnull (info);
      if (info->flags & ANE_OP_FLAG_SOURCE)
        {
          /* input, param, const and state all occur in the source table */
          for (guint j = 0; j < G_N_ELEMENTS (sources); j++)
            found |= (info->kind == ANE_OP_INPUT && sources[j].kind == SRC_INPUT) ||
                     (info->kind == ANE_OP_PARAM && sources[j].kind == SRC_PARAM) ||
                     (info->kind == ANE_OP_CONST && sources[j].kind == SRC_CONST) ||
                     (info->kind == ANE_OP_STATE && sources[j].kind == SRC_STATE);
          n_sources++;
        }
      else
        for (guint j = 0; j < G_N_ELEMENTS (op_rows); j++)
          found |= g_str_equal (op_rows[j].op, ops[i]);
      if (!found)
        g_error ("op '%s' has no instance in the round-trip graph", ops[i]);
    }
  g_assert_cmpuint (n_sources, ==, 4);
  g_assert_cmpuint (g_strv_length (ops), ==, G_N_ELEMENTS (op_rows) + n_sources);
}

static void
test_round_trip_all_ops (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-graph-io-XXXXXX");
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(AneGraph) loaded = NULL;
  g_autoptr(AneTensor) x = NULL;
  guint missing = build_all_ops_graph (g, &x);

  /* each missing op was reported with ane_test_skip (a failure in strict mode) */
  if (missing > 0)
    g_test_message ("%u ops are still placeholders; round-tripping the rest", missing);
  loaded = save_and_load (g, dir);
  assert_graphs_equal (g, loaded);
  /* The dynamic flag (a source attribute) survived. */
  g_assert_true (ane_attrs_bool (ane_graph_find_node (loaded, "pos4")->attrs, "dynamic"));
  g_assert_false (ane_attrs_bool (ane_graph_find_node (loaded, "v4")->attrs, "dynamic"));
  g_assert_nonnull (ane_graph_find_node (loaded, "eps_const")->value);

  if (missing == 0)
    {
      g_autoptr(GPtrArray) before = try_run (g, &x, 1);
      g_autoptr(GPtrArray) after = before ? try_run (loaded, &x, 1) : NULL;

      if (before != NULL)
        {
          g_assert_nonnull (after);
          assert_runs_identical (before, after);
          g_test_message ("%u outputs identical after the round trip", before->len);
        }
    }
  else
    g_test_message ("not comparing outputs: %u ops missing", missing);
  ane_test_remove_tree (dir);
}

/* --- a small graph that always runs ------------------------------------------ */

static AneGraph *
build_small_graph (void)
{
  static const gint64 s24[] = { 2, 4 }, s4[] = { 4 };
  static const float bv[] = { 0.5f, -1, 2, 0.25f };
  g_autoptr(GError) error = NULL;
  AneGraph *g = ane_graph_new ();
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s24, 2, &error);
  g_autoptr(AneTensor) bval = ane_test_tensor_f32 ("bias", s4, 1, bv);
  g_autoptr(AneTensor) bias = ane_graph_param_with_value (g, bval, &error);
  g_autoptr(AneTensor) scale = ane_graph_param (g, "scale", ANE_DTYPE_FLOAT32, s4, 1, &error);
  g_autoptr(AneTensor) half = ane_graph_scalar (g, ANE_DTYPE_FLOAT32, 0.5, &error);
  g_autoptr(AneTensor) st = ane_graph_state (g, "acc", ANE_DTYPE_FLOAT32, s24, 2, &error);
  g_autoptr(AneTensor) h = ane_graph_add (g, x, bias, &error);
  g_autoptr(AneTensor) m = ane_graph_mul (g, h, scale, &error);
  g_autoptr(AneTensor) y = ane_graph_gelu (g, m, ANE_GELU_TANH, &error);
  g_autoptr(AneTensor) z = ane_graph_mul (g, y, half, &error);
  g_autoptr(AneTensor) c = ane_graph_gt (g, z, x, &error);

  g_assert_no_error (error);
  g_assert_nonnull (st);
  ane_graph_set_name (g, y, "act", &error);
  ane_graph_add_output (g, "z", z, &error);
  ane_graph_add_output (g, "c", c, &error);
  g_assert_no_error (error);
  return g;
}

static void
test_round_trip_small (void)
{
  static const gint64 s24[] = { 2, 4 }, s4[] = { 4 };
  static const float xv[] = { 1, -2, 3, -4, 0.5f, 0, -0.5f, 2 }, sv[] = { 1, 2, -1, 0.5f };
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-graph-io-XXXXXX");
  g_autoptr(AneGraph) g = build_small_graph ();
  g_autoptr(AneGraph) loaded = save_and_load (g, dir);
  g_autoptr(AneTensor) x = ane_test_tensor_f32 ("x", s24, 2, xv);
  g_autoptr(AneTensor) scale = ane_test_tensor_f32 ("scale", s4, 1, sv);
  g_autoptr(GPtrArray) before = NULL, after = NULL;
  g_autoptr(GError) error = NULL;

  assert_graphs_equal (g, loaded);
  /* The unbound param stays unbound; the bound one and the const carry data. */
  g_assert_null (ane_graph_find_node (loaded, "scale")->value);
  g_assert_nonnull (ane_graph_find_node (loaded, "bias")->value);
  g_assert_cmpstr (ane_graph_find_node (loaded, "act")->op->name, ==, "gelu");

  ane_graph_bind_param (g, "scale", scale, &error);
  g_assert_no_error (error);
  ane_graph_bind_param (loaded, "scale", scale, &error);
  g_assert_no_error (error);
  before = ane_test_run_reference (g, x, NULL);
  after = ane_test_run_reference (loaded, x, NULL);
  assert_runs_identical (before, after);

  /* Bound now: a second save stores the param, and loading restores it. */
  {
    g_autoptr(AneGraph) again = save_and_load (loaded, dir);
    g_autoptr(GPtrArray) third = NULL;

    assert_graphs_equal (loaded, again);
    g_assert_nonnull (ane_graph_find_node (again, "scale")->value);
    third = ane_test_run_reference (again, x, NULL);
    assert_runs_identical (before, third);
  }
  /* Only the two files remain: the temporary files were renamed away. */
  g_assert_cmpuint (count_files (dir), ==, 2);
  ane_test_remove_tree (dir);
}

/* The documented layout, to the byte: a format change must be deliberate. */
static void
test_json_golden (void)
{
  static const gint64 s24[] = { 2, 4 }, s4[] = { 4 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, s24, 2, &error);
  g_autoptr(AneTensor) p = ane_graph_param (g, "p", ANE_DTYPE_FLOAT32, s4, 1, &error);
  g_autoptr(AneTensor) sum = ane_graph_add (g, x, p, &error);
  g_autoptr(AneTensor) y = ane_graph_gelu (g, sum, ANE_GELU_TANH, &error);
  g_autofree char *json = NULL;
  g_autofree char *json_null = NULL;
  static const char expected[] =
    "{\n"
    "  \"format\": \"ane-glib-graph\",\n"
    "  \"version\": 1,\n"
    "  \"weights\": \"g.safetensors\",\n"
    "  \"nodes\": [\n"
    "    {\"op\":\"input\",\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[2,4],\"attrs\":{}},\n"
    "    {\"op\":\"param\",\"name\":\"p\",\"dtype\":\"float32\",\"shape\":[4],\"attrs\":{\"dynamic\":false}},\n"
    "    {\"op\":\"add\",\"name\":\"add\",\"inputs\":[[\"x\",0],[\"p\",0]],\"attrs\":{}},\n"
    "    {\"op\":\"gelu\",\"name\":\"gelu\",\"inputs\":[[\"add\",0]],\"attrs\":{\"approximation\":\"tanh\"}}\n"
    "  ],\n"
    "  \"outputs\": [\n"
    "    {\"name\":\"y\",\"node\":\"gelu\",\"index\":0}\n"
    "  ]\n"
    "}\n";

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  json = ane_graph_to_json (g, "g.safetensors", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json, ==, expected);

  json_null = ane_graph_to_json (g, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (json_null, "\"weights\": null,"));

  /* An empty graph is a valid document too. */
  {
    g_autoptr(AneGraph) empty = ane_graph_new ();
    g_autofree char *text = ane_graph_to_json (empty, NULL, &error);
    g_autoptr(AneGraph) back = NULL;

    g_assert_no_error (error);
    back = ane_graph_new_from_json (text, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (ane_graph_get_n_nodes (back), ==, 0);
  }
}

/* Hand-written JSON may leave defaults out, use integers for doubles, and
 * carry no weights. */
static void
test_json_defaults (void)
{
  static const char doc[] =
    "{\"format\":\"ane-glib-graph\",\"version\":1,\"nodes\":["
    "{\"op\":\"input\",\"name\":\"x\",\"dtype\":\"fp32\",\"shape\":[2,4]},"
    "{\"op\":\"param\",\"name\":\"w\",\"dtype\":\"float32\",\"shape\":[4]},"
    "{\"op\":\"mul\",\"name\":\"m\",\"inputs\":[[\"x\",0],[\"w\",0]]},"
    "{\"op\":\"gelu\",\"name\":\"g\",\"inputs\":[[\"m\",0]]}],"
    "\"outputs\":[{\"name\":\"y\",\"node\":\"g\"}]}";
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_new_from_json (doc, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (ane_graph_get_n_nodes (g), ==, 4);
  g_assert_cmpstr (ane_attrs_string (ane_graph_find_node (g, "g")->attrs, "approximation"), ==, "exact");
  g_assert_null (ane_graph_find_node (g, "w")->value);
  g_assert_cmpuint (ane_graph_get_n_outputs (g), ==, 1);
}

/* Doubles survive exactly, non-finite ones included. */
static void
test_doubles (void)
{
  static const double values[] = {
    0.1, 1.0 / 3.0, 1e-300, 4.9406564584124654e-324, -0.0, 1.7976931348623157e308,
    2.2250738585072014e-308, 0.30000000000000004, 123456789.123456789, -7.0,
    1e22, 1e23, 1e-5, 6.02214076e23, 1e100, 2.5e-8, 9007199254740993.0, 0.0,
    NAN, INFINITY, -INFINITY,
  };
  static const gint64 xs[] = { 2, 4 }, ws[] = { 4, 3 }, as[] = { 4, 2 }, bs[] = { 2, 3 };
  guint checked = 0;

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", F32, xs, 2, &error);
      g_autoptr(AneTensor) w = ane_graph_param (g, "w", F32, ws, 2, &error);
      g_autoptr(AneTensor) a = ane_graph_param (g, "a", F32, as, 2, &error);
      g_autoptr(AneTensor) b = ane_graph_param (g, "b", F32, bs, 2, &error);
      g_autoptr(AneTensor) y = ane_graph_lora_matmul (g, x, w, a, b, values[i], &error);
      g_autoptr(AneGraph) back = NULL;
      g_autofree char *json = NULL;
      double got;

      if (y == NULL && g_error_matches (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED))
        {
          ane_test_skip ("lora_matmul is not available yet");
          return;
        }
      if (y == NULL)
        {
          g_test_message ("lora_matmul refuses scale %g: %s", values[i], error->message);
          continue;
        }
      ane_graph_add_output (g, "y", y, &error);
      json = ane_graph_to_json (g, NULL, &error);
      g_assert_no_error (error);
      if (isnan (values[i]))
        g_assert_nonnull (strstr (json, "\"scale\":\"NaN\""));
      else if (isinf (values[i]))
        g_assert_nonnull (strstr (json, values[i] > 0 ? "\"scale\":\"Infinity\"" : "\"scale\":\"-Infinity\""));
      back = ane_graph_new_from_json (json, NULL, &error);
      g_assert_no_error (error);
      got = ane_attrs_double (ane_graph_find_node (back, "lora_matmul")->attrs, "scale");
      g_assert_cmpmem (&got, sizeof got, &values[i], sizeof values[i]);
      assert_graphs_equal (g, back);
      checked++;
    }
  g_assert_cmpuint (checked, >=, 18);
}

/* --- JSON errors ------------------------------------------------------------- */

#define DOC(nodes, outputs) \
  "{\"format\":\"ane-glib-graph\",\"version\":1,\"weights\":null,\"nodes\":[" nodes "],\"outputs\":[" outputs "]}"
#define X   "{\"op\":\"input\",\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[2,4]}"
#define P4  "{\"op\":\"param\",\"name\":\"p\",\"dtype\":\"float32\",\"shape\":[4]}"
#define OUT "{\"name\":\"y\",\"node\":\"x\",\"index\":0}"

typedef struct {
  const char *path;
  const char *doc;
  AneError    code;
  const char *mentions[3];
} JsonErrorCase;

static const JsonErrorCase json_errors[] = {
  { "malformed", "{\"format\": \"ane-glib-graph\", ", ANE_ERROR_PARSE, { "malformed JSON" } },
  { "empty", "", ANE_ERROR_PARSE, { "empty" } },
  { "not-object", "[1, 2]", ANE_ERROR_PARSE, { "an array", "not a JSON object" } },
  { "not-utf8", "{\"format\": \"\xff\"}", ANE_ERROR_PARSE, { "UTF-8" } },
  { "wrong-format", "{\"format\":\"onnx\",\"version\":1,\"nodes\":[],\"outputs\":[]}",
    ANE_ERROR_PARSE, { "\"format\"", "onnx" } },
  { "no-format", "{\"version\":1,\"nodes\":[],\"outputs\":[]}", ANE_ERROR_PARSE, { "\"format\"" } },
  { "newer-version", "{\"format\":\"ane-glib-graph\",\"version\":2,\"nodes\":[],\"outputs\":[]}",
    ANE_ERROR_UNSUPPORTED, { "version 2" } },
  { "version-type", "{\"format\":\"ane-glib-graph\",\"version\":\"1\",\"nodes\":[],\"outputs\":[]}",
    ANE_ERROR_PARSE, { "\"version\"", "a string" } },
  { "unknown-key", "{\"format\":\"ane-glib-graph\",\"version\":1,\"nodes\":[],\"outputs\":[],\"extra\":0}",
    ANE_ERROR_PARSE, { "\"extra\"" } },
  { "no-nodes", "{\"format\":\"ane-glib-graph\",\"version\":1,\"outputs\":[]}", ANE_ERROR_PARSE, { "\"nodes\"" } },
  { "weights-type", "{\"format\":\"ane-glib-graph\",\"version\":1,\"weights\":3,\"nodes\":[],\"outputs\":[]}",
    ANE_ERROR_PARSE, { "\"weights\"" } },
  { "node-not-object", DOC ("3", ""), ANE_ERROR_PARSE, { "node 0" } },
  { "node-no-name", DOC ("{\"op\":\"input\"}", ""), ANE_ERROR_PARSE, { "node 0", "\"name\"" } },
  { "unknown-op", DOC (X ",{\"op\":\"frobnicate\",\"name\":\"f\",\"inputs\":[[\"x\",0]]}", ""),
    ANE_ERROR_PARSE, { "'f'", "unknown op 'frobnicate'" } },
  { "unknown-node-key", DOC (X ",{\"op\":\"relu\",\"name\":\"r\",\"input\":[[\"x\",0]]}", ""),
    ANE_ERROR_PARSE, { "'r'", "\"input\"" } },
  { "source-with-inputs", DOC ("{\"op\":\"input\",\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[2],\"inputs\":[]}", ""),
    ANE_ERROR_PARSE, { "'x'", "\"inputs\"" } },
  { "op-with-dtype", DOC (X ",{\"op\":\"relu\",\"name\":\"r\",\"inputs\":[[\"x\",0]],\"dtype\":\"float32\"}", ""),
    ANE_ERROR_PARSE, { "'r'", "\"dtype\"" } },
  { "unknown-attr", DOC (X ",{\"op\":\"relu\",\"name\":\"r\",\"inputs\":[[\"x\",0]],\"attrs\":{\"alpha\":1}}", ""),
    ANE_ERROR_PARSE, { "'r'", "unknown attribute 'alpha'" } },
  { "attrs-type", DOC (X ",{\"op\":\"relu\",\"name\":\"r\",\"inputs\":[[\"x\",0]],\"attrs\":[]}", ""),
    ANE_ERROR_PARSE, { "'r'", "\"attrs\"" } },
  { "attr-type-string", DOC (X ",{\"op\":\"gelu\",\"name\":\"g\",\"inputs\":[[\"x\",0]],\"attrs\":{\"approximation\":1}}", ""),
    ANE_ERROR_PARSE, { "'g'", "'approximation'", "a string" } },
  { "attr-type-int", DOC (X ",{\"op\":\"softmax\",\"name\":\"s\",\"inputs\":[[\"x\",0]],\"attrs\":{\"axis\":1.5}}", ""),
    ANE_ERROR_PARSE, { "'s'", "'axis'", "an integer" } },
  { "attr-type-ints", DOC (X ",{\"op\":\"reshape\",\"name\":\"s\",\"inputs\":[[\"x\",0]],\"attrs\":{\"shape\":[8,\"a\"]}}", ""),
    ANE_ERROR_PARSE, { "'s'", "'shape'", "an array of integers" } },
  { "attr-type-bool", DOC (P4 ",{\"op\":\"param\",\"name\":\"q\",\"dtype\":\"float32\",\"shape\":[4],\"attrs\":{\"dynamic\":1}}", ""),
    ANE_ERROR_PARSE, { "'q'", "'dynamic'", "a boolean" } },
  { "attr-type-double", DOC (X ",{\"op\":\"rms_norm\",\"name\":\"n\",\"inputs\":[[\"x\",0],null],\"attrs\":{\"eps\":\"tiny\"}}", ""),
    ANE_ERROR_PARSE, { "'n'", "'eps'", "a number" } },
  { "attr-required", DOC (X ",{\"op\":\"narrow\",\"name\":\"n\",\"inputs\":[[\"x\",0]],\"attrs\":{\"axis\":0}}", ""),
    ANE_ERROR_INVALID_ARGUMENT, { "'n'", "'start'", "required" } },
  { "input-unknown", DOC (X ",{\"op\":\"add\",\"name\":\"a\",\"inputs\":[[\"x\",0],[\"nope\",0]]}", ""),
    ANE_ERROR_PARSE, { "'a'", "input 1", "unknown node 'nope'" } },
  { "input-forward", DOC (X ",{\"op\":\"add\",\"name\":\"a\",\"inputs\":[[\"x\",0],[\"r\",0]]},"
                          "{\"op\":\"relu\",\"name\":\"r\",\"inputs\":[[\"x\",0]]}", ""),
    ANE_ERROR_PARSE, { "'a'", "'r'", "does not come before" } },
  { "input-self", DOC (X ",{\"op\":\"relu\",\"name\":\"r\",\"inputs\":[[\"r\",0]]}", ""),
    ANE_ERROR_PARSE, { "'r'", "does not come before" } },
  { "input-index", DOC (X ",{\"op\":\"relu\",\"name\":\"r\",\"inputs\":[[\"x\",1]]}", ""),
    ANE_ERROR_PARSE, { "'r'", "output 1 of 'x'", "1 output" } },
  { "input-negative-index", DOC (X ",{\"op\":\"relu\",\"name\":\"r\",\"inputs\":[[\"x\",-1]]}", ""),
    ANE_ERROR_PARSE, { "'r'", "output -1" } },
  { "input-not-pair", DOC (X ",{\"op\":\"relu\",\"name\":\"r\",\"inputs\":[[\"x\"]]}", ""),
    ANE_ERROR_PARSE, { "'r'", "input 0" } },
  { "input-string", DOC (X ",{\"op\":\"relu\",\"name\":\"r\",\"inputs\":[\"x\"]}", ""),
    ANE_ERROR_PARSE, { "'r'", "input 0" } },
  { "inputs-missing", DOC (X ",{\"op\":\"relu\",\"name\":\"r\"}", ""),
    ANE_ERROR_PARSE, { "'r'", "\"inputs\"" } },
  { "input-required", DOC (X ",{\"op\":\"add\",\"name\":\"a\",\"inputs\":[[\"x\",0],null]}", ""),
    ANE_ERROR_INVALID_ARGUMENT, { "'a'", "'b'", "required" } },
  { "input-count", DOC (X ",{\"op\":\"relu\",\"name\":\"r\",\"inputs\":[[\"x\",0],[\"x\",0]]}", ""),
    ANE_ERROR_INVALID_ARGUMENT, { "'r'", "got 2" } },
  { "shape-rule", DOC (X ",{\"op\":\"param\",\"name\":\"q\",\"dtype\":\"float32\",\"shape\":[3]},"
                       "{\"op\":\"add\",\"name\":\"sum\",\"inputs\":[[\"x\",0],[\"q\",0]]}", ""),
    ANE_ERROR_SHAPE, { "'sum'", "float32[2,4]", "float32[3]" } },
  { "dtype-rule", DOC (X ",{\"op\":\"param\",\"name\":\"i\",\"dtype\":\"int32\",\"shape\":[4]},"
                       "{\"op\":\"add\",\"name\":\"sum\",\"inputs\":[[\"x\",0],[\"i\",0]]}", ""),
    ANE_ERROR_DTYPE, { "'sum'", "int32[4]" } },
  { "duplicate-name", DOC (X "," X, ""), ANE_ERROR_PARSE, { "'x'", "already used" } },
  { "duplicate-op-name", DOC (X ",{\"op\":\"relu\",\"name\":\"x\",\"inputs\":[[\"x\",0]]}", ""),
    ANE_ERROR_PARSE, { "'x'", "already used" } },
  { "bad-node-name", DOC ("{\"op\":\"input\",\"name\":\"\",\"dtype\":\"float32\",\"shape\":[2]}", ""),
    ANE_ERROR_INVALID_ARGUMENT, { "invalid name" } },
  { "bad-op-name", DOC (X ",{\"op\":\"relu\",\"name\":\"a\\nb\",\"inputs\":[[\"x\",0]]}", ""),
    ANE_ERROR_INVALID_ARGUMENT, { "invalid name" } },
  { "bad-dtype", DOC ("{\"op\":\"input\",\"name\":\"x\",\"dtype\":\"float33\",\"shape\":[2]}", ""),
    ANE_ERROR_PARSE, { "'x'", "float33" } },
  { "no-shape", DOC ("{\"op\":\"input\",\"name\":\"x\",\"dtype\":\"float32\"}", ""),
    ANE_ERROR_PARSE, { "'x'", "\"shape\"" } },
  { "negative-dim", DOC ("{\"op\":\"input\",\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[2,-1]}", ""),
    ANE_ERROR_PARSE, { "'x'", "shape[1]" } },
  { "rank-7", DOC ("{\"op\":\"input\",\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[1,1,1,1,1,1,1]}", ""),
    ANE_ERROR_PARSE, { "'x'", "rank 7" } },
  { "block-input", DOC ("{\"op\":\"input\",\"name\":\"x\",\"dtype\":\"q4_0\",\"shape\":[32]}", ""),
    ANE_ERROR_DTYPE, { "'x'", "q4_0" } },
  { "huge-shape", DOC ("{\"op\":\"param\",\"name\":\"w\",\"dtype\":\"float32\",\"shape\":[4611686018427387904,4]}", ""),
    ANE_ERROR_OVERFLOW, { "'w'" } },
  { "const-no-weights", DOC ("{\"op\":\"const\",\"name\":\"c\",\"dtype\":\"float32\",\"shape\":[2]}", ""),
    ANE_ERROR_NOT_FOUND, { "'c'", "no weights file" } },
  { "output-unknown-node", DOC (X, "{\"name\":\"y\",\"node\":\"nope\",\"index\":0}"),
    ANE_ERROR_PARSE, { "output 'y'", "'nope'" } },
  { "output-bad-index", DOC (X, "{\"name\":\"y\",\"node\":\"x\",\"index\":3}"),
    ANE_ERROR_PARSE, { "output 'y'", "output 3" } },
  { "output-not-object", DOC (X, "\"x\""), ANE_ERROR_PARSE, { "output 0" } },
  { "output-unknown-key", DOC (X, "{\"name\":\"y\",\"node\":\"x\",\"idx\":0}"),
    ANE_ERROR_PARSE, { "output 'y'", "\"idx\"" } },
  { "output-duplicate", DOC (X, OUT "," OUT), ANE_ERROR_INVALID_ARGUMENT, { "'y'", "already defined" } },
};

static void
test_json_error (gconstpointer data)
{
  const JsonErrorCase *c = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_new_from_json (c->doc, NULL, &error);

  g_assert_null (g);
  ane_test_assert_error (&error, c->code, "graph JSON:", c->mentions[0], c->mentions[1], c->mentions[2], NULL);
}

/* A valid base document parses, so the error cases fail for their reason. */
static void
test_json_error_base (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = ane_graph_new_from_json (DOC (X "," P4 ",{\"op\":\"add\",\"name\":\"a\",\"inputs\":[[\"x\",0],[\"p\",0]]}", OUT),
                                                   NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (ane_graph_get_n_nodes (g), ==, 3);
}

/* --- safetensors ------------------------------------------------------------- */

/* 8-byte length + header + data, with an optional length override. */
static GBytes *
make_st (const char *header,
         guint64     length_field,
         gsize       data_len)
{
  gsize hl = strlen (header);
  guint8 *buf = g_malloc0 (8 + hl + data_len);

  for (int i = 0; i < 8; i++)
    buf[i] = (guint8) (length_field >> (8 * i));
  memcpy (buf + 8, header, hl);
  for (gsize i = 0; i < data_len; i++)
    buf[8 + hl + i] = (guint8) i;
  return g_bytes_new_take (buf, 8 + hl + data_len);
}

typedef struct {
  const char *path;
  const char *header;
  guint64     length;       /* the length field; 0: the header's length */
  gsize       data_len;
  gsize       truncate_to;  /* 0: keep the whole file */
  const char *mentions[3];
} StErrorCase;

#define BRACKETS_8  "[[[[[[[["
#define BRACKETS_64 BRACKETS_8 BRACKETS_8 BRACKETS_8 BRACKETS_8 BRACKETS_8 BRACKETS_8 BRACKETS_8 BRACKETS_8

static const StErrorCase st_errors[] = {
  { "truncated-header", "", 0, 0, 5, { "truncated", "5 bytes" } },
  { "empty-file", "", 0, 0, G_MAXSIZE, { "truncated", "0 bytes" } },
  { "length-past-file", "{}", 1000, 0, 0, { "header length 1000", "larger than" } },
  { "length-oversized", "{}", 0x10000000000, 0, 0, { "header length 1099511627776", "limit" } },
  { "length-max", "{}", G_MAXUINT64, 0, 0, { "header length 18446744073709551615", "limit" } },
  { "not-brace", "[]", 0, 0, 0, { "'{'" } },
  { "bad-json", "{\"c\": ", 0, 0, 0, { "does not parse" } },
  { "json-trailing", "{} x", 0, 0, 0, { "does not parse" } },
  { "nul-in-header", "{}", 3, 1, 0, { "UTF-8" } },
  { "entry-not-object", "{\"c\": 3}", 0, 0, 0, { "tensor 'c'", "not a JSON object" } },
  { "unknown-dtype", "{\"c\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 0, 8, 0,
    { "tensor 'c'", "unknown dtype 'F64'" } },
  { "lowercase-dtype", "{\"c\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8, 0,
    { "tensor 'c'", "'f32'" } },
  { "no-dtype", "{\"c\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8, 0, { "tensor 'c'", "\"dtype\"" } },
  { "no-shape", "{\"c\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 0, 8, 0, { "tensor 'c'", "\"shape\"" } },
  { "negative-dim", "{\"c\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 0, 8, 0,
    { "tensor 'c'", "shape[0]" } },
  { "rank-7", "{\"c\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 0, 8, 0,
    { "tensor 'c'", "rank 7" } },
  { "shape-overflow",
    "{\"c\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4611686018427387904],\"data_offsets\":[0,8]}}",
    0, 8, 0, { "tensor 'c'", "overflow" } },
  { "bytes-overflow", "{\"c\":{\"dtype\":\"I64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}",
    0, 8, 0, { "tensor 'c'", "overflow" } },
  { "block-shape", "{\"c\":{\"dtype\":\"Q4_0\",\"shape\":[16],\"data_offsets\":[0,9]}}", 0, 9, 0,
    { "tensor 'c'", "block" } },
  { "no-offsets", "{\"c\":{\"dtype\":\"F32\",\"shape\":[2]}}", 0, 8, 0, { "tensor 'c'", "\"data_offsets\"" } },
  { "offsets-one", "{\"c\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}}", 0, 8, 0,
    { "tensor 'c'", "\"data_offsets\"" } },
  { "offsets-negative", "{\"c\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 0, 8, 0,
    { "tensor 'c'", "\"data_offsets\"" } },
  { "offsets-reversed", "{\"c\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 0, 8, 0,
    { "tensor 'c'", "[8, 0]", "begin after" } },
  { "offsets-past-end", "{\"c\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 0, 8, 0,
    { "tensor 'c'", "[0, 16]", "past the end" } },
  { "size-mismatch", "{\"c\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 0, 8, 0,
    { "tensor 'c'", "[0, 8]", "needs 12" } },
  { "overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 0, 12, 0,
    { "tensor 'b'", "[4, 12]", "overlap tensor 'a'" } },
  { "overlap-empty", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                     "\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 0, 8, 0,
    { "tensor 'b'", "overlap tensor 'a'" } },
  { "gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
           "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 0, 20, 0,
    { "tensor 'b'", "[8, 12)", "uncovered" } },
  { "not-at-zero", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 0, 12, 0,
    { "tensor 'a'", "[0, 4)" } },
  { "trailing-data", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 12, 0,
    { "cover 8 bytes", "12 bytes" } },
  { "metadata-type", "{\"__metadata__\":{\"format\":3}}", 0, 0, 0, { "__metadata__", "'format'" } },
  { "metadata-not-object", "{\"__metadata__\":[]}", 0, 0, 0, { "__metadata__" } },
  /* json-glib recurses once per level: 65 levels are refused before it
   * parses (the 64th '[' is the 65th level, at byte 8 + 5 + 63) ... */
  { "nesting-65", "{\"c\":" BRACKETS_64, 0, 0, 0, { "nest deeper than 64 levels", "at byte 76" } },
  /* ... brackets in strings (after an escaped quote too) do not count */
  { "nesting-in-string", "{\"\\\"" BRACKETS_64 BRACKETS_64 "\": 3}", 0, 0, 0, { "not a JSON object" } },
};

static void
test_st_error (gconstpointer data)
{
  const StErrorCase *c = data;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-graph-io-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "w.safetensors", NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AneSafetensors) st = NULL;
  gsize size;
  const guint8 *raw;

  /* (nul-in-header: the length field takes in a NUL data byte) */
  bytes = make_st (c->header, c->length ? c->length : strlen (c->header), c->data_len);
  raw = g_bytes_get_data (bytes, &size);
  if (c->truncate_to == G_MAXSIZE)
    size = 0;
  else if (c->truncate_to != 0)
    size = c->truncate_to;
  ane_test_write_file (path, raw, size);

  st = ane_safetensors_open (path, &error);
  g_assert_null (st);
  ane_test_assert_error (&error, ANE_ERROR_PARSE, path, c->mentions[0], c->mentions[1], c->mentions[2], NULL);

  /* Through the graph loader: the message names the graph file too. */
  {
    g_autofree char *json_path = g_build_filename (dir, "g.json", NULL);
    static const char doc[] =
      "{\"format\":\"ane-glib-graph\",\"version\":1,\"weights\":\"w.safetensors\",\"nodes\":["
      "{\"op\":\"param\",\"name\":\"c\",\"dtype\":\"float32\",\"shape\":[2]}],\"outputs\":[]}";
    g_autoptr(AneGraph) g = NULL;

    ane_test_write_file (json_path, doc, strlen (doc));
    g = ane_graph_load (json_path, &error);
    g_assert_null (g);
    ane_test_assert_error (&error, ANE_ERROR_PARSE, json_path, path, c->mentions[0], NULL);
  }
  ane_test_remove_tree (dir);
}

/* The example of safetensors' own documentation (tensor.rs, deserialize()),
 * byte for byte: a 60-byte header, not padded, and 16 bytes of I32 data. */
static void
test_st_reference_example (void)
{
  static const char file[] =
    "<\x00\x00\x00\x00\x00\x00\x00"
    "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"
    "\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\xfc\xff\xff\xff";
  g_autoptr(GBytes) bytes = g_bytes_new_static (file, sizeof file - 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneSafetensors) st = ane_safetensors_new_from_bytes (bytes, "example", &error);
  g_autoptr(AneTensor) t = NULL;
  static const gint64 shape[] = { 2, 2 };

  g_assert_no_error (error);
  g_assert_cmpuint (ane_safetensors_get_n_tensors (st), ==, 1);
  t = ane_safetensors_get_tensor (st, "test", &error);
  g_assert_no_error (error);
  g_assert_cmpint (ane_tensor_get_dtype (t), ==, ANE_DTYPE_INT32);
  ane_test_assert_shape (t, shape, 2);
  g_assert_cmpfloat (ane_tensor_get_value (t, 0), ==, 1);
  g_assert_cmpfloat (ane_tensor_get_value (t, 3), ==, -4);
  /* Zero-copy: the tensor's data is the buffer's bytes. */
  g_assert_true (g_bytes_get_data (ane_tensor_get_data (t), NULL) == (gconstpointer) (file + 8 + 60));

  g_assert_null (ane_safetensors_get_tensor (st, "nope", &error));
  ane_test_assert_error (&error, ANE_ERROR_NOT_FOUND, "example", "'nope'", NULL);
}

typedef struct {
  const char *name;
  AneDType    dtype;
  guint       rank;
  gint64      shape[3];
} StTensorRow;

static void
test_st_write_read (void)
{
  static const StTensorRow rows[] = {
    { "u8", ANE_DTYPE_UINT8, 1, { 3 } },
    { "f16", ANE_DTYPE_FLOAT16, 2, { 3, 1 } },
    { "q4_0", ANE_DTYPE_Q4_0, 2, { 2, 64 } },
    { "f32", ANE_DTYPE_FLOAT32, 2, { 2, 3 } },
    { "bool", ANE_DTYPE_BOOL, 1, { 5 } },
    { "i64", ANE_DTYPE_INT64, 1, { 3 } },
    { "bf16", ANE_DTYPE_BFLOAT16, 1, { 3 } },
    { "i8", ANE_DTYPE_INT8, 1, { 1 } },
    { "i16", ANE_DTYPE_INT16, 1, { 3 } },
    { "i32", ANE_DTYPE_INT32, 1, { 1 } },
    { "q6_k", ANE_DTYPE_Q6_K, 1, { 256 } },
    { "layer0/w.scalar", ANE_DTYPE_FLOAT32, 0, { 0 } },
    { "empty", ANE_DTYPE_FLOAT32, 2, { 0, 3 } },
  };
  static const char *const dtype_strings[] = {
    "U8", "F16", "Q4_0", "F32", "BOOL", "I64", "BF16", "I8", "I16", "I32", "Q6_K", "F32", "F32",
  };
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-graph-io-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "t.safetensors", NULL);
  g_autoptr(GPtrArray) tensors = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) metadata = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneSafetensors) st = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *contents = NULL;
  gsize size;
  guint64 n = 0;
  JsonObject *header;
  guint64 expected_offset = 0;
  gsize last_alignment = 8;

  G_STATIC_ASSERT (G_N_ELEMENTS (rows) == G_N_ELEMENTS (dtype_strings));
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (i);
      AneSpec spec = { rows[i].dtype, rows[i].rank, { 0 } };
      gint64 count;
      gsize bytes;
      guint8 *data;

      memcpy (spec.shape, rows[i].shape, sizeof rows[i].shape);
      ane_spec_n_elements (&spec, &count);
      ane_dtype_n_bytes (spec.dtype, count, &bytes, NULL);
      data = g_malloc (MAX (bytes, 1));
      for (gsize j = 0; j < bytes; j++)
        data[j] = spec.dtype == ANE_DTYPE_BOOL ? g_rand_int (rand) & 1 : (guint8) g_rand_int (rand);
      {
        g_autoptr(GBytes) b = g_bytes_new_take (data, bytes);
        AneTensor *t = ane_tensor_new_from_bytes (rows[i].name, spec.dtype, spec.shape, spec.rank, b, &error);
        g_assert_no_error (error);
        g_ptr_array_add (tensors, t);
      }
    }
  g_hash_table_insert (metadata, "format", "pt");
  g_hash_table_insert (metadata, "note", "\"quoted\" \xc3\xa9");
  ane_safetensors_write (path, (AneTensor **) tensors->pdata, tensors->len, metadata, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (dir), ==, 1);

  /* The layout, checked independently of the reader. */
  g_file_get_contents (path, &contents, &size, &error);
  g_assert_no_error (error);
  for (int i = 7; i >= 0; i--)
    n = (n << 8) | (guint8) contents[i];
  g_assert_cmpuint (n % 8, ==, 0);
  g_assert_cmpint (contents[8], ==, '{');
  json_parser_load_from_data (parser, contents + 8, (gssize) n, &error);
  g_assert_no_error (error);
  header = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (header, "__metadata__"), "format"),
                   ==, "pt");
  g_assert_cmpuint (json_object_get_size (header), ==, G_N_ELEMENTS (rows) + 1);
  /* Members appear in data order, by descending alignment, contiguous. */
  {
    g_autoptr(GList) members = json_object_get_members (header);

    for (GList *l = members; l != NULL; l = l->next)
      {
        JsonObject *e;
        JsonArray *off;
        guint i;
        gsize alignment;

        if (g_str_equal (l->data, "__metadata__"))
          continue;
        e = json_object_get_object_member (header, l->data);
        off = json_object_get_array_member (e, "data_offsets");
        for (i = 0; i < G_N_ELEMENTS (rows); i++)
          if (g_str_equal (rows[i].name, l->data))
            break;
        g_assert_cmpuint (i, <, G_N_ELEMENTS (rows));
        g_assert_cmpstr (json_object_get_string_member (e, "dtype"), ==, dtype_strings[i]);
        g_assert_cmpuint (json_array_get_length (json_object_get_array_member (e, "shape")), ==, rows[i].rank);
        alignment = ane_dtype_is_block (rows[i].dtype) ? 2 : ane_dtype_block_bytes (rows[i].dtype);
        g_assert_cmpuint (alignment, <=, last_alignment);
        last_alignment = alignment;
        g_assert_cmpint (json_array_get_int_element (off, 0), ==, (gint64) expected_offset);
        g_assert_cmpuint ((8 + n + expected_offset) % alignment, ==, 0);
        expected_offset = json_array_get_int_element (off, 1);
      }
    g_assert_cmpuint (8 + n + expected_offset, ==, size);
  }

  st = ane_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ane_safetensors_get_n_tensors (st), ==, G_N_ELEMENTS (rows));
  g_assert_cmpstr (ane_safetensors_get_metadata (st, "note"), ==, "\"quoted\" \xc3\xa9");
  for (guint i = 0; i < tensors->len; i++)
    {
      AneTensor *want = g_ptr_array_index (tensors, i);
      g_autoptr(AneTensor) got = ane_safetensors_get_tensor (st, ane_tensor_get_name (want), &error);

      g_assert_no_error (error);
      g_assert_cmpstr (ane_tensor_get_name (got), ==, ane_tensor_get_name (want));
      assert_tensors_identical (want, got);
    }

  /* Overwriting replaces the file atomically; no temporary is left. */
  ane_safetensors_write (path, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (dir), ==, 1);
  {
    g_autoptr(AneSafetensors) empty = ane_safetensors_open (path, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (ane_safetensors_get_n_tensors (empty), ==, 0);
  }
  /* The earlier mapping is still valid after the rename. */
  {
    g_autoptr(AneTensor) t = ane_safetensors_get_tensor (st, "f32", &error);
    g_assert_no_error (error);
    assert_tensors_identical (t, g_ptr_array_index (tensors, 3));
  }
  ane_test_remove_tree (dir);
}

static void
test_st_write_errors (void)
{
  static const gint64 s[] = { 2 };
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-graph-io-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "t.safetensors", NULL);
  g_autofree char *bad_path = g_build_filename (dir, "missing-dir", "t.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_tensor_new_zeros ("a", ANE_DTYPE_FLOAT32, s, 1, &error);
  g_autoptr(AneTensor) a2 = ane_tensor_new_zeros ("a", ANE_DTYPE_FLOAT32, s, 1, &error);
  g_autoptr(AneTensor) meta = ane_tensor_new_zeros ("__metadata__", ANE_DTYPE_FLOAT32, s, 1, &error);
  g_autoptr(AneTensor) symbolic = ane_tensor_new ("sym", ANE_DTYPE_FLOAT32, s, 1, &error);
  AneTensor *dup[] = { a, a2 }, *reserved[] = { meta }, *nodata[] = { symbolic };

  g_assert_false (ane_safetensors_write (path, dup, 2, NULL, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "'a'", NULL);
  g_assert_false (ane_safetensors_write (path, reserved, 1, NULL, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "'__metadata__'", NULL);
  g_assert_false (ane_safetensors_write (path, nodata, 1, NULL, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "'sym'", "no data", NULL);
  g_assert_false (ane_safetensors_write (bad_path, dup, 1, NULL, &error));
  ane_test_assert_error (&error, ANE_ERROR_IO, bad_path, NULL);
  g_assert_cmpuint (count_files (dir), ==, 0);
  ane_test_remove_tree (dir);
}

/* --- files: naming, missing and mismatched weights --------------------------- */

static void
test_save_paths (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-graph-io-XXXXXX");
  g_autofree char *json = g_build_filename (dir, "model.json", NULL);
  g_autofree char *other = g_build_filename (dir, "model.graph", NULL);
  g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *other_weights = g_build_filename (dir, "model.graph.safetensors", NULL);
  g_autofree char *missing = g_build_filename (dir, "no", "such", "g.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr(AneGraph) g = build_small_graph ();
  g_autoptr(GError) error = NULL;

  ane_graph_save (g, json, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (weights, G_FILE_TEST_IS_REGULAR));
  g_file_get_contents (json, &text, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "\"weights\": \"model.safetensors\","));

  ane_graph_save (g, other, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (other_weights, G_FILE_TEST_IS_REGULAR));
  {
    g_autoptr(AneGraph) back = ane_graph_load (other, &error);
    g_assert_no_error (error);
    assert_graphs_equal (g, back);
  }
  g_assert_cmpuint (count_files (dir), ==, 4);

  g_assert_false (ane_graph_save (g, missing, &error));
  ane_test_assert_error (&error, ANE_ERROR_IO, "g.safetensors", NULL);
  g_assert_cmpuint (count_files (dir), ==, 4);

  g_assert_null (ane_graph_load (missing, &error));
  ane_test_assert_error (&error, ANE_ERROR_IO, "g.json", NULL);
  ane_test_remove_tree (dir);
}

static void
test_load_weights_errors (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-graph-io-XXXXXX");
  g_autofree char *json = g_build_filename (dir, "g.json", NULL);
  g_autofree char *weights = g_build_filename (dir, "g.safetensors", NULL);
  g_autoptr(AneGraph) g = build_small_graph ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  ane_graph_save (g, json, &error);
  g_assert_no_error (error);

  /* new_from_json with an explicit weights path, and without one. */
  text = ane_graph_to_json (g, "ignored.safetensors", &error);
  g_assert_no_error (error);
  {
    g_autoptr(AneGraph) with = ane_graph_new_from_json (text, weights, &error);
    g_autoptr(AneGraph) without = NULL;

    g_assert_no_error (error);
    assert_graphs_equal (g, with);
    /* the graph has a const (0.5): without weights it cannot load */
    without = ane_graph_new_from_json (text, NULL, &error);
    g_assert_null (without);
    ane_test_assert_error (&error, ANE_ERROR_NOT_FOUND, "graph JSON", "no weights file", NULL);
  }

  /* Missing weights file. */
  g_assert_cmpint (g_unlink (weights), ==, 0);
  g_assert_null (ane_graph_load (json, &error));
  ane_test_assert_error (&error, ANE_ERROR_IO, json, "g.safetensors", NULL);

  /* A weights file without the const's tensor. */
  ane_safetensors_write (weights, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (ane_graph_load (json, &error));
  ane_test_assert_error (&error, ANE_ERROR_NOT_FOUND, json, weights, "'const'", NULL);

  /* A weights file whose tensors disagree with the declared specs. */
  {
    static const gint64 s3[] = { 3 }, s0[] = { 0 };
    g_autoptr(AneTensor) bias = ane_tensor_new_zeros ("bias", ANE_DTYPE_FLOAT32, s3, 1, &error);
    g_autoptr(AneTensor) half = ane_tensor_new_zeros ("const", ANE_DTYPE_FLOAT32, s0, 0, &error);
    g_autoptr(AneTensor) half16 = ane_tensor_new_zeros ("const", ANE_DTYPE_FLOAT16, s0, 0, &error);
    AneTensor *bad_shape[] = { bias, half }, *bad_dtype[] = { half16 };

    ane_safetensors_write (weights, bad_shape, 2, NULL, &error);
    g_assert_no_error (error);
    g_assert_null (ane_graph_load (json, &error));
    ane_test_assert_error (&error, ANE_ERROR_SHAPE, json, "'bias'", "float32[3]", NULL);

    ane_safetensors_write (weights, bad_dtype, 1, NULL, &error);
    g_assert_no_error (error);
    g_assert_null (ane_graph_load (json, &error));
    ane_test_assert_error (&error, ANE_ERROR_DTYPE, json, "'const'", "float16", NULL);
  }

  /* Extra tensors are fine (several graphs may share one weights file). */
  {
    static const gint64 s4[] = { 4 };
    g_autoptr(AneTensor) half = ane_tensor_new_scalar ("const", ANE_DTYPE_FLOAT32, 0.5, &error);
    g_autoptr(AneTensor) extra = ane_tensor_new_zeros ("unrelated", ANE_DTYPE_INT8, s4, 1, &error);
    AneTensor *ok[] = { half, extra };
    g_autoptr(AneGraph) back = NULL;

    ane_safetensors_write (weights, ok, 2, NULL, &error);
    g_assert_no_error (error);
    back = ane_graph_load (json, &error);
    g_assert_no_error (error);
    /* bias is not in the file: loaded unbound */
    g_assert_null (ane_graph_find_node (back, "bias")->value);
  }
  ane_test_remove_tree (dir);
}

/* --- files: where the weights may be, and what they may be ----------------- */

/* The saved graph at json with its "weights" member naming weights. */
static void
point_weights_at (const char *json,
                  const char *weights)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  g_autoptr(GString) s = NULL;

  g_file_get_contents (json, &text, NULL, &error);
  g_assert_no_error (error);
  s = g_string_new (text);
  from = g_strdup_printf ("\"weights\": \"%s\"", "g.safetensors");
  to = g_strdup_printf ("\"weights\": \"%s\"", weights);
  g_assert_cmpuint (g_string_replace (s, from, to, 1), ==, 1);
  g_file_set_contents (json, s->str, -1, &error);
  g_assert_no_error (error);
}

typedef struct {
  const char *weights;   /* the document's "weights"; @ stands for the outer directory */
  gboolean    inside;    /* loads without ANE_GRAPH_LOAD_ALLOW_OUTSIDE_WEIGHTS */
  const char *why;       /* a word of the refusal */
} ConfineCase;

static void
test_weights_confined (void)
{
  static const ConfineCase cases[] = {
    { "g.safetensors",                TRUE,  NULL },
    { "./g.safetensors",              TRUE,  NULL },
    { "none/../g.safetensors",        TRUE,  NULL },   /* ".." inside: fine */
    { "inlink.safetensors",           TRUE,  NULL },   /* a link to a file inside */
    { "../w.safetensors",             FALSE, "leaves" },
    { "none/../../w.safetensors",     FALSE, "leaves" },
    { "@/w.safetensors",              FALSE, "absolute" },
    { "outlink.safetensors",          FALSE, "symbolic link" },
    { "dirlink/w.safetensors",        FALSE, "symbolic link" },   /* through a linked directory */
  };
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-graph-io-XXXXXX");
  g_autofree char *sub = g_build_filename (dir, "sub", NULL);
  g_autofree char *json = g_build_filename (sub, "g.json", NULL);
  g_autofree char *weights = g_build_filename (sub, "g.safetensors", NULL);
  g_autofree char *outer = g_build_filename (dir, "w.safetensors", NULL);
  g_autofree char *saved = NULL;
  g_autoptr(AneGraph) g = build_small_graph ();
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  g_assert_true (ane_graph_save (g, json, &error));
  g_assert_no_error (error);
  g_file_get_contents (json, &saved, NULL, &error);
  g_assert_no_error (error);
  {
    g_autofree char *bytes = NULL;
    gsize len;

    g_file_get_contents (weights, &bytes, &len, &error);
    g_assert_no_error (error);
    g_file_set_contents (outer, bytes, (gssize) len, &error);
    g_assert_no_error (error);
  }
  {
    g_autofree char *inlink = g_build_filename (sub, "inlink.safetensors", NULL);
    g_autofree char *outlink = g_build_filename (sub, "outlink.safetensors", NULL);
    g_autofree char *dirlink = g_build_filename (sub, "dirlink", NULL);
    g_autofree char *none = g_build_filename (sub, "none", NULL);

    g_assert_cmpint (symlink ("g.safetensors", inlink), ==, 0);
    g_assert_cmpint (symlink ("../w.safetensors", outlink), ==, 0);
    g_assert_cmpint (symlink ("..", dirlink), ==, 0);
    g_assert_cmpint (g_mkdir (none, 0755), ==, 0);
  }

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GString) name = g_string_new (cases[i].weights);
      g_autoptr(AneGraph) back = NULL;
      g_autoptr(AneGraph) allowed = NULL;

      g_string_replace (name, "@", dir, 1);
      g_file_set_contents (json, saved, -1, &error);
      g_assert_no_error (error);
      point_weights_at (json, name->str);

      back = ane_graph_load (json, &error);
      if (cases[i].inside)
        {
          g_assert_no_error (error);
          assert_graphs_equal (g, back);
        }
      else
        {
          g_assert_null (back);
          ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, json, name->str, cases[i].why,
                                 "ANE_GRAPH_LOAD_ALLOW_OUTSIDE_WEIGHTS", NULL);
        }
      /* load is load_full without flags */
      g_clear_object (&back);
      back = ane_graph_load_full (json, ANE_GRAPH_LOAD_NONE, &error);
      g_assert_true ((back != NULL) == cases[i].inside);
      g_clear_error (&error);
      /* the flag lets every one of them load */
      allowed = ane_graph_load_full (json, ANE_GRAPH_LOAD_ALLOW_OUTSIDE_WEIGHTS, &error);
      g_assert_no_error (error);
      assert_graphs_equal (g, allowed);
    }

  /* "/etc/passwd" is refused before anything is opened */
  g_file_set_contents (json, saved, -1, &error);
  point_weights_at (json, "/etc/passwd");
  g_assert_null (ane_graph_load (json, &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "/etc/passwd", "absolute", NULL);
  g_file_set_contents (json, saved, -1, &error);
  point_weights_at (json, "");
  g_assert_null (ane_graph_load (json, &error));
  ane_test_assert_error (&error, ANE_ERROR_PARSE, json, "empty", NULL);
  ane_test_remove_tree (dir);
}

/* A FIFO, a directory or a device as the weights or as the document is
 * refused at once with the path: run in a subprocess with a time limit, as
 * the bug was a loader waiting for ever on the FIFO. */
static void
test_weights_not_regular (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = ane_test_make_tmp_dir ("ane-graph-io-XXXXXX");
      g_autofree char *json = g_build_filename (dir, "g.json", NULL);
      g_autofree char *fifo = g_build_filename (dir, "f.safetensors", NULL);
      g_autofree char *subdir = g_build_filename (dir, "d.safetensors", NULL);
      g_autofree char *json_fifo = g_build_filename (dir, "fifo.json", NULL);
      g_autofree char *saved = NULL;
      g_autoptr(AneGraph) g = build_small_graph ();
      g_autoptr(GError) error = NULL;

      g_assert_true (ane_graph_save (g, json, &error));
      g_assert_no_error (error);
      g_file_get_contents (json, &saved, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
      g_assert_cmpint (g_mkdir (subdir, 0755), ==, 0);
      g_assert_cmpint (mkfifo (json_fifo, 0644), ==, 0);

      point_weights_at (json, "f.safetensors");
      g_assert_null (ane_graph_load (json, &error));
      ane_test_assert_error (&error, ANE_ERROR_IO, json, fifo, "FIFO", NULL);

      g_file_set_contents (json, saved, -1, &error);
      point_weights_at (json, "d.safetensors");
      g_assert_null (ane_graph_load (json, &error));
      ane_test_assert_error (&error, ANE_ERROR_IO, subdir, "directory", NULL);

      g_file_set_contents (json, saved, -1, &error);
      point_weights_at (json, "/dev/null");
      g_assert_null (ane_graph_load_full (json, ANE_GRAPH_LOAD_ALLOW_OUTSIDE_WEIGHTS, &error));
      ane_test_assert_error (&error, ANE_ERROR_IO, "/dev/null", "character device", NULL);

      g_assert_null (ane_graph_load (json_fifo, &error));
      ane_test_assert_error (&error, ANE_ERROR_IO, json_fifo, "FIFO", NULL);
      g_assert_null (ane_graph_load (dir, &error));
      ane_test_assert_error (&error, ANE_ERROR_IO, dir, "directory", NULL);

      /* the safetensors reader on its own */
      g_assert_null (ane_safetensors_open (fifo, &error));
      ane_test_assert_error (&error, ANE_ERROR_IO, fifo, "FIFO", NULL);
      ane_test_remove_tree (dir);
      return;
    }
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/graph-io/catalog-coverage", test_catalog_coverage);
  g_test_add_func ("/ane/graph-io/round-trip/all-ops", test_round_trip_all_ops);
  g_test_add_func ("/ane/graph-io/round-trip/small", test_round_trip_small);
  g_test_add_func ("/ane/graph-io/json/golden", test_json_golden);
  g_test_add_func ("/ane/graph-io/json/defaults", test_json_defaults);
  g_test_add_func ("/ane/graph-io/json/doubles", test_doubles);
  g_test_add_func ("/ane/graph-io/json/error/base", test_json_error_base);
  for (guint i = 0; i < G_N_ELEMENTS (json_errors); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ane/graph-io/json/error/%s", json_errors[i].path);
      g_test_add_data_func (path, &json_errors[i], test_json_error);
    }
  g_test_add_func ("/ane/graph-io/safetensors/reference-example", test_st_reference_example);
  g_test_add_func ("/ane/graph-io/safetensors/write-read", test_st_write_read);
  g_test_add_func ("/ane/graph-io/safetensors/write-errors", test_st_write_errors);
  for (guint i = 0; i < G_N_ELEMENTS (st_errors); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ane/graph-io/safetensors/error/%s", st_errors[i].path);
      g_test_add_data_func (path, &st_errors[i], test_st_error);
    }
  g_test_add_func ("/ane/graph-io/files/paths", test_save_paths);
  g_test_add_func ("/ane/graph-io/files/weights-errors", test_load_weights_errors);
  g_test_add_func ("/ane/graph-io/files/weights-confined", test_weights_confined);
  g_test_add_func ("/ane/graph-io/files/not-regular", test_weights_not_regular);
  return g_test_run ();
}
