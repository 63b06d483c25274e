#define COROUTINE_STACK (64 * 1024)
#include "clock_coroutine_common.h"
