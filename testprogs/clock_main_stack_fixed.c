#define STACK_LIMIT RLIM_INFINITY
#include "clock_main_stack_common.h"
