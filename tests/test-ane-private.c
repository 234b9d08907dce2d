/* test-ane-private.c: the Neural Engine private in-memory path, over a fake
 *
 * A fake AneAneRuntime records every class lookup and message, keeps
 * reference counts of every object it hands out, and plays a tiny device:
 * evaluate writes 2 * input[i] to output[i], surface to surface, in fp16.
 * Nothing here touches Apple software; see docs/ane-private.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "ane-test-util.h"
#include "runtime/ane/ane-ane-private.h"

/* --- the fake ---------------------------------------------------------- */

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
} Fake;

static Fake fake;

static FObj *
fobj (FKind kind, int refs)
{
  FObj *o = g_new0 (FObj, 1);
  o->kind = kind;
  o->refs = refs;
  g_ptr_array_add (fake.arena, o);
  return o;
}

static void
fobj_free (gpointer p)
{
  FObj *o = p;
  g_free (o->text);
  g_clear_pointer (&o->data, g_bytes_unref);
  g_clear_pointer (&o->items, g_ptr_array_unref);
  g_clear_pointer (&o->keys, g_ptr_array_unref);
  g_free (o);
}

static void
flog (const char *fmt, ...) G_GNUC_PRINTF (1, 2);
static void
flog (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_ptr_array_add (fake.log, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

static const char *const fake_classes[] = {
  "_ANEInMemoryModelDescriptor", "_ANEInMemoryModel", "_ANERequest", "_ANEIOSurfaceObject",
};

static gboolean
f_open (const AneAneRuntime *rt, const char *path, char **message)
{
  flog ("open %s", path);
  if (fake.fail_open)
    {
      *message = g_strdup ("image not found");
      return FALSE;
    }
  return TRUE;
}

static AneObjcClass
f_get_class (const AneAneRuntime *rt, const char *name)
{
  FObj *c;
  guint i;
  gboolean known = FALSE;

  flog ("class %s", name);
  for (i = 0; i < G_N_ELEMENTS (fake_classes); i++)
    known |= strcmp (fake_classes[i], name) == 0;
  if (!known || g_strcmp0 (fake.missing_class, name) == 0)
    return NULL;
  c = g_hash_table_lookup (fake.classes, name);
  if (c == NULL)
    {
      c = fobj (F_CLASS, 0);
      c->text = g_strdup (name);
      g_hash_table_insert (fake.classes, c->text, c);
    }
  return c;
}

static AneObjcSel
f_sel (const AneAneRuntime *rt, const char *name)
{
  return (gpointer) g_intern_string (name);
}

static gboolean
f_responds (const AneAneRuntime *rt, AneObjcClass cls, AneObjcSel sel, gboolean class_method)
{
  static const struct { const char *cls, *sel; gboolean cm; } known[] = {
    { "_ANEInMemoryModelDescriptor", "modelWithMILText:weights:optionsPlist:", TRUE },
    { "_ANEInMemoryModel", "inMemoryModelWithDescriptor:", TRUE },
    { "_ANEInMemoryModel", "hexStringIdentifier", FALSE },
    { "_ANEInMemoryModel", "compileWithQoS:options:error:", FALSE },
    { "_ANEInMemoryModel", "loadWithQoS:options:error:", FALSE },
    { "_ANEInMemoryModel", "evaluateWithQoS:options:request:error:", FALSE },
    { "_ANEInMemoryModel", "unloadWithQoS:error:", FALSE },
    { "_ANEIOSurfaceObject", "objectWithIOSurface:", TRUE },
    { "_ANERequest", "requestWithInputs:inputIndices:outputs:outputIndices:weightsBuffer:perfStats:procedureIndex:", TRUE },
  };
  FObj *c = cls;
  guint i;

  g_assert_cmpint (c->kind, ==, F_CLASS);
  if (g_strcmp0 (fake.missing_selector, sel) == 0)
    return FALSE;
  for (i = 0; i < G_N_ELEMENTS (known); i++)
    if (strcmp (known[i].cls, c->text) == 0 && strcmp (known[i].sel, sel) == 0 && known[i].cm == class_method)
      return TRUE;
  return FALSE;
}

static gpointer f_pool_push (const AneAneRuntime *rt) { fake.pool_depth++; return GINT_TO_POINTER (fake.pool_depth); }
static void
f_pool_pop (const AneAneRuntime *rt, gpointer p)
{
  g_assert_cmpint (GPOINTER_TO_INT (p), ==, fake.pool_depth);
  fake.pool_depth--;
}

static AneObjcId
f_retain (const AneAneRuntime *rt, AneObjcId o)
{
  if (o)
    ((FObj *) o)->refs++;
  return o;
}

static void
f_release (const AneAneRuntime *rt, AneObjcId o)
{
  if (o == NULL)
    return;
  g_assert_cmpint (((FObj *) o)->refs, >, 0);
  ((FObj *) o)->refs--;
}

static char *
f_describe (const AneAneRuntime *rt, AneObjcId o)
{
  FObj *f = o;
  g_assert_true (f->kind == F_STRING || f->kind == F_ERROR);
  return g_strdup (f->text);
}

static AneObjcId
f_new_data (const AneAneRuntime *rt, gconstpointer bytes, gsize size)
{
  FObj *o = fobj (F_DATA, 1);
  o->data = g_bytes_new (bytes, size);
  return o;
}

static AneObjcId
f_new_number (const AneAneRuntime *rt, gint64 v)
{
  FObj *o = fobj (F_NUMBER, 1);
  o->number = v;
  return o;
}

static AneObjcId
f_new_array (const AneAneRuntime *rt, const AneObjcId *items, gsize n)
{
  FObj *o = fobj (F_ARRAY, 1);
  gsize i;
  o->items = g_ptr_array_new ();
  for (i = 0; i < n; i++)
    g_ptr_array_add (o->items, items[i]);
  return o;
}

static AneObjcId
f_new_dict (const AneAneRuntime *rt, const char *const *keys, const AneObjcId *values, gsize n)
{
  FObj *o = fobj (F_DICT, 1);
  gsize i;
  o->items = g_ptr_array_new ();
  o->keys = g_ptr_array_new_with_free_func (g_free);
  for (i = 0; i < n; i++)
    {
      g_ptr_array_add (o->keys, g_strdup (keys[i]));
      g_ptr_array_add (o->items, values[i]);
    }
  return o;
}

static FObj *
dict_get (FObj *d, const char *key)
{
  guint i;
  g_assert_cmpint (d->kind, ==, F_DICT);
  for (i = 0; i < d->keys->len; i++)
    if (strcmp (d->keys->pdata[i], key) == 0)
      return d->items->pdata[i];
  return NULL;
}

static const char *
cname (AneObjcId self)
{
  FObj *o = self;
  return o->kind == F_CLASS ? o->text : o->kind == F_MODEL ? "_ANEInMemoryModel" : "?";
}

static char
ckind (AneObjcId self)
{
  return ((FObj *) self)->kind == F_CLASS ? '+' : '-';
}

static AneObjcId
f_msg_id (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel)
{
  FObj *o;
  flog ("%c[%s %s]", ckind (self), cname (self), (const char *) sel);
  g_assert_cmpstr (sel, ==, "hexStringIdentifier");
  o = fobj (F_STRING, 0);
  o->text = g_strdup (fake.hex);
  return o;
}

static AneObjcId
f_msg_id_p1 (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, gpointer a)
{
  FObj *o;
  flog ("%c[%s %s]", ckind (self), cname (self), (const char *) sel);
  if (strcmp (sel, "inMemoryModelWithDescriptor:") == 0)
    {
      g_assert_cmpint (((FObj *) a)->kind, ==, F_DESC);
      return fobj (F_MODEL, 0);
    }
  g_assert_cmpstr (sel, ==, "objectWithIOSurface:");
  o = fobj (F_IOOBJ, 0);
  o->surface = a;
  return o;
}

static AneObjcId
f_msg_id_p3 (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, gpointer a, gpointer b, gpointer c)
{
  FObj *mil = a, *w = b, *entry, *off, *data;

  flog ("%c[%s %s]", ckind (self), cname (self), (const char *) sel);
  g_assert_cmpstr (sel, ==, "modelWithMILText:weights:optionsPlist:");
  g_assert_null (c);
  g_assert_cmpint (mil->kind, ==, F_DATA);
  fake.mil_size = g_bytes_get_size (mil->data);
  g_assert_cmpint (w->kind, ==, F_DICT);
  g_clear_pointer (&fake.weight_key, g_free);
  fake.weight_size = 0;
  if (w->keys->len)
    {
      g_assert_cmpuint (w->keys->len, ==, 1);
      fake.weight_key = g_strdup (w->keys->pdata[0]);
      entry = w->items->pdata[0];
      off = dict_get (entry, "offset");
      data = dict_get (entry, "data");
      g_assert_nonnull (off);
      g_assert_nonnull (data);
      fake.weight_offset = off->number;
      fake.weight_size = g_bytes_get_size (data->data);
    }
  return fake.desc_nil ? NULL : fobj (F_DESC, 0);
}

static AneObjcId
f_msg_id_p7 (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel,
             gpointer a, gpointer b, gpointer c, gpointer d, gpointer e, gpointer f, gpointer g)
{
  FObj *r;
  flog ("%c[%s %s]", ckind (self), cname (self), (const char *) sel);
  g_assert_null (e);
  g_assert_null (f);
  r = fobj (F_REQUEST, 0);
  /* The request keeps its arrays. */
  r->req_in = f_retain (rt, a);
  r->req_in_idx = f_retain (rt, b);
  r->req_out = f_retain (rt, c);
  r->req_out_idx = f_retain (rt, d);
  r->req_proc = f_retain (rt, g);
  return r;
}

static FObj *
f_error (const char *text)
{
  FObj *e = fobj (F_ERROR, 0);
  e->text = g_strdup (text);
  return e;
}

static gboolean
f_qos_opts_err (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, guint qos, AneObjcId opts, AneObjcId *err)
{
  flog ("-[%s %s]", cname (self), (const char *) sel);
  fake.qos_seen = qos;
  g_assert_cmpint (((FObj *) opts)->kind, ==, F_DICT);
  if (strcmp (sel, "compileWithQoS:options:error:") == 0)
    {
      g_autofree char *mil = g_build_filename (fake.tmp_root, fake.hex, "model.mil", NULL);
      fake.n_compile++;
      fake.saw_files_at_compile = g_file_test (mil, G_FILE_TEST_IS_REGULAR);
      if (fake.compile_error)
        {
          *err = f_error (fake.compile_error);
          return FALSE;
        }
      return TRUE;
    }
  g_assert_cmpstr (sel, ==, "loadWithQoS:options:error:");
  fake.n_load++;
  if (fake.load_error)
    {
      *err = f_error (fake.load_error);
      return FALSE;
    }
  return TRUE;
}

/* The device: output[i] = 2 * input[i], fp16, whole surface. */
static gboolean
f_evaluate (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, guint qos, AneObjcId opts, AneObjcId req, AneObjcId *err)
{
  FObj *r = req;
  guint i;

  flog ("-[%s %s]", cname (self), (const char *) sel);
  g_assert_cmpstr (sel, ==, "evaluateWithQoS:options:request:error:");
  g_assert_cmpint (r->kind, ==, F_REQUEST);
  fake.n_eval++;
  if (fake.eval_error)
    {
      *err = f_error (fake.eval_error);
      return FALSE;
    }
  for (i = 0; i < r->req_out->items->len; i++)
    {
      FSurface *in = ((FObj *) r->req_in->items->pdata[MIN (i, r->req_in->items->len - 1)])->surface;
      FSurface *out = ((FObj *) r->req_out->items->pdata[i])->surface;
      gsize k;

      g_assert_cmpint (in->locked, ==, 0);
      g_assert_cmpint (out->locked, ==, 0);
      g_assert_cmpuint (in->alloc, ==, out->alloc);
      for (k = 0; k + 1 < in->alloc; k += 2)
        {
          guint16 h;
          memcpy (&h, in->mem + k, 2);
          h = ane_float_to_half (2.0f * ane_half_to_float (h));
          memcpy (out->mem + k, &h, 2);
        }
    }
  return TRUE;
}

static gboolean
f_unload (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, guint qos, AneObjcId *err)
{
  flog ("-[%s %s]", cname (self), (const char *) sel);
  g_assert_cmpstr (sel, ==, "unloadWithQoS:error:");
  fake.n_unload++;
  return TRUE;
}

static AneSurfaceRef
f_surface_create (const AneAneRuntime *rt, gsize bpr, gsize rows, gsize alloc)
{
  FSurface *s = g_new0 (FSurface, 1);
  flog ("IOSurfaceCreate %" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT " %" G_GSIZE_FORMAT, bpr, rows, alloc);
  s->bpr = bpr;
  s->rows = rows;
  s->alloc = alloc;
  s->mem = g_malloc (alloc);
  memset (s->mem, 0xAA, alloc);   /* padding must be overwritten with zero */
  fake.surfaces_alive++;
  return s;
}

static gboolean f_lock (const AneAneRuntime *rt, AneSurfaceRef s, gboolean ro) { ((FSurface *) s)->locked++; return TRUE; }
static void f_unlock (const AneAneRuntime *rt, AneSurfaceRef s, gboolean ro) { g_assert_cmpint (((FSurface *) s)->locked, ==, 1); ((FSurface *) s)->locked--; }
static gpointer f_base (const AneAneRuntime *rt, AneSurfaceRef s) { g_assert_cmpint (((FSurface *) s)->locked, ==, 1); return ((FSurface *) s)->mem; }
static gsize f_bpr (const AneAneRuntime *rt, AneSurfaceRef s) { return ((FSurface *) s)->bpr; }
static gsize f_alloc (const AneAneRuntime *rt, AneSurfaceRef s) { return ((FSurface *) s)->alloc; }

static void
f_cf_release (const AneAneRuntime *rt, gpointer cf)
{
  FSurface *s = cf;
  if (s == NULL)
    return;
  g_free (s->mem);
  g_free (s);
  fake.surfaces_alive--;
}

static const AneAneRuntime fake_rt = {
  .name = "fake",
  .open_framework = f_open,
  .get_class = f_get_class,
  .register_selector = f_sel,
  .responds = f_responds,
  .pool_push = f_pool_push,
  .pool_pop = f_pool_pop,
  .retain = f_retain,
  .release = f_release,
  .describe = f_describe,
  .new_data = f_new_data,
  .new_number = f_new_number,
  .new_array = f_new_array,
  .new_dictionary = f_new_dict,
  .msg_id = f_msg_id,
  .msg_id_p1 = f_msg_id_p1,
  .msg_id_p3 = f_msg_id_p3,
  .msg_id_p7 = f_msg_id_p7,
  .msg_bool_qos_opts_err = f_qos_opts_err,
  .msg_bool_qos_opts_req_err = f_evaluate,
  .msg_bool_qos_err = f_unload,
  .surface_create = f_surface_create,
  .surface_lock = f_lock,
  .surface_unlock = f_unlock,
  .surface_base_address = f_base,
  .surface_bytes_per_row = f_bpr,
  .surface_alloc_size = f_alloc,
  .cf_release = f_cf_release,
};

static void
fake_setup (void)
{
  memset (&fake, 0, sizeof fake);
  fake.log = g_ptr_array_new_with_free_func (g_free);
  fake.arena = g_ptr_array_new_with_free_func (fobj_free);
  fake.classes = g_hash_table_new (g_str_hash, g_str_equal);
  fake.tmp_root = g_dir_make_tmp ("ane-private-XXXXXX", NULL);
  g_assert_nonnull (fake.tmp_root);
  fake.hex = "0123abcd_fake";
  ane_ane_runtime_set_override (&fake_rt);
}

/* Every object balanced, every surface released, no pool open, no model
 * left in the cache, the temporary directory empty again. */
static void
fake_teardown (void)
{
  guint i;
  g_autoptr(GDir) dir = NULL;

  ane_ane_runtime_set_override (NULL);
  g_assert_cmpuint (ane_ane_cache_size (), ==, 0);
  g_assert_cmpint (fake.pool_depth, ==, 0);
  g_assert_cmpuint (fake.surfaces_alive, ==, 0);
  for (i = 0; i < fake.arena->len; i++)
    {
      FObj *o = fake.arena->pdata[i];
      if (o->kind == F_REQUEST)
        continue;   /* its arrays' extra refs belong to it */
      if (o->kind == F_ARRAY || o->kind == F_NUMBER)
        {
          gboolean held = FALSE;
          guint j;
          for (j = 0; j < fake.arena->len; j++)
            {
              FObj *r = fake.arena->pdata[j];
              if (r->kind == F_REQUEST && r->refs == 0
                  && (r->req_in == o || r->req_out == o || r->req_in_idx == o || r->req_out_idx == o || r->req_proc == o))
                held = TRUE;
            }
          g_assert_cmpint (o->refs, ==, held ? 1 : 0);
          continue;
        }
      g_assert_cmpint (o->refs, ==, 0);
    }
  dir = g_dir_open (fake.tmp_root, 0, NULL);
  g_assert_nonnull (dir);
  g_assert_null (g_dir_read_name (dir));
  g_rmdir (fake.tmp_root);
  g_free (fake.tmp_root);
  g_free (fake.weight_key);
  g_ptr_array_unref (fake.log);
  g_ptr_array_unref (fake.arena);
  g_hash_table_unref (fake.classes);
}

static char *
fake_log_text (void)
{
  g_ptr_array_add (fake.log, NULL);
  char *s = g_strjoinv ("\n", (char **) fake.log->pdata);
  g_ptr_array_remove_index (fake.log, fake.log->len - 1);
  return s;
}

/* --- a program ----------------------------------------------------------- */

static const char *mil_text =
  "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 2, 1, 40]> x) {\n"
  "        tensor<fp16, [1, 2, 1, 40]> y = mul(x = x, y = x)[name = string(\"y\")];\n    } -> (y);\n}\n";
static const gint64 shape_x[] = { 1, 2, 1, 40 };

static AneAneProgram *
make_program (GBytes *weights, GError **error)
{
  AneAneTensorSpec in = { "x", shape_x, 4 }, out = { "y", shape_x, 4 };
  return ane_ane_program_new (NULL, mil_text, weights, &in, 1, &out, 1, fake.tmp_root, error);
}

static GHashTable *
make_inputs (float *values, gsize n)
{
  GHashTable *h = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  AneTensor *t = ane_tensor_new_from_floats ("x", shape_x, 4, values, n, NULL);
  g_assert_nonnull (t);
  g_hash_table_insert (h, "x", t);
  return h;
}

/* --- tests --------------------------------------------------------------- */

static void
test_default_runtime (void)
{
  g_autoptr(GError) error = NULL;
  AneAneTensorSpec out = { "y", shape_x, 4 };
  AneAneProgram *p;

#ifndef __APPLE__
  g_assert_null (ane_ane_runtime_get_default ());
  ane_ane_runtime_set_override (NULL);
  g_assert_null (ane_ane_runtime_get ());
  p = ane_ane_program_new (NULL, mil_text, NULL, NULL, 0, &out, 1, NULL, &error);
  g_assert_null (p);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "not available on this platform"));
#else
  (void) p; (void) out;
  g_test_skip ("runs on Linux only: the default table here is the real one");
#endif
}

static void
test_layout (void)
{
  g_autoptr(GError) error = NULL;
  AneAneSurfaceLayout l;
  gint64 chw[] = { 2, 3, 5 }, nchw[] = { 1, 4, 1, 40 }, w[] = { 32 };
  gint64 bad_n[] = { 2, 1, 1, 1 }, zero[] = { 1, 0, 4 };

  g_assert_true (ane_ane_surface_layout_init (&l, chw, 3, 64, &error));
  g_assert_cmpuint (l.channels, ==, 2);
  g_assert_cmpuint (l.height, ==, 3);
  g_assert_cmpuint (l.width, ==, 5);
  g_assert_cmpuint (l.row_bytes, ==, 64);
  g_assert_cmpuint (l.plane_bytes, ==, 192);
  g_assert_cmpuint (l.total_bytes, ==, 384);

  g_assert_true (ane_ane_surface_layout_init (&l, nchw, 4, 64, &error));
  g_assert_cmpuint (l.channels, ==, 4);
  g_assert_cmpuint (l.row_bytes, ==, 128);     /* 80 bytes -> 128 */
  g_assert_cmpuint (l.total_bytes, ==, 512);

  g_assert_true (ane_ane_surface_layout_init (&l, nchw, 4, 2, &error));   /* packed */
  g_assert_cmpuint (l.row_bytes, ==, 80);
  g_assert_cmpuint (l.total_bytes, ==, 320);

  g_assert_true (ane_ane_surface_layout_init (&l, w, 1, 64, &error));     /* exactly a row */
  g_assert_cmpuint (l.channels, ==, 1);
  g_assert_cmpuint (l.row_bytes, ==, 64);

  g_assert_false (ane_ane_surface_layout_init (&l, bad_n, 4, 64, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);
  g_assert_false (ane_ane_surface_layout_init (&l, zero, 3, 64, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);
  g_assert_false (ane_ane_surface_layout_init (&l, chw, 3, 48, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ane_ane_surface_layout_init (&l, chw, 5, 64, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_clear_error (&error);
  {
    gint64 huge[] = { G_MAXINT64 / 4, G_MAXINT64 / 4, 8 };
    g_assert_false (ane_ane_surface_layout_init (&l, huge, 3, 64, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_OVERFLOW);
  }
}

static void
test_pack (void)
{
  g_autoptr(GError) error = NULL;
  gint64 shape[] = { 2, 3, 5 };
  AneAneSurfaceLayout l;
  float src[30], back[30];
  guint16 h[30], hback[30];
  guint8 *buf;
  gsize c, y, x, k;

  g_assert_true (ane_ane_surface_layout_init (&l, shape, 3, 64, &error));
  for (k = 0; k < 30; k++)
    src[k] = (float) k * 0.1f - 1.0f;
  src[7] = 1.0f + 1.0f / 4096.0f;   /* halfway-below: rounds to 1.0 */
  src[8] = 65520.0f;                 /* rounds to +inf in fp16 */
  buf = g_malloc (l.total_bytes);
  memset (buf, 0xAA, l.total_bytes);
  ane_ane_surface_pack_f32 (&l, src, buf);

  for (c = 0; c < 2; c++)
    for (y = 0; y < 3; y++)
      {
        const guint8 *row = buf + c * l.plane_bytes + y * l.row_bytes;
        for (x = 0; x < 5; x++)
          {
            guint16 v;
            memcpy (&v, row + 2 * x, 2);
            g_assert_cmphex (v, ==, ane_float_to_half (src[(c * 3 + y) * 5 + x]));
          }
        for (k = 10; k < l.row_bytes; k++)
          g_assert_cmphex (row[k], ==, 0);   /* padding zeroed */
      }
  {
    guint16 v;
    memcpy (&v, buf + 0 * l.plane_bytes + 1 * l.row_bytes + 2 * 2, 2);   /* element 7: c 0, y 1, x 2 */
    g_assert_cmphex (v, ==, 0x3c00);
    memcpy (&v, buf + 0 * l.plane_bytes + 1 * l.row_bytes + 3 * 2, 2);   /* element 8: c 0, y 1, x 3 */
    g_assert_cmphex (v, ==, 0x7c00);
  }

  ane_ane_surface_unpack_f32 (&l, buf, back);
  for (k = 0; k < 30; k++)
    g_assert_cmpfloat (back[k], ==, ane_half_to_float (ane_float_to_half (src[k])));

  for (k = 0; k < 30; k++)
    h[k] = (guint16) (0x3000 + k * 17);
  memset (buf, 0xAA, l.total_bytes);
  ane_ane_surface_pack_f16 (&l, h, buf);
  ane_ane_surface_unpack_f16 (&l, buf, hback);
  g_assert_cmpmem (h, sizeof h, hback, sizeof hback);
  g_assert_cmphex (buf[l.row_bytes - 1], ==, 0);

  /* Tensors: float16 is copied bit for bit; other dtypes and sizes refused. */
  {
    g_autoptr(AneTensor) t32 = ane_tensor_new_from_floats ("a", shape, 3, src, 30, NULL);
    g_autoptr(AneTensor) t16 = ane_tensor_convert (t32, ANE_DTYPE_FLOAT16, NULL);
    g_autoptr(AneTensor) ti = ane_tensor_convert (t32, ANE_DTYPE_INT32, NULL);
    gint64 small[] = { 2, 5 };
    g_autoptr(AneTensor) ts = ane_tensor_new_from_floats ("s", small, 2, src, 10, NULL);
    guint8 *buf2 = g_malloc (l.total_bytes);

    g_assert_nonnull (t16);
    memset (buf, 0, l.total_bytes);
    g_assert_true (ane_ane_surface_pack_tensor (&l, t32, buf, &error));
    g_assert_true (ane_ane_surface_pack_tensor (&l, t16, buf2, &error));
    g_assert_cmpmem (buf, l.total_bytes, buf2, l.total_bytes);
    g_assert_false (ane_ane_surface_pack_tensor (&l, ti, buf, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_DTYPE);
    g_clear_error (&error);
    g_assert_false (ane_ane_surface_pack_tensor (&l, ts, buf, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
    g_free (buf2);
  }
  g_free (buf);
}

static void
test_sequence (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) weights = g_bytes_new_static ("0123456789abcdef", 16);
  g_autoptr(GHashTable) inputs = NULL;
  g_autoptr(GPtrArray) outs = NULL;
  g_autofree char *log = NULL, *wbin = NULL;
  AneAneProgram *p;
  float x[80];
  gsize k, n = 0;

  fake_setup ();
  p = make_program (weights, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  g_assert_false (ane_ane_program_was_cached (p));
  g_assert_cmpuint (strlen (ane_ane_program_get_key (p)), ==, 64);
  g_assert_true (fake.saw_files_at_compile);
  g_assert_cmpstr (fake.weight_key, ==, "@model_path/weights/weight.bin");
  g_assert_cmpint (fake.weight_offset, ==, 0);
  g_assert_cmpuint (fake.weight_size, ==, 16);
  g_assert_cmpuint (fake.mil_size, ==, strlen (mil_text));
  g_assert_cmpuint (fake.qos_seen, ==, 21);
  wbin = g_build_filename (fake.tmp_root, fake.hex, "weights", "weight.bin", NULL);
  g_assert_true (g_file_test (wbin, G_FILE_TEST_IS_REGULAR));

  for (k = 0; k < 80; k++)
    x[k] = (float) k / 8.0f - 3.3f;
  inputs = make_inputs (x, 80);
  outs = ane_ane_program_run (p, inputs, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outs->len, ==, 1);
  {
    AneTensor *y = outs->pdata[0];
    g_autofree float *v = ane_tensor_dup_floats (y, &n, NULL);
    g_assert_cmpstr (ane_tensor_get_name (y), ==, "y");
    g_assert_cmpuint (ane_tensor_get_rank (y), ==, 4);
    g_assert_cmpuint (n, ==, 80);
    for (k = 0; k < 80; k++)
      g_assert_cmpfloat (v[k], ==, ane_half_to_float (ane_float_to_half (2.0f * ane_half_to_float (ane_float_to_half (x[k])))));
  }
  ane_ane_program_free (p);
  g_assert_false (g_file_test (wbin, G_FILE_TEST_EXISTS));

  log = fake_log_text ();
  g_assert_cmpstr (log, ==,
    "open /System/Library/PrivateFrameworks/AppleNeuralEngine.framework/AppleNeuralEngine\n"
    "class _ANEInMemoryModelDescriptor\n"
    "class _ANEInMemoryModel\n"
    "class _ANERequest\n"
    "class _ANEIOSurfaceObject\n"
    "+[_ANEInMemoryModelDescriptor modelWithMILText:weights:optionsPlist:]\n"
    "+[_ANEInMemoryModel inMemoryModelWithDescriptor:]\n"
    "-[_ANEInMemoryModel hexStringIdentifier]\n"
    "-[_ANEInMemoryModel compileWithQoS:options:error:]\n"
    "-[_ANEInMemoryModel loadWithQoS:options:error:]\n"
    "IOSurfaceCreate 128x2 256\n"
    "+[_ANEIOSurfaceObject objectWithIOSurface:]\n"
    "IOSurfaceCreate 128x2 256\n"
    "+[_ANEIOSurfaceObject objectWithIOSurface:]\n"
    "+[_ANERequest requestWithInputs:inputIndices:outputs:outputIndices:weightsBuffer:perfStats:procedureIndex:]\n"
    "-[_ANEInMemoryModel evaluateWithQoS:options:request:error:]\n"
    "-[_ANEInMemoryModel unloadWithQoS:error:]");
  /* The request: indices 0.., procedureIndex 0. */
  for (k = 0; k < fake.arena->len; k++)
    {
      FObj *r = fake.arena->pdata[k];
      if (r->kind != F_REQUEST)
        continue;
      g_assert_cmpuint (r->req_in->items->len, ==, 1);
      g_assert_cmpint (((FObj *) r->req_in_idx->items->pdata[0])->number, ==, 0);
      g_assert_cmpint (((FObj *) r->req_out_idx->items->pdata[0])->number, ==, 0);
      g_assert_cmpint (r->req_proc->number, ==, 0);
    }
  fake_teardown ();
}

static void
test_cache (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) w1 = g_bytes_new_static ("weights-one", 11);
  g_autoptr(GBytes) w2 = g_bytes_new_static ("weights-two", 11);
  AneAneProgram *a, *b, *c;

  fake_setup ();
  a = make_program (w1, &error);
  g_assert_no_error (error);
  b = make_program (w1, &error);
  g_assert_no_error (error);
  g_assert_false (ane_ane_program_was_cached (a));
  g_assert_true (ane_ane_program_was_cached (b));
  g_assert_cmpstr (ane_ane_program_get_key (a), ==, ane_ane_program_get_key (b));
  g_assert_cmpuint (fake.n_compile, ==, 1);
  g_assert_cmpuint (fake.n_load, ==, 1);
  g_assert_cmpuint (ane_ane_cache_size (), ==, 1);

  /* Other weights: another model (the fake gives it another directory). */
  fake.hex = "another_fake_id";
  c = make_program (w2, &error);
  g_assert_no_error (error);
  g_assert_false (ane_ane_program_was_cached (c));
  g_assert_cmpstr (ane_ane_program_get_key (a), !=, ane_ane_program_get_key (c));
  g_assert_cmpuint (fake.n_compile, ==, 2);
  g_assert_cmpuint (ane_ane_cache_size (), ==, 2);

  ane_ane_program_free (a);
  g_assert_cmpuint (fake.n_unload, ==, 0);   /* b still uses it */
  {
    float x[80] = { 1.0f };
    g_autoptr(GHashTable) in = make_inputs (x, 80);
    g_autoptr(GPtrArray) outs = ane_ane_program_run (b, in, &error);
    g_assert_no_error (error);
    g_assert_cmpfloat (ane_tensor_get_value (outs->pdata[0], 0), ==, 2.0);
  }
  ane_ane_program_free (b);
  g_assert_cmpuint (fake.n_unload, ==, 1);
  ane_ane_program_free (c);
  g_assert_cmpuint (fake.n_unload, ==, 2);
  g_assert_cmpuint (ane_ane_cache_size (), ==, 0);
  fake_teardown ();
}

static void
expect_failure (int code, const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) w = g_bytes_new_static ("w", 1);
  AneAneProgram *p = make_program (w, &error);

  g_assert_null (p);
  g_assert_error (error, ANE_ERROR, code);
  if (strstr (error->message, fragment) == NULL)
    g_error ("message '%s' lacks '%s'", error->message, fragment);
  g_assert_cmpuint (fake.n_unload, ==, 0);
}

static void
test_missing_class (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (fake_classes); i++)
    {
      fake_setup ();
      fake.missing_class = fake_classes[i];
      expect_failure (ANE_ERROR_UNSUPPORTED, fake_classes[i]);
      g_assert_cmpuint (fake.n_compile, ==, 0);
      fake_teardown ();
    }
  fake_setup ();
  fake.fail_open = TRUE;
  expect_failure (ANE_ERROR_UNSUPPORTED, "image not found");
  fake_teardown ();
}

static void
test_missing_selector (void)
{
  static const char *const cases[][2] = {
    { "modelWithMILText:weights:optionsPlist:", "+[_ANEInMemoryModelDescriptor modelWithMILText:weights:optionsPlist:]" },
    { "inMemoryModelWithDescriptor:", "+[_ANEInMemoryModel inMemoryModelWithDescriptor:]" },
    { "compileWithQoS:options:error:", "-[_ANEInMemoryModel compileWithQoS:options:error:]" },
    { "evaluateWithQoS:options:request:error:", "-[_ANEInMemoryModel evaluateWithQoS:options:request:error:]" },
    { "unloadWithQoS:error:", "-[_ANEInMemoryModel unloadWithQoS:error:]" },
    { "objectWithIOSurface:", "+[_ANEIOSurfaceObject objectWithIOSurface:]" },
    { "requestWithInputs:inputIndices:outputs:outputIndices:weightsBuffer:perfStats:procedureIndex:", "+[_ANERequest requestWithInputs:" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      fake_setup ();
      fake.missing_selector = g_intern_string (cases[i][0]);
      expect_failure (ANE_ERROR_UNSUPPORTED, cases[i][1]);
      g_assert_cmpuint (fake.n_compile, ==, 0);
      g_assert_cmpuint (fake.arena->len, ==, G_N_ELEMENTS (fake_classes));   /* only classes: nothing sent */
      fake_teardown ();
    }
}

static void
test_failures (void)
{
  /* descriptor nil */
  fake_setup ();
  fake.desc_nil = TRUE;
  expect_failure (ANE_ERROR_FAILED, "modelWithMILText:weights:optionsPlist:] returned nil");
  fake_teardown ();

  /* compile error with an NSError message */
  fake_setup ();
  fake.compile_error = "ANECCompile() FAILED: unsupported op";
  expect_failure (ANE_ERROR_FAILED, "ANE compile failed: ANECCompile() FAILED: unsupported op");
  g_assert_cmpuint (fake.n_load, ==, 0);
  g_assert_cmpuint (ane_ane_cache_size (), ==, 0);
  fake_teardown ();

  /* load failure: one retry, then the error */
  fake_setup ();
  fake.load_error = "program load failure (0x50004)";
  expect_failure (ANE_ERROR_FAILED, "ANE load failed: program load failure (0x50004)");
  g_assert_cmpuint (fake.n_load, ==, 2);
  fake_teardown ();

  /* a bad identifier cannot escape the temporary root */
  fake_setup ();
  fake.hex = "../escape";
  expect_failure (ANE_ERROR_FAILED, "hexStringIdentifier");
  g_assert_cmpuint (fake.n_compile, ==, 0);
  fake_teardown ();

  /* evaluate failure, and a missing input */
  fake_setup ();
  {
    g_autoptr(GError) error = NULL;
    AneAneProgram *p = make_program (NULL, &error);
    float x[80] = { 0 };
    g_autoptr(GHashTable) in = make_inputs (x, 80);
    g_autoptr(GHashTable) empty = g_hash_table_new (g_str_hash, g_str_equal);
    GPtrArray *outs;

    g_assert_no_error (error);
    g_assert_null (fake.weight_key);   /* no weights: @{} */
    fake.eval_error = "ANEProgramProcessRequestDirect() Failed with status=0x1d";
    outs = ane_ane_program_run (p, in, &error);
    g_assert_null (outs);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_FAILED);
    g_assert_cmpstr (error->message, ==, "ANE evaluate failed: ANEProgramProcessRequestDirect() Failed with status=0x1d");
    g_clear_error (&error);
    fake.eval_error = NULL;
    outs = ane_ane_program_run (p, empty, &error);
    g_assert_null (outs);
    g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (error->message, "'x'"));
    ane_ane_program_free (p);
    g_assert_cmpuint (fake.n_unload, ==, 1);
  }
  fake_teardown ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ane/private/default-runtime", test_default_runtime);
  g_test_add_func ("/ane/private/layout", test_layout);
  g_test_add_func ("/ane/private/pack", test_pack);
  g_test_add_func ("/ane/private/sequence", test_sequence);
  g_test_add_func ("/ane/private/cache", test_cache);
  g_test_add_func ("/ane/private/missing-class", test_missing_class);
  g_test_add_func ("/ane/private/missing-selector", test_missing_selector);
  g_test_add_func ("/ane/private/failures", test_failures);
  return g_test_run ();
}
