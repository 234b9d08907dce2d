/* mil/lower/ane-lower-ane-layout.c: the Neural Engine profile's layout, and
 * the elementwise ops that keep it
 *
 * The rewrite. The Neural Engine's native layout is (B, C, 1, S): channels on
 * axis 1, the sequence on the last axis (apple/ml-ane-transformers
 * ane_transformers/reference/layer_norm.py:24, "most conducive to ANE", and
 * multihead_attention.py:50-53, linear layers as 1×1 conv on it; maderix/ANE
 * docs/ANE_INTERNALS.md:43, surfaces [1, C, 1, S]). A graph written for a
 * CPU or a GPU holds its activations [..., S, C]. The profile's rewrites
 * (the 1×1 conv of ane-lower-ane-conv.c above all) produce values held in
 * the Neural Engine's layout: an AneLowerView, the value as [B, C, 1, S].
 *
 * The cleanup is built in rather than run after: a view's graph form (the
 * IR's [..., S, C]) is made only when a consumer that does not take the
 * layout asks for it (ane_lower_input), so two linears in a row, or a
 * linear, an activation and a linear, never go channels-last and back.
 * Elementwise ops take the layout (below): unary ops apply to the view
 * as is, binary ops when both operands are views of the same shape, or one
 * is a view and the other a scalar, a per-channel [C] vector (reshaped to
 * [1, C, 1, 1]: a linear's bias), or a value of the same graph shape
 * (brought into the layout: a residual).
 *
 * The conversions: [..., S, C] → reshape [B, S, C] → transpose [B, C, S] →
 * reshape [B, C, 1, S], and back. When S or C is 1 the transpose moves a
 * size-1 axis only, so one reshape does (a decode step's S = 1 never
 * transposes).
 *
 * Tested by tests/test-lower-ane-profile.c (the same graphs lowered with the
 * profile on and off on the CPU backend; the conversions counted).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/lower/ane-lower-private.h"

gboolean
ane_lower_view_fits (const AneSpec *spec)
{
  return spec != NULL && ane_dtype_is_float (spec->dtype) && !ane_dtype_is_block (spec->dtype) &&
         spec->rank >= 1 && spec->rank <= ANE_MIL_MAX_RANK;
}

static void
view_dims (const AneSpec *spec,
           gint64        *b,
           gint64        *c,
           gint64        *s)
{
  *c = spec->shape[spec->rank - 1];
  *s = spec->rank >= 2 ? spec->shape[spec->rank - 2] : 1;
  *b = 1;
  for (guint i = 0; i + 2 < spec->rank; i++)
    *b *= spec->shape[i];
}

static const char *
reshape (AneMilBuilder *b,
         const char    *hint,
         const char    *suffix,
         AneDType       dtype,
         const gint64  *shape,
         guint          rank,
         const char    *x)
{
  g_autofree char *name = g_strdup_printf ("%s_%s", hint, suffix);
  g_autofree char *shape_name = g_strdup_printf ("%s_%s_shape", hint, suffix);
  const char *shape_const = ane_mil_const_ints (b, shape_name, shape, rank);

  return ane_mil_op (b, "reshape", name, dtype, shape, rank, "x", x, "shape", shape_const, NULL);
}

static const char *
swap_last_two (AneMilBuilder *b,
               const char    *hint,
               const char    *suffix,
               AneDType       dtype,
               const gint64  *shape,
               const char    *x)
{
  static const gint64 perm[3] = { 0, 2, 1 };
  g_autofree char *name = g_strdup_printf ("%s_%s", hint, suffix);
  g_autofree char *perm_name = g_strdup_printf ("%s_%s_perm", hint, suffix);
  const char *perm_const = ane_mil_const_ints (b, perm_name, perm, 3);

  return ane_mil_op (b, "transpose", name, dtype, shape, 3, "x", x, "perm", perm_const, NULL);
}

const char *
ane_lower_view_make (AneMilBuilder *b,
                     const char    *value,
                     const AneSpec *spec,
                     const char    *hint,
                     AneLowerView  *view)
{
  gint64 cf[4];

  memset (view, 0, sizeof *view);
  view_dims (spec, &view->b, &view->c, &view->s);
  cf[0] = view->b, cf[1] = view->c, cf[2] = 1, cf[3] = view->s;
  if (view->s != 1 && view->c != 1)
    {
      gint64 rows[3] = { view->b, view->s, view->c }, cols[3] = { view->b, view->c, view->s };

      if (spec->rank != 3)
        value = reshape (b, hint, "cf_rows", spec->dtype, rows, 3, value);
      value = swap_last_two (b, hint, "cf_t", spec->dtype, cols, value);
    }
  view->cf = reshape (b, hint, "cf", spec->dtype, cf, 4, value);
  view->graph_form = NULL;
  return view->cf;
}

const char *
ane_lower_view_graph_form (AneMilBuilder *b,
                           AneLowerView  *view,
                           const AneSpec *spec,
                           const char    *hint)
{
  const char *value = view->cf;

  if (view->graph_form != NULL)
    return view->graph_form;
  if (view->s != 1 && view->c != 1)
    {
      gint64 cols[3] = { view->b, view->c, view->s }, rows[3] = { view->b, view->s, view->c };

      value = reshape (b, hint, "cl_cols", spec->dtype, cols, 3, value);
      value = swap_last_two (b, hint, "cl_t", spec->dtype, rows, value);
      if (spec->rank != 3)
        value = reshape (b, hint, "cl", spec->dtype, spec->shape, spec->rank, value);
    }
  else
    value = reshape (b, hint, "cl", spec->dtype, spec->shape, spec->rank, value);
  view->graph_form = value;
  return value;
}

const char *
ane_lower_input_cf (AneLowerCtx  *ctx,
                    guint         slot,
                    AneLowerView *view,
                    GError      **error)
{
  AneSpec spec;
  const char *x;

  if (ctx->in_view[slot] != NULL)
    {
      *view = *ctx->in_view[slot];
      return view->cf;
    }
  x = ane_lower_input (ctx, slot, error);
  if (x == NULL)
    return NULL;
  spec = ane_lower_in_spec (ctx, slot);
  ane_lower_view_make (ctx->b, x, &spec, ctx->in_node[slot]->name, view);
  ane_lower_remember_view (ctx, slot, view);
  return view->cf;
}

/* --- elementwise ops in the layout ------------------------------------ */

static AneSpec
cf_spec (const AneLowerView *view,
         AneDType            dtype)
{
  AneSpec spec = { .dtype = dtype, .rank = 4, .shape = { view->b, view->c, 1, view->s } };

  return spec;
}

/* Runs the generic lowering on the channels-first operands (in[], in_spec[]
 * and the output spec swapped for the call), and keeps its result as a view. */
static gboolean
lower_in_layout (AneLowerCtx        *ctx,
                 const AneLowerView *view,
                 const char        **operands,
                 const AneSpec      *specs,
                 GError            **error)
{
  g_autofree const char **in = g_memdup2 (ctx->in, ctx->n_inputs * sizeof (char *));
  g_autofree const AneSpec **in_spec = g_memdup2 (ctx->in_spec, ctx->n_inputs * sizeof (AneSpec *));
  const char **saved_in = ctx->in;
  const AneSpec **saved_spec = ctx->in_spec;
  AneSpec saved_out = ctx->out_spec[0];
  gboolean ok;

  for (guint i = 0; i < ctx->n_inputs; i++)
    {
      in[i] = operands[i];
      in_spec[i] = &specs[i];
    }
  ctx->in = in;
  ctx->in_spec = in_spec;
  ctx->out_spec[0] = cf_spec (view, saved_out.dtype);
  ok = ctx->node->op->lower (ctx, error);
  ctx->in = saved_in;
  ctx->in_spec = saved_spec;
  ctx->out_spec[0] = saved_out;
  if (!ok)
    return FALSE;
  ctx->out_view[0] = *view;
  ctx->out_view[0].cf = ctx->out[0];
  ctx->out_view[0].graph_form = NULL;
  ctx->out[0] = NULL;
  return TRUE;
}

gboolean
ane_lower_ane_unary (AneLowerCtx *ctx,
                     GError     **error)
{
  AneLowerView *view = ctx->in_view[0];
  const char *operand[1];
  AneSpec spec[1];

  if (view == NULL || !ane_dtype_is_float (ctx->node->outputs[0].dtype))
    return TRUE;   /* declined: not held in the layout */
  operand[0] = view->cf;
  spec[0] = cf_spec (view, ctx->in_spec[0]->dtype);
  return lower_in_layout (ctx, view, operand, spec, error);
}

static gboolean
all_ones (const AneSpec *spec)
{
  for (guint i = 0; i < spec->rank; i++)
    if (spec->shape[i] != 1)
      return FALSE;
  return TRUE;
}

/* Whether spec is [C] once its leading 1s are dropped (a per-channel vector). */
static gboolean
per_channel (const AneSpec *spec,
             gint64         c)
{
  if (spec->rank == 0 || spec->shape[spec->rank - 1] != c)
    return FALSE;
  for (guint i = 0; i + 1 < spec->rank; i++)
    if (spec->shape[i] != 1)
      return FALSE;
  return TRUE;
}

static gboolean
same_shape (const AneSpec *a,
            const AneSpec *b)
{
  return a->rank == b->rank && memcmp (a->shape, b->shape, a->rank * sizeof (gint64)) == 0;
}

gboolean
ane_lower_ane_binary (AneLowerCtx *ctx,
                      GError     **error)
{
  AneLowerView *view = ctx->in_view[0] != NULL ? ctx->in_view[0] : ctx->in_view[1];
  guint vslot = ctx->in_view[0] != NULL ? 0 : 1, other = 1 - vslot;
  const AneSpec *out = &ctx->node->outputs[0];
  const AneSpec *os = ctx->in_spec[other];
  const char *operands[2];
  AneSpec specs[2];

  if (view == NULL || !ane_dtype_is_float (out->dtype) || !same_shape (out, ctx->in_spec[vslot]))
    return TRUE;   /* declined */
  operands[vslot] = view->cf;
  specs[vslot] = cf_spec (view, ctx->in_spec[vslot]->dtype);
  if (ctx->in_view[other] != NULL)
    {
      AneLowerView *w = ctx->in_view[other];

      if (w->b != view->b || w->c != view->c || w->s != view->s)
        return TRUE;
      operands[other] = w->cf;
      specs[other] = specs[vslot];
    }
  else if (all_ones (os))
    {
      operands[other] = ane_lower_input (ctx, other, error);
      specs[other] = *os;
    }
  else if (per_channel (os, view->c))
    {
      /* a bias or scale per channel: [1, C, 1, 1] beside [B, C, 1, S] */
      g_autofree char *hint = ane_lower_hint (ctx, "per_channel");
      g_autofree char *shape_hint = ane_lower_hint (ctx, "per_channel_shape");
      gint64 shape[4] = { 1, view->c, 1, 1 };
      const char *v = ane_lower_input (ctx, other, error);
      const char *shape_const;

      if (v == NULL)
        return FALSE;
      shape_const = ane_mil_const_ints (ctx->b, shape_hint, shape, 4);
      operands[other] = ane_mil_op (ctx->b, "reshape", hint, ane_lower_dtype (ctx, os->dtype), shape, 4,
                                    "x", v, "shape", shape_const, NULL);
      specs[other] = (AneSpec) { .dtype = os->dtype, .rank = 4, .shape = { 1, view->c, 1, 1 } };
    }
  else if (same_shape (os, out) && ane_lower_view_fits (os))
    {
      AneLowerView w;

      operands[other] = ane_lower_input_cf (ctx, other, &w, error);
      specs[other] = specs[vslot];
    }
  else
    return TRUE;   /* declined: the other operand broadcasts in the graph's layout */
  if (operands[other] == NULL)
    return FALSE;
  return lower_in_layout (ctx, view, operands, specs, error);
}
