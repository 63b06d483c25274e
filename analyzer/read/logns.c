/*
 * logns.c — the namespace timeline of one log, in bounded memory.
 *
 * While a log is read, its NS_CHANGE and NS_CALL events are kept (the
 * first LG_NS_TIMELINE_MAX of them; the rest are counted), and each
 * mount-family call is marked by the namespace-off-thread rule: off-thread
 * when the shim found it left behind (its verdict follows the target in
 * the record; the shim knew when the call began and whose peer its thread
 * was), other-thread when its thread is in a namespace another thread
 * moved into without having moved itself (it inherited it).  A record
 * without the verdict (an earlier shim's) is judged here by the same rule
 * (common/guard_ns_rule.h, the shim's code), over the order of the log and
 * without peers.  The moves come from NS_CHANGE events; the steps that end
 * a pending move from NS_CALL events (a mount that only changes
 * propagation is no step) and from SPAWN and EXEC events (a child or a new
 * program starts in the thread's namespaces).  The judgement is made over
 * every event of the log, kept or not.
 *
 * THREAD_START events say which thread created which (a new thread starts
 * in its creator's namespaces).  They are remembered while reading (at most
 * LG_NS_THREADS_MAX), and at the end of the log only those of the threads
 * the timeline shows, and of their creators up the chain, join it; a log
 * without namespace events keeps none.
 */
#define _GNU_SOURCE
#include "logread_priv.h"

#include <stdlib.h>
#include <string.h>

#include "guard_ns_rule.h"

struct ns_tstart {
    uint64_t seq;
    uint64_t time_ns;
    uint32_t tid, creator, stack_id;
};

struct tid_set {
    uint32_t tid;
    UT_hash_handle hh;
};

struct lg_ns_state {
    struct guard_ns_rule rule;  /* the threads' moves, as the shim keeps them */
    struct ns_tstart *ts;       /* THREAD_START events, in log order */
    size_t nts, ts_cap;
    size_t ts_dropped;
};

static struct lg_ns_state *ns_state(struct reader *r)
{
    if (!r->ns)
        r->ns = xcalloc(1, sizeof *r->ns);
    return r->ns;
}

/* The payload of a change, when it is whole. */
static bool change_payload(const struct lg_event *ev, struct guard_ns_change_payload *p)
{
    if (!ev->payload || ev->payload_len < sizeof *p)
        return false;
    memcpy(p, ev->payload, sizeof *p);
    return true;
}

/* The shim's flags and verdict after an NS_CALL's target and its NUL
 * (false: a log of an earlier shim, or no target). */
static bool call_tail(const struct lg_event *ev, struct guard_ns_call_tail *tail)
{
    const char *nul = ev->payload ? memchr(ev->payload, '\0', ev->payload_len) : NULL;
    if (!nul || (size_t)(nul + 1 - ev->payload) + sizeof *tail > ev->payload_len)
        return false;
    memcpy(tail, nul + 1, sizeof *tail);
    return true;
}

/* A mount-family call (event number `now`): its mark.  The shim's verdict
 * when the log has it (it knows when the call began; the log only when it
 * ended), else the rule over the log's order.  A mount without its flags
 * is given the benefit of the doubt: a set-up, no step. */
static void judge_call(struct lg_ns_state *s, struct lg_ns_entry *e, uint64_t now)
{
    const int k = GUARD_NSK_MNT;
    uint64_t mine = e->ev.args[3];
    struct guard_ns_call_tail tail;
    bool verdict = call_tail(&e->ev, &tail);
    bool setup = e->ev.args[0] == GUARD_NS_MOUNT &&
                 (!verdict || guard_ns_rule_propagation_only(tail.mount_flags));
    if (guard_ns_rule_own_step(&s->rule, e->ev.tid, k, setup, now))
        return;
    if (verdict && tail.left_by_tid) {
        e->mark = LG_NS_MARK_OFF_THREAD;
        e->changer_tid = tail.left_by_tid;
        e->changer_call = tail.left_by_call;
        e->changer_ino = tail.left_by_ino;
        return;
    }
    const struct guard_ns_thread *t =
        verdict ? NULL : guard_ns_rule_left_behind(&s->rule, e->ev.tid, k, mine, now, 0);
    e->mark = LG_NS_MARK_OFF_THREAD;
    if (!t) {
        t = guard_ns_rule_moved_into(&s->rule, e->ev.tid, k, mine);
        e->mark = LG_NS_MARK_OTHER_THREAD;
    }
    if (!t) {
        e->mark = LG_NS_MARK_NONE;
        return;
    }
    e->changer_tid = t->tid;
    e->changer_call = t->k[k].call;
    e->changer_ino = t->k[k].cur;
}

static void note_change(struct lg_ns_state *s, const struct lg_event *ev, uint64_t now)
{
    struct guard_ns_change_payload p;
    if ((int64_t)ev->args[2] != 0 || !change_payload(ev, &p))
        return;
    if (ev->args[0] != GUARD_NS_UNSHARE && ev->args[0] != GUARD_NS_SETNS)
        return; /* clone: the caller stays where it is */
    for (int k = 1; k < GUARD_NSK_COUNT_; k++)
        guard_ns_rule_moved(&s->rule, ev->tid, k, p.before[k - 1], p.after[k - 1], ev->stack_id,
                            (uint32_t)ev->args[0], 0, now);
}

/* A spawn or an exec: a step of every kind on its thread. */
static void note_step(struct lg_ns_state *s, const struct lg_event *ev, uint64_t now)
{
    for (int k = 1; k < GUARD_NSK_COUNT_; k++)
        guard_ns_rule_own_step(&s->rule, ev->tid, k, 0, now);
}

void lg_ns_event(struct reader *r, const struct lg_event *ev)
{
    struct lg_log *log = r->log;
    if (ev->kind == GUARD_EV_SPAWN || ev->kind == GUARD_EV_EXEC) {
        if (r->ns) /* (no state yet: no move yet) */
            note_step(r->ns, ev, log->nevents);
        return;
    }
    struct lg_ns_state *s = ns_state(r);
    if (ev->kind == GUARD_EV_THREAD_START) {
        if (s->nts >= LG_NS_THREADS_MAX) {
            s->ts_dropped++;
            return;
        }
        VEC_GROW(s->ts, s->nts, s->ts_cap);
        s->ts[s->nts++] = (struct ns_tstart){log->nevents, ev->time_ns, ev->tid,
                                             (uint32_t)ev->args[0], ev->stack_id};
        return;
    }
    struct lg_ns_entry e;
    memset(&e, 0, sizeof e);
    e.ev = *ev;
    e.seq = log->nevents;
    if (ev->kind == GUARD_EV_NS_CALL)
        judge_call(s, &e, e.seq);
    else
        note_change(s, ev, e.seq);
    if (log->nns_events >= LG_NS_TIMELINE_MAX) {
        log->ns_dropped++;
        log->ns_dropped_off_thread += e.mark == LG_NS_MARK_OFF_THREAD;
        return;
    }
    log->nns_events++;
    lg_event_copy(&e.ev, ev); /* ev's payload is the file's: a copy of our own */
    VEC_GROW(log->ns, log->nns, log->ns_cap);
    log->ns[log->nns++] = e;
}

static bool set_has(struct tid_set *set, uint32_t tid)
{
    struct tid_set *x = NULL;
    HASH_FIND(hh, set, &tid, sizeof tid, x);
    return x != NULL;
}

static void set_add(struct tid_set **set, uint32_t tid)
{
    if (set_has(*set, tid))
        return;
    struct tid_set *x = xcalloc(1, sizeof *x);
    x->tid = tid;
    HASH_ADD(hh, *set, tid, sizeof x->tid, x);
}

static int cmp_seq(const void *a, const void *b)
{
    const struct lg_ns_entry *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void lg_ns_done(struct reader *r)
{
    struct lg_ns_state *s = r->ns;
    struct lg_log *log = r->log;
    if (!s)
        return;
    r->ns = NULL;
    if (log && log->nns) {
        /* the timeline's threads, then their creators: a creator started
         * before the threads it created, so one backward walk closes the set */
        struct tid_set *set = NULL, *x, *tmp;
        for (size_t i = 0; i < log->nns; i++)
            set_add(&set, log->ns[i].ev.tid);
        for (size_t i = s->nts; i-- > 0;) {
            const struct ns_tstart *t = &s->ts[i];
            if (!set_has(set, t->tid))
                continue;
            set_add(&set, t->creator);
            struct lg_ns_entry e;
            memset(&e, 0, sizeof e);
            e.seq = t->seq;
            e.ev.time_ns = t->time_ns;
            e.ev.tid = t->tid;
            e.ev.kind = GUARD_EV_THREAD_START;
            e.ev.stack_id = t->stack_id;
            e.ev.args[0] = t->creator;
            VEC_GROW(log->ns, log->nns, log->ns_cap);
            log->ns[log->nns++] = e;
        }
        HASH_ITER(hh, set, x, tmp) {
            HASH_DEL(set, x);
            free(x);
        }
        qsort(log->ns, log->nns, sizeof *log->ns, cmp_seq);
        log->ns_threads_dropped = s->ts_dropped;
    }
    free(s->ts);
    free(s);
}

void lg_ns_free(struct lg_log *log)
{
    for (size_t i = 0; i < log->nns; i++)
        lg_event_clear(&log->ns[i].ev);
    free(log->ns);
    log->ns = NULL;
    log->nns = 0;
}
