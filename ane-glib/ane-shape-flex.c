/* ane-shape-flex.c: an input whose shape may vary, as Core ML declares one
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-private.h"
#include "ane-shape-flex-private.h"

AneShapeFlex *
ane_shape_flex_new_fixed (const gint64 *shape,
                          guint         rank)
{
  AneShapeFlex *flex = g_new0 (AneShapeFlex, 1);

  g_return_val_if_fail (rank <= ANE_MAX_RANK, NULL);
  flex->kind = ANE_SHAPE_FLEX_RANGE;
  flex->rank = rank;
  for (guint i = 0; i < rank; i++)
    flex->dflt[i] = flex->lower[i] = flex->upper[i] = shape[i];
  return flex;
}

static gboolean
same_shape (const gint64 *a,
            const gint64 *b,
            guint         rank)
{
  return rank == 0 || memcmp (a, b, rank * sizeof (gint64)) == 0;
}

static void
append_shape (GString      *s,
              const gint64 *shape,
              guint         rank)
{
  g_string_append_c (s, '[');
  for (guint i = 0; i < rank; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, ']');
}

AneShapeFlex *
ane_shape_flex_new_enumerated (const char    *what,
                               const gint64  *dflt,
                               guint          rank,
                               const gint64  *shapes,
                               gsize          n_values,
                               GError       **error)
{
  g_autoptr(AneShapeFlex) flex = NULL;
  gsize n_shapes;
  gboolean has_default = FALSE;

  if (rank == 0 || n_values == 0 || n_values % rank != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: enumerated shapes need whole shapes of rank %u, got %" G_GSIZE_FORMAT " values",
                   what, rank, n_values);
      return NULL;
    }
  n_shapes = n_values / rank;
  if (n_shapes > ANE_SHAPE_FLEX_MAX_SHAPES)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: %" G_GSIZE_FORMAT " enumerated shapes; Core ML takes at most %d",
                   what, n_shapes, ANE_SHAPE_FLEX_MAX_SHAPES);
      return NULL;
    }
  for (gsize s = 0; s < n_shapes; s++)
    {
      const gint64 *shape = shapes + s * rank;

      for (guint i = 0; i < rank; i++)
        if (shape[i] < 1 || shape[i] > G_MAXINT32)
          {
            g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                         "%s: enumerated shape %" G_GSIZE_FORMAT " has size %" G_GINT64_FORMAT
                         " on axis %u; sizes are 1 to %d", what, s, shape[i], i, G_MAXINT32);
            return NULL;
          }
      for (gsize t = 0; t < s; t++)
        if (same_shape (shapes + t * rank, shape, rank))
          {
            g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                         "%s: enumerated shapes %" G_GSIZE_FORMAT " and %" G_GSIZE_FORMAT " are the same",
                         what, t, s);
            return NULL;
          }
      has_default = has_default || same_shape (shape, dflt, rank);
    }
  if (!has_default)
    {
      g_autoptr(GString) s = g_string_new (NULL);

      append_shape (s, dflt, rank);
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: the enumerated shapes must include the input's declared shape %s (the default)",
                   what, s->str);
      return NULL;
    }
  flex = ane_shape_flex_new_fixed (dflt, rank);
  flex->kind = ANE_SHAPE_FLEX_ENUMERATED;
  flex->n_shapes = (guint) n_shapes;
  /* the default first, the others in their order: how coremltools writes
   * them (EnumeratedShapes puts its default at the front) */
  flex->shapes = g_new (gint64, n_values);
  memcpy (flex->shapes, dflt, rank * sizeof (gint64));
  for (gsize s = 0, k = 1; s < n_shapes; s++)
    if (!same_shape (shapes + s * rank, dflt, rank))
      memcpy (flex->shapes + (k++) * rank, shapes + s * rank, rank * sizeof (gint64));
  return g_steal_pointer (&flex);
}

AneShapeFlex *
ane_shape_flex_copy (const AneShapeFlex *flex)
{
  AneShapeFlex *copy = g_memdup2 (flex, sizeof *flex);

  if (flex->shapes != NULL)
    copy->shapes = g_memdup2 (flex->shapes, (gsize) flex->n_shapes * flex->rank * sizeof (gint64));
  return copy;
}

void
ane_shape_flex_free (AneShapeFlex *flex)
{
  if (flex == NULL)
    return;
  g_free (flex->shapes);
  g_free (flex);
}

gboolean
ane_shape_flex_set_range (AneShapeFlex  *flex,
                          const char    *what,
                          guint          axis,
                          gint64         lower,
                          gint64         upper,
                          GError       **error)
{
  if (flex->kind != ANE_SHAPE_FLEX_RANGE)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s has enumerated shapes; Core ML declares either enumerated shapes or ranges, not both",
                   what);
      return FALSE;
    }
  if (axis >= flex->rank)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "%s: axis %u is out of range for rank %u",
                   what, axis, flex->rank);
      return FALSE;
    }
  if (lower < 1 || lower > flex->dflt[axis] || (upper != -1 && upper < flex->dflt[axis]) ||
      upper > G_MAXINT32 || upper < -1)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s: axis %u: the range %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT " must hold the declared "
                   "size %" G_GINT64_FORMAT " (the default): 1 <= lower <= %" G_GINT64_FORMAT " <= upper <= %d",
                   what, axis, lower, upper, flex->dflt[axis], flex->dflt[axis], G_MAXINT32);
      return FALSE;
    }
  flex->lower[axis] = lower;
  flex->upper[axis] = upper;
  return TRUE;
}

gboolean
ane_shape_flex_is_flexible (const AneShapeFlex *flex)
{
  if (flex->kind == ANE_SHAPE_FLEX_ENUMERATED)
    return flex->n_shapes > 1;
  for (guint i = 0; i < flex->rank; i++)
    if (flex->lower[i] != flex->upper[i])
      return TRUE;
  return FALSE;
}

char *
ane_shape_flex_to_string (const AneShapeFlex *flex)
{
  GString *s = g_string_new (NULL);

  if (flex->kind == ANE_SHAPE_FLEX_ENUMERATED)
    {
      g_string_append_c (s, '{');
      for (guint k = 0; k < flex->n_shapes; k++)
        {
          if (k > 0)
            g_string_append (s, ", ");
          append_shape (s, flex->shapes + (gsize) k * flex->rank, flex->rank);
        }
      g_string_append_c (s, '}');
      return g_string_free (s, FALSE);
    }
  g_string_append_c (s, '[');
  for (guint i = 0; i < flex->rank; i++)
    {
      if (i > 0)
        g_string_append (s, ", ");
      if (flex->lower[i] == flex->upper[i])
        g_string_append_printf (s, "%" G_GINT64_FORMAT, flex->lower[i]);
      else if (flex->upper[i] < 0)
        g_string_append_printf (s, "%" G_GINT64_FORMAT "..*", flex->lower[i]);
      else
        g_string_append_printf (s, "%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, flex->lower[i], flex->upper[i]);
    }
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

gboolean
ane_shape_flex_check (const AneShapeFlex  *flex,
                      const char          *what,
                      const gint64        *shape,
                      guint                rank,
                      GError             **error)
{
  g_autofree char *allowed = NULL;

  if (rank != flex->rank)
    {
      allowed = ane_shape_flex_to_string (flex);
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "%s has rank %u; it takes %s", what, rank, allowed);
      return FALSE;
    }
  if (flex->kind == ANE_SHAPE_FLEX_ENUMERATED)
    {
      g_autoptr(GString) got = g_string_new (NULL);

      for (guint k = 0; k < flex->n_shapes; k++)
        if (same_shape (flex->shapes + (gsize) k * rank, shape, rank))
          return TRUE;
      allowed = ane_shape_flex_to_string (flex);
      append_shape (got, shape, rank);
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "%s is %s, none of its enumerated shapes %s",
                   what, got->str, allowed);
      return FALSE;
    }
  for (guint i = 0; i < rank; i++)
    if (shape[i] < flex->lower[i] || (flex->upper[i] >= 0 && shape[i] > flex->upper[i]))
      {
        allowed = ane_shape_flex_to_string (flex);
        g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                     "%s has size %" G_GINT64_FORMAT " on axis %u; it takes %s", what, shape[i], i, allowed);
        return FALSE;
      }
  return TRUE;
}

/* Two sizes in [lower, upper] (upper -1: unbounded) other than dflt,
 * preferring sizes above 1 and near the default (the cost of lowering
 * grows with the size), a step away that keeps the default's powers of
 * two: convolution nets take sizes that strides divide (640 → 512, 768;
 * a sequence length 5 → 4, 6). */
static void
range_probes (gint64  lower,
              gint64  upper,
              gint64  dflt,
              gint64 *a,
              gint64 *b)
{
  gint64 candidates[8];
  guint n = 0, found = 0;
  gint64 hi = upper < 0 ? G_MAXINT32 : upper;
  gint64 step = dflt & -dflt;   /* the largest power of two dividing it */

  candidates[n++] = dflt + step;
  candidates[n++] = dflt - step;
  candidates[n++] = dflt + 2 * step;
  candidates[n++] = dflt - 2 * step;
  candidates[n++] = dflt + 1;
  candidates[n++] = dflt - 1;
  candidates[n++] = lower;
  candidates[n++] = hi;
  *a = *b = dflt;
  for (guint pass = 0; pass < 2 && found < 2; pass++)
    for (guint i = 0; i < n && found < 2; i++)
      {
        gint64 c = candidates[i];

        if (c < lower || c > hi || c == dflt || (pass == 0 && c == 1) || (found == 1 && c == *a))
          continue;
        if (found++ == 0)
          *a = c;
        else
          *b = c;
      }
  if (found == 1)
    *b = *a;
}

gint64 *
ane_shape_flex_probes (const AneShapeFlex *flex,
                       guint              *n_probes)
{
  gint64 *probes;

  if (flex->kind == ANE_SHAPE_FLEX_ENUMERATED)
    {
      guint k = 0;

      probes = g_new (gint64, (gsize) MAX (flex->n_shapes, 1) * MAX (flex->rank, 1));
      for (guint s = 0; s < flex->n_shapes; s++)
        if (!same_shape (flex->shapes + (gsize) s * flex->rank, flex->dflt, flex->rank))
          memcpy (probes + (gsize) (k++) * flex->rank, flex->shapes + (gsize) s * flex->rank,
                  flex->rank * sizeof (gint64));
      *n_probes = k;
      return probes;
    }
  probes = g_new (gint64, 2 * (gsize) MAX (flex->rank, 1));
  for (guint i = 0; i < flex->rank; i++)
    range_probes (flex->lower[i], flex->upper[i], flex->dflt[i], &probes[i], &probes[flex->rank + i]);
  *n_probes = ane_shape_flex_is_flexible (flex) ? 2 : 0;
  return probes;
}

void
ane_shape_flex_describe (const AneShapeFlex        *flex,
                         AneCoreMLArrayFeatureType *array)
{
  if (flex->kind == ANE_SHAPE_FLEX_ENUMERATED)
    {
      CoreML__Specification__ArrayFeatureType__EnumeratedShapes *e =
        g_new (CoreML__Specification__ArrayFeatureType__EnumeratedShapes, 1);

      core_ml__specification__array_feature_type__enumerated_shapes__init (e);
      e->n_shapes = flex->n_shapes;
      e->shapes = g_new (CoreML__Specification__ArrayFeatureType__Shape *, MAX (flex->n_shapes, 1));
      for (guint s = 0; s < flex->n_shapes; s++)
        {
          CoreML__Specification__ArrayFeatureType__Shape *shape = g_new (CoreML__Specification__ArrayFeatureType__Shape, 1);

          core_ml__specification__array_feature_type__shape__init (shape);
          shape->n_shape = flex->rank;
          shape->shape = g_memdup2 (flex->shapes + (gsize) s * flex->rank, MAX (flex->rank, 1) * sizeof (int64_t));
          e->shapes[s] = shape;
        }
      array->shape_flexibility_case = CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_ENUMERATED_SHAPES;
      array->enumeratedshapes = e;
      return;
    }
  {
    CoreML__Specification__ArrayFeatureType__ShapeRange *r = g_new (CoreML__Specification__ArrayFeatureType__ShapeRange, 1);

    core_ml__specification__array_feature_type__shape_range__init (r);
    r->n_sizeranges = flex->rank;
    r->sizeranges = g_new (CoreML__Specification__SizeRange *, MAX (flex->rank, 1));
    for (guint i = 0; i < flex->rank; i++)
      {
        CoreML__Specification__SizeRange *size = g_new (CoreML__Specification__SizeRange, 1);

        core_ml__specification__size_range__init (size);
        size->lowerbound = (uint64_t) flex->lower[i];
        size->upperbound = flex->upper[i];
        r->sizeranges[i] = size;
      }
    array->shape_flexibility_case = CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_SHAPE_RANGE;
    array->shaperange = r;
  }
}

AneShapeFlex *
ane_shape_flex_from_array (const AneCoreMLArrayFeatureType  *array,
                           const char                       *what,
                           const gint64                     *dflt,
                           guint                             rank,
                           GError                          **error)
{
  g_autoptr(AneShapeFlex) flex = NULL;

  if (array->shape_flexibility_case == CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_ENUMERATED_SHAPES &&
      array->enumeratedshapes != NULL)
    {
      const CoreML__Specification__ArrayFeatureType__EnumeratedShapes *e = array->enumeratedshapes;
      g_autofree gint64 *values = NULL;

      if (e->n_shapes > ANE_SHAPE_FLEX_MAX_SHAPES)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: %" G_GSIZE_FORMAT " enumerated shapes; "
                       "Core ML takes at most %d", what, e->n_shapes, ANE_SHAPE_FLEX_MAX_SHAPES);
          return NULL;
        }
      values = g_new (gint64, MAX (e->n_shapes, 1) * MAX (rank, 1));
      for (gsize s = 0; s < e->n_shapes; s++)
        {
          if (e->shapes[s] == NULL || e->shapes[s]->n_shape != rank)
            {
              g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: enumerated shape %" G_GSIZE_FORMAT
                           " does not have the input's rank %u", what, s, rank);
              return NULL;
            }
          memcpy (values + s * rank, e->shapes[s]->shape, rank * sizeof (gint64));
        }
      return ane_shape_flex_new_enumerated (what, dflt, rank, values, e->n_shapes * rank, error);
    }
  if (array->shape_flexibility_case == CORE_ML__SPECIFICATION__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_SHAPE_RANGE &&
      array->shaperange != NULL)
    {
      const CoreML__Specification__ArrayFeatureType__ShapeRange *r = array->shaperange;

      if (r->n_sizeranges != rank)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: %" G_GSIZE_FORMAT " size ranges for rank %u",
                       what, r->n_sizeranges, rank);
          return NULL;
        }
      flex = ane_shape_flex_new_fixed (dflt, rank);
      for (guint i = 0; i < rank; i++)
        {
          const CoreML__Specification__SizeRange *size = r->sizeranges[i];

          if (size == NULL || size->lowerbound > G_MAXINT32 ||
              !ane_shape_flex_set_range (flex, what, i, (gint64) size->lowerbound, size->upperbound, error))
            {
              if (error != NULL && *error == NULL)
                g_set_error (error, ANE_ERROR, ANE_ERROR_PARSE, "%s: size range %u is malformed", what, i);
              return NULL;
            }
        }
      return g_steal_pointer (&flex);
    }
  return NULL;
}
