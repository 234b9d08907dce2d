/* mil/lower/ane-lower-attention.c: scaled dot-product attention and rotary embeddings
 *
 * MIL facts used (coremltools ops/defs/iOS18/transformers.py, iOS15/linear.py,
 * iOS15/activation.py, iOS15/tensor_operation.py,
 * iOS15/tensor_transformation.py, iOS15/elementwise_unary.py):
 * - scaled_dot_product_attention (query, key, value, attn_mask), iOS18+:
 *   softmax(Q K^T / sqrt(E) + mask) V over the last axis. query, key and value
 *   must have the same rank (>= 3) and the same batch dims (no broadcasting
 *   of kv heads); the scale is fixed to 1/sqrt(E); a float mask is added to
 *   the scores and its last dim must equal the key length; a bool mask marks
 *   the keys that take part. No causal flag, no softcap.
 * - matmul (x, y, transpose_x, transpose_y): batch dims broadcast numpy-style.
 * - softmax (x, axis); tanh; sin; cos; cast (x, dtype "fp32"/"fp16").
 * - slice_by_index (x, begin, end): python slicing with explicit bounds.
 * - concat (values, axis); reshape (x, shape).
 *
 * See docs/lowering-norm.md for the table and the equivalence notes (causal
 * mask, grouped-query heads, scale folding, fp32 rope angles).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mil/lower/ane-lower-private.h"

/* --- small emitters -------------------------------------------------------- */

/* x[..., begin:end] along the last axis. */
static const char *
emit_slice_last (AneLowerNames           *w,
                 const char   *suffix,
                 const char   *x,
                 AneDType      dtype,
                 const gint64 *shape,
                 guint         rank,
                 gint64        begin,
                 gint64        end)
{
  gint64 b[ANE_MAX_RANK + 1], e[ANE_MAX_RANK + 1];

  for (guint i = 0; i < rank; i++)
    {
      b[i] = 0;
      e[i] = shape[i];
    }
  b[rank - 1] = begin;
  e[rank - 1] = end;
  return ane_lower_emit_slice (w, suffix, dtype, rank, x, b, e);
}

/* concat along the last axis; shape is the result's. */
static const char *
emit_concat_last (AneLowerNames           *w,
                  const char   *suffix,
                  const char  **values,
                  guint         n,
                  AneDType      dtype,
                  const gint64 *shape,
                  guint         rank)
{
  AneMilOpCall *call = ane_mil_op_begin (w->ctx->b, "concat", ane_lower_names_hint (w, suffix));
  const char *out;

  ane_mil_op_args (call, "values", values, n);
  ane_mil_op_arg (call, "axis", ane_mil_const_int (w->ctx->b, ane_lower_names_param (w, suffix, "axis"), -1));
  out = ane_mil_op_output (call, dtype, shape, rank);
  ane_mil_op_end (call);
  return out;
}

/* Numpy broadcast of two shapes (known to be compatible). */
static guint
broadcast_shape (const gint64 *a,
                 guint         ra,
                 const gint64 *b,
                 guint         rb,
                 gint64       *out)
{
  guint r = MAX (ra, rb);

  for (guint i = 0; i < r; i++)
    {
      gint64 da = i < r - ra ? 1 : a[i - (r - ra)];
      gint64 db = i < r - rb ? 1 : b[i - (r - rb)];
      out[i] = da == 1 ? db : da;
    }
  return r;
}

/* --- attention ------------------------------------------------------------- */

/* ane-lower-private.h. The generic lowering masks with -inf: exp(-inf -
 * max) is exactly 0, so masked keys get exactly zero weight; with L >= S
 * key 0 is visible to every query, so no row is fully masked by it. */
const char *
ane_lower_causal_mask (AneLowerNames *w,
                       gint64         S,
                       gint64         L,
                       double         masked)
{
  g_autofree double *m = g_new (double, MAX (S * L, 1));
  gint64 shape[2] = { S, L };

  for (gint64 i = 0; i < S; i++)
    for (gint64 j = 0; j < L; j++)
      m[i * L + j] = j <= i + (L - S) ? 0.0 : masked;
  return ane_mil_const_floats (w->ctx->b, ane_lower_names_hint (w, "causal_mask"), w->ctx->compute, m, shape, 2);
}

/* ane-lower-private.h */
void
ane_lower_attention_read (AneLowerCtx       *ctx,
                          AneLowerAttention *a)
{
  const AneSpec *q = ctx->in_spec[0], *k = ctx->in_spec[1], *v = ctx->in_spec[2];

  a->causal = ane_attrs_bool (ctx->node->attrs, "causal");
  a->scale_attr = ane_attrs_double (ctx->node->attrs, "scale");
  a->softcap = ane_attrs_double (ctx->node->attrs, "softcap");
  a->B = q->shape[0];
  a->H = q->shape[1];
  a->S = q->shape[2];
  a->D = q->shape[3];
  a->Hkv = k->shape[1];
  a->L = k->shape[2];
  a->Dv = v->shape[3];
  a->G = a->Hkv > 0 ? a->H / a->Hkv : 1;
  a->scale = a->scale_attr == 0.0 ? 1.0 / sqrt ((double) a->D) : a->scale_attr;
  a->c = a->softcap > 0.0 ? a->scale / a->softcap : a->scale;
  /* Only rows i < S - 1 have keys past i + L - S; a single query sees all. */
  a->need_mask = a->causal && a->S > 1;
}

/* attention.
 *
 * iOS18 with H == Hkv, no softcap and a mask whose last dim is L (or none):
 *   scaled_dot_product_attention (q * (scale * sqrt(D)), k, v, mask) where the
 *   mul is left out for the default scale, and mask is bias, the causal
 *   const, or their sum.
 * Otherwise composed:
 *   s = matmul (q * c, k, transpose_y)     c = scale, or scale/softcap
 *   s = tanh (s) * softcap                 (softcap > 0)
 *   s = s + bias; s = s + causal mask
 *   o = matmul (softmax (s, -1), v)
 *   With H = G * Hkv, G > 1 and Hkv > 1, q is viewed as [B, Hkv, G, S, D]
 *   and k, v as [B, Hkv, 1, L, *] (query head h = hkv * G + g reads kv head
 *   hkv, as in the IR), the scores as [B, Hkv, G, S, L]; the causal mask
 *   stays [S, L]; a bias with a B or H dim is viewed the same way. With
 *   Hkv == 1 the matmul broadcasts the single kv head directly. */
gboolean
ane_lower_attention (AneLowerCtx *ctx,
                     GError     **error)
{
  const AneSpec *q = ctx->in_spec[0];
  const AneSpec *bias = ctx->in_spec[3];
  const AneSpec *out = &ctx->out_spec[0];
  AneDType dt = ctx->compute;
  AneLowerAttention a;
  gboolean bias_full_l;
  const char *qv = ctx->in[0], *kv = ctx->in[1], *vv = ctx->in[2];
  AneLowerNames w;

  ane_lower_attention_read (ctx, &a);
  bias_full_l = bias != NULL && bias->rank > 0 && bias->shape[bias->rank - 1] == a.L;
  ane_lower_names_init (&w, ctx);

  if (ctx->target >= ANE_MIL_IOS18 && a.G == 1 && a.softcap == 0.0 &&
      (bias == NULL || bias_full_l || a.need_mask))
    {
      const char *mask = bias ? ctx->in[3] : NULL;
      double fold = a.scale * sqrt ((double) a.D);

      /* 1/sqrt(D) given explicitly is the default too. */
      if (a.scale_attr != 0.0 && fabs (fold - 1.0) > 1e-12)
        qv = ane_lower_emit_binary (&w, "mul", "q_scaled", dt, q->shape, q->rank, qv,
                                    ane_lower_const_float (&w, "q_scale", dt, fold));
      if (a.need_mask)
        {
          const char *cm = ane_lower_causal_mask (&w, a.S, a.L, -INFINITY);

          if (bias != NULL)
            {
              gint64 ms[ANE_MAX_RANK], sl[2] = { a.S, a.L };
              guint mr = broadcast_shape (bias->shape, bias->rank, sl, 2, ms);

              mask = ane_lower_emit_binary (&w, "add", "mask", dt, ms, mr, ctx->in[3], cm);
            }
          else
            mask = cm;
        }
      ctx->out[0] = ane_mil_op (ctx->b, "scaled_dot_product_attention", ctx->hint,
                                out->dtype, out->shape, out->rank,
                                "query", qv, "key", kv, "value", vv, "attn_mask", mask, NULL);
      ane_lower_names_clear (&w);
      return TRUE;
    }

  {
    gboolean view5 = a.G > 1 && a.Hkv > 1;
    gint64 qs[5], ss[5], os[5];
    guint r = view5 ? 5 : 4;
    const char *s, *p, *o;

    if (a.c != 1.0)
      qv = ane_lower_emit_binary (&w, "mul", "q_scaled", dt, q->shape, q->rank, qv,
                                  ane_lower_const_float (&w, "q_scale", dt, a.c));
    if (view5)
      {
        gint64 q5[5] = { a.B, a.Hkv, a.G, a.S, a.D }, k5[5] = { a.B, a.Hkv, 1, a.L, a.D };
        gint64 v5[5] = { a.B, a.Hkv, 1, a.L, a.Dv };

        qv = ane_lower_emit_reshape (&w, "q_grouped", dt, q5, 5, qv);
        kv = ane_lower_emit_reshape (&w, "k_grouped", dt, k5, 5, kv);
        vv = ane_lower_emit_reshape (&w, "v_grouped", dt, v5, 5, vv);
        memcpy (qs, q5, sizeof q5);
        ss[0] = a.B; ss[1] = a.Hkv; ss[2] = a.G; ss[3] = a.S; ss[4] = a.L;
        os[0] = a.B; os[1] = a.Hkv; os[2] = a.G; os[3] = a.S; os[4] = a.Dv;
      }
    else
      {
        memcpy (qs, q->shape, 4 * sizeof (gint64));
        ss[0] = a.B; ss[1] = a.H; ss[2] = a.S; ss[3] = a.L;
        os[0] = a.B; os[1] = a.H; os[2] = a.S; os[3] = a.Dv;
      }

    {
      /* last argument first (ane-lower-private.h, order of emission) */
      const char *ty = ane_lower_const_bool (&w, "transpose_y", TRUE);
      const char *tx = ane_lower_const_bool (&w, "transpose_x", FALSE);

      s = ane_mil_op (ctx->b, "matmul", ane_lower_names_hint (&w, "scores"), dt, ss, r,
                      "x", qv, "y", kv, "transpose_x", tx, "transpose_y", ty, NULL);
    }
    if (a.softcap > 0.0)
      {
        s = ane_lower_emit_unary (&w, "tanh", "scores_tanh", dt, ss, r, s);
        s = ane_lower_emit_binary (&w, "mul", "scores_capped", dt, ss, r, s,
                                   ane_lower_const_float (&w, "softcap", dt, a.softcap));
      }
    if (bias != NULL)
      {
        const char *bv = ctx->in[3];
        gint64 p4[4];

        for (guint i = 0; i < 4; i++)
          p4[i] = i < 4 - bias->rank ? 1 : bias->shape[i - (4 - bias->rank)];
        if (view5 && (p4[0] != 1 || p4[1] != 1))
          {
            gint64 b5[5] = { p4[0], p4[1] == 1 ? 1 : a.Hkv, p4[1] == 1 ? 1 : a.G, p4[2], p4[3] };

            bv = ane_lower_emit_reshape (&w, "bias_grouped", dt, b5, 5, bv);
          }
        s = ane_lower_emit_binary (&w, "add", "scores_biased", dt, ss, r, s, bv);
      }
    if (a.need_mask)
      s = ane_lower_emit_binary (&w, "add", "scores_masked", dt, ss, r, s, ane_lower_causal_mask (&w, a.S, a.L, -INFINITY));
    p = ane_mil_op (ctx->b, "softmax", ane_lower_names_hint (&w, "weights"), dt, ss, r,
                    "x", s, "axis", ane_lower_const_int (&w, "axis", -1), NULL);
    {
      /* last argument first (ane-lower-private.h, order of emission) */
      const char *ty = ane_lower_const_bool (&w, "transpose_y", FALSE);
      const char *tx = ane_lower_const_bool (&w, "transpose_x", FALSE);

      o = ane_mil_op (ctx->b, "matmul", ane_lower_names_hint (&w, view5 ? "context" : NULL), dt, os, r,
                      "x", p, "y", vv, "transpose_x", tx, "transpose_y", ty, NULL);
    }
    if (view5)
      o = ane_lower_emit_reshape (&w, NULL, dt, out->shape, out->rank, o);
    ctx->out[0] = o;
  }
  ane_lower_names_clear (&w);
  return TRUE;
}

/* --- rotary embeddings ------------------------------------------------------ */

/* Rotates the pairs (a, b) of x by the angle tables: out = (a cos - b sin,
 * a sin + b cos), where a, b are [..., P] and cos, sin broadcast to them.
 * Returns o1, o2 through the array. */
static void
rotate (AneLowerNames           *w,
        const char   *a,
        const char   *b,
        const char   *cos_t,
        const char   *sin_t,
        const gint64 *shape,
        guint         rank,
        const char  **o)
{
  AneDType dt = w->ctx->compute;
  const char *ac = ane_lower_emit_binary (w, "mul", "a_cos", dt, shape, rank, a, cos_t);
  const char *bs = ane_lower_emit_binary (w, "mul", "b_sin", dt, shape, rank, b, sin_t);
  const char *as = ane_lower_emit_binary (w, "mul", "a_sin", dt, shape, rank, a, sin_t);
  const char *bc = ane_lower_emit_binary (w, "mul", "b_cos", dt, shape, rank, b, cos_t);

  o[0] = ane_lower_emit_binary (w, "sub", "rot_a", dt, shape, rank, ac, bs);
  o[1] = ane_lower_emit_binary (w, "add", "rot_b", dt, shape, rank, as, bc);
}

/* Interleaved rotation of the first n features of x [B, H, S, D]: pairs
 * (2i, 2i+1) via the view [B, H, S, n/2, 2]; cos_t, sin_t broadcast to
 * [B, H, S, n/2, 1]. Features past n pass through (concat). */
static const char *
rotate_interleaved (AneLowerNames            *w,
                    const char    *x,
                    const AneSpec *xs,
                    gint64         n,
                    const char    *cos_t,
                    const char    *sin_t)
{
  AneDType dt = w->ctx->compute;
  gint64 D = xs->shape[3];
  gint64 rot4[4] = { xs->shape[0], xs->shape[1], xs->shape[2], n };
  gint64 pairs[5] = { xs->shape[0], xs->shape[1], xs->shape[2], n / 2, 2 };
  gint64 half5[5] = { xs->shape[0], xs->shape[1], xs->shape[2], n / 2, 1 };
  const char *xr = x, *pass = NULL, *a, *b, *o[2], *y;

  if (n < D)
    {
      xr = emit_slice_last (w, "rot_part", x, dt, xs->shape, 4, 0, n);
      pass = emit_slice_last (w, "pass_part", x, dt, xs->shape, 4, n, D);
    }
  xr = ane_lower_emit_reshape (w, "pairs", dt, pairs, 5, xr);
  a = emit_slice_last (w, "a", xr, dt, pairs, 5, 0, 1);
  b = emit_slice_last (w, "b", xr, dt, pairs, 5, 1, 2);
  rotate (w, a, b, cos_t, sin_t, half5, 5, o);
  y = emit_concat_last (w, "rotated_pairs", o, 2, dt, pairs, 5);
  y = ane_lower_emit_reshape (w, pass ? "rotated" : NULL, dt, rot4, 4, y);
  if (pass != NULL)
    {
      const char *parts[2] = { y, pass };

      y = emit_concat_last (w, NULL, parts, 2, dt, xs->shape, 4);
    }
  return y;
}

/* rope: positions are a run-time input, so the tables are computed in the
 * program, in fp32 even in fp16 programs (sin(pos * f) of an fp16 angle is
 * useless beyond a few hundred positions: the angle's own rounding error is
 * pos * f * 2^-11 rad):
 *   pos_f  = cast (reshape (positions, [S, 1] or [S, 1, 1]), fp32)
 *   angles = pos_f * inv_freq          inv_freq = theta^(-2i/n_rot), fp32 const
 *   cos, sin = cos (angles), sin (angles)  (cast to fp16 in fp16 programs)
 * neox pairs (i, i + n_rot/2) are the two halves of the first n_rot features;
 * interleaved pairs (2i, 2i+1) come from the view [..., n_rot/2, 2]. */
gboolean
ane_lower_rope (AneLowerCtx *ctx,
                GError     **error)
{
  const AneSpec *xs = &ctx->out_spec[0];
  AneSpec ps = ane_lower_in_spec (ctx, 1);
  AneDType dt = ctx->compute;
  gboolean neox = g_str_equal (ane_attrs_string (ctx->node->attrs, "mode"), "neox");
  double theta = ane_attrs_double (ctx->node->attrs, "theta");
  gint64 n = ane_attrs_int (ctx->node->attrs, "n_rot");
  gint64 S = xs->shape[2], D = xs->shape[3], half;
  g_autofree double *inv = NULL;
  gint64 pos_shape[3] = { S, 1, 1 }, inv_shape[2], tab[3];
  guint tab_rank = neox ? 2 : 3;
  const char *pos, *freq, *ang, *cos_t, *sin_t;
  AneLowerNames w;

  if (n == 0)
    n = D;
  half = n / 2;
  inv = g_new (double, MAX (half, 1));
  for (gint64 i = 0; i < half; i++)
    inv[i] = pow (theta, -2.0 * (double) i / (double) n);
  inv_shape[0] = half;
  inv_shape[1] = 1;
  tab[0] = S;
  tab[1] = half;
  tab[2] = 1;

  ane_lower_names_init (&w, ctx);
  /* The Neural Engine profile computes the tables once per positions input
   * (ane-lower-ane-rope.c); the generic lowering, per rope. */
  if (!ane_lower_ane_rope_tables (ctx, theta, n, tab_rank, &cos_t, &sin_t))
    {
      pos = ane_lower_emit_reshape (&w, "positions_col", ps.dtype, pos_shape, tab_rank, ctx->in[1]);
      if (ps.dtype != ANE_DTYPE_FLOAT32)
        pos = ane_lower_emit_cast (&w, "positions_f32", ANE_DTYPE_FLOAT32, pos_shape, tab_rank, pos);
      freq = ane_mil_const_floats (ctx->b, ane_lower_names_hint (&w, "inv_freq"), ANE_DTYPE_FLOAT32, inv, inv_shape,
                                   tab_rank - 1);
      ang = ane_lower_emit_binary (&w, "mul", "angles", ANE_DTYPE_FLOAT32, tab, tab_rank, pos, freq);
      cos_t = ane_lower_emit_unary (&w, "cos", "cos_f32", ANE_DTYPE_FLOAT32, tab, tab_rank, ang);
      sin_t = ane_lower_emit_unary (&w, "sin", "sin_f32", ANE_DTYPE_FLOAT32, tab, tab_rank, ang);
      if (dt != ANE_DTYPE_FLOAT32)
        {
          cos_t = ane_lower_emit_cast (&w, "cos", dt, tab, tab_rank, cos_t);
          sin_t = ane_lower_emit_cast (&w, "sin", dt, tab, tab_rank, sin_t);
        }
      ane_lower_ane_rope_keep_tables (ctx, theta, n, tab_rank, cos_t, sin_t);
    }

  if (neox)
    {
      gint64 hs[4] = { xs->shape[0], xs->shape[1], S, half };
      const char *a = emit_slice_last (&w, "a", ctx->in[0], dt, xs->shape, 4, 0, half);
      const char *b = emit_slice_last (&w, "b", ctx->in[0], dt, xs->shape, 4, half, n);
      const char *parts[3];
      guint n_parts = 2;

      rotate (&w, a, b, cos_t, sin_t, hs, 4, parts);
      if (n < D)
        parts[n_parts++] = emit_slice_last (&w, "pass_part", ctx->in[0], dt, xs->shape, 4, n, D);
      ctx->out[0] = emit_concat_last (&w, NULL, parts, n_parts, dt, xs->shape, 4);
    }
  else
    ctx->out[0] = rotate_interleaved (&w, ctx->in[0], xs, n, cos_t, sin_t);
  ane_lower_names_clear (&w);
  return TRUE;
}

/* axial_rope_2d: the positions are static (token t at x = t mod end_x,
 * y = t div end_x), so the cos/sin tables [N, D/2, 1] are computed in double
 * at lowering time and stored as consts in the compute dtype; pairs
 * (2j, 2j+1) then rotate as interleaved rope. */
gboolean
ane_lower_axial_rope_2d (AneLowerCtx *ctx,
                         GError     **error)
{
  const AneSpec *xs = &ctx->out_spec[0];
  double theta = ane_attrs_double (ctx->node->attrs, "theta");
  gint64 end_x = ane_attrs_int (ctx->node->attrs, "end_x");
  gint64 N = xs->shape[2], D = xs->shape[3], quarter = D / 4, half = D / 2;
  gint64 tab[3] = { N, half, 1 };
  g_autofree double *c = g_new (double, MAX (N * half, 1));
  g_autofree double *s = g_new (double, MAX (N * half, 1));
  const char *cos_t, *sin_t;
  AneLowerNames w;

  for (gint64 t = 0; t < N; t++)
    {
      double px = (double) (t % end_x), py = (double) (t / end_x);

      for (gint64 j = 0; j < half; j++)
        {
          gint64 i = j < quarter ? j : j - quarter;
          double angle = (j < quarter ? px : py) * pow (theta, -4.0 * (double) i / (double) D);

          c[t * half + j] = cos (angle);
          s[t * half + j] = sin (angle);
        }
    }
  ane_lower_names_init (&w, ctx);
  cos_t = ane_mil_const_floats (ctx->b, ane_lower_names_hint (&w, "cos"), ctx->compute, c, tab, 3);
  sin_t = ane_mil_const_floats (ctx->b, ane_lower_names_hint (&w, "sin"), ctx->compute, s, tab, 3);
  ctx->out[0] = rotate_interleaved (&w, ctx->in[0], xs, D, cos_t, sin_t);
  ane_lower_names_clear (&w);
  return TRUE;
}
