/* field_late_write_fixed.c — see field_late_write.h: the correct twin. */
#define FIELD_LATE_WRITE_FIXED
#include "field_late_write.h"
