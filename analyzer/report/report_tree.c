/*
 * report_tree.c — the process tree in the text report, one line a process:
 *
 *   Process tree:
 *     28781 pool_uar  (exit 0)
 *     └─ 28782 pool_uar → gzip -c  (exit 0)  [fork by T28781; reaped by T28781 waitpid: exited 0]
 *
 * Without --verbose only the processes that matter to a reported finding
 * are printed (the one that logged it, the child it names, and their
 * ancestors), and a line counts the others: a clean run prints no tree, a
 * nightly run's findings do not drown in its thousands of processes.  The
 * JSON report always has the whole tree.
 *
 * A big tree (more than PT_COLLAPSE_OVER processes printed) folds siblings
 * that say the same thing (same program, arguments, spawn and reap calls,
 * kind of outcome, and the same subtree) into one line and "... and N more
 * like this".  Strings from logs go through fput_escaped().
 */
#define _GNU_SOURCE
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define PT_COLLAPSE_OVER 50u
#define PT_MAX_INDENT 16u   /* deeper levels are drawn at this depth, with their depth */
#define PT_ARGS_MAX 60u

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

/* "pool_uar → gzip -c": the exec chain's programs, then the arguments. */
static char *node_title(const struct pt_node *n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return xstrdup(pt_node_name(n));
    const char *prev = NULL;
    for (size_t i = 0; i < n->nlogs; i++) {
        const char *exe = n->logs[i]->exe ? base_name(n->logs[i]->exe) : "?";
        if (prev && !strcmp(prev, exe))
            continue;
        fprintf(f, "%s%s", prev ? " → " : "", exe);
        prev = exe;
    }
    if (n->exec_told && n->parent && n->parent->nlogs && n->parent->logs[n->parent->nlogs - 1]->exe) {
        prev = base_name(n->parent->logs[n->parent->nlogs - 1]->exe); /* the forked image */
        fputs(prev, f);
    }
    if ((n->end == PT_END_EXEC || n->exec_told) && n->exec_path)
        fprintf(f, "%s%s%s", prev ? " → " : "", base_name(n->exec_path),
                n->exec_unconfirmed ? " (exec unconfirmed)" : "");
    else if (!prev)
        fputs(pt_node_name(n), f);
    fflush(f);
    size_t head = len; /* the names; only the arguments are cut */
    return pt_finish_with_args(n, f, &buf, &len, head, head + PT_ARGS_MAX);
}

/* The parent's wait status of n, when it was seen. */
static bool reap_status(const struct pt_node *n, int *wst)
{
    *wst = 0;
    return n->spawn && pt_reap_status(n->spawn->reap, wst);
}

/* How the process itself ended: "exit 0", "killed by signal 9"... */
static void node_outcome(const struct pt_node *n, char *buf, size_t cap)
{
    char st[96];
    int wst;
    bool signalled = reap_status(n, &wst) && WIFSIGNALED(wst);
    switch (n->end) {
    case PT_END_EXIT:
        if (n->have_exit)
            snprintf(buf, cap, "exit %d", n->exit_status);
        else
            snprintf(buf, cap, "exited");
        break;
    case PT_END_EXIT_UNSEEN:
        snprintf(buf, cap, "exited with status %d without the shim seeing it (a raw exit_group?)",
                 n->exit_status);
        break;
    case PT_END_EXEC:
        if (n->have_exit)
            snprintf(buf, cap, "exit %d; no log after exec", n->exit_status);
        else if (signalled)
            snprintf(buf, cap, "%s; no log after exec", pt_wait_status_text(wst, st, sizeof st));
        else
            snprintf(buf, cap, "no log after exec");
        break;
    case PT_END_KILLED:
        if (signalled)
            snprintf(buf, cap, "%s%s", pt_wait_status_text(wst, st, sizeof st),
                     n->crashed ? ", crash report" : "");
        else
            snprintf(buf, cap, "crashed");
        break;
    case PT_END_KILLED_MAYBE:
        snprintf(buf, cap, "no END record: killed?");
        break;
    case PT_END_LOG_CUT:
        if (n->have_exit)
            snprintf(buf, cap, "exit %d; log cut short (file system full?)", n->exit_status);
        else
            snprintf(buf, cap, "log cut short (file system full?)");
        break;
    case PT_END_UNKNOWN:
    default:
        if (n->have_exit)
            snprintf(buf, cap, "exit %d; no log", n->exit_status);
        else if (signalled)
            snprintf(buf, cap, "%s; no log", pt_wait_status_text(wst, st, sizeof st));
        else
            snprintf(buf, cap, "no log");
        break;
    }
}

/* Why a child was never reaped, from how its parent ended: "" when the
 * parent went on to exit in its own time. */
static const char *parent_end_why(const struct pt_node *par)
{
    switch (par->nlogs ? par->end : PT_END_EXIT) {
    case PT_END_EXEC:
        return " (parent exec'd)";
    case PT_END_KILLED:
        return " (parent killed)";
    case PT_END_KILLED_MAYBE:
        return " (parent killed?)";
    case PT_END_LOG_CUT:
        return " (parent's log cut short)";
    default:
        return "";
    }
}

/* Did the parent's shim report this child as an unreaped-child?  (A
 * child left running on purpose is not one: the tree only says it was
 * not waited for.) */
static bool spawn_has_finding(const struct pt_spawn *s)
{
    for (size_t i = 0; s->log && i < s->log->nfindings; i++) {
        const struct lg_finding *f = &s->log->findings[i];
        if (f->kind != GUARD_FK_UNREAPED_CHILD)
            continue;
        if (s->pid ? f->other_tid == s->pid
                   : s->kind == GUARD_SPAWN_POPEN && f->call && !strcmp(f->call, "popen"))
            return true;
    }
    return false;
}

/* "fork by T1; reaped by T1 waitpid: exited 0" (children only). */
static void node_spawn_info(const struct pt_node *n, char *buf, size_t cap)
{
    const struct pt_spawn *s = n->spawn;
    buf[0] = '\0';
    if (!s) {
        if (n->parent)
            snprintf(buf, cap, "start not logged by the parent");
        return;
    }
    const char *kind = pt_spawn_kind_name(s->kind);
    char st[96];
    size_t len = (size_t)snprintf(buf, cap, "%s by T%u; ", kind ? kind : "spawn", s->ev->tid);
    if (len >= cap)
        return;
    char *p = buf + len;
    size_t left = cap - len;
    if (s->reap) {
        unsigned call = (unsigned)s->reap->args[2];
        const char *name = pt_reap_call_name(call);
        /* waiting for any child (not for this pid) is worth saying */
        const char *any = pt_reap_asked_for_pid(s->reap) ? ""
                          : call == GUARD_REAP_WAITPID || call == GUARD_REAP_WAIT4 ? "(-1)"
                          : call == GUARD_REAP_WAITID ? "(P_ALL)" : "";
        int wst;
        if (pt_reap_status(s->reap, &wst))
            snprintf(p, left, "reaped by T%u %s%s: %s", s->reap->tid, name ? name : "wait", any,
                     pt_wait_status_text(wst, st, sizeof st));
        else
            snprintf(p, left, "reaped by T%u %s%s (status unknown)", s->reap->tid,
                     name ? name : "wait", any);
    } else if (s->reap_implicit) {
        snprintf(p, left, "reaped inside system()");
    } else if (s->flags & GUARD_SPAWN_AUTOREAP) {
        snprintf(p, left, "auto-reaped (SIGCHLD ignored)");
    } else {
        const char *why = parent_end_why(s->owner);
        if (s->kind == GUARD_SPAWN_SYSTEM)
            snprintf(p, left, "system() not seen returning%s", why);
        else if (spawn_has_finding(s))
            snprintf(p, left, "%sNEVER REAPED: unreaped-child%s", s->kill ? "sent a signal, " : "",
                     why);
        else if (s->kill)
            snprintf(p, left, "sent signal %" PRIu64 ", not waited for%s", s->kill->args[1], why);
        else
            snprintf(p, left, "not waited for%s", why);
    }
}

/* ---- folding of look-alike siblings --------------------------------- */

struct tnode {
    const struct pt_node *n;
    char *title;
    char *line;          /* "title  (outcome)  [spawn info]" without the pid */
    char *sig;           /* what must be equal to fold: no pid, no tid, no exit value */
    uint64_t hash;       /* of sig and the children's hashes */
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static char *signature(const struct pt_node *n, const char *title)
{
    const struct pt_spawn *s = n->spawn;
    int outcome = n->have_exit ? (n->exit_status ? 2 : 1) : 0;
    int wst;
    bool known = reap_status(n, &wst);
    return xasprintf("%s\x1f%d\x1f%d\x1f%u\x1f%d\x1f%d\x1f%d\x1f%d\x1f%d\x1f%d", title,
                     (int)n->end, outcome, s ? s->kind : 0u,
                     s && s->reap ? (int)s->reap->args[2] : -1,
                     known && WIFSIGNALED(wst) ? WTERMSIG(wst) : 0, s && s->reap && !known,
                     s ? s->reap_implicit : 0, s ? (s->flags & GUARD_SPAWN_AUTOREAP) != 0 : 0,
                     s && s->kill ? 1 : 0);
}

struct tree_printer {
    FILE *out;
    struct tnode *t;        /* by node id */
    bool collapse;
    const bool *show;       /* by node id: the processes printed (NULL: all) */
};

static bool shown(const struct tree_printer *tp, const struct pt_node *n)
{
    return !tp->show || tp->show[n->id];
}

static int cmp_hash(const void *a, const void *b)
{
    const struct tnode *x = *(struct tnode *const *)a, *y = *(struct tnode *const *)b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->n->id < y->n->id ? -1 : x->n->id > y->n->id;
}

static void print_line(struct tree_printer *tp, const char *prefix, const char *branch,
                       const struct tnode *tn, unsigned depth)
{
    fputs("  ", tp->out);
    fputs(prefix, tp->out);
    fputs(branch, tp->out);
    if (depth > PT_MAX_INDENT)
        fprintf(tp->out, "[depth %u] ", depth);
    if (tn->n->pid)
        fprintf(tp->out, "%u ", tn->n->pid);
    else
        fputs("? ", tp->out);
    if (tn->n->ns_pid)
        fprintf(tp->out, "(pid %u in its pid namespace) ", tn->n->ns_pid);
    fput_escaped(tp->out, tn->line);
    fputc('\n', tp->out);
}

/* "... and 994 more like this (pids 100-1100, exit statuses 1-199, from 8 threads)" */
static void print_more(struct tree_printer *tp, const char *prefix, const char *branch,
                       struct tnode *const *same, size_t n)
{
    uint32_t lo = UINT32_MAX, hi = 0;
    int elo = INT32_MAX, ehi = INT32_MIN;
    uint32_t tids[9];
    size_t ntids = 0;
    for (size_t i = 0; i < n; i++) {
        const struct pt_node *c = same[i]->n;
        lo = c->pid < lo ? c->pid : lo;
        hi = c->pid > hi ? c->pid : hi;
        if (c->have_exit) {
            elo = c->exit_status < elo ? c->exit_status : elo;
            ehi = c->exit_status > ehi ? c->exit_status : ehi;
        }
        if (c->spawn && ntids < 9) {
            bool seen = false;
            for (size_t k = 0; k < ntids; k++)
                seen |= tids[k] == c->spawn->ev->tid;
            if (!seen)
                tids[ntids++] = c->spawn->ev->tid;
        }
    }
    fprintf(tp->out, "  %s%s... and %zu more like this (pids %u-%u", prefix, branch, n, lo, hi);
    if (elo < ehi)
        fprintf(tp->out, ", exit statuses %d-%d", elo, ehi);
    if (ntids > 1)
        fprintf(tp->out, ", spawned by %s%zu threads", ntids > 8 ? "more than " : "",
                ntids > 8 ? (size_t)8 : ntids);
    fputs(")\n", tp->out);
}

static void print_children(struct tree_printer *tp, const struct pt_node *const *kids, size_t nkids,
                           const char *prefix, unsigned depth, bool top);

static void print_subtree(struct tree_printer *tp, const struct tnode *tn, const char *prefix,
                          const char *branch, const char *cont, unsigned depth)
{
    print_line(tp, prefix, branch, tn, depth);
    if (!tn->n->nchildren)
        return;
    char *sub = depth < PT_MAX_INDENT ? xasprintf("%s%s", prefix, cont) : xstrdup(prefix);
    print_children(tp, (const struct pt_node *const *)tn->n->children, tn->n->nchildren, sub,
                   depth + 1, false);
    free(sub);
}

struct entry {
    struct tnode *lead;
    struct tnode *const *same; /* look-alikes folded into it */
    size_t nsame;
};

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return x->lead->n->id < y->lead->n->id ? -1 : x->lead->n->id > y->lead->n->id;
}

/* Siblings (roots when top), folded when the run is big.  Sibling ids
 * grow in sibling order (the tree is numbered depth first). */
static void print_children(struct tree_printer *tp, const struct pt_node *const *kids, size_t nkids,
                           const char *prefix, unsigned depth, bool top)
{
    struct entry *ent = xcalloc(nkids ? nkids : 1, sizeof *ent);
    struct tnode **byhash = xcalloc(nkids ? nkids : 1, sizeof *byhash);
    size_t nent = 0, all = nkids;
    nkids = 0;
    for (size_t i = 0; i < all; i++)
        if (shown(tp, kids[i]))
            byhash[nkids++] = &tp->t[kids[i]->id];
    if (tp->collapse && nkids > 1) {
        qsort(byhash, nkids, sizeof *byhash, cmp_hash);
        for (size_t i = 0; i < nkids;) {
            size_t j = i + 1;
            while (j < nkids && byhash[j]->hash == byhash[i]->hash &&
                   !strcmp(byhash[j]->sig, byhash[i]->sig))
                j++;
            ent[nent++] = (struct entry){byhash[i], &byhash[i + 1], j - i - 1};
            i = j;
        }
        qsort(ent, nent, sizeof *ent, cmp_entry);
    } else {
        for (size_t i = 0; i < nkids; i++)
            ent[nent++] = (struct entry){byhash[i], NULL, 0};
    }
    for (size_t e = 0; e < nent; e++) {
        bool last = e + 1 == nent;
        const char *branch = top ? "" : last && !ent[e].nsame ? "└─ " : "├─ ";
        const char *cont = top ? "" : last && !ent[e].nsame ? "   " : "│  ";
        print_subtree(tp, ent[e].lead, prefix, branch, cont, depth);
        if (ent[e].nsame)
            print_more(tp, prefix, top ? "" : last ? "└─ " : "├─ ", ent[e].same, ent[e].nsame);
    }
    free(ent);
    free(byhash);
}

static void mark_with_ancestors(bool *show, size_t *n, const struct pt_node *c)
{
    for (; c && !show[c->id]; c = c->parent) {
        show[c->id] = true;
        (*n)++;
    }
}

/* The processes that matter to a reported finding: the one that logged
 * it, the child it names, and their ancestors.  Returns how many. */
static size_t mark_relevant(const struct report *r, bool *show)
{
    const struct ptree *t = &r->db->tree;
    size_t n = 0;
    for (size_t i = 0; i < r->nlogs; i++) {
        const struct lg_log *log = r->logs[i];
        for (size_t k = 0; k < log->nfindings; k++) {
            const struct lg_finding *rec = &log->findings[k];
            if (!rec->owner || rec->owner->suppressed || rec->owner->known)
                continue;
            mark_with_ancestors(show, &n, pt_node_of_log(t, log));
            if (rec->kind == GUARD_FK_UNREAPED_CHILD || rec->kind == GUARD_FK_PUT_WHILE_CHILD_RUNNING)
                mark_with_ancestors(show, &n, pt_finding_child(t, log, rec));
        }
    }
    return n;
}

void report_tree_text(FILE *out, const struct report *r)
{
    const struct ptree *t = &r->db->tree;
    if (!t->n)
        return;
    /* --verbose: the whole tree.  Otherwise the processes that matter to
     * a finding, when there are two or more of them: a clean run, or a
     * finding in a lone process, has no tree to show (the JSON report
     * always has all of it). */
    bool *show = NULL;
    size_t nshow = t->n;
    if (!r->verbose) {
        show = xcalloc(t->n, sizeof *show);
        nshow = mark_relevant(r, show);
        if (nshow < 2) {
            free(show);
            return;
        }
    }
    struct tree_printer tp = {out, xcalloc(t->n, sizeof *tp.t), nshow > PT_COLLAPSE_OVER, show};
    /* lines, then hashes bottom-up: children come after parents in id order */
    for (size_t i = 0; i < t->n; i++) {
        const struct pt_node *n = t->nodes[i];
        struct tnode *tn = &tp.t[i];
        tn->n = n;
        if (!shown(&tp, n))
            continue;
        tn->title = node_title(n);
        char outcome[160], info[320];
        node_outcome(n, outcome, sizeof outcome);
        node_spawn_info(n, info, sizeof info);
        tn->line = xasprintf("%s  (%s)%s%s%s", tn->title, outcome, info[0] ? "  [" : "", info,
                             info[0] ? "]" : "");
        tn->sig = signature(n, tn->title);
    }
    for (size_t i = t->n; i-- > 0;) {
        struct tnode *tn = &tp.t[i];
        if (!shown(&tp, tn->n))
            continue;
        uint64_t h = fnv(0xcbf29ce484222325ull, tn->sig, strlen(tn->sig));
        for (size_t k = 0; k < tn->n->nchildren; k++)
            if (shown(&tp, tn->n->children[k]))
                h = fnv(h, &tp.t[tn->n->children[k]->id].hash, sizeof h);
        tn->hash = h;
    }
    fputs("Process tree:\n", out);
    print_children(&tp, (const struct pt_node *const *)t->roots, t->nroots, "", 0, true);
    if (nshow < t->n)
        fprintf(out, "  ... and %zu more %s without findings (--verbose shows the whole tree)\n",
                t->n - nshow, t->n - nshow == 1 ? "process" : "processes");
    fputc('\n', out);
    for (size_t i = 0; i < t->n; i++) {
        free(tp.t[i].title);
        free(tp.t[i].line);
        free(tp.t[i].sig);
    }
    free(tp.t);
    free(show);
}
