/*
 * log_file.c -- the log file in log_dir: its name, its creation and the
 * PROCESS record that follows the file header.
 *
 * The name is guard.<exe>.<pid>.log, or guard.<exe>.<pid>.<random>.log when
 * that one is taken; the file is created 0600 with O_EXCL and O_NOFOLLOW,
 * so a planted file or link can neither stop the log nor redirect it.
 * Async-signal-safe (the log may be created from a signal handler): raw
 * system calls, static buffers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "guard_internal.h"
#include "hook.h"
#include "guard_names.h"

static ssize_t read_small_file(const char *path, char *buf, size_t cap)
{
    int fd = guard_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got < cap) {
        long n = guard_sys_read(fd, buf + got, cap - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    guard_sys_close(fd);
    return (ssize_t)got;
}

/* A number nobody can guess, for a file name taken already. */
static uint32_t name_salt(unsigned attempt)
{
    uint32_t r = 0;
    if (guard_sys_call6(SYS_getrandom, (long)&r, sizeof r, GRND_NONBLOCK, 0, 0, 0) != sizeof r)
        r = (uint32_t)(guard_now_ns() * 2654435761u) ^ (uint32_t)attempt;
    return r;
}

/* guard.<exe>.<pid>.log, or when that name is taken (a pid reused in the
 * same log_dir over a long nightly run, or names planted by someone who can
 * write there) guard.<exe>.<pid>.<random>.log.  The mode is 0600 whatever
 * the umask: a log its owner cannot read is lost. */
int guard_log_file_create(const char *exe, char *path, size_t cap)
{
    char name[96];
    guard_exe_short_name(exe, name, sizeof name);
    /* The path is made absolute now: the log is opened again by it, and the
     * program may change its directory meanwhile. */
    GUARD_LARGE static char dir[PATH_MAX];
    if (guard_opt.log_dir[0] == '/') {
        guard_fmt(dir, sizeof dir, "%s", guard_opt.log_dir);
    } else {
        long n = GUARD_SYS3(SYS_getcwd, dir, sizeof dir, 0);
        if (n <= 0)
            dir[0] = '\0';
        size_t len = strlen(dir);
        guard_fmt(dir + len, sizeof dir - len, "/%s", guard_opt.log_dir);
    }
    if (guard_opt.keep_logs)
        guard_log_keep_prune(dir, exe, guard_opt.keep_logs);
    int fd = -EINVAL;
    for (int attempt = 0; attempt < 100; attempt++) {
        if (attempt == 0)
            guard_fmt(path, cap, "%s/guard.%s.%d.log", dir, name,
                      (int)guard_pid);
        else
            guard_fmt(path, cap, "%s/guard.%s.%d.%x.log", dir, name,
                      (int)guard_pid, name_salt((unsigned)attempt));
        fd = guard_sys_open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            (void)GUARD_SYS3(SYS_fchmod, fd, 0600, 0);
            return fd;
        }
        if (fd != -EEXIST)
            break;
    }
    guard_fmt_stderr("libguard: cannot create log %s: %s; continuing without a log\n",
                 path, strerror(-fd));
    path[0] = '\0';
    return -1;
}

void guard_log_file_process_record(const char *exe, size_t exe_len)
{
    GUARD_LARGE static char args[8192];
    ssize_t args_len = read_small_file("/proc/self/cmdline", args, sizeof args);
    if (args_len < 0)
        args_len = 0;
    uint32_t argc = 0;
    for (ssize_t i = 0; i < args_len; i++)
        argc += args[i] == '\0';
    if (args_len > 0 && args[args_len - 1] != '\0') { /* cut off: end the last one */
        args[args_len - 1] = '\0';
        argc++;
    }
    size_t opt_len = strlen(guard_options_text);
    if (opt_len > 1024)
        opt_len = 1024;
    uint32_t size = (uint32_t)(sizeof(struct guard_rec_process) + exe_len + (size_t)args_len + opt_len);
    struct guard_rec_process *p = guard_log_reserve(GUARD_REC_PROCESS, size);
    if (!p)
        return;
    guard_rec_process_fill(p, argc, (uint32_t)guard_pid, exe, exe_len, args, (size_t)args_len,
                           guard_options_text, opt_len);
    guard_log_commit(p, GUARD_REC_PROCESS, size);
}

