#define NS_PATH "/proc/thread-self/ns/net"
#include "ns_procself_common.h"
