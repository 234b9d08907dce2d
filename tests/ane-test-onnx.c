/* ane-test-onnx.c: small ONNX models written from C (ane-test-onnx.h)
 *
 * Repeated fields are arrays of a fixed capacity, allocated once; every
 * allocation is kept in the builder's arena and freed with it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-test-onnx.h"

#define CAP 64

struct _AneTestOnnx {
  GPtrArray        *arena;
  Onnx__ModelProto  model;
  Onnx__GraphProto  graph;
};

static gpointer
alloc (AneTestOnnx *b,
       gsize        size)
{
  gpointer p = g_malloc0 (MAX (size, 1));

  g_ptr_array_add (b->arena, p);
  return p;
}

static char *
keep (AneTestOnnx *b,
      const char  *s)
{
  char *copy = g_strdup (s);

  g_ptr_array_add (b->arena, copy);
  return copy;
}

static void
graph_init (AneTestOnnx      *b,
            Onnx__GraphProto *g,
            const char       *name)
{
  onnx__graph_proto__init (g);
  g->name = keep (b, name);
  g->node = alloc (b, CAP * sizeof (gpointer));
  g->initializer = alloc (b, CAP * sizeof (gpointer));
  g->input = alloc (b, CAP * sizeof (gpointer));
  g->output = alloc (b, CAP * sizeof (gpointer));
}

AneTestOnnx *
ane_test_onnx_new (gint64 opset)
{
  AneTestOnnx *b = g_new0 (AneTestOnnx, 1);

  b->arena = g_ptr_array_new_with_free_func (g_free);
  onnx__model_proto__init (&b->model);
  b->model.has_ir_version = TRUE;
  b->model.ir_version = 8;
  b->model.opset_import = alloc (b, 8 * sizeof (gpointer));
  graph_init (b, &b->graph, "main");
  b->model.graph = &b->graph;
  ane_test_onnx_opset (b, "", opset);
  return b;
}

void
ane_test_onnx_free (AneTestOnnx *b)
{
  g_ptr_array_unref (b->arena);
  g_free (b);
}

Onnx__ModelProto *
ane_test_onnx_model (AneTestOnnx *b)
{
  return &b->model;
}

Onnx__GraphProto *
ane_test_onnx_graph (AneTestOnnx *b)
{
  return &b->graph;
}

Onnx__GraphProto *
ane_test_onnx_subgraph (AneTestOnnx *b,
                        const char  *name)
{
  Onnx__GraphProto *g = alloc (b, sizeof *g);

  graph_init (b, g, name);
  return g;
}

void
ane_test_onnx_opset (AneTestOnnx *b,
                     const char  *domain,
                     gint64       version)
{
  Onnx__OperatorSetIdProto *o = alloc (b, sizeof *o);

  g_assert_cmpuint (b->model.n_opset_import, <, 8);
  onnx__operator_set_id_proto__init (o);
  o->domain = keep (b, domain);
  o->has_version = TRUE;
  o->version = version;
  b->model.opset_import[b->model.n_opset_import++] = o;
}

static Onnx__ValueInfoProto *
value_info (AneTestOnnx *b,
            const char  *name,
            int          elem_type)
{
  Onnx__ValueInfoProto *vi = alloc (b, sizeof *vi);
  Onnx__TypeProto *tp = alloc (b, sizeof *tp);
  Onnx__TypeProto__Tensor *tt = alloc (b, sizeof *tt);

  onnx__value_info_proto__init (vi);
  onnx__type_proto__init (tp);
  onnx__type_proto__tensor__init (tt);
  vi->name = keep (b, name);
  vi->type = tp;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  tt->has_elem_type = TRUE;
  tt->elem_type = elem_type;
  return vi;
}

void
ane_test_onnx_input (AneTestOnnx       *b,
                     Onnx__GraphProto  *g,
                     const char        *name,
                     int                elem_type,
                     const gint64      *dims,
                     guint              rank,
                     const char *const *params)
{
  Onnx__ValueInfoProto *vi = value_info (b, name, elem_type);
  Onnx__TensorShapeProto *shape = alloc (b, sizeof *shape);

  onnx__tensor_shape_proto__init (shape);
  shape->dim = alloc (b, MAX (rank, 1) * sizeof (gpointer));
  for (guint d = 0; d < rank; d++)
    {
      Onnx__TensorShapeProto__Dimension *dim = alloc (b, sizeof *dim);

      onnx__tensor_shape_proto__dimension__init (dim);
      if (dims[d] >= 0)
        {
          dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
          dim->dim_value = dims[d];
        }
      else if (params != NULL && params[d] != NULL && params[d][0] != '\0')
        {
          dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
          dim->dim_param = keep (b, params[d]);
        }
      shape->dim[shape->n_dim++] = dim;
    }
  vi->type->tensor_type->shape = shape;
  g_assert_cmpuint (g->n_input, <, CAP);
  g->input[g->n_input++] = vi;
}

void
ane_test_onnx_output (AneTestOnnx      *b,
                      Onnx__GraphProto *g,
                      const char       *name,
                      int               elem_type)
{
  g_assert_cmpuint (g->n_output, <, CAP);
  g->output[g->n_output++] = value_info (b, name, elem_type);
}

static char **
names (AneTestOnnx *b,
       const char  *list,
       gsize       *n)
{
  g_auto(GStrv) parts = g_strsplit (list, ",", -1);
  char **out = alloc (b, CAP * sizeof (gpointer));

  *n = 0;
  for (guint i = 0; parts[i] != NULL && (list[0] != '\0'); i++)
    out[(*n)++] = keep (b, parts[i]);
  return out;
}

Onnx__NodeProto *
ane_test_onnx_node (AneTestOnnx      *b,
                    Onnx__GraphProto *g,
                    const char       *op_type,
                    const char       *name,
                    const char       *inputs,
                    const char       *outputs)
{
  Onnx__NodeProto *n = alloc (b, sizeof *n);

  onnx__node_proto__init (n);
  n->op_type = keep (b, op_type);
  n->name = keep (b, name);
  n->input = names (b, inputs, &n->n_input);
  n->output = names (b, outputs, &n->n_output);
  n->attribute = alloc (b, CAP * sizeof (gpointer));
  g_assert_cmpuint (g->n_node, <, CAP);
  g->node[g->n_node++] = n;
  return n;
}

static Onnx__AttributeProto *
attr (AneTestOnnx                         *b,
      Onnx__NodeProto                     *n,
      const char                          *name,
      Onnx__AttributeProto__AttributeType  type)
{
  Onnx__AttributeProto *a = alloc (b, sizeof *a);

  onnx__attribute_proto__init (a);
  a->name = keep (b, name);
  a->has_type = TRUE;
  a->type = type;
  n->attribute[n->n_attribute++] = a;
  return a;
}

void
ane_test_onnx_attr_int (AneTestOnnx     *b,
                        Onnx__NodeProto *n,
                        const char      *name,
                        gint64           value)
{
  Onnx__AttributeProto *a = attr (b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);

  a->has_i = TRUE;
  a->i = value;
}

void
ane_test_onnx_attr_ints (AneTestOnnx     *b,
                         Onnx__NodeProto *n,
                         const char      *name,
                         const gint64    *values,
                         gsize            n_values)
{
  Onnx__AttributeProto *a = attr (b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);

  a->ints = alloc (b, MAX (n_values, 1) * sizeof (int64_t));
  if (n_values > 0)
    memcpy (a->ints, values, n_values * sizeof (int64_t));
  a->n_ints = n_values;
}

void
ane_test_onnx_attr_graph (AneTestOnnx      *b,
                          Onnx__NodeProto  *n,
                          const char       *name,
                          Onnx__GraphProto *graph)
{
  attr (b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = graph;
}

void
ane_test_onnx_attr_tensor (AneTestOnnx       *b,
                           Onnx__NodeProto   *n,
                           const char        *name,
                           Onnx__TensorProto *t)
{
  attr (b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)->t = t;
}

static Onnx__TensorProto *
raw_tensor (AneTestOnnx  *b,
            const char   *name,
            int           data_type,
            const gint64 *dims,
            guint         rank,
            const void   *data,
            gsize         n_bytes)
{
  Onnx__TensorProto *t = alloc (b, sizeof *t);

  onnx__tensor_proto__init (t);
  t->name = keep (b, name);
  t->has_data_type = TRUE;
  t->data_type = data_type;
  t->dims = alloc (b, MAX (rank, 1) * sizeof (int64_t));
  if (rank > 0)
    memcpy (t->dims, dims, rank * sizeof (int64_t));
  t->n_dims = rank;
  t->has_raw_data = TRUE;
  t->raw_data.data = alloc (b, n_bytes);
  if (n_bytes > 0)
    memcpy (t->raw_data.data, data, n_bytes);
  t->raw_data.len = n_bytes;
  return t;
}

static gsize
count (const gint64 *dims,
       guint         rank)
{
  gsize n = 1;

  for (guint d = 0; d < rank; d++)
    n *= (gsize) dims[d];
  return n;
}

Onnx__TensorProto *
ane_test_onnx_floats (AneTestOnnx  *b,
                      const char   *name,
                      const gint64 *dims,
                      guint         rank,
                      const float  *values)
{
  return raw_tensor (b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, rank, values,
                     count (dims, rank) * sizeof (float));
}

Onnx__TensorProto *
ane_test_onnx_int64s (AneTestOnnx  *b,
                      const char   *name,
                      const gint64 *dims,
                      guint         rank,
                      const gint64 *values)
{
  return raw_tensor (b, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, dims, rank, values,
                     count (dims, rank) * sizeof (gint64));
}

void
ane_test_onnx_initializer (AneTestOnnx       *b,
                           Onnx__GraphProto  *g,
                           Onnx__TensorProto *t)
{
  g_assert_cmpuint (g->n_initializer, <, CAP);
  g->initializer[g->n_initializer++] = t;
}

char *
ane_test_onnx_write (AneTestOnnx *b,
                     const char  *dir,
                     const char  *file_name)
{
  gsize size = onnx__model_proto__get_packed_size (&b->model);
  g_autofree guint8 *buf = g_malloc (MAX (size, 1));
  char *path = g_build_filename (dir, file_name, NULL);
  g_autoptr(GError) error = NULL;

  onnx__model_proto__pack (&b->model, buf);
  g_assert_true (g_file_set_contents (path, (const char *) buf, (gssize) size, &error));
  g_assert_no_error (error);
  return path;
}
