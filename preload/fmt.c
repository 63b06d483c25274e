/*
 * fmt.c — the shim's printf: async-signal-safe formatting into a fixed
 * buffer (no malloc, no locale, no lock), and lines to stderr written with
 * the shim's own system call.  Findings are often reported from a SIGSEGV
 * handler, and start-up warnings come before anything else is ready.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>

#include "guard_internal.h"


struct out {
    char *buf;
    size_t cap, len;
};

static void put_char(struct out *o, char c)
{
    if (o->len + 1 < o->cap)
        o->buf[o->len++] = c;
}

static void put_str(struct out *o, const char *s)
{
    if (!s)
        s = "(null)";
    while (*s)
        put_char(o, *s++);
}

static void put_unsigned(struct out *o, unsigned long long v, unsigned base, int min_digits)
{
    char tmp[32];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v && n < (int)sizeof tmp);
    while (n < min_digits && n < (int)sizeof tmp)
        tmp[n++] = '0';
    while (n > 0)
        put_char(o, tmp[--n]);
}

size_t guard_fmt_va(char *buf, size_t cap, const char *fmt, va_list ap)
{
    struct out o = {buf, cap, 0};
    if (cap == 0)
        return 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put_char(&o, *p);
            continue;
        }
        p++;
        int is_long = 0, is_size = 0;
        while (*p == 'l') {
            is_long++;
            p++;
        }
        if (*p == 'z') {
            is_size = 1;
            p++;
        }
        switch (*p) {
        case 's':
            put_str(&o, va_arg(ap, const char *));
            break;
        case 'c':
            put_char(&o, (char)va_arg(ap, int));
            break;
        case 'd': {
            long long v = is_long ? va_arg(ap, long) : va_arg(ap, int);
            if (v < 0) {
                put_char(&o, '-');
                put_unsigned(&o, (unsigned long long)(-(v + 1)) + 1, 10, 1);
            } else {
                put_unsigned(&o, (unsigned long long)v, 10, 1);
            }
            break;
        }
        case 'u':
            put_unsigned(&o, is_size ? va_arg(ap, size_t)
                             : is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10, 1);
            break;
        case 'x':
            put_unsigned(&o, is_size ? va_arg(ap, size_t)
                             : is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16, 1);
            break;
        case 'p':
            put_str(&o, "0x");
            put_unsigned(&o, (uintptr_t)va_arg(ap, void *), 16, 1);
            break;
        case '%':
            put_char(&o, '%');
            break;
        case '\0':
            p--;
            break;
        default:
            put_char(&o, '%');
            put_char(&o, *p);
        }
    }
    o.buf[o.len] = '\0';
    return o.len;
}

size_t guard_fmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = guard_fmt_va(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

/* All of s to fd, through EINTR and short writes; errno untouched. */
void guard_fmt_write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        long n = guard_sys_write(fd, s, len);
        if (n == -EINTR)
            continue;
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

static void fmt_line_to(int fd, const char *fmt, va_list ap)
{
    char line[1024];
    guard_fmt_write_all(fd, line, guard_fmt_va(line, sizeof line, fmt, ap));
}

void guard_fmt_stderr(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_line_to(2, fmt, ap);
    va_end(ap);
}

void guard_fmt_fd(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_line_to(fd, fmt, ap);
    va_end(ap);
}

