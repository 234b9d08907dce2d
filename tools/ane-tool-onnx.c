/* ane-tool-onnx.c: `ane-tool convert model.onnx`'s options
 *
 * --input-shape NAME=1,3,640,640 binds an input's shape (its symbolic
 * dims); --input-value NAME=V[,V...] binds an input to a constant (one
 * value: a scalar; several: a 1-D tensor, or the input's declared static
 * shape when the count matches). Integers are kept exact as int64 and
 * converted by the importer to the input's ONNX element type.
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

AneGraph *
ane_tool_load_onnx (const char  *path,
                    char       **input_shapes,
                    char       **input_values,
                    GError     **error)
{
  g_autoptr(AneOnnxImportOptions) options = ane_onnx_import_options_new ();

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
  return ane_graph_load_onnx (path, options, error);
}
