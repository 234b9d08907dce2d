/* compress/ane-bitpack-private.h: sub-byte values packed as MILBlob packs them
 *
 * Palettized indices (uint1..uint6, uint8), int4/uint4 levels and sparse
 * masks (uint1) are stored as one bit stream: element i occupies stream
 * bits [i·n, i·n + n), least significant bit first, stream bit b being bit
 * b mod 8 of byte ⌊b/8⌋ (apple/coremltools mlmodel/src/MILBlob/
 * SubByteTypes.cpp; coremltools optimize/_utils.py pack_elements_into_bits,
 * np.packbits(bitorder="little")). Elements may straddle bytes (uint3,
 * uint6); unused bits of the last byte are 0; an int4 is its two's
 * complement nibble. The iOS16 LUT indices and sparse mask use the same
 * stream in a uint8 vector.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bytes of n elements of bits each: ⌈n·bits / 8⌉. */
gsize ane_bitpack_size         (gsize         n,
                                guint         bits);
/* The padding bits MILBlob records for them: 8 − (n·bits mod 8), or 0. */
guint ane_bitpack_padding_bits (gsize         n,
                                guint         bits);
/* Packs the low bits of each of n values (1 ≤ bits ≤ 8) into out
 * (ane_bitpack_size bytes, fully written). */
void  ane_bitpack              (const gint32 *values,
                                gsize         n,
                                guint         bits,
                                guint8       *out);

G_END_DECLS
