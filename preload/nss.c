/*
 * nss.c — the user and group lookups (getpw*, getgr*).
 *
 * Three checks:
 *   - nss-nonreentrant-threads: getpwuid() and friends return a pointer to
 *     one static buffer per process; a second thread calling any of them
 *     while the process has more than one thread can overwrite the first
 *     thread's result under its feet.  Fires on the second thread's call,
 *     whether or not the two calls happened to overlap in this run.
 *   - nss-erange-not-retried: a *_r call failed with ERANGE (buffer too
 *     small: *result is NULL) and the thread never called again with a
 *     larger buffer for the same key, so the caller took "too small" for
 *     "no such user".  Checked when the thread moves on to another lookup,
 *     and at exit.
 *   - fork-unsafe-call: these functions take locks and may load NSS
 *     modules; in a child forked from a multithreaded process they can
 *     deadlock before exec (children.c decides).
 *
 * NSS calls cost microseconds (file parsing, maybe IPC), so the checks'
 * bookkeeping is small beside them; the hooks never change a result.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/types.h>

#include "guard_internal.h"
#include "hook.h"

/* ---- nss-nonreentrant-threads ------------------------------------------ */

static _Atomic pid_t first_tid;          /* first thread to use a non-reentrant call */
static uint32_t first_stack;
static const char *first_call;
static struct guard_lock report_lock;
static uint32_t reported_stacks[64];     /* report each calling site once */
static unsigned nreported;

static int already_reported(uint32_t stack)
{
    int seen = 0;
    if (!guard_lock_acquire(&report_lock))
        return 1;
    for (unsigned i = 0; i < nreported; i++)
        seen |= reported_stacks[i] == stack;
    if (!seen && nreported < 64)
        reported_stacks[nreported++] = stack;
    guard_lock_release(&report_lock);
    return seen;
}

static void nonreentrant_call(const char *call)
{
    guard_children_fork_unsafe_call(call);
    pid_t self = guard_gettid();
    uint32_t stack = guard_stack_capture(2);
    pid_t expected = 0;
    if (atomic_compare_exchange_strong(&first_tid, &expected, self)) {
        first_stack = stack;
        first_call = call;
        return;
    }
    if (expected == self)
        return;
    int threads = guard_threads_count();
    if (threads < 2 || already_reported(stack))
        return;
    struct guard_finding f;
    memset(&f, 0, sizeof f);
    f.kind = GUARD_FK_NSS_NONREENTRANT_THREADS;
    f.tid = self;
    f.other_tid = expected;
    f.call = call;
    guard_fmt(f.summary, sizeof f.summary,
              "%s() called on thread T%d while thread T%d also uses %s() (%d threads): these "
              "functions share one static result buffer; use the _r variants with a buffer per "
              "thread", call, (int)self, (int)expected, first_call ? first_call : "?", threads);
    f.stacks[0] = (struct guard_finding_stack_ref){GUARD_ROLE_CALL, stack, (uint32_t)self};
    f.stacks[1] = (struct guard_finding_stack_ref){GUARD_ROLE_OTHER_CALL, first_stack,
                                                   (uint32_t)expected};
    f.nstacks = 2;
    guard_report_finding(&f);
}

/* ---- nss-erange-not-retried --------------------------------------------- */

/* Pending ERANGEs live in one small table keyed by thread (not in TLS: a
 * thread may exit before the exit check reads its entry). */
struct erange_pending {
    pid_t tid;            /* 0: free slot */
    const char *call;
    uint64_t key;         /* uid/gid, or a hash of the name */
    size_t buflen;
    uint32_t stack;
};

#define MAX_PENDING 64
GUARD_LARGE static struct erange_pending pending[MAX_PENDING];
static struct guard_lock pending_lock;
static _Atomic int any_pending;

static uint64_t name_key(const char *name)
{
    uint64_t h = 1469598103934665603ull;
    for (; name && *name; name++)
        h = (h ^ (unsigned char)*name) * 1099511628211ull;
    return h;
}

static void report_erange(const struct erange_pending *p)
{
    struct guard_finding f;
    memset(&f, 0, sizeof f);
    f.kind = GUARD_FK_NSS_ERANGE_NOT_RETRIED;
    f.tid = p->tid;
    f.call = p->call;
    f.bytes = (unsigned)p->buflen;
    guard_fmt(f.summary, sizeof f.summary,
              "%s() failed with ERANGE (a %zu-byte buffer is too small) and was never retried "
              "with a larger one: the caller saw *result == NULL, which reads as \"no such "
              "entry\"", p->call, p->buflen);
    f.stacks[0] = (struct guard_finding_stack_ref){GUARD_ROLE_CALL, p->stack, (uint32_t)p->tid};
    f.nstacks = p->stack ? 1 : 0;
    guard_report_finding(&f);
}

/* Take this thread's pending ERANGE out of the table, if any. */
static int take_pending(pid_t tid, struct erange_pending *out)
{
    int found = 0;
    if (!atomic_load(&any_pending) || !guard_lock_acquire(&pending_lock))
        return 0;
    for (unsigned i = 0; i < MAX_PENDING; i++)
        if (pending[i].tid == tid) {
            *out = pending[i];
            pending[i].tid = 0;
            found = 1;
            break;
        }
    guard_lock_release(&pending_lock);
    return found;
}

/* Before every reentrant lookup: a pending ERANGE is settled by a retry of
 * the same call for the same key with a larger buffer, and reported if the
 * thread moved on to something else. */
static void settle_pending(const char *call, uint64_t key, size_t buflen)
{
    struct erange_pending p;
    if (!take_pending(guard_gettid(), &p))
        return;
    if (!strcmp(p.call, call) && p.key == key && buflen > p.buflen)
        return; /* retried properly */
    report_erange(&p);
}

static void after_reentrant(const char *call, uint64_t key, size_t buflen, int rc)
{
    if (rc != ERANGE || !guard_lock_acquire(&pending_lock))
        return;
    for (unsigned i = 0; i < MAX_PENDING; i++)
        if (pending[i].tid == 0) {
            pending[i] = (struct erange_pending){guard_gettid(), call, key, buflen,
                                                 guard_stack_capture(2)};
            atomic_store(&any_pending, 1);
            break;
        }
    guard_lock_release(&pending_lock);
}

/* At exit: ERANGEs never retried, on any thread. */
void guard_nss_at_exit(void)
{
    for (unsigned i = 0; i < MAX_PENDING && atomic_load(&any_pending); i++) {
        struct erange_pending p = pending[i];
        if (p.tid) {
            pending[i].tid = 0;
            report_erange(&p);
        }
    }
}

GUARD_FORK_PATH void guard_nss_after_fork_child(void)
{
    /* only what differs: see guard_pool_after_fork_child */
    guard_lock_reset_in_child(&report_lock);
    guard_lock_reset_in_child(&pending_lock);
    if (!atomic_load_explicit(&any_pending, memory_order_relaxed))
        return; /* the table was never written: not even read (each page read is a fault) */
    pid_t self = guard_gettid();
    for (unsigned i = 0; i < MAX_PENDING; i++)
        if (pending[i].tid && pending[i].tid != self)
            pending[i].tid = 0; /* other threads' lookups are the parent's business */
}

/* ---- the hooks ---------------------------------------------------------- */

#define REENTRANT_HOOK(name, keytype, keyexpr, entry)                                        \
    GUARD_EXPORT int name(keytype key, struct entry *result_buf, char *buf, size_t buflen,   \
                          struct entry **result)                                             \
    {                                                                                        \
        struct guard_hook h;                                                                 \
        if (guard_hook_begin(&h)) {                                                          \
            guard_stack_prepare();                                                           \
            guard_children_fork_unsafe_call(#name);                                          \
            settle_pending(#name, keyexpr, buflen);                                          \
            guard_hook_end(&h);                                                              \
        }                                                                                    \
        int rc = GUARD_REAL(name)(key, result_buf, buf, buflen, result);                     \
        if (guard_hook_begin(&h)) {                                                          \
            after_reentrant(#name, keyexpr, buflen, rc);                                     \
            guard_hook_end(&h);                                                              \
        }                                                                                    \
        return rc;                                                                           \
    }

REENTRANT_HOOK(getpwuid_r, uid_t, (uint64_t)key, passwd)
REENTRANT_HOOK(getpwnam_r, const char *, name_key(key), passwd)
REENTRANT_HOOK(getgrgid_r, gid_t, (uint64_t)key, group)
REENTRANT_HOOK(getgrnam_r, const char *, name_key(key), group)

#define NONREENTRANT_HOOK(ret, name, params, args)    \
    GUARD_EXPORT ret name params                      \
    {                                                 \
        struct guard_hook h;                          \
        if (guard_hook_begin(&h)) {                   \
            guard_stack_prepare();                    \
            nonreentrant_call(#name);                 \
            guard_hook_end(&h);                       \
        }                                             \
        return GUARD_REAL(name) args;                 \
    }

NONREENTRANT_HOOK(struct passwd *, getpwuid, (uid_t uid), (uid))
NONREENTRANT_HOOK(struct passwd *, getpwnam, (const char *name), (name))
NONREENTRANT_HOOK(struct group *, getgrgid, (gid_t gid), (gid))
NONREENTRANT_HOOK(struct group *, getgrnam, (const char *name), (name))
NONREENTRANT_HOOK(struct passwd *, getpwent, (void), ())
NONREENTRANT_HOOK(struct group *, getgrent, (void), ())

GUARD_EXPORT int getgrouplist(const char *user, gid_t group, gid_t *groups, int *ngroups)
{
    struct guard_hook h;
    if (guard_hook_begin(&h)) {
        guard_stack_prepare();
        guard_children_fork_unsafe_call("getgrouplist");
        guard_hook_end(&h);
    }
    return GUARD_REAL(getgrouplist)(user, group, groups, ngroups);
}
