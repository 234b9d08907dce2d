/* ane-shape-flex-private.h: an input whose shape may vary, as Core ML declares one
 *
 * Core ML has two kinds of flexible multi-array input (FeatureTypes.proto,
 * ArrayFeatureType.ShapeFlexibility; coremltools' RangeDim and
 * EnumeratedShapes, converters/mil/input_types.py): a range per dimension
 * (a fixed dimension is the range [n, n]; an upper bound of -1 is
 * unbounded) or a set of whole shapes. Either way the array's shape field
 * is the default shape, and the MIL function declares the dimensions that
 * vary as unknown ("?").
 *
 * An AneShapeFlex is that declaration for one input: the graph keeps one
 * per flexible input (ane_graph_set_input_range, _set_input_shapes), the
 * lowering writes it into the package description, a package read back
 * gets it from there, and the executable checks every call's shape with it.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-types.h"
#include "mil/ane-coreml-proto-private.h"

G_BEGIN_DECLS

typedef enum {
  ANE_SHAPE_FLEX_RANGE = 1,       /* a range per dimension */
  ANE_SHAPE_FLEX_ENUMERATED,      /* one of a set of shapes */
} AneShapeFlexKind;

/* coremltools allows at most 128 enumerated shapes (docs-guides,
 * "Flexible Input Shapes": "You can provide up to 128 different shapes"). */
#define ANE_SHAPE_FLEX_MAX_SHAPES 128

typedef struct {
  AneShapeFlexKind kind;
  guint            rank;
  gint64           dflt[ANE_MAX_RANK];    /* the default shape: the graph input's declared one */
  /* RANGE: per dimension; a fixed dimension has lower == upper == dflt;
   * upper -1: unbounded. */
  gint64           lower[ANE_MAX_RANK];
  gint64           upper[ANE_MAX_RANK];
  /* ENUMERATED: n_shapes shapes of rank dims each, the default among them. */
  guint            n_shapes;
  gint64          *shapes;
} AneShapeFlex;

/* A range flexibility with every dimension fixed at shape (widen axes with
 * ane_shape_flex_set_range). */
AneShapeFlex *ane_shape_flex_new_fixed     (const gint64       *shape,
                                            guint               rank);
/* Enumerated shapes (n_values = n_shapes * rank, flattened); the default
 * must be one of them. Validates: every dimension at least 1, at most
 * ANE_SHAPE_FLEX_MAX_SHAPES shapes, no shape twice. what names the input
 * in errors. */
AneShapeFlex *ane_shape_flex_new_enumerated (const char        *what,
                                             const gint64      *dflt,
                                             guint              rank,
                                             const gint64      *shapes,
                                             gsize              n_values,
                                             GError           **error);
AneShapeFlex *ane_shape_flex_copy          (const AneShapeFlex *flex);
void          ane_shape_flex_free          (AneShapeFlex       *flex);
/* Makes axis a range [lower, upper] (upper -1: unbounded) around the
 * default: 1 <= lower <= default <= upper. Only on a RANGE flexibility. */
gboolean      ane_shape_flex_set_range     (AneShapeFlex       *flex,
                                            const char         *what,
                                            guint               axis,
                                            gint64              lower,
                                            gint64              upper,
                                            GError            **error);
/* Whether any dimension can differ from the default. */
gboolean      ane_shape_flex_is_flexible   (const AneShapeFlex *flex);
/* Whether shape is one the flexibility allows; ANE_ERROR_SHAPE naming the
 * input (what), the axis and the allowed sizes, or the allowed shapes. */
gboolean      ane_shape_flex_check         (const AneShapeFlex *flex,
                                            const char         *what,
                                            const gint64       *shape,
                                            guint               rank,
                                            GError            **error);
/* "[1, 3, 64..512, 64..*]" or "{[1, 3, 224, 224], [1, 3, 320, 320]}". */
char         *ane_shape_flex_to_string     (const AneShapeFlex *flex);
/* Shapes to lower the program at besides the default (each rank dims,
 * flattened into a new array of n_probes * rank values) so that every
 * dimension that may vary takes at least two values other than the
 * default: for ranges, sizes inside the range away from 1 where it can
 * (a size-1 dimension broadcasts, which is not what the other sizes do);
 * for enumerated shapes, every shape but the default. */
gint64       *ane_shape_flex_probes        (const AneShapeFlex *flex,
                                            guint              *n_probes);

/* The description of an input: sets array's enumeratedShapes or
 * shapeRange (array->shape stays the default). */
void          ane_shape_flex_describe      (const AneShapeFlex        *flex,
                                            AneCoreMLArrayFeatureType *array);
/* The flexibility an array feature declares, or NULL when it declares none
 * (or with error when what it declares is malformed: ranks that disagree
 * with the default shape, a range the default is outside of). */
AneShapeFlex *ane_shape_flex_from_array    (const AneCoreMLArrayFeatureType *array,
                                            const char                      *what,
                                            const gint64                    *dflt,
                                            guint                            rank,
                                            GError                         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneShapeFlex, ane_shape_flex_free)

G_END_DECLS
