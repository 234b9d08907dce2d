/* fake-coreml.h: the subset of CoreML.framework the shim uses, as fakes
 *
 * Names, selectors and enum values follow Apple's CoreML headers so that
 * ane-glib/runtime/coreml/ane-coreml.m compiles unchanged against either.
 * Built only for the tests (GNUstep Foundation on Linux). The fake model
 * "predicts" out = 2 * in (+ the state's counter when a state is used; the
 * counter then grows by one) for every input: input "x" gives output "y",
 * any other input "n" gives "n_out".
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#import <Foundation/Foundation.h>
#include <glib.h>

typedef NSInteger MLMultiArrayDataType;
enum {
  MLMultiArrayDataTypeDouble  = 0x10000 | 64,
  MLMultiArrayDataTypeFloat64 = 0x10000 | 64,
  MLMultiArrayDataTypeFloat32 = 0x10000 | 32,
  MLMultiArrayDataTypeFloat16 = 0x10000 | 16,
  MLMultiArrayDataTypeFloat   = 0x10000 | 32,
  MLMultiArrayDataTypeInt32   = 0x20000 | 32,
};

typedef NSInteger MLComputeUnits;
enum {
  MLComputeUnitsCPUOnly = 0,
  MLComputeUnitsCPUAndGPU = 1,
  MLComputeUnitsAll = 2,
  MLComputeUnitsCPUAndNeuralEngine = 3,
};

@interface MLMultiArray : NSObject
{
  void *_data;
  NSArray *_shape;
  NSArray *_strides;
  MLMultiArrayDataType _dataType;
  NSInteger _count;
}
/* Fake: strides pad the innermost dimension to a multiple of 16 elements. */
- (instancetype)initWithShape:(NSArray *)shape dataType:(MLMultiArrayDataType)dataType error:(NSError **)error;
@property (readonly) void *dataPointer;
@property (readonly) MLMultiArrayDataType dataType;
@property (readonly) NSArray *shape;
@property (readonly) NSArray *strides;
@property (readonly) NSInteger count;
@end

@interface MLFeatureValue : NSObject
{
  MLMultiArray *_multiArrayValue;
}
+ (instancetype)featureValueWithMultiArray:(MLMultiArray *)value;
@property (readonly) MLMultiArray *multiArrayValue;
@end

@protocol MLFeatureProvider
@property (readonly) NSSet *featureNames;
- (MLFeatureValue *)featureValueForName:(NSString *)featureName;
@end

@interface MLDictionaryFeatureProvider : NSObject <MLFeatureProvider>
{
  NSDictionary *_dictionary;
}
- (instancetype)initWithDictionary:(NSDictionary *)dictionary error:(NSError **)error;
@property (readonly) NSDictionary *dictionary;
@end

@interface MLModelConfiguration : NSObject
{
  MLComputeUnits _computeUnits;
  NSString *_functionName;
}
@property (readwrite) MLComputeUnits computeUnits;
/* macOS 15 / iOS 18 (category MultiFunctions in Apple's header); answered
 * by respondsToSelector: only while fake_coreml_set_function_name_supported
 * (the default), to play an older system */
@property (readwrite, copy) NSString *functionName;
@end

@interface MLState : NSObject
{
  double _counter;
  void *_exe;            /* interpreter mode: the AneExecutable that runs predictions with this state */
  NSMutableDictionary *_buffers;   /* interpreter mode: state name -> MLMultiArray, the state's values */
}
@property (readwrite) double counter;   /* fake only */
- (void *)executable;                   /* fake only */
- (void)setExecutable:(void *)exe;      /* fake only: takes the reference */
- (NSMutableDictionary *)buffers;       /* fake only */
/* Apple's -getMultiArrayForStateNamed:handler: (MLState.h, macOS 15 /
 * iOS 18) hands a block the state's buffer; gcc has no blocks, so the fake
 * takes a function and its context instead and calls it the same way: at
 * once, with the buffer itself (read and written in place), and not at
 * all for a name the state does not have. Answered by respondsToSelector:
 * only while fake_coreml_set_state_access_supported (the default). */
- (void)getMultiArrayForStateNamed:(NSString *)stateName
                          function:(void (*)(MLMultiArray *buffer, void *context))function
                           context:(void *)context;
@end

@interface MLModel : NSObject
{
  MLModelConfiguration *_configuration;
  void *_package;        /* interpreter mode: the compiled model's AnePackage */
  void *_exe;            /* interpreter mode: its AneExecutable (stateless predictions) */
  char *_function;       /* interpreter mode: the description's default function */
}
+ (NSURL *)compileModelAtURL:(NSURL *)modelURL error:(NSError **)error;
+ (instancetype)modelWithContentsOfURL:(NSURL *)url configuration:(MLModelConfiguration *)configuration error:(NSError **)error;
@property (readonly) MLModelConfiguration *configuration;
- (MLState *)newState;
- (id<MLFeatureProvider>)predictionFromFeatures:(id<MLFeatureProvider>)input error:(NSError **)error;
- (id<MLFeatureProvider>)predictionFromFeatures:(id<MLFeatureProvider>)input usingState:(MLState *)state error:(NSError **)error;
@end

/* Fake controls (plain C). */
#ifdef __cplusplus
extern "C" {
#endif
void        fake_coreml_reset (void);
guint       fake_coreml_compile_count (void);
guint       fake_coreml_load_count (void);
guint       fake_coreml_predict_count (void);
long        fake_coreml_last_compute_units (void);
/* Non-NULL: the next compile / load / prediction fails with this message. */
void        fake_coreml_fail_compile (const char *message);
void        fake_coreml_fail_load (const char *message);
void        fake_coreml_fail_predict (const char *message);
/* The data type of output arrays (0: the same as the input's). */
void        fake_coreml_set_output_type (MLMultiArrayDataType type);
/* Pad of the innermost stride: a multiple of this many elements (default 16). */
void        fake_coreml_set_pad (NSInteger pad);
/* Interpreter mode (off by default): compiling writes the package's MIL
 * text and weights into the .mlmodelc (as a real compile does), and a
 * loaded model predicts by running that program on ane-glib's CPU
 * interpreter; each MLState keeps its own state values in MLMultiArrays
 * (padded like the others, holding the 0x7f.. sentinel until written:
 * Apple does not say what a new state holds), which a prediction reads and
 * writes. A truer device
 * than 2 * x, for testing AneExecutable's CoreML backend end to end. */
void        fake_coreml_set_interpret (gboolean interpret);
/* Whether MLState can hand out its buffers (TRUE after reset). */
void        fake_coreml_set_state_access_supported (gboolean supported);
/* Whether MLModelConfiguration has functionName (TRUE after reset). */
void        fake_coreml_set_function_name_supported (gboolean supported);
/* The functionName of the last load's configuration (NULL: none set). */
const char *fake_coreml_last_function_name (void);
#ifdef __cplusplus
}
#endif
