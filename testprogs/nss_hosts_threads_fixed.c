#define NSS_HOSTS_FIXED 1
#include "nss_hosts_threads_common.h"
