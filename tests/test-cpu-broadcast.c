/* test-cpu-broadcast.c: the CPU backend's broadcast walk (runtime/cpu/ane-cpu-bcast.c)
 * and the kernels built on it (binary elementwise ops, select, tile)
 *
 * - /ane/cpu/broadcast/walk: for random output shapes of rank 0..6 with
 *   size-1 dims anywhere and 1..3 operands of lower or equal rank (each dim
 *   1 or the output's), the walk started at random flat indices visits
 *   exactly [begin, end) in order, in runs within the last dim, and gives
 *   every operand the offset a naive unravel / broadcast ravel gives.
 *   Shapes that do not broadcast are refused. Strided layouts (tile's
 *   split dims) the same.
 * - /ane/cpu/broadcast/merge: dims merge where the operands step alike: a
 *   same-shape op is one run dim, a [1, 1, S, 512] bias against [1, 12, S,
 *   512] two, select's cond [1, 1, 512, 1] against [1, 12, 512, 64] three.
 * - /ane/cpu/broadcast/ops: MIL programs of add, sub, mul, real_div,
 *   maximum, greater, logical_xor, select (each of cond, a and b
 *   broadcasting) and tile over random shapes (ranks 0..5 with size-1 dims,
 *   odd sizes, operands of lower rank) in fp32, fp16, int32 and bool, and
 *   decode-sized shapes that the pool splits, run at 1, 2, 3 and 4 threads
 *   (ane_set_num_threads): every output equals, value for value, a naive
 *   loop here (the op in double, rounded to the output's dtype as the
 *   interpreter does after each op: fp32, then fp16), and the bytes are the
 *   same at every thread count.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "ane-lower-test-util.h"
#include "mil/ane-mil-text-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"
#include "runtime/cpu/ane-cpu-bcast-private.h"

typedef struct {
  guint  rank;
  gint64 d[ANE_CPU_MAX_RANK];
} Shape;

static gsize
shape_n (const Shape *s)
{
  gsize n = 1;

  for (guint i = 0; i < s->rank; i++)
    n *= (gsize) s->d[i];
  return n;
}

/* The naive way: coordinates of flat index i, then operand v's offset with
 * its size-1 and missing dims at 0 (numpy broadcasting). */
static gsize
naive_offset (const Shape *out,
              const Shape *v,
              gsize        i)
{
  gint64 c[ANE_CPU_MAX_RANK];
  gsize off = 0;

  for (guint d = out->rank; d-- > 0;)
    {
      c[d] = (gint64) (i % (gsize) out->d[d]);
      i /= (gsize) out->d[d];
    }
  for (guint d = 0; d < v->rank; d++)
    {
      gint64 dim = v->d[d];
      off = off * (gsize) dim + (gsize) (dim == 1 ? 0 : c[out->rank - v->rank + d]);
    }
  return off;
}

/* A random output shape: rank ≤ max_rank, dims 1..max_dim with size-1 dims
 * in about a third of the places. */
static Shape
random_shape (GRand *r,
              guint  max_rank,
              gint   max_dim)
{
  Shape s = { (guint) g_rand_int_range (r, 0, (gint) max_rank + 1), { 0, } };

  for (guint d = 0; d < s.rank; d++)
    s.d[d] = g_rand_int_range (r, 0, 3) == 0 ? 1 : g_rand_int_range (r, 1, max_dim + 1);
  return s;
}

/* An operand broadcasting to out: a lower (or equal) rank, each of its dims
 * out's or 1. */
static Shape
random_operand (GRand       *r,
                const Shape *out)
{
  Shape s = { (guint) g_rand_int_range (r, 0, (gint) out->rank + 1), { 0, } };

  for (guint d = 0; d < s.rank; d++)
    s.d[d] = g_rand_boolean (r) ? out->d[out->rank - s.rank + d] : 1;
  return s;
}

/* A value of shape s for the layout functions (no storage is read). */
static AneCpuValue
value_of (const Shape *s)
{
  AneCpuValue v = { 0, };

  v.dtype = ANE_DTYPE_FLOAT32;
  v.rank = s->rank;
  memcpy (v.shape, s->d, s->rank * sizeof (gint64));
  v.n = shape_n (s);
  return v;
}

/* Walks [begin, end) of b and checks every element against offset_of. */
typedef gsize (*OffsetFunc) (gconstpointer data, guint k, gsize i);

static void
check_walk (const AneCpuBcast *b,
            gsize              begin,
            gsize              end,
            OffsetFunc         offset_of,
            gconstpointer      data)
{
  AneCpuBcastIter it;
  gsize next = begin;

  ane_cpu_bcast_iter_init (&it, b, begin, end);
  while (ane_cpu_bcast_next (&it))
    {
      g_assert_cmpuint (it.index, ==, next);
      g_assert_cmpuint (it.len, >, 0);
      g_assert_cmpuint (it.len, <=, (gsize) b->shape[b->rank - 1]);
      for (guint k = 0; k < b->n_operands; k++)
        for (gsize e = 0; e < it.len; e++)
          {
            gsize got = it.off[k] + e * ane_cpu_bcast_inner_stride (b, k);
            gsize want = offset_of (data, k, it.index + e);

            if (got != want)
              g_error ("operand %u of element %zu: offset %zu, the naive loop %zu", k, it.index + e, got, want);
          }
      next += it.len;
    }
  g_assert_cmpuint (next, ==, MAX (begin, MIN (end, b->n)));
}

typedef struct {
  Shape out;
  Shape ops[ANE_CPU_BCAST_MAX_OPERANDS];
} BroadcastCase;

static gsize
broadcast_offset_of (gconstpointer data,
                     guint         k,
                     gsize         i)
{
  const BroadcastCase *c = data;

  return naive_offset (&c->out, &c->ops[k], i);
}

/* Walks of 1..4 pieces, cut at random, cover every element once. */
static void
check_pieces (GRand             *r,
              const AneCpuBcast *b,
              OffsetFunc         offset_of,
              gconstpointer      data)
{
  guint pieces = (guint) g_rand_int_range (r, 1, 5);
  gsize begin = 0;

  for (guint p = 0; p < pieces; p++)
    {
      gsize end = p + 1 == pieces ? b->n : begin + (gsize) g_rand_int_range (r, 0, (gint) (b->n - begin) + 1);

      check_walk (b, begin, end, offset_of, data);
      begin = end;
    }
}

static void
test_walk (void)
{
  g_autoptr(GRand) r = g_rand_new_with_seed (15);

  for (guint round = 0; round < 3000; round++)
    {
      BroadcastCase c = { random_shape (r, 6, 5), { { 0, }, } };
      guint n_ops = (guint) g_rand_int_range (r, 1, ANE_CPU_BCAST_MAX_OPERANDS + 1);
      AneCpuValue out = value_of (&c.out), values[ANE_CPU_BCAST_MAX_OPERANDS];
      const AneCpuValue *operands[ANE_CPU_BCAST_MAX_OPERANDS];
      AneCpuBcast b;

      for (guint k = 0; k < n_ops; k++)
        {
          c.ops[k] = random_operand (r, &c.out);
          values[k] = value_of (&c.ops[k]);
          operands[k] = &values[k];
        }
      g_assert_true (ane_cpu_bcast_init (&b, &out, operands, n_ops));
      g_assert_cmpuint (b.n, ==, shape_n (&c.out));
      check_pieces (r, &b, broadcast_offset_of, &c);

      /* a dim neither 1 nor the output's, or a rank above it, is refused */
      if (c.out.rank > 0 && c.ops[0].rank > 0)
        {
          values[0].shape[values[0].rank - 1] = c.out.d[c.out.rank - 1] + 1;
          g_assert_false (ane_cpu_bcast_init (&b, &out, operands, n_ops));
        }
      if (c.out.rank < ANE_CPU_MAX_RANK)
        {
          values[0] = value_of (&c.ops[0]);
          values[0].rank = c.out.rank + 1;
          for (guint d = 0; d < values[0].rank; d++)
            values[0].shape[d] = 1;
          g_assert_false (ane_cpu_bcast_init (&b, &out, operands, n_ops));
        }
    }
}

typedef struct {
  guint  rank;
  gint64 shape[ANE_CPU_BCAST_MAX_RANK];
  gint64 strides[ANE_CPU_BCAST_MAX_OPERANDS][ANE_CPU_BCAST_MAX_RANK];
} StridedCase;

static gsize
strided_offset_of (gconstpointer data,
                   guint         k,
                   gsize         i)
{
  const StridedCase *c = data;
  gsize off = 0;

  for (guint d = c->rank; d-- > 0;)
    {
      off += (i % (gsize) c->shape[d]) * (gsize) c->strides[k][d];
      i /= (gsize) c->shape[d];
    }
  return off;
}

/* Explicit strides: tile's (repetition, x) pairs and arbitrary ones. */
static void
test_walk_strided (void)
{
  g_autoptr(GRand) r = g_rand_new_with_seed (16);

  for (guint round = 0; round < 2000; round++)
    {
      StridedCase c = { (guint) g_rand_int_range (r, 0, ANE_CPU_BCAST_MAX_RANK + 1), { 0, }, { { 0, }, } };
      guint n_ops = (guint) g_rand_int_range (r, 1, ANE_CPU_BCAST_MAX_OPERANDS + 1);
      const gint64 *rows[ANE_CPU_BCAST_MAX_OPERANDS];
      gsize n = 1;
      AneCpuBcast b;

      for (guint d = 0; d < c.rank; d++)
        {
          c.shape[d] = n > 20000 ? 1 : g_rand_int_range (r, 1, 4);
          n *= (gsize) c.shape[d];
        }
      for (guint k = 0; k < n_ops; k++)
        {
          gint64 step = 1;

          /* tile's layout (a contiguous x inside, 0 for repetitions) or random steps */
          for (guint d = c.rank; d-- > 0;)
            {
              if (g_rand_boolean (r))
                c.strides[k][d] = g_rand_boolean (r) ? 0 : step;
              else
                c.strides[k][d] = g_rand_int_range (r, 0, 50);
              if (c.strides[k][d] != 0)
                step = c.strides[k][d] * c.shape[d];
            }
          rows[k] = c.strides[k];
        }
      ane_cpu_bcast_init_strided (&b, c.shape, c.rank, rows, n_ops);
      g_assert_cmpuint (b.n, ==, n);
      check_pieces (r, &b, strided_offset_of, &c);
    }
}

/* The merged layout of out and its operands. */
static guint
merged_rank (const Shape *out,
             const Shape *ops,
             guint        n_ops,
             gint64      *inner)
{
  AneCpuValue o = value_of (out), values[ANE_CPU_BCAST_MAX_OPERANDS];
  const AneCpuValue *operands[ANE_CPU_BCAST_MAX_OPERANDS];
  AneCpuBcast b;

  for (guint k = 0; k < n_ops; k++)
    {
      values[k] = value_of (&ops[k]);
      operands[k] = &values[k];
    }
  g_assert_true (ane_cpu_bcast_init (&b, &o, operands, n_ops));
  *inner = b.shape[b.rank - 1];
  return b.rank;
}

static void
test_merge (void)
{
  Shape heads = { 4, { 1, 12, 7, 512 } }, bias = { 4, { 1, 1, 7, 512 } };
  Shape cond = { 4, { 1, 1, 512, 1 } }, ab = { 4, { 1, 12, 512, 64 } }, scalar = { 0, { 0, } };
  gint64 inner;

  /* same shape: one dim of every element */
  g_assert_cmpuint (merged_rank (&heads, (Shape[]) { heads, heads }, 2, &inner), ==, 1);
  g_assert_cmpint (inner, ==, 12 * 7 * 512);
  /* with a scalar too */
  g_assert_cmpuint (merged_rank (&heads, (Shape[]) { heads, scalar }, 2, &inner), ==, 1);
  /* the attention bias: (heads) × (positions × keys) */
  g_assert_cmpuint (merged_rank (&heads, (Shape[]) { heads, bias }, 2, &inner), ==, 2);
  g_assert_cmpint (inner, ==, 7 * 512);
  /* select's mask: heads, positions, features */
  g_assert_cmpuint (merged_rank (&ab, (Shape[]) { cond, ab, ab }, 3, &inner), ==, 3);
  g_assert_cmpint (inner, ==, 64);
  /* a scalar output: one run of one element */
  g_assert_cmpuint (merged_rank (&scalar, (Shape[]) { scalar }, 1, &inner), ==, 1);
  g_assert_cmpint (inner, ==, 1);
}

/* --- the kernels, through MIL programs ------------------------------------- */

static const char *
mil_dtype (AneDType dt)
{
  switch (dt)
    {
    case ANE_DTYPE_FLOAT32: return "fp32";
    case ANE_DTYPE_FLOAT16: return "fp16";
    case ANE_DTYPE_INT32: return "int32";
    case ANE_DTYPE_BOOL: return "bool";
    default: g_assert_not_reached ();
    }
}

static char *
type_text (AneDType     dt,
           const Shape *s)
{
  GString *t;

  if (s->rank == 0)
    return g_strdup (mil_dtype (dt));
  t = g_string_new (NULL);
  g_string_append_printf (t, "tensor<%s, [", mil_dtype (dt));
  for (guint d = 0; d < s->rank; d++)
    g_string_append_printf (t, "%s%" G_GINT64_FORMAT, d ? ", " : "", s->d[d]);
  g_string_append (t, "]>");
  return g_string_free (t, FALSE);
}

/* Values exact in every dtype of the test: multiples of 1/8 in [-8, 8]
 * (fp16 holds them), integers for int32, 0/1 for bool; zeros included. */
static double *
random_values (GRand    *r,
               AneDType  dt,
               gsize     n)
{
  double *v = g_new (double, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    {
      if (dt == ANE_DTYPE_BOOL)
        v[i] = g_rand_boolean (r);
      else if (dt == ANE_DTYPE_INT32)
        v[i] = g_rand_int_range (r, -1000, 1001);
      else
        v[i] = g_rand_int_range (r, -64, 65) / 8.0;
    }
  return v;
}

/* x rounded as the interpreter stores a result of dtype dt: a float
 * through fp32 (then fp16), an integer truncated, a bool x != 0. */
static double
stored (AneDType dt,
        double   x)
{
  if (dt == ANE_DTYPE_FLOAT32)
    return (float) x;
  if (dt == ANE_DTYPE_FLOAT16)
    return ane_half_to_float (ane_float_to_half ((float) x));
  if (dt == ANE_DTYPE_BOOL)
    return x != 0.0;
  return isnan (x) ? 0.0 : trunc (x);
}

typedef struct {
  const char *name;
  guint       n_inputs;
  const char *params[3];
  AneDType    in_dtype;   /* of every input but select's cond (bool) */
  AneDType    out_dtype;
  Shape       in_shapes[3];
  double     *in_values[3];
  Shape       out_shape;
  const char *extra;      /* more arguments (tile's reps) */
  double     *want;
} OpCase;

static void
op_case_clear (OpCase *c)
{
  for (guint k = 0; k < c->n_inputs; k++)
    g_free (c->in_values[k]);
  g_free (c->want);
}

/* Runs c at threads threads; the output tensor. */
static AneTensor *
run_case (const OpCase *c,
          guint         threads)
{
  g_autoptr(GString) params = g_string_new (NULL), args = g_string_new (NULL);
  g_autoptr(GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  g_autoptr(AneMilProgram) program = NULL;
  g_autoptr(AneCpuBackend) backend = NULL;
  g_autoptr(GPtrArray) outs = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out_type = type_text (c->out_dtype, &c->out_shape);
  g_autofree char *text = NULL;

  for (guint k = 0; k < c->n_inputs; k++)
    {
      static const char *const names[] = { "i0", "i1", "i2" };
      AneDType dt = g_str_equal (c->params[k], "cond") ? ANE_DTYPE_BOOL : c->in_dtype;
      g_autofree char *type = type_text (dt, &c->in_shapes[k]);

      g_string_append_printf (params, "%s%s %s", k ? ", " : "", type, names[k]);
      g_string_append_printf (args, "%s%s = %s", k ? ", " : "", c->params[k], names[k]);
      g_hash_table_insert (inputs, (gpointer) names[k],
                           ane_test_tensor_values (names[k], dt, c->in_shapes[k].d, c->in_shapes[k].rank,
                                                   c->in_values[k]));
    }
  text = g_strdup_printf ("program(1.3)\n{\n    func main<ios18>(%s) {\n"
                          "        %s z = %s(%s%s)[name = string(\"z\")];\n    } -> (z);\n}\n",
                          params->str, out_type, c->name, args->str, c->extra ? c->extra : "");
  program = ane_mil_text_parse (text, -1, c->name, &error);
  g_assert_no_error (error);
  backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  ane_set_num_threads (threads);
  outs = ane_cpu_backend_run (backend, inputs, NULL, FALSE, NULL, &error);
  ane_set_num_threads (0);
  if (outs == NULL)
    g_error ("%s failed: %s\n%s", c->name, error->message, text);
  g_assert_cmpuint (outs->len, ==, 1);
  return g_object_ref (outs->pdata[0]);
}

/* Runs c at 1..4 threads: the naive loop's values, the same bytes each time. */
static void
check_case (const OpCase *c)
{
  g_autoptr(AneTensor) first = NULL;
  gsize n = shape_n (&c->out_shape);

  for (guint threads = 1; threads <= 4; threads++)
    {
      g_autoptr(AneTensor) t = run_case (c, threads);

      if (first == NULL)
        {
          g_assert_cmpint (ane_tensor_get_dtype (t), ==, c->out_dtype);
          ane_test_assert_shape (t, c->out_shape.d, c->out_shape.rank);
          for (gsize i = 0; i < n; i++)
            {
              double got = ane_tensor_get_value (t, i), want = stored (c->out_dtype, c->want[i]);

              if (!(got == want || (isnan (got) && isnan (want))))
                g_error ("%s (%s -> %s): element %zu is %.9g, the naive loop %.9g", c->name,
                         mil_dtype (c->in_dtype), mil_dtype (c->out_dtype), i, got, want);
            }
          first = g_object_ref (t);
        }
      else if (!g_bytes_equal (ane_tensor_get_data (first), ane_tensor_get_data (t)))
        g_error ("%s (%s): the output at %u threads differs from the 1-thread run", c->name,
                 mil_dtype (c->in_dtype), threads);
    }
}

typedef double (*Binary) (double a, double b);

static double b_add (double a, double b) { return a + b; }
static double b_sub (double a, double b) { return a - b; }
static double b_mul (double a, double b) { return a * b; }
static double b_div (double a, double b) { return a / b; }
static double b_max (double a, double b) { return a > b ? a : b; }   /* no NaN in the inputs */
static double b_greater (double a, double b) { return a > b; }
static double b_xor (double a, double b) { return (a != 0) != (b != 0); }

static const struct {
  const char *name;
  Binary      func;
  AneDType    in, out;
} binaries[] = {
  { "add", b_add, ANE_DTYPE_FLOAT32, ANE_DTYPE_FLOAT32 },
  { "add", b_add, ANE_DTYPE_FLOAT16, ANE_DTYPE_FLOAT16 },
  { "add", b_add, ANE_DTYPE_INT32, ANE_DTYPE_INT32 },
  { "sub", b_sub, ANE_DTYPE_FLOAT32, ANE_DTYPE_FLOAT32 },
  { "sub", b_sub, ANE_DTYPE_INT32, ANE_DTYPE_INT32 },
  { "mul", b_mul, ANE_DTYPE_FLOAT16, ANE_DTYPE_FLOAT16 },
  { "mul", b_mul, ANE_DTYPE_INT32, ANE_DTYPE_INT32 },
  { "real_div", b_div, ANE_DTYPE_FLOAT32, ANE_DTYPE_FLOAT32 },
  { "real_div", b_div, ANE_DTYPE_FLOAT16, ANE_DTYPE_FLOAT16 },
  { "maximum", b_max, ANE_DTYPE_FLOAT32, ANE_DTYPE_FLOAT32 },
  { "greater", b_greater, ANE_DTYPE_INT32, ANE_DTYPE_BOOL },
  { "greater", b_greater, ANE_DTYPE_FLOAT16, ANE_DTYPE_BOOL },
  { "logical_xor", b_xor, ANE_DTYPE_BOOL, ANE_DTYPE_BOOL },
};

static void
binary_case (GRand       *r,
             guint        which,
             const Shape *out,
             const Shape *x,
             const Shape *y)
{
  OpCase c = { binaries[which].name, 2, { "x", "y" }, binaries[which].in, binaries[which].out,
               { *x, *y }, { NULL, }, *out, NULL, NULL };
  gsize n = shape_n (out);

  c.in_values[0] = random_values (r, c.in_dtype, shape_n (x));
  c.in_values[1] = random_values (r, c.in_dtype, shape_n (y));
  c.want = g_new (double, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    c.want[i] = binaries[which].func (c.in_values[0][naive_offset (out, x, i)],
                                      c.in_values[1][naive_offset (out, y, i)]);
  check_case (&c);
  op_case_clear (&c);
}

static const AneDType select_dtypes[] = { ANE_DTYPE_FLOAT32, ANE_DTYPE_FLOAT16, ANE_DTYPE_INT32, ANE_DTYPE_BOOL };

static void
select_case (GRand       *r,
             AneDType     dt,
             const Shape *out,
             const Shape *cond,
             const Shape *a,
             const Shape *b)
{
  OpCase c = { "select", 3, { "cond", "a", "b" }, dt, dt, { *cond, *a, *b }, { NULL, }, *out, NULL, NULL };
  gsize n = shape_n (out);

  c.in_values[0] = random_values (r, ANE_DTYPE_BOOL, shape_n (cond));
  c.in_values[1] = random_values (r, dt, shape_n (a));
  c.in_values[2] = random_values (r, dt, shape_n (b));
  c.want = g_new (double, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    c.want[i] = c.in_values[0][naive_offset (out, cond, i)] != 0 ? c.in_values[1][naive_offset (out, a, i)]
                                                                : c.in_values[2][naive_offset (out, b, i)];
  check_case (&c);
  op_case_clear (&c);
}

static void
tile_case (GRand        *r,
           AneDType      dt,
           const Shape  *x,
           const gint64 *reps)
{
  GString *extra = g_string_new (NULL);
  OpCase c = { "tile", 1, { "x" }, dt, dt, { *x }, { NULL, }, *x, NULL, NULL };
  gsize n;

  g_string_append_printf (extra, ", reps = tensor<int32, [%u]>([", x->rank);
  for (guint d = 0; d < x->rank; d++)
    {
      g_string_append_printf (extra, "%s%" G_GINT64_FORMAT, d ? ", " : "", reps[d]);
      c.out_shape.d[d] = x->d[d] * reps[d];
    }
  g_string_append (extra, "])");
  c.extra = extra->str;
  n = shape_n (&c.out_shape);
  c.in_values[0] = random_values (r, dt, shape_n (x));
  c.want = g_new (double, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    {
      gsize rest = i, off = 0, step = 1;

      /* out[c] = x[c mod x.shape] */
      for (guint d = x->rank; d-- > 0;)
        {
          off += (rest % (gsize) c.out_shape.d[d]) % (gsize) x->d[d] * step;
          rest /= (gsize) c.out_shape.d[d];
          step *= (gsize) x->d[d];
        }
      c.want[i] = c.in_values[0][off];
    }
  check_case (&c);
  op_case_clear (&c);
  g_string_free (extra, TRUE);
}

static void
test_ops_random (void)
{
  g_autoptr(GRand) r = g_rand_new_with_seed (17);

  for (guint round = 0; round < 120; round++)
    {
      Shape out = random_shape (r, 5, 7);
      Shape x = random_operand (r, &out), y = random_operand (r, &out);

      /* the output's shape is the broadcast of the operands' in MIL: one
       * of them carries each dim (numpy would shrink it otherwise) */
      if (g_rand_boolean (r))
        x = out;
      else
        y = out;
      binary_case (r, round % G_N_ELEMENTS (binaries), &out, &x, &y);
    }
  for (guint round = 0; round < 80; round++)
    {
      Shape out = random_shape (r, 5, 7);
      Shape ops[3] = { random_operand (r, &out), random_operand (r, &out), random_operand (r, &out) };

      /* each of cond, a and b broadcasting in turn, another one full */
      ops[(round + 1) % 3] = out;
      select_case (r, select_dtypes[round % G_N_ELEMENTS (select_dtypes)], &out, &ops[0], &ops[1], &ops[2]);
    }
  for (guint round = 0; round < 60; round++)
    {
      Shape x = random_shape (r, 5, 6);
      gint64 reps[ANE_CPU_MAX_RANK];

      if (x.rank == 0)
        x = (Shape) { 1, { 3 } };
      for (guint d = 0; d < x.rank; d++)
        reps[d] = g_rand_int_range (r, 0, 2) ? 1 : g_rand_int_range (r, 1, 4);
      tile_case (r, select_dtypes[round % G_N_ELEMENTS (select_dtypes)], &x, reps);
    }
}

/* Shapes large enough for the pool to split (more than 2 × 16384 elements
 * for the elementwise kernels, 2 × 32768 for tile), with odd sizes so the
 * pieces end inside runs: the decode step's select and attention bias. */
static void
test_ops_split (void)
{
  g_autoptr(GRand) r = g_rand_new_with_seed (18);
  Shape heads = { 4, { 1, 12, 37, 513 } }, bias = { 4, { 1, 1, 37, 513 } }, row = { 1, { 513 } };
  Shape ab = { 4, { 1, 12, 511, 64 } }, cond = { 4, { 1, 1, 511, 1 } }, cond_heads = { 3, { 12, 1, 64 } };
  Shape scalar = { 0, { 0, } };

  binary_case (r, 0, &heads, &heads, &bias);      /* add fp32: the attention bias */
  binary_case (r, 1, &heads, &bias, &heads);      /* add fp16, bias first */
  binary_case (r, 6, &heads, &heads, &row);       /* mul int32 by a trailing row */
  binary_case (r, 7, &heads, &scalar, &heads);    /* real_div of a scalar */
  binary_case (r, 12, &heads, &heads, &heads);    /* logical_xor, same shape */
  for (guint d = 0; d < G_N_ELEMENTS (select_dtypes); d++)
    {
      select_case (r, select_dtypes[d], &ab, &cond, &ab, &ab);
      select_case (r, select_dtypes[d], &ab, &ab, &cond_heads, &ab);
      select_case (r, select_dtypes[d], &ab, &cond_heads, &ab, &scalar);
    }
  tile_case (r, ANE_DTYPE_FLOAT32, &(Shape) { 4, { 1, 3, 37, 65 } }, (const gint64[]) { 1, 4, 1, 2 });
  tile_case (r, ANE_DTYPE_INT32, &(Shape) { 3, { 3, 1, 101 } }, (const gint64[]) { 2, 129, 1 });
  tile_case (r, ANE_DTYPE_FLOAT16, &(Shape) { 2, { 333, 1 } }, (const gint64[]) { 1, 257 });
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/cpu/broadcast/walk", test_walk);
  g_test_add_func ("/ane/cpu/broadcast/walk-strided", test_walk_strided);
  g_test_add_func ("/ane/cpu/broadcast/merge", test_merge);
  g_test_add_func ("/ane/cpu/broadcast/ops", test_ops_random);
  g_test_add_func ("/ane/cpu/broadcast/ops-split", test_ops_split);
  return g_test_run ();
}
