/* runtime/cpu/ane-cpu-kernels.c: the one table from MIL op to kernel
 *
 * Each kernel family file exports a NULL-terminated table; this file only
 * lists the families. Adding a MIL op is one row in its family's table plus
 * its function.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "runtime/cpu/ane-cpu-kernels-private.h"

static const AneCpuKernel *const families[] = {
  ane_cpu_kernels_elementwise,
  ane_cpu_kernels_linalg,
  ane_cpu_kernels_shape,
  ane_cpu_kernels_nn,
  ane_cpu_kernels_quant,
};

const AneCpuKernel *
ane_cpu_kernel_lookup (const char *op)
{
  for (guint f = 0; f < G_N_ELEMENTS (families); f++)
    for (const AneCpuKernel *k = families[f]; k->op != NULL; k++)
      if (g_str_equal (k->op, op))
        return k;
  return NULL;
}
