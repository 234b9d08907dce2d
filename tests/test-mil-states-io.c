/* test-mil-states-io.c: states rewritten into inputs and outputs
 * (mil/ane-mil-states-io.c), as the private path's backend does
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include "ane-glib.h"
#include "ane-test-util.h"
#include "ane-lower-test-util.h"
#include "mil/ane-mil-states-io-private.h"
#include "mil/ane-mil-text-private.h"

/* A state read, written, read again (coremltools' pattern), and a second
 * state only read. */
static const char program_text[] =
  "program(1.3)\n{\n"
  "  func main<ios18>(tensor<fp16, [4]> x, state<tensor<fp16, [4]>> s, state<tensor<fp16, [4]>> t) {\n"
  "    tensor<fp16, [4]> old = read_state(input = s)[name = string(\"old\")];\n"
  "    tensor<fp16, [4]> sum = add(x = old, y = x)[name = string(\"sum\")];\n"
  "    write_state(input = s, data = sum)[name = string(\"w\")];\n"
  "    tensor<fp16, [4]> now = read_state(input = s)[name = string(\"now\")];\n"
  "    tensor<fp16, [4]> tv = read_state(input = t)[name = string(\"tv\")];\n"
  "    tensor<fp16, [4]> y = mul(x = now, y = tv)[name = string(\"y\")];\n"
  "  } -> (y, now);\n}\n";

static void
test_rewrite (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (program_text, -1, "states", &error);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) finals = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *text = NULL;
  AneMilFunction *fn;

  g_assert_no_error (error);
  fn = program->functions[0]->value;
  g_assert_true (ane_mil_function_states_to_io (fn, "main", names, finals, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (names->len, ==, 2);
  g_assert_cmpstr (names->pdata[0], ==, "s");
  g_assert_cmpstr (names->pdata[1], ==, "t");
  g_assert_cmpstr (finals->pdata[0], ==, "sum");   /* written */
  g_assert_cmpstr (finals->pdata[1], ==, "t");     /* only read: unchanged */
  text = ane_mil_text_print (program, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (text, "state"));
  g_assert_nonnull (strstr (text, "tensor<fp16, [4]> s, tensor<fp16, [4]> t"));
  /* reads became the current value: old -> s, now -> sum, tv -> t */
  g_assert_nonnull (strstr (text, "add(x = s, y = x)"));
  g_assert_nonnull (strstr (text, "mul(x = sum, y = t)"));
  g_assert_nonnull (strstr (text, "-> (y, sum, sum, t)"));
}

static void
test_not_a_state (void)
{
  static const char bad[] =
    "program(1.3)\n{\n"
    "  func main<ios18>(tensor<fp16, [4]> x) {\n"
    "    tensor<fp16, [4]> old = read_state(input = x)[name = string(\"old\")];\n"
    "  } -> (old);\n}\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (bad, -1, "bad", &error);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) finals = g_ptr_array_new_with_free_func (g_free);

  g_assert_no_error (error);
  g_assert_false (ane_mil_function_states_to_io (program->functions[0]->value, "main", names, finals, &error));
  g_assert_error (error, ANE_ERROR, ANE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "read_state of 'x'"));
}

/* Inputs narrower than 32 widened: the input renamed and 32 wide, a
 * slice_by_size first in the block giving the old name its old value. */
static void
test_widen (void)
{
  static const char text_in[] =
    "program(1.3)\n{\n"
    "  func main<ios18>(tensor<fp16, [1, 8, 1, 1]> x, tensor<fp16, [1, 8, 1, 64]> y) {\n"
    "    tensor<fp16, [1, 8, 1, 64]> z = add(x = x, y = y)[name = string(\"z\")];\n"
    "  } -> (z);\n}\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(AneMilProgram) program = ane_mil_text_parse (text_in, -1, "widen", &error);
  g_autoptr(GPtrArray) narrow = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) wide = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  g_assert_true (ane_mil_function_widen_inputs (program->functions[0]->value, "main", 32, narrow, wide, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (narrow->len, ==, 1);   /* y is wide enough */
  g_assert_cmpstr (narrow->pdata[0], ==, "x");
  g_assert_cmpstr (wide->pdata[0], ==, "x_wide");
  text = ane_mil_text_print (program, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "tensor<fp16, [1, 8, 1, 32]> x_wide, tensor<fp16, [1, 8, 1, 64]> y"));
  g_assert_nonnull (strstr (text, "tensor<fp16, [1, 8, 1, 1]> x = slice_by_size(x = x_wide"));
  /* the slice comes first, the add still reads x */
  g_assert_true (strstr (text, "slice_by_size") < strstr (text, "add(x = x, y = y)"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mil/states-io/rewrite", test_rewrite);
  g_test_add_func ("/mil/states-io/not-a-state", test_not_a_state);
  g_test_add_func ("/mil/states-io/widen", test_widen);
  return g_test_run ();
}
