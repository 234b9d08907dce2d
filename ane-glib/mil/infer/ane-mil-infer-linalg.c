/* mil/infer/ane-mil-infer-linalg.c: type-inference rules, linear, matmul, einsum, normalizations, conv, pooling, upsampling
 *
 * Each rule mirrors the type_inference (and the checks it makes) of the
 * coremltools op class named in its row's source (ane-mil-opdefs.c), paths
 * relative to coremltools/converters/mil/mil/ops/defs/ in coremltools 9.0.
 *
 * How the mirror reads coremltools here:
 *  - A dimension coremltools holds as a sympy symbol is ANE_MIL_DIM_UNKNOWN.
 *    Python compares a symbol and an int as different, and two symbols as
 *    equal only when they are the same symbol; the mirror cannot tell two
 *    unknown dimensions apart, so it takes them as possibly equal
 *    (dims_differ below). Checks coremltools skips for a symbol are skipped.
 *  - A const parameter whose value the mirror does not hold (a large const,
 *    a folded op it does not evaluate) leaves the dimensions it decides
 *    unknown, and the checks that need it are skipped: coremltools would know
 *    the value, the mirror must not guess it.
 *  - Where coremltools computes a negative dimension without raising
 *    (conv_transpose, upsample_nearest_neighbor), no declared type can match
 *    it (a MIL dimension is unsigned), so the mirror refuses the call.
 *  - An error coremltools raises by accident (IndexError on a short shape, an
 *    assert, a TypeError on a scalar where a list is read) refuses the op all
 *    the same: the rules fail there too, saying what was read.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mil/infer/ane-mil-infer-rules-private.h"

#define UNKNOWN ANE_MIL_DIM_UNKNOWN

/* --- shared helpers ----------------------------------------------------- */

/* Python's a != b on two dimensions (ints or sympy symbols): known sizes
 * compare as numbers, a symbol never equals a number; two unknown ones are
 * given the benefit of the doubt (they may be one symbol). */
static gboolean
dims_differ (gint64 a,
             gint64 b)
{
  if (a >= 0 && b >= 0)
    return a != b;
  return (a >= 0) != (b >= 0);
}

/* A mismatch of two known sizes (checks coremltools skips for symbols). */
static gboolean
dims_conflict (gint64 a,
               gint64 b)
{
  return a >= 0 && b >= 0 && a != b;
}

static char *
dim_string (gint64 d)
{
  return d < 0 ? g_strdup ("?") : g_strdup_printf ("%" G_GINT64_FORMAT, d);
}

/* NumPy's // and % on integers (the groups value is a numpy int): floor
 * division, the remainder takes the divisor's sign, and both give 0 for a
 * zero divisor (with a warning, not an error). */
static gint64
np_floordiv (gint64 a,
             gint64 b)
{
  gint64 q;

  if (b == 0)
    return 0;
  q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0)))
    q--;
  return q;
}

static gint64
np_mod (gint64 a,
        gint64 b)
{
  gint64 r;

  if (b == 0)
    return 0;
  r = a % b;
  if (r != 0 && ((r < 0) != (b < 0)))
    r += b;
  return r;
}

/* An int list parameter (strides, pad, dilations, kernel_sizes, output_shape)
 * as the class reads it: the given const, or the class's default. */
typedef struct {
  const gint64 *v;       /* the values; NULL if not known to the mirror */
  gsize         n;       /* its length (from the shape when the values are not known) */
  gboolean      given;
  gboolean      vector;  /* rank 1: coremltools can take len () of it and index it */
  gint64        buf[2 * ANE_MIL_INFER_MAX_RANK];
} IntList;

static void
int_list (AneMilInferCall *call,
          const char      *param,
          gint64           fill,
          gssize           n_default,
          IntList         *l)
{
  const AneMilVal *v = ane_mil_infer_arg (call, param);
  gint64 *vals;
  gsize n;

  memset (l, 0, sizeof *l);
  if (v == NULL)
    {
      /* default_inputs: n_default copies of fill ([1] * k, [0] * 2k) */
      l->n = (gsize) CLAMP (n_default, 0, (gssize) G_N_ELEMENTS (l->buf));
      for (gsize i = 0; i < l->n; i++)
        l->buf[i] = fill;
      l->v = l->buf;
      l->vector = TRUE;
      return;
    }
  l->given = TRUE;
  l->vector = v->rank == 1;
  if (ane_mil_infer_ints (call, param, &vals, &n))
    {
      l->v = vals;
      l->n = n;
    }
  else
    l->n = v->rank == 1 && v->shape[0] >= 0 ? (gsize) v->shape[0] : 0;
}

/* The conv and pooling classes' default_inputs make lists of length
 * x.rank - 2 (twice that for pad); with no spatial axis the list is empty,
 * and coremltools' builder turns [] into an fp32 const (numpy's default
 * dtype), which the int32 parameter refuses (builder.py, _add_op, lines
 * 224-233, then InputSpec.validate_inputs). */
static gboolean
no_empty_defaults (AneMilInferCall    *call,
                   const AneMilVal    *x,
                   const char *const  *params,
                   GError            **error)
{
  if (x->rank > 2)
    return TRUE;
  for (const char *const *p = params; *p != NULL; p++)
    if (ane_mil_infer_arg (call, *p) == NULL)
      return ane_mil_infer_fail (call, error, "x has rank %u (no spatial axis): the default of '%s' "
                                 "is an empty list, which coremltools makes an fp32 const that the "
                                 "int32 parameter refuses; give '%s' explicitly", x->rank, *p, *p);
  return TRUE;
}

static gboolean
pad_type_known (const char *pad_type)
{
  return strcmp (pad_type, "valid") == 0 || strcmp (pad_type, "same") == 0 ||
         strcmp (pad_type, "same_lower") == 0 || strcmp (pad_type, "custom") == 0;
}

/* _utils.py, spatial_dimensions_out_shape (lines 239-340) with aggregated_pad
 * (lines 166-236) and effective_kernel (lines 140-163): the spatial output
 * sizes of conv and pooling. All lists must have one entry per kernel axis
 * (pad two); the padding is the total of custom pad, none for valid, and for
 * same/same_lower what makes the output ceil(in / stride); a symbolic input
 * size gives a symbolic output, a symbolic kernel size with a known input
 * size cannot be floored and raises; an output size below 1 raises. */
static gboolean
spatial_out_shape (AneMilInferCall *call,
                   const char      *pad_type,
                   const gint64    *in,
                   gsize            n_in,
                   const gint64    *kernel,      /* NULL: values not known */
                   gsize            n_kernel,
                   const IntList   *strides,
                   const IntList   *dilations,   /* NULL: ones */
                   const IntList   *pad,         /* NULL: zeros */
                   gboolean         ceil_mode,
                   gint64          *out,
                   GError         **error)
{
  gsize n = n_kernel;
  gsize n_dil = dilations != NULL ? dilations->n : n;
  gsize n_pad = pad != NULL ? pad->n : 2 * n;

  if (n_in != n || strides->n != n || n_dil != n || n_pad != 2 * n)
    return ane_mil_infer_fail (call, error, "the spatial input (%" G_GSIZE_FORMAT " axes), kernel (%"
                               G_GSIZE_FORMAT "), strides (%" G_GSIZE_FORMAT "), dilations (%"
                               G_GSIZE_FORMAT ") and pad (%" G_GSIZE_FORMAT ", two per axis) "
                               "differ in length", n_in, n, strides->n, n_dil, n_pad);
  if (!pad_type_known (pad_type))
    return ane_mil_infer_fail (call, error, "pad_type '%s' is not valid, same, same_lower or custom",
                               pad_type);
  if (kernel == NULL || strides->v == NULL || (dilations != NULL && dilations->v == NULL) ||
      (pad != NULL && pad->v == NULL))
    {
      /* a list whose values the mirror does not hold: the sizes are unknown */
      for (gsize d = 0; d < n; d++)
        out[d] = UNKNOWN;
      return TRUE;
    }
  for (gsize d = 0; d < n; d++)
    {
      gint64 i = in[d];
      gint64 s = strides->v[d];
      gint64 dil = dilations != NULL ? dilations->v[d] : 1;
      gint64 ek = kernel[d] >= 0 ? (kernel[d] - 1) * dil + 1 : UNKNOWN;
      gint64 p;
      double o;

      if (i < 0)
        {
          out[d] = UNKNOWN;
          continue;
        }
      if (kernel[d] < 0)
        return ane_mil_infer_fail (call, error, "the kernel size of spatial axis %" G_GSIZE_FORMAT " is "
                                   "unknown while the input size (%" G_GINT64_FORMAT ") is known: "
                                   "coremltools cannot compute the output size", d, i);
      if (s == 0)
        return ane_mil_infer_fail (call, error, "stride 0 on spatial axis %" G_GSIZE_FORMAT, d);
      if (strcmp (pad_type, "same") == 0 || strcmp (pad_type, "same_lower") == 0)
        p = MAX (0, s * (gint64) ceil ((double) i / (double) s) - i + ek - s);
      else if (strcmp (pad_type, "custom") == 0)
        p = pad != NULL ? pad->v[2 * d] + pad->v[2 * d + 1] : 0;
      else
        p = 0;
      if (!ceil_mode)
        o = floor ((double) (i + p - ek) / (double) s + 1.0);
      else
        {
          o = floor ((double) (i + p - ek + s - 1) / (double) s + 1.0);
          if ((o - 1.0) * (double) s >= (double) i + (double) p / 2.0 && p > 0)
            o -= 1.0;
        }
      if (o <= 0.0)
        return ane_mil_infer_fail (call, error, "spatial axis %" G_GSIZE_FORMAT " would have output "
                                   "size %.0f (input %" G_GINT64_FORMAT ", kernel %" G_GINT64_FORMAT
                                   ", stride %" G_GINT64_FORMAT ", padding %" G_GINT64_FORMAT ")",
                                   d, o, i, ek, s, p);
      out[d] = (gint64) o;
    }
  return TRUE;
}

/* --- linear, matmul, einsum --------------------------------------------- */

/* iOS15/linear.py, class linear.type_inference (lines 66-87), default_inputs
 * (lines 58-64: bias defaults to zeros of weight.shape[0], so the bias check
 * always holds then). x (rank >= 1; the docstring's limit of 3 is not
 * checked) has its last axis replaced by weight.shape[0]; weight must be
 * rank 2 with its last axis equal to x's unless either is symbolic; bias must
 * be rank 1 of length weight.shape[0]. The output has x's dtype (at iOS17,
 * iOS17/linear.py class linear (lines 14-50) only widens the type domains
 * and inherits this). */
static gboolean
linear (AneMilInferCall  *call,
        GError          **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  const AneMilVal *w = ane_mil_infer_arg (call, "weight");
  const AneMilVal *bias = ane_mil_infer_arg (call, "bias");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];

  if (w->rank != 2)
    return ane_mil_infer_fail (call, error, "weight has rank %u; it must be [D_out, D_in]", w->rank);
  if (x->rank == 0)
    return ane_mil_infer_fail (call, error, "x is a scalar; linear reads its last axis");
  if (dims_conflict (x->shape[x->rank - 1], w->shape[1]))
    return ane_mil_infer_fail (call, error, "the last axis of x (%" G_GINT64_FORMAT ") differs from "
                               "the last axis of weight (%" G_GINT64_FORMAT ")",
                               x->shape[x->rank - 1], w->shape[1]);
  if (bias != NULL && bias->rank != 1)
    return ane_mil_infer_fail (call, error, "bias has rank %u; it must be a vector", bias->rank);
  if (bias != NULL && dims_differ (bias->shape[0], w->shape[0]))
    {
      g_autofree char *b = dim_string (bias->shape[0]);
      g_autofree char *o = dim_string (w->shape[0]);

      return ane_mil_infer_fail (call, error, "bias has %s values, weight has %s rows", b, o);
    }
  memcpy (shape, x->shape, x->rank * sizeof (gint64));
  shape[x->rank - 1] = w->shape[0];
  ane_mil_infer_out (call, x->dtype, shape, x->rank);
  return TRUE;
}

ANE_MIL_INFER_RULE (linear, ios15) { return linear (call, error); }
ANE_MIL_INFER_RULE (linear, ios17) { return linear (call, error); }

/* iOS15/linear.py, class matmul.type_inference (lines 186-221). transpose_x
 * and transpose_y swap the last two axes; a rank-1 x may not be transposed
 * and is taken as [1, K]; y is read at axis -2 and so must have rank >= 2
 * (the docstring allows a rank-1 y; coremltools raises IndexError). The
 * contracted sizes must agree unless either is symbolic; the batch axes
 * broadcast (broadcast_shapes). For a rank-1 x coremltools then drops the
 * FIRST axis of [*batch, 1, N], not the inserted 1: x [4] with y [10, 4, 3]
 * gives [1, 3] where the docstring says [10, 3]. Output dtype: x's. */
static gboolean
matmul (AneMilInferCall  *call,
        int               dtype,
        GError          **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  const AneMilVal *y = ane_mil_infer_arg (call, "y");
  gint64 xs[ANE_MIL_INFER_MAX_RANK + 1], ys[ANE_MIL_INFER_MAX_RANK], shape[ANE_MIL_INFER_MAX_RANK + 2];
  guint xr = x->rank, yr = y->rank, rank;
  gboolean tx, ty, tx_known, ty_known;
  AneMilVal xb = { 0 }, yb = { 0 };

  tx_known = ane_mil_infer_bool (call, "transpose_x", FALSE, &tx);
  ty_known = ane_mil_infer_bool (call, "transpose_y", FALSE, &ty);
  if (xr == 0)
    return ane_mil_infer_fail (call, error, "x is a scalar; matmul needs rank >= 1");
  if (xr == 1 && tx_known && tx)
    return ane_mil_infer_fail (call, error, "x has rank 1, which transpose_x = true does not allow");
  if (yr < 2)
    return ane_mil_infer_fail (call, error, "y has rank %u; coremltools reads its axis -2, so it "
                               "needs rank >= 2", yr);
  memcpy (xs, x->shape, xr * sizeof (gint64));
  memcpy (ys, y->shape, yr * sizeof (gint64));
  /* a transpose the mirror cannot read leaves both swapped sizes unknown */
  if (xr >= 2 && (!tx_known || tx))
    {
      gint64 t = xs[xr - 1];

      xs[xr - 1] = tx_known ? xs[xr - 2] : UNKNOWN;
      xs[xr - 2] = tx_known ? t : UNKNOWN;
    }
  if (!ty_known || ty)
    {
      gint64 t = ys[yr - 1];

      ys[yr - 1] = ty_known ? ys[yr - 2] : UNKNOWN;
      ys[yr - 2] = ty_known ? t : UNKNOWN;
    }
  if (dims_conflict (xs[xr - 1], ys[yr - 2]))
    {
      g_autofree char *a = ane_mil_infer_dims_string (x->shape, xr);
      g_autofree char *b = ane_mil_infer_dims_string (y->shape, yr);

      return ane_mil_infer_fail (call, error, "x %s and y %s do not agree on the contracted axis "
                                 "(%" G_GINT64_FORMAT " vs %" G_GINT64_FORMAT ")", a, b,
                                 xs[xr - 1], ys[yr - 2]);
    }
  if (xr == 1)
    {
      xs[1] = xs[0];
      xs[0] = 1;
      xr = 2;
    }
  /* broadcast the batch axes (the shared helper, as shapes of rank-0 values
   * when a side has none: an empty shape broadcasts to the other one) */
  xb.kind = yb.kind = ANE_MIL_VAL_TENSOR;
  xb.rank = xr - 2;
  memcpy (xb.shape, xs, xb.rank * sizeof (gint64));
  yb.rank = yr - 2;
  memcpy (yb.shape, ys, yb.rank * sizeof (gint64));
  if (!ane_mil_infer_broadcast (call, &xb, &yb, shape, &rank, error))
    return FALSE;
  shape[rank++] = xs[xr - 2];
  shape[rank++] = ys[yr - 1];
  if (x->rank == 1)
    ane_mil_infer_out (call, dtype, shape + 1, rank - 1);
  else
    ane_mil_infer_out (call, dtype, shape, rank);
  return TRUE;
}

ANE_MIL_INFER_RULE (matmul, ios15)
{
  return matmul (call, ane_mil_infer_arg (call, "x")->dtype, error);
}

/* iOS17/linear.py, class matmul.type_inference (lines 101-119): x and y may
 * differ in dtype only when exactly one of them is the output of a const op;
 * the output then takes the other one's dtype, else x's. The mirror takes
 * "descends from consts" for "is a const op" (it does not record which op
 * made a value): a folded op or a constexpr_* output counts as const here,
 * where coremltools would call it non-const. The shape rule is iOS15's. */
ANE_MIL_INFER_RULE (matmul, ios17)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  const AneMilVal *y = ane_mil_infer_arg (call, "y");
  gboolean x_const = x->const_descendant, y_const = y->const_descendant;

  if (x_const == y_const && x->dtype != y->dtype)
    return ane_mil_infer_fail (call, error, "x (%s) and y (%s) are both %s, so their dtypes must "
                               "match", ane_mil_dt_name (x->dtype), ane_mil_dt_name (y->dtype),
                               x_const ? "const" : "non-const");
  return matmul (call, x_const != y_const ? (y_const ? x->dtype : y->dtype) : x->dtype, error);
}

/* _utils.py, parse_einsum_equation (lines 343-389): the equation splits at
 * "->" into exactly two parts, the left one at ","; each distinct character
 * (code point) is numbered in order of first appearance over the operands
 * and then the result. Returns the number of operand+result vectors (3 for
 * two operands), or 0 if there is no single "->". */
static guint
einsum_vectors (const char *equation,
                GArray     *vecs[3])
{
  g_auto(GStrv) sides = g_strsplit (equation, "->", -1);
  g_auto(GStrv) inputs = NULL;
  g_autoptr(GArray) seen = g_array_new (FALSE, FALSE, sizeof (gunichar));
  const char *parts[3];
  guint n_parts = 0;

  if (g_strv_length (sides) != 2)
    return 0;
  inputs = g_strsplit (sides[0], ",", -1);
  /* Python's "".split(",") is [""]; GLib's is empty */
  if (inputs[0] == NULL)
    return 1 + 1;
  if (g_strv_length (inputs) != 2)
    return g_strv_length (inputs) + 1;
  parts[n_parts++] = inputs[0];
  parts[n_parts++] = inputs[1];
  parts[n_parts++] = sides[1];
  for (guint k = 0; k < 3; k++)
    {
      vecs[k] = g_array_new (FALSE, FALSE, sizeof (guint));
      for (const char *p = parts[k]; *p != '\0'; p = g_utf8_next_char (p))
        {
          gunichar c = g_utf8_get_char (p);
          guint id = seen->len;

          for (guint j = 0; j < seen->len; j++)
            if (g_array_index (seen, gunichar, j) == c)
              id = j;
          if (id == seen->len)
            g_array_append_val (seen, c);
          g_array_append_val (vecs[k], id);
        }
    }
  return 3;
}

static gboolean
vec_is (GArray      *vec,
        const guint *expected,
        guint        n)
{
  return vec->len == n && memcmp (vec->data, expected, n * sizeof (guint)) == 0;
}

/* iOS15/linear.py, class einsum.type_inference (lines 282-327): exactly two
 * values of one dtype and one rank (>= 3, read at axes -1, -2, -3); W (x's
 * -1, y's -3) must agree unless symbolic; H (-2) and, at rank 4 only, B (-4)
 * must agree unless one side is 1 (a symbol is not 1, so a symbol against a
 * size raises); the equation must number like nchw,nwhu->nchu or
 * chw,whr->chr, whatever the values' rank. The output has rank of x, all 1
 * but [-1] = y's, [-3] = x's, [-2] (and [-4] at rank 4) the larger of the
 * two, symbolic if either is: a rank-5 call gets 1 at its first two axes. */
ANE_MIL_INFER_RULE (einsum, ios15)
{
  static const guint eq4[3][4] = { { 0, 1, 2, 3 }, { 0, 3, 2, 4 }, { 0, 1, 2, 4 } };
  static const guint eq3[3][3] = { { 0, 1, 2 }, { 2, 1, 3 }, { 0, 1, 3 } };
  const AneMilVal *x, *y;
  const char *equation = ane_mil_infer_string (call, "equation", NULL);
  GArray *vecs[3] = { NULL, NULL, NULL };
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  gboolean supported;
  guint r, n_vecs;

  if (ane_mil_infer_n_args (call, "values") != 2)
    return ane_mil_infer_fail (call, error, "values holds %u tensors; einsum takes two",
                               ane_mil_infer_n_args (call, "values"));
  x = ane_mil_infer_arg_nth (call, "values", 0);
  y = ane_mil_infer_arg_nth (call, "values", 1);
  r = x->rank;
  if (x->dtype != y->dtype)
    return ane_mil_infer_fail (call, error, "the values' dtypes differ (%s, %s)",
                               ane_mil_dt_name (x->dtype), ane_mil_dt_name (y->dtype));
  if (y->rank != r)
    return ane_mil_infer_fail (call, error, "the values' ranks differ (%u, %u)", r, y->rank);
  if (r < 3)
    return ane_mil_infer_fail (call, error, "the values have rank %u; einsum reads their axes -1 to -3", r);
  if (dims_conflict (x->shape[r - 1], y->shape[r - 3]))
    return ane_mil_infer_fail (call, error, "axis -1 of the first value (%" G_GINT64_FORMAT ") differs "
                               "from axis -3 of the second (%" G_GINT64_FORMAT ")",
                               x->shape[r - 1], y->shape[r - 3]);
  for (guint k = 2; k <= (r == 4 ? 4u : 2u); k += 2)
    {
      gint64 a = x->shape[r - k], b = y->shape[r - k];

      if (a != 1 && b != 1 && dims_differ (a, b))
        {
          g_autofree char *sa = dim_string (a);
          g_autofree char *sb = dim_string (b);

          return ane_mil_infer_fail (call, error, "axis -%u of the values (%s, %s) neither agrees nor "
                                     "is 1", k, sa, sb);
        }
    }
  if (equation == NULL)
    return ane_mil_infer_fail (call, error, "equation is not a known string");
  n_vecs = einsum_vectors (equation, vecs);
  supported = n_vecs == 3 &&
              ((vec_is (vecs[0], eq4[0], 4) && vec_is (vecs[1], eq4[1], 4) && vec_is (vecs[2], eq4[2], 4)) ||
               (vec_is (vecs[0], eq3[0], 3) && vec_is (vecs[1], eq3[1], 3) && vec_is (vecs[2], eq3[2], 3)));
  for (guint k = 0; k < 3; k++)
    if (vecs[k] != NULL)
      g_array_unref (vecs[k]);
  if (!supported)
    return ane_mil_infer_fail (call, error, "equation '%s' is not one einsum supports (nchw,nwhu->nchu, "
                               "chw,whr->chr or a renaming of them)", equation);
  for (guint i = 0; i < r; i++)
    shape[i] = 1;
  shape[r - 1] = y->shape[r - 1];
  shape[r - 3] = x->shape[r - 3];
  for (guint k = 2; k <= (r == 4 ? 4u : 2u); k += 2)
    {
      gint64 a = x->shape[r - k], b = y->shape[r - k];

      shape[r - k] = a < 0 || b < 0 ? UNKNOWN : MAX (a, b);
    }
  ane_mil_infer_out (call, x->dtype, shape, r);
  return TRUE;
}

/* --- normalization ------------------------------------------------------ */

/* iOS15/normalization.py, classes batch_norm (type_inference lines 75-77),
 * instance_norm (lines 128-130) and local_response_norm (lines 379-381): the
 * output is x's type, whatever x's rank (the docstrings' rank limits and the
 * parameters' shapes are not checked). The iOS17 classes
 * (iOS17/normalization.py lines 26, 54, 126) only widen the type domains. */
static gboolean
same_as_x (AneMilInferCall *call)
{
  ane_mil_infer_out_like (call, ane_mil_infer_arg (call, "x"), -1);
  return TRUE;
}

ANE_MIL_INFER_RULE (batch_norm, ios15) { (void) error; return same_as_x (call); }
ANE_MIL_INFER_RULE (batch_norm, ios17) { (void) error; return same_as_x (call); }
ANE_MIL_INFER_RULE (instance_norm, ios15) { (void) error; return same_as_x (call); }
ANE_MIL_INFER_RULE (instance_norm, ios17) { (void) error; return same_as_x (call); }
ANE_MIL_INFER_RULE (local_response_norm, ios15) { (void) error; return same_as_x (call); }
ANE_MIL_INFER_RULE (local_response_norm, ios17) { (void) error; return same_as_x (call); }

/* iOS15/normalization.py, class l2_norm.type_inference (lines 182-187): x of
 * rank >= 3; the output is x's type. iOS17 (iOS17/normalization.py line 76)
 * inherits it. */
static gboolean
l2_norm (AneMilInferCall  *call,
         GError          **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");

  if (x->rank < 3)
    return ane_mil_infer_fail (call, error, "x has rank %u; l2_norm needs rank >= 3", x->rank);
  ane_mil_infer_out_like (call, x, -1);
  return TRUE;
}

ANE_MIL_INFER_RULE (l2_norm, ios15) { return l2_norm (call, error); }
ANE_MIL_INFER_RULE (l2_norm, ios17) { return l2_norm (call, error); }

/* iOS15/normalization.py, class layer_norm: type_inference (lines 281-298)
 * and default_inputs (lines 262-268). The default of axes is range(rank),
 * which coremltools 9.0's builder cannot make a const of ("Cannot add const
 * range(...)", builder.py _add_const lines 112-127), so a call without axes
 * is refused although the docstring calls axes optional. Axes must lie in
 * [-rank, rank) (a scalar axes is not iterable and raises); gamma's shape
 * must be x's sizes at the normalized axes, in x's axis order (symbolic
 * sizes match anything). beta is checked against gamma's shape, not its own,
 * and so a beta without gamma raises and a beta of any shape passes. The
 * output is x's type. iOS17 (iOS17/normalization.py line 100) inherits it. */
static gboolean
layer_norm (AneMilInferCall  *call,
            GError          **error)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  const AneMilVal *axes = ane_mil_infer_arg (call, "axes");
  const AneMilVal *gamma = ane_mil_infer_arg (call, "gamma");
  gint64 *vals;
  gsize n;

  if (axes == NULL)
    return ane_mil_infer_fail (call, error, "axes is not given: coremltools %s cannot build its "
                               "default (range(rank)) as a const; give axes explicitly",
                               ANE_MIL_INFER_COREMLTOOLS_VERSION);
  if (axes->rank == 0)
    return ane_mil_infer_fail (call, error, "axes is a scalar; coremltools iterates over it");
  for (guint i = 1; i < axes->rank; i++)
    if (axes->shape[i] != 1)
      return ane_mil_infer_fail (call, error, "axes has shape with more than one element per row; "
                                 "coremltools cannot compare its rows with 0");
  if (gamma == NULL && ane_mil_infer_arg (call, "beta") != NULL)
    return ane_mil_infer_fail (call, error, "beta is given without gamma; coremltools checks beta "
                               "against gamma's shape and fails");
  if (ane_mil_infer_ints (call, "axes", &vals, &n))
    {
      gboolean normalized[ANE_MIL_INFER_MAX_RANK] = { FALSE };
      gint64 norm_shape[ANE_MIL_INFER_MAX_RANK];
      guint n_norm = 0;

      for (gsize i = 0; i < n; i++)
        {
          guint a;

          if (!ane_mil_infer_axis (call, "axes", vals[i], x->rank, &a, error))
            return FALSE;
          normalized[a] = TRUE;
        }
      for (guint i = 0; i < x->rank; i++)
        if (normalized[i])
          norm_shape[n_norm++] = x->shape[i];
      if (gamma != NULL)
        {
          gboolean ok = gamma->rank == n_norm;

          for (guint i = 0; ok && i < n_norm; i++)
            ok = !dims_conflict (gamma->shape[i], norm_shape[i]);
          if (!ok)
            {
              g_autofree char *want = ane_mil_infer_dims_string (norm_shape, n_norm);
              g_autofree char *got = ane_mil_infer_dims_string (gamma->shape, gamma->rank);

              return ane_mil_infer_fail (call, error, "gamma has shape %s; the normalized axes of x "
                                         "have %s", got, want);
            }
        }
    }
  ane_mil_infer_out_like (call, x, -1);
  return TRUE;
}

ANE_MIL_INFER_RULE (layer_norm, ios15) { return layer_norm (call, error); }
ANE_MIL_INFER_RULE (layer_norm, ios17) { return layer_norm (call, error); }

/* --- convolution -------------------------------------------------------- */

/* iOS15/conv.py, class conv: type_inference (lines 153-200) and
 * default_inputs (lines 142-151). Output [N, C_out, *spatial] of x's dtype,
 * with N = x.shape[0], C_out = weight.shape[0] and the spatial sizes from
 * spatial_dimensions_out_shape (x.shape[2:] against weight.shape[2:], the
 * strides, the dilations and, for custom only, pad). It raises for a bias
 * that is not a vector of C_out values (a symbolic length counts as
 * different), for a known C_in not divisible by groups or whose quotient is
 * not weight.shape[1], for same_lower when the current opset is iOS15 (the
 * iOS15 class is also iOS16's, where same_lower passes), and for a dilation
 * > 1 with a weight that does not descend from consts. pad_type is compared
 * as given (case matters). iOS17/conv.py class conv (line 17) changes only
 * the input spec. */
static gboolean
conv (AneMilInferCall  *call,
      GError          **error)
{
  static const char *const defaults[] = { "strides", "pad", "dilations", NULL };
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  const AneMilVal *w = ane_mil_infer_arg (call, "weight");
  const AneMilVal *bias = ane_mil_infer_arg (call, "bias");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  gint64 groups, c_in, c_out;
  gboolean groups_known, custom;
  const char *pad_type;
  IntList strides, pad, dilations;
  gsize n_spatial, n_kernel;

  if (x->rank < 2)
    return ane_mil_infer_fail (call, error, "x has rank %u; conv reads its channel axis 1", x->rank);
  if (w->rank == 0)
    return ane_mil_infer_fail (call, error, "weight is a scalar; conv reads its axis 0");
  if (!no_empty_defaults (call, x, defaults, error))
    return FALSE;
  n_spatial = x->rank - 2;
  n_kernel = w->rank > 2 ? w->rank - 2 : 0;
  c_in = x->shape[1];
  c_out = w->shape[0];
  groups_known = ane_mil_infer_int (call, "groups", 1, &groups);

  if (bias != NULL && (bias->rank != 1 || dims_differ (bias->shape[0], c_out)))
    {
      g_autofree char *b = ane_mil_infer_dims_string (bias->shape, bias->rank);
      g_autofree char *o = dim_string (c_out);

      return ane_mil_infer_fail (call, error, "bias has shape %s; it must be a vector of the %s "
                                 "output channels", b, o);
    }
  if (c_in >= 0 && groups_known)
    {
      if (np_mod (c_in, groups) != 0)
        return ane_mil_infer_fail (call, error, "C_in (%" G_GINT64_FORMAT ") is not divisible by groups "
                                   "(%" G_GINT64_FORMAT ")", c_in, groups);
      if (w->rank < 2)
        return ane_mil_infer_fail (call, error, "weight has rank %u; conv reads its axis 1", w->rank);
      if (dims_differ (np_floordiv (c_in, groups), w->shape[1]))
        {
          g_autofree char *w1 = dim_string (w->shape[1]);

          return ane_mil_infer_fail (call, error, "C_in / groups (%" G_GINT64_FORMAT " / %" G_GINT64_FORMAT
                                     ") differs from weight.shape[1] (%s)", c_in, groups, w1);
        }
    }

  pad_type = ane_mil_infer_string (call, "pad_type", "valid");
  if (pad_type == NULL)
    return ane_mil_infer_fail (call, error, "pad_type is not a known string");
  if (call->target == ANE_MIL_IOS15 && strcmp (pad_type, "same_lower") == 0)
    return ane_mil_infer_fail (call, error, "pad_type same_lower is refused at iOS15");
  custom = strcmp (pad_type, "custom") == 0;

  int_list (call, "strides", 1, (gssize) x->rank - 2, &strides);
  int_list (call, "dilations", 1, (gssize) x->rank - 2, &dilations);
  int_list (call, "pad", 0, 2 * ((gssize) x->rank - 2), &pad);
  if (!strides.vector || !dilations.vector || (custom && !pad.vector))
    return ane_mil_infer_fail (call, error, "%s must be a vector", !strides.vector ? "strides" :
                               !dilations.vector ? "dilations" : "pad");
  if (!w->const_descendant && dilations.v != NULL)
    for (gsize i = 0; i < dilations.n; i++)
      if (dilations.v[i] > 1)
        return ane_mil_infer_fail (call, error, "a weight that is not const allows no dilation > 1 "
                                   "(dilations[%" G_GSIZE_FORMAT "] = %" G_GINT64_FORMAT ")", i,
                                   dilations.v[i]);

  shape[0] = x->shape[0];
  shape[1] = c_out;
  if (!spatial_out_shape (call, pad_type, x->shape + 2, n_spatial, w->shape + 2, n_kernel,
                          &strides, &dilations, custom ? &pad : NULL, FALSE, shape + 2, error))
    return FALSE;
  ane_mil_infer_out (call, x->dtype, shape, x->rank);
  return TRUE;
}

ANE_MIL_INFER_RULE (conv, ios15) { return conv (call, error); }
ANE_MIL_INFER_RULE (conv, ios17) { return conv (call, error); }

/* iOS15/conv.py, class conv_transpose: type_inference (lines 374-431) and
 * default_inputs (lines 362-372). C_out = weight.shape[1] * groups; it
 * raises when bias's value (bias.val, so bias must have one) does not have
 * C_out entries, and when C_out % groups is not 0, which a symbolic
 * weight.shape[1] cannot be shown to be (sympy leaves Mod(s * g, g) alone),
 * so an unknown weight.shape[1] always raises. A given output_shape is the
 * output as is (any length) once its first two entries equal N and C_out (a
 * symbolic N never does); pad_type, strides and dilations are not read then.
 * Otherwise per spatial axis r (as many as x has; extra kernel axes and list
 * entries are ignored, missing ones raise), with K = (k - 1) * dilation + 1:
 * same gives stride * D, valid stride * (D - 1) + K, custom that minus the
 * two pads; any other pad_type (same_lower too) raises. No size check
 * follows: a negative size comes out, which the mirror refuses. iOS17
 * (iOS17/conv.py class conv_transpose, line 43) changes only the input spec:
 * bias may then be non-const, but type_inference still reads its value. */
static gboolean
conv_transpose (AneMilInferCall  *call,
                GError          **error)
{
  static const char *const defaults[] = { "pad", "strides", "dilations", NULL };
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  const AneMilVal *w = ane_mil_infer_arg (call, "weight");
  const AneMilVal *bias = ane_mil_infer_arg (call, "bias");
  const AneMilVal *output_shape = ane_mil_infer_arg (call, "output_shape");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  gint64 groups = 1, c_out, n;
  gboolean groups_known;
  const char *pad_type;
  IntList strides, pad, dilations;
  gssize n_spatial = (gssize) x->rank - 2;
  gsize n_kernel = w->rank > 2 ? w->rank - 2 : 0;
  gboolean same, valid, custom;

  if (x->rank == 0)
    return ane_mil_infer_fail (call, error, "x is a scalar; conv_transpose reads its axis 0");
  if (w->rank < 2)
    return ane_mil_infer_fail (call, error, "weight has rank %u; conv_transpose reads its axis 1",
                               w->rank);
  if (!no_empty_defaults (call, x, defaults, error))
    return FALSE;
  n = x->shape[0];
  groups_known = ane_mil_infer_int (call, "groups", 1, &groups);
  if (w->shape[1] < 0)
    return ane_mil_infer_fail (call, error, "weight.shape[1] is unknown: coremltools cannot show that "
                               "C_out (weight.shape[1] * groups) is divisible by groups and raises");
  c_out = groups_known ? w->shape[1] * groups : UNKNOWN;
  if (bias != NULL)
    {
      if (!bias->const_descendant)
        return ane_mil_infer_fail (call, error, "bias is not const: coremltools reads its value");
      if (bias->rank == 0)
        return ane_mil_infer_fail (call, error, "bias is a scalar; coremltools reads its length");
      if (dims_conflict (bias->shape[0], c_out))
        return ane_mil_infer_fail (call, error, "bias has %" G_GINT64_FORMAT " values, but there are %"
                                   G_GINT64_FORMAT " output channels", bias->shape[0], c_out);
    }

  if (output_shape != NULL)
    {
      gint64 *vals;
      gsize len;

      if (output_shape->rank != 1)
        return ane_mil_infer_fail (call, error, "output_shape must be a vector");
      if (!ane_mil_infer_ints (call, "output_shape", &vals, &len))
        {
          len = output_shape->shape[0] >= 0 ? (gsize) output_shape->shape[0] : 0;
          vals = NULL;
        }
      if (len < 2)
        return ane_mil_infer_fail (call, error, "output_shape has %" G_GSIZE_FORMAT " entries; "
                                   "coremltools reads the first two", len);
      if (vals == NULL)
        {
          for (gsize i = 0; i < MIN (len, (gsize) ANE_MIL_INFER_MAX_RANK); i++)
            shape[i] = UNKNOWN;
          ane_mil_infer_out (call, x->dtype, shape, (guint) len);
          return TRUE;
        }
      if (dims_differ (vals[0], n))
        {
          g_autofree char *sn = dim_string (n);

          return ane_mil_infer_fail (call, error, "output_shape[0] (%" G_GINT64_FORMAT ") is not x's "
                                     "batch size (%s)", vals[0], sn);
        }
      if (dims_conflict (vals[1], c_out))
        return ane_mil_infer_fail (call, error, "output_shape[1] (%" G_GINT64_FORMAT ") is not the "
                                   "number of output channels (%" G_GINT64_FORMAT ")", vals[1], c_out);
      for (gsize i = 0; i < len; i++)
        if (vals[i] < 0)
          return ane_mil_infer_fail (call, error, "output_shape[%" G_GSIZE_FORMAT "] is %" G_GINT64_FORMAT
                                     ": coremltools keeps it, no declared type can match it", i, vals[i]);
      for (gsize i = 0; i < MIN (len, (gsize) ANE_MIL_INFER_MAX_RANK); i++)
        shape[i] = vals[i];
      ane_mil_infer_out (call, x->dtype, shape, (guint) len);
      return TRUE;
    }

  pad_type = ane_mil_infer_string (call, "pad_type", "valid");
  if (pad_type == NULL)
    return ane_mil_infer_fail (call, error, "pad_type is not a known string");
  same = strcmp (pad_type, "same") == 0;
  valid = strcmp (pad_type, "valid") == 0;
  custom = strcmp (pad_type, "custom") == 0;
  int_list (call, "strides", 1, n_spatial, &strides);
  int_list (call, "dilations", 1, n_spatial, &dilations);
  int_list (call, "pad", 0, 2 * n_spatial, &pad);
  for (gssize r = 0; r < n_spatial; r++)
    {
      if ((gsize) r >= n_kernel)
        return ane_mil_infer_fail (call, error, "weight has %" G_GSIZE_FORMAT " kernel axes, x has %"
                                   G_GSSIZE_FORMAT " spatial axes", n_kernel, n_spatial);
      if (!dilations.vector || (gsize) r >= dilations.n)
        return ane_mil_infer_fail (call, error, "dilations has no entry for spatial axis %"
                                   G_GSSIZE_FORMAT, r);
    }
  if (!same && !valid && !custom)
    return ane_mil_infer_fail (call, error, "pad_type '%s' is not same, valid or custom", pad_type);
  for (gssize r = 0; r < n_spatial; r++)
    {
      if (!strides.vector || (gsize) r >= strides.n)
        return ane_mil_infer_fail (call, error, "strides has no entry for spatial axis %" G_GSSIZE_FORMAT, r);
      if (custom && (!pad.vector || (gsize) (2 * r + 1) >= pad.n))
        return ane_mil_infer_fail (call, error, "pad has no entries for spatial axis %" G_GSSIZE_FORMAT, r);
    }

  shape[0] = n;
  shape[1] = c_out;
  for (gssize r = 0; r < n_spatial; r++)
    {
      gint64 d = x->shape[2 + r], k = w->shape[2 + r], size;

      if (strides.v == NULL || dilations.v == NULL || (custom && pad.v == NULL) || d < 0 ||
          (!same && k < 0))
        {
          shape[2 + r] = UNKNOWN;
          continue;
        }
      if (same)
        size = strides.v[r] * d;
      else
        {
          size = strides.v[r] * (d - 1) + (k - 1) * dilations.v[r] + 1;
          if (custom)
            size -= pad.v[2 * r] + pad.v[2 * r + 1];
        }
      if (size < 0)
        return ane_mil_infer_fail (call, error, "spatial axis %" G_GSSIZE_FORMAT " gets size %"
                                   G_GINT64_FORMAT ": coremltools keeps it, no declared type can "
                                   "match it", r, size);
      shape[2 + r] = size;
    }
  ane_mil_infer_out (call, x->dtype, shape, 2 + (guint) MAX (n_spatial, 0));
  return TRUE;
}

ANE_MIL_INFER_RULE (conv_transpose, ios15) { return conv_transpose (call, error); }
ANE_MIL_INFER_RULE (conv_transpose, ios17) { return conv_transpose (call, error); }

/* --- pooling ------------------------------------------------------------ */

/* iOS15/pool.py, class Pooling: type_inference (lines 42-78) and
 * default_inputs (lines 34-40), shared by avg_pool, max_pool and l2_pool.
 * pad_type is lower-cased and must be valid, same, custom or same_lower;
 * with ceil_mode there must be at most two spatial axes, pad_type must not
 * be same, and pad must be symmetric per axis. The iOS15 refusal of
 * same_lower compares the string as given, so "SAME_LOWER" passes at iOS15.
 * pad (default zeros) always goes to spatial_dimensions_out_shape, so its
 * length is checked whatever the pad_type. Output [*x.shape[:2], *spatial]
 * of x's dtype. */
static gboolean
pool (AneMilInferCall  *call,
      GError          **error)
{
  static const char *const defaults[] = { "strides", "pad", NULL };
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];
  gssize n_spatial = (gssize) x->rank - 2;
  const char *pad_type_given = ane_mil_infer_string (call, "pad_type", NULL);
  g_autofree char *pad_type = NULL;
  IntList kernel, strides, pad;
  gboolean ceil_mode, ceil_known;
  guint lead = MIN (x->rank, 2u);

  if (!no_empty_defaults (call, x, defaults, error))
    return FALSE;
  if (pad_type_given == NULL)
    return ane_mil_infer_fail (call, error, "pad_type is not a known string");
  pad_type = g_ascii_strdown (pad_type_given, -1);
  if (!pad_type_known (pad_type))
    return ane_mil_infer_fail (call, error, "pad_type '%s' is not valid, same, custom or same_lower",
                               pad_type_given);
  int_list (call, "kernel_sizes", 0, 0, &kernel);
  int_list (call, "strides", 1, n_spatial, &strides);
  int_list (call, "pad", 0, 2 * n_spatial, &pad);
  ceil_known = ane_mil_infer_bool (call, "ceil_mode", FALSE, &ceil_mode);
  if (ceil_known && ceil_mode)
    {
      if (n_spatial > 2)
        return ane_mil_infer_fail (call, error, "ceil_mode allows at most 2 spatial axes, x has %"
                                   G_GSSIZE_FORMAT, n_spatial);
      if (strcmp (pad_type, "same") == 0)
        return ane_mil_infer_fail (call, error, "ceil_mode is refused with pad_type same");
      for (gssize i = 0; i < n_spatial; i++)
        {
          if (!pad.vector || (gsize) (2 * i + 1) >= pad.n)
            return ane_mil_infer_fail (call, error, "pad has no entries for spatial axis %"
                                       G_GSSIZE_FORMAT, i);
          if (pad.v != NULL && pad.v[2 * i] != pad.v[2 * i + 1])
            return ane_mil_infer_fail (call, error, "ceil_mode needs symmetric padding; axis %"
                                       G_GSSIZE_FORMAT " has %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
                                       i, pad.v[2 * i], pad.v[2 * i + 1]);
        }
    }
  if (call->target == ANE_MIL_IOS15 && strcmp (pad_type_given, "same_lower") == 0)
    return ane_mil_infer_fail (call, error, "pad_type same_lower is refused at iOS15");
  if (!kernel.vector || !strides.vector || !pad.vector)
    return ane_mil_infer_fail (call, error, "%s must be a vector", !kernel.vector ? "kernel_sizes" :
                               !strides.vector ? "strides" : "pad");

  memcpy (shape, x->shape, lead * sizeof (gint64));
  if (!ceil_known)
    {
      /* a ceil_mode the mirror cannot read: the sizes are unknown */
      for (guint i = lead; i < x->rank; i++)
        shape[i] = UNKNOWN;
      ane_mil_infer_out (call, x->dtype, shape, x->rank);
      return TRUE;
    }
  if (!spatial_out_shape (call, pad_type, x->shape + lead, x->rank - lead, kernel.v, kernel.n,
                          &strides, NULL, &pad, ceil_mode, shape + lead, error))
    return FALSE;
  ane_mil_infer_out (call, x->dtype, shape, lead + (guint) kernel.n);
  return TRUE;
}

ANE_MIL_INFER_RULE (avg_pool, ios15) { return pool (call, error); }
ANE_MIL_INFER_RULE (max_pool, ios15) { return pool (call, error); }

/* iOS15/pool.py, class l2_pool.type_inference (lines 218-222): at most two
 * spatial axes, then the Pooling rule. */
ANE_MIL_INFER_RULE (l2_pool, ios15)
{
  const AneMilVal *x = ane_mil_infer_arg (call, "x");

  if (x->rank > 4)
    return ane_mil_infer_fail (call, error, "x has %u spatial axes; l2_pool takes 1 or 2", x->rank - 2);
  return pool (call, error);
}

/* --- upsampling --------------------------------------------------------- */

/* iOS15/image_resizing.py, class upsample_nearest_neighbor: type_inference
 * (lines 71-80), default_inputs (lines 65-69: both factors 1). x of rank >= 3;
 * the last two sizes become floor(factor * size) (numpy, in double: numpy
 * 1.x promotes a float32 scalar times a Python int to float64), symbolic if
 * the size is. A factor must be a scalar (a vector makes the shape
 * unhashable). A negative factor gives a negative size that coremltools
 * keeps; the mirror refuses it. The output has x's dtype. */
ANE_MIL_INFER_RULE (upsample_nearest_neighbor, ios15)
{
  static const char *const factors[] = { "scale_factor_height", "scale_factor_width" };
  const AneMilVal *x = ane_mil_infer_arg (call, "x");
  gint64 shape[ANE_MIL_INFER_MAX_RANK];

  if (x->rank < 3)
    return ane_mil_infer_fail (call, error, "x has rank %u; upsample_nearest_neighbor needs rank >= 3",
                               x->rank);
  memcpy (shape, x->shape, x->rank * sizeof (gint64));
  for (guint k = 0; k < 2; k++)
    {
      const AneMilVal *f = ane_mil_infer_arg (call, factors[k]);
      guint axis = x->rank - 2 + k;
      double factor, size;

      if (f != NULL && f->rank != 0)
        return ane_mil_infer_fail (call, error, "%s must be a scalar", factors[k]);
      if (shape[axis] < 0 || !ane_mil_infer_double (call, factors[k], 1.0, &factor))
        {
          shape[axis] = UNKNOWN;
          continue;
        }
      size = floor (factor * (double) shape[axis]);
      if (!isfinite (size) || size < 0.0 || size > (double) G_MAXINT64 / 2)
        return ane_mil_infer_fail (call, error, "%s (%g) gives axis %u size %g: no declared type can "
                                   "match it", factors[k], factor, axis, size);
      shape[axis] = (gint64) size;
    }
  ane_mil_infer_out (call, x->dtype, shape, x->rank);
  return TRUE;
}
