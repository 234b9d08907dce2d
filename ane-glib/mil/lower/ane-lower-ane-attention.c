/* mil/lower/ane-lower-ane-attention.c: the Neural Engine profile's
 * attention: an additive finite mask, grouped-query heads by slicing
 *
 * The rewrite. attention (q [B, H, S, D], k, v [B, Hkv, L, *], bias,
 * causal, scale, softcap) is composed of the ops the Neural Engine has:
 *   for each KV head h (one group when Hkv is 1 or every head has its own):
 *     s = matmul (q[:, hG:(h+1)G] · c, k[:, h:h+1], transpose_y)  [B, G, S, L]
 *     s = tanh (s) · softcap                                        (softcap)
 *     s = s + bias[.., heads of the group, ..] + causal             (additive)
 *     o = matmul (softmax (s, -1), v[:, h:h+1])                      [B, G, S, Dv]
 *   out = concat (o over the KV heads, axis 1)
 *
 * Why.
 * - The mask is added to the scores, never given to
 *   scaled_dot_product_attention's attn_mask: the hardware ignores that mask
 *   (maderix/ANE README.md:188; lint rule sdpa-mask). An unmasked attention
 *   with one query head per KV head keeps the generic lowering's SDPA.
 * - The causal mask is -1e4, not -inf: the Neural Engine's softmax
 *   mishandles -inf (lint rule fp16-infinite-mask; apple/ml-ane-transformers
 *   ane_transformers/reference/multihead_attention.py:71-74 masks with
 *   -1e4). exp(-1e4 - max) is 0 in fp16 and fp32 alike for scores within
 *   ±1e4 of each other, so the result is the same.
 * - Grouped-query heads: each KV head is sliced and broadcast by the
 *   matmul over its G query heads, per head as in ml-ane-transformers'
 *   split attention (multihead_attention.py:80-97), instead of the generic
 *   lowering's rank-5 view (lint rule rank-above-4) or a tile (a copy of
 *   the cache per group).
 *
 * Tested by tests/test-lower-ane-profile.c (profile on vs off on the CPU
 * backend, fp32 and fp16, causal grouped-query attention with a bias; the
 * program has no scaled_dot_product_attention with a mask and no -inf const).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mil/lower/ane-lower-private.h"

/* The Neural Engine's finite "minus infinity" (multihead_attention.py:71-74). */
#define ANE_MASK_VALUE (-1e4)

/* x[:, begin:end] along axis 1 of a rank-4 value (x itself when it is whole). */
static const char *
heads (AneLowerNames *w,
       const char    *suffix,
       const char    *x,
       AneDType       dtype,
       const gint64  *shape,
       gint64         begin,
       gint64         end)
{
  gint64 b[4] = { 0, begin, 0, 0 }, e[4] = { shape[0], end, shape[2], shape[3] };

  if (begin == 0 && end == shape[1])
    return x;
  return ane_lower_emit_slice (w, suffix, dtype, 4, x, b, e);
}

gboolean
ane_lower_ane_attention (AneLowerCtx *ctx,
                         GError     **error)
{
  const AneSpec *q = ctx->in_spec[0], *k = ctx->in_spec[1], *v = ctx->in_spec[2];
  const AneSpec *bias = ctx->in_spec[3];
  const AneSpec *out = &ctx->out_spec[0];
  AneDType dt = ctx->compute;
  AneLowerAttention a;
  gint64 groups, per;
  g_auto(AneLowerNames) w = { NULL, };
  g_autofree const char **outs = NULL;
  gint64 p4[4] = { 1, 1, 1, 1 };
  const char *qv, *kv, *vv, *bv = NULL, *mask = NULL;

  ane_lower_attention_read (ctx, &a);
  groups = (a.Hkv > 1 && a.G > 1) ? a.Hkv : 1;
  per = a.H / groups;
  /* Unmasked, one query head per KV head: the generic lowering's SDPA (or
   * its composition before iOS18) has nothing the hardware refuses. */
  if (!a.need_mask && bias == NULL && a.G == 1 && a.softcap == 0.0)
    return TRUE;   /* declined */
  for (guint i = 0; i < 4; i++)
    if (ctx->in_node[i] != NULL && ane_lower_input (ctx, i, error) == NULL)
      return FALSE;
  qv = ctx->in[0], kv = ctx->in[1], vv = ctx->in[2];
  if (bias != NULL)
    {
      bv = ctx->in[3];
      for (guint i = 0; i < 4; i++)
        p4[i] = i < 4 - bias->rank ? 1 : bias->shape[i - (4 - bias->rank)];
    }
  ane_lower_names_init (&w, ctx);
  if (bias != NULL && bias->rank != 4)
    bv = ane_lower_emit_reshape (&w, "bias_4d", dt, p4, 4, ctx->in[3]);
  if (a.need_mask)
    mask = ane_lower_causal_mask (&w, a.S, a.L, ANE_MASK_VALUE);   /* end-aligned, as the generic lowering's */
  if (a.c != 1.0)
    qv = ane_lower_emit_binary (&w, "mul", "q_scaled", dt, q->shape, 4, qv,
                                ane_lower_const_float (&w, "q_scale", dt, a.c));

  outs = g_new0 (const char *, groups);
  for (gint64 h = 0; h < groups; h++)
    {
      g_autofree char *sfx_q = g_strdup_printf ("q_%" G_GINT64_FORMAT, h);
      g_autofree char *sfx_k = g_strdup_printf ("k_%" G_GINT64_FORMAT, h);
      g_autofree char *sfx_v = g_strdup_printf ("v_%" G_GINT64_FORMAT, h);
      g_autofree char *sfx_b = g_strdup_printf ("bias_%" G_GINT64_FORMAT, h);
      g_autofree char *sfx_s = g_strdup_printf ("scores_%" G_GINT64_FORMAT, h);
      g_autofree char *sfx_t = g_strdup_printf ("scores_tanh_%" G_GINT64_FORMAT, h);
      g_autofree char *sfx_c = g_strdup_printf ("scores_capped_%" G_GINT64_FORMAT, h);
      g_autofree char *sfx_sb = g_strdup_printf ("scores_biased_%" G_GINT64_FORMAT, h);
      g_autofree char *sfx_m = g_strdup_printf ("scores_masked_%" G_GINT64_FORMAT, h);
      g_autofree char *sfx_p = g_strdup_printf ("weights_%" G_GINT64_FORMAT, h);
      g_autofree char *sfx_o = g_strdup_printf ("context_%" G_GINT64_FORMAT, h);
      gint64 ss[4] = { a.B, per, a.S, a.L }, os[4] = { a.B, per, a.S, a.Dv };
      gint64 kb = groups > 1 ? h : 0, ke = groups > 1 ? h + 1 : a.Hkv;
      const char *qh, *kh, *vh, *s, *p, *ty, *tx;

      qh = heads (&w, sfx_q, qv, dt, q->shape, h * per, (h + 1) * per);
      kh = heads (&w, sfx_k, kv, dt, k->shape, kb, ke);
      vh = heads (&w, sfx_v, vv, dt, v->shape, kb, ke);
      /* last argument first (ane-lower-private.h, order of emission) */
      ty = ane_lower_const_bool (&w, "transpose_y", TRUE);
      tx = ane_lower_const_bool (&w, "transpose_x", FALSE);
      s = ane_mil_op (ctx->b, "matmul", ane_lower_names_hint (&w, sfx_s), dt, ss, 4,
                      "x", qh, "y", kh, "transpose_x", tx, "transpose_y", ty, NULL);
      if (a.softcap > 0.0)
        {
          s = ane_lower_emit_unary (&w, "tanh", sfx_t, dt, ss, 4, s);
          s = ane_lower_emit_binary (&w, "mul", sfx_c, dt, ss, 4, s,
                                     ane_lower_const_float (&w, "softcap", dt, a.softcap));
        }
      if (bv != NULL)
        {
          gint64 bshape[4] = { p4[0], p4[1], p4[2], p4[3] };
          const char *bh = bv;

          if (p4[1] != 1 && groups > 1)
            {
              bh = heads (&w, sfx_b, bv, dt, bshape, h * per, (h + 1) * per);
              bshape[1] = per;
            }
          s = ane_lower_emit_binary (&w, "add", sfx_sb, dt, ss, 4, s, bh);
        }
      if (mask != NULL)
        s = ane_lower_emit_binary (&w, "add", sfx_m, dt, ss, 4, s, mask);
      p = ane_mil_op (ctx->b, "softmax", ane_lower_names_hint (&w, sfx_p), dt, ss, 4,
                      "x", s, "axis", ane_lower_const_int (&w, "axis", -1), NULL);
      ty = ane_lower_const_bool (&w, "transpose_y", FALSE);
      tx = ane_lower_const_bool (&w, "transpose_x", FALSE);
      outs[h] = ane_mil_op (ctx->b, "matmul", ane_lower_names_hint (&w, groups > 1 ? sfx_o : NULL), dt, os, 4,
                            "x", p, "y", vh, "transpose_x", tx, "transpose_y", ty, NULL);
    }
  if (groups > 1)
    {
      const char *axis = ane_lower_const_int (&w, "heads_axis", 1);
      AneMilOpCall *call = ane_mil_op_begin (ctx->b, "concat", ctx->hint);

      ane_mil_op_args (call, "values", outs, (guint) groups);
      ane_mil_op_arg (call, "axis", axis);
      ctx->out[0] = ane_mil_op_output (call, dt, out->shape, out->rank);
      ane_mil_op_end (call);
    }
  else
    ctx->out[0] = outs[0];
  return TRUE;
}
