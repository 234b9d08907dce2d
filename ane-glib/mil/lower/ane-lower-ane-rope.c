/* mil/lower/ane-lower-ane-rope.c: the Neural Engine profile's rotary
 * embeddings, their tables computed once
 *
 * The rewrite. Every rope op of a graph lowers its cos/sin tables from the
 * positions input (ane-lower-attention.c, ane_lower_rope: reshape, cast to
 * fp32, times the inverse frequencies, cos, sin, cast back): a transformer's
 * 2 ropes per layer compute the same tables 2·L times. Under the profile the
 * tables of one positions input, theta, n_rot and length are computed by the
 * first rope and reused by the others; the rotation itself is unchanged.
 *
 * Why. The tables are computed from an integer input in fp32, which the
 * Neural Engine cannot (lint rules int-compute and fp32-compute; fp16 angles
 * are useless beyond a few hundred positions, see ane_lower_rope): each
 * rope's five table ops fall back to the CPU or GPU, and each fallback
 * splits the program into another device segment (apple/ml-ane-transformers
 * README.md:89: Apple's own ANE DistilBERT keeps only its 4 embedding ops
 * off the Neural Engine). Computing them once keeps one segment. The
 * generic rope op uses no gather (tables from positions arithmetically), so
 * "RoPE without gathers" holds for both lowerings; taking cos/sin from the
 * host, as the LLaMA builder's Neural Engine layout does
 * (ane-glib/model/ane-llama-ane.c, pass 4), changes the program's interface
 * and is left to the model builders.
 *
 * Tested by tests/test-lower-ane-profile.c (stories260K's decode step, profile
 * on vs off on the CPU backend, fp32 and fp16; its cos ops counted).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mil/lower/ane-lower-private.h"

static char *
table_key (AneLowerCtx *ctx,
           const char  *which,
           double       theta,
           gint64       n_rot,
           guint        tab_rank)
{
  AneValueRef pos = ctx->node->inputs[1];

  return g_strdup_printf ("rope/%s/%u.%u/%.17g/%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT "/%u", which, pos.node,
                          pos.index, theta, n_rot, ctx->out_spec[0].shape[2], tab_rank);
}

gboolean
ane_lower_ane_rope_tables (AneLowerCtx  *ctx,
                           double        theta,
                           gint64        n_rot,
                           guint         tab_rank,
                           const char  **cos_t,
                           const char  **sin_t)
{
  GHashTable *shared = ane_lower_shared_values (ctx);
  g_autofree char *ck = NULL, *sk = NULL;

  if (ctx->profile != ANE_LOWER_PROFILE_NEURAL_ENGINE || shared == NULL)
    return FALSE;
  ck = table_key (ctx, "cos", theta, n_rot, tab_rank);
  sk = table_key (ctx, "sin", theta, n_rot, tab_rank);
  *cos_t = g_hash_table_lookup (shared, ck);
  *sin_t = g_hash_table_lookup (shared, sk);
  return *cos_t != NULL && *sin_t != NULL;
}

void
ane_lower_ane_rope_keep_tables (AneLowerCtx *ctx,
                                double       theta,
                                gint64       n_rot,
                                guint        tab_rank,
                                const char  *cos_t,
                                const char  *sin_t)
{
  GHashTable *shared = ane_lower_shared_values (ctx);

  if (ctx->profile != ANE_LOWER_PROFILE_NEURAL_ENGINE || shared == NULL)
    return;
  /* the names are the builder's, alive as long as the program */
  g_hash_table_insert (shared, table_key (ctx, "cos", theta, n_rot, tab_rank), (gpointer) cos_t);
  g_hash_table_insert (shared, table_key (ctx, "sin", theta, n_rot, tab_rank), (gpointer) sin_t);
}
