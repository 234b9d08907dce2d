/* ane-tool-onnx.c: `ane-tool convert model.onnx`'s options
 *
 * --input-shape NAME=1,3,640,640 binds an input's shape (its symbolic
 * dims); --input-value NAME=V[,V...] binds an input to a constant (one
 * value: a scalar; several: a 1-D tensor, or the input's declared static
 * shape when the count matches). Integers are kept exact as int64 and
 * converted by the importer to the input's ONNX element type.
 *
 * Flexible inputs: --input-range NAME=1,3,320..1280,320..* gives a size or
 * a range per axis, --input-shapes NAME=1,3,224,224;1,3,320,320 the shapes
 * an input may take (for any graph convert reads, not only ONNX).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-tool-private.h"

static gboolean
split_binding (const char  *option,
               const char  *text,
               char       **name,
               char      ***values,
               GError     **error)
{
  const char *eq = strchr (text, '=');

  if (eq == NULL || eq == text || eq[1] == '\0')
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "%s takes NAME=V[,V...], not '%s'", option, text);
      return FALSE;
    }
  *name = g_strndup (text, eq - text);
  *values = g_strsplit (eq + 1, ",", -1);
  return TRUE;
}

static AneTensor *
value_tensor (const char  *name,
              char       **items,
              GError     **error)
{
  guint n = g_strv_length (items);
  g_autofree gint64 *ints = g_new (gint64, MAX (n, 1));
  g_autofree float *floats = g_new (float, MAX (n, 1));
  gboolean integral = TRUE;
  gint64 shape[1] = { n };

  for (guint i = 0; i < n; i++)
    {
      char *end = NULL;
      gint64 v = g_ascii_strtoll (items[i], &end, 10);
      double d;

      if (end != items[i] && *end == '\0')
        {
          ints[i] = v;
          floats[i] = (float) v;
          continue;
        }
      integral = FALSE;
      d = g_ascii_strtod (items[i], &end);
      if (end == items[i] || *end != '\0')
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "--input-value %s: '%s' is not a number",
                       name, items[i]);
          return NULL;
        }
      floats[i] = (float) d;
    }
  if (integral)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (ints, n * sizeof (gint64));

      return ane_tensor_new_from_bytes (name, ANE_DTYPE_INT64, shape, n == 1 ? 0 : 1, bytes, error);
    }
  return ane_tensor_new_from_floats (name, shape, n == 1 ? 0 : 1, floats, n, error);
}

/* One --input-range: per axis the lower and upper size (-1: none). */
static gboolean
parse_range (const char  *text,
             char       **name,
             gint64      *lower,
             gint64      *upper,
             guint       *rank,
             GError     **error)
{
  g_auto(GStrv) items = NULL;

  if (!split_binding ("--input-range", text, name, &items, error))
    return FALSE;
  *rank = g_strv_length (items);
  if (*rank > ANE_MAX_RANK)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "--input-range %s: rank %u exceeds %d", *name,
                   *rank, ANE_MAX_RANK);
      return FALSE;
    }
  for (guint d = 0; d < *rank; d++)
    {
      g_auto(GStrv) ends = g_strsplit (items[d], "..", 2);
      guint64 lo, hi = 0;
      gboolean ok = g_ascii_string_to_unsigned (ends[0], 10, 1, G_MAXINT32, &lo, NULL);

      if (ok && ends[1] != NULL)
        ok = g_ascii_string_to_unsigned (ends[1], 10, lo, G_MAXINT32, &hi, NULL);
      if (!ok)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "--input-range %s: '%s' is neither a size "
                       "nor a range L..U (1 <= L <= U; an ML program takes no unbounded range)", *name, items[d]);
          return FALSE;
        }
      lower[d] = (gint64) lo;
      upper[d] = ends[1] == NULL ? (gint64) lo : (gint64) hi;
    }
  return TRUE;
}

/* One --input-shapes: the shapes one after the other. */
static gboolean
parse_shapes (const char  *text,
              char       **name,
              GArray     **values,
              guint       *rank,
              GError     **error)
{
  const char *eq = strchr (text, '=');
  g_auto(GStrv) shapes = NULL;

  if (eq == NULL || eq == text || eq[1] == '\0')
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "--input-shapes takes NAME=D,D,...;D,D,..., not '%s'", text);
      return FALSE;
    }
  *name = g_strndup (text, eq - text);
  shapes = g_strsplit (eq + 1, ";", -1);
  *values = g_array_new (FALSE, FALSE, sizeof (gint64));
  *rank = 0;
  for (guint s = 0; shapes[s] != NULL; s++)
    {
      g_auto(GStrv) items = g_strsplit (shapes[s], ",", -1);
      guint n = g_strv_length (items);

      if ((s > 0 && n != *rank) || n == 0 || n > ANE_MAX_RANK)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "--input-shapes %s: shape '%s' does not "
                       "have the rank of the first (%u, at most %d)", *name, shapes[s], *rank, ANE_MAX_RANK);
          return FALSE;
        }
      *rank = n;
      for (guint d = 0; d < n; d++)
        {
          guint64 v;
          gint64 size;

          if (!g_ascii_string_to_unsigned (items[d], 10, 1, G_MAXINT32, &v, NULL))
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                           "--input-shapes %s: dim '%s' is not a positive size", *name, items[d]);
              return FALSE;
            }
          size = (gint64) v;
          g_array_append_val (*values, size);
        }
    }
  return TRUE;
}

gboolean
ane_tool_apply_flexible (AneGraph               *graph,
                         const AneToolFlexible  *flexible,
                         GError                **error)
{
  for (guint i = 0; flexible->ranges != NULL && flexible->ranges[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      gint64 lower[ANE_MAX_RANK], upper[ANE_MAX_RANK];
      guint rank;

      if (!parse_range (flexible->ranges[i], &name, lower, upper, &rank, error))
        return FALSE;
      for (guint d = 0; d < rank; d++)
        if (lower[d] != upper[d] && !ane_graph_set_input_range (graph, name, d, lower[d], upper[d], error))
          return FALSE;
    }
  for (guint i = 0; flexible->shapes != NULL && flexible->shapes[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      g_autoptr(GArray) values = NULL;
      guint rank;

      if (!parse_shapes (flexible->shapes[i], &name, &values, &rank, error) ||
          !ane_graph_set_input_shapes (graph, name, (const gint64 *) (void *) values->data, values->len, error))
        return FALSE;
    }
  return TRUE;
}

AneGraph *
ane_tool_load_onnx (const char             *path,
                    char                  **input_shapes,
                    char                  **input_values,
                    const AneToolFlexible  *flexible,
                    GError                **error)
{
  g_autoptr(AneOnnxImportOptions) options = ane_onnx_import_options_new ();
  g_auto(GStrv) bound = NULL;

  for (guint i = 0; input_shapes != NULL && input_shapes[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      g_auto(GStrv) items = NULL;
      gint64 shape[ANE_MAX_RANK];
      guint rank;

      if (!split_binding ("--input-shape", input_shapes[i], &name, &items, error))
        return NULL;
      rank = g_strv_length (items);
      if (rank > ANE_MAX_RANK)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "--input-shape %s: rank %u exceeds %d",
                       name, rank, ANE_MAX_RANK);
          return NULL;
        }
      for (guint d = 0; d < rank; d++)
        {
          guint64 v;

          if (!g_ascii_string_to_unsigned (items[d], 10, 1, G_MAXINT32, &v, NULL))
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                           "--input-shape %s: dim '%s' is not a positive size", name, items[d]);
              return NULL;
            }
          shape[d] = (gint64) v;
        }
      ane_onnx_import_options_set_input_shape (options, name, shape, rank);
    }
  for (guint i = 0; input_values != NULL && input_values[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      g_auto(GStrv) items = NULL;
      g_autoptr(AneTensor) value = NULL;

      if (!split_binding ("--input-value", input_values[i], &name, &items, error) ||
          (value = value_tensor (name, items, error)) == NULL)
        return NULL;
      ane_onnx_import_options_set_input_value (options, name, value);
    }
  bound = ane_onnx_import_options_list_inputs (options);
  for (guint i = 0; flexible != NULL && flexible->ranges != NULL && flexible->ranges[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      gint64 lower[ANE_MAX_RANK], upper[ANE_MAX_RANK];
      guint rank;

      if (!parse_range (flexible->ranges[i], &name, lower, upper, &rank, error))
        return NULL;
      if (!g_strv_contains ((const char *const *) bound, name))
        ane_onnx_import_options_set_input_shape (options, name, lower, rank);
      for (guint d = 0; d < rank; d++)
        if (lower[d] != upper[d])
          ane_onnx_import_options_set_input_range (options, name, d, lower[d], upper[d]);
    }
  for (guint i = 0; flexible != NULL && flexible->shapes != NULL && flexible->shapes[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      g_autoptr(GArray) values = NULL;
      guint rank;

      if (!parse_shapes (flexible->shapes[i], &name, &values, &rank, error))
        return NULL;
      if (!g_strv_contains ((const char *const *) bound, name))
        ane_onnx_import_options_set_input_shape (options, name, (const gint64 *) (void *) values->data, rank);
      ane_onnx_import_options_set_input_shapes (options, name, (const gint64 *) (void *) values->data, values->len);
    }
  return ane_graph_load_onnx (path, options, error);
}
