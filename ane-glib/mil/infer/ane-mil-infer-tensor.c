/* mil/infer/ane-mil-infer-tensor.c: type-inference rules, tensor operations (concat, fill, pad, split, stack, tile, ...)
 *
 * Each rule mirrors the type_inference (and the checks it makes) of the
 * coremltools op class named in its row's source (ane-mil-opdefs.c), paths
 * relative to coremltools/converters/mil/mil/ops/defs/ in coremltools 9.0.
 *
 * pymil also runs an op's value_inference while it builds the op, and an
 * exception there (other than NotImplementedError) fails the op just as one
 * in type_inference does; where such a raise is cheap to foresee it is
 * mirrored too, and so are the values later ops read as shapes (shape,
 * identity, concat, stack, non_zero).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mil/infer/ane-mil-infer-rules-private.h"

/* --- helpers ------------------------------------------------------------ */

/* Every argument of a tensor parameter must be a tensor the mirror models
 * (not a list, nor a tensor of rank above ANE_MIL_INFER_MAX_RANK); the
 * input validation lets such values through because it cannot judge them,
 * and neither can the rules. */
static gboolean
all_tensors (AneMilInferCall  *call,
             GError          **error)
{
  for (const AneMilParamDef *p = call->def->params; p->name != NULL; p++)
    {
      if (p->kind == ANE_MIL_PARAM_ANY || p->kind == ANE_MIL_PARAM_STATE)
        continue;
      for (guint i = 0; i < ane_mil_infer_n_args (call, p->name); i++)
        if (ane_mil_infer_arg_nth (call, p->name, i)->kind != ANE_MIL_VAL_TENSOR)
          {
            g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "MIL %s '%s' at %s: parameter '%s' "
                         "holds a value the type-inference mirror does not model", call->op, call->name,
                         ane_mil_target_name (call->target), p->name);
            return FALSE;
          }
    }
  return TRUE;
}

/* A scalar parameter coremltools reads with .val (a const): its value, or
 * default_value when it is absent. */
static gboolean
known_int (AneMilInferCall  *call,
           const char       *param,
           gint64            default_value,
           gint64           *value,
           GError          **error)
{
  if (ane_mil_infer_int (call, param, default_value, value))
    return TRUE;
  return ane_mil_infer_fail (call, error, "%s has no known value", param);
}

static gboolean
known_bool (AneMilInferCall  *call,
            const char       *param,
            gboolean          default_value,
            gboolean         *value,
            GError          **error)
{
  if (ane_mil_infer_bool (call, param, default_value, value))
    return TRUE;
  return ane_mil_infer_fail (call, error, "%s has no known value", param);
}

/* The product of dims, as numpy's prod over python ints and sympy symbols
 * computes it: a known 0 makes it 0 (0 * s simplifies to 0), otherwise an
 * unknown factor makes it unknown; the empty product is 1. */
static gint64
dims_product (const gint64 *dims,
              guint         n)
{
  gint64 p = 1;
  gboolean unknown = FALSE;

  for (guint i = 0; i < n; i++)
    {
      if (dims[i] == 0)
        return 0;
      if (dims[i] < 0)
        unknown = TRUE;
      else
        p *= dims[i];
    }
  return unknown ? ANE_MIL_DIM_UNKNOWN : p;
}

/* Whether every argument of the tuple parameter has a known value. */
static gboolean
tuple_known (AneMilInferCall *call,
             const char      *param)
{
  for (guint i = 0; i < ane_mil_infer_n_args (call, param); i++)
    if (ane_mil_infer_arg_nth (call, param, i)->values == NULL)
      return FALSE;
  return TRUE;
}

/* --- rules -------------------------------------------------------------- */

/* iOS15/tensor_operation.py, class band_part: type_inference (lines 80-81)
 * gives x's type unchanged; lower and upper do not enter it. value_inference
 * (lines 83-94, run when x's value is known) unpacks the last two dimensions,
 * so a known x of rank below 2 is refused. */
ANE_MIL_INFER_RULE (band_part, ios15)
{
  const AneMilVal *x;

  if (!all_tensors (call, error))
    return FALSE;
  x = ane_mil_infer_arg (call, "x");
  if (x->values != NULL && x->rank < 2)
    return ane_mil_infer_fail (call, error, "x has a known value of rank %u; coremltools folds it "
                               "as a matrix and needs rank >= 2", x->rank);
  ane_mil_infer_out_like (call, x, -1);
  return TRUE;
}

/* iOS15/tensor_operation.py, class concat: type_inference (lines 1001-1066).
 * The values must be non-empty, of one rank and one dtype (the tuple input
 * checks neither); the axis must lie in [-rank, rank) unless the values are
 * scalars. Dimensions off the axis must agree with values[0]'s where both are
 * known (with interleave, the axis too). The axis dimension is the sum of the
 * values' (a scalar counts 1; any unknown makes it unknown); scalars give a
 * vector. value_inference (lines 1068-1100) stacks scalars with numpy at the
 * given axis, which refuses an axis other than 0 or -1, and concatenates
 * known values -- along the axis even with interleave. */
ANE_MIL_INFER_RULE (concat, ios15)
{
  guint n = ane_mil_infer_n_args (call, "values");
  const AneMilVal *first;
  gint64 axis_given, axis, len = 0;
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  gboolean interleave;
  guint rank;
  AneMilVal *out;

  if (!all_tensors (call, error))
    return FALSE;
  if (n == 0)
    return ane_mil_infer_fail (call, error, "values is empty");
  first = ane_mil_infer_arg_nth (call, "values", 0);
  rank = first->rank;
  for (guint i = 1; i < n; i++)
    if (ane_mil_infer_arg_nth (call, "values", i)->rank != rank)
      return ane_mil_infer_fail (call, error, "values[%u] has rank %u, values[0] rank %u", i,
                                 ane_mil_infer_arg_nth (call, "values", i)->rank, rank);
  if (!known_int (call, "axis", 0, &axis_given, error))
    return FALSE;
  axis = axis_given < 0 ? axis_given + rank : axis_given;
  if (rank > 0 && (axis < 0 || axis >= rank))
    return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of range for rank %u",
                               axis_given, rank);
  for (guint i = 1; i < n; i++)
    {
      const AneMilVal *v = ane_mil_infer_arg_nth (call, "values", i);

      if (v->dtype != first->dtype)
        return ane_mil_infer_fail (call, error, "values[%u] is %s, values[0] %s: the values must share "
                                   "one dtype", i, ane_mil_dt_name (v->dtype),
                                   ane_mil_dt_name (first->dtype));
    }
  if (!known_bool (call, "interleave", FALSE, &interleave, error))
    return FALSE;
  for (guint i = 1; i < n; i++)
    {
      const AneMilVal *v = ane_mil_infer_arg_nth (call, "values", i);

      for (guint d = 0; d < rank; d++)
        {
          if (first->shape[d] < 0 || v->shape[d] < 0 || first->shape[d] == v->shape[d])
            continue;
          if (d != axis || interleave)
            {
              g_autofree char *s0 = ane_mil_infer_dims_string (first->shape, rank);
              g_autofree char *si = ane_mil_infer_dims_string (v->shape, rank);

              return ane_mil_infer_fail (call, error, "values[%u] has shape %s, values[0] %s%s", i, si, s0,
                                         interleave ? " (interleave needs equal shapes)" : "");
            }
        }
    }
  for (guint i = 0; i < n; i++)
    {
      const AneMilVal *v = ane_mil_infer_arg_nth (call, "values", i);
      gint64 t = rank == 0 ? 1 : v->shape[axis];

      if (t < 0)
        {
          len = ANE_MIL_DIM_UNKNOWN;
          break;
        }
      len += t;
    }
  if (rank == 0 && (axis_given < -1 || axis_given > 0))
    return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of range for stacking "
                               "scalars into a vector (coremltools' value inference)", axis_given);

  memcpy (shape, first->shape, rank * sizeof (gint64));
  shape[rank == 0 ? 0 : axis] = len;
  out = ane_mil_infer_out (call, first->dtype, shape, MAX (rank, 1));

  if (tuple_known (call, "values"))
    {
      g_autofree double *vals = NULL;
      gsize total = 0, k = 0;
      gint64 outer = rank == 0 ? 1 : dims_product (first->shape, (guint) axis);
      gint64 inner = rank == 0 ? 1 : dims_product (first->shape + axis + 1, rank - (guint) axis - 1);

      for (guint i = 0; i < n; i++)
        total += ane_mil_infer_arg_nth (call, "values", i)->n_values;
      vals = g_new (double, MAX (total, 1));
      for (gint64 o = 0; o < outer; o++)
        for (guint i = 0; i < n; i++)
          {
            const AneMilVal *v = ane_mil_infer_arg_nth (call, "values", i);
            gsize block = (gsize) ((rank == 0 ? 1 : v->shape[axis]) * inner);

            memcpy (vals + k, v->values + o * block, block * sizeof (double));
            k += block;
          }
      ane_mil_infer_out_set_values (out, vals, total);
    }
  return TRUE;
}

/* iOS15/tensor_operation.py, class fill: type_inference (lines 210-221),
 * default_inputs (lines 206-208). The dtype is value's, fp32 when value is
 * left out (its default is the float 0.0). The output has one dimension per
 * entry of shape: shape's values where known, else unknown dimensions; a
 * shape of unknown length gives a rank-1 tensor whose one (variadic)
 * dimension matches anything. A scalar shape, or a known shape of rank 2 or
 * more, is refused; value_inference (lines 222-224) builds the tensor with
 * numpy, which refuses a negative dimension. */
ANE_MIL_INFER_RULE (fill, ios15)
{
  const AneMilVal *shape, *value;
  gint64 dims[ANE_MIL_INFER_MAX_RANK];
  int dtype;
  guint rank;

  if (!all_tensors (call, error))
    return FALSE;
  shape = ane_mil_infer_arg (call, "shape");
  value = ane_mil_infer_arg (call, "value");
  dtype = value != NULL ? value->dtype : ANE_MIL_DT_FP32;
  if (shape->rank == 0)
    return ane_mil_infer_fail (call, error, "shape is a scalar; it must be a vector of dimensions");
  for (guint i = 0; i < shape->rank; i++)
    if (shape->shape[i] < 0)
      {
        gint64 variadic = ANE_MIL_DIM_UNKNOWN;

        ane_mil_infer_out (call, dtype, &variadic, 1);
        return TRUE;
      }
  if (shape->values == NULL)
    {
      rank = (guint) MIN (shape->shape[0], (gint64) G_MAXUINT);
      for (guint i = 0; i < MIN (rank, ANE_MIL_INFER_MAX_RANK); i++)
        dims[i] = ANE_MIL_DIM_UNKNOWN;
      ane_mil_infer_out (call, dtype, dims, rank);
      return TRUE;
    }
  if (shape->rank != 1)
    return ane_mil_infer_fail (call, error, "shape has a known value of rank %u; it must be a vector",
                               shape->rank);
  rank = (guint) shape->n_values;
  for (guint i = 0; i < rank; i++)
    {
      if (shape->values[i] < 0)
        return ane_mil_infer_fail (call, error, "shape[%u] is negative (%g)", i, shape->values[i]);
      if (i < ANE_MIL_INFER_MAX_RANK)
        dims[i] = (gint64) shape->values[i];
    }
  ane_mil_infer_out (call, dtype, dims, rank);
  return TRUE;
}

/* iOS16/tensor_operation.py, class fill_like: type_inference (lines 59-60),
 * default_inputs (lines 54-57): ref_tensor's shape with value's dtype, fp32
 * when value is left out (the default 0.0), whatever ref_tensor's dtype. */
ANE_MIL_INFER_RULE (fill_like, ios16)
{
  const AneMilVal *ref, *value;

  if (!all_tensors (call, error))
    return FALSE;
  ref = ane_mil_infer_arg (call, "ref_tensor");
  value = ane_mil_infer_arg (call, "value");
  ane_mil_infer_out_like (call, ref, value != NULL ? value->dtype : ANE_MIL_DT_FP32);
  return TRUE;
}

/* iOS15/tensor_operation.py, class flatten2d: type_inference (lines 884-890),
 * default_inputs (axis 1, lines 879-882). The output is [prod(shape[:axis]),
 * prod(shape[axis:])] with python's slicing: a negative axis counts from the
 * end, and an axis out of range is clamped to [0, rank] rather than refused. */
ANE_MIL_INFER_RULE (flatten2d, ios15)
{
  const AneMilVal *x;
  gint64 axis, dims[2];

  if (!all_tensors (call, error))
    return FALSE;
  x = ane_mil_infer_arg (call, "x");
  if (!known_int (call, "axis", 1, &axis, error))
    return FALSE;
  if (axis < 0)
    axis = MAX (axis + (gint64) x->rank, 0);
  axis = MIN (axis, (gint64) x->rank);
  dims[0] = dims_product (x->shape, (guint) axis);
  dims[1] = dims_product (x->shape + axis, x->rank - (guint) axis);
  ane_mil_infer_out (call, x->dtype, dims, 2);
  return TRUE;
}

/* iOS15/tensor_operation.py, class identity: type_inference (lines 1340-1341)
 * and value_inference (lines 1343-1345) hand x's type and value on. x is a
 * ListOrTensorOrDictInputType: a tensor, scalar, list or dictionary, but not
 * a state. */
ANE_MIL_INFER_RULE (identity, ios15)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");

  if (x->kind == ANE_MIL_VAL_STATE)
    return ane_mil_infer_fail (call, error, "x is a state; identity takes a tensor, list or dictionary");
  g_ptr_array_add (call->outputs, ane_mil_val_copy (x));
  return TRUE;
}

/* iOS15/tensor_operation.py, class non_maximum_suppression: type_inference
 * (lines 292-303); iOS17/tensor_operation.py, class non_maximum_suppression
 * (a subclass that overrides it), type_inference (lines 71-82). scores must
 * have rank 3 ([n, B, K] before iOS17, [n, K, B] from iOS17); boxes' shape is
 * not read. max_boxes becomes a dimension as it is, so it must be a scalar
 * (a vector cannot be a dimension). Outputs: boxes' dtype [n, max, 4] and
 * scores' dtype [n, max, K], int32 [n, max] and int32 [n] before iOS17;
 * [n, 4, max], [n, K, max] and int32 [n, max] from iOS17. */
static gboolean
nms (AneMilInferCall  *call,
     gboolean          ios17,
     GError          **error)
{
  const AneMilVal *boxes, *scores, *max_boxes;
  gint64 n, k, m;

  if (!all_tensors (call, error))
    return FALSE;
  boxes = ane_mil_infer_arg (call, "boxes");
  scores = ane_mil_infer_arg (call, "scores");
  max_boxes = ane_mil_infer_arg (call, "max_boxes");
  if (scores->rank != 3)
    return ane_mil_infer_fail (call, error, "scores has rank %u; it must have rank 3", scores->rank);
  if (max_boxes->values != NULL && max_boxes->rank != 0)
    return ane_mil_infer_fail (call, error, "max_boxes must be a scalar, not a tensor of rank %u",
                               max_boxes->rank);
  m = max_boxes->values != NULL ? (gint64) max_boxes->values[0] : ANE_MIL_DIM_UNKNOWN;
  n = scores->shape[0];
  k = scores->shape[ios17 ? 1 : 2];
  if (ios17)
    {
      ane_mil_infer_out (call, boxes->dtype, (gint64[]) { n, 4, m }, 3);
      ane_mil_infer_out (call, scores->dtype, (gint64[]) { n, k, m }, 3);
      ane_mil_infer_out (call, ANE_MIL_DT_INT32, (gint64[]) { n, m }, 2);
    }
  else
    {
      ane_mil_infer_out (call, boxes->dtype, (gint64[]) { n, m, 4 }, 3);
      ane_mil_infer_out (call, scores->dtype, (gint64[]) { n, m, k }, 3);
      ane_mil_infer_out (call, ANE_MIL_DT_INT32, (gint64[]) { n, m }, 2);
      ane_mil_infer_out (call, ANE_MIL_DT_INT32, &n, 1);
    }
  return TRUE;
}

ANE_MIL_INFER_RULE (non_maximum_suppression, ios15) { return nms (call, FALSE, error); }
ANE_MIL_INFER_RULE (non_maximum_suppression, ios17) { return nms (call, TRUE, error); }

/* iOS15/tensor_operation.py, class non_zero: type_inference (lines 336-341)
 * and value_inference (lines 343-345). int32 [N, rank(x)] with N unknown;
 * for a known x, numpy's nonzero gives N and the indices, and treats a
 * scalar as a one-element vector: [1, 1] or [0, 1], not [N, 0]. */
ANE_MIL_INFER_RULE (non_zero, ios15)
{
  const AneMilVal *x;
  gint64 dims[2];
  g_autofree double *idx = NULL;
  guint cols;
  gsize count = 0, k = 0;

  if (!all_tensors (call, error))
    return FALSE;
  x = ane_mil_infer_arg (call, "x");
  if (x->values == NULL)
    {
      dims[0] = ANE_MIL_DIM_UNKNOWN;
      dims[1] = x->rank;
      ane_mil_infer_out (call, ANE_MIL_DT_INT32, dims, 2);
      return TRUE;
    }
  cols = MAX (x->rank, 1);
  for (gsize i = 0; i < x->n_values; i++)
    if (x->values[i] != 0.0)
      count++;
  idx = g_new (double, MAX (count * cols, 1));
  for (gsize i = 0; i < x->n_values; i++)
    {
      gsize rest = i;

      if (x->values[i] == 0.0)
        continue;
      for (guint d = cols; d-- > 0;)
        {
          gsize size = x->rank == 0 ? 1 : (gsize) x->shape[d];

          idx[k + d] = (double) (rest % size);
          rest /= size;
        }
      k += cols;
    }
  dims[0] = (gint64) count;
  dims[1] = cols;
  ane_mil_infer_out_set_values (ane_mil_infer_out (call, ANE_MIL_DT_INT32, dims, 2), idx, count * cols);
  return TRUE;
}

/* iOS15/tensor_operation.py, class one_hot: type_inference (lines 399-431),
 * default_inputs (axis -1, on_value 1, off_value 0: int32, lines 392-397).
 * on_value and off_value must have one dtype -- the defaults are int32, so a
 * float on_value needs an off_value too; the output has that dtype. axis lies
 * in [-rank-1, rank]; the new dimension is one_hot_vector_size (unknown when
 * its value is, refused if negative or not a scalar), inserted at axis. */
ANE_MIL_INFER_RULE (one_hot, ios15)
{
  const AneMilVal *indices, *on, *off, *size;
  gint64 axis, depth, dims[ANE_MIL_INFER_MAX_RANK + 1];
  int on_dtype, off_dtype;
  guint rank, cut;

  if (!all_tensors (call, error))
    return FALSE;
  indices = ane_mil_infer_arg (call, "indices");
  size = ane_mil_infer_arg (call, "one_hot_vector_size");
  on = ane_mil_infer_arg (call, "on_value");
  off = ane_mil_infer_arg (call, "off_value");
  on_dtype = on != NULL ? on->dtype : ANE_MIL_DT_INT32;
  off_dtype = off != NULL ? off->dtype : ANE_MIL_DT_INT32;
  rank = indices->rank;
  if (on_dtype != off_dtype)
    return ane_mil_infer_fail (call, error, "on_value is %s and off_value %s%s; they must have one dtype",
                               ane_mil_dt_name (on_dtype), ane_mil_dt_name (off_dtype),
                               on == NULL || off == NULL ? " (the default is int32)" : "");
  if (!known_int (call, "axis", -1, &axis, error))
    return FALSE;
  if (axis < -(gint64) rank - 1 || axis > (gint64) rank)
    return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of range for indices of "
                               "rank %u", axis, rank);
  if (size->values == NULL)
    depth = ANE_MIL_DIM_UNKNOWN;
  else if (size->rank != 0)
    return ane_mil_infer_fail (call, error, "one_hot_vector_size must be a scalar, not a tensor of "
                               "rank %u", size->rank);
  else if (size->values[0] < 0)
    return ane_mil_infer_fail (call, error, "one_hot_vector_size is negative (%g)", size->values[0]);
  else
    depth = (gint64) size->values[0];
  cut = (guint) (axis < 0 ? rank + axis + 1 : axis);
  memcpy (dims, indices->shape, cut * sizeof (gint64));
  dims[cut] = depth;
  memcpy (dims + cut + 1, indices->shape + cut, (rank - cut) * sizeof (gint64));
  ane_mil_infer_out (call, on_dtype, dims, rank + 1);
  return TRUE;
}

/* iOS15/tensor_operation.py, class pad: type_inference (lines 494-532),
 * default_inputs (mode "constant", lines 488-492). pad must be a vector and
 * mode one of constant, reflect, replicate. A pad of unknown value must have
 * 2 * rank(x) entries and makes every dimension unknown. A known pad has an
 * even number of non-negative entries, pairs for at most rank(x) trailing
 * dimensions, each growing by its pair's sum. */
ANE_MIL_INFER_RULE (pad, ios15)
{
  const AneMilVal *x, *pad;
  const char *mode;
  gint64 dims[ANE_MIL_INFER_MAX_RANK];
  guint rank, pairs;

  if (!all_tensors (call, error))
    return FALSE;
  x = ane_mil_infer_arg (call, "x");
  pad = ane_mil_infer_arg (call, "pad");
  mode = ane_mil_infer_string (call, "mode", "constant");
  rank = x->rank;
  if (pad->rank != 1)
    return ane_mil_infer_fail (call, error, "pad has rank %u; it must be a vector", pad->rank);
  if (mode == NULL || (strcmp (mode, "constant") != 0 && strcmp (mode, "reflect") != 0 &&
                       strcmp (mode, "replicate") != 0))
    return ane_mil_infer_fail (call, error, "mode '%s' is not constant, reflect or replicate",
                               mode != NULL ? mode : "(unknown)");
  memcpy (dims, x->shape, rank * sizeof (gint64));
  if (pad->values == NULL)
    {
      if (pad->shape[0] != 2 * (gint64) rank)
        {
          g_autofree char *s = ane_mil_infer_dims_string (pad->shape, 1);

          return ane_mil_infer_fail (call, error, "pad has no known value, so it must have 2 * rank(x) = %u "
                                     "entries; its shape is %s", 2 * rank, s);
        }
      for (guint i = 0; i < rank; i++)
        dims[i] = ANE_MIL_DIM_UNKNOWN;
      ane_mil_infer_out (call, x->dtype, dims, rank);
      return TRUE;
    }
  if (pad->n_values % 2 != 0)
    return ane_mil_infer_fail (call, error, "pad has %" G_GSIZE_FORMAT " entries, not an even number",
                               pad->n_values);
  for (gsize i = 0; i < pad->n_values; i++)
    if (pad->values[i] < 0)
      return ane_mil_infer_fail (call, error, "pad[%" G_GSIZE_FORMAT "] is negative (%g)", i, pad->values[i]);
  if (pad->n_values / 2 > rank)
    return ane_mil_infer_fail (call, error, "pad covers %" G_GSIZE_FORMAT " dimensions, x has only %u",
                               pad->n_values / 2, rank);
  pairs = (guint) (pad->n_values / 2);
  for (guint i = 0; i < pairs; i++)
    {
      guint d = rank - pairs + i;

      if (dims[d] >= 0)
        dims[d] += (gint64) pad->values[2 * i] + (gint64) pad->values[2 * i + 1];
    }
  ane_mil_infer_out (call, x->dtype, dims, rank);
  return TRUE;
}

/* A value rounded to fp16 as numpy's float16 arithmetic leaves it (numpy
 * computes in float32 and rounds the result to half). */
static float
round_fp16 (float v)
{
  return ane_half_to_float (ane_float_to_half (v));
}

/* iOS15/tensor_operation.py, class range_1d: type_inference (lines 602-627).
 * The dtype is start's (one type domain with end and step). With start, end
 * and step known the length is ceil((end - start) / step), computed in the
 * inputs' numpy arithmetic: fp16 rounds every step to half (0 to 1 by 0.1
 * gives 10 elements where exact arithmetic gives 11), fp32 to float, int32
 * divides in float64; a zero step (an infinite or NaN length) is refused, and
 * a negative length is what coremltools writes (a dimension no declared type
 * can match exactly: left unknown here). Otherwise the length is unknown. */
ANE_MIL_INFER_RULE (range_1d, ios15)
{
  const AneMilVal *start, *end, *step;
  double q;
  gint64 len;

  if (!all_tensors (call, error))
    return FALSE;
  start = ane_mil_infer_arg (call, "start");
  end = ane_mil_infer_arg (call, "end");
  step = ane_mil_infer_arg (call, "step");
  if (start->values == NULL || end->values == NULL || step->values == NULL)
    {
      len = ANE_MIL_DIM_UNKNOWN;
      ane_mil_infer_out (call, start->dtype, &len, 1);
      return TRUE;
    }
  if (start->n_values != 1 || end->n_values != 1 || step->n_values != 1)
    return ane_mil_infer_fail (call, error, "start, end and step must each hold one value");
  if (start->dtype == ANE_MIL_DT_FP16)
    {
      float d = round_fp16 ((float) end->values[0] - (float) start->values[0]);

      q = round_fp16 (d / (float) step->values[0]);
    }
  else if (start->dtype == ANE_MIL_DT_FP32)
    {
      float d = (float) end->values[0] - (float) start->values[0];

      q = d / (float) step->values[0];
    }
  else
    {
      /* int32 subtraction wraps as numpy's does */
      gint32 d = (gint32) ((guint32) (gint32) end->values[0] - (guint32) (gint32) start->values[0]);

      q = (double) d / step->values[0];
    }
  if (!isfinite (q))
    return ane_mil_infer_fail (call, error, "the length (end - start) / step is not finite (step %g)",
                               step->values[0]);
  q = ceil (q);
  len = fabs (q) < 1e15 ? (gint64) q : ANE_MIL_DIM_UNKNOWN;
  ane_mil_infer_out (call, start->dtype, &len, 1);
  return TRUE;
}

/* iOS15/tensor_operation.py, class shape: type_inference (lines 929-931)
 * gives int32 [rank(x)] (a scalar x gives [0]); value_inference (lines
 * 933-939) is x's shape, known when every dimension is. */
ANE_MIL_INFER_RULE (shape, ios15)
{
  const AneMilVal *x;
  double vals[ANE_MIL_INFER_MAX_RANK];
  gint64 rank;
  AneMilVal *out;

  if (!all_tensors (call, error))
    return FALSE;
  x = ane_mil_infer_arg (call, "x");
  rank = x->rank;
  out = ane_mil_infer_out (call, ANE_MIL_DT_INT32, &rank, 1);
  for (guint i = 0; i < x->rank; i++)
    {
      if (x->shape[i] < 0)
        return TRUE;
      vals[i] = (double) x->shape[i];
    }
  ane_mil_infer_out_set_values (out, vals, x->rank);
  return TRUE;
}

/* iOS15/tensor_operation.py, class split: type_inference (lines 1158-1166)
 * with _get_num_splits_and_sizes (lines 1168-1217). One of num_splits and
 * split_sizes must be given. num_splits alone splits x.shape[axis] evenly
 * (a known dimension must be divisible; unknown stays unknown); with
 * split_sizes too it gives the output count and split_sizes' values the
 * first sizes (more sizes than outputs is refused, fewer leave x's
 * dimension); split_sizes alone gives one output per entry. num_splits 0
 * or negative gives no outputs (numpy's modulo by 0 does not raise). With
 * split_sizes alone and of unknown value the count is its rank, not its
 * length. The axis indexes python-style: negative from
 * the end, refused out of range -- only where it is used. */
ANE_MIL_INFER_RULE (split, ios15)
{
  const AneMilVal *x, *num_arg, *sizes_arg;
  gint64 axis_given, num = 0;
  g_autofree gint64 *sizes = NULL;
  gsize n_sizes = 0, n_out;
  guint axis = 0;

  if (!all_tensors (call, error))
    return FALSE;
  x = ane_mil_infer_arg (call, "x");
  num_arg = ane_mil_infer_arg (call, "num_splits");
  sizes_arg = ane_mil_infer_arg (call, "split_sizes");
  if (num_arg == NULL && sizes_arg == NULL)
    return ane_mil_infer_fail (call, error, "neither num_splits nor split_sizes is given");
  if (!known_int (call, "axis", 0, &axis_given, error))
    return FALSE;
  if (num_arg != NULL)
    {
      if (!known_int (call, "num_splits", 0, &num, error))
        return FALSE;
      if (num_arg->rank != 0)
        return ane_mil_infer_fail (call, error, "num_splits must be a scalar, not a tensor of rank %u",
                                   num_arg->rank);
    }
  if (sizes_arg != NULL && sizes_arg->values != NULL && sizes_arg->rank == 0)
    return ane_mil_infer_fail (call, error, "split_sizes must be a vector, not a scalar");

  if (num_arg != NULL && sizes_arg == NULL)
    {
      gint64 dim;

      if (!ane_mil_infer_axis (call, "axis", axis_given, x->rank, &axis, error))
        return FALSE;
      dim = x->shape[axis];
      /* numpy's int32 modulo by 0 gives 0 (with a warning), and 0 splits
       * give no outputs */
      if (dim >= 0 && num != 0 && dim % num != 0)
        return ane_mil_infer_fail (call, error, "num_splits %" G_GINT64_FORMAT " does not divide "
                                   "x.shape[%u] = %" G_GINT64_FORMAT, num, axis, dim);
      n_out = (gsize) MAX (num, 0);
      n_sizes = n_out;
      sizes = g_new (gint64, MAX (n_sizes, 1));
      for (gsize i = 0; i < n_sizes; i++)
        sizes[i] = dim >= 0 ? dim / num : ANE_MIL_DIM_UNKNOWN;
    }
  else if (sizes_arg->values != NULL)
    {
      n_sizes = sizes_arg->n_values;
      n_out = num_arg != NULL ? (gsize) MAX (num, 0) : n_sizes;
      sizes = g_new (gint64, MAX (n_sizes, 1));
      for (gsize i = 0; i < n_sizes; i++)
        sizes[i] = (gint64) sizes_arg->values[i];
    }
  else
    {
      if (num_arg != NULL)
        n_out = (gsize) MAX (num, 0);
      else
        {
          for (guint i = 0; i < sizes_arg->rank; i++)
            if (sizes_arg->shape[i] < 0)
              return ane_mil_infer_fail (call, error, "the number of splits is unknown: split_sizes "
                                         "has neither a known value nor a known shape");
          n_out = sizes_arg->rank;
        }
      n_sizes = n_out;
      sizes = g_new (gint64, MAX (n_sizes, 1));
      for (gsize i = 0; i < n_sizes; i++)
        sizes[i] = ANE_MIL_DIM_UNKNOWN;
    }

  if (n_sizes > n_out)
    return ane_mil_infer_fail (call, error, "split_sizes has %" G_GSIZE_FORMAT " entries for %"
                               G_GSIZE_FORMAT " outputs (num_splits)", n_sizes, n_out);
  if (n_sizes > 0 && !ane_mil_infer_axis (call, "axis", axis_given, x->rank, &axis, error))
    return FALSE;
  for (gsize i = 0; i < n_out; i++)
    {
      AneMilVal *out = ane_mil_infer_out_like (call, x, -1);

      if (i < n_sizes)
        out->shape[axis] = sizes[i] < 0 ? ANE_MIL_DIM_UNKNOWN : sizes[i];
    }
  return TRUE;
}

/* iOS15/tensor_operation.py, class stack: type_inference (lines 1260-1299).
 * The values must be non-empty, of one dtype, with shapes that agree where
 * both are known; the output shape is the first fully known one (else
 * values[0]'s) with the count inserted at the axis. A negative axis counts
 * from rank + 1; a larger than rank is refused, but one below -(rank + 1) is
 * not: python's list insert clamps it. value_inference (lines 1301-1313)
 * runs numpy's stack, which refuses that axis, when all values are known or
 * all are scalars; known values give the output's. */
ANE_MIL_INFER_RULE (stack, ios15)
{
  guint n = ane_mil_infer_n_args (call, "values");
  const AneMilVal *first, *ref = NULL;
  gint64 axis_given, axis, dims[ANE_MIL_INFER_MAX_RANK + 1];
  gboolean all_scalars = TRUE;
  guint rank, pos;
  AneMilVal *out;

  if (!all_tensors (call, error))
    return FALSE;
  if (n == 0)
    return ane_mil_infer_fail (call, error, "values is empty");
  first = ane_mil_infer_arg_nth (call, "values", 0);
  for (guint i = 0; i < n && ref == NULL; i++)
    {
      const AneMilVal *v = ane_mil_infer_arg_nth (call, "values", i);

      if (ane_mil_val_n_elements (v) >= 0)
        ref = v;
    }
  if (ref == NULL)
    ref = first;
  for (guint i = 0; i < n; i++)
    {
      const AneMilVal *v = ane_mil_infer_arg_nth (call, "values", i);
      gboolean ok = v->rank == ref->rank;

      for (guint d = 0; ok && d < v->rank; d++)
        ok = v->shape[d] < 0 || ref->shape[d] < 0 || v->shape[d] == ref->shape[d];
      if (!ok)
        {
          g_autofree char *sv = ane_mil_infer_dims_string (v->shape, v->rank);
          g_autofree char *sr = ane_mil_infer_dims_string (ref->shape, ref->rank);

          return ane_mil_infer_fail (call, error, "values[%u] has shape %s, the others %s", i, sv, sr);
        }
      if (v->dtype != first->dtype)
        return ane_mil_infer_fail (call, error, "values[%u] is %s, values[0] %s: the values must share "
                                   "one dtype", i, ane_mil_dt_name (v->dtype),
                                   ane_mil_dt_name (first->dtype));
      if (v->rank != 0)
        all_scalars = FALSE;
    }
  rank = first->rank;
  if (!known_int (call, "axis", 0, &axis_given, error))
    return FALSE;
  axis = axis_given < 0 ? axis_given + rank + 1 : axis_given;
  if (axis > (gint64) rank)
    return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of range for values of "
                               "rank %u", axis_given, rank);
  if ((all_scalars || tuple_known (call, "values")) && axis < 0)
    return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of range for values of "
                               "rank %u (coremltools' value inference)", axis_given, rank);
  /* list.insert: a negative position counts from the end, clamped to 0 */
  pos = (guint) (axis >= 0 ? axis : MAX (axis + (gint64) rank, 0));
  memcpy (dims, ref->shape, pos * sizeof (gint64));
  dims[pos] = n;
  memcpy (dims + pos + 1, ref->shape + pos, (rank - pos) * sizeof (gint64));
  out = ane_mil_infer_out (call, first->dtype, dims, rank + 1);

  if (tuple_known (call, "values"))
    {
      gint64 outer = dims_product (ref->shape, pos);
      gint64 inner = dims_product (ref->shape + pos, rank - pos);
      gsize total = (gsize) (outer * inner) * n, k = 0;
      g_autofree double *vals = g_new (double, MAX (total, 1));

      for (gint64 o = 0; o < outer; o++)
        for (guint i = 0; i < n; i++)
          {
            const AneMilVal *v = ane_mil_infer_arg_nth (call, "values", i);

            memcpy (vals + k, v->values + o * inner, (gsize) inner * sizeof (double));
            k += (gsize) inner;
          }
      ane_mil_infer_out_set_values (out, vals, total);
    }
  return TRUE;
}

/* iOS15/tensor_operation.py, class tile: type_inference (lines 662-697).
 * reps of unknown value gives rank(x) unknown dimensions (its length is not
 * checked then). Known reps must be a vector of rank(x) > 0 entries, each
 * positive; a known dimension is multiplied, an unknown one stays unknown. */
ANE_MIL_INFER_RULE (tile, ios15)
{
  const AneMilVal *x, *reps;
  gint64 dims[ANE_MIL_INFER_MAX_RANK];

  if (!all_tensors (call, error))
    return FALSE;
  x = ane_mil_infer_arg (call, "x");
  reps = ane_mil_infer_arg (call, "reps");
  if (reps->values == NULL)
    {
      for (guint i = 0; i < x->rank; i++)
        dims[i] = ANE_MIL_DIM_UNKNOWN;
      ane_mil_infer_out (call, x->dtype, dims, x->rank);
      return TRUE;
    }
  if (reps->rank != 1)
    return ane_mil_infer_fail (call, error, "reps must be a vector, not a tensor of rank %u", reps->rank);
  if (reps->n_values == 0 || reps->n_values != x->rank)
    return ane_mil_infer_fail (call, error, "reps has %" G_GSIZE_FORMAT " entries; it needs rank(x) = %u, "
                               "at least 1", reps->n_values, x->rank);
  for (guint i = 0; i < x->rank; i++)
    {
      if (reps->values[i] <= 0)
        return ane_mil_infer_fail (call, error, "reps[%u] is %g; every entry must be positive", i,
                                   reps->values[i]);
      dims[i] = x->shape[i] < 0 ? ANE_MIL_DIM_UNKNOWN : x->shape[i] * (gint64) reps->values[i];
    }
  ane_mil_infer_out (call, x->dtype, dims, x->rank);
  return TRUE;
}
