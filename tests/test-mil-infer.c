/* test-mil-infer.c: the type-inference mirror's core (mil/ane-mil-infer.c)
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
