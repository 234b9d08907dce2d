/* runtime/cpu/ane-cpu-vec-lut-simd.h: unpacking a palettized weight's
 * groups of 32 indices with AVX2 (included by ane-cpu-vec-lut-avx2.c and
 * ane-cpu-vec-lut-avx512.c, each compiled with its own -m flags)
 *
 * A group's planes (ane-cpu-vec-lut.c) become 32 bytes, byte j the index
 * of weight j, with a shift and a mask a plane and no cross-lane shuffle.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <immintrin.h>
#include <string.h>

#include <glib.h>

/* 4-bit plane (16 bytes): low nibbles are weights 0..15, high ones 16..31. */
static inline __attribute__ ((always_inline)) __m256i
lut_plane4 (const guint8 *plane)
{
  __m128i b = _mm_loadu_si128 ((const __m128i *) plane), m = _mm_set1_epi8 (15);

  return _mm256_set_m128i (_mm_and_si128 (_mm_srli_epi16 (b, 4), m), _mm_and_si128 (b, m));
}

/* 2-bit plane (8 bytes): bits 2k, 2k + 1 of byte j are weight j + 8k. The
 * 8 bytes in each 64-bit lane k, shifted right by 2k: byte j's bits 2k, 2k
 * + 1 land in its bits 0, 1 (the bits shifted in from byte j + 1 are
 * masked off). */
static inline __attribute__ ((always_inline)) __m256i
lut_plane2 (const guint8 *plane)
{
  guint64 u;

  memcpy (&u, plane, sizeof u);
  return _mm256_and_si256 (_mm256_srlv_epi64 (_mm256_set1_epi64x ((gint64) u), _mm256_setr_epi64x (0, 2, 4, 6)),
                           _mm256_set1_epi8 (3));
}

/* 1-bit plane (4 bytes): bit j is weight j. Byte j takes byte j / 8 of the
 * word (vpshufb within each 128-bit lane, the word in every dword), keeps
 * bit j % 8, and min (that, 1) makes it 0 or 1. */
static inline __attribute__ ((always_inline)) __m256i
lut_plane1 (const guint8 *plane)
{
  guint32 u;
  __m256i v, bit = _mm256_set1_epi64x ((gint64) 0x8040201008040201ULL);

  memcpy (&u, plane, sizeof u);
  v = _mm256_shuffle_epi8 (_mm256_set1_epi32 ((gint) u),
                           _mm256_setr_epi8 (0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                             2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  return _mm256_min_epu8 (_mm256_and_si256 (v, bit), _mm256_set1_epi8 (1));
}

/* The 32 indices of the group at g, bits a compile-time constant where
 * inlined. */
static inline __attribute__ ((always_inline)) __m256i
lut_group (const guint8 *g,
           guint         bits)
{
  switch (bits)
    {
    case 1: return lut_plane1 (g);
    case 2: return lut_plane2 (g);
    /* the high plane's values (≤ 3) shifted within their bytes: no carry */
    case 3: return _mm256_or_si256 (lut_plane2 (g), _mm256_slli_epi16 (lut_plane1 (g + 8), 2));
    case 4: return lut_plane4 (g);
    case 6: return _mm256_or_si256 (lut_plane4 (g), _mm256_slli_epi16 (lut_plane2 (g + 16), 4));
    default: return _mm256_loadu_si256 ((const __m256i *) g);
    }
}
