/* fake-coreml.m: fake CoreML classes for the shim's tests (GNUstep)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "ane-private.h"
#include "ane-glib.h"
#import "fake-coreml.h"

static guint compile_count, load_count, predict_count;
static long last_units = -1;
static char *compile_failure, *load_failure, *predict_failure;
static MLMultiArrayDataType output_type;
static NSInteger pad = 16;
static gboolean interpret;
static gboolean function_name_supported = TRUE;
static gboolean state_access_supported = TRUE;
static char *last_function_name;

void fake_coreml_reset (void)
{
  compile_count = load_count = predict_count = 0;
  last_units = -1;
  g_clear_pointer (&compile_failure, g_free);
  g_clear_pointer (&load_failure, g_free);
  g_clear_pointer (&predict_failure, g_free);
  output_type = 0;
  pad = 16;
  interpret = FALSE;
  function_name_supported = TRUE;
  state_access_supported = TRUE;
  g_clear_pointer (&last_function_name, g_free);
}
void fake_coreml_set_function_name_supported (gboolean supported) { function_name_supported = supported; }
void fake_coreml_set_state_access_supported (gboolean supported) { state_access_supported = supported; }
const char *fake_coreml_last_function_name (void) { return last_function_name; }
guint fake_coreml_compile_count (void) { return compile_count; }
guint fake_coreml_load_count (void) { return load_count; }
guint fake_coreml_predict_count (void) { return predict_count; }
long fake_coreml_last_compute_units (void) { return last_units; }
void fake_coreml_fail_compile (const char *m) { g_free (compile_failure); compile_failure = g_strdup (m); }
void fake_coreml_fail_load (const char *m) { g_free (load_failure); load_failure = g_strdup (m); }
void fake_coreml_fail_predict (const char *m) { g_free (predict_failure); predict_failure = g_strdup (m); }
void fake_coreml_set_output_type (MLMultiArrayDataType t) { output_type = t; }
void fake_coreml_set_pad (NSInteger p) { pad = p > 0 ? p : 1; }
void fake_coreml_set_interpret (gboolean on) { interpret = on; }

/* Takes the pending failure: an autoreleased NSError with the message. */
static NSError *
take_failure (char **failure, NSError **error)
{
  NSError *e = [NSError errorWithDomain:@"com.apple.CoreML"
                                   code:0
                               userInfo:[NSDictionary dictionaryWithObject:[NSString stringWithUTF8String:*failure]
                                                                    forKey:NSLocalizedDescriptionKey]];
  g_clear_pointer (failure, g_free);
  if (error != NULL)
    *error = e;
  return e;
}

static NSInteger
elem_bytes (MLMultiArrayDataType t)
{
  return (t & 0xffff) / 8;
}

@implementation MLMultiArray
- (instancetype)initWithShape:(NSArray *)shape dataType:(MLMultiArrayDataType)dataType error:(NSError **)error
{
  NSUInteger rank = [shape count];
  NSMutableArray *strides = [NSMutableArray arrayWithCapacity:rank];
  NSInteger stride = 1, count = 1;

  if ((self = [super init]) == nil)
    return nil;
  if (dataType != MLMultiArrayDataTypeFloat32 && dataType != MLMultiArrayDataTypeFloat16 &&
      dataType != MLMultiArrayDataTypeInt32 && dataType != MLMultiArrayDataTypeDouble)
    {
      char *m = g_strdup ("unsupported data type");
      take_failure (&m, error);
      [self release];
      return nil;
    }
  /* Row-major, the innermost dimension padded to a multiple of pad. */
  for (NSUInteger i = rank; i-- > 0;)
    {
      NSInteger dim = [[shape objectAtIndex:i] integerValue];
      [strides insertObject:[NSNumber numberWithInteger:stride] atIndex:0];
      if (i == rank - 1)
        stride = ((dim + pad - 1) / pad) * pad;
      else
        stride *= dim;
      count *= dim;
    }
  _dataType = dataType;
  _shape = [shape copy];
  _strides = [strides copy];
  _count = count;
  /* Fill the padding with a sentinel that would show up if it were read. */
  _data = g_malloc (MAX (stride, 1) * elem_bytes (dataType));
  memset (_data, 0x7f, MAX (stride, 1) * elem_bytes (dataType));
  return self;
}
- (void)dealloc
{
  g_free (_data);
  [_shape release];
  [_strides release];
  [super dealloc];
}
- (void *)dataPointer { return _data; }
- (MLMultiArrayDataType)dataType { return _dataType; }
- (NSArray *)shape { return _shape; }
- (NSArray *)strides { return _strides; }
- (NSInteger)count { return _count; }
@end

@implementation MLFeatureValue
+ (instancetype)featureValueWithMultiArray:(MLMultiArray *)value
{
  MLFeatureValue *v = [[[self alloc] init] autorelease];
  v->_multiArrayValue = [value retain];
  return v;
}
- (void)dealloc
{
  [_multiArrayValue release];
  [super dealloc];
}
- (MLMultiArray *)multiArrayValue { return _multiArrayValue; }
@end

@implementation MLDictionaryFeatureProvider
- (instancetype)initWithDictionary:(NSDictionary *)dictionary error:(NSError **)error
{
  (void) error;
  if ((self = [super init]) != nil)
    _dictionary = [dictionary copy];
  return self;
}
- (void)dealloc
{
  [_dictionary release];
  [super dealloc];
}
- (NSDictionary *)dictionary { return _dictionary; }
- (NSSet *)featureNames { return [NSSet setWithArray:[_dictionary allKeys]]; }
- (MLFeatureValue *)featureValueForName:(NSString *)featureName { return [_dictionary objectForKey:featureName]; }
@end

@implementation MLModelConfiguration
- (instancetype)init
{
  if ((self = [super init]) != nil)
    _computeUnits = MLComputeUnitsAll;
  return self;
}
- (MLComputeUnits)computeUnits { return _computeUnits; }
- (void)setComputeUnits:(MLComputeUnits)units { _computeUnits = units; }
- (NSString *)functionName { return _functionName; }
- (void)setFunctionName:(NSString *)name
{
  NSString *copy = [name copy];

  [_functionName release];
  _functionName = copy;
}
- (BOOL)respondsToSelector:(SEL)selector
{
  if (!function_name_supported &&
      (sel_isEqual (selector, @selector(functionName)) || sel_isEqual (selector, @selector(setFunctionName:))))
    return NO;
  return [super respondsToSelector:selector];
}
- (void)dealloc
{
  [_functionName release];
  [super dealloc];
}
@end

@implementation MLState
- (double)counter { return _counter; }
- (void)setCounter:(double)c { _counter = c; }
- (void *)executable { return _exe; }
- (void)setExecutable:(void *)exe { _exe = exe; }
- (NSMutableDictionary *)buffers
{
  if (_buffers == nil)
    _buffers = [[NSMutableDictionary alloc] init];
  return _buffers;
}
- (void)getMultiArrayForStateNamed:(NSString *)stateName
                          function:(void (*)(MLMultiArray *buffer, void *context))function
                           context:(void *)context
{
  MLMultiArray *buffer = [_buffers objectForKey:stateName];

  if (buffer != nil)
    function (buffer, context);
}
- (BOOL)respondsToSelector:(SEL)selector
{
  if (!state_access_supported && sel_isEqual (selector, @selector(getMultiArrayForStateNamed:function:context:)))
    return NO;
  return [super respondsToSelector:selector];
}
- (void)dealloc
{
  if (_exe)
    g_object_unref (_exe);
  [_buffers release];
  [super dealloc];
}
@end

@implementation MLModel
+ (NSURL *)compileModelAtURL:(NSURL *)modelURL error:(NSError **)error
{
  char *dir;
  char *file;

  compile_count++;
  if (compile_failure != NULL)
    {
      take_failure (&compile_failure, error);
      return nil;
    }
  if (![[NSFileManager defaultManager] fileExistsAtPath:[modelURL path]])
    {
      char *m = g_strdup_printf ("A valid manifest does not exist at path: %s", [[modelURL path] UTF8String]);
      take_failure (&m, error);
      return nil;
    }
  /* A fake .mlmodelc: a directory with one file, in a fresh temporary place. */
  dir = g_dir_make_tmp ("fake-XXXXXX.mlmodelc", NULL);
  file = g_build_filename (dir, "model.mil", NULL);
  if (interpret)
    {
      /* What a real .mlmodelc holds too: model.mil and weights/weight.bin. */
      GError *gerror = NULL;
      AnePackage *package = ane_package_load ([[modelURL path] UTF8String], &gerror);

      char *function = g_build_filename (dir, "default_function", NULL);

      /* MIL text has no default function: keep the description's. */
      if (package == NULL || !ane_package_save_mil (package, file, FALSE, &gerror) ||
          !g_file_set_contents (function, ane_package_get_default_function (package), -1, &gerror))
        {
          char *m = g_strdup_printf ("compiler error: %s", gerror->message);
          g_clear_error (&gerror);
          g_clear_object (&package);
          g_free (function);
          g_free (file);
          g_free (dir);
          take_failure (&m, error);
          return nil;
        }
      g_free (function);
      g_object_unref (package);
    }
  else
    g_file_set_contents (file, "fake", -1, NULL);
  g_free (file);
  {
    NSURL *url = [NSURL fileURLWithPath:[NSString stringWithUTF8String:dir]];
    g_free (dir);
    return url;
  }
}
+ (instancetype)modelWithContentsOfURL:(NSURL *)url configuration:(MLModelConfiguration *)configuration error:(NSError **)error
{
  MLModel *m;

  load_count++;
  if (load_failure != NULL)
    {
      take_failure (&load_failure, error);
      return nil;
    }
  if (![[NSFileManager defaultManager] fileExistsAtPath:[url path]])
    {
      char *msg = g_strdup_printf ("no compiled model at %s", [[url path] UTF8String]);
      take_failure (&msg, error);
      return nil;
    }
  last_units = configuration.computeUnits;
  g_free (last_function_name);
  last_function_name = configuration.functionName != nil ? g_strdup ([configuration.functionName UTF8String]) : NULL;
  m = [[[self alloc] init] autorelease];
  m->_configuration = [configuration retain];
  if (interpret)
    {
      GError *gerror = NULL;
      char *mil = g_build_filename ([[url path] UTF8String], "model.mil", NULL);
      char *function_file = g_build_filename ([[url path] UTF8String], "default_function", NULL);
      char *function = NULL;
      AnePackage *package = ane_package_load_mil (mil, &gerror);

      /* the configuration's function, else the description's default */
      if (configuration.functionName != nil)
        function = g_strdup ([configuration.functionName UTF8String]);
      else
        g_file_get_contents (function_file, &function, NULL, NULL);
      g_free (function_file);
      g_free (mil);
      m->_package = package;
      m->_function = function;
      m->_exe = package ? ane_executable_new_from_package (package, function, &gerror) : NULL;
      if (m->_exe == NULL)
        {
          char *msg = g_strdup_printf ("cannot load the model: %s", gerror->message);
          g_clear_error (&gerror);
          take_failure (&msg, error);
          return nil;
        }
    }
  return m;
}
- (void)dealloc
{
  [_configuration release];
  if (_exe)
    g_object_unref (_exe);
  if (_package)
    g_object_unref (_package);
  g_free (_function);
  [super dealloc];
}
- (MLModelConfiguration *)configuration { return _configuration; }
- (MLState *)newState
{
  MLState *state = [[MLState alloc] init];

  if (_package != NULL)
    {
      /* one buffer per declared state, as CoreML allocates them */
      GPtrArray *states = ane_package_list_states (_package, _function, NULL);

      [state setExecutable:ane_executable_new_from_package (_package, _function, NULL)];
      for (guint i = 0; states != NULL && i < states->len; i++)
        {
          AneTensor *declared = g_ptr_array_index (states, i);
          AneDType dtype = ane_tensor_get_dtype (declared);
          guint rank;
          const gint64 *shape = ane_tensor_get_shape (declared, &rank);
          NSMutableArray *shape_ns = [NSMutableArray array];
          MLMultiArray *buffer;

          for (guint d = 0; d < rank; d++)
            [shape_ns addObject:[NSNumber numberWithLongLong:shape[d]]];
          if (rank == 0)
            [shape_ns addObject:[NSNumber numberWithLongLong:1]];
          buffer = [[MLMultiArray alloc] initWithShape:shape_ns
                                              dataType:dtype == ANE_DTYPE_INT32 ? MLMultiArrayDataTypeInt32 :
                                                       dtype == ANE_DTYPE_FLOAT16 ? MLMultiArrayDataTypeFloat16 :
                                                       MLMultiArrayDataTypeFloat32
                                                 error:NULL];
          [[state buffers] setObject:buffer forKey:[NSString stringWithUTF8String:ane_tensor_get_name (declared)]];
          [buffer release];
        }
      if (states != NULL)
        g_ptr_array_unref (states);
    }
  return state;
}

static double
get_elem (MLMultiArray *a, NSInteger off)
{
  const guint8 *p = a.dataPointer;
  switch (a.dataType)
    {
    case MLMultiArrayDataTypeFloat16: { guint16 h; memcpy (&h, p + off * 2, 2); return ane_half_to_float (h); }
    case MLMultiArrayDataTypeInt32: { gint32 v; memcpy (&v, p + off * 4, 4); return v; }
    case MLMultiArrayDataTypeDouble: { double d; memcpy (&d, p + off * 8, 8); return d; }
    default: { float f; memcpy (&f, p + off * 4, 4); return f; }
    }
}

static void
set_elem (MLMultiArray *a, NSInteger off, double v)
{
  guint8 *p = a.dataPointer;
  switch (a.dataType)
    {
    case MLMultiArrayDataTypeFloat16: { guint16 h = ane_float_to_half ((float) v); memcpy (p + off * 2, &h, 2); break; }
    case MLMultiArrayDataTypeInt32: { gint32 x = (gint32) v; memcpy (p + off * 4, &x, 4); break; }
    case MLMultiArrayDataTypeDouble: memcpy (p + off * 8, &v, 8); break;
    default: { float f = (float) v; memcpy (p + off * 4, &f, 4); break; }
    }
}

static NSInteger
offset_of (MLMultiArray *a, NSInteger i)
{
  NSInteger off = 0;
  for (NSUInteger d = [a.shape count]; d-- > 0;)
    {
      NSInteger dim = [[a.shape objectAtIndex:d] integerValue];
      off += (i % dim) * [[a.strides objectAtIndex:d] integerValue];
      i /= dim;
    }
  return off;
}

/* Interpreter mode: the features as tensors, the program run on the CPU
 * interpreter, its outputs as padded multi-arrays. */
static AneTensor *
tensor_of (NSString *name, MLMultiArray *a)
{
  guint rank = [a.shape count];
  gint64 shape[8];
  AneDType dtype = a.dataType == MLMultiArrayDataTypeInt32 ? ANE_DTYPE_INT32 :
                   a.dataType == MLMultiArrayDataTypeFloat16 ? ANE_DTYPE_FLOAT16 : ANE_DTYPE_FLOAT32;
  gsize esize = dtype == ANE_DTYPE_FLOAT16 ? 2 : 4;
  guint8 *dense = g_malloc (MAX (a.count, 1) * esize);
  GBytes *bytes;
  AneTensor *t;

  for (guint d = 0; d < rank; d++)
    shape[d] = [[a.shape objectAtIndex:d] integerValue];
  for (NSInteger i = 0; i < a.count; i++)
    {
      double v = get_elem (a, offset_of (a, i));
      if (dtype == ANE_DTYPE_INT32)
        { gint32 x = (gint32) v; memcpy (dense + i * 4, &x, 4); }
      else if (dtype == ANE_DTYPE_FLOAT16)
        { guint16 h = ane_float_to_half ((float) v); memcpy (dense + i * 2, &h, 2); }
      else
        { float f = (float) v; memcpy (dense + i * 4, &f, 4); }
    }
  bytes = g_bytes_new_take (dense, a.count * esize);
  t = ane_tensor_new_from_bytes ([name UTF8String], dtype, shape, rank, bytes, NULL);
  g_bytes_unref (bytes);
  return t;
}

/* The state's buffers into its executable before a prediction
 * (to_executable), its executable's states back into them after. */
static gboolean
sync_state_buffers (MLState *state, gboolean to_executable, GError **gerror)
{
  NSArray *names = [[state buffers] allKeys];

  for (NSUInteger k = 0; k < [names count]; k++)
    {
      NSString *name = [names objectAtIndex:k];
      MLMultiArray *buffer = [[state buffers] objectForKey:name];

      if (to_executable)
        {
          AneTensor *t = tensor_of (name, buffer);
          gboolean ok = ane_executable_set_state ([state executable], [name UTF8String], t, gerror);

          g_object_unref (t);
          if (!ok)
            return FALSE;
        }
      else
        {
          AneTensor *t = ane_executable_dup_state ([state executable], [name UTF8String], gerror);
          AneTensor *f = t ? ane_tensor_convert (t, ANE_DTYPE_FLOAT32, gerror) : NULL;
          const float *v = f ? g_bytes_get_data (ane_tensor_get_data (f), NULL) : NULL;

          for (NSInteger i = 0; f != NULL && i < buffer.count; i++)
            set_elem (buffer, offset_of (buffer, i), v[i]);
          g_clear_object (&t);
          if (f == NULL)
            return FALSE;
          g_object_unref (f);
        }
    }
  return TRUE;
}

static id<MLFeatureProvider>
interpret_prediction (AneExecutable *exe, MLState *state, id<MLFeatureProvider> input, NSError **error)
{
  NSArray *names = [[input featureNames] allObjects];
  NSMutableDictionary *out = [NSMutableDictionary dictionary];
  GPtrArray *inputs = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *outputs;
  GError *gerror = NULL;

  for (NSUInteger k = 0; k < [names count]; k++)
    {
      NSString *name = [names objectAtIndex:k];
      g_ptr_array_add (inputs, tensor_of (name, [[input featureValueForName:name] multiArrayValue]));
    }
  /* with a state: its buffers are the values the program reads and writes */
  outputs = state != nil && !sync_state_buffers (state, TRUE, &gerror) ? NULL :
            ane_executable_run (exe, (AneTensor **) inputs->pdata, inputs->len, NULL, &gerror);
  g_ptr_array_unref (inputs);
  if (outputs != NULL && state != nil && !sync_state_buffers (state, FALSE, &gerror))
    g_clear_pointer (&outputs, g_ptr_array_unref);
  if (outputs == NULL)
    {
      char *m = g_strdup_printf ("prediction failed: %s", gerror->message);
      g_clear_error (&gerror);
      take_failure (&m, error);
      return nil;
    }
  for (guint k = 0; k < outputs->len; k++)
    {
      AneTensor *t = g_ptr_array_index (outputs, k);
      guint rank;
      const gint64 *shape = ane_tensor_get_shape (t, &rank);
      NSMutableArray *shape_ns = [NSMutableArray array];
      AneDType dtype = ane_tensor_get_dtype (t);
      MLMultiArray *y;
      GBytes *data = ane_tensor_get_data (t);
      const guint8 *p = g_bytes_get_data (data, NULL);

      for (guint d = 0; d < rank; d++)
        [shape_ns addObject:[NSNumber numberWithLongLong:shape[d]]];
      if (rank == 0)
        [shape_ns addObject:[NSNumber numberWithLongLong:1]];
      y = [[[MLMultiArray alloc] initWithShape:shape_ns
                                      dataType:dtype == ANE_DTYPE_INT32 ? MLMultiArrayDataTypeInt32 :
                                               dtype == ANE_DTYPE_FLOAT16 ? MLMultiArrayDataTypeFloat16 :
                                               MLMultiArrayDataTypeFloat32
                                         error:error] autorelease];
      if (y == nil)
        break;
      for (NSInteger i = 0; i < y.count; i++)
        {
          double v;
          if (dtype == ANE_DTYPE_INT32)
            { gint32 x; memcpy (&x, p + i * 4, 4); v = x; }
          else if (dtype == ANE_DTYPE_FLOAT16)
            { guint16 h; memcpy (&h, p + i * 2, 2); v = ane_half_to_float (h); }
          else
            { float f; memcpy (&f, p + i * 4, 4); v = f; }
          set_elem (y, offset_of (y, i), v);
        }
      [out setObject:[MLFeatureValue featureValueWithMultiArray:y]
              forKey:[NSString stringWithUTF8String:ane_tensor_get_name (t)]];
    }
  g_ptr_array_unref (outputs);
  return [[[MLDictionaryFeatureProvider alloc] initWithDictionary:out error:error] autorelease];
}

- (id<MLFeatureProvider>)predict:(id<MLFeatureProvider>)input state:(MLState *)state error:(NSError **)error
{
  NSArray *names = [[input featureNames] allObjects];
  NSMutableDictionary *out = [NSMutableDictionary dictionary];
  double add = state != nil ? state.counter : 0;

  predict_count++;
  if (predict_failure != NULL)
    {
      take_failure (&predict_failure, error);
      return nil;
    }
  if (_exe != NULL)
    return interpret_prediction (state != nil ? [state executable] : _exe, state, input, error);
  for (NSUInteger k = 0; k < [names count]; k++)
    {
      NSString *name = [names objectAtIndex:k];
      MLMultiArray *x = [[input featureValueForName:name] multiArrayValue];
      MLMultiArray *y = [[[MLMultiArray alloc] initWithShape:x.shape
                                                    dataType:output_type ? output_type : x.dataType
                                                       error:error] autorelease];
      if (y == nil)
        return nil;
      for (NSInteger i = 0; i < x.count; i++)
        set_elem (y, offset_of (y, i), 2 * get_elem (x, offset_of (x, i)) + add);
      [out setObject:[MLFeatureValue featureValueWithMultiArray:y]
              forKey:[name isEqualToString:@"x"] ? @"y" : [name stringByAppendingString:@"_out"]];
    }
  if (state != nil)
    state.counter = state.counter + 1;
  return [[[MLDictionaryFeatureProvider alloc] initWithDictionary:out error:error] autorelease];
}
- (id<MLFeatureProvider>)predictionFromFeatures:(id<MLFeatureProvider>)input error:(NSError **)error
{
  return [self predict:input state:nil error:error];
}
- (id<MLFeatureProvider>)predictionFromFeatures:(id<MLFeatureProvider>)input usingState:(MLState *)state error:(NSError **)error
{
  return [self predict:input state:state error:error];
}
@end
