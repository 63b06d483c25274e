/*
 * checks_help.c — the help text of every finding kind.
 *
 * KEEP IN SYNC BY HAND with docs/checks.md: this table is that page's
 * content ("Fires" and "why", condensed), embedded so that the analyzer's
 * SARIF rules explain each kind without the docs at hand.  When a check's
 * section in docs/checks.md changes, change its entry here in the same
 * commit (and the other way round).
 */
#include "checks_help.h"

#include <stddef.h>

#include "guard_log.h"

static const struct check_help table[] = {
    {GUARD_FK_USE_AFTER_RETURN, "UseAfterReturn",
     "An object was read or written after it was put back in its pool.",
     "Fires when, between guard_pool_put(pool, obj, size) and the next guard_pool_get of the "
     "same object, any thread reads or writes a whole page inside the object (the page is "
     "PROT_NONE: the fault is caught in the act and the access stack is the faulting "
     "instruction's), the kernel reads or writes it for a read/write-family system call (the "
     "call gets EFAULT; libguard reports it, lifts the protection and makes the call again), "
     "or any byte of the object differs from the poison (0xA5) when it is taken again (a "
     "write after return into parts that cannot be protected, or with pool_protect=0: the "
     "put and get stacks say where to look). The first late access faults wherever and "
     "whenever it happens, whether or not the object was reused in time for the damage to "
     "show (seed 000: a writer thread still feeding a child's pipe from a buffer already back "
     "in the pool). Not seen: late reads of a sub-page object, or with pool_protect=0.",
     "error", "use-after-return"},
    {GUARD_FK_DOUBLE_PUT, "DoublePut",
     "An object was put back while already in its pool.",
     "Fires when guard_pool_put is called on an object that is already in its pool (put, and "
     "not taken since). Typical cause: an error path and its caller both give the object "
     "back; two later users then share one buffer. Stacks: put (this one) and first_put.",
     "error", "double-put"},
    {GUARD_FK_PUT_WHILE_CHILD_RUNNING, "PutWhileChildRunning",
     "An object was put back while a child started after its get had not been reaped.",
     "Fires at guard_pool_put for every child process started (by any thread, with fork, "
     "vfork, posix_spawn, popen or clone) after the object's last get and not reaped yet. "
     "This is seed 000's root cause: cancelling a command does not mean it is done; wait for "
     "it (cmd.Wait, waitpid) before the buffers it may still use go back to the pool. "
     "Reported on every run, also when the child happened to be done with the buffer. "
     "Stacks: put, get, spawn.",
     "warning", "put-while-child-running"},
    {GUARD_FK_UNREAPED_CHILD, "UnreapedChild",
     "A child process was never waited for.",
     "Fires when the process exits, replaces itself with exec, or its log ends (killed: the "
     "analyzer derives it from the spawn records) while a child it started was never reaped "
     "by wait, waitpid, wait3, wait4, waitid or pclose. The summary says whether the child "
     "still runs or is a zombie, and when it was sent a signal with kill() but never waited "
     "for. Not reported for children of a process whose SIGCHLD is SIG_IGN or SA_NOCLDWAIT. "
     "Stack: spawn.",
     "warning", "unreaped-child"},
    {GUARD_FK_FORK_UNSAFE_CALL, "ForkUnsafeCall",
     "A child of a multithreaded process called a non-async-signal-safe function before exec.",
     "Fires in a child created by fork() from a process that had more than one thread, when "
     "the child calls getpw*/getgr* (reentrant or not), getgrouplist, popen or system before "
     "exec or _exit. None of them is async-signal-safe: a lock another parent thread held at "
     "the fork stays locked forever in the child, and NSS may load modules. Stack: call.",
     "warning", "fork-unsafe-call"},
    {GUARD_FK_NAMESPACE_OFF_THREAD, "NamespaceOffThread",
     "A namespace-sensitive call ran on a thread whose namespace is not the one set up.",
     "unshare() and setns() change only the calling thread; mount, umount, pivot_root, chroot, "
     "socket, sethostname, fork/posix_spawn and exec act in or inherit the calling thread's "
     "namespaces. Fires when, after thread T changed namespace kind K, a K-sensitive call "
     "runs on another thread whose K namespace is not T's new one: the call acts on a "
     "namespace the job did not set up (seed 003). With the flag hazard: the call landed in "
     "the right namespace this time, but nothing ties the steps to one thread. Stacks: "
     "unshare and mount or call.",
     "error", "namespace-off-thread"},
    {GUARD_FK_PROC_SELF_NS_MISMATCH, "ProcSelfNsMismatch",
     "A thread read /proc/self/ns/* while its own namespace differed from the main thread's.",
     "Fires when a thread opens or reads /proc/self/ns/K, /proc/<pid>/ns/K or the main "
     "thread's task entry while its own K namespace differs from the main thread's: those "
     "paths name the main thread's namespace. Use /proc/thread-self/ns/K. Also fires for "
     "/proc/<n>/ns/K where n was a thread of this process that has exited (seed 003). "
     "Stack: call.",
     "warning", "proc-self-ns-mismatch"},
    {GUARD_FK_NSS_NONREENTRANT_THREADS, "NssNonreentrantThreads",
     "A non-reentrant getpw*/getgr* function was called from more than one thread.",
     "Fires when getpwuid, getpwnam, getgrgid, getgrnam, getpwent or getgrent is called on a "
     "thread other than the first that used one of them, while the process has more than "
     "one thread. They return a pointer into one static buffer per process: a second "
     "thread's call overwrites the first thread's result. Use the _r variants with a buffer "
     "per thread. Stacks: call and other_call.",
     "warning", "nss-nonreentrant-threads"},
    {GUARD_FK_NSS_ERANGE_NOT_RETRIED, "NssErangeNotRetried",
     "A *_r lookup's ERANGE was taken for \"not found\".",
     "Fires when getpwuid_r, getpwnam_r, getgrgid_r or getgrnam_r returned ERANGE (the "
     "buffer is too small; *result is NULL) and the same thread never called the same "
     "function for the same key with a larger buffer. The caller took \"buffer too small\" "
     "for \"no such user\". Stack: call.",
     "warning", "nss-erange-not-retried"},
    {GUARD_FK_NSS_STATIC_BINARY, "NssStaticBinary",
     "(inspect) A statically linked executable contains NSS lookups and threads.",
     "Reported by guard-analyze inspect (no execution) for a static or static-pie "
     "executable that contains NSS entry points, glibc's NSS module loader, and threads "
     "(seed 002: a static glibc dlopens libnss_*.so at run time, and the module's state is "
     "set up only for the thread that loaded it). Confidence high (symbols), medium "
     "(strings that survive stripping) or low (only raw clone).",
     "warning", "nss-static-binary"},
    {GUARD_FK_VDSO_LOW_STACK, "VdsoLowStack",
     "A time call ran with less stack than a stack-probing vDSO needs.",
     "Fires when clock_gettime, gettimeofday, time or clock_getres is called with less stack "
     "below the caller than vdso_min_headroom (default 4 KiB + 256 B: the probe depth of "
     "vDSOs built with -fstack-check), measured on the stack the call is really on: the "
     "thread's stack, the sigaltstack, or a makecontext coroutine stack. Fires on every host: "
     "the program would corrupt memory on one whose vDSO probes (seed 004). Stack: call.",
     "warning", "vdso-low-stack"},
    {GUARD_FK_CRASH, "FatalSignal",
     "The process died of a fatal signal.",
     "Fires when the process dies of SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT or SIGSYS and "
     "the program has no handler of its own for it. libguard records the signal, si_code, "
     "the fault address, the registers and the stack of the crashing thread, asks every "
     "other thread for its stack (like GOTRACEBACK=crash), and lets the program die of its "
     "own signal, core dump included. The report shows every thread's stack and last events "
     "and what libguard knows about the crash: a register or the fault address inside an "
     "object that was put back, libguard's poison in a register, a namespace change, a child "
     "started just before, earlier findings of the process.",
     "error", "crash"},
};

const struct check_help *check_help(unsigned kind)
{
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (table[i].kind == kind)
            return &table[i];
    return NULL;
}

const struct check_help *check_help_all(unsigned *n)
{
    *n = (unsigned)(sizeof table / sizeof *table);
    return table;
}
