#include "nss_hosts_threads_common.h"
