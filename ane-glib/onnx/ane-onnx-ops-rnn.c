/* ane-onnx-ops-rnn.c: LSTM and GRU, unrolled over the static sequence length
 *
 * Semantics: onnx/onnx docs/Operators.md, "LSTM" and "GRU" (equations,
 * inputs, outputs, attributes). Both are unrolled into matmul / add /
 * sigmoid / tanh / mul over the sequence length, which is static once the
 * input shapes are bound: the input projection X·Wᵀ + Wb (+ Rb) of every
 * step is one matmul before the loop; each step then adds H_{t-1}·Rᵀ. The
 * weights stay as the model's consts in ONNX's gate order (LSTM i, o, f, c;
 * GRU z, r, h), cut per gate with narrow. MIL's lstm/gru ops are not used:
 * their gate order, activations and output forms differ by target, and the
 * unrolled form runs on every target and backend as it is.
 *
 * Supported: directions forward, reverse and bidirectional; layout 0 and
 * 1; optional B, initial_h, initial_c, P (LSTM peepholes); clip;
 * input_forget (LSTM); linear_before_reset 0 and 1 (GRU). Refused, naming
 * the attribute: activations other than the defaults (sigmoid, tanh,
 * tanh), and sequence_lens that are not all the full length.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-onnx-private.h"

typedef struct {
  AneOnnxNode *node;
  AneGraph    *g;
  AneDType     dtype;
  gint64       seq, batch, input, hidden;
  guint        n_dirs;
  guint        n_gates;        /* 4 (LSTM) or 3 (GRU) */
  gint64       layout;
  double       clip;           /* 0: none */
  gboolean     reverse;        /* direction "reverse" (a bidirectional node runs d = 1 reversed) */
} Rnn;

/* --- small builders (each returns a new reference or NULL with error) ------- */

static AneTensor *
reshape (Rnn          *r,
         AneTensor    *x,
         const gint64 *shape,
         guint         rank,
         GError      **error)
{
  return ane_graph_reshape (r->g, x, shape, rank, error);
}

/* x[d] of a [n_dirs, a, b] tensor, as [a, b]. */
static AneTensor *
direction_slice (Rnn       *r,
                 AneTensor *x,
                 guint      d,
                 gint64     a,
                 gint64     b,
                 GError   **error)
{
  g_autoptr(AneTensor) one = ane_graph_narrow (r->g, x, 0, d, 1, error);
  gint64 shape[2] = { a, b };

  if (one == NULL)
    return NULL;
  return reshape (r, one, shape, 2, error);
}

/* Elements [start, start + rows·cols) of direction d of input i (a
 * [n_dirs, ...] weight), as a [rows, cols] const cut on the host when the
 * input is a float constant (so the lowering sees a plain const: a matmul by
 * it is a linear layer, a 1x1 conv on the Neural Engine); NULL without error
 * when the input is not one. */
static AneTensor *
host_block (Rnn        *r,
            guint       i,
            guint       d,
            gint64      start,
            gint64      rows,
            gint64      cols,
            const char *what,
            GError    **error)
{
  AneTensor *c = ane_onnx_node_input_constant (r->node, i);
  gint64 shape[2] = { rows, cols }, per_dir;
  g_autofree float *v = NULL;
  g_autofree char *name = NULL;
  g_autoptr(AneTensor) host = NULL;
  AneTensor *t;

  if (c == NULL || !ane_dtype_is_float (ane_tensor_get_dtype (c)))
    return NULL;
  per_dir = ane_tensor_get_n_elements (c) / r->n_dirs;
  v = g_new (float, rows * cols);
  for (gint64 k = 0; k < rows * cols; k++)
    v[k] = (float) ane_tensor_get_value (c, d * per_dir + start + k);
  name = g_strdup_printf ("%s_%s%s", ane_onnx_node_name (r->node), what, d ? "_reverse" : "");
  if ((host = ane_tensor_new_from_floats (name, shape, 2, v, rows * cols, error)) == NULL ||
      (t = ane_onnx_node_const (r->node, host, error)) == NULL)
    return NULL;
  return g_object_ref (t);
}

/* Direction d of weight input i as [rows, cols]: the host-cut const when
 * the input is a constant, else a narrow and reshape in the graph. */
static AneTensor *
weight_of (Rnn        *r,
           guint       i,
           guint       d,
           gint64      rows,
           gint64      cols,
           const char *what,
           GError    **error)
{
  AneTensor *all;
  AneTensor *t = host_block (r, i, d, 0, rows, cols, what, error);

  if (t != NULL || (error != NULL && *error != NULL))
    return t;
  if ((all = ane_onnx_node_input (r->node, i, error)) == NULL)
    return NULL;
  return direction_slice (r, all, d, rows, cols, error);
}

/* Gate k of a [batch, n_gates * hidden] tensor. */
static AneTensor *
gate (Rnn       *r,
      AneTensor *x,
      guint      k,
      GError   **error)
{
  return ane_graph_narrow (r->g, x, 1, (gint64) k * r->hidden, r->hidden, error);
}

/* The activation input, clipped to [-clip, clip] when clip is set
 * (Operators.md, LSTM/GRU attribute "clip": "Cell clip threshold. Clipping
 * bounds the elements of a tensor in the range of [-threshold, +threshold]
 * and is applied to the input of activations."). */
static AneTensor *
clipped (Rnn       *r,
         AneTensor *x,
         GError   **error)
{
  g_autoptr(AneTensor) hi = NULL;
  g_autoptr(AneTensor) lo = NULL;
  g_autoptr(AneTensor) top = NULL;

  if (r->clip <= 0)
    return g_object_ref (x);
  if ((hi = ane_graph_scalar (r->g, r->dtype, r->clip, error)) == NULL ||
      (lo = ane_graph_scalar (r->g, r->dtype, -r->clip, error)) == NULL ||
      (top = ane_graph_minimum (r->g, x, hi, error)) == NULL)
    return NULL;
  return ane_graph_maximum (r->g, top, lo, error);
}

/* f(clipped(x)): the gate activations sigmoid and tanh share the clip. */
static AneTensor *
activation (Rnn        *r,
            AneTensor  *x,
            AneTensor *(*f) (AneGraph *, AneTensor *, GError **),
            GError    **error)
{
  g_autoptr(AneTensor) c = clipped (r, x, error);

  return c == NULL ? NULL : f (r->g, c, error);
}

static AneTensor *
sigmoid (Rnn *r, AneTensor *x, GError **error)
{
  return activation (r, x, ane_graph_sigmoid, error);
}

static AneTensor *
tanh_of (Rnn *r, AneTensor *x, GError **error)
{
  return activation (r, x, ane_graph_tanh, error);
}

/* a + b, where b may be NULL (a term that is zero). */
static AneTensor *
add_maybe (Rnn       *r,
           AneTensor *a,
           AneTensor *b,
           GError   **error)
{
  return b == NULL ? g_object_ref (a) : ane_graph_add (r->g, a, b, error);
}

/* --- shared setup ------------------------------------------------------------- */

/* Reads the attributes and shapes common to LSTM and GRU, and refuses what
 * is not supported. */
static gboolean
rnn_init (Rnn         *r,
          AneOnnxNode *node,
          guint        n_gates,
          GError     **error)
{
  const char *direction;
  gint64 hidden;
  guint xr, wr;
  const gint64 *xs, *ws;

  memset (r, 0, sizeof *r);
  r->node = node;
  r->g = ane_onnx_node_graph (node);
  r->n_gates = n_gates;
  if (!ane_onnx_node_attr_string (node, "direction", "forward", &direction, error) ||
      !ane_onnx_node_attr_int (node, "hidden_size", 0, &hidden, error) ||
      !ane_onnx_node_attr_int (node, "layout", 0, &r->layout, error) ||
      !ane_onnx_node_attr_float (node, "clip", 0.0, &r->clip, error))
    return FALSE;
  r->reverse = g_str_equal (direction, "reverse");
  if (g_str_equal (direction, "forward") || r->reverse)
    r->n_dirs = 1;
  else if (g_str_equal (direction, "bidirectional"))
    r->n_dirs = 2;
  else
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT,
                                "direction '%s' is not forward, reverse or bidirectional", direction);
  if (r->layout != 0 && r->layout != 1)
    return ane_onnx_node_error (node, error, ANE_ERROR_INVALID_ARGUMENT, "layout %" G_GINT64_FORMAT
                                " is not 0 or 1", r->layout);
  /* Only the default activations (Operators.md: "the default activations
   * ... f=Sigmoid, g=Tanh, h=Tanh" for LSTM, f=Sigmoid, g=Tanh for GRU);
   * exporters that write them out are refused too, since the strings are
   * not compared here. */
  if (ane_onnx_node_has_attr (node, "activations") || ane_onnx_node_has_attr (node, "activation_alpha") ||
      ane_onnx_node_has_attr (node, "activation_beta"))
    return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                "the attribute 'activations' (or its alpha/beta) is not supported: only "
                                "the default sigmoid/tanh activations are");

  xs = ane_onnx_node_input_shape (node, 0, &xr);
  ws = ane_onnx_node_input_shape (node, 1, &wr);
  if (xs == NULL || xr != 3)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "input X must have rank 3");
  r->dtype = ane_onnx_node_input_dtype (node, 0);
  if (!ane_dtype_is_float (r->dtype))
    return ane_onnx_node_error (node, error, ANE_ERROR_DTYPE, "input X must be float, not %s",
                                ane_dtype_to_string (r->dtype));
  r->seq = r->layout ? xs[1] : xs[0];
  r->batch = r->layout ? xs[0] : xs[1];
  r->input = xs[2];
  r->hidden = hidden;
  if (ws == NULL || wr != 3 || ws[0] != r->n_dirs || ws[1] != (gint64) n_gates * hidden || ws[2] != r->input)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE,
                                "input W must be [%u, %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] "
                                "(directions, %u * hidden_size, input size)", r->n_dirs,
                                (gint64) n_gates * hidden, r->input, n_gates);
  if (hidden <= 0 || r->seq <= 0)
    return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE, "hidden_size %" G_GINT64_FORMAT " and "
                                "sequence length %" G_GINT64_FORMAT " must be positive", hidden, r->seq);

  /* R [n_dirs, G·hidden, hidden], B [n_dirs, 2·G·hidden], P [n_dirs, 3·hidden]
   * (LSTM), initial_h / initial_c [n_dirs, batch, hidden] ([batch, n_dirs,
   * hidden] in layout 1): checked here, so the host cuts read in bounds */
  {
    static const char *const names[] = { NULL, NULL, "R", "B", NULL, "initial_h", "initial_c", "P" };
    gint64 want[8][3] = {
      { 0 }, { 0 },
      { r->n_dirs, (gint64) n_gates * hidden, hidden },
      { r->n_dirs, 2 * (gint64) n_gates * hidden, 0 },
      { 0 },
      { r->layout ? r->batch : r->n_dirs, r->layout ? r->n_dirs : r->batch, hidden },
      { r->layout ? r->batch : r->n_dirs, r->layout ? r->n_dirs : r->batch, hidden },
      { r->n_dirs, 3 * hidden, 0 },
    };

    for (guint i = 2; i < 8; i++)
      {
        guint rank, want_rank = want[i][2] ? 3 : 2;
        const gint64 *s;

        if (names[i] == NULL || (i == 6 && n_gates != 4) || (i == 7 && n_gates != 4) ||
            !ane_onnx_node_has_input (node, i))
          continue;
        s = ane_onnx_node_input_shape (node, i, &rank);
        if (s == NULL || rank != want_rank || s[0] != want[i][0] || s[1] != want[i][1] ||
            (want_rank == 3 && s[2] != want[i][2]))
          {
            g_autofree char *last = want_rank == 3 ? g_strdup_printf (", %" G_GINT64_FORMAT, want[i][2]) : g_strdup ("");

            return ane_onnx_node_error (node, error, ANE_ERROR_SHAPE,
                                        "input %s must be [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "%s]", names[i],
                                        want[i][0], want[i][1], last);
          }
      }
  }

  /* sequence_lens (input 4): fine only when every sequence is full length */
  if (ane_onnx_node_has_input (node, 4))
    {
      g_autoptr(GError) local = NULL;
      gsize n = 0;
      g_autofree gint64 *lens = ane_onnx_node_input_int64s (node, 4, "sequence_lens", &n, &local);

      if (lens == NULL)
        return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                    "sequence_lens is only known at run time; only full-length "
                                    "sequences are supported");
      for (gsize i = 0; i < n; i++)
        if (lens[i] != r->seq)
          return ane_onnx_node_error (node, error, ANE_ERROR_UNSUPPORTED,
                                      "sequence_lens[%" G_GSIZE_FORMAT "] is %" G_GINT64_FORMAT
                                      "; only full-length sequences (%" G_GINT64_FORMAT ") are supported",
                                      i, lens[i], r->seq);
    }
  return TRUE;
}

/* X as [seq, batch, input] (layout 1 is [batch, seq, input]). */
static AneTensor *
time_major_x (Rnn     *r,
              GError **error)
{
  static const gint64 swap[] = { 1, 0, 2 };
  AneTensor *x = ane_onnx_node_input (r->node, 0, error);

  if (x == NULL)
    return NULL;
  return r->layout ? ane_graph_transpose (r->g, x, swap, 3, error) : g_object_ref (x);
}

/* State input i ([n_dirs, batch, hidden], or [batch, n_dirs, hidden] in
 * layout 1) for direction d as [batch, hidden]; NULL without error when
 * absent (zeros). */
static gboolean
initial_state (Rnn        *r,
               guint       i,
               guint       d,
               AneTensor **out,
               GError    **error)
{
  static const gint64 swap[] = { 1, 0, 2 };
  AneTensor *s = ane_onnx_node_input_optional (r->node, i, error);
  g_autoptr(AneTensor) t = NULL;

  *out = NULL;
  if (s == NULL)
    return error == NULL || *error == NULL;
  if (r->layout && (t = ane_graph_transpose (r->g, s, swap, 3, error)) == NULL)
    return FALSE;
  *out = direction_slice (r, t ? t : s, d, r->batch, r->hidden, error);
  return *out != NULL;
}

/* X·W_dᵀ + bias for every step at once: [seq, batch, n_gates·hidden].
 * bias is Wb + Rb of the gates in gates_with_rb (LSTM: all; GRU with
 * linear_before_reset: z and r only, since Rbh sits inside r ⊙ (...)). */
static AneTensor *
input_projection (Rnn       *r,
                  AneTensor *x_tm,
                  guint      d,
                  guint      n_rb_gates,
                  GError   **error)
{
  gint64 g_h = (gint64) r->n_gates * r->hidden;
  gint64 flat[2] = { r->seq * r->batch, r->input }, out3[3] = { r->seq, r->batch, g_h };
  AneTensor *b_all;
  g_autoptr(AneTensor) w = NULL;
  g_autoptr(AneTensor) x2 = NULL;
  g_autoptr(AneTensor) xw = NULL;
  g_autoptr(AneTensor) b = NULL;
  g_autoptr(AneTensor) wb = NULL;
  g_autoptr(AneTensor) rb = NULL;
  g_autoptr(AneTensor) bias = NULL;
  g_autoptr(AneTensor) with_bias = NULL;

  if ((w = weight_of (r, 1, d, g_h, r->input, "W", error)) == NULL ||
      (x2 = reshape (r, x_tm, flat, 2, error)) == NULL ||
      (xw = ane_graph_matmul (r->g, x2, w, FALSE, TRUE, error)) == NULL)
    return NULL;
  if (ane_onnx_node_input_is_constant (r->node, 3) &&
      ane_dtype_is_float (ane_onnx_node_input_dtype (r->node, 3)))
    {
      /* Wb + Rb (of the first n_rb_gates gates) summed on the host */
      AneTensor *c = ane_onnx_node_input_constant (r->node, 3);
      gint64 shape[2] = { 1, g_h };
      g_autofree float *v = g_new (float, g_h);
      g_autofree char *name = g_strdup_printf ("%s_bias%s", ane_onnx_node_name (r->node), d ? "_reverse" : "");
      g_autoptr(AneTensor) host = NULL;
      AneTensor *t;

      for (gint64 k = 0; k < g_h; k++)
        {
          double sum = ane_tensor_get_value (c, d * 2 * g_h + k);

          if (k < (gint64) n_rb_gates * r->hidden)
            sum += ane_tensor_get_value (c, d * 2 * g_h + g_h + k);
          v[k] = (float) sum;
        }
      if ((host = ane_tensor_new_from_floats (name, shape, 2, v, g_h, error)) == NULL ||
          (t = ane_onnx_node_const (r->node, host, error)) == NULL ||
          (with_bias = ane_graph_add (r->g, xw, t, error)) == NULL)
        return NULL;
      return reshape (r, with_bias, out3, 3, error);
    }
  b_all = ane_onnx_node_input_optional (r->node, 3, error);
  if (b_all == NULL)
    {
      if (error != NULL && *error != NULL)
        return NULL;
      return reshape (r, xw, out3, 3, error);
    }
  /* B is [n_dirs, 2·n_gates·hidden]: Wb of every gate, then Rb */
  if ((b = direction_slice (r, b_all, d, 1, 2 * g_h, error)) == NULL ||
      (wb = ane_graph_narrow (r->g, b, 1, 0, g_h, error)) == NULL)
    return NULL;
  if (n_rb_gates > 0)
    {
      g_autoptr(AneTensor) rb_part = NULL;

      if ((rb_part = ane_graph_narrow (r->g, b, 1, g_h, (gint64) n_rb_gates * r->hidden, error)) == NULL)
        return NULL;
      if (n_rb_gates < r->n_gates)
        {
          g_autoptr(AneTensor) zeros = NULL;
          g_autoptr(AneTensor) zero = ane_graph_scalar (r->g, r->dtype, 0.0, error);
          gint64 zs[2] = { 1, (gint64) (r->n_gates - n_rb_gates) * r->hidden };
          AneTensor *parts[2];

          if (zero == NULL || (zeros = ane_graph_expand (r->g, zero, zs, 2, error)) == NULL)
            return NULL;
          parts[0] = rb_part;
          parts[1] = zeros;
          rb = ane_graph_concat (r->g, parts, 2, 1, error);
        }
      else
        rb = g_object_ref (rb_part);
      if (rb == NULL || (bias = ane_graph_add (r->g, wb, rb, error)) == NULL)
        return NULL;
    }
  else
    bias = g_object_ref (wb);
  if ((with_bias = ane_graph_add (r->g, xw, bias, error)) == NULL)
    return NULL;
  return reshape (r, with_bias, out3, 3, error);
}

/* Step t of a [seq, batch, G] projection, as [batch, G]. */
static AneTensor *
step_of (Rnn       *r,
         AneTensor *proj,
         gint64     t,
         GError   **error)
{
  gint64 shape[2] = { r->batch, (gint64) r->n_gates * r->hidden };
  g_autoptr(AneTensor) one = ane_graph_narrow (r->g, proj, 0, t, 1, error);

  return one == NULL ? NULL : reshape (r, one, shape, 2, error);
}

/* Y ([seq, n_dirs, batch, hidden], layout 1: [batch, seq, n_dirs, hidden])
 * from each direction's per-step states (in time order), and the last
 * states ([n_dirs, batch, hidden], layout 1: [batch, n_dirs, hidden]). */
static gboolean
set_outputs (Rnn        *r,
             AneTensor **steps,     /* [n_dirs * seq], [batch, hidden] each */
             AneTensor **last_h,    /* [n_dirs] */
             AneTensor **last_c,    /* [n_dirs] or NULL (GRU) */
             GError    **error)
{
  static const gint64 y_perm[] = { 2, 0, 1, 3 }, s_perm[] = { 1, 0, 2 };
  gint64 s4[4] = { 1, 1, r->batch, r->hidden }, s3[3] = { 1, r->batch, r->hidden };
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree AneTensor **per_dir = g_new0 (AneTensor *, r->n_dirs);
  g_autofree AneTensor **per_t = g_new0 (AneTensor *, r->seq);
  AneTensor *lasts[2];

  if (ane_onnx_node_output_wanted (r->node, 0))
    {
      g_autoptr(AneTensor) y = NULL;

      for (guint d = 0; d < r->n_dirs; d++)
        {
          for (gint64 t = 0; t < r->seq; t++)
            {
              per_t[t] = reshape (r, steps[d * r->seq + t], s4, 4, error);
              if (per_t[t] == NULL)
                return FALSE;
              g_ptr_array_add (keep, per_t[t]);
            }
          per_dir[d] = r->seq == 1 ? g_object_ref (per_t[0]) : ane_graph_concat (r->g, per_t, r->seq, 0, error);
          if (per_dir[d] == NULL)
            return FALSE;
          g_ptr_array_add (keep, per_dir[d]);
        }
      y = r->n_dirs == 1 ? g_object_ref (per_dir[0]) : ane_graph_concat (r->g, per_dir, r->n_dirs, 1, error);
      if (y == NULL)
        return FALSE;
      if (!ane_onnx_node_set_output (r->node, 0, r->layout ? ane_graph_transpose (r->g, y, y_perm, 4, error)
                                                           : g_object_ref (y), error))
        return FALSE;
    }
  for (guint o = 1; o <= (last_c ? 2u : 1u); o++)
    {
      AneTensor **src = o == 1 ? last_h : last_c;
      g_autoptr(AneTensor) s = NULL;

      if (!ane_onnx_node_output_wanted (r->node, o))
        continue;
      for (guint d = 0; d < r->n_dirs; d++)
        {
          lasts[d] = reshape (r, src[d], s3, 3, error);
          if (lasts[d] == NULL)
            return FALSE;
          g_ptr_array_add (keep, lasts[d]);
        }
      s = r->n_dirs == 1 ? g_object_ref (lasts[0]) : ane_graph_concat (r->g, lasts, r->n_dirs, 0, error);
      if (s == NULL)
        return FALSE;
      if (!ane_onnx_node_set_output (r->node, o, r->layout ? ane_graph_transpose (r->g, s, s_perm, 3, error)
                                                           : g_object_ref (s), error))
        return FALSE;
    }
  return TRUE;
}

/* --- LSTM ----------------------------------------------------------------------- */

/* One direction of an LSTM. Operators.md "LSTM" (default activations):
 *   it = σ(Xt·Wiᵀ + Ht-1·Riᵀ + Pi ⊙ Ct-1 + Wbi + Rbi)
 *   ft = σ(Xt·Wfᵀ + Ht-1·Rfᵀ + Pf ⊙ Ct-1 + Wbf + Rbf)
 *   ct = tanh(Xt·Wcᵀ + Ht-1·Rcᵀ + Wbc + Rbc)
 *   Ct = ft ⊙ Ct-1 + it ⊙ ct
 *   ot = σ(Xt·Woᵀ + Ht-1·Roᵀ + Po ⊙ Ct + Wbo + Rbo)
 *   Ht = ot ⊙ tanh(Ct)
 * with W, R, B in gate order i, o, f, c and P in order i, o, f; with
 * input_forget, ft = 1 - it (coupled input and forget gates). */
static gboolean
lstm_direction (Rnn        *r,
                AneTensor  *x_tm,
                guint       d,
                gboolean    reverse,
                gboolean    input_forget,
                AneTensor **steps,
                AneTensor **last_h,
                AneTensor **last_c,
                GError    **error)
{
  g_autoptr(AneTensor) proj = input_projection (r, x_tm, d, 4, error);
  g_autoptr(AneTensor) rw = NULL;
  g_autoptr(AneTensor) p = NULL;
  g_autoptr(AneTensor) pi = NULL;
  g_autoptr(AneTensor) po = NULL;
  g_autoptr(AneTensor) pf = NULL;
  g_autoptr(AneTensor) one = NULL;
  g_autoptr(AneTensor) h = NULL;
  g_autoptr(AneTensor) c = NULL;
  AneTensor *p_all;

  if (proj == NULL || (rw = weight_of (r, 2, d, 4 * r->hidden, r->hidden, "R", error)) == NULL)
    return FALSE;
  if (ane_onnx_node_input_is_constant (r->node, 7) &&
      ((pi = host_block (r, 7, d, 0, 1, r->hidden, "Pi", error)) == NULL ||
       (po = host_block (r, 7, d, r->hidden, 1, r->hidden, "Po", error)) == NULL ||
       (pf = host_block (r, 7, d, 2 * r->hidden, 1, r->hidden, "Pf", error)) == NULL))
    return FALSE;
  p_all = pi != NULL ? NULL : ane_onnx_node_input_optional (r->node, 7, error);
  if (p_all == NULL && error != NULL && *error != NULL)
    return FALSE;
  if (p_all != NULL &&
      ((p = direction_slice (r, p_all, d, 1, 3 * r->hidden, error)) == NULL ||
       (pi = ane_graph_narrow (r->g, p, 1, 0, r->hidden, error)) == NULL ||
       (po = ane_graph_narrow (r->g, p, 1, r->hidden, r->hidden, error)) == NULL ||
       (pf = ane_graph_narrow (r->g, p, 1, 2 * r->hidden, r->hidden, error)) == NULL))
    return FALSE;
  if (!initial_state (r, 5, d, &h, error) || !initial_state (r, 6, d, &c, error))
    return FALSE;
  if (input_forget && (one = ane_graph_scalar (r->g, r->dtype, 1.0, error)) == NULL)
    return FALSE;

  for (gint64 k = 0; k < r->seq; k++)
    {
      gint64 t = reverse ? r->seq - 1 - k : k;
      g_autoptr(AneTensor) xt = step_of (r, proj, t, error);
      g_autoptr(AneTensor) hr = NULL;
      g_autoptr(AneTensor) gates = NULL;
      g_autoptr(AneTensor) gi = NULL;
      g_autoptr(AneTensor) go = NULL;
      g_autoptr(AneTensor) gf = NULL;
      g_autoptr(AneTensor) gc = NULL;
      g_autoptr(AneTensor) pic = NULL;
      g_autoptr(AneTensor) pfc = NULL;
      g_autoptr(AneTensor) poc = NULL;
      g_autoptr(AneTensor) i_pre = NULL;
      g_autoptr(AneTensor) f_pre = NULL;
      g_autoptr(AneTensor) o_pre = NULL;
      g_autoptr(AneTensor) it = NULL;
      g_autoptr(AneTensor) ft = NULL;
      g_autoptr(AneTensor) ct = NULL;
      g_autoptr(AneTensor) ot = NULL;
      g_autoptr(AneTensor) fc = NULL;
      g_autoptr(AneTensor) ic = NULL;
      g_autoptr(AneTensor) c_new = NULL;
      g_autoptr(AneTensor) tc = NULL;
      g_autoptr(AneTensor) h_new = NULL;

      if (xt == NULL)
        return FALSE;
      if (h != NULL)
        {
          if ((hr = ane_graph_matmul (r->g, h, rw, FALSE, TRUE, error)) == NULL ||
              (gates = ane_graph_add (r->g, xt, hr, error)) == NULL)
            return FALSE;
        }
      else
        gates = g_object_ref (xt);
      if ((gi = gate (r, gates, 0, error)) == NULL || (go = gate (r, gates, 1, error)) == NULL ||
          (gf = gate (r, gates, 2, error)) == NULL || (gc = gate (r, gates, 3, error)) == NULL)
        return FALSE;
      if (pi != NULL && c != NULL &&
          ((pic = ane_graph_mul (r->g, pi, c, error)) == NULL || (pfc = ane_graph_mul (r->g, pf, c, error)) == NULL))
        return FALSE;
      if ((i_pre = add_maybe (r, gi, pic, error)) == NULL || (it = sigmoid (r, i_pre, error)) == NULL ||
          (ct = tanh_of (r, gc, error)) == NULL)
        return FALSE;
      if (input_forget)
        ft = ane_graph_sub (r->g, one, it, error);
      else if ((f_pre = add_maybe (r, gf, pfc, error)) != NULL)
        ft = sigmoid (r, f_pre, error);
      if (ft == NULL || (ic = ane_graph_mul (r->g, it, ct, error)) == NULL)
        return FALSE;
      if (c != NULL)
        {
          if ((fc = ane_graph_mul (r->g, ft, c, error)) == NULL ||
              (c_new = ane_graph_add (r->g, fc, ic, error)) == NULL)
            return FALSE;
        }
      else
        c_new = g_object_ref (ic);
      if (po != NULL && (poc = ane_graph_mul (r->g, po, c_new, error)) == NULL)
        return FALSE;
      if ((o_pre = add_maybe (r, go, poc, error)) == NULL || (ot = sigmoid (r, o_pre, error)) == NULL ||
          (tc = ane_graph_tanh (r->g, c_new, error)) == NULL ||
          (h_new = ane_graph_mul (r->g, ot, tc, error)) == NULL)
        return FALSE;
      steps[t] = g_object_ref (h_new);
      g_clear_object (&h);
      g_clear_object (&c);
      h = g_steal_pointer (&h_new);
      c = g_steal_pointer (&c_new);
    }
  *last_h = g_steal_pointer (&h);
  *last_c = g_steal_pointer (&c);
  return TRUE;
}

static void
free_tensors (AneTensor **v,
              gsize       n)
{
  for (gsize i = 0; i < n; i++)
    g_clear_object (&v[i]);
  g_free (v);
}

static gboolean
convert_lstm (AneOnnxNode *node,
              GError     **error)
{
  Rnn r;
  gint64 input_forget;
  g_autoptr(AneTensor) x_tm = NULL;
  AneTensor **steps = NULL;
  AneTensor *last_h[2] = { NULL, NULL }, *last_c[2] = { NULL, NULL };
  gboolean ok = FALSE;

  if (!rnn_init (&r, node, 4, error) ||
      !ane_onnx_node_attr_int (node, "input_forget", 0, &input_forget, error))
    return FALSE;
  if ((x_tm = time_major_x (&r, error)) == NULL)
    return FALSE;
  steps = g_new0 (AneTensor *, r.n_dirs * r.seq);
  ok = TRUE;
  for (guint d = 0; ok && d < r.n_dirs; d++)
    ok = lstm_direction (&r, x_tm, d, d == 1 || r.reverse, input_forget != 0,
                         steps + d * r.seq, &last_h[d], &last_c[d], error);
  ok = ok && set_outputs (&r, steps, last_h, last_c, error);
  free_tensors (steps, r.n_dirs * r.seq);
  for (guint d = 0; d < 2; d++)
    {
      g_clear_object (&last_h[d]);
      g_clear_object (&last_c[d]);
    }
  return ok;
}

/* --- GRU ------------------------------------------------------------------------ */

/* One direction of a GRU. Operators.md "GRU" (default activations), gate
 * order z, r, h:
 *   zt = σ(Xt·Wzᵀ + Ht-1·Rzᵀ + Wbz + Rbz)
 *   rt = σ(Xt·Wrᵀ + Ht-1·Rrᵀ + Wbr + Rbr)
 *   ht = tanh(Xt·Whᵀ + (rt ⊙ Ht-1)·Rhᵀ + Rbh + Wbh)     linear_before_reset = 0
 *   ht = tanh(Xt·Whᵀ + rt ⊙ (Ht-1·Rhᵀ + Rbh) + Wbh)     linear_before_reset ≠ 0
 *   Ht = (1 - zt) ⊙ ht + zt ⊙ Ht-1 */
static gboolean
gru_direction (Rnn        *r,
               AneTensor  *x_tm,
               guint       d,
               gboolean    reverse,
               gboolean    lbr,
               AneTensor **steps,
               AneTensor **last_h,
               GError    **error)
{
  /* With lbr, Rbh is applied inside r ⊙ (...): it is added per step. */
  g_autoptr(AneTensor) proj = input_projection (r, x_tm, d, lbr ? 2 : 3, error);
  g_autoptr(AneTensor) rw = NULL;
  g_autoptr(AneTensor) rzr = NULL;
  g_autoptr(AneTensor) rh = NULL;
  g_autoptr(AneTensor) rbh = NULL;
  g_autoptr(AneTensor) one = NULL;
  g_autoptr(AneTensor) h = NULL;
  AneTensor *b_all;

  if (proj == NULL)
    return FALSE;
  /* R cut into the z, r rows and the h rows (on the host when constant) */
  if ((rzr = host_block (r, 2, d, 0, 2 * r->hidden, r->hidden, "Rzr", error)) != NULL)
    rh = host_block (r, 2, d, 2 * r->hidden * r->hidden, r->hidden, r->hidden, "Rh", error);
  else if ((error == NULL || *error == NULL) &&
           (rw = weight_of (r, 2, d, 3 * r->hidden, r->hidden, "R", error)) != NULL &&
           (rzr = ane_graph_narrow (r->g, rw, 0, 0, 2 * r->hidden, error)) != NULL)
    rh = ane_graph_narrow (r->g, rw, 0, 2 * r->hidden, r->hidden, error);
  if (rzr == NULL || rh == NULL ||
      (one = ane_graph_scalar (r->g, r->dtype, 1.0, error)) == NULL)
    return FALSE;
  b_all = ane_onnx_node_input_optional (r->node, 3, error);
  if (b_all == NULL && error != NULL && *error != NULL)
    return FALSE;
  if (lbr && b_all != NULL)
    {
      g_autoptr(AneTensor) b = NULL;

      if (ane_onnx_node_input_is_constant (r->node, 3))
        rbh = host_block (r, 3, d, 5 * r->hidden, 1, r->hidden, "Rbh", error);
      else if ((b = direction_slice (r, b_all, d, 1, 6 * r->hidden, error)) != NULL)
        rbh = ane_graph_narrow (r->g, b, 1, 5 * r->hidden, r->hidden, error);
      if (rbh == NULL)
        return FALSE;
    }
  if (!initial_state (r, 5, d, &h, error))
    return FALSE;

  for (gint64 k = 0; k < r->seq; k++)
    {
      gint64 t = reverse ? r->seq - 1 - k : k;
      g_autoptr(AneTensor) xt = step_of (r, proj, t, error);
      g_autoptr(AneTensor) xz = NULL;
      g_autoptr(AneTensor) xr = NULL;
      g_autoptr(AneTensor) xh = NULL;
      g_autoptr(AneTensor) hzr = NULL;
      g_autoptr(AneTensor) hz = NULL;
      g_autoptr(AneTensor) hr = NULL;
      g_autoptr(AneTensor) z_pre = NULL;
      g_autoptr(AneTensor) r_pre = NULL;
      g_autoptr(AneTensor) zt = NULL;
      g_autoptr(AneTensor) rt = NULL;
      g_autoptr(AneTensor) inner = NULL;
      g_autoptr(AneTensor) inner_b = NULL;
      g_autoptr(AneTensor) rec = NULL;
      g_autoptr(AneTensor) h_pre = NULL;
      g_autoptr(AneTensor) ht = NULL;
      g_autoptr(AneTensor) rh_prev = NULL;
      g_autoptr(AneTensor) one_minus_z = NULL;
      g_autoptr(AneTensor) a = NULL;
      g_autoptr(AneTensor) bz = NULL;
      g_autoptr(AneTensor) h_new = NULL;

      if (xt == NULL || (xz = gate (r, xt, 0, error)) == NULL || (xr = gate (r, xt, 1, error)) == NULL ||
          (xh = gate (r, xt, 2, error)) == NULL)
        return FALSE;
      if (h != NULL)
        {
          if ((hzr = ane_graph_matmul (r->g, h, rzr, FALSE, TRUE, error)) == NULL ||
              (hz = ane_graph_narrow (r->g, hzr, 1, 0, r->hidden, error)) == NULL ||
              (hr = ane_graph_narrow (r->g, hzr, 1, r->hidden, r->hidden, error)) == NULL)
            return FALSE;
        }
      if ((z_pre = add_maybe (r, xz, hz, error)) == NULL || (r_pre = add_maybe (r, xr, hr, error)) == NULL ||
          (zt = sigmoid (r, z_pre, error)) == NULL || (rt = sigmoid (r, r_pre, error)) == NULL)
        return FALSE;
      if (lbr)
        {
          /* rt ⊙ (Ht-1·Rhᵀ + Rbh); with Ht-1 = 0 that is rt ⊙ Rbh */
          if (h != NULL && (inner = ane_graph_matmul (r->g, h, rh, FALSE, TRUE, error)) == NULL)
            return FALSE;
          if (inner != NULL)
            inner_b = add_maybe (r, inner, rbh, error);
          else if (rbh != NULL)
            inner_b = g_object_ref (rbh);
          if (inner_b != NULL && (rec = ane_graph_mul (r->g, rt, inner_b, error)) == NULL)
            return FALSE;
        }
      else if (h != NULL)
        {
          if ((rh_prev = ane_graph_mul (r->g, rt, h, error)) == NULL ||
              (rec = ane_graph_matmul (r->g, rh_prev, rh, FALSE, TRUE, error)) == NULL)
            return FALSE;
        }
      if (error != NULL && *error != NULL)
        return FALSE;
      if ((h_pre = add_maybe (r, xh, rec, error)) == NULL || (ht = tanh_of (r, h_pre, error)) == NULL ||
          (one_minus_z = ane_graph_sub (r->g, one, zt, error)) == NULL ||
          (a = ane_graph_mul (r->g, one_minus_z, ht, error)) == NULL)
        return FALSE;
      if (h != NULL)
        {
          if ((bz = ane_graph_mul (r->g, zt, h, error)) == NULL || (h_new = ane_graph_add (r->g, a, bz, error)) == NULL)
            return FALSE;
        }
      else
        h_new = g_object_ref (a);
      steps[t] = g_object_ref (h_new);
      g_clear_object (&h);
      h = g_steal_pointer (&h_new);
    }
  *last_h = g_steal_pointer (&h);
  return TRUE;
}

static gboolean
convert_gru (AneOnnxNode *node,
             GError     **error)
{
  Rnn r;
  gint64 lbr;
  g_autoptr(AneTensor) x_tm = NULL;
  AneTensor **steps = NULL;
  AneTensor *last_h[2] = { NULL, NULL };
  gboolean ok;

  if (!rnn_init (&r, node, 3, error) ||
      !ane_onnx_node_attr_int (node, "linear_before_reset", 0, &lbr, error))
    return FALSE;
  if ((x_tm = time_major_x (&r, error)) == NULL)
    return FALSE;
  steps = g_new0 (AneTensor *, r.n_dirs * r.seq);
  ok = TRUE;
  for (guint d = 0; ok && d < r.n_dirs; d++)
    ok = gru_direction (&r, x_tm, d, d == 1 || r.reverse, lbr != 0,
                        steps + d * r.seq, &last_h[d], error);
  ok = ok && set_outputs (&r, steps, last_h, NULL, error);
  free_tensors (steps, r.n_dirs * r.seq);
  g_clear_object (&last_h[0]);
  g_clear_object (&last_h[1]);
  return ok;
}

/* LSTM: opset 7 dropped output_sequence, 14 added layout (Changelog.md);
 * an opset-7 model has no layout attribute, which reads as 0. GRU likewise. */
const AneOnnxConverter ane_onnx_converters_rnn[] = {
  { "LSTM", 7, convert_lstm, 0 },
  { "GRU",  7, convert_gru,  0 },
  { NULL }
};
