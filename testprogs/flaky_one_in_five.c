/*
 * flaky_one_in_five — fails in about one run out of five: a double-put on
 * an error path taken when the clock's microseconds say so (a stand-in for
 * a race).  For run-with-guard --until-fail.
 */
#include <stdio.h>
#include <sys/time.h>

#include "guard.h"

static char object[64];

int main(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    guard_pool_get(object, object, sizeof object);
    guard_pool_put(object, object, sizeof object);
    if (tv.tv_usec % 5 == 0)
        guard_pool_put(object, object, sizeof object); /* BUG, once in a while */
    puts("done");
    return 0;
}
