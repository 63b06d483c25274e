#include "pool_uar_common.h"
