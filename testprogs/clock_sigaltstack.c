#define ALTSTACK_SIZE 4096
#include "clock_altstack_common.h"
