/* mlp.c: the smallest useful ane-glib program
 *
 * Builds a two-layer perceptron
 *
 *     y = softmax(gelu(x · W1 + b1) · W2 + b2)
 *
 * with its weights declared as params, binds their values on the executable,
 * runs it on the reference backend, prints the result and checks it against
 * the same maths written out in plain C (exiting non-zero on a mismatch).
 *
 * Build against the installed library:
 *     cc mlp.c $(pkg-config --cflags --libs ane-glib-1.0) -lm -o mlp
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdlib.h>

#include <ane-glib/ane-glib.h>

#define BATCH   2
#define IN      4
#define HIDDEN  8
#define OUT     3

/* Deterministic weights: a small sine pattern, so every run prints the same. */
static float
pattern (float phase,
         gsize i)
{
  return 0.5f * sinf (phase + 0.7f * (float) i);
}

static AneTensor *
pattern_tensor (const char   *name,
                const gint64 *shape,
                guint         rank,
                float         phase,
                GError      **error)
{
  gsize n = 1;
  g_autofree float *values = NULL;

  for (guint i = 0; i < rank; i++)
    n *= (gsize) shape[i];
  values = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    values[i] = pattern (phase, i);
  return ane_tensor_new_from_floats (name, shape, rank, values, n, error);
}

/* Declares the graph: inputs and params first, then one builder call per op.
 * Every builder checks dtypes and shapes at once and fails with a GError. */
static AneGraph *
build_mlp (GError **error)
{
  g_autoptr(AneGraph) g = ane_graph_new ();
  const gint64 x_shape[] = { BATCH, IN };
  const gint64 w1_shape[] = { IN, HIDDEN }, b1_shape[] = { HIDDEN };
  const gint64 w2_shape[] = { HIDDEN, OUT }, b2_shape[] = { OUT };
  g_autoptr(AneTensor) x = NULL, w1 = NULL, b1 = NULL, w2 = NULL, b2 = NULL;
  g_autoptr(AneTensor) h = NULL, h_b = NULL, act = NULL, logits = NULL, logits_b = NULL;
  g_autoptr(AneTensor) y = NULL;

  if (!(x = ane_graph_input (g, "x", ANE_DTYPE_FLOAT32, x_shape, 2, error)) ||
      !(w1 = ane_graph_param (g, "w1", ANE_DTYPE_FLOAT32, w1_shape, 2, error)) ||
      !(b1 = ane_graph_param (g, "b1", ANE_DTYPE_FLOAT32, b1_shape, 1, error)) ||
      !(w2 = ane_graph_param (g, "w2", ANE_DTYPE_FLOAT32, w2_shape, 2, error)) ||
      !(b2 = ane_graph_param (g, "b2", ANE_DTYPE_FLOAT32, b2_shape, 1, error)))
    return NULL;

  /* Layer 1: [BATCH, IN] · [IN, HIDDEN] + [HIDDEN] (broadcast), then GELU. */
  if (!(h = ane_graph_matmul (g, x, w1, FALSE, FALSE, error)) ||
      !(h_b = ane_graph_add (g, h, b1, error)) ||
      !(act = ane_graph_gelu (g, h_b, ANE_GELU_EXACT, error)))
    return NULL;

  /* Layer 2 and a softmax over the classes. */
  if (!(logits = ane_graph_matmul (g, act, w2, FALSE, FALSE, error)) ||
      !(logits_b = ane_graph_add (g, logits, b2, error)) ||
      !(y = ane_graph_softmax (g, logits_b, -1, error)))
    return NULL;

  if (!ane_graph_add_output (g, "probabilities", y, error))
    return NULL;
  return g_steal_pointer (&g);
}

/* Binds every param by name: weights usually come from a file (see
 * ane_graph_param_with_value() for baking them in instead). */
static gboolean
bind_weights (AneExecutable *exe,
              GError       **error)
{
  static const struct { const char *name; gint64 shape[2]; guint rank; } params[] = {
    { "w1", { IN, HIDDEN }, 2 },
    { "b1", { HIDDEN, 0 }, 1 },
    { "w2", { HIDDEN, OUT }, 2 },
    { "b2", { OUT, 0 }, 1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (params); i++)
    {
      g_autoptr(AneTensor) value = pattern_tensor (params[i].name, params[i].shape,
                                                   params[i].rank, (float) i, error);
      if (value == NULL || !ane_executable_set_param (exe, params[i].name, value, error))
        return FALSE;
    }
  return TRUE;
}

/* The same network in plain C (in double): an independent check of what the
 * library computed. w1, b1, w2, b2 are the patterns of phase 0, 1, 2, 3
 * (see bind_weights). */
static void
mlp_by_hand (const float *x,
             double      *probs)
{
  for (guint b = 0; b < BATCH; b++)
    {
      double h[HIDDEN], z[OUT], max = -INFINITY, sum = 0.0;

      for (guint j = 0; j < HIDDEN; j++)
        {
          double a = pattern (1, j);                            /* b1 */
          for (guint k = 0; k < IN; k++)
            a += (double) x[b * IN + k] * pattern (0, k * HIDDEN + j);   /* x · W1 */
          h[j] = 0.5 * a * (1.0 + erf (a / sqrt (2.0)));        /* exact GELU */
        }
      for (guint c = 0; c < OUT; c++)
        {
          z[c] = pattern (3, c);                                /* b2 */
          for (guint j = 0; j < HIDDEN; j++)
            z[c] += h[j] * pattern (2, j * OUT + c);            /* h · W2 */
          max = MAX (max, z[c]);
        }
      for (guint c = 0; c < OUT; c++)
        sum += exp (z[c] - max);
      for (guint c = 0; c < OUT; c++)
        probs[b * OUT + c] = exp (z[c] - max) / sum;            /* softmax */
    }
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) graph = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneTensor) x = NULL;
  g_autoptr(GPtrArray) outputs = NULL;
  g_autofree float *probs = NULL;
  const gint64 x_shape[] = { BATCH, IN };
  const float x_values[BATCH * IN] = { 1.0f, -0.5f, 0.25f, 2.0f,
                                       -1.0f, 0.0f, 0.5f, -2.0f };
  double want[BATCH * OUT];
  gsize n = 0;

  graph = build_mlp (&error);
  if (graph == NULL)
    {
      g_printerr ("building the graph failed: %s\n", error->message);
      return EXIT_FAILURE;
    }

  /* Compile for a backend, bind the weights, then run as often as needed. */
  exe = ane_executable_new (graph, ANE_BACKEND_REFERENCE);
  if (!ane_executable_compile (exe, NULL, &error) || !bind_weights (exe, &error))
    {
      g_printerr ("preparing the executable failed: %s\n", error->message);
      return EXIT_FAILURE;
    }

  /* Inputs are matched to the graph's inputs by name. */
  x = ane_tensor_new_from_floats ("x", x_shape, 2, x_values, G_N_ELEMENTS (x_values), &error);
  if (x == NULL ||
      (outputs = ane_executable_run (exe, &x, 1, NULL, &error)) == NULL ||
      (probs = ane_tensor_dup_floats (g_ptr_array_index (outputs, 0), &n, &error)) == NULL)
    {
      g_printerr ("running failed: %s\n", error->message);
      return EXIT_FAILURE;
    }

  g_assert (n == BATCH * OUT);   /* the output's shape is [BATCH, OUT] */
  for (guint b = 0; b < BATCH; b++)
    {
      g_print ("sample %u:", b);
      for (guint c = 0; c < OUT; c++)
        g_print (" %.6f", probs[b * OUT + c]);
      g_print ("\n");
    }

  /* Check against plain C: they differ by 1e-8 (float32 rounding); 1e-6
   * leaves room for another summation order and still catches, say, the
   * tanh approximation of GELU (6e-6 off). Written !(d <= tol) so that a
   * NaN fails too. */
  mlp_by_hand (x_values, want);
  for (guint i = 0; i < BATCH * OUT; i++)
    if (!(fabs (probs[i] - want[i]) <= 1e-6))
      {
        g_printerr ("MISMATCH: probability %u is %.9g, plain C says %.9g\n", i, probs[i], want[i]);
        return EXIT_FAILURE;
      }
  g_print ("matches plain C\n");
  return EXIT_SUCCESS;
}
