/* test-cpu-scatter.c: the CPU interpreter's scatter, scatter_along_axis,
 * scatter_nd and tile kernels (ane-cpu-k-shape.c), bit for bit against
 * plain implementations written here
 *
 * The kernels are written for speed: scatter keeps a double accumulator
 * only for the elements updates reach and copies the others, tile copies
 * blocks. What they must compute is simple, and this file computes it the
 * simple way, from MIL's definitions (coremltools ops/defs
 * scatter_gather.py, tensor_transformation.py; np.ufunc.at for the scatter
 * modes):
 *
 * - scatter*: a double per element of data, the updates applied to it in
 *   the updates' C order (update/add/sub/mul/div/max/min, max and min
 *   propagating NaN), each element rounded once to the output's dtype as
 *   the interpreter stores a double (fp32: a float; fp16: that float
 *   rounded to fp16 after the op; int32: truncated, saturated, NaN -> 0).
 *   Indices in [-D, 0) wrap when the op has no validate_indices (up to
 *   iOS16); with it (iOS17 on) they are errors, as is anything outside.
 * - tile: out[c] = x[c mod x.shape].
 *
 * Every output must equal the formula's bits exactly: data's elements no
 * update reaches included (a signalling NaN among them comes back quiet,
 * as the accumulator's float -> double -> float made it). Cases cover every
 * mode, repeated and negative indices, fp32, fp16 and int32, small tensors
 * whose every element is updated and large ones of which a few rows are
 * (the embedding gradient), and runs that straddle 64-element words.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-test-util.h"
#include "mil/ane-mil-specialize-private.h"
#include "mil/ane-mil-text-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"

#define MAX_RANK 6

static const char *const modes[] = { "update", "add", "sub", "mul", "div", "max", "min" };

typedef struct {
  AneDType dtype;
  guint    rank;
  gint64   shape[MAX_RANK];
  gsize    n;
  double  *v;        /* the values, as the kernel reads them (in double) */
  guint32 *bits;     /* fp32 with a signalling NaN: the elements' bits, else NULL */
} Arr;

static void
arr_clear (Arr *a)
{
  g_clear_pointer (&a->v, g_free);
  g_clear_pointer (&a->bits, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Arr, arr_clear)

static void
arr_init (Arr          *a,
          AneDType      dtype,
          const gint64 *shape,
          guint         rank)
{
  a->dtype = dtype;
  a->rank = rank;
  a->n = 1;
  for (guint d = 0; d < rank; d++)
    {
      a->shape[d] = shape[d];
      a->n *= (gsize) shape[d];
    }
  a->v = g_new0 (double, MAX (a->n, 1));
}

static const char *
type_name (AneDType dtype)
{
  switch (dtype)
    {
    case ANE_DTYPE_FLOAT32: return "fp32";
    case ANE_DTYPE_FLOAT16: return "fp16";
    case ANE_DTYPE_INT32:   return "int32";
    default:                g_assert_not_reached ();
    }
}

static char *
shape_text (const gint64 *shape,
            guint         rank)
{
  GString *s = g_string_new ("[");

  for (guint d = 0; d < rank; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? ", " : "", shape[d]);
  return g_string_free (g_string_append_c (s, ']'), FALSE);
}

static char *
tensor_type (const Arr *a)
{
  g_autofree char *s = shape_text (a->shape, a->rank);

  return g_strdup_printf ("tensor<%s, %s>", type_name (a->dtype), s);
}

/* A value of dtype: fp16 values are fp16's, fp32 a float's, int32 an
 * integer's. Mixed magnitudes (1e8 next to 1 in fp32) make a sum in float
 * differ from one in double; a few zeros make div produce infinities and
 * NaN. */
static double
random_value (GRand   *rand,
              AneDType dtype)
{
  double r = g_rand_double (rand);

  switch (dtype)
    {
    case ANE_DTYPE_FLOAT32:
      if (r < 0.05)
        return 0.0;
      if (r < 0.15)
        return (float) g_rand_double_range (rand, -1e8, 1e8);
      return (float) g_rand_double_range (rand, -4.0, 4.0);
    case ANE_DTYPE_FLOAT16:
      if (r < 0.05)
        return 0.0;
      return ane_half_to_float (ane_float_to_half ((float) g_rand_double_range (rand, -300.0, 300.0)));
    case ANE_DTYPE_INT32:
      if (r < 0.05)
        return 0.0;
      if (r < 0.15)
        return (double) g_rand_int_range (rand, -2000000000, 2000000000);
      return (double) g_rand_int_range (rand, -50, 50);
    default:
      g_assert_not_reached ();
    }
}

static void
arr_random (Arr     *a,
            GRand   *rand)
{
  for (gsize i = 0; i < a->n; i++)
    a->v[i] = random_value (rand, a->dtype);
}

/* The bits of fp32 element i as the program gets it. */
static guint32
arr_bits (const Arr *a,
          gsize      i)
{
  float f = (float) a->v[i];
  guint32 b;

  if (a->bits != NULL)
    return a->bits[i];
  memcpy (&b, &f, sizeof b);
  return b;
}

/* Sets fp32 element i to exactly these bits. A signalling NaN cannot live
 * in a double (converting it makes it quiet), so the bits are kept aside
 * for the tensor, and v holds what the kernel reads: the float converted
 * to double, as ane_cpu_value_get does. */
static void
arr_set_bits (Arr     *a,
              gsize    i,
              guint32  bits)
{
  volatile float f;
  float g;

  g_assert (a->dtype == ANE_DTYPE_FLOAT32);
  if (a->bits == NULL)
    {
      guint32 *all = g_new (guint32, MAX (a->n, 1));

      for (gsize k = 0; k < a->n; k++)
        all[k] = arr_bits (a, k);
      a->bits = all;
    }
  a->bits[i] = bits;
  memcpy (&g, &bits, sizeof g);
  f = g;
  a->v[i] = (double) f;
}

static AneTensor *
arr_tensor (const char *name,
            const Arr  *a)
{
  g_autoptr(GError) error = NULL;
  gsize size = a->dtype == ANE_DTYPE_FLOAT16 ? 2 : 4;
  guint8 *buf = g_malloc (MAX (a->n, 1) * size);
  AneTensor *t;

  for (gsize i = 0; i < a->n; i++)
    {
      if (a->dtype == ANE_DTYPE_FLOAT16)
        ((guint16 *) buf)[i] = ane_float_to_half ((float) a->v[i]);
      else if (a->dtype == ANE_DTYPE_FLOAT32)
        ((guint32 *) buf)[i] = arr_bits (a, i);
      else
        ((gint32 *) buf)[i] = (gint32) a->v[i];
    }
  t = ane_tensor_new_from_bytes (name, a->dtype, a->shape, a->rank, g_bytes_new_take (buf, a->n * size), &error);
  g_assert_no_error (error);
  return t;
}

/* The bits an element of dtype holds after the interpreter stored x. */
static guint32
stored_bits (AneDType dtype,
             double   x)
{
  volatile double through = x;   /* as the kernel's double accumulator held it */

  switch (dtype)
    {
    case ANE_DTYPE_FLOAT32:
      {
        float f = (float) through;
        guint32 b;

        memcpy (&b, &f, sizeof b);
        return b;
      }
    case ANE_DTYPE_FLOAT16:
      return ane_float_to_half ((float) through);
    case ANE_DTYPE_INT32:
      if (isnan (through))
        return 0;
      return (guint32) (gint32) CLAMP (trunc (through), -2147483648.0, 2147483647.0);
    default:
      g_assert_not_reached ();
    }
}

static guint32
tensor_bits (AneTensor *t,
             gsize      i)
{
  gsize size = 0;
  const guint8 *p = g_bytes_get_data (ane_tensor_get_data (t), &size);

  if (ane_tensor_get_dtype (t) == ANE_DTYPE_FLOAT16)
    {
      g_assert_cmpuint ((i + 1) * 2, <=, size);
      return ((const guint16 *) p)[i];
    }
  g_assert_cmpuint ((i + 1) * 4, <=, size);
  return ((const guint32 *) p)[i];
}

static GPtrArray *
run_text (const char  *text,
          GHashTable  *inputs,
          GError     **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (text, -1, "test", &local);
  GPtrArray *out;
  AneCpuBackend *backend;

  if (program == NULL)
    g_error ("the test program does not parse: %s\n%s", local->message, text);
  backend = ane_cpu_backend_new_for_program (program, "main", NULL, NULL, NULL, error);
  if (backend == NULL)
    return NULL;
  out = ane_cpu_backend_run (backend, inputs, NULL, FALSE, NULL, error);
  ane_cpu_backend_free (backend);
  return out;
}

/* The output's bits against want (an expected double per element). */
static void
check_bits (const char   *what,
            AneTensor    *got,
            AneDType      dtype,
            const double *want,
            gsize         n)
{
  g_assert_cmpint (ane_tensor_get_dtype (got), ==, dtype);
  for (gsize i = 0; i < n; i++)
    {
      guint32 w = stored_bits (dtype, want[i]), g = tensor_bits (got, i);

      if (w != g)
        g_error ("%s: element %zu is 0x%08x, expected 0x%08x (%.17g)", what, i, g, w, want[i]);
    }
}

/* --- scatter ------------------------------------------------------------------- */

typedef enum { OP_SCATTER, OP_ALONG_AXIS, OP_ND } ScatterOp;

static double
apply (const char *mode,
       double      cur,
       double      u)
{
  if (g_str_equal (mode, "update"))
    return u;
  if (g_str_equal (mode, "add"))
    return cur + u;
  if (g_str_equal (mode, "sub"))
    return cur - u;
  if (g_str_equal (mode, "mul"))
    return cur * u;
  if (g_str_equal (mode, "div"))
    return cur / u;
  if (isnan (cur) || isnan (u))
    return NAN;
  if (g_str_equal (mode, "max"))
    return cur > u ? cur : u;
  g_assert (g_str_equal (mode, "min"));
  return cur < u ? cur : u;
}

static gsize
ravel (const gint64 *shape,
       guint         rank,
       const gint64 *c)
{
  gsize off = 0;

  for (guint d = 0; d < rank; d++)
    off = off * (gsize) shape[d] + (gsize) c[d];
  return off;
}

static void
unravel (gsize         i,
         const gint64 *shape,
         guint         rank,
         gint64       *c)
{
  for (guint d = rank; d-- > 0;)
    {
      c[d] = (gint64) (i % (gsize) shape[d]);
      i /= (gsize) shape[d];
    }
}

static gint64
wrap (gint64 v,
      gint64 dim)
{
  g_assert (v >= -dim && v < dim);
  return v < 0 ? v + dim : v;
}

/* np.ufunc.at over the updates in C order, in double; the result per element. */
static double *
scatter_reference (ScatterOp   op,
                   const Arr  *data,
                   const Arr  *indices,
                   const Arr  *updates,
                   guint       axis,
                   const char *mode)
{
  double *acc = g_memdup2 (data->v, MAX (data->n, 1) * sizeof (double));

  for (gsize u = 0; u < updates->n; u++)
    {
      gint64 uc[MAX_RANK], dc[MAX_RANK];

      unravel (u, updates->shape, updates->rank, uc);
      switch (op)
        {
        case OP_SCATTER:
          {
            /* updates = data.shape[:axis] + indices.shape + data.shape[axis+1:] */
            gint64 ic[MAX_RANK];

            for (guint d = 0; d < axis; d++)
              dc[d] = uc[d];
            for (guint d = 0; d < indices->rank; d++)
              ic[d] = uc[axis + d];
            dc[axis] = wrap ((gint64) indices->v[ravel (indices->shape, indices->rank, ic)], data->shape[axis]);
            for (guint d = axis + 1; d < data->rank; d++)
              dc[d] = uc[d - 1 + indices->rank];
          }
          break;
        case OP_ALONG_AXIS:
          memcpy (dc, uc, sizeof dc);
          dc[axis] = wrap ((gint64) indices->v[u], data->shape[axis]);
          break;
        case OP_ND:
          {
            /* updates = indices.shape[:-1] + data.shape[depth:] */
            guint depth = (guint) indices->shape[indices->rank - 1], lead = indices->rank - 1;
            gsize t = ravel (indices->shape, lead, uc);

            for (guint j = 0; j < depth; j++)
              dc[j] = wrap ((gint64) indices->v[t * depth + j], data->shape[j]);
            for (guint d = depth; d < data->rank; d++)
              dc[d] = uc[lead + d - depth];
          }
          break;
        default:
          g_assert_not_reached ();
        }
      {
        gsize dst = ravel (data->shape, data->rank, dc);

        acc[dst] = apply (mode, acc[dst], updates->v[u]);
      }
    }
  return acc;
}

/* The op as a one-op program at iOS18 with validate_indices = true (iOS17
 * index rules) or at iOS16 without it (negative indices wrap). */
static char *
scatter_program (ScatterOp   op,
                 const Arr  *data,
                 const Arr  *indices,
                 const Arr  *updates,
                 gint64      axis,
                 const char *mode,
                 gboolean    ios17)
{
  static const char *const names[] = { "scatter", "scatter_along_axis", "scatter_nd" };
  g_autofree char *dt = tensor_type (data), *it = tensor_type (indices), *ut = tensor_type (updates);
  g_autoptr(GString) body = g_string_new (NULL);

  g_string_append_printf (body, "        string m = const()[name = string(\"m\"), val = string(\"%s\")];\n", mode);
  if (op != OP_ND)
    g_string_append_printf (body, "        int32 ax = const()[name = string(\"ax\"), val = int32(%" G_GINT64_FORMAT ")];\n",
                            axis);
  if (ios17)
    g_string_append (body, "        bool v = const()[name = string(\"v\"), val = bool(true)];\n");
  g_string_append_printf (body, "        %s y = %s(data = d, indices = i, updates = u%s, mode = m%s)[name = string(\"y\")];\n",
                          dt, names[op], op != OP_ND ? ", axis = ax" : "", ios17 ? ", validate_indices = v" : "");
  return g_strdup_printf ("program(1.3)\n{\n    func main<%s>(%s d, %s i, %s u) {\n%s    } -> (y);\n}\n",
                          ios17 ? "ios18" : "ios16", dt, it, ut, body->str);
}

static GPtrArray *
scatter_run (ScatterOp   op,
             const Arr  *data,
             const Arr  *indices,
             const Arr  *updates,
             gint64      axis,
             const char *mode,
             gboolean    ios17,
             GError    **error)
{
  g_autofree char *text = scatter_program (op, data, indices, updates, axis, mode, ios17);
  g_autoptr(GHashTable) in = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);

  g_hash_table_insert (in, "d", arr_tensor ("d", data));
  g_hash_table_insert (in, "i", arr_tensor ("i", indices));
  g_hash_table_insert (in, "u", arr_tensor ("u", updates));
  return run_text (text, in, error);
}

/* Runs the op in every mode and checks each result's bits. */
static void
scatter_check (const char *what,
               ScatterOp   op,
               const Arr  *data,
               const Arr  *indices,
               const Arr  *updates,
               gint64      axis,
               gboolean    ios17)
{
  guint ax = axis < 0 ? (guint) (axis + data->rank) : (guint) axis;

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) out = scatter_run (op, data, indices, updates, axis, modes[m], ios17, &error);
      g_autofree double *want = NULL;
      g_autofree char *label = g_strdup_printf ("%s %s %s", what, type_name (data->dtype), modes[m]);

      if (out == NULL)
        g_error ("%s: %s", label, error->message);
      g_assert_cmpuint (out->len, ==, 1);
      want = scatter_reference (op, data, indices, updates, ax, modes[m]);
      check_bits (label, g_ptr_array_index (out, 0), data->dtype, want, data->n);
    }
}

/* Indices in [0, dim) (or [-dim, dim) when negatives wrap), a few of them
 * repeated on purpose. */
static void
random_indices (Arr     *a,
                GRand   *rand,
                gint64   dim,
                gboolean negative)
{
  for (gsize i = 0; i < a->n; i++)
    {
      if (i > 0 && g_rand_double (rand) < 0.3)
        a->v[i] = a->v[g_rand_int_range (rand, 0, (gint32) i)];
      else
        a->v[i] = g_rand_int_range (rand, negative ? (gint32) -dim : 0, (gint32) dim);
    }
}

static const AneDType dtypes[] = { ANE_DTYPE_FLOAT32, ANE_DTYPE_FLOAT16, ANE_DTYPE_INT32 };

/* NaNs among data's elements: quiet ones for max/min to propagate, and in
 * fp32 signalling ones (with a payload, of either sign), where updates
 * reach and where they do not. Called last: it may set bits aside. */
static void
add_nans (Arr   *data,
          GRand *rand)
{
  if (data->dtype == ANE_DTYPE_INT32 || data->n < 4)
    return;
  data->v[g_rand_int_range (rand, 0, (gint32) data->n)] = NAN;
  if (data->dtype == ANE_DTYPE_FLOAT32)
    for (guint k = 0; k < 4; k++)
      arr_set_bits (data, (gsize) g_rand_int_range (rand, 0, (gint32) data->n), 0x7f800123 | (k % 2 ? 0x80000000 : 0));
}

static void
test_scatter (void)
{
  static const gint64 shape[] = { 5, 4, 3 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);

  for (guint t = 0; t < G_N_ELEMENTS (dtypes); t++)
    for (gint64 axis = -1; axis < 3; axis++)
      for (guint ir = 1; ir <= 2; ir++)
        for (guint neg = 0; neg < 2; neg++)
          {
            static const gint64 ishape[] = { 3, 2 };
            guint ax = axis < 0 ? (guint) (axis + 3) : (guint) axis, rank = 0;
            gint64 ushape[MAX_RANK];
            g_auto(Arr) data = { 0, };
            g_auto(Arr) indices = { 0, };
            g_auto(Arr) updates = { 0, };
            g_autofree char *what = NULL;

            arr_init (&data, dtypes[t], shape, 3);
            arr_random (&data, rand);
            add_nans (&data, rand);
            arr_init (&indices, ANE_DTYPE_INT32, ishape + 2 - ir, ir);
            random_indices (&indices, rand, shape[ax], neg);
            for (guint d = 0; d < ax; d++)
              ushape[rank++] = shape[d];
            for (guint d = 0; d < ir; d++)
              ushape[rank++] = indices.shape[d];
            for (guint d = ax + 1; d < 3; d++)
              ushape[rank++] = shape[d];
            arr_init (&updates, dtypes[t], ushape, rank);
            arr_random (&updates, rand);
            what = g_strdup_printf ("scatter axis %" G_GINT64_FORMAT " indices rank %u%s", axis, ir,
                                    neg ? " negative" : "");
            scatter_check (what, OP_SCATTER, &data, &indices, &updates, axis, !neg);
          }
}

static void
test_scatter_along_axis (void)
{
  static const gint64 shape[] = { 5, 4, 3 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (12);

  for (guint t = 0; t < G_N_ELEMENTS (dtypes); t++)
    for (gint64 axis = -1; axis < 3; axis++)
      for (gint64 m = 1; m <= 7; m += 3)
        for (guint neg = 0; neg < 2; neg++)
          {
            guint ax = axis < 0 ? (guint) (axis + 3) : (guint) axis;
            gint64 ishape[3] = { 5, 4, 3 };
            g_auto(Arr) data = { 0, };
            g_auto(Arr) indices = { 0, };
            g_auto(Arr) updates = { 0, };
            g_autofree char *what = NULL;

            ishape[ax] = m;   /* fewer or more positions than data has along the axis */
            arr_init (&data, dtypes[t], shape, 3);
            arr_random (&data, rand);
            add_nans (&data, rand);
            arr_init (&indices, ANE_DTYPE_INT32, ishape, 3);
            random_indices (&indices, rand, shape[ax], neg);
            arr_init (&updates, dtypes[t], ishape, 3);
            arr_random (&updates, rand);
            what = g_strdup_printf ("scatter_along_axis axis %" G_GINT64_FORMAT " size %" G_GINT64_FORMAT "%s",
                                    axis, m, neg ? " negative" : "");
            scatter_check (what, OP_ALONG_AXIS, &data, &indices, &updates, axis, !neg);
          }
}

static void
test_scatter_nd (void)
{
  static const gint64 shape[] = { 5, 4, 3 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (13);

  for (guint t = 0; t < G_N_ELEMENTS (dtypes); t++)
    for (guint depth = 1; depth <= 3; depth++)
      for (guint lead = 1; lead <= 2; lead++)
        for (guint neg = 0; neg < 2; neg++)
          {
            gint64 ishape[3], ushape[MAX_RANK];
            guint irank = 0, rank = 0;
            g_auto(Arr) data = { 0, };
            g_auto(Arr) indices = { 0, };
            g_auto(Arr) updates = { 0, };
            g_autofree char *what = NULL;

            if (lead == 2)
              ishape[irank++] = 2;
            ishape[irank++] = 4;
            ishape[irank++] = depth;
            arr_init (&data, dtypes[t], shape, 3);
            arr_random (&data, rand);
            add_nans (&data, rand);
            arr_init (&indices, ANE_DTYPE_INT32, ishape, irank);
            /* tuple by tuple: coordinate j in [0, shape[j]), a tuple repeated now and then */
            for (gsize k = 0; k < indices.n / depth; k++)
              for (guint j = 0; j < depth; j++)
                indices.v[k * depth + j] = k > 0 && j == 0 && g_rand_double (rand) < 0.3 ? -1000 :
                                           g_rand_int_range (rand, neg ? (gint32) -shape[j] : 0, (gint32) shape[j]);
            for (gsize k = 1; k < indices.n / depth; k++)
              if (indices.v[k * depth] == -1000)
                memcpy (indices.v + k * depth, indices.v + (k - 1) * depth, depth * sizeof (double));
            for (guint d = 0; d + 1 < irank; d++)
              ushape[rank++] = ishape[d];
            for (guint d = depth; d < 3; d++)
              ushape[rank++] = shape[d];
            arr_init (&updates, dtypes[t], ushape, rank);
            arr_random (&updates, rand);
            what = g_strdup_printf ("scatter_nd depth %u lead rank %u%s", depth, lead, neg ? " negative" : "");
            scatter_check (what, OP_ND, &data, &indices, &updates, 0, !neg);
          }
}

/* A large table of which a few rows are updated (the embedding gradient's
 * shape, smaller): most elements are copied, the others accumulated; rows
 * of 37 elements start and end inside 64-element words. */
static void
test_scatter_sparse (void)
{
  static const gint64 shape[] = { 1000, 37 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (14);

  for (guint t = 0; t < G_N_ELEMENTS (dtypes); t++)
    {
      static const gint64 ish[] = { 9 }, along[] = { 9, 37 }, nd[] = { 9, 1 }, ush[] = { 9, 37 };
      g_auto(Arr) data = { 0, };
      g_auto(Arr) rows = { 0, };
      g_auto(Arr) grid = { 0, };
      g_auto(Arr) tuples = { 0, };
      g_auto(Arr) updates = { 0, };

      arr_init (&data, dtypes[t], shape, 2);
      arr_random (&data, rand);
      add_nans (&data, rand);
      arr_init (&rows, ANE_DTYPE_INT32, ish, 1);
      random_indices (&rows, rand, shape[0], FALSE);
      rows.v[8] = rows.v[0];   /* a token seen twice */
      arr_init (&updates, dtypes[t], ush, 2);
      arr_random (&updates, rand);
      scatter_check ("sparse scatter", OP_SCATTER, &data, &rows, &updates, 0, TRUE);
      /* torch's embedding backward: each row's index repeated along the row */
      arr_init (&grid, ANE_DTYPE_INT32, along, 2);
      for (gsize i = 0; i < grid.n; i++)
        grid.v[i] = rows.v[i / 37];
      scatter_check ("sparse scatter_along_axis", OP_ALONG_AXIS, &data, &grid, &updates, 0, TRUE);
      arr_init (&tuples, ANE_DTYPE_INT32, nd, 2);
      memcpy (tuples.v, rows.v, 9 * sizeof (double));
      scatter_check ("sparse scatter_nd", OP_ND, &data, &tuples, &updates, 0, TRUE);
    }
}

/* The index errors: the first bad index in order is the one named, a
 * negative index is an error under iOS17 rules only, and one outside
 * [-D, D) always. */
static void
test_scatter_errors (void)
{
  static const gint64 dshape[] = { 4, 2 }, ishape[] = { 4 }, ushape[] = { 4, 2 };
  static const struct {
    double   idx[4];
    gboolean ios17;
    const char *message;   /* NULL: succeeds */
  } cases[] = {
    { { 1, 7, -9, 0 }, FALSE, "index 7 is out of range for a dimension of size 4" },
    { { 1, -9, 7, 0 }, FALSE, "index -9 is out of range" },
    { { 1, -4, 3, 0 }, FALSE, NULL },
    { { 1, -4, 7, 0 }, TRUE, "index -4 is negative; from iOS17 on" },
    { { 1, 2, 4, -1 }, TRUE, "index 4 is out of range" },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (guint op = OP_SCATTER; op <= OP_ND; op++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) out = NULL;
        g_auto(Arr) data = { 0, };
        g_auto(Arr) indices = { 0, };
        g_auto(Arr) updates = { 0, };
        static const gint64 nd_shape[] = { 4, 1 };

        arr_init (&data, ANE_DTYPE_FLOAT32, dshape, 2);
        if (op == OP_ALONG_AXIS)
          {
            static const gint64 ashape[] = { 4, 2 };

            arr_init (&indices, ANE_DTYPE_INT32, ashape, 2);
            for (gsize i = 0; i < 8; i++)
              indices.v[i] = cases[c].idx[i / 2];
          }
        else
          {
            arr_init (&indices, ANE_DTYPE_INT32, op == OP_ND ? nd_shape : ishape, op == OP_ND ? 2 : 1);
            memcpy (indices.v, cases[c].idx, 4 * sizeof (double));
          }
        arr_init (&updates, ANE_DTYPE_FLOAT32, ushape, 2);
        out = scatter_run ((ScatterOp) op, &data, &indices, &updates, 0, "add", cases[c].ios17, &error);
        if (cases[c].message == NULL)
          {
            g_assert_no_error (error);
            g_assert_nonnull (out);
          }
        else
          {
            g_assert_null (out);
            g_assert_nonnull (error);
            if (strstr (error->message, cases[c].message) == NULL)
              g_error ("case %u op %u: '%s' does not say '%s'", c, op, error->message, cases[c].message);
          }
      }
}

/* --- tile ---------------------------------------------------------------------- */

static void
tile_check (const char   *what,
            AneDType      dtype,
            const gint64 *xshape,
            const gint64 *reps,
            guint         rank,
            GRand        *rand)
{
  g_auto(Arr) x = { 0, };
  g_auto(Arr) y = { 0, };
  gint64 oshape[MAX_RANK];
  g_autofree char *xt = NULL, *yt = NULL, *rs = shape_text (reps, rank), *text = NULL, *label = NULL;
  g_autoptr(GHashTable) in = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  g_autoptr(GPtrArray) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gsize *src = NULL;

  for (guint d = 0; d < rank; d++)
    oshape[d] = xshape[d] * reps[d];
  arr_init (&x, dtype, xshape, rank);
  arr_random (&x, rand);
  if (dtype == ANE_DTYPE_FLOAT32 && x.n > 1)
    arr_set_bits (&x, 1, 0x7f800123);   /* moved, a signalling NaN keeps its bits */
  arr_init (&y, dtype, oshape, rank);
  src = g_new (gsize, MAX (y.n, 1));
  for (gsize i = 0; i < y.n; i++)
    {
      gint64 c[MAX_RANK];

      unravel (i, oshape, rank, c);
      for (guint d = 0; d < rank; d++)
        c[d] %= xshape[d];
      src[i] = ravel (xshape, rank, c);
      y.v[i] = x.v[src[i]];
    }
  xt = tensor_type (&x);
  yt = tensor_type (&y);
  text = g_strdup_printf ("program(1.3)\n{\n    func main<ios18>(%s x) {\n"
                          "        tensor<int32, [%u]> r = const()[name = string(\"r\"), val = tensor<int32, [%u]>(%s)];\n"
                          "        %s y = tile(x = x, reps = r)[name = string(\"y\")];\n"
                          "    } -> (y);\n}\n", xt, rank, rank, rs, yt);
  g_hash_table_insert (in, "x", arr_tensor ("x", &x));
  out = run_text (text, in, &error);
  label = g_strdup_printf ("tile %s %s reps %s", what, type_name (dtype), rs);
  if (out == NULL)
    g_error ("%s: %s", label, error->message);
  if (dtype == ANE_DTYPE_FLOAT32)
    {
      /* a move, not a store of a double: x's bits as they are */
      for (gsize i = 0; i < y.n; i++)
        {
          guint32 w = arr_bits (&x, src[i]);

          if (tensor_bits (g_ptr_array_index (out, 0), i) != w)
            g_error ("%s: element %zu is 0x%08x, expected 0x%08x", label, i,
                     tensor_bits (g_ptr_array_index (out, 0), i), w);
        }
    }
  else
    check_bits (label, g_ptr_array_index (out, 0), dtype, y.v, y.n);
}

static void
test_tile (void)
{
  static const struct {
    guint  rank;
    gint64 x[5], reps[5];
  } cases[] = {
    { 1, { 7 }, { 1 } },
    { 1, { 7 }, { 3 } },
    { 1, { 1 }, { 100 } },
    { 2, { 1, 1 }, { 300, 290 } },              /* a zeros table: one value, filled */
    { 2, { 64, 1 }, { 1, 300 } },               /* a row's value across the row */
    { 2, { 1, 29 }, { 64, 1 } },                /* a row repeated */
    { 2, { 3, 1 }, { 1, 70000 } },              /* large enough to be shared out */
    { 2, { 3, 5 }, { 2, 3 } },
    { 3, { 2, 3, 4 }, { 1, 2, 1 } },
    { 3, { 2, 1, 4 }, { 3, 5, 2 } },
    { 4, { 1, 3, 1, 2 }, { 2, 1, 3, 1 } },
    { 5, { 1, 4, 1, 32, 8 }, { 1, 1, 2, 1, 1 } },   /* GQA's kv heads */
    { 5, { 2, 1, 3, 1, 2 }, { 1, 4, 1, 3, 2 } },
    { 5, { 1, 1, 1, 1, 1 }, { 1, 1, 1, 1, 1 } },
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (15);

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (guint t = 0; t < G_N_ELEMENTS (dtypes); t++)
      {
        g_autofree char *what = shape_text (cases[c].x, cases[c].rank);

        tile_check (what, dtypes[t], cases[c].x, cases[c].reps, cases[c].rank, rand);
      }
  /* random shapes */
  for (guint k = 0; k < 60; k++)
    {
      guint rank = (guint) g_rand_int_range (rand, 1, 6);
      gint64 x[5], reps[5];
      g_autofree char *what = NULL;

      for (guint d = 0; d < rank; d++)
        {
          x[d] = g_rand_int_range (rand, 1, 5);
          reps[d] = g_rand_int_range (rand, 1, 4);
        }
      what = shape_text (x, rank);
      tile_check (what, dtypes[k % G_N_ELEMENTS (dtypes)], x, reps, rank, rand);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/cpu/scatter/scatter", test_scatter);
  g_test_add_func ("/ane/cpu/scatter/scatter-along-axis", test_scatter_along_axis);
  g_test_add_func ("/ane/cpu/scatter/scatter-nd", test_scatter_nd);
  g_test_add_func ("/ane/cpu/scatter/sparse", test_scatter_sparse);
  g_test_add_func ("/ane/cpu/scatter/errors", test_scatter_errors);
  g_test_add_func ("/ane/cpu/scatter/tile", test_tile);
  return g_test_run ();
}
