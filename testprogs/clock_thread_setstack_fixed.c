#define LEFT (64 * 1024)
#include "clock_thread_setstack_common.h"
