/* runtime/cpu/ane-cpu-k-quant.c: MIL kernels (being written) */
#include "config.h"

#include "runtime/cpu/ane-cpu-kernels-private.h"

const AneCpuKernel ane_cpu_kernels_quant[] = {
  { NULL, NULL }
};
