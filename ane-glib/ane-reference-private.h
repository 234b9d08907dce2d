/* ane-reference-private.h: the IR reference evaluator's values and kernel context
 *
 * The reference evaluator is the executable specification of every op. It
 * holds every numeric value as an array of doubles, computes each op in double
 * precision with plain loops, and rounds the op's results once to their dtype
 * (fp32, fp16, bf16, integers) -- so a fp16 graph sees one rounding per op,
 * which is the contract the MIL backends are held to.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-graph-private.h"

G_BEGIN_DECLS

typedef struct {
  AneDType dtype;
  guint    rank;
  gint64   shape[ANE_MAX_RANK];
  gsize    n;       /* number of elements */
  double  *v;       /* n values; NULL for block-quantized dtypes */
  GBytes  *raw;     /* the blocks of a block-quantized dtype */
} AneRefValue;

struct _AneRefCtx {
  const AneNode      *node;
  GVariant           *attrs;
  guint               n_inputs;
  const AneRefValue **inputs;      /* NULL entries: absent optional inputs */
  guint               n_outputs;
  AneRefValue       **outputs;     /* shaped and zero-filled by the driver */
  AneRefValue        *state;       /* read_state / write_state: the persistent value */
};

AneRefValue *ane_ref_value_new         (const AneSpec     *spec);
AneRefValue *ane_ref_value_new_from_tensor (AneTensor     *tensor,
                                            GError       **error);
AneTensor   *ane_ref_value_to_tensor   (const AneRefValue *value,
                                        const char        *name,
                                        GError           **error);
void         ane_ref_value_free        (AneRefValue       *value);
void         ane_ref_value_round       (AneRefValue       *value);
/* Offset into a value broadcast against an output of rank out_rank at out_coords. */
gsize        ane_ref_broadcast_offset  (const AneRefValue *value,
                                        const gint64      *out_coords,
                                        guint              out_rank);
/* C-order flat offset of coords in shape (the inverse of ane_ref_unravel). */
gsize        ane_ref_ravel             (const gint64      *coords,
                                        const gint64      *shape,
                                        guint              rank);
/* An index read from input 'indices' (@raw) along @axis of size @dim, a
 * negative one counting from the end (numpy.take); FALSE with an
 * ANE_ERROR_INVALID_ARGUMENT naming it when it is outside [-dim, dim). */
gboolean     ane_ref_wrap_index        (double             raw,
                                        gint64             dim,
                                        guint              axis,
                                        gint64            *k,
                                        GError           **error);
void         ane_ref_unravel           (gsize              index,
                                        const gint64      *shape,
                                        guint              rank,
                                        gint64            *coords);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneRefValue, ane_ref_value_free)

/* Block dequantization (ane-quant.c): n elements, a multiple of the block size. */
gboolean     ane_dequant_blocks        (AneDType           dtype,
                                        const guint8      *blocks,
                                        gsize              n_bytes,
                                        gsize              n_elements,
                                        double            *out,
                                        GError           **error);
/* ggml's get_scale_min_k4: sub-block j's 6-bit scale and min of a q4_K /
 * q5_K block, from its 12 bytes of scales. */
void         ane_q4_K_scale_min        (int                j,
                                        const guint8      *scales,
                                        int               *sc,
                                        int               *mn);
/* The same values as floats (bit-identical: those doubles are floats), fast. */
gboolean     ane_dequant_blocks_f32    (AneDType           dtype,
                                        const guint8      *blocks,
                                        gsize              n_bytes,
                                        gsize              n_elements,
                                        float             *out,
                                        GError           **error);

/* Block quantization, the inverse (ane-quant.c): n floats, a multiple of the
 * block size, into blocks at out (n / block size × block bytes). Q8_0 and
 * Q4_0 as ggml's quantize_row_*_ref; Q4_K by a plain min/max fit (valid
 * blocks, not ggml's searched scales); other types give
 * ANE_ERROR_UNSUPPORTED. */
gboolean     ane_quant_blocks_f32      (AneDType           dtype,
                                        const float       *x,
                                        gsize              n_elements,
                                        guint8            *out,
                                        GError           **error);

/* The reference backend's entry point (ane-reference.c). */
GPtrArray   *ane_reference_run         (AneGraph          *graph,
                                        GHashTable        *params,
                                        GHashTable        *inputs,
                                        GHashTable        *states,
                                        GCancellable      *cancellable,
                                        GError           **error);

G_END_DECLS
