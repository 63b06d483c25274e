/*
 * guard_internal.h — what the rooms of the shim share, one section per
 * file (the section names its file; a function's name starts with it:
 * guard_log_* is log.c's).  The fork and spawn subsystem has its own
 * header, fork/fork.h; the hook idiom is hook.h; the shim's own system
 * calls are sys.h.
 */
#ifndef GUARD_INTERNAL_H
#define GUARD_INTERNAL_H

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "guard_log.h"
#include "sys.h"

#include "fork/fork.h"

/* ---- options (options.c) ------------------------------------------------ */
struct guard_options {
    char log_dir[512];
    int halt_on_error;
    int verbosity;
    unsigned max_frames;
    int pool_poison;          /* fill returned objects with the poison byte */
    int pool_protect;         /* PROT_NONE the whole pages of returned objects */
    unsigned max_protected;   /* bound on objects protected at once */
    unsigned pool_protect_young;  /* an object's first N puts are always protected */
    unsigned pool_protect_sample; /* after those, one put in N (1: every put, 0: none) */
    unsigned pool_max_objects; /* bound on objects remembered out of their pools (0: none) */
    int report_stderr;        /* print the immediate report */
    int log;                  /* write the event log at all */
    int log_always;           /* create the log at start-up, even if nothing is recorded */
    unsigned log_chunk_kb;    /* log file grows in chunks of this size */
    /* the field profile's bounds (docs/field.md) */
    unsigned log_ring_kb;     /* pool events go to a ring of this size (0: kept in full) */
    unsigned log_max_mb;      /* the log file's size bound (0: only the built-in one) */
    unsigned keep_logs;       /* logs of ended runs of this executable kept (0: all) */
    char profile[16];         /* the preset applied: "test" or "field" */
    int follow_exec;          /* keep LD_PRELOAD in the environment of exec and posix_spawn */
    unsigned vdso_min_headroom; /* stack a time call needs below its caller (bytes) */
    int vdso_measure;         /* measure this host's vDSO at start-up */
    int crash_handler;        /* record fatal signals (the crash flight recorder) */
    unsigned crash_wait_ms;   /* how long to wait for other threads' stacks */
    unsigned crash_events;    /* recent events per thread the report shows */
    char suppressions[512];   /* file of KIND:PATTERN rules */
    char report_path[512];    /* the immediate reports go here instead of stderr */
    int fork_fast;            /* the fork subsystem's fast path (fork/fork.h) */
    int symbolize;            /* name frames in the immediate report (symbolizer.c) */
    char symbolizer[512];     /* guard-analyze to run for it; "": beside the library */
    unsigned symbolize_timeout_ms; /* per report */
    int help;                 /* list the keys on stderr */
};
extern struct guard_options guard_opt;

/* Parse GUARD_OPTIONS into guard_opt; warns on stderr about unknown keys and
 * bad values.  Returns nothing: bad input never stops the program. */
void guard_options_parse(const char *text);
void guard_options_defaults(void);
extern const char *guard_options_text; /* GUARD_OPTIONS as given, or "" */

/* ---- the shim's state: start-up, exit, ids and clocks (guard.c) --------
 * guard.c's names are plain guard_* (guard_pid, guard_enter, ...). */
extern pid_t guard_pid;                /* cached: getpid() is a system call */

pid_t guard_gettid(void);              /* cached per thread */
uint64_t guard_now_ns(void);           /* CLOCK_MONOTONIC */
uint64_t guard_now_ns_on(clockid_t clock);
uint64_t guard_now_coarse_ns(void);    /* CLOCK_MONOTONIC_COARSE: tick resolution, cheap */
int guard_is_active(void);             /* initialised and not inert */
const char *guard_exe_path(void);      /* /proc/self/exe, read once per process image */
void guard_halt(void) __attribute__((noreturn)); /* halt_on_error */
void guard_set_tid(pid_t tid);         /* a fork child's thread is its main thread */

/* ---- /proc/self/maps (maps.c) -------------------------------------------- */
struct guard_maps_line {
    uintptr_t lo, hi;
    const char *perms; /* "rwxp ..." up to the end of the line */
    const char *path;  /* the first '/' of the line, or NULL */
};
/* fn on each line in address order until it returns non-zero, which is
 * returned (0 at the end, or when the file cannot be read). */
int guard_maps_each(int (*fn)(const struct guard_maps_line *l, void *arg), void *arg);

/* ---- the event log (log.c) ---------------------------------------------- */
int guard_log_open(pid_t ppid, int forked_child);
int guard_log_created(void);           /* the file exists (it is made at the first record) */
/* When the forking thread called fork, for the child's log: the child
 * reads no clock of its own before its first record. */
struct guard_fork_stamp {
    pid_t pid; /* the forking process */
    uint64_t monotonic_ns, realtime_ns;
};
/* stamp: when the parent called fork, or NULL (see take_start_time) */
void guard_log_after_fork_child(pid_t parent, const struct guard_fork_stamp *stamp);
/* Reserve a record of `size` bytes (rounded up to 8) and return a pointer
 * to fill, or NULL (log off, full, or reentered from a signal handler while
 * this thread was growing the log).  The caller fills all but the 8-byte
 * header; guard_log_commit() writes the header and so publishes it. */
void *guard_log_reserve(uint16_t type, uint32_t size);
void guard_log_commit(void *rec, uint16_t type, uint32_t size);
void guard_log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void guard_log_event(uint16_t kind, uint32_t stack_id, uint64_t a0, uint64_t a1,
                     uint64_t a2, uint64_t a3, const char *payload, size_t payload_len);
void guard_log_end(int status);
const char *guard_log_path(void);
/* Changes when the log moves to a new file (fork child): state that says
 * "the log already has this" is valid only for the same epoch. */
uint32_t guard_log_epoch(void);
uint32_t guard_log_dropped(void);
/* The log's parts that the ring and the retention of old logs use. */
void *guard_log_stream_reserve(uint16_t type, uint32_t size); /* never the ring */
uint32_t guard_log_file_epoch(void);   /* changes with the file only (fork child) */
int guard_log_here(void);              /* this process may write the log (a raw clone may not) */
void guard_log_header_flag(uint32_t flag); /* or a GUARD_FILE_* flag into the header */
int guard_log_ring_room(uint32_t size); /* log_max_mb leaves room for a new ring slot */

/* ---- the event ring (log_ring.c): pool events when log_ring_kb > 0 ---- */
void *guard_log_ring_reserve(uint32_t size); /* NULL: dropped */
uint32_t guard_log_ring_refills(void);       /* slots refilled so far (only grows) */
void guard_log_ring_after_fork_child(void);

/* ---- the log file (log_file.c): its name, creation, PROCESS record ---- */
/* Create the log in log_dir (0600, a fresh name); path receives its
 * absolute name ("" on failure).  The descriptor, or -1. */
int guard_log_file_create(const char *exe, char *path, size_t cap);
void guard_log_file_process_record(const char *exe, size_t exe_len);

/* ---- retention of older logs (log_keep.c): keep_logs ------------------ */
/* Remove the logs in dir of ended runs of exe beyond the newest keep. */
void guard_log_keep_prune(const char *dir, const char *exe, unsigned keep);

/* ---- stacks (stack.c) --------------------------------------------------- */
/* Capture the caller's stack (skipping `skip` innermost frames of the shim)
 * and return its de-duplicated id (>= 1), writing the STACK record the first
 * time the stack is seen.  0 when no stack could be taken. */
uint32_t guard_stack_capture(int skip);
/* Load the unwinder if it is not yet: call at the top of hooks of calls a
 * signal handler cannot make (stack.c says why). */
void guard_stack_prepare(void);
unsigned guard_stack_capture_raw(int skip, uint64_t *pcs, unsigned max);
uint32_t guard_stack_intern(const uint64_t *pcs, unsigned n);
/* The same from a signal context: frame 0 is the interrupted instruction. */
uint32_t guard_stack_capture_signal(void *ucontext);
/* The same from a context saved by swapcontext (frames are return addresses). */
uint32_t guard_stack_capture_context(void *ucontext);
/* The frames of a stack id, for the immediate report.  Returns nframes. */
unsigned guard_stack_frames(uint32_t id, const uint64_t **pcs);
void guard_stack_init(void);
void guard_stack_after_fork_child(void);
/* libunwind's validation pipe, which has no descriptors (stack.c says
 * why): numbers above the largest the kernel can hand out (its nr_open is
 * at most INT_MAX rounded down to 64).  guard_unwinder_fd_io is what a
 * read or a write on one returns, errno set. */
#define GUARD_UNWINDER_FD_READ (INT_MAX - 1)
#define GUARD_UNWINDER_FD_WRITE INT_MAX
static inline int guard_unwinder_fd(long fd)
{
    return __builtin_expect(fd >= GUARD_UNWINDER_FD_READ && fd <= GUARD_UNWINDER_FD_WRITE, 0);
}
long guard_unwinder_fd_io(long fd, uintptr_t addr);
/* Is pc in the shim's own code? (frames of ours are left out of stacks) */
int guard_stack_in_shim(uintptr_t pc);
/* A copy of a stack (registers in struct guard_stack_raw's order, the
 * memory from regs[7] up) as a raw stack for the analyzer to unwind; with
 * join->stack, the unwind ends in that stack (struct guard_stack_join).
 * Returns its id. */
uint32_t guard_stack_write_raw_copy(const uint64_t regs[17], const void *bytes, uint32_t len,
                                    const struct guard_stack_join *join);

/* ---- modules (modules.c) ------------------------------------------------ */
void guard_modules_record(void);       /* write a new module map generation */
uint32_t guard_modules_generation(void);
void guard_modules_refresh(void);      /* new generation if dlopen/dlclose changed the set */

/* ---- immediate report (report.c) --------------------------------------- */
/* A finding as the checks describe it; report.c writes it to stderr and
 * to the log. */
struct guard_finding_stack_ref {
    uint32_t role;
    uint32_t stack_id;
    uint32_t tid;
};
struct guard_finding {
    unsigned kind;
    unsigned flags;
    pid_t tid;
    const void *pool;
    const void *obj;
    size_t size;
    uintptr_t addr;
    long offset;
    unsigned access;
    unsigned bytes;
    pid_t other_tid;
    const char *call;
    char summary[256];
    unsigned nstacks;
    struct guard_finding_stack_ref stacks[4];
};
void guard_report_finding(const struct guard_finding *f);
/* A finding of `kind` on thread tid, every other field empty. */
static inline void guard_finding_init(struct guard_finding *f, unsigned kind, pid_t tid)
{
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->tid = tid;
}

/* ---- suppressions (suppress.c) ----------------------------------------- */
void guard_suppress_load(const char *path);
int guard_suppress_rule(const struct guard_finding *f); /* rule index + 1, or 0 */
int guard_suppress_glob(const char *pattern, const char *s);

/* ---- formatting (fmt.c) ---------------------------------------------------
 * Async-signal-safe formatting into a fixed buffer (no malloc, no locale).
 * Supports %s %d %u %ld %lu %zu %x %lx %p %c %%; returns the length. */
size_t guard_fmt(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t guard_fmt_va(char *buf, size_t cap, const char *fmt, va_list ap);
void guard_fmt_stderr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void guard_fmt_write_all(int fd, const char *s, size_t len); /* errno untouched */
void guard_fmt_fd(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- locks (lock.c) -------------------------------------------------------
 * A spinlock that knows its owner: a signal handler that interrupts the
 * owning thread and wants the same lock gets a failure instead of a
 * deadlock.  Hold it only for short, non-blocking work. */
struct guard_lock {
    _Atomic int owner; /* tid, 0 when free */
};
int guard_lock_acquire(struct guard_lock *lock);  /* 0: would self-deadlock */
void guard_lock_release(struct guard_lock *lock);
/* In a fork child, which has one thread: a lock some parent thread held is
 * free.  Stored only if held: each page the child writes is a page copied
 * for it before its exec. */
static inline void guard_lock_reset_in_child(struct guard_lock *lock)
{
    if (atomic_load_explicit(&lock->owner, memory_order_relaxed))
        atomic_store(&lock->owner, 0);
}

/* ---- pool checks (pool.c) and faults (fault.c) ------------------------- */
/* A fault at addr: is it inside a returned, protected object?  If so,
 * report, unprotect and return 1 so the access can be retried. */
int guard_pool_fault(uintptr_t addr, unsigned access, void *ucontext);
/* A system call failed with EFAULT: does [buf, buf+len) overlap a returned
 * object?  If so, report with the call's name, unprotect and return 1 so
 * the caller may retry the call.  Called inside the shim (io.c's hooks). */
int guard_pool_efault(const char *call, const void *buf, size_t len, unsigned access);
void guard_fault_install(void);
/* The crash flight recorder (crash.c): called from the fatal signal's
 * handler before the default action runs. */
void guard_crash_record(int sig, siginfo_t *info, void *ucontext);
void guard_crash_init(void); /* at start-up: the recorder's own stack */
struct sigaction;
int guard_fault_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
void guard_pool_after_fork_child(void);

/* ---- child processes: the children checks (children.c) ------------------ */
struct guard_child_info {
    pid_t pid;
    pid_t spawn_tid;
    uint32_t spawn_stack;
    char who[128]; /* "child 123 (prog)", or "popen(\"cmd\")" / "system(\"cmd\")" */
};
uint64_t guard_children_seq_next(void); /* orders gets and spawns */
uint64_t guard_children_seq_now(void);  /* the last number handed out; reads only */
void guard_children_log_spawn(unsigned kind, pid_t pid, uint32_t stack, unsigned flags, int threads,
                              const char *program, char *const argv[]);
void guard_children_started(unsigned kind, pid_t pid, uint32_t stack, int threads,
                            const char *program, char *const argv[], void *stream,
                            uint32_t board_key);
void guard_children_reaped(pid_t pid, int status, unsigned call, int asked_for_pid, void *stream);
/* system(command) runs on this thread until guard_children_reaped(0, ...,
 * token) or guard_children_system_failed(token): a child for
 * put-while-child-running meanwhile, its pid unknown. */
void guard_children_system_started(const char *command, uint32_t stack, void *token);
void guard_children_system_failed(void *token);
void guard_children_signalled(pid_t pid, int sig);
void guard_children_reconcile(unsigned call, pid_t asked); /* a wait call failed with EFAULT */
unsigned guard_children_since(uint64_t seq, struct guard_child_info *out, unsigned max);
/* Judge the children left at exit (at_exec 0) or at an exec (1). */
void guard_children_at_exit(int at_exec);
void guard_children_waited_for_any(void); /* a wait for "any child" was made */
void guard_children_fork_unsafe_call(const char *call);
struct sigaction;
void guard_children_sigchld_changed(const struct sigaction *now);
void guard_children_init(void);
void guard_children_after_fork_child(int parent_threads);

/* ---- alternate signal stacks (altstack.c) --------------------------------- */
void guard_altstack_init(void); /* at start-up, on the thread that starts the shim */
void guard_altstack_give(void); /* this thread: one of ours if the program set none */

/* ---- stdio buffers (stdio.c) ---------------------------------------------- */
struct guard_stdio_owner {
    void *stream;      /* the FILE whose buffer it is */
    uint32_t stack;    /* where the buffer was given (setvbuf, setbuffer, setbuf) */
    pid_t tid;
};
/* Is [obj, obj + size) part of a buffer a stdio stream still uses? */
int guard_stdio_buffer_of(const void *obj, size_t size, struct guard_stdio_owner *out);

/* ---- threads (threads.c) ------------------------------------------------- */
int guard_threads_count(void); /* threads of this process */
/* The same, always from procfs: glibc's flag, which the above trusts
 * first, misses threads made with a raw clone system call. */
int guard_threads_count_procfs(void);

/* ---- namespaces (ns.c) ------------------------------------------------ */
void guard_ns_before_spawn_or_exec(const char *call);
void guard_ns_clone(int flags, long pid, int err);
void guard_ns_after_fork_child(void);

/* ---- NSS (nss.c) ---------------------------------------------------------- */
void guard_nss_at_exit(void);
void guard_nss_after_fork_child(void);

/* ---- time calls (clock.c, vdso_measure.c) ------------------------------ */
/* At start-up, on the initial thread (whose stack grows, unlike others'). */
void guard_clock_init(void);
int guard_clock_real_gettime(clockid_t clk, struct timespec *ts);
void guard_clock_set_threshold(unsigned long bytes);
unsigned long guard_clock_threshold(void);
/* How deep below the caller's stack pointer this host's vDSO time calls
 * touch memory, measured by running them on a fresh stack (bytes; 0 if the
 * measurement failed). */
unsigned long guard_vdso_measure(void);
void guard_vdso_measure_init(void);
void guard_vdso_measure_once(void); /* under the slow path's lock */

/* ---- memory (alloc.c) ------------------------------------------------------
 * Memory for the shim's own tables: anonymous mmap, never malloc (hooks run
 * in signal handlers and in the middle of the program's malloc). */
void *guard_alloc(size_t size);
/* Zeroed memory that a fork child sees as zeros again and that a fork
 * leaves writable for this process (MADV_WIPEONFORK; see alloc.c). */
void *guard_alloc_parent_only(size_t size);
void *guard_alloc_parent_only_pages(size_t size); /* page-aligned */
int guard_alloc_parent_only_wiped(void); /* it really is wiped in a fork child */
/* The object *at points to, made at the first call: size bytes of
 * parent-only memory, or `fallback` when none can be had.  *wiped is set
 * by the call that makes it: whether a fork child finds it zeroed (else
 * the child's handler must empty it).  Threads racing agree on one. */
void *guard_alloc_parent_only_object(_Atomic(void *) *at, size_t size, void *fallback, int *wiped);
void guard_alloc_after_fork_child(void);

/* ---- memory layout ----------------------------------------------------------
 * A forked child runs only a little of our code and writes a few of our
 * variables before it execs; every page of code it runs and every page of
 * data it writes is a page fault (and a copy) per child.  So that code and
 * those variables are each gathered in a section of their own, a page or
 * two, instead of being spread over all of ours. */
#define GUARD_FORK_PATH __attribute__((section(".text.hot.guard_fork_path")))
#define GUARD_FORK_WRITTEN __attribute__((section("guard_fork_written")))
/* Buffers of a kilobyte or more go after every small variable (.lbss
 * follows .bss in the link): the small ones then share a few pages, and
 * each page a process has touched is one more for every fork to copy. */
#define GUARD_LARGE __attribute__((section(".lbss")))

#endif /* GUARD_INTERNAL_H */
