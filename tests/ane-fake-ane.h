/* ane-fake-ane.h: a fake AneAneRuntime for the tests (no Apple software)
 *
 * It records every class lookup and message, keeps reference counts of
 * every object it hands out, and plays a device. By default evaluate writes
 * 2 * input[i] to output[i], surface to surface, in fp16. With
 * fake.interpret set it is a truer device: evaluate runs the MIL text the
 * descriptor was given through ane-glib's CPU interpreter, reading inputs
 * from the input surfaces and writing outputs to the output surfaces in the
 * surface layout (fp16), so a whole AneExecutable can run on the "ANE".
 *
 * Every MIL text handed to modelWithMILText: must be in the dialect the
 * projects that ran on the Neural Engine write (ane-glib/ane-mil-dialect.c):
 * program(1.3), a function main<...>, and a buildInfo dictionary with the
 * keys coremlc-component-MIL, coremlc-version,
 * coremltools-component-milinternal and coremltools-version; the fake
 * asserts it, and keeps the dictionary in fake.build_info.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "ane-test-util.h"
#include "runtime/ane/ane-ane-private.h"

G_BEGIN_DECLS

typedef enum { F_CLASS, F_DATA, F_NUMBER, F_ARRAY, F_DICT, F_DESC, F_MODEL, F_STRING, F_ERROR, F_IOOBJ, F_REQUEST } FKind;

typedef struct _FObj FObj;
typedef struct
{
  guint8 *mem;
  gsize bpr, rows, alloc;
  int locked;
} FSurface;

struct _FObj
{
  FKind kind;
  int refs;
  char *text;                /* class name, string, error message */
  GBytes *data;
  gint64 number;
  GPtrArray *items;          /* FObj*, unowned (array values, dict values) */
  GPtrArray *keys;           /* char* (dict) */
  FSurface *surface;         /* F_IOOBJ */
  FObj *req_in, *req_out, *req_in_idx, *req_out_idx, *req_proc;
  GBytes *weights;           /* F_DESC: the weight.bin data */
  FObj *desc;                /* F_MODEL: its descriptor */
  gboolean req_nil_ok;
};

typedef struct
{
  GPtrArray *log;
  GPtrArray *arena;
  GHashTable *classes;
  const char *missing_class;
  const char *missing_selector;
  gboolean fail_open, desc_nil;
  const char *compile_error, *load_error, *eval_error;
  guint n_compile, n_load, n_unload, n_eval, surfaces_alive;
  guint qos_seen;
  int pool_depth;
  char *tmp_root;
  const char *hex;
  gboolean saw_files_at_compile;
  char *weight_key;
  gint64 weight_offset;
  gsize weight_size;
  gsize mil_size;
  gboolean interpret;         /* evaluate runs the MIL program (see above) */
  GHashTable *build_info;     /* the last descriptor's MIL buildInfo: key -> value */
  char *mil_text;             /* the last descriptor's MIL text */
  guint n_models;             /* models made (identifiers are unique per model) */
} Fake;

extern Fake fake;
/* The private classes the fake knows. */
extern const char *const fake_classes[4];
/* The buildInfo keys every MIL text handed to the fake must have. */
extern const char *const fake_build_info_keys[4];

/* Installs the fake as the runtime override, with a fresh temporary root. */
void  fake_setup    (void);
/* Checks every object balanced, every surface released, no pool open, no
 * model left in the cache, the temporary root empty; then uninstalls. */
void  fake_teardown (void);
/* The message log, one line per entry. */
char *fake_log_text (void);

G_END_DECLS
