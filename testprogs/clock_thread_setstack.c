#define LEFT 2560
#include "clock_thread_setstack_common.h"
