#define ALTSTACK_SIZE (64 * 1024)
#include "clock_altstack_common.h"
