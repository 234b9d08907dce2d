/* ane-quant.c: dequantization of GGUF blocks for the reference evaluator
 *
 * Block layouts are ggml's (ggml/src/ggml-common.h), formulas those of
 * ggml's dequantize_row_* (ggml/src/ggml-quants.c). Values are produced as
 * doubles; each is exactly the float ggml computes where ggml does a single
 * float operation per element.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-reference-private.h"

static double
read_half (const guint8 *p)
{
  guint16 h;

  memcpy (&h, p, 2);
  return ane_half_to_float (GUINT16_FROM_LE (h));
}

/* block_q8_0 { ggml_half d; int8_t qs[32]; }: y = d * q */
static void
dequant_q8_0 (const guint8 *b, double *y)
{
  double d = read_half (b);

  for (int j = 0; j < 32; j++)
    y[j] = (double) (float) (d * (gint8) b[2 + j]);
}

/* block_q4_0 { ggml_half d; uint8_t qs[16]; }: low nibbles are elements
 * 0..15, high nibbles 16..31, each stored with an offset of 8. */
static void
dequant_q4_0 (const guint8 *b, double *y)
{
  double d = read_half (b);
  const guint8 *qs = b + 2;

  for (int j = 0; j < 16; j++)
    {
      y[j] = (double) (float) (d * ((qs[j] & 0x0f) - 8));
      y[j + 16] = (double) (float) (d * ((qs[j] >> 4) - 8));
    }
}

typedef void (*BlockFunc) (const guint8 *block, double *out);

static BlockFunc
block_func (AneDType dtype)
{
  switch (dtype)
    {
    case ANE_DTYPE_Q8_0: return dequant_q8_0;
    case ANE_DTYPE_Q4_0: return dequant_q4_0;
    default:             return NULL;
    }
}

gboolean
ane_dequant_blocks (AneDType      dtype,
                    const guint8 *blocks,
                    gsize         n_bytes,
                    gsize         n_elements,
                    double       *out,
                    GError      **error)
{
  BlockFunc func = block_func (dtype);
  guint bs = ane_dtype_block_size (dtype), bb = ane_dtype_block_bytes (dtype);
  gsize n_blocks;

  if (func == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "dequantization of %s blocks is not available in the reference evaluator",
                   ane_dtype_to_string (dtype));
      return FALSE;
    }
  if (n_elements % bs != 0 || n_bytes / bb < n_elements / bs)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "%" G_GSIZE_FORMAT " %s elements need %" G_GSIZE_FORMAT " bytes of blocks, have %" G_GSIZE_FORMAT,
                   n_elements, ane_dtype_to_string (dtype), (n_elements / bs) * bb, n_bytes);
      return FALSE;
    }
  n_blocks = n_elements / bs;
  for (gsize i = 0; i < n_blocks; i++)
    func (blocks + i * bb, out + i * bs);
  return TRUE;
}
