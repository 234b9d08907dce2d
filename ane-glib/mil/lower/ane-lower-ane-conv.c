/* mil/lower/ane-lower-ane-conv.c: the Neural Engine profile's linear layers,
 * a matmul by a constant 2-D weight as a 1×1 conv
 *
 * The rewrite. y = x · W, x [..., S, K] computed, W a const or a
 * non-dynamic param [K, N] (or [N, K] with transpose_b), becomes
 *   conv (x as [B, K, 1, S], weight [N, K, 1, 1]) -> [B, N, 1, S]
 * with x taken in the Neural Engine's layout (ane-lower-ane-layout.c: a view
 * when its producer left one, else reshaped and transposed once) and the
 * result left in that layout for the next op.
 *
 * Why. Apple writes its Neural Engine transformers' linear layers so
 * (apple/ml-ane-transformers ane_transformers/reference/multihead_attention.py:50-53,
 * nn.Conv2d(embed_dim, ..., 1) on (B, C, 1, S)); a linear or a matmul by a
 * constant "may be decomposed into slower ops" (maderix/ANE
 * docs/ANE_INTERNALS.md:176; the lint's rule linear-not-conv,
 * ane-glib/lint/ane-lint-rules.c).
 *
 * The weight. An [N, K] weight (transpose_b, the layout of llama2.c, GGUF and
 * PyTorch's nn.Linear) has the bytes of the [N, K, 1, 1] kernel: stored once in
 * that shape, or, when another op already put the weight in the program (a
 * tied embedding), a reshape of that const (a const expression Core ML folds;
 * no second copy in weight.bin). A [K, N] weight is transposed on the host when
 * its value is known, else by a transpose of the const in the program.
 *
 * Declined (the generic matmul runs): transpose_a, a weight of another rank,
 * a weight computed at run time. The Neural Engine bakes conv weights in at
 * compile time; a conv with a run-time weight falls back (lint rule
 * conv-dynamic-weight: maderix/ANE docs/ANE_INTERNALS.md:214, "matmul takes
 * run-time inputs"), so attention's q·kᵀ and a dynamic-weight matmul stay
 * matmuls.
 *
 * Tested by tests/test-lower-ane-profile.c: outputs equal the generic
 * lowering's on the CPU backend (fp32, fp16); the program has conv and no
 * matmul; weight.bin is no larger.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-tensor-private.h"
#include "mil/lower/ane-lower-private.h"

/* [K, N] -> [N, K, 1, 1] on the host. */
static AneTensor *
transposed_kernel (AneTensor    *w,
                   const char   *name,
                   const gint64 *kernel,
                   GError      **error)
{
  AneSpec spec;
  GBytes *data = ane_tensor_get_data (w);
  const guint8 *src = g_bytes_get_data (data, NULL);
  gsize es;
  guint8 *dst;
  gint64 k, n;

  ane_tensor_get_spec (w, &spec);
  es = ane_dtype_size (spec.dtype);
  k = spec.shape[0], n = spec.shape[1];
  dst = g_malloc (MAX ((gsize) (k * n) * es, 1));
  for (gint64 i = 0; i < k; i++)
    for (gint64 j = 0; j < n; j++)
      memcpy (dst + ((gsize) (j * k + i)) * es, src + ((gsize) (i * n + j)) * es, es);
  {
    g_autoptr(GBytes) bytes = g_bytes_new_take (dst, (gsize) (k * n) * es);

    return ane_tensor_new_from_bytes (name, spec.dtype, kernel, 4, bytes, error);
  }
}

/* The conv kernel [N, K, 1, 1] of the weight in slot 1, or NULL with error. */
static const char *
kernel_of (AneLowerCtx  *ctx,
           gboolean      transpose_b,
           gint64        n,
           gint64        k,
           GError      **error)
{
  const AneNode *src = ctx->in_node[1];
  const AneSpec *ws = ctx->in_spec[1];
  AneTensor *value = ane_lower_source_value (ctx, src);
  const gint64 kernel[4] = { n, k, 1, 1 };
  g_autofree char *name = g_strdup_printf ("%s_kernel", src->name);
  g_autofree char *shape_name = g_strdup_printf ("%s_kernel_shape", src->name);
  g_autofree char *perm_name = g_strdup_printf ("%s_kernel_perm", src->name);
  g_autofree char *t_name = g_strdup_printf ("%s_kernel_t", src->name);
  const char *w = ctx->in[1];   /* set when another op already emitted the weight */

  if (w == NULL && transpose_b)
    {
      if (value == NULL)
        /* unbound: its bytes, [N, K], are fetched when the package is written */
        return ane_mil_const_param (ctx->b, name, src->name, ws->dtype, ctx->compute, kernel, 4);
      {
        g_autoptr(AneTensor) t = ane_tensor_new_from_bytes (src->name, ws->dtype, kernel, 4,
                                                            ane_tensor_get_data (value), error);

        return t != NULL ? ane_mil_const_tensor (ctx->b, name, t, ctx->compute) : NULL;
      }
    }
  if (w == NULL && value != NULL)
    {
      g_autoptr(AneTensor) t = transposed_kernel (value, src->name, kernel, error);

      return t != NULL ? ane_mil_const_tensor (ctx->b, name, t, ctx->compute) : NULL;
    }
  /* a const expression of the weight already in the program (or of an
   * unbound [K, N] param): Core ML folds it when the model is compiled */
  w = ane_lower_input (ctx, 1, error);
  if (w == NULL)
    return NULL;
  if (!transpose_b)
    {
      static const gint64 perm[2] = { 1, 0 };
      const gint64 nk[2] = { n, k };
      const char *perm_const = ane_mil_const_ints (ctx->b, perm_name, perm, 2);

      w = ane_mil_op (ctx->b, "transpose", t_name, ctx->compute, nk, 2, "x", w, "perm", perm_const, NULL);
    }
  {
    const char *shape_const = ane_mil_const_ints (ctx->b, shape_name, kernel, 4);

    return ane_mil_op (ctx->b, "reshape", name, ctx->compute, kernel, 4, "x", w, "shape", shape_const, NULL);
  }
}

gboolean
ane_lower_ane_matmul (AneLowerCtx *ctx,
                      GError     **error)
{
  static const gint64 ones[2] = { 1, 1 }, zeros[4] = { 0, 0, 0, 0 };
  gboolean transpose_a = ane_attrs_bool (ctx->node->attrs, "transpose_a");
  gboolean transpose_b = ane_attrs_bool (ctx->node->attrs, "transpose_b");
  const AneSpec *xs = ctx->in_spec[0], *ws = ctx->in_spec[1];
  const AneNode *wsrc = ctx->in_node[1];
  g_auto(AneLowerNames) names = { NULL, };
  AneLowerView in, out;
  const char *x, *kernel;
  AneMilOpCall *call;
  AneSpec cf;
  gint64 n, k;

  if (transpose_a || !ane_lower_input_is_const (ctx, 1) || ane_dtype_is_block (wsrc->outputs[0].dtype) ||
      ws->rank != 2 || !ane_lower_view_fits (xs) || !ane_dtype_is_float (ws->dtype))
    return TRUE;   /* declined */
  k = transpose_b ? ws->shape[1] : ws->shape[0];
  n = transpose_b ? ws->shape[0] : ws->shape[1];
  if (xs->shape[xs->rank - 1] != k)
    return TRUE;

  x = ane_lower_input_cf (ctx, 0, &in, error);
  if (x == NULL)
    return FALSE;
  kernel = kernel_of (ctx, transpose_b, n, k, error);
  if (kernel == NULL)
    return FALSE;

  ane_lower_names_init (&names, ctx);
  out = in;
  out.c = n;
  cf = (AneSpec) { .dtype = ctx->compute, .rank = 4, .shape = { out.b, n, 1, out.s } };
  call = ane_mil_op_begin (ctx->b, "conv", ane_lower_names_hint (&names, NULL));
  ane_mil_op_arg (call, "x", x);
  ane_mil_op_arg (call, "weight", kernel);
  ane_mil_op_arg (call, "strides", ane_lower_const_ints (&names, "strides", ones, 2));
  ane_mil_op_arg (call, "pad_type", ane_lower_const_string (&names, "pad_type", "valid"));
  ane_mil_op_arg (call, "pad", ane_lower_const_ints (&names, "pad", zeros, 4));
  ane_mil_op_arg (call, "dilations", ane_lower_const_ints (&names, "dilations", ones, 2));
  ane_mil_op_arg (call, "groups", ane_lower_const_int (&names, "groups", 1));
  out.cf = ane_mil_op_output (call, cf.dtype, cf.shape, cf.rank);
  ane_mil_op_end (call);
  out.graph_form = NULL;
  ctx->out_view[0] = out;
  return TRUE;
}
