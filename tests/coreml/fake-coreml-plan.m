/* fake-coreml-plan.m: fake compute-plan classes for the shim's tests (GNUstep)
 *
 * Manual retain/release, like the shim. The structure is whatever the test
 * builds; the plan answers usage and cost per operation object, as
 * CoreML's does (by identity, not by name).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib.h>

#import "fake-coreml-plan.h"

static MLComputePlan *installed_plan;
static char *load_failure;
static char *last_path;
static guint load_count;
static long last_units = -1;

void
fake_coreml_plan_set (MLComputePlan *plan)
{
  [plan retain];
  [installed_plan release];
  installed_plan = plan;
}

void fake_coreml_plan_fail_load (const char *m) { g_free (load_failure); load_failure = g_strdup (m); }
guint fake_coreml_plan_load_count (void) { return load_count; }
long fake_coreml_plan_last_compute_units (void) { return last_units; }
const char *fake_coreml_plan_last_path (void) { return last_path; }

void
fake_coreml_plan_reset (void)
{
  fake_coreml_plan_set (nil);
  g_clear_pointer (&load_failure, g_free);
  g_clear_pointer (&last_path, g_free);
  load_count = 0;
  last_units = -1;
}

static NSError *
make_error (const char *message)
{
  return [NSError errorWithDomain:@"com.apple.CoreML"
                             code:0
                         userInfo:[NSDictionary dictionaryWithObject:[NSString stringWithUTF8String:message]
                                                              forKey:NSLocalizedDescriptionKey]];
}

@implementation MLCPUComputeDevice
+ (instancetype)fakeDevice { return [[[self alloc] init] autorelease]; }
@end

@implementation MLGPUComputeDevice
+ (instancetype)fakeDevice { return [[[self alloc] init] autorelease]; }
@end

@implementation MLNeuralEngineComputeDevice
+ (instancetype)fakeDevice
{
  MLNeuralEngineComputeDevice *d = [[[self alloc] init] autorelease];
  d->_totalCoreCount = 16;
  return d;
}
- (NSInteger)totalCoreCount { return _totalCoreCount; }
@end

@implementation MLComputePlanCost
+ (instancetype)fakeCostWithWeight:(double)weight
{
  MLComputePlanCost *c = [[[self alloc] init] autorelease];
  c->_weight = weight;
  return c;
}
- (double)weight { return _weight; }
@end

@implementation MLComputePlanDeviceUsage
+ (instancetype)fakeUsageWithPreferred:(id<MLComputeDeviceProtocol>)preferred supported:(NSArray *)supported
{
  MLComputePlanDeviceUsage *u = [[[self alloc] init] autorelease];
  u->_preferredComputeDevice = [preferred retain];
  u->_supportedComputeDevices = [supported copy];
  return u;
}
- (void)dealloc
{
  [_preferredComputeDevice release];
  [_supportedComputeDevices release];
  [super dealloc];
}
- (NSArray *)supportedComputeDevices { return _supportedComputeDevices; }
- (id<MLComputeDeviceProtocol>)preferredComputeDevice { return _preferredComputeDevice; }
@end

@implementation MLModelStructureProgramNamedValueType
+ (instancetype)fakeNamed:(NSString *)name
{
  MLModelStructureProgramNamedValueType *v = [[[self alloc] init] autorelease];
  v->_name = [name copy];
  return v;
}
- (void)dealloc
{
  [_name release];
  [super dealloc];
}
- (NSString *)name { return _name; }
@end

@implementation MLModelStructureProgramOperation
+ (instancetype)fakeOperation:(NSString *)operatorName outputs:(NSArray *)outputNames blocks:(NSArray *)blocks
{
  MLModelStructureProgramOperation *op = [[[self alloc] init] autorelease];
  NSMutableArray *outputs = [NSMutableArray array];

  for (NSUInteger i = 0; i < [outputNames count]; i++)
    [outputs addObject:[MLModelStructureProgramNamedValueType fakeNamed:[outputNames objectAtIndex:i]]];
  op->_operatorName = [operatorName copy];
  op->_outputs = [outputs copy];
  op->_blocks = blocks != nil ? [blocks copy] : [[NSArray alloc] init];
  return op;
}
- (void)dealloc
{
  [_operatorName release];
  [_outputs release];
  [_blocks release];
  [super dealloc];
}
- (NSString *)operatorName { return _operatorName; }
- (NSDictionary *)inputs { return [NSDictionary dictionary]; }
- (NSArray *)outputs { return _outputs; }
- (NSArray *)blocks { return _blocks; }
@end

@implementation MLModelStructureProgramBlock
+ (instancetype)fakeBlockWithOperations:(NSArray *)operations
{
  MLModelStructureProgramBlock *b = [[[self alloc] init] autorelease];
  b->_operations = [operations copy];
  return b;
}
- (void)dealloc
{
  [_operations release];
  [super dealloc];
}
- (NSArray *)inputs { return [NSArray array]; }
- (NSArray *)outputNames { return [NSArray array]; }
- (NSArray *)operations { return _operations; }
@end

@implementation MLModelStructureProgramFunction
+ (instancetype)fakeFunctionWithBlock:(MLModelStructureProgramBlock *)block
{
  MLModelStructureProgramFunction *f = [[[self alloc] init] autorelease];
  f->_block = [block retain];
  return f;
}
- (void)dealloc
{
  [_block release];
  [super dealloc];
}
- (NSArray *)inputs { return [NSArray array]; }
- (MLModelStructureProgramBlock *)block { return _block; }
@end

@implementation MLModelStructureProgram
+ (instancetype)fakeProgramWithFunctions:(NSDictionary *)functions
{
  MLModelStructureProgram *p = [[[self alloc] init] autorelease];
  p->_functions = [functions copy];
  return p;
}
- (void)dealloc
{
  [_functions release];
  [super dealloc];
}
- (NSDictionary *)functions { return _functions; }
@end

@implementation MLModelStructure
+ (instancetype)fakeStructureWithProgram:(MLModelStructureProgram *)program
{
  MLModelStructure *s = [[[self alloc] init] autorelease];
  s->_program = [program retain];
  return s;
}
- (void)dealloc
{
  [_program release];
  [super dealloc];
}
- (MLModelStructureProgram *)program { return _program; }
@end

@implementation MLComputePlan
+ (instancetype)fakePlanWithStructure:(MLModelStructure *)structure
{
  MLComputePlan *p = [[[self alloc] init] autorelease];
  p->_modelStructure = [structure retain];
  p->_usages = [[NSMutableDictionary alloc] init];
  p->_costs = [[NSMutableDictionary alloc] init];
  return p;
}
- (void)dealloc
{
  [_modelStructure release];
  [_usages release];
  [_costs release];
  [super dealloc];
}
- (void)fakeSetUsage:(MLComputePlanDeviceUsage *)usage cost:(MLComputePlanCost *)cost forOperation:(MLModelStructureProgramOperation *)operation
{
  NSValue *key = [NSValue valueWithPointer:operation];

  if (usage != nil)
    [_usages setObject:usage forKey:key];
  else
    [_usages removeObjectForKey:key];
  if (cost != nil)
    [_costs setObject:cost forKey:key];
  else
    [_costs removeObjectForKey:key];
}
+ (instancetype)fakeLoadContentsOfURL:(NSURL *)url configuration:(MLModelConfiguration *)configuration error:(NSError **)error
{
  load_count++;
  g_free (last_path);
  last_path = g_strdup ([[url path] UTF8String]);
  last_units = configuration.computeUnits;
  if (load_failure != NULL)
    {
      if (error != NULL)
        *error = make_error (load_failure);
      g_clear_pointer (&load_failure, g_free);
      return nil;
    }
  if (installed_plan == nil)
    {
      if (error != NULL)
        *error = make_error ("fake CoreML: no compute plan installed");
      return nil;
    }
  return [[installed_plan retain] autorelease];
}
- (MLComputePlanCost *)estimatedCostOfMLProgramOperation:(MLModelStructureProgramOperation *)operation
{
  return [_costs objectForKey:[NSValue valueWithPointer:operation]];
}
- (MLComputePlanDeviceUsage *)computeDeviceUsageForMLProgramOperation:(MLModelStructureProgramOperation *)operation
{
  return [_usages objectForKey:[NSValue valueWithPointer:operation]];
}
- (MLModelStructure *)modelStructure { return _modelStructure; }
@end
