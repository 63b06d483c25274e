/*
 * alloc.c — the shim's memory.
 *
 * Hooks run in signal handlers and in the middle of the program's malloc,
 * so the shim never uses malloc: its tables come from bump arenas over
 * anonymous memory, never freed (what the shim allocates lives as long as
 * the process).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>

#include "guard_internal.h"



/* A bump allocator over chunks of anonymous memory, never freed: what the
 * shim allocates lives as long as the process. */
struct bump_arena {
    struct guard_lock lock;
    char *next, *end;
    size_t chunk, align;
    int advice;       /* madvise'd on each new chunk, if not 0 */
    int advice_taken; /* every chunk so far took it */
};

static void *bump_alloc(struct bump_arena *a, size_t size, size_t align)
{
    if (align < a->align)
        align = a->align;
    size = (size + align - 1) & ~(align - 1);
    if (size > a->chunk || !guard_lock_acquire(&a->lock))
        return NULL;
    char *at = (char *)(((uintptr_t)a->next + align - 1) & ~(uintptr_t)(align - 1));
    if (!a->next || at > a->end || (size_t)(a->end - at) < size) {
        char *p = mmap(NULL, a->chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            guard_lock_release(&a->lock);
            return NULL;
        }
        int saved = errno;
        if (a->advice && madvise(p, a->chunk, a->advice) != 0)
            a->advice_taken = 0;
        /* Sparse tables live here: with transparent huge pages set to
         * "always", each first touch would make 2 MiB resident. */
        (void)madvise(p, a->chunk, MADV_NOHUGEPAGE);
        errno = saved;
        a->next = p;
        a->end = p + a->chunk;
        at = p; /* chunks are page-aligned */
    }
    a->next = at + size;
    guard_lock_release(&a->lock);
    return at;
}

#define ARENA_CHUNK (1u << 20)
/* The first chunk is in our .bss, not a mapping of its own: most
 * processes never need a second, and each mapping is one more for every
 * fork to copy.  (Untouched pages of it cost nothing.) */
GUARD_LARGE static char arena_first[ARENA_CHUNK] __attribute__((aligned(64)));
static struct bump_arena arena = {{0}, arena_first, arena_first + ARENA_CHUNK, ARENA_CHUNK, 16, 0, 1};

void *guard_alloc(size_t size)
{
    if (size >= ARENA_CHUNK / 4) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
    return bump_alloc(&arena, size, 16);
}

/* Memory for what this process writes on every spawn and its fork children
 * must not inherit (the log's tail, the table of its children): a fork
 * does not make a MADV_WIPEONFORK mapping copy-on-write for the parent,
 * whose next write to it is then no page fault and copy (a few of those
 * per spawn were much of what a fork+exec cost under the shim), and the
 * child finds it all zeros: no log tail, no children.  Where the kernel
 * has no MADV_WIPEONFORK (before 4.14) it is ordinary memory, and the
 * fork child's handlers reset it as they reset everything else.  A cache
 * line each. */
static struct bump_arena parent_only = {{0}, NULL, NULL, 8u << 20, 64, MADV_WIPEONFORK, 1};

void *guard_alloc_parent_only(size_t size)
{
    return bump_alloc(&parent_only, size, 64);
}

/* Whole pages of it (the stack tables, which a fork child without a
 * wiping kernel unmaps): one mapping with the rest, not two more for every
 * fork to copy.  (8 MiB of address space; untouched pages cost nothing.) */
void *guard_alloc_parent_only_pages(size_t size)
{
    return bump_alloc(&parent_only, size, 4096);
}

int guard_alloc_parent_only_wiped(void)
{
    return parent_only.next && parent_only.advice_taken;
}

void *guard_alloc_parent_only_object(_Atomic(void *) *at, size_t size, void *fallback, int *wiped)
{
    void *made = atomic_load_explicit(at, memory_order_acquire);
    if (__builtin_expect(made != NULL, 1))
        return made;
    void *own = guard_alloc_parent_only(size);
    int own_wiped = own && guard_alloc_parent_only_wiped();
    void *expected = NULL;
    if (atomic_compare_exchange_strong(at, &expected, own ? own : fallback)) {
        *wiped = own_wiped;
        return own ? own : fallback;
    }
    return expected; /* another thread made it first (its memory stays unused) */
}

/* In a fork child: the arenas' locks, which another parent thread may have
 * held at the fork, are free. */
GUARD_FORK_PATH void guard_alloc_after_fork_child(void)
{
    guard_lock_reset_in_child(&arena.lock);
    guard_lock_reset_in_child(&parent_only.lock);
}
