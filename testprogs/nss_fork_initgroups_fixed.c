#define NSS_FORK_FIXED 1
#include "nss_fork_initgroups_common.h"
