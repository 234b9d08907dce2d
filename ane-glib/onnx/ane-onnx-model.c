/* ane-onnx-model.c: reads an ONNX file and imports its main graph
 *
 * Order of work: parse (protobuf-c, bounded by the file's size), check the
 * opsets and what we refuse (local functions, sparse initializers),
 * load initializers, declare the inputs (symbolic dims bound from the
 * options, values bound as constants), scan every node (subgraphs too) for
 * ops without a converter -- one error listing them all, before anything is
 * built -- then walk the nodes and declare the outputs.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-onnx-importer-private.h"
#include "mil/ane-mil-builder-private.h"
#include "mil/ane-mil-validate-private.h"

/* protobuf's own limit for one message (2 GiB); a larger file is not ONNX
 * without external data, and we refuse to map it. */
#define ANE_ONNX_MAX_FILE_SIZE (G_GUINT64_CONSTANT (2) << 30)

static void
importer_clear (AneOnnxImporter *imp)
{
  g_clear_object (&imp->graph);
  g_clear_pointer (&imp->opsets, g_hash_table_unref);
  g_clear_pointer (&imp->model_dir, g_free);
  g_clear_pointer (&imp->interface_names, g_hash_table_unref);
}

static gboolean
read_opsets (AneOnnxImporter        *imp,
             const Onnx__ModelProto *model,
             const char             *path,
             GError                **error)
{
  imp->opsets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (gsize i = 0; i < model->n_opset_import; i++)
    {
      const Onnx__OperatorSetIdProto *o = model->opset_import[i];
      const char *domain = o->domain && !g_str_equal (o->domain, "ai.onnx") ? o->domain : "";

      g_hash_table_replace (imp->opsets, g_strdup (domain), g_memdup2 (&o->version, sizeof (gint64)));
    }
  imp->default_opset = ane_onnx_importer_opset (imp, "");
  if (imp->default_opset < 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: the model imports no default-domain ONNX opset", path);
      return FALSE;
    }
  if (imp->default_opset < ANE_ONNX_MIN_OPSET || imp->default_opset > ANE_ONNX_MAX_OPSET)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "%s: ONNX opset %" G_GINT64_FORMAT " is not supported (opsets %d to %d are)",
                   path, imp->default_opset, ANE_ONNX_MIN_OPSET, ANE_ONNX_MAX_OPSET);
      return FALSE;
    }
  return TRUE;
}

/* A model-local function is called by a node whose (domain, op_type) is
 * the function's (onnx/onnx.proto FunctionProto); we do not expand them. */
static gboolean
refuse_functions (const Onnx__ModelProto *model,
                  const char             *path,
                  GError                **error)
{
  const Onnx__GraphProto *g = model->graph;

  for (gsize f = 0; f < model->n_functions; f++)
    for (gsize i = 0; i < g->n_node; i++)
      {
        const Onnx__FunctionProto *fn = model->functions[f];
        const Onnx__NodeProto *n = g->node[i];

        if (g_strcmp0 (fn->name, n->op_type) == 0 &&
            g_strcmp0 (fn->domain ? fn->domain : "", n->domain ? n->domain : "") == 0)
          {
            g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                         "%s: node '%s' calls the model-local function '%s' (domain '%s'); ONNX "
                         "functions are not supported: export with them inlined", path,
                         n->name ? n->name : "", fn->name ? fn->name : "", fn->domain ? fn->domain : "");
            return FALSE;
          }
      }
  return TRUE;
}

/* The host tensor bound to an input by the options, converted to the
 * input's element type (int64 stays int64 on the host; the graph gets
 * int32 when it is used). */
static AneTensor *
bound_value (AneTensor  *given,
             const char *name,
             int         elem_type,
             GError    **error)
{
  AneDType host;

  switch (elem_type)
    {
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
      {
        gint64 n = ane_tensor_get_n_elements (given);
        g_autofree gint64 *v = g_new (gint64, MAX (n, 1));
        guint rank = 0;
        const gint64 *shape = ane_tensor_get_shape (given, &rank);

        if (ane_tensor_get_dtype (given) == ANE_DTYPE_INT64)
          return ane_tensor_rename (given, name);
        for (gint64 k = 0; k < n; k++)
          {
            double d = ane_tensor_get_value (given, k);

            if (d != (double) (gint64) d)
              {
                g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                             "input '%s' is int64, but the value given for it holds %g", name, d);
                return NULL;
              }
            v[k] = (gint64) d;
          }
        return ane_onnx_tensor_new_int64s (v, shape, rank, error);
      }
    default:
      if (!ane_onnx_elem_type_to_dtype (elem_type, &host))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE, "input '%s' has element type %s, which is not supported",
                       name, ane_onnx_elem_type_name (elem_type));
          return NULL;
        }
      if (ane_tensor_get_dtype (given) == host)
        return ane_tensor_rename (given, name);
      return ane_tensor_convert (given, host, error);
    }
}

/* The name an ONNX input or output gets in the graph: a MIL identifier
 * that is not a keyword
 * ([A-Za-z_][A-Za-z0-9_]*, what lowering requires of interface names), so
 * each other character becomes '_' and a leading digit gets a '_' in front
 * ("softmax_0.tmp_0" → "softmax_0_tmp_0", "input.1" → "input_1"); a name
 * already taken gets "_2", "_3", ... */
static char *
interface_name (const char *onnx_name,
                GHashTable *taken)
{
  GString *s = g_string_new (NULL);
  g_autofree char *base = NULL;
  char *name;

  if (onnx_name[0] == '\0' || g_ascii_isdigit (onnx_name[0]))
    g_string_append_c (s, '_');
  for (const char *p = onnx_name; *p; p++)
    g_string_append_c (s, g_ascii_isalnum (*p) || *p == '_' ? *p : '_');
  /* a MIL keyword gets the suffix coremltools gives it
   * ("state" → "state_workaround", ane-lower.c check_interface_name) */
  if (ane_mil_name_is_reserved (s->str))
    g_string_append (s, "_workaround");
  base = g_string_free (s, FALSE);
  name = g_strdup (base);
  for (guint k = 2; g_hash_table_contains (taken, name); k++)
    {
      g_free (name);
      name = g_strdup_printf ("%s_%u", base, k);
    }
  g_hash_table_add (taken, g_strdup (name));
  return name;
}

/* A value given as a scalar or a flat list for an input whose declared
 * shape is fully static takes that shape when the element count agrees
 * (`--input-value sr=16000` for an input of shape [1]). Takes value. */
static AneTensor *
fit_declared_shape (AneTensor                    *value,
                    const Onnx__TensorShapeProto *declared)
{
  gint64 shape[ANE_MAX_RANK], n = 1;
  guint vrank = ane_tensor_get_rank (value);

  if (declared == NULL || declared->n_dim > ANE_MAX_RANK || declared->n_dim == vrank || vrank > 1)
    return value;
  for (gsize d = 0; d < declared->n_dim; d++)
    {
      if (declared->dim[d]->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
          declared->dim[d]->dim_value <= 0)
        return value;
      shape[d] = declared->dim[d]->dim_value;
      n *= shape[d];
    }
  if (n != ane_tensor_get_n_elements (value))
    return value;
  {
    AneTensor *fitted = ane_tensor_new_from_bytes (ane_tensor_get_name (value), ane_tensor_get_dtype (value),
                                                   shape, (guint) declared->n_dim,
                                                   ane_tensor_get_data (value), NULL);

    if (fitted == NULL)
      return value;
    g_object_unref (value);
    return fitted;
  }
}

static void
format_shape_hint (GString                        *s,
                   const Onnx__TensorShapeProto   *shape)
{
  for (gsize d = 0; d < shape->n_dim; d++)
    {
      const Onnx__TensorShapeProto__Dimension *dim = shape->dim[d];

      if (d > 0)
        g_string_append_c (s, ',');
      if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && dim->dim_value > 0)
        g_string_append_printf (s, "%" G_GINT64_FORMAT, (gint64) dim->dim_value);
      else
        g_string_append_c (s, '?');
    }
}

/* The input's static shape: the model's dims, with the options' shape
 * binding the symbolic ones (and agreeing with the static ones). */
static gboolean
input_shape (const Onnx__ValueInfoProto *vi,
             const Onnx__TypeProto__Tensor *tt,
             AneOnnxImportOptions *options,
             gint64               *shape,
             guint                *rank,
             GError              **error)
{
  const char *name = vi->name;
  guint given_rank = 0;
  const gint64 *given = ane_onnx_import_options_get_shape_internal (options, name, &given_rank);
  const Onnx__TensorShapeProto *declared = tt->shape;

  if (declared == NULL && given == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "input '%s' has no declared shape; give it with --input-shape %s=...", name, name);
      return FALSE;
    }
  if (declared != NULL && declared->n_dim > ANE_MAX_RANK)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "input '%s' has rank %" G_GSIZE_FORMAT
                   ", more than the supported %d", name, declared->n_dim, ANE_MAX_RANK);
      return FALSE;
    }
  if (given != NULL && declared != NULL && given_rank != declared->n_dim)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "input '%s' has rank %" G_GSIZE_FORMAT " in the model, but the shape given for it has rank %u",
                   name, declared->n_dim, given_rank);
      return FALSE;
    }
  *rank = given != NULL ? given_rank : (guint) declared->n_dim;
  for (guint d = 0; d < *rank; d++)
    {
      const Onnx__TensorShapeProto__Dimension *dim = declared ? declared->dim[d] : NULL;
      gboolean is_static = dim != NULL && dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                           dim->dim_value > 0;

      if (given != NULL)
        {
          if (given[d] <= 0)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                           "input '%s': dim %u given as %" G_GINT64_FORMAT ", not a positive size", name, d, given[d]);
              return FALSE;
            }
          if (is_static && dim->dim_value != given[d])
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                           "input '%s': dim %u is %" G_GINT64_FORMAT " in the model, given as %" G_GINT64_FORMAT,
                           name, d, (gint64) dim->dim_value, given[d]);
              return FALSE;
            }
          shape[d] = given[d];
        }
      else if (is_static)
        shape[d] = dim->dim_value;
      else
        {
          g_autoptr(GString) hint = g_string_new (NULL);
          const char *param = dim && dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                              dim->dim_param && dim->dim_param[0] ? dim->dim_param : NULL;

          format_shape_hint (hint, declared);
          if (param != NULL)
            g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                         "input '%s' dim %u ('%s') is symbolic; bind it with --input-shape %s=%s",
                         name, d, param, name, hint->str);
          else
            g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                         "input '%s' dim %u is unknown (no size, no name); bind it with --input-shape %s=%s",
                         name, d, name, hint->str);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
declare_inputs (AneOnnxImporter      *imp,
                AneOnnxScope         *scope,
                AneOnnxImportOptions *options,
                GError              **error)
{
  const Onnx__GraphProto *g = imp->model->graph;
  g_auto(GStrv) bound = options ? ane_onnx_import_options_list_inputs (options) : NULL;

  /* a binding for a name the model does not have is a typo: say so */
  for (guint b = 0; bound != NULL && bound[b] != NULL; b++)
    {
      gboolean found = FALSE;

      for (gsize i = 0; i < g->n_input && !found; i++)
        found = g_strcmp0 (g->input[i]->name, bound[b]) == 0;
      if (!found)
        {
          g_autoptr(GString) names = g_string_new (NULL);

          for (gsize i = 0; i < g->n_input; i++)
            if (ane_onnx_scope_lookup (scope, g->input[i]->name ? g->input[i]->name : "") == NULL)
              g_string_append_printf (names, "%s'%s'", names->len ? ", " : "", g->input[i]->name);
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                       "the model has no input '%s' (its inputs: %s)", bound[b], names->str);
          return FALSE;
        }
    }

  for (gsize i = 0; i < g->n_input; i++)
    {
      const Onnx__ValueInfoProto *vi = g->input[i];
      const char *name = vi->name ? vi->name : "";
      const Onnx__TypeProto__Tensor *tt;
      AneTensor *given;
      AneDType dtype;
      gint64 shape[ANE_MAX_RANK];
      guint rank = 0;
      AneTensor *t;

      /* IR ≥ 4: an input may repeat an initializer's name, which is then
       * its default (onnx/docs/IR.md "Graphs"); we keep the initializer */
      if (ane_onnx_scope_lookup (scope, name) != NULL &&
          ane_onnx_import_options_get_value_internal (options, name) == NULL)
        continue;
      tt = vi->type && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ? vi->type->tensor_type : NULL;
      if (tt == NULL || !tt->has_elem_type)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "input '%s' is not a tensor", name);
          return FALSE;
        }
      if (!ane_onnx_elem_type_to_dtype (tt->elem_type, &dtype))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE, "input '%s' has element type %s, which is not supported",
                       name, ane_onnx_elem_type_name (tt->elem_type));
          return FALSE;
        }
      given = ane_onnx_import_options_get_value_internal (options, name);
      if (given != NULL)
        {
          AneTensor *c = bound_value (given, name, tt->elem_type, error);
          guint vrank = 0;
          const gint64 *vshape;

          if (c == NULL)
            return FALSE;
          c = fit_declared_shape (c, tt->shape);
          vshape = ane_tensor_get_shape (c, &vrank);
          if (tt->shape != NULL && tt->shape->n_dim != vrank)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                           "input '%s' has rank %" G_GSIZE_FORMAT " in the model, the value given for it rank %u",
                           name, tt->shape->n_dim, vrank);
              g_object_unref (c);
              return FALSE;
            }
          for (guint d = 0; tt->shape != NULL && d < vrank; d++)
            {
              const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];

              if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                  dim->dim_value > 0 && dim->dim_value != vshape[d])
                {
                  g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                               "input '%s': dim %u is %" G_GINT64_FORMAT " in the model, the value's is %"
                               G_GINT64_FORMAT, name, d, (gint64) dim->dim_value, vshape[d]);
                  g_object_unref (c);
                  return FALSE;
                }
            }
          ane_onnx_scope_bind (scope, name, c, NULL);
          continue;
        }
      if (!input_shape (vi, tt, options, shape, &rank, error))
        return FALSE;
      {
        g_autofree char *graph_name = interface_name (name, imp->interface_names);

        t = ane_graph_input (imp->graph, graph_name, dtype, shape, rank, error);
        if (t != NULL && imp->input_names != NULL)
          g_hash_table_replace (imp->input_names, g_strdup (name), g_strdup (graph_name));
      }
      if (t == NULL)
        return FALSE;
      ane_onnx_scope_bind (scope, name, NULL, t);
    }
  return TRUE;
}

static gboolean
declare_outputs (AneOnnxImporter *imp,
                 AneOnnxScope    *scope,
                 GError         **error)
{
  const Onnx__GraphProto *g = imp->model->graph;

  if (g->n_output == 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH, "the ONNX graph has no outputs");
      return FALSE;
    }
  for (gsize i = 0; i < g->n_output; i++)
    {
      const char *name = g->output[i]->name ? g->output[i]->name : "";
      AneOnnxValue *v = ane_onnx_scope_lookup (scope, name);
      AneTensor *t;

      if (v == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_GRAPH, "ONNX graph output '%s' is never computed", name);
          return FALSE;
        }
      if (v->tensor == NULL)
        {
          /* an output known at import time is a constant of the program;
           * int64 becomes int32 (with the range check) like any constant */
          g_autoptr(AneTensor) narrowed = NULL;

          if (ane_tensor_get_dtype (v->constant) == ANE_DTYPE_INT64)
            {
              gsize n = 0;
              const gint64 *vals = g_bytes_get_data (ane_tensor_get_data (v->constant), &n);
              guint rank = 0;
              const gint64 *shape = ane_tensor_get_shape (v->constant, &rank);
              g_autofree gint32 *w = g_new (gint32, MAX (n / 8, 1));

              for (gsize k = 0; k < n / 8; k++)
                {
                  if (vals[k] < G_MININT32 || vals[k] > G_MAXINT32)
                    {
                      g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW,
                                   "ONNX graph output '%s': int64 value %" G_GINT64_FORMAT
                                   " does not fit the int32 outputs are given as", name, vals[k]);
                      return FALSE;
                    }
                  w[k] = (gint32) vals[k];
                }
              narrowed = ane_tensor_new_from_ints (name, shape, rank, w, n / 8, error);
            }
          else
            narrowed = g_object_ref (v->constant);
          if (narrowed == NULL)
            return FALSE;
          v->tensor = ane_graph_const (imp->graph, narrowed, error);
          if (v->tensor == NULL)
            return FALSE;
        }
      t = v->tensor;
      {
        g_autofree char *graph_name = interface_name (name, imp->interface_names);

        if (!ane_graph_add_output (imp->graph, graph_name, t, error))
          return FALSE;
      }
    }
  return TRUE;
}

AneGraph *
ane_onnx_import_file (const char           *path,
                      AneOnnxImportOptions *options,
                      GHashTable           *input_names,
                      GError              **error)
{
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GError) local = NULL;
  Onnx__ModelProto *model;
  AneOnnxImporter imp = { 0 };
  g_autoptr(AneOnnxScope) scope = NULL;
  const Onnx__GraphProto *g;
  g_autofree char *unsupported = NULL;
  gsize size;
  gboolean ok = FALSE;

  file = g_mapped_file_new (path, FALSE, &local);
  if (file == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "cannot read ONNX model '%s': %s", path, local->message);
      return NULL;
    }
  size = g_mapped_file_get_length (file);
  if (size == 0 || size > ANE_ONNX_MAX_FILE_SIZE)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "'%s' is not an ONNX model: %" G_GSIZE_FORMAT " bytes", path, size);
      return NULL;
    }
  /* protobuf-c's decoder recurses once per nested message, and a graph
   * attribute nests a whole graph: bound the depth before decoding, as the
   * Core ML loader does (docs/safety.md) */
  if (!ane_protobuf_check_nesting (&onnx__model_proto__descriptor,
                                   (const guint8 *) g_mapped_file_get_contents (file), size,
                                   ANE_MIL_MAX_NESTING, path, error))
    return NULL;
  model = onnx__model_proto__unpack (NULL, size, (const uint8_t *) g_mapped_file_get_contents (file));
  if (model == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE,
                   "'%s' is not an ONNX model: its protobuf does not parse (truncated or not a ModelProto)",
                   path);
      return NULL;
    }

  imp.model = model;
  imp.model_dir = g_path_get_dirname (path);
  g = model->graph;
  if (g == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: the ONNX model has no graph", path);
      goto out;
    }
  if (!read_opsets (&imp, model, path, error) || !refuse_functions (model, path, error))
    goto out;
  if (g->n_sparse_initializer > 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s: sparse initializers are not supported", path);
      goto out;
    }
  unsupported = ane_onnx_list_unsupported (&imp, g);
  if (unsupported != NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s: %s", path, unsupported);
      goto out;
    }

  imp.graph = ane_graph_new ();
  imp.interface_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  imp.input_names = input_names;
  scope = ane_onnx_scope_new (NULL);
  for (gsize i = 0; i < g->n_initializer; i++)
    {
      AneTensor *t = ane_onnx_tensor_from_proto (g->initializer[i], imp.model_dir, error);

      if (t == NULL)
        goto out;
      ane_onnx_scope_bind (scope, g->initializer[i]->name ? g->initializer[i]->name : "", t, NULL);
    }
  if (!declare_inputs (&imp, scope, options, error) ||
      !ane_onnx_walk_nodes (&imp, g, scope, error) ||
      !declare_outputs (&imp, scope, error))
    goto out;
  ok = TRUE;

out:
  {
    AneGraph *result = ok ? g_steal_pointer (&imp.graph) : NULL;

    g_clear_pointer (&scope, ane_onnx_scope_free);   /* before the model it points into */
    importer_clear (&imp);
    onnx__model_proto__free_unpacked (model, NULL);
    if (!ok && error != NULL && *error != NULL && !g_str_has_prefix ((*error)->message, path))
      g_prefix_error (error, "%s: ", path);
    return result;
  }
}
