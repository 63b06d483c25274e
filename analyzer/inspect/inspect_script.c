/*
 * inspect_script.c — what a #! script runs: LD_PRELOAD, and the choice
 * between the shim and the supervisor, apply to its interpreter, which
 * `inspect` describes in its place.
 */
#define _GNU_SOURCE
#include "inspect.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "util.h"

char *inspect_path_lookup(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || !*name || strchr(name, '/'))
        return strchr(name, '/') ? xstrdup(name) : NULL;
    char *dirs = xstrdup(path), *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char *cand = xasprintf("%s/%s", *d ? d : ".", name);
        if (access(cand, X_OK) == 0) {
            free(dirs);
            return cand;
        }
        free(cand);
    }
    free(dirs);
    return NULL;
}

bool inspect_is_script(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    char m[2] = {0, 0};
    bool yes = fd >= 0 && pread(fd, m, 2, 0) == 2 && m[0] == '#' && m[1] == '!';
    if (fd >= 0)
        close(fd);
    return yes;
}

char *inspect_script_runs(int fd, char **interp_out, char **arg_out)
{
    char line[256];
    ssize_t got = pread(fd, line, sizeof line - 1, 0);
    line[got > 0 ? got : 0] = '\0';
    line[strcspn(line, "\n")] = '\0';
    char *p = got > 2 ? line + 2 : line + (got > 0 ? got : 0);
    p += strspn(p, " \t");
    char *interp = p;
    p += strcspn(p, " \t");
    if (*p)
        *p++ = '\0';
    p += strspn(p, " \t");
    char *arg = *p ? p : NULL;
    *interp_out = xstrdup(interp);
    *arg_out = arg ? xstrdup(arg) : NULL;
    const char *base = strrchr(interp, '/') ? strrchr(interp, '/') + 1 : interp;
    if (strcmp(base, "env") == 0 && arg) {
        char *a = arg;
        if (strncmp(a, "-S", 2) == 0)
            a += 2 + strspn(a + 2, " \t");
        a[strcspn(a, " \t")] = '\0';
        return inspect_path_lookup(a);
    }
    return *interp ? xstrdup(interp) : NULL;
}
