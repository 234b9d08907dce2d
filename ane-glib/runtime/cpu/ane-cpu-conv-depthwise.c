/* runtime/cpu/ane-cpu-conv-depthwise.c: a direct convolution for one input
 * channel a group (depthwise, groups == C_in, any channel multiplier)
 *
 * MobileNet-style nets (PaddleOCR's classifier and detector) are mostly
 * 3×3 and 5×5 depthwise convs. Through im2col + GEMM each channel is a
 * 1-row GEMM over a K·K-row column buffer: the copy costs more than the
 * K·K multiply-adds an output. Here each output plane is its own piece of
 * work: per output row, per kernel tap, one multiply-add along the row over
 * the output columns whose input column lies inside the image (found once
 * per tap, so the padding costs nothing in the inner loop); stride 1 runs
 * 8 floats at a time with GCC/Clang vector extensions (an SSE2 pair on
 * baseline x86-64, NEON on ARM).
 *
 * Determinism: each output value is bias + taps in (ky, kx) order, each tap
 * one multiply and one add, whatever the number of threads (planes are the
 * pieces; the vector and scalar parts of a row depend on the geometry only).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "runtime/cpu/ane-cpu-blas-private.h"
#include "runtime/cpu/ane-cpu-kernels-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

typedef struct {
  const AneCpuConvDepthwise *cv;
  const float *x, *w, *bias;
  float *out;
} DepthwiseJob;

/* The output columns [*lo, *hi) whose input column ox·s + off lies in [0, in). */
static inline void
inside_columns (gint64  off,
                gint64  s,
                gint64  in,
                gint64  n_out,
                gint64 *lo,
                gint64 *hi)
{
  /* ox·s + off ≥ 0  ⇔  ox ≥ ceil(-off / s) */
  gint64 a = off >= 0 ? 0 : (-off + s - 1) / s;
  /* ox·s + off ≤ in - 1  ⇔  ox ≤ floor((in - 1 - off) / s) */
  gint64 b = in - 1 - off < 0 ? 0 : (in - 1 - off) / s + 1;

  *lo = MIN (a, n_out);
  *hi = MAX (*lo, MIN (b, n_out));
}

/* dst[i] += wv · src[i·s], i in [0, n) */
static inline void
tap_row (float       *dst,
         const float *src,
         gint64       n,
         gint64       s,
         float        wv)
{
  gint64 i = 0;

  if (s == 1)
    {
      ane_cpu_axpy_f32 (dst, wv, src, (gsize) n);
      return;
    }
  for (; i + 4 <= n; i += 4)
    {
      dst[i] += wv * src[i * s];
      dst[i + 1] += wv * src[(i + 1) * s];
      dst[i + 2] += wv * src[(i + 2) * s];
      dst[i + 3] += wv * src[(i + 3) * s];
    }
  for (; i < n; i++)
    dst[i] += wv * src[i * s];
}

static void
depthwise_planes (gsize    begin,
                  gsize    end,
                  gpointer data)
{
  const DepthwiseJob *job = data;
  const AneCpuConvDepthwise *cv = job->cv;
  gint64 plane_in = cv->in_h * cv->in_w, plane_out = cv->out_h * cv->out_w;

  for (gsize p = begin; p < end; p++)
    {
      gint64 n = (gint64) p / cv->channels_out, o = (gint64) p % cv->channels_out;
      const float *xp = job->x + (gsize) ((n * cv->channels_in + o / cv->multiplier) * plane_in);
      const float *wp = job->w + (gsize) (o * cv->k_h * cv->k_w);
      float *op = job->out + (gsize) (p * plane_out);
      float b = job->bias ? job->bias[o] : 0.0f;

      for (gint64 oy = 0; oy < cv->out_h; oy++)
        {
          float *dst = op + oy * cv->out_w;

          for (gint64 ox = 0; ox < cv->out_w; ox++)
            dst[ox] = b;
          for (gint64 ky = 0; ky < cv->k_h; ky++)
            {
              gint64 iy = oy * cv->s_h - cv->pad_h + ky * cv->d_h;
              const float *row;

              if (iy < 0 || iy >= cv->in_h)
                continue;
              row = xp + iy * cv->in_w;
              for (gint64 kx = 0; kx < cv->k_w; kx++)
                {
                  gint64 off = kx * cv->d_w - cv->pad_w, lo, hi;

                  inside_columns (off, cv->s_w, cv->in_w, cv->out_w, &lo, &hi);
                  if (hi > lo)
                    tap_row (dst + lo, row + lo * cv->s_w + off, hi - lo, cv->s_w, wp[ky * cv->k_w + kx]);
                }
            }
        }
    }
}

void
ane_cpu_conv_depthwise (const AneCpuConvDepthwise *cv,
                        const float               *x,
                        const float               *w,
                        const float               *bias,
                        float                     *out)
{
  DepthwiseJob job = { cv, x, w, bias, out };
  gint64 flops = cv->out_h * cv->out_w * cv->k_h * cv->k_w;

  /* a piece of at least ~32k multiply-adds: below that the pool's hand-off
   * costs more than it saves */
  ane_cpu_parallel_for ((gsize) (cv->batch * cv->channels_out), (gsize) MAX (1, 32768 / MAX (flops, 1)),
                        depthwise_planes, &job);
}
