/* mil/lower/ane-lower-q4k.c: GGUF Q4_K blocks as constexpr_blockwise_shift_scale
 *
 * block_q4_K { ggml_half d; ggml_half dmin; uint8_t scales[12]; uint8_t qs[128]; }
 * (ggml/src/ggml-common.h) holds 256 weights in 8 sub-blocks of 32, each
 * with a 6-bit scale sc_j and min m_j (ggml-quants.c get_scale_min_k4,
 * :880). ggml's dequantize_row_q4_K (ggml-quants.c:1529) makes
 *
 *   y = d1 · q − m1,   d1 = f32 (d · sc_j),  m1 = f32 (dmin · m_j),
 *
 * q in 0..15: for each 64 weights, 32 bytes of qs, the low nibbles first
 * (weights 0..31 with sub-block 2i), then the high ones (32..63, 2i + 1).
 *
 * Core ML's iOS18 constexpr_blockwise_shift_scale computes scale · (data −
 * offset) per block (coremltools iOS18/compression.py), with data uint4 and
 * a float offset allowed whatever the data type ("If dtype is not fp16 or
 * fp32, it must be the same as SrcT"). So a Q4_K weight becomes data =
 * q (uint4), scale = d1 and offset ≈ m1 / d1 per 32 columns: scale ·
 * (q − offset) = d1·q − d1·(m1/d1), ggml's value up to the rounding of the
 * offset (exact_offset) and of the product (a few ulp of the larger term;
 * measured in tests/test-cpu-vec.c and documented in docs/cpu-backend.md). The weight stays at about 4.5 bits (data 4,
 * scale + offset 64 bits per 32) instead of a dense float32 copy.
 *
 * Not every block is representable: d1 == 0 with m1 != 0 (a constant
 * −m1 sub-block) has no offset that works; ane_lower_split_q4_K then
 * declines and the caller keeps the dense path.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ane-reference-private.h"
#include "mil/lower/ane-lower-private.h"

#define Q4_K_WEIGHTS 256
#define Q4_K_BYTES   144

/* x as the scale const will hold it: float, or half when scale_dtype is fp16. */
static float
as_scale (float    x,
          AneDType scale_dtype)
{
  return scale_dtype == ANE_DTYPE_FLOAT16 ? ane_half_to_float (ane_float_to_half (x)) : x;
}

/* m1 / d1 rounded so that q − offset is exact in float for every q in
 * 0..15: a multiple of 2^(e − 24) where 2^e > |offset| + 16 bounds every
 * |q − offset|. Then scale · (q − offset) is one rounding of the exact
 * product whether computed in float (the CPU backend's compressed
 * kernels) or in double (its dequantizing kernel, coremltools' numpy):
 * the same weights everywhere. The cost is at most half a unit in the 24th
 * bit of |offset| + 16, a few ulp of the weights' terms. */
static double
exact_offset (double offset)
{
  int e;

  frexp (fabs (offset) + 16.0, &e);
  return ldexp (nearbyint (ldexp (offset, 24 - e)), e - 24);
}

gboolean
ane_lower_split_q4_K (GBytes   *blocks,
                      gint64    n_blocks,
                      AneDType  scale_dtype,
                      GBytes  **data,
                      double  **scales,
                      double  **offsets)
{
  const guint8 *b = g_bytes_get_data (blocks, NULL);
  gsize data_size = (gsize) n_blocks * Q4_K_WEIGHTS / 2;
  g_autofree guint8 *d = NULL;
  g_autofree double *s = NULL, *o = NULL;

  if (n_blocks <= 0 || g_bytes_get_size (blocks) != (gsize) n_blocks * Q4_K_BYTES)
    return FALSE;
  /* only the parts asked for are made (none: a check) */
  d = data ? g_malloc (data_size) : NULL;
  s = scales ? g_new (double, n_blocks * 8) : NULL;
  o = offsets ? g_new (double, n_blocks * 8) : NULL;
  for (gint64 i = 0; i < n_blocks; i++)
    {
      const guint8 *blk = b + i * Q4_K_BYTES, *qs = blk + 16;
      guint16 h_d, h_min;
      float dd, dmin;
      guint8 *out = d ? d + i * Q4_K_WEIGHTS / 2 : NULL;

      memcpy (&h_d, blk, 2);
      memcpy (&h_min, blk + 2, 2);
      dd = ane_half_to_float (GUINT16_FROM_LE (h_d));
      dmin = ane_half_to_float (GUINT16_FROM_LE (h_min));
      for (int j = 0; j < 8; j++)
        {
          int sc, mn;
          /* the float products ggml's dequantize_row_q4_K makes */
          float d1, m1, scale;

          ane_q4_K_scale_min (j, blk + 4, &sc, &mn);
          d1 = dd * (float) sc;
          m1 = dmin * (float) mn;
          scale = as_scale (d1, scale_dtype);
          if (!isfinite (scale) || !isfinite (m1) || (scale == 0.0f && m1 != 0.0f))
            return FALSE;   /* no offset gives −m1 with a zero scale: the dense path */
          /* an fp16 scale below fp16's smallest normal (2^-14) keeps only a
           * few bits of d·sc: every weight of its sub-block would be off by
           * more than fp16's 2^-11; the dense path rounds each weight once */
          if (scale_dtype == ANE_DTYPE_FLOAT16 && scale != 0.0f && fabsf (scale) < 0x1p-14f)
            return FALSE;
          if (s)
            s[i * 8 + j] = scale;
          if (o)
            o[i * 8 + j] = scale == 0.0f ? 0.0 : exact_offset ((double) m1 / (double) scale);
        }
      if (out == NULL)
        continue;
      /* element e of the block: 64-weight group e / 64, low nibble of
       * qs[e % 32] for the first 32 of the group, high nibble after; MIL's
       * uint4 puts element 2k in the low nibble of byte k (ane_mil_const_packed) */
      for (int e = 0; e < Q4_K_WEIGHTS; e += 2)
        {
          const guint8 *q = qs + e / 64 * 32;
          int l0 = e % 64, l1 = (e + 1) % 64;
          int q0 = l0 < 32 ? q[l0] & 15 : q[l0 - 32] >> 4;
          int q1 = l1 < 32 ? q[l1] & 15 : q[l1 - 32] >> 4;

          out[e / 2] = (guint8) (q0 | (q1 << 4));
        }
    }
  if (data)
    *data = g_bytes_new_take (g_steal_pointer (&d), data_size);
  if (scales)
    *scales = g_steal_pointer (&s);
  if (offsets)
    *offsets = g_steal_pointer (&o);
  return TRUE;
}
