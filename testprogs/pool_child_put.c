#include "pool_child_common.h"
