/* test-lower-attention.c: lowering of attention, rope and axial_rope_2d to MIL
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-lower-test-util.h"

/* --- helpers ---------------------------------------------------------------- */

typedef struct {
  AneMilProgram *p;
  GPtrArray     *blobs;
} Lowered;

static void
lowered_clear (Lowered *l)
{
  g_clear_pointer (&l->p, ane_test_program_free);
  g_clear_pointer (&l->blobs, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Lowered, lowered_clear)

static void
lower (AneGraph     *g,
       AneMilTarget  target,
       AneDType      precision,
       Lowered      *out)
{
  g_autoptr(GError) error = NULL;
  guint64 size;

  out->p = ane_lower_graph (g, target, precision, &out->blobs, &size, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out->p);
  ane_test_assert_program_checks (out->p);
}

/* A const's values, immediate or in a pending blob; returns n. */
static gsize
const_values (Lowered    *l,
              const char *value,
              double    **values)
{
  AneMilOperation *op;
  CoreML__Specification__MILSpec__Value *v = NULL;

  g_assert_nonnull (value);
  op = ane_test_producer (l->p, value);
  g_assert_nonnull (op);
  g_assert_cmpstr (op->type, ==, "const");
  for (gsize i = 0; i < op->n_attributes; i++)
    if (g_str_equal (op->attributes[i]->key, "val"))
      v = op->attributes[i]->value;
  g_assert_nonnull (v);
  if (v->value_case != CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE)
    return ane_test_const_values (l->p, value, values);
  for (guint i = 0; i < l->blobs->len; i++)
    {
      AneMilPendingBlob *blob = g_ptr_array_index (l->blobs, i);

      if (blob->offset != v->blobfilevalue->offset)
        continue;
      g_assert_cmpint (blob->source, ==, ANE_MIL_BLOB_FROM_BYTES);
      *values = g_new (double, MAX (blob->n_elements, 1));
      ane_dtype_decode (blob->src_dtype, g_bytes_get_data (blob->data, NULL), blob->n_elements, *values);
      return (gsize) blob->n_elements;
    }
  g_assert_not_reached ();
}

static void
assert_const_ints (Lowered      *l,
                   const char   *value,
                   const gint64 *expected,
                   gsize         n)
{
  g_autofree double *vals = NULL;

  g_assert_cmpuint (const_values (l, value, &vals), ==, n);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (vals[i], ==, (double) expected[i]);
}

static void
assert_const_scalar (Lowered    *l,
                     const char *value,
                     AneDType    dtype,
                     double      expected)
{
  g_autofree double *vals = NULL;
  AneMilOperation *c;

  g_assert_cmpuint (const_values (l, value, &vals), ==, 1);
  g_assert_cmpfloat (vals[0], ==, ane_dtype_round (dtype, expected));
  c = ane_test_producer (l->p, value);
  g_assert_cmpint (c->outputs[0]->type->tensortype->datatype, ==, ane_mil_dtype_from_ane (dtype));
}

static void
assert_const_bool (Lowered    *l,
                   const char *value,
                   gboolean    expected)
{
  g_autofree double *vals = NULL;

  g_assert_cmpuint (const_values (l, value, &vals), ==, 1);
  g_assert_cmpfloat (vals[0], ==, expected ? 1.0 : 0.0);
}

static void
assert_const_string (Lowered    *l,
                     const char *value,
                     const char *expected)
{
  g_assert_cmpstr (ane_test_const_string (l->p, value), ==, expected);
}

/* The const's MIL type. */
static void
assert_const_type (Lowered      *l,
                   const char   *value,
                   AneDType      dtype,
                   const gint64 *shape,
                   guint         rank)
{
  AneMilOperation *c = ane_test_producer (l->p, value);

  g_assert_nonnull (c);
  g_assert_cmpstr (c->type, ==, "const");
  ane_test_assert_output (c, 0, dtype, shape, rank);
}

static const char *
out_name (AneMilOperation *op)
{
  g_assert_nonnull (op);
  return op->outputs[0]->name;
}

/* Inputs of an attention test graph. */
typedef struct {
  gint64   B, H, Hkv, S, L, D, Dv;
  gboolean causal;
  double   scale, softcap;
  const gint64 *bias_shape;
  guint    bias_rank;
} AttnCase;

static AneGraph *
attention_graph (const AttnCase *c)
{
  AneGraph *g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  gint64 qs[4] = { c->B, c->H, c->S, c->D }, ks[4] = { c->B, c->Hkv, c->L, c->D };
  gint64 vs[4] = { c->B, c->Hkv, c->L, c->Dv };
  g_autoptr(AneTensor) q = ane_graph_input (g, "q", ANE_DTYPE_FLOAT32, qs, 4, &error);
  g_autoptr(AneTensor) k = ane_graph_input (g, "k", ANE_DTYPE_FLOAT32, ks, 4, &error);
  g_autoptr(AneTensor) v = ane_graph_input (g, "v", ANE_DTYPE_FLOAT32, vs, 4, &error);
  g_autoptr(AneTensor) bias = c->bias_shape
    ? ane_graph_input (g, "bias", ANE_DTYPE_FLOAT32, c->bias_shape, c->bias_rank, &error) : NULL;
  g_autoptr(AneTensor) y = ane_graph_attention (g, q, k, v, bias, c->causal, c->scale, c->softcap, &error);

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  return g;
}

/* The value the IR input `name` has inside the program (after the fp16 cast). */
static const char *
inside (Lowered    *l,
        const char *name,
        gboolean    fp16)
{
  AneMilBlock *b = ane_test_main_block (l->p);

  if (!fp16)
    return name;
  for (gsize i = 0; i < b->n_operations; i++)
    if (g_str_equal (b->operations[i]->type, "cast") &&
        g_strcmp0 (ane_test_op_arg (b->operations[i], "x"), name) == 0)
      return out_name (b->operations[i]);
  g_assert_not_reached ();
}

static void
assert_causal_mask (Lowered    *l,
                    const char *value,
                    AneDType    dtype,
                    gint64      S,
                    gint64      L)
{
  g_autofree double *m = NULL;
  gint64 shape[2] = { S, L };

  assert_const_type (l, value, dtype, shape, 2);
  g_assert_cmpuint (const_values (l, value, &m), ==, (gsize) (S * L));
  for (gint64 i = 0; i < S; i++)
    for (gint64 j = 0; j < L; j++)
      {
        double e = m[i * L + j];

        if (j <= i + L - S)
          g_assert_cmpfloat (e, ==, 0.0);
        else
          g_assert_true (isinf (e) && e < 0);
      }
}

/* --- attention: composed ------------------------------------------------------ */

static void
test_attention_compose (void)
{
  /* iOS17 (no SDPA): q*scale, matmul(k^T), softmax, matmul(v) */
  static const AttnCase c = { 1, 2, 2, 3, 5, 4, 6, FALSE, 0.0, 0.0, NULL, 0 };
  static const gint64 qs[] = { 1, 2, 3, 4 }, ss[] = { 1, 2, 3, 5 }, os[] = { 1, 2, 3, 6 };

  for (guint fp16 = 0; fp16 < 2; fp16++)
    {
      g_autoptr(AneGraph) g = attention_graph (&c);
      g_auto(Lowered) l = { 0 };
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
      AneMilOperation *mul, *mm0, *sm, *mm1;

      lower (g, ANE_MIL_IOS17, dt, &l);
      ane_test_assert_seq (l.p, fp16 ? "cast,cast,cast,mul,matmul,softmax,matmul,cast"
                                     : "mul,matmul,softmax,matmul,identity");
      mul = ane_test_find_op (l.p, "mul", 0);
      mm0 = ane_test_find_op (l.p, "matmul", 0);
      sm = ane_test_find_op (l.p, "softmax", 0);
      mm1 = ane_test_find_op (l.p, "matmul", 1);
      g_assert_cmpstr (ane_test_op_arg (mul, "x"), ==, inside (&l, "q", fp16));
      assert_const_scalar (&l, ane_test_op_arg (mul, "y"), dt, 0.5);   /* 1/sqrt(4) */
      ane_test_assert_output (mul, 0, dt, qs, 4);
      g_assert_cmpstr (ane_test_op_arg (mm0, "x"), ==, out_name (mul));
      g_assert_cmpstr (ane_test_op_arg (mm0, "y"), ==, inside (&l, "k", fp16));
      assert_const_bool (&l, ane_test_op_arg (mm0, "transpose_x"), FALSE);
      assert_const_bool (&l, ane_test_op_arg (mm0, "transpose_y"), TRUE);
      ane_test_assert_output (mm0, 0, dt, ss, 4);
      g_assert_cmpstr (ane_test_op_arg (sm, "x"), ==, out_name (mm0));
      assert_const_scalar (&l, ane_test_op_arg (sm, "axis"), ANE_DTYPE_INT32, -1);
      ane_test_assert_output (sm, 0, dt, ss, 4);
      g_assert_cmpstr (ane_test_op_arg (mm1, "x"), ==, out_name (sm));
      g_assert_cmpstr (ane_test_op_arg (mm1, "y"), ==, inside (&l, "v", fp16));
      assert_const_bool (&l, ane_test_op_arg (mm1, "transpose_y"), FALSE);
      ane_test_assert_output (mm1, 0, dt, os, 4);
      g_assert_cmpstr (out_name (mm1), ==, "attention");
    }
}

static void
test_attention_compose_scale_one (void)
{
  /* scale 1 multiplies nothing */
  static const AttnCase c = { 2, 1, 1, 2, 2, 3, 3, FALSE, 1.0, 0.0, NULL, 0 };
  g_autoptr(AneGraph) g = attention_graph (&c);
  g_auto(Lowered) l = { 0 };

  lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32, &l);
  ane_test_assert_seq (l.p, "matmul,softmax,matmul,identity");
  g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (l.p, "matmul", 0), "x"), ==, "q");
}

static void
test_attention_causal (void)
{
  /* causal S < L: additive const [S, L], -inf past i + L - S */
  static const AttnCase c = { 1, 2, 2, 2, 4, 4, 4, TRUE, 0.0, 0.0, NULL, 0 };
  static const gint64 ss[] = { 1, 2, 2, 4 };

  for (guint fp16 = 0; fp16 < 2; fp16++)
    {
      g_autoptr(AneGraph) g = attention_graph (&c);
      g_auto(Lowered) l = { 0 };
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
      AneMilOperation *mm0, *add, *sm;

      lower (g, ANE_MIL_IOS16, dt, &l);
      ane_test_assert_seq (l.p, fp16 ? "cast,cast,cast,mul,matmul,add,softmax,matmul,cast"
                                     : "mul,matmul,add,softmax,matmul,identity");
      mm0 = ane_test_find_op (l.p, "matmul", 0);
      add = ane_test_find_op (l.p, "add", 0);
      sm = ane_test_find_op (l.p, "softmax", 0);
      g_assert_cmpstr (ane_test_op_arg (add, "x"), ==, out_name (mm0));
      assert_causal_mask (&l, ane_test_op_arg (add, "y"), dt, 2, 4);
      ane_test_assert_output (add, 0, dt, ss, 4);
      g_assert_cmpstr (ane_test_op_arg (sm, "x"), ==, out_name (add));
    }
}

static void
test_attention_causal_decode (void)
{
  /* one query sees every key: no mask at all */
  static const AttnCase c = { 1, 2, 2, 1, 7, 4, 4, TRUE, 0.0, 0.0, NULL, 0 };
  g_autoptr(AneGraph) g = attention_graph (&c);
  g_auto(Lowered) l = { 0 };

  lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32, &l);
  ane_test_assert_seq (l.p, "mul,matmul,softmax,matmul,identity");
}

static void
test_attention_causal_square_blob (void)
{
  /* S = L = 4: 16 mask elements go to weight.bin */
  static const AttnCase c = { 1, 1, 1, 4, 4, 2, 2, TRUE, 0.0, 0.0, NULL, 0 };
  g_autoptr(AneGraph) g = attention_graph (&c);
  g_auto(Lowered) l = { 0 };
  const char *mask;

  lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, &l);
  mask = ane_test_op_arg (ane_test_find_op (l.p, "add", 0), "y");
  g_assert_cmpint (ane_test_producer (l.p, mask)->attributes[1]->value->value_case, ==,
                   CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE);
  assert_causal_mask (&l, mask, ANE_DTYPE_FLOAT16, 4, 4);
}

static void
test_attention_bias (void)
{
  static const gint64 bs[] = { 1, 2, 3, 5 }, ss[] = { 1, 2, 3, 5 };
  static const AttnCase c = { 1, 2, 2, 3, 5, 4, 4, FALSE, 0.0, 0.0, bs, 4 };
  g_autoptr(AneGraph) g = attention_graph (&c);
  g_auto(Lowered) l = { 0 };
  AneMilOperation *add;

  lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32, &l);
  ane_test_assert_seq (l.p, "mul,matmul,add,softmax,matmul,identity");
  add = ane_test_find_op (l.p, "add", 0);
  g_assert_cmpstr (ane_test_op_arg (add, "x"), ==, out_name (ane_test_find_op (l.p, "matmul", 0)));
  g_assert_cmpstr (ane_test_op_arg (add, "y"), ==, "bias");
  ane_test_assert_output (add, 0, ANE_DTYPE_FLOAT32, ss, 4);
}

static void
test_attention_bias_causal (void)
{
  /* bias first, then the mask */
  static const gint64 bs[] = { 3, 5 };
  static const AttnCase c = { 2, 2, 2, 3, 5, 4, 4, TRUE, 0.25, 0.0, bs, 2 };
  g_autoptr(AneGraph) g = attention_graph (&c);
  g_auto(Lowered) l = { 0 };
  AneMilOperation *a0, *a1;

  lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32, &l);
  ane_test_assert_seq (l.p, "mul,matmul,add,add,softmax,matmul,identity");
  assert_const_scalar (&l, ane_test_op_arg (ane_test_find_op (l.p, "mul", 0), "y"), ANE_DTYPE_FLOAT32, 0.25);
  a0 = ane_test_find_op (l.p, "add", 0);
  a1 = ane_test_find_op (l.p, "add", 1);
  g_assert_cmpstr (ane_test_op_arg (a0, "y"), ==, "bias");
  g_assert_cmpstr (ane_test_op_arg (a1, "x"), ==, out_name (a0));
  assert_causal_mask (&l, ane_test_op_arg (a1, "y"), ANE_DTYPE_FLOAT32, 3, 5);
}

static void
test_attention_softcap (void)
{
  /* softcap: q * (scale/softcap), tanh, * softcap; SDPA cannot express it even at iOS18 */
  static const AttnCase c = { 1, 2, 2, 3, 3, 4, 4, TRUE, 0.0, 50.0, NULL, 0 };
  static const gint64 ss[] = { 1, 2, 3, 3 };

  for (guint fp16 = 0; fp16 < 2; fp16++)
    {
      g_autoptr(AneGraph) g = attention_graph (&c);
      g_auto(Lowered) l = { 0 };
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
      AneMilOperation *qm, *mm0, *th, *cap, *add;

      lower (g, ANE_MIL_IOS18, dt, &l);
      ane_test_assert_seq (l.p, fp16 ? "cast,cast,cast,mul,matmul,tanh,mul,add,softmax,matmul,cast"
                                     : "mul,matmul,tanh,mul,add,softmax,matmul,identity");
      qm = ane_test_find_op (l.p, "mul", 0);
      mm0 = ane_test_find_op (l.p, "matmul", 0);
      th = ane_test_find_op (l.p, "tanh", 0);
      cap = ane_test_find_op (l.p, "mul", 1);
      add = ane_test_find_op (l.p, "add", 0);
      assert_const_scalar (&l, ane_test_op_arg (qm, "y"), dt, 0.5 / 50.0);
      g_assert_cmpstr (ane_test_op_arg (th, "x"), ==, out_name (mm0));
      ane_test_assert_output (th, 0, dt, ss, 4);
      g_assert_cmpstr (ane_test_op_arg (cap, "x"), ==, out_name (th));
      assert_const_scalar (&l, ane_test_op_arg (cap, "y"), dt, 50.0);
      g_assert_cmpstr (ane_test_op_arg (add, "x"), ==, out_name (cap));
      assert_causal_mask (&l, ane_test_op_arg (add, "y"), dt, 3, 3);
    }
}

/* --- attention: grouped-query heads ----------------------------------------- */

static void
test_attention_gqa (void)
{
  /* H = 4, Hkv = 2: q [B, Hkv, G, S, D], k/v [B, Hkv, 1, L, *]; also at iOS18 */
  static const AttnCase c = { 1, 4, 2, 3, 5, 4, 6, FALSE, 0.0, 0.0, NULL, 0 };
  static const gint64 q5[] = { 1, 2, 2, 3, 4 }, k5[] = { 1, 2, 1, 5, 4 }, v5[] = { 1, 2, 1, 5, 6 };
  static const gint64 s5[] = { 1, 2, 2, 3, 5 }, o5[] = { 1, 2, 2, 3, 6 }, os[] = { 1, 4, 3, 6 };
  static const AneMilTarget targets[] = { ANE_MIL_IOS17, ANE_MIL_IOS18 };

  for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
    {
      g_autoptr(AneGraph) g = attention_graph (&c);
      g_auto(Lowered) l = { 0 };
      AneMilOperation *mul, *rq, *rk, *rv, *mm0, *sm, *mm1, *ro;

      lower (g, targets[t], ANE_DTYPE_FLOAT32, &l);
      ane_test_assert_seq (l.p, "mul,reshape,reshape,reshape,matmul,softmax,matmul,reshape,identity");
      mul = ane_test_find_op (l.p, "mul", 0);
      rq = ane_test_find_op (l.p, "reshape", 0);
      rk = ane_test_find_op (l.p, "reshape", 1);
      rv = ane_test_find_op (l.p, "reshape", 2);
      mm0 = ane_test_find_op (l.p, "matmul", 0);
      sm = ane_test_find_op (l.p, "softmax", 0);
      mm1 = ane_test_find_op (l.p, "matmul", 1);
      ro = ane_test_find_op (l.p, "reshape", 3);
      g_assert_cmpstr (ane_test_op_arg (rq, "x"), ==, out_name (mul));
      assert_const_ints (&l, ane_test_op_arg (rq, "shape"), q5, 5);
      ane_test_assert_output (rq, 0, ANE_DTYPE_FLOAT32, q5, 5);
      g_assert_cmpstr (ane_test_op_arg (rk, "x"), ==, "k");
      assert_const_ints (&l, ane_test_op_arg (rk, "shape"), k5, 5);
      g_assert_cmpstr (ane_test_op_arg (rv, "x"), ==, "v");
      assert_const_ints (&l, ane_test_op_arg (rv, "shape"), v5, 5);
      g_assert_cmpstr (ane_test_op_arg (mm0, "x"), ==, out_name (rq));
      g_assert_cmpstr (ane_test_op_arg (mm0, "y"), ==, out_name (rk));
      assert_const_bool (&l, ane_test_op_arg (mm0, "transpose_y"), TRUE);
      ane_test_assert_output (mm0, 0, ANE_DTYPE_FLOAT32, s5, 5);
      ane_test_assert_output (sm, 0, ANE_DTYPE_FLOAT32, s5, 5);
      g_assert_cmpstr (ane_test_op_arg (mm1, "y"), ==, out_name (rv));
      ane_test_assert_output (mm1, 0, ANE_DTYPE_FLOAT32, o5, 5);
      g_assert_cmpstr (ane_test_op_arg (ro, "x"), ==, out_name (mm1));
      assert_const_ints (&l, ane_test_op_arg (ro, "shape"), os, 4);
      ane_test_assert_output (ro, 0, ANE_DTYPE_FLOAT32, os, 4);
      g_assert_cmpstr (out_name (ro), ==, "attention");
    }
}

static void
test_attention_gqa_bias_causal (void)
{
  /* a bias with an H dim is viewed as [B, Hkv, G, S, L]; the mask stays [S, L] */
  static const gint64 bs[] = { 1, 4, 3, 5 }, b5[] = { 1, 2, 2, 3, 5 };
  static const AttnCase c = { 1, 4, 2, 3, 5, 4, 4, TRUE, 0.0, 0.0, bs, 4 };
  g_autoptr(AneGraph) g = attention_graph (&c);
  g_auto(Lowered) l = { 0 };
  AneMilOperation *rb, *a0, *a1;

  lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT16, &l);
  ane_test_assert_seq (l.p, "cast,cast,cast,cast,mul,reshape,reshape,reshape,matmul,reshape,add,add,softmax,matmul,reshape,cast");
  rb = ane_test_find_op (l.p, "reshape", 3);
  a0 = ane_test_find_op (l.p, "add", 0);
  a1 = ane_test_find_op (l.p, "add", 1);
  g_assert_cmpstr (ane_test_op_arg (rb, "x"), ==, inside (&l, "bias", TRUE));
  assert_const_ints (&l, ane_test_op_arg (rb, "shape"), b5, 5);
  g_assert_cmpstr (ane_test_op_arg (a0, "y"), ==, out_name (rb));
  ane_test_assert_output (a0, 0, ANE_DTYPE_FLOAT16, b5, 5);
  assert_causal_mask (&l, ane_test_op_arg (a1, "y"), ANE_DTYPE_FLOAT16, 3, 5);
}

static void
test_attention_gqa_bias_views (void)
{
  /* which bias shapes need the grouped view: B or H dims do, [S, L]-only ones do not */
  static const gint64 b_sl[] = { 1, 3, 5 }, b_b[] = { 2, 1, 3, 5 }, b_b5[] = { 2, 1, 1, 3, 5 };
  static const gint64 b_h1[] = { 4, 1, 5 }, b_h15[] = { 1, 2, 2, 1, 5 };
  static const struct { const gint64 *shape; guint rank; const gint64 *view; } cases[] = {
    { b_sl, 3, NULL },
    { b_b, 4, b_b5 },
    { b_h1, 3, b_h15 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      AttnCase c = { 2, 4, 2, 3, 5, 4, 4, FALSE, 0.0, 0.0, cases[i].shape, cases[i].rank };
      g_autoptr(AneGraph) g = attention_graph (&c);
      g_auto(Lowered) l = { 0 };
      AneMilOperation *add;

      lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32, &l);
      add = ane_test_find_op (l.p, "add", 0);
      if (cases[i].view == NULL)
        {
          ane_test_assert_seq (l.p, "mul,reshape,reshape,reshape,matmul,add,softmax,matmul,reshape,identity");
          g_assert_cmpstr (ane_test_op_arg (add, "y"), ==, "bias");
        }
      else
        {
          AneMilOperation *rb = ane_test_find_op (l.p, "reshape", 3);

          ane_test_assert_seq (l.p, "mul,reshape,reshape,reshape,matmul,reshape,add,softmax,matmul,reshape,identity");
          assert_const_ints (&l, ane_test_op_arg (rb, "shape"), cases[i].view, 5);
          g_assert_cmpstr (ane_test_op_arg (add, "y"), ==, out_name (rb));
        }
    }
}

static void
test_attention_mqa (void)
{
  /* Hkv = 1: the matmul broadcasts the single kv head, no views */
  static const AttnCase c = { 1, 4, 1, 3, 5, 4, 6, FALSE, 0.0, 0.0, NULL, 0 };
  static const gint64 ss[] = { 1, 4, 3, 5 }, os[] = { 1, 4, 3, 6 };
  g_autoptr(AneGraph) g = attention_graph (&c);
  g_auto(Lowered) l = { 0 };
  AneMilOperation *mm0, *mm1;

  lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32, &l);
  ane_test_assert_seq (l.p, "mul,matmul,softmax,matmul,identity");
  mm0 = ane_test_find_op (l.p, "matmul", 0);
  mm1 = ane_test_find_op (l.p, "matmul", 1);
  g_assert_cmpstr (ane_test_op_arg (mm0, "y"), ==, "k");
  ane_test_assert_output (mm0, 0, ANE_DTYPE_FLOAT32, ss, 4);
  g_assert_cmpstr (ane_test_op_arg (mm1, "y"), ==, "v");
  ane_test_assert_output (mm1, 0, ANE_DTYPE_FLOAT32, os, 4);
}

/* --- attention: iOS18 scaled_dot_product_attention --------------------------- */

static void
test_attention_sdpa (void)
{
  static const AttnCase c = { 1, 2, 2, 3, 5, 4, 6, FALSE, 0.0, 0.0, NULL, 0 };
  static const gint64 os[] = { 1, 2, 3, 6 };

  for (guint fp16 = 0; fp16 < 2; fp16++)
    {
      g_autoptr(AneGraph) g = attention_graph (&c);
      g_auto(Lowered) l = { 0 };
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
      AneMilOperation *op;

      lower (g, ANE_MIL_IOS18, dt, &l);
      ane_test_assert_seq (l.p, fp16 ? "cast,cast,cast,scaled_dot_product_attention,cast"
                                     : "scaled_dot_product_attention,identity");
      op = ane_test_find_op (l.p, "scaled_dot_product_attention", 0);
      g_assert_cmpstr (ane_test_op_arg (op, "query"), ==, inside (&l, "q", fp16));
      g_assert_cmpstr (ane_test_op_arg (op, "key"), ==, inside (&l, "k", fp16));
      g_assert_cmpstr (ane_test_op_arg (op, "value"), ==, inside (&l, "v", fp16));
      g_assert_null (ane_test_op_arg (op, "attn_mask"));
      ane_test_assert_output (op, 0, dt, os, 4);
      g_assert_cmpstr (out_name (op), ==, "attention");
    }
}

static void
test_attention_sdpa_scale (void)
{
  /* SDPA divides by sqrt(D): an explicit scale s is folded into q as s*sqrt(D);
   * s = 1/sqrt(D) is the default and multiplies nothing */
  {
    static const AttnCase c = { 1, 2, 2, 3, 5, 4, 4, FALSE, 0.1, 0.0, NULL, 0 };
    g_autoptr(AneGraph) g = attention_graph (&c);
    g_auto(Lowered) l = { 0 };
    AneMilOperation *mul, *op;

    lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32, &l);
    ane_test_assert_seq (l.p, "mul,scaled_dot_product_attention,identity");
    mul = ane_test_find_op (l.p, "mul", 0);
    op = ane_test_find_op (l.p, "scaled_dot_product_attention", 0);
    g_assert_cmpstr (ane_test_op_arg (mul, "x"), ==, "q");
    assert_const_scalar (&l, ane_test_op_arg (mul, "y"), ANE_DTYPE_FLOAT32, 0.1 * 2.0);
    g_assert_cmpstr (ane_test_op_arg (op, "query"), ==, out_name (mul));
  }
  {
    static const AttnCase c = { 1, 2, 2, 3, 5, 16, 4, FALSE, 0.25, 0.0, NULL, 0 };
    g_autoptr(AneGraph) g = attention_graph (&c);
    g_auto(Lowered) l = { 0 };

    lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32, &l);
    ane_test_assert_seq (l.p, "scaled_dot_product_attention,identity");
  }
}

static void
test_attention_sdpa_masks (void)
{
  /* causal -> the additive const as attn_mask; bias -> attn_mask; both -> their sum */
  static const gint64 bias_full[] = { 1, 1, 3, 5 }, bias_h[] = { 2, 1, 5 }, sum_shape[] = { 2, 3, 5 };
  {
    static const AttnCase c = { 1, 2, 2, 3, 5, 4, 4, TRUE, 0.0, 0.0, NULL, 0 };
    g_autoptr(AneGraph) g = attention_graph (&c);
    g_auto(Lowered) l = { 0 };

    lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT16, &l);
    ane_test_assert_seq (l.p, "cast,cast,cast,scaled_dot_product_attention,cast");
    assert_causal_mask (&l, ane_test_op_arg (ane_test_find_op (l.p, "scaled_dot_product_attention", 0), "attn_mask"),
                        ANE_DTYPE_FLOAT16, 3, 5);
  }
  {
    AttnCase c = { 1, 2, 2, 3, 5, 4, 4, FALSE, 0.0, 0.0, bias_full, 4 };
    g_autoptr(AneGraph) g = attention_graph (&c);
    g_auto(Lowered) l = { 0 };

    lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32, &l);
    ane_test_assert_seq (l.p, "scaled_dot_product_attention,identity");
    g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (l.p, "scaled_dot_product_attention", 0), "attn_mask"), ==, "bias");
  }
  {
    AttnCase c = { 1, 2, 2, 3, 5, 4, 4, TRUE, 0.0, 0.0, bias_h, 3 };
    g_autoptr(AneGraph) g = attention_graph (&c);
    g_auto(Lowered) l = { 0 };
    AneMilOperation *add;

    lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32, &l);
    ane_test_assert_seq (l.p, "add,scaled_dot_product_attention,identity");
    add = ane_test_find_op (l.p, "add", 0);
    g_assert_cmpstr (ane_test_op_arg (add, "x"), ==, "bias");
    assert_causal_mask (&l, ane_test_op_arg (add, "y"), ANE_DTYPE_FLOAT32, 3, 5);
    ane_test_assert_output (add, 0, ANE_DTYPE_FLOAT32, sum_shape, 3);
    g_assert_cmpstr (ane_test_op_arg (ane_test_find_op (l.p, "scaled_dot_product_attention", 0), "attn_mask"), ==,
                     out_name (add));
  }
}

static void
test_attention_sdpa_fallbacks (void)
{
  /* iOS18 still composes for a bias whose last dim is 1 (SDPA wants L there)
   * and for GQA (SDPA wants equal batch dims) */
  static const gint64 b1[] = { 1, 2, 3, 1 };
  {
    AttnCase c = { 1, 2, 2, 3, 5, 4, 4, FALSE, 0.0, 0.0, b1, 4 };
    g_autoptr(AneGraph) g = attention_graph (&c);
    g_auto(Lowered) l = { 0 };

    lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32, &l);
    ane_test_assert_seq (l.p, "mul,matmul,add,softmax,matmul,identity");
  }
  {
    /* ... but with a causal mask the sum has L columns */
    AttnCase c = { 1, 2, 2, 3, 5, 4, 4, TRUE, 0.0, 0.0, b1, 4 };
    g_autoptr(AneGraph) g = attention_graph (&c);
    g_auto(Lowered) l = { 0 };
    static const gint64 sum_shape[] = { 1, 2, 3, 5 };

    lower (g, ANE_MIL_IOS18, ANE_DTYPE_FLOAT32, &l);
    ane_test_assert_seq (l.p, "add,scaled_dot_product_attention,identity");
    ane_test_assert_output (ane_test_find_op (l.p, "add", 0), 0, ANE_DTYPE_FLOAT32, sum_shape, 4);
  }
}

static void
test_attention_targets (void)
{
  /* the same graph composes below iOS18 and uses SDPA from iOS18 on */
  static const AttnCase c = { 1, 2, 2, 3, 5, 4, 4, TRUE, 0.0, 0.0, NULL, 0 };
  static const struct { AneMilTarget t; const char *seq; } cases[] = {
    { ANE_MIL_IOS15, "mul,matmul,add,softmax,matmul,identity" },
    { ANE_MIL_IOS16, "mul,matmul,add,softmax,matmul,identity" },
    { ANE_MIL_IOS17, "mul,matmul,add,softmax,matmul,identity" },
    { ANE_MIL_IOS18, "scaled_dot_product_attention,identity" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(AneGraph) g = attention_graph (&c);
      g_auto(Lowered) l = { 0 };

      lower (g, cases[i].t, ANE_DTYPE_FLOAT32, &l);
      ane_test_assert_seq (l.p, cases[i].seq);
    }
}

/* --- rope --------------------------------------------------------------------- */

static AneGraph *
rope_graph (const gint64 *xs,
            AneRopeMode   mode,
            double        theta,
            gint64        n_rot)
{
  AneGraph *g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4, &error);
  g_autoptr(AneTensor) pos = ane_graph_input (g, "positions", ANE_DTYPE_INT32, xs + 2, 1, &error);
  g_autoptr(AneTensor) y = ane_graph_rope (g, x, pos, mode, theta, n_rot, &error);

  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  return g;
}

static void
assert_inv_freq (Lowered      *l,
                 const char   *value,
                 double        theta,
                 gint64        n,
                 const gint64 *shape,
                 guint         rank)
{
  g_autofree double *f = NULL;

  assert_const_type (l, value, ANE_DTYPE_FLOAT32, shape, rank);
  g_assert_cmpuint (const_values (l, value, &f), ==, (gsize) (n / 2));
  for (gint64 i = 0; i < n / 2; i++)
    g_assert_cmpfloat (f[i], ==, (double) (float) pow (theta, -2.0 * (double) i / (double) n));
}

/* The angle tables: reshape(positions) -> cast fp32 -> * inv_freq -> cos, sin
 * (fp32) [-> cast to fp16]. Returns the cos and sin tables used by the rotation. */
static void
assert_rope_tables (Lowered      *l,
                    const gint64 *pos_shape,
                    const gint64 *inv_shape,
                    const gint64 *tab,
                    guint         rank,
                    double        theta,
                    gint64        n,
                    gboolean      fp16,
                    const char  **cos_t,
                    const char  **sin_t)
{
  AneMilOperation *rp = ane_test_find_op (l->p, "reshape", 0);
  AneMilOperation *cast = ane_test_find_op (l->p, "cast", fp16 ? 1 : 0);
  AneMilOperation *ang = ane_test_find_op (l->p, "mul", 0);
  AneMilOperation *c = ane_test_find_op (l->p, "cos", 0), *s = ane_test_find_op (l->p, "sin", 0);

  g_assert_cmpstr (ane_test_op_arg (rp, "x"), ==, "positions");
  assert_const_ints (l, ane_test_op_arg (rp, "shape"), pos_shape, rank);
  ane_test_assert_output (rp, 0, ANE_DTYPE_INT32, pos_shape, rank);
  g_assert_cmpstr (ane_test_op_arg (cast, "x"), ==, out_name (rp));
  assert_const_string (l, ane_test_op_arg (cast, "dtype"), "fp32");
  ane_test_assert_output (cast, 0, ANE_DTYPE_FLOAT32, pos_shape, rank);
  g_assert_cmpstr (ane_test_op_arg (ang, "x"), ==, out_name (cast));
  assert_inv_freq (l, ane_test_op_arg (ang, "y"), theta, n, inv_shape, rank - 1);
  ane_test_assert_output (ang, 0, ANE_DTYPE_FLOAT32, tab, rank);
  g_assert_cmpstr (ane_test_op_arg (c, "x"), ==, out_name (ang));
  g_assert_cmpstr (ane_test_op_arg (s, "x"), ==, out_name (ang));
  ane_test_assert_output (c, 0, ANE_DTYPE_FLOAT32, tab, rank);
  ane_test_assert_output (s, 0, ANE_DTYPE_FLOAT32, tab, rank);
  *cos_t = out_name (c);
  *sin_t = out_name (s);
  if (fp16)
    {
      AneMilOperation *cc = ane_test_find_op (l->p, "cast", 2), *sc = ane_test_find_op (l->p, "cast", 3);

      g_assert_cmpstr (ane_test_op_arg (cc, "x"), ==, out_name (c));
      g_assert_cmpstr (ane_test_op_arg (sc, "x"), ==, out_name (s));
      assert_const_string (l, ane_test_op_arg (cc, "dtype"), "fp16");
      ane_test_assert_output (cc, 0, ANE_DTYPE_FLOAT16, tab, rank);
      ane_test_assert_output (sc, 0, ANE_DTYPE_FLOAT16, tab, rank);
      *cos_t = out_name (cc);
      *sin_t = out_name (sc);
    }
}

/* The four muls, sub and add of one rotation starting at mul number `first`. */
static void
assert_rotation (Lowered         *l,
                 guint            first,
                 const char      *a,
                 const char      *b,
                 const char      *cos_t,
                 const char      *sin_t,
                 AneDType         dt,
                 const gint64    *shape,
                 guint            rank,
                 const char     **o1,
                 const char     **o2)
{
  AneMilOperation *ac = ane_test_find_op (l->p, "mul", first), *bs = ane_test_find_op (l->p, "mul", first + 1);
  AneMilOperation *as = ane_test_find_op (l->p, "mul", first + 2), *bc = ane_test_find_op (l->p, "mul", first + 3);
  AneMilOperation *sub = ane_test_find_op (l->p, "sub", 0), *add = ane_test_find_op (l->p, "add", 0);

  g_assert_cmpstr (ane_test_op_arg (ac, "x"), ==, a);
  g_assert_cmpstr (ane_test_op_arg (ac, "y"), ==, cos_t);
  g_assert_cmpstr (ane_test_op_arg (bs, "x"), ==, b);
  g_assert_cmpstr (ane_test_op_arg (bs, "y"), ==, sin_t);
  g_assert_cmpstr (ane_test_op_arg (as, "x"), ==, a);
  g_assert_cmpstr (ane_test_op_arg (as, "y"), ==, sin_t);
  g_assert_cmpstr (ane_test_op_arg (bc, "x"), ==, b);
  g_assert_cmpstr (ane_test_op_arg (bc, "y"), ==, cos_t);
  g_assert_cmpstr (ane_test_op_arg (sub, "x"), ==, out_name (ac));
  g_assert_cmpstr (ane_test_op_arg (sub, "y"), ==, out_name (bs));
  g_assert_cmpstr (ane_test_op_arg (add, "x"), ==, out_name (as));
  g_assert_cmpstr (ane_test_op_arg (add, "y"), ==, out_name (bc));
  ane_test_assert_output (ac, 0, dt, shape, rank);
  ane_test_assert_output (sub, 0, dt, shape, rank);
  ane_test_assert_output (add, 0, dt, shape, rank);
  *o1 = out_name (sub);
  *o2 = out_name (add);
}

static void
assert_slice (Lowered         *l,
              AneMilOperation *op,
              const char      *x,
              const gint64    *begin,
              const gint64    *end,
              AneDType         dt,
              const gint64    *shape,
              guint            rank)
{
  g_assert_cmpstr (ane_test_op_arg (op, "x"), ==, x);
  assert_const_ints (l, ane_test_op_arg (op, "begin"), begin, rank);
  assert_const_ints (l, ane_test_op_arg (op, "end"), end, rank);
  ane_test_assert_output (op, 0, dt, shape, rank);
}

static void
assert_concat (Lowered         *l,
               AneMilOperation *op,
               const char     **values,
               guint            n)
{
  AneMilArgument *arg = NULL;

  for (gsize i = 0; i < op->n_inputs; i++)
    if (g_str_equal (op->inputs[i]->key, "values"))
      arg = op->inputs[i]->value;
  g_assert_nonnull (arg);
  g_assert_cmpuint (arg->n_arguments, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (arg->arguments[i]->name, ==, values[i]);
  assert_const_scalar (l, ane_test_op_arg (op, "axis"), ANE_DTYPE_INT32, -1);
}

static void
test_rope_neox (void)
{
  static const gint64 xs[] = { 1, 2, 3, 8 }, hs[] = { 1, 2, 3, 4 };
  static const gint64 pos_shape[] = { 3, 1 }, inv_shape[] = { 4 }, tab[] = { 3, 4 };
  static const gint64 a_b[] = { 0, 0, 0, 0 }, a_e[] = { 1, 2, 3, 4 }, b_b[] = { 0, 0, 0, 4 }, b_e[] = { 1, 2, 3, 8 };

  for (guint fp16 = 0; fp16 < 2; fp16++)
    {
      g_autoptr(AneGraph) g = rope_graph (xs, ANE_ROPE_NEOX, 10000.0, 0);
      g_auto(Lowered) l = { 0 };
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
      const char *cos_t, *sin_t, *o[2];
      AneMilOperation *sa, *sb, *cat;

      lower (g, ANE_MIL_IOS17, dt, &l);
      ane_test_assert_seq (l.p, fp16 ? "cast,reshape,cast,mul,cos,sin,cast,cast,slice_by_index,slice_by_index,"
                                       "mul,mul,mul,mul,sub,add,concat,cast"
                                     : "reshape,cast,mul,cos,sin,slice_by_index,slice_by_index,"
                                       "mul,mul,mul,mul,sub,add,concat,identity");
      assert_rope_tables (&l, pos_shape, inv_shape, tab, 2, 10000.0, 8, fp16, &cos_t, &sin_t);
      sa = ane_test_find_op (l.p, "slice_by_index", 0);
      sb = ane_test_find_op (l.p, "slice_by_index", 1);
      assert_slice (&l, sa, inside (&l, "x", fp16), a_b, a_e, dt, hs, 4);
      assert_slice (&l, sb, inside (&l, "x", fp16), b_b, b_e, dt, hs, 4);
      assert_rotation (&l, 1, out_name (sa), out_name (sb), cos_t, sin_t, dt, hs, 4, &o[0], &o[1]);
      cat = ane_test_find_op (l.p, "concat", 0);
      assert_concat (&l, cat, o, 2);
      ane_test_assert_output (cat, 0, dt, xs, 4);
      g_assert_cmpstr (out_name (cat), ==, "rope");
    }
}

static void
test_rope_neox_partial (void)
{
  /* n_rot 4 of D 10: halves of the first 4 features, the last 6 pass through;
   * frequencies theta^(-2i/n_rot) */
  static const gint64 xs[] = { 2, 1, 3, 10 }, hs[] = { 2, 1, 3, 2 }, ps[] = { 2, 1, 3, 6 };
  static const gint64 pos_shape[] = { 3, 1 }, inv_shape[] = { 2 }, tab[] = { 3, 2 };
  static const gint64 a_b[] = { 0, 0, 0, 0 }, a_e[] = { 2, 1, 3, 2 };
  static const gint64 b_b[] = { 0, 0, 0, 2 }, b_e[] = { 2, 1, 3, 4 };
  static const gint64 p_b[] = { 0, 0, 0, 4 }, p_e[] = { 2, 1, 3, 10 };
  g_autoptr(AneGraph) g = rope_graph (xs, ANE_ROPE_NEOX, 500000.0, 4);
  g_auto(Lowered) l = { 0 };
  const char *cos_t, *sin_t, *o[3];
  AneMilOperation *sa, *sb, *sp, *cat;

  lower (g, ANE_MIL_IOS15, ANE_DTYPE_FLOAT32, &l);
  ane_test_assert_seq (l.p, "reshape,cast,mul,cos,sin,slice_by_index,slice_by_index,"
                            "mul,mul,mul,mul,sub,add,slice_by_index,concat,identity");
  assert_rope_tables (&l, pos_shape, inv_shape, tab, 2, 500000.0, 4, FALSE, &cos_t, &sin_t);
  sa = ane_test_find_op (l.p, "slice_by_index", 0);
  sb = ane_test_find_op (l.p, "slice_by_index", 1);
  sp = ane_test_find_op (l.p, "slice_by_index", 2);
  assert_slice (&l, sa, "x", a_b, a_e, ANE_DTYPE_FLOAT32, hs, 4);
  assert_slice (&l, sb, "x", b_b, b_e, ANE_DTYPE_FLOAT32, hs, 4);
  assert_slice (&l, sp, "x", p_b, p_e, ANE_DTYPE_FLOAT32, ps, 4);
  assert_rotation (&l, 1, out_name (sa), out_name (sb), cos_t, sin_t, ANE_DTYPE_FLOAT32, hs, 4, &o[0], &o[1]);
  o[2] = out_name (sp);
  cat = ane_test_find_op (l.p, "concat", 0);
  assert_concat (&l, cat, o, 3);
  ane_test_assert_output (cat, 0, ANE_DTYPE_FLOAT32, xs, 4);
}

static void
test_rope_interleaved (void)
{
  /* pairs (2i, 2i+1) through the view [B, H, S, n/2, 2]; tables [S, n/2, 1] */
  static const gint64 xs[] = { 1, 2, 3, 8 }, pairs[] = { 1, 2, 3, 4, 2 }, half5[] = { 1, 2, 3, 4, 1 };
  static const gint64 pos_shape[] = { 3, 1, 1 }, inv_shape[] = { 4, 1 }, tab[] = { 3, 4, 1 };
  static const gint64 a_b[] = { 0, 0, 0, 0, 0 }, a_e[] = { 1, 2, 3, 4, 1 };
  static const gint64 b_b[] = { 0, 0, 0, 0, 1 }, b_e[] = { 1, 2, 3, 4, 2 };

  for (guint fp16 = 0; fp16 < 2; fp16++)
    {
      g_autoptr(AneGraph) g = rope_graph (xs, ANE_ROPE_INTERLEAVED, 10000.0, 8);
      g_auto(Lowered) l = { 0 };
      AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
      const char *cos_t, *sin_t, *o[2];
      AneMilOperation *rx, *sa, *sb, *cat, *back;

      lower (g, ANE_MIL_IOS18, dt, &l);
      ane_test_assert_seq (l.p, fp16 ? "cast,reshape,cast,mul,cos,sin,cast,cast,reshape,slice_by_index,slice_by_index,"
                                       "mul,mul,mul,mul,sub,add,concat,reshape,cast"
                                     : "reshape,cast,mul,cos,sin,reshape,slice_by_index,slice_by_index,"
                                       "mul,mul,mul,mul,sub,add,concat,reshape,identity");
      assert_rope_tables (&l, pos_shape, inv_shape, tab, 3, 10000.0, 8, fp16, &cos_t, &sin_t);
      rx = ane_test_find_op (l.p, "reshape", 1);
      g_assert_cmpstr (ane_test_op_arg (rx, "x"), ==, inside (&l, "x", fp16));
      assert_const_ints (&l, ane_test_op_arg (rx, "shape"), pairs, 5);
      sa = ane_test_find_op (l.p, "slice_by_index", 0);
      sb = ane_test_find_op (l.p, "slice_by_index", 1);
      assert_slice (&l, sa, out_name (rx), a_b, a_e, dt, half5, 5);
      assert_slice (&l, sb, out_name (rx), b_b, b_e, dt, half5, 5);
      assert_rotation (&l, 1, out_name (sa), out_name (sb), cos_t, sin_t, dt, half5, 5, &o[0], &o[1]);
      cat = ane_test_find_op (l.p, "concat", 0);
      assert_concat (&l, cat, o, 2);
      ane_test_assert_output (cat, 0, dt, pairs, 5);
      back = ane_test_find_op (l.p, "reshape", 2);
      g_assert_cmpstr (ane_test_op_arg (back, "x"), ==, out_name (cat));
      assert_const_ints (&l, ane_test_op_arg (back, "shape"), xs, 4);
      ane_test_assert_output (back, 0, dt, xs, 4);
      g_assert_cmpstr (out_name (back), ==, "rope");
    }
}

static void
test_rope_interleaved_partial (void)
{
  static const gint64 xs[] = { 1, 1, 2, 6 }, rot[] = { 1, 1, 2, 4 }, pass[] = { 1, 1, 2, 2 };
  static const gint64 pairs[] = { 1, 1, 2, 2, 2 };
  static const gint64 r_b[] = { 0, 0, 0, 0 }, r_e[] = { 1, 1, 2, 4 }, p_b[] = { 0, 0, 0, 4 }, p_e[] = { 1, 1, 2, 6 };
  g_autoptr(AneGraph) g = rope_graph (xs, ANE_ROPE_INTERLEAVED, 10000.0, 4);
  g_auto(Lowered) l = { 0 };
  AneMilOperation *sr, *sp, *rx, *back, *cat;
  const char *parts[2];

  lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT32, &l);
  ane_test_assert_seq (l.p, "reshape,cast,mul,cos,sin,slice_by_index,slice_by_index,reshape,slice_by_index,slice_by_index,"
                            "mul,mul,mul,mul,sub,add,concat,reshape,concat,identity");
  sr = ane_test_find_op (l.p, "slice_by_index", 0);
  sp = ane_test_find_op (l.p, "slice_by_index", 1);
  assert_slice (&l, sr, "x", r_b, r_e, ANE_DTYPE_FLOAT32, rot, 4);
  assert_slice (&l, sp, "x", p_b, p_e, ANE_DTYPE_FLOAT32, pass, 4);
  rx = ane_test_find_op (l.p, "reshape", 1);
  g_assert_cmpstr (ane_test_op_arg (rx, "x"), ==, out_name (sr));
  assert_const_ints (&l, ane_test_op_arg (rx, "shape"), pairs, 5);
  back = ane_test_find_op (l.p, "reshape", 2);
  ane_test_assert_output (back, 0, ANE_DTYPE_FLOAT32, rot, 4);
  cat = ane_test_find_op (l.p, "concat", 1);
  parts[0] = out_name (back);
  parts[1] = out_name (sp);
  assert_concat (&l, cat, parts, 2);
  ane_test_assert_output (cat, 0, ANE_DTYPE_FLOAT32, xs, 4);
  g_assert_cmpstr (out_name (cat), ==, "rope");
  {
    g_autofree double *f = NULL;
    g_assert_cmpuint (const_values (&l, ane_test_op_arg (ane_test_find_op (l.p, "mul", 0), "y"), &f), ==, 2);
    g_assert_cmpfloat (f[0], ==, 1.0);
    g_assert_cmpfloat (f[1], ==, (double) 0.01f);   /* 10000^(-2/4), as fp32 */
  }
}

static void
test_rope_positions_int64 (void)
{
  /* int64 positions are int32 inside the program */
  static const gint64 xs[] = { 1, 1, 3, 4 }, s3[] = { 3 }, pos_shape[] = { 3, 1 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4, &error);
  g_autoptr(AneTensor) p32 = ane_graph_input (g, "p32", ANE_DTYPE_INT32, s3, 1, &error);
  g_autoptr(AneTensor) pos = ane_graph_cast (g, p32, ANE_DTYPE_INT64, &error);
  g_autoptr(AneTensor) y = ane_graph_rope (g, x, pos, ANE_ROPE_NEOX, 10000.0, 0, &error);
  g_auto(Lowered) l = { 0 };
  AneMilOperation *rp, *cast;

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  lower (g, ANE_MIL_IOS17, ANE_DTYPE_FLOAT16, &l);
  /* the int32 -> int64 cast is no op inside the program: the input itself */
  rp = ane_test_find_op (l.p, "reshape", 0);
  g_assert_cmpstr (ane_test_op_arg (rp, "x"), ==, "p32");
  ane_test_assert_output (rp, 0, ANE_DTYPE_INT32, pos_shape, 2);
  cast = ane_test_producer (l.p, ane_test_op_arg (ane_test_find_op (l.p, "mul", 0), "x"));
  g_assert_cmpstr (cast->type, ==, "cast");
  g_assert_cmpstr (ane_test_op_arg (cast, "x"), ==, out_name (rp));
}

/* --- axial_rope_2d ----------------------------------------------------------- */

static void
expected_axial (gint64  N,
                gint64  D,
                gint64  end_x,
                double  theta,
                double *c,
                double *s)
{
  gint64 half = D / 2, quarter = D / 4;

  for (gint64 t = 0; t < N; t++)
    for (gint64 j = 0; j < half; j++)
      {
        double pos = j < quarter ? (double) (t % end_x) : (double) (t / end_x);
        gint64 i = j < quarter ? j : j - quarter;
        double a = pos * pow (theta, -4.0 * (double) i / (double) D);

        c[t * half + j] = cos (a);
        s[t * half + j] = sin (a);
      }
}

static void
test_axial_rope_2d (void)
{
  static const struct { gint64 shape[4]; gint64 end_x, end_y; } cases[] = {
    { { 1, 1, 2, 4 }, 2, 1 },      /* 4 table entries: immediate */
    { { 1, 2, 6, 8 }, 3, 2 },      /* 24: weight.bin */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    for (guint fp16 = 0; fp16 < 2; fp16++)
      {
        const gint64 *xs = cases[i].shape;
        gint64 N = xs[2], D = xs[3];
        gint64 tab[3] = { N, D / 2, 1 };
        gint64 pairs[5] = { xs[0], xs[1], N, D / 2, 2 }, half5[5] = { xs[0], xs[1], N, D / 2, 1 };
        g_autoptr(AneGraph) g = ane_graph_new ();
        g_autoptr(GError) error = NULL;
        g_autoptr(AneTensor) x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, xs, 4, &error);
        g_autoptr(AneTensor) y = ane_graph_axial_rope_2d (g, x, cases[i].end_x, cases[i].end_y, 10000.0, &error);
        g_auto(Lowered) l = { 0 };
        AneDType dt = fp16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
        g_autofree double *ec = g_new (double, N * D / 2);
        g_autofree double *es = g_new (double, N * D / 2);
        g_autofree double *gc = NULL, *gs = NULL;
        AneMilOperation *rx, *sa, *sb, *ac, *bs, *back;

        ane_graph_add_output (g, "y", y, &error);
        g_assert_no_error (error);
        lower (g, ANE_MIL_IOS16, dt, &l);
        ane_test_assert_seq (l.p, fp16 ? "cast,reshape,slice_by_index,slice_by_index,mul,mul,mul,mul,sub,add,concat,reshape,cast"
                                       : "reshape,slice_by_index,slice_by_index,mul,mul,mul,mul,sub,add,concat,reshape,identity");
        rx = ane_test_find_op (l.p, "reshape", 0);
        g_assert_cmpstr (ane_test_op_arg (rx, "x"), ==, inside (&l, "x", fp16));
        assert_const_ints (&l, ane_test_op_arg (rx, "shape"), pairs, 5);
        sa = ane_test_find_op (l.p, "slice_by_index", 0);
        sb = ane_test_find_op (l.p, "slice_by_index", 1);
        ane_test_assert_output (sa, 0, dt, half5, 5);
        ac = ane_test_find_op (l.p, "mul", 0);
        bs = ane_test_find_op (l.p, "mul", 1);
        g_assert_cmpstr (ane_test_op_arg (ac, "x"), ==, out_name (sa));
        g_assert_cmpstr (ane_test_op_arg (bs, "x"), ==, out_name (sb));
        assert_const_type (&l, ane_test_op_arg (ac, "y"), dt, tab, 3);
        assert_const_type (&l, ane_test_op_arg (bs, "y"), dt, tab, 3);
        expected_axial (N, D, cases[i].end_x, 10000.0, ec, es);
        g_assert_cmpuint (const_values (&l, ane_test_op_arg (ac, "y"), &gc), ==, (gsize) (N * D / 2));
        g_assert_cmpuint (const_values (&l, ane_test_op_arg (bs, "y"), &gs), ==, (gsize) (N * D / 2));
        for (gint64 j = 0; j < N * D / 2; j++)
          {
            g_assert_cmpfloat (gc[j], ==, ane_dtype_round (dt, ec[j]));
            g_assert_cmpfloat (gs[j], ==, ane_dtype_round (dt, es[j]));
          }
        back = ane_test_find_op (l.p, "reshape", 1);
        ane_test_assert_output (back, 0, dt, xs, 4);
        g_assert_cmpstr (out_name (back), ==, "axial_rope_2d");
      }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/lower/attention/attention/compose", test_attention_compose);
  g_test_add_func ("/ane/lower/attention/attention/compose-scale-one", test_attention_compose_scale_one);
  g_test_add_func ("/ane/lower/attention/attention/causal", test_attention_causal);
  g_test_add_func ("/ane/lower/attention/attention/causal-decode", test_attention_causal_decode);
  g_test_add_func ("/ane/lower/attention/attention/causal-blob", test_attention_causal_square_blob);
  g_test_add_func ("/ane/lower/attention/attention/bias", test_attention_bias);
  g_test_add_func ("/ane/lower/attention/attention/bias-causal", test_attention_bias_causal);
  g_test_add_func ("/ane/lower/attention/attention/softcap", test_attention_softcap);
  g_test_add_func ("/ane/lower/attention/attention/gqa", test_attention_gqa);
  g_test_add_func ("/ane/lower/attention/attention/gqa-bias-causal", test_attention_gqa_bias_causal);
  g_test_add_func ("/ane/lower/attention/attention/gqa-bias-views", test_attention_gqa_bias_views);
  g_test_add_func ("/ane/lower/attention/attention/mqa", test_attention_mqa);
  g_test_add_func ("/ane/lower/attention/attention/sdpa", test_attention_sdpa);
  g_test_add_func ("/ane/lower/attention/attention/sdpa-scale", test_attention_sdpa_scale);
  g_test_add_func ("/ane/lower/attention/attention/sdpa-masks", test_attention_sdpa_masks);
  g_test_add_func ("/ane/lower/attention/attention/sdpa-fallbacks", test_attention_sdpa_fallbacks);
  g_test_add_func ("/ane/lower/attention/attention/targets", test_attention_targets);
  g_test_add_func ("/ane/lower/attention/rope/neox", test_rope_neox);
  g_test_add_func ("/ane/lower/attention/rope/neox-partial", test_rope_neox_partial);
  g_test_add_func ("/ane/lower/attention/rope/interleaved", test_rope_interleaved);
  g_test_add_func ("/ane/lower/attention/rope/interleaved-partial", test_rope_interleaved_partial);
  g_test_add_func ("/ane/lower/attention/rope/positions-int64", test_rope_positions_int64);
  g_test_add_func ("/ane/lower/attention/axial_rope_2d", test_axial_rope_2d);

  return g_test_run ();
}
