/*
 * reap.c — the ends of supervised processes: who reaped a child (REAP in
 * its parent's log), unreaped-child when a process exits or execs, and the
 * END record.
 *
 * A child that exited is a zombie until reaped: the supervisor sees it
 * through the child's pidfd (readable), and that it is gone when
 * pidfd_send_signal(0) says ESRCH.  Gone without the supervisor (as a
 * subreaper) having reaped it means its parent did.  unreaped-child is
 * the shim's rule (preload/children.c, docs/checks.md): a child that
 * exited at least 100 ms after it was started, in the process's session,
 * still a zombie when the process ended, while the process never waited
 * for "any child".
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procs.h"

#define UNREAPED_GRACE_NS (100ull * 1000 * 1000)

/* ---- children: reaps and unreaped-child ---------------------------------------- */

/* Children that are gone: reaped by their parent unless by us. */
void reap_check_gone(struct proc *only_parent)
{
    for (struct proc *c = procs_list; c; c = c->next) {
        if (c->gone || !c->exited || (only_parent && c->parent != only_parent))
            continue;
        if (c->pidfd >= 0 && syscall(SYS_pidfd_send_signal, c->pidfd, 0, NULL, 0) == 0)
            continue; /* still a zombie */
        c->gone = 1;
        if (!c->status_known && peek_pidfd_exit(c->pidfd, &c->wstatus) == 0)
            c->status_known = 1; /* reaped before its zombie could be read */
        if (c->pidfd >= 0)
            close(c->pidfd);
        c->pidfd = -1;
        procs_shared_del(c);
        struct proc *par = c->parent;
        if (c->reaped_by_us || !par || par->finished)
            continue;
        uint64_t flags = (uint64_t)(par->wait_pid == c->pid);
        if (!c->status_known)
            flags |= GUARD_REAP_STATUS_UNKNOWN;
        slog_event(&par->log, sup_now_ns(), par->wait_tid ? par->wait_tid : par->pid,
                   GUARD_EV_REAP, 0, (uint64_t)c->pid,
                   c->status_known ? (uint64_t)(unsigned)c->wstatus : 0,
                   par->wait_call ? par->wait_call : GUARD_REAP_WAIT4, flags, NULL, 0, 0);
        procs_record(par);
    }
}

static int zombie_now(struct proc *c)
{
    if (c->exited)
        return 1;
    struct pollfd pf = {c->pidfd, POLLIN, 0};
    return c->pidfd >= 0 && poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN);
}

void reap_settle_children(struct proc *p)
{
    for (struct proc *c = procs_list; c; c = c->next)
        if (c->parent == p && !c->finished && zombie_now(c))
            reap_finish(c);
}

/* unreaped-child: p exits (at_exec 0) or replaces itself (1).  The shim
 * judges at exit(), when a child that ends because its parent does (the
 * end of a pipe the parent held, SIGHUP, PR_SET_PDEATHSIG) still runs;
 * the supervisor sees the parent's end later, so such a child must have
 * ended at least the grace before its parent's end or exec call to count:
 * the parent went on without it. */
void reap_judge_children(struct proc *p, int at_exec)
{
    pid_t my_sid = -1; /* read at the first child to judge */
    uint64_t now = sup_now_ns();
    uint64_t parent_end = at_exec ? p->exec.t : p->ended_ns ? p->ended_ns : now;
    for (struct proc *c = procs_list; c; c = c->next) {
        if (c->parent != p || c->judged || (c->gone && !c->reaped_by_us))
            continue;
        if (!zombie_now(c) || p->waits_any)
            continue; /* it runs on (a job left on purpose), or a reaper would take it */
        if (!c->signalled && (!c->ended_ns || c->ended_ns + UNREAPED_GRACE_NS > parent_end))
            continue; /* it ended with its parent, or just before */
        if (my_sid < 0 && peek_stat(p->pid, NULL, NULL, NULL, &my_sid, NULL, NULL) != 0)
            my_sid = 0;
        pid_t sid = 0;
        if (peek_stat(c->pid, NULL, NULL, NULL, &sid, NULL, NULL) == 0 && my_sid && sid && sid != my_sid)
            continue; /* detached into a session of its own */
        if (!c->signalled && now - c->spawn_ns < UNREAPED_GRACE_NS)
            continue;
        c->judged = 1;
        char comm[32], state[96];
        const char *program = procs_comm_of(c->pid, comm, sizeof comm);
        if (c->status_known && WIFEXITED(c->wstatus))
            snprintf(state, sizeof state, "a zombie (exited with status %d)", WEXITSTATUS(c->wstatus));
        else if (c->status_known && WIFSIGNALED(c->wstatus))
            snprintf(state, sizeof state, "a zombie (killed by signal %d)", WTERMSIG(c->wstatus));
        else
            snprintf(state, sizeof state, "a zombie");
        struct slog_finding f;
        memset(&f, 0, sizeof f);
        f.kind = GUARD_FK_UNREAPED_CHILD;
        f.tid = c->spawn_tid ? c->spawn_tid : p->pid;
        f.other_tid = c->pid;
        f.call = procs_spawn_names[c->spawn_kind < 8 ? c->spawn_kind : 0];
        const char *why = at_exec ? "replaced itself with exec" : "exited";
        if (c->signalled)
            snprintf(f.summary, sizeof f.summary,
                     "child %d (%s) was sent signal %d with kill() but never waited for: %s when "
                     "the process %s", (int)c->pid, program, c->signalled, state, why);
        else
            snprintf(f.summary, sizeof f.summary,
                     "child %d (%s, started with %s by thread T%d) exited and was never waited "
                     "for: %s when the process %s", (int)c->pid, program, f.call, (int)f.tid,
                     state, why);
        if (c->spawn_stack)
            f.stacks[f.nstacks++] = (struct guard_finding_stack){GUARD_ROLE_SPAWN, c->spawn_stack,
                                                                 (uint32_t)f.tid, 0};
        slog_finding(&p->log, now, &f);
        procs_record(p);
    }
}

/* ---- ends ------------------------------------------------------------------------ */

void reap_finish(struct proc *p)
{
    if (p->finished)
        return;
    if (!p->ended_ns)
        p->ended_ns = sup_now_ns(); /* before its children settled below: theirs come later */
    /* its exec and its children's, still unresolved, go first: a child's
     * CHILD_EXEC belongs in this log, before its end */
    for (struct proc *c = procs_list; c; c = c->next)
        if ((c == p || c->parent == p) && c->exec.active && !c->finished)
            procs_resolve_exec(c, c == p);
    /* a child that has ended, whose pidfd event may come after this one
     * in the same batch, ends first: its REAP belongs in this log too */
    reap_settle_children(p);
    reap_check_gone(p); /* its children it reaped: REAPs in its log, before it is closed */
    p->finished = 1;
    p->exited = 1;
    if (!p->status_known) {
        char st = 0;
        int code = 0;
        if (peek_stat(p->pid, &st, NULL, &code, NULL, NULL, NULL) == 0 && st == 'Z') {
            p->wstatus = code;
            p->status_known = 1;
        } else if (peek_pidfd_exit(p->pidfd, &code) == 0) { /* reaped already */
            p->wstatus = code;
            p->status_known = 1;
        }
    }
    reap_judge_children(p, 0);
    if (p->interrupted)
        slog_note(&p->log, p->pid, "%u watched call%s interrupted by a signal before the "
                  "supervisor answered; the kernel made each again, and it is recorded once",
                  p->interrupted, p->interrupted == 1 ? " was" : "s were");
    /* END for a normal exit (or an exit whose status was lost); a killed
     * process has none, as with the shim, and its parent's REAP says how */
    int logged = p->log.fd >= 0 || p->recorded || p->is_top;
    if (logged && !p->launcher && (!p->status_known || WIFEXITED(p->wstatus)))
        slog_end(&p->log, p->status_known ? WEXITSTATUS(p->wstatus) : INT32_MIN);
    if (sup_opt.preload && !p->launcher && p->status_known && WIFEXITED(p->wstatus))
        slog_end_shim_logs(p->pid, p->log.path, WEXITSTATUS(p->wstatus));
    slog_close(&p->log);
    if (p->pidfd >= 0)
        epoll_ctl(procs_epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
}

void procs_pidfd_ready(struct proc *p)
{
    if (p)
        reap_finish(p);
}

void procs_reaped(pid_t pid, int status)
{
    struct proc *p = procs_find(pid);
    if (!p)
        return;
    p->reaped_by_us = 1;
    if (!p->status_known) {
        p->status_known = 1;
        p->wstatus = status;
    }
    reap_finish(p);
    reap_check_gone(NULL);
}

