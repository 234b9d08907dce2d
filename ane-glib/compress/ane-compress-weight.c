/* compress/ane-compress-weight.c: one weight compressed into constexpr ops
 *
 * The weight is viewed as [C, R]: its output channels (the channel axis,
 * which the reading op decides: ane-compress-package.c) first, everything
 * else in order after them; with the original layout [A, C, B] (A the
 * axes before the channel axis, B those after), row c holds (a, b) at
 * column a·B + b. Tables, scales and pruning work on that view; what is
 * stored goes back to the original order, as Core ML reads it.
 *
 * The ops emitted, per target (coremltools 9.0, optimize/coreml/
 * _quantization_passes.py and optimize/_utils.py; /docs/compression.md):
 *
 *   palettize   iOS16/17 constexpr_lut_to_dense(indices uint8[⌈N·n/8⌉],
 *               lut T[2^n], shape uint32[rank]) as attributes; iOS18
 *               constexpr_lut_to_dense(indices uint{n}[shape], lut
 *               T[..groups.., 2^n, 1]); an int8 LUT is a
 *               constexpr_blockwise_shift_scale feeding the lut;
 *   quantize    iOS16/17 constexpr_affine_dequantize(quantized_data,
 *               zero_point, scale, axis) as attributes; iOS18
 *               constexpr_blockwise_shift_scale(data, scale, offset?);
 *   prune       constexpr_sparse_to_dense(nonzero_data, mask): iOS16/17 a
 *               uint8 mask vector and a shape, iOS18 a shaped uint1 mask;
 *   joint       iOS18 constexpr_lut_to_sparse or
 *               constexpr_sparse_blockwise_shift_scale, whose (mask,
 *               values) feed constexpr_sparse_to_dense.
 *
 * The last op's output keeps the const's name, so no reader changes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/ane-compress-private.h"
#include "compress/ane-bitpack-private.h"
#include "compress/ane-kmeans-vec-private.h"
#include "compress/ane-linear-quant-private.h"
#include "compress/ane-palettize-private.h"
#include "compress/ane-prune-private.h"
#include "mil/ane-coreml-proto-private.h"
#include "mil/ane-milblob-private.h"

#define MIL(T) CORE_ML__SPECIFICATION__MILSPEC__DATA_TYPE__##T

typedef struct {
  AneMilBuilder           *b;
  AneCompressConfig       *c;
  const AneCompressWeight *w;
  AneCompressedWeight     *report;
  gsize                    N, C, R, A, B;
  float                   *rows;        /* [C, R] (w->values itself when A == 1) */
  float                   *own_rows;
  float                   *imp_rows;    /* importance as rows, or NULL */
  float                   *recon;       /* what a reader gets back, as rows */
  guint8                  *keep;        /* pruning: kept weights, as rows; NULL when not pruning */
  gboolean                 fp16;        /* the weight (and its tables, scales) is fp16 */
  int                      wdt;         /* its MIL dtype */
  GPtrArray               *held;        /* GBytes the builder refers to until the op is emitted */
} Job;

/* --- the [C, R] view ---------------------------------------------------- */

static gsize
orig_index (const Job *j,
            gsize      row_index)
{
  gsize c = row_index / j->R, r = row_index % j->R;

  return (r / j->B) * j->C * j->B + c * j->B + r % j->B;
}

static float *
floats_as_rows (const Job   *j,
                const float *orig)
{
  float *rows = g_new (float, MAX (j->N, 1));

  for (gsize i = 0; i < j->N; i++)
    rows[i] = orig[orig_index (j, i)];
  return rows;
}

/* Small integers (indices, levels, mask bits) from rows to the original order. */
static gint32 *
ints_to_orig (const Job    *j,
              const guint8 *rows,
              gboolean      is_signed)
{
  gint32 *out = g_new (gint32, MAX (j->N, 1));

  for (gsize i = 0; i < j->N; i++)
    out[orig_index (j, i)] = is_signed ? (gint32) (gint8) rows[i] : (gint32) rows[i];
  return out;
}

/* --- values for the builder --------------------------------------------- */

static GBytes *
hold (Job    *j,
      GBytes *bytes)
{
  g_ptr_array_add (j->held, bytes);
  j->report->bytes_after += g_bytes_get_size (bytes);
  return bytes;
}

static GBytes *
packed (Job          *j,
        const gint32 *values,
        gsize         n,
        guint         bits)
{
  gsize size = ane_bitpack_size (n, bits);
  guint8 *out = g_malloc0 (MAX (size, 1));

  ane_bitpack (values, n, bits, out);
  return hold (j, g_bytes_new_take (out, size));
}

static GBytes *
bytes_of_ints (Job          *j,
               const gint32 *values,
               gsize         n,
               guint         width)   /* 1 (int8/uint8) or 4 (uint32/int32) */
{
  guint8 *out = g_malloc0 (MAX (n * width, 1));

  for (gsize i = 0; i < n; i++)
    {
      if (width == 1)
        out[i] = (guint8) values[i];
      else
        {
          guint32 le = GUINT32_TO_LE ((guint32) values[i]);
          memcpy (out + 4 * i, &le, 4);
        }
    }
  return hold (j, g_bytes_new_take (out, n * width));
}

/* Floats stored in the weight's dtype. */
static GBytes *
bytes_of_floats (Job         *j,
                 const float *v,
                 gsize        n)
{
  gsize width = j->fp16 ? 2 : 4;
  guint8 *out = g_malloc0 (MAX (n * width, 1));

  if (j->fp16)
    ane_f32_to_f16_bulk (v, (guint16 *) out, n);
  else if (n > 0)
    memcpy (out, v, n * 4);
  return hold (j, g_bytes_new_take (out, n * width));
}

static float
stored (const Job *j,
        double     x)
{
  return j->fp16 ? ane_half_to_float (ane_float_to_half ((float) x)) : (float) x;
}

static int
uint_dtype (guint bits)
{
  switch (bits)
    {
    case 1: return MIL (UINT1);
    case 2: return MIL (UINT2);
    case 3: return MIL (UINT3);
    case 4: return MIL (UINT4);
    case 6: return MIL (UINT6);
    default: return MIL (UINT8);
    }
}

static gboolean
ios18 (const Job *j)
{
  return ane_mil_builder_get_target (j->b) >= ANE_MIL_IOS18;
}

static AneMilRawValue
raw (const char   *param,
     int           mil_dtype,
     GBytes       *bytes,
     const gint64 *shape,
     guint         rank)
{
  AneMilRawValue v = { param, NULL, mil_dtype, bytes, shape, rank };

  return v;
}

/* The "shape" attribute of the iOS16 ops. */
static GBytes *
shape_bytes (Job *j)
{
  gint32 s[8];

  for (guint i = 0; i < j->w->rank; i++)
    s[i] = (gint32) j->w->shape[i];
  return bytes_of_ints (j, s, j->w->rank, 4);
}

/* Pruned weights, sparse form: the mask of kept non-zero weights (original
 * order) as a bit stream, and how many there are. An all-zero result keeps
 * element 0 (as a zero): MIL has no empty tensors. */
static gint32 *
sparse_mask (Job   *j,
             gsize *n_kept)
{
  gint32 *mask = g_new0 (gint32, MAX (j->N, 1));
  gsize n = 0;

  for (gsize i = 0; i < j->N; i++)
    if (j->keep[i] && j->rows[i] != 0.0f)
      {
        mask[orig_index (j, i)] = 1;
        n++;
      }
  if (n == 0)
    {
      mask[0] = 1;
      n = 1;
    }
  *n_kept = n;
  return mask;
}

/* A joint form's mask (sparse_mask) and, in the same order, the integers
 * of from (indices or levels, original order) at its set bits. */
static gint32 *
kept_ints (Job          *j,
           const gint32 *from,
           gsize        *n_kept,
           gint32      **values)
{
  gint32 *mask = sparse_mask (j, n_kept);
  gint32 *nz = g_new (gint32, *n_kept);
  gsize m = 0;

  for (gsize i = 0; i < j->N && m < *n_kept; i++)
    if (mask[i])
      nz[m++] = from[i];
  *values = nz;
  return mask;
}

/* The (mask, values) pair a joint op makes, then constexpr_sparse_to_dense
 * named after the weight. */
static void
emit_sparse_pair (Job          *j,
                  const char   *type,
                  AneMilRawValue *params,
                  guint         n_params,
                  gsize         n_kept)
{
  gint64 nk = (gint64) n_kept;
  AneMilRawOutput outs[2] = {
    { NULL, MIL (UINT1), j->w->shape, j->w->rank },
    { NULL, j->wdt, &nk, 1 },
  };
  const char *names[2];
  g_autofree char *hint = g_strdup_printf ("%s_sparse", j->w->name);
  AneMilRawValue dense[2] = {
    { "nonzero_data", NULL, j->wdt, NULL, &nk, 1 },
    { "mask", NULL, MIL (UINT1), NULL, j->w->shape, j->w->rank },
  };
  AneMilRawOutput out = { j->w->name, j->wdt, j->w->shape, j->w->rank };
  const char *name;

  ane_mil_constexpr_raw (j->b, type, hint, params, n_params, outs, 2, names);
  dense[0].ref = names[1];
  dense[1].ref = names[0];
  ane_mil_constexpr_raw (j->b, "constexpr_sparse_to_dense", j->w->name, dense, 2, &out, 1, &name);
}

/* --- pruning ------------------------------------------------------------- */

static gboolean
prune_rows (Job     *j,
            GError **error)
{
  AneCompressConfig *c = j->c;

  j->keep = g_new (guint8, MAX (j->N, 1));
  switch (c->prune)
    {
    case ANE_PRUNE_THRESHOLD:
      ane_prune_threshold (j->rows, j->N, c->threshold, j->keep);
      return TRUE;
    case ANE_PRUNE_SPARSITY:
      ane_prune_target_sparsity (j->rows, j->N, c->sparsity, j->keep);
      return TRUE;
    case ANE_PRUNE_N_M:
      {
        /* runs along the input channels: [C, Cin, inner] as rows of Cin */
        gint ia = j->w->input_axis;
        gsize cin, inner = 1;

        if (ia < 0)
          {
            g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                         "n:m pruning needs the input channels of its reader ('%s')",
                         j->w->consumer_type ? j->w->consumer_type : "none");
            return FALSE;
          }
        cin = (gsize) j->w->shape[ia];
        inner = j->R / cin;
        if (inner == 1)
          ane_prune_n_m (j->rows, j->C, cin, c->prune_n, c->prune_m, j->keep);
        else
          {
            g_autofree float *t = g_new (float, j->N);
            g_autofree guint8 *k = g_new (guint8, j->N);

            for (gsize r = 0; r < j->C; r++)
              for (gsize i = 0; i < cin; i++)
                for (gsize q = 0; q < inner; q++)
                  t[(r * inner + q) * cin + i] = j->rows[r * j->R + i * inner + q];
            ane_prune_n_m (t, j->C * inner, cin, c->prune_n, c->prune_m, k);
            for (gsize r = 0; r < j->C; r++)
              for (gsize i = 0; i < cin; i++)
                for (gsize q = 0; q < inner; q++)
                  j->keep[r * j->R + i * inner + q] = k[(r * inner + q) * cin + i];
          }
        return TRUE;
      }
    default:
      g_clear_pointer (&j->keep, g_free);
      return TRUE;
    }
}

/* The pruned weights as rows (zeros where pruned), in place of j->rows. */
static void
apply_pruning (Job *j)
{
  if (j->own_rows == NULL)
    {
      j->own_rows = g_memdup2 (j->rows, MAX (j->N, 1) * sizeof (float));
      j->rows = j->own_rows;
    }
  for (gsize i = 0; i < j->N; i++)
    if (!j->keep[i])
      j->rows[i] = 0.0f;
}

static void
emit_prune (Job *j)
{
  gsize n_kept = 0;
  g_autofree gint32 *mask = sparse_mask (j, &n_kept);
  g_autofree float *values = g_new (float, n_kept);
  gsize k = 0;
  gint64 nk;
  AneMilRawOutput out = { j->w->name, j->wdt, j->w->shape, j->w->rank };
  const char *name;

  for (gsize i = 0; i < j->N && k < n_kept; i++)
    if (mask[i])
      values[k++] = j->w->values[i];
  if (j->keep[0] == 0 && n_kept == 1 && values[0] != 0.0f)   /* the all-zero case */
    values[0] = 0.0f;
  for (gsize i = 0; i < j->N; i++)
    j->recon[i] = j->keep[i] ? j->rows[i] : 0.0f;
  nk = (gint64) n_kept;
  if (ios18 (j))
    {
      AneMilRawValue p[2] = {
        raw ("nonzero_data", j->wdt, bytes_of_floats (j, values, n_kept), &nk, 1),
        raw ("mask", MIL (UINT1), packed (j, mask, j->N, 1), j->w->shape, j->w->rank),
      };
      ane_mil_constexpr_raw (j->b, "constexpr_sparse_to_dense", j->w->name, p, 2, &out, 1, &name);
    }
  else
    {
      gint64 mb = (gint64) ane_bitpack_size (j->N, 1), rank = j->w->rank;
      AneMilRawValue p[3] = {
        raw ("nonzero_data", j->wdt, bytes_of_floats (j, values, n_kept), &nk, 1),
        raw ("mask", MIL (UINT8), packed (j, mask, j->N, 1), &mb, 1),
        raw ("shape", MIL (UINT32), shape_bytes (j), &rank, 1),
      };
      ane_mil_constexpr_raw (j->b, "constexpr_sparse_to_dense", j->w->name, p, 3, &out, 1, &name);
    }
  j->report->bits = 1;
}

/* --- palettization ------------------------------------------------------- */

typedef struct { float v; guint i; } Entry;

static int
entry_cmp (const void *a, const void *b)
{
  float x = ((const Entry *) a)->v, y = ((const Entry *) b)->v;

  return x < y ? -1 : x > y;
}

/* Each weight's index re-picked as the nearest of k entries (after the LUT
 * was quantized to int8): binary search over the sorted entries, a tie to
 * the smaller value. */
static void
nearest_indices (const float *lut,
                 guint        k,
                 const float *w,
                 gsize        n,
                 guint8      *idx)
{
  g_autofree Entry *e = g_new (Entry, k);

  for (guint i = 0; i < k; i++)
    e[i] = (Entry) { lut[i], i };
  qsort (e, k, sizeof (Entry), entry_cmp);
  for (gsize i = 0; i < n; i++)
    {
      guint lo = 0, hi = k - 1;

      while (lo < hi)
        {
          guint mid = (lo + hi) / 2;

          if (e[mid + 1].v <= w[i])
            lo = mid + 1;
          else
            hi = mid;
        }
      if (lo + 1 < k && fabsf (e[lo + 1].v - w[i]) < fabsf (w[i] - e[lo].v))
        lo++;
      idx[i] = (guint8) e[lo].i;
    }
}

/* Vector palettization (iOS18): a table entry is cd values along the
 * output channels; rows c·cd .. c·cd + cd − 1 at one column make a vector
 * (coremltools' _get_lut_and_indices with cluster_dim, optimize/_utils.py:
 * 371-396). The indices keep the weight's shape with the channel axis
 * divided by cd; the lut is [..groups on the channel axis.., 2^n, cd] and
 * vector_axis names the channel axis (ops/defs/iOS18/compression.py:
 * 167-385). */
static gboolean
emit_palettize_vectors (Job     *j,
                        GError **error)
{
  AneCompressConfig *c = j->c;
  guint cd = c->cluster_dim, k = 1u << c->bits;
  gsize group = c->granularity == ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL ? c->group_size : j->C;
  gsize groups, nv, per;
  g_autofree float *lut = NULL;
  g_autofree guint8 *idx = NULL;
  g_autofree gint32 *orig_idx = NULL;
  g_autofree float *pts = NULL;
  g_autofree float *wts = NULL;
  gint64 ishape[8], lut_shape[10];
  guint lut_rank = j->w->rank + 2;
  gint32 axis = j->w->channel_axis;
  AneMilRawOutput out = { j->w->name, j->wdt, j->w->shape, j->w->rank };
  const char *name;

  if (j->C % group != 0 || group % cd != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "%" G_GSIZE_FORMAT " output channels do not divide into groups of %" G_GSIZE_FORMAT
                   " made of vectors of %u", j->C, group, cd);
      return FALSE;
    }
  if (j->keep)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "vector palettization (cluster dim %u) with pruning is not supported", cd);
      return FALSE;
    }
  groups = j->C / group;
  per = group / cd * j->R;          /* vectors per group */
  nv = groups * per;
  lut = g_new (float, groups * k * cd);
  idx = g_new (guint8, MAX (nv, 1));
  pts = g_new (float, MAX (nv, 1) * cd);
  if (j->imp_rows)
    wts = g_new0 (float, MAX (nv, 1));
  /* vector v = (vector row vr, column r) at vr·R + r; vector rows in group order */
  for (gsize vr = 0; vr < j->C / cd; vr++)
    for (gsize r = 0; r < j->R; r++)
      for (guint q = 0; q < cd; q++)
        {
          gsize at = (vr * cd + q) * j->R + r;

          pts[(vr * j->R + r) * cd + q] = j->rows[at];
          if (wts)
            wts[vr * j->R + r] += j->imp_rows[at];
        }
  for (gsize g = 0; g < groups; g++)
    {
      float *glut = lut + g * k * cd;

      ane_kmeans_vec (pts + g * per * cd, wts ? wts + g * per : NULL, per, cd, k, c->seed, glut, idx + g * per);
      /* the table as stored, then each vector's nearest stored entry */
      for (gsize i = 0; i < (gsize) k * cd; i++)
        glut[i] = stored (j, glut[i]);
      for (gsize v = 0; v < per; v++)
        idx[g * per + v] = (guint8) ane_kmeans_vec_nearest (glut, k, cd, pts + (g * per + v) * cd);
    }
  for (gsize vr = 0; vr < j->C / cd; vr++)
    for (gsize r = 0; r < j->R; r++)
      {
        gsize v = vr * j->R + r, g = v / per;

        for (guint q = 0; q < cd; q++)
          j->recon[(vr * cd + q) * j->R + r] = lut[(g * k + idx[v]) * cd + q];
      }
  /* indices in the original layout [A, C / cd, B] */
  orig_idx = g_new (gint32, MAX (nv, 1));
  for (gsize vr = 0; vr < j->C / cd; vr++)
    for (gsize r = 0; r < j->R; r++)
      orig_idx[(r / j->B) * (j->C / cd) * j->B + vr * j->B + r % j->B] = idx[vr * j->R + r];
  for (guint i = 0; i < j->w->rank; i++)
    ishape[i] = j->w->shape[i];
  ishape[axis] /= cd;
  for (guint i = 0; i < lut_rank; i++)
    lut_shape[i] = 1;
  lut_shape[axis] = (gint64) groups;
  lut_shape[lut_rank - 2] = k;
  lut_shape[lut_rank - 1] = cd;
  j->report->bits = c->bits;
  {
    AneMilRawValue p[3] = {
      raw ("indices", uint_dtype (c->bits), packed (j, orig_idx, nv, c->bits), ishape, j->w->rank),
      raw ("lut", j->wdt, bytes_of_floats (j, lut, groups * k * cd), lut_shape, lut_rank),
      raw ("vector_axis", MIL (INT32), bytes_of_ints (j, &axis, 1, 4), NULL, 0),
    };

    ane_mil_constexpr_raw (j->b, "constexpr_lut_to_dense", j->w->name, p, 3, &out, 1, &name);
  }
  return TRUE;
}

static gboolean
emit_palettize (Job     *j,
                GError **error)
{
  AneCompressConfig *c = j->c;
  guint k = 1u << c->bits;
  gsize group = c->granularity == ANE_COMPRESS_GRANULARITY_PER_GROUPED_CHANNEL ? c->group_size : 0;
  gsize groups = group ? j->C / group : 1;
  g_autofree float *lut = NULL;
  g_autofree guint8 *idx = g_new (guint8, MAX (j->N, 1));
  g_autofree gint32 *orig_idx = NULL;
  AnePaletteError perr;
  gint64 lut_shape[10];
  guint lut_rank = j->w->rank + 2;
  const char *lut_ref = NULL;
  AneMilRawOutput out = { j->w->name, j->wdt, j->w->shape, j->w->rank };
  const char *name;
  g_autofree gint8 *qlut = NULL;
  float lut_scale = 0;

  if (c->cluster_dim > 1)
    return emit_palettize_vectors (j, error);
  if (group && j->C % group != 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "group size %" G_GSIZE_FORMAT " does not divide its %" G_GSIZE_FORMAT
                   " output channels", group, j->C);
      return FALSE;
    }
  lut = g_new (float, groups * k);
  ane_palettize (j->rows, j->C, j->R, c->bits, c->method == ANE_PALETTIZE_KMEANS ? ANE_PALETTE_KMEANS
                                                                                 : ANE_PALETTE_UNIFORM,
                 group, j->imp_rows, j->fp16, lut, idx, &perr);
  if (c->int8_lut)
    {
      /* one symmetric int8 scale for the whole table, as coremltools'
       * joint compression quantizes the lut const (per tensor,
       * linear_symmetric: _quantization_passes.py:1220-1248, 1424-1430);
       * then each weight takes the nearest entry of what is read back */
      float m = 0;
      gsize per = j->C / groups * j->R;

      for (gsize i = 0; i < groups * k; i++)
        m = MAX (m, fabsf (lut[i]));
      lut_scale = stored (j, m / 127.0);
      qlut = g_new (gint8, groups * k);
      for (gsize i = 0; i < groups * k; i++)
        {
          double q = lut_scale > 0 ? nearbyint (lut[i] / lut_scale) : 0;

          qlut[i] = (gint8) CLAMP (q, -127, 127);
          lut[i] = stored (j, lut_scale * qlut[i]);
        }
      for (gsize g = 0; g < groups; g++)
        nearest_indices (lut + g * k, k, j->rows + g * per, per, idx + g * per);
    }
  for (gsize i = 0; i < j->N; i++)
    j->recon[i] = lut[(i / j->R) / (j->C / groups) * k + idx[i]];
  if (j->keep)
    for (gsize i = 0; i < j->N; i++)
      if (!j->keep[i] || j->rows[i] == 0.0f)
        j->recon[i] = 0.0f;
  orig_idx = ints_to_orig (j, idx, FALSE);
  j->report->bits = c->bits;

  if (!ios18 (j))
    {
      gint64 ib = (gint64) ane_bitpack_size (j->N, c->bits), kk = k, rank = j->w->rank;
      AneMilRawValue p[3] = {
        raw ("indices", MIL (UINT8), packed (j, orig_idx, j->N, c->bits), &ib, 1),
        raw ("lut", j->wdt, bytes_of_floats (j, lut, k), &kk, 1),
        raw ("shape", MIL (UINT32), shape_bytes (j), &rank, 1),
      };
      ane_mil_constexpr_raw (j->b, "constexpr_lut_to_dense", j->w->name, p, 3, &out, 1, &name);
      return TRUE;
    }

  /* iOS18: lut [..1.., groups on the channel axis, ..1.., 2^n, 1] */
  for (guint i = 0; i < lut_rank; i++)
    lut_shape[i] = 1;
  lut_shape[j->w->channel_axis] = (gint64) groups;
  lut_shape[lut_rank - 2] = k;
  if (qlut)
    {
      g_autofree gint32 *q32 = g_new (gint32, groups * k);
      gint64 one[10];
      AneMilRawOutput lo = { NULL, j->wdt, lut_shape, lut_rank };
      g_autofree char *hint = g_strdup_printf ("%s_lut", j->w->name);
      AneMilRawValue p[2];

      for (gsize i = 0; i < groups * k; i++)
        q32[i] = qlut[i];
      for (guint i = 0; i < lut_rank; i++)
        one[i] = 1;
      p[0] = raw ("data", MIL (INT8), bytes_of_ints (j, q32, groups * k, 1), lut_shape, lut_rank);
      p[1] = raw ("scale", j->wdt, bytes_of_floats (j, &lut_scale, 1), one, lut_rank);
      ane_mil_constexpr_raw (j->b, "constexpr_blockwise_shift_scale", hint, p, 2, &lo, 1, &lut_ref);
    }
  if (j->keep)
    {
      gsize n_kept = 0;
      g_autofree gint32 *nz = NULL;
      g_autofree gint32 *mask = kept_ints (j, orig_idx, &n_kept, &nz);
      gint64 nk = (gint64) n_kept;
      AneMilRawValue p[3];

      p[0] = raw ("indices_mask", MIL (UINT1), packed (j, mask, j->N, 1), j->w->shape, j->w->rank);
      p[1] = raw ("indices_nonzero_data", uint_dtype (c->bits), packed (j, nz, n_kept, c->bits), &nk, 1);
      p[2] = raw ("lut", j->wdt, lut_ref ? NULL : bytes_of_floats (j, lut, groups * k), lut_shape, lut_rank);
      p[2].ref = lut_ref;
      emit_sparse_pair (j, "constexpr_lut_to_sparse", p, 3, n_kept);
      return TRUE;
    }
  {
    AneMilRawValue p[2] = {
      raw ("indices", uint_dtype (c->bits), packed (j, orig_idx, j->N, c->bits), j->w->shape, j->w->rank),
      raw ("lut", j->wdt, lut_ref ? NULL : bytes_of_floats (j, lut, groups * k), lut_shape, lut_rank),
    };

    p[1].ref = lut_ref;
    ane_mil_constexpr_raw (j->b, "constexpr_lut_to_dense", j->w->name, p, 2, &out, 1, &name);
  }
  return TRUE;
}

/* --- linear quantization ------------------------------------------------- */

static gboolean
emit_quantize (Job     *j,
               GError **error)
{
  AneCompressConfig *c = j->c;
  AneLinearQuant spec = { c->bits, c->is_signed, c->symmetric, j->fp16 };
  gboolean whole = c->granularity == ANE_COMPRESS_GRANULARITY_PER_TENSOR;
  gsize block_cols = j->R, nb = 1, n_scales;
  gint ia = j->w->input_axis;
  g_autofree float *scale = NULL;
  g_autofree gint *zp = NULL;
  g_autofree gint8 *qs = NULL;
  g_autofree guint8 *qu = NULL;
  g_autofree gint32 *q = NULL;
  g_autofree float *oscale = NULL;
  g_autofree gint32 *ozp = NULL;
  gint64 sshape[8];
  double rms;
  gboolean has_offset = !(c->symmetric && c->is_signed);
  int qdt = c->bits == 8 ? (c->is_signed ? MIL (INT8) : MIL (UINT8)) : (c->is_signed ? MIL (INT4) : MIL (UINT4));
  AneMilRawOutput out = { j->w->name, j->wdt, j->w->shape, j->w->rank };
  const char *name;

  if (c->granularity == ANE_COMPRESS_GRANULARITY_PER_BLOCK)
    {
      gsize cin, inner;

      if (ia < 0)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                       "quantization per block needs the input channels of its reader ('%s')",
                       j->w->consumer_type ? j->w->consumer_type : "none");
          return FALSE;
        }
      cin = (gsize) j->w->shape[ia];
      inner = j->R / cin;
      if (cin % c->block_size != 0)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                       "block size %u does not divide its %" G_GSIZE_FORMAT " input channels",
                       c->block_size, cin);
          return FALSE;
        }
      block_cols = c->block_size * inner;
      nb = cin / c->block_size;
    }
  n_scales = whole ? 1 : j->C * nb;
  scale = g_new (float, n_scales);
  zp = g_new (gint, n_scales);
  if (c->is_signed)
    qs = g_new (gint8, MAX (j->N, 1));
  else
    qu = g_new (guint8, MAX (j->N, 1));
  ane_linear_quantize (&spec, j->rows, j->C, j->R, block_cols, whole, scale, zp, qs, qu, &rms);
  for (gsize i = 0; i < j->N; i++)
    {
      gsize s = whole ? 0 : (i / j->R) * nb + (i % j->R) / block_cols;
      gint level = qs ? qs[i] : qu[i];

      j->recon[i] = stored (j, (double) scale[s] * (level - zp[s]));
      if (j->keep && (!j->keep[i] || j->rows[i] == 0.0f))
        j->recon[i] = 0.0f;
    }
  q = ints_to_orig (j, qs ? (const guint8 *) qs : qu, c->is_signed);
  j->report->bits = c->bits;

  /* scales (and offsets) in the original axis order: [C, nb] rows, read
   * back as [nb, C] when the input axis comes first */
  oscale = g_new (float, n_scales);
  ozp = g_new (gint32, n_scales);
  for (gsize r = 0; r < (whole ? 1 : j->C); r++)
    for (gsize b = 0; b < (whole ? 1 : nb); b++)
      {
        gsize from = r * nb + b, to = (ia >= 0 && ia < j->w->channel_axis) ? b * j->C + r : from;

        if (whole)
          from = to = 0;
        oscale[to] = scale[from];
        ozp[to] = zp[from];
      }

  if (!ios18 (j))
    {
      /* constexpr_affine_dequantize: scale and zero point scalars or [C],
       * along axis (ops/defs/iOS16/constexpr_ops.py:79-112) */
      gint64 cc = (gint64) j->C;
      gint32 axis = whole ? 0 : j->w->channel_axis;
      AneMilRawValue p[4] = {
        raw ("quantized_data", qdt, bytes_of_ints (j, q, j->N, 1), j->w->shape, j->w->rank),
        raw ("zero_point", qdt, bytes_of_ints (j, ozp, n_scales, 1), &cc, whole ? 0 : 1),
        raw ("scale", j->wdt, bytes_of_floats (j, oscale, n_scales), &cc, whole ? 0 : 1),
        raw ("axis", MIL (INT32), bytes_of_ints (j, &axis, 1, 4), NULL, 0),
      };
      ane_mil_constexpr_raw (j->b, "constexpr_affine_dequantize", j->w->name, p, 4, &out, 1, &name);
      return TRUE;
    }

  for (guint i = 0; i < j->w->rank; i++)
    sshape[i] = 1;
  if (!whole)
    sshape[j->w->channel_axis] = (gint64) j->C;
  if (c->granularity == ANE_COMPRESS_GRANULARITY_PER_BLOCK)
    sshape[ia] = (gint64) nb;
  if (j->keep)
    {
      gsize n_kept = 0;
      g_autofree gint32 *nz = NULL;
      g_autofree gint32 *mask = kept_ints (j, q, &n_kept, &nz);
      gint64 nk = (gint64) n_kept;
      AneMilRawValue p[4];

      p[0] = raw ("data_mask", MIL (UINT1), packed (j, mask, j->N, 1), j->w->shape, j->w->rank);
      p[1] = raw ("nonzero_data", qdt, c->bits == 4 ? packed (j, nz, n_kept, 4) : bytes_of_ints (j, nz, n_kept, 1),
                  &nk, 1);
      p[2] = raw ("scale", j->wdt, bytes_of_floats (j, oscale, n_scales), sshape, j->w->rank);
      p[3] = raw ("offset", qdt, c->bits == 4 ? packed (j, ozp, n_scales, 4) : bytes_of_ints (j, ozp, n_scales, 1),
                  sshape, j->w->rank);
      emit_sparse_pair (j, "constexpr_sparse_blockwise_shift_scale", p, has_offset ? 4 : 3, n_kept);
      return TRUE;
    }
  {
    AneMilRawValue p[3] = {
      raw ("data", qdt, c->bits == 4 ? packed (j, q, j->N, 4) : bytes_of_ints (j, q, j->N, 1),
           j->w->shape, j->w->rank),
      raw ("scale", j->wdt, bytes_of_floats (j, oscale, n_scales), sshape, j->w->rank),
      raw ("offset", qdt, NULL, sshape, j->w->rank),
    };

    if (has_offset)
      p[2].bytes = c->bits == 4 ? packed (j, ozp, n_scales, 4) : bytes_of_ints (j, ozp, n_scales, 1);
    ane_mil_constexpr_raw (j->b, "constexpr_blockwise_shift_scale", j->w->name, p, has_offset ? 3 : 2,
                           &out, 1, &name);
  }
  return TRUE;
}

/* --- the weight ---------------------------------------------------------- */

static const char *
mode_name (const AneCompressConfig *c)
{
  gboolean pruned = c->prune != ANE_PRUNE_OFF;

  switch (c->mode)
    {
    case ANE_COMPRESS_PALETTIZE: return pruned ? "prune+palettize" : "palettize";
    case ANE_COMPRESS_QUANTIZE: return pruned ? "prune+quantize" : "quantize";
    default: return "prune";
    }
}

static void
job_clear (Job *j)
{
  g_free (j->own_rows);
  g_free (j->imp_rows);
  g_free (j->recon);
  g_free (j->keep);
  g_ptr_array_unref (j->held);
}

gboolean
ane_compress_weight (AneMilBuilder            *b,
                     AneCompressConfig        *config,
                     const AneCompressWeight  *weight,
                     AneCompressedWeight      *report,
                     GError                  **error)
{
  Job j = { b, config, weight, report, };
  gboolean ok;
  double sum = 0, maxe = 0;
  gsize zeros = 0;

  j.held = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  j.fp16 = weight->dtype == ANE_DTYPE_FLOAT16;
  j.wdt = j.fp16 ? MIL (FLOAT16) : MIL (FLOAT32);
  j.N = 1;
  j.A = 1;
  j.B = 1;
  for (guint i = 0; i < weight->rank; i++)
    {
      j.N *= (gsize) weight->shape[i];
      if ((gint) i < weight->channel_axis)
        j.A *= (gsize) weight->shape[i];
      else if ((gint) i > weight->channel_axis)
        j.B *= (gsize) weight->shape[i];
    }
  j.C = (gsize) weight->shape[weight->channel_axis];
  j.R = j.A * j.B;
  if (j.A == 1)
    j.rows = (float *) weight->values;
  else
    j.rows = j.own_rows = floats_as_rows (&j, weight->values);
  if (weight->importance)
    j.imp_rows = j.A == 1 ? g_memdup2 (weight->importance, j.N * sizeof (float))
                          : floats_as_rows (&j, weight->importance);
  j.recon = g_new (float, MAX (j.N, 1));

  report->name = g_strdup (weight->name);
  report->op_type = g_strdup (weight->consumer_type);
  report->mode = g_strdup (mode_name (config));
  {
    g_autofree char *d = ane_compress_config_to_string (config);
    char *cut = strstr (d, " [");

    if (cut)
      *cut = '\0';
    report->detail = g_steal_pointer (&d);
  }
  report->bytes_before = j.N * (j.fp16 ? 2 : 4);
  report->bytes_after = 0;

  ok = prune_rows (&j, error);
  if (ok && j.keep && config->mode != ANE_COMPRESS_PRUNE)
    apply_pruning (&j);
  if (ok)
    {
      if (config->mode == ANE_COMPRESS_PALETTIZE)
        ok = emit_palettize (&j, error);
      else if (config->mode == ANE_COMPRESS_QUANTIZE)
        ok = emit_quantize (&j, error);
      else
        emit_prune (&j);
    }
  if (ok && !ane_mil_builder_propagate_error (b, error))
    ok = FALSE;
  if (ok)
    {
      /* the error against the weight as it was (before pruning) */
      const float *orig_rows = j.A == 1 ? weight->values : NULL;
      g_autofree float *tmp = orig_rows ? NULL : floats_as_rows (&j, weight->values);

      if (orig_rows == NULL)
        orig_rows = tmp;
      for (gsize i = 0; i < j.N; i++)
        {
          double e = fabs ((double) orig_rows[i] - j.recon[i]);

          maxe = MAX (maxe, e);
          sum += e * e;
          zeros += j.recon[i] == 0.0f;
        }
      report->max_error = maxe;
      report->rms_error = j.N ? sqrt (sum / (double) j.N) : 0;
      report->sparsity = j.N ? (double) zeros / (double) j.N : 0;
    }
  job_clear (&j);
  return ok;
}
