/* ane-fake-ane.c: the fake AneAneRuntime of the tests (see ane-fake-ane.h)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "ane-fake-ane.h"
#include "mil/ane-milblob-private.h"
#include "mil/ane-mil-text-private.h"
#include "runtime/cpu/ane-cpu-backend-private.h"

Fake fake;


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
  g_clear_pointer (&o->weights, g_bytes_unref);
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

const char *const fake_classes[4] = {
  "_ANEInMemoryModelDescriptor", "_ANEInMemoryModel", "_ANERequest", "_ANEIOSurfaceObject",
};

const char *const fake_build_info_keys[4] = {
  "coremlc-component-MIL", "coremlc-version", "coremltools-component-milinternal", "coremltools-version",
};

static const char *
fake_string_of (const AneMilValue *v)
{
  g_assert_nonnull (v);
  g_assert_cmpint (v->value_case, ==, CORE_ML__SPECIFICATION__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE);
  g_assert_cmpint (v->immediatevalue->value_case, ==, CORE_ML__SPECIFICATION__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR);
  g_assert_cmpint (v->immediatevalue->tensor->value_case, ==, CORE_ML__SPECIFICATION__MILSPEC__TENSOR_VALUE__VALUE_STRINGS);
  g_assert_cmpuint (v->immediatevalue->tensor->strings->n_values, ==, 1);
  return v->immediatevalue->tensor->strings->values[0];
}

/* The dialect check (see ane-fake-ane.h): what hardware-verified projects
 * hand modelWithMILText:, or the test fails here. */
static void
check_dialect (GBytes *mil)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *text = g_bytes_get_data (mil, &len);
  AneMilTextStyle style;
  AneMilProgram *program = ane_mil_text_parse_style (text, len, "fake ANE", &style, &error);
  const AneMilValue *bi = NULL;

  g_assert_no_error (error);
  g_assert_true (style == ANE_MIL_TEXT_STYLE_1_3);
  g_assert_true (g_str_has_prefix (text, "program(1.3)\n[buildInfo = dict<string, string>({{"));
  g_assert_nonnull (strstr (text, "\n    func main<"));
  for (gsize i = 0; i < program->n_attributes; i++)
    if (g_str_equal (program->attributes[i]->key, "buildInfo"))
      bi = program->attributes[i]->value;
  g_assert_nonnull (bi);
  g_free (fake.mil_text);
  fake.mil_text = g_strndup (text, len);
  g_clear_pointer (&fake.build_info, g_hash_table_unref);
  fake.build_info = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (gsize i = 0; i < bi->immediatevalue->dictionary->n_values; i++)
    g_hash_table_insert (fake.build_info,
                         g_strdup (fake_string_of (bi->immediatevalue->dictionary->values[i]->key)),
                         g_strdup (fake_string_of (bi->immediatevalue->dictionary->values[i]->value)));
  for (guint i = 0; i < G_N_ELEMENTS (fake_build_info_keys); i++)
    if (!g_hash_table_contains (fake.build_info, fake_build_info_keys[i]))
      g_error ("fake ANE: the MIL text has no buildInfo key '%s':\n%.300s", fake_build_info_keys[i], text);
  protobuf_c_message_free_unpacked (&program->base, NULL);
}

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
  /* A device names each model after its content; one fixed name otherwise. */
  o->text = fake.interpret ? g_compute_checksum_for_bytes (G_CHECKSUM_SHA1, ((FObj *) self)->desc->data)
                           : g_strdup (fake.hex);
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
      o = fobj (F_MODEL, 0);
      o->desc = a;   /* the arena keeps it until teardown */
      fake.n_models++;
      return o;
    }
  g_assert_cmpstr (sel, ==, "objectWithIOSurface:");
  o = fobj (F_IOOBJ, 0);
  o->surface = a;
  return o;
}

static AneObjcId
f_msg_id_p3 (const AneAneRuntime *rt, AneObjcId self, AneObjcSel sel, gpointer a, gpointer b, gpointer c)
{
  FObj *mil = a, *w = b, *entry, *off, *data = NULL;

  flog ("%c[%s %s]", ckind (self), cname (self), (const char *) sel);
  g_assert_cmpstr (sel, ==, "modelWithMILText:weights:optionsPlist:");
  g_assert_null (c);
  g_assert_cmpint (mil->kind, ==, F_DATA);
  fake.mil_size = g_bytes_get_size (mil->data);
  check_dialect (mil->data);
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
  if (fake.desc_nil)
    return NULL;
  {
    FObj *desc = fobj (F_DESC, 0);

    desc->data = g_bytes_ref (mil->data);
    desc->weights = fake.weight_size ? g_bytes_ref (data->data) : NULL;
    return desc;
  }
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

static GBytes *
weight_blob (gpointer     user_data,
             const char  *file_name,
             guint64      offset,
             GError     **error)
{
  AneMilBlobRecord record;

  g_assert_cmpstr (file_name, ==, "@model_path/weights/weight.bin");
  return ane_milblob_reader_dup_data (user_data, offset, &record, error);
}

/* The surface layout of a port, checked against the surface it got. */
static void
port_layout (AneTensor           *port,
             FSurface            *surface,
             AneAneSurfaceLayout *layout)
{
  guint rank;
  const gint64 *shape = ane_tensor_get_shape (port, &rank);
  g_autoptr(GError) error = NULL;

  g_assert_true (ane_ane_surface_layout_init (layout, shape, rank, ANE_ANE_ROW_ALIGN, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (layout->row_bytes, ==, surface->bpr);
  g_assert_cmpuint (layout->total_bytes, <=, surface->alloc);
  g_assert_cmpint (ane_tensor_get_dtype (port), ==, ANE_DTYPE_FLOAT16);   /* the interface is fp16 */
}

/* The truer device: the descriptor's MIL text through the CPU interpreter,
 * inputs read from and outputs written to the request's surfaces. */
static gboolean
interpret (FObj      *model,
           FObj      *req,
           AneObjcId *err)
{
  FObj *desc = model->desc;
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *text = g_bytes_get_data (desc->data, &len);
  AneMilProgram *program = ane_mil_text_parse (text, len, "fake ANE", &error);
  AneMilBlobReader *reader = NULL;
  g_autoptr(AneCpuBackend) cpu = NULL;
  g_autoptr(GPtrArray) in_ports = NULL;
  g_autoptr(GPtrArray) out_ports = NULL;
  g_autoptr(GPtrArray) outputs = NULL;
  g_autoptr(GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  g_autoptr(GHashTable) states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);

  g_assert_no_error (error);
  if (desc->weights != NULL)
    {
      reader = ane_milblob_reader_new_from_bytes (desc->weights, "weight.bin", &error);
      g_assert_no_error (error);
    }
  cpu = ane_cpu_backend_new_for_program (program, "main", weight_blob, reader,
                                         (GDestroyNotify) ane_milblob_reader_free, &error);
  g_assert_no_error (error);
  in_ports = ane_cpu_backend_list_inputs (cpu);
  out_ports = ane_cpu_backend_list_outputs (cpu);
  g_assert_cmpuint (in_ports->len, ==, req->req_in->items->len);
  g_assert_cmpuint (out_ports->len, ==, req->req_out->items->len);
  for (guint i = 0; i < in_ports->len; i++)
    {
      AneTensor *port = g_ptr_array_index (in_ports, i);
      FSurface *surface = ((FObj *) req->req_in->items->pdata[i])->surface;
      AneAneSurfaceLayout layout;
      gsize n;
      guint16 *halfs;
      g_autoptr(GBytes) bytes = NULL;
      const gint64 *shape;
      guint rank;
      AneTensor *t;

      port_layout (port, surface, &layout);
      n = layout.channels * layout.height * layout.width;
      halfs = g_new (guint16, MAX (n, 1));
      ane_ane_surface_unpack_f16 (&layout, surface->mem, halfs);
      bytes = g_bytes_new_take (halfs, n * 2);
      shape = ane_tensor_get_shape (port, &rank);
      t = ane_tensor_new_from_bytes (ane_tensor_get_name (port), ANE_DTYPE_FLOAT16, shape, rank, bytes, &error);
      g_assert_no_error (error);
      g_hash_table_insert (inputs, (gpointer) ane_tensor_get_name (t), t);
    }
  outputs = ane_cpu_backend_run (cpu, inputs, states, FALSE, NULL, &error);
  if (outputs == NULL)
    {
      *err = f_error (error->message);
      protobuf_c_message_free_unpacked ((ProtobufCMessage *) program, NULL);
      return FALSE;
    }
  for (guint i = 0; i < out_ports->len; i++)
    {
      FSurface *surface = ((FObj *) req->req_out->items->pdata[i])->surface;
      AneAneSurfaceLayout layout;

      port_layout (g_ptr_array_index (out_ports, i), surface, &layout);
      g_assert_true (ane_ane_surface_pack_tensor (&layout, g_ptr_array_index (outputs, i), surface->mem, &error));
      g_assert_no_error (error);
    }
  g_clear_pointer (&cpu, ane_cpu_backend_free);   /* before the program it reads */
  protobuf_c_message_free_unpacked ((ProtobufCMessage *) program, NULL);
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
  if (fake.interpret)
    return interpret (self, r, err);
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

void
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
  ane_ane_compile_budget_reset ();   /* each test counts its own compiles */
}

/* Every object balanced, every surface released, no pool open, no model
 * left in the cache, the temporary directory empty again. */
void
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
  g_clear_pointer (&fake.build_info, g_hash_table_unref);
  g_clear_pointer (&fake.mil_text, g_free);
  g_ptr_array_unref (fake.log);
  g_ptr_array_unref (fake.arena);
  g_hash_table_unref (fake.classes);
}

char *
fake_log_text (void)
{
  g_ptr_array_add (fake.log, NULL);
  char *s = g_strjoinv ("\n", (char **) fake.log->pdata);
  g_ptr_array_remove_index (fake.log, fake.log->len - 1);
  return s;
}

