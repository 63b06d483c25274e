/*
 * proctree_names.c — how the process tree names things: spawn kinds, wait
 * calls, how a process ended, wait statuses, a process's command line.
 */
#define _GNU_SOURCE
#include "proctree.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

const char *pt_spawn_kind_name(unsigned kind)
{
    static const char *const names[] = {NULL, "fork", "vfork", "posix_spawn", "posix_spawnp",
                                        "system", "popen", "clone"};
    return kind < sizeof names / sizeof names[0] ? names[kind] : NULL;
}

const char *pt_reap_call_name(unsigned call)
{
    static const char *const names[] = {NULL, "wait", "waitpid", "wait3", "wait4", "waitid",
                                        "pclose", "system", "unseen"};
    return call < sizeof names / sizeof names[0] ? names[call] : NULL;
}

const char *pt_end_name(enum pt_end end)
{
    switch (end) {
    case PT_END_EXIT:
    case PT_END_EXIT_UNSEEN:
        return "exit";
    case PT_END_EXEC:
        return "exec";
    case PT_END_KILLED:
        return "killed";
    case PT_END_KILLED_MAYBE:
        return "killed?";
    case PT_END_LOG_CUT:
        return "log cut";
    case PT_END_UNKNOWN:
    default:
        return "unknown";
    }
}

const char *pt_wait_status_text(int status, char *buf, size_t cap)
{
    if (WIFEXITED(status)) {
        snprintf(buf, cap, "exited %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char *abbrev = sig > 0 && sig < 65 ? sigabbrev_np(sig) : NULL;
        snprintf(buf, cap, "killed by signal %d%s%s%s%s", sig, abbrev ? " (SIG" : "",
                 abbrev ? abbrev : "", abbrev ? ")" : "", WCOREDUMP(status) ? ", core dumped" : "");
    } else if (WIFSTOPPED(status)) {
        snprintf(buf, cap, "stopped by signal %d", WSTOPSIG(status));
    } else {
        snprintf(buf, cap, "wait status 0x%x", (unsigned)status);
    }
    return buf;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

const char *pt_node_name(const struct pt_node *n)
{
    if (n->exe && n->exe[0])
        return base_name(n->exe);
    if (n->argc && n->argv[0][0])
        return base_name(n->argv[0]);
    if (n->spawn && n->spawn->program && n->spawn->program[0])
        return base_name(n->spawn->program);
    return "?";
}

char *pt_finish_with_args(const struct pt_node *n, FILE *f, char **buf, size_t *len, size_t keep,
                          size_t max)
{
    for (size_t i = 1; i < n->argc; i++) {
        fputc(' ', f);
        fputs(n->argv[i], f);
    }
    if (fclose(f) != 0 || !*buf) {
        free(*buf);
        return xstrdup(pt_node_name(n));
    }
    if (*len > max && max > 3) {
        /* cut on a character boundary: never in the middle of UTF-8 */
        size_t cut = max - 3 > keep ? max - 3 : keep;
        while (cut > keep && ((unsigned char)(*buf)[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(*buf + cut, "...", 4);
    }
    return *buf;
}

char *pt_node_cmdline(const struct pt_node *n, size_t max)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return xstrdup(pt_node_name(n));
    fputs(pt_node_name(n), f);
    return pt_finish_with_args(n, f, &buf, &len, 0, max);
}

