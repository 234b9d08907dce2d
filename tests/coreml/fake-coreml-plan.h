/* fake-coreml-plan.h: CoreML's compute-plan classes (macOS 14.4 / iOS 17.4), as fakes
 *
 * Class names, property names and selectors are Apple's, as declared in
 * CoreML.framework's headers MLComputePlan.h, MLComputePlanCost.h,
 * MLComputePlanDeviceUsage.h, MLModelStructure*.h, MLComputeDeviceProtocol.h
 * and ML{CPU,GPU,NeuralEngine}ComputeDevice.h (see docs/coreml.md, "Per-op
 * device plan"), so that ane-glib/runtime/coreml/ane-coreml-plan.m compiles
 * unchanged against either. Only what the shim reads is declared.
 *
 * Two things differ, because gcc has no Objective-C blocks:
 * +[MLComputePlan loadContentsOfURL:configuration:completionHandler:] is not
 * declared (its handler is a block); the fakes load synchronously with
 * +fakeLoadContentsOfURL:configuration:error:, which hands out the plan the
 * test installed with fake_coreml_plan_set(). Every selector that starts
 * with "fake" exists only here: Apple's classes have no public initializers
 * (init is NS_UNAVAILABLE), so the tests build their structures with these.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#import "fake-coreml.h"

@protocol MLComputeDeviceProtocol <NSObject>
@end

@interface MLCPUComputeDevice : NSObject <MLComputeDeviceProtocol>
+ (instancetype)fakeDevice;
@end

/* Apple's also has metalDevice (id<MTLDevice>); the shim does not read it. */
@interface MLGPUComputeDevice : NSObject <MLComputeDeviceProtocol>
+ (instancetype)fakeDevice;
@end

@interface MLNeuralEngineComputeDevice : NSObject <MLComputeDeviceProtocol>
{
  NSInteger _totalCoreCount;
}
+ (instancetype)fakeDevice;
@property (readonly) NSInteger totalCoreCount;
@end

@interface MLComputePlanCost : NSObject
{
  double _weight;
}
+ (instancetype)fakeCostWithWeight:(double)weight;
@property (readonly) double weight;
@end

@interface MLComputePlanDeviceUsage : NSObject
{
  NSArray *_supportedComputeDevices;
  id<MLComputeDeviceProtocol> _preferredComputeDevice;
}
+ (instancetype)fakeUsageWithPreferred:(id<MLComputeDeviceProtocol>)preferred supported:(NSArray *)supported;
@property (readonly, copy) NSArray *supportedComputeDevices;
@property (readonly) id<MLComputeDeviceProtocol> preferredComputeDevice;
@end

@interface MLModelStructureProgramNamedValueType : NSObject
{
  NSString *_name;
}
+ (instancetype)fakeNamed:(NSString *)name;
@property (readonly, copy) NSString *name;
@end

@interface MLModelStructureProgramOperation : NSObject
{
  NSString *_operatorName;
  NSArray *_outputs;
  NSArray *_blocks;
}
/* @outputNames: NSString names (made into named value types); @blocks: nested blocks. */
+ (instancetype)fakeOperation:(NSString *)operatorName outputs:(NSArray *)outputNames blocks:(NSArray *)blocks;
@property (readonly, copy) NSString *operatorName;
@property (readonly, copy) NSDictionary *inputs;   /* always empty here */
@property (readonly, copy) NSArray *outputs;
@property (readonly, copy) NSArray *blocks;
@end

@interface MLModelStructureProgramBlock : NSObject
{
  NSArray *_operations;
}
+ (instancetype)fakeBlockWithOperations:(NSArray *)operations;
@property (readonly, copy) NSArray *inputs;        /* always empty here */
@property (readonly, copy) NSArray *outputNames;   /* always empty here */
@property (readonly, copy) NSArray *operations;
@end

@interface MLModelStructureProgramFunction : NSObject
{
  MLModelStructureProgramBlock *_block;
}
+ (instancetype)fakeFunctionWithBlock:(MLModelStructureProgramBlock *)block;
@property (readonly, copy) NSArray *inputs;        /* always empty here */
@property (readonly) MLModelStructureProgramBlock *block;
@end

@interface MLModelStructureProgram : NSObject
{
  NSDictionary *_functions;
}
+ (instancetype)fakeProgramWithFunctions:(NSDictionary *)functions;
@property (readonly, copy) NSDictionary *functions;
@end

@interface MLModelStructure : NSObject
{
  MLModelStructureProgram *_program;
}
/* @program nil: a model that is not an ML Program (a neural network, a pipeline). */
+ (instancetype)fakeStructureWithProgram:(MLModelStructureProgram *)program;
@property (readonly) MLModelStructureProgram *program;
@end

@interface MLComputePlan : NSObject
{
  MLModelStructure *_modelStructure;
  NSMutableDictionary *_usages;   /* NSValue (operation pointer) -> usage */
  NSMutableDictionary *_costs;    /* NSValue (operation pointer) -> cost */
}
+ (instancetype)fakePlanWithStructure:(MLModelStructure *)structure;
/* nil usage / cost: CoreML could not tell for this operation. */
- (void)fakeSetUsage:(MLComputePlanDeviceUsage *)usage cost:(MLComputePlanCost *)cost forOperation:(MLModelStructureProgramOperation *)operation;
/* The synchronous stand-in for loadContentsOfURL:configuration:completionHandler:. */
+ (instancetype)fakeLoadContentsOfURL:(NSURL *)url configuration:(MLModelConfiguration *)configuration error:(NSError **)error;
- (MLComputePlanCost *)estimatedCostOfMLProgramOperation:(MLModelStructureProgramOperation *)operation;
- (MLComputePlanDeviceUsage *)computeDeviceUsageForMLProgramOperation:(MLModelStructureProgramOperation *)operation;
@property (readonly) MLModelStructure *modelStructure;
@end

/* Fake controls (plain C). */
#ifdef __cplusplus
extern "C" {
#endif
/* The plan the next loads hand out (retained; nil: none, loads fail). */
void        fake_coreml_plan_set (MLComputePlan *plan);
/* Non-NULL: the next load fails with this message. */
void        fake_coreml_plan_fail_load (const char *message);
guint       fake_coreml_plan_load_count (void);
/* The computeUnits of the configuration of the last load, -1 before any. */
long        fake_coreml_plan_last_compute_units (void);
/* The path of the URL of the last load (owned by the fakes), NULL before any. */
const char *fake_coreml_plan_last_path (void);
void        fake_coreml_plan_reset (void);
#ifdef __cplusplus
}
#endif
