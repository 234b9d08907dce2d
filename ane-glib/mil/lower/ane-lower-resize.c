/* mil/lower/ane-lower-resize.c: resize (ONNX Resize of the last two axes)
 *
 * Each axis is resized by a table made when lowering (ane_resize_axis_table,
 * ops/ane-ops-resize.c), so every coordinate mode is exact:
 *   nearest, float x, both axes x_out -> floor(x_out / k) for integer
 *       factors k (what asymmetric + floor, and half_pixel +
 *       round_prefer_floor, give for integer scales)
 *       -> upsample_nearest_neighbor (int32 factors; iOS15/image_resizing.py)
 *   nearest otherwise -> gather of the table's indices along each resized
 *       axis (any dtype gather takes; narrow integers through int32)
 *   linear -> x · Mwᵀ then Mh · (...): two matmuls with const interpolation
 *       matrices ([in, out] along W, [1, out, in] along H), each output
 *       column holding the (1 - w, w) weights of its two neighbours.
 * An axis whose table is the identity is left out. MIL's upsample_bilinear
 * and resize_bilinear are not used: their sampling modes do not cover
 * half_pixel with a scale other than out / in, nor pytorch_half_pixel's
 * out = 1 rule, nor ONNX Runtime's clamping of the source coordinate, and
 * the CPU backend has no kernel for them; the matmuls are exact for every
 * mode (docs/lowering-vision.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/lower/ane-lower-private.h"
#include "ops/ane-ops.h"

typedef struct {
  gint64  in, out;
  gint64 *lo, *hi;
  double *w;
} AxisTable;

static void
table_init (AxisTable *t,
            GVariant  *attrs,
            guint      axis,
            gint64     in,
            gint64     out)
{
  t->in = in;
  t->out = out;
  t->lo = g_new (gint64, out);
  t->hi = g_new (gint64, out);
  t->w = g_new (double, out);
  ane_resize_axis_table (attrs, axis, in, out, t->lo, t->hi, t->w);
}

static void
table_clear (AxisTable *t)
{
  g_free (t->lo);
  g_free (t->hi);
  g_free (t->w);
}

static gboolean
table_identity (const AxisTable *t)
{
  if (t->in != t->out)
    return FALSE;
  for (gint64 x = 0; x < t->out; x++)
    if (t->lo[x] != x || t->w[x] != 0)
      return FALSE;
  return TRUE;
}

/* The integer factor k when the table is x -> floor(x / k), else 0. */
static gint64
table_floor_factor (const AxisTable *t)
{
  gint64 k;

  if (t->out % t->in != 0)
    return 0;
  k = t->out / t->in;
  for (gint64 x = 0; x < t->out; x++)
    if (t->lo[x] != x / k || t->w[x] != 0)
      return 0;
  return k;
}

/* x gathered at the table's indices along axis (rank - 2 or rank - 1). */
static const char *
gather_axis (AneLowerNames   *names,
             const char      *suffix,
             const char      *x,
             AneDType         dtype,
             gint64          *shape,
             guint            rank,
             guint            axis,
             const AxisTable *t)
{
  AneLowerCtx *ctx = names->ctx;
  /* last argument first (ane-lower-private.h, order of emission) */
  const char *valid_c = ctx->target >= ANE_MIL_IOS17 ?
                        ane_mil_const_bool (ctx->b, ane_lower_names_param (names, suffix, "validate_indices"), TRUE) :
                        NULL;
  const char *axis_c = ane_mil_const_int (ctx->b, ane_lower_names_param (names, suffix, "axis"), axis);
  const char *idx_c = ane_mil_const_ints (ctx->b, ane_lower_names_param (names, suffix, "indices"), t->lo, t->out);

  shape[axis] = t->out;
  return ane_mil_op (ctx->b, "gather", ane_lower_names_hint (names, suffix), dtype, shape, rank,
                     "x", x, "indices", idx_c, "axis", axis_c, "validate_indices", valid_c, NULL);
}

/* The interpolation matrix of t: [in, out] (transposed: column x_out holds
 * its weights) or [1, out, in]. */
static double *
interpolation_matrix (const AxisTable *t,
                      gboolean         transposed)
{
  double *m = g_new0 (double, t->in * t->out);

  for (gint64 x = 0; x < t->out; x++)
    {
      gint64 lo = transposed ? t->lo[x] * t->out + x : x * t->in + t->lo[x];
      gint64 hi = transposed ? t->hi[x] * t->out + x : x * t->in + t->hi[x];

      m[lo] += 1.0 - t->w[x];
      m[hi] += t->w[x];
    }
  return m;
}

gboolean
ane_lower_resize (AneLowerCtx *ctx,
                  GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec x = ane_lower_in_spec (ctx, 0);
  gboolean linear = g_str_equal (ane_attrs_string (ctx->node->attrs, "mode"), "linear");
  guint rank = x.rank;
  gint64 ih = x.shape[rank - 2], iw = x.shape[rank - 1];
  gint64 oh = out->shape[rank - 2], ow = out->shape[rank - 1];
  gint64 shape[ANE_MAX_RANK];
  AxisTable th, tw;
  gboolean skip_h, skip_w;
  g_auto(AneLowerNames) names = { NULL, };
  const char *v = ctx->in[0];

  /* the interpolation matrices are in x out; 2^26 entries (a 8192 x 8192
   * resize) is where they stop being a sensible way to resize */
  if (linear && (ih * oh > (1 << 26) || iw * ow > (1 << 26)))
    return ane_lower_unsupported (ctx, error, "a linear resize of %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                                  " to %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " needs interpolation "
                                  "matrices of more than 2^26 entries", ih, iw, oh, ow);
  ane_lower_names_init (&names, ctx);
  table_init (&th, ctx->node->attrs, 0, ih, oh);
  table_init (&tw, ctx->node->attrs, 1, iw, ow);
  skip_h = table_identity (&th);
  skip_w = table_identity (&tw);
  memcpy (shape, x.shape, rank * sizeof (gint64));

  if (skip_h && skip_w)
    v = ane_lower_emit_identity (ctx);
  else if (!linear)
    {
      gint64 kh = table_floor_factor (&th), kw = table_floor_factor (&tw);

      if (ane_dtype_is_float (x.dtype) && kh > 0 && kw > 0)
        {
          /* last argument first (ane-lower-private.h, order of emission) */
          const char *sw = ane_lower_const_int (&names, "scale_factor_width", kw);
          const char *sh = ane_lower_const_int (&names, "scale_factor_height", kh);

          v = ane_mil_op (ctx->b, "upsample_nearest_neighbor", ctx->hint, out->dtype, out->shape, rank,
                          "x", v, "scale_factor_height", sh, "scale_factor_width", sw, NULL);
        }
      else
        {
          AneDType work;

          v = ane_lower_widen (ctx, "gather", "x", v, &x, &work);
          if (!skip_h)
            v = gather_axis (&names, skip_w && work == out->dtype ? NULL : "rows", v, work, shape, rank,
                             rank - 2, &th);
          if (!skip_w)
            v = gather_axis (&names, work == out->dtype ? NULL : "columns", v, work, shape, rank, rank - 1, &tw);
          v = ane_lower_restore (ctx, v, work, out->dtype, out->shape, rank, FALSE);
        }
    }
  else
    {
      gint64 planes = 1, flat[3], mat[3];

      for (guint d = 0; d + 2 < rank; d++)
        planes *= x.shape[d];
      flat[0] = planes;
      flat[1] = ih;
      flat[2] = iw;
      v = ane_lower_emit_reshape (&names, "planes", out->dtype, flat, 3, v);
      if (!skip_w)
        {
          g_autofree double *m = interpolation_matrix (&tw, TRUE);
          gint64 ms[2] = { iw, ow };
          const char *m_c = ane_mil_const_floats (ctx->b, ane_lower_names_param (&names, "columns", "weights"),
                                                  out->dtype, m, ms, 2);

          flat[2] = ow;
          v = ane_lower_emit_binary (&names, "matmul", "columns", out->dtype, flat, 3, v, m_c);
        }
      if (!skip_h)
        {
          g_autofree double *m = interpolation_matrix (&th, FALSE);
          const char *m_c;

          mat[0] = 1;
          mat[1] = oh;
          mat[2] = ih;
          m_c = ane_mil_const_floats (ctx->b, ane_lower_names_param (&names, "rows", "weights"),
                                      out->dtype, m, mat, 3);
          flat[1] = oh;
          v = ane_lower_emit_binary (&names, "matmul", "rows", out->dtype, flat, 3, m_c, v);
        }
      v = ane_lower_emit_reshape (&names, NULL, out->dtype, out->shape, rank, v);
    }
  table_clear (&th);
  table_clear (&tw);
  ctx->out[0] = v;
  return TRUE;
}
