/* ane-onnx-node.c: the node view converters read (ane-onnx-private.h)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-onnx-importer-private.h"
#include "ane-tensor-private.h"

struct _AneOnnxNode {
  AneOnnxImporter       *imp;
  const Onnx__NodeProto *proto;
  AneOnnxScope          *scope;
  gint64                 opset;
  AneGraph              *graph;       /* imp->graph, or the scratch graph while folding */
  gboolean               folding;
  AneOnnxValue         **inputs;      /* n_input entries, NULL when absent */
  AneTensor            **local;       /* inputs materialised in the scratch graph */
  AneTensor            **outputs;     /* n_output entries, set by the converter */
  GPtrArray             *keep;        /* strings that live as long as the view */
  GPtrArray             *keep_tensors; /* graph constants made by ane_onnx_node_const() */
  AneOnnxNode           *peeked;      /* a consumer view (ane_onnx_node_peek_consumer) */
  AneOnnxNode           *claimed;     /* == peeked once claimed */
};

/* ---- values and scopes ---- */

void
ane_onnx_value_free (AneOnnxValue *value)
{
  if (value == NULL)
    return;
  g_clear_object (&value->constant);
  g_clear_object (&value->tensor);
  g_free (value);
}

AneOnnxScope *
ane_onnx_scope_new (AneOnnxScope *parent)
{
  AneOnnxScope *scope = g_new0 (AneOnnxScope, 1);

  scope->parent = parent;
  scope->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) ane_onnx_value_free);
  return scope;
}

void
ane_onnx_scope_free (AneOnnxScope *scope)
{
  if (scope == NULL)
    return;
  g_hash_table_unref (scope->values);
  g_free (scope);
}

AneOnnxValue *
ane_onnx_scope_lookup (AneOnnxScope *scope,
                       const char   *name)
{
  for (; scope != NULL; scope = scope->parent)
    {
      AneOnnxValue *v = g_hash_table_lookup (scope->values, name);

      if (v != NULL)
        return v;
    }
  return NULL;
}

void
ane_onnx_scope_bind (AneOnnxScope *scope,
                     const char   *name,
                     AneTensor    *constant,
                     AneTensor    *tensor)
{
  AneOnnxValue *v = g_new0 (AneOnnxValue, 1);

  v->constant = constant;
  v->tensor = tensor;
  g_hash_table_replace (scope->values, g_strdup (name), v);
}

/* ---- the view ---- */

AneOnnxNode *
ane_onnx_node_new (AneOnnxImporter       *imp,
                   const Onnx__NodeProto *proto,
                   AneOnnxScope          *scope,
                   gint64                 opset,
                   AneGraph              *graph,
                   gboolean               folding)
{
  AneOnnxNode *node = g_new0 (AneOnnxNode, 1);

  node->imp = imp;
  node->proto = proto;
  node->scope = scope;
  node->opset = opset;
  node->graph = graph;
  node->folding = folding;
  node->inputs = g_new0 (AneOnnxValue *, MAX (proto->n_input, 1));
  node->local = g_new0 (AneTensor *, MAX (proto->n_input, 1));
  node->outputs = g_new0 (AneTensor *, MAX (proto->n_output, 1));
  node->keep = g_ptr_array_new_with_free_func (g_free);
  node->keep_tensors = g_ptr_array_new_with_free_func (g_object_unref);
  for (gsize i = 0; i < proto->n_input; i++)
    if (proto->input[i] != NULL && proto->input[i][0] != '\0')
      node->inputs[i] = ane_onnx_scope_lookup (scope, proto->input[i]);
  return node;
}

void
ane_onnx_node_free (AneOnnxNode *node)
{
  if (node == NULL)
    return;
  for (gsize i = 0; i < node->proto->n_input; i++)
    g_clear_object (&node->local[i]);
  for (gsize i = 0; i < node->proto->n_output; i++)
    g_clear_object (&node->outputs[i]);
  g_free (node->inputs);
  g_free (node->local);
  g_free (node->outputs);
  g_ptr_array_unref (node->keep);
  g_ptr_array_unref (node->keep_tensors);
  ane_onnx_node_free (node->peeked);
  g_free (node);
}

AneTensor *
ane_onnx_node_get_output (AneOnnxNode *node,
                          guint        i)
{
  return i < node->proto->n_output ? node->outputs[i] : NULL;
}

const Onnx__NodeProto *
ane_onnx_node_get_proto (AneOnnxNode *node)
{
  return node->proto;
}

AneOnnxScope *
ane_onnx_node_get_scope (AneOnnxNode *node)
{
  return node->scope;
}

AneOnnxImporter *
ane_onnx_node_get_importer (AneOnnxNode *node)
{
  return node->imp;
}

AneOnnxNode *
ane_onnx_node_get_claimed (AneOnnxNode *node)
{
  return node->claimed;
}

AneOnnxNode *
ane_onnx_node_peek_consumer (AneOnnxNode *node,
                             guint        i,
                             const char  *op_type)
{
  AneOnnxWalk *walk = node->imp->walk;
  const char *name;
  const Onnx__NodeProto *c;

  if (node->folding || walk == NULL || !ane_onnx_node_output_wanted (node, i))
    return NULL;
  name = node->proto->output[i];
  if (GPOINTER_TO_UINT (g_hash_table_lookup (walk->uses, name)) != 1)
    return NULL;
  c = g_hash_table_lookup (walk->consumer, name);
  if (c == NULL || g_strcmp0 (c->op_type, op_type) != 0 || c->n_input < 1 || g_strcmp0 (c->input[0], name) != 0)
    return NULL;
  ane_onnx_node_free (node->peeked);
  node->claimed = NULL;
  node->peeked = ane_onnx_node_new (node->imp, c, node->scope, node->opset, node->graph, FALSE);
  return node->peeked;
}

void
ane_onnx_node_claim_consumer (AneOnnxNode *node,
                              AneOnnxNode *consumer)
{
  g_return_if_fail (consumer == node->peeked);
  node->claimed = consumer;
}

const char *
ane_onnx_node_op_type (AneOnnxNode *node)
{
  return node->proto->op_type ? node->proto->op_type : "";
}

const char *
ane_onnx_node_name (AneOnnxNode *node)
{
  if (node->proto->name != NULL && node->proto->name[0] != '\0')
    return node->proto->name;
  if (node->proto->n_output > 0 && node->proto->output[0] != NULL)
    return node->proto->output[0];
  return "(unnamed)";
}

gint64
ane_onnx_node_opset (AneOnnxNode *node)
{
  return node->opset;
}

AneGraph *
ane_onnx_node_graph (AneOnnxNode *node)
{
  return node->graph;
}

gboolean
ane_onnx_node_is_folding (AneOnnxNode *node)
{
  return node->folding;
}

gboolean
ane_onnx_node_error (AneOnnxNode *node,
                     GError     **error,
                     AneError     code,
                     const char  *format,
                     ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, ANE_ERROR, code, "ONNX node '%s' (%s): %s",
               ane_onnx_node_name (node), ane_onnx_node_op_type (node), msg);
  return FALSE;
}

gboolean
ane_onnx_node_normalize_axis (AneOnnxNode *node,
                              gint64       axis,
                              guint        rank,
                              int         *out,
                              GError     **error)
{
  guint a;

  if (!ane_normalize_axis (axis, rank, &a))
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT,
                                "axis %" G_GINT64_FORMAT " is out of range for rank %u", axis, rank);
  *out = (int) a;
  return TRUE;
}

/* ---- inputs ---- */

guint
ane_onnx_node_n_inputs (AneOnnxNode *node)
{
  return (guint) node->proto->n_input;
}

gboolean
ane_onnx_node_has_input (AneOnnxNode *node,
                         guint        i)
{
  return i < node->proto->n_input && node->inputs[i] != NULL;
}

const char *
ane_onnx_node_input_name (AneOnnxNode *node,
                          guint        i)
{
  return i < node->proto->n_input ? node->proto->input[i] : NULL;
}

AneTensor *
ane_onnx_node_input_constant (AneOnnxNode *node,
                              guint        i)
{
  return ane_onnx_node_has_input (node, i) ? node->inputs[i]->constant : NULL;
}

gboolean
ane_onnx_node_input_is_constant (AneOnnxNode *node,
                                 guint        i)
{
  return ane_onnx_node_input_constant (node, i) != NULL;
}

gboolean
ane_onnx_node_all_inputs_constant (AneOnnxNode *node)
{
  for (guint i = 0; i < node->proto->n_input; i++)
    {
      const char *name = node->proto->input[i];

      if (name == NULL || name[0] == '\0')
        continue;
      if (node->inputs[i] == NULL || node->inputs[i]->constant == NULL)
        return FALSE;
    }
  return TRUE;
}

/* MIL has no int64 at the interface and our graph ops take int32 indices:
 * an int64 constant becomes int32 when it enters the graph, and a value that
 * does not fit is refused rather than wrapped. */
static AneTensor *
host_to_graph_dtype (AneOnnxNode *node,
                     AneTensor   *host,
                     const char  *what,
                     GError     **error)
{
  AneDType dtype = ane_tensor_get_dtype (host);

  if (dtype == ANE_DTYPE_INT64)
    {
      gsize n = 0;
      const gint64 *v = g_bytes_get_data (ane_tensor_get_data (host), &n);
      guint rank = 0;
      const gint64 *shape = ane_tensor_get_shape (host, &rank);
      g_autofree gint32 *w = NULL;

      n /= sizeof (gint64);
      w = g_new (gint32, MAX (n, 1));
      for (gsize k = 0; k < n; k++)
        {
          if (v[k] < G_MININT32 || v[k] > G_MAXINT32)
            {
              ane_onnx_node_error (node, error, ANE_ERROR_OVERFLOW,
                                   "%s: int64 value %" G_GINT64_FORMAT " at index %" G_GSIZE_FORMAT
                                   " does not fit the int32 the graph uses", what, v[k], k);
              return NULL;
            }
          w[k] = (gint32) v[k];
        }
      return ane_tensor_new_from_ints (ane_tensor_get_name (host), shape, rank, w, n, error);
    }
  if (dtype == ANE_DTYPE_FLOAT32 || dtype == ANE_DTYPE_FLOAT16 || dtype == ANE_DTYPE_INT32 ||
      dtype == ANE_DTYPE_BOOL || dtype == ANE_DTYPE_INT8 || dtype == ANE_DTYPE_UINT8 ||
      dtype == ANE_DTYPE_INT16)
    return g_object_ref (host);
  ane_onnx_node_error (node, error, ANE_ERROR_DTYPE, "%s: dtype %s is not supported in the graph",
                       what, ane_dtype_to_string (dtype));
  return NULL;
}

AneTensor *
ane_onnx_node_const (AneOnnxNode *node,
                     AneTensor   *host,
                     GError     **error)
{
  g_autoptr(AneTensor) converted = host_to_graph_dtype (node, host, ane_tensor_get_name (host), error);
  AneTensor *t;

  if (converted == NULL)
    return NULL;
  t = ane_graph_const (node->graph, converted, error);
  if (t != NULL)
    g_ptr_array_add (node->keep_tensors, t);
  return t;
}

static AneTensor *
input_tensor (AneOnnxNode *node,
              guint        i,
              gboolean     optional,
              GError     **error)
{
  AneOnnxValue *v;
  g_autoptr(AneTensor) converted = NULL;
  AneTensor **slot;

  if (!ane_onnx_node_has_input (node, i))
    {
      if (optional)
        return NULL;
      ane_onnx_node_error (node, error, ANE_ERROR_INVALID_GRAPH, "input %u is missing", i);
      return NULL;
    }
  v = node->inputs[i];
  /* While folding, every input lives in the scratch graph; otherwise a
   * constant is materialised once in the model's graph and shared. */
  slot = node->folding ? &node->local[i] : &v->tensor;
  if (*slot != NULL)
    return *slot;
  g_assert (v->constant != NULL);
  converted = host_to_graph_dtype (node, v->constant, node->proto->input[i], error);
  if (converted == NULL)
    return NULL;
  *slot = ane_graph_const (node->graph, converted, error);
  return *slot;
}

AneTensor *
ane_onnx_node_input (AneOnnxNode *node,
                     guint        i,
                     GError     **error)
{
  return input_tensor (node, i, FALSE, error);
}

AneTensor *
ane_onnx_node_input_optional (AneOnnxNode *node,
                              guint        i,
                              GError     **error)
{
  return input_tensor (node, i, TRUE, error);
}

const gint64 *
ane_onnx_node_input_shape (AneOnnxNode *node,
                           guint        i,
                           guint       *rank)
{
  AneOnnxValue *v;

  *rank = 0;
  if (!ane_onnx_node_has_input (node, i))
    return NULL;
  v = node->inputs[i];
  return ane_tensor_get_shape (v->constant ? v->constant : v->tensor, rank);
}

AneDType
ane_onnx_node_input_dtype (AneOnnxNode *node,
                           guint        i)
{
  AneOnnxValue *v;

  if (!ane_onnx_node_has_input (node, i))
    return ANE_DTYPE_FLOAT32;
  v = node->inputs[i];
  return ane_tensor_get_dtype (v->constant ? v->constant : v->tensor);
}

static AneTensor *
need_constant (AneOnnxNode *node,
               guint        i,
               const char  *what,
               GError     **error)
{
  AneTensor *c;

  if (!ane_onnx_node_has_input (node, i))
    {
      ane_onnx_node_error (node, error, ANE_ERROR_INVALID_GRAPH, "input %u (%s) is missing", i, what);
      return NULL;
    }
  c = node->inputs[i]->constant;
  if (c == NULL)
    ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                         "input %u ('%s', the %s) must be known at import time, but it is computed "
                         "at run time; bind the model's inputs it depends on with --input-value "
                         "or --input-shape", i, node->proto->input[i], what);
  return c;
}

gint64 *
ane_onnx_node_input_int64s (AneOnnxNode *node,
                            guint        i,
                            const char  *what,
                            gsize       *n_values,
                            GError     **error)
{
  AneTensor *c = need_constant (node, i, what, error);
  gsize n;
  g_autofree gint64 *out = NULL;

  *n_values = 0;
  if (c == NULL)
    return NULL;
  n = (gsize) ane_tensor_get_n_elements (c);
  out = g_new (gint64, MAX (n, 1));
  if (ane_tensor_get_dtype (c) == ANE_DTYPE_INT64)
    {
      /* not through double: INT64_MAX (Slice's "to the end") must survive */
      if (n > 0)
        memcpy (out, g_bytes_get_data (ane_tensor_get_data (c), NULL), n * sizeof (gint64));
    }
  else
    for (gsize k = 0; k < n; k++)
      {
        double d = ane_tensor_get_value (c, (gint64) k);

        if (!isfinite (d) || d != floor (d) || fabs (d) > 9.0e18)
          {
            ane_onnx_node_error (node, error, ANE_ERROR_DTYPE,
                                 "input %u (the %s) holds %g, not an integer", i, what, d);
            return NULL;
          }
        out[k] = (gint64) d;
      }
  *n_values = n;
  return g_steal_pointer (&out);
}

float *
ane_onnx_node_input_floats (AneOnnxNode *node,
                            guint        i,
                            const char  *what,
                            gsize       *n_values,
                            GError     **error)
{
  AneTensor *c = need_constant (node, i, what, error);
  gsize n;
  float *out;

  *n_values = 0;
  if (c == NULL)
    return NULL;
  n = (gsize) ane_tensor_get_n_elements (c);
  out = g_new (float, MAX (n, 1));
  if (ane_tensor_get_dtype (c) == ANE_DTYPE_INT64)
    {
      const gint64 *v = g_bytes_get_data (ane_tensor_get_data (c), NULL);

      for (gsize k = 0; k < n; k++)
        out[k] = (float) v[k];
    }
  else
    for (gsize k = 0; k < n; k++)
      out[k] = (float) ane_tensor_get_value (c, (gint64) k);
  *n_values = n;
  return out;
}

/* ---- outputs ---- */

guint
ane_onnx_node_n_outputs (AneOnnxNode *node)
{
  return (guint) node->proto->n_output;
}

gboolean
ane_onnx_node_output_wanted (AneOnnxNode *node,
                             guint        i)
{
  return i < node->proto->n_output && node->proto->output[i] != NULL &&
         node->proto->output[i][0] != '\0';
}

gboolean
ane_onnx_node_set_output (AneOnnxNode *node,
                          guint        i,
                          AneTensor   *value,
                          GError     **error)
{
  if (value == NULL)
    {
      /* the builder that returned NULL set the error; name the node */
      if (error != NULL && *error != NULL)
        g_prefix_error (error, "ONNX node '%s' (%s): ", ane_onnx_node_name (node),
                        ane_onnx_node_op_type (node));
      return FALSE;
    }
  if (i >= node->proto->n_output)
    {
      g_object_unref (value);
      return TRUE;   /* an optional output the model does not declare */
    }
  g_clear_object (&node->outputs[i]);
  node->outputs[i] = value;
  return TRUE;
}

/* ---- attributes ---- */

static const Onnx__AttributeProto *
find_attr (AneOnnxNode *node,
           const char  *name)
{
  for (gsize i = 0; i < node->proto->n_attribute; i++)
    {
      const Onnx__AttributeProto *a = node->proto->attribute[i];

      if (a->name != NULL && g_str_equal (a->name, name))
        return a;
    }
  return NULL;
}

/* The attribute's type: the discriminator when present (IR ≥ 2 always
 * writes it, onnx.proto AttributeProto.type), else the field that is set. */
static Onnx__AttributeProto__AttributeType
attr_type (const Onnx__AttributeProto *a)
{
  if (a->has_type)
    return a->type;
  if (a->has_f)
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  if (a->has_i)
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  if (a->has_s)
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  if (a->t != NULL)
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
  if (a->g != NULL)
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
  if (a->n_floats > 0)
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
  if (a->n_ints > 0)
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

static const char *
attr_type_name (Onnx__AttributeProto__AttributeType t)
{
  const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value (
      &onnx__attribute_proto__attribute_type__descriptor, (int) t);

  return v ? v->name : "unknown";
}

static const Onnx__AttributeProto *
typed_attr (AneOnnxNode                         *node,
            const char                          *name,
            Onnx__AttributeProto__AttributeType  want,
            GError                             **error)
{
  const Onnx__AttributeProto *a = find_attr (node, name);
  Onnx__AttributeProto__AttributeType have;

  if (a == NULL)
    return NULL;
  if (a->ref_attr_name != NULL && a->ref_attr_name[0] != '\0')
    {
      ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                           "attribute '%s' refers to a function attribute ('%s'): functions are not supported",
                           name, a->ref_attr_name);
      return NULL;
    }
  have = attr_type (a);
  if (have != want)
    {
      ane_onnx_node_error (node, error, ANE_ERROR_PARSE, "attribute '%s' is %s, expected %s",
                           name, attr_type_name (have), attr_type_name (want));
      return NULL;
    }
  return a;
}

gboolean
ane_onnx_node_has_attr (AneOnnxNode *node,
                        const char  *name)
{
  return find_attr (node, name) != NULL;
}

#define ATTR_LOOKUP(type_) \
  const Onnx__AttributeProto *a; \
  GError *local_error = NULL; \
  a = typed_attr (node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__##type_, &local_error); \
  if (local_error != NULL) \
    { \
      g_propagate_error (error, local_error); \
      return FALSE; \
    }

gboolean
ane_onnx_node_attr_int (AneOnnxNode *node,
                        const char  *name,
                        gint64       default_value,
                        gint64      *out,
                        GError     **error)
{
  ATTR_LOOKUP (INT);
  *out = a != NULL ? a->i : default_value;
  return TRUE;
}

gboolean
ane_onnx_node_attr_float (AneOnnxNode *node,
                          const char  *name,
                          double       default_value,
                          double      *out,
                          GError     **error)
{
  ATTR_LOOKUP (FLOAT);
  *out = a != NULL ? a->f : default_value;
  return TRUE;
}

gboolean
ane_onnx_node_attr_string (AneOnnxNode *node,
                           const char  *name,
                           const char  *default_value,
                           const char **out,
                           GError     **error)
{
  char *s;

  ATTR_LOOKUP (STRING);
  if (a == NULL)
    {
      *out = default_value;
      return TRUE;
    }
  /* bytes on the wire: NUL-terminate a copy */
  s = g_strndup ((const char *) a->s.data, a->s.len);
  g_ptr_array_add (node->keep, s);
  *out = s;
  return TRUE;
}

gboolean
ane_onnx_node_attr_ints (AneOnnxNode   *node,
                         const char    *name,
                         const gint64 **out,
                         gsize         *n,
                         GError       **error)
{
  ATTR_LOOKUP (INTS);
  G_STATIC_ASSERT (sizeof (gint64) == sizeof (int64_t));
  *out = a != NULL ? (const gint64 *) a->ints : NULL;
  *n = a != NULL ? a->n_ints : 0;
  return TRUE;
}

gboolean
ane_onnx_node_attr_floats (AneOnnxNode   *node,
                           const char    *name,
                           const float  **out,
                           gsize         *n,
                           GError       **error)
{
  ATTR_LOOKUP (FLOATS);
  *out = a != NULL ? a->floats : NULL;
  *n = a != NULL ? a->n_floats : 0;
  return TRUE;
}

gboolean
ane_onnx_node_attr_tensor (AneOnnxNode  *node,
                           const char   *name,
                           AneTensor   **out,
                           GError      **error)
{
  ATTR_LOOKUP (TENSOR);
  *out = NULL;
  if (a == NULL)
    return TRUE;
  /* attribute tensors are inline (no model directory: external refused) */
  *out = ane_onnx_tensor_from_proto (a->t, NULL, error);
  if (*out == NULL)
    {
      g_prefix_error (error, "ONNX node '%s' (%s): attribute '%s': ", ane_onnx_node_name (node),
                      ane_onnx_node_op_type (node), name);
      return FALSE;
    }
  return TRUE;
}

gboolean
ane_onnx_node_inline_subgraph (AneOnnxNode *node,
                               const char  *attr_name,
                               GError     **error)
{
  const char *name = attr_name;
  g_autoptr(AneOnnxScope) scope = NULL;
  const Onnx__GraphProto *g;
  gboolean ok;

  ATTR_LOOKUP (GRAPH);
  if (a == NULL || a->g == NULL)
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_GRAPH, "attribute '%s' is missing", attr_name);
  g = a->g;
  if (node->imp->depth >= ANE_ONNX_MAX_DEPTH)
    return ane_onnx_node_error (node, error, ANE_ERROR_TOO_LARGE,
                                "subgraphs nest deeper than %u levels", ANE_ONNX_MAX_DEPTH);
  if (g->n_output != node->proto->n_output)
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_GRAPH,
                                "subgraph '%s' has %" G_GSIZE_FORMAT " outputs, the node %" G_GSIZE_FORMAT,
                                attr_name, g->n_output, node->proto->n_output);
  scope = ane_onnx_scope_new (node->scope);
  node->imp->depth++;
  ok = ane_onnx_walk_nodes (node->imp, g, scope, error);
  node->imp->depth--;
  if (!ok)
    return FALSE;
  for (gsize i = 0; i < g->n_output; i++)
    {
      const char *out_name = g->output[i]->name ? g->output[i]->name : "";
      AneOnnxValue *v = ane_onnx_scope_lookup (scope, out_name);
      AneTensor *t;

      if (v == NULL)
        return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_GRAPH,
                                    "subgraph '%s' output '%s' is never computed", attr_name, out_name);
      t = v->constant ? v->constant : v->tensor;
      if (!ane_onnx_node_set_output (node, (guint) i, g_object_ref (t), error))
        return FALSE;
    }
  return TRUE;
}

#undef ATTR_LOOKUP

AneTensor *
ane_onnx_tensor_new_int64s (const gint64 *values,
                            const gint64 *shape,
                            guint         rank,
                            GError      **error)
{
  gint64 n = 0;
  g_autoptr(GBytes) bytes = NULL;

  if (!ane_shape_n_elements (shape, rank, &n, error))
    return NULL;
  bytes = g_bytes_new (n > 0 ? values : NULL, (gsize) n * sizeof (gint64));
  return ane_tensor_new_from_bytes ("onnx_const", ANE_DTYPE_INT64, shape, rank, bytes, error);
}
