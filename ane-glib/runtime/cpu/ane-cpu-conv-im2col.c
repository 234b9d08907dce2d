/* runtime/cpu/ane-cpu-conv-im2col.c: the column buffer of a conv that is
 * neither depthwise nor a plain 1×1 (ane-cpu-k-linalg.c k_conv), filled on
 * the pool, in a buffer kept from run to run
 *
 * The buffer was a fresh g_try_malloc per conv per run: PaddleOCR's
 * detector's 3×3 convs at 160×160 and 320×320 need several MiB each, which
 * glibc maps and unmaps every time, so each run paid the page faults and
 * the kernel's zeroing of every page again (a tenth of the run in `perf`).
 * Each calling thread now keeps its largest buffer (GPrivate, freed when
 * the thread ends); the kernels of one plan run one after the other on
 * the thread that runs the plan, so one buffer a thread is enough.
 *
 * Each row of the buffer is one (channel, tap) over the output positions;
 * along an output row the columns whose input lies inside the image are
 * found once (so the padding is two memsets and no test per element), and
 * at stride 1 they are one memcpy. Channels are the pool's pieces: a copy,
 * so any split gives the same bits.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "runtime/cpu/ane-cpu-kernels-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

typedef struct {
  gpointer data;
  gsize    size;   /* in bytes */
} Scratch;

static void
scratch_free (gpointer p)
{
  Scratch *s = p;

  g_free (s->data);
  g_free (s);
}

static GPrivate scratch_key = G_PRIVATE_INIT (scratch_free);

float *
ane_cpu_conv_scratch (gsize n_floats)
{
  Scratch *s = g_private_get (&scratch_key);
  gsize size = MAX (n_floats, 1) * sizeof (float);

  if (n_floats > G_MAXSIZE / sizeof (float))
    return NULL;
  if (s == NULL)
    {
      s = g_new0 (Scratch, 1);
      g_private_set (&scratch_key, s);
    }
  if (s->size < size)
    {
      g_free (s->data);
      s->data = g_try_malloc (size);
      s->size = s->data ? size : 0;
    }
  return s->data;
}

typedef struct {
  const AneCpuIm2col *g;
  const float *x;
  float *col;
} Im2colJob;

static void
im2col_channels (gsize    begin,
                 gsize    end,
                 gpointer data)
{
  const Im2colJob *job = data;
  const AneCpuIm2col *g = job->g;
  gint64 taps = g->k[0] * g->k[1] * g->k[2];
  gint64 plane_out = g->out[0] * g->out[1] * g->out[2];
  gint64 ow = g->out[2];

  for (gsize c = begin; c < end; c++)
    {
      float *dst = job->col + (gsize) ((gint64) c * taps * plane_out);

      for (gint64 kz = 0; kz < g->k[0]; kz++)
        for (gint64 ky = 0; ky < g->k[1]; ky++)
          for (gint64 kx = 0; kx < g->k[2]; kx++)
            {
              gint64 off = kx * g->d[2] - g->pb[2];
              /* output columns [lo, hi) read inside the input row */
              gint64 lo = off >= 0 ? 0 : (-off + g->s[2] - 1) / g->s[2];
              gint64 hi = g->in[2] - 1 - off < 0 ? 0 : (g->in[2] - 1 - off) / g->s[2] + 1;

              lo = MIN (lo, ow);
              hi = MAX (lo, MIN (hi, ow));
              for (gint64 oz = 0; oz < g->out[0]; oz++)
                {
                  gint64 iz = oz * g->s[0] - g->pb[0] + kz * g->d[0];

                  for (gint64 oy = 0; oy < g->out[1]; oy++, dst += ow)
                    {
                      gint64 iy = oy * g->s[1] - g->pb[1] + ky * g->d[1];
                      const float *row;

                      if (iz < 0 || iz >= g->in[0] || iy < 0 || iy >= g->in[1] || hi == lo)
                        {
                          memset (dst, 0, (gsize) ow * sizeof (float));
                          continue;
                        }
                      row = job->x + (gsize) ((((gint64) c * g->in[0] + iz) * g->in[1] + iy) * g->in[2]);
                      if (lo > 0)
                        memset (dst, 0, (gsize) lo * sizeof (float));
                      if (g->s[2] == 1)
                        memcpy (dst + lo, row + lo + off, (gsize) (hi - lo) * sizeof (float));
                      else
                        for (gint64 ox = lo; ox < hi; ox++)
                          dst[ox] = row[ox * g->s[2] + off];
                      if (hi < ow)
                        memset (dst + hi, 0, (gsize) (ow - hi) * sizeof (float));
                    }
                }
            }
    }
}

void
ane_cpu_conv_im2col (const AneCpuIm2col *g,
                     const float        *x,
                     float              *col)
{
  Im2colJob job = { g, x, col };
  gint64 per_channel = g->k[0] * g->k[1] * g->k[2] * g->out[0] * g->out[1] * g->out[2];

  /* pieces of at least ~64k floats copied */
  ane_cpu_parallel_for ((gsize) g->channels, (gsize) MAX (1, 65536 / MAX (per_channel, 1)), im2col_channels, &job);
}
