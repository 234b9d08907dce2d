/* mil/infer/ane-mil-infer-reduce.c: type-inference rules, reductions, gather/scatter, argsort, topk, cumsum
 *
 * Each rule mirrors the type_inference (and the checks it makes) of the
 * coremltools op class named in its row's source (ane-mil-opdefs.c), paths
 * relative to coremltools/converters/mil/mil/ops/defs/ in coremltools 9.0.
 *
 * Most of these classes index Python lists and tuples with the axis they are
 * given, so an axis outside [-rank, rank) raises IndexError there, and a
 * negative one that is normalised once (axis + rank) may still index from
 * the end. The helpers py_index and py_slice_start reproduce exactly that.
 *
 * Where coremltools also runs the op's value_inference (every input's value
 * known: here, x and indices consts the mirror holds), numpy can raise on
 * values the type inference let through (an out-of-range index, an axis
 * numpy refuses); the rules check those cases too. gather, whose value
 * later types may depend on (shape -> gather -> reshape), and
 * gather_along_axis are folded; the other ops keep no value.
 *
 * A const parameter whose value decides the type but that the mirror does not
 * hold (coremltools always knows it) makes the rule fail with
 * ANE_ERROR_UNSUPPORTED: the mirror cannot judge that call.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/ane-mil-text-private.h"
#include "mil/infer/ane-mil-infer-rules-private.h"

/* Room for a shape built from two others (gather: x's and indices'). */
#define SHAPE_ROOM (2 * ANE_MIL_INFER_MAX_RANK)

/* --- helpers ------------------------------------------------------------ */

static gboolean
unknown_value (AneMilInferCall  *call,
               const char       *param,
               GError          **error)
{
  g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "MIL %s '%s' at %s: the value of '%s' decides "
               "the output type, but the type-inference mirror does not know it",
               call->op, call->name, ane_mil_target_name (call->target), param);
  return FALSE;
}

/* A scalar int param (const in every row of this family), or its default. */
static gboolean
get_int (AneMilInferCall  *call,
         const char       *param,
         gint64            default_value,
         gint64           *value,
         GError          **error)
{
  const AneMilVal *v = ane_mil_infer_arg (call, param);

  if (v != NULL && v->kind == ANE_MIL_VAL_TENSOR && v->rank != 0)
    return ane_mil_infer_fail (call, error, "'%s' must be a scalar (coremltools uses it as one index)",
                               param);
  if (!ane_mil_infer_int (call, param, default_value, value))
    return unknown_value (call, param, error);
  return TRUE;
}

static gboolean
get_bool (AneMilInferCall  *call,
          const char       *param,
          gboolean          default_value,
          gboolean         *value,
          GError          **error)
{
  if (!ane_mil_infer_bool (call, param, default_value, value))
    return unknown_value (call, param, error);
  return TRUE;
}

/* Values the mirror does not model (lists, ranks above
 * ANE_MIL_INFER_MAX_RANK) give outputs it does not model either. */
static gboolean
any_other (AneMilInferCall *call,
           guint            n_outputs,
           ...)
{
  gboolean other = FALSE;
  va_list args;

  va_start (args, n_outputs);
  for (const AneMilVal *v = va_arg (args, const AneMilVal *); v != NULL; v = va_arg (args, const AneMilVal *))
    if (v->kind == ANE_MIL_VAL_OTHER)
      other = TRUE;
  va_end (args);
  if (other)
    for (guint i = 0; i < n_outputs; i++)
      g_ptr_array_add (call->outputs, ane_mil_val_new_other ());
  return other;
}

/* Python's seq[i] on a sequence of len items: FALSE where it raises
 * IndexError. */
static gboolean
py_index (gint64  i,
          guint   len,
          guint  *out)
{
  if (i < -(gint64) len || i >= (gint64) len)
    return FALSE;
  *out = (guint) (i < 0 ? i + (gint64) len : i);
  return TRUE;
}

/* Where Python's seq[start:] begins in a sequence of len items. */
static guint
py_slice_start (gint64 start,
                guint  len)
{
  if (start < 0)
    start += len;
  return (guint) CLAMP (start, 0, (gint64) len);
}

/* Appends dims[from, to) to shape (of *rank dimensions). */
static void
append_dims (gint64       *shape,
             guint        *rank,
             const gint64 *dims,
             guint         from,
             guint         to)
{
  for (guint i = from; i < to; i++)
    shape[(*rank)++] = dims[i];
}

/* types/symbolic.py, is_compatible_symbolic_vector: the same length, and
 * equal dimensions where neither is symbolic. */
static gboolean
dims_compatible (const gint64 *a,
                 guint         na,
                 const gint64 *b,
                 guint         nb)
{
  if (na != nb)
    return FALSE;
  for (guint i = 0; i < na; i++)
    if (a[i] >= 0 && b[i] >= 0 && a[i] != b[i])
      return FALSE;
  return TRUE;
}

static gboolean
fail_shape (AneMilInferCall  *call,
            GError          **error,
            const char       *what,
            const gint64     *got,
            guint             n_got,
            const gint64     *want,
            guint             n_want)
{
  g_autofree char *g = ane_mil_infer_dims_string (got, n_got);
  g_autofree char *w = ane_mil_infer_dims_string (want, n_want);

  return ane_mil_infer_fail (call, error, "%s has shape %s, but it must be %s", what, g, w);
}

/* The axis check the gather and scatter classes make before anything else
 * (an IndexError in coremltools): axis in [-rank, rank), made non-negative. */
static gboolean
gs_axis (AneMilInferCall  *call,
         const AneMilVal  *x,
         const char       *x_name,
         gint64           *given,
         guint            *axis,
         GError          **error)
{
  gint64 a;

  if (!get_int (call, "axis", 0, &a, error))
    return FALSE;
  if (given != NULL)
    *given = a;
  if (a < -(gint64) x->rank || a >= (gint64) x->rank)
    return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of bounds for %s of rank %u",
                               a, x_name, x->rank);
  *axis = (guint) (a < 0 ? a + x->rank : a);
  return TRUE;
}

/* iOS17 validate_indices of the ops that index one axis (gather,
 * gather_along_axis, scatter, scatter_along_axis): with validate_indices
 * true and the indices known, every index must lie in [0, bound). numpy
 * compares them with the dimension itself, so a symbolic one raises too. */
static gboolean
validate_axis_indices (AneMilInferCall  *call,
                       const AneMilVal  *indices,
                       gint64            bound,
                       GError          **error)
{
  gboolean validate;

  if (indices->values == NULL || indices->n_values == 0)
    return TRUE;
  if (!get_bool (call, "validate_indices", FALSE, &validate, error))
    return FALSE;
  if (!validate)
    return TRUE;
  if (bound < 0)
    return ane_mil_infer_fail (call, error, "validate_indices compares the indices with a symbolic "
                               "dimension, which coremltools cannot decide");
  for (gsize i = 0; i < indices->n_values; i++)
    if (indices->values[i] < 0 || indices->values[i] >= (double) bound)
      return ane_mil_infer_fail (call, error, "index %g is out of bounds [0, %" G_GINT64_FORMAT ") "
                                 "(validate_indices)", indices->values[i], bound);
  return TRUE;
}

/* iOS17 validate_indices of gather_nd and scatter_nd: numpy compares the
 * indices (last dimension k) with the whole shape of x (r dimensions) by
 * broadcasting, batch_dims ignored, so k must be r or 1, or r 1; each
 * index must lie in [0, the dimension it meets). */
static gboolean
validate_nd_indices (AneMilInferCall  *call,
                     const AneMilVal  *indices,
                     const AneMilVal  *x,
                     GError          **error)
{
  gboolean validate;
  guint k, r = x->rank, width;
  gsize rows;

  if (indices->values == NULL)
    return TRUE;
  if (!get_bool (call, "validate_indices", FALSE, &validate, error))
    return FALSE;
  if (!validate)
    return TRUE;
  k = (guint) indices->shape[indices->rank - 1];
  if (k != r && k != 1 && r != 1)
    return ane_mil_infer_fail (call, error, "validate_indices compares indices (last dimension %u) "
                               "with the %u dimensions of the shape, which do not broadcast", k, r);
  width = k == 1 ? r : k;
  rows = k > 0 ? indices->n_values / k : 0;
  if (width == 0 || rows == 0)
    return TRUE;
  for (guint j = 0; j < width; j++)
    if (x->shape[r == 1 ? 0 : j] < 0)
      return ane_mil_infer_fail (call, error, "validate_indices compares the indices with a symbolic "
                                 "dimension, which coremltools cannot decide");
  for (gsize row = 0; row < rows; row++)
    for (guint j = 0; j < width; j++)
      {
        double v = indices->values[row * k + (k == 1 ? 0 : j)];
        gint64 bound = x->shape[r == 1 ? 0 : j];

        if (v < 0 || v >= (double) bound)
          return ane_mil_infer_fail (call, error, "index %g is out of bounds [0, %" G_GINT64_FORMAT ") "
                                     "(validate_indices)", v, bound);
      }
  return TRUE;
}

/* numpy's take/put along an axis of size n accepts indices in [-n, n). */
static gboolean
check_take_range (AneMilInferCall  *call,
                  const AneMilVal  *indices,
                  gint64            n,
                  GError          **error)
{
  for (gsize i = 0; i < indices->n_values; i++)
    if (indices->values[i] < (double) -n || indices->values[i] >= (double) n)
      return ane_mil_infer_fail (call, error, "index %g is out of bounds for an axis of size %"
                                 G_GINT64_FORMAT " (coremltools' value inference)", indices->values[i], n);
  return TRUE;
}

static gint64
dims_product (const gint64 *dims,
              guint         from,
              guint         to)
{
  gint64 n = 1;

  for (guint i = from; i < to; i++)
    n *= dims[i];
  return n;
}

/* --- reductions --------------------------------------------------------- */

/* iOS15/reduction.py, class ReductionAxes.type_inference (lines 34-54),
 * shared by the ten reduce_* ops over axes: with axes absent every axis is
 * reduced; keep_dims (default false) sets each listed dimension to 1 by
 * Python indexing (an axis outside [-rank, rank) raises), otherwise the
 * axes, made non-negative by adding the rank once, are sorted and popped
 * from the back, so a repeated axis removes a second dimension and one
 * below -rank may still pop from the end. Nothing left gives a scalar of
 * x's dtype. value_inference (lines 56-60) hands the axes to numpy, which
 * refuses an axis outside [-rank, rank) or a repeated one. */
static gboolean
reduce_axes (AneMilInferCall  *call,
             GError          **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  const AneMilVal *axes_val = ane_mil_infer_arg (call, "axes");
  gint64 shape[ANE_MIL_INFER_MAX_RANK], all[ANE_MIL_INFER_MAX_RANK];
  g_autofree gint64 *norm = NULL;
  gint64 *axes = NULL;
  gsize n_axes;
  gboolean keep_dims;
  guint rank;

  if (any_other (call, 1, x, NULL))
    return TRUE;
  if (!get_bool (call, "keep_dims", FALSE, &keep_dims, error))
    return FALSE;
  if (axes_val == NULL)
    {
      for (guint i = 0; i < x->rank; i++)
        all[i] = i;
      axes = all;
      n_axes = x->rank;
    }
  else
    {
      if (axes_val->kind == ANE_MIL_VAL_TENSOR && axes_val->rank != 1)
        return ane_mil_infer_fail (call, error, "axes must be a 1-D tensor (coremltools iterates over it)");
      if (!ane_mil_infer_ints (call, "axes", &axes, &n_axes))
        return unknown_value (call, "axes", error);
    }

  memcpy (shape, x->shape, x->rank * sizeof (gint64));
  rank = x->rank;
  if (keep_dims)
    {
      for (gsize i = 0; i < n_axes; i++)
        {
          guint at;

          if (!py_index (axes[i], rank, &at))
            return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of range for x of "
                                       "rank %u", axes[i], x->rank);
          shape[at] = 1;
        }
    }
  else
    {
      norm = g_new (gint64, MAX (n_axes, 1));
      for (gsize i = 0; i < n_axes; i++)
        norm[i] = axes[i] >= 0 ? axes[i] : axes[i] + x->rank;
      /* sorted, then popped from the largest down */
      for (gsize i = 1; i < n_axes; i++)
        for (gsize j = i; j > 0 && norm[j - 1] > norm[j]; j--)
          {
            gint64 t = norm[j];

            norm[j] = norm[j - 1];
            norm[j - 1] = t;
          }
      for (gsize i = n_axes; i-- > 0;)
        {
          guint at;

          if (!py_index (norm[i], rank, &at))
            return ane_mil_infer_fail (call, error, "axes reduce dimension %" G_GINT64_FORMAT " of a "
                                       "shape with %u left (axes out of range or repeated)", norm[i], rank);
          memmove (shape + at, shape + at + 1, (rank - at - 1) * sizeof (gint64));
          rank--;
        }
    }

  if (x->values != NULL && axes_val != NULL)
    for (gsize i = 0; i < n_axes; i++)
      {
        if (axes[i] < -(gint64) x->rank || axes[i] >= (gint64) x->rank)
          return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of bounds for x of "
                                     "rank %u (numpy, in coremltools' value inference)", axes[i], x->rank);
        for (gsize j = 0; j < i; j++)
          if ((axes[j] + x->rank) % x->rank == (axes[i] + x->rank) % x->rank)
            return ane_mil_infer_fail (call, error, "axes repeat a dimension (numpy, in coremltools' "
                                       "value inference)");
      }

  ane_mil_infer_out (call, x->dtype, shape, rank);
  return TRUE;
}

ANE_MIL_INFER_RULE (reduce_l1_norm, ios15) { return reduce_axes (call, error); }
ANE_MIL_INFER_RULE (reduce_l2_norm, ios15) { return reduce_axes (call, error); }
ANE_MIL_INFER_RULE (reduce_log_sum, ios15) { return reduce_axes (call, error); }
ANE_MIL_INFER_RULE (reduce_log_sum_exp, ios15) { return reduce_axes (call, error); }
ANE_MIL_INFER_RULE (reduce_max, ios15) { return reduce_axes (call, error); }
ANE_MIL_INFER_RULE (reduce_mean, ios15) { return reduce_axes (call, error); }
ANE_MIL_INFER_RULE (reduce_min, ios15) { return reduce_axes (call, error); }
ANE_MIL_INFER_RULE (reduce_prod, ios15) { return reduce_axes (call, error); }
ANE_MIL_INFER_RULE (reduce_sum, ios15) { return reduce_axes (call, error); }
ANE_MIL_INFER_RULE (reduce_sum_square, ios15) { return reduce_axes (call, error); }

/* iOS15/reduction.py, class ReductionAxis._find_reduced_shape (lines
 * 83-93) as class reduce_arg.type_inference uses it (lines 116-118): the
 * axis (default -1) is made non-negative by adding the rank once, then that
 * dimension is set to 1 (keep_dims) or popped, by Python indexing (a scalar
 * x always raises). */
static gboolean
reduce_arg_shape (AneMilInferCall  *call,
                  const AneMilVal  *x,
                  gint64           *shape,
                  guint            *rank,
                  GError          **error)
{
  gint64 axis, norm;
  gboolean keep_dims;
  guint at;

  if (!get_int (call, "axis", -1, &axis, error) || !get_bool (call, "keep_dims", FALSE, &keep_dims, error))
    return FALSE;
  norm = axis >= 0 ? axis : axis + x->rank;
  if (!py_index (norm, x->rank, &at))
    return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of range for x of rank %u",
                               axis, x->rank);
  memcpy (shape, x->shape, x->rank * sizeof (gint64));
  *rank = x->rank;
  if (keep_dims)
    shape[at] = 1;
  else
    {
      memmove (shape + at, shape + at + 1, (x->rank - at - 1) * sizeof (gint64));
      (*rank)--;
    }
  return TRUE;
}

/* value_inference of the reduce_arg ops (iOS15/reduction.py, lines
 * 100-106) where x is known: numpy wants the axis in [-rank, rank). */
static gboolean
reduce_arg_values (AneMilInferCall  *call,
                   const AneMilVal  *x,
                   GError          **error)
{
  gint64 axis;

  if (x->values == NULL || !ane_mil_infer_int (call, "axis", -1, &axis))
    return TRUE;
  if (axis < -(gint64) x->rank || axis >= (gint64) x->rank)
    return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of bounds for x of rank %u "
                               "(numpy, in coremltools' value inference)", axis, x->rank);
  return TRUE;
}

/* iOS15/reduction.py, classes reduce_argmax (line 126) and reduce_argmin
 * (line 161): reduce_arg.type_inference, output int32. */
ANE_MIL_INFER_RULE (reduce_argmax, ios15)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  guint rank;

  if (any_other (call, 1, x, NULL))
    return TRUE;
  if (!reduce_arg_shape (call, x, shape, &rank, error) || !reduce_arg_values (call, x, error))
    return FALSE;
  ane_mil_infer_out (call, ANE_MIL_DT_INT32, shape, rank);
  return TRUE;
}

ANE_MIL_INFER_RULE (reduce_argmin, ios15)
{
  return ane_mil_infer_reduce_argmax_ios15 (call, error);
}

/* iOS17/reduction.py, class reduce_arg.type_inference (lines 36-43), of
 * reduce_argmax (line 47) and reduce_argmin (line 89): the iOS15 shape;
 * the dtype is output_dtype (default "int32"), lowercased, which must then
 * be int32 or uint16. */
ANE_MIL_INFER_RULE (reduce_argmax, ios17)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  g_autofree char *lower = NULL;
  const char *output_dtype;
  guint rank;
  int dtype;

  if (any_other (call, 1, x, NULL))
    return TRUE;
  if (!reduce_arg_shape (call, x, shape, &rank, error))
    return FALSE;
  output_dtype = ane_mil_infer_string (call, "output_dtype", "int32");
  if (output_dtype == NULL)
    return unknown_value (call, "output_dtype", error);
  lower = g_ascii_strdown (output_dtype, -1);
  if (strcmp (lower, "int32") == 0)
    dtype = ANE_MIL_DT_INT32;
  else if (strcmp (lower, "uint16") == 0)
    dtype = ANE_MIL_DT_UINT16;
  else
    return ane_mil_infer_fail (call, error, "output_dtype \"%s\" is neither int32 nor uint16", output_dtype);
  if (!reduce_arg_values (call, x, error))
    return FALSE;
  ane_mil_infer_out (call, dtype, shape, rank);
  return TRUE;
}

ANE_MIL_INFER_RULE (reduce_argmin, ios17)
{
  return ane_mil_infer_reduce_argmax_ios17 (call, error);
}

/* --- gather ------------------------------------------------------------- */

/* gather's value_inference (_utils.py, compute_gather, lines 392-428)
 * where x and indices are known. With batch_dims 0 it is np.take on the
 * axis: indices in [-n, n), else numpy raises. Otherwise indices are
 * reshaped to [prod(x.shape[:batch_dims])] + indices.shape[batch_dims:]
 * (the element counts must agree) and each batch is np.take'n on axis -
 * batch_dims, from the axis as given: that axis must exist in a batch,
 * the indices fit its size, and at least one batch exist (np.stack). The
 * value is folded where it is laid out as the type says: batch_dims 0, or
 * an axis given at or above a non-negative batch_dims (a negative axis
 * lands on another dimension of the batch: no value is kept then). */
static gboolean
gather_values (AneMilInferCall  *call,
               const AneMilVal  *x,
               const AneMilVal  *indices,
               gint64            given_axis,
               guint             axis,
               gint64            batch_dims,
               AneMilVal        *out,
               GError          **error)
{
  g_autofree double *vals = NULL;
  gint64 n, nb, np_, nq, nr, total;
  guint b;

  if (x->values == NULL || indices->values == NULL)
    return TRUE;
  if (batch_dims == 0)
    b = 0;
  else
    {
      guint end = py_slice_start (batch_dims, x->rank);
      guint batch_rank = x->rank - end;
      gint64 batch_axis = given_axis - batch_dims;
      guint at;

      nb = dims_product (x->shape, 0, end);
      if (nb * dims_product (indices->shape, py_slice_start (batch_dims, indices->rank), indices->rank) !=
          (gint64) indices->n_values)
        return ane_mil_infer_fail (call, error, "coremltools' value inference cannot reshape indices "
                                   "into the batches of x (batch_dims %" G_GINT64_FORMAT ")", batch_dims);
      if (nb == 0)
        return ane_mil_infer_fail (call, error, "coremltools' value inference stacks no batch "
                                   "(x has an empty batch dimension)");
      if (!py_index (batch_axis, batch_rank, &at))
        return ane_mil_infer_fail (call, error, "coremltools' value inference takes along axis %"
                                   G_GINT64_FORMAT " of a batch of rank %u, which numpy refuses",
                                   batch_axis, batch_rank);
      if (!check_take_range (call, indices, x->shape[end + at], error))
        return FALSE;
      if (batch_dims < 0 || given_axis < batch_dims)
        return TRUE;
      b = (guint) batch_dims;
    }
  n = x->shape[axis];
  if (!check_take_range (call, indices, n, error))
    return FALSE;

  nb = dims_product (x->shape, 0, b);
  np_ = dims_product (x->shape, b, axis);
  nq = dims_product (indices->shape, b, indices->rank);
  nr = dims_product (x->shape, axis + 1, x->rank);
  total = nb * np_ * nq * nr;
  if (out->kind != ANE_MIL_VAL_TENSOR || total != ane_mil_val_n_elements (out) ||
      total > ANE_MIL_INFER_MAX_VALUES)
    return TRUE;
  vals = g_new (double, MAX (total, 1));
  for (gint64 ib = 0; ib < nb; ib++)
    for (gint64 ip = 0; ip < np_; ip++)
      for (gint64 iq = 0; iq < nq; iq++)
        {
          gint64 idx = (gint64) indices->values[ib * nq + iq];

          if (idx < 0)
            idx += n;
          for (gint64 ir = 0; ir < nr; ir++)
            vals[((ib * np_ + ip) * nq + iq) * nr + ir] = x->values[((ib * np_ + ip) * n + idx) * nr + ir];
        }
  ane_mil_infer_out_set_values (out, vals, (gsize) total);
  return TRUE;
}

/* iOS15/scatter_gather.py, class gather.type_inference (lines 98-116), and
 * iOS16/scatter_gather.py, class gather.type_inference (lines 85-117) with
 * batch_dims: axis (default 0) in [-rank, rank) of x; batch_dims (default
 * 0) below rank(x) and at most rank(indices); the shape is x's up to axis,
 * then indices' from batch_dims on (Python slicing: a negative batch_dims
 * counts from the end), then x's after axis, all of x's dtype (a scalar
 * when empty). */
static gboolean
gather (AneMilInferCall  *call,
        gboolean          has_batch_dims,
        gboolean          has_validate,
        GError          **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  const AneMilVal *indices = ane_mil_infer_arg (call, "indices");
  gint64 shape[SHAPE_ROOM];
  gint64 batch_dims = 0;
  gint64 given_axis;
  guint axis, rank = 0;
  AneMilVal *out;

  if (any_other (call, 1, x, indices, NULL))
    return TRUE;
  if (!gs_axis (call, x, "x", &given_axis, &axis, error))
    return FALSE;
  if (has_batch_dims)
    {
      if (!get_int (call, "batch_dims", 0, &batch_dims, error))
        return FALSE;
      if (batch_dims >= (gint64) x->rank)
        return ane_mil_infer_fail (call, error, "batch_dims %" G_GINT64_FORMAT " must be less than the "
                                   "rank of x (%u)", batch_dims, x->rank);
      if (batch_dims > (gint64) indices->rank)
        return ane_mil_infer_fail (call, error, "batch_dims %" G_GINT64_FORMAT " must be at most the "
                                   "rank of indices (%u)", batch_dims, indices->rank);
    }
  append_dims (shape, &rank, x->shape, 0, axis);
  append_dims (shape, &rank, indices->shape, py_slice_start (batch_dims, indices->rank), indices->rank);
  append_dims (shape, &rank, x->shape, axis + 1, x->rank);

  /* iOS17 validate_indices compares with x.shape[axis] */
  if (has_validate && !validate_axis_indices (call, indices, x->shape[axis], error))
    return FALSE;
  out = ane_mil_infer_out (call, x->dtype, shape, rank);
  return gather_values (call, x, indices, given_axis, axis, batch_dims, out, error);
}

ANE_MIL_INFER_RULE (gather, ios15) { return gather (call, FALSE, FALSE, error); }
ANE_MIL_INFER_RULE (gather, ios16) { return gather (call, TRUE, FALSE, error); }

/* iOS17/scatter_gather.py, class gather.type_inference (lines 319-331): the
 * iOS16 rule, then with validate_indices (default false) and known indices,
 * each index in [0, x.shape[axis]). */
ANE_MIL_INFER_RULE (gather, ios17) { return gather (call, TRUE, TRUE, error); }

/* iOS15/scatter_gather.py, class gather_along_axis.type_inference (lines
 * 283-313), inherited by the iOS16 class (iOS16/scatter_gather.py, line
 * 121) and extended by the iOS17 one (iOS17/scatter_gather.py, lines
 * 393-404: validate_indices): x and indices of one rank, axis (default 0)
 * in range, equal dimensions off the axis where both are known; the output
 * has indices' shape and x's dtype. value_inference (np.take_along_axis,
 * lines 276-281) is folded where x and indices are known. */
static gboolean
gather_along_axis (AneMilInferCall  *call,
                   gboolean          has_validate,
                   GError          **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  const AneMilVal *indices = ane_mil_infer_arg (call, "indices");
  AneMilVal *out;
  guint axis;

  if (any_other (call, 1, x, indices, NULL))
    return TRUE;
  if (x->rank != indices->rank)
    return ane_mil_infer_fail (call, error, "x (rank %u) and indices (rank %u) must have one rank",
                               x->rank, indices->rank);
  if (!gs_axis (call, x, "x", NULL, &axis, error))
    return FALSE;
  for (guint i = 0; i < x->rank; i++)
    if (i != axis && x->shape[i] >= 0 && indices->shape[i] >= 0 && x->shape[i] != indices->shape[i])
      return ane_mil_infer_fail (call, error, "x and indices differ in dimension %u (%" G_GINT64_FORMAT
                                 " and %" G_GINT64_FORMAT "), which is not the axis", i,
                                 x->shape[i], indices->shape[i]);
  if (has_validate && !validate_axis_indices (call, indices, x->shape[axis], error))
    return FALSE;
  out = ane_mil_infer_out (call, x->dtype, indices->shape, indices->rank);

  if (x->values != NULL && indices->values != NULL)
    {
      gint64 n = x->shape[axis], total = (gint64) indices->n_values;
      g_autofree double *vals = NULL;

      if (!check_take_range (call, indices, n, error))
        return FALSE;
      if (total != ane_mil_val_n_elements (out))
        return TRUE;
      vals = g_new (double, MAX (total, 1));
      for (gint64 pos = 0; pos < total; pos++)
        {
          /* the same coordinates in x, the axis one replaced by the index */
          gint64 rest = pos, src = 0, stride = 1;

          for (guint d = x->rank; d-- > 0;)
            {
              gint64 c = rest % indices->shape[d];

              rest /= indices->shape[d];
              if (d == axis)
                {
                  c = (gint64) indices->values[pos];
                  if (c < 0)
                    c += n;
                }
              src += c * stride;
              stride *= x->shape[d];
            }
          vals[pos] = x->values[src];
        }
      ane_mil_infer_out_set_values (out, vals, (gsize) total);
    }
  return TRUE;
}

ANE_MIL_INFER_RULE (gather_along_axis, ios15) { return gather_along_axis (call, FALSE, error); }
ANE_MIL_INFER_RULE (gather_along_axis, ios16) { return gather_along_axis (call, FALSE, error); }
ANE_MIL_INFER_RULE (gather_along_axis, ios17) { return gather_along_axis (call, TRUE, error); }

/* The depth of nd indices (indices.shape[-1]): a scalar has none (an
 * IndexError), and a symbolic one cannot be compared with the rank (sympy
 * raises). */
static gboolean
nd_depth (AneMilInferCall  *call,
          const AneMilVal  *indices,
          guint            *depth,
          GError          **error)
{
  if (indices->rank == 0)
    return ane_mil_infer_fail (call, error, "indices must have at least one dimension (its last one "
                               "is the index depth)");
  if (indices->shape[indices->rank - 1] < 0)
    return ane_mil_infer_fail (call, error, "the last dimension of indices is symbolic; coremltools "
                               "cannot compare it with the rank");
  *depth = (guint) indices->shape[indices->rank - 1];
  return TRUE;
}

/* iOS15/scatter_gather.py, class gather_nd.type_inference (lines 476-480)
 * and iOS16/scatter_gather.py, class gather_nd.type_inference (lines
 * 205-215) with batch_dims (default 0): the depth d = indices.shape[-1]
 * must be at most rank(x) - batch_dims; the shape is indices' without its
 * last dimension, then x's from batch_dims + d on (Python slicing), of x's
 * dtype. */
static gboolean
gather_nd (AneMilInferCall  *call,
           gboolean          has_batch_dims,
           gboolean          has_validate,
           GError          **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  const AneMilVal *indices = ane_mil_infer_arg (call, "indices");
  gint64 shape[SHAPE_ROOM];
  gint64 batch_dims = 0;
  guint depth = 0, rank = 0;

  if (any_other (call, 1, x, indices, NULL))
    return TRUE;
  if (has_batch_dims && !get_int (call, "batch_dims", 0, &batch_dims, error))
    return FALSE;
  if (!nd_depth (call, indices, &depth, error))
    return FALSE;
  if ((gint64) depth > (gint64) x->rank - batch_dims)
    return ane_mil_infer_fail (call, error, "indices.shape[-1] (%u) + batch_dims (%" G_GINT64_FORMAT ") "
                               "exceeds the rank of x (%u)", depth, batch_dims, x->rank);
  append_dims (shape, &rank, indices->shape, 0, indices->rank - 1);
  append_dims (shape, &rank, x->shape, py_slice_start (batch_dims + depth, x->rank), x->rank);
  if (has_validate && !validate_nd_indices (call, indices, x, error))
    return FALSE;
  ane_mil_infer_out (call, x->dtype, shape, rank);
  return TRUE;
}

ANE_MIL_INFER_RULE (gather_nd, ios15) { return gather_nd (call, FALSE, FALSE, error); }
ANE_MIL_INFER_RULE (gather_nd, ios16) { return gather_nd (call, TRUE, FALSE, error); }

/* iOS17/scatter_gather.py, class gather_nd.type_inference (lines 465-476):
 * the iOS16 rule, then validate_indices against the whole shape of x. */
ANE_MIL_INFER_RULE (gather_nd, ios17) { return gather_nd (call, TRUE, TRUE, error); }

/* --- scatter ------------------------------------------------------------ */

/* iOS15/scatter_gather.py, class scatter.type_inference (lines 211-230):
 * axis (default 0) in range of data; updates must be compatible with
 * data's shape up to axis, then indices' shape, then data's after axis;
 * the output is data's type. mode is not checked. iOS17/scatter_gather.py,
 * class scatter.type_inference (lines 97-109) adds validate_indices. */
static gboolean
scatter (AneMilInferCall  *call,
         gboolean          has_validate,
         GError          **error)
{
  const AneMilVal *data = ane_mil_infer_arg (call, "data");
  const AneMilVal *indices = ane_mil_infer_arg (call, "indices");
  const AneMilVal *updates = ane_mil_infer_arg (call, "updates");
  gint64 expected[SHAPE_ROOM];
  guint axis, rank = 0;

  if (any_other (call, 1, data, indices, updates, NULL))
    return TRUE;
  if (!gs_axis (call, data, "data", NULL, &axis, error))
    return FALSE;
  append_dims (expected, &rank, data->shape, 0, axis);
  append_dims (expected, &rank, indices->shape, 0, indices->rank);
  append_dims (expected, &rank, data->shape, axis + 1, data->rank);
  if (!dims_compatible (updates->shape, updates->rank, expected, rank))
    return fail_shape (call, error, "updates", updates->shape, updates->rank, expected, rank);
  if (has_validate && !validate_axis_indices (call, indices, data->shape[axis], error))
    return FALSE;
  ane_mil_infer_out_like (call, data, -1);
  return TRUE;
}

ANE_MIL_INFER_RULE (scatter, ios15) { return scatter (call, FALSE, error); }
ANE_MIL_INFER_RULE (scatter, ios17) { return scatter (call, TRUE, error); }

/* iOS15/scatter_gather.py, class scatter_along_axis.type_inference (lines
 * 412-431): axis (default 0) in range of data; indices and updates of
 * compatible shapes; data and indices of one rank and, off the axis, of
 * equal dimensions -- compared with ==, so a known dimension never equals
 * a symbolic one; two symbolic ones may be one symbol, which the mirror
 * cannot tell, and it lets them pass. The output is data's type.
 * value_inference (np.put_along_axis, lines 402-410) wants indices in
 * [-n, n). iOS17/scatter_gather.py, class scatter_along_axis.type_inference
 * (lines 167-179) adds validate_indices. */
static gboolean
scatter_along_axis (AneMilInferCall  *call,
                    gboolean          has_validate,
                    GError          **error)
{
  const AneMilVal *data = ane_mil_infer_arg (call, "data");
  const AneMilVal *indices = ane_mil_infer_arg (call, "indices");
  const AneMilVal *updates = ane_mil_infer_arg (call, "updates");
  guint axis;

  if (any_other (call, 1, data, indices, updates, NULL))
    return TRUE;
  if (!gs_axis (call, data, "data", NULL, &axis, error))
    return FALSE;
  if (!dims_compatible (updates->shape, updates->rank, indices->shape, indices->rank))
    return fail_shape (call, error, "updates", updates->shape, updates->rank, indices->shape, indices->rank);
  if (data->rank != indices->rank)
    return ane_mil_infer_fail (call, error, "data (rank %u) and indices (rank %u) must have one rank",
                               data->rank, indices->rank);
  for (guint i = 0; i < data->rank; i++)
    {
      gint64 d = data->shape[i], n = indices->shape[i];

      if (i == axis || (d < 0 && n < 0))
        continue;
      if (d != n)
        {
          g_autofree char *ds = ane_mil_infer_dims_string (&d, 1);
          g_autofree char *ns = ane_mil_infer_dims_string (&n, 1);

          /* a known size never equals a symbol */
          return ane_mil_infer_fail (call, error, "data %s and indices %s differ in dimension %u, "
                                     "which is not the axis", ds, ns, i);
        }
    }
  if (has_validate && !validate_axis_indices (call, indices, data->shape[axis], error))
    return FALSE;
  if (data->values != NULL && indices->values != NULL && updates->values != NULL &&
      !check_take_range (call, indices, data->shape[axis], error))
    return FALSE;
  ane_mil_infer_out_like (call, data, -1);
  return TRUE;
}

ANE_MIL_INFER_RULE (scatter_along_axis, ios15) { return scatter_along_axis (call, FALSE, error); }
ANE_MIL_INFER_RULE (scatter_along_axis, ios17) { return scatter_along_axis (call, TRUE, error); }

/* iOS15/scatter_gather.py, class scatter_nd.type_inference (lines
 * 549-557): the depth d = indices.shape[-1] is at most rank(data); updates
 * must be compatible with indices' shape without its last dimension, then
 * data's from d on; the output is data's type. iOS17/scatter_gather.py,
 * class scatter_nd.type_inference (lines 230-241) adds validate_indices
 * against the whole shape of data. */
static gboolean
scatter_nd (AneMilInferCall  *call,
            gboolean          has_validate,
            GError          **error)
{
  const AneMilVal *data = ane_mil_infer_arg (call, "data");
  const AneMilVal *indices = ane_mil_infer_arg (call, "indices");
  const AneMilVal *updates = ane_mil_infer_arg (call, "updates");
  gint64 expected[SHAPE_ROOM];
  guint depth = 0, rank = 0;

  if (any_other (call, 1, data, indices, updates, NULL))
    return TRUE;
  if (!nd_depth (call, indices, &depth, error))
    return FALSE;
  if (depth > data->rank)
    return ane_mil_infer_fail (call, error, "indices.shape[-1] (%u) exceeds the rank of data (%u)",
                               depth, data->rank);
  append_dims (expected, &rank, indices->shape, 0, indices->rank - 1);
  append_dims (expected, &rank, data->shape, depth, data->rank);
  if (!dims_compatible (updates->shape, updates->rank, expected, rank))
    return fail_shape (call, error, "updates", updates->shape, updates->rank, expected, rank);
  if (has_validate && !validate_nd_indices (call, indices, data, error))
    return FALSE;
  ane_mil_infer_out_like (call, data, -1);
  return TRUE;
}

ANE_MIL_INFER_RULE (scatter_nd, ios15) { return scatter_nd (call, FALSE, error); }
ANE_MIL_INFER_RULE (scatter_nd, ios17) { return scatter_nd (call, TRUE, error); }

/* --- argsort, cumsum, topk ---------------------------------------------- */

/* iOS15/tensor_operation.py, class argsort.type_inference (lines 750-751):
 * int32 of x's shape, whatever the axis (a scalar x gives a rank-0 tensor,
 * which the loader takes for a scalar). value_inference (np.argsort, lines
 * 753-758) where x is known wants the axis in [-r, r), r = max(rank, 1). */
ANE_MIL_INFER_RULE (argsort, ios15)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");

  if (any_other (call, 1, x, NULL))
    return TRUE;
  if (x->values != NULL)
    {
      gint64 axis, r = MAX (x->rank, 1);

      if (!get_int (call, "axis", -1, &axis, error))
        return FALSE;
      if (axis < -r || axis >= r)
        return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of bounds for x of "
                                   "rank %u (numpy, in coremltools' value inference)", axis, x->rank);
    }
  ane_mil_infer_out_like (call, x, ANE_MIL_DT_INT32);
  return TRUE;
}

/* iOS15/tensor_operation.py, class cumsum.type_inference (lines 163-170):
 * axis (default 0) must lie in [-1, rank - 1] -- -2 is refused even where
 * it is a valid axis, and a scalar takes only -1; the output is x's type.
 * value_inference (lines 146-161) where x is known fails for a float
 * scalar x (numpy returns a vector, which only an int scalar type takes)
 * and for exclusive = true (a bad np.zeros call). */
ANE_MIL_INFER_RULE (cumsum, ios15)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  gint64 axis;

  if (any_other (call, 1, x, NULL))
    return TRUE;
  if (!ane_mil_infer_int (call, "axis", 0, &axis))
    return unknown_value (call, "axis", error);
  if (axis < -1 || axis > (gint64) x->rank - 1)
    return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " must lie in [-1, %d]", axis,
                               (int) x->rank - 1);
  if (x->values != NULL)
    {
      gboolean exclusive;

      if (x->rank == 0 && ane_mil_text_dtype_is_float (x->dtype))
        return ane_mil_infer_fail (call, error, "coremltools' value inference of a const float scalar "
                                   "x returns a vector, which a float scalar refuses");
      if (!get_bool (call, "exclusive", FALSE, &exclusive, error))
        return FALSE;
      if (exclusive)
        return ane_mil_infer_fail (call, error, "coremltools' value inference of a const x with "
                                   "exclusive = true raises (np.zeros misused)");
    }
  ane_mil_infer_out_like (call, x, -1);
  return TRUE;
}

/* iOS15/tensor_operation.py, class topk.type_inference (lines 811-823): k
 * (default 1) and axis (default -1, Python indexing: out of range or a
 * scalar x raises); k may not exceed a known size of that axis; both
 * outputs have x's shape with that dimension set to k. A k below zero
 * (iOS17 documents -1 as "all") stays as that dimension: -1 is a wildcard
 * for coremltools' type comparison, as an unknown one is for the mirror. */
static gboolean
topk_shape (AneMilInferCall  *call,
            const AneMilVal  *x,
            gint64           *shape,
            GError          **error)
{
  gint64 k, axis;
  guint at;

  if (!get_int (call, "k", 1, &k, error) || !get_int (call, "axis", -1, &axis, error))
    return FALSE;
  if (!py_index (axis, x->rank, &at))
    return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of range for x of rank %u",
                               axis, x->rank);
  if (x->shape[at] >= 0 && k > x->shape[at])
    return ane_mil_infer_fail (call, error, "k = %" G_GINT64_FORMAT " exceeds the size %" G_GINT64_FORMAT
                               " of axis %" G_GINT64_FORMAT, k, x->shape[at], axis);
  memcpy (shape, x->shape, x->rank * sizeof (gint64));
  shape[at] = k < 0 ? ANE_MIL_DIM_UNKNOWN : k;
  return TRUE;
}

ANE_MIL_INFER_RULE (topk, ios15)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];

  if (any_other (call, 2, x, NULL))
    return TRUE;
  if (!topk_shape (call, x, shape, error))
    return FALSE;
  ane_mil_infer_out (call, x->dtype, shape, x->rank);
  ane_mil_infer_out (call, ANE_MIL_DT_INT32, shape, x->rank);
  return TRUE;
}

/* iOS16/tensor_operation.py, class topk.type_inference (lines 104-108): the
 * iOS15 types, the indices only when return_indices (default true). */
ANE_MIL_INFER_RULE (topk, ios16)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  gboolean return_indices;

  if (!get_bool (call, "return_indices", TRUE, &return_indices, error))
    return FALSE;
  if (any_other (call, return_indices ? 2 : 1, x, NULL))
    return TRUE;
  if (!topk_shape (call, x, shape, error))
    return FALSE;
  ane_mil_infer_out (call, x->dtype, shape, x->rank);
  if (return_indices)
    ane_mil_infer_out (call, ANE_MIL_DT_INT32, shape, x->rank);
  return TRUE;
}

/* iOS17/tensor_operation.py, class topk.type_inference (lines 172-191) and
 * default_inputs (lines 164-170): output_indices_dtype may only be given
 * with return_indices true, where it defaults to "int32" and must be
 * exactly "int32" or "uint16" (no lowercasing, unlike reduce_argmax); it
 * is the indices' dtype. */
ANE_MIL_INFER_RULE (topk, ios17)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  gboolean return_indices;
  int indices_dtype = ANE_MIL_DT_INT32;

  if (!get_bool (call, "return_indices", TRUE, &return_indices, error))
    return FALSE;
  if (!return_indices && ane_mil_infer_arg (call, "output_indices_dtype") != NULL)
    return ane_mil_infer_fail (call, error, "output_indices_dtype may only be given with "
                               "return_indices = true");
  if (return_indices)
    {
      const char *s = ane_mil_infer_string (call, "output_indices_dtype", "int32");

      if (s == NULL)
        return unknown_value (call, "output_indices_dtype", error);
      if (strcmp (s, "uint16") == 0)
        indices_dtype = ANE_MIL_DT_UINT16;
      else if (strcmp (s, "int32") != 0)
        return ane_mil_infer_fail (call, error, "output_indices_dtype \"%s\" is neither int32 nor uint16", s);
    }
  if (any_other (call, return_indices ? 2 : 1, x, NULL))
    return TRUE;
  if (!topk_shape (call, x, shape, error))
    return FALSE;
  ane_mil_infer_out (call, x->dtype, shape, x->rank);
  if (return_indices)
    ane_mil_infer_out (call, indices_dtype, shape, x->rank);
  return TRUE;
}
