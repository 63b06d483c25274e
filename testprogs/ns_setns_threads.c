#define SOCKET_ON_OTHER_THREAD 1
#include "ns_setns_common.h"
