#include "pool_late_write_common.h"
