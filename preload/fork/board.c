/*
 * fork/board.c — how a forked child tells its parent what it exec'd,
 * without a log file of its own.
 *
 * Most forked children exec at once, and creating a log file only to say
 * "I exec'd /bin/sh -c ..." would cost more than the rest of a fork+exec
 * under the shim.  So a process that forks keeps a board of slots in a MAP_SHARED anonymous
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
 * shared memory: no lock, and no system call but the exec's time.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>

#include "fork_internal.h"

#define BOARD_FRAMES 32
#define BOARD_PAYLOAD 1024
#define BOARD_SLOTS 256

/* One child's exec, in a page of its own (each page a child touches is a
 * page fault per child).  The exec's frames are either a copy of the
 * child's stack from the exec's caller up (raw, unwound offline by the
 * analyzer; see take_exec_frames) or, when that cannot be, pcs. */
struct board_slot_head {
    _Atomic uint32_t key;       /* the fork's key while a child has the slot; 0: free */
    _Atomic uint32_t ready;     /* the rest is written */
    _Atomic uint32_t closed;    /* the parent is exiting or exec'ing: no more takes */
    uint32_t tid, nframes, len;
    uint32_t fork_stack;        /* nonzero: the exec's frames join the fork's (its frame 2 on) */
    uint32_t raw_len;           /* raw[] holds this much of the stack from raw_sp up */
    uint64_t time_ns;
    uint64_t raw_pc, raw_sp, raw_fp; /* the exec's caller: pc (a return address), sp, rbp */
    uint64_t frame1_sp, frame2_sp; /* raw: the fork's frames 1 and 2's stack pointers */
    uint32_t raw, unused;       /* nonzero: raw[] has the exec's frames (else pcs[]) */
    uint64_t pcs[BOARD_FRAMES];
    char payload[BOARD_PAYLOAD];
};
#define BOARD_RAW_BYTES (4096 - sizeof(struct board_slot_head))
#define RAW_BEYOND_FRAME1 256 /* of the fork's frame 1, at most, in the exec's copy */
struct board_slot {
    struct board_slot_head h;
    uint8_t raw[BOARD_RAW_BYTES];
};
_Static_assert(sizeof(struct board_slot) == 4096, "a board slot is one page");

/* The parent hands each fork a slot before it forks (the child finds its
 * index in the forking thread's TLS), from a bitmap in the board's first
 * page.  That page, with the key counter, is written only by the parent
 * but lives in the shared mapping all the same: shared pages are not made
 * copy-on-write by a fork, so the parent's next fork does not fault on
 * them.  A forked child makes a board of its own at its first fork. */
struct board_header {
    _Atomic uint32_t next_key;
    _Atomic uint32_t closing;
    _Atomic uint64_t in_use[BOARD_SLOTS / 64];
    _Atomic uint64_t sequence; /* guard_children_seq_next's, shared by the whole fork tree */
};

struct board {
    union {
        struct board_header h;
        char page[4096];
    } head;
    struct board_slot slot[BOARD_SLOTS];
};

/* The key names the slot (low bits) and the fork (a sequence number, not
 * the pid: after unshare(CLONE_NEWPID) the child's getpid() is not the pid
 * its parent sees).  NO_SLOT: no slot for this child (the board is full or
 * closed, or the fork was a signal handler's inside another): the child
 * says what it ran itself. */
#define KEY_SLOT_BITS 9
#define NO_SLOT ((1u << KEY_SLOT_BITS) - 1)
static inline unsigned key_slot(uint32_t key) { return key & ((1u << KEY_SLOT_BITS) - 1); }

GUARD_FORK_WRITTEN static _Atomic(struct board *) board; /* this process's, for its forked children */
GUARD_FORK_WRITTEN static struct board *parent_board;    /* in a forked child: its parent's */
GUARD_FORK_WRITTEN static struct board_slot *claimed;    /* in a forked child: its slot, once used */
GUARD_FORK_WRITTEN static pid_t board_parent;            /* in a forked child: the parent's pid */
static __thread uint32_t my_key;      /* in a forked child: the key its parent gave it */

static struct board *board_now(void)
{
    struct board *b = atomic_load_explicit(&board, memory_order_acquire);
    if (b)
        return b;
    struct board *m = mmap(NULL, sizeof(struct board), PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    struct board *expected = NULL;
    if (!atomic_compare_exchange_strong(&board, &expected, m)) {
        munmap(m, sizeof(struct board)); /* another thread's fork made one first */
        return expected;
    }
    return m;
}

/* The counter that orders pool gets and spawns (guard_children_seq_next, children.c),
 * written at every spawn and every get.  It lives in the board's shared
 * first page, which a fork does not make copy-on-write: the parent's next
 * spawn writes it without a page fault.  A forked child goes on counting
 * in its parent's board (never its own), which keeps the order it needs:
 * its spawns come after the gets of the objects it inherited.  The
 * processes of a fork tree share the counter; each still sees it grow.
 * NULL when no board could be made: then the caller counts privately, for
 * good (a switch later could go back in the order). */
static _Atomic(_Atomic uint64_t *) sequence_at;
static _Atomic int sequence_private;

_Atomic uint64_t *guard_fork_board_sequence(void)
{
    _Atomic uint64_t *at = atomic_load_explicit(&sequence_at, memory_order_acquire);
    if (__builtin_expect(at != NULL, 1) || atomic_load_explicit(&sequence_private, memory_order_relaxed))
        return at;
    struct board *b = board_now();
    if (!b) {
        atomic_store(&sequence_private, 1);
        return NULL;
    }
    _Atomic uint64_t *expected = NULL;
    atomic_compare_exchange_strong(&sequence_at, &expected, &b->head.h.sequence);
    return atomic_load(&sequence_at);
}

/* A free slot, taken in the bitmap; NO_SLOT when all are taken (children
 * the parent never reaps, with SIGCHLD ignored, hold theirs). */
static unsigned take_free_slot(struct board_header *h, uint32_t seq)
{
    for (unsigned i = 0; i < BOARD_SLOTS / 64; i++) {
        unsigned word = (seq + i) % (BOARD_SLOTS / 64);
        uint64_t used = atomic_load_explicit(&h->in_use[word], memory_order_relaxed);
        while (~used) {
            unsigned bit = (unsigned)__builtin_ctzll(~used);
            uint64_t want = used | (1ull << bit);
            if (atomic_compare_exchange_weak(&h->in_use[word], &used, want))
                return word * 64 + bit;
        }
    }
    return NO_SLOT;
}

static void free_slot(struct board_header *h, unsigned k)
{
    atomic_fetch_and(&h->in_use[k / 64], ~(1ull << (k % 64)));
}

/* Before fork(): the child must inherit the mapping (untouched pages of
 * a shared anonymous mapping cost nothing) and know its slot.  Returns the
 * fork's key, which the child finds in this thread's TLS (the caller keeps
 * signals that could fork in a handler blocked until the fork); 0 when
 * there is no board. */
uint32_t guard_fork_board_before_fork(void)
{
    struct board *b = board_now();
    if (!b)
        return 0;
    struct board_header *h = &b->head.h;
    uint32_t seq = atomic_fetch_add_explicit(&h->next_key, 1, memory_order_relaxed);
    unsigned k = take_free_slot(h, seq);
    if (k != NO_SLOT) {
        /* Taken (seq_cst) before looking at `closing`: a board being
         * closed either sees this slot, or this fork sees it closing. */
        if (atomic_load(&h->closing)) {
            free_slot(h, k);
            k = NO_SLOT;
        } else {
            struct board_slot_head *slot = &b->slot[k].h;
            atomic_store_explicit(&slot->ready, 0, memory_order_relaxed);
            atomic_store_explicit(&slot->closed, 0, memory_order_relaxed);
        }
    }
    uint32_t key = (((seq & 0x7fffffu) | 1u) << KEY_SLOT_BITS) | k; /* never 0 */
    if (k != NO_SLOT)
        atomic_store(&b->slot[k].h.key, key);
    return key;
}

/* In the child: the inherited board is the parent's, to write to; a board
 * of its own is made at its own first fork.  handoff: what the fork
 * handed over, or NULL for a fork that did not go through the fork hook
 * or a signal handler's fork inside another, whose child has no slot and
 * says what it runs itself.  (Stores only where the value changes: see
 * after_fork_child in child.c.) */
GUARD_FORK_PATH void guard_fork_board_after_fork_child(pid_t parent, const struct guard_fork_handoff *handoff)
{
    uint32_t mine = handoff ? handoff->board_key : (1u << KEY_SLOT_BITS) | NO_SLOT;
    if (my_key != mine)
        my_key = mine;
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

/* The fork's frames joined at the exec: is the fork's frame 1 still on
 * this stack, with all the frames above it?  The return addresses of those
 * frames must still be in the stack slots where the fork's unwind found
 * them (reads of live stack above the exec's frames), and the fork site
 * must be our parent's, not one of our own forks'. */
GUARD_FORK_PATH int guard_fork_site_intact(const struct guard_fork_site *s)
{
    if (!s->stack || s->owner != board_parent || s->nslots > GUARD_FORK_SLOTS)
        return 0;
    for (unsigned i = 0; i < s->nslots; i++)
        if (*(const volatile uint64_t *)s->slot_addr[i] != s->slot_value[i])
            return 0;
    return 1;
}

/* The exec's caller: the first frame, up our own frame-pointer chain (the
 * shim is built with frame pointers), whose return address is not ours. */
GUARD_FORK_PATH static int exec_caller(uint64_t *pc, uint64_t *sp, uint64_t *fp)
{
    const uintptr_t *frame = __builtin_frame_address(0);
    for (int depth = 0; frame && depth < 16; depth++) {
        uintptr_t ret = frame[1];
        if (!guard_stack_in_shim(ret - 1)) {
            *pc = ret;
            *sp = (uintptr_t)(frame + 2);
            *fp = frame[0];
            return 1;
        }
        if ((uintptr_t)frame[0] <= (uintptr_t)frame)
            return 0; /* not a chain that goes up the stack */
        frame = (const uintptr_t *)frame[0];
    }
    return 0;
}

/* memcpy, in our own code: libc's would be one more page of code to fault
 * in for every child (sp is 8-aligned, and so is want: see below). */
GUARD_FORK_PATH static void copy_words(void *to, const void *from, size_t bytes)
{
    uint64_t *t = to;
    const volatile uint64_t *f = from;
    for (size_t i = 0; i < bytes / 8; i++)
        t[i] = f[i];
    for (size_t i = bytes & ~(size_t)7; i < bytes; i++)
        ((unsigned char *)to)[i] = ((const volatile unsigned char *)from)[i];
}

/* The exec's frames.  Usually the child copies its stack from the exec's
 * caller up to the fork's frames into the slot, and no unwinding.  On the
 * main thread's stack the range is provably mapped (guard_fork_on_main_stack)
 * and a plain copy does; elsewhere (a thread's stack, a coroutine's) it is
 * one system call, process_vm_readv, which stops at an unmapped page
 * instead of faulting.  Unwinding would fault in some ten pages of
 * libgcc's, libc's and the modules' code and unwind tables in every
 * child.  The
 * parent logs the copy as a raw stack for the analyzer to unwind; where
 * that unwind reaches one of the fork's frames (its pc, at its stack
 * pointer) the fork's frames continue it.  The copy goes on to the fork's
 * frame 2 if frame 1 is small: the forking function's caller (frame 1) may
 * have moved on to another call since the fork, and then only its whole
 * frame leads to frame 2 (a frame 1 larger than RAW_BEYOND_FRAME1 then
 * gives a stack that ends with it).
 *
 * When the fork site is not intact (the child left the forking function's
 * callers, or the fork was too deep to note), or the copy fails (a seccomp
 * profile that forbids process_vm_readv), the child walks its stack with
 * libgcc's unwinder instead (walk.c), down to the fork's frame 1 if it is
 * there.  The plain path always walks, and walks the whole stack. */
GUARD_FORK_PATH static void take_exec_frames(struct board_slot *slot)
{
    const struct guard_fork_site *site = &guard_fork_tls_site;
    struct board_slot_head *h = &slot->h;
    uint64_t pc, sp, fp;
    h->raw = 0;
    h->raw_len = 0;
    h->fork_stack = 0;
    if (!guard_fork_fast()) {
        h->nframes = guard_fork_walk_raw(h->pcs, BOARD_FRAMES, NULL, 0, NULL);
        return;
    }
    /* Frame 2's stack pointer is just above the return address slot the
     * fork's unwind found it by.  Frame 1 must be in the copy; frame 2
     * too if frame 1 is small (the parent logs all of the copy, for every
     * child). */
    uint64_t frame2_sp = site->nslots ? site->slot_addr[0] + 8 : 0;
    uint64_t end = frame2_sp ? frame2_sp : site->join_sp;
    if (end > site->join_sp + RAW_BEYOND_FRAME1)
        end = site->join_sp + RAW_BEYOND_FRAME1;
    if (site->stack && exec_caller(&pc, &sp, &fp) && sp <= site->join_sp &&
        site->join_sp - sp <= BOARD_RAW_BYTES && guard_fork_site_intact(site)) {
        size_t want = end - sp < BOARD_RAW_BYTES ? end - sp : BOARD_RAW_BYTES;
        long got;
        if (guard_fork_on_main_stack(sp, sp + want)) {
            /* all of it between our frame and the main stack's top: mapped
             * (a plain copy, where the system call cost a microsecond) */
            copy_words(slot->raw, (const void *)(uintptr_t)sp, want);
            got = (long)want;
        } else {
            struct iovec local = {slot->raw, want};
            struct iovec remote = {(void *)(uintptr_t)sp, want};
            got = want == 0 ? 0 : guard_sys_call6(SYS_process_vm_readv, guard_pid, (long)&local,
                                                        1, (long)&remote, 1, 0);
        }
        if (got >= (long)(site->join_sp - sp)) {
            h->raw_pc = pc;
            h->raw_sp = sp;
            h->raw_fp = fp;
            h->frame1_sp = site->join_sp;
            h->frame2_sp = (uint64_t)got == end - sp ? frame2_sp : 0;
            h->raw_len = (uint32_t)got;
            h->fork_stack = site->stack;
            h->raw = 1;
            h->nframes = 0;
            return;
        }
    }
    unsigned n = guard_fork_walk_raw(h->pcs, BOARD_FRAMES, NULL, 0, site->stack ? site : NULL);
    h->fork_stack = (n & GUARD_WALK_JOINED) ? site->stack : 0;
    h->nframes = n & ~GUARD_WALK_JOINED;
}

/* The exec's time, by a system call made inline rather than through the
 * vDSO: the vDSO's code and data pages would be two more page faults in
 * every child; the system call costs well under a microsecond. */
GUARD_FORK_PATH uint64_t guard_fork_child_now_ns(void)
{
    struct timespec ts;
    if (guard_sys_call6(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0, 0, 0, 0) != 0)
        return guard_now_ns();
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Returns 1 when the parent will tell, 0 when there is no board, -1 when
 * the child must say it itself: the parent is exiting or exec'ing (nobody
 * will read the board), or the board was full at the fork. */
GUARD_FORK_PATH int guard_fork_board_post_exec(const char *payload, size_t len)
{
    uint32_t key = my_key;
    struct board *b = parent_board;
    if (key && key_slot(key) == NO_SLOT)
        return -1;
    if (!b || !key)
        return 0;
    struct board_slot *slot = &b->slot[key_slot(key)];
    struct board_slot_head *h = &slot->h;
    if (atomic_load_explicit(&h->key, memory_order_relaxed) != key ||
        atomic_load_explicit(&h->closed, memory_order_relaxed))
        return -1;
    claimed = slot;
    atomic_store_explicit(&h->ready, 0, memory_order_relaxed);
    if (len > BOARD_PAYLOAD)
        len = BOARD_PAYLOAD;
    memcpy(h->payload, payload, len);
    h->payload[len - 1] = '\0';
    h->len = (uint32_t)len;
    take_exec_frames(slot);
    h->tid = (uint32_t)guard_gettid();
    h->time_ns = guard_fork_child_now_ns();
    atomic_store(&h->ready, 1);
    /* A parent that closed its board meanwhile may have looked already:
     * then the child says it itself (both seq_cst: the parent sees the
     * slot ready, or the child sees the board closed, or both). */
    if (atomic_load(&h->closed))
        return -1;
    return 1;
}

/* The exec returned: the child goes on (and writes its own log).  The slot
 * says nothing any more (the parent frees it when it reaps the child);
 * returns in payload what it said (and its length). */
size_t guard_fork_board_exec_failed(char *payload, size_t cap)
{
    if (!claimed)
        return 0;
    struct board_slot_head *h = &claimed->h;
    size_t len = h->len < cap ? h->len : cap;
    memcpy(payload, h->payload, len);
    atomic_store(&h->ready, 0);
    claimed = NULL;
    return len;
}

/* The exec's stack id in this (the parent's) log, from frames the child
 * walked itself (not inlined: its frame array stays off the stack of the
 * usual, raw, path; every stack page the parent touches after a fork is
 * a page fault). */
static __attribute__((noinline)) uint32_t walked_exec_stack(const struct board_slot_head *h)
{
    unsigned n = h->nframes <= BOARD_FRAMES ? h->nframes : BOARD_FRAMES;
    const uint64_t *fork_pcs;
    unsigned nfork = h->fork_stack ? guard_stack_frames(h->fork_stack, &fork_pcs) : 0;
    if (n == 0 || nfork == 0)
        return guard_stack_intern(h->pcs, n);
    /* the child's frames down to the fork's frame 1 (its last one), then
     * the frames above that one */
    uint64_t pcs[BOARD_FRAMES + 256];
    unsigned total = 0;
    for (unsigned i = 0; i < n; i++)
        pcs[total++] = h->pcs[i];
    for (unsigned i = 2; i < nfork && total < sizeof pcs / sizeof pcs[0]; i++)
        pcs[total++] = fork_pcs[i];
    if (total > guard_opt.max_frames)
        total = guard_opt.max_frames;
    return guard_stack_intern(pcs, total);
}

/* The exec's stack id in this (the parent's) log: the child's copy of its
 * stack, as a raw stack joined to the fork's, or the frames it walked. */
static uint32_t exec_stack(const struct board_slot *slot)
{
    const struct board_slot_head *h = &slot->h;
    if (!h->raw)
        return walked_exec_stack(h);
    uint64_t regs[17] = {0};
    regs[6] = h->raw_fp;
    regs[7] = h->raw_sp;
    regs[16] = h->raw_pc;
    uint32_t len = h->raw_len <= BOARD_RAW_BYTES ? h->raw_len : BOARD_RAW_BYTES;
    struct guard_stack_join join = {h->frame1_sp, h->frame2_sp, h->fork_stack, 0};
    return guard_stack_write_raw_copy(regs, slot->raw, len, &join);
}

/* At exit or exec (before the last takes): children that post after
 * this tell their exec in their own logs. */
void guard_fork_board_close(void)
{
    struct board *b = atomic_load_explicit(&board, memory_order_acquire);
    if (!b)
        return;
    atomic_store(&b->head.h.closing, 1);
    for (unsigned word = 0; word < BOARD_SLOTS / 64; word++) {
        uint64_t used = atomic_load(&b->head.h.in_use[word]);
        for (; used; used &= used - 1)
            atomic_store(&b->slot[word * 64 + (unsigned)__builtin_ctzll(used)].h.closed, 1);
    }
}

/* In the parent, when child `pid` (forked under `key`) is reaped, or at
 * exit: log what it exec'd, if it said, and free its slot. */
void guard_fork_board_take(uint32_t key, pid_t pid)
{
    struct board *b = atomic_load_explicit(&board, memory_order_acquire);
    if (!b || !key || key_slot(key) == NO_SLOT)
        return;
    struct board_slot *slot = &b->slot[key_slot(key)];
    struct board_slot_head *h = &slot->h;
    if (atomic_load(&h->key) != key)
        return;
    if (pid > 0 && atomic_load(&h->ready)) {
        uint32_t len = h->len <= BOARD_PAYLOAD ? h->len : BOARD_PAYLOAD;
        guard_log_event(GUARD_EV_CHILD_EXEC, exec_stack(slot), (uint64_t)pid, h->time_ns, h->tid, 0,
                        h->payload, len);
    }
    atomic_store_explicit(&h->ready, 0, memory_order_relaxed);
    atomic_store_explicit(&h->key, 0, memory_order_release);
    free_slot(&b->head.h, key_slot(key));
}
