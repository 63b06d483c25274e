/*
 * maps.c — /proc/self/maps, line by line, with the shim's own system
 * calls: no stdio and no allocation, so it serves signal handlers (a time
 * call on an unknown stack, a report) and forked children alike.
 */
#define _GNU_SOURCE
#include <string.h>

#include "guard_internal.h"

static uintptr_t parse_hex(const char **p)
{
    uintptr_t v = 0;
    for (; (**p >= '0' && **p <= '9') || ((**p | 32) >= 'a' && (**p | 32) <= 'f'); (*p)++)
        v = v * 16 + (uintptr_t)(**p <= '9' ? **p - '0' : (**p | 32) - 'a' + 10);
    return v;
}

/* "lo-hi perms offset dev inode   path" */
static void parse_line(const char *line, struct guard_maps_line *l)
{
    const char *p = line;
    l->lo = parse_hex(&p);
    if (*p == '-')
        p++;
    l->hi = parse_hex(&p);
    if (*p == ' ')
        p++;
    l->perms = p;
    l->path = strchr(p, '/');
}

int guard_maps_each(int (*fn)(const struct guard_maps_line *l, void *arg), void *arg)
{
    int fd = guard_sys_open("/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    char buf[4096];
    size_t have = 0;
    int ret = 0;
    for (;;) {
        long n = guard_sys_read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        char *line = buf, *nl;
        while (!ret && (nl = strchr(line, '\n'))) {
            *nl = '\0';
            struct guard_maps_line l;
            parse_line(line, &l);
            ret = fn(&l, arg);
            line = nl + 1;
        }
        if (ret)
            break;
        have = strlen(line); /* the partial line, read on with the next block */
        if (have == sizeof buf - 1)
            have = 0; /* a line longer than the buffer (a path near PATH_MAX): skipped */
        memmove(buf, line, have);
    }
    guard_sys_close(fd);
    return ret;
}
