/* test-lower-linalg.c: lowering of matmul, lora_matmul, grouped_matmul and the GGUF-weight ops
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-lower-test-util.h"

/* --- helpers ----------------------------------------------------------------- */

static void
assert_transposes (AneMilProgram   *p,
                   AneMilOperation *mm,
                   gboolean         tx,
                   gboolean         ty)
{
  ane_test_assert_const_bool (p, ane_test_op_arg (mm, "transpose_x"), tx);
  ane_test_assert_const_bool (p, ane_test_op_arg (mm, "transpose_y"), ty);
}

/* The value an op reads for param, seen through the interface casts of an
 * fp16 program (cast(x) -> the function input x). */
static const char *
source_of (AneMilProgram   *p,
           AneMilOperation *op,
           const char      *param)
{
  const char *v = ane_test_op_arg (op, param);
  AneMilOperation *prod = ane_test_producer (p, v);

  if (prod != NULL && g_str_equal (prod->type, "cast"))
    return ane_test_op_arg (prod, "x");
  return v;
}

static AneMilProgram *
lower_with_blobs (AneGraph     *g,
                  AneMilTarget  target,
                  AneDType      precision,
                  GPtrArray   **blobs)
{
  g_autoptr(GError) error = NULL;
  guint64 size;
  AneMilProgram *p = ane_lower_graph (g, target, precision, blobs, &size, &error);

  g_assert_no_error (error);
  g_assert_nonnull (p);
  ane_test_assert_program_checks (p);
  return p;
}

/* The weight const feeding param, stored as a blob dequantized from
 * block_dtype to the compute dtype when the package is written. */
static void
assert_block_weight (AneMilProgram   *p,
                     GPtrArray       *blobs,
                     const char      *weight_value,
                     const char      *param,
                     AneDType         block_dtype,
                     AneDType         compute,
                     const gint64    *shape,
                     guint            rank)
{
  AneMilOperation *c = ane_test_producer (p, weight_value);
  AneMilPendingBlob *blob = NULL;
  gint64 n = 1;

  g_assert_nonnull (c);
  g_assert_cmpstr (c->type, ==, "const");
  ane_test_assert_output (c, 0, compute, shape, rank);
  for (gsize i = 0; i < c->n_attributes; i++)
    if (g_str_equal (c->attributes[i]->key, "val"))
      g_assert_cmpint (c->attributes[i]->value->value_case, ==,
                       CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE);
  for (guint i = 0; i < blobs->len; i++)
    {
      AneMilPendingBlob *bl = g_ptr_array_index (blobs, i);

      if (bl->source == ANE_MIL_BLOB_FROM_PARAM && g_str_equal (bl->param, param))
        blob = bl;
    }
  g_assert_nonnull (blob);
  for (guint i = 0; i < rank; i++)
    n *= shape[i];
  g_assert_cmpint (blob->src_dtype, ==, block_dtype);
  g_assert_cmpint (blob->dst_dtype, ==, compute);
  g_assert_cmpint (blob->n_elements, ==, n);
}

static AneTensor *
block_param (AneGraph     *g,
             const char   *name,
             AneDType      dtype,
             const gint64 *shape,
             guint         rank)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) value = ane_tensor_new_zeros (name, dtype, shape, rank, &error);
  AneTensor *t;

  g_assert_no_error (error);
  t = ane_graph_param_with_value (g, value, &error);
  g_assert_no_error (error);
  return t;
}

static const AneDType precisions[] = { ANE_DTYPE_FLOAT32, ANE_DTYPE_FLOAT16 };

/* --- matmul ------------------------------------------------------------------ */

typedef struct {
  const char *path;
  gint64      a[ANE_MAX_RANK];
  guint       a_rank;
  gint64      b[ANE_MAX_RANK];
  guint       b_rank;
  gboolean    ta, tb;
  /* expected */
  const char *seq;          /* fp32 program */
  gint64      mm[ANE_MAX_RANK];   /* MIL matmul output */
  guint       mm_rank;
  gboolean    mm_tx, mm_ty;
  gint64      a_axis, b_axis;     /* expand_dims axes, -1 when none */
  gint64      squeeze[2];
  guint       n_squeeze;
  gint64      out[ANE_MAX_RANK];
  guint       out_rank;
} MatmulCase;

static const MatmulCase matmul_cases[] = {
  { "/ane/lower/linalg/matmul/plain", { 2, 3 }, 2, { 3, 4 }, 2, FALSE, FALSE,
    "matmul,identity", { 2, 4 }, 2, FALSE, FALSE, -1, -1, { 0 }, 0, { 2, 4 }, 2 },
  { "/ane/lower/linalg/matmul/transpose-a", { 3, 2 }, 2, { 3, 4 }, 2, TRUE, FALSE,
    "matmul,identity", { 2, 4 }, 2, TRUE, FALSE, -1, -1, { 0 }, 0, { 2, 4 }, 2 },
  { "/ane/lower/linalg/matmul/transpose-b", { 2, 3 }, 2, { 4, 3 }, 2, FALSE, TRUE,
    "matmul,identity", { 2, 4 }, 2, FALSE, TRUE, -1, -1, { 0 }, 0, { 2, 4 }, 2 },
  { "/ane/lower/linalg/matmul/transpose-both", { 5, 3, 2 }, 3, { 5, 4, 3 }, 3, TRUE, TRUE,
    "matmul,identity", { 5, 2, 4 }, 3, TRUE, TRUE, -1, -1, { 0 }, 0, { 5, 2, 4 }, 3 },
  /* numpy promotion: a [K] -> [1,K], the row squeezed from [2,1,4] */
  { "/ane/lower/linalg/matmul/rank1-a", { 3 }, 1, { 2, 3, 4 }, 3, FALSE, FALSE,
    "expand_dims,matmul,squeeze,identity", { 2, 1, 4 }, 3, FALSE, FALSE, 0, -1, { 1 }, 1, { 2, 4 }, 2 },
  /* transposing a vector is a no-op: transpose_a is dropped */
  { "/ane/lower/linalg/matmul/rank1-a-transposed", { 3 }, 1, { 4, 3 }, 2, TRUE, TRUE,
    "expand_dims,matmul,squeeze,identity", { 1, 4 }, 2, FALSE, TRUE, 0, -1, { 0 }, 1, { 4 }, 1 },
  /* b [K] -> [K,1], the column squeezed from [2,5,1]; transpose_b ignored */
  { "/ane/lower/linalg/matmul/rank1-b", { 2, 5, 3 }, 3, { 3 }, 1, FALSE, TRUE,
    "expand_dims,matmul,squeeze,identity", { 2, 5, 1 }, 3, FALSE, FALSE, -1, 1, { 2 }, 1, { 2, 5 }, 2 },
  { "/ane/lower/linalg/matmul/rank1-b-transpose-a", { 3, 5 }, 2, { 3 }, 1, TRUE, FALSE,
    "expand_dims,matmul,squeeze,identity", { 5, 1 }, 2, TRUE, FALSE, -1, 1, { 1 }, 1, { 5 }, 1 },
  /* dot product: [1,K]·[K,1] = [1,1] squeezed to a scalar */
  { "/ane/lower/linalg/matmul/rank1-both", { 3 }, 1, { 3 }, 1, FALSE, FALSE,
    "expand_dims,expand_dims,matmul,squeeze,identity", { 1, 1 }, 2, FALSE, FALSE, 0, 1, { 0, 1 }, 2, { 0 }, 0 },
  /* batch dims broadcast across ranks, as MIL matmul does */
  { "/ane/lower/linalg/matmul/batch-broadcast", { 2, 1, 4, 3 }, 4, { 5, 3, 6 }, 3, FALSE, FALSE,
    "matmul,identity", { 2, 5, 4, 6 }, 4, FALSE, FALSE, -1, -1, { 0 }, 0, { 2, 5, 4, 6 }, 4 },
  { "/ane/lower/linalg/matmul/batch-broadcast-2d-a", { 4, 3 }, 2, { 2, 3, 3, 6 }, 4, FALSE, FALSE,
    "matmul,identity", { 2, 3, 4, 6 }, 4, FALSE, FALSE, -1, -1, { 0 }, 0, { 2, 3, 4, 6 }, 4 },
  { "/ane/lower/linalg/matmul/batch-broadcast-rank1-a", { 3 }, 1, { 2, 1, 3, 6 }, 4, FALSE, FALSE,
    "expand_dims,matmul,squeeze,identity", { 2, 1, 1, 6 }, 4, FALSE, FALSE, 0, -1, { 2 }, 1, { 2, 1, 6 }, 3 },
};

static void
test_matmul (gconstpointer data)
{
  const MatmulCase *c = data;

  for (guint pi = 0; pi < G_N_ELEMENTS (precisions); pi++)
    {
      AneDType prec = precisions[pi];
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) a = ane_graph_input (g, "a", ANE_DTYPE_FLOAT32, c->a, c->a_rank, &error);
      g_autoptr(AneTensor) b = ane_graph_input (g, "b", ANE_DTYPE_FLOAT32, c->b, c->b_rank, &error);
      g_autoptr(AneTensor) y = ane_graph_matmul (g, a, b, c->ta, c->tb, &error);
      g_autoptr(AneMilProgram) p = NULL;
      AneMilOperation *mm, *last;
      const char *xa, *ya;

      g_assert_no_error (error);
      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      p = ane_test_lower (g, prec == ANE_DTYPE_FLOAT32 ? ANE_MIL_IOS15 : ANE_MIL_IOS17, prec);

      if (prec == ANE_DTYPE_FLOAT32)
        ane_test_assert_seq (p, c->seq);
      else
        {
          /* fp16: casts at the interface only */
          g_autofree char *expected = g_strdup (c->seq);
          g_autofree char *with_casts = NULL;

          *strrchr (expected, ',') = '\0';
          with_casts = g_strdup_printf ("cast,cast,%s,cast", expected);
          ane_test_assert_seq (p, with_casts);
        }
      g_assert_cmpuint (ane_test_count_ops (p, "matmul"), ==, 1);
      mm = ane_test_find_op (p, "matmul", 0);
      ane_test_assert_output (mm, 0, prec, c->mm, c->mm_rank);
      assert_transposes (p, mm, c->mm_tx, c->mm_ty);

      xa = source_of (p, mm, "x");
      ya = source_of (p, mm, "y");
      if (c->a_axis >= 0)
        {
          AneMilOperation *e = ane_test_producer (p, xa);
          gint64 shape[2] = { 1, c->a[0] };

          g_assert_cmpstr (e->type, ==, "expand_dims");
          g_assert_cmpstr (source_of (p, e, "x"), ==, "a");
          ane_test_assert_const_ints (p, ane_test_op_arg (e, "axes"), &c->a_axis, 1);
          ane_test_assert_output (e, 0, prec, shape, 2);
        }
      else
        g_assert_cmpstr (xa, ==, "a");
      if (c->b_axis >= 0)
        {
          AneMilOperation *e = ane_test_producer (p, ya);
          gint64 shape[2] = { c->b[0], 1 };

          g_assert_cmpstr (e->type, ==, "expand_dims");
          g_assert_cmpstr (source_of (p, e, "x"), ==, "b");
          ane_test_assert_const_ints (p, ane_test_op_arg (e, "axes"), &c->b_axis, 1);
          ane_test_assert_output (e, 0, prec, shape, 2);
        }
      else
        g_assert_cmpstr (ya, ==, "b");

      if (c->n_squeeze > 0)
        {
          last = ane_test_find_op (p, "squeeze", 0);
          g_assert_cmpstr (ane_test_op_arg (last, "x"), ==, mm->outputs[0]->name);
          ane_test_assert_const_ints (p, ane_test_op_arg (last, "axes"), c->squeeze, c->n_squeeze);
          ane_test_assert_output (last, 0, prec, c->out, c->out_rank);
        }
      else
        last = mm;
      /* the node's value is the last op, named after the node */
      g_assert_true (g_str_has_prefix (last->outputs[0]->name, "matmul"));
    }
}

/* --- lora_matmul ------------------------------------------------------------- */

static void
lora_check (double       scale,
            const gint64 *x_shape,
            guint        x_rank,
            AneDType     prec,
            const char  *expected_seq)
{
  static const gint64 w_shape[] = { 8, 6 }, la_shape[] = { 8, 2 }, lb_shape[] = { 2, 6 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, x_shape, x_rank, &error);
  g_autoptr(AneTensor) w = ane_graph_param (g, "w", ANE_DTYPE_FLOAT32, w_shape, 2, &error);
  g_autoptr(AneTensor) la = ane_graph_param (g, "lora_a", ANE_DTYPE_FLOAT32, la_shape, 2, &error);
  g_autoptr(AneTensor) lb = ane_graph_input (g, "lora_b", ANE_DTYPE_FLOAT32, lb_shape, 2, &error);
  g_autoptr(AneTensor) y = ane_graph_lora_matmul (g, x, w, la, lb, scale, &error);
  g_autoptr(AneMilProgram) p = NULL;
  AneMilOperation *base, *xa, *low, *add, *mul = NULL;
  gint64 rows[ANE_MAX_RANK], xa_shape[ANE_MAX_RANK], out_shape[ANE_MAX_RANK];
  guint r = x_rank == 1 ? 2 : x_rank;
  const char *xin;

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = ane_test_lower (g, prec == ANE_DTYPE_FLOAT32 ? ANE_MIL_IOS16 : ANE_MIL_IOS18, prec);
  ane_test_assert_seq (p, expected_seq);

  /* shapes with x promoted to [1, K] when it is a vector */
  for (guint i = 0; i < r - 1; i++)
    rows[i] = x_rank == 1 ? 1 : x_shape[i];
  memcpy (xa_shape, rows, sizeof rows);
  memcpy (out_shape, rows, sizeof rows);
  xa_shape[r - 1] = 2;
  out_shape[r - 1] = 6;

  g_assert_cmpuint (ane_test_count_ops (p, "matmul"), ==, 3);
  base = ane_test_find_op (p, "matmul", 0);
  xa = ane_test_find_op (p, "matmul", 1);
  low = ane_test_find_op (p, "matmul", 2);
  add = ane_test_find_op (p, "add", 0);

  xin = ane_test_op_arg (base, "x");
  if (x_rank == 1)
    {
      AneMilOperation *e = ane_test_producer (p, xin);
      static const gint64 zero = 0;

      g_assert_cmpstr (e->type, ==, "expand_dims");
      ane_test_assert_const_ints (p, ane_test_op_arg (e, "axes"), &zero, 1);
      g_assert_cmpstr (source_of (p, e, "x"), ==, "x");
    }
  else
    g_assert_cmpstr (source_of (p, base, "x"), ==, "x");
  g_assert_cmpstr (ane_test_op_arg (base, "y"), ==, "w");
  ane_test_assert_output (base, 0, prec, out_shape, r);
  assert_transposes (p, base, FALSE, FALSE);

  g_assert_cmpstr (ane_test_op_arg (xa, "x"), ==, xin);
  g_assert_cmpstr (ane_test_op_arg (xa, "y"), ==, "lora_a");
  ane_test_assert_output (xa, 0, prec, xa_shape, r);
  assert_transposes (p, xa, FALSE, FALSE);

  g_assert_cmpstr (source_of (p, low, "y"), ==, "lora_b");
  ane_test_assert_output (low, 0, prec, out_shape, r);
  assert_transposes (p, low, FALSE, FALSE);

  if (scale != 1.0)
    {
      mul = ane_test_find_op (p, "mul", 0);
      ane_test_assert_const_scalar (p, ane_test_op_arg (mul, "y"), prec, scale);
    }
  g_assert_cmpuint (ane_test_count_ops (p, "mul"), ==, scale != 1.0);
  if (scale == 1.0)
    {
      g_assert_cmpstr (ane_test_op_arg (low, "x"), ==, xa->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (add, "y"), ==, low->outputs[0]->name);
    }
  else if (fabs (scale) <= 1.0)
    {
      /* scale applied to the [.., r] intermediate */
      g_assert_cmpstr (ane_test_op_arg (mul, "x"), ==, xa->outputs[0]->name);
      ane_test_assert_output (mul, 0, prec, xa_shape, r);
      g_assert_cmpstr (ane_test_op_arg (low, "x"), ==, mul->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (add, "y"), ==, low->outputs[0]->name);
    }
  else
    {
      /* scale applied to the [.., N] low-rank term */
      g_assert_cmpstr (ane_test_op_arg (low, "x"), ==, xa->outputs[0]->name);
      g_assert_cmpstr (ane_test_op_arg (mul, "x"), ==, low->outputs[0]->name);
      ane_test_assert_output (mul, 0, prec, out_shape, r);
      g_assert_cmpstr (ane_test_op_arg (add, "y"), ==, mul->outputs[0]->name);
    }
  g_assert_cmpstr (ane_test_op_arg (add, "x"), ==, base->outputs[0]->name);
  ane_test_assert_output (add, 0, prec, out_shape, r);

  if (x_rank == 1)
    {
      AneMilOperation *sq = ane_test_find_op (p, "squeeze", 0);
      static const gint64 zero = 0, n6 = 6;

      g_assert_cmpstr (ane_test_op_arg (sq, "x"), ==, add->outputs[0]->name);
      ane_test_assert_const_ints (p, ane_test_op_arg (sq, "axes"), &zero, 1);
      ane_test_assert_output (sq, 0, prec, &n6, 1);
    }
}

static void
test_lora_scale_one (void)
{
  static const gint64 xs[] = { 2, 3, 8 };

  lora_check (1.0, xs, 3, ANE_DTYPE_FLOAT32, "matmul,matmul,matmul,add,identity");
  lora_check (1.0, xs, 3, ANE_DTYPE_FLOAT16, "cast,cast,matmul,matmul,matmul,add,cast");
}

static void
test_lora_scale_small (void)
{
  static const gint64 xs[] = { 4, 8 };

  lora_check (0.5, xs, 2, ANE_DTYPE_FLOAT32, "matmul,matmul,mul,matmul,add,identity");
  lora_check (0.5, xs, 2, ANE_DTYPE_FLOAT16, "cast,cast,matmul,matmul,mul,matmul,add,cast");
  lora_check (-0.25, xs, 2, ANE_DTYPE_FLOAT32, "matmul,matmul,mul,matmul,add,identity");
}

static void
test_lora_scale_large (void)
{
  static const gint64 xs[] = { 4, 8 };

  lora_check (4.0, xs, 2, ANE_DTYPE_FLOAT32, "matmul,matmul,matmul,mul,add,identity");
  lora_check (4.0, xs, 2, ANE_DTYPE_FLOAT16, "cast,cast,matmul,matmul,matmul,mul,add,cast");
  lora_check (-2.0, xs, 2, ANE_DTYPE_FLOAT16, "cast,cast,matmul,matmul,matmul,mul,add,cast");
}

static void
test_lora_vector (void)
{
  static const gint64 xs[] = { 8 };

  lora_check (1.0, xs, 1, ANE_DTYPE_FLOAT32, "expand_dims,matmul,matmul,matmul,add,squeeze,identity");
  lora_check (0.5, xs, 1, ANE_DTYPE_FLOAT16,
              "cast,cast,expand_dims,matmul,matmul,mul,matmul,add,squeeze,cast");
}

/* --- grouped_matmul ------------------------------------------------------------ */

typedef struct {
  const gint64 *x;
  guint         x_rank;
  gint64        e[3];
  gboolean      tb;
  AneMilTarget  target;
  AneDType      prec;
  gboolean      dequant;      /* dequant_grouped_matmul with a block param */
  AneDType      block;
  AneDType      ids_dtype;    /* INT32 (input) or another dtype (const) */
  const char   *seq;
} GroupedCase;

static void
grouped_check (const GroupedCase *c)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, c->x, c->x_rank, &error);
  g_autoptr(AneTensor) e = NULL, ids = NULL, y = NULL;
  g_autoptr(AneMilProgram) p = NULL;
  g_autoptr(GPtrArray) blobs = NULL;
  guint ids_rank = c->x_rank - 1;
  gint64 t = 1, k = c->x[c->x_rank - 1], n = c->tb ? c->e[1] : c->e[2];
  gint64 x3[3], w3[3], y3[3], out[ANE_MAX_RANK];
  AneMilOperation *gather, *mm, *xr, *last;
  const char *idv;

  for (guint i = 0; i < ids_rank; i++)
    t *= c->x[i];
  if (c->dequant)
    e = block_param (g, "experts", c->block, c->e, 3);
  else
    e = ane_graph_param (g, "experts", ANE_DTYPE_FLOAT32, c->e, 3, &error);
  if (c->ids_dtype == ANE_DTYPE_INT32)
    ids = ane_graph_input (g, "ids", ANE_DTYPE_INT32, c->x, ids_rank, &error);
  else
    {
      g_autoptr(AneTensor) v = ane_tensor_new_zeros ("ids", c->ids_dtype, c->x, ids_rank, &error);

      g_assert_no_error (error);
      ids = ane_graph_const (g, v, &error);
    }
  g_assert_no_error (error);
  y = c->dequant ? ane_graph_dequant_grouped_matmul (g, x, e, ids, &error)
                 : ane_graph_grouped_matmul (g, x, e, ids, c->tb, &error);
  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = lower_with_blobs (g, c->target, c->prec, &blobs);
  ane_test_assert_seq (p, c->seq);

  x3[0] = t, x3[1] = 1, x3[2] = k;
  w3[0] = t, w3[1] = c->e[1], w3[2] = c->e[2];
  y3[0] = t, y3[1] = 1, y3[2] = n;
  memcpy (out, c->x, c->x_rank * sizeof (gint64));
  out[c->x_rank - 1] = n;

  /* x -> [T, 1, K] */
  mm = ane_test_find_op (p, "matmul", 0);
  xr = ane_test_producer (p, ane_test_op_arg (mm, "x"));
  g_assert_cmpstr (xr->type, ==, "reshape");
  g_assert_cmpstr (source_of (p, xr, "x"), ==, "x");
  ane_test_assert_const_ints (p, ane_test_op_arg (xr, "shape"), x3, 3);
  ane_test_assert_output (xr, 0, c->prec, x3, 3);

  /* experts gathered by the flattened ids along axis 0 */
  gather = ane_test_find_op (p, "gather", 0);
  g_assert_cmpstr (ane_test_op_arg (mm, "y"), ==, gather->outputs[0]->name);
  g_assert_cmpstr (ane_test_op_arg (gather, "x"), ==, "experts");
  {
    static const gint64 zero = 0;
    ane_test_assert_const_ints (p, ane_test_op_arg (gather, "axis"), &zero, 1);
  }
  if (c->target >= ANE_MIL_IOS17)
    ane_test_assert_const_bool (p, ane_test_op_arg (gather, "validate_indices"), TRUE);
  else
    g_assert_null (ane_test_op_arg (gather, "validate_indices"));
  ane_test_assert_output (gather, 0, c->prec, w3, 3);

  idv = ane_test_op_arg (gather, "indices");
  if (ids_rank != 1)
    {
      AneMilOperation *ir = ane_test_producer (p, idv);

      g_assert_cmpstr (ir->type, ==, "reshape");
      ane_test_assert_const_ints (p, ane_test_op_arg (ir, "shape"), &t, 1);
      ane_test_assert_output (ir, 0, ANE_DTYPE_INT32, &t, 1);
      idv = ane_test_op_arg (ir, "x");
    }
  if (c->ids_dtype != ANE_DTYPE_INT32)
    {
      AneMilOperation *cast = ane_test_producer (p, idv);

      g_assert_cmpstr (cast->type, ==, "cast");
      g_assert_cmpstr (ane_test_const_string (p, ane_test_op_arg (cast, "dtype")), ==, "int32");
      g_assert_cmpstr (ane_test_op_arg (cast, "x"), ==, "ids");
      ane_test_assert_output (cast, 0, ANE_DTYPE_INT32, c->x, ids_rank);
    }
  else
    g_assert_cmpstr (idv, ==, "ids");

  /* [T,1,K] x [T,K,N] (or [T,N,K]^T) -> [T,1,N] -> [..., N] */
  assert_transposes (p, mm, FALSE, c->tb || c->dequant);
  ane_test_assert_output (mm, 0, c->prec, y3, 3);
  last = ane_test_find_op (p, "reshape", ane_test_count_ops (p, "reshape") - 1);
  g_assert_cmpstr (ane_test_op_arg (last, "x"), ==, mm->outputs[0]->name);
  ane_test_assert_const_ints (p, ane_test_op_arg (last, "shape"), out, c->x_rank);
  ane_test_assert_output (last, 0, c->prec, out, c->x_rank);

  if (c->dequant)
    assert_block_weight (p, blobs, "experts", "experts", c->block, c->prec, c->e, 3);
}

static const gint64 x_4_8[] = { 4, 8 }, x_2_3_8[] = { 2, 3, 8 };
static const gint64 x_2_32[] = { 2, 32 }, x_2_3_32[] = { 2, 3, 32 };

static void
test_grouped_plain (void)
{
  GroupedCase c = { x_4_8, 2, { 3, 8, 5 }, FALSE, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32, FALSE, 0,
                    ANE_DTYPE_INT32, "reshape,gather,matmul,reshape,identity" };

  grouped_check (&c);
  c.prec = ANE_DTYPE_FLOAT16;
  c.seq = "cast,reshape,gather,matmul,reshape,cast";
  grouped_check (&c);
  /* before iOS17 gather has no validate_indices */
  c.target = ANE_MIL_IOS15;
  grouped_check (&c);
}

static void
test_grouped_transpose_b (void)
{
  GroupedCase c = { x_4_8, 2, { 3, 5, 8 }, TRUE, ANE_MIL_IOS16, ANE_DTYPE_FLOAT32, FALSE, 0,
                    ANE_DTYPE_INT32, "reshape,gather,matmul,reshape,identity" };

  grouped_check (&c);
  c.prec = ANE_DTYPE_FLOAT16;
  c.target = ANE_MIL_IOS18;
  c.seq = "cast,reshape,gather,matmul,reshape,cast";
  grouped_check (&c);
}

static void
test_grouped_leading_dims (void)
{
  /* x [2,3,K], ids [2,3]: T = 6 rows */
  GroupedCase c = { x_2_3_8, 3, { 4, 8, 5 }, FALSE, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32, FALSE, 0,
                    ANE_DTYPE_INT32, "reshape,reshape,gather,matmul,reshape,identity" };

  grouped_check (&c);
  c.tb = TRUE;
  c.e[1] = 5, c.e[2] = 8;
  c.prec = ANE_DTYPE_FLOAT16;
  c.seq = "cast,reshape,reshape,gather,matmul,reshape,cast";
  grouped_check (&c);
}

static void
test_grouped_ids_dtype (void)
{
  /* const int32 ids (a routing table baked in): no cast */
  GroupedCase c = { x_2_3_8, 3, { 4, 8, 5 }, FALSE, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32, FALSE, 0,
                    ANE_DTYPE_INT32, "reshape,reshape,gather,matmul,reshape,identity" };

  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, x_2_3_8, 3, &error);
    g_autoptr(AneTensor) e = ane_graph_param (g, "experts", ANE_DTYPE_FLOAT32, c.e, 3, &error);
    g_autoptr(AneTensor) v = ane_tensor_new_zeros ("ids", ANE_DTYPE_INT32, x_2_3_8, 2, &error);
    g_autoptr(AneTensor) ids = ane_graph_const (g, v, &error);
    g_autoptr(AneTensor) y = ane_graph_grouped_matmul (g, x, e, ids, FALSE, &error);
    g_autoptr(AneMilProgram) p = NULL;
    AneMilOperation *ir;

    ane_graph_add_output (g, "y", y, &error);
    g_assert_no_error (error);
    p = ane_test_lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32);
    ane_test_assert_seq (p, c.seq);
    ir = ane_test_producer (p, ane_test_op_arg (ane_test_find_op (p, "gather", 0), "indices"));
    g_assert_cmpstr (ir->type, ==, "reshape");
    g_assert_cmpstr (ane_test_op_arg (ir, "x"), ==, "ids");
    g_assert_cmpstr (ane_test_producer (p, "ids")->type, ==, "const");
  }

  /* int16 ids are cast to int32 (MIL casts int16 from iOS17 on) */
  c.ids_dtype = ANE_DTYPE_INT16;
  c.target = ANE_MIL_IOS17;
  c.seq = "cast,reshape,reshape,gather,matmul,reshape,identity";
  grouped_check (&c);

  /* ... and cannot be lowered before iOS17 */
  {
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, x_2_3_8, 3, &error);
    g_autoptr(AneTensor) e = ane_graph_param (g, "experts", ANE_DTYPE_FLOAT32, c.e, 3, &error);
    g_autoptr(AneTensor) v = ane_tensor_new_zeros ("ids", ANE_DTYPE_INT16, x_2_3_8, 2, &error);
    g_autoptr(AneTensor) ids = ane_graph_const (g, v, &error);
    g_autoptr(AneTensor) y = ane_graph_grouped_matmul (g, x, e, ids, FALSE, &error);

    ane_graph_add_output (g, "y", y, &error);
    g_assert_no_error (error);
    ane_test_assert_lower_fails (g, ANE_MIL_IOS16, ANE_DTYPE_FLOAT32, "grouped_matmul", "iOS16", NULL);
  }
}

/* --- GGUF-weight ops -------------------------------------------------------------- */

static void
dequant_matmul_check (AneDType      block,
                      AneDType      prec,
                      AneMilTarget  target,
                      const gint64 *x_shape,
                      guint         x_rank,
                      const char   *expected_seq)
{
  static const gint64 w_shape[] = { 4, 32 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, x_shape, x_rank, &error);
  g_autoptr(AneTensor) w = block_param (g, "weight", block, w_shape, 2);
  g_autoptr(AneTensor) y = ane_graph_dequant_matmul (g, x, w, &error);
  g_autoptr(AneMilProgram) p = NULL;
  g_autoptr(GPtrArray) blobs = NULL;
  AneMilOperation *lin;
  gint64 out[ANE_MAX_RANK], rows = 1;

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = lower_with_blobs (g, target, prec, &blobs);
  ane_test_assert_seq (p, expected_seq);

  memcpy (out, x_shape, x_rank * sizeof (gint64));
  out[x_rank - 1] = 4;
  for (guint i = 0; i + 1 < x_rank; i++)
    rows *= x_shape[i];

  g_assert_cmpuint (ane_test_count_ops (p, "linear"), ==, 1);
  lin = ane_test_find_op (p, "linear", 0);
  g_assert_cmpstr (ane_test_op_arg (lin, "weight"), ==, "weight");
  g_assert_null (ane_test_op_arg (lin, "bias"));
  assert_block_weight (p, blobs, "weight", "weight", block, prec, w_shape, 2);
  if (x_rank <= 3)
    {
      g_assert_cmpstr (source_of (p, lin, "x"), ==, "x");
      ane_test_assert_output (lin, 0, prec, out, x_rank);
    }
  else
    {
      /* linear takes x of rank <= 3: flattened to [rows, K] and back */
      gint64 x2[2] = { rows, 32 }, y2[2] = { rows, 4 };
      AneMilOperation *xr = ane_test_producer (p, ane_test_op_arg (lin, "x"));
      AneMilOperation *yr = ane_test_find_op (p, "reshape", 1);

      g_assert_cmpstr (xr->type, ==, "reshape");
      g_assert_cmpstr (source_of (p, xr, "x"), ==, "x");
      ane_test_assert_const_ints (p, ane_test_op_arg (xr, "shape"), x2, 2);
      ane_test_assert_output (xr, 0, prec, x2, 2);
      ane_test_assert_output (lin, 0, prec, y2, 2);
      g_assert_cmpstr (ane_test_op_arg (yr, "x"), ==, lin->outputs[0]->name);
      ane_test_assert_const_ints (p, ane_test_op_arg (yr, "shape"), out, x_rank);
      ane_test_assert_output (yr, 0, prec, out, x_rank);
    }
}

static void
test_dequant_matmul_q8_0 (void)
{
  dequant_matmul_check (ANE_DTYPE_Q8_0, ANE_DTYPE_FLOAT32, ANE_MIL_IOS15, x_2_32, 2, "linear,identity");
  dequant_matmul_check (ANE_DTYPE_Q8_0, ANE_DTYPE_FLOAT16, ANE_MIL_IOS17, x_2_32, 2, "cast,linear,cast");
}

static void
test_dequant_matmul_q4_0 (void)
{
  dequant_matmul_check (ANE_DTYPE_Q4_0, ANE_DTYPE_FLOAT32, ANE_MIL_IOS16, x_2_3_32, 3, "linear,identity");
  dequant_matmul_check (ANE_DTYPE_Q4_0, ANE_DTYPE_FLOAT16, ANE_MIL_IOS17, x_2_3_32, 3, "cast,linear,cast");
}

/* At iOS18 a bound Q8_0 / Q4_0 weight stays quantized in the program: int8
 * (or packed int4) data and per-block scales, dequantized by
 * constexpr_blockwise_shift_scale when the model loads. */
static void
test_dequant_matmul_on_device (void)
{
  static const gint64 w_shape[] = { 4, 64 }, x_shape[] = { 2, 64 }, s_shape[] = { 4, 2 };
  static const AneDType blocks[] = { ANE_DTYPE_Q8_0, ANE_DTYPE_Q4_0 };

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      g_autoptr(AneGraph) g = ane_graph_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, x_shape, 2, &error);
      g_autoptr(AneTensor) w = block_param (g, "weight", blocks[i], w_shape, 2);
      g_autoptr(AneTensor) y = ane_graph_dequant_matmul (g, x, w, &error);
      AneLowerOptions options = { .target = ANE_MIL_IOS18, .precision = ANE_DTYPE_FLOAT16 };
      g_autoptr(AneLowered) lowered = NULL;
      AneMilProgram *p;
      GPtrArray *blobs;
      AneMilOperation *cx, *data;
      gboolean q8 = blocks[i] == ANE_DTYPE_Q8_0;

      ane_graph_add_output (g, "y", y, &error);
      g_assert_no_error (error);
      lowered = ane_lowered_new (g, &options, &error);
      g_assert_no_error (error);
      p = ane_lowered_get_program (lowered);
      blobs = lowered->blobs;
      ane_test_assert_program_checks (p);
      ane_test_assert_seq (p, "cast,constexpr_blockwise_shift_scale,linear,cast");
      cx = ane_test_find_op (p, "constexpr_blockwise_shift_scale", 0);
      g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (p, "linear", 0), "weight"), ==, cx->outputs[0]->name);
      ane_test_assert_output (cx, 0, ANE_DTYPE_FLOAT16, w_shape, 2);
      ane_test_assert_output (ane_test_producer (p, ane_test_op_arg (cx, "scale")), 0, ANE_DTYPE_FLOAT16, s_shape, 2);
      data = ane_test_producer (p, ane_test_op_arg (cx, "data"));
      g_assert_cmpint (data->outputs[0]->type->tensortype->datatype, ==,
                       q8 ? CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT8 : CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__INT4);
      /* the only blob is the quantized data: 1 byte (int8) or half a byte
       * (int4) per weight, never a dense copy */
      g_assert_cmpuint (blobs->len, ==, 1);
      g_assert_cmpuint (((AneMilPendingBlob *) g_ptr_array_index (blobs, 0))->size, ==, q8 ? 256 : 128);
      g_assert_cmpint (((AneMilPendingBlob *) g_ptr_array_index (blobs, 0))->blob_type, ==,
                       q8 ? ANE_MILBLOB_INT8 : ANE_MILBLOB_INT4);
      g_assert_cmpuint (g_strv_length (lowered->notes), ==, 1);
      g_assert_nonnull (strstr (lowered->notes[0], "on device"));
    }
}

static void
test_dequant_matmul_ranks (void)
{
  static const gint64 x1[] = { 32 }, x4[] = { 2, 1, 3, 32 }, x5[] = { 1, 2, 1, 2, 32 };

  dequant_matmul_check (ANE_DTYPE_Q8_0, ANE_DTYPE_FLOAT32, ANE_MIL_IOS15, x1, 1, "linear,identity");
  dequant_matmul_check (ANE_DTYPE_Q8_0, ANE_DTYPE_FLOAT32, ANE_MIL_IOS15, x4, 4,
                        "reshape,linear,reshape,identity");
  dequant_matmul_check (ANE_DTYPE_Q4_0, ANE_DTYPE_FLOAT16, ANE_MIL_IOS17, x5, 5,
                        "cast,reshape,linear,reshape,cast");
  {
    /* Core ML tensors have rank 5 at most */
    static const gint64 x6[] = { 1, 2, 1, 2, 1, 32 }, w_shape[] = { 4, 32 };
    g_autoptr(AneGraph) g = ane_graph_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, x6, 6, &error);
    g_autoptr(AneTensor) w = block_param (g, "weight", ANE_DTYPE_Q8_0, w_shape, 2);
    g_autoptr(AneTensor) y = ane_graph_dequant_matmul (g, x, w, &error);

    ane_graph_add_output (g, "y", y, &error);
    g_assert_no_error (error);
    ane_test_assert_lower_fails (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32, "input 'x' is rank 6", "rank 5 at most", NULL);
  }
}

static void
test_dequant_matmul_const (void)
{
  /* a block const (not a param) is a host-dequantized blob too */
  static const gint64 w_shape[] = { 4, 32 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT16, x_2_32, 2, &error);
  g_autoptr(AneTensor) v = ane_tensor_new_zeros ("wq", ANE_DTYPE_Q4_0, w_shape, 2, &error);
  g_autoptr(AneTensor) w = ane_graph_const (g, v, &error);
  g_autoptr(AneTensor) y = ane_graph_dequant_matmul (g, x, w, &error);
  g_autoptr(AneMilProgram) p = NULL;
  g_autoptr(GPtrArray) blobs = NULL;
  AneMilOperation *lin;

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = lower_with_blobs (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, &blobs);
  ane_test_assert_seq (p, "linear,identity");
  lin = ane_test_find_op (p, "linear", 0);
  g_assert_cmpstr (ane_test_op_arg (lin, "x"), ==, "x");
  assert_block_weight (p, blobs, ane_test_op_arg (lin, "weight"), ane_tensor_get_name (w),
                       ANE_DTYPE_Q4_0, ANE_DTYPE_FLOAT16, w_shape, 2);
}

static void
test_dequant_grouped (void)
{
  GroupedCase c = { x_2_3_32, 3, { 3, 4, 32 }, TRUE, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32, TRUE, ANE_DTYPE_Q8_0,
                    ANE_DTYPE_INT32, "reshape,reshape,gather,matmul,reshape,identity" };

  grouped_check (&c);
  c.prec = ANE_DTYPE_FLOAT16;
  c.seq = "cast,reshape,reshape,gather,matmul,reshape,cast";
  grouped_check (&c);
  c.block = ANE_DTYPE_Q4_0;
  c.target = ANE_MIL_IOS15;
  grouped_check (&c);
  c.x = x_2_32;
  c.x_rank = 2;
  c.prec = ANE_DTYPE_FLOAT32;
  c.seq = "reshape,gather,matmul,reshape,identity";
  grouped_check (&c);
}

static void
moe_weights_check (AneDType     block,
                   AneDType     dtype,
                   AneDType     prec,
                   const char  *expected_seq)
{
  static const gint64 e_shape[] = { 2, 4, 32 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) e = block_param (g, "experts", block, e_shape, 3);
  g_autoptr(AneTensor) y = ane_graph_dequant_moe_weights (g, e, dtype, &error);
  g_autoptr(AneMilProgram) p = NULL;
  g_autoptr(GPtrArray) blobs = NULL;
  AneMilOperation *id, *last;
  guint n;

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = lower_with_blobs (g, ANE_MIL_IOS16, prec, &blobs);
  ane_test_assert_seq (p, expected_seq);
  id = ane_test_find_op (p, "identity", 0);
  g_assert_cmpstr (ane_test_op_arg (id, "x"), ==, "experts");
  ane_test_assert_output (id, 0, prec, e_shape, 3);
  assert_block_weight (p, blobs, "experts", "experts", block, prec, e_shape, 3);
  /* the interface op gives the requested dtype */
  {
    AneMilBlock *blk = ane_test_main_block (p);

    n = blk->n_operations;
    last = blk->operations[n - 1];
  }
  g_assert_cmpstr (last->outputs[0]->name, ==, "y");
  ane_test_assert_output (last, 0, dtype, e_shape, 3);
}

static void
test_dequant_moe_weights (void)
{
  moe_weights_check (ANE_DTYPE_Q8_0, ANE_DTYPE_FLOAT32, ANE_DTYPE_FLOAT32, "identity,identity");
  moe_weights_check (ANE_DTYPE_Q8_0, ANE_DTYPE_FLOAT32, ANE_DTYPE_FLOAT16, "identity,cast");
  moe_weights_check (ANE_DTYPE_Q4_0, ANE_DTYPE_FLOAT16, ANE_DTYPE_FLOAT32, "identity,cast");
  moe_weights_check (ANE_DTYPE_Q4_0, ANE_DTYPE_FLOAT16, ANE_DTYPE_FLOAT16, "identity,identity");
}

static void
test_dequant_moe_weights_rank2 (void)
{
  static const gint64 shape[] = { 4, 64 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) e = block_param (g, "w", ANE_DTYPE_Q8_0, shape, 2);
  g_autoptr(AneTensor) y = ane_graph_dequant_moe_weights (g, e, ANE_DTYPE_FLOAT32, &error);
  g_autoptr(AneMilProgram) p = NULL;
  g_autoptr(GPtrArray) blobs = NULL;

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  p = lower_with_blobs (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, &blobs);
  ane_test_assert_seq (p, "identity,cast");
  ane_test_assert_output (ane_test_find_op (p, "identity", 0), 0, ANE_DTYPE_FLOAT16, shape, 2);
  assert_block_weight (p, blobs, "w", "w", ANE_DTYPE_Q8_0, ANE_DTYPE_FLOAT16, shape, 2);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (matmul_cases); i++)
    g_test_add_data_func (matmul_cases[i].path, &matmul_cases[i], test_matmul);
  g_test_add_func ("/ane/lower/linalg/lora_matmul/scale-one", test_lora_scale_one);
  g_test_add_func ("/ane/lower/linalg/lora_matmul/scale-small", test_lora_scale_small);
  g_test_add_func ("/ane/lower/linalg/lora_matmul/scale-large", test_lora_scale_large);
  g_test_add_func ("/ane/lower/linalg/lora_matmul/vector", test_lora_vector);
  g_test_add_func ("/ane/lower/linalg/grouped_matmul/plain", test_grouped_plain);
  g_test_add_func ("/ane/lower/linalg/grouped_matmul/transpose-b", test_grouped_transpose_b);
  g_test_add_func ("/ane/lower/linalg/grouped_matmul/leading-dims", test_grouped_leading_dims);
  g_test_add_func ("/ane/lower/linalg/grouped_matmul/ids-dtype", test_grouped_ids_dtype);
  g_test_add_func ("/ane/lower/linalg/dequant_matmul/q8_0", test_dequant_matmul_q8_0);
  g_test_add_func ("/ane/lower/linalg/dequant_matmul/q4_0", test_dequant_matmul_q4_0);
  g_test_add_func ("/ane/lower/linalg/dequant_matmul/ranks", test_dequant_matmul_ranks);
  g_test_add_func ("/ane/lower/linalg/dequant_matmul/on-device", test_dequant_matmul_on_device);
  g_test_add_func ("/ane/lower/linalg/dequant_matmul/const", test_dequant_matmul_const);
  g_test_add_func ("/ane/lower/linalg/dequant_grouped_matmul/q8_0-q4_0", test_dequant_grouped);
  g_test_add_func ("/ane/lower/linalg/dequant_moe_weights/dtypes", test_dequant_moe_weights);
  g_test_add_func ("/ane/lower/linalg/dequant_moe_weights/rank2", test_dequant_moe_weights_rank2);
  return g_test_run ();
}
