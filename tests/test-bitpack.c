/* tests/test-bitpack.c: sub-byte packing (issue 16, compress/ane-bitpack.c)
 *
 * - every width 1..8 against a bit-at-a-time reference of MILBlob's rule
 *   (element i at stream bits i·n.., LSB first), odd counts, straddling
 *   fields (3 and 6 bits), zero padding;
 * - worked bytes: uint3 [1, 2, 3, 4, 5, 6, 7, 0] and int4 [−1, 7, −8];
 * - the padding MILBlob records.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib.h>

#include "compress/ane-bitpack-private.h"

static void
test_against_reference (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);

  for (guint bits = 1; bits <= 8; bits++)
    for (gsize n = 0; n < 40; n++)
      {
        gint32 v[40];
        guint8 got[40], want[40] = { 0 };
        gsize size = ane_bitpack_size (n, bits);

        for (gsize i = 0; i < n; i++)
          v[i] = g_rand_int_range (rand, -200, 200);
        for (gsize i = 0; i < n; i++)
          for (guint b = 0; b < bits; b++)
            if (((guint32) v[i] >> b) & 1)
              want[(i * bits + b) / 8] |= (guint8) (1u << ((i * bits + b) % 8));
        memset (got, 0xaa, sizeof got);
        ane_bitpack (v, n, bits, got);
        g_assert_cmpuint (size, ==, (n * bits + 7) / 8);
        g_assert_cmpmem (got, size, want, size);
        g_assert_cmpuint (got[size], ==, 0xaa);   /* nothing past the end */
      }
}

static void
test_worked (void)
{
  guint8 out[3];

  /* 1,2,...,7,0 as 3-bit fields: 0b000111110101100011010001 LSB first */
  ane_bitpack ((const gint32[]) { 1, 2, 3, 4, 5, 6, 7, 0 }, 8, 3, out);
  g_assert_cmpmem (out, 3, ((const guint8[]) { 0xd1, 0x58, 0x1f }), 3);
  ane_bitpack ((const gint32[]) { -1, 7, -8 }, 3, 4, out);
  g_assert_cmpmem (out, 2, ((const guint8[]) { 0x7f, 0x08 }), 2);
}

static void
test_padding (void)
{
  g_assert_cmpuint (ane_bitpack_padding_bits (8, 3), ==, 0);
  g_assert_cmpuint (ane_bitpack_padding_bits (5, 3), ==, 1);
  g_assert_cmpuint (ane_bitpack_padding_bits (3, 4), ==, 4);
  g_assert_cmpuint (ane_bitpack_padding_bits (9, 1), ==, 7);
  g_assert_cmpuint (ane_bitpack_padding_bits (4, 6), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/bitpack/reference", test_against_reference);
  g_test_add_func ("/ane/bitpack/worked", test_worked);
  g_test_add_func ("/ane/bitpack/padding", test_padding);
  return g_test_run ();
}
