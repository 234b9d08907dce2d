#include "config.h"
#include "ane-private.h"
