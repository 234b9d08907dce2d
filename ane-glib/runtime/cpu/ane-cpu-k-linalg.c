/* runtime/cpu/ane-cpu-k-linalg.c: MIL kernels (being written) */
#include "config.h"

#include "runtime/cpu/ane-cpu-kernels-private.h"

const AneCpuKernel ane_cpu_kernels_linalg[] = {
  { NULL, NULL }
};
