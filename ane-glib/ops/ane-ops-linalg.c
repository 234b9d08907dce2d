/* ops/ane-ops-linalg.c: matrix products, LoRA, mixture-of-experts and GGUF-weight matmuls
 *
 * References for the semantics:
 * - matmul: numpy.matmul
 *   (https://numpy.org/doc/stable/reference/generated/numpy.matmul.html):
 *   batched over the leading dims with broadcasting; a rank-1 first operand
 *   is promoted to a row [1,K], a rank-1 second operand to a column [K,1],
 *   and the added axis is removed from the result.
 * - lora_matmul: Hu et al., "LoRA: Low-Rank Adaptation of Large Language
 *   Models" (arXiv:2106.09685), eq. 3: h = W0 x + B A x, here row-vector form
 *   x.W + scale.(x.A).B.
 * - grouped_matmul: the per-token expert product of mixture-of-experts
 *   layers, as ggml_mul_mat_id in ggml (https://github.com/ggml-org/llama.cpp,
 *   ggml/include/ggml.h).
 * - dequant_*: GGUF block weights stored as rows of K (ggml's layout: a
 *   weight [N,K] is N rows of K elements, quantized along K), dequantized as
 *   ggml's dequantize_row_* (see ane-quant.c); dequant_matmul is
 *   ggml_mul_mat(weight, x), i.e. x . dequant(weight)^T.
 *
 * Every kernel computes in double with plain loops; the driver rounds the
 * result once to the output dtype.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ops/ane-ops.h"

/* --- matrix layouts ------------------------------------------------------ */

/* A matmul operand seen as a batch of matrices: batch dims, the (possibly
 * transposed) rows x cols of each matrix and the strides to walk them in a
 * C-ordered buffer. A rank-1 operand is a single row (left operand) or
 * column (right operand), as numpy.matmul promotes it. */
typedef struct {
  guint  batch_rank;
  gint64 batch[ANE_MAX_RANK];
  gint64 batch_stride[ANE_MAX_RANK];
  gint64 rows, cols;
  gint64 row_stride, col_stride;
} MatLayout;

static void
mat_layout (const gint64 *shape,
            guint         rank,
            gboolean      transpose,
            gboolean      is_left,
            MatLayout    *m)
{
  gint64 strides[ANE_MAX_RANK];

  memset (m, 0, sizeof *m);
  if (rank == 1)
    {
      /* Transposing a vector is a no-op; numpy promotes by position. */
      if (is_left)
        {
          m->rows = 1;
          m->cols = shape[0];
          m->col_stride = 1;
        }
      else
        {
          m->rows = shape[0];
          m->cols = 1;
          m->row_stride = 1;
        }
      return;
    }
  ane_shape_strides (shape, rank, strides);
  m->batch_rank = rank - 2;
  for (guint i = 0; i < rank - 2; i++)
    {
      m->batch[i] = shape[i];
      m->batch_stride[i] = strides[i];
    }
  m->rows = shape[rank - 2];
  m->cols = shape[rank - 1];
  m->row_stride = strides[rank - 2];
  m->col_stride = strides[rank - 1];
  if (transpose)
    {
      gint64 t;

      t = m->rows, m->rows = m->cols, m->cols = t;
      t = m->row_stride, m->row_stride = m->col_stride, m->col_stride = t;
    }
}

/* Offset of the matrix at the given output batch coordinates (broadcast:
 * right-aligned, a size-1 batch dim always reads index 0). */
static gsize
mat_base (const MatLayout *m,
          const gint64    *coords,
          guint            out_batch_rank)
{
  gsize offset = 0;

  for (guint i = 0; i < m->batch_rank; i++)
    {
      gint64 c = coords[out_batch_rank - m->batch_rank + i];

      offset += (gsize) ((m->batch[i] == 1 ? 0 : c) * m->batch_stride[i]);
    }
  return offset;
}

/* Product of all dims but the last: the number of rows of a [..., K] operand. */
static gsize
leading_rows (const gint64 *shape,
              guint         rank)
{
  gsize n = 1;

  for (guint i = 0; i + 1 < rank; i++)
    n *= (gsize) shape[i];
  return n;
}

/* out = x's shape with the last dim replaced by n, dtype of x. */
static void
set_rows_output (AneInferCtx   *ctx,
                 const AneSpec *x,
                 gint64         n)
{
  ctx->outputs[0] = *x;
  ctx->outputs[0].shape[x->rank - 1] = n;
}

/* --- shape rules --------------------------------------------------------- */

gboolean
ane_infer_matmul (AneInferCtx *ctx,
                  GError     **error)
{
  const AneSpec *a = ctx->inputs[0], *b = ctx->inputs[1];
  gboolean ta = ane_attrs_bool (ctx->attrs, "transpose_a");
  gboolean tb = ane_attrs_bool (ctx->attrs, "transpose_b");
  char ba[ANE_SPEC_STRLEN], bb[ANE_SPEC_STRLEN];
  MatLayout ma, mb;
  AneSpec *out = &ctx->outputs[0];
  guint batch_rank;

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_require_float (ctx, 1, error) ||
      !ane_infer_same_dtype (ctx, 0, 1, error) ||
      !ane_infer_require_rank (ctx, 0, 1, ANE_MAX_RANK, error) ||
      !ane_infer_require_rank (ctx, 1, 1, ANE_MAX_RANK, error))
    return FALSE;

  mat_layout (a->shape, a->rank, ta, TRUE, &ma);
  mat_layout (b->shape, b->rank, tb, FALSE, &mb);
  if (ma.cols != mb.rows)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "inputs 'a' %s%s and 'b' %s%s do not agree on the contracted dim "
                       "(%" G_GINT64_FORMAT " vs %" G_GINT64_FORMAT ")",
                       ane_spec_format (a, ba), ta && a->rank > 1 ? " (transposed)" : "",
                       ane_spec_format (b, bb), tb && b->rank > 1 ? " (transposed)" : "",
                       ma.cols, mb.rows);
      return FALSE;
    }

  /* Batch dims broadcast numpy-style. */
  batch_rank = MAX (ma.batch_rank, mb.batch_rank);
  memset (out, 0, sizeof *out);
  out->dtype = a->dtype;
  for (guint d = 0; d < batch_rank; d++)
    {
      gint64 da = d + ma.batch_rank >= batch_rank ? ma.batch[d + ma.batch_rank - batch_rank] : 1;
      gint64 db = d + mb.batch_rank >= batch_rank ? mb.batch[d + mb.batch_rank - batch_rank] : 1;

      if (da != db && da != 1 && db != 1)
        {
          ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                           "batch dims of inputs 'a' %s and 'b' %s do not broadcast",
                           ane_spec_format (a, ba), ane_spec_format (b, bb));
          return FALSE;
        }
      out->shape[d] = da == 1 ? db : da;
    }
  out->rank = batch_rank;
  if (a->rank > 1)
    out->shape[out->rank++] = ma.rows;
  if (b->rank > 1)
    out->shape[out->rank++] = mb.cols;
  return TRUE;
}

gboolean
ane_infer_lora_matmul (AneInferCtx *ctx,
                       GError     **error)
{
  const AneSpec *x = ctx->inputs[0], *w = ctx->inputs[1];
  const AneSpec *la = ctx->inputs[2], *lb = ctx->inputs[3];
  char bx[ANE_SPEC_STRLEN], bw[ANE_SPEC_STRLEN], b1[ANE_SPEC_STRLEN], b2[ANE_SPEC_STRLEN];
  gint64 k;

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_same_dtype (ctx, 0, 1, error) ||
      !ane_infer_same_dtype (ctx, 0, 2, error) ||
      !ane_infer_same_dtype (ctx, 0, 3, error) ||
      !ane_infer_require_rank (ctx, 0, 1, ANE_MAX_RANK, error) ||
      !ane_infer_require_rank (ctx, 1, 2, 2, error) ||
      !ane_infer_require_rank (ctx, 2, 2, 2, error) ||
      !ane_infer_require_rank (ctx, 3, 2, 2, error))
    return FALSE;

  k = x->shape[x->rank - 1];
  if (w->shape[0] != k)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'w' %s must be [K,N] with K = %" G_GINT64_FORMAT " (the last dim of 'x' %s)",
                       ane_spec_format (w, bw), k, ane_spec_format (x, bx));
      return FALSE;
    }
  if (la->shape[0] != k)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'lora_a' %s must be [K,r] with K = %" G_GINT64_FORMAT " (the last dim of 'x' %s)",
                       ane_spec_format (la, b1), k, ane_spec_format (x, bx));
      return FALSE;
    }
  if (lb->shape[0] != la->shape[1] || lb->shape[1] != w->shape[1])
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'lora_b' %s must be [r,N] = [%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
                       "] to match 'lora_a' %s and 'w' %s",
                       ane_spec_format (lb, b2), la->shape[1], w->shape[1],
                       ane_spec_format (la, b1), ane_spec_format (w, bw));
      return FALSE;
    }
  set_rows_output (ctx, x, w->shape[1]);
  return TRUE;
}

/* expert_ids: an integer tensor whose shape is x's without its last dim. */
static gboolean
check_expert_ids (AneInferCtx *ctx,
                  GError     **error)
{
  const AneSpec *x = ctx->inputs[0], *ids = ctx->inputs[2];
  char bx[ANE_SPEC_STRLEN], bi[ANE_SPEC_STRLEN];
  gboolean ok;

  if (!ane_infer_require_integer (ctx, 2, error))
    return FALSE;
  ok = ids->rank + 1 == x->rank;
  for (guint i = 0; ok && i < ids->rank; i++)
    ok = ids->shape[i] == x->shape[i];
  if (!ok)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'expert_ids' %s must have the shape of 'x' %s without its last dim",
                       ane_spec_format (ids, bi), ane_spec_format (x, bx));
      return FALSE;
    }
  return TRUE;
}

gboolean
ane_infer_grouped_matmul (AneInferCtx *ctx,
                          GError     **error)
{
  const AneSpec *x = ctx->inputs[0], *e = ctx->inputs[1];
  gboolean tb = ane_attrs_bool (ctx->attrs, "transpose_b");
  char bx[ANE_SPEC_STRLEN], be[ANE_SPEC_STRLEN];
  gint64 k;

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_same_dtype (ctx, 0, 1, error) ||
      !ane_infer_require_rank (ctx, 0, 1, ANE_MAX_RANK, error) ||
      !ane_infer_require_rank (ctx, 1, 3, 3, error) ||
      !check_expert_ids (ctx, error))
    return FALSE;

  k = x->shape[x->rank - 1];
  if (e->shape[tb ? 2 : 1] != k)
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'experts' %s must be %s with K = %" G_GINT64_FORMAT " (the last dim of 'x' %s)",
                       ane_spec_format (e, be), tb ? "[E,N,K] (transpose_b)" : "[E,K,N]", k,
                       ane_spec_format (x, bx));
      return FALSE;
    }
  set_rows_output (ctx, x, e->shape[tb ? 1 : 2]);
  return TRUE;
}

gboolean
ane_infer_dequant_matmul (AneInferCtx *ctx,
                          GError     **error)
{
  const AneSpec *x = ctx->inputs[0], *w = ctx->inputs[1];
  char bx[ANE_SPEC_STRLEN], bw[ANE_SPEC_STRLEN];

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_require_block (ctx, 1, error) ||
      !ane_infer_require_rank (ctx, 0, 1, ANE_MAX_RANK, error) ||
      !ane_infer_require_rank (ctx, 1, 2, 2, error))
    return FALSE;
  if (w->shape[1] != x->shape[x->rank - 1])
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'weight' %s must be [N,K] with K = %" G_GINT64_FORMAT " (the last dim of 'x' %s)",
                       ane_spec_format (w, bw), x->shape[x->rank - 1], ane_spec_format (x, bx));
      return FALSE;
    }
  set_rows_output (ctx, x, w->shape[0]);
  return TRUE;
}

gboolean
ane_infer_dequant_grouped_matmul (AneInferCtx *ctx,
                                  GError     **error)
{
  const AneSpec *x = ctx->inputs[0], *e = ctx->inputs[1];
  char bx[ANE_SPEC_STRLEN], be[ANE_SPEC_STRLEN];

  if (!ane_infer_require_float (ctx, 0, error) ||
      !ane_infer_require_block (ctx, 1, error) ||
      !ane_infer_require_rank (ctx, 0, 1, ANE_MAX_RANK, error) ||
      !ane_infer_require_rank (ctx, 1, 3, 3, error) ||
      !check_expert_ids (ctx, error))
    return FALSE;
  if (e->shape[2] != x->shape[x->rank - 1])
    {
      ane_infer_error (ctx, error, ANE_ERROR_SHAPE,
                       "input 'experts' %s must be [E,N,K] with K = %" G_GINT64_FORMAT " (the last dim of 'x' %s)",
                       ane_spec_format (e, be), x->shape[x->rank - 1], ane_spec_format (x, bx));
      return FALSE;
    }
  set_rows_output (ctx, x, e->shape[1]);
  return TRUE;
}

gboolean
ane_infer_dequant_moe_weights (AneInferCtx *ctx,
                               GError     **error)
{
  const char *name = ane_attrs_string (ctx->attrs, "dtype");
  AneDType dtype;

  if (!ane_infer_require_block (ctx, 0, error) ||
      !ane_infer_require_rank (ctx, 0, 2, ANE_MAX_RANK, error))
    return FALSE;
  if (!ane_dtype_from_string (name, &dtype))
    {
      ane_infer_error (ctx, error, ANE_ERROR_INVALID_ARGUMENT, "dtype '%s' is not a dtype name", name);
      return FALSE;
    }
  if (!ane_dtype_is_float (dtype))
    {
      ane_infer_error (ctx, error, ANE_ERROR_DTYPE,
                       "dtype must be float32, float16 or bfloat16, not '%s'", name);
      return FALSE;
    }
  ctx->outputs[0] = *ctx->inputs[0];
  ctx->outputs[0].dtype = dtype;
  return TRUE;
}

/* --- reference kernels --------------------------------------------------- */

gboolean
ane_ref_matmul (AneRefCtx *ctx,
                GError   **error)
{
  const AneRefValue *a = ctx->inputs[0], *b = ctx->inputs[1];
  AneRefValue *out = ctx->outputs[0];
  MatLayout ma, mb;
  guint batch_rank;
  gint64 batch[ANE_MAX_RANK], coords[ANE_MAX_RANK];
  gsize n_batch = 1;
  gint64 m, n, k;

  mat_layout (a->shape, a->rank, ane_attrs_bool (ctx->attrs, "transpose_a"), TRUE, &ma);
  mat_layout (b->shape, b->rank, ane_attrs_bool (ctx->attrs, "transpose_b"), FALSE, &mb);
  m = ma.rows;
  k = ma.cols;
  n = mb.cols;
  /* The output's leading dims are the broadcast batch dims; a missing M or
   * N (rank-1 operand) is a size-1 dim, so the C order is (batch, i, j). */
  batch_rank = MAX (ma.batch_rank, mb.batch_rank);
  for (guint d = 0; d < batch_rank; d++)
    {
      batch[d] = out->shape[d];
      n_batch *= (gsize) batch[d];
    }

  for (gsize bi = 0; bi < n_batch; bi++)
    {
      gsize base_a, base_b;

      ane_ref_unravel (bi, batch, batch_rank, coords);
      base_a = mat_base (&ma, coords, batch_rank);
      base_b = mat_base (&mb, coords, batch_rank);
      for (gint64 i = 0; i < m; i++)
        for (gint64 j = 0; j < n; j++)
          {
            double sum = 0.0;

            for (gint64 p = 0; p < k; p++)
              sum += a->v[base_a + i * ma.row_stride + p * ma.col_stride] *
                     b->v[base_b + p * mb.row_stride + j * mb.col_stride];
            out->v[(bi * m + i) * n + j] = sum;
          }
    }
  return TRUE;
}

gboolean
ane_ref_lora_matmul (AneRefCtx *ctx,
                     GError   **error)
{
  const AneRefValue *x = ctx->inputs[0], *w = ctx->inputs[1];
  const AneRefValue *la = ctx->inputs[2], *lb = ctx->inputs[3];
  AneRefValue *out = ctx->outputs[0];
  double scale = ane_attrs_double (ctx->attrs, "scale");
  gint64 k = w->shape[0], n = w->shape[1], r = la->shape[1];
  gsize rows = leading_rows (x->shape, x->rank);
  g_autofree double *xa = g_new (double, MAX (r, 1));

  for (gsize row = 0; row < rows; row++)
    {
      const double *xr = x->v + row * k;

      /* xa = x . lora_a */
      for (gint64 j = 0; j < r; j++)
        {
          double sum = 0.0;

          for (gint64 p = 0; p < k; p++)
            sum += xr[p] * la->v[p * r + j];
          xa[j] = sum;
        }
      /* y = x . w + scale * (xa . lora_b) */
      for (gint64 c = 0; c < n; c++)
        {
          double base = 0.0, low_rank = 0.0;

          for (gint64 p = 0; p < k; p++)
            base += xr[p] * w->v[p * n + c];
          for (gint64 j = 0; j < r; j++)
            low_rank += xa[j] * lb->v[j * n + c];
          out->v[row * n + c] = base + scale * low_rank;
        }
    }
  return TRUE;
}

/* y[row] = x[row] . W[ids[row]] for experts laid out [E,K,N], or [E,N,K]
 * when transposed (the GGUF layout). */
static gboolean
grouped_rows (AneRefCtx     *ctx,
              const double  *experts,
              gint64         n_experts,
              gint64         k,
              gint64         n,
              gboolean       transposed,
              GError       **error)
{
  const AneRefValue *x = ctx->inputs[0], *ids = ctx->inputs[2];
  AneRefValue *out = ctx->outputs[0];

  /* ids has x's shape without K: one id per row of x. */
  for (gsize row = 0; row < ids->n; row++)
    {
      double id = ids->v[row];
      const double *w;

      if (!(id >= 0 && id < (double) n_experts))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "expert_ids[%" G_GSIZE_FORMAT "] = %.0f is out of range [0, %" G_GINT64_FORMAT ")",
                       row, id, n_experts);
          return FALSE;
        }
      w = experts + (gsize) id * (gsize) (k * n);
      for (gint64 c = 0; c < n; c++)
        {
          double sum = 0.0;

          for (gint64 p = 0; p < k; p++)
            sum += x->v[row * k + p] * (transposed ? w[c * k + p] : w[p * n + c]);
          out->v[row * n + c] = sum;
        }
    }
  return TRUE;
}

gboolean
ane_ref_grouped_matmul (AneRefCtx *ctx,
                        GError   **error)
{
  const AneRefValue *e = ctx->inputs[1];
  gboolean tb = ane_attrs_bool (ctx->attrs, "transpose_b");

  return grouped_rows (ctx, e->v, e->shape[0], tb ? e->shape[2] : e->shape[1],
                       tb ? e->shape[1] : e->shape[2], tb, error);
}

/* The dequantized elements of a block-quantized value, or NULL with error. */
static double *
dequant_value (const AneRefValue *value,
               GError           **error)
{
  g_autofree double *out = NULL;
  const guint8 *data;
  gsize n_bytes;

  if (value->raw == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "the %s weight has no block data", ane_dtype_to_string (value->dtype));
      return NULL;
    }
  data = g_bytes_get_data (value->raw, &n_bytes);
  out = g_new (double, MAX (value->n, 1));
  if (!ane_dequant_blocks (value->dtype, data, n_bytes, value->n, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

gboolean
ane_ref_dequant_matmul (AneRefCtx *ctx,
                        GError   **error)
{
  const AneRefValue *x = ctx->inputs[0], *wq = ctx->inputs[1];
  AneRefValue *out = ctx->outputs[0];
  gint64 n = wq->shape[0], k = wq->shape[1];
  gsize rows = leading_rows (x->shape, x->rank);
  g_autofree double *w = dequant_value (wq, error);

  if (w == NULL)
    return FALSE;
  /* y[row, c] = sum_p x[row, p] * W[c, p]: x . W^T */
  for (gsize row = 0; row < rows; row++)
    for (gint64 c = 0; c < n; c++)
      {
        double sum = 0.0;

        for (gint64 p = 0; p < k; p++)
          sum += x->v[row * k + p] * w[c * k + p];
        out->v[row * n + c] = sum;
      }
  return TRUE;
}

gboolean
ane_ref_dequant_grouped_matmul (AneRefCtx *ctx,
                                GError   **error)
{
  const AneRefValue *e = ctx->inputs[1];
  g_autofree double *w = dequant_value (e, error);

  if (w == NULL)
    return FALSE;
  return grouped_rows (ctx, w, e->shape[0], e->shape[2], e->shape[1], TRUE, error);
}

gboolean
ane_ref_dequant_moe_weights (AneRefCtx *ctx,
                             GError   **error)
{
  g_autofree double *w = dequant_value (ctx->inputs[0], error);

  if (w == NULL)
    return FALSE;
  memcpy (ctx->outputs[0]->v, w, ctx->outputs[0]->n * sizeof (double));
  return TRUE;
}

/* --- builder methods ----------------------------------------------------- */

/**
 * ane_graph_matmul:
 * @self: a graph
 * @a: the left operand `[..., M, K]` (or `[K]`), a float tensor
 * @b: the right operand `[..., K, N]` (or `[K]`), same dtype as @a
 * @transpose_a: swap the last two axes of @a first (ignored for rank 1)
 * @transpose_b: swap the last two axes of @b first (ignored for rank 1)
 * @error: return location for a #GError
 *
 * Matrix product with numpy.matmul semantics: the leading (batch) dims
 * broadcast; a rank-1 @a is treated as a row `[1, K]` and a rank-1 @b as a
 * column `[K, 1]`, and that added axis is removed from the result.
 *
 * Returns: (transfer full): the product `[..., M, N]`
 */
AneTensor *
ane_graph_matmul (AneGraph   *self,
                  AneTensor  *a,
                  AneTensor  *b,
                  gboolean    transpose_a,
                  gboolean    transpose_b,
                  GError    **error)
{
  AneTensor *inputs[2] = { a, b };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (a) && ANE_IS_TENSOR (b), NULL);
  return ane_graph_add_node (self, ANE_OP_MATMUL, inputs, 2,
                             ane_attrs_new ("transpose_a", g_variant_new_boolean (transpose_a),
                                            "transpose_b", g_variant_new_boolean (transpose_b),
                                            NULL),
                             NULL, error);
}

/**
 * ane_graph_lora_matmul:
 * @self: a graph
 * @x: the activations `[..., K]`, a float tensor
 * @w: the base weight `[K, N]`, same dtype as @x
 * @lora_a: the LoRA down projection `[K, r]`, same dtype as @x
 * @lora_b: the LoRA up projection `[r, N]`, same dtype as @x
 * @scale: the LoRA scaling (usually alpha / r)
 * @error: return location for a #GError
 *
 * A linear layer with a low-rank adapter (LoRA, Hu et al. 2021):
 * `x·w + scale·((x·lora_a)·lora_b)`.
 *
 * Returns: (transfer full): the result `[..., N]`
 */
AneTensor *
ane_graph_lora_matmul (AneGraph   *self,
                       AneTensor  *x,
                       AneTensor  *w,
                       AneTensor  *lora_a,
                       AneTensor  *lora_b,
                       double      scale,
                       GError    **error)
{
  AneTensor *inputs[4] = { x, w, lora_a, lora_b };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x) && ANE_IS_TENSOR (w), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (lora_a) && ANE_IS_TENSOR (lora_b), NULL);
  return ane_graph_add_node (self, ANE_OP_LORA_MATMUL, inputs, 4,
                             ane_attrs_new ("scale", g_variant_new_double (scale), NULL),
                             NULL, error);
}

/**
 * ane_graph_grouped_matmul:
 * @self: a graph
 * @x: the activations `[..., K]`, a float tensor
 * @experts: the expert weights `[E, K, N]` (`[E, N, K]` with @transpose_b), same dtype as @x
 * @expert_ids: an integer tensor with the shape of @x without its last dim:
 *   the expert each row of @x goes through
 * @transpose_b: the experts are stored `[E, N, K]`
 * @error: return location for a #GError
 *
 * Mixture-of-experts product `y[i] = x[i] · experts[expert_ids[i]]` for every
 * row i of @x (as ggml_mul_mat_id). An id outside `[0, E)` makes the run fail.
 *
 * Returns: (transfer full): the result `[..., N]`
 */
AneTensor *
ane_graph_grouped_matmul (AneGraph   *self,
                          AneTensor  *x,
                          AneTensor  *experts,
                          AneTensor  *expert_ids,
                          gboolean    transpose_b,
                          GError    **error)
{
  AneTensor *inputs[3] = { x, experts, expert_ids };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x) && ANE_IS_TENSOR (experts), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (expert_ids), NULL);
  return ane_graph_add_node (self, ANE_OP_GROUPED_MATMUL, inputs, 3,
                             ane_attrs_new ("transpose_b", g_variant_new_boolean (transpose_b), NULL),
                             NULL, error);
}

/**
 * ane_graph_dequant_matmul:
 * @self: a graph
 * @x: the activations `[..., K]`, a float tensor
 * @weight: a GGUF block-quantized weight `[N, K]` (rows of K, quantized along K)
 * @error: return location for a #GError
 *
 * `x · dequant(weight)ᵀ`, ggml's `ggml_mul_mat(weight, x)`; the blocks are
 * dequantized exactly as ggml's `dequantize_row_*`.
 *
 * Returns: (transfer full): the result `[..., N]`, dtype of @x
 */
AneTensor *
ane_graph_dequant_matmul (AneGraph   *self,
                          AneTensor  *x,
                          AneTensor  *weight,
                          GError    **error)
{
  AneTensor *inputs[2] = { x, weight };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x) && ANE_IS_TENSOR (weight), NULL);
  return ane_graph_add_node (self, ANE_OP_DEQUANT_MATMUL, inputs, 2, NULL, NULL, error);
}

/**
 * ane_graph_dequant_grouped_matmul:
 * @self: a graph
 * @x: the activations `[..., K]`, a float tensor
 * @experts: GGUF block-quantized expert weights `[E, N, K]`
 * @expert_ids: an integer tensor with the shape of @x without its last dim
 * @error: return location for a #GError
 *
 * Mixture-of-experts product over quantized experts:
 * `y[i] = x[i] · dequant(experts[expert_ids[i]])ᵀ`, i.e.
 * [method@Ane.Graph.grouped_matmul] with `transpose_b` on the dequantized
 * experts. An id outside `[0, E)` makes the run fail.
 *
 * Returns: (transfer full): the result `[..., N]`, dtype of @x
 */
AneTensor *
ane_graph_dequant_grouped_matmul (AneGraph   *self,
                                  AneTensor  *x,
                                  AneTensor  *experts,
                                  AneTensor  *expert_ids,
                                  GError    **error)
{
  AneTensor *inputs[3] = { x, experts, expert_ids };

  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (x) && ANE_IS_TENSOR (experts), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (expert_ids), NULL);
  return ane_graph_add_node (self, ANE_OP_DEQUANT_GROUPED_MATMUL, inputs, 3, NULL, NULL, error);
}

/**
 * ane_graph_dequant_moe_weights:
 * @self: a graph
 * @experts: GGUF block-quantized weights, rank 2 or more (typically `[E, N, K]`)
 * @dtype: the float dtype of the result
 * @error: return location for a #GError
 *
 * The dense dequantized weights (as ggml's `dequantize_row_*`), rounded to
 * @dtype; same shape as @experts.
 *
 * Returns: (transfer full): the dense weights
 */
AneTensor *
ane_graph_dequant_moe_weights (AneGraph   *self,
                               AneTensor  *experts,
                               AneDType    dtype,
                               GError    **error)
{
  g_return_val_if_fail (ANE_IS_GRAPH (self), NULL);
  g_return_val_if_fail (ANE_IS_TENSOR (experts), NULL);
  g_return_val_if_fail ((guint) dtype < ANE_N_DTYPES, NULL);
  /* A non-float dtype is reported by the shape rule as a GError. */
  return ane_graph_add_node (self, ANE_OP_DEQUANT_MOE_WEIGHTS, &experts, 1,
                             ane_attrs_new ("dtype", g_variant_new_string (ane_dtype_to_string (dtype)),
                                            NULL),
                             NULL, error);
}
