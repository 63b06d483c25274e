/* pool_system_thread_fixed — see pool_system_common.h: put after system() returned. */
#include "pool_system_common.h"

int main(void)
{
    return pool_system_main(1);
}
