/* runtime/cpu/ane-cpu-k-nn.c: softmax, normalizations and parametric activations
 *
 * Semantics from coremltools' op definitions (ops/defs/iOS15/activation.py,
 * iOS15/normalization.py; the iOS17 versions only widen the parameter
 * dtypes):
 * - softmax (x, axis = -1): exp(x - max) / sum exp(x - max) along axis.
 * - layer_norm (x, axes = all, gamma, beta, epsilon = 1e-5):
 *   (x - mean) / sqrt(var + eps) * gamma + beta over `axes`, population
 *   variance; gamma and beta have the shape x.shape[axes], the normalized
 *   dims in increasing axis order (value_inference reshapes them to x's rank
 *   with 1s elsewhere).
 * - batch_norm (x, mean, variance, gamma, beta, epsilon = 1e-5): per channel
 *   along axis 1; MIL allows ranks 3..5, this kernel any rank >= 2.
 * - instance_norm (x, gamma, beta, epsilon = 1e-5): each (n, c) normalized
 *   over the spatial dims, then per-channel gamma/beta.
 * - l2_norm (x, epsilon = 1e-6): x / sqrt(sum x^2 + eps) over the last three
 *   dims, the leading ones being batch (value_inference).
 * - leaky_relu (x < 0: alpha x), elu (x < 0: alpha (e^x - 1)), prelu
 *   (alpha [C] along axis 1: max(x, 0) + min(x, 0) alpha), relu6, softsign
 *   (x / (1 + |x|)), thresholded_relu (x >= alpha ? x : 0), clamped_relu
 *   (min(beta, x >= 0 ? x : alpha x)), linear_activation (alpha x + beta),
 *   scaled_tanh (alpha tanh(beta x)), sigmoid_hard (clip(alpha x + beta, 0,
 *   1)), softplus_parametric (alpha[c] log(1 + e^(beta[c] x)) along axis 1).
 *
 * Statistics (max, sums, means, variances) are computed in double: the
 * device's fp16 ops accumulate wider than fp16, and the driver rounds each
 * output to the program's dtype.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "runtime/cpu/ane-cpu-kernels-private.h"
#include "runtime/cpu/ane-cpu-pool-private.h"

/* --- helpers --------------------------------------------------------------- */

/* x must exist, be a float tensor, and have the output's shape. */
static gboolean
check_x (AneCpuCtx          *ctx,
         const AneCpuValue  *x,
         const AneCpuValue  *out,
         GError            **error)
{
  if (x == NULL)
    return ane_cpu_fail (ctx, error, "needs parameter x");
  if (x->f == NULL || out->f == NULL)
    return ane_cpu_fail (ctx, error, "x and the output must be float tensors");
  if (x->rank != out->rank || memcmp (x->shape, out->shape, x->rank * sizeof (gint64)) != 0)
    return ane_cpu_fail (ctx, error, "x (rank %u, %zu elements) does not match the declared output "
                         "(rank %u, %zu elements)", x->rank, x->n, out->rank, out->n);
  return TRUE;
}

/* An optional per-channel vector (batch_norm, instance_norm, prelu): absent,
 * or C elements (any shape holding C values, such as [C] or [1, C, 1]). */
static gboolean
check_vector (AneCpuCtx          *ctx,
              const AneCpuValue  *v,
              const char         *name,
              gint64              channels,
              gboolean            required,
              GError            **error)
{
  if (v == NULL)
    return required ? ane_cpu_fail (ctx, error, "needs parameter %s", name) : TRUE;
  if (v->s != NULL || (gint64) v->n != channels)
    return ane_cpu_fail (ctx, error, "%s has %zu elements; x has %" G_GINT64_FORMAT " channels",
                         name, v->n, channels);
  return TRUE;
}

/* A scalar parameter (alpha, beta, epsilon): absent (fallback) or one element. */
static gboolean
scalar_param (AneCpuCtx  *ctx,
              const char *name,
              gboolean    required,
              double      fallback,
              double     *value,
              GError    **error)
{
  const AneCpuValue *v = ane_cpu_in (ctx, name);

  if (v == NULL)
    {
      if (required)
        return ane_cpu_fail (ctx, error, "needs parameter %s", name);
      *value = fallback;
      return TRUE;
    }
  if (v->s != NULL || v->n != 1)
    return ane_cpu_fail (ctx, error, "%s must be a scalar (it has %zu elements)", name, v->n);
  *value = ane_cpu_value_get (v, 0);
  return TRUE;
}

/* The elements of a tensor split into groups by a set of reduced axes: the
 * offsets of one group's elements relative to its first (reduced dims in
 * increasing axis order, C order among them), and the first element of each
 * group (kept dims in C order). */
typedef struct {
  gsize  n_groups;
  gsize  group_size;
  gsize *inner;   /* group_size offsets */
  gsize *outer;   /* n_groups offsets */
} Groups;

static void
groups_init (Groups            *g,
             const AneCpuValue *x,
             const gboolean    *reduced)
{
  gint64 strides[ANE_CPU_MAX_RANK];
  gint64 rshape[ANE_CPU_MAX_RANK], kshape[ANE_CPU_MAX_RANK];
  gint64 rstride[ANE_CPU_MAX_RANK], kstride[ANE_CPU_MAX_RANK];
  gint64 coords[ANE_CPU_MAX_RANK];
  guint nr = 0, nk = 0;

  ane_cpu_strides (x, strides);
  g->group_size = 1;
  g->n_groups = 1;
  for (guint d = 0; d < x->rank; d++)
    {
      if (reduced[d])
        {
          rshape[nr] = x->shape[d];
          rstride[nr++] = strides[d];
          g->group_size *= (gsize) x->shape[d];
        }
      else
        {
          kshape[nk] = x->shape[d];
          kstride[nk++] = strides[d];
          g->n_groups *= (gsize) x->shape[d];
        }
    }
  g->inner = g_new (gsize, MAX (g->group_size, 1));
  g->outer = g_new (gsize, MAX (g->n_groups, 1));
  for (gsize j = 0; j < g->group_size; j++)
    {
      gsize off = 0;

      ane_cpu_unravel (j, rshape, nr, coords);
      for (guint k = 0; k < nr; k++)
        off += (gsize) (coords[k] * rstride[k]);
      g->inner[j] = off;
    }
  for (gsize j = 0; j < g->n_groups; j++)
    {
      gsize off = 0;

      ane_cpu_unravel (j, kshape, nk, coords);
      for (guint k = 0; k < nk; k++)
        off += (gsize) (coords[k] * kstride[k]);
      g->outer[j] = off;
    }
}

static void
groups_clear (Groups *g)
{
  g_clear_pointer (&g->inner, g_free);
  g_clear_pointer (&g->outer, g_free);
}

/* Elements per channel position: the product of the dims after axis 1. */
static gsize
inner_size (const AneCpuValue *x)
{
  gsize n = 1;

  for (guint d = 2; d < x->rank; d++)
    n *= (gsize) x->shape[d];
  return n;
}

/* Groups per piece of a parallel loop: enough elements (GROUP_GRAIN_ELEMS)
 * that the hand-off to another thread pays. Each group is computed whole by
 * one piece, in the same order, so the split never changes a result. */
#define GROUP_GRAIN_ELEMS 8192

static gsize
group_grain (const Groups *g)
{
  return MAX (1, GROUP_GRAIN_ELEMS / MAX (g->group_size, 1));
}

/* --- softmax --------------------------------------------------------------- */

typedef struct {
  const AneCpuValue *x;
  AneCpuValue       *out;
  const Groups      *g;
} GroupJob;

static void
softmax_groups (gsize    begin,
                gsize    end,
                gpointer data)
{
  const GroupJob *job = data;
  const Groups *g = job->g;
  g_autofree double *e = g_new (double, MAX (g->group_size, 1));

  for (gsize o = begin; o < end; o++)
    {
      const float *xs = job->x->f + g->outer[o];
      float *ys = job->out->f + g->outer[o];
      double m = -INFINITY, sum = 0.0;

      for (gsize j = 0; j < g->group_size; j++)
        {
          double v = xs[g->inner[j]];

          /* a NaN anywhere makes the whole group NaN through the sum */
          if (v > m)
            m = v;
        }
      for (gsize j = 0; j < g->group_size; j++)
        {
          e[j] = exp ((double) xs[g->inner[j]] - m);
          sum += e[j];
        }
      for (gsize j = 0; j < g->group_size; j++)
        ys[g->inner[j]] = (float) (e[j] / sum);
    }
}

static gboolean
k_softmax (AneCpuCtx *ctx,
           GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gboolean reduced[ANE_CPU_MAX_RANK] = { FALSE };
  Groups g;
  guint axis;

  if (!check_x (ctx, x, out, error))
    return FALSE;
  if (x->rank == 0)
    return ane_cpu_fail (ctx, error, "x must have rank 1 or more");
  if (!ane_cpu_axis (ctx, ane_cpu_int (ctx, "axis", -1), x->rank, &axis, error))
    return FALSE;
  reduced[axis] = TRUE;
  groups_init (&g, x, reduced);
  ane_cpu_parallel_for (g.n_groups, group_grain (&g), softmax_groups, &(GroupJob) { x, out, &g });
  groups_clear (&g);
  return TRUE;
}

/* --- layer_norm ------------------------------------------------------------ */

/* Normalizes each group of x over its elements: (x - mean) / sqrt(var + eps),
 * then * gamma[k] + beta[k] (gamma, beta may be NULL). k is the position
 * inside the group (layer_norm), or with channel_inner > 0 the group's
 * channel along axis 1 (instance_norm: channel_inner = elements per channel
 * position, channels = x.shape[1]). */
typedef struct {
  const AneCpuValue *x;
  AneCpuValue       *out;
  const Groups      *g;
  const AneCpuValue *gamma, *beta;
  double             eps;
  gsize              channel_inner;
} NormJob;

static void
normalize_range (gsize    begin,
                 gsize    end,
                 gpointer data)
{
  const NormJob *job = data;
  const AneCpuValue *x = job->x, *gamma = job->gamma, *beta = job->beta;
  AneCpuValue *out = job->out;
  const Groups *g = job->g;
  double eps = job->eps;
  gsize channel_inner = job->channel_inner;

  for (gsize o = begin; o < end; o++)
    {
      const float *xs = x->f + g->outer[o];
      float *ys = out->f + g->outer[o];
      double mean = 0.0, var = 0.0, inv;

      for (gsize j = 0; j < g->group_size; j++)
        mean += xs[g->inner[j]];
      mean /= (double) g->group_size;
      for (gsize j = 0; j < g->group_size; j++)
        {
          double d = xs[g->inner[j]] - mean;
          var += d * d;
        }
      var /= (double) g->group_size;
      inv = 1.0 / sqrt (var + eps);
      for (gsize j = 0; j < g->group_size; j++)
        {
          double y = (xs[g->inner[j]] - mean) * inv;
          gsize k = channel_inner ? (g->outer[o] / channel_inner) % (gsize) x->shape[1] : j;

          if (gamma)
            y *= ane_cpu_value_get (gamma, k);
          if (beta)
            y += ane_cpu_value_get (beta, k);
          ys[g->inner[j]] = (float) y;
        }
    }
}

static void
normalize_groups (const AneCpuValue *x,
                  AneCpuValue       *out,
                  const Groups      *g,
                  const AneCpuValue *gamma,
                  const AneCpuValue *beta,
                  double             eps,
                  gsize              channel_inner)
{
  ane_cpu_parallel_for (g->n_groups, group_grain (g), normalize_range,
                        &(NormJob) { x, out, g, gamma, beta, eps, channel_inner });
}

static gboolean
k_layer_norm (AneCpuCtx *ctx,
              GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x");
  const AneCpuValue *gamma = ane_cpu_in (ctx, "gamma"), *beta = ane_cpu_in (ctx, "beta");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gboolean reduced[ANE_CPU_MAX_RANK] = { FALSE };
  g_autofree gint64 *axes = NULL;
  gint64 norm_shape[ANE_CPU_MAX_RANK];
  guint n_norm = 0;
  gsize n_axes = 0;
  double eps;
  Groups g;

  if (!check_x (ctx, x, out, error))
    return FALSE;
  if (!scalar_param (ctx, "epsilon", FALSE, 1e-5, &eps, error))
    return FALSE;
  axes = ane_cpu_ints (ctx, "axes", &n_axes);
  if (axes == NULL)
    for (guint d = 0; d < x->rank; d++)
      reduced[d] = TRUE;
  for (gsize i = 0; axes && i < n_axes; i++)
    {
      guint a;

      if (!ane_cpu_axis (ctx, axes[i], x->rank, &a, error))
        return FALSE;
      if (reduced[a])
        return ane_cpu_fail (ctx, error, "axis %u is named twice in axes", a);
      reduced[a] = TRUE;
    }
  for (guint d = 0; d < x->rank; d++)
    if (reduced[d])
      norm_shape[n_norm++] = x->shape[d];
  /* gamma and beta: the shape x.shape[axes] (dims in increasing axis order) */
  for (guint p = 0; p < 2; p++)
    {
      const AneCpuValue *v = p == 0 ? gamma : beta;
      gsize want = 1;

      if (v == NULL)
        continue;
      for (guint k = 0; k < n_norm; k++)
        want *= (gsize) norm_shape[k];
      if (v->f == NULL || v->n != want ||
          (v->rank == n_norm && memcmp (v->shape, norm_shape, n_norm * sizeof (gint64)) != 0))
        return ane_cpu_fail (ctx, error, "%s must be a float tensor of the normalized shape x.shape[axes] "
                             "(%zu elements); it has %zu", p == 0 ? "gamma" : "beta", want, v->n);
    }
  groups_init (&g, x, reduced);
  normalize_groups (x, out, &g, gamma, beta, eps, 0);
  groups_clear (&g);
  return TRUE;
}

/* --- batch_norm, instance_norm --------------------------------------------- */

typedef struct {
  const AneCpuValue *x;
  AneCpuValue       *out;
  const AneCpuValue *mean, *var, *gamma, *beta;
  double             eps;
  gsize              inner, channels;
} BatchNormJob;

#define PARALLEL_GRAIN_BN 16384

/* Planes [begin, end) of (n, c): the channel's terms read and its square
 * root taken once a plane, not once an element (the same double formula,
 * so the same bits; it was 7% of PaddleOCR's detector, bench-onnx). */
static void
batch_norm_planes (gsize    begin,
                   gsize    end,
                   gpointer data)
{
  const BatchNormJob *j = data;

  for (gsize p = begin; p < end; p++)
    {
      gsize c = p % j->channels;
      double m = ane_cpu_value_get (j->mean, c), sd = sqrt (ane_cpu_value_get (j->var, c) + j->eps);
      double g = j->gamma ? ane_cpu_value_get (j->gamma, c) : 1.0, b = j->beta ? ane_cpu_value_get (j->beta, c) : 0.0;
      const float *xp = j->x->f + p * j->inner;
      float *op = j->out->f + p * j->inner;

      for (gsize i = 0; i < j->inner; i++)
        {
          double y = (xp[i] - m) / sd;

          if (j->gamma)
            y *= g;
          if (j->beta)
            y += b;
          op[i] = (float) y;
        }
    }
}

static gboolean
k_batch_norm (AneCpuCtx *ctx,
              GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x");
  const AneCpuValue *mean = ane_cpu_in (ctx, "mean"), *var = ane_cpu_in (ctx, "variance");
  const AneCpuValue *gamma = ane_cpu_in (ctx, "gamma"), *beta = ane_cpu_in (ctx, "beta");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gint64 channels;
  gsize inner;
  double eps;

  if (!check_x (ctx, x, out, error))
    return FALSE;
  if (x->rank < 2)
    return ane_cpu_fail (ctx, error, "x must be [N, C, ...] (rank %u)", x->rank);
  channels = x->shape[1];
  if (!check_vector (ctx, mean, "mean", channels, TRUE, error) ||
      !check_vector (ctx, var, "variance", channels, TRUE, error) ||
      !check_vector (ctx, gamma, "gamma", channels, FALSE, error) ||
      !check_vector (ctx, beta, "beta", channels, FALSE, error) ||
      !scalar_param (ctx, "epsilon", FALSE, 1e-5, &eps, error))
    return FALSE;
  inner = inner_size (x);
  {
    BatchNormJob job = { x, out, mean, var, gamma, beta, eps, MAX (inner, 1), (gsize) channels };

    ane_cpu_parallel_for (x->n / MAX (inner, 1), MAX (1, PARALLEL_GRAIN_BN / MAX (inner, 1)), batch_norm_planes, &job);
  }
  return TRUE;
}

static gboolean
k_instance_norm (AneCpuCtx *ctx,
                 GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x");
  const AneCpuValue *gamma = ane_cpu_in (ctx, "gamma"), *beta = ane_cpu_in (ctx, "beta");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gboolean reduced[ANE_CPU_MAX_RANK] = { FALSE };
  gint64 channels;
  gsize inner;
  double eps;
  Groups g;

  if (!check_x (ctx, x, out, error))
    return FALSE;
  if (x->rank < 3)
    return ane_cpu_fail (ctx, error, "x must be [N, C, spatial...] (rank %u)", x->rank);
  channels = x->shape[1];
  if (!check_vector (ctx, gamma, "gamma", channels, FALSE, error) ||
      !check_vector (ctx, beta, "beta", channels, FALSE, error) ||
      !scalar_param (ctx, "epsilon", FALSE, 1e-5, &eps, error))
    return FALSE;
  for (guint d = 2; d < x->rank; d++)
    reduced[d] = TRUE;
  groups_init (&g, x, reduced);
  inner = inner_size (x);
  if (inner > 0)
    normalize_groups (x, out, &g, gamma, beta, eps, inner);
  groups_clear (&g);
  return TRUE;
}

/* --- l2_norm --------------------------------------------------------------- */

static gboolean
k_l2_norm (AneCpuCtx *ctx,
           GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gsize group = 1;
  double eps;

  if (!check_x (ctx, x, out, error))
    return FALSE;
  if (x->rank < 3)
    return ane_cpu_fail (ctx, error, "x must have rank 3 or more (rank %u)", x->rank);
  if (!scalar_param (ctx, "epsilon", FALSE, 1e-6, &eps, error))
    return FALSE;
  for (guint d = x->rank - 3; d < x->rank; d++)
    group *= (gsize) x->shape[d];
  for (gsize o = 0; group > 0 && o < x->n; o += group)
    {
      double sum = 0.0, inv;

      for (gsize j = 0; j < group; j++)
        sum += (double) x->f[o + j] * x->f[o + j];
      inv = 1.0 / sqrt (sum + eps);
      for (gsize j = 0; j < group; j++)
        out->f[o + j] = (float) (x->f[o + j] * inv);
    }
  return TRUE;
}

/* --- activations with parameters ------------------------------------------ */

typedef enum {
  ACT_LEAKY_RELU,
  ACT_ELU,
  ACT_RELU6,
  ACT_SOFTSIGN,
  ACT_THRESHOLDED_RELU,
  ACT_CLAMPED_RELU,
  ACT_LINEAR,
  ACT_SCALED_TANH,
  ACT_SIGMOID_HARD,
} Activation;

static double
activate (Activation kind,
          double     v,
          double     alpha,
          double     beta)
{
  switch (kind)
    {
    case ACT_LEAKY_RELU:       return v < 0 ? alpha * v : v;
    case ACT_ELU:              return v < 0 ? alpha * expm1 (v) : v;
    case ACT_RELU6:            return isnan (v) ? v : v < 0 ? 0.0 : v > 6 ? 6.0 : v;
    case ACT_SOFTSIGN:         return v / (1.0 + fabs (v));
    case ACT_THRESHOLDED_RELU: return v < alpha ? 0.0 : v;
    case ACT_CLAMPED_RELU:
      {
        double y = v >= 0 ? v : alpha * v;
        return isnan (y) ? y : MIN (y, beta);
      }
    case ACT_LINEAR:           return alpha * v + beta;
    case ACT_SCALED_TANH:      return alpha * tanh (beta * v);
    case ACT_SIGMOID_HARD:
      {
        double y = alpha * v + beta;
        return isnan (y) ? y : y < 0 ? 0.0 : y > 1 ? 1.0 : y;
      }
    default:                   return NAN;
    }
}

static gboolean
run_activation (AneCpuCtx  *ctx,
                Activation  kind,
                gboolean    has_alpha,
                gboolean    has_beta,
                double      alpha_default,
                GError    **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  double alpha = 0.0, beta = 0.0;

  if (!check_x (ctx, x, out, error))
    return FALSE;
  /* alpha is required by MIL for these ops; a missing one takes the
   * default of coremltools' builders (leaky_relu 0.01, elu 1). */
  if (has_alpha && !scalar_param (ctx, "alpha", isnan (alpha_default), alpha_default, &alpha, error))
    return FALSE;
  if (has_beta && !scalar_param (ctx, "beta", TRUE, 0.0, &beta, error))
    return FALSE;
  for (gsize i = 0; i < out->n; i++)
    out->f[i] = (float) activate (kind, x->f[i], alpha, beta);
  return TRUE;
}

static gboolean k_leaky_relu (AneCpuCtx *ctx, GError **error)
{ return run_activation (ctx, ACT_LEAKY_RELU, TRUE, FALSE, 0.01, error); }
static gboolean k_elu (AneCpuCtx *ctx, GError **error)
{ return run_activation (ctx, ACT_ELU, TRUE, FALSE, 1.0, error); }
static gboolean k_relu6 (AneCpuCtx *ctx, GError **error)
{ return run_activation (ctx, ACT_RELU6, FALSE, FALSE, 0.0, error); }
static gboolean k_softsign (AneCpuCtx *ctx, GError **error)
{ return run_activation (ctx, ACT_SOFTSIGN, FALSE, FALSE, 0.0, error); }
static gboolean k_thresholded_relu (AneCpuCtx *ctx, GError **error)
{ return run_activation (ctx, ACT_THRESHOLDED_RELU, TRUE, FALSE, 1.0, error); }
static gboolean k_clamped_relu (AneCpuCtx *ctx, GError **error)
{ return run_activation (ctx, ACT_CLAMPED_RELU, TRUE, TRUE, NAN, error); }
static gboolean k_linear_activation (AneCpuCtx *ctx, GError **error)
{ return run_activation (ctx, ACT_LINEAR, TRUE, TRUE, NAN, error); }
static gboolean k_scaled_tanh (AneCpuCtx *ctx, GError **error)
{ return run_activation (ctx, ACT_SCALED_TANH, TRUE, TRUE, NAN, error); }
static gboolean k_sigmoid_hard (AneCpuCtx *ctx, GError **error)
{ return run_activation (ctx, ACT_SIGMOID_HARD, TRUE, TRUE, NAN, error); }

/* prelu and softplus_parametric: per-channel parameters along axis 1. */
static gboolean
run_channel_activation (AneCpuCtx *ctx,
                        gboolean   softplus,
                        GError   **error)
{
  const AneCpuValue *x = ane_cpu_in (ctx, "x");
  const AneCpuValue *alpha = ane_cpu_in (ctx, "alpha"), *beta = ane_cpu_in (ctx, "beta");
  AneCpuValue *out = ane_cpu_out (ctx, 0);
  gint64 channels;
  gsize inner;

  if (!check_x (ctx, x, out, error))
    return FALSE;
  if (x->rank < 2)
    return ane_cpu_fail (ctx, error, "x must be [N, C, ...] (rank %u)", x->rank);
  channels = x->shape[1];
  if (!check_vector (ctx, alpha, "alpha", channels, TRUE, error) ||
      (softplus && !check_vector (ctx, beta, "beta", channels, TRUE, error)))
    return FALSE;
  inner = inner_size (x);
  for (gsize i = 0; i < x->n; i++)
    {
      gsize c = (i / MAX (inner, 1)) % (gsize) channels;
      double v = x->f[i], a = ane_cpu_value_get (alpha, c), y;

      if (softplus)
        {
          double t = ane_cpu_value_get (beta, c) * v;
          y = a * (t > 0 ? t + log1p (exp (-t)) : log1p (exp (t)));
        }
      else
        y = v > 0 ? v : (v < 0 ? a * v : v);
      out->f[i] = (float) y;
    }
  return TRUE;
}

static gboolean k_prelu (AneCpuCtx *ctx, GError **error)
{ return run_channel_activation (ctx, FALSE, error); }
static gboolean k_softplus_parametric (AneCpuCtx *ctx, GError **error)
{ return run_channel_activation (ctx, TRUE, error); }

const AneCpuKernel ane_cpu_kernels_nn[] = {
  { "softmax", k_softmax },
  { "layer_norm", k_layer_norm },
  { "batch_norm", k_batch_norm },
  { "instance_norm", k_instance_norm },
  { "l2_norm", k_l2_norm },
  { "leaky_relu", k_leaky_relu },
  { "elu", k_elu },
  { "prelu", k_prelu },
  { "relu6", k_relu6 },
  { "softsign", k_softsign },
  { "thresholded_relu", k_thresholded_relu },
  { "clamped_relu", k_clamped_relu },
  { "linear_activation", k_linear_activation },
  { "scaled_tanh", k_scaled_tanh },
  { "sigmoid_hard", k_sigmoid_hard },
  { "softplus_parametric", k_softplus_parametric },
  { NULL, NULL }
};
