/* bench/bench-random-blocks.h: what the dequantization benchmarks share
 * (bench/dequant.c, and bench/dequant-ggml.c that bench/llama-cpp.sh builds
 * against ggml): their command line, their clock, and seeded random GGUF
 * blocks -- the bytes random, every fp16 scale field a finite half of
 * moderate size, Q8_K's float scale a finite float, so both dequantizers
 * see the same finite blocks.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "ane-types.h"

/* [N_ELEMENTS] [REPEATS] into *n (rounded down to whole 256-element
 * super-blocks) and *repeats, which hold the defaults; FALSE (usage
 * printed) when no element is left. */
static gboolean
bench_dequant_args (int     argc,
                    char  **argv,
                    gsize  *n,
                    guint  *repeats)
{
  if (argc > 1)
    *n = (gsize) g_ascii_strtoull (argv[1], NULL, 10);
  if (argc > 2)
    *repeats = MAX (1, (guint) atoi (argv[2]));
  *n -= *n % 256;
  if (*n == 0)
    {
      fprintf (stderr, "usage: %s [N_ELEMENTS] [REPEATS]\n", argv[0]);
      return FALSE;
    }
  return TRUE;
}

/* Seconds, to the nanosecond: one in-cache run takes tens of microseconds. */
static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

static guint32 seed = 12345;

static guint32
next (void)
{
  seed = seed * 1664525u + 1013904223u;
  return seed;
}

static guint8 *
random_blocks (AneDType dtype,
               gsize    n_blocks)
{
  guint bb = ane_dtype_block_bytes (dtype);
  guint8 *b = g_malloc (n_blocks * bb);
  int f[2] = { -1, -1 };

  switch (dtype)
    {
    case ANE_DTYPE_Q8_0: case ANE_DTYPE_Q4_0: case ANE_DTYPE_Q5_0: f[0] = 0; break;
    case ANE_DTYPE_Q4_1: case ANE_DTYPE_Q5_1: case ANE_DTYPE_Q4_K: case ANE_DTYPE_Q5_K: f[0] = 0; f[1] = 2; break;
    case ANE_DTYPE_Q2_K: f[0] = 80; f[1] = 82; break;
    case ANE_DTYPE_Q3_K: f[0] = 108; break;
    case ANE_DTYPE_Q6_K: f[0] = 208; break;
    default: break;
    }
  for (gsize i = 0; i < n_blocks * bb; i++)
    b[i] = (guint8) (next () >> 24);
  for (gsize k = 0; k < n_blocks; k++)
    {
      for (int j = 0; j < 2; j++)
        if (f[j] >= 0)
          {
            guint16 h = GUINT16_TO_LE (ane_float_to_half (((float) (next () >> 8) / 16777216.0f - 0.5f) * 0.02f));

            memcpy (b + k * bb + f[j], &h, 2);
          }
      if (dtype == ANE_DTYPE_Q8_K)
        {
          float d = ((float) (next () >> 8) / 16777216.0f - 0.5f) * 0.02f;

          memcpy (b + k * bb, &d, 4);
        }
    }
  return b;
}
