/*
 * clock_coroutine_common.h — a coroutine made with makecontext on a
 * COROUTINE_STACK-byte stack calls clock_gettime().  2 KiB (the buggy
 * program) is far less than a stack-probing vDSO needs; 64 KiB (the twin)
 * is plenty.
 *
 * The coroutine's stack is the top COROUTINE_STACK bytes of a larger block,
 * so that an overrun (the dynamic linker alone saves ~3 KiB of AVX-512
 * state when it binds clock_gettime lazily) stays in our own padding: the
 * program runs the same with and without the shim.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>

static ucontext_t main_ctx, co_ctx;
static long long when;

static void coroutine(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* on the coroutine's small stack */
    when = ts.tv_sec;
}

int main(void)
{
    char *block = malloc(64 * 1024 + COROUTINE_STACK);
    if (!block || getcontext(&co_ctx) != 0)
        return 2;
    co_ctx.uc_stack.ss_sp = block + 64 * 1024;
    co_ctx.uc_stack.ss_size = COROUTINE_STACK;
    co_ctx.uc_link = &main_ctx;
    makecontext(&co_ctx, coroutine, 0);
    swapcontext(&main_ctx, &co_ctx);
    printf("coroutine ran at %lld\n", when);
    free(block);
    return 0;
}
