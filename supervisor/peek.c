/*
 * peek.c — reading another process from outside: /proc files, its memory
 * (process_vm_readv), a thread's stack at its system call.
 *
 * Everything read here is the program's and may change or vanish while it
 * is read (the thread is stopped in a watched call, its other threads are
 * not): every read is bounded, a failure gives zeros or empty strings, and
 * nothing read is trusted as a length without a bound.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sup.h"

/* Out of descriptors (errno EMFILE or ENFILE after a failed open): said
 * once, since from then on processes can go unseen. */
void peek_fd_failed(void)
{
    static int said;
    if ((errno == EMFILE || errno == ENFILE) && !said++) {
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        sup_warn("out of file descriptors (limit %llu): processes started from now on may be "
                 "missing from the logs; raise the hard limit (ulimit -Hn)",
                 (unsigned long long)rl.rlim_cur);
    }
}

ssize_t peek_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        peek_fd_failed();
        return -1;
    }
    size_t got = 0;
    while (got + 1 < cap) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return (ssize_t)got;
}

/* /proc/<tid>/syscall and /proc/<pid>/stat, read again through a
 * descriptor kept per thread or process: a thread that makes a watched
 * call usually makes more (a spawning loop), a child's stat is read at its
 * exec and again at its end, and a read from offset 0 makes the file
 * anew.  A descriptor whose task has ended fails to read and is opened
 * again (a new task with the same id is a new /proc entry). */
#define PROC_FDS 64
struct proc_fd {
    pid_t id;
    int fd1; /* the descriptor + 1; 0: none */
};
static struct proc_fd syscall_fds[PROC_FDS], stat_fds[PROC_FDS];

static ssize_t proc_read(struct proc_fd *cache, pid_t id, const char *name, char *buf, size_t cap)
{
    struct proc_fd *c = &cache[(unsigned)id % PROC_FDS];
    ssize_t n = -1;
    if (c->id == id && c->fd1)
        n = pread(c->fd1 - 1, buf, cap - 1, 0);
    if (n <= 0) {
        if (c->fd1)
            close(c->fd1 - 1);
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", (int)id, name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            peek_fd_failed();
        c->id = id;
        c->fd1 = fd + 1;
        n = fd >= 0 ? pread(fd, buf, cap - 1, 0) : -1;
    }
    buf[n > 0 ? n : 0] = '\0';
    return n;
}

/* /proc/<tid>/syscall: "nr a0 .. a5 sp pc" while the thread is in a
 * system call ("running" or "-1 sp pc" otherwise). */
int peek_syscall_regs(pid_t tid, uint64_t *sp, uint64_t *pc, long *nr)
{
    char buf[256];
    *sp = *pc = 0;
    *nr = -2;
    if (proc_read(syscall_fds, tid, "syscall", buf, sizeof buf) <= 0)
        return -1;
    unsigned long long v[9];
    long n;
    if (sscanf(buf, "%ld 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx", &n, &v[0], &v[1],
               &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 9) {
        *nr = n;
        *sp = v[6];
        *pc = v[7];
        return 0;
    }
    if (sscanf(buf, "%ld 0x%llx 0x%llx", &n, &v[0], &v[1]) == 3) {
        *nr = n;
        *sp = v[0];
        *pc = v[1];
        return 0;
    }
    return -1;
}

/* Is the thread inside system call nr now (1), elsewhere (0), or gone (-1)?
 * "running" (on a CPU, in the kernel or not) counts as inside: the caller
 * waits for a sure answer. */
int peek_in_syscall(pid_t tid, long nr)
{
    char buf[256];
    if (proc_read(syscall_fds, tid, "syscall", buf, sizeof buf) <= 0)
        return -1;
    if (!strncmp(buf, "running", 7))
        return 1;
    return strtol(buf, NULL, 10) == nr;
}

ssize_t peek_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
    struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
    return process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

/* A NUL-terminated string of the program's, read a page at a time (a
 * string may end just before an unmapped page). */
size_t peek_string(pid_t pid, uint64_t addr, char *buf, size_t cap)
{
    size_t got = 0;
    buf[0] = '\0';
    if (!addr || cap == 0)
        return 0;
    while (got + 1 < cap) {
        size_t chunk = 4096 - ((addr + got) & 4095);
        if (chunk > cap - 1 - got)
            chunk = cap - 1 - got;
        ssize_t n = peek_mem(pid, addr + got, buf + got, chunk);
        if (n <= 0)
            break;
        void *nul = memchr(buf + got, '\0', (size_t)n);
        if (nul)
            return (size_t)((char *)nul - buf);
        got += (size_t)n;
    }
    buf[got] = '\0';
    return got;
}

/* The payload of an EXEC/SPAWN event: path NUL argv[0] NUL ... (at most 64
 * arguments of 256 bytes, cap bytes in all). */
size_t peek_argv(pid_t pid, uint64_t path, uint64_t argv, char *out, size_t cap)
{
    /* two reads in all, most of the time: the pointers, then every string
     * up to 256 bytes or its page's end; a string that goes on into the
     * next page, or that the batch did not reach, is read alone */
    uint64_t addr[65] = {path};
    size_t na = 1;
    if (argv) {
        ssize_t n = peek_mem(pid, argv, addr + 1, 64 * sizeof addr[0]);
        for (size_t i = 0; n > 0 && i < (size_t)n / sizeof addr[0] && addr[1 + i]; i++)
            na++;
    }
    static char s[65][257];
    struct iovec local[65], remote[65];
    for (size_t k = 0; k < na; k++) {
        size_t len = 4096 - (addr[k] & 4095);
        local[k] = (struct iovec){s[k], len < 256 ? len : 256};
        remote[k] = (struct iovec){(void *)(uintptr_t)addr[k], local[k].iov_len};
    }
    ssize_t got = path ? process_vm_readv(pid, local, na, remote, na, 0) : -1;
    size_t used = 0, at = 0;
    for (size_t k = 0; k < na; k++) {
        size_t len;
        const char *nul = NULL;
        if (got > 0 && at + local[k].iov_len <= (size_t)got)
            nul = memchr(s[k], '\0', local[k].iov_len);
        at += local[k].iov_len;
        if (nul)
            len = (size_t)(nul - s[k]);
        else
            len = peek_string(pid, addr[k], s[k], sizeof s[k]);
        if (used + len + 1 > cap)
            return k == 0 ? 0 : used;
        memcpy(out + used, s[k], len);
        out[used + len] = '\0';
        used += len + 1;
    }
    return used;
}

/* The stack from sp up, as far as it is mapped (a page per iovec: a
 * partial read stops at the first page that is not). */
void peek_stack_copy(pid_t pid, struct peek_stack *st)
{
    uint64_t sp = st->regs[7];
    st->len = 0;
    if (!sp)
        return;
    struct iovec local = {st->bytes, PEEK_STACK_BYTES};
    struct iovec remote[PEEK_STACK_BYTES / 4096 + 1];
    unsigned n = 0;
    uint64_t at = sp, end = sp + PEEK_STACK_BYTES;
    while (at < end && n < sizeof remote / sizeof remote[0]) {
        uint64_t next = (at & ~4095ull) + 4096;
        if (next > end)
            next = end;
        remote[n].iov_base = (void *)(uintptr_t)at;
        remote[n].iov_len = next - at;
        n++;
        at = next;
    }
    ssize_t got = process_vm_readv(pid, &local, 1, remote, n, 0);
    st->len = got > 0 ? (uint32_t)got : 0;
}

static const char *const ns_files[8] = {"mnt", "net", "uts", "ipc", "pid_for_children", "user",
                                        "cgroup", "time_for_children"};

uint64_t peek_ns_inode(pid_t tid, int kind)
{
    char path[96];
    struct stat st;
    if (kind < 1 || kind > 8)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/task/%d/ns/%s", (int)tid, (int)tid, ns_files[kind - 1]);
    if (stat(path, &st) == 0)
        return (uint64_t)st.st_ino;
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)tid, ns_files[kind - 1]);
    return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

void peek_ns_inodes(pid_t tid, uint64_t out[8])
{
    for (int k = 1; k <= 8; k++)
        out[k - 1] = peek_ns_inode(tid, k);
}

/* Linux 6.13's PIDFD_GET_INFO, newer than Debian 12's headers, up to the
 * fields asked for: the process and its parent, the exit status. */
struct peek_pidfd_info {
    uint64_t mask, cgroupid;
    uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    int32_t exit_code;
    uint32_t coredump_mask, spare1;
};
#define PEEK_PIDFD_GET_INFO _IOWR(0xFF, 11, struct peek_pidfd_info)
#define PEEK_PIDFD_INFO_PID 1ull
#define PEEK_PIDFD_INFO_EXIT 8ull /* Linux 6.15: the exit status, once reaped */

/* The wait status of a process that has been reaped, from its pidfd: what
 * /proc no longer has when a parent's blocking wait took the zombie at
 * once.  0 on success. */
int peek_pidfd_exit(int pidfd, int *wstatus)
{
    struct peek_pidfd_info info = {.mask = PEEK_PIDFD_INFO_EXIT};
    if (pidfd < 0 || ioctl(pidfd, PEEK_PIDFD_GET_INFO, &info) != 0 ||
        !(info.mask & PEEK_PIDFD_INFO_EXIT))
        return -1;
    *wstatus = info.exit_code;
    return 0;
}

/* As peek_tgid, and a process's first thread (the one that makes a new
 * child's first call) is answered by its pidfd, without /proc, and the
 * pidfd left in *pidfd for the caller (-1: none). */
pid_t peek_tgid_pidfd(pid_t tid, pid_t *ppid, int *pidfd)
{
    *pidfd = (int)syscall(SYS_pidfd_open, tid, 0); /* fails for a thread that leads nothing */
    if (*pidfd < 0)
        peek_fd_failed();
    struct peek_pidfd_info info = {.mask = PEEK_PIDFD_INFO_PID};
    if (*pidfd >= 0 && ioctl(*pidfd, PEEK_PIDFD_GET_INFO, &info) == 0 &&
        (info.mask & PEEK_PIDFD_INFO_PID) && info.tgid == (uint32_t)tid) {
        *ppid = (pid_t)info.ppid;
        return tid;
    }
    return peek_tgid(tid, ppid); /* another thread, or a kernel before 6.13 */
}

/* The process a thread belongs to, and its parent (0: unknown). */
pid_t peek_tgid(pid_t tid, pid_t *ppid)
{
    char path[64], buf[2048];
    *ppid = 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
    if (peek_file(path, buf, sizeof buf) <= 0)
        return 0;
    const char *t = strstr(buf, "\nTgid:"), *p = strstr(buf, "\nPPid:");
    if (p)
        *ppid = (pid_t)strtol(p + 6, NULL, 10);
    return t ? (pid_t)strtol(t + 6, NULL, 10) : 0;
}

/* /proc/<pid>/stat: state, startstack (field 28, a new one at each exec),
 * exit_code (field 52, a zombie's wait status), session (field 6), the
 * number of threads (field 20). */
int peek_stat(pid_t pid, char *state, uint64_t *startstack, int *exit_code, pid_t *session,
              int *threads, char comm[PEEK_COMM])
{
    char buf[1024];
    if (proc_read(stat_fds, pid, "stat", buf, sizeof buf) <= 0)
        return -1;
    const char *open = strchr(buf, '(');
    const char *p = strrchr(buf, ')'); /* the command may hold blanks and parens */
    if (!open || !p || p < open || p[1] != ' ')
        return -1;
    if (comm) {
        size_t n = (size_t)(p - open - 1) < PEEK_COMM - 1 ? (size_t)(p - open - 1) : PEEK_COMM - 1;
        memcpy(comm, open + 1, n);
        comm[n] = '\0';
    }
    p += 2;
    if (state)
        *state = *p;
    /* fields from 3 (state) on, each a number from 4 */
    int field = 3;
    while (*p && field < 52) {
        const char *sp = strchr(p, ' ');
        if (!sp)
            break;
        p = sp + 1;
        field++;
        unsigned long long v = strtoull(p, NULL, 10);
        if (field == 6 && session)
            *session = (pid_t)v;
        if (field == 20 && threads)
            *threads = (int)v;
        if (field == 28 && startstack)
            *startstack = v;
        if (field == 52 && exit_code)
            *exit_code = (int)v;
    }
    return 0;
}

/* The children thread tid of process pid has started (its
 * /proc/<pid>/task/<tid>/children). */
size_t peek_children(pid_t pid, pid_t tid, pid_t *out, size_t max)
{
    static char buf[PEEK_CHILDREN_MAX * 8]; /* the newest child is listed last */
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)tid);
    if (peek_file(path, buf, sizeof buf) <= 0)
        return 0;
    size_t n = 0;
    for (char *p = buf, *end; n < max; p = end) {
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        out[n++] = (pid_t)v;
    }
    return n;
}

/* The number of threads of a process: the link count of its task
 * directory is two more (one stat instead of reading a file). */
int peek_threads(pid_t pid)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    return stat(path, &st) == 0 && st.st_nlink > 2 ? (int)st.st_nlink - 2 : 0;
}

/* The threads of a process, from its task directory: at most max. */
size_t peek_tasks(pid_t pid, pid_t *out, size_t max)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    size_t n = 0;
    for (struct dirent *de; d && n < max && (de = readdir(d));) {
        pid_t tid = (pid_t)atoi(de->d_name);
        if (tid > 0)
            out[n++] = tid;
    }
    if (d)
        closedir(d);
    return n;
}
