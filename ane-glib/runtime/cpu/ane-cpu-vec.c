/* runtime/cpu/ane-cpu-vec.c: compressed weights: packing, the portable
 * kernels and the dispatch (ane-cpu-vec-private.h)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mil/ane-milblob-private.h"
#include "runtime/cpu/ane-cpu-blas-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"
#include "ane-file-private.h"
#include "runtime/cpu/ane-cpu-vec-private.h"
#include "runtime/cpu/ane-cpu-vec-q8x-private.h"

/* --- packing ----------------------------------------------------------------- */

static gsize
int4_row_bytes (gsize cols)
{
  return (cols + 31) / 32 * 16;
}

/* Whether q − o is exact in float for every offset o and every q in
 * [lo, hi]. The kernels compute v = (float) q − o and w = s · v in float;
 * the dequantizing kernel (k_constexpr_blockwise_shift_scale) computes
 * s · (q − o) in double and rounds once. With q − o exact both are the
 * one rounding of the exact product (two 24-bit significands fit a
 * double's 53), so the weights are bit-identical; an offset for which it
 * is not (a fractional one far from the q's scale) is not packed. Integer
 * offsets always pass; GGUF Q4_K's are rounded to pass (ane-lower-q4k.c). */
static gboolean
offsets_exact (const float *offset,
               gsize        n,
               gint32       lo,
               gint32       hi)
{
  for (gsize i = 0; offset && i < n; i++)
    {
      if (fabsf (offset[i]) < 8388608.0f && offset[i] == (float) (gint32) offset[i])
        continue;   /* an integer below 2^23: q − o is an integer below 2^24 */
      for (gint32 q = lo; q <= hi; q++)
        {
          double exact = (double) q - (double) offset[i];

          if ((double) (float) exact != exact)
            return FALSE;
        }
    }
  return TRUE;
}

AneCpuPacked *
ane_cpu_packed_new_blockwise (AneCpuPackedKind kind,
                              gsize            rows,
                              gsize            cols,
                              const gint32    *data,
                              const float     *scale,
                              gsize            srows,
                              gsize            scols,
                              const float     *offset,
                              gboolean         round_fp16)
{
  AneCpuPacked *p;
  gint32 lo = kind == ANE_CPU_PACKED_INT8 ? -128 : kind == ANE_CPU_PACKED_UINT4 ? 0 : -8;
  gint32 hi = kind == ANE_CPU_PACKED_INT8 ? 127 : kind == ANE_CPU_PACKED_UINT4 ? 15 : 7;

  if ((kind != ANE_CPU_PACKED_INT8 && kind != ANE_CPU_PACKED_INT4 && kind != ANE_CPU_PACKED_UINT4) ||
      rows == 0 || cols == 0 || srows == 0 || scols == 0 ||
      rows % srows != 0 || cols % scols != 0)
    return NULL;
  for (gsize i = 0; i < rows * cols; i++)
    if (data[i] < lo || data[i] > hi)
      return NULL;
  if (!offsets_exact (offset, srows * scols, lo, hi))
    return NULL;
  p = g_new0 (AneCpuPacked, 1);
  p->kind = kind;
  p->rows = rows;
  p->cols = cols;
  p->row_group = rows / srows;
  p->block = cols / scols;
  p->n_blocks = scols;
  p->round_fp16 = round_fp16;
  p->scale = g_memdup2 (scale, srows * scols * sizeof (float));
  p->offset = offset ? g_memdup2 (offset, srows * scols * sizeof (float)) : NULL;
  if (kind == ANE_CPU_PACKED_INT8)
    {
      p->row_bytes = cols;
      p->q = g_malloc (rows * cols);
      for (gsize i = 0; i < rows * cols; i++)
        p->q[i] = (guint8) (gint8) data[i];
    }
  else
    {
      p->row_bytes = int4_row_bytes (cols);
      p->q = g_malloc0 (rows * p->row_bytes);
      for (gsize r = 0; r < rows; r++)
        for (gsize c = 0; c < cols; c++)
          {
            guint8 *byte = p->q + r * p->row_bytes + c / 32 * 16 + c % 16;
            guint8 nib = (guint8) (data[r * cols + c] & 15);

            *byte |= (c % 32) < 16 ? nib : (guint8) (nib << 4);
          }
    }
  return p;
}

AneCpuPacked *
ane_cpu_packed_new_fp16 (gsize        rows,
                         gsize        cols,
                         const float *values)
{
  AneCpuPacked *p;

  if (rows == 0 || cols == 0)
    return NULL;
  p = g_new0 (AneCpuPacked, 1);
  p->kind = ANE_CPU_PACKED_FP16;
  p->rows = rows;
  p->cols = cols;
  p->row_bytes = cols * 2;
  p->block = cols;
  p->row_group = rows;
  p->n_blocks = 1;
  p->q = g_malloc (rows * cols * 2);
  /* the values are fp16 already (the plan decoded an fp16 const): exact */
  ane_f32_to_f16_bulk (values, (guint16 *) p->q, rows * cols);
  return p;
}

/* Weights used where they lie. */
static void
packed_keep (AneCpuPacked *p,
             GBytes       *bytes)
{
  p->keep = g_bytes_ref (bytes);
  p->q = (guint8 *) g_bytes_get_data (bytes, NULL);
}

void
ane_cpu_packed_make_hot (AneCpuPacked *p)
{
  GBytes *hot;

  if (p->keep == NULL)
    return;
  hot = ane_file_hot_bytes (p->keep);
  if (g_bytes_get_data (hot, NULL) != g_bytes_get_data (p->keep, NULL))
    p->hot = TRUE;
  g_bytes_unref (p->keep);
  p->keep = hot;
  p->q = (guint8 *) g_bytes_get_data (hot, NULL);
}

AneCpuPacked *
ane_cpu_packed_new_borrowed (AneCpuPackedKind kind,
                             gsize            rows,
                             gsize            cols,
                             GBytes          *bytes,
                             const float     *scale,
                             gsize            srows,
                             gsize            scols,
                             const float     *offset,
                             gboolean         round_fp16)
{
  gsize width = kind == ANE_CPU_PACKED_FP16 ? 2 : 1;
  AneCpuPacked *p;

  if ((kind != ANE_CPU_PACKED_INT8 && kind != ANE_CPU_PACKED_FP16) || rows == 0 || cols == 0 ||
      g_bytes_get_size (bytes) != rows * cols * width ||
      (kind == ANE_CPU_PACKED_INT8 && (scale == NULL || srows == 0 || scols == 0 || rows % srows != 0 ||
                                       cols % scols != 0)) ||
      (kind == ANE_CPU_PACKED_FP16 && ((guintptr) g_bytes_get_data (bytes, NULL)) % 2 != 0) ||
      (kind == ANE_CPU_PACKED_INT8 && !offsets_exact (offset, srows * scols, -128, 127)))
    return NULL;
  p = g_new0 (AneCpuPacked, 1);
  p->kind = kind;
  p->rows = rows;
  p->cols = cols;
  p->row_bytes = cols * width;
  packed_keep (p, bytes);
  p->round_fp16 = round_fp16;
  if (kind == ANE_CPU_PACKED_FP16)
    {
      p->block = cols;
      p->row_group = rows;
      p->n_blocks = 1;
      return p;
    }
  p->row_group = rows / srows;
  p->block = cols / scols;
  p->n_blocks = scols;
  p->scale = g_memdup2 (scale, srows * scols * sizeof (float));
  p->offset = offset ? g_memdup2 (offset, srows * scols * sizeof (float)) : NULL;
  return p;
}

AneCpuPacked *
ane_cpu_packed_new_blocks (AneCpuPackedKind kind,
                           gsize            rows,
                           gsize            cols,
                           GBytes          *blocks,
                           gboolean         round_fp16)
{
  gsize block_bytes = kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? 34 : kind == ANE_CPU_PACKED_Q4_0_BLOCKS ? 18 : 0;
  AneCpuPacked *p;

  if (block_bytes == 0 || rows == 0 || cols == 0 || cols % 32 != 0 ||
      g_bytes_get_size (blocks) / block_bytes / rows != cols / 32 ||
      g_bytes_get_size (blocks) != rows * (cols / 32) * block_bytes)
    return NULL;
  p = g_new0 (AneCpuPacked, 1);
  p->kind = kind;
  p->rows = rows;
  p->cols = cols;
  p->row_bytes = cols / 32 * block_bytes;
  p->block = 32;
  p->row_group = 1;
  p->n_blocks = cols / 32;
  p->round_fp16 = round_fp16;
  packed_keep (p, blocks);
  return p;
}

AneCpuPacked *
ane_cpu_packed_new_q4_K_blocks (gsize        rows,
                                gsize        cols,
                                GBytes      *blocks,
                                const float *scale,
                                const float *offset,
                                gboolean     round_fp16)
{
  AneCpuPacked *p;

  if (rows == 0 || cols == 0 || cols % 256 != 0 || scale == NULL || offset == NULL ||
      g_bytes_get_size (blocks) / 144 / rows != cols / 256 || g_bytes_get_size (blocks) != rows * (cols / 256) * 144 ||
      !offsets_exact (offset, rows * (cols / 32), 0, 15))
    return NULL;
  p = g_new0 (AneCpuPacked, 1);
  p->kind = ANE_CPU_PACKED_Q4_K_BLOCKS;
  p->rows = rows;
  p->cols = cols;
  p->row_bytes = cols / 256 * 144;
  p->block = 32;
  p->row_group = 1;
  p->n_blocks = cols / 32;
  p->round_fp16 = round_fp16;
  packed_keep (p, blocks);
  p->scale = g_memdup2 (scale, rows * (cols / 32) * sizeof (float));
  p->offset = g_memdup2 (offset, rows * (cols / 32) * sizeof (float));
  return p;
}

void
ane_cpu_packed_free (AneCpuPacked *p)
{
  if (p == NULL)
    return;
  if (p->keep)
    g_bytes_unref (p->keep);
  else
    g_free (p->q);
  g_free (p->scale);
  g_free (p->offset);
  g_free (p->lut);
  g_free (p->nz);
  g_free (p->nz_start);
  g_free (p);
}

/* Regrouped for 8-bit activations (ane-cpu-vec-r16.c). */
static gboolean
is_r16 (const AneCpuPacked *p)
{
  return p->kind == ANE_CPU_PACKED_Q8_0_R16 || p->kind == ANE_CPU_PACKED_Q4_0_R16 ||
         p->kind == ANE_CPU_PACKED_Q4_K_R16;
}

gsize
ane_cpu_packed_bytes (const AneCpuPacked *p)
{
  gsize scales = p->scale ? (p->rows / p->row_group) * p->n_blocks * sizeof (float) : 0;

  if (p->lut)
    scales = (p->rows / p->row_group) * p->lut_stride * sizeof (float);
  /* the kept values (and their slack) and the rows' starts */
  if (p->kind == ANE_CPU_PACKED_SPARSE)
    scales = (p->nz_start[p->rows] + 16) * p->nz_width + (p->rows + 1) * sizeof (gsize);
  /* regrouped weights are a copy of our own (one per process) */
  if (is_r16 (p))
    return (p->rows + 15) / 16 * p->row_bytes;

  /* borrowed data is the weights' file, not a copy */
  return (p->keep ? 0 : p->rows * p->row_bytes) + scales + (p->offset ? scales : 0);
}

/* --- the portable kernels ------------------------------------------------------ */

static gint32
weight_q (const AneCpuPacked *p,
          const guint8       *row,
          gsize               c)
{
  if (p->kind == ANE_CPU_PACKED_INT8)
    return (gint8) row[c];
  {
    guint8 byte = row[c / 32 * 16 + c % 16];
    gint32 nib = (c % 32) < 16 ? (byte & 15) : (byte >> 4);

    /* INT4 sign-extends the nibble; UINT4 (GGUF Q4_K's q) is 0..15 as it is */
    return p->kind == ANE_CPU_PACKED_UINT4 ? nib : (nib ^ 8) - 8;
  }
}

static gboolean
is_blocks (const AneCpuPacked *p)
{
  return p->kind == ANE_CPU_PACKED_Q8_0_BLOCKS || p->kind == ANE_CPU_PACKED_Q4_0_BLOCKS ||
         p->kind == ANE_CPU_PACKED_Q4_K_BLOCKS;
}

/* A row of GGUF Q4_K blocks: w = s · (q − o), the portable kernel's float
 * operations, q in ggml's order (ane-lower-q4k.c). */
static void
dequantize_q4_K_row (const AneCpuPacked *p,
                     gsize               r,
                     const guint8       *row,
                     float              *dst)
{
  const float *scale = p->scale + r * p->n_blocks, *offset = p->offset + r * p->n_blocks;

  for (gsize c = 0; c < p->cols; c++)
    {
      const guint8 *qs = row + c / 256 * 144 + 16 + (c % 256) / 64 * 32;
      gsize l = c % 64;
      float v = (float) (l < 32 ? qs[l] & 15 : qs[l - 32] >> 4);

      v -= offset[c / 32];
      dst[c] = scale[c / 32] * v;
    }
}

/* A row of GGUF Q8_0 / Q4_0 blocks: the float operations of the other
 * kinds, w = s · (float) q, with s the block's d. */
static void
dequantize_blocks_row (const AneCpuPacked *p,
                       const guint8       *row,
                       float              *dst)
{
  gsize block_bytes = p->row_bytes / p->n_blocks;

  for (gsize b = 0; b < p->n_blocks; b++)
    {
      const guint8 *blk = row + b * block_bytes;
      float d = ane_half_to_float ((guint16) (blk[0] | blk[1] << 8));

      for (gsize j = 0; j < 32; j++)
        {
          gint32 q = p->kind == ANE_CPU_PACKED_Q8_0_BLOCKS ? (gint8) blk[2 + j]
                     : (gint32) (j < 16 ? blk[2 + j] & 15 : blk[2 + j - 16] >> 4) - 8;

          dst[b * 32 + j] = d * (float) q;
        }
    }
}

/* An fp16 program's weights: the row rounded to fp16, as the dequantizing
 * op's output is. */
static void
round_row (const AneCpuPacked *p,
           float              *dst)
{
  guint16 h[256];

  if (!p->round_fp16)
    return;
  for (gsize c = 0; c < p->cols; c += 256)
    {
      gsize n = MIN (256, p->cols - c);

      ane_f32_to_f16_portable (dst + c, h, n);
      ane_f16_to_f32_portable (h, dst + c, n);
    }
}

void
ane_cpu_packed_dequantize_row (const AneCpuPacked *p,
                               gsize               r,
                               float              *dst)
{
  const guint8 *row;

  if (is_r16 (p))
    {
      ane_cpu_packed_r16_dequantize_row (p, r, dst);
      round_row (p, dst);
      return;
    }
  row = p->q + r * p->row_bytes;
  if (p->kind == ANE_CPU_PACKED_FP16)
    {
      ane_f16_to_f32_portable ((const guint16 *) row, dst, p->cols);
      return;
    }
  if (p->kind == ANE_CPU_PACKED_LUT)
    {
      /* the table's entries are the weights, rounded already */
      const float *t = p->lut + (r / p->row_group) * p->lut_stride;
      guint8 idx[256];

      for (gsize c = 0; c < p->cols; c += 256)
        {
          gsize n = MIN (256, p->cols - c);

          ane_cpu_packed_lut_indices (p, r, c, n, idx);
          for (gsize j = 0; j < n; j++)
            dst[c + j] = t[idx[j]];
        }
      return;
    }
  if (p->kind == ANE_CPU_PACKED_SPARSE)
    {
      /* the values are the weights, rounded already */
      ane_cpu_packed_sparse_dequantize_row (p, r, dst);
      return;
    }
  if (p->kind == ANE_CPU_PACKED_Q4_K_BLOCKS)
    dequantize_q4_K_row (p, r, row, dst);
  else if (is_blocks (p))
    dequantize_blocks_row (p, row, dst);
  else
  {
    const float *scale = p->scale + (r / p->row_group) * p->n_blocks;
    const float *offset = p->offset ? p->offset + (r / p->row_group) * p->n_blocks : NULL;

    /* block by block: a division per weight to find its block made this
     * loop (and the portable products) 50x slower than the SIMD ones */
    for (gsize b = 0, c = 0; b < p->n_blocks; b++)
      {
        float s = scale[b], o = offset ? offset[b] : 0.0f;

        for (gsize end = c + p->block; c < end; c++)
          {
            /* the same float operations as the SIMD kernels: v = q (− o), w = s · v */
            float v = (float) weight_q (p, row, c);

            if (offset)
              v -= o;
            dst[c] = s * v;
          }
      }
  }
  round_row (p, dst);
}

void
ane_cpu_packed_rows_portable (const AneCpuPacked *p,
                              gsize               r0,
                              gsize               r1,
                              const float        *x,
                              gsize               m,
                              float              *out)
{
  g_autofree float *w = g_new (float, p->cols);

  for (gsize r = r0; r < r1; r++)
    {
      ane_cpu_packed_dequantize_row (p, r, w);
      for (gsize i = 0; i < m; i++)
        {
          const float *xi = x + i * p->cols;
          /* four partial sums in a fixed order: a dependency chain per sum */
          float acc[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
          gsize c = 0;

          for (; c + 4 <= p->cols; c += 4)
            {
              acc[0] += w[c] * xi[c];
              acc[1] += w[c + 1] * xi[c + 1];
              acc[2] += w[c + 2] * xi[c + 2];
              acc[3] += w[c + 3] * xi[c + 3];
            }
          for (; c < p->cols; c++)
            acc[0] += w[c] * xi[c];
          out[i * p->rows + r] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        }
    }
}

const float *
ane_cpu_half_table (void)
{
  static gsize made = 0;
  static float *table;

  if (g_once_init_enter (&made))
    {
      float *t = g_new (float, 65536);

      for (guint h = 0; h < 65536; h++)
        t[h] = ane_half_to_float ((guint16) h);
      table = t;
      g_once_init_leave (&made, 1);
    }
  return table;
}

/* --- dispatch ------------------------------------------------------------------ */

/* What the CPU (and this build) can run, best first; detected once. */
static AneCpuVecIsa
detect_isa (void)
{
#ifdef ANE_HAVE_VEC_AVX2
  /* F16C (with AVX and the OS saving YMM) as ane-fp16.c detects it:
   * clang 14 has no __builtin_cpu_supports ("f16c") */
  __builtin_cpu_init ();
  if (!(__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma") &&
        g_str_equal (ane_fp16_bulk_impl (), "f16c")))
    return ANE_CPU_VEC_ISA_PORTABLE;
#ifdef ANE_HAVE_VEC_AVX512
  /* libgcc's and compiler-rt's checks include the OS saving the ZMM state
   * (XCR0 bits 5-7), not only CPUID */
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw") &&
      __builtin_cpu_supports ("avx512vl") && __builtin_cpu_supports ("avx512dq"))
    return ANE_CPU_VEC_ISA_AVX512;
#endif
  return ANE_CPU_VEC_ISA_AVX2;
#else
  return ANE_CPU_VEC_ISA_PORTABLE;
#endif
}

static const char *const isa_names[] = { "portable", "avx2", "avx512" };

static gsize isa_once;
static AneCpuVecIsa isa_available;   /* the best the CPU runs */
static AneCpuVecIsa isa_default;     /* that, or less: ANE_CPU_VEC_ISA / ANE_CPU_NO_SIMD */
static gint isa_forced = -1;         /* atomic; ane_cpu_vec_set_isa, -1: none */

static void
isa_init (void)
{
  if (g_once_init_enter (&isa_once))
    {
      const char *env = g_getenv ("ANE_CPU_VEC_ISA");

      isa_available = detect_isa ();
      isa_default = isa_available;
      if (g_getenv ("ANE_CPU_NO_SIMD") != NULL)
        isa_default = ANE_CPU_VEC_ISA_PORTABLE;
      if (env != NULL && *env != '\0')
        {
          gint want = -1;

          for (guint i = 0; i < G_N_ELEMENTS (isa_names); i++)
            if (g_ascii_strcasecmp (env, isa_names[i]) == 0)
              want = (gint) i;
          if (want < 0)
            g_warning ("ANE_CPU_VEC_ISA=%s is not portable, avx2 or avx512; ignored", env);
          else if ((AneCpuVecIsa) want > isa_available)
            g_warning ("ANE_CPU_VEC_ISA=%s: this CPU (or build) runs at best %s; using that", env,
                       isa_names[isa_available]);
          else
            isa_default = (AneCpuVecIsa) want;
        }
      g_once_init_leave (&isa_once, 1);
    }
}

static AneCpuVecIsa
current_isa (void)
{
  gint forced;

  isa_init ();
  forced = g_atomic_int_get (&isa_forced);
  return forced >= 0 ? (AneCpuVecIsa) forced : isa_default;
}

const char *
ane_cpu_vec_get_isa (void)
{
  return isa_names[current_isa ()];
}

gboolean
ane_cpu_vec_isa_available (AneCpuVecIsa isa)
{
  isa_init ();
  return isa <= isa_available;
}

gboolean
ane_cpu_vec_set_isa (AneCpuVecIsa isa)
{
  isa_init ();
  if ((gint) isa < 0)
    {
      g_atomic_int_set (&isa_forced, -1);
      return TRUE;
    }
  if (isa > isa_available)
    return FALSE;
  g_atomic_int_set (&isa_forced, (gint) isa);
  return TRUE;
}

void
ane_cpu_vec_set_simd (gboolean enabled)
{
  ane_cpu_vec_set_isa (enabled ? ANE_CPU_VEC_ISA_DEFAULT : ANE_CPU_VEC_ISA_PORTABLE);
}

/* One ISA's kernels for a kind of weight: its row products, its row
 * dequantizer (the prefill tiles and copies) and which ISA they are. */
typedef struct {
  AneCpuPackedRowsFunc rows;
  void               (*dequantize_row) (const AneCpuPacked *p, gsize r, float *dst);
  AneCpuVecIsa         isa;
} KernelSet;

static const KernelSet portable_kernels = {
  ane_cpu_packed_rows_portable, ane_cpu_packed_dequantize_row, ANE_CPU_VEC_ISA_PORTABLE
};
#ifdef ANE_HAVE_VEC_AVX2
static const KernelSet avx2_kernels = {
  ane_cpu_packed_rows_avx2, ane_cpu_packed_dequantize_row_avx2, ANE_CPU_VEC_ISA_AVX2
};
static const KernelSet avx2_blocks_kernels = {
  ane_cpu_packed_rows_blocks_avx2, ane_cpu_packed_dequantize_row_blocks_avx2, ANE_CPU_VEC_ISA_AVX2
};
static const KernelSet avx2_lut_kernels = {
  ane_cpu_packed_rows_lut_avx2, ane_cpu_packed_dequantize_row_lut_avx2, ANE_CPU_VEC_ISA_AVX2
};
static const KernelSet avx2_sparse_kernels = {
  ane_cpu_packed_rows_sparse_avx2, ane_cpu_packed_dequantize_row_sparse_avx2, ANE_CPU_VEC_ISA_AVX2
};
#endif
#ifdef ANE_HAVE_VEC_AVX512
static const KernelSet avx512_kernels = {
  ane_cpu_packed_rows_avx512, ane_cpu_packed_dequantize_row_avx512, ANE_CPU_VEC_ISA_AVX512
};
static const KernelSet avx512_blocks_kernels = {
  ane_cpu_packed_rows_blocks_avx512, ane_cpu_packed_dequantize_row_blocks_avx512, ANE_CPU_VEC_ISA_AVX512
};
static const KernelSet avx512_lut_kernels = {
  ane_cpu_packed_rows_lut_avx512, ane_cpu_packed_dequantize_row_lut_avx512, ANE_CPU_VEC_ISA_AVX512
};
static const KernelSet avx512_sparse_kernels = {
  ane_cpu_packed_rows_sparse_avx512, ane_cpu_packed_dequantize_row_sparse_avx512, ANE_CPU_VEC_ISA_AVX512
};
#endif

/* The kernels for p under the current ISA: the best ones whose layout
 * conditions p meets (an AVX-512 run falls back to AVX2 for, say, int4
 * blocks of 8 columns, and both to the portable C for blocks of 13). */
static const KernelSet *
kernels_for (const AneCpuPacked *p)
{
  AneCpuVecIsa isa = current_isa ();

  /* regrouped weights: their products are ane_cpu_packed_matmul's own
   * (8-bit activations); a gather reads their rows portably */
  if (is_r16 (p))
    return &portable_kernels;
  /* palettized weights: every shape runs on each set's LUT kernels */
#ifdef ANE_HAVE_VEC_AVX512
  if (isa >= ANE_CPU_VEC_ISA_AVX512 && p->kind == ANE_CPU_PACKED_LUT)
    return &avx512_lut_kernels;
#endif
#ifdef ANE_HAVE_VEC_AVX2
  if (isa >= ANE_CPU_VEC_ISA_AVX2 && p->kind == ANE_CPU_PACKED_LUT)
    return &avx2_lut_kernels;
#endif
  if (p->kind == ANE_CPU_PACKED_LUT)
    return &portable_kernels;
  /* pruned weights: likewise */
#ifdef ANE_HAVE_VEC_AVX512
  if (isa >= ANE_CPU_VEC_ISA_AVX512 && p->kind == ANE_CPU_PACKED_SPARSE)
    return &avx512_sparse_kernels;
#endif
#ifdef ANE_HAVE_VEC_AVX2
  if (isa >= ANE_CPU_VEC_ISA_AVX2 && p->kind == ANE_CPU_PACKED_SPARSE)
    return &avx2_sparse_kernels;
#endif
  if (p->kind == ANE_CPU_PACKED_SPARSE)
    return &portable_kernels;
#ifdef ANE_HAVE_VEC_AVX512
  if (isa >= ANE_CPU_VEC_ISA_AVX512 && is_blocks (p))
    return &avx512_blocks_kernels;
  if (isa >= ANE_CPU_VEC_ISA_AVX512 && !is_blocks (p) && ane_cpu_packed_avx512_fits (p))
    return &avx512_kernels;
#endif
#ifdef ANE_HAVE_VEC_AVX2
  if (is_blocks (p))
    return isa >= ANE_CPU_VEC_ISA_AVX2 ? &avx2_blocks_kernels : &portable_kernels;
  /* the AVX2 kernels take a scale per 8 columns */
  if (isa >= ANE_CPU_VEC_ISA_AVX2 && (p->kind == ANE_CPU_PACKED_FP16 || p->block % 8 == 0))
    return &avx2_kernels;
#endif
  (void) isa;
  return &portable_kernels;
}

const char *
ane_cpu_packed_kernel_isa (const AneCpuPacked *p)
{
  return isa_names[kernels_for (p)->isa];
}

/* The kernels of 8-bit activations under the current ISA, one set per
 * ISA: the AVX-512 ones need VNNI as well (vpdpbusd). */
typedef struct {
  AneCpuQ8xRowsFunc     rows;       /* on blocks as the file holds them */
  AneCpuQ8xGroupsFunc   groups;     /* on regrouped weights */
  AneCpuQ8xQuantizeFunc quantize;   /* the activations (AVX2 has the portable one) */
  AneCpuVecIsa          isa;
} Q8xKernels;

static const Q8xKernels q8x_portable = {
  ane_cpu_q8x_rows_portable, ane_cpu_q8x_groups_portable, ane_cpu_q8x_quantize_portable, ANE_CPU_VEC_ISA_PORTABLE
};
#ifdef ANE_HAVE_VEC_AVX2
static const Q8xKernels q8x_avx2 = {
  ane_cpu_q8x_rows_avx2, ane_cpu_q8x_groups_avx2, ane_cpu_q8x_quantize_portable, ANE_CPU_VEC_ISA_AVX2
};
#endif
#ifdef ANE_HAVE_VEC_AVX512_VNNI
static const Q8xKernels q8x_avx512 = {
  ane_cpu_q8x_rows_avx512, ane_cpu_q8x_groups_avx512, ane_cpu_q8x_quantize_avx512, ANE_CPU_VEC_ISA_AVX512
};
#endif

static const Q8xKernels *
q8x_kernels (void)
{
  AneCpuVecIsa isa = current_isa ();

#ifdef ANE_HAVE_VEC_AVX512_VNNI
  if (isa >= ANE_CPU_VEC_ISA_AVX512 && __builtin_cpu_supports ("avx512vnni"))
    return &q8x_avx512;
#endif
#ifdef ANE_HAVE_VEC_AVX2
  if (isa >= ANE_CPU_VEC_ISA_AVX2)
    return &q8x_avx2;
#endif
  (void) isa;
  return &q8x_portable;
}

const char *
ane_cpu_q8x_kernel_isa (void)
{
  return isa_names[q8x_kernels ()->isa];
}

typedef struct {
  const AneCpuPacked  *p;
  const KernelSet     *k;
  const float         *x;
  gsize                m;
  const float         *bias;
  float               *out;
  gsize                tile;   /* weight rows per dequantized tile (sgemm_range) */
  /* set: x quantized to 8 bits (ane-cpu-vec-q8x-private.h) and its kernels */
  const AneCpuQ8x     *a;
  AneCpuQ8xRowsFunc    q8x_rows;
  AneCpuQ8xGroupsFunc  q8x_groups;   /* regrouped weights: the range is of groups of 16 rows */
} MatmulJob;

static void
matmul_range (gsize    begin,
              gsize    end,
              gpointer data)
{
  MatmulJob *job = data;

  if (job->q8x_groups != NULL)
    {
      job->q8x_groups (job->p, begin, end, job->a, job->out);
      begin *= 16;
      end = MIN (end * 16, job->p->rows);
    }
  else if (job->a != NULL)
    job->q8x_rows (job->p, begin, end, job->a, job->out);
  else
    job->k->rows (job->p, begin, end, job->x, job->m, job->out);
  if (job->bias)
    for (gsize i = 0; i < job->m; i++)
      for (gsize r = begin; r < end; r++)
        job->out[i * job->p->rows + r] += job->bias[r];
}

/* Many activation rows (a prefill): a tile of weight rows is dequantized
 * once into a buffer and multiplied by ane_cpu_sgemm, whose blocking wins
 * once the dequantization is shared by enough rows. Measured on a
 * [2048, 768] int8 weight, one thread, OpenBLAS, on a loaded 2-core
 * machine: 32 rows 14–24 ms the kernels, 21–30 ms dequantize + sgemm;
 * 128 rows 70 ms the kernels, 36–39 ms these tiles. Our GEMM copies the
 * activations into its aligned buffer on every call, so larger tiles mean
 * fewer copies: on the Intel VM a tile of 128 weight rows took the Q4_K
 * 134M model's 128-token prompt from 435–447 to 438–452 tokens/s at one
 * thread (256: 461–469, but worse at two threads, its fewer tiles sharing
 * out badly); on the AMD one, 384 rows against 128: Q8_0 400–420 against
 * 380–394 tokens/s at one thread and 612–677 against 626–630 at two, F16
 * 410–418 against 347–384 and 665–669 against 615–617. SGEMM_TILE rows,
 * then, but never fewer tiles than threads (a multiple of 24: whole
 * column blocks of the NT kernel). */
#define SGEMM_MIN_ROWS 64
#define SGEMM_TILE     384

static gsize
sgemm_tile_rows (const AneCpuPacked *p)
{
  gsize threads = MAX (ane_cpu_get_n_threads (), 1);
  gsize even = (p->rows + threads - 1) / threads;

  return MAX (24, MIN (SGEMM_TILE, (even + 23) / 24 * 24));
}

static void
sgemm_range (gsize    begin,
             gsize    end,
             gpointer data)
{
  MatmulJob *job = data;
  const AneCpuPacked *p = job->p;
  g_autofree float *w = g_new (float, job->tile * p->cols);

  for (gsize t = begin; t < end; t++)
    {
      gsize r0 = t * job->tile, n = MIN (job->tile, p->rows - r0);

      for (gsize r = 0; r < n; r++)
        job->k->dequantize_row (p, r0 + r, w + r * p->cols);
      ane_cpu_sgemm (FALSE, TRUE, job->m, n, p->cols, 1.0f, job->x, p->cols, w, p->cols,
                     0.0f, job->out + r0, p->rows);
      if (job->bias)
        for (gsize i = 0; i < job->m; i++)
          for (gsize r = r0; r < r0 + n; r++)
            job->out[i * p->rows + r] += job->bias[r];
    }
}

void
ane_cpu_packed_matmul (const AneCpuPacked *p,
                       const float        *x,
                       gsize               m,
                       const float        *bias,
                       float              *out)
{
  MatmulJob job = { p, kernels_for (p), x, m, bias, out, 0, NULL, NULL, NULL };
  /* pieces of at least ~64K multiply-adds: below that a thread costs more than it saves */
  gsize grain = MAX (1, 65536 / MAX (p->cols * m, 1));

  if (m == 0)
    return;
  /* the opt-in 8-bit activations: every product of regrouped weights, a
   * decode's few rows of blocks as the file holds them (a prompt's keep
   * the tiles below, whose float GEMM is as fast) */
  if (p->quantize_activations && (m < SGEMM_MIN_ROWS || is_r16 (p)) && ane_cpu_q8x_fits (p))
    {
      AneCpuQ8x a = { 0 };
      const Q8xKernels *q8x = q8x_kernels ();

      ane_cpu_q8x_quantize (&a, x, m, p->cols, p->kind, q8x->quantize);
      job.a = &a;
      if (is_r16 (p))
        {
          job.q8x_groups = q8x->groups;
          ane_cpu_parallel_for_balanced ((p->rows + 15) / 16, MAX (1, grain / 16), matmul_range, &job);
        }
      else
        {
          job.q8x_rows = q8x->rows;
          ane_cpu_parallel_for_balanced (p->rows, grain, matmul_range, &job);
        }
      ane_cpu_q8x_clear (&a);
      return;
    }
  if (m >= SGEMM_MIN_ROWS)
    {
      job.tile = sgemm_tile_rows (p);
      ane_cpu_parallel_for ((p->rows + job.tile - 1) / job.tile, 1, sgemm_range, &job);
      return;
    }
  /* balanced: a decode step runs about a hundred of these back to back, and
   * on a shared machine a worker often starts late; with one piece a
   * thread the caller then waited for the late one's whole half */
  ane_cpu_parallel_for_balanced (p->rows, grain, matmul_range, &job);
}
