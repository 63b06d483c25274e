#define NSS_THREADS_FIXED 1
#include "nss_threads_common.h"
