/*
 * nscheck.c — namespace events and namespace-off-thread, from the
 * supervisor's side.
 *
 * Two rules, one finding kind:
 *   - per thread, the shim's rule (common/guard_ns_rule.h, shared with
 *     preload/ns.c and the analyzer's timeline): a sensitive call on a
 *     thread left behind by another thread's pending move.  Time is a
 *     count ticked at each move and each sensitive call, in the order the
 *     supervisor receives them.  Origins (peer threads of one pool) are
 *     not known here: 0.
 *   - per goroutine (Go programs, when the goroutine of each call could
 *     be read): a goroutine that moved with unshare/setns while not locked
 *     to its OS thread (runtime.LockOSThread) has no thread of its own;
 *     each later sensitive call of the same goroutine is a finding, since
 *     the scheduler decides which thread -- which namespace -- it runs in.
 *     When it ran in the namespace the goroutine left, the step was left
 *     behind (an error); when in the one it moved into, it is the bug's
 *     precondition (flagged HAZARD), found on every run whichever way the
 *     race went.  A move made while locked clears the goroutine's state.
 *   A call the goroutine rule judged is not judged again per thread.
 *
 * The supervisor sees a call's result only when it stopped the thread at
 * its return (a Go program's goroutine, goroutine.c); otherwise NS_CHANGE
 * and NS_CALL records carry GUARD_EVENT_NO_RESULT, and an unshare/setns
 * counts as done when the thread's namespaces changed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sup.h"

static const char *const ns_names[GUARD_NSK_COUNT_] = {
    NULL, "mnt", "net", "uts", "ipc", "pid", "user", "cgroup", "time"};

#define GMOVES 64

struct gmove {
    int64_t goid;     /* 0: a free slot */
    int kind;
    uint64_t left, cur;
    pid_t tid;
    uint32_t stack;
    unsigned call;
    uint64_t seq;
};

struct nscheck {
    struct guard_ns_rule rule;
    uint64_t clock;
    struct gmove g[GMOVES];
    int forgot_noted;
};

struct nscheck *ns_new(void)
{
    return calloc(1, sizeof(struct nscheck));
}

void ns_free(struct nscheck *s)
{
    free(s);
}

static struct gmove *gmove_find(struct nscheck *s, int64_t goid, int kind)
{
    for (unsigned i = 0; i < GMOVES; i++)
        if (s->g[i].goid == goid && s->g[i].kind == kind)
            return &s->g[i];
    return NULL;
}

static struct gmove *gmove_slot(struct nscheck *s, int64_t goid, int kind)
{
    struct gmove *m = gmove_find(s, goid, kind), *oldest = &s->g[0];
    if (m)
        return m;
    for (unsigned i = 0; i < GMOVES; i++) {
        if (!s->g[i].goid)
            return &s->g[i];
        if (s->g[i].seq < oldest->seq)
            oldest = &s->g[i];
    }
    return oldest;
}

void ns_changed(struct nscheck *s, struct slog *l, uint64_t t, pid_t tid, unsigned call,
                uint64_t flags, const uint64_t before[8], const uint64_t after[8], int have_rc,
                long rc, uint32_t stack, const struct goroutine *g)
{
    struct guard_ns_change_payload p;
    memcpy(p.before, before, sizeof p.before);
    memcpy(p.after, after, sizeof p.after);
    int err = rc < 0 && have_rc ? (int)-rc : 0;
    slog_event(l, t, tid, GUARD_EV_NS_CHANGE, stack, call, flags, (uint64_t)(rc < 0 ? -1 : rc),
               (uint64_t)err, &p, sizeof p, have_rc ? 0 : GUARD_EVENT_NO_RESULT);
    if (rc != 0)
        return;
    uint32_t forgotten = s->rule.forgotten;
    uint64_t now = ++s->clock;
    for (int k = 1; k < GUARD_NSK_COUNT_; k++) {
        guard_ns_rule_moved(&s->rule, (uint32_t)tid, k, before[k - 1], after[k - 1], stack, call, 0,
                            now);
        if (!g || !g->known || before[k - 1] == after[k - 1] || !before[k - 1] || !after[k - 1])
            continue;
        if (g->locked) { /* its thread is its own: the per-thread rule is the right one */
            struct gmove *m = gmove_find(s, g->goid, k);
            if (m)
                memset(m, 0, sizeof *m);
            continue;
        }
        struct gmove *m = gmove_slot(s, g->goid, k);
        uint64_t left = m->goid == g->goid && m->kind == k && m->left ? m->left : before[k - 1];
        *m = (struct gmove){g->goid, k, left, after[k - 1], tid, stack, call, now};
        if (m->cur == m->left)
            memset(m, 0, sizeof *m); /* back where it started */
    }
    if (!forgotten && s->rule.forgotten && !s->forgot_noted) {
        s->forgot_noted = 1;
        slog_note(l, tid, "more than %d threads moved namespaces: the least recent one's moves "
                          "are forgotten by namespace-off-thread", GUARD_NS_RULE_THREADS);
    }
}

struct verdict {
    pid_t tid;
    unsigned call;
    uint64_t left, cur;
};

static void report(struct slog *l, uint64_t t, pid_t tid, const char *call, unsigned role,
                   uint32_t stack, uint32_t other_stack, pid_t other, int hazard, const char *summary)
{
    struct slog_finding f;
    memset(&f, 0, sizeof f);
    f.kind = GUARD_FK_NAMESPACE_OFF_THREAD;
    f.flags = hazard ? GUARD_FINDING_HAZARD : 0;
    f.tid = tid;
    f.other_tid = other;
    f.call = call;
    snprintf(f.summary, sizeof f.summary, "%s", summary);
    f.stacks[0] = (struct guard_finding_stack){GUARD_ROLE_UNSHARE, other_stack, (uint32_t)other, 0};
    f.stacks[1] = (struct guard_finding_stack){role, stack, (uint32_t)tid, 0};
    f.nstacks = 2;
    slog_finding(l, t, &f);
}

/* The goroutine rule for one kind: 1 when it judged the call. */
static int goroutine_check(struct nscheck *s, struct slog *l, uint64_t t, pid_t tid, int k,
                           uint64_t mine, const char *call, unsigned role, uint32_t stack,
                           const struct goroutine *g, struct verdict *v)
{
    struct gmove *m = g && g->known ? gmove_find(s, g->goid, k) : NULL;
    if (!m)
        return 0;
    const char *by = m->call == GUARD_NS_SETNS ? "setns" : "unshare";
    char sum[256];
    int hazard = mine == m->cur;
    if (hazard)
        snprintf(sum, sizeof sum,
                 "%s() by goroutine %lld on T%d runs in %s:[%llu], where %s() on T%d took the "
                 "goroutine, by chance: not locked to its OS thread (runtime.LockOSThread), it "
                 "may run on any thread", call, (long long)g->goid, (int)tid, ns_names[k],
                 (unsigned long long)mine, by, (int)m->tid);
    else
        snprintf(sum, sizeof sum,
                 "%s() by goroutine %lld on T%d runs in %s:[%llu], which the goroutine left with "
                 "%s() on T%d for %s:[%llu]: not locked to its OS thread (runtime.LockOSThread), "
                 "it moved to another thread", call, (long long)g->goid, (int)tid, ns_names[k],
                 (unsigned long long)mine, by, (int)m->tid, ns_names[k],
                 (unsigned long long)m->cur);
    report(l, t, tid, call, role, stack, m->stack, m->tid, hazard, sum);
    if (!hazard && v)
        *v = (struct verdict){m->tid, m->call, m->left, m->cur};
    return 1;
}

/* The per-thread rule for one kind. */
static void thread_check(struct nscheck *s, struct slog *l, uint64_t t, pid_t tid, int k,
                         uint64_t mine, const char *call, unsigned role, uint32_t stack,
                         uint64_t began, struct verdict *v)
{
    const struct guard_ns_thread *o =
        guard_ns_rule_left_behind(&s->rule, (uint32_t)tid, k, mine, began, 0);
    if (!o)
        return;
    const struct guard_ns_move *m = &o->k[k];
    const char *by = m->call == GUARD_NS_SETNS ? "setns" : "unshare";
    char sum[256];
    snprintf(sum, sizeof sum,
             "%s() on thread T%d runs in %s:[%llu], which T%d left with %s() for %s:[%llu] and had "
             "made no call in yet: the job's next step ran on a thread left behind", call, (int)tid,
             ns_names[k], (unsigned long long)m->left, (int)o->tid, by, ns_names[k],
             (unsigned long long)m->cur);
    report(l, t, tid, call, role, stack, m->stack, (pid_t)o->tid, 0, sum);
    if (v)
        *v = (struct verdict){(pid_t)o->tid, m->call, m->left, m->cur};
}

int ns_any_move(const struct nscheck *s)
{
    if (!s)
        return 0;
    for (int k = 1; k < GUARD_NSK_COUNT_; k++)
        if (s->rule.open[k])
            return 1;
    for (unsigned i = 0; i < GMOVES; i++)
        if (s->g[i].goid)
            return 1;
    return 0;
}

void ns_sensitive(struct nscheck *s, struct slog *l, uint64_t t, pid_t tid, unsigned call_id,
                  const char *call, const char *target, uint64_t mount_flags, uint32_t stack,
                  const struct goroutine *g, const uint64_t ns[8], int have_rc, long rc)
{
    unsigned kinds = call_id == 0 ? 0x1feu
                   : call_id == GUARD_NS_SETHOSTNAME ? 1u << GUARD_NSK_UTS : 1u << GUARD_NSK_MNT;
    unsigned role = call_id == 0 || call_id == GUARD_NS_SETHOSTNAME ? GUARD_ROLE_CALL
                                                                    : GUARD_ROLE_MOUNT;
    int setup = call_id == GUARD_NS_MOUNT && guard_ns_rule_propagation_only(mount_flags);
    uint64_t began = ++s->clock;
    struct verdict v = {0};
    for (int k = 1; k < GUARD_NSK_COUNT_; k++) {
        if (!(kinds & (1u << k)))
            continue;
        struct verdict *vk = k == GUARD_NSK_MNT ? &v : NULL;
        if (!setup && goroutine_check(s, l, t, tid, k, ns[k - 1], call, role, stack, g, vk)) {
            guard_ns_rule_own_step(&s->rule, (uint32_t)tid, k, setup, began);
            continue;
        }
        if (guard_ns_rule_own_step(&s->rule, (uint32_t)tid, k, setup, began) || !s->rule.open[k])
            continue;
        thread_check(s, l, t, tid, k, ns[k - 1], call, role, stack, began, vk);
    }
    if (call_id == 0 || call_id == GUARD_NS_SETHOSTNAME)
        return;
    char payload[513 + sizeof(struct guard_ns_call_tail)];
    size_t len = strnlen(target ? target : "", 512);
    memcpy(payload, target ? target : "", len);
    payload[len++] = '\0';
    struct guard_ns_call_tail tail = {call_id == GUARD_NS_MOUNT ? mount_flags : 0, v.cur,
                                      (uint32_t)v.tid, v.call};
    memcpy(payload + len, &tail, sizeof tail);
    len += sizeof tail;
    slog_event(l, t, tid, GUARD_EV_NS_CALL, stack, call_id, (uint64_t)(rc < 0 ? -1 : rc),
               (uint64_t)(rc < 0 ? -rc : 0), ns[GUARD_NSK_MNT - 1], payload, len,
               have_rc ? 0 : GUARD_EVENT_NO_RESULT);
}
