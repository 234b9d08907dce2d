/* mil/lower/ane-lower.c: the lowering driver, graph -> MIL program
 *
 * Sources become function inputs (inputs, dynamic params, states) or consts
 * (consts, baked and unbound params: their bytes are streamed into
 * weight.bin when the package is written). Every other node is lowered by
 * its catalog row. Graph outputs are renamed to their output names (with a
 * cast back to the graph's dtype where the program computes in fp16).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "mil/lower/ane-lower-private.h"
#include "mil/lower/ane-lowered-private.h"
#include "mil/ane-mlpackage-private.h"

/* macOS 12..15 run the programs of iOS 15..18. */
AneMilTarget
ane_target_to_mil (AneTarget target)
{
  switch (target)
    {
    case ANE_TARGET_IOS15: case ANE_TARGET_MACOS12: return ANE_MIL_IOS15;
    case ANE_TARGET_IOS16: case ANE_TARGET_MACOS13: return ANE_MIL_IOS16;
    case ANE_TARGET_IOS17: case ANE_TARGET_MACOS14: return ANE_MIL_IOS17;
    default:                                        return ANE_MIL_IOS18;
    }
}

AneDType
ane_lower_dtype (AneLowerCtx *ctx,
                 AneDType     ir_dtype)
{
  if (ane_dtype_is_float (ir_dtype) || ane_dtype_is_block (ir_dtype))
    return ctx->compute;
  if (ir_dtype == ANE_DTYPE_INT64)
    return ANE_DTYPE_INT32;
  return ir_dtype;
}

AneSpec
ane_lower_in_spec (AneLowerCtx *ctx,
                   guint        slot)
{
  AneSpec spec = *ctx->in_spec[slot];

  spec.dtype = ane_lower_dtype (ctx, spec.dtype);
  return spec;
}

char *
ane_lower_hint (AneLowerCtx *ctx,
                const char  *suffix)
{
  return g_strdup_printf ("%s_%s", ctx->hint, suffix);
}

void
ane_lower_names_init (AneLowerNames *w,
                      AneLowerCtx   *ctx)
{
  w->ctx = ctx;
  w->names = g_ptr_array_new_with_free_func (g_free);
  w->result_stem = NULL;
}

void
ane_lower_names_clear (AneLowerNames *w)
{
  g_clear_pointer (&w->names, g_ptr_array_unref);
}

const char *
ane_lower_names_hint (AneLowerNames *w,
                      const char    *suffix)
{
  char *s;

  if (suffix == NULL)
    return w->ctx->hint;
  s = ane_lower_hint (w->ctx, suffix);
  g_ptr_array_add (w->names, s);
  return s;
}

gboolean
ane_lower_unsupported (AneLowerCtx *ctx,
                       GError     **error,
                       const char  *format,
                       ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED, "%s '%s' on %s: %s", ctx->node->op->name,
               ctx->node->name, ane_mil_target_name (ctx->target), msg);
  return FALSE;
}

gboolean
ane_lower_require_target (AneLowerCtx  *ctx,
                          AneMilTarget  min,
                          const char   *why,
                          GError      **error)
{
  if (ctx->target >= min)
    return TRUE;
  return ane_lower_unsupported (ctx, error, "%s needs target %s or later", why, ane_mil_target_name (min));
}

/* --- dtype helpers shared by the lowerings ---------------------------- */

/* Whether MIL's op at the target takes dtype for param (Apple's table, as
 * the builder checks it). */
gboolean
ane_lower_op_takes (AneLowerCtx *ctx,
                    const char  *op,
                    const char  *param,
                    AneDType     dtype)
{
  const AneMilOpDef *def = ane_mil_opdef_lookup (op, ctx->target);
  const char *types = def ? ane_mil_opdef_param_dtypes (def, param) : NULL;

  return types != NULL && ane_mil_dtypes_contain (types, ane_mil_dtype_name (dtype));
}

/* Fails the builder (sticky) with an error naming the node, op and target:
 * the value's dtype cannot be converted for op (narrow integers before
 * iOS17, whose cast takes only fp16, fp32, int32 and bool). */
static void
fail (AneLowerCtx *ctx,
      const char  *op,
      AneDType     dtype)
{
  GError *error = NULL;

  ane_lower_unsupported (ctx, &error, "MIL %s takes no %s values here, and MIL casts %s values only "
                         "from iOS17 on", op, ane_dtype_to_string (dtype), ane_dtype_to_string (dtype));
  ane_mil_builder_set_error (ctx->b, error);
}

static const char *
cast_to (AneLowerCtx   *ctx,
         const char    *op,
         const char    *value,
         AneDType       from,
         AneDType       to,
         const gint64  *shape,
         guint          rank,
         const char    *suffix,
         const char    *name)
{
  g_autofree char *hint = ane_lower_hint (ctx, suffix);
  g_autofree char *dtype_hint = g_strconcat (hint, "_dtype", NULL);

  if (!ane_lower_op_takes (ctx, "cast", "x", from))
    {
      fail (ctx, op, from);
      return value;
    }
  return ane_mil_op (ctx->b, "cast", name ? name : hint, to, shape, rank,
                     "x", value, "dtype", ane_mil_const_string (ctx->b, dtype_hint, ane_mil_dtype_name (to)),
                     NULL);
}

/* The value to pass as op's param: itself if the op takes its dtype, else
 * (narrow integers, bool) cast to int32, which holds every such value
 * exactly. *work is the dtype passed. */
const char *
ane_lower_widen (AneLowerCtx   *ctx,
                 const char    *op,
                 const char    *param,
                 const char    *value,
                 const AneSpec *spec,
                 AneDType      *work)
{
  *work = spec->dtype;
  if (ane_lower_op_takes (ctx, op, param, spec->dtype) || ane_dtype_is_float (spec->dtype))
    return value;   /* (a float the op refuses is reported by the builder) */
  *work = ANE_DTYPE_INT32;
  return cast_to (ctx, op, value, spec->dtype, ANE_DTYPE_INT32, spec->shape, spec->rank, "int32", NULL);
}

/* A result computed in work back in dtype; the final op is named after the
 * node. With saturate, integers are first clamped to dtype's range, as the
 * IR's integer results saturate. */
const char *
ane_lower_restore (AneLowerCtx  *ctx,
                   const char   *value,
                   AneDType      work,
                   AneDType      dtype,
                   const gint64 *shape,
                   guint         rank,
                   gboolean      saturate)
{
  if (work == dtype)
    return value;
  if (saturate && ane_dtype_is_integer (dtype))
    {
      gint64 lo = dtype == ANE_DTYPE_INT8 ? G_MININT8 : dtype == ANE_DTYPE_INT16 ? G_MININT16 : 0;
      gint64 hi = dtype == ANE_DTYPE_INT8 ? G_MAXINT8 : dtype == ANE_DTYPE_INT16 ? G_MAXINT16 : G_MAXUINT8;
      g_autofree char *lo_hint = ane_lower_hint (ctx, "min_value");
      g_autofree char *hi_hint = ane_lower_hint (ctx, "max_value");
      g_autofree char *a = ane_lower_hint (ctx, "clamp_low");
      g_autofree char *b = ane_lower_hint (ctx, "clamp_high");

      g_assert (work == ANE_DTYPE_INT32 && ane_dtype_size (dtype) < 4);
      value = ane_mil_op (ctx->b, "maximum", a, work, shape, rank,
                          "x", value, "y", ane_mil_const_int (ctx->b, lo_hint, lo), NULL);
      value = ane_mil_op (ctx->b, "minimum", b, work, shape, rank,
                          "x", value, "y", ane_mil_const_int (ctx->b, hi_hint, hi), NULL);
    }
  return cast_to (ctx, "cast", value, work, dtype, shape, rank, "narrow", ctx->hint);
}

/* Integer indices for op as int32 (what the wrap arithmetic and
 * scatter_along_axis take at every target). */
const char *
ane_lower_to_int32 (AneLowerCtx   *ctx,
                    const char    *op,
                    const char    *value,
                    const AneSpec *spec)
{
  if (spec->dtype == ANE_DTYPE_INT32)
    return value;
  return cast_to (ctx, op, value, spec->dtype, ANE_DTYPE_INT32, spec->shape, spec->rank, "indices_int32", NULL);
}

const char *
ane_lower_broadcast_to (AneLowerCtx   *ctx,
                        const char    *value,
                        const AneSpec *spec,
                        const gint64  *shape,
                        guint          rank,
                        const char    *suffix,
                        const char    *name,
                        GError       **error)
{
  AneSpec x = *spec;
  gint64 xp[ANE_MAX_RANK], reps[ANE_MAX_RANK];
  guint pad = rank - x.rank;
  gboolean tiled = FALSE;
  g_autofree char *hint = suffix != NULL ? ane_lower_hint (ctx, suffix) : g_strdup (ctx->hint);
  g_autofree char *final = g_strdup (name != NULL ? name : hint);

  g_assert (rank >= x.rank);
  for (guint i = 0; i < rank; i++)
    {
      xp[i] = i < pad ? 1 : x.shape[i - pad];
      reps[i] = xp[i] == shape[i] ? 1 : shape[i];
      tiled |= reps[i] != 1;
      if (reps[i] == 0)
        {
          ane_lower_unsupported (ctx, error, "MIL tile cannot repeat a dimension 0 times "
                                 "(broadcasting a size-1 dimension to 0)");
          return NULL;
        }
    }
  if (pad > 0)
    {
      g_autofree char *shape_hint = g_strconcat (hint, "_shape", NULL);
      g_autofree char *rank_hint = g_strconcat (hint, "_rank", NULL);

      value = ane_mil_op (ctx->b, "reshape", tiled ? rank_hint : final, x.dtype, xp, rank,
                          "x", value, "shape", ane_mil_const_ints (ctx->b, shape_hint, xp, rank), NULL);
      x.rank = rank;
      memcpy (x.shape, xp, rank * sizeof (gint64));
    }
  if (tiled)
    {
      g_autofree char *reps_hint = g_strconcat (hint, "_reps", NULL);
      AneDType work;

      value = ane_lower_widen (ctx, "tile", "x", value, &x, &work);
      value = ane_mil_op (ctx->b, "tile", final, work, shape, rank,
                          "x", value, "reps", ane_mil_const_ints (ctx->b, reps_hint, reps, rank), NULL);
      value = ane_lower_restore (ctx, value, work, x.dtype, shape, rank, FALSE);
    }
  return value;
}

/* Sources are lowered by the driver; the catalog rows point here only so
 * every row is complete. */
gboolean
ane_lower_source (AneLowerCtx *ctx,
                  GError     **error)
{
  return ane_lower_unsupported (ctx, error, "sources are lowered by the driver");
}

static gboolean
is_mil_identifier (const char *name)
{
  if (!g_ascii_isalpha (name[0]) && name[0] != '_')
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_')
      return FALSE;
  return TRUE;
}

/* Names the user sees on the model's interface must survive unchanged. */
static gboolean
check_interface_name (const char  *what,
                      const char  *name,
                      GError     **error)
{
  if (ane_mil_name_is_reserved (name))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "%s '%s' is a MIL keyword, which Apple's tools rename ('%s_workaround'): "
                   "rename it to lower the graph", what, name, name);
      return FALSE;
    }
  if (is_mil_identifier (name))
    return TRUE;
  g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
               "%s '%s' is not a valid MIL identifier ([A-Za-z_][A-Za-z0-9_]*): "
               "rename it to lower the graph", what, name);
  return FALSE;
}

gboolean
ane_lower_check_interface_name (const char  *what,
                                const char  *name,
                                GError     **error)
{
  return check_interface_name (what, name, error);
}

/* Function inputs keep the graph's dtype, which CoreML must be able to feed. */
static gboolean
check_interface_dtype (const char  *what,
                       const char  *name,
                       AneDType     dtype,
                       GError     **error)
{
  if (dtype == ANE_DTYPE_FLOAT32 || dtype == ANE_DTYPE_FLOAT16 || dtype == ANE_DTYPE_INT32)
    return TRUE;
  g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
               "%s '%s' has dtype %s; CoreML model interfaces take float32, float16 or int32 "
               "(cast it inside the graph)", what, name, ane_dtype_to_string (dtype));
  return FALSE;
}

static const char *
cast_if_needed (AneMilBuilder *b,
                const char    *value,
                const AneSpec *spec,
                AneDType       to,
                const char    *name)
{
  if (spec->dtype == to)
    return value;
  return ane_mil_op (b, "cast", name, to, spec->shape, spec->rank,
                     "x", value, "dtype", ane_mil_const_string (b, "cast_dtype", ane_mil_dtype_name (to)),
                     NULL);
}

AneTensor *
ane_lower_bound_value (GHashTable    *params,
                       const AneNode *node)
{
  AneTensor *bound = NULL;

  if (node->op->kind == ANE_OP_PARAM && params != NULL)
    bound = g_hash_table_lookup (params, node->name);
  return bound != NULL ? bound : node->value;
}

AneTensor *
ane_lower_source_value (AneLowerCtx   *ctx,
                        const AneNode *node)
{
  return ane_lower_bound_value (ctx->params, node);
}

/* The spec a value has on the function's interface. */
static AneSpec
interface_spec (gboolean       fp16_interface,
                const AneSpec *spec)
{
  AneSpec declared = *spec;

  if (fp16_interface && declared.dtype == ANE_DTYPE_FLOAT32)
    declared.dtype = ANE_DTYPE_FLOAT16;
  return declared;
}

/* A function input. A scalar is declared [1] and squeezed inside:
 * coremltools' milproto loader takes no rank-0 function input
 * (frontend/milproto/load.py, _load_function: "Functions input of type ...
 * not supported"), and Core ML feeds a scalar as a one-element array. */
static const char *
add_input (AneLowerCtx   *ctx,
           const char    *name,
           const AneSpec *declared)
{
  static const gint64 one = 1, axis = 0;
  g_autofree char *hint = NULL, *axes_hint = NULL;
  const char *v;

  if (declared->rank > 0)
    return ane_mil_builder_add_input (ctx->b, name, declared->dtype, declared->shape, declared->rank);
  v = ane_mil_builder_add_input (ctx->b, name, declared->dtype, &one, 1);
  hint = g_strconcat (name, "_scalar", NULL);
  axes_hint = g_strconcat (name, "_scalar_axes", NULL);
  return ane_mil_op (ctx->b, "squeeze", hint, declared->dtype, NULL, 0,
                     "x", v, "axes", ane_mil_const_ints (ctx->b, axes_hint, &axis, 1), NULL);
}

/* A float16 param in a float32 program: stored as float16 and widened by
 * constexpr_cast (iOS18 writes its parameters as inputs,
 * iOS18/compression.py) when the model loads, so the package holds it at 2
 * bytes a weight, and the CPU backend runs its products on the halves
 * (ane-cpu-vec-private.h) instead of a float copy: what issue 15 asks of
 * F16 GGUF weights ("memory equals the file"). The values are the same:
 * every half is a float. */
static const char *
half_weight (AneLowerCtx   *ctx,
             const AneNode *node,
             const AneSpec *spec)
{
  g_autofree char *half_hint = g_strconcat (node->name, "_fp16", NULL);
  g_autofree char *dtype_hint = g_strconcat (node->name, "_dtype", NULL);
  AneTensor *value = ane_lower_source_value (ctx, node);
  const char *half;

  half = value != NULL ? ane_mil_const_tensor (ctx->b, half_hint, value, ANE_DTYPE_FLOAT16)
                       : ane_mil_const_param (ctx->b, half_hint, node->name, ANE_DTYPE_FLOAT16, ANE_DTYPE_FLOAT16,
                                              spec->shape, spec->rank);
  return ane_mil_op (ctx->b, "constexpr_cast", node->name, ANE_DTYPE_FLOAT32, spec->shape, spec->rank,
                     "source_val", half, "output_dtype", ane_mil_const_string (ctx->b, dtype_hint, "fp32"), NULL);
}

static gboolean
lower_source (AneLowerCtx  *ctx,
              const char  **out,
              GError      **error)
{
  const AneNode *node = ctx->node;
  const AneSpec *spec = &node->outputs[0];
  AneDType inside = ane_lower_dtype (ctx, spec->dtype);
  AneSpec declared = interface_spec (ctx->fp16_interface, spec);
  g_autofree char *hint = NULL;
  gboolean dynamic;

  switch (node->op->kind)
    {
    case ANE_OP_INPUT:
      if (!check_interface_name ("input", node->name, error) ||
          !check_interface_dtype ("input", node->name, spec->dtype, error))
        return FALSE;
      *out = add_input (ctx, node->name, &declared);
      hint = ane_lower_hint (ctx, "cast");
      *out = cast_if_needed (ctx->b, *out, &declared, inside, hint);
      return TRUE;

    case ANE_OP_PARAM:
      dynamic = ane_attrs_bool (node->attrs, "dynamic");
      if (dynamic)
        {
          if (!check_interface_name ("dynamic param", node->name, error) ||
              !check_interface_dtype ("dynamic param", node->name, spec->dtype, error))
            return FALSE;
          *out = add_input (ctx, node->name, &declared);
          hint = ane_lower_hint (ctx, "cast");
          *out = cast_if_needed (ctx->b, *out, &declared, inside, hint);
          return TRUE;
        }
      if (ane_dtype_is_block (spec->dtype))
        *out = NULL;   /* lowered by its consumer: ane_lower_block_weight () */
      else if (spec->dtype == ANE_DTYPE_FLOAT16 && inside == ANE_DTYPE_FLOAT32 && ctx->target >= ANE_MIL_IOS18)
        *out = half_weight (ctx, node, spec);
      else if (ane_lower_source_value (ctx, node) != NULL)
        *out = ane_mil_const_tensor (ctx->b, node->name, ane_lower_source_value (ctx, node), inside);
      else
        /* Unbound: the bytes are fetched when the package is written. */
        *out = ane_mil_const_param (ctx->b, node->name, node->name, spec->dtype, inside,
                                    spec->shape, spec->rank);
      return TRUE;

    case ANE_OP_CONST:
      if (ane_dtype_is_block (spec->dtype))
        *out = NULL;   /* lowered by its consumer: ane_lower_block_weight () */
      else
        *out = ane_mil_const_tensor (ctx->b, node->name, node->value, inside);
      return TRUE;

    case ANE_OP_STATE:
      if (!check_interface_name ("state", node->name, error) ||
          !ane_lower_require_target (ctx, ANE_MIL_IOS18, "a state", error))
        return FALSE;
      /* Core ML holds states as float16 only (coremltools backend/mil/load.py
       * refuses any other state dtype when it writes a model; MLState serves
       * float16 buffers): a float state is float16 in every program, and
       * read_state / write_state cast to and from the compute dtype. */
      if (!ane_dtype_is_float (spec->dtype))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                       "state '%s' is %s: Core ML keeps states only as float16; declare the state "
                       "float16 (or float32, stored as float16) to lower the graph",
                       node->name, ane_dtype_to_string (spec->dtype));
          return FALSE;
        }
      *out = ane_mil_builder_add_state_input (ctx->b, node->name, ANE_DTYPE_FLOAT16, spec->shape, spec->rank);
      return TRUE;

    default:
      g_assert_not_reached ();
    }
}

/* int8/uint8 consts (and bound params) read only as the q of dequantize
 * ops: those ops lower them, as constexpr_affine_dequantize data when they
 * can, so no runtime int8 tensor and no second copy is made. */
static gboolean *
int8_sources_for_dequantize (AneGraph   *graph,
                             GHashTable *params,
                             gboolean   *needed)
{
  guint n_nodes = ane_graph_get_n_nodes_internal (graph);
  gboolean *deferred = g_new0 (gboolean, MAX (n_nodes, 1));
  g_autofree gboolean *other_use = g_new0 (gboolean, MAX (n_nodes, 1));
  g_autofree gboolean *used = g_new0 (gboolean, MAX (n_nodes, 1));

  for (guint i = 0; i < n_nodes; i++)
    {
      const AneNode *node = ane_graph_get_node (graph, i);

      if (!needed[i])
        continue;
      for (guint j = 0; j < node->n_inputs; j++)
        if (node->inputs[j].node != ANE_NO_NODE)
          {
            used[node->inputs[j].node] = TRUE;
            if (node->op->kind != ANE_OP_DEQUANTIZE || j != 0)
              other_use[node->inputs[j].node] = TRUE;
          }
    }
  for (guint i = 0; i < ane_graph_get_n_outputs (graph); i++)
    other_use[ane_graph_get_output (graph, i)->ref.node] = TRUE;
  for (guint i = 0; i < n_nodes; i++)
    {
      const AneNode *node = ane_graph_get_node (graph, i);
      AneDType dtype = node->outputs[0].dtype;

      deferred[i] = needed[i] && used[i] && !other_use[i] && ane_lower_bound_value (params, node) != NULL &&
                    (dtype == ANE_DTYPE_INT8 || dtype == ANE_DTYPE_UINT8) &&
                    (node->op->kind == ANE_OP_CONST ||
                     (node->op->kind == ANE_OP_PARAM && !ane_attrs_bool (node->attrs, "dynamic")));
    }
  return deferred;
}

static gboolean
consumes_blocks (AneOpKind kind)
{
  return kind == ANE_OP_DEQUANT_MATMUL || kind == ANE_OP_DEQUANT_GROUPED_MATMUL ||
         kind == ANE_OP_DEQUANT_MOE_WEIGHTS;
}

/* What the driver keeps while it lowers one graph, reached from a ctx by
 * ane_lower_input (). */
struct _AneLowerState {
  AneMilBuilder   *b;
  AneGraph        *graph;
  const AneLowerOptions *options;
  GHashTable      *block_weights;
  const char     **values;   /* per node output: its MIL value in the graph's form, or NULL */
  AneLowerView    *views;    /* per node output: its channels-first view (cf NULL: none) */
  gboolean        *lazy;     /* per node: a const or param emitted when first asked for */
  GHashTable      *shared;   /* key -> MIL value computed once for several ops (rope tables) */
};

GHashTable *
ane_lower_shared_values (AneLowerCtx *ctx)
{
  return ctx->state != NULL ? ctx->state->shared : NULL;
}

static gboolean lower_source (AneLowerCtx *ctx, const char **out, GError **error);

static void
init_ctx (AneLowerState *st,
          AneLowerCtx   *ctx,
          const AneNode *node)
{
  ctx->b = st->b;
  ctx->graph = st->graph;
  ctx->node = node;
  ctx->target = st->options->target;
  ctx->compute = st->options->precision;
  ctx->hint = node->name;
  ctx->n_inputs = node->n_inputs;
  ctx->block_weights = st->block_weights;
  ctx->fp16_interface = (st->options->flags & ANE_LOWER_FP16_INTERFACE) != 0;
  ctx->params = st->options->params;
  ctx->profile = st->options->profile;
  ctx->state = st;
}

/* The MIL value of ref in the graph's form, made now if it is a lazy source
 * or a channels-first value (NULL for a block or deferred source: their
 * consumers lower them). */
static const char *
state_value (AneLowerState *st,
             AneValueRef    ref,
             GError       **error)
{
  guint k = ref.node * ANE_MAX_OUTPUTS + ref.index;
  const AneNode *src = ane_graph_get_node (st->graph, ref.node);

  if (st->values[k] != NULL)
    return st->values[k];
  if (st->views[k].cf != NULL)
    {
      AneSpec spec = src->outputs[ref.index];

      spec.dtype = ane_dtype_is_float (spec.dtype) ? st->options->precision : spec.dtype;
      st->values[k] = ane_lower_view_graph_form (st->b, &st->views[k], &spec, src->name);
    }
  else if (st->lazy[ref.node])
    {
      AneLowerCtx ctx = { 0 };

      init_ctx (st, &ctx, src);
      if (!lower_source (&ctx, &st->values[k], error))
        return NULL;
    }
  return st->values[k];
}

gboolean
ane_lower_input_pending (AneLowerCtx *ctx,
                         guint        slot)
{
  AneValueRef ref = ctx->node->inputs[slot];

  if (ctx->state == NULL || ref.node == ANE_NO_NODE || ctx->in[slot] != NULL)
    return FALSE;
  return ctx->state->lazy[ref.node] || ctx->state->views[ref.node * ANE_MAX_OUTPUTS + ref.index].cf != NULL;
}

void
ane_lower_remember_view (AneLowerCtx        *ctx,
                         guint               slot,
                         const AneLowerView *view)
{
  AneValueRef ref = ctx->node->inputs[slot];
  AneLowerView *kept;

  if (ctx->state == NULL || ref.node == ANE_NO_NODE)
    return;
  kept = &ctx->state->views[ref.node * ANE_MAX_OUTPUTS + ref.index];
  *kept = *view;
  kept->graph_form = ctx->in[slot];
  ctx->in_view[slot] = kept;
}

const char *
ane_lower_input (AneLowerCtx  *ctx,
                 guint         slot,
                 GError      **error)
{
  if (ctx->in_node[slot] == NULL)
    return NULL;
  if (ctx->in[slot] == NULL)
    ctx->in[slot] = state_value (ctx->state, ctx->node->inputs[slot], error);
  return ctx->in[slot];
}

/* The lowering itself: the program, the weights still to be written (in
 * file order), the size weight.bin will have and what each GGUF weight
 * became. Reached only through ane_lowered_new(). */
static AneMilProgram *
lower_program (AneGraph                *graph,
               const AneLowerOptions   *options,
               GPtrArray              **blobs,
               guint64                 *weight_size,
               GPtrArray              **weight_notes,
               GError                 **error)
{
  AneMilTarget target = options->target;
  AneDType precision = options->precision;
  AneLowerFlags flags = options->flags;
  GHashTable *params = options->params;
  AneProgress *progress = options->progress;
  guint n_lowered = 0, n_to_lower = 0;
  g_autoptr(GHashTable) block_weights = g_hash_table_new (NULL, NULL);
  g_autofree gboolean *deferred = NULL;
  guint n_nodes = ane_graph_get_n_nodes_internal (graph);
  g_autoptr(AneMilBuilder) b = NULL;
  g_autofree gboolean *needed = NULL;
  g_autofree const char **values = NULL;
  g_autofree AneLowerView *views = NULL;
  g_autofree gboolean *lazy = NULL;
  g_autoptr(GHashTable) shared = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  AneLowerState st = { 0 };
  gboolean neural_engine = options->profile == ANE_LOWER_PROFILE_NEURAL_ENGINE;

  g_return_val_if_fail (precision == ANE_DTYPE_FLOAT16 || precision == ANE_DTYPE_FLOAT32, NULL);

  if (!ane_graph_validate (graph, error))
    return NULL;

  b = ane_mil_builder_new (target);
  ane_mil_builder_begin_function (b, "main");
  needed = g_new0 (gboolean, MAX (n_nodes, 1));
  values = g_new0 (const char *, MAX (n_nodes, 1) * ANE_MAX_OUTPUTS);
  ane_graph_mark_needed (graph, needed);
  deferred = int8_sources_for_dequantize (graph, params, needed);
  views = g_new0 (AneLowerView, MAX (n_nodes, 1) * ANE_MAX_OUTPUTS);
  lazy = g_new0 (gboolean, MAX (n_nodes, 1));
  /* Under the Neural Engine profile consts and params are emitted when a
   * consumer first asks for them: a rewrite that stores a weight in another
   * shape (a linear's [out, in, 1, 1] conv kernel) then leaves no unused
   * copy in weight.bin. */
  for (guint i = 0; neural_engine && i < n_nodes; i++)
    {
      const AneNode *node = ane_graph_get_node (graph, i);

      lazy[i] = needed[i] && !deferred[i] && !ane_dtype_is_block (node->outputs[0].dtype) &&
                (node->op->kind == ANE_OP_CONST ||
                 (node->op->kind == ANE_OP_PARAM && !ane_attrs_bool (node->attrs, "dynamic")));
    }
  st.b = b;
  st.graph = graph;
  st.options = options;
  st.block_weights = block_weights;
  st.values = values;
  st.views = views;
  st.lazy = lazy;
  st.shared = shared;

  /* Core ML tensors have rank 5 at most: coremltools refuses any op
   * output of rank 6 or more when it converts or optimizes a program
   * (mil/program.py, _check_invalid_tensor_rank). */
  for (guint i = 0; i < n_nodes; i++)
    {
      const AneNode *node = ane_graph_get_node (graph, i);

      for (guint j = 0; needed[i] && j < node->n_outputs; j++)
        if (node->outputs[j].rank > ANE_MIL_MAX_RANK)
          {
            g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                         "%s '%s' is rank %u: Core ML tensors have rank %d at most (reshape it to "
                         "lower the graph)", node->op->name, node->name, node->outputs[j].rank,
                         ANE_MIL_MAX_RANK);
            return NULL;
          }
    }

  /* Interface names first, so internal values never take them. */
  for (guint i = 0; i < n_nodes; i++)
    {
      const AneNode *node = ane_graph_get_node (graph, i);
      gboolean interface = node->op->kind == ANE_OP_INPUT || node->op->kind == ANE_OP_STATE ||
                           (node->op->kind == ANE_OP_PARAM && ane_attrs_bool (node->attrs, "dynamic"));

      if (needed[i] && interface)
        ane_mil_builder_reserve_name (b, node->name);   /* names are unique in a graph */
    }
  for (guint i = 0; i < ane_graph_get_n_outputs (graph); i++)
    {
      const AneGraphOutput *out = ane_graph_get_output (graph, i);
      const AneNode *src = ane_graph_get_node (graph, out->ref.node);

      if (!check_interface_name ("output", out->name, error) ||
          !check_interface_dtype ("output", out->name, src->outputs[out->ref.index].dtype, error))
        return NULL;
      if (!ane_mil_builder_reserve_name (b, out->name))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "output '%s' has the name of an input, param or state; MIL needs distinct names",
                       out->name);
          return NULL;
        }
    }

  for (guint i = 0; i < n_nodes; i++)
    n_to_lower += needed[i] ? 1 : 0;
  for (guint i = 0; i < n_nodes; i++)
    {
      const AneNode *node = ane_graph_get_node (graph, i);
      g_autofree const char **in = g_new0 (const char *, MAX (node->n_inputs, 1));
      g_autofree const AneSpec **in_spec = g_new0 (const AneSpec *, MAX (node->n_inputs, 1));
      g_autofree const AneNode **in_node = g_new0 (const AneNode *, MAX (node->n_inputs, 1));
      g_autofree AneLowerView **in_view = g_new0 (AneLowerView *, MAX (node->n_inputs, 1));
      gboolean handled = FALSE;
      AneLowerCtx ctx = { 0 };
      gboolean ok;

      if (!needed[i])
        continue;
      /* One report per op: the ops are the unit of lowering's work. */
      if (!ane_progress_report (progress, ANE_PROGRESS_STAGE_LOWERING,
                                (double) n_lowered++ / (double) n_to_lower, 0, 0, error))
        return NULL;
      if (lazy[i])
        continue;
      init_ctx (&st, &ctx, node);
      for (guint j = 0; j < node->n_inputs; j++)
        if (node->inputs[j].node != ANE_NO_NODE)
          {
            guint k = node->inputs[j].node * ANE_MAX_OUTPUTS + node->inputs[j].index;

            in[j] = values[k];
            in_view[j] = views[k].cf != NULL ? &views[k] : NULL;
            in_spec[j] = ane_graph_value_spec (graph, node->inputs[j]);
            in_node[j] = ane_graph_get_node (graph, node->inputs[j].node);
          }
      ctx.in = in;
      ctx.in_spec = in_spec;
      ctx.in_node = in_node;
      ctx.in_view = in_view;
      /* Only the dequant ops decide how a block weight is lowered; anything
       * else gets the host-dequantized dense weight. */
      if (!(node->op->flags & ANE_OP_FLAG_SOURCE) && !consumes_blocks (node->op->kind))
        for (guint j = 0; j < node->n_inputs; j++)
          if (in[j] == NULL && in_node[j] != NULL && ane_lower_is_block_source (&ctx, j))
            {
              in[j] = ane_lower_block_weight (&ctx, j, FALSE, error);
              if (in[j] == NULL)
                return NULL;
            }
      for (guint j = 0; j < node->n_outputs; j++)
        {
          ctx.out_spec[j] = node->outputs[j];
          ctx.out_spec[j].dtype = ane_lower_dtype (&ctx, node->outputs[j].dtype);
        }

      /* The Neural Engine profile's rewrite first; it may decline. */
      if (neural_engine && node->op->lower_neural_engine != NULL && !deferred[i])
        {
          if (!node->op->lower_neural_engine (&ctx, error))
            return NULL;
          for (guint j = 0; j < node->n_outputs; j++)
            handled |= ctx.out[j] != NULL || ctx.out_view[j].cf != NULL;
        }
      /* The generic lowering takes every input in the graph's form. */
      for (guint j = 0; !handled && !deferred[i] && j < node->n_inputs; j++)
        if (in[j] == NULL && in_node[j] != NULL && ane_lower_input (&ctx, j, error) == NULL &&
            error != NULL && *error != NULL)
          return NULL;
      if (handled)
        ok = TRUE;
      else if (deferred[i])
        ok = TRUE;   /* lowered by its dequantize consumers (ane-lower-quant.c) */
      else if (node->op->flags & ANE_OP_FLAG_SOURCE)
        ok = lower_source (&ctx, &ctx.out[0], error);
      else
        ok = node->op->lower (&ctx, error);
      if (!ok)
        return NULL;
      if (!ane_mil_builder_propagate_error (b, error))
        {
          g_prefix_error (error, "lowering %s '%s': ", node->op->name, node->name);
          return NULL;
        }
      for (guint j = 0; j < node->n_outputs; j++)
        {
          /* a lowering must set every output; block sources are deferred */
          g_assert (ctx.out[j] != NULL || ctx.out_view[j].cf != NULL || deferred[i] ||
                    ((node->op->flags & ANE_OP_FLAG_SOURCE) && ane_dtype_is_block (node->outputs[0].dtype)));
          values[i * ANE_MAX_OUTPUTS + j] = ctx.out[j];
          views[i * ANE_MAX_OUTPUTS + j] = ctx.out_view[j];
        }
    }

  for (guint i = 0; i < ane_graph_get_n_outputs (graph); i++)
    {
      const AneGraphOutput *out = ane_graph_get_output (graph, i);
      AneSpec declared = interface_spec ((flags & ANE_LOWER_FP16_INTERFACE) != 0,
                                         ane_graph_value_spec (graph, out->ref));
      const AneSpec *ir = &declared;
      const char *value = state_value (&st, out->ref, error);
      AneSpec inside;
      AneMilOpCall *call;
      const char *named;

      if (value == NULL)
        return NULL;

      ane_mil_builder_lookup (b, value, &inside);
      /* Always one op per output, named as the output: a cast back to the
       * graph's dtype, or an identity. */
      call = ane_mil_op_begin (b, inside.dtype == ir->dtype ? "identity" : "cast", out->name);
      ane_mil_op_arg (call, "x", value);
      if (inside.dtype != ir->dtype)
        ane_mil_op_arg (call, "dtype", ane_mil_const_string (b, "cast_dtype", ane_mil_dtype_name (ir->dtype)));
      named = ane_mil_op_output_named (call, out->name, ir->dtype, ir->shape, ir->rank);
      ane_mil_op_end (call);
      ane_mil_builder_add_output (b, named);
    }

  if (weight_notes)
    *weight_notes = g_ptr_array_ref (ane_mil_builder_get_weight_notes (b));
  {
    g_autoptr(GPtrArray) planned = NULL;
    guint64 planned_size = 0;
    AneMilProgram *program = ane_mil_builder_finish (b, &planned, &planned_size, error);
    const char *dump_dir = g_getenv ("ANE_GLIB_DUMP_DIR");

    if (program == NULL)
      return NULL;
    /* Every program the library lowers, also written for Apple's tools to
     * judge (docs/contract.md). */
    /* (a graph with flexible inputs: its merged program is dumped,
     * ane-lower-flexible.c) */
    if (dump_dir != NULL && *dump_dir != '\0' && !ane_graph_is_flexible (graph))
      ane_mlpackage_dump_lowered (dump_dir, program, target, precision, planned, planned_size, graph, params);
    if (blobs)
      *blobs = g_steal_pointer (&planned);
    if (weight_size)
      *weight_size = planned_size;
    return program;
  }
}

AneLowered *
ane_lowered_new (AneGraph               *graph,
                 const AneLowerOptions  *options,
                 GError                **error)
{
  g_autoptr(GPtrArray) blobs = NULL;
  g_autoptr(GPtrArray) notes = NULL;
  guint64 weight_size = 0;
  AneMilProgram *program;
  AneLowered *self;

  g_return_val_if_fail (ANE_IS_GRAPH (graph), NULL);
  g_return_val_if_fail (options->precision == ANE_DTYPE_FLOAT16 || options->precision == ANE_DTYPE_FLOAT32, NULL);

  program = lower_program (graph, options, &blobs, &weight_size, &notes, error);
  if (program == NULL)
    return NULL;
  if (options->describe)
    {
      AneCoreMLModel *model = ane_mlpackage_model_new (program, options->target, options->metadata,
                                                       error);   /* owns program, also on error */

      if (model == NULL)
        return NULL;
      self = ane_lowered_new_from_model (model, g_steal_pointer (&blobs), weight_size);
    }
  else
    self = ane_lowered_new_for_program (program, g_steal_pointer (&blobs), weight_size);
  self->graph = g_object_ref (graph);
  self->params = options->params ? g_hash_table_ref (options->params) : NULL;
  if (ane_graph_is_flexible (graph) && !ane_lowered_make_flexible (self, graph, options, error))
    {
      ane_lowered_free (self);
      return NULL;
    }
  g_ptr_array_add (notes, NULL);
  g_strfreev (self->notes);
  self->notes = g_strdupv ((char **) notes->pdata);
  return self;
}

AneMilProgram *
ane_lower_graph (AneGraph      *graph,
                 AneMilTarget   target,
                 AneDType       precision,
                 GPtrArray    **blobs,
                 guint64       *weight_size,
                 GError       **error)
{
  AneLowerOptions options = { .target = target, .precision = precision };
  g_autoptr(AneLowered) lowered = ane_lowered_new (graph, &options, error);
  AneMilProgram *program;

  if (lowered == NULL)
    return NULL;
  program = g_steal_pointer (&lowered->program);   /* not described: it owns the program */
  if (blobs)
    *blobs = g_steal_pointer (&lowered->blobs);
  if (weight_size)
    *weight_size = lowered->weight_size;
  return program;
}

gboolean
ane_lower_is_block_source (AneLowerCtx *ctx,
                           guint        slot)
{
  const AneNode *src = ctx->in_node[slot];

  return src != NULL && (src->op->flags & ANE_OP_FLAG_SOURCE) && ane_dtype_is_block (src->outputs[0].dtype);
}

/* A bound Q4_K weight as constexpr_blockwise_shift_scale over uint4 data
 * with per-32 scales and offsets (ane-lower-q4k.c); NULL when it has no
 * value or a sub-block is not representable (the dense path then). */
static const char *
lower_q4_K (AneLowerCtx   *ctx,
            const AneNode *src,
            gint64         n)
{
  const AneSpec *spec = &src->outputs[0];
  AneTensor *bound = ane_lower_source_value (ctx, src);
  GBytes *blocks = bound ? ane_tensor_get_data (bound) : NULL;
  g_autofree char *h_data = g_strdup_printf ("%s_qdata", src->name);
  g_autofree char *h_scale = g_strdup_printf ("%s_qscale", src->name);
  g_autofree char *h_offset = g_strdup_printf ("%s_qoffset", src->name);
  gint64 sshape[ANE_MAX_RANK];
  const char *dv, *sv, *ov, *value;

  /* checked now, taken apart when the bytes are asked for
   * (ane_mil_const_blocks): the program holds no copy */
  if (bound == NULL || spec->rank == 0 || spec->shape[spec->rank - 1] % 256 != 0 ||
      !ane_lower_split_q4_K (blocks, n / 256, ctx->compute, NULL, NULL, NULL))
    return NULL;
  memcpy (sshape, spec->shape, sizeof sshape);
  sshape[spec->rank - 1] /= 32;
  dv = ane_mil_const_blocks (ctx->b, h_data, blocks, ANE_DTYPE_Q4_K, ANE_MIL_BLOCKS_DATA, ANE_DTYPE_UINT8,
                             ctx->compute, spec->shape, spec->rank);
  /* scale has the output's dtype (DstT); the offset stays fp32 at either
   * precision (OffsetT may be any float: coremltools iOS18/compression.py) */
  sv = ane_mil_const_blocks (ctx->b, h_scale, blocks, ANE_DTYPE_Q4_K, ANE_MIL_BLOCKS_SCALE, ctx->compute,
                             ctx->compute, sshape, spec->rank);
  ov = ane_mil_const_blocks (ctx->b, h_offset, blocks, ANE_DTYPE_Q4_K, ANE_MIL_BLOCKS_OFFSET, ANE_DTYPE_FLOAT32,
                             ctx->compute, sshape, spec->rank);
  value = ane_mil_op (ctx->b, "constexpr_blockwise_shift_scale", src->name, ctx->compute,
                      spec->shape, spec->rank, "data", dv, "scale", sv, "offset", ov, NULL);
  ane_mil_builder_note_weight (ctx->b, src->name, "on device: uint4 data + per-block scales and offsets "
                                                  "(constexpr_blockwise_shift_scale)");
  return value;
}

const char *
ane_lower_block_weight (AneLowerCtx  *ctx,
                        guint         slot,
                        gboolean      on_device,
                        GError      **error)
{
  const AneNode *src = ctx->in_node[slot];
  const AneSpec *spec = &src->outputs[0];
  const char *value = g_hash_table_lookup (ctx->block_weights, src);
  gint64 n = 1;

  if (value != NULL)
    return value;
  for (guint i = 0; i < spec->rank; i++)
    n *= spec->shape[i];
  if (on_device && ctx->target >= ANE_MIL_IOS18 && ane_lower_source_value (ctx, src) != NULL &&
      (spec->dtype == ANE_DTYPE_Q8_0 || spec->dtype == ANE_DTYPE_Q4_0))
    {
      GBytes *blocks = ane_tensor_get_data (ane_lower_source_value (ctx, src));
      g_autofree char *h_data = g_strdup_printf ("%s_qdata", src->name);
      g_autofree char *h_scale = g_strdup_printf ("%s_qscale", src->name);
      gint64 sshape[ANE_MAX_RANK];
      const char *dv, *sv;
      gboolean q8 = spec->dtype == ANE_DTYPE_Q8_0;

      memcpy (sshape, spec->shape, sizeof sshape);
      sshape[spec->rank - 1] /= 32;
      if (g_bytes_get_size (blocks) != (gsize) (n / 32) * ane_dtype_block_bytes (spec->dtype))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE, "weight '%s': block bytes do not match its shape", src->name);
          return NULL;
        }
      /* Q8_0 / Q4_0 blocks (ggml-common.h) taken apart into MIL's blockwise
       * form: data [..., K] (int8, or int4 = q - 8 packed two per byte, low
       * nibble first) and scale [..., K/32] = the blocks' fp16 d, so that
       * constexpr_blockwise_shift_scale gives scale * data, exactly ggml's
       * d * q. Both consts reference the blocks; their bytes are made when
       * asked for (ane_mil_const_blocks), never held as a copy. */
      dv = ane_mil_const_blocks (ctx->b, h_data, blocks, spec->dtype, ANE_MIL_BLOCKS_DATA, ANE_DTYPE_INT8,
                                 ctx->compute, spec->shape, spec->rank);
      sv = ane_mil_const_blocks (ctx->b, h_scale, blocks, spec->dtype, ANE_MIL_BLOCKS_SCALE, ctx->compute,
                                 ctx->compute, sshape, spec->rank);
      value = ane_mil_op (ctx->b, "constexpr_blockwise_shift_scale", src->name, ctx->compute,
                          spec->shape, spec->rank, "data", dv, "scale", sv, NULL);
      ane_mil_builder_note_weight (ctx->b, src->name, q8 ? "on device: int8 data + per-block scales "
                                                             "(constexpr_blockwise_shift_scale)"
                                                          : "on device: int4 data + per-block scales "
                                                            "(constexpr_blockwise_shift_scale)");
    }
  else if (on_device && ctx->target >= ANE_MIL_IOS18 && spec->dtype == ANE_DTYPE_Q4_K &&
           (value = lower_q4_K (ctx, src, n)) != NULL)
    ;   /* uint4 data, scales and offsets (ane-lower-q4k.c) */
  else
    {
      value = ane_mil_const_param (ctx->b, src->name, src->name, spec->dtype, ctx->compute, spec->shape, spec->rank);
      ane_mil_builder_note_weight (ctx->b, src->name,
                                   ctx->compute == ANE_DTYPE_FLOAT16 ? "dequantized on the host to fp16"
                                                                     : "dequantized on the host to fp32");
    }
  g_hash_table_insert (ctx->block_weights, (gpointer) src, (gpointer) value);
  return value;
}
