/*
 * main.c — guard-supervise: run a program under seccomp user notification
 * and write libguard logs of what it does (docs/supervised.md).
 *
 *   guard-supervise [--log-dir DIR] [--preload LIB] [--no-goroutines] [--] CMD [ARGS...]
 *
 * The supervisor is the program's parent and a child subreaper (orphans
 * of the program come back to it).  Its exit status is the program's
 * (128 + the signal when it was killed); 125 when it could not start it.
 *
 * What must hold when the supervisor itself dies (it is killed, it
 * crashes): the program neither hangs on a watched call nor goes on
 * without supervision as if nothing happened, and its calls do not start
 * failing.  The program's first process has PR_SET_PDEATHSIG(SIGKILL);
 * a watchdog (a second process, forked before the program runs, holding a
 * copy of the listener) sees the supervisor's end on a pipe, says so on
 * stderr, kills every supervised process it knows of and answers any
 * call still waiting so that nothing blocks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sup.h"

struct sup_options sup_opt;
int sup_killable_wait;
volatile uint32_t *sup_shared_pids;

uint64_t sup_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sup_warn(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    dprintf(2, "guard-supervise: %s\n", buf);
}

int notif_continue(struct notif *n)
{
    memset(n->resp, 0, sizeof *n->resp);
    n->resp->id = n->req->id;
    n->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    while (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_SEND, n->resp) != 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

int notif_valid(struct notif *n)
{
    uint64_t id = n->req->id;
    return ioctl(n->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

#define TICK_MS 10 /* how often pending work is looked at while nothing happens */

static void usage(FILE *f)
{
    fputs("usage: guard-supervise [--log-dir DIR] [--preload LIB] [--no-goroutines] [--no-crash]\n"
          "                      [--no-ptrace] [-v]\n"
          "                      [--] CMD [ARGS...]\n"
          "Runs CMD under seccomp user notification and writes libguard logs of its\n"
          "processes, spawns, execs, reaps and namespace calls into DIR (default: the\n"
          "log_dir of GUARD_OPTIONS, else the current directory).\n"
          "  --preload LIB     LD_PRELOAD=LIB for CMD only (the shim and the supervisor)\n"
          "  --no-goroutines   do not stop Go threads to learn which goroutine made a call\n"
          "  --no-crash        do not trace a static CMD with ptrace to record its crash\n"
          "  --no-ptrace       trace no process with ptrace: --no-crash, and a signal\n"
          "                    may make a fork fail with EINTR (a handler without SA_RESTART)\n"
          "  -v                at the end, say how many processes were supervised, the most\n"
          "                    records held at once, and the supervisor's own CPU time\n", f);
}

/* ---- the launcher's child ------------------------------------------------- */

/* data: 'K' (killable wait) or 'I' with the listener, else the errno */
static void send_fd(int sock, int fd, int err)
{
    char data = (char)err;
    struct iovec iov = {&data, 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        memset(&u, 0, sizeof u);
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    while (sendmsg(sock, &msg, 0) < 0 && errno == EINTR)
        ;
}

static int recv_fd(int sock, int *err)
{
    char data = 0;
    struct iovec iov = {&data, 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof u.buf};
    ssize_t n;
    while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    *err = n <= 0 ? EPIPE : data;
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (!c || c->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static __attribute__((noreturn)) void child_main(int sock, pid_t super, const sigset_t *mask,
                                                 char **argv)
{
    if (sup_opt.preload)
        setenv("LD_PRELOAD", sup_opt.preload, 1);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != super) /* the supervisor died before the line above */
        _exit(125);
    sigprocmask(SIG_SETMASK, mask, NULL);
    int killable = 0;
    int fd = filter_install(&killable);
    send_fd(sock, fd, fd < 0 ? errno : killable ? 'K' : 'I');
    if (fd < 0)
        _exit(125);
    close(fd); /* the program never holds the listener */
    close(sock);
    execvp(argv[0], argv);
    dprintf(2, "guard-supervise: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
}

/* ---- the watchdog ---------------------------------------------------------- */

static __attribute__((noreturn)) void watchdog_main(int pipe_r, int listener, pid_t super)
{
    for (int fd = 3; fd < 1024; fd++)
        if (fd != pipe_r && fd != listener)
            close(fd);
    /* it holds none of the caller's streams but stderr (for its message):
     * a caller reading the program's output to its end must not wait for it */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
    }
    for (;;) {
        char byte = 0;
        ssize_t n = read(pipe_r, &byte, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 1 && byte == 'k') /* the supervisor is done and says so */
            _exit(0);
        if (n == 1 && byte == 'h' && null >= 0) { /* handed off: the caller has gone on */
            dup2(null, 2);
            continue;
        }
        break; /* the pipe's end: the supervisor died */
    }
    unsigned killed = 0;
    for (unsigned i = 0; i < SUP_SHARED_MAX; i++)
        if (sup_shared_pids[i] && kill((pid_t)sup_shared_pids[i], SIGKILL) == 0)
            killed++;
    dprintf(2, "guard-supervise: the supervisor (pid %d) died; its program was killed (%u "
               "process%s) rather than left to run unsupervised\n",
            (int)super, killed, killed == 1 ? "" : "es");
    /* Calls already waiting, or made by a process not yet in the list:
     * kill their caller and let the call go (it dies with the signal). */
    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
        _exit(1);
    struct seccomp_notif *req = calloc(1, sizes.seccomp_notif > sizeof *req ? sizes.seccomp_notif : sizeof *req);
    struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp > sizeof *resp ? sizes.seccomp_notif_resp : sizeof *resp);
    struct notif nt = {listener, req, resp, 0};
    for (int quiet = 0; req && resp && quiet < 10;) {
        struct pollfd lp = {listener, POLLIN, 0};
        int r = poll(&lp, 1, 100);
        if (r <= 0 || (lp.revents & (POLLHUP | POLLERR)) || !(lp.revents & POLLIN)) {
            quiet += r >= 0;
            if (lp.revents & POLLHUP)
                break;
            continue;
        }
        memset(req, 0, sizes.seccomp_notif);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0)
            continue;
        quiet = 0;
        kill((pid_t)req->pid, SIGKILL);
        notif_continue(&nt);
    }
    _exit(0);
}

/* ---- the loop ---------------------------------------------------------------- */

static pid_t top_pid, watchdog_pid;
static int top_status = -1;

static void reap_children(void)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
        if (pid == watchdog_pid || restart_stop(pid, st) || crash_stop(pid, st))
            continue;
        if (pid == top_pid)
            top_status = st;
        procs_reaped(pid, st);
    }
}

static int status_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 125;
}

static void set_log_dir(const char *dir)
{
    char cwd[PATH_MAX];
    size_t len = 0;
    if (dir[0] != '/' && getcwd(cwd, sizeof cwd)) {
        len = strnlen(cwd, sizeof cwd);
        memcpy(sup_opt.log_dir, cwd, len);
        sup_opt.log_dir[len++] = '/';
    }
    snprintf(sup_opt.log_dir + len, sizeof sup_opt.log_dir - len, "%s", dir);
}

/* log_dir from GUARD_OPTIONS (key=value:key=value), as the shim reads it. */
static void log_dir_from_options(const char *opts)
{
    for (const char *p = opts; p && *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 8 && !strncmp(p, "log_dir=", 8)) {
            char dir[PATH_MAX];
            snprintf(dir, sizeof dir, "%.*s", (int)(len - 8), p + 8);
            set_log_dir(dir);
        }
        p = end ? end + 1 : NULL;
    }
}

int main(int argc, char **argv)
{
    int i = 1;
    set_log_dir(".");
    sup_opt.guard_options = getenv("GUARD_OPTIONS");
    log_dir_from_options(sup_opt.guard_options);
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        } else if (!strcmp(argv[i], "--log-dir") && i + 1 < argc) {
            set_log_dir(argv[++i]);
        } else if (!strncmp(argv[i], "--log-dir=", 10)) {
            set_log_dir(argv[i] + 10);
        } else if (!strcmp(argv[i], "--preload") && i + 1 < argc) {
            sup_opt.preload = argv[++i];
        } else if (!strcmp(argv[i], "--no-goroutines")) {
            sup_opt.no_goroutines = 1;
        } else if (!strcmp(argv[i], "--no-crash")) {
            sup_opt.no_crash = 1;
        } else if (!strcmp(argv[i], "--no-ptrace")) {
            sup_opt.no_crash = sup_opt.no_ptrace = 1;
        } else if (!strcmp(argv[i], "-v")) {
            sup_opt.verbose = 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 125;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 125;
    }
    sup_shared_pids = mmap(NULL, SUP_SHARED_MAX * sizeof(uint32_t), PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sup_shared_pids == MAP_FAILED) {
        sup_warn("mmap: %s", strerror(errno));
        return 125;
    }
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGQUIT);
    sigprocmask(SIG_BLOCK, &mask, &old);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        sup_warn("socketpair: %s", strerror(errno));
        return 125;
    }
    pid_t super = getpid();
    uint64_t start = sup_now_ns();
    top_pid = fork();
    if (top_pid < 0) {
        sup_warn("fork: %s", strerror(errno));
        return 125;
    }
    if (top_pid == 0) {
        close(sv[0]);
        child_main(sv[1], super, &old, argv + i);
    }
    close(sv[1]);
    /* A pidfd per live process and the kept /proc descriptors (peek.c):
     * the supervisor's descriptor limit goes up to its hard limit, after
     * the fork, so that the program keeps the limit it was given. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &nofile);
    }
    int err = 0;
    int listener = recv_fd(sv[0], &err);
    close(sv[0]);
    sup_killable_wait = err == 'K';
    if (listener < 0) {
        sup_warn("cannot install the seccomp filter: %s (seccomp user notification needs Linux "
                 "5.5 or later and a filter allowed here)", strerror(err));
        waitpid(top_pid, NULL, 0);
        return 125;
    }
    /* A watched call wakes the supervisor on the caller's CPU and the
     * answer wakes the caller on the supervisor's (Linux 6.6): each is a
     * switch on one CPU instead of a wake-up of another one, which in a
     * virtual machine is an interrupt through the hypervisor.  Older
     * kernels refuse it (EINVAL): the calls are answered as before. */
    (void)ioctl(listener, SUP_IOCTL_NOTIF_SET_FLAGS, SUP_USER_NOTIF_FD_SYNC_WAKE_UP);
    int wd[2];
    if (pipe2(wd, O_CLOEXEC) == 0) {
        watchdog_pid = fork();
        if (watchdog_pid == 0) {
            close(wd[1]);
            watchdog_main(wd[0], listener, super);
        }
        close(wd[0]);
    } else {
        wd[1] = -1;
    }
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    ev.data.u64 = 1;
    epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev);
    ev.data.u64 = 2;
    epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
    procs_init(epfd);
    procs_top(top_pid, start);

    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) {
        sup_warn("SECCOMP_GET_NOTIF_SIZES: %s", strerror(errno));
        return 125;
    }
    struct seccomp_notif *req = calloc(1, sizes.seccomp_notif > sizeof *req ? sizes.seccomp_notif : sizeof *req);
    struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp > sizeof *resp ? sizes.seccomp_notif_resp : sizeof *resp);
    int listener_open = 1, handed_off = 0;
    uint64_t last_tick = 0;
    for (;;) {
        struct epoll_event evs[32];
        int n = epoll_wait(epfd, evs, 32, procs_pending() ? TICK_MS : 50);
        for (int k = 0; k < n; k++) {
            if (evs[k].data.u64 == 1) {
                if (evs[k].events & EPOLLIN) {
                    memset(req, 0, sizes.seccomp_notif);
                    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) == 0) {
                        struct notif nt = {listener, req, resp, sup_now_ns()};
                        procs_handle(&nt);
                    }
                } else if (evs[k].events & (EPOLLHUP | EPOLLERR)) {
                    epoll_ctl(epfd, EPOLL_CTL_DEL, listener, NULL);
                    listener_open = 0;
                }
            } else if (evs[k].data.u64 == 2) {
                /* every queued signal in one read; one SIGCHLD or many,
                 * reap_children takes every child that changed */
                struct signalfd_siginfo si[16];
                ssize_t got;
                while ((got = read(sfd, si, sizeof si)) >= (ssize_t)sizeof si[0]) {
                    int chld = 0;
                    for (size_t i = 0; i < (size_t)got / sizeof si[0]; i++)
                        if (si[i].ssi_signo == SIGCHLD)
                            chld = 1;
                        else if (si[i].ssi_signo == SIGTERM || si[i].ssi_signo == SIGHUP)
                            kill(top_pid, (int)si[i].ssi_signo); /* the terminal sends the rest itself */
                    if (chld)
                        reap_children();
                    if (got < (ssize_t)sizeof si)
                        break; /* drained */
                }
            } else {
                procs_pidfd_ready(evs[k].data.ptr);
            }
        }
        /* What is pending (an exec's outcome, a spawn's child, a zombie's
         * reaping) is settled at the next call of its process or its
         * parent (procs_handle), which comes before anything that could
         * depend on it; the tick only catches up with quiet processes, so
         * it runs when nothing happened for a tick or a tick has passed. */
        uint64_t now = sup_now_ns();
        if (n == 0 || now - last_tick >= TICK_MS * 1000000ull) {
            procs_tick();
            last_tick = now;
        }
        if (top_status < 0)
            continue;
        if (!listener_open || !procs_live())
            break;
        if (!handed_off) {
            /* The program ended but processes it left run on: the caller
             * gets the program's status now; a copy of the supervisor
             * keeps answering their calls until they end. */
            handed_off = 1;
            if (wd[1] >= 0)
                (void)!write(wd[1], "h", 1);
            pid_t bg = fork();
            if (bg != 0)
                _exit(status_code(top_status));
            restart_forget();
            int null = open("/dev/null", O_RDWR | O_CLOEXEC);
            if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
            }
        }
    }
    procs_finish();
    if (wd[1] >= 0) {
        (void)!write(wd[1], "k", 1);
        close(wd[1]);
    }
    if (watchdog_pid > 0 && !handed_off)
        waitpid(watchdog_pid, NULL, 0);
    return status_code(top_status);
}
