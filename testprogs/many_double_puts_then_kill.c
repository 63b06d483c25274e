/*
 * many_double_puts_then_kill — records N double-puts (argv[1], default 100)
 * on distinct objects from one call site, prints "recorded N", then
 * SIGKILLs itself.  The log must hold every one of them: the analyzer must
 * report one double-put finding with count N, and note that the log has no
 * END record.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "guard.h"

static char objects[1000][32];

static void give_back_twice(int i)
{
    guard_pool_put(objects, objects[i], sizeof objects[i]);
    guard_pool_put(objects, objects[i], sizeof objects[i]);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    if (n < 1 || n > 1000)
        n = 100;
    for (int i = 0; i < n; i++) {
        guard_pool_get(objects, objects[i], sizeof objects[i]);
        give_back_twice(i);
    }
    printf("recorded %d\n", n);
    fflush(stdout);
    kill(getpid(), SIGKILL);
    return 0;
}
