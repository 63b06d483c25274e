#include "nss_fork_initgroups_common.h"
