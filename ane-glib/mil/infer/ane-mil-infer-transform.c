/* mil/infer/ane-mil-infer-transform.c: type-inference rules, tensor transformations (reshape, slices, squeeze, transpose, ...)
 *
 * Each rule mirrors the type_inference (and the checks it makes) of the
 * coremltools op class named in its row's source (ane-mil-opdefs.c), paths
 * relative to coremltools/converters/mil/mil/ops/defs/ in coremltools 9.0.
 *
 * Every iOS17 class of this family (iOS17/tensor_transformation.py)
 * subclasses its iOS15 class and only widens the dtypes, except reshape,
 * whose zeros in shape are read another way; slice_update is new in iOS18.
 *
 * Where x's value is known, pymil's value_inference of these ops runs too
 * (Operation._auto_val), and some of its numpy calls raise where the type
 * inference does not: those failures are mirrored as well, and the value is
 * kept for later ops (shapes and axes computed from consts).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/infer/ane-mil-infer-rules-private.h"

#define UNK ANE_MIL_DIM_UNKNOWN

/* ---------------------------------------------------------------------- */
/* shared                                                                 */
/* ---------------------------------------------------------------------- */

/* x of a type the mirror does not model: nothing to judge. */
static gboolean
out_other (AneMilInferCall *call)
{
  g_ptr_array_add (call->outputs, ane_mil_val_new_other ());
  return TRUE;
}

/* Appends the output. pymil keeps whatever number its arithmetic gives as a
 * dimension; a -1 counts as unspecified in its comparison
 * (types/type_tensor.py, is_tensor_and_is_compatible), as here, but any
 * other negative number only matches a declared symbol: a call giving one
 * is refused (no program should declare such an op). Above
 * ANE_MIL_INFER_MAX_RANK the output is not modelled. NULL on error. */
static AneMilVal *
emit (AneMilInferCall *call,
      int              dtype,
      const gint64    *shape,
      guint            rank,
      GError         **error)
{
  if (rank > ANE_MIL_INFER_MAX_RANK)
    {
      AneMilVal *v = ane_mil_val_new_other ();

      g_ptr_array_add (call->outputs, v);
      return v;
    }
  for (guint i = 0; i < rank; i++)
    if (shape[i] < UNK)
      {
        ane_mil_infer_fail (call, error, "coremltools infers dimension %u of the output as %" G_GINT64_FORMAT
                            " (a negative size no declared dimension can match)", i, shape[i]);
        return NULL;
      }
  return ane_mil_infer_out (call, dtype, shape, rank);
}

/* Python's a // b as numpy computes it on integers: rounded down, and 0
 * (with a warning) for a division by zero. */
static gint64
floor_div (gint64 a,
           gint64 b)
{
  gint64 q;

  if (b == 0)
    return 0;
  if (b == -1)
    return a == G_MININT64 ? a : -a;
  q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0)))
    q--;
  return q;
}

/* ceil (a / b) for b > 0. */
static gint64
ceil_div (gint64 a,
          gint64 b)
{
  return -floor_div (-a, b);
}

/* A dimension times f; unknown stays unknown (a symbol times a number),
 * except times 0: sympy gives 0, which pymil's shape takes as a number. */
static gint64
dim_mul (gint64 d,
         gint64 f)
{
  gint64 r;

  if (f == 0)
    return 0;
  if (d == UNK || __builtin_mul_overflow (d, f, &r))
    return UNK;
  return r;
}

static gint64
dim_div (gint64 d,
         gint64 f)
{
  return d == UNK ? UNK : floor_div (d, f);
}

/* np.prod of a list of int64 (wrapping as numpy does). */
static gint64
prod (const gint64 *v,
      gsize         n)
{
  guint64 p = 1;

  for (gsize i = 0; i < n; i++)
    p *= (guint64) v[i];
  return (gint64) p;
}

/* A const int32 scalar parameter (block_size, axis, size, stride). pymil
 * uses its value as one number: a tensor of rank >= 1 fails there (a shape
 * entry numpy cannot hash, or an index that is not an integer). *known is
 * FALSE where the mirror does not know the value. */
static gboolean
scalar_int (AneMilInferCall *call,
            const char      *name,
            gint64           default_value,
            gint64          *value,
            gboolean        *known,
            GError         **error)
{
  const AneMilVal *v = ane_mil_infer_arg (call, name);

  *value = default_value;
  *known = TRUE;
  if (v == NULL)
    return TRUE;
  if (v->kind == ANE_MIL_VAL_TENSOR && v->rank != 0)
    return ane_mil_infer_fail (call, error, "%s must be a scalar, not a rank-%u tensor", name, v->rank);
  *known = ane_mil_infer_int (call, name, default_value, value);
  return TRUE;
}

/* A const vector parameter pymil iterates or measures with len() (axes,
 * perm): a scalar fails there. */
static gboolean
require_vector (AneMilInferCall *call,
                const char      *name,
                GError         **error)
{
  const AneMilVal *v = ane_mil_infer_arg (call, name);

  if (v != NULL && v->kind == ANE_MIL_VAL_TENSOR && v->rank == 0)
    return ane_mil_infer_fail (call, error, "%s must be a vector, not a scalar (coremltools iterates it)",
                               name);
  return TRUE;
}

static void
sort_ints (gint64 *v,
           gsize   n)
{
  for (gsize i = 1; i < n; i++)
    for (gsize j = i; j > 0 && v[j - 1] > v[j]; j--)
      {
        gint64 t = v[j];

        v[j] = v[j - 1];
        v[j - 1] = t;
      }
}

/* "[2, ?, 3]"; literal: -1 written as a number (a shape value). */
static char *
dims_text (const gint64 *shape,
           guint         rank,
           gboolean      literal)
{
  GString *s = g_string_new ("[");

  for (guint i = 0; i < rank; i++)
    {
      if (i)
        g_string_append (s, ", ");
      if (shape[i] == UNK && !literal)
        g_string_append_c (s, '?');
      else
        g_string_append_printf (s, "%" G_GINT64_FORMAT, shape[i]);
    }
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* --- known values -------------------------------------------------------- */

/* The positions taken from each dimension of a known value, in order. */
typedef struct {
  gint64 *idx[ANE_MIL_INFER_MAX_RANK];
  gsize   n[ANE_MIL_INFER_MAX_RANK];
} Picks;

static void
picks_clear (Picks *p)
{
  for (guint d = 0; d < ANE_MIL_INFER_MAX_RANK; d++)
    g_clear_pointer (&p->idx[d], g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Picks, picks_clear)

/* Positions 0..len-1, or len-1..0. */
static void
picks_all (Picks   *p,
           guint    d,
           gint64   len,
           gboolean reversed)
{
  p->idx[d] = g_new (gint64, MAX (len, 1));
  p->n[d] = (gsize) len;
  for (gint64 i = 0; i < len; i++)
    p->idx[d][i] = reversed ? len - 1 - i : i;
}

/* The positions the Python slice start:stop:step (step != 0) takes from a
 * dimension of length len (CPython's PySlice_AdjustIndices); has_start,
 * has_stop FALSE for None. */
static void
picks_slice (Picks   *p,
             guint    d,
             gint64   len,
             gboolean has_start,
             gint64   start,
             gboolean has_stop,
             gint64   stop,
             gint64   step)
{
  gint64 lo = step < 0 ? -1 : 0, hi = step < 0 ? len - 1 : len;

  if (!has_start)
    start = step < 0 ? hi : lo;
  else if (start < 0 && (start += len) < 0)
    start = lo;
  else if (start >= len)
    start = hi;
  if (!has_stop)
    stop = step < 0 ? lo : hi;
  else if (stop < 0 && (stop += len) < 0)
    stop = lo;
  else if (stop >= len)
    stop = hi;
  p->idx[d] = g_new (gint64, MAX (len, 1));
  p->n[d] = 0;
  for (gint64 i = start; step > 0 ? i < stop : i > stop; i += step)
    p->idx[d][p->n[d]++] = i;
}

static gsize
picks_count (const Picks *p,
             guint        rank)
{
  gsize n = 1;

  for (guint d = 0; d < rank; d++)
    n *= p->n[d];
  return n;
}

/* Row-major offset of each picked element of x, in order, passed to fn. */
static void
picks_walk (const Picks     *p,
            const AneMilVal *x,
            void           (*fn) (gsize k, gint64 offset, gpointer data),
            gpointer         data)
{
  gint64 strides[ANE_MIL_INFER_MAX_RANK];
  gsize pos[ANE_MIL_INFER_MAX_RANK] = { 0 };
  gsize total = picks_count (p, x->rank);
  gint64 s = 1;

  for (guint d = x->rank; d-- > 0;)
    {
      strides[d] = s;
      s *= x->shape[d];
    }
  for (gsize k = 0; k < total; k++)
    {
      gint64 off = 0;

      for (guint d = 0; d < x->rank; d++)
        off += p->idx[d][pos[d]] * strides[d];
      fn (k, off, data);
      for (guint d = x->rank; d-- > 0;)
        {
          if (++pos[d] < p->n[d])
            break;
          pos[d] = 0;
        }
    }
}

typedef struct {
  const double *src;
  double       *dst;
} Copy;

static void
gather_one (gsize    k,
            gint64   offset,
            gpointer data)
{
  Copy *c = data;

  c->dst[k] = c->src[offset];
}

static void
scatter_one (gsize    k,
             gint64   offset,
             gpointer data)
{
  Copy *c = data;

  c->dst[offset] = c->src[k];
}

/* The picked elements of x's value, in row-major order. */
static double *
picks_gather (const Picks     *p,
              const AneMilVal *x,
              gsize           *n)
{
  Copy c = { x->values, NULL };

  *n = picks_count (p, x->rank);
  c.dst = g_new (double, MAX (*n, 1));
  picks_walk (p, x, gather_one, &c);
  return c.dst;
}

/* Gives out the picked values where its shape is the picks' counts with
 * the dimensions in drop (may be NULL) left out: pymil's value and type can
 * disagree (slice_by_size), and a value only stays where they agree. */
static void
set_picked_values (AneMilVal       *out,
                   const Picks     *p,
                   const AneMilVal *x,
                   const gboolean  *drop)
{
  g_autofree double *v = NULL;
  guint r = 0;
  gsize n;

  if (out->kind != ANE_MIL_VAL_TENSOR)
    return;
  for (guint d = 0; d < x->rank; d++)
    {
      if (drop != NULL && drop[d])
        continue;
      if (r >= out->rank || out->shape[r] != (gint64) p->n[d])
        return;
      r++;
    }
  if (r != out->rank)
    return;
  v = picks_gather (p, x, &n);
  ane_mil_infer_out_set_values (out, v, n);
}

/* ---------------------------------------------------------------------- */
/* depth_to_space, space_to_depth, pixel_shuffle                          */
/* ---------------------------------------------------------------------- */

/* x must have rank 4 (the class unpacks its shape into n, c, h, w; a
 * ValueError otherwise); the factor is a scalar. Nothing checks that the
 * channels or the spatial sizes divide: the dimensions are floored, and a
 * factor of 0 gives 0 (numpy's division by zero). */
static gboolean
rearrange (AneMilInferCall *call,
           const char      *factor_name,
           gboolean         to_depth,
           GError         **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  gint64 shape[4], f;
  gboolean known;

  if (x->kind != ANE_MIL_VAL_TENSOR)
    return out_other (call);
  if (x->rank != 4)
    return ane_mil_infer_fail (call, error, "x must have rank 4 ([n, C, H, W]), not %u", x->rank);
  if (!scalar_int (call, factor_name, 0, &f, &known, error))
    return FALSE;
  shape[0] = x->shape[0];
  for (guint i = 1; i < 4; i++)
    shape[i] = UNK;
  if (known && to_depth)
    {
      shape[1] = dim_mul (x->shape[1], f * f);
      shape[2] = dim_div (x->shape[2], f);
      shape[3] = dim_div (x->shape[3], f);
    }
  else if (known)
    {
      shape[1] = dim_div (x->shape[1], f * f);
      shape[2] = dim_mul (x->shape[2], f);
      shape[3] = dim_mul (x->shape[3], f);
    }
  return emit (call, x->dtype, shape, 4, error) != NULL;
}

/* iOS15/tensor_transformation.py, class depth_to_space (line 37),
 * type_inference (lines 68-73): [n, C / bs^2, H * bs, W * bs]. */
ANE_MIL_INFER_RULE (depth_to_space, ios15)
{
  return rearrange (call, "block_size", FALSE, error);
}

/* iOS15/tensor_transformation.py, class space_to_depth (line 681),
 * type_inference (lines 712-717): [n, C * bs^2, H / bs, W / bs]. */
ANE_MIL_INFER_RULE (space_to_depth, ios15)
{
  return rearrange (call, "block_size", TRUE, error);
}

/* iOS15/tensor_transformation.py, class pixel_shuffle (line 1003),
 * type_inference (lines 1038-1043): [n, C / f^2, H * f, W * f], as
 * depth_to_space. */
ANE_MIL_INFER_RULE (pixel_shuffle, ios15)
{
  return rearrange (call, "upscale_factor", FALSE, error);
}

/* ---------------------------------------------------------------------- */
/* expand_dims                                                            */
/* ---------------------------------------------------------------------- */

/* iOS15/tensor_transformation.py, class expand_dims (line 77),
 * type_inference (lines 110-129): with K = len(axes) and R = rank(x) + K,
 * each axis must lie in [-R, R) (IndexError) -- not [-rank(x)-1, rank(x)]
 * as the docstring says; the axes are made non-negative against R, sorted,
 * and a 1 is inserted at each in turn (Python's list.insert: past the end
 * appends), so repeated axes add one dimension each. A scalar axes fails
 * (len of a number). value_inference (lines 131-147) reshapes x's value.
 * iOS17/tensor_transformation.py, class expand_dims (line 203) widens T. */
static gboolean
expand_dims (AneMilInferCall *call,
             GError         **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x"), *axes_arg = ane_mil_infer_arg (call, "axes");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  g_autofree gint64 *pos = NULL;
  gint64 *axes, out_rank;
  gsize n_axes;
  guint len;
  AneMilVal *out;

  if (x->kind != ANE_MIL_VAL_TENSOR)
    return out_other (call);
  if (!require_vector (call, "axes", error))
    return FALSE;
  if (!ane_mil_infer_ints (call, "axes", &axes, &n_axes))
    {
      /* K is axes' length; where the ones go is not known */
      if (axes_arg->kind != ANE_MIL_VAL_TENSOR || axes_arg->rank != 1 || axes_arg->shape[0] < 0 ||
          x->rank + axes_arg->shape[0] > ANE_MIL_INFER_MAX_RANK)
        return out_other (call);
      for (guint i = 0; i < x->rank + axes_arg->shape[0]; i++)
        shape[i] = UNK;
      return emit (call, x->dtype, shape, x->rank + (guint) axes_arg->shape[0], error) != NULL;
    }
  out_rank = (gint64) x->rank + (gint64) n_axes;
  for (gsize i = 0; i < n_axes; i++)
    if (axes[i] < -out_rank || axes[i] >= out_rank)
      return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of range for the output's "
                                 "rank %" G_GINT64_FORMAT, axes[i], out_rank);
  if (out_rank > ANE_MIL_INFER_MAX_RANK)
    return out_other (call);
  pos = g_new (gint64, MAX (n_axes, 1));
  for (gsize i = 0; i < n_axes; i++)
    pos[i] = axes[i] < 0 ? axes[i] + out_rank : axes[i];
  sort_ints (pos, n_axes);
  memcpy (shape, x->shape, x->rank * sizeof (gint64));
  len = x->rank;
  for (gsize i = 0; i < n_axes; i++)
    {
      guint at = (guint) MIN (pos[i], (gint64) len);

      memmove (shape + at + 1, shape + at, (len - at) * sizeof (gint64));
      shape[at] = 1;
      len++;
    }
  out = emit (call, x->dtype, shape, len, error);
  if (out == NULL)
    return FALSE;
  if (x->values != NULL)
    ane_mil_infer_out_set_values (out, x->values, x->n_values);
  return TRUE;
}

ANE_MIL_INFER_RULE (expand_dims, ios15)
{
  return expand_dims (call, error);
}

ANE_MIL_INFER_RULE (expand_dims, ios17)
{
  return expand_dims (call, error);
}

/* ---------------------------------------------------------------------- */
/* reshape                                                                */
/* ---------------------------------------------------------------------- */

/* iOS15/tensor_transformation.py, class reshape (line 161), type_inference
 * (lines 209-219) and _get_type_val (226-244):
 * - shape must be a tensor of rank >= 1 (shape.shape[0]; a scalar raises);
 *   one of unknown length gives a rank-1 tensor of a variadic symbol
 *   (which only a rank-1 declaration matches), one of unknown value
 *   len(shape) unknown dimensions;
 * - more than one -1 raises;
 * - x of known shape: _infer_shape_static (271-280) replaces the zeros
 *   (replace_zeros_in_shape: iOS15, lines 246-256, wants len(shape) ==
 *   rank(x) and copies x's dimension; iOS17/tensor_transformation.py,
 *   class reshape (line 45), lines 121-139, aligns shape and x's shape on
 *   the right and gives 1 where x has no dimension), then the -1
 *   (prod(x) // prod(the others), lines 258-269), and raises if the
 *   element counts differ;
 * - x with a symbolic dimension: _infer_shape_dynamic (282-291) only turns
 *   the -1 into a symbol (the solve of lines 293-336 never gives it a
 *   number while x's volume is symbolic): zeros stay 0 -- the docstring's
 *   "0 copies x's dimension" does not happen there -- and nothing checks
 *   the element count.
 * x's value is reshaped (value_inference, 221-224) where all is known. */
static gboolean
reshape (AneMilInferCall *call,
         gboolean         ios17,
         GError         **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x"), *s = ane_mil_infer_arg (call, "shape");
  g_autofree gint64 *to = NULL;
  gint64 *dims, x_count;
  gsize n, n_neg = 0, neg_at = 0;
  gboolean x_known = TRUE;
  AneMilVal *out;

  if (x->kind != ANE_MIL_VAL_TENSOR || s->kind != ANE_MIL_VAL_TENSOR)
    return out_other (call);
  if (s->rank == 0)
    return ane_mil_infer_fail (call, error, "shape must be a vector, not a scalar");
  for (guint i = 0; i < s->rank; i++)
    if (s->shape[i] == UNK)
      {
        gint64 variadic = UNK;

        return emit (call, x->dtype, &variadic, 1, error) != NULL;
      }
  if (!ane_mil_infer_ints (call, "shape", &dims, &n))
    {
      if (s->shape[0] > ANE_MIL_INFER_MAX_RANK)
        return out_other (call);
      to = g_new (gint64, MAX (s->shape[0], 1));
      for (gint64 i = 0; i < s->shape[0]; i++)
        to[i] = UNK;
      return emit (call, x->dtype, to, (guint) MIN (s->shape[0], G_MAXUINT), error) != NULL;
    }
  if (s->rank != 1)
    return ane_mil_infer_fail (call, error, "shape must be a vector, not a rank-%u tensor", s->rank);

  for (gsize i = 0; i < n; i++)
    if (dims[i] == -1)
      {
        n_neg++;
        neg_at = i;
      }
  if (n_neg > 1)
    return ane_mil_infer_fail (call, error, "shape has %" G_GSIZE_FORMAT " entries -1; at most one "
                               "dimension can be inferred", n_neg);
  for (guint i = 0; i < x->rank; i++)
    if (x->shape[i] == UNK)
      x_known = FALSE;

  to = g_memdup2 (dims, MAX (n, 1) * sizeof (gint64));
  if (x_known)
    {
      x_count = prod (x->shape, x->rank);
      if (!ios17)
        {
          gboolean has_zero = FALSE;

          for (gsize i = 0; i < n; i++)
            has_zero |= to[i] == 0;
          if (has_zero && n != x->rank)
            return ane_mil_infer_fail (call, error, "shape has a 0 (copy x's dimension), so it must have "
                                       "rank(x) = %u entries, not %" G_GSIZE_FORMAT, x->rank, n);
          for (gsize i = 0; has_zero && i < n; i++)
            if (to[i] == 0)
              to[i] = x->shape[i];
        }
      else
        {
          for (gsize k = 0; k < n; k++)
            if (to[n - 1 - k] == 0)
              to[n - 1 - k] = k < x->rank ? x->shape[x->rank - 1 - k] : 1;
        }
      if (n_neg == 1)
        {
          gint64 rest = 1;

          for (gsize i = 0; i < n; i++)
            if (i != neg_at)
              rest = (gint64) ((guint64) rest * (guint64) to[i]);
          to[neg_at] = floor_div (x_count, rest);
        }
      if (prod (to, n) != x_count)
        {
          g_autofree char *from = dims_text (x->shape, x->rank, FALSE);
          g_autofree char *into = dims_text (dims, (guint) n, TRUE);

          return ane_mil_infer_fail (call, error, "x of shape %s (%" G_GINT64_FORMAT " elements) cannot "
                                     "take shape %s", from, x_count, into);
        }
    }
  else
    {
      for (gsize i = 0; i < n; i++)
        if (to[i] == -1)
          to[i] = UNK;
    }
  out = emit (call, x->dtype, to, (guint) MIN (n, G_MAXUINT), error);
  if (out == NULL)
    return FALSE;
  if (x->values != NULL)
    ane_mil_infer_out_set_values (out, x->values, x->n_values);
  return TRUE;
}

ANE_MIL_INFER_RULE (reshape, ios15)
{
  return reshape (call, FALSE, error);
}

ANE_MIL_INFER_RULE (reshape, ios17)
{
  return reshape (call, TRUE, error);
}

/* ---------------------------------------------------------------------- */
/* reverse, reverse_sequence                                              */
/* ---------------------------------------------------------------------- */

/* iOS15/tensor_transformation.py, class reverse (line 340), type_inference
 * (lines 382-383): x's type, axes unchecked (the docstring's range
 * [-rank, rank) is enforced nowhere in it). value_inference (385-391), for
 * a known x, flips along each axis in turn (all when axes is absent) with
 * np.flip, which raises for an axis out of range, and iterates axes (a
 * scalar raises). iOS17/tensor_transformation.py, class reverse (line 295)
 * widens T. */
static gboolean
reverse (AneMilInferCall *call,
         GError         **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x"), *axes_arg = ane_mil_infer_arg (call, "axes");
  g_auto(Picks) picks = { { NULL } };
  gboolean flip[ANE_MIL_INFER_MAX_RANK] = { FALSE };
  g_autofree double *v = NULL;
  AneMilVal *out;
  gint64 *axes;
  gsize n_axes, n;

  if (x->kind != ANE_MIL_VAL_TENSOR)
    return out_other (call);
  out = ane_mil_infer_out_like (call, x, -1);
  if (x->values == NULL)
    return TRUE;
  if (axes_arg == NULL)
    {
      for (guint d = 0; d < x->rank; d++)
        flip[d] = TRUE;
    }
  else
    {
      if (!ane_mil_infer_ints (call, "axes", &axes, &n_axes))
        return TRUE;
      if (axes_arg->kind == ANE_MIL_VAL_TENSOR && axes_arg->rank == 0)
        return ane_mil_infer_fail (call, error, "axes must be a vector: for a known x, coremltools' "
                                   "value inference iterates it");
      for (gsize i = 0; i < n_axes; i++)
        {
          if (axes[i] < -(gint64) x->rank || axes[i] >= (gint64) x->rank)
            return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of range for rank %u "
                                       "(for a known x, coremltools' value inference flips it with np.flip, "
                                       "which raises)", axes[i], x->rank);
          flip[axes[i] < 0 ? axes[i] + x->rank : axes[i]] ^= TRUE;
        }
    }
  for (guint d = 0; d < x->rank; d++)
    picks_all (&picks, d, x->shape[d], flip[d]);
  v = picks_gather (&picks, x, &n);
  ane_mil_infer_out_set_values (out, v, n);
  return TRUE;
}

ANE_MIL_INFER_RULE (reverse, ios15)
{
  return reverse (call, error);
}

ANE_MIL_INFER_RULE (reverse, ios17)
{
  return reverse (call, error);
}

/* iOS15/tensor_transformation.py, class reverse_sequence (line 395),
 * type_inference (lines 448-449): x's type; nothing is checked (not
 * lengths' size nor the axes, whatever the docstring asks), and there is
 * no value (value_inference raises NotImplementedError, which pymil takes
 * as "no value"). iOS17/tensor_transformation.py, class reverse_sequence
 * (line 341) widens T and lengths' dtype. */
static gboolean
reverse_sequence (AneMilInferCall *call)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");

  if (x->kind != ANE_MIL_VAL_TENSOR)
    return out_other (call);
  ane_mil_infer_out_like (call, x, -1);
  return TRUE;
}

ANE_MIL_INFER_RULE (reverse_sequence, ios15)
{
  return reverse_sequence (call);
}

ANE_MIL_INFER_RULE (reverse_sequence, ios17)
{
  return reverse_sequence (call);
}

/* ---------------------------------------------------------------------- */
/* slice_by_index, slice_update                                           */
/* ---------------------------------------------------------------------- */

/* One of begin, end, stride and the masks as the slicing helpers read it. */
typedef struct {
  const char      *name;
  const AneMilVal *arg;       /* NULL: absent */
  gint64          *v;         /* the value, if known */
  gsize            n;
  gboolean         known;     /* known, or absent */
  gint64           fallback;  /* an absent one's entries */
} Seq;

static void
seq_init (AneMilInferCall *call,
          Seq             *s,
          const char      *name,
          gint64           fallback)
{
  s->name = name;
  s->arg = ane_mil_infer_arg (call, name);
  s->known = ane_mil_infer_ints (call, name, &s->v, &s->n);
  s->fallback = fallback;
}

/* s[idx] as the helpers index it: a scalar or a vector too short raises. */
static gboolean
seq_at (AneMilInferCall *call,
        const Seq       *s,
        guint            idx,
        gint64          *value,
        GError         **error)
{
  if (s->arg == NULL)
    {
      *value = s->fallback;
      return TRUE;
    }
  if ((s->arg->kind == ANE_MIL_VAL_TENSOR && s->arg->rank == 0) || idx >= s->n)
    return ane_mil_infer_fail (call, error, "%s has no entry %u (coremltools reads one for each dimension "
                               "of x it slices)", s->name, idx);
  *value = s->v[idx];
  return TRUE;
}

typedef struct {
  Seq begin, end, stride, begin_mask, end_mask, squeeze_mask;
  gboolean has_begin, has_end;   /* pymil's begin/end is not None */
} SliceArgs;

static gboolean
slice_args (AneMilInferCall *call,
            const AneMilVal *x,
            SliceArgs       *a,
            GError         **error)
{
  Seq *ends[] = { &a->begin, &a->end };

  seq_init (call, &a->begin, "begin", 0);
  seq_init (call, &a->end, "end", 0);
  seq_init (call, &a->stride, "stride", 1);
  seq_init (call, &a->begin_mask, "begin_mask", 0);
  seq_init (call, &a->end_mask, "end_mask", 0);
  seq_init (call, &a->squeeze_mask, "squeeze_mask", 0);
  /* a begin or end of unknown value is None, and so is an empty one; a
   * known one must have rank(x) entries (len() of a scalar raises) */
  for (guint i = 0; i < G_N_ELEMENTS (ends); i++)
    {
      Seq *s = ends[i];

      if (!s->known)
        continue;
      if (s->arg->kind == ANE_MIL_VAL_TENSOR && s->arg->rank == 0)
        return ane_mil_infer_fail (call, error, "%s must be a vector, not a scalar", s->name);
      if (s->n > 0 && s->n != x->rank)
        return ane_mil_infer_fail (call, error, "%s has %" G_GSIZE_FORMAT " entries, but x has rank %u",
                                   s->name, s->n, x->rank);
    }
  a->has_begin = a->begin.known && a->begin.n > 0;
  a->has_end = a->end.known && a->end.n > 0;
  return TRUE;
}

/* _utils.py, solve_slice_by_index_shape (lines 520-660), dimension by
 * dimension in its order (and reading the masks and stride where it does,
 * so a short one raises where it would). It wraps a negative begin or end
 * in place, in the const's value itself (lines 637-640), which the value
 * inference that follows sees: so does a->begin/end here. *rank_known
 * FALSE (and no error) where the squeeze mask is not known. */
static gboolean
slice_shape (AneMilInferCall *call,
             const AneMilVal *x,
             SliceArgs       *a,
             gint64          *shape,
             guint           *rank,
             gboolean        *rank_known,
             GError         **error)
{
  gboolean vague = !a->stride.known || !a->begin_mask.known || !a->end_mask.known;
  guint r = 0;

  *rank_known = a->squeeze_mask.known;
  if (!*rank_known)
    return TRUE;
  for (guint idx = 0; idx < x->rank; idx++)
    {
      gint64 dim = x->shape[idx], sq, bm, em = 0, st = 1, b, e;

      if (!seq_at (call, &a->squeeze_mask, idx, &sq, error))
        return FALSE;
      if (sq)
        continue;
      if (vague)
        {
          shape[r++] = UNK;
          continue;
        }
      if (!seq_at (call, &a->begin_mask, idx, &bm, error) ||
          !seq_at (call, &a->end_mask, idx, &em, error))
        return FALSE;

      /* x[:] (both masks): the whole dimension by the stride */
      if (bm && em)
        {
          if (!seq_at (call, &a->stride, idx, &st, error))
            return FALSE;
          if (dim == UNK)
            shape[r++] = UNK;
          else if (st == 0)
            return ane_mil_infer_fail (call, error, "stride %u is 0 (coremltools divides by it; the size "
                                       "it infers depends on the machine)", idx);
          else
            shape[r++] = ceil_div (dim, ABS (st));
          continue;
        }

      b = a->has_begin ? a->begin.v[idx] : 0;
      e = a->has_end ? a->end.v[idx] : 0;
      /* sizes 0 and 1 known without x's dimension */
      if (!bm && !em && a->has_begin && a->has_end)
        {
          gint64 size = -1;

          if (b >= 0 && e >= 0)
            {
              if (!seq_at (call, &a->stride, idx, &st, error))
                return FALSE;
              if (st > 0)
                {
                  if (e < b)
                    return ane_mil_infer_fail (call, error, "dimension %u: end %" G_GINT64_FORMAT
                                               " is before begin %" G_GINT64_FORMAT " with a positive "
                                               "stride, which coremltools refuses", idx, e, b);
                  size = MAX (0, floor_div (e - b + st - 1, st));
                }
            }
          if (b < 0 && e < 0)
            {
              if (!seq_at (call, &a->stride, idx, &st, error))
                return FALSE;
              if (st < 0)
                {
                  if (b < e)
                    return ane_mil_infer_fail (call, error, "dimension %u: negative begin %" G_GINT64_FORMAT
                                               " is before end %" G_GINT64_FORMAT " with a negative stride, "
                                               "which coremltools refuses", idx, b, e);
                  size = MAX (0, floor_div (-(b - e - st - 1), st));
                }
            }
          if (size == 0 || size == 1)
            {
              shape[r++] = size;
              continue;
            }
        }
      if (!bm && em && a->has_begin && (b == 0 || b == -1))
        {
          if (!seq_at (call, &a->stride, idx, &st, error))
            return FALSE;
          if ((b == 0 && st < 0) || (b == -1 && st > 0))
            {
              shape[r++] = 1;
              continue;
            }
        }
      if (dim == UNK)
        {
          shape[r++] = UNK;
          continue;
        }
      /* a dimension of 1 stays 1, whatever begin and end select */
      if (dim == 1)
        {
          shape[r++] = 1;
          continue;
        }
      if ((!a->has_begin && !bm) || (!a->has_end && !em))
        {
          shape[r++] = UNK;
          continue;
        }
      /* written back into begin's and end's own arrays, as the helper does:
       * value_inference then slices with these */
      if (a->has_begin && b < 0)
        b = a->begin.v[idx] = MAX (0, b + dim);
      if (a->has_end && e < 0)
        e = a->end.v[idx] = MAX (0, e + dim);
      if (!seq_at (call, &a->stride, idx, &st, error))
        return FALSE;
      if (st == 0)
        return ane_mil_infer_fail (call, error, "stride %u is 0 (coremltools divides by it; the size it "
                                   "infers depends on the machine)", idx);
      {
        gint64 low = st > 0 ? 0 : -1, high = st > 0 ? dim : dim - 1;
        gint64 from = st > 0 ? b : e, to = st > 0 ? e : b;
        gboolean from_mask = st > 0 ? bm : em, to_mask = st > 0 ? em : bm;

        if (from_mask)
          from = low;
        to = to_mask ? high : MIN (to, high);
        shape[r++] = MAX (0, ceil_div (to - from, ABS (st)));
      }
    }
  *rank = r;
  return TRUE;
}

/* _utils.py, solve_slice_by_index_slice (lines 484-518), and numpy's
 * indexing of x's value with those slices: masks clear begin/end (None),
 * the squeeze mask sets end None and the step to INT32_MAX -- written into
 * the stride's own array, so an int8 or int16 stride wraps it to -1. The
 * helper indexes begin, end and stride where the masks say, and raises
 * where they are too short. FALSE with *ok FALSE (no error) where a value
 * is not known. */
static gboolean
slice_picks (AneMilInferCall *call,
             const AneMilVal *x,
             SliceArgs       *a,
             Picks           *p,
             gboolean        *ok,
             GError         **error)
{
  gboolean has_start[ANE_MIL_INFER_MAX_RANK], has_stop[ANE_MIL_INFER_MAX_RANK];
  gboolean squeezed[ANE_MIL_INFER_MAX_RANK];
  const Seq *masks[] = { &a->begin_mask, &a->end_mask, &a->squeeze_mask };
  gsize n_stride = a->stride.arg != NULL ? a->stride.n : x->rank;
  gint64 squeeze_step = G_MAXINT32;

  *ok = FALSE;
  if (x->values == NULL || !a->begin.known || !a->end.known || !a->stride.known ||
      !a->begin_mask.known || !a->end_mask.known || !a->squeeze_mask.known)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (masks); i++)
    if (masks[i]->arg != NULL && masks[i]->arg->kind == ANE_MIL_VAL_TENSOR && masks[i]->arg->rank == 0)
      return ane_mil_infer_fail (call, error, "%s must be a vector (coremltools iterates it)",
                                 masks[i]->name);
  if (a->stride.arg != NULL &&
      (a->stride.arg->dtype == ANE_MIL_DT_INT8 || a->stride.arg->dtype == ANE_MIL_DT_INT16))
    squeeze_step = -1;
  for (guint d = 0; d < x->rank; d++)
    {
      has_start[d] = has_stop[d] = TRUE;
      squeezed[d] = FALSE;
    }
  for (guint m = 0; m < G_N_ELEMENTS (masks); m++)
    for (gsize idx = 0; masks[m]->arg != NULL && idx < masks[m]->n; idx++)
      {
        if (!masks[m]->v[idx])
          continue;
        if (idx >= (m == 0 ? a->begin.n : a->end.n) || (m == 2 && idx >= n_stride))
          return ane_mil_infer_fail (call, error, "%s has entry %" G_GSIZE_FORMAT " set, beyond begin, end "
                                     "or stride (coremltools' value inference raises)", masks[m]->name, idx);
        if (m == 0)
          has_start[idx] = FALSE;
        else
          has_stop[idx] = FALSE;
        if (m == 2)
          squeezed[idx] = TRUE;
      }
  for (guint d = 0; d < x->rank; d++)
    {
      gint64 st;

      if (d >= a->begin.n || d >= a->end.n || d >= n_stride)
        return ane_mil_infer_fail (call, error, "begin, end or stride has no entry %u (coremltools' value "
                                   "inference raises)", d);
      st = squeezed[d] ? squeeze_step : a->stride.arg != NULL ? a->stride.v[d] : 1;
      if (st == 0)
        return ane_mil_infer_fail (call, error, "stride %u is 0: numpy refuses a slice step of zero", d);
      picks_slice (p, d, x->shape[d], has_start[d], a->begin.v[d], has_stop[d], a->end.v[d], st);
    }
  *ok = TRUE;
  return TRUE;
}

/* iOS15/tensor_transformation.py, class slice_by_index (line 457),
 * type_inference (lines 521-537): solve_slice_by_index_shape; no dimension
 * left is a scalar. Surprises of that helper: an empty begin or end counts
 * as unknown; a dimension of size 1 gives 1 even where the slice is empty
 * (begin 5, end 9); end before begin with a positive stride raises rather
 * than giving 0. value_inference (lines 539-575), for a known x: the slice
 * of its value; where every dimension is squeezed it converts the element
 * to int32 or fp32 and raises for any other dtype (fp16, bool, 8/16-bit
 * integers), and a float scalar cannot hold an empty value. A partial
 * squeeze of an empty dimension raises in np.squeeze.
 * iOS17/tensor_transformation.py, class slice_by_index (line 502) widens T
 * and the index dtypes. */
static gboolean
slice_by_index (AneMilInferCall *call,
                GError         **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  gboolean drop[ANE_MIL_INFER_MAX_RANK] = { FALSE };
  g_auto(Picks) picks = { { NULL } };
  guint rank, n_squeezed = 0;
  gboolean rank_known, ok;
  SliceArgs a;
  AneMilVal *out;

  if (x->kind != ANE_MIL_VAL_TENSOR)
    return out_other (call);
  if (!slice_args (call, x, &a, error) ||
      !slice_shape (call, x, &a, shape, &rank, &rank_known, error))
    return FALSE;
  if (!rank_known)
    return out_other (call);
  out = emit (call, x->dtype, shape, rank, error);
  if (out == NULL || !slice_picks (call, x, &a, &picks, &ok, error))
    return FALSE;
  if (!ok)
    return TRUE;

  for (guint d = 0; a.squeeze_mask.arg != NULL && d < x->rank && d < a.squeeze_mask.n; d++)
    if (a.squeeze_mask.v[d])
      {
        drop[d] = TRUE;
        n_squeezed++;
      }
  if (n_squeezed > 0 && n_squeezed == x->rank)
    {
      gboolean is_float = ane_mil_text_dtype_is_float (x->dtype);

      if (picks.n[0] == 0)
        {
          /* an empty array as the value: a float scalar refuses it */
          if (is_float)
            return ane_mil_infer_fail (call, error, "the slice of x's known value is empty, which "
                                       "coremltools cannot keep as a %s scalar", ane_mil_dt_name (x->dtype));
          return TRUE;
        }
      if (x->dtype != ANE_MIL_DT_INT32 && x->dtype != ANE_MIL_DT_FP32)
        return ane_mil_infer_fail (call, error, "every dimension is squeezed out of x's known value, and "
                                   "coremltools' value inference converts only int32 or fp32 elements, "
                                   "not %s", ane_mil_dt_name (x->dtype));
      if (picks_count (&picks, x->rank) == 0 && is_float)
        return ane_mil_infer_fail (call, error, "the slice of x's known value is empty, which "
                                   "coremltools cannot keep as a %s scalar", ane_mil_dt_name (x->dtype));
    }
  else
    {
      for (guint d = 0; d < x->rank; d++)
        if (drop[d] && picks.n[d] != 1)
          return ane_mil_infer_fail (call, error, "dimension %u of the slice of x's known value has %"
                                     G_GSIZE_FORMAT " elements, and np.squeeze refuses to squeeze it",
                                     d, picks.n[d]);
    }
  set_picked_values (out, &picks, x, drop);
  return TRUE;
}

ANE_MIL_INFER_RULE (slice_by_index, ios15)
{
  return slice_by_index (call, error);
}

ANE_MIL_INFER_RULE (slice_by_index, ios17)
{
  return slice_by_index (call, error);
}

/* iOS18/tensor_transformation.py, class slice_update (line 22),
 * type_inference (lines 104-127): the slice's shape (as slice_by_index)
 * must be update's (same rank; dimensions equal where both are numbers,
 * types/symbolic.py is_compatible_symbolic_vector), then a rank-0 update
 * is refused; the output has x's type. value_inference (129-152) writes
 * update, reshaped to the slice (np.reshape raises on another element
 * count), into x's value. */
ANE_MIL_INFER_RULE (slice_update, ios18)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x"), *update = ane_mil_infer_arg (call, "update");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  g_auto(Picks) picks = { { NULL } };
  g_autofree double *v = NULL;
  gboolean rank_known, ok;
  guint rank;
  SliceArgs a;
  AneMilVal *out;
  Copy c;

  if (x->kind != ANE_MIL_VAL_TENSOR)
    return out_other (call);
  if (!slice_args (call, x, &a, error) ||
      !slice_shape (call, x, &a, shape, &rank, &rank_known, error))
    return FALSE;
  if (rank_known && update->kind == ANE_MIL_VAL_TENSOR)
    {
      gboolean same = update->rank == rank;

      for (guint i = 0; same && i < rank; i++)
        if (shape[i] != UNK && update->shape[i] != UNK && shape[i] != update->shape[i])
          same = FALSE;
      if (!same)
        {
          g_autofree char *want = dims_text (shape, rank, FALSE);
          g_autofree char *got = dims_text (update->shape, update->rank, FALSE);

          return ane_mil_infer_fail (call, error, "update must have the slice's shape %s, not %s", want, got);
        }
    }
  if (update->kind == ANE_MIL_VAL_TENSOR && update->rank == 0)
    return ane_mil_infer_fail (call, error, "update must not be a scalar (coremltools refuses a rank-0 "
                               "update)");
  out = ane_mil_infer_out_like (call, x, -1);
  if (update->values == NULL)
    return TRUE;
  if (!slice_picks (call, x, &a, &picks, &ok, error))
    return FALSE;
  if (!ok)
    return TRUE;
  if (picks_count (&picks, x->rank) != update->n_values)
    return ane_mil_infer_fail (call, error, "the slice of x's known value has %" G_GSIZE_FORMAT
                               " elements, update %" G_GSIZE_FORMAT ": np.reshape refuses",
                               picks_count (&picks, x->rank), update->n_values);
  v = g_memdup2 (x->values, MAX (x->n_values, 1) * sizeof (double));
  c.src = update->values;
  c.dst = v;
  picks_walk (&picks, x, scatter_one, &c);
  ane_mil_infer_out_set_values (out, v, x->n_values);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* slice_by_size                                                          */
/* ---------------------------------------------------------------------- */

/* iOS15/tensor_transformation.py, class slice_by_size (line 579),
 * type_inference (lines 614-656): begin and size must be vectors of rank(x)
 * entries (a symbolic length raises too); a size of unknown value gives
 * rank(x) unknown dimensions; otherwise each size is the dimension as it
 * is -- not clamped to what x has, and 0 or negative sizes kept -- except
 * -1, which becomes x's dimension minus begin where begin is known (a
 * negative begin is not wrapped: begin -2 on 5 gives 7). value_inference
 * (658-677) slices differently (wraps begin, takes the rest for any size
 * <= 0), so the value is kept only where its shape is the type's.
 * iOS17/tensor_transformation.py, class slice_by_size (line 571) widens T
 * and the index dtypes. */
static gboolean
slice_by_size (AneMilInferCall *call,
               GError         **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  const AneMilVal *args[] = { ane_mil_infer_arg (call, "begin"), ane_mil_infer_arg (call, "size") };
  const char *names[] = { "begin", "size" };
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  g_auto(Picks) picks = { { NULL } };
  gint64 *begin, *size;
  gsize n_begin, n_size;
  gboolean begin_known, size_known;
  AneMilVal *out;

  for (guint i = 0; i < G_N_ELEMENTS (args); i++)
    if (args[i]->kind == ANE_MIL_VAL_TENSOR && args[i]->rank != 1)
      return ane_mil_infer_fail (call, error, "%s must be a vector, not rank %u", names[i], args[i]->rank);
  if (x->kind != ANE_MIL_VAL_TENSOR)
    return out_other (call);
  for (guint i = 0; i < G_N_ELEMENTS (args); i++)
    if (args[i]->kind == ANE_MIL_VAL_TENSOR && args[i]->shape[0] != (gint64) x->rank)
      {
        g_autofree char *len = dims_text (args[i]->shape, 1, FALSE);

        return ane_mil_infer_fail (call, error, "%s has shape %s, but x has rank %u", names[i], len, x->rank);
      }
  begin_known = ane_mil_infer_ints (call, "begin", &begin, &n_begin) && n_begin == x->rank;
  size_known = ane_mil_infer_ints (call, "size", &size, &n_size) && n_size == x->rank;
  for (guint d = 0; d < x->rank; d++)
    {
      if (!size_known)
        shape[d] = UNK;
      else if (size[d] != -1)
        shape[d] = size[d];
      else if (begin_known && x->shape[d] != UNK)
        shape[d] = x->shape[d] - begin[d];
      else
        shape[d] = UNK;
    }
  out = emit (call, x->dtype, shape, x->rank, error);
  if (out == NULL)
    return FALSE;
  if (x->values == NULL || !begin_known || !size_known)
    return TRUE;
  for (guint d = 0; d < x->rank; d++)
    {
      gint64 b = begin[d] < 0 ? begin[d] + x->shape[d] : begin[d];

      picks_slice (&picks, d, x->shape[d], TRUE, b, size[d] > 0, b + size[d], 1);
    }
  set_picked_values (out, &picks, x, NULL);
  return TRUE;
}

ANE_MIL_INFER_RULE (slice_by_size, ios15)
{
  return slice_by_size (call, error);
}

ANE_MIL_INFER_RULE (slice_by_size, ios17)
{
  return slice_by_size (call, error);
}

/* ---------------------------------------------------------------------- */
/* sliding_windows                                                        */
/* ---------------------------------------------------------------------- */

/* iOS15/tensor_transformation.py, class sliding_windows (line 1047),
 * default_inputs (stride 1, line 1089) and type_inference (lines
 * 1092-1101): axis indexes x's shape the Python way (in [-rank, rank),
 * an IndexError otherwise; a scalar x has none); that dimension becomes
 * (d - size) // stride + 1 -- the docstring writes d - size // stride + 1
 * -- and size is inserted after it. Nothing checks size <= d or stride > 0:
 * the count may come out -1 (unspecified) or negative. axis, size and
 * stride are scalars. iOS17/tensor_transformation.py, class
 * sliding_windows (line 402) widens T. */
static gboolean
sliding_windows (AneMilInferCall *call,
                 GError         **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  gint64 shape[ANE_MIL_INFER_MAX_RANK + 1], axis, size, stride;
  gboolean axis_known, size_known, stride_known;
  guint at;

  if (x->kind != ANE_MIL_VAL_TENSOR)
    return out_other (call);
  if (!scalar_int (call, "axis", 0, &axis, &axis_known, error) ||
      !scalar_int (call, "size", 0, &size, &size_known, error) ||
      !scalar_int (call, "stride", 1, &stride, &stride_known, error))
    return FALSE;
  if (x->rank == 0)
    return ane_mil_infer_fail (call, error, "x must have rank >= 1 (coremltools indexes its shape at axis)");
  if (!axis_known)
    {
      for (guint i = 0; i <= x->rank; i++)
        shape[i] = UNK;
      return emit (call, x->dtype, shape, x->rank + 1, error) != NULL;
    }
  if (!ane_mil_infer_axis (call, "axis", axis, x->rank, &at, error))
    return FALSE;
  memcpy (shape, x->shape, at * sizeof (gint64));
  if (x->shape[at] == UNK || !size_known || !stride_known)
    shape[at] = UNK;
  else
    shape[at] = floor_div (x->shape[at] - size, stride) + 1;
  shape[at + 1] = size_known ? size : UNK;
  memcpy (shape + at + 2, x->shape + at + 1, (x->rank - at - 1) * sizeof (gint64));
  return emit (call, x->dtype, shape, x->rank + 1, error) != NULL;
}

ANE_MIL_INFER_RULE (sliding_windows, ios15)
{
  return sliding_windows (call, error);
}

ANE_MIL_INFER_RULE (sliding_windows, ios17)
{
  return sliding_windows (call, error);
}

/* ---------------------------------------------------------------------- */
/* squeeze                                                                */
/* ---------------------------------------------------------------------- */

/* iOS15/tensor_transformation.py, class squeeze (line 877), type_inference
 * (lines 916-935): without axes every dimension equal to 1 goes (symbols
 * stay); with axes, each is made non-negative against rank(x), and in
 * descending order an axis >= the remaining rank raises while the others
 * index the remaining shape the Python way -- so an axis below -rank(x)
 * wraps a second time (rank 4, axis -6 squeezes dimension 2) or raises an
 * IndexError -- and the dimension goes only if it is 1. Nothing left is a
 * scalar (a scalar x too, despite "must be at least 1-D").
 * value_inference (937-945), for a known x, is np.squeeze, which raises for
 * an axis out of range, repeated, or of a size other than 1 (the docstring
 * promises PyTorch's "ignore" only for the type); a scalar result is x[0],
 * which a scalar x and a float x of rank >= 2 (not a zero-rank array) make
 * fail. iOS17/tensor_transformation.py, class squeeze (line 250) widens T. */
static gboolean
squeeze (AneMilInferCall *call,
         GError         **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x"), *axes_arg = ane_mil_infer_arg (call, "axes");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  g_autofree gint64 *norm = NULL;
  gint64 *axes = NULL;
  gsize n_axes = 0;
  guint len = 0;
  AneMilVal *out;

  if (x->kind != ANE_MIL_VAL_TENSOR)
    return out_other (call);
  if (!require_vector (call, "axes", error))
    return FALSE;
  if (axes_arg == NULL)
    {
      for (guint d = 0; d < x->rank; d++)
        if (x->shape[d] != 1)
          shape[len++] = x->shape[d];
    }
  else if (!ane_mil_infer_ints (call, "axes", &axes, &n_axes))
    {
      /* only a dimension of 1 can go: without one, x's shape stays */
      for (guint d = 0; d < x->rank; d++)
        if (x->shape[d] == 1)
          return out_other (call);
      return emit (call, x->dtype, x->shape, x->rank, error) != NULL;
    }
  else
    {
      memcpy (shape, x->shape, x->rank * sizeof (gint64));
      len = x->rank;
      norm = g_new (gint64, MAX (n_axes, 1));
      for (gsize i = 0; i < n_axes; i++)
        norm[i] = axes[i] < 0 ? axes[i] + x->rank : axes[i];
      sort_ints (norm, n_axes);
      for (gsize k = n_axes; k-- > 0;)
        {
          gint64 i = norm[k], j = i < 0 ? i + len : i;

          if (i >= (gint64) len)
            return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of range: %u "
                                       "dimensions remain", i, len);
          if (j < 0)
            return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is below -rank(x) = -%u "
                                       "(coremltools indexes the shape with it and raises)",
                                       i - x->rank, x->rank);
          if (shape[j] == 1)
            {
              memmove (shape + j, shape + j + 1, (len - j - 1) * sizeof (gint64));
              len--;
            }
        }
    }
  out = emit (call, x->dtype, shape, len, error);
  if (out == NULL)
    return FALSE;
  if (x->values == NULL)
    return TRUE;

  /* np.squeeze of the known value */
  if (axes != NULL)
    {
      gboolean seen[ANE_MIL_INFER_MAX_RANK] = { FALSE };

      for (gsize i = 0; i < n_axes; i++)
        {
          gint64 d = axes[i] < 0 ? axes[i] + x->rank : axes[i];

          if (d < 0 || d >= (gint64) x->rank)
            return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is out of range for rank %u "
                                       "(for a known x, np.squeeze in coremltools' value inference raises)",
                                       axes[i], x->rank);
          if (seen[d])
            return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " is repeated (for a known x, "
                                       "np.squeeze in coremltools' value inference raises)", axes[i]);
          seen[d] = TRUE;
          if (x->shape[d] != 1)
            return ane_mil_infer_fail (call, error, "axis %" G_GINT64_FORMAT " has size %" G_GINT64_FORMAT
                                       " (for a known x, np.squeeze in coremltools' value inference "
                                       "refuses to squeeze it)", axes[i], x->shape[d]);
        }
    }
  if (len == 0 && x->rank == 0)
    return ane_mil_infer_fail (call, error, "squeezing a scalar of known value: coremltools' value "
                               "inference indexes it and raises");
  if (len == 0 && x->rank >= 2 && ane_mil_text_dtype_is_float (x->dtype))
    return ane_mil_infer_fail (call, error, "squeezing a %s tensor of rank %u and known value to a scalar: "
                               "coremltools' value inference gives it a one-element array, which a float "
                               "scalar refuses", ane_mil_dt_name (x->dtype), x->rank);
  ane_mil_infer_out_set_values (out, x->values, x->n_values);
  return TRUE;
}

ANE_MIL_INFER_RULE (squeeze, ios15)
{
  return squeeze (call, error);
}

ANE_MIL_INFER_RULE (squeeze, ios17)
{
  return squeeze (call, error);
}

/* ---------------------------------------------------------------------- */
/* transpose                                                              */
/* ---------------------------------------------------------------------- */

/* iOS15/tensor_transformation.py, class transpose (line 948),
 * type_inference (lines 982-995): perm must have rank(x) entries; a scalar
 * x keeps its type; otherwise the shape is x's indexed by perm with numpy,
 * so entries in [-rank, rank) (an IndexError otherwise) and repeated ones
 * accepted ([0, 0, 1] on [2, 3, 4] gives [2, 2, 3]). value_inference
 * (997-999), for a known x, is np.transpose, which refuses repeated axes.
 * iOS17/tensor_transformation.py, class transpose (line 458) widens T. */
static gboolean
transpose (AneMilInferCall *call,
           GError         **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x"), *perm_arg = ane_mil_infer_arg (call, "perm");
  gint64 shape[ANE_MIL_INFER_MAX_RANK], axis[ANE_MIL_INFER_MAX_RANK], xs[ANE_MIL_INFER_MAX_RANK];
  gboolean seen[ANE_MIL_INFER_MAX_RANK] = { FALSE };
  gsize pos[ANE_MIL_INFER_MAX_RANK] = { 0 };
  g_autofree double *v = NULL;
  gint64 *perm, n_elem, s = 1;
  gsize n;
  AneMilVal *out;

  if (x->kind != ANE_MIL_VAL_TENSOR)
    return out_other (call);
  if (!require_vector (call, "perm", error))
    return FALSE;
  if (!ane_mil_infer_ints (call, "perm", &perm, &n))
    {
      if (perm_arg->kind == ANE_MIL_VAL_TENSOR && perm_arg->rank == 1 && perm_arg->shape[0] >= 0 &&
          perm_arg->shape[0] != (gint64) x->rank)
        return ane_mil_infer_fail (call, error, "perm has %" G_GINT64_FORMAT " entries, but x has rank %u",
                                   perm_arg->shape[0], x->rank);
      for (guint d = 0; d < x->rank; d++)
        shape[d] = UNK;
      return emit (call, x->dtype, shape, x->rank, error) != NULL;
    }
  if (n != x->rank)
    return ane_mil_infer_fail (call, error, "perm has %" G_GSIZE_FORMAT " entries, but x has rank %u",
                               n, x->rank);
  for (guint d = 0; d < x->rank; d++)
    {
      if (perm[d] < -(gint64) x->rank || perm[d] >= (gint64) x->rank)
        return ane_mil_infer_fail (call, error, "perm entry %" G_GINT64_FORMAT " is out of range for "
                                   "rank %u", perm[d], x->rank);
      axis[d] = perm[d] < 0 ? perm[d] + x->rank : perm[d];
      shape[d] = x->shape[axis[d]];
    }
  out = emit (call, x->dtype, shape, x->rank, error);
  if (out == NULL)
    return FALSE;
  if (x->values == NULL)
    return TRUE;

  /* np.transpose of the known value */
  for (guint d = 0; d < x->rank; d++)
    {
      if (seen[axis[d]])
        return ane_mil_infer_fail (call, error, "perm repeats axis %" G_GINT64_FORMAT " (for a known x, "
                                   "np.transpose in coremltools' value inference raises)", axis[d]);
      seen[axis[d]] = TRUE;
    }
  for (guint d = x->rank; d-- > 0;)
    {
      xs[d] = s;
      s *= x->shape[d];
    }
  n_elem = (gint64) x->n_values;
  v = g_new (double, MAX (n_elem, 1));
  for (gint64 k = 0; k < n_elem; k++)
    {
      gint64 off = 0;

      for (guint d = 0; d < x->rank; d++)
        off += (gint64) pos[d] * xs[axis[d]];
      v[k] = x->values[off];
      for (guint d = x->rank; d-- > 0;)
        {
          if ((gint64) ++pos[d] < shape[d])
            break;
          pos[d] = 0;
        }
    }
  ane_mil_infer_out_set_values (out, v, x->n_values);
  return TRUE;
}

ANE_MIL_INFER_RULE (transpose, ios15)
{
  return transpose (call, error);
}

ANE_MIL_INFER_RULE (transpose, ios17)
{
  return transpose (call, error);
}
