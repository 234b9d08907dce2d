#include "config.h"
#include "ane-graph-private.h"
