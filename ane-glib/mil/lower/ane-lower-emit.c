/* mil/lower/ane-lower-emit.c: the small emitters every lowering shares
 *
 * One naming idiom (ane-lower-private.h): an op is named after the node and
 * a suffix through an AneLowerNames, "<node>_<suffix>", or the node's own
 * name for a NULL suffix; a const an op makes for one of its parameters is
 * named "<op>_<param>" (ane_lower_names_param). Where a helper makes more
 * than one const, it makes them into locals, last parameter first (the
 * order of emission at the top of ane-lower-private.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mil/lower/ane-lower-private.h"

/* --- inputs ------------------------------------------------------------- */

const AneNode *
ane_lower_input_node (AneLowerCtx *ctx,
                      guint        slot)
{
  if (slot >= ctx->n_inputs || ctx->node->inputs[slot].node == ANE_NO_NODE ||
      (ctx->in[slot] == NULL && !ane_lower_input_pending (ctx, slot)))
    return NULL;
  return ane_graph_get_node (ctx->graph, ctx->node->inputs[slot].node);
}

gboolean
ane_lower_input_is_const (AneLowerCtx *ctx,
                          guint        slot)
{
  const AneNode *src = ane_lower_input_node (ctx, slot);

  if (src == NULL)
    return FALSE;
  /* the driver lowers consts and non-dynamic params to const ops (bound or
   * fetched when the package is written); anything else is computed */
  if (src->op->kind == ANE_OP_CONST)
    return TRUE;
  return src->op->kind == ANE_OP_PARAM && !ane_attrs_bool (src->attrs, "dynamic");
}

/* --- names -------------------------------------------------------------- */

const char *
ane_lower_names_param (AneLowerNames *w,
                       const char    *suffix,
                       const char    *param)
{
  g_autofree char *s = NULL;

  if (suffix == NULL)
    suffix = w->result_stem;
  s = suffix != NULL ? g_strconcat (suffix, "_", param, NULL) : g_strdup (param);
  return ane_lower_names_hint (w, s);
}

/* --- consts ------------------------------------------------------------- */

const char *
ane_lower_const_int (AneLowerNames *w,
                     const char    *suffix,
                     gint64         v)
{
  return ane_mil_const_int (w->ctx->b, ane_lower_names_hint (w, suffix), v);
}

const char *
ane_lower_const_ints (AneLowerNames *w,
                      const char    *suffix,
                      const gint64  *v,
                      gsize          n)
{
  return ane_mil_const_ints (w->ctx->b, ane_lower_names_hint (w, suffix), v, n);
}

const char *
ane_lower_const_float (AneLowerNames *w,
                       const char    *suffix,
                       AneDType       dtype,
                       double         v)
{
  return ane_mil_const_float (w->ctx->b, ane_lower_names_hint (w, suffix), dtype, v);
}

const char *
ane_lower_const_bool (AneLowerNames *w,
                      const char    *suffix,
                      gboolean       v)
{
  return ane_mil_const_bool (w->ctx->b, ane_lower_names_hint (w, suffix), v);
}

const char *
ane_lower_const_string (AneLowerNames *w,
                        const char    *suffix,
                        const char    *v)
{
  return ane_mil_const_string (w->ctx->b, ane_lower_names_hint (w, suffix), v);
}

/* --- ops ---------------------------------------------------------------- */

const char *
ane_lower_emit_identity (AneLowerCtx *ctx)
{
  const AneSpec *out = &ctx->out_spec[0];

  return ane_mil_op (ctx->b, "identity", ctx->hint, out->dtype, out->shape, out->rank,
                     "x", ctx->in[0], NULL);
}

const char *
ane_lower_emit_unary (AneLowerNames *w,
                      const char    *type,
                      const char    *suffix,
                      AneDType       dtype,
                      const gint64  *shape,
                      guint          rank,
                      const char    *x)
{
  return ane_mil_op (w->ctx->b, type, ane_lower_names_hint (w, suffix), dtype, shape, rank, "x", x, NULL);
}

const char *
ane_lower_emit_binary (AneLowerNames *w,
                       const char    *type,
                       const char    *suffix,
                       AneDType       dtype,
                       const gint64  *shape,
                       guint          rank,
                       const char    *x,
                       const char    *y)
{
  return ane_mil_op (w->ctx->b, type, ane_lower_names_hint (w, suffix), dtype, shape, rank,
                     "x", x, "y", y, NULL);
}

const char *
ane_lower_emit_reshape (AneLowerNames *w,
                        const char    *suffix,
                        AneDType       dtype,
                        const gint64  *shape,
                        guint          rank,
                        const char    *x)
{
  const char *shape_c = ane_mil_const_ints (w->ctx->b, ane_lower_names_param (w, suffix, "shape"), shape, rank);

  return ane_lower_emit_reshape_by (w, suffix, dtype, shape, rank, x, shape_c);
}

const char *
ane_lower_emit_reshape_by (AneLowerNames *w,
                           const char    *suffix,
                           AneDType       dtype,
                           const gint64  *shape,
                           guint          rank,
                           const char    *x,
                           const char    *shape_const)
{
  return ane_mil_op (w->ctx->b, "reshape", ane_lower_names_hint (w, suffix), dtype, shape, rank,
                     "x", x, "shape", shape_const, NULL);
}

const char *
ane_lower_emit_cast (AneLowerNames *w,
                     const char    *suffix,
                     AneDType       to,
                     const gint64  *shape,
                     guint          rank,
                     const char    *x)
{
  const char *dtype_c = ane_mil_const_string (w->ctx->b, ane_lower_names_param (w, suffix, "dtype"),
                                              ane_mil_dtype_name (to));

  return ane_mil_op (w->ctx->b, "cast", ane_lower_names_hint (w, suffix), to, shape, rank,
                     "x", x, "dtype", dtype_c, NULL);
}

const char *
ane_lower_emit_transpose (AneLowerNames *w,
                          const char    *suffix,
                          AneDType       dtype,
                          const gint64  *shape,
                          guint          rank,
                          const char    *x,
                          const gint64  *perm)
{
  const char *perm_c = ane_mil_const_ints (w->ctx->b, ane_lower_names_param (w, suffix, "perm"), perm, rank);

  return ane_mil_op (w->ctx->b, "transpose", ane_lower_names_hint (w, suffix), dtype, shape, rank,
                     "x", x, "perm", perm_c, NULL);
}

const char *
ane_lower_emit_slice (AneLowerNames *w,
                      const char    *suffix,
                      AneDType       dtype,
                      guint          rank,
                      const char    *x,
                      const gint64  *begin,
                      const gint64  *end)
{
  gint64 shape[ANE_MAX_RANK + 1];
  const char *end_c, *begin_c;

  g_assert (rank <= G_N_ELEMENTS (shape));
  for (guint i = 0; i < rank; i++)
    shape[i] = end[i] - begin[i];
  /* last argument first (ane-lower-private.h, order of emission) */
  end_c = ane_mil_const_ints (w->ctx->b, ane_lower_names_param (w, suffix, "end"), end, rank);
  begin_c = ane_mil_const_ints (w->ctx->b, ane_lower_names_param (w, suffix, "begin"), begin, rank);
  return ane_mil_op (w->ctx->b, "slice_by_index", ane_lower_names_hint (w, suffix), dtype, shape, rank,
                     "x", x, "begin", begin_c, "end", end_c, NULL);
}
