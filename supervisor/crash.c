/*
 * crash.c — the crash recorder of the supervised mode, for the program
 * when it is a static executable: no shim runs in it to catch its fatal
 * signal, so the supervisor traces its threads with ptrace and is told of
 * every signal before it is delivered.
 *
 * The program's threads are seized (PTRACE_SEIZE, with PTRACE_O_TRACECLONE
 * for its later threads and PTRACE_O_TRACEEXEC) at its exec, before its
 * first instruction.  A signal on its way is passed on unchanged, unless it
 * is fatal: then the supervisor writes what the shim's flight recorder
 * writes (a CRASH record with the registers, the crashing thread's raw
 * stack, one THREAD_STACK per other thread, stopped with PTRACE_INTERRUPT,
 * and a `crash` finding) before passing the signal on.  Fatal means:
 *  - SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT or SIGSYS for which the
 *    program has no handler (SigCgt): the process dies of it;
 *  - in a Go program, whose runtime handles every one of these: a fault
 *    the kernel raised (si_code > 0) or an abort the thread sent itself,
 *    at a pc outside Go's code (its line table, .gopclntab): C code
 *    called through cgo.  Go's runtime ends the process for those
 *    ("fatal error: unexpected signal", exit status 2) after printing
 *    only the Go side of the stack.  A fault in Go code becomes a Go panic,
 *    which the program may recover from: it is not recorded (Go prints
 *    its own traceback when it is fatal).
 * A Go program that links no C (no runtime/cgo, no _Cfunc_ in its line
 * table) is not traced at all: it has no code whose fault Go cannot
 * explain (its runtime, of a line table layout this reader knows, Go 1.16
 * and later, calls the vDSO on the system stack), and every signal it
 * gets (SIGURG at each preemption, SIGCHLD at each child's end) would
 * stop it for nothing.
 * One crash per process.  A group-stop stays a group-stop (PTRACE_LISTEN).
 * Processes the program starts are not traced (no TRACEFORK/TRACEVFORK).
 * If the supervisor dies, the kernel detaches its tracees.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

#include "go_pcln.h"
#include "procs.h"
#include "guard_names.h"

static pid_t traced;            /* the traced process, 0: none */
static int recorded;            /* its crash is in its log */
static struct go_pcln *go_code; /* a Go program's line table: which pcs are Go code */
static int go_pie;              /* its pcs are file addresses plus the load bias */

/* Go's line table of the executable on fd, for telling Go code from C. */
static struct go_pcln *go_table(int fd, int *pie)
{
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    GElf_Ehdr eh;
    struct go_pcln *t = elf && gelf_getehdr(elf, &eh) ? go_pcln_open(elf) : NULL;
    if (t)
        *pie = eh.e_type == ET_DYN;
    if (elf)
        elf_end(elf);
    return t;
}

/* Does a Go program call C: runtime/cgo or a cgo stub (pkg._Cfunc_name)
 * in its line table? */
static int go_links_c(const struct go_pcln *t)
{
    struct go_loc f;
    for (size_t i = 0, n = go_pcln_nfunc(t); i < n; i++)
        if (go_pcln_func(t, i, &f) && f.function &&
            (!strncmp(f.function, "runtime/cgo.", 12) || strstr(f.function, "._Cfunc_")))
            return 1;
    return 0;
}

/* Is the executable at path (relative to pid's cwd) static, and not a Go
 * program without C?  A Go program's line table is read now, for the rule
 * above. */
int crash_wanted(pid_t pid, const char *path)
{
    if (sup_opt.no_crash || sup_opt.no_ptrace)
        return 0;
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
    if (wanted) {
        go_pcln_free(go_code);
        go_code = go_table(fd, &go_pie);
        if (go_code && !go_links_c(go_code)) {
            go_pcln_free(go_code);
            go_code = NULL;
            wanted = 0;
        }
    }
    close(fd);
    return wanted;
}

/* Seize every thread of pid (it waits in a watched exec: it runs nothing
 * before the supervisor answers). */
void crash_attach(pid_t pid)
{
    static pid_t tids[PEEK_TASKS_MAX];
    size_t n = peek_tasks(pid, tids, PEEK_TASKS_MAX);
    int any = 0;
    for (size_t i = 0; i < n; i++)
        any |= ptrace(PTRACE_SEIZE, tids[i], 0, PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC) == 0;
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

/* The load bias of the traced executable when it is position-independent:
 * where its mapping at file offset 0 starts (such an executable's first
 * segment is linked at address 0); 0 when it cannot be read. */
static uint64_t exe_bias(pid_t pid)
{
    char path[64], buf[256], exe[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    uint64_t bias = 0;
    while (f && fgets(buf, sizeof buf, f)) {
        unsigned long long lo, off;
        int name = 0;
        if (sscanf(buf, "%llx-%*x %*s %llx %*s %*s %n", &lo, &off, &name) >= 2 && name &&
            off == 0 && !strncmp(buf + name, exe, (size_t)n) &&
            (buf[name + n] == '\n' || buf[name + n] == '\0')) {
            bias = lo;
            break;
        }
    }
    if (f)
        fclose(f);
    return bias;
}

/* Go's runtime will end the process for this signal (see the top). */
static int go_fatal(pid_t tid, int sig, const siginfo_t *si, uint64_t pc)
{
    int fault = sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL;
    if (!(fault && si->si_code > 0) &&
        !(sig == SIGABRT && si->si_code == SI_TKILL && si->si_pid == traced))
        return 0;
    struct go_loc loc;
    uint64_t bias = go_pie ? exe_bias(tid) : 0;
    return !go_pcln_lookup(go_code, pc - bias, &loc);
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
    static pid_t tids[PEEK_TASKS_MAX];
    size_t n = peek_tasks(pid, tids, PEEK_TASKS_MAX);
    unsigned asked = 0;
    *answered = 0;
    static struct peek_stack st;
    for (size_t i = 0; i < n; i++) {
        pid_t tid = tids[i];
        if (tid == crashed || ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0)
            continue;
        asked++;
        int ws;
        struct user_regs_struct r;
        if (waitpid(tid, &ws, __WALL) != tid || !WIFSTOPPED(ws))
            continue;
        int ok = ptrace(PTRACE_GETREGS, tid, 0, &r) == 0;
        if (ok) {
            dwarf_regs(&r, st.regs);
            peek_stack_copy(pid, &st);
        }
        /* It goes on: the process may live on (a Go program's C code with
         * a handler of its own), and dies with it otherwise.  A signal on
         * its way is delivered; the stop asked for, if this was not it,
         * comes to crash_stop later. */
        ptrace(PTRACE_CONT, tid, 0, (ws >> 16) == 0 ? WSTOPSIG(ws) : 0);
        if (!ok)
            continue;
        struct guard_rec_thread_stack t;
        memset(&t, 0, sizeof t);
        t.time_ns = sup_now_ns();
        t.tid = (uint32_t)tid;
        t.stack_id = slog_stack(l, &st);
        slog_raw(l, &t, GUARD_REC_THREAD_STACK, sizeof t);
        ++*answered;
    }
    return asked;
}

static void record(pid_t tid, int sig, const siginfo_t *si, const struct user_regs_struct *r)
{
    struct proc *p = procs_find(traced);
    if (!p)
        return;
    recorded = 1;
    int fault = si->si_code > 0 && sig != SIGABRT && sig != SIGSYS;
    static struct peek_stack st;
    dwarf_regs(r, st.regs);
    peek_stack_copy(p->pid, &st);
    uint32_t stack = slog_stack_flags(&p->log, &st, fault ? GUARD_RAW_PC_EXACT : 0);
    struct guard_rec_crash c;
    memset(&c, 0, sizeof c);
    c.time_ns = sup_now_ns();
    c.tid = (uint32_t)tid;
    c.signo = sig;
    c.si_code = si->si_code;
    c.stack_id = stack;
    c.fault_addr = fault ? (uint64_t)(uintptr_t)si->si_addr : 0;
    c.nregs = GUARD_CRASH_NREGS;
    /* x86-64 gregs order: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags,
     * csgsfs, err, trapno, oldmask, cr2 */
    const uint64_t g[GUARD_CRASH_NREGS] = {
        r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14,
        r->r15, r->rdi, r->rsi, r->rbp, r->rbx, r->rdx, r->rax,
        r->rcx, r->rsp, r->rip, r->eflags, r->cs | (r->gs << 16) | (r->fs << 32),
        0, 0, 0, c.fault_addr};
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
             "%s %s (si_code %d) on thread T%d%s; %u other thread(s) asked for their stacks, "
             "%u answered",
             go_code ? "the Go runtime ends the process for a signal in C code (cgo):"
                     : "the process died of",
             guard_signal_name(sig), si->si_code, (int)tid, where, asked, answered);
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
    if (event == PTRACE_EVENT_EXEC) { /* a new image: its own line table, its own crash */
        char exe[64];
        snprintf(exe, sizeof exe, "/proc/%d/exe", (int)traced);
        int fd = open(exe, O_RDONLY | O_CLOEXEC);
        go_pcln_free(go_code);
        go_code = fd >= 0 ? go_table(fd, &go_pie) : NULL;
        if (fd >= 0)
            close(fd);
        recorded = 0;
    }
    if (event) { /* a clone or an exec */
        ptrace(PTRACE_CONT, tid, 0, 0);
        return 1;
    }
    /* a signal on its way: the thread's registers, once for both uses.
     * Go installs every handler with SA_RESTART, so a Go program's calls
     * need no rewriting, and its other signals (SIGURG at every
     * preemption, SIGCHLD at every child's end) need no look at all. */
    int fatal = sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
                sig == SIGABRT || sig == SIGSYS;
    struct user_regs_struct r;
    if ((!go_code || fatal) && ptrace(PTRACE_GETREGS, tid, 0, &r) == 0) {
        siginfo_t si;
        if (!recorded && fatal &&
            ptrace(PTRACE_GETSIGINFO, tid, 0, &si) == 0 &&
            (go_code ? go_fatal(tid, sig, &si, r.rip) : uncaught(tid, sig)))
            record(tid, sig, &si, &r);
        restart_fix_call(tid, &r); /* restart.c: no EINTR from a watched call */
    }
    ptrace(PTRACE_CONT, tid, 0, sig);
    return 1;
}

int crash_traced(pid_t pid)
{
    return traced && pid == traced;
}
