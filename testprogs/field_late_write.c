/* field_late_write.c — see field_late_write.h: the buggy program. */
#include "field_late_write.h"
