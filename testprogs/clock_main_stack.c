#define STACK_LIMIT (256 * 1024)
#include "clock_main_stack_common.h"
