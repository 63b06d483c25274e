/*
 * fork/exec.c — the exec family.  Before the process image is replaced: its
 * unreaped children are reported (the new image cannot know about them),
 * an EXEC event closes the log, and LD_PRELOAD/GUARD_OPTIONS are put back
 * into an environment that dropped them, so the new program is watched too
 * (follow_exec=0 turns that off).  If the exec fails, an EXEC_FAILED event
 * says so and the program goes on.
 *
 * glibc implements execl*, execvp and friends without going through the
 * PLT, so each entry point is hooked on its own; the variadic ones collect
 * their arguments and call the vector form.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fork_internal.h"
#include "hook.h"

extern char **environ;

static const char *self_path(void)
{
    GUARD_LARGE static char path[PATH_MAX];
    if (!path[0]) {
        Dl_info info;
        if (dladdr((void *)self_path, &info) && info.dli_fname)
            guard_fmt(path, sizeof path, "%s", info.dli_fname);
    }
    return path;
}

/* The rebuilt environment lives in a per-thread buffer reused by the next
 * call: exec and posix_spawn are done with it when they return, and a
 * program that spawns a million children must not grow our memory. */
static __thread char *env_buf;
static __thread size_t env_cap;

static void *env_space(size_t need)
{
    if (need > env_cap) {
        size_t cap = (need + 65535) & ~(size_t)65535;
        void *m = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        if (env_buf)
            munmap(env_buf, env_cap);
        env_buf = m;
        env_cap = cap;
    }
    return env_buf;
}

/* String helpers for the exec path, here rather than libc's: a forked
 * child runs this code just before its exec, and each libc string function
 * it called was a lazy binding of our PLT slot (the dynamic linker's symbol
 * lookup, on pages the child must fault in) and one or two more pages of
 * libc's code, in every child, because the parent never called them. */

/* strnlen */
GUARD_FORK_PATH static size_t bounded_length(const char *text, size_t max)
{
    size_t n = 0;
    while (n < max && text[n])
        n++;
    return n;
}

GUARD_FORK_PATH static int starts_with(const char *text, const char *prefix)
{
    while (*prefix)
        if (*text++ != *prefix++)
            return 0;
    return 1;
}

/* strstr(text, word) != NULL, for a short word (our own path) */
GUARD_FORK_PATH static int contains(const char *text, const char *word)
{
    for (; *text; text++)
        if (starts_with(text, word))
            return 1;
    return !*word;
}

/* envp with the shim kept in it, or NULL when envp needs no change. */
GUARD_FORK_PATH char *const *guard_fork_env_with_shim(char *const envp[])
{
    if (!guard_opt.follow_exec || !envp)
        return NULL;
    const char *self = self_path();
    const char *preload = NULL;
    int has_options = 0;
    size_t n = 0;
    for (; envp[n]; n++) {
        if (starts_with(envp[n], "LD_PRELOAD="))
            preload = envp[n] + 11;
        else if (starts_with(envp[n], "GUARD_OPTIONS="))
            has_options = 1;
    }
    int need_preload = !preload || !contains(preload, self);
    int need_options = !has_options && guard_options_text[0];
    if (!self[0] || (!need_preload && !need_options))
        return NULL;
    size_t preload_len = 11 + (preload ? bounded_length(preload, SIZE_MAX) + 1 : 0) +
                         bounded_length(self, SIZE_MAX) + 1;
    size_t options_len = 14 + bounded_length(guard_options_text, SIZE_MAX) + 1;
    size_t table = (n + 3) * sizeof(char *);
    char **out = env_space(table + preload_len + options_len);
    if (!out)
        return NULL;
    char *strings = (char *)out + table;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!(need_preload && starts_with(envp[i], "LD_PRELOAD=")))
            out[k++] = envp[i];
    if (need_preload) {
        guard_fmt(strings, preload_len, "LD_PRELOAD=%s%s%s", preload ? preload : "",
                  preload && *preload ? ":" : "", self);
        out[k++] = strings;
        strings += preload_len;
    }
    if (need_options) {
        guard_fmt(strings, options_len, "GUARD_OPTIONS=%s", guard_options_text);
        out[k++] = strings;
    }
    out[k] = NULL;
    return out;
}

/* Does this environment load the shim into the new program? */
GUARD_FORK_PATH static int env_carries_shim(char *const *env)
{
    const char *self = self_path();
    for (size_t i = 0; env && env[i]; i++)
        if (starts_with(env[i], "LD_PRELOAD="))
            return self[0] && contains(env[i] + 11, self);
    return 0;
}

/* A process that has recorded nothing does not create its log only to say
 * that it exec'd: a forked child tells its parent instead (fork/board.c),
 * and a program exec'd under the shim writes its own log if it has anything
 * to say.  If the exec fails, the EXEC event is written then, with the
 * failure: the payload is kept for that in the board slot, or here when the
 * new program was to tell. */
static __thread char skipped_payload[1024];
static __thread size_t skipped_len;
static __thread int skipped_on_board;

/* The real exec calls are resolved by the parent before it forks (the
 * fork hook): a child that looked them up itself would run the dynamic
 * linker's symbol lookup on pages it has to fault in and copy, before
 * every exec.  Likewise our own path (dladdr). */
void guard_fork_exec_prepare(void)
{
    static _Atomic int prepared;
    if (atomic_load_explicit(&prepared, memory_order_acquire))
        return;
    (void)GUARD_REAL(execve);
    (void)GUARD_REAL(execvpe);
    (void)GUARD_REAL(fexecve);
    (void)GUARD_REAL(execveat);
    (void)self_path();
    atomic_store_explicit(&prepared, 1, memory_order_release);
}

/* ---- reading the exec's arguments ----------------------------------------
 * They are the caller's pointers, which the kernel may reject with EFAULT:
 * the shim reads them only with copies that cannot fault (sys.h's peek),
 * and when one cannot be read it records nothing and passes the call
 * through for the kernel to reject.  Where the kernel refuses the copy
 * itself (a seccomp profile without process_vm_readv) the pointers are
 * read directly, as the program's own exec would have them read. */

/* The string at src, at most cap - 1 bytes of it, into dst (terminated);
 * its length, or -1 when it cannot be read up to its end or to cap - 1. */
GUARD_FORK_PATH static long peek_string(char *dst, size_t cap, const char *src)
{
    size_t have = 0;
    while (have + 1 < cap) {
        uintptr_t at = (uintptr_t)src + have;
        size_t want = 4096 - (at & 4095);
        if (want > cap - 1 - have)
            want = cap - 1 - have;
        long got = guard_sys_peek(guard_pid, dst + have, (const void *)at, want);
        if (got == -EPERM || got == -ENOSYS) { /* no copies here: read it directly */
            size_t n = bounded_length(src, cap - 1);
            memcpy(dst, src, n);
            dst[n] = '\0';
            return (long)n;
        }
        if (got <= 0)
            return -1;
        for (size_t i = have; i < have + (size_t)got; i++)
            if (dst[i] == '\0')
                return (long)i;
        have += (size_t)got;
    }
    dst[have] = '\0';
    return (long)have;
}

/* Can every entry of a NULL-terminated pointer array be read (the array,
 * and the first byte of each string)?  Strings are then read by prefix
 * compares, which stop at their end. */
GUARD_FORK_PATH static int vector_readable(char *const *vec)
{
    if (!vec)
        return 1;
    for (size_t at = 0;; at += 32) {
        char *part[32];
        long got = guard_sys_peek(guard_pid, part, vec + at, sizeof part);
        if (got == -EPERM || got == -ENOSYS)
            return 1;
        size_t n = got > 0 ? (size_t)got / sizeof part[0] : 0;
        struct iovec local[32], remote[32];
        char first[32];
        size_t k = 0;
        int ended = 0;
        for (; k < n; k++) {
            if (!part[k]) {
                ended = 1;
                break;
            }
            local[k] = (struct iovec){first + k, 1};
            remote[k] = (struct iovec){part[k], 1};
        }
        if (!ended && n < 32)
            return 0; /* the array runs into memory that cannot be read */
        if (k && guard_sys_call6(SYS_process_vm_readv, guard_pid, (long)local, (long)k, (long)remote,
                                 (long)k, 0) != (long)k)
            return 0;
        if (ended)
            return 1;
    }
}

/* The EXEC payload: path NUL argv[0] NUL ... (bounded); 0 when the exec's
 * arguments cannot all be read. */
GUARD_FORK_PATH static size_t exec_payload(char *payload, size_t cap, const char *path,
                                           char *const argv[], char *const envp[])
{
    long plen = path ? peek_string(payload, 256, path) : 0;
    if (plen < 0 || !vector_readable(argv) || !vector_readable(envp))
        return 0;
    if (!path)
        payload[0] = '\0';
    size_t len = (size_t)plen + 1;
    for (int i = 0; argv && argv[i] && i < 64 && len + 1 < cap; i++) {
        long a = peek_string(payload + len, cap - len < 256 ? cap - len : 256, argv[i]);
        if (a < 0)
            return 0;
        len += (size_t)a + 1;
    }
    return len;
}

/* Returns the environment to exec with. */
GUARD_FORK_PATH static char *const *before_exec(const char *path, char *const argv[], char *const envp[])
{
    if (guard_fork_in_vfork_child) {
        /* On its parent's memory: what it execs goes into the slot its
         * parent logs, and the environment keeps the shim (the new buffer
         * is the parent's to reuse once the exec has copied it). */
        struct guard_vfork_exec *e = guard_fork_vfork_exec_slot();
        e->len = (uint32_t)exec_payload(e->payload, sizeof e->payload, path, argv, envp);
        if (e->len == 0)
            return envp;
        e->failed = 0;
        e->tid = guard_sys_gettid();
        e->time_ns = guard_fork_child_now_ns();
        char *const *env = guard_fork_env_with_shim(envp);
        return env ? env : envp;
    }
    struct guard_hook h;
    if (!guard_hook_begin(&h))
        return envp;
    char payload[sizeof skipped_payload];
    size_t len = exec_payload(payload, sizeof payload, path, argv, envp);
    if (len == 0) {
        guard_hook_end(&h);
        return envp; /* the kernel rejects it: nothing is recorded */
    }
    guard_ns_before_spawn_or_exec("exec");
    guard_children_at_exit(1);
    char *const *env = guard_fork_env_with_shim(envp);
    if (skipped_len)
        skipped_len = 0;
    skipped_on_board = 0;
    if (!guard_log_created() && !guard_opt.log_always) {
        int told = guard_fork_board_post_exec(payload, len);
        if (told > 0) {
            skipped_on_board = 1;
        } else if (told == 0 && env_carries_shim(env ? env : envp)) {
            memcpy(skipped_payload, payload, len);
            skipped_len = len;
        }
    }
    if (!skipped_on_board && !skipped_len)
        guard_log_event(GUARD_EV_EXEC, guard_fork_walk_capture(), 0, 0, 0, 0, payload, len);
    guard_hook_end(&h);
    return env ? env : envp;
}

/* The exec returned (it failed): errno is its error. */
static void exec_failed(void)
{
    if (guard_fork_in_vfork_child) {
        guard_fork_vfork_exec_slot()->failed = 1;
        return;
    }
    struct guard_hook h;
    if (guard_hook_begin(&h)) {
        int err = h.saved_errno;
        char payload[sizeof skipped_payload];
        size_t len = 0;
        if (skipped_on_board) {
            len = guard_fork_board_exec_failed(payload, sizeof payload);
            skipped_on_board = 0;
        } else if (skipped_len) {
            memcpy(payload, skipped_payload, skipped_len);
            len = skipped_len;
            skipped_len = 0;
        }
        if (len)
            guard_log_event(GUARD_EV_EXEC, guard_fork_walk_capture(), 0, 0, 0, 0, payload, len);
        guard_log_event(GUARD_EV_EXEC_FAILED, 0, (uint64_t)err, 0, 0, 0, NULL, 0);
        guard_hook_end(&h);
    }
}

GUARD_FORK_PATH static int vector_exec(const char *path, char *const argv[], char *const envp[], int search)
{
    char *const *env = before_exec(path, argv, envp);
    int rc = search ? GUARD_REAL(execvpe)(path, argv, env) : GUARD_REAL(execve)(path, argv, env);
    exec_failed();
    return rc;
}

GUARD_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    return vector_exec(path, argv, envp, 0);
}

GUARD_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    return vector_exec(file, argv, envp, 1);
}

GUARD_EXPORT int execv(const char *path, char *const argv[])
{
    return vector_exec(path, argv, environ, 0);
}

GUARD_EXPORT int execvp(const char *file, char *const argv[])
{
    return vector_exec(file, argv, environ, 1);
}

GUARD_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    char *const *env = before_exec("(fexecve)", argv, envp);
    int rc = GUARD_REAL(fexecve)(fd, argv, env);
    exec_failed();
    return rc;
}

GUARD_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                          int flags)
{
    char *const *env = before_exec(path, argv, envp);
    int rc = GUARD_REAL(execveat)(dirfd, path, argv, env, flags);
    exec_failed();
    return rc;
}

/* execl, execlp, execle: gather the list into a vector.  Small lists live
 * on the stack (threads may have small stacks), long ones in our arena. */
static char **collect_args(const char *first, va_list *ap, char **small, size_t small_cap)
{
    va_list count;
    va_copy(count, *ap);
    size_t n = 1;
    while (va_arg(count, char *) != NULL)
        n++;
    va_end(count);
    char **argv = n + 1 <= small_cap ? small : guard_alloc((n + 1) * sizeof(char *));
    if (!argv)
        return NULL;
    argv[0] = (char *)first;
    for (size_t i = 1; i <= n; i++)
        argv[i] = va_arg(*ap, char *); /* the last one read is the NULL */
    return argv;
}

/* The list forms, in one macro: collect the arguments (execle also takes
 * the environment after the NULL), then call the vector form. */
#define EXEC_LIST(name, first_param, call_vector, take_env)          \
    GUARD_EXPORT int name(const char *first_param, const char *arg, ...) \
    {                                                                \
        char *small[64];                                             \
        va_list ap;                                                  \
        va_start(ap, arg);                                           \
        char **argv = collect_args(arg, &ap, small, 64);             \
        char *const *envp = take_env ? va_arg(ap, char *const *) : environ; \
        va_end(ap);                                                  \
        (void)envp;                                                  \
        if (!argv) {                                                 \
            errno = ENOMEM;                                          \
            return -1;                                               \
        }                                                            \
        return call_vector;                                          \
    }

EXEC_LIST(execl, path, vector_exec(path, argv, environ, 0), 0)
EXEC_LIST(execlp, file, vector_exec(file, argv, environ, 1), 0)
EXEC_LIST(execle, path, vector_exec(path, argv, envp, 0), 1)
