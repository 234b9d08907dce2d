/* mil/lower/ane-lower-ane-select.c: the Neural Engine profile's run-time
 * select, an arithmetic blend
 *
 * The rewrite. where (cond, a, b), cond computed at run time and a, b float
 * values computed at run time (a KV cache and its new row, as a decode
 * step's whole-cache write), becomes
 *   m = cast (cond, fp)          1 where cond holds, else 0
 *   out = a · m + b · (1 - m)
 * which is exactly a or b wherever they are finite: x · 1 = x, x · 0 = 0,
 * x + 0 = x in every float format.
 *
 * Why. Core ML's compute plan places a select whose condition is computed at
 * run time on the GPU (lint rule op-select: Anemll anemll/utils/ANE_PROFILER.md:161-169);
 * the Neural Engine ports of LLMs write such selects as arithmetic masks
 * (the LLaMA builder's Neural Engine layout blends its cache write with a
 * one-hot: ane-glib/model/ane-llama-ane.c, pass 7).
 *
 * Declined (the generic select runs): a or b a const or a param (a mask built
 * from -inf or -1e9, where 0 · inf would be NaN), integer or bool results.
 * A computed a or b that holds an infinity or a NaN where it is not selected
 * would spread it; activations and caches are finite.
 *
 * Tested by tests/test-lower-ane-profile.c (profile on vs off on the CPU
 * backend, fp32 and fp16; the program has no select).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mil/lower/ane-lower-private.h"

gboolean
ane_lower_ane_where (AneLowerCtx *ctx,
                     GError     **error)
{
  const AneSpec *out = &ctx->out_spec[0];
  AneSpec cs;
  g_auto(AneLowerNames) w = { NULL, };
  const char *cond, *a, *b, *m, *nm, *one, *x, *y;
  AneDType dt = ctx->compute;

  if (!ane_dtype_is_float (ctx->node->outputs[0].dtype) || ctx->in_spec[0]->dtype != ANE_DTYPE_BOOL ||
      ane_lower_input_is_const (ctx, 0) || ane_lower_input_is_const (ctx, 1) || ane_lower_input_is_const (ctx, 2) ||
      !ane_dtype_is_float (ctx->in_spec[1]->dtype) || !ane_dtype_is_float (ctx->in_spec[2]->dtype))
    return TRUE;   /* declined */
  if ((cond = ane_lower_input (ctx, 0, error)) == NULL || (a = ane_lower_input (ctx, 1, error)) == NULL ||
      (b = ane_lower_input (ctx, 2, error)) == NULL)
    return FALSE;
  cs = ane_lower_in_spec (ctx, 0);
  ane_lower_names_init (&w, ctx);
  m = ane_lower_emit_cast (&w, "mask", dt, cs.shape, cs.rank, cond);
  one = ane_lower_const_float (&w, "one", dt, 1.0);
  nm = ane_lower_emit_binary (&w, "sub", "mask_not", dt, cs.shape, cs.rank, one, m);
  {
    AneSpec as = ane_lower_in_spec (ctx, 1), bs = ane_lower_in_spec (ctx, 2);
    gint64 ta[ANE_MAX_RANK], tb[ANE_MAX_RANK];
    guint ra = MAX (as.rank, cs.rank), rb = MAX (bs.rank, cs.rank);

    /* the shapes of a·m and b·(1 - m): numpy broadcasts */
    for (guint i = 0; i < ra; i++)
      {
        gint64 da = i + as.rank >= ra ? as.shape[i + as.rank - ra] : 1;
        gint64 dc = i + cs.rank >= ra ? cs.shape[i + cs.rank - ra] : 1;

        ta[i] = da == 1 ? dc : da;
      }
    for (guint i = 0; i < rb; i++)
      {
        gint64 db = i + bs.rank >= rb ? bs.shape[i + bs.rank - rb] : 1;
        gint64 dc = i + cs.rank >= rb ? cs.shape[i + cs.rank - rb] : 1;

        tb[i] = db == 1 ? dc : db;
      }
    x = ane_lower_emit_binary (&w, "mul", "a_kept", dt, ta, ra, a, m);
    y = ane_lower_emit_binary (&w, "mul", "b_kept", dt, tb, rb, b, nm);
  }
  ctx->out[0] = ane_lower_emit_binary (&w, "add", NULL, dt, out->shape, out->rank, x, y);
  return TRUE;
}
