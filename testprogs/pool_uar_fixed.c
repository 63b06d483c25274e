#define POOL_UAR_FIXED 1
#include "pool_uar_common.h"
