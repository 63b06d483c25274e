/*
 * pool.c — the pool annotation API (include/guard.h) and its checks:
 * use-after-return and double-put.
 *
 * On every put the object is filled with a poison byte; on the next get the
 * poison is verified, so a write that happened in between is always found
 * (at get).  On a put that is protected, the object's whole pages are also
 * made PROT_NONE, so that a late read or write is caught in the act (a
 * fault, or EFAULT from the kernel); the get lifts the protection.
 *
 * Which puts are protected adapts to the object's age (docs/checks.md):
 * every put while the object is young (its first pool_protect_young puts
 * since it was new to the table or last involved in a finding), then one
 * put in pool_protect_sample, drawn at random per put.  Each protection
 * costs two mprotect calls, and with several threads each one is a TLB
 * shootdown across CPUs; an object that has cycled many times without
 * trouble is where a pool-heavy program spends its cycles, and where a bug
 * is least likely.
 *
 * Objects live in a sharded hash table keyed by address; each shard has an
 * owner-aware spinlock (the fault handler takes it too).  Put and get of one
 * object run under its shard's lock from start to end, so a concurrent get
 * never sees a half-poisoned object.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"
#include "guard_internal.h"
#include "hook.h"

#undef guard_pool_get
#undef guard_pool_put

#define POISON_BYTE 0xA5
#define POISON_WORD 0xA5A5A5A5A5A5A5A5ull
#define SHARDS 64
#define BUCKETS_PER_SHARD 4096

enum obj_state { OBJ_OUT = 0, OBJ_IN_POOL = 1 };

struct pool_obj {
    struct pool_obj *next;
    uintptr_t obj;
    size_t size;
    const void *pool;
    int state;
    int reported;          /* a use-after-return was reported in this put cycle */
    int poisoned;
    uint32_t clean_puts;   /* puts since new or since its last finding (saturates) */
    uint32_t put_stack, get_stack;
    uint64_t get_seq;      /* when it was last taken: guard_children_seq_now() then */
    int taken;             /* it has been taken (get_seq is meaningful) */
    pid_t put_tid, get_tid;
    uintptr_t prot_start;  /* protected whole pages, 0 if none */
    size_t prot_len;
    /* what the last full event in the log said, so that the next ones can
     * be short (see guard_rec_pool) */
    const void *logged_pool;
    size_t logged_size;         /* 0: nothing logged in full yet */
    unsigned logged_put_flags;  /* flags of the last full put event */
    int logged_put;
    uint32_t logged_epoch;      /* ... in this log file (a fork child starts a new one) */
};

/* Log a put or get: the short record when the object's pool, size and flags
 * are what the log last said about it in full; decided under the shard
 * lock, written after. */
struct pool_log {
    int short_form;
    unsigned flags;
};

static struct pool_log plan_log(struct pool_obj *o, int is_put, const void *pool, size_t size,
                                unsigned flags)
{
    struct pool_log plan = {0, flags};
    if (!o)
        return plan;
    uint32_t epoch = guard_log_epoch();
    if (o->logged_epoch != epoch) {
        o->logged_epoch = epoch;
        o->logged_size = 0;
        o->logged_put = 0;
    }
    int same = o->logged_size == size && o->logged_pool == pool &&
               (!is_put || (o->logged_put && o->logged_put_flags == flags));
    if (same) {
        plan.short_form = 1;
        return plan;
    }
    o->logged_pool = pool;
    o->logged_size = size;
    if (is_put) {
        o->logged_put = 1;
        o->logged_put_flags = flags;
    }
    return plan;
}

static void log_pool_event(uint16_t kind, struct pool_log plan, uint32_t stack, const void *pool,
                           const void *obj, size_t size)
{
    if (!plan.short_form) {
        guard_log_event(kind, stack, (uintptr_t)pool, (uintptr_t)obj, size, plan.flags, NULL, 0);
        return;
    }
    struct guard_rec_pool *r = guard_log_reserve(0, sizeof *r);
    if (!r)
        return;
    r->tid = (uint32_t)guard_gettid();
    r->stack_id = stack;
    r->obj = (uintptr_t)obj;
    r->time_ns = guard_now_coarse_ns();
    guard_log_commit(r, kind == GUARD_EV_POOL_PUT ? GUARD_REC_POOL_PUT : GUARD_REC_POOL_GET,
                     sizeof *r);
}

struct shard {
    struct guard_lock lock;
    struct pool_obj **buckets;
    unsigned nobjs;         /* entries in this shard's table */
    unsigned cursor;        /* where the next search for an entry to reuse starts */
};

static struct shard shards[SHARDS];
/* Objects whose pages are PROT_NONE now; 0 lets the fault and EFAULT paths
 * bail out at once.  Written only by protect/unprotect, so the pool's hot
 * path (an unprotected put and its get) writes no line shared by all
 * threads. */
static _Atomic unsigned protected_count;
static _Atomic int bound_noted;
static _Atomic int bound_noted_objects;
static uintptr_t page_size;

static uintptr_t hash_addr(uintptr_t a)
{
    a ^= a >> 17;
    a *= 0x9e3779b97f4a7c15ull;
    return a ^ (a >> 29);
}

static struct shard *shard_of(uintptr_t obj, struct pool_obj ***bucket)
{
    uintptr_t h = hash_addr(obj);
    struct shard *s = &shards[h % SHARDS];
    if (!s->buckets) {
        /* first use of this shard; allocation races are harmless but we
         * hold the shard lock here anyway (callers lock first) */
        s->buckets = guard_alloc(sizeof(struct pool_obj *) * BUCKETS_PER_SHARD);
    }
    *bucket = s->buckets ? &s->buckets[(h / SHARDS) % BUCKETS_PER_SHARD] : NULL;
    return s;
}

/* With pool_max_objects, a shard at its share of the bound takes the entry
 * of an object that is out of its pool (taken and not put back, so neither
 * poisoned nor protected) for a new one: such an object, should it come
 * back, is new and young again.  Objects in their pools are never
 * forgotten (their poison is checked at the next get), so the table
 * outgrows the bound only by what the program's pools hold.  The search
 * looks at SCAN_BUCKETS buckets from a cursor that goes round the shard. */
#define SCAN_BUCKETS 64
static struct pool_obj *reusable_entry(struct shard *s)
{
    unsigned cap = (guard_opt.pool_max_objects + SHARDS - 1) / SHARDS;
    if (!guard_opt.pool_max_objects || s->nobjs < cap)
        return NULL;
    if (!atomic_exchange(&bound_noted_objects, 1))
        guard_log_note("pool_max_objects=%u reached: objects out of their pools are forgotten "
                       "for new ones", guard_opt.pool_max_objects);
    for (unsigned i = 0; i < SCAN_BUCKETS; i++) {
        struct pool_obj **link = &s->buckets[s->cursor++ % BUCKETS_PER_SHARD];
        for (; *link; link = &(*link)->next) {
            struct pool_obj *o = *link;
            if (o->state == OBJ_OUT && !o->prot_len) {
                *link = o->next;
                return o;
            }
        }
    }
    return NULL;
}

static struct pool_obj *find_or_add(struct shard *s, struct pool_obj **bucket, uintptr_t obj)
{
    for (struct pool_obj *o = *bucket; o; o = o->next)
        if (o->obj == obj)
            return o;
    struct pool_obj *o = reusable_entry(s);
    if (!o) {
        o = guard_alloc(sizeof *o);
        if (!o)
            return NULL;
        s->nobjs++;
    }
    memset(o, 0, sizeof *o);
    o->obj = obj;
    o->next = *bucket;
    *bucket = o;
    return o;
}

static void unprotect(struct pool_obj *o)
{
    if (!o->prot_len)
        return;
    mprotect((void *)o->prot_start, o->prot_len, PROT_READ | PROT_WRITE);
    o->prot_start = 0;
    o->prot_len = 0;
    atomic_fetch_sub(&protected_count, 1);
}

static unsigned protect(struct pool_obj *o)
{
    if (!page_size)
        page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = (o->obj + page_size - 1) & ~(page_size - 1);
    uintptr_t end = (o->obj + o->size) & ~(page_size - 1);
    if (end <= start)
        return 0; /* no whole page inside: the poison check at get covers it */
    if (atomic_fetch_add(&protected_count, 1) >= guard_opt.max_protected) {
        atomic_fetch_sub(&protected_count, 1);
        if (!atomic_exchange(&bound_noted, 1)) {
            guard_log_note("max_protected=%u reached: further returned objects are "
                           "poisoned but not protected", guard_opt.max_protected);
            if (guard_opt.verbosity >= 1)
                guard_fmt_stderr("==%d==libguard: max_protected=%u reached; further returned "
                             "objects are only poisoned (late writes are still found at get, "
                             "late reads are not)\n", (int)guard_pid, guard_opt.max_protected);
        }
        return GUARD_PUT_OVER_BOUND;
    }
    if (mprotect((void *)start, end - start, PROT_NONE) != 0) {
        atomic_fetch_sub(&protected_count, 1);
        return 0;
    }
    o->prot_start = start;
    o->prot_len = end - start;
    return GUARD_PUT_PROTECTED;
}

/* Per-thread generator of the sampled protection draws (xorshift64*),
 * seeded at a thread's first draw in each process: a fork child's threads
 * do not replay their parent's draws. */
static __thread uint64_t sample_state;
static __thread pid_t sample_pid;

static uint64_t sample_next(void)
{
    if (__builtin_expect(sample_pid != guard_pid || !sample_state, 0)) {
        uint64_t seed = guard_now_ns() ^ ((uint64_t)guard_gettid() << 32) ^ (uintptr_t)&sample_state;
        sample_state = hash_addr(seed) | 1;
        sample_pid = guard_pid;
    }
    uint64_t x = sample_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    sample_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Is this put protected?  Every put of a young object; then one in
 * pool_protect_sample at random, independently of which object or thread
 * (a program's own pattern, such as every second put, cannot dodge it). */
static int protect_this_put(struct pool_obj *o)
{
    if (o->clean_puts < guard_opt.pool_protect_young)
        return 1;
    unsigned sample = guard_opt.pool_protect_sample;
    if (sample <= 1)
        return sample == 1;
    return (sample_next() >> 32) % sample == 0;
}

/* A finding involves the object: it is young again (every put protected). */
static void pool_obj_in_trouble(struct pool_obj *o)
{
    o->clean_puts = 0;
}

/* The object at this address is (pool, size) from now on; another pool or
 * size there is a new object, young again. */
static void pool_obj_claim(struct pool_obj *o, const void *pool, size_t size)
{
    if (o->pool != pool || o->size != size)
        pool_obj_in_trouble(o);
    o->pool = pool;
    o->size = size;
}

static const unsigned char poison_block[4096] = {[0 ... 4095] = POISON_BYTE};

/* First modified byte and how many bytes differ from the poison.  The
 * common case (nothing changed) is a memcmp against a poison block, which
 * libc vectorises; only a block that differs is scanned byte by byte. */
static size_t verify_poison(const unsigned char *p, size_t size, size_t *first)
{
    size_t clean = 0;
    while (clean < size) {
        size_t n = size - clean < sizeof poison_block ? size - clean : sizeof poison_block;
        if (memcmp(p + clean, poison_block, n) != 0)
            break;
        clean += n;
    }
    if (clean == size) {
        *first = size;
        return 0;
    }
    size_t i = clean, changed = 0;
    *first = size;
    /* from the first differing block on: whole words, aligned */
    while (i < size && ((uintptr_t)(p + i) & 7))
        if (p[i++] != POISON_BYTE && !changed++)
            *first = i - 1;
    for (; i + 8 <= size; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (__builtin_expect(w != POISON_WORD, 0))
            for (size_t j = i; j < i + 8; j++)
                if (p[j] != POISON_BYTE && !changed++)
                    *first = j;
    }
    for (; i < size; i++)
        if (p[i] != POISON_BYTE && !changed++)
            *first = i;
    return changed;
}

static void add_stack(struct guard_finding *f, uint32_t role, uint32_t id, pid_t tid)
{
    if (f->nstacks < sizeof f->stacks / sizeof f->stacks[0] && id)
        f->stacks[f->nstacks++] = (struct guard_finding_stack_ref){role, id, (uint32_t)tid};
}

static void finding_for(struct guard_finding *f, unsigned kind, const struct pool_obj *o)
{
    guard_finding_init(f, kind, guard_gettid());
    f->pool = o->pool;
    f->obj = (const void *)o->obj;
    f->size = o->size;
    f->other_tid = o->put_tid;
}

struct last_get {
    int taken;
    uint64_t seq;
    uint32_t stack;
    pid_t tid;
};

/* put-while-child-running: every child started after the object's get and
 * not reaped yet may still be using it (cancelling a command does not
 * mean it is done: wait for it before its buffers go back).  Fires whether or not
 * the child happens to touch the object on this run. */
static void check_children_at_put(const void *pool, const void *obj, size_t size,
                                   uint32_t put_stack, const struct last_get *got)
{
    struct guard_child_info kids[8];
    unsigned n = guard_children_since(got->seq, kids, 8);
    for (unsigned i = 0; i < n; i++) {
        struct guard_finding f;
        guard_finding_init(&f, GUARD_FK_PUT_WHILE_CHILD_RUNNING, guard_gettid());
        f.pool = pool;
        f.obj = obj;
        f.size = size;
        f.other_tid = kids[i].pid;
        guard_fmt(f.summary, sizeof f.summary,
                  "object %p (%zu bytes) of pool %p put back by thread T%d while %s, "
                  "started by thread T%d after the object was taken, has not been waited for",
                  obj, size, pool, (int)f.tid, kids[i].who, (int)kids[i].spawn_tid);
        add_stack(&f, GUARD_ROLE_PUT, put_stack, f.tid);
        add_stack(&f, GUARD_ROLE_GET, got->stack, got->tid);
        add_stack(&f, GUARD_ROLE_SPAWN, kids[i].spawn_stack, kids[i].spawn_tid);
        guard_report_finding(&f);
    }
}

GUARD_EXPORT void guard_pool_put(const void *pool, void *obj, size_t size)
{
    struct guard_hook h;
    if (!obj || !size || !guard_hook_begin(&h))
        return;
    guard_stack_prepare();
    uint32_t stack = guard_stack_capture(1);
    struct pool_obj **bucket;
    struct shard *s = shard_of((uintptr_t)obj, &bucket);
    struct guard_finding f;
    struct last_get got = {0, 0, 0, 0};
    struct pool_log plan = {0, 0};
    int report = 0;
    unsigned flags = 0;
    struct guard_stdio_owner stream;
    int stdio_owned = guard_stdio_buffer_of(obj, size, &stream);
    if (bucket && guard_lock_acquire(&s->lock)) {
        struct pool_obj *o = find_or_add(s, bucket, (uintptr_t)obj);
        if (o && o->state == OBJ_OUT)
            got = (struct last_get){o->taken, o->get_seq, o->get_stack, o->get_tid};
        if (o && o->state == OBJ_IN_POOL) {
            finding_for(&f, GUARD_FK_DOUBLE_PUT, o);
            guard_fmt(f.summary, sizeof f.summary,
                      "object %p (%zu bytes) of pool %p put back by thread T%d while already "
                      "in the pool (first put by thread T%d)", obj, size, pool, (int)f.tid,
                      (int)o->put_tid);
            add_stack(&f, GUARD_ROLE_PUT, stack, f.tid);
            add_stack(&f, GUARD_ROLE_FIRST_PUT, o->put_stack, o->put_tid);
            pool_obj_in_trouble(o);
            report = 1;
        } else if (o) {
            pool_obj_claim(o, pool, size);
            o->state = OBJ_IN_POOL;
            o->reported = 0;
            o->put_stack = stack;
            o->put_tid = guard_gettid();
            /* A stream's buffer: libc still reads and writes it, and must
             * find what it would natively (no poison, no protection). */
            o->poisoned = guard_opt.pool_poison && !stdio_owned;
            if (o->poisoned) {
                memset(obj, POISON_BYTE, size);
                flags |= GUARD_PUT_POISONED;
            }
            if (guard_opt.pool_protect && !stdio_owned && protect_this_put(o))
                flags |= protect(o);
            if (o->clean_puts != UINT32_MAX)
                o->clean_puts++;
            if (stdio_owned) {
                pool_obj_in_trouble(o);
                finding_for(&f, GUARD_FK_USE_AFTER_RETURN, o);
                f.other_tid = stream.tid;
                guard_fmt(f.summary, sizeof f.summary,
                          "object %p (%zu bytes) of pool %p put back by thread T%d while stdio "
                          "stream %p still uses it as its buffer (given by thread T%d): libc "
                          "reads and writes it until the stream is closed", obj, size, pool,
                          (int)f.tid, stream.stream, (int)stream.tid);
                add_stack(&f, GUARD_ROLE_PUT, stack, f.tid);
                add_stack(&f, GUARD_ROLE_CALL, stream.stack, stream.tid);
                report = 1;
            }
        }
        plan = plan_log(o, 1, pool, size, flags);
        guard_lock_release(&s->lock);
    }
    log_pool_event(GUARD_EV_POOL_PUT, plan, stack, pool, obj, size);
    if (report)
        guard_report_finding(&f);
    else if (got.taken)
        check_children_at_put(pool, obj, size, stack, &got);
    guard_hook_end(&h);
}

GUARD_EXPORT void guard_pool_get(const void *pool, void *obj, size_t size)
{
    struct guard_hook h;
    if (!obj || !size || !guard_hook_begin(&h))
        return;
    guard_stack_prepare();
    uint32_t stack = guard_stack_capture(1);
    struct pool_obj **bucket;
    struct shard *s = shard_of((uintptr_t)obj, &bucket);
    struct guard_finding f;
    struct pool_log plan = {0, 0};
    int report = 0;
    if (bucket && guard_lock_acquire(&s->lock)) {
        struct pool_obj *o = find_or_add(s, bucket, (uintptr_t)obj);
        if (o && o->state == OBJ_IN_POOL) {
            unprotect(o);
            size_t first, changed = 0;
            size_t checked = o->size < size ? o->size : size;
            if (o->poisoned && !o->reported)
                changed = verify_poison(obj, checked, &first);
            if (changed) {
                finding_for(&f, GUARD_FK_USE_AFTER_RETURN, o);
                f.flags = GUARD_FINDING_AT_GET;
                f.access = GUARD_ACCESS_WRITE;
                f.addr = o->obj + first;
                f.offset = (long)first;
                f.bytes = (unsigned)changed;
                guard_fmt(f.summary, sizeof f.summary,
                          "write after return: %zu byte(s) of object %p (%zu bytes) of pool %p "
                          "changed while it was in the pool, first at offset %zu; found when "
                          "thread T%d took it again (put by thread T%d)", changed, obj, o->size,
                          pool, first, (int)f.tid, (int)o->put_tid);
                add_stack(&f, GUARD_ROLE_PUT, o->put_stack, o->put_tid);
                add_stack(&f, GUARD_ROLE_GET, stack, f.tid);
                pool_obj_in_trouble(o);
                report = 1;
            }
            o->state = OBJ_OUT;
        }
        if (o) {
            pool_obj_claim(o, pool, size);
            o->get_stack = stack;
            o->get_tid = guard_gettid();
            o->get_seq = guard_children_seq_now();
            o->taken = 1;
        }
        plan = plan_log(o, 0, pool, size, 0);
        guard_lock_release(&s->lock);
    }
    log_pool_event(GUARD_EV_POOL_GET, plan, stack, pool, obj, size);
    if (report)
        guard_report_finding(&f);
    guard_hook_end(&h);
}

/* Find the returned object whose protected pages meet [addr, addr+len);
 * returns it with its shard locked (*locked), or NULL. */
static struct pool_obj *find_protected(uintptr_t addr, size_t len, struct shard **locked)
{
    if (atomic_load(&protected_count) == 0)
        return NULL;
    for (unsigned i = 0; i < SHARDS; i++) {
        struct shard *s = &shards[i];
        if (!s->buckets || !guard_lock_acquire(&s->lock))
            continue;
        for (unsigned b = 0; b < BUCKETS_PER_SHARD; b++)
            for (struct pool_obj *o = s->buckets[b]; o; o = o->next)
                if (o->state == OBJ_IN_POOL && o->prot_len && addr < o->prot_start + o->prot_len &&
                    addr + len > o->prot_start) {
                    *locked = s;
                    return o;
                }
        guard_lock_release(&s->lock);
    }
    return NULL;
}

static void report_caught(struct pool_obj *o, struct shard *s, uintptr_t addr, unsigned access,
                          uint32_t access_stack, const char *call, unsigned flags, size_t len)
{
    struct guard_finding f;
    finding_for(&f, GUARD_FK_USE_AFTER_RETURN, o);
    f.flags = flags;
    f.access = access;
    f.call = call;
    if (addr < o->obj)
        addr = o->obj;
    f.addr = addr;
    f.offset = (long)(addr - o->obj);
    f.bytes = (unsigned)len;
    const char *what = access == GUARD_ACCESS_WRITE ? "write" : access == GUARD_ACCESS_READ ? "read" : "access";
    if (call)
        guard_fmt(f.summary, sizeof f.summary,
                  "the kernel %s object %p (%zu bytes) of pool %p at offset %ld for thread T%d's "
                  "%s() after thread T%d put it back (the call got EFAULT)",
                  access == GUARD_ACCESS_WRITE ? "wrote into" : "read from", (void *)o->obj, o->size,
                  o->pool, f.offset, (int)f.tid, call, (int)o->put_tid);
    else
        guard_fmt(f.summary, sizeof f.summary,
                  "%s by thread T%d at %p: offset %ld in object %p (%zu bytes) of pool %p, "
                  "after thread T%d put it back", what, (int)f.tid, (void *)addr, f.offset,
                  (void *)o->obj, o->size, o->pool, (int)o->put_tid);
    add_stack(&f, GUARD_ROLE_ACCESS, access_stack, f.tid);
    add_stack(&f, GUARD_ROLE_PUT, o->put_stack, o->put_tid);
    add_stack(&f, GUARD_ROLE_GET, o->get_stack, o->get_tid);
    /* Let the program go on: lift the protection of this object. */
    unprotect(o);
    o->reported = 1;
    pool_obj_in_trouble(o);
    guard_lock_release(&s->lock);
    guard_report_finding(&f);
}

int guard_pool_fault(uintptr_t addr, unsigned access, void *ucontext)
{
    struct shard *s;
    struct pool_obj *o = find_protected(addr, 1, &s);
    if (!o)
        return 0;
    uint32_t stack = guard_stack_capture_signal(ucontext);
    report_caught(o, s, addr, access, stack, NULL, GUARD_FINDING_CAUGHT_IN_ACT, 1);
    return 1;
}

int guard_pool_efault(const char *call, const void *buf, size_t len, unsigned access)
{
    struct shard *s;
    struct pool_obj *o = find_protected((uintptr_t)buf, len ? len : 1, &s);
    if (o) {
        uint32_t stack = guard_stack_capture(2);
        report_caught(o, s, (uintptr_t)buf, access, stack, call,
                      GUARD_FINDING_CAUGHT_IN_ACT | GUARD_FINDING_SYSCALL, len);
    }
    return o != NULL;
}

/* The child has its own copy of the table and of the protections; nothing
 * to change, but locks another parent thread held are released (only
 * those: a store, even of the same value, makes the kernel copy the page
 * for the child). */
GUARD_FORK_PATH void guard_pool_after_fork_child(void)
{
    for (unsigned i = 0; i < SHARDS; i++)
        guard_lock_reset_in_child(&shards[i].lock);
}
