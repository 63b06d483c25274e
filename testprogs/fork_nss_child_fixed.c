#define FORK_NSS_FIXED 1
#include "fork_nss_common.h"
