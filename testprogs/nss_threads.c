#include "nss_threads_common.h"
