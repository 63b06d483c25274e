/*
 * segv_handler_after — a program that installs its own SIGSEGV handler after
 * the shim did, and relies on it: it probes an inaccessible page of its own
 * and recovers with siglongjmp.  Under the shim, the program's handler must
 * still see its own faults (exactly once each), while a use-after-return on
 * a protected pool object is the shim's and never reaches the program.
 * Prints "own faults handled: N" and exits 0 when all went as expected.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bufpool.h"

static sigjmp_buf recover;
static volatile sig_atomic_t own_faults;

static void on_segv(int sig, siginfo_t *info, void *uc)
{
    (void)sig;
    (void)info;
    (void)uc;
    own_faults++;
    siglongjmp(recover, 1);
}

static int probe(volatile char *p)
{
    if (sigsetjmp(recover, 1))
        return 0; /* not readable */
    (void)*p;
    return 1;
}

int main(void)
{
    struct sigaction sa, back;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0)
        return 2;
    /* the program reads back exactly what it set */
    if (sigaction(SIGSEGV, NULL, &back) != 0 || back.sa_sigaction != on_segv)
        return 3;

    char *guard_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (guard_page == MAP_FAILED)
        return 4;
    int readable = probe(guard_page);

    struct bufpool pool;
    bufpool_init(&pool, 8192);
    char *buf = bufpool_get(&pool);
    memset(buf, 7, 8192);
    bufpool_put(&pool, buf);
    volatile char late = buf[100]; /* use after return: the shim's fault, not ours */
    (void)late;

    int readable_again = probe(guard_page + 1);
    printf("own faults handled: %d\n", (int)own_faults);
    return (!readable && !readable_again && own_faults == 2) ? 0 : 1;
}
