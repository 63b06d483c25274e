/*
 * logcrash.c — what the reader keeps for a crash report, in bounded memory.
 *
 * A log holds every event of the process, in order, per thread: the shim
 * keeps no ring buffer of its own (preload/crash.c).  The report of a
 * crash shows each thread's last N events (N = the process's crash_events
 * option) and ties the crash to the pool objects its registers point into.
 * So while reading, the reader keeps:
 *   - per thread, a ring of its last N events (grown on demand; all rings
 *     of a log together at most LG_RING_BUDGET events) and its latest
 *     namespace changes;
 *   - per pool object, its latest put and get (logrec.c's lg_pool_state,
 *     which short records need anyway): one entry per object, whatever
 *     the number of its events.
 * When the CRASH record comes, the history is frozen into an lg_crash and
 * the links are computed from it; at the end of the log the rings are
 * freed (a log without a crash keeps nothing of them).  Then logread.c
 * drops the stacks that nothing kept refers to.
 */
#define _GNU_SOURCE
#include "logread_priv.h"

#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define LG_RING_BUDGET (1u << 20) /* event slots over all threads of one log */
#define POISON64 UINT64_C(0xa5a5a5a5a5a5a5a5)
#define POISON32 UINT64_C(0xa5a5a5a5)

unsigned lg_crash_events_option(const char *options)
{
    unsigned n = LG_CRASH_EVENTS_DEFAULT;
    static const char key[] = "crash_events=";
    for (const char *p = options; p && *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t vlen = len - (sizeof key - 1);
        if (len > sizeof key - 1 && vlen < 32 && strncmp(p, key, sizeof key - 1) == 0) {
            /* as the shim parses it (preload/options.c): strtol base 0,
             * the whole value, within 0..4096; a bad value keeps the
             * default there, so here too */
            char buf[32], *rest;
            memcpy(buf, p + sizeof key - 1, vlen);
            buf[vlen] = '\0';
            long v = strtol(buf, &rest, 0);
            if (*rest == '\0' && v >= 0 && v <= (long)LG_CRASH_EVENTS_MAX)
                n = (unsigned)v;
        }
        p = end ? end + 1 : NULL;
    }
    return n;
}

/* ---- history ----------------------------------------------------------- */

static struct lg_thread_state *thread_state(struct reader *r, uint32_t tid)
{
    struct lg_thread_state *t = r->last_thread;
    if (t && t->tid == tid)
        return t;
    t = NULL;
    HASH_FIND(hh, r->threads, &tid, sizeof tid, t);
    if (!t) {
        t = xcalloc(1, sizeof *t);
        t->tid = tid;
        HASH_ADD(hh, r->threads, tid, sizeof t->tid, t);
    }
    r->last_thread = t;
    return t;
}

void lg_crash_hist_event(struct reader *r, const struct lg_event *ev)
{
    if (r->crash_frozen)
        return;
    struct lg_thread_state *t = thread_state(r, ev->tid);
    t->total++;
    if (ev->time_ns > t->last_time)
        t->last_time = ev->time_ns;
    if (ev->kind == GUARD_EV_NS_CHANGE) {
        struct lg_event *slot = &t->ns[t->ns_next];
        if (t->nns == LG_NS_KEEP)
            lg_event_clear(slot);
        else
            t->nns++;
        lg_event_copy(slot, ev);
        t->ns_next = (t->ns_next + 1) % LG_NS_KEEP;
        t->ns_total++;
    }
    unsigned limit = r->ring_limit;
    if (t->n == t->cap && t->cap < limit) {
        /* grow before the ring ever wrapped: it is still linear */
        size_t cap = t->cap ? t->cap * 2 : 4;
        if (cap > limit)
            cap = limit;
        if (r->ring_slots + (cap - t->cap) <= LG_RING_BUDGET) {
            t->ring = xreallocarray(t->ring, cap, sizeof *t->ring);
            memset(t->ring + t->cap, 0, (cap - t->cap) * sizeof *t->ring);
            r->ring_slots += cap - t->cap;
            t->cap = cap;
            t->next = t->n;
        } else {
            r->ring_budget_hit = true;
        }
    }
    if (!t->cap)
        return;
    struct lg_event *slot = &t->ring[t->next];
    if (t->n == t->cap)
        lg_event_clear(slot);
    else
        t->n++;
    lg_event_copy(slot, ev);
    t->next = (t->next + 1) % t->cap;
}

void lg_crash_hist_pool(struct lg_pool_state *o, const struct lg_event *ev)
{
    struct lg_obj_event e = {true, ev->time_ns, ev->tid, ev->stack_id};
    if (ev->kind == GUARD_EV_POOL_PUT) {
        o->put = e;
        o->nputs++;
        o->in_pool = true;
    } else {
        o->get = e;
        o->in_pool = false;
    }
}

static void thread_state_free(struct lg_thread_state *t)
{
    for (size_t i = 0; i < t->n; i++)
        lg_event_clear(&t->ring[i]);
    free(t->ring);
    for (size_t i = 0; i < t->nns; i++)
        lg_event_clear(&t->ns[i]);
    free(t);
}

/* ---- the crash ------------------------------------------------------ */

static struct lg_crash *ensure_crash(struct reader *r)
{
    if (!r->log->crash)
        r->log->crash = xcalloc(1, sizeof *r->log->crash);
    return r->log->crash;
}

/* Registers that may hold pointers (x86-64 gregs order, see guard_log.h):
 * the ones a report names first come first. */
static const int pointer_regs[] = {13, 11, 14, 12, 9, 8, 10, 15, 0, 1, 2, 3, 4, 5, 6, 7, 16, 22};

static bool fault_addr_meaningful(const struct lg_crash *c)
{
    /* si_addr is the faulting address only for faults the kernel raised */
    return c->si_code > 0 && c->si_code != 0x80 &&
           (c->signo == SIGSEGV || c->signo == SIGBUS || c->signo == SIGILL || c->signo == SIGFPE);
}

static bool is_poison(uint64_t v)
{
    return (v >> 16) == (POISON64 >> 16) || v == POISON32;
}

static int cmp_links(const void *a, const void *b)
{
    const struct lg_crash_obj *x = a, *y = b;
    /* the fault address first, then objects still in the pool, then the
     * most recently put back */
    int fx = x->reg == LG_WHERE_FAULT, fy = y->reg == LG_WHERE_FAULT;
    if (fx != fy)
        return fy - fx;
    if (x->in_pool != y->in_pool)
        return x->in_pool ? -1 : 1;
    if (x->put.time_ns != y->put.time_ns)
        return x->put.time_ns > y->put.time_ns ? -1 : 1;
    return x->obj < y->obj ? -1 : x->obj > y->obj;
}

static void obj_link(struct lg_crash_obj *l, const struct lg_pool_state *o, int reg, uint64_t v)
{
    memset(l, 0, sizeof *l);
    l->reg = reg;
    l->value = v;
    l->obj = o->obj;
    l->pool = o->pool;
    l->size = o->size;
    l->put_flags = o->put_flags;
    l->in_pool = o->in_pool;
    l->nputs = o->nputs;
    l->put = o->put;
    if (!o->in_pool && o->get.valid && o->get.time_ns >= o->put.time_ns)
        l->get = o->get;
}

/* Values (the fault address, registers) inside objects that were put
 * back; poisoned registers; and, when there are any, the objects most
 * recently put back. */
static void compute_links(struct reader *r, struct lg_crash *c)
{
    uint64_t vals[1 + sizeof pointer_regs / sizeof *pointer_regs];
    int where[1 + sizeof pointer_regs / sizeof *pointer_regs];
    size_t nv = 0;
    if (fault_addr_meaningful(c)) {
        vals[nv] = c->fault_addr;
        where[nv++] = LG_WHERE_FAULT;
    }
    for (size_t i = 0; i < sizeof pointer_regs / sizeof *pointer_regs; i++)
        if ((uint32_t)pointer_regs[i] < c->nregs) {
            vals[nv] = c->regs[pointer_regs[i]];
            where[nv++] = pointer_regs[i];
        }
    for (size_t i = 0; i < nv; i++)
        if (where[i] >= 0 && is_poison(vals[i])) {
            c->poison = xreallocarray(c->poison, c->npoison + 1, sizeof *c->poison);
            c->poison[c->npoison].reg = where[i];
            c->poison[c->npoison++].value = vals[i];
        }

    struct lg_crash_obj *links = NULL;
    size_t n = 0, cap = 0;
    struct lg_pool_state *recent[LG_CRASH_RECENT_OBJS] = {NULL};
    struct lg_pool_state *o, *tmp;
    HASH_ITER(hh, r->objs, o, tmp) {
        if (!o->nputs || !o->put.valid)
            continue;
        if (o->in_pool) {
            c->objects_in_pool++;
            /* insertion into the few most recent puts */
            for (size_t k = 0; k < LG_CRASH_RECENT_OBJS; k++)
                if (!recent[k] || o->put.time_ns > recent[k]->put.time_ns) {
                    memmove(&recent[k + 1], &recent[k],
                            (LG_CRASH_RECENT_OBJS - k - 1) * sizeof *recent);
                    recent[k] = o;
                    break;
                }
        }
        if (!o->have_pool || !o->size)
            continue;
        struct lg_crash_obj *l = NULL;
        for (size_t i = 0; i < nv; i++) {
            if (vals[i] - o->obj >= o->size) /* unsigned: below obj wraps */
                continue;
            if (l) {
                if (where[i] >= 0)
                    l->also_regs |= 1u << where[i];
                continue;
            }
            VEC_GROW(links, n, cap);
            l = &links[n++];
            obj_link(l, o, where[i], vals[i]);
        }
    }
    if (n > 1)
        qsort(links, n, sizeof *links, cmp_links);
    if (n > LG_CRASH_OBJ_LINKS)
        n = LG_CRASH_OBJ_LINKS;
    if (c->npoison)
        for (size_t k = 0; k < LG_CRASH_RECENT_OBJS && recent[k]; k++) {
            VEC_GROW(links, n, cap);
            obj_link(&links[n++], recent[k], LG_WHERE_RECENT, 0);
        }
    c->objs = links;
    c->nobjs = n;
}

static int cmp_tev_recent(const void *a, const void *b)
{
    const struct lg_thread_events *x = a, *y = b;
    if (x->last_time != y->last_time)
        return x->last_time > y->last_time ? -1 : 1;
    return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* Freeze the history at the crash: every thread's ring, oldest first (the
 * selection of threads waits for the THREAD_STACK records), the crashing
 * thread's namespace changes, and the links. */
static void freeze(struct reader *r, struct lg_crash *c)
{
    if (r->crash_frozen)
        return;
    r->crash_frozen = true;
    c->events_per_thread = r->ring_limit;
    size_t nt = HASH_COUNT(r->threads), k = 0;
    c->tev = xcalloc(nt ? nt : 1, sizeof *c->tev);
    struct lg_thread_state *t, *tmp;
    HASH_ITER(hh, r->threads, t, tmp) {
        struct lg_thread_events *te = &c->tev[k++];
        te->tid = t->tid;
        te->total = t->total;
        te->last_time = t->last_time;
        te->n = t->n;
        te->ev = xcalloc(t->n ? t->n : 1, sizeof *te->ev);
        size_t start = t->n < t->cap ? 0 : t->next; /* the oldest */
        for (size_t i = 0; i < t->n; i++) {
            te->ev[i] = t->ring[(start + i) % t->cap]; /* moved: the ring lets go */
            t->ring[(start + i) % t->cap].payload = NULL;
        }
        if (t->tid == c->tid) {
            c->nns = t->nns;
            c->ns_total = t->ns_total;
            c->ns_changes = xcalloc(t->nns ? t->nns : 1, sizeof *c->ns_changes);
            size_t s0 = t->nns < LG_NS_KEEP ? 0 : t->ns_next;
            for (size_t i = 0; i < t->nns; i++) {
                c->ns_changes[i] = t->ns[(s0 + i) % LG_NS_KEEP];
                t->ns[(s0 + i) % LG_NS_KEEP].payload = NULL;
            }
        }
    }
    c->ntev = k;
    c->threads_with_events = k;
    if (k > 1)
        qsort(c->tev, k, sizeof *c->tev, cmp_tev_recent);
    compute_links(r, c);
}

void lg_crash_record(struct reader *r, const unsigned char *p, size_t off)
{
    struct lg_crash *c = ensure_crash(r);
    if (c->have_record) {
        lg_region_note(r, "a second CRASH record at offset %zu ignored", off);
        return;
    }
    struct guard_rec rec;
    memcpy(&rec, p, sizeof rec);
    struct guard_rec_crash x;
    memset(&x, 0, sizeof x);
    memcpy(&x, p, rec.size < sizeof x ? rec.size : sizeof x);
    c->have_record = true;
    c->file_offset = off;
    c->time_ns = x.time_ns;
    c->tid = x.tid;
    c->signo = x.signo;
    c->si_code = x.si_code;
    c->stack_id = x.stack_id;
    c->fault_addr = x.fault_addr;
    c->threads_signalled = x.threads_signalled;
    size_t room = (rec.size - offsetof(struct guard_rec_crash, regs)) / sizeof(uint64_t);
    size_t nregs = x.nregs < GUARD_CRASH_NREGS ? x.nregs : GUARD_CRASH_NREGS;
    c->nregs = (uint32_t)(nregs < room ? nregs : room);
    memcpy(c->regs, x.regs, c->nregs * sizeof *c->regs);
    if (x.time_ns > r->log->end_time_ns && !r->log->ended)
        r->log->end_time_ns = x.time_ns;
    freeze(r, c);
}

/* A thread that has a THREAD_STACK record already: one entry per thread,
 * so that a crash of a million threads is read in linear time. */
struct lg_tid_seen {
    uint32_t tid;
    UT_hash_handle hh;
};

void lg_crash_thread_stack(struct reader *r, const unsigned char *p)
{
    struct guard_rec_thread_stack x;
    memcpy(&x, p, sizeof x);
    struct lg_crash *c = ensure_crash(r);
    struct lg_tid_seen *seen = NULL;
    HASH_FIND(hh, r->crash_tids, &x.tid, sizeof x.tid, seen);
    if (seen)
        return; /* answered twice: the first */
    seen = xcalloc(1, sizeof *seen);
    seen->tid = x.tid;
    HASH_ADD(hh, r->crash_tids, tid, sizeof seen->tid, seen);
    VEC_GROW(c->threads, c->nthreads, c->threads_cap);
    c->threads[c->nthreads].tid = x.tid;
    c->threads[c->nthreads].stack_id = x.stack_id;
    c->threads[c->nthreads++].time_ns = x.time_ns;
}

void lg_crash_finding(struct reader *r, const struct lg_finding *f)
{
    struct lg_crash *c = ensure_crash(r);
    /* the shim counts the threads it asked in the finding (bytes) */
    if (f->bytes > c->threads_signalled)
        c->threads_signalled = f->bytes;
    if (!c->have_record && !r->crash_frozen) {
        /* no CRASH record (an older shim, or it was lost): what the
         * finding says */
        c->time_ns = f->time_ns;
        c->tid = f->tid;
        c->fault_addr = f->addr;
        for (size_t i = 0; i < f->nstacks; i++)
            if (f->stacks[i].role == GUARD_ROLE_CRASH)
                c->stack_id = f->stacks[i].stack_id;
    }
    freeze(r, c);
}

/* Keep the events of the crashing thread, of the threads that answered,
 * and of the few most recently active others; in that order. */
static void select_threads(struct lg_crash *c)
{
    struct lg_thread_events *out = xcalloc(c->ntev ? c->ntev : 1, sizeof *out);
    size_t k = 0, extra = 0;
    bool *taken = xcalloc(c->ntev ? c->ntev : 1, sizeof *taken);
    /* the threads that answered, as a sorted set */
    uint32_t *answered = xcalloc(c->nthreads ? c->nthreads : 1, sizeof *answered);
    for (size_t i = 0; i < c->nthreads; i++)
        answered[i] = c->threads[i].tid;
    tid_sort(answered, c->nthreads);
    for (size_t pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < c->ntev; i++) {
            if (taken[i])
                continue;
            struct lg_thread_events *te = &c->tev[i];
            bool want = pass == 0 ? te->tid == c->tid
                      : pass == 1 ? tid_find(answered, c->nthreads, te->tid) >= 0
                                  : extra < LG_CRASH_EXTRA_THREADS && te->n > 0;
            if (!want)
                continue;
            if (pass == 2)
                extra++;
            taken[i] = true;
            out[k++] = *te;
        }
    for (size_t i = 0; i < c->ntev; i++)
        if (!taken[i]) {
            for (size_t j = 0; j < c->tev[i].n; j++)
                lg_event_clear(&c->tev[i].ev[j]);
            free(c->tev[i].ev);
        }
    free(taken);
    free(answered);
    free(c->tev);
    c->tev = out;
    c->ntev = k;
}

void lg_crash_hist_done(struct reader *r)
{
    struct lg_crash *c = r->log->crash;
    if (c) {
        freeze(r, c); /* THREAD_STACK records alone: freeze at the end */
        select_threads(c);
    }
    if (r->ring_budget_hit)
        lg_region_note(r, "more than %u recent events over all threads: some threads' "
                       "last events are not kept", LG_RING_BUDGET);
    struct lg_thread_state *t, *tmp;
    HASH_ITER(hh, r->threads, t, tmp) {
        HASH_DEL(r->threads, t);
        thread_state_free(t);
    }
    r->last_thread = NULL;
    struct lg_tid_seen *s, *stmp;
    HASH_ITER(hh, r->crash_tids, s, stmp) {
        HASH_DEL(r->crash_tids, s);
        free(s);
    }
}

void lg_crash_free(struct lg_crash *c)
{
    if (!c)
        return;
    free(c->threads);
    for (size_t i = 0; i < c->ntev; i++) {
        for (size_t j = 0; j < c->tev[i].n; j++)
            lg_event_clear(&c->tev[i].ev[j]);
        free(c->tev[i].ev);
    }
    free(c->tev);
    free(c->objs);
    free(c->poison);
    for (size_t i = 0; i < c->nns; i++)
        lg_event_clear(&c->ns_changes[i]);
    free(c->ns_changes);
    free(c);
}
