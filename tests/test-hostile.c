/* test-hostile.c: programs and files made to break the loaders (issue 11)
 *
 * Each case is one of the crashes found by fuzzing and by hand, rebuilt
 * here: a package (or MIL text) that protobuf-c or the parser accepts but
 * whose tree is missing what the interpreter reads, whose types describe
 * more elements than any memory, that nests deeper than a stack allows, or
 * that defines a name twice; programs that would allocate terabytes; and
 * the inputs a package's executable used to take without a word. Every one
 * must end in a GError naming what was wrong -- never a crash, an abort or
 * an allocation the machine cannot make.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "ane-test-util.h"
#include "ane-tensor-private.h"
#include "ane-package-private.h"
#include "mil/ane-mlpackage-private.h"
#include "mil/ane-mil-validate-private.h"

/* --- helpers ----------------------------------------------------------------- */

/* y = relu (x + x), x [2, 3] float32: a small valid package. */
static AneGraph *
small_graph (void)
{
  static const gint64 s[] = { 2, 3 };
  g_autoptr(GError) error = NULL;
  AneGraph *g = ane_graph_new ();
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 2);
  g_autoptr(AneTensor) sum = ane_graph_add (g, x, x, &error);
  g_autoptr(AneTensor) y = ane_graph_relu (g, sum, &error);

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  return g;
}

typedef struct {
  char           *dir;
  char           *path;       /* the package */
  char           *model;      /* its model.mlmodel */
  AneCoreMLModel *program;    /* the model, unpacked, to mutate */
} Saved;

static void
saved_clear (Saved *s)
{
  if (s->program)
    protobuf_c_message_free_unpacked (&s->program->base, NULL);
  if (s->dir)
    ane_test_remove_tree (s->dir);
  g_free (s->dir);
  g_free (s->path);
  g_free (s->model);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Saved, saved_clear)

/* Saves the small graph's package and unpacks its model for mutation. */
static void
save_small (Saved *s)
{
  g_autoptr(AneGraph) g = small_graph ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT32, &error);
  g_autoptr(AnePackage) loaded = NULL;
  AneCoreMLModel *model;
  g_autofree guint8 *packed = NULL;
  gsize size;

  g_assert_no_error (error);
  s->dir = ane_test_make_tmp_dir ("ane-hostile-XXXXXX");
  s->path = g_build_filename (s->dir, "m.mlpackage", NULL);
  g_assert_true (ane_package_save (pkg, s->path, FALSE, &error));
  g_assert_no_error (error);
  loaded = ane_package_load (s->path, &error);
  g_assert_no_error (error);
  s->model = g_build_filename (ane_mlpackage_get_model_dir (ane_package_get_mlpackage (loaded)), "model.mlmodel", NULL);
  model = ane_package_get_model (loaded);
  size = protobuf_c_message_get_packed_size (&model->base);
  packed = g_malloc (size);
  protobuf_c_message_pack (&model->base, packed);
  s->program = core_ml__specification__model__unpack (NULL, size, packed);
  g_assert_nonnull (s->program);
}

/* Writes the (mutated) model over the package's model.mlmodel. */
static void
write_model (Saved *s)
{
  gsize size = protobuf_c_message_get_packed_size (&s->program->base);
  g_autofree guint8 *packed = g_malloc (size);

  protobuf_c_message_pack (&s->program->base, packed);
  ane_test_write_file (s->model, packed, size);
}

static AneMilBlock *
main_block (Saved *s)
{
  return s->program->mlprogram->functions[0]->value->block_specializations[0]->value;
}

static AneMilOperation *
find_op (Saved      *s,
         const char *type)
{
  AneMilBlock *b = main_block (s);

  for (gsize i = 0; i < b->n_operations; i++)
    if (g_str_equal (b->operations[i]->type, type))
      return b->operations[i];
  g_error ("no %s op", type);
}

/* Loading the package fails with code, the message naming every fragment. */
static void
assert_load_fails (const char *path,
                   gint        code,
                   const char *fragment1,
                   const char *fragment2)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_load (path, &error);

  g_assert_null (pkg);
  g_assert_error (error, ANE_ERROR, code);
  g_test_message ("%s", error->message);
  if (strstr (error->message, fragment1) == NULL || (fragment2 && strstr (error->message, fragment2) == NULL))
    g_error ("'%s' does not name '%s'%s%s", error->message, fragment1, fragment2 ? " and " : "",
             fragment2 ? fragment2 : "");
}

/* --- JSON nested deeper than a stack --------------------------------------- */

/* 100,000 '[' : json-glib parses recursively and once overflowed the stack
 * on such a file; each JSON reader bounds the depth before parsing. */
static char *
deep_json (gsize depth)
{
  GString *text = g_string_new ("{\"format\": ");

  for (gsize i = 0; i < depth; i++)
    g_string_append_c (text, '[');
  for (gsize i = 0; i < depth; i++)
    g_string_append_c (text, ']');
  g_string_append_c (text, '}');
  return g_string_free (text, FALSE);
}

static void
test_json_nesting (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-hostile-XXXXXX");
  g_autofree char *json = g_build_filename (dir, "g.json", NULL);
  g_autofree char *text = deep_json (100000);
  g_autoptr(GError) error = NULL;
  g_autoptr(AneGraph) g = NULL;
  g_auto(Saved) s = { 0 };
  g_autofree char *manifest = NULL;

  /* a graph document */
  g_assert_true (g_file_set_contents (json, text, -1, &error));
  g = ane_graph_load (json, &error);
  g_assert_null (g);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "g.json"));
  g_assert_nonnull (strstr (error->message, "64"));
  g_clear_error (&error);

  /* a package's Manifest.json */
  save_small (&s);
  manifest = g_build_filename (s.path, "Manifest.json", NULL);
  g_assert_true (g_file_set_contents (manifest, text, -1, &error));
  assert_load_fails (s.path, ANE_ERROR_PARSE, "Manifest.json", "64");
  ane_test_remove_tree (dir);
}

/* --- missing sub-messages ------------------------------------------------------ */

static void
test_input_without_argument (void)
{
  g_auto(Saved) s = { 0 };
  AneMilOperation *add;

  save_small (&s);
  add = find_op (&s, "add");
  protobuf_c_message_free_unpacked (&add->inputs[0]->value->base, NULL);
  add->inputs[0]->value = NULL;
  write_model (&s);
  assert_load_fails (s.path, ANE_ERROR_PARSE, "op 'add' (add)", "has no argument");
}

static void
test_attribute_without_value (void)
{
  g_auto(Saved) s = { 0 };
  AneMilOperation *relu;

  save_small (&s);
  relu = find_op (&s, "relu");
  protobuf_c_message_free_unpacked (&relu->attributes[0]->value->base, NULL);
  relu->attributes[0]->value = NULL;
  write_model (&s);
  assert_load_fails (s.path, ANE_ERROR_PARSE, "(relu)", "attribute 'name' has no value");
}

static void
test_binding_without_name_or_value (void)
{
  g_auto(Saved) s = { 0 };
  AneMilBinding *b;

  save_small (&s);
  b = find_op (&s, "relu")->inputs[0]->value->arguments[0];
  g_free (b->name);
  b->name = NULL;
  b->binding_case = CORE_ML__SPECIFICATION__MILSPEC__ARGUMENT__BINDING__BINDING__NOT_SET;
  write_model (&s);
  assert_load_fails (s.path, ANE_ERROR_PARSE, "(relu)", "neither a name nor a value");
}

static void
test_undefined_name (void)
{
  g_auto(Saved) s = { 0 };
  AneMilBinding *b;

  save_small (&s);
  b = find_op (&s, "relu")->inputs[0]->value->arguments[0];
  g_free (b->name);
  b->name = g_strdup ("nowhere");
  write_model (&s);
  assert_load_fails (s.path, ANE_ERROR_PARSE, "(relu)", "names 'nowhere', which nothing defines before it");
}

static void
test_name_defined_twice (void)
{
  g_auto(Saved) s = { 0 };
  AneMilOperation *add;

  save_small (&s);
  add = find_op (&s, "add");
  g_free (add->outputs[0]->name);
  add->outputs[0]->name = g_strdup ("x");   /* the function input's name */
  write_model (&s);
  assert_load_fails (s.path, ANE_ERROR_PARSE, "'x' is defined twice", NULL);
}

/* --- element counts --------------------------------------------------------------- */

static void
test_huge_dimension (void)
{
  g_auto(Saved) s = { 0 };
  AneMilTensorType *tt;

  save_small (&s);
  tt = find_op (&s, "relu")->outputs[0]->type->tensortype;
  tt->dimensions[1]->constant->size = G_MAXUINT64;
  write_model (&s);
  assert_load_fails (s.path, ANE_ERROR_OVERFLOW, "dimension 1 is 18446744073709551615", "2^48");
}

static const char overflow_mil[] =
  "program(1.3)\n"
  "{\n"
  "    func main<ios17>(tensor<fp32, [1]> x) {\n"
  "        tensor<fp32, [4294967296, 4294967296]> big = const()[name = string(\"big\"), val = tensor<fp32, [4294967296, 4294967296]>([])];\n"
  "        tensor<int32, [2]> b = const()[name = string(\"b\"), val = tensor<int32, [2]>([0, 0])];\n"
  "        tensor<int32, [2]> z = const()[name = string(\"z\"), val = tensor<int32, [2]>([2, 2])];\n"
  "        tensor<fp32, [2, 2]> y = slice_by_size(x = big, begin = b, size = z)[name = string(\"y\")];\n"
  "    } -> (y);\n"
  "}\n";

static char *
write_text (const char *dir,
            const char *text)
{
  char *path = g_build_filename (dir, "model.mil", NULL);

  ane_test_write_file (path, text, strlen (text));
  return path;
}

static void
test_element_count_overflow (void)
{
  /* 2^64 elements with an empty literal: once accepted (the count did not
   * fit, the literal check was skipped) and read past a 0-byte buffer */
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-hostile-XXXXXX");
  g_autofree char *path = write_text (dir, overflow_mil);
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_load_mil (path, &error);

  g_assert_null (pkg);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "big"));
  g_assert_true (g_error_matches (error, ANE_ERROR, ANE_ERROR_OVERFLOW) ||
                 g_error_matches (error, ANE_ERROR, ANE_ERROR_PARSE));
  ane_test_remove_tree (dir);
}

static const char twice_mil[] =
  "program(1.3)\n"
  "{\n"
  "    func main<ios17>(tensor<fp32, [2]> x) {\n"
  "        tensor<fp32, [2]> y = relu(x = x)[name = string(\"y\")];\n"
  "        tensor<fp32, [2]> y = sigmoid(x = x)[name = string(\"y\")];\n"
  "    } -> (y);\n"
  "}\n";

static void
test_mil_text_name_twice (void)
{
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-hostile-XXXXXX");
  g_autofree char *path = write_text (dir, twice_mil);
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_load_mil (path, &error);

  g_assert_null (pkg);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "'y' is defined twice"));
  ane_test_remove_tree (dir);
}

/* --- nesting ------------------------------------------------------------------------ */

static void
test_deep_nesting (void)
{
  /* 5,000 blocks, each in a cond of the one before: once overflowed the
   * stack inside protobuf_c_message_unpack */
  g_auto(Saved) s = { 0 };
  AneMilBlock *block;

  save_small (&s);
  block = main_block (&s);
  for (guint depth = 0; depth < 5000; depth++)
    {
      AneMilOperation *op = g_new (AneMilOperation, 1);
      AneMilBlock *inner = g_new (AneMilBlock, 1);
      AneMilOperation **ops = g_new (AneMilOperation *, block->n_operations + 1);

      core_ml__specification__milspec__operation__init (op);
      core_ml__specification__milspec__block__init (inner);
      op->type = g_strdup ("cond");
      op->n_blocks = 1;
      op->blocks = g_new (AneMilBlock *, 1);
      op->blocks[0] = inner;
      if (block->n_operations > 0)   /* an inner block's operations start NULL */
        memcpy (ops, block->operations, block->n_operations * sizeof *ops);
      ops[block->n_operations] = op;
      g_free (block->operations);
      block->operations = ops;
      block->n_operations++;
      block = inner;
    }
  write_model (&s);
  assert_load_fails (s.path, ANE_ERROR_PARSE, "nest more than 64 deep", NULL);
}

static void
test_nesting_scan (void)
{
  /* the scan itself: a message whose length prefix runs past the data */
  static const guint8 truncated[] = { 0xb2, 0x1f, 0x40, 0x01 };   /* field 502 (mlProgram), 64 bytes, 1 byte */
  g_autoptr(GError) error = NULL;

  g_assert_false (ane_protobuf_check_nesting (&core_ml__specification__model__descriptor, truncated,
                                              sizeof truncated, ANE_MIL_MAX_NESTING, "t", &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_true (ane_protobuf_check_nesting (&core_ml__specification__model__descriptor, NULL, 0,
                                             ANE_MIL_MAX_NESTING, "t", &error));
  g_assert_no_error (error);
}

/* --- memory budget ------------------------------------------------------------------ */

static void
test_budget_terabytes (void)
{
  /* a 10^12-element intermediate (an outer product): refused at compile
   * under the default budget, before anything is allocated */
  static const gint64 col[] = { 1000000, 1 }, row[] = { 1, 1000000 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) a = ane_test_input (g, "a", ANE_DTYPE_FLOAT32, col, 2);
  g_autoptr(AneTensor) b = ane_test_input (g, "b", ANE_DTYPE_FLOAT32, row, 2);
  g_autoptr(AneTensor) outer = ane_graph_matmul (g, a, b, FALSE, FALSE, &error);
  g_autoptr(AneTensor) y = ane_graph_reduce_sum (g, outer, NULL, 0, FALSE, &error);

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  for (guint k = 0; k < 2; k++)
    {
      AneBackend backend = k == 0 ? ANE_BACKEND_CPU : ANE_BACKEND_REFERENCE;
      g_autoptr(AneExecutable) exe = ane_executable_new (g, backend);

      g_assert_cmpuint (ane_executable_get_memory_budget (exe), >, 0);
      g_assert_false (ane_executable_compile (exe, NULL, &error));
      g_assert_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "matmul"));
      g_assert_nonnull (strstr (error->message, "memory budget"));
      g_clear_error (&error);
    }
}

static void
test_budget_small (void)
{
  /* a model that fits the default is refused by a budget below its needs,
   * and runs again with no limit */
  static const gint64 s[] = { 256, 256 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 2);
  g_autoptr(AneTensor) h = ane_graph_matmul (g, x, x, FALSE, FALSE, &error);
  g_autoptr(AneTensor) y = ane_graph_relu (g, h, &error);
  g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_CPU);

  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);

  /* x (256 KiB) + the matmul's output (256 KiB) + relu's: more than 600 KiB */
  ane_executable_set_memory_budget (exe, 600 * 1024);
  g_assert_cmpuint (ane_executable_get_memory_budget (exe), ==, 600 * 1024);
  g_assert_false (ane_executable_compile (exe, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "budget of 614400 bytes"));
  g_clear_error (&error);

  ane_executable_set_memory_budget (exe, 0);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
}

static void
test_budget_package (void)
{
  /* a package's executable is prepared when made, and again for a new budget */
  g_auto(Saved) s = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AneExecutable) exe = NULL;

  save_small (&s);
  pkg = ane_package_load (s.path, &error);
  g_assert_no_error (error);
  exe = ane_executable_new_from_package (pkg, NULL, &error);
  g_assert_no_error (error);
  ane_executable_set_memory_budget (exe, 16);
  g_assert_false (ane_executable_compile (exe, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_TOO_LARGE);
  g_clear_error (&error);
  ane_executable_set_memory_budget (exe, 1 << 20);
  g_assert_true (ane_executable_compile (exe, NULL, &error));
  g_assert_no_error (error);
}

static void
test_budget_env (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(AneGraph) g = small_graph ();
      g_autoptr(AneExecutable) exe = ane_executable_new (g, ANE_BACKEND_CPU);

      g_assert_cmpuint (ane_executable_default_memory_budget (), ==, 3 << 20);
      g_assert_cmpuint (ane_executable_get_memory_budget (exe), ==, 3 << 20);
      return;
    }
  /* the child inherits the environment (g_test_trap_subprocess_with_envp
   * is newer than GLib 2.74) */
  g_setenv ("ANE_GLIB_MEMORY_BUDGET", "3M", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("ANE_GLIB_MEMORY_BUDGET");
  g_test_trap_assert_passed ();
}

/* --- weights files that are not what the program says ------------------------------ */

/* y = x + w, x and w [16, 16] float32, w a param with a value: big enough
 * to be stored as a blob in weights/weight.bin. */
static AneGraph *
weighted_graph (void)
{
  static const gint64 s[] = { 16, 16 };
  g_autoptr(GError) error = NULL;
  g_autofree float *v = g_new (float, 256);
  AneGraph *g = ane_graph_new ();
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, s, 2);
  g_autoptr(AneTensor) value = NULL;
  g_autoptr(AneTensor) w = NULL;
  g_autoptr(AneTensor) y = NULL;

  for (guint i = 0; i < 256; i++)
    v[i] = (float) i / 8.0f;
  value = ane_tensor_new_from_floats ("w", s, 2, v, 256, &error);
  g_assert_no_error (error);
  w = ane_graph_param_with_value (g, value, &error);
  g_assert_no_error (error);
  y = ane_graph_add (g, x, w, &error);
  g_assert_no_error (error);
  ane_graph_add_output (g, "y", y, &error);
  g_assert_no_error (error);
  return g;
}

/* Replaces the file at path with a FIFO no one writes to. */
static void
replace_with_fifo (const char *path)
{
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
}

static void
test_package_fifo_weights (void)
{
  /* mapping a FIFO blocks for ever waiting for a writer; the loader must
   * refuse it as not a regular file, at load or at the latest when the
   * weights are first read */
  g_autoptr(AneGraph) g = weighted_graph ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT32, &error);
  g_autoptr(AnePackage) loaded = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-hostile-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "m.mlpackage", NULL);
  g_autofree char *weights = NULL;

  g_assert_no_error (error);
  g_assert_true (ane_package_save (pkg, path, FALSE, &error));
  g_assert_no_error (error);
  loaded = ane_package_load (path, &error);
  g_assert_no_error (error);
  weights = g_build_filename (ane_mlpackage_get_model_dir (ane_package_get_mlpackage (loaded)),
                              "weights", "weight.bin", NULL);
  g_clear_object (&loaded);
  replace_with_fifo (weights);

  loaded = ane_package_load (path, &error);
  if (loaded != NULL)
    {
      exe = ane_executable_new_from_package (loaded, NULL, &error);
      if (exe != NULL)
        g_assert_false (ane_executable_compile (exe, NULL, &error));
    }
  g_assert_error (error, ANE_ERROR, ANE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "weight.bin"));
  g_assert_nonnull (strstr (error->message, "regular file"));
  ane_test_remove_tree (dir);
}

/* Saves the weighted graph as MIL text in a fresh directory; returns the
 * text's path. */
static char *
save_weighted_mil (const char *dir)
{
  g_autoptr(AneGraph) g = weighted_graph ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS17, ANE_PRECISION_FLOAT32, &error);
  char *path = g_build_filename (dir, "m.mil", NULL);

  g_assert_no_error (error);
  g_assert_true (ane_package_save_mil (pkg, path, FALSE, &error));
  g_assert_no_error (error);
  return path;
}

static void
test_mil_weights_missing (void)
{
  /* a text that reads weights fails to load without them, naming the
   * file, rather than loading and failing at run time */
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-hostile-XXXXXX");
  g_autofree char *path = save_weighted_mil (dir);
  g_autofree char *weights = g_build_filename (dir, "weights", "weight.bin", NULL);
  g_autoptr(AnePackage) pkg = NULL;

  g_assert_cmpint (g_unlink (weights), ==, 0);
  pkg = ane_package_load_mil (path, &error);
  g_assert_null (pkg);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "weight.bin"));
  ane_test_remove_tree (dir);
}

static void
test_mil_weights_offset_absent (void)
{
  /* an offset the weights file holds no blob at is refused at load */
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ane_test_make_tmp_dir ("ane-hostile-XXXXXX");
  g_autofree char *path = save_weighted_mil (dir);
  g_autofree char *text = NULL;
  g_autoptr(GString) edited = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  const char *at;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  at = strstr (text, "offset = uint64(");
  g_assert_nonnull (at);
  edited = g_string_new_len (text, at - text);
  g_string_append (edited, "offset = uint64(4096)");
  g_string_append (edited, strchr (at, ')') + 1);
  ane_test_write_file (path, edited->str, edited->len);

  pkg = ane_package_load_mil (path, &error);
  g_assert_null (pkg);
  g_assert_error (error, ANE_ERROR, ANE_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "offset 4096"));
  ane_test_remove_tree (dir);
}

/* --- a package's inputs ------------------------------------------------------------- */

static void
test_package_inputs_checked (void)
{
  static const gint64 s23[] = { 2, 3 };
  g_auto(Saved) s = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(AnePackage) pkg = NULL;
  g_autoptr(AneExecutable) exe = NULL;
  g_autoptr(AneTensor) good = ane_tensor_new_zeros ("x", ANE_DTYPE_FLOAT32, s23, 2, NULL);
  g_autoptr(AneTensor) ints = ane_tensor_new_zeros ("x", ANE_DTYPE_INT32, s23, 2, NULL);
  g_autoptr(AneTensor) halves = ane_tensor_new_zeros ("x", ANE_DTYPE_FLOAT16, s23, 2, NULL);
  g_autoptr(AneTensor) other = ane_tensor_new_zeros ("other", ANE_DTYPE_FLOAT32, s23, 2, NULL);
  g_autoptr(GPtrArray) out = NULL;

  save_small (&s);
  pkg = ane_package_load (s.path, &error);
  g_assert_no_error (error);
  exe = ane_executable_new_from_package (pkg, NULL, &error);
  g_assert_no_error (error);

  out = ane_executable_run (exe, &good, 1, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&out, g_ptr_array_unref);

  /* (ane_tensor_check_spec reports any spec mismatch as ANE_ERROR_SHAPE) */
  g_assert_null (ane_executable_run (exe, &ints, 1, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "input 'x' is float32[2,3], the value is int32[2,3]"));
  g_clear_error (&error);
  g_assert_null (ane_executable_run (exe, &halves, 1, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "float16"));
  g_clear_error (&error);
  {
    AneTensor *two[] = { good, other };

    g_assert_null (ane_executable_run (exe, two, 2, NULL, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (error->message, "'other'"));
    g_clear_error (&error);
  }
  {
    AneTensor *twice[] = { good, good };

    g_assert_null (ane_executable_run (exe, twice, 2, NULL, &error));
    g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "twice"));
    g_clear_error (&error);
  }
  g_assert_null (ane_executable_run (exe, NULL, 0, NULL, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "was not given"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ane/hostile/package/input-without-argument", test_input_without_argument);
  g_test_add_func ("/ane/hostile/package/attribute-without-value", test_attribute_without_value);
  g_test_add_func ("/ane/hostile/package/binding-without-name-or-value", test_binding_without_name_or_value);
  g_test_add_func ("/ane/hostile/package/undefined-name", test_undefined_name);
  g_test_add_func ("/ane/hostile/package/name-defined-twice", test_name_defined_twice);
  g_test_add_func ("/ane/hostile/package/huge-dimension", test_huge_dimension);
  g_test_add_func ("/ane/hostile/package/deep-nesting", test_deep_nesting);
  g_test_add_func ("/ane/hostile/nesting-scan", test_nesting_scan);
  g_test_add_func ("/ane/hostile/json-nesting", test_json_nesting);
  g_test_add_func ("/ane/hostile/mil-text/element-count-overflow", test_element_count_overflow);
  g_test_add_func ("/ane/hostile/mil-text/name-twice", test_mil_text_name_twice);
  g_test_add_func ("/ane/hostile/budget/terabytes", test_budget_terabytes);
  g_test_add_func ("/ane/hostile/budget/small", test_budget_small);
  g_test_add_func ("/ane/hostile/budget/package", test_budget_package);
  g_test_add_func ("/ane/hostile/budget/env", test_budget_env);
  g_test_add_func ("/ane/hostile/package/inputs-checked", test_package_inputs_checked);
  g_test_add_func ("/ane/hostile/package/fifo-weights", test_package_fifo_weights);
  g_test_add_func ("/ane/hostile/mil-text/weights-missing", test_mil_weights_missing);
  g_test_add_func ("/ane/hostile/mil-text/weights-offset-absent", test_mil_weights_offset_absent);
  return g_test_run ();
}
