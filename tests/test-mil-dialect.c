/* test-mil-dialect.c: AneMilDialect, the buildInfo of the MIL text the
 * Neural Engine's private path is handed
 *
 * The default pairs are those of the projects that ran their MIL text on
 * the Neural Engine (ane-glib/ane-mil-dialect.c cites them); these tests
 * hold the defaults, the setters and their errors, the merge with a
 * program's own buildInfo, the text round trip (print -> parse -> print)
 * and that a package written for Core ML keeps its own buildInfo.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "ane-test-util.h"
#include "ane-mil-dialect-private.h"
#include "mil/ane-mil-text-private.h"
#include "mil/ane-mlpackage-private.h"

static const char *const default_keys[] = {
  "coremlc-component-MIL", "coremlc-version", "coremltools-component-milinternal", "coremltools-version",
  "ane-glib-version", NULL,
};

/* The header line the hardware-verified projects write (maderix/ANE
 * training/stories_mil.h MIL_HDR), then ours. */
#define VERIFIED_BUILD_INFO \
  "[buildInfo = dict<string, string>({{\"coremlc-component-MIL\", \"3510.2.1\"}, {\"coremlc-version\", \"3505.4.1\"}, " \
  "{\"coremltools-component-milinternal\", \"\"}, {\"coremltools-version\", \"9.0\"}, " \
  "{\"ane-glib-version\", \"" PACKAGE_VERSION "\"}})]\n"

static AneGraph *
relu_graph (void)
{
  static const gint64 shape[] = { 1, 4, 1, 8 };
  g_autoptr(AneGraph) g = ane_graph_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(AneTensor) x = ane_test_input (g, "x", ANE_DTYPE_FLOAT32, shape, 4);
  g_autoptr(AneTensor) y = ane_graph_relu (g, x, &error);

  g_assert_no_error (error);
  g_assert_true (ane_graph_add_output (g, "y", y, &error));
  return g_steal_pointer (&g);
}

static AnePackage *
relu_package (void)
{
  g_autoptr(AneGraph) g = relu_graph ();
  g_autoptr(GError) error = NULL;
  AnePackage *pkg = ane_package_new_from_graph (g, ANE_TARGET_IOS18, ANE_PRECISION_FLOAT16, &error);

  g_assert_no_error (error);
  return pkg;
}

/* The buildInfo pairs of a program, "k=v" joined by ";". */
static char *
build_info_of (const AneMilProgram *p)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < p->n_attributes; i++)
    if (g_str_equal (p->attributes[i]->key, "buildInfo"))
      {
        const CoreML__Specification__MILSpec__DictionaryValue *d = p->attributes[i]->value->immediatevalue->dictionary;

        for (gsize j = 0; j < d->n_values; j++)
          g_string_append_printf (s, "%s%s=%s", j ? ";" : "",
                                  d->values[j]->key->immediatevalue->tensor->strings->values[0],
                                  d->values[j]->value->immediatevalue->tensor->strings->values[0]);
      }
  return g_string_free (s, FALSE);
}

static void
test_defaults (void)
{
  g_autoptr(AneMilDialect) d = ane_mil_dialect_new ();
  g_autoptr(AneMilDialect) empty = ane_mil_dialect_new_empty ();
  g_auto(GStrv) keys = ane_mil_dialect_dup_build_info_keys (d);
  g_auto(GStrv) none = ane_mil_dialect_dup_build_info_keys (empty);

  g_assert_cmpstrv (keys, default_keys);
  g_assert_cmpstr (ane_mil_dialect_get_build_info (d, "coremlc-component-MIL"), ==, "3510.2.1");
  g_assert_cmpstr (ane_mil_dialect_get_build_info (d, "coremlc-version"), ==, "3505.4.1");
  g_assert_cmpstr (ane_mil_dialect_get_build_info (d, "coremltools-component-milinternal"), ==, "");
  g_assert_cmpstr (ane_mil_dialect_get_build_info (d, "coremltools-version"), ==, "9.0");
  g_assert_cmpstr (ane_mil_dialect_get_build_info (d, "ane-glib-version"), ==, PACKAGE_VERSION);
  g_assert_null (ane_mil_dialect_get_build_info (d, "no-such-key"));
  g_assert_cmpuint (g_strv_length (none), ==, 0);
  g_assert_true (G_TYPE_IS_BOXED (ANE_TYPE_MIL_DIALECT));
}

static void
test_set (void)
{
  g_autoptr(AneMilDialect) d = ane_mil_dialect_new ();
  g_autoptr(AneMilDialect) copy = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) keys = NULL;
  const char *const expected[] = {
    "coremlc-component-MIL", "coremlc-version", "coremltools-version", "ane-glib-version", "source", NULL,
  };

  /* a key it has keeps its place; a new one goes last; NULL removes */
  g_assert_true (ane_mil_dialect_set_build_info (d, "coremlc-version", "3520.5.1", &error));
  g_assert_true (ane_mil_dialect_set_build_info (d, "source", "a \"quoted\" \\ value", &error));
  g_assert_true (ane_mil_dialect_set_build_info (d, "coremltools-component-milinternal", NULL, &error));
  g_assert_true (ane_mil_dialect_set_build_info (d, "never-there", NULL, &error));
  g_assert_no_error (error);
  keys = ane_mil_dialect_dup_build_info_keys (d);
  g_assert_cmpstrv (keys, expected);
  g_assert_cmpstr (ane_mil_dialect_get_build_info (d, "coremlc-version"), ==, "3520.5.1");

  /* KEY=VALUE, KEY= (empty value) and KEY (remove) */
  g_assert_true (ane_mil_dialect_parse_assignment (d, "coremlc-component-MIL=3520.4.1", &error));
  g_assert_true (ane_mil_dialect_parse_assignment (d, "empty=", &error));
  g_assert_true (ane_mil_dialect_parse_assignment (d, "source", &error));
  g_assert_true (ane_mil_dialect_parse_assignment (d, "eq=a=b", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (ane_mil_dialect_get_build_info (d, "coremlc-component-MIL"), ==, "3520.4.1");
  g_assert_cmpstr (ane_mil_dialect_get_build_info (d, "empty"), ==, "");
  g_assert_null (ane_mil_dialect_get_build_info (d, "source"));
  g_assert_cmpstr (ane_mil_dialect_get_build_info (d, "eq"), ==, "a=b");

  /* a copy is independent */
  copy = ane_mil_dialect_copy (d);
  g_assert_true (ane_mil_dialect_set_build_info (copy, "coremlc-version", "1", &error));
  g_assert_cmpstr (ane_mil_dialect_get_build_info (d, "coremlc-version"), ==, "3520.5.1");
  g_assert_cmpstr (ane_mil_dialect_get_build_info (copy, "eq"), ==, "a=b");
}

static void
test_errors (void)
{
  g_autoptr(AneMilDialect) d = ane_mil_dialect_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) before = ane_mil_dialect_dup_build_info_keys (d);
  g_auto(GStrv) after = NULL;

  g_assert_false (ane_mil_dialect_set_build_info (d, "", "x", &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "key is empty", NULL);
  g_assert_false (ane_mil_dialect_parse_assignment (d, "=x", &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "key is empty", NULL);
  g_assert_false (ane_mil_dialect_set_build_info (d, "line\nbreak", "x", &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "'line\nbreak'", "control character", NULL);
  g_assert_false (ane_mil_dialect_set_build_info (d, "coremlc-version", "3505\n", &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "'coremlc-version'", "value has a control character", NULL);
  g_assert_false (ane_mil_dialect_set_build_info (d, "coremlc-version", "\xff", &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "'coremlc-version'", "not UTF-8", NULL);
  g_assert_false (ane_mil_dialect_set_build_info (d, "bad\xc3", "x", &error));
  ane_test_assert_error (&error, ANE_ERROR_INVALID_ARGUMENT, "not UTF-8", NULL);
  /* nothing changed */
  after = ane_mil_dialect_dup_build_info_keys (d);
  g_assert_cmpstrv (before, after);
  g_assert_cmpstr (ane_mil_dialect_get_build_info (d, "coremlc-version"), ==, "3505.4.1");
}

/* A lowered graph in the default dialect: the verified header, the four
 * keys and ours, func main<ios18>; the text parses back to the same pairs
 * and prints the same (round trip). Without a dialect, the package's own
 * buildInfo (ane-glib-version only) as before. */
static void
test_print_graph (void)
{
  g_autoptr(AnePackage) pkg = relu_package ();
  g_autoptr(AneMilDialect) d = ane_mil_dialect_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *own = ane_package_to_mil_text (pkg, &error);
  g_autofree char *same = ane_package_to_mil_text_for_dialect (pkg, NULL, &error);
  g_autofree char *text = ane_package_to_mil_text_for_dialect (pkg, d, &error);
  g_autofree char *again = NULL;
  g_autofree char *pairs = NULL;
  AneMilProgram *p;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (own, "program(1.3)\n[buildInfo = dict<string, string>({{\"ane-glib-version\", \""
                                   PACKAGE_VERSION "\"}})]\n"));
  g_assert_cmpstr (own, ==, same);
  g_assert_true (g_str_has_prefix (text, "program(1.3)\n" VERIFIED_BUILD_INFO "{\n    func main<ios18>("));

  p = ane_mil_text_parse (text, -1, "dialect text", &error);
  g_assert_no_error (error);
  pairs = build_info_of (p);
  g_assert_cmpstr (pairs, ==, "coremlc-component-MIL=3510.2.1;coremlc-version=3505.4.1;"
                   "coremltools-component-milinternal=;coremltools-version=9.0;ane-glib-version=" PACKAGE_VERSION);
  again = ane_mil_text_print (p, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, text);
  /* printing it in the dialect again changes nothing */
  g_clear_pointer (&again, g_free);
  again = ane_mil_dialect_print (d, p, &error);
  g_assert_cmpstr (again, ==, text);
  protobuf_c_message_free_unpacked (&p->base, NULL);

  /* the package's program was not changed */
  g_clear_pointer (&again, g_free);
  again = ane_package_to_mil_text (pkg, &error);
  g_assert_cmpstr (again, ==, own);
}

/* An override shows up in the text, in the key's place. */
static void
test_print_override (void)
{
  g_autoptr(AnePackage) pkg = relu_package ();
  g_autoptr(AneMilDialect) d = ane_mil_dialect_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_assert_true (ane_mil_dialect_set_build_info (d, "coremlc-version", "3520.5.1", &error));
  g_assert_true (ane_mil_dialect_set_build_info (d, "coremlc-component-MIL", "3520.4.1", &error));
  g_assert_true (ane_mil_dialect_set_build_info (d, "coremltools-component-milinternal", NULL, &error));
  g_assert_true (ane_mil_dialect_set_build_info (d, "note", "say \"hi\"", &error));
  text = ane_package_to_mil_text_for_dialect (pkg, d, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "[buildInfo = dict<string, string>({{\"coremlc-component-MIL\", \"3520.4.1\"}, "
                                  "{\"coremlc-version\", \"3520.5.1\"}, {\"coremltools-version\", \"9.0\"}, "
                                  "{\"ane-glib-version\", \"" PACKAGE_VERSION "\"}, {\"note\", \"say \\\"hi\\\"\"}})]\n"));
  g_assert_null (strstr (text, "3505.4.1"));
  g_assert_null (strstr (text, "milinternal"));
}

/* A program that has a buildInfo (hand-written text, an Apple package):
 * the dialect's pairs come first, then the program's other pairs in their
 * order; other program attributes are untouched. An empty
 * dialect prints the program as it is; removing every pair drops the
 * attribute. */
static void
test_print_merge (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "mil", "extensions.mil", NULL);
  g_autofree char *src = NULL;
  g_autofree char *plain = NULL;
  g_autofree char *text = NULL;
  g_autofree char *pairs = NULL;
  g_autoptr(AneMilDialect) d = ane_mil_dialect_new ();
  g_autoptr(AneMilDialect) empty = ane_mil_dialect_new_empty ();
  g_autoptr(GError) error = NULL;
  AneMilProgram *p, *q;

  g_assert_true (g_file_get_contents (path, &src, NULL, &error));
  p = ane_mil_text_parse (src, -1, path, &error);
  g_assert_no_error (error);
  plain = ane_mil_text_print (p, &error);

  g_assert_true (ane_mil_dialect_set_build_info (d, "coremlc-version", "3520.5.1", &error));
  text = ane_mil_dialect_print (d, p, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "`odd key` = int32(1)]"));
  q = ane_mil_text_parse (text, -1, "merged", &error);
  g_assert_no_error (error);
  pairs = build_info_of (q);
  g_assert_cmpstr (pairs, ==, "coremlc-component-MIL=3510.2.1;coremlc-version=3520.5.1;"
                   "coremltools-component-milinternal=;coremltools-version=9.0;ane-glib-version=" PACKAGE_VERSION
                   ";note=hand-written");
  protobuf_c_message_free_unpacked (&q->base, NULL);

  g_clear_pointer (&text, g_free);
  text = ane_mil_dialect_print (empty, p, &error);
  g_assert_cmpstr (text, ==, plain);

  g_clear_pointer (&text, g_free);
  g_assert_true (ane_mil_dialect_set_build_info (empty, "coremlc-version", NULL, &error));
  g_assert_true (ane_mil_dialect_set_build_info (empty, "note", NULL, &error));
  text = ane_mil_dialect_print (empty, p, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (text, "buildInfo"));
  g_assert_nonnull (strstr (text, "[`odd key` = int32(1)]"));
  protobuf_c_message_free_unpacked (&p->base, NULL);
}

/* save_mil_for_dialect writes the dialect's text; it loads back with the
 * pairs. The .mlpackage of the same package keeps its own buildInfo. */
static void
test_save (void)
{
  g_autoptr(AnePackage) pkg = relu_package ();
  g_autoptr(AnePackage) back = NULL;
  g_autoptr(AneMilDialect) d = ane_mil_dialect_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ane-dialect-XXXXXX", NULL);
  g_autofree char *mil = g_build_filename (dir, "model.mil", NULL);
  g_autofree char *bundle = g_build_filename (dir, "model.mlpackage", NULL);
  g_autofree char *written = NULL;
  g_autofree char *text = NULL;
  g_autofree char *pairs = NULL;
  AneMLPackage *ref;

  g_assert_true (ane_mil_dialect_set_build_info (d, "coremltools-version", "9.1", &error));
  g_assert_true (ane_package_save_mil_for_dialect (pkg, mil, FALSE, d, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (mil, &written, NULL, &error));
  g_assert_nonnull (strstr (written, "{\"coremltools-version\", \"9.1\"}"));
  g_assert_nonnull (strstr (written, "{\"coremlc-component-MIL\", \"3510.2.1\"}"));

  back = ane_package_load_mil (mil, &error);
  g_assert_no_error (error);
  text = ane_package_to_mil_text (back, &error);
  g_assert_cmpstr (text, ==, written);

  g_assert_true (ane_package_save (pkg, bundle, FALSE, &error));
  g_assert_no_error (error);
  ref = ane_mlpackage_open (bundle, &error);
  g_assert_no_error (error);
  pairs = build_info_of (ane_mlpackage_get_program (ref));
  g_assert_cmpstr (pairs, ==, "ane-glib-version=" PACKAGE_VERSION);
  ane_mlpackage_free (ref);
  ane_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mil-dialect/defaults", test_defaults);
  g_test_add_func ("/mil-dialect/set", test_set);
  g_test_add_func ("/mil-dialect/errors", test_errors);
  g_test_add_func ("/mil-dialect/print/graph", test_print_graph);
  g_test_add_func ("/mil-dialect/print/override", test_print_override);
  g_test_add_func ("/mil-dialect/print/merge", test_print_merge);
  g_test_add_func ("/mil-dialect/save", test_save);
  return g_test_run ();
}
