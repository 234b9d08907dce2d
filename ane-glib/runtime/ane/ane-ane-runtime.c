/* runtime/ane/ane-ane-runtime.c: the private in-memory path, over a table
 *
 * Class names, selectors, argument order, the weights dictionary, QoS 21 and
 * the temporary directory named by hexStringIdentifier follow maderix/ANE
 * (training/ane_runtime.h, bridge/ane_bridge.m); see docs/ane-private.md.
 * Own code; never run on a Mac.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-tsan-private.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "runtime/ane/ane-ane-private.h"

/* ======================================================================= */
/* The real table (macOS only)                                              */
/* ======================================================================= */

#if defined(__APPLE__) || defined(ANE_ANE_FORCE_REAL_TABLE)
#include <dlfcn.h>

typedef struct
{
  void *(*objc_getClass) (const char *);
  void *(*sel_registerName) (const char *);
  unsigned char (*class_respondsToSelector) (void *, void *);
  void *(*object_getClass) (void *);
  void (*objc_msgSend) (void);
  void *(*objc_autoreleasePoolPush) (void);
  void (*objc_autoreleasePoolPop) (void *);
  void *(*objc_retain) (void *);
  void (*objc_release) (void *);

  void *(*CFDataCreate) (void *, const guint8 *, long);
  void *(*CFNumberCreate) (void *, long, const void *);
  void *(*CFArrayCreate) (void *, const void **, long, const void *);
  void *(*CFDictionaryCreate) (void *, const void **, const void **, long, const void *, const void *);
  void *(*CFStringCreateWithCString) (void *, const char *, guint32);
  unsigned char (*CFStringGetCString) (void *, char *, long, guint32);
  long (*CFStringGetLength) (void *);
  long (*CFStringGetMaximumSizeForEncoding) (long, guint32);
  void (*CFRelease) (const void *);
  const void *kCFTypeArrayCallBacks;
  const void *kCFTypeDictionaryKeyCallBacks;
  const void *kCFTypeDictionaryValueCallBacks;

  void *(*IOSurfaceCreate) (void *);
  int (*IOSurfaceLock) (void *, guint32, guint32 *);
  int (*IOSurfaceUnlock) (void *, guint32, guint32 *);
  void *(*IOSurfaceGetBaseAddress) (void *);
  gsize (*IOSurfaceGetBytesPerRow) (void *);
  gsize (*IOSurfaceGetAllocSize) (void *);
  void *kIOSurfaceWidth, *kIOSurfaceHeight, *kIOSurfaceBytesPerElement;
  void *kIOSurfaceBytesPerRow, *kIOSurfaceAllocSize, *kIOSurfacePixelFormat;
} AppleSyms;

#define CF_NUMBER_SINT64 4           /* kCFNumberSInt64Type */
#define CF_STRING_UTF8   0x08000100u /* kCFStringEncodingUTF8 */
#define IOSURFACE_LOCK_READ_ONLY 1u  /* kIOSurfaceLockReadOnly */

#define SYMS(rt) ((const AppleSyms *) (rt)->user_data)

static gboolean
apple_open_framework (const AneAneRuntime *rt, const char *path, char **message)
{
  if (dlopen (path, RTLD_NOW | RTLD_LOCAL) != NULL)
    return TRUE;
  if (message)
    *message = g_strdup (dlerror ());
  return FALSE;
}

static AneObjcClass
apple_get_class (const AneAneRuntime *rt, const char *name)
{
  return SYMS (rt)->objc_getClass (name);
}

static AneObjcSel
apple_register_selector (const AneAneRuntime *rt, const char *name)
{
  return SYMS (rt)->sel_registerName (name);
}

static gboolean
apple_responds (const AneAneRuntime *rt, AneObjcClass cls, AneObjcSel sel, gboolean class_method)
{
  void *target = class_method ? SYMS (rt)->object_getClass (cls) : cls;
  return target != NULL && SYMS (rt)->class_respondsToSelector (target, sel) != 0;
}

static gpointer apple_pool_push (const AneAneRuntime *rt) { return SYMS (rt)->objc_autoreleasePoolPush (); }
static void apple_pool_pop (const AneAneRuntime *rt, gpointer p) { SYMS (rt)->objc_autoreleasePoolPop (p); }
static AneObjcId apple_retain (const AneAneRuntime *rt, AneObjcId o) { return o ? SYMS (rt)->objc_retain (o) : NULL; }
static void apple_release (const AneAneRuntime *rt, AneObjcId o) { if (o) SYMS (rt)->objc_release (o); }

static char *
apple_cfstring_dup (const AppleSyms *s, void *str)
{
  long len, max;
  char *buf;

  if (str == NULL)
    return NULL;
  len = s->CFStringGetLength (str);
  max = s->CFStringGetMaximumSizeForEncoding (len, CF_STRING_UTF8) + 1;
  buf = g_malloc0 ((gsize) max);
  if (!s->CFStringGetCString (str, buf, max, CF_STRING_UTF8))
    buf[0] = '\0';
  return buf;
}

static char *
apple_describe (const AneAneRuntime *rt, AneObjcId obj)
{
  const AppleSyms *s = SYMS (rt);
  void *sel_loc, *sel_desc, *cls, *str;

  if (obj == NULL)
    return NULL;
  sel_loc = s->sel_registerName ("localizedDescription");
  sel_desc = s->sel_registerName ("description");
  cls = s->object_getClass (obj);
  str = ((void *(*) (void *, void *)) s->objc_msgSend)
          (obj, cls && s->class_respondsToSelector (cls, sel_loc) ? sel_loc : sel_desc);
  return apple_cfstring_dup (s, str);
}

static AneObjcId
apple_new_data (const AneAneRuntime *rt, gconstpointer bytes, gsize size)
{
  return SYMS (rt)->CFDataCreate (NULL, bytes, (long) size);
}

static AneObjcId
apple_new_number (const AneAneRuntime *rt, gint64 value)
{
  return SYMS (rt)->CFNumberCreate (NULL, CF_NUMBER_SINT64, &value);
}

static AneObjcId
apple_new_array (const AneAneRuntime *rt, const AneObjcId *items, gsize n)
{
  return SYMS (rt)->CFArrayCreate (NULL, (const void **) items, (long) n, SYMS (rt)->kCFTypeArrayCallBacks);
}

static AneObjcId
apple_new_dictionary (const AneAneRuntime *rt, const char *const *keys, const AneObjcId *values, gsize n)
{
  const AppleSyms *s = SYMS (rt);
  g_autofree const void **k = g_new0 (const void *, n + 1);
  void *dict;
  gsize i;

  for (i = 0; i < n; i++)
    k[i] = s->CFStringCreateWithCString (NULL, keys[i], CF_STRING_UTF8);
  dict = s->CFDictionaryCreate (NULL, k, (const void **) values, (long) n,
                                s->kCFTypeDictionaryKeyCallBacks, s->kCFTypeDictionaryValueCallBacks);
  for (i = 0; i < n; i++)
    if (k[i])
      s->CFRelease (k[i]);
  return dict;
}

/* objc_msgSend must be called through a pointer of the exact prototype. */
static AneObjcId
apple_msg_id (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel)
{
  return ((void *(*) (void *, void *)) SYMS (rt)->objc_msgSend) (self, sel);
}

static AneObjcId
apple_msg_id_p1 (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, gpointer a)
{
  return ((void *(*) (void *, void *, void *)) SYMS (rt)->objc_msgSend) (self, sel, a);
}

static AneObjcId
apple_msg_id_p3 (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, gpointer a, gpointer b, gpointer c)
{
  return ((void *(*) (void *, void *, void *, void *, void *)) SYMS (rt)->objc_msgSend) (self, sel, a, b, c);
}

static AneObjcId
apple_msg_id_p7 (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel,
                 gpointer a, gpointer b, gpointer c, gpointer d, gpointer e, gpointer f, gpointer g)
{
  return ((void *(*) (void *, void *, void *, void *, void *, void *, void *, void *, void *))
            SYMS (rt)->objc_msgSend) (self, sel, a, b, c, d, e, f, g);
}

/* BOOL is one byte on every Apple ABI (bool on arm64, signed char on x86_64). */
static gboolean
apple_msg_bool_qos_opts_err (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, guint qos, AneObjcId opts, AneObjcId *err)
{
  return ((unsigned char (*) (void *, void *, unsigned int, void *, void **))
            SYMS (rt)->objc_msgSend) (self, sel, qos, opts, err) != 0;
}

static gboolean
apple_msg_bool_qos_opts_req_err (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, guint qos, AneObjcId opts, AneObjcId req, AneObjcId *err)
{
  return ((unsigned char (*) (void *, void *, unsigned int, void *, void *, void **))
            SYMS (rt)->objc_msgSend) (self, sel, qos, opts, req, err) != 0;
}

static gboolean
apple_msg_bool_qos_err (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, guint qos, AneObjcId *err)
{
  return ((unsigned char (*) (void *, void *, unsigned int, void **))
            SYMS (rt)->objc_msgSend) (self, sel, qos, err) != 0;
}

static AneSurfaceRef
apple_surface_create (const AneAneRuntime *rt, gsize bytes_per_row, gsize rows, gsize alloc_size)
{
  const AppleSyms *s = SYMS (rt);
  const void *keys[6] = { s->kIOSurfaceWidth, s->kIOSurfaceHeight, s->kIOSurfaceBytesPerElement,
                          s->kIOSurfaceBytesPerRow, s->kIOSurfaceAllocSize, s->kIOSurfacePixelFormat };
  gint64 nums[6] = { (gint64) bytes_per_row, (gint64) rows, 1, (gint64) bytes_per_row, (gint64) alloc_size, 0 };
  const void *values[6];
  void *dict, *surface;
  guint i;

  for (i = 0; i < 6; i++)
    values[i] = s->CFNumberCreate (NULL, CF_NUMBER_SINT64, &nums[i]);
  dict = s->CFDictionaryCreate (NULL, keys, values, 6,
                                s->kCFTypeDictionaryKeyCallBacks, s->kCFTypeDictionaryValueCallBacks);
  surface = dict ? s->IOSurfaceCreate (dict) : NULL;
  for (i = 0; i < 6; i++)
    if (values[i])
      s->CFRelease (values[i]);
  if (dict)
    s->CFRelease (dict);
  return surface;
}

static gboolean
apple_surface_lock (const AneAneRuntime *rt, AneSurfaceRef sf, gboolean ro)
{
  return SYMS (rt)->IOSurfaceLock (sf, ro ? IOSURFACE_LOCK_READ_ONLY : 0, NULL) == 0;
}

static void
apple_surface_unlock (const AneAneRuntime *rt, AneSurfaceRef sf, gboolean ro)
{
  SYMS (rt)->IOSurfaceUnlock (sf, ro ? IOSURFACE_LOCK_READ_ONLY : 0, NULL);
}

static gpointer apple_surface_base_address (const AneAneRuntime *rt, AneSurfaceRef sf) { return SYMS (rt)->IOSurfaceGetBaseAddress (sf); }
static gsize apple_surface_bytes_per_row (const AneAneRuntime *rt, AneSurfaceRef sf) { return SYMS (rt)->IOSurfaceGetBytesPerRow (sf); }
static gsize apple_surface_alloc_size (const AneAneRuntime *rt, AneSurfaceRef sf) { return SYMS (rt)->IOSurfaceGetAllocSize (sf); }
static void apple_cf_release (const AneAneRuntime *rt, gpointer cf) { if (cf) SYMS (rt)->CFRelease (cf); }

static gboolean
apple_sym (void *handle, const char *name, gpointer out)
{
  void *p = handle ? dlsym (handle, name) : NULL;
  memcpy (out, &p, sizeof p);
  return p != NULL;
}

/* For the CFStringRef constants: dlsym gives the variable's address. */
static gboolean
apple_const (void *handle, const char *name, void **out)
{
  void **p = handle ? dlsym (handle, name) : NULL;
  *out = p ? *p : NULL;
  return *out != NULL;
}

static const AneAneRuntime *
apple_build (void)
{
  static AppleSyms s;
  static AneAneRuntime rt;
  void *objc = dlopen ("/usr/lib/libobjc.A.dylib", RTLD_NOW | RTLD_GLOBAL);
  void *cf = dlopen ("/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation", RTLD_NOW | RTLD_GLOBAL);
  void *fnd = dlopen ("/System/Library/Frameworks/Foundation.framework/Foundation", RTLD_NOW | RTLD_GLOBAL);
  void *ios = dlopen ("/System/Library/Frameworks/IOSurface.framework/IOSurface", RTLD_NOW | RTLD_GLOBAL);
  gboolean ok = objc && cf && fnd && ios;

  ok = ok && apple_sym (objc, "objc_getClass", &s.objc_getClass)
          && apple_sym (objc, "sel_registerName", &s.sel_registerName)
          && apple_sym (objc, "class_respondsToSelector", &s.class_respondsToSelector)
          && apple_sym (objc, "object_getClass", &s.object_getClass)
          && apple_sym (objc, "objc_msgSend", &s.objc_msgSend)
          && apple_sym (objc, "objc_autoreleasePoolPush", &s.objc_autoreleasePoolPush)
          && apple_sym (objc, "objc_autoreleasePoolPop", &s.objc_autoreleasePoolPop)
          && apple_sym (objc, "objc_retain", &s.objc_retain)
          && apple_sym (objc, "objc_release", &s.objc_release)
          && apple_sym (cf, "CFDataCreate", &s.CFDataCreate)
          && apple_sym (cf, "CFNumberCreate", &s.CFNumberCreate)
          && apple_sym (cf, "CFArrayCreate", &s.CFArrayCreate)
          && apple_sym (cf, "CFDictionaryCreate", &s.CFDictionaryCreate)
          && apple_sym (cf, "CFStringCreateWithCString", &s.CFStringCreateWithCString)
          && apple_sym (cf, "CFStringGetCString", &s.CFStringGetCString)
          && apple_sym (cf, "CFStringGetLength", &s.CFStringGetLength)
          && apple_sym (cf, "CFStringGetMaximumSizeForEncoding", &s.CFStringGetMaximumSizeForEncoding)
          && apple_sym (cf, "CFRelease", &s.CFRelease)
          && apple_sym (cf, "kCFTypeArrayCallBacks", &s.kCFTypeArrayCallBacks)
          && apple_sym (cf, "kCFTypeDictionaryKeyCallBacks", &s.kCFTypeDictionaryKeyCallBacks)
          && apple_sym (cf, "kCFTypeDictionaryValueCallBacks", &s.kCFTypeDictionaryValueCallBacks)
          && apple_sym (ios, "IOSurfaceCreate", &s.IOSurfaceCreate)
          && apple_sym (ios, "IOSurfaceLock", &s.IOSurfaceLock)
          && apple_sym (ios, "IOSurfaceUnlock", &s.IOSurfaceUnlock)
          && apple_sym (ios, "IOSurfaceGetBaseAddress", &s.IOSurfaceGetBaseAddress)
          && apple_sym (ios, "IOSurfaceGetBytesPerRow", &s.IOSurfaceGetBytesPerRow)
          && apple_sym (ios, "IOSurfaceGetAllocSize", &s.IOSurfaceGetAllocSize)
          && apple_const (ios, "kIOSurfaceWidth", &s.kIOSurfaceWidth)
          && apple_const (ios, "kIOSurfaceHeight", &s.kIOSurfaceHeight)
          && apple_const (ios, "kIOSurfaceBytesPerElement", &s.kIOSurfaceBytesPerElement)
          && apple_const (ios, "kIOSurfaceBytesPerRow", &s.kIOSurfaceBytesPerRow)
          && apple_const (ios, "kIOSurfaceAllocSize", &s.kIOSurfaceAllocSize)
          && apple_const (ios, "kIOSurfacePixelFormat", &s.kIOSurfacePixelFormat);
  if (!ok)
    return NULL;

  rt.name = "macOS";
  rt.user_data = &s;
  rt.open_framework = apple_open_framework;
  rt.get_class = apple_get_class;
  rt.register_selector = apple_register_selector;
  rt.responds = apple_responds;
  rt.pool_push = apple_pool_push;
  rt.pool_pop = apple_pool_pop;
  rt.retain = apple_retain;
  rt.release = apple_release;
  rt.describe = apple_describe;
  rt.new_data = apple_new_data;
  rt.new_number = apple_new_number;
  rt.new_array = apple_new_array;
  rt.new_dictionary = apple_new_dictionary;
  rt.msg_id = apple_msg_id;
  rt.msg_id_p1 = apple_msg_id_p1;
  rt.msg_id_p3 = apple_msg_id_p3;
  rt.msg_id_p7 = apple_msg_id_p7;
  rt.msg_bool_qos_opts_err = apple_msg_bool_qos_opts_err;
  rt.msg_bool_qos_opts_req_err = apple_msg_bool_qos_opts_req_err;
  rt.msg_bool_qos_err = apple_msg_bool_qos_err;
  rt.surface_create = apple_surface_create;
  rt.surface_lock = apple_surface_lock;
  rt.surface_unlock = apple_surface_unlock;
  rt.surface_base_address = apple_surface_base_address;
  rt.surface_bytes_per_row = apple_surface_bytes_per_row;
  rt.surface_alloc_size = apple_surface_alloc_size;
  rt.cf_release = apple_cf_release;
  return &rt;
}

const AneAneRuntime *
ane_ane_runtime_get_default (void)
{
  static gsize once = 0;
  static const AneAneRuntime *rt = NULL;

  if (g_once_init_enter (&once))
    {
      rt = apple_build ();
      g_once_init_leave (&once, 1);
    }
  return rt;
}

#else  /* not Apple */

const AneAneRuntime *
ane_ane_runtime_get_default (void)
{
  return NULL;
}

#endif

/* ======================================================================= */
/* Override                                                                 */
/* ======================================================================= */

static const AneAneRuntime *runtime_override = NULL;

const AneAneRuntime *
ane_ane_runtime_get (void)
{
  const AneAneRuntime *rt = g_atomic_pointer_get (&runtime_override);
  return rt ? rt : ane_ane_runtime_get_default ();
}

void
ane_ane_runtime_set_override (const AneAneRuntime *runtime)
{
  g_atomic_pointer_set (&runtime_override, runtime);
}

/* ======================================================================= */
/* Classes and selectors                                                    */
/* ======================================================================= */

enum { CLS_DESC, CLS_MODEL, CLS_REQUEST, CLS_IOSURFACE, N_CLASSES };

static const char *const class_names[N_CLASSES] = {
  "_ANEInMemoryModelDescriptor",
  "_ANEInMemoryModel",
  "_ANERequest",
  "_ANEIOSurfaceObject",
};

enum {
  SEL_MODEL_WITH_MIL, SEL_IN_MEMORY_MODEL, SEL_HEX_ID, SEL_COMPILE, SEL_LOAD,
  SEL_EVALUATE, SEL_UNLOAD, SEL_OBJECT_WITH_IOSURFACE, SEL_REQUEST, N_SELECTORS
};

static const struct { guint cls; gboolean class_method; const char *name; } selector_defs[N_SELECTORS] = {
  { CLS_DESC,      TRUE,  "modelWithMILText:weights:optionsPlist:" },
  { CLS_MODEL,     TRUE,  "inMemoryModelWithDescriptor:" },
  { CLS_MODEL,     FALSE, "hexStringIdentifier" },
  { CLS_MODEL,     FALSE, "compileWithQoS:options:error:" },
  { CLS_MODEL,     FALSE, "loadWithQoS:options:error:" },
  { CLS_MODEL,     FALSE, "evaluateWithQoS:options:request:error:" },
  { CLS_MODEL,     FALSE, "unloadWithQoS:error:" },
  { CLS_IOSURFACE, TRUE,  "objectWithIOSurface:" },
  { CLS_REQUEST,   TRUE,  "requestWithInputs:inputIndices:outputs:outputIndices:weightsBuffer:perfStats:procedureIndex:" },
};

typedef struct
{
  AneObjcClass cls[N_CLASSES];
  AneObjcSel sel[N_SELECTORS];
} Api;

static gboolean
resolve_api (const AneAneRuntime *rt, Api *api, GError **error)
{
  g_autofree char *message = NULL;
  guint i;

  if (!rt->open_framework (rt, ANE_ANE_FRAMEWORK_PATH, &message))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "ANE private path: cannot open %s: %s", ANE_ANE_FRAMEWORK_PATH,
                   message ? message : "unknown error");
      return FALSE;
    }
  for (i = 0; i < N_CLASSES; i++)
    {
      api->cls[i] = rt->get_class (rt, class_names[i]);
      if (api->cls[i] == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                       "ANE private path: class %s is missing (this macOS does not have the in-memory API)",
                       class_names[i]);
          return FALSE;
        }
    }
  for (i = 0; i < N_SELECTORS; i++)
    {
      api->sel[i] = rt->register_selector (rt, selector_defs[i].name);
      if (api->sel[i] == NULL
          || !rt->responds (rt, api->cls[selector_defs[i].cls], api->sel[i], selector_defs[i].class_method))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                       "ANE private path: selector %c[%s %s] is missing (this macOS does not have the in-memory API)",
                       selector_defs[i].class_method ? '+' : '-',
                       class_names[selector_defs[i].cls], selector_defs[i].name);
          return FALSE;
        }
    }
  return TRUE;
}

static char *
describe_error (const AneAneRuntime *rt, AneObjcId err)
{
  char *text = err ? rt->describe (rt, err) : NULL;
  return text ? text : g_strdup ("unknown error (no NSError)");
}

/* ======================================================================= */
/* Compile cache                                                            */
/* ======================================================================= */

typedef struct
{
  const AneAneRuntime *rt;
  char *cache_key;           /* "%p:%s" runtime, content hash */
  AneObjcId model;           /* retained, compiled and loaded */
  AneObjcSel unload_sel;
  AneObjcId options;         /* the @{} passed to every call, +1 */
  char *tmp_dir;
  guint refs;
  guint loads;               /* programs holding it loaded (under cache_lock) */
  gboolean loaded;           /* loadWithQoS succeeded and no unload since */
} CacheEntry;

static GMutex cache_lock;
static GHashTable *cache_table;   /* cache_key -> CacheEntry (not owned) */

static void
remove_tmp_dir (const char *dir)
{
  g_autofree char *mil = NULL, *wdir = NULL, *wbin = NULL;

  if (dir == NULL)
    return;
  mil = g_build_filename (dir, "model.mil", NULL);
  wdir = g_build_filename (dir, "weights", NULL);
  wbin = g_build_filename (wdir, "weight.bin", NULL);
  g_unlink (mil);
  g_unlink (wbin);
  g_rmdir (wdir);
  g_rmdir (dir);
}

static void
cache_entry_destroy (CacheEntry *e)
{
  const AneAneRuntime *rt = e->rt;
  AneObjcId err = NULL;
  gpointer pool = rt->pool_push (rt);

  if (e->model && e->loaded)
    {
      if (!rt->msg_bool_qos_err (rt, e->model, e->unload_sel, ANE_ANE_DEFAULT_QOS, &err))
        {
          g_autofree char *why = describe_error (rt, err);
          g_warning ("ANE private path: unloadWithQoS:error: failed: %s", why);
        }
    }
  if (e->model)
    rt->release (rt, e->model);
  rt->release (rt, e->options);
  rt->pool_pop (rt, pool);
  remove_tmp_dir (e->tmp_dir);
  g_free (e->tmp_dir);
  g_free (e->cache_key);
  g_free (e);
}

static CacheEntry *
cache_lookup (const char *cache_key)
{
  CacheEntry *e = NULL;

  ane_mutex_lock (&cache_lock);
  if (cache_table)
    e = g_hash_table_lookup (cache_table, cache_key);
  if (e)
    e->refs++;
  ane_mutex_unlock (&cache_lock);
  return e;
}

/* Inserts e (refs 1), or, when another program raced us to the same key,
 * returns that one (ref'd) and the caller drops e. */
static CacheEntry *
cache_insert (CacheEntry *e)
{
  CacheEntry *old;

  ane_mutex_lock (&cache_lock);
  if (cache_table == NULL)
    cache_table = g_hash_table_new (g_str_hash, g_str_equal);
  old = g_hash_table_lookup (cache_table, e->cache_key);
  if (old)
    old->refs++;
  else
    {
      e->refs = 1;
      g_hash_table_insert (cache_table, e->cache_key, e);
    }
  ane_mutex_unlock (&cache_lock);
  return old ? old : e;
}

static void
cache_unref (CacheEntry *e)
{
  gboolean last;

  ane_mutex_lock (&cache_lock);
  last = --e->refs == 0;
  if (last)
    g_hash_table_remove (cache_table, e->cache_key);
  ane_mutex_unlock (&cache_lock);
  if (last)
    cache_entry_destroy (e);
}

/* bridge/ane_bridge.m retries a failed load once after 100 ms. */
static gboolean
load_model (const AneAneRuntime *rt,
            CacheEntry          *e,
            AneObjcSel           load_sel,
            GError             **error)
{
  AneObjcId err = NULL;
  gboolean loaded;

  loaded = rt->msg_bool_qos_opts_err (rt, e->model, load_sel, ANE_ANE_DEFAULT_QOS, e->options, &err);
  if (!loaded)
    {
      g_usleep (100000);
      err = NULL;
      loaded = rt->msg_bool_qos_opts_err (rt, e->model, load_sel, ANE_ANE_DEFAULT_QOS, e->options, &err);
    }
  if (!loaded)
    {
      g_autofree char *why = describe_error (rt, err);
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "ANE load failed: %s", why);
    }
  return loaded;
}

/* A program's hold on its model in the device: the first one loads it
 * (again, when every holder unloaded it), the last one to let go unloads
 * it, so programs sharing a compiled model (the cache) never unload it
 * under each other. The compiled model stays: loading again compiles
 * nothing (rane's Program: compile once, load and unload at will). */
static gboolean
entry_hold (CacheEntry  *e,
            AneObjcSel   load_sel,
            GError     **error)
{
  gboolean ok = TRUE;

  ane_mutex_lock (&cache_lock);
  if (e->loads == 0 && !e->loaded)
    {
      gpointer pool = e->rt->pool_push (e->rt);
      ok = load_model (e->rt, e, load_sel, error);
      e->rt->pool_pop (e->rt, pool);
    }
  if (ok)
    {
      e->loads++;
      e->loaded = TRUE;
    }
  ane_mutex_unlock (&cache_lock);
  return ok;
}

static void
entry_release (CacheEntry *e)
{
  ane_mutex_lock (&cache_lock);
  if (--e->loads == 0 && e->loaded)
    {
      const AneAneRuntime *rt = e->rt;
      AneObjcId err = NULL;
      gpointer pool = rt->pool_push (rt);

      if (!rt->msg_bool_qos_err (rt, e->model, e->unload_sel, ANE_ANE_DEFAULT_QOS, &err))
        {
          g_autofree char *why = describe_error (rt, err);
          g_warning ("ANE private path: unloadWithQoS:error: failed: %s", why);
        }
      e->loaded = FALSE;
      rt->pool_pop (rt, pool);
    }
  ane_mutex_unlock (&cache_lock);
}

guint
ane_ane_cache_size (void)
{
  guint n;

  ane_mutex_lock (&cache_lock);
  n = cache_table ? g_hash_table_size (cache_table) : 0;
  ane_mutex_unlock (&cache_lock);
  return n;
}

/* ======================================================================= */
/* Programs                                                                 */
/* ======================================================================= */

typedef struct
{
  char *name;
  gint64 *shape;
  guint rank;
  AneAneSurfaceLayout layout;
  AneSurfaceRef surface;     /* +1 */
  AneObjcId wrapper;         /* _ANEIOSurfaceObject, retained */
} Port;

struct _AneAneProgram
{
  const AneAneRuntime *rt;
  Api api;
  char *key;
  gboolean was_cached;
  CacheEntry *entry;
  Port *inputs, *outputs;
  guint n_inputs, n_outputs;
  AneObjcId request;         /* retained */
  gboolean holds_load;       /* entry_hold taken */
  guint64 copied;            /* bytes packed into and unpacked from its own surfaces */
};

struct _AneAneRequest
{
  const AneAneRuntime *rt;
  AneObjcId *wrappers;       /* retained, inputs then outputs */
  guint n;
  AneObjcId request;         /* retained */
};

static char *
content_key (const char *mil_text, GBytes *weights)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint64 lens[2];
  gsize wsize = 0;
  gconstpointer wdata = weights ? g_bytes_get_data (weights, &wsize) : NULL;

  /* Length-prefixed so (text, weights) pairs cannot collide by shifting. */
  lens[0] = GUINT64_TO_LE ((guint64) strlen (mil_text));
  lens[1] = GUINT64_TO_LE ((guint64) wsize);
  g_checksum_update (sum, (const guchar *) lens, sizeof lens);
  g_checksum_update (sum, (const guchar *) mil_text, strlen (mil_text));
  if (wsize)
    g_checksum_update (sum, wdata, wsize);
  return g_strdup (g_checksum_get_string (sum));
}

static gboolean
init_ports (Port **out, const AneAneTensorSpec *specs, guint n, const char *what, GError **error)
{
  Port *ports = g_new0 (Port, n ? n : 1);
  guint i;

  *out = ports;
  for (i = 0; i < n; i++)
    {
      g_autoptr(GError) local = NULL;

      if (specs[i].name == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                       "ANE program: %s %u has no name", what, i);
          return FALSE;
        }
      ports[i].name = g_strdup (specs[i].name);
      ports[i].rank = specs[i].rank;
      ports[i].shape = g_memdup2 (specs[i].shape, sizeof (gint64) * MAX (specs[i].rank, 1u));
      if (!ane_ane_surface_layout_init (&ports[i].layout, specs[i].shape, specs[i].rank,
                                        ANE_ANE_ROW_ALIGN, &local))
        {
          g_set_error (error, ANE_ERROR, local->code, "ANE program: %s '%s': %s",
                       what, specs[i].name, local->message);
          return FALSE;
        }
    }
  return TRUE;
}

static void
free_ports (const AneAneRuntime *rt, Port *ports, guint n)
{
  guint i;

  if (ports == NULL)
    return;
  for (i = 0; i < n; i++)
    {
      if (ports[i].wrapper)
        rt->release (rt, ports[i].wrapper);
      if (ports[i].surface)
        rt->cf_release (rt, ports[i].surface);
      g_free (ports[i].name);
      g_free (ports[i].shape);
    }
  g_free (ports);
}

static gboolean
write_file (const char *dir, const char *rel, gconstpointer data, gsize size, GError **error)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  g_autoptr(GError) local = NULL;

  if (!g_file_set_contents (path, data, (gssize) size, &local))
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO,
                   "ANE private path: cannot write %s: %s", path, local->message);
      return FALSE;
    }
  return TRUE;
}

/* desc -> model -> temp dir -> compile -> load. Returns a new entry (refs 0,
 * not in the cache) or NULL. Runs inside an autorelease pool. */
static CacheEntry *
build_model (const AneAneRuntime *rt,
             const Api           *api,
             const char          *cache_key,
             const char          *mil_text,
             GBytes              *weights,
             const char          *tmp_root,
             GError             **error)
{
  CacheEntry *e = g_new0 (CacheEntry, 1);
  gsize wsize = 0;
  gconstpointer wdata = weights ? g_bytes_get_data (weights, &wsize) : NULL;
  AneObjcId mil = NULL, wblob = NULL, wentry = NULL, wdict = NULL, offset = NULL;
  AneObjcId desc, model, hex, err = NULL;
  g_autofree char *hex_text = NULL;
  g_autofree char *wdir = NULL;

  /* before any object is made: a compile past the budget would fail
   * silently inside the framework (ane-ane-budget.c) */
  if (!ane_ane_compile_budget_take (error))
    {
      g_free (e);
      return NULL;
    }
  e->rt = rt;
  e->cache_key = g_strdup (cache_key);
  e->unload_sel = api->sel[SEL_UNLOAD];
  e->options = rt->new_dictionary (rt, NULL, NULL, 0);

  /* @{"@model_path/weights/weight.bin": @{@"offset": @0, @"data": blob}}
   * (maderix/ANE training/ane_runtime.h); @{} without weights. */
  mil = rt->new_data (rt, mil_text, strlen (mil_text));
  if (wsize > 0)
    {
      static const char *const entry_keys[2] = { "offset", "data" };
      static const char *const dict_keys[1] = { ANE_ANE_WEIGHT_PATH };
      AneObjcId entry_values[2];

      wblob = rt->new_data (rt, wdata, wsize);
      offset = rt->new_number (rt, 0);
      entry_values[0] = offset;
      entry_values[1] = wblob;
      wentry = rt->new_dictionary (rt, entry_keys, entry_values, 2);
      wdict = rt->new_dictionary (rt, dict_keys, &wentry, 1);
    }
  else
    wdict = rt->new_dictionary (rt, NULL, NULL, 0);

  desc = rt->msg_id_p3 (rt, api->cls[CLS_DESC], api->sel[SEL_MODEL_WITH_MIL], mil, wdict, NULL);
  rt->release (rt, mil);
  rt->release (rt, wblob);
  rt->release (rt, offset);
  rt->release (rt, wentry);
  rt->release (rt, wdict);
  if (desc == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                   "ANE private path: +[_ANEInMemoryModelDescriptor modelWithMILText:weights:optionsPlist:] returned nil (MIL text or weights rejected)");
      goto fail;
    }
  model = rt->msg_id_p1 (rt, api->cls[CLS_MODEL], api->sel[SEL_IN_MEMORY_MODEL], desc);
  if (model == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                   "ANE private path: +[_ANEInMemoryModel inMemoryModelWithDescriptor:] returned nil");
      goto fail;
    }
  e->model = rt->retain (rt, model);

  /* The compiler works in $TMPDIR/<hexStringIdentifier>; the sources fill
   * it with model.mil and weights/ first. */
  hex = rt->msg_id (rt, e->model, api->sel[SEL_HEX_ID]);
  hex_text = hex ? rt->describe (rt, hex) : NULL;
  if (hex_text == NULL || hex_text[0] == '\0' || strchr (hex_text, '/') != NULL
      || strcmp (hex_text, ".") == 0 || strcmp (hex_text, "..") == 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                   "ANE private path: -[_ANEInMemoryModel hexStringIdentifier] gave no usable identifier");
      goto fail;
    }
  e->tmp_dir = g_build_filename (tmp_root ? tmp_root : g_get_tmp_dir (), hex_text, NULL);
  wdir = g_build_filename (e->tmp_dir, "weights", NULL);
  if (g_mkdir_with_parents (wdir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, ANE_ERROR, ANE_ERROR_IO,
                   "ANE private path: cannot create %s: %s", wdir, g_strerror (saved));
      goto fail;
    }
  if (!write_file (e->tmp_dir, "model.mil", mil_text, strlen (mil_text), error))
    goto fail;
  if (wsize > 0 && !write_file (e->tmp_dir, "weights/weight.bin", wdata, wsize, error))
    goto fail;

  if (!rt->msg_bool_qos_opts_err (rt, e->model, api->sel[SEL_COMPILE], ANE_ANE_DEFAULT_QOS, e->options, &err))
    {
      g_autofree char *why = describe_error (rt, err);
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "ANE compile failed: %s", why);
      goto fail;
    }
  if (!load_model (rt, e, api->sel[SEL_LOAD], error))
    goto fail;
  e->loaded = TRUE;
  return e;

fail:
  /* Nothing is loaded: release without unloading. */
  rt->release (rt, e->model);
  e->model = NULL;
  rt->release (rt, e->options);
  remove_tmp_dir (e->tmp_dir);
  g_free (e->tmp_dir);
  g_free (e->cache_key);
  g_free (e);
  return NULL;
}

static gboolean
make_surfaces (AneAneProgram *p, Port *ports, guint n, GError **error)
{
  const AneAneRuntime *rt = p->rt;
  guint i;

  for (i = 0; i < n; i++)
    {
      AneAneSurfaceLayout *l = &ports[i].layout;
      gsize rows = l->channels * l->height, bpr, alloc;
      AneObjcId wrapper;

      ports[i].surface = rt->surface_create (rt, l->row_bytes, rows, l->total_bytes);
      if (ports[i].surface == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                       "ANE private path: IOSurfaceCreate failed for '%s' (%" G_GSIZE_FORMAT " bytes)",
                       ports[i].name, l->total_bytes);
          return FALSE;
        }
      /* The system may widen rows; follow what the surface reports. */
      bpr = rt->surface_bytes_per_row (rt, ports[i].surface);
      alloc = rt->surface_alloc_size (rt, ports[i].surface);
      if (bpr != l->row_bytes && bpr >= l->width * 2 && bpr % 2 == 0)
        {
          l->row_bytes = bpr;
          l->plane_bytes = bpr * l->height;
          l->total_bytes = l->plane_bytes * l->channels;
        }
      if (bpr < l->width * 2 || alloc < l->total_bytes)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                       "ANE private path: surface for '%s' is too small (%" G_GSIZE_FORMAT " bytes per row, %"
                       G_GSIZE_FORMAT " bytes; need %" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT ")",
                       ports[i].name, bpr, alloc, l->row_bytes, l->total_bytes);
          return FALSE;
        }
      wrapper = rt->msg_id_p1 (rt, p->api.cls[CLS_IOSURFACE], p->api.sel[SEL_OBJECT_WITH_IOSURFACE],
                               ports[i].surface);
      if (wrapper == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                       "ANE private path: +[_ANEIOSurfaceObject objectWithIOSurface:] returned nil for '%s'",
                       ports[i].name);
          return FALSE;
        }
      ports[i].wrapper = rt->retain (rt, wrapper);
    }
  return TRUE;
}

/* An _ANERequest over these surface wrappers (inputs, then outputs, in the
 * ports' order), retained. */
static AneObjcId
build_request (AneAneProgram *p, const AneObjcId *in_objs, const AneObjcId *out_objs, GError **error)
{
  const AneAneRuntime *rt = p->rt;
  g_autofree AneObjcId *in_idx = g_new0 (AneObjcId, p->n_inputs + 1);
  g_autofree AneObjcId *out_idx = g_new0 (AneObjcId, p->n_outputs + 1);
  AneObjcId a_in, a_in_idx, a_out, a_out_idx, proc, req;
  guint i;

  for (i = 0; i < p->n_inputs; i++)
    in_idx[i] = rt->new_number (rt, i);
  for (i = 0; i < p->n_outputs; i++)
    out_idx[i] = rt->new_number (rt, i);
  a_in = rt->new_array (rt, in_objs, p->n_inputs);
  a_in_idx = rt->new_array (rt, in_idx, p->n_inputs);
  a_out = rt->new_array (rt, out_objs, p->n_outputs);
  a_out_idx = rt->new_array (rt, out_idx, p->n_outputs);
  proc = rt->new_number (rt, 0);
  for (i = 0; i < p->n_inputs; i++)
    rt->release (rt, in_idx[i]);
  for (i = 0; i < p->n_outputs; i++)
    rt->release (rt, out_idx[i]);

  /* weightsBuffer: nil, perfStats: nil, procedureIndex: @0 */
  req = rt->msg_id_p7 (rt, p->api.cls[CLS_REQUEST], p->api.sel[SEL_REQUEST],
                       a_in, a_in_idx, a_out, a_out_idx, NULL, NULL, proc);
  rt->release (rt, a_in);
  rt->release (rt, a_in_idx);
  rt->release (rt, a_out);
  rt->release (rt, a_out_idx);
  rt->release (rt, proc);
  if (req == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                   "ANE private path: +[_ANERequest requestWithInputs:…procedureIndex:] returned nil");
      return NULL;
    }
  return rt->retain (rt, req);
}

static gboolean
make_request (AneAneProgram *p, GError **error)
{
  g_autofree AneObjcId *in_objs = g_new0 (AneObjcId, p->n_inputs + 1);
  g_autofree AneObjcId *out_objs = g_new0 (AneObjcId, p->n_outputs + 1);

  for (guint i = 0; i < p->n_inputs; i++)
    in_objs[i] = p->inputs[i].wrapper;
  for (guint i = 0; i < p->n_outputs; i++)
    out_objs[i] = p->outputs[i].wrapper;
  p->request = build_request (p, in_objs, out_objs, error);
  return p->request != NULL;
}

AneAneProgram *
ane_ane_program_new (const AneAneRuntime    *runtime,
                     const char             *mil_text,
                     GBytes                 *weights,
                     const AneAneTensorSpec *inputs,
                     guint                   n_inputs,
                     const AneAneTensorSpec *outputs,
                     guint                   n_outputs,
                     const char             *tmp_root,
                     GError                **error)
{
  const AneAneRuntime *rt = runtime ? runtime : ane_ane_runtime_get ();
  g_autoptr(AneAneProgram) p = NULL;
  g_autofree char *cache_key = NULL;
  gpointer pool;
  gboolean ok;

  g_return_val_if_fail (mil_text != NULL, NULL);
  g_return_val_if_fail (n_inputs == 0 || inputs != NULL, NULL);
  g_return_val_if_fail (n_outputs == 0 || outputs != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (rt == NULL)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED,
                   "The Neural Engine private path is not available on this platform "
                   "(it needs macOS with AppleNeuralEngine.framework)");
      return NULL;
    }
  if (n_outputs == 0)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT,
                   "ANE program: at least one output is required");
      return NULL;
    }

  p = g_new0 (AneAneProgram, 1);
  p->rt = rt;
  p->n_inputs = n_inputs;
  p->n_outputs = n_outputs;
  if (!init_ports (&p->inputs, inputs, n_inputs, "input", error)
      || !init_ports (&p->outputs, outputs, n_outputs, "output", error))
    return NULL;

  if (!resolve_api (rt, &p->api, error))
    return NULL;

  p->key = content_key (mil_text, weights);
  cache_key = g_strdup_printf ("%p:%s", (gconstpointer) rt, p->key);

  pool = rt->pool_push (rt);
  p->entry = cache_lookup (cache_key);
  if (p->entry)
    p->was_cached = TRUE;
  else
    {
      CacheEntry *built = build_model (rt, &p->api, cache_key, mil_text, weights, tmp_root, error);

      if (built)
        {
          p->entry = cache_insert (built);
          if (p->entry != built)
            {
              cache_entry_destroy (built);
              p->was_cached = TRUE;
            }
        }
    }
  ok = p->entry != NULL
       && (p->holds_load = entry_hold (p->entry, p->api.sel[SEL_LOAD], error))
       && make_surfaces (p, p->inputs, p->n_inputs, error)
       && make_surfaces (p, p->outputs, p->n_outputs, error)
       && make_request (p, error);
  rt->pool_pop (rt, pool);
  if (!ok)
    return NULL;
  return g_steal_pointer (&p);
}

GPtrArray *
ane_ane_program_run (AneAneProgram *p,
                     GHashTable    *inputs,
                     GError       **error)
{
  const AneAneRuntime *rt;
  g_autoptr(GPtrArray) result = NULL;
  AneObjcId err = NULL;
  gpointer pool;
  gboolean ok;
  guint i;

  g_return_val_if_fail (p != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  rt = p->rt;

  if (!p->holds_load)
    {
      g_set_error_literal (error, ANE_ERROR, ANE_ERROR_NOT_COMPILED, "ANE program: the model is unloaded");
      return NULL;
    }
  for (i = 0; i < p->n_inputs; i++)
    {
      AneTensor *t = inputs ? g_hash_table_lookup (inputs, p->inputs[i].name) : NULL;
      guint8 *base;

      if (t == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND,
                       "ANE program: input '%s' is missing", p->inputs[i].name);
          return NULL;
        }
      if (!rt->surface_lock (rt, p->inputs[i].surface, FALSE))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                       "ANE private path: IOSurfaceLock failed for input '%s'", p->inputs[i].name);
          return NULL;
        }
      base = rt->surface_base_address (rt, p->inputs[i].surface);
      ok = base != NULL && ane_ane_surface_pack_tensor (&p->inputs[i].layout, t, base, error);
      rt->surface_unlock (rt, p->inputs[i].surface, FALSE);
      p->copied += p->inputs[i].layout.total_bytes;
      if (!ok)
        {
          if (base == NULL)
            g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                         "ANE private path: input surface '%s' has no base address", p->inputs[i].name);
          return NULL;
        }
    }

  pool = rt->pool_push (rt);
  ok = rt->msg_bool_qos_opts_req_err (rt, p->entry->model, p->api.sel[SEL_EVALUATE],
                                      ANE_ANE_DEFAULT_QOS, p->entry->options, p->request, &err);
  if (!ok)
    {
      g_autofree char *why = describe_error (rt, err);
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "ANE evaluate failed: %s", why);
    }
  rt->pool_pop (rt, pool);
  if (!ok)
    return NULL;

  result = g_ptr_array_new_with_free_func (g_object_unref);
  for (i = 0; i < p->n_outputs; i++)
    {
      Port *o = &p->outputs[i];
      gsize n = o->layout.channels * o->layout.height * o->layout.width;
      g_autofree float *values = NULL;
      g_autoptr(GBytes) bytes = NULL;
      const guint8 *base;
      AneTensor *t;

      if (!rt->surface_lock (rt, o->surface, TRUE))
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                       "ANE private path: IOSurfaceLock failed for output '%s'", o->name);
          return NULL;
        }
      base = rt->surface_base_address (rt, o->surface);
      if (base)
        {
          values = g_new (float, n);
          ane_ane_surface_unpack_f32 (&o->layout, base, values);
          p->copied += o->layout.total_bytes;
        }
      rt->surface_unlock (rt, o->surface, TRUE);
      if (values == NULL)
        {
          g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                       "ANE private path: output surface '%s' has no base address", o->name);
          return NULL;
        }
      /* the tensor takes the buffer: no second copy */
      bytes = g_bytes_new_take (g_steal_pointer (&values), n * sizeof (float));
      t = ane_tensor_new_from_bytes (o->name, ANE_DTYPE_FLOAT32, o->shape, o->rank, bytes, error);
      if (t == NULL)
        return NULL;
      g_ptr_array_add (result, t);
    }
  return g_steal_pointer (&result);
}

const char *
ane_ane_program_get_key (AneAneProgram *p)
{
  g_return_val_if_fail (p != NULL, NULL);
  return p->key;
}

gboolean
ane_ane_program_was_cached (AneAneProgram *p)
{
  g_return_val_if_fail (p != NULL, FALSE);
  return p->was_cached;
}

guint64
ane_ane_program_get_copied (AneAneProgram *p)
{
  g_return_val_if_fail (p != NULL, 0);
  return p->copied;
}

gboolean
ane_ane_program_is_loaded (AneAneProgram *p)
{
  g_return_val_if_fail (p != NULL, FALSE);
  return p->holds_load;
}

gboolean
ane_ane_program_load (AneAneProgram  *p,
                      GError        **error)
{
  g_return_val_if_fail (p != NULL, FALSE);
  if (p->holds_load)
    return TRUE;
  p->holds_load = entry_hold (p->entry, p->api.sel[SEL_LOAD], error);
  return p->holds_load;
}

void
ane_ane_program_unload (AneAneProgram *p)
{
  g_return_if_fail (p != NULL);
  if (!p->holds_load)
    return;
  entry_release (p->entry);
  p->holds_load = FALSE;
}

/* A surface a caller made must have the row and size the port's own
 * surface has: the compiled program reads it that way. */
static gboolean
check_surface (AneAneProgram *p, Port *port, AneSurfaceRef s, const char *what, GError **error)
{
  const AneAneRuntime *rt = p->rt;

  if (s == NULL || rt->surface_bytes_per_row (rt, s) != port->layout.row_bytes ||
      rt->surface_alloc_size (rt, s) < port->layout.total_bytes)
    {
      g_set_error (error, ANE_ERROR, ANE_ERROR_SHAPE,
                   "ANE program: the surface bound to %s '%s' is not laid out as the port (%" G_GSIZE_FORMAT
                   " bytes per row, at least %" G_GSIZE_FORMAT " bytes)", what, port->name,
                   port->layout.row_bytes, port->layout.total_bytes);
      return FALSE;
    }
  return TRUE;
}

AneAneRequest *
ane_ane_request_new (AneAneProgram        *p,
                     const AneSurfaceRef  *inputs,
                     const AneSurfaceRef  *outputs,
                     GError              **error)
{
  const AneAneRuntime *rt;
  g_autoptr(AneAneRequest) r = NULL;
  gpointer pool;
  guint i;

  g_return_val_if_fail (p != NULL, NULL);
  rt = p->rt;
  for (i = 0; i < p->n_inputs; i++)
    if (!check_surface (p, &p->inputs[i], inputs[i], "input", error))
      return NULL;
  for (i = 0; i < p->n_outputs; i++)
    if (!check_surface (p, &p->outputs[i], outputs[i], "output", error))
      return NULL;
  r = g_new0 (AneAneRequest, 1);
  r->rt = rt;
  r->n = p->n_inputs + p->n_outputs;
  r->wrappers = g_new0 (AneObjcId, r->n + 1);
  pool = rt->pool_push (rt);
  for (i = 0; i < r->n; i++)
    {
      AneSurfaceRef s = i < p->n_inputs ? inputs[i] : outputs[i - p->n_inputs];
      AneObjcId w = rt->msg_id_p1 (rt, p->api.cls[CLS_IOSURFACE], p->api.sel[SEL_OBJECT_WITH_IOSURFACE], s);

      if (w == NULL)
        {
          rt->pool_pop (rt, pool);
          g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED,
                       "ANE private path: +[_ANEIOSurfaceObject objectWithIOSurface:] returned nil for a bound surface");
          return NULL;
        }
      r->wrappers[i] = rt->retain (rt, w);
    }
  r->request = build_request (p, r->wrappers, r->wrappers + p->n_inputs, error);
  rt->pool_pop (rt, pool);
  if (r->request == NULL)
    return NULL;
  return g_steal_pointer (&r);
}

void
ane_ane_request_free (AneAneRequest *r)
{
  if (r == NULL)
    return;
  if (r->request)
    r->rt->release (r->rt, r->request);
  for (guint i = 0; i < r->n; i++)
    r->rt->release (r->rt, r->wrappers[i]);
  g_free (r->wrappers);
  g_free (r);
}

gboolean
ane_ane_program_evaluate (AneAneProgram  *p,
                          AneAneRequest  *r,
                          GError        **error)
{
  const AneAneRuntime *rt;
  AneObjcId err = NULL;
  gpointer pool;
  gboolean ok;

  g_return_val_if_fail (p != NULL && r != NULL, FALSE);
  rt = p->rt;
  if (!p->holds_load)
    {
      g_set_error_literal (error, ANE_ERROR, ANE_ERROR_NOT_COMPILED, "ANE program: the model is unloaded");
      return FALSE;
    }
  pool = rt->pool_push (rt);
  ok = rt->msg_bool_qos_opts_req_err (rt, p->entry->model, p->api.sel[SEL_EVALUATE],
                                      ANE_ANE_DEFAULT_QOS, p->entry->options, r->request, &err);
  if (!ok)
    {
      g_autofree char *why = describe_error (rt, err);
      g_set_error (error, ANE_ERROR, ANE_ERROR_FAILED, "ANE evaluate failed: %s", why);
    }
  rt->pool_pop (rt, pool);
  return ok;
}

void
ane_ane_program_free (AneAneProgram *p)
{
  if (p == NULL)
    return;
  if (p->request)
    p->rt->release (p->rt, p->request);
  free_ports (p->rt, p->inputs, p->n_inputs);
  free_ports (p->rt, p->outputs, p->n_outputs);
  if (p->entry && p->holds_load)
    entry_release (p->entry);
  if (p->entry)
    cache_unref (p->entry);
  g_free (p->key);
  g_free (p);
}
