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
 * A full board, or a child of a process that never forked (posix_spawn,
 * an exec'd image) has no slot: the child then writes its own log as
 * before, unless the exec'd program runs under the shim (its log, if it
 * writes one, says what ran).  Everything here is a plain store into
 * shared memory: no lock, no system call in the child.
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
    _Atomic uint32_t pid;       /* 0: free; set by the child that claims it */
    _Atomic uint32_t ready;     /* the rest is written */
    uint32_t tid, nframes;
    uint32_t len, reserved;
    uint64_t time_ns;
    uint64_t pcs[BOARD_FRAMES];
    char payload[BOARD_PAYLOAD];
};

#define BOARD_BYTES (sizeof(struct board_slot) * BOARD_SLOTS)

static _Atomic(struct board_slot *) board; /* this process's, for its forked children */
static struct board_slot *parent_board;    /* in a forked child: its parent's */
static struct board_slot *claimed;         /* in a forked child: its slot */

/* Before fork(): the child must inherit the mapping.  Untouched pages of
 * a shared anonymous mapping cost nothing. */
void guard_board_before_fork(void)
{
    if (atomic_load_explicit(&board, memory_order_acquire))
        return;
    struct board_slot *m = mmap(NULL, BOARD_BYTES, PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return;
    struct board_slot *expected = NULL;
    if (!atomic_compare_exchange_strong(&board, &expected, m))
        munmap(m, BOARD_BYTES); /* another thread's fork made one first */
}

/* In the child: the inherited board is the parent's, to write to; a board
 * of its own is made at its own first fork. */
void guard_board_after_fork_child(void)
{
    parent_board = atomic_load_explicit(&board, memory_order_relaxed);
    atomic_store_explicit(&board, NULL, memory_order_relaxed);
    claimed = NULL;
}

/* The exec's frames are taken only once a slot is ours: a child without a
 * board (or with a full one) does not pay for an unwind it cannot use. */
int guard_board_post_exec(const char *payload, size_t len)
{
    if (!parent_board)
        return 0;
    uint32_t self = (uint32_t)guard_pid;
    struct board_slot *slot = claimed;
    for (unsigned i = 0; !slot && i < BOARD_SLOTS; i++) {
        uint32_t expected = 0;
        if (atomic_compare_exchange_strong(&parent_board[i].pid, &expected, self))
            slot = &parent_board[i];
    }
    if (!slot)
        return 0;
    claimed = slot;
    atomic_store_explicit(&slot->ready, 0, memory_order_relaxed);
    if (len > BOARD_PAYLOAD)
        len = BOARD_PAYLOAD;
    memcpy(slot->payload, payload, len);
    slot->payload[len - 1] = '\0';
    slot->len = (uint32_t)len;
    slot->nframes = guard_stack_capture_raw(0, slot->pcs, BOARD_FRAMES);
    slot->tid = (uint32_t)guard_gettid();
    slot->time_ns = guard_now_ns();
    atomic_store_explicit(&slot->ready, 1, memory_order_release);
    return 1;
}

/* The exec returned: the child goes on (and writes its own log). */
void guard_board_exec_failed(void)
{
    if (!claimed)
        return;
    atomic_store_explicit(&claimed->ready, 0, memory_order_relaxed);
    atomic_store_explicit(&claimed->pid, 0, memory_order_release);
    claimed = NULL;
}

/* In the parent, when child `pid` is reaped (or at exit): log what it
 * exec'd, if it said, and free its slot. */
void guard_board_take(pid_t pid)
{
    struct board_slot *b = atomic_load_explicit(&board, memory_order_acquire);
    if (!b || pid <= 0)
        return;
    for (unsigned i = 0; i < BOARD_SLOTS; i++) {
        struct board_slot *slot = &b[i];
        if (atomic_load_explicit(&slot->pid, memory_order_relaxed) != (uint32_t)pid)
            continue;
        if (atomic_load_explicit(&slot->ready, memory_order_acquire)) {
            uint32_t len = slot->len <= BOARD_PAYLOAD ? slot->len : BOARD_PAYLOAD;
            unsigned n = slot->nframes <= BOARD_FRAMES ? slot->nframes : BOARD_FRAMES;
            guard_log_event(GUARD_EV_CHILD_EXEC, guard_stack_intern(slot->pcs, n), (uint64_t)pid,
                            slot->time_ns, slot->tid, 0, slot->payload, len);
        }
        atomic_store_explicit(&slot->ready, 0, memory_order_relaxed);
        atomic_store_explicit(&slot->pid, 0, memory_order_release);
        return; /* a child claims one slot */
    }
}
