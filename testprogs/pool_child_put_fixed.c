#define POOL_CHILD_FIXED 1
#include "pool_child_common.h"
