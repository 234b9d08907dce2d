/* runtime/cpu/ane-cpu-k-nn.c: MIL kernels (being written) */
#include "config.h"

#include "runtime/cpu/ane-cpu-kernels-private.h"

const AneCpuKernel ane_cpu_kernels_nn[] = {
  { NULL, NULL }
};
