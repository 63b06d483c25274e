/*
 * guard_log.h — the on-disk event log, shared by the shim (writer) and the
 * analyzer (reader).  This header is the single definition of the format;
 * docs/log-format.md explains it in prose.  Any change that alters the
 * layout of an existing record bumps GUARD_LOG_VERSION; new record types,
 * event kinds, finding kinds and stack roles may be appended without a bump
 * (readers skip record types they do not know, by size).
 *
 * Layout: a fixed 64-byte file header, then a stream of records.  Every
 * record starts with struct guard_rec and is padded to a multiple of 8
 * bytes.  All integers are in the writer's native byte order (the header's
 * magic tells a reader whether it matches).
 */
#ifndef GUARD_LOG_H
#define GUARD_LOG_H

#include <stdint.h>
#include <string.h>

#include "guard_kinds.h"

#define GUARD_LOG_MAGIC 0x474f4c4452415547ULL /* "GUARDLOG" little-endian */
#define GUARD_LOG_VERSION 1u
#define GUARD_REC_SYNC 0xA11Cu    /* first half-word of every record */
#define GUARD_REC_ALIGN 8u
#define GUARD_REC_MAX_SIZE (64u << 10) /* no record is larger than 64 KiB */
#define GUARD_MAX_FRAMES 256u     /* upper bound of the max_frames option */

struct guard_file_header {
    uint64_t magic;              /* GUARD_LOG_MAGIC */
    uint32_t version;            /* GUARD_LOG_VERSION */
    uint32_t header_size;        /* sizeof(struct guard_file_header) */
    uint32_t pid;
    uint32_t ppid;               /* parent pid: a forked child names its parent */
    uint64_t start_realtime_ns;  /* CLOCK_REALTIME when the process started (a fork child: its fork) */
    uint64_t start_monotonic_ns; /* CLOCK_MONOTONIC, likewise; event times use this clock */
    uint32_t flags;              /* GUARD_FILE_* */
    uint32_t page_size;
    uint64_t reserved[2];
};
_Static_assert(sizeof(struct guard_file_header) == 64, "file header is 64 bytes");

enum guard_file_flags {
    GUARD_FILE_FORKED_CHILD = 1u << 0, /* created in a fork child; ppid's log holds the history before */
    GUARD_FILE_NO_SPACE = 1u << 1,     /* the log stopped growing: its file system was full (or
                                        * the file gone); what came after is not in it */
    GUARD_FILE_RING = 1u << 2,         /* pool events are in RING slots (log_ring_kb): only the
                                        * latest are kept */
};

struct guard_rec {
    uint16_t sync;  /* GUARD_REC_SYNC: lets a reader resynchronise after a torn record */
    uint16_t type;  /* enum guard_rec_type */
    uint32_t size;  /* total size including this header, multiple of 8, <= GUARD_REC_MAX_SIZE */
};

enum guard_rec_type {
    GUARD_REC_PAD = 1,     /* filler up to the end of a log chunk: skip */
    GUARD_REC_PROCESS = 2, /* struct guard_rec_process */
    GUARD_REC_MODULE = 3,  /* struct guard_rec_module */
    GUARD_REC_STACK = 4,   /* struct guard_rec_stack */
    GUARD_REC_EVENT = 5,   /* struct guard_rec_event */
    GUARD_REC_FINDING = 6, /* struct guard_rec_finding */
    GUARD_REC_NOTE = 7,    /* struct guard_rec_note */
    GUARD_REC_END = 8,     /* struct guard_rec_end: the process ended normally */
    GUARD_REC_POOL_PUT = 9,  /* struct guard_rec_pool: a put, in short form */
    GUARD_REC_POOL_GET = 10, /* struct guard_rec_pool: a get, in short form */
    GUARD_REC_HOST = 11,     /* struct guard_rec_host: facts about this host, once */
    GUARD_REC_CRASH = 12,    /* struct guard_rec_crash: the process is dying of a signal */
    GUARD_REC_THREAD_STACK = 13, /* struct guard_rec_thread_stack: another thread at the crash */
    GUARD_REC_RING = 14,     /* struct guard_rec_ring: one slot of the event ring, records inside */
};

/* GUARD_REC_RING: one slot of the event ring (the log_ring_kb option).
 * The slot is an ordinary record of the stream (a reader that does not
 * know the type skips it by its size); inside, after this fixed part,
 * are ordinary EVENT, POOL_PUT and POOL_GET records, one thread's, each
 * committed header last as in the stream, up to the first all-zero
 * header or the slot's end.  A slot is refilled when the ring is full:
 * seq goes to 0, the records are zeroed, then seq takes a new value, so
 * a reader sees either the old fill, the new one, or seq 0 (nothing).
 * Slots read in seq order give each thread's events in the order made. */
struct guard_rec_ring {
    struct guard_rec rec;  /* size: the whole slot, its records included */
    uint64_t seq;          /* fill order in this file, from 1; 0: nothing in it counts */
    uint32_t tid;          /* the thread whose events fill it */
    uint32_t index;        /* the slot's place in the ring */
    uint64_t reserved;
};
#define GUARD_RING_SLOT_SIZE (16u << 10) /* what the shim writes; readers take rec.size */

/* GUARD_REC_CRASH: written by the crash flight recorder from the signal
 * handler, before the process dies of the signal.  A FINDING of kind crash
 * follows it; then one THREAD_STACK per other thread that answered. */
#define GUARD_CRASH_NREGS 23 /* x86-64 gregs: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp,
                              * rip, eflags, csgsfs, err, trapno, oldmask, cr2 */
struct guard_rec_crash {
    struct guard_rec rec;
    uint64_t time_ns;
    uint32_t tid;
    int32_t signo;
    int32_t si_code;
    uint32_t stack_id;        /* the crashing thread, from the signal context */
    uint64_t fault_addr;      /* si_addr */
    uint32_t threads_signalled; /* other threads asked for their stacks */
    uint32_t nregs;
    uint64_t regs[GUARD_CRASH_NREGS];
};

struct guard_rec_thread_stack {
    struct guard_rec rec;
    uint64_t time_ns;
    uint32_t tid;
    uint32_t stack_id;
};

/* GUARD_REC_HOST: what the shim measured about the host at start-up. */
struct guard_rec_host {
    struct guard_rec rec;
    uint64_t vdso_base;        /* AT_SYSINFO_EHDR */
    uint32_t vdso_depth;       /* bytes below the caller's frame the vDSO time calls touched
                                * (page resolution, an upper bound); 0: not measured */
    uint32_t vdso_threshold;   /* the headroom vdso-low-stack checks against */
    uint32_t vdso_min_headroom;/* the option's value */
    uint32_t page_size;
};

/* GUARD_REC_PROCESS: written once, right after the file header.
 * Payload after the fixed part: exe path (exe_len bytes, no NUL), then the
 * command line as argc NUL-terminated strings (args_len bytes in all), then
 * the GUARD_OPTIONS string (options_len bytes, no NUL). */
struct guard_rec_process {
    struct guard_rec rec;
    uint32_t argc;
    uint32_t exe_len;
    uint32_t args_len;
    uint32_t options_len;
    uint32_t main_tid;
    uint32_t reserved;
};

/* Fill a PROCESS record's fields and payload (exe, the NUL-separated
 * arguments, the options) into p, which has room for all three; the
 * writer sets rec.type and rec.size last. */
static inline void guard_rec_process_fill(struct guard_rec_process *p, uint32_t argc, uint32_t main_tid,
                                          const char *exe, size_t exe_len, const char *args,
                                          size_t args_len, const char *opts, size_t opt_len)
{
    p->argc = argc;
    p->exe_len = (uint32_t)exe_len;
    p->args_len = (uint32_t)args_len;
    p->options_len = (uint32_t)opt_len;
    p->main_tid = main_tid;
    p->reserved = 0;
    char *out = (char *)(p + 1);
    memcpy(out, exe, exe_len);
    if (args_len)
        memcpy(out + exe_len, args, args_len);
    memcpy(out + exe_len + args_len, opts, opt_len);
}

/* GUARD_REC_MODULE: one loaded ELF object.  A module map is a run of MODULE
 * records sharing one generation number; a new generation is written after
 * every dlopen/dlclose.  Payload: nsegs struct guard_segment, then the
 * build-id (build_id_len bytes), then the path (path_len bytes, no NUL). */
struct guard_segment {
    uint64_t vaddr;  /* p_vaddr of the PT_LOAD segment (add base for the runtime address) */
    uint64_t memsz;
    uint32_t flags;  /* p_flags: PF_X, PF_W, PF_R */
    uint32_t reserved;
};

struct guard_rec_module {
    struct guard_rec rec;
    uint64_t base;        /* load bias (dlpi_addr) */
    uint32_t generation;  /* module map generation this record belongs to */
    uint32_t path_len;
    uint16_t build_id_len;
    uint16_t nsegs;
    uint32_t flags;       /* GUARD_MODULE_* */
};

enum guard_module_flags {
    GUARD_MODULE_MAIN = 1u << 0, /* the main executable */
    GUARD_MODULE_VDSO = 1u << 1, /* the kernel's vDSO (no file on disk) */
};

/* GUARD_REC_STACK: a de-duplicated call stack.  pcs[] are lookup addresses,
 * innermost first: return addresses have already had 1 subtracted so that
 * they fall inside the call instruction; a frame taken from a signal context
 * (the faulting instruction) is exact.  Ids are unique per log file. */
struct guard_rec_stack {
    struct guard_rec rec;
    uint32_t id;          /* >= 1; 0 means "no stack" everywhere */
    uint32_t nframes;
    uint32_t generation;  /* module map generation current at capture */
    uint32_t flags;
    uint64_t pcs[];
};

/* flags of GUARD_REC_STACK */
#define GUARD_STACK_RAW 1u /* no pcs[] (nframes 0): a struct guard_stack_raw follows, for the
                              analyzer to unwind (the shim had no unwinder loaded yet) */
#define GUARD_STACK_RAW_JOIN 2u /* with GUARD_STACK_RAW: a struct guard_stack_join follows the
                                   copied bytes (at the next multiple of 8) */
#define GUARD_STACK_RAW_ZRUNS 4u /* with GUARD_STACK_RAW: the len bytes are written as runs,
                                    each a u16 count of zero bytes, a u16 count of bytes that
                                    follow as they are, then those bytes, until len bytes are
                                    told; a join follows the last run (guard-supervise: a Go
                                    stack copy is mostly zeros) */

/* A stack the shim could not walk itself: the registers and a copy of the
 * stack memory above the stack pointer.  The analyzer unwinds it with the
 * modules' call frame information, as a debugger does with a core file. */
struct guard_stack_raw {
    uint64_t regs[17];    /* DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8..r15, 16: pc */
    uint64_t skip_lo, skip_hi; /* leading frames with a pc in [lo, hi) (the shim's) are dropped */
    uint32_t flags;       /* GUARD_RAW_* */
    uint32_t len;         /* bytes of stack memory from regs[7] (rsp) up */
    uint8_t bytes[];
};
#define GUARD_RAW_PC_EXACT 1u /* regs[16] is the faulting instruction, not a return address */

/* A raw stack that ends in another: a forked child's exec, copied from the
 * exec's caller up to the fork's frames.  Where the unwind reaches a frame
 * whose pc is frame 1 of stack `stack` (the fork's) and whose stack
 * pointer is frame1_sp, or frame 2 at frame2_sp (0: none), the rest of the
 * stack is `stack` from that frame on. */
struct guard_stack_join {
    uint64_t frame1_sp, frame2_sp;
    uint32_t stack;
    uint32_t reserved;
};

/* Event kinds: what the program did.  args[] meaning per kind is given in
 * docs/log-format.md; unused args are 0. */
enum guard_event_kind {
    GUARD_EV_POOL_PUT = 1,    /* args: pool, obj, size, GUARD_PUT_* flags */
    GUARD_EV_POOL_GET = 2,    /* args: pool, obj, size, 0 */
    GUARD_EV_THREAD = 3,      /* a thread was first seen; args: 0 */
    GUARD_EV_SIGNAL_HANDLER = 4, /* the program set a handler; args: signo, handler, flags */
    GUARD_EV_DLOPEN = 5,      /* args: handle, new module generation; payload: path */
    GUARD_EV_DLCLOSE = 6,     /* args: handle, new module generation */
    GUARD_EV_EXIT = 7,        /* exit()/return from main; args: status */
    GUARD_EV_FORK = 8,        /* reserved (spawns of every kind are GUARD_EV_SPAWN) */
    GUARD_EV_SPAWN = 9,       /* a child process was started; args: pid (0 unknown: system/popen),
                               * enum guard_spawn_kind, flags (GUARD_SPAWN_*), thread count;
                               * payload: program NUL argv[0] NUL argv[1] ... (bounded) */
    GUARD_EV_REAP = 10,       /* a child was reaped; args: pid, wait status, enum guard_reap_call,
                               * 1 if the caller asked for that pid, 0 for any child, or'd with
                               * GUARD_REAP_STATUS_UNKNOWN when the status was lost (the
                               * caller's status pointer was bad: the kernel reaped anyway) */
    GUARD_EV_EXEC = 11,       /* this process is about to exec; args: 0; payload: path NUL argv... */
    GUARD_EV_EXEC_FAILED = 12,/* the exec returned; args: errno */
    GUARD_EV_KILL = 13,       /* kill() sent to a child; args: pid, signal */
    GUARD_EV_SIGCHLD = 14,    /* SIGCHLD disposition changed; args: 1 if children are now auto-reaped */
    GUARD_EV_NS_CHANGE = 15,  /* unshare/setns/clone changed this thread's namespaces;
                               * args: enum guard_ns_call, flags (CLONE_NEW*), return value, errno;
                               * payload: struct guard_ns_change_payload */
    GUARD_EV_NS_CALL = 16,    /* a namespace-sensitive call (mount, umount, pivot_root, chroot);
                               * args: enum guard_ns_call, return value, errno, mnt ns inode;
                               * payload: the target path, bounded, then a NUL and a
                               * struct guard_ns_call_tail */
    GUARD_EV_THREAD_START = 17, /* a thread started by pthread_create; args: creator tid */
    GUARD_EV_CHILD_EXEC = 18, /* written by the parent: its forked child exec'd (the child
                                 had no log to say it); args: child pid, the child's exec
                                 time (CLOCK_MONOTONIC ns), the child's tid, flags
                                 (GUARD_EXEC_UNCONFIRMED); stack: the child's exec call;
                                 payload: path NUL argv... as EXEC */
};

enum guard_ns_call {
    GUARD_NS_UNSHARE = 1,
    GUARD_NS_SETNS = 2,
    GUARD_NS_CLONE = 3,
    GUARD_NS_MOUNT = 4,
    GUARD_NS_UMOUNT = 5,
    GUARD_NS_PIVOT_ROOT = 6,
    GUARD_NS_CHROOT = 7,
    GUARD_NS_EXEC = 8,
    GUARD_NS_SPAWN = 9,   /* fork/posix_spawn: the child inherits the calling thread's namespaces */
    GUARD_NS_SOCKET = 10,
    GUARD_NS_SETHOSTNAME = 11,
    GUARD_NS_OPEN_PROC_NS = 12,
};

/* Namespace kinds, in this order everywhere (index = kind - 1). */
enum guard_ns_kind {
    GUARD_NSK_MNT = 1, GUARD_NSK_NET, GUARD_NSK_UTS, GUARD_NSK_IPC,
    GUARD_NSK_PID, GUARD_NSK_USER, GUARD_NSK_CGROUP, GUARD_NSK_TIME,
    GUARD_NSK_COUNT_ = 9
};

/* The payload of GUARD_EV_NS_CHANGE: this thread's namespace inodes before
 * and after the call (0: unknown).  The device is the same nsfs for all. */
struct guard_ns_change_payload {
    uint64_t before[8];
    uint64_t after[8];
};

/* What follows the target path of a GUARD_EV_NS_CALL payload, after a NUL
 * (when the call had a readable target; shims before this field wrote the
 * path alone: a reader checks the length).  The shim's own judgement of
 * the call, so that the timeline marks what the finding says. */
struct guard_ns_call_tail {
    uint64_t mount_flags;   /* mount: its flags; other calls: 0 */
    uint64_t left_by_ino;   /* left behind: the mount namespace that thread moved into */
    uint32_t left_by_tid;   /* namespace-off-thread: the thread whose pending move left this
                             * call behind; 0: none (the call is not left behind) */
    uint32_t left_by_call;  /* its enum guard_ns_call (unshare or setns) */
};

enum guard_spawn_kind {
    GUARD_SPAWN_FORK = 1,
    GUARD_SPAWN_VFORK = 2,
    GUARD_SPAWN_POSIX_SPAWN = 3,
    GUARD_SPAWN_POSIX_SPAWNP = 4,
    GUARD_SPAWN_SYSTEM = 5,
    GUARD_SPAWN_POPEN = 6,
    GUARD_SPAWN_CLONE = 7,
};

enum guard_spawn_flags {
    GUARD_SPAWN_MULTITHREADED = 1u << 0, /* the parent had more than one thread */
    GUARD_SPAWN_AUTOREAP = 1u << 1,      /* SIGCHLD ignored / SA_NOCLDWAIT: never a zombie */
    GUARD_SPAWN_FAILED = 1u << 2,        /* the call failed: no child */
};

/* In CHILD_EXEC's args[3] (guard-supervise): the child made the exec call
 * and was reaped before its success could be seen (a parent's blocking wait
 * takes a zombie at once); the exec may have failed. */
#define GUARD_EXEC_UNCONFIRMED 1u

enum guard_reap_call {
    GUARD_REAP_WAIT = 1,
    GUARD_REAP_WAITPID = 2,
    GUARD_REAP_WAIT3 = 3,
    GUARD_REAP_WAIT4 = 4,
    GUARD_REAP_WAITID = 5,
    GUARD_REAP_PCLOSE = 6,
    GUARD_REAP_SYSTEM = 7,
    GUARD_REAP_UNSEEN = 8, /* the kernel no longer lists the child: reaped by means no hook saw */
};
#define GUARD_REAP_STATUS_UNKNOWN 2u /* in a REAP's args[3] */

enum guard_put_flags {
    GUARD_PUT_POISONED = 1u << 0,
    GUARD_PUT_PROTECTED = 1u << 1,
    GUARD_PUT_OVER_BOUND = 1u << 2, /* protection skipped: max_protected reached */
};

/* GUARD_REC_EVENT.  Optional payload after args: a string of payload_len
 * bytes (no NUL). */
struct guard_rec_event {
    struct guard_rec rec;
    uint64_t time_ns;     /* CLOCK_MONOTONIC */
    uint32_t tid;
    uint16_t kind;        /* enum guard_event_kind */
    uint16_t payload_len;
    uint32_t stack_id;    /* 0: none */
    uint32_t reserved;    /* GUARD_EVENT_NO_RESULT, or 0 */
    uint64_t args[4];
};

/* In a GUARD_REC_EVENT's `reserved` word (0 from writers that predate it):
 * the writer did not see the call's result (guard-supervise lets the call
 * go on without seeing it return): a return value in args is inferred (an
 * unshare/setns is 0 when the thread's namespaces changed, else -1) or 0,
 * and its errno is 0. */
#define GUARD_EVENT_NO_RESULT 1u

/* GUARD_REC_POOL_PUT / GUARD_REC_POOL_GET: the short form of a pool event
 * (32 bytes instead of 64: put and get are the hot path, and the kernel's
 * cost per new page of the log is most of an event's cost).  Written when
 * the object's pool, size and put flags are those of the last full
 * GUARD_EV_POOL_PUT/GET event for the same object in this log; a reader
 * takes them from there. */
struct guard_rec_pool {
    struct guard_rec rec;
    uint32_t tid;
    uint32_t stack_id;
    uint64_t obj;
    uint64_t time_ns;
};

/* Finding kinds: the names are a fixed contract (DESIGN.md, docs/checks.md).
 * The table is guard_kinds.h; the enum and the names are made from it.
 * GUARD_FK_COUNT_ is one past the largest value (the size of a union of
 * char[VALUE + 1] arrays); a value used twice is a duplicate case in
 * guard_finding_kind_name() and does not compile. */
#define GUARD_FK_ENUM_(id, value, ...) id = value,
#define GUARD_FK_SPAN_(id, value, ...) char id[value + 1];
union guard_fk_span_ {
    GUARD_FINDING_KINDS(GUARD_FK_SPAN_)
};
enum guard_finding_kind {
    GUARD_FINDING_KINDS(GUARD_FK_ENUM_)
    GUARD_FK_COUNT_ = sizeof(union guard_fk_span_)
};
#undef GUARD_FK_ENUM_
#undef GUARD_FK_SPAN_

/* The kind's name (guard_kinds.h), NULL for a number no kind has. */
static inline const char *guard_finding_kind_name(unsigned kind)
{
#define GUARD_FK_NAME_(id, value, name, ...) \
    case id:                                 \
        return name;
    switch (kind) {
    GUARD_FINDING_KINDS(GUARD_FK_NAME_)
    default:
        return NULL;
    }
#undef GUARD_FK_NAME_
}

/* The role a stack plays in a finding: the keys of the JSON "stacks" object. */
enum guard_stack_role {
    GUARD_ROLE_ACCESS = 1, /* the offending read/write */
    GUARD_ROLE_PUT = 2,    /* where the object went back to its pool */
    GUARD_ROLE_GET = 3,    /* where it was taken out */
    GUARD_ROLE_SPAWN = 4,
    GUARD_ROLE_UNSHARE = 5,
    GUARD_ROLE_MOUNT = 6,
    GUARD_ROLE_CALL = 7,
    GUARD_ROLE_FIRST_PUT = 8, /* double-put: the earlier put */
    GUARD_ROLE_REAP = 9,
    GUARD_ROLE_CRASH = 10,
    GUARD_ROLE_OTHER_CALL = 11,
    GUARD_ROLE_COUNT_ = 12
};

static inline const char *guard_stack_role_name(unsigned role)
{
    static const char *const names[GUARD_ROLE_COUNT_] = {
        [GUARD_ROLE_ACCESS] = "access",   [GUARD_ROLE_PUT] = "put",
        [GUARD_ROLE_GET] = "get",         [GUARD_ROLE_SPAWN] = "spawn",
        [GUARD_ROLE_UNSHARE] = "unshare", [GUARD_ROLE_MOUNT] = "mount",
        [GUARD_ROLE_CALL] = "call",       [GUARD_ROLE_FIRST_PUT] = "first_put",
        [GUARD_ROLE_REAP] = "reap",       [GUARD_ROLE_CRASH] = "crash",
        [GUARD_ROLE_OTHER_CALL] = "other_call",
    };
    return role < GUARD_ROLE_COUNT_ && names[role] ? names[role] : NULL;
}

/* How the offending access touched the object. */
enum guard_access {
    GUARD_ACCESS_UNKNOWN = 0,
    GUARD_ACCESS_READ = 1,
    GUARD_ACCESS_WRITE = 2,
};

enum guard_finding_flags {
    GUARD_FINDING_CAUGHT_IN_ACT = 1u << 0, /* fault on a protected page */
    GUARD_FINDING_AT_GET = 1u << 1,        /* poison found modified when the object was taken again */
    GUARD_FINDING_SYSCALL = 1u << 2,       /* the kernel touched the object (EFAULT); call names it */
    GUARD_FINDING_HAZARD = 1u << 3,        /* the bug's preconditions, not its symptom */
    GUARD_FINDING_SUPPRESSED = 1u << 4,    /* a rule of the shim's suppressions file matched */
};

struct guard_finding_stack {
    uint32_t role;     /* enum guard_stack_role */
    uint32_t stack_id;
    uint32_t tid;      /* thread the stack was taken on (0: unknown) */
    uint32_t reserved;
};

/* GUARD_REC_FINDING: what the shim found while the program ran.
 * Payload after the fixed part: nstacks struct guard_finding_stack, then the
 * name of the call involved (call_len bytes, e.g. "write"), then the
 * one-line summary (summary_len bytes, no NUL). */
struct guard_rec_finding {
    struct guard_rec rec;
    uint64_t time_ns;
    uint32_t tid;          /* the thread that made the offending call */
    uint16_t kind;         /* enum guard_finding_kind */
    uint16_t flags;        /* enum guard_finding_flags */
    uint64_t pool;         /* pool checks: the pool, object and size */
    uint64_t obj;
    uint64_t size;
    uint64_t addr;         /* the faulting or first-modified address */
    int64_t offset;        /* addr - obj */
    uint32_t access;       /* enum guard_access */
    uint32_t bytes;        /* bytes found modified (write after return), or access length */
    uint32_t other_tid;    /* e.g. the thread that put the object */
    uint16_t nstacks;
    uint16_t call_len;
    uint32_t summary_len;
    uint32_t reserved;
};

/* GUARD_REC_NOTE: a message from the shim (a bound was reached, a check was
 * switched off).  Payload: text (len bytes). */
struct guard_rec_note {
    struct guard_rec rec;
    uint64_t time_ns;
    uint32_t tid;
    uint32_t len;
};

/* GUARD_REC_END: written from the shim's exit path.  A log without it
 * belongs to a process that was killed or crashed. */
struct guard_rec_end {
    struct guard_rec rec;
    uint64_t time_ns;
    int32_t exit_status;
    uint32_t dropped_events; /* records lost (log full, reentrant signal) */
};

static inline uint32_t guard_rec_round(uint32_t n)
{
    return (n + GUARD_REC_ALIGN - 1) & ~(GUARD_REC_ALIGN - 1);
}

#endif /* GUARD_LOG_H */
