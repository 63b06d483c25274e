#define LATE_WRITE_FIXED 1
#include "pool_late_write_common.h"
