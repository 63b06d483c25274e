/*
 * clock_main_stack_common.h — the main thread calls clock_gettime() deep
 * in a recursion, under a stack limit set before exec (as `ulimit -s`
 * does): the main thread's stack grows on demand up to RLIMIT_STACK, so
 * its headroom is what the limit still allows, not what is mapped now.
 *
 * clock_main_stack (STACK_LIMIT 256 KiB) recurses until 2.5 KiB of the
 * limit are left: less than a stack-probing vDSO touches.
 * clock_main_stack_fixed (unlimited) recurses 1 MiB deep, far past the
 * stack's first mapping, with all the room it wants.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static uintptr_t floor_sp; /* recurse down to here */
static long long when;

static __attribute__((noinline)) void descend(void)
{
    volatile char frame[256];
    frame[0] = 1;
    if ((uintptr_t)__builtin_frame_address(0) > floor_sp + sizeof frame) {
        descend();
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts); /* deep in the main thread's stack */
        when = ts.tv_sec;
    }
    frame[1] = frame[0];
}

/* The top of the main thread's stack mapping: the kernel counts
 * RLIMIT_STACK from there. */
static uintptr_t stack_top(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    uintptr_t lo, hi, top = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
            top = hi;
    if (f)
        fclose(f);
    return top;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        struct rlimit rl = {STACK_LIMIT, STACK_LIMIT};
        if (STACK_LIMIT == RLIM_INFINITY && getrlimit(RLIMIT_STACK, &rl) == 0)
            rl.rlim_cur = rl.rlim_max; /* as far as the hard limit lets us: unlimited */
        if (setrlimit(RLIMIT_STACK, &rl) != 0)
            return 2;
        execl("/proc/self/exe", argv[0], "run", (char *)NULL);
        return 3;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) != 0 || rl.rlim_cur != STACK_LIMIT)
        return 4;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* bound (lazily) with the stack still shallow */
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    floor_sp = STACK_LIMIT == RLIM_INFINITY ? here - (1u << 20) : stack_top() - STACK_LIMIT + 2560;
    descend();
    printf("the main thread read the clock at %lld\n", when);
    return 0;
}
