/*
 * log_keep.c — retention of older logs (keep_logs=N, the field profile).
 *
 * When a process creates its log, the logs in log_dir of earlier processes
 * of the same executable are pruned to the newest N (by modification
 * time, then name): a program that runs forever in production, or
 * restarts a thousand times, leaves at most N logs of ended processes
 * behind besides those of live ones.
 *
 * What must hold, for many processes of one program starting at once in
 * one log_dir, each pruning as it starts:
 *  - a log is removed only when it is certainly an ended process's log of
 *    this executable: a regular file of ours (same owner), with a valid
 *    header and PROCESS record naming the same executable path, whose pid
 *    is not alive (kill(pid, 0) says ESRCH).  A file being created (no
 *    header yet), a log of a live process, another user's file or
 *    anything unreadable is left alone.
 *  - the rule depends only on the set of ended logs, so concurrent pruners
 *    agree on what to remove and at worst remove the same file twice
 *    (ENOENT, ignored); none removes a log another keeps.
 * Async-signal-safe (the log may be created from a signal handler): raw
 * system calls, no allocation.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "guard_internal.h"
#include "guard_names.h"

#define KEEP_MAX 1000u    /* the option's bound */
#define NAME_CAP 128u     /* our names are shorter (guard.<exe:64>.<pid>.<hex>.log) */

struct kept {
    uint64_t mtime_ns;
    char name[NAME_CAP];
};
GUARD_LARGE static struct kept kept[KEEP_MAX];

/* Is a newer than b?  (mtime, then name: a total order every pruner
 * shares.) */
static int newer(const struct kept *a, const struct kept *b)
{
    if (a->mtime_ns != b->mtime_ns)
        return a->mtime_ns > b->mtime_ns;
    return strcmp(a->name, b->name) > 0;
}

/* The pid of the log `name` when it is an ended process's log of exe, else
 * 0.  Reads the header and the PROCESS record only. */
static pid_t ended_log_of(int dirfd, const char *name, const char *exe, size_t exe_len,
                          uint64_t *mtime_ns)
{
    int fd = guard_sys_openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
                              O_NOCTTY, 0);
    if (fd < 0)
        return 0;
    pid_t pid = 0;
    struct stat st;
    struct {
        struct guard_file_header h;
        struct guard_rec_process p;
    } head;
    char path[PATH_MAX];
    if (guard_sys_call6(SYS_fstat, fd, (long)&st, 0, 0, 0, 0) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != (uid_t)guard_sys_call6(SYS_geteuid, 0, 0, 0, 0, 0, 0))
        goto out;
    if (guard_sys_pread(fd, &head, sizeof head, 0) != (long)sizeof head ||
        head.h.magic != GUARD_LOG_MAGIC || head.h.header_size != sizeof head.h ||
        head.p.rec.sync != GUARD_REC_SYNC || head.p.rec.type != GUARD_REC_PROCESS ||
        head.p.exe_len != exe_len || exe_len >= sizeof path || head.h.pid == 0)
        goto out;
    if (guard_sys_pread(fd, path, exe_len, sizeof head) != (long)exe_len ||
        memcmp(path, exe, exe_len) != 0)
        goto out;
    pid_t p = (pid_t)head.h.pid;
    if (p == guard_pid || guard_sys_kill(p, 0) != -ESRCH)
        goto out; /* alive (or ours: the same pid before an exec) */
    pid = p;
    *mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
out:
    guard_sys_close(fd);
    return pid;
}

static void drop(int dirfd, const char *name)
{
    (void)guard_sys_call6(SYS_unlinkat, dirfd, (long)name, 0, 0, 0, 0);
}

void guard_log_keep_prune(const char *dir, const char *exe, unsigned keep)
{
    if (keep == 0)
        return;
    if (keep > KEEP_MAX)
        keep = KEEP_MAX;
    int saved = errno;
    int dirfd = guard_sys_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dirfd < 0) {
        errno = saved;
        return;
    }
    /* our own file names start so; others are not opened at all */
    char prefix[96];
    memcpy(prefix, "guard.", 6);
    guard_exe_short_name(exe, prefix + 6, sizeof prefix - 7);
    size_t plen = strlen(prefix);
    prefix[plen++] = '.';
    size_t exe_len = strlen(exe);
    unsigned nkept = 0;
    char buf[4096];
    for (;;) {
        long n = guard_sys_call6(SYS_getdents64, dirfd, (long)buf, sizeof buf, 0, 0, 0);
        if (n <= 0)
            break;
        for (long at = 0; at < n;) {
            struct dirent64 *d = (struct dirent64 *)(buf + at);
            at += d->d_reclen;
            size_t len = strnlen(d->d_name, sizeof d->d_name);
            if (len >= NAME_CAP || len < plen + 4 || strncmp(d->d_name, prefix, plen) != 0 ||
                strcmp(d->d_name + len - 4, ".log") != 0)
                continue;
            struct kept c;
            if (!ended_log_of(dirfd, d->d_name, exe, exe_len, &c.mtime_ns))
                continue;
            memcpy(c.name, d->d_name, len + 1);
            int seen = 0; /* an entry listed twice (the directory changed under the scan) */
            for (unsigned i = 0; i < nkept && !seen; i++)
                seen = !strcmp(kept[i].name, c.name);
            if (seen)
                continue;
            if (nkept < keep) {
                kept[nkept++] = c;
                continue;
            }
            /* full: the oldest of the kept and c, one goes */
            unsigned oldest = 0;
            for (unsigned i = 1; i < nkept; i++)
                if (newer(&kept[oldest], &kept[i]))
                    oldest = i;
            if (newer(&c, &kept[oldest])) {
                drop(dirfd, kept[oldest].name);
                kept[oldest] = c;
            } else {
                drop(dirfd, c.name);
            }
        }
    }
    guard_sys_close(dirfd);
    errno = saved;
}
