/* pool_system_thread — see pool_system_common.h: put while system() runs. */
#include "pool_system_common.h"

int main(void)
{
    return pool_system_main(0);
}
