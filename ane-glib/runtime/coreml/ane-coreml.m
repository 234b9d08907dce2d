/* runtime/coreml/ane-coreml.m: the CoreML.framework shim
 *
 * Objective-C, manual retain/release (compile without -fobjc-arc), no blocks
 * (but the one call that needs one, under __BLOCKS__: states below) and no
 * object literals, so that the same file builds with clang against
 * Apple's CoreML and with gcc against GNUstep Foundation and the fakes of
 * tests/coreml (define ANE_COREML_FAKE and put tests/coreml on the include
 * path). See docs/coreml.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "runtime/coreml/ane-coreml-private.h"

#ifdef ANE_COREML_FAKE
# import "fake-coreml.h"
#else
# import <Foundation/Foundation.h>
# import <CoreML/CoreML.h>
#endif

struct _AneCoremlModel {
  MLModel *model;   /* retained */
};

struct _AneCoremlState {
  MLState *state;   /* retained */
};

void
ane_coreml_set_error_from_ns (GError    **error,
                              gpointer    ns_error_object,
                              const char *what)
{
  NSError *ns_error = ns_error_object;
  const char *msg = NULL;

  if (ns_error != nil)
    msg = [[ns_error localizedDescription] UTF8String];
  g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "CoreML: %s: %s",
               what, msg != NULL ? msg : "unknown error");
}

gint64
ane_coreml_compute_units_to_ml (AneComputeUnits units)
{
  switch (units)
    {
    case ANE_COMPUTE_UNITS_ALL: return MLComputeUnitsAll;
    case ANE_COMPUTE_UNITS_CPU_ONLY: return MLComputeUnitsCPUOnly;
    case ANE_COMPUTE_UNITS_CPU_AND_GPU: return MLComputeUnitsCPUAndGPU;
    case ANE_COMPUTE_UNITS_CPU_AND_NE: return MLComputeUnitsCPUAndNeuralEngine;
    default: return -1;
    }
}

/* ---- strided copies ---------------------------------------------------- */

static gboolean
check_layout (const gint64 *shape,
              const gint64 *strides,
              guint         rank,
              gint64       *n_out,
              GError      **error)
{
  gint64 n = 1;

  if (rank > ANE_MAX_RANK)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "CoreML array of rank %u (at most %d)", rank, ANE_MAX_RANK);
      return FALSE;
    }
  for (guint i = 0; i < rank; i++)
    {
      if (shape[i] < 0 || strides[i] < 0)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "CoreML array: negative dimension or stride on axis %u", i);
          return FALSE;
        }
      if (shape[i] != 0 && n > G_MAXINT64 / shape[i])
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW, "CoreML array: too many elements");
          return FALSE;
        }
      n *= shape[i];
    }
  *n_out = n;
  return TRUE;
}

/* Offset in elements of dense index i under strides. */
static gint64
strided_offset (gint64        i,
                const gint64 *shape,
                const gint64 *strides,
                guint         rank)
{
  gint64 off = 0;

  for (guint d = rank; d-- > 0;)
    {
      gint64 k = i % shape[d];
      i /= shape[d];
      off += k * strides[d];
    }
  return off;
}

static double
read_elem (const guint8 *base, AneCoremlElem e, gint64 off)
{
  switch (e)
    {
    case ANE_COREML_ELEM_FLOAT16:
      { guint16 h; memcpy (&h, base + off * 2, 2); return ane_half_to_float (h); }
    case ANE_COREML_ELEM_FLOAT64:
      { double d; memcpy (&d, base + off * 8, 8); return d; }
    case ANE_COREML_ELEM_INT32:
      { gint32 v; memcpy (&v, base + off * 4, 4); return v; }
    case ANE_COREML_ELEM_FLOAT32:
    default:
      { float f; memcpy (&f, base + off * 4, 4); return f; }
    }
}

gboolean
ane_coreml_copy_out (const void    *src,
                     AneCoremlElem  src_elem,
                     const gint64  *shape,
                     const gint64  *strides,
                     guint          rank,
                     AneDType       dst_dtype,
                     void          *dst,
                     GError       **error)
{
  gint64 n;
  const guint8 *s = src;

  if (!check_layout (shape, strides, rank, &n, error))
    return FALSE;
  if (dst_dtype != ANE_DTYPE_FLOAT32 && dst_dtype != ANE_DTYPE_FLOAT16 && dst_dtype != ANE_DTYPE_INT32)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                   "CoreML output to %s is not supported", ane_dtype_to_string (dst_dtype));
      return FALSE;
    }
  for (gint64 i = 0; i < n; i++)
    {
      gint64 off = strided_offset (i, shape, strides, rank);

      if (dst_dtype == ANE_DTYPE_INT32)
        {
          gint32 v;
          if (src_elem == ANE_COREML_ELEM_INT32)
            memcpy (&v, s + off * 4, 4);
          else
            v = (gint32) read_elem (s, src_elem, off);
          ((gint32 *) dst)[i] = v;
        }
      else if (dst_dtype == ANE_DTYPE_FLOAT16)
        {
          /* fp16 to fp16 (CoreML's states) bit for bit */
          guint16 h;
          if (src_elem == ANE_COREML_ELEM_FLOAT16)
            memcpy (&h, s + off * 2, 2);
          else
            h = ane_float_to_half ((float) read_elem (s, src_elem, off));
          ((guint16 *) dst)[i] = h;
        }
      else
        ((float *) dst)[i] = (float) read_elem (s, src_elem, off);
    }
  return TRUE;
}

gboolean
ane_coreml_copy_in (const void    *src,
                    AneDType       src_dtype,
                    const gint64  *shape,
                    const gint64  *strides,
                    guint          rank,
                    AneCoremlElem  dst_elem,
                    void          *dst,
                    GError       **error)
{
  gint64 n;
  guint8 *d = dst;

  if (!check_layout (shape, strides, rank, &n, error))
    return FALSE;
  if (src_dtype != ANE_DTYPE_FLOAT32 && src_dtype != ANE_DTYPE_FLOAT16 &&
      src_dtype != ANE_DTYPE_INT32)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                   "CoreML input from %s is not supported", ane_dtype_to_string (src_dtype));
      return FALSE;
    }
  for (gint64 i = 0; i < n; i++)
    {
      gint64 off = strided_offset (i, shape, strides, rank);
      double v;

      switch (src_dtype)
        {
        case ANE_DTYPE_FLOAT16:
          if (dst_elem == ANE_COREML_ELEM_FLOAT16)
            {
              memcpy (d + off * 2, (const guint16 *) src + i, 2);
              continue;
            }
          v = ane_half_to_float (((const guint16 *) src)[i]);
          break;
        case ANE_DTYPE_INT32:
          if (dst_elem == ANE_COREML_ELEM_INT32)
            {
              memcpy (d + off * 4, (const gint32 *) src + i, 4);
              continue;
            }
          v = ((const gint32 *) src)[i];
          break;
        case ANE_DTYPE_FLOAT32:
        default:
          v = ((const float *) src)[i];
          break;
        }
      switch (dst_elem)
        {
        case ANE_COREML_ELEM_FLOAT16:
          { guint16 h = ane_float_to_half ((float) v); memcpy (d + off * 2, &h, 2); break; }
        case ANE_COREML_ELEM_FLOAT64:
          memcpy (d + off * 8, &v, 8);
          break;
        case ANE_COREML_ELEM_INT32:
          { gint32 x = (gint32) v; memcpy (d + off * 4, &x, 4); break; }
        case ANE_COREML_ELEM_FLOAT32:
        default:
          { float f = (float) v; memcpy (d + off * 4, &f, 4); break; }
        }
    }
  return TRUE;
}

/* ---- compile cache ----------------------------------------------------- */

static gboolean
collect_files (const char *root,
               const char *rel,
               GPtrArray  *out,
               GError    **error)
{
  g_autofree char *dir_path = rel[0] ? g_build_filename (root, rel, NULL) : g_strdup (root);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, error);
  const char *name;

  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      char *child_rel = rel[0] ? g_build_filename (rel, name, NULL) : g_strdup (name);
      g_autofree char *child = g_build_filename (root, child_rel, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        {
          gboolean ok = collect_files (root, child_rel, out, error);
          g_free (child_rel);
          if (!ok)
            return FALSE;
        }
      else
        g_ptr_array_add (out, child_rel);
    }
  return TRUE;
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Manifest.json names its items by UUIDs that every writer draws at random,
 * and lists them in an order that follows the UUIDs: two writes of the same
 * model differ only there. What is hashed instead: each item's path, name,
 * author and description, sorted by path, then the root item's path. A file
 * that is not such a manifest is hashed as it is (NULL here). */
static char *
manifest_canonical (const char *text,
                    gsize       len)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  JsonObject *root, *items;
  const char *root_id;
  GString *out;
  GList *ids;

  if (!json_parser_load_from_data (parser, text, len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  root = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_has_member (root, "itemInfoEntries") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "itemInfoEntries")))
    return NULL;
  items = json_object_get_object_member (root, "itemInfoEntries");
  root_id = json_object_has_member (root, "rootModelIdentifier")
          ? json_object_get_string_member_with_default (root, "rootModelIdentifier", "") : "";
  out = g_string_new (json_object_get_string_member_with_default (root, "fileFormatVersion", ""));
  ids = json_object_get_members (items);
  for (GList *l = ids; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (items, l->data);
      JsonObject *item;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      item = json_node_get_object (node);
      g_ptr_array_add (lines, g_strdup_printf ("%s\n%s\n%s\n%s\n%s",
                                               json_object_get_string_member_with_default (item, "path", ""),
                                               json_object_get_string_member_with_default (item, "name", ""),
                                               json_object_get_string_member_with_default (item, "author", ""),
                                               json_object_get_string_member_with_default (item, "description", ""),
                                               strcmp (l->data, root_id) == 0 ? "root" : ""));
    }
  g_list_free (ids);
  g_ptr_array_sort (lines, cmp_str);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (out, "\n%s", (const char *) g_ptr_array_index (lines, i));
  return g_string_free (out, FALSE);
}

static gboolean
hash_file (GChecksum  *sum,
           const char *path,
           const char *rel,
           GError    **error)
{
  g_autoptr(GMappedFile) map = g_mapped_file_new (path, FALSE, error);
  g_autofree char *normalized = NULL;
  const char *contents;
  char size[32];
  gsize len;

  if (map == NULL)
    return FALSE;
  len = g_mapped_file_get_length (map);
  contents = len > 0 ? g_mapped_file_get_contents (map) : "";
  if (strcmp (rel, "Manifest.json") == 0 && (normalized = manifest_canonical (contents, len)) != NULL)
    {
      contents = normalized;
      len = strlen (normalized);
    }
  g_snprintf (size, sizeof size, "%" G_GSIZE_FORMAT, len);
  g_checksum_update (sum, (const guchar *) rel, strlen (rel) + 1);
  g_checksum_update (sum, (const guchar *) size, strlen (size) + 1);
  if (len > 0)
    g_checksum_update (sum, (const guchar *) contents, len);
  return TRUE;
}

char *
ane_coreml_package_hash (const char *package_path,
                         GError    **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  g_return_val_if_fail (package_path != NULL, NULL);

  if (g_file_test (package_path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);

      if (!collect_files (package_path, "", files, error))
        return NULL;
      g_ptr_array_sort (files, cmp_str);
      for (guint i = 0; i < files->len; i++)
        {
          const char *rel = g_ptr_array_index (files, i);
          g_autofree char *path = g_build_filename (package_path, rel, NULL);
          if (!hash_file (sum, path, rel, error))
            return NULL;
        }
    }
  else if (!hash_file (sum, package_path, "", error))
    return NULL;
  return g_strdup (g_checksum_get_string (sum));
}

char *
ane_coreml_compile (const char *package_path,
                    const char *cache_dir,
                    gboolean   *from_cache,
                    GError    **error)
{
  g_autofree char *hash = NULL;
  g_autofree char *base = NULL;
  g_autofree char *target = NULL;
  NSAutoreleasePool *pool;
  NSError *ns_error = nil;
  NSURL *compiled;
  char *result = NULL;

  g_return_val_if_fail (package_path != NULL && cache_dir != NULL, NULL);

  if (from_cache != NULL)
    *from_cache = FALSE;
  hash = ane_coreml_package_hash (package_path, error);
  if (hash == NULL)
    return NULL;
  base = g_strconcat (hash, ".mlmodelc", NULL);
  target = g_build_filename (cache_dir, base, NULL);
  if (g_file_test (target, G_FILE_TEST_IS_DIR))
    {
      if (from_cache != NULL)
        *from_cache = TRUE;
      return g_steal_pointer (&target);
    }
  if (g_mkdir_with_parents (cache_dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO, "cannot create the CoreML cache '%s': %s",
                   cache_dir, g_strerror (e));
      return NULL;
    }

  pool = [[NSAutoreleasePool alloc] init];
  compiled = [MLModel compileModelAtURL:[NSURL fileURLWithPath:[NSString stringWithUTF8String:package_path]]
                                  error:&ns_error];
  if (compiled == nil)
    {
      g_autofree char *what = g_strdup_printf ("compiling '%s'", package_path);
      ane_coreml_set_error_from_ns (error, ns_error, what);
    }
  else
    {
      NSString *dst = [NSString stringWithUTF8String:target];
      NSFileManager *fm = [NSFileManager defaultManager];

      if ([fm moveItemAtPath:[compiled path] toPath:dst error:&ns_error])
        result = g_steal_pointer (&target);
      else if ([fm fileExistsAtPath:dst])   /* another process won the race */
        {
          [fm removeItemAtPath:[compiled path] error:NULL];
          result = g_steal_pointer (&target);
        }
      else
        {
          g_autofree char *what = g_strdup_printf ("moving the compiled model to '%s'", target);
          ane_coreml_set_error_from_ns (error, ns_error, what);
        }
    }
  [pool drain];
  return result;
}

/* ---- load, state, predict ---------------------------------------------- */

/* MLModelConfiguration.functionName: "Function name that MLModel will
 * use", nil for the default function; new in macOS 15 / iOS 18
 * (developer.apple.com/documentation/coreml/mlmodelconfiguration/functionname;
 * MLModelConfiguration.h, category MultiFunctions, API_AVAILABLE(macos(15.0),
 * ios(18.0))). Asked of the object at run time rather than through
 * @available, so that the shim builds for older deployment targets (and
 * against the fakes) and says what is missing on an older system. */
static gboolean
set_function_name (MLModelConfiguration  *config,
                   const char            *function,
                   GError               **error)
{
  SEL setter = @selector(setFunctionName:);

  if (function == NULL)
    return TRUE;
  if (![config respondsToSelector:setter])
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "CoreML: function '%s': loading a function other than a package's default needs "
                   "MLModelConfiguration.functionName (macOS 15 / iOS 18), which this system's CoreML lacks",
                   function);
      return FALSE;
    }
  [config performSelector:setter withObject:[NSString stringWithUTF8String:function]];
  return TRUE;
}

AneCoremlModel *
ane_coreml_model_load (const char             *compiled_path,
                       const char             *function,
                       AneComputeUnits   units,
                       GError                **error)
{
  NSAutoreleasePool *pool;
  MLModelConfiguration *config;
  NSError *ns_error = nil;
  MLModel *model;
  AneCoremlModel *self = NULL;
  gint64 ml_units = ane_coreml_compute_units_to_ml (units);

  g_return_val_if_fail (compiled_path != NULL, NULL);

  if (ml_units < 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "unknown CoreML compute units %d", (int) units);
      return NULL;
    }
  pool = [[NSAutoreleasePool alloc] init];
  config = [[[MLModelConfiguration alloc] init] autorelease];
  config.computeUnits = (MLComputeUnits) ml_units;
  if (!set_function_name (config, function, error))
    {
      [pool drain];
      return NULL;
    }
  model = [MLModel modelWithContentsOfURL:[NSURL fileURLWithPath:[NSString stringWithUTF8String:compiled_path]]
                            configuration:config
                                    error:&ns_error];
  if (model == nil)
    {
      g_autofree char *what = g_strdup_printf ("loading '%s'", compiled_path);
      ane_coreml_set_error_from_ns (error, ns_error, what);
    }
  else
    {
      self = g_new0 (AneCoremlModel, 1);
      self->model = [model retain];
    }
  [pool drain];
  return self;
}

void
ane_coreml_model_free (AneCoremlModel *model)
{
  if (model == NULL)
    return;
  [model->model release];
  g_free (model);
}

AneCoremlState *
ane_coreml_model_new_state (AneCoremlModel *model,
                            GError        **error)
{
  AneCoremlState *self;
  MLState *state;

  g_return_val_if_fail (model != NULL, NULL);

  if (![model->model respondsToSelector:@selector(newState)])
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "CoreML: states need macOS 15 / iOS 18 (MLModel has no newState)");
      return NULL;
    }
  state = [model->model newState];   /* +1 by the new- rule */
  if (state == nil)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "CoreML: the model gave no state");
      return NULL;
    }
  self = g_new0 (AneCoremlState, 1);
  self->state = state;
  return self;
}

void
ane_coreml_state_free (AneCoremlState *state)
{
  if (state == NULL)
    return;
  [state->state release];
  g_free (state);
}

static gboolean
elem_from_ml (MLMultiArrayDataType t, AneCoremlElem *e)
{
  if (t == MLMultiArrayDataTypeFloat32)
    *e = ANE_COREML_ELEM_FLOAT32;
  else if (t == MLMultiArrayDataTypeFloat16)
    *e = ANE_COREML_ELEM_FLOAT16;
  else if (t == MLMultiArrayDataTypeInt32)
    *e = ANE_COREML_ELEM_INT32;
  else if (t == MLMultiArrayDataTypeDouble)
    *e = ANE_COREML_ELEM_FLOAT64;
  else
    return FALSE;
  return TRUE;
}

/* An MLMultiArray (autoreleased) holding @tensor, written by its strides. */
static MLMultiArray *
array_from_tensor (AneTensor *tensor,
                   GError   **error)
{
  g_autoptr(AneTensor) converted = NULL;
  AneDType dtype = ane_tensor_get_dtype (tensor);
  MLMultiArrayDataType type;
  AneCoremlElem elem;
  NSMutableArray *shape_ns;
  NSError *ns_error = nil;
  MLMultiArray *array;
  gint64 strides[ANE_MAX_RANK];
  guint rank;
  const gint64 *shape = ane_tensor_get_shape (tensor, &rank);
  GBytes *data;

  if (!ane_tensor_has_data (tensor))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "CoreML input '%s' has no data", ane_tensor_get_name (tensor));
      return nil;
    }
  if (dtype != ANE_DTYPE_FLOAT32 && dtype != ANE_DTYPE_FLOAT16 && dtype != ANE_DTYPE_INT32)
    {
      converted = ane_tensor_convert (tensor, ANE_DTYPE_FLOAT32, error);
      if (converted == NULL)
        return nil;
      tensor = converted;
      dtype = ANE_DTYPE_FLOAT32;
    }
  type = dtype == ANE_DTYPE_FLOAT16 ? MLMultiArrayDataTypeFloat16 :
         dtype == ANE_DTYPE_INT32 ? MLMultiArrayDataTypeInt32 : MLMultiArrayDataTypeFloat32;
  elem = dtype == ANE_DTYPE_FLOAT16 ? ANE_COREML_ELEM_FLOAT16 :
         dtype == ANE_DTYPE_INT32 ? ANE_COREML_ELEM_INT32 : ANE_COREML_ELEM_FLOAT32;

  shape_ns = [NSMutableArray arrayWithCapacity:rank];
  for (guint i = 0; i < rank; i++)
    [shape_ns addObject:[NSNumber numberWithLongLong:shape[i]]];
  if (rank == 0)   /* CoreML has no rank-0 arrays */
    [shape_ns addObject:[NSNumber numberWithLongLong:1]];

  array = [[[MLMultiArray alloc] initWithShape:shape_ns dataType:type error:&ns_error] autorelease];
  if (array == nil)
    {
      g_autofree char *what = g_strdup_printf ("allocating input '%s'", ane_tensor_get_name (tensor));
      ane_coreml_set_error_from_ns (error, ns_error, what);
      return nil;
    }
  if ([array.strides count] != [shape_ns count])
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "CoreML: input array has inconsistent strides");
      return nil;
    }
  for (guint i = 0; i < [shape_ns count]; i++)
    strides[i] = [[array.strides objectAtIndex:i] longLongValue];

  data = ane_tensor_get_data (tensor);
  {
    gint64 one = 1;
    if (!ane_coreml_copy_in (g_bytes_get_data (data, NULL), dtype,
                             rank == 0 ? &one : shape, strides, rank == 0 ? 1 : rank,
                             elem, array.dataPointer, error))
      return nil;
  }
  return array;
}

static AneTensor *
tensor_from_array (NSString     *name_ns,
                   MLMultiArray *array,
                   GError      **error)
{
  const char *name = [name_ns UTF8String];
  AneCoremlElem elem;
  AneDType dtype;
  gint64 shape[ANE_MAX_RANK], strides[ANE_MAX_RANK], n = 1;
  guint rank = (guint) [array.shape count];
  gpointer buf;

  if (!elem_from_ml (array.dataType, &elem))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE,
                   "CoreML output '%s': unsupported MLMultiArray data type 0x%lx",
                   name, (unsigned long) array.dataType);
      return NULL;
    }
  if (rank > ANE_MAX_RANK || [array.strides count] != rank)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "CoreML output '%s': rank %u (at most %d) or inconsistent strides",
                   name, rank, ANE_MAX_RANK);
      return NULL;
    }
  for (guint i = 0; i < rank; i++)
    {
      shape[i] = [[array.shape objectAtIndex:i] longLongValue];
      strides[i] = [[array.strides objectAtIndex:i] longLongValue];
      if (shape[i] > 0 && n > G_MAXINT64 / 8 / shape[i])
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW, "CoreML output '%s' is too large", name);
          return NULL;
        }
      n *= shape[i] > 0 ? shape[i] : 0;
    }
  dtype = elem == ANE_COREML_ELEM_INT32 ? ANE_DTYPE_INT32 : ANE_DTYPE_FLOAT32;
  buf = g_malloc (MAX (n, 1) * 4);
  if (!ane_coreml_copy_out (array.dataPointer, elem, shape, strides, rank, dtype, buf, error))
    {
      g_free (buf);
      return NULL;
    }
  {
    g_autoptr(GBytes) bytes = g_bytes_new_take (buf, (gsize) n * 4);
    return ane_tensor_new_from_bytes (name, dtype, shape, rank, bytes, error);
  }
}

static NSInteger
cmp_ns_string (id a, id b, void *ctx)
{
  (void) ctx;
  return (NSInteger) [(NSString *) a compare:(NSString *) b];
}

GPtrArray *
ane_coreml_model_predict (AneCoremlModel *model,
                          GHashTable     *inputs,
                          AneCoremlState *state,
                          GError        **error)
{
  NSAutoreleasePool *pool;
  NSMutableDictionary *dict;
  MLDictionaryFeatureProvider *provider;
  id<MLFeatureProvider> result;
  NSError *ns_error = nil;
  NSArray *names;
  GHashTableIter iter;
  gpointer key, value;
  GPtrArray *outputs = NULL;
  g_autoptr(GPtrArray) out = NULL;

  g_return_val_if_fail (model != NULL && inputs != NULL, NULL);

  pool = [[NSAutoreleasePool alloc] init];
  dict = [NSMutableDictionary dictionaryWithCapacity:g_hash_table_size (inputs)];
  g_hash_table_iter_init (&iter, inputs);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      MLMultiArray *array = array_from_tensor (ANE_TENSOR (value), error);
      if (array == nil)
        goto done;
      [dict setObject:[MLFeatureValue featureValueWithMultiArray:array]
               forKey:[NSString stringWithUTF8String:key]];
    }
  provider = [[[MLDictionaryFeatureProvider alloc] initWithDictionary:dict error:&ns_error] autorelease];
  if (provider == nil)
    {
      ane_coreml_set_error_from_ns (error, ns_error, "building the input features");
      goto done;
    }
  if (state != NULL)
    result = [model->model predictionFromFeatures:provider usingState:state->state error:&ns_error];
  else
    result = [model->model predictionFromFeatures:provider error:&ns_error];
  if (result == nil)
    {
      ane_coreml_set_error_from_ns (error, ns_error, "prediction");
      goto done;
    }

  names = [[[result featureNames] allObjects] sortedArrayUsingFunction:cmp_ns_string context:NULL];
  out = g_ptr_array_new_with_free_func (g_object_unref);
  for (NSUInteger i = 0; i < [names count]; i++)
    {
      NSString *name = [names objectAtIndex:i];
      MLFeatureValue *fv = [result featureValueForName:name];
      MLMultiArray *array = fv.multiArrayValue;
      AneTensor *t;

      if (array == nil)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                       "CoreML output '%s' is not a multi-array", [name UTF8String]);
          goto done;
        }
      t = tensor_from_array (name, array, error);
      if (t == NULL)
        goto done;
      g_ptr_array_add (out, t);
    }
  outputs = g_steal_pointer (&out);

done:
  [pool drain];
  return outputs;
}

/* ---- reading and writing states ---------------------------------------
 *
 * -[MLState getMultiArrayForStateNamed:(NSString *)stateName
 *                               handler:(void (^)(MLMultiArray *buffer))handler]
 * hands the handler the state's buffer, to read and to write in place
 * ("Handle to the state buffers ... The client shall not read or write the
 * buffers while a prediction is in-flight":
 * developer.apple.com/documentation/coreml/mlstate; MLState.h, macOS 15 /
 * iOS 18; Swift: withMultiArray(for:_:), "func withMultiArray<R>(for
 * stateName: String, _ body: (MLMultiArray) throws -> R) rethrows -> R",
 * developer.apple.com/documentation/coreml/mlstate/withmultiarray(for:_:) --
 * it returns the body's result, so the handler has run when the call
 * returns). The buffer is an MLMultiArray like any other: its own data type
 * (float16 for the states coremltools writes) and strides, which need not
 * be dense.
 *
 * The handler is a block; gcc has no blocks, so (as ane-coreml-plan.m does)
 * the call is made only where the compiler has them (__BLOCKS__), and the
 * fakes of tests/coreml offer the same method with a function and a context
 * in place of the block. Everything else -- the checks and the strided
 * copies in state_visit -- is the same code in both builds. Apple does not
 * say what the method does with a name the state does not have; the
 * handler not being called is taken for "no such state". */
#if defined(ANE_COREML_FAKE)
# define STATE_ACCESS_SELECTOR @selector(getMultiArrayForStateNamed:function:context:)
#elif defined(__BLOCKS__)
# define STATE_ACCESS_SELECTOR @selector(getMultiArrayForStateNamed:handler:)
#endif

typedef struct
{
  const char    *name;
  AneDType       dtype;     /* get: the tensor's dtype; set: the value's */
  const gint64  *shape;
  guint          rank;
  const void    *src;       /* set: the value's dense data; get: NULL */
  void          *dst;       /* get: dense buffer of the shape in dtype */
  gboolean       called;
  GError        *error;
} StateAccess;

static void
state_visit (MLMultiArray *buffer,
             void         *data)
{
  StateAccess *access = data;
  gint64 strides[ANE_MAX_RANK];
  static const gint64 one = 1;
  const gint64 *shape = access->rank == 0 ? &one : access->shape;
  guint rank = access->rank == 0 ? 1 : access->rank;   /* CoreML has no rank-0 arrays */
  AneCoremlElem elem;
  gboolean same = [buffer.shape count] == rank && [buffer.strides count] == rank;

  access->called = TRUE;
  if (!elem_from_ml (buffer.dataType, &elem))
    {
      g_set_error (&access->error, ANE_ERROR, ANE_ERROR_DTYPE,
                   "CoreML: state '%s': unsupported MLMultiArray data type 0x%lx",
                   access->name, (unsigned long) buffer.dataType);
      return;
    }
  for (guint i = 0; same && i < rank; i++)
    {
      same = [[buffer.shape objectAtIndex:i] longLongValue] == shape[i];
      strides[i] = [[buffer.strides objectAtIndex:i] longLongValue];
    }
  if (!same)
    {
      AneSpec want = { .dtype = access->dtype, .rank = access->rank };
      char w[ANE_SPEC_STRLEN];
      GString *have = g_string_new ("[");

      if (access->rank > 0)   /* a rank-0 shape may be NULL */
        memcpy (want.shape, access->shape, access->rank * sizeof (gint64));
      for (NSUInteger i = 0; i < [buffer.shape count]; i++)
        g_string_append_printf (have, "%s%lld", i ? ", " : "", [[buffer.shape objectAtIndex:i] longLongValue]);
      g_string_append_c (have, ']');
      g_set_error (&access->error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "CoreML: state '%s': the MLState's buffer has shape %s, expected %s",
                   access->name, have->str, ane_spec_format (&want, w));
      g_string_free (have, TRUE);
      return;
    }
  if (access->src != NULL)
    ane_coreml_copy_in (access->src, access->dtype, shape, strides, rank, elem, buffer.dataPointer,
                        &access->error);
  else
    ane_coreml_copy_out (buffer.dataPointer, elem, shape, strides, rank, access->dtype, access->dst,
                         &access->error);
}

gboolean
ane_coreml_state_can_access (AneCoremlState *state)
{
  g_return_val_if_fail (state != NULL, FALSE);
#ifdef STATE_ACCESS_SELECTOR
  return [state->state respondsToSelector:STATE_ACCESS_SELECTOR];
#else
  return FALSE;
#endif
}

static gboolean
state_access (AneCoremlState  *state,
              StateAccess     *access,
              GError         **error)
{
  NSAutoreleasePool *pool;
  NSString *name;

  if (!ane_coreml_state_can_access (state))
    {
#ifdef STATE_ACCESS_SELECTOR
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "CoreML: state '%s': reading or writing a state needs "
                   "-[MLState getMultiArrayForStateNamed:handler:] (macOS 15 / iOS 18), which this system's CoreML lacks",
                   access->name);
#else
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "CoreML: state '%s': this build of the shim has no Objective-C blocks, which "
                   "-[MLState getMultiArrayForStateNamed:handler:] needs (build with clang)",
                   access->name);
#endif
      return FALSE;
    }
#ifdef STATE_ACCESS_SELECTOR
  pool = [[NSAutoreleasePool alloc] init];
  name = [NSString stringWithUTF8String:access->name];
# if defined(ANE_COREML_FAKE)
  [state->state getMultiArrayForStateNamed:name function:state_visit context:access];
# else
  [state->state getMultiArrayForStateNamed:name handler:^(MLMultiArray *buffer) {
    state_visit (buffer, access);
  }];
# endif
  [pool drain];
#else
  (void) pool;
  (void) name;
#endif
  if (!access->called)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND, "CoreML: the MLState has no state named '%s'",
                   access->name);
      return FALSE;
    }
  if (access->error != NULL)
    {
      g_propagate_error (error, access->error);
      access->error = NULL;
      return FALSE;
    }
  return TRUE;
}

AneTensor *
ane_coreml_state_get (AneCoremlState *state,
                      const char     *name,
                      AneDType        dtype,
                      const gint64   *shape,
                      guint           rank,
                      GError        **error)
{
  StateAccess access = { .name = name, .dtype = dtype, .shape = shape, .rank = rank };
  g_autoptr(GBytes) bytes = NULL;
  gint64 n = 1;
  gpointer buf;

  g_return_val_if_fail (state != NULL && name != NULL, NULL);
  g_return_val_if_fail (rank <= ANE_MAX_RANK, NULL);

  if (dtype != ANE_DTYPE_FLOAT32 && dtype != ANE_DTYPE_FLOAT16 && dtype != ANE_DTYPE_INT32)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE, "CoreML: state '%s': reading it as %s is not supported",
                   name, ane_dtype_to_string (dtype));
      return NULL;
    }
  for (guint i = 0; i < rank; i++)
    {
      if (shape[i] < 0 || (shape[i] > 0 && n > G_MAXINT64 / 8 / shape[i]))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW, "CoreML: state '%s' is too large", name);
          return NULL;
        }
      n *= shape[i];
    }
  buf = g_malloc (MAX (n, 1) * ane_dtype_size (dtype));
  access.dst = buf;
  if (!state_access (state, &access, error))
    {
      g_free (buf);
      return NULL;
    }
  bytes = g_bytes_new_take (buf, (gsize) n * ane_dtype_size (dtype));
  return ane_tensor_new_from_bytes (name, dtype, shape, rank, bytes, error);
}

gboolean
ane_coreml_state_set (AneCoremlState *state,
                      AneTensor      *value,
                      GError        **error)
{
  guint rank;
  const gint64 *shape = ane_tensor_get_shape (value, &rank);
  StateAccess access = {
    .name = ane_tensor_get_name (value),
    .dtype = ane_tensor_get_dtype (value),
    .shape = shape,
    .rank = rank,
  };

  g_return_val_if_fail (state != NULL && ANE_IS_TENSOR (value), FALSE);

  if (!ane_tensor_has_data (value))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT, "CoreML: state '%s': the value has no data",
                   access.name);
      return FALSE;
    }
  if (access.dtype != ANE_DTYPE_FLOAT32 && access.dtype != ANE_DTYPE_FLOAT16 && access.dtype != ANE_DTYPE_INT32)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_DTYPE, "CoreML: state '%s': a %s value cannot be written",
                   access.name, ane_dtype_to_string (access.dtype));
      return FALSE;
    }
  access.src = g_bytes_get_data (ane_tensor_get_data (value), NULL);
  if (access.src == NULL)   /* an empty tensor: nothing to copy, but the name and shape still checked */
    access.src = "";
  return state_access (state, &access, error);
}

const AneCoremlApi ane_coreml_framework_api = {
#ifdef ANE_COREML_FAKE
  .name = "fake CoreML",
#else
  .name = "CoreML.framework",
#endif
  .compile = ane_coreml_compile,
  .load = ane_coreml_model_load,
  .model_free = ane_coreml_model_free,
  .new_state = ane_coreml_model_new_state,
  .state_free = ane_coreml_state_free,
  .predict = ane_coreml_model_predict,
  .can_access_state = ane_coreml_state_can_access,
  .get_state = ane_coreml_state_get,
  .set_state = ane_coreml_state_set,
  .compute_plan = ane_coreml_compute_plan,   /* ane-coreml-plan.m */
};
