/*
 * restart.c — keeping a signal from making a watched call fail.
 *
 * A watched call waits for the supervisor.  Until the supervisor has
 * received it, a signal ends that wait and the kernel ends the call with
 * -ERESTARTSYS.  A handler installed without SA_RESTART turns that into
 * EINTR: a fork, clone, execve or kill that natively never fails so
 * (busybox sh: "can't fork: Interrupted system call").  No answer of the
 * supervisor can reach a call it never received; ptrace can: at the
 * signal's delivery stop the supervisor turns -ERESTARTSYS into
 * -ERESTARTNOINTR, the kernel's own restart for fork, and the call is
 * made again after the handler.  Waits keep their native EINTR.
 *
 * Every process image but a Go program's is traced (Go installs every
 * handler with SA_RESTART, and a Go program gets a signal at every
 * preemption) from its first watched call, received: an image that makes
 * none (most short-lived commands) costs nothing; that first call stays
 * open to a signal in the microseconds before it is received.  Watching
 * rt_sigaction to trace only the images that need it would cost more: Go's
 * runtime resets 57 handlers in every child it starts, each a watched
 * call.  A fork child is traced from its first spawn (a subshell; not
 * before, so that a debugger's child can still ask its parent to trace
 * it).  Its threads are seized with PTRACE_O_TRACECLONE, TRACEEXEC and
 * TRACEEXIT; the tracing ends at an exec into a Go program, at each
 * thread's exit, so its parent alone waits for it, and at a group-stop,
 * so that a stopped process reads "T (stopped)" as natively (its next
 * watched call seizes it again).  The static program traced for its crash
 * (crash.c) gets the same rewrite there.  A traced process cannot be
 * traced by a debugger as well (guard-supervise --no-ptrace).
 *
 * Invariants: every tid in the table is seized by us and belongs to a
 * traced process; a stop of a tid not in the table is claimed only when
 * its process is traced (a new thread can stop before its clone event).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procs.h"

#define ERESTARTSYS_ 512
#define ERESTARTNOINTR_ 513

/* Traced threads, by tid: open addressing, tid 0 free, -1 deleted. */
#define TABLE 2048
static struct {
    pid_t tid, pid;
} table[TABLE];
static unsigned held;

static unsigned slot_of(pid_t tid)
{
    unsigned h = (unsigned)tid * 2654435761u % TABLE;
    for (unsigned i = 0; i < TABLE; i++, h = (h + 1) % TABLE)
        if (table[h].tid == tid || table[h].tid == 0)
            return h;
    return TABLE;
}

static pid_t pid_of(pid_t tid)
{
    unsigned s = slot_of(tid);
    return s < TABLE && table[s].tid == tid ? table[s].pid : 0;
}

static int add(pid_t tid, pid_t pid)
{
    unsigned s = slot_of(tid);
    if (s < TABLE && table[s].tid == tid) {
        table[s].pid = pid;
        return 0;
    }
    if (held >= TABLE / 2) /* kept sparse; a thread beyond it is not traced */
        return -1;
    unsigned h = (unsigned)tid * 2654435761u % TABLE;
    while (table[h].tid > 0)
        h = (h + 1) % TABLE;
    table[h].tid = tid;
    table[h].pid = pid;
    held++;
    return 0;
}

static void drop(pid_t tid)
{
    unsigned s = slot_of(tid);
    if (s < TABLE && table[s].tid == tid) {
        table[s].tid = -1;
        if (--held == 0)
            memset(table, 0, sizeof table); /* no deleted slots left to probe */
    }
}

void restart_forget(void)
{
    memset(table, 0, sizeof table);
    held = 0;
}

int restart_traced(pid_t pid)
{
    return pid > 0 && pid_of(pid) == pid;
}

/* Seize every thread of pid; its caller waits in a received call, so no
 * signal can end that call before the seizure. */
static void attach(pid_t pid)
{
    static pid_t tids[PEEK_TASKS_MAX];
    size_t n = peek_tasks(pid, tids, PEEK_TASKS_MAX);
    for (size_t i = 0; i < n; i++)
        if (add(tids[i], pid) == 0 &&
            ptrace(PTRACE_SEIZE, tids[i], 0,
                   PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT) != 0)
            drop(tids[i]); /* a debugger's already, or gone */
}

static int is_spawn(unsigned long nr)
{
    return nr == SYS_clone || nr == SYS_clone3 || nr == SYS_fork || nr == SYS_vfork;
}

void restart_call(struct proc *p, unsigned long nr)
{
    if (sup_opt.no_ptrace || p->go.is_go || p->launcher || nr == SYS_execve ||
        nr == SYS_execveat || restart_traced(p->pid) || crash_traced(p->pid))
        return;
    /* a fork child runs its parent's image until it execs: traced once it
     * spawns in turn, not before (a debugger's child) */
    if (p->log.forked_child && !is_spawn(nr))
        return;
    attach(p->pid);
}

int restart_fix_call(pid_t tid, struct user_regs_struct *r)
{
    if ((long long)r->rax != -ERESTARTSYS_)
        return 0;
    unsigned long nr = (unsigned long)r->orig_rax;
    if (!is_spawn(nr) && nr != SYS_execve && nr != SYS_execveat && nr != SYS_kill)
        return 0;
    r->rax = (unsigned long long)-ERESTARTNOINTR_;
    return ptrace(PTRACE_SETREGS, tid, 0, r) == 0;
}

int restart_stop(pid_t tid, int status)
{
    pid_t pid = pid_of(tid);
    if (!pid) {
        pid_t ppid;
        pid = held ? peek_tgid(tid, &ppid) : 0;
        if (!restart_traced(pid) || add(tid, pid) != 0)
            return 0;
    }
    if (!WIFSTOPPED(status)) { /* killed (no exit stop): gone */
        drop(tid);
        /* a process of the supervisor's own (the program, an orphan) was
         * reaped by this very wait: main.c takes its status; one of
         * another parent stays a zombie until that parent reaps it */
        char path[32];
        snprintf(path, sizeof path, "/proc/%d", (int)tid);
        return tid != pid || access(path, F_OK) == 0;
    }
    int sig = WSTOPSIG(status), event = status >> 16;
    switch (event) {
    case 0: { /* a signal on its way */
        struct user_regs_struct r;
        if (ptrace(PTRACE_GETREGS, tid, 0, &r) == 0)
            restart_fix_call(tid, &r);
        ptrace(PTRACE_CONT, tid, 0, sig);
        return 1;
    }
    case PTRACE_EVENT_STOP:
        if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
            /* a group-stop: let go, it stays stopped and reads "T (stopped)"
             * as natively; its next watched call seizes it again */
            drop(tid);
            ptrace(PTRACE_DETACH, tid, 0, 0);
            return 1;
        }
        ptrace(PTRACE_CONT, tid, 0, 0);
        return 1;
    case PTRACE_EVENT_CLONE: { /* a thread, or a process made by clone without SIGCHLD */
        unsigned long t = 0;
        pid_t ppid, owner = 0;
        if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &t) == 0 && t > 0)
            owner = peek_tgid((pid_t)t, &ppid);
        if (owner > 0 && add((pid_t)t, owner) != 0)
            ptrace(PTRACE_DETACH, (pid_t)t, 0, 0);
        ptrace(PTRACE_CONT, tid, 0, 0);
        return 1;
    }
    case PTRACE_EVENT_EXEC: { /* a new image: traced on unless it is Go */
        for (unsigned i = 0; i < TABLE; i++)
            if (table[i].tid > 0 && table[i].pid == pid && table[i].tid != tid)
                drop(table[i].tid); /* ended by the exec (tid is the leader's now) */
        struct go_info gi;
        go_inspect(pid, &gi);
        if (gi.is_go || add(tid, pid) != 0) {
            drop(tid);
            ptrace(PTRACE_DETACH, tid, 0, 0);
        } else {
            ptrace(PTRACE_CONT, tid, 0, 0);
        }
        return 1;
    }
    case PTRACE_EVENT_EXIT:
        drop(tid);
        ptrace(PTRACE_DETACH, tid, 0, 0);
        return 1;
    default:
        ptrace(PTRACE_CONT, tid, 0, 0);
        return 1;
    }
}
