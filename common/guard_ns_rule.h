/*
 * guard_ns_rule.h — the namespace-off-thread rule (docs/checks.md), as
 * state and decisions shared by the shim (preload/ns.c: the findings) and
 * the analyzer (analyzer/read/logns.c: the timeline's marks of logs that
 * do not carry the shim's own verdict), so that the two are one rule.
 *
 * Per thread that moved, per namespace kind (enum guard_ns_kind): its
 * home (the namespace before its first move of that kind), where its
 * latest move took it, and when its first step after that move began.  A
 * move from A into B is pending from the moment it is made until the
 * thread begins a sensitive call of that kind in B (a step of the job),
 * other than a set-up call; a move back into A or home ends it.  A call is
 * left behind when its thread is not in a namespace it moved into itself,
 * is in the A of another thread's move, and began while that move was
 * pending -- or, for a namespace made with unshare, while the move was
 * still in force and the two threads are peers: they run the same code
 * from the same place of their start routine (the workers of one pool,
 * whose tasks land on any of them), which the caller tells by an origin,
 * the return address in the start routine (0: unknown, no peers).
 *
 * Time is the caller's clock, any strictly increasing count: the shim
 * ticks one at each move and at the start of each sensitive call, the
 * analyzer uses the order of records in the log.  (So the two agree but
 * for calls that overlap in time: the shim knows when a call began, the
 * log when its record was written.  The analyzer knows no origins.)
 *
 * Invariants: pure state, no system call, no allocation, no lock (the
 * shim holds its own around every call; the analyzer is one thread), so
 * the shim may use it in any hook.  A namespace identity is an nsfs inode
 * number; 0 means unknown and never matches.  At most GUARD_NS_RULE_THREADS
 * threads are kept; beyond that the least recent thread without a pending
 * move, else the least recent, is forgotten (and counted).
 */
#ifndef GUARD_NS_RULE_H
#define GUARD_NS_RULE_H

#include <stdint.h>

#include "guard_log.h"

#define GUARD_NS_RULE_THREADS 64

struct guard_ns_move {
    uint64_t home;  /* before the thread's first move of this kind; 0: it never moved it */
    uint64_t cur;   /* where its latest move took it */
    uint64_t left;  /* the namespace the latest move left; 0: it ended (moved back home) */
    uint64_t seq;   /* when the latest move was made */
    uint64_t step;  /* when its first step in `cur` began; 0: none yet (pending) */
    uint64_t origin;/* the moving thread's origin (0: unknown) */
    uint32_t stack; /* the latest move's stack id */
    uint32_t call;  /* the latest move's enum guard_ns_call */
};

struct guard_ns_thread {
    uint32_t tid;   /* 0: a free slot */
    uint64_t last;  /* when its latest move of any kind was made */
    struct guard_ns_move k[GUARD_NSK_COUNT_]; /* by enum guard_ns_kind; [0] unused */
};

struct guard_ns_rule {
    struct guard_ns_thread t[GUARD_NS_RULE_THREADS];
    uint32_t open[GUARD_NSK_COUNT_];    /* moves with `left` set, per kind */
    uint32_t forgotten;                 /* threads dropped for room */
};

static inline struct guard_ns_thread *guard_ns_rule_find(struct guard_ns_rule *r, uint32_t tid)
{
    for (unsigned i = 0; tid && i < GUARD_NS_RULE_THREADS; i++)
        if (r->t[i].tid == tid)
            return &r->t[i];
    return 0;
}

static inline int guard_ns_rule_has_pending(const struct guard_ns_thread *t)
{
    for (int k = 1; k < GUARD_NSK_COUNT_; k++)
        if (t->k[k].left && !t->k[k].step)
            return 1;
    return 0;
}

static inline void guard_ns_rule_close(struct guard_ns_rule *r, struct guard_ns_move *m, int kind)
{
    if (m->left) {
        m->left = 0;
        r->open[kind]--;
    }
}

/* The slot of tid, made if need be (forgetting one when all are taken). */
static inline struct guard_ns_thread *guard_ns_rule_slot(struct guard_ns_rule *r, uint32_t tid)
{
    struct guard_ns_thread *t = guard_ns_rule_find(r, tid), *idle = 0, *oldest = 0;
    if (t)
        return t;
    for (unsigned i = 0; i < GUARD_NS_RULE_THREADS; i++) {
        struct guard_ns_thread *c = &r->t[i];
        if (!c->tid) {
            idle = c;
            break;
        }
        if (!guard_ns_rule_has_pending(c) && (!idle || c->last < idle->last))
            idle = c;
        if (!oldest || c->last < oldest->last)
            oldest = c;
    }
    t = idle ? idle : oldest;
    if (t->tid) {
        for (int k = 1; k < GUARD_NSK_COUNT_; k++)
            guard_ns_rule_close(r, &t->k[k], k);
        r->forgotten++;
    }
    *t = (struct guard_ns_thread){0};
    t->tid = tid;
    return t;
}

/* A mount that only changes propagation (MS_SHARED, MS_PRIVATE, MS_SLAVE or
 * MS_UNBINDABLE, with MS_REC and MS_SILENT at most: mount(2) allows no
 * other flag with them) sets a new namespace up; it is not a step in it.
 * The values are the kernel's (uapi/linux/mount.h). */
static inline int guard_ns_rule_propagation_only(uint64_t flags)
{
    const uint64_t types = 1u << 20 /* MS_SHARED */ | 1u << 18 /* MS_PRIVATE */ |
                           1u << 19 /* MS_SLAVE */ | 1u << 17 /* MS_UNBINDABLE */;
    const uint64_t rec_silent = 1u << 14 /* MS_REC */ | 1u << 15 /* MS_SILENT */;
    if ((flags & 0xffff0000u) == 0xc0ed0000u) /* MS_MGC_VAL: the kernel drops the upper */
        flags &= ~(uint64_t)0xffff0000u;      /* 16 bits, the magic and all (MS_MGC_MSK) */
    return (flags & types) && !(flags & ~(types | rec_silent));
}

/* At time `now`, thread tid moved its namespace of `kind` from `before` to
 * `after` with a successful unshare/setns (`call`).  Both must be known
 * and differ. */
static inline void guard_ns_rule_moved(struct guard_ns_rule *r, uint32_t tid, int kind,
                                       uint64_t before, uint64_t after, uint32_t stack,
                                       uint32_t call, uint64_t origin, uint64_t now)
{
    if (!before || !after || before == after || kind <= 0 || kind >= GUARD_NSK_COUNT_)
        return;
    struct guard_ns_thread *t = guard_ns_rule_slot(r, tid);
    struct guard_ns_move *m = &t->k[kind];
    if (!m->home)
        m->home = before;
    /* a move before any step stays pending from where the job started */
    uint64_t from = m->left && !m->step ? m->left : before;
    guard_ns_rule_close(r, m, kind);
    m->cur = after;
    m->seq = t->last = now;
    m->step = 0;
    m->stack = stack;
    m->call = call;
    m->origin = origin;
    if (after != from && after != m->home) {
        m->left = from;
        r->open[kind]++;
    }
}

/* At time `now`, thread tid begins a sensitive call of `kind`.  Is it in a
 * namespace it moved into itself?  Then the call is a step of its own job,
 * and the first such step (unless the call only sets the namespace up)
 * ends its move's pending time. */
static inline int guard_ns_rule_own_step(struct guard_ns_rule *r, uint32_t tid, int kind,
                                         int setup, uint64_t now)
{
    struct guard_ns_thread *t = guard_ns_rule_find(r, tid);
    if (!t || !t->k[kind].home || t->k[kind].cur == t->k[kind].home)
        return 0;
    if (!setup && !t->k[kind].step)
        t->k[kind].step = now;
    return 1;
}

/* Was this move pending at time `t` (made, and no step begun since)? */
static inline int guard_ns_rule_pending_at(const struct guard_ns_move *m, uint64_t t)
{
    return m->left && m->seq < t && (!m->step || m->step > t);
}

/* Is another thread's unshare of `kind`, with a known origin, still in
 * force?  (Then the calling thread's origin matters: it may be a peer.) */
static inline int guard_ns_rule_peers_matter(const struct guard_ns_rule *r, uint32_t tid, int kind)
{
    for (unsigned i = 0; i < GUARD_NS_RULE_THREADS; i++) {
        const struct guard_ns_move *m = &r->t[i].k[kind];
        if (r->t[i].tid && r->t[i].tid != tid && m->left && m->origin &&
            m->call == GUARD_NS_UNSHARE)
            return 1;
    }
    return 0;
}

/* For a call of `kind` that began at time `began` on thread tid (of
 * `origin`), not in a namespace of its own (guard_ns_rule_own_step said
 * 0), in namespace `mine`: the other thread with the latest move that left
 * `mine` and, when the call began, was pending, or was a peer's unshare
 * still in force (the call is left behind); else NULL. */
static inline const struct guard_ns_thread *guard_ns_rule_left_behind(const struct guard_ns_rule *r,
                                                                      uint32_t tid, int kind,
                                                                      uint64_t mine, uint64_t began,
                                                                      uint64_t origin)
{
    const struct guard_ns_thread *best = 0;
    if (!mine || !r->open[kind])
        return 0;
    for (unsigned i = 0; i < GUARD_NS_RULE_THREADS; i++) {
        const struct guard_ns_thread *t = &r->t[i];
        const struct guard_ns_move *m = &t->k[kind];
        int peer = origin && m->origin == origin && m->call == GUARD_NS_UNSHARE;
        if (t->tid && t->tid != tid && m->left == mine && m->seq < began &&
            (guard_ns_rule_pending_at(m, began) || peer) && (!best || m->seq > best->k[kind].seq))
            best = t;
    }
    return best;
}

/* The latest other thread that moved into `mine` and is still there: a
 * thread in `mine` without having moved itself inherited it (or joined it
 * unseen).  For the timeline only; never a finding. */
static inline const struct guard_ns_thread *guard_ns_rule_moved_into(const struct guard_ns_rule *r,
                                                                     uint32_t tid, int kind,
                                                                     uint64_t mine)
{
    const struct guard_ns_thread *best = 0;
    for (unsigned i = 0; mine && i < GUARD_NS_RULE_THREADS; i++) {
        const struct guard_ns_thread *t = &r->t[i];
        const struct guard_ns_move *m = &t->k[kind];
        if (t->tid && t->tid != tid && m->home && m->cur == mine && m->cur != m->home &&
            (!best || m->seq > best->k[kind].seq))
            best = t;
    }
    return best;
}

#endif /* GUARD_NS_RULE_H */
