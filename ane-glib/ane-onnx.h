/* ane-onnx.h: importing ONNX models
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#if !defined(__ANE_GLIB_INSIDE__) && !defined(ANE_COMPILATION)
# error "Only <ane-glib/ane-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "ane-types.h"
#include "ane-tensor.h"
#include "ane-graph.h"

G_BEGIN_DECLS

#define ANE_TYPE_ONNX_IMPORT_OPTIONS (ane_onnx_import_options_get_type ())

ANE_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (AneOnnxImportOptions, ane_onnx_import_options, ANE, ONNX_IMPORT_OPTIONS, GObject)

ANE_AVAILABLE_IN_0_2
AneOnnxImportOptions *ane_onnx_import_options_new             (void);
ANE_AVAILABLE_IN_0_2
void                  ane_onnx_import_options_set_input_shape (AneOnnxImportOptions *self,
                                                               const char           *name,
                                                               const gint64         *shape,
                                                               guint                 rank);
ANE_AVAILABLE_IN_0_2
void                  ane_onnx_import_options_set_input_value (AneOnnxImportOptions *self,
                                                               const char           *name,
                                                               AneTensor            *value);
ANE_AVAILABLE_IN_0_2
void                  ane_onnx_import_options_set_input_range (AneOnnxImportOptions *self,
                                                               const char           *name,
                                                               guint                 axis,
                                                               gint64                lower,
                                                               gint64                upper);
ANE_AVAILABLE_IN_0_2
void                  ane_onnx_import_options_set_input_shapes (AneOnnxImportOptions *self,
                                                                const char           *name,
                                                                const gint64         *shapes,
                                                                gsize                 n_values);
ANE_AVAILABLE_IN_0_2
char                **ane_onnx_import_options_list_inputs     (AneOnnxImportOptions *self);

ANE_AVAILABLE_IN_0_2
AneGraph             *ane_graph_load_onnx                     (const char           *path,
                                                               AneOnnxImportOptions *options,
                                                               GError              **error);

G_END_DECLS
