/* mil/lower/ane-lower-quant.c: quantize and dequantize (int8 / uint8 affine)
 *
 * Facts used (coremltools converters/mil/mil/ops/defs/):
 * - iOS17/quantization_ops.py `quantize`: clip(round(input / scale) + zero_point)
 *   to the range of output_dtype (int8 or uint8); its reference
 *   (value_inference) rounds with numpy.around, i.e. half to even, the IR's
 *   rounding. scale (input's dtype) and zero_point (output_dtype) must be
 *   const, either scalars (then no axis) or vectors of input.shape[axis] (then
 *   axis is required); input has rank >= 1.
 * - same file, `dequantize`: scale · (input - zero_point), output in scale's
 *   dtype, same const and shape rules.
 * - int8 / uint8 tensors exist only from iOS17 on: before it no op (cast
 *   included, iOS15/elementwise_unary.py) takes or makes them. So both IR ops
 *   need iOS17 whatever their form.
 *
 * The native ops are used when their const rules hold; otherwise (a scale or
 * zero point computed in the graph, a per-tensor scale of shape [1] whose value
 * is not known when lowering, a rank-0 x) the same formula is composed:
 *   quantize:   cast(clip(round(real_div(x, scale)) + cast(zp), lo, hi), int8|uint8)
 *   dequantize: mul(sub(cast(q), cast(zp)), scale)
 * with a per-channel scale / zero point reshaped to [1, .., C, .., 1] so it
 * broadcasts along axis. See docs/lowering-vision.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-tensor-private.h"
#include "mil/lower/ane-lower-private.h"

enum { SLOT_X, SLOT_SCALE, SLOT_ZERO_POINT };

/* --- helpers ------------------------------------------------------------ */

/* The single value of a const input known when lowering (shape [1]). */
static gboolean
input_scalar_value (AneLowerCtx *ctx,
                    guint        slot,
                    double      *value)
{
  const AneNode *src = ane_lower_input_node (ctx, slot);
  AneTensor *known;
  AneSpec spec;

  if (src == NULL || !ane_lower_input_is_const (ctx, slot) ||
      (known = ane_lower_source_value (ctx, src)) == NULL)
    return FALSE;
  ane_tensor_get_spec (known, &spec);
  if (ane_tensor_get_n_elements (known) != 1 || ane_dtype_is_block (spec.dtype))
    return FALSE;
  ane_dtype_decode (spec.dtype, g_bytes_get_data (ane_tensor_get_data (known), NULL), 1, value);
  return TRUE;
}

/* How scale and zero_point apply to input 0. */
typedef struct {
  AneSpec  x;           /* lowered spec of input 0 */
  gboolean per_channel;
  guint    axis;        /* normalized; meaningful per channel */
  gint64   bshape[ANE_MAX_RANK];   /* [1, .., C, .., 1]: a [C] parameter broadcast along axis */
} Affine;

static void
affine_init (AneLowerCtx *ctx,
             Affine      *a)
{
  const AneSpec *s = ctx->in_spec[SLOT_SCALE];

  a->x = ane_lower_in_spec (ctx, SLOT_X);
  a->axis = 0;
  if (a->x.rank > 0)
    ane_normalize_axis (ane_attrs_int (ctx->node->attrs, "axis"), a->x.rank, &a->axis);
  /* the shape rule's reading: [] or [1] is per tensor, [C] per channel */
  a->per_channel = s->rank == 1 && s->shape[0] != 1;
  for (guint i = 0; i < a->x.rank; i++)
    a->bshape[i] = i == a->axis ? a->x.shape[i] : 1;
}

/* The shape a parameter has once made to broadcast against x (see
 * broadcastable ()). */
static guint
broadcast_shape (AneLowerCtx  *ctx,
                 const Affine *a,
                 guint         slot,
                 gint64       *shape)
{
  const AneSpec *s = ctx->in_spec[slot];

  if (a->per_channel)
    {
      memcpy (shape, a->bshape, a->x.rank * sizeof (gint64));
      return a->x.rank;
    }
  if (s->rank > a->x.rank)
    return 0;
  memcpy (shape, s->shape, s->rank * sizeof (gint64));
  return s->rank;
}

/* A parameter (scale or zero point, MIL value v of dtype) made to broadcast
 * against x: per channel [C] -> [1, .., C, .., 1]; a [1] against a rank-0 x
 * -> []. Otherwise as is. */
static const char *
broadcastable (AneLowerNames *w,
               const Affine  *a,
               guint          slot,
               const char    *v,
               AneDType       dtype,
               const char    *suffix)
{
  const AneSpec *s = w->ctx->in_spec[slot];
  gint64 shape[ANE_MAX_RANK];
  guint rank = broadcast_shape (w->ctx, a, slot, shape);

  if (!a->per_channel && s->rank <= a->x.rank)
    return v;
  return ane_lower_emit_reshape (w, suffix, dtype, shape, rank, v);
}

/* The const MIL value for the native op's scale or zero point: a vector [C]
 * or a scalar as it is, a [1] rewritten as a scalar const (its value must be
 * known). NULL when that is impossible. */
static const char *
native_param (AneLowerNames *w,
              const Affine  *a,
              guint          slot,
              AneDType       dtype,
              const char    *suffix)
{
  AneLowerCtx *ctx = w->ctx;
  const AneSpec *s = ctx->in_spec[slot];
  double v;

  if (!ane_lower_input_is_const (ctx, slot))
    return NULL;
  if (a->per_channel || s->rank == 0)
    return ctx->in[slot];
  if (!input_scalar_value (ctx, slot, &v))
    return NULL;
  return ane_lower_const_float (w, suffix, dtype, v);
}

/* --- quantize ------------------------------------------------------------ */

gboolean
ane_lower_quantize (AneLowerCtx *ctx,
                    GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneDType qt = out->dtype, ft;
  gboolean has_zp = ctx->in[SLOT_ZERO_POINT] != NULL;
  double lo = qt == ANE_DTYPE_INT8 ? -128.0 : 0.0, hi = qt == ANE_DTYPE_INT8 ? 127.0 : 255.0;
  const char *scale = NULL, *zp = NULL, *v;
  g_auto(AneLowerNames) w = { NULL, };
  Affine a;

  if (!ane_lower_require_target (ctx, ANE_MIL_IOS17, "an int8/uint8 tensor", error))
    return FALSE;
  ane_lower_names_init (&w, ctx);
  w.result_stem = "out";
  affine_init (ctx, &a);
  ft = a.x.dtype;

  /* native: MIL quantize (round half to even, as the IR) when its const rules hold */
  if (a.x.rank > 0)
    {
      scale = native_param (&w, &a, SLOT_SCALE, ft, "scale_scalar");
      if (scale != NULL && has_zp)
        zp = native_param (&w, &a, SLOT_ZERO_POINT, qt, "zero_point_scalar");
    }
  if (scale != NULL && (!has_zp || zp != NULL))
    {
      AneMilOpCall *call = ane_mil_op_begin (ctx->b, "quantize", ctx->hint);

      ane_mil_op_arg (call, "input", ctx->in[SLOT_X]);
      if (zp != NULL)
        ane_mil_op_arg (call, "zero_point", zp);
      ane_mil_op_arg (call, "scale", scale);
      if (a.per_channel)
        ane_mil_op_arg (call, "axis", ane_lower_const_int (&w, "axis", a.axis));
      ane_mil_op_arg (call, "output_dtype", ane_lower_const_string (&w, "output_dtype", ane_mil_dtype_name (qt)));
      ctx->out[0] = ane_mil_op_output (call, qt, out->shape, out->rank);
      ane_mil_op_end (call);
      return TRUE;
    }

  /* composed: every step but the division is exact (round, + an integer
   * zero point, clip, cast of an integral value in range). The division runs
   * in fp32 even in fp16 programs: an fp16 quotient can round onto a .5 tie
   * (or off one) and then round to the other integer; the fp32 quotient of
   * two fp16 values never crosses a tie. */
  scale = broadcastable (&w, &a, SLOT_SCALE, ctx->in[SLOT_SCALE], ft, "scale_b");
  {
    const char *x = ctx->in[SLOT_X];

    if (ft != ANE_DTYPE_FLOAT32)
      {
        gint64 sshape[ANE_MAX_RANK];
        guint srank = broadcast_shape (ctx, &a, SLOT_SCALE, sshape);

        x = ane_lower_emit_cast (&w, "x_f32", ANE_DTYPE_FLOAT32, a.x.shape, a.x.rank, x);
        scale = ane_lower_emit_cast (&w, "scale_f32", ANE_DTYPE_FLOAT32, sshape, srank, scale);
        ft = ANE_DTYPE_FLOAT32;
      }
    v = ane_lower_emit_binary (&w, "real_div", "scaled", ft, a.x.shape, a.x.rank, x, scale);
  }
  v = ane_lower_emit_unary (&w, "round", "rounded", ft, a.x.shape, a.x.rank, v);
  if (has_zp)
    {
      gint64 zshape[ANE_MAX_RANK];
      guint zrank = broadcast_shape (ctx, &a, SLOT_ZERO_POINT, zshape);

      zp = broadcastable (&w, &a, SLOT_ZERO_POINT, ctx->in[SLOT_ZERO_POINT], qt, "zero_point_b");
      zp = ane_lower_emit_cast (&w, "zero_point_f", ft, zshape, zrank, zp);
      v = ane_lower_emit_binary (&w, "add", "shifted", ft, a.x.shape, a.x.rank, v, zp);
    }
  {
    g_autofree char *h = ane_lower_hint (ctx, "clipped");
    /* last argument first (ane-lower-private.h, order of emission) */
    const char *hi_c = ane_lower_const_float (&w, "clip_hi", ft, hi);
    const char *lo_c = ane_lower_const_float (&w, "clip_lo", ft, lo);

    v = ane_mil_op (ctx->b, "clip", h, ft, a.x.shape, a.x.rank, "x", v, "alpha", lo_c, "beta", hi_c, NULL);
  }
  ctx->out[0] = ane_lower_emit_cast (&w, NULL, qt, out->shape, out->rank, v);
  return TRUE;
}

/* --- dequantize ---------------------------------------------------------- */

gboolean
ane_lower_dequantize (AneLowerCtx *ctx,
                      GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneDType ft = out->dtype, qt;
  gboolean has_zp = ctx->in[SLOT_ZERO_POINT] != NULL;
  const char *scale = NULL, *zp = NULL, *v;
  g_auto(AneLowerNames) w = { NULL, };
  Affine a;

  ane_lower_names_init (&w, ctx);
  w.result_stem = "out";

  /* A const q (read only here) never becomes a runtime int8 tensor: with a
   * const scale (and zero point), constexpr_affine_dequantize (iOS16) keeps
   * it int8 in weight.bin and dequantizes it when the model loads. */
  if (ctx->in[SLOT_X] == NULL)
    {
      const AneNode *qn = ctx->in_node[SLOT_X];
      const AneNode *sn = ctx->in_node[SLOT_SCALE];
      const AneNode *zn = ctx->in_node[SLOT_ZERO_POINT];   /* NULL when absent */
      AneTensor *qv = ane_lower_source_value (ctx, qn);
      AneTensor *sv = ane_lower_source_value (ctx, sn);
      AneTensor *zv = zn ? ane_lower_source_value (ctx, zn) : NULL;

      if (ctx->target >= ANE_MIL_IOS16 && sv != NULL && (zn == NULL || zv != NULL) &&
          (sn->op->flags & ANE_OP_FLAG_SOURCE) && (zn == NULL || (zn->op->flags & ANE_OP_FLAG_SOURCE)))
        {
          g_autoptr(AneTensor) s1 = NULL, z1 = NULL;
          guint axis = 0;

          /* a [1] scale is per tensor: MIL wants a scalar then */
          if (ane_tensor_get_rank (sv) == 1 && ane_tensor_get_dim (sv, 0) == 1 &&
              !(qn->outputs[0].rank > 0 && qn->outputs[0].shape[0] == 1))
            {
              s1 = ane_tensor_new_scalar ("scale", ane_tensor_get_dtype (sv), ane_tensor_get_value (sv, 0), NULL);
              sv = s1;
              if (zv)
                {
                  z1 = ane_tensor_new_scalar ("zero_point", ane_tensor_get_dtype (zv), ane_tensor_get_value (zv, 0), NULL);
                  zv = z1;
                }
            }
          if (qn->outputs[0].rank > 0)
            ane_normalize_axis (ane_attrs_int (ctx->node->attrs, "axis"), qn->outputs[0].rank, &axis);
          ctx->out[0] = ane_mil_constexpr_affine_dequantize (ctx->b, ctx->hint, qv, zv, sv, axis, ft);
          ane_mil_builder_note_weight (ctx->b, qn->name, "on device: int8 data + scale (constexpr_affine_dequantize)");
          return TRUE;
        }
      /* otherwise the runtime ops below take it as an ordinary const */
      ctx->in[SLOT_X] = ane_mil_const_tensor (ctx->b, qn->name, qv, qn->outputs[0].dtype);
    }

  if (!ane_lower_require_target (ctx, ANE_MIL_IOS17, "an int8/uint8 tensor", error))
    return FALSE;
  affine_init (ctx, &a);
  qt = a.x.dtype;

  if (a.x.rank > 0)
    {
      scale = native_param (&w, &a, SLOT_SCALE, ft, "scale_scalar");
      if (scale != NULL && has_zp)
        zp = native_param (&w, &a, SLOT_ZERO_POINT, qt, "zero_point_scalar");
    }
  if (scale != NULL && (!has_zp || zp != NULL))
    {
      AneMilOpCall *call = ane_mil_op_begin (ctx->b, "dequantize", ctx->hint);

      ane_mil_op_arg (call, "input", ctx->in[SLOT_X]);
      if (zp != NULL)
        ane_mil_op_arg (call, "zero_point", zp);
      ane_mil_op_arg (call, "scale", scale);
      if (a.per_channel)
        ane_mil_op_arg (call, "axis", ane_lower_const_int (&w, "axis", a.axis));
      ctx->out[0] = ane_mil_op_output (call, ft, out->shape, out->rank);
      ane_mil_op_end (call);
      return TRUE;
    }

  /* composed: q and zp are integers of at most 8 bits, exact in fp16 and
   * fp32, and so is their difference (|q - zp| <= 255); the product with the
   * scale is the one rounding, as in the IR. */
  v = ane_lower_emit_cast (&w, "q_f", ft, a.x.shape, a.x.rank, ctx->in[SLOT_X]);
  if (has_zp)
    {
      gint64 zshape[ANE_MAX_RANK];
      guint zrank = broadcast_shape (ctx, &a, SLOT_ZERO_POINT, zshape);

      zp = broadcastable (&w, &a, SLOT_ZERO_POINT, ctx->in[SLOT_ZERO_POINT], qt, "zero_point_b");
      zp = ane_lower_emit_cast (&w, "zero_point_f", ft, zshape, zrank, zp);
      v = ane_lower_emit_binary (&w, "sub", "centered", ft, a.x.shape, a.x.rank, v, zp);
    }
  scale = broadcastable (&w, &a, SLOT_SCALE, ctx->in[SLOT_SCALE], ft, "scale_b");
  ctx->out[0] = ane_lower_emit_binary (&w, "mul", NULL, ft, out->shape, out->rank, v, scale);
  return TRUE;
}
