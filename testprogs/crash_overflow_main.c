/* crash_overflow_main — see crash_overflow_common.h. */
#include "crash_overflow_common.h"

int main(void)
{
    overflow(NULL);
    return 0;
}
