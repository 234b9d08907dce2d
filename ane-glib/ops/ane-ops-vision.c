#include "config.h"
#include "ops/ane-ops.h"
