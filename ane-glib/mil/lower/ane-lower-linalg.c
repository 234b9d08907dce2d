/* mil/lower/ane-lower-linalg.c: matmul, LoRA, mixture-of-experts and GGUF-weight matmuls
 *
 * MIL facts used (coremltools ops/defs/iOS15/linear.py, iOS17/linear.py,
 * iOS15-17/scatter_gather.py, iOS15/tensor_transformation.py):
 * - matmul (x, y, transpose_x, transpose_y): numpy.matmul after optional
 *   swaps of the last two axes; batch dims broadcast numpy-style (also across
 *   ranks). Its rank-1 handling is awkward (transpose_x on a rank-1 x is an
 *   error, and the type inference indexes y.shape[-2] even for a rank-1 y),
 *   so every MIL matmul emitted here gets operands of rank >= 2: a rank-1
 *   IR operand is promoted explicitly with expand_dims, as numpy describes
 *   it, and the added axis is squeezed from the result.
 * - linear (x, weight [D_out, D_in] const, bias?): x . weight^T with
 *   1 <= rank(x) <= 3; a larger x is flattened to [rows, K] around it.
 * - gather (x, indices, axis): numpy.take along axis. iOS17+ has
 *   validate_indices (a run-time error for an index outside [0, dim)), which
 *   is set so an invalid expert id fails as the IR says.
 *
 * GGUF block weights: the driver lowers a block-quantized param or const to a
 * const whose blob is dequantized on the host when the package is written
 * (ane_mil_const_param with src = the block dtype, dst = the compute dtype),
 * so inside the program the weight is a dense float tensor. dense_weight()
 * is the one place that knows this: an on-device dequantization path
 * (constexpr_blockwise_shift_scale at iOS18) replaces its body only.
 *
 * See docs/lowering-linalg.md for the table and the equivalence notes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mil/lower/ane-lower-private.h"

/* linear's x rank limit (iOS15 and iOS17 linear.py: 1 <= rank <= 3). */
#define LINEAR_MAX_RANK 3

/* --- small emitters -------------------------------------------------------- */

static const char *
emit_expand_dims (AneLowerNames *w,
                  const char    *suffix,
                  const char    *x,
                  AneDType       dtype,
                  const gint64  *in_shape,
                  guint          in_rank,
                  gint64         axis)
{
  gint64 shape[ANE_MAX_RANK + 1];
  guint r = 0;
  const char *axes_c;

  for (guint i = 0; i <= in_rank; i++)
    shape[r++] = i == (guint) axis ? 1 : in_shape[i - (i > (guint) axis)];
  axes_c = ane_mil_const_ints (w->ctx->b, ane_lower_names_param (w, suffix, "axes"), &axis, 1);
  return ane_mil_op (w->ctx->b, "expand_dims", ane_lower_names_hint (w, suffix), dtype, shape, in_rank + 1,
                     "x", x, "axes", axes_c, NULL);
}

static const char *
emit_squeeze (AneLowerNames *w,
              const char    *suffix,
              const char    *x,
              const gint64  *axes,
              guint          n_axes,
              const AneSpec *out)
{
  const char *axes_c = ane_mil_const_ints (w->ctx->b, ane_lower_names_param (w, suffix, "axes"), axes, n_axes);

  return ane_mil_op (w->ctx->b, "squeeze", ane_lower_names_hint (w, suffix), out->dtype, out->shape, out->rank,
                     "x", x, "axes", axes_c, NULL);
}

/* MIL matmul on operands of rank >= 2: returns the product and its shape
 * (broadcast batch dims, then [M, N]). */
static const char *
emit_matmul (AneLowerNames *w,
             const char    *suffix,
             const char    *x,
             const gint64  *xs,
             guint          xr,
             gboolean       tx,
             const char    *y,
             const gint64  *ys,
             guint          yr,
             gboolean       ty,
             AneDType       dtype,
             gint64        *out_shape,
             guint         *out_rank)
{
  guint batch = MAX (xr, yr) - 2;
  const char *tx_c, *ty_c;

  g_assert (xr >= 2 && yr >= 2);
  for (guint d = 0; d < batch; d++)
    {
      gint64 dx = d + (xr - 2) >= batch ? xs[d + (xr - 2) - batch] : 1;
      gint64 dy = d + (yr - 2) >= batch ? ys[d + (yr - 2) - batch] : 1;

      out_shape[d] = dx == 1 ? dy : dx;
    }
  out_shape[batch] = tx ? xs[xr - 1] : xs[xr - 2];
  out_shape[batch + 1] = ty ? ys[yr - 2] : ys[yr - 1];
  *out_rank = batch + 2;
  /* last argument first (ane-lower-private.h, order of emission) */
  ty_c = ane_mil_const_bool (w->ctx->b, ane_lower_names_param (w, suffix, "transpose_y"), ty);
  tx_c = ane_mil_const_bool (w->ctx->b, ane_lower_names_param (w, suffix, "transpose_x"), tx);
  return ane_mil_op (w->ctx->b, "matmul", ane_lower_names_hint (w, suffix), dtype, out_shape, *out_rank,
                     "x", x, "y", y, "transpose_x", tx_c, "transpose_y", ty_c, NULL);
}

/* numpy.matmul (a, b) with optional transposes of the last two axes of an
 * operand of rank >= 2, producing out (named after suffix). A rank-1 a becomes
 * [1, K] and a rank-1 b [K, 1] (transposing a vector is a no-op, as in the
 * IR); the added axes are squeezed from the product. */
static const char *
numpy_matmul (AneLowerNames *w,
              const char    *suffix,
              const char    *a,
              const AneSpec *as,
              gboolean       ta,
              const char    *b,
              const AneSpec *bs,
              gboolean       tb,
              const AneSpec *out)
{
  gint64 a_shape[ANE_MAX_RANK + 1], b_shape[ANE_MAX_RANK + 1], shape[ANE_MAX_RANK + 1];
  gint64 squeeze[2];
  guint ar = as->rank, br = bs->rank, rank, n_squeeze = 0;
  const char *product;

  memcpy (a_shape, as->shape, ar * sizeof (gint64));
  memcpy (b_shape, bs->shape, br * sizeof (gint64));
  if (ar == 1)
    {
      a = emit_expand_dims (w, "a_row", a, as->dtype, as->shape, 1, 0);
      a_shape[0] = 1, a_shape[1] = as->shape[0], ar = 2, ta = FALSE;
    }
  if (br == 1)
    {
      b = emit_expand_dims (w, "b_column", b, bs->dtype, bs->shape, 1, 1);
      b_shape[0] = bs->shape[0], b_shape[1] = 1, br = 2, tb = FALSE;
    }
  if (as->rank > 1 && bs->rank > 1)
    return emit_matmul (w, suffix, a, a_shape, ar, ta, b, b_shape, br, tb, out->dtype, shape, &rank);

  product = emit_matmul (w, "matmul", a, a_shape, ar, ta, b, b_shape, br, tb, out->dtype, shape, &rank);
  /* The product is [..., M, N]: M is the added row of a rank-1 a, N the
   * added column of a rank-1 b. */
  if (as->rank == 1)
    squeeze[n_squeeze++] = rank - 2;
  if (bs->rank == 1)
    squeeze[n_squeeze++] = rank - 1;
  return emit_squeeze (w, suffix, product, squeeze, n_squeeze, out);
}

/* Number of rows of a [..., K] tensor (the product of all dims but the last). */
static gint64
leading_rows (const AneSpec *spec)
{
  gint64 n = 1;

  for (guint i = 0; i + 1 < spec->rank; i++)
    n *= spec->shape[i];
  return n;
}

/* --- GGUF block weights ------------------------------------------------------ */

/* The dense weight of a block-quantized input slot, in the compute dtype and
 * in the IR's layout ([N, K] or [E, N, K]), and whether it is known at
 * compile time (linear takes a const weight only).
 *
 * Today the driver has already made the input a const whose blob it
 * dequantizes on the host when the package is written, so the dense weight
 * is the input itself. An on-device path (constexpr_blockwise_shift_scale
 * on the raw blocks) changes this function only: it returns the constexpr
 * op's output, which also counts as known at compile time. */
static const char *
dense_weight (AneLowerCtx *ctx,
              guint        slot,
              gboolean    *compile_time)
{
  const AneNode *src = ane_graph_get_node (ctx->graph, ctx->node->inputs[slot].node);

  *compile_time = src->op->kind == ANE_OP_CONST ||
                  (src->op->kind == ANE_OP_PARAM && !ane_attrs_bool (src->attrs, "dynamic"));
  if (ane_lower_is_block_source (ctx, slot))
    return ane_lower_block_weight (ctx, slot, TRUE, NULL);
  return ctx->in[slot];
}

/* --- matmul ---------------------------------------------------------------- */

gboolean
ane_lower_matmul (AneLowerCtx *ctx,
                  GError     **error)
{
  AneSpec a = ane_lower_in_spec (ctx, 0), b = ane_lower_in_spec (ctx, 1);
  AneLowerNames names;

  ane_lower_names_init (&names, ctx);
  ctx->out[0] = numpy_matmul (&names, NULL,
                              ctx->in[0], &a, ane_attrs_bool (ctx->node->attrs, "transpose_a"),
                              ctx->in[1], &b, ane_attrs_bool (ctx->node->attrs, "transpose_b"),
                              &ctx->out_spec[0]);
  ane_lower_names_clear (&names);
  return TRUE;
}

/* --- lora_matmul ----------------------------------------------------------- */

/* x.w + scale.((x.lora_a).lora_b). The scale multiplies whichever
 * intermediate it shrinks: the [.., r] product x.lora_a when |scale| <= 1
 * (so the second product is already the scaled term), the [.., N] product
 * when |scale| > 1 (so the unscaled intermediate is the smaller one). Either
 * way the stored intermediates stay within |x.lora_a| and the scaled
 * low-rank term, which matters in fp16. scale == 1 emits no mul. */
gboolean
ane_lower_lora_matmul (AneLowerCtx *ctx,
                       GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec x = ane_lower_in_spec (ctx, 0), w = ane_lower_in_spec (ctx, 1);
  AneSpec la = ane_lower_in_spec (ctx, 2), lb = ane_lower_in_spec (ctx, 3);
  double scale = ane_attrs_double (ctx->node->attrs, "scale");
  gboolean vector = x.rank == 1;
  gboolean scale_early = scale != 1.0 && fabs (scale) <= 1.0;
  gboolean scale_late = scale != 1.0 && !scale_early;
  const char *xv = ctx->in[0], *base, *low, *sum, *scale_c = NULL;
  gint64 base_shape[ANE_MAX_RANK], low_shape[ANE_MAX_RANK], xa_shape[ANE_MAX_RANK];
  guint base_rank, low_rank, xa_rank;
  g_autofree char *h_xa_scaled = ane_lower_hint (ctx, "xa_scaled");
  g_autofree char *h_low_scaled = ane_lower_hint (ctx, "low_rank_scaled");
  g_autofree char *h_scale = ane_lower_hint (ctx, "scale");
  g_autofree char *h_sum = ane_lower_hint (ctx, "sum");
  AneLowerNames names;

  ane_lower_names_init (&names, ctx);
  if (vector)
    {
      /* [K] -> [1, K]; the row is squeezed from the sum at the end. */
      xv = emit_expand_dims (&names, "x_row", xv, x.dtype, x.shape, 1, 0);
      x.shape[1] = x.shape[0], x.shape[0] = 1, x.rank = 2;
    }
  if (scale != 1.0)
    scale_c = ane_mil_const_float (ctx->b, h_scale, out->dtype, scale);

  base = emit_matmul (&names, "base", xv, x.shape, x.rank, FALSE,
                      ctx->in[1], w.shape, w.rank, FALSE, out->dtype, base_shape, &base_rank);
  low = emit_matmul (&names, "xa", xv, x.shape, x.rank, FALSE,
                     ctx->in[2], la.shape, la.rank, FALSE, out->dtype, xa_shape, &xa_rank);
  if (scale_early)
    low = ane_mil_op (ctx->b, "mul", h_xa_scaled, out->dtype, xa_shape, xa_rank,
                      "x", low, "y", scale_c, NULL);
  low = emit_matmul (&names, "low_rank", low, xa_shape, xa_rank, FALSE,
                     ctx->in[3], lb.shape, lb.rank, FALSE, out->dtype, low_shape, &low_rank);
  if (scale_late)
    low = ane_mil_op (ctx->b, "mul", h_low_scaled, out->dtype, low_shape, low_rank,
                      "x", low, "y", scale_c, NULL);
  if (!vector)
    {
      ctx->out[0] = ane_mil_op (ctx->b, "add", ctx->hint, out->dtype, out->shape, out->rank,
                                "x", base, "y", low, NULL);
      ane_lower_names_clear (&names);
      return TRUE;
    }
  sum = ane_mil_op (ctx->b, "add", h_sum, out->dtype, base_shape, base_rank, "x", base, "y", low, NULL);
  {
    gint64 axis = 0;

    ctx->out[0] = emit_squeeze (&names, NULL, sum, &axis, 1, out);
  }
  ane_lower_names_clear (&names);
  return TRUE;
}

/* --- grouped matmul ---------------------------------------------------------- */

/* y[i] = x[i] . experts[ids[i]] over the T rows of x:
 *   x [..., K] -> [T, 1, K]; ids [...] -> [T]; gather (experts, ids, axis 0)
 *   -> [T, K, N] (or [T, N, K]); matmul (transpose_y = transposed) ->
 *   [T, 1, N]; reshape to [..., N]. */
static gboolean
lower_grouped (AneLowerCtx *ctx,
               const char  *experts,
               gboolean     transposed,
               GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec x = ane_lower_in_spec (ctx, 0), e = ane_lower_in_spec (ctx, 1);
  AneSpec ids = ane_lower_in_spec (ctx, 2);
  gint64 t = leading_rows (&x), k = x.shape[x.rank - 1];
  gint64 x3_shape[3] = { t, 1, k }, ids_shape[1] = { t }, w_shape[3], y_shape[3];
  const char *x3, *idv = ctx->in[2], *w, *y;
  guint y_rank;
  g_autofree char *h_ids_cast = ane_lower_hint (ctx, "ids_int32");
  g_autofree char *h_ids_dtype = ane_lower_hint (ctx, "ids_dtype");
  g_autofree char *h_w = ane_lower_hint (ctx, "experts_gathered");
  g_autofree char *h_axis = ane_lower_hint (ctx, "gather_axis");
  g_autofree char *h_validate = ane_lower_hint (ctx, "validate_ids");
  AneLowerNames names;
  AneMilOpCall *call;

  if (ids.dtype != ANE_DTYPE_INT32)
    {
      /* int8/uint8/int16 ids: MIL casts them to int32 from iOS17 on. */
      if (!ane_lower_require_target (ctx, ANE_MIL_IOS17, "expert ids that are not int32", error))
        return FALSE;
      idv = ane_mil_op (ctx->b, "cast", h_ids_cast, ANE_DTYPE_INT32, ids.shape, ids.rank,
                        "x", idv, "dtype", ane_mil_const_string (ctx->b, h_ids_dtype, "int32"), NULL);
    }
  ane_lower_names_init (&names, ctx);
  if (ids.rank != 1)
    idv = ane_lower_emit_reshape (&names, "ids_flat", ANE_DTYPE_INT32, ids_shape, 1, idv);
  x3 = ane_lower_emit_reshape (&names, "x_rows", x.dtype, x3_shape, 3, ctx->in[0]);

  w_shape[0] = t, w_shape[1] = e.shape[1], w_shape[2] = e.shape[2];
  call = ane_mil_op_begin (ctx->b, "gather", h_w);
  ane_mil_op_arg (call, "x", experts);
  ane_mil_op_arg (call, "indices", idv);
  ane_mil_op_arg (call, "axis", ane_mil_const_int (ctx->b, h_axis, 0));
  if (ctx->target >= ANE_MIL_IOS17)
    ane_mil_op_arg (call, "validate_indices", ane_mil_const_bool (ctx->b, h_validate, TRUE));
  w = ane_mil_op_output (call, e.dtype, w_shape, 3);
  ane_mil_op_end (call);

  y = emit_matmul (&names, "matmul", x3, x3_shape, 3, FALSE, w, w_shape, 3, transposed,
                   out->dtype, y_shape, &y_rank);
  ctx->out[0] = ane_lower_emit_reshape (&names, NULL, out->dtype, out->shape, out->rank, y);
  ane_lower_names_clear (&names);
  return TRUE;
}

gboolean
ane_lower_grouped_matmul (AneLowerCtx *ctx,
                          GError     **error)
{
  return lower_grouped (ctx, ctx->in[1], ane_attrs_bool (ctx->node->attrs, "transpose_b"), error);
}

/* --- GGUF-weight ops ----------------------------------------------------------- */

/* x . dense(weight)^T: MIL linear, whose weight is [D_out, D_in] = [N, K],
 * the GGUF layout as is. linear takes x of rank 1..3: a larger x is
 * flattened to [rows, K] and the result reshaped back. */
gboolean
ane_lower_dequant_matmul (AneLowerCtx *ctx,
                          GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec x = ane_lower_in_spec (ctx, 0), w = ane_lower_in_spec (ctx, 1);
  gboolean compile_time;
  const char *weight = dense_weight (ctx, 1, &compile_time);
  gint64 n = w.shape[0], k = w.shape[1];
  AneLowerNames names;

  if (!compile_time)
    {
      /* A weight computed in the program: matmul with y transposed. */
      ane_lower_names_init (&names, ctx);
      ctx->out[0] = numpy_matmul (&names, NULL, ctx->in[0], &x, FALSE, weight, &w, TRUE, out);
      ane_lower_names_clear (&names);
      return TRUE;
    }
  if (x.rank <= LINEAR_MAX_RANK)
    {
      ctx->out[0] = ane_mil_op (ctx->b, "linear", ctx->hint, out->dtype, out->shape, out->rank,
                                "x", ctx->in[0], "weight", weight, NULL);
      return TRUE;
    }
  {
    gint64 rows = leading_rows (&x);
    gint64 x2_shape[2] = { rows, k }, y2_shape[2] = { rows, n };
    const char *x2, *y2;

    ane_lower_names_init (&names, ctx);
    x2 = ane_lower_emit_reshape (&names, "x_rows", x.dtype, x2_shape, 2, ctx->in[0]);
    y2 = ane_mil_op (ctx->b, "linear", ane_lower_names_hint (&names, "linear"), out->dtype, y2_shape, 2,
                     "x", x2, "weight", weight, NULL);
    ctx->out[0] = ane_lower_emit_reshape (&names, NULL, out->dtype, out->shape, out->rank, y2);
    ane_lower_names_clear (&names);
  }
  return TRUE;
}

/* grouped_matmul (x, dense(experts), ids, transpose_b = TRUE). */
gboolean
ane_lower_dequant_grouped_matmul (AneLowerCtx *ctx,
                                  GError     **error)
{
  gboolean compile_time;

  return lower_grouped (ctx, dense_weight (ctx, 1, &compile_time), TRUE, error);
}

/* The dense weights: inside the program every float is the compute dtype,
 * so the requested dtype is the compute dtype too and this is an identity
 * (a cast only if the two ever differ). */
gboolean
ane_lower_dequant_moe_weights (AneLowerCtx *ctx,
                               GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec in = ane_lower_in_spec (ctx, 0);
  gboolean compile_time;
  const char *weight = dense_weight (ctx, 0, &compile_time);
  g_autofree char *h_dtype = ane_lower_hint (ctx, "dtype");

  if (in.dtype == out->dtype)
    ctx->out[0] = ane_mil_op (ctx->b, "identity", ctx->hint, out->dtype, out->shape, out->rank,
                              "x", weight, NULL);
  else
    ctx->out[0] = ane_mil_op (ctx->b, "cast", ctx->hint, out->dtype, out->shape, out->rank,
                              "x", weight,
                              "dtype", ane_mil_const_string (ctx->b, h_dtype, ane_mil_dtype_name (out->dtype)),
                              NULL);
  return TRUE;
}
