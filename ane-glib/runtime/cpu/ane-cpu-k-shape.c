/* runtime/cpu/ane-cpu-k-shape.c: shape, slice, gather/scatter, reduction,
 * scan and sort MIL kernels
 *
 * Semantics from coremltools' op definitions (ops/defs/iOS15..iOS18:
 * tensor_transformation.py, tensor_operation.py, scatter_gather.py,
 * reduction.py), their value_inference (numpy) and docstrings:
 *
 * - reshape: one -1 is inferred; a 0 copies a dimension of x, aligned from
 *   the right (iOS17), 1 beyond x's rank. When len(shape) == rank(x) that is
 *   iOS15's "same position" rule; iOS15 refuses other lengths with a 0,
 *   which this kernel accepts (it does not know the opset).
 * - slice_by_index: Python/numpy slicing per axis (x[begin:end:stride]),
 *   negative begin/end count from the end and clamp as numpy does; a mask
 *   bit replaces begin (end) by "from the start" ("to the end");
 *   squeeze_mask takes the single element at begin and drops the axis.
 *   slice_by_size: a negative begin counts from the end, size -1 takes the
 *   rest; the slice must lie inside x.
 * - gather / gather_along_axis / gather_nd / scatter / scatter_along_axis /
 *   scatter_nd: up to iOS16 negative indices in [-D, 0) wrap (iOS15
 *   docstring: "-D[axis] <= v < D[axis]"). From iOS17 on negative indices
 *   are out of bounds, and these ops gain validate_indices. The kernels do
 *   not know the opset, so they read the presence of validate_indices (an
 *   iOS17+ parameter; the lowering always writes it there) as "iOS17 rules":
 *   then a negative index is an error. Any other index outside [0, D) is a
 *   run-time error (MIL: an error with validate_indices, undefined without;
 *   the IR raises one too).
 * - scatter modes update/add/sub/mul/div/max/min apply in index order
 *   (np.ufunc.at); repeated indices accumulate in double and round once.
 *   Default mode "add" (DefaultInputs, whatever the docstring says).
 *   scatter_along_axis requires indices to have data's size on every axis
 *   but `axis` (type_inference asserts it), and so does this kernel.
 * - reductions accumulate in double whatever the storage (fp16 included)
 *   and are rounded once by the driver. Axes absent = all axes; an empty
 *   axes list reduces nothing (numpy axis=()). max/min propagate NaN
 *   (numpy); reduce_mean on integers truncates (numpy astype); argmax/argmin
 *   return the first extreme, a NaN counting as the extreme (numpy).
 *   reduce_log_sum_exp is max + log(sum(exp(x - max))); when the max is
 *   infinite the result is that max (numpy's formula gives NaN for a row of
 *   -inf, -inf being the exact answer).
 * - cumsum: tf.math.cumsum (exclusive: first output 0; reverse: from the
 *   end), accumulated in double; axis must be in [-1, rank) as MIL's
 *   type_inference demands.
 * - topk / argsort: a total order, so the result never depends on the sort
 *   routine: values descending (ascending with `ascending`), NaN ranked above
 *   every number as the IR (ane-ops-reduce.c) and torch.topk rank it, and
 *   equal values keep the lower index first, which is a stable sort and the
 *   IR's tie rule. (MIL's reference, an unstable np.argsort of -x, promises
 *   neither; see docs/lowering-shape.md.) sort = false still returns sorted
 *   values (MIL then promises no order). k = -1 (iOS17) selects all.
 * - band_part zeroes the cells outside the band (tf.linalg.band_part); pad
 *   modes constant/reflect/replicate as numpy's constant/reflect/edge.
 *
 * Every kernel checks the shapes it computes against the shapes the
 * program declares for its outputs, and its inputs' dtypes, and fails with
 * a message naming the problem rather than reading out of bounds.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cpu/ane-cpu-bcast-private.h"
#include "runtime/cpu/ane-cpu-dims-private.h"
#include "runtime/cpu/ane-cpu-kernels-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

/* --- helpers ---------------------------------------------------------------- */

static gboolean
need_outputs (AneCpuCtx *ctx,
              guint      n,
              GError   **error)
{
  if (ane_cpu_n_outputs (ctx) == n)
    return TRUE;
  return ane_cpu_fail (ctx, error, "has %u outputs where %u are expected", ane_cpu_n_outputs (ctx), n);
}

/* Output index must have the shape the op computes. */
static gboolean
check_shape (AneCpuCtx    *ctx,
             guint         index,
             const gint64 *shape,
             guint         rank,
             GError      **error)
{
  AneCpuValue *out = ane_cpu_out (ctx, index);
  g_autofree char *declared = NULL, *computed = NULL;

  if (ane_cpu_dims_equal (out->shape, out->rank, shape, rank))
    return TRUE;
  declared = ane_cpu_dims_string (out->shape, out->rank);
  computed = ane_cpu_dims_string (shape, rank);
  return ane_cpu_fail (ctx, error, "output %u is declared with shape %s, but the op computes %s",
                       index, declared, computed);
}

/* A required tensor parameter. With like, it must have like's dtype (the
 * data parameters of ops whose output has the dtype of their input). */
static const AneCpuValue *
data_input (AneCpuCtx         *ctx,
            const char        *param,
            const AneCpuValue *like,
            GError           **error)
{
  const AneCpuValue *v = ane_cpu_in (ctx, param);

  if (v == NULL)
    {
      ane_cpu_fail (ctx, error, "needs parameter '%s'", param);
      return NULL;
    }
  if (v->s != NULL)
    {
      ane_cpu_fail (ctx, error, "parameter '%s' is a string, not a tensor", param);
      return NULL;
    }
  if (like != NULL && (v->dtype != like->dtype || (v->f == NULL) != (like->f == NULL)))
    {
      ane_cpu_fail (ctx, error, "parameter '%s' is %s but the output is declared %s", param,
                    ane_dtype_to_string (v->dtype), ane_dtype_to_string (like->dtype));
      return NULL;
    }
  return v;
}

/* A required integer tensor parameter (indices). */
static const AneCpuValue *
index_input (AneCpuCtx  *ctx,
             const char *param,
             GError    **error)
{
  const AneCpuValue *v = data_input (ctx, param, NULL, error);

  if (v != NULL && v->i == NULL)
    {
      ane_cpu_fail (ctx, error, "parameter '%s' must be an integer tensor, not %s", param,
                    ane_dtype_to_string (v->dtype));
      return NULL;
    }
  return v;
}

/* An integer vector parameter of exactly n entries (or any length when n is
 * G_MAXSIZE); NULL with an error if required and missing or of the wrong
 * length, NULL without one if optional and missing. */
static gint64 *
int_vector (AneCpuCtx  *ctx,
            const char *param,
            gsize       n,
            gboolean    required,
            gsize      *n_out,
            GError    **error)
{
  gsize k = 0;
  gint64 *v = ane_cpu_ints (ctx, param, &k);

  if (n_out)
    *n_out = k;
  if (v == NULL)
    {
      if (required)
        ane_cpu_fail (ctx, error, "needs parameter '%s'", param);
      return NULL;
    }
  if (n != G_MAXSIZE && k != n)
    {
      g_free (v);
      ane_cpu_fail (ctx, error, "parameter '%s' has %zu entries where %zu are expected", param, k, n);
      return NULL;
    }
  return v;
}

static void
store (AneCpuValue *v,
       gsize        i,
       double       x)
{
  if (v->f)
    v->f[i] = (float) x;
  else if (v->dtype == ANE_DTYPE_BOOL)
    v->i[i] = x != 0.0;
  else if (isnan (x))
    v->i[i] = 0;
  else
    v->i[i] = (gint32) CLAMP (trunc (x), -2147483648.0, 2147483647.0);
}

static inline void
copy_elem (AneCpuValue       *out,
           gsize              o,
           const AneCpuValue *in,
           gsize              i)
{
  if (out->f)
    out->f[o] = in->f[i];
  else
    out->i[o] = in->i[i];
}

static inline void
copy_run (AneCpuValue       *out,
          gsize              o,
          const AneCpuValue *in,
          gsize              i,
          gsize              n)
{
  if (n == 0)
    return;
  if (n < 8)
    {
      /* a few elements (a concat of rope's [.., 1] halves): a call to
       * memcpy per element costs more than the copy */
      guint32 *d = out->f ? (guint32 *) out->f : (guint32 *) out->i;
      const guint32 *src = in->f ? (const guint32 *) in->f : (const guint32 *) in->i;

      for (gsize e = 0; e < n; e++)
        d[o + e] = src[i + e];
      return;
    }
  if (out->f)
    memcpy (out->f + o, in->f + i, n * sizeof (float));
  else
    memcpy (out->i + o, in->i + i, n * sizeof (gint32));
}

/* C-order walk over shape that tracks an offset moving by str[d] per step
 * of dimension d (strides may be 0 or negative). */
typedef struct {
  guint  rank;
  gint64 shape[ANE_CPU_MAX_RANK];
  gint64 c[ANE_CPU_MAX_RANK];
  gint64 str[ANE_CPU_MAX_RANK];
  gint64 off;
} Walk;

static void
walk_init (Walk         *w,
           const gint64 *shape,
           guint         rank,
           const gint64 *str,
           gint64        base)
{
  w->rank = rank;
  for (guint d = 0; d < rank; d++)
    {
      w->shape[d] = shape[d];
      w->c[d] = 0;
      w->str[d] = str ? str[d] : 0;
    }
  w->off = base;
}

static inline void
walk_next (Walk *w)
{
  for (guint d = w->rank; d-- > 0;)
    {
      w->c[d]++;
      w->off += w->str[d];
      if (w->c[d] < w->shape[d])
        return;
      w->off -= w->c[d] * w->str[d];
      w->c[d] = 0;
    }
}

/* out[o] = in[base + sum c_d * str[d]] for the C-order coordinates c of o.
 * Dims of size 1 are dropped and neighbours that step alike merged (numpy's
 * nditer coalescing, as ane-cpu-bcast.c does for non-negative strides; here
 * strides may be negative), so a slice or transpose walks runs as long as
 * the layouts allow and the walk's odometer moves once per run, not once
 * per element: rope's interleaved pairs ([.., 32, 2] sliced to [.., 32, 1])
 * become one run of stride 2. */
static void
copy_strided (AneCpuValue       *out,
              const AneCpuValue *in,
              gint64             base,
              const gint64      *str)
{
  gint64 shape[ANE_CPU_MAX_RANK], mstr[ANE_CPU_MAX_RANK];
  guint rank = 0;
  gint64 len, step;
  Walk w;

  if (out->n == 0)
    return;
  for (guint d = 0; d < out->rank; d++)
    {
      if (out->shape[d] == 1)
        continue;
      if (rank > 0 && mstr[rank - 1] == str[d] * out->shape[d])
        {
          shape[rank - 1] *= out->shape[d];
          mstr[rank - 1] = str[d];
          continue;
        }
      shape[rank] = out->shape[d];
      mstr[rank] = str[d];
      rank++;
    }
  if (rank == 0)
    {
      copy_elem (out, 0, in, (gsize) base);
      return;
    }
  len = shape[rank - 1];
  step = mstr[rank - 1];
  walk_init (&w, shape, rank - 1, mstr, base);
  for (gsize o = 0; o < out->n; o += (gsize) len, walk_next (&w))
    {
      if (step == 1)
        copy_run (out, o, in, (gsize) w.off, (gsize) len);
      else if (out->f)
        for (gint64 e = 0; e < len; e++)
          out->f[o + (gsize) e] = in->f[w.off + e * step];
      else
        for (gint64 e = 0; e < len; e++)
          out->i[o + (gsize) e] = in->i[w.off + e * step];
    }
}

/* A same-element copy under a new shape (reshape, expand_dims, squeeze,
 * flatten2d): the caller has checked the shapes. */
static gboolean
copy_reshaped (AneCpuCtx         *ctx,
               const AneCpuValue *x,
               const gint64      *shape,
               guint              rank,
               GError           **error)
{
  AneCpuValue *out = ane_cpu_out (ctx, 0);

  if (!check_shape (ctx, 0, shape, rank, error))
    return FALSE;
  if (out->n != x->n)
    return ane_cpu_fail (ctx, error, "x has %zu elements, the output %zu", x->n, out->n);
  copy_run (out, 0, x, 0, x->n);
  return TRUE;
}

/* The element count of shape, failing (instead of overflowing) past 2^62. */
static gboolean
count_elements (AneCpuCtx    *ctx,
                const gint64 *shape,
                guint         rank,
                gint64       *n,
                GError      **error)
{
  gint64 total = 1;

  for (guint d = 0; d < rank; d++)
    {
      if (shape[d] < 0)
        return ane_cpu_fail (ctx, error, "dimension %u is negative (%" G_GINT64_FORMAT ")", d, shape[d]);
      if (shape[d] > 0 && total > G_MAXINT64 / 4 / shape[d])
        return ane_cpu_fail (ctx, error, "the shape is too large");
      total *= shape[d];
    }
  *n = total;
  return TRUE;
}

/* --- reshape / transpose / expand_dims / squeeze / flatten2d / reverse ------ */

static gboolean
k_reshape (AneCpuCtx *ctx,
           GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  g_autofree gint64 *shape = NULL;
  gint64 target[ANE_CPU_MAX_RANK], known = 1;
  gssize infer = -1;
  gsize n;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL ||
      (shape = int_vector (ctx, "shape", G_MAXSIZE, TRUE, &n, error)) == NULL)
    return FALSE;
  if (n > ANE_CPU_MAX_RANK)
    return ane_cpu_fail (ctx, error, "shape has %zu entries, more than the %u supported", n, ANE_CPU_MAX_RANK);
  for (gsize k = 0; k < n; k++)
    {
      gint64 s = shape[k];

      if (s == -1)
        {
          if (infer >= 0)
            return ane_cpu_fail (ctx, error, "shape has more than one -1");
          infer = (gssize) k;
          continue;
        }
      if (s == 0)
        {
          /* aligned from the right; 1 past x's rank */
          gsize from_right = n - 1 - k;
          s = from_right < x->rank ? x->shape[x->rank - 1 - from_right] : 1;
        }
      else if (s < 0)
        return ane_cpu_fail (ctx, error, "shape entry %zu is %" G_GINT64_FORMAT, k, s);
      target[k] = s;
      if (s > 0 && known > G_MAXINT64 / 4 / s)
        return ane_cpu_fail (ctx, error, "the shape is too large");
      known *= s;
    }
  if (infer >= 0)
    {
      if (known == 0 || x->n % (gsize) known != 0)
        {
          g_autofree char *xs = ane_cpu_dims_string (x->shape, x->rank);
          return ane_cpu_fail (ctx, error, "cannot infer the -1 of the shape from x %s", xs);
        }
      target[infer] = (gint64) x->n / known;
      known *= target[infer];
    }
  if ((gsize) known != x->n)
    {
      g_autofree char *xs = ane_cpu_dims_string (x->shape, x->rank);
      g_autofree char *ts = ane_cpu_dims_string (target, (guint) n);
      return ane_cpu_fail (ctx, error, "cannot reshape x %s to %s", xs, ts);
    }
  return copy_reshaped (ctx, x, target, (guint) n, error);
}

static gboolean
k_transpose (AneCpuCtx *ctx,
             GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  g_autofree gint64 *perm = NULL;
  gint64 shape[ANE_CPU_MAX_RANK], xstr[ANE_CPU_MAX_RANK], str[ANE_CPU_MAX_RANK];
  gboolean seen[ANE_CPU_MAX_RANK] = { FALSE, };

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL ||
      (perm = int_vector (ctx, "perm", x->rank, TRUE, NULL, error)) == NULL)
    return FALSE;
  ane_cpu_strides (x, xstr);
  for (guint i = 0; i < x->rank; i++)
    {
      guint p;

      if (!ane_cpu_axis (ctx, perm[i], x->rank, &p, error))
        return FALSE;
      if (seen[p])
        return ane_cpu_fail (ctx, error, "perm names axis %u twice", p);
      seen[p] = TRUE;
      shape[i] = x->shape[p];
      str[i] = xstr[p];
    }
  if (!check_shape (ctx, 0, shape, x->rank, error))
    return FALSE;
  copy_strided (out, x, 0, str);
  return TRUE;
}

static gboolean
k_expand_dims (AneCpuCtx *ctx,
               GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  g_autofree gint64 *axes = NULL;
  gboolean inserted[ANE_CPU_MAX_RANK] = { FALSE, };
  gint64 shape[ANE_CPU_MAX_RANK];
  gsize n;
  guint out_rank, k = 0;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL ||
      (axes = int_vector (ctx, "axes", G_MAXSIZE, TRUE, &n, error)) == NULL)
    return FALSE;
  if (x->rank + n > ANE_CPU_MAX_RANK)
    return ane_cpu_fail (ctx, error, "the result would have rank %zu, more than the %u supported",
                         x->rank + n, ANE_CPU_MAX_RANK);
  out_rank = x->rank + (guint) n;
  for (gsize i = 0; i < n; i++)
    {
      guint a;

      if (!ane_cpu_axis (ctx, axes[i], out_rank, &a, error))
        return FALSE;
      if (inserted[a])
        return ane_cpu_fail (ctx, error, "axes names axis %u twice", a);
      inserted[a] = TRUE;
    }
  for (guint d = 0; d < out_rank; d++)
    shape[d] = inserted[d] ? 1 : x->shape[k++];
  return copy_reshaped (ctx, x, shape, out_rank, error);
}

static gboolean
k_squeeze (AneCpuCtx *ctx,
           GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  g_autofree gint64 *axes = NULL;
  gboolean drop[ANE_CPU_MAX_RANK] = { FALSE, };
  gint64 shape[ANE_CPU_MAX_RANK];
  gsize n;
  guint rank = 0;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL)
    return FALSE;
  axes = int_vector (ctx, "axes", G_MAXSIZE, FALSE, &n, error);
  if (axes == NULL)
    for (guint d = 0; d < x->rank; d++)
      drop[d] = x->shape[d] == 1;
  for (gsize i = 0; axes && i < n; i++)
    {
      guint a;

      if (!ane_cpu_axis (ctx, axes[i], x->rank, &a, error))
        return FALSE;
      if (drop[a])
        return ane_cpu_fail (ctx, error, "axes names axis %u twice", a);
      if (x->shape[a] != 1)
        return ane_cpu_fail (ctx, error, "cannot squeeze axis %u of size %" G_GINT64_FORMAT, a, x->shape[a]);
      drop[a] = TRUE;
    }
  for (guint d = 0; d < x->rank; d++)
    if (!drop[d])
      shape[rank++] = x->shape[d];
  return copy_reshaped (ctx, x, shape, rank, error);
}

static gboolean
k_flatten2d (AneCpuCtx *ctx,
             GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  gint64 axis = ane_cpu_int (ctx, "axis", 1), shape[2];

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL)
    return FALSE;
  if (axis < 0)
    axis += x->rank;
  if (axis < 0 || axis > (gint64) x->rank)
    return ane_cpu_fail (ctx, error, "axis %" G_GINT64_FORMAT " is out of range for rank %u",
                         ane_cpu_int (ctx, "axis", 1), x->rank);
  shape[0] = (gint64) ane_cpu_dims_product (x->shape, 0, (guint) axis);
  shape[1] = (gint64) ane_cpu_dims_product (x->shape, (guint) axis, x->rank);
  return copy_reshaped (ctx, x, shape, 2, error);
}

static gboolean
k_reverse (AneCpuCtx *ctx,
           GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  g_autofree gint64 *axes = NULL;
  gboolean flip[ANE_CPU_MAX_RANK] = { FALSE, };
  gint64 str[ANE_CPU_MAX_RANK], base = 0;
  gsize n;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL)
    return FALSE;
  axes = int_vector (ctx, "axes", G_MAXSIZE, FALSE, &n, error);
  for (guint d = 0; d < x->rank; d++)
    flip[d] = axes == NULL;
  for (gsize i = 0; axes && i < n; i++)
    {
      guint a;

      if (!ane_cpu_axis (ctx, axes[i], x->rank, &a, error))
        return FALSE;
      flip[a] = !flip[a];   /* np.flip twice is no flip */
    }
  if (!check_shape (ctx, 0, x->shape, x->rank, error))
    return FALSE;
  ane_cpu_strides (x, str);
  for (guint d = 0; d < x->rank; d++)
    if (flip[d] && x->shape[d] > 0)
      {
        base += (x->shape[d] - 1) * str[d];
        str[d] = -str[d];
      }
  copy_strided (out, x, base, str);
  return TRUE;
}

/* --- concat / split / stack / tile / pad -------------------------------------- */

static gboolean
k_concat (AneCpuCtx *ctx,
          GError   **error)
{
  AneCpuValue *out;
  g_autofree const AneCpuValue **values = NULL;
  gboolean interleave = ane_cpu_bool (ctx, "interleave", FALSE);
  gint64 shape[ANE_CPU_MAX_RANK];
  gsize outer, inner, o_off = 0;
  guint n, rank, axis;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  values = ane_cpu_in_tuple (ctx, "values", &n);
  if (n == 0)
    return ane_cpu_fail (ctx, error, "needs at least one value in 'values'");
  if (ane_cpu_in (ctx, "axis") == NULL)
    return ane_cpu_fail (ctx, error, "needs parameter 'axis'");
  rank = values[0]->rank;
  for (guint v = 0; v < n; v++)
    {
      if (values[v]->s || values[v]->dtype != out->dtype)
        return ane_cpu_fail (ctx, error, "value %u is %s but the output is declared %s", v,
                             ane_dtype_to_string (values[v]->dtype), ane_dtype_to_string (out->dtype));
      if (values[v]->rank != rank)
        return ane_cpu_fail (ctx, error, "value %u has rank %u, value 0 rank %u", v, values[v]->rank, rank);
    }
  if (rank == 0)
    {
      /* scalars are joined into a vector (type_inference counts each as 1) */
      gint64 len = n;

      if (!check_shape (ctx, 0, &len, 1, error))
        return FALSE;
      for (guint v = 0; v < n; v++)
        copy_elem (out, v, values[v], 0);
      return TRUE;
    }
  if (!ane_cpu_axis (ctx, ane_cpu_int (ctx, "axis", 0), rank, &axis, error))
    return FALSE;
  memcpy (shape, values[0]->shape, rank * sizeof (gint64));
  shape[axis] = 0;
  for (guint v = 0; v < n; v++)
    {
      for (guint d = 0; d < rank; d++)
        if ((d != axis || interleave) && values[v]->shape[d] != values[0]->shape[d])
          {
            g_autofree char *a = ane_cpu_dims_string (values[0]->shape, rank);
            g_autofree char *b = ane_cpu_dims_string (values[v]->shape, rank);
            return ane_cpu_fail (ctx, error, "value %u %s does not match value 0 %s%s", v, b, a,
                                 interleave ? " (interleave needs equal shapes)" : " off the axis");
          }
      shape[axis] += values[v]->shape[axis];
    }
  if (!check_shape (ctx, 0, shape, rank, error))
    return FALSE;
  outer = ane_cpu_dims_product (shape, 0, axis);
  inner = ane_cpu_dims_product (shape, axis + 1, rank);
  if (!interleave)
    {
      for (gsize o = 0; o < outer; o++)
        for (guint v = 0; v < n; v++)
          {
            gsize chunk = (gsize) values[v]->shape[axis] * inner;

            copy_run (out, o_off, values[v], o * chunk, chunk);
            o_off += chunk;
          }
    }
  else
    {
      gsize dim = (gsize) values[0]->shape[axis];

      /* out[.., j*n + v, ..] = values[v][.., j, ..] */
      for (gsize o = 0; o < outer; o++)
        for (gsize j = 0; j < dim; j++)
          for (guint v = 0; v < n; v++)
            {
              copy_run (out, o_off, values[v], (o * dim + j) * inner, inner);
              o_off += inner;
            }
    }
  return TRUE;
}

static gboolean
k_split (AneCpuCtx *ctx,
         GError   **error)
{
  guint n_out = ane_cpu_n_outputs (ctx), axis;
  const AneCpuValue *x;
  g_autofree gint64 *sizes = NULL;
  gsize outer, inner, n_sizes = 0, x_off;
  gint64 total = 0;

  if ((x = data_input (ctx, "x", NULL, error)) == NULL)
    return FALSE;
  if (n_out == 0)
    return ane_cpu_fail (ctx, error, "has no outputs");
  if (ane_cpu_in (ctx, "axis") == NULL)
    return ane_cpu_fail (ctx, error, "needs parameter 'axis'");
  if (!ane_cpu_axis (ctx, ane_cpu_int (ctx, "axis", 0), x->rank, &axis, error))
    return FALSE;
  sizes = int_vector (ctx, "split_sizes", G_MAXSIZE, FALSE, &n_sizes, error);
  if (ane_cpu_in (ctx, "num_splits") != NULL && ane_cpu_int (ctx, "num_splits", 0) != (gint64) n_out)
    return ane_cpu_fail (ctx, error, "num_splits is %" G_GINT64_FORMAT " but the op has %u outputs",
                         ane_cpu_int (ctx, "num_splits", 0), n_out);
  if (sizes == NULL)
    {
      if (ane_cpu_in (ctx, "num_splits") == NULL)
        return ane_cpu_fail (ctx, error, "needs num_splits or split_sizes");
      if (x->shape[axis] % n_out != 0)
        return ane_cpu_fail (ctx, error, "num_splits %u does not divide the axis of size %" G_GINT64_FORMAT,
                             n_out, x->shape[axis]);
      sizes = g_new (gint64, n_out);
      for (guint i = 0; i < n_out; i++)
        sizes[i] = x->shape[axis] / n_out;
    }
  else if (n_sizes != n_out)
    return ane_cpu_fail (ctx, error, "split_sizes has %zu entries but the op has %u outputs", n_sizes, n_out);
  for (guint i = 0; i < n_out; i++)
    {
      gint64 shape[ANE_CPU_MAX_RANK];

      if (sizes[i] < 0)
        return ane_cpu_fail (ctx, error, "split size %u is negative", i);
      total += sizes[i];
      memcpy (shape, x->shape, x->rank * sizeof (gint64));
      shape[axis] = sizes[i];
      if (!check_shape (ctx, i, shape, x->rank, error))
        return FALSE;
      if (ane_cpu_out (ctx, i)->dtype != x->dtype)
        return ane_cpu_fail (ctx, error, "output %u is declared %s but x is %s", i,
                             ane_dtype_to_string (ane_cpu_out (ctx, i)->dtype), ane_dtype_to_string (x->dtype));
    }
  if (total != x->shape[axis])
    return ane_cpu_fail (ctx, error, "the split sizes add up to %" G_GINT64_FORMAT ", not the axis size %"
                         G_GINT64_FORMAT, total, x->shape[axis]);
  outer = ane_cpu_dims_product (x->shape, 0, axis);
  inner = ane_cpu_dims_product (x->shape, axis + 1, x->rank);
  x_off = 0;
  for (gsize o = 0; o < outer; o++)
    for (guint i = 0; i < n_out; i++)
      {
        gsize chunk = (gsize) sizes[i] * inner;

        copy_run (ane_cpu_out (ctx, i), o * chunk, x, x_off, chunk);
        x_off += chunk;
      }
  return TRUE;
}

static gboolean
k_stack (AneCpuCtx *ctx,
         GError   **error)
{
  AneCpuValue *out;
  g_autofree const AneCpuValue **values = NULL;
  gint64 shape[ANE_CPU_MAX_RANK], axis;
  gsize outer, inner;
  guint n, rank;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  values = ane_cpu_in_tuple (ctx, "values", &n);
  if (n == 0)
    return ane_cpu_fail (ctx, error, "needs at least one value in 'values'");
  if (ane_cpu_in (ctx, "axis") == NULL)
    return ane_cpu_fail (ctx, error, "needs parameter 'axis'");
  rank = values[0]->rank;
  if (rank + 1 > ANE_CPU_MAX_RANK)
    return ane_cpu_fail (ctx, error, "the result would have rank %u, more than the %u supported",
                         rank + 1, ANE_CPU_MAX_RANK);
  for (guint v = 0; v < n; v++)
    {
      if (values[v]->s || values[v]->dtype != out->dtype)
        return ane_cpu_fail (ctx, error, "value %u is %s but the output is declared %s", v,
                             ane_dtype_to_string (values[v]->dtype), ane_dtype_to_string (out->dtype));
      if (values[v]->rank != rank ||
          (rank > 0 && memcmp (values[v]->shape, values[0]->shape, rank * sizeof (gint64)) != 0))
        return ane_cpu_fail (ctx, error, "value %u does not have the shape of value 0", v);
    }
  axis = ane_cpu_int (ctx, "axis", 0);
  if (axis < 0)
    axis += rank + 1;
  if (axis < 0 || axis > (gint64) rank)
    return ane_cpu_fail (ctx, error, "axis %" G_GINT64_FORMAT " is out of range for stacking rank %u",
                         ane_cpu_int (ctx, "axis", 0), rank);
  for (guint d = 0, k = 0; d <= rank; d++)
    shape[d] = d == (guint) axis ? (gint64) n : values[0]->shape[k++];
  if (!check_shape (ctx, 0, shape, rank + 1, error))
    return FALSE;
  outer = ane_cpu_dims_product (values[0]->shape, 0, (guint) axis);
  inner = ane_cpu_dims_product (values[0]->shape, (guint) axis, rank);
  for (gsize o = 0; o < outer; o++)
    for (guint v = 0; v < n; v++)
      copy_run (out, (o * n + v) * inner, values[v], o * inner, inner);
  return TRUE;
}

/* Elements per piece of a parallel tile: copies are cheaper than
 * arithmetic, so pieces are larger than the elementwise kernels'. */
#define TILE_GRAIN (1 << 15)
/* A repeated block is first doubled in place up to this many elements,
 * then copied from there: the source of every later copy stays in cache,
 * and a one-element block (a fill) takes a dozen copies, not one a cell. */
#define TILE_CHUNK 4096

/* tile on its canonical dims: x's shape and the repetitions with the
 * trivial axes dropped and neighbours that tile alike merged, so that
 * every level below copies as long runs as the layout allows. */
typedef struct {
  const guint32 *x;
  guint32       *out;
  guint          rank;
  gsize          xs[ANE_CPU_MAX_RANK];     /* x's size per dim */
  gsize          reps[ANE_CPU_MAX_RANK];
  gsize          xstr[ANE_CPU_MAX_RANK];   /* x's strides */
  gsize          ostr[ANE_CPU_MAX_RANK];   /* the output's strides */
  gsize          period;                   /* phase 2: the filled start of the output */
} TileJob;

/* p[0, period) holds a whole number of the repeated block: p[begin, end)
 * becomes its continuation. */
static void
tile_copy_periodic (guint32 *p,
                    gsize    period,
                    gsize    begin,
                    gsize    end)
{
  for (gsize e = begin; e < end;)
    {
      gsize off = e % period, n = MIN (period - off, end - e);

      memcpy (p + e, p + off, n * sizeof (guint32));
      e += n;
    }
}

/* p[0, block) is filled: repeats it up to p[total) (a multiple of block);
 * returns how much of the start was doubled in place (the period of the
 * rest), when the caller stops at that (rest FALSE). */
static gsize
tile_repeat (guint32 *p,
             gsize    block,
             gsize    total,
             gboolean rest)
{
  gsize have = block;

  while (have < total && have < TILE_CHUNK)
    {
      gsize n = MIN (have, total - have);

      memcpy (p + have, p, n * sizeof (guint32));
      have += n;
    }
  if (rest)
    tile_copy_periodic (p, have, have, total);
  return have;
}

/* Level d's whole block at o: x's elements from xoff on, each sub-block
 * filled, then the first repetition repeated. */
static void
tile_fill (const TileJob *j,
           guint          d,
           gsize          xoff,
           guint32       *o)
{
  if (d + 1 == j->rank)
    memcpy (o, j->x + xoff, j->xs[d] * sizeof (guint32));
  else
    for (gsize i = 0; i < j->xs[d]; i++)
      tile_fill (j, d + 1, xoff + i * j->xstr[d], o + i * j->ostr[d]);
  tile_repeat (o, j->xs[d] * j->ostr[d], j->reps[d] * j->xs[d] * j->ostr[d], TRUE);
}

/* Phase 1: sub-blocks [begin, end) of the top level's first repetition. */
static void
tile_top_range (gsize    begin,
                gsize    end,
                gpointer data)
{
  const TileJob *j = data;

  if (j->rank == 1)
    memcpy (j->out + begin, j->x + begin, (end - begin) * sizeof (guint32));
  else
    for (gsize i = begin; i < end; i++)
      tile_fill (j, 1, i * j->xstr[0], j->out + i * j->ostr[0]);
}

/* Phase 2: output elements [period + begin, period + end), repetitions of
 * the start. */
static void
tile_rest_range (gsize    begin,
                 gsize    end,
                 gpointer data)
{
  const TileJob *j = data;

  tile_copy_periodic (j->out, j->period, j->period + begin, j->period + end);
}

static gboolean
k_tile (AneCpuCtx *ctx,
        GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  g_autofree gint64 *reps = NULL;
  gint64 shape[ANE_CPU_MAX_RANK];
  gsize block;
  TileJob job = { 0, };

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL ||
      (reps = int_vector (ctx, "reps", x->rank, TRUE, NULL, error)) == NULL)
    return FALSE;
  if (x->rank == 0)
    return ane_cpu_fail (ctx, error, "x must have rank 1 or more");
  for (guint d = 0; d < x->rank; d++)
    {
      if (reps[d] <= 0)
        return ane_cpu_fail (ctx, error, "reps[%u] is %" G_GINT64_FORMAT "; every entry must be > 0", d, reps[d]);
      shape[d] = x->shape[d] * reps[d];
    }
  if (!check_shape (ctx, 0, shape, x->rank, error))
    return FALSE;
  if (out->n == 0)
    return TRUE;

  /* out[c] = x[c mod x.shape]. An axis of size 1 repeated once is no axis;
   * neighbours a, b merge when they tile as one axis: both unrepeated (x's
   * elements in a row), both of size 1 (one value repeated a.reps × b.reps
   * times), or a of size 1 over an unrepeated b (b's row repeated a.reps
   * times). */
  for (guint d = 0; d < x->rank; d++)
    {
      gsize xs = (gsize) x->shape[d], r = (gsize) reps[d];

      if (xs == 1 && r == 1)
        continue;
      while (job.rank > 0)
        {
          gsize *ps = &job.xs[job.rank - 1], *pr = &job.reps[job.rank - 1];

          if (*pr == 1 && r == 1)
            xs *= *ps;
          else if (*ps == 1 && xs == 1)
            r *= *pr;
          else if (*ps == 1 && r == 1)
            r = *pr;
          else
            break;
          job.rank--;
        }
      job.xs[job.rank] = xs;
      job.reps[job.rank] = r;
      job.rank++;
    }
  if (job.rank == 0)
    {
      job.xs[0] = job.reps[0] = 1;
      job.rank = 1;
    }
  job.xstr[job.rank - 1] = job.ostr[job.rank - 1] = 1;
  for (guint d = job.rank - 1; d-- > 0;)
    {
      job.xstr[d] = job.xstr[d + 1] * job.xs[d + 1];
      job.ostr[d] = job.ostr[d + 1] * job.xs[d + 1] * job.reps[d + 1];
    }
  /* the element copies move bits: floats and int32 alike */
  job.x = x->f ? (const guint32 *) x->f : (const guint32 *) x->i;
  job.out = out->f ? (guint32 *) out->f : (guint32 *) out->i;

  /* The top level in two parallel phases: its first repetition (x's
   * sub-blocks, each with its repetitions below), then the rest of the
   * output, copies of the first. */
  block = job.xs[0] * job.ostr[0];
  ane_cpu_parallel_for (job.xs[0], MAX (TILE_GRAIN / job.ostr[0], 1), tile_top_range, &job);
  job.period = tile_repeat (job.out, block, out->n, FALSE);
  ane_cpu_parallel_for (out->n - job.period, TILE_GRAIN, tile_rest_range, &job);
  return TRUE;
}

static gboolean
k_pad (AneCpuCtx *ctx,
       GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  g_autofree gint64 *pad = NULL;
  const char *mode = ane_cpu_string (ctx, "mode", "constant");
  double constant = ane_cpu_float (ctx, "constant_val", 0.0);
  gint64 before[ANE_CPU_MAX_RANK] = { 0, }, shape[ANE_CPU_MAX_RANK], xstr[ANE_CPU_MAX_RANK];
  gint64 c[ANE_CPU_MAX_RANK] = { 0, };
  gsize n;
  guint first;
  int kind;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL ||
      (pad = int_vector (ctx, "pad", G_MAXSIZE, TRUE, &n, error)) == NULL)
    return FALSE;
  if (g_str_equal (mode, "constant"))
    kind = 0;
  else if (g_str_equal (mode, "reflect"))
    kind = 1;
  else if (g_str_equal (mode, "replicate"))
    kind = 2;
  else
    return ane_cpu_fail (ctx, error, "unknown pad mode '%s'", mode);
  if (n % 2 != 0 || n / 2 > x->rank)
    return ane_cpu_fail (ctx, error, "pad has %zu entries; it needs 2 per padded axis, at most %u axes",
                         n, x->rank);
  first = x->rank - (guint) (n / 2);
  memcpy (shape, x->shape, x->rank * sizeof (gint64));
  for (guint d = first; d < x->rank; d++)
    {
      gint64 b = pad[2 * (d - first)], a = pad[2 * (d - first) + 1];

      if (b < 0 || a < 0)
        return ane_cpu_fail (ctx, error, "pad amounts must not be negative (axis %u)", d);
      if (kind == 1 && (b > x->shape[d] - 1 || a > x->shape[d] - 1))
        return ane_cpu_fail (ctx, error, "reflect pads axis %u of size %" G_GINT64_FORMAT
                             " by more than size - 1", d, x->shape[d]);
      if (kind == 2 && (b > 0 || a > 0) && x->shape[d] == 0)
        return ane_cpu_fail (ctx, error, "cannot replicate an empty axis %u", d);
      if (kind == 0 && (b > 0 || a > 0) && x->f == NULL && constant != trunc (constant))
        return ane_cpu_fail (ctx, error, "constant_val %g is not an integer", constant);
      before[d] = b;
      shape[d] = x->shape[d] + b + a;
    }
  if (!check_shape (ctx, 0, shape, x->rank, error))
    return FALSE;
  ane_cpu_strides (x, xstr);
  for (gsize o = 0; o < out->n; o++)
    {
      gint64 off = 0;
      gboolean outside = FALSE;

      for (guint d = 0; d < x->rank; d++)
        {
          gint64 s = c[d] - before[d], dim = x->shape[d];

          if (s < 0 || s >= dim)
            {
              if (kind == 0)
                outside = TRUE;
              else if (kind == 1)
                s = s < 0 ? -s : 2 * (dim - 1) - s;   /* numpy "reflect" (the edge not repeated) */
              else
                s = s < 0 ? 0 : dim - 1;              /* numpy "edge" */
            }
          off += s * xstr[d];
        }
      if (outside)
        store (out, o, constant);
      else
        copy_elem (out, o, x, (gsize) off);
      for (guint d = x->rank; d-- > 0;)
        {
          if (++c[d] < shape[d])
            break;
          c[d] = 0;
        }
    }
  return TRUE;
}

/* --- slices -------------------------------------------------------------------- */

typedef struct {
  gint64   start;
  gint64   step;
  gint64   len;
  gboolean squeeze;
} Span;

/* Python's slice(start, stop, step).indices(dim), with has_* FALSE for None. */
static void
python_slice (gint64    dim,
              gboolean  has_start,
              gint64    start,
              gboolean  has_stop,
              gint64    stop,
              gint64    step,
              Span     *span)
{
  gint64 lower = step > 0 ? 0 : -1, upper = step > 0 ? dim : dim - 1;

  if (!has_start)
    start = step < 0 ? upper : lower;
  else if (start < 0)
    start = MAX (start + dim, lower);
  else
    start = MIN (start, upper);
  if (!has_stop)
    stop = step < 0 ? lower : upper;
  else if (stop < 0)
    stop = MAX (stop + dim, lower);
  else
    stop = MIN (stop, upper);
  span->start = start;
  span->step = step;
  if (step > 0)
    span->len = start < stop ? (stop - start - 1) / step + 1 : 0;
  else
    span->len = stop < start ? (start - stop - 1) / (-step) + 1 : 0;
}

/* The per-axis spans of slice_by_index / slice_update on x. */
static gboolean
solve_slice (AneCpuCtx         *ctx,
             const AneCpuValue *x,
             Span              *spans,
             gint64            *shape,
             guint             *rank,
             GError           **error)
{
  g_autofree gint64 *begin = NULL, *end = NULL, *stride = NULL;
  g_autofree gint64 *begin_mask = NULL, *end_mask = NULL, *squeeze_mask = NULL;
  gsize n = x->rank;
  g_autoptr(GError) local = NULL;

  if ((begin = int_vector (ctx, "begin", n, TRUE, NULL, error)) == NULL ||
      (end = int_vector (ctx, "end", n, TRUE, NULL, error)) == NULL)
    return FALSE;
#define OPTIONAL(var, name) \
  var = int_vector (ctx, name, n, FALSE, NULL, &local); \
  if (local != NULL) { g_propagate_error (error, g_steal_pointer (&local)); return FALSE; }
  OPTIONAL (stride, "stride");
  OPTIONAL (begin_mask, "begin_mask");
  OPTIONAL (end_mask, "end_mask");
  OPTIONAL (squeeze_mask, "squeeze_mask");
#undef OPTIONAL
  *rank = 0;
  for (guint d = 0; d < x->rank; d++)
    {
      gboolean bm = begin_mask && begin_mask[d], em = end_mask && end_mask[d];
      gint64 step = stride ? stride[d] : 1;

      if (squeeze_mask && squeeze_mask[d])
        {
          /* value_inference: x[begin:None:INT32_MAX], then the axis is squeezed */
          python_slice (x->shape[d], !bm, begin[d], FALSE, 0, G_MAXINT32, &spans[d]);
          if (spans[d].len != 1)
            return ane_cpu_fail (ctx, error, "squeeze_mask on axis %u: begin %" G_GINT64_FORMAT
                                 " selects no element of a dimension of size %" G_GINT64_FORMAT,
                                 d, begin[d], x->shape[d]);
          spans[d].squeeze = TRUE;
          continue;
        }
      if (step == 0)
        return ane_cpu_fail (ctx, error, "stride[%u] is 0", d);
      python_slice (x->shape[d], !bm, begin[d], !em, end[d], step, &spans[d]);
      spans[d].squeeze = FALSE;
      shape[(*rank)++] = spans[d].len;
    }
  return TRUE;
}

static gboolean
k_slice_by_index (AneCpuCtx *ctx,
                  GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  Span spans[ANE_CPU_MAX_RANK];
  gint64 shape[ANE_CPU_MAX_RANK], xstr[ANE_CPU_MAX_RANK], str[ANE_CPU_MAX_RANK], base = 0;
  guint rank, k = 0;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL ||
      !solve_slice (ctx, x, spans, shape, &rank, error) ||
      !check_shape (ctx, 0, shape, rank, error))
    return FALSE;
  if (out->n == 0)
    return TRUE;
  ane_cpu_strides (x, xstr);
  for (guint d = 0; d < x->rank; d++)
    {
      base += spans[d].start * xstr[d];
      if (!spans[d].squeeze)
        str[k++] = spans[d].step * xstr[d];
    }
  copy_strided (out, x, base, str);
  return TRUE;
}

static gboolean
k_slice_update (AneCpuCtx *ctx,
                GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x, *update;
  Span spans[ANE_CPU_MAX_RANK];
  gint64 shape[ANE_CPU_MAX_RANK], xstr[ANE_CPU_MAX_RANK], str[ANE_CPU_MAX_RANK], base = 0;
  guint rank, k = 0;
  Walk w;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL ||
      (update = data_input (ctx, "update", out, error)) == NULL ||
      !check_shape (ctx, 0, x->shape, x->rank, error) ||
      !solve_slice (ctx, x, spans, shape, &rank, error))
    return FALSE;
  if (update->rank != rank || (rank > 0 && memcmp (update->shape, shape, rank * sizeof (gint64)) != 0))
    {
      g_autofree char *us = ane_cpu_dims_string (update->shape, update->rank);
      g_autofree char *ss = ane_cpu_dims_string (shape, rank);
      return ane_cpu_fail (ctx, error, "update %s does not have the slice's shape %s", us, ss);
    }
  if (out->f != x->f || out->i != x->i)
    copy_run (out, 0, x, 0, x->n);   /* else in place: x is the output's storage (a state, ane-cpu-plan.c) */
  if (update->n == 0)
    return TRUE;
  ane_cpu_strides (x, xstr);
  for (guint d = 0; d < x->rank; d++)
    {
      base += spans[d].start * xstr[d];
      if (!spans[d].squeeze)
        str[k++] = spans[d].step * xstr[d];
    }
  if (rank > 0 && str[rank - 1] == 1)
    {
      /* rows of the last axis whole (a decode step's key or value rows
       * written into its cache): a run per row, the walk over the others */
      gsize inner = (gsize) shape[rank - 1];

      walk_init (&w, shape, rank - 1, str, base);
      for (gsize i = 0; i < update->n; i += inner, walk_next (&w))
        copy_run (out, (gsize) w.off, update, i, inner);
      return TRUE;
    }
  walk_init (&w, shape, rank, str, base);
  for (gsize i = 0; i < update->n; i++, walk_next (&w))
    copy_elem (out, (gsize) w.off, update, i);
  return TRUE;
}

static gboolean
k_slice_by_size (AneCpuCtx *ctx,
                 GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  g_autofree gint64 *begin = NULL, *size = NULL;
  gint64 shape[ANE_CPU_MAX_RANK], xstr[ANE_CPU_MAX_RANK], base = 0;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL ||
      (begin = int_vector (ctx, "begin", x->rank, TRUE, NULL, error)) == NULL ||
      (size = int_vector (ctx, "size", x->rank, TRUE, NULL, error)) == NULL)
    return FALSE;
  ane_cpu_strides (x, xstr);
  for (guint d = 0; d < x->rank; d++)
    {
      gint64 b = begin[d] < 0 ? begin[d] + x->shape[d] : begin[d];
      gint64 s = size[d] == -1 ? x->shape[d] - b : size[d];

      if (b < 0 || b > x->shape[d] || s < 0 || b + s > x->shape[d])
        return ane_cpu_fail (ctx, error, "begin %" G_GINT64_FORMAT " size %" G_GINT64_FORMAT
                             " on axis %u of size %" G_GINT64_FORMAT " is outside x",
                             begin[d], size[d], d, x->shape[d]);
      shape[d] = s;
      base += b * xstr[d];
    }
  if (!check_shape (ctx, 0, shape, x->rank, error))
    return FALSE;
  if (out->n > 0)
    copy_strided (out, x, base, xstr);
  return TRUE;
}

/* --- gather / scatter ------------------------------------------------------------ */

/* Whether the op follows iOS17 index rules: validate_indices exists only
 * from iOS17 on, and the lowering always writes it there. */
static gboolean
ios17_indices (AneCpuCtx *ctx)
{
  return ane_cpu_in (ctx, "validate_indices") != NULL;
}

/* An index into a dimension of size dim, wrapped (before iOS17) or checked. */
static gboolean
resolve_index (AneCpuCtx *ctx,
               gint64     v,
               gint64     dim,
               gboolean   ios17,
               gint64    *out,
               GError   **error)
{
  if (v >= 0 && v < dim)
    {
      *out = v;
      return TRUE;
    }
  if (v < 0 && v >= -dim)
    {
      if (!ios17)
        {
          *out = v + dim;
          return TRUE;
        }
      return ane_cpu_fail (ctx, error, "index %" G_GINT64_FORMAT " is negative; from iOS17 on (the op has "
                           "validate_indices) negative indices are out of bounds (%s)", v,
                           ane_cpu_bool (ctx, "validate_indices", FALSE) ? "validate_indices is true"
                           : "undefined in MIL without validate_indices");
    }
  return ane_cpu_fail (ctx, error, "index %" G_GINT64_FORMAT " is out of range for a dimension of size %"
                       G_GINT64_FORMAT, v, dim);
}

static gboolean
k_gather (AneCpuCtx *ctx,
          GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x, *indices;
  gint64 batch = ane_cpu_int (ctx, "batch_dims", 0), shape[ANE_CPU_MAX_RANK], dim;
  gboolean ios17 = ios17_indices (ctx);
  gsize nb, pre, post, ni, o = 0;
  guint axis, rank = 0;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  /* rows of a weight the plan kept compressed (an embedding: ane-cpu-k-packed.c) */
  if ((x = ane_cpu_in (ctx, "x")) != NULL && x->packed != NULL)
    return ane_cpu_gather_packed (ctx, x, error);
  if ((x = data_input (ctx, "x", out, error)) == NULL ||
      (indices = index_input (ctx, "indices", error)) == NULL)
    return FALSE;
  if (!ane_cpu_axis (ctx, ane_cpu_int (ctx, "axis", 0), x->rank, &axis, error))
    return FALSE;
  if (batch < 0 || batch > (gint64) axis || batch > (gint64) indices->rank)
    return ane_cpu_fail (ctx, error, "batch_dims %" G_GINT64_FORMAT " must be in [0, min(axis %u, rank of "
                         "indices %u)]", batch, axis, indices->rank);
  for (guint d = 0; d < (guint) batch; d++)
    if (x->shape[d] != indices->shape[d])
      return ane_cpu_fail (ctx, error, "batch dimension %u differs between x and indices", d);
  if (x->rank - 1 + indices->rank - batch > ANE_CPU_MAX_RANK)
    return ane_cpu_fail (ctx, error, "the result's rank is too large");
  for (guint d = 0; d < axis; d++)
    shape[rank++] = x->shape[d];
  for (guint d = (guint) batch; d < indices->rank; d++)
    shape[rank++] = indices->shape[d];
  for (guint d = axis + 1; d < x->rank; d++)
    shape[rank++] = x->shape[d];
  if (!check_shape (ctx, 0, shape, rank, error))
    return FALSE;

  /* x as [nb][pre][dim][post], indices as [nb][ni], out as [nb][pre][ni][post] */
  nb = ane_cpu_dims_product (x->shape, 0, (guint) batch);
  pre = ane_cpu_dims_product (x->shape, (guint) batch, axis);
  dim = x->shape[axis];
  post = ane_cpu_dims_product (x->shape, axis + 1, x->rank);
  ni = ane_cpu_dims_product (indices->shape, (guint) batch, indices->rank);
  for (gsize b = 0; b < nb; b++)
    for (gsize p = 0; p < pre; p++)
      for (gsize i = 0; i < ni; i++)
        {
          gint64 k = 0;

          if (!resolve_index (ctx, indices->i[b * ni + i], dim, ios17, &k, error))
            return FALSE;
          copy_run (out, o, x, ((b * pre + p) * (gsize) dim + (gsize) k) * post, post);
          o += post;
        }
  return TRUE;
}

static gboolean
k_gather_along_axis (AneCpuCtx *ctx,
                     GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x, *indices;
  gboolean ios17 = ios17_indices (ctx);
  gint64 xstr[ANE_CPU_MAX_RANK], str[ANE_CPU_MAX_RANK];
  guint axis;
  Walk w;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL ||
      (indices = index_input (ctx, "indices", error)) == NULL)
    return FALSE;
  if (!ane_cpu_axis (ctx, ane_cpu_int (ctx, "axis", 0), x->rank, &axis, error))
    return FALSE;
  if (indices->rank != x->rank)
    return ane_cpu_fail (ctx, error, "indices have rank %u, x rank %u", indices->rank, x->rank);
  for (guint d = 0; d < x->rank; d++)
    if (d != axis && indices->shape[d] != x->shape[d])
      return ane_cpu_fail (ctx, error, "indices and x differ in size on axis %u", d);
  if (!check_shape (ctx, 0, indices->shape, indices->rank, error))
    return FALSE;
  ane_cpu_strides (x, xstr);
  memcpy (str, xstr, sizeof str);
  str[axis] = 0;
  walk_init (&w, indices->shape, indices->rank, str, 0);
  for (gsize i = 0; i < indices->n; i++, walk_next (&w))
    {
      gint64 k = 0;

      if (!resolve_index (ctx, indices->i[i], x->shape[axis], ios17, &k, error))
        return FALSE;
      copy_elem (out, i, x, (gsize) (w.off + k * xstr[axis]));
    }
  return TRUE;
}

/* The leading index tuples of gather_nd / scatter_nd: x offset of tuple t. */
static gboolean
nd_offset (AneCpuCtx         *ctx,
           const AneCpuValue *x,
           const AneCpuValue *indices,
           gsize              t,
           guint              batch,
           gsize              batch_index,
           gboolean           ios17,
           gsize             *offset,
           GError           **error)
{
  guint depth = (guint) indices->shape[indices->rank - 1];
  gint64 xstr[ANE_CPU_MAX_RANK];
  gint64 off = 0;

  ane_cpu_strides (x, xstr);
  /* batch dims: the batch_index-th batch */
  if (batch > 0)
    {
      gint64 bc[ANE_CPU_MAX_RANK];

      ane_cpu_unravel (batch_index, x->shape, batch, bc);
      for (guint d = 0; d < batch; d++)
        off += bc[d] * xstr[d];
    }
  for (guint j = 0; j < depth; j++)
    {
      gint64 k = 0;

      if (!resolve_index (ctx, indices->i[t * depth + j], x->shape[batch + j], ios17, &k, error))
        return FALSE;
      off += k * xstr[batch + j];
    }
  *offset = (gsize) off;
  return TRUE;
}

static gboolean
k_gather_nd (AneCpuCtx *ctx,
             GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x, *indices;
  gint64 batch = ane_cpu_int (ctx, "batch_dims", 0), shape[ANE_CPU_MAX_RANK];
  gboolean ios17 = ios17_indices (ctx);
  gsize tuples, per_batch, slice, o = 0;
  guint depth, rank = 0;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL ||
      (indices = index_input (ctx, "indices", error)) == NULL)
    return FALSE;
  if (indices->rank == 0)
    return ane_cpu_fail (ctx, error, "indices must have rank 1 or more");
  depth = (guint) indices->shape[indices->rank - 1];
  if (batch < 0 || batch >= (gint64) indices->rank || batch + depth > x->rank)
    return ane_cpu_fail (ctx, error, "batch_dims %" G_GINT64_FORMAT " and index depth %u do not fit x of rank %u "
                         "and indices of rank %u", batch, depth, x->rank, indices->rank);
  for (guint d = 0; d < (guint) batch; d++)
    if (x->shape[d] != indices->shape[d])
      return ane_cpu_fail (ctx, error, "batch dimension %u differs between x and indices", d);
  for (guint d = 0; d + 1 < indices->rank; d++)
    shape[rank++] = indices->shape[d];
  for (guint d = (guint) batch + depth; d < x->rank; d++)
    {
      if (rank >= ANE_CPU_MAX_RANK)
        return ane_cpu_fail (ctx, error, "the result's rank is too large");
      shape[rank++] = x->shape[d];
    }
  if (!check_shape (ctx, 0, shape, rank, error))
    return FALSE;
  tuples = ane_cpu_dims_product (indices->shape, 0, indices->rank - 1);
  per_batch = tuples / MAX (ane_cpu_dims_product (indices->shape, 0, (guint) batch), 1);
  slice = ane_cpu_dims_product (x->shape, (guint) batch + depth, x->rank);
  for (gsize t = 0; t < tuples; t++)
    {
      gsize off;

      if (!nd_offset (ctx, x, indices, t, (guint) batch, per_batch ? t / per_batch : 0, ios17, &off, error))
        return FALSE;
      copy_run (out, o, x, off, slice);
      o += slice;
    }
  return TRUE;
}

typedef enum {
  MODE_UPDATE, MODE_ADD, MODE_SUB, MODE_MUL, MODE_DIV, MODE_MAX, MODE_MIN,
} ScatterMode;

static gboolean
scatter_mode (AneCpuCtx   *ctx,
              ScatterMode *mode,
              GError     **error)
{
  static const char *const names[] = { "update", "add", "sub", "mul", "div", "max", "min" };
  const char *name = ane_cpu_string (ctx, "mode", "add");

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (name, names[i]))
      {
        *mode = (ScatterMode) i;
        return TRUE;
      }
  return ane_cpu_fail (ctx, error, "unknown scatter mode '%s'", name);
}

static inline double
scatter_apply (ScatterMode mode,
               double      cur,
               double      u)
{
  switch (mode)
    {
    case MODE_UPDATE: return u;
    case MODE_ADD:    return cur + u;
    case MODE_SUB:    return cur - u;
    case MODE_MUL:    return cur * u;
    case MODE_DIV:    return cur / u;
    case MODE_MAX:    return isnan (cur) || isnan (u) ? NAN : MAX (cur, u);
    case MODE_MIN:    return isnan (cur) || isnan (u) ? NAN : MIN (cur, u);
    default:          g_assert_not_reached ();
    }
}

/* The common start of the scatter kernels: the inputs, the mode and the
 * output's shape (data's), checked in this order. */
static gboolean
scatter_begin (AneCpuCtx          *ctx,
               const AneCpuValue **data,
               const AneCpuValue **indices,
               const AneCpuValue **updates,
               ScatterMode        *mode,
               GError            **error)
{
  AneCpuValue *out;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  return (*data = data_input (ctx, "data", out, error)) != NULL &&
         (*indices = index_input (ctx, "indices", error)) != NULL &&
         (*updates = data_input (ctx, "updates", out, error)) != NULL &&
         scatter_mode (ctx, mode, error) &&
         check_shape (ctx, 0, (*data)->shape, (*data)->rank, error);
}

/* The accumulators of a scatter. Each element of the result is data's
 * element combined in double with its updates in index order, rounded once.
 * An update usually touches a small part of data (the embedding gradient:
 * 64 rows of a [32000, 288] table), so rather than a double for every
 * element of data, only the elements some update reaches get one: a bit per
 * element of data marks them, and an element's accumulator is found by
 * counting the marked elements before it (a count per 64-element word plus
 * a popcount). Every other element keeps data's value. */
typedef struct {
  gsize    n;        /* data's elements */
  guint64 *bits;     /* ceil(n / 64) words: the elements updates reach */
  gsize   *before;   /* per word: the marked elements before it */
  double  *acc;      /* one per marked element, in offset order */
} ScatterAcc;

static void
scatter_acc_clear (ScatterAcc *s)
{
  g_clear_pointer (&s->bits, g_free);
  g_clear_pointer (&s->before, g_free);
  g_clear_pointer (&s->acc, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ScatterAcc, scatter_acc_clear)

static void
scatter_acc_init (ScatterAcc *s,
                  gsize       n)
{
  s->n = n;
  s->bits = g_new0 (guint64, MAX ((n + 63) / 64, 1));
}

/* Marks the elements [off, off + len) as updated. */
static void
scatter_mark (ScatterAcc *s,
              gsize       off,
              gsize       len)
{
  for (gsize e = off, end = off + len; e < end;)
    {
      guint b = (guint) (e % 64);
      gsize k = MIN (64 - b, end - e);

      s->bits[e / 64] |= (k == 64 ? ~G_GUINT64_CONSTANT (0) : (G_GUINT64_CONSTANT (1) << k) - 1) << b;
      e += k;
    }
}

/* After marking: numbers the marked elements and starts each accumulator
 * at data's value, as the double data held before its first update. */
static void
scatter_load (ScatterAcc        *s,
              const AneCpuValue *data)
{
  gsize words = (s->n + 63) / 64, count = 0;

  s->before = g_new (gsize, MAX (words, 1));
  for (gsize w = 0; w < words; w++)
    {
      s->before[w] = count;
      count += (gsize) __builtin_popcountll (s->bits[w]);
    }
  s->acc = g_new (double, MAX (count, 1));
  count = 0;
  for (gsize w = 0; w < words; w++)
    for (guint64 b = s->bits[w]; b != 0; b &= b - 1)
      s->acc[count++] = ane_cpu_value_get (data, w * 64 + (gsize) __builtin_ctzll (b));
}

/* The accumulator of marked element off (and, a run being marked whole, of
 * the elements after it in the run: the next ones). */
static inline double *
scatter_slot (const ScatterAcc *s,
              gsize             off)
{
  guint64 below = s->bits[off / 64] & ((G_GUINT64_CONSTANT (1) << (off % 64)) - 1);

  return s->acc + s->before[off / 64] + (gsize) __builtin_popcountll (below);
}

/* data's elements as the double round trip of the whole tensor left them
 * (what scatter_store needs): the same bits, but for a signalling NaN,
 * which float -> double -> float returns quiet (the quiet bit set, the
 * payload kept). */
static void
quiet_copy (guint32       *dst,
            const guint32 *src,
            gsize          n)
{
  for (gsize i = 0; i < n; i++)
    {
      guint32 b = src[i];

      /* exponent all ones, quiet bit clear, payload not zero: signalling */
      dst[i] = (b & 0x7fc00000) == 0x7f800000 && (b & 0x003fffff) != 0 ? b | 0x00400000 : b;
    }
}

#define QUIET_CHUNK 1024

typedef struct {
  guint32       *dst;
  const guint32 *src;
} QuietJob;

/* Chunks of a memcpy and a search for signalling NaNs, rather than
 * quiet_copy's select per element: the search has a constant trip count
 * and no store, so GCC vectorizes it at -O2, and the whole runs at memcpy's
 * speed (the select loop at half of it). */
static void
quiet_copy_range (gsize    begin,
                  gsize    end,
                  gpointer data)
{
  const QuietJob *j = data;
  gsize i = begin;

  for (; i + QUIET_CHUNK <= end; i += QUIET_CHUNK)
    {
      const guint32 *src = j->src + i;
      guint32 any = 0;

      memcpy (j->dst + i, src, QUIET_CHUNK * sizeof (guint32));
      for (gsize k = 0; k < QUIET_CHUNK; k++)
        any |= (src[k] & 0x7fc00000) == 0x7f800000 && (src[k] & 0x003fffff) != 0;
      if (any)
        quiet_copy (j->dst + i, src, QUIET_CHUNK);
    }
  quiet_copy (j->dst + i, j->src + i, end - i);
}

/* The result: data's elements as they are, each marked one its accumulator
 * rounded once. Storing a double of data's own value gives back the same
 * bits -- integers and bools are exact in double, and a float goes to
 * double and back unchanged but for a signalling NaN (quiet_copy) -- so
 * every element no update reaches is exactly what the accumulator of the
 * whole tensor made it. */
static void
scatter_store (const ScatterAcc  *s,
               AneCpuValue       *out,
               const AneCpuValue *data)
{
  gsize words = (s->n + 63) / 64, count = 0;

  if (out->f != NULL && out->f != data->f)
    {
      QuietJob job = { (guint32 *) out->f, (const guint32 *) data->f };

      ane_cpu_parallel_for (s->n, TILE_GRAIN, quiet_copy_range, &job);
    }
  else if (out->i != NULL && out->i != data->i && s->n > 0)
    memcpy (out->i, data->i, s->n * sizeof (gint32));
  for (gsize w = 0; w < words; w++)
    for (guint64 b = s->bits[w]; b != 0; b &= b - 1)
      store (out, w * 64 + (gsize) __builtin_ctzll (b), s->acc[count++]);
}

static gboolean
k_scatter (AneCpuCtx *ctx,
           GError   **error)
{
  const AneCpuValue *data, *indices, *updates;
  g_auto(ScatterAcc) s = { 0, };
  g_autofree gsize *rows = NULL;
  gint64 shape[ANE_CPU_MAX_RANK];
  gboolean ios17 = ios17_indices (ctx);
  ScatterMode mode;
  gsize pre, post, ni, dim;
  guint axis, rank = 0;

  if (!scatter_begin (ctx, &data, &indices, &updates, &mode, error))
    return FALSE;
  if (!ane_cpu_axis (ctx, ane_cpu_int (ctx, "axis", 0), data->rank, &axis, error))
    return FALSE;
  if (data->rank - 1 + indices->rank > ANE_CPU_MAX_RANK)
    return ane_cpu_fail (ctx, error, "the updates' rank is too large");
  /* updates = data.shape[:axis] + indices.shape + data.shape[axis+1:] */
  for (guint d = 0; d < axis; d++)
    shape[rank++] = data->shape[d];
  for (guint d = 0; d < indices->rank; d++)
    shape[rank++] = indices->shape[d];
  for (guint d = axis + 1; d < data->rank; d++)
    shape[rank++] = data->shape[d];
  if (updates->rank != rank || (rank > 0 && memcmp (updates->shape, shape, rank * sizeof (gint64)) != 0))
    {
      g_autofree char *us = ane_cpu_dims_string (updates->shape, updates->rank);
      g_autofree char *ws = ane_cpu_dims_string (shape, rank);
      return ane_cpu_fail (ctx, error, "updates %s should have shape %s", us, ws);
    }
  pre = ane_cpu_dims_product (data->shape, 0, axis);
  post = ane_cpu_dims_product (data->shape, axis + 1, data->rank);
  dim = (gsize) data->shape[axis];
  ni = indices->n;
  /* the indices are the same for every p: resolved once (when there is a
   * p at all: with none, no index was ever looked at) */
  rows = g_new (gsize, MAX (ni, 1));
  for (gsize i = 0; pre > 0 && i < ni; i++)
    {
      gint64 k = 0;

      if (!resolve_index (ctx, indices->i[i], data->shape[axis], ios17, &k, error))
        return FALSE;
      rows[i] = (gsize) k;
    }
  scatter_acc_init (&s, data->n);
  for (gsize p = 0; post > 0 && p < pre; p++)
    for (gsize i = 0; i < ni; i++)
      scatter_mark (&s, (p * dim + rows[i]) * post, post);
  scatter_load (&s, data);
  for (gsize p = 0; post > 0 && p < pre; p++)
    for (gsize i = 0; i < ni; i++)
      {
        double *acc = scatter_slot (&s, (p * dim + rows[i]) * post);
        gsize src = (p * ni + i) * post;

        for (gsize q = 0; q < post; q++)
          acc[q] = scatter_apply (mode, acc[q], ane_cpu_value_get (updates, src + q));
      }
  scatter_store (&s, ane_cpu_out (ctx, 0), data);
  return TRUE;
}

static gboolean
k_scatter_along_axis (AneCpuCtx *ctx,
                      GError   **error)
{
  const AneCpuValue *data, *indices, *updates;
  g_auto(ScatterAcc) s = { 0, };
  g_autofree gsize *dst = NULL;
  gint64 str[ANE_CPU_MAX_RANK], dstr[ANE_CPU_MAX_RANK];
  gboolean ios17 = ios17_indices (ctx);
  ScatterMode mode;
  guint axis;
  Walk w;

  if (!scatter_begin (ctx, &data, &indices, &updates, &mode, error))
    return FALSE;
  if (!ane_cpu_axis (ctx, ane_cpu_int (ctx, "axis", 0), data->rank, &axis, error))
    return FALSE;
  if (indices->rank != data->rank ||
      updates->rank != indices->rank ||
      memcmp (updates->shape, indices->shape, indices->rank * sizeof (gint64)) != 0)
    return ane_cpu_fail (ctx, error, "indices and updates must have one shape, of data's rank");
  /* MIL's type_inference: data.shape[i] == indices.shape[i] for i != axis */
  for (guint d = 0; d < data->rank; d++)
    if (d != axis && indices->shape[d] != data->shape[d])
      {
        g_autofree char *is = ane_cpu_dims_string (indices->shape, indices->rank);
        g_autofree char *ds = ane_cpu_dims_string (data->shape, data->rank);
        return ane_cpu_fail (ctx, error, "indices %s must have the size of data %s on every axis but %u "
                             "(axis %u differs)", is, ds, axis, d);
      }
  ane_cpu_strides (data, dstr);
  memcpy (str, dstr, sizeof str);
  str[axis] = 0;
  walk_init (&w, indices->shape, indices->rank, str, 0);
  dst = g_new (gsize, MAX (indices->n, 1));
  for (gsize i = 0; i < indices->n; i++, walk_next (&w))
    {
      gint64 k = 0;

      if (!resolve_index (ctx, indices->i[i], data->shape[axis], ios17, &k, error))
        return FALSE;
      dst[i] = (gsize) (w.off + k * dstr[axis]);
    }
  scatter_acc_init (&s, data->n);
  for (gsize i = 0; i < indices->n; i++)
    scatter_mark (&s, dst[i], 1);
  scatter_load (&s, data);
  for (gsize i = 0; i < indices->n; i++)
    {
      double *acc = scatter_slot (&s, dst[i]);

      *acc = scatter_apply (mode, *acc, ane_cpu_value_get (updates, i));
    }
  scatter_store (&s, ane_cpu_out (ctx, 0), data);
  return TRUE;
}

static gboolean
k_scatter_nd (AneCpuCtx *ctx,
              GError   **error)
{
  const AneCpuValue *data, *indices, *updates;
  g_auto(ScatterAcc) s = { 0, };
  g_autofree gsize *offs = NULL;
  gint64 shape[ANE_CPU_MAX_RANK];
  gboolean ios17 = ios17_indices (ctx);
  ScatterMode mode;
  gsize tuples, slice;
  guint depth, rank = 0;

  if (!scatter_begin (ctx, &data, &indices, &updates, &mode, error))
    return FALSE;
  if (indices->rank == 0)
    return ane_cpu_fail (ctx, error, "indices must have rank 1 or more");
  depth = (guint) indices->shape[indices->rank - 1];
  if (depth > data->rank)
    return ane_cpu_fail (ctx, error, "indices.shape[-1] = %u exceeds data's rank %u", depth, data->rank);
  /* updates = indices.shape[:-1] + data.shape[depth:] */
  for (guint d = 0; d + 1 < indices->rank; d++)
    shape[rank++] = indices->shape[d];
  for (guint d = depth; d < data->rank; d++)
    {
      if (rank >= ANE_CPU_MAX_RANK)
        return ane_cpu_fail (ctx, error, "the updates' rank is too large");
      shape[rank++] = data->shape[d];
    }
  if (updates->rank != rank || (rank > 0 && memcmp (updates->shape, shape, rank * sizeof (gint64)) != 0))
    {
      g_autofree char *us = ane_cpu_dims_string (updates->shape, updates->rank);
      g_autofree char *ws = ane_cpu_dims_string (shape, rank);
      return ane_cpu_fail (ctx, error, "updates %s should have shape %s", us, ws);
    }
  tuples = ane_cpu_dims_product (indices->shape, 0, indices->rank - 1);
  slice = ane_cpu_dims_product (data->shape, depth, data->rank);
  offs = g_new (gsize, MAX (tuples, 1));
  for (gsize t = 0; t < tuples; t++)
    if (!nd_offset (ctx, data, indices, t, 0, 0, ios17, &offs[t], error))
      return FALSE;
  scatter_acc_init (&s, data->n);
  for (gsize t = 0; slice > 0 && t < tuples; t++)
    scatter_mark (&s, offs[t], slice);
  scatter_load (&s, data);
  for (gsize t = 0; slice > 0 && t < tuples; t++)
    {
      double *acc = scatter_slot (&s, offs[t]);

      for (gsize q = 0; q < slice; q++)
        acc[q] = scatter_apply (mode, acc[q], ane_cpu_value_get (updates, t * slice + q));
    }
  scatter_store (&s, ane_cpu_out (ctx, 0), data);
  return TRUE;
}

/* --- reductions ------------------------------------------------------------------ */

typedef enum {
  R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_LOG_SUM, R_LOG_SUM_EXP, R_SUM_SQUARE,
} ReduceKind;

typedef struct {
  const AneCpuValue *x;
  ReduceKind         kind;
  double            *acc, *top;
  const gint64      *kstr;   /* output offsets per x dim (0 on reduced dims) */
  guint              lead;   /* x's leading kept dims: the blocks */
  gsize              outer, x_block, out_block;
} ReduceJob;

/* elements per piece of a parallel reduction */
#define REDUCE_GRAIN_ELEMS 16384

static void
reduce_blocks (gsize    begin,
               gsize    end,
               gpointer data)
{
  const ReduceJob *j = data;
  const AneCpuValue *x = j->x;
  const gint64 *shape = x->shape + j->lead, *kstr = j->kstr + j->lead;
  guint rank = x->rank - j->lead;
  double *acc = j->acc, *top = j->top;
  Walk w;

  /* Each block reduced to one value, of floats (RMS and layer norms'
   * means over the last axis): a plain loop over the block, the sums in
   * the order of the walk below, so the same bits without its per-element
   * odometer and switch. */
  if (j->out_block == 1 && x->f != NULL &&
      (j->kind == R_SUM || j->kind == R_MEAN || j->kind == R_LOG_SUM || j->kind == R_SUM_SQUARE ||
       j->kind == R_L2 || j->kind == R_L1))
    {
      for (gsize o = begin; o < end; o++)
        {
          const float *p = x->f + o * j->x_block;
          double a = acc[o];

          if (j->kind == R_SUM_SQUARE || j->kind == R_L2)
            for (gsize i = 0; i < j->x_block; i++)
              a += (double) p[i] * (double) p[i];
          else if (j->kind == R_L1)
            for (gsize i = 0; i < j->x_block; i++)
              a += fabs ((double) p[i]);
          else
            for (gsize i = 0; i < j->x_block; i++)
              a += (double) p[i];
          acc[o] = a;
        }
      return;
    }

  if (j->kind == R_LOG_SUM_EXP)
    for (gsize o = begin; o < end; o++)
      {
        walk_init (&w, shape, rank, kstr, (gint64) (o * j->out_block));
        for (gsize i = o * j->x_block; i < (o + 1) * j->x_block; i++, walk_next (&w))
          {
            double v = ane_cpu_value_get (x, i);
            double *t = &top[w.off];

            if (isnan (v) || v > *t)
              *t = isnan (*t) ? *t : v;
          }
      }

  for (gsize o = begin; o < end; o++)
    {
      walk_init (&w, shape, rank, kstr, (gint64) (o * j->out_block));
      for (gsize i = o * j->x_block; i < (o + 1) * j->x_block; i++, walk_next (&w))
        {
          double v = ane_cpu_value_get (x, i);
          double *a = &acc[w.off];

          switch (j->kind)
            {
            case R_SUM:
            case R_MEAN:
            case R_LOG_SUM:     *a += v; break;
            case R_PROD:        *a *= v; break;
            case R_L1:          *a += fabs (v); break;
            case R_L2:
            case R_SUM_SQUARE:  *a += v * v; break;
            case R_MAX:         if (isnan (v) || v > *a) *a = isnan (*a) ? *a : v; break;
            case R_MIN:         if (isnan (v) || v < *a) *a = isnan (*a) ? *a : v; break;
            case R_LOG_SUM_EXP: if (isfinite (top[w.off])) *a += exp (v - top[w.off]); break;
            default:            g_assert_not_reached ();
            }
        }
    }
}

static gboolean
run_reduce (AneCpuCtx  *ctx,
            ReduceKind  kind,
            GError    **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  g_autofree gint64 *axes = NULL;
  g_autofree double *acc = NULL, *top = NULL;
  gboolean reduced[ANE_CPU_MAX_RANK] = { FALSE, };
  gboolean keep = ane_cpu_bool (ctx, "keep_dims", FALSE);
  gint64 kshape[ANE_CPU_MAX_RANK], shape[ANE_CPU_MAX_RANK], kstr[ANE_CPU_MAX_RANK];
  double count = 1.0, init;
  gsize n;
  guint rank = 0;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL)
    return FALSE;
  axes = int_vector (ctx, "axes", G_MAXSIZE, FALSE, &n, error);
  if (axes == NULL)
    for (guint d = 0; d < x->rank; d++)
      reduced[d] = TRUE;
  for (gsize i = 0; axes && i < n; i++)
    {
      guint a;

      if (!ane_cpu_axis (ctx, axes[i], x->rank, &a, error))
        return FALSE;
      if (reduced[a])
        return ane_cpu_fail (ctx, error, "axes names axis %u twice", a);
      reduced[a] = TRUE;
    }
  for (guint d = 0; d < x->rank; d++)
    {
      kshape[d] = reduced[d] ? 1 : x->shape[d];
      if (reduced[d])
        count *= (double) x->shape[d];
      if (!reduced[d] || keep)
        shape[rank++] = kshape[d];
    }
  if (!check_shape (ctx, 0, shape, rank, error))
    return FALSE;

  /* the output in keep_dims form: the same C-order layout either way */
  {
    gint64 s = 1;
    for (guint d = x->rank; d-- > 0;)
      {
        kstr[d] = reduced[d] ? 0 : s;
        s *= kshape[d];
      }
  }
  switch (kind)
    {
    case R_PROD: init = 1.0; break;
    case R_MAX:  init = -INFINITY; break;
    case R_MIN:  init = INFINITY; break;
    default:     init = 0.0; break;
    }
  acc = g_new (double, MAX (out->n, 1));
  for (gsize i = 0; i < out->n; i++)
    acc[i] = init;

  if (kind == R_LOG_SUM_EXP)
    {
      top = g_new (double, MAX (out->n, 1));
      for (gsize i = 0; i < out->n; i++)
        top[i] = -INFINITY;
    }

  {
    /* The leading kept axes cut x into blocks that own disjoint outputs;
     * the pool shares out whole blocks, each walked in C order as the
     * serial loop would, so the split never changes a result. */
    ReduceJob job = { x, kind, acc, top, kstr, 0, 1, 1, 1 };
    guint lead = 0;

    while (lead < x->rank && !reduced[lead])
      job.outer *= (gsize) x->shape[lead++];
    job.lead = lead;
    if (job.outer > 0)
      {
        job.x_block = x->n / job.outer;
        job.out_block = out->n / job.outer;
        ane_cpu_parallel_for (job.outer, MAX (1, REDUCE_GRAIN_ELEMS / MAX (job.x_block, 1)),
                              reduce_blocks, &job);
      }
  }

  for (gsize i = 0; i < out->n; i++)
    {
      double r = acc[i];

      switch (kind)
        {
        case R_MEAN:        r /= count; break;   /* an empty mean is 0/0 = NaN, as numpy */
        case R_L2:          r = sqrt (r); break;
        case R_LOG_SUM:     r = log (r); break;
        case R_LOG_SUM_EXP: r = isfinite (top[i]) ? top[i] + log (r) : top[i]; break;
        default:            break;
        }
      store (out, i, r);
    }
  return TRUE;
}

#define REDUCE_KERNEL(name, kind) \
  static gboolean k_##name (AneCpuCtx *ctx, GError **error) { return run_reduce (ctx, kind, error); }

REDUCE_KERNEL (reduce_sum, R_SUM)
REDUCE_KERNEL (reduce_mean, R_MEAN)
REDUCE_KERNEL (reduce_max, R_MAX)
REDUCE_KERNEL (reduce_min, R_MIN)
REDUCE_KERNEL (reduce_prod, R_PROD)
REDUCE_KERNEL (reduce_l1_norm, R_L1)
REDUCE_KERNEL (reduce_l2_norm, R_L2)
REDUCE_KERNEL (reduce_log_sum, R_LOG_SUM)
REDUCE_KERNEL (reduce_log_sum_exp, R_LOG_SUM_EXP)
REDUCE_KERNEL (reduce_sum_square, R_SUM_SQUARE)

/* x viewed as [outer][dim][inner] around axis. */
static void
split_axis (const AneCpuValue *x,
            guint              axis,
            gsize             *outer,
            gsize             *dim,
            gsize             *inner)
{
  *outer = ane_cpu_dims_product (x->shape, 0, axis);
  *dim = (gsize) x->shape[axis];
  *inner = ane_cpu_dims_product (x->shape, axis + 1, x->rank);
}

static gboolean
run_arg_reduce (AneCpuCtx *ctx,
                gboolean   want_max,
                GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  gboolean keep = ane_cpu_bool (ctx, "keep_dims", FALSE);
  gint64 shape[ANE_CPU_MAX_RANK];
  gsize outer, dim, inner;
  guint axis, rank = 0;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", NULL, error)) == NULL)
    return FALSE;
  if (out->i == NULL)
    return ane_cpu_fail (ctx, error, "the output must be an integer tensor, not %s", ane_dtype_to_string (out->dtype));
  if (!ane_cpu_axis (ctx, ane_cpu_int (ctx, "axis", -1), x->rank, &axis, error))
    return FALSE;
  for (guint d = 0; d < x->rank; d++)
    if (d != axis || keep)
      shape[rank++] = d == axis ? 1 : x->shape[d];
  if (!check_shape (ctx, 0, shape, rank, error))
    return FALSE;
  split_axis (x, axis, &outer, &dim, &inner);
  if (dim == 0 && out->n > 0)
    return ane_cpu_fail (ctx, error, "cannot take the arg%s of an empty axis", want_max ? "max" : "min");
  for (gsize o = 0; o < outer; o++)
    for (gsize i = 0; i < inner; i++)
      {
        gsize best = 0;
        double bv = ane_cpu_value_get (x, o * dim * inner + i);

        /* numpy: the first extreme; the first NaN, if any */
        for (gsize j = 1; j < dim && !isnan (bv); j++)
          {
            double v = ane_cpu_value_get (x, (o * dim + j) * inner + i);

            if (isnan (v) || (want_max ? v > bv : v < bv))
              {
                best = j;
                bv = v;
              }
          }
        out->i[o * inner + i] = (gint32) best;
      }
  return TRUE;
}

static gboolean k_reduce_argmax (AneCpuCtx *ctx, GError **error) { return run_arg_reduce (ctx, TRUE, error); }
static gboolean k_reduce_argmin (AneCpuCtx *ctx, GError **error) { return run_arg_reduce (ctx, FALSE, error); }

/* --- cumsum ------------------------------------------------------------------------ */

static gboolean
k_cumsum (AneCpuCtx *ctx,
          GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  gint64 axis_param = ane_cpu_int (ctx, "axis", 0);
  gboolean exclusive = ane_cpu_bool (ctx, "exclusive", FALSE);
  gboolean reverse = ane_cpu_bool (ctx, "reverse", FALSE);
  gsize outer, dim, inner;
  guint axis;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL ||
      !check_shape (ctx, 0, x->shape, x->rank, error))
    return FALSE;
  /* MIL's type_inference accepts only -1 <= axis < rank */
  if (axis_param < -1 || axis_param >= (gint64) x->rank)
    return ane_cpu_fail (ctx, error, "axis %" G_GINT64_FORMAT " is outside MIL's range [-1, %u)", axis_param, x->rank);
  axis = axis_param < 0 ? x->rank - 1 : (guint) axis_param;
  split_axis (x, axis, &outer, &dim, &inner);
  for (gsize o = 0; o < outer; o++)
    for (gsize i = 0; i < inner; i++)
      {
        double acc = 0.0;

        for (gsize t = 0; t < dim; t++)
          {
            gsize j = reverse ? dim - 1 - t : t;
            gsize off = (o * dim + j) * inner + i;
            double v = ane_cpu_value_get (x, off);

            if (exclusive)
              {
                store (out, off, acc);
                acc += v;
              }
            else
              {
                acc += v;
                store (out, off, acc);
              }
          }
      }
  return TRUE;
}

/* --- topk / argsort -------------------------------------------------------------- */

typedef struct {
  double v;
  gsize  i;
} Entry;

/* Descending, NaN above every number, ties to the lower index. */
static int
entry_desc (const void *pa,
            const void *pb)
{
  const Entry *a = pa, *b = pb;
  gboolean an = isnan (a->v), bn = isnan (b->v);

  if (an != bn)
    return an ? -1 : 1;
  if (!an && a->v != b->v)
    return a->v > b->v ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i ? 1 : 0;
}

/* Ascending, NaN above every number (so last), ties to the lower index. */
static int
entry_asc (const void *pa,
           const void *pb)
{
  const Entry *a = pa, *b = pb;
  gboolean an = isnan (a->v), bn = isnan (b->v);

  if (an != bn)
    return an ? 1 : -1;
  if (!an && a->v != b->v)
    return a->v < b->v ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i ? 1 : 0;
}

/* Sorts every lane of x along axis; emit(o, i, j, entry) for the first k. */
static void
sort_lanes (const AneCpuValue *x,
            guint              axis,
            gboolean           ascending,
            gsize              k,
            AneCpuValue       *values,
            AneCpuValue       *indices)
{
  gsize outer, dim, inner;
  g_autofree Entry *lane = NULL;

  split_axis (x, axis, &outer, &dim, &inner);
  lane = g_new (Entry, MAX (dim, 1));
  for (gsize o = 0; o < outer; o++)
    for (gsize i = 0; i < inner; i++)
      {
        for (gsize j = 0; j < dim; j++)
          {
            lane[j].v = ane_cpu_value_get (x, (o * dim + j) * inner + i);
            lane[j].i = j;
          }
        qsort (lane, dim, sizeof (Entry), ascending ? entry_asc : entry_desc);
        for (gsize j = 0; j < k; j++)
          {
            gsize off = (o * k + j) * inner + i;

            if (values)
              copy_elem (values, off, x, (o * dim + lane[j].i) * inner + i);
            if (indices)
              indices->i[off] = (gint32) lane[j].i;
          }
      }
}

static gboolean
k_topk (AneCpuCtx *ctx,
        GError   **error)
{
  AneCpuValue *values, *indices = NULL;
  const AneCpuValue *x;
  gboolean return_indices = ane_cpu_bool (ctx, "return_indices", TRUE);
  gboolean ascending = ane_cpu_bool (ctx, "ascending", FALSE);
  gint64 k = ane_cpu_int (ctx, "k", 1), shape[ANE_CPU_MAX_RANK];
  guint axis;

  if (!need_outputs (ctx, return_indices ? 2 : 1, error))
    return FALSE;
  values = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", values, error)) == NULL)
    return FALSE;
  if (x->rank == 0)
    return ane_cpu_fail (ctx, error, "x must have rank 1 or more");
  if (!ane_cpu_axis (ctx, ane_cpu_int (ctx, "axis", -1), x->rank, &axis, error))
    return FALSE;
  if (k == -1)
    k = x->shape[axis];   /* iOS17: all */
  if (k < 0 || k > x->shape[axis])
    return ane_cpu_fail (ctx, error, "k %" G_GINT64_FORMAT " is outside [0, %" G_GINT64_FORMAT "]", k, x->shape[axis]);
  memcpy (shape, x->shape, x->rank * sizeof (gint64));
  shape[axis] = k;
  if (!check_shape (ctx, 0, shape, x->rank, error))
    return FALSE;
  if (return_indices)
    {
      indices = ane_cpu_out (ctx, 1);
      if (!check_shape (ctx, 1, shape, x->rank, error))
        return FALSE;
      if (indices->i == NULL)
        return ane_cpu_fail (ctx, error, "the indices output must be an integer tensor, not %s",
                             ane_dtype_to_string (indices->dtype));
    }
  sort_lanes (x, axis, ascending, (gsize) k, values, indices);
  return TRUE;
}

static gboolean
k_argsort (AneCpuCtx *ctx,
           GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  guint axis;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", NULL, error)) == NULL)
    return FALSE;
  if (x->rank == 0)
    return ane_cpu_fail (ctx, error, "x must have rank 1 or more");
  if (out->i == NULL)
    return ane_cpu_fail (ctx, error, "the output must be an integer tensor, not %s", ane_dtype_to_string (out->dtype));
  if (!ane_cpu_axis (ctx, ane_cpu_int (ctx, "axis", -1), x->rank, &axis, error) ||
      !check_shape (ctx, 0, x->shape, x->rank, error))
    return FALSE;
  sort_lanes (x, axis, ane_cpu_bool (ctx, "ascending", FALSE), (gsize) x->shape[axis], NULL, out);
  return TRUE;
}

/* --- band_part / range_1d / fill / fill_like / shape --------------------------------- */

static gboolean
k_band_part (AneCpuCtx *ctx,
             GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  gint64 lower = ane_cpu_int (ctx, "lower", -1), upper = ane_cpu_int (ctx, "upper", -1);
  gsize rows, cols;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", out, error)) == NULL ||
      !check_shape (ctx, 0, x->shape, x->rank, error))
    return FALSE;
  if (x->rank < 2)
    return ane_cpu_fail (ctx, error, "x must have rank 2 or more");
  rows = (gsize) x->shape[x->rank - 2];
  cols = (gsize) x->shape[x->rank - 1];
  for (gsize i = 0; i < x->n; i++)
    {
      gint64 m = (gint64) ((i / cols) % rows), c = (gint64) (i % cols);
      gboolean in_band = (lower < 0 || m - c <= lower) && (upper < 0 || c - m <= upper);

      if (in_band)
        copy_elem (out, i, x, i);
      else
        store (out, i, 0.0);
    }
  return TRUE;
}

static gboolean
k_range_1d (AneCpuCtx *ctx,
            GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *start, *end, *step;
  double s, e, st, len;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((start = data_input (ctx, "start", out, error)) == NULL ||
      (end = data_input (ctx, "end", out, error)) == NULL ||
      (step = data_input (ctx, "step", out, error)) == NULL)
    return FALSE;
  if (start->n != 1 || end->n != 1 || step->n != 1)
    return ane_cpu_fail (ctx, error, "start, end and step must be scalars");
  s = ane_cpu_value_get (start, 0);
  e = ane_cpu_value_get (end, 0);
  st = ane_cpu_value_get (step, 0);
  if (st == 0.0 || !isfinite (s) || !isfinite (e) || !isfinite (st))
    return ane_cpu_fail (ctx, error, "range_1d needs a finite start and end and a finite non-zero step");
  len = MAX (ceil ((e - s) / st), 0.0);
  if (len > (double) G_MAXINT32)
    return ane_cpu_fail (ctx, error, "the range is too long");
  {
    gint64 n = (gint64) len;
    if (!check_shape (ctx, 0, &n, 1, error))
      return FALSE;
  }
  for (gsize i = 0; i < out->n; i++)
    store (out, i, s + (double) i * st);
  return TRUE;
}

static gboolean
run_fill (AneCpuCtx    *ctx,
          const gint64 *shape,
          guint         rank,
          GError      **error)
{
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  const AneCpuValue *value = ane_cpu_in (ctx, "value");
  double v = 0.0;

  if (value != NULL)
    {
      if (value->s != NULL || value->n != 1)
        return ane_cpu_fail (ctx, error, "value must be a scalar");
      v = ane_cpu_value_get (value, 0);
    }
  if (!check_shape (ctx, 0, shape, rank, error))
    return FALSE;
  for (gsize i = 0; i < out->n; i++)
    store (out, i, v);
  return TRUE;
}

static gboolean
k_fill (AneCpuCtx *ctx,
        GError   **error)
{
  g_autofree gint64 *shape = NULL;
  gint64 total;
  gsize n;

  if (!need_outputs (ctx, 1, error) ||
      (shape = int_vector (ctx, "shape", G_MAXSIZE, TRUE, &n, error)) == NULL)
    return FALSE;
  if (n > ANE_CPU_MAX_RANK)
    return ane_cpu_fail (ctx, error, "shape has %zu entries, more than the %u supported", n, ANE_CPU_MAX_RANK);
  if (!count_elements (ctx, shape, (guint) n, &total, error))
    return FALSE;
  return run_fill (ctx, shape, (guint) n, error);
}

static gboolean
k_fill_like (AneCpuCtx *ctx,
             GError   **error)
{
  const AneCpuValue *ref;

  if (!need_outputs (ctx, 1, error) ||
      (ref = data_input (ctx, "ref_tensor", NULL, error)) == NULL)
    return FALSE;
  return run_fill (ctx, ref->shape, ref->rank, error);
}

static gboolean
k_shape (AneCpuCtx *ctx,
         GError   **error)
{
  AneCpuValue *out;
  const AneCpuValue *x;
  gint64 rank;

  if (!need_outputs (ctx, 1, error))
    return FALSE;
  out = ane_cpu_out (ctx, 0);
  if ((x = data_input (ctx, "x", NULL, error)) == NULL)
    return FALSE;
  rank = x->rank;
  if (!check_shape (ctx, 0, &rank, 1, error))
    return FALSE;
  for (guint d = 0; d < x->rank; d++)
    store (out, d, (double) x->shape[d]);
  return TRUE;
}

const AneCpuKernel ane_cpu_kernels_shape[] = {
  { "reshape", k_reshape }, { "transpose", k_transpose }, { "expand_dims", k_expand_dims },
  { "squeeze", k_squeeze }, { "flatten2d", k_flatten2d }, { "reverse", k_reverse },
  { "concat", k_concat }, { "split", k_split }, { "stack", k_stack }, { "tile", k_tile },
  { "pad", k_pad },
  { "slice_by_index", k_slice_by_index }, { "slice_by_size", k_slice_by_size },
  { "slice_update", k_slice_update },
  { "gather", k_gather }, { "gather_along_axis", k_gather_along_axis }, { "gather_nd", k_gather_nd },
  { "scatter", k_scatter }, { "scatter_along_axis", k_scatter_along_axis }, { "scatter_nd", k_scatter_nd },
  { "reduce_sum", k_reduce_sum }, { "reduce_mean", k_reduce_mean }, { "reduce_max", k_reduce_max },
  { "reduce_min", k_reduce_min }, { "reduce_prod", k_reduce_prod },
  { "reduce_l1_norm", k_reduce_l1_norm }, { "reduce_l2_norm", k_reduce_l2_norm },
  { "reduce_log_sum", k_reduce_log_sum }, { "reduce_log_sum_exp", k_reduce_log_sum_exp },
  { "reduce_sum_square", k_reduce_sum_square },
  { "reduce_argmax", k_reduce_argmax }, { "reduce_argmin", k_reduce_argmin },
  { "cumsum", k_cumsum }, { "topk", k_topk }, { "argsort", k_argsort },
  { "band_part", k_band_part }, { "range_1d", k_range_1d }, { "fill", k_fill },
  { "fill_like", k_fill_like }, { "shape", k_shape },
  { NULL, NULL }
};
