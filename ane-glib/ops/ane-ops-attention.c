/* ops/ane-ops-attention.c: scaled dot-product attention and rotary embeddings
 *
 * Semantics (docs/ir-ops.md) and their public references:
 * - attention: Vaswani et al., "Attention Is All You Need" (arXiv:1706.03762),
 *   softmax(q.k^T * scale + bias) . v, as torch.nn.functional
 *   .scaled_dot_product_attention. Grouped-query attention: Ainslie et al.,
 *   "GQA" (arXiv:2305.13245), query head h reads kv head h / (H / Hkv) (as
 *   HF transformers' repeat_kv). Logit soft-capping softcap * tanh(s / softcap)
 *   as Gemma 2 (arXiv:2408.00118, attn_logit_softcapping), applied before
 *   bias and mask. The causal mask is aligned to the end (bottom-right, as
 *   flash-attention >= 2.1 does when S != L): query i sees keys j <= i + L - S,
 *   so S new queries against a cache of L keys behave like the last S rows of
 *   a full L x L causal mask.
 * - rope: Su et al., "RoFormer" (arXiv:2104.09864). 'neox' pairs feature i with
 *   i + n_rot/2 (HF transformers rotate_half / apply_rotary_pos_emb, GPT-NeoX);
 *   'interleaved' pairs 2i with 2i+1 (Karpathy's llama2.c run.c, the original
 *   Meta LLaMA complex view, GGUF/llama.cpp "normal" rope). Partial rotation of
 *   the first n_rot features uses theta^(-2i/n_rot), as GPT-NeoX rotary_pct and
 *   llama.cpp's n_rot do.
 * - axial_rope_2d: SAM2's compute_axial_cis + apply_rotary_enc
 *   (facebookresearch/sam2, sam2/modeling/position_encoding.py): x and y
 *   frequencies theta^(-4i/D), i < D/4; token t sits at x = t mod end_x,
 *   y = t div end_x; complex pairs (2j, 2j+1) rotate by x freqs for j < D/4,
 *   by y freqs for the next D/4.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ops/ane-ops.h"

/* --- shape rules ------------------------------------------------------- */

/* Asserts dims[slot_a][dim_a] == dims[slot_b][dim_b], naming both operands. */
static gboolean
same_dim (AneInferCtx *ctx,
          guint        slot_a,
          guint        dim_a,
          guint        slot_b,
          guint        dim_b,
          const char  *what,
          GError     **error)
{
  const AneSpec *a = ctx->inputs[slot_a], *b = ctx->inputs[slot_b];
  char ba[ANE_SPEC_STRLEN], bb[ANE_SPEC_STRLEN];

  if (a->shape[dim_a] == b->shape[dim_b])
    return TRUE;
  ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                   "%s differs: input '%s' %s has %" G_GINT64_FORMAT ", input '%s' %s has %"
                   G_GINT64_FORMAT, what,
                   ane_op_info_slot_name (ctx->op, slot_a), ane_spec_format (a, ba), a->shape[dim_a],
                   ane_op_info_slot_name (ctx->op, slot_b), ane_spec_format (b, bb), b->shape[dim_b]);
  return FALSE;
}

gboolean
ane_infer_attention (AneInferCtx *ctx,
                     GError     **error)
{
  const AneSpec *q = ctx->inputs[0], *k = ctx->inputs[1], *v = ctx->inputs[2];
  const AneSpec *bias = ctx->inputs[3];
  double scale = ane_attrs_double (ctx->attrs, "scale");
  double softcap = ane_attrs_double (ctx->attrs, "softcap");
  gint64 H, Hkv, S, L;
  char bq[ANE_SPEC_STRLEN], bk[ANE_SPEC_STRLEN];

  for (guint slot = 0; slot < 3; slot++)
    if (!ane_infer_require_float (ctx, slot, error) ||
        !ane_infer_require_rank (ctx, slot, 4, 4, error))
      return FALSE;
  if (!ane_infer_same_dtype (ctx, 0, 1, error) || !ane_infer_same_dtype (ctx, 0, 2, error) ||
      !same_dim (ctx, 1, 0, 0, 0, "batch size B", error) ||
      !same_dim (ctx, 2, 0, 0, 0, "batch size B", error) ||
      !same_dim (ctx, 2, 1, 1, 1, "kv head count Hkv", error) ||
      !same_dim (ctx, 1, 3, 0, 3, "head dim D", error) ||
      !same_dim (ctx, 2, 2, 1, 2, "key length L", error))
    return FALSE;

  H = q->shape[1];
  Hkv = k->shape[1];
  S = q->shape[2];
  L = k->shape[2];
  if (Hkv == 0 ? H != 0 : H % Hkv != 0)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "the %" G_GINT64_FORMAT " heads of input 'q' %s are not a multiple of the %"
                       G_GINT64_FORMAT " kv heads of input 'k' %s",
                       H, ane_spec_format (q, bq), Hkv, ane_spec_format (k, bk));
      return FALSE;
    }
  if (ane_attrs_bool (ctx->attrs, "causal") && L < S)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "causal attention needs at least as many keys as queries (the mask is "
                       "aligned to the end), but input 'k' %s has L = %" G_GINT64_FORMAT
                       " < S = %" G_GINT64_FORMAT " of input 'q' %s",
                       ane_spec_format (k, bk), L, S, ane_spec_format (q, bq));
      return FALSE;
    }
  if (!isfinite (scale) || (scale == 0.0 && q->shape[3] == 0))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "scale must be finite (0 means 1/sqrt(D), which needs D > 0), got %g "
                       "for input 'q' %s", scale, ane_spec_format (q, bq));
      return FALSE;
    }
  if (!isfinite (softcap) || softcap < 0.0)
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "softcap must be finite and >= 0 (0 turns it off), got %g", softcap);
      return FALSE;
    }

  /* The output shape; bias must broadcast to [B,H,S,L] without growing it. */
  memset (&ctx->outputs[0], 0, sizeof ctx->outputs[0]);
  ctx->outputs[0].dtype = q->dtype;
  ctx->outputs[0].rank = 4;
  ctx->outputs[0].shape[0] = q->shape[0];
  ctx->outputs[0].shape[1] = H;
  ctx->outputs[0].shape[2] = S;
  ctx->outputs[0].shape[3] = v->shape[3];
  if (bias != NULL)
    {
      gint64 scores[4] = { q->shape[0], H, S, L };
      gboolean ok = bias->rank <= 4;
      char bb[ANE_SPEC_STRLEN];

      if (!ane_infer_same_dtype (ctx, 0, 3, error))
        return FALSE;
      for (guint i = 0; ok && i < bias->rank; i++)
        {
          gint64 d = bias->shape[bias->rank - 1 - i], want = scores[3 - i];
          ok = d == want || d == 1;
        }
      if (!ok)
        {
          ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                           "input 'bias' %s does not broadcast to the scores [B,H,S,L] = [%"
                           G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%"
                           G_GINT64_FORMAT "] of 'q' %s and 'k' %s",
                           ane_spec_format (bias, bb), scores[0], scores[1], scores[2], scores[3],
                           ane_spec_format (q, bq), ane_spec_format (k, bk));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
check_theta (AneInferCtx *ctx,
             GError     **error)
{
  double theta = ane_attrs_double (ctx->attrs, "theta");

  if (isfinite (theta) && theta > 0.0)
    return TRUE;
  ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                   "theta must be finite and > 0, got %g", theta);
  return FALSE;
}

gboolean
ane_infer_rope (AneInferCtx *ctx,
                GError     **error)
{
  const AneSpec *x = ctx->inputs[0], *pos = ctx->inputs[1];
  const char *mode = ane_attrs_string (ctx->attrs, "mode");
  gint64 n_rot = ane_attrs_int (ctx->attrs, "n_rot");
  char bx[ANE_SPEC_STRLEN], bp[ANE_SPEC_STRLEN];

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_require_rank (ctx, 0, 4, 4, error) ||
      !ane_infer_require_integer (ctx, 1, error))
    return FALSE;
  if (pos->rank != 1 || pos->shape[0] != x->shape[2])
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'positions' %s must have shape [S] = [%" G_GINT64_FORMAT
                       "] for input 'x' %s [B,H,S,D]",
                       ane_spec_format (pos, bp), x->shape[2], ane_spec_format (x, bx));
      return FALSE;
    }
  if (!g_str_equal (mode, "neox") && !g_str_equal (mode, "interleaved"))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "mode must be 'neox' or 'interleaved', not '%s'", mode);
      return FALSE;
    }
  if (!check_theta (ctx, error))
    return FALSE;
  if (n_rot == 0)
    n_rot = x->shape[3];
  if (n_rot <= 0 || n_rot > x->shape[3] || n_rot % 2 != 0)
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT,
                       "n_rot %" G_GINT64_FORMAT "%s must be even and in (0, D] for input 'x' %s "
                       "[B,H,S,D]", ane_attrs_int (ctx->attrs, "n_rot"),
                       ane_attrs_int (ctx->attrs, "n_rot") == 0 ? " (0 means D)" : "",
                       ane_spec_format (x, bx));
      return FALSE;
    }
  ctx->outputs[0] = *x;
  return TRUE;
}

gboolean
ane_infer_axial_rope_2d (AneInferCtx *ctx,
                         GError     **error)
{
  const AneSpec *x = ctx->inputs[0];
  gint64 end_x = ane_attrs_int (ctx->attrs, "end_x"), end_y = ane_attrs_int (ctx->attrs, "end_y");
  char bx[ANE_SPEC_STRLEN];

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_require_rank (ctx, 0, 4, 4, error) ||
      !check_theta (ctx, error))
    return FALSE;
  if (x->shape[3] % 4 != 0)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "the head dim D = %" G_GINT64_FORMAT " of input 'x' %s must be a multiple of 4",
                       x->shape[3], ane_spec_format (x, bx));
      return FALSE;
    }
  if (end_x <= 0 || end_y <= 0 || end_y > G_MAXINT64 / end_x || end_x * end_y != x->shape[2])
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "end_x %" G_GINT64_FORMAT " and end_y %" G_GINT64_FORMAT
                       " must be positive with end_x * end_y equal to the N = %" G_GINT64_FORMAT
                       " tokens of input 'x' %s [B,H,N,D]",
                       end_x, end_y, x->shape[2], ane_spec_format (x, bx));
      return FALSE;
    }
  ctx->outputs[0] = *x;
  return TRUE;
}

/* --- reference kernels ------------------------------------------------- */

gboolean
ane_ref_attention (AneRefCtx *ctx,
                   GError   **error)
{
  const AneRefValue *q = ctx->inputs[0], *k = ctx->inputs[1], *v = ctx->inputs[2];
  const AneRefValue *bias = ctx->inputs[3];
  AneRefValue *out = ctx->outputs[0];
  gboolean causal = ane_attrs_bool (ctx->attrs, "causal");
  double scale = ane_attrs_double (ctx->attrs, "scale");
  double softcap = ane_attrs_double (ctx->attrs, "softcap");
  gint64 B = q->shape[0], H = q->shape[1], S = q->shape[2], D = q->shape[3];
  gint64 Hkv = k->shape[1], L = k->shape[2], Dv = v->shape[3];
  gint64 group = Hkv > 0 ? H / Hkv : 1;
  g_autofree double *scores = g_new (double, MAX (L, 1));
  g_autofree gboolean *visible = g_new (gboolean, MAX (L, 1));

  if (scale == 0.0)
    scale = 1.0 / sqrt ((double) D);

  for (gint64 b = 0; b < B; b++)
    for (gint64 h = 0; h < H; h++)
      {
        gint64 hkv = h / group;   /* GQA: consecutive query heads share a kv head */

        for (gint64 i = 0; i < S; i++)
          {
            const double *qi = &q->v[((b * H + h) * S + i) * D];
            double *oi = &out->v[((b * H + h) * S + i) * Dv];
            double max = -INFINITY, sum = 0.0;

            for (gint64 j = 0; j < L; j++)
              {
                const double *kj = &k->v[((b * Hkv + hkv) * L + j) * D];
                double s = 0.0;

                for (gint64 d = 0; d < D; d++)
                  s += qi[d] * kj[d];
                s *= scale;
                if (softcap > 0.0)
                  s = softcap * tanh (s / softcap);
                if (bias != NULL)
                  {
                    gint64 coords[4] = { b, h, i, j };
                    s += bias->v[ane_ref_broadcast_offset (bias, coords, 4)];
                  }
                scores[j] = s;
                /* End-aligned causal mask: row i is query position L - S + i. */
                visible[j] = !causal || j <= i + (L - S);
                if (visible[j])
                  max = fmax (max, s);
              }
            for (gint64 j = 0; j < L; j++)
              if (visible[j])
                {
                  scores[j] = exp (scores[j] - max);
                  sum += scores[j];
                }
            for (gint64 j = 0; j < L; j++)
              {
                const double *vj = &v->v[((b * Hkv + hkv) * L + j) * Dv];

                if (!visible[j])
                  continue;
                for (gint64 e = 0; e < Dv; e++)
                  oi[e] += scores[j] / sum * vj[e];
              }
          }
      }
  return TRUE;
}

/* out = (a cos - b sin, a sin + b cos) for the pair at features (ia, ib) of a row. */
static void
rotate_pair (const double *x,
             double       *y,
             gsize         ia,
             gsize         ib,
             double        angle)
{
  double a = x[ia], b = x[ib];

  y[ia] = a * cos (angle) - b * sin (angle);
  y[ib] = a * sin (angle) + b * cos (angle);
}

gboolean
ane_ref_rope (AneRefCtx *ctx,
              GError   **error)
{
  const AneRefValue *x = ctx->inputs[0], *pos = ctx->inputs[1];
  AneRefValue *y = ctx->outputs[0];
  gboolean neox = g_str_equal (ane_attrs_string (ctx->attrs, "mode"), "neox");
  double theta = ane_attrs_double (ctx->attrs, "theta");
  gsize S = (gsize) x->shape[2], D = (gsize) x->shape[3];
  gsize n_rot = (gsize) ane_attrs_int (ctx->attrs, "n_rot");

  if (n_rot == 0)
    n_rot = D;
  /* Features past n_rot pass through unchanged. */
  for (gsize r = 0; D > 0 && r < x->n / D; r++)
    {
      const double *xr = &x->v[r * D];
      double *yr = &y->v[r * D];
      double p = pos->v[r % S];   /* rows run over [B,H,S] with S innermost */

      for (gsize d = n_rot; d < D; d++)
        yr[d] = xr[d];
      for (gsize i = 0; i < n_rot / 2; i++)
        {
          double angle = p * pow (theta, -2.0 * (double) i / (double) n_rot);

          if (neox)
            rotate_pair (xr, yr, i, i + n_rot / 2, angle);
          else
            rotate_pair (xr, yr, 2 * i, 2 * i + 1, angle);
        }
    }
  return TRUE;
}

gboolean
ane_ref_axial_rope_2d (AneRefCtx *ctx,
                       GError   **error)
{
  const AneRefValue *x = ctx->inputs[0];
  AneRefValue *y = ctx->outputs[0];
  double theta = ane_attrs_double (ctx->attrs, "theta");
  gint64 end_x = ane_attrs_int (ctx->attrs, "end_x");
  gsize N = (gsize) x->shape[2], D = (gsize) x->shape[3], quarter = D / 4;

  for (gsize r = 0; D > 0 && r < x->n / D; r++)
    {
      gint64 t = (gint64) (r % N);   /* rows run over [B,H,N] with N innermost */
      double px = (double) (t % end_x), py = (double) (t / end_x);

      for (gsize j = 0; j < 2 * quarter; j++)
        {
          /* Pairs j < D/4 carry the x frequencies, the next D/4 the y ones. */
          gsize i = j < quarter ? j : j - quarter;
          double freq = pow (theta, -4.0 * (double) i / (double) D);
          double angle = (j < quarter ? px : py) * freq;

          rotate_pair (&x->v[r * D], &y->v[r * D], 2 * j, 2 * j + 1, angle);
        }
    }
  return TRUE;
}

/* --- builder methods --------------------------------------------------- */

/**
 * ane_graph_attention:
 * @self: a graph
 * @q: queries `[B, H, S, D]`, a float tensor
 * @k: keys `[B, Hkv, L, D]`, dtype of @q; H must be a multiple of Hkv
 * @v: values `[B, Hkv, L, Dv]`, dtype of @q
 * @bias: (nullable): added to the scores; broadcastable to `[B, H, S, L]`,
 *   dtype of @q
 * @causal: whether query i only sees keys `j <= i + L - S` (the mask is
 *   aligned to the end, so S new queries attend a cache of L keys)
 * @scale: multiplies `q.k^T`; 0 means `1/sqrt(D)`
 * @softcap: when > 0, scores become `softcap * tanh(scores / softcap)` before
 *   @bias and the mask (Gemma 2); 0 turns it off
 * @error: return location for a #GError
 *
 * Scaled dot-product attention with grouped-query heads:
 * `softmax(q.k^T * scale [+ bias] [causal mask]) . v`, the softmax over the
 * L keys. Query head h uses kv head `h / (H / Hkv)`.
 *
 * Returns: (transfer full): the result `[B, H, S, Dv]`
 */
AneTensor *
ane_graph_attention (AneGraph   *self,
                     AneTensor  *q,
                     AneTensor  *k,
                     AneTensor  *v,
                     AneTensor  *bias,
                     gboolean    causal,
                     double      scale,
                     double      softcap,
                     GError    **error)
{
  AneTensor *inputs[4] = { q, k, v, bias };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (q), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (k), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (v), NULL);
  g_return_val_if_fail (bias == NULL || ANE_IS_TENSOR (bias), NULL);

  return ane_graph_add_node (self, ANE_OP_ATTENTION, inputs, 4,
                             ane_attrs_new ("causal", g_variant_new_boolean (causal),
                                            "scale", g_variant_new_double (scale),
                                            "softcap", g_variant_new_double (softcap), NULL),
                             NULL, error);
}

/**
 * ane_graph_rope:
 * @self: a graph
 * @x: a float tensor `[B, H, S, D]`
 * @positions: the integer position of each of the S tokens, shape `[S]`
 * @mode: how features are paired (neox halves or interleaved pairs)
 * @theta: the frequency base (10000 in most models)
 * @n_rot: how many leading features of each head rotate; even, at most D;
 *   0 means D
 * @error: return location for a #GError
 *
 * Rotary position embedding (RoFormer). Feature pair i of the first @n_rot
 * features of each head, i in [0, n_rot/2), rotates by the angle
 * `pos * theta^(-2i/n_rot)`: `(a, b) -> (a cos - b sin, a sin + b cos)`.
 * %ANE_ROPE_NEOX pairs features (i, i + n_rot/2), %ANE_ROPE_INTERLEAVED pairs
 * (2i, 2i+1). Features past @n_rot pass through.
 *
 * Returns: (transfer full): the result, same shape and dtype as @x
 */
AneTensor *
ane_graph_rope (AneGraph     *self,
                AneTensor    *x,
                AneTensor    *positions,
                AneRopeMode   mode,
                double        theta,
                gint64        n_rot,
                GError      **error)
{
  AneTensor *inputs[2] = { x, positions };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (positions), NULL);
  g_return_val_if_fail (mode == ANE_ROPE_NEOX || mode == ANE_ROPE_INTERLEAVED, NULL);

  return ane_graph_add_node (self, ANE_OP_ROPE, inputs, 2,
                             ane_attrs_new ("mode", g_variant_new_string (mode == ANE_ROPE_NEOX
                                                                          ? "neox" : "interleaved"),
                                            "theta", g_variant_new_double (theta),
                                            "n_rot", g_variant_new_int64 (n_rot), NULL),
                             NULL, error);
}

/**
 * ane_graph_axial_rope_2d:
 * @self: a graph
 * @x: a float tensor `[B, H, N, D]` with `N = end_x * end_y` and D a multiple of 4
 * @end_x: the width of the token grid
 * @end_y: the height of the token grid
 * @theta: the frequency base (10000 in SAM2)
 * @error: return location for a #GError
 *
 * SAM2's axial 2-D rotary embedding (`compute_axial_cis` +
 * `apply_rotary_enc`): token t sits at `x = t mod end_x`, `y = t div end_x`;
 * with `f_i = theta^(-4i/D)`, i in [0, D/4), the feature pairs (2j, 2j+1)
 * for j < D/4 rotate by `x * f_j` and the next D/4 pairs by `y * f_(j-D/4)`.
 *
 * Returns: (transfer full): the result, same shape and dtype as @x
 */
AneTensor *
ane_graph_axial_rope_2d (AneGraph   *self,
                         AneTensor  *x,
                         gint64      end_x,
                         gint64      end_y,
                         double      theta,
                         GError    **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x), NULL);

  return ane_graph_add_node (self, ANE_OP_AXIAL_ROPE_2D, &x, 1,
                             ane_attrs_new ("end_x", g_variant_new_int64 (end_x),
                                            "end_y", g_variant_new_int64 (end_y),
                                            "theta", g_variant_new_double (theta), NULL),
                             NULL, error);
}
