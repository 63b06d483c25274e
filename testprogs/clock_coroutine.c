#define COROUTINE_STACK 2048
#include "clock_coroutine_common.h"
