/*
 * altstack.c — an alternate signal stack for the crash recorder on the
 * threads that have none.
 *
 * A stack overflow faults with the stack exhausted: without an alternate
 * signal stack the kernel cannot push the SIGSEGV frame, kills the process
 * at once, and the recorder never runs.  So the main thread (at start-up)
 * and every thread pthread_create starts (threads.c) get one if the
 * program gave them none; the program's own always wins:
 *   - a thread that has one keeps it;
 *   - sigaltstack() answers from the program's view: ours reads as "none",
 *     and a stack the program sets (or SS_DISABLE) replaces ours, which is
 *     then given back;
 *   - handlers the program installed with SA_ONSTACK run on ours on such a
 *     thread (as they would on any alternate stack; without one they ran on
 *     the thread's stack).
 * Slots of ALT_SIZE come from chunks of ALT_SLOTS (one mapping, so one VMA,
 * for 16 threads: a process with tens of thousands of threads must not run
 * out of mappings because of us); untouched pages cost no memory.  A slot
 * comes back when its thread exits (a pthread key destructor).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "guard_internal.h"
#include "hook.h"

#define ALT_SIZE (64u << 10)
#define ALT_SLOTS 16
#define ALT_CHUNKS 256 /* 4096 threads at once; past that, threads go without */

struct alt_chunk {
    char *base;    /* ALT_SLOTS * ALT_SIZE */
    uint32_t used; /* a bit a slot */
};

static struct alt_chunk chunks[ALT_CHUNKS];
static struct guard_lock alt_lock;
static pthread_key_t alt_key;
static int alt_key_made;
static __thread char *own_slot; /* this thread's slot while it is installed */

static long sys_sigaltstack(const stack_t *ss, stack_t *old)
{
    return guard_sys_call6(SYS_sigaltstack, (long)ss, (long)old, 0, 0, 0, 0);
}

static char *take_slot(void)
{
    char *slot = NULL;
    if (!guard_lock_acquire(&alt_lock))
        return NULL;
    for (unsigned c = 0; c < ALT_CHUNKS && !slot; c++) {
        struct alt_chunk *k = &chunks[c];
        if (!k->base) {
            void *m = mmap(NULL, (size_t)ALT_SLOTS * ALT_SIZE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
            if (m == MAP_FAILED)
                break;
            k->base = m;
        }
        if (k->used == (1u << ALT_SLOTS) - 1)
            continue;
        unsigned i = (unsigned)__builtin_ctz(~k->used);
        k->used |= 1u << i;
        slot = k->base + (size_t)i * ALT_SIZE;
    }
    guard_lock_release(&alt_lock);
    return slot;
}

static void give_slot(char *slot)
{
    if (!slot || !guard_lock_acquire(&alt_lock))
        return;
    for (unsigned c = 0; c < ALT_CHUNKS; c++) {
        struct alt_chunk *k = &chunks[c];
        if (k->base && slot >= k->base && slot < k->base + (size_t)ALT_SLOTS * ALT_SIZE) {
            k->used &= ~(1u << ((size_t)(slot - k->base) / ALT_SIZE));
            /* the pages it used go back to the kernel; the mapping stays */
            (void)madvise(slot, ALT_SIZE, MADV_DONTNEED);
            break;
        }
    }
    guard_lock_release(&alt_lock);
}

/* At the thread's exit: ours off the kernel's books, the slot back. */
static void thread_exits(void *slot)
{
    stack_t now;
    if (sys_sigaltstack(NULL, &now) == 0 && now.ss_sp == slot && !(now.ss_flags & SS_ONSTACK)) {
        stack_t off = {.ss_flags = SS_DISABLE};
        sys_sigaltstack(&off, NULL);
    }
    if (own_slot == slot)
        own_slot = NULL;
    int saved = errno;
    give_slot(slot);
    errno = saved;
}

void guard_altstack_give(void)
{
    if (!guard_opt.crash_handler || !alt_key_made || own_slot)
        return;
    stack_t now;
    if (sys_sigaltstack(NULL, &now) != 0 || !(now.ss_flags & SS_DISABLE))
        return; /* the program's own */
    int saved = errno;
    char *slot = take_slot();
    if (slot) {
        stack_t ss = {.ss_sp = slot, .ss_size = ALT_SIZE, .ss_flags = 0};
        if (sys_sigaltstack(&ss, NULL) == 0 && pthread_setspecific(alt_key, slot) == 0)
            own_slot = slot;
        else
            give_slot(slot);
    }
    errno = saved;
}

void guard_altstack_init(void)
{
    if (!guard_opt.crash_handler)
        return;
    alt_key_made = pthread_key_create(&alt_key, thread_exits) == 0;
    guard_altstack_give(); /* the thread that starts the shim: the main thread */
}

/* In a fork child the one thread keeps its slot (the chunk is copied). */

GUARD_EXPORT int sigaltstack(const stack_t *ss, stack_t *old)
{
    char *ours = own_slot;
    int rc = GUARD_REAL(sigaltstack)(ss, old);
    if (!ours || rc != 0)
        return rc;
    if (old && old->ss_sp == ours) /* the program never set one: it reads as none */
        *old = (stack_t){.ss_sp = NULL, .ss_flags = SS_DISABLE, .ss_size = 0};
    if (ss) { /* the program's stack (or none) replaced ours, which was not in use */
        own_slot = NULL;
        int saved = errno;
        pthread_setspecific(alt_key, NULL);
        give_slot(ours);
        errno = saved;
    }
    return rc;
}
