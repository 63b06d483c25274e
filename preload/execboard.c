/*
 * execboard.c — how a forked child tells its parent what it exec'd,
 * without a log file of its own.
 *
 * Most forked children exec at once.  Creating a log file only to say
 * "I exec'd /bin/sh -c ..." used to be most of what a fork+exec cost under
 * the shim (a file creation: 30-50 us on tmpfs, up to 0.9 ms on ext4).  So
 * a process that forks keeps a board of slots in a MAP_SHARED anonymous
 * mapping, which its forked children inherit.  A child that has recorded
 * nothing yet writes its exec (program, argv, the exec call's frames) into
 * a slot and execs without a log; the mapping is gone from the child at
 * the exec but stays in the parent, which copies the slot into its own log
 * as a CHILD_EXEC event when it reaps the child (or at its exit).
 *
 * A child of a process that never forked (posix_spawn, an exec'd image)
 * has no board: it writes its own log, unless the exec'd program runs
 * under the shim (its log, if it writes one, says what ran).  A child
 * that finds the board full or closed (its parent is exiting or exec'ing)
 * writes its exec in its own log.  The board itself is plain stores into
 * shared memory: no lock, no system call.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "guard_internal.h"

#define BOARD_SLOTS 256
#define BOARD_FRAMES 32
#define BOARD_PAYLOAD 1024

struct board_slot {
    _Atomic uint32_t ready;     /* the rest is written */
    uint32_t tid, nframes;
    uint32_t len;
    uint32_t fork_stack;        /* nonzero: pcs[0..nframes), then this stack from its frame 2 */
    uint32_t reserved;
    uint64_t time_ns;
    uint64_t pcs[BOARD_FRAMES];
    char payload[BOARD_PAYLOAD];
};

/* A slot is claimed under the key the parent gave the fork (a sequence
 * number, not the pid: after unshare(CLONE_NEWPID) the child's getpid()
 * is not the pid its parent sees).  The keys are kept apart from the
 * slots, so that finding a child's slot reads 1 KiB, not the 330 KiB of
 * all the slots. */
struct board {
    _Atomic uint32_t key[BOARD_SLOTS]; /* 0: free; set by the child that claims the slot */
    _Atomic uint32_t closed;           /* the parent is exiting or exec'ing: no more takes */
    struct board_slot slot[BOARD_SLOTS];
};

GUARD_FORK_WRITTEN static _Atomic(struct board *) board; /* this process's, for its forked children */
GUARD_FORK_WRITTEN static struct board *parent_board;    /* in a forked child: its parent's */
GUARD_FORK_WRITTEN static struct board_slot *claimed;    /* in a forked child: its slot */
GUARD_FORK_WRITTEN static pid_t board_parent;            /* in a forked child: the parent's pid */
static _Atomic uint32_t next_key;
static __thread uint32_t last_key;    /* the key of this thread's last fork */
static __thread uint32_t my_key;      /* in a forked child: the key its parent gave it */
GUARD_FORK_WRITTEN static unsigned claimed_index;

/* Before fork(): the child must inherit the mapping.  Untouched pages of
 * a shared anonymous mapping cost nothing.  Returns the fork's key, which
 * the child finds in this thread's TLS (the caller keeps signals that
 * could fork in a handler blocked until the fork). */
uint32_t guard_board_before_fork(void)
{
    uint32_t key;
    while ((key = atomic_fetch_add(&next_key, 1) + 1) == 0)
        ;
    last_key = key;
    if (atomic_load_explicit(&board, memory_order_acquire))
        return key;
    struct board *m = mmap(NULL, sizeof(struct board), PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 0;
    struct board *expected = NULL;
    if (!atomic_compare_exchange_strong(&board, &expected, m))
        munmap(m, sizeof(struct board)); /* another thread's fork made one first */
    return key;
}

/* In the child: the inherited board is the parent's, to write to; a board
 * of its own is made at its own first fork.  (Stores only where the value
 * changes: see after_fork_child in guard.c.) */
GUARD_FORK_PATH void guard_board_after_fork_child(pid_t parent)
{
    my_key = last_key; /* a TLS page the child has written already */
    if (board_parent != parent)
        board_parent = parent;
    struct board *b = atomic_load_explicit(&board, memory_order_relaxed);
    if (parent_board != b)
        parent_board = b;
    if (b)
        atomic_store_explicit(&board, NULL, memory_order_relaxed);
    if (claimed)
        claimed = NULL;
}

/* A child looks for a free slot from the one its key hashes to, so that
 * children rarely contend for one; the parent looks for it from there too. */
static unsigned home_slot(uint32_t key)
{
    return (key * 2654435761u) >> 24; /* BOARD_SLOTS == 256 */
}

/* The exec's frames.  The child walks its stack (walk.c: libgcc's
 * unwinder, no system call) only down to the fork's frame 1, the caller of
 * the function that forked, if that frame is still on its stack and
 * unchanged: the frames above it are the fork's, which the parent has.  A
 * child usually execs in or just below the forking function (`if (fork()
 * == 0) execv(...)`, or a helper as bash and CPython have), so it walks a
 * few frames.
 *
 * "Still on its stack and unchanged": the walk itself reaches a frame with
 * frame 1's stack pointer and pc (the unwinder read that frame's return
 * address where it is now, so this is not stale memory), and the return
 * addresses of all the frames above it are still in the stack slots where
 * the fork's unwind found them (reads of live stack above the walked frame).
 * The fork site must also be our parent's, not one of our own forks'. */
GUARD_FORK_PATH int guard_fork_site_intact(const struct guard_fork_site *s)
{
    if (!s->stack || s->owner != board_parent || s->nslots > GUARD_FORK_SLOTS)
        return 0;
    for (unsigned i = 0; i < s->nslots; i++)
        if (*(const volatile uint64_t *)s->slot_addr[i] != s->slot_value[i])
            return 0;
    return 1;
}

GUARD_FORK_PATH static void take_exec_frames(struct board_slot *slot)
{
    const struct guard_fork_site *fork_site = &guard_tls_fork_site;
    unsigned n = guard_stack_walk_raw(slot->pcs, BOARD_FRAMES, NULL, 0,
                                      fork_site->stack ? fork_site : NULL);
    slot->fork_stack = (n & GUARD_WALK_JOINED) ? fork_site->stack : 0;
    slot->nframes = n & ~GUARD_WALK_JOINED;
}

/* The exec's frames are taken only once a slot is ours: a child without a
 * board (or with a full one) does not pay for an unwind it cannot use.
 * Returns 1 when the parent will tell, 0 when there is no board, -1 when
 * the child must say it itself: the parent is exiting or exec'ing (nobody
 * will read the board), or the board is full (children the parent never
 * reaps, with SIGCHLD ignored, hold their slots). */
GUARD_FORK_PATH int guard_board_post_exec(const char *payload, size_t len)
{
    uint32_t self = my_key;
    if (!parent_board || !self)
        return 0;
    if (atomic_load(&parent_board->closed))
        return -1;
    struct board_slot *slot = claimed;
    for (unsigned i = 0, at = home_slot(self); !slot && i < BOARD_SLOTS; i++) {
        unsigned k = (at + i) % BOARD_SLOTS;
        uint32_t expected = 0;
        if (atomic_load_explicit(&parent_board->key[k], memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong(&parent_board->key[k], &expected, self)) {
            slot = &parent_board->slot[k];
            claimed_index = k;
        }
    }
    if (!slot)
        return -1;
    claimed = slot;
    atomic_store_explicit(&slot->ready, 0, memory_order_relaxed);
    if (len > BOARD_PAYLOAD)
        len = BOARD_PAYLOAD;
    memcpy(slot->payload, payload, len);
    slot->payload[len - 1] = '\0';
    slot->len = (uint32_t)len;
    take_exec_frames(slot);
    slot->tid = (uint32_t)guard_gettid();
    slot->time_ns = guard_now_ns();
    atomic_store(&slot->ready, 1);
    /* A parent that closed its board meanwhile may have looked already:
     * then the child says it itself (both seq_cst: the parent sees the
     * slot ready, or the child sees the board closed, or both). */
    if (atomic_load(&parent_board->closed))
        return -1;
    return 1;
}

/* The exec returned: the child goes on (and writes its own log).  Gives
 * back the slot and, in payload, what the slot said (returns its length). */
size_t guard_board_exec_failed(char *payload, size_t cap)
{
    if (!claimed)
        return 0;
    size_t len = claimed->len < cap ? claimed->len : cap;
    memcpy(payload, claimed->payload, len);
    atomic_store_explicit(&claimed->ready, 0, memory_order_relaxed);
    atomic_store_explicit(&parent_board->key[claimed_index], 0, memory_order_release);
    claimed = NULL;
    return len;
}

/* The exec's stack id in this (the parent's) log. */
static uint32_t exec_stack(const struct board_slot *slot)
{
    unsigned n = slot->nframes <= BOARD_FRAMES ? slot->nframes : BOARD_FRAMES;
    const uint64_t *fork_pcs;
    unsigned nfork = slot->fork_stack ? guard_stack_frames(slot->fork_stack, &fork_pcs) : 0;
    if (n == 0 || nfork == 0)
        return guard_stack_intern(slot->pcs, n);
    /* the child's frames down to the fork's frame 1 (its last one), then
     * the frames above that one */
    uint64_t pcs[BOARD_FRAMES + 256];
    unsigned total = 0;
    for (unsigned i = 0; i < n; i++)
        pcs[total++] = slot->pcs[i];
    for (unsigned i = 2; i < nfork && total < sizeof pcs / sizeof pcs[0]; i++)
        pcs[total++] = fork_pcs[i];
    if (total > guard_opt.max_frames)
        total = guard_opt.max_frames;
    return guard_stack_intern(pcs, total);
}

/* At exit or exec (before the last takes): children that post after
 * this tell their exec in their own logs. */
void guard_board_close(void)
{
    struct board *b = atomic_load_explicit(&board, memory_order_acquire);
    if (b)
        atomic_store(&b->closed, 1);
}

/* In the parent, when child `pid` (forked under `key`) is reaped, or at
 * exit: log what it exec'd, if it said, and free its slot. */
void guard_board_take(uint32_t key, pid_t pid)
{
    struct board *b = atomic_load_explicit(&board, memory_order_acquire);
    if (!b || !key || pid <= 0)
        return;
    for (unsigned i = 0, at = home_slot(key); i < BOARD_SLOTS; i++) {
        unsigned k = (at + i) % BOARD_SLOTS;
        if (atomic_load(&b->key[k]) != key)
            continue;
        struct board_slot *slot = &b->slot[k];
        if (atomic_load(&slot->ready)) {
            uint32_t len = slot->len <= BOARD_PAYLOAD ? slot->len : BOARD_PAYLOAD;
            guard_log_event(GUARD_EV_CHILD_EXEC, exec_stack(slot), (uint64_t)pid,
                            slot->time_ns, slot->tid, 0, slot->payload, len);
        }
        atomic_store_explicit(&slot->ready, 0, memory_order_relaxed);
        atomic_store_explicit(&b->key[k], 0, memory_order_release);
        return; /* a child claims one slot */
    }
}
