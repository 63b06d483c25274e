/*
 * proctree.c — building the process tree of a run (see proctree.h).
 *
 * 1. Logs are grouped by (run, pid) and ordered by start time; a log that
 *    ends at an exec and the next log of the same pid are one process.
 * 2. Each process's SPAWN events become pt_spawns; its REAP and KILL
 *    events are matched to them (by pid; pclose/system by call).
 * 3. Each logged process is linked to the spawn that started it: by pid in
 *    the parent named by its ppid, else by pid in any process (it was
 *    reparented), else — system/popen — by command line among its
 *    parent's pid-0 spawns.
 *    A process in a pid namespace its parent set up has another pid in
 *    its own log than in its parent's SPAWN: it is matched by its fork
 *    time or by what it runs (pidns_spawn).
 * 4. Spawns that no log answers become processes without a log.
 *
 * Everything is hashed or sorted: a run of thousands of processes costs
 * about as much as reading their logs.  Children of a process are few
 * compared to logs, and pid reuse is rare, so the lists per key are short.
 */
#define _GNU_SOURCE
#include "proctree.h"

#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <uthash.h>

#include "findings.h"
#include "nstimeline.h"
#include "proctree_priv.h"

/* ---- indexes ------------------------------------------------------- */

struct pid_key {
    unsigned run;
    uint32_t pid;
};

/* Nodes, or spawns, by (run, pid): a short vector per key. */
struct pid_index {
    struct pid_key key;
    void **v;
    size_t n, cap;
    UT_hash_handle hh;
};

static void index_add(struct pid_index **head, unsigned run, uint32_t pid, void *item)
{
    struct pid_key key;
    memset(&key, 0, sizeof key);
    key.run = run;
    key.pid = pid;
    struct pid_index *e = NULL;
    HASH_FIND(hh, *head, &key, sizeof key, e);
    if (!e) {
        e = xcalloc(1, sizeof *e);
        e->key = key;
        HASH_ADD(hh, *head, key, sizeof e->key, e);
    }
    VEC_GROW(e->v, e->n, e->cap);
    e->v[e->n++] = item;
}

static const struct pid_index *index_find(struct pid_index *head, unsigned run, uint32_t pid)
{
    struct pid_key key;
    memset(&key, 0, sizeof key);
    key.run = run;
    key.pid = pid;
    struct pid_index *e = NULL;
    HASH_FIND(hh, head, &key, sizeof key, e);
    return e;
}

static void index_free(struct pid_index **head)
{
    struct pid_index *e, *tmp;
    HASH_ITER(hh, *head, e, tmp) {
        HASH_DEL(*head, e);
        free(e->v);
        free(e);
    }
}

struct pt_logmap {
    const struct lg_log *log;
    struct pt_node *node;
    UT_hash_handle hh;
};

/* ---- 1. processes from logs ---------------------------------------- */

static int cmp_log(const void *a, const void *b)
{
    const struct lg_log *x = *(struct lg_log *const *)a, *y = *(struct lg_log *const *)b;
    if (x->run != y->run)
        return x->run < y->run ? -1 : 1;
    if (x->hdr.pid != y->hdr.pid)
        return x->hdr.pid < y->hdr.pid ? -1 : 1;
    if (x->hdr.start_monotonic_ns != y->hdr.start_monotonic_ns)
        return x->hdr.start_monotonic_ns < y->hdr.start_monotonic_ns ? -1 : 1;
    return strcmp(x->path, y->path);
}

static struct pt_node *new_node(struct ptree *t)
{
    struct pt_node *n = xcalloc(1, sizeof *n);
    VEC_GROW(t->nodes, t->n, t->cap);
    t->nodes[t->n++] = n;
    return n;
}

static void node_add_log(struct ptree *t, struct pt_node *n, struct lg_log *log)
{
    n->logs = xreallocarray(n->logs, n->nlogs + 1, sizeof *n->logs);
    n->logs[n->nlogs++] = log;
    struct pt_logmap *m = xcalloc(1, sizeof *m);
    m->log = log;
    m->node = n;
    HASH_ADD_PTR(t->bylog, log, m);
}

static const struct lg_event *last_exec(const struct lg_log *log)
{
    for (size_t i = log->npevents; i-- > 0;)
        if (log->pevents[i].kind == GUARD_EV_EXEC)
            return &log->pevents[i];
    return NULL;
}

static bool same_strv(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb || na == 0)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
}

/* Does log run the command line of the EXEC event ev? */
static bool runs_exec(const struct lg_event *ev, const struct lg_log *log)
{
    if (!ev || !log->have_process)
        return false;
    char *path, **argv;
    size_t argc;
    lg_split_payload(ev, &path, &argv, &argc);
    bool same = same_strv(argv, argc, log->argv, log->argc);
    free(path);
    lg_free_strv(argv, argc);
    return same;
}

static bool same_base_name(const char *a, const char *b)
{
    const char *x = strrchr(a, '/'), *y = strrchr(b, '/');
    return !strcmp(x ? x + 1 : a, y ? y + 1 : b);
}

/* Does log continue the process whose last log is prev?  prev ended at an
 * exec, and log is a fresh image's (not a fork child's) started after,
 * with the same parent, or else (reparented meanwhile; or a forked child
 * in a pid namespace, whose log names its parent by the parent's pid while
 * the new image's parent, outside the namespace, is ppid 0 to it) of the
 * exec'd program or its command line: a pid reused after an exec into a
 * program without a log is not it. */
static bool continues(const struct lg_log *prev, const struct lg_log *log)
{
    if (!prev->exec_ended || (log->hdr.flags & GUARD_FILE_FORKED_CHILD) ||
        log->hdr.start_monotonic_ns < prev->hdr.start_monotonic_ns)
        return false;
    const struct lg_event *ex = last_exec(prev);
    const char *path = ex ? ex->payload : NULL; /* the path: up to the first NUL */
    return prev->hdr.ppid == log->hdr.ppid || (path && log->exe && same_base_name(path, log->exe)) ||
           runs_exec(ex, log);
}

static void group_logs(struct ptree *t, struct lg_log *const *logs, size_t nlogs)
{
    struct lg_log **sorted = xcalloc(nlogs ? nlogs : 1, sizeof *sorted);
    memcpy(sorted, logs, nlogs * sizeof *sorted);
    if (nlogs)
        qsort(sorted, nlogs, sizeof *sorted, cmp_log);
    struct pt_node *cur = NULL;
    for (size_t i = 0; i < nlogs; i++) {
        struct lg_log *log = sorted[i];
        if (cur && cur->run == log->run && cur->pid == log->hdr.pid &&
            continues(cur->logs[cur->nlogs - 1], log)) {
            node_add_log(t, cur, log);
            continue;
        }
        cur = new_node(t);
        cur->pid = log->hdr.pid;
        cur->ppid = log->hdr.ppid;
        cur->run = log->run;
        cur->start_ns = log->hdr.start_monotonic_ns;
        node_add_log(t, cur, log);
        t->nlogged++;
    }
    free(sorted);
    for (size_t i = 0; i < t->n; i++) {
        struct pt_node *n = t->nodes[i];
        const struct lg_log *last = n->logs[n->nlogs - 1];
        n->end_ns = last->end_time_ns > n->start_ns ? last->end_time_ns : n->start_ns;
    }
}

/* ---- 2. spawns, reaps and kills of each process ----------------------- */

static struct pt_spawn *new_spawn(struct pt_node *n, struct lg_log *log, const struct lg_event *ev,
                                  struct fnd_db *db, struct symbolizer *sym)
{
    struct pt_spawn *s = xcalloc(1, sizeof *s);
    s->log = log;
    s->ev = ev;
    s->owner = n;
    /* a failed spawn logs pid -1: keep it out of the pid space */
    s->pid = ev->args[0] <= UINT32_MAX ? (uint32_t)ev->args[0] : 0;
    s->kind = ev->args[1] <= UINT32_MAX ? (unsigned)ev->args[1] : 0;
    s->flags = (unsigned)ev->args[2];
    s->threads = ev->args[3];
    lg_split_payload(ev, &s->program, &s->argv, &s->argc);
    if (s->program && !s->program[0]) {
        free(s->program); /* fork: no program; its own log says what it runs */
        s->program = NULL;
    }
    s->stack = fnd_stack(db, log, ev->stack_id, sym);
    VEC_GROW(n->spawns, n->nspawns, n->spawns_cap);
    n->spawns[n->nspawns++] = s;
    return s;
}

static bool spawn_failed(const struct pt_spawn *s)
{
    return (s->flags & GUARD_SPAWN_FAILED) != 0;
}

/* The spawn a REAP or KILL of pid refers to: the latest one before it of
 * that pid (not yet reaped, for a reap). */
static struct pt_spawn *spawn_by_pid(struct pt_node *n, size_t upto, uint32_t pid, bool unreaped)
{
    for (size_t i = upto; i-- > 0;) {
        struct pt_spawn *s = n->spawns[i];
        if (s->pid == pid && !spawn_failed(s) && (!unreaped || (!s->reap && !s->reap_implicit)))
            return s;
    }
    return NULL;
}

static void match_reap(struct pt_node *n, const struct lg_event *ev)
{
    uint32_t pid = ev->args[0] <= UINT32_MAX ? (uint32_t)ev->args[0] : 0;
    unsigned call = (unsigned)ev->args[2];
    struct pt_spawn *s = NULL;
    if (pid) {
        s = spawn_by_pid(n, n->nspawns, pid, true);
    } else if (call == GUARD_REAP_SYSTEM) {
        /* system() is synchronous: the thread's last unreaped system() */
        for (size_t i = n->nspawns; i-- > 0 && !s;)
            if (n->spawns[i]->kind == GUARD_SPAWN_SYSTEM && n->spawns[i]->ev->tid == ev->tid &&
                !n->spawns[i]->reap && !spawn_failed(n->spawns[i]))
                s = n->spawns[i];
    } else if (call == GUARD_REAP_PCLOSE) {
        /* which stream is not recorded: the oldest open popen() (a guess
         * when several are open at once) */
        for (size_t i = 0; i < n->nspawns && !s; i++)
            if (n->spawns[i]->kind == GUARD_SPAWN_POPEN && !n->spawns[i]->reap &&
                !spawn_failed(n->spawns[i]))
                s = n->spawns[i];
    }
    if (s)
        s->reap = ev;
}

/* system() reaps its child inside libc; the shim may log no REAP for it.
 * If the thread did anything after, or the process ended or exec'd,
 * system() returned: its child was reaped. */
static void system_reaps(struct pt_node *n, const struct lg_log *log, size_t first_spawn)
{
    for (size_t i = first_spawn; i < n->nspawns; i++) {
        struct pt_spawn *s = n->spawns[i];
        if (s->kind != GUARD_SPAWN_SYSTEM || s->reap || spawn_failed(s))
            continue;
        bool later = log->ended || log->exec_ended;
        for (const struct lg_event *e = s->ev + 1; !later && e < log->pevents + log->npevents; e++)
            later = e->tid == s->ev->tid;
        s->reap_implicit = later;
    }
}

static void collect_spawns(struct pt_node *n, struct fnd_db *db, struct symbolizer *sym)
{
    for (size_t li = 0; li < n->nlogs; li++) {
        struct lg_log *log = n->logs[li];
        size_t first = n->nspawns;
        for (size_t i = 0; i < log->npevents; i++) {
            const struct lg_event *ev = &log->pevents[i];
            switch (ev->kind) {
            case GUARD_EV_SPAWN:
                new_spawn(n, log, ev, db, sym);
                break;
            case GUARD_EV_REAP:
                match_reap(n, ev);
                break;
            case GUARD_EV_KILL:
            case GUARD_EV_CHILD_EXEC: {
                uint32_t pid = ev->args[0] <= UINT32_MAX ? (uint32_t)ev->args[0] : 0;
                struct pt_spawn *s = pid ? spawn_by_pid(n, n->nspawns, pid, false) : NULL;
                if (s && ev->kind == GUARD_EV_KILL)
                    s->kill = ev;
                else if (s) {
                    s->child_exec = ev;
                    s->exec_stack = fnd_stack(db, log, ev->stack_id, sym);
                }
                break;
            }
            default:
                break;
            }
        }
        system_reaps(n, log, first);
    }
}

/* ---- 3. linking children to their spawns ------------------------------ */

static uint64_t time_distance(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

static void link_child(struct pt_node *child, struct pt_spawn *s)
{
    child->spawn = s;
    s->child = child;
}

/* Among the spawns in e (any process's spawns of this pid), the unlinked
 * one nearest in time to the child's start, preferring those made by a
 * process with pid `ppid` (0: any). */
static struct pt_spawn *best_spawn(const struct pid_index *e, const struct pt_node *child,
                                   uint32_t ppid)
{
    struct pt_spawn *best = NULL;
    for (size_t i = 0; e && i < e->n; i++) {
        struct pt_spawn *s = e->v[i];
        if (s->child || spawn_failed(s) || s->owner == child || (ppid && s->owner->pid != ppid))
            continue;
        if (!best || time_distance(s->ev->time_ns, child->start_ns) <
                         time_distance(best->ev->time_ns, child->start_ns))
            best = s;
    }
    return best;
}

static bool same_argv(const struct pt_spawn *s, const struct lg_log *log)
{
    if (!log->have_process || s->argc != log->argc || s->argc == 0)
        return false;
    for (size_t i = 0; i < s->argc; i++)
        if (strcmp(s->argv[i], log->argv[i]) != 0)
            return false;
    return true;
}

/* The process with pid `pid` that was alive at time t (the latest started
 * before it), or NULL. */
static struct pt_node *node_at(struct pid_index *nodes, unsigned run, uint32_t pid, uint64_t t,
                               const struct pt_node *not_this)
{
    const struct pid_index *e = index_find(nodes, run, pid);
    struct pt_node *best = NULL;
    for (size_t i = 0; e && i < e->n; i++) {
        struct pt_node *n = e->v[i];
        if (n == not_this || n->start_ns > t)
            continue;
        if (!best || n->start_ns > best->start_ns)
            best = n;
    }
    return best;
}

/* Did process p set up a pid namespace for its children before time t
 * (unshare or clone with CLONE_NEWPID, setns into a pid namespace)? */
static bool made_pid_ns_before(const struct pt_node *p, uint64_t t)
{
    const unsigned pid_kind = GUARD_NSK_PID - 1;
    for (size_t li = 0; li < p->nlogs; li++) {
        const struct lg_log *log = p->logs[li];
        for (size_t i = 0; i < log->nns; i++) {
            const struct lg_event *ev = &log->ns[i].ev;
            if (ev->kind != GUARD_EV_NS_CHANGE || ev->time_ns > t || (int64_t)ev->args[2] < 0)
                continue;
            if (ev->args[1] & CLONE_NEWPID)
                return true;
            struct guard_ns_change_payload pl;
            if (ev->payload && ev->payload_len >= sizeof pl) {
                memcpy(&pl, ev->payload, sizeof pl);
                if (pl.after[pid_kind] && pl.after[pid_kind] != pl.before[pid_kind])
                    return true;
            }
        }
    }
    return false;
}

/* Does log (an exec'd image's first log) run what spawn s started: the
 * program its parent was told the forked child exec'd (CHILD_EXEC), or
 * that posix_spawn ran? */
static bool runs_spawned_image(const struct pt_spawn *s, const struct lg_log *log)
{
    if (s->child_exec)
        return runs_exec(s->child_exec, log); /* CHILD_EXEC's payload is EXEC's */
    return (s->kind == GUARD_SPAWN_POSIX_SPAWN || s->kind == GUARD_SPAWN_POSIX_SPAWNP) &&
           same_argv(s, log);
}

/*
 * The spawn of a logged process n that no spawn answered by pid, when n
 * is in a pid namespace its parent set up: its log has its pid inside
 * (1, 2...), its parent's SPAWN the pid outside.  Two shapes:
 *  - a forked child's log (its header names the parent by the parent's
 *    own pid, and starts at the fork's stamp, just before the SPAWN): the
 *    parent's nearest fork/vfork/clone after that start;
 *  - an exec'd image's log (its parent outside the namespace is ppid 0
 *    to it): a spawn whose child ran that same command line.
 * Only spawns of a parent that set up a pid namespace before them count:
 * without that, nothing says the two pids are one process.
 */
static struct pt_spawn *pidns_spawn(struct ptree *t, struct pid_index *nodes,
                                    const struct pt_node *n, size_t nlogged)
{
    const struct lg_log *first = n->logs[0];
    bool forked = (first->hdr.flags & GUARD_FILE_FORKED_CHILD) != 0;
    if (!forked && n->ppid != 0)
        return NULL;
    const struct pid_index *parents = forked ? index_find(nodes, n->run, n->ppid) : NULL;
    size_t np = forked ? (parents ? parents->n : 0) : nlogged;
    struct pt_spawn *best = NULL;
    uint64_t best_d = UINT64_MAX;
    for (size_t i = 0; i < np; i++) {
        const struct pt_node *p = forked ? parents->v[i] : t->nodes[i];
        if (p == n || p->run != n->run)
            continue;
        for (size_t k = 0; k < p->nspawns; k++) {
            struct pt_spawn *s = p->spawns[k];
            if (s->child || spawn_failed(s) || !s->pid || s->pid == n->pid)
                continue;
            uint64_t d;
            if (forked) {
                if ((s->kind != GUARD_SPAWN_FORK && s->kind != GUARD_SPAWN_VFORK &&
                     s->kind != GUARD_SPAWN_CLONE) || s->ev->time_ns < n->start_ns)
                    continue;
                d = s->ev->time_ns - n->start_ns;
            } else {
                if (!runs_spawned_image(s, first))
                    continue;
                d = time_distance(s->ev->time_ns, n->start_ns);
            }
            if (d < best_d && made_pid_ns_before(p, s->ev->time_ns)) {
                best = s;
                best_d = d;
            }
        }
    }
    return best;
}

static void link_all(struct ptree *t)
{
    struct pid_index *nodes = NULL, *spawns = NULL;
    size_t nlogged = t->n;
    for (size_t i = 0; i < nlogged; i++) {
        struct pt_node *n = t->nodes[i];
        index_add(&nodes, n->run, n->pid, n);
        for (size_t k = 0; k < n->nspawns; k++)
            if (n->spawns[k]->pid)
                index_add(&spawns, n->run, n->spawns[k]->pid, n->spawns[k]);
    }
    /* by pid: the parent named by ppid first, then anyone (reparented) */
    for (size_t i = 0; i < nlogged; i++) {
        struct pt_node *n = t->nodes[i];
        const struct pid_index *e = index_find(spawns, n->run, n->pid);
        struct pt_spawn *s = best_spawn(e, n, n->ppid);
        if (!s)
            s = best_spawn(e, n, 0);
        if (s)
            link_child(n, s);
    }
    /* system()/popen() (pid 0 in the SPAWN): by command line */
    for (size_t i = 0; i < nlogged; i++) {
        struct pt_node *n = t->nodes[i];
        if (n->spawn)
            continue;
        struct pt_node *p = node_at(nodes, n->run, n->ppid, n->start_ns, n);
        struct pt_spawn *best = NULL;
        for (size_t k = 0; p && k < p->nspawns; k++) {
            struct pt_spawn *s = p->spawns[k];
            if (s->pid || s->child || spawn_failed(s) || !same_argv(s, n->logs[0]))
                continue;
            if (!best || time_distance(s->ev->time_ns, n->start_ns) <
                             time_distance(best->ev->time_ns, n->start_ns))
                best = s;
        }
        if (best)
            link_child(n, best);
    }
    /* in a pid namespace: another pid in the parent's SPAWN */
    for (size_t i = 0; i < nlogged; i++) {
        struct pt_node *n = t->nodes[i];
        struct pt_spawn *s = n->spawn ? NULL : pidns_spawn(t, nodes, n, nlogged);
        if (!s)
            continue;
        link_child(n, s);
        n->ns_pid = n->pid;
        n->pid = s->pid;
        n->ppid = s->owner->pid;
    }
    /* parents */
    for (size_t i = 0; i < nlogged; i++) {
        struct pt_node *n = t->nodes[i];
        n->parent = n->spawn ? n->spawn->owner : node_at(nodes, n->run, n->ppid, n->start_ns, n);
    }
    index_free(&nodes);
    index_free(&spawns);
}

/* ---- 4. children without a log -------------------------------------- */

static void add_logless_children(struct ptree *t)
{
    size_t nlogged = t->n;
    for (size_t i = 0; i < nlogged; i++) {
        struct pt_node *p = t->nodes[i];
        for (size_t k = 0; k < p->nspawns; k++) {
            struct pt_spawn *s = p->spawns[k];
            if (s->child || spawn_failed(s))
                continue;
            struct pt_node *c = new_node(t);
            c->pid = s->pid;
            c->ppid = p->pid;
            c->run = p->run;
            c->start_ns = c->end_ns = s->ev->time_ns;
            c->parent = p;
            link_child(c, s);
        }
    }
}

/* ---- tree order ----------------------------------------------------- */

static uint64_t start_key(const struct pt_node *n)
{
    return n->spawn ? n->spawn->ev->time_ns : n->start_ns;
}

static int cmp_start(const void *a, const void *b)
{
    const struct pt_node *x = *(struct pt_node *const *)a, *y = *(struct pt_node *const *)b;
    if (x->run != y->run)
        return x->run < y->run ? -1 : 1;
    uint64_t kx = start_key(x), ky = start_key(y);
    if (kx != ky)
        return kx < ky ? -1 : 1;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Depth first, iteratively (a long chain of forks must not overflow the
 * stack).  A parent cycle (damaged logs naming each other) is broken:
 * every node is placed once. */
static void order_tree(struct ptree *t)
{
    size_t n = t->n;
    for (size_t i = 0; i < n; i++) {
        struct pt_node *c = t->nodes[i];
        if (c->parent) {
            VEC_GROW(c->parent->children, c->parent->nchildren, c->parent->children_cap);
            c->parent->children[c->parent->nchildren++] = c;
        } else {
            VEC_GROW(t->roots, t->nroots, t->roots_cap);
            t->roots[t->nroots++] = c;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (t->nodes[i]->nchildren > 1)
            qsort(t->nodes[i]->children, t->nodes[i]->nchildren, sizeof(struct pt_node *),
                  cmp_start);
    if (t->nroots > 1)
        qsort(t->roots, t->nroots, sizeof *t->roots, cmp_start);

    struct pt_node **out = xcalloc(n ? n : 1, sizeof *out);
    bool *placed = xcalloc(n ? n : 1, sizeof *placed);
    for (size_t i = 0; i < n; i++)
        t->nodes[i]->id = i; /* provisional: index into placed[] */
    struct pt_node **stack = xcalloc(n ? n : 1, sizeof *stack);
    size_t k = 0;
    for (size_t pass = 0; pass < 2; pass++) {
        /* pass 0 walks from the roots; pass 1 picks up cycles, each
         * becoming a root at the member seen first */
        for (size_t r = 0; r < (pass ? n : t->nroots); r++) {
            struct pt_node *root = pass ? t->nodes[r] : t->roots[r];
            if (placed[root->id])
                continue;
            if (pass) {
                root->parent = NULL;
                VEC_GROW(t->roots, t->nroots, t->roots_cap);
                t->roots[t->nroots++] = root;
            }
            size_t sp = 0;
            stack[sp++] = root;
            placed[root->id] = true;
            while (sp) {
                struct pt_node *c = stack[--sp];
                out[k++] = c;
                for (size_t j = c->nchildren; j-- > 0;) {
                    struct pt_node *ch = c->children[j];
                    if (placed[ch->id]) { /* a cycle: drop the edge */
                        memmove(&c->children[j], &c->children[j + 1],
                                (c->nchildren - j - 1) * sizeof *c->children);
                        c->nchildren--;
                        continue;
                    }
                    placed[ch->id] = true;
                    stack[sp++] = ch;
                }
            }
        }
    }
    for (size_t i = 0; i < k; i++)
        out[i]->id = i;
    free(t->nodes);
    t->nodes = out;
    t->cap = n ? n : 1;
    free(placed);
    free(stack);
}

/* ---- entry points --------------------------------------------------- */

void pt_build(struct ptree *t, struct lg_log *const *logs, size_t nlogs, struct fnd_db *db,
              struct symbolizer *sym, struct notes *notes)
{
    memset(t, 0, sizeof *t);
    group_logs(t, logs, nlogs);
    for (size_t i = 0; i < t->n; i++)
        collect_spawns(t->nodes[i], db, sym);
    link_all(t);
    add_logless_children(t);
    for (size_t i = 0; i < t->n; i++)
        pt_finish_node(t->nodes[i]);
    order_tree(t);
    pt_end_notes(t, notes);
}

void pt_free(struct ptree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        struct pt_node *n = t->nodes[i];
        for (size_t k = 0; k < n->nspawns; k++) {
            struct pt_spawn *s = n->spawns[k];
            free(s->program);
            lg_free_strv(s->argv, s->argc);
            free(s);
        }
        free(n->spawns);
        free(n->children);
        free(n->logs);
        free(n->exec_path);
        lg_free_strv(n->exec_argv, n->exec_argc);
        nstl_free(n->ns);
        free(n);
    }
    free(t->nodes);
    free(t->roots);
    struct pt_logmap *m, *tmp;
    HASH_ITER(hh, t->bylog, m, tmp) {
        HASH_DEL(t->bylog, m);
        free(m);
    }
    memset(t, 0, sizeof *t);
}

const struct pt_node *pt_node_of_log(const struct ptree *t, const struct lg_log *log)
{
    struct pt_logmap *m = NULL;
    HASH_FIND_PTR(t->bylog, &log, m);
    return m ? m->node : NULL;
}

const char *pt_spawn_command(const struct pt_spawn *s)
{
    if (s->kind == GUARD_SPAWN_POPEN)
        return s->program; /* popen's SPAWN names the command itself */
    if (s->kind == GUARD_SPAWN_SYSTEM)
        return s->argc >= 3 ? s->argv[2] : NULL; /* sh -c COMMAND */
    return NULL;
}

const struct pt_node *pt_finding_child(const struct ptree *t, const struct lg_log *log,
                                       const struct lg_finding *rec)
{
    if (rec->other_tid)
        return pt_child_of(t, log, rec->other_tid, rec->time_ns);
    uint32_t stack = 0;
    for (size_t i = 0; i < rec->nstacks && !stack; i++)
        if (rec->stacks[i].role == GUARD_ROLE_SPAWN)
            stack = rec->stacks[i].stack_id;
    const struct pt_node *p = pt_node_of_log(t, log);
    const struct pt_spawn *best = NULL;
    for (size_t i = 0; p && i < p->nspawns; i++) {
        const struct pt_spawn *s = p->spawns[i];
        if (s->log != log || s->pid || spawn_failed(s) || s->ev->time_ns > rec->time_ns ||
            (stack && s->ev->stack_id != stack) ||
            (s->reap && s->reap->time_ns <= rec->time_ns))
            continue;
        best = s; /* spawns are in log order: the latest wins */
    }
    return best ? best->child : NULL;
}

const struct pt_node *pt_child_of(const struct ptree *t, const struct lg_log *log, uint32_t pid,
                                  uint64_t time_ns)
{
    const struct pt_node *p = pt_node_of_log(t, log), *best = NULL;
    for (size_t i = 0; p && pid && i < p->nchildren; i++) {
        const struct pt_node *c = p->children[i];
        if (c->pid != pid)
            continue;
        if (!best || (start_key(c) <= time_ns && start_key(c) > start_key(best)))
            best = c;
    }
    return best;
}
