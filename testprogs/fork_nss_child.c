#include "fork_nss_common.h"
