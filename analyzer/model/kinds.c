/*
 * kinds.c — the finding kinds for the analyzer: the rows of the one table
 * (common/guard_kinds.h), each with a longer explanation.
 *
 * DESCRIPTION_<ID> says when a kind fires and why it matters: docs/checks.md's
 * "Fires" and "why", condensed, so that the SARIF rules explain each kind
 * without the docs at hand (fullDescription; the rule's helpUri is the
 * section itself).  The table's rows are expanded with DESCRIPTION_##ID:
 * a kind added to guard_kinds.h without one here does not compile.
 */
#include "kinds.h"

#include <string.h>

#include "guard_log.h"

#define DESCRIPTION_GUARD_FK_USE_AFTER_RETURN \
    "Fires when, between guard_pool_put(pool, obj, size) and the next guard_pool_get of " \
    "the same object, any thread reads or writes a whole page inside the object (the " \
    "page is PROT_NONE: the fault is caught in the act and the access stack is the " \
    "faulting instruction's), the kernel reads or writes it for a read/write-family " \
    "system call (the call gets EFAULT; libguard reports it, lifts the protection and " \
    "makes the call again), or any byte of the object differs from the poison (0xA5) " \
    "when it is taken again (a write after return into parts that cannot be protected, " \
    "or with pool_protect=0: the put and get stacks say where to look). The first late " \
    "access faults wherever and whenever it happens, whether or not the object was " \
    "reused in time for the damage to show (a writer thread still feeding a child's pipe " \
    "from a buffer already back in its pool). Not seen: late reads of a sub-page object, " \
    "or with pool_protect=0."

#define DESCRIPTION_GUARD_FK_DOUBLE_PUT \
    "Fires when guard_pool_put is called on an object that is already in its pool (put, " \
    "and not taken since). Typical cause: an error path and its caller both give the " \
    "object back; two later users then share one buffer. Stacks: put (this one) and " \
    "first_put."

#define DESCRIPTION_GUARD_FK_PUT_WHILE_CHILD_RUNNING \
    "Fires at guard_pool_put for every child process started (by any thread, with fork, " \
    "vfork, posix_spawn, popen or clone) after the object's last get and not reaped yet. " \
    "This is how a child's I/O ends up in a buffer already back in its pool (a " \
    "use-after-return): cancelling a command does not mean it is done; wait for it " \
    "(cmd.Wait, waitpid) before the buffers it may still use go back to the pool. " \
    "Reported on every run, also when the child happened to be done with the buffer. " \
    "Stacks: put, get, spawn."

#define DESCRIPTION_GUARD_FK_UNREAPED_CHILD \
    "Fires when the process exits, replaces itself with exec, or its log ends (killed: " \
    "the analyzer derives it from the spawn records) while a child it started was never " \
    "reaped by wait, waitpid, wait3, wait4, waitid or pclose. The summary says whether " \
    "the child still runs or is a zombie, and when it was sent a signal with kill() but " \
    "never waited for. Not reported for children of a process whose SIGCHLD is SIG_IGN " \
    "or SA_NOCLDWAIT. Stack: spawn."

#define DESCRIPTION_GUARD_FK_FORK_UNSAFE_CALL \
    "Fires in a child created by fork() from a process that had more than one thread, " \
    "when the child calls getpw*/getgr* (reentrant or not), getgrouplist, popen or " \
    "system before exec or _exit. None of them is async-signal-safe: a lock another " \
    "parent thread held at the fork stays locked forever in the child, and NSS may load " \
    "modules. Stack: call."

#define DESCRIPTION_GUARD_FK_NAMESPACE_OFF_THREAD \
    "unshare() and setns() move only the calling thread; mount, umount, pivot_root and " \
    "chroot act in its mount namespace, socket in its network namespace, sethostname in " \
    "its UTS namespace, and fork/posix_spawn and exec hand all its namespaces on. Fires " \
    "when such a call begins on a thread left behind: not in a namespace it moved into " \
    "itself, but in the one another thread's unshare/setns left, while that move was " \
    "pending (its thread had made no call in the new namespace yet; changing mount " \
    "propagation does not count) or was an unshare by a thread of the same pool (same " \
    "start routine, same place). The job's next step ran outside the namespace the job " \
    "set up (unshare on one thread, mount or exec on another). Never for a thread in " \
    "its own namespace (one thread per container), an inherited one, or after a thread " \
    "came back from a visit. Stacks: unshare and mount or call."

#define DESCRIPTION_GUARD_FK_PROC_SELF_NS_MISMATCH \
    "Fires when a thread opens or reads /proc/self/ns/K, /proc/<pid>/ns/K or the main " \
    "thread's task entry while its own K namespace differs from the main thread's: those " \
    "paths name the main thread's namespace. Use /proc/thread-self/ns/K. Also fires for " \
    "/proc/<n>/ns/K where n was a thread of this process that has exited. Stack: call."

#define DESCRIPTION_GUARD_FK_NSS_NONREENTRANT_THREADS \
    "Fires when getpwuid, getpwnam, getgrgid, getgrnam, getpwent or getgrent is called " \
    "on a thread other than the first that used one of them, while the process has more " \
    "than one thread. They return a pointer into one static buffer per process: a second " \
    "thread's call overwrites the first thread's result. Use the _r variants with a " \
    "buffer per thread. Stacks: call and other_call."

#define DESCRIPTION_GUARD_FK_NSS_ERANGE_NOT_RETRIED \
    "Fires when getpwuid_r, getpwnam_r, getgrgid_r or getgrnam_r returned ERANGE (the " \
    "buffer is too small; *result is NULL) and the same thread never called the same " \
    "function for the same key with a larger buffer. The caller took \"buffer too " \
    "small\" for \"no such user\". Stack: call."

#define DESCRIPTION_GUARD_FK_NSS_STATIC_BINARY \
    "Reported by guard-analyze inspect (no execution) for a static or static-pie " \
    "executable that contains NSS entry points, glibc's NSS module loader, and threads " \
    "(a static glibc dlopens libnss_*.so at run time, and the module's state is set up " \
    "only for the thread that loaded it). Confidence high (symbols), medium (strings " \
    "that survive stripping) or low (only raw clone)."

#define DESCRIPTION_GUARD_FK_VDSO_LOW_STACK \
    "Fires when clock_gettime, gettimeofday, time or clock_getres is called with less " \
    "stack below the caller than vdso_min_headroom (default 4 KiB + 256 B: the probe " \
    "depth of vDSOs built with -fstack-check), measured on the stack the call is really " \
    "on: the thread's stack, the sigaltstack, or a makecontext coroutine stack. Fires on " \
    "every host: the program would corrupt memory on one whose vDSO probes. Stack: call."

#define DESCRIPTION_GUARD_FK_CRASH \
    "Fires when the process dies of SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT or SIGSYS " \
    "and the program has no handler of its own for it. libguard records the signal, " \
    "si_code, the fault address, the registers and the stack of the crashing thread, " \
    "asks every other thread for its stack (like GOTRACEBACK=crash), and lets the " \
    "program die of its own signal, core dump included. The report shows every thread's " \
    "stack and last events and what libguard knows about the crash: a register or the " \
    "fault address inside an object that was put back, libguard's poison in a register, " \
    "a namespace change, a child started just before, earlier findings of the process."

#define KIND_ROW(id, value, name, rule, level, anchor, rank, origin, help) \
    {id, name, rule, level, anchor, rank, origin, help, DESCRIPTION_##id},
static const struct kind_info table[] = {GUARD_FINDING_KINDS(KIND_ROW)};
#undef KIND_ROW

#define NKINDS (sizeof table / sizeof *table)

const struct kind_info *kinds_get(unsigned kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (table[i].kind == kind)
            return &table[i];
    return NULL;
}

const struct kind_info *kinds_by_name(const char *name)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

const struct kind_info *kinds_all(size_t *n)
{
    *n = NKINDS;
    return table;
}

unsigned kinds_rank(unsigned kind)
{
    const struct kind_info *k = kinds_get(kind);
    return k ? k->rank : (unsigned)NKINDS;
}
