/* ane-coreml-proto-private.h: the generated protobuf-c bindings of proto/
 *
 * The only header that includes the protoc-c output. Never include it from a
 * public header: protobuf-c types stay inside the library.
 *
 * Names follow protobuf-c's mangling of Apple's packages:
 * CoreML.Specification.Model         -> CoreML__Specification__Model,
 *                                       core_ml__specification__model__*()
 * CoreML.Specification.MILSpec.Value -> CoreML__Specification__MILSpec__Value,
 *                                       core_ml__specification__milspec__value__*()
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#ifndef ANE_COMPILATION
# error "ane-coreml-proto-private.h is internal to ane-glib."
#endif

#include <protobuf-c/protobuf-c.h>

#include "FeatureTypes.pb-c.h"
#include "MIL.pb-c.h"
#include "Model.pb-c.h"

/* Short aliases for the types used everywhere in mil/. */
typedef CoreML__Specification__Model                       AneCoreMLModel;
typedef CoreML__Specification__ModelDescription            AneCoreMLModelDescription;
typedef CoreML__Specification__FunctionDescription         AneCoreMLFunctionDescription;
typedef CoreML__Specification__FeatureDescription          AneCoreMLFeatureDescription;
typedef CoreML__Specification__FeatureType                 AneCoreMLFeatureType;
typedef CoreML__Specification__ArrayFeatureType            AneCoreMLArrayFeatureType;
typedef CoreML__Specification__MILSpec__Program            AneMilProgram;
typedef CoreML__Specification__MILSpec__Function           AneMilFunction;
typedef CoreML__Specification__MILSpec__Block              AneMilBlock;
typedef CoreML__Specification__MILSpec__Operation          AneMilOperation;
typedef CoreML__Specification__MILSpec__Argument           AneMilArgument;
typedef CoreML__Specification__MILSpec__Argument__Binding  AneMilBinding;
typedef CoreML__Specification__MILSpec__NamedValueType     AneMilNamedValueType;
typedef CoreML__Specification__MILSpec__ValueType          AneMilValueType;
typedef CoreML__Specification__MILSpec__TensorType         AneMilTensorType;
typedef CoreML__Specification__MILSpec__Dimension          AneMilDimension;
typedef CoreML__Specification__MILSpec__Value              AneMilValue;
typedef CoreML__Specification__MILSpec__Value__BlobFileValue AneMilBlobFileValue;
typedef CoreML__Specification__MILSpec__DataType           AneMilDataType;
