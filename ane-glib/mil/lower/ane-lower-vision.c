/* mil/lower/ane-lower-vision.c: conv, conv_transpose_2d, pool, resize_nearest_2x
 *
 * Facts used (coremltools converters/mil/mil/ops/defs/):
 * - iOS15/conv.py `conv`: x [N, C, *D] with 1 to 3 spatial dims (so the IR's
 *   1-D conv is a rank-3 MIL conv, no expand/squeeze); weight [O, C/groups, *K];
 *   pad_type "custom" takes pad [begin, end] per spatial dim, the IR's order;
 *   d_out = floor((D + pad_b + pad_e - (K - 1)·dil - 1) / stride) + 1, the
 *   IR's. bias must be const before iOS17 (iOS17/conv.py lifts that). A weight
 *   that is not const (nor constexpr) may not have a dilation > 1, at any target.
 * - iOS15/conv.py `conv_transpose`: weight [C, O/groups, *K] (torch's layout,
 *   the IR's); custom pad crops pad[2i] / pad[2i+1] from the start / end of
 *   the full output (S·(D - 1) + (K - 1)·dil + 1). weight and bias must be
 *   const before iOS17. There is no output_padding parameter.
 * - iOS15/pool.py `max_pool` / `avg_pool`: kernel_sizes, strides, pad_type
 *   "custom" with pad [top, bottom, left, right], ceil_mode false (floor, the
 *   IR's); exclude_padding_from_average drops padded cells from the divisor.
 * - iOS15/image_resizing.py `upsample_nearest_neighbor`: scales the last two
 *   axes; scale_factor_height/width share domain U = fp32|int32 at every
 *   target (no later redefinition): int32 2 is used. fp16/fp32 only.
 * - iOS15/tensor_operation.py `pad`: constant mode pads the last N dims with 0.
 *
 * See docs/lowering-vision.md for each composition and why it equals the IR.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/lower/ane-lower-private.h"

/* --- helpers ------------------------------------------------------------ */

/* Zero padding of the last n_axes axes: amounts [before, after] per axis. */
static const char *
pad_zeros (AneLowerNames *names,
           const char    *x,
           AneDType       dtype,
           const gint64  *out_shape,
           guint          rank,
           const gint64  *amounts,
           guint          n_axes,
           const char    *suffix)
{
  AneMilBuilder *b = names->ctx->b;
  const char *zero_c, *pad_c;

  /* constant_val given in the program's dtype: left out, coremltools
   * (iOS15/tensor_operation.py, pad.default_inputs) fills in an fp32 0.0,
   * which an fp16 x refuses (x and constant_val share domain T). The
   * consts go last argument first (ane-lower-private.h, order of
   * emission). */
  zero_c = ane_mil_const_float (b, ane_lower_names_param (names, suffix, "zero"), dtype, 0.0);
  pad_c = ane_mil_const_ints (b, ane_lower_names_param (names, suffix, "pad"), amounts, 2 * n_axes);
  return ane_mil_op (b, "pad", ane_lower_names_hint (names, suffix), dtype, out_shape, rank,
                     "x", x, "pad", pad_c, "constant_val", zero_c, NULL);
}

/* y [N, O, ...] + bias [O] reshaped to [O, 1(, 1)]: the bias of a conv whose
 * MIL form cannot take it. The node's last op. */
static const char *
add_bias (AneLowerNames *names,
          const char    *y)
{
  AneLowerCtx *ctx = names->ctx;
  const AneSpec *out = &ctx->out_spec[0];
  gint64 bshape[3] = { out->shape[1], 1, 1 };
  const char *b = ane_lower_emit_reshape (names, "bias", out->dtype, bshape, out->rank - 1, ctx->in[2]);

  return ane_mil_op (ctx->b, "add", ctx->hint, out->dtype, out->shape, out->rank,
                     "x", y, "y", b, NULL);
}

/* A non-const weight [O, Cg, k...] with the dilation written into it (zeros
 * between the taps), so the conv can run with dilation 1: MIL refuses a
 * dilated conv whose weight is not known at compile time. For 2-D:
 *   w -> reshape [O·Cg, kh, 1, kw, 1] -> pad the 1-axes to dh, dw (zeros after)
 *     -> reshape [O, Cg, kh·dh, kw·dw] -> slice [.., :(kh-1)·dh+1, :(kw-1)·dw+1]
 * Tap (i, j) lands at (i·dh, j·dw) and every other cell is 0: the dilated
 * kernel. (Rank 5 at most, as Core ML's layers expect.) */
static const char *
dilate_weight (AneLowerNames *names,
               const char    *w,
               const AneSpec *ws,
               const gint64  *dil,
               guint          nsp)
{
  AneDType dt = ws->dtype;
  gint64 split[5], padded[5], flat[4], begin[4] = { 0, 0, 0, 0 }, end[4];
  gint64 amounts[6] = { 0 };
  guint r = 1;
  const char *v;

  split[0] = padded[0] = ws->shape[0] * ws->shape[1];
  flat[0] = end[0] = ws->shape[0];
  flat[1] = end[1] = ws->shape[1];
  for (guint i = 0; i < nsp; i++)
    {
      gint64 k = ws->shape[2 + i];

      split[r] = padded[r] = k;
      split[r + 1] = 1;
      padded[r + 1] = dil[i];
      flat[2 + i] = k * dil[i];
      end[2 + i] = (k - 1) * dil[i] + 1;
      r += 2;
      /* pad covers the last 2·nsp - 1 axes ([1, kw, 1] or [1]); the 1-axes
       * are its axes 0 and 2 */
      amounts[2 * (2 * i) + 1] = dil[i] - 1;
    }
  v = ane_lower_emit_reshape (names, "weight_split", dt, split, r, w);
  v = pad_zeros (names, v, dt, padded, r, amounts, 2 * nsp - 1, "weight_spread");
  v = ane_lower_emit_reshape (names, "weight_flat", dt, flat, 2 + nsp, v);
  return ane_lower_emit_slice (names, "weight_dilated", dt, 2 + nsp, v, begin, end);
}

/* --- conv ---------------------------------------------------------------- */

gboolean
ane_lower_conv (AneLowerCtx *ctx,
                GError     **error)
{
  static const gint64 ones[2] = { 1, 1 }, zeros[4] = { 0, 0, 0, 0 };
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec ws = ane_lower_in_spec (ctx, 1);
  guint nsp = out->rank - 2;
  gint64 strides[2], pads[4], dil[2];
  gint64 groups = ane_attrs_int (ctx->node->attrs, "groups");
  gboolean dilated = FALSE, bias_after;
  const char *w = ctx->in[1], *y;
  g_auto(AneLowerNames) names = { NULL, };
  const char *h;
  AneMilOpCall *call;

  ane_lower_names_init (&names, ctx);
  names.result_stem = "out";
  ane_attrs_ints_or (ctx->node->attrs, "strides", nsp, ones, strides);
  ane_attrs_ints_or (ctx->node->attrs, "pads", 2 * nsp, zeros, pads);
  ane_attrs_ints_or (ctx->node->attrs, "dilations", nsp, ones, dil);
  for (guint i = 0; i < nsp; i++)
    dilated |= dil[i] > 1;

  if (dilated && !ane_lower_input_is_const (ctx, 1))
    {
      w = dilate_weight (&names, w, &ws, dil, nsp);
      dil[0] = dil[1] = 1;
    }
  /* Before iOS17 the bias must be const; otherwise it is added after. */
  bias_after = ctx->in[2] != NULL && ctx->target < ANE_MIL_IOS17 && !ane_lower_input_is_const (ctx, 2);

  h = ane_lower_names_hint (&names, bias_after ? "conv" : NULL);
  call = ane_mil_op_begin (ctx->b, "conv", h);
  ane_mil_op_arg (call, "x", ctx->in[0]);
  ane_mil_op_arg (call, "weight", w);
  if (ctx->in[2] != NULL && !bias_after)
    ane_mil_op_arg (call, "bias", ctx->in[2]);
  ane_mil_op_arg (call, "strides", ane_lower_const_ints (&names, "strides", strides, nsp));
  ane_mil_op_arg (call, "pad_type", ane_lower_const_string (&names, "pad_type", "custom"));
  ane_mil_op_arg (call, "pad", ane_lower_const_ints (&names, "pad", pads, 2 * nsp));
  ane_mil_op_arg (call, "dilations", ane_lower_const_ints (&names, "dilations", dil, nsp));
  ane_mil_op_arg (call, "groups", ane_lower_const_int (&names, "groups", groups));
  y = ane_mil_op_output (call, out->dtype, out->shape, out->rank);
  ane_mil_op_end (call);

  ctx->out[0] = bias_after ? add_bias (&names, y) : y;
  return TRUE;
}

/* --- conv_transpose_2d -------------------------------------------------- */

gboolean
ane_lower_conv_transpose_2d (AneLowerCtx *ctx,
                             GError     **error)
{
  static const gint64 ones[2] = { 1, 1 }, zeros[4] = { 0, 0, 0, 0 };
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec xs = ane_lower_in_spec (ctx, 0), ws = ane_lower_in_spec (ctx, 1);
  AneDType dt = out->dtype;
  gint64 strides[2], pads[4], dil[2], outpad[2];
  gint64 groups = ane_attrs_int (ctx->node->attrs, "groups");
  gint64 sym[4], crop_b[2], crop_e[2], ext[2], ct_shape[4];
  gboolean need_slice = FALSE, need_ext = FALSE, bias_after;
  const char *y;
  g_auto(AneLowerNames) names = { NULL, };
  const char *h;
  AneMilOpCall *call;

  ane_lower_names_init (&names, ctx);
  names.result_stem = "out";
  ane_attrs_ints_or (ctx->node->attrs, "strides", 2, ones, strides);
  ane_attrs_ints_or (ctx->node->attrs, "pads", 4, zeros, pads);
  ane_attrs_ints_or (ctx->node->attrs, "dilations", 2, ones, dil);
  ane_attrs_ints_or (ctx->node->attrs, "output_padding", 2, zeros, outpad);

  if (!ane_lower_input_is_const (ctx, 1) &&
      !ane_lower_require_target (ctx, ANE_MIL_IOS17, "conv_transpose with a weight that is not const", error))
    return FALSE;

  /* Per spatial dim i: the full output has (D-1)·s + (k-1)·d + 1 rows; the
   * IR keeps rows [pad_b, full - pad_e + output_padding). The end crop
   * pad_e - output_padding may be negative: then that many rows no input
   * reaches (they get only the bias) are appended. MIL's conv_transpose gets
   * the symmetric part of the crop (the form coremltools writes for torch),
   * slice_by_index takes the rest and pad appends the extension. */
  for (guint i = 0; i < 2; i++)
    {
      gint64 full = (xs.shape[2 + i] - 1) * strides[i] + (ws.shape[2 + i] - 1) * dil[i] + 1;
      gint64 end_crop = pads[2 * i + 1] - outpad[i];

      crop_e[i] = MAX (end_crop, 0);
      ext[i] = MAX (-end_crop, 0);
      sym[2 * i] = sym[2 * i + 1] = MIN (pads[2 * i], crop_e[i]);
      crop_b[i] = pads[2 * i] - sym[2 * i];
      crop_e[i] -= sym[2 * i];
      ct_shape[2 + i] = full - 2 * sym[2 * i];
      need_slice |= crop_b[i] > 0 || crop_e[i] > 0;
      need_ext |= ext[i] > 0;
    }
  ct_shape[0] = out->shape[0];
  ct_shape[1] = out->shape[1];

  /* The bias goes after when the appended rows need it too, or when it is
   * not const: iOS17's conv_transpose takes a bias that is not (its input
   * spec), but coremltools' type inference reads the bias's value
   * (iOS15/conv.py, conv_transpose.type_inference) and fails without one. */
  bias_after = ctx->in[2] != NULL && (need_ext || !ane_lower_input_is_const (ctx, 2));

  h = ane_lower_names_hint (&names, need_slice || need_ext || bias_after ? "conv_transpose" : NULL);
  call = ane_mil_op_begin (ctx->b, "conv_transpose", h);
  ane_mil_op_arg (call, "x", ctx->in[0]);
  ane_mil_op_arg (call, "weight", ctx->in[1]);
  if (ctx->in[2] != NULL && !bias_after)
    ane_mil_op_arg (call, "bias", ctx->in[2]);
  ane_mil_op_arg (call, "pad", ane_lower_const_ints (&names, "pad", sym, 4));
  /* coremltools' add_conv_transpose_output_shape pass always states it */
  ane_mil_op_arg (call, "output_shape", ane_lower_const_ints (&names, "output_shape", ct_shape, 4));
  ane_mil_op_arg (call, "pad_type", ane_lower_const_string (&names, "pad_type", "custom"));
  ane_mil_op_arg (call, "strides", ane_lower_const_ints (&names, "strides", strides, 2));
  ane_mil_op_arg (call, "dilations", ane_lower_const_ints (&names, "dilations", dil, 2));
  ane_mil_op_arg (call, "groups", ane_lower_const_int (&names, "groups", groups));
  y = ane_mil_op_output (call, dt, ct_shape, 4);
  ane_mil_op_end (call);

  if (need_slice)
    {
      gint64 begin[4] = { 0, 0, crop_b[0], crop_b[1] };
      gint64 end[4] = { ct_shape[0], ct_shape[1], ct_shape[2] - crop_e[0], ct_shape[3] - crop_e[1] };

      y = ane_lower_emit_slice (&names, need_ext || bias_after ? "crop" : NULL, dt, 4, y, begin, end);
    }
  if (need_ext)
    {
      gint64 amounts[4] = { 0, ext[0], 0, ext[1] };

      y = pad_zeros (&names, y, dt, out->shape, 4, amounts, 2, bias_after ? "extend" : NULL);
    }
  ctx->out[0] = bias_after ? add_bias (&names, y) : y;
  return TRUE;
}

/* --- pool ------------------------------------------------------------------ */

gboolean
ane_lower_pool (AneLowerCtx *ctx,
                GError     **error)
{
  static const gint64 zeros[4] = { 0, 0, 0, 0 };
  const AneSpec *out = &ctx->out_spec[0];
  gboolean is_max = g_str_equal (ane_attrs_string (ctx->node->attrs, "kind"), "max");
  gsize nk;
  const gint64 *kernel = ane_attrs_ints (ctx->node->attrs, "kernel", &nk);
  gint64 strides[2], pads[4];
  g_auto(AneLowerNames) names = { NULL, };
  AneMilOpCall *call;

  ane_lower_names_init (&names, ctx);
  names.result_stem = "out";
  ane_attrs_ints_or (ctx->node->attrs, "strides", 2, kernel, strides);   /* empty: the kernel, as torch */
  ane_attrs_ints_or (ctx->node->attrs, "pads", 4, zeros, pads);

  call = ane_mil_op_begin (ctx->b, is_max ? "max_pool" : "avg_pool", ctx->hint);
  if (!is_max)
    ane_mil_op_arg (call, "exclude_padding_from_average",
                    ane_lower_const_bool (&names, "exclude_padding_from_average",
                                          !ane_attrs_bool (ctx->node->attrs, "count_include_pad")));
  ane_mil_op_arg (call, "x", ctx->in[0]);
  ane_mil_op_arg (call, "kernel_sizes", ane_lower_const_ints (&names, "kernel_sizes", kernel, 2));
  ane_mil_op_arg (call, "strides", ane_lower_const_ints (&names, "strides", strides, 2));
  ane_mil_op_arg (call, "pad_type", ane_lower_const_string (&names, "pad_type", "custom"));
  ane_mil_op_arg (call, "pad", ane_lower_const_ints (&names, "pad", pads, 4));
  ane_mil_op_arg (call, "ceil_mode", ane_lower_const_bool (&names, "ceil_mode", FALSE));
  ctx->out[0] = ane_mil_op_output (call, out->dtype, out->shape, out->rank);
  ane_mil_op_end (call);
  return TRUE;
}

/* --- resize_nearest_2x --------------------------------------------------- */

gboolean
ane_lower_resize_nearest_2x (AneLowerCtx *ctx,
                             GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec xs = ane_lower_in_spec (ctx, 0);
  gint64 nc = xs.shape[0] * xs.shape[1], h = xs.shape[2], w = xs.shape[3];
  gint64 split[5] = { nc, h, 1, w, 1 }, reps[5] = { 1, 1, 2, 1, 2 }, tiled[5] = { nc, h, 2, w, 2 };
  AneDType dt = xs.dtype;
  g_auto(AneLowerNames) names = { NULL, };
  const char *v;

  ane_lower_names_init (&names, ctx);
  names.result_stem = "out";
  if (ane_dtype_is_float (dt))
    {
      /* last argument first (ane-lower-private.h, order of emission) */
      const char *sw = ane_lower_const_int (&names, "scale_factor_width", 2);
      const char *sh = ane_lower_const_int (&names, "scale_factor_height", 2);

      ctx->out[0] = ane_mil_op (ctx->b, "upsample_nearest_neighbor", ctx->hint, out->dtype, out->shape, 4,
                                "x", ctx->in[0], "scale_factor_height", sh, "scale_factor_width", sw, NULL);
      return TRUE;
    }

  /* Integers (MIL's upsample is float-only): every element becomes a 2x2
   * block: [N·C, H, 1, W, 1] tiled to [N·C, H, 2, W, 2] is, in C order,
   * out[.., y, x] = in[.., y/2, x/2] once reshaped to [N, C, 2H, 2W]. tile
   * takes int32; narrower integers (which exist from iOS17 on) go through
   * int32 and back, exactly. */
  v = ctx->in[0];
  if (dt != ANE_DTYPE_INT32)
    {
      if (ane_mil_dtype_name (dt) == NULL)
        return ane_lower_unsupported (ctx, error, "MIL has no %s tensors", ane_dtype_to_string (dt));
      {
        g_autofree char *hc = ane_lower_hint (ctx, "to_int32");

        v = ane_mil_op (ctx->b, "cast", hc, ANE_DTYPE_INT32, xs.shape, 4,
                        "x", v, "dtype", ane_lower_const_string (&names, "to_int32_dtype", "int32"), NULL);
      }
    }
  v = ane_lower_emit_reshape (&names, "split", ANE_DTYPE_INT32, split, 5, v);
  {
    g_autofree char *ht = ane_lower_hint (ctx, "tile");

    v = ane_mil_op (ctx->b, "tile", ht, ANE_DTYPE_INT32, tiled, 5,
                    "x", v, "reps", ane_lower_const_ints (&names, "tile_reps", reps, 5), NULL);
  }
  if (dt == ANE_DTYPE_INT32)
    {
      ctx->out[0] = ane_lower_emit_reshape (&names, NULL, dt, out->shape, 4, v);
      return TRUE;
    }
  v = ane_lower_emit_reshape (&names, "merge", ANE_DTYPE_INT32, out->shape, 4, v);
  ctx->out[0] = ane_mil_op (ctx->b, "cast", ctx->hint, dt, out->shape, 4,
                            "x", v, "dtype", ane_lower_const_string (&names, "dtype", ane_mil_dtype_name (dt)),
                            NULL);
  return TRUE;
}
