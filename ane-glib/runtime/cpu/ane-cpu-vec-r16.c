/* runtime/cpu/ane-cpu-vec-r16.c: GGUF Q8_0 / Q4_0 / Q4_K weights regrouped 16 rows at a time for 8-bit activations
 *
 * With 8-bit activations (ane-cpu-vec-q8x-private.h), a block's products
 * are integers; what costs is the float work around them: converting each
 * block's sum, scaling it, adding it up, and at the end of a row summing
 * the lanes of a vector. Laid out as the file holds them, every block of
 * every row pays that on its own. Regrouped, a vector holds 16 rows: the
 * bytes of 4 consecutive weights of row r lie in lane r, so vpdpbusd with
 * 4 activations broadcast to every lane adds 4 products to each of 16
 * rows' sums at once, and a block's float work (its 16 d's converted in
 * one instruction, one multiply-add) is shared by 16 rows; no lanes are
 * summed at all. This is how llama.cpp's repacked kernels work
 * (ggml/src/ggml-cpu/repack.cpp, block_q4_0x8); the layout here is ours.
 *
 * Layout (ANE_CPU_PACKED_Q8_0_R16 / Q4_0_R16; Q4_K_R16 below, at
 * regroup_q4_K): rows in groups of 16 (the last padded with rows of
 * zeros), a group's blocks one after the other, each block:
 *   - the 16 rows' d, IEEE halves (32 bytes);
 *   - Q8_0: 8 chunks of 64 bytes, chunk j holding in bytes 4r .. 4r + 3
 *     row r's weights 4j .. 4j + 3 as unsigned bytes q + 128;
 *   - Q4_0: 4 chunks of 64 bytes, chunk k holding in bytes 4r .. 4r + 3
 *     row r's qs[4k .. 4k + 3] as the file has them (low nibbles weights
 *     4k .. 4k + 3, high nibbles 16 + 4k ..; the nibble is q + 8).
 * The same bytes as the file (34 or 18 per 32 weights). The weights are
 * unsigned, so vpdpbusd takes them as they are, and the offset (128 or 8)
 * comes out of the sum as −128 or −8 times the block's Σq, once per
 * activation block for every row.
 *
 * The sum, for row r and activation row i: one float, +0 at first; block
 * b adds (float) I · s in one fused multiply-add (fmaf), where I is the
 * exact integer Σ w q of the block and s = d · dx (a float product); no
 * other rounding (Q4_K: groups_q4_K_portable). The portable, AVX2 and
 * AVX-512 kernels give the same bits.
 *
 * Made once per weight and process (a decode step and a prompt step of
 * the same model share it), in chunks advised MADV_HUGEPAGE, when an
 * executable is compiled with quantize-activations on
 * (ane-cpu-plan.c, make_weights_hot): the weights' file pages it was read
 * from are released.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-file-private.h"
#include "ane-reference-private.h"
#include "ane-tsan-private.h"
#include "runtime/cpu/ane-cpu-vec-q8x-private.h"

/* Q4_K_R16, per group and block of 256: d[16], dmin[16] (halves), then
 * the 8 sub-blocks' 6-bit scales and mins decoded, a byte per row
 * (sc[j][16], m[j][16]), then the qs in 64-byte chunks */
#define Q4_K_DMIN 32
#define Q4_K_SC   64
#define Q4_K_MIN  192
#define Q4_K_QS   320

gsize
ane_cpu_r16_block_bytes (AneCpuPackedKind kind)
{
  switch (kind)
    {
    case ANE_CPU_PACKED_Q8_0_R16:
      return 32 + 8 * 64;
    case ANE_CPU_PACKED_Q4_0_R16:
      return 32 + 4 * 64;
    default:
      return Q4_K_QS + 32 * 64;   /* Q4_K: a block of 256 weights */
    }
}

/* --- one copy per weight and process ----------------------------------------- */

/* The copies are cut from chunks of 64 MiB advised MADV_HUGEPAGE: a
 * weight of its own 2 MiB-aligned allocation each would fill its last
 * huge page with nothing (the 134M Q8_0 model: 46 MiB more than the
 * weights). A chunk is freed when the last copy in it is. */
typedef struct {
  guint8 *base;
  gsize   size, used;
  guint   live;
} Chunk;

#define CHUNK_BYTES ((gsize) 64 << 20)

static Chunk *chunk_current;   /* under regrouped_lock, as every chunk */

static void chunk_unuse (Chunk *c);

typedef struct {
  gconstpointer source;   /* the blocks it was made from */
  GBytes       *source_bytes;   /* theirs, held: their address is not reused while this lives */
  AneCpuPackedKind kind;
  guint8       *data;
  gsize         size;
  Chunk        *chunk;
  guint         users;    /* AneCpuPacked holding it (through a GBytes each) */
} Regrouped;

static GMutex regrouped_lock;
static GHashTable *regrouped;   /* source -> Regrouped* */

static void
regrouped_release (gpointer data)
{
  Regrouped *e = data;
  gboolean last;

  ane_mutex_lock (&regrouped_lock);
  last = --e->users == 0;
  if (last && g_hash_table_lookup (regrouped, e->source) == e)
    g_hash_table_remove (regrouped, e->source);
  if (last)
    chunk_unuse (e->chunk);
  ane_mutex_unlock (&regrouped_lock);
  if (!last)
    return;
  g_clear_pointer (&e->source_bytes, g_bytes_unref);
  g_free (e);
}

/* A chunk no copy uses any more, and not the one being cut from, is freed. */
static void
chunk_free_if_idle (Chunk *c)
{
  if (c->live > 0 || c == chunk_current)
    return;
  ane_file_huge_free (c->base, c->size);
  g_free (c);
}

static void
chunk_unuse (Chunk *c)
{
  c->live--;
  chunk_free_if_idle (c);
}

/* size bytes, 64-aligned, from the current chunk or a new one (under
 * regrouped_lock). */
static guint8 *
chunk_alloc (gsize   size,
             Chunk **chunk)
{
  Chunk *c = chunk_current;

  size = (size + 63) & ~(gsize) 63;
  if (c == NULL || c->size - c->used < size)
    {
      /* in huge pages (ane-file-map.c says what that is worth) */
      gsize bytes = MAX (CHUNK_BYTES, size);
      guint8 *base = ane_file_huge_alloc (bytes);
      Chunk *old = c;

      if (base == NULL)
        return NULL;
      c = g_new0 (Chunk, 1);
      c->base = base;
      c->size = bytes;
      chunk_current = c;
      if (old != NULL)
        chunk_free_if_idle (old);
    }
  c->live++;
  *chunk = c;
  c->used += size;
  return c->base + c->used - size;
}

/* Q4_K: per group of 16 rows and block of 256 weights, the rows' d and
 * dmin, their sub-blocks' scales and mins a byte each (ggml's
 * get_scale_min_k4 done once here), and for each 32 bytes of qs (two
 * sub-blocks, low and high nibbles) 8 chunks of 64 bytes as Q4_0's. */
static void
regroup_q4_K (const AneCpuPacked *src,
              guint8             *dst)
{
  gsize nsb = src->cols / 256, groups = (src->rows + 15) / 16, blk_bytes = ane_cpu_r16_block_bytes (ANE_CPU_PACKED_Q4_K_R16);

  for (gsize g = 0; g < groups; g++)
    for (gsize S = 0; S < nsb; S++)
      {
        guint8 *out = dst + (g * nsb + S) * blk_bytes;

        for (gsize r = 0; r < 16; r++)
          {
            gsize row = g * 16 + r;
            const guint8 *blk = row < src->rows ? src->q + row * src->row_bytes + S * 144 : NULL;

            /* a padding row: d = dmin = +0, every nibble 0 */
            for (guint k = 0; k < 2; k++)
              {
                out[2 * r + k] = blk ? blk[k] : 0;
                out[Q4_K_DMIN + 2 * r + k] = blk ? blk[2 + k] : 0;
              }
            for (int j = 0; j < 8; j++)
              {
                int sc = 0, mn = 0;

                if (blk)
                  ane_q4_K_scale_min (j, blk + 4, &sc, &mn);
                out[Q4_K_SC + 16 * j + r] = (guint8) sc;
                out[Q4_K_MIN + 16 * j + r] = (guint8) mn;
              }
            for (gsize c = 0; c < 128; c++)
              out[Q4_K_QS + (c / 4) * 64 + 4 * r + c % 4] = blk ? blk[16 + c] : 0;
          }
      }
}

static void
regroup (const AneCpuPacked *src,
         AneCpuPackedKind    kind,
         guint8             *dst)
{
  gboolean q8 = kind == ANE_CPU_PACKED_Q8_0_R16;
  gsize bb = q8 ? 34 : 18, nb = src->n_blocks, blk_bytes = ane_cpu_r16_block_bytes (kind);
  gsize groups = (src->rows + 15) / 16, qbytes = q8 ? 32 : 16;

  for (gsize g = 0; g < groups; g++)
    for (gsize b = 0; b < nb; b++)
      {
        guint8 *out = dst + (g * nb + b) * blk_bytes;

        for (gsize r = 0; r < 16; r++)
          {
            gsize row = g * 16 + r;
            const guint8 *blk = row < src->rows ? src->q + row * src->row_bytes + b * bb : NULL;

            /* a padding row: d = +0, every weight q = 0 */
            out[2 * r] = blk ? blk[0] : 0;
            out[2 * r + 1] = blk ? blk[1] : 0;
            for (gsize c = 0; c < qbytes; c++)
              {
                guint8 v = blk ? blk[2 + c] : (q8 ? 0 : 0x88);

                out[32 + (c / 4) * 64 + 4 * r + c % 4] = q8 ? (guint8) (v ^ 0x80) : v;
              }
          }
      }
}

/* Blocks of a row: of 32 weights, or Q4_K's of 256. */
static gsize
r16_units (AneCpuPackedKind kind,
           gsize            cols)
{
  return kind == ANE_CPU_PACKED_Q4_K_R16 ? cols / 256 : cols / 32;
}

AneCpuPacked *
ane_cpu_packed_new_r16 (const AneCpuPacked *src)
{
  AneCpuPackedKind kind;
  gsize group_bytes, size;
  Regrouped *e;
  AneCpuPacked *p;

  if (src->kind == ANE_CPU_PACKED_Q8_0_BLOCKS)
    kind = ANE_CPU_PACKED_Q8_0_R16;
  else if (src->kind == ANE_CPU_PACKED_Q4_0_BLOCKS)
    kind = ANE_CPU_PACKED_Q4_0_R16;
  else if (src->kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
    kind = ANE_CPU_PACKED_Q4_K_R16;
  else
    return NULL;
  group_bytes = r16_units (kind, src->cols) * ane_cpu_r16_block_bytes (kind);
  size = (src->rows + 15) / 16 * group_bytes;

  ane_mutex_lock (&regrouped_lock);
  if (regrouped == NULL)
    regrouped = g_hash_table_new (g_direct_hash, g_direct_equal);
  /* shared only when the blocks are held by bytes (a file's mapping),
   * which the entry then holds too */
  e = src->keep != NULL ? g_hash_table_lookup (regrouped, src->q) : NULL;
  if (e != NULL && (e->kind != kind || e->size != size))
    e = NULL;   /* the same bytes read another way: a copy of its own, not shared */
  if (e == NULL)
    {
      Chunk *chunk = NULL;
      guint8 *data = chunk_alloc (size, &chunk);

      if (data == NULL)
        {
          ane_mutex_unlock (&regrouped_lock);
          return NULL;
        }
      /* made under the lock: a second executable of the model waits for
       * the first's copy instead of making its own */
      if (kind == ANE_CPU_PACKED_Q4_K_R16)
        regroup_q4_K (src, data);
      else
        regroup (src, kind, data);
      e = g_new0 (Regrouped, 1);
      e->source = src->q;
      e->kind = kind;
      e->data = data;
      e->size = size;
      e->chunk = chunk;
      if (src->keep != NULL && !g_hash_table_contains (regrouped, src->q))
        {
          e->source_bytes = g_bytes_ref (src->keep);
          g_hash_table_insert (regrouped, (gpointer) src->q, e);
        }
    }
  e->users++;
  ane_mutex_unlock (&regrouped_lock);
  /* its file pages are not needed any more (a mapping's; anything else
   * is left alone) */
  ane_file_release_pages (src->q, src->rows * src->row_bytes);

  p = g_new0 (AneCpuPacked, 1);
  p->kind = kind;
  p->rows = src->rows;
  p->cols = src->cols;
  p->row_bytes = group_bytes;   /* a group of 16 rows */
  p->block = 32;
  p->row_group = 1;
  p->n_blocks = src->n_blocks;
  p->round_fp16 = src->round_fp16;
  p->hot = TRUE;
  p->quantize_activations = TRUE;
  p->keep = g_bytes_new_with_free_func (e->data, e->size, regrouped_release, e);
  p->q = e->data;
  return p;
}

/* ggml's dequantize_row_q4_K: w = (d · sc) · n − dmin · m, each product
 * and the difference rounded to float. */
static void
dequantize_q4_K_row (const AneCpuPacked *p,
                     gsize               r,
                     float              *dst)
{
  gsize blk_bytes = ane_cpu_r16_block_bytes (p->kind), rr = r % 16;
  const guint8 *group = p->q + (r / 16) * p->row_bytes;

  for (gsize S = 0; S < p->cols / 256; S++)
    {
      const guint8 *blk = group + S * blk_bytes;
      float d = ane_half_to_float ((guint16) (blk[2 * rr] | blk[2 * rr + 1] << 8));
      float dmin = ane_half_to_float ((guint16) (blk[Q4_K_DMIN + 2 * rr] | blk[Q4_K_DMIN + 2 * rr + 1] << 8));

      for (gsize j = 0; j < 8; j++)
        {
          float d1 = d * (float) blk[Q4_K_SC + 16 * j + rr], m1 = dmin * (float) blk[Q4_K_MIN + 16 * j + rr];

          for (gsize c = 0; c < 32; c++)
            {
              /* sub-block j: the low (even j) or high nibbles of qs bytes
               * 32 · (j / 2) + c */
              guint8 v = blk[Q4_K_QS + ((32 * (j / 2) + c) / 4) * 64 + 4 * rr + c % 4];
              float prod = d1 * (float) (j % 2 ? v >> 4 : v & 15);

              dst[256 * S + 32 * j + c] = prod - m1;
            }
        }
    }
}

void
ane_cpu_packed_r16_dequantize_row (const AneCpuPacked *p,
                                   gsize               r,
                                   float              *dst)
{
  gboolean q8 = p->kind == ANE_CPU_PACKED_Q8_0_R16;
  gsize blk_bytes = ane_cpu_r16_block_bytes (p->kind), rr = r % 16;
  const guint8 *group = p->q + (r / 16) * p->row_bytes;

  if (p->kind == ANE_CPU_PACKED_Q4_K_R16)
    {
      dequantize_q4_K_row (p, r, dst);
      return;
    }
  for (gsize b = 0; b < p->n_blocks; b++)
    {
      const guint8 *blk = group + b * blk_bytes;
      float d = ane_half_to_float ((guint16) (blk[2 * rr] | blk[2 * rr + 1] << 8));
      float *w = dst + 32 * b;

      for (gsize c = 0; c < (q8 ? 32u : 16u); c++)
        {
          guint8 v = blk[32 + (c / 4) * 64 + 4 * rr + c % 4];

          /* the blocks' float operations: d · (float) q */
          if (q8)
            w[c] = d * (float) ((gint32) v - 128);
          else
            {
              w[c] = d * (float) ((gint32) (v & 15) - 8);
              w[16 + c] = d * (float) ((gint32) (v >> 4) - 8);
            }
        }
    }
}

/* Row rr of group g against activation row i, Q8_0 or Q4_0: one float,
 * block b adding (float) I · (d · dx) in a fused multiply-add. */
static float
row_q8_0_q4_0 (const AneCpuPacked *p,
               gsize               g,
               gsize               rr,
               const AneCpuQ8x    *a,
               gsize               i)
{
  gboolean q8 = p->kind == ANE_CPU_PACKED_Q8_0_R16;
  gsize blk_bytes = ane_cpu_r16_block_bytes (p->kind), nb = p->n_blocks;
  const float *halves = ane_cpu_half_table ();
  const gint8 *q = a->q + i * a->cols;
  float acc = 0.0f;

  for (gsize b = 0; b < nb; b++)
    {
      const guint8 *blk = p->q + g * p->row_bytes + b * blk_bytes;
      float s = halves[blk[2 * rr] | blk[2 * rr + 1] << 8] * a->d[i * nb + b];
      gint32 sum = (q8 ? -128 : -8) * a->bsum[i * nb + b];

      for (gsize c = 0; c < (q8 ? 32u : 16u); c++)
        {
          guint8 v = blk[32 + (c / 4) * 64 + 4 * rr + c % 4];

          if (q8)
            sum += v * q[32 * b + c];
          else
            sum += (v & 15) * q[32 * b + c] + (v >> 4) * q[32 * b + 16 + c];
        }
      acc = fmaf ((float) sum, s, acc);
    }
  return acc;
}

/* The same for Q4_K: a sum and an offsets' sum; sub-block b adds (float)
 * I · ((d · sc) · dx) to the first and (float) Σq · ((dmin · m) · dx) to
 * the second, each in one fused multiply-add; the row is their
 * difference. */
static float
row_q4_K (const AneCpuPacked *p,
          gsize               g,
          gsize               rr,
          const AneCpuQ8x    *a,
          gsize               i)
{
  gsize blk_bytes = ane_cpu_r16_block_bytes (p->kind), nb = p->n_blocks;
  const float *halves = ane_cpu_half_table ();
  const gint8 *q = a->q + i * a->cols;
  float acc = 0.0f, off = 0.0f;

  for (gsize b = 0; b < nb; b++)
    {
      const guint8 *blk = p->q + g * p->row_bytes + (b / 8) * blk_bytes;
      gsize j = b % 8;
      float d = halves[blk[2 * rr] | blk[2 * rr + 1] << 8];
      float dmin = halves[blk[Q4_K_DMIN + 2 * rr] | blk[Q4_K_DMIN + 2 * rr + 1] << 8];
      float dx = a->d[i * nb + b];
      float s = (d * (float) blk[Q4_K_SC + 16 * j + rr]) * dx;
      float mo = (dmin * (float) blk[Q4_K_MIN + 16 * j + rr]) * dx;
      gint32 sum = 0;

      for (gsize c = 0; c < 32; c++)
        {
          guint8 v = blk[Q4_K_QS + ((32 * (j / 2) + c) / 4) * 64 + 4 * rr + c % 4];

          sum += (j % 2 ? v >> 4 : v & 15) * q[32 * b + c];
        }
      acc = fmaf ((float) sum, s, acc);
      off = fmaf ((float) a->bsum[i * nb + b], mo, off);
    }
  return acc - off;
}

void
ane_cpu_q8x_groups_portable (const AneCpuPacked *p,
                             gsize               g0,
                             gsize               g1,
                             const AneCpuQ8x    *a,
                             float              *out)
{
  for (gsize g = g0; g < g1; g++)
    for (gsize i = 0; i < a->m; i++)
      for (gsize rr = 0; rr < 16 && g * 16 + rr < p->rows; rr++)
        out[i * p->rows + g * 16 + rr] = p->kind == ANE_CPU_PACKED_Q4_K_R16 ? row_q4_K (p, g, rr, a, i)
                                                                           : row_q8_0_q4_0 (p, g, rr, a, i);
}
