/*
 * sup.h — guard-supervise: the supervised mode (docs/supervised.md).
 *
 * A launcher forks the program; the child installs a seccomp filter that
 * sends the watched system calls (spawns, execs, waits, namespace calls;
 * never exit or exit_group) to a listener, hands the listener to the
 * parent and execs the program.  The parent, the supervisor, gets each
 * watched call with the calling thread's id and arguments, looks at the
 * thread (its namespaces, /proc/<tid>/syscall, a copy of its stack) and
 * lets the call continue.  What it sees becomes ordinary libguard logs
 * (common/guard_log.h), one per process image, so the analyzer reads them
 * as it reads the shim's.
 *
 * Parts: main.c (launch, watchdog, the loop), filter.c (the filter, in the
 * child), slog.c (writing a log), procs.c (processes: each watched call,
 * spawns, execs), reap.c (reaps, ends, unreaped-child), crash.c (a static
 * program's crash, through ptrace), restart.c (tracing a process that
 * could see EINTR from a watched call, so that it does not), nscheck.c
 * (namespace events and namespace-off-thread), goroutine.c (which goroutine made a call, for Go
 * programs), peek.c (reading another process: /proc, memory, stacks).
 *
 * Invariants: one thread; the program never holds a descriptor of ours
 * (all are O_CLOEXEC and made after the fork, or closed in the child); an
 * event is written only after the kernel accepted the answer to its
 * notification (an interrupted call comes again and is recorded then).
 */
#ifndef SUP_H
#define SUP_H

#define _GNU_SOURCE
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/seccomp.h>

#include "guard_log.h"
#include "guard_ns_rule.h"

/* Linux 6.6's listener flags, newer than Debian 12's kernel headers. */
#define SUP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, uint64_t)
#define SUP_USER_NOTIF_FD_SYNC_WAKE_UP 1ull

struct sup_options {
    char log_dir[PATH_MAX];  /* absolute */
    const char *guard_options; /* GUARD_OPTIONS as given, for the PROCESS record */
    int verbose;
    int no_goroutines;       /* do not stop threads to read their goroutine */
    int no_crash;            /* do not trace a static program for its crash */
    int no_ptrace;           /* trace nothing: no_crash, and no EINTR guard (restart.c) */
    const char *preload;     /* LD_PRELOAD for the program (--preload): the shim runs too */
};
/* The filter was installed with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: a
 * received call waits for its answer whatever non-fatal signal comes. */
extern int sup_killable_wait;
extern struct sup_options sup_opt;

uint64_t sup_now_ns(void);
void sup_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- peek.c: another process's state ------------------------------------- */

#define PEEK_STACK_BYTES (16u << 10)

/* A thread's registers as far as they are known, DWARF numbering
 * (struct guard_stack_raw): from /proc/<tid>/syscall only rsp and the pc,
 * from ptrace all of them. */
struct peek_stack {
    uint64_t regs[17];
    uint32_t len;
    uint8_t bytes[PEEK_STACK_BYTES];
};

int peek_syscall_regs(pid_t tid, uint64_t *sp, uint64_t *pc, long *nr);
void peek_stack_copy(pid_t pid, struct peek_stack *st);
ssize_t peek_mem(pid_t pid, uint64_t addr, void *buf, size_t len);
size_t peek_string(pid_t pid, uint64_t addr, char *buf, size_t cap);
size_t peek_argv(pid_t pid, uint64_t path, uint64_t argv, char *out, size_t cap);
void peek_ns_inodes(pid_t tid, uint64_t out[8]);
uint64_t peek_ns_inode(pid_t tid, int kind);
pid_t peek_tgid(pid_t tid, pid_t *ppid);
pid_t peek_tgid_pidfd(pid_t tid, pid_t *ppid, int *pidfd);
int peek_pidfd_exit(int pidfd, int *wstatus);
#define PEEK_COMM 32
int peek_stat(pid_t pid, char *state, uint64_t *startstack, int *exit_code, pid_t *session,
              int *threads, char comm[PEEK_COMM]);
#define PEEK_CHILDREN_MAX 8192
size_t peek_children(pid_t pid, pid_t tid, pid_t *out, size_t max);
int peek_threads(pid_t pid);
#define PEEK_TASKS_MAX 4096
size_t peek_tasks(pid_t pid, pid_t *out, size_t max);
ssize_t peek_file(const char *path, char *buf, size_t cap);
void peek_fd_failed(void); /* after a failed open: out of descriptors is said once */
int peek_in_syscall(pid_t tid, long nr);

/* ---- slog.c: one process image's log ------------------------------------- */

struct slog_module_range {
    uint64_t lo, hi;
};

struct slog {
    int fd;               /* -1 until the first record */
    int failed;           /* could not be created: write nothing */
    pid_t pid, ppid;
    int forked_child;     /* a fork child before its exec: FORKED_CHILD */
    uint64_t start_rt, start_mono;
    char exe[PATH_MAX];
    char *args;           /* argv, NUL-separated */
    size_t args_len;
    uint32_t argc;
    uint32_t next_stack;
    uint32_t generation;  /* module map written (0: not yet) */
    struct slog_module_range *ranges;
    size_t nranges;
    char path[PATH_MAX + 128];
};

void slog_init(struct slog *l, pid_t pid, pid_t ppid, int forked, uint64_t start_mono,
               const char *exe, const char *args, size_t args_len);
void slog_close(struct slog *l);
int slog_ready(struct slog *l);
uint32_t slog_stack(struct slog *l, const struct peek_stack *st);
uint32_t slog_stack_flags(struct slog *l, const struct peek_stack *st, uint32_t raw_flags);
void slog_raw(struct slog *l, void *rec, uint32_t type, size_t size);
void slog_event(struct slog *l, uint64_t t, pid_t tid, unsigned kind, uint32_t stack,
                uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, const void *payload,
                size_t len, uint32_t flags);
struct slog_finding {
    unsigned kind, flags;
    pid_t tid, other_tid;
    uint64_t addr;        /* a crash's fault address */
    uint32_t bytes;       /* a crash: the other threads that answered */
    const char *call;
    char summary[256];
    unsigned nstacks;
    struct guard_finding_stack stacks[4];
};
void slog_finding(struct slog *l, uint64_t t, const struct slog_finding *f);
void slog_note(struct slog *l, pid_t tid, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void slog_end(struct slog *l, int32_t status);
/* The shim's logs of process pid in the log directory (not `own`), once
 * the process has ended: an END with its exit status where the shim did
 * not see the exit (Go's raw exit_group). */
void slog_end_shim_logs(pid_t pid, const char *own, int32_t status);

/* ---- goroutine.c: Go programs --------------------------------------------- */

struct go_info {
    int is_go;            /* the image is a Go program */
    int layout_tried;     /* go_layout has looked for it */
    int offsets_ok;       /* the runtime's g and m layout is known */
    char version[32];
    uint32_t g_m, g_goid, g_lockedm, m_procid, m_curg;
};
struct goroutine {
    int known;            /* the thread ran a goroutine we could read */
    int64_t goid;
    int locked;           /* locked to its thread (runtime.LockOSThread) */
};
void go_inspect(pid_t pid, struct go_info *gi);
int go_layout(pid_t pid, struct go_info *gi);
/* Seize thread tid and ask it to stop (before its call is answered);
 * then, once answered, wait for the stop at the call's return, take its
 * registers (st->regs[0], rax: the call's result), its stack and its
 * goroutine, and let it go.  0 on success. */
int go_capture_begin(pid_t pid, pid_t tid);
int go_capture_end(pid_t pid, pid_t tid, const struct go_info *gi, struct peek_stack *st,
                   struct goroutine *g);

/* ---- procs.c and reap.c ---------------------------------------------------- */

/* A notification being handled: the kernel's request and our answer. */
struct notif {
    int fd;                          /* the listener */
    struct seccomp_notif *req;
    struct seccomp_notif_resp *resp;
    uint64_t t;                      /* when it was received (CLOCK_MONOTONIC) */
};
/* Let the call go on; 0 when the kernel took the answer (else the call was
 * interrupted and will come again: record nothing for this one). */
int notif_continue(struct notif *n);
int notif_valid(struct notif *n);

/* The pids of live supervised processes, in memory shared with the
 * watchdog, which kills them if the supervisor dies (main.c). */
#define SUP_SHARED_MAX 4096
extern volatile uint32_t *sup_shared_pids;

int filter_install(int *killable);

struct proc;
void procs_init(int epfd);
struct proc *procs_top(pid_t pid, uint64_t start);
void procs_handle(struct notif *n);
void procs_pidfd_ready(struct proc *p);
void procs_reaped(pid_t pid, int status);
void procs_tick(void);
int procs_pending(void);
int procs_live(void);
void procs_finish(void);

/* ---- crash.c: the crash recorder for a static program (not Go) ---------- */

int crash_wanted(pid_t pid, const char *path);
void crash_attach(pid_t pid);
int crash_stop(pid_t tid, int status);
/* pid's threads are traced by the crash recorder (a goroutine capture
 * then only interrupts them, and lets them go on with PTRACE_CONT). */
int crash_traced(pid_t pid);

/* ---- restart.c: no EINTR from a watched call --------------------------- */

struct user_regs_struct;
/* a stop of a thread traced by restart.c: 1 when it was one (it goes on) */
int restart_stop(pid_t tid, int status);
int restart_traced(pid_t pid);
/* a copy of the supervisor traces nothing (the kernel detached the
 * original's tracees when it exited): seized again at their next call */
void restart_forget(void);
/* at a signal's delivery stop: an interrupted spawn, exec or kill is made
 * again (its -ERESTARTSYS becomes -ERESTARTNOINTR); 1 when rewritten */
int restart_fix_call(pid_t tid, struct user_regs_struct *r);

/* ---- nscheck.c ------------------------------------------------------------ */

struct nscheck;
struct nscheck *ns_new(void);
void ns_free(struct nscheck *s);
/* unshare/setns: before = the thread's namespaces when it made the call;
 * have_rc: rc is the call's result (else it is inferred: 0 when the
 * namespaces changed, -1 when not). */
void ns_changed(struct nscheck *s, struct slog *l, uint64_t t, pid_t tid, unsigned call,
                uint64_t flags, const uint64_t before[8], const uint64_t after[8], int have_rc,
                long rc, uint32_t stack, const struct goroutine *g);
/* mount, umount2, pivot_root, chroot: the check and the timeline record;
 * exec and spawns (call_id 0): the check for every kind.  ns: the
 * thread's namespaces, read before its call went on. */
void ns_sensitive(struct nscheck *s, struct slog *l, uint64_t t, pid_t tid, unsigned call_id,
                  const char *call, const char *target, uint64_t mount_flags, uint32_t stack,
                  const struct goroutine *g, const uint64_t ns[8], int have_rc, long rc);
/* Has any thread or goroutine a move the checks may judge a call by? */
int ns_any_move(const struct nscheck *s);

#endif /* SUP_H */
