/* ane-private.h: internal types shared by the graph, the catalog and the evaluators
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-glib.h"

G_BEGIN_DECLS

/* Number of AneDType values (kept out of the public header: it grows). */
#define ANE_N_DTYPES (ANE_DTYPE_Q8_K + 1)

/* The most outputs any op has (top_k: values + indices; gated_delta_net: o + state). */
#define ANE_MAX_OUTPUTS 2
/* Marks an absent optional input in AneValueRef.node. */
#define ANE_NO_NODE G_MAXUINT

/* A static description of one value: dtype and shape. */
typedef struct {
  AneDType dtype;
  guint    rank;
  gint64   shape[ANE_MAX_RANK];
} AneSpec;

/* Room for "float32[1,2,3,4,5,6]" with 19-digit dims. */
#define ANE_SPEC_STRLEN 160

const char *ane_spec_format       (const AneSpec *spec,
                                   char           buf[ANE_SPEC_STRLEN]);
gboolean    ane_spec_n_elements   (const AneSpec *spec,
                                   gint64        *n_elements);
gboolean    ane_spec_equal        (const AneSpec *a,
                                   const AneSpec *b);
void        ane_spec_set_shape    (AneSpec       *spec,
                                   const gint64  *shape,
                                   guint          rank);
gboolean    ane_spec_check        (const AneSpec *spec,
                                   const char    *what,
                                   GError       **error);
void        ane_shape_strides     (const gint64  *shape,
                                   guint          rank,
                                   gint64        *strides);

/* Overflow-checked sizes (ane-types.c). */
gboolean    ane_shape_n_elements  (const gint64  *shape,
                                   guint          rank,
                                   gint64        *n_elements,
                                   GError       **error);
gboolean    ane_dtype_n_bytes     (AneDType       dtype,
                                   gint64         n_elements,
                                   gsize         *n_bytes,
                                   GError       **error);
gsize       ane_dtype_size        (AneDType       dtype);

/* Element codecs: any non-block dtype <-> double. */
void        ane_dtype_decode      (AneDType       dtype,
                                   const void    *src,
                                   gsize          n,
                                   double        *dst);
void        ane_dtype_encode      (AneDType       dtype,
                                   const double  *src,
                                   gsize          n,
                                   void          *dst);
double      ane_dtype_round       (AneDType       dtype,
                                   double         value);

/* Attributes: a{sv} GVariant dictionaries. */
GVariant     *ane_attrs_new        (const char   *first_name,
                                    ...) G_GNUC_NULL_TERMINATED;
gint64        ane_attrs_int        (GVariant     *attrs,
                                    const char   *name);
double        ane_attrs_double     (GVariant     *attrs,
                                    const char   *name);
gboolean      ane_attrs_bool       (GVariant     *attrs,
                                    const char   *name);
const char   *ane_attrs_string     (GVariant     *attrs,
                                    const char   *name);
const gint64 *ane_attrs_ints       (GVariant     *attrs,
                                    const char   *name,
                                    gsize        *n);
GVariant     *ane_attrs_ints_variant (const gint64 *values,
                                      gsize         n);
/* The "ax" attribute name into out (n values), or dflt when it is empty
 * (the shape rule has checked that it holds 0 or n). */
void          ane_attrs_ints_or    (GVariant     *attrs,
                                    const char   *name,
                                    guint         n,
                                    const gint64 *dflt,
                                    gint64       *out);

/* Axis helpers: accept negative axes numpy-style. */
gboolean    ane_normalize_axis    (gint64         axis,
                                   guint          rank,
                                   guint         *out);

G_END_DECLS
