/*
 * log_past_a_window — a log longer than one mapping window of the shim's
 * log writer (16 MiB, preload/log.c), with a fork on each side of the
 * boundary.  The parent records argv[1] get/put cycles of a pool object
 * (two 32-byte short records each), forking a child before and after; each
 * child double-puts an object of its own (a finding in its own log) and
 * exits; the parent waits for both and then double-puts once more, in
 * the log's last window.  Prints the number of cycles and how many
 * mappings of its log the process has (from /proc/self/maps): each is a
 * cost to every later fork, so they must not grow with the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"

static char pool[4][64];

static void double_put(char *obj)
{
    guard_pool_get(pool, obj, 64);
    guard_pool_put(pool, obj, 64);
    guard_pool_put(pool, obj, 64);
}

static int child_double_puts(char *obj)
{
    pid_t pid = fork();
    if (pid == 0) {
        double_put(obj);
        _exit(0);
    }
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? 0 : 1;
}

static int log_mappings(void)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[4096];
    int n = 0;
    while (maps && fgets(line, sizeof line, maps))
        if (strstr(line, "/guard.log_past_a_window.") && strstr(line, ".log"))
            n++;
    if (maps)
        fclose(maps);
    return n;
}

int main(int argc, char **argv)
{
    long cycles = argc > 1 ? atol(argv[1]) : 300000;
    int failed = child_double_puts(pool[1]);
    for (long i = 0; i < cycles; i++) {
        guard_pool_get(pool, pool[0], 64);
        guard_pool_put(pool, pool[0], 64);
    }
    failed |= child_double_puts(pool[2]);
    double_put(pool[3]);
    printf("%ld %d\n", cycles, log_mappings());
    return failed;
}
