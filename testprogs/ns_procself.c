#define NS_PATH "/proc/self/ns/net"
#include "ns_procself_common.h"
