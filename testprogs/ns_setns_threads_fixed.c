#include "ns_setns_common.h"
