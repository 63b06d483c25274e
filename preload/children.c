/*
 * children.c — child processes: who started them, who reaped them, and what is
 * left when the process ends.
 *
 * Every child gets a record on the parent's side at spawn (pid, spawning
 * thread, stack, program, argv) and loses it when a wait-family call reaps
 * it.  Three checks stand on this table:
 *   - unreaped-child: children still in it when the process exits or execs;
 *   - put-while-child-running (pool.c asks here): children started after an
 *     object's get that are still unreaped at its put (a buffer returned
 *     to its pool while a child's I/O may still use it), found on every run, not only when the race turns harmful;
 *   - fork-unsafe-call: a child forked from a multithreaded process that
 *     calls a non-async-signal-safe hooked function before exec.
 *
 * Live children are few at any time, so the table is a list under one
 * owner-aware lock; nodes are recycled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/single_threaded.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard_internal.h"
#include "hook.h"

struct child {
    struct child *next;
    pid_t pid;
    pid_t spawn_tid;
    uint32_t spawn_stack;
    unsigned kind;
    uint64_t spawn_seq;
    int autoreap;          /* SIGCHLD ignored when it was started: never a zombie */
    int signalled;         /* last signal sent with kill(), 0 if none */
    int reported;          /* judged at an exec that failed: not again */
    uint64_t spawn_ns;     /* CLOCK_MONOTONIC at the spawn */
    void *stream;          /* popen's FILE */
    uint32_t board_key;    /* a fork child's key on the exec board (fork/board.c); 0: none */
    char program[96];
};

/* The children of this process: written at every spawn and reap, and in
 * parent-only memory (guard_alloc_parent_only) with the entries
 * themselves, so that those writes are no page faults after a fork; a
 * fork child finds the table empty (and resets it where the kernel cannot
 * wipe it, see guard_children_after_fork_child). */
struct child_table {
    struct guard_lock lock;
    struct child *live, *spare;
};
static struct child_table fallback_table;
static _Atomic(void *) table_at; /* made at the first child: most processes start none */
static int table_wiped_at_fork;
/* This process has started a child (since it was forked): until then the
 * table is not even read, so that a forked child's exec does not fault in
 * the parent-only page that the kernel wiped for it. */
GUARD_FORK_WRITTEN static int started_a_child;

static _Atomic uint64_t sequence; /* only if no board could be made */
static _Atomic int autoreap_now;     /* SIGCHLD is SIG_IGN or SA_NOCLDWAIT */
/* This image has waited for "any child" (wait, waitpid(-1 or a group),
 * waitid(P_ALL or P_PGID)): a reaper, whose next wait reaps every zombie. */
GUARD_FORK_WRITTEN static _Atomic int waits_for_any_child;
GUARD_FORK_WRITTEN static int fork_child_threads;       /* in a fork child: the parent's thread count, else 0 */
GUARD_FORK_WRITTEN static _Atomic int exit_checked;

uint64_t guard_children_seq_next(void)
{
    _Atomic uint64_t *shared = guard_fork_board_sequence(); /* see fork/board.c */
    return atomic_fetch_add(shared ? shared : &sequence, 1) + 1;
}

/* The last number guard_children_seq_next handed out: a child started
 * after this call gets a larger one.  A load, not an add, so that a hot
 * path (every pool get) does not write the line every thread shares. */
uint64_t guard_children_seq_now(void)
{
    _Atomic uint64_t *shared = guard_fork_board_sequence();
    return atomic_load(shared ? shared : &sequence);
}

static const char *const spawn_names[] = {"?", "fork", "vfork", "posix_spawn", "posix_spawnp",
                                          "system", "popen", "clone"};

static void copy_program(char *out, size_t cap, const char *program)
{
    size_t n = program ? strnlen(program, cap - 1) : 0;
    memcpy(out, program ? program : "", n);
    out[n] = '\0';
}

/* The payload of a SPAWN/EXEC event: program NUL argv[0] NUL ... (bounded). */
static size_t pack_argv(char *buf, size_t cap, const char *program, char *const argv[])
{
    size_t len = 0;
    const char *first = program ? program : "";
    for (int i = -1; len < cap; i++) {
        const char *s = i < 0 ? first : argv ? argv[i] : NULL;
        if (!s || i >= 64)
            break;
        size_t n = strnlen(s, 256);
        if (len + n + 1 > cap)
            break;
        memcpy(buf + len, s, n);
        buf[len + n] = '\0';
        len += n + 1;
    }
    return len;
}

/* The table, made when first needed (an mmap and two madvise calls that
 * a process which starts no child does not pay for). */
static struct child_table *children(void)
{
    return guard_alloc_parent_only_object(&table_at, sizeof(struct child_table), &fallback_table,
                                    &table_wiped_at_fork);
}

/* The table if this process has started a child, else NULL (an empty
 * table: not even read, see started_a_child). */
static struct child_table *table_if_started(void)
{
    return started_a_child ? children() : NULL;
}

static void add_child(pid_t pid, unsigned kind, uint32_t stack, const char *program, void *stream,
                      uint32_t board_key)
{
    struct child_table *table = children();
    if (!guard_lock_acquire(&table->lock))
        return;
    struct child *c = table->spare;
    if (c)
        table->spare = c->next;
    else
        c = guard_alloc_parent_only(sizeof *c);
    if (!c)
        c = guard_alloc(sizeof *c);
    if (c) {
        memset(c, 0, sizeof *c);
        c->pid = pid;
        c->kind = kind;
        c->spawn_tid = guard_gettid();
        c->spawn_stack = stack;
        c->spawn_seq = guard_children_seq_next();
        c->spawn_ns = guard_now_ns();
        c->autoreap = atomic_load(&autoreap_now);
        c->stream = stream;
        c->board_key = board_key;
        /* a fork child's program is whatever it execs later: its own log says */
        copy_program(c->program, sizeof c->program, program ? program : "forked");
        c->next = table->live;
        table->live = c;
        if (!started_a_child)
            started_a_child = 1;
    }
    guard_lock_release(&table->lock);
}

/* Remove the child with this pid (or this popen stream); returns 1 if it
 * was ours, and its board key in *board_key. */
static int remove_child(pid_t pid, void *stream, uint32_t *board_key)
{
    int found = 0;
    *board_key = 0;
    struct child_table *table = table_if_started();
    if (!table || !guard_lock_acquire(&table->lock))
        return 0;
    for (struct child **pp = &table->live; *pp; pp = &(*pp)->next) {
        struct child *c = *pp;
        if ((pid > 0 && c->pid == pid) || (stream && c->stream == stream)) {
            *pp = c->next;
            c->next = table->spare;
            table->spare = c;
            *board_key = c->board_key;
            found = 1;
            break;
        }
    }
    guard_lock_release(&table->lock);
    return found;
}

/* A spawn with its program and arguments.  Not inlined: a fork has none,
 * and its parent, which logs it just after the fork, must not reach down
 * the stack for this buffer (each stack page it touches then is a page
 * fault, the child sharing it). */
static __attribute__((noinline)) void log_spawn_with_argv(unsigned kind, pid_t pid, uint32_t stack,
                                                         unsigned flags, int threads,
                                                         const char *program, char *const argv[])
{
    char payload[1024];
    size_t len = pack_argv(payload, sizeof payload, program, argv);
    guard_log_event(GUARD_EV_SPAWN, stack, (uint64_t)pid, kind, flags, (uint64_t)threads,
                    payload, len);
}

void guard_children_log_spawn(unsigned kind, pid_t pid, uint32_t stack, unsigned flags, int threads,
                     const char *program, char *const argv[])
{
    if (atomic_load(&autoreap_now))
        flags |= GUARD_SPAWN_AUTOREAP;
    if (program || argv)
        log_spawn_with_argv(kind, pid, stack, flags, threads, program, argv);
    else /* what pack_argv makes of neither: an empty program name */
        guard_log_event(GUARD_EV_SPAWN, stack, (uint64_t)pid, kind, flags, (uint64_t)threads, "", 1);
}

/* A spawn that returned a pid to the parent. */
void guard_children_started(unsigned kind, pid_t pid, uint32_t stack, int threads,
                         const char *program, char *const argv[], void *stream,
                         uint32_t board_key)
{
    unsigned flags = threads > 1 ? GUARD_SPAWN_MULTITHREADED : 0;
    if (pid < 0 || (pid == 0 && !stream))
        flags |= GUARD_SPAWN_FAILED;
    guard_children_log_spawn(kind, pid, stack, flags, threads, program, argv);
    if (!(flags & GUARD_SPAWN_FAILED))
        add_child(pid, kind, stack, program, stream, board_key);
}

/* A child is gone: out of the table, its exec (if on the board) and its
 * REAP into the log.  flags: REAP's args[3]. */
static void child_gone(pid_t pid, int status, unsigned call, uint64_t flags, void *stream)
{
    uint32_t board_key;
    int ours = remove_child(pid, stream, &board_key);
    guard_fork_board_take(board_key, pid);
    if (ours || pid > 0 || call == GUARD_REAP_SYSTEM) /* system(): its own child, pid unknown */
        guard_log_event(GUARD_EV_REAP, 0, (uint64_t)pid, (uint64_t)(unsigned)status, call, flags,
                        NULL, 0);
}

void guard_children_reaped(pid_t pid, int status, unsigned call, int asked_for_pid, void *stream)
{
    /* A stopped or continued child is still a child. */
    if (!stream && (WIFSTOPPED(status) || WIFCONTINUED(status)))
        return;
    child_gone(pid, status, call, (uint64_t)asked_for_pid, stream);
}

/* Does the kernel still list pid as a child of this process (running or a
 * zombie)?  waitid with WNOWAIT looks without reaping; *si says how a
 * zombie ended (si_pid is pid only for a zombie). */
static int kernel_has_child(pid_t pid, siginfo_t *si)
{
    memset(si, 0, sizeof *si);
    return guard_sys_waitid(P_PID, (id_t)pid, si, WEXITED | WNOHANG | WNOWAIT) != -ECHILD;
}

/* A wait-family call failed with EFAULT (its status or rusage pointer was
 * bad): the kernel may have reaped a child all the same, and its status is
 * lost.  Every child of the table that the kernel no longer lists
 * (waitid(P_PID, WNOWAIT) says ECHILD) was reaped: its REAP says the
 * status is unknown. */
void guard_children_reconcile(unsigned call, pid_t asked)
{
    pid_t gone[64];
    unsigned n = 0;
    struct child_table *table = table_if_started();
    if (!table || !guard_lock_acquire(&table->lock))
        return;
    for (struct child *c = table->live; c && n < 64; c = c->next) {
        if (c->pid <= 0 || (asked > 0 && c->pid != asked))
            continue;
        siginfo_t si;
        if (!kernel_has_child(c->pid, &si))
            gone[n++] = c->pid;
    }
    guard_lock_release(&table->lock);
    for (unsigned i = 0; i < n; i++)
        child_gone(gone[i], 0, call, (uint64_t)((asked > 0) | GUARD_REAP_STATUS_UNKNOWN), NULL);
}

void guard_children_system_started(const char *command, uint32_t stack, void *token)
{
    add_child(0, GUARD_SPAWN_SYSTEM, stack, command, token, 0);
}

void guard_children_system_failed(void *token)
{
    uint32_t board_key;
    remove_child(0, token, &board_key);
}

void guard_children_waited_for_any(void)
{
    if (!atomic_load_explicit(&waits_for_any_child, memory_order_relaxed))
        atomic_store(&waits_for_any_child, 1);
}

void guard_children_signalled(pid_t pid, int sig)
{
    int ours = 0;
    struct child_table *table = table_if_started();
    if (!table || !table->live || !guard_lock_acquire(&table->lock))
        return;
    for (struct child *c = table->live; c; c = c->next)
        if (c->pid == pid) {
            c->signalled = sig;
            ours = 1;
        }
    guard_lock_release(&table->lock);
    if (ours)
        guard_log_event(GUARD_EV_KILL, 0, (uint64_t)pid, (uint64_t)sig, 0, 0, NULL, 0);
}

/* ---- put-while-child-running (asked by pool.c) ------------------------- */

unsigned guard_children_since(uint64_t seq, struct guard_child_info *out, unsigned max)
{
    unsigned n = 0;
    struct child_table *table = table_if_started();
    if (!table || !table->live || !guard_lock_acquire(&table->lock))
        return 0;
    for (struct child *c = table->live; c && n < max; c = c->next) {
        if (c->spawn_seq <= seq)
            continue;
        /* reaped by means no hook saw (a raw system call, SIGCHLD ignored
         * since): the kernel no longer lists it */
        siginfo_t si;
        if (c->pid > 0 && !kernel_has_child(c->pid, &si))
            continue;
        out[n].pid = c->pid;
        out[n].spawn_tid = c->spawn_tid;
        out[n].spawn_stack = c->spawn_stack;
        if (c->pid > 0)
            guard_fmt(out[n].who, sizeof out[n].who, "child %d (%s)", (int)c->pid, c->program);
        else
            guard_fmt(out[n].who, sizeof out[n].who, "the child of %s(\"%s\")",
                      spawn_names[c->kind < 8 ? c->kind : 0], c->program);
        n++;
    }
    guard_lock_release(&table->lock);
    return n;
}

/* ---- unreaped-child at exit or exec ------------------------------------ */

/* si: what kernel_has_child found for it. */
static void describe_state(const struct child *c, const siginfo_t *si, char *buf, size_t cap)
{
    if (c->pid > 0 && si->si_pid == c->pid) {
        if (si->si_code == CLD_EXITED)
            guard_fmt(buf, cap, "a zombie (exited with status %d)", si->si_status);
        else
            guard_fmt(buf, cap, "a zombie (killed by signal %d)", si->si_status);
    } else if (c->pid > 0) {
        guard_fmt(buf, cap, "still running");
    } else {
        guard_fmt(buf, cap, "never pclose()d");
    }
}

/* The rule of unreaped-child (docs/checks.md): at exit, and at exec for
 * what the new image cannot know about, a child of this image that the
 * kernel still lists is a finding when
 *   - it is a popen() child whose stream was never pclose()d, or
 *   - the program sent it a signal with kill() and never waited for it, or
 *   - it is a zombie that exited while the program went on: it was started
 *     at least UNREAPED_GRACE_NS before, and the program never waits for
 *     "any child" (a reaper's next wait would have reaped it);
 * and never when the child left on purpose: it runs on (a background
 * job, a daemon, a watchdog), it made itself a session leader (setsid),
 * SIGCHLD is ignored (the kernel reaps), or it is already gone (reaped by
 * means no hook saw, which is logged as a REAP of unknown status). */
#define UNREAPED_GRACE_NS (100ull * 1000 * 1000)

enum verdict { LEFT_ALONE, GONE, UNREAPED };

static enum verdict judge(const struct child *c, int at_exec, pid_t my_sid, uint64_t now,
                          siginfo_t *si)
{
    memset(si, 0, sizeof *si);
    if (c->kind == GUARD_SPAWN_SYSTEM)
        return LEFT_ALONE; /* system() runs on another thread and reaps its child */
    if (c->stream)
        return at_exec ? LEFT_ALONE : UNREAPED;
    if (c->pid <= 0 || c->autoreap || c->reported)
        return LEFT_ALONE;
    if (!kernel_has_child(c->pid, si))
        return GONE;
    int zombie = si->si_pid == c->pid;
    long sid = guard_sys_call6(SYS_getsid, c->pid, 0, 0, 0, 0, 0);
    if (sid > 0 && sid != my_sid)
        return LEFT_ALONE; /* a session leader of its own (or its member): detached */
    if (atomic_load(&waits_for_any_child))
        return LEFT_ALONE;
    if (c->signalled)
        return zombie || !at_exec ? UNREAPED : LEFT_ALONE;
    if (zombie && now - c->spawn_ns >= UNREAPED_GRACE_NS)
        return UNREAPED;
    return LEFT_ALONE;
}

/* What a forked child runs now (its exec is its own business): the
 * kernel's name for it, which a zombie keeps too. */
static const char *program_now(const struct child *c, char *buf, size_t cap)
{
    if (strcmp(c->program, "forked") || c->pid <= 0)
        return c->program;
    char path[48];
    guard_fmt(path, sizeof path, "/proc/%d/comm", (int)c->pid);
    int fd = guard_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
    long n = fd >= 0 ? guard_sys_read(fd, buf, cap - 1) : -1;
    if (fd >= 0)
        guard_sys_close(fd);
    if (n <= 1)
        return c->program;
    buf[n - 1] = '\0'; /* the newline */
    return buf;
}

static void report_unreaped(const struct child *c, const siginfo_t *si, const char *why)
{
    char comm[32];
    const char *program = program_now(c, comm, sizeof comm);
    struct guard_finding f;
    guard_finding_init(&f, GUARD_FK_UNREAPED_CHILD, c->spawn_tid);
    f.call = spawn_names[c->kind < 8 ? c->kind : 0];
    f.other_tid = c->pid;
    char state[96];
    describe_state(c, si, state, sizeof state);
    if (c->signalled)
        guard_fmt(f.summary, sizeof f.summary,
                  "child %d (%s) was sent signal %d with kill() but never waited for: %s when "
                  "the process %s", (int)c->pid, program, c->signalled, state, why);
    else if (c->stream)
        guard_fmt(f.summary, sizeof f.summary,
                  "popen(\"%s\") stream was never closed with pclose(): the child is never "
                  "reaped (the process %s)", c->program, why);
    else
        guard_fmt(f.summary, sizeof f.summary,
                  "child %d (%s, started with %s by thread T%d) exited and was never waited for: "
                  "%s when the process %s", (int)c->pid, program, f.call, (int)c->spawn_tid,
                  state, why);
    f.stacks[0] = (struct guard_finding_stack_ref){GUARD_ROLE_SPAWN, c->spawn_stack,
                                                   (uint32_t)c->spawn_tid};
    f.nstacks = c->spawn_stack ? 1 : 0;
    guard_report_finding(&f);
}

/* At exit the table is emptied (nothing runs after); at exec it stays, in
 * case the exec fails, and what was judged is marked. */
GUARD_FORK_PATH void guard_children_at_exit(int at_exec)
{
    struct child_table *table = table_if_started();
    if (!table || !table->live || (!at_exec && atomic_exchange(&exit_checked, 1)))
        return;
    if (!at_exec)
        guard_fork_board_close(); /* children posting from now on tell it themselves */
    if (!guard_lock_acquire(&table->lock))
        return;
    struct child *list = table->live;
    if (!at_exec)
        table->live = NULL;
    pid_t my_sid = (pid_t)guard_sys_call6(SYS_getsid, 0, 0, 0, 0, 0, 0);
    uint64_t now = guard_now_ns();
    pid_t gone[64];
    unsigned ngone = 0;
    const char *why = at_exec ? "replaced itself with exec" : "exited";
    for (struct child *c = list; c; c = c->next) {
        if (!at_exec)
            guard_fork_board_take(c->board_key, c->pid);
        siginfo_t si;
        switch (judge(c, at_exec, my_sid, now, &si)) {
        case UNREAPED:
            report_unreaped(c, &si, why);
            c->reported = 1;
            break;
        case GONE:
            if (ngone < 64)
                gone[ngone++] = c->pid;
            break;
        case LEFT_ALONE:
            break;
        }
    }
    guard_lock_release(&table->lock);
    for (unsigned i = 0; i < ngone; i++) /* out of the table (if still in it), a REAP logged */
        child_gone(gone[i], 0, GUARD_REAP_UNSEEN, GUARD_REAP_STATUS_UNKNOWN, NULL);
}

/* ---- fork-unsafe-call --------------------------------------------------- */

/* Called by hooks of functions that are not async-signal-safe.  In a child
 * forked from a multithreaded process, such a call before exec may deadlock
 * on a lock some other parent thread held at the fork (or read state that
 * thread left half-written). */
void guard_children_fork_unsafe_call(const char *call)
{
    if (!fork_child_threads)
        return;
    struct guard_finding f;
    guard_finding_init(&f, GUARD_FK_FORK_UNSAFE_CALL, guard_gettid());
    f.call = call;
    guard_fmt(f.summary, sizeof f.summary,
              "%s() called in child %d before exec, but the parent had %d threads at fork(): "
              "only async-signal-safe functions are safe there", call, (int)guard_pid,
              fork_child_threads);
    uint32_t stack = guard_fork_walk_capture();
    f.stacks[0] = (struct guard_finding_stack_ref){GUARD_ROLE_CALL, stack, (uint32_t)f.tid};
    f.nstacks = stack ? 1 : 0;
    guard_report_finding(&f);
}


/* ---- SIGCHLD disposition (fault.c's sigaction hook tells us) ----------- */

void guard_children_sigchld_changed(const struct sigaction *now)
{
    int autoreap = now->sa_handler == SIG_IGN || (now->sa_flags & SA_NOCLDWAIT);
    if (atomic_exchange(&autoreap_now, autoreap) != autoreap && guard_is_active())
        guard_log_event(GUARD_EV_SIGCHLD, 0, (uint64_t)autoreap, 0, 0, 0, NULL, 0);
}

void guard_children_init(void)
{
    struct sigaction now;
    if (guard_fault_real_sigaction(SIGCHLD, NULL, &now) == 0) /* SIG_IGN is inherited across exec */
        atomic_store(&autoreap_now, now.sa_handler == SIG_IGN || (now.sa_flags & SA_NOCLDWAIT));
}

/* In the child of fork: the parent's children are not ours. */
GUARD_FORK_PATH void guard_children_after_fork_child(int parent_threads)
{
    /* only what differs: see guard_pool_after_fork_child */
    if (started_a_child)
        started_a_child = 0;
    struct child_table *table = atomic_load_explicit(&table_at, memory_order_relaxed);
    if (table && !table_wiped_at_fork) { /* else the kernel emptied it (not even a read here) */
        guard_lock_reset_in_child(&table->lock);
        if (table->live)
            table->live = NULL;
        if (table->spare)
            table->spare = NULL;
    }
    if (atomic_load_explicit(&exit_checked, memory_order_relaxed))
        atomic_store(&exit_checked, 0);
    if (atomic_load_explicit(&waits_for_any_child, memory_order_relaxed))
        atomic_store(&waits_for_any_child, 0);
    int threads = parent_threads > 1 ? parent_threads : 0;
    if (fork_child_threads != threads)
        fork_child_threads = threads;
}
