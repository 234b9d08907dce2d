/* runtime/coreml/ane-coreml-plan.m: the per-op device plan (MLComputePlan)
 *
 * Reads, for every operation of an ML Program, the devices CoreML prefers
 * and supports and its estimated share of the cost, from MLComputePlan
 * (macOS 14.4 / iOS 17.4). Objective-C, manual retain/release, like
 * ane-coreml.m, and in two parts because gcc has no Objective-C blocks:
 *
 *  - the walk over an MLComputePlan object (ane_coreml_compute_plan_walk)
 *    uses no blocks; it builds everywhere and is tested on Linux under
 *    GNUstep against the fakes of tests/coreml/fake-coreml-plan.m;
 *  - loading the plan needs +[MLComputePlan loadContentsOfURL:configuration:
 *    completionHandler:], whose handler is a block. That part is compiled
 *    only where the compiler has blocks (__BLOCKS__: clang on Apple) and
 *    HAS NEVER BEEN COMPILED OR RUN: no Mac was available. Under
 *    ANE_COREML_FAKE a synchronous fake loader stands in for it.
 *
 * Names are Apple's, as declared in CoreML.framework's headers (see
 * docs/coreml.md, "Per-op device plan").
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "runtime/coreml/ane-coreml-private.h"

#ifdef ANE_COREML_FAKE
# import "fake-coreml-plan.h"
#else
# import <Foundation/Foundation.h>
# import <CoreML/CoreML.h>
# ifdef __BLOCKS__
#  include <dispatch/dispatch.h>
# endif
#endif

/* The device classes are looked up by name at run time: they exist from
 * macOS 14 / iOS 17 on, and an older OS must get no bit, not a crash on a
 * missing class. */
static guint
device_bit (id device)
{
  static const struct {
    const char *class_name;
    guint       bit;
  } devices[] = {
    { "MLCPUComputeDevice", ANE_COMPUTE_DEVICE_CPU },
    { "MLGPUComputeDevice", ANE_COMPUTE_DEVICE_GPU },
    { "MLNeuralEngineComputeDevice", ANE_COMPUTE_DEVICE_NEURAL_ENGINE },
  };

  if (device == nil)
    return 0;
  for (guint i = 0; i < G_N_ELEMENTS (devices); i++)
    {
      Class cls = NSClassFromString ([NSString stringWithUTF8String:devices[i].class_name]);

      if (cls != Nil && [device isKindOfClass:cls])
        return devices[i].bit;
    }
  /* A device kind newer than this code: no bit rather than a wrong one. */
  return 0;
}

static char *
dup_ns (NSString *s)
{
  const char *utf8 = s != nil ? [s UTF8String] : NULL;

  return g_strdup (utf8 != NULL ? utf8 : "");
}

static void
walk_block (MLComputePlan                *plan,
            MLModelStructureProgramBlock *block,
            const char                   *function,
            guint                         depth,
            GPtrArray                    *out)
{
  NSArray *ops = block.operations;

  for (NSUInteger i = 0; i < [ops count]; i++)
    {
      MLModelStructureProgramOperation *op = [ops objectAtIndex:i];
      MLComputePlanDeviceUsage *usage = [plan computeDeviceUsageForMLProgramOperation:op];
      MLComputePlanCost *cost = [plan estimatedCostOfMLProgramOperation:op];
      NSArray *outputs = op.outputs;
      NSArray *blocks = op.blocks;
      AneCoremlPlanOp *rec = g_new0 (AneCoremlPlanOp, 1);

      rec->function = g_strdup (function);
      rec->operator_name = dup_ns (op.operatorName);
      rec->output_name = [outputs count] > 0
        ? dup_ns (((MLModelStructureProgramNamedValueType *) [outputs objectAtIndex:0]).name)
        : g_strdup ("");
      rec->depth = depth;
      /* Both are nullable in Apple's header: CoreML gives none for some
       * operations (consts, for one). */
      rec->cost = cost != nil ? cost.weight : -1.0;
      if (usage != nil)
        {
          NSArray *supported = usage.supportedComputeDevices;

          rec->preferred = device_bit (usage.preferredComputeDevice);
          for (NSUInteger k = 0; k < [supported count]; k++)
            rec->supported |= device_bit ([supported objectAtIndex:k]);
        }
      g_ptr_array_add (out, rec);

      /* Loops and conditionals: their blocks' operations follow the op. */
      for (NSUInteger k = 0; k < [blocks count]; k++)
        walk_block (plan, [blocks objectAtIndex:k], function, depth + 1, out);
    }
}

static NSInteger
cmp_names (id a, id b, void *ctx)
{
  (void) ctx;
  return (NSInteger) [(NSString *) a compare:(NSString *) b];
}

GPtrArray *
ane_coreml_compute_plan_walk (gpointer  plan_ptr,
                              GError  **error)
{
  MLComputePlan *plan = plan_ptr;
  NSAutoreleasePool *pool;
  MLModelStructureProgram *program;
  GPtrArray *out = NULL;

  g_return_val_if_fail (plan_ptr != NULL, NULL);

  pool = [[NSAutoreleasePool alloc] init];
  program = plan.modelStructure.program;
  if (program == nil)
    g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                 "CoreML: the model is not an ML Program (its compute plan has no program "
                 "structure); only ML Programs have a per-op plan here");
  else
    {
      NSDictionary *functions = program.functions;
      /* NSDictionary has no order: sort, so the same model gives the same list. */
      NSArray *names = [[functions allKeys] sortedArrayUsingFunction:cmp_names context:NULL];

      out = g_ptr_array_new_with_free_func ((GDestroyNotify) ane_coreml_plan_op_free);
      for (NSUInteger i = 0; i < [names count]; i++)
        {
          NSString *name = [names objectAtIndex:i];
          MLModelStructureProgramFunction *fn = [functions objectForKey:name];
          g_autofree char *fname = dup_ns (name);

          walk_block (plan, fn.block, fname, 0, out);
        }
    }
  [pool drain];
  return out;
}

/* ---- loading ----------------------------------------------------------- */

#if defined(ANE_COREML_FAKE)
# define HAVE_PLAN_LOADER 1
/* The fakes load synchronously (gcc has no blocks for the real API). */
static MLComputePlan *
load_plan (NSURL                *url,
           MLModelConfiguration *config,
           NSError             **ns_error)
{
  return [[MLComputePlan fakeLoadContentsOfURL:url configuration:config error:ns_error] retain];
}
#elif defined(__BLOCKS__)
# define HAVE_PLAN_LOADER 1
/* NEVER COMPILED OR RUN (no Mac was available): written from Apple's
 * MLComputePlan.h. The completion handler runs on a queue of CoreML's; this
 * thread waits for it on a semaphore, so it must not be a queue CoreML calls
 * the handler on (Apple does not say which; callers here are the library's
 * own threads or the tool's main thread, not a dispatch queue). */
static MLComputePlan *
load_plan (NSURL                *url,
           MLModelConfiguration *config,
           NSError             **ns_error)
{
  __block MLComputePlan *loaded = nil;
  __block NSError *load_error = nil;
  dispatch_semaphore_t done = dispatch_semaphore_create (0);

  [MLComputePlan loadContentsOfURL:url
                     configuration:config
                 completionHandler:^(MLComputePlan *plan, NSError *e) {
                   loaded = [plan retain];     /* released by the caller */
                   load_error = [e retain];
                   dispatch_semaphore_signal (done);
                 }];
  dispatch_semaphore_wait (done, DISPATCH_TIME_FOREVER);
  dispatch_release (done);
  if (ns_error != NULL)
    *ns_error = [load_error autorelease];
  else
    [load_error release];
  return loaded;
}
#else
# define HAVE_PLAN_LOADER 0
#endif

GPtrArray *
ane_coreml_compute_plan (const char       *compiled_path,
                         AneComputeUnits   units,
                         GError          **error)
{
  gint64 ml_units = ane_coreml_compute_units_to_ml (units);
  GPtrArray *out = NULL;

  g_return_val_if_fail (compiled_path != NULL, NULL);

  if (ml_units < 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "unknown CoreML compute units %d", (int) units);
      return NULL;
    }
#if !HAVE_PLAN_LOADER
  g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
               "CoreML: this build of the shim has no Objective-C blocks, which "
               "+[MLComputePlan loadContentsOfURL:configuration:completionHandler:] needs; "
               "cannot load the compute plan of '%s'", compiled_path);
  return NULL;
#else
  {
    NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
    /* MLComputePlan exists from macOS 14.4 / iOS 17.4 on; the reference to
     * the class below is weak (API_AVAILABLE in Apple's header), so an older
     * OS gets here and must get this error, not a message to nil. */
    if (NSClassFromString (@"MLComputePlan") == Nil)
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "MLComputePlan needs CoreML.framework on macOS 14.4 / iOS 17.4 or later; "
                   "this OS has no MLComputePlan class");
    else
      {
        MLModelConfiguration *config = [[[MLModelConfiguration alloc] init] autorelease];
        NSURL *url = [NSURL fileURLWithPath:[NSString stringWithUTF8String:compiled_path]];
        NSError *ns_error = nil;
        MLComputePlan *plan;

        config.computeUnits = (MLComputeUnits) ml_units;
        plan = load_plan (url, config, &ns_error);
        if (plan == nil)
          {
            g_autofree char *what = g_strdup_printf ("loading the compute plan of '%s'", compiled_path);
            ane_coreml_set_error_from_ns (error, ns_error, what);
          }
        else
          {
            out = ane_coreml_compute_plan_walk (plan, error);
            [plan release];
          }
      }
    [pool drain];
    return out;
  }
#endif
}
