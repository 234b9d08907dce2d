/* compress/ane-bitpack.c: sub-byte values packed as MILBlob packs them
 * (see the header).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "compress/ane-bitpack-private.h"

gsize
ane_bitpack_size (gsize n,
                  guint bits)
{
  return (n * bits + 7) / 8;
}

guint
ane_bitpack_padding_bits (gsize n,
                          guint bits)
{
  guint rem = (guint) ((n * bits) % 8);

  return rem == 0 ? 0 : 8 - rem;
}

void
ane_bitpack (const gint32 *values,
             gsize         n,
             guint         bits,
             guint8       *out)
{
  guint32 mask = (1u << bits) - 1u;

  g_return_if_fail (bits >= 1 && bits <= 8);
  memset (out, 0, ane_bitpack_size (n, bits));
  for (gsize i = 0; i < n; i++)
    {
      gsize bit = i * bits;
      /* a field of at most 8 bits spans at most two bytes */
      guint32 v = ((guint32) values[i] & mask) << (bit % 8);

      out[bit / 8] |= (guint8) v;
      if ((bit % 8) + bits > 8)
        out[bit / 8 + 1] |= (guint8) (v >> 8);
    }
}
