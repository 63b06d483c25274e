/*
 * symbolizer.c — function, file and line for the immediate report, from
 * an external symbolizer process (`guard-analyze symbolize`), as ASan
 * does with llvm-symbolizer: no DWARF reader runs inside the program.
 *
 * One symbolizer runs per report, started and reaped within it:
 *   - the program's child is a clone with no exit signal that never
 *     execs, so the program gets no SIGCHLD and its wait(-1) never sees
 *     it (only __WALL/__WCLONE waits do); the symbolizer is its child;
 *   - it talks over one socketpair, written with MSG_NOSIGNAL, so a
 *     symbolizer that dies cannot raise SIGPIPE in the program;
 *   - its environment has no LD_PRELOAD and no GUARD_OPTIONS (it is not
 *     watched itself) and no DEBUGINFOD_URLS (no network at a crash);
 *   - it gets symbolize_timeout_ms in all; then it is killed and the
 *     report falls back to dladdr's names.
 * The socket exists only while the report is being written.  A process
 * under a seccomp filter is never asked to clone or exec (a filter may
 * kill it for that): its reports stay unsymbolized.
 *
 * Everything here is async-signal-safe (reports are made from SIGSEGV
 * handlers): system calls, static buffers used under the report lock,
 * and dladdr (see report.c).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fork/fork.h"
#include "guard_internal.h"
#include "symbolizer.h"

extern char **environ;

#define REQUEST_CAP (64u << 10)
#define ANSWER_CAP (128u << 10)
#define ENV_MAX 1024
#define RUNS_MAX 32 /* symbolizer runs per process; later reports stay unsymbolized */

static char symbolizer_path[512]; /* "": none found */
static int looked_up;             /* symbolizer_path was looked for (at the first report) */
static unsigned runs;

static char request[REQUEST_CAP];
static size_t request_len;
static char answer[ANSWER_CAP];
static const char *env_out[ENV_MAX + 1];

/* Where guard-analyze is: the symbolizer option, else next to this
 * library (the build tree: build/libguard.so and build/guard-analyze), else
 * ../bin beside it (an installed PREFIX/lib and PREFIX/bin). */
struct library_state {
    char *out;
    size_t cap;
};

static int library_line(const struct guard_maps_line *l, void *arg)
{
    struct library_state *st = arg;
    uintptr_t me = (uintptr_t)library_line;
    if (me < l->lo || me >= l->hi || !l->path || strlen(l->path) >= st->cap)
        return 0;
    memcpy(st->out, l->path, strlen(l->path) + 1);
    return 1;
}

/* The absolute path of this library, from /proc/self/maps (dladdr gives
 * the name it was loaded by, which may be relative to a directory the
 * program has left since). */
static int this_library(char *out, size_t cap)
{
    struct library_state st = {out, cap};
    return guard_maps_each(library_line, &st);
}

static void find_symbolizer(void)
{
    symbolizer_path[0] = '\0';
    if (!guard_opt.symbolize)
        return;
    if (guard_opt.symbolizer[0]) {
        if (GUARD_SYS3(SYS_access, guard_opt.symbolizer, X_OK, 0) == 0)
            guard_fmt(symbolizer_path, sizeof symbolizer_path, "%s", guard_opt.symbolizer);
        return;
    }
    char self[sizeof symbolizer_path];
    if (!this_library(self, sizeof self))
        return;
    const char *slash = strrchr(self, '/');
    int dirlen = (int)(slash - self);
    static const char *const beside[] = {"/guard-analyze", "/../bin/guard-analyze"};
    for (unsigned i = 0; i < sizeof beside / sizeof beside[0]; i++) {
        char path[sizeof symbolizer_path];
        size_t tail = strlen(beside[i]);
        if ((size_t)dirlen + tail + 1 > sizeof path)
            continue;
        memcpy(path, self, (size_t)dirlen);
        memcpy(path + dirlen, beside[i], tail + 1);
        if (GUARD_SYS3(SYS_access, path, X_OK, 0) == 0) {
            memcpy(symbolizer_path, path, (size_t)dirlen + tail + 1);
            return;
        }
    }
}

/* A seccomp filter may kill the process for a clone or an exec. */
static int under_seccomp_filter(void)
{
    int fd = guard_sys_open("/proc/self/status", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 1; /* cannot tell: do not risk it */
    char buf[4096];
    long n = guard_sys_read(fd, buf, sizeof buf - 1);
    guard_sys_close(fd);
    if (n <= 0)
        return 1;
    buf[n] = '\0';
    const char *p = strstr(buf, "\nSeccomp:");
    if (!p)
        return 0; /* a kernel without seccomp */
    p += strlen("\nSeccomp:");
    while (*p == ' ' || *p == '\t')
        p++;
    return *p != '0';
}

void guard_symbolizer_batch_begin(struct guard_symbolizer_batch *b)
{
    b->n = 0;
    b->nraw = 0;
    request_len = 0;
}

void guard_symbolizer_dladdr(struct guard_symbolizer_pc *e, uint64_t pc)
{
    memset(e, 0, sizeof *e);
    e->pc = pc;
    Dl_info info;
    if (!dladdr((void *)(uintptr_t)pc, &info) || !info.dli_fname)
        return;
    e->have_module = 1;
    /* dladdr names the main program by argv[0], which may be relative or
     * a bare name: the file itself is what the symbolizer (and a reader)
     * needs. */
    e->module = info.dli_fname[0] == '/' || !guard_exe_path()[0] ? info.dli_fname : guard_exe_path();
    e->module_offset = pc - (uintptr_t)info.dli_fbase;
    e->dl_function = info.dli_sname;
    e->dl_function_offset = info.dli_sname ? pc - (uintptr_t)info.dli_saddr : 0;
}

void guard_symbolizer_batch_add(struct guard_symbolizer_batch *b, uint64_t pc)
{
    if (b->n >= GUARD_SYMBOLIZER_MAX_PCS)
        return;
    struct guard_symbolizer_pc *e = &b->pcs[b->n++];
    guard_symbolizer_dladdr(e, pc);
    if (!e->have_module)
        return;
    const char *file = e->module;
    if (file[0] != '/')
        return;
    size_t room = REQUEST_CAP - request_len;
    size_t n = guard_fmt(request + request_len, room, "%s 0x%lx\n", file,
                         (unsigned long)e->module_offset);
    if (n >= room - 1 || strchr(file, '\n'))
        return; /* does not fit, or cannot be said on one line */
    request_len += n;
    e->asked = 1;
}

void guard_symbolizer_batch_add_raw(struct guard_symbolizer_batch *b, uint32_t stack_id,
                                    const char *log_path)
{
    if (b->n >= GUARD_SYMBOLIZER_MAX_PCS || !stack_id || log_path[0] != '/')
        return;
    size_t room = REQUEST_CAP - request_len;
    size_t n = guard_fmt(request + request_len, room, "STACK %s %u\n", log_path, stack_id);
    if (n >= room - 1 || strchr(log_path, '\n'))
        return;
    request_len += n;
    struct guard_symbolizer_pc *e = &b->pcs[b->n++];
    memset(e, 0, sizeof *e);
    e->raw_stack = stack_id;
    e->asked = 1;
}

/* The symbolizer itself (the grandchild): system calls only, until exec. */
static void exec_symbolizer(int sock, long parent) __attribute__((noreturn));
static void exec_symbolizer(int sock, long parent)
{
    const char *argv[] = {symbolizer_path, "symbolize", NULL};
    GUARD_SYS3(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0);
    if (GUARD_SYS3(SYS_getppid, 0, 0, 0) == parent) { /* else its parent is already gone */
        uint64_t none = 0;
        guard_sys_call6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, 8, 0, 0);
        long io = GUARD_SYS3(SYS_fcntl, sock, F_DUPFD_CLOEXEC, 10);
        int null = guard_sys_open("/dev/null", O_WRONLY | O_CLOEXEC, 0);
        if (io >= 0 && GUARD_SYS3(SYS_dup3, io, 0, 0) == 0 && GUARD_SYS3(SYS_dup3, io, 1, 0) == 1 &&
            (null < 0 || GUARD_SYS3(SYS_dup3, null, 2, 0) == 2))
            GUARD_SYS3(SYS_execve, symbolizer_path, argv, env_out);
    }
    GUARD_SYS3(SYS_exit_group, 127, 0, 0);
    __builtin_unreachable();
}

/* The program must not see the symbolizer as a child: an exec makes a
 * process's exit signal SIGCHLD again, so the program's own child is an
 * intermediate that never execs (clone with no exit signal: no SIGCHLD,
 * invisible to wait(-1)).  It starts the symbolizer, which dies with it
 * (PR_SET_PDEATHSIG), and reaps it.  Returns the intermediate's pid. */
static pid_t spawn(int sock)
{
    size_t ne = 0;
    for (char **e = environ; e && *e && ne < ENV_MAX; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) && strncmp(*e, "GUARD_OPTIONS=", 14) &&
            strncmp(*e, "DEBUGINFOD_URLS=", 16))
            env_out[ne++] = *e;
    env_out[ne] = NULL;
    long pid = guard_sys_call6(SYS_clone, 0, 0, 0, 0, 0, 0);
    if (pid != 0)
        return (pid_t)pid;
    /* the intermediate: system calls only */
    long self = GUARD_SYS3(SYS_getpid, 0, 0, 0);
    long g = guard_sys_call6(SYS_clone, SIGCHLD, 0, 0, 0, 0, 0);
    if (g == 0)
        exec_symbolizer(sock, self);
    if (g > 0)
        while (guard_sys_call6(SYS_wait4, g, 0, 0, 0, 0, 0) == -EINTR)
            ;
    GUARD_SYS3(SYS_exit_group, 0, 0, 0);
    __builtin_unreachable();
}

/* Send the requests and read the answers until end of file or the
 * deadline.  Returns the bytes of answer read. */
static size_t converse(int sock, uint64_t deadline)
{
    size_t sent = 0, got = 0;
    int shut = 0;
    for (;;) {
        if (sent == request_len && !shut) {
            GUARD_SYS3(SYS_shutdown, sock, SHUT_WR, 0);
            shut = 1;
        }
        uint64_t now = guard_now_ns();
        if (now >= deadline || got == ANSWER_CAP - 1)
            return got;
        struct pollfd p = {sock, (short)(POLLIN | (shut ? 0 : POLLOUT)), 0};
        uint64_t left = deadline - now;
        struct timespec ts = {(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
        long r = guard_sys_call6(SYS_ppoll, (long)&p, 1, (long)&ts, 0, 8, 0);
        if (r == -EINTR)
            continue;
        if (r <= 0)
            return got;
        if (p.revents & POLLIN) {
            long n = guard_sys_call6(SYS_recvfrom, sock, (long)(answer + got),
                                     (long)(ANSWER_CAP - 1 - got), MSG_DONTWAIT, 0, 0);
            if (n == 0)
                return got; /* the symbolizer is done */
            if (n > 0)
                got += (size_t)n;
            else if (n != -EAGAIN && n != -EINTR)
                return got;
        } else if (p.revents & (POLLHUP | POLLERR)) {
            return got;
        }
        if (!shut && (p.revents & POLLOUT)) {
            long n = guard_sys_call6(SYS_sendto, sock, (long)(request + sent),
                                     (long)(request_len - sent), MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
            if (n > 0)
                sent += (size_t)n;
            else if (n != -EAGAIN && n != -EINTR)
                return got;
        }
    }
}

static uint64_t parse_hex(const char *p)
{
    uint64_t v = 0;
    if (p[0] == '0' && p[1] == 'x')
        p += 2;
    for (;; p++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (*p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else
            return v;
        v = v << 4 | d;
    }
}

static unsigned parse_line_number(const char *p)
{
    unsigned v = 0;
    for (; *p >= '0' && *p <= '9' && v < 100000000u; p++)
        v = v * 10 + (unsigned)(*p - '0');
    return v;
}

static const char *known(const char *s)
{
    return strcmp(s, "??") ? s : NULL;
}

/* PC MODULE OFFSET FUNCTION FILE LINE, tab-separated (symbolize_cmd.c) */
static void parse_raw_frame(struct guard_symbolizer_batch *b, struct guard_symbolizer_pc *e,
                            char *line)
{
    char *f[6];
    unsigned nf = 0;
    for (char *p = line; nf < 6; nf++) {
        f[nf] = p;
        char *t = strchr(p, '\t');
        if (!t) {
            nf++;
            break;
        }
        *t = '\0';
        p = t + 1;
    }
    if (nf != 6 || b->nraw >= GUARD_SYMBOLIZER_MAX_PCS)
        return;
    if (e->raw_n == 0)
        e->raw_first = b->nraw;
    struct guard_symbolizer_raw_frame *r = &b->raw_frames[b->nraw++];
    e->raw_n++;
    r->pc = parse_hex(f[0]);
    r->module = known(f[1]);
    r->module_offset = parse_hex(f[2]);
    r->loc.function = known(f[3]);
    r->loc.file = known(f[4]);
    r->loc.line = parse_line_number(f[5]);
}

/* Split the answers in place: the asked pcs, in order, each get the
 * locations up to their empty line. */
static void parse(struct guard_symbolizer_batch *b, size_t len)
{
    answer[len] = '\0';
    char *p = answer;
    for (unsigned i = 0; i < b->n; i++) {
        struct guard_symbolizer_pc *e = &b->pcs[i];
        if (!e->asked)
            continue;
        for (;;) {
            char *nl = strchr(p, '\n');
            if (!nl)
                return; /* cut short: the rest stays unsymbolized */
            *nl = '\0';
            if (p == nl) { /* the empty line: this pc is done */
                p = nl + 1;
                break;
            }
            if (e->raw_stack) {
                parse_raw_frame(b, e, p);
                p = nl + 1;
                continue;
            }
            char *t1 = strchr(p, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
            if (t2 && e->nlocs < GUARD_SYMBOLIZER_MAX_LOCS) {
                *t1 = *t2 = '\0';
                struct guard_symbolizer_loc *l = &e->locs[e->nlocs++];
                l->function = known(p);
                l->file = known(t1 + 1);
                l->line = parse_line_number(t2 + 1);
            }
            p = nl + 1;
        }
    }
}

int guard_symbolizer_batch_run(struct guard_symbolizer_batch *b)
{
    if (!looked_up) {
        find_symbolizer();
        looked_up = 1;
    }
    if (!symbolizer_path[0] || request_len == 0 || runs >= RUNS_MAX ||
        guard_fork_in_vfork_child || under_seccomp_filter())
        return 0;
    runs++;
    int sv[2];
    if (guard_sys_call6(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, (long)sv, 0, 0) != 0)
        return 0;
    pid_t pid = spawn(sv[1]);
    guard_sys_close(sv[1]);
    if (pid < 0) {
        guard_sys_close(sv[0]);
        return 0;
    }
    uint64_t deadline = guard_now_ns() + (uint64_t)guard_opt.symbolize_timeout_ms * 1000000u;
    size_t len = converse(sv[0], deadline);
    guard_sys_close(sv[0]);
    /* Reaped here, whatever happened: nothing of it outlives the report.
     * The intermediate ends by itself once the symbolizer has (a short
     * wait); else it is killed, and the symbolizer with it. */
    for (int i = 0; i < 100; i++) {
        long r = guard_sys_call6(SYS_wait4, pid, 0, __WALL | WNOHANG, 0, 0, 0);
        if (r == pid || (r < 0 && r != -EINTR))
            goto reaped;
        struct timespec ms = {0, 1000000};
        GUARD_SYS3(SYS_nanosleep, &ms, 0, 0);
    }
    guard_sys_kill(pid, SIGKILL);
    while (guard_sys_call6(SYS_wait4, pid, 0, __WALL, 0, 0, 0) == -EINTR)
        ;
reaped:
    parse(b, len);
    int answered = 0;
    for (unsigned i = 0; i < b->n; i++)
        answered |= b->pcs[i].nlocs > 0 || b->pcs[i].raw_n > 0;
    return answered;
}
