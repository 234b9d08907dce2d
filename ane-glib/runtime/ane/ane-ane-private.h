/* runtime/ane/ane-ane-private.h: the Neural Engine's private in-memory path
 *
 * What ggml-ane, rane and maderix/ANE do from Objective-C, written as plain C
 * over a table of function pointers (AneAneRuntime) so the logic compiles and
 * is unit-tested everywhere: on Linux the tests swap in a fake table. The
 * real table exists only on __APPLE__ and is built with dlopen/dlsym; it has
 * NEVER been run here (see docs/ane-private.md).
 *
 * The sequence (maderix/ANE training/ane_runtime.h, bridge/ane_bridge.m):
 *   desc = [_ANEInMemoryModelDescriptor modelWithMILText:weights:optionsPlist:]
 *   mdl  = [_ANEInMemoryModel inMemoryModelWithDescriptor:desc]
 *   hx   = [mdl hexStringIdentifier]; write $TMPDIR/hx/model.mil, weights/…
 *   [mdl compileWithQoS:21 options:@{} error:&e]
 *   [mdl loadWithQoS:21 options:@{} error:&e]
 *   IOSurfaces -> [_ANEIOSurfaceObject objectWithIOSurface:]
 *   req  = [_ANERequest requestWithInputs:inputIndices:outputs:outputIndices:
 *                                weightsBuffer:perfStats:procedureIndex:]
 *   [mdl evaluateWithQoS:21 options:@{} request:req error:&e]
 *   [mdl unloadWithQoS:21 error:&e]
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-private.h"

G_BEGIN_DECLS

/* --- the runtime table ------------------------------------------------- */

/* Opaque Objective-C / CoreFoundation handles: id, Class, SEL, IOSurfaceRef. */
typedef gpointer AneObjcId;
typedef gpointer AneObjcClass;
typedef gpointer AneObjcSel;
typedef gpointer AneSurfaceRef;

typedef struct _AneAneRuntime AneAneRuntime;

/* Every entry is required unless noted. "err" out-parameters receive an
 * NSError-like object (or stay NULL) that describe() turns into text.
 * Objects returned by the msg_* entries are autoreleased (+0): the program
 * retains what it keeps. */
struct _AneAneRuntime
{
  const char *name;                       /* for messages: "macOS", "fake" */
  gpointer    user_data;                  /* for the implementation */

  /* dlopen-style: load a framework image; FALSE + message on failure. */
  gboolean      (*open_framework)     (const AneAneRuntime *rt, const char *path, char **message);

  AneObjcClass  (*get_class)          (const AneAneRuntime *rt, const char *name);
  AneObjcSel    (*register_selector)  (const AneAneRuntime *rt, const char *name);
  /* class_respondsToSelector on cls (instance methods) or on its metaclass
   * (class_method = TRUE). */
  gboolean      (*responds)           (const AneAneRuntime *rt, AneObjcClass cls, AneObjcSel sel, gboolean class_method);

  gpointer      (*pool_push)          (const AneAneRuntime *rt);
  void          (*pool_pop)           (const AneAneRuntime *rt, gpointer pool);
  AneObjcId     (*retain)             (const AneAneRuntime *rt, AneObjcId obj);
  void          (*release)            (const AneAneRuntime *rt, AneObjcId obj);   /* NULL ignored */
  /* A newly allocated UTF-8 description of obj (NSString: its text; NSError:
   * its localized description); NULL for NULL. */
  char         *(*describe)           (const AneAneRuntime *rt, AneObjcId obj);

  /* Foundation values (toll-free bridged CF objects on macOS), +1. */
  AneObjcId     (*new_data)           (const AneAneRuntime *rt, gconstpointer bytes, gsize size);
  AneObjcId     (*new_number)         (const AneAneRuntime *rt, gint64 value);
  AneObjcId     (*new_array)          (const AneAneRuntime *rt, const AneObjcId *items, gsize n);
  AneObjcId     (*new_dictionary)     (const AneAneRuntime *rt, const char *const *keys, const AneObjcId *values, gsize n);

  /* Typed objc_msgSend variants. */
  AneObjcId     (*msg_id)             (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel);
  AneObjcId     (*msg_id_p1)          (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, gpointer a);
  AneObjcId     (*msg_id_p3)          (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, gpointer a, gpointer b, gpointer c);
  AneObjcId     (*msg_id_p7)          (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel,
                                       gpointer a, gpointer b, gpointer c, gpointer d, gpointer e, gpointer f, gpointer g);
  /* -(BOOL)x:(unsigned)qos options:(id)o error:(NSError **)e */
  gboolean      (*msg_bool_qos_opts_err)     (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, guint qos, AneObjcId opts, AneObjcId *err);
  /* -(BOOL)evaluateWithQoS:(unsigned)qos options:(id)o request:(id)r error:(NSError **)e */
  gboolean      (*msg_bool_qos_opts_req_err) (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, guint qos, AneObjcId opts, AneObjcId req, AneObjcId *err);
  /* -(BOOL)unloadWithQoS:(unsigned)qos error:(NSError **)e */
  gboolean      (*msg_bool_qos_err)          (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, guint qos, AneObjcId *err);

  /* IOSurface: a width = bytes_per_row, height = rows, 1 byte per element,
   * pixel format 0 surface of alloc_size bytes (+1). */
  AneSurfaceRef (*surface_create)          (const AneAneRuntime *rt, gsize bytes_per_row, gsize rows, gsize alloc_size);
  gboolean      (*surface_lock)            (const AneAneRuntime *rt, AneSurfaceRef s, gboolean read_only);
  void          (*surface_unlock)          (const AneAneRuntime *rt, AneSurfaceRef s, gboolean read_only);
  gpointer      (*surface_base_address)    (const AneAneRuntime *rt, AneSurfaceRef s);
  gsize         (*surface_bytes_per_row)   (const AneAneRuntime *rt, AneSurfaceRef s);
  gsize         (*surface_alloc_size)      (const AneAneRuntime *rt, AneSurfaceRef s);
  void          (*cf_release)              (const AneAneRuntime *rt, gpointer cf);   /* NULL ignored */
};

/* The platform table: on __APPLE__ one built (once) with dlopen of the
 * system frameworks, or NULL when that fails; NULL on every other platform. */
const AneAneRuntime *ane_ane_runtime_get_default  (void);
/* What programs use when given no runtime: the override if one is set, else
 * the default. Tests set a fake table; NULL restores the default. */
const AneAneRuntime *ane_ane_runtime_get          (void);
void                 ane_ane_runtime_set_override (const AneAneRuntime *runtime);

/* Frameworks the real table loads (and ane_ane_program_new opens). */
#define ANE_ANE_FRAMEWORK_PATH "/System/Library/PrivateFrameworks/AppleNeuralEngine.framework/AppleNeuralEngine"

/* QoS every source uses (maderix/ANE: 21 = user-interactive). */
#define ANE_ANE_DEFAULT_QOS 21

/* The weight file name the MIL text refers to (ane_package_save_mil). */
#define ANE_ANE_WEIGHT_PATH "@model_path/weights/weight.bin"

/* --- surface layout (ane-ane-surface.c) -------------------------------- */

/* A tensor [C, H, W] (a leading N of 1 allowed) on an fp16 surface:
 * channel planes of H rows, each row W halfs padded to row_bytes (a
 * multiple of row_align), planes back to back. */
typedef struct
{
  gsize channels, height, width;
  gsize row_align;            /* bytes; 64 by default, 2 = packed */
  gsize row_bytes;            /* width * 2 rounded up to row_align */
  gsize plane_bytes;          /* height * row_bytes */
  gsize total_bytes;          /* channels * plane_bytes */
} AneAneSurfaceLayout;

#define ANE_ANE_ROW_ALIGN 64

/* Fills layout for shape (rank 1..4; rank 4 needs N = 1; rank < 3 pads
 * with leading 1s: [W] -> [1, 1, W], [H, W] -> [1, H, W]). row_align must be
 * a power of two >= 2. ANE_ERROR_SHAPE / _INVALID_ARGUMENT / _OVERFLOW. */
gboolean ane_ane_surface_layout_init (AneAneSurfaceLayout *layout,
                                      const gint64        *shape,
                                      guint                rank,
                                      gsize                row_align,
                                      GError             **error);

/* Packs src (float32 or float16 bits, C*H*W elements, row-major) into dst
 * (layout->total_bytes, which need not be aligned); padding bytes are
 * written as zero. */
void     ane_ane_surface_pack_f32    (const AneAneSurfaceLayout *layout, const float   *src, guint8 *dst);
void     ane_ane_surface_pack_f16    (const AneAneSurfaceLayout *layout, const guint16 *src, guint8 *dst);
/* The inverse: reads C*H*W elements, skipping padding. */
void     ane_ane_surface_unpack_f32  (const AneAneSurfaceLayout *layout, const guint8 *src, float   *dst);
void     ane_ane_surface_unpack_f16  (const AneAneSurfaceLayout *layout, const guint8 *src, guint16 *dst);

/* Packs a FLOAT32 or FLOAT16 AneTensor of layout's element count (dtype
 * otherwise: ANE_ERROR_DTYPE; size: ANE_ERROR_SHAPE). */
gboolean ane_ane_surface_pack_tensor (const AneAneSurfaceLayout *layout, AneTensor *tensor, guint8 *dst, GError **error);

/* --- programs (ane-ane-runtime.c) -------------------------------------- */

/* One input or output of the MIL function, in the request's index order. */
typedef struct
{
  const char *name;
  const gint64 *shape;
  guint rank;
} AneAneTensorSpec;

typedef struct _AneAneProgram AneAneProgram;

/* Builds (or takes from the compile cache) the compiled, loaded model for
 * mil_text + weights (the weight.bin contents, may be NULL) and its request
 * with one surface per input and output. runtime NULL: ane_ane_runtime_get ().
 * tmp_root NULL: g_get_tmp_dir (). Errors: ANE_ERROR_UNSUPPORTED when there
 * is no runtime, the framework does not open, or a class or selector is
 * missing (naming it); ANE_ERROR_FAILED naming the step and the NSError
 * text when descriptor, model, compile, load or request fails;
 * ANE_ERROR_TOO_LARGE when a compile is needed and the process's compile
 * budget is spent (ane_ane_compile_budget_take). */
AneAneProgram *ane_ane_program_new        (const AneAneRuntime    *runtime,
                                           const char             *mil_text,
                                           GBytes                 *weights,
                                           const AneAneTensorSpec *inputs,
                                           guint                   n_inputs,
                                           const AneAneTensorSpec *outputs,
                                           guint                   n_outputs,
                                           const char             *tmp_root,
                                           GError                **error);
/* Runs once: inputs by name (AneTensor FLOAT32/FLOAT16); returns the outputs
 * (FLOAT32, the spec's names and shapes) in spec order. */
GPtrArray     *ane_ane_program_run        (AneAneProgram *program,
                                           GHashTable    *inputs,
                                           GError       **error);
/* Lowercase hex SHA-256 of (MIL text, weights): the compile cache key. */
const char    *ane_ane_program_get_key    (AneAneProgram *program);
/* TRUE when this program reused a model compiled for an earlier one. */
gboolean       ane_ane_program_was_cached (AneAneProgram *program);
void           ane_ane_program_free       (AneAneProgram *program);

/* Bytes the program's runs packed into and unpacked from its own surfaces. */
guint64        ane_ane_program_get_copied (AneAneProgram *program);

/* The model in the device, held or let go explicitly (rane's Program::load
 * and unload): programs sharing one compiled model (the cache) count their
 * holds, the first loads it and the last one to let go unloads it; the
 * compiled model stays, so loading again compiles nothing. A program holds
 * its model from ane_ane_program_new on; runs of an unloaded program fail
 * with ANE_ERROR_NOT_COMPILED. */
gboolean       ane_ane_program_load       (AneAneProgram *program,
                                           GError       **error);
void           ane_ane_program_unload     (AneAneProgram *program);
gboolean       ane_ane_program_is_loaded  (AneAneProgram *program);

/* A request over surfaces the caller made (bound buffers): one per input
 * and per output, in the specs' order, each laid out as the port's own
 * (ANE_ERROR_SHAPE naming the port otherwise). The caller keeps the
 * surfaces alive as long as the request. Evaluating it copies nothing. */
typedef struct _AneAneRequest AneAneRequest;
AneAneRequest *ane_ane_request_new        (AneAneProgram       *program,
                                           const AneSurfaceRef *inputs,
                                           const AneSurfaceRef *outputs,
                                           GError             **error);
void           ane_ane_request_free       (AneAneRequest       *request);
gboolean       ane_ane_program_evaluate   (AneAneProgram       *program,
                                           AneAneRequest       *request,
                                           GError             **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneAneRequest, ane_ane_request_free)

/* Number of compiled models alive in the cache (for tests). */
guint          ane_ane_cache_size         (void);

/* --- the compile budget (ane-ane-budget.c) ------------------------------ */

/* The in-memory compiler fails silently after ~119 compiles per process
 * (maderix/ANE docs/ANE_INTERNALS.md:115); maderix/ANE stops at 100
 * (:117). The budget is the environment variable's count (0: no limit),
 * else the default. */
#define ANE_ANE_COMPILE_BUDGET_ENV     "ANE_GLIB_ANE_COMPILE_BUDGET"
#define ANE_ANE_DEFAULT_COMPILE_BUDGET 100

/* Counts one compile against the process's budget; FALSE with
 * ANE_ERROR_TOO_LARGE (naming the budget and how to raise it) when it is
 * spent, before anything is asked of the framework. */
gboolean       ane_ane_compile_budget_take  (GError **error);
/* Compiles asked for so far, and the budget (0: no limit). */
guint          ane_ane_compile_count        (void);
guint          ane_ane_compile_budget       (void);
/* Starts the count over and reads the budget from the environment again
 * (for tests). */
void           ane_ane_compile_budget_reset (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AneAneProgram, ane_ane_program_free)

G_END_DECLS
