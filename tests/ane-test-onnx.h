/* ane-test-onnx.h: writing small ONNX models from C for the importer's
 * tests (hostile files, folding, control flow), with the same protobuf-c
 * schema the importer reads (proto/onnx.proto)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-glib.h"
#include "onnx.pb-c.h"

G_BEGIN_DECLS

typedef struct _AneTestOnnx AneTestOnnx;

/* A model importing the default domain at opset; its main graph is
 * ane_test_onnx_graph(). Everything it hands out lives as long as it. */
AneTestOnnx          *ane_test_onnx_new        (gint64             opset);
void                  ane_test_onnx_free       (AneTestOnnx       *b);
Onnx__ModelProto     *ane_test_onnx_model      (AneTestOnnx       *b);
Onnx__GraphProto     *ane_test_onnx_graph      (AneTestOnnx       *b);
/* A graph for a subgraph attribute (If's branches). */
Onnx__GraphProto     *ane_test_onnx_subgraph   (AneTestOnnx       *b,
                                                const char        *name);
void                  ane_test_onnx_opset      (AneTestOnnx       *b,
                                                const char        *domain,
                                                gint64             version);

/* An input of element type elem_type (ONNX's TensorProto.DataType); a
 * negative dim is symbolic, named by params[d] ("" for an unnamed one). */
void                  ane_test_onnx_input      (AneTestOnnx       *b,
                                                Onnx__GraphProto  *g,
                                                const char        *name,
                                                int                elem_type,
                                                const gint64      *dims,
                                                guint              rank,
                                                const char *const *params);
void                  ane_test_onnx_output     (AneTestOnnx       *b,
                                                Onnx__GraphProto  *g,
                                                const char        *name,
                                                int                elem_type);
/* inputs and outputs: comma-separated names ("x,,w": an absent middle input). */
Onnx__NodeProto      *ane_test_onnx_node       (AneTestOnnx       *b,
                                                Onnx__GraphProto  *g,
                                                const char        *op_type,
                                                const char        *name,
                                                const char        *inputs,
                                                const char        *outputs);
void                  ane_test_onnx_attr_int   (AneTestOnnx       *b,
                                                Onnx__NodeProto   *n,
                                                const char        *name,
                                                gint64             value);
void                  ane_test_onnx_attr_ints  (AneTestOnnx       *b,
                                                Onnx__NodeProto   *n,
                                                const char        *name,
                                                const gint64      *values,
                                                gsize              n_values);
void                  ane_test_onnx_attr_graph (AneTestOnnx       *b,
                                                Onnx__NodeProto   *n,
                                                const char        *name,
                                                Onnx__GraphProto  *graph);
void                  ane_test_onnx_attr_tensor (AneTestOnnx      *b,
                                                 Onnx__NodeProto  *n,
                                                 const char       *name,
                                                 Onnx__TensorProto *t);
/* Tensors with raw_data (float32 or int64); add to a graph's initializers
 * with ane_test_onnx_initializer(). */
Onnx__TensorProto    *ane_test_onnx_floats     (AneTestOnnx       *b,
                                                const char        *name,
                                                const gint64      *dims,
                                                guint              rank,
                                                const float       *values);
Onnx__TensorProto    *ane_test_onnx_int64s     (AneTestOnnx       *b,
                                                const char        *name,
                                                const gint64      *dims,
                                                guint              rank,
                                                const gint64      *values);
void                  ane_test_onnx_initializer (AneTestOnnx      *b,
                                                 Onnx__GraphProto *g,
                                                 Onnx__TensorProto *t);
/* Serializes the model to dir/file_name; the path (g_free). */
char                 *ane_test_onnx_write      (AneTestOnnx       *b,
                                                const char        *dir,
                                                const char        *file_name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneTestOnnx, ane_test_onnx_free)

G_END_DECLS
