/* pool_stdio_buffer — see pool_stdio_common.h: put before fclose. */
#include "pool_stdio_common.h"

int main(int argc, char **argv)
{
    return pool_stdio_main(argc > 1 ? argv[1] : "/dev/null", 0);
}
