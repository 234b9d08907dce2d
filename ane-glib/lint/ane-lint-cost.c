/* lint/ane-lint-cost.c: an op's estimated cost, for the share of a program
 * that stays on the Neural Engine
 *
 * Floating-point operations for arithmetic, a multiply-add counting two (the
 * convention of FLOP counts in papers and of Core ML's performance reports);
 * one per element produced for everything else (elementwise math and data
 * movement alike), so a program of copies still has a share to report. An
 * unknown (flexible) dimension counts as 1: the estimate is a lower bound.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "lint/ane-lint-private.h"

static double
elements (const AneMilVal *val)
{
  double n = 1;

  if (val == NULL || val->kind == ANE_MIL_VAL_OTHER)
    return 0;
  for (guint i = 0; i < val->rank; i++)
    n *= val->shape[i] > 0 ? (double) val->shape[i] : 1.0;
  return n;
}

static double
dim (const AneMilVal *val,
     int              axis)
{
  int a;

  if (val == NULL || val->kind == ANE_MIL_VAL_OTHER || val->rank == 0)
    return 1;
  a = axis < 0 ? (int) val->rank + axis : axis;
  if (a < 0 || a >= (int) val->rank || val->shape[a] <= 0)
    return 1;
  return (double) val->shape[a];
}

static double
outputs_elements (const AneLintSite *site)
{
  double n = 0;

  for (guint i = 0; i < site->outputs->len; i++)
    n += elements (g_ptr_array_index (site->outputs, i));
  return n;
}

double
ane_lint_op_cost (const AneLintSite *site)
{
  const char *t = site->type;
  const AneMilVal *out = site->outputs->len > 0 ? g_ptr_array_index (site->outputs, 0) : NULL;
  const AneMilVal *x = ane_lint_site_arg (site, "x");

  if (strcmp (t, "conv") == 0)
    {
      /* each output element: Cin/groups x kernel taps multiply-adds; the
       * weight [Cout, Cin/groups, k...] holds Cout of those */
      const AneMilVal *w = ane_lint_site_arg (site, "weight");

      return 2 * elements (out) * (elements (w) / dim (w, 0));
    }
  if (strcmp (t, "conv_transpose") == 0)
    {
      /* each input element is spread over Cout/groups x kernel taps */
      const AneMilVal *w = ane_lint_site_arg (site, "weight");

      return 2 * elements (x) * (elements (w) / dim (w, 0));
    }
  if (strcmp (t, "linear") == 0)
    return 2 * elements (out) * dim (x, -1);
  if (strcmp (t, "matmul") == 0)
    {
      gboolean tx = FALSE;

      if (site->call != NULL)
        ane_mil_infer_bool (site->call, "transpose_x", FALSE, &tx);
      return 2 * elements (out) * dim (x, tx ? -2 : -1);
    }
  if (strcmp (t, "scaled_dot_product_attention") == 0)
    {
      /* Q K^T and the weighted sum of V, plus the softmax over [.., L, S] */
      const AneMilVal *k = ane_lint_site_arg (site, "key");
      double scores = elements (out) / dim (out, -1) * dim (k, -2);

      return 2 * scores * dim (ane_lint_site_arg (site, "query"), -1) + 2 * scores * dim (out, -1) + 5 * scores;
    }
  if (strcmp (t, "softmax") == 0 || strcmp (t, "layer_norm") == 0 || strcmp (t, "instance_norm") == 0 ||
      strcmp (t, "batch_norm") == 0 || strcmp (t, "l2_norm") == 0 || strcmp (t, "local_response_norm") == 0)
    return 5 * elements (out);
  if (g_str_has_prefix (t, "reduce_") || strcmp (t, "reduce_argmax") == 0 || strcmp (t, "topk") == 0 ||
      strcmp (t, "cumsum") == 0)
    return elements (x) > 0 ? elements (x) : outputs_elements (site);
  if (strcmp (t, "max_pool") == 0 || strcmp (t, "avg_pool") == 0 || strcmp (t, "l2_pool") == 0)
    {
      gint64 *k = NULL;
      gsize n = 0;
      double taps = 1;

      if (site->call != NULL && ane_mil_infer_ints (site->call, "kernel_sizes", &k, &n))
        for (gsize i = 0; i < n; i++)
          taps *= k[i] > 0 ? (double) k[i] : 1.0;
      return elements (out) * taps;
    }
  return outputs_elements (site);
}
