/* ane-infer-test-util.c: helpers for tests of the type-inference mirror
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ane-infer-test-util.h"

/* "[2, ?, 3]" -> dims; "" -> rank 0. */
static guint
parse_shape (const char *text,
             gint64     *shape)
{
  guint rank = 0;
  const char *p = text;

  while (*p == ' ')
    p++;
  if (*p == '\0')
    return 0;
  g_assert_true (*p == '[');
  p++;
  while (*p != ']')
    {
      char *end;

      while (*p == ' ' || *p == ',')
        p++;
      if (*p == ']')
        break;
      g_assert_cmpuint (rank, <, ANE_MIL_INFER_MAX_RANK);
      if (*p == '?')
        {
          shape[rank++] = ANE_MIL_DIM_UNKNOWN;
          p++;
          continue;
        }
      shape[rank++] = g_ascii_strtoll (p, &end, 10);
      g_assert_true (end != p);
      p = end;
    }
  return rank;
}

AneMilVal *
ane_test_val (int         dtype,
              const char *shape)
{
  gint64 dims[ANE_MIL_INFER_MAX_RANK];
  guint rank = parse_shape (shape, dims);

  return ane_mil_val_new (dtype, dims, rank);
}

AneMilVal *
ane_test_state (int         dtype,
                const char *shape)
{
  gint64 dims[ANE_MIL_INFER_MAX_RANK];
  guint rank = parse_shape (shape, dims);

  return ane_mil_val_new_state (dtype, dims, rank);
}

AneMilVal *
ane_test_const_val (int         dtype,
                    const char *shape)
{
  AneMilVal *v = ane_test_val (dtype, shape);

  v->const_descendant = TRUE;
  return v;
}

AneMilVal *
ane_test_ints (const char *values)
{
  const char *p = values;
  gint64 v[ANE_MIL_INFER_MAX_VALUES];
  gsize n = 0;

  while (*p == ' ')
    p++;
  if (*p != '[')
    return ane_mil_val_new_int (g_ascii_strtoll (p, NULL, 10));
  p++;
  while (*p != ']')
    {
      char *end;

      while (*p == ' ' || *p == ',')
        p++;
      if (*p == ']')
        break;
      v[n++] = g_ascii_strtoll (p, &end, 10);
      g_assert_true (end != p);
      p = end;
    }
  return ane_mil_val_new_ints (v, n);
}

AneMilVal *
ane_test_float (int    dtype,
                double value)
{
  return ane_mil_val_new_float (dtype, value);
}

AneMilVal *
ane_test_bool (gboolean value)
{
  return ane_mil_val_new_bool (value);
}

AneMilVal *
ane_test_str (const char *value)
{
  return ane_mil_val_new_string (value);
}

static AneMilInferCall *
build_call (AneMilTarget  target,
            const char   *op,
            guint         n_declared,
            va_list       args)
{
  AneMilInferCall *call = ane_mil_infer_call_new (op, op, target, n_declared);

  for (const char *param = va_arg (args, const char *); param != NULL; param = va_arg (args, const char *))
    ane_mil_infer_call_bind (call, param, va_arg (args, AneMilVal *));
  return call;
}

AneMilInferCall *
ane_test_infer (AneMilTarget  target,
                const char   *op,
                guint         n_declared,
                ...)
{
  g_autoptr(GError) error = NULL;
  AneMilInferCall *call;
  va_list args;

  va_start (args, n_declared);
  call = build_call (target, op, n_declared, args);
  va_end (args);
  if (!ane_mil_infer_call_run (call, &error))
    g_error ("%s at %s: %s", op, ane_mil_target_name (target), error->message);
  return call;
}

GError *
ane_test_infer_error (AneMilTarget  target,
                      const char   *op,
                      guint         n_declared,
                      AneError      code,
                      ...)
{
  g_autoptr(AneMilInferCall) call = NULL;
  GError *error = NULL;
  va_list args;

  va_start (args, code);
  call = build_call (target, op, n_declared, args);
  va_end (args);
  if (ane_mil_infer_call_run (call, &error))
    {
      GString *s = g_string_new (NULL);

      for (guint i = 0; i < ane_mil_infer_call_n_outputs (call); i++)
        {
          g_autofree char *t = ane_mil_val_type_string (ane_mil_infer_call_output (call, i));
          g_string_append_printf (s, "%s%s", i ? ", " : "", t);
        }
      g_error ("%s at %s: expected error %d, but it inferred %s", op, ane_mil_target_name (target),
               (int) code, s->str);
    }
  if (!g_error_matches (error, ANE_ERROR, code))
    g_error ("%s at %s: expected error %d, got %d: %s", op, ane_mil_target_name (target),
             (int) code, error->code, error->message);
  return error;
}

void
ane_test_assert_type_impl (AneMilInferCall *call,
                           guint            i,
                           const char      *expected,
                           const char      *file,
                           int              line)
{
  g_autofree char *got = NULL;

  if (i >= ane_mil_infer_call_n_outputs (call))
    g_error ("%s:%d: %s has %u outputs, no output %u", file, line, call->op,
             ane_mil_infer_call_n_outputs (call), i);
  got = ane_mil_val_type_string (ane_mil_infer_call_output (call, i));
  if (strcmp (got, expected) != 0)
    g_error ("%s:%d: %s output %u: expected %s, inferred %s", file, line, call->op, i, expected, got);
}

void
ane_test_assert_out_values (AneMilInferCall *call,
                        guint            i,
                        const char      *expected)
{
  const AneMilVal *v = ane_mil_infer_call_output (call, i);
  GString *s = g_string_new ("[");
  g_autofree char *got = NULL;

  g_assert_nonnull (v);
  g_assert_nonnull (v->values);
  for (gsize k = 0; k < v->n_values; k++)
    g_string_append_printf (s, "%s%g", k ? ", " : "", v->values[k]);
  g_string_append_c (s, ']');
  got = g_string_free (s, FALSE);
  g_assert_cmpstr (got, ==, expected);
}
