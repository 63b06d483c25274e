/*
 * crash.c — the crash recorder of the supervised mode, for the program
 * when it is a static executable that is not Go: no shim runs in it to
 * catch its fatal signal, so the supervisor traces its threads with ptrace
 * and is told of every signal before it is delivered.
 *
 * The program's threads are seized (PTRACE_SEIZE, with PTRACE_O_TRACECLONE
 * for its later threads and PTRACE_O_TRACEEXEC) at its exec, before its
 * first instruction.  A signal on its way is passed on unchanged, unless it
 * is SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT or SIGSYS and the program has
 * no handler for it (SigCgt): then the process is about to die of it, and
 * the supervisor writes what the shim's flight recorder writes (a CRASH
 * record with the registers, the crashing thread's raw stack, one
 * THREAD_STACK per other thread, stopped with PTRACE_INTERRUPT, and a
 * `crash` finding) before passing the signal on.  A group-stop stays a
 * group-stop (PTRACE_LISTEN).
 *
 * Go programs are not traced (their runtime catches these signals and
 * reports them itself, and Go's goroutine capture uses ptrace on its own),
 * nor processes the program starts.  If the supervisor dies, the kernel
 * detaches its tracees.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procs.h"
#include "guard_names.h"

static pid_t traced; /* the traced process, 0: none */

/* Is the executable at path (relative to pid's cwd) static, and not Go? */
int crash_wanted(pid_t pid, const char *path)
{
    char full[PATH_MAX + 64];
    if (path[0] == '/')
        snprintf(full, sizeof full, "%s", path);
    else
        snprintf(full, sizeof full, "/proc/%d/cwd/%s", (int)pid, path);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    Elf64_Ehdr eh;
    Elf64_Phdr ph[64];
    int wanted = pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
                 !memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
                 eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum > 0 && eh.e_phnum <= 64 &&
                 pread(fd, ph, eh.e_phnum * sizeof ph[0], (off_t)eh.e_phoff) ==
                     (ssize_t)(eh.e_phnum * sizeof ph[0]);
    for (unsigned i = 0; wanted && i < eh.e_phnum; i++)
        wanted = ph[i].p_type != PT_INTERP;
    if (wanted) { /* Go: its build info is in the file (the section's name, or the blob) */
        static const char magic[] = "\xff Go buildinf:";
        char buf[65536 + sizeof magic];
        off_t off = 0;
        ssize_t n;
        while (wanted && (n = pread(fd, buf, sizeof buf, off)) > (ssize_t)sizeof magic) {
            wanted = memmem(buf, (size_t)n, magic, sizeof magic - 1) == NULL;
            off += n - (ssize_t)sizeof magic;
        }
    }
    close(fd);
    return wanted;
}

/* Seize every thread of pid (it waits in a watched exec: it runs nothing
 * before the supervisor answers). */
void crash_attach(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return;
    int any = 0;
    for (struct dirent *de; (de = readdir(d));) {
        pid_t tid = (pid_t)atoi(de->d_name);
        if (tid > 0)
            any |= ptrace(PTRACE_SEIZE, tid, 0,
                          PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC) == 0;
    }
    closedir(d);
    if (any)
        traced = pid;
}

static int uncaught(pid_t pid, int sig)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (peek_file(path, buf, sizeof buf) <= 0)
        return 0;
    const char *c = strstr(buf, "\nSigCgt:");
    unsigned long long caught = c ? strtoull(c + 8, NULL, 16) : 0;
    return !(caught & (1ull << (sig - 1)));
}

static void dwarf_regs(const struct user_regs_struct *r, uint64_t out[17])
{
    const uint64_t v[17] = {r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi, r->rbp, r->rsp, r->r8,
                            r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip};
    memcpy(out, v, sizeof v);
}

/* Every other thread, stopped, its stack: THREAD_STACK records. */
static unsigned other_threads(pid_t pid, pid_t crashed, struct slog *l, unsigned *answered)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    unsigned asked = 0;
    *answered = 0;
    static struct peek_stack st;
    for (struct dirent *de; d && (de = readdir(d));) {
        pid_t tid = (pid_t)atoi(de->d_name);
        if (tid <= 0 || tid == crashed || ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0)
            continue;
        asked++;
        int ws;
        struct user_regs_struct r;
        if (waitpid(tid, &ws, __WALL) != tid || !WIFSTOPPED(ws) ||
            ptrace(PTRACE_GETREGS, tid, 0, &r) != 0)
            continue;
        dwarf_regs(&r, st.regs);
        peek_stack_copy(pid, &st);
        struct guard_rec_thread_stack t;
        memset(&t, 0, sizeof t);
        t.time_ns = sup_now_ns();
        t.tid = (uint32_t)tid;
        t.stack_id = slog_stack(l, &st);
        slog_raw(l, &t, GUARD_REC_THREAD_STACK, sizeof t);
        ++*answered;
    }
    if (d)
        closedir(d);
    return asked;
}

static void record(pid_t tid, int sig)
{
    struct proc *p = procs_find(traced);
    siginfo_t si;
    struct user_regs_struct r;
    if (!p || ptrace(PTRACE_GETSIGINFO, tid, 0, &si) != 0 || ptrace(PTRACE_GETREGS, tid, 0, &r) != 0)
        return;
    int fault = si.si_code > 0 && sig != SIGABRT && sig != SIGSYS;
    static struct peek_stack st;
    dwarf_regs(&r, st.regs);
    peek_stack_copy(p->pid, &st);
    uint32_t stack = slog_stack_flags(&p->log, &st, fault ? GUARD_RAW_PC_EXACT : 0);
    struct guard_rec_crash c;
    memset(&c, 0, sizeof c);
    c.time_ns = sup_now_ns();
    c.tid = (uint32_t)tid;
    c.signo = sig;
    c.si_code = si.si_code;
    c.stack_id = stack;
    c.fault_addr = fault ? (uint64_t)(uintptr_t)si.si_addr : 0;
    c.nregs = GUARD_CRASH_NREGS;
    /* x86-64 gregs order: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags,
     * csgsfs, err, trapno, oldmask, cr2 */
    const uint64_t g[GUARD_CRASH_NREGS] = {
        r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx,
        r.rax, r.rcx, r.rsp, r.rip, r.eflags, r.cs | (r.gs << 16) | (r.fs << 32), 0, 0, 0,
        c.fault_addr};
    memcpy(c.regs, g, sizeof g);
    slog_raw(&p->log, &c, GUARD_REC_CRASH, sizeof c);
    unsigned answered, asked = other_threads(p->pid, tid, &p->log, &answered);
    struct slog_finding f;
    memset(&f, 0, sizeof f);
    f.kind = GUARD_FK_CRASH;
    f.tid = tid;
    f.call = guard_signal_name(sig);
    char where[96] = "";
    if (fault)
        snprintf(where, sizeof where, ", fault address 0x%llx", (unsigned long long)c.fault_addr);
    snprintf(f.summary, sizeof f.summary,
             "the process died of %s (si_code %d) on thread T%d%s; %u other thread(s) asked for "
             "their stacks, %u answered", guard_signal_name(sig), si.si_code, (int)tid, where, asked,
             answered);
    if (stack)
        f.stacks[f.nstacks++] = (struct guard_finding_stack){GUARD_ROLE_CRASH, stack, (uint32_t)tid, 0};
    f.addr = c.fault_addr;
    f.bytes = answered;
    slog_finding(&p->log, c.time_ns, &f);
    procs_record(p);
}

/* A ptrace stop of a traced thread: 1 when it was one (and it goes on). */
int crash_stop(pid_t tid, int status)
{
    if (!traced || !WIFSTOPPED(status))
        return 0;
    int sig = WSTOPSIG(status), event = status >> 16;
    if (event == PTRACE_EVENT_STOP) {
        if ((sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) &&
            ptrace(PTRACE_LISTEN, tid, 0, 0) == 0)
            return 1; /* a group-stop: stopped it stays */
        ptrace(PTRACE_CONT, tid, 0, 0);
        return 1;
    }
    if (event) { /* a clone or an exec */
        ptrace(PTRACE_CONT, tid, 0, 0);
        return 1;
    }
    if ((sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGABRT ||
         sig == SIGSYS) && uncaught(tid, sig))
        record(tid, sig);
    ptrace(PTRACE_CONT, tid, 0, sig);
    return 1;
}
