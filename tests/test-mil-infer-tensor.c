/* test-mil-infer-tensor.c: the type-inference rules of ane-glib/mil/infer/ane-mil-infer-tensor.c
 *
 * Hand-checked cases per op against the type_inference of coremltools'
 * op classes (the source each row of ane-mil-opdefs.c names).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ane-infer-test-util.h"

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  return g_test_run ();
}
