/*
 * log_ring.c — the event ring of the field profile (log_ring_kb).
 *
 * Why: a long-running pool-heavy program makes millions of put/get events;
 * kept in full, its log grows without bound.  With a ring, those events go
 * into a fixed set of slots, each an ordinary GUARD_REC_RING record of the
 * stream, and the oldest slot is refilled when all are used: the file and
 * the memory behind it stay bounded whatever the run length, and what the
 * crash report needs (each thread's last events) is the newest part.
 *
 * Each thread fills a slot of its own (no atomic shared by threads on the
 * hot path, and a thread's last events are never pushed out by another
 * thread's): a slot held by a live thread is never refilled.  When its
 * slot is full a thread takes another under ring_lock: a new one while the
 * ring has fewer than log_ring_kb / slot size slots, else the free slot
 * filled longest ago; if every slot is held, the holders that are gone
 * give theirs back, and if all are alive the ring grows by one (a ring
 * never has fewer slots than live threads writing to it).
 *
 * Survives SIGKILL for the same reason as the stream: the slots are in the
 * shared mapping of the file.  A refill stores seq 0, zeroes the records,
 * then stores the new seq: a reader sees the old fill, the new, or none.
 *
 * Signal handlers: a handler that interrupts this thread while it reserves
 * (between reading its slot and moving its offset) or while it takes a
 * new slot drops its event (counted), rather than share a half-moved
 * offset; one that interrupts it while it fills a record reserves after
 * it, in the same slot or a new one (the old slot, released last, is the
 * last to be refilled).
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <string.h>

#include "guard_internal.h"

#define SLOT GUARD_RING_SLOT_SIZE
#define MAX_SLOTS 4096u
#define FIRST_OFF ((uint32_t)sizeof(struct guard_rec_ring))

/* The ring of this process's log (under ring_lock).  Valid for the file of
 * table_epoch only: a fork child's log starts a ring of its own. */
GUARD_FORK_WRITTEN static struct guard_lock ring_lock; /* reset in a fork child */
GUARD_LARGE static struct guard_rec_ring *slot_at[MAX_SLOTS];
GUARD_LARGE static pid_t slot_owner[MAX_SLOTS];
GUARD_LARGE static uint64_t slot_seq[MAX_SLOTS];
static unsigned nslots;
static uint64_t next_seq;
static uint32_t table_epoch;
static _Atomic uint32_t refills;

/* This thread's slot.  `busy` covers the read of base and the move of off
 * (see the top of the file). */
struct ring_thread {
    char *base;
    uint32_t off;
    uint32_t epoch;    /* guard_log_file_epoch() when taken */
    int idx;
    volatile int busy;
};
static __thread struct ring_thread ring_me = {NULL, 0, 0, -1, 0};

uint32_t guard_log_ring_refills(void) { return atomic_load_explicit(&refills, memory_order_relaxed); }

static unsigned ring_want(void)
{
    unsigned n = (unsigned)(((uint64_t)guard_opt.log_ring_kb << 10) / SLOT);
    return n < 2 ? 2 : n > MAX_SLOTS ? MAX_SLOTS : n;
}

/* A new slot at the end of the stream; -1 when the stream has no room. */
static int ring_new_slot(void)
{
    if (nslots >= MAX_SLOTS || (nslots > 0 && !guard_log_ring_room(SLOT)))
        return -1; /* (the first slot is taken anyway: a ring of none holds nothing) */
    struct guard_rec_ring *s = guard_log_stream_reserve(GUARD_REC_RING, SLOT);
    if (!s)
        return -1;
    /* fresh file space: the records part is zeros already */
    s->seq = 0;
    s->tid = 0;
    s->index = nslots;
    s->reserved = 0;
    guard_log_commit(s, GUARD_REC_RING, SLOT);
    if (nslots == 0)
        guard_log_header_flag(GUARD_FILE_RING);
    slot_at[nslots] = s;
    slot_owner[nslots] = 0;
    slot_seq[nslots] = 0;
    return (int)nslots++;
}

static int thread_alive(pid_t tid)
{
    return guard_sys_call6(SYS_tgkill, guard_pid, tid, 0, 0, 0, 0) != -ESRCH;
}

/* The free slot filled longest ago; -1: every slot is held.  A slot held
 * under this thread's own tid but not its current one was a dead thread's
 * whose tid came back. */
static int ring_oldest_free(pid_t self, int mine)
{
    int best = -1;
    for (int pass = 0; pass < 2 && best < 0; pass++) {
        for (unsigned i = 0; i < nslots; i++) {
            pid_t o = slot_owner[i];
            if (o && pass == 1 && !thread_alive(o))
                slot_owner[i] = o = 0;
            if ((o == 0 || (o == self && (int)i != mine)) &&
                (best < 0 || slot_seq[i] < slot_seq[best]))
                best = (int)i;
        }
    }
    return best;
}

/* Take a new slot for this thread; 0 when there is none (the event is
 * dropped). */
static int ring_claim(struct ring_thread *me)
{
    if (!guard_lock_acquire(&ring_lock))
        return 0; /* a handler that interrupted this thread taking a slot */
    pid_t self = guard_gettid();
    uint32_t epoch = guard_log_file_epoch();
    if (table_epoch != epoch) { /* a new file: its ring starts empty */
        nslots = 0;
        next_seq = 0;
        table_epoch = epoch;
    }
    if (nslots > 0 && !guard_log_here()) {
        /* cloned without our fork handlers: the slots are the parent's
         * (the first slot's reservation checks it for itself, after
         * creating the file if it is not yet) */
        guard_lock_release(&ring_lock);
        return 0;
    }
    int mine = me->epoch == epoch ? me->idx : -1;
    if (mine >= 0 && (unsigned)mine < nslots && slot_owner[mine] == self)
        slot_owner[mine] = 0;
    int idx = -1, fresh = 0;
    if (nslots < ring_want())
        fresh = (idx = ring_new_slot()) >= 0;
    if (idx < 0)
        idx = ring_oldest_free(self, -1);
    if (idx < 0)
        fresh = (idx = ring_new_slot()) >= 0;
    if (idx >= 0) {
        struct guard_rec_ring *s = slot_at[idx];
        if (!fresh) {
            atomic_store_explicit((_Atomic uint64_t *)&s->seq, 0, memory_order_release);
            memset((char *)s + FIRST_OFF, 0, SLOT - FIRST_OFF);
            atomic_fetch_add_explicit(&refills, 1, memory_order_relaxed);
        }
        s->tid = (uint32_t)self;
        slot_owner[idx] = self;
        slot_seq[idx] = ++next_seq;
        atomic_store_explicit((_Atomic uint64_t *)&s->seq, next_seq, memory_order_release);
        me->base = (char *)s;
        me->off = FIRST_OFF;
        me->epoch = epoch;
        me->idx = idx;
    }
    guard_lock_release(&ring_lock);
    return idx >= 0;
}

void *guard_log_ring_reserve(uint32_t size)
{
    size = guard_rec_round(size);
    if (size > SLOT - FIRST_OFF)
        return NULL;
    struct ring_thread *me = &ring_me;
    if (me->busy)
        return NULL; /* interrupted this thread's reservation */
    for (int attempt = 0; attempt < 2; attempt++) {
        me->busy = 1;
        atomic_signal_fence(memory_order_seq_cst);
        char *base = me->base;
        uint32_t off = me->off;
        /* (a process cloned without our fork handlers has this thread's
         * slot but not the log: guard_log_here) */
        int ok = base && me->epoch == guard_log_file_epoch() && off + size <= SLOT &&
                 guard_log_here();
        if (ok)
            me->off = off + size;
        atomic_signal_fence(memory_order_seq_cst);
        me->busy = 0;
        if (ok)
            return base + off;
        if (!ring_claim(me))
            return NULL;
    }
    return NULL;
}

/* On the fork path: only the lock (another thread may have held it at
 * the fork).  The table and this thread's slot are the parent's file's:
 * the file epoch, new in the child, makes ring_claim start a new ring. */
GUARD_FORK_PATH void guard_log_ring_after_fork_child(void)
{
    guard_lock_reset_in_child(&ring_lock);
}
