/*
 * early_ctor — the main program for libearly.so (loaded with LD_PRELOAD
 * after libguard.so).  It does nothing itself: the finding comes from the
 * library's constructor.
 */
#include <stdio.h>

int main(void)
{
    puts("main ran");
    return 0;
}
